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
 *
 * Each time is the median of ROUNDS worlds. Power reduction 1, so amounts are plain.
 */
#include "bench.h"

#include "opg.h"

#define ROUNDS 3
#define N_BASE 8000

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

static double undelegate_same_block(uint64_t n)
{
    opg_registry *r = registry(1);
    for (uint64_t i = 0; i <= n; i++)
        delegate(r, i, 0, 100, 2);
    for (uint64_t i = 0; i < n; i++)
        undelegate(r, i, 0, 10, 3);
    bench_timer t;
    bench_timer_start(&t);
    undelegate(r, n, 0, 10, 3);
    double ns = (double)bench_timer_ns(&t);
    opg_registry_free(r);
    return ns;
}

static double cancel_unbonding(uint64_t n)
{
    opg_registry *r = registry(1);
    for (uint64_t i = 0; i <= n; i++) {
        delegate(r, i, 0, 100, 2);
        undelegate(r, i, 0, 10, 3 + (opg_height)(i == n ? 0 : 1));
    }
    opg_id d = id_of(3, n), o = id_of(1, 0);
    opg_u256 a;
    opg_u256_from_u64(&a, 5);
    bench_timer t;
    bench_timer_start(&t);
    ok(opg_registry_cancel_unbonding(r, &d, &o, 3, &a, 5, 5), "cancel_unbonding");
    double ns = (double)bench_timer_ns(&t);
    opg_registry_free(r);
    return ns;
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

typedef struct bench_case {
    const char *name;
    double (*run)(uint64_t n);
} bench_case;

static double median_of(double (*run)(uint64_t), uint64_t n)
{
    double v[ROUNDS];
    for (int k = 0; k < ROUNDS; k++)
        v[k] = run(n);
    return bench_median(v, ROUNDS);
}

int main(void)
{
    static const bench_case cases[] = {
        {"slash_own_redelegations", slash_own_redelegations},
        {"slash_others_unbondings", slash_others_unbondings},
        {"undelegate_same_block", undelegate_same_block},
        {"cancel_unbonding", cancel_unbonding},
        {"end_block_matured", end_block_matured},
    };
    bench_table_header("complexity: one call at n and 2n (n = 8,000)");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double a = median_of(cases[i].run, N_BASE), b = median_of(cases[i].run, 2 * N_BASE);
        char name[96];
        snprintf(name, sizeof name, "complexity.%s.us_at_n", cases[i].name);
        bench_result(name, a / 1000.0, "us");
        snprintf(name, sizeof name, "complexity.%s.growth", cases[i].name);
        bench_result(name, b / a, "x");
    }
    return 0;
}
