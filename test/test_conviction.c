/*
 * test_conviction.c - conviction voting in the tally (Extension, Polkadot's
 * conviction-voting pallet): the multipliers 0.1x and 1x..6x on known powers, the
 * unweighted quorum, inherited and held power at 0.1x, locks combining as the
 * maximum, undelegation refused while locked (OPG_ELOCKED) and allowed after, the
 * extension off giving Cosmos' tally, every refusal leaving the state hashes as they
 * were, allocation failures, and save -> load -> save with locks.
 *
 * Amounts: nodes have tokens in millions of base units (power_reduction 10^6). With
 * one node and no slash, a delegation's shares equal its tokens, so its voting power
 * is exactly its tokens (raw: tokens * 10^18). L = gov.vote_locking_period, default
 * 604800 s (7 days); voting period VP = 172800 s.
 */
#include "harness.h"
#include "tally_util.h"
#include "failalloc.h"

#define T0 1000000
#define VP 172800
#define EVP 86400
#define L 604800

static const char *GENESIS = "1000000000000000000000000000000";

/* ---------------------------------------------------------------- fixture */

static opg_registry *new_registry(void)
{
    opg_registry *r = NULL;
    opg_u256 g = u256_of(GENESIS);
    if (opg_registry_new(&r, NULL, &g, NULL) != OPG_OK)
        abort();
    return r;
}

static int add_node(opg_registry *r, unsigned n, const char *self)
{
    opg_node_create c;
    memset(&c, 0, sizeof c);
    c.operator_id = id_n(n);
    c.consensus_key = cons_key_n(5000 + n);
    c.roles = OPG_ROLE_ALL;
    c.commission_max_rate = dec_of("1");
    c.commission_max_change_rate = dec_of("0.01");
    c.min_self_delegation = u64v(1);
    c.self_delegation = u256_of(self);
    return opg_registry_node_create(r, &c, 1, T0);
}

static int delegate(opg_registry *r, unsigned dtor, unsigned node, const char *amount)
{
    opg_id d = id_n(dtor), n = id_n(node);
    opg_u256 a = u256_of(amount);
    return opg_registry_delegate(NULL, r, &d, &n, &a, 1, T0);
}

static int undelegate(opg_registry *r, unsigned dtor, unsigned node, const char *amount,
                      opg_height h, opg_time now)
{
    opg_id d = id_n(dtor), n = id_n(node);
    opg_u256 a = u256_of(amount);
    return opg_registry_undelegate(NULL, NULL, r, &d, &n, &a, h, now);
}

static int bond(opg_registry *r) { return opg_registry_end_block(r, 2, T0); }

static opg_tally *new_tally_a(opg_registry *r, int conviction, const opg_allocator *a)
{
    opg_tally_params p;
    opg_tally_params_init(&p);
    p.conviction_voting = conviction;
    opg_tally *t = NULL;
    if (opg_tally_new(&t, r, &p, a) != OPG_OK)
        abort();
    return t;
}

static opg_tally *new_tally(opg_registry *r, int conviction)
{
    return new_tally_a(r, conviction, NULL);
}

static int submit_text(uint64_t *id, opg_tally *t, unsigned who, const char *deposit,
                       int expedited, opg_time now)
{
    opg_proposal_submit s;
    memset(&s, 0, sizeof s);
    s.proposer = id_n(who);
    s.kind = OPG_PROPOSAL_TEXT;
    s.expedited = expedited;
    s.initial_deposit = u256_of(deposit);
    s.title = "a title";
    return opg_tally_submit(id, t, &s, now);
}

/* A plain one-option vote with conviction c. */
static int cvote(opg_tally *t, uint64_t id, unsigned who, opg_vote_option o, unsigned c)
{
    opg_id v = id_n(who);
    opg_weighted_vote w;
    w.option = o;
    opg_dec_from_u64(&w.weight, 1);
    return opg_tally_vote_conviction(t, id, &v, &w, 1, c, T0);
}

static void rhash_of(uint8_t out[32], const opg_registry *r)
{
    if (opg_registry_state_hash(out, r) != OPG_OK)
        abort();
}

static opg_time lock_of(const opg_tally *t, unsigned who)
{
    opg_id a = id_n(who);
    opg_time until = -1;
    if (opg_tally_lock_get(&until, t, &a) != OPG_OK)
        return -1;
    return until;
}

static const opg_tally_closed *only_closed(const opg_tally *t)
{
    size_t n;
    const opg_tally_closed *c = opg_tally_closed_list(t, &n);
    return n == 1 ? c : NULL;
}

/* Refusal `expr` with code `want`: both state hashes stay as they were. */
#define REFUSED(t, r, expr, want)                                                    \
    do {                                                                             \
        uint8_t a0_[32], a1_[32], b0_[32], b1_[32];                                  \
        hash_of(a0_, (t));                                                           \
        rhash_of(b0_, (r));                                                          \
        CHECK_RC((expr), (want));                                                    \
        hash_of(a1_, (t));                                                           \
        rhash_of(b1_, (r));                                                          \
        CHECK(memcmp(a0_, a1_, 32) == 0 && memcmp(b0_, b1_, 32) == 0);               \
    } while (0)

/* ------------------------------------------------------------ multipliers */

/*
 * Node 1 (self 1000e6, does not vote) and voter 100 with 12,345,678 base units
 * delegated: power 12345678 exactly. The voter votes yes with each conviction in
 * turn (a later vote replaces the earlier one); the preview's yes result is
 *   c=0: 12345678 * 0.1 = 1234567.8 (raw 12345678 * 10^17, no rounding needed)
 *   c=1..6: 12345678, 24691356, 37037034, 49382712, 61728390, 74074068
 * and the turnout (unweighted) is 12345678 each time. The lock is fixed at each vote
 * and only grows: voting_end T0 + VP plus 0 (c=0: none), L, 2L, 4L, 8L, 16L, 32L;
 * after the c=6 vote, a c=1 vote keeps T0 + VP + 32L.
 */
static void test_multipliers(void)
{
    opg_registry *r = new_registry();
    CHECK_OK(add_node(r, 1, "1000000000"));
    CHECK_OK(delegate(r, 100, 1, "12345678"));
    CHECK_OK(bond(r));
    opg_tally *t = new_tally(r, 1);
    uint64_t id;
    CHECK_OK(submit_text(&id, t, 200, "10000000", 0, T0));
    const char *want[7] = {"1234567.8", "12345678", "24691356", "37037034",
                           "49382712",  "61728390", "74074068"};
    const char *count[7] = {"1234567", "12345678", "24691356", "37037034",
                            "49382712", "61728390", "74074068"};
    const opg_time lock[7] = {-1, T0 + VP + L, T0 + VP + 2 * L, T0 + VP + 4 * L,
                              T0 + VP + 8 * L, T0 + VP + 16 * L, T0 + VP + 32 * L};
    for (unsigned c = 0; c <= 6; c++) {
        CHECK_OK(cvote(t, id, 100, OPG_VOTE_YES, c));
        unsigned got = 99;
        opg_id v = id_n(100);
        CHECK_OK(opg_tally_vote_conviction_get(&got, t, id, &v));
        CHECK(got == c);
        opg_tally_preview_result pv;
        CHECK_OK(opg_tally_preview(&pv, t, id));
        CHECK_DEC(pv.results[OPG_VOTE_YES - 1], want[c]);
        CHECK_DEC(pv.total_power, want[c]);
        CHECK_U256(pv.counts.yes, count[c]);
        CHECK_DEC(pv.turnout, "12345678");
        CHECK(lock_of(t, 100) == lock[c]);
    }
    CHECK(opg_tally_lock_count(t) == 1);
    CHECK_OK(cvote(t, id, 100, OPG_VOTE_YES, 1));
    CHECK(lock_of(t, 100) == T0 + VP + 32 * L); /* the maximum stays */
    /* quorum on the turnout: 12345678 / (1000e6 + 12345678) < 0.334, rejected */
    CHECK_OK(opg_tally_end_block(t, 10, T0 + VP));
    const opg_tally_closed *cl = only_closed(t);
    CHECK(cl && cl->outcome == OPG_TALLY_REJECTED);
    CHECK_U256(cl->counts.yes, "12345678");
    CHECK(lock_of(t, 100) == T0 + VP + 32 * L); /* the close does not release it */
    opg_tally_free(t);
    opg_registry_free(r);
}

/*
 * 0.1x rounds half to even, term by term. Held tokens (liquid_weight 10^-18) give a
 * power of exactly `balance` raw units (balance * 10^-18); held tokens are not
 * locked, so they count at 0.1x whatever the conviction:
 *   voter 15: 1.5 raw -> 2; voter 25: 2.5 -> 2; voter 35: 3.5 -> 4; voter 14: 1.4 -> 1
 * yes = 2 + 2 + 4 + 1 = 9 raw = 0.000000000000000009; turnout 15+25+35+14 = 89 raw.
 * Rounding the sum instead would give round(8.9) = 9 here but differs in general;
 * per term the result is the same in any order.
 */
static int balance_is_id(void *user, const opg_id *account, opg_u256 *balance)
{
    (void)user;
    opg_u256_from_u64(balance, account->bytes[31]);
    return OPG_OK;
}

static void test_tenth_rounding(void)
{
    opg_registry *r = new_registry();
    CHECK_OK(add_node(r, 1, "1000000000"));
    CHECK_OK(bond(r));
    opg_tally *t = new_tally(r, 1);
    CHECK_OK(opg_tally_param_set(t, "gov.liquid_weight", "0.000000000000000001"));
    opg_tally_set_balance_fn(t, balance_is_id, NULL);
    uint64_t id;
    CHECK_OK(submit_text(&id, t, 200, "10000000", 0, T0));
    const unsigned voters[4] = {15, 25, 35, 14};
    for (int i = 0; i < 4; i++)
        CHECK_OK(cvote(t, id, voters[i], OPG_VOTE_YES, (unsigned)(i * 2)));
    opg_tally_preview_result pv;
    CHECK_OK(opg_tally_preview(&pv, t, id));
    CHECK_DEC(pv.results[OPG_VOTE_YES - 1], "0.000000000000000009");
    CHECK_DEC(pv.turnout, "0.000000000000000089");
    opg_tally_free(t);
    opg_registry_free(r);
}

/*
 * Nodes 1 and 2 (self 100e6 each); delegator 100 -> node 1 50e6, delegator 101 ->
 * node 1 50e6. Bonded 300e6. Operator 1 votes yes, voter 100 votes no.
 *   off (Cosmos): yes = 100e6 (own) + 50e6 (inherited from 101) = 150e6, no = 50e6;
 *     turnout 200e6 / 300e6 >= 0.334; yes / 200e6 = 0.75 > 0.5: PASSED.
 *   on, operator conviction 0 (plain vote), voter 100 conviction 6:
 *     yes = 100e6 * 0.1 + 50e6 * 0.1 (inherited: 0.1x) = 15e6, no = 50e6 * 6 = 300e6;
 *     turnout still 200e6 (quorum met); yes / 315e6 < 0.5: REJECTED.
 *   on, operator conviction 3: yes = 300e6 + 5e6 = 305e6 (inheritance stays 0.1x),
 *     no = 300e6: 305 / 605 > 0.5: PASSED.
 */
static void close_case(opg_registry *r, int conv, int op_conv, const char *yes,
                       const char *no, opg_tally_outcome outcome)
{
    opg_tally *t = new_tally(r, conv);
    uint64_t id;
    CHECK_OK(submit_text(&id, t, 200, "10000000", 0, T0));
    opg_id op = id_n(1);
    if (op_conv < 0)
        CHECK_OK(opg_tally_vote_option(t, id, &op, OPG_VOTE_YES));
    else
        CHECK_OK(cvote(t, id, 1, OPG_VOTE_YES, (unsigned)op_conv));
    if (conv)
        CHECK_OK(cvote(t, id, 100, OPG_VOTE_NO, 6));
    else {
        opg_id v = id_n(100);
        CHECK_OK(opg_tally_vote_option(t, id, &v, OPG_VOTE_NO));
    }
    opg_tally_preview_result pv;
    CHECK_OK(opg_tally_preview(&pv, t, id));
    CHECK_DEC(pv.turnout, "200000000");
    CHECK_OK(opg_tally_end_block(t, 10, T0 + VP));
    const opg_tally_closed *c = only_closed(t);
    CHECK(c && c->outcome == outcome);
    CHECK_U256(c->counts.yes, yes);
    CHECK_U256(c->counts.no, no);
    CHECK_U256(c->counts.abstain, "0");
    CHECK_U256(c->counts.no_with_veto, "0");
    opg_tally_free(t);
}

static void test_close_weighted(void)
{
    opg_registry *r = new_registry();
    CHECK_OK(add_node(r, 1, "100000000"));
    CHECK_OK(add_node(r, 2, "100000000"));
    CHECK_OK(delegate(r, 100, 1, "50000000"));
    CHECK_OK(delegate(r, 101, 1, "50000000"));
    CHECK_OK(bond(r));
    close_case(r, 0, -1, "150000000", "50000000", OPG_TALLY_PASSED);
    close_case(r, 1, -1, "15000000", "300000000", OPG_TALLY_REJECTED);
    close_case(r, 1, 3, "305000000", "300000000", OPG_TALLY_PASSED);
    opg_registry_free(r);
}

/*
 * The quorum reads the unweighted turnout. Node 1 self 100e6, node 2 self 840e6,
 * voter 100 -> node 1 60e6: bonded 1000e6. Voter 100 votes yes with conviction 6:
 * weighted 360e6 (0.36 of bonded, above 0.334), but the turnout 60e6 is 0.06:
 * REJECTED, and the reported count is the weighted 360e6. Dropping the quorum to
 * 0.06 passes it (0.06 is not below 0.06).
 */
static void test_quorum_unweighted(void)
{
    opg_registry *r = new_registry();
    CHECK_OK(add_node(r, 1, "100000000"));
    CHECK_OK(add_node(r, 2, "840000000"));
    CHECK_OK(delegate(r, 100, 1, "60000000"));
    CHECK_OK(bond(r));
    opg_tally *t = new_tally(r, 1);
    uint64_t id;
    CHECK_OK(submit_text(&id, t, 200, "10000000", 0, T0));
    CHECK_OK(cvote(t, id, 100, OPG_VOTE_YES, 6));
    CHECK_OK(opg_tally_end_block(t, 10, T0 + VP));
    const opg_tally_closed *c = only_closed(t);
    CHECK(c && c->outcome == OPG_TALLY_REJECTED);
    CHECK_U256(c->counts.yes, "360000000");
    CHECK_OK(opg_tally_param_set(t, "gov.quorum", "0.06"));
    CHECK_OK(submit_text(&id, t, 200, "10000000", 0, T0 + VP));
    CHECK_OK(cvote(t, id, 100, OPG_VOTE_YES, 6));
    CHECK_OK(opg_tally_end_block(t, 11, T0 + 2 * VP));
    c = only_closed(t);
    CHECK(c && c->outcome == OPG_TALLY_PASSED);
    opg_tally_free(t);
    opg_registry_free(r);
}

/* ------------------------------------------------------------------ locks */

/*
 * Voter 100 (50e6 on node 1): conviction 1 on A (voting_end T0 + VP: lock
 * T0 + VP + L), conviction 3 on B (submitted at T0 + 100: T0 + 100 + VP + 4L, the
 * maximum), then conviction 6 on A (T0 + VP + 32L): one lock, the latest end, not a
 * sum (a sum of spans would be 37L past one end). Voter 101 conviction 2 on B:
 * T0 + 100 + VP + 2L. end_block drops each lock once now reaches its end.
 */
static void test_locks_combine_and_expire(void)
{
    opg_registry *r = new_registry();
    CHECK_OK(add_node(r, 1, "100000000"));
    CHECK_OK(delegate(r, 100, 1, "50000000"));
    CHECK_OK(delegate(r, 101, 1, "50000000"));
    CHECK_OK(bond(r));
    opg_tally *t = new_tally(r, 1);
    uint64_t a, b;
    CHECK_OK(submit_text(&a, t, 200, "10000000", 0, T0));
    CHECK_OK(submit_text(&b, t, 200, "10000000", 0, T0 + 100));
    CHECK_OK(cvote(t, a, 100, OPG_VOTE_YES, 1));
    CHECK(lock_of(t, 100) == T0 + VP + L);
    CHECK_OK(cvote(t, b, 100, OPG_VOTE_NO, 3));
    CHECK(lock_of(t, 100) == T0 + 100 + VP + 4 * L);
    CHECK_OK(cvote(t, a, 100, OPG_VOTE_YES, 6));
    CHECK(lock_of(t, 100) == T0 + VP + 32 * L);
    CHECK_OK(cvote(t, b, 101, OPG_VOTE_YES, 2));
    CHECK(lock_of(t, 101) == T0 + 100 + VP + 2 * L);
    CHECK_OK(cvote(t, b, 102, OPG_VOTE_YES, 0)); /* conviction 0: no lock */
    CHECK(lock_of(t, 102) == -1);
    CHECK(opg_tally_lock_count(t) == 2);
    /* a block just before 101's end keeps both; at its end 101's is dropped */
    CHECK_OK(opg_tally_end_block(t, 10, T0 + 100 + VP + 2 * L - 1));
    CHECK(opg_tally_lock_count(t) == 2);
    CHECK_OK(opg_tally_end_block(t, 11, T0 + 100 + VP + 2 * L));
    CHECK(opg_tally_lock_count(t) == 1 && lock_of(t, 101) == -1);
    CHECK(lock_of(t, 100) == T0 + VP + 32 * L);
    CHECK_OK(opg_tally_end_block(t, 12, T0 + VP + 32 * L));
    CHECK(opg_tally_lock_count(t) == 0 && lock_of(t, 100) == -1);
    opg_tally_free(t);
    opg_registry_free(r);
}

/*
 * Voter 100 (50e6 on node 1) first undelegates 1e6 at T0 + 1 (an unbonding entry at
 * height 3), then votes conviction 2: locked until T0 + VP + 2L. Undelegation is
 * refused (OPG_ELOCKED, registry and tally hashes unchanged) at T0 + 10 and one
 * second before the end; redelegation (tokens stay staked) and cancelling the
 * unbonding are allowed; at the end itself undelegation is allowed again, before any
 * end_block drops the lock. A second tally (a loaded copy) guards the same registry
 * until it is freed.
 */
static void test_undelegate_locked(void)
{
    opg_registry *r = new_registry();
    CHECK_OK(add_node(r, 1, "100000000"));
    CHECK_OK(add_node(r, 2, "100000000"));
    CHECK_OK(delegate(r, 100, 1, "50000000"));
    CHECK_OK(bond(r));
    CHECK_OK(undelegate(r, 100, 1, "1000000", 3, T0 + 1));
    opg_tally *t = new_tally(r, 1);
    uint64_t id;
    CHECK_OK(submit_text(&id, t, 200, "10000000", 0, T0));
    CHECK_OK(cvote(t, id, 100, OPG_VOTE_YES, 2));
    const opg_time end = T0 + VP + 2 * L;
    CHECK(lock_of(t, 100) == end);
    REFUSED(t, r, undelegate(r, 100, 1, "1000000", 4, T0 + 10), OPG_ELOCKED);
    CHECK(strstr(opg_registry_last_error(r), "conviction") != NULL);
    REFUSED(t, r, undelegate(r, 100, 1, "1000000", 4, end - 1), OPG_ELOCKED);
    /* others are free */
    CHECK_OK(delegate(r, 101, 1, "5000000"));
    CHECK_OK(undelegate(r, 101, 1, "1000000", 4, T0 + 10));
    /* redelegation and cancel_unbonding keep the tokens staked */
    opg_id d = id_n(100), n1 = id_n(1), n2 = id_n(2);
    opg_u256 amt = u256_of("2000000");
    CHECK_OK(opg_registry_redelegate(NULL, r, &d, &n1, &n2, &amt, 4, T0 + 20));
    amt = u256_of("1000000");
    CHECK_OK(opg_registry_cancel_unbonding(r, &d, &n1, 3, &amt, 4, T0 + 20));
    /* the lock holds on every node */
    REFUSED(t, r, undelegate(r, 100, 2, "1000000", 4, T0 + 30), OPG_ELOCKED);
    /* a copy of the tally guards too, until freed */
    size_t len = 0;
    CHECK_RC(opg_tally_save(NULL, 0, &len, t), OPG_EBUFS);
    uint8_t *buf = malloc(len);
    CHECK_OK(opg_tally_save(buf, len, &len, t));
    opg_tally *u = NULL;
    CHECK_OK(opg_tally_load(&u, r, buf, len, NULL));
    free(buf);
    opg_tally_free(t);
    REFUSED(u, r, undelegate(r, 100, 1, "1000000", 4, T0 + 40), OPG_ELOCKED);
    /* at the end itself: allowed, the lock not yet dropped */
    CHECK_OK(undelegate(r, 100, 1, "1000000", 5, end));
    CHECK(lock_of(u, 100) == end);
    CHECK_OK(opg_tally_end_block(u, 5, end));
    CHECK(lock_of(u, 100) == -1);
    opg_tally_free(u);
    /* no tally attached: nothing guards */
    CHECK_OK(undelegate(r, 100, 2, "1000000", 6, end + 1));
    CHECK_OK(opg_registry_check(r));
    opg_registry_free(r);
}

/*
 * An expedited proposal (voting_end T0 + EVP) that misses the quorum converts and
 * runs on to T0 + VP without its votes. The lock voter 100 took (conviction 1:
 * T0 + EVP + L) is fixed; voting again, now to the later end, raises it to
 * T0 + VP + L.
 */
static void test_expedited_conversion(void)
{
    opg_registry *r = new_registry();
    CHECK_OK(add_node(r, 1, "100000000"));
    CHECK_OK(delegate(r, 100, 1, "10000000"));
    CHECK_OK(bond(r));
    opg_tally *t = new_tally(r, 1);
    uint64_t id;
    CHECK_OK(submit_text(&id, t, 200, "50000000", 1, T0));
    CHECK_OK(cvote(t, id, 100, OPG_VOTE_YES, 1));
    CHECK(lock_of(t, 100) == T0 + EVP + L);
    CHECK_OK(opg_tally_end_block(t, 10, T0 + EVP));
    const opg_tally_closed *c = only_closed(t);
    CHECK(c && c->outcome == OPG_TALLY_CONVERTED);
    CHECK(lock_of(t, 100) == T0 + EVP + L);
    opg_id v = id_n(100);
    unsigned cv;
    CHECK_RC(opg_tally_vote_conviction_get(&cv, t, id, &v), OPG_ENOTFOUND); /* votes gone */
    CHECK_OK(cvote(t, id, 100, OPG_VOTE_YES, 1));
    CHECK(lock_of(t, 100) == T0 + VP + L);
    opg_tally_free(t);
    opg_registry_free(r);
}

/* A lock past the end of time saturates: vote_locking_period 2^62 times 32. */
static void test_lock_saturates(void)
{
    opg_registry *r = new_registry();
    CHECK_OK(add_node(r, 1, "100000000"));
    CHECK_OK(bond(r));
    opg_tally *t = new_tally(r, 1);
    CHECK_OK(opg_tally_param_set(t, "gov.vote_locking_period", "4611686018427387904"));
    uint64_t id;
    CHECK_OK(submit_text(&id, t, 200, "10000000", 0, T0));
    CHECK_OK(cvote(t, id, 100, OPG_VOTE_YES, 6));
    CHECK(lock_of(t, 100) == OPG_TIME_FOREVER);
    CHECK_OK(cvote(t, id, 101, OPG_VOTE_YES, 1)); /* 2^62 + T0 + VP: no saturation */
    CHECK(lock_of(t, 101) == (opg_time)4611686018427387904 + T0 + VP);
    opg_tally_free(t);
    opg_registry_free(r);
}

/* ---------------------------------------------------- refusals, params */

static void test_refusals(void)
{
    opg_registry *r = new_registry();
    CHECK_OK(add_node(r, 1, "100000000"));
    CHECK_OK(bond(r));
    opg_tally *off = new_tally(r, 0), *t = new_tally(r, 1);
    uint64_t id, dp, id_off;
    CHECK_OK(submit_text(&id, t, 200, "10000000", 0, T0));
    CHECK_OK(submit_text(&dp, t, 200, "10", 0, T0)); /* deposit period */
    CHECK_OK(submit_text(&id_off, off, 200, "10000000", 0, T0));
    /* extension off: every conviction refused, 0 included */
    for (unsigned c = 0; c <= 7; c++)
        REFUSED(off, r, cvote(off, id_off, 100, OPG_VOTE_YES, c), OPG_EINVAL);
    REFUSED(t, r, cvote(t, id, 100, OPG_VOTE_YES, 7), OPG_EINVAL);
    REFUSED(t, r, cvote(t, id, 100, OPG_VOTE_YES, 1000), OPG_EINVAL);
    REFUSED(t, r, cvote(t, id, 100, (opg_vote_option)9, 2), OPG_EVOTE);
    REFUSED(t, r, cvote(t, 77, 100, OPG_VOTE_YES, 2), OPG_ENOTFOUND);
    REFUSED(t, r, cvote(t, dp, 100, OPG_VOTE_YES, 2), OPG_ESTATUS);
    opg_weighted_vote w[2] = {{OPG_VOTE_YES, dec_of("0.5")}, {OPG_VOTE_NO, dec_of("0.4")}};
    opg_id v = id_n(100);
    REFUSED(t, r, opg_tally_vote_conviction(t, id, &v, w, 2, 3, T0), OPG_EVOTE);
    REFUSED(t, r, opg_tally_vote_conviction(t, id, NULL, w, 2, 3, T0), OPG_EINVAL);
    CHECK(opg_tally_lock_count(t) == 0);
    /* parameters */
    REFUSED(t, r, opg_tally_param_set(t, "gov.vote_locking_period", "0"), OPG_EINVAL);
    REFUSED(t, r, opg_tally_param_set(t, "gov.vote_locking_period", "-5"), OPG_EPARSE);
    REFUSED(t, r, opg_tally_param_set(t, "gov.conviction_voting", "maybe"), OPG_EPARSE);
    opg_tally_params p;
    opg_tally_params_init(&p);
    CHECK(p.conviction_voting == 0 && p.vote_locking_period == 604800);
    p.vote_locking_period = 0;
    opg_tally *bad = NULL;
    CHECK_RC(opg_tally_new(&bad, r, &p, NULL), OPG_EINVAL);
    p.vote_locking_period = 1;
    p.conviction_voting = 2;
    CHECK_RC(opg_tally_new(&bad, r, &p, NULL), OPG_EINVAL);
    char buf[32];
    CHECK_OK(opg_tally_param_get(buf, sizeof buf, NULL, t, "gov.conviction_voting"));
    CHECK(strcmp(buf, "true") == 0);
    CHECK_OK(opg_tally_param_get(buf, sizeof buf, NULL, t, "gov.vote_locking_period"));
    CHECK(strcmp(buf, "604800") == 0);
    /* a vote with conviction, then the extension off: the lock stays, the tally is
     * Cosmos' (the conviction is not read) */
    CHECK_OK(cvote(t, id, 1, OPG_VOTE_YES, 6));
    CHECK_OK(opg_tally_param_set(t, "gov.conviction_voting", "false"));
    REFUSED(t, r, cvote(t, id, 1, OPG_VOTE_YES, 6), OPG_EINVAL);
    opg_tally_preview_result pv;
    CHECK_OK(opg_tally_preview(&pv, t, id));
    CHECK_DEC(pv.total_power, "100000000");
    CHECK(lock_of(t, 1) == T0 + VP + 32 * L);
    REFUSED(t, r, undelegate(r, 1, 1, "1", 3, T0 + 5), OPG_ELOCKED);
    opg_tally_free(t);
    opg_tally_free(off);
    opg_registry_free(r);
}

/* ---------------------------------------------- extension off = Cosmos */

/*
 * The same history on a tally created with the defaults and on one whose extension
 * was switched on and off again gives the same counts and outcomes as before the
 * extension existed (the hand-worked 150e6 / 50e6 case above, and a weighted vote:
 * operator 1 (100e6 own + 50e6 inherited) votes yes 0.875 / no 0.125:
 * yes 131.25e6, no 18.75e6 + 50e6 = 68.75e6), and the same state hash.
 */
static void test_off_is_cosmos(void)
{
    opg_registry *r = new_registry();
    CHECK_OK(add_node(r, 1, "100000000"));
    CHECK_OK(add_node(r, 2, "100000000"));
    CHECK_OK(delegate(r, 100, 1, "50000000"));
    CHECK_OK(delegate(r, 101, 1, "50000000"));
    CHECK_OK(bond(r));
    opg_tally *t[2] = {new_tally(r, 0), new_tally(r, 0)};
    CHECK_OK(opg_tally_param_set(t[1], "gov.conviction_voting", "true"));
    CHECK_OK(opg_tally_param_set(t[1], "gov.conviction_voting", "false"));
    uint8_t h[2][32];
    for (int k = 0; k < 2; k++) {
        uint64_t id;
        CHECK_OK(submit_text(&id, t[k], 200, "10000000", 0, T0));
        opg_weighted_vote w[2] = {{OPG_VOTE_YES, dec_of("0.875")}, {OPG_VOTE_NO, dec_of("0.125")}};
        opg_id op = id_n(1), v = id_n(100);
        CHECK_OK(opg_tally_vote(t[k], id, &op, w, 2));
        CHECK_OK(opg_tally_vote_option(t[k], id, &v, OPG_VOTE_NO));
        hash_of(h[k], t[k]);
        opg_tally_preview_result pv;
        CHECK_OK(opg_tally_preview(&pv, t[k], id));
        CHECK_DEC(pv.results[OPG_VOTE_YES - 1], "131250000");
        CHECK_DEC(pv.results[OPG_VOTE_NO - 1], "68750000");
        CHECK_DEC(pv.total_power, "200000000");
        CHECK_DEC(pv.turnout, "200000000");
        CHECK_OK(opg_tally_end_block(t[k], 10, T0 + VP));
        const opg_tally_closed *c = only_closed(t[k]);
        CHECK(c && c->outcome == OPG_TALLY_PASSED);
        CHECK_U256(c->counts.yes, "131250000");
        CHECK_U256(c->counts.no, "68750000");
        CHECK(opg_tally_lock_count(t[k]) == 0);
    }
    CHECK(memcmp(h[0], h[1], 32) == 0);
    opg_tally_free(t[0]);
    opg_tally_free(t[1]);
    opg_registry_free(r);
}

/* ------------------------------------------------------------- saved state */

static int save_alloc(uint8_t **out, size_t *len, const opg_tally *t)
{
    *len = 0;
    int rc = opg_tally_save(NULL, 0, len, t);
    if (rc != OPG_EBUFS)
        return rc;
    *out = malloc(*len);
    return opg_tally_save(*out, *len, len, t);
}

/* save -> load -> save gives the same bytes with conviction votes and locks; a
 * loaded tally tallies and refuses as the original; damaged lock lists are
 * OPG_ECORRUPT. A version 1 blob (before conviction voting) still loads, with the
 * extension off. */
static void test_save_load(void)
{
    opg_registry *r = new_registry();
    CHECK_OK(add_node(r, 1, "100000000"));
    CHECK_OK(delegate(r, 100, 1, "50000000"));
    CHECK_OK(bond(r));
    opg_tally *t = new_tally(r, 1);
    CHECK_OK(opg_tally_param_set(t, "gov.vote_locking_period", "1000"));
    uint64_t a, b;
    CHECK_OK(submit_text(&a, t, 200, "10000000", 0, T0));
    CHECK_OK(submit_text(&b, t, 201, "10000000", 0, T0 + 5));
    for (unsigned i = 0; i < 40; i++) { /* arrival order scrambled */
        unsigned who = (i * 17) % 40 + 100;
        CHECK_OK(cvote(t, i % 2 ? a : b, who, OPG_VOTE_YES, i % 7));
    }
    CHECK(opg_tally_lock_count(t) > 30);
    uint8_t *b1 = NULL, *b2 = NULL;
    size_t n1, n2;
    CHECK_OK(save_alloc(&b1, &n1, t));
    opg_tally *u = NULL;
    CHECK_OK(opg_tally_load(&u, r, b1, n1, NULL));
    CHECK_OK(save_alloc(&b2, &n2, u));
    CHECK(n1 == n2 && memcmp(b1, b2, n1) == 0);
    uint8_t h1[32], h2[32];
    hash_of(h1, t);
    hash_of(h2, u);
    CHECK(memcmp(h1, h2, 32) == 0);
    for (unsigned k = 100; k < 140; k++)
        CHECK(lock_of(t, k) == lock_of(u, k));
    opg_tally_params p;
    opg_tally_params_get(&p, u);
    CHECK(p.conviction_voting == 1 && p.vote_locking_period == 1000);
    /* a tally of the loaded copy equals the original's */
    opg_tally_preview_result p1, p2;
    CHECK_OK(opg_tally_preview(&p1, t, a));
    CHECK_OK(opg_tally_preview(&p2, u, a));
    CHECK(memcmp(&p1, &p2, sizeof p1) == 0);
    /* the lock list: a truncated one, accounts out of order */
    CHECK_RC(opg_tally_load(&u, r, b1, n1 - 1, NULL) == OPG_ECORRUPT ? OPG_ECORRUPT : -1,
             OPG_ECORRUPT);
    {
        uint8_t *c = malloc(n1);
        memcpy(c, b1, n1);
        /* swap the last two lock records (40 bytes each) */
        uint8_t tmp[40];
        memcpy(tmp, c + n1 - 80, 40);
        memcpy(c + n1 - 80, c + n1 - 40, 40);
        memcpy(c + n1 - 40, tmp, 40);
        opg_tally *x = NULL;
        CHECK_RC(opg_tally_load(&x, r, c, n1, NULL), OPG_ECORRUPT);
        /* a conviction of 7 on the last vote of the last proposal: the byte just
         * before the lock count */
        memcpy(c, b1, n1);
        size_t nl = opg_tally_lock_count(t);
        c[n1 - 4 - 40 * nl - 1] = 7;
        CHECK_RC(opg_tally_load(&x, r, c, n1, NULL), OPG_ECORRUPT);
        c[n1 - 4 - 40 * nl - 1] = 6;
        CHECK_OK(opg_tally_load(&x, r, c, n1, NULL));
        opg_tally_free(x);
        free(c);
    }
    opg_tally_free(u);
    opg_tally_free(t);
    free(b1);
    free(b2);

    /* version 1: a tally without votes, saved as version 2, less the two new
     * parameters (9 bytes after the 283 bytes of the old ones) and the empty lock
     * list, with version 1 in the header */
    t = new_tally(r, 0);
    CHECK_OK(opg_tally_param_set(t, "gov.quorum", "0.25"));
    CHECK_OK(submit_text(&a, t, 200, "10000000", 0, T0));
    opg_id d = id_n(300);
    opg_u256 x = u256_of("77");
    CHECK_OK(opg_tally_deposit(NULL, t, a, &d, &x, T0 + 1));
    CHECK_OK(save_alloc(&b1, &n1, t));
    const size_t at = 8 + 283;
    CHECK(b1[at] == 0); /* conviction_voting false */
    uint8_t *v1 = malloc(n1);
    memcpy(v1, b1, at);
    memcpy(v1 + at, b1 + at + 9, n1 - at - 9 - 4);
    size_t nv1 = n1 - 9 - 4;
    v1[6] = 0;
    v1[7] = 1;
    CHECK_OK(opg_tally_load(&u, r, v1, nv1, NULL));
    CHECK_OK(save_alloc(&b2, &n2, u));
    CHECK(n1 == n2 && memcmp(b1, b2, n1) == 0);
    opg_tally_free(u);
    v1[7] = 3;
    CHECK_RC(opg_tally_load(&u, r, v1, nv1, NULL), OPG_EVERSION);
    free(v1);
    free(b1);
    free(b2);
    opg_tally_free(t);
    opg_registry_free(r);
}

/* ------------------------------------------------- allocation failures */


/* Conviction votes by many voters (the lock list and its index grow several times),
 * replacements, a close with weighting, expiry, save and load, all through the
 * failing allocator. */
static void scripted(const opg_allocator *a, opg_registry *r)
{
    opg_tally *t = NULL;
    int rc = opg_tally_new(&t, r, NULL, a);
    if (rc == OPG_ENOMEM)
        rc = opg_tally_new(&t, r, NULL, a);
    CHECK_OK(rc);
    STEP(t, opg_tally_param_set(t, "gov.conviction_voting", "true"));
    STEP(t, opg_tally_param_set(t, "gov.vote_locking_period", "100"));
    uint64_t p1 = 0, p2 = 0;
    STEP(t, submit_text(&p1, t, 200, "10000000", 0, T0));
    STEP(t, submit_text(&p2, t, 201, "10000000", 0, T0 + 50));
    for (unsigned i = 0; i < 150; i++) {
        opg_id v = id_n(i < 2 ? 1 + i : 100 + i);
        opg_weighted_vote w[2] = {{OPG_VOTE_YES, dec_of("0.75")}, {OPG_VOTE_NO, dec_of("0.25")}};
        opg_weighted_vote one = {OPG_VOTE_NO_WITH_VETO, dec_of("1")};
        STEP(t, opg_tally_vote_conviction(t, p1, &v, w, 2, i % 7, T0));
        STEP(t, opg_tally_vote_conviction(t, p2, &v, &one, 1, (i + 3) % 7, T0));
        if (i % 5 == 0)
            STEP(t, opg_tally_vote_conviction(t, p1, &v, &one, 1, (i + 1) % 7, T0));
    }
    opg_tally_preview_result pv;
    STEP(t, opg_tally_preview(&pv, t, p1));
    size_t locks = opg_tally_lock_count(t);
    CHECK(locks > 100);
    STEP(t, opg_tally_end_block(t, 5, T0 + VP));
    STEP(t, opg_tally_end_block(t, 6, T0 + VP + 50 + 400));
    CHECK(opg_tally_lock_count(t) > 0 && opg_tally_lock_count(t) < locks);
    size_t len = 0;
    rc = opg_tally_save(NULL, 0, &len, t);
    CHECK(rc == OPG_EBUFS || rc == OPG_ENOMEM);
    if (rc == OPG_ENOMEM)
        CHECK_RC(opg_tally_save(NULL, 0, &len, t), OPG_EBUFS);
    uint8_t *buf = malloc(len);
    STEP(t, opg_tally_save(buf, len, &len, t));
    opg_tally *u = NULL;
    rc = opg_tally_load(&u, r, buf, len, a);
    if (rc == OPG_ENOMEM)
        rc = opg_tally_load(&u, r, buf, len, a);
    free(buf);
    CHECK_OK(rc);
    hash_nofail(fa_hash, u);
    opg_tally_free(u);
    opg_tally_free(t);
}

static opg_registry *oom_registry(void)
{
    opg_registry *r = new_registry();
    if (add_node(r, 1, "600000000") || add_node(r, 2, "400000000") ||
        delegate(r, 150, 1, "7000000") || delegate(r, 151, 2, "3000000") || bond(r))
        abort();
    return r;
}

static void test_alloc_failures(void)
{
    failalloc fa;
    failalloc_init(&fa, 0);
    fa_now = &fa;
    opg_allocator a = failalloc_allocator(&fa);
    uint8_t want[32];
    {
        opg_registry *r = oom_registry();
        scripted(&a, r);
        memcpy(want, fa_hash, 32);
        CHECK(fa.live_bytes == 0);
        opg_registry_free(r);
    }
    unsigned long total = fa.calls;
    CHECK(total > 20);
    for (unsigned long k = 1; k <= total + 5; k++) {
        failalloc_init(&fa, k);
        opg_registry *r = oom_registry();
        scripted(&a, r);
        CHECK(memcmp(want, fa_hash, 32) == 0);
        CHECK(fa.live_bytes == 0 && fa.live_blocks == 0);
        opg_registry_free(r);
    }
    printf("  allocation failure points tried: %lu\n", total + 5);
}

int main(void)
{
    RUN(test_multipliers);
    RUN(test_tenth_rounding);
    RUN(test_close_weighted);
    RUN(test_quorum_unweighted);
    RUN(test_locks_combine_and_expire);
    RUN(test_undelegate_locked);
    RUN(test_expedited_conversion);
    RUN(test_lock_saturates);
    RUN(test_refusals);
    RUN(test_off_is_cosmos);
    RUN(test_save_load);
    RUN(test_alloc_failures);
    return harness_done();
}
