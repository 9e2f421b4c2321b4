/*
 * test_hyper_vault.c - vaults, host strategies and yield routing (opg_hyper.h): the
 * eight ERC-4626 functions worked out by hand, the inflation attack, withdrawal
 * claims slashed during unbonding, the centralisation guard, transfers, conservation
 * over random sequences, saved state, a strategy callback returning each kind of
 * garbage, the churn limit, routes and a routing cycle, failed calls and allocation
 * failures at every point of a call and of an epoch.
 */
#include "harness.h"
#include "failalloc.h"

typedef struct world {
    opg_registry *r;
    opg_splitter *s;
    opg_slasher *sl;
    opg_hyper *h;
} world;

/* power_reduction 1, no tax, no emission, unbonding time 1000, a slasher attached. */
static int world_new(world *w, const opg_allocator *a)
{
    memset(w, 0, sizeof *w);
    opg_registry_params rp;
    opg_registry_params_init(&rp);
    opg_u256_from_u64(&rp.power_reduction, 1);
    rp.unbonding_time = 1000;
    opg_u256 supply = u64v(1000000000000000);
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

static int add_node_rate(world *w, unsigned n, uint64_t self, const char *rate);
static int add_node(world *w, unsigned n, uint64_t self) { return add_node_rate(w, n, self, "0"); }

static int add_node_rate(world *w, unsigned n, uint64_t self, const char *rate)
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

/* Equal FIXED weights over nodes 1..n, auto-compounding. */
static opg_hyper_policy vault_policy(opg_hyper_weight *wts, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        wts[i].node = id_n(i + 1);
        wts[i].weight = dec_of("1");
    }
    opg_hyper_policy p;
    memset(&p, 0, sizeof p);
    p.kind = OPG_HYPER_FIXED;
    p.weights = wts;
    p.n_weights = n;
    p.cap = dec_of("1");
    p.max_nodes = n;
    p.auto_compound = 1;
    p.rebalance_threshold = dec_of("0.5");
    return p;
}

/* A world with n nodes of `self` tokens and vault id 500 with decimals offset d. */
static int vault_world(world *w, const opg_allocator *a, unsigned n, uint64_t self, const char *d)
{
    int rc = world_new(w, a);
    if (rc)
        return rc;
    for (unsigned i = 1; i <= n && rc == OPG_OK; i++)
        rc = add_node(w, i, self);
    if (rc == OPG_OK)
        rc = opg_registry_end_block(w->r, 1, 10);
    if (rc == OPG_OK)
        rc = opg_hyper_param_set(w->h, "hyper.vault_decimals_offset", d);
    opg_hyper_weight wts[8];
    opg_hyper_policy pol = vault_policy(wts, n);
    opg_id v = id_n(500);
    if (rc == OPG_OK)
        rc = opg_hyper_vault_create(w->h, &v, &pol, 1);
    if (rc)
        world_free(w);
    return rc;
}

typedef struct hashes {
    uint8_t r[32], s[32], h[32];
} hashes;

static void take_hashes(hashes *x, const world *w)
{
    CHECK_OK(opg_registry_state_hash(x->r, w->r));
    CHECK_OK(opg_splitter_state_hash(x->s, w->s));
    CHECK_OK(opg_hyper_state_hash(x->h, w->h));
}

static int same_hashes(const hashes *a, const hashes *b) { return memcmp(a, b, sizeof *a) == 0; }

static opg_u256 shares_of(const world *w, unsigned holder)
{
    opg_id v = id_n(500), x = id_n(holder);
    opg_u256 s = u64v(0);
    if (opg_hyper_vault_balance(&s, NULL, w->h, &v, &x) != OPG_OK)
        s = u256_of("115792089237316195423570985008687907853269984665640564039457584007913129639935");
    return s;
}

#define CHECK_SHARES(w, holder, want)                  \
    do {                                               \
        opg_u256 sh_v_ = shares_of((w), (holder));     \
        CHECK_U256(sh_v_, want);                       \
    } while (0)

/* A "donation": stake delegated by hand with the vault id as the delegator. */
static void donate(world *w, unsigned node, uint64_t amount, opg_height height)
{
    opg_id v = id_n(500), op = id_n(node);
    opg_u256 a = u64v(amount);
    CHECK_OK(opg_registry_delegate(NULL, w->r, &v, &op, &a, height, (opg_time)height * 10));
}

static void test_rounding_by_hand(void)
{
    world w;
    CHECK_OK(vault_world(&w, NULL, 1, 1000, "0"));
    opg_id v = id_n(500), alice = id_n(601), bob = id_n(602);
    opg_u256 x, out;
    /* empty vault, d = 0: to_shares(a) = a * (0 + 1) / (0 + 1) = a */
    opg_u256 hundred = u64v(100);
    CHECK_OK(opg_hyper_vault_deposit(&out, w.h, &v, &alice, &hundred, 2, 20));
    CHECK_U256(out, "100");
    /* A = 150 after a donation of 50, S = 100: S + v = 101, A + 1 = 151 */
    donate(&w, 1, 50, 2);
    opg_hyper_vault_info vi;
    CHECK_OK(opg_hyper_vault_get(&vi, w.h, &v, 2));
    CHECK_U256(vi.total_assets, "150");
    CHECK_U256(vi.total_shares, "100");
    /* price = trunc(10^18 * 151 / 101) / 10^18 */
    CHECK_DEC(vi.share_price, "1.495049504950495049");
    x = u64v(10);
    /* deposit: floor(10 * 101 / 151) = floor(6.69) = 6 */
    CHECK_OK(opg_hyper_vault_preview_deposit(&out, w.h, &v, &x, 2));
    CHECK_U256(out, "6");
    /* mint: ceil(10 * 151 / 101) = ceil(14.95) = 15 */
    CHECK_OK(opg_hyper_vault_preview_mint(&out, w.h, &v, &x, 2));
    CHECK_U256(out, "15");
    /* withdraw: ceil(10 * 101 / 151) = ceil(6.69) = 7 */
    CHECK_OK(opg_hyper_vault_preview_withdraw(&out, w.h, &v, &x, 2));
    CHECK_U256(out, "7");
    /* redeem: floor(10 * 151 / 101) = floor(14.95) = 14 */
    CHECK_OK(opg_hyper_vault_preview_redeem(&out, w.h, &v, &x, 2));
    CHECK_U256(out, "14");

    /* the calls give what their previews said */
    CHECK_OK(opg_hyper_vault_deposit(&out, w.h, &v, &bob, &x, 3, 30));
    CHECK_U256(out, "6"); /* A = 160, S = 106 */
    CHECK_SHARES(&w, 602, "6");
    /* mint 10: ceil(10 * 161 / 107) = ceil(15.05) = 16 */
    CHECK_OK(opg_hyper_vault_mint(&out, w.h, &v, &bob, &x, 3, 30));
    CHECK_U256(out, "16"); /* A = 176, S = 116 */
    CHECK_SHARES(&w, 602, "16");
    /* withdraw 10: ceil(10 * 117 / 177) = ceil(6.61) = 7 shares burned */
    uint64_t cid;
    CHECK_OK(opg_hyper_vault_withdraw(&out, &cid, w.h, &v, &bob, &x, 3, 30));
    CHECK_U256(out, "7"); /* A = 166, S = 109 */
    CHECK_SHARES(&w, 602, "9");
    CHECK(cid == 1);
    /* redeem 9: floor(9 * 167 / 110) = floor(13.66) = 13 */
    x = u64v(9);
    CHECK_OK(opg_hyper_vault_redeem(&out, &cid, w.h, &v, &bob, &x, 3, 30));
    CHECK_U256(out, "13");
    CHECK(cid == 2);
    CHECK_SHARES(&w, 602, "0");
    CHECK_OK(opg_hyper_vault_get(&vi, w.h, &v, 3));
    CHECK_U256(vi.total_assets, "153");
    CHECK_U256(vi.total_shares, "100");
    CHECK_U256(vi.queued, "23");
    /* zero shares are refused, not taken */
    x = u64v(1);
    CHECK_RC(opg_hyper_vault_deposit(&out, w.h, &v, &bob, &x, 3, 30), OPG_EZERO);
    CHECK_OK(opg_registry_check(w.r));
    world_free(&w);
}

static void test_inflation_attack(void)
{
    world w;
    CHECK_OK(vault_world(&w, NULL, 1, 1000, "6"));
    opg_id v = id_n(500), attacker = id_n(601), victim = id_n(602);
    opg_u256 out, one = u64v(1), big = u64v(1000000000);
    /* the attacker is first with 1 base unit (10^6 shares), then donates 10^9 */
    CHECK_OK(opg_hyper_vault_deposit(&out, w.h, &v, &attacker, &one, 2, 20));
    CHECK_U256(out, "1000000");
    donate(&w, 1, 1000000000, 2);
    /* the victim's 10^9 still buys shares: trunc(10^9 * 2*10^6 / (10^9 + 2)) */
    CHECK_OK(opg_hyper_vault_deposit(&out, w.h, &v, &victim, &big, 3, 30));
    CHECK_U256(out, "1999999");
    /* A = 2*10^9 + 1, S = 2999999, S + v = 3999999: the attacker's 10^6 shares redeem
     * trunc(10^6 * (2*10^9 + 2) / 3999999) = 500000125 of the 10^9 + 1 it put in (the
     * virtual shares took half of its donation); the victim's redeem 999999750, a loss
     * of 2.5 * 10^-7 */
    opg_u256 s = shares_of(&w, 601), a;
    CHECK_OK(opg_hyper_vault_preview_redeem(&a, w.h, &v, &s, 3));
    CHECK_U256(a, "500000125");
    s = shares_of(&w, 602);
    CHECK_OK(opg_hyper_vault_preview_redeem(&a, w.h, &v, &s, 3));
    CHECK_U256(a, "999999750");
    /* without the virtual shares (d = 0) the same donation would make the victim's
     * deposit buy nothing: it is refused rather than taken */
    world w0;
    CHECK_OK(vault_world(&w0, NULL, 1, 1000, "0"));
    CHECK_OK(opg_hyper_vault_deposit(&out, w0.h, &v, &attacker, &one, 2, 20));
    donate(&w0, 1, 1000000000, 2);
    opg_u256 small = u64v(400000000);
    CHECK_RC(opg_hyper_vault_deposit(&out, w0.h, &v, &victim, &small, 3, 30), OPG_EZERO);
    world_free(&w0);
    world_free(&w);
}

static void test_claims_slashed_in_unbonding(void)
{
    world w;
    CHECK_OK(vault_world(&w, NULL, 2, 1000, "0"));
    opg_id v = id_n(500), a = id_n(601), b = id_n(602);
    opg_u256 amt = u64v(1000), out;
    CHECK_OK(opg_hyper_vault_deposit(&out, w.h, &v, &a, &amt, 2, 20));
    CHECK_OK(opg_hyper_vault_deposit(&out, w.h, &v, &b, &amt, 2, 20));
    CHECK_U256(out, "1000");
    /* a redeems 1000 (500 per node), b 500 (250 per node), in one block: the node 1
     * entries merge into one of 750 */
    uint64_t ca, cb;
    CHECK_OK(opg_hyper_vault_redeem(&out, &ca, w.h, &v, &a, &amt, 3, 30));
    CHECK_U256(out, "1000");
    opg_u256 half = u64v(500);
    CHECK_OK(opg_hyper_vault_redeem(&out, &cb, w.h, &v, &b, &half, 3, 30));
    CHECK_U256(out, "500");
    size_t nm;
    const opg_hyper_move *m = opg_hyper_moves(w.h, &nm);
    CHECK(nm == 2 && m[0].kind == OPG_HYPER_UNDELEGATE && m[0].completion == 1030);
    /* node 1 slashed by 10% of its power 2000 at height 2, 200 tokens: its unbonding
     * entry of 750 becomes 675, its 1250 bonded tokens lose the other 125 (10%) */
    opg_id n1 = id_n(1);
    opg_dec f = dec_of("0.1");
    opg_slash_result sr;
    CHECK_OK(opg_registry_slash(&sr, w.r, &n1, 2, 2000, &f, 4, 40));
    /* nothing matures before the completion time */
    CHECK_OK(opg_hyper_end_block(w.h, 5, 1029));
    opg_hyper_moves(w.h, &nm);
    CHECK(nm == 0);
    /* at 1030, hyper's end_block (before the registry's): a = trunc(500 * 675 / 750)
     * + 500 = 950; b = trunc(250 * 675 / 750) + 250 = 475 */
    CHECK_OK(opg_hyper_end_block(w.h, 6, 1030));
    m = opg_hyper_moves(w.h, &nm);
    CHECK(nm == 2 && m[0].kind == OPG_HYPER_MATURED && opg_id_cmp(&m[0].owner, &a) == 0);
    CHECK_U256(m[0].amount, "950");
    CHECK_U256(m[1].amount, "475");
    CHECK_OK(opg_registry_end_block(w.r, 6, 1030));
    size_t ne;
    const opg_event *ev = opg_registry_events(w.r, &ne);
    opg_u256 paid = u64v(0);
    for (size_t i = 0; i < ne; i++)
        if (ev[i].kind == OPG_EVENT_UNBONDING_MATURED && opg_id_cmp(&ev[i].account, &v) == 0)
            CHECK_OK(opg_u256_add(&paid, &paid, &ev[i].amount));
    CHECK_U256(paid, "1425"); /* 675 + 750: every claim, no remainder */
    opg_u256 cl;
    CHECK_OK(opg_hyper_vault_claim(&cl, w.h, &v, &a));
    CHECK_U256(cl, "950");
    m = opg_hyper_moves(w.h, &nm);
    CHECK(nm == 1 && m[0].kind == OPG_HYPER_CLAIM);
    CHECK_RC(opg_hyper_vault_claim(&cl, w.h, &v, &a), OPG_ENOTFOUND); /* a holds nothing now */
    CHECK_OK(opg_hyper_vault_claim(&cl, w.h, &v, &b));
    CHECK_U256(cl, "475");
    CHECK_SHARES(&w, 602, "500");
    /* the slash also lowered the bonded stake: 225 + 250 = 475 for b's 500 shares */
    opg_hyper_vault_info vi;
    CHECK_OK(opg_hyper_vault_get(&vi, w.h, &v, 6));
    CHECK_U256(vi.total_assets, "475");
    CHECK_U256(vi.queued, "0");
    world_free(&w);
}

static void test_idle_and_end_block_order(void)
{
    world w;
    CHECK_OK(vault_world(&w, NULL, 1, 1000, "0"));
    opg_id v = id_n(500), a = id_n(601);
    opg_u256 amt = u64v(100), out;
    CHECK_OK(opg_hyper_vault_deposit(&out, w.h, &v, &a, &amt, 2, 20));
    CHECK_OK(opg_hyper_vault_redeem(&out, NULL, w.h, &v, &a, &amt, 3, 30));
    /* the registry's end_block first: the entries are gone, hyper refuses */
    CHECK_OK(opg_registry_end_block(w.r, 4, 1030));
    hashes before, after;
    take_hashes(&before, &w);
    CHECK_RC(opg_hyper_end_block(w.h, 4, 1030), OPG_ESTATUS);
    take_hashes(&after, &w);
    CHECK(same_hashes(&before, &after));
    world_free(&w);
}

static void test_transfer(void)
{
    world w;
    CHECK_OK(vault_world(&w, NULL, 1, 1000, "3"));
    opg_id v = id_n(500), a = id_n(601), b = id_n(602), c = id_n(603);
    opg_u256 amt = u64v(100), out, s;
    CHECK_OK(opg_hyper_vault_deposit(&out, w.h, &v, &a, &amt, 2, 20));
    CHECK_U256(out, "100000");
    s = u64v(40000);
    CHECK_OK(opg_hyper_vault_transfer(w.h, &v, &a, &b, &s));
    CHECK_SHARES(&w, 601, "60000");
    CHECK_SHARES(&w, 602, "40000");
    s = u64v(60001);
    CHECK_RC(opg_hyper_vault_transfer(w.h, &v, &a, &c, &s), OPG_EUNDERFLOW);
    s = u64v(0);
    CHECK_RC(opg_hyper_vault_transfer(w.h, &v, &a, &c, &s), OPG_EZERO);
    s = u64v(60000);
    CHECK_OK(opg_hyper_vault_transfer(w.h, &v, &a, &a, &s));
    CHECK_OK(opg_hyper_vault_transfer(w.h, &v, &a, &c, &s));
    opg_hyper_vault_info vi;
    CHECK_OK(opg_hyper_vault_get(&vi, w.h, &v, 2));
    CHECK(vi.n_holders == 2); /* a holds nothing: gone */
    opg_id first;
    CHECK_OK(opg_hyper_vault_holder_at(&first, w.h, &v, 0));
    CHECK(opg_id_cmp(&first, &b) == 0);
    CHECK_RC(opg_hyper_vault_holder_at(&first, w.h, &v, 2), OPG_ENOTFOUND);
    /* a vault is not a plain position */
    CHECK_RC(opg_hyper_deposit(w.h, &v, &amt, 2, 20), OPG_ESTATUS);
    CHECK_RC(opg_hyper_withdraw(NULL, w.h, &v, &amt, 2, 20), OPG_ESTATUS);
    CHECK_RC(opg_hyper_position_close(w.h, &v), OPG_ESTATUS);
    world_free(&w);
}

static void test_centralisation_cap(void)
{
    world w;
    CHECK_OK(vault_world(&w, NULL, 1, 1000, "0"));
    CHECK_OK(opg_hyper_param_set(w.h, "hyper.vault_node_cap", "0.5"));
    opg_id v = id_n(500), a = id_n(601);
    opg_u256 amt = u64v(1000), one = u64v(1), out;
    /* 1000 of 2000: exactly the cap */
    CHECK_OK(opg_hyper_vault_deposit(&out, w.h, &v, &a, &amt, 2, 20));
    hashes before, after;
    take_hashes(&before, &w);
    CHECK_RC(opg_hyper_vault_deposit(&out, w.h, &v, &a, &one, 2, 20), OPG_ELIMIT);
    take_hashes(&after, &w);
    CHECK(same_hashes(&before, &after));
    /* a second vault counts with the first */
    opg_hyper_weight wts[1];
    opg_hyper_policy pol = vault_policy(wts, 1);
    opg_id v2 = id_n(501);
    CHECK_OK(opg_hyper_vault_create(w.h, &v2, &pol, 2));
    CHECK_RC(opg_hyper_vault_deposit(&out, w.h, &v2, &a, &one, 2, 20), OPG_ELIMIT);
    /* the node grows by hand: room again */
    opg_id other = id_n(700), n1 = id_n(1);
    opg_u256 more = u64v(10);
    CHECK_OK(opg_registry_delegate(NULL, w.r, &other, &n1, &more, 2, 20));
    CHECK_OK(opg_hyper_vault_deposit(&out, w.h, &v2, &a, &more, 2, 20));
    world_free(&w);
}

/* The moves of kind k in the last call, summed, and how many there were. */
static size_t moves_of(const world *w, opg_hyper_move_kind k, opg_u256 *sum)
{
    size_t nm, c = 0;
    const opg_hyper_move *m = opg_hyper_moves(w->h, &nm);
    *sum = u64v(0);
    for (size_t i = 0; i < nm; i++)
        if (m[i].kind == k) {
            if (opg_u256_add(sum, sum, &m[i].amount) != OPG_OK)
                return SIZE_MAX; /* no such sum fails a check */
            c++;
        }
    return c;
}

/* At an epoch the guard redirects: compounding beyond the cap stays idle. */
static void test_centralisation_cap_compounding(void)
{
    world w;
    CHECK_OK(vault_world(&w, NULL, 1, 1000, "0"));
    CHECK_OK(opg_hyper_param_set(w.h, "hyper.vault_node_cap", "0.5"));
    opg_id v = id_n(500), a = id_n(601), n1 = id_n(1), other = id_n(700);
    opg_u256 amt = u64v(1000), out, sum;
    CHECK_OK(opg_hyper_vault_deposit(&out, w.h, &v, &a, &amt, 2, 20));
    /* node 1: 2000 tokens, half the vault's; 1000 of fees earn the vault 500, and
     * room = (0.5 * 2000 - 1000) / 0.5 = 0: all of it is held back */
    opg_u256 fees = u64v(1000);
    CHECK_OK(opg_splitter_allocate_to_node(w.s, &n1, &fees));
    size_t done, nr;
    CHECK_OK(opg_hyper_epoch(&done, w.h, NULL, 0, 3, 30));
    CHECK(moves_of(&w, OPG_HYPER_GUARD, &sum) == 1);
    CHECK_U256(sum, "500");
    CHECK(moves_of(&w, OPG_HYPER_COMPOUND, &sum) == 0);
    const opg_hyper_vault_report *rp = opg_hyper_vault_reports(w.h, &nr);
    CHECK(nr == 1);
    CHECK_U256(rp[0].guard_held, "500");
    CHECK_U256(rp[0].total_assets, "1500"); /* 1000 staked + 500 idle */
    opg_hyper_vault_info vi;
    CHECK_OK(opg_hyper_vault_get(&vi, w.h, &v, 3));
    CHECK_U256(vi.idle, "500");
    /* the node grows to 3000 by another delegator: 1000 more fees earn the vault 333
     * (1000 * 1000 / 3000, truncated), and room = (0.5 * 3000 - 1000) / 0.5 = 1000 */
    amt = u64v(1000);
    CHECK_OK(opg_registry_delegate(NULL, w.r, &other, &n1, &amt, 3, 30));
    CHECK_OK(opg_splitter_allocate_to_node(w.s, &n1, &fees));
    CHECK_OK(opg_hyper_epoch(&done, w.h, NULL, 0, 4, 40));
    CHECK(moves_of(&w, OPG_HYPER_GUARD, &sum) == 0);
    CHECK(moves_of(&w, OPG_HYPER_COMPOUND, &sum) == 1);
    CHECK_U256(sum, "333");
    rp = opg_hyper_vault_reports(w.h, &nr);
    CHECK(nr == 1);
    CHECK_U256(rp[0].guard_held, "0");
    world_free(&w);
}

/* A rebalance into a node takes what fits under the cap; the rest stays on its source. */
static void test_centralisation_cap_rebalance(void)
{
    world w;
    CHECK_OK(vault_world(&w, NULL, 2, 1000, "0"));
    opg_id v = id_n(500), a = id_n(601), n1 = id_n(1), n2 = id_n(2);
    opg_u256 amt = u64v(1000), out, sum;
    CHECK_OK(opg_hyper_vault_deposit(&out, w.h, &v, &a, &amt, 2, 20)); /* 500 on each */
    CHECK_OK(opg_hyper_param_set(w.h, "hyper.vault_node_cap", "0.4"));
    opg_hyper_weight to2[1] = {{n2, dec_of("1")}};
    opg_hyper_policy pol = vault_policy(to2, 1);
    to2[0].node = n2; /* vault_policy names nodes from 1 */
    pol.rebalance_threshold = dec_of("0");
    CHECK_OK(opg_hyper_position_set_policy(w.h, &v, &pol));
    /* node 2: 1500 tokens, 500 the vault's: room = (0.4 * 1500 - 500) / 0.6 = 166 */
    hashes before;
    take_hashes(&before, &w);
    size_t done, nr;
    CHECK_OK(opg_hyper_epoch(&done, w.h, NULL, 0, 3, 30));
    CHECK(moves_of(&w, OPG_HYPER_REDELEGATE, &sum) == 1);
    CHECK_U256(sum, "166");
    CHECK(moves_of(&w, OPG_HYPER_GUARD, &sum) == 1);
    CHECK_U256(sum, "334");
    size_t nm;
    const opg_hyper_move *m = opg_hyper_moves(w.h, &nm);
    for (size_t i = 0; i < nm; i++)
        if (m[i].kind == OPG_HYPER_GUARD)
            CHECK(opg_id_cmp(&m[i].src, &n1) == 0 && opg_id_cmp(&m[i].dst, &n2) == 0);
    const opg_hyper_vault_report *rp = opg_hyper_vault_reports(w.h, &nr);
    CHECK(nr == 1);
    CHECK_U256(rp[0].guard_held, "334");
    opg_delegation_info d1, d2;
    CHECK_OK(opg_registry_delegation_get(&d1, w.r, &v, &n1));
    CHECK_OK(opg_registry_delegation_get(&d2, w.r, &v, &n2));
    CHECK_DEC(d1.shares, "334");
    CHECK_DEC(d2.shares, "666");
    /* 666 of 1666 is within 0.4; one more token would not be: the next epoch is full */
    CHECK_OK(opg_hyper_epoch(&done, w.h, NULL, 0, 4, 40));
    CHECK(moves_of(&w, OPG_HYPER_REDELEGATE, &sum) == 0);
    CHECK(moves_of(&w, OPG_HYPER_GUARD, &sum) == 1);
    CHECK_U256(sum, "334");
    /* without the guard the rest moves */
    CHECK_OK(opg_hyper_param_set(w.h, "hyper.vault_node_cap", "1"));
    CHECK_OK(opg_hyper_epoch(&done, w.h, NULL, 0, 5, 50));
    CHECK(moves_of(&w, OPG_HYPER_REDELEGATE, &sum) == 1);
    CHECK_U256(sum, "334");
    CHECK(moves_of(&w, OPG_HYPER_GUARD, &sum) == 0);
    world_free(&w);
}

/* Random deposits, mints, withdrawals, redemptions, transfers, donations, slashes and
 * blocks over 3 holders, with the host's ledger of the vault id's account: it always
 * holds idle + claimable, shares add up to the supply, and no holder ends with more
 * than it put in (no rewards, so round trips can only lose). */
static void test_conservation_random(void)
{
    for (uint64_t seed = 1; seed <= 12; seed++) {
        test_rng rng = {seed * 0x9e3779b97f4a7c15ull};
        world w;
        CHECK_OK(vault_world(&w, NULL, 3, 1000, seed % 2 ? "0" : "4"));
        opg_id v = id_n(500);
        opg_u256 in[3], out_[3], account = u64v(0);
        for (int i = 0; i < 3; i++)
            in[i] = out_[i] = u64v(0);
        int donated = 0;
        opg_height height = 2;
        opg_time now = 20;
        for (int step = 0; step < 300; step++) {
            int k = (int)rng_below(&rng, 3);
            opg_id who = id_n(601 + (unsigned)k), to = id_n(601 + (unsigned)rng_below(&rng, 3));
            opg_u256 x = u64v(1 + rng_below(&rng, 2000)), got;
            opg_hyper_vault_info before;
            CHECK_OK(opg_hyper_vault_get(&before, w.h, &v, height));
            int rc;
            switch (rng_below(&rng, 9)) {
            case 0:
            case 1:
                rc = opg_hyper_vault_deposit(&got, w.h, &v, &who, &x, height, now);
                if (rc == OPG_OK) {
                    CHECK_OK(opg_u256_add(&in[k], &in[k], &x));
                    CHECK_OK(opg_u256_sub(&account, &account, &before.idle));
                }
                break;
            case 2:
                rc = opg_hyper_vault_mint(&got, w.h, &v, &who, &x, height, now);
                if (rc == OPG_OK) {
                    CHECK_OK(opg_u256_add(&in[k], &in[k], &got));
                    CHECK_OK(opg_u256_sub(&account, &account, &before.idle));
                }
                break;
            case 3: rc = opg_hyper_vault_withdraw(&got, NULL, w.h, &v, &who, &x, height, now); break;
            case 4: rc = opg_hyper_vault_redeem(&got, NULL, w.h, &v, &who, &x, height, now); break;
            case 5: rc = opg_hyper_vault_transfer(w.h, &v, &who, &to, &x); break;
            case 6:
                rc = opg_hyper_vault_claim(&got, w.h, &v, &who);
                if (rc == OPG_OK) {
                    CHECK_OK(opg_u256_add(&out_[k], &out_[k], &got));
                    CHECK_OK(opg_u256_sub(&account, &account, &got));
                }
                break;
            case 7:
                if (rng_below(&rng, 8) == 0 && !opg_u256_is_zero(&before.total_shares)) {
                    opg_id n = id_n(1 + (unsigned)rng_below(&rng, 3));
                    opg_dec f = dec_of("0.05");
                    opg_slash_result sr;
                    opg_node_info ni;
                    CHECK_OK(opg_registry_node_get(&ni, w.r, &n));
                    rc = opg_registry_slash(&sr, w.r, &n, height > 1 ? height - 1 : 1, ni.power, &f, height, now);
                } else if (rng_below(&rng, 4) == 0) {
                    donate(&w, 1, 1 + rng_below(&rng, 50), height);
                    donated = 1;
                    rc = OPG_OK;
                } else {
                    rc = OPG_OK;
                }
                break;
            default: {
                /* a block: hyper's end_block, then the registry's */
                height++;
                now += 1 + (opg_time)rng_below(&rng, 400);
                CHECK_OK(opg_hyper_end_block(w.h, height, now));
                rc = opg_registry_end_block(w.r, height, now);
                size_t ne;
                const opg_event *ev = opg_registry_events(w.r, &ne);
                for (size_t i = 0; i < ne; i++)
                    if (ev[i].kind == OPG_EVENT_UNBONDING_MATURED && opg_id_cmp(&ev[i].account, &v) == 0)
                        CHECK_OK(opg_u256_add(&account, &account, &ev[i].amount));
                break;
            }
            }
            (void)rc;
            opg_hyper_vault_info vi;
            CHECK_OK(opg_hyper_vault_get(&vi, w.h, &v, height));
            opg_u256 owed, sum = u64v(0);
            CHECK_OK(opg_u256_add(&owed, &vi.idle, &vi.claimable));
            CHECK_OK(opg_u256_add(&owed, &owed, &vi.queued_idle));
            CHECK(opg_u256_cmp(&owed, &account) == 0);
            for (int i = 0; i < 3; i++) {
                opg_u256 s = shares_of(&w, 601 + (unsigned)i);
                CHECK_OK(opg_u256_add(&sum, &sum, &s));
            }
            CHECK(opg_u256_cmp(&sum, &vi.total_shares) == 0);
        }
        /* without donations no holder gains: what it took out <= what it put in */
        for (int i = 0; i < 3 && !donated; i++)
            CHECK(opg_u256_cmp(&out_[i], &in[i]) <= 0);
        CHECK_OK(opg_registry_check(w.r));
        /* save and load give the same state */
        size_t len;
        CHECK_RC(opg_hyper_save(NULL, 0, &len, w.h), OPG_EBUFS);
        uint8_t *buf = malloc(len);
        CHECK_OK(opg_hyper_save(buf, len, &len, w.h));
        opg_hyper *h2;
        CHECK_OK(opg_hyper_load(&h2, w.r, w.s, buf, len, NULL));
        uint8_t x1[32], x2[32];
        CHECK_OK(opg_hyper_state_hash(x1, w.h));
        CHECK_OK(opg_hyper_state_hash(x2, h2));
        CHECK(memcmp(x1, x2, 32) == 0);
        opg_hyper_free(h2);
        free(buf);
        world_free(&w);
    }
}

/* A world with two holders, one claim pending, one matured. */
static void build_claims_world(world *w, const opg_allocator *a)
{
    CHECK_OK(vault_world(w, a, 2, 1000, "0"));
    opg_id v = id_n(500), x = id_n(601), y = id_n(602);
    opg_u256 amt = u64v(1000), out, part = u64v(100);
    CHECK_OK(opg_hyper_vault_deposit(&out, w->h, &v, &x, &amt, 2, 20));
    CHECK_OK(opg_hyper_vault_deposit(&out, w->h, &v, &y, &amt, 2, 20));
    CHECK_OK(opg_hyper_vault_redeem(&out, NULL, w->h, &v, &x, &part, 2, 20));
    CHECK_OK(opg_hyper_end_block(w->h, 3, 1020));
    CHECK_OK(opg_registry_end_block(w->r, 3, 1020));
    CHECK_OK(opg_hyper_vault_redeem(&out, NULL, w->h, &v, &y, &part, 4, 1030));
}

static void test_save_load_and_corruption(void)
{
    world w;
    build_claims_world(&w, NULL);
    size_t len;
    CHECK_RC(opg_hyper_save(NULL, 0, &len, w.h), OPG_EBUFS);
    uint8_t *buf = malloc(len), *buf2 = malloc(len);
    CHECK_OK(opg_hyper_save(buf, len, &len, w.h));
    opg_hyper *h2;
    CHECK_OK(opg_hyper_load(&h2, w.r, w.s, buf, len, NULL));
    size_t len2;
    CHECK_OK(opg_hyper_save(buf2, len, &len2, h2));
    CHECK(len2 == len && memcmp(buf, buf2, len) == 0);
    opg_hyper_free(h2);
    /* every single-byte change is refused or loads to a state that saves the same */
    int refused = 0;
    for (size_t i = 0; i < len; i++) {
        memcpy(buf2, buf, len);
        buf2[i] ^= 0x01;
        opg_hyper *h3 = NULL;
        int rc = opg_hyper_load(&h3, w.r, w.s, buf2, len, NULL);
        if (rc) {
            CHECK(rc == OPG_ECORRUPT || rc == OPG_EVERSION);
            refused++;
        } else {
            uint8_t *b3 = malloc(len);
            size_t l3;
            CHECK_OK(opg_hyper_save(b3, len, &l3, h3));
            CHECK(l3 == len && memcmp(b3, buf2, len) == 0);
            free(b3);
        }
        opg_hyper_free(h3);
    }
    CHECK(refused > 0);
    printf("  %d of %zu one-bit changes refused\n", refused, len);
    free(buf);
    free(buf2);
    world_free(&w);
}

static void hashes_nofail(failalloc *fa, hashes *x, const world *w)
{
    unsigned long fail_at = fa->fail_at, calls = fa->calls;
    fa->fail_at = 0;
    take_hashes(x, w);
    fa->fail_at = fail_at;
    fa->calls = calls;
}

/* Every allocation of every vault call fails in turn: OPG_ENOMEM, nothing changed,
 * and the retry gives what a clean run gives. */
static void test_allocation_failures(void)
{
    int seen = 0;
    for (int call = 0; call < 8; call++) {
        uint8_t clean[32];
        for (unsigned long n = 0;; n++) {
            failalloc fa;
            failalloc_init(&fa, 0);
            opg_allocator a = failalloc_allocator(&fa);
            world w;
            build_claims_world(&w, &a);
            opg_id v = id_n(500), x = id_n(601), y = id_n(602), z = id_n(603);
            opg_u256 amt = u64v(333), out;
            hashes before, after;
            hashes_nofail(&fa, &before, &w);
            fa.fail_at = n ? fa.calls + n : 0;
            int rc;
            switch (call) {
            case 0: rc = opg_hyper_vault_deposit(&out, w.h, &v, &z, &amt, 4, 1030); break;
            case 1: rc = opg_hyper_vault_mint(&out, w.h, &v, &z, &amt, 4, 1030); break;
            case 2: rc = opg_hyper_vault_withdraw(&out, NULL, w.h, &v, &x, &amt, 4, 1030); break;
            case 3: rc = opg_hyper_vault_redeem(&out, NULL, w.h, &v, &y, &amt, 4, 1030); break;
            case 4: rc = opg_hyper_vault_transfer(w.h, &v, &x, &z, &amt); break;
            case 5: rc = opg_hyper_vault_claim(&out, w.h, &v, &x); break;
            case 6: rc = opg_hyper_end_block(w.h, 5, 2030); break;
            default: {
                opg_hyper_weight wts[1];
                opg_hyper_policy pol = vault_policy(wts, 1);
                opg_id v2 = id_n(510);
                rc = opg_hyper_vault_create(w.h, &v2, &pol, 4);
                break;
            }
            }
            unsigned long failures = fa.failures;
            fa.fail_at = 0;
            if (rc) {
                CHECK_RC(rc, OPG_ENOMEM);
                hashes_nofail(&fa, &after, &w);
                CHECK(same_hashes(&before, &after));
                size_t nm;
                opg_hyper_moves(w.h, &nm);
                CHECK(nm == 0);
                seen++;
            } else {
                uint8_t hh[32];
                CHECK_OK(opg_hyper_state_hash(hh, w.h));
                if (n == 0)
                    memcpy(clean, hh, 32);
                else
                    CHECK(memcmp(clean, hh, 32) == 0);
            }
            world_free(&w);
            CHECK(fa.live_bytes == 0);
            if (n > 0 && failures == 0)
                break;
        }
    }
    printf("  allocation failures handled: %d\n", seen);
}

static void test_epoch_reports(void)
{
    world w;
    CHECK_OK(vault_world(&w, NULL, 2, 1000, "0"));
    opg_id v = id_n(500), a = id_n(601);
    opg_u256 amt = u64v(1000), out;
    CHECK_OK(opg_hyper_vault_deposit(&out, w.h, &v, &a, &amt, 2, 20));
    size_t n, done;
    CHECK_OK(opg_hyper_epoch(&done, w.h, NULL, 0, 3, 30));
    const opg_hyper_vault_report *rp = opg_hyper_vault_reports(w.h, &n);
    CHECK(n == 1 && opg_id_cmp(&rp[0].vault, &v) == 0);
    CHECK_U256(rp[0].total_assets, "1000");
    CHECK_U256(rp[0].total_shares, "1000");
    CHECK_DEC(rp[0].share_price, "1");
    /* the next call clears them */
    CHECK_OK(opg_hyper_vault_deposit(&out, w.h, &v, &a, &amt, 3, 30));
    opg_hyper_vault_reports(w.h, &n);
    CHECK(n == 0);
    world_free(&w);
}

/* ------------------------------------------------------------- strategies */

typedef struct strat {
    int mode;
    int calls;
} strat;

static int strategy_cb(opg_hyper_weight *out, size_t cap, size_t *count, void *user, const opg_id *position,
                       opg_height height)
{
    (void)position;
    (void)height;
    strat *st = user;
    st->calls++;
    *count = 2;
    out[0].node = id_n(1);
    out[0].weight = dec_of("0.5");
    out[1].node = id_n(2);
    out[1].weight = dec_of("0.5");
    switch (st->mode) {
    case 0: return OPG_EINVARIANT;                                 /* an error of its own */
    case 1: out[1].weight = dec_of("0.4"); break;                  /* adds up to 0.9 */
    case 2: out[1].node = id_n(99); break;                         /* no such node */
    case 3: out[1].node = id_n(3); break;                          /* commission 0.5 > 0.2 */
    case 4: out[1].node = id_n(4); break;                          /* jailed */
    case 5: *count = cap + 1; break;                               /* too many */
    case 6: out[1].node = id_n(1); break;                          /* a node twice */
    case 7: *count = 0; break;                                     /* none */
    default: break;                                                /* good */
    }
    return OPG_OK;
}

static void test_strategy_garbage(void)
{
    world w;
    CHECK_OK(world_new(&w, NULL));
    for (unsigned i = 1; i <= 4; i++)
        CHECK_OK(add_node_rate(&w, i, 1000, i == 3 ? "0.5" : "0"));
    opg_id n4 = id_n(4);
    CHECK_OK(opg_registry_end_block(w.r, 1, 10));
    opg_id pos = id_n(500), owner = id_n(600);
    opg_hyper_weight first[1] = {{id_n(1), dec_of("1")}};
    opg_hyper_policy pol;
    memset(&pol, 0, sizeof pol);
    pol.kind = OPG_HYPER_HOST;
    pol.weights = first;
    pol.n_weights = 1;
    pol.cap = dec_of("1");
    pol.max_nodes = 2;
    pol.max_commission = dec_of("0.2");
    pol.auto_compound = 1;
    pol.rebalance_threshold = dec_of("0");
    CHECK_OK(opg_hyper_position_create(w.h, &pos, &owner, &pol, 1));
    opg_u256 amt = u64v(1000);
    CHECK_OK(opg_hyper_deposit(w.h, &pos, &amt, 2, 20));
    CHECK_OK(opg_registry_jail(w.r, &n4, OPG_TIME_FOREVER));
    strat st = {0, 0};
    CHECK_OK(opg_hyper_set_strategy_fn(w.h, strategy_cb, &st));
    static const int want[8] = {OPG_EINVARIANT, OPG_EINVAL, OPG_ENOTFOUND, OPG_ESTATUS,
                                OPG_ESTATUS,    OPG_EINVAL, OPG_EINVAL,    OPG_EINVAL};
    opg_height height = 3;
    for (int mode = 0; mode < 8; mode++, height++) {
        st.mode = mode;
        size_t done, nm, n;
        CHECK_OK(opg_hyper_epoch(&done, w.h, NULL, 0, height, (opg_time)height * 10 + 200000));
        const opg_hyper_move *m = opg_hyper_moves(w.h, &nm);
        CHECK(nm >= 1 && m[0].kind == OPG_HYPER_STRATEGY && m[0].code == want[mode]);
        /* the previous target stays: everything on node 1 */
        opg_hyper_weight t[4];
        CHECK_OK(opg_hyper_targets(t, 4, &n, w.h, &pos));
        CHECK(n == 1 && opg_id_cmp(&t[0].node, &first[0].node) == 0);
        CHECK(nm == 1); /* nothing moved */
    }
    st.mode = 8;
    size_t done, nm, n;
    CHECK_OK(opg_hyper_epoch(&done, w.h, NULL, 0, height, (opg_time)height * 10 + 200000));
    const opg_hyper_move *m = opg_hyper_moves(w.h, &nm);
    CHECK(m[0].kind == OPG_HYPER_STRATEGY && m[0].code == 0);
    opg_hyper_weight t[4];
    CHECK_OK(opg_hyper_targets(t, 4, &n, w.h, &pos));
    CHECK(n == 2);
    CHECK_DEC(t[0].weight, "0.5");
    /* the rebalance followed: 500 moved to node 2 */
    int redelegated = 0;
    for (size_t i = 0; i < nm; i++)
        if (m[i].kind == OPG_HYPER_REDELEGATE) {
            CHECK_U256(m[i].amount, "500");
            redelegated++;
        }
    CHECK(redelegated == 1);
    CHECK(st.calls == 9);
    /* saved and loaded (the callback is not state) */
    size_t len;
    CHECK_RC(opg_hyper_save(NULL, 0, &len, w.h), OPG_EBUFS);
    uint8_t *buf = malloc(len);
    CHECK_OK(opg_hyper_save(buf, len, &len, w.h));
    opg_hyper *h2;
    CHECK_OK(opg_hyper_load(&h2, w.r, w.s, buf, len, NULL));
    CHECK_OK(opg_hyper_targets(t, 4, &n, h2, &pos));
    CHECK(n == 2);
    opg_hyper_free(h2);
    free(buf);
    world_free(&w);
}

static void test_max_churn(void)
{
    world w;
    CHECK_OK(world_new(&w, NULL));
    CHECK_OK(add_node(&w, 1, 1000));
    CHECK_OK(add_node(&w, 2, 1000));
    CHECK_OK(opg_registry_end_block(w.r, 1, 10));
    opg_id pos = id_n(500), owner = id_n(600);
    opg_hyper_weight on1[1] = {{id_n(1), dec_of("1")}}, on2[1] = {{id_n(2), dec_of("1")}};
    opg_hyper_policy pol;
    memset(&pol, 0, sizeof pol);
    pol.kind = OPG_HYPER_FIXED;
    pol.weights = on1;
    pol.n_weights = 1;
    pol.cap = dec_of("1");
    pol.max_nodes = 1;
    pol.rebalance_threshold = dec_of("0");
    CHECK_OK(opg_hyper_position_create(w.h, &pos, &owner, &pol, 1));
    opg_u256 amt = u64v(1000);
    CHECK_OK(opg_hyper_deposit(w.h, &pos, &amt, 2, 20));
    pol.weights = on2;
    pol.max_churn = dec_of("0.15");
    CHECK_OK(opg_hyper_position_set_policy(w.h, &pos, &pol));
    /* each epoch moves trunc(1000 * 0.15) = 150 at most */
    for (opg_height e = 0; e < 3; e++) {
        size_t done, nm;
        CHECK_OK(opg_hyper_epoch(&done, w.h, NULL, 0, 3 + e, 30 + (opg_time)e));
        const opg_hyper_move *m = opg_hyper_moves(w.h, &nm);
        opg_u256 moved = u64v(0);
        for (size_t i = 0; i < nm; i++)
            if (m[i].kind == OPG_HYPER_REDELEGATE)
                CHECK_OK(opg_u256_add(&moved, &moved, &m[i].amount));
        CHECK_U256(moved, "150");
    }
    opg_hyper_position_info pi;
    CHECK_OK(opg_hyper_position_get(&pi, w.h, &pos));
    CHECK_DEC(pi.max_churn, "0.15");
    pol.max_churn = dec_of("1.1");
    CHECK_RC(opg_hyper_position_set_policy(w.h, &pos, &pol), OPG_EINVAL);
    world_free(&w);
}

/* ----------------------------------------------------------------- routes */

static void test_routes_and_cycle(void)
{
    world w;
    CHECK_OK(world_new(&w, NULL));
    CHECK_OK(add_node(&w, 1, 100));
    CHECK_OK(opg_registry_end_block(w.r, 1, 10));
    opg_id a = id_n(500), b = id_n(501), c = id_n(502), owner = id_n(600), acct = id_n(700), n1 = id_n(1);
    opg_hyper_weight wts[1] = {{n1, dec_of("1")}};
    opg_hyper_policy pol;
    memset(&pol, 0, sizeof pol);
    pol.kind = OPG_HYPER_FIXED;
    pol.weights = wts;
    pol.n_weights = 1;
    pol.cap = dec_of("1");
    pol.max_nodes = 1;
    pol.rebalance_threshold = dec_of("0.5");
    pol.auto_compound = 0;
    CHECK_OK(opg_hyper_position_create(w.h, &a, &owner, &pol, 1));
    CHECK_OK(opg_hyper_position_create(w.h, &b, &owner, &pol, 1));
    pol.auto_compound = 1;
    CHECK_OK(opg_hyper_position_create(w.h, &c, &owner, &pol, 1));
    opg_u256 amt = u64v(900);
    CHECK_OK(opg_hyper_deposit(w.h, &a, &amt, 2, 20));
    /* a: a quarter each to an account, the pool and position c; the rest paid out */
    opg_hyper_route r[4];
    memset(r, 0, sizeof r);
    r[0].kind = OPG_HYPER_ROUTE_ACCOUNT;
    r[0].dst = acct;
    r[0].share = dec_of("0.25");
    r[1].kind = OPG_HYPER_ROUTE_COMMUNITY_POOL;
    r[1].share = dec_of("0.25");
    r[2].kind = OPG_HYPER_ROUTE_POSITION;
    r[2].dst = c;
    r[2].share = dec_of("0.25");
    CHECK_OK(opg_hyper_set_routes(w.h, &a, r, 3));
    /* node 1: 1000 tokens, 1000 allocated: a earns 900 */
    opg_u256 fees = u64v(1000);
    CHECK_OK(opg_splitter_allocate_to_node(w.s, &n1, &fees));
    opg_splitter_totals before_t, after_t;
    opg_splitter_totals_get(&before_t, w.s);
    size_t done, nm;
    CHECK_OK(opg_hyper_epoch(&done, w.h, NULL, 0, 3, 30));
    const opg_hyper_move *m = opg_hyper_moves(w.h, &nm);
    int routes = 0, compound = 0;
    for (size_t i = 0; i < nm; i++) {
        if (m[i].kind == OPG_HYPER_ROUTE) {
            CHECK_U256(m[i].amount, "225");
            CHECK(m[i].code == (int)r[routes].kind && opg_id_cmp(&m[i].dst, &r[routes].dst) == 0);
            routes++;
        } else if (m[i].kind == OPG_HYPER_PAYOUT) {
            CHECK(opg_id_cmp(&m[i].position, &a) == 0);
            CHECK_U256(m[i].amount, "225");
        } else if (m[i].kind == OPG_HYPER_COMPOUND) {
            /* c comes after a: the 225 routed to it compounds in the same epoch */
            CHECK(opg_id_cmp(&m[i].position, &c) == 0);
            CHECK_U256(m[i].amount, "225");
            compound++;
        }
    }
    CHECK(routes == 3 && compound == 1);
    opg_splitter_totals_get(&after_t, w.s);
    opg_dec pool_diff;
    CHECK_OK(opg_dec_sub(&pool_diff, &after_t.community_pool, &before_t.community_pool));
    CHECK_DEC(pool_diff, "225");
    CHECK_OK(opg_registry_check(w.r));
    CHECK_OK(opg_splitter_check(w.s));

    /* cycles: a -> c; c -> b; b -> a closes one */
    opg_hyper_route x[1];
    memset(x, 0, sizeof x);
    x[0].kind = OPG_HYPER_ROUTE_POSITION;
    x[0].share = dec_of("0.5");
    x[0].dst = b;
    CHECK_OK(opg_hyper_set_routes(w.h, &c, x, 1));
    x[0].dst = a;
    hashes h0, h1;
    take_hashes(&h0, &w);
    CHECK_RC(opg_hyper_set_routes(w.h, &b, x, 1), OPG_EINVAL);
    take_hashes(&h1, &w);
    CHECK(same_hashes(&h0, &h1));
    x[0].dst = b;
    CHECK_RC(opg_hyper_set_routes(w.h, &b, x, 1), OPG_EINVAL); /* itself */
    x[0].dst = id_n(999);
    CHECK_RC(opg_hyper_set_routes(w.h, &b, x, 1), OPG_ENOTFOUND);
    x[0].dst = acct;
    x[0].kind = OPG_HYPER_ROUTE_COMMUNITY_POOL;
    CHECK_RC(opg_hyper_set_routes(w.h, &b, x, 1), OPG_EINVAL); /* a pool route names nobody */
    r[0].share = dec_of("0.6");
    r[1].share = dec_of("0.6");
    CHECK_RC(opg_hyper_set_routes(w.h, &b, r, 2), OPG_EINVAL); /* above 1 */
    /* a destination cannot close */
    CHECK_RC(opg_hyper_position_close(w.h, &b), OPG_ESTATUS);
    opg_hyper_route got[8];
    size_t n;
    CHECK_OK(opg_hyper_routes(got, 8, &n, w.h, &a));
    CHECK(n == 3 && got[2].kind == OPG_HYPER_ROUTE_POSITION);
    CHECK_OK(opg_hyper_set_routes(w.h, &c, NULL, 0));
    CHECK_OK(opg_hyper_position_close(w.h, &b));
    world_free(&w);
}

/* An epoch over vaults, a HOST position, routes and plain positions, failing each
 * allocation in turn: OPG_ENOMEM, no state hash changed, and the retry equals a
 * clean run. */
static int good_strategy(opg_hyper_weight *out, size_t cap, size_t *count, void *user, const opg_id *position,
                         opg_height height)
{
    (void)user;
    (void)position;
    (void)height;
    (void)cap;
    *count = 2;
    out[0].node = id_n(2);
    out[0].weight = dec_of("0.3");
    out[1].node = id_n(1);
    out[1].weight = dec_of("0.7");
    return OPG_OK;
}

static void build_epoch_world(world *w, const opg_allocator *a)
{
    CHECK_OK(vault_world(w, a, 2, 1000, "2"));
    opg_id v = id_n(500), x = id_n(601), hp = id_n(510), pp = id_n(511), owner = id_n(600), n1 = id_n(1),
           n2 = id_n(2);
    opg_u256 amt = u64v(5000), out;
    CHECK_OK(opg_hyper_vault_deposit(&out, w->h, &v, &x, &amt, 2, 20));
    opg_hyper_weight first[1] = {{n1, dec_of("1")}};
    opg_hyper_policy pol;
    memset(&pol, 0, sizeof pol);
    pol.kind = OPG_HYPER_HOST;
    pol.weights = first;
    pol.n_weights = 1;
    pol.cap = dec_of("0.8");
    pol.max_nodes = 2;
    pol.max_commission = dec_of("1");
    pol.auto_compound = 1;
    pol.max_churn = dec_of("0.2");
    CHECK_OK(opg_hyper_position_create(w->h, &hp, &owner, &pol, 2));
    CHECK_OK(opg_hyper_deposit(w->h, &hp, &amt, 2, 20));
    pol.kind = OPG_HYPER_FIXED;
    pol.auto_compound = 0;
    CHECK_OK(opg_hyper_position_create(w->h, &pp, &owner, &pol, 2));
    CHECK_OK(opg_hyper_deposit(w->h, &pp, &amt, 2, 20));
    opg_hyper_route r[2];
    memset(r, 0, sizeof r);
    r[0].kind = OPG_HYPER_ROUTE_POSITION;
    r[0].dst = v;
    r[0].share = dec_of("0.5");
    r[1].kind = OPG_HYPER_ROUTE_COMMUNITY_POOL;
    r[1].share = dec_of("0.1");
    CHECK_OK(opg_hyper_set_routes(w->h, &pp, r, 2));
    CHECK_OK(opg_hyper_set_strategy_fn(w->h, good_strategy, NULL));
    /* the guard on, so that its tally is one of the epoch's allocation points */
    CHECK_OK(opg_hyper_param_set(w->h, "hyper.vault_node_cap", "0.9"));
    opg_u256 fees = u64v(7777);
    CHECK_OK(opg_splitter_allocate_to_node(w->s, &n1, &fees));
    CHECK_OK(opg_splitter_allocate_to_node(w->s, &n2, &fees));
}

static void test_epoch_allocation_failures(void)
{
    uint8_t clean[3][32];
    size_t clean_moves = 0;
    unsigned long n;
    for (n = 0;; n++) {
        failalloc fa;
        failalloc_init(&fa, 0);
        opg_allocator a = failalloc_allocator(&fa);
        world w;
        build_epoch_world(&w, &a);
        hashes before, after;
        hashes_nofail(&fa, &before, &w);
        fa.fail_at = n ? fa.calls + n : 0;
        size_t done;
        int rc = opg_hyper_epoch(&done, w.h, NULL, 0, 3, 30);
        unsigned long failures = fa.failures;
        fa.fail_at = 0;
        size_t nm;
        opg_hyper_moves(w.h, &nm);
        if (rc) {
            CHECK_RC(rc, OPG_ENOMEM);
            hashes_nofail(&fa, &after, &w);
            CHECK(same_hashes(&before, &after));
            CHECK(nm == 0);
            /* the retry is a clean run */
            CHECK_OK(opg_hyper_epoch(&done, w.h, NULL, 0, 3, 30));
            opg_hyper_moves(w.h, &nm);
        }
        hashes x;
        take_hashes(&x, &w);
        if (n == 0) {
            memcpy(clean[0], x.r, 32);
            memcpy(clean[1], x.s, 32);
            memcpy(clean[2], x.h, 32);
            clean_moves = nm;
            size_t nr;
            opg_hyper_vault_reports(w.h, &nr);
            CHECK(nr == 1);
        } else {
            CHECK(memcmp(clean[0], x.r, 32) == 0 && memcmp(clean[1], x.s, 32) == 0 &&
                  memcmp(clean[2], x.h, 32) == 0);
            CHECK(nm == clean_moves);
        }
        world_free(&w);
        CHECK(fa.live_bytes == 0);
        if (n > 0 && failures == 0)
            break;
    }
    printf("  epoch allocation failure points: %lu, %zu moves\n", n - 1, clean_moves);
}

int main(void)
{
    RUN(test_rounding_by_hand);
    RUN(test_inflation_attack);
    RUN(test_claims_slashed_in_unbonding);
    RUN(test_idle_and_end_block_order);
    RUN(test_transfer);
    RUN(test_centralisation_cap);
    RUN(test_centralisation_cap_compounding);
    RUN(test_centralisation_cap_rebalance);
    RUN(test_conservation_random);
    RUN(test_save_load_and_corruption);
    RUN(test_allocation_failures);
    RUN(test_epoch_reports);
    RUN(test_strategy_garbage);
    RUN(test_max_churn);
    RUN(test_routes_and_cycle);
    RUN(test_epoch_allocation_failures);
    return harness_done();
}
