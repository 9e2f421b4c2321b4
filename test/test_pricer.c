/*
 * test_pricer.c - the fee pricer (SEMANTICS.md section 6).
 *
 * Known answers worked by hand from the rules (EIP-1559 steps, fake_exponential
 * terms, sum and max, ceilings, the split and its dust), go-ethereum's and
 * EIP-4844's own vectors, an independent 64-bit reimplementation of Ethereum's
 * base-fee rule, every refusal leaving the state hash as it was, parameters by key,
 * save/load, allocation failures, and a long fixed-seed random run.
 */
#include "failalloc.h"
#include "harness.h"
#include "record_store.h"

/* ------------------------------------------------------------------ helpers */

static void hash_of(uint8_t out[32], const opg_pricer *p) { opg_pricer_state_hash(out, p); }

/* One EIP-1559 dimension "gas" as Ethereum: target, limit = 2 * target, denominator 8. */
static void params_gas(opg_pricer_params *pp, uint64_t target, uint64_t base_fee)
{
    opg_pricer_params_init(pp);
    pp->dimension_count = 1;
    strcpy(pp->dimensions[0].name, "gas");
    pp->dimensions[0].target = u64v(target);
    pp->dimensions[0].limit = u64v(2 * target);
    pp->dimensions[0].initial_base_fee = u64v(base_fee);
}

/* A class whose multipliers are all `m` (decimal text). */
static opg_pricer_class class_of(uint32_t id, const char *m)
{
    opg_pricer_class c;
    memset(&c, 0, sizeof c);
    c.id = id;
    for (size_t d = 0; d < OPG_PRICER_MAX_DIMENSIONS; d++)
        c.multiplier[d] = dec_of(m);
    return c;
}

static opg_pricer_request request_of(uint32_t cls, uint64_t u0, uint64_t u1, uint64_t u2,
                                     uint64_t u3)
{
    opg_pricer_request r;
    memset(&r, 0, sizeof r);
    r.model_class = cls;
    r.units[0] = u64v(u0);
    r.units[1] = u64v(u1);
    r.units[2] = u64v(u2);
    r.units[3] = u64v(u3);
    return r;
}

static const opg_u256 U256_MAX = {{UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX}};
#define U256_MAX_TEXT \
    "115792089237316195423570985008687907853269984665640564039457584007913129639935"

/* Charges `units` of dimension 0 under class 1 with an unlimited max fee, no tip. */
static int charge_units(opg_pricer *p, uint64_t units)
{
    opg_pricer_request rq = request_of(1, units, 0, 0, 0);
    opg_pricer_receipt r;
    opg_u256 zero = u64v(0);
    return opg_pricer_charge(&r, NULL, p, &rq, &U256_MAX, &zero, NULL, 0);
}

static opg_u256 base_fee_of(const opg_pricer *p, size_t dim)
{
    opg_pricer_dimension_state s;
    memset(&s, 0, sizeof s);
    opg_pricer_dimension_get(NULL, &s, p, dim);
    return s.base_fee;
}

/* A one-dimension pricer with class 1 (multiplier 1). */
static opg_pricer *gas_pricer(uint64_t target, uint64_t base_fee)
{
    opg_pricer_params pp;
    params_gas(&pp, target, base_fee);
    opg_pricer_class c = class_of(1, "1");
    pp.classes = &c;
    pp.class_count = 1;
    opg_pricer *p = NULL;
    if (opg_pricer_new(&p, &pp, NULL) != OPG_OK)
        abort();
    return p;
}

/* ---------------------------------------------------------------- EIP-1559 */

static void test_eip1559_by_hand(void)
{
    opg_pricer *p = gas_pricer(15000000, 1000000000);
    opg_u256 fees[OPG_PRICER_MAX_DIMENSIONS];

    /* at target: unchanged */
    CHECK_OK(charge_units(p, 15000000));
    CHECK_OK(opg_pricer_end_block(fees, p));
    CHECK_U256(fees[0], "1000000000");
    CHECK_U256(fees[1], "0");

    /* full block: + 1e9 * 15M / 15M / 8 = +125,000,000 (+12.5 %) */
    CHECK_OK(charge_units(p, 30000000));
    CHECK_OK(opg_pricer_end_block(fees, p));
    CHECK_U256(fees[0], "1125000000");

    /* empty block: - 1,125,000,000 / 8 = -140,625,000 (-12.5 %) */
    CHECK_OK(opg_pricer_end_block(fees, p));
    CHECK_U256(fees[0], "984375000");

    /* usage resets at end_block: a full block fits again */
    CHECK_OK(charge_units(p, 30000000));
    CHECK_RC(charge_units(p, 1), OPG_ELIMIT);
    opg_pricer_free(p);

    /* a fresh 1e9 with an empty block: exactly 875,000,000 */
    p = gas_pricer(15000000, 1000000000);
    CHECK_OK(opg_pricer_end_block(fees, p));
    CHECK_U256(fees[0], "875000000");
    opg_pricer_free(p);
}

/* go-ethereum's TestCalcBaseFee vectors: gas limit 20M (target 10M), base fee 1 gwei. */
static void test_eip1559_geth_vectors(void)
{
    struct {
        uint64_t used;
        const char *want;
    } v[] = {{10000000, "1000000000"}, {9000000, "987500000"}, {11000000, "1012500000"}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        opg_pricer *p = gas_pricer(10000000, 1000000000);
        CHECK_OK(charge_units(p, v[i].used));
        opg_u256 fees[OPG_PRICER_MAX_DIMENSIONS];
        CHECK_OK(opg_pricer_end_block(fees, p));
        CHECK_U256(fees[0], v[i].want);
        opg_pricer_free(p);
    }
}

static void test_eip1559_tiny_and_zero(void)
{
    opg_u256 fees[OPG_PRICER_MAX_DIMENSIONS];
    /* 7 * 1 / 15M truncates to 0, / 8 to 0: the minimum increase of 1 applies */
    opg_pricer *p = gas_pricer(15000000, 7);
    CHECK_OK(charge_units(p, 15000001));
    CHECK_OK(opg_pricer_end_block(fees, p));
    CHECK_U256(fees[0], "8");
    /* a full block at 8: 8 * 15M / 15M / 8 = 1 */
    CHECK_OK(charge_units(p, 30000000));
    CHECK_OK(opg_pricer_end_block(fees, p));
    CHECK_U256(fees[0], "9");
    /* empty at 9: 9 / 8 = 1 off */
    CHECK_OK(opg_pricer_end_block(fees, p));
    CHECK_U256(fees[0], "8");
    /* empty at 8: 1 off; at 7: 7 / 8 = 0, so 7 stays 7 for ever */
    CHECK_OK(opg_pricer_end_block(fees, p));
    CHECK_U256(fees[0], "7");
    CHECK_OK(opg_pricer_end_block(fees, p));
    CHECK_U256(fees[0], "7");
    opg_pricer_free(p);

    /* base fee 0: an empty block keeps it at 0, any usage above target makes it 1 */
    p = gas_pricer(15000000, 0);
    CHECK_OK(opg_pricer_end_block(fees, p));
    CHECK_U256(fees[0], "0");
    CHECK_OK(charge_units(p, 15000001));
    CHECK_OK(opg_pricer_end_block(fees, p));
    CHECK_U256(fees[0], "1");
    opg_pricer_free(p);
}

/* go-ethereum's CalcBaseFee, written again in 64 bits; values here stay far below 2^64. */
static uint64_t ethereum_next(uint64_t bf, uint64_t used, uint64_t target)
{
    if (used == target)
        return bf;
    if (used > target) {
        uint64_t delta = bf * (used - target) / target / 8;
        return bf + (delta < 1 ? 1 : delta);
    }
    uint64_t delta = bf * (target - used) / target / 8;
    return bf - delta;
}

static void test_eip1559_matches_ethereum(void)
{
    test_rng rng = {42};
    /* Ethereum's own base fee is unbounded; keep it small enough for 64-bit products */
    const uint64_t target = 15000000, cap = 400000000000ull;
    opg_pricer *p = gas_pricer(target, 1000000000);
    uint64_t want = 1000000000;
    for (int block = 0; block < 3000; block++) {
        uint64_t used;
        switch (rng_below(&rng, 5)) {
        case 0: used = 0; break;
        case 1: used = 2 * target; break;
        case 2: used = target; break;
        default: used = rng_below(&rng, 2 * target + 1); break;
        }
        if (want > cap / 2)
            used = rng_below(&rng, target); /* steer back down before the 64-bit limit */
        if (used)
            CHECK_OK(charge_units(p, used));
        opg_u256 fees[OPG_PRICER_MAX_DIMENSIONS];
        CHECK_OK(opg_pricer_end_block(fees, p));
        want = ethereum_next(want, used, target);
        uint64_t got;
        CHECK_OK(opg_u256_to_u64(&got, &fees[0]));
        CHECK(got == want);
    }
    opg_pricer_free(p);
}

static void test_eip1559_bounds_and_denominator(void)
{
    opg_pricer_params pp;
    params_gas(&pp, 100, 1000);
    pp.dimensions[0].min_base_fee = u64v(900);
    pp.dimensions[0].max_base_fee = u64v(1300);
    pp.dimensions[0].denominator = 2; /* +-50 % at a full or empty block */
    opg_pricer_class c = class_of(1, "1");
    pp.classes = &c;
    pp.class_count = 1;
    opg_pricer *p;
    CHECK_OK(opg_pricer_new(&p, &pp, NULL));
    opg_u256 fees[OPG_PRICER_MAX_DIMENSIONS];
    CHECK_OK(opg_pricer_end_block(fees, p)); /* 1000 - 500 = 500, clamped up */
    CHECK_U256(fees[0], "900");
    CHECK_OK(charge_units(p, 200));
    CHECK_OK(opg_pricer_end_block(fees, p)); /* 900 + 450 = 1350, clamped down */
    CHECK_U256(fees[0], "1300");
    CHECK_OK(charge_units(p, 150));
    CHECK_OK(opg_pricer_end_block(fees, p)); /* 1300 + 1300*50/100/2 = 1625 -> 1300 */
    CHECK_U256(fees[0], "1300");
    CHECK_OK(charge_units(p, 75));
    CHECK_OK(opg_pricer_end_block(fees, p)); /* 1300 - 1300*25/100/2 = 1300 - 162 */
    CHECK_U256(fees[0], "1138");
    opg_pricer_free(p);
}

/* Huge numbers: the increase needs more than 256 bits and is capped, not wrapped. */
static void test_eip1559_wide(void)
{
    opg_pricer_params pp;
    opg_pricer_params_init(&pp);
    pp.dimension_count = 1;
    strcpy(pp.dimensions[0].name, "wide");
    pp.dimensions[0].target = u64v(1);
    pp.dimensions[0].limit = U256_MAX;
    pp.dimensions[0].initial_base_fee = u256_of("1000000000000000000000000000000000000000");
    pp.dimensions[0].denominator = 1;
    opg_pricer_class c = class_of(1, "1");
    pp.classes = &c;
    pp.class_count = 1;
    opg_pricer *p;
    CHECK_OK(opg_pricer_new(&p, &pp, NULL));
    opg_pricer_request rq;
    memset(&rq, 0, sizeof rq);
    rq.model_class = 1;
    /* 2^200 units at 10^39 each: the fee itself overflows */
    rq.units[0] = u256_of("1606938044258990275541962092341162602522202993782792835301376");
    opg_pricer_price price;
    CHECK_RC(opg_pricer_quote(&price, p, &rq), OPG_EOVERFLOW);

    /* 2, 2 and 2 units: 10^39 + 10^39 * (6 - 1) / 1 / 1 */
    opg_pricer_receipt r;
    opg_u256 zero = u64v(0), fees[OPG_PRICER_MAX_DIMENSIONS];
    rq.units[0] = u64v(2);
    for (int i = 0; i < 3; i++)
        CHECK_OK(opg_pricer_charge(&r, NULL, p, &rq, &U256_MAX, &zero, NULL, 0));
    CHECK_OK(opg_pricer_end_block(fees, p));
    CHECK_U256(fees[0], "6000000000000000000000000000000000000000");

    /* four of the largest payable requests: bf * usage is about 2^258 */
    opg_u256 bf = fees[0];
    CHECK_OK(opg_u256_divmod(&rq.units[0], NULL, &U256_MAX, &bf));
    for (int i = 0; i < 4; i++)
        CHECK_OK(opg_pricer_charge(&r, NULL, p, &rq, &U256_MAX, &zero, NULL, 0));
    CHECK_OK(opg_pricer_end_block(fees, p));
    CHECK(opg_u256_cmp(&fees[0], &U256_MAX) == 0);

    /* at the top: 3 units make 2 * (2^256 - 1) more, still capped */
    rq.units[0] = u64v(1);
    for (int i = 0; i < 3; i++)
        CHECK_OK(opg_pricer_charge(&r, NULL, p, &rq, &U256_MAX, &zero, NULL, 0));
    CHECK_OK(opg_pricer_end_block(fees, p));
    CHECK(opg_u256_cmp(&fees[0], &U256_MAX) == 0);

    /* an empty block with denominator 1 takes all of it: floor at 0 */
    CHECK_OK(opg_pricer_end_block(fees, p));
    CHECK_U256(fees[0], "0");
    opg_pricer_free(p);
}

/* ----------------------------------------------------------- exponential */

static void test_fake_exponential(void)
{
    /* by hand, factor 1, numerator 2, denominator 1: accum 1, 2, 2, 1, 0 -> 6 */
    struct {
        uint64_t f, n, d, want;
    } v[] = {
        {1, 2, 1, 6},
        /* EIP-4844's own vectors (as in go-ethereum's TestFakeExponential) */
        {1, 0, 1, 1},
        {38493, 0, 1000, 38493},
        {0, 1234, 2345, 0},
        {1, 4, 2, 6},
        {1, 3, 1, 16},
        {1, 6, 2, 18},
        {1, 4, 1, 49},
        {1, 8, 2, 50},
        {10, 8, 2, 542},
        {11, 8, 2, 596},
        {1, 5, 1, 136},
        {1, 5, 2, 11},
        {2, 5, 2, 23},
        {1, 50000000, 2225652, 5709098764ull},
        /* the blob base fee after 100 blocks of 3 blobs over target */
        {1, 39321600, 3338477, 130392},
        {1, 33384770, 3338477, 22026},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        opg_u256 f = u64v(v[i].f), n = u64v(v[i].n), d = u64v(v[i].d), out;
        CHECK_OK(opg_pricer_fake_exponential(&out, &f, &n, &d));
        uint64_t got;
        CHECK_OK(opg_u256_to_u64(&got, &out));
        CHECK(got == v[i].want);
    }
    opg_u256 out = u64v(12345), zero = u64v(0), one = u64v(1);
    /* refusals leave out untouched */
    CHECK_RC(opg_pricer_fake_exponential(&out, &one, &one, &zero), OPG_EDIVZERO);
    opg_u256 half = u256_of(
        "57896044618658097711785492504343953926634992332820282019728792003956564819968");
    CHECK_RC(opg_pricer_fake_exponential(&out, &half, &one, &one), OPG_EOVERFLOW); /* ~e*2^255 */
    /* a numerator of 2^200 overflows after a few terms instead of looping for ever */
    opg_u256 huge = u256_of("1606938044258990275541962092341162602522202993782792835301376");
    CHECK_RC(opg_pricer_fake_exponential(&out, &one, &huge, &one), OPG_EOVERFLOW);
    CHECK_RC(opg_pricer_fake_exponential(&out, &U256_MAX, &zero, &one), OPG_OK);
    CHECK(opg_u256_cmp(&out, &U256_MAX) == 0);
    CHECK_OK(opg_pricer_fake_exponential(&out, &zero, &huge, &one));
    CHECK_U256(out, "0");
    /* e^177 is just below 2^256: the series runs hundreds of terms, exactly */
    opg_u256 n177 = u64v(177);
    CHECK_OK(opg_pricer_fake_exponential(&out, &one, &n177, &one));
    opg_u256 n178 = u64v(178);
    CHECK_RC(opg_pricer_fake_exponential(&out, &one, &n178, &one), OPG_EOVERFLOW);
}

static opg_pricer *exp_pricer(uint64_t target, uint64_t limit, uint64_t min, uint64_t max,
                              uint64_t fraction)
{
    opg_pricer_params pp;
    opg_pricer_params_init(&pp);
    pp.dimension_count = 1;
    strcpy(pp.dimensions[0].name, "blob");
    pp.dimensions[0].controller = OPG_PRICER_EXPONENTIAL;
    pp.dimensions[0].target = u64v(target);
    pp.dimensions[0].limit = u64v(limit);
    pp.dimensions[0].min_base_fee = u64v(min);
    pp.dimensions[0].max_base_fee = max ? u64v(max) : U256_MAX;
    pp.dimensions[0].initial_base_fee = u64v(min);
    pp.dimensions[0].update_fraction = fraction;
    opg_pricer_class c = class_of(1, "1");
    pp.classes = &c;
    pp.class_count = 1;
    opg_pricer *p = NULL;
    if (opg_pricer_new(&p, &pp, NULL) != OPG_OK)
        abort();
    return p;
}

static void test_exponential_by_hand(void)
{
    /* target 1, fraction 1: base fee = fake_exponential(1, excess, 1) */
    opg_pricer *p = exp_pricer(1, 3, 1, 0, 1);
    opg_u256 fees[OPG_PRICER_MAX_DIMENSIONS];
    opg_pricer_dimension_state s;
    CHECK_OK(charge_units(p, 3));
    CHECK_OK(opg_pricer_end_block(fees, p)); /* excess 2: 1 + 2 + 2 + 1 = 6 */
    CHECK_U256(fees[0], "6");
    CHECK_OK(opg_pricer_dimension_get(NULL, &s, p, 0));
    CHECK_U256(s.excess, "2");
    CHECK_OK(opg_pricer_end_block(fees, p)); /* excess 1: 1 + 1 = 2 */
    CHECK_U256(fees[0], "2");
    CHECK_OK(opg_pricer_end_block(fees, p)); /* excess 0 */
    CHECK_U256(fees[0], "1");
    CHECK_OK(opg_pricer_end_block(fees, p)); /* excess stays 0, never negative */
    CHECK_U256(fees[0], "1");
    CHECK_OK(charge_units(p, 1)); /* at target: excess unchanged */
    CHECK_OK(opg_pricer_end_block(fees, p));
    CHECK_OK(opg_pricer_dimension_get(NULL, &s, p, 0));
    CHECK_U256(s.excess, "0");
    opg_pricer_free(p);
}

static void test_exponential_eip4844(void)
{
    /* EIP-4844 at Cancun: target 3 blobs, max 6, min 1 wei, fraction 3,338,477 */
    opg_pricer *p = exp_pricer(393216, 786432, 1, 0, 3338477);
    opg_u256 fees[OPG_PRICER_MAX_DIMENSIONS];
    for (int b = 1; b <= 100; b++) {
        CHECK_OK(charge_units(p, 786432));
        CHECK_OK(opg_pricer_end_block(fees, p));
        opg_u256 one = u64v(1), excess = u64v((uint64_t)b * 393216), frac = u64v(3338477),
                 want;
        CHECK_OK(opg_pricer_fake_exponential(&want, &one, &excess, &frac));
        CHECK(opg_u256_cmp(&fees[0], &want) == 0);
    }
    CHECK_U256(fees[0], "130392");
    opg_pricer_free(p);

    /* the cap: max_base_fee 1000 stops the climb, the excess keeps counting */
    p = exp_pricer(393216, 786432, 1, 1000, 3338477);
    for (int b = 0; b < 100; b++) {
        CHECK_OK(charge_units(p, 786432));
        CHECK_OK(opg_pricer_end_block(fees, p));
    }
    CHECK_U256(fees[0], "1000");
    opg_pricer_dimension_state s;
    CHECK_OK(opg_pricer_dimension_get(NULL, &s, p, 0));
    CHECK_U256(s.excess, "39321600");
    opg_pricer_free(p);
}

/* ------------------------------------------------------- pricing rules */

/* Three dimensions at base fees 10, 20, 30 and class 1 with multiplier 1. */
static opg_pricer *three_dims(void)
{
    opg_pricer_params pp;
    opg_pricer_params_init(&pp);
    pp.dimension_count = 3;
    const char *names[] = {"gpu", "tokens_in", "tokens-out"};
    for (size_t d = 0; d < 3; d++) {
        strcpy(pp.dimensions[d].name, names[d]);
        pp.dimensions[d].initial_base_fee = u64v(10 * (d + 1));
        pp.dimensions[d].target = u64v(1000);
        pp.dimensions[d].limit = u64v(2000);
    }
    opg_pricer_class cls[3] = {class_of(7, "1"), class_of(1, "1"), class_of(3, "1.5")};
    cls[2].multiplier[1] = dec_of("0.000000000000000001");
    cls[2].multiplier[2] = dec_of("0");
    pp.classes = cls;
    pp.class_count = 3;
    opg_pricer *p = NULL;
    if (opg_pricer_new(&p, &pp, NULL) != OPG_OK)
        abort();
    return p;
}

static void test_sum_and_max(void)
{
    opg_pricer *p = three_dims();
    opg_pricer_request rq = request_of(1, 1, 2, 3, 0);
    opg_pricer_price q;
    CHECK(opg_pricer_combine_get(p) == OPG_PRICER_COMBINE_SUM);
    CHECK_OK(opg_pricer_quote(&q, p, &rq));
    CHECK_U256(q.dimension_fee[0], "10");
    CHECK_U256(q.dimension_fee[1], "40");
    CHECK_U256(q.dimension_fee[2], "90");
    CHECK_U256(q.dimension_fee[3], "0");
    CHECK_U256(q.base_fee, "140");
    CHECK_OK(opg_pricer_param_set(p, "fees.combine", "max"));
    CHECK(opg_pricer_combine_get(p) == OPG_PRICER_COMBINE_MAX);
    CHECK_OK(opg_pricer_quote(&q, p, &rq));
    CHECK_U256(q.base_fee, "90");
    rq = request_of(1, 9, 2, 0, 0); /* 90 vs 40: the first dimension sets the price */
    CHECK_OK(opg_pricer_quote(&q, p, &rq));
    CHECK_U256(q.base_fee, "90");
    /* max still records usage in every dimension */
    opg_pricer_receipt r;
    opg_u256 zero = u64v(0), max_fee = u64v(90);
    CHECK_OK(opg_pricer_charge(&r, NULL, p, &rq, &max_fee, &zero, NULL, 0));
    opg_pricer_dimension_state s;
    CHECK_OK(opg_pricer_dimension_get(NULL, &s, p, 1));
    CHECK_U256(s.usage, "2");
    opg_pricer_free(p);
}

static void test_effective_units_ceil(void)
{
    opg_pricer *p = three_dims();
    opg_pricer_price q;
    /* class 3: 1.5 per unit, 1e-18 per unit, 0 per unit */
    opg_pricer_request rq = request_of(3, 3, 1, 5, 0);
    CHECK_OK(opg_pricer_quote(&q, p, &rq));
    CHECK_U256(q.effective_units[0], "5"); /* ceil(4.5) */
    CHECK_U256(q.effective_units[1], "1"); /* ceil(1e-18) */
    CHECK_U256(q.effective_units[2], "0");
    CHECK_U256(q.base_fee, "70"); /* 5*10 + 1*20 */
    rq = request_of(3, 4, 1000000000000000000ull, 0, 0);
    CHECK_OK(opg_pricer_quote(&q, p, &rq));
    CHECK_U256(q.effective_units[0], "6"); /* exactly 6: no rounding up */
    CHECK_U256(q.effective_units[1], "1");
    rq = request_of(3, 0, 1000000000000000001ull, 0, 0);
    CHECK_OK(opg_pricer_quote(&q, p, &rq));
    CHECK_U256(q.effective_units[1], "2");
    /* units only where the multiplier is 0: the request takes nothing */
    rq = request_of(3, 0, 0, 9, 0);
    CHECK_RC(opg_pricer_quote(&q, p, &rq), OPG_EZERO);
    rq = request_of(1, 0, 0, 0, 0);
    CHECK_RC(opg_pricer_quote(&q, p, &rq), OPG_EZERO);
    /* units past the dimension count are ignored */
    rq = request_of(1, 0, 0, 0, 5);
    CHECK_RC(opg_pricer_quote(&q, p, &rq), OPG_EZERO);
    opg_pricer_free(p);
}

static void test_tip(void)
{
    opg_pricer *p = gas_pricer(1000, 100);
    opg_pricer_request rq = request_of(1, 1, 0, 0, 0);
    opg_pricer_receipt r;
    opg_u256 max_fee = u64v(150), prio = u64v(20);
    CHECK_OK(opg_pricer_charge(&r, NULL, p, &rq, &max_fee, &prio, NULL, 0));
    CHECK_U256(r.price.base_fee, "100");
    CHECK_U256(r.tip, "20");
    CHECK_U256(r.fee, "120");
    CHECK_U256(r.inference, "120"); /* the default split: all to the inference node */
    prio = u64v(80); /* capped by max_fee - base fee */
    CHECK_OK(opg_pricer_charge(&r, NULL, p, &rq, &max_fee, &prio, NULL, 0));
    CHECK_U256(r.tip, "50");
    CHECK_U256(r.fee, "150");
    max_fee = u64v(100); /* exactly the base fee */
    CHECK_OK(opg_pricer_charge(&r, NULL, p, &rq, &max_fee, &prio, NULL, 0));
    CHECK_U256(r.tip, "0");
    CHECK_U256(r.fee, "100");
    max_fee = u64v(99);
    CHECK_RC(opg_pricer_charge(&r, NULL, p, &rq, &max_fee, &prio, NULL, 0), OPG_EFEE);
    opg_pricer_free(p);
}

static opg_u256 sum_of(const opg_u256 *v, size_t n)
{
    opg_u256 s = u64v(0);
    for (size_t i = 0; i < n; i++)
        if (opg_u256_add(&s, &s, &v[i]) != OPG_OK)
            abort();
    return s;
}

static void test_split_and_dust(void)
{
    opg_pricer *p = gas_pricer(1000, 99);
    CHECK_OK(opg_pricer_param_set(p, "fees.split", "0.5,0.2,0.2,0.05,0.05"));
    opg_pricer_request rq = request_of(1, 1, 0, 0, 0);
    opg_pricer_receipt r;
    opg_u256 max_fee = u64v(99), zero = u64v(0);
    opg_id ids[3] = {id_n(5), id_n(2), id_n(9)};
    opg_u256 amounts[3];
    CHECK_OK(opg_pricer_charge(&r, amounts, p, &rq, &max_fee, &zero, ids, 3));
    CHECK_U256(r.fee, "99");
    /* 49.5 -> 49, 19.8 -> 19, 19.8 -> 19, 4.95 -> 4, 4.95 -> 4: 95, dust 4 */
    CHECK_U256(r.inference, "53");
    CHECK_U256(r.verifiers, "19");
    CHECK_U256(r.stakers, "19");
    CHECK_U256(r.burn, "4");
    CHECK_U256(r.community, "4");
    /* 19 / 3 = 6 each, the remainder 1 to the lowest id, id 2 (second in the list) */
    CHECK_U256(amounts[0], "6");
    CHECK_U256(amounts[1], "7");
    CHECK_U256(amounts[2], "6");
    opg_u256 parts[5] = {r.inference, r.verifiers, r.stakers, r.burn, r.community};
    opg_u256 total = sum_of(parts, 5);
    CHECK(opg_u256_cmp(&total, &r.fee) == 0);

    /* one verifier takes the whole part; two ids that differ only in the first byte */
    opg_id a = id_n(1), b = id_n(1);
    a.bytes[0] = 1;
    opg_id two[2] = {a, b};
    CHECK_OK(opg_pricer_charge(&r, amounts, p, &rq, &max_fee, &zero, two, 2));
    CHECK_U256(amounts[0], "9");
    CHECK_U256(amounts[1], "10"); /* b sorts first by bytes */
    CHECK_OK(opg_pricer_charge(&r, amounts, p, &rq, &max_fee, &zero, ids, 1));
    CHECK_U256(amounts[0], "19");

    /* verifiers' share with no verifier, or a verifier twice: refused */
    CHECK_RC(opg_pricer_charge(&r, NULL, p, &rq, &max_fee, &zero, NULL, 0), OPG_EINVAL);
    opg_id dup[2] = {id_n(4), id_n(4)};
    CHECK_RC(opg_pricer_charge(&r, amounts, p, &rq, &max_fee, &zero, dup, 2), OPG_EINVAL);
    /* with no verifiers' share, no verifier is needed; given ones get 0 */
    CHECK_OK(opg_pricer_param_set(p, "fees.split", "0.7,0,0.2,0.1,0"));
    CHECK_OK(opg_pricer_charge(&r, NULL, p, &rq, &max_fee, &zero, NULL, 0));
    CHECK_U256(r.inference, "71"); /* 69.3 -> 69, 19.8 -> 19, 9.9 -> 9: dust 2 */
    CHECK_OK(opg_pricer_charge(&r, amounts, p, &rq, &max_fee, &zero, ids, 2));
    CHECK_U256(amounts[0], "0");
    CHECK_U256(amounts[1], "0");
    opg_pricer_free(p);
}

static void test_limits(void)
{
    opg_pricer *p = three_dims();
    opg_pricer_receipt r;
    opg_u256 zero = u64v(0);
    opg_pricer_request rq = request_of(1, 1500, 10, 0, 0);
    CHECK_OK(opg_pricer_charge(&r, NULL, p, &rq, &U256_MAX, &zero, NULL, 0));
    rq = request_of(1, 500, 10, 0, 0); /* exactly the limit of the first dimension */
    CHECK_OK(opg_pricer_charge(&r, NULL, p, &rq, &U256_MAX, &zero, NULL, 0));
    uint8_t before[32], after[32];
    hash_of(before, p);
    rq = request_of(1, 1, 0, 0, 0);
    CHECK_RC(opg_pricer_charge(&r, NULL, p, &rq, &U256_MAX, &zero, NULL, 0), OPG_ELIMIT);
    CHECK(strstr(opg_pricer_last_error(p), "gpu") != NULL);
    opg_pricer_price q;
    CHECK_RC(opg_pricer_quote(&q, p, &rq), OPG_ELIMIT);
    /* a request that fits one dimension but not another records nothing at all */
    rq = request_of(1, 1, 5, 0, 0);
    CHECK_RC(opg_pricer_charge(&r, NULL, p, &rq, &U256_MAX, &zero, NULL, 0), OPG_ELIMIT);
    hash_of(after, p);
    CHECK(memcmp(before, after, 32) == 0);
    rq = request_of(1, 0, 5, 0, 0);
    CHECK_OK(opg_pricer_charge(&r, NULL, p, &rq, &U256_MAX, &zero, NULL, 0));
    CHECK_OK(opg_pricer_end_block(NULL, p));
    rq = request_of(1, 2000, 0, 0, 0);
    CHECK_OK(opg_pricer_charge(&r, NULL, p, &rq, &U256_MAX, &zero, NULL, 0));
    opg_pricer_free(p);
}

/* Every refused call leaves the state hash and the outputs exactly as they were. */
static void test_refusals_change_nothing(void)
{
    opg_pricer *p = three_dims();
    CHECK_OK(opg_pricer_param_set(p, "fees.split", "0.5,0.3,0.1,0.1,0"));
    opg_pricer_receipt r;
    opg_u256 zero = u64v(0), small = u64v(5), amounts[2];
    opg_pricer_request ok = request_of(1, 10, 10, 10, 0);
    opg_id ids[2] = {id_n(1), id_n(2)};
    CHECK_OK(opg_pricer_charge(&r, amounts, p, &ok, &U256_MAX, &zero, ids, 2));

    opg_pricer_request unknown = request_of(99, 1, 0, 0, 0);
    opg_pricer_request nothing = request_of(1, 0, 0, 0, 0);
    opg_pricer_request too_many = request_of(1, 5000, 0, 0, 0);
    opg_pricer_request huge_units = request_of(3, 0, 0, 0, 0);
    huge_units.units[0] = U256_MAX; /* * 1.5 overflows */
    opg_pricer_request huge_fee = request_of(1, 0, 0, 0, 0);
    opg_id dup[2] = {id_n(3), id_n(3)};

    uint8_t h0[32], h1[32];
    hash_of(h0, p);
    opg_pricer_receipt untouched;
    memset(&untouched, 0xab, sizeof untouched);
    r = untouched;
    amounts[0] = amounts[1] = U256_MAX;
    struct {
        const opg_pricer_request *rq;
        const opg_u256 *max_fee;
        const opg_id *ids;
        size_t n;
        int want;
    } cases[] = {
        {&unknown, &U256_MAX, ids, 2, OPG_ECLASS},
        {&nothing, &U256_MAX, ids, 2, OPG_EZERO},
        {&too_many, &U256_MAX, ids, 2, OPG_ELIMIT},
        {&huge_units, &U256_MAX, ids, 2, OPG_EOVERFLOW},
        {&ok, &small, ids, 2, OPG_EFEE},
        {&ok, &U256_MAX, NULL, 0, OPG_EINVAL},
        {&ok, &U256_MAX, dup, 2, OPG_EINVAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_RC(opg_pricer_charge(&r, cases[i].n ? amounts : NULL, p, cases[i].rq,
                                   cases[i].max_fee, &zero, cases[i].ids, cases[i].n),
                 cases[i].want);
        CHECK(memcmp(&r, &untouched, sizeof r) == 0);
        CHECK(opg_u256_cmp(&amounts[0], &U256_MAX) == 0);
        CHECK(opg_pricer_last_error(p)[0] != '\0');
        opg_pricer_price q;
        memset(&q, 0xcd, sizeof q);
        opg_pricer_price q0 = q;
        if (cases[i].want != OPG_EFEE && cases[i].want != OPG_EINVAL) {
            CHECK_RC(opg_pricer_quote(&q, p, cases[i].rq), cases[i].want);
            CHECK(memcmp(&q, &q0, sizeof q) == 0);
        }
        hash_of(h1, p);
        CHECK(memcmp(h0, h1, 32) == 0);
    }

    /* a fee that overflows 256 bits: a base fee of 10 times (2^256 - 1) / 10 + 1 units */
    CHECK_OK(opg_pricer_param_set(p, "fees.gpu.max_base_fee", U256_MAX_TEXT));
    CHECK_OK(opg_pricer_param_set(p, "fees.gpu.limit", U256_MAX_TEXT));
    hash_of(h0, p);
    huge_fee.units[0] =
        u256_of("11579208923731619542357098500868790785326998466564056403945758400791312963994");
    CHECK_RC(opg_pricer_charge(&r, amounts, p, &huge_fee, &U256_MAX, &zero, ids, 2),
             OPG_EOVERFLOW);
    hash_of(h1, p);
    CHECK(memcmp(h0, h1, 32) == 0);

    /* refused class and parameter changes */
    CHECK_RC(opg_pricer_class_remove(p, 42), OPG_ECLASS);
    const char *bad[][2] = {
        {"fees.tokens_in.target", "3000"},    /* above the limit */
        {"fees.gpu.target", "0"},             /* below the minimum */
        {"fees.gpu.target", "x"},             /* malformed */
        {"fees.gpu.min_base_fee", U256_MAX_TEXT "0"}, /* 2^256 * 10 - 10 */
        {"fees.gpu.denominator", "0"},
        {"fees.gpu.denominator", "18446744073709551616"},
        {"fees.gpu.update_fraction", "5"},    /* not an exponential dimension */
        {"fees.gpu", "5"},
        {"fees.nope.target", "5"},
        {"fees.split", "0.5,0.5,0,0,0.000000000000000001"},
        {"fees.split", "0.5,0.5,0,0"},
        {"fees.split", "0.5,0.5,0,0,0,0"},
        {"fees.split", "0.5,0.5,0,0,"},
        {"fees.split", "0.5,0.5,-0,0,0"},
        {"fees.split", ""},
        {"fees.combine", "avg"},
        {"fees.tokens_in.limit", "999"},     /* below the target */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = opg_pricer_param_set(p, bad[i][0], bad[i][1]);
        if (rc == OPG_OK)
            printf("  accepted %s = %s\n", bad[i][0], bad[i][1]);
        CHECK(rc == OPG_EINVAL || rc == OPG_EPARSE || rc == OPG_EKEY);
        hash_of(h1, p);
        CHECK(memcmp(h0, h1, 32) == 0);
    }
    CHECK_RC(opg_pricer_param_set(p, "fees.nope.target", "5"), OPG_EKEY);
    CHECK_RC(opg_pricer_param_set(p, "fees.gpu.target", "x"), OPG_EPARSE);
    CHECK_RC(opg_pricer_param_set(p, "fees.tokens_in.target", "3000"), OPG_EINVAL);
    CHECK_RC(opg_pricer_param_set(p, NULL, "1"), OPG_EKEY);
    CHECK_RC(opg_pricer_param_set(p, "fees.gpu.target", NULL), OPG_EINVAL);
    hash_of(h1, p);
    CHECK(memcmp(h0, h1, 32) == 0);
    opg_pricer_free(p);
}

/* ------------------------------------------------------------ parameters */

static void test_params_by_key(void)
{
    opg_pricer_params pp;
    opg_pricer_params_init(&pp);
    pp.dimension_count = 2;
    strcpy(pp.dimensions[0].name, "gpu");
    strcpy(pp.dimensions[1].name, "blob");
    pp.dimensions[1].controller = OPG_PRICER_EXPONENTIAL;
    pp.dimensions[1].min_base_fee = u64v(1);
    pp.dimensions[1].initial_base_fee = u64v(1);
    opg_pricer *p;
    CHECK_OK(opg_pricer_new(&p, &pp, NULL));

    const char *want[] = {"fees.gpu.target",          "fees.gpu.limit",
                          "fees.gpu.min_base_fee",    "fees.gpu.max_base_fee",
                          "fees.gpu.denominator",     "fees.blob.target",
                          "fees.blob.limit",          "fees.blob.min_base_fee",
                          "fees.blob.max_base_fee",   "fees.blob.update_fraction",
                          "fees.combine",             "fees.split"};
    size_t n = 0;
    for (const char *k; (k = opg_pricer_param_key(p, n)) != NULL; n++) {
        CHECK(n < sizeof want / sizeof want[0]);
        CHECK(strcmp(k, want[n]) == 0);
        char buf[256];
        CHECK_OK(opg_pricer_param_get(buf, sizeof buf, NULL, p, k));
        CHECK_OK(opg_pricer_param_set(p, k, buf)); /* every value reads back as it sets */
    }
    CHECK(n == sizeof want / sizeof want[0]);

    char buf[256];
    size_t needed = 0;
    CHECK_OK(opg_pricer_param_get(buf, sizeof buf, &needed, p, "fees.gpu.denominator"));
    CHECK(strcmp(buf, "8") == 0 && needed == 2);
    CHECK_OK(opg_pricer_param_get(buf, sizeof buf, NULL, p, "fees.blob.update_fraction"));
    CHECK(strcmp(buf, "3338477") == 0);
    CHECK_OK(opg_pricer_param_get(buf, sizeof buf, NULL, p, "fees.split"));
    CHECK(strcmp(buf, "1,0,0,0,0") == 0);
    CHECK_OK(opg_pricer_param_get(buf, sizeof buf, NULL, p, "fees.combine"));
    CHECK(strcmp(buf, "sum") == 0);
    CHECK_RC(opg_pricer_param_get(buf, sizeof buf, NULL, p, "fees.blob.denominator"), OPG_EKEY);
    CHECK_RC(opg_pricer_param_get(buf, 3, &needed, p, "fees.gpu.limit"), OPG_EBUFS);
    CHECK(needed == 9); /* "30000000" */
    CHECK_RC(opg_pricer_param_get(buf, 4, &needed, p, "fees.split"), OPG_EBUFS);
    CHECK(needed == 10);

    CHECK_OK(opg_pricer_param_set(p, "fees.split", "0.7,0.1,0.15,0.05,0"));
    CHECK_OK(opg_pricer_param_get(buf, sizeof buf, NULL, p, "fees.split"));
    CHECK(strcmp(buf, "0.7,0.1,0.15,0.05,0") == 0);
    opg_pricer_split s;
    opg_pricer_split_get(&s, p);
    CHECK_DEC(s.stakers, "0.15");
    CHECK_OK(opg_pricer_param_set(p, "fees.gpu.target", "20000000"));
    CHECK_OK(opg_pricer_param_get(buf, sizeof buf, NULL, p, "fees.gpu.target"));
    CHECK(strcmp(buf, "20000000") == 0);
    CHECK_OK(opg_pricer_param_set(p, "fees.blob.update_fraction", "5"));
    opg_pricer_dimension d;
    CHECK_OK(opg_pricer_dimension_get(&d, NULL, p, 1));
    CHECK(d.update_fraction == 5 && d.denominator == 0 && d.controller == OPG_PRICER_EXPONENTIAL);
    CHECK(strcmp(d.name, "blob") == 0);
    size_t index = 9;
    CHECK_OK(opg_pricer_dimension_find(&index, p, "blob"));
    CHECK(index == 1);
    CHECK_RC(opg_pricer_dimension_find(&index, p, "nope"), OPG_ENOTFOUND);
    CHECK_RC(opg_pricer_dimension_get(&d, NULL, p, 2), OPG_EINVAL);

    /* new fee bounds pull the current base fee in at once */
    CHECK_OK(opg_pricer_param_set(p, "fees.gpu.max_base_fee", "500"));
    opg_u256 bf = base_fee_of(p, 0);
    CHECK_U256(bf, "500");
    CHECK_RC(opg_pricer_param_set(p, "fees.gpu.min_base_fee", "501"), OPG_EINVAL);
    CHECK(strstr(opg_pricer_last_error(p), "min_base_fee") != NULL);
    CHECK_OK(opg_pricer_param_set(p, "fees.gpu.min_base_fee", "500"));
    CHECK_OK(opg_pricer_param_set(p, "fees.gpu.max_base_fee", "800"));
    CHECK_OK(opg_pricer_param_set(p, "fees.gpu.min_base_fee", "700"));
    bf = base_fee_of(p, 0);
    CHECK_U256(bf, "700");
    /* an exponential dimension's factor must stay at least 1 */
    CHECK_RC(opg_pricer_param_set(p, "fees.blob.min_base_fee", "0"), OPG_EINVAL);
    opg_pricer_free(p);
}

static void test_new_refusals(void)
{
    opg_pricer_params pp;
    opg_pricer *p = NULL;
    params_gas(&pp, 100, 10);
    CHECK_OK(opg_pricer_new(&p, &pp, NULL));
    opg_pricer_free(p);
    opg_pricer_free(NULL);

    struct {
        const char *what;
        int want;
    } cases[] = {{"count0", OPG_EINVAL},     {"count9", OPG_EINVAL},  {"empty name", OPG_EINVAL},
                 {"dot name", OPG_EINVAL},   {"split", OPG_EINVAL},   {"dup name", OPG_EINVAL},
                 {"long name", OPG_EINVAL},  {"target0", OPG_EINVAL}, {"target>limit", OPG_EINVAL},
                 {"min>max", OPG_EINVAL},    {"bf<min", OPG_EINVAL},  {"bf>max", OPG_EINVAL},
                 {"sum!=1", OPG_EINVAL},     {"exp min0", OPG_EINVAL}, {"den0", OPG_EINVAL},
                 {"dup class", OPG_EINVAL},  {"controller", OPG_EINVAL}, {"combine", OPG_EINVAL},
                 {"classes NULL", OPG_EINVAL}};
    opg_pricer_class cls[2] = {class_of(4, "1"), class_of(4, "2")};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        params_gas(&pp, 100, 10);
        pp.dimension_count = 2;
        strcpy(pp.dimensions[1].name, "cpu");
        switch (i) {
        case 0: pp.dimension_count = 0; break;
        case 1: pp.dimension_count = 9; break;
        case 2: pp.dimensions[1].name[0] = '\0'; break;
        case 3: strcpy(pp.dimensions[1].name, "a.b"); break;
        case 4: strcpy(pp.dimensions[1].name, "split"); break;
        case 5: strcpy(pp.dimensions[1].name, "gas"); break;
        case 6: memset(pp.dimensions[1].name, 'a', OPG_PRICER_NAME_MAX); break;
        case 7: pp.dimensions[0].target = u64v(0); break;
        case 8: pp.dimensions[0].target = u64v(201); break;
        case 9:
            pp.dimensions[0].min_base_fee = u64v(5);
            pp.dimensions[0].max_base_fee = u64v(4);
            break;
        case 10: pp.dimensions[0].min_base_fee = u64v(11); break;
        case 11: pp.dimensions[0].max_base_fee = u64v(9); break;
        case 12: pp.split.burn = dec_of("0.000000000000000001"); break;
        case 13: pp.dimensions[1].controller = OPG_PRICER_EXPONENTIAL; break;
        case 14: pp.dimensions[1].denominator = 0; break;
        case 15: pp.classes = cls; pp.class_count = 2; break;
        case 16: pp.dimensions[1].controller = (opg_pricer_controller)7; break;
        case 17: pp.combine = (opg_pricer_combine)2; break;
        case 18: pp.classes = NULL; pp.class_count = 1; break;
        }
        p = NULL;
        int rc = opg_pricer_new(&p, &pp, NULL);
        if (rc != cases[i].want)
            printf("  case %s: %s\n", cases[i].what, opg_errname(rc));
        CHECK_RC(rc, cases[i].want);
        CHECK(p == NULL);
    }
    /* the name may use all 31 characters */
    params_gas(&pp, 100, 10);
    memset(pp.dimensions[0].name, 'z', OPG_PRICER_NAME_MAX - 1);
    CHECK_OK(opg_pricer_new(&p, &pp, NULL));
    char key[64];
    snprintf(key, sizeof key, "fees.%s.denominator", pp.dimensions[0].name);
    CHECK_OK(opg_pricer_param_set(p, key, "9"));
    opg_pricer_free(p);
    /* an exponential dimension ignores the denominator, and vice versa */
    params_gas(&pp, 100, 10);
    pp.dimensions[0].denominator = 0;
    pp.dimensions[0].controller = OPG_PRICER_EXPONENTIAL;
    pp.dimensions[0].min_base_fee = u64v(1);
    CHECK_OK(opg_pricer_new(&p, &pp, NULL));
    opg_pricer_free(p);
    CHECK(opg_pricer_max_dimensions() == OPG_PRICER_MAX_DIMENSIONS);
    CHECK(opg_pricer_name_max() == OPG_PRICER_NAME_MAX);
    CHECK(strcmp(opg_pricer_last_error(NULL), "") == 0);
}

static void test_classes(void)
{
    opg_pricer *p = three_dims();
    CHECK(opg_pricer_class_count(p) == 3);
    opg_pricer_class c;
    uint32_t order[] = {1, 3, 7};
    for (size_t i = 0; i < 3; i++) {
        CHECK_OK(opg_pricer_class_at(&c, p, i));
        CHECK(c.id == order[i]);
    }
    CHECK_RC(opg_pricer_class_at(&c, p, 3), OPG_EINVAL);
    CHECK_OK(opg_pricer_class_get(&c, p, 3));
    CHECK_DEC(c.multiplier[0], "1.5");
    CHECK_DEC(c.multiplier[3], "0"); /* past the dimension count: 0 */

    /* replace, add in the middle, remove */
    opg_pricer_class n = class_of(3, "2");
    CHECK_OK(opg_pricer_class_set(p, &n));
    CHECK(opg_pricer_class_count(p) == 3);
    CHECK_OK(opg_pricer_class_get(&c, p, 3));
    CHECK_DEC(c.multiplier[1], "2");
    for (uint32_t id = 100; id > 4; id -= 5) {
        n = class_of(id, "1");
        CHECK_OK(opg_pricer_class_set(p, &n));
    }
    CHECK(opg_pricer_class_count(p) == 23); /* 1, 3, 7 and 5..100 by 5 */
    uint32_t last = 0;
    for (size_t i = 0; i < opg_pricer_class_count(p); i++) {
        CHECK_OK(opg_pricer_class_at(&c, p, i));
        CHECK(i == 0 || c.id > last);
        last = c.id;
    }
    CHECK_OK(opg_pricer_class_remove(p, 3));
    CHECK_RC(opg_pricer_class_get(&c, p, 3), OPG_ECLASS);
    CHECK_RC(opg_pricer_class_remove(p, 3), OPG_ECLASS);
    opg_pricer_price q;
    opg_pricer_request rq = request_of(3, 1, 0, 0, 0);
    CHECK_RC(opg_pricer_quote(&q, p, &rq), OPG_ECLASS);
    rq.model_class = 100;
    CHECK_OK(opg_pricer_quote(&q, p, &rq));
    CHECK_RC(opg_pricer_class_set(p, NULL), OPG_EINVAL);
    opg_pricer_free(p);
}

/* ------------------------------------------------------ save, load, hash */

/* A pricer with some of everything: two controllers, usage, excess, classes. */
static opg_pricer *busy_pricer(void)
{
    opg_pricer_params pp;
    opg_pricer_params_init(&pp);
    pp.dimension_count = 3;
    strcpy(pp.dimensions[0].name, "gpu");
    strcpy(pp.dimensions[1].name, "blob");
    strcpy(pp.dimensions[2].name, "io");
    pp.dimensions[1].controller = OPG_PRICER_EXPONENTIAL;
    pp.dimensions[1].min_base_fee = u64v(3);
    pp.dimensions[1].initial_base_fee = u64v(3);
    pp.dimensions[1].update_fraction = 1000;
    pp.dimensions[1].target = u64v(10000);
    pp.dimensions[1].limit = u64v(50000);
    pp.dimensions[2].min_base_fee = u64v(1);
    pp.dimensions[2].max_base_fee = u64v(2000000000);
    pp.split.inference = dec_of("0.6");
    pp.split.verifiers = dec_of("0.25");
    pp.split.burn = dec_of("0.15");
    opg_pricer_class cls[2] = {class_of(9, "0.3"), class_of(2, "1")};
    pp.classes = cls;
    pp.class_count = 2;
    opg_pricer *p = NULL;
    if (opg_pricer_new(&p, &pp, NULL) != OPG_OK)
        abort();
    opg_pricer_receipt r;
    opg_u256 zero = u64v(0), amounts[1];
    opg_id v = id_n(1);
    opg_pricer_request rq = request_of(2, 20000000, 30000, 7, 0);
    if (opg_pricer_charge(&r, amounts, p, &rq, &U256_MAX, &zero, &v, 1) ||
        opg_pricer_end_block(NULL, p))
        abort();
    rq = request_of(9, 1000, 1000, 1000, 0);
    if (opg_pricer_charge(&r, amounts, p, &rq, &U256_MAX, &zero, &v, 1))
        abort();
    return p;
}

static uint8_t *save_all(size_t *len, const opg_pricer *p)
{
    if (opg_pricer_save(NULL, 0, len, p) != OPG_EBUFS)
        abort();
    uint8_t *buf = malloc(*len);
    if (opg_pricer_save(buf, *len, len, p) != OPG_OK)
        abort();
    return buf;
}

static void test_save_load(void)
{
    opg_pricer *p = busy_pricer();
    size_t len, len2;
    uint8_t *blob = save_all(&len, p);
    CHECK(len > 8 && memcmp(blob, "OPGS", 4) == 0 && blob[4] == 2);
    uint8_t small[16];
    CHECK_RC(opg_pricer_save(small, sizeof small, &len2, p), OPG_EBUFS);
    CHECK(len2 == len);

    opg_pricer *q = NULL;
    CHECK_OK(opg_pricer_load(&q, blob, len, NULL));
    uint8_t *again = save_all(&len2, q);
    CHECK(len2 == len && memcmp(blob, again, len) == 0);
    uint8_t h1[32], h2[32];
    hash_of(h1, p);
    hash_of(h2, q);
    CHECK(memcmp(h1, h2, 32) == 0);
    /* the copy behaves the same: same keys, same next base fees */
    CHECK(strcmp(opg_pricer_param_key(q, 5), opg_pricer_param_key(p, 5)) == 0);
    opg_u256 f1[OPG_PRICER_MAX_DIMENSIONS], f2[OPG_PRICER_MAX_DIMENSIONS];
    CHECK_OK(opg_pricer_end_block(f1, p));
    CHECK_OK(opg_pricer_end_block(f2, q));
    CHECK(memcmp(f1, f2, sizeof f1) == 0);
    hash_of(h1, p);
    hash_of(h2, q);
    CHECK(memcmp(h1, h2, 32) == 0);
    /* and the hash moves with the state */
    CHECK_OK(opg_pricer_end_block(NULL, q));
    hash_of(h2, q);
    CHECK(memcmp(h1, h2, 32) != 0);
    opg_pricer_free(q);
    free(again);

    /* truncated at every length, one byte too many, another kind, a newer version */
    for (size_t n = 0; n < len; n++) {
        q = NULL;
        CHECK_RC(opg_pricer_load(&q, blob, n, NULL), OPG_ECORRUPT);
        CHECK(q == NULL);
    }
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, blob, len);
    longer[len] = 0;
    CHECK_RC(opg_pricer_load(&q, longer, len + 1, NULL), OPG_ECORRUPT);
    free(longer);
    blob[4] = 1; /* registry */
    CHECK_RC(opg_pricer_load(&q, blob, len, NULL), OPG_ECORRUPT);
    blob[4] = 2;
    blob[7] = 3; /* version 3: a newer libopg's */
    CHECK_RC(opg_pricer_load(&q, blob, len, NULL), OPG_EVERSION);
    blob[7] = 1; /* version 1: the format before records, no longer read */
    CHECK_RC(opg_pricer_load(&q, blob, len, NULL), OPG_ECORRUPT);
    blob[7] = 0; /* version 0: no format ever had it */
    CHECK_RC(opg_pricer_load(&q, blob, len, NULL), OPG_ECORRUPT);
    blob[7] = 2;

    /* any single-bit change is either refused or loads into a state that saves back
     * to exactly the changed bytes: the format has one form per state */
    size_t refused = 0;
    for (size_t i = 8; i < len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            blob[i] ^= (uint8_t)(1u << bit);
            q = NULL;
            int rc = opg_pricer_load(&q, blob, len, NULL);
            if (rc == OPG_OK) {
                uint8_t *b2 = save_all(&len2, q);
                int same = len2 == len && memcmp(b2, blob, len) == 0;
                free(b2);
                opg_pricer_free(q);
                if (!same)
                    printf("  byte %zu bit %d loads but does not save back\n", i, bit);
                CHECK(same);
            } else {
                CHECK_RC(rc, OPG_ECORRUPT);
                refused++;
            }
            blob[i] ^= (uint8_t)(1u << bit);
        }
    }
    CHECK(refused > 0);
    free(blob);
    opg_pricer_free(p);
}

/* Specific corruptions that a bit flip might not reach. */
static void test_load_refuses_noncanonical(void)
{
    opg_pricer *p = busy_pricer();
    size_t len;
    uint8_t *blob = save_all(&len, p);
    /* offsets: header 8, then records {key length 1, key, value length 4, value}:
     * params (key 2: format, dimension count, combine, split 5 * 32), state (key 2:
     * format, per dimension base fee, usage, excess), each dimension (key 3: format,
     * name 32, controller 1, four bounds 4 * 32, rate 8), each class (key 6: format,
     * three multipliers) */
#define REC_HEAD(klen) (1 + (klen) + 4)
    const size_t params_v = 8 + REC_HEAD(2), dims_at = params_v + 1, combine_at = params_v + 2;
    const size_t split_at = params_v + 3, state_v = split_at + 5 * 32 + REC_HEAD(2);
    const size_t dim_rec0 = state_v + 1 + 3 * 96, dim_size = REC_HEAD(3) + 1 + 32 + 1 + 4 * 32 + 8;
    const size_t dim0 = dim_rec0 + REC_HEAD(3) + 1, dim1 = dim0 + dim_size;
    const size_t bounds = 32 + 1, rate = bounds + 4 * 32;
    struct {
        size_t at, width;
        uint64_t value; /* written big-endian into width bytes */
        const char *what;
    } pokes[] = {
        {dims_at, 1, 0, "no dimension"},
        {dims_at, 1, 9, "nine dimensions"},
        {combine_at, 1, 2, "unknown combine"},
        {split_at + 31, 1, 1, "inference share + 10^-18: the sum is not 1"},
        {dim0 + 4, 1, 'x', "garbage after the name's NUL"},
        {dim0, 1, '.', "a dot in a name"},
        {dim0, 32, 0, "an empty name"},
        {dim0 + 32, 1, 2, "unknown controller"},
        {dim0 + bounds, 32, 0, "target 0"},
        {dim0 + bounds + 32, 32, 1, "limit below target"},
        {dim0 + bounds + 64, 32, 2000000000, "min_base_fee above the base fee"},
        {dim0 + bounds + 96, 32, 5, "max_base_fee below the base fee"},
        {dim0 + rate, 8, 0, "denominator 0"},
        {state_v + 1 + 64, 32, 1, "excess on an EIP-1559 dimension"},
        {dim_rec0 + REC_HEAD(3) - 4 - 1, 1, 3, "a dimension record out of its place"},
        {dim1 + rate, 8, 0, "update_fraction 0"},
        {dim1 + bounds + 64, 32, 0, "exponential min_base_fee 0"},
    };
    for (size_t i = 0; i < sizeof pokes / sizeof pokes[0]; i++) {
        uint8_t *c = malloc(len);
        memcpy(c, blob, len);
        uint64_t v = pokes[i].value;
        for (size_t k = pokes[i].width; k-- > 0; v >>= 8)
            c[pokes[i].at + k] = (uint8_t)v;
        opg_pricer *q = NULL;
        int rc = opg_pricer_load(&q, c, len, NULL);
        if (rc != OPG_ECORRUPT)
            printf("  %s: %s\n", pokes[i].what, opg_errname(rc));
        CHECK_RC(rc, OPG_ECORRUPT);
        free(c);
    }
    /* two dimensions of one name */
    uint8_t *twice = malloc(len);
    memcpy(twice, blob, len);
    memcpy(twice + dim1, blob + dim0, 32);
    opg_pricer *q = NULL;
    CHECK_RC(opg_pricer_load(&q, twice, len, NULL), OPG_ECORRUPT);
    free(twice);
    /* class ids out of order: swap the two class records */
    size_t classes_at = dim_rec0 + 3 * dim_size, rec = REC_HEAD(6) + 1 + 3 * 32;
#undef REC_HEAD
    uint8_t *c = malloc(len);
    memcpy(c, blob, len);
    memcpy(c + classes_at, blob + classes_at + rec, rec);
    memcpy(c + classes_at + rec, blob + classes_at, rec);
    CHECK_RC(opg_pricer_load(&q, c, len, NULL), OPG_ECORRUPT);
    /* a record count that is not the records' */
    memcpy(c, blob, len);
    c[len - 1] ^= 1;
    CHECK_RC(opg_pricer_load(&q, c, len, NULL), OPG_ECORRUPT);
    /* the offsets above cover the whole snapshot: two classes, then the end mark and count */
    CHECK(classes_at + 2 * rec == len - 9);
    CHECK_RC(opg_pricer_load(&q, NULL, 0, NULL), OPG_ECORRUPT);
    free(c);
    free(blob);
    opg_pricer_free(p);
}

/* The canonical form is consensus: this fixed run must hash the same on every
 * build (gcc or clang, any optimisation). A change here needs a new snapshot version. */
static void test_state_hash_pinned(void)
{
    opg_pricer_params pp;
    opg_pricer_params_init(&pp);
    pp.dimension_count = 2;
    strcpy(pp.dimensions[0].name, "a");
    strcpy(pp.dimensions[1].name, "b");
    pp.dimensions[1].controller = OPG_PRICER_EXPONENTIAL;
    pp.dimensions[1].min_base_fee = u64v(1);
    pp.dimensions[1].initial_base_fee = u64v(1);
    pp.dimensions[1].update_fraction = 3338477;
    opg_pricer_class c = class_of(1, "0");
    c.multiplier[0] = dec_of("1.25");
    c.multiplier[1] = dec_of("3");
    pp.classes = &c;
    pp.class_count = 1;
    opg_pricer *p;
    CHECK_OK(opg_pricer_new(&p, &pp, NULL));
    uint64_t s = 7;
    opg_u256 tip = u64v(5);
    for (int b = 0; b < 500; b++) {
        for (int k = 0; k < 50; k++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            opg_pricer_request rq = request_of(1, (s >> 33) % 600000, (s >> 13) % 200000, 0, 0);
            opg_pricer_receipt r;
            int rc = opg_pricer_charge(&r, NULL, p, &rq, &U256_MAX, &tip, NULL, 0);
            CHECK(rc == OPG_OK || rc == OPG_ELIMIT);
        }
        CHECK_OK(opg_pricer_end_block(NULL, p));
    }
    uint8_t h[32];
    hash_of(h, p);
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    /* the run ends with base fees 4971909273666775 and 609481399 (excess 67531110) */
    opg_pricer_dimension_state st;
    CHECK_OK(opg_pricer_dimension_get(NULL, &st, p, 1));
    CHECK_U256(st.base_fee, "609481399");
    CHECK_U256(st.excess, "67531110");
    CHECK(strcmp(hex, "26bffa11ab322bea220e14ee2907d3464c74a77e5d636e19039402852413a5ac") == 0);
    opg_pricer_free(p);
}

/* ------------------------------------------------------------------ records */

/* The pricer's change sets: what a block changed and nothing else, replayed into a
 * store they rebuild the pricer, and its root is always the root from scratch. */
static void test_records_commit(void)
{
    opg_pricer *p = busy_pricer();
    uint8_t root[32], scratch[32], zero[32] = {0};
    const opg_record *ch;
    size_t n;
    opg_pricer_root(root, p);
    CHECK(memcmp(root, zero, 32) == 0); /* nothing committed yet */
    /* the first commit puts every record: params, state, 3 dimensions, 2 classes */
    CHECK_OK(opg_pricer_commit(root, &ch, &n, p));
    CHECK(n == 7);
    for (size_t i = 0; i < n; i++)
        CHECK(ch[i].present && ch[i].key[0] == OPG_RECORDS_PRICER);
    CHECK(ch[0].key[1] == 0 && ch[1].key[1] == 1 && ch[2].key[1] == 2 && ch[6].key[1] == 3);
    CHECK(ch[1].value_len == 1 + 3 * 96); /* the state: three dimensions of 96 bytes */
    record_store st;
    memset(&st, 0, sizeof st);
    for (size_t i = 0; i < n; i++)
        store_put(&st, &ch[i]);
    CHECK_OK(opg_pricer_root_from_scratch(scratch, p));
    CHECK(memcmp(root, scratch, 32) == 0);
    /* nothing changed: an empty change set, the same root */
    uint8_t again[32];
    CHECK_OK(opg_pricer_commit(again, &ch, &n, p));
    CHECK(n == 0 && memcmp(again, root, 32) == 0);
    /* end_block moves the state record alone */
    CHECK_OK(opg_pricer_end_block(NULL, p));
    CHECK_OK(opg_pricer_commit(root, &ch, &n, p));
    CHECK(n == 1 && ch[0].key[1] == 1 && ch[0].present);
    store_put(&st, &ch[0]);
    /* a class set to what it was changes nothing; a new class is one put, a removal
     * one delete, a parameter its dimension's record */
    opg_pricer_class c = class_of(2, "1"), c7 = class_of(7, "0.5");
    CHECK_OK(opg_pricer_class_set(p, &c));
    CHECK_OK(opg_pricer_commit(root, &ch, &n, p));
    CHECK(n == 0);
    CHECK_OK(opg_pricer_class_set(p, &c7));
    CHECK_OK(opg_pricer_class_remove(p, 9));
    CHECK_OK(opg_pricer_param_set(p, "fees.io.target", "12345"));
    CHECK_OK(opg_pricer_commit(root, &ch, &n, p));
    CHECK(n == 3);
    CHECK(ch[0].key[1] == 2 && ch[0].key[2] == 2 && ch[0].present);            /* dimension io */
    CHECK(ch[1].key[1] == 3 && ch[1].key[5] == 7 && ch[1].present);            /* class 7 */
    CHECK(ch[2].key[1] == 3 && ch[2].key[5] == 9 && !ch[2].present && !ch[2].value);
    for (size_t i = 0; i < n; i++)
        store_put(&st, &ch[i]);

    /* random blocks: charges, classes, parameters; after each commit the root is the
     * root from scratch and the store rebuilds the same pricer */
    test_rng rng = {77};
    for (int block = 0; block < 60; block++) {
        for (int k = (int)rng_below(&rng, 6); k > 0; k--) {
            uint32_t id = (uint32_t)rng_below(&rng, 12);
            switch (rng_below(&rng, 4)) {
            case 0: {
                opg_pricer_class x = class_of(id, rng_below(&rng, 2) ? "0.25" : "2");
                CHECK_OK(opg_pricer_class_set(p, &x));
                break;
            }
            case 1: {
                int rc = opg_pricer_class_remove(p, id);
                CHECK(rc == OPG_OK || rc == OPG_ECLASS);
                break;
            }
            case 2: {
                char v[24];
                snprintf(v, sizeof v, "%llu", (unsigned long long)(1000 + rng_below(&rng, 100000)));
                CHECK_OK(opg_pricer_param_set(p, "fees.gpu.target", v));
                break;
            }
            default: {
                opg_pricer_request rq = request_of(id, rng_below(&rng, 5000), rng_below(&rng, 5000),
                                                   rng_below(&rng, 5000), 0);
                opg_pricer_receipt r;
                opg_u256 tip = u64v(1), paid[1];
                opg_id v = id_n(1);
                int rc = opg_pricer_charge(&r, paid, p, &rq, &U256_MAX, &tip, &v, 1);
                CHECK(rc == OPG_OK || rc == OPG_ECLASS || rc == OPG_ELIMIT);
                break;
            }
            }
        }
        CHECK_OK(opg_pricer_end_block(NULL, p));
        CHECK_OK(opg_pricer_commit(root, &ch, &n, p));
        for (size_t i = 0; i < n; i++)
            store_put(&st, &ch[i]);
        CHECK_OK(opg_pricer_root_from_scratch(scratch, p));
        CHECK(memcmp(root, scratch, 32) == 0);
        if (block % 10 == 9) {
            st.cursor = 0;
            opg_pricer *q = NULL;
            CHECK_OK(opg_pricer_load_records(&q, store_next, &st, root, NULL));
            size_t l1, l2;
            uint8_t *b1 = save_all(&l1, p), *b2 = save_all(&l2, q);
            CHECK(l1 == l2 && memcmp(b1, b2, l1) == 0);
            free(b1);
            free(b2);
            uint8_t qr[32];
            opg_pricer_root(qr, q);
            CHECK(memcmp(qr, root, 32) == 0);
            opg_pricer_free(q);
        }
    }

    /* proofs: a class present, a class absent */
    uint8_t key[OPG_RECORD_KEY_MAX], proof[OPG_PROOF_MAX_BYTES];
    size_t klen, plen;
    opg_pricer_class first;
    CHECK_OK(opg_pricer_class_at(&first, p, 0));
    CHECK_OK(opg_pricer_key_class(key, &klen, first.id));
    CHECK_OK(opg_pricer_prove(proof, sizeof proof, &plen, p, key, klen));
    int found;
    size_t at = store_find(&st, key, klen, &found);
    CHECK(found);
    CHECK_OK(opg_proof_verify(root, key, klen, st.items[at].value, st.items[at].value_len, 1, proof, plen));
    CHECK_RC(opg_proof_verify(root, key, klen, NULL, 0, 0, proof, plen), OPG_EPROOF);
    CHECK_OK(opg_pricer_key_class(key, &klen, 4000000000u));
    CHECK_OK(opg_pricer_prove(proof, sizeof proof, &plen, p, key, klen));
    CHECK_OK(opg_proof_verify(root, key, klen, NULL, 0, 0, proof, plen));

    /* a stream that is not this root's, and one with a record of another handle */
    st.cursor = 0;
    opg_pricer *q = NULL;
    uint8_t wrong[32];
    memcpy(wrong, root, 32);
    wrong[0] ^= 1;
    CHECK_RC(opg_pricer_load_records(&q, store_next, &st, wrong, NULL), OPG_ECORRUPT);
    CHECK(q == NULL);
    st.items[0].key[0] = OPG_RECORDS_REGISTRY;
    st.cursor = 0;
    CHECK_RC(opg_pricer_load_records(&q, store_next, &st, NULL, NULL), OPG_ECORRUPT);
    store_free(&st);
    opg_pricer_free(p);
}

/* ------------------------------------------------------ allocation failures */

static void test_allocation_failures(void)
{
    opg_pricer_params pp;
    params_gas(&pp, 100, 10);
    opg_pricer_class cls[3] = {class_of(1, "1"), class_of(2, "2"), class_of(3, "3")};
    pp.classes = cls;
    pp.class_count = 3;

    /* creation: fail each allocation in turn until it succeeds */
    int created = 0;
    for (unsigned long n = 1; n < 20 && !created; n++) {
        failalloc fa;
        failalloc_init(&fa, n);
        opg_allocator a = failalloc_allocator(&fa);
        opg_pricer *p = NULL;
        int rc = opg_pricer_new(&p, &pp, &a);
        if (rc == OPG_OK) {
            created = 1;
            CHECK(fa.failures == 0);
            opg_pricer_free(p);
        } else {
            CHECK_RC(rc, OPG_ENOMEM);
            CHECK(p == NULL && fa.failures == 1);
        }
        CHECK(fa.live_bytes == 0 && fa.live_blocks == 0);
    }
    CHECK(created);

    /* class_set that must grow: refused with ENOMEM, state unchanged, handle fine */
    failalloc fa;
    failalloc_init(&fa, 0);
    opg_allocator a = failalloc_allocator(&fa);
    opg_pricer *p;
    CHECK_OK(opg_pricer_new(&p, &pp, &a)); /* capacity 3, all used */
    uint8_t h0[32], h1[32];
    hash_of(h0, p);
    fa.fail_at = fa.calls + 1;
    opg_pricer_class n = class_of(50, "1");
    CHECK_RC(opg_pricer_class_set(p, &n), OPG_ENOMEM);
    hash_of(h1, p);
    CHECK(memcmp(h0, h1, 32) == 0);
    CHECK(opg_pricer_class_count(p) == 3);
    CHECK(charge_units(p, 5) == OPG_OK);
    CHECK_OK(opg_pricer_class_set(p, &n)); /* the next try succeeds */
    CHECK(opg_pricer_class_count(p) == 4);

    /* load: fail each allocation in turn */
    size_t len;
    uint8_t *blob = save_all(&len, p);
    opg_pricer_free(p);
    CHECK(fa.live_bytes == 0 && fa.live_blocks == 0);
    int loaded = 0;
    for (unsigned long k = 1; k < 20 && !loaded; k++) {
        failalloc_init(&fa, k);
        opg_pricer *q = NULL;
        int rc = opg_pricer_load(&q, blob, len, &a);
        if (rc == OPG_OK) {
            loaded = 1;
            fa.fail_at = 0; /* the save allocates too: no failure there */
            size_t len2;
            uint8_t *b2 = save_all(&len2, q);
            CHECK(len2 == len && memcmp(b2, blob, len) == 0);
            free(b2);
            opg_pricer_free(q);
        } else {
            CHECK_RC(rc, OPG_ENOMEM);
            CHECK(q == NULL);
        }
        CHECK(fa.live_bytes == 0 && fa.live_blocks == 0);
    }
    CHECK(loaded);
    free(blob);
}

/* ------------------------------------------------------------ random run */

/* 4 dimensions (two of each controller), 16 classes, random requests, verifier sets,
 * fee caps and parameter changes over many blocks. Invariants after every call:
 * parts add up to the fee, verifiers' amounts to their part, base fee + tip = fee
 * <= max_fee, a refusal leaves the hash as it was, base fees stay in [min, max],
 * and save/load/save is the identity. */
static void test_random_run(void)
{
    test_rng rng = {20260611};
    opg_pricer_params pp;
    opg_pricer_params_init(&pp);
    pp.dimension_count = 4;
    const char *names[] = {"gpu", "mem", "tok_in", "tok_out"};
    for (size_t d = 0; d < 4; d++) {
        opg_pricer_dimension *x = &pp.dimensions[d];
        strcpy(x->name, names[d]);
        x->controller = d % 2 ? OPG_PRICER_EXPONENTIAL : OPG_PRICER_EIP1559;
        x->target = u64v(1000 * (d + 1));
        x->limit = u64v(2000 * (d + 1) + 37);
        x->min_base_fee = u64v(d + 1);
        x->max_base_fee = u64v(1000000000 + 17 * d);
        x->initial_base_fee = u64v(100 + d);
        x->denominator = 8;
        x->update_fraction = 5000 + 100 * d;
    }
    pp.split.inference = dec_of("0.41");
    pp.split.verifiers = dec_of("0.27");
    pp.split.stakers = dec_of("0.17");
    pp.split.burn = dec_of("0.1");
    pp.split.community = dec_of("0.05");
    opg_pricer_class cls[16];
    for (uint32_t i = 0; i < 16; i++) {
        memset(&cls[i], 0, sizeof cls[i]);
        cls[i].id = i * 3 + 1;
        for (size_t d = 0; d < 4; d++) {
            opg_u256 raw = u64v(rng_below(&rng, 3) ? rng_below(&rng, 3000000000000000000ull) : 0);
            opg_dec_from_raw(&cls[i].multiplier[d], &raw);
        }
    }
    pp.classes = cls;
    pp.class_count = 16;
    opg_pricer *p;
    CHECK_OK(opg_pricer_new(&p, &pp, NULL));

    const char *splits[] = {"0.41,0.27,0.17,0.1,0.05",
                            ("0.333333333333333333,0.333333333333333333,"
                             "0.333333333333333334,0,0"),
                            "1,0,0,0,0", "0,1,0,0,0"};
    unsigned long charged = 0, refused = 0;
    for (int block = 0; block < 400; block++) {
        opg_u256 block_fees = u64v(0), block_parts = u64v(0);
        int requests = (int)rng_below(&rng, 40);
        for (int k = 0; k < requests; k++) {
            opg_pricer_request rq;
            memset(&rq, 0, sizeof rq);
            rq.model_class = (uint32_t)rng_below(&rng, 50);
            for (size_t d = 0; d < 4; d++)
                rq.units[d] = u64v(rng_below(&rng, 4) ? rng_below(&rng, 400) : 0);
            opg_pricer_price q;
            int qrc = opg_pricer_quote(&q, p, &rq);
            opg_u256 max_fee, prio = u64v(rng_below(&rng, 1000));
            if (qrc == OPG_OK && rng_below(&rng, 8)) {
                /* mostly enough, sometimes one short */
                opg_u256 extra = u64v(rng_below(&rng, 2000));
                CHECK_OK(opg_u256_add(&max_fee, &q.base_fee, &extra));
                if (rng_below(&rng, 10) == 0 && !opg_u256_is_zero(&q.base_fee)) {
                    opg_u256 one = u64v(1);
                    CHECK_OK(opg_u256_sub(&max_fee, &q.base_fee, &one));
                }
            } else {
                max_fee = u64v(rng_below(&rng, 100000));
            }
            opg_id ids[6];
            size_t nv = (size_t)rng_below(&rng, 7);
            for (size_t i = 0; i < nv; i++)
                ids[i] = id_n((unsigned)rng_below(&rng, 1000));
            opg_u256 amounts[6];
            opg_pricer_receipt r;
            uint8_t h0[32], h1[32];
            hash_of(h0, p);
            int rc = opg_pricer_charge(&r, amounts, p, &rq, &max_fee, &prio, ids, nv);
            if (qrc != OPG_OK)
                CHECK_RC(rc, qrc); /* quote predicts every pricing refusal */
            if (rc != OPG_OK) {
                hash_of(h1, p);
                CHECK(memcmp(h0, h1, 32) == 0);
                refused++;
                continue;
            }
            charged++;
            CHECK(memcmp(&r.price, &q, sizeof q) == 0);
            opg_u256 parts[5] = {r.inference, r.verifiers, r.stakers, r.burn, r.community};
            opg_u256 total = sum_of(parts, 5), bt;
            CHECK(opg_u256_cmp(&total, &r.fee) == 0);
            CHECK_OK(opg_u256_add(&bt, &r.price.base_fee, &r.tip));
            CHECK(opg_u256_cmp(&bt, &r.fee) == 0);
            CHECK(opg_u256_cmp(&r.fee, &max_fee) <= 0);
            CHECK(opg_u256_cmp(&r.tip, &prio) <= 0);
            if (nv) {
                opg_u256 vs = sum_of(amounts, nv);
                CHECK(opg_u256_cmp(&vs, &r.verifiers) == 0);
            }
            CHECK_OK(opg_u256_add(&block_fees, &block_fees, &r.fee));
            CHECK_OK(opg_u256_add(&block_parts, &block_parts, &total));
        }
        CHECK(opg_u256_cmp(&block_fees, &block_parts) == 0);

        if (rng_below(&rng, 10) == 0) { /* governance */
            char v[32];
            size_t d = (size_t)rng_below(&rng, 4);
            char key[64];
            switch (rng_below(&rng, 4)) {
            case 0:
                snprintf(key, sizeof key, "fees.%s.max_base_fee", names[d]);
                snprintf(v, sizeof v, "%llu", (unsigned long long)(rng_below(&rng, 2000) + 1));
                break;
            case 1:
                snprintf(key, sizeof key, "fees.%s.target", names[d]);
                snprintf(v, sizeof v, "%llu", (unsigned long long)(rng_below(&rng, 3000)));
                break;
            case 2:
                snprintf(key, sizeof key, "fees.split");
                snprintf(v, sizeof v, "%s", "");
                break;
            default:
                snprintf(key, sizeof key, "fees.combine");
                snprintf(v, sizeof v, "%s", rng_below(&rng, 2) ? "max" : "sum");
                break;
            }
            uint8_t h0[32], h1[32];
            hash_of(h0, p);
            int rc = strcmp(key, "fees.split") == 0
                         ? opg_pricer_param_set(p, key, splits[rng_below(&rng, 4)])
                         : opg_pricer_param_set(p, key, v);
            if (rc != OPG_OK) {
                hash_of(h1, p);
                CHECK(memcmp(h0, h1, 32) == 0);
            }
        }

        opg_u256 fees[OPG_PRICER_MAX_DIMENSIONS];
        CHECK_OK(opg_pricer_end_block(fees, p));
        for (size_t d = 0; d < 4; d++) {
            opg_pricer_dimension x;
            opg_pricer_dimension_state s;
            CHECK_OK(opg_pricer_dimension_get(&x, &s, p, d));
            CHECK(opg_u256_cmp(&fees[d], &s.base_fee) == 0);
            CHECK(opg_u256_cmp(&s.base_fee, &x.min_base_fee) >= 0);
            CHECK(opg_u256_cmp(&s.base_fee, &x.max_base_fee) <= 0);
            CHECK(opg_u256_is_zero(&s.usage));
        }
        if (block % 50 == 0) {
            size_t len, len2;
            uint8_t *blob = save_all(&len, p);
            opg_pricer *q;
            CHECK_OK(opg_pricer_load(&q, blob, len, NULL));
            uint8_t *b2 = save_all(&len2, q);
            CHECK(len == len2 && memcmp(blob, b2, len) == 0);
            free(blob);
            free(b2);
            opg_pricer_free(p);
            p = q; /* carry on with the loaded copy */
        }
    }
    CHECK(charged > 1000 && refused > 100);
    opg_pricer_free(p);
}

int main(void)
{
    RUN(test_eip1559_by_hand);
    RUN(test_eip1559_geth_vectors);
    RUN(test_eip1559_tiny_and_zero);
    RUN(test_eip1559_matches_ethereum);
    RUN(test_eip1559_bounds_and_denominator);
    RUN(test_eip1559_wide);
    RUN(test_fake_exponential);
    RUN(test_exponential_by_hand);
    RUN(test_exponential_eip4844);
    RUN(test_sum_and_max);
    RUN(test_effective_units_ceil);
    RUN(test_tip);
    RUN(test_split_and_dust);
    RUN(test_limits);
    RUN(test_refusals_change_nothing);
    RUN(test_params_by_key);
    RUN(test_new_refusals);
    RUN(test_classes);
    RUN(test_save_load);
    RUN(test_load_refuses_noncanonical);
    RUN(test_state_hash_pinned);
    RUN(test_records_commit);
    RUN(test_allocation_failures);
    RUN(test_random_run);
    return harness_done();
}
