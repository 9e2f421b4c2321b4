/*
 * fuzz_tally_load.c - a registry blob and a tally blob, loaded together as a
 * host restores them (the tally onto its registry).
 *
 * Input and oracle: test/fuzz/fuzz_engine.h. What the loaded tally is made to do is
 * exercise() below.
 */
#include "fuzz_engine.h"

static const fz_engine TALLY; /* defined below */

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
    fz_engine_hash_pair(&TALLY, r1, s1, r, t);
    FZ_ASSERT(memcmp(r0, r1, 32) == 0 && memcmp(s0, s1, 32) == 0, "%s refused with %s but changed a state",
              what, opg_errname(rc));
}

/* Deposits and votes on every open proposal, then closes them all. */
static void exercise(opg_registry *r, void *handle, const opg_allocator *alloc)
{
    opg_tally *t = handle;
    const opg_time now = (opg_time)1 << 40;
    uint8_t r0[32], s0[32];
    opg_id voter;
    memset(&voter, 0, sizeof voter);
    opg_node_info ni;
    if (opg_registry_node_at(&ni, r, 0) == OPG_OK)
        voter = ni.operator_id;
    size_t np = opg_tally_proposal_count(t);
    opg_time at = now; /* the undelegation below: at a voting end, inside its locks */
    for (size_t i = 0; i < np && i < 64; i++) {
        opg_proposal_info pi;
        FZ_ASSERT(opg_tally_proposal_at(&pi, t, i) == OPG_OK, "proposal_at %zu of %zu", i, np);
        opg_tally_deposit_entry de[1];
        size_t nd = 0;
        int rc = opg_tally_deposits(de, 1, &nd, t, pi.id);
        FZ_ASSERT(rc == OPG_OK || rc == OPG_EBUFS, "deposits: %s", opg_errname(rc));
        if (nd) {
            opg_u256 one = fz_u256_u64(1);
            fz_engine_hash_pair(&TALLY, r0, s0, r, t);
            refused(opg_tally_deposit(NULL, t, pi.id, &de[0].depositor, &one, pi.submit_time), "deposit", r0, s0, r, t);
        }
        fz_engine_hash_pair(&TALLY, r0, s0, r, t);
        refused(opg_tally_vote_option(t, pi.id, &voter, OPG_VOTE_YES), "vote", r0, s0, r, t);
        opg_weighted_vote wv[2] = {{OPG_VOTE_NO, fz_dec_frac(1, 3)}, {OPG_VOTE_ABSTAIN, fz_dec_frac(2, 3)}};
        opg_dec one;
        opg_dec_from_u64(&one, 1);
        FZ_ASSERT(opg_dec_sub(&wv[1].weight, &one, &wv[0].weight) == OPG_OK, "1 - 1/3");
        opg_id other = voter;
        other.bytes[31] ^= 0x5a;
        fz_engine_hash_pair(&TALLY, r0, s0, r, t);
        refused(opg_tally_vote(t, pi.id, &other, wv, 2), "weighted vote", r0, s0, r, t);
        /* conviction voting: on (or already), a vote with conviction 3 by the operator */
        fz_engine_hash_pair(&TALLY, r0, s0, r, t);
        refused(opg_tally_param_set(t, "gov.conviction_voting", "true"), "conviction on", r0, s0, r, t);
        fz_engine_hash_pair(&TALLY, r0, s0, r, t);
        refused(opg_tally_vote_conviction(t, pi.id, &voter, wv, 2, 3, now), "conviction vote", r0, s0,
                r, t);
        if (pi.status == OPG_PROPOSAL_VOTING_PERIOD)
            at = pi.voting_end;
    }
    /* the operator's self-delegation: refused exactly while its lock holds */
    opg_time until = 0;
    int locked = opg_tally_lock_get(&until, t, &voter) == OPG_OK && at < until;
    opg_u256 one = fz_u256_u64(1);
    fz_engine_hash_pair(&TALLY, r0, s0, r, t);
    int urc = opg_registry_undelegate(NULL, NULL, r, &voter, &voter, &one, 1, at);
    if (getenv("FUZZ_TRACE"))
        fprintf(stderr, "undelegate at %lld (locked %d) -> %s\n", (long long)at, locked, opg_errname(urc));
    FZ_ASSERT(!locked || urc != OPG_OK, "undelegate allowed under a lock");
    FZ_ASSERT(locked || urc != OPG_ELOCKED, "OPG_ELOCKED without a lock in force");
    if (urc != OPG_OK)
        refused(urc, "undelegate", r0, s0, r, t);
    for (int k = 0; k < 2; k++) {
        fz_engine_hash_pair(&TALLY, r0, s0, r, t);
        int rc = opg_tally_end_block(t, 1, now + k);
        refused(rc, "end_block", r0, s0, r, t);
    }
    int rc = opg_registry_check(r);
    FZ_ASSERT(rc == OPG_OK, "registry check after end_block: %s", opg_errname(rc));
    fz_engine_save_load_save(&TALLY, r, t, alloc);
}

static int load(void **out, opg_registry *r, const uint8_t *b, size_t n, const opg_allocator *a)
{
    opg_tally *h = NULL;
    int rc = opg_tally_load(&h, r, b, n, a);
    *out = h;
    return rc;
}

static int create(void **out, opg_registry *r, const opg_allocator *a)
{
    opg_tally *h = NULL;
    int rc = opg_tally_new(&h, r, NULL, a);
    *out = h;
    return rc;
}

static void release(void *h) { opg_tally_free(h); }

static int hash(uint8_t out[32], const void *h) { return opg_tally_state_hash(out, h); }

static const fz_engine TALLY = {"tally", "opg.tally", load, create, release, hash,
                                  fz_save_tally, exercise, NULL, NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_engine_load_input(&TALLY, data, size);
}
