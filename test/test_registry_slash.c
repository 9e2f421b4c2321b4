/*
 * test_registry_slash.c - x/staking's Slash (SEMANTICS.md section 4, first paragraph):
 * which unbonding and redelegation entries an infraction reaches, how much each pays,
 * the destination drain and its over-slash, libopg's fix_redelegation_overslash
 * switch, the node's own burn with its effective fraction, refusals and the ledger.
 *
 * Registries have power_reduction 1 (power = tokens), unbonding_time 100 s. The
 * effective fraction hook itself is tested white-box in test_registry_internal.c.
 */
#include "registry_util.h"

/*
 * Node 1: self 1000, D1 200, D2 100 -> 1300 tokens, bonded at height 1.
 * Height 4: D2 undelegates 50 (entry created before the infraction at 5).
 * Height 5, time 1005: D1 undelegates 100 (entry {h5, completes 1105, 100}).
 * Node: 1150 tokens.
 */
static opg_registry *with_entries(void)
{
    opg_registry *r = small_registry();
    opg_id d1 = dtor(1), d2 = dtor(2);
    opg_u256 got;
    if (mk_node(r, 1, 1000, 1, 1000) || delegate_u(r, 1, 1, 200, 1, 1000) ||
        delegate_u(r, 2, 1, 100, 1, 1000) || opg_registry_end_block(r, 1, 1000) ||
        undelegate_u(&got, r, &d2, 1, 50, 4, 1004) || undelegate_u(&got, r, &d1, 1, 100, 5, 1005))
        abort();
    return r;
}

static opg_u256 entry_balance(const opg_registry *r, unsigned k)
{
    opg_unbonding_info u[8];
    size_t cnt = 0;
    opg_id d = dtor(k);
    opg_u256 zero = u64v(0);
    if (opg_registry_unbondings_of(u, 8, &cnt, r, &d) != OPG_OK || cnt == 0)
        return zero;
    return u[0].balance;
}

static void test_slash_at_current_height(void)
{
    opg_registry *r = with_entries();
    /* infraction == height: no entry is looked at. to_slash = trunc(1300 * 0.1) = 130,
     * all from the node: 1150 -> 1020; effective fraction ceil(130 / 1150)... */
    opg_slash_result res;
    CHECK_OK(slash_u(&res, r, 1, 5, 1300, "0.1", 5, 1006));
    CHECK_U256(res.burned_node, "130");
    CHECK_U256(res.burned_unbonding, "0");
    CHECK_U256(res.burned_total, "130");
    /* 130 / 1150 = 0.11304347826086956521… rounded up */
    CHECK_DEC(res.effective_fraction, "0.113043478260869566");
    opg_u256 b = entry_balance(r, 1);
    CHECK_U256(b, "100");
    CHECK_U256(NODE(r, 1)->tokens, "1020");
    CHECK_DEC(NODE(r, 1)->delegator_shares, "1150");
    opg_registry_free(r);
}

static void test_slash_entries_since_infraction(void)
{
    opg_registry *r = with_entries();
    /* infraction 5 at height 7: D1's entry (created at 5 >= 5, not mature) pays
     * s = trunc(0.1 * 100) = 10; D2's (created at 4 < 5) is untouched.
     * remaining = 130 - 10 = 120 from the node: 1150 -> 1030;
     * effective fraction = 120 / 1150 = 0.10434782608695652173… rounded up. */
    opg_slash_result res;
    CHECK_OK(slash_u(&res, r, 1, 5, 1300, "0.1", 7, 1010));
    CHECK_U256(res.burned_unbonding, "10");
    CHECK_U256(res.burned_node, "120");
    CHECK_U256(res.burned_redelegation, "0");
    CHECK_U256(res.burned_total, "130");
    CHECK_DEC(res.effective_fraction, "0.104347826086956522");
    opg_u256 b1 = entry_balance(r, 1), b2 = entry_balance(r, 2);
    CHECK_U256(b1, "90");
    CHECK_U256(b2, "50");
    CHECK_U256(NODE(r, 1)->tokens, "1030");
    CHECK(count_kind(r, OPG_EVENT_BURNED) == 1);
    CHECK_U256(event_of(r, OPG_EVENT_BURNED, 0)->amount, "130");
    opg_supply_info s;
    opg_registry_supply(&s, r);
    CHECK_U256(s.burned, "130");
    CHECK_U256(s.bonded, "1030");
    CHECK_U256(s.unbonding, "140"); /* 90 + 50 */
    /* the initial balance is what the next slash is computed on */
    opg_unbonding_info u;
    size_t cnt;
    opg_id d1 = dtor(1);
    CHECK_OK(opg_registry_unbondings_of(&u, 1, &cnt, r, &d1));
    CHECK_U256(u.initial_balance, "100");
    CHECK_OK(opg_registry_check(r));
    opg_registry_free(r);
}

static void test_slash_entry_short_counts_in_full(void)
{
    opg_registry *r = with_entries();
    /* 1: power 100, fraction 0.5: to_slash 50 = D1's s = trunc(0.5 * 100) = 50;
     *    remaining 0: the node keeps its tokens, no effective fraction */
    opg_slash_result res;
    CHECK_OK(slash_u(&res, r, 1, 5, 100, "0.5", 6, 1006));
    CHECK_U256(res.burned_unbonding, "50");
    CHECK_U256(res.burned_node, "0");
    CHECK_DEC(res.effective_fraction, "0");
    CHECK_U256(NODE(r, 1)->tokens, "1150");
    /* 2: power 1000, fraction 0.8: to_slash 800; D1's s = trunc(0.8 * 100) = 80 but
     *    only 50 is left to burn; s counts in full, so remaining = 800 - 80 = 720
     *    (not 750), node 1150 -> 430, effective 720 / 1150 = 0.626086956521739130434…
     *    -> 0.626086956521739131 */
    CHECK_OK(slash_u(&res, r, 1, 5, 1000, "0.8", 7, 1007));
    CHECK_U256(res.burned_unbonding, "50");
    CHECK_U256(res.burned_node, "720");
    CHECK_U256(res.burned_total, "770");
    CHECK_DEC(res.effective_fraction, "0.626086956521739131");
    opg_u256 b = entry_balance(r, 1);
    CHECK_U256(b, "0");
    CHECK_U256(NODE(r, 1)->tokens, "430");
    /* the drained entry still matures (at 1105) and pays nothing */
    CHECK_OK(opg_registry_end_block(r, 8, 1105));
    CHECK(count_kind(r, OPG_EVENT_UNBONDING_MATURED) == 1); /* D2's 50 only */
    opg_id d2 = dtor(2);
    CHECK(opg_id_cmp(&event_of(r, OPG_EVENT_UNBONDING_MATURED, 0)->account, &d2) == 0);
    opg_registry_free(r);
}

static void test_slash_mature_entry_untouched(void)
{
    opg_registry *r = with_entries();
    /* D1's entry completes at 1105. At 1104 it is reached, at 1105 (completion <= now,
     * not yet paid) it is not. */
    opg_slash_result res;
    CHECK_OK(slash_u(&res, r, 1, 5, 1000, "0.1", 8, 1104));
    CHECK_U256(res.burned_unbonding, "10");
    CHECK_OK(slash_u(&res, r, 1, 5, 1000, "0.1", 9, 1105));
    CHECK_U256(res.burned_unbonding, "0");
    CHECK_U256(res.burned_node, "100");
    opg_u256 b = entry_balance(r, 1);
    CHECK_U256(b, "90");
    opg_registry_free(r);
}

/*
 * Nodes 1 (source) and 2 (destination), self 1000 each, bonded at height 1.
 * D1 delegates 200 to node 1. Height 10, time 1010: D1 redelegates 100 to node 2
 * (entry {h10, completes 1110, initial 100, shares_dst 100}; node 2 at 1:1).
 * Height 11: D1 undelegates 30 from node 2 (entry there {h11, 30}); D1 keeps 70 shares.
 * Node 1: 1100 tokens; node 2: 1070 tokens.
 */
static opg_registry *with_redelegation(int fix)
{
    opg_registry_params p = small_params();
    p.fix_redelegation_overslash = fix;
    opg_registry *r = NULL;
    opg_id d1 = dtor(1);
    opg_u256 got;
    opg_time done;
    if (opg_registry_new(&r, &p, NULL, NULL) || mk_node(r, 1, 1000, 1, 1000) ||
        mk_node(r, 2, 1000, 1, 1000) || opg_registry_end_block(r, 1, 1000) ||
        delegate_u(r, 1, 1, 200, 2, 1000) || redelegate_u(&done, r, &d1, 1, 2, 100, 10, 1010) ||
        undelegate_u(&got, r, &d1, 2, 30, 11, 1011))
        abort();
    return r;
}

static void test_slash_redelegation_destination(void)
{
    /* Slash node 1 at height 12 for infraction 10, power 1200, fraction 0.5:
     * to_slash = 600. The redelegation entry: s = trunc(0.5 * 100) = 50, counted.
     * Budget 50: first D1's unbonding entry at node 2 (h11 >= 10, live): 30 burned,
     * budget 20. Then x/staking unbonds mul(0.5, 100) = 50 shares at node 2 (rate 1)
     * and burns their 50 tokens, although only 20 were still owed (issue #20688):
     * the redelegated 100 pays 80, not 50. Node 1: remaining 600 - 50 = 550 of 1100. */
    opg_registry *r = with_redelegation(0);
    opg_slash_result res;
    CHECK_OK(slash_u(&res, r, 1, 10, 1200, "0.5", 12, 1012));
    CHECK_U256(res.burned_unbonding, "30");
    CHECK_U256(res.burned_redelegation, "50");
    CHECK_U256(res.burned_node, "550");
    CHECK_U256(res.burned_total, "630");
    CHECK_DEC(res.effective_fraction, "0.5");
    opg_id d1 = dtor(1);
    CHECK_DEC(DEL(r, &d1, 2)->shares, "20");
    CHECK_U256(NODE(r, 2)->tokens, "1020");
    CHECK_DEC(NODE(r, 2)->delegator_shares, "1020");
    CHECK_U256(NODE(r, 1)->tokens, "550");
    opg_u256 b = entry_balance(r, 1);
    CHECK_U256(b, "0");
    /* the redelegation entry itself is not changed by a slash */
    opg_redelegation_info e;
    size_t cnt;
    CHECK_OK(opg_registry_redelegations_of(&e, 1, &cnt, r, &d1));
    CHECK(cnt == 1);
    CHECK_U256(e.initial_balance, "100");
    CHECK_DEC(e.shares_dst, "100");
    opg_supply_info s;
    opg_registry_supply(&s, r);
    CHECK_U256(s.burned, "630");
    CHECK_U256(s.bonded, "1570"); /* 550 + 1020 */
    CHECK_OK(opg_registry_check(r));
    opg_registry_free(r);

    /* staking.fix_redelegation_overslash: only the shares worth the unpaid 20:
     * shares_from_tokens(20) at node 2 = trunc(1070 * 20 / 1070) = 20 shares -> 20 */
    r = with_redelegation(1);
    CHECK_OK(slash_u(&res, r, 1, 10, 1200, "0.5", 12, 1012));
    CHECK_U256(res.burned_unbonding, "30");
    CHECK_U256(res.burned_redelegation, "20");
    CHECK_U256(res.burned_node, "550");
    CHECK_U256(res.burned_total, "600");
    CHECK_DEC(DEL(r, &d1, 2)->shares, "50");
    CHECK_U256(NODE(r, 2)->tokens, "1050");
    opg_registry_free(r);

    /* with nothing drained at the destination the switch changes nothing */
    r = with_redelegation(1);
    opg_id o2 = id_n(2);
    opg_u256 a = u64v(30);
    CHECK_OK(opg_registry_cancel_unbonding(r, &d1, &o2, 11, &a, 11, 1011));
    CHECK_OK(slash_u(&res, r, 1, 10, 1200, "0.5", 12, 1012));
    CHECK_U256(res.burned_unbonding, "0");
    CHECK_U256(res.burned_redelegation, "50");
    CHECK_DEC(DEL(r, &d1, 2)->shares, "50");
    opg_registry_free(r);
}

static void test_slash_redelegation_skips_and_caps(void)
{
    opg_redelegation_info e;
    size_t cnt;
    opg_slash_result res;
    opg_id d1 = dtor(1);
    opg_u256 got;

    /* an entry created before the infraction is not reached: infraction 11 > 10 */
    opg_registry *r = with_redelegation(0);
    CHECK_OK(slash_u(&res, r, 1, 11, 1200, "0.5", 12, 1012));
    CHECK_U256(res.burned_redelegation, "0");
    CHECK_U256(res.burned_unbonding, "0");
    CHECK_U256(res.burned_node, "600");
    CHECK_DEC(DEL(r, &d1, 2)->shares, "70");
    opg_registry_free(r);

    /* a mature redelegation entry (1110 <= now) is not reached either */
    r = with_redelegation(0);
    CHECK_OK(slash_u(&res, r, 1, 10, 1200, "0.5", 12, 1110));
    CHECK_U256(res.burned_redelegation, "0");
    CHECK_U256(res.burned_unbonding, "0");
    opg_registry_free(r);

    /* the unbond at the destination is capped at what the delegation holds, and a
     * mature unbonding entry at the destination is skipped: D1 undelegates 60 more
     * from node 2 with a 1 s unbonding time (completes 1013), leaving 10 shares.
     * At 1013: budget 50, the 30-entry (completes 1111) pays 30, the 60-entry is
     * mature; then min(mul(0.5, 100) = 50, 10) = 10 shares go: 10 tokens. */
    r = with_redelegation(0);
    CHECK_OK(opg_registry_param_set(r, "staking.unbonding_time", "1"));
    CHECK_OK(undelegate_u(&got, r, &d1, 2, 60, 12, 1012));
    CHECK_OK(slash_u(&res, r, 1, 10, 1200, "0.5", 13, 1013));
    CHECK_U256(res.burned_unbonding, "30");
    CHECK_U256(res.burned_redelegation, "10");
    int found;
    del_of(r, &d1, 2, &found);
    CHECK(!found);
    CHECK_OK(opg_registry_redelegations_of(&e, 1, &cnt, r, &d1));
    CHECK(cnt == 1);
    /* a later slash finds no delegation at the destination and skips it */
    CHECK_OK(slash_u(&res, r, 1, 10, 1200, "0.5", 14, 1014));
    CHECK_U256(res.burned_redelegation, "0");
    CHECK_U256(res.burned_unbonding, "0");
    CHECK_OK(opg_registry_check(r));
    opg_registry_free(r);
}

/* Effective fraction capped at 1: the power at the infraction was larger than what
 * the node holds now; everything goes. */
static void test_slash_everything(void)
{
    opg_registry *r = with_entries();
    opg_slash_result res;
    CHECK_OK(slash_u(&res, r, 1, 7, 5000, "1", 7, 1010));
    CHECK_U256(res.burned_node, "1150");
    CHECK_DEC(res.effective_fraction, "1");
    opg_node_info n = node_of(r, 1);
    CHECK_U256(n.tokens, "0");
    CHECK_DEC(n.delegator_shares, "1150");
    /* a node with shares but no tokens refuses delegations */
    CHECK_REFUSED(r, delegate_u(r, 3, 1, 10, 8, 1011), OPG_EINSOLVENT);
    opg_id d1 = dtor(1), o1 = id_n(1);
    opg_u256 a = u64v(1);
    CHECK_REFUSED(r, undelegate_u(NULL, r, &d1, 1, 1, 8, 1011), OPG_EINSOLVENT);
    CHECK_REFUSED(r, opg_registry_cancel_unbonding(r, &d1, &o1, 5, &a, 8, 1011), OPG_EINSOLVENT);
    /* its power is 0: it leaves the set */
    CHECK_OK(opg_registry_end_block(r, 8, 1012));
    CHECK(NODE(r, 1)->status == OPG_NODE_UNBONDING);
    /* a slash with nothing left to take burns nothing and emits no event */
    CHECK_OK(slash_u(&res, r, 1, 8, 100, "0.5", 8, 1012));
    CHECK_U256(res.burned_total, "0");
    CHECK(n_events(r) == 0);
    opg_registry_free(r);
}

static void test_slash_refusals_and_status(void)
{
    opg_registry *r = small_registry();
    CHECK_OK(mk_node(r, 1, 100, 1, 1000));
    opg_slash_result res;
    /* never bonded: unbonded nodes are not slashed */
    CHECK_REFUSED(r, slash_u(&res, r, 1, 1, 100, "0.1", 1, 1000), OPG_ESTATUS);
    CHECK_OK(opg_registry_end_block(r, 1, 1000));
    CHECK_REFUSED(r, slash_u(&res, r, 1, 3, 100, "0.1", 2, 1001), OPG_EFUTURE);
    CHECK_REFUSED(r, slash_u(&res, r, 9, 1, 100, "0.1", 2, 1001), OPG_ENOTFOUND);
    CHECK_REFUSED(r, slash_u(&res, r, 1, 1, 100, "1.000000000000000001", 2, 1001), OPG_EINVAL);
    /* an unbonding node is slashed */
    opg_id o1 = id_n(1);
    CHECK_OK(opg_registry_jail(r, &o1, 0));
    CHECK_OK(opg_registry_end_block(r, 2, 1001));
    CHECK(NODE(r, 1)->status == OPG_NODE_UNBONDING);
    CHECK_OK(slash_u(&res, r, 1, 1, 100, "0.05", 3, 1002));
    CHECK_U256(res.burned_node, "5");
    opg_supply_info s;
    opg_registry_supply(&s, r);
    CHECK_U256(s.unbonding, "95"); /* burned from a not-bonded node */
    CHECK_U256(s.burned, "5");
    /* once unbonded, refused again */
    CHECK_OK(opg_registry_end_block(r, 3, 1101));
    CHECK(NODE(r, 1)->status == OPG_NODE_UNBONDED);
    CHECK_REFUSED(r, slash_u(&res, r, 1, 2, 100, "0.1", 4, 1102), OPG_ESTATUS);
    /* a fraction of 0 burns nothing */
    CHECK_OK(opg_registry_unjail(r, &o1, 1102));
    CHECK_OK(opg_registry_end_block(r, 4, 1102));
    CHECK_OK(slash_u(&res, r, 1, 4, 95, "0", 5, 1103));
    CHECK_U256(res.burned_total, "0");
    CHECK(n_events(r) == 0);
    opg_registry_free(r);
}

/*
 * One destination delegation drained by many entries: D redelegates A -> X 64 times
 * (staking.max_entries 64) and X has a long F1 history from 130 delegators, one a
 * block. A slash of A at the first entry's height unbonds D's delegation at X once per
 * entry, and each unbond settles its rewards again, so the engines must reserve for
 * every entry, not once per delegation. The slash must succeed with the splitter
 * consistent, and a replica that saved and loaded before the slash (its history
 * arrays sized differently) must end with the same hashes.
 */
static void test_slash_one_delegation_drained_many_times(void)
{
    opg_registry_params p = small_params();
    p.max_entries = 64;
    opg_registry *r;
    opg_splitter *s;
    CHECK_OK(opg_registry_new(&r, &p, NULL, NULL));
    CHECK_OK(opg_splitter_new(&s, r, NULL, NULL));
    opg_height h = 1;
    opg_time t = 1000;
    CHECK_OK(mk_node(r, 1, 1000000, h, t));
    CHECK_OK(mk_node(r, 2, 1000, h, t));
    CHECK_OK(opg_registry_end_block(r, h, t));
    for (unsigned i = 0; i < 130; i++, h++, t++)
        CHECK_OK(delegate_u(r, 50 + i, 2, 10, h + 1, t + 1));
    h++, t++;
    CHECK_OK(delegate_u(r, 0, 1, 100000, h, t));
    h++, t++;
    opg_id d0 = dtor(0);
    const opg_height first = h;
    for (unsigned k = 0; k < 64; k++, h++, t++)
        CHECK_OK(redelegate_u(NULL, r, &d0, 1, 2, 100, h, t));

    /* the replica: saved and loaded just before the slash */
    size_t rl, sl;
    CHECK_RC(opg_registry_save(NULL, 0, &rl, r), OPG_EBUFS);
    CHECK_RC(opg_splitter_save(NULL, 0, &sl, s), OPG_EBUFS);
    uint8_t *rb = malloc(rl), *sb = malloc(sl);
    CHECK(rb && sb);
    CHECK_OK(opg_registry_save(rb, rl, &rl, r));
    CHECK_OK(opg_splitter_save(sb, sl, &sl, s));
    opg_registry *r2;
    opg_splitter *s2;
    CHECK_OK(opg_registry_load(&r2, rb, rl, NULL));
    CHECK_OK(opg_splitter_load(&s2, r2, sb, sl, NULL));
    free(rb);
    free(sb);

    opg_slash_result res, res2;
    CHECK_OK(slash_u(&res, r, 1, first, 1000000, "0.01", h, t));
    CHECK_OK(slash_u(&res2, r2, 1, first, 1000000, "0.01", h, t));
    /* 64 entries of 100 each count 1 each; D's delegation at X gives up 64 times
     * 0.01 of the shares each entry issued */
    CHECK_U256(res.burned_redelegation, "64");
    CHECK(memcmp(&res, &res2, sizeof res) == 0);
    CHECK_OK(opg_splitter_check(s));
    CHECK_OK(opg_splitter_check(s2));
    uint8_t a[32], b[32];
    CHECK_OK(opg_registry_state_hash(a, r));
    CHECK_OK(opg_registry_state_hash(b, r2));
    CHECK(memcmp(a, b, 32) == 0);
    CHECK_OK(opg_splitter_state_hash(a, s));
    CHECK_OK(opg_splitter_state_hash(b, s2));
    CHECK(memcmp(a, b, 32) == 0);
    opg_id x = id_n(2);
    opg_u256 paid, paid2;
    CHECK_OK(opg_splitter_withdraw_rewards(&paid, s, &d0, &x, h + 1, t + 1));
    CHECK_OK(opg_splitter_withdraw_rewards(&paid2, s2, &d0, &x, h + 1, t + 1));
    CHECK(opg_u256_cmp(&paid, &paid2) == 0);
    opg_splitter_free(s2);
    opg_registry_free(r2);
    opg_splitter_free(s);
    opg_registry_free(r);
}

int main(void)
{
    RUN(test_slash_at_current_height);
    RUN(test_slash_entries_since_infraction);
    RUN(test_slash_entry_short_counts_in_full);
    RUN(test_slash_mature_entry_untouched);
    RUN(test_slash_redelegation_destination);
    RUN(test_slash_redelegation_skips_and_caps);
    RUN(test_slash_everything);
    RUN(test_slash_refusals_and_status);
    RUN(test_slash_one_delegation_drained_many_times);
    return harness_done();
}
