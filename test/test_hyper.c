/*
 * test_hyper.c - Hyperstaking (SEMANTICS §7): splits and targets worked out by hand,
 * jailing, refused moves, compounding, conservation over random sequences, saved
 * state, failed calls and allocation failures.
 */
#include "harness.h"
#include "failalloc.h"

/* A registry with power_reduction 1 (power = tokens), a splitter without community
 * tax or emission, a slashing engine (attached like on a chain, so hyper's
 * reservations are tested with every engine of main on the registry) and a hyper
 * handle: the hand arithmetic stays small. */
typedef struct world {
    opg_registry *r;
    opg_splitter *s;
    opg_slasher *sl;
    opg_hyper *h;
} world;

static int world_new(world *w, const opg_allocator *a)
{
    memset(w, 0, sizeof *w);
    opg_registry_params rp;
    opg_registry_params_init(&rp);
    opg_u256_from_u64(&rp.power_reduction, 1);
    rp.unbonding_time = 1000;
    opg_u256 supply = u64v(1000000000000);
    int rc = opg_registry_new(&w->r, &rp, &supply, a);
    if (rc)
        return rc;
    opg_splitter_params sp;
    opg_splitter_params_init(&sp);
    sp.community_tax = dec_of("0");
    sp.emission = OPG_EMISSION_NONE;
    if ((rc = opg_splitter_new(&w->s, w->r, &sp, a)) != OPG_OK) {
        opg_registry_free(w->r);
        return rc;
    }
    if ((rc = opg_slasher_new(&w->sl, w->r, NULL, a)) != OPG_OK) {
        opg_splitter_free(w->s);
        opg_registry_free(w->r);
        return rc;
    }
    if ((rc = opg_hyper_new(&w->h, w->r, w->s, NULL, a)) != OPG_OK) {
        opg_slasher_free(w->sl);
        opg_splitter_free(w->s);
        opg_registry_free(w->r);
    }
    return rc;
}

static void world_free(world *w)
{
    opg_hyper_free(w->h);
    opg_slasher_free(w->sl);
    opg_splitter_free(w->s);
    opg_registry_free(w->r);
}

static int add_node(world *w, unsigned n, const char *rate, uint64_t self)
{
    opg_node_create c;
    memset(&c, 0, sizeof c);
    c.operator_id = id_n(n);
    c.consensus_key = cons_key_n(1000 + n);
    c.roles = OPG_ROLE_ALL;
    c.commission_rate = dec_of(rate);
    c.commission_max_rate = dec_of("1");
    c.commission_max_change_rate = dec_of("0.1");
    c.min_self_delegation = u64v(1);
    c.self_delegation = u64v(self);
    return opg_registry_node_create(w->r, &c, 1, 10);
}

static opg_hyper_policy fixed_policy(const opg_hyper_weight *wts, size_t n, const char *cap, int compound,
                                     const char *threshold)
{
    opg_hyper_policy p;
    memset(&p, 0, sizeof p);
    p.kind = OPG_HYPER_FIXED;
    p.weights = wts;
    p.n_weights = n;
    p.cap = dec_of(cap);
    p.max_nodes = (uint32_t)(n > 0 ? n : 1);
    p.auto_compound = compound;
    p.rebalance_threshold = dec_of(threshold);
    return p;
}

static opg_hyper_policy perf_policy(const char *max_commission, const char *cap, uint32_t max_nodes,
                                    int compound, const char *threshold)
{
    opg_hyper_policy p;
    memset(&p, 0, sizeof p);
    p.kind = OPG_HYPER_PERFORMANCE;
    p.max_commission = dec_of(max_commission);
    p.cap = dec_of(cap);
    p.max_nodes = max_nodes;
    p.auto_compound = compound;
    p.rebalance_threshold = dec_of(threshold);
    return p;
}

/* Tokens of the delegation (delegator, node), "0" if there is none. */
static opg_u256 del_tokens(const world *w, const opg_id *delegator, unsigned node)
{
    opg_delegation_info di;
    opg_id op = id_n(node);
    if (opg_registry_delegation_get(&di, w->r, delegator, &op) != OPG_OK)
        return u64v(0);
    return di.tokens;
}

#define CHECK_DEL(w, pos, node, want)                      \
    do {                                                   \
        opg_u256 del_v_ = del_tokens((w), (pos), (node));  \
        CHECK_U256(del_v_, want);                          \
    } while (0)

typedef struct hashes {
    uint8_t r[32], s[32], h[32];
} hashes;

static void take_hashes(hashes *x, const world *w)
{
    opg_registry_state_hash(x->r, w->r);
    opg_splitter_state_hash(x->s, w->s);
    opg_hyper_state_hash(x->h, w->h);
}

static int same_hashes(const hashes *a, const hashes *b)
{
    return memcmp(a->r, b->r, 32) == 0 && memcmp(a->s, b->s, 32) == 0 && memcmp(a->h, b->h, 32) == 0;
}

static int is_zero_id(const opg_id *id)
{
    for (int i = 0; i < 32; i++)
        if (id->bytes[i])
            return 0;
    return 1;
}

/* ------------------------------------------------------------- by hand */

static void test_deposit_split_by_hand(void)
{
    world w;
    CHECK_OK(world_new(&w, NULL));
    for (unsigned i = 1; i <= 3; i++)
        CHECK_OK(add_node(&w, i, "0", 100));
    CHECK_OK(opg_registry_end_block(w.r, 1, 10));
    opg_id pos = id_n(500), owner = id_n(600);
    /* weights 1, 2, 2 -> quo_truncate by the sum 5: 0.2, 0.4, 0.4 */
    opg_hyper_weight wts[3] = {{id_n(3), dec_of("2")}, {id_n(1), dec_of("1")}, {id_n(2), dec_of("2")}};
    opg_hyper_policy pol = fixed_policy(wts, 3, "1", 0, "0.1");
    CHECK_OK(opg_hyper_position_create(w.h, &pos, &owner, &pol, 1));
    opg_hyper_weight t[4];
    size_t n;
    CHECK_OK(opg_hyper_targets(t, 4, &n, w.h, &pos));
    CHECK(n == 3 && opg_id_cmp(&t[0].node, &wts[1].node) == 0);
    CHECK_DEC(t[0].weight, "0.2");
    CHECK_DEC(t[1].weight, "0.4");
    CHECK_DEC(t[2].weight, "0.4");
    /* deposit 7: trunc(1.4) = 1, trunc(2.8) = 2, trunc(2.8) = 2, sum 5; the
     * remainder 2 goes to the largest weight, 0.4, a tie of nodes 2 and 3 broken
     * by the lower id: node 2 gets 4 */
    opg_u256 amt = u64v(7);
    CHECK_OK(opg_hyper_deposit(w.h, &pos, &amt, 2, 20));
    CHECK_DEL(&w, &pos, 1, "1");
    CHECK_DEL(&w, &pos, 2, "4");
    CHECK_DEL(&w, &pos, 3, "2");
    size_t nm;
    const opg_hyper_move *m = opg_hyper_moves(w.h, &nm);
    CHECK(nm == 3);
    for (size_t i = 0; i < 3; i++) {
        CHECK(m[i].kind == OPG_HYPER_DELEGATE && m[i].code == 0);
        CHECK(opg_id_cmp(&m[i].position, &pos) == 0 && opg_id_cmp(&m[i].owner, &owner) == 0);
        CHECK(is_zero_id(&m[i].src));
    }
    CHECK(opg_id_cmp(&m[1].dst, &wts[2].node) == 0);
    CHECK_U256(m[1].amount, "4");

    /* equal weights 1/3 = 0.333333333333333333: deposit 1000 -> trunc(333.33..) = 333
     * three times, remainder 1 to node 1 (all weights tie, lowest id) */
    opg_id pos2 = id_n(501);
    opg_hyper_weight eq[3] = {{id_n(1), dec_of("5")}, {id_n(2), dec_of("5")}, {id_n(3), dec_of("5")}};
    pol = fixed_policy(eq, 3, "1", 0, "0.1");
    CHECK_OK(opg_hyper_position_create(w.h, &pos2, &owner, &pol, 2));
    amt = u64v(1000);
    CHECK_OK(opg_hyper_deposit(w.h, &pos2, &amt, 3, 30));
    CHECK_DEL(&w, &pos2, 1, "334");
    CHECK_DEL(&w, &pos2, 2, "333");
    CHECK_DEL(&w, &pos2, 3, "333");
    opg_hyper_position_info pi;
    CHECK_OK(opg_hyper_position_get(&pi, w.h, &pos2));
    CHECK_U256(pi.deposited, "1000");
    CHECK_U256(pi.staked, "1000");
    CHECK(pi.n_delegations == 3 && pi.kind == OPG_HYPER_FIXED && pi.n_weights == 3);
    CHECK_OK(opg_registry_check(w.r));
    world_free(&w);
}

static void test_withdraw_split_by_hand(void)
{
    world w;
    CHECK_OK(world_new(&w, NULL));
    for (unsigned i = 1; i <= 3; i++)
        CHECK_OK(add_node(&w, i, "0", 100));
    CHECK_OK(opg_registry_end_block(w.r, 1, 10));
    opg_id pos = id_n(500), owner = id_n(600);
    opg_hyper_weight eq[3] = {{id_n(1), dec_of("1")}, {id_n(2), dec_of("1")}, {id_n(3), dec_of("1")}};
    opg_hyper_policy pol = fixed_policy(eq, 3, "1", 0, "0.1");
    CHECK_OK(opg_hyper_position_create(w.h, &pos, &owner, &pol, 1));
    opg_u256 amt = u64v(1000), got;
    CHECK_OK(opg_hyper_deposit(w.h, &pos, &amt, 2, 20)); /* 334, 333, 333 as above */
    /* withdraw 100 of 1000: trunc(100 * 334 / 1000) = 33, trunc(33.3) = 33, 33;
     * remainder 1 to the largest delegation, node 1: 34, 33, 33 */
    amt = u64v(100);
    CHECK_OK(opg_hyper_withdraw(&got, w.h, &pos, &amt, 3, 30));
    CHECK_U256(got, "100");
    CHECK_DEL(&w, &pos, 1, "300");
    CHECK_DEL(&w, &pos, 2, "300");
    CHECK_DEL(&w, &pos, 3, "300");
    size_t nm;
    const opg_hyper_move *m = opg_hyper_moves(w.h, &nm);
    CHECK(nm == 3 && m[0].kind == OPG_HYPER_UNDELEGATE);
    CHECK(opg_id_cmp(&m[0].src, &eq[0].node) == 0 && is_zero_id(&m[0].dst));
    CHECK_U256(m[0].amount, "34");
    CHECK(m[0].completion == 30 + 1000);
    /* withdraw 899 of 900: trunc(899 * 300 / 900) = 299 each, remainder 2; the
     * largest delegations tie, so node 1 takes what it can (1), then node 2 (1) */
    amt = u64v(899);
    CHECK_OK(opg_hyper_withdraw(&got, w.h, &pos, &amt, 4, 40));
    CHECK_U256(got, "899");
    CHECK_DEL(&w, &pos, 1, "0");
    CHECK_DEL(&w, &pos, 2, "0");
    CHECK_DEL(&w, &pos, 3, "1");
    opg_unbonding_info ub[8];
    size_t nu;
    CHECK_OK(opg_registry_unbondings_of(ub, 8, &nu, w.r, &pos));
    CHECK(nu == 6);
    /* more than it holds, or zero: refused */
    amt = u64v(2);
    CHECK_RC(opg_hyper_withdraw(&got, w.h, &pos, &amt, 5, 50), OPG_EUNDERFLOW);
    amt = u64v(0);
    CHECK_RC(opg_hyper_withdraw(&got, w.h, &pos, &amt, 5, 50), OPG_EZERO);
    opg_hyper_position_info pi;
    CHECK_OK(opg_hyper_position_get(&pi, w.h, &pos));
    CHECK_U256(pi.withdrawn, "999");
    /* matured unbondings are paid by end_block to the position id */
    CHECK_OK(opg_registry_end_block(w.r, 6, 2000));
    size_t ne;
    const opg_event *ev = opg_registry_events(w.r, &ne);
    opg_u256 matured = u64v(0);
    for (size_t i = 0; i < ne; i++)
        if (ev[i].kind == OPG_EVENT_UNBONDING_MATURED && opg_id_cmp(&ev[i].account, &pos) == 0)
            opg_u256_add(&matured, &matured, &ev[i].amount);
    CHECK_U256(matured, "999");
    /* the last token out, then the empty position closes */
    CHECK_RC(opg_hyper_position_close(w.h, &pos), OPG_ESTATUS);
    amt = u64v(1);
    CHECK_OK(opg_hyper_withdraw(&got, w.h, &pos, &amt, 7, 2010));
    CHECK_RC(opg_hyper_position_close(w.h, &pos), OPG_ESTATUS); /* its entry is pending */
    CHECK_OK(opg_registry_end_block(w.r, 8, 4000));
    CHECK_OK(opg_hyper_position_close(w.h, &pos));
    CHECK(opg_hyper_position_count(w.h) == 0);
    world_free(&w);
}

/*
 * Performance policy by hand. Nodes (power = tokens), all bonded:
 *   A id 1: 1000 tokens, rate 0.10, score 1    -> 1000 * 1 * 0.90 = 900
 *   B id 2: 2000 tokens, rate 0.50             -> out: rate above max_commission 0.2
 *   C id 3:  500 tokens, rate 0,    score 0.5  ->  500 * 0.5 * 1  = 250
 *   D id 4: 3000 tokens, rate 0.30             -> out: rate above 0.2
 *   E id 5: 4000 tokens, rate 0.05, score 0.5  -> 4000 * 0.5 * 0.95 = 1900
 *   F id 6:  800 tokens, rate 0.20, score 1    ->  800 * 1 * 0.80 = 640 (rate = max: in)
 * max_nodes 3: E 1900, A 900, F 640 (C is fourth). Sum 3440:
 *   w_A = quo_truncate(900, 3440)  = 0.261627906976744186
 *   w_E = quo_truncate(1900, 3440) = 0.552325581395348837
 *   w_F = quo_truncate(640, 3440)  = 0.186046511627906976
 * cap 0.4: E -> 0.4, excess 0.152325581395348837 over U = w_A + w_F =
 * 0.447674418604651162: A += trunc(excess * w_A / U) = 0.089021443672606463 ->
 * 0.350649350649350649; F += 0.063303137721442373 -> 0.249350649350649349. No one
 * above 0.4: done (sum 0.999999999999999998).
 */
static void test_performance_targets_by_hand(void)
{
    world w;
    CHECK_OK(world_new(&w, NULL));
    CHECK_OK(add_node(&w, 1, "0.10", 1000));
    CHECK_OK(add_node(&w, 2, "0.50", 2000));
    CHECK_OK(add_node(&w, 3, "0", 500));
    CHECK_OK(add_node(&w, 4, "0.30", 3000));
    CHECK_OK(add_node(&w, 5, "0.05", 4000));
    CHECK_OK(add_node(&w, 6, "0.20", 800));
    CHECK_OK(opg_registry_end_block(w.r, 1, 10));
    opg_id pos = id_n(500), owner = id_n(600);
    opg_hyper_policy pol = perf_policy("0.2", "0.4", 3, 0, "0.01");
    CHECK_OK(opg_hyper_position_create(w.h, &pos, &owner, &pol, 1));
    /* scores by operator id, and one by consensus key (node 3's key is 1003) */
    opg_hyper_score sc[6] = {{id_n(1), dec_of("1")},   {id_n(2), dec_of("1")}, {cons_key_n(1003), dec_of("0.5")},
                             {id_n(4), dec_of("1")},   {id_n(5), dec_of("0.5")}, {id_n(6), dec_of("1")}};
    size_t done;
    CHECK_OK(opg_hyper_epoch(&done, w.h, sc, 6, 2, 20));
    CHECK(done == 1);
    opg_hyper_weight t[8];
    size_t n;
    CHECK_OK(opg_hyper_targets(t, 8, &n, w.h, &pos));
    CHECK(n == 3);
    opg_id a = id_n(1), e = id_n(5), f = id_n(6);
    CHECK(opg_id_cmp(&t[0].node, &a) == 0 && opg_id_cmp(&t[1].node, &e) == 0 && opg_id_cmp(&t[2].node, &f) == 0);
    CHECK_DEC(t[0].weight, "0.350649350649350649");
    CHECK_DEC(t[1].weight, "0.4");
    CHECK_DEC(t[2].weight, "0.249350649350649349");
    CHECK_RC(opg_hyper_targets(t, 2, &n, w.h, &pos), OPG_EBUFS);
    CHECK(n == 3);
    /* deposit 1,000,000: 350649, 400000, 249350, sum 999999; the remainder 1 goes
     * to the largest weight, E: 400001 (the cap holds up to the split remainder) */
    opg_u256 amt = u64v(1000000);
    CHECK_OK(opg_hyper_deposit(w.h, &pos, &amt, 3, 30));
    CHECK_DEL(&w, &pos, 1, "350649");
    CHECK_DEL(&w, &pos, 5, "400001");
    CHECK_DEL(&w, &pos, 6, "249350");
    CHECK_DEL(&w, &pos, 3, "0");

    /* cap 0.35 cascades: round 1 caps E, excess 0.202325581395348837 lifts A to
     * 0.379870129870129870 and F to 0.270129870129870128; round 2 caps A, excess
     * 0.029870129870129870 all to F: 0.299999999999999998. A and E tie at 0.35 */
    /* (the deposit moved the powers: a second world starts from the same nodes) */
    opg_id pos2 = id_n(501);
    pol = perf_policy("0.2", "0.35", 3, 0, "0.01");
    world w2;
    CHECK_OK(world_new(&w2, NULL));
    CHECK_OK(add_node(&w2, 1, "0.10", 1000));
    CHECK_OK(add_node(&w2, 2, "0.50", 2000));
    CHECK_OK(add_node(&w2, 3, "0", 500));
    CHECK_OK(add_node(&w2, 4, "0.30", 3000));
    CHECK_OK(add_node(&w2, 5, "0.05", 4000));
    CHECK_OK(add_node(&w2, 6, "0.20", 800));
    CHECK_OK(opg_registry_end_block(w2.r, 1, 10));
    CHECK_OK(opg_hyper_position_create(w2.h, &pos2, &owner, &pol, 1));
    CHECK_OK(opg_hyper_epoch(&done, w2.h, sc, 6, 2, 20));
    CHECK_OK(opg_hyper_targets(t, 8, &n, w2.h, &pos2));
    CHECK(n == 3);
    CHECK_DEC(t[0].weight, "0.35");
    CHECK_DEC(t[1].weight, "0.35");
    CHECK_DEC(t[2].weight, "0.299999999999999998");
    CHECK_OK(opg_hyper_deposit(w2.h, &pos2, &amt, 3, 30));
    CHECK_DEL(&w2, &pos2, 1, "350001"); /* the tie: the lower id takes the 1 */
    CHECK_DEL(&w2, &pos2, 5, "350000");
    CHECK_DEL(&w2, &pos2, 6, "299999");
    /* max_commission 0 leaves only C: one node, weight 1 */
    opg_id pos3 = id_n(502);
    pol = perf_policy("0", "0.5", 3, 0, "0.01");
    CHECK_OK(opg_hyper_position_create(w2.h, &pos3, &owner, &pol, 3));
    CHECK_OK(opg_hyper_targets(t, 8, &n, w2.h, &pos3));
    CHECK(n == 1 && t[0].node.bytes[31] == 3);
    CHECK_DEC(t[0].weight, "1"); /* cap 0.5 < 1/1: raised to 1/n */
    world_free(&w2);
    world_free(&w);
}

/* Cap with fewer nodes than 1/cap: equal weights. Two nodes, cap 0.25: the cap is
 * raised to quo_truncate(1, 2) = 0.5 */
static void test_cap_below_one_over_n(void)
{
    world w;
    CHECK_OK(world_new(&w, NULL));
    CHECK_OK(add_node(&w, 1, "0", 100));
    CHECK_OK(add_node(&w, 2, "0", 300));
    CHECK_OK(opg_registry_end_block(w.r, 1, 10));
    opg_id pos = id_n(500), owner = id_n(600);
    opg_hyper_policy pol = perf_policy("1", "0.25", 5, 0, "0.01");
    CHECK_OK(opg_hyper_position_create(w.h, &pos, &owner, &pol, 1));
    opg_hyper_weight t[4];
    size_t n;
    CHECK_OK(opg_hyper_targets(t, 4, &n, w.h, &pos)); /* before any epoch: scores 1 */
    CHECK(n == 2);
    CHECK_DEC(t[0].weight, "0.5");
    CHECK_DEC(t[1].weight, "0.5");
    /* three nodes of powers 100, 300, 600 and cap 0.4: 0.1, 0.3, 0.6 -> 0.6 capped,
     * excess 0.2 over 0.4: +0.05 and +0.15 -> 0.15, 0.45 -> 0.45 capped, excess 0.05
     * all to the first: 0.2, 0.4, 0.4 */
    CHECK_OK(add_node(&w, 3, "0", 600));
    CHECK_OK(opg_registry_end_block(w.r, 2, 20));
    pol = perf_policy("1", "0.4", 5, 0, "0.01");
    CHECK_OK(opg_hyper_position_set_policy(w.h, &pos, &pol));
    CHECK_OK(opg_hyper_targets(t, 4, &n, w.h, &pos));
    CHECK(n == 3);
    CHECK_DEC(t[0].weight, "0.2");
    CHECK_DEC(t[1].weight, "0.4");
    CHECK_DEC(t[2].weight, "0.4");
    world_free(&w);
}

/* A node jailed in this block is out of the targets at once (the jailed flag is read
 * directly although the node stays bonded until end_block), a deposit avoids it, and
 * the next epoch moves the position away from it. */
static void test_jailed_node_rebalanced_away(void)
{
    world w;
    CHECK_OK(world_new(&w, NULL));
    for (unsigned i = 1; i <= 3; i++)
        CHECK_OK(add_node(&w, i, "0", 1000));
    CHECK_OK(opg_registry_end_block(w.r, 1, 10));
    opg_id pos = id_n(500), owner = id_n(600), n1 = id_n(1), n2 = id_n(2), n3 = id_n(3);
    opg_hyper_policy pol = perf_policy("1", "1", 3, 0, "0.05");
    CHECK_OK(opg_hyper_position_create(w.h, &pos, &owner, &pol, 1));
    /* equal powers: 1/3 each; deposit 3000 -> 999 each, remainder 3 to node 1 */
    opg_u256 amt = u64v(3000);
    CHECK_OK(opg_hyper_deposit(w.h, &pos, &amt, 2, 20));
    CHECK_DEL(&w, &pos, 1, "1002");
    CHECK_DEL(&w, &pos, 2, "999");
    CHECK_DEL(&w, &pos, 3, "999");
    /* within the threshold: an epoch moves nothing */
    size_t done, nm;
    CHECK_OK(opg_hyper_epoch(&done, w.h, NULL, 0, 3, 30));
    opg_hyper_moves(w.h, &nm);
    CHECK(done == 1 && nm == 0);

    CHECK_OK(opg_registry_jail(w.r, &n2, 1000));
    opg_node_info ni;
    CHECK_OK(opg_registry_node_get(&ni, w.r, &n2));
    CHECK(ni.status == OPG_NODE_BONDED && ni.jailed);
    opg_hyper_weight t[4];
    size_t n;
    CHECK_OK(opg_hyper_targets(t, 4, &n, w.h, &pos));
    CHECK(n == 2 && opg_id_cmp(&t[0].node, &n1) == 0 && opg_id_cmp(&t[1].node, &n3) == 0);
    /* scores are all 1 (no epoch passed any), so weights follow power: node 1 has
     * 1000 + 1002 tokens, node 3 1000 + 999: w1 = quo_truncate(2002, 4001) =
     * 0.500374906273431642, w3 = quo_truncate(1999, 4001) = 0.499625093726568357 */
    CHECK_DEC(t[0].weight, "0.500374906273431642");
    CHECK_DEC(t[1].weight, "0.499625093726568357");
    /* the epoch (same block, before end_block): tokens 1002, 999, 999 of T = 3000;
     * targets trunc(3000 w1) = 1501 and trunc(3000 w3) = 1498, the remainder 1 to
     * node 1: 1502, 1498. Node 2's drift 0.333 > 0.05. Source node 2 (surplus 999);
     * sinks by deficit: node 1 (500), then node 3 (499) */
    CHECK_OK(opg_hyper_epoch(&done, w.h, NULL, 0, 3, 30));
    const opg_hyper_move *m = opg_hyper_moves(w.h, &nm);
    CHECK(nm == 2);
    CHECK(m[0].kind == OPG_HYPER_REDELEGATE && opg_id_cmp(&m[0].src, &n2) == 0 && opg_id_cmp(&m[0].dst, &n1) == 0);
    CHECK_U256(m[0].amount, "500");
    CHECK(m[0].completion == 30 + 1000);
    CHECK(m[1].kind == OPG_HYPER_REDELEGATE && opg_id_cmp(&m[1].dst, &n3) == 0);
    CHECK_U256(m[1].amount, "499");
    CHECK_DEL(&w, &pos, 1, "1502");
    CHECK_DEL(&w, &pos, 2, "0");
    CHECK_DEL(&w, &pos, 3, "1498");
    /* a deposit now avoids the jailed node */
    amt = u64v(10);
    CHECK_OK(opg_hyper_deposit(w.h, &pos, &amt, 4, 40));
    CHECK_DEL(&w, &pos, 2, "0");
    CHECK_OK(opg_registry_check(w.r));
    CHECK_OK(opg_splitter_check(w.s));
    world_free(&w);
}

/* Refusals are skipped and reported, never forced: max_entries 1 and transitive. */
static void test_refused_redelegation_skipped(void)
{
    world w;
    CHECK_OK(world_new(&w, NULL));
    CHECK_OK(opg_registry_param_set(w.r, "staking.max_entries", "1"));
    CHECK_OK(add_node(&w, 1, "0", 1000));
    CHECK_OK(add_node(&w, 2, "0", 1000));
    CHECK_OK(opg_registry_end_block(w.r, 1, 10));
    opg_id pos = id_n(500), owner = id_n(600), n1 = id_n(1), n2 = id_n(2);
    opg_hyper_weight wts[2] = {{n1, dec_of("1")}, {n2, dec_of("1")}};
    opg_hyper_policy pol = fixed_policy(wts, 2, "1", 0, "0.01");
    CHECK_OK(opg_hyper_position_create(w.h, &pos, &owner, &pol, 1));
    opg_u256 amt = u64v(1000);
    CHECK_OK(opg_hyper_deposit(w.h, &pos, &amt, 2, 20)); /* 500, 500 */
    /* 3:1 -> targets 750, 250: one move 2 -> 1 of 250 (the pair's one entry) */
    wts[0].weight = dec_of("3");
    pol = fixed_policy(wts, 2, "1", 0, "0.01");
    CHECK_OK(opg_hyper_position_set_policy(w.h, &pos, &pol));
    size_t done, nm;
    CHECK_OK(opg_hyper_epoch(&done, w.h, NULL, 0, 3, 30));
    const opg_hyper_move *m = opg_hyper_moves(w.h, &nm);
    CHECK(nm == 1 && m[0].kind == OPG_HYPER_REDELEGATE);
    CHECK_U256(m[0].amount, "250");
    /* 7:1 -> 875, 125: 2 -> 1 again, refused at max_entries; reported and skipped */
    wts[0].weight = dec_of("7");
    pol = fixed_policy(wts, 2, "1", 0, "0.01");
    CHECK_OK(opg_hyper_position_set_policy(w.h, &pos, &pol));
    CHECK_OK(opg_hyper_epoch(&done, w.h, NULL, 0, 4, 40));
    m = opg_hyper_moves(w.h, &nm);
    CHECK(done == 1 && nm == 1 && m[0].kind == OPG_HYPER_SKIPPED && m[0].code == OPG_EMAXENTRIES);
    CHECK(opg_id_cmp(&m[0].src, &n2) == 0 && opg_id_cmp(&m[0].dst, &n1) == 0);
    CHECK_U256(m[0].amount, "125");
    CHECK_DEL(&w, &pos, 1, "750"); /* nothing moved */
    opg_redelegation_info ri[4];
    size_t nr;
    CHECK_OK(opg_registry_redelegations_of(ri, 4, &nr, w.r, &pos));
    CHECK(nr == 1);
    /* 1:3 -> 250, 750: 1 -> 2 of 500, but a redelegation into node 1 is still
     * maturing: transitive, refused */
    wts[0].weight = dec_of("1");
    wts[1].weight = dec_of("3");
    pol = fixed_policy(wts, 2, "1", 0, "0.01");
    CHECK_OK(opg_hyper_position_set_policy(w.h, &pos, &pol));
    CHECK_OK(opg_hyper_epoch(&done, w.h, NULL, 0, 5, 50));
    m = opg_hyper_moves(w.h, &nm);
    CHECK(nm == 1 && m[0].kind == OPG_HYPER_SKIPPED && m[0].code == OPG_ETRANSITIVE);
    CHECK_U256(m[0].amount, "500");
    /* after the entry matures the same epoch moves */
    CHECK_OK(opg_registry_end_block(w.r, 6, 2000));
    CHECK_OK(opg_hyper_epoch(&done, w.h, NULL, 0, 7, 2010));
    m = opg_hyper_moves(w.h, &nm);
    CHECK(nm == 1 && m[0].kind == OPG_HYPER_REDELEGATE);
    CHECK_U256(m[0].amount, "500");
    CHECK_DEL(&w, &pos, 2, "750");
    world_free(&w);
}

/* Auto-compound raises the stake by exactly the rewards withdrawn; without it they
 * are paid to the owner. */
static void test_auto_compound(void)
{
    world w;
    CHECK_OK(world_new(&w, NULL));
    CHECK_OK(add_node(&w, 1, "0", 100));
    CHECK_OK(add_node(&w, 2, "0", 100));
    CHECK_OK(opg_registry_end_block(w.r, 1, 10));
    opg_id pos = id_n(500), plain = id_n(501), owner = id_n(600), n1 = id_n(1), n2 = id_n(2);
    opg_hyper_weight wts[2] = {{n1, dec_of("1")}, {n2, dec_of("1")}};
    opg_hyper_policy pol = fixed_policy(wts, 2, "1", 1, "0.1");
    CHECK_OK(opg_hyper_position_create(w.h, &pos, &owner, &pol, 1));
    pol.auto_compound = 0;
    CHECK_OK(opg_hyper_position_create(w.h, &plain, &owner, &pol, 1));
    opg_u256 amt = u64v(1000);
    CHECK_OK(opg_hyper_deposit(w.h, &pos, &amt, 2, 20));   /* 500, 500 */
    CHECK_OK(opg_hyper_deposit(w.h, &plain, &amt, 2, 20)); /* 500, 500 */
    /* node 1: 1100 tokens; 1100 allocated, rate 0: ratio 1 per token, so each
     * position earns 500 there. Node 2: 1100 tokens, 550 allocated: ratio 0.5, 250 */
    opg_u256 fees = u64v(1100);
    CHECK_OK(opg_splitter_allocate_to_node(w.s, &n1, &fees));
    fees = u64v(550);
    CHECK_OK(opg_splitter_allocate_to_node(w.s, &n2, &fees));
    opg_hyper_position_info before, after;
    CHECK_OK(opg_hyper_position_get(&before, w.h, &pos));
    size_t done, nm;
    CHECK_OK(opg_hyper_epoch(&done, w.h, NULL, 0, 3, 30));
    CHECK(done == 2);
    const opg_hyper_move *m = opg_hyper_moves(w.h, &nm);
    /* pos: 750 withdrawn, split 375 / 375 and delegated; plain: a payout of 750 */
    opg_u256 compounded = u64v(0), paid = u64v(0);
    for (size_t i = 0; i < nm; i++) {
        if (m[i].kind == OPG_HYPER_COMPOUND) {
            CHECK(opg_id_cmp(&m[i].position, &pos) == 0);
            CHECK_U256(m[i].amount, "375");
            opg_u256_add(&compounded, &compounded, &m[i].amount);
        } else {
            CHECK(m[i].kind == OPG_HYPER_PAYOUT && opg_id_cmp(&m[i].position, &plain) == 0);
            CHECK(opg_id_cmp(&m[i].dst, &owner) == 0);
            opg_u256_add(&paid, &paid, &m[i].amount);
        }
    }
    CHECK(nm == 3);
    CHECK_U256(compounded, "750");
    CHECK_U256(paid, "750");
    CHECK_OK(opg_hyper_position_get(&after, w.h, &pos));
    opg_u256 diff;
    CHECK_OK(opg_u256_sub(&diff, &after.staked, &before.staked));
    CHECK_U256(diff, "750"); /* exactly the rewards withdrawn */
    CHECK_U256(after.compounded, "750");
    CHECK_DEL(&w, &pos, 1, "875");
    CHECK_DEL(&w, &pos, 2, "875");
    CHECK_OK(opg_hyper_position_get(&after, w.h, &plain));
    CHECK_U256(after.paid_out, "750");
    CHECK_U256(after.staked, "1000");
    /* no registry event for the positions' own rewards */
    size_t ne;
    opg_hyper_events(w.h, &ne);
    CHECK(ne == 0);
    /* a deposit that settles rewards reports them as a payout */
    fees = u64v(1475); /* node 1 now has 100 + 875 + 500 = 1475 tokens */
    CHECK_OK(opg_splitter_allocate_to_node(w.s, &n1, &fees)); /* 1 per token */
    amt = u64v(10);
    CHECK_OK(opg_hyper_deposit(w.h, &plain, &amt, 4, 40));
    m = opg_hyper_moves(w.h, &nm);
    CHECK(nm == 3 && m[2].kind == OPG_HYPER_PAYOUT);
    CHECK_U256(m[2].amount, "500");
    CHECK_OK(opg_splitter_check(w.s));
    world_free(&w);
}

/* ------------------------------------------------------ failed calls */

static void test_failed_calls_change_nothing(void)
{
    world w;
    CHECK_OK(world_new(&w, NULL));
    CHECK_OK(add_node(&w, 1, "0", 100));
    CHECK_OK(add_node(&w, 2, "0.5", 100));
    CHECK_OK(opg_registry_end_block(w.r, 1, 10));
    opg_id pos = id_n(500), owner = id_n(600), n1 = id_n(1), n2 = id_n(2), ghost = id_n(99);
    opg_hyper_weight wts[2] = {{n1, dec_of("1")}, {n2, dec_of("1")}};
    opg_hyper_policy pol = fixed_policy(wts, 2, "1", 0, "0.1");
    CHECK_OK(opg_hyper_position_create(w.h, &pos, &owner, &pol, 1));
    opg_u256 amt = u64v(1000);
    CHECK_OK(opg_hyper_deposit(w.h, &pos, &amt, 2, 20));
    hashes a, b;
    take_hashes(&a, &w);
    size_t nm;
    /* bad policies */
    opg_hyper_weight dup[2] = {{n1, dec_of("1")}, {n1, dec_of("2")}};
    opg_hyper_weight missing[1] = {{ghost, dec_of("1")}};
    opg_hyper_weight zero[1] = {{n1, dec_of("0")}};
    opg_hyper_policy bad = fixed_policy(dup, 2, "1", 0, "0.1");
    opg_id pos2 = id_n(501);
    CHECK_RC(opg_hyper_position_create(w.h, &pos2, &owner, &bad, 1), OPG_EINVAL);
    bad = fixed_policy(missing, 1, "1", 0, "0.1");
    CHECK_RC(opg_hyper_position_create(w.h, &pos2, &owner, &bad, 1), OPG_ENOTFOUND);
    bad = fixed_policy(zero, 1, "1", 0, "0.1");
    CHECK_RC(opg_hyper_position_create(w.h, &pos2, &owner, &bad, 1), OPG_EINVAL);
    bad = fixed_policy(wts, 2, "0", 0, "0.1");
    CHECK_RC(opg_hyper_position_create(w.h, &pos2, &owner, &bad, 1), OPG_EINVAL);
    bad = fixed_policy(wts, 2, "1.1", 0, "0.1");
    CHECK_RC(opg_hyper_position_create(w.h, &pos2, &owner, &bad, 1), OPG_EINVAL);
    bad = fixed_policy(wts, 2, "1", 2, "0.1");
    CHECK_RC(opg_hyper_position_create(w.h, &pos2, &owner, &bad, 1), OPG_EINVAL);
    bad = fixed_policy(wts, 2, "1", 0, "1.5");
    CHECK_RC(opg_hyper_position_create(w.h, &pos2, &owner, &bad, 1), OPG_EINVAL);
    bad = fixed_policy(wts, 2, "1", 0, "0.1");
    bad.max_nodes = 1; /* lists more than max_nodes */
    CHECK_RC(opg_hyper_position_create(w.h, &pos2, &owner, &bad, 1), OPG_EINVAL);
    bad = perf_policy("0.1", "1", 33, 0, "0.1"); /* above hyper.max_nodes 32 */
    CHECK_RC(opg_hyper_position_create(w.h, &pos2, &owner, &bad, 1), OPG_EINVAL);
    bad = perf_policy("1.01", "1", 3, 0, "0.1");
    CHECK_RC(opg_hyper_position_create(w.h, &pos2, &owner, &bad, 1), OPG_EINVAL);
    bad = perf_policy("0.1", "1", 3, 0, "0.1");
    bad.kind = (opg_hyper_policy_kind)9;
    CHECK_RC(opg_hyper_position_create(w.h, &pos2, &owner, &bad, 1), OPG_EINVAL);
    CHECK_RC(opg_hyper_position_set_policy(w.h, &pos, &bad), OPG_EINVAL);
    /* ids in use: a position, a node operator, an account with stake */
    CHECK_RC(opg_hyper_position_create(w.h, &pos, &owner, &pol, 1), OPG_EEXISTS);
    CHECK_RC(opg_hyper_position_create(w.h, &n1, &owner, &pol, 1), OPG_EEXISTS);
    opg_id staker = id_n(700);
    opg_u256 small = u64v(5);
    CHECK_OK(opg_registry_delegate(NULL, w.r, &staker, &n1, &small, 2, 20));
    take_hashes(&a, &w);
    CHECK_RC(opg_hyper_position_create(w.h, &staker, &owner, &pol, 1), OPG_EEXISTS);
    /* an account whose only stake is an unbonding entry */
    opg_id leaver = id_n(701);
    CHECK_OK(opg_registry_delegate(NULL, w.r, &leaver, &n1, &small, 2, 20));
    CHECK_OK(opg_registry_undelegate(NULL, NULL, w.r, &leaver, &n1, &small, 2, 20));
    CHECK_RC(opg_hyper_position_create(w.h, &leaver, &owner, &pol, 1), OPG_EEXISTS);
    take_hashes(&a, &w);
    /* deposits and withdrawals that cannot be */
    CHECK_RC(opg_hyper_deposit(w.h, &ghost, &amt, 3, 30), OPG_ENOTFOUND);
    opg_u256 z = u64v(0);
    CHECK_RC(opg_hyper_deposit(w.h, &pos, &z, 3, 30), OPG_EZERO);
    opg_u256 huge;
    CHECK_OK(opg_u256_from_string(&huge, "115792089237316195423570985008687907853269984665640564039457584007913129639935"));
    CHECK_RC(opg_hyper_deposit(w.h, &pos, &huge, 3, 30), OPG_EOVERFLOW);
    CHECK_RC(opg_hyper_withdraw(NULL, w.h, &pos, &huge, 3, 30), OPG_EUNDERFLOW);
    CHECK_RC(opg_hyper_withdraw(NULL, w.h, &ghost, &amt, 3, 30), OPG_ENOTFOUND);
    CHECK_RC(opg_hyper_position_close(w.h, &pos), OPG_ESTATUS);
    CHECK_RC(opg_hyper_position_close(w.h, &ghost), OPG_ENOTFOUND);
    /* epochs with bad scores */
    opg_hyper_score sc[2] = {{n1, dec_of("1.5")}, {n2, dec_of("0.5")}};
    CHECK_RC(opg_hyper_epoch(NULL, w.h, sc, 2, 3, 30), OPG_EINVAL);
    opg_hyper_score sc2[2] = {{n1, dec_of("0.5")}, {cons_key_n(1001), dec_of("0.5")}}; /* node 1 twice */
    CHECK_RC(opg_hyper_epoch(NULL, w.h, sc2, 2, 3, 30), OPG_EINVAL);
    opg_hyper_moves(w.h, &nm);
    CHECK(nm == 0);
    /* max_entries on one node's unbonding entries: the whole withdrawal is refused */
    CHECK_OK(opg_registry_param_set(w.r, "staking.max_entries", "1"));
    opg_u256 ten = u64v(10);
    CHECK_OK(opg_hyper_withdraw(NULL, w.h, &pos, &ten, 3, 30));
    take_hashes(&a, &w);
    CHECK_RC(opg_hyper_withdraw(NULL, w.h, &pos, &ten, 4, 40), OPG_EMAXENTRIES);
    take_hashes(&b, &w);
    CHECK(same_hashes(&a, &b));
    /* a FIXED position whose nodes are all jailed has no target */
    CHECK_OK(opg_registry_jail(w.r, &n1, 1000));
    CHECK_OK(opg_registry_jail(w.r, &n2, 1000));
    take_hashes(&a, &w);
    CHECK_RC(opg_hyper_deposit(w.h, &pos, &amt, 4, 40), OPG_ENOTFOUND);
    take_hashes(&b, &w);
    CHECK(same_hashes(&a, &b));
    /* an epoch leaves a position without targets where it is */
    size_t done;
    CHECK_OK(opg_hyper_epoch(&done, w.h, NULL, 0, 4, 40));
    opg_hyper_moves(w.h, &nm);
    CHECK(done == 1 && nm == 0);
    /* NULLs */
    CHECK_RC(opg_hyper_deposit(NULL, &pos, &amt, 4, 40), OPG_EINVAL);
    CHECK_RC(opg_hyper_epoch(NULL, NULL, NULL, 0, 4, 40), OPG_EINVAL);
    CHECK(strcmp(opg_hyper_last_error(NULL), "") == 0);
    opg_hyper *h2;
    CHECK_RC(opg_hyper_new(&h2, w.r, NULL, NULL, NULL), OPG_EINVAL);
    world_free(&w);
}

static void test_params_and_owner_limit(void)
{
    world w;
    CHECK_OK(world_new(&w, NULL));
    CHECK_OK(add_node(&w, 1, "0", 100));
    char buf[32];
    size_t need;
    CHECK(strcmp(opg_hyper_param_key(0), "hyper.max_positions_per_owner") == 0);
    CHECK(strcmp(opg_hyper_param_key(1), "hyper.max_nodes") == 0);
    CHECK(strcmp(opg_hyper_param_key(2), "hyper.vault_decimals_offset") == 0);
    CHECK(strcmp(opg_hyper_param_key(3), "hyper.vault_node_cap") == 0);
    CHECK(opg_hyper_param_key(4) == NULL);
    CHECK_OK(opg_hyper_param_get(buf, sizeof buf, &need, w.h, "hyper.max_nodes"));
    CHECK(strcmp(buf, "32") == 0);
    CHECK_RC(opg_hyper_param_set(w.h, "hyper.max_nodes", "0"), OPG_EINVAL);
    CHECK_RC(opg_hyper_param_set(w.h, "hyper.max_nodes", "x"), OPG_EPARSE);
    CHECK_RC(opg_hyper_param_set(w.h, "hyper.nope", "1"), OPG_EKEY);
    CHECK_OK(opg_hyper_param_set(w.h, "hyper.max_positions_per_owner", "2"));
    opg_id owner = id_n(600);
    opg_hyper_policy pol = perf_policy("1", "1", 3, 0, "0");
    opg_id p1 = id_n(501), p2 = id_n(502), p3 = id_n(503);
    CHECK_OK(opg_hyper_position_create(w.h, &p2, &owner, &pol, 1));
    CHECK_OK(opg_hyper_position_create(w.h, &p1, &owner, &pol, 1));
    hashes a, b;
    take_hashes(&a, &w);
    CHECK_RC(opg_hyper_position_create(w.h, &p3, &owner, &pol, 1), OPG_ELIMIT);
    take_hashes(&b, &w);
    CHECK(same_hashes(&a, &b));
    opg_id other = id_n(601);
    CHECK_OK(opg_hyper_position_create(w.h, &p3, &other, &pol, 1));
    CHECK(opg_hyper_position_count(w.h) == 3);
    opg_id at;
    CHECK_OK(opg_hyper_position_at(&at, w.h, 0));
    CHECK(opg_id_cmp(&at, &p1) == 0); /* id order */
    CHECK_RC(opg_hyper_position_at(&at, w.h, 3), OPG_ENOTFOUND);
    CHECK_OK(opg_hyper_position_close(w.h, &p1));
    opg_id p4 = id_n(504);
    CHECK_OK(opg_hyper_position_create(w.h, &p4, &owner, &pol, 1)); /* room again */
    /* FIXED weights are kept in node id order */
    CHECK_OK(add_node(&w, 2, "0", 100));
    opg_hyper_weight wts[2] = {{id_n(2), dec_of("3")}, {id_n(1), dec_of("1")}}, got[2];
    pol = fixed_policy(wts, 2, "1", 1, "0.2");
    CHECK_OK(opg_hyper_position_set_policy(w.h, &p4, &pol));
    size_t n;
    CHECK_OK(opg_hyper_position_weights(got, 2, &n, w.h, &p4));
    CHECK(n == 2 && got[0].node.bytes[31] == 1);
    CHECK_DEC(got[1].weight, "3");
    CHECK_RC(opg_hyper_position_weights(got, 1, &n, w.h, &p4), OPG_EBUFS);
    opg_hyper_position_info pi;
    CHECK_OK(opg_hyper_position_get(&pi, w.h, &p4));
    CHECK(pi.kind == OPG_HYPER_FIXED && pi.auto_compound == 1 && pi.max_nodes == 2);
    CHECK_DEC(pi.rebalance_threshold, "0.2");
    world_free(&w);
}

/* ------------------------------------------------------- random sequences */

typedef struct sim {
    world w;
    opg_height h;
    opg_time t;
    int n_nodes, n_pos;
    opg_u256 entered;          /* self-delegations */
    opg_u256 delegated;        /* DELEGATE moves */
    opg_u256 compounded;       /* COMPOUND moves */
    opg_u256 paid;             /* PAYOUT moves */
    opg_u256 matured;          /* end_block payouts to anyone */
    opg_u256 rewards_host;     /* rewards paid by host calls (slash drains) to anyone */
    int skipped, moves;
} sim;

static opg_id sim_pos(int i) { return id_n(100 + (unsigned)i); }

static void sim_collect(sim *sm)
{
    size_t nm;
    const opg_hyper_move *m = opg_hyper_moves(sm->w.h, &nm);
    for (size_t i = 0; i < nm; i++) {
        sm->moves++;
        switch (m[i].kind) {
        case OPG_HYPER_DELEGATE: opg_u256_add(&sm->delegated, &sm->delegated, &m[i].amount); break;
        case OPG_HYPER_COMPOUND: opg_u256_add(&sm->compounded, &sm->compounded, &m[i].amount); break;
        case OPG_HYPER_PAYOUT: opg_u256_add(&sm->paid, &sm->paid, &m[i].amount); break;
        case OPG_HYPER_SKIPPED: sm->skipped++; break;
        default: break;
        }
    }
}

static void sim_registry_events(sim *sm)
{
    size_t ne;
    const opg_event *ev = opg_registry_events(sm->w.r, &ne);
    for (size_t i = 0; i < ne; i++) {
        if (ev[i].kind == OPG_EVENT_UNBONDING_MATURED)
            opg_u256_add(&sm->matured, &sm->matured, &ev[i].amount);
        if (ev[i].kind == OPG_EVENT_REWARDS_PAID)
            opg_u256_add(&sm->rewards_host, &sm->rewards_host, &ev[i].amount);
    }
}

static opg_hyper_policy sim_policy(test_rng *rng, int n_nodes, opg_hyper_weight *wts)
{
    static const char *caps[] = {"0.3", "0.5", "1"};
    static const char *ths[] = {"0", "0.01", "0.1"};
    static const char *mc[] = {"0.1", "0.3", "1"};
    opg_hyper_policy p;
    if (rng_below(rng, 2)) {
        size_t n = 1 + (size_t)rng_below(rng, 4);
        unsigned first = 1 + (unsigned)rng_below(rng, (uint64_t)n_nodes);
        for (size_t i = 0; i < n; i++) {
            wts[i].node = id_n(1 + (first + (unsigned)i) % (unsigned)n_nodes);
            opg_dec_from_u64(&wts[i].weight, 1 + rng_below(rng, 5));
        }
        p = fixed_policy(wts, n, caps[rng_below(rng, 3)], (int)rng_below(rng, 2), ths[rng_below(rng, 3)]);
        p.max_nodes = (uint32_t)n + (uint32_t)rng_below(rng, 2);
    } else {
        p = perf_policy(mc[rng_below(rng, 3)], caps[rng_below(rng, 3)], 1 + (uint32_t)rng_below(rng, 4),
                        (int)rng_below(rng, 2), ths[rng_below(rng, 3)]);
    }
    return p;
}

static int sim_step(sim *sm, test_rng *rng)
{
    opg_registry *r = sm->w.r;
    opg_hyper *h = sm->w.h;
    int k = (int)rng_below(rng, sm->n_pos);
    opg_id pos = sim_pos(k);
    opg_id node = id_n(1 + (unsigned)rng_below(rng, (uint64_t)sm->n_nodes));
    int rc;
    switch (rng_below(rng, 12)) {
    case 0:
    case 1:
    case 2: {
        opg_u256 amt = u64v(1 + rng_below(rng, 1000000));
        rc = opg_hyper_deposit(h, &pos, &amt, sm->h, sm->t);
        sim_collect(sm);
        return rc;
    }
    case 3: {
        opg_hyper_position_info pi;
        if (opg_hyper_position_get(&pi, h, &pos) != OPG_OK)
            return OPG_ENOTFOUND;
        uint64_t staked = 0;
        opg_u256_to_u64(&staked, &pi.staked);
        opg_u256 amt = u64v(rng_below(rng, staked + 2)); /* sometimes too much, sometimes 0 */
        rc = opg_hyper_withdraw(NULL, h, &pos, &amt, sm->h, sm->t);
        sim_collect(sm);
        return rc;
    }
    case 4:
    case 5: {
        opg_u256 fees = u64v(1 + rng_below(rng, 100000));
        return opg_splitter_allocate_to_node(sm->w.s, &node, &fees);
    }
    case 6: {
        opg_hyper_score sc[8];
        size_t n = (size_t)rng_below(rng, (uint64_t)sm->n_nodes + 1);
        for (size_t i = 0; i < n; i++) {
            sc[i].node = id_n(1 + ((unsigned)i * 3u + (unsigned)sm->h) % (unsigned)sm->n_nodes);
            opg_dec_from_u64(&sc[i].score, 0);
            sc[i].score.limb[0] = rng_below(rng, 1000000000000000001ull);
        }
        /* duplicates are possible: then EINVAL, and nothing changes */
        rc = opg_hyper_epoch(NULL, h, rng_below(rng, 3) ? sc : NULL, n, sm->h, sm->t);
        sim_collect(sm);
        return rc;
    }
    case 7: {
        opg_node_info ni;
        if (opg_registry_node_get(&ni, r, &node) != OPG_OK)
            return OPG_ENOTFOUND;
        if (ni.jailed)
            return opg_registry_unjail(r, &node, sm->t);
        return opg_registry_jail(r, &node, sm->t + (opg_time)rng_below(rng, 300));
    }
    case 8: {
        opg_node_info ni;
        if (opg_registry_node_get(&ni, r, &node) != OPG_OK)
            return OPG_ENOTFOUND;
        opg_dec frac = dec_of(rng_below(rng, 2) ? "0.01" : "0.1");
        opg_height inf = sm->h > 5 ? sm->h - rng_below(rng, 5) : sm->h;
        rc = opg_registry_slash(NULL, r, &node, inf, ni.power, &frac, sm->h, sm->t);
        if (rc == OPG_OK)
            sim_registry_events(sm);
        return rc;
    }
    case 9: {
        opg_hyper_weight wts[8];
        opg_hyper_policy p = sim_policy(rng, sm->n_nodes, wts);
        return opg_hyper_position_set_policy(h, &pos, &p);
    }
    default:
        rc = opg_registry_end_block(r, sm->h, sm->t);
        if (rc == OPG_OK)
            sim_registry_events(sm);
        sm->h++;
        sm->t += 1 + (opg_time)rng_below(rng, 200);
        return rc;
    }
}

/* tokens in the registry + pending unbonding + matured payouts + burned
 * == self-delegations + deposits delegated + rewards compounded */
static int sim_conserved(const sim *sm)
{
    opg_u256 held = u64v(0), in;
    size_t n = opg_registry_node_count(sm->w.r);
    for (size_t i = 0; i < n; i++) {
        opg_node_info ni;
        opg_registry_node_at(&ni, sm->w.r, i);
        opg_u256_add(&held, &held, &ni.tokens);
    }
    opg_supply_info sup;
    opg_registry_supply(&sup, sm->w.r);
    opg_u256 pending = u64v(0);
    /* sup.unbonding also counts tokens of unbonding nodes: sum the entries instead */
    opg_unbonding_info ub[256];
    for (int p = 0; p < sm->n_pos; p++) {
        opg_id id = sim_pos(p);
        size_t cnt;
        if (opg_registry_unbondings_of(ub, 256, &cnt, sm->w.r, &id) != OPG_OK)
            return 0;
        for (size_t i = 0; i < cnt; i++)
            opg_u256_add(&pending, &pending, &ub[i].balance);
    }
    opg_u256_add(&held, &held, &pending);
    opg_u256_add(&held, &held, &sm->matured);
    opg_u256_add(&held, &held, &sup.burned);
    opg_u256_add(&in, &sm->entered, &sm->delegated);
    opg_u256_add(&in, &in, &sm->compounded);
    return opg_u256_cmp(&held, &in) == 0;
}

static int save3(uint8_t **b, size_t *l, const world *w)
{
    int rc = opg_registry_save(NULL, 0, &l[0], w->r) | opg_splitter_save(NULL, 0, &l[1], w->s) |
             opg_hyper_save(NULL, 0, &l[2], w->h);
    (void)rc;
    for (int i = 0; i < 3; i++)
        b[i] = malloc(l[i]);
    return opg_registry_save(b[0], l[0], &l[0], w->r) | opg_splitter_save(b[1], l[1], &l[1], w->s) |
           opg_hyper_save(b[2], l[2], &l[2], w->h);
}

static int load3(world *w, uint8_t **b, const size_t *l)
{
    memset(w, 0, sizeof *w);
    int rc = opg_registry_load(&w->r, b[0], l[0], NULL);
    if (rc)
        return rc;
    if ((rc = opg_splitter_load(&w->s, w->r, b[1], l[1], NULL)) != OPG_OK)
        return rc;
    return opg_hyper_load(&w->h, w->r, w->s, b[2], l[2], NULL);
}

static void test_conservation_random(void)
{
    sim sm;
    memset(&sm, 0, sizeof sm);
    CHECK_OK(world_new(&sm.w, NULL));
    sm.n_nodes = 6;
    sm.n_pos = 8;
    test_rng rng = {77};
    for (int i = 0; i < sm.n_nodes; i++) {
        static const char *rates[] = {"0", "0.05", "0.1", "0.2", "0.3", "0.5"};
        uint64_t self = 10000 + 5000 * (uint64_t)i;
        CHECK_OK(add_node(&sm.w, 1 + (unsigned)i, rates[i], self));
        opg_u256 s = u64v(self);
        opg_u256_add(&sm.entered, &sm.entered, &s);
    }
    CHECK_OK(opg_registry_end_block(sm.w.r, 1, 10));
    for (int p = 0; p < sm.n_pos; p++) {
        opg_hyper_weight wts[8];
        opg_hyper_policy pol = sim_policy(&rng, sm.n_nodes, wts);
        opg_id id = sim_pos(p), owner = id_n(200 + (unsigned)(p % 3));
        CHECK_OK(opg_hyper_position_create(sm.w.h, &id, &owner, &pol, 1));
    }
    sm.h = 2;
    sm.t = 20;
    int ok = 0, refused = 0;
    for (int step = 0; step < 3000; step++) {
        hashes a, b;
        take_hashes(&a, &sm.w);
        int rc = sim_step(&sm, &rng);
        if (rc) {
            refused++;
            take_hashes(&b, &sm.w);
            if (!same_hashes(&a, &b))
                printf("  step %d: refused call (%s) changed state\n", step, opg_errname(rc));
            CHECK(same_hashes(&a, &b));
        } else {
            ok++;
        }
        if (opg_registry_check(sm.w.r) != OPG_OK || opg_splitter_check(sm.w.s) != OPG_OK) {
            printf("  step %d: %s / %s\n", step, opg_registry_last_error(sm.w.r), opg_splitter_last_error(sm.w.s));
            CHECK(0);
        }
        if (!sim_conserved(&sm)) {
            printf("  step %d: tokens not conserved\n", step);
            CHECK(0);
        }
        if (step % 500 == 499) {
            uint8_t *b1[3], *b2[3];
            size_t l1[3], l2[3];
            CHECK_OK(save3(b1, l1, &sm.w));
            world w2;
            CHECK_OK(load3(&w2, b1, l1));
            CHECK_OK(save3(b2, l2, &w2));
            for (int i = 0; i < 3; i++)
                CHECK(l1[i] == l2[i] && memcmp(b1[i], b2[i], l1[i]) == 0);
            hashes x, y;
            take_hashes(&x, &sm.w);
            take_hashes(&y, &w2);
            CHECK(same_hashes(&x, &y));
            /* the loaded handles go on exactly as the original ones */
            sim sm2 = sm;
            sm2.w = w2;
            test_rng fork = rng;
            for (int k = 0; k < 30; k++) {
                test_rng f2 = fork;
                int r1 = sim_step(&sm, &fork);
                int r2 = sim_step(&sm2, &f2);
                CHECK(r1 == r2);
            }
            rng = fork;
            take_hashes(&x, &sm.w);
            take_hashes(&y, &w2);
            CHECK(same_hashes(&x, &y));
            world_free(&w2);
            for (int i = 0; i < 3; i++) {
                free(b1[i]);
                free(b2[i]);
            }
        }
    }
    /* every reward the splitter paid went to a position (as a move) or through a
     * host call's event; no operator withdrew */
    opg_splitter_totals tot;
    opg_splitter_totals_get(&tot, sm.w.s);
    opg_u256 rewards, paid_whole;
    opg_u256_add(&rewards, &sm.paid, &sm.compounded);
    opg_u256_add(&rewards, &rewards, &sm.rewards_host);
    opg_dec_truncate_int(&paid_whole, &tot.paid_delegators);
    CHECK(opg_u256_cmp(&rewards, &paid_whole) == 0);
    /* the positions' own totals agree with the moves */
    opg_u256 dep = u64v(0), comp = u64v(0), paid = u64v(0);
    for (int p = 0; p < sm.n_pos; p++) {
        opg_hyper_position_info pi;
        opg_id id = sim_pos(p);
        CHECK_OK(opg_hyper_position_get(&pi, sm.w.h, &id));
        opg_u256_add(&dep, &dep, &pi.deposited);
        opg_u256_add(&comp, &comp, &pi.compounded);
        opg_u256_add(&paid, &paid, &pi.paid_out);
    }
    CHECK(opg_u256_cmp(&dep, &sm.delegated) == 0 && opg_u256_cmp(&comp, &sm.compounded) == 0);
    CHECK(opg_u256_cmp(&paid, &sm.paid) == 0);
    printf("  %d calls applied, %d refused, %d moves, %d skipped\n", ok, refused, sm.moves, sm.skipped);
    CHECK(ok > 1500 && refused > 20 && sm.skipped > 0 && !opg_u256_is_zero(&sm.compounded));
    world_free(&sm.w);
}

/* ----------------------------------------------------------- saved state */

static void test_save_load_identity(void)
{
    world w;
    CHECK_OK(world_new(&w, NULL));
    for (unsigned i = 1; i <= 3; i++)
        CHECK_OK(add_node(&w, i, i == 2 ? "0.1" : "0", 1000 * i));
    CHECK_OK(opg_registry_end_block(w.r, 1, 10));
    opg_id owner = id_n(600), p1 = id_n(500), p2 = id_n(501);
    opg_hyper_weight wts[2] = {{id_n(3), dec_of("2")}, {id_n(1), dec_of("1")}};
    opg_hyper_policy pol = fixed_policy(wts, 2, "0.9", 1, "0.05");
    CHECK_OK(opg_hyper_position_create(w.h, &p1, &owner, &pol, 1));
    pol = perf_policy("0.5", "0.6", 3, 0, "0");
    CHECK_OK(opg_hyper_position_create(w.h, &p2, &owner, &pol, 1));
    opg_u256 amt = u64v(12345);
    CHECK_OK(opg_hyper_deposit(w.h, &p1, &amt, 2, 20));
    CHECK_OK(opg_hyper_deposit(w.h, &p2, &amt, 2, 20));
    opg_hyper_score sc[2] = {{id_n(1), dec_of("0.9")}, {id_n(3), dec_of("0.25")}};
    CHECK_OK(opg_hyper_epoch(NULL, w.h, sc, 2, 3, 30));
    uint8_t *b1[3], *b2[3];
    size_t l1[3], l2[3];
    CHECK_OK(save3(b1, l1, &w));
    world w2;
    CHECK_OK(load3(&w2, b1, l1));
    CHECK_OK(save3(b2, l2, &w2));
    for (int i = 0; i < 3; i++)
        CHECK(l1[i] == l2[i] && memcmp(b1[i], b2[i], l1[i]) == 0);
    /* the loaded handle has the scores: the same targets */
    opg_hyper_weight t1[4], t2[4];
    size_t n1, n2;
    CHECK_OK(opg_hyper_targets(t1, 4, &n1, w.h, &p2));
    CHECK_OK(opg_hyper_targets(t2, 4, &n2, w2.h, &p2));
    CHECK(n1 == n2 && n1 == 2 && memcmp(t1, t2, n1 * sizeof *t1) == 0);
    /* a small buffer, the wrong kind, a newer version, trailing bytes, truncation */
    size_t need;
    uint8_t small[8];
    CHECK_RC(opg_hyper_save(small, sizeof small, &need, w.h), OPG_EBUFS);
    CHECK(need == l1[2]);
    opg_hyper *h3;
    CHECK_RC(opg_hyper_load(&h3, w2.r, w2.s, b1[0], l1[0], NULL), OPG_ECORRUPT);
    uint8_t *c = malloc(l1[2] + 1);
    memcpy(c, b1[2], l1[2]);
    c[l1[2]] = 0;
    CHECK_RC(opg_hyper_load(&h3, w2.r, w2.s, c, l1[2] + 1, NULL), OPG_ECORRUPT);
    for (size_t cut = 0; cut < l1[2]; cut += 7)
        CHECK(opg_hyper_load(&h3, w2.r, w2.s, c, cut, NULL) != OPG_OK);
    c[7] = 9; /* version 9 */
    CHECK_RC(opg_hyper_load(&h3, w2.r, w2.s, c, l1[2], NULL), OPG_EVERSION);
    /* positions out of order: swap the two position records' first id byte order */
    memcpy(c, b1[2], l1[2]);
    c[8 + 8] ^= 0xff; /* hyper.max_nodes' top byte: out of range */
    CHECK_RC(opg_hyper_load(&h3, w2.r, w2.s, c, l1[2], NULL), OPG_ECORRUPT);
    free(c);
    world_free(&w2);
    world_free(&w);
    for (int i = 0; i < 3; i++) {
        free(b1[i]);
        free(b2[i]);
    }
}

/* -------------------------------------------------- allocation failures */

/* Hashes all three without letting the hashing use up the failure point. */
static void hashes_nofail(failalloc *fa, hashes *x, const world *w)
{
    unsigned long fail_at = fa->fail_at, calls = fa->calls;
    fa->fail_at = 0;
    take_hashes(x, w);
    fa->fail_at = fail_at;
    fa->calls = calls;
}

static const opg_hyper_score EPOCH_SCORES[4] = {
    {{{0}}, {{0}}}, {{{0}}, {{0}}}, {{{0}}, {{0}}}, {{{0}}, {{0}}}};

static void epoch_scores(opg_hyper_score sc[4])
{
    static const char *v[4] = {"1", "0.8", "0.5", "0.9"};
    for (unsigned i = 0; i < 4; i++) {
        sc[i] = EPOCH_SCORES[i];
        sc[i].node = id_n(1 + i);
        sc[i].score = dec_of(v[i]);
    }
}

/* Three positions with rewards to compound and reasons to move. */
static int build_epoch_world(world *w, const opg_allocator *a)
{
    int rc = world_new(w, a);
    if (rc)
        return rc;
    static const char *rates[4] = {"0", "0.1", "0.2", "0.05"};
    for (unsigned i = 1; i <= 4; i++)
        if ((rc = add_node(w, i, rates[i - 1], 1000 + 300 * i)) != OPG_OK)
            return rc;
    if ((rc = opg_registry_end_block(w->r, 1, 10)) != OPG_OK)
        return rc;
    opg_id owner = id_n(600), p0 = id_n(500), p1 = id_n(501), p2 = id_n(502);
    /* each position larger than the one before, so each needs more room */
    opg_hyper_weight wts[3] = {{id_n(1), dec_of("1")}, {id_n(2), dec_of("1")}, {id_n(3), dec_of("1")}};
    opg_hyper_policy pol = perf_policy("1", "1", 1, 1, "0.01");
    if ((rc = opg_hyper_position_create(w->h, &p0, &owner, &pol, 1)) != OPG_OK)
        return rc;
    pol = fixed_policy(wts, 2, "1", 0, "0.01");
    if ((rc = opg_hyper_position_create(w->h, &p1, &owner, &pol, 1)) != OPG_OK)
        return rc;
    pol = perf_policy("1", "0.3", 4, 1, "0");
    if ((rc = opg_hyper_position_create(w->h, &p2, &owner, &pol, 1)) != OPG_OK)
        return rc;
    for (unsigned i = 0; i < 3; i++) {
        opg_id p = id_n(500 + i);
        opg_u256 amt = u64v(10000 * (i + 1));
        if ((rc = opg_hyper_deposit(w->h, &p, &amt, 2, 20)) != OPG_OK)
            return rc;
    }
    for (unsigned i = 1; i <= 4; i++) {
        opg_id op = id_n(i);
        opg_u256 fees = u64v(5000 + 100 * i);
        if ((rc = opg_splitter_allocate_to_node(w->s, &op, &fees)) != OPG_OK)
            return rc;
    }
    opg_id n2 = id_n(2);
    if ((rc = opg_registry_jail(w->r, &n2, 1000)) != OPG_OK)
        return rc;
    opg_hyper_weight w3[3] = {{id_n(1), dec_of("1")}, {id_n(3), dec_of("1")}, {id_n(4), dec_of("1")}};
    pol = fixed_policy(w3, 3, "1", 0, "0.01");
    return opg_hyper_position_set_policy(w->h, &p1, &pol);
}

static void test_epoch_allocation_failures(void)
{
    /* the reference run */
    world w;
    CHECK_OK(build_epoch_world(&w, NULL));
    opg_hyper_score sc[4];
    epoch_scores(sc);
    size_t done, nref;
    CHECK_OK(opg_hyper_epoch(&done, w.h, sc, 4, 3, 30));
    CHECK(done == 3);
    const opg_hyper_move *m = opg_hyper_moves(w.h, &nref);
    opg_hyper_move *ref = malloc((nref ? nref : 1) * sizeof *ref);
    memcpy(ref, m, nref * sizeof *ref);
    int kinds[8] = {0};
    for (size_t i = 0; i < nref; i++)
        kinds[ref[i].kind]++;
    CHECK(kinds[OPG_HYPER_COMPOUND] > 0 && kinds[OPG_HYPER_REDELEGATE] > 0 && kinds[OPG_HYPER_PAYOUT] > 0);
    hashes ref_h;
    take_hashes(&ref_h, &w);
    world_free(&w);

    /* every failure is OPG_ENOMEM before anything changed (the whole epoch is reserved
     * first), and the same call again gives the reference run */
    unsigned long n;
    for (n = 1;; n++) {
        failalloc fa;
        failalloc_init(&fa, 0);
        opg_allocator a = failalloc_allocator(&fa);
        CHECK_OK(build_epoch_world(&w, &a));
        hashes before, after;
        hashes_nofail(&fa, &before, &w);
        fa.fail_at = fa.calls + n;
        int rc = opg_hyper_epoch(&done, w.h, sc, 4, 3, 30);
        size_t nm;
        m = opg_hyper_moves(w.h, &nm);
        unsigned long failures = fa.failures;
        fa.fail_at = 0;
        if (rc != OPG_OK) {
            CHECK_RC(rc, OPG_ENOMEM);
            CHECK(done == 0 && nm == 0);
            hashes_nofail(&fa, &after, &w);
            CHECK(same_hashes(&before, &after));
            CHECK_OK(opg_hyper_epoch(&done, w.h, sc, 4, 3, 30));
            m = opg_hyper_moves(w.h, &nm);
        }
        CHECK(done == 3 && nm == nref && memcmp(m, ref, nref * sizeof *ref) == 0);
        hashes_nofail(&fa, &after, &w);
        CHECK(same_hashes(&ref_h, &after));
        CHECK_OK(opg_registry_check(w.r));
        CHECK_OK(opg_splitter_check(w.s));
        world_free(&w);
        CHECK(fa.live_bytes == 0);
        if (failures == 0)
            break;
    }
    printf("  epoch allocation failure points: %lu\n", n - 1);
    CHECK(n > 1);
    free(ref);
}

/* deposit, withdraw, create, set_policy and load: OPG_ENOMEM changes nothing */
static void test_call_allocation_failures(void)
{
    int seen = 0;
    for (int call = 0; call < 4; call++) {
        unsigned long n;
        for (n = 1;; n++) {
            failalloc fa;
            failalloc_init(&fa, 0);
            opg_allocator a = failalloc_allocator(&fa);
            world w;
            CHECK_OK(build_epoch_world(&w, &a));
            opg_id p0 = id_n(500), p9 = id_n(509), owner = id_n(600);
            opg_u256 amt = u64v(777);
            opg_hyper_policy pol = perf_policy("1", "0.3", 4, 1, "0");
            hashes before, after;
            hashes_nofail(&fa, &before, &w);
            fa.fail_at = fa.calls + n;
            int rc;
            switch (call) {
            case 0: rc = opg_hyper_deposit(w.h, &p0, &amt, 3, 30); break;
            case 1: rc = opg_hyper_withdraw(NULL, w.h, &p0, &amt, 3, 30); break;
            case 2: rc = opg_hyper_position_create(w.h, &p9, &owner, &pol, 3); break;
            default: rc = opg_hyper_position_set_policy(w.h, &p0, &pol); break;
            }
            if (rc) {
                CHECK_RC(rc, OPG_ENOMEM);
                hashes_nofail(&fa, &after, &w);
                CHECK(same_hashes(&before, &after));
                size_t nm;
                opg_hyper_moves(w.h, &nm);
                CHECK(nm == 0);
                seen++;
            }
            fa.fail_at = 0;
            unsigned long failures = fa.failures;
            world_free(&w);
            CHECK(fa.live_bytes == 0);
            if (failures == 0)
                break;
        }
        CHECK(n > 1);
    }
    /* new and load */
    world w;
    CHECK_OK(build_epoch_world(&w, NULL));
    size_t len;
    opg_hyper_save(NULL, 0, &len, w.h);
    uint8_t *buf = malloc(len);
    CHECK_OK(opg_hyper_save(buf, len, &len, w.h));
    for (unsigned long n = 1;; n++) {
        failalloc fa;
        failalloc_init(&fa, n);
        opg_allocator a = failalloc_allocator(&fa);
        opg_hyper *h = NULL, *h2 = NULL;
        int rc = opg_hyper_new(&h, w.r, w.s, NULL, &a);
        if (rc == OPG_OK)
            rc = opg_hyper_load(&h2, w.r, w.s, buf, len, &a);
        if (rc)
            CHECK_RC(rc, OPG_ENOMEM);
        opg_hyper_free(h);
        opg_hyper_free(h2);
        CHECK(fa.live_bytes == 0);
        if (rc == OPG_OK)
            break;
        seen++;
    }
    free(buf);
    world_free(&w);
    printf("  allocation failures handled: %d\n", seen);
}

int main(void)
{
    RUN(test_deposit_split_by_hand);
    RUN(test_withdraw_split_by_hand);
    RUN(test_performance_targets_by_hand);
    RUN(test_cap_below_one_over_n);
    RUN(test_jailed_node_rebalanced_away);
    RUN(test_refused_redelegation_skipped);
    RUN(test_auto_compound);
    RUN(test_failed_calls_change_nothing);
    RUN(test_params_and_owner_limit);
    RUN(test_conservation_random);
    RUN(test_save_load_identity);
    RUN(test_epoch_allocation_failures);
    RUN(test_call_allocation_failures);
    return harness_done();
}
