/*
 * bench_arith.c - the cost of libopg's checked 256-bit arithmetic.
 *
 *   result arith.mul_div_ns      mean ns of opg_u256_mul_div (a*b/c, 256-bit operands)
 *   result arith.mpn_mul_div_ns  the same quotient with bare mpn_mul_n + mpn_tdiv_qr
 *   result arith.mul_div_vs_mpn  the ratio of the two: what the checks and the
 *                                limb conversions around GMP cost
 *   result arith.dec_mul_ns, arith.dec_quo_ns, arith.dec_from_string_ns,
 *          arith.dec_to_string_ns
 *
 * Each figure is the median over ROUNDS rounds of the mean over one round; the
 * libopg and mpn loops alternate round by round on the same operands, so the
 * ratio compares like with like. Runs in well under a few seconds.
 */
#include "bench.h"

#include "opg.h"

#include <gmp.h>

#define OPS 1024    /* operand sets, cycled through (fits in L1/L2) */
#define REPS 200    /* passes over them per round */
#define ROUNDS 9

typedef struct triple {
    opg_u256 a, b, c;
} triple;

static triple ops[OPS];
static mp_limb_t mp_a[OPS][8], mp_b[OPS][8], mp_c[OPS][8];
static opg_dec dec_a[OPS], dec_b[OPS];
static char dec_text[OPS][OPG_DEC_STRING_MAX];

static void rand_u256(bench_rng *r, opg_u256 *v)
{
    for (int i = 0; i < 4; i++)
        v->limb[i] = bench_rand(r);
}

/* Copies 4 uint64 limbs into GMP limbs (32- or 64-bit); returns the limb count. */
static mp_size_t to_mp(mp_limb_t *dst, const opg_u256 *v)
{
    mp_size_t k = 0;
    for (int i = 0; i < 4; i++) {
        if (GMP_NUMB_BITS == 64) {
            dst[k++] = (mp_limb_t)v->limb[i];
        } else {
            dst[k++] = (mp_limb_t)(v->limb[i] & 0xffffffffu);
            dst[k++] = (mp_limb_t)(v->limb[i] >> 32);
        }
    }
    return k;
}

static void setup(void)
{
    bench_rng r = {UINT64_C(0xbe4c4a717)};
    for (int i = 0; i < OPS; i++) {
        /* Full-width random operands. c gets its top bit set and is kept >= a, so
         * a*b/c <= b always fits: every call does the whole job and succeeds. */
        rand_u256(&r, &ops[i].a);
        rand_u256(&r, &ops[i].b);
        rand_u256(&r, &ops[i].c);
        ops[i].c.limb[3] |= UINT64_C(1) << 63;
        if (opg_u256_cmp(&ops[i].a, &ops[i].c) > 0) {
            opg_u256 t = ops[i].a;
            ops[i].a = ops[i].c;
            ops[i].c = t;
        }
        to_mp(mp_a[i], &ops[i].a);
        to_mp(mp_b[i], &ops[i].b);
        to_mp(mp_c[i], &ops[i].c);

        /* Decimals of realistic size: up to ~10^20 with 18 decimals (2^128 raw),
         * so products and quotients stay in range. */
        opg_u256 ra = {{bench_rand(&r), bench_rand(&r) >> 1, 0, 0}};
        opg_u256 rb = {{bench_rand(&r) | 1, bench_rand(&r) >> 8, 0, 0}};
        opg_dec_from_raw(&dec_a[i], &ra);
        opg_dec_from_raw(&dec_b[i], &rb);
        opg_dec_to_string(dec_text[i], sizeof dec_text[i], NULL, &dec_a[i]);
    }
}

static unsigned long errors;

/* One round of each measured loop; each returns the mean ns per call. */
static double round_mul_div(void)
{
    uint64_t acc = 0;
    bench_timer t;
    bench_timer_start(&t);
    for (int rep = 0; rep < REPS; rep++)
        for (int i = 0; i < OPS; i++) {
            opg_u256 q;
            if (opg_u256_mul_div(&q, &ops[i].a, &ops[i].b, &ops[i].c) != OPG_OK)
                errors++;
            acc ^= q.limb[0];
        }
    uint64_t ns = bench_timer_ns(&t);
    bench_sink ^= acc;
    return (double)ns / ((double)REPS * OPS);
}

static double round_mpn(void)
{
    const mp_size_t n = 4 * 64 / GMP_NUMB_BITS;
    uint64_t acc = 0;
    bench_timer t;
    bench_timer_start(&t);
    for (int rep = 0; rep < REPS; rep++)
        for (int i = 0; i < OPS; i++) {
            mp_limb_t prod[16], q[16], rem[8];
            mpn_mul_n(prod, mp_a[i], mp_b[i], n);
            mpn_tdiv_qr(q, rem, 0, prod, 2 * n, mp_c[i], n);
            acc ^= (uint64_t)q[0];
        }
    uint64_t ns = bench_timer_ns(&t);
    bench_sink ^= acc;
    return (double)ns / ((double)REPS * OPS);
}

/* dec operations: op 0 mul, 1 quo, 2 from_string, 3 to_string */
static double round_dec(int op)
{
    uint64_t acc = 0;
    char buf[OPG_DEC_STRING_MAX];
    bench_timer t;
    bench_timer_start(&t);
    for (int rep = 0; rep < REPS; rep++)
        for (int i = 0; i < OPS; i++) {
            opg_dec d;
            int rc = OPG_OK;
            switch (op) {
            case 0: rc = opg_dec_mul(&d, &dec_a[i], &dec_b[i]); break;
            case 1: rc = opg_dec_quo(&d, &dec_a[i], &dec_b[i]); break;
            case 2: rc = opg_dec_from_string(&d, dec_text[i]); break;
            default:
                rc = opg_dec_to_string(buf, sizeof buf, NULL, &dec_a[i]);
                d.limb[0] = (uint64_t)buf[0];
                break;
            }
            if (rc != OPG_OK)
                errors++;
            acc ^= d.limb[0];
        }
    uint64_t ns = bench_timer_ns(&t);
    bench_sink ^= acc;
    return (double)ns / ((double)REPS * OPS);
}

int main(void)
{
    setup();
    bench_timer total;
    bench_timer_start(&total);

    /* warm up caches and the clock frequency before anything counts */
    round_mul_div();
    round_mpn();

    double md[ROUNDS], mp[ROUNDS], ratio[ROUNDS], dec[4][ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        /* alternate which loop goes first so drift hurts neither side */
        if (r % 2) {
            mp[r] = round_mpn();
            md[r] = round_mul_div();
        } else {
            md[r] = round_mul_div();
            mp[r] = round_mpn();
        }
        ratio[r] = md[r] / mp[r];
        for (int op = 0; op < 4; op++)
            dec[op][r] = round_dec(op);
        bench_progress("arith", (uint64_t)r + 1, ROUNDS);
    }
    if (errors) {
        fprintf(stderr, "bench_arith: %lu operations failed; the operands are wrong\n", errors);
        return 1;
    }

    char title[160];
    snprintf(title, sizeof title,
             "arith: %d operand sets x %d passes, median of %d rounds, GMP %s (%d-bit limbs)",
             OPS, REPS, ROUNDS, gmp_version, GMP_NUMB_BITS);
    bench_table_header(title);
    bench_result("arith.mul_div_ns", bench_median(md, ROUNDS), "ns");
    bench_result("arith.mpn_mul_div_ns", bench_median(mp, ROUNDS), "ns");
    bench_result("arith.mul_div_vs_mpn", bench_median(ratio, ROUNDS), "x");
    bench_result("arith.dec_mul_ns", bench_median(dec[0], ROUNDS), "ns");
    bench_result("arith.dec_quo_ns", bench_median(dec[1], ROUNDS), "ns");
    bench_result("arith.dec_from_string_ns", bench_median(dec[2], ROUNDS), "ns");
    bench_result("arith.dec_to_string_ns", bench_median(dec[3], ROUNDS), "ns");
    printf("  (%.2f s in all, peak RSS %.1f MiB)\n", (double)bench_timer_ns(&total) / 1e9,
           (double)bench_peak_rss_bytes() / (1024.0 * 1024.0));
    return 0;
}
