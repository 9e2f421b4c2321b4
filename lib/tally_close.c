/*
 * tally_close.c - the Cosmos x/gov v1 tally (v0.50 keeper/tally.go), the close of
 * proposals at end_block, cancel, and all-or-nothing parameter changes.
 *
 * Arithmetic. Voting powers are Cosmos LegacyDec values computed on wide limb arrays,
 * so no realistic (or unrealistic) stake overflows:
 *   power  = shares.MulInt(tokens).Quo(delegator_shares)
 *          = round_half_even(trunc(shares * tokens * 10^36 / delegator_shares) / 10^18)
 *            (raw decimals; at most tokens * 10^18 < 2^316, five limbs)
 *   sub    = power.Mul(weight) = round_half_even(power * weight / 10^18)
 *   sums   are exact additions in six limbs (2^384 > 2^64 terms of 2^316)
 * The exact sums make the result independent of the order of the terms; votes are
 * nevertheless walked in voter id order and nodes in operator id order.
 *
 * end_block runs in two phases so that a failing call changes nothing:
 *   A. collect what closes, allocate every array the close needs (outputs, tally
 *      scratch, vote orders), check the supply ledger, ask the host for liquid
 *      balances; then work out every close in order, writing only outputs: each
 *      tally runs under the parameters the proposals before it staged, and each
 *      passed parameter change is staged in one transaction over every namespace
 *      (params.h), which finally reserves what its commit needs;
 *   B. commit the transaction, convert, burn, remove. Nothing in B allocates or can
 *      fail. Only A may fail (OPG_ENOMEM, a callback's code), and then every
 *      handle, and every host namespace, is as before the call.
 */
#include "tally_internal.h"

#include "num.h"

#include <gmp.h>
#include <stdlib.h>

/* The per-delegation power has a direct mpn path on 64-bit GMP limbs (the usual
 * build); elsewhere it goes through opgi_muldiv. Both compute the same value. */
#if GMP_NUMB_BITS == 64 && GMP_NAIL_BITS == 0 && !defined(OPGI_TALLY_PORTABLE_POWER)
#define FAST_POWER 1
#else
#define FAST_POWER 0
#endif

#define W 6 /* limbs of a sum */

/* A node's tokens scaled for share_power: by 10^18 on the direct path, by 10^36
 * through opgi_muldiv. */
#if FAST_POWER
#define TP_LIMBS 5
#define TP_SCALE P1
#else
#define TP_LIMBS 6
#define TP_SCALE P2
#endif

static const uint64_t ONE[1] = {1};
static const uint64_t P1[1] = {OPGI_P};
/* 10^36 */
static const uint64_t P2[2] = {UINT64_C(0xb34b9f1000000000), UINT64_C(0x00c097ce7bc90715)};

/* ------------------------------------------------------------ the tally */

typedef struct sums {
    uint64_t res[OPGI_TALLY_OPTIONS][W]; /* by option - 1: yes, abstain, no, no_with_veto */
    uint64_t total[W];
    uint64_t turnout[W]; /* unweighted total (conviction voting); = total without */
} sums;

typedef struct ranked {
    uint64_t power;
    const opg_id *id;
    uint32_t slot;
} ranked;

/* Per node slot of the registry, for one tally. */
typedef struct scratch {
    uint32_t slots;     /* registry node slots when allocated */
    uint8_t *in_set;    /* bonded, not jailed, among the first max_validators */
    uint32_t *node_vote; /* the operator's vote: slot + 1, 0 for none */
    uint64_t *ded;      /* 5 limbs per slot: deductions (shares of voting delegators) */
    uint64_t *tp;       /* TP_LIMBS per slot: tokens * TP_SCALE (share_power's input) */
    ranked *rank;
    uint32_t *op_idx;   /* operator id -> slot + 1 of the nodes in the set */
    uint32_t op_cap;
} scratch;

static void scratch_free(const opg_allocator *a, scratch *s)
{
    size_t n = s->slots ? s->slots : 1;
    opgi_free(a, s->in_set, n);
    opgi_free(a, s->node_vote, n * sizeof *s->node_vote);
    opgi_free(a, s->ded, n * 5 * sizeof *s->ded);
    opgi_free(a, s->tp, n * TP_LIMBS * sizeof *s->tp);
    opgi_free(a, s->rank, n * sizeof *s->rank);
    opgi_free(a, s->op_idx, (size_t)s->op_cap * sizeof *s->op_idx);
    memset(s, 0, sizeof *s);
}

static int scratch_alloc(const opg_allocator *a, scratch *s, const opg_registry *r)
{
    memset(s, 0, sizeof *s);
    s->slots = r->node_slots;
    size_t n = s->slots ? s->slots : 1;
    s->op_cap = 16;
    while (s->op_cap < 2 * n)
        s->op_cap *= 2;
    s->in_set = opgi_alloc(a, n);
    s->node_vote = opgi_alloc_array(a, n, sizeof *s->node_vote);
    s->ded = opgi_alloc_array(a, n * 5, sizeof *s->ded);
    s->tp = opgi_alloc_array(a, n * TP_LIMBS, sizeof *s->tp);
    s->rank = opgi_alloc_array(a, n, sizeof *s->rank);
    s->op_idx = opgi_alloc_array(a, s->op_cap, sizeof *s->op_idx);
    if (!s->in_set || !s->node_vote || !s->ded || !s->tp || !s->rank ||
        !s->op_idx) {
        scratch_free(a, s);
        return OPG_ENOMEM;
    }
    return OPG_OK;
}

/* power descending, then operator id ascending (the staking power index order) */
static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->power != y->power)
        return x->power > y->power ? -1 : 1;
    return opg_id_cmp(x->id, y->id);
}

static uint32_t id_hash(const opg_id *id)
{
    uint64_t h = 0;
    for (int i = 0; i < 8; i++)
        h = (h << 8) | id->bytes[i];
    for (int i = 8; i < 32; i++)
        h = (h ^ id->bytes[i]) * UINT64_C(0x100000001b3);
    h ^= h >> 29;
    return (uint32_t)(h ^ (h >> 32));
}

static uint32_t op_lookup(const scratch *s, const opg_registry *r, const opg_id *id)
{
    uint32_t mask = s->op_cap - 1;
    for (uint32_t i = id_hash(id) & mask;; i = (i + 1) & mask) {
        uint32_t v = s->op_idx[i];
        if (v == 0)
            return OPGI_NONE;
        if (memcmp(r->nodes[v - 1].operator_id.bytes, id->bytes, 32) == 0)
            return v - 1;
    }
}

/*
 * The nodes that vote: status bonded, not jailed, and among the first max_validators
 * of them in power order (x/staking IterateBondedValidatorsByPower: jailed nodes are
 * out of the power index, and only bonded ones are counted), under the staking
 * parameters rp. For each: scaled tokens, no deductions, no vote.
 */
/* Whether a governance action staged before this tally takes the node out of the
 * voting set (a REMOVE_VALIDATOR jails it). */
static int leaves_set(const opgi_actions *ax, uint32_t slot)
{
    for (size_t i = 0; ax && i < ax->n; i++)
        if (ax->st[i].leaves_set == slot)
            return 1;
    return 0;
}

static void scratch_set(scratch *s, const opg_registry *r, const opg_registry_params *rp,
                        const opgi_actions *ax)
{
    size_t n = 0;
    memset(s->in_set, 0, s->slots ? s->slots : 1);
    memset(s->op_idx, 0, (size_t)s->op_cap * sizeof *s->op_idx);
    for (uint32_t i = 0; i < r->node_count; i++) {
        uint32_t slot = r->by_operator[i];
        const opgi_node *nd = &r->nodes[slot];
        if (nd->status != OPG_NODE_BONDED || nd->jailed || leaves_set(ax, slot))
            continue;
        s->rank[n].power = opgi_power_under(rp, &nd->tokens);
        s->rank[n].id = &nd->operator_id;
        s->rank[n++].slot = slot;
    }
    if (n > rp->max_validators) {
        qsort(s->rank, n, sizeof *s->rank, cmp_ranked);
        n = rp->max_validators;
    }
    uint32_t mask = s->op_cap - 1;
    for (size_t k = 0; k < n; k++) {
        uint32_t slot = s->rank[k].slot;
        const opgi_node *nd = &r->nodes[slot];
        s->in_set[slot] = 1;
        s->node_vote[slot] = 0;
        memset(&s->ded[(size_t)slot * 5], 0, 5 * sizeof *s->ded);
        /* tokens * 10^36 fits 6 limbs (2^256 * 2^120), tokens * 10^18 five */
        OPGI_MUST(opgi_muldiv(&s->tp[(size_t)slot * TP_LIMBS], TP_LIMBS, nd->tokens.limb, 4,
                              TP_SCALE, OPGI_ARRAY_LEN(TP_SCALE), ONE, 1, OPGI_TRUNC));
        uint32_t i = id_hash(&nd->operator_id) & mask;
        while (s->op_idx[i])
            i = (i + 1) & mask;
        s->op_idx[i] = slot + 1;
    }
}

/* Cosmos shares.MulInt(tokens).Quo(delegator_shares) for shares <= delegator_shares:
 * truncate once to 36 decimals, then half to even to 18. 0 without shares.
 * tp = tokens * TP_SCALE (TP_LIMBS limbs). */
static void share_power(uint64_t out[5], const uint64_t shares[4], const uint64_t tp[TP_LIMBS],
                        const opg_dec *dshares)
{
    if (opgi_dec_is_zero(dshares)) {
        memset(out, 0, 5 * sizeof *out);
        return;
    }
#if FAST_POWER
    /*
     * With X = shares * tokens * 10^18 = Q * d + R (d = delegator_shares, raw), the
     * 36-decimal quotient is Q * 10^18 + f with f = floor(R * 10^18 / d), so the
     * result is Q rounded by f: up if f > 5 * 10^17, on a tie (f = 5 * 10^17) up
     * when Q is odd. f >= 5 * 10^17 exactly when 2R >= d, and then
     * f > 5 * 10^17 exactly when (2R - d) * 5 * 10^17 >= d.
     */
    mp_limb_t sh[4], t18[5], d[4], x[9], q[9], r[4], e[5], e5[6];
    mp_size_t sn = 4, tn = 5, dn = 4;
    for (int i = 0; i < 4; i++) {
        sh[i] = (mp_limb_t)shares[i];
        d[i] = (mp_limb_t)dshares->limb[i];
    }
    for (int i = 0; i < 5; i++)
        t18[i] = (mp_limb_t)tp[i];
    while (sn > 0 && sh[sn - 1] == 0)
        sn--;
    while (tn > 0 && t18[tn - 1] == 0)
        tn--;
    while (d[dn - 1] == 0)
        dn--;
    memset(out, 0, 5 * sizeof *out);
    if (sn == 0 || tn == 0)
        return;
    mp_size_t xn = sn + tn;
    if (sn >= tn)
        mpn_mul(x, sh, sn, t18, tn);
    else
        mpn_mul(x, t18, tn, sh, sn);
    while (xn > 0 && x[xn - 1] == 0)
        xn--;
    mp_size_t qn;
    if (xn < dn) {
        qn = 0;
        memset(r, 0, sizeof r);
        memcpy(r, x, (size_t)xn * sizeof *x);
    } else {
        mpn_tdiv_qr(q, r, 0, x, xn, d, dn);
        qn = xn - dn + 1;
    }
    /* Q <= tokens * 10^18 < 2^320: five limbs */
    for (mp_size_t i = 0; i < qn && i < 5; i++)
        out[i] = (uint64_t)q[i];
    e[dn] = mpn_lshift(e, r, dn, 1); /* 2R */
    mp_limb_t dz[5];
    memcpy(dz, d, (size_t)dn * sizeof *d);
    dz[dn] = 0;
    if (mpn_cmp(e, dz, dn + 1) < 0)
        return; /* f < 5 * 10^17: down */
    OPGI_MUST(mpn_sub_n(e, e, dz, dn + 1)); /* 2R - d, 2R >= d */
    e5[dn + 1] = mpn_mul_1(e5, e, dn + 1, (mp_limb_t)(OPGI_P / 2));
    mp_limb_t dz6[6];
    memset(dz6, 0, sizeof dz6);
    memcpy(dz6, d, (size_t)dn * sizeof *d);
    int up = mpn_cmp(e5, dz6, dn + 2) >= 0 || (out[0] & 1); /* above half, or a tie on odd */
    if (up) {
        uint64_t one5[5] = {1, 0, 0, 0, 0};
        OPGI_MUST(opgi_add_n(out, out, one5, 5)); /* Q + 1 <= tokens * 10^18 */
    }
#else
    uint64_t q[7];
    if (opgi_muldiv(q, 7, shares, 4, tp, 6, dshares->limb, 4, OPGI_TRUNC) != OPG_OK ||
        opgi_muldiv(out, 5, q, 7, ONE, 1, P1, 1, OPGI_HALF_EVEN) != OPG_OK)
        memset(out, 0, 5 * sizeof *out);
#endif
}

static void add_wide(uint64_t acc[W], const uint64_t *v, size_t n)
{
    uint64_t x[W];
    /* below 2^384 by the bound above: it fits, and no carry out */
    OPGI_MUST(opgi_resize_n(x, W, v, n));
    OPGI_MUST(opgi_add_n(acc, acc, x, W));
}

/* results[opt] += power.Mul(weight) for each option; total += power; with raw (conviction
 * voting), turnout += the unweighted power (without, turnout is total: tally_sums
 * copies it once instead of adding it per vote). */
static void add_power2(sums *s, const uint64_t power[5], const uint64_t *raw,
                       const uint64_t w[OPGI_TALLY_OPTIONS])
{
    for (int o = 0; o < OPGI_TALLY_OPTIONS; o++) {
        if (!w[o])
            continue;
        if (w[o] == OPGI_P) {
            add_wide(s->res[o], power, 5);
        } else {
            uint64_t sub[5];
            /* half to even: the Dec product of a power and a weight below 1 */
            OPGI_MUST(opgi_muldiv(sub, 5, power, 5, &w[o], 1, P1, 1, OPGI_HALF_EVEN));
            add_wide(s->res[o], sub, 5);
        }
    }
    add_wide(s->total, power, 5);
    if (raw)
        add_wide(s->turnout, raw, 5);
}

static const uint64_t TENTH[1] = {OPGI_P / 10};

/*
 * Conviction voting: power times the multiplier of conviction c (0: 0.1x, else cx).
 * 0.1x is Dec.Mul by 0.1, power * 10^17 / 10^18 rounded half to even; cx is exact
 * (power < 2^316, so 6 * power fits five limbs).
 */
static void conviction_power(uint64_t out[5], const uint64_t power[5], unsigned c)
{
    if (c == 0) {
        OPGI_MUST(opgi_muldiv(out, 5, power, 5, TENTH, 1, P1, 1, OPGI_HALF_EVEN));
        return;
    }
    uint64_t m[1] = {c};
    OPGI_MUST(opgi_muldiv(out, 5, power, 5, m, 1, ONE, 1, OPGI_TRUNC));
}

/* add_power2 of a power, weighed by conviction c when conv is on. */
static void add_power(sums *s, const uint64_t power[5], const uint64_t w[OPGI_TALLY_OPTIONS],
                      int conv, unsigned c)
{
    if (!conv) {
        add_power2(s, power, NULL, w);
        return;
    }
    uint64_t wp[5];
    conviction_power(wp, power, c);
    add_power2(s, wp, power, w);
}

#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif

/* Votes are walked in voter order, which is random in memory; the loads of the vote
 * record, the registry's index slot and the delegation record are started this many
 * votes ahead (three stages), so their cache misses overlap. */
#define AHEAD 8

/*
 * The tally of one proposal over the registry's stake, under gov parameters gp and
 * staking parameters rp: sums of every option and the total. order: the votes in
 * voter order; balances: per vote slot (NULL: none).
 */
static void tally_sums(sums *out, scratch *s, const opg_registry *r, const opgi_actions *ax,
                       const opg_tally_params *gp,
                       const opg_registry_params *rp, const opgi_tprop *p,
                       const uint32_t *order, const opg_u256 *balances)
{
    memset(out, 0, sizeof *out);
    scratch_set(s, r, rp, ax);
    int liquid = balances && !opgi_dec_is_zero(&gp->liquid_weight);
    int conv = gp->conviction_voting;
    uint32_t n = p->n_votes, home[AHEAD];
    for (uint32_t k = 0; k < n; k++) {
        if (k + 3 * AHEAD < n)
            PREFETCH(&p->votes[order[k + 3 * AHEAD]]);
        if (r->dtor_index_cap) {
            if (k + 2 * AHEAD < n) {
                uint32_t h = opgi_dtor_home(r, &p->votes[order[k + 2 * AHEAD]].voter);
                home[(k + 2 * AHEAD) % AHEAD] = h;
                PREFETCH(&r->dtor_index[h]);
            }
            if (k + AHEAD < n) {
                uint32_t at = k + AHEAD < 2 * AHEAD ? opgi_dtor_home(r, &p->votes[order[k + AHEAD]].voter)
                                                    : home[(k + AHEAD) % AHEAD];
                uint32_t v = r->dtor_index[at];
                if (v) { /* a record spans up to three cache lines */
                    const char *rec = (const char *)&r->dels[v - 1];
                    PREFETCH(rec);
                    PREFETCH(rec + 64);
                    PREFETCH(rec + sizeof(opgi_delegation) - 1);
                }
            }
        }
        uint32_t vs = order[k];
        const opgi_tvote *v = &p->votes[vs];
        /* a node's operator: the node votes this way */
        uint32_t op = op_lookup(s, r, &v->voter);
        if (op != OPGI_NONE)
            s->node_vote[op] = vs + 1;
        /* the voter's delegations to nodes in the set */
        for (uint32_t d = opgi_del_first_of(r, &v->voter); d != OPGI_NONE; d = r->dels[d].next) {
            const opgi_delegation *del = &r->dels[d];
            uint32_t slot = del->node;
            if (!s->in_set[slot])
                continue;
            uint64_t sh5[5], power[5];
            /* deductions add up to the node's delegator_shares at most */
            OPGI_MUST(opgi_resize_n(sh5, 5, del->shares.limb, 4));
            OPGI_MUST(opgi_add_n(&s->ded[(size_t)slot * 5], &s->ded[(size_t)slot * 5], sh5, 5));
            share_power(power, del->shares.limb, &s->tp[(size_t)slot * TP_LIMBS],
                        &r->nodes[slot].delegator_shares);
            add_power(out, power, v->w, conv, conv ? opgi_tvote_conviction(p, vs) : 0);
        }
        if (liquid) {
            /* held tokens: mul_truncate(Dec(balance), liquid_weight) = balance * weight
             * exactly (raw), no rounding */
            uint64_t power[5];
            OPGI_MUST(opgi_muldiv(power, 5, balances[vs].limb, 4, gp->liquid_weight.limb, 4,
                                  ONE, 1, OPGI_TRUNC));
            add_power(out, power, v->w, conv, 0); /* held tokens are not locked: 0.1x */
        }
    }
    /* the nodes that voted, with what their voting delegators did not take */
    for (uint32_t i = 0; i < r->node_count; i++) {
        uint32_t slot = r->by_operator[i];
        if (!s->in_set[slot] || !s->node_vote[slot])
            continue;
        const opgi_node *nd = &r->nodes[slot];
        uint64_t ds[5], rest[5], power[5];
        OPGI_MUST(opgi_resize_n(ds, 5, nd->delegator_shares.limb, 4));
        /* the registry keeps deductions <= delegator_shares; 0 if that ever broke */
        if (OPGI_NEVER(NULL, opgi_sub_n(rest, ds, &s->ded[(size_t)slot * 5], 5)))
            memset(rest, 0, sizeof rest);
        share_power(power, rest, &s->tp[(size_t)slot * TP_LIMBS], &nd->delegator_shares);
        /* inherited from delegators who did not vote: no lock behind it, 0.1x */
        add_power(out, power, p->votes[s->node_vote[slot] - 1].w, conv, 0);
    }
    if (!conv)
        memcpy(out->turnout, out->total, sizeof out->turnout);
}

/* Sum of the tokens of every bonded node (jailed ones too): the bonded pool, less
 * what governance actions staged before this tally take out of it. */
static void bonded_total(uint64_t out[5], const opg_registry *r, const opgi_actions *ax)
{
    memset(out, 0, 5 * sizeof *out);
    for (uint32_t i = 0; i < r->node_count; i++) {
        const opgi_node *nd = &r->nodes[r->by_operator[i]];
        if (nd->status == OPG_NODE_BONDED) {
            uint64_t tk[5];
            /* 2^32 nodes of 2^256 tokens at most: five limbs hold the sum */
            OPGI_MUST(opgi_resize_n(tk, 5, nd->tokens.limb, 4));
            OPGI_MUST(opgi_add_n(out, out, tk, 5));
        }
    }
    for (size_t i = 0; ax && i < ax->n; i++) {
        uint64_t tk[5];
        OPGI_MUST(opgi_resize_n(tk, 5, ax->st[i].bonded_less.limb, 4));
        /* a part of a bonded node's tokens, each node taken once */
        if (OPGI_NEVER(NULL, opgi_sub_n(out, out, tk, 5)))
            memset(out, 0, 5 * sizeof *out);
    }
}

/* Cosmos a.Quo(b) on wide raw decimals: round_half_even(trunc(a * 10^36 / b) / 10^18). */
static void quo_wide(uint64_t out[8], const uint64_t *a, size_t an, const uint64_t *b, size_t bn)
{
    uint64_t q[8];
    /* the callers rule out b = 0, and a * 10^36 < 2^504 fits */
    if (OPGI_NEVER(NULL, opgi_muldiv(q, 8, a, an, P2, 2, b, bn, OPGI_TRUNC) != OPG_OK ||
                             opgi_muldiv(out, 8, q, 8, ONE, 1, P1, 1, OPGI_HALF_EVEN) != OPG_OK))
        memset(out, 0xff, 8 * sizeof *out);
}

static int cmp_dec_wide(const uint64_t a[8], const opg_dec *d)
{
    uint64_t x[8];
    OPGI_MUST(opgi_resize_n(x, 8, d->limb, 4));
    return opgi_cmp_n(a, x, 8);
}

typedef struct verdict {
    int passed, burn;
} verdict;

/* The outcome rules under gov parameters pp, in the order of SEMANTICS §5 (Cosmos'
 * Tally). */
static verdict decide(const opg_tally_params *pp, const sums *s, const uint64_t bonded[5],
                      int expedited)
{
    verdict v = {0, 0};
    if (opgi_is_zero_n(bonded, 5))
        return v; /* no stake at all */
    uint64_t bdec[6], q[8];
    /* Dec(bonded_total): below 2^320 * 10^18 */
    OPGI_MUST(opgi_muldiv(bdec, 6, bonded, 5, P1, 1, ONE, 1, OPGI_TRUNC));
    /* turnout: the unweighted power (= total without conviction voting) */
    quo_wide(q, s->turnout, W, bdec, 6);
    if (cmp_dec_wide(q, &pp->quorum) < 0) {
        v.burn = pp->burn_vote_quorum;
        return v;
    }
    uint64_t voting[W]; /* total - abstain; abstain <= total */
    OPGI_MUST(opgi_sub_n(voting, s->total, s->res[OPG_VOTE_ABSTAIN - 1], W));
    if (opgi_is_zero_n(voting, W))
        return v; /* everyone abstained */
    quo_wide(q, s->res[OPG_VOTE_NO_WITH_VETO - 1], W, s->total, W);
    if (cmp_dec_wide(q, &pp->veto_threshold) > 0) {
        v.burn = pp->burn_vote_veto;
        return v;
    }
    quo_wide(q, s->res[OPG_VOTE_YES - 1], W, voting, W);
    if (cmp_dec_wide(q, expedited ? &pp->expedited_threshold : &pp->threshold) > 0)
        v.passed = 1;
    return v;
}

/* truncate_int of a sum, saturating at 2^256 - 1 (only reachable with host balances
 * beyond any supply). */
static void count_of(opg_u256 *out, const uint64_t res[W])
{
    uint64_t q[W];
    OPGI_MUST(opgi_muldiv(q, W, res, W, ONE, 1, P1, 1, OPGI_TRUNC));
    if (opgi_resize_n(out->limb, 4, q, W) != OPG_OK)
        memset(out->limb, 0xff, sizeof out->limb);
}

static void counts_of(opg_tally_counts *c, const sums *s)
{
    count_of(&c->yes, s->res[OPG_VOTE_YES - 1]);
    count_of(&c->abstain, s->res[OPG_VOTE_ABSTAIN - 1]);
    count_of(&c->no, s->res[OPG_VOTE_NO - 1]);
    count_of(&c->no_with_veto, s->res[OPG_VOTE_NO_WITH_VETO - 1]);
}

/* Vote order scratch for up to n votes: keys 2n uint64_t, tmp n uint32_t. */
typedef struct sort_scratch {
    size_t n;
    uint64_t *keys;
    uint32_t *tmp;
} sort_scratch;

static int sort_alloc(const opg_allocator *a, sort_scratch *s, size_t n)
{
    s->n = n ? n : 1;
    s->keys = opgi_alloc_array(a, 2 * s->n, sizeof *s->keys);
    s->tmp = opgi_alloc_array(a, s->n, sizeof *s->tmp);
    if (!s->keys || !s->tmp) {
        opgi_free(a, s->keys, 2 * s->n * sizeof *s->keys);
        opgi_free(a, s->tmp, s->n * sizeof *s->tmp);
        memset(s, 0, sizeof *s);
        return OPG_ENOMEM;
    }
    return OPG_OK;
}

static void sort_free(const opg_allocator *a, sort_scratch *s)
{
    opgi_free(a, s->keys, 2 * s->n * sizeof *s->keys);
    opgi_free(a, s->tmp, s->n * sizeof *s->tmp);
}

/* Asks the host for each voter's liquid balance, in voter order. */
static int fetch_balances(const opg_tally *t, const opgi_tprop *p, const uint32_t *order,
                          opg_u256 *bal)
{
    for (uint32_t k = 0; k < p->n_votes; k++) {
        uint32_t vs = order[k];
        opg_u256 b;
        memset(&b, 0, sizeof b);
        int rc = t->balance_fn(t->balance_user, &p->votes[vs].voter, &b);
        if (rc)
            return rc < 0 && rc >= OPG_ERROR_LAST_ ? rc : OPG_EINVAL;
        bal[vs] = b;
    }
    return OPG_OK;
}

int opg_tally_preview(opg_tally_preview_result *out, const opg_tally *t, uint64_t proposal_id)
{
    if (!out || !t)
        return OPG_EINVAL;
    const opgi_tprop *p = opgi_tally_prop(t, proposal_id);
    if (!p)
        return OPG_ENOTFOUND;
    if (p->status != OPG_PROPOSAL_VOTING_PERIOD)
        return OPG_ESTATUS;
    const opg_allocator *a = &t->alloc;
    size_t nv = p->n_votes ? p->n_votes : 1;
    int liquid = t->balance_fn && !opgi_dec_is_zero(&t->params.liquid_weight);
    scratch sc;
    sort_scratch ss;
    int rc = scratch_alloc(a, &sc, t->reg);
    if (rc)
        return rc;
    if ((rc = sort_alloc(a, &ss, p->n_votes)) != OPG_OK) {
        scratch_free(a, &sc);
        return rc;
    }
    uint32_t *order = opgi_alloc_array(a, nv, sizeof *order);
    opg_u256 *bal = liquid ? opgi_alloc_array(a, nv, sizeof *bal) : NULL;
    if (!order || (liquid && !bal)) {
        rc = OPG_ENOMEM;
        goto done;
    }
    opgi_tally_sort_votes(order, p, ss.keys, ss.tmp);
    if (liquid && (rc = fetch_balances(t, p, order, bal)) != OPG_OK)
        goto done;
    sums s;
    tally_sums(&s, &sc, t->reg, NULL, &t->params, &t->reg->params, p, order, bal);
    uint64_t bonded[5];
    bonded_total(bonded, t->reg, NULL);
    verdict v = decide(&t->params, &s, bonded, p->expedited);
    memset(out, 0, sizeof *out);
    counts_of(&out->counts, &s);
    if (opgi_resize_n(out->total_power.limb, 4, s.total, W) != OPG_OK)
        memset(out->total_power.limb, 0xff, sizeof out->total_power.limb);
    if (opgi_resize_n(out->turnout.limb, 4, s.turnout, W) != OPG_OK)
        memset(out->turnout.limb, 0xff, sizeof out->turnout.limb);
    for (int o = 0; o < OPGI_TALLY_OPTIONS; o++)
        if (opgi_resize_n(out->results[o].limb, 4, s.res[o], W) != OPG_OK)
            memset(out->results[o].limb, 0xff, sizeof out->results[o].limb);
    if (opgi_resize_n(out->bonded_total.limb, 4, bonded, 5) != OPG_OK)
        memset(out->bonded_total.limb, 0xff, sizeof out->bonded_total.limb);
    out->outcome = v.passed ? OPG_TALLY_PASSED
                            : p->expedited ? OPG_TALLY_CONVERTED : OPG_TALLY_REJECTED;
    out->burn = !v.passed && !p->expedited && v.burn;
done:
    opgi_free(a, order, nv * sizeof *order);
    opgi_free(a, bal, nv * sizeof *bal);
    sort_free(a, &ss);
    scratch_free(a, &sc);
    return rc;
}

/* ------------------------------------------------------ parameter changes */

/*
 * Stages a passed proposal's changes as one group of the close's transaction: each
 * key goes to the namespace that owns it (params.h), all of them or none. Returns 0,
 * a refusal with *failed the index of the refused change, or OPG_ENOMEM.
 */
static int stage_changes(opg_tally *t, opgi_param_txn *x, const opgi_tprop *p,
                         uint32_t *failed, char *err)
{
    opgi_param_change ch[OPG_TALLY_CHANGES_MAX];
    if (OPGI_NEVER(t->err, p->n_changes > OPG_TALLY_CHANGES_MAX))
        return OPG_EINVARIANT; /* submit and load refuse more */
    for (size_t i = 0; i < p->n_changes; i++) {
        opgi_tprop_change(p, i, &ch[i].key, &ch[i].value);
        ch[i].to = opgi_tally_resolve(t, ch[i].key);
    }
    size_t at = 0;
    int rc = opgi_param_txn_stage(x, ch, p->n_changes, &at, err);
    *failed = (uint32_t)at;
    return rc;
}

/* ---------------------------------------------------------------- closing */

typedef struct closer {
    opg_time when;
    uint64_t id;
    opgi_tprop *p;
    uint32_t *order;  /* voting closers: votes in voter order */
    opg_u256 *bal;    /* voting closers with held tokens: balance per vote slot */
    int converted;    /* expedited, not passed: goes on as a regular proposal ... */
    opg_time new_end; /* ... until then */
} closer;

static int cmp_closer(const void *a, const void *b)
{
    const closer *x = a, *y = b;
    if (x->when != y->when)
        return x->when < y->when ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Writes the refunds of p (all of its deposits, or none when burned) into the output. */
static void settle(opg_tally *t, opg_tally_closed *c, const opgi_tprop *p, int burn,
                   size_t *refund_at)
{
    memset(&c->refunded, 0, sizeof c->refunded);
    memset(&c->burned, 0, sizeof c->burned);
    c->refunds = NULL;
    c->refund_count = 0;
    if (burn) {
        c->burned = p->total_deposit;
        return;
    }
    if (p->n_deps)
        c->refunds = t->out_refunds + *refund_at;
    for (uint32_t i = 0; i < p->n_deps; i++) {
        opg_tally_deposit_entry *e = &t->out_refunds[(*refund_at)++];
        e->depositor = p->deps[i].depositor;
        e->amount = p->deps[i].amount;
        c->refund_count++;
    }
    c->refunded = p->total_deposit;
}

static void record_base(opg_tally_closed *c, const opgi_tprop *p, opg_tally_outcome outcome)
{
    memset(c, 0, sizeof *c);
    c->proposal_id = p->id;
    c->outcome = outcome;
    c->kind = (opg_proposal_kind)p->kind;
    c->proposer = p->proposer;
    c->expedited = p->expedited;
}

/* Drops a proposal's votes (Cosmos deletes each vote as it tallies). */
static void drop_votes(const opg_allocator *a, opgi_tprop *p)
{
    opgi_free(a, p->votes, (size_t)p->votes_cap * sizeof *p->votes);
    opgi_free(a, p->vidx, (size_t)p->vidx_cap * sizeof *p->vidx);
    opgi_free(a, p->convs, p->convs_cap);
    p->convs = NULL;
    p->convs_cap = 0;
    p->votes = NULL;
    p->vidx = NULL;
    p->n_votes = p->votes_cap = p->vidx_cap = 0;
}

/* What phase A prepares for the close. */
typedef struct close_ctx {
    closer *cl;
    size_t n_dep, n_cl;
    scratch sc;
    sort_scratch ss;
    uint32_t *orders;
    opg_u256 *bals;
    size_t total_votes;
    opgi_param_txn x; /* the passed changes, staged in close order */
    opgi_actions ax;  /* the passed governance actions, staged in close order */
} close_ctx;

/*
 * Phase A's last part: every close worked out in order, into the output records
 * and the transaction only. A tally reads the gov and staking parameters as the
 * proposals before it staged them (Cosmos applies a passed change before the next
 * tally). Returns 0, or OPG_ENOMEM (the transaction's memory, a host's answer, or
 * reserve).
 */
static int close_all(opg_tally *t, close_ctx *k, opg_u256 *burned)
{
    opg_registry *r = t->reg;
    size_t refund_at = 0, byte_at = 0;
    memset(burned, 0, sizeof *burned);
    for (size_t i = 0; i < k->n_cl; i++) {
        closer *cr = &k->cl[i];
        opgi_tprop *p = cr->p;
        const opg_tally_params *gp = opgi_param_txn_view(&k->x, &opgi_tally_param_ns, t);
        const opg_registry_params *rp = opgi_param_txn_view(&k->x, &opgi_registry_param_ns, r);
        if (!gp)
            gp = &t->params;
        if (!rp)
            rp = &r->params;
        opg_tally_closed *c = &t->out[t->n_out++];
        if (i < k->n_dep) {
            record_base(c, p, OPG_TALLY_REMOVED);
            settle(t, c, p, gp->burn_proposal_deposit_prevote, &refund_at);
        } else {
            sums s;
            uint64_t bonded[5];
            tally_sums(&s, &k->sc, r, &k->ax, gp, rp, p, cr->order, cr->bal);
            bonded_total(bonded, r, &k->ax);
            verdict v = decide(gp, &s, bonded, p->expedited);
            if (!v.passed && p->expedited) {
                /* Cosmos: an expedited proposal that fails becomes a regular one;
                 * its deposits stay, its votes were deleted by the tally */
                record_base(c, p, OPG_TALLY_CONVERTED);
                counts_of(&c->counts, &s);
                cr->converted = 1;
                cr->new_end = opgi_time_add(p->voting_start, gp->voting_period);
                continue;
            }
            record_base(c, p, v.passed ? OPG_TALLY_PASSED : OPG_TALLY_REJECTED);
            counts_of(&c->counts, &s);
            settle(t, c, p, !v.passed && v.burn, &refund_at);
            if (v.passed && p->kind == OPG_PROPOSAL_PARAMS) {
                char why[OPGI_ERRMSG_MAX]; /* a refusal is an outcome, not this call's error */
                uint32_t failed = 0;
                int code = stage_changes(t, &k->x, p, &failed, why);
                if (code == OPG_ENOMEM)
                    return opgi_fail(t->err, OPG_ENOMEM, why, NULL);
                if (code) {
                    c->outcome = OPG_TALLY_FAILED;
                    c->failed_change = failed;
                    c->failed_code = code;
                }
            } else if (v.passed && opgi_action_find(p->kind)) {
                char why[OPGI_ERRMSG_MAX]; /* a refusal is an outcome */
                why[0] = '\0';
                int code = opgi_actions_stage(&k->ax, &k->x, p, opgi_action_find(p->kind), why);
                if (code == OPG_ENOMEM)
                    return opgi_fail(t->err, OPG_ENOMEM, why[0] ? why : NULL, NULL);
                if (code) {
                    c->outcome = OPG_TALLY_FAILED;
                    c->failed_change = 0;
                    c->failed_code = code;
                }
            } else if (v.passed && p->kind == OPG_PROPOSAL_PAYLOAD) {
                size_t n = p->blob_len - p->title_len - p->summary_len;
                if (n) {
                    memcpy(t->out_bytes + byte_at, p->blob + p->title_len + p->summary_len, n);
                    c->payload = t->out_bytes + byte_at;
                    c->payload_len = n;
                    byte_at += n;
                }
            }
        }
        /* within the supply checked before */
        OPGI_MUST(opg_u256_add(burned, burned, &c->burned));
    }
    /* the actions first: they may grow a handle (a new node's slot) that a parameter
     * change's reserve then sizes for (the slasher's bitmaps of a new window), and the
     * parameters' reserves add their room on top of the actions' */
    int rc = opgi_actions_reserve(&k->ax, t->err);
    return rc ? rc : opgi_param_txn_reserve(&k->x, t->err);
}

/* Frees what phase A prepared (and, uncommitted, puts every namespace back). */
static void close_free(opg_tally *t, close_ctx *k)
{
    const opg_allocator *a = &t->alloc;
    size_t nv = k->total_votes ? k->total_votes : 1;
    opgi_actions_end(&k->ax);
    opgi_param_txn_end(&k->x);
    opgi_free(a, k->orders, nv * sizeof *k->orders);
    opgi_free(a, k->bals, nv * sizeof *k->bals);
    if (k->ss.keys)
        sort_free(a, &k->ss);
    if (k->sc.in_set)
        scratch_free(a, &k->sc);
    opgi_free(a, k->cl, k->n_cl * sizeof *k->cl);
}

int opg_tally_end_block(opg_tally *t, opg_height height, opg_time now)
{
    if (!t)
        return OPG_EINVAL; /* no handle: no place for detail text */
    opgi_tally_out_clear(t);
    opg_registry *r = t->reg;
    const opg_allocator *a = &t->alloc;

    /* ---- phase A: what closes, everything it needs, then the close on copies ---- */
    size_t n_dep = 0, n_vote = 0;
    for (size_t i = 0; i < t->n_props; i++) {
        const opgi_tprop *p = t->props[i];
        if (p->status == OPG_PROPOSAL_DEPOSIT_PERIOD && p->deposit_end <= now)
            n_dep++;
        else if (p->status == OPG_PROPOSAL_VOTING_PERIOD && p->voting_end <= now)
            n_vote++;
    }
    if (n_dep + n_vote == 0) {
        opgi_locks_expire(t, now);
        return OPG_OK;
    }

    int rc = OPG_OK;
    close_ctx k;
    memset(&k, 0, sizeof k);
    opgi_param_txn_init(&k.x, a);
    k.n_dep = n_dep;
    k.n_cl = n_dep + n_vote;
    k.cl = opgi_alloc_array(a, k.n_cl, sizeof *k.cl);
    if (!k.cl)
        return opgi_fail(t->err, OPG_ENOMEM, NULL, NULL);
    memset(k.cl, 0, k.n_cl * sizeof *k.cl);
    size_t max_votes = 0, refunds = 0, bytes = 0, n_actions = 0;
    int need_bal = 0, may_burn_votes = 0;

    size_t kd = 0, kv = n_dep;
    for (size_t i = 0; i < t->n_props; i++) {
        opgi_tprop *p = t->props[i];
        closer *c;
        if (p->status == OPG_PROPOSAL_DEPOSIT_PERIOD && p->deposit_end <= now) {
            c = &k.cl[kd++];
            c->when = p->deposit_end;
        } else if (p->status == OPG_PROPOSAL_VOTING_PERIOD && p->voting_end <= now) {
            c = &k.cl[kv++];
            c->when = p->voting_end;
            k.total_votes += p->n_votes;
            if (p->n_votes > max_votes)
                max_votes = p->n_votes;
            if (p->kind == OPG_PROPOSAL_PAYLOAD)
                bytes += p->blob_len - p->title_len - p->summary_len;
            if (opgi_action_find(p->kind))
                n_actions++;
            for (size_t j = 0; p->kind == OPG_PROPOSAL_PARAMS && j < p->n_changes; j++) {
                const char *key, *value;
                opgi_tprop_change(p, j, &key, &value);
                if (opgi_param_ns_owns(&opgi_tally_param_ns, key))
                    may_burn_votes = need_bal = 1; /* may turn on burns or held tokens */
            }
        } else {
            continue;
        }
        c->id = p->id;
        c->p = p;
        refunds += p->n_deps;
    }
    qsort(k.cl, n_dep, sizeof *k.cl, cmp_closer);
    qsort(k.cl + n_dep, n_vote, sizeof *k.cl, cmp_closer);
    need_bal = t->balance_fn && (need_bal || !opgi_dec_is_zero(&t->params.liquid_weight));

    /* the burns that may happen must stay within the registry's supply */
    {
        opg_u256 at_risk, supply;
        memset(&at_risk, 0, sizeof at_risk);
        may_burn_votes |= t->params.burn_vote_quorum | t->params.burn_vote_veto;
        for (size_t i = 0; i < k.n_cl; i++) {
            int risky = i < n_dep ? t->params.burn_proposal_deposit_prevote : may_burn_votes;
            if (risky && opg_u256_add(&at_risk, &at_risk, &k.cl[i].p->total_deposit) != OPG_OK)
                memset(at_risk.limb, 0xff, sizeof at_risk.limb);
        }
        opgi_ledger_total_supply(&supply, r);
        if (opg_u256_cmp(&at_risk, &supply) > 0) {
            rc = opgi_fail(t->err, OPG_EUNDERFLOW,
                           "deposits that may burn exceed the registry's total supply", NULL);
            goto done;
        }
    }

    if ((rc = opgi_tally_out_reserve(t, k.n_cl, refunds, bytes)) != OPG_OK ||
        (rc = opgi_actions_begin(&k.ax, t, n_actions, height, now)) != OPG_OK)
        goto done_nomem;
    if (n_vote) {
        size_t nv = k.total_votes ? k.total_votes : 1;
        if ((rc = scratch_alloc(a, &k.sc, r)) != OPG_OK ||
            (rc = sort_alloc(a, &k.ss, max_votes)) != OPG_OK)
            goto done_nomem;
        if (!(k.orders = opgi_alloc_array(a, nv, sizeof *k.orders)))
            goto done_nomem;
        if (need_bal && !(k.bals = opgi_alloc_array(a, nv, sizeof *k.bals)))
            goto done_nomem;
        size_t at = 0;
        for (size_t i = n_dep; i < k.n_cl; i++) {
            k.cl[i].order = k.orders + at;
            opgi_tally_sort_votes(k.cl[i].order, k.cl[i].p, k.ss.keys, k.ss.tmp);
            if (need_bal)
                k.cl[i].bal = k.bals + at;
            at += k.cl[i].p->n_votes;
        }
    }
    /* the host's balances */
    if (need_bal)
        for (size_t i = n_dep; i < k.n_cl; i++)
            if ((rc = fetch_balances(t, k.cl[i].p, k.cl[i].order, k.cl[i].bal)) != OPG_OK) {
                rc = opgi_fail(t->err, rc, "the balance callback failed", NULL);
                goto done;
            }
    opg_u256 burned;
    if ((rc = close_all(t, &k, &burned)) != OPG_OK)
        goto done;

    /* ---- phase B: make it so; nothing below fails ---- */
    opgi_param_txn_commit(&k.x);
    opgi_actions_apply(&k.ax); /* in close order, after the parameters */
    for (size_t i = 0; i < k.n_cl; i++) {
        opgi_tprop *p = k.cl[i].p;
        if (k.cl[i].converted) {
            p->expedited = 0;
            p->voting_end = k.cl[i].new_end;
            drop_votes(a, p);
        } else {
            p->status = 0; /* closed: leaves the list below */
        }
    }
    opgi_ledger_burn(r, &burned);
    size_t kept = 0;
    for (size_t i = 0; i < t->n_props; i++) {
        if (t->props[i]->status == 0)
            opgi_tprop_free(a, t->props[i]);
        else
            t->props[kept++] = t->props[i];
    }
    t->n_props = kept;
    opgi_locks_expire(t, now);
    rc = OPG_OK;
    goto done;

done_nomem:
    rc = opgi_fail(t->err, OPG_ENOMEM, NULL, NULL);
done:
    if (rc)
        t->n_out = 0;
    close_free(t, &k);
    return rc;
}

/* ----------------------------------------------------------------- cancel */

/* trunc(amount * ratio): what cancelling burns of one deposit (ratio <= 1: it fits). */
static void cancel_burn(opg_u256 *b, const opg_u256 *amount, const opg_dec *ratio)
{
    if (OPGI_NEVER(NULL, opgi_muldiv(b->limb, 4, amount->limb, 4, ratio->limb, 4, P1, 1,
                                     OPGI_TRUNC) != OPG_OK))
        memset(b, 0, sizeof *b);
}

int opg_tally_cancel(opg_tally *t, uint64_t proposal_id, const opg_id *proposer, opg_time now)
{
    if (!t)
        return OPG_EINVAL; /* no handle: no place for detail text */
    opgi_tally_out_clear(t);
    OPGI_CHECK_ARG(t->err, proposer);
    size_t at = opgi_tally_find(t, proposal_id);
    if (at == t->n_props)
        return opgi_fail(t->err, OPG_ENOTFOUND, "no open proposal with this id", NULL);
    opgi_tprop *p = t->props[at];
    if (opg_id_cmp(&p->proposer, proposer) != 0)
        return opgi_fail(t->err, OPG_EINVAL, "only the proposer may cancel", NULL);
    if (p->status == OPG_PROPOSAL_VOTING_PERIOD && p->voting_end < now)
        return opgi_fail(t->err, OPG_ESTATUS, "the voting period is over", NULL);
    /* burn_i = trunc(amount_i * ratio) (Dec(amount).Mul(ratio).TruncateInt(): the
     * product is exact, the fraction of a base unit is refunded) */
    opg_u256 burn, supply;
    memset(&burn, 0, sizeof burn);
    size_t nonzero = 0;
    for (uint32_t i = 0; i < p->n_deps; i++) {
        opg_u256 b;
        cancel_burn(&b, &p->deps[i].amount, &t->params.proposal_cancel_ratio);
        /* at most the total deposit */
        OPGI_MUST(opg_u256_add(&burn, &burn, &b));
        if (opg_u256_cmp(&b, &p->deps[i].amount) != 0)
            nonzero++;
    }
    opgi_ledger_total_supply(&supply, t->reg);
    if (opg_u256_cmp(&burn, &supply) > 0)
        return opgi_fail(t->err, OPG_EUNDERFLOW, "burn above the registry's total supply", NULL);
    if (opgi_tally_out_reserve(t, 1, nonzero, 0) != OPG_OK)
        return opgi_fail(t->err, OPG_ENOMEM, NULL, NULL);

    opg_tally_closed *c = &t->out[t->n_out++];
    record_base(c, p, OPG_TALLY_CANCELLED);
    c->refunds = nonzero ? t->out_refunds : NULL;
    for (uint32_t i = 0; i < p->n_deps; i++) {
        opg_u256 b, back;
        cancel_burn(&b, &p->deps[i].amount, &t->params.proposal_cancel_ratio);
        OPGI_MUST(opg_u256_sub(&back, &p->deps[i].amount, &b));
        if (opgi_u256_is_zero(&back))
            continue;
        opg_tally_deposit_entry *e = &t->out_refunds[c->refund_count++];
        e->depositor = p->deps[i].depositor;
        e->amount = back;
        OPGI_MUST(opg_u256_add(&c->refunded, &c->refunded, &back));
    }
    c->burned = burn;
    opgi_ledger_burn(t->reg, &burn);
    opgi_tally_remove_at(t, at);
    return OPG_OK;
}
