/*
 * test_hyper_atomic.c - hyperstaking calls are all-or-nothing: an allocation failure
 * anywhere in an epoch (many positions over many nodes, compounding, rebalancing, a
 * node removed by the last position leaving it, transitive refusals), a deposit or a
 * withdrawal is OPG_ENOMEM with every state hash as it was, and the same call again
 * gives exactly what a run that never failed gives: the same hashes, moves, hyper
 * events and registry events. And the registry's event list of a hyper call holds the
 * events of every call it made, in order.
 */
#include "harness.h"
#include "failalloc.h"

/* The same engines as on a chain: registry, splitter, slasher, hyper. */
typedef struct world {
    opg_registry *r;
    opg_splitter *s;
    opg_slasher *sl;
    opg_hyper *h;
} world;

#define N_NODES 8       /* node 8 (X) leaves the active set and is removed in the epoch */
#define N_POS 30
#define N_STAKERS 10    /* ordinary delegators beside the positions */
#define POS_ID(i) id_n(500 + (unsigned)(i))
#define EPOCH_H 6
#define EPOCH_T 1150

static void world_free(world *w)
{
    opg_hyper_free(w->h);
    opg_slasher_free(w->sl);
    opg_splitter_free(w->s);
    opg_registry_free(w->r);
    memset(w, 0, sizeof *w);
}

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
    if ((rc = opg_splitter_new(&w->s, w->r, &sp, a)) != OPG_OK ||
        (rc = opg_slasher_new(&w->sl, w->r, NULL, a)) != OPG_OK ||
        (rc = opg_hyper_new(&w->h, w->r, w->s, NULL, a)) != OPG_OK)
        world_free(w);
    return rc;
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

static void scores_for(opg_hyper_score sc[N_NODES], unsigned round)
{
    for (unsigned i = 0; i < N_NODES; i++) {
        memset(&sc[i], 0, sizeof sc[i]);
        sc[i].node = id_n(1 + i);
        opg_dec_from_u64(&sc[i].score, 0);
        sc[i].score.limb[0] = 400000000000000000ull + 75000000000000000ull * ((i * 3 + round * 5) % 9);
    }
}

static opg_hyper_policy policy_of(unsigned i, opg_hyper_weight *wts, const char *threshold)
{
    static const char *caps[] = {"1", "0.5", "0.3", "0.4"};
    opg_hyper_policy p;
    memset(&p, 0, sizeof p);
    p.cap = dec_of(caps[i % 4]);
    p.rebalance_threshold = dec_of(threshold);
    if (i >= N_POS - 2) { /* the two positions on node X: FIXED, X first */
        size_t n = i == N_POS - 2 ? 3 : 2;
        static const unsigned with_x[2][3] = {{8, 1, 2}, {8, 3, 0}};
        for (size_t k = 0; k < n; k++) {
            wts[k].node = id_n(with_x[i - (N_POS - 2)][k]);
            opg_dec_from_u64(&wts[k].weight, 1 + k);
        }
        p.kind = OPG_HYPER_FIXED;
        p.weights = wts;
        p.n_weights = n;
        p.max_nodes = (uint32_t)n;
        p.cap = dec_of("1");
        p.auto_compound = 1;
        return p;
    }
    switch (i % 3) {
    case 0: {
        size_t n = 2 + i % 4;
        for (size_t k = 0; k < n; k++) {
            wts[k].node = id_n(1 + (unsigned)((i + k) % 7));
            opg_dec_from_u64(&wts[k].weight, 1 + (i * k) % 5);
        }
        p.kind = OPG_HYPER_FIXED;
        p.weights = wts;
        p.n_weights = n;
        p.max_nodes = (uint32_t)n;
        p.auto_compound = i % 5 != 0;
        break;
    }
    case 1:
        p.kind = OPG_HYPER_PERFORMANCE;
        p.max_commission = dec_of("0.3"); /* every node but X */
        p.max_nodes = 2 + i % 5;
        p.auto_compound = 1;
        break;
    default:
        p.kind = OPG_HYPER_PERFORMANCE;
        p.max_commission = dec_of("0.2");
        p.max_nodes = 3;
        p.auto_compound = i % 2;
        break;
    }
    return p;
}

static int allocate_fees(world *w, uint64_t base)
{
    for (unsigned i = 1; i <= N_NODES; i++) {
        opg_id op = id_n(i);
        opg_u256 fees = u64v(base + 211 * i);
        int rc = opg_splitter_allocate_to_node(w->s, &op, &fees);
        if (rc)
            return rc;
    }
    return OPG_OK;
}

/*
 * The world before the tested epoch:
 *   height 1: 8 nodes and 10 ordinary delegators; 30 positions (FIXED and PERFORMANCE,
 *             most auto-compounding), two of them FIXED on node X with threshold 1 (they
 *             never rebalance while that holds);
 *   height 2: deposits, fees;
 *   height 3: X's operator takes its whole self-bond out: X is jailed and unbonds;
 *   height 4: X is unbonded, only positions hold its shares;
 *   height 5: a first epoch with scores (redelegation entries now maturing), fees again,
 *             node 2 jailed, new policies for some positions (the two on X included,
 *             which now leave it: the second takes its last shares and X is removed).
 */
static int build_world(world *w, const opg_allocator *a)
{
    int rc = world_new(w, a);
    if (rc)
        return rc;
    static const char *rates[N_NODES] = {"0", "0.05", "0.1", "0.15", "0.2", "0.25", "0.3", "0.5"};
    for (unsigned i = 1; i <= N_NODES; i++)
        if ((rc = add_node(w, i, rates[i - 1], 5000 + 700 * i)) != OPG_OK)
            return rc;
    for (unsigned i = 0; i < N_STAKERS; i++) {
        opg_id who = id_n(700 + i), node = id_n(1 + i % 7);
        opg_u256 amt = u64v(1000 + 37 * i);
        if ((rc = opg_registry_delegate(NULL, w->r, &who, &node, &amt, 1, 10)) != OPG_OK)
            return rc;
    }
    if ((rc = opg_registry_end_block(w->r, 1, 10)) != OPG_OK)
        return rc;
    for (unsigned i = 0; i < N_POS; i++) {
        opg_hyper_weight wts[8];
        opg_hyper_policy p = policy_of(i, wts, i >= N_POS - 2 ? "1" : (i % 2 ? "0.01" : "0"));
        opg_id id = POS_ID(i), owner = id_n(600 + i % 4);
        if ((rc = opg_hyper_position_create(w->h, &id, &owner, &p, 1)) != OPG_OK)
            return rc;
    }
    for (unsigned i = 0; i < N_POS; i++) {
        opg_id id = POS_ID(i);
        opg_u256 amt = u64v(10000 + 1733 * i);
        if ((rc = opg_hyper_deposit(w->h, &id, &amt, 2, 20)) != OPG_OK)
            return rc;
    }
    if ((rc = allocate_fees(w, 3000)) != OPG_OK)
        return rc;
    opg_id x = id_n(N_NODES);
    opg_delegation_info di;
    if ((rc = opg_registry_delegation_get(&di, w->r, &x, &x)) != OPG_OK ||
        (rc = opg_registry_undelegate(NULL, NULL, w->r, &x, &x, &di.tokens, 3, 25)) != OPG_OK ||
        (rc = opg_registry_end_block(w->r, 3, 25)) != OPG_OK ||
        (rc = opg_registry_end_block(w->r, 4, 1100)) != OPG_OK)
        return rc;
    opg_hyper_score sc[N_NODES];
    scores_for(sc, 0);
    if ((rc = opg_hyper_epoch(NULL, w->h, sc, N_NODES, 5, 1100)) != OPG_OK)
        return rc;
    if ((rc = allocate_fees(w, 4000)) != OPG_OK)
        return rc;
    opg_id n2 = id_n(2);
    if ((rc = opg_registry_jail(w->r, &n2, 5000)) != OPG_OK)
        return rc;
    for (unsigned i = 0; i < N_POS; i++) {
        if (i % 4 != 3 && i < N_POS - 2)
            continue;
        opg_hyper_weight wts[8];
        opg_hyper_policy p = policy_of(i < N_POS - 2 ? i + 1 : i, wts, "0.01");
        opg_id id = POS_ID(i);
        if ((rc = opg_hyper_position_set_policy(w->h, &id, &p)) != OPG_OK)
            return rc;
    }
    return OPG_OK;
}

/* ----------------------------------------------------------- recording */

typedef struct hashes {
    uint8_t r[32], s[32], h[32];
} hashes;

/* Hashes all three without letting the hashing use up a failure point. */
static void take_hashes(hashes *x, const world *w, failalloc *fa)
{
    unsigned long fail_at = fa ? fa->fail_at : 0, calls = fa ? fa->calls : 0;
    if (fa)
        fa->fail_at = 0;
    opg_registry_state_hash(x->r, w->r);
    opg_splitter_state_hash(x->s, w->s);
    opg_hyper_state_hash(x->h, w->h);
    if (fa) {
        fa->fail_at = fail_at;
        fa->calls = calls;
    }
}

static int same_hashes(const hashes *a, const hashes *b)
{
    return memcmp(a->r, b->r, 32) == 0 && memcmp(a->s, b->s, 32) == 0 && memcmp(a->h, b->h, 32) == 0;
}

/* Everything a call's result consists of. */
typedef struct outcome {
    hashes hs;
    opg_hyper_move *moves;
    size_t n_moves;
    opg_event *hev, *rev; /* hyper's events, the registry's events */
    size_t n_hev, n_rev;
} outcome;

static void *dup(const void *p, size_t n, size_t size)
{
    void *q = malloc(n ? n * size : 1);
    if (n)
        memcpy(q, p, n * size);
    return q;
}

static void outcome_take(outcome *o, const world *w, failalloc *fa)
{
    take_hashes(&o->hs, w, fa);
    const opg_hyper_move *m = opg_hyper_moves(w->h, &o->n_moves);
    o->moves = dup(m, o->n_moves, sizeof *m);
    const opg_event *e = opg_hyper_events(w->h, &o->n_hev);
    o->hev = dup(e, o->n_hev, sizeof *e);
    e = opg_registry_events(w->r, &o->n_rev);
    o->rev = dup(e, o->n_rev, sizeof *e);
}

static void outcome_free(outcome *o)
{
    free(o->moves);
    free(o->hev);
    free(o->rev);
    memset(o, 0, sizeof *o);
}

static int same_outcome(const outcome *a, const outcome *b)
{
    return same_hashes(&a->hs, &b->hs) && a->n_moves == b->n_moves &&
           memcmp(a->moves, b->moves, a->n_moves * sizeof *a->moves) == 0 && a->n_hev == b->n_hev &&
           memcmp(a->hev, b->hev, a->n_hev * sizeof *a->hev) == 0 && a->n_rev == b->n_rev &&
           memcmp(a->rev, b->rev, a->n_rev * sizeof *a->rev) == 0;
}

/* ------------------------------------------------------------ scenarios */

/* A world and the call tried on it. */
typedef struct scenario {
    const char *name;
    int (*build)(world *w, const opg_allocator *a);
    int (*run)(world *w, size_t *done);
} scenario;

static int run_epoch(world *w, size_t *done)
{
    opg_hyper_score sc[N_NODES];
    scores_for(sc, 1);
    return opg_hyper_epoch(done, w->h, sc, N_NODES, EPOCH_H, EPOCH_T);
}

/* position 4: PERFORMANCE over several nodes, rewards pending on each */
static int run_deposit(world *w, size_t *done)
{
    opg_id pos = POS_ID(4);
    opg_u256 amt = u64v(98765);
    *done = 0;
    return opg_hyper_deposit(w->h, &pos, &amt, EPOCH_H, EPOCH_T);
}

static int run_withdraw(world *w, size_t *done)
{
    opg_id pos = POS_ID(4);
    opg_u256 amt = u64v(4321);
    *done = 0;
    return opg_hyper_withdraw(NULL, w->h, &pos, &amt, EPOCH_H, EPOCH_T);
}

/*
 * A registry whose delegation array is exactly full (64 records, the first capacity)
 * but for one free slot, and a position about to make three new delegations: the
 * reservation must make room for three, not count on the free slot for all of them.
 */
static int build_full(world *w, const opg_allocator *a)
{
    int rc = world_new(w, a);
    if (rc)
        return rc;
    for (unsigned i = 1; i <= 3; i++)
        if ((rc = add_node(w, i, "0.1", 5000 * i)) != OPG_OK)
            return rc;
    for (unsigned i = 0; i < 61; i++) {
        opg_id who = id_n(700 + i), node = id_n(1 + i % 3);
        opg_u256 amt = u64v(100 + i);
        if ((rc = opg_registry_delegate(NULL, w->r, &who, &node, &amt, 1, 10)) != OPG_OK)
            return rc;
    }
    if (opg_registry_delegation_count(w->r) != 64)
        return OPG_EINVARIANT;
    opg_id who = id_n(700), node = id_n(1);
    opg_u256 amt = u64v(100);
    if ((rc = opg_registry_undelegate(NULL, NULL, w->r, &who, &node, &amt, 1, 10)) != OPG_OK ||
        (rc = opg_registry_end_block(w->r, 1, 10)) != OPG_OK)
        return rc;
    opg_hyper_policy p;
    memset(&p, 0, sizeof p);
    p.kind = OPG_HYPER_PERFORMANCE;
    p.max_commission = dec_of("1");
    p.cap = dec_of("1");
    p.max_nodes = 3;
    opg_id pos = POS_ID(0), owner = id_n(600);
    return opg_hyper_position_create(w->h, &pos, &owner, &p, 1);
}

static int run_full(world *w, size_t *done)
{
    opg_id pos = POS_ID(0);
    opg_u256 amt = u64v(30000);
    *done = 0;
    return opg_hyper_deposit(w->h, &pos, &amt, 2, 20);
}

static const scenario EPOCH = {"epoch", build_world, run_epoch};
static const scenario DEPOSIT = {"deposit", build_world, run_deposit};
static const scenario WITHDRAW = {"withdraw", build_world, run_withdraw};
static const scenario FULL = {"deposit into a full delegation array", build_full, run_full};

static int count_moves(const outcome *o, opg_hyper_move_kind kind)
{
    int n = 0;
    for (size_t i = 0; i < o->n_moves; i++)
        n += o->moves[i].kind == kind;
    return n;
}

static int count_events(const opg_event *ev, size_t n, opg_event_kind kind)
{
    int k = 0;
    for (size_t i = 0; i < n; i++)
        k += ev[i].kind == kind;
    return k;
}

/*
 * For n = 1, 2, ...: the n-th allocation inside the call fails. It must return
 * OPG_ENOMEM with no moves and every hash unchanged, leak nothing, and the same call
 * again must give the reference outcome. Stops at the first n the call no longer
 * reaches. Returns the number of failure points tried (0 if a check failed).
 */
static unsigned long failure_points(const scenario *sc, const outcome *ref)
{
    unsigned long n;
    for (n = 1;; n++) {
        failalloc fa;
        failalloc_init(&fa, 0);
        opg_allocator a = failalloc_allocator(&fa);
        world w;
        if (sc->build(&w, &a) != OPG_OK)
            return 0;
        hashes before, after;
        take_hashes(&before, &w, &fa);
        fa.fail_at = fa.calls + n;
        size_t done;
        int rc = sc->run(&w, &done);
        unsigned long failures = fa.failures;
        fa.fail_at = 0;
        int ok = 1;
        if (failures) {
            size_t nm;
            opg_hyper_moves(w.h, &nm);
            take_hashes(&after, &w, &fa);
            if (rc != OPG_ENOMEM || done != 0 || nm != 0 || !same_hashes(&before, &after)) {
                printf("  %s, failure point %lu: %s, done %zu, %zu moves, hashes %s\n", sc->name, n,
                       opg_errname(rc), done, nm, same_hashes(&before, &after) ? "same" : "changed");
                ok = 0;
            }
            rc = sc->run(&w, &done); /* the retry, with memory */
        }
        outcome o;
        outcome_take(&o, &w, &fa);
        if (rc != OPG_OK || !same_outcome(&o, ref)) {
            printf("  %s, failure point %lu: the retry differs from the reference (%s)\n", sc->name, n,
                   opg_errname(rc));
            ok = 0;
        }
        if (opg_registry_check(w.r) != OPG_OK || opg_splitter_check(w.s) != OPG_OK)
            ok = 0;
        outcome_free(&o);
        world_free(&w);
        if (fa.live_bytes != 0 || fa.live_blocks != 0) {
            printf("  %s, failure point %lu: %lld bytes leaked\n", sc->name, n, fa.live_bytes);
            ok = 0;
        }
        if (!ok)
            return 0;
        if (failures == 0)
            break;
    }
    return n - 1;
}

static int reference(outcome *ref, const scenario *sc)
{
    world w;
    int rc = sc->build(&w, NULL);
    if (rc != OPG_OK)
        return rc;
    size_t done;
    rc = sc->run(&w, &done);
    if (rc == OPG_OK)
        outcome_take(ref, &w, NULL);
    world_free(&w);
    return rc;
}

static void test_epoch_allocation_failures(void)
{
    outcome ref;
    CHECK_OK(reference(&ref, &EPOCH));
    int compounds = count_moves(&ref, OPG_HYPER_COMPOUND), redelegations = count_moves(&ref, OPG_HYPER_REDELEGATE),
        skipped = count_moves(&ref, OPG_HYPER_SKIPPED), payouts = count_moves(&ref, OPG_HYPER_PAYOUT);
    int removed = count_events(ref.rev, ref.n_rev, OPG_EVENT_NODE_REMOVED);
    printf("  reference epoch: %d positions over %d nodes, %zu moves (%d compound, %d redelegate, %d payout, "
           "%d skipped), %zu registry events, %zu passed through\n",
           N_POS, N_NODES, ref.n_moves, compounds, redelegations, payouts, skipped, ref.n_rev, ref.n_hev);
    unsigned long points = failure_points(&EPOCH, &ref);
    printf("  epoch: %lu allocation failure points tried\n", points);
    outcome_free(&ref);
    CHECK(compounds > 0 && redelegations > 0 && payouts > 0 && skipped > 0 && removed == 1);
    CHECK(points > 10);
}

static void test_deposit_withdraw_allocation_failures(void)
{
    const scenario *all[3] = {&DEPOSIT, &WITHDRAW, &FULL};
    for (int i = 0; i < 3; i++) {
        outcome ref;
        CHECK_OK(reference(&ref, all[i]));
        int parts = count_moves(&ref, all[i] == &WITHDRAW ? OPG_HYPER_UNDELEGATE : OPG_HYPER_DELEGATE);
        int payouts = count_moves(&ref, OPG_HYPER_PAYOUT);
        unsigned long points = failure_points(all[i], &ref);
        printf("  %s: %d parts, %d payout, %lu allocation failure points tried\n", all[i]->name, parts, payouts,
               points);
        outcome_free(&ref);
        CHECK(all[i] == &FULL ? parts == 3 && payouts == 0 : parts > 1 && payouts == 1);
        CHECK(points > 5);
    }
}

/* -------------------------------------------------------- event ordering */

static int is_position(const world *w, const opg_id *id)
{
    opg_hyper_position_info pi;
    return opg_hyper_position_get(&pi, w->h, id) == OPG_OK;
}

/*
 * After an epoch the registry's list holds every event of every call hyper made, in
 * order: without the positions' own REWARDS_PAID it is exactly hyper's list; those
 * rewards are exactly one event per position delegation with whole rewards pending
 * before the epoch, in position and operator id order, of that amount, and they add
 * up to the PAYOUT and COMPOUND moves; every reward and commission the splitter paid
 * in the epoch is in the list.
 */
static void test_registry_events_of_an_epoch(void)
{
    world w;
    CHECK_OK(build_world(&w, NULL));
    /* what the withdrawals of step 1 will pay, predicted from the splitter */
    opg_event *want = malloc(N_POS * N_NODES * sizeof *want);
    size_t n_want = 0;
    for (unsigned i = 0; i < N_POS; i++) {
        opg_id id = POS_ID(i);
        opg_delegation_info di[N_NODES];
        size_t cnt;
        CHECK_OK(opg_registry_delegations_of(di, N_NODES, &cnt, w.r, &id));
        for (size_t k = 1; k < cnt; k++)
            CHECK(opg_id_cmp(&di[k - 1].operator_id, &di[k].operator_id) < 0);
        for (size_t k = 0; k < cnt; k++) {
            opg_dec pending;
            opg_u256 whole;
            CHECK_OK(opg_splitter_pending_rewards(&pending, w.s, &id, &di[k].operator_id, EPOCH_H));
            opg_dec_truncate_int(&whole, &pending);
            if (opg_u256_is_zero(&whole))
                continue;
            memset(&want[n_want], 0, sizeof want[n_want]);
            want[n_want].account = id;
            want[n_want].node = di[k].operator_id;
            want[n_want++].amount = whole;
        }
    }
    opg_splitter_totals t0, t1;
    opg_splitter_totals_get(&t0, w.s);
    size_t done;
    CHECK_OK(run_epoch(&w, &done));
    CHECK(done == N_POS);
    opg_splitter_totals_get(&t1, w.s);
    size_t n_rev, n_hev, n_moves;
    const opg_event *rev = opg_registry_events(w.r, &n_rev), *hev = opg_hyper_events(w.h, &n_hev);
    const opg_hyper_move *m = opg_hyper_moves(w.h, &n_moves);

    size_t k = 0, got = 0;
    opg_u256 own = u64v(0), all_rewards = u64v(0), commission = u64v(0), moved = u64v(0);
    for (size_t i = 0; i < n_rev; i++) {
        if (rev[i].kind == OPG_EVENT_REWARDS_PAID)
            opg_u256_add(&all_rewards, &all_rewards, &rev[i].amount);
        if (rev[i].kind == OPG_EVENT_COMMISSION_PAID)
            opg_u256_add(&commission, &commission, &rev[i].amount);
        if (rev[i].kind == OPG_EVENT_REWARDS_PAID && is_position(&w, &rev[i].account)) {
            CHECK(got < n_want);
            CHECK(opg_id_cmp(&rev[i].account, &want[got].account) == 0 &&
                  opg_id_cmp(&rev[i].node, &want[got].node) == 0 &&
                  opg_u256_cmp(&rev[i].amount, &want[got].amount) == 0);
            got++;
            opg_u256_add(&own, &own, &rev[i].amount);
            continue;
        }
        /* anything else is passed through, in the same order */
        CHECK(k < n_hev && memcmp(&rev[i], &hev[k], sizeof *hev) == 0);
        k++;
    }
    CHECK(got == n_want && k == n_hev);
    for (size_t i = 0; i < n_moves; i++)
        if (m[i].kind == OPG_HYPER_PAYOUT || m[i].kind == OPG_HYPER_COMPOUND)
            opg_u256_add(&moved, &moved, &m[i].amount);
    CHECK(opg_u256_cmp(&own, &moved) == 0);
    /* the splitter's totals grew by exactly what the events report */
    opg_dec d_rewards, d_commission, e;
    CHECK_OK(opg_dec_sub(&d_rewards, &t1.paid_delegators, &t0.paid_delegators));
    CHECK_OK(opg_dec_sub(&d_commission, &t1.paid_commission, &t0.paid_commission));
    CHECK_OK(opg_dec_from_int(&e, &all_rewards));
    CHECK(opg_dec_cmp(&e, &d_rewards) == 0);
    CHECK_OK(opg_dec_from_int(&e, &commission));
    CHECK(opg_dec_cmp(&e, &d_commission) == 0);
    /* node X was removed by the epoch, with its commission paid */
    CHECK(count_events(rev, n_rev, OPG_EVENT_NODE_REMOVED) == 1 && !opg_u256_is_zero(&commission));
    printf("  %zu registry events: %zu position rewards (hyper's moves), %zu passed through\n", n_rev, got, k);
    free(want);
    world_free(&w);
}

int main(void)
{
    RUN(test_epoch_allocation_failures);
    RUN(test_deposit_withdraw_allocation_failures);
    RUN(test_registry_events_of_an_epoch);
    return harness_done();
}
