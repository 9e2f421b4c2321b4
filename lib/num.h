/*
 * num.h - fixed-width unsigned integers as little-endian uint64_t limb arrays.
 *
 * Everything wider than 64 bits in libopg goes through here: the public opg_u256 and
 * opg_dec, and the wider internal values (F1 cumulative ratios, products before a
 * division). Multiplication and division use GMP's mpn layer on stack arrays: no
 * heap, no mpz, no global state. Limb counts are at most OPGI_NUM_MAX.
 */
#ifndef OPG_NUM_H
#define OPG_NUM_H

#include "internal.h"

/* Widest operand, in 64-bit limbs (1024 bits). */
#define OPGI_NUM_MAX 16

enum opgi_round {
    OPGI_TRUNC,    /* toward zero */
    OPGI_CEIL,     /* up */
    OPGI_HALF_EVEN /* nearest, ties to the even neighbour (banker's) */
};

/* 10^18, the decimal scale P, as one limb. */
#define OPGI_P UINT64_C(1000000000000000000)

/* out[outn] = round(a[an] * b[bn] / d[dn]) with `mode`.
 * OPG_EDIVZERO if d is 0, OPG_EOVERFLOW if the result needs more than outn limbs;
 * out is untouched on error. an + bn <= OPGI_NUM_MAX, dn <= OPGI_NUM_MAX. */
int opgi_muldiv(uint64_t *out, size_t outn, const uint64_t *a, size_t an, const uint64_t *b,
                size_t bn, const uint64_t *d, size_t dn, enum opgi_round mode);

/* out = a + b over n limbs; returns the carry out (0 or 1). out may alias. */
uint64_t opgi_add_n(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n);
/* out = a - b over n limbs; returns the borrow out (0 or 1). out may alias. */
uint64_t opgi_sub_n(uint64_t *out, const uint64_t *a, const uint64_t *b, size_t n);
int opgi_cmp_n(const uint64_t *a, const uint64_t *b, size_t n);
int opgi_is_zero_n(const uint64_t *a, size_t n);
/* Copies a[an] into out[outn]: zero-extends, or OPG_EOVERFLOW if a has set limbs past outn. */
int opgi_resize_n(uint64_t *out, size_t outn, const uint64_t *a, size_t an);

/* out[outn] = floor(sqrt(a[an])). OPG_EOVERFLOW if it needs more than outn limbs. */
int opgi_isqrt(uint64_t *out, size_t outn, const uint64_t *a, size_t an);
/* out = a >> bits over n limbs (bits may exceed 64 * n: the result is then 0). */
void opgi_shr_n(uint64_t *out, const uint64_t *a, size_t n, uint64_t bits);

/* Checked helpers on the public types, used throughout the modules. */
static inline int opgi_u256_is_zero(const opg_u256 *a) { return opgi_is_zero_n(a->limb, 4); }
static inline int opgi_dec_is_zero(const opg_dec *a) { return opgi_is_zero_n(a->limb, 4); }

#endif /* OPG_NUM_H */
