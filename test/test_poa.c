/*
 * test_poa.c - proof-of-authority mode (staking.poa) and governance's validator-set
 * proposals (OPG_PROPOSAL_ADD_VALIDATOR / REMOVE_VALIDATOR), worked by hand.
 *
 * The world: a registry with genesis supply G = 10^12 and power_reduction 10^6, a
 * splitter and a slasher on it (their hooks run on every stake move), a tally with the
 * default gov parameters (min deposit 10,000,000, voting period 172,800 s, quorum
 * 0.334, threshold 0.5). Genesis validators are created while staking.poa is off
 * (node 1 with 600e6, node 2 with 400e6 self-stake, min_self_delegation 1), bonded by
 * the registry's end_block, then staking.poa is turned on.
 */
#include "harness.h"
#include "failalloc.h"

#define T0 1000000
#define VP 172800

static const char *G = "1000000000000";

typedef struct world {
    opg_registry *r;
    opg_splitter *s;
    opg_slasher *sl;
    opg_tally *t;
} world;

static opg_node_create node_of(unsigned n, const char *self)
{
    opg_node_create c;
    memset(&c, 0, sizeof c);
    c.operator_id = id_n(n);
    c.consensus_key = cons_key_n(5000 + n);
    c.roles = OPG_ROLE_ALL;
    c.commission_rate = dec_of("0.05");
    c.commission_max_rate = dec_of("0.2");
    c.commission_max_change_rate = dec_of("0.01");
    c.min_self_delegation = u64v(1);
    c.self_delegation = u256_of(self);
    return c;
}

/* Every handle on allocator a; node 1 (600e6) and 2 (400e6) bonded; delegator 100 has
 * 50e6 on node 2 and an unbonding entry of 10e6 from it at height 1; then PoA on. */
static int world_new(world *w, const opg_allocator *a)
{
    memset(w, 0, sizeof *w);
    opg_u256 g = u256_of(G);
    if (opg_registry_new(&w->r, NULL, &g, a) || opg_splitter_new(&w->s, w->r, NULL, a) ||
        opg_slasher_new(&w->sl, w->r, NULL, a) || opg_tally_new(&w->t, w->r, NULL, a))
        return OPG_ENOMEM;
    opg_node_create c1 = node_of(1, "600000000"), c2 = node_of(2, "400000000");
    opg_id d = id_n(100), n2 = id_n(2);
    opg_u256 x = u256_of("60000000"), y = u256_of("10000000");
    int rc;
    if ((rc = opg_registry_node_create(w->r, &c1, 1, T0)) || (rc = opg_registry_node_create(w->r, &c2, 1, T0)) ||
        (rc = opg_registry_delegate(NULL, w->r, &d, &n2, &x, 1, T0)) ||
        (rc = opg_registry_undelegate(NULL, NULL, w->r, &d, &n2, &y, 1, T0)) ||
        (rc = opg_registry_end_block(w->r, 1, T0)) ||
        (rc = opg_registry_param_set(w->r, "staking.poa", "true")))
        return rc;
    return OPG_OK;
}

static void world_free(world *w)
{
    opg_tally_free(w->t);
    opg_slasher_free(w->sl);
    opg_splitter_free(w->s);
    opg_registry_free(w->r);
}

/* The records machinery saw every change: each engine's commit gives the root its
 * records have from scratch. 0 if so. */
static int commits_agree(world *w)
{
    uint8_t a[32], b[32];
    const opg_record *ch;
    size_t n;
    if (opg_registry_root_from_scratch(a, w->r) || opg_registry_commit(b, &ch, &n, w->r) ||
        memcmp(a, b, 32))
        return 1;
    if (opg_splitter_root_from_scratch(a, w->s) || opg_splitter_commit(b, &ch, &n, w->s) ||
        memcmp(a, b, 32))
        return 2;
    if (opg_slasher_root_from_scratch(a, w->sl) || opg_slasher_commit(b, &ch, &n, w->sl) ||
        memcmp(a, b, 32))
        return 3;
    return 0;
}

static void reg_hash(uint8_t out[32], const opg_registry *r)
{
    if (opg_registry_state_hash(out, r) != OPG_OK)
        abort();
}

/* The hashes of every handle, concatenated. */
static void world_hash(uint8_t out[128], const world *w)
{
    reg_hash(out, w->r);
    if (opg_splitter_state_hash(out + 32, w->s) || opg_slasher_state_hash(out + 64, w->sl) ||
        opg_tally_state_hash(out + 96, w->t))
        abort();
}

static int submit_add(uint64_t *id, opg_tally *t, const opg_node_create *c, opg_time now)
{
    opg_proposal_submit s;
    memset(&s, 0, sizeof s);
    s.proposer = id_n(1);
    s.kind = OPG_PROPOSAL_ADD_VALIDATOR;
    s.initial_deposit = u256_of("10000000");
    s.title = "add";
    s.validator = c;
    return opg_tally_submit(id, t, &s, now);
}

static int submit_remove(uint64_t *id, opg_tally *t, unsigned op, opg_time now)
{
    opg_proposal_submit s;
    memset(&s, 0, sizeof s);
    s.proposer = id_n(1);
    s.kind = OPG_PROPOSAL_REMOVE_VALIDATOR;
    s.initial_deposit = u256_of("10000000");
    opg_id o = id_n(op);
    s.operator_id = &o;
    return opg_tally_submit(id, t, &s, now);
}

static int submit_param(uint64_t *id, opg_tally *t, const char *key, const char *value,
                        opg_time now)
{
    opg_proposal_submit s;
    memset(&s, 0, sizeof s);
    s.proposer = id_n(1);
    s.kind = OPG_PROPOSAL_PARAMS;
    s.initial_deposit = u256_of("10000000");
    opg_param_change ch = {key, value};
    s.changes = &ch;
    s.change_count = 1;
    return opg_tally_submit(id, t, &s, now);
}

static int submit_text(uint64_t *id, opg_tally *t, opg_time now)
{
    opg_proposal_submit s;
    memset(&s, 0, sizeof s);
    s.proposer = id_n(1);
    s.kind = OPG_PROPOSAL_TEXT;
    s.initial_deposit = u256_of("10000000");
    return opg_tally_submit(id, t, &s, now);
}

static int vote(opg_tally *t, uint64_t id, unsigned who, opg_vote_option o)
{
    opg_id v = id_n(who);
    return opg_tally_vote_option(t, id, &v, o);
}

static opg_supply_info supply_of(const opg_registry *r)
{
    opg_supply_info s;
    opg_registry_supply(&s, r);
    return s;
}

#define CHECK_REFUSED_POA(w, expr)                                                   \
    do {                                                                             \
        uint8_t h0_[32], h1_[32];                                                    \
        reg_hash(h0_, (w)->r);                                                       \
        CHECK_RC((expr), OPG_EPOA);                                                  \
        reg_hash(h1_, (w)->r);                                                       \
        CHECK(memcmp(h0_, h1_, 32) == 0);                                            \
        CHECK(strstr(opg_registry_last_error((w)->r), "staking.poa") != NULL);       \
    } while (0)

/* ------------------------------------------------------------- refusals */

static void test_stake_moves_refused(void)
{
    world w;
    CHECK_OK(world_new(&w, NULL));
    opg_id d = id_n(100), n1 = id_n(1), n2 = id_n(2);
    opg_u256 one = u64v(1000000);
    CHECK_REFUSED_POA(&w, opg_registry_delegate(NULL, w.r, &d, &n2, &one, 2, T0 + 1));
    CHECK_REFUSED_POA(&w, opg_registry_delegate(NULL, w.r, &n1, &n1, &one, 2, T0 + 1)); /* self too */
    CHECK_REFUSED_POA(&w, opg_registry_undelegate(NULL, NULL, w.r, &d, &n2, &one, 2, T0 + 1));
    CHECK_REFUSED_POA(&w, opg_registry_redelegate(NULL, w.r, &d, &n2, &n1, &one, 2, T0 + 1));
    CHECK_REFUSED_POA(&w, opg_registry_cancel_unbonding(w.r, &d, &n2, 1, &one, 2, T0 + 1));
    opg_node_create c = node_of(3, "1000000");
    CHECK_REFUSED_POA(&w, opg_registry_node_create(w.r, &c, 2, T0 + 1));
    /* not stake moves: still allowed */
    opg_id n9 = id_n(9);
    CHECK_RC(opg_registry_delegate(NULL, w.r, &d, &n9, &one, 2, T0 + 1), OPG_EPOA); /* PoA first */
    CHECK_OK(opg_registry_param_set(w.r, "staking.max_validators", "50"));
    opg_registry_params p;
    opg_registry_params_get(&p, w.r);
    CHECK(p.poa == 1);
    char buf[16];
    size_t need;
    CHECK_OK(opg_registry_param_get(buf, sizeof buf, &need, w.r, "staking.poa"));
    CHECK(strcmp(buf, "true") == 0);
    CHECK_RC(opg_registry_param_set(w.r, "staking.poa", "2"), OPG_EPARSE);
    CHECK(strcmp(opg_strerror(OPG_EPOA), "unknown error") != 0 && strcmp(opg_errname(OPG_EPOA), "EPOA") == 0);
    world_free(&w);
}

/* Hyperstaking delegates and undelegates through the registry: refused as well. */
static void test_hyper_refused(void)
{
    opg_registry *r = NULL;
    opg_splitter *s = NULL;
    opg_hyper *h = NULL;
    opg_u256 g = u256_of(G);
    CHECK_OK(opg_registry_new(&r, NULL, &g, NULL));
    CHECK_OK(opg_splitter_new(&s, r, NULL, NULL));
    CHECK_OK(opg_hyper_new(&h, r, s, NULL, NULL));
    opg_node_create c1 = node_of(1, "600000000");
    CHECK_OK(opg_registry_node_create(r, &c1, 1, T0));
    CHECK_OK(opg_registry_end_block(r, 1, T0));
    opg_id pos = id_n(500), owner = id_n(600);
    opg_hyper_weight wt = {id_n(1), dec_of("1")};
    opg_hyper_policy pol;
    memset(&pol, 0, sizeof pol);
    pol.kind = OPG_HYPER_FIXED;
    pol.weights = &wt;
    pol.n_weights = 1;
    pol.max_commission = dec_of("1");
    pol.cap = dec_of("1");
    pol.max_nodes = 1;
    pol.auto_compound = 1;
    CHECK_OK(opg_hyper_position_create(h, &pos, &owner, &pol, 1));
    opg_u256 amt = u64v(7000000);
    CHECK_OK(opg_hyper_deposit(h, &pos, &amt, 2, T0 + 1)); /* before PoA */
    CHECK_OK(opg_registry_param_set(r, "staking.poa", "true"));
    uint8_t h0[32], h1[32], r0[32], r1[32];
    CHECK_OK(opg_hyper_state_hash(h0, h));
    reg_hash(r0, r);
    opg_u256 two = u64v(2000000);
    CHECK_RC(opg_hyper_deposit(h, &pos, &two, 3, T0 + 2), OPG_EPOA);
    CHECK_RC(opg_hyper_withdraw(NULL, h, &pos, &two, 3, T0 + 2), OPG_EPOA);
    CHECK_OK(opg_hyper_state_hash(h1, h));
    reg_hash(r1, r);
    CHECK(memcmp(h0, h1, 32) == 0 && memcmp(r0, r1, 32) == 0);
    /* the epoch: rewards allocated to node 1 are withdrawn; compounding them is a
     * SKIPPED move with OPG_EPOA and they are paid out instead */
    opg_u256 fee = u64v(1000000);
    CHECK_OK(opg_splitter_add_fees(s, &fee));
    opg_commit_vote v;
    memset(&v, 0, sizeof v);
    v.consensus_key = cons_key_n(5001);
    v.power = 600;
    v.score = dec_of("1");
    CHECK_OK(opg_splitter_allocate(s, &v, 1, 4, T0 + 3));
    size_t done = 0, nm = 0;
    CHECK_OK(opg_hyper_epoch(&done, h, NULL, 0, 5, T0 + 4));
    const opg_hyper_move *m = opg_hyper_moves(h, &nm);
    int skipped = 0, compounded = 0;
    for (size_t i = 0; i < nm; i++) {
        skipped += m[i].kind == OPG_HYPER_SKIPPED && m[i].code == OPG_EPOA;
        compounded += m[i].kind == OPG_HYPER_COMPOUND;
    }
    CHECK(done == 1 && skipped == 1 && compounded == 0);
    opg_hyper_free(h);
    opg_splitter_free(s);
    opg_registry_free(r);
}

/* ------------------------------------------------------ adding by proposal */

/*
 * ADD node 9 with self_delegation 500e6. Node 1 (600e6) votes yes: total 600e6 of a
 * bonded 1000e6 (node 1, and node 2 with 400e6 + 50e6 from account 100 = 450e6,
 * hence 1050e6): quorum 600/1050 = 0.571 >= 0.334, yes 600/600 = 1 > 0.5: PASSED.
 * Then node 9 exists, unbonded, with 500e6 tokens and shares, the whole of it its
 * operator's self-delegation; minted = 500e6, total supply G + 500e6. At the
 * registry's end_block it bonds with power 500.
 */
static void test_add_validator(void)
{
    world w;
    CHECK_OK(world_new(&w, NULL));
    opg_node_create c = node_of(9, "500000000");
    c.roles = OPG_ROLE_CONSENSUS;
    uint64_t id;
    CHECK_OK(submit_add(&id, w.t, &c, T0));
    opg_proposal_action act;
    CHECK_OK(opg_tally_proposal_action(&act, w.t, id));
    CHECK(act.kind == OPG_PROPOSAL_ADD_VALIDATOR && memcmp(&act.validator, &c, sizeof c) == 0);
    CHECK_OK(vote(w.t, id, 1, OPG_VOTE_YES));
    opg_tally_preview_result pv;
    CHECK_OK(opg_tally_preview(&pv, w.t, id));
    CHECK_U256(pv.bonded_total, "1050000000");
    CHECK(pv.outcome == OPG_TALLY_PASSED);

    CHECK(commits_agree(&w) == 0);
    CHECK_OK(opg_tally_end_block(w.t, 10, T0 + VP));
    CHECK(commits_agree(&w) == 0);
    size_t n;
    const opg_tally_closed *cl = opg_tally_closed_list(w.t, &n);
    CHECK(n == 1 && cl[0].outcome == OPG_TALLY_PASSED && cl[0].kind == OPG_PROPOSAL_ADD_VALIDATOR);
    CHECK_U256(cl[0].refunded, "10000000");
    opg_node_info ni;
    opg_id n9 = id_n(9);
    CHECK_OK(opg_registry_node_get(&ni, w.r, &n9));
    CHECK(ni.status == OPG_NODE_UNBONDED && !ni.jailed && ni.roles == OPG_ROLE_CONSENSUS);
    CHECK_U256(ni.tokens, "500000000");
    CHECK_DEC(ni.delegator_shares, "500000000");
    CHECK_DEC(ni.commission_rate, "0.05");
    opg_delegation_info di;
    CHECK_OK(opg_registry_delegation_get(&di, w.r, &n9, &n9));
    CHECK_DEC(di.shares, "500000000");
    opg_supply_info su = supply_of(w.r);
    CHECK_U256(su.minted, "500000000");
    CHECK_U256(su.total_supply, "1000500000000");
    CHECK_OK(opg_registry_check(w.r));
    CHECK_OK(opg_registry_end_block(w.r, 11, T0 + VP));
    CHECK_OK(opg_registry_node_get(&ni, w.r, &n9));
    CHECK(ni.status == OPG_NODE_BONDED && ni.power == 500);
    /* still PoA: its operator may not add to it */
    opg_u256 one = u64v(1);
    CHECK_RC(opg_registry_delegate(NULL, w.r, &n9, &n9, &one, 12, T0 + VP), OPG_EPOA);
    world_free(&w);
}

/* ---------------------------------------------------- removing by proposal */

/*
 * REMOVE node 2 (self 400e6; account 100 holds 50e6 there). Node 1 votes yes
 * (600e6 of 1050e6: passes). The self-delegation goes wholly: node 2 keeps the
 * 50e6 of account 100 and its shares, 400e6 is burned (burned = 400e6, total supply
 * G - 400e6), no unbonding entry is added (unbonding balance stays 10e6), node 2 is
 * jailed (self-bond 0 < 1) and cannot unjail; it leaves the active set at the
 * registry's end_block (power 0 update, status UNBONDING). With the splitter
 * attached, the delegation's rewards are paid out as on any undelegation.
 */
static void test_remove_validator(void)
{
    world w;
    CHECK_OK(world_new(&w, NULL));
    /* rewards for node 2's delegators: 1,000,000 allocated to node 2 alone */
    opg_u256 fee = u64v(1000000);
    CHECK_OK(opg_splitter_add_fees(w.s, &fee));
    opg_id n2 = id_n(2), n1 = id_n(1), d = id_n(100);
    CHECK_OK(opg_splitter_allocate_to_node(w.s, &n2, &fee));
    uint64_t id;
    CHECK_OK(submit_remove(&id, w.t, 2, T0));
    opg_proposal_action act;
    CHECK_OK(opg_tally_proposal_action(&act, w.t, id));
    CHECK(act.kind == OPG_PROPOSAL_REMOVE_VALIDATOR && opg_id_cmp(&act.operator_id, &n2) == 0);
    CHECK_OK(vote(w.t, id, 1, OPG_VOTE_YES));
    opg_supply_info su0 = supply_of(w.r);
    CHECK_U256(su0.unbonding, "10000000");
    CHECK(commits_agree(&w) == 0);
    CHECK_OK(opg_tally_end_block(w.t, 10, T0 + VP));
    size_t n;
    const opg_tally_closed *cl = opg_tally_closed_list(w.t, &n);
    CHECK(n == 1 && cl[0].outcome == OPG_TALLY_PASSED);
    /* events: the operator's rewards paid, the jail */
    size_t ne;
    const opg_event *ev = opg_registry_events(w.r, &ne);
    int paid = 0, jailed = 0;
    for (size_t i = 0; i < ne; i++) {
        paid += ev[i].kind == OPG_EVENT_REWARDS_PAID && opg_id_cmp(&ev[i].account, &n2) == 0;
        jailed += ev[i].kind == OPG_EVENT_NODE_JAILED && opg_id_cmp(&ev[i].node, &n2) == 0;
    }
    CHECK(paid == 1 && jailed == 1);
    opg_node_info ni;
    CHECK_OK(opg_registry_node_get(&ni, w.r, &n2));
    CHECK(ni.jailed && ni.status == OPG_NODE_BONDED);
    CHECK_U256(ni.tokens, "50000000");
    CHECK_DEC(ni.delegator_shares, "50000000");
    opg_delegation_info di;
    CHECK_RC(opg_registry_delegation_get(&di, w.r, &n2, &n2), OPG_ENOTFOUND);
    CHECK_OK(opg_registry_delegation_get(&di, w.r, &d, &n2));
    CHECK_DEC(di.shares, "50000000");
    opg_supply_info su = supply_of(w.r);
    CHECK_U256(su.burned, "400000000");
    CHECK_U256(su.unbonding, "10000000");
    CHECK_OK(opg_registry_check(w.r));
    CHECK_OK(opg_splitter_check(w.s));
    CHECK(commits_agree(&w) == 0);
    /* cannot unjail: self-bond 0 below min_self_delegation 1 */
    CHECK_RC(opg_registry_unjail(w.r, &n2, T0 + VP), OPG_ESELFBOND);
    /* leaves the set at the registry's end_block */
    CHECK_OK(opg_registry_end_block(w.r, 11, T0 + VP));
    ev = opg_registry_events(w.r, &ne);
    int update = 0;
    for (size_t i = 0; i < ne; i++)
        update += ev[i].kind == OPG_EVENT_VALIDATOR_UPDATE && ev[i].power == 0;
    CHECK(update == 1);
    CHECK_OK(opg_registry_node_get(&ni, w.r, &n2));
    CHECK(ni.status == OPG_NODE_UNBONDING);
    CHECK_OK(opg_registry_node_get(&ni, w.r, &n1));
    CHECK(ni.status == OPG_NODE_BONDED && !ni.jailed);
    /* a second REMOVE of node 2: no self-delegation left */
    CHECK_OK(submit_remove(&id, w.t, 2, T0 + VP));
    CHECK_OK(vote(w.t, id, 1, OPG_VOTE_YES));
    uint8_t h0[32], h1[32];
    reg_hash(h0, w.r);
    CHECK_OK(opg_tally_end_block(w.t, 12, T0 + 2 * VP));
    cl = opg_tally_closed_list(w.t, &n);
    CHECK(n == 1 && cl[0].outcome == OPG_TALLY_FAILED && cl[0].failed_code == OPG_ENOTFOUND &&
          cl[0].failed_change == 0);
    reg_hash(h1, w.r);
    CHECK(memcmp(h0, h1, 32) == 0);
    /* out of PoA, account 100 may undelegate from the removed node */
    CHECK_OK(opg_registry_param_set(w.r, "staking.poa", "false"));
    opg_u256 all = u256_of("50000000");
    CHECK_OK(opg_registry_undelegate(NULL, NULL, w.r, &d, &n2, &all, 13, T0 + 2 * VP));
    world_free(&w);
}

/* ---------------------------------------------------- leaving the phase */

static void test_leave_poa(void)
{
    world w;
    CHECK_OK(world_new(&w, NULL));
    uint64_t id;
    CHECK_OK(submit_param(&id, w.t, "staking.poa", "false", T0));
    CHECK_OK(vote(w.t, id, 1, OPG_VOTE_YES));
    uint8_t before[32], after[32];
    size_t count = opg_registry_node_count(w.r);
    opg_node_info n1a, n1b;
    opg_id n1 = id_n(1), d = id_n(100);
    CHECK_OK(opg_registry_node_get(&n1a, w.r, &n1));
    reg_hash(before, w.r);
    CHECK_OK(opg_tally_end_block(w.t, 10, T0 + VP));
    size_t n;
    const opg_tally_closed *cl = opg_tally_closed_list(w.t, &n);
    CHECK(n == 1 && cl[0].outcome == OPG_TALLY_PASSED);
    reg_hash(after, w.r);
    CHECK(memcmp(before, after, 32) != 0); /* the parameter */
    opg_registry_params p;
    opg_registry_params_get(&p, w.r);
    CHECK(p.poa == 0);
    CHECK(opg_registry_node_count(w.r) == count);
    CHECK_OK(opg_registry_node_get(&n1b, w.r, &n1));
    CHECK(memcmp(&n1a, &n1b, sizeof n1a) == 0);
    opg_u256 amt = u64v(5000000);
    CHECK_OK(opg_registry_delegate(NULL, w.r, &d, &n1, &amt, 11, T0 + VP));
    opg_node_create c = node_of(3, "1000000");
    CHECK_OK(opg_registry_node_create(w.r, &c, 11, T0 + VP));
    world_free(&w);
}

/* ----------------------------------------------------------- FAILED outcomes */

/* Four proposals closing in one end_block (one voting_end, so in id order):
 *   1 ADD of operator 1 (exists)             FAILED, OPG_EEXISTS
 *   2 ADD of operator 9                      PASSED
 *   3 ADD of operator 9 again                FAILED, OPG_EEXISTS (staged by 2)
 *   4 ADD of operator 10 with node 9's key   FAILED, OPG_EEXISTS
 * Nothing of the failed ones applies: one new node, 1e6 minted. */
static void test_failed_adds(void)
{
    world w;
    CHECK_OK(world_new(&w, NULL));
    opg_node_create c1 = node_of(1, "1000000"), c9 = node_of(9, "1000000"),
                    c9b = node_of(9, "2000000"), c10 = node_of(10, "1000000");
    c1.consensus_key = cons_key_n(7777);
    c9b.consensus_key = cons_key_n(7778);
    c10.consensus_key = c9.consensus_key;
    uint64_t id[4];
    CHECK_OK(submit_add(&id[0], w.t, &c1, T0));
    CHECK_OK(submit_add(&id[1], w.t, &c9, T0));
    CHECK_OK(submit_add(&id[2], w.t, &c9b, T0));
    CHECK_OK(submit_add(&id[3], w.t, &c10, T0));
    for (int i = 0; i < 4; i++)
        CHECK_OK(vote(w.t, id[i], 1, OPG_VOTE_YES));
    size_t nodes = opg_registry_node_count(w.r);
    CHECK_OK(opg_tally_end_block(w.t, 10, T0 + VP));
    size_t n;
    const opg_tally_closed *cl = opg_tally_closed_list(w.t, &n);
    CHECK(n == 4);
    CHECK(cl[0].outcome == OPG_TALLY_FAILED && cl[0].failed_code == OPG_EEXISTS);
    CHECK(cl[1].outcome == OPG_TALLY_PASSED);
    CHECK(cl[2].outcome == OPG_TALLY_FAILED && cl[2].failed_code == OPG_EEXISTS);
    CHECK(cl[3].outcome == OPG_TALLY_FAILED && cl[3].failed_code == OPG_EEXISTS);
    for (int i = 0; i < 4; i++)
        CHECK_U256(cl[i].refunded, "10000000"); /* passed: refunded even when FAILED */
    CHECK(opg_registry_node_count(w.r) == nodes + 1);
    opg_node_info ni;
    opg_id n9 = id_n(9), n10 = id_n(10);
    CHECK_OK(opg_registry_node_get(&ni, w.r, &n9));
    CHECK_U256(ni.tokens, "1000000");
    CHECK_RC(opg_registry_node_get(&ni, w.r, &n10), OPG_ENOTFOUND);
    opg_supply_info su = supply_of(w.r);
    CHECK_U256(su.minted, "1000000");
    CHECK_OK(opg_registry_check(w.r));
    /* node 9 is still unbonded (no registry end_block since): a REMOVE takes its only
     * stake, and an unbonded node without shares leaves the registry */
    uint64_t rm;
    CHECK_OK(submit_remove(&rm, w.t, 9, T0 + VP));
    CHECK_OK(vote(w.t, rm, 1, OPG_VOTE_YES));
    CHECK(commits_agree(&w) == 0);
    CHECK_OK(opg_tally_end_block(w.t, 11, T0 + 2 * VP));
    cl = opg_tally_closed_list(w.t, &n);
    CHECK(n == 1 && cl[0].outcome == OPG_TALLY_PASSED);
    CHECK_RC(opg_registry_node_get(&ni, w.r, &n9), OPG_ENOTFOUND);
    size_t ne;
    const opg_event *ev = opg_registry_events(w.r, &ne);
    CHECK(ne >= 1 && ev[ne - 1].kind == OPG_EVENT_NODE_REMOVED && opg_id_cmp(&ev[ne - 1].node, &n9) == 0);
    CHECK(commits_agree(&w) == 0); /* (a commit starts a new event list) */
    su = supply_of(w.r);
    CHECK_U256(su.minted, "1000000");
    CHECK_U256(su.burned, "1000000");
    CHECK_OK(opg_registry_check(w.r));
    CHECK_OK(opg_splitter_check(w.s));
    world_free(&w);
}

/* Close order with parameter changes: min_commission_rate 0.1 passed by a proposal
 * closing before an ADD with rate 0.05 fails it (ECOMMISSION: the staged value);
 * closing after it, the ADD passes (Cosmos applies proposals in order). A tombstoned
 * key and a bad shape are refused too. */
static void test_close_order(void)
{
    world w;
    CHECK_OK(world_new(&w, NULL));
    opg_node_create c9 = node_of(9, "1000000"), c10 = node_of(10, "1000000");
    uint64_t p1, a1, a2, p2;
    CHECK_OK(submit_param(&p1, w.t, "staking.min_commission_rate", "0.1", T0));
    CHECK_OK(submit_add(&a1, w.t, &c9, T0));
    CHECK_OK(vote(w.t, p1, 1, OPG_VOTE_YES));
    CHECK_OK(vote(w.t, a1, 1, OPG_VOTE_YES));
    CHECK_OK(opg_tally_end_block(w.t, 10, T0 + VP));
    size_t n;
    const opg_tally_closed *cl = opg_tally_closed_list(w.t, &n);
    CHECK(n == 2 && cl[0].outcome == OPG_TALLY_PASSED && cl[1].outcome == OPG_TALLY_FAILED &&
          cl[1].failed_code == OPG_ECOMMISSION);
    /* the other way round: an ADD with rate 0.1 (the minimum now), then 0.2 */
    c10.commission_rate = dec_of("0.1");
    CHECK_OK(submit_add(&a2, w.t, &c10, T0 + VP));
    CHECK_OK(submit_param(&p2, w.t, "staking.min_commission_rate", "0.2", T0 + VP));
    CHECK_OK(vote(w.t, a2, 1, OPG_VOTE_YES));
    CHECK_OK(vote(w.t, p2, 1, OPG_VOTE_YES));
    CHECK_OK(opg_tally_end_block(w.t, 11, T0 + 2 * VP));
    cl = opg_tally_closed_list(w.t, &n);
    CHECK(n == 2 && cl[0].outcome == OPG_TALLY_PASSED && cl[1].outcome == OPG_TALLY_PASSED);
    opg_node_info ni;
    opg_id n10 = id_n(10);
    CHECK_OK(opg_registry_node_get(&ni, w.r, &n10));
    CHECK_DEC(ni.commission_rate, "0.1"); /* below the new minimum: made before it */

    /* submit: shapes */
    uint64_t x;
    opg_proposal_submit s;
    memset(&s, 0, sizeof s);
    s.kind = OPG_PROPOSAL_ADD_VALIDATOR;
    CHECK_RC(opg_tally_submit(&x, w.t, &s, T0), OPG_EINVAL); /* no validator */
    s.kind = OPG_PROPOSAL_REMOVE_VALIDATOR;
    CHECK_RC(opg_tally_submit(&x, w.t, &s, T0), OPG_EINVAL); /* no operator */
    opg_node_create bad = node_of(11, "1000000");
    bad.roles = 0;
    CHECK_RC(submit_add(&x, w.t, &bad, T0), OPG_EINVAL);
    bad = node_of(11, "1000000");
    memset(&bad.consensus_key, 0, sizeof bad.consensus_key);
    CHECK_RC(submit_add(&x, w.t, &bad, T0), OPG_EINVAL);
    bad = node_of(11, "0");
    CHECK_RC(submit_add(&x, w.t, &bad, T0), OPG_EINVAL);
    bad = node_of(11, "1000000");
    bad.commission_rate = dec_of("0.3");
    CHECK_RC(submit_add(&x, w.t, &bad, T0), OPG_EINVAL);
    s.kind = (opg_proposal_kind)5;
    CHECK_RC(opg_tally_submit(&x, w.t, &s, T0), OPG_EINVAL);
    opg_id n1 = id_n(1);
    memset(&s, 0, sizeof s);
    s.kind = OPG_PROPOSAL_REMOVE_VALIDATOR;
    s.operator_id = &n1;
    s.payload_len = 1;
    s.payload = (const uint8_t *)"x";
    CHECK_RC(opg_tally_submit(&x, w.t, &s, T0), OPG_EINVAL);
    /* a text proposal is no action */
    CHECK_OK(submit_text(&x, w.t, T0 + 2 * VP));
    opg_proposal_action act;
    CHECK_RC(opg_tally_proposal_action(&act, w.t, x), OPG_EINVAL);
    CHECK_RC(opg_tally_proposal_action(&act, w.t, 999), OPG_ENOTFOUND);

    /* tombstoned key: never again, even by governance */
    opg_id n9 = id_n(9);
    CHECK_OK(opg_registry_tombstone(w.r, &n1));
    opg_node_create again = node_of(12, "1000000");
    again.consensus_key = cons_key_n(5001); /* node 1's */
    CHECK_OK(submit_add(&x, w.t, &again, T0 + 2 * VP));
    CHECK_OK(vote(w.t, x, 2, OPG_VOTE_YES));
    CHECK_OK(opg_tally_end_block(w.t, 12, T0 + 3 * VP));
    cl = opg_tally_closed_list(w.t, &n);
    CHECK(n == 2 && cl[1].outcome == OPG_TALLY_FAILED && cl[1].failed_code == OPG_ETOMBSTONED);
    (void)n9;
    world_free(&w);
}

/*
 * A REMOVE changes the stake the tallies after it in the same end_block read. Node 2
 * (450e6 bonded: 400e6 self, 50e6 of account 100) alone votes yes on a text
 * proposal T: alone, 450/1050 = 0.43 >= 0.334 and yes 1: PASSED. With a REMOVE of
 * node 2 closing before T (voted by node 1), node 2 is jailed for T's tally (out of
 * the voting set) and the bonded total is 1050 - 400 = 650e6: T has no voting
 * power, quorum 0 < 0.334: REJECTED.
 */
static void test_remove_seen_by_later_tally(void)
{
    world w;
    CHECK_OK(world_new(&w, NULL));
    uint64_t t1;
    CHECK_OK(submit_text(&t1, w.t, T0));
    CHECK_OK(vote(w.t, t1, 2, OPG_VOTE_YES));
    opg_tally_preview_result pv;
    CHECK_OK(opg_tally_preview(&pv, w.t, t1));
    CHECK(pv.outcome == OPG_TALLY_PASSED);
    world_free(&w);

    CHECK_OK(world_new(&w, NULL));
    uint64_t rm, t2;
    CHECK_OK(submit_remove(&rm, w.t, 2, T0));
    CHECK_OK(submit_text(&t2, w.t, T0));
    CHECK_OK(vote(w.t, rm, 1, OPG_VOTE_YES));
    CHECK_OK(vote(w.t, t2, 2, OPG_VOTE_YES));
    CHECK_OK(opg_tally_end_block(w.t, 10, T0 + VP));
    size_t n;
    const opg_tally_closed *cl = opg_tally_closed_list(w.t, &n);
    CHECK(n == 2 && cl[0].outcome == OPG_TALLY_PASSED && cl[1].outcome == OPG_TALLY_REJECTED);
    CHECK_U256(cl[1].counts.yes, "0");
    world_free(&w);
}

/* A plain one-option vote with conviction c (gov.conviction_voting on). */
static int cvote(opg_tally *t, uint64_t id, unsigned who, opg_vote_option o, unsigned c)
{
    opg_id v = id_n(who);
    opg_weighted_vote wv;
    wv.option = o;
    opg_dec_from_u64(&wv.weight, 1);
    return opg_tally_vote_conviction(t, id, &v, &wv, 1, c, T0);
}

static opg_time lock_of(const opg_tally *t, unsigned who)
{
    opg_id a = id_n(who);
    opg_time until = -1;
    return opg_tally_lock_get(&until, t, &a) == OPG_OK ? until : -1;
}

/*
 * Governance actions with conviction voting on (the merge of both): node 1 votes yes
 * on REMOVE 2 with conviction 6 (600e6 * 6 = 3600e6; turnout 600/1050 >= 0.334:
 * PASSED); on a text proposal T node 2 votes yes with conviction 2 (its own 400e6 at
 * 2x = 800e6, account 100's inherited 50e6 at 0.1x = 5e6: yes 805e6) and node 1 no
 * with conviction 0 (600e6 * 0.1 = 60e6). Alone T passes (805 / 865). Closing after
 * the REMOVE, T's tally reads node 2 out of the set and the bonded total 650e6: yes 0,
 * no 60e6, turnout 600/650: REJECTED. Node 2's own lock (voting end + 2 periods) does
 * not stop governance taking its self-stake: the REMOVE is not the account's
 * undelegation. The saved form (format 2: action data, convictions, locks) round-trips
 * and the loaded tally closes alike.
 */
static void test_actions_with_conviction(void)
{
    world w;
    CHECK_OK(world_new(&w, NULL));
    CHECK_OK(opg_tally_param_set(w.t, "gov.conviction_voting", "true"));
    uint64_t rm, t2;
    CHECK_OK(submit_remove(&rm, w.t, 2, T0));
    CHECK_OK(submit_text(&t2, w.t, T0));
    CHECK_OK(cvote(w.t, rm, 1, OPG_VOTE_YES, 6));
    CHECK_OK(cvote(w.t, t2, 2, OPG_VOTE_YES, 2));
    CHECK_OK(cvote(w.t, t2, 1, OPG_VOTE_NO, 0));
    CHECK(lock_of(w.t, 1) == T0 + VP + 32 * 604800);
    CHECK(lock_of(w.t, 2) == T0 + VP + 2 * 604800);
    opg_tally_preview_result pv;
    CHECK_OK(opg_tally_preview(&pv, w.t, rm));
    CHECK(pv.outcome == OPG_TALLY_PASSED);
    CHECK_U256(pv.counts.yes, "3600000000");
    CHECK_OK(opg_tally_preview(&pv, w.t, t2));
    CHECK(pv.outcome == OPG_TALLY_PASSED);
    CHECK_U256(pv.counts.yes, "805000000");
    CHECK_U256(pv.counts.no, "60000000");
    /* staking.poa refuses the locked operator's undelegation first */
    opg_id n2 = id_n(2);
    opg_u256 one = u64v(1);
    CHECK_RC(opg_registry_undelegate(NULL, NULL, w.r, &n2, &n2, &one, 2, T0 + 1), OPG_EPOA);

    /* the saved form carries both and loads back to the same bytes */
    size_t len = 0;
    CHECK_RC(opg_tally_save(NULL, 0, &len, w.t), OPG_EBUFS);
    uint8_t *buf = malloc(len), *buf2 = malloc(len);
    CHECK(buf && buf2);
    CHECK_OK(opg_tally_save(buf, len, &len, w.t));
    CHECK(buf[6] == 0 && buf[7] == 2); /* "OPGS", kind, 0, version u16: format 2 */
    opg_tally *u = NULL;
    CHECK_OK(opg_tally_load(&u, w.r, buf, len, NULL));
    size_t len2 = 0;
    CHECK_OK(opg_tally_save(buf2, len, &len2, u));
    CHECK(len2 == len && memcmp(buf, buf2, len) == 0);
    CHECK(lock_of(u, 1) == T0 + VP + 32 * 604800 && opg_tally_lock_count(u) == 2);
    unsigned c = 9;
    opg_id n1 = id_n(1);
    CHECK_OK(opg_tally_vote_conviction_get(&c, u, rm, &n1));
    CHECK(c == 6);
    opg_proposal_action act;
    CHECK_OK(opg_tally_proposal_action(&act, u, rm));
    CHECK(act.kind == OPG_PROPOSAL_REMOVE_VALIDATOR && opg_id_cmp(&act.operator_id, &n2) == 0);
    opg_tally_free(u);
    free(buf);
    free(buf2);

    CHECK_OK(opg_tally_end_block(w.t, 10, T0 + VP));
    size_t n;
    const opg_tally_closed *cl = opg_tally_closed_list(w.t, &n);
    CHECK(n == 2 && cl[0].proposal_id == rm && cl[0].outcome == OPG_TALLY_PASSED);
    CHECK_U256(cl[0].counts.yes, "3600000000");
    CHECK(cl[1].proposal_id == t2 && cl[1].outcome == OPG_TALLY_REJECTED);
    CHECK_U256(cl[1].counts.yes, "0");
    CHECK_U256(cl[1].counts.no, "60000000");
    /* the locks outlive the close; node 2's self-delegation is gone */
    CHECK(lock_of(w.t, 2) == T0 + VP + 2 * 604800);
    CHECK(commits_agree(&w) == 0);
    world_free(&w);
}

/* --------------------------------------------------------------- saved state */

static void test_save_load(void)
{
    world w;
    CHECK_OK(world_new(&w, NULL));
    opg_node_create c9 = node_of(9, "1000000");
    uint64_t a, b;
    CHECK_OK(submit_add(&a, w.t, &c9, T0));
    CHECK_OK(submit_remove(&b, w.t, 2, T0 + 1));
    CHECK_OK(vote(w.t, a, 1, OPG_VOTE_YES));
    size_t len = 0;
    CHECK_RC(opg_tally_save(NULL, 0, &len, w.t), OPG_EBUFS);
    uint8_t *buf = malloc(len), *buf2 = malloc(len);
    CHECK_OK(opg_tally_save(buf, len, &len, w.t));
    opg_tally *u = NULL;
    CHECK_OK(opg_tally_load(&u, w.r, buf, len, NULL));
    size_t len2 = 0;
    CHECK_OK(opg_tally_save(buf2, len, &len2, u));
    CHECK(len2 == len && memcmp(buf, buf2, len) == 0);
    uint8_t h0[32], h1[32];
    CHECK_OK(opg_tally_state_hash(h0, w.t));
    CHECK_OK(opg_tally_state_hash(h1, u));
    CHECK(memcmp(h0, h1, 32) == 0);
    opg_proposal_action act;
    CHECK_OK(opg_tally_proposal_action(&act, u, a));
    CHECK(memcmp(&act.validator, &c9, sizeof c9) == 0);
    CHECK_OK(opg_tally_proposal_action(&act, u, b));
    opg_id n2 = id_n(2);
    CHECK(opg_id_cmp(&act.operator_id, &n2) == 0);
    /* the saved action data is checked: every single-byte change either loads a
     * tally that saves back to those bytes, or is refused */
    for (size_t i = 0; i < len; i++) {
        memcpy(buf2, buf, len);
        buf2[i] ^= 0x40;
        opg_tally *v = NULL;
        int rc = opg_tally_load(&v, w.r, buf2, len, NULL);
        if (rc == OPG_OK) {
            uint8_t *buf3 = malloc(len);
            size_t l3 = 0;
            CHECK_OK(opg_tally_save(buf3, len, &l3, v));
            CHECK(l3 == len && memcmp(buf3, buf2, len) == 0);
            free(buf3);
            opg_tally_free(v);
        } else {
            CHECK(rc == OPG_ECORRUPT || rc == OPG_EVERSION);
        }
    }
    /* the same proposals close alike on both */
    CHECK_OK(opg_tally_end_block(u, 10, T0 + VP));
    size_t n;
    const opg_tally_closed *cl = opg_tally_closed_list(u, &n);
    CHECK(n == 1 && cl[0].outcome == OPG_TALLY_PASSED);
    free(buf);
    free(buf2);
    opg_tally_free(u);
    world_free(&w);
}

/* ------------------------------------------------------- allocation failures */

/* The proposals of one end_block: PARAMS (min_commission_rate 0.01), ADD 9, REMOVE 2,
 * ADD 10, a text; all voted yes by node 1; they close together. */
static int world_proposals(world *w)
{
    opg_node_create c9 = node_of(9, "3000000"), c10 = node_of(10, "4000000");
    uint64_t id[5];
    int rc;
    if ((rc = submit_param(&id[0], w->t, "staking.min_commission_rate", "0.01", T0)) ||
        (rc = submit_add(&id[1], w->t, &c9, T0)) || (rc = submit_remove(&id[2], w->t, 2, T0)) ||
        (rc = submit_add(&id[3], w->t, &c10, T0)) || (rc = submit_text(&id[4], w->t, T0)))
        return rc;
    for (int i = 0; i < 5; i++)
        if ((rc = vote(w->t, id[i], 1, OPG_VOTE_YES)))
            return rc;
    /* rewards for the removed delegation to pay */
    opg_u256 fee = u64v(1000000);
    opg_id n2 = id_n(2);
    if ((rc = opg_splitter_add_fees(w->s, &fee)) || (rc = opg_splitter_allocate_to_node(w->s, &n2, &fee)))
        return rc;
    return OPG_OK;
}

static void test_alloc_failures(void)
{
    failalloc fa;
    failalloc_init(&fa, 0);
    opg_allocator a = failalloc_allocator(&fa);
    uint8_t want[128];
    world w;
    CHECK_OK(world_new(&w, &a));
    CHECK_OK(world_proposals(&w));
    unsigned long start = fa.calls;
    CHECK_OK(opg_tally_end_block(w.t, 10, T0 + VP));
    unsigned long used = fa.calls - start;
    size_t n;
    const opg_tally_closed *cl = opg_tally_closed_list(w.t, &n);
    CHECK(n == 5);
    for (size_t i = 0; i < 5; i++)
        CHECK(cl[i].outcome == OPG_TALLY_PASSED);
    world_hash(want, &w);
    CHECK(commits_agree(&w) == 0);
    world_free(&w);
    CHECK(fa.live_bytes == 0 && fa.live_blocks == 0);
    CHECK(used > 5);
    unsigned long failures = 0;
    for (unsigned long k = 1; k <= used + 3; k++) {
        failalloc_init(&fa, 0);
        CHECK_OK(world_new(&w, &a));
        CHECK_OK(world_proposals(&w));
        uint8_t h0[128], h1[128];
        world_hash(h0, &w);
        fa.fail_at = fa.calls + k;
        int rc = opg_tally_end_block(w.t, 10, T0 + VP);
        fa.fail_at = 0;
        if (rc == OPG_ENOMEM) {
            failures++;
            world_hash(h1, &w);
            CHECK(memcmp(h0, h1, 128) == 0);
            opg_tally_closed_list(w.t, &n);
            CHECK(n == 0);
            CHECK_OK(opg_tally_end_block(w.t, 10, T0 + VP));
        } else {
            CHECK_OK(rc);
        }
        world_hash(h1, &w);
        CHECK(memcmp(want, h1, 128) == 0);
        CHECK_OK(opg_registry_check(w.r));
        world_free(&w);
        CHECK(fa.live_bytes == 0 && fa.live_blocks == 0);
    }
    CHECK(failures > 5);
    printf("  allocation failures handled: %lu of %lu allocations\n", failures, used);
}

/* A signed_blocks_window change passed with an action in the same end_block: the
 * action may grow the slasher (an ADD past its slots) or touch its records (a REMOVE
 * that removes a node), and the window's restart must be sized after it and its
 * records room added on top. */
static int pass_both(opg_tally *t, opg_registry *r, const opg_proposal_submit *action,
                     opg_time now)
{
    uint64_t a, b;
    opg_param_change ch = {"slashing.signed_blocks_window", "400"};
    opg_proposal_submit sb;
    memset(&sb, 0, sizeof sb);
    sb.proposer = id_n(1);
    sb.kind = OPG_PROPOSAL_PARAMS;
    sb.initial_deposit = u256_of("10000000");
    sb.changes = &ch;
    sb.change_count = 1;
    opg_id v = id_n(1);
    int rc = opg_tally_submit(&a, t, &sb, now);
    rc |= opg_tally_submit(&b, t, action, now);
    rc |= opg_tally_vote_option(t, a, &v, OPG_VOTE_YES);
    rc |= opg_tally_vote_option(t, b, &v, OPG_VOTE_YES);
    rc |= opg_tally_end_block(t, 5, now + VP);
    size_t n;
    const opg_tally_closed *cl = opg_tally_closed_list(t, &n);
    (void)r;
    return rc || n != 2 || cl[0].outcome != OPG_TALLY_PASSED || cl[1].outcome != OPG_TALLY_PASSED;
}

static void test_actions_with_window_change(void)
{
    /* an ADD into slot 16, past the 16 slots the slasher has */
    opg_registry *r;
    opg_slasher *s;
    opg_tally *t;
    opg_u256 g = u256_of(G);
    CHECK_OK(opg_registry_new(&r, NULL, &g, NULL));
    CHECK_OK(opg_slasher_new(&s, r, NULL, NULL));
    CHECK_OK(opg_tally_new(&t, r, NULL, NULL));
    CHECK_OK(opg_tally_attach_slasher(t, s));
    for (unsigned i = 1; i <= 16; i++) {
        opg_node_create c = node_of(i, i == 1 ? "1000000000" : "1000000");
        CHECK_OK(opg_registry_node_create(r, &c, 1, T0));
    }
    CHECK_OK(opg_registry_end_block(r, 1, T0));
    opg_node_create add = node_of(40, "5000000");
    opg_proposal_submit sb;
    memset(&sb, 0, sizeof sb);
    sb.proposer = id_n(1);
    sb.kind = OPG_PROPOSAL_ADD_VALIDATOR;
    sb.initial_deposit = u256_of("10000000");
    sb.validator = &add;
    CHECK(pass_both(t, r, &sb, T0) == 0);
    char wb[32];
    CHECK_OK(opg_slasher_param_get(wb, sizeof wb, NULL, s, "slashing.signed_blocks_window"));
    CHECK(strcmp(wb, "400") == 0);
    CHECK_OK(opg_slasher_check(s));
    CHECK_OK(opg_registry_end_block(r, 6, T0 + VP + 1));
    /* 300 blocks of the new window: node 1 signs, node 2 misses (the bitmaps hold
     * 400 bits per node; past them a write would corrupt the next node's) */
    opg_commit_sig e[2];
    memset(e, 0, sizeof e);
    e[0].consensus_key = cons_key_n(5001);
    e[0].power = 1000;
    e[0].signed_block = 1;
    e[1].consensus_key = cons_key_n(5002);
    e[1].power = 1;
    int rc = OPG_OK;
    for (uint64_t h = 7; h < 7 + 300 && rc == OPG_OK; h++)
        rc = opg_slasher_record_commit(s, e, 2, h, T0 + VP + 1 + (opg_time)h);
    CHECK_OK(rc);
    CHECK_OK(opg_slasher_check(s));
    opg_tally_free(t);
    opg_slasher_free(s);
    opg_registry_free(r);

    /* a REMOVE that removes an unbonded node, with the slasher's records tracking */
    opg_registry_params rp;
    opg_registry_params_init(&rp);
    rp.unbonding_time = 10;
    CHECK_OK(opg_registry_new(&r, &rp, &g, NULL));
    CHECK_OK(opg_slasher_new(&s, r, NULL, NULL));
    CHECK_OK(opg_tally_new(&t, r, NULL, NULL));
    CHECK_OK(opg_tally_attach_slasher(t, s));
    for (unsigned i = 1; i <= 3; i++) {
        opg_node_create c = node_of(i, i == 1 ? "1000000000" : "1000000");
        CHECK_OK(opg_registry_node_create(r, &c, 1, T0));
    }
    CHECK_OK(opg_registry_end_block(r, 1, T0));
    CHECK_OK(opg_registry_param_set(r, "staking.max_validators", "1"));
    CHECK_OK(opg_registry_end_block(r, 2, T0 + 1));
    CHECK_OK(opg_registry_end_block(r, 3, T0 + 100)); /* nodes 2, 3 unbonded */
    uint8_t root[32], scratch_root[32];
    const opg_record *ch;
    size_t nch;
    CHECK_OK(opg_slasher_commit(root, &ch, &nch, s));
    CHECK_OK(opg_registry_commit(root, &ch, &nch, r));
    opg_id n2 = id_n(2);
    memset(&sb, 0, sizeof sb);
    sb.proposer = id_n(1);
    sb.kind = OPG_PROPOSAL_REMOVE_VALIDATOR;
    sb.initial_deposit = u256_of("10000000");
    sb.operator_id = &n2;
    CHECK(pass_both(t, r, &sb, T0 + 100) == 0);
    opg_node_info ni;
    CHECK_RC(opg_registry_node_get(&ni, r, &n2), OPG_ENOTFOUND); /* removed */
    CHECK_OK(opg_slasher_root_from_scratch(scratch_root, s));
    CHECK_OK(opg_slasher_commit(root, &ch, &nch, s));
    CHECK(memcmp(scratch_root, root, 32) == 0);
    CHECK_OK(opg_slasher_check(s));
    opg_tally_free(t);
    opg_slasher_free(s);
    opg_registry_free(r);
}

int main(void)
{
    RUN(test_stake_moves_refused);
    RUN(test_hyper_refused);
    RUN(test_add_validator);
    RUN(test_remove_validator);
    RUN(test_leave_poa);
    RUN(test_failed_adds);
    RUN(test_close_order);
    RUN(test_remove_seen_by_later_tally);
    RUN(test_actions_with_conviction);
    RUN(test_save_load);
    RUN(test_alloc_failures);
    RUN(test_actions_with_window_change);
    return harness_done();
}
