/*
 * bench_pricer.c - the cost of pricing and charging one inference request, and of
 * one end_block, on a pricer with 4 dimensions (two EIP-1559, two exponential) and
 * 16 model classes.
 *
 *   result pricer.quote_ns      mean ns of opg_pricer_quote
 *   result pricer.charge_ns     mean ns of opg_pricer_charge (tip, five-way split,
 *                               two verifiers, usage recorded)
 *   result pricer.end_block_ns  mean ns of opg_pricer_end_block after a block of
 *                               charges (every controller runs, excess series included)
 *
 * Each figure is the median over ROUNDS rounds of the mean over one round.
 */
#include "bench.h"

#include "opg.h"

#define DIMS 4
#define CLASSES 16
#define OPS 1024    /* requests, cycled through */
#define REPS 100    /* passes over them per round */
#define ROUNDS 9
#define PRICERS 256 /* end_block: one block on each of these per round */

static opg_pricer_request requests[OPS];
static opg_id verifier_ids[OPS][2];

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_pricer: %s: %s\n", what, opg_errname(rc));
    exit(1);
}

static opg_pricer *make_pricer(bench_rng *r)
{
    opg_pricer_params pp;
    opg_pricer_params_init(&pp);
    pp.dimension_count = DIMS;
    const char *names[DIMS] = {"gpu_ms", "mem_mb", "tokens_in", "tokens_out"};
    for (size_t d = 0; d < DIMS; d++) {
        opg_pricer_dimension *x = &pp.dimensions[d];
        snprintf(x->name, sizeof x->name, "%s", names[d]);
        x->controller = d < 2 ? OPG_PRICER_EIP1559 : OPG_PRICER_EXPONENTIAL;
        /* a block holds well over a round of requests, so no charge hits a limit */
        opg_u256_from_u64(&x->target, UINT64_C(1) << 40);
        opg_u256_from_u64(&x->limit, UINT64_C(1) << 41);
        opg_u256_from_u64(&x->min_base_fee, 1000);
        opg_u256_from_u64(&x->initial_base_fee, 1000000);
        x->update_fraction = UINT64_C(1) << 38; /* a full block: about e^4 */
    }
    const char *shares[5] = {"0.55", "0.2", "0.15", "0.07", "0.03"};
    opg_dec *fields[5] = {&pp.split.inference, &pp.split.verifiers, &pp.split.stakers,
                          &pp.split.burn, &pp.split.community};
    for (size_t i = 0; i < 5; i++)
        opg_dec_from_string(fields[i], shares[i]);
    opg_pricer_class cls[CLASSES];
    memset(cls, 0, sizeof cls);
    for (uint32_t i = 0; i < CLASSES; i++) {
        cls[i].id = 100 + 7 * i;
        for (size_t d = 0; d < DIMS; d++) {
            /* multipliers between 0.1 and 4 with 18 decimals, as real models have */
            opg_u256 raw;
            opg_u256_from_u64(&raw, 100000000000000000u + bench_rand(r) % 3900000000000000000u);
            opg_dec_from_raw(&cls[i].multiplier[d], &raw);
        }
    }
    pp.classes = cls;
    pp.class_count = CLASSES;
    opg_pricer *p;
    int rc = opg_pricer_new(&p, &pp, NULL);
    if (rc)
        die("opg_pricer_new", rc);
    return p;
}

static void make_requests(bench_rng *r)
{
    for (int i = 0; i < OPS; i++) {
        memset(&requests[i], 0, sizeof requests[i]);
        requests[i].model_class = 100 + 7 * (uint32_t)(bench_rand(r) % CLASSES);
        for (size_t d = 0; d < DIMS; d++)
            opg_u256_from_u64(&requests[i].units[d], 1 + bench_rand(r) % 4000);
        for (int v = 0; v < 2; v++)
            for (int b = 0; b < 32; b++)
                verifier_ids[i][v].bytes[b] = (uint8_t)bench_rand(r);
    }
}

/* Mean ns per quote over one round. */
static double quote_round(const opg_pricer *p)
{
    opg_pricer_price price;
    uint64_t sink = 0;
    bench_timer t;
    bench_timer_start(&t);
    for (int rep = 0; rep < REPS; rep++)
        for (int i = 0; i < OPS; i++) {
            if (opg_pricer_quote(&price, p, &requests[i]) != OPG_OK)
                die("opg_pricer_quote", -1);
            sink += price.base_fee.limb[0];
        }
    double ns = (double)bench_timer_ns(&t) / (REPS * OPS);
    bench_sink = sink;
    return ns;
}

/* Mean ns per charge over one round; the block ends (untimed) after each pass. */
static double charge_round(opg_pricer *p)
{
    static const opg_u256 max_fee = {{UINT64_MAX, UINT64_MAX, 0, 0}};
    static const opg_u256 tip = {{123456789, 0, 0, 0}};
    opg_pricer_receipt receipt;
    opg_u256 amounts[2];
    uint64_t sink = 0, total = 0;
    for (int rep = 0; rep < REPS; rep++) {
        bench_timer t;
        bench_timer_start(&t);
        for (int i = 0; i < OPS; i++) {
            int rc = opg_pricer_charge(&receipt, amounts, p, &requests[i], &max_fee, &tip,
                                       verifier_ids[i], 2);
            if (rc)
                die("opg_pricer_charge", rc);
            sink += receipt.inference.limb[0];
        }
        total += bench_timer_ns(&t);
        opg_pricer_end_block(NULL, p);
    }
    bench_sink = sink;
    return (double)total / (REPS * OPS);
}

/* Mean ns per end_block: each pricer gets a block of charges (untimed) around its
 * targets, then every pricer's end_block runs in one timed pass. */
static double end_block_round(opg_pricer **pricers, bench_rng *r)
{
    static const opg_u256 max_fee = {{UINT64_MAX, UINT64_MAX, 0, 0}};
    static const opg_u256 tip = {{0, 0, 0, 0}};
    opg_pricer_receipt receipt;
    opg_u256 amounts[2];
    for (int k = 0; k < PRICERS; k++) {
        /* between none and the limit in each dimension (a few refused: no usage) */
        opg_pricer_request big = requests[bench_rand(r) % OPS];
        uint64_t scale = bench_rand(r) % (UINT64_C(1) << 37);
        for (size_t d = 0; d < DIMS; d++)
            opg_u256_from_u64(&big.units[d], scale * (1 + bench_rand(r) % 4));
        if (scale)
            opg_pricer_charge(&receipt, amounts, pricers[k], &big, &max_fee, &tip,
                              verifier_ids[k], 2);
    }
    opg_u256 fees[OPG_PRICER_MAX_DIMENSIONS];
    uint64_t sink = 0;
    bench_timer t;
    bench_timer_start(&t);
    for (int k = 0; k < PRICERS; k++) {
        opg_pricer_end_block(fees, pricers[k]);
        sink += fees[0].limb[0];
    }
    double ns = (double)bench_timer_ns(&t) / PRICERS;
    bench_sink = sink;
    return ns;
}

int main(void)
{
    bench_rng r = {UINT64_C(0x9e1ce5)};
    opg_pricer *p = make_pricer(&r);
    make_requests(&r);

    /* end_block runs on copies, each carrying its own excess from block to block */
    size_t len;
    opg_pricer_save(NULL, 0, &len, p);
    uint8_t *blob = malloc(len);
    int rc = opg_pricer_save(blob, len, &len, p);
    if (rc)
        die("opg_pricer_save", rc);
    static opg_pricer *pricers[PRICERS];
    for (int k = 0; k < PRICERS; k++)
        if ((rc = opg_pricer_load(&pricers[k], blob, len, NULL)) != OPG_OK)
            die("opg_pricer_load", rc);
    free(blob);

    double quote[ROUNDS], charge[ROUNDS], end_block[ROUNDS];
    for (int round = 0; round < ROUNDS; round++) {
        quote[round] = quote_round(p);
        charge[round] = charge_round(p);
        end_block[round] = end_block_round(pricers, &r);
        bench_progress("pricer", (uint64_t)round + 1, ROUNDS);
    }

    bench_table_header("pricer: 4 dimensions (2 EIP-1559, 2 exponential), 16 model classes");
    bench_result("pricer.quote_ns", bench_median(quote, ROUNDS), "ns");
    bench_result("pricer.charge_ns", bench_median(charge, ROUNDS), "ns");
    bench_result("pricer.end_block_ns", bench_median(end_block, ROUNDS), "ns");

    for (int k = 0; k < PRICERS; k++)
        opg_pricer_free(pricers[k]);
    opg_pricer_free(p);
    return 0;
}
