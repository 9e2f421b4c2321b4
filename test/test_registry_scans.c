/*
 * test_registry_scans.c - calls that must cost what they touch (issue 15): the
 * entry chains (lib/registry.c) answer what a scan of the queues answered.
 *
 *   - behaviour with many others' entries around: a double-sign slash of a node with
 *     many redelegations out of it (each delegator also unbonding at the
 *     destination), undelegations merging into the same entry in a crowded block,
 *     cancel_unbonding picking the pair's first entry at a height; hand-worked amounts
 *   - property: random operation sequences where every per-delegator query equals a
 *     brute-force scan of the queues, opg_registry_check (which walks every chain
 *     against the queues) passes after each call, and a save/load round trip
 *     rebuilds the same chains
 *
 * Registries have power_reduction 1 (power = tokens), unbonding_time 100 s.
 */
#include "registry_util.h"

#include "registry_internal.h"

/* The delegator's single unbonding entry (count must be 1). */
static int one_entry(opg_unbonding_info *out, const opg_registry *r, unsigned k)
{
    opg_unbonding_info u[4];
    size_t n = 0;
    opg_id d = dtor(k);
    if (opg_registry_unbondings_of(u, 4, &n, r, &d) != OPG_OK || n != 1)
        return 0;
    *out = u[0];
    return 1;
}

/*
 * Nodes 1 and 2, self 1000 each, bonded at height 1 (time 1).
 * Height 2: A_k (k < 50) delegate 100 to node 1; B_k (20) delegate 100 to node 1;
 * C_k (100) delegate 100 to node 2.
 * Height 3 (time 3): A_k redelegate 100 from 1 to 2 (entry {h3, 103, 100}) and
 * undelegate 10 from node 2; B_k undelegate 20 from node 1; C_k undelegate 10 from 2.
 * Node 1: 1000 + 20 * 80 = 2600 tokens.
 *
 * Slash of node 1 for an infraction at 3, power 10000, fraction 0.1, at height 5:
 * to_slash 1000. Each B entry pays trunc(0.1 * 20) = 2 (balance 18): 40. Each
 * redelegation owes 10, drained from the A's entry at node 2 (balance 10 -> 0), so no
 * unbond at the destination: 500. Remaining 1000 - 540 = 460 from the node: 2140.
 * The C entries, others' entries at the destination, stay 10.
 */
static void test_slash_many_redelegations(void)
{
    opg_registry *r = small_registry();
    CHECK_OK(mk_node(r, 1, 1000, 1, 1));
    CHECK_OK(mk_node(r, 2, 1000, 1, 1));
    CHECK_OK(opg_registry_end_block(r, 1, 1));
    for (unsigned k = 0; k < 50; k++)
        CHECK_OK(delegate_u(r, k, 1, 100, 2, 2));
    for (unsigned k = 0; k < 20; k++)
        CHECK_OK(delegate_u(r, 100 + k, 1, 100, 2, 2));
    for (unsigned k = 0; k < 100; k++)
        CHECK_OK(delegate_u(r, 200 + k, 2, 100, 2, 2));
    opg_u256 got;
    for (unsigned k = 0; k < 50; k++) {
        opg_id d = dtor(k);
        opg_time done;
        CHECK_OK(redelegate_u(&done, r, &d, 1, 2, 100, 3, 3));
        CHECK(done == 103);
        CHECK_OK(undelegate_u(&got, r, &d, 2, 10, 3, 3));
    }
    for (unsigned k = 0; k < 20; k++) {
        opg_id d = dtor(100 + k);
        CHECK_OK(undelegate_u(&got, r, &d, 1, 20, 3, 3));
    }
    for (unsigned k = 0; k < 100; k++) {
        opg_id d = dtor(200 + k);
        CHECK_OK(undelegate_u(&got, r, &d, 2, 10, 3, 3));
    }
    CHECK_U256(NODE(r, 1)->tokens, "2600");
    opg_slash_result res;
    CHECK_OK(slash_u(&res, r, 1, 3, 10000, "0.1", 5, 5));
    CHECK_U256(res.burned_unbonding, "540");
    CHECK_U256(res.burned_redelegation, "0");
    CHECK_U256(res.burned_node, "460");
    CHECK_U256(res.burned_total, "1000");
    CHECK_U256(NODE(r, 1)->tokens, "2140");
    opg_unbonding_info u;
    for (unsigned k = 0; k < 50; k++) {
        CHECK(one_entry(&u, r, k));
        CHECK_U256(u.balance, "0");
        CHECK_U256(u.initial_balance, "10");
    }
    for (unsigned k = 0; k < 20; k++) {
        CHECK(one_entry(&u, r, 100 + k));
        CHECK_U256(u.balance, "18");
    }
    for (unsigned k = 0; k < 100; k++) {
        CHECK(one_entry(&u, r, 200 + k));
        CHECK_U256(u.balance, "10");
    }
    CHECK_OK(opg_registry_check(r));
    CHECK(roundtrip_ok(r));
    opg_registry_free(r);
}

/*
 * Node 1, self 1000; D_k (k < 300) delegate 100 at height 2. In block 3 (time 3)
 * every D_k undelegates 10, then D_7 undelegates 5 and 6 more: both merge into its
 * entry {h3, 103}: initial and balance 21. At height 4 (time 4) D_7's next 3 is a
 * second entry {h4, 104}. The others' entries stay 10.
 */
static void test_undelegate_merges_in_a_crowded_block(void)
{
    opg_registry *r = small_registry();
    CHECK_OK(mk_node(r, 1, 1000, 1, 1));
    CHECK_OK(opg_registry_end_block(r, 1, 1));
    for (unsigned k = 0; k < 300; k++)
        CHECK_OK(delegate_u(r, k, 1, 100, 2, 2));
    opg_u256 got;
    for (unsigned k = 0; k < 300; k++) {
        opg_id d = dtor(k);
        CHECK_OK(undelegate_u(&got, r, &d, 1, 10, 3, 3));
    }
    opg_id d7 = dtor(7);
    CHECK_OK(undelegate_u(&got, r, &d7, 1, 5, 3, 3));
    CHECK_OK(undelegate_u(&got, r, &d7, 1, 6, 3, 3));
    opg_unbonding_info u[4];
    size_t n = 0;
    CHECK_OK(opg_registry_unbondings_of(u, 4, &n, r, &d7));
    CHECK(n == 1 && u[0].creation_height == 3 && u[0].completion_time == 103);
    CHECK_U256(u[0].balance, "21");
    CHECK_U256(u[0].initial_balance, "21");
    CHECK(r->unbondings.len == 300);
    CHECK_OK(undelegate_u(&got, r, &d7, 1, 3, 4, 4));
    CHECK_OK(opg_registry_unbondings_of(u, 4, &n, r, &d7));
    CHECK(n == 2 && u[1].creation_height == 4 && u[1].completion_time == 104);
    CHECK_U256(u[0].balance, "21");
    CHECK_U256(u[1].balance, "3");
    for (unsigned k = 0; k < 300; k++) {
        opg_unbonding_info one;
        if (k == 7)
            continue;
        CHECK(one_entry(&one, r, k));
        CHECK_U256(one.balance, "10");
    }
    CHECK_OK(opg_registry_check(r));
    opg_registry_free(r);
}

/*
 * Node 1, self 1000; D_k (k < 200) delegate 100 and undelegate 10 at height 3 (time
 * 3). D_5 also undelegates 7 at height 3, time 4: a second entry of the same creation
 * height (completing at 104). Cancelling 4 at height 3 takes from the pair's first
 * entry (lowest seq): 10 -> 6; cancelling 6 more empties and removes it; the next
 * cancel at height 3 then finds the second entry (7 -> 6).
 */
static void test_cancel_first_entry_among_many(void)
{
    opg_registry *r = small_registry();
    CHECK_OK(mk_node(r, 1, 1000, 1, 1));
    CHECK_OK(opg_registry_end_block(r, 1, 1));
    opg_u256 got;
    for (unsigned k = 0; k < 200; k++) {
        opg_id d = dtor(k);
        CHECK_OK(delegate_u(r, k, 1, 100, 2, 2));
        CHECK_OK(undelegate_u(&got, r, &d, 1, 10, 3, 3));
    }
    opg_id d5 = dtor(5), o = id_n(1);
    CHECK_OK(undelegate_u(&got, r, &d5, 1, 7, 3, 4));
    opg_u256 a = u64v(4);
    CHECK_OK(opg_registry_cancel_unbonding(r, &d5, &o, 3, &a, 5, 5));
    opg_unbonding_info u[4];
    size_t n = 0;
    CHECK_OK(opg_registry_unbondings_of(u, 4, &n, r, &d5));
    CHECK(n == 2 && u[0].completion_time == 103 && u[1].completion_time == 104);
    CHECK_U256(u[0].balance, "6");
    CHECK_U256(u[1].balance, "7");
    a = u64v(6);
    CHECK_OK(opg_registry_cancel_unbonding(r, &d5, &o, 3, &a, 5, 5));
    CHECK_OK(opg_registry_unbondings_of(u, 4, &n, r, &d5));
    CHECK(n == 1 && u[0].completion_time == 104);
    a = u64v(1);
    CHECK_OK(opg_registry_cancel_unbonding(r, &d5, &o, 3, &a, 5, 5));
    CHECK_OK(opg_registry_unbondings_of(u, 4, &n, r, &d5));
    CHECK(n == 1);
    CHECK_U256(u[0].balance, "6");
    CHECK(r->unbondings.len == 200);
    CHECK_U256(DEL(r, &d5, 1)->tokens, "94"); /* 100 - 10 - 7 + 4 + 6 + 1 */
    CHECK_OK(opg_registry_check(r));
    CHECK(roundtrip_ok(r));
    opg_registry_free(r);
}

/* ------------------------------------------------------------- property */

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)((rng_state >> 33) % n);
}

#define P_NODES 4
#define P_DTORS 12

/* unbondings_of and redelegations_of equal a scan of the queues, in queue order. */
static int queries_match_scan(const opg_registry *r)
{
    static opg_unbonding_info u[1024];
    static opg_redelegation_info e[1024];
    for (unsigned k = 0; k < P_DTORS; k++) {
        opg_id d = dtor(k);
        size_t n = 0, m = 0;
        if (opg_registry_unbondings_of(u, 1024, &n, r, &d) != OPG_OK)
            return 0;
        for (size_t i = 0; i < r->unbondings.len; i++) {
            const opgi_unbonding *q = opgi_queue_at(&r->unbondings, i);
            if (opg_id_cmp(&q->delegator, &d) != 0)
                continue;
            if (m >= n || opg_id_cmp(&u[m].operator_id, &q->node) != 0 ||
                u[m].creation_height != q->creation_height ||
                u[m].completion_time != q->completion_time ||
                opg_u256_cmp(&u[m].balance, &q->balance) != 0 ||
                opg_u256_cmp(&u[m].initial_balance, &q->initial_balance) != 0)
                return 0;
            m++;
        }
        if (m != n)
            return 0;
        /* a short buffer still counts them all */
        size_t c = 0;
        if (opg_registry_unbondings_of(u, n ? 1 : 0, &c, r, &d) != (n > 1 ? OPG_EBUFS : OPG_OK) ||
            c != n)
            return 0;
        n = m = 0;
        if (opg_registry_redelegations_of(e, 1024, &n, r, &d) != OPG_OK)
            return 0;
        for (size_t i = 0; i < r->redelegations.len; i++) {
            const opgi_redelegation *q = opgi_queue_at(&r->redelegations, i);
            if (opg_id_cmp(&q->delegator, &d) != 0)
                continue;
            if (m >= n || opg_id_cmp(&e[m].src, &q->src) != 0 ||
                opg_id_cmp(&e[m].dst, &q->dst) != 0 ||
                e[m].creation_height != q->creation_height ||
                e[m].completion_time != q->completion_time ||
                opg_u256_cmp(&e[m].initial_balance, &q->initial_balance) != 0)
                return 0;
            m++;
        }
        if (m != n)
            return 0;
    }
    return 1;
}

static void run_sequence(uint64_t seed, unsigned steps, unsigned *calls_ok)
{
    rng_state = seed;
    opg_registry *r = small_registry();
    opg_height h = 1;
    opg_time t = 1;
    for (unsigned n = 1; n <= P_NODES; n++)
        CHECK_OK(mk_node(r, n, 1000, h, t));
    CHECK_OK(opg_registry_end_block(r, h, t));
    for (unsigned s = 0; s < steps; s++) {
        unsigned k = rnd(P_DTORS), a = 1 + rnd(P_NODES), b = 1 + rnd(P_NODES);
        opg_id d = dtor(k), oa = id_n(a);
        opg_u256 amt = u64v(1 + rnd(40));
        int rc;
        switch (rnd(8)) {
        case 0:
        case 1:
            rc = opg_registry_delegate(NULL, r, &d, &oa, &amt, h, t);
            break;
        case 2:
        case 3:
            rc = opg_registry_undelegate(NULL, NULL, r, &d, &oa, &amt, h, t);
            break;
        case 4: {
            opg_id ob = id_n(b);
            rc = opg_registry_redelegate(NULL, r, &d, &oa, &ob, &amt, h, t);
            break;
        }
        case 5: {
            opg_height ch = h > 3 ? h - rnd(4) : h;
            rc = opg_registry_cancel_unbonding(r, &d, &oa, ch, &amt, h, t);
            break;
        }
        case 6: {
            opg_id o = id_n(a);
            opg_dec f = dec_of(rnd(2) ? "0.05" : "0.5");
            rc = opg_registry_slash(NULL, r, &o, h > 4 ? h - rnd(5) : h, 100 + rnd(500), &f, h, t);
            break;
        }
        default:
            rc = opg_registry_end_block(r, h, t);
            h++;
            t += 1 + rnd(30); /* entries mature now and then (unbonding time 100) */
            break;
        }
        if (rc == OPG_OK)
            (*calls_ok)++;
        CHECK_OK(opg_registry_check(r));
        CHECK(queries_match_scan(r));
        if (s % 97 == 0)
            CHECK(roundtrip_ok(r));
    }
    CHECK(roundtrip_ok(r));
    opg_registry_free(r);
}

static void test_chains_equal_scans(void)
{
    static const uint64_t seeds[] = {1, 15, 20261202, 77};
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        unsigned ok = 0;
        run_sequence(seeds[i], 5000, &ok);
        if (harness_current_failed)
            return;
        printf("  seed %" PRIu64 ": %u of 5000 calls ok\n", seeds[i], ok);
        CHECK(ok > 700);
    }
}

int main(void)
{
    RUN(test_slash_many_redelegations);
    RUN(test_undelegate_merges_in_a_crowded_block);
    RUN(test_cancel_first_entry_among_many);
    RUN(test_chains_equal_scans);
    return harness_done();
}
