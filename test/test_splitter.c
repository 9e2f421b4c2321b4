/*
 * test_splitter.c - the reward splitter: worked examples of SEMANTICS §3 by hand,
 * emission schedules, the wide cumulative ratio, conservation over random sequences,
 * saved state and allocation failures.
 */
#include "harness.h"
#include "failalloc.h"
#include "splitter_internal.h"

#include <gmp.h>

/* A registry with power_reduction 1 (power = tokens) and no community tax by
 * default, so the hand arithmetic stays small. */
typedef struct world {
    opg_registry *r;
    opg_splitter *s;
} world;

static int world_new(world *w, const char *tax, opg_emission_kind emission, const opg_allocator *a)
{
    opg_registry_params rp;
    opg_registry_params_init(&rp);
    opg_u256_from_u64(&rp.power_reduction, 1);
    opg_u256 supply = u64v(1000000000);
    int rc = opg_registry_new(&w->r, &rp, &supply, a);
    if (rc)
        return rc;
    opg_splitter_params sp;
    opg_splitter_params_init(&sp);
    sp.community_tax = dec_of(tax);
    sp.emission = emission;
    rc = opg_splitter_new(&w->s, w->r, &sp, a);
    if (rc)
        opg_registry_free(w->r);
    return rc;
}

static void world_free(world *w)
{
    opg_splitter_free(w->s);
    opg_registry_free(w->r);
}

static int add_node(world *w, unsigned n, const char *rate, uint64_t self, opg_height h)
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
    return opg_registry_node_create(w->r, &c, h, (opg_time)h * 5);
}

static int allocate1(world *w, unsigned n, uint64_t power, uint64_t pot, opg_height h)
{
    opg_u256 fees = u64v(pot);
    int rc = opg_splitter_add_fees(w->s, &fees);
    if (rc)
        return rc;
    opg_commit_vote v = {cons_key_n(1000 + n), power, dec_of("1")};
    return opg_splitter_allocate(w->s, &v, 1, h, (opg_time)h * 5);
}

static void test_single_delegator_half_commission(void)
{
    world w;
    CHECK_OK(world_new(&w, "0.02", OPG_EMISSION_NONE, NULL));
    CHECK_OK(add_node(&w, 1, "0.5", 100, 1));
    /* pot 1000: A = trunc(1000 * 0.98) = 980; one node takes it all; commission
     * mul(980, 0.5) = 490, delegators 490; the tax 20 goes to the community pool */
    CHECK_OK(allocate1(&w, 1, 1, 1000, 2));
    opg_node_rewards nr;
    opg_id op = id_n(1);
    CHECK_OK(opg_splitter_node_rewards(&nr, w.s, &op));
    CHECK_DEC(nr.commission, "490");
    CHECK_DEC(nr.current, "490");
    CHECK_DEC(nr.outstanding, "980");
    opg_dec pending;
    CHECK_OK(opg_splitter_pending_rewards(&pending, w.s, &op, &op, 3));
    CHECK_DEC(pending, "490"); /* 100 stake * ratio 4.9 */
    opg_u256 paid;
    CHECK_OK(opg_splitter_withdraw_rewards(&paid, w.s, &op, &op, 3, 15));
    CHECK_U256(paid, "490");
    size_t n;
    const opg_event *ev = opg_registry_events(w.r, &n);
    CHECK(n == 1 && ev[0].kind == OPG_EVENT_REWARDS_PAID);
    CHECK_U256(ev[0].amount, "490");
    CHECK_OK(opg_splitter_withdraw_commission(&paid, w.s, &op));
    CHECK_U256(paid, "490");
    CHECK_RC(opg_splitter_withdraw_commission(&paid, w.s, &op), OPG_EZERO);
    opg_splitter_totals t;
    opg_splitter_totals_get(&t, w.s);
    CHECK_DEC(t.community_pool, "20");
    CHECK_DEC(t.outstanding, "0");
    CHECK_OK(opg_splitter_check(w.s));
    world_free(&w);
}

static void test_rewards_across_half_slash(void)
{
    world w;
    CHECK_OK(world_new(&w, "0", OPG_EMISSION_NONE, NULL));
    CHECK_OK(add_node(&w, 1, "0", 100, 1));
    CHECK_OK(opg_registry_end_block(w.r, 1, 5)); /* bonded, so it can be slashed */
    CHECK_OK(allocate1(&w, 1, 100, 100, 2)); /* ratio 100/100 = 1 */
    opg_id op = id_n(1);
    opg_dec half = dec_of("0.5");
    opg_slash_result sr;
    /* slash at the current height: to_slash = 100 * 0.5 = 50, effective fraction 0.5 */
    CHECK_OK(opg_registry_slash(&sr, w.r, &op, 3, 100, &half, 3, 15));
    CHECK_U256(sr.burned_node, "50");
    CHECK_DEC(sr.effective_fraction, "0.5");
    CHECK_OK(allocate1(&w, 1, 50, 100, 4)); /* ratio 100/50 = 2 */
    /* rewards: 100 * (1 - 0) before the slash, then stake 100 * 0.5 = 50, which
     * equals tokens_from_shares(100 shares) = 100 * 50 / 100; 50 * (3 - 1) = 100 */
    opg_u256 paid;
    CHECK_OK(opg_splitter_withdraw_rewards(&paid, w.s, &op, &op, 5, 25));
    CHECK_U256(paid, "200");
    opg_node_rewards nr;
    CHECK_OK(opg_splitter_node_rewards(&nr, w.s, &op));
    CHECK_DEC(nr.outstanding, "0");
    CHECK(nr.slashes == 1);
    CHECK_OK(opg_splitter_check(w.s));
    world_free(&w);
}

static void test_two_delegators_join_at_different_periods(void)
{
    world w;
    CHECK_OK(world_new(&w, "0", OPG_EMISSION_NONE, NULL));
    CHECK_OK(add_node(&w, 1, "0", 100, 1));
    opg_id op = id_n(1), d2 = id_n(77);
    CHECK_OK(allocate1(&w, 1, 1, 100, 2)); /* 100 over 100 tokens: ratio 1 */
    opg_u256 amt = u64v(100);
    CHECK_OK(opg_registry_delegate(NULL, w.r, &d2, &op, &amt, 3, 15)); /* closes period: cum 1 */
    CHECK_OK(allocate1(&w, 1, 1, 200, 4)); /* 200 over 200 tokens: ratio 1 more, cum 2 */
    opg_u256 paid;
    CHECK_OK(opg_splitter_withdraw_rewards(&paid, w.s, &op, &op, 5, 25));
    CHECK_U256(paid, "200"); /* 100 * (2 - 0) */
    CHECK_OK(opg_splitter_withdraw_rewards(&paid, w.s, &d2, &op, 5, 25));
    CHECK_U256(paid, "100"); /* 100 * (2 - 1) */
    opg_node_rewards nr;
    CHECK_OK(opg_splitter_node_rewards(&nr, w.s, &op));
    CHECK_DEC(nr.outstanding, "0");
    /* historical records only for periods still referenced: the two delegations'
     * starting period (shared) and the last closed one */
    CHECK(nr.historical <= 2);
    CHECK_OK(opg_splitter_check(w.s));
    world_free(&w);
}

static void test_full_commission(void)
{
    world w;
    CHECK_OK(world_new(&w, "0", OPG_EMISSION_NONE, NULL));
    CHECK_OK(add_node(&w, 1, "1", 100, 1));
    CHECK_OK(allocate1(&w, 1, 1, 777, 2));
    opg_id op = id_n(1);
    opg_u256 paid;
    CHECK_OK(opg_splitter_withdraw_rewards(&paid, w.s, &op, &op, 3, 15));
    CHECK_U256(paid, "0");
    CHECK_OK(opg_splitter_withdraw_commission(&paid, w.s, &op));
    CHECK_U256(paid, "777");
    CHECK_OK(opg_splitter_check(w.s));
    world_free(&w);
}

static void test_two_nodes_tax_and_dust(void)
{
    world w;
    CHECK_OK(world_new(&w, "0.02", OPG_EMISSION_NONE, NULL));
    CHECK_OK(add_node(&w, 1, "0", 100, 1));
    CHECK_OK(add_node(&w, 2, "0", 100, 1));
    opg_u256 fees = u64v(1000);
    CHECK_OK(opg_splitter_add_fees(w.s, &fees));
    opg_commit_vote v[2] = {{cons_key_n(1001), 1, dec_of("1")}, {cons_key_n(1002), 2, dec_of("1")}};
    CHECK_OK(opg_splitter_allocate(w.s, v, 2, 2, 10));
    /* A = 980; fractions quo_truncate(1, 3) = 0.333333333333333333 and
     * quo_truncate(2, 3) = 0.666666666666666666; rewards 980 * those, truncated:
     * 326.66666666666666634 and 653.33333333333333268; the pool gets
     * 1000 - 979.99999999999999902 = 20.00000000000000098 */
    opg_node_rewards a, b;
    opg_id op1 = id_n(1), op2 = id_n(2);
    CHECK_OK(opg_splitter_node_rewards(&a, w.s, &op1));
    CHECK_OK(opg_splitter_node_rewards(&b, w.s, &op2));
    CHECK_DEC(a.outstanding, "326.66666666666666634");
    CHECK_DEC(b.outstanding, "653.33333333333333268");
    opg_splitter_totals t;
    opg_splitter_totals_get(&t, w.s);
    CHECK_DEC(t.community_pool, "20.00000000000000098");
    opg_supply_info sup;
    opg_registry_supply(&sup, w.r);
    CHECK_U256(sup.community_pool, "20"); /* the ledger shows whole units */
    CHECK_OK(opg_splitter_check(w.s));
    /* unknown keys and zero total power: all to the pool */
    CHECK_OK(opg_splitter_add_fees(w.s, &fees));
    opg_commit_vote z = {cons_key_n(1001), 0, dec_of("1")};
    CHECK_OK(opg_splitter_allocate(w.s, &z, 1, 3, 15));
    opg_splitter_totals_get(&t, w.s);
    CHECK_DEC(t.community_pool, "1020.00000000000000098");
    world_free(&w);
}

static void test_performance_share(void)
{
    world w;
    CHECK_OK(world_new(&w, "0", OPG_EMISSION_NONE, NULL));
    CHECK_OK(opg_splitter_param_set(w.s, "distribution.perf_share", "0.5"));
    CHECK_OK(add_node(&w, 1, "0", 100, 1));
    CHECK_OK(add_node(&w, 2, "0", 100, 1));
    opg_u256 fees = u64v(1000);
    CHECK_OK(opg_splitter_add_fees(w.s, &fees));
    /* equal power; scores 1 and 0.25: base 500 splits 250/250; perf 500 by weight
     * 1*1 : 1*0.25 -> fractions 0.8 and 0.2 -> 400 and 100 */
    opg_commit_vote v[2] = {{cons_key_n(1001), 1, dec_of("1")}, {cons_key_n(1002), 1, dec_of("0.25")}};
    CHECK_OK(opg_splitter_allocate(w.s, v, 2, 2, 10));
    opg_node_rewards a, b;
    opg_id op1 = id_n(1), op2 = id_n(2);
    CHECK_OK(opg_splitter_node_rewards(&a, w.s, &op1));
    CHECK_OK(opg_splitter_node_rewards(&b, w.s, &op2));
    CHECK_DEC(a.outstanding, "650");
    CHECK_DEC(b.outstanding, "350");
    /* a score above 1 is refused and changes nothing */
    uint8_t h1[32], h2[32];
    CHECK_OK(opg_splitter_state_hash(h1, w.s));
    opg_commit_vote bad = {cons_key_n(1001), 1, dec_of("1.000000000000000001")};
    CHECK_RC(opg_splitter_allocate(w.s, &bad, 1, 3, 15), OPG_EINVAL);
    CHECK_OK(opg_splitter_state_hash(h2, w.s));
    CHECK(memcmp(h1, h2, 32) == 0);
    /* nobody scored: the whole performance part goes to the community pool */
    CHECK_OK(opg_splitter_add_fees(w.s, &fees));
    opg_commit_vote zero[2] = {{cons_key_n(1001), 1, dec_of("0")}, {cons_key_n(1002), 1, dec_of("0")}};
    CHECK_OK(opg_splitter_allocate(w.s, zero, 2, 3, 15));
    opg_splitter_totals t;
    opg_splitter_totals_get(&t, w.s);
    CHECK_DEC(t.community_pool, "500");
    CHECK_OK(opg_splitter_check(w.s));
    world_free(&w);
}

static void test_direct_allocation(void)
{
    world w;
    CHECK_OK(world_new(&w, "0.02", OPG_EMISSION_NONE, NULL));
    CHECK_OK(add_node(&w, 1, "0.1", 100, 1));
    opg_id op = id_n(1), none = id_n(9);
    opg_u256 amt = u64v(333);
    CHECK_OK(opg_splitter_allocate_to_node(w.s, &op, &amt));
    opg_node_rewards nr;
    CHECK_OK(opg_splitter_node_rewards(&nr, w.s, &op));
    CHECK_DEC(nr.commission, "33.3"); /* mul(333, 0.1), no tax on direct shares */
    CHECK_DEC(nr.current, "299.7");
    CHECK_RC(opg_splitter_allocate_to_node(w.s, &none, &amt), OPG_ENOTFOUND);
    /* a fee's community share goes straight to the pool, and can be spent */
    CHECK_OK(opg_splitter_fund_community_pool(w.s, &amt));
    opg_splitter_totals t;
    opg_splitter_totals_get(&t, w.s);
    CHECK_DEC(t.community_pool, "333");
    opg_u256 spend = u64v(334);
    CHECK_RC(opg_splitter_community_pool_spend(w.s, &spend), OPG_EUNDERFLOW);
    spend = u64v(300);
    CHECK_OK(opg_splitter_community_pool_spend(w.s, &spend));
    opg_supply_info sup;
    opg_registry_supply(&sup, w.r);
    CHECK_U256(sup.community_pool, "33");
    opg_u256 zero = u64v(0);
    CHECK_RC(opg_splitter_allocate_to_node(w.s, &op, &zero), OPG_EZERO);
    CHECK_OK(opg_splitter_check(w.s));
    world_free(&w);
}

/*
 * A node created at height 10, an allocation to it in the same block: its
 * self-delegation started at 10 (Cosmos: starting height = current height), so its
 * rewards at 10 are zero and a withdrawal at 10 pays 0, even though the registry's
 * previous call (another node's creation) was at height 3. One block later the
 * allocation is there: 1000 less 10 % commission = 900.
 */
static void test_rewards_zero_in_creation_block(void)
{
    for (int withdraw_now = 0; withdraw_now < 2; withdraw_now++) {
        world w;
        CHECK_OK(world_new(&w, "0", OPG_EMISSION_NONE, NULL));
        CHECK_OK(add_node(&w, 1, "0.1", 100, 3));
        CHECK_OK(add_node(&w, 2, "0.1", 100, 10));
        opg_id op = id_n(2);
        opg_u256 amt = u64v(1000);
        CHECK_OK(opg_splitter_allocate_to_node(w.s, &op, &amt));
        opg_dec pending;
        CHECK_OK(opg_splitter_pending_rewards(&pending, w.s, &op, &op, 10));
        CHECK_DEC(pending, "0");
        if (withdraw_now) {
            opg_u256 paid = u64v(7);
            CHECK_OK(opg_splitter_withdraw_rewards(&paid, w.s, &op, &op, 10, 50));
            CHECK_U256(paid, "0");
        } else {
            CHECK_OK(opg_splitter_pending_rewards(&pending, w.s, &op, &op, 11));
            CHECK_DEC(pending, "900");
        }
        CHECK_OK(opg_splitter_check(w.s));
        world_free(&w);
    }
}

/* A splitter made on a registry that already has nodes starts them as at genesis,
 * whatever call the registry saw last: made on a reloaded copy, it has the same
 * state hash, and the self-delegations earn from the first allocation on. */
static void test_splitter_new_independent_of_history(void)
{
    opg_registry_params rp;
    opg_registry_params_init(&rp);
    opg_u256_from_u64(&rp.power_reduction, 1);
    opg_registry *r, *r2;
    CHECK_OK(opg_registry_new(&r, &rp, NULL, NULL));
    world w = {r, NULL};
    CHECK_OK(add_node(&w, 1, "0.1", 100, 7));
    size_t len;
    CHECK_RC(opg_registry_save(NULL, 0, &len, r), OPG_EBUFS);
    uint8_t *buf = malloc(len);
    CHECK(buf != NULL);
    CHECK_OK(opg_registry_save(buf, len, &len, r));
    CHECK_OK(opg_registry_load(&r2, buf, len, NULL));
    free(buf);
    opg_splitter *s, *s2;
    CHECK_OK(opg_splitter_new(&s, r, NULL, NULL));
    CHECK_OK(opg_splitter_new(&s2, r2, NULL, NULL));
    uint8_t a[32], b[32];
    CHECK_OK(opg_splitter_state_hash(a, s));
    CHECK_OK(opg_splitter_state_hash(b, s2));
    CHECK(memcmp(a, b, 32) == 0);
    opg_id op = id_n(1);
    opg_u256 amt = u64v(1000);
    CHECK_OK(opg_splitter_allocate_to_node(s, &op, &amt));
    opg_dec pending;
    CHECK_OK(opg_splitter_pending_rewards(&pending, s, &op, &op, 7));
    CHECK_DEC(pending, "900");
    opg_splitter_free(s2);
    opg_splitter_free(s);
    opg_registry_free(r2);
    opg_registry_free(r);
}

/* Mint known answers, exact integer arithmetic of the x/mint formulas:
 * supply 10^27, nothing bonded: ratio 0, delta = quo(mul(1, 0.13), 6311520)
 * = 0.000000020597257079, inflation 0.130000020597257079, minted
 * trunc(0.130000020597257079 * 10^27 / 6311520) = 20597260342557272891. */
static void test_cosmos_mint(void)
{
    opg_registry *r;
    opg_u256 supply = u256_of("1000000000000000000000000000");
    CHECK_OK(opg_registry_new(&r, NULL, &supply, NULL));
    opg_splitter *s;
    CHECK_OK(opg_splitter_new(&s, r, NULL, NULL));
    opg_u256 m;
    CHECK_OK(opg_splitter_mint(&m, s, 1, 5));
    CHECK_U256(m, "20597260342557272891");
    opg_emission_info ei;
    opg_splitter_emission(&ei, s);
    CHECK_DEC(ei.inflation, "0.130000020597257079");
    CHECK_OK(opg_splitter_mint(&m, s, 2, 10)); /* the supply grew by the first mint */
    CHECK_U256(m, "20597264030242928965");
    opg_supply_info sup;
    opg_registry_supply(&sup, r);
    CHECK_U256(sup.total_supply, "1000000041194524372800201856");
    CHECK_RC(opg_splitter_mint(&m, s, 3, 9), OPG_EFUTURE);
    opg_splitter_free(s);

    /* clamped at the maximum */
    opg_splitter_params p;
    opg_splitter_params_init(&p);
    p.initial_inflation = dec_of("0.2");
    CHECK_OK(opg_splitter_new(&s, r, &p, NULL));
    opg_registry_supply(&sup, r);
    CHECK_OK(opg_splitter_mint(&m, s, 3, 15));
    opg_splitter_emission(&ei, s);
    CHECK_DEC(ei.inflation, "0.2");
    opg_splitter_free(s);
    opg_registry_free(r);

    /* everything bonded: inflation falls, clamped at the minimum */
    opg_registry_params rp;
    opg_registry_params_init(&rp);
    CHECK_OK(opg_registry_new(&r, &rp, &supply, NULL));
    opg_node_create c;
    memset(&c, 0, sizeof c);
    c.operator_id = id_n(1);
    c.consensus_key = cons_key_n(2);
    c.roles = OPG_ROLE_ALL;
    c.commission_max_rate = dec_of("1");
    c.min_self_delegation = u64v(1);
    c.self_delegation = supply;
    CHECK_OK(opg_registry_node_create(r, &c, 1, 5));
    CHECK_OK(opg_registry_end_block(r, 1, 5));
    p.initial_inflation = dec_of("0.07");
    CHECK_OK(opg_splitter_new(&s, r, &p, NULL));
    CHECK_OK(opg_splitter_mint(&m, s, 2, 10));
    opg_splitter_emission(&ei, s);
    CHECK_DEC(ei.inflation, "0.07");
    CHECK_U256(m, "11090830734910132582"); /* trunc(0.07 * 10^27 / 6311520) */
    opg_splitter_free(s);
    opg_registry_free(r);
}

/* floor(p0 * 2^(-k / 2^m)) exactly: the 2^m-th root of p0^(2^m) / 2^k */
static void exact_decay(mpz_t out, const char *p0, unsigned k, unsigned m)
{
    mpz_t x;
    mpz_init_set_str(x, p0, 10);
    mpz_pow_ui(x, x, 1u << m);
    mpz_fdiv_q_2exp(x, x, k);
    mpz_root(out, x, 1u << m);
    mpz_clear(x);
}

static void test_decay_exp2_accuracy(void)
{
    const char *pools[] = {"1000000000000000000000000000", "340282366920938463463374607431768211455",
                           "12345678901234567890123", "1000"};
    const opg_time h = 4 * 365 * 24 * 3600; /* divisible by 16 */
    mpz_t want, got;
    mpz_init(want);
    mpz_init(got);
    for (size_t i = 0; i < sizeof pools / sizeof *pools; i++) {
        opg_u256 p0 = u256_of(pools[i]), rem;
        /* t0 + h * k / 16 for k = 0..40: whole and fractional half-lives */
        for (unsigned k = 0; k <= 40; k++) {
            CHECK_OK(opg_splitter_decay_remaining(&rem, &p0, 1000, h, 1000 + (opg_time)(h / 16) * k));
            exact_decay(want, pools[i], k, 4);
            char buf[OPG_U256_STRING_MAX];
            opg_u256_to_string(buf, sizeof buf, NULL, &rem);
            mpz_set_str(got, buf, 10);
            mpz_sub(got, got, want);
            /* documented bound: within 1 base unit of the exact value */
            CHECK(mpz_cmpabs_ui(got, 1) <= 0);
        }
    }
    /* exactly one half-life halves the pool exactly (f = 0: no fixed-point step) */
    opg_u256 p0 = u256_of("1000000000000000000000000001"), rem;
    CHECK_OK(opg_splitter_decay_remaining(&rem, &p0, 0, h, h));
    CHECK_U256(rem, "500000000000000000000000000");
    CHECK_OK(opg_splitter_decay_remaining(&rem, &p0, 0, h, 0));
    CHECK_U256(rem, "1000000000000000000000000001");
    CHECK_OK(opg_splitter_decay_remaining(&rem, &p0, 0, h, (opg_time)h * 600));
    CHECK_U256(rem, "0");
    mpz_clear(want);
    mpz_clear(got);
}

static void test_decay_pool_sums_exactly(void)
{
    opg_registry *r;
    opg_u256 supply = u256_of("1000000000000000000000000000");
    CHECK_OK(opg_registry_new(&r, NULL, &supply, NULL));
    opg_splitter_params p;
    opg_splitter_params_init(&p);
    p.emission = OPG_EMISSION_DECAY_POOL;
    p.pool_amount = u256_of("400000000000000000000000000");
    p.pool_start = 1000;
    p.half_life = 2 * 365 * 24 * 3600;
    opg_splitter *s;
    CHECK_OK(opg_splitter_new(&s, r, &p, NULL));
    test_rng rng = {99};
    opg_time t = 900;
    opg_u256 sum = u64v(0), m, prev = u64v(0);
    for (int i = 0; i < 20000; i++) {
        t += 1 + (opg_time)rng_below(&rng, 20000); /* uneven block intervals */
        CHECK_OK(opg_splitter_mint(&m, s, (opg_height)i + 1, t));
        CHECK_OK(opg_u256_add(&sum, &sum, &m));
        (void)prev;
    }
    opg_u256 rem, want;
    CHECK_OK(opg_splitter_decay_remaining(&rem, &p.pool_amount, p.pool_start, p.half_life, t));
    CHECK_OK(opg_u256_sub(&want, &p.pool_amount, &rem));
    CHECK(opg_u256_cmp(&sum, &want) == 0); /* no drift: exactly R(t0) - R(t) */
    opg_supply_info sup;
    opg_registry_supply(&sup, r);
    CHECK_U256(sup.total_supply, "1000000000000000000000000000"); /* a pool mints nothing */

    /* pause: no emission while paused, and the paused time does not count */
    opg_emission_info before, after;
    opg_splitter_emission(&before, s);
    CHECK_OK(opg_splitter_pause(s, t));
    CHECK_RC(opg_splitter_pause(s, t), OPG_ESTATUS);
    CHECK_OK(opg_splitter_mint(&m, s, 30000, t + 1000000));
    CHECK_U256(m, "0");
    CHECK_OK(opg_splitter_resume(s, t + 1000000));
    CHECK_OK(opg_splitter_mint(&m, s, 30001, t + 1000000));
    CHECK_U256(m, "0");
    opg_splitter_emission(&after, s);
    CHECK(opg_u256_cmp(&before.pool_remaining, &after.pool_remaining) == 0);

    /* a new half-life re-anchors at what is left: nothing is lost or created */
    CHECK_OK(opg_splitter_param_set(s, "emission.half_life", "63072000"));
    opg_splitter_emission(&after, s);
    CHECK(opg_u256_cmp(&before.pool_remaining, &after.pool_remaining) == 0);
    CHECK_RC(opg_splitter_param_set(s, "emission.half_life", "1000"), OPG_EINVAL);
    /* emission continues, and the total never exceeds the pool */
    for (int i = 0; i < 200; i++) {
        t += 30000000;
        CHECK_OK(opg_splitter_mint(&m, s, (opg_height)40000 + (opg_height)i, t + 1000000));
        CHECK_OK(opg_u256_add(&sum, &sum, &m));
    }
    CHECK(opg_u256_cmp(&sum, &p.pool_amount) <= 0);
    opg_splitter_emission(&after, s);
    opg_u256 total;
    CHECK_OK(opg_u256_add(&total, &after.pool_remaining, &after.emitted_total));
    CHECK(opg_u256_cmp(&total, &p.pool_amount) == 0);
    opg_splitter_free(s);
    opg_registry_free(r);
}

static void test_linear_pool_reaches_p0(void)
{
    opg_registry *r;
    CHECK_OK(opg_registry_new(&r, NULL, NULL, NULL));
    opg_splitter_params p;
    opg_splitter_params_init(&p);
    p.emission = OPG_EMISSION_LINEAR_POOL;
    p.pool_amount = u256_of("1000000000000000000000000007");
    p.pool_start = 0;
    p.duration = 96 * 30 * 24 * 3600;
    opg_splitter *s;
    CHECK_OK(opg_splitter_new(&s, r, &p, NULL));
    opg_u256 sum = u64v(0), m;
    opg_time t = 0;
    test_rng rng = {5};
    int steps = 0;
    while (t < p.duration + 100000) {
        t += 1 + (opg_time)rng_below(&rng, 400000);
        CHECK_OK(opg_splitter_mint(&m, s, (opg_height)++steps, t));
        CHECK_OK(opg_u256_add(&sum, &sum, &m));
        if (t < p.duration)
            CHECK(opg_u256_cmp(&sum, &p.pool_amount) < 0);
    }
    CHECK(opg_u256_cmp(&sum, &p.pool_amount) == 0);
    CHECK_OK(opg_splitter_mint(&m, s, (opg_height)++steps, t + 1000));
    CHECK_U256(m, "0");
    opg_splitter_free(s);
    opg_registry_free(r);
}

/* A node with one base unit of stake and huge rewards: the per-token ratio of each
 * period is as large as the rewards themselves. Cosmos halts when its cumulative
 * ratio overflows; here the cumulative ratio is 384 bits wide, and the 256-bit
 * totals refuse (OPG_EOVERFLOW, nothing changed) any allocation that would take
 * the sum of all rewards, and so any ratio, past 2^256. */
static void test_wide_cumulative_ratio(void)
{
    world w;
    CHECK_OK(world_new(&w, "0", OPG_EMISSION_NONE, NULL));
    CHECK_OK(add_node(&w, 1, "0", 1, 1));
    opg_id op = id_n(1);
    /* 10^58 tokens per period: the ratio grows by 10^76 raw each time; eleven periods
     * reach 1.1 * 10^77, above 2^255 and close to 2^256 */
    opg_u256 big = u256_of("10000000000000000000000000000000000000000000000000000000000");
    opg_u256 paid;
    for (int i = 0; i < 11; i++) {
        CHECK_OK(opg_splitter_allocate_to_node(w.s, &op, &big));
        CHECK_OK(opg_splitter_withdraw_rewards(&paid, w.s, &op, &op, (opg_height)(2 + i), 10));
        CHECK(opg_u256_cmp(&paid, &big) == 0); /* every base unit, exactly */
    }
    uint32_t slot = opgi_node_find(w.r, &op);
    const f1_node *n = &w.s->nodes[slot];
    const f1_hist *last = &n->hist[n->n_hist - 1];
    CHECK(last->cum[3] >> 63); /* the cumulative ratio is above 2^255 */
    uint8_t h1[32], h2[32];
    CHECK_OK(opg_splitter_state_hash(h1, w.s));
    CHECK_RC(opg_splitter_allocate_to_node(w.s, &op, &big), OPG_EOVERFLOW);
    CHECK_OK(opg_splitter_state_hash(h2, w.s));
    CHECK(memcmp(h1, h2, 32) == 0);
    CHECK_OK(opg_splitter_check(w.s));
    world_free(&w);
}

/* The stake tolerance: a start stake more than 3e-18 above what the shares are worth
 * is an invariant error, refused with nothing changed (Cosmos would panic). */
static void test_stake_tolerance(void)
{
    world w;
    CHECK_OK(world_new(&w, "0", OPG_EMISSION_NONE, NULL));
    CHECK_OK(add_node(&w, 1, "0", 100, 1));
    opg_id op = id_n(1);
    CHECK_OK(allocate1(&w, 1, 1, 50, 2));
    /* corrupt the start stake in the record (white box) */
    opg_registry *r = w.r;
    uint32_t slot = opgi_node_find(r, &op);
    uint32_t del = opgi_del_find(r, &op, slot);
    opg_dec saved = r->dels[del].f1.stake;
    r->dels[del].f1.stake = dec_of("100.000000000000000003");
    opg_u256 paid;
    CHECK_OK(opg_splitter_withdraw_rewards(&paid, w.s, &op, &op, 3, 15)); /* 3e-18: tolerated */
    CHECK_U256(paid, "50");
    r->dels[del].f1.stake = dec_of("100.000000000000000004");
    uint8_t h1[32], h2[32], g1[32], g2[32];
    CHECK_OK(opg_splitter_state_hash(h1, w.s));
    CHECK_OK(opg_registry_state_hash(g1, w.r));
    CHECK_RC(opg_splitter_withdraw_rewards(&paid, w.s, &op, &op, 4, 20), OPG_EINVARIANT);
    opg_u256 more = u64v(5);
    CHECK_RC(opg_registry_delegate(NULL, w.r, &op, &op, &more, 4, 20), OPG_EINVARIANT);
    CHECK_OK(opg_splitter_state_hash(h2, w.s));
    CHECK_OK(opg_registry_state_hash(g2, w.r));
    CHECK(memcmp(h1, h2, 32) == 0 && memcmp(g1, g2, 32) == 0);
    r->dels[del].f1.stake = saved;
    world_free(&w);
}

static void test_params_by_key(void)
{
    world w;
    CHECK_OK(world_new(&w, "0.02", OPG_EMISSION_COSMOS_MINT, NULL));
    char buf[64];
    CHECK_OK(opg_splitter_param_get(buf, sizeof buf, NULL, w.s, "distribution.community_tax"));
    CHECK(strcmp(buf, "0.02") == 0);
    CHECK_OK(opg_splitter_param_set(w.s, "distribution.community_tax", "0.05"));
    CHECK_OK(opg_splitter_param_get(buf, sizeof buf, NULL, w.s, "distribution.community_tax"));
    CHECK(strcmp(buf, "0.05") == 0);
    CHECK_RC(opg_splitter_param_set(w.s, "distribution.community_tax", "1.5"), OPG_EINVAL);
    CHECK_RC(opg_splitter_param_set(w.s, "distribution.nope", "1"), OPG_EKEY);
    CHECK_RC(opg_splitter_param_set(w.s, "mint.inflation_min", "0.5"), OPG_EINVAL); /* above max */
    CHECK_RC(opg_splitter_param_set(w.s, "mint.blocks_per_year", "x"), OPG_EPARSE);
    CHECK_OK(opg_splitter_param_get(buf, sizeof buf, NULL, w.s, "mint.inflation_min"));
    CHECK(strcmp(buf, "0.07") == 0);
    size_t n = 0;
    while (opg_splitter_param_key(n))
        n++;
    CHECK(n >= 8);
    world_free(&w);
}

/* ------------------------------------------------------- property test */

typedef struct sim {
    world w;
    opg_height h;
    opg_time t;
} sim;

static int sim_step(sim *sm, test_rng *rng, int nodes, int dtors)
{
    opg_registry *r = sm->w.r;
    opg_splitter *s = sm->w.s;
    opg_id node = id_n(1 + (unsigned)rng_below(rng, (uint64_t)nodes));
    opg_id node2 = id_n(1 + (unsigned)rng_below(rng, (uint64_t)nodes));
    opg_id d = id_n(100 + (unsigned)rng_below(rng, (uint64_t)dtors));
    opg_u256 amt = u64v(1 + rng_below(rng, 5000));
    switch (rng_below(rng, 10)) {
    case 0: return opg_registry_delegate(NULL, r, &d, &node, &amt, sm->h, sm->t);
    case 1: return opg_registry_undelegate(NULL, NULL, r, &d, &node, &amt, sm->h, sm->t);
    case 2: return opg_registry_redelegate(NULL, r, &d, &node, &node2, &amt, sm->h, sm->t);
    case 3: {
        opg_commit_vote v[8];
        int n = 0;
        for (int i = 0; i < nodes && n < 8; i++) {
            opg_node_info ni;
            opg_id op = id_n(1 + (unsigned)i);
            if (opg_registry_node_get(&ni, r, &op) == OPG_OK && ni.status == OPG_NODE_BONDED) {
                v[n].consensus_key = ni.consensus_key;
                v[n].power = ni.power;
                char sc[8];
                snprintf(sc, sizeof sc, "0.%u", (unsigned)rng_below(rng, 10));
                v[n++].score = dec_of(sc);
            }
        }
        opg_u256 fees = u64v(rng_below(rng, 100000));
        int rc = opg_splitter_add_fees(s, &fees);
        return rc ? rc : opg_splitter_allocate(s, v, (size_t)n, sm->h, sm->t);
    }
    case 4: return opg_splitter_allocate_to_node(s, &node, &amt);
    case 5: return opg_splitter_withdraw_rewards(NULL, s, &d, &node, sm->h, sm->t);
    case 6: return opg_splitter_withdraw_commission(NULL, s, &node);
    case 7: {
        char f[24];
        snprintf(f, sizeof f, "0.%02u", (unsigned)rng_below(rng, 60));
        opg_dec frac = dec_of(f);
        opg_node_info ni;
        if (opg_registry_node_get(&ni, r, &node) != OPG_OK)
            return OPG_ENOTFOUND;
        opg_height inf = sm->h > 5 ? sm->h - rng_below(rng, 5) : sm->h;
        return opg_registry_slash(NULL, r, &node, inf, ni.power, &frac, sm->h, sm->t);
    }
    case 8: return opg_splitter_mint(NULL, s, sm->h, sm->t);
    default:
        sm->h++;
        sm->t += 5 + (opg_time)rng_below(rng, 200000);
        return opg_registry_end_block(r, sm->h, sm->t);
    }
}

static int save_both(uint8_t **rb, size_t *rl, uint8_t **sb, size_t *sl, const world *w)
{
    opg_registry_save(NULL, 0, rl, w->r);
    opg_splitter_save(NULL, 0, sl, w->s);
    *rb = malloc(*rl);
    *sb = malloc(*sl);
    return opg_registry_save(*rb, *rl, rl, w->r) | opg_splitter_save(*sb, *sl, sl, w->s);
}

static void test_conservation_random(void)
{
    sim sm;
    CHECK_OK(world_new(&sm.w, "0.02", OPG_EMISSION_COSMOS_MINT, NULL));
    const int nodes = 6, dtors = 20;
    for (int i = 0; i < nodes; i++)
        CHECK_OK(add_node(&sm.w, 1 + (unsigned)i, i % 2 ? "0.05" : "0.2", 10000 + 1000 * (uint64_t)i, 1));
    sm.h = 1;
    sm.t = 5;
    CHECK_OK(opg_registry_end_block(sm.w.r, 1, 5));
    test_rng rng = {2024};
    int ok = 0, refused = 0;
    for (int step = 0; step < 4000; step++) {
        uint8_t a1[32], a2[32], b1[32], b2[32];
        CHECK_OK(opg_registry_state_hash(a1, sm.w.r));
        CHECK_OK(opg_splitter_state_hash(b1, sm.w.s));
        int rc = sim_step(&sm, &rng, nodes, dtors);
        if (rc) {
            refused++;
            CHECK_OK(opg_registry_state_hash(a2, sm.w.r));
            CHECK_OK(opg_splitter_state_hash(b2, sm.w.s));
            CHECK(memcmp(a1, a2, 32) == 0 && memcmp(b1, b2, 32) == 0);
        } else {
            ok++;
        }
        if (opg_splitter_check(sm.w.s) != OPG_OK || opg_registry_check(sm.w.r) != OPG_OK) {
            printf("  step %d: %s / %s\n", step, opg_splitter_last_error(sm.w.s),
                   opg_registry_last_error(sm.w.r));
            CHECK(0);
        }
        if (step % 200 == 199) {
            uint8_t *rb, *sb, *rb2, *sb2;
            size_t rl, sl, rl2, sl2;
            CHECK_OK(save_both(&rb, &rl, &sb, &sl, &sm.w));
            world w2;
            CHECK_OK(opg_registry_load(&w2.r, rb, rl, NULL));
            CHECK_OK(opg_splitter_load(&w2.s, w2.r, sb, sl, NULL));
            CHECK_OK(save_both(&rb2, &rl2, &sb2, &sl2, &w2));
            CHECK(rl == rl2 && sl == sl2 && memcmp(rb, rb2, rl) == 0 && memcmp(sb, sb2, sl) == 0);
            /* the loaded pair keeps working exactly like the original */
            test_rng fork = rng;
            sim sm2 = {w2, sm.h, sm.t};
            for (int k = 0; k < 20; k++) {
                test_rng f1 = fork;
                int r1 = sim_step(&sm, &fork, nodes, dtors);
                int r2 = sim_step(&sm2, &f1, nodes, dtors);
                CHECK(r1 == r2);
            }
            rng = fork;
            uint8_t x1[32], x2[32];
            CHECK_OK(opg_splitter_state_hash(x1, sm.w.s));
            CHECK_OK(opg_splitter_state_hash(x2, w2.s));
            CHECK(memcmp(x1, x2, 32) == 0);
            world_free(&w2);
            free(rb); free(sb); free(rb2); free(sb2);
        }
    }
    printf("  %d calls applied, %d refused\n", ok, refused);
    CHECK(ok > 1000 && refused > 50);
    world_free(&sm.w);
}

/* Hashes both handles without letting the hashing use up the failure point. */
static void hash_both(failalloc *fa, const world *w, uint8_t a[32], uint8_t b[32])
{
    unsigned long fail_at = fa->fail_at, calls = fa->calls;
    fa->fail_at = 0;
    opg_registry_state_hash(a, w->r);
    opg_splitter_state_hash(b, w->s);
    fa->fail_at = fail_at;
    fa->calls = calls;
}

/* For n = 1, 2, 3 ... fail the n-th allocation of a scripted sequence: the failing
 * call returns OPG_ENOMEM and leaves both state hashes as they were, the handles keep
 * working, and nothing leaks. Ends when a run sees no failure. */
static void test_allocation_failures(void)
{
    unsigned long n;
    int failures_seen = 0;
    for (n = 1;; n++) {
        failalloc fa;
        failalloc_init(&fa, n);
        opg_allocator a = failalloc_allocator(&fa);
        world w;
        int rc = world_new(&w, "0.02", OPG_EMISSION_COSMOS_MINT, &a);
        if (rc) {
            CHECK(rc == OPG_ENOMEM);
            CHECK(fa.live_bytes == 0);
            failures_seen++;
            continue;
        }
        for (int i = 1; i <= 4; i++) {
            opg_id op = id_n((unsigned)i), d = id_n(60);
            opg_u256 amt = u64v(500), fees = u64v(1000);
            opg_commit_vote v = {cons_key_n(1000 + (unsigned)i), 10, dec_of("1")};
            for (int k = 0; k < 8; k++) {
                uint8_t a1[32], b1[32], a2[32], b2[32];
                hash_both(&fa, &w, a1, b1);
                switch (k) {
                case 0: rc = add_node(&w, (unsigned)i, "0.1", 1000, (opg_height)i); break;
                case 1: rc = opg_registry_delegate(NULL, w.r, &d, &op, &amt, (opg_height)i, 10); break;
                case 2: rc = opg_registry_end_block(w.r, (opg_height)i, 10); break;
                case 3: rc = opg_splitter_add_fees(w.s, &fees); break;
                case 4: rc = opg_splitter_allocate(w.s, &v, 1, (opg_height)i, 10); break;
                case 5: rc = opg_splitter_withdraw_rewards(NULL, w.s, &d, &op, (opg_height)i + 1, 20); break;
                case 6: rc = opg_registry_undelegate(NULL, NULL, w.r, &d, &op, &amt, (opg_height)i + 1, 20); break;
                default: {
                    opg_id other = id_n(1);
                    rc = opg_registry_redelegate(NULL, w.r, &d, &op, &other, &amt, (opg_height)i + 1, 20);
                    if (rc == OPG_EINVAL || rc == OPG_ENOTFOUND || rc == OPG_ETRANSITIVE || rc == OPG_EUNDERFLOW)
                        rc = OPG_OK; /* refused by the rules, not by memory */
                    break;
                }
                }
                if (rc) {
                    CHECK_RC(rc, OPG_ENOMEM);
                    hash_both(&fa, &w, a2, b2);
                    if (memcmp(a1, a2, 32) != 0 || memcmp(b1, b2, 32) != 0)
                        printf("  call %d of round %d changed state when allocation %lu failed\n", k, i, n);
                    CHECK(memcmp(a1, a2, 32) == 0 && memcmp(b1, b2, 32) == 0);
                    failures_seen++;
                    k--; /* the failure point is used up: the same call now succeeds */
                }
            }
        }
        fa.fail_at = 0;
        CHECK_OK(opg_splitter_check(w.s));
        CHECK_OK(opg_registry_check(w.r));
        world_free(&w);
        CHECK(fa.live_bytes == 0);
        if (fa.failures == 0)
            break;
    }
    printf("  allocation failure points tried: %lu, failures handled: %d\n", n, failures_seen);
    CHECK(n > 10);
}

int main(void)
{
    RUN(test_single_delegator_half_commission);
    RUN(test_rewards_across_half_slash);
    RUN(test_two_delegators_join_at_different_periods);
    RUN(test_full_commission);
    RUN(test_two_nodes_tax_and_dust);
    RUN(test_performance_share);
    RUN(test_direct_allocation);
    RUN(test_rewards_zero_in_creation_block);
    RUN(test_splitter_new_independent_of_history);
    RUN(test_cosmos_mint);
    RUN(test_decay_exp2_accuracy);
    RUN(test_decay_pool_sums_exactly);
    RUN(test_linear_pool_reaches_p0);
    RUN(test_wide_cumulative_ratio);
    RUN(test_stake_tolerance);
    RUN(test_params_by_key);
    RUN(test_conservation_random);
    RUN(test_allocation_failures);
    return harness_done();
}
