/*
 * test_records.c - state as records: keys and values as documented, commits whose
 * roots equal from-scratch roots after every step of random sequences over a
 * registry and a splitter, change sets that rebuild the same state from a store,
 * roots that depend only on the set of records, commits that fail with no memory and
 * change nothing, and loaders that refuse bad streams.
 */
#include "failalloc.h"
#include "harness.h"
#include "record_store.h"

#include <sodium.h>

#define N_NODES 6
#define N_DTORS 12

static opg_id op_id(unsigned n) { return id_n(n); }
static opg_id cons_key(unsigned n) { return cons_key_n(500 + n); }
static opg_id dtor_id(unsigned k) { return id_n(100 + k); }

typedef struct world {
    opg_registry *r;
    opg_splitter *s;
    record_store reg_store, spl_store;
    opg_height height;
    opg_time now;
    test_rng rng;
} world;

static int world_new(world *w, const opg_allocator *a)
{
    memset(w, 0, sizeof *w);
    opg_registry_params rp;
    opg_registry_params_init(&rp);
    opg_u256_from_u64(&rp.power_reduction, 1);
    rp.unbonding_time = 40;
    rp.max_validators = 4;
    rp.max_entries = 3;
    opg_u256 supply = u64v(1000000000);
    int rc = opg_registry_new(&w->r, &rp, &supply, a);
    if (rc)
        return rc;
    opg_splitter_params sp;
    opg_splitter_params_init(&sp);
    sp.emission = OPG_EMISSION_NONE;
    sp.community_tax = dec_of("0.02");
    if ((rc = opg_splitter_new(&w->s, w->r, &sp, a)) != OPG_OK)
        opg_registry_free(w->r);
    w->height = 1;
    w->now = 1000;
    return rc;
}

static void world_free(world *w)
{
    opg_splitter_free(w->s);
    opg_registry_free(w->r);
    store_free(&w->reg_store);
    store_free(&w->spl_store);
}

static int add_node(world *w, unsigned n, uint64_t self)
{
    opg_node_create c;
    memset(&c, 0, sizeof c);
    c.operator_id = op_id(n);
    c.consensus_key = cons_key(n);
    c.roles = OPG_ROLE_ALL;
    c.commission_rate = dec_of("0.1");
    c.commission_max_rate = dec_of("0.5");
    c.commission_max_change_rate = dec_of("0.1");
    c.min_self_delegation = u64v(1);
    c.self_delegation = u64v(self);
    return opg_registry_node_create(w->r, &c, w->height, w->now);
}

/* ------------------------------------------------------- keys and values */

static void put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/* A Dec as its 32 big-endian bytes: raw value = whole * 10^18. */
static void put_dec_whole(uint8_t *p, uint64_t whole)
{
    opg_dec d;
    opg_dec_from_u64(&d, whole);
    for (int limb = 0; limb < 4; limb++)
        put_be(p + 8 * (3 - limb), d.limb[limb], 8);
}

typedef struct find_ctx {
    const uint8_t *key;
    size_t key_len;
    uint8_t value[512];
    size_t value_len;
    int found;
} find_ctx;

static int find_sink(void *ctx, const opg_record *rec)
{
    find_ctx *f = ctx;
    if (rec->key_len == f->key_len && memcmp(rec->key, f->key, f->key_len) == 0) {
        memcpy(f->value, rec->value, rec->value_len);
        f->value_len = rec->value_len;
        f->found = 1;
    }
    return 0;
}

static void test_delegation_record_bytes(void)
{
    world w;
    CHECK_OK(world_new(&w, NULL));
    CHECK_OK(add_node(&w, 1, 100));
    opg_id d = dtor_id(1), op = op_id(1);
    opg_u256 amt = u64v(50);
    w.height = 7;
    CHECK_OK(opg_registry_delegate(NULL, w.r, &d, &op, &amt, w.height, w.now));
    uint8_t key[OPG_RECORD_KEY_MAX];
    size_t len;
    CHECK_OK(opg_registry_key_delegation(key, &len, &d, &op));
    /* tag 1, kind 3, delegator, operator */
    CHECK(len == 66 && key[0] == OPG_RECORDS_REGISTRY && key[1] == 3);
    CHECK(memcmp(key + 2, d.bytes, 32) == 0 && memcmp(key + 34, op.bytes, 32) == 0);
    find_ctx f = {key, len, {0}, 0, 0};
    CHECK_OK(opg_registry_records(w.r, find_sink, &f));
    CHECK(f.found);
    /* format 1; shares 50 (one share per token on a fresh node); F1 start: the period
     * the delegation's creation closed (the node starts in period 1, the
     * self-delegation closed it, this delegation closed period 2), height 7, stake 50 */
    uint8_t want[1 + 32 + 8 + 8 + 32];
    want[0] = 1;
    put_dec_whole(want + 1, 50);
    put_be(want + 33, 2, 8);
    put_be(want + 41, 7, 8);
    put_dec_whole(want + 49, 50);
    CHECK(f.value_len == sizeof want);
    CHECK(memcmp(f.value, want, sizeof want) == 0);
    world_free(&w);
}

static void test_node_key_and_kinds_in_order(void)
{
    world w;
    CHECK_OK(world_new(&w, NULL));
    CHECK_OK(add_node(&w, 2, 10));
    CHECK_OK(add_node(&w, 1, 10));
    record_store all;
    memset(&all, 0, sizeof all);
    CHECK_OK(opg_registry_records(w.r, store_sink, &all));
    /* params, ledger, 2 nodes, 2 self-delegations */
    CHECK(all.n == 6);
    CHECK(all.items[0].key_len == 2 && all.items[0].key[1] == 0);
    CHECK(all.items[1].key_len == 2 && all.items[1].key[1] == 1);
    opg_id one = op_id(1), two = op_id(2);
    uint8_t key[OPG_RECORD_KEY_MAX];
    size_t len;
    CHECK_OK(opg_registry_key_node(key, &len, &one));
    CHECK(all.items[2].key_len == len && memcmp(all.items[2].key, key, len) == 0);
    CHECK_OK(opg_registry_key_node(key, &len, &two));
    CHECK(all.items[3].key_len == len && memcmp(all.items[3].key, key, len) == 0);
    store_free(&all);
    world_free(&w);
}

/* ------------------------------------------------------------- commits */

/* Both handles' commits against from-scratch roots, change sets into the stores. */
static int commit_both(world *w, uint8_t reg_root[32], uint8_t spl_root[32])
{
    uint8_t want[32];
    const opg_record *ch;
    size_t n;
    if (opg_registry_root_from_scratch(want, w->r) || opg_registry_commit(reg_root, &ch, &n, w->r) ||
        memcmp(want, reg_root, 32) || store_apply(&w->reg_store, ch, n))
        return 0;
    if (opg_splitter_root_from_scratch(want, w->s) || opg_splitter_commit(spl_root, &ch, &n, w->s) ||
        memcmp(want, spl_root, 32) || store_apply(&w->spl_store, ch, n))
        return 0;
    return 1;
}

/* Both handles rebuilt from the stores: the same roots and state hashes. */
static int reload_matches(world *w, const uint8_t reg_root[32], const uint8_t spl_root[32])
{
    opg_registry *r2;
    opg_splitter *s2;
    store_rewind(&w->reg_store);
    store_rewind(&w->spl_store);
    if (opg_registry_load_records(&r2, store_next, &w->reg_store, reg_root, NULL) != OPG_OK)
        return 0;
    int ok = opg_splitter_load_records(&s2, r2, store_next, &w->spl_store, spl_root, NULL) == OPG_OK;
    if (ok) {
        uint8_t a[32], b[32];
        ok = opg_registry_state_hash(a, w->r) == OPG_OK && opg_registry_state_hash(b, r2) == OPG_OK &&
             memcmp(a, b, 32) == 0;
        ok = ok && opg_splitter_state_hash(a, w->s) == OPG_OK &&
             opg_splitter_state_hash(b, s2) == OPG_OK && memcmp(a, b, 32) == 0;
        opg_splitter_root(a, s2);
        ok = ok && memcmp(a, spl_root, 32) == 0;
        opg_splitter_free(s2);
    }
    opg_registry_free(r2);
    return ok;
}

static int random_op(world *w)
{
    test_rng *g = &w->rng;
    opg_id d = dtor_id((unsigned)rng_below(g, N_DTORS));
    opg_id op = op_id(1 + (unsigned)rng_below(g, N_NODES)), op2 = op_id(1 + (unsigned)rng_below(g, N_NODES));
    opg_u256 amt = u64v(1 + rng_below(g, 300));
    switch (rng_below(g, 11)) {
    case 0:
        return add_node(w, 1 + (unsigned)rng_below(g, N_NODES), 20 + rng_below(g, 100));
    case 1:
    case 2:
        return opg_registry_delegate(NULL, w->r, &d, &op, &amt, w->height, w->now);
    case 3:
        return opg_registry_undelegate(NULL, NULL, w->r, &d, &op, &amt, w->height, w->now);
    case 4:
        return opg_registry_redelegate(NULL, w->r, &d, &op, &op2, &amt, w->height, w->now);
    case 5: {
        opg_u256 back = u64v(1 + rng_below(g, 50));
        return opg_registry_cancel_unbonding(w->r, &d, &op, w->height - rng_below(g, 3), &back,
                                             w->height, w->now);
    }
    case 6: {
        opg_dec f = dec_of(rng_below(g, 2) ? "0.05" : "0.5");
        return opg_registry_slash(NULL, w->r, &op, w->height - rng_below(g, 4), 100, &f,
                                  w->height, w->now);
    }
    case 7: {
        opg_u256 fees = u64v(1000 + rng_below(g, 100000));
        opg_commit_vote v[N_NODES];
        size_t n = 0;
        for (unsigned i = 1; i <= N_NODES; i++) {
            opg_node_info ni;
            opg_id o = op_id(i);
            if (opg_registry_node_get(&ni, w->r, &o) == OPG_OK && ni.power) {
                v[n].consensus_key = ni.consensus_key;
                v[n].power = ni.power;
                v[n++].score = dec_of("1");
            }
        }
        int rc = opg_splitter_add_fees(w->s, &fees);
        return rc ? rc : opg_splitter_allocate(w->s, v, n, w->height, w->now);
    }
    case 8:
        return opg_splitter_withdraw_rewards(NULL, w->s, &d, &op, w->height, w->now);
    case 9:
        return opg_splitter_withdraw_commission(NULL, w->s, &op);
    default: {
        int rc = opg_registry_end_block(w->r, w->height, w->now);
        w->height++;
        w->now += 5;
        return rc;
    }
    }
}

static void run_sequence(uint64_t seed, unsigned steps)
{
    world w;
    CHECK_OK(world_new(&w, NULL));
    w.rng.s = seed;
    for (unsigned i = 1; i <= 3; i++)
        CHECK_OK(add_node(&w, i, 100));
    unsigned ok = 0;
    for (unsigned step = 0; step < steps; step++) {
        uint8_t rr[32], sr[32];
        ok += random_op(&w) == OPG_OK;
        if (!commit_both(&w, rr, sr)) {
            printf("  commit differs from scratch at step %u (seed %" PRIu64 ")\n", step, seed);
            CHECK(0);
        }
        if (step % 25 == 0 && !reload_matches(&w, rr, sr)) {
            printf("  reload differs at step %u (seed %" PRIu64 ")\n", step, seed);
            CHECK(0);
        }
    }
    CHECK(ok > steps / 4); /* the sequence did things */
    CHECK_OK(opg_splitter_check(w.s));
    world_free(&w);
}

static void test_random_sequences(void)
{
    run_sequence(11, 3000);
    run_sequence(2026, 3000);
}

/* The same records by two routes: the same roots, whatever the order of independent
 * operations and the commits between them. */
static void test_root_depends_only_on_records(void)
{
    world a, b;
    CHECK_OK(world_new(&a, NULL));
    CHECK_OK(world_new(&b, NULL));
    uint8_t ra[32], rb[32], sa[32], sb[32];
    CHECK_OK(add_node(&a, 1, 100));
    CHECK_OK(add_node(&a, 2, 100));
    CHECK(commit_both(&a, ra, sa));
    CHECK_OK(add_node(&b, 2, 100));
    CHECK(commit_both(&b, rb, sb));
    CHECK_OK(add_node(&b, 1, 100));
    opg_id d1 = dtor_id(1), d2 = dtor_id(2), n1 = op_id(1), n2 = op_id(2);
    opg_u256 x = u64v(30), y = u64v(40);
    CHECK_OK(opg_registry_delegate(NULL, a.r, &d1, &n1, &x, 1, 1000));
    CHECK_OK(opg_registry_delegate(NULL, a.r, &d2, &n2, &y, 1, 1000));
    CHECK_OK(opg_registry_delegate(NULL, b.r, &d2, &n2, &y, 1, 1000));
    CHECK(commit_both(&b, rb, sb));
    CHECK_OK(opg_registry_delegate(NULL, b.r, &d1, &n1, &x, 1, 1000));
    CHECK(commit_both(&a, ra, sa));
    CHECK(commit_both(&b, rb, sb));
    CHECK(memcmp(ra, rb, 32) == 0);
    CHECK(memcmp(sa, sb, 32) == 0);
    /* and a different set, a different root */
    opg_u256 one = u64v(1);
    CHECK_OK(opg_registry_delegate(NULL, b.r, &d1, &n1, &one, 1, 1000));
    CHECK(commit_both(&b, rb, sb));
    CHECK(memcmp(ra, rb, 32) != 0);
    world_free(&a);
    world_free(&b);
}

static size_t count_records(opg_registry *r)
{
    record_store all;
    memset(&all, 0, sizeof all);
    if (opg_registry_records(r, store_sink, &all) != OPG_OK)
        return 0;
    size_t n = all.n;
    store_free(&all);
    return n;
}

static void test_first_commit_puts_everything(void)
{
    world w;
    CHECK_OK(world_new(&w, NULL));
    CHECK_OK(add_node(&w, 1, 100));
    CHECK_OK(add_node(&w, 2, 100));
    uint8_t before[32], root[32], zero[32] = {0};
    opg_registry_root(before, w.r);
    CHECK(memcmp(before, zero, 32) == 0);
    const opg_record *ch;
    size_t n;
    CHECK_OK(opg_registry_commit(root, &ch, &n, w.r));
    CHECK(n == count_records(w.r));
    for (size_t i = 0; i < n; i++)
        CHECK(ch[i].present && ch[i].value);
    /* nothing changed since: an empty change set, the same root */
    uint8_t again[32];
    CHECK_OK(opg_registry_commit(again, &ch, &n, w.r));
    CHECK(n == 0 && memcmp(again, root, 32) == 0);
    /* one delegation: its record, its node's, the ledger is as it was (no entry) */
    opg_id d = dtor_id(1), op = op_id(1);
    opg_u256 amt = u64v(5);
    CHECK_OK(opg_registry_delegate(NULL, w.r, &d, &op, &amt, 1, 1000));
    CHECK_OK(opg_registry_commit(again, &ch, &n, w.r));
    CHECK(n == 2);
    CHECK(ch[0].key[1] == 2 && ch[1].key[1] == 3); /* node, then delegation: key order */
    world_free(&w);
}

static void test_commit_without_memory_changes_nothing(void)
{
    for (unsigned long fail = 1;; fail++) {
        failalloc fa;
        failalloc_init(&fa, 0);
        opg_allocator a = failalloc_allocator(&fa);
        world w;
        CHECK_OK(world_new(&w, &a));
        CHECK_OK(add_node(&w, 1, 100));
        uint8_t r0[32], s0[32];
        CHECK(commit_both(&w, r0, s0));
        opg_id d = dtor_id(1), op = op_id(1);
        opg_u256 amt = u64v(25);
        CHECK_OK(opg_registry_delegate(NULL, w.r, &d, &op, &amt, 2, 1010));
        fa.fail_at = fa.calls + fail;
        uint8_t root[32], after[32];
        const opg_record *ch;
        size_t n;
        int rc = opg_registry_commit(root, &ch, &n, w.r);
        fa.fail_at = 0;
        if (rc == OPG_OK) {
            world_free(&w);
            CHECK(fa.live_bytes == 0);
            break;
        }
        CHECK_RC(rc, OPG_ENOMEM);
        opg_registry_root(after, w.r);
        CHECK(memcmp(after, r0, 32) == 0);
        /* the touches survived: the next commit carries the delegation */
        uint8_t want[32];
        CHECK_OK(opg_registry_root_from_scratch(want, w.r));
        CHECK_OK(opg_registry_commit(root, &ch, &n, w.r));
        CHECK(memcmp(root, want, 32) == 0);
        world_free(&w);
        CHECK(fa.live_bytes == 0);
    }
}

/* ------------------------------------------------------------- loaders */

static int load_store(record_store *st, const uint8_t *root)
{
    opg_registry *r;
    store_rewind(st);
    int rc = opg_registry_load_records(&r, store_next, st, root, NULL);
    if (rc == OPG_OK)
        opg_registry_free(r);
    return rc;
}

static void test_load_refuses_bad_streams(void)
{
    world w;
    CHECK_OK(world_new(&w, NULL));
    CHECK_OK(add_node(&w, 1, 100));
    CHECK_OK(add_node(&w, 2, 100));
    uint8_t rr[32], sr[32];
    CHECK(commit_both(&w, rr, sr));
    record_store *st = &w.reg_store;
    CHECK_OK(load_store(st, rr));
    uint8_t other[32];
    memcpy(other, rr, 32);
    other[5] ^= 1;
    CHECK_RC(load_store(st, other), OPG_ECORRUPT); /* not the stored root */

    /* a value one byte short, then a flipped format byte */
    stored_record *node = &st->items[2];
    node->value_len--;
    CHECK_RC(load_store(st, NULL), OPG_ECORRUPT);
    node->value_len++;
    node->value[0] = 2;
    CHECK_RC(load_store(st, NULL), OPG_ECORRUPT);
    node->value[0] = 1;
    /* records out of key order */
    stored_record t = st->items[2];
    st->items[2] = st->items[3];
    st->items[3] = t;
    CHECK_RC(load_store(st, NULL), OPG_ECORRUPT);
    st->items[3] = st->items[2];
    st->items[2] = t;
    /* a delegation whose node is missing: drop node 1's record */
    stored_record saved = st->items[2];
    memmove(&st->items[2], &st->items[3], (st->n - 3) * sizeof *st->items);
    st->n--;
    CHECK_RC(load_store(st, NULL), OPG_ECORRUPT);
    memmove(&st->items[3], &st->items[2], (st->n - 2) * sizeof *st->items);
    st->items[2] = saved;
    st->n++;
    CHECK_OK(load_store(st, rr));
    /* no params record */
    stored_record p0 = st->items[0];
    memmove(&st->items[0], &st->items[1], (st->n - 1) * sizeof *st->items);
    st->n--;
    CHECK_RC(load_store(st, NULL), OPG_ECORRUPT);
    memmove(&st->items[1], &st->items[0], st->n * sizeof *st->items);
    st->items[0] = p0;
    st->n++;
    CHECK_OK(load_store(st, rr));
    world_free(&w);
}

/* The app root by its definition: BLAKE2b-256 "opg.app" over tag || root, in order. */
static void test_app_root(void)
{
    opg_handle_root hr[2];
    hr[0].tag = OPG_RECORDS_REGISTRY;
    hr[1].tag = OPG_RECORDS_SPLITTER;
    for (int i = 0; i < 32; i++) {
        hr[0].root[i] = (uint8_t)i;
        hr[1].root[i] = (uint8_t)(0xA0 + i);
    }
    uint8_t in[66], pers[16] = "opg.app", want[32], got[32];
    in[0] = 1;
    memcpy(in + 1, hr[0].root, 32);
    in[33] = 3;
    memcpy(in + 34, hr[1].root, 32);
    crypto_generichash_blake2b_salt_personal(want, 32, in, sizeof in, NULL, 0, NULL, pers);
    CHECK_OK(opg_app_root(got, hr, 2));
    CHECK(memcmp(got, want, 32) == 0);
    /* out of order, repeated or zero tags are refused */
    opg_handle_root swapped[2] = {hr[1], hr[0]};
    CHECK_RC(opg_app_root(got, swapped, 2), OPG_EINVAL);
    opg_handle_root twice[2] = {hr[0], hr[0]};
    CHECK_RC(opg_app_root(got, twice, 2), OPG_EINVAL);
    hr[0].tag = 0;
    CHECK_RC(opg_app_root(got, hr, 1), OPG_EINVAL);
    /* no handles: the hash of nothing */
    crypto_generichash_blake2b_salt_personal(want, 32, NULL, 0, NULL, 0, NULL, pers);
    CHECK_OK(opg_app_root(got, NULL, 0));
    CHECK(memcmp(got, want, 32) == 0);
}

/* A delegation proved against the registry's root, and the root against the app
 * root: what a light client checks. */
static void test_light_client_checks_a_delegation(void)
{
    world w;
    CHECK_OK(world_new(&w, NULL));
    for (unsigned i = 1; i <= 3; i++)
        CHECK_OK(add_node(&w, i, 100));
    opg_id d = dtor_id(4), op = op_id(2), absent = dtor_id(5);
    opg_u256 amt = u64v(77);
    CHECK_OK(opg_registry_delegate(NULL, w.r, &d, &op, &amt, 1, 1000));
    uint8_t rr[32], sr[32];
    CHECK(commit_both(&w, rr, sr));
    uint8_t key[OPG_RECORD_KEY_MAX], proof[OPG_PROOF_MAX_BYTES];
    size_t key_len, proof_len;
    CHECK_OK(opg_registry_key_delegation(key, &key_len, &d, &op));
    CHECK_OK(opg_registry_prove(proof, sizeof proof, &proof_len, w.r, key, key_len));
    int found;
    size_t at = store_find(&w.reg_store, key, key_len, &found);
    CHECK(found);
    const stored_record *rec = &w.reg_store.items[at];
    CHECK_OK(opg_proof_verify(rr, key, key_len, rec->value, rec->value_len, 1, proof, proof_len));
    CHECK_RC(opg_proof_verify(rr, key, key_len, NULL, 0, 0, proof, proof_len), OPG_EPROOF);
    /* the app root the host would put in its header, from both roots */
    opg_handle_root hr[2] = {{OPG_RECORDS_REGISTRY, {0}}, {OPG_RECORDS_SPLITTER, {0}}};
    memcpy(hr[0].root, rr, 32);
    memcpy(hr[1].root, sr, 32);
    uint8_t app[32];
    CHECK_OK(opg_app_root(app, hr, 2));
    /* a delegation that does not exist is proved absent */
    CHECK_OK(opg_registry_key_delegation(key, &key_len, &absent, &op));
    CHECK_OK(opg_registry_prove(proof, sizeof proof, &proof_len, w.r, key, key_len));
    CHECK_OK(opg_proof_verify(rr, key, key_len, NULL, 0, 0, proof, proof_len));
    world_free(&w);
}

int main(void)
{
    RUN(test_app_root);
    RUN(test_light_client_checks_a_delegation);
    RUN(test_delegation_record_bytes);
    RUN(test_node_key_and_kinds_in_order);
    RUN(test_first_commit_puts_everything);
    RUN(test_root_depends_only_on_records);
    RUN(test_commit_without_memory_changes_nothing);
    RUN(test_load_refuses_bad_streams);
    RUN(test_random_sequences);
    return harness_done();
}
