/*
 * registry_util.h - helpers shared by the registry tests (test_registry*.c and the
 * registry load fuzz target): small registries with easy numbers, node specs, event
 * lookups, and the "a refused call changes nothing" check.
 *
 * Conventions of the tests: operators are id_n(1..99), delegators id_n(100+k),
 * consensus keys key_n(n) (bytes[0] = 0xC0 so they never collide with an operator).
 * Most known-answer tests use power_reduction 1 (power = tokens) and an unbonding
 * time of 100 s, so the arithmetic stays readable.
 */
#ifndef OPG_TEST_REGISTRY_UTIL_H
#define OPG_TEST_REGISTRY_UTIL_H

#include "failalloc.h"
#include "harness.h"

#define UNBONDING 100 /* staking.unbonding_time of the small registries, seconds */

static opg_id key_n(unsigned n)
{
    return cons_key_n(n);
}

static opg_id dtor(unsigned k) { return id_n(100 + k); }

/* power_reduction 1, unbonding_time 100 s, the other defaults. */
static opg_registry_params small_params(void)
{
    opg_registry_params p;
    opg_registry_params_init(&p);
    p.unbonding_time = UNBONDING;
    opg_u256_from_u64(&p.power_reduction, 1);
    return p;
}

static opg_registry *small_registry(void)
{
    opg_registry_params p = small_params();
    opg_registry *r = NULL;
    if (opg_registry_new(&r, &p, NULL, NULL) != OPG_OK)
        abort();
    return r;
}

/* A consensus node n: commission 0.1 (max 0.2, max change 0.01), min self 1. */
static opg_node_create node_spec(unsigned n, uint64_t self)
{
    opg_node_create c;
    memset(&c, 0, sizeof c);
    c.operator_id = id_n(n);
    c.consensus_key = key_n(n);
    c.roles = OPG_ROLE_ALL;
    c.commission_rate = dec_of("0.1");
    c.commission_max_rate = dec_of("0.2");
    c.commission_max_change_rate = dec_of("0.01");
    c.min_self_delegation = u64v(1);
    c.self_delegation = u64v(self);
    return c;
}

static int mk_node(opg_registry *r, unsigned n, uint64_t self, opg_height h, opg_time t)
{
    opg_node_create c = node_spec(n, self);
    return opg_registry_node_create(r, &c, h, t);
}

static int delegate_u(opg_registry *r, unsigned k, unsigned node, uint64_t amount, opg_height h,
                      opg_time t)
{
    opg_id d = dtor(k), o = id_n(node);
    opg_u256 a = u64v(amount);
    return opg_registry_delegate(NULL, r, &d, &o, &a, h, t);
}

static int undelegate_u(opg_u256 *got, opg_registry *r, const opg_id *who, unsigned node,
                        uint64_t amount, opg_height h, opg_time t)
{
    opg_id o = id_n(node);
    opg_u256 a = u64v(amount);
    return opg_registry_undelegate(got, NULL, r, who, &o, &a, h, t);
}

static int redelegate_u(opg_time *done, opg_registry *r, const opg_id *who, unsigned src,
                        unsigned dst, uint64_t amount, opg_height h, opg_time t)
{
    opg_id s = id_n(src), d = id_n(dst);
    opg_u256 a = u64v(amount);
    return opg_registry_redelegate(done, r, who, &s, &d, &a, h, t);
}

static int slash_u(opg_slash_result *res, opg_registry *r, unsigned node, opg_height infraction,
                   uint64_t power, const char *fraction, opg_height h, opg_time t)
{
    opg_id o = id_n(node);
    opg_dec f = dec_of(fraction);
    return opg_registry_slash(res, r, &o, infraction, power, &f, h, t);
}

static opg_node_info node_of(const opg_registry *r, unsigned n)
{
    opg_node_info info;
    opg_id o = id_n(n);
    memset(&info, 0, sizeof info);
    if (opg_registry_node_get(&info, r, &o) != OPG_OK)
        memset(&info, 0xff, sizeof info); /* makes any CHECK on it fail loudly */
    return info;
}

/* The delegation's info; shares 0 / tokens 0 and found = 0 when there is none. */
static opg_delegation_info del_of(const opg_registry *r, const opg_id *who, unsigned node,
                                  int *found)
{
    opg_delegation_info info;
    opg_id o = id_n(node);
    memset(&info, 0, sizeof info);
    int rc = opg_registry_delegation_get(&info, r, who, &o);
    if (found)
        *found = rc == OPG_OK;
    return info;
}

/* For CHECK_U256 / CHECK_DEC, which need an lvalue: NODE(r, 1)->tokens. */
static const opg_node_info *node_ptr(const opg_registry *r, unsigned n)
{
    static opg_node_info tmp;
    tmp = node_of(r, n);
    return &tmp;
}

static const opg_delegation_info *del_ptr(const opg_registry *r, const opg_id *who, unsigned n)
{
    static opg_delegation_info tmp;
    tmp = del_of(r, who, n, NULL);
    return &tmp;
}

#define NODE(r, n) node_ptr((r), (n))
#define DEL(r, who, n) del_ptr((r), (who), (n))

static size_t n_events(const opg_registry *r)
{
    size_t n;
    opg_registry_events(r, &n);
    return n;
}

static size_t count_kind(const opg_registry *r, opg_event_kind kind)
{
    size_t n, c = 0;
    const opg_event *e = opg_registry_events(r, &n);
    for (size_t i = 0; i < n; i++)
        c += e[i].kind == kind;
    return c;
}

/* The i-th event of this kind (0-based), or NULL. */
static const opg_event *event_of(const opg_registry *r, opg_event_kind kind, size_t i)
{
    size_t n;
    const opg_event *e = opg_registry_events(r, &n);
    for (size_t k = 0; k < n; k++)
        if (e[k].kind == kind && i-- == 0)
            return &e[k];
    return NULL;
}

static void hash_of(uint8_t out[32], const opg_registry *r)
{
    if (opg_registry_state_hash(out, r) != OPG_OK)
        abort();
}

/* The call must fail with `code`, leave the state hash as it was and no events. */
#define CHECK_REFUSED(r, expr, code)                                                 \
    do {                                                                             \
        uint8_t h0_[32], h1_[32];                                                    \
        hash_of(h0_, (r));                                                           \
        CHECK_RC((expr), (code));                                                    \
        hash_of(h1_, (r));                                                           \
        CHECK(memcmp(h0_, h1_, 32) == 0);                                            \
        CHECK(n_events(r) == 0);                                                     \
    } while (0)

/* Saves into a fresh malloc'd buffer; NULL on failure. */
static uint8_t *save_alloc(const opg_registry *r, size_t *len)
{
    size_t n = 0;
    int rc = opg_registry_save(NULL, 0, &n, r);
    if (rc != OPG_EBUFS && rc != OPG_OK)
        return NULL;
    uint8_t *b = malloc(n ? n : 1);
    if (!b || opg_registry_save(b, n, len, r) != OPG_OK || *len != n) {
        free(b);
        return NULL;
    }
    return b;
}

/* save -> load -> save gives the same bytes and the loaded registry the same hash. */
static int roundtrip_ok(const opg_registry *r)
{
    size_t n1 = 0, n2 = 0;
    uint8_t *b1 = save_alloc(r, &n1);
    if (!b1)
        return 0;
    opg_registry *q = NULL;
    int ok = opg_registry_load(&q, b1, n1, NULL) == OPG_OK;
    uint8_t *b2 = ok ? save_alloc(q, &n2) : NULL;
    ok = ok && b2 && n1 == n2 && memcmp(b1, b2, n1) == 0;
    if (ok) {
        uint8_t h1[32], h2[32];
        hash_of(h1, r);
        hash_of(h2, q);
        ok = memcmp(h1, h2, 32) == 0 && opg_registry_check(q) == OPG_OK;
    }
    free(b1);
    free(b2);
    opg_registry_free(q);
    return ok;
}

#endif /* OPG_TEST_REGISTRY_UTIL_H */
