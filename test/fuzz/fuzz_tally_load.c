/*
 * fuzz_tally_load.c - a registry blob and a tally blob, loaded together as a
 * host restores them (the tally onto its registry).
 *
 * Input: a 4-byte big-endian length L, then L bytes of registry state, then the
 * tally state (the rest). L beyond the input takes all of it.
 *
 * Oracle:
 *   - a refused load is OPG_ECORRUPT or OPG_EVERSION and leaks nothing; a refused
 *     tally load leaves the registry as it was (same hash, no engine attached:
 *     a new tally can still be created on it);
 *   - what loads saves back to exactly its input bytes, and each state hash is
 *     BLAKE2b-256 (personalised) of those bytes;
 *   - the loaded tally keeps working: every open proposal's first deposit is
 *     topped up, a plain and a weighted vote are cast on each one in its voting
 *     period, end_block far in the future closes everything (a refusal changes
 *     neither hash, a close leaves no proposal open), and save -> load -> save of
 *     the pair is then the identity;
 *   - failing each allocation of the tally load in turn gives OPG_ENOMEM, leaks
 *     nothing and leaves the registry as it was.
 */
#include "fuzz_util.h"

static void check_refusal(int rc, const char *what)
{
    FZ_ASSERT(rc == OPG_ECORRUPT || rc == OPG_EVERSION, "%s load refused with %s", what, opg_errname(rc));
}

static void hash_pair(uint8_t hr[32], uint8_t hs[32], const opg_registry *r, const opg_tally *s)
{
    FZ_ASSERT(opg_registry_state_hash(hr, r) == OPG_OK, "registry state_hash");
    FZ_ASSERT(opg_tally_state_hash(hs, s) == OPG_OK, "tally state_hash");
}

/* Saves both handles, loads them into a fresh pair, saves again: same bytes. */
static void save_load_save(opg_registry *r, opg_tally *s, const opg_allocator *alloc)
{
    size_t rl, sl, rl2, sl2;
    uint8_t *rb = fz_save(&rl, fz_save_registry, r, "registry");
    uint8_t *sb = fz_save(&sl, fz_save_tally, s, "tally");
    opg_registry *r2 = NULL;
    opg_tally *s2 = NULL;
    int rc = opg_registry_load(&r2, rb, rl, alloc);
    FZ_ASSERT(rc == OPG_OK, "registry reload: %s", opg_errname(rc));
    rc = opg_tally_load(&s2, r2, sb, sl, alloc);
    FZ_ASSERT(rc == OPG_OK, "tally reload: %s", opg_errname(rc));
    uint8_t *rb2 = fz_save(&rl2, fz_save_registry, r2, "registry");
    uint8_t *sb2 = fz_save(&sl2, fz_save_tally, s2, "tally");
    FZ_ASSERT(rl == rl2 && memcmp(rb, rb2, rl) == 0, "registry save -> load -> save differs");
    FZ_ASSERT(sl == sl2 && memcmp(sb, sb2, sl) == 0, "tally save -> load -> save differs");
    free(rb), free(sb), free(rb2), free(sb2);
    opg_tally_free(s2);
    opg_registry_free(r2);
}

static void refused(int rc, const char *what, const uint8_t r0[32], const uint8_t s0[32],
                    const opg_registry *r, const opg_tally *t)
{
    if (getenv("FUZZ_TRACE"))
        fprintf(stderr, "%s -> %s\n", what, opg_errname(rc));
    if (rc == OPG_OK)
        return;
    FZ_ASSERT(rc < 0 && rc >= OPG_ERROR_LAST_ && rc != OPG_ENOMEM && rc != OPG_EINVARIANT,
              "%s refused with %s (%s)", what, opg_errname(rc), opg_tally_last_error(t));
    uint8_t r1[32], s1[32];
    hash_pair(r1, s1, r, t);
    FZ_ASSERT(memcmp(r0, r1, 32) == 0 && memcmp(s0, s1, 32) == 0, "%s refused with %s but changed a state",
              what, opg_errname(rc));
}

/* Deposits and votes on every open proposal, then closes them all. */
static void exercise(opg_registry *r, opg_tally *t, const opg_allocator *alloc)
{
    const opg_time now = (opg_time)1 << 40;
    uint8_t r0[32], s0[32];
    opg_id voter;
    memset(&voter, 0, sizeof voter);
    opg_node_info ni;
    if (opg_registry_node_at(&ni, r, 0) == OPG_OK)
        voter = ni.operator_id;
    size_t np = opg_tally_proposal_count(t);
    for (size_t i = 0; i < np && i < 64; i++) {
        opg_proposal_info pi;
        FZ_ASSERT(opg_tally_proposal_at(&pi, t, i) == OPG_OK, "proposal_at %zu of %zu", i, np);
        opg_tally_deposit_entry de[1];
        size_t nd = 0;
        int rc = opg_tally_deposits(de, 1, &nd, t, pi.id);
        FZ_ASSERT(rc == OPG_OK || rc == OPG_EBUFS, "deposits: %s", opg_errname(rc));
        if (nd) {
            opg_u256 one = fz_u256_u64(1);
            hash_pair(r0, s0, r, t);
            refused(opg_tally_deposit(NULL, t, pi.id, &de[0].depositor, &one, pi.submit_time), "deposit", r0, s0, r, t);
        }
        hash_pair(r0, s0, r, t);
        refused(opg_tally_vote_option(t, pi.id, &voter, OPG_VOTE_YES), "vote", r0, s0, r, t);
        opg_weighted_vote wv[2] = {{OPG_VOTE_NO, fz_dec_frac(1, 3)}, {OPG_VOTE_ABSTAIN, fz_dec_frac(2, 3)}};
        opg_dec one;
        opg_dec_from_u64(&one, 1);
        FZ_ASSERT(opg_dec_sub(&wv[1].weight, &one, &wv[0].weight) == OPG_OK, "1 - 1/3");
        opg_id other = voter;
        other.bytes[31] ^= 0x5a;
        hash_pair(r0, s0, r, t);
        refused(opg_tally_vote(t, pi.id, &other, wv, 2), "weighted vote", r0, s0, r, t);
    }
    for (int k = 0; k < 2; k++) {
        hash_pair(r0, s0, r, t);
        int rc = opg_tally_end_block(t, 1, now + k);
        refused(rc, "end_block", r0, s0, r, t);
    }
    int rc = opg_registry_check(r);
    FZ_ASSERT(rc == OPG_OK, "registry check after end_block: %s", opg_errname(rc));
    save_load_save(r, t, alloc);
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
    opg_tally *s = NULL;
    rc = opg_tally_load(&s, r, sb, sl, &alloc);
    if (rc != OPG_OK) {
        check_refusal(rc, "tally");
        FZ_ASSERT(s == NULL, "a refused tally load set *out");
        FZ_ASSERT(fa.live_bytes == reg_bytes, "a refused tally load leaked %lld bytes",
                  fa.live_bytes - reg_bytes);
        FZ_ASSERT(opg_registry_state_hash(h1, r) == OPG_OK, "registry state_hash");
        FZ_ASSERT(memcmp(h0, h1, 32) == 0, "a refused tally load changed the registry");
        opg_tally *s2 = NULL;
        rc = opg_tally_new(&s2, r, NULL, &alloc);
        FZ_ASSERT(rc != OPG_EEXISTS, "a refused tally load left an engine attached");
        opg_tally_free(s2);
        opg_registry_free(r);
        FZ_ASSERT(fa.live_bytes == 0, "leaked %lld bytes", fa.live_bytes);
        return 0;
    }
    unsigned long load_allocs = fa.calls - calls0;
    saved = fz_save(&len, fz_save_tally, s, "tally");
    FZ_ASSERT(len == sl && memcmp(saved, sb, sl) == 0, "loaded tally saves to other bytes");
    free(saved);
    FZ_ASSERT(opg_tally_state_hash(h1, s) == OPG_OK, "tally state_hash");
    fz_blake2b_personal(want, sb, sl, "opg.tally");
    FZ_ASSERT(memcmp(want, h1, 32) == 0, "tally hash is not BLAKE2b of its bytes");
    FZ_ASSERT(opg_registry_state_hash(h1, r) == OPG_OK && memcmp(h0, h1, 32) == 0,
              "loading the tally changed the registry");

    /* the tally load again, failing each of its allocations in turn */
    for (unsigned long n = 1; n <= load_allocs; n++) {
        opg_tally_free(s);
        s = NULL;
        long long before = fa.live_bytes;
        fa.fail_at = fa.calls + n;
        rc = opg_tally_load(&s, r, sb, sl, &alloc);
        fa.fail_at = 0;
        FZ_ASSERT(rc == OPG_ENOMEM && s == NULL, "tally load with allocation %lu failing: %s", n,
                  opg_errname(rc));
        FZ_ASSERT(fa.live_bytes == before, "tally load with allocation %lu failing leaked", n);
        FZ_ASSERT(opg_registry_state_hash(h1, r) == OPG_OK && memcmp(h0, h1, 32) == 0,
                  "a failed tally load changed the registry");
        rc = opg_tally_load(&s, r, sb, sl, &alloc);
        FZ_ASSERT(rc == OPG_OK, "tally reload after a failure: %s", opg_errname(rc));
    }

    exercise(r, s, &alloc);
    opg_tally_free(s);
    opg_registry_free(r);
    FZ_ASSERT(fa.live_bytes == 0 && fa.live_blocks == 0, "leaked %lld bytes", fa.live_bytes);
    return 0;
}
