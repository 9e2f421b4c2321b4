/*
 * num.c - checked fixed-width arithmetic: the internal limb-array core and the
 * public opg_u256 / opg_dec API on top of it.
 *
 * Limbs are uint64_t in memory and in the public types, whatever GMP's limb size
 * is; they are converted to mp_limb_t arrays on the stack around each mpn call,
 * so the same code gives the same results with 32- and 64-bit GMP limbs.
 */
#include "num.h"

#include <gmp.h>

#if GMP_NAIL_BITS != 0 || (GMP_NUMB_BITS != 64 && GMP_NUMB_BITS != 32)
#error "libopg needs GMP without nails and with 32- or 64-bit limbs"
#endif

#define MP_PER_U64 (64 / GMP_NUMB_BITS)
#define MP_MAX (OPGI_NUM_MAX * MP_PER_U64)

/* u64 limbs -> mp limbs; returns the normalised mp size (0 for zero). */
static mp_size_t to_mp(mp_limb_t *dst, const uint64_t *src, size_t n)
{
    mp_size_t k = 0;
    for (size_t i = 0; i < n; i++) {
#if GMP_NUMB_BITS == 64
        dst[k++] = (mp_limb_t)src[i];
#else
        dst[k++] = (mp_limb_t)(src[i] & 0xffffffffu);
        dst[k++] = (mp_limb_t)(src[i] >> 32);
#endif
    }
    while (k > 0 && dst[k - 1] == 0)
        k--;
    return k;
}

/* Where GMP's limb is the very type of libopg's (64-bit limbs: both unsigned long, or
 * both unsigned long long), operands are read in place instead of copied. */
#define LIMBS_IN_PLACE (GMP_NUMB_BITS == 64 && _Generic((mp_limb_t)0, uint64_t: 1, default: 0))

/* An operand as mp limbs: in place where the types agree, else copied into scratch;
 * returns the normalised mp size (0 for zero). */
static mp_size_t operand(const mp_limb_t **p, mp_limb_t *scratch, const uint64_t *src, size_t n)
{
    if (LIMBS_IN_PLACE) {
        while (n > 0 && src[n - 1] == 0)
            n--;
        *p = (const mp_limb_t *)(const void *)src;
        return (mp_size_t)n;
    }
    *p = scratch;
    return to_mp(scratch, src, n);
}

/* mp limbs (size k) -> u64 limbs; OPG_EOVERFLOW if they need more than n. */
static int from_mp(uint64_t *dst, size_t n, const mp_limb_t *src, mp_size_t k)
{
    while (k > 0 && src[k - 1] == 0)
        k--;
    if ((size_t)k > n * MP_PER_U64)
        return OPG_EOVERFLOW;
    if (LIMBS_IN_PLACE) {
        memcpy(dst, src, (size_t)k * sizeof *dst);
        memset(dst + k, 0, (n - (size_t)k) * sizeof *dst);
        return OPG_OK;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t v = 0;
        for (size_t j = 0; j < MP_PER_U64; j++) {
            size_t at = i * MP_PER_U64 + j;
            if ((mp_size_t)at < k)
                v |= (uint64_t)src[at] << (j * GMP_NUMB_BITS % 64);
        }
        dst[i] = v;
    }
    return OPG_OK;
}

#ifdef __SIZEOF_INT128__
__extension__ typedef unsigned __int128 u128;

/* a * b / d rounded by mode, for one-word operands, in 128-bit arithmetic: the same
 * result as the mpn path, for the shape most calls have (amounts below 2^64 by a
 * rate, divided by 10^18). The operands are normalised sizes 1: non-zero words. */
static int muldiv_words(uint64_t *out, size_t outn, uint64_t a, uint64_t b, uint64_t d,
                        enum opgi_round mode)
{
    u128 p = (u128)a * b, q = p / d, r = p % d;
    if (r && (mode == OPGI_CEIL ||
              (mode == OPGI_HALF_EVEN && (2 * r > d || (2 * r == d && (q & 1))))))
        q++; /* q <= p < 2^128 - 1: no wrap */
    uint64_t lo = (uint64_t)q, hi = (uint64_t)(q >> 64);
    if (outn < 2) {
        if (hi || (outn == 0 && lo))
            return OPG_EOVERFLOW;
        if (outn == 1)
            out[0] = lo;
        return OPG_OK;
    }
    out[0] = lo;
    out[1] = hi;
    memset(out + 2, 0, (outn - 2) * sizeof *out);
    return OPG_OK;
}
#endif

int opgi_muldiv(uint64_t *out, size_t outn, const uint64_t *a, size_t an, const uint64_t *b,
                size_t bn, const uint64_t *d, size_t dn, enum opgi_round mode)
{
    mp_limb_t sa[MP_MAX], sb[MP_MAX], sd[MP_MAX];
    mp_limb_t prod[2 * MP_MAX], q[2 * MP_MAX + 1], r[MP_MAX];
    if (an > OPGI_NUM_MAX || bn > OPGI_NUM_MAX || dn > OPGI_NUM_MAX || outn > 2 * OPGI_NUM_MAX)
        return OPG_EINVARIANT; /* a caller asked for more than the stack arrays hold */
    const mp_limb_t *ma, *mb, *md;
    mp_size_t na = operand(&ma, sa, a, an), nb = operand(&mb, sb, b, bn),
              nd = operand(&md, sd, d, dn);

    if (nd == 0)
        return OPG_EDIVZERO;
    if (na == 0 || nb == 0) {
        memset(out, 0, outn * sizeof *out);
        return OPG_OK;
    }
#ifdef __SIZEOF_INT128__
    if (na == 1 && nb == 1 && nd == 1) /* the common shape: one 64-bit word each */
        return muldiv_words(out, outn, a[0], b[0], d[0], mode);
#endif
    mp_size_t np = na + nb;
    if (na >= nb)
        mpn_mul(prod, ma, na, mb, nb);
    else
        mpn_mul(prod, mb, nb, ma, na);
    while (np > 0 && prod[np - 1] == 0)
        np--;

    mp_size_t nq;
    int rem_zero = 1, round_up = 0;
    if (np < nd) { /* quotient 0, remainder = product */
        nq = 0;
        memcpy(r, prod, (size_t)np * sizeof *r);
        memset(r + np, 0, (size_t)(nd - np) * sizeof *r);
    } else {
        mpn_tdiv_qr(q, r, 0, prod, np, md, nd);
        nq = np - nd + 1;
    }
    for (mp_size_t i = 0; i < nd; i++)
        if (r[i]) {
            rem_zero = 0;
            break;
        }
    if (!rem_zero) {
        if (mode == OPGI_CEIL) {
            round_up = 1;
        } else if (mode == OPGI_HALF_EVEN) {
            /* compare 2r with d: r < d, so 2r fits nd limbs plus one carry bit */
            mp_limb_t r2[MP_MAX];
            mp_limb_t carry = mpn_lshift(r2, r, nd, 1);
            int c = carry ? 1 : mpn_cmp(r2, md, nd);
            if (c > 0 || (c == 0 && nq > 0 && (q[0] & 1)))
                round_up = 1;
        }
    }
    if (round_up) {
        if (nq == 0) {
            q[0] = 1;
            nq = 1;
        } else {
            mp_limb_t carry = mpn_add_1(q, q, nq, 1);
            if (carry)
                q[nq++] = carry;
        }
    }
    return from_mp(out, outn, q, nq);
}

uint64_t opgi_add_n(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n)
{
    uint64_t carry = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t s = a[i] + carry;
        uint64_t c1 = s < carry;
        uint64_t t = s + b[i];
        carry = c1 | (t < s);
        out[i] = t;
    }
    return carry;
}

uint64_t opgi_sub_n(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n)
{
    uint64_t borrow = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t bi = b[i] + borrow;
        uint64_t b1 = bi < borrow;
        uint64_t t = a[i] - bi;
        borrow = b1 | (a[i] < bi);
        out[i] = t;
    }
    return borrow;
}

int opgi_cmp_n(const uint64_t *a, const uint64_t *b, size_t n)
{
    for (size_t i = n; i-- > 0;)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return 0;
}

int opgi_is_zero_n(const uint64_t *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i])
            return 0;
    return 1;
}

int opgi_resize_n(uint64_t *out, size_t outn, const uint64_t *a, size_t an)
{
    for (size_t i = outn; i < an; i++)
        if (a[i])
            return OPG_EOVERFLOW;
    uint64_t tmp[OPGI_NUM_MAX];
    for (size_t i = 0; i < outn; i++)
        tmp[i] = i < an ? a[i] : 0;
    memcpy(out, tmp, outn * sizeof *out);
    return OPG_OK;
}

int opgi_isqrt(uint64_t *out, size_t outn, const uint64_t *a, size_t an)
{
    mp_limb_t m[MP_MAX], root[MP_MAX];
    mp_size_t k = to_mp(m, a, an);
    if (k == 0) {
        memset(out, 0, outn * sizeof *out);
        return OPG_OK;
    }
    mpn_sqrtrem(root, NULL, m, k); /* floor, exact: GMP's integer square root */
    return from_mp(out, outn, root, (k + 1) / 2);
}

void opgi_shr_n(uint64_t *out, const uint64_t *a, size_t n, uint64_t bits)
{
    uint64_t tmp[OPGI_NUM_MAX];
    uint64_t words = bits / 64;
    unsigned rest = (unsigned)(bits % 64);
    for (size_t i = 0; i < n; i++) {
        uint64_t lo = 0, hi = 0;
        if (words < n && i + words < n) {
            lo = a[i + words] >> rest;
            if (rest && i + words + 1 < n)
                hi = a[i + words + 1] << (64 - rest);
        }
        tmp[i] = lo | hi;
    }
    memcpy(out, tmp, n * sizeof *out);
}

/* ------------------------------------------------------------------ u256 */

static const uint64_t ONE[1] = {1};
static const uint64_t P_LIMB[1] = {OPGI_P};
/* 10^36 = 0xc097ce7bc90715_b34b9f1000000000 */
static const uint64_t P2_LIMBS[2] = {UINT64_C(0xb34b9f1000000000), UINT64_C(0x00c097ce7bc90715)};

size_t opg_u256_string_max(void) { return OPG_U256_STRING_MAX; }
size_t opg_dec_string_max(void) { return OPG_DEC_STRING_MAX; }

void opg_u256_from_u64(opg_u256 *out, uint64_t v)
{
    out->limb[0] = v;
    out->limb[1] = out->limb[2] = out->limb[3] = 0;
}

int opg_u256_to_u64(uint64_t *out, const opg_u256 *a)
{
    if (a->limb[1] | a->limb[2] | a->limb[3])
        return OPG_EOVERFLOW;
    *out = a->limb[0];
    return OPG_OK;
}

/* Parses digits[0..n) (values 0..9) into 4 limbs. */
static int digits_to_limbs(uint64_t out[4], const unsigned char *digits, size_t n)
{
    while (n > 1 && digits[0] == 0) {
        digits++;
        n--;
    }
    if (n > 78)
        return OPG_EOVERFLOW;
    mp_limb_t m[MP_MAX + 1];
    mp_size_t k = mpn_set_str(m, digits, n, 10);
    return from_mp(out, 4, m, k);
}

/* Writes the decimal digits of 4 limbs as ASCII into s (at least 79 bytes);
 * returns the digit count (1 for zero). */
static size_t limbs_to_digits(char *s, const uint64_t in[4])
{
    mp_limb_t m[4 * MP_PER_U64 + 1];
    mp_size_t k = to_mp(m, in, 4);
    if (k == 0) {
        s[0] = '0';
        return 1;
    }
    unsigned char raw[80];
    size_t n = mpn_get_str(raw, 10, m, k); /* destroys m */
    size_t skip = 0;
    while (skip + 1 < n && raw[skip] == 0)
        skip++;
    for (size_t i = skip; i < n; i++)
        s[i - skip] = (char)('0' + raw[i]);
    return n - skip;
}

int opg_u256_from_string(opg_u256 *out, const char *s)
{
    if (!out || !s)
        return OPG_EINVAL;
    unsigned char digits[80];
    size_t n = 0, i = 0;
    while (s[i] == '0' && s[i + 1] >= '0' && s[i + 1] <= '9')
        i++; /* leading zeros carry no value: any number of them is fine */
    for (; s[i]; i++) {
        if (s[i] < '0' || s[i] > '9')
            return OPG_EPARSE;
        if (n < sizeof digits)
            digits[n] = (unsigned char)(s[i] - '0');
        n++;
    }
    if (n == 0)
        return OPG_EPARSE;
    if (n > 78)
        return OPG_EOVERFLOW;
    uint64_t v[4];
    int rc = digits_to_limbs(v, digits, n);
    if (rc)
        return rc;
    memcpy(out->limb, v, sizeof v);
    return OPG_OK;
}

/* Copies text (length n, no NUL) into buf[cap] with a NUL, or OPG_EBUFS. */
static int emit(char *buf, size_t cap, size_t *needed, const char *text, size_t n)
{
    if (needed)
        *needed = n + 1;
    if (!buf || cap < n + 1)
        return OPG_EBUFS;
    memcpy(buf, text, n);
    buf[n] = '\0';
    return OPG_OK;
}

int opg_u256_to_string(char *buf, size_t cap, size_t *needed, const opg_u256 *a)
{
    if (!a)
        return OPG_EINVAL;
    char s[OPG_U256_STRING_MAX + 1];
    size_t n = limbs_to_digits(s, a->limb);
    return emit(buf, cap, needed, s, n);
}

void opg_u256_from_be32(opg_u256 *out, const uint8_t in[32])
{
    for (int i = 0; i < 4; i++) {
        uint64_t v = 0;
        for (int j = 0; j < 8; j++)
            v = (v << 8) | in[(3 - i) * 8 + j];
        out->limb[i] = v;
    }
}

void opg_u256_to_be32(uint8_t out[32], const opg_u256 *a)
{
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 8; j++)
            out[(3 - i) * 8 + j] = (uint8_t)(a->limb[i] >> (56 - 8 * j));
}

int opg_u256_cmp(const opg_u256 *a, const opg_u256 *b) { return opgi_cmp_n(a->limb, b->limb, 4); }

int opg_u256_is_zero(const opg_u256 *a) { return opgi_is_zero_n(a->limb, 4); }


/* Checked add/sub on 4 limbs, shared by opg_u256 and opg_dec. */
static int add4(uint64_t out[4], const uint64_t a[4], const uint64_t b[4])
{
    uint64_t t[4];
    if (opgi_add_n(t, a, b, 4))
        return OPG_EOVERFLOW;
    memcpy(out, t, sizeof t);
    return OPG_OK;
}

static int sub4(uint64_t out[4], const uint64_t a[4], const uint64_t b[4])
{
    uint64_t t[4];
    if (opgi_sub_n(t, a, b, 4))
        return OPG_EUNDERFLOW;
    memcpy(out, t, sizeof t);
    return OPG_OK;
}

int opg_u256_add(opg_u256 *out, const opg_u256 *a, const opg_u256 *b)
{
    return add4(out->limb, a->limb, b->limb);
}

int opg_u256_sub(opg_u256 *out, const opg_u256 *a, const opg_u256 *b)
{
    return sub4(out->limb, a->limb, b->limb);
}

int opg_u256_mul(opg_u256 *out, const opg_u256 *a, const opg_u256 *b)
{
    return opgi_muldiv(out->limb, 4, a->limb, 4, b->limb, 4, ONE, 1, OPGI_TRUNC);
}

int opg_u256_divmod(opg_u256 *quotient, opg_u256 *remainder, const opg_u256 *a,
                    const opg_u256 *b)
{
    uint64_t q[4], r[4];
    int rc = opgi_muldiv(q, 4, a->limb, 4, ONE, 1, b->limb, 4, OPGI_TRUNC);
    if (rc)
        return rc;
    /* r = a - q*b; q*b <= a fits */
    OPGI_MUST(opgi_muldiv(r, 4, q, 4, b->limb, 4, ONE, 1, OPGI_TRUNC));
    OPGI_MUST(opgi_sub_n(r, a->limb, r, 4));
    if (quotient)
        memcpy(quotient->limb, q, sizeof q);
    if (remainder)
        memcpy(remainder->limb, r, sizeof r);
    return OPG_OK;
}

int opg_u256_mul_div(opg_u256 *out, const opg_u256 *a, const opg_u256 *b, const opg_u256 *c)
{
    return opgi_muldiv(out->limb, 4, a->limb, 4, b->limb, 4, c->limb, 4, OPGI_TRUNC);
}

/* ------------------------------------------------------------------- dec */

void opg_dec_from_u64(opg_dec *out, uint64_t integer)
{
    uint64_t v[1] = {integer};
    OPGI_MUST(opgi_muldiv(out->limb, 4, v, 1, P_LIMB, 1, ONE, 1, OPGI_TRUNC)); /* < 2^124, fits */
}

void opg_dec_from_raw(opg_dec *out, const opg_u256 *raw) { memcpy(out->limb, raw->limb, 32); }

void opg_dec_to_raw(opg_u256 *out, const opg_dec *a) { memcpy(out->limb, a->limb, 32); }

int opg_dec_from_int(opg_dec *out, const opg_u256 *i)
{
    return opgi_muldiv(out->limb, 4, i->limb, 4, P_LIMB, 1, ONE, 1, OPGI_TRUNC);
}

int opg_dec_from_string(opg_dec *out, const char *s)
{
    if (!out || !s)
        return OPG_EINVAL;
    unsigned char digits[80 + 18];
    size_t n = 0, i = 0, frac = 0, int_digits = 0;
    while (s[i] == '0' && s[i + 1] >= '0' && s[i + 1] <= '9')
        i++; /* leading zeros carry no value */
    for (; s[i] >= '0' && s[i] <= '9'; i++) {
        if (n < 80)
            digits[n++] = (unsigned char)(s[i] - '0');
        int_digits++;
    }
    if (int_digits == 0)
        return OPG_EPARSE;
    if (s[i] == '.') {
        i++;
        for (; s[i] >= '0' && s[i] <= '9'; i++) {
            if (frac == 18)
                return OPG_EPARSE;
            if (n < sizeof digits)
                digits[n++] = (unsigned char)(s[i] - '0');
            frac++;
        }
        if (frac == 0)
            return OPG_EPARSE;
    }
    if (s[i] != '\0')
        return OPG_EPARSE;
    if (int_digits > 60)
        return OPG_EOVERFLOW; /* above 10^60 > the largest decimal */
    for (; frac < 18; frac++)
        digits[n++] = 0;
    uint64_t v[4];
    int rc = digits_to_limbs(v, digits, n);
    if (rc)
        return rc;
    memcpy(out->limb, v, sizeof v);
    return OPG_OK;
}

int opg_dec_to_string(char *buf, size_t cap, size_t *needed, const opg_dec *a)
{
    if (!a)
        return OPG_EINVAL;
    char d[OPG_U256_STRING_MAX + 1], s[OPG_DEC_STRING_MAX + 1];
    size_t n = limbs_to_digits(d, a->limb);
    /* left-pad to at least 19 digits so there is one integer digit */
    char padded[OPG_U256_STRING_MAX + 20];
    size_t pad = n < 19 ? 19 - n : 0;
    memset(padded, '0', pad);
    memcpy(padded + pad, d, n);
    n += pad;
    size_t int_len = n - 18, frac_len = 18;
    while (frac_len > 0 && padded[int_len + frac_len - 1] == '0')
        frac_len--;
    memcpy(s, padded, int_len);
    size_t len = int_len;
    if (frac_len) {
        s[len++] = '.';
        memcpy(s + len, padded + int_len, frac_len);
        len += frac_len;
    }
    return emit(buf, cap, needed, s, len);
}

void opg_dec_from_be32(opg_dec *out, const uint8_t in[32])
{
    opg_u256 v;
    opg_u256_from_be32(&v, in);
    memcpy(out->limb, v.limb, sizeof v.limb);
}

void opg_dec_to_be32(uint8_t out[32], const opg_dec *a)
{
    opg_u256 v;
    memcpy(v.limb, a->limb, sizeof v.limb);
    opg_u256_to_be32(out, &v);
}

int opg_dec_cmp(const opg_dec *a, const opg_dec *b) { return opgi_cmp_n(a->limb, b->limb, 4); }

int opg_dec_is_zero(const opg_dec *a) { return opgi_is_zero_n(a->limb, 4); }

int opg_dec_add(opg_dec *out, const opg_dec *a, const opg_dec *b)
{
    return add4(out->limb, a->limb, b->limb);
}

int opg_dec_sub(opg_dec *out, const opg_dec *a, const opg_dec *b)
{
    return sub4(out->limb, a->limb, b->limb);
}

int opg_dec_mul(opg_dec *out, const opg_dec *a, const opg_dec *b)
{
    return opgi_muldiv(out->limb, 4, a->limb, 4, b->limb, 4, P_LIMB, 1, OPGI_HALF_EVEN);
}

int opg_dec_mul_truncate(opg_dec *out, const opg_dec *a, const opg_dec *b)
{
    return opgi_muldiv(out->limb, 4, a->limb, 4, b->limb, 4, P_LIMB, 1, OPGI_TRUNC);
}

int opg_dec_mul_round_up(opg_dec *out, const opg_dec *a, const opg_dec *b)
{
    return opgi_muldiv(out->limb, 4, a->limb, 4, b->limb, 4, P_LIMB, 1, OPGI_CEIL);
}

int opg_dec_quo(opg_dec *out, const opg_dec *a, const opg_dec *b)
{
    /* Cosmos: truncate a*P*P/b once (36 decimals), then round half to even to 18. */
    uint64_t t[6];
    int rc = opgi_muldiv(t, 6, a->limb, 4, P2_LIMBS, 2, b->limb, 4, OPGI_TRUNC);
    if (rc)
        return rc;
    return opgi_muldiv(out->limb, 4, t, 6, ONE, 1, P_LIMB, 1, OPGI_HALF_EVEN);
}

int opg_dec_quo_truncate(opg_dec *out, const opg_dec *a, const opg_dec *b)
{
    return opgi_muldiv(out->limb, 4, a->limb, 4, P_LIMB, 1, b->limb, 4, OPGI_TRUNC);
}

int opg_dec_quo_round_up(opg_dec *out, const opg_dec *a, const opg_dec *b)
{
    return opgi_muldiv(out->limb, 4, a->limb, 4, P_LIMB, 1, b->limb, 4, OPGI_CEIL);
}

int opg_dec_mul_int(opg_dec *out, const opg_dec *a, const opg_u256 *i)
{
    return opgi_muldiv(out->limb, 4, a->limb, 4, i->limb, 4, ONE, 1, OPGI_TRUNC);
}

int opg_dec_quo_int(opg_dec *out, const opg_dec *a, const opg_u256 *i)
{
    return opgi_muldiv(out->limb, 4, a->limb, 4, ONE, 1, i->limb, 4, OPGI_TRUNC);
}

void opg_dec_truncate_int(opg_u256 *out, const opg_dec *a)
{
    OPGI_MUST(opgi_muldiv(out->limb, 4, a->limb, 4, ONE, 1, P_LIMB, 1, OPGI_TRUNC));
}
