/*
 * fuzz_slasher_load.c - a registry blob and a slasher blob, loaded together as a
 * host restores them (the slasher onto its registry).
 *
 * Input: a 4-byte big-endian length L, then L bytes of registry state, then the
 * slasher state (the rest). L beyond the input takes all of it.
 *
 * Oracle:
 *   - a refused load is OPG_ECORRUPT or OPG_EVERSION and leaks nothing; a refused
 *     slasher load leaves the registry as it was (same hash, no engine attached:
 *     a new slasher can still be created on it);
 *   - what loads saves back to exactly its input bytes, and each state hash is
 *     BLAKE2b-256 (personalised) of those bytes;
 *   - the loaded slasher passes opg_slasher_check and keeps working: a commit in
 *     which every bonded node signs and one in which the first misses are recorded
 *     far in the future (a refusal changes neither hash), the check still passes,
 *     and save -> load -> save of the pair is then the identity;
 *   - failing each allocation of the slasher load in turn gives OPG_ENOMEM, leaks
 *     nothing and leaves the registry as it was.
 */
#include "fuzz_util.h"

static void check_refusal(int rc, const char *what)
{
    FZ_ASSERT(rc == OPG_ECORRUPT || rc == OPG_EVERSION, "%s load refused with %s", what, opg_errname(rc));
}

static void hash_pair(uint8_t hr[32], uint8_t hs[32], const opg_registry *r, const opg_slasher *s)
{
    FZ_ASSERT(opg_registry_state_hash(hr, r) == OPG_OK, "registry state_hash");
    FZ_ASSERT(opg_slasher_state_hash(hs, s) == OPG_OK, "slasher state_hash");
}

static void check(opg_slasher *s, const char *after)
{
    int rc = opg_slasher_check(s);
    FZ_ASSERT(rc == OPG_OK, "slasher check after %s: %s (%s)", after, opg_errname(rc), opg_slasher_last_error(s));
}

/* Saves both handles, loads them into a fresh pair, saves again: same bytes. */
static void save_load_save(opg_registry *r, opg_slasher *s, const opg_allocator *alloc)
{
    size_t rl, sl, rl2, sl2;
    uint8_t *rb = fz_save(&rl, fz_save_registry, r, "registry");
    uint8_t *sb = fz_save(&sl, fz_save_slasher, s, "slasher");
    opg_registry *r2 = NULL;
    opg_slasher *s2 = NULL;
    int rc = opg_registry_load(&r2, rb, rl, alloc);
    FZ_ASSERT(rc == OPG_OK, "registry reload: %s", opg_errname(rc));
    rc = opg_slasher_load(&s2, r2, sb, sl, alloc);
    FZ_ASSERT(rc == OPG_OK, "slasher reload: %s", opg_errname(rc));
    uint8_t *rb2 = fz_save(&rl2, fz_save_registry, r2, "registry");
    uint8_t *sb2 = fz_save(&sl2, fz_save_slasher, s2, "slasher");
    FZ_ASSERT(rl == rl2 && memcmp(rb, rb2, rl) == 0, "registry save -> load -> save differs");
    FZ_ASSERT(sl == sl2 && memcmp(sb, sb2, sl) == 0, "slasher save -> load -> save differs");
    free(rb), free(sb), free(rb2), free(sb2);
    opg_slasher_free(s2);
    opg_registry_free(r2);
}

/* Records two commits of the bonded nodes (all signed, then the first missing). */
static void exercise(opg_registry *r, opg_slasher *s, const opg_allocator *alloc)
{
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
        hash_pair(r0, s0, r, s);
        int rc = opg_slasher_record_commit(s, v, nv, h + (opg_height)round, now + round);
        if (getenv("FUZZ_TRACE"))
            fprintf(stderr, "record_commit -> %s\n", opg_errname(rc));
        if (rc != OPG_OK) {
            FZ_ASSERT(rc < 0 && rc >= OPG_ERROR_LAST_ && rc != OPG_ENOMEM && rc != OPG_EINVARIANT,
                      "record_commit refused with %s (%s)", opg_errname(rc), opg_slasher_last_error(s));
            hash_pair(r1, s1, r, s);
            FZ_ASSERT(memcmp(r0, r1, 32) == 0 && memcmp(s0, s1, 32) == 0,
                      "record_commit refused with %s but changed a state", opg_errname(rc));
        }
        check(s, "record_commit");
        rc = opg_registry_check(r);
        FZ_ASSERT(rc == OPG_OK, "registry check after record_commit: %s", opg_errname(rc));
    }
    save_load_save(r, s, alloc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
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
        check_refusal(rc, "registry");
        FZ_ASSERT(fa.live_bytes == 0, "a refused registry load leaked %lld bytes", fa.live_bytes);
        return 0;
    }
    size_t len;
    uint8_t *saved = fz_save(&len, fz_save_registry, r, "registry");
    FZ_ASSERT(len == rl && memcmp(saved, rb, rl) == 0, "loaded registry saves to other bytes");
    free(saved);
    uint8_t h0[32], h1[32], want[32];
    FZ_ASSERT(opg_registry_state_hash(h0, r) == OPG_OK, "registry state_hash");
    fz_blake2b_personal(want, rb, rl, "opg.registry");
    FZ_ASSERT(memcmp(want, h0, 32) == 0, "registry hash is not BLAKE2b of its bytes");

    long long reg_bytes = fa.live_bytes;
    unsigned long calls0 = fa.calls;
    opg_slasher *s = NULL;
    rc = opg_slasher_load(&s, r, sb, sl, &alloc);
    if (rc != OPG_OK) {
        check_refusal(rc, "slasher");
        FZ_ASSERT(s == NULL, "a refused slasher load set *out");
        FZ_ASSERT(fa.live_bytes == reg_bytes, "a refused slasher load leaked %lld bytes",
                  fa.live_bytes - reg_bytes);
        FZ_ASSERT(opg_registry_state_hash(h1, r) == OPG_OK, "registry state_hash");
        FZ_ASSERT(memcmp(h0, h1, 32) == 0, "a refused slasher load changed the registry");
        opg_slasher *s2 = NULL;
        rc = opg_slasher_new(&s2, r, NULL, &alloc);
        FZ_ASSERT(rc != OPG_EEXISTS, "a refused slasher load left an engine attached");
        opg_slasher_free(s2);
        opg_registry_free(r);
        FZ_ASSERT(fa.live_bytes == 0, "leaked %lld bytes", fa.live_bytes);
        return 0;
    }
    unsigned long load_allocs = fa.calls - calls0;
    saved = fz_save(&len, fz_save_slasher, s, "slasher");
    FZ_ASSERT(len == sl && memcmp(saved, sb, sl) == 0, "loaded slasher saves to other bytes");
    free(saved);
    FZ_ASSERT(opg_slasher_state_hash(h1, s) == OPG_OK, "slasher state_hash");
    fz_blake2b_personal(want, sb, sl, "opg.slasher");
    FZ_ASSERT(memcmp(want, h1, 32) == 0, "slasher hash is not BLAKE2b of its bytes");
    FZ_ASSERT(opg_registry_state_hash(h1, r) == OPG_OK && memcmp(h0, h1, 32) == 0,
              "loading the slasher changed the registry");

    /* the slasher load again, failing each of its allocations in turn */
    for (unsigned long n = 1; n <= load_allocs; n++) {
        opg_slasher_free(s);
        s = NULL;
        long long before = fa.live_bytes;
        fa.fail_at = fa.calls + n;
        rc = opg_slasher_load(&s, r, sb, sl, &alloc);
        fa.fail_at = 0;
        FZ_ASSERT(rc == OPG_ENOMEM && s == NULL, "slasher load with allocation %lu failing: %s", n,
                  opg_errname(rc));
        FZ_ASSERT(fa.live_bytes == before, "slasher load with allocation %lu failing leaked", n);
        FZ_ASSERT(opg_registry_state_hash(h1, r) == OPG_OK && memcmp(h0, h1, 32) == 0,
                  "a failed slasher load changed the registry");
        rc = opg_slasher_load(&s, r, sb, sl, &alloc);
        FZ_ASSERT(rc == OPG_OK, "slasher reload after a failure: %s", opg_errname(rc));
    }

    exercise(r, s, &alloc);
    opg_slasher_free(s);
    opg_registry_free(r);
    FZ_ASSERT(fa.live_bytes == 0 && fa.live_blocks == 0, "leaked %lld bytes", fa.live_bytes);
    return 0;
}
