/*
 * hyper_vault.c - vaults: positions owned by fungible shares (opg_hyper.h, "vaults").
 *
 * The share ledger, the conversions with their rounding, the withdrawal claims and
 * their maturity (opg_hyper_end_block), the centralisation guard and the epoch's
 * share-price reports. Stake moves are the position's own deposit and withdrawal
 * (opgi_hyper_deposit / opgi_hyper_withdraw in hyper_ops.c), which are all-or-nothing:
 * every vault call reserves its own memory and checks its own rules first, then makes
 * that one call, then applies its bookkeeping, which cannot fail.
 */
#include "hyper_internal.h"

#include "num.h"
#include "registry_ops.h"


/* Cannot fail here: the check phase reserved or proved it. */
#define HV_ASSERT(x) ((void)OPGI_NEVER(NULL, !(x)))

static void call_begin(opg_hyper *h)
{
    h->err[0] = '\0';
    h->n_moves = 0;
    h->n_events = 0;
    h->n_reports = 0;
}

void opgi_hvault_free(opg_hyper *h, opgi_hvault *v)
{
    if (!v)
        return;
    opgi_free(&h->alloc, v->holders, v->cap_holders * sizeof *v->holders);
    opgi_free(&h->alloc, v, sizeof *v);
}

void opgi_hclaim_free(opg_hyper *h, opgi_hclaim *c)
{
    opgi_free(&h->alloc, c->parts, (size_t)c->cap_parts * sizeof *c->parts);
    c->parts = NULL;
    c->n_parts = c->cap_parts = 0;
}

static opgi_hpos *vault_find(const opg_hyper *h, const opg_id *id)
{
    opgi_hpos *p = opgi_hpos_find(h, id);
    return p && p->vault ? p : NULL;
}

size_t opgi_hholder_search(const opgi_hvault *v, const opg_id *acct, int *found)
{
    size_t lo = 0, hi = v->n_holders;
    *found = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = opg_id_cmp(&v->holders[mid].acct, acct);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static opgi_hholder *holder_find(const opgi_hvault *v, const opg_id *acct)
{
    int found;
    size_t i = opgi_hholder_search(v, acct, &found);
    return found ? &v->holders[i] : NULL;
}

/* Room for one more holder (capacity, not state). */
static int holder_reserve(opg_hyper *h, opgi_hvault *v)
{
    if (v->n_holders < v->cap_holders)
        return OPG_OK;
    size_t ncap = v->cap_holders ? v->cap_holders * 2 : 4;
    opgi_hholder *n = opgi_realloc(&h->alloc, v->holders, v->cap_holders * sizeof *n, ncap * sizeof *n);
    if (!n)
        return OPG_ENOMEM;
    v->holders = n;
    v->cap_holders = ncap;
    return OPG_OK;
}

/* The holder's record, inserted (zero) if absent; room was reserved. */
static opgi_hholder *holder_get(opgi_hvault *v, const opg_id *acct)
{
    int found;
    size_t i = opgi_hholder_search(v, acct, &found);
    if (!found) {
        HV_ASSERT(v->n_holders < v->cap_holders);
        memmove(&v->holders[i + 1], &v->holders[i], (v->n_holders - i) * sizeof *v->holders);
        memset(&v->holders[i], 0, sizeof v->holders[i]);
        v->holders[i].acct = *acct;
        v->n_holders++;
    }
    return &v->holders[i];
}

/* Drops the holder's record when it holds nothing. */
static void holder_tidy(opgi_hvault *v, const opg_id *acct)
{
    int found;
    size_t i = opgi_hholder_search(v, acct, &found);
    if (!found)
        return;
    const opgi_hholder *x = &v->holders[i];
    if (!opgi_u256_is_zero(&x->shares) || !opgi_u256_is_zero(&x->claimable) || x->n_pending)
        return;
    memmove(&v->holders[i], &v->holders[i + 1], (v->n_holders - i - 1) * sizeof *v->holders);
    v->n_holders--;
}

static int moves_reserve(opg_hyper *h, size_t n)
{
    if (h->n_moves + n <= h->cap_moves)
        return OPG_OK;
    size_t ncap = h->n_moves + n;
    opg_hyper_move *m = opgi_realloc(&h->alloc, h->moves, h->cap_moves * sizeof *m, ncap * sizeof *m);
    if (!m)
        return OPG_ENOMEM;
    h->moves = m;
    h->cap_moves = ncap;
    return OPG_OK;
}

static void push(opg_hyper *h, opg_hyper_move_kind kind, const opg_id *vault, const opg_id *holder,
                 const opg_u256 *amount)
{
    HV_ASSERT(h->n_moves < h->cap_moves);
    opg_hyper_move *m = &h->moves[h->n_moves++];
    memset(m, 0, sizeof *m);
    m->kind = kind;
    m->position = *vault;
    m->owner = *holder;
    m->dst = *holder;
    m->amount = *amount;
}

/* ---------------------------------------------------------- total assets */

typedef struct assets {
    opg_u256 staked, accrued, total;
} assets;

static int total_assets(assets *out, const opg_hyper *h, const opgi_hpos *p, opg_height height)
{
    const opg_registry *r = h->reg;
    memset(out, 0, sizeof *out);
    for (uint32_t d = opgi_del_first_of(r, &p->id); d != OPGI_NONE; d = r->dels[d].next) {
        opg_u256 t;
        opgi_hyper_del_tokens(&t, r, d);
        if (opg_u256_add(&out->staked, &out->staked, &t) != OPG_OK)
            return OPG_EOVERFLOW;
        opg_dec pend;
        int rc = opg_splitter_pending_rewards(&pend, h->spl, &p->id, &r->nodes[r->dels[d].node].operator_id,
                                              height);
        if (rc)
            return rc;
        opg_dec_truncate_int(&t, &pend);
        if (opg_u256_add(&out->accrued, &out->accrued, &t) != OPG_OK)
            return OPG_EOVERFLOW;
    }
    if (opg_u256_add(&out->accrued, &out->accrued, &p->routed_in) != OPG_OK)
        return OPG_EOVERFLOW;
    if (opg_u256_add(&out->total, &out->staked, &out->accrued) != OPG_OK ||
        opg_u256_add(&out->total, &out->total, &p->vault->idle) != OPG_OK)
        return OPG_EOVERFLOW;
    return OPG_OK;
}

static void pow10_u256(opg_u256 *out, uint32_t d)
{
    uint64_t x = 1;
    for (uint32_t i = 0; i < d; i++)
        x *= 10; /* d <= 18 */
    memset(out, 0, sizeof *out);
    out->limb[0] = x;
}

/* to_shares (to_shares = 1) or to_assets of `amount`, rounded by mode. */
static int convert(opg_u256 *out, const opgi_hvault *v, const opg_u256 *total, const opg_u256 *amount,
                   int to_shares, enum opgi_round mode)
{
    opg_u256 virt, sv, a1, one = {{1, 0, 0, 0}};
    pow10_u256(&virt, v->offset);
    if (opg_u256_add(&sv, &v->supply, &virt) != OPG_OK || opg_u256_add(&a1, total, &one) != OPG_OK)
        return OPG_EOVERFLOW;
    const opg_u256 *num = to_shares ? &sv : &a1, *den = to_shares ? &a1 : &sv;
    return opgi_muldiv(out->limb, 4, amount->limb, 4, num->limb, 4, den->limb, 4, mode);
}

static int preview(opg_u256 *out, const opg_hyper *h, const opg_id *vault, const opg_u256 *x,
                   opg_height height, int to_shares, enum opgi_round mode)
{
    if (!out || !h || !vault || !x)
        return OPG_EINVAL;
    const opgi_hpos *p = vault_find(h, vault);
    if (!p)
        return OPG_ENOTFOUND;
    assets a;
    int rc = total_assets(&a, h, p, height);
    if (rc)
        return rc;
    return convert(out, p->vault, &a.total, x, to_shares, mode);
}

int opg_hyper_vault_preview_deposit(opg_u256 *shares, const opg_hyper *h, const opg_id *vault,
                                    const opg_u256 *assets_in, opg_height height)
{
    return preview(shares, h, vault, assets_in, height, 1, OPGI_TRUNC);
}

int opg_hyper_vault_preview_mint(opg_u256 *assets_out, const opg_hyper *h, const opg_id *vault,
                                 const opg_u256 *shares, opg_height height)
{
    return preview(assets_out, h, vault, shares, height, 0, OPGI_CEIL);
}

int opg_hyper_vault_preview_withdraw(opg_u256 *shares, const opg_hyper *h, const opg_id *vault,
                                     const opg_u256 *assets_in, opg_height height)
{
    return preview(shares, h, vault, assets_in, height, 1, OPGI_CEIL);
}

int opg_hyper_vault_preview_redeem(opg_u256 *assets_out, const opg_hyper *h, const opg_id *vault,
                                   const opg_u256 *shares, opg_height height)
{
    return preview(assets_out, h, vault, shares, height, 0, OPGI_TRUNC);
}

/* ---------------------------------------------------------------- create */

int opg_hyper_vault_create(opg_hyper *h, const opg_id *vault, const opg_hyper_policy *policy,
                           opg_height height)
{
    if (!h)
        return OPG_EINVAL;
    call_begin(h);
    OPGI_CHECK_ARG(h->err, vault && policy);
    if (!policy->auto_compound)
        return opgi_fail(h->err, OPG_EINVAL, "a vault's policy must auto-compound", NULL);
    opgi_hvault *v = opgi_alloc(&h->alloc, sizeof *v);
    if (!v)
        return opgi_fail(h->err, OPG_ENOMEM, NULL, NULL);
    memset(v, 0, sizeof *v);
    v->offset = h->params.vault_decimals_offset;
    int rc = opg_hyper_position_create(h, vault, vault, policy, height);
    if (rc) {
        opgi_free(&h->alloc, v, sizeof *v);
        return rc;
    }
    opgi_hpos *p = opgi_hpos_find(h, vault);
    HV_ASSERT(p);
    p->vault = v;
    return OPG_OK;
}

/* ----------------------------------------------------------------- guard */

int opgi_hyper_guard_on(const opg_hyper *h)
{
    opg_dec one;
    opg_dec_from_u64(&one, 1);
    return opg_dec_cmp(&h->params.vault_node_cap, &one) < 0;
}

void opgi_hyper_vault_shares(opg_dec *out, const opg_hyper *h, uint32_t slot)
{
    const opg_registry *r = h->reg;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < h->n_pos; i++) {
        if (!h->pos[i]->vault)
            continue;
        uint32_t d = opgi_del_find(r, &h->pos[i]->id, slot);
        /* the delegations' shares add up to the node's, which is a Dec */
        if (d != OPGI_NONE)
            HV_ASSERT(opg_dec_add(out, out, &r->dels[d].shares) == OPG_OK);
    }
}

/*
 * With H the vaults' tokens on the node (truncate(tokens_from_shares(vshares))), T the
 * node's tokens and c the cap, adding x keeps (H + x) * 10^18 <= c * (T + x), that is
 * x <= (c * T - H * 10^18) / (10^18 - c): room = that quotient, truncated, 0 when the
 * vaults are at or past the cap already, 2^256 - 1 when it does not fit.
 */
void opgi_hyper_guard_room(opg_u256 *room, const opg_hyper *h, uint32_t slot, const opg_dec *vshares)
{
    const opgi_node *n = &h->reg->nodes[slot];
    opg_u256 held = {{0, 0, 0, 0}}, capraw;
    opg_dec t;
    if (opgi_tokens_from_shares(&t, n, vshares, OPGI_HALF_EVEN) == OPG_OK)
        opg_dec_truncate_int(&held, &t);
    opg_dec_to_raw(&capraw, &h->params.vault_node_cap); /* < 10^18: the guard is on */
    uint64_t lhs[6], rhs[6], gap[1] = {OPGI_P - capraw.limb[0]}, p18[1] = {OPGI_P}, one[1] = {1};
    HV_ASSERT(opgi_muldiv(lhs, 6, capraw.limb, 1, n->tokens.limb, 4, one, 1, OPGI_TRUNC) == OPG_OK);
    HV_ASSERT(opgi_muldiv(rhs, 6, held.limb, 4, p18, 1, one, 1, OPGI_TRUNC) == OPG_OK);
    memset(room, 0, sizeof *room);
    if (opgi_cmp_n(lhs, rhs, 6) <= 0)
        return;
    opgi_sub_n(lhs, lhs, rhs, 6);
    if (opgi_muldiv(room->limb, 4, lhs, 6, one, 1, gap, 1, OPGI_TRUNC) != OPG_OK)
        memset(room, 0xff, sizeof *room);
}

int opgi_hyper_guard(const opg_hyper *h, uint32_t slot, const opg_u256 *part)
{
    if (!opgi_hyper_guard_on(h))
        return OPG_OK;
    opg_dec vshares;
    opg_u256 room;
    opgi_hyper_vault_shares(&vshares, h, slot);
    opgi_hyper_guard_room(&room, h, slot, &vshares);
    return opg_u256_cmp(part, &room) > 0 ? OPG_ELIMIT : OPG_OK;
}

/* ----------------------------------------------------- idle and reports */

void opgi_hyper_vault_absorb(opg_hyper *h)
{
    for (size_t i = 0; i < h->n_moves; i++) {
        const opg_hyper_move *m = &h->moves[i];
        if (m->kind != OPG_HYPER_PAYOUT)
            continue;
        opgi_hpos *p = vault_find(h, &m->position);
        if (!p)
            continue;
        /* rewards are bounded by the splitter's totals */
        OPGI_HYPER_EXACT(h->err, opg_u256_add(&p->vault->idle, &p->vault->idle, &m->amount));
    }
}

int opgi_hyper_reports_reserve(opg_hyper *h)
{
    size_t n = 0;
    for (size_t i = 0; i < h->n_pos; i++)
        n += h->pos[i]->vault != NULL;
    if (n <= h->cap_reports)
        return OPG_OK;
    opg_hyper_vault_report *x =
        opgi_realloc(&h->alloc, h->reports, h->cap_reports * sizeof *x, n * sizeof *x);
    if (!x)
        return opgi_fail(h->err, OPG_ENOMEM, "no memory for the vault reports", NULL);
    h->reports = x;
    h->cap_reports = n;
    return OPG_OK;
}

static void price_of(opg_dec *out, const opgi_hvault *v, const opg_u256 *total)
{
    opg_u256 one_share = {{OPGI_P, 0, 0, 0}}, raw;
    if (convert(&raw, v, total, &one_share, 0, OPGI_TRUNC) != OPG_OK)
        memset(&raw, 0xff, sizeof raw); /* beyond the range: saturates */
    opg_dec_from_raw(out, &raw);
}

void opgi_hyper_reports_fill(opg_hyper *h, opg_height height)
{
    h->n_reports = 0;
    size_t m = 0; /* GUARD moves come in position order, as the epoch visits them */
    for (size_t i = 0; i < h->n_pos; i++) {
        const opgi_hpos *p = h->pos[i];
        if (!p->vault)
            continue;
        HV_ASSERT(h->n_reports < h->cap_reports);
        opg_hyper_vault_report *rp = &h->reports[h->n_reports++];
        memset(rp, 0, sizeof *rp);
        rp->vault = p->id;
        for (; m < h->n_moves; m++) {
            const opg_hyper_move *mv = &h->moves[m];
            if (mv->kind != OPG_HYPER_GUARD)
                continue;
            int c = opg_id_cmp(&mv->position, &p->id);
            if (c > 0)
                break;
            /* held back from amounts the vault had */
            if (c == 0)
                HV_ASSERT(opg_u256_add(&rp->guard_held, &rp->guard_held, &mv->amount) == OPG_OK);
        }
        assets a;
        if (total_assets(&a, h, p, height) != OPG_OK)
            memset(&a, 0xff, sizeof a); /* stake no real supply has */
        rp->total_assets = a.total;
        rp->total_shares = p->vault->supply;
        price_of(&rp->share_price, p->vault, &a.total);
    }
}

const opg_hyper_vault_report *opg_hyper_vault_reports(const opg_hyper *h, size_t *count)
{
    if (count)
        *count = h ? h->n_reports : 0;
    return h ? h->reports : NULL;
}

/* ------------------------------------------------------- deposit / mint */

/* Issues `shares` to holder for `amount` (assets) delegated with the idle. */
static int vault_buy(opg_hyper *h, opgi_hpos *p, const opg_id *holder, const opg_u256 *amount,
                     const opg_u256 *shares, opg_height height, opg_time now)
{
    opgi_hvault *v = p->vault;
    if (opgi_u256_is_zero(shares) || opgi_u256_is_zero(amount))
        return opgi_fail(h->err, OPG_EZERO, "the deposit would issue no shares", NULL);
    opg_u256 supply, total, bal;
    if (opg_u256_add(&supply, &v->supply, shares) != OPG_OK || opg_u256_add(&total, amount, &v->idle) != OPG_OK)
        return opgi_fail(h->err, OPG_EOVERFLOW, "the vault's shares or assets would overflow", NULL);
    const opgi_hholder *x = holder_find(v, holder);
    if (x && opg_u256_add(&bal, &x->shares, shares) != OPG_OK)
        return opgi_fail(h->err, OPG_EOVERFLOW, "the holder's shares would overflow", NULL);
    if (holder_reserve(h, v) != OPG_OK)
        return opgi_fail(h->err, OPG_ENOMEM, NULL, NULL);
    int rc = opgi_hyper_deposit(h, p, &total, height, now);
    if (rc)
        return rc;
    /* applied: nothing below can fail */
    memset(&v->idle, 0, sizeof v->idle);
    opgi_hyper_vault_absorb(h);
    opgi_hholder *y = holder_get(v, holder);
    OPGI_HYPER_EXACT(h->err, opg_u256_add(&y->shares, &y->shares, shares));
    v->supply = supply;
    return OPG_OK;
}

int opg_hyper_vault_deposit(opg_u256 *shares_out, opg_hyper *h, const opg_id *vault, const opg_id *holder,
                            const opg_u256 *assets_in, opg_height height, opg_time now)
{
    if (!h)
        return OPG_EINVAL;
    call_begin(h);
    OPGI_CHECK_ARG(h->err, vault && holder && assets_in);
    opgi_hpos *p = vault_find(h, vault);
    if (!p)
        return opgi_fail(h->err, OPG_ENOTFOUND, "no such vault", NULL);
    opg_u256 shares;
    int rc = preview(&shares, h, vault, assets_in, height, 1, OPGI_TRUNC);
    if (rc)
        return opgi_fail(h->err, rc, "the vault's total assets", NULL);
    if ((rc = vault_buy(h, p, holder, assets_in, &shares, height, now)) != OPG_OK)
        return rc;
    if (shares_out)
        *shares_out = shares;
    return OPG_OK;
}

int opg_hyper_vault_mint(opg_u256 *assets_out, opg_hyper *h, const opg_id *vault, const opg_id *holder,
                         const opg_u256 *shares, opg_height height, opg_time now)
{
    if (!h)
        return OPG_EINVAL;
    call_begin(h);
    OPGI_CHECK_ARG(h->err, vault && holder && shares);
    opgi_hpos *p = vault_find(h, vault);
    if (!p)
        return opgi_fail(h->err, OPG_ENOTFOUND, "no such vault", NULL);
    opg_u256 cost;
    int rc = preview(&cost, h, vault, shares, height, 0, OPGI_CEIL);
    if (rc)
        return opgi_fail(h->err, rc, "the vault's total assets", NULL);
    if ((rc = vault_buy(h, p, holder, &cost, shares, height, now)) != OPG_OK)
        return rc;
    if (assets_out)
        *assets_out = cost;
    return OPG_OK;
}

/* ---------------------------------------------------- withdraw / redeem */

static int cmp_claim(const opgi_hclaim *a, const opgi_hclaim *b)
{
    if (a->completion != b->completion)
        return a->completion < b->completion ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* Burns `shares` of holder for a claim of `amount`. */
static int vault_sell(uint64_t *claim_id, opg_hyper *h, opgi_hpos *p, const opg_id *holder,
                      const opg_u256 *amount, const opg_u256 *shares, opg_height height, opg_time now)
{
    opgi_hvault *v = p->vault;
    const opg_registry *r = h->reg;
    if (opgi_u256_is_zero(shares) || opgi_u256_is_zero(amount))
        return opgi_fail(h->err, OPG_EZERO, "the withdrawal is of nothing", NULL);
    opgi_hholder *x = holder_find(v, holder);
    if (!x || opg_u256_cmp(&x->shares, shares) < 0)
        return opgi_fail(h->err, OPG_EUNDERFLOW, "the holder has fewer shares", NULL);
    if (OPGI_NEVER(h->err, opg_u256_cmp(&v->supply, shares) < 0))
        return OPG_EINVARIANT;
    opg_u256 fixed = opg_u256_cmp(&v->idle, amount) < 0 ? v->idle : *amount, rest;
    OPGI_HYPER_EXACT(h->err, opg_u256_sub(&rest, amount, &fixed));
    if (x->n_pending == UINT32_MAX)
        return opgi_fail(h->err, OPG_ELIMIT, "the holder has too many pending claims", NULL);
    /* room: the claim and its parts (one per delegation at most) */
    size_t nd = 0;
    for (uint32_t d = opgi_del_first_of(r, &p->id); d != OPGI_NONE; d = r->dels[d].next)
        nd++;
    if (h->n_claims == h->cap_claims) {
        size_t ncap = h->cap_claims ? h->cap_claims * 2 : 16;
        opgi_hclaim *c = opgi_realloc(&h->alloc, h->claims, h->cap_claims * sizeof *c, ncap * sizeof *c);
        if (!c)
            return opgi_fail(h->err, OPG_ENOMEM, NULL, NULL);
        h->claims = c;
        h->cap_claims = ncap;
    }
    opgi_hpart *parts = NULL;
    if (!opgi_u256_is_zero(&rest)) {
        if (nd == 0)
            return opgi_fail(h->err, OPG_EUNDERFLOW, "more than the vault's idle and bonded tokens", NULL);
        if (!(parts = opgi_alloc_array(&h->alloc, nd, sizeof *parts)))
            return opgi_fail(h->err, OPG_ENOMEM, NULL, NULL);
        opg_u256 got;
        int rc = opgi_hyper_withdraw(&got, h, p, &rest, height, now);
        if (rc) {
            opgi_free(&h->alloc, parts, nd * sizeof *parts);
            if (rc == OPG_EUNDERFLOW)
                opgi_fail(h->err, rc, "more than the vault's idle and bonded tokens", NULL);
            return rc;
        }
    } else {
        call_begin(h);
    }
    /* applied: nothing below can fail */
    opgi_hclaim c;
    memset(&c, 0, sizeof c);
    c.id = ++h->next_claim;
    c.vault = p->id;
    c.holder = *holder;
    c.fixed = fixed;
    c.nominal = fixed;
    c.completion = now;
    for (size_t i = 0; i < h->n_moves; i++) {
        const opg_hyper_move *m = &h->moves[i];
        if (m->kind != OPG_HYPER_UNDELEGATE)
            continue;
        HV_ASSERT(c.n_parts < nd);
        opgi_hpart *q = &parts[c.n_parts++];
        q->node = m->src;
        q->completion = m->completion;
        q->amount = m->amount;
        if (m->completion > c.completion)
            c.completion = m->completion;
        OPGI_HYPER_EXACT(h->err, opg_u256_add(&c.nominal, &c.nominal, &m->amount)); /* <= amount */
    }
    if (c.n_parts == 0 && parts) {
        opgi_free(&h->alloc, parts, nd * sizeof *parts);
        parts = NULL;
        nd = 0;
    }
    c.cap_parts = parts ? (uint32_t)nd : 0;
    c.parts = parts;
    OPGI_HYPER_EXACT(h->err, opg_u256_sub(&v->idle, &v->idle, &fixed));
    opgi_hyper_vault_absorb(h);
    OPGI_HYPER_EXACT(h->err, opg_u256_sub(&x->shares, &x->shares, shares)); /* x: no insert since */
    OPGI_HYPER_EXACT(h->err, opg_u256_sub(&v->supply, &v->supply, shares));
    OPGI_HYPER_EXACT(h->err, opg_u256_add(&v->queued, &v->queued, &c.nominal)); /* <= the vault's assets */
    OPGI_HYPER_EXACT(h->err, opg_u256_add(&v->queued_idle, &v->queued_idle, &fixed));
    x->n_pending++;
    size_t at = h->n_claims;
    while (at > 0 && cmp_claim(&h->claims[at - 1], &c) > 0)
        at--;
    memmove(&h->claims[at + 1], &h->claims[at], (h->n_claims - at) * sizeof *h->claims);
    h->claims[at] = c;
    h->n_claims++;
    if (claim_id)
        *claim_id = c.id;
    return OPG_OK;
}

int opg_hyper_vault_withdraw(opg_u256 *shares_out, uint64_t *claim_id, opg_hyper *h, const opg_id *vault,
                             const opg_id *holder, const opg_u256 *assets_in, opg_height height, opg_time now)
{
    if (!h)
        return OPG_EINVAL;
    call_begin(h);
    OPGI_CHECK_ARG(h->err, vault && holder && assets_in);
    opgi_hpos *p = vault_find(h, vault);
    if (!p)
        return opgi_fail(h->err, OPG_ENOTFOUND, "no such vault", NULL);
    opg_u256 shares;
    int rc = preview(&shares, h, vault, assets_in, height, 1, OPGI_CEIL);
    if (rc)
        return opgi_fail(h->err, rc, "the vault's total assets", NULL);
    if ((rc = vault_sell(claim_id, h, p, holder, assets_in, &shares, height, now)) != OPG_OK)
        return rc;
    if (shares_out)
        *shares_out = shares;
    return OPG_OK;
}

int opg_hyper_vault_redeem(opg_u256 *assets_out, uint64_t *claim_id, opg_hyper *h, const opg_id *vault,
                           const opg_id *holder, const opg_u256 *shares, opg_height height, opg_time now)
{
    if (!h)
        return OPG_EINVAL;
    call_begin(h);
    OPGI_CHECK_ARG(h->err, vault && holder && shares);
    opgi_hpos *p = vault_find(h, vault);
    if (!p)
        return opgi_fail(h->err, OPG_ENOTFOUND, "no such vault", NULL);
    opg_u256 amount;
    int rc = preview(&amount, h, vault, shares, height, 0, OPGI_TRUNC);
    if (rc)
        return opgi_fail(h->err, rc, "the vault's total assets", NULL);
    if ((rc = vault_sell(claim_id, h, p, holder, &amount, shares, height, now)) != OPG_OK)
        return rc;
    if (assets_out)
        *assets_out = amount;
    return OPG_OK;
}

/* --------------------------------------------------------------- transfer */

int opg_hyper_vault_transfer(opg_hyper *h, const opg_id *vault, const opg_id *from, const opg_id *to,
                             const opg_u256 *shares)
{
    if (!h)
        return OPG_EINVAL;
    call_begin(h);
    OPGI_CHECK_ARG(h->err, vault && from && to && shares);
    opgi_hpos *p = vault_find(h, vault);
    if (!p)
        return opgi_fail(h->err, OPG_ENOTFOUND, "no such vault", NULL);
    if (opgi_u256_is_zero(shares))
        return opgi_fail(h->err, OPG_EZERO, "shares is zero", NULL);
    opgi_hvault *v = p->vault;
    const opgi_hholder *x = holder_find(v, from);
    if (!x || opg_u256_cmp(&x->shares, shares) < 0)
        return opgi_fail(h->err, OPG_EUNDERFLOW, "the sender has fewer shares", NULL);
    if (opg_id_cmp(from, to) == 0)
        return OPG_OK;
    /* the receiver's balance is at most the supply, which fits */
    if (holder_reserve(h, v) != OPG_OK)
        return opgi_fail(h->err, OPG_ENOMEM, NULL, NULL);
    opgi_hholder *y = holder_get(v, to);
    OPGI_HYPER_EXACT(h->err, opg_u256_add(&y->shares, &y->shares, shares));
    opgi_hholder *z = holder_find(v, from); /* the insert may have moved it */
    OPGI_HYPER_EXACT(h->err, opg_u256_sub(&z->shares, &z->shares, shares));
    holder_tidy(v, from);
    return OPG_OK;
}

/* ------------------------------------------------------------------ claim */

int opg_hyper_vault_claim(opg_u256 *amount, opg_hyper *h, const opg_id *vault, const opg_id *holder)
{
    if (!h)
        return OPG_EINVAL;
    call_begin(h);
    OPGI_CHECK_ARG(h->err, vault && holder);
    opgi_hpos *p = vault_find(h, vault);
    if (!p)
        return opgi_fail(h->err, OPG_ENOTFOUND, "no such vault", NULL);
    opgi_hvault *v = p->vault;
    opgi_hholder *x = holder_find(v, holder);
    if (!x)
        return opgi_fail(h->err, OPG_ENOTFOUND, "no such holder", NULL);
    if (opgi_u256_is_zero(&x->claimable))
        return opgi_fail(h->err, OPG_EZERO, "no matured claim", NULL);
    if (moves_reserve(h, 1) != OPG_OK)
        return opgi_fail(h->err, OPG_ENOMEM, NULL, NULL);
    opg_u256 got = x->claimable;
    push(h, OPG_HYPER_CLAIM, vault, holder, &got);
    OPGI_HYPER_EXACT(h->err, opg_u256_sub(&v->claimable, &v->claimable, &got));
    memset(&x->claimable, 0, sizeof x->claimable);
    holder_tidy(v, holder);
    if (amount)
        *amount = got;
    return OPG_OK;
}

/* -------------------------------------------------------------- end_block */

/* One (vault, node, completion) group of unbonding entries the due claims share. */
typedef struct group {
    const opg_id *vault, *node;
    opg_time completion;
    opg_u256 balance, initial, taken;
} group;

static int entries_of(group *g, const opg_registry *r)
{
    memset(&g->balance, 0, sizeof g->balance);
    memset(&g->initial, 0, sizeof g->initial);
    for (size_t i = opgi_queue_lower_bound(&r->unbondings, g->completion); i < r->unbondings.len; i++) {
        const opgi_unbonding *u = opgi_queue_at(&r->unbondings, i);
        if (u->completion_time != g->completion)
            break;
        if (opg_id_cmp(&u->delegator, g->vault) || opg_id_cmp(&u->node, g->node))
            continue;
        if (opg_u256_add(&g->balance, &g->balance, &u->balance) != OPG_OK ||
            opg_u256_add(&g->initial, &g->initial, &u->initial_balance) != OPG_OK)
            return OPG_EOVERFLOW;
    }
    return opgi_u256_is_zero(&g->initial) ? OPG_ESTATUS : OPG_OK;
}

int opg_hyper_end_block(opg_hyper *h, opg_height height, opg_time now)
{
    (void)height;
    if (!h)
        return OPG_EINVAL;
    call_begin(h);
    size_t k = 0, np = 0;
    while (k < h->n_claims && h->claims[k].completion <= now)
        np += h->claims[k++].n_parts;
    if (k == 0)
        return OPG_OK;
    if (moves_reserve(h, k) != OPG_OK)
        return opgi_fail(h->err, OPG_ENOMEM, NULL, NULL);
    group *g = np ? opgi_alloc_array(&h->alloc, np, sizeof *g) : NULL;
    opg_u256 *val = opgi_alloc_array(&h->alloc, k, sizeof *val);
    if ((np && !g) || !val) {
        opgi_free(&h->alloc, g, np * sizeof *g);
        opgi_free(&h->alloc, val, k * sizeof *val);
        return opgi_fail(h->err, OPG_ENOMEM, NULL, NULL);
    }
    /* check: every part's entries are still there; the values */
    size_t ng = 0;
    int rc = OPG_OK;
    for (size_t i = 0; i < k && rc == OPG_OK; i++) {
        const opgi_hclaim *c = &h->claims[i];
        val[i] = c->fixed;
        for (uint32_t j = 0; j < c->n_parts && rc == OPG_OK; j++) {
            const opgi_hpart *q = &c->parts[j];
            size_t gi = 0;
            while (gi < ng && !(g[gi].completion == q->completion && !opg_id_cmp(g[gi].vault, &c->vault) &&
                                !opg_id_cmp(g[gi].node, &q->node)))
                gi++;
            if (gi == ng) {
                memset(&g[ng], 0, sizeof g[ng]);
                g[ng].vault = &c->vault;
                g[ng].node = &q->node;
                g[ng].completion = q->completion;
                if ((rc = entries_of(&g[ng], h->reg)) != OPG_OK)
                    break;
                ng++;
            }
            opg_u256 part;
            /* part <= initial and balance <= initial: the result is at most part */
            OPGI_HYPER_EXACT(h->err, opgi_muldiv(part.limb, 4, q->amount.limb, 4, g[gi].balance.limb, 4,
                                                 g[gi].initial.limb, 4, OPGI_TRUNC));
            OPGI_HYPER_EXACT(h->err, opg_u256_add(&g[gi].taken, &g[gi].taken, &part));
            OPGI_HYPER_EXACT(h->err, opg_u256_add(&val[i], &val[i], &part));
        }
    }
    for (size_t gi = 0; gi < ng && rc == OPG_OK; gi++)
        if (opg_u256_cmp(&g[gi].taken, &g[gi].balance) > 0)
            rc = OPG_ESTATUS; /* entries not all of these claims: moved by hand */
    if (rc) {
        opgi_free(&h->alloc, g, np * sizeof *g);
        opgi_free(&h->alloc, val, k * sizeof *val);
        return opgi_fail(h->err, rc == OPG_ESTATUS ? OPG_ESTATUS : rc,
                         "a due claim's unbonding entries are not the vault's as it left them "
                         "(call opg_hyper_end_block before opg_registry_end_block)",
                         NULL);
    }
    /* apply */
    for (size_t gi = 0; gi < ng; gi++) {
        opgi_hpos *p = vault_find(h, g[gi].vault);
        HV_ASSERT(p);
        opg_u256 dust;
        OPGI_HYPER_EXACT(h->err, opg_u256_sub(&dust, &g[gi].balance, &g[gi].taken));
        OPGI_HYPER_EXACT(h->err, opg_u256_add(&p->vault->idle, &p->vault->idle, &dust));
    }
    for (size_t i = 0; i < k; i++) {
        opgi_hclaim *c = &h->claims[i];
        opgi_hpos *p = vault_find(h, &c->vault);
        HV_ASSERT(p);
        opgi_hvault *v = p->vault;
        opgi_hholder *x = holder_find(v, &c->holder);
        HV_ASSERT(x && x->n_pending > 0);
        OPGI_HYPER_EXACT(h->err, opg_u256_add(&x->claimable, &x->claimable, &val[i]));
        OPGI_HYPER_EXACT(h->err, opg_u256_add(&v->claimable, &v->claimable, &val[i]));
        OPGI_HYPER_EXACT(h->err, opg_u256_sub(&v->queued, &v->queued, &c->nominal));
        OPGI_HYPER_EXACT(h->err, opg_u256_sub(&v->queued_idle, &v->queued_idle, &c->fixed));
        x->n_pending--;
        push(h, OPG_HYPER_MATURED, &c->vault, &c->holder, &val[i]);
        h->moves[h->n_moves - 1].completion = c->completion;
        holder_tidy(v, &c->holder);
    }
    opgi_free(&h->alloc, g, np * sizeof *g);
    opgi_free(&h->alloc, val, k * sizeof *val);
    for (size_t i = 0; i < k; i++)
        opgi_hclaim_free(h, &h->claims[i]);
    memmove(&h->claims[0], &h->claims[k], (h->n_claims - k) * sizeof *h->claims);
    h->n_claims -= k;
    return OPG_OK;
}

/* ---------------------------------------------------------------- queries */

int opg_hyper_vault_get(opg_hyper_vault_info *out, const opg_hyper *h, const opg_id *vault, opg_height height)
{
    if (!out || !h || !vault)
        return OPG_EINVAL;
    const opgi_hpos *p = vault_find(h, vault);
    if (!p)
        return OPG_ENOTFOUND;
    assets a;
    int rc = total_assets(&a, h, p, height);
    if (rc)
        return rc;
    opg_hyper_vault_info o;
    memset(&o, 0, sizeof o);
    o.total_assets = a.total;
    o.staked = a.staked;
    o.accrued = a.accrued;
    o.idle = p->vault->idle;
    o.total_shares = p->vault->supply;
    o.queued = p->vault->queued;
    o.queued_idle = p->vault->queued_idle;
    o.claimable = p->vault->claimable;
    o.decimals_offset = p->vault->offset;
    o.n_holders = p->vault->n_holders;
    price_of(&o.share_price, p->vault, &a.total);
    *out = o;
    return OPG_OK;
}

int opg_hyper_vault_balance(opg_u256 *shares, opg_u256 *claimable, const opg_hyper *h, const opg_id *vault,
                            const opg_id *holder)
{
    if (!h || !vault || !holder)
        return OPG_EINVAL;
    const opgi_hpos *p = vault_find(h, vault);
    if (!p)
        return OPG_ENOTFOUND;
    const opgi_hholder *x = holder_find(p->vault, holder);
    opg_u256 zero = {{0, 0, 0, 0}};
    if (shares)
        *shares = x ? x->shares : zero;
    if (claimable)
        *claimable = x ? x->claimable : zero;
    return OPG_OK;
}

int opg_hyper_vault_holder_at(opg_id *holder, const opg_hyper *h, const opg_id *vault, size_t i)
{
    if (!holder || !h || !vault)
        return OPG_EINVAL;
    const opgi_hpos *p = vault_find(h, vault);
    if (!p)
        return OPG_ENOTFOUND;
    if (i >= p->vault->n_holders)
        return OPG_ENOTFOUND;
    *holder = p->vault->holders[i].acct;
    return OPG_OK;
}
