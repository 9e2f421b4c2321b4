/*
 * fuzz_engine.h - the loader harness shared by the targets of the engines created on
 * a registry (slasher, tally): a registry blob and the engine's blob, loaded as a
 * host restores them. The target names the engine's calls in an fz_engine table and
 * says how to exercise a loaded engine; the oracle is the same for all of them.
 *
 * Input: a 4-byte big-endian length L, then L bytes of registry state, then the
 * engine's state (the rest). L beyond the input takes all of it.
 *
 * Oracle:
 *   - a refused load is OPG_ECORRUPT or OPG_EVERSION and leaks nothing; a refused
 *     engine load leaves the registry as it was (same hash, no engine attached: a
 *     new engine can still be created on it);
 *   - what loads saves back to exactly its input bytes (an older format version of
 *     the engine, which a load upgrades, saves in the current version: those bytes
 *     are then its canonical form); the registry's state hash is the root of its
 *     records, the engine's BLAKE2b-256 (personalised) of its canonical bytes;
 *   - failing each allocation of the engine load in turn gives OPG_ENOMEM, leaks
 *     nothing and leaves the registry as it was;
 *   - the target's exercise keeps the loaded pair working, then save -> load -> save
 *     of the pair is the identity.
 */
#ifndef OPG_FUZZ_ENGINE_H
#define OPG_FUZZ_ENGINE_H

#include "fuzz_util.h"

typedef struct fz_engine {
    const char *name;     /* "slasher" */
    const char *personal; /* its hash personalisation ("opg.tally"), or NULL when
                             its state hash is the root of its records */
    int (*load)(void **out, opg_registry *r, const uint8_t *buf, size_t len, const opg_allocator *a);
    int (*create)(void **out, opg_registry *r, const opg_allocator *a);
    void (*release)(void *h);
    int (*hash)(uint8_t out[32], const void *h);
    fz_save_fn save;
    /* works the loaded engine; ends with fz_engine_save_load_save */
    void (*exercise)(opg_registry *r, void *h, const opg_allocator *a);
    /* with records (personal NULL): the records out, and an engine rebuilt from them
     * against a root */
    int (*records)(void *h, opg_record_sink fn, void *ctx);
    int (*load_records)(void **out, opg_registry *r, record_store *st, const uint8_t root[32]);
} fz_engine;

static void fz_engine_refusal(int rc, const char *what)
{
    FZ_ASSERT(rc == OPG_ECORRUPT || rc == OPG_EVERSION, "%s load refused with %s", what, opg_errname(rc));
}

static void fz_engine_hash_pair(const fz_engine *e, uint8_t hr[32], uint8_t hs[32],
                                const opg_registry *r, const void *h)
{
    FZ_ASSERT(opg_registry_state_hash(hr, r) == OPG_OK, "registry state_hash");
    FZ_ASSERT(e->hash(hs, h) == OPG_OK, "%s state_hash", e->name);
}

/* Saves both handles, loads them into a fresh pair, saves again: same bytes. */
static void fz_engine_save_load_save(const fz_engine *e, opg_registry *r, void *h,
                                     const opg_allocator *alloc)
{
    size_t rl, sl, rl2, sl2;
    uint8_t *rb = fz_save(&rl, fz_save_registry, r, "registry");
    uint8_t *sb = fz_save(&sl, e->save, h, e->name);
    opg_registry *r2 = NULL;
    void *h2 = NULL;
    int rc = opg_registry_load(&r2, rb, rl, alloc);
    FZ_ASSERT(rc == OPG_OK, "registry reload: %s", opg_errname(rc));
    rc = e->load(&h2, r2, sb, sl, alloc);
    FZ_ASSERT(rc == OPG_OK, "%s reload: %s", e->name, opg_errname(rc));
    uint8_t *rb2 = fz_save(&rl2, fz_save_registry, r2, "registry");
    uint8_t *sb2 = fz_save(&sl2, e->save, h2, e->name);
    FZ_ASSERT(rl == rl2 && memcmp(rb, rb2, rl) == 0, "registry save -> load -> save differs");
    FZ_ASSERT(sl == sl2 && memcmp(sb, sb2, sl) == 0, "%s save -> load -> save differs", e->name);
    free(rb), free(sb), free(rb2), free(sb2);
    e->release(h2);
    opg_registry_free(r2);
}

static int fz_engine_load_input(const fz_engine *e, const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    size_t rl = (size_t)data[0] << 24 | (size_t)data[1] << 16 | (size_t)data[2] << 8 | data[3];
    if (rl > size - 4)
        rl = size - 4;
    const uint8_t *rb = data + 4, *sb = data + 4 + rl;
    size_t sl = size - 4 - rl;

    failalloc fa;
    failalloc_init(&fa, 0);
    opg_allocator alloc = failalloc_allocator(&fa);
    opg_registry *r = NULL;
    int rc = opg_registry_load(&r, rb, rl, &alloc);
    if (rc != OPG_OK) {
        fz_engine_refusal(rc, "registry");
        FZ_ASSERT(fa.live_bytes == 0, "a refused registry load leaked %lld bytes", fa.live_bytes);
        return 0;
    }
    size_t len;
    uint8_t *saved = fz_save(&len, fz_save_registry, r, "registry");
    FZ_ASSERT(len == rl && memcmp(saved, rb, rl) == 0, "loaded registry saves to other bytes");
    free(saved);
    uint8_t h0[32], h1[32], want[32];
    FZ_ASSERT(opg_registry_state_hash(h0, r) == OPG_OK, "registry state_hash");
    FZ_ASSERT(fz_records_roots_ok(r, NULL), "registry hash is not the root of its records");

    long long reg_bytes = fa.live_bytes;
    unsigned long calls0 = fa.calls;
    void *h = NULL;
    rc = e->load(&h, r, sb, sl, &alloc);
    if (rc != OPG_OK) {
        fz_engine_refusal(rc, e->name);
        FZ_ASSERT(h == NULL, "a refused %s load set *out", e->name);
        FZ_ASSERT(fa.live_bytes == reg_bytes, "a refused %s load leaked %lld bytes", e->name,
                  fa.live_bytes - reg_bytes);
        FZ_ASSERT(opg_registry_state_hash(h1, r) == OPG_OK, "registry state_hash");
        FZ_ASSERT(memcmp(h0, h1, 32) == 0, "a refused %s load changed the registry", e->name);
        void *h2 = NULL;
        rc = e->create(&h2, r, &alloc);
        FZ_ASSERT(rc != OPG_EEXISTS, "a refused %s load left an engine attached", e->name);
        e->release(h2);
        opg_registry_free(r);
        FZ_ASSERT(fa.live_bytes == 0, "leaked %lld bytes", fa.live_bytes);
        return 0;
    }
    unsigned long load_allocs = fa.calls - calls0;
    saved = fz_save(&len, e->save, h, e->name);
    /* the header: "OPGS", kind, 0, version (big-endian u16) */
    int upgraded = sl >= 8 && len >= 8 && memcmp(saved, sb, 6) == 0 &&
                   (saved[6] << 8 | saved[7]) > (sb[6] << 8 | sb[7]);
    FZ_ASSERT(upgraded || (len == sl && memcmp(saved, sb, sl) == 0), "loaded %s saves to other bytes",
              e->name);
    uint8_t *canon = saved;
    size_t canon_len = len;
    if (!upgraded) {
        canon = (uint8_t *)sb;
        canon_len = sl;
    }
    FZ_ASSERT(e->hash(h1, h) == OPG_OK, "%s state_hash", e->name);
    if (e->personal) {
        fz_blake2b_personal(want, canon, canon_len, e->personal);
        FZ_ASSERT(memcmp(want, h1, 32) == 0, "%s hash is not BLAKE2b of its bytes", e->name);
    } else { /* the hash is the records' root: they rebuild the engine against it */
        record_store st;
        memset(&st, 0, sizeof st);
        FZ_ASSERT(e->records(h, store_sink, &st) == OPG_OK, "%s records", e->name);
        void *from = NULL;
        rc = e->load_records(&from, r, &st, h1);
        FZ_ASSERT(rc == OPG_OK, "%s records do not rebuild it against its state hash: %s", e->name,
                  opg_errname(rc));
        uint8_t *again = fz_save(&len, e->save, from, e->name);
        FZ_ASSERT(len == canon_len && memcmp(again, canon, len) == 0,
                  "%s rebuilt from records saves other bytes", e->name);
        free(again);
        e->release(from);
        store_free(&st);
    }
    free(saved);
    FZ_ASSERT(opg_registry_state_hash(h1, r) == OPG_OK && memcmp(h0, h1, 32) == 0,
              "loading the %s changed the registry", e->name);

    /* the engine load again, failing each of its allocations in turn */
    for (unsigned long n = 1; n <= load_allocs; n++) {
        e->release(h);
        h = NULL;
        long long before = fa.live_bytes;
        fa.fail_at = fa.calls + n;
        rc = e->load(&h, r, sb, sl, &alloc);
        fa.fail_at = 0;
        FZ_ASSERT(rc == OPG_ENOMEM && h == NULL, "%s load with allocation %lu failing: %s", e->name,
                  n, opg_errname(rc));
        FZ_ASSERT(fa.live_bytes == before, "%s load with allocation %lu failing leaked", e->name, n);
        FZ_ASSERT(opg_registry_state_hash(h1, r) == OPG_OK && memcmp(h0, h1, 32) == 0,
                  "a failed %s load changed the registry", e->name);
        rc = e->load(&h, r, sb, sl, &alloc);
        FZ_ASSERT(rc == OPG_OK, "%s reload after a failure: %s", e->name, opg_errname(rc));
    }

    e->exercise(r, h, &alloc);
    e->release(h);
    opg_registry_free(r);
    FZ_ASSERT(fa.live_bytes == 0 && fa.live_blocks == 0, "leaked %lld bytes", fa.live_bytes);
    return 0;
}

#endif /* OPG_FUZZ_ENGINE_H */
