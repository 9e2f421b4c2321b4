/*
 * test_registry_prop.c - long random operation sequences (fixed seeds) against the
 * registry's invariants, checked after every step:
 *
 *   - opg_registry_check: each node's delegator_shares is the sum of its delegations';
 *   - tokens are conserved to the base unit: everything delegated (self-delegations
 *     included) = bonded + unbonding (opg_registry_supply) + paid out by
 *     UNBONDING_MATURED events + burned by slashes;
 *   - a refused call leaves the state hash unchanged and no events;
 *   - every 25 steps save -> load -> save is byte-identical with the same hash;
 *   - after every step a commit's root equals the root computed from scratch; its
 *     change set, in strictly increasing key order, replayed into a store keeps the
 *     store equal to the registry's records, and every 25 steps a registry loaded
 *     from the store has the same root and state hash;
 *   - after each end_block the bonded set is exactly the first max_validators of the
 *     eligible nodes by (power desc, operator id asc), the validator-update stream
 *     tells the host each node's current power (0 when out), and no unbonding or
 *     redelegation entry that has matured is left.
 *
 * About 30 operators and 40 more delegators; the operators delegate too, so
 * self-bonds rise and fall and nodes get jailed for it.
 */
#include "record_store.h"
#include "registry_util.h"

#define N_OPS 30
#define N_DTORS 40
#define N_ACCOUNTS (N_OPS + N_DTORS)
#define STEPS 6000

typedef struct world {
    opg_registry *r;
    test_rng rng;
    opg_height height;
    opg_time now;
    opg_time block_time; /* of the last end_block */
    opg_u256 delegated, paid, slashed, host_minted, host_burned;
    uint64_t reported[N_OPS + 1]; /* power last told to the host, by node number */
    unsigned long ok_calls, refused_calls, end_blocks, slashes;
    record_store store; /* the host's copy, from change sets */
} world;

static opg_id account(unsigned i) { return i < N_OPS ? id_n(i + 1) : dtor(i - N_OPS + 1); }

static uint64_t pick(world *w, uint64_t n) { return rng_below(&w->rng, n); }

static void add_to(opg_u256 *acc, const opg_u256 *v)
{
    if (opg_u256_add(acc, acc, v) != OPG_OK)
        abort();
}

/* A random amount: mostly small, sometimes 0, sometimes large. */
static opg_u256 random_amount(world *w)
{
    switch (pick(w, 10)) {
    case 0:
        return u64v(0);
    case 1:
        return u64v(1 + pick(w, 5));
    case 2:
        return u64v(1000000 + pick(w, 100000000));
    default:
        return u64v(1 + pick(w, 200000));
    }
}

/* An amount for undelegating/redelegating from a delegation worth `tokens`. */
static opg_u256 unbond_amount(world *w, const opg_u256 *tokens)
{
    uint64_t t = tokens->limb[0];
    switch (pick(w, 6)) {
    case 0:
        return *tokens; /* the whole delegation */
    case 1:
        return u64v(t + 1 + pick(w, 3)); /* more than held */
    case 2:
        return u64v(0);
    default:
        return u64v(t ? 1 + pick(w, t) : 1);
    }
}

static opg_dec random_fraction(world *w)
{
    static const char *const fs[] = {"0", "0.01", "0.05", "0.1", "0.5", "1", "0.000000000000000001"};
    if (pick(w, 3) == 0) {
        opg_dec d;
        opg_u256 raw = u64v(pick(w, UINT64_C(1000000000000000001)));
        opg_dec_from_raw(&d, &raw);
        return d;
    }
    return dec_of(fs[pick(w, 7)]);
}

/* The events of a successful call: add up payouts and check burns. */
static void collect_events(world *w, const opg_slash_result *slash)
{
    size_t n;
    const opg_event *e = opg_registry_events(w->r, &n);
    opg_u256 burned = u64v(0);
    for (size_t i = 0; i < n; i++) {
        if (e[i].kind == OPG_EVENT_UNBONDING_MATURED)
            add_to(&w->paid, &e[i].amount);
        if (e[i].kind == OPG_EVENT_BURNED)
            add_to(&burned, &e[i].amount);
        if (e[i].kind == OPG_EVENT_VALIDATOR_UPDATE) /* operator id_n(n): last byte n */
            w->reported[e[i].node.bytes[31]] = e[i].power;
    }
    if (slash) {
        add_to(&w->slashed, &slash->burned_total);
        if (opg_u256_cmp(&burned, &slash->burned_total) != 0)
            harness_report(__FILE__, __LINE__, "BURNED event differs from the result");
    } else if (!opg_u256_is_zero(&burned)) {
        harness_report(__FILE__, __LINE__, "a burn outside a slash");
    }
}

/* ---------------------------------------------------------------- checks */

typedef struct ranked_node {
    uint64_t power;
    unsigned n;
} ranked_node;

static int cmp_ranked(const void *a, const void *b)
{
    const ranked_node *x = a, *y = b;
    if (x->power != y->power)
        return x->power > y->power ? -1 : 1;
    return x->n < y->n ? -1 : x->n > y->n;
}

static void check_after_end_block(world *w)
{
    opg_registry_params p;
    opg_registry_params_get(&p, w->r);
    ranked_node rank[N_OPS];
    size_t k = 0;
    for (unsigned i = 1; i <= N_OPS; i++) {
        opg_node_info n;
        opg_id o = id_n(i);
        if (opg_registry_node_get(&n, w->r, &o) != OPG_OK) {
            CHECK(w->reported[i] == 0);
            continue;
        }
        if ((n.roles & OPG_ROLE_CONSENSUS) && !n.jailed && n.power > 0) {
            rank[k].power = n.power;
            rank[k++].n = i;
        }
        if (n.status != OPG_NODE_BONDED)
            CHECK(w->reported[i] == 0);
        else
            CHECK(w->reported[i] == n.power);
    }
    qsort(rank, k, sizeof *rank, cmp_ranked);
    for (size_t i = 0; i < k; i++) {
        opg_node_info n = node_of(w->r, rank[i].n);
        CHECK((n.status == OPG_NODE_BONDED) == (i < p.max_validators));
    }
    /* nothing matured is left in the queues */
    for (unsigned a = 0; a < N_ACCOUNTS; a++) {
        opg_id who = account(a);
        opg_unbonding_info u[64];
        opg_redelegation_info e[64];
        size_t cu, ce;
        CHECK_OK(opg_registry_unbondings_of(u, 64, &cu, w->r, &who));
        CHECK_OK(opg_registry_redelegations_of(e, 64, &ce, w->r, &who));
        for (size_t i = 0; i < cu; i++)
            CHECK(u[i].completion_time > w->block_time);
        for (size_t i = 0; i < ce; i++)
            CHECK(e[i].completion_time > w->block_time);
    }
}

static void check_conservation(world *w)
{
    opg_supply_info s;
    opg_registry_supply(&s, w->r);
    opg_u256 held = s.bonded;
    add_to(&held, &s.unbonding);
    add_to(&held, &w->paid);
    add_to(&held, &w->slashed);
    CHECK(opg_u256_cmp(&held, &w->delegated) == 0);
    opg_u256 burned = w->slashed;
    add_to(&burned, &w->host_burned);
    CHECK(opg_u256_cmp(&s.burned, &burned) == 0);
    CHECK(opg_u256_cmp(&s.minted, &w->host_minted) == 0);
}

/* ------------------------------------------------------------ operations */

/* Runs one random operation; returns its rc. *slash_res is set for slashes. */
static int random_op(world *w, int *is_slash, opg_slash_result *res, int *is_end_block)
{
    opg_registry *r = w->r;
    unsigned node = 1 + (unsigned)pick(w, N_OPS);
    opg_id op = id_n(node);
    unsigned ai = (unsigned)pick(w, N_ACCOUNTS);
    opg_id who = account(ai);
    *is_slash = *is_end_block = 0;
    uint64_t c = pick(w, 100);
    if (c < 6) { /* create a node */
        opg_node_create nc = node_spec(node, 0);
        nc.self_delegation = random_amount(w);
        nc.min_self_delegation = u64v(1 + pick(w, 2000));
        nc.roles = pick(w, 6) ? OPG_ROLE_ALL : OPG_ROLE_INFERENCE;
        if (pick(w, 8) == 0)
            nc.commission_rate = dec_of("0.3"); /* above max: refused */
        int rc = opg_registry_node_create(r, &nc, w->height, w->now);
        if (rc == OPG_OK)
            add_to(&w->delegated, &nc.self_delegation);
        return rc;
    }
    if (c < 30) { /* delegate */
        opg_u256 a = random_amount(w);
        int rc = opg_registry_delegate(NULL, r, &who, &op, &a, w->height, w->now);
        if (rc == OPG_OK)
            add_to(&w->delegated, &a);
        return rc;
    }
    if (c < 45) { /* undelegate */
        opg_delegation_info d;
        memset(&d, 0, sizeof d);
        if (opg_registry_delegation_get(&d, r, &who, &op) != OPG_OK)
            d.tokens = u64v(1 + pick(w, 100));
        opg_u256 a = unbond_amount(w, &d.tokens);
        return opg_registry_undelegate(NULL, NULL, r, &who, &op, &a, w->height, w->now);
    }
    if (c < 57) { /* redelegate */
        opg_id dst = id_n(1 + (unsigned)pick(w, N_OPS));
        if (pick(w, 20) == 0)
            dst = op;
        opg_delegation_info d;
        memset(&d, 0, sizeof d);
        if (opg_registry_delegation_get(&d, r, &who, &op) != OPG_OK)
            d.tokens = u64v(1 + pick(w, 100));
        opg_u256 a = unbond_amount(w, &d.tokens);
        return opg_registry_redelegate(NULL, r, &who, &op, &dst, &a, w->height, w->now);
    }
    if (c < 63) { /* cancel unbonding */
        opg_unbonding_info u[64];
        size_t cnt = 0;
        opg_registry_unbondings_of(u, 64, &cnt, r, &who);
        opg_height ch = w->height;
        opg_u256 a = u64v(1);
        if (cnt) {
            size_t i = (size_t)pick(w, cnt);
            op = u[i].operator_id;
            ch = u[i].creation_height;
            a = unbond_amount(w, &u[i].balance);
        }
        return opg_registry_cancel_unbonding(r, &who, &op, ch, &a, w->height, w->now);
    }
    if (c < 70) { /* slash */
        opg_node_info n;
        uint64_t power = 1 + pick(w, 1000);
        if (opg_registry_node_get(&n, r, &op) == OPG_OK && pick(w, 2))
            power = n.power;
        opg_height back = pick(w, 40);
        opg_height inf = back > w->height ? 0 : w->height - back;
        if (pick(w, 30) == 0)
            inf = w->height + 1; /* the future: refused */
        opg_dec f = random_fraction(w);
        *is_slash = 1;
        return opg_registry_slash(res, r, &op, inf, power, &f, w->height, w->now);
    }
    if (c < 85) { /* close the block: the next one starts 1..60 s later */
        *is_end_block = 1;
        w->block_time = w->now;
        int rc = opg_registry_end_block(r, w->height, w->now);
        w->height++;
        w->now += 1 + (opg_time)pick(w, 60);
        return rc;
    }
    switch (pick(w, 9)) {
    case 0:
        return opg_registry_jail(r, &op, w->now + (opg_time)pick(w, 200));
    case 1:
    case 2:
        return opg_registry_unjail(r, &op, w->now);
    case 3:
        return pick(w, 10) ? opg_registry_jail(r, &op, 0) : opg_registry_tombstone(r, &op);
    case 4: {
        opg_dec rate = random_fraction(w);
        return opg_registry_node_set_commission(r, &op, &rate, w->now);
    }
    case 5: {
        opg_u256 m = u64v(1 + pick(w, 5000));
        return opg_registry_node_set_min_self_delegation(r, &op, &m);
    }
    case 6:
        return opg_registry_node_set_roles(r, &op, (uint32_t)pick(w, 9));
    case 7: {
        static const char *const keys[] = {"staking.unbonding_time", "staking.max_validators",
                                           "staking.max_entries",
                                           "staking.fix_redelegation_overslash"};
        static const char *const vals[][3] = {{"0", "150", "x"},
                                             {"5", "12", "0"},
                                             {"2", "4", "65"},
                                             {"true", "false", "1"}};
        size_t k = (size_t)pick(w, 4);
        return opg_registry_param_set(r, keys[k], vals[k][pick(w, 3)]);
    }
    default: {
        opg_u256 a = u64v(pick(w, 1000));
        int mint = (int)pick(w, 2);
        int rc = mint ? opg_registry_supply_mint(r, &a) : opg_registry_supply_burn(r, &a);
        if (rc == OPG_OK)
            add_to(mint ? &w->host_minted : &w->host_burned, &a);
        return rc;
    }
    }
}

/* The commit against a from-scratch root, the change set against the store, and now
 * and then a registry rebuilt from the store. */
static void check_commit(world *w, int reload)
{
    uint8_t want[32], root[32], again[32];
    CHECK_OK(opg_registry_root_from_scratch(want, w->r));
    const opg_record *changes;
    size_t n;
    CHECK_OK(opg_registry_commit(root, &changes, &n, w->r));
    CHECK(memcmp(root, want, 32) == 0);
    opg_registry_root(again, w->r);
    CHECK(memcmp(again, root, 32) == 0);
    CHECK(store_apply(&w->store, changes, n) == 0);
    if (!reload)
        return;
    record_store exported;
    memset(&exported, 0, sizeof exported);
    CHECK_OK(opg_registry_records(w->r, store_sink, &exported));
    int same = exported.n == w->store.n;
    for (size_t i = 0; same && i < exported.n; i++)
        same = exported.items[i].key_len == w->store.items[i].key_len &&
               exported.items[i].value_len == w->store.items[i].value_len &&
               memcmp(exported.items[i].key, w->store.items[i].key, exported.items[i].key_len) == 0 &&
               memcmp(exported.items[i].value, w->store.items[i].value,
                      exported.items[i].value_len) == 0;
    store_free(&exported);
    CHECK(same);
    opg_registry *copy;
    store_rewind(&w->store);
    CHECK_OK(opg_registry_load_records(&copy, store_next, &w->store, root, NULL));
    uint8_t h0[32], h1[32], r1[32];
    hash_of(h0, w->r);
    hash_of(h1, copy);
    opg_registry_root(r1, copy);
    opg_registry_free(copy);
    CHECK(memcmp(h0, h1, 32) == 0);
    CHECK(memcmp(r1, root, 32) == 0);
}

/* One random call and every check after it. */
static void one_step(world *w, unsigned long step)
{
    uint8_t h0[32], h1[32];
    hash_of(h0, w->r);
    int is_slash, is_end_block;
    opg_slash_result res;
    memset(&res, 0, sizeof res);
    int rc = random_op(w, &is_slash, &res, &is_end_block);
    if (rc == OPG_OK) {
        w->ok_calls++;
        collect_events(w, is_slash ? &res : NULL);
        w->slashes += (unsigned long)is_slash;
        if (is_end_block) {
            w->end_blocks++;
            check_after_end_block(w);
        }
    } else {
        w->refused_calls++;
        CHECK(rc != OPG_EINVARIANT && rc != OPG_ENOMEM);
        hash_of(h1, w->r);
        CHECK(memcmp(h0, h1, 32) == 0);
        CHECK(n_events(w->r) == 0);
    }
    CHECK_OK(opg_registry_check(w->r));
    check_conservation(w);
    if (step % 25 == 0)
        CHECK(roundtrip_ok(w->r));
    check_commit(w, step % 25 == 0);
}

static void run(uint64_t seed, int fix)
{
    world w;
    memset(&w, 0, sizeof w);
    w.rng.s = seed;
    w.height = 1;
    w.now = 1000000;
    opg_registry_params p;
    opg_registry_params_init(&p);
    p.unbonding_time = 150;
    p.max_validators = 12;
    p.max_entries = 4;
    p.power_reduction = u64v(1000);
    p.fix_redelegation_overslash = fix;
    opg_u256 genesis = u256_of("1000000000000000000000000");
    CHECK_OK(opg_registry_new(&w.r, &p, &genesis, NULL));

    for (unsigned long step = 0; step < STEPS && !harness_current_failed; step++) {
        one_step(&w, step);
        if (harness_current_failed)
            printf("  at step %lu (seed %" PRIu64 ")\n", step, seed);
    }
    printf("  seed %" PRIu64 ": %lu calls ok, %lu refused, %lu blocks, %lu slashes, %zu nodes, "
           "%zu delegations\n",
           seed, w.ok_calls, w.refused_calls, w.end_blocks, w.slashes,
           opg_registry_node_count(w.r), opg_registry_delegation_count(w.r));
    opg_registry_free(w.r);
    store_free(&w.store);
}

static void test_random_sequences(void) { run(20240601, 0); }
static void test_random_sequences_fixed_overslash(void) { run(77, 1); }

int main(void)
{
    RUN(test_random_sequences);
    RUN(test_random_sequences_fixed_overslash);
    return harness_done();
}
