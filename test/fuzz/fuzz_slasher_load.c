/*
 * fuzz_slasher_load.c - a registry blob and a slasher blob, loaded together as a
 * host restores them (the slasher onto its registry).
 *
 * Input and oracle: test/fuzz/fuzz_engine.h. What the loaded slasher is made to do is
 * exercise() below.
 */
#include "fuzz_engine.h"

static const fz_engine SLASHER; /* defined below */

static void check(opg_slasher *s, const char *after)
{
    int rc = opg_slasher_check(s);
    FZ_ASSERT(rc == OPG_OK, "slasher check after %s: %s (%s)", after, opg_errname(rc), opg_slasher_last_error(s));
}

/* Records two commits of the bonded nodes (all signed, then the first missing). */
static void exercise(opg_registry *r, void *handle, const opg_allocator *alloc)
{
    opg_slasher *s = handle;
    check(s, "load");
    size_t nn = opg_registry_node_count(r);
    opg_commit_sig v[64];
    size_t nv = 0;
    for (size_t i = 0; i < nn && nv < 64; i++) {
        opg_node_info ni;
        FZ_ASSERT(opg_registry_node_at(&ni, r, i) == OPG_OK, "node_at");
        if (ni.status == OPG_NODE_BONDED) {
            v[nv].consensus_key = ni.consensus_key;
            v[nv].power = ni.power;
            v[nv].signed_block = 1;
            nv++;
        }
    }
    const opg_height h = UINT64_C(1) << 40;
    const opg_time now = (opg_time)1 << 40;
    for (int round = 0; round < 2; round++) {
        if (round == 1 && nv)
            v[0].signed_block = 0;
        uint8_t r0[32], s0[32], r1[32], s1[32];
        fz_engine_hash_pair(&SLASHER, r0, s0, r, s);
        int rc = opg_slasher_record_commit(s, v, nv, h + (opg_height)round, now + round);
        if (getenv("FUZZ_TRACE"))
            fprintf(stderr, "record_commit -> %s\n", opg_errname(rc));
        if (rc != OPG_OK) {
            FZ_ASSERT(rc < 0 && rc >= OPG_ERROR_LAST_ && rc != OPG_ENOMEM && rc != OPG_EINVARIANT,
                      "record_commit refused with %s (%s)", opg_errname(rc), opg_slasher_last_error(s));
            fz_engine_hash_pair(&SLASHER, r1, s1, r, s);
            FZ_ASSERT(memcmp(r0, r1, 32) == 0 && memcmp(s0, s1, 32) == 0,
                      "record_commit refused with %s but changed a state", opg_errname(rc));
        }
        check(s, "record_commit");
        rc = opg_registry_check(r);
        FZ_ASSERT(rc == OPG_OK, "registry check after record_commit: %s", opg_errname(rc));
    }
    fz_engine_save_load_save(&SLASHER, r, s, alloc);
}

static int load(void **out, opg_registry *r, const uint8_t *b, size_t n, const opg_allocator *a)
{
    opg_slasher *h = NULL;
    int rc = opg_slasher_load(&h, r, b, n, a);
    *out = h;
    return rc;
}

static int create(void **out, opg_registry *r, const opg_allocator *a)
{
    opg_slasher *h = NULL;
    int rc = opg_slasher_new(&h, r, NULL, a);
    *out = h;
    return rc;
}

static void release(void *h) { opg_slasher_free(h); }

static int hash(uint8_t out[32], const void *h) { return opg_slasher_state_hash(out, h); }

static int records(void *h, opg_record_sink fn, void *ctx) { return opg_slasher_records(h, fn, ctx); }

static int load_records(void **out, opg_registry *r, record_store *st, const uint8_t root[32])
{
    opg_slasher *h = NULL;
    int rc = opg_slasher_load_records(&h, r, store_next, st, root, NULL);
    *out = h;
    return rc;
}

static const fz_engine SLASHER = {"slasher", NULL,     load,     create, release, hash, fz_save_slasher,
                                  exercise,  records, load_records};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_engine_load_input(&SLASHER, data, size);
}
