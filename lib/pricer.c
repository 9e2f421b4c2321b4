/*
 * pricer.c - the fee market (SEMANTICS.md section 6): multi-dimensional base fees
 * under EIP-1559 and exponential controllers, model classes, quote, charge with a
 * tip and a split, end_block, parameters by key, save/load/hash.
 *
 * All arithmetic is on fixed limb arrays (num.h). Intermediates that can pass
 * 256 bits (a base fee times a usage, the fake_exponential series) are computed
 * in wider arrays, so no step can wrap and end_block never has to fail.
 */
#include "pricer_internal.h"

#include "num.h"

#include <stdlib.h>

#define KEY_SPLIT "fees.split"
#define KEY_COMBINE "fees.combine"

static const uint64_t ONE[1] = {1};
static const uint64_t ONE_256[4] = {1, 0, 0, 0};
static const uint64_t SCALE[1] = {OPGI_P};

size_t opg_pricer_max_dimensions(void) { return MAX_DIMS; }
size_t opg_pricer_name_max(void) { return OPG_PRICER_NAME_MAX; }

/* ------------------------------------------------------------ small helpers */

static int u256_lt(const opg_u256 *a, const opg_u256 *b)
{
    return opgi_cmp_n(a->limb, b->limb, 4) < 0;
}

static void clamp_u256(opg_u256 *v, const opg_u256 *lo, const opg_u256 *hi)
{
    if (u256_lt(v, lo))
        *v = *lo;
    if (u256_lt(hi, v))
        *v = *hi;
}

size_t opgi_pricer_name_len(const char name[OPG_PRICER_NAME_MAX])
{
    size_t n = 0;
    while (n < OPG_PRICER_NAME_MAX && name[n])
        n++;
    return n;
}

/* Writes the decimal text of v into buf (at least 11 bytes); for error details. */
static const char *u32_text(char *buf, uint32_t v)
{
    char tmp[11];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
    return buf;
}

/* ------------------------------------------------------- fake_exponential */

/*
 * EIP-4844's fake_exponential(factor, numerator, denominator), computed only as far
 * as it stays at most cap:
 *     i = 1; output = 0; accum = factor * denominator
 *     while accum > 0:
 *         output += accum
 *         accum = floor(accum * numerator / (denominator * i)); i += 1
 *     return floor(output / denominator)
 * Every term is positive, so once output reaches (cap + 1) * denominator the result
 * exceeds cap and the loop stops: returns 1 and leaves out untouched. Otherwise
 * returns 0 with the exact result. Until then accum <= output < 2^512, so the
 * product accum * numerator fits 12 limbs and nothing can wrap. denominator != 0.
 */
static int fake_exponential_capped(opg_u256 *out, const opg_u256 *factor,
                                   const opg_u256 *numerator, const opg_u256 *denominator,
                                   const opg_u256 *cap)
{
    uint64_t cap_plus_one[5], bound[OPGI_NUM_MAX], accum[OPGI_NUM_MAX];
    uint64_t output[OPGI_NUM_MAX] = {0}, next[OPGI_NUM_MAX], den_i[5];

    cap_plus_one[4] = opgi_add_n(cap_plus_one, cap->limb, ONE_256, 4);
    /* exact products: the divisor 1 makes these plain multiplications (9 and 8 limbs) */
    OPGI_MUST(opgi_muldiv(bound, OPGI_NUM_MAX, cap_plus_one, 5, denominator->limb, 4, ONE, 1,
                          OPGI_TRUNC));
    OPGI_MUST(opgi_muldiv(accum, OPGI_NUM_MAX, factor->limb, 4, denominator->limb, 4, ONE, 1,
                          OPGI_TRUNC));

    for (uint64_t i = 1; !opgi_is_zero_n(accum, OPGI_NUM_MAX); i++) {
        /* < 2^769: no carry out */
        OPGI_MUST(opgi_add_n(output, output, accum, OPGI_NUM_MAX));
        if (opgi_cmp_n(output, bound, OPGI_NUM_MAX) >= 0)
            return 1;
        uint64_t i_limb[1] = {i};
        /* truncating, as the EIP's integer division; accum < 2^512 fits 8 limbs */
        OPGI_MUST(opgi_muldiv(den_i, 5, denominator->limb, 4, i_limb, 1, ONE, 1, OPGI_TRUNC));
        OPGI_MUST(opgi_muldiv(next, OPGI_NUM_MAX, accum, 8, numerator->limb, 4, den_i, 5,
                              OPGI_TRUNC));
        memcpy(accum, next, sizeof accum);
    }
    /* truncating, as the EIP; output < (cap + 1) * denominator, so this is <= cap */
    if (OPGI_NEVER(NULL, opgi_muldiv(out->limb, 4, output, 8, ONE, 1, denominator->limb, 4,
                                     OPGI_TRUNC) != OPG_OK))
        return 1;
    return 0;
}

int opg_pricer_fake_exponential(opg_u256 *out, const opg_u256 *factor,
                                const opg_u256 *numerator, const opg_u256 *denominator)
{
    static const opg_u256 u256_max = {{UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX}};
    if (opgi_u256_is_zero(denominator))
        return OPG_EDIVZERO;
    opg_u256 result;
    if (fake_exponential_capped(&result, factor, numerator, denominator, &u256_max))
        return OPG_EOVERFLOW;
    *out = result;
    return OPG_OK;
}

/* ------------------------------------------------------------- controllers */

/*
 * Ethereum's base fee rule (go-ethereum CalcBaseFee), then the clamp:
 *   used == target: unchanged
 *   used >  target: bf + max(trunc(trunc(bf * (used - target) / target) / den), 1)
 *   used <  target: bf - trunc(trunc(bf * (target - used) / target) / den)
 * The increase is computed in 9 limbs and capped at max_base_fee, so it cannot wrap.
 */
static void eip1559_next(opg_u256 *base_fee, const opg_u256 *used, const dim_rules *r)
{
    const uint64_t den[1] = {r->denominator};
    opg_u256 bf = *base_fee;
    int c = opgi_cmp_n(used->limb, r->target.limb, 4);
    if (c > 0) {
        uint64_t over[4], step[8], delta[9], next[9], max9[9];
        OPGI_MUST(opgi_sub_n(over, used->limb, r->target.limb, 4)); /* used > target */
        /* truncating, as Ethereum: bf * over / target < 2^512 fits 8 limbs; den >= 1 */
        OPGI_MUST(opgi_muldiv(step, 8, bf.limb, 4, over, 4, r->target.limb, 4, OPGI_TRUNC));
        OPGI_MUST(opgi_muldiv(delta, 9, step, 8, ONE, 1, den, 1, OPGI_TRUNC));
        if (opgi_is_zero_n(delta, 9))
            delta[0] = 1; /* the minimum increase */
        uint64_t bf9[9];
        /* widening always fits; the sum < 2^513: no carry out */
        OPGI_MUST(opgi_resize_n(bf9, 9, bf.limb, 4));
        OPGI_MUST(opgi_add_n(next, bf9, delta, 9));
        OPGI_MUST(opgi_resize_n(max9, 9, r->max_base_fee.limb, 4));
        if (opgi_cmp_n(next, max9, 9) > 0)
            bf = r->max_base_fee;
        else /* at most max_base_fee: 4 limbs */
            OPGI_MUST(opgi_resize_n(bf.limb, 4, next, 9));
    } else if (c < 0) {
        uint64_t under[4], step[4], delta[4];
        OPGI_MUST(opgi_sub_n(under, r->target.limb, used->limb, 4)); /* used < target */
        /* truncating, as Ethereum; under <= target, so step <= bf; den >= 1 */
        OPGI_MUST(opgi_muldiv(step, 4, bf.limb, 4, under, 4, r->target.limb, 4, OPGI_TRUNC));
        OPGI_MUST(opgi_muldiv(delta, 4, step, 4, ONE, 1, den, 1, OPGI_TRUNC));
        /* delta <= bf: floor at 0 holds */
        OPGI_MUST(opgi_sub_n(bf.limb, bf.limb, delta, 4));
    }
    clamp_u256(&bf, &r->min_base_fee, &r->max_base_fee);
    *base_fee = bf;
}

/*
 * EIP-4844: excess = max(0, excess + used - target) (held at 2^256-1 should it ever
 * get there), base fee = fake_exponential(min_base_fee, excess, update_fraction),
 * capped at max_base_fee. It is never below min_base_fee: the series starts there.
 */
static void exponential_next(opg_u256 *base_fee, opg_u256 *excess, const opg_u256 *used,
                             const dim_rules *r)
{
    uint64_t sum[5], target5[5], rest[5];
    opg_u256 ex, fraction;
    sum[4] = opgi_add_n(sum, excess->limb, used->limb, 4);
    OPGI_MUST(opgi_resize_n(target5, 5, r->target.limb, 4));
    if (opgi_cmp_n(sum, target5, 5) <= 0) {
        memset(&ex, 0, sizeof ex);
    } else {
        OPGI_MUST(opgi_sub_n(rest, sum, target5, 5)); /* sum > target */
        if (opgi_resize_n(ex.limb, 4, rest, 5) != OPG_OK)
            memset(ex.limb, 0xff, sizeof ex.limb);
    }
    opg_u256_from_u64(&fraction, r->update_fraction);
    opg_u256 bf;
    if (fake_exponential_capped(&bf, &r->min_base_fee, &ex, &fraction, &r->max_base_fee))
        bf = r->max_base_fee;
    clamp_u256(&bf, &r->min_base_fee, &r->max_base_fee);
    *excess = ex;
    *base_fee = bf;
}

/* ------------------------------------------------------------- validation */

static int name_is_valid(const char name[OPG_PRICER_NAME_MAX])
{
    size_t n = opgi_pricer_name_len(name);
    if (n == 0 || n == OPG_PRICER_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                 (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
        if (!ok)
            return 0;
    }
    /* "fees.split" and "fees.combine" are pricer-wide keys */
    return strcmp(name, "split") != 0 && strcmp(name, "combine") != 0;
}

/* Checks the names of n dimensions: valid and distinct. */
static int check_names(char *err, const char (*names)[OPG_PRICER_NAME_MAX], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!name_is_valid(names[i]))
            return opgi_fail(err, OPG_EINVAL,
                             "dimension name must be 1..31 of A-Z a-z 0-9 _ - "
                             "and not split or combine",
                             NULL);
        for (size_t j = 0; j < i; j++)
            if (strcmp(names[i], names[j]) == 0)
                return opgi_fail(err, OPG_EINVAL, "duplicate dimension name", names[i]);
    }
    return OPG_OK;
}

/* The rules that tie fields together; the key table checks each field's own bounds. */
static int validate_rules(const void *candidate, char *err)
{
    pricer_rules r;
    memcpy(&r, candidate, sizeof r); /* the candidate may sit in an unaligned buffer */
    if (r.dimension_count < 1 || r.dimension_count > MAX_DIMS)
        return opgi_fail(err, OPG_EINVAL, "dimension count must be 1..8", NULL);
    for (size_t d = 0; d < r.dimension_count; d++) {
        const dim_rules *x = &r.dim[d];
        if (x->controller != OPG_PRICER_EIP1559 && x->controller != OPG_PRICER_EXPONENTIAL)
            return opgi_fail(err, OPG_EINVAL, "unknown controller", NULL);
        if (opgi_u256_is_zero(&x->target))
            return opgi_fail(err, OPG_EINVAL, "target must be at least 1", NULL);
        if (u256_lt(&x->limit, &x->target))
            return opgi_fail(err, OPG_EINVAL, "target must not exceed limit", NULL);
        if (u256_lt(&x->max_base_fee, &x->min_base_fee))
            return opgi_fail(err, OPG_EINVAL, "min_base_fee must not exceed max_base_fee", NULL);
        if (x->controller == OPG_PRICER_EIP1559 && x->denominator == 0)
            return opgi_fail(err, OPG_EINVAL, "denominator must be at least 1", NULL);
        if (x->controller == OPG_PRICER_EXPONENTIAL) {
            if (x->update_fraction == 0)
                return opgi_fail(err, OPG_EINVAL, "update_fraction must be at least 1", NULL);
            if (opgi_u256_is_zero(&x->min_base_fee))
                return opgi_fail(err, OPG_EINVAL,
                                 "exponential min_base_fee must be at least 1 (it is the factor)",
                                 NULL);
        }
    }
    if (r.combine != OPG_PRICER_COMBINE_SUM && r.combine != OPG_PRICER_COMBINE_MAX)
        return opgi_fail(err, OPG_EINVAL, "unknown combine policy", NULL);
    const opg_dec *share[5] = {&r.split.inference, &r.split.verifiers, &r.split.stakers,
                               &r.split.burn, &r.split.community};
    uint64_t sum[5] = {0};
    for (size_t i = 0; i < 5; i++) {
        uint64_t s5[5];
        /* five shares < 2^259: no carry out */
        OPGI_MUST(opgi_resize_n(s5, 5, share[i]->limb, 4));
        OPGI_MUST(opgi_add_n(sum, sum, s5, 5));
    }
    const uint64_t one_dec[5] = {OPGI_P, 0, 0, 0, 0};
    if (opgi_cmp_n(sum, one_dec, 5) != 0)
        return opgi_fail(err, OPG_EINVAL, "split shares must add up to exactly 1", NULL);
    return OPG_OK;
}

/* ---------------------------------------------------------- the key table */

static void add_key(opg_pricer *p, size_t *n, size_t dim, const char *field,
                    opgi_param_type type, size_t offset, const char *min)
{
    char *key = p->key[*n];
    size_t at = 0;
    const char *parts[] = {"fees.", p->name[dim], ".", field};
    for (size_t i = 0; i < OPGI_ARRAY_LEN(parts); i++) {
        size_t len = strlen(parts[i]);
        memcpy(key + at, parts[i], len);
        at += len;
    }
    key[at] = '\0';
    opgi_param *e = &p->param[*n];
    e->key = key;
    e->type = type;
    e->offset = offsetof(pricer_rules, dim) + dim * sizeof(dim_rules) + offset;
    e->min = min;
    e->max = NULL;
    (*n)++;
}

/* Builds the dimension keys from the names and controllers (fixed for the handle). */
static void build_table(opg_pricer *p)
{
    size_t n = 0;
    for (size_t d = 0; d < p->rules.dimension_count; d++) {
        add_key(p, &n, d, "target", OPGI_PARAM_U256, offsetof(dim_rules, target), "1");
        add_key(p, &n, d, "limit", OPGI_PARAM_U256, offsetof(dim_rules, limit), "1");
        add_key(p, &n, d, "min_base_fee", OPGI_PARAM_U256, offsetof(dim_rules, min_base_fee),
                NULL);
        add_key(p, &n, d, "max_base_fee", OPGI_PARAM_U256, offsetof(dim_rules, max_base_fee),
                NULL);
        if (p->rules.dim[d].controller == OPG_PRICER_EIP1559)
            add_key(p, &n, d, "denominator", OPGI_PARAM_U64, offsetof(dim_rules, denominator),
                    "1");
        else
            add_key(p, &n, d, "update_fraction", OPGI_PARAM_U64,
                    offsetof(dim_rules, update_fraction), "1");
    }
    p->table.entries = p->param;
    p->table.count = n;
    p->table.struct_size = sizeof(pricer_rules);
    p->table.validate = validate_rules;
}

opg_pricer *opgi_pricer_alloc(const opg_allocator *alloc)
{
    opg_allocator a;
    opgi_allocator_init(&a, alloc);
    opg_pricer *p = opgi_alloc(&a, sizeof *p);
    if (!p)
        return NULL;
    memset(p, 0, sizeof *p);
    p->alloc = a;
    if (opgi_records_init(&p->records, &p->alloc) != OPG_OK) {
        opgi_free(&a, p, sizeof *p);
        return NULL;
    }
    return p;
}

int opgi_pricer_check(opg_pricer *p)
{
    int rc = validate_rules(&p->rules, p->err);
    if (rc == OPG_OK)
        rc = check_names(p->err, (const char(*)[OPG_PRICER_NAME_MAX])p->name,
                         p->rules.dimension_count);
    if (rc)
        return rc;
    build_table(p);
    return opgi_params_check(&p->table, &p->rules, p->err);
}

/* ------------------------------------------------------------- lifetime */

void opg_pricer_params_init(opg_pricer_params *params)
{
    memset(params, 0, sizeof *params);
    for (size_t d = 0; d < MAX_DIMS; d++) {
        opg_pricer_dimension *x = &params->dimensions[d];
        x->controller = OPG_PRICER_EIP1559;
        opg_u256_from_u64(&x->initial_base_fee, 1000000000);
        opg_u256_from_u64(&x->target, 15000000);
        opg_u256_from_u64(&x->limit, 30000000);
        memset(x->max_base_fee.limb, 0xff, sizeof x->max_base_fee.limb);
        x->denominator = 8;
        x->update_fraction = 3338477;
    }
    params->combine = OPG_PRICER_COMBINE_SUM;
    opg_dec_from_u64(&params->split.inference, 1);
}

static int class_cmp(const void *a, const void *b)
{
    uint32_t x = ((const opg_pricer_class *)a)->id, y = ((const opg_pricer_class *)b)->id;
    return (x > y) - (x < y);
}

/* Copies a class, with the multipliers past the dimension count set to 0. */
static void class_copy(opg_pricer_class *dst, const opg_pricer_class *src, size_t dims)
{
    memset(dst, 0, sizeof *dst);
    dst->id = src->id;
    memcpy(dst->multiplier, src->multiplier, dims * sizeof dst->multiplier[0]);
}

void opg_pricer_free(opg_pricer *pricer)
{
    if (!pricer)
        return;
    opg_allocator a = pricer->alloc;
    opgi_records_free(&pricer->records, &a);
    opgi_free(&a, pricer->classes, pricer->class_cap * sizeof *pricer->classes);
    opgi_free(&a, pricer, sizeof *pricer);
}

int opg_pricer_new(opg_pricer **out, const opg_pricer_params *params,
                   const opg_allocator *alloc)
{
    if (!out || !params)
        return OPG_EINVAL;
    if (params->dimension_count < 1 || params->dimension_count > MAX_DIMS)
        return OPG_EINVAL;
    if (params->class_count && !params->classes)
        return OPG_EINVAL;
    opg_pricer *p = opgi_pricer_alloc(alloc);
    if (!p)
        return OPG_ENOMEM;

    size_t dims = params->dimension_count;
    p->rules.dimension_count = dims;
    p->rules.combine = params->combine;
    p->rules.split = params->split;
    for (size_t d = 0; d < dims; d++) {
        const opg_pricer_dimension *x = &params->dimensions[d];
        dim_rules *r = &p->rules.dim[d];
        r->controller = x->controller;
        r->target = x->target;
        r->limit = x->limit;
        r->min_base_fee = x->min_base_fee;
        r->max_base_fee = x->max_base_fee;
        /* only the controller's own rate is kept, so the state has one form */
        r->denominator = x->controller == OPG_PRICER_EIP1559 ? x->denominator : 0;
        r->update_fraction = x->controller == OPG_PRICER_EXPONENTIAL ? x->update_fraction : 0;
        size_t len = opgi_pricer_name_len(x->name);
        if (len < OPG_PRICER_NAME_MAX) /* else left empty: refused by the name check */
            memcpy(p->name[d], x->name, len);
        p->base_fee[d] = x->initial_base_fee;
    }
    int rc = opgi_pricer_check(p);
    for (size_t d = 0; rc == OPG_OK && d < dims; d++) {
        const dim_rules *r = &p->rules.dim[d];
        if (u256_lt(&p->base_fee[d], &r->min_base_fee) ||
            u256_lt(&r->max_base_fee, &p->base_fee[d]))
            rc = OPG_EINVAL; /* initial base fee outside [min, max] */
    }
    if (rc == OPG_OK && params->class_count) {
        p->classes = opgi_alloc_array(&p->alloc, params->class_count, sizeof *p->classes);
        if (!p->classes) {
            rc = OPG_ENOMEM;
        } else {
            p->class_cap = p->class_count = params->class_count;
            for (size_t i = 0; i < params->class_count; i++)
                class_copy(&p->classes[i], &params->classes[i], dims);
            /* ids are unique, so the order is total and qsort's result is canonical */
            qsort(p->classes, p->class_count, sizeof *p->classes, class_cmp);
            for (size_t i = 1; i < p->class_count; i++)
                if (p->classes[i - 1].id == p->classes[i].id)
                    rc = OPG_EINVAL; /* duplicate class id */
        }
    }
    if (rc) {
        opg_pricer_free(p);
        return rc;
    }
    p->err[0] = '\0';
    *out = p;
    return OPG_OK;
}

const char *opg_pricer_last_error(const opg_pricer *pricer)
{
    return pricer ? pricer->err : "";
}

/* ------------------------------------------------------------ inspection */

size_t opg_pricer_dimension_count(const opg_pricer *pricer)
{
    return pricer->rules.dimension_count;
}

int opg_pricer_dimension_get(opg_pricer_dimension *dimension,
                             opg_pricer_dimension_state *state, const opg_pricer *pricer,
                             size_t index)
{
    if (index >= pricer->rules.dimension_count)
        return OPG_EINVAL;
    const dim_rules *r = &pricer->rules.dim[index];
    if (dimension) {
        memset(dimension, 0, sizeof *dimension);
        memcpy(dimension->name, pricer->name[index], OPG_PRICER_NAME_MAX);
        dimension->controller = r->controller;
        dimension->initial_base_fee = pricer->base_fee[index];
        dimension->target = r->target;
        dimension->limit = r->limit;
        dimension->min_base_fee = r->min_base_fee;
        dimension->max_base_fee = r->max_base_fee;
        dimension->denominator = r->denominator;
        dimension->update_fraction = r->update_fraction;
    }
    if (state) {
        state->base_fee = pricer->base_fee[index];
        state->usage = pricer->usage[index];
        state->excess = pricer->excess[index];
    }
    return OPG_OK;
}

int opg_pricer_dimension_find(size_t *index, const opg_pricer *pricer, const char *name)
{
    if (!name)
        return OPG_ENOTFOUND;
    for (size_t d = 0; d < pricer->rules.dimension_count; d++)
        if (strcmp(pricer->name[d], name) == 0) {
            *index = d;
            return OPG_OK;
        }
    return OPG_ENOTFOUND;
}

void opg_pricer_split_get(opg_pricer_split *split, const opg_pricer *pricer)
{
    *split = pricer->rules.split;
}

opg_pricer_combine opg_pricer_combine_get(const opg_pricer *pricer)
{
    return pricer->rules.combine;
}

/* ---------------------------------------------------------- model classes */

/* Index of the first class with id >= the given one (binary search). */
static size_t class_lower_bound(const opg_pricer *p, uint32_t id)
{
    size_t lo = 0, hi = p->class_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->classes[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const opg_pricer_class *opgi_pricer_class_find(const opg_pricer *p, uint32_t id)
{
    size_t i = class_lower_bound(p, id);
    return i < p->class_count && p->classes[i].id == id ? &p->classes[i] : NULL;
}

int opg_pricer_class_set(opg_pricer *pricer, const opg_pricer_class *cls)
{
    if (!cls)
        return opgi_fail(pricer->err, OPG_EINVAL, "no class given", NULL);
    int rc = opgi_pricer_touch_reserve(pricer, 1);
    if (rc)
        return rc;
    size_t i = class_lower_bound(pricer, cls->id);
    if (i < pricer->class_count && pricer->classes[i].id == cls->id) {
        class_copy(&pricer->classes[i], cls, pricer->rules.dimension_count);
        opgi_pricer_touch_class(pricer, cls->id);
        return OPG_OK;
    }
    if (pricer->class_count == pricer->class_cap) {
        size_t cap = pricer->class_cap ? 2 * pricer->class_cap : 8;
        if (cap > SIZE_MAX / sizeof *pricer->classes)
            return opgi_fail(pricer->err, OPG_ENOMEM, "too many model classes", NULL);
        opg_pricer_class *grown =
            opgi_realloc(&pricer->alloc, pricer->classes,
                         pricer->class_cap * sizeof *pricer->classes, cap * sizeof *grown);
        if (!grown)
            return opgi_fail(pricer->err, OPG_ENOMEM, "no memory for a model class", NULL);
        pricer->classes = grown;
        pricer->class_cap = cap;
    }
    memmove(&pricer->classes[i + 1], &pricer->classes[i],
            (pricer->class_count - i) * sizeof *pricer->classes);
    class_copy(&pricer->classes[i], cls, pricer->rules.dimension_count);
    pricer->class_count++;
    opgi_pricer_touch_class(pricer, cls->id);
    return OPG_OK;
}

int opg_pricer_class_remove(opg_pricer *pricer, uint32_t id)
{
    size_t i = class_lower_bound(pricer, id);
    if (i >= pricer->class_count || pricer->classes[i].id != id) {
        char num[11];
        return opgi_fail(pricer->err, OPG_ECLASS, "no model class", u32_text(num, id));
    }
    int rc = opgi_pricer_touch_reserve(pricer, 1);
    if (rc)
        return rc;
    opgi_pricer_touch_class(pricer, id);
    memmove(&pricer->classes[i], &pricer->classes[i + 1],
            (pricer->class_count - i - 1) * sizeof *pricer->classes);
    pricer->class_count--;
    return OPG_OK;
}

int opg_pricer_class_get(opg_pricer_class *cls, const opg_pricer *pricer, uint32_t id)
{
    const opg_pricer_class *c = opgi_pricer_class_find(pricer, id);
    if (!c)
        return OPG_ECLASS;
    *cls = *c;
    return OPG_OK;
}

size_t opg_pricer_class_count(const opg_pricer *pricer) { return pricer->class_count; }

int opg_pricer_class_at(opg_pricer_class *cls, const opg_pricer *pricer, size_t i)
{
    if (i >= pricer->class_count)
        return OPG_EINVAL;
    *cls = pricer->classes[i];
    return OPG_OK;
}

/* ------------------------------------------------------- quote and charge */

/* Prices a request against the current state; errors carry detail in err. */
static int price(opg_pricer_price *out, const opg_pricer *p, const opg_pricer_request *req,
                 char *err)
{
    const opg_pricer_class *cls = opgi_pricer_class_find(p, req->model_class);
    if (!cls) {
        char num[11];
        return opgi_fail(err, OPG_ECLASS, "no model class", u32_text(num, req->model_class));
    }
    size_t dims = p->rules.dimension_count;
    opg_pricer_price pr;
    memset(&pr, 0, sizeof pr);

    int takes_something = 0;
    for (size_t d = 0; d < dims; d++) {
        /* ceiling: a fraction of a unit still occupies a whole unit */
        if (opgi_muldiv(pr.effective_units[d].limb, 4, req->units[d].limb, 4,
                        cls->multiplier[d].limb, 4, SCALE, 1, OPGI_CEIL) != OPG_OK)
            return opgi_fail(err, OPG_EOVERFLOW, "effective units overflow in dimension",
                             p->name[d]);
        if (!opgi_u256_is_zero(&pr.effective_units[d]))
            takes_something = 1;
    }
    if (!takes_something)
        return opgi_fail(err, OPG_EZERO, "request takes no units in any dimension", NULL);

    for (size_t d = 0; d < dims; d++) {
        uint64_t after[5], limit5[5];
        after[4] = opgi_add_n(after, p->usage[d].limb, pr.effective_units[d].limb, 4);
        OPGI_MUST(opgi_resize_n(limit5, 5, p->rules.dim[d].limit.limb, 4));
        if (opgi_cmp_n(after, limit5, 5) > 0)
            return opgi_fail(err, OPG_ELIMIT, "block limit reached in dimension", p->name[d]);
    }

    for (size_t d = 0; d < dims; d++) {
        if (opg_u256_mul(&pr.dimension_fee[d], &pr.effective_units[d], &p->base_fee[d]) !=
            OPG_OK)
            return opgi_fail(err, OPG_EOVERFLOW, "fee overflows in dimension", p->name[d]);
        if (p->rules.combine == OPG_PRICER_COMBINE_MAX) {
            if (u256_lt(&pr.base_fee, &pr.dimension_fee[d]))
                pr.base_fee = pr.dimension_fee[d];
        } else if (opg_u256_add(&pr.base_fee, &pr.base_fee, &pr.dimension_fee[d]) != OPG_OK) {
            return opgi_fail(err, OPG_EOVERFLOW, "summed base fee overflows", NULL);
        }
    }
    *out = pr;
    return OPG_OK;
}

int opg_pricer_quote(opg_pricer_price *out, const opg_pricer *pricer,
                     const opg_pricer_request *request)
{
    char scratch[OPGI_ERRMSG_MAX]; /* a const handle keeps its last-error text */
    if (!out || !request)
        return OPG_EINVAL;
    return price(out, pricer, request, scratch);
}

/* trunc(fee * share): a part of the fee; share <= 1, so it fits. */
static void fee_part(opg_u256 *part, const opg_u256 *fee, const opg_dec *share)
{
    /* truncating: the dust goes to the inference node */
    if (OPGI_NEVER(NULL, opgi_muldiv(part->limb, 4, fee->limb, 4, share->limb, 4, SCALE, 1,
                                     OPGI_TRUNC) != OPG_OK))
        memset(part, 0, sizeof *part);
}

int opg_pricer_charge(opg_pricer_receipt *out, opg_u256 *verifier_amounts,
                      opg_pricer *pricer, const opg_pricer_request *request,
                      const opg_u256 *max_fee, const opg_u256 *max_priority_fee,
                      const opg_id *verifiers, size_t verifier_count)
{
    char *err = pricer->err;
    if (!out || !request || !max_fee || !max_priority_fee)
        return opgi_fail(err, OPG_EINVAL, "missing argument", NULL);
    if (verifier_count && (!verifiers || !verifier_amounts))
        return opgi_fail(err, OPG_EINVAL, "verifier ids or amounts missing", NULL);

    opg_pricer_receipt r;
    memset(&r, 0, sizeof r);
    int rc = price(&r.price, pricer, request, err);
    if (rc)
        return rc;
    if (u256_lt(max_fee, &r.price.base_fee))
        return opgi_fail(err, OPG_EFEE, "max_fee is below the base fee", NULL);

    const opg_pricer_split *split = &pricer->rules.split;
    if (verifier_count == 0 && !opgi_dec_is_zero(&split->verifiers))
        return opgi_fail(err, OPG_EINVAL, "the split pays verifiers but none was given", NULL);
    size_t first = 0; /* the lowest id takes the verifiers' remainder */
    for (size_t i = 0; i < verifier_count; i++) {
        for (size_t j = 0; j < i; j++)
            if (opg_id_cmp(&verifiers[i], &verifiers[j]) == 0)
                return opgi_fail(err, OPG_EINVAL, "verifier id given twice", NULL);
        if (opg_id_cmp(&verifiers[i], &verifiers[first]) < 0)
            first = i;
    }

    /* tip = min(max_priority_fee, max_fee - base fee); fee = base + tip <= max_fee */
    opg_u256 headroom;
    OPGI_MUST(opgi_sub_n(headroom.limb, max_fee->limb, r.price.base_fee.limb, 4));
    r.tip = u256_lt(max_priority_fee, &headroom) ? *max_priority_fee : headroom;
    OPGI_MUST(opgi_add_n(r.fee.limb, r.price.base_fee.limb, r.tip.limb, 4));

    fee_part(&r.inference, &r.fee, &split->inference);
    fee_part(&r.verifiers, &r.fee, &split->verifiers);
    fee_part(&r.stakers, &r.fee, &split->stakers);
    fee_part(&r.burn, &r.fee, &split->burn);
    fee_part(&r.community, &r.fee, &split->community);
    opg_u256 dust = r.fee; /* each part <= fee * share and the shares sum to 1 */
    const opg_u256 *parts[] = {&r.inference, &r.verifiers, &r.stakers, &r.burn, &r.community};
    for (size_t i = 0; i < OPGI_ARRAY_LEN(parts); i++)
        OPGI_MUST(opgi_sub_n(dust.limb, dust.limb, parts[i]->limb, 4));
    OPGI_MUST(opgi_add_n(r.inference.limb, r.inference.limb, dust.limb, 4));

    if (verifier_count) {
        opg_u256 each, rest, count;
        opg_u256_from_u64(&count, (uint64_t)verifier_count);
        /* truncating: equal parts; the remainder goes to the lowest id */
        if (OPGI_NEVER(err, opg_u256_divmod(&each, &rest, &r.verifiers, &count) != OPG_OK))
            return OPG_EINVARIANT; /* count >= 1 */
        for (size_t i = 0; i < verifier_count; i++)
            verifier_amounts[i] = each;
        OPGI_MUST(opgi_add_n(verifier_amounts[first].limb, each.limb, rest.limb, 4));
    }

    /* price() checked that usage + effective units stays within every limit */
    for (size_t d = 0; d < pricer->rules.dimension_count; d++)
        OPGI_MUST(opgi_add_n(pricer->usage[d].limb, pricer->usage[d].limb,
                             r.price.effective_units[d].limb, 4));
    *out = r;
    return OPG_OK;
}

int opg_pricer_end_block(opg_u256 new_base_fees[OPG_PRICER_MAX_DIMENSIONS], opg_pricer *pricer)
{
    for (size_t d = 0; d < pricer->rules.dimension_count; d++) {
        const dim_rules *r = &pricer->rules.dim[d];
        if (r->controller == OPG_PRICER_EIP1559)
            eip1559_next(&pricer->base_fee[d], &pricer->usage[d], r);
        else
            exponential_next(&pricer->base_fee[d], &pricer->excess[d], &pricer->usage[d], r);
        memset(&pricer->usage[d], 0, sizeof pricer->usage[d]);
    }
    if (new_base_fees)
        for (size_t d = 0; d < MAX_DIMS; d++) {
            if (d < pricer->rules.dimension_count)
                new_base_fees[d] = pricer->base_fee[d];
            else
                memset(&new_base_fees[d], 0, sizeof new_base_fees[d]);
        }
    return OPG_OK;
}

/* ------------------------------------------------------------- parameters */

static const char *const SPLIT_NAMES[5] = {"inference", "verifiers", "stakers", "burn",
                                           "community"};

opg_dec *opgi_pricer_split_share(opg_pricer_split *s, size_t i)
{
    opg_dec *shares[5] = {&s->inference, &s->verifiers, &s->stakers, &s->burn, &s->community};
    return shares[i];
}

/* "a,b,c,d,e" -> five shares; OPG_EPARSE unless exactly five decimals. */
static int parse_split(opg_pricer_split *out, const char *text, char *err)
{
    const char *at = text;
    for (size_t i = 0; i < 5; i++) {
        const char *end = at;
        while (*end && *end != ',')
            end++;
        if ((i < 4) != (*end == ','))
            return opgi_fail(err, OPG_EPARSE, "want five comma-separated shares for",
                             KEY_SPLIT);
        char one[OPG_DEC_STRING_MAX];
        size_t len = (size_t)(end - at);
        if (len >= sizeof one)
            return opgi_fail(err, OPG_EPARSE, "malformed share for", SPLIT_NAMES[i]);
        memcpy(one, at, len);
        one[len] = '\0';
        int rc = opg_dec_from_string(opgi_pricer_split_share(out, i), one);
        if (rc)
            return opgi_fail(err, rc == OPG_EPARSE ? OPG_EPARSE : OPG_EINVAL,
                             "malformed share for", SPLIT_NAMES[i]);
        at = end + 1;
    }
    return OPG_OK;
}

/*
 * The "fees." namespace. A copy is the governable part of the pricer: its rules and
 * its base fees, which a new min_base_fee or max_base_fee pulls into bounds (so a
 * refused proposal must not have clamped the live fees). Staging changes the copy
 * only; commit stores both, which cannot fail.
 */
typedef struct params_copy {
    pricer_rules rules;
    opg_u256 base_fee[MAX_DIMS];
} params_copy;
_Static_assert(sizeof(params_copy) <= OPGI_NS_SCRATCH_MAX, "a pricer copy fits the stack copy");

static void params_begin(void *copy, const void *h)
{
    const opg_pricer *p = h;
    params_copy *c = copy;
    c->rules = p->rules;
    memcpy(c->base_fee, p->base_fee, sizeof c->base_fee);
}

static int params_stage(void *copy, const void *h, const char *key, const char *value,
                        char *err)
{
    const opg_pricer *p = h;
    params_copy *c = copy;
    if (!key)
        return opgi_fail(err, OPG_EKEY, "no parameter key", NULL);
    if (!value)
        return opgi_fail(err, OPG_EINVAL, "missing value for", key);
    pricer_rules candidate = c->rules;
    if (strcmp(key, KEY_SPLIT) == 0) {
        int rc = parse_split(&candidate.split, value, err);
        if (rc == OPG_OK)
            rc = validate_rules(&candidate, err);
        if (rc)
            return rc;
    } else if (strcmp(key, KEY_COMBINE) == 0) {
        if (strcmp(value, "sum") == 0)
            candidate.combine = OPG_PRICER_COMBINE_SUM;
        else if (strcmp(value, "max") == 0)
            candidate.combine = OPG_PRICER_COMBINE_MAX;
        else
            return opgi_fail(err, OPG_EPARSE, "want sum or max for", KEY_COMBINE);
    } else {
        /* the key table is the handle's (its dimension names), the values the copy's */
        int rc = opgi_params_set(&p->table, &candidate, key, value, err);
        if (rc)
            return rc;
    }
    c->rules = candidate;
    /* every base fee into its (possibly new) bounds */
    for (size_t d = 0; d < c->rules.dimension_count; d++)
        clamp_u256(&c->base_fee[d], &c->rules.dim[d].min_base_fee,
                   &c->rules.dim[d].max_base_fee);
    return OPG_OK;
}

static void params_commit(void *h, void *copy)
{
    opg_pricer *p = h;
    const params_copy *c = copy;
    p->rules = c->rules;
    memcpy(p->base_fee, c->base_fee, sizeof p->base_fee);
}

const opgi_param_ns opgi_pricer_param_ns = {
    .prefixes = {"fees.", NULL},
    .scratch_size = sizeof(params_copy),
    .begin = params_begin,
    .stage = params_stage,
    .commit = params_commit,
};

int opg_pricer_param_set(opg_pricer *pricer, const char *key, const char *value)
{
    return opgi_param_ns_set(&opgi_pricer_param_ns, pricer, key, value, pricer->err);
}

/* Copies text (with its NUL) into buf[cap], or reports the size needed. */
static int emit_text(char *buf, size_t cap, size_t *needed, const char *text)
{
    size_t n = strlen(text) + 1;
    if (needed)
        *needed = n;
    if (!buf || cap < n)
        return OPG_EBUFS;
    memcpy(buf, text, n);
    return OPG_OK;
}

int opg_pricer_param_get(char *buf, size_t cap, size_t *needed, const opg_pricer *pricer,
                         const char *key)
{
    char scratch[OPGI_ERRMSG_MAX]; /* a const handle keeps its last-error text */
    if (!key)
        return OPG_EKEY;
    if (strcmp(key, KEY_COMBINE) == 0)
        return emit_text(buf, cap, needed,
                         pricer->rules.combine == OPG_PRICER_COMBINE_MAX ? "max" : "sum");
    if (strcmp(key, KEY_SPLIT) == 0) {
        char text[5 * OPG_DEC_STRING_MAX];
        size_t at = 0;
        opg_pricer_split s = pricer->rules.split;
        for (size_t i = 0; i < 5; i++) {
            size_t n;
            if (i)
                text[at++] = ',';
            /* five shares and four commas fit the buffer */
            if (OPGI_NEVER(NULL, opg_dec_to_string(text + at, sizeof text - at, &n,
                                                   opgi_pricer_split_share(&s, i)) != OPG_OK))
                return OPG_EINVARIANT;
            at += n - 1; /* n counts the NUL */
        }
        return emit_text(buf, cap, needed, text);
    }
    return opgi_params_get(&pricer->table, &pricer->rules, key, buf, cap, needed, scratch);
}

const char *opg_pricer_param_key(const opg_pricer *pricer, size_t i)
{
    size_t n = pricer->table.count;
    if (i < n)
        return opgi_params_key(&pricer->table, i);
    if (i == n)
        return KEY_COMBINE;
    if (i == n + 1)
        return KEY_SPLIT;
    return NULL;
}
