/*
 * node_damage.c - damages one record of the node's LMDB store (examples/node), for
 * test/crash_test.sh: the store stays a sound LMDB database, the damage is in the
 * records' bytes, so it is libopg's loader and the node's root checks that must find it.
 *
 *   node_damage DIR flip TAG KIND      flip the last byte of the first record of a kind
 *   node_damage DIR format TAG KIND    set its format byte to 0xee
 *   node_damage DIR shorten TAG KIND   drop its last byte
 *   node_damage DIR delete TAG KIND    delete it
 *   node_damage DIR stray              add a record under a tag no handle owns
 *   node_damage DIR meta KEY           flip the first byte of a meta value
 *
 * TAG and KIND are the record key's first two bytes (opg_core.h, the handles' headers).
 */
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, int rc)
{
    fprintf(stderr, "node_damage: %s: %s\n", what, rc ? mdb_strerror(rc) : "not found");
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: node_damage DIR flip|format|shorten|delete TAG KIND | stray | meta KEY\n");
        return 2;
    }
    const char *mode = argv[2];
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi records, meta;
    int rc = mdb_env_create(&env);
    if (!rc)
        rc = mdb_env_set_maxdbs(env, 2);
    if (!rc)
        rc = mdb_env_set_mapsize(env, sizeof(size_t) >= 8 ? (size_t)1 << 36 : (size_t)1 << 30);
    if (!rc)
        rc = mdb_env_open(env, argv[1], 0, 0644);
    if (!rc)
        rc = mdb_txn_begin(env, NULL, 0, &txn);
    if (!rc)
        rc = mdb_dbi_open(txn, "records", 0, &records);
    if (!rc)
        rc = mdb_dbi_open(txn, "meta", 0, &meta);
    if (rc)
        return fail("open", rc);
    static unsigned char buf[1 << 16];
    if (strcmp(mode, "stray") == 0) {
        unsigned char k[2] = {0x7f, 0}, v[1] = {1};
        MDB_val key = {2, k}, val = {1, v};
        if ((rc = mdb_put(txn, records, &key, &val, 0)) != 0)
            return fail("put", rc);
    } else if (strcmp(mode, "meta") == 0 && argc == 4) {
        MDB_val key = {strlen(argv[3]), argv[3]}, val;
        if ((rc = mdb_get(txn, meta, &key, &val)) != 0)
            return fail(argv[3], rc);
        if (val.mv_size == 0 || val.mv_size > sizeof buf)
            return fail("meta value size", 0);
        memcpy(buf, val.mv_data, val.mv_size);
        buf[0] ^= 0x5a;
        val.mv_data = buf;
        if ((rc = mdb_put(txn, meta, &key, &val, 0)) != 0)
            return fail("put", rc);
    } else if (argc == 5) {
        unsigned char prefix[2] = {(unsigned char)atoi(argv[3]), (unsigned char)atoi(argv[4])};
        MDB_cursor *cur;
        MDB_val key = {2, prefix}, val;
        if ((rc = mdb_cursor_open(txn, records, &cur)) != 0)
            return fail("cursor", rc);
        rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
        if (rc || key.mv_size < 2 || memcmp(key.mv_data, prefix, 2) != 0)
            return fail("no record of that kind", rc);
        if (val.mv_size == 0 || val.mv_size > sizeof buf)
            return fail("value size", 0);
        static unsigned char kbuf[512];
        memcpy(kbuf, key.mv_data, key.mv_size);
        key.mv_data = kbuf;
        memcpy(buf, val.mv_data, val.mv_size);
        val.mv_data = buf;
        mdb_cursor_close(cur);
        if (strcmp(mode, "flip") == 0)
            buf[val.mv_size - 1] ^= 1;
        else if (strcmp(mode, "format") == 0)
            buf[0] = 0xee;
        else if (strcmp(mode, "shorten") == 0)
            val.mv_size--;
        else if (strcmp(mode, "delete") != 0)
            return fail("unknown mode", 0);
        rc = strcmp(mode, "delete") == 0 ? mdb_del(txn, records, &key, NULL)
                                         : mdb_put(txn, records, &key, &val, 0);
        if (rc)
            return fail(mode, rc);
    } else {
        fprintf(stderr, "node_damage: bad arguments\n");
        return 2;
    }
    if ((rc = mdb_txn_commit(txn)) != 0)
        return fail("commit", rc);
    mdb_env_close(env);
    return 0;
}
