/*
 * bench_complexity.c - does a call cost what it touches, or what others did?
 *
 * Each case times one call in a world built with n, then 2n, of some quantity and
 * prints the ratio t(2n) / t(n):
 *
 *   result complexity.<case>.growth <ratio> x
 *
 * For a quantity the call must not depend on (others' entries) the ratio should stay
 * near 1; for one it must do (its own entries) near 2 (linear).
 *
 *   slash_own_redelegations   a double-sign slash of a node with n redelegations out
 *                             of it, each delegator also unbonding at the destination
 *                             (its own work: linear)
 *   slash_others_unbondings   a slash of a node with 10 entries while n unbonding
 *                             entries of other nodes wait (must not matter)
 *   undelegate_same_block     one undelegation after n others in the same block (must
 *                             not matter)
 *   cancel_unbonding          cancelling one entry with n others queued (must not matter)
 *   end_block_matured         an end_block maturing n entries (its own work: linear)
 *   slash_others_redelegations  a slash of a node with 10 redelegations out of it while
 *                             n redelegations out of another node wait (must not matter)
 *   unbondings_of_others      one delegator's entries queried with n others' entries
 *                             queued (must not matter)
 *   redelegations_of_others   the same for redelegation entries (must not matter)
 *   end_block_quiet           an end_block maturing nothing with n entries queued and a
 *                             power-history of n records (must not matter)
 *
 * Each time is the median of ROUNDS worlds, those at n and at 2n built in turn.
 * Power reduction 1, so amounts are plain.
 */
#include "bench.h"

#include "opg.h"

#define ROUNDS 5
#ifndef N_BASE
#define N_BASE 8000
#endif

static opg_id id_of(uint64_t tag, uint64_t i)
{
    opg_id id;
    memset(&id, 0, sizeof id);
    for (int b = 0; b < 8; b++) {
        id.bytes[b] = (uint8_t)(tag >> (8 * b));
        id.bytes[24 + b] = (uint8_t)(i >> (8 * b));
    }
    id.bytes[12] = (uint8_t)(i * 37);
    return id;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_complexity: %s: %s\n", what, opg_errname(rc));
    exit(1);
}

static void ok(int rc, const char *what)
{
    if (rc)
        die(what, rc);
}

static void node(opg_registry *r, uint64_t i)
{
    opg_node_create c;
    memset(&c, 0, sizeof c);
    c.operator_id = id_of(1, i);
    c.consensus_key = bench_cons_key(i);
    c.roles = OPG_ROLE_ALL;
    opg_dec_from_string(&c.commission_max_rate, "0.2");
    opg_dec_from_string(&c.commission_max_change_rate, "0.01");
    opg_u256_from_u64(&c.min_self_delegation, 1);
    opg_u256_from_u64(&c.self_delegation, 1000000);
    ok(opg_registry_node_create(r, &c, 1, 1), "node_create");
}

/* A registry (power reduction 1, unbonding time 10^6 s) with bonded nodes 0..k-1. */
static opg_registry *registry(uint64_t k)
{
    opg_registry_params p;
    opg_registry_params_init(&p);
    opg_u256_from_u64(&p.power_reduction, 1);
    p.unbonding_time = 1000000;
    opg_registry *r;
    ok(opg_registry_new(&r, &p, NULL, NULL), "new");
    for (uint64_t i = 0; i < k; i++)
        node(r, i);
    ok(opg_registry_end_block(r, 1, 1), "end_block");
    return r;
}

static void delegate(opg_registry *r, uint64_t who, uint64_t to, uint64_t amount, opg_height h)
{
    opg_id d = id_of(3, who), n = id_of(1, to);
    opg_u256 a;
    opg_u256_from_u64(&a, amount);
    ok(opg_registry_delegate(NULL, r, &d, &n, &a, h, (opg_time)h), "delegate");
}

static void undelegate(opg_registry *r, uint64_t who, uint64_t from, uint64_t amount,
                       opg_height h)
{
    opg_id d = id_of(3, who), n = id_of(1, from);
    opg_u256 a;
    opg_u256_from_u64(&a, amount);
    ok(opg_registry_undelegate(NULL, NULL, r, &d, &n, &a, h, (opg_time)h), "undelegate");
}

static void redelegate(opg_registry *r, uint64_t who, uint64_t from, uint64_t to,
                       uint64_t amount, opg_height h)
{
    opg_id d = id_of(3, who), s = id_of(1, from), t = id_of(1, to);
    opg_u256 a;
    opg_u256_from_u64(&a, amount);
    ok(opg_registry_redelegate(NULL, r, &d, &s, &t, &a, h, (opg_time)h), "redelegate");
}

static void slash(opg_registry *r, uint64_t which, opg_height h)
{
    opg_id n = id_of(1, which);
    opg_dec f;
    opg_dec_from_string(&f, "0.05");
    ok(opg_registry_slash(NULL, r, &n, h - 1, 1000, &f, h, (opg_time)h), "slash");
}

/* Times the slash of node 0 at height 4, then frees the registry. */
static double timed_slash(opg_registry *r)
{
    bench_timer t;
    bench_timer_start(&t);
    slash(r, 0, 4);
    double ns = (double)bench_timer_ns(&t);
    opg_registry_free(r);
    return ns;
}

/* ----------------------------------------------------------------- cases */

static double slash_own_redelegations(uint64_t n)
{
    opg_registry *r = registry(2);
    for (uint64_t i = 0; i < n; i++) {
        delegate(r, i, 0, 100, 2);
        redelegate(r, i, 0, 1, 100, 3);
        undelegate(r, i, 1, 10, 3);
    }
    return timed_slash(r);
}

static double slash_others_unbondings(uint64_t n)
{
    opg_registry *r = registry(2);
    for (uint64_t i = 0; i < 10; i++) {
        delegate(r, i, 0, 100, 2);
        undelegate(r, i, 0, 10, 3);
    }
    for (uint64_t i = 0; i < n; i++) {
        delegate(r, 100 + i, 1, 100, 2);
        undelegate(r, 100 + i, 1, 10, 3);
    }
    return timed_slash(r);
}

/* The single calls below are timed in BATCHES batches of PER calls (each call by its
 * own delegator, with the n others still there) and the median batch taken: one call
 * alone is below the clock's resolution here, and the median is the calls' own cost,
 * not a preemption's nor that of a shared table doubling (amortized O(1)) in whichever
 * batch it falls. */
#define BATCHES 15
#define PER 16
#define CALLS (BATCHES * PER)
static double undelegate_same_block(uint64_t n)
{
    opg_registry *r = registry(1);
    for (uint64_t i = 0; i < n + CALLS; i++)
        delegate(r, i, 0, 100, 2);
    for (uint64_t i = 0; i < n; i++)
        undelegate(r, i, 0, 10, 3);
    double v[BATCHES];
    for (uint64_t b = 0; b < BATCHES; b++) {
        bench_timer t;
        bench_timer_start(&t);
        for (uint64_t i = n + b * PER; i < n + (b + 1) * PER; i++)
            undelegate(r, i, 0, 10, 3);
        v[b] = (double)bench_timer_ns(&t) / PER;
    }
    opg_registry_free(r);
    return bench_median(v, BATCHES);
}

static double cancel_unbonding(uint64_t n)
{
    opg_registry *r = registry(1);
    for (uint64_t i = 0; i < n + CALLS; i++) {
        delegate(r, i, 0, 100, 2);
        undelegate(r, i, 0, 10, 3 + (opg_height)(i >= n ? 0 : 1));
    }
    opg_id o = id_of(1, 0);
    opg_u256 a;
    opg_u256_from_u64(&a, 5);
    double v[BATCHES];
    for (uint64_t b = 0; b < BATCHES; b++) {
        bench_timer t;
        bench_timer_start(&t);
        for (uint64_t i = n + b * PER; i < n + (b + 1) * PER; i++) {
            opg_id d = id_of(3, i);
            ok(opg_registry_cancel_unbonding(r, &d, &o, 3, &a, 5, 5), "cancel_unbonding");
        }
        v[b] = (double)bench_timer_ns(&t) / PER;
    }
    opg_registry_free(r);
    return bench_median(v, BATCHES);
}

static double end_block_matured(uint64_t n)
{
    opg_registry *r = registry(1);
    for (uint64_t i = 0; i < n; i++) {
        delegate(r, i, 0, 100, 2);
        undelegate(r, i, 0, 10, 3);
    }
    bench_timer t;
    bench_timer_start(&t);
    ok(opg_registry_end_block(r, 4, 3 + 1000000), "end_block");
    double ns = (double)bench_timer_ns(&t);
    size_t events;
    opg_registry_events(r, &events);
    if (events < n)
        die("matured entries", OPG_EINVARIANT);
    opg_registry_free(r);
    return ns;
}

static double slash_others_redelegations(uint64_t n)
{
    opg_registry *r = registry(3);
    for (uint64_t i = 0; i < 10; i++) {
        delegate(r, i, 0, 100, 2);
        redelegate(r, i, 0, 2, 100, 3);
    }
    for (uint64_t i = 0; i < n; i++) {
        delegate(r, 100 + i, 1, 100, 2);
        redelegate(r, 100 + i, 1, 2, 100, 3);
    }
    return timed_slash(r);
}

/* Delegator n with 5 entries (5 nodes) among one entry each of n others. */
static opg_registry *queried(uint64_t n, int red)
{
    opg_registry *r = registry(6);
    for (uint64_t i = 0; i <= n; i++) {
        uint64_t k = i == n ? 5 : 1;
        for (uint64_t j = 0; j < k; j++) {
            delegate(r, i, j, 100, 2);
            if (red)
                redelegate(r, i, j, 5, 10, 3);
            else
                undelegate(r, i, j, 10, 3);
        }
    }
    return r;
}

static double entries_of_others(uint64_t n, int red)
{
    opg_registry *r = queried(n, red);
    opg_id d = id_of(3, n);
    opg_unbonding_info u[8];
    opg_redelegation_info e[8];
    size_t count = 0;
    double v[BATCHES];
    for (int b = 0; b < BATCHES; b++) { /* the same query PER times a batch */
        bench_timer t;
        bench_timer_start(&t);
        for (int k = 0; k < PER; k++)
            ok(red ? opg_registry_redelegations_of(e, 8, &count, r, &d)
                   : opg_registry_unbondings_of(u, 8, &count, r, &d), "entries_of");
        v[b] = (double)bench_timer_ns(&t) / PER;
    }
    if (count != 5)
        die("entries of the delegator", OPG_EINVARIANT);
    opg_registry_free(r);
    return bench_median(v, BATCHES);
}

static double unbondings_of_others(uint64_t n) { return entries_of_others(n, 0); }
static double redelegations_of_others(uint64_t n) { return entries_of_others(n, 1); }

/* n entries (completing at 3 + 10^6) and n validator-set updates in the history (n
 * blocks in which node 0's power changes), then end_blocks maturing nothing. */
static double end_block_quiet(uint64_t n)
{
    opg_registry *r = registry(1);
    for (uint64_t i = 0; i < n; i++) {
        delegate(r, i, 0, 100, 2);
        undelegate(r, i, 0, 10, 3);
    }
    for (uint64_t i = 0; i < n; i++) {
        delegate(r, n + 1, 0, 1, 4 + i);
        ok(opg_registry_end_block(r, 4 + i, (opg_time)(4 + i)), "end_block");
    }
    double v[BATCHES];
    opg_height h = 4 + n;
    for (int b = 0; b < BATCHES; b++) {
        bench_timer t;
        bench_timer_start(&t);
        for (int k = 0; k < PER; k++, h++)
            ok(opg_registry_end_block(r, h, (opg_time)h), "end_block");
        v[b] = (double)bench_timer_ns(&t) / PER;
    }
    opg_registry_free(r);
    return bench_median(v, BATCHES);
}

typedef struct bench_case {
    const char *name;
    double (*run)(uint64_t n);
} bench_case;

/* The medians at n and at 2n, their rounds interleaved so that both see the machine
 * alike (a busy spell then moves both, not their ratio). */
static void medians_of(double (*run)(uint64_t), uint64_t n, double *at_n, double *at_2n)
{
    double v[ROUNDS], w[ROUNDS];
    for (int k = 0; k < ROUNDS; k++) {
        v[k] = run(n);
        w[k] = run(2 * n);
    }
    *at_n = bench_median(v, ROUNDS);
    *at_2n = bench_median(w, ROUNDS);
}

int main(void)
{
    static const bench_case cases[] = {
        {"slash_own_redelegations", slash_own_redelegations},
        {"slash_others_unbondings", slash_others_unbondings},
        {"undelegate_same_block", undelegate_same_block},
        {"cancel_unbonding", cancel_unbonding},
        {"end_block_matured", end_block_matured},
        {"slash_others_redelegations", slash_others_redelegations},
        {"unbondings_of_others", unbondings_of_others},
        {"redelegations_of_others", redelegations_of_others},
        {"end_block_quiet", end_block_quiet},
    };
    bench_table_header("complexity: one call at n and 2n (n = 8,000)");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double a, b;
        medians_of(cases[i].run, N_BASE, &a, &b);
        char name[96];
        snprintf(name, sizeof name, "complexity.%s.us_at_n", cases[i].name);
        bench_result(name, a / 1000.0, "us");
        snprintf(name, sizeof name, "complexity.%s.growth", cases[i].name);
        bench_result(name, b / a, "x");
    }
    return 0;
}
