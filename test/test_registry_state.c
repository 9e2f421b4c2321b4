/*
 * test_registry_state.c - the registry's saved state and its memory discipline:
 * save -> load -> save byte identity and equal hashes, a loaded registry behaving as
 * the original, truncated / flipped / extended / foreign blobs refused (never a
 * crash), a future version refused, and allocation failure at every allocation of a
 * scripted sequence: OPG_ENOMEM, the hash as before, no events, nothing leaked, and
 * the retried call then gives the same result as without failures.
 */
#include "registry_util.h"

/* A registry in which every kind of record and status is present. */
static opg_registry *populated(const opg_allocator *alloc)
{
    opg_registry_params p = small_params();
    p.max_validators = 3;
    p.fix_redelegation_overslash = 1;
    p.min_commission_rate = dec_of("0.01");
    opg_u256 genesis = u64v(1000000);
    opg_registry *r = NULL;
    if (opg_registry_new(&r, &p, &genesis, alloc))
        return NULL;
    opg_id d1 = dtor(1), d2 = dtor(2), o3 = id_n(3), o4 = id_n(4);
    opg_u256 got, a = u64v(123);
    opg_time done;
    opg_slash_result res;
    int rc = 0;
    for (unsigned i = 1; i <= 5; i++)
        rc |= mk_node(r, i, 100 * i, 1, 1000);
    opg_node_create c = node_spec(6, 50);
    c.roles = OPG_ROLE_INFERENCE;
    rc |= opg_registry_node_create(r, &c, 1, 1000);
    rc |= opg_registry_end_block(r, 1, 1000); /* 5, 4, 3 bonded */
    for (unsigned k = 1; k <= 12; k++)
        rc |= delegate_u(r, k, 1 + k % 6, 10 * k, 2, 1001);
    rc |= undelegate_u(&got, r, &d1, 2, 5, 3, 1002);
    rc |= redelegate_u(&done, r, &d2, 3, 1, 7, 3, 1002);
    rc |= slash_u(&res, r, 3, 2, 320, "0.01", 4, 1003);
    rc |= opg_registry_jail(r, &o4, 5000);
    rc |= opg_registry_tombstone(r, &o4);
    rc |= opg_registry_end_block(r, 4, 1003); /* 4 leaves: unbonding */
    rc |= opg_registry_supply_mint(r, &a);
    rc |= opg_registry_supply_burn(r, &a);
    rc |= opg_registry_jail(r, &o3, 1500);
    if (rc) {
        opg_registry_free(r);
        return NULL;
    }
    return r;
}

static void test_roundtrip(void)
{
    opg_registry *r = populated(NULL);
    CHECK(r != NULL);
    size_t n1, n2;
    uint8_t *b1 = save_alloc(r, &n1);
    CHECK(b1 != NULL);
    /* a small buffer: OPG_EBUFS and the size needed */
    size_t need = 0;
    uint8_t small[16];
    CHECK_RC(opg_registry_save(small, sizeof small, &need, r), OPG_EBUFS);
    CHECK(need == n1);
    CHECK_RC(opg_registry_save(NULL, 0, &need, r), OPG_EBUFS);
    CHECK(need == n1);

    opg_registry *q = NULL;
    CHECK_OK(opg_registry_load(&q, b1, n1, NULL));
    uint8_t *b2 = save_alloc(q, &n2);
    CHECK(b2 && n1 == n2 && memcmp(b1, b2, n1) == 0);
    uint8_t h1[32], h2[32];
    hash_of(h1, r);
    hash_of(h2, q);
    CHECK(memcmp(h1, h2, 32) == 0);
    CHECK_OK(opg_registry_check(q));
    CHECK(opg_registry_node_count(q) == 6 && opg_registry_delegation_count(q) ==
                                                opg_registry_delegation_count(r));
    opg_registry_params pr, pq;
    opg_registry_params_get(&pr, r);
    opg_registry_params_get(&pq, q);
    CHECK(memcmp(&pr, &pq, sizeof pr) == 0);
    CHECK(n_events(q) == 0);

    /* the loaded registry behaves as the original: the same calls, the same events
     * and hashes */
    opg_registry *both[2] = {r, q};
    size_t ne[2];
    opg_event ev[2][64];
    for (int i = 0; i < 2; i++) {
        opg_registry *x = both[i];
        opg_id d3 = dtor(3);
        opg_u256 got;
        opg_slash_result res;
        CHECK_OK(delegate_u(x, 20, 5, 77, 5, 1004));
        CHECK_OK(undelegate_u(&got, x, &d3, 4, 10, 5, 1004));
        CHECK_OK(slash_u(&res, x, 5, 3, 640, "0.05", 6, 1005));
        CHECK_OK(opg_registry_end_block(x, 6, 1105));
        const opg_event *e = opg_registry_events(x, &ne[i]);
        CHECK(ne[i] <= 64);
        memcpy(ev[i], e, ne[i] * sizeof *e);
    }
    CHECK(ne[0] == ne[1] && ne[0] > 0);
    CHECK(memcmp(ev[0], ev[1], ne[0] * sizeof ev[0][0]) == 0);
    hash_of(h1, r);
    hash_of(h2, q);
    CHECK(memcmp(h1, h2, 32) == 0);
    CHECK(roundtrip_ok(r));
    free(b1);
    free(b2);
    opg_registry_free(q);
    opg_registry_free(r);

    /* an empty registry round-trips too */
    CHECK_OK(opg_registry_new(&r, NULL, NULL, NULL));
    CHECK(roundtrip_ok(r));
    opg_registry_free(r);
}

static void test_hash_tracks_state(void)
{
    opg_registry *r = populated(NULL);
    CHECK(r != NULL);
    uint8_t h0[32], h1[32];
    hash_of(h0, r);
    /* every stored fact moves the hash: a param, a ledger entry, a delegation */
    CHECK_OK(opg_registry_param_set(r, "staking.max_entries", "8"));
    hash_of(h1, r);
    CHECK(memcmp(h0, h1, 32) != 0);
    CHECK_OK(opg_registry_param_set(r, "staking.max_entries", "7"));
    hash_of(h1, r);
    CHECK(memcmp(h0, h1, 32) == 0);
    opg_u256 one = u64v(1);
    CHECK_OK(opg_registry_supply_mint(r, &one));
    hash_of(h1, r);
    CHECK(memcmp(h0, h1, 32) != 0);
    opg_registry_free(r);
}

/*
 * States the registry reaches must load. A node whose delegations have all left
 * while it is still unbonding is saved without any delegation or entry: the saved
 * state is a node record (303 bytes) and three empty counts.
 */
static void test_node_without_delegations_loads(void)
{
    opg_registry *r = small_registry();
    opg_id op = id_n(1);
    opg_u256 got;
    CHECK_OK(mk_node(r, 1, 100, 1, 1000));
    CHECK_OK(opg_registry_end_block(r, 1, 1000));
    CHECK_OK(undelegate_u(&got, r, &op, 1, 100, 2, 1000)); /* entry completes 1100 */
    CHECK_OK(opg_registry_end_block(r, 2, 1050));          /* node unbonding to 1150 */
    CHECK_OK(opg_registry_end_block(r, 3, 1100));          /* the entry is paid */
    CHECK(opg_registry_node_count(r) == 1 && opg_registry_delegation_count(r) == 0);
    CHECK(roundtrip_ok(r));
    opg_registry_free(r);
}

/* A registry created without a genesis supply (allowed: NULL is 0) burns stake in a
 * slash, so its ledger has burned more than genesis + minted. */
static void test_burns_beyond_genesis_load(void)
{
    opg_registry *r = small_registry();
    opg_slash_result res;
    CHECK_OK(mk_node(r, 1, 100, 1, 1000));
    CHECK_OK(opg_registry_end_block(r, 1, 1000));
    CHECK_OK(slash_u(&res, r, 1, 1, 100, "0.1", 2, 1001));
    CHECK(roundtrip_ok(r));
    opg_supply_info s;
    opg_registry_supply(&s, r);
    CHECK_U256(s.burned, "10");
    CHECK_U256(s.total_supply, "0"); /* genesis + minted - burned, floored at 0 */
    CHECK_DEC(s.staking_ratio, "0");
    opg_registry_free(r);
}

/*
 * The saved delegations are in (delegator, operator id) order whatever the ids look
 * like: random 32-byte delegators, delegators with several nodes, and delegators
 * sharing their first 8 or 31 bytes. The loader refuses records out of order, so a
 * round trip proves the order.
 */
static void test_save_order_any_ids(void)
{
    opg_registry *r = small_registry();
    for (unsigned i = 1; i <= 9; i++)
        CHECK_OK(mk_node(r, i * 23 % 97, 10, 1, 1000));
    test_rng rng = {99};
    for (unsigned k = 0; k < 3000; k++) {
        opg_id who;
        for (int b = 0; b < 32; b++)
            who.bytes[b] = (uint8_t)rng_next(&rng);
        if (k % 3 == 1)
            memset(who.bytes, 0x5a, 8); /* equal first 8 bytes */
        if (k % 3 == 2)
            memset(who.bytes, 0x11, 31); /* equal first 31 bytes */
        unsigned nodes = 1 + (unsigned)rng_below(&rng, 3);
        for (unsigned j = 0; j < nodes; j++) {
            opg_id op = id_n((1 + (unsigned)rng_below(&rng, 9)) * 23 % 97);
            opg_u256 a = u64v(1 + rng_below(&rng, 1000));
            CHECK_OK(opg_registry_delegate(NULL, r, &who, &op, &a, 2, 1000));
        }
    }
    CHECK(opg_registry_delegation_count(r) > 5000);
    CHECK(roundtrip_ok(r));
    opg_registry_free(r);
}

/* Loads must refuse; returns the code (freeing anything that loaded by mistake). */
static int load_rc(const uint8_t *b, size_t n)
{
    opg_registry *q = NULL;
    int rc = opg_registry_load(&q, b, n, NULL);
    opg_registry_free(q);
    return rc;
}

/* Either refused as corrupt, or loaded and saving back to exactly these bytes. */
static int refused_or_exact(const uint8_t *b, size_t n)
{
    opg_registry *q = NULL;
    int rc = opg_registry_load(&q, b, n, NULL);
    if (rc == OPG_ECORRUPT || rc == OPG_EVERSION)
        return 1;
    if (rc != OPG_OK)
        return 0;
    size_t m;
    uint8_t *c = save_alloc(q, &m);
    int ok = c && m == n && memcmp(b, c, n) == 0 && opg_registry_check(q) == OPG_OK;
    free(c);
    opg_registry_free(q);
    return ok;
}

/* Where record i of a snapshot lies (the layout opg_registry_save documents):
 * its key at *key, its value at *value, value_len bytes. 0 past the last record. */
static int record_at(const uint8_t *b, size_t n, size_t i, size_t *key, size_t *value,
                     size_t *value_len)
{
    size_t at = 8;
    for (size_t k = 0;; k++) {
        if (at >= n || b[at] == 0)
            return 0;
        size_t kl = b[at];
        size_t vl = ((size_t)b[at + 1 + kl] << 24) | ((size_t)b[at + 2 + kl] << 16) |
                    ((size_t)b[at + 3 + kl] << 8) | b[at + 4 + kl];
        if (k == i) {
            *key = at + 1;
            *value = at + 5 + kl;
            *value_len = vl;
            return 1;
        }
        at += 5 + kl + vl;
    }
}

/* The snapshot without record i (its bytes cut out), into t; returns the new length. */
static size_t without_record(uint8_t *t, const uint8_t *b, size_t n, size_t i)
{
    size_t k, v, vl;
    if (!record_at(b, n, i, &k, &v, &vl))
        return 0;
    size_t start = k - 1, end = v + vl;
    memcpy(t, b, start);
    memcpy(t + start, b + end, n - end);
    return n - (end - start);
}

/* Records of populated(): params, ledger, 6 nodes, then delegations. */
#define REC_PARAMS 0
#define REC_LEDGER 1
#define REC_NODE0 2
#define REC_DEL0 8

static void test_corrupt_blobs(void)
{
    opg_registry *r = populated(NULL);
    CHECK(r != NULL);
    size_t n;
    uint8_t *b = save_alloc(r, &n);
    CHECK(b != NULL);
    uint8_t *t = malloc(n + 1);
    CHECK(t != NULL);

    /* every truncation, at record boundaries too */
    for (size_t k = 0; k < n; k++)
        CHECK(load_rc(b, k) == OPG_ECORRUPT);
    CHECK(load_rc(NULL, 0) == OPG_ECORRUPT);
    /* a trailing byte */
    memcpy(t, b, n);
    t[n] = 0;
    CHECK(load_rc(t, n + 1) == OPG_ECORRUPT);
    /* header: magic, kind (a pricer's), the zero byte */
    static const size_t hdr[] = {0, 3, 4, 5};
    for (size_t i = 0; i < 4; i++) {
        memcpy(t, b, n);
        t[hdr[i]] ^= 0x01;
        CHECK(load_rc(t, n) == OPG_ECORRUPT);
    }
    memcpy(t, b, n);
    t[4] = 2; /* OPGI_KIND_PRICER */
    CHECK(load_rc(t, n) == OPG_ECORRUPT);
    /* a future version, and the retired versions 1 to 3 */
    memcpy(t, b, n);
    t[7] = 5;
    CHECK(load_rc(t, n) == OPG_EVERSION);
    memcpy(t, b, n);
    t[6] = 1;
    CHECK(load_rc(t, n) == OPG_EVERSION);
    for (uint8_t old = 1; old <= 3; old++) {
        memcpy(t, b, n);
        t[7] = old;
        CHECK(load_rc(t, n) == OPG_ECORRUPT);
    }
    /* the record count at the end, one off */
    memcpy(t, b, n);
    t[n - 1] ^= 0x01;
    CHECK(load_rc(t, n) == OPG_ECORRUPT);

    size_t k, v, vl, k2, v2, vl2;
    /* params out of range: max_entries 65, a boolean of 2; an unknown value format */
    CHECK(record_at(b, n, REC_PARAMS, &k, &v, &vl));
    memcpy(t, b, n);
    t[v + 1 + 8 + 4 + 3] = 65;
    CHECK(load_rc(t, n) == OPG_ECORRUPT);
    memcpy(t, b, n);
    t[v + vl - 1] = 2;
    CHECK(load_rc(t, n) == OPG_ECORRUPT);
    memcpy(t, b, n);
    t[v] = 2;
    CHECK(load_rc(t, n) == OPG_ECORRUPT);
    /* genesis + minted beyond 256 bits (supply_mint never lets that happen) */
    CHECK(record_at(b, n, REC_LEDGER, &k, &v, &vl));
    memcpy(t, b, n);
    t[v + 1] = 0xff;
    t[v + 1 + 32] = 0xff;
    CHECK(load_rc(t, n) == OPG_ECORRUPT);
    /* no ledger; no params */
    CHECK(load_rc(t, without_record(t, b, n, REC_LEDGER)) == OPG_ECORRUPT);
    CHECK(load_rc(t, without_record(t, b, n, REC_PARAMS)) == OPG_ECORRUPT);
    /* a node gone (its delegations point nowhere) */
    CHECK(load_rc(t, without_record(t, b, n, REC_NODE0 + 1)) == OPG_ECORRUPT);
    /* the first node: status 3, jailed 2, roles 0, rate above max_rate, its id above
     * the second's (out of key order), a consensus key equal to the second's */
    CHECK(record_at(b, n, REC_NODE0, &k, &v, &vl));
    CHECK(record_at(b, n, REC_NODE0 + 1, &k2, &v2, &vl2));
    size_t fields = v + 1 + 32; /* after the format byte and the consensus key */
    memcpy(t, b, n);
    t[fields + 4] = 3;
    CHECK(load_rc(t, n) == OPG_ECORRUPT);
    memcpy(t, b, n);
    t[fields + 5] = 2;
    CHECK(load_rc(t, n) == OPG_ECORRUPT);
    memcpy(t, b, n);
    memset(t + fields, 0, 4);
    CHECK(load_rc(t, n) == OPG_ECORRUPT);
    memcpy(t, b, n);
    t[fields + 4 + 3 + 8 + 32 + 32] = 0xff; /* rate's top byte */
    CHECK(load_rc(t, n) == OPG_ECORRUPT);
    memcpy(t, b, n);
    t[k + 2 + 31] = 0xff;
    CHECK(load_rc(t, n) == OPG_ECORRUPT);
    memcpy(t, b, n);
    memcpy(t + v + 1, t + v2 + 1, 32);
    CHECK(load_rc(t, n) == OPG_ECORRUPT);
    /* the first delegation's shares: the node's sum no longer matches */
    CHECK(record_at(b, n, REC_DEL0, &k, &v, &vl));
    CHECK(record_at(b, n, REC_DEL0 + 1, &k2, &v2, &vl2));
    CHECK(vl == vl2 && b[k + 1] == 3);
    memcpy(t, b, n);
    t[v + 32] ^= 0x01;
    CHECK(load_rc(t, n) == OPG_ECORRUPT);
    /* a delegation to an unknown node */
    memcpy(t, b, n);
    t[k + 2 + 32 + 31] = 0x77;
    CHECK(load_rc(t, n) == OPG_ECORRUPT);
    /* two delegations swapped: out of key order */
    size_t len1 = v + vl - (k - 1);
    memcpy(t, b, n);
    memcpy(t + k - 1, b + k2 - 1, len1);
    memcpy(t + k - 1 + len1, b + k - 1, len1);
    CHECK(load_rc(t, n) == OPG_ECORRUPT);

    /* every single-byte flip: refused, or a valid state that saves back exactly */
    for (size_t k = 0; k < n; k++) {
        memcpy(t, b, n);
        t[k] ^= 0xa5;
        CHECK(refused_or_exact(t, n));
        t[k] = b[k] ^ 0x01;
        CHECK(refused_or_exact(t, n));
    }
    free(t);
    free(b);
    opg_registry_free(r);
}

/* ---------------------------------------------------- allocation failures */

typedef struct script {
    failalloc *fa;
    opg_allocator alloc;
    opg_registry *r, *q;
    uint8_t *blob;
    size_t blob_len;
    uint8_t final_hash[32];
} script;

/* The state hash, computed without counting or failing allocations. */
static void quiet_hash(script *s, const opg_registry *r, uint8_t out[32])
{
    unsigned long fail_at = s->fa->fail_at, calls = s->fa->calls;
    s->fa->fail_at = 0;
    hash_of(out, r);
    s->fa->fail_at = fail_at;
    s->fa->calls = calls;
}

/*
 * One mutating step on registry x: the call gives `want`, or OPG_ENOMEM with the
 * hash unchanged and no events, after which the same call (the failure is past)
 * must give `want`.
 */
#define STEP(x, call, want)                                                          \
    do {                                                                             \
        uint8_t h0_[32], h1_[32];                                                    \
        quiet_hash(s, (x), h0_);                                                     \
        int st_ = (call);                                                            \
        if (st_ == OPG_ENOMEM) {                                                     \
            quiet_hash(s, (x), h1_);                                                 \
            CHECK(memcmp(h0_, h1_, 32) == 0);                                        \
            CHECK(n_events(x) == 0);                                                 \
            st_ = (call);                                                            \
        }                                                                            \
        CHECK_RC(st_, (want));                                                       \
    } while (0)

/* The same for a query (save, hash, check): it leaves the last call's events alone. */
#define QSTEP(x, call, want)                                                         \
    do {                                                                             \
        uint8_t h0_[32], h1_[32];                                                    \
        quiet_hash(s, (x), h0_);                                                     \
        int st_ = (call);                                                            \
        if (st_ == OPG_ENOMEM) {                                                     \
            quiet_hash(s, (x), h1_);                                                 \
            CHECK(memcmp(h0_, h1_, 32) == 0);                                        \
            st_ = (call);                                                            \
        }                                                                            \
        CHECK_RC(st_, (want));                                                       \
    } while (0)

static void run_script(script *s)
{
    opg_registry_params p = small_params();
    p.max_validators = 4; /* node 1 (the smallest) stays out until node 2 is jailed */
    opg_id d1 = dtor(1), d2 = dtor(2), o1 = id_n(1), o2 = id_n(2);
    opg_u256 got, five = u64v(5);
    opg_time done;
    opg_slash_result res;
    int rc = opg_registry_new(&s->r, &p, NULL, &s->alloc);
    if (rc == OPG_ENOMEM) {
        CHECK(s->fa->live_bytes == 0);
        rc = opg_registry_new(&s->r, &p, NULL, &s->alloc);
    }
    CHECK_OK(rc);
    opg_registry *r = s->r;
    for (unsigned i = 1; i <= 5; i++)
        STEP(r, mk_node(r, i, 1000 * i, 1, 1000), OPG_OK);
    STEP(r, opg_registry_end_block(r, 1, 1000), OPG_OK);
    /* 70 delegators: the delegation pool and both indexes grow */
    for (unsigned k = 1; k <= 70; k++)
        STEP(r, delegate_u(r, k, 1 + k % 5, 10 + k, 2, 1001), OPG_OK);
    STEP(r, delegate_u(r, 1, 1, 100, 2, 1001), OPG_OK);
    STEP(r, undelegate_u(&got, r, &d1, 1, 30, 3, 1002), OPG_OK);
    STEP(r, undelegate_u(&got, r, &d1, 1, 20, 3, 1002), OPG_OK); /* merged */
    STEP(r, redelegate_u(&done, r, &d1, 1, 3, 40, 3, 1002), OPG_OK);
    STEP(r, redelegate_u(&done, r, &d2, 3, 2, 12, 3, 1002), OPG_OK);
    STEP(r, undelegate_u(&got, r, &d1, 3, 15, 4, 1003), OPG_OK);
    STEP(r, opg_registry_cancel_unbonding(r, &d1, &o1, 3, &five, 4, 1003), OPG_OK);
    STEP(r, slash_u(&res, r, 3, 3, 3200, "0.1", 5, 1004), OPG_OK);
    STEP(r, opg_registry_jail(r, &o2, 2000), OPG_OK);
    STEP(r, opg_registry_end_block(r, 5, 1004), OPG_OK);
    STEP(r, opg_registry_param_set(r, "staking.max_entries", "9"), OPG_OK);
    STEP(r, opg_registry_end_block(r, 6, 1104), OPG_OK); /* entries mature */
    QSTEP(r, opg_registry_check(r), OPG_OK);

    /* save: the size first, then the bytes */
    size_t n = 0;
    QSTEP(r, opg_registry_save(NULL, 0, &n, r), OPG_EBUFS);
    s->blob = malloc(n);
    CHECK(s->blob != NULL);
    s->blob_len = n;
    QSTEP(r, opg_registry_save(s->blob, n, &n, r), OPG_OK);
    uint8_t h[32];
    QSTEP(r, opg_registry_state_hash(h, r), OPG_OK);

    /* load: a failure leaves nothing behind */
    long long live = s->fa->live_bytes;
    rc = opg_registry_load(&s->q, s->blob, s->blob_len, &s->alloc);
    if (rc == OPG_ENOMEM) {
        CHECK(s->q == NULL);
        CHECK(s->fa->live_bytes == live);
        rc = opg_registry_load(&s->q, s->blob, s->blob_len, &s->alloc);
    }
    CHECK_OK(rc);
    opg_registry *q = s->q;
    STEP(q, delegate_u(q, 99, 4, 1000, 7, 1105), OPG_OK);
    STEP(q, slash_u(&res, q, 4, 6, 4000, "0.01", 7, 1105), OPG_OK);
    STEP(q, opg_registry_end_block(q, 7, 1105), OPG_OK);
    quiet_hash(s, q, s->final_hash);
}

static void test_allocation_failures(void)
{
    uint8_t want[32];
    unsigned long total = 0;
    for (unsigned long n = 0;; n++) {
        failalloc fa;
        failalloc_init(&fa, n);
        script s;
        memset(&s, 0, sizeof s);
        s.fa = &fa;
        s.alloc = failalloc_allocator(&fa);
        run_script(&s);
        opg_registry_free(s.r);
        opg_registry_free(s.q);
        free(s.blob);
        if (harness_current_failed) {
            printf("  (with allocation %lu failing)\n", n);
            return;
        }
        CHECK(fa.live_bytes == 0 && fa.live_blocks == 0);
        if (n == 0) {
            memcpy(want, s.final_hash, 32);
            total = fa.calls;
            printf("  %lu allocations in the sequence\n", total);
            CHECK(total > 20);
            continue;
        }
        /* the same end state as without failures */
        CHECK(memcmp(want, s.final_hash, 32) == 0);
        CHECK(fa.failures <= 1);
        if (fa.failures == 0)
            break; /* n is past the last allocation: the sequence completed */
    }
}

int main(void)
{
    RUN(test_roundtrip);
    RUN(test_hash_tracks_state);
    RUN(test_node_without_delegations_loads);
    RUN(test_burns_beyond_genesis_load);
    RUN(test_save_order_any_ids);
    RUN(test_corrupt_blobs);
    RUN(test_allocation_failures);
    return harness_done();
}
