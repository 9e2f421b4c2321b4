/*
 * fuzz_util.h - shared by the fuzz targets (and test/fuzz/gen_corpus.c): a bounded
 * reader over the fuzz input, a 384-bit ledger number, the state-hash oracle, a
 * save helper and an abort that names the violation.
 *
 * Only the public API: the targets also build outside the tree's lib/ include path
 * (make fuzz compiles them with -Iinclude -Itest).
 */
#ifndef OPG_FUZZ_UTIL_H
#define OPG_FUZZ_UTIL_H

#include "opg.h"

#include "failalloc.h"
#include "record_store.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints the violation and aborts: libFuzzer saves the input, the replay driver
 * names it. */
static void fz_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("violation: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

#define FZ_ASSERT(cond, ...)      \
    do {                          \
        if (!(cond))              \
            fz_die(__VA_ARGS__);  \
    } while (0)

/* ------------------------------------------------------------- the input */

typedef struct fz_in {
    const uint8_t *p;
    size_t len, pos;
} fz_in;

static int fz_more(const fz_in *in) { return in->pos < in->len; }

/* The next byte, 0 once the input is used up (so every input is a whole program). */
static uint8_t fz_u8(fz_in *in) { return in->pos < in->len ? in->p[in->pos++] : 0; }

static uint16_t fz_u16(fz_in *in)
{
    uint16_t v = fz_u8(in);
    return (uint16_t)(v << 8 | fz_u8(in));
}

static uint32_t fz_u32(fz_in *in)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v = v << 8 | fz_u8(in);
    return v;
}

static uint64_t fz_u64(fz_in *in)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | fz_u8(in);
    return v;
}

/* Up to n bytes of the rest as a NUL-terminated string (stops at a NUL byte). */
static void fz_text(char *out, size_t n, fz_in *in)
{
    size_t k = 0;
    while (k + 1 < n && fz_more(in)) {
        char c = (char)fz_u8(in);
        if (c == '\0')
            break;
        out[k++] = c;
    }
    out[k] = '\0';
}

/* ------------------------------------------------------- ledger numbers */

/* 384 bits, least significant limb first: sums of many u256 amounts cannot wrap. */
typedef struct fz_big {
    uint64_t l[6];
} fz_big;

static void fz_big_add_u256(fz_big *a, const opg_u256 *v)
{
    uint64_t carry = 0;
    for (int i = 0; i < 6; i++) {
        uint64_t x = i < 4 ? v->limb[i] : 0;
        uint64_t s = a->l[i] + x;
        uint64_t c1 = s < x;
        uint64_t s2 = s + carry;
        uint64_t c2 = s2 < s;
        a->l[i] = s2;
        carry = c1 | c2;
    }
    if (carry)
        fz_die("ledger number overflow");
}

static void fz_big_add(fz_big *a, const fz_big *b)
{
    uint64_t carry = 0;
    for (int i = 0; i < 6; i++) {
        uint64_t s = a->l[i] + b->l[i];
        uint64_t c1 = s < b->l[i];
        uint64_t s2 = s + carry;
        uint64_t c2 = s2 < s;
        a->l[i] = s2;
        carry = c1 | c2;
    }
    if (carry)
        fz_die("ledger number overflow");
}

static int fz_big_cmp(const fz_big *a, const fz_big *b)
{
    for (int i = 5; i >= 0; i--)
        if (a->l[i] != b->l[i])
            return a->l[i] < b->l[i] ? -1 : 1;
    return 0;
}

static fz_big fz_big_of(const opg_u256 *v)
{
    fz_big b;
    memset(&b, 0, sizeof b);
    fz_big_add_u256(&b, v);
    return b;
}

static void fz_big_text(char *out, size_t cap, const fz_big *a)
{
    snprintf(out, cap, "%016llx%016llx%016llx%016llx%016llx%016llx",
             (unsigned long long)a->l[5], (unsigned long long)a->l[4],
             (unsigned long long)a->l[3], (unsigned long long)a->l[2],
             (unsigned long long)a->l[1], (unsigned long long)a->l[0]);
}

/* ------------------------------------------------------------ amounts */

static const opg_u256 FZ_U256_MAX = {{UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX}};

static opg_u256 fz_u256_u64(uint64_t x)
{
    opg_u256 v = {{x, 0, 0, 0}};
    return v;
}

/* 10^k for k <= 77 */
static opg_u256 fz_pow10(unsigned k)
{
    opg_u256 v = fz_u256_u64(1), ten = fz_u256_u64(10);
    for (unsigned i = 0; i < k; i++)
        if (opg_u256_mul(&v, &v, &ten) != OPG_OK)
            return FZ_U256_MAX;
    return v;
}

/* A decimal with raw value x / 10^18 (x a small integer means x * 10^-18). */
static opg_dec fz_dec_raw(uint64_t raw)
{
    opg_dec d;
    opg_u256 r = fz_u256_u64(raw);
    opg_dec_from_raw(&d, &r);
    return d;
}

/* n/d as a decimal, truncated; d > 0. */
static opg_dec fz_dec_frac(uint64_t n, uint64_t d)
{
    opg_dec a, b, q;
    opg_dec_from_u64(&a, n);
    opg_dec_from_u64(&b, d);
    if (opg_dec_quo_truncate(&q, &a, &b) != OPG_OK)
        fz_die("fz_dec_frac");
    return q;
}

/* ------------------------------------------------------------ hashing */

/* BLAKE2b-256 of bytes, personalised like the library's state hashes. */
static void fz_blake2b_personal(uint8_t out[32], const uint8_t *p, size_t n, const char *personal)
{
    uint8_t pers[16];
    memset(pers, 0, sizeof pers);
    memcpy(pers, personal, strlen(personal));
    crypto_generichash_blake2b_state st;
    crypto_generichash_blake2b_init_salt_personal(&st, NULL, 0, 32, NULL, pers);
    crypto_generichash_blake2b_update(&st, p, n);
    crypto_generichash_blake2b_final(&st, out, 32);
}

/* The registry's (and the splitter's, when s is not NULL) state hash is the root of
 * its records: both rebuild from their exported records checked against those
 * roots. 1 when they do. */
static int fz_records_roots_ok(opg_registry *r, opg_splitter *s)
{
    record_store rs, ss;
    memset(&rs, 0, sizeof rs);
    memset(&ss, 0, sizeof ss);
    uint8_t rh[32], sh[32];
    int ok = opg_registry_state_hash(rh, r) == OPG_OK && opg_registry_records(r, store_sink, &rs) == OPG_OK;
    if (ok && s)
        ok = opg_splitter_state_hash(sh, s) == OPG_OK && opg_splitter_records(s, store_sink, &ss) == OPG_OK;
    opg_registry *r2 = NULL;
    opg_splitter *s2 = NULL;
    if (ok)
        ok = opg_registry_load_records(&r2, store_next, &rs, rh, NULL) == OPG_OK;
    if (ok && s)
        ok = opg_splitter_load_records(&s2, r2, store_next, &ss, sh, NULL) == OPG_OK;
    opg_splitter_free(s2);
    opg_registry_free(r2);
    store_free(&rs);
    store_free(&ss);
    return ok;
}

static void fz_hex(char out[65], const uint8_t h[32])
{
    static const char d[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = d[h[i] >> 4];
        out[2 * i + 1] = d[h[i] & 15];
    }
    out[64] = '\0';
}

/* ----------------------------------------------------- allocation hooks */

/* Runs with the failure point of fa suspended, so checks and hashing neither use it
 * up nor move it: save fail_at and calls, never fail, restore both. */
typedef struct fz_suspend {
    failalloc *fa;
    unsigned long fail_at, calls;
} fz_suspend;

static fz_suspend fz_suspend_begin(failalloc *fa)
{
    fz_suspend s = {fa, fa ? fa->fail_at : 0, fa ? fa->calls : 0};
    if (fa)
        fa->fail_at = 0;
    return s;
}

static void fz_suspend_end(fz_suspend s)
{
    if (s.fa) {
        s.fa->fail_at = s.fail_at;
        s.fa->calls = s.calls;
    }
}

/* ---------------------------------------------------------- save helper */

typedef int (*fz_save_fn)(uint8_t *buf, size_t cap, size_t *len, const void *h);

/* Saves a handle into a malloc'd buffer (the test's own memory, not the handle's
 * allocator); aborts on any failure. */
static uint8_t *fz_save(size_t *len, fz_save_fn save, const void *h, const char *what)
{
    size_t n = 0;
    int rc = save(NULL, 0, &n, h);
    FZ_ASSERT(rc == OPG_OK || rc == OPG_EBUFS, "%s: sizing save returned %s", what, opg_errname(rc));
    uint8_t *b = malloc(n ? n : 1);
    FZ_ASSERT(b != NULL, "out of memory");
    size_t n2 = 0;
    rc = save(b, n, &n2, h);
    FZ_ASSERT(rc == OPG_OK && n2 == n, "%s: save returned %s (len %zu, then %zu)", what,
              opg_errname(rc), n, n2);
    *len = n;
    return b;
}

/* Adapters from the typed save functions to fz_save_fn. */
static int fz_save_registry(uint8_t *b, size_t c, size_t *l, const void *h)
{
    return opg_registry_save(b, c, l, (const opg_registry *)h);
}
static int fz_save_splitter(uint8_t *b, size_t c, size_t *l, const void *h)
{
    return opg_splitter_save(b, c, l, (const opg_splitter *)h);
}
static int fz_save_pricer(uint8_t *b, size_t c, size_t *l, const void *h)
{
    return opg_pricer_save(b, c, l, (const opg_pricer *)h);
}
static int fz_save_slasher(uint8_t *b, size_t c, size_t *l, const void *h)
{
    return opg_slasher_save(b, c, l, (const opg_slasher *)h);
}
static int fz_save_tally(uint8_t *b, size_t c, size_t *l, const void *h)
{
    return opg_tally_save(b, c, l, (const opg_tally *)h);
}

/* ------------------------------------------------------- pricer oracles */

/* Every dimension's base fee within [min_base_fee, max_base_fee], target within
 * [1, limit], found by its name; classes strictly ascending by id. (Usage may lie
 * above the limit: governance may lower a limit in the middle of a block.) */
static void fz_pricer_invariants(const opg_pricer *p)
{
    size_t nd = opg_pricer_dimension_count(p);
    FZ_ASSERT(nd >= 1 && nd <= OPG_PRICER_MAX_DIMENSIONS, "pricer: %zu dimensions", nd);
    for (size_t d = 0; d < nd; d++) {
        opg_pricer_dimension dim;
        opg_pricer_dimension_state st;
        FZ_ASSERT(opg_pricer_dimension_get(&dim, &st, p, d) == OPG_OK, "pricer: dimension_get");
        FZ_ASSERT(opg_u256_cmp(&st.base_fee, &dim.min_base_fee) >= 0 &&
                      opg_u256_cmp(&st.base_fee, &dim.max_base_fee) <= 0,
                  "pricer: dimension %zu base fee outside [min, max]", d);
        FZ_ASSERT(!opg_u256_is_zero(&dim.target) && opg_u256_cmp(&dim.target, &dim.limit) <= 0,
                  "pricer: dimension %zu target outside [1, limit]", d);
        size_t at = 0;
        FZ_ASSERT(opg_pricer_dimension_find(&at, p, dim.name) == OPG_OK && at == d,
                  "pricer: dimension %zu not found by its name", d);
    }
    size_t nc = opg_pricer_class_count(p);
    uint32_t prev = 0;
    for (size_t i = 0; i < nc; i++) {
        opg_pricer_class c;
        FZ_ASSERT(opg_pricer_class_at(&c, p, i) == OPG_OK, "pricer: class_at %zu", i);
        FZ_ASSERT(i == 0 || c.id > prev, "pricer: classes not in ascending id order");
        prev = c.id;
    }
}

static int fz_u256_eq(const opg_u256 *a, const opg_u256 *b) { return opg_u256_cmp(a, b) == 0; }

/* A charge's receipt against the quote of the same request on the same state:
 * same price; tip = min(max_priority_fee, max_fee - base); fee = base + tip <=
 * max_fee; the five parts add up to the fee; the verifiers' amounts add up to
 * their part. */
static void fz_check_receipt(const opg_pricer_receipt *r, const opg_pricer_price *quote,
                             const opg_u256 *max_fee, const opg_u256 *max_tip,
                             const opg_u256 *verifier_amounts, size_t n_verifiers)
{
    FZ_ASSERT(fz_u256_eq(&r->price.base_fee, &quote->base_fee), "charge: base fee differs from the quote");
    for (size_t d = 0; d < OPG_PRICER_MAX_DIMENSIONS; d++)
        FZ_ASSERT(fz_u256_eq(&r->price.effective_units[d], &quote->effective_units[d]) &&
                      fz_u256_eq(&r->price.dimension_fee[d], &quote->dimension_fee[d]),
                  "charge: price of dimension %zu differs from the quote", d);
    opg_u256 room, tip, fee, sum;
    FZ_ASSERT(opg_u256_sub(&room, max_fee, &r->price.base_fee) == OPG_OK, "charge: base fee above max_fee");
    tip = opg_u256_cmp(max_tip, &room) < 0 ? *max_tip : room;
    FZ_ASSERT(fz_u256_eq(&tip, &r->tip), "charge: tip is not min(max_priority_fee, max_fee - base)");
    FZ_ASSERT(opg_u256_add(&fee, &r->price.base_fee, &r->tip) == OPG_OK && fz_u256_eq(&fee, &r->fee),
              "charge: fee != base fee + tip");
    const opg_u256 *parts[] = {&r->inference, &r->verifiers, &r->stakers, &r->burn, &r->community};
    memset(&sum, 0, sizeof sum);
    for (size_t i = 0; i < 5; i++)
        FZ_ASSERT(opg_u256_add(&sum, &sum, parts[i]) == OPG_OK, "charge: parts overflow");
    FZ_ASSERT(fz_u256_eq(&sum, &r->fee), "charge: parts do not add up to the fee");
    memset(&sum, 0, sizeof sum);
    for (size_t i = 0; i < n_verifiers; i++)
        FZ_ASSERT(opg_u256_add(&sum, &sum, &verifier_amounts[i]) == OPG_OK, "charge: verifier amounts overflow");
    if (n_verifiers)
        FZ_ASSERT(fz_u256_eq(&sum, &r->verifiers), "charge: verifier amounts do not add up to their part");
    else
        FZ_ASSERT(opg_u256_is_zero(&r->verifiers), "charge: a verifiers' part without verifiers");
}

#endif /* OPG_FUZZ_UTIL_H */
