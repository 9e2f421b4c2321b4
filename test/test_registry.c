/*
 * test_registry.c - the stake registry's rules (SEMANTICS.md section 2, x/staking):
 * shares and their roundings, undelegation and unbonding entries, cancel, commission
 * and min self-delegation, redelegation, the active set, jail and unjail, parameters
 * by key, and every refusal leaving the state hash and the event list as they were.
 *
 * Known answers are worked by hand in the comments. Unless said otherwise a registry
 * has power_reduction 1 (power = tokens) and unbonding_time 100 s (registry_util.h).
 * Decimal values are written as they print: "10.033444816053511705" is the Dec whose
 * raw integer is 10033444816053511705.
 */
#include "registry_util.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ shares */

static void test_first_delegation_one_to_one(void)
{
    opg_registry *r = small_registry();
    /* node 1 with a self-delegation of 100: no shares yet, so 1:1 -> 100 shares */
    CHECK_OK(mk_node(r, 1, 100, 1, 1000));
    opg_node_info n = node_of(r, 1);
    CHECK_U256(n.tokens, "100");
    CHECK_DEC(n.delegator_shares, "100");
    CHECK(n.status == OPG_NODE_UNBONDED);
    CHECK(n.commission_update_time == 1000);
    CHECK(n.delegation_count == 1);
    opg_id op = id_n(1);
    opg_delegation_info d = del_of(r, &op, 1, NULL);
    CHECK_DEC(d.shares, "100");
    CHECK_U256(d.tokens, "100");

    /* 50 more at rate 100/100: trunc(100 * 50 / 100) = 50 shares */
    opg_id d1 = dtor(1), o1 = id_n(1);
    opg_u256 fifty = u64v(50);
    opg_dec issued;
    CHECK_OK(opg_registry_delegate(&issued, r, &d1, &o1, &fifty, 2, 1001));
    CHECK_DEC(issued, "50");
    n = node_of(r, 1);
    CHECK_U256(n.tokens, "150");
    CHECK_DEC(n.delegator_shares, "150");
    CHECK(n.delegation_count == 2);
    CHECK(opg_registry_delegation_count(r) == 2);
    CHECK_OK(opg_registry_check(r));

    /* refusals: zero amount, unknown node */
    opg_u256 zero = u64v(0);
    opg_id o9 = id_n(9);
    CHECK_REFUSED(r, opg_registry_delegate(NULL, r, &d1, &o1, &zero, 2, 1001), OPG_EZERO);
    CHECK_REFUSED(r, opg_registry_delegate(NULL, r, &d1, &o9, &fifty, 2, 1001), OPG_ENOTFOUND);
    opg_registry_free(r);
}

/*
 * Node 1 with 300 tokens and 300 shares, bonded, slashed at the current height with
 * power 300 and fraction 0.004: to_slash = trunc(300 * 0.004) = trunc(1.2) = 1, so the
 * node has 299 tokens for 300 shares. The effective fraction for F1 is
 * quo_round_up(1, 300) = 0.003333333333333334. Used by several tests below.
 */
static opg_registry *rate_299_300(void)
{
    opg_registry *r = small_registry();
    if (mk_node(r, 1, 300, 1, 1000) || opg_registry_end_block(r, 1, 1000))
        abort();
    opg_slash_result res;
    if (slash_u(&res, r, 1, 2, 300, "0.004", 2, 1005))
        abort();
    return r;
}

static void test_shares_after_slash(void)
{
    opg_registry *r = small_registry();
    CHECK_OK(mk_node(r, 1, 300, 1, 1000));
    CHECK_OK(opg_registry_end_block(r, 1, 1000));
    opg_slash_result res;
    CHECK_OK(slash_u(&res, r, 1, 2, 300, "0.004", 2, 1005));
    CHECK_U256(res.burned_node, "1");
    CHECK_U256(res.burned_total, "1");
    CHECK_DEC(res.effective_fraction, "0.003333333333333334");
    opg_node_info n = node_of(r, 1);
    CHECK_U256(n.tokens, "299");
    CHECK_DEC(n.delegator_shares, "300"); /* a slash lowers tokens only */

    /* D1 delegates 299: trunc(300 * 299 / 299) = 300 shares. Node: 598 tokens, 600 shares */
    opg_id d1 = dtor(1), d2 = dtor(2), o1 = id_n(1);
    opg_u256 a = u64v(299);
    opg_dec issued;
    CHECK_OK(opg_registry_delegate(&issued, r, &d1, &o1, &a, 3, 1010));
    CHECK_DEC(issued, "300");
    /* D2 delegates 10: trunc(600 * 10 / 598) = trunc(10.0334448160535117056856...)
     * = 10.033444816053511705. Node: 608 tokens, 610.033444816053511705 shares */
    a = u64v(10);
    CHECK_OK(opg_registry_delegate(&issued, r, &d2, &o1, &a, 3, 1010));
    CHECK_DEC(issued, "10.033444816053511705");
    n = node_of(r, 1);
    CHECK_U256(n.tokens, "608");
    CHECK_DEC(n.delegator_shares, "610.033444816053511705");

    /* tokens_from_shares is quo (half even), then truncated for the token value:
     *  D1: 300 * 608 / 610.033444816053511705 = 299.00000000000000000033… -> 299
     *  D2: 10.033444816053511705 * 608 / 610.033444816053511705
     *      = 9.99999999999999999932790… -> quo 9.999999999999999999 -> 9 */
    opg_delegation_info d = del_of(r, &d1, 1, NULL);
    CHECK_U256(d.tokens, "299");
    d = del_of(r, &d2, 1, NULL);
    CHECK_DEC(d.shares, "10.033444816053511705");
    CHECK_U256(d.tokens, "9");
    CHECK_OK(opg_registry_check(r));
    opg_registry_free(r);
}

/*
 * At 598 tokens for 600 shares (rate_299_300 plus D1 delegating 299):
 *   D1 undelegates 3: shares = trunc(600 * 3 / 598) = 3.010033444816053511;
 *     tokens_from_shares = 3.010033444816053511 * 598 / 600 = 2.99999999999999999…
 *     -> quo 2.999999999999999999 -> the leaver gets truncate_int = 2, and the dust
 *     stays: node 596 tokens, 596.989966555183946489 shares.
 *   D1's remaining 296.989966555183946489 shares are worth
 *     296.989966555183946489 * 596 / 596.989966555183946489 = 296.4974789915966386…
 *     -> 296 tokens. Undelegating 296 is the whole delegation and takes exactly its
 *     shares (shares_from_tokens(296) = 296.491661242171892887 would leave dust
 *     shares); the node keeps 596 - 296 = 300 tokens for the operator's 300 shares.
 *   297 would need trunc(596.989966555183946489 * 297 / 596) = 297.49… shares: more
 *     than D1 holds -> OPG_EUNDERFLOW.
 *   The operator is then the last leaver: remaining shares 0, it gets all 300 tokens.
 */
static void test_undelegate_truncation_dust_last_leaver(void)
{
    opg_registry *r = rate_299_300();
    opg_id d1 = dtor(1), op = id_n(1);
    CHECK_OK(delegate_u(r, 1, 1, 299, 3, 1010));

    opg_u256 got;
    CHECK_OK(undelegate_u(&got, r, &d1, 1, 3, 4, 1020));
    CHECK_U256(got, "2");
    opg_node_info n = node_of(r, 1);
    CHECK_U256(n.tokens, "596");
    CHECK_DEC(n.delegator_shares, "596.989966555183946489");
    opg_delegation_info d = del_of(r, &d1, 1, NULL);
    CHECK_DEC(d.shares, "296.989966555183946489");
    CHECK_U256(d.tokens, "296");

    CHECK_REFUSED(r, undelegate_u(&got, r, &d1, 1, 297, 5, 1030), OPG_EUNDERFLOW);
    CHECK_OK(undelegate_u(&got, r, &d1, 1, 296, 5, 1030));
    CHECK_U256(got, "296");
    int found;
    del_of(r, &d1, 1, &found);
    CHECK(!found); /* exactly its shares: no dust shares left behind */
    n = node_of(r, 1);
    CHECK_U256(n.tokens, "300");
    CHECK_DEC(n.delegator_shares, "300");
    CHECK(n.delegation_count == 1);

    /* the last leaver takes every remaining token (and jails its node: self-bond 0) */
    CHECK_OK(undelegate_u(&got, r, &op, 1, 300, 6, 1040));
    CHECK_U256(got, "300");
    n = node_of(r, 1);
    CHECK_U256(n.tokens, "0");
    CHECK_DEC(n.delegator_shares, "0");
    CHECK(n.jailed);
    CHECK(count_kind(r, OPG_EVENT_NODE_JAILED) == 1);
    /* conservation: 300 + 299 delegated, 1 slashed, 2 + 296 + 300 in unbonding */
    opg_supply_info s;
    opg_registry_supply(&s, r);
    CHECK_U256(s.unbonding, "598");
    CHECK_U256(s.bonded, "0");
    CHECK_U256(s.burned, "1");
    CHECK_OK(opg_registry_check(r));
    opg_registry_free(r);
}

/* Undelegating 1 at 598/600 yields 0 tokens (0.999999999999999999 truncated): Cosmos
 * records an entry of balance 0 for it; undelegating 3 yields 2 (see above). */
static void test_undelegate_tiny_amounts(void)
{
    opg_registry *r = rate_299_300();
    opg_id d1 = dtor(1);
    CHECK_OK(delegate_u(r, 1, 1, 299, 3, 1010));
    opg_u256 got;
    CHECK_OK(undelegate_u(&got, r, &d1, 1, 1, 4, 1020));
    CHECK_U256(got, "0");
    opg_unbonding_info u[2];
    size_t cnt;
    CHECK_OK(opg_registry_unbondings_of(u, 2, &cnt, r, &d1));
    CHECK(cnt == 1);
    CHECK_U256(u[0].balance, "0");
    /* 600 * 1 / 598 = 1.003344481605351170 shares left the node, no token */
    opg_node_info n = node_of(r, 1);
    CHECK_U256(n.tokens, "598");
    CHECK_DEC(n.delegator_shares, "598.99665551839464883");
    opg_registry_free(r);
}

/* ------------------------------------------------------ unbonding entries */

static void test_unbonding_merge_and_max_entries(void)
{
    opg_registry_params p = small_params();
    p.max_entries = 3;
    opg_registry *r = NULL;
    CHECK_OK(opg_registry_new(&r, &p, NULL, NULL));
    CHECK_OK(mk_node(r, 1, 100, 1, 1000));
    CHECK_OK(delegate_u(r, 1, 1, 100, 1, 1000));
    opg_id d1 = dtor(1), o1 = id_n(1);
    opg_u256 got;
    opg_time done;
    opg_u256 ten = u64v(10);

    /* height 10, time 1000: completion 1100 */
    CHECK_OK(opg_registry_undelegate(&got, &done, r, &d1, &o1, &ten, 10, 1000));
    CHECK(done == 1100);
    CHECK_U256(got, "10");
    /* same height, same completion: merged into that entry (initial and balance 15) */
    CHECK_OK(undelegate_u(&got, r, &d1, 1, 5, 10, 1000));
    opg_unbonding_info u[4];
    size_t cnt;
    CHECK_OK(opg_registry_unbondings_of(u, 4, &cnt, r, &d1));
    CHECK(cnt == 1);
    CHECK(u[0].creation_height == 10 && u[0].completion_time == 1100);
    CHECK_U256(u[0].initial_balance, "15");
    CHECK_U256(u[0].balance, "15");
    /* same completion, another height: a new entry; another time: a new entry */
    CHECK_OK(undelegate_u(&got, r, &d1, 1, 1, 11, 1000));
    CHECK_OK(undelegate_u(&got, r, &d1, 1, 2, 12, 1001));
    CHECK_OK(opg_registry_unbondings_of(u, 4, &cnt, r, &d1));
    CHECK(cnt == 3);
    CHECK(u[0].creation_height == 10 && u[1].creation_height == 11 && u[2].creation_height == 12);
    CHECK(u[1].completion_time == 1100 && u[2].completion_time == 1101);
    /* at max_entries: refused, even where the request would merge into an entry
     * (x/staking checks HasMaxUnbondingDelegationEntries before anything else) */
    CHECK_REFUSED(r, undelegate_u(&got, r, &d1, 1, 1, 12, 1001), OPG_EMAXENTRIES);
    CHECK_REFUSED(r, undelegate_u(&got, r, &d1, 1, 1, 13, 1002), OPG_EMAXENTRIES);
    /* the limit is per (delegator, node): the operator may still undelegate */
    opg_id op = id_n(1);
    CHECK_OK(undelegate_u(&got, r, &op, 1, 1, 13, 1002));
    /* a too small buffer reports the count */
    CHECK_RC(opg_registry_unbondings_of(u, 2, &cnt, r, &d1), OPG_EBUFS);
    CHECK(cnt == 3);
    /* other refusals */
    opg_id d9 = dtor(9);
    CHECK_REFUSED(r, undelegate_u(&got, r, &d9, 1, 1, 13, 1002), OPG_ENOTFOUND);
    CHECK_REFUSED(r, undelegate_u(&got, r, &op, 9, 1, 13, 1002), OPG_ENOTFOUND);
    CHECK_REFUSED(r, undelegate_u(&got, r, &op, 1, 0, 13, 1002), OPG_EZERO);
    opg_supply_info s;
    opg_registry_supply(&s, r);
    /* node 200 - 19 = 181 tokens (unbonded node) plus 18 + 1 in entries */
    CHECK_U256(s.unbonding, "200");
    CHECK_OK(opg_registry_check(r));
    opg_registry_free(r);
}

static void test_unbonding_matures_in_order(void)
{
    opg_registry *r = small_registry();
    CHECK_OK(mk_node(r, 1, 100, 1, 1000));
    CHECK_OK(delegate_u(r, 1, 1, 100, 1, 1000));
    CHECK_OK(delegate_u(r, 2, 1, 100, 1, 1000));
    opg_id d1 = dtor(1), d2 = dtor(2);
    opg_u256 got;
    CHECK_OK(undelegate_u(&got, r, &d1, 1, 10, 10, 1000)); /* completes 1100 */
    CHECK_OK(undelegate_u(&got, r, &d2, 1, 20, 11, 1005)); /* completes 1105 */
    /* a shorter unbonding time puts the next entry in front of the queue */
    CHECK_OK(opg_registry_param_set(r, "staking.unbonding_time", "90"));
    CHECK_OK(undelegate_u(&got, r, &d1, 1, 30, 12, 1006)); /* completes 1096 */

    CHECK_OK(opg_registry_end_block(r, 13, 1095));
    CHECK(count_kind(r, OPG_EVENT_UNBONDING_MATURED) == 0);
    /* completion_time <= now matures; maturity order: 1096 (30) then 1100 (10) */
    CHECK_OK(opg_registry_end_block(r, 14, 1100));
    CHECK(count_kind(r, OPG_EVENT_UNBONDING_MATURED) == 2);
    const opg_event *e0 = event_of(r, OPG_EVENT_UNBONDING_MATURED, 0);
    const opg_event *e1 = event_of(r, OPG_EVENT_UNBONDING_MATURED, 1);
    opg_id o1 = id_n(1);
    CHECK(opg_id_cmp(&e0->account, &d1) == 0 && opg_id_cmp(&e0->node, &o1) == 0);
    CHECK_U256(e0->amount, "30");
    CHECK(opg_id_cmp(&e1->account, &d1) == 0);
    CHECK_U256(e1->amount, "10");
    /* the maturity events come after the block's validator updates */
    size_t n;
    const opg_event *ev = opg_registry_events(r, &n);
    CHECK(n >= 2 && ev[n - 2].kind == OPG_EVENT_UNBONDING_MATURED && ev[n - 1].kind == OPG_EVENT_UNBONDING_MATURED);
    opg_supply_info s;
    opg_registry_supply(&s, r);
    CHECK_U256(s.unbonding, "20"); /* the node is bonded now; D2's entry remains */
    CHECK_U256(s.bonded, "240");
    CHECK_OK(opg_registry_end_block(r, 15, 1104));
    CHECK(count_kind(r, OPG_EVENT_UNBONDING_MATURED) == 0);
    CHECK_OK(opg_registry_end_block(r, 16, 1105));
    CHECK(count_kind(r, OPG_EVENT_UNBONDING_MATURED) == 1);
    CHECK(opg_id_cmp(&event_of(r, OPG_EVENT_UNBONDING_MATURED, 0)->account, &d2) == 0);
    CHECK_U256(event_of(r, OPG_EVENT_UNBONDING_MATURED, 0)->amount, "20");
    size_t cnt;
    CHECK_OK(opg_registry_unbondings_of(NULL, 0, &cnt, r, &d2));
    CHECK(cnt == 0);
    opg_registry_supply(&s, r);
    CHECK_U256(s.unbonding, "0");
    opg_registry_free(r);
}

static void test_cancel_unbonding(void)
{
    opg_registry *r = small_registry();
    CHECK_OK(mk_node(r, 1, 100, 1, 1000));
    CHECK_OK(delegate_u(r, 1, 1, 100, 1, 1000));
    opg_id d1 = dtor(1), o1 = id_n(1);
    opg_u256 got;
    CHECK_OK(undelegate_u(&got, r, &d1, 1, 40, 10, 1000)); /* entry {h10, c1100, 40} */
    opg_u256 a = u64v(15);
    /* partial: the entry keeps 25 (initial 40 - 15 too); D1 gets back 15 shares at 1:1 */
    CHECK_OK(opg_registry_cancel_unbonding(r, &d1, &o1, 10, &a, 11, 1050));
    opg_unbonding_info u[2];
    size_t cnt;
    CHECK_OK(opg_registry_unbondings_of(u, 2, &cnt, r, &d1));
    CHECK(cnt == 1);
    CHECK_U256(u[0].balance, "25");
    CHECK_U256(u[0].initial_balance, "25");
    opg_delegation_info d = del_of(r, &d1, 1, NULL);
    CHECK_DEC(d.shares, "75");
    CHECK_U256(NODE(r, 1)->tokens, "175");

    a = u64v(26);
    CHECK_REFUSED(r, opg_registry_cancel_unbonding(r, &d1, &o1, 10, &a, 11, 1050), OPG_EUNDERFLOW);
    a = u64v(1);
    CHECK_REFUSED(r, opg_registry_cancel_unbonding(r, &d1, &o1, 9, &a, 11, 1050), OPG_ENOTFOUND);
    a = u64v(0);
    CHECK_REFUSED(r, opg_registry_cancel_unbonding(r, &d1, &o1, 10, &a, 11, 1050), OPG_EZERO);
    /* mature (completion 1100 < now 1101, not yet paid by an end_block): refused */
    a = u64v(5);
    CHECK_REFUSED(r, opg_registry_cancel_unbonding(r, &d1, &o1, 10, &a, 12, 1101), OPG_ESTATUS);
    /* a jailed node refuses; unjailed again it accepts */
    CHECK_OK(opg_registry_jail(r, &o1, 1000));
    CHECK_REFUSED(r, opg_registry_cancel_unbonding(r, &d1, &o1, 10, &a, 12, 1100), OPG_EJAILED);
    CHECK_OK(opg_registry_unjail(r, &o1, 1100));
    /* at completion_time == now the entry is not yet mature for cancel (Cosmos:
     * CompletionTime.Before(blockTime)) */
    CHECK_OK(opg_registry_cancel_unbonding(r, &d1, &o1, 10, &a, 12, 1100));
    /* the whole rest: the entry disappears */
    a = u64v(20);
    CHECK_OK(opg_registry_cancel_unbonding(r, &d1, &o1, 10, &a, 12, 1100));
    CHECK_OK(opg_registry_unbondings_of(u, 2, &cnt, r, &d1));
    CHECK(cnt == 0);
    d = del_of(r, &d1, 1, NULL);
    CHECK_DEC(d.shares, "100");
    opg_supply_info s;
    opg_registry_supply(&s, r);
    CHECK_U256(s.unbonding, "200");
    /* cancelling into a delegation that no longer exists re-creates it */
    CHECK_OK(undelegate_u(&got, r, &d1, 1, 100, 13, 1100));
    int found;
    del_of(r, &d1, 1, &found);
    CHECK(!found);
    a = u64v(7);
    CHECK_OK(opg_registry_cancel_unbonding(r, &d1, &o1, 13, &a, 13, 1100));
    d = del_of(r, &d1, 1, NULL);
    CHECK_DEC(d.shares, "7");
    CHECK_OK(opg_registry_check(r));
    opg_registry_free(r);
}

/* ----------------------------------------------------- commission, min self */

static void test_commission_changes(void)
{
    opg_registry *r = small_registry();
    CHECK_OK(mk_node(r, 1, 100, 1, 1000)); /* rate 0.1, max 0.2, max change 0.01 */
    opg_id o = id_n(1);
    opg_dec v = dec_of("0.105");
    /* 86399 s after the last change: too soon; and a clock before the last change */
    CHECK_REFUSED(r, opg_registry_node_set_commission(r, &o, &v, 1000 + 86399), OPG_ETOOSOON);
    CHECK_REFUSED(r, opg_registry_node_set_commission(r, &o, &v, 999), OPG_ETOOSOON);
    /* 24 h later: a rise of 0.02 > max_change_rate 0.01 is refused, so is > max_rate */
    v = dec_of("0.12");
    CHECK_REFUSED(r, opg_registry_node_set_commission(r, &o, &v, 87400), OPG_ECOMMISSION);
    v = dec_of("0.21");
    CHECK_REFUSED(r, opg_registry_node_set_commission(r, &o, &v, 87400), OPG_ECOMMISSION);
    /* a rise of exactly max_change_rate is fine */
    v = dec_of("0.11");
    CHECK_OK(opg_registry_node_set_commission(r, &o, &v, 87400));
    opg_node_info n = node_of(r, 1);
    CHECK_DEC(n.commission_rate, "0.11");
    CHECK(n.commission_update_time == 87400);
    v = dec_of("0.1");
    CHECK_REFUSED(r, opg_registry_node_set_commission(r, &o, &v, 87400 + 86399), OPG_ETOOSOON);
    /* a decrease is unbounded */
    v = dec_of("0");
    CHECK_OK(opg_registry_node_set_commission(r, &o, &v, 87400 + 86400));
    CHECK_DEC(NODE(r, 1)->commission_rate, "0");
    /* min_commission_rate 0.005: below is refused, above is fine; max never changes */
    CHECK_OK(opg_registry_param_set(r, "staking.min_commission_rate", "0.005"));
    v = dec_of("0.004");
    CHECK_REFUSED(r, opg_registry_node_set_commission(r, &o, &v, 87400 + 2 * 86400), OPG_ECOMMISSION);
    v = dec_of("0.01");
    CHECK_OK(opg_registry_node_set_commission(r, &o, &v, 87400 + 2 * 86400));
    n = node_of(r, 1);
    CHECK_DEC(n.commission_max_rate, "0.2");
    CHECK_DEC(n.commission_max_change_rate, "0.01");
    opg_id o9 = id_n(9);
    CHECK_REFUSED(r, opg_registry_node_set_commission(r, &o9, &v, 10000000), OPG_ENOTFOUND);
    opg_registry_free(r);
}

/* Host times anywhere in the int64 range: the 24 h rule compares without overflow. */
static void test_commission_extreme_times(void)
{
    opg_registry *r = small_registry();
    opg_time t0 = -INT64_C(4611686018427387904); /* -2^62 */
    CHECK_OK(mk_node(r, 1, 100, 1, t0));
    opg_id o1 = id_n(1), o2 = id_n(2);
    opg_dec v = dec_of("0.11");
    /* INT64_MAX - (-2^62) does not fit an opg_time; it is far more than 24 h */
    CHECK_OK(opg_registry_node_set_commission(r, &o1, &v, INT64_MAX));
    CHECK_DEC(NODE(r, 1)->commission_rate, "0.11");
    CHECK(NODE(r, 1)->commission_update_time == INT64_MAX);
    CHECK_REFUSED(r, opg_registry_node_set_commission(r, &o1, &v, INT64_MAX), OPG_ETOOSOON);
    /* a clock far before the last change: too soon */
    CHECK_OK(mk_node(r, 2, 100, 1, INT64_MAX - 10));
    CHECK_REFUSED(r, opg_registry_node_set_commission(r, &o2, &v, INT64_MIN), OPG_ETOOSOON);
    opg_registry_free(r);
}

static void test_node_create_refusals(void)
{
    opg_registry *r = small_registry();
    CHECK_OK(opg_registry_param_set(r, "staking.min_commission_rate", "0.05"));
    opg_node_create c = node_spec(1, 100);
    c.commission_max_rate = dec_of("1.000000000000000001");
    CHECK_REFUSED(r, opg_registry_node_create(r, &c, 1, 1000), OPG_ECOMMISSION);
    c = node_spec(1, 100);
    c.commission_rate = dec_of("0.21"); /* above max 0.2 */
    CHECK_REFUSED(r, opg_registry_node_create(r, &c, 1, 1000), OPG_ECOMMISSION);
    c = node_spec(1, 100);
    c.commission_max_change_rate = dec_of("0.3"); /* above max 0.2 */
    CHECK_REFUSED(r, opg_registry_node_create(r, &c, 1, 1000), OPG_ECOMMISSION);
    c = node_spec(1, 100);
    c.commission_rate = dec_of("0.04"); /* below min_commission_rate */
    CHECK_REFUSED(r, opg_registry_node_create(r, &c, 1, 1000), OPG_ECOMMISSION);
    c = node_spec(1, 100);
    c.min_self_delegation = u64v(0);
    CHECK_REFUSED(r, opg_registry_node_create(r, &c, 1, 1000), OPG_EZERO);
    c = node_spec(1, 100);
    c.min_self_delegation = u64v(101);
    CHECK_REFUSED(r, opg_registry_node_create(r, &c, 1, 1000), OPG_ESELFBOND);
    c = node_spec(1, 100);
    c.roles = 0;
    CHECK_REFUSED(r, opg_registry_node_create(r, &c, 1, 1000), OPG_EINVAL);
    c.roles = 8;
    CHECK_REFUSED(r, opg_registry_node_create(r, &c, 1, 1000), OPG_EINVAL);
    /* boundaries that are fine: rate = max_rate = max_change_rate = 1, self = min */
    c = node_spec(1, 100);
    c.commission_rate = c.commission_max_rate = c.commission_max_change_rate = dec_of("1");
    c.min_self_delegation = u64v(100);
    CHECK_OK(opg_registry_node_create(r, &c, 1, 1000));
    /* operator id or consensus key already in use */
    c = node_spec(1, 100);
    c.consensus_key = key_n(2);
    CHECK_REFUSED(r, opg_registry_node_create(r, &c, 1, 1000), OPG_EEXISTS);
    c = node_spec(2, 100);
    c.consensus_key = key_n(1);
    CHECK_REFUSED(r, opg_registry_node_create(r, &c, 1, 1000), OPG_EEXISTS);
    CHECK(opg_registry_node_count(r) == 1);
    opg_id who;
    opg_id k1 = key_n(1), k2 = key_n(2), o1 = id_n(1);
    CHECK_OK(opg_registry_node_by_consensus_key(&who, r, &k1));
    CHECK(opg_id_cmp(&who, &o1) == 0);
    CHECK_RC(opg_registry_node_by_consensus_key(&who, r, &k2), OPG_ENOTFOUND);
    opg_registry_free(r);
}

static void test_min_self_delegation(void)
{
    opg_registry *r = small_registry();
    CHECK_OK(mk_node(r, 1, 100, 1, 1000)); /* min 1 */
    opg_id o = id_n(1);
    opg_u256 m = u64v(1);
    CHECK_REFUSED(r, opg_registry_node_set_min_self_delegation(r, &o, &m), OPG_EINVAL); /* equal */
    m = u64v(0);
    CHECK_REFUSED(r, opg_registry_node_set_min_self_delegation(r, &o, &m), OPG_EINVAL); /* lower */
    m = u64v(101);
    CHECK_REFUSED(r, opg_registry_node_set_min_self_delegation(r, &o, &m), OPG_ESELFBOND);
    m = u64v(100);
    CHECK_OK(opg_registry_node_set_min_self_delegation(r, &o, &m));
    CHECK_U256(NODE(r, 1)->min_self_delegation, "100");
    /* "not above the node's tokens": other delegators' tokens count (x/staking) */
    CHECK_OK(delegate_u(r, 1, 1, 50, 2, 1000));
    m = u64v(150);
    CHECK_OK(opg_registry_node_set_min_self_delegation(r, &o, &m));
    m = u64v(151);
    CHECK_REFUSED(r, opg_registry_node_set_min_self_delegation(r, &o, &m), OPG_ESELFBOND);
    opg_registry_free(r);
}

/* -------------------------------------------------------------- redelegate */

static void test_redelegation_completion_by_status(void)
{
    opg_registry *r = small_registry();
    CHECK_OK(mk_node(r, 1, 100, 1, 1000));
    CHECK_OK(mk_node(r, 2, 100, 1, 1000));
    CHECK_OK(mk_node(r, 3, 100, 1, 1000));
    opg_node_create c = node_spec(4, 100);
    c.roles = OPG_ROLE_INFERENCE; /* never enters the active set: stays unbonded */
    CHECK_OK(opg_registry_node_create(r, &c, 1, 1000));
    CHECK_OK(opg_registry_end_block(r, 1, 1000));
    CHECK(node_of(r, 1).status == OPG_NODE_BONDED && node_of(r, 4).status == OPG_NODE_UNBONDED);
    CHECK_OK(delegate_u(r, 1, 1, 50, 2, 1000));
    CHECK_OK(delegate_u(r, 1, 3, 50, 2, 1000));
    CHECK_OK(delegate_u(r, 1, 4, 50, 2, 1000));
    opg_id d1 = dtor(1);
    opg_time done;

    /* bonded source: completes at now + unbonding_time, created at this height */
    CHECK_OK(redelegate_u(&done, r, &d1, 1, 2, 10, 5, 1010));
    CHECK(done == 1110);
    opg_redelegation_info e[4];
    size_t cnt;
    CHECK_OK(opg_registry_redelegations_of(e, 4, &cnt, r, &d1));
    CHECK(cnt == 1);
    CHECK(e[0].creation_height == 5 && e[0].completion_time == 1110);
    CHECK_U256(e[0].initial_balance, "10");
    CHECK_DEC(e[0].shares_dst, "10");

    /* unbonding source: node 3 jailed, leaves the set at height 6, time 1020 */
    opg_id o3 = id_n(3);
    CHECK_OK(opg_registry_jail(r, &o3, 0));
    CHECK_OK(opg_registry_end_block(r, 6, 1020));
    opg_node_info n3 = node_of(r, 3);
    CHECK(n3.status == OPG_NODE_UNBONDING && n3.unbonding_time == 1120 && n3.unbonding_height == 6);
    /* completes with the source's unbonding, and that is the entry's creation height */
    CHECK_OK(redelegate_u(&done, r, &d1, 3, 2, 10, 7, 1030));
    CHECK(done == 1120);
    CHECK_OK(opg_registry_redelegations_of(e, 4, &cnt, r, &d1));
    CHECK(cnt == 2);
    CHECK(e[0].completion_time == 1110 && e[1].completion_time == 1120);
    CHECK(e[1].creation_height == 6);

    /* unbonded source: at once, no entry */
    CHECK_OK(redelegate_u(&done, r, &d1, 4, 2, 10, 8, 1040));
    CHECK(done == 1040);
    CHECK_OK(opg_registry_redelegations_of(e, 4, &cnt, r, &d1));
    CHECK(cnt == 2);
    /* 10 + 10 + 10 arrived at node 2 at 1:1 */
    CHECK_DEC(DEL(r, &d1, 2)->shares, "30");
    CHECK_U256(NODE(r, 2)->tokens, "130");

    /* the entries complete at end_block, in maturity order */
    CHECK_OK(opg_registry_end_block(r, 9, 1110));
    CHECK(count_kind(r, OPG_EVENT_REDELEGATION_MATURED) == 1);
    const opg_event *ev = event_of(r, OPG_EVENT_REDELEGATION_MATURED, 0);
    opg_id o1 = id_n(1), o2 = id_n(2);
    CHECK(opg_id_cmp(&ev->account, &d1) == 0 && opg_id_cmp(&ev->node, &o1) == 0 &&
          opg_id_cmp(&ev->node2, &o2) == 0);
    CHECK_U256(ev->amount, "10");
    CHECK_OK(opg_registry_end_block(r, 10, 1120));
    CHECK(count_kind(r, OPG_EVENT_REDELEGATION_MATURED) == 1);
    CHECK_OK(opg_registry_redelegations_of(e, 4, &cnt, r, &d1));
    CHECK(cnt == 0);
    CHECK_OK(opg_registry_check(r));
    opg_registry_free(r);
}

/*
 * An unbonded source that the redelegation empties is removed by the unbond; x/staking
 * (v0.50+ getBeginInfo) then finds no source and records the entry with height 0 and
 * Go's zero time, 0001-01-01T00:00:00Z = -62135596800 s: it completes at the next
 * end_block, and until then it counts as a redelegation into node 2.
 */
static void test_redelegation_source_removed(void)
{
    opg_registry *r = small_registry();
    opg_node_create c = node_spec(5, 100);
    c.roles = OPG_ROLE_INFERENCE;
    CHECK_OK(opg_registry_node_create(r, &c, 1, 1000));
    CHECK_OK(mk_node(r, 2, 100, 1, 1000));
    CHECK_OK(mk_node(r, 3, 100, 1, 1000));
    CHECK_OK(opg_registry_end_block(r, 1, 1000));
    opg_id o5 = id_n(5);
    opg_time done;
    CHECK_OK(redelegate_u(&done, r, &o5, 5, 2, 100, 3, 1010));
    CHECK(done == INT64_C(-62135596800));
    CHECK(count_kind(r, OPG_EVENT_NODE_REMOVED) == 1);
    CHECK(opg_registry_node_count(r) == 2);
    CHECK_DEC(DEL(r, &o5, 2)->shares, "100");
    opg_redelegation_info e;
    size_t cnt;
    CHECK_OK(opg_registry_redelegations_of(&e, 1, &cnt, r, &o5));
    CHECK(cnt == 1);
    CHECK(e.creation_height == 0 && e.completion_time == INT64_C(-62135596800));
    CHECK_U256(e.initial_balance, "100");
    CHECK_DEC(e.shares_dst, "100");
    CHECK(roundtrip_ok(r));
    CHECK_REFUSED(r, redelegate_u(&done, r, &o5, 2, 3, 10, 3, 1010), OPG_ETRANSITIVE);
    CHECK_OK(opg_registry_end_block(r, 3, 1010));
    CHECK(count_kind(r, OPG_EVENT_REDELEGATION_MATURED) == 1);
    CHECK_OK(opg_registry_redelegations_of(&e, 1, &cnt, r, &o5));
    CHECK(cnt == 0);
    CHECK_OK(redelegate_u(&done, r, &o5, 2, 3, 10, 4, 1011));
    opg_registry_free(r);
}

static void test_redelegation_refusals(void)
{
    opg_registry_params p = small_params();
    p.max_entries = 2;
    opg_registry *r = NULL;
    CHECK_OK(opg_registry_new(&r, &p, NULL, NULL));
    for (unsigned i = 1; i <= 3; i++)
        CHECK_OK(mk_node(r, i, 100, 1, 1000));
    CHECK_OK(opg_registry_end_block(r, 1, 1000));
    CHECK_OK(delegate_u(r, 1, 1, 100, 2, 1000));
    opg_id d1 = dtor(1), d2 = dtor(2);
    opg_time done;
    CHECK_REFUSED(r, redelegate_u(&done, r, &d1, 1, 1, 10, 5, 1010), OPG_EINVAL);
    CHECK_REFUSED(r, redelegate_u(&done, r, &d1, 1, 9, 10, 5, 1010), OPG_ENOTFOUND);
    CHECK_REFUSED(r, redelegate_u(&done, r, &d1, 9, 1, 10, 5, 1010), OPG_ENOTFOUND);
    CHECK_REFUSED(r, redelegate_u(&done, r, &d2, 1, 2, 10, 5, 1010), OPG_ENOTFOUND);
    CHECK_REFUSED(r, redelegate_u(&done, r, &d1, 1, 2, 101, 5, 1010), OPG_EUNDERFLOW);
    CHECK_REFUSED(r, redelegate_u(&done, r, &d1, 1, 2, 0, 5, 1010), OPG_EZERO);

    CHECK_OK(redelegate_u(&done, r, &d1, 1, 2, 10, 5, 1010)); /* completes 1110 */
    /* no transitive redelegation: 2 -> 3 while 1 -> 2 is still maturing */
    CHECK_REFUSED(r, redelegate_u(&done, r, &d1, 2, 3, 5, 6, 1020), OPG_ETRANSITIVE);
    /* max_entries per (delegator, src, dst) */
    CHECK_OK(redelegate_u(&done, r, &d1, 1, 2, 10, 6, 1020));
    CHECK_REFUSED(r, redelegate_u(&done, r, &d1, 1, 2, 10, 7, 1030), OPG_EMAXENTRIES);
    CHECK_OK(redelegate_u(&done, r, &d1, 1, 3, 10, 7, 1030));
    /* a mature entry still blocks until end_block has completed it (x/staking keeps
     * the record until its queue is processed) */
    CHECK_REFUSED(r, redelegate_u(&done, r, &d1, 2, 3, 5, 8, 1115), OPG_ETRANSITIVE);
    CHECK_OK(opg_registry_end_block(r, 8, 1120));
    CHECK(count_kind(r, OPG_EVENT_REDELEGATION_MATURED) == 2);
    /* 3 -> 2 is still refused (1 -> 3 completes at 1130), 2 -> 1 is fine now */
    CHECK_REFUSED(r, redelegate_u(&done, r, &d1, 3, 1, 5, 9, 1121), OPG_ETRANSITIVE);
    CHECK_OK(redelegate_u(&done, r, &d1, 2, 1, 5, 9, 1121));
    CHECK_OK(opg_registry_check(r));
    opg_registry_free(r);

    /* zero-token redelegation: at 598 tokens / 600 shares, 1 token's worth of shares
     * (1.003344481605351170) is worth 0.999999999999999999 -> truncated 0 */
    r = rate_299_300();
    CHECK_OK(mk_node(r, 2, 100, 3, 1010));
    CHECK_OK(delegate_u(r, 1, 1, 299, 3, 1010));
    CHECK_REFUSED(r, redelegate_u(&done, r, &d1, 1, 2, 1, 4, 1020), OPG_EZERO);
    /* 3 tokens' worth moves 2 tokens (see the undelegation test) */
    CHECK_OK(redelegate_u(&done, r, &d1, 1, 2, 3, 4, 1020));
    CHECK_DEC(DEL(r, &d1, 2)->shares, "2");
    opg_redelegation_info e;
    size_t cnt;
    CHECK_OK(opg_registry_redelegations_of(&e, 1, &cnt, r, &d1));
    CHECK(cnt == 1);
    CHECK_U256(e.initial_balance, "2");
    opg_registry_free(r);
}

/* ------------------------------------------------------------- active set */

static void test_active_set_ties_and_cut(void)
{
    opg_registry_params p = small_params();
    p.max_validators = 2;
    opg_registry *r = NULL;
    CHECK_OK(opg_registry_new(&r, &p, NULL, NULL));
    /* three consensus nodes of equal power, created out of id order */
    CHECK_OK(mk_node(r, 3, 100, 1, 1000));
    CHECK_OK(mk_node(r, 1, 100, 1, 1000));
    CHECK_OK(mk_node(r, 2, 100, 1, 1000));
    opg_node_create c = node_spec(4, 500); /* the most tokens, but no consensus role */
    c.roles = OPG_ROLE_INFERENCE | OPG_ROLE_VERIFICATION;
    CHECK_OK(opg_registry_node_create(r, &c, 1, 1000));
    /* ties broken by operator id ascending: 1 and 2 bonded */
    CHECK_OK(opg_registry_end_block(r, 1, 1000));
    CHECK(node_of(r, 1).status == OPG_NODE_BONDED);
    CHECK(node_of(r, 2).status == OPG_NODE_BONDED);
    CHECK(node_of(r, 3).status == OPG_NODE_UNBONDED);
    CHECK(node_of(r, 4).status == OPG_NODE_UNBONDED);
    /* events: per node in id order, its status move then its validator update */
    size_t n;
    const opg_event *ev = opg_registry_events(r, &n);
    CHECK(n == 4);
    opg_id k1 = key_n(1), k2 = key_n(2), k3 = key_n(3), o1 = id_n(1), o2 = id_n(2), o3 = id_n(3);
    CHECK(ev[0].kind == OPG_EVENT_NODE_STATUS && ev[0].status == OPG_NODE_BONDED &&
          opg_id_cmp(&ev[0].node, &o1) == 0);
    CHECK(ev[1].kind == OPG_EVENT_VALIDATOR_UPDATE && opg_id_cmp(&ev[1].account, &k1) == 0 &&
          ev[1].power == 100);
    CHECK(ev[2].kind == OPG_EVENT_NODE_STATUS && opg_id_cmp(&ev[2].node, &o2) == 0);
    CHECK(ev[3].kind == OPG_EVENT_VALIDATOR_UPDATE && opg_id_cmp(&ev[3].account, &k2) == 0 &&
          ev[3].power == 100);
    /* nothing changed: no events */
    CHECK_OK(opg_registry_end_block(r, 2, 1005));
    CHECK(n_events(r) == 0);

    /* node 3 gets one more token: it enters, node 2 (last by id among 100s) leaves */
    CHECK_OK(delegate_u(r, 1, 3, 1, 3, 1010));
    CHECK_OK(opg_registry_end_block(r, 3, 1010));
    CHECK(count_kind(r, OPG_EVENT_VALIDATOR_UPDATE) == 2);
    const opg_event *u0 = event_of(r, OPG_EVENT_VALIDATOR_UPDATE, 0);
    const opg_event *u1 = event_of(r, OPG_EVENT_VALIDATOR_UPDATE, 1);
    CHECK(opg_id_cmp(&u0->account, &k2) == 0 && u0->power == 0);
    CHECK(opg_id_cmp(&u1->account, &k3) == 0 && u1->power == 101);
    opg_node_info n2 = node_of(r, 2);
    CHECK(n2.status == OPG_NODE_UNBONDING && n2.unbonding_time == 1110 && n2.unbonding_height == 3);
    CHECK(node_of(r, 3).status == OPG_NODE_BONDED);
    opg_supply_info s;
    opg_registry_supply(&s, r);
    CHECK_U256(s.bonded, "201");
    CHECK_U256(s.unbonding, "600");

    /* unbonding ends when both time and height have passed */
    CHECK_OK(opg_registry_end_block(r, 4, 1109));
    CHECK(node_of(r, 2).status == OPG_NODE_UNBONDING);
    CHECK_OK(opg_registry_end_block(r, 5, 1110));
    CHECK(node_of(r, 2).status == OPG_NODE_UNBONDED);
    CHECK(count_kind(r, OPG_EVENT_NODE_STATUS) == 1);
    CHECK(event_of(r, OPG_EVENT_NODE_STATUS, 0)->status == OPG_NODE_UNBONDED);
    (void)o3;

    /* dropping the consensus role takes a node out at the next end_block */
    CHECK_OK(opg_registry_node_set_roles(r, &o1, OPG_ROLE_INFERENCE));
    CHECK(node_of(r, 1).status == OPG_NODE_BONDED);
    CHECK_OK(opg_registry_end_block(r, 6, 1120));
    CHECK(node_of(r, 1).status == OPG_NODE_UNBONDING);
    CHECK(node_of(r, 2).status == OPG_NODE_BONDED); /* and 2 comes back */
    CHECK_REFUSED(r, opg_registry_node_set_roles(r, &o1, 0), OPG_EINVAL);
    CHECK_REFUSED(r, opg_registry_node_set_roles(r, &o1, 16), OPG_EINVAL);
    opg_registry_free(r);
}

static void test_power_zero_excluded(void)
{
    opg_registry_params p;
    opg_registry_params_init(&p); /* power_reduction 10^6 */
    opg_registry *r = NULL;
    CHECK_OK(opg_registry_new(&r, &p, NULL, NULL));
    CHECK_OK(mk_node(r, 1, 999999, 1, 1000));  /* power trunc(999999 / 10^6) = 0 */
    CHECK_OK(mk_node(r, 2, 2999999, 1, 1000)); /* power 2 */
    CHECK_OK(opg_registry_end_block(r, 1, 1000));
    CHECK(node_of(r, 1).status == OPG_NODE_UNBONDED && node_of(r, 1).power == 0);
    CHECK(node_of(r, 2).status == OPG_NODE_BONDED && node_of(r, 2).power == 2);
    CHECK(count_kind(r, OPG_EVENT_VALIDATOR_UPDATE) == 1);
    CHECK(event_of(r, OPG_EVENT_VALIDATOR_UPDATE, 0)->power == 2);
    /* power changes give an update; no change, no update */
    CHECK_OK(delegate_u(r, 1, 2, 1, 2, 1005)); /* 3000000: power 3 */
    CHECK_OK(opg_registry_end_block(r, 2, 1005));
    CHECK(count_kind(r, OPG_EVENT_VALIDATOR_UPDATE) == 1);
    CHECK(event_of(r, OPG_EVENT_VALIDATOR_UPDATE, 0)->power == 3);
    CHECK_OK(delegate_u(r, 1, 2, 999999, 3, 1010)); /* 3999999: still power 3 */
    CHECK_OK(opg_registry_end_block(r, 3, 1010));
    CHECK(count_kind(r, OPG_EVENT_VALIDATOR_UPDATE) == 0);
    opg_registry_free(r);
}

static void test_jail_keeps_bonded_until_end_block(void)
{
    opg_registry *r = small_registry();
    CHECK_OK(mk_node(r, 1, 100, 1, 1000));
    CHECK_OK(mk_node(r, 2, 200, 1, 1000));
    CHECK_OK(opg_registry_end_block(r, 1, 1000));
    opg_id o1 = id_n(1), o2 = id_n(2);
    CHECK_OK(opg_registry_jail(r, &o1, 2000));
    CHECK(count_kind(r, OPG_EVENT_NODE_JAILED) == 1);
    CHECK_REFUSED(r, opg_registry_jail(r, &o1, 3000), OPG_EJAILED);
    opg_node_info n = node_of(r, 1);
    CHECK(n.jailed && n.jailed_until == 2000 && n.status == OPG_NODE_BONDED);
    opg_supply_info s;
    opg_registry_supply(&s, r);
    CHECK_U256(s.bonded, "300"); /* still bonded: it matters for governance quorum */
    CHECK_OK(opg_registry_end_block(r, 2, 1010));
    CHECK(node_of(r, 1).status == OPG_NODE_UNBONDING);
    CHECK(count_kind(r, OPG_EVENT_VALIDATOR_UPDATE) == 1);
    CHECK(event_of(r, OPG_EVENT_VALIDATOR_UPDATE, 0)->power == 0);
    opg_registry_supply(&s, r);
    CHECK_U256(s.bonded, "200");
    CHECK_U256(s.unbonding, "100");

    /* unjail conditions */
    CHECK_REFUSED(r, opg_registry_unjail(r, &o2, 3000), OPG_ENOTJAILED);
    CHECK_REFUSED(r, opg_registry_unjail(r, &o1, 1999), OPG_ETOOSOON);
    CHECK_OK(opg_registry_unjail(r, &o1, 2000));
    CHECK(!node_of(r, 1).jailed);
    CHECK_OK(opg_registry_end_block(r, 3, 2000));
    CHECK(node_of(r, 1).status == OPG_NODE_BONDED);
    /* a tombstoned node never unjails */
    CHECK_OK(opg_registry_jail(r, &o2, 2100));
    CHECK_OK(opg_registry_tombstone(r, &o2));
    CHECK(node_of(r, 2).tombstoned);
    CHECK_REFUSED(r, opg_registry_unjail(r, &o2, 99999), OPG_ETOMBSTONED);
    opg_id o9 = id_n(9);
    CHECK_REFUSED(r, opg_registry_tombstone(r, &o9), OPG_ENOTFOUND);
    CHECK_REFUSED(r, opg_registry_jail(r, &o9, 1), OPG_ENOTFOUND);
    CHECK_REFUSED(r, opg_registry_unjail(r, &o9, 1), OPG_ENOTFOUND);
    opg_registry_free(r);
}

static void test_self_bond_below_minimum_jails(void)
{
    opg_registry *r = small_registry();
    opg_node_create c = node_spec(1, 100);
    c.min_self_delegation = u64v(100);
    CHECK_OK(opg_registry_node_create(r, &c, 1, 1000));
    CHECK_OK(opg_registry_end_block(r, 1, 1000));
    opg_id op = id_n(1);
    opg_u256 got;
    /* another delegator's undelegation never jails */
    CHECK_OK(delegate_u(r, 1, 1, 10, 2, 1000));
    opg_id d1 = dtor(1);
    CHECK_OK(undelegate_u(&got, r, &d1, 1, 10, 2, 1000));
    CHECK(count_kind(r, OPG_EVENT_NODE_JAILED) == 0);
    /* the operator's own: 99 < 100 jails at once, within the same call */
    CHECK_OK(undelegate_u(&got, r, &op, 1, 1, 3, 1005));
    CHECK(count_kind(r, OPG_EVENT_NODE_JAILED) == 1);
    opg_node_info n = node_of(r, 1);
    CHECK(n.jailed && n.status == OPG_NODE_BONDED);
    /* unjail needs the self-bond back */
    CHECK_REFUSED(r, opg_registry_unjail(r, &op, 1010), OPG_ESELFBOND);
    opg_id o1 = id_n(1);
    opg_u256 one = u64v(1);
    CHECK_OK(opg_registry_delegate(NULL, r, &op, &o1, &one, 4, 1010));
    CHECK_OK(opg_registry_unjail(r, &op, 1010));
    CHECK(!node_of(r, 1).jailed);
    opg_registry_free(r);
}

static void test_node_removed_when_empty(void)
{
    opg_registry *r = small_registry();
    opg_node_create c = node_spec(5, 100);
    c.roles = OPG_ROLE_INFERENCE; /* stays unbonded */
    CHECK_OK(opg_registry_node_create(r, &c, 1, 1000));
    CHECK_OK(mk_node(r, 6, 100, 1, 1000));
    CHECK_OK(opg_registry_end_block(r, 1, 1000)); /* node 6 bonded */
    opg_id o5 = id_n(5), o6 = id_n(6);
    opg_u256 got;
    /* an unbonded node whose last shares leave is removed at once */
    CHECK_OK(undelegate_u(&got, r, &o5, 5, 100, 2, 1005));
    CHECK(count_kind(r, OPG_EVENT_NODE_REMOVED) == 1);
    CHECK(opg_id_cmp(&event_of(r, OPG_EVENT_NODE_REMOVED, 0)->node, &o5) == 0);
    CHECK(opg_registry_node_count(r) == 1);
    opg_node_info info;
    CHECK_RC(opg_registry_node_get(&info, r, &o5), OPG_ENOTFOUND);
    /* a bonded node stays until its unbonding has finished */
    CHECK_OK(undelegate_u(&got, r, &o6, 6, 100, 2, 1005));
    CHECK(opg_registry_node_count(r) == 1);
    CHECK_OK(opg_registry_end_block(r, 3, 1010)); /* power 0: leaves the set */
    CHECK(node_of(r, 6).status == OPG_NODE_UNBONDING);
    CHECK_OK(opg_registry_end_block(r, 4, 1110));
    CHECK(count_kind(r, OPG_EVENT_NODE_REMOVED) == 1);
    CHECK(opg_registry_node_count(r) == 0);
    /* the entries outlive their nodes and are paid with the operator id */
    CHECK(count_kind(r, OPG_EVENT_UNBONDING_MATURED) == 2);
    CHECK(opg_id_cmp(&event_of(r, OPG_EVENT_UNBONDING_MATURED, 0)->node, &o5) == 0);
    /* the operator id is free again */
    CHECK_OK(mk_node(r, 5, 10, 5, 1200));
    CHECK_OK(opg_registry_check(r));
    opg_registry_free(r);
}

static void test_node_queries(void)
{
    opg_registry *r = small_registry();
    CHECK_OK(mk_node(r, 3, 30, 1, 1000));
    CHECK_OK(mk_node(r, 1, 10, 1, 1000));
    CHECK_OK(mk_node(r, 2, 20, 1, 1000));
    opg_node_info info;
    for (size_t i = 0; i < 3; i++) {
        CHECK_OK(opg_registry_node_at(&info, r, i));
        opg_id want = id_n((unsigned)i + 1);
        CHECK(opg_id_cmp(&info.operator_id, &want) == 0);
    }
    CHECK_RC(opg_registry_node_at(&info, r, 3), OPG_ENOTFOUND);
    /* a delegator's delegations come out in operator id order */
    CHECK_OK(delegate_u(r, 1, 3, 3, 1, 1000));
    CHECK_OK(delegate_u(r, 1, 1, 1, 1, 1000));
    CHECK_OK(delegate_u(r, 1, 2, 2, 1, 1000));
    opg_delegation_info d[3];
    size_t cnt;
    opg_id d1 = dtor(1);
    CHECK_RC(opg_registry_delegations_of(d, 2, &cnt, r, &d1), OPG_EBUFS);
    CHECK(cnt == 3);
    CHECK_OK(opg_registry_delegations_of(d, 3, &cnt, r, &d1));
    for (unsigned i = 0; i < 3; i++) {
        opg_id want = id_n(i + 1);
        CHECK(opg_id_cmp(&d[i].operator_id, &want) == 0);
        CHECK(d[i].tokens.limb[0] == i + 1);
    }
    opg_id d9 = dtor(9);
    CHECK_OK(opg_registry_delegations_of(NULL, 0, &cnt, r, &d9));
    CHECK(cnt == 0);
    opg_registry_free(r);
}

/* ------------------------------------------------------------ parameters */

static void test_params_by_key(void)
{
    static const struct {
        const char *key, *dflt, *set;
    } keys[] = {
        {"staking.unbonding_time", "1814400", "3600"},
        {"staking.max_validators", "100", "4294967295"},
        {"staking.max_entries", "7", "64"},
        {"staking.min_commission_rate", "0", "0.05"},
        {"staking.power_reduction", "1000000", "1"},
        {"staking.fix_redelegation_overslash", "false", "true"},
        {"staking.poa", "false", "true"},
    };
    opg_registry *r = NULL;
    CHECK_OK(opg_registry_new(&r, NULL, NULL, NULL));
    for (size_t i = 0; i < COUNT(keys); i++)
        CHECK(opg_registry_param_key(i) && strcmp(opg_registry_param_key(i), keys[i].key) == 0);
    CHECK(opg_registry_param_key(COUNT(keys)) == NULL);
    char buf[96];
    size_t need;
    for (size_t i = 0; i < COUNT(keys); i++) {
        CHECK_OK(opg_registry_param_get(buf, sizeof buf, &need, r, keys[i].key));
        CHECK(strcmp(buf, keys[i].dflt) == 0);
        CHECK(need == strlen(keys[i].dflt) + 1);
        CHECK_OK(opg_registry_param_set(r, keys[i].key, keys[i].set));
        CHECK_OK(opg_registry_param_get(buf, sizeof buf, &need, r, keys[i].key));
        CHECK(strcmp(buf, keys[i].set) == 0);
    }
    opg_registry_params got;
    opg_registry_params_get(&got, r);
    CHECK(got.unbonding_time == 3600 && got.max_validators == UINT32_MAX && got.max_entries == 64 &&
          got.fix_redelegation_overslash == 1);
    CHECK_DEC(got.min_commission_rate, "0.05");
    CHECK_U256(got.power_reduction, "1");
    CHECK_RC(opg_registry_param_get(buf, 3, &need, r, "staking.unbonding_time"), OPG_EBUFS);
    CHECK(need == 5);
    CHECK_RC(opg_registry_param_get(buf, sizeof buf, &need, r, "staking.nope"), OPG_EKEY);

    /* refused values leave every parameter as it was */
    static const struct {
        const char *key, *value;
        int rc;
    } bad[] = {
        {"staking.unbonding", "1", OPG_EKEY},
        {"", "1", OPG_EKEY},
        {"staking.unbonding_time", "-1", OPG_EPARSE},
        {"staking.unbonding_time", "1.5", OPG_EPARSE},
        {"staking.unbonding_time", "9223372036854775808", OPG_EINVAL},
        {"staking.max_validators", "0", OPG_EINVAL},
        {"staking.max_validators", "4294967296", OPG_EINVAL},
        {"staking.max_validators", "abc", OPG_EPARSE},
        {"staking.max_entries", "0", OPG_EINVAL},
        {"staking.max_entries", "65", OPG_EINVAL},
        {"staking.min_commission_rate", "1.000000000000000001", OPG_EINVAL},
        {"staking.min_commission_rate", "0.1234567890123456789", OPG_EPARSE},
        {"staking.power_reduction", "0", OPG_EINVAL},
        {"staking.power_reduction", " 1", OPG_EPARSE},
        {"staking.fix_redelegation_overslash", "1", OPG_EPARSE},
        {"staking.fix_redelegation_overslash", "TRUE", OPG_EPARSE},
    };
    for (size_t i = 0; i < COUNT(bad); i++) {
        opg_registry_params before, after;
        opg_registry_params_get(&before, r);
        CHECK_REFUSED(r, opg_registry_param_set(r, bad[i].key, bad[i].value), bad[i].rc);
        opg_registry_params_get(&after, r);
        CHECK(memcmp(&before, &after, sizeof before) == 0);
    }
    CHECK_REFUSED(r, opg_registry_param_set(r, "staking.max_entries", NULL), OPG_EINVAL);

    /* invalid params at creation */
    opg_registry_params p;
    opg_registry_params_init(&p);
    p.max_entries = 65;
    opg_registry *q = NULL;
    CHECK_RC(opg_registry_new(&q, &p, NULL, NULL), OPG_EINVAL);
    opg_registry_params_init(&p);
    p.power_reduction = u64v(0);
    CHECK_RC(opg_registry_new(&q, &p, NULL, NULL), OPG_EINVAL);
    opg_registry_params_init(&p);
    p.fix_redelegation_overslash = 2;
    CHECK_RC(opg_registry_new(&q, &p, NULL, NULL), OPG_EINVAL);
    CHECK(q == NULL);
    opg_registry_free(r);
}

/* ------------------------------------------------------------ supply ledger */

static void test_supply_ledger(void)
{
    opg_registry *r = NULL;
    opg_registry_params p = small_params();
    opg_u256 genesis = u64v(1000);
    CHECK_OK(opg_registry_new(&r, &p, &genesis, NULL));
    CHECK_OK(mk_node(r, 1, 300, 1, 1000));
    CHECK_OK(opg_registry_end_block(r, 1, 1000));
    opg_supply_info s;
    opg_registry_supply(&s, r);
    CHECK_U256(s.total_supply, "1000");
    CHECK_U256(s.bonded, "300");
    CHECK_DEC(s.staking_ratio, "0.3");
    opg_u256 a = u64v(200);
    CHECK_OK(opg_registry_supply_mint(r, &a));
    a = u64v(50);
    CHECK_OK(opg_registry_supply_burn(r, &a));
    /* slash 1 (see rate_299_300): burned 50 + 1, supply 1000 + 200 - 51 = 1149 */
    opg_slash_result res;
    CHECK_OK(slash_u(&res, r, 1, 2, 300, "0.004", 2, 1005));
    CHECK(count_kind(r, OPG_EVENT_BURNED) == 1);
    CHECK_U256(event_of(r, OPG_EVENT_BURNED, 0)->amount, "1");
    opg_registry_supply(&s, r);
    CHECK_U256(s.minted, "200");
    CHECK_U256(s.burned, "51");
    CHECK_U256(s.total_supply, "1149");
    CHECK_U256(s.bonded, "299");
    /* 299 / 1149 = 0.260226283724978241949… truncated */
    CHECK_DEC(s.staking_ratio, "0.260226283724978241");
    a = u64v(1150);
    CHECK_REFUSED(r, opg_registry_supply_burn(r, &a), OPG_EUNDERFLOW);
    opg_u256 huge = {{UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX}};
    CHECK_REFUSED(r, opg_registry_supply_mint(r, &huge), OPG_EOVERFLOW);
    opg_registry_free(r);
}

/* ------------------------------------------- refusals change nothing at all */

/*
 * A registry with nodes in every status, delegations, unbonding and redelegation
 * entries; every kind of call is refused once. Before each refusal a successful call
 * left events behind, so "no events" also proves the list was cleared.
 */
static void test_refusals_change_nothing(void)
{
    opg_registry *r = small_registry();
    for (unsigned i = 1; i <= 4; i++)
        CHECK_OK(mk_node(r, i, 100 * i, 1, 1000));
    CHECK_OK(opg_registry_end_block(r, 1, 1000));
    CHECK_OK(delegate_u(r, 1, 1, 50, 2, 1000));
    CHECK_OK(delegate_u(r, 2, 2, 50, 2, 1000));
    opg_id d1 = dtor(1), o1 = id_n(1), o2 = id_n(2), o3 = id_n(3), o9 = id_n(9);
    opg_u256 got;
    opg_time done;
    CHECK_OK(undelegate_u(&got, r, &d1, 1, 10, 3, 1005));
    CHECK_OK(redelegate_u(&done, r, &d1, 1, 2, 10, 3, 1005));
    CHECK_OK(opg_registry_jail(r, &o3, 1500));
    CHECK_OK(opg_registry_end_block(r, 4, 1010)); /* node 3 unbonding */

    /* each refusal follows a call that left an event (jailing node 4), and node 4
     * is unjailed again after it (unjail leaves no event) */
    opg_id o4 = id_n(4);
#define REFUSE(expr, code)                                                             \
    do {                                                                               \
        CHECK_OK(opg_registry_jail(r, &o4, 0));                                        \
        CHECK(n_events(r) == 1);                                                       \
        CHECK_REFUSED(r, (expr), (code));                                              \
        CHECK_OK(opg_registry_unjail(r, &o4, 1010));                                   \
    } while (0)
    /* first make sure a refused call after an event-producing one clears the list */
    CHECK_OK(opg_registry_jail(r, &o2, 1100));
    CHECK(n_events(r) == 1);
    CHECK_REFUSED(r, opg_registry_jail(r, &o2, 1200), OPG_EJAILED);
    CHECK_OK(opg_registry_unjail(r, &o2, 1100));

    opg_node_create c = node_spec(1, 10);
    opg_dec rate = dec_of("0.5");
    opg_u256 big = u64v(1000000), one = u64v(1), min = u64v(1);
    REFUSE(opg_registry_node_create(r, &c, 5, 1010), OPG_EEXISTS);
    REFUSE(opg_registry_node_set_commission(r, &o1, &rate, 1010), OPG_ETOOSOON);
    REFUSE(opg_registry_node_set_min_self_delegation(r, &o1, &min), OPG_EINVAL);
    REFUSE(opg_registry_node_set_roles(r, &o1, 0), OPG_EINVAL);
    REFUSE(opg_registry_unjail(r, &o1, 1010), OPG_ENOTJAILED);
    REFUSE(opg_registry_jail(r, &o3, 1), OPG_EJAILED);
    REFUSE(opg_registry_tombstone(r, &o9), OPG_ENOTFOUND);
    REFUSE(opg_registry_delegate(NULL, r, &d1, &o9, &one, 5, 1010), OPG_ENOTFOUND);
    REFUSE(opg_registry_undelegate(NULL, NULL, r, &d1, &o1, &big, 5, 1010), OPG_EUNDERFLOW);
    REFUSE(opg_registry_redelegate(NULL, r, &d1, &o2, &o1, &one, 5, 1010), OPG_ETRANSITIVE);
    REFUSE(opg_registry_cancel_unbonding(r, &d1, &o1, 4, &one, 5, 1010), OPG_ENOTFOUND);
    opg_dec f = dec_of("0.1");
    REFUSE(opg_registry_slash(NULL, r, &o1, 6, 100, &f, 5, 1010), OPG_EFUTURE);
    f = dec_of("1.000000000000000001");
    REFUSE(opg_registry_slash(NULL, r, &o1, 5, 100, &f, 5, 1010), OPG_EINVAL);
    REFUSE(opg_registry_supply_burn(r, &big), OPG_EUNDERFLOW);
    REFUSE(opg_registry_param_set(r, "staking.max_entries", "0"), OPG_EINVAL);
    REFUSE(opg_registry_param_set(r, "staking.nope", "0"), OPG_EKEY);
#undef REFUSE
    CHECK_OK(opg_registry_check(r));
    opg_registry_free(r);
}

int main(void)
{
    RUN(test_first_delegation_one_to_one);
    RUN(test_shares_after_slash);
    RUN(test_undelegate_truncation_dust_last_leaver);
    RUN(test_undelegate_tiny_amounts);
    RUN(test_unbonding_merge_and_max_entries);
    RUN(test_unbonding_matures_in_order);
    RUN(test_cancel_unbonding);
    RUN(test_commission_changes);
    RUN(test_commission_extreme_times);
    RUN(test_node_create_refusals);
    RUN(test_min_self_delegation);
    RUN(test_redelegation_completion_by_status);
    RUN(test_redelegation_source_removed);
    RUN(test_redelegation_refusals);
    RUN(test_active_set_ties_and_cut);
    RUN(test_power_zero_excluded);
    RUN(test_jail_keeps_bonded_until_end_block);
    RUN(test_self_bond_below_minimum_jails);
    RUN(test_node_removed_when_empty);
    RUN(test_node_queries);
    RUN(test_params_by_key);
    RUN(test_supply_ledger);
    RUN(test_refusals_change_nothing);
    return harness_done();
}
