/*
 * test_merkle.c - the incremental Merkle tree (lib/merkle.c) and the proof verifier
 * (lib/proof.c) against the spec in include/opg_proof.h.
 *
 * Expected roots are computed here from the spec with libsodium directly (small
 * trees by hand, larger ones by a plain recursive reference over a sorted array),
 * never through the tree's code.
 */
#include "harness.h"

#include "failalloc.h"
#include "merkle.h"

#include <sodium.h>

/* ------------------------------------------------------- spec, by hand */

static void H(uint8_t out[32], const void *in, size_t len, const char *pers)
{
    unsigned char p[16] = {0};
    memcpy(p, pers, strlen(pers));
    crypto_generichash_blake2b_salt_personal(out, 32, in, len, NULL, 0, NULL, p);
}

static void spec_key(uint8_t out[32], const char *key) { H(out, key, strlen(key), "opg.merkle.key"); }

static void spec_leaf(uint8_t out[32], const char *key, const char *value)
{
    uint8_t in[64];
    spec_key(in, key);
    H(in + 32, value, strlen(value), "opg.merkle.val");
    H(out, in, 64, "opg.merkle.leaf");
}

static void spec_value(uint8_t out[32], const char *value)
{
    H(out, value, strlen(value), "opg.merkle.val");
}

/* The leaf of the record (key, value), from the key's text. */
static void spec_leaf_of(uint8_t out[32], const uint8_t kh[32], const char *value)
{
    uint8_t in[64];
    memcpy(in, kh, 32);
    spec_value(in + 32, value);
    H(out, in, 64, "opg.merkle.leaf");
}

static void spec_inner(uint8_t out[32], const uint8_t l[32], const uint8_t r[32])
{
    uint8_t in[64];
    memcpy(in, l, 32);
    memcpy(in + 32, r, 32);
    H(out, in, 64, "opg.merkle.node");
}

static int kbit(const uint8_t kh[32], unsigned i) { return (kh[i / 8] >> (7 - i % 8)) & 1; }

/* The first bit where two key hashes differ. */
static unsigned first_diff(const uint8_t a[32], const uint8_t b[32])
{
    unsigned i = 0;
    while (i < 256 && kbit(a, i) == kbit(b, i))
        i++;
    return i;
}

typedef struct item {
    uint8_t kh[32], lh[32];
} item;

static int item_cmp(const void *a, const void *b) { return memcmp(a, b, 32); }

/* The spec's recursion over items sorted by key hash, all sharing `depth` bits. */
static void ref_hash(uint8_t out[32], const item *it, size_t n, unsigned depth)
{
    if (n == 0) {
        memset(out, 0, 32);
        return;
    }
    if (n == 1) {
        memcpy(out, it[0].lh, 32);
        return;
    }
    size_t k = 0;
    while (k < n && !kbit(it[k].kh, depth))
        k++;
    uint8_t l[32], r[32];
    ref_hash(l, it, k, depth + 1);
    ref_hash(r, it + k, n - k, depth + 1);
    spec_inner(out, l, r);
}

/* ------------------------------------------------------------- helpers */

static void change(opgi_merkle_change *c, const char *key, const char *value)
{
    spec_key(c->key_hash, key);
    c->present = value != NULL;
    memset(c->value_hash, 0, 32);
    if (value)
        spec_value(c->value_hash, value);
}

static int put1(opgi_merkle *t, const char *key, const char *value)
{
    opgi_merkle_change c;
    change(&c, key, value);
    return opgi_merkle_apply(t, &c, 1);
}

/* Keys "k<i>": find a pair (and a third) by where their hashes first differ. */
static void key_name(char *buf, unsigned i) { snprintf(buf, 16, "k%u", i); }

static const uint8_t ZERO32[32];

/* -------------------------------------------------------- small trees */

static void test_hash_functions(void)
{
    uint8_t a[32], b[32];
    opgi_merkle_key_hash(a, (const uint8_t *)"abc", 3);
    spec_key(b, "abc");
    CHECK(memcmp(a, b, 32) == 0);
    uint8_t kh[32];
    spec_key(kh, "abc");
    opgi_merkle_leaf_hash(a, kh, (const uint8_t *)"xyz", 3);
    spec_leaf(b, "abc", "xyz");
    CHECK(memcmp(a, b, 32) == 0);
    /* personalisations differ: the same bytes hash differently per kind */
    uint8_t v[32];
    opgi_merkle_value_hash(v, (const uint8_t *)"abc", 3);
    CHECK(memcmp(v, kh, 32) != 0);
    CHECK(opg_proof_max_bytes() == OPG_PROOF_MAX_BYTES);
    CHECK(OPG_PROOF_MAX_BYTES == 1 + 2 + 32 + 256 * 32 + 64);
    CHECK(strcmp(opg_errname(OPG_EPROOF), "EPROOF") == 0);
}

static void test_empty_and_one(void)
{
    opgi_merkle *t;
    CHECK_OK(opgi_merkle_new(&t, NULL));
    uint8_t r[32], want[32];
    opgi_merkle_root(t, r);
    CHECK(memcmp(r, ZERO32, 32) == 0);
    CHECK(opgi_merkle_count(t) == 0);
    CHECK_OK(put1(t, "alpha", "1"));
    opgi_merkle_root(t, r);
    spec_leaf(want, "alpha", "1");
    CHECK(memcmp(r, want, 32) == 0);
    CHECK(opgi_merkle_count(t) == 1);
    /* update, then delete down to empty; deleting an absent key is a no-op */
    CHECK_OK(put1(t, "alpha", "2"));
    opgi_merkle_root(t, r);
    spec_leaf(want, "alpha", "2");
    CHECK(memcmp(r, want, 32) == 0);
    CHECK_OK(put1(t, "beta", NULL));
    opgi_merkle_root(t, r);
    CHECK(memcmp(r, want, 32) == 0 && opgi_merkle_count(t) == 1);
    CHECK_OK(put1(t, "alpha", NULL));
    opgi_merkle_root(t, r);
    CHECK(memcmp(r, ZERO32, 32) == 0 && opgi_merkle_count(t) == 0);
    opgi_merkle_free(t);
}

static void test_two_and_three(void)
{
    /* a, b differ first at bit 0; c shares 3 bits with a (differs at bit 3) */
    char ka[16], kb[16], kc[16], kd[16];
    uint8_t ha[32], hb[32], hc[32], hd[32];
    key_name(ka, 0);
    spec_key(ha, ka);
    unsigned i = 1;
    for (;; i++) {
        key_name(kb, i);
        spec_key(hb, kb);
        if (first_diff(ha, hb) == 0)
            break;
    }
    for (i = 1;; i++) {
        key_name(kc, i);
        spec_key(hc, kc);
        if (first_diff(ha, hc) == 3)
            break;
    }
    /* d shares exactly 3 bits with a and c, differing from c at bit 4? take one
     * that differs from both at bit 3 is impossible (binary); use bit 5 with c */
    for (i = 1;; i++) {
        key_name(kd, i);
        spec_key(hd, kd);
        if (first_diff(hc, hd) == 5 && first_diff(ha, hd) == 3)
            break;
    }
    uint8_t la[32], lb[32], lc[32], ld[32];
    spec_leaf(la, ka, "A");
    spec_leaf(lb, kb, "B");
    spec_leaf(lc, kc, "C");
    spec_leaf(ld, kd, "D");

    opgi_merkle *t;
    CHECK_OK(opgi_merkle_new(&t, NULL));
    uint8_t r[32], want[32], x[32], y[32];
    /* two records split at the root */
    CHECK_OK(put1(t, ka, "A"));
    CHECK_OK(put1(t, kb, "B"));
    if (kbit(ha, 0) == 0)
        spec_inner(want, la, lb);
    else
        spec_inner(want, lb, la);
    opgi_merkle_root(t, r);
    CHECK(memcmp(r, want, 32) == 0);
    CHECK_OK(put1(t, kb, NULL));

    /* a and c share bits 0..2: three inner levels with an EMPTY side */
    CHECK_OK(put1(t, kc, "C"));
    if (kbit(ha, 3) == 0)
        spec_inner(x, la, lc);
    else
        spec_inner(x, lc, la);
    for (int d = 2; d >= 0; d--) {
        if (kbit(ha, (unsigned)d) == 0)
            spec_inner(y, x, ZERO32);
        else
            spec_inner(y, ZERO32, x);
        memcpy(x, y, 32);
    }
    opgi_merkle_root(t, r);
    CHECK(memcmp(r, x, 32) == 0);

    /* three records: a | (c, d split at bit 5 below a shared bit 3, 4) */
    CHECK_OK(put1(t, kd, "D"));
    uint8_t cd[32];
    if (kbit(hc, 5) == 0)
        spec_inner(cd, lc, ld);
    else
        spec_inner(cd, ld, lc);
    /* c and d share bit 4: one level with an EMPTY side */
    if (kbit(hc, 4) == 0)
        spec_inner(y, cd, ZERO32);
    else
        spec_inner(y, ZERO32, cd);
    if (kbit(ha, 3) == 0)
        spec_inner(x, la, y);
    else
        spec_inner(x, y, la);
    for (int d = 2; d >= 0; d--) {
        if (kbit(ha, (unsigned)d) == 0)
            spec_inner(y, x, ZERO32);
        else
            spec_inner(y, ZERO32, x);
        memcpy(x, y, 32);
    }
    opgi_merkle_root(t, r);
    CHECK(memcmp(r, x, 32) == 0);
    CHECK(opgi_merkle_count(t) == 3);
    uint8_t got[32];
    CHECK_OK(opgi_merkle_get(t, hd, got)); /* the value hash */
    uint8_t vd[32];
    spec_value(vd, "D");
    CHECK(memcmp(got, vd, 32) == 0);
    CHECK_RC(opgi_merkle_get(t, hb, got), OPG_ENOTFOUND);

    /* deleting c leaves a and d: d's leaf rises to depth 4 (shares 3 bits with a) */
    CHECK_OK(put1(t, kc, NULL));
    if (kbit(ha, 3) == 0)
        spec_inner(x, la, ld);
    else
        spec_inner(x, ld, la);
    for (int d = 2; d >= 0; d--) {
        if (kbit(ha, (unsigned)d) == 0)
            spec_inner(y, x, ZERO32);
        else
            spec_inner(y, ZERO32, x);
        memcpy(x, y, 32);
    }
    opgi_merkle_root(t, r);
    CHECK(memcmp(r, x, 32) == 0);
    opgi_merkle_free(t);
}

/* The example in opg_proof.h: two records split at bit 0. */
static void test_proof_example(void)
{
    char ka[16], kb[16];
    uint8_t ha[32], hb[32];
    unsigned i = 0;
    for (;; i++) {
        key_name(ka, i);
        spec_key(ha, ka);
        if (kbit(ha, 0) == 0)
            break;
    }
    for (i = 0;; i++) {
        key_name(kb, i);
        spec_key(hb, kb);
        if (kbit(hb, 0) == 1)
            break;
    }
    opgi_merkle *t;
    CHECK_OK(opgi_merkle_new(&t, NULL));
    CHECK_OK(put1(t, ka, "A"));
    CHECK_OK(put1(t, kb, "B"));
    uint8_t buf[64], lb[32], r[32];
    size_t len = 0;
    CHECK_OK(opgi_merkle_prove(t, ha, buf, sizeof buf, &len));
    spec_leaf(lb, kb, "B");
    CHECK(len == 36 && buf[0] == 1 && buf[1] == 0 && buf[2] == 1 && buf[3] == 0x80);
    CHECK(memcmp(buf + 4, lb, 32) == 0);
    opgi_merkle_root(t, r);
    CHECK_OK(opg_proof_verify(r, (const uint8_t *)ka, strlen(ka), (const uint8_t *)"A", 1, 1, buf,
                              len));
    CHECK_RC(opgi_merkle_prove(t, ha, buf, 35, &len), OPG_EBUFS);
    CHECK(len == 36);
    opgi_merkle_free(t);
}

/* ------------------------------------------------ a model and the tree */

#define MODEL_KEYS 700

typedef struct model {
    uint8_t kh[MODEL_KEYS][32];
    char key[MODEL_KEYS][16];
    unsigned ver[MODEL_KEYS]; /* 0: absent */
} model;

static void model_init(model *m)
{
    for (unsigned i = 0; i < MODEL_KEYS; i++) {
        key_name(m->key[i], i);
        spec_key(m->kh[i], m->key[i]);
        m->ver[i] = 0;
    }
}

static void value_of(char *buf, unsigned id, unsigned ver) { snprintf(buf, 32, "v%u.%u", id, ver); }

static void model_root(const model *m, uint8_t out[32])
{
    static item it[MODEL_KEYS];
    size_t n = 0;
    for (unsigned i = 0; i < MODEL_KEYS; i++)
        if (m->ver[i]) {
            char v[32];
            value_of(v, i, m->ver[i]);
            memcpy(it[n].kh, m->kh[i], 32);
            spec_leaf(it[n].lh, m->key[i], v);
            n++;
        }
    qsort(it, n, sizeof *it, item_cmp);
    ref_hash(out, it, n, 0);
}

static size_t model_count(const model *m)
{
    size_t n = 0;
    for (unsigned i = 0; i < MODEL_KEYS; i++)
        n += m->ver[i] != 0;
    return n;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A random batch of distinct keys (of the first `span` keys) into c; updates m to the
 * state after it. Returns the batch size. */
static size_t random_batch(model *m, opgi_merkle_change *c, size_t max, unsigned span,
                           unsigned del_pct)
{
    static unsigned char in_batch[MODEL_KEYS];
    memset(in_batch, 0, sizeof in_batch);
    size_t n = 1 + rnd() % max;
    size_t k = 0;
    for (size_t j = 0; j < n; j++) {
        unsigned id = (unsigned)(rnd() % span);
        if (in_batch[id])
            continue;
        in_batch[id] = 1;
        memcpy(c[k].key_hash, m->kh[id], 32);
        if (rnd() % 100 < del_pct) {
            c[k].present = 0;
            memset(c[k].value_hash, 0xee, 32); /* must not be read */
            m->ver[id] = 0;
        } else {
            m->ver[id]++;
            char v[32];
            value_of(v, id, m->ver[id]);
            c[k].present = 1;
            spec_value(c[k].value_hash, v);
        }
        k++;
    }
    return k;
}

/* Every key's proof verifies for the truth and fails for the opposite claim. */
static int check_all_proofs(const opgi_merkle *t, const model *m, const uint8_t root[32])
{
    uint8_t buf[OPG_PROOF_MAX_BYTES];
    for (unsigned i = 0; i < MODEL_KEYS; i++) {
        size_t len = 0;
        if (opgi_merkle_prove(t, m->kh[i], buf, sizeof buf, &len) != OPG_OK)
            return 0;
        const uint8_t *k = (const uint8_t *)m->key[i];
        size_t kl = strlen(m->key[i]);
        char v[32];
        value_of(v, i, m->ver[i] ? m->ver[i] : 1);
        int present = m->ver[i] != 0;
        if (opg_proof_verify(root, k, kl, (const uint8_t *)v, strlen(v), present, buf, len) !=
            OPG_OK)
            return 0;
        if (opg_proof_verify(root, k, kl, (const uint8_t *)v, strlen(v), !present, buf, len) !=
            OPG_EPROOF)
            return 0;
    }
    return 1;
}

static void test_random_against_reference(void)
{
    static model m;
    model_init(&m);
    opgi_merkle *t;
    CHECK_OK(opgi_merkle_new(&t, NULL));
    static opgi_merkle_change c[200];
    for (int round = 0; round < 400; round++) {
        /* phases: grow, churn, shrink to empty, small key spans for deep sharing */
        unsigned del = round < 100 ? 10 : round < 250 ? 45 : round < 330 ? 90 : 40;
        unsigned span = round >= 330 ? 40 : MODEL_KEYS;
        size_t n = random_batch(&m, c, round % 7 == 0 ? 200 : 30, span, del);
        CHECK_OK(opgi_merkle_apply(t, c, n));
        uint8_t r[32], want[32];
        opgi_merkle_root(t, r);
        model_root(&m, want);
        CHECK(memcmp(r, want, 32) == 0);
        CHECK(opgi_merkle_count(t) == model_count(&m));
        if (round == 329) {
            /* delete everything left: the tree is empty again */
            size_t k = 0;
            for (unsigned i = 0; i < MODEL_KEYS; i++)
                if (m.ver[i]) {
                    memcpy(c[k].key_hash, m.kh[i], 32);
                    c[k].present = 0;
                    m.ver[i] = 0;
                    if (++k == 200) {
                        CHECK_OK(opgi_merkle_apply(t, c, k));
                        k = 0;
                    }
                }
            CHECK_OK(opgi_merkle_apply(t, c, k));
            opgi_merkle_root(t, r);
            CHECK(memcmp(r, ZERO32, 32) == 0 && opgi_merkle_count(t) == 0);
        }
        if (round % 50 == 0 || round == 329)
            CHECK(check_all_proofs(t, &m, r));
    }
    opgi_merkle_free(t);
}

/* The same final set through different orders and batchings gives the same root. */
static void test_order_independence(void)
{
    static model m;
    model_init(&m);
    enum { K = 500 };
    static opgi_merkle_change all[K];
    for (unsigned i = 0; i < K; i++) {
        char v[32];
        value_of(v, i, 1);
        memcpy(all[i].key_hash, m.kh[i], 32);
        all[i].present = 1;
        spec_value(all[i].value_hash, v);
    }
    uint8_t roots[4][32];
    for (int way = 0; way < 4; way++) {
        opgi_merkle *t;
        CHECK_OK(opgi_merkle_new(&t, NULL));
        static opgi_merkle_change c[K + 100];
        if (way == 0) { /* one batch */
            memcpy(c, all, sizeof all);
            CHECK_OK(opgi_merkle_apply(t, c, K));
        } else if (way == 1) { /* one at a time, backwards */
            for (unsigned i = K; i-- > 0;) {
                c[0] = all[i];
                CHECK_OK(opgi_merkle_apply(t, c, 1));
            }
        } else if (way == 2) { /* batches of 37, with junk inserted and removed */
            for (unsigned i = 0; i < K; i += 37) {
                unsigned n = i + 37 <= K ? 37 : K - i;
                memcpy(c, all + i, n * sizeof *c);
                CHECK_OK(opgi_merkle_apply(t, c, n));
                for (unsigned j = 0; j < n; j++) { /* wrong values first... */
                    c[j] = all[i + j];
                    c[j].value_hash[0] ^= 1;
                }
                CHECK_OK(opgi_merkle_apply(t, c, n));
            }
            for (unsigned i = 0; i < 100; i++) { /* ... and extra keys */
                change(&c[i], m.key[K + i], "x");
            }
            CHECK_OK(opgi_merkle_apply(t, c, 100));
            for (unsigned i = 0; i < 100; i++)
                change(&c[i], m.key[K + i], NULL);
            memcpy(c + 100, all, sizeof all); /* ... fixed in the same batch as deletes */
            CHECK_OK(opgi_merkle_apply(t, c, 100 + K));
        } else { /* everything, then delete half, then put it back shuffled */
            memcpy(c, all, sizeof all);
            CHECK_OK(opgi_merkle_apply(t, c, K));
            for (unsigned i = 0; i < K / 2; i++) {
                c[i] = all[2 * i];
                c[i].present = 0;
            }
            CHECK_OK(opgi_merkle_apply(t, c, K / 2));
            for (unsigned i = 0; i < K / 2; i++)
                c[i] = all[2 * ((i * 7919u) % (K / 2))];
            CHECK_OK(opgi_merkle_apply(t, c, K / 2));
        }
        CHECK(opgi_merkle_count(t) == K);
        opgi_merkle_root(t, roots[way]);
        opgi_merkle_free(t);
    }
    static item it[K];
    for (unsigned i = 0; i < K; i++) {
        char v[32];
        value_of(v, i, 1);
        memcpy(it[i].kh, all[i].key_hash, 32);
        spec_leaf_of(it[i].lh, all[i].key_hash, v);
    }
    qsort(it, K, sizeof *it, item_cmp);
    uint8_t want[32];
    ref_hash(want, it, K, 0);
    for (int way = 0; way < 4; way++)
        CHECK(memcmp(roots[way], want, 32) == 0);
}

static void test_duplicates_and_args(void)
{
    opgi_merkle *t;
    CHECK_OK(opgi_merkle_new(&t, NULL));
    CHECK_OK(put1(t, "a", "1"));
    uint8_t before[32], r[32];
    opgi_merkle_root(t, before);
    opgi_merkle_change c[3];
    change(&c[0], "b", "2");
    change(&c[1], "c", "3");
    change(&c[2], "b", NULL);
    CHECK_RC(opgi_merkle_apply(t, c, 3), OPG_EINVAL);
    opgi_merkle_root(t, r);
    CHECK(memcmp(r, before, 32) == 0 && opgi_merkle_count(t) == 1);
    change(&c[0], "b", "2");
    c[0].present = 2;
    CHECK_RC(opgi_merkle_apply(t, c, 1), OPG_EINVAL);
    CHECK_RC(opgi_merkle_apply(t, NULL, 1), OPG_EINVAL);
    CHECK_OK(opgi_merkle_apply(t, NULL, 0));
    opgi_merkle_root(t, r);
    CHECK(memcmp(r, before, 32) == 0 && opgi_merkle_count(t) == 1);
    /* an exclusion ending at another record: the tree holds its value hash */
    uint8_t kh[32], buf[OPG_PROOF_MAX_BYTES];
    size_t len;
    spec_key(kh, "zz");
    CHECK_OK(opgi_merkle_prove(t, kh, buf, sizeof buf, &len));
    CHECK(len == 3 + 64); /* one record: the path ends at the root, at the other record */
    CHECK_OK(opg_proof_verify(r, (const uint8_t *)"zz", 2, NULL, 0, 0, buf, len));
    opgi_merkle_free(t);
    opgi_merkle_free(NULL);
}

/* ------------------------------------------------------------ tampering */

static int verify_rc(const uint8_t root[32], const char *key, const char *value, int present,
                     const uint8_t *proof, size_t len)
{
    return opg_proof_verify(root, (const uint8_t *)key, strlen(key), (const uint8_t *)value,
                            value ? strlen(value) : 0, present, proof, len);
}

/* Every byte flipped (each bit), truncated and extended: refused. */
static int tamper_refused(const uint8_t root[32], const char *key, const char *value,
                          int present, const uint8_t *proof, size_t len)
{
    static uint8_t p[OPG_PROOF_MAX_BYTES + 8];
    for (size_t i = 0; i < len; i++)
        for (int b = 0; b < 8; b++) {
            memcpy(p, proof, len);
            p[i] ^= (uint8_t)(1u << b);
            if (verify_rc(root, key, value, present, p, len) != OPG_EPROOF)
                return 0;
        }
    memcpy(p, proof, len);
    for (size_t cut = 0; cut < len; cut++)
        if (verify_rc(root, key, value, present, p, cut) != OPG_EPROOF)
            return 0;
    for (size_t extra = 1; extra <= 64; extra++) {
        memset(p + len, 0, extra);
        if (len + extra <= sizeof p && verify_rc(root, key, value, present, p, len + extra) !=
                                           OPG_EPROOF)
            return 0;
    }
    uint8_t r2[32];
    memcpy(r2, root, 32);
    r2[31] ^= 1;
    if (verify_rc(r2, key, value, present, proof, len) != OPG_EPROOF)
        return 0;
    return verify_rc(root, key, value, present, proof, len) == OPG_OK;
}

static void test_tampering(void)
{
    static model m;
    model_init(&m);
    opgi_merkle *t;
    CHECK_OK(opgi_merkle_new(&t, NULL));
    static opgi_merkle_change c[300];
    size_t k = 0;
    for (unsigned i = 0; i < 300; i++) { /* even keys present */
        if (i % 2)
            continue;
        m.ver[i] = 1;
        char v[32];
        value_of(v, i, 1);
        memcpy(c[k].key_hash, m.kh[i], 32);
        c[k].present = 1;
        spec_value(c[k].value_hash, v);
        k++;
    }
    CHECK_OK(opgi_merkle_apply(t, c, k));
    uint8_t root[32], buf[OPG_PROOF_MAX_BYTES];
    opgi_merkle_root(t, root);
    int ends_empty = 0, ends_other = 0;
    for (unsigned i = 0; i < 300; i += 1) {
        size_t len = 0;
        CHECK_OK(opgi_merkle_prove(t, m.kh[i], buf, sizeof buf, &len));
        CHECK(len <= OPG_PROOF_MAX_BYTES);
        char v[32];
        value_of(v, i, 1);
        if (m.ver[i]) {
            CHECK(tamper_refused(root, m.key[i], v, 1, buf, len));
            CHECK(verify_rc(root, m.key[i], "v0.2", 1, buf, len) == OPG_EPROOF); /* value */
            CHECK(verify_rc(root, m.key[i + 1], v, 1, buf, len) == OPG_EPROOF);  /* key */
            CHECK(verify_rc(root, m.key[i], v, 0, buf, len) == OPG_EPROOF);
        } else {
            unsigned d = (unsigned)buf[1] << 8 | buf[2];
            size_t body = 3 + (d + 7) / 8;
            size_t nsib = 0;
            for (size_t j = 3; j < body; j++)
                nsib += (size_t)__builtin_popcount(buf[j]);
            if (len == body + 32 * nsib)
                ends_empty++;
            else
                ends_other++;
            CHECK(tamper_refused(root, m.key[i], NULL, 0, buf, len));
            CHECK(verify_rc(root, m.key[i - 1], NULL, 0, buf, len) == OPG_EPROOF); /* present key */
            CHECK(verify_rc(root, m.key[i], v, 1, buf, len) == OPG_EPROOF);
        }
    }
    CHECK(ends_empty > 0 && ends_other > 0); /* both kinds of exclusion were seen */
    /* arguments */
    size_t len = 0;
    CHECK_OK(opgi_merkle_prove(t, m.kh[0], buf, sizeof buf, &len));
    CHECK_RC(opg_proof_verify(NULL, (const uint8_t *)"k0", 2, NULL, 0, 1, buf, len), OPG_EINVAL);
    CHECK_RC(opg_proof_verify(root, (const uint8_t *)"k0", 2, NULL, 0, 2, buf, len), OPG_EINVAL);
    CHECK_RC(opg_proof_verify(root, (const uint8_t *)"k0", 2, NULL, 0, 1, NULL, 0), OPG_EINVAL);
    opgi_merkle_free(t);

    /* an empty tree: the empty proof of anything, and nothing else */
    CHECK_OK(opgi_merkle_new(&t, NULL));
    CHECK_OK(opgi_merkle_prove(t, m.kh[0], buf, sizeof buf, &len));
    CHECK(len == 3);
    opgi_merkle_root(t, root);
    CHECK_OK(verify_rc(root, "k0", NULL, 0, buf, len));
    CHECK(tamper_refused(root, "k0", NULL, 0, buf, len));
    CHECK(verify_rc(root, "k0", "v", 1, buf, len) == OPG_EPROOF);
    opgi_merkle_free(t);
}

/* Hand-made non-canonical proofs that would otherwise fold to the right root. */
static void test_non_canonical(void)
{
    /* one record a: root = leaf_a; its proof is 01 0000 */
    uint8_t la[32], root[32], p[200];
    spec_leaf(la, "a", "1");
    memcpy(root, la, 32);
    uint8_t ok[3] = {1, 0, 0};
    CHECK_OK(verify_rc(root, "a", "1", 1, ok, 3));
    /* the same leaf claimed one level down with an EMPTY sibling listed in the bitmap
     * as zero bytes: refused even though it is well formed */
    memset(p, 0, sizeof p);
    p[0] = 1, p[1] = 0, p[2] = 1, p[3] = 0x80;
    CHECK_RC(verify_rc(root, "a", "1", 1, p, 36), OPG_EPROOF);
    /* depth 1, no sibling listed: the sibling at depth D must be non-EMPTY */
    p[3] = 0;
    CHECK_RC(verify_rc(root, "a", "1", 1, p, 4), OPG_EPROOF);
    /* depth 257, version 2 */
    p[0] = 1, p[1] = 1, p[2] = 1;
    CHECK_RC(verify_rc(root, "a", "1", 1, p, 3 + 33), OPG_EPROOF);
    p[0] = 2, p[1] = 0, p[2] = 0;
    CHECK_RC(verify_rc(root, "a", "1", 1, p, 3), OPG_EPROOF);
    /* exclusion of b by a's leaf at depth 0: tail = a's key hash and value hash */
    uint8_t ka[32], kb[32];
    spec_key(ka, "a");
    spec_key(kb, "b");
    p[0] = 1, p[1] = 0, p[2] = 0;
    memcpy(p + 3, ka, 32);
    H(p + 35, "1", 1, "opg.merkle.val");
    CHECK_OK(verify_rc(root, "b", NULL, 0, p, 67));
    CHECK_RC(verify_rc(root, "a", NULL, 0, p, 67), OPG_EPROOF); /* a itself */
    CHECK_RC(verify_rc(root, "b", "x", 1, p, 67), OPG_EPROOF);  /* a tail on inclusion */
    (void)kb;
    /* random bytes never pass, never crash */
    for (int r = 0; r < 20000; r++) {
        size_t len = rnd() % sizeof p;
        for (size_t i = 0; i < len; i++)
            p[i] = (uint8_t)rnd();
        if (len > 0 && r % 2)
            p[0] = 1;
        if (len > 2 && r % 4 < 2)
            p[1] = 0, p[2] = (uint8_t)(rnd() % 40);
        CHECK(verify_rc(root, "a", "1", (int)(r % 3 == 0), p, len) != OPG_OK || len == 3);
    }
}

/* ---------------------------------------------------------------- memory */

static void test_enomem(void)
{
    static model m;
    model_init(&m);
    /* a tree with some records, then a big batch applied under failing allocators */
    for (unsigned long fail_at = 1; fail_at < 400; fail_at++) {
        failalloc fa;
        failalloc_init(&fa, 0);
        opg_allocator a = failalloc_allocator(&fa);
        opgi_merkle *t;
        CHECK_OK(opgi_merkle_new(&t, &a));
        static opgi_merkle_change c[600];
        for (unsigned i = 0; i < 200; i++) {
            char v[32];
            value_of(v, i, 1);
            change(&c[i], m.key[i], v);
        }
        CHECK_OK(opgi_merkle_apply(t, c, 200));
        uint8_t before[32], r[32];
        opgi_merkle_root(t, before);
        fa.fail_at = fa.calls + fail_at;
        for (unsigned i = 0; i < 600; i++) {
            char v[32];
            value_of(v, i, 2);
            change(&c[i], m.key[i], i % 5 == 0 ? NULL : v);
        }
        int rc = opgi_merkle_apply(t, c, 600);
        opgi_merkle_root(t, r);
        if (rc == OPG_ENOMEM) {
            CHECK(memcmp(r, before, 32) == 0);
            CHECK(opgi_merkle_count(t) == 200);
            fa.fail_at = 0; /* the same call retried gives what a clean run gives */
            CHECK_OK(opgi_merkle_apply(t, c, 600));
            opgi_merkle_root(t, r);
        } else {
            CHECK_OK(rc);
        }
        CHECK(opgi_merkle_count(t) == 480);
        for (unsigned i = 0; i < 600; i++)
            m.ver[i] = i % 5 == 0 ? 0 : 2;
        uint8_t want[32];
        model_root(&m, want);
        for (unsigned i = 0; i < 600; i++)
            m.ver[i] = 0;
        CHECK(memcmp(r, want, 32) == 0);
        opgi_merkle_free(t);
        CHECK(fa.live_bytes == 0 && fa.live_blocks == 0);
        if (rc == OPG_OK && fa.failures == 0)
            break; /* past the last allocation */
    }
    /* opgi_merkle_new itself */
    for (unsigned long fail_at = 1; fail_at < 10; fail_at++) {
        failalloc fa;
        failalloc_init(&fa, fail_at);
        opg_allocator a = failalloc_allocator(&fa);
        opgi_merkle *t = NULL;
        int rc = opgi_merkle_new(&t, &a);
        CHECK(rc == OPG_OK || rc == OPG_ENOMEM);
        opgi_merkle_free(t);
        CHECK(fa.live_bytes == 0);
    }
}

/* apply says which changes altered the records; no-ops cost no hash */
static void test_changed_flags(void)
{
    opgi_merkle *t;
    CHECK_OK(opgi_merkle_new(&t, NULL));
    char k[16];
    opgi_merkle_change c[40];
    for (unsigned i = 0; i < 40; i++) {
        key_name(k, i);
        change(&c[i], k, "v0");
        c[i].tag = i;
        c[i].changed = 7;
    }
    CHECK_OK(opgi_merkle_apply(t, c, 40));
    for (unsigned i = 0; i < 40; i++)
        CHECK(c[i].changed == 1);
    uint8_t before[32], after[32];
    opgi_merkle_root(t, before);
    uint64_t hashes = opgi_merkle_hashes(t);
    /* the same values again, deletes of absent keys: nothing changes, nothing is hashed */
    for (unsigned i = 0; i < 40; i++) {
        key_name(k, i < 30 ? i : 100 + i);
        change(&c[i], k, i < 30 ? "v0" : NULL);
        c[i].tag = i;
    }
    CHECK_OK(opgi_merkle_apply(t, c, 40));
    for (unsigned i = 0; i < 40; i++)
        CHECK(c[i].changed == 0);
    opgi_merkle_root(t, after);
    CHECK(memcmp(before, after, 32) == 0);
    CHECK(opgi_merkle_hashes(t) == hashes);
    CHECK(opgi_merkle_count(t) == 40);
    /* mixed: keys 0..9 as they were, 10..19 another value, 20..29 deleted, 30..39
     * new; the tags follow their changes through the sort */
    for (unsigned i = 0; i < 40; i++) {
        key_name(k, i < 30 ? i : 200 + i);
        change(&c[i], k, i < 10 ? "v0" : i < 20 ? "v1" : i < 30 ? NULL : "v2");
        c[i].tag = i;
    }
    CHECK_OK(opgi_merkle_apply(t, c, 40));
    for (unsigned i = 0; i < 40; i++)
        CHECK(c[i].changed == (c[i].tag >= 10));
    CHECK(opgi_merkle_count(t) == 40);
    opgi_merkle_free(t);
}

static void test_bytes(void)
{
    opgi_merkle *t;
    CHECK_OK(opgi_merkle_new(&t, NULL));
    size_t b0 = opgi_merkle_bytes(t);
    CHECK(b0 > 0);
    opgi_merkle_change c[1000];
    for (unsigned i = 0; i < 1000; i++) {
        char k[16];
        key_name(k, i);
        change(&c[i], k, "v");
    }
    CHECK_OK(opgi_merkle_apply(t, c, 1000));
    CHECK(opgi_merkle_bytes(t) > b0);
    opgi_merkle_free(t);
}

int main(void)
{
    RUN(test_hash_functions);
    RUN(test_empty_and_one);
    RUN(test_two_and_three);
    RUN(test_proof_example);
    RUN(test_random_against_reference);
    RUN(test_order_independence);
    RUN(test_duplicates_and_args);
    RUN(test_tampering);
    RUN(test_non_canonical);
    RUN(test_enomem);
    RUN(test_changed_flags);
    RUN(test_bytes);
    return harness_done();
}
