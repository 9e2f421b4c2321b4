/*
 * emission.c - what enters the reward pot each block: Cosmos x/mint inflation, or a
 * pre-funded pool released with a half-life (decay) or evenly (linear).
 *
 * Pools are computed from the absolute elapsed time since their anchor: a block
 * emits target(now) minus what was already emitted, so per-block rounding never
 * accumulates and the total never exceeds the pool.
 *
 * exp2 without floating point: for x = q + f (q whole, 0 <= f < 1),
 * 2^-x = 2^-q * prod over the set bits i of f of 2^(-2^-i). The factors c_i =
 * 2^(-2^-i) are square roots of one another (c_0 = 1/2, c_i = sqrt(c_{i-1})) and
 * are computed once, as 256-bit fixed-point values, with GMP's exact integer square
 * root. Error bound: f is cut after 192 bits (relative error below 2^-192) and every
 * fixed-point step truncates (at most 192 * 2^-255 relative in all), so R(t) is
 * within 1 + P0 * 2^-190 base units of the exact value: at most 1 for any pool
 * smaller than 2^190 base units.
 */
#include "splitter_internal.h"

#include "num.h"

static const uint64_t ONE_L[1] = {1};

void opgi_exp2_table_init(uint64_t table[OPGI_EXP2_BITS][4])
{
    uint64_t c[4] = {0, 0, 0, UINT64_C(1) << 63}; /* 1/2 in Q256 */
    for (int i = 0; i < OPGI_EXP2_BITS; i++) {
        uint64_t wide[8] = {0, 0, 0, 0, c[0], c[1], c[2], c[3]}; /* c * 2^256 */
        opgi_isqrt(c, 4, wide, 8); /* sqrt(c * 2^256) = sqrt(c) in Q256 */
        memcpy(table[i], c, sizeof c);
    }
}

int opgi_decay_remaining(opg_u256 *out, const uint64_t table[OPGI_EXP2_BITS][4],
                         const opg_u256 *p0, opg_time t0, opg_time half_life, opg_time t)
{
    if (half_life <= 0)
        return OPG_EINVAL;
    if (t <= t0) {
        *out = *p0;
        return OPG_OK;
    }
    uint64_t elapsed = (uint64_t)t - (uint64_t)t0, h = (uint64_t)half_life;
    uint64_t q = elapsed / h, rem = elapsed % h;
    /* y = 2^-f in Q256, kept in 5 limbs so that 1.0 fits */
    uint64_t y[5] = {0, 0, 0, 0, 1};
    for (int i = 0; i < OPGI_EXP2_BITS && rem; i++) {
        /* next bit of f = rem / h by long division (rem < h < 2^63: no overflow) */
        rem *= 2;
        if (rem >= h) {
            rem -= h;
            uint64_t prod[9];
            OPGI_MUST(opgi_muldiv(prod, 9, y, 5, table[i], 4, ONE_L, 1, OPGI_TRUNC));
            memcpy(y, prod + 4, sizeof y); /* >> 256 */
        }
    }
    uint64_t prod[9];
    OPGI_MUST(opgi_muldiv(prod, 9, p0->limb, 4, y, 5, ONE_L, 1, OPGI_TRUNC));
    if (q >= 9 * 64) {
        memset(out, 0, sizeof *out);
        return OPG_OK;
    }
    opgi_shr_n(prod, prod, 9, 256 + q); /* / 2^256 / 2^q, floor */
    memcpy(out->limb, prod, sizeof out->limb);
    return OPG_OK;
}

int opg_splitter_decay_remaining(opg_u256 *out, const opg_u256 *p0, opg_time t0,
                                 opg_time half_life, opg_time t)
{
    if (!out || !p0)
        return OPG_EINVAL;
    uint64_t table[OPGI_EXP2_BITS][4];
    opgi_exp2_table_init(table);
    return opgi_decay_remaining(out, (const uint64_t(*)[4])table, p0, t0, half_life, t);
}

/* Tokens a pool should have released by `now` since its anchor. */
static int pool_target(opg_u256 *out, const opg_splitter *s, opg_time now)
{
    const opg_u256 *p0 = &s->anchor_amount;
    if (now <= s->anchor_time) {
        memset(out, 0, sizeof *out);
        return OPG_OK;
    }
    if (s->params.emission == OPG_EMISSION_DECAY_POOL) {
        opg_u256 rest;
        int rc = opgi_decay_remaining(&rest, s->exp2_table, p0, s->anchor_time,
                                      s->params.half_life, now);
        if (rc)
            return rc;
        return opg_u256_sub(out, p0, &rest);
    }
    /* linear: trunc(P0 * min(t - t0, D) / D) */
    uint64_t elapsed = (uint64_t)now - (uint64_t)s->anchor_time, d = (uint64_t)s->params.duration;
    opg_u256 e = {{elapsed < d ? elapsed : d, 0, 0, 0}}, dd = {{d, 0, 0, 0}};
    return opg_u256_mul_div(out, p0, &e, &dd);
}

void opgi_emission_reanchor(opg_splitter *s)
{
    if (s->params.emission != OPG_EMISSION_DECAY_POOL && s->params.emission != OPG_EMISSION_LINEAR_POOL)
        return;
    /* what is left becomes the new pool, from the last block on */
    OPGI_MUST(opg_u256_sub(&s->anchor_amount, &s->anchor_amount, &s->anchor_emitted));
    memset(&s->anchor_emitted, 0, sizeof s->anchor_emitted);
    if (s->has_last && s->last_time > s->anchor_time)
        s->anchor_time = s->last_time;
    if (s->paused)
        s->paused_at = s->anchor_time;
}

static int cosmos_mint(opg_u256 *minted, opg_splitter *s, opg_dec *new_inflation)
{
    const opg_splitter_params *p = &s->params;
    opg_supply_info sup;
    opg_registry_supply(&sup, s->reg);
    opg_dec ratio = {{0, 0, 0, 0}}, one, q, delta, bpy, infl = s->inflation;
    opg_dec_from_u64(&one, 1);
    opg_dec_from_u64(&bpy, p->blocks_per_year);
    if (!opgi_u256_is_zero(&sup.total_supply)) {
        opg_dec bonded; /* quo_int(Dec(bonded), supply); bonded stake is the host's */
        if (opg_dec_from_int(&bonded, &sup.bonded) != OPG_OK)
            return opgi_fail(s->err, OPG_EOVERFLOW, "bonded tokens too large for a Dec", NULL);
        OPGI_MUST(opg_dec_quo_int(&ratio, &bonded, &sup.total_supply));
    }
    int rc = opg_dec_quo(&q, &ratio, &p->goal_bonded);
    if (rc)
        return rc;
    /* (1 - ratio/goal) may be negative: Cosmos rounds symmetrically, so work on the
     * magnitude and apply the sign */
    int negative = opg_dec_cmp(&q, &one) > 0;
    opg_dec mag;
    if (negative)
        OPGI_MUST(opg_dec_sub(&mag, &q, &one));
    else
        OPGI_MUST(opg_dec_sub(&mag, &one, &q));
    if ((rc = opg_dec_mul(&delta, &mag, &p->inflation_rate_change)) ||
        (rc = opg_dec_quo(&delta, &delta, &bpy)))
        return rc;
    if (negative) {
        if (opg_dec_sub(&infl, &infl, &delta) != OPG_OK)
            infl = p->inflation_min;
    } else if (opg_dec_add(&infl, &infl, &delta) != OPG_OK) {
        infl = p->inflation_max;
    }
    if (opg_dec_cmp(&infl, &p->inflation_max) > 0)
        infl = p->inflation_max;
    if (opg_dec_cmp(&infl, &p->inflation_min) < 0)
        infl = p->inflation_min;
    /* annual = mul_int(inflation, supply); per block truncate(quo_int(annual, bpy)) */
    opg_dec annual, block;
    opg_u256 bpy_i = {{p->blocks_per_year, 0, 0, 0}};
    if ((rc = opg_dec_mul_int(&annual, &infl, &sup.total_supply)) ||
        (rc = opg_dec_quo_int(&block, &annual, &bpy_i)))
        return rc;
    opg_dec_truncate_int(minted, &block);
    *new_inflation = infl;
    return OPG_OK;
}

int opg_splitter_mint(opg_u256 *amount, opg_splitter *s, opg_height height, opg_time now)
{
    if (!s)
        return OPG_EINVAL;
    (void)height;
    s->err[0] = '\0';
    if (s->has_last && now < s->last_time)
        return opgi_fail(s->err, OPG_EFUTURE, "block time went backwards", NULL);
    opg_u256 out = {{0, 0, 0, 0}};
    opg_dec infl = s->inflation, out_dec, pending, total;
    int rc = OPG_OK;
    switch (s->params.emission) {
    case OPG_EMISSION_NONE:
        break;
    case OPG_EMISSION_COSMOS_MINT:
        rc = cosmos_mint(&out, s, &infl);
        break;
    case OPG_EMISSION_DECAY_POOL:
    case OPG_EMISSION_LINEAR_POOL:
        if (!s->paused) {
            opg_u256 target;
            rc = pool_target(&target, s, now);
            if (rc == OPG_OK && opg_u256_cmp(&target, &s->anchor_emitted) > 0)
                OPGI_MUST(opg_u256_sub(&out, &target, &s->anchor_emitted));
        }
        break;
    }
    if (rc)
        return opgi_fail(s->err, rc, "emission overflow", NULL);
    int is_mint = s->params.emission == OPG_EMISSION_COSMOS_MINT;
    if (opg_dec_from_int(&out_dec, &out) || opg_dec_add(&pending, &s->pending, &out_dec) ||
        opg_dec_add(&total, is_mint ? &s->minted : &s->emitted, &out_dec))
        return opgi_fail(s->err, OPG_EOVERFLOW, "emission overflow", NULL);
    if (is_mint && (rc = opg_registry_supply_mint(s->reg, &out)) != OPG_OK)
        return opgi_fail(s->err, rc, "supply overflow", NULL);
    /* apply */
    s->inflation = infl;
    s->pending = pending;
    if (is_mint) {
        s->minted = total;
    } else {
        s->emitted = total;
        OPGI_MUST(opg_u256_add(&s->anchor_emitted, &s->anchor_emitted, &out));
    }
    s->last_time = now;
    s->has_last = 1;
    if (amount)
        *amount = out;
    return OPG_OK;
}

static int is_pool(const opg_splitter *s)
{
    return s->params.emission == OPG_EMISSION_DECAY_POOL ||
           s->params.emission == OPG_EMISSION_LINEAR_POOL;
}

int opg_splitter_pause(opg_splitter *s, opg_time now)
{
    if (!s)
        return OPG_EINVAL;
    s->err[0] = '\0';
    if (!is_pool(s) || s->paused)
        return opgi_fail(s->err, OPG_ESTATUS, "no running pool emission to pause", NULL);
    s->paused = 1;
    s->paused_at = now;
    return OPG_OK;
}

int opg_splitter_resume(opg_splitter *s, opg_time now)
{
    if (!s)
        return OPG_EINVAL;
    s->err[0] = '\0';
    if (!is_pool(s) || !s->paused)
        return opgi_fail(s->err, OPG_ESTATUS, "no paused pool emission to resume", NULL);
    if (now < s->paused_at)
        return opgi_fail(s->err, OPG_EFUTURE, "resume before the pause", NULL);
    /* the paused time does not count: the anchor moves forward by it */
    if (s->anchor_time < s->paused_at)
        s->anchor_time += now - s->paused_at;
    else if (s->anchor_time < now)
        s->anchor_time = now;
    s->paused = 0;
    return OPG_OK;
}

void opg_splitter_emission(opg_emission_info *o, const opg_splitter *s)
{
    memset(o, 0, sizeof *o);
    o->kind = s->params.emission;
    o->inflation = s->inflation;
    o->paused = s->paused;
    opg_dec_truncate_int(&o->minted_total, &s->minted);
    opg_dec_truncate_int(&o->emitted_total, &s->emitted);
    if (is_pool(s))
        OPGI_MUST(opg_u256_sub(&o->pool_remaining, &s->anchor_amount, &s->anchor_emitted));
}
