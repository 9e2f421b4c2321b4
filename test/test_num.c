/*
 * test_num.c - opg_u256 and opg_dec against GMP's mpz as the reference.
 *
 * Every operation runs on 100,000 fixed-seed random operand pairs skewed to the
 * edges (0, 1, powers of two and their neighbours, 2^256 - 1, 10^18 multiples and
 * exact half ties), and the result (or the error) must equal the reference formula
 * of SEMANTICS.md section 1 evaluated exactly in mpz. Known answers and the
 * decimal text grammar follow.
 */
#include "harness.h"

#include <gmp.h>

#include "num.h"

#define CASES 100000

static void limbs_to_mpz(mpz_t z, const uint64_t limb[4])
{
    mpz_set_ui(z, 0);
    for (int i = 3; i >= 0; i--) {
        mpz_mul_2exp(z, z, 32);
        mpz_add_ui(z, z, (unsigned long)(limb[i] >> 32));
        mpz_mul_2exp(z, z, 32);
        mpz_add_ui(z, z, (unsigned long)(limb[i] & 0xffffffffu));
    }
}

/* mpz -> 4 limbs; returns 0 if it does not fit (or is negative). */
static int mpz_to_limbs(uint64_t limb[4], const mpz_t z)
{
    if (mpz_sgn(z) < 0 || mpz_sizeinbase(z, 2) > 256)
        return 0;
    mpz_t t, part;
    mpz_init_set(t, z);
    mpz_init(part);
    for (int i = 0; i < 4; i++) {
        mpz_fdiv_r_2exp(part, t, 32);
        uint64_t lo = mpz_get_ui(part);
        mpz_fdiv_q_2exp(t, t, 32);
        mpz_fdiv_r_2exp(part, t, 32);
        uint64_t hi = mpz_get_ui(part);
        mpz_fdiv_q_2exp(t, t, 32);
        limb[i] = lo | (hi << 32);
    }
    mpz_clear(t);
    mpz_clear(part);
    return 1;
}

/* Operands skewed to the edges. */
static void gen(test_rng *r, uint64_t out[4])
{
    memset(out, 0, 32);
    switch (rng_below(r, 12)) {
    case 0: break; /* zero */
    case 1: out[0] = rng_below(r, 3); break; /* 0, 1, 2 */
    case 2: { /* 2^k, 2^k - 1, 2^k + 1 */
        unsigned k = (unsigned)rng_below(r, 256);
        out[k / 64] = UINT64_C(1) << (k % 64);
        int d = (int)rng_below(r, 3);
        if (d == 1) { uint64_t one[4] = {1, 0, 0, 0}; uint64_t b = 0;
            for (int i = 0; i < 4; i++) { uint64_t t = out[i] - one[i] - b; b = (out[i] < one[i] + b) || (one[i] + b < b); out[i] = t; } }
        if (d == 2) out[0] |= 1;
        break;
    }
    case 3: out[0] = out[1] = out[2] = out[3] = UINT64_MAX; break; /* 2^256 - 1 */
    case 4: out[0] = UINT64_C(1000000000000000000) * rng_below(r, 19); break; /* small integer decs */
    case 5: out[0] = UINT64_C(500000000000000000); break; /* 0.5: makes exact ties */
    case 6: out[0] = UINT64_C(2000000000000000000) + 0 * rng_below(r, 2); break; /* 2.0 */
    case 7: out[0] = rng_next(r) | 1; break; /* one random odd limb */
    case 8: { /* random width */
        unsigned bits = 1 + (unsigned)rng_below(r, 256);
        for (unsigned i = 0; i < 4; i++) out[i] = rng_next(r);
        for (unsigned i = 0; i < 4; i++) {
            if (bits >= 64 * (i + 1)) continue;
            unsigned keep = bits > 64 * i ? bits - 64 * i : 0;
            out[i] = keep == 0 ? 0 : (keep == 64 ? out[i] : out[i] & ((UINT64_C(1) << keep) - 1));
        }
        break;
    }
    case 9: out[0] = rng_next(r); out[1] = rng_below(r, 1u << 20); break; /* token-sized */
    case 10: out[0] = rng_below(r, 1000); break;
    default: for (int i = 0; i < 4; i++) out[i] = rng_next(r); break;
    }
}

enum mode { TRUNC, CEIL, HALF_EVEN };

/* q = round(n / d) in mpz with the given mode; n >= 0, d > 0. */
static void ref_div(mpz_t q, const mpz_t n, const mpz_t d, enum mode m)
{
    mpz_t r, r2;
    mpz_init(r);
    mpz_init(r2);
    mpz_tdiv_qr(q, r, n, d);
    if (mpz_sgn(r) != 0) {
        if (m == CEIL)
            mpz_add_ui(q, q, 1);
        if (m == HALF_EVEN) {
            mpz_mul_2exp(r2, r, 1);
            int c = mpz_cmp(r2, d);
            if (c > 0 || (c == 0 && mpz_odd_p(q)))
                mpz_add_ui(q, q, 1);
        }
    }
    mpz_clear(r);
    mpz_clear(r2);
}

enum op { ADD, SUB, MUL_U, DIV_U, MULDIV_U, DADD, DSUB, DMUL, DMUL_T, DMUL_U, DQUO, DQUO_T,
          DQUO_U, DMUL_INT, DQUO_INT, DTRUNC, DFROM_INT, OP_COUNT };
static const char *const op_names[] = {"u256_add", "u256_sub", "u256_mul", "u256_divmod",
    "u256_mul_div", "dec_add", "dec_sub", "dec_mul", "dec_mul_truncate", "dec_mul_round_up",
    "dec_quo", "dec_quo_truncate", "dec_quo_round_up", "dec_mul_int", "dec_quo_int",
    "dec_truncate_int", "dec_from_int"};

/* Reference: returns the expected error code; sets want on success. */
static int reference(enum op op, const mpz_t a, const mpz_t b, const mpz_t c, mpz_t want)
{
    mpz_t P, t;
    mpz_init_set_str(P, "1000000000000000000", 10);
    mpz_init(t);
    int rc = OPG_OK;
    switch (op) {
    case ADD: case DADD: mpz_add(want, a, b); break;
    case SUB: case DSUB: mpz_sub(want, a, b); if (mpz_sgn(want) < 0) rc = OPG_EUNDERFLOW; break;
    case MUL_U: case DMUL_INT: mpz_mul(want, a, b); break;
    case DIV_U: case DQUO_INT:
        if (mpz_sgn(b) == 0) rc = OPG_EDIVZERO; else mpz_tdiv_q(want, a, b); break;
    case MULDIV_U:
        if (mpz_sgn(c) == 0) rc = OPG_EDIVZERO; else { mpz_mul(t, a, b); mpz_tdiv_q(want, t, c); } break;
    case DMUL: mpz_mul(t, a, b); ref_div(want, t, P, HALF_EVEN); break;
    case DMUL_T: mpz_mul(t, a, b); ref_div(want, t, P, TRUNC); break;
    case DMUL_U: mpz_mul(t, a, b); ref_div(want, t, P, CEIL); break;
    case DQUO:
        if (mpz_sgn(b) == 0) { rc = OPG_EDIVZERO; break; }
        mpz_mul(t, a, P); mpz_mul(t, t, P); mpz_tdiv_q(t, t, b); ref_div(want, t, P, HALF_EVEN); break;
    case DQUO_T:
        if (mpz_sgn(b) == 0) { rc = OPG_EDIVZERO; break; }
        mpz_mul(t, a, P); ref_div(want, t, b, TRUNC); break;
    case DQUO_U:
        if (mpz_sgn(b) == 0) { rc = OPG_EDIVZERO; break; }
        mpz_mul(t, a, P); ref_div(want, t, b, CEIL); break;
    case DTRUNC: mpz_tdiv_q(want, a, P); break;
    case DFROM_INT: mpz_mul(want, a, P); break;
    default: break;
    }
    if (rc == OPG_OK && mpz_sizeinbase(want, 2) > 256 && mpz_sgn(want) != 0)
        rc = OPG_EOVERFLOW;
    mpz_clear(P);
    mpz_clear(t);
    return rc;
}

static int run_op(enum op op, uint64_t out[4], const uint64_t a[4], const uint64_t b[4],
                  const uint64_t c[4])
{
    opg_u256 ua, ub, uc, uo;
    opg_dec da, db, dout;
    memcpy(ua.limb, a, 32); memcpy(ub.limb, b, 32); memcpy(uc.limb, c, 32);
    memcpy(da.limb, a, 32); memcpy(db.limb, b, 32);
    memcpy(uo.limb, out, 32); memcpy(dout.limb, out, 32);
    int rc = OPG_OK;
    switch (op) {
    case ADD: rc = opg_u256_add(&uo, &ua, &ub); break;
    case SUB: rc = opg_u256_sub(&uo, &ua, &ub); break;
    case MUL_U: rc = opg_u256_mul(&uo, &ua, &ub); break;
    case DIV_U: {
        opg_u256 rem;
        rc = opg_u256_divmod(&uo, &rem, &ua, &ub);
        if (rc == OPG_OK) { /* a == q*b + r and r < b */
            opg_u256 back;
            if (opg_u256_cmp(&rem, &ub) >= 0) return 99;
            if (opg_u256_mul(&back, &uo, &ub) || opg_u256_add(&back, &back, &rem) ||
                opg_u256_cmp(&back, &ua) != 0) return 99;
        }
        break;
    }
    case MULDIV_U: rc = opg_u256_mul_div(&uo, &ua, &ub, &uc); break;
    case DADD: rc = opg_dec_add(&dout, &da, &db); break;
    case DSUB: rc = opg_dec_sub(&dout, &da, &db); break;
    case DMUL: rc = opg_dec_mul(&dout, &da, &db); break;
    case DMUL_T: rc = opg_dec_mul_truncate(&dout, &da, &db); break;
    case DMUL_U: rc = opg_dec_mul_round_up(&dout, &da, &db); break;
    case DQUO: rc = opg_dec_quo(&dout, &da, &db); break;
    case DQUO_T: rc = opg_dec_quo_truncate(&dout, &da, &db); break;
    case DQUO_U: rc = opg_dec_quo_round_up(&dout, &da, &db); break;
    case DMUL_INT: rc = opg_dec_mul_int(&dout, &da, &ub); break;
    case DQUO_INT: rc = opg_dec_quo_int(&dout, &da, &ub); break;
    case DTRUNC: opg_dec_truncate_int(&uo, &da); break;
    case DFROM_INT: rc = opg_dec_from_int(&dout, &ua); break;
    default: break;
    }
    int is_u = op <= MULDIV_U || op == DTRUNC;
    memcpy(out, is_u ? uo.limb : dout.limb, 32);
    return rc;
}

static void test_differential(void)
{
    test_rng r = {42};
    mpz_t za, zb, zc, zw, zg;
    mpz_t zP, zhalf;
    mpz_init(za); mpz_init(zb); mpz_init(zc); mpz_init(zw); mpz_init(zg);
    mpz_init_set_str(zP, "1000000000000000000", 10);
    mpz_init_set_str(zhalf, "500000000000000000", 10);
    int all_ok = 1;
    for (int op = 0; op < OP_COUNT; op++) {
        long mismatches = 0, errors = 0, ties = 0;
        for (int i = 0; i < CASES; i++) {
            uint64_t a[4], b[4], c[4], out[4], before[4];
            gen(&r, a); gen(&r, b); gen(&r, c);
            for (int k = 0; k < 4; k++) before[k] = out[k] = rng_next(&r);
            limbs_to_mpz(za, a); limbs_to_mpz(zb, b); limbs_to_mpz(zc, c);
            int want_rc = reference((enum op)op, za, zb, zc, zw);
            int rc = run_op((enum op)op, out, a, b, c);
            if (rc != want_rc) {
                mismatches++;
            } else if (rc != OPG_OK) {
                errors++;
                if (memcmp(out, before, 32) != 0) /* a failed call leaves the output alone */
                    mismatches++;
            } else {
                limbs_to_mpz(zg, out);
                if (mpz_cmp(zg, zw) != 0)
                    mismatches++;
            }
            if (op == DMUL || op == DQUO) { /* count the exact half ties produced */
                if (op == DMUL) {
                    mpz_mul(zg, za, zb);
                } else if (mpz_sgn(zb) != 0) {
                    mpz_mul(zg, za, zP); mpz_mul(zg, zg, zP); mpz_tdiv_q(zg, zg, zb);
                }
                mpz_fdiv_r(zg, zg, zP);
                if (mpz_cmp(zg, zhalf) == 0) ties++;
            }
        }
        if (mismatches) {
            printf("  %s: %ld mismatches of %d\n", op_names[op], mismatches, CASES);
            all_ok = 0;
        } else {
            printf("  %s: %d cases agree (%ld of them errors", op_names[op], CASES, errors);
            if (op == DMUL || op == DQUO)
                printf(", %ld exact half ties", ties);
            printf(")\n");
        }
        if ((op == DMUL || op == DQUO) && ties < 100) {
            printf("  %s: too few exact ties (%ld) to test half to even\n", op_names[op], ties);
            all_ok = 0;
        }
    }
    mpz_clear(za); mpz_clear(zb); mpz_clear(zc); mpz_clear(zw); mpz_clear(zg);
    mpz_clear(zP); mpz_clear(zhalf);
    CHECK(all_ok);
}

/* The one-word shape of opgi_muldiv (a, b, d each below 2^64, the form most calls
 * take) against mpz, for every rounding and output width 1, 2 and 4, quotients at
 * and past 2^64 included: the same result and the same overflow refusal. */
static void test_muldiv_one_word(void)
{
    test_rng r = {7};
    mpz_t za, zb, zd, zq, zr, z2r, lim;
    mpz_inits(za, zb, zd, zq, zr, z2r, lim, NULL);
    long bad = 0, wide = 0, ties = 0;
    static const enum opgi_round modes[3] = {OPGI_TRUNC, OPGI_CEIL, OPGI_HALF_EVEN};
    static const size_t widths[3] = {1, 2, 4};
    for (int i = 0; i < 200000; i++) {
        uint64_t a = rng_next(&r) | 1, b = rng_next(&r) | 1;
        uint64_t d = rng_below(&r, 4) == 0 ? 1 + rng_below(&r, 1000) : (rng_next(&r) | 1);
        if (i % 5 == 0) { /* exact half ties: d even, a*b = q*d + d/2 */
            d = 2 * (1 + rng_below(&r, UINT64_C(1) << 40));
            b = 1;
            a = (rng_below(&r, UINT64_C(1) << 20) * d) + d / 2;
        }
        enum opgi_round mode = modes[i % 3];
        size_t outn = widths[(i / 3) % 3];
        mpz_set_ui(za, 0); mpz_import(za, 1, 1, 8, 0, 0, &a);
        mpz_import(zb, 1, 1, 8, 0, 0, &b);
        mpz_import(zd, 1, 1, 8, 0, 0, &d);
        mpz_mul(zq, za, zb);
        mpz_tdiv_qr(zq, zr, zq, zd);
        if (mpz_sgn(zr)) {
            mpz_mul_2exp(z2r, zr, 1);
            int c = mpz_cmp(z2r, zd);
            ties += c == 0;
            if (mode == OPGI_CEIL || (mode == OPGI_HALF_EVEN && (c > 0 || (c == 0 && mpz_odd_p(zq)))))
                mpz_add_ui(zq, zq, 1);
        }
        mpz_ui_pow_ui(lim, 2, 64 * (unsigned long)outn);
        int want = mpz_cmp(zq, lim) >= 0 ? OPG_EOVERFLOW : OPG_OK;
        uint64_t out[4] = {11, 12, 13, 14}, one_a[1] = {a}, one_b[1] = {b}, one_d[1] = {d};
        int rc = opgi_muldiv(out, outn, one_a, 1, one_b, 1, one_d, 1, mode);
        wide += mpz_sizeinbase(zq, 2) > 64;
        if (rc != want) { bad++; continue; }
        if (rc != OPG_OK) continue;
        uint64_t got[4] = {0, 0, 0, 0};
        memcpy(got, out, outn * sizeof *out);
        mpz_t zg;
        mpz_init(zg);
        mpz_import(zg, 4, -1, 8, 0, 0, got);
        bad += mpz_cmp(zg, zq) != 0;
        for (size_t k = outn; k < 4; k++) /* nothing past the output width is touched */
            bad += out[k] != 11 + k;
        mpz_clear(zg);
    }
    mpz_clears(za, zb, zd, zq, zr, z2r, lim, NULL);
    printf("  one-word muldiv: 200000 cases, %ld quotients past 2^64, %ld exact ties, %ld wrong\n",
           wide, ties, bad);
    CHECK(bad == 0 && wide > 1000 && ties > 1000);
}

static void test_rounding_known_answers(void)
{
    opg_dec r;
    /* mul: 0.5 * 0.000000000000000001 = 0.0000000000000000005 -> tie, even -> 0 */
    opg_dec half = dec_of("0.5"), tiny = dec_of("0.000000000000000001");
    CHECK_OK(opg_dec_mul(&r, &half, &tiny)); CHECK_DEC(r, "0");
    CHECK_OK(opg_dec_mul_round_up(&r, &half, &tiny)); CHECK_DEC(r, "0.000000000000000001");
    CHECK_OK(opg_dec_mul_truncate(&r, &half, &tiny)); CHECK_DEC(r, "0");
    /* 0.5 * 0.000000000000000003 = 1.5e-18 -> tie, even -> 2e-18 */
    opg_dec three = dec_of("0.000000000000000003");
    CHECK_OK(opg_dec_mul(&r, &half, &three)); CHECK_DEC(r, "0.000000000000000002");
    CHECK_OK(opg_dec_mul_truncate(&r, &half, &three)); CHECK_DEC(r, "0.000000000000000001");
    /* quo: 1 / 3 = 0.333...; 2 / 3 = 0.666...7 (half even on the 36-digit value) */
    opg_dec one = dec_of("1"), two = dec_of("2"), d3 = dec_of("3");
    CHECK_OK(opg_dec_quo(&r, &one, &d3)); CHECK_DEC(r, "0.333333333333333333");
    CHECK_OK(opg_dec_quo(&r, &two, &d3)); CHECK_DEC(r, "0.666666666666666667");
    CHECK_OK(opg_dec_quo_truncate(&r, &two, &d3)); CHECK_DEC(r, "0.666666666666666666");
    CHECK_OK(opg_dec_quo_round_up(&r, &one, &d3)); CHECK_DEC(r, "0.333333333333333334");
    /* quo tie: 1e-18 / 2 = 5e-19 -> 0 (even); 3e-18 / 2 = 1.5e-18 -> 2e-18 */
    CHECK_OK(opg_dec_quo(&r, &tiny, &two)); CHECK_DEC(r, "0");
    CHECK_OK(opg_dec_quo(&r, &three, &two)); CHECK_DEC(r, "0.000000000000000002");
    CHECK_RC(opg_dec_quo(&r, &one, &(opg_dec){{0, 0, 0, 0}}), OPG_EDIVZERO);
    /* mul_int / quo_int / truncate_int */
    opg_u256 seven = u64v(7), i;
    opg_dec x = dec_of("1.5");
    CHECK_OK(opg_dec_mul_int(&r, &x, &seven)); CHECK_DEC(r, "10.5");
    CHECK_OK(opg_dec_quo_int(&r, &x, &seven)); CHECK_DEC(r, "0.214285714285714285");
    opg_dec_truncate_int(&i, &x); CHECK_U256(i, "1");
    /* overflow leaves the output untouched */
    opg_u256 max = u256_of("115792089237316195423570985008687907853269984665640564039457584007913129639935");
    opg_u256 out = u64v(5), one_u = u64v(1);
    CHECK_RC(opg_u256_add(&out, &max, &one_u), OPG_EOVERFLOW); CHECK_U256(out, "5");
    CHECK_RC(opg_u256_sub(&out, &one_u, &max), OPG_EUNDERFLOW); CHECK_U256(out, "5");
    CHECK_RC(opg_u256_mul(&out, &max, &max), OPG_EOVERFLOW); CHECK_U256(out, "5");
    /* a*b/c with a product far above 2^256 but a result that fits */
    CHECK_OK(opg_u256_mul_div(&out, &max, &max, &max));
    CHECK(opg_u256_cmp(&out, &max) == 0);
}

static void test_decimal_text(void)
{
    opg_dec d;
    char buf[OPG_DEC_STRING_MAX];
    const char *ok_in[] = {"0", "123", "0.5", "007", "1.000000000000000001", "1.500000000000000000",
                           "0.000000000000000001", "18446744073709551616.25"};
    const char *ok_out[] = {"0", "123", "0.5", "7", "1.000000000000000001", "1.5",
                            "0.000000000000000001", "18446744073709551616.25"};
    for (size_t k = 0; k < sizeof ok_in / sizeof *ok_in; k++) {
        CHECK_OK(opg_dec_from_string(&d, ok_in[k]));
        CHECK_OK(opg_dec_to_string(buf, sizeof buf, NULL, &d));
        CHECK(strcmp(buf, ok_out[k]) == 0);
    }
    /* the largest decimal: raw 2^256 - 1 */
    const char *max = "115792089237316195423570985008687907853269984665640564039457.584007913129639935";
    CHECK_OK(opg_dec_from_string(&d, max));
    CHECK_OK(opg_dec_to_string(buf, sizeof buf, NULL, &d));
    CHECK(strcmp(buf, max) == 0);
    CHECK_RC(opg_dec_from_string(&d, "115792089237316195423570985008687907853269984665640564039457.584007913129639936"), OPG_EOVERFLOW);
    const char *bad[] = {"", ".", "1.", ".5", "-1", "+1", " 1", "1 ", "1e5", "1.0000000000000000001",
                         "0x10", "1,5", "1..2", "1.2.3", "٣", "NaN", "inf"};
    opg_dec keep = dec_of("42");
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        d = keep;
        CHECK_RC(opg_dec_from_string(&d, bad[k]), OPG_EPARSE);
        CHECK(opg_dec_cmp(&d, &keep) == 0);
    }
    opg_u256 u;
    CHECK_RC(opg_u256_from_string(&u, "1.5"), OPG_EPARSE);
    CHECK_RC(opg_u256_from_string(&u, ""), OPG_EPARSE);
    CHECK_RC(opg_u256_from_string(&u, "115792089237316195423570985008687907853269984665640564039457584007913129639936"), OPG_EOVERFLOW);
    /* buffers: exact fit works, one byte short is EBUFS with the size needed */
    d = dec_of("12.5");
    size_t need = 0;
    CHECK_RC(opg_dec_to_string(buf, 4, &need, &d), OPG_EBUFS);
    CHECK(need == 5);
    CHECK_OK(opg_dec_to_string(buf, 5, &need, &d));
    CHECK(strcmp(buf, "12.5") == 0);
    CHECK_RC(opg_dec_to_string(NULL, 0, &need, &d), OPG_EBUFS);
    u = u64v(1000);
    CHECK_RC(opg_u256_to_string(buf, 4, &need, &u), OPG_EBUFS);
    CHECK(need == 5);
}

static void test_round_trips(void)
{
    test_rng r = {7};
    for (int i = 0; i < CASES; i++) {
        uint64_t v[4];
        gen(&r, v);
        opg_dec d, back;
        opg_u256 u, uback;
        memcpy(d.limb, v, 32);
        memcpy(u.limb, v, 32);
        char s[OPG_DEC_STRING_MAX];
        CHECK_OK(opg_dec_to_string(s, sizeof s, NULL, &d));
        CHECK_OK(opg_dec_from_string(&back, s));
        CHECK(opg_dec_cmp(&d, &back) == 0);
        CHECK_OK(opg_u256_to_string(s, sizeof s, NULL, &u));
        CHECK_OK(opg_u256_from_string(&uback, s));
        CHECK(opg_u256_cmp(&u, &uback) == 0);
        uint8_t be[32];
        opg_u256_to_be32(be, &u);
        opg_u256_from_be32(&uback, be);
        CHECK(opg_u256_cmp(&u, &uback) == 0);
        opg_dec_to_be32(be, &d);
        opg_dec_from_be32(&back, be);
        CHECK(opg_dec_cmp(&d, &back) == 0);
    }
    /* big-endian layout: most significant byte first */
    opg_u256 one = u64v(1);
    uint8_t be[32];
    opg_u256_to_be32(be, &one);
    CHECK(be[31] == 1 && be[0] == 0);
    uint64_t x;
    opg_u256 big = u256_of("18446744073709551616");
    CHECK_RC(opg_u256_to_u64(&x, &big), OPG_EOVERFLOW);
    big = u256_of("18446744073709551615");
    CHECK_OK(opg_u256_to_u64(&x, &big));
    CHECK(x == UINT64_MAX);
}

int main(void)
{
    RUN(test_differential);
    RUN(test_muldiv_one_word);
    RUN(test_rounding_known_answers);
    RUN(test_decimal_text);
    RUN(test_round_trips);
    return harness_done();
}
