/*
 * splitter.c - F1 fee distribution (Cosmos x/distribution): periods, historical
 * cumulative ratios with reference counts, slash events, withdrawals, commission,
 * per-block allocation with performance rewards, and the registry hooks.
 *
 * Every amount is a Dec so no fraction is lost; whole base units leave only through
 * withdrawals (delegator rewards, commission) and community pool spends, and the
 * fractions they leave behind go to the community pool or stay, as Cosmos does.
 */
#include "splitter_internal.h"

#include "num.h"

#include <stdlib.h>

static const uint64_t ONE_L[1] = {1};
static const uint64_t P_L[1] = {OPGI_P};

/* ------------------------------------------------------------ parameters */

static int validate_params(const void *params, char *err)
{
    const opg_splitter_params *p = params;
    opg_dec sum;
    if (opg_dec_cmp(&p->inflation_min, &p->inflation_max) > 0)
        return opgi_fail(err, OPG_EINVAL, "mint.inflation_min above mint.inflation_max", NULL);
    if (opgi_dec_is_zero(&p->goal_bonded))
        return opgi_fail(err, OPG_EINVAL, "mint.goal_bonded must be positive", NULL);
    if (p->blocks_per_year == 0)
        return opgi_fail(err, OPG_EINVAL, "mint.blocks_per_year must be positive", NULL);
    if (opg_dec_add(&sum, &p->community_tax, &p->perf_share) != OPG_OK)
        return opgi_fail(err, OPG_EINVAL, "distribution.community_tax + perf_share too large", NULL);
    if ((unsigned)p->emission > OPG_EMISSION_LINEAR_POOL)
        return opgi_fail(err, OPG_EINVAL, "unknown emission kind", NULL);
    if (p->emission == OPG_EMISSION_DECAY_POOL && p->half_life < 365 * 24 * 3600)
        return opgi_fail(err, OPG_EINVAL, "emission.half_life must be at least one year", NULL);
    if (p->emission == OPG_EMISSION_LINEAR_POOL && p->duration <= 0)
        return opgi_fail(err, OPG_EINVAL, "emission.duration must be positive", NULL);
    return OPG_OK;
}

static const opgi_param splitter_params[] = {
    {"distribution.community_tax", OPGI_PARAM_DEC, offsetof(opg_splitter_params, community_tax), "0", "1"},
    {"distribution.perf_share", OPGI_PARAM_DEC, offsetof(opg_splitter_params, perf_share), "0", "1"},
    {"mint.inflation_rate_change", OPGI_PARAM_DEC, offsetof(opg_splitter_params, inflation_rate_change), "0", "1"},
    {"mint.inflation_max", OPGI_PARAM_DEC, offsetof(opg_splitter_params, inflation_max), "0", "1"},
    {"mint.inflation_min", OPGI_PARAM_DEC, offsetof(opg_splitter_params, inflation_min), "0", "1"},
    {"mint.goal_bonded", OPGI_PARAM_DEC, offsetof(opg_splitter_params, goal_bonded), "0", "1"},
    {"mint.blocks_per_year", OPGI_PARAM_U64, offsetof(opg_splitter_params, blocks_per_year), "1", NULL},
    {"emission.half_life", OPGI_PARAM_SECS, offsetof(opg_splitter_params, half_life), "0", NULL},
    {"emission.duration", OPGI_PARAM_SECS, offsetof(opg_splitter_params, duration), "0", NULL},
};

const opgi_param_table opgi_splitter_param_table = {
    splitter_params, OPGI_ARRAY_LEN(splitter_params), sizeof(opg_splitter_params),
    validate_params};

void opg_splitter_params_init(opg_splitter_params *p)
{
    memset(p, 0, sizeof *p);
    opg_dec_from_string(&p->community_tax, "0.02");
    p->emission = OPG_EMISSION_COSMOS_MINT;
    opg_dec_from_string(&p->inflation_rate_change, "0.13");
    opg_dec_from_string(&p->inflation_max, "0.20");
    opg_dec_from_string(&p->inflation_min, "0.07");
    opg_dec_from_string(&p->goal_bonded, "0.67");
    p->blocks_per_year = 6311520;
    opg_dec_from_string(&p->initial_inflation, "0.13");
    p->half_life = 4 * 365 * 24 * 3600;
    p->duration = 96 * 30 * 24 * 3600;
}

/* The "distribution.", "mint." and "emission." namespace. */
typedef struct params_copy {
    opg_splitter_params params;
    int reanchor; /* a half-life or duration was set */
} params_copy;
_Static_assert(sizeof(params_copy) <= OPGI_NS_SCRATCH_MAX, "a splitter copy fits the stack copy");

static void params_begin(void *copy, const void *h)
{
    params_copy *c = copy;
    c->params = ((const opg_splitter *)h)->params;
    c->reanchor = 0;
}

static int params_stage(void *copy, const void *h, const char *key, const char *value,
                        char *err)
{
    params_copy *c = copy;
    (void)h; /* the rules are the table's alone */
    int rc = opgi_params_set(&opgi_splitter_param_table, &c->params, key, value, err);
    if (rc == OPG_OK && (strcmp(key, "emission.half_life") == 0 ||
                         strcmp(key, "emission.duration") == 0))
        c->reanchor = 1;
    return rc;
}

static void params_commit(void *h, void *copy)
{
    opg_splitter *s = h;
    const params_copy *c = copy;
    s->params = c->params;
    /* a new half-life or duration restarts the pool from what is left (SEMANTICS §3);
     * the restart reads no parameter, so once at the end is the same as once per set */
    if (c->reanchor)
        opgi_emission_reanchor(s);
}

const opgi_param_ns opgi_splitter_param_ns = {
    .prefixes = {"distribution.", "mint.", "emission.", NULL},
    .scratch_size = sizeof(params_copy),
    .begin = params_begin,
    .stage = params_stage,
    .commit = params_commit,
};

int opg_splitter_param_set(opg_splitter *s, const char *key, const char *value)
{
    if (!s)
        return OPG_EINVAL;
    s->err[0] = '\0';
    return opgi_param_ns_set(&opgi_splitter_param_ns, s, key, value, s->err);
}

int opg_splitter_param_get(char *buf, size_t cap, size_t *needed, const opg_splitter *s,
                           const char *key)
{
    char scratch[OPGI_ERRMSG_MAX];
    if (!s)
        return OPG_EINVAL;
    return opgi_params_get(&opgi_splitter_param_table, &s->params, key, buf, cap, needed, scratch);
}

const char *opg_splitter_param_key(size_t i) { return opgi_params_key(&opgi_splitter_param_table, i); }

const char *opg_splitter_last_error(const opg_splitter *s) { return s ? s->err : ""; }

/* ---------------------------------------------------------- node storage */

int opgi_splitter_nodes_reserve(opg_splitter *s, uint32_t slots)
{
    if (slots <= s->n_nodes)
        return OPG_OK;
    uint32_t n = s->n_nodes ? s->n_nodes : 16;
    while (n < slots)
        n *= 2;
    f1_node *p = opgi_realloc(&s->alloc, s->nodes, (size_t)s->n_nodes * sizeof *p,
                              (size_t)n * sizeof *p);
    if (!p)
        return OPG_ENOMEM;
    memset(p + s->n_nodes, 0, (size_t)(n - s->n_nodes) * sizeof *p);
    s->nodes = p;
    s->n_nodes = n;
    return OPG_OK;
}

int opgi_f1_hist_reserve(opg_splitter *s, f1_node *n, size_t more)
{
    void *items = n->hist;
    int rc = opgi_grow(&s->alloc, &items, &n->cap_hist, n->n_hist + more, sizeof *n->hist);
    n->hist = items;
    return rc;
}

int opgi_f1_slash_reserve(opg_splitter *s, f1_node *n, size_t more)
{
    void *items = n->slashes;
    int rc = opgi_grow(&s->alloc, &items, &n->cap_slash, n->n_slash + more, sizeof *n->slashes);
    n->slashes = items;
    return rc;
}

static void node_release(opg_splitter *s, f1_node *n)
{
    opgi_free(&s->alloc, n->hist, n->cap_hist * sizeof *n->hist);
    opgi_free(&s->alloc, n->slashes, n->cap_slash * sizeof *n->slashes);
    memset(n, 0, sizeof *n);
}

/* The registry ledger shows the splitter's pools in whole units. */
void opgi_splitter_sync_ledger(opg_splitter *s)
{
    opg_u256 pool, outstanding;
    opg_dec_truncate_int(&pool, &s->community_pool);
    opg_dec_truncate_int(&outstanding, &s->outstanding);
    opgi_ledger_set_pools(s->reg, &pool, &outstanding);
}

/* ------------------------------------------------------------------- F1 */

static f1_hist *hist_find(const f1_node *n, uint64_t period)
{
    /* most lookups are of the period just closed: the last record */
    if (n->n_hist && n->hist[n->n_hist - 1].period == period)
        return n->hist[n->n_hist - 1].refcount ? &n->hist[n->n_hist - 1] : NULL;
    size_t lo = 0, hi = n->n_hist;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (n->hist[mid].period == period)
            return n->hist[mid].refcount ? &n->hist[mid] : NULL;
        if (n->hist[mid].period < period)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Drops a record nobody references. Records in the middle are only marked, and the
 * array is compacted once half of it is marked: O(1) amortised, and memory still
 * tracks the live references. */
static void hist_decref(opg_splitter *s, uint32_t slot, uint64_t period)
{
    f1_node *n = &s->nodes[slot];
    f1_hist *h = hist_find(n, period);
    if (!h)
        return;
    opgi_splitter_touch_history(s, slot, period);
    if (--h->refcount > 0)
        return;
    if (h == &n->hist[n->n_hist - 1]) {
        n->n_hist--;
        return;
    }
    if (++n->n_dead * 2 <= n->n_hist)
        return;
    size_t k = 0;
    for (size_t i = 0; i < n->n_hist; i++)
        if (n->hist[i].refcount)
            n->hist[k++] = n->hist[i];
    n->n_hist = k;
    n->n_dead = 0;
}

static void hist_incref(opg_splitter *s, uint32_t slot, uint64_t period)
{
    f1_hist *h = hist_find(&s->nodes[slot], period);
    if (h) {
        h->refcount++;
        opgi_splitter_touch_history(s, slot, period);
    }
}

/* Cumulative ratio the current period would close with: cum[p-1] + trunc(R / tokens).
 * Zero tokens: the ratio is 0 (R goes to the community pool). */
static int closing_cum(uint64_t out[OPGI_CUM_LIMBS], const f1_node *n, const opg_u256 *tokens)
{
    const f1_hist *prev = hist_find(n, n->period - 1);
    uint64_t ratio[OPGI_CUM_LIMBS] = {0};
    if (!prev)
        return OPG_EINVARIANT;
    if (!opgi_u256_is_zero(tokens)) /* QuoDecTruncate by Dec(tokens): raw R / tokens, truncated */
        OPGI_MUST(opgi_muldiv(ratio, OPGI_CUM_LIMBS, n->rewards.limb, 4, ONE_L, 1, tokens->limb, 4, OPGI_TRUNC));
    if (opgi_add_n(out, prev->cum, ratio, OPGI_CUM_LIMBS))
        return OPG_EOVERFLOW;
    return OPG_OK;
}

/* increment_period; room for one more historical record was reserved. */
static uint64_t increment_period(opg_splitter *s, uint32_t slot)
{
    f1_node *n = &s->nodes[slot];
    const opg_u256 *tokens = &s->reg->nodes[slot].tokens;
    uint64_t cum[OPGI_CUM_LIMBS];
    if (opgi_u256_is_zero(tokens)) {
        /* nobody to pay: the period's rewards go to the community pool */
        OPGI_MUST(opg_dec_add(&s->community_pool, &s->community_pool, &n->rewards));
        OPGI_MUST(opg_dec_sub(&n->outstanding, &n->outstanding, &n->rewards));
        OPGI_MUST(opg_dec_sub(&s->outstanding, &s->outstanding, &n->rewards));
    }
    /* the previous period's record is referenced by this one; prepare refused an
     * overflowing ratio */
    if (OPGI_NEVER(s->err, closing_cum(cum, n, tokens) != OPG_OK))
        memset(cum, 0, sizeof cum);
    uint64_t p = n->period;
    hist_decref(s, slot, p - 1);
    f1_hist h;
    h.period = p;
    h.refcount = 1;
    memcpy(h.cum, cum, sizeof cum);
    /* periods only grow: appending keeps the order; prepare reserved the room */
    if (!OPGI_NEVER(s->err, n->n_hist >= n->cap_hist))
        n->hist[n->n_hist++] = h;
    memset(&n->rewards, 0, sizeof n->rewards);
    n->period = p + 1;
    opgi_splitter_touch_history(s, slot, p);
    opgi_splitter_touch_node(s, slot);
    opgi_splitter_sync_ledger(s); /* the pool may have grown (zero-token node) */
    return p;
}

/* mul_truncate(cum_b - cum_a, stake): rewards of `stake` between two periods. */
static int between(opg_dec *out, const uint64_t *cum_a, const uint64_t *cum_b, const opg_dec *stake)
{
    uint64_t diff[OPGI_CUM_LIMBS];
    if (opgi_sub_n(diff, cum_b, cum_a, OPGI_CUM_LIMBS))
        return OPG_EINVARIANT; /* ratios never decrease */
    return opgi_muldiv(out->limb, 4, diff, OPGI_CUM_LIMBS, stake->limb, 4, P_L, 1, OPGI_TRUNC);
}

/*
 * Rewards of delegation d up to period `end`, whose cumulative ratio is end_cum
 * (given, because the end may be a period not yet closed). SEMANTICS §3.
 */
static int calc_rewards(opg_dec *out, const opg_splitter *s, uint32_t slot, const opgi_delegation *d,
                        const uint64_t *end_cum, opg_height now)
{
    const f1_node *n = &s->nodes[slot];
    const opgi_node *rn = &s->reg->nodes[slot];
    opg_dec rewards, stake = d->f1.stake, part, one;
    memset(&rewards, 0, sizeof rewards);
    opg_dec_from_u64(&one, 1);
    if (d->f1.height == now) { /* started this block: nothing yet */
        *out = rewards;
        return OPG_OK;
    }
    uint64_t sp = d->f1.period;
    int rc;
    for (size_t i = 0; i < n->n_slash; i++) {
        const f1_slash *e = &n->slashes[i];
        if (e->height < d->f1.height || e->height > now || e->period <= sp)
            continue;
        const f1_hist *a = hist_find(n, sp), *b = hist_find(n, e->period);
        if (!a || !b)
            return OPG_EINVARIANT;
        if ((rc = between(&part, a->cum, b->cum, &stake)) || (rc = opg_dec_add(&rewards, &rewards, &part)))
            return rc;
        opg_dec keep;
        OPGI_MUST(opg_dec_sub(&keep, &one, &e->fraction));
        OPGI_MUST(opg_dec_mul_truncate(&stake, &stake, &keep));
        sp = e->period;
    }
    opg_dec current;
    if ((rc = opgi_tokens_from_shares(&current, rn, &d->shares, OPGI_HALF_EVEN)) != OPG_OK)
        return rc;
    if (opg_dec_cmp(&stake, &current) > 0) {
        /* the stake may exceed what the shares are worth by rounding: 3e-18 at most */
        opg_dec over, margin = {{3, 0, 0, 0}};
        OPGI_MUST(opg_dec_sub(&over, &stake, &current));
        if (opg_dec_cmp(&over, &margin) > 0)
            return OPG_EINVARIANT; /* Cosmos panics here; libopg refuses and changes nothing */
        stake = current;
    }
    const f1_hist *a = hist_find(n, sp);
    if (!a)
        return OPG_EINVARIANT;
    if ((rc = between(&part, a->cum, end_cum, &stake)) || (rc = opg_dec_add(&rewards, &rewards, &part)))
        return rc;
    *out = rewards;
    return OPG_OK;
}

/* What a withdrawal would compute now (the current period closed virtually). */
static int rewards_now(opg_dec *out, const opg_splitter *s, uint32_t del, opg_height now)
{
    const opgi_delegation *d = &s->reg->dels[del];
    uint64_t end_cum[OPGI_CUM_LIMBS];
    int rc = closing_cum(end_cum, &s->nodes[d->node], &s->reg->nodes[d->node].tokens);
    if (rc)
        return rc;
    return calc_rewards(out, s, d->node, d, end_cum, now);
}

/* The withdrawal itself (check done): pays whole units by event, fraction to the pool. */
static void withdraw(opg_splitter *s, uint32_t del, opg_height now, opg_u256 *paid_out)
{
    opg_registry *r = s->reg;
    opgi_delegation *d = &r->dels[del];
    uint32_t slot = d->node;
    f1_node *n = &s->nodes[slot];
    increment_period(s, slot);
    const f1_hist *end = hist_find(n, n->period - 1);
    opg_dec rewards;
    if (OPGI_NEVER(s->err, !end || calc_rewards(&rewards, s, slot, d, end->cum, now) != OPG_OK))
        memset(&rewards, 0, sizeof rewards); /* prepare() refused such states already */
    /* never pay more than the node holds for its delegators: its outstanding less
     * the commission it owes its operator (consistent state never reaches this) */
    opg_dec payable;
    if (OPGI_NEVER(s->err, opg_dec_sub(&payable, &n->outstanding, &n->commission) != OPG_OK))
        memset(&payable, 0, sizeof payable);
    if (opg_dec_cmp(&rewards, &payable) > 0)
        rewards = payable;
    opg_u256 whole;
    opg_dec whole_dec, rest;
    opg_dec_truncate_int(&whole, &rewards);
    OPGI_MUST(opg_dec_from_int(&whole_dec, &whole));
    OPGI_MUST(opg_dec_sub(&rest, &rewards, &whole_dec));
    OPGI_MUST(opg_dec_add(&s->community_pool, &s->community_pool, &rest));
    OPGI_MUST(opg_dec_sub(&n->outstanding, &n->outstanding, &rewards));
    OPGI_MUST(opg_dec_sub(&s->outstanding, &s->outstanding, &rewards));
    OPGI_MUST(opg_dec_add(&s->paid_delegators, &s->paid_delegators, &whole_dec));
    hist_decref(s, slot, d->f1.period);
    memset(&d->f1, 0, sizeof d->f1);
    opgi_splitter_touch_node(s, slot);
    if (!opgi_u256_is_zero(&whole)) { /* SPLITTER_EVENTS_PER_CALL */
        opg_event *e = opgi_event_push(r, OPG_EVENT_REWARDS_PAID, &r->nodes[slot]);
        e->account = d->delegator;
        e->amount = whole;
    }
    if (paid_out)
        *paid_out = whole;
    opgi_splitter_sync_ledger(s);
}

/* initializeDelegation: track from the period just closed. */
static void initialize_delegation(opg_splitter *s, uint32_t del, opg_height now)
{
    opg_registry *r = s->reg;
    opgi_delegation *d = &r->dels[del];
    f1_node *n = &s->nodes[d->node];
    d->f1.period = n->period - 1;
    hist_incref(s, d->node, d->f1.period);
    /* a value past a Dec's range (tokens above 2^256 / 10^18, stake only a host can
     * make up) tracks as 0 */
    if (opgi_tokens_from_shares(&d->f1.stake, &r->nodes[d->node], &d->shares, OPGI_TRUNC) != OPG_OK)
        memset(&d->f1.stake, 0, sizeof d->f1.stake);
    d->f1.height = now;
    opgi_touch_delegation(r, del);
}

static void initialize_node(opg_splitter *s, uint32_t slot)
{
    f1_node *n = &s->nodes[slot];
    n->live = 1;
    n->period = 1;
    memset(&n->rewards, 0, sizeof n->rewards);
    memset(&n->commission, 0, sizeof n->commission);
    memset(&n->outstanding, 0, sizeof n->outstanding);
    n->n_hist = 1; /* capacity reserved by prepare */
    n->n_dead = 0;
    memset(&n->hist[0], 0, sizeof n->hist[0]);
    n->hist[0].refcount = 1;
    n->n_slash = 0;
    opgi_splitter_touch_node(s, slot);
    opgi_splitter_touch_history(s, slot, 0);
}

/* allocate_to_node: commission = mul(tokens, rate), half to even. */
static void allocate_to_node(opg_splitter *s, uint32_t slot, const opg_dec *tokens)
{
    f1_node *n = &s->nodes[slot];
    opg_dec commission, shared;
    if (opg_dec_mul(&commission, tokens, &s->reg->nodes[slot].rate) != OPG_OK ||
        opg_dec_cmp(&commission, tokens) > 0)
        commission = *tokens;
    OPGI_MUST(opg_dec_sub(&shared, tokens, &commission));
    OPGI_MUST(opg_dec_add(&n->rewards, &n->rewards, &shared));
    OPGI_MUST(opg_dec_add(&n->commission, &n->commission, &commission));
    OPGI_MUST(opg_dec_add(&n->outstanding, &n->outstanding, tokens));
    OPGI_MUST(opg_dec_add(&s->outstanding, &s->outstanding, tokens));
    opgi_splitter_touch_node(s, slot);
}

/* ----------------------------------------------------------------- hooks */

/* Each hook call, and each withdrawal of the splitter's own, pushes at most one event
 * (the rewards or commission it pays). */
#define SPLITTER_EVENTS_PER_CALL 1

size_t opgi_splitter_events_withdraw(const opg_splitter *s)
{
    (void)s;
    return SPLITTER_EVENTS_PER_CALL;
}

size_t opgi_splitter_hist_room(size_t n_nodes, size_t n_dels) { return 2 * (n_nodes + n_dels + 2); }

static int hook_prepare(void *ctx, opg_registry *r, const opgi_plan *plan)
{
    opg_splitter *s = ctx;
    int rc;
    if (plan->new_node != OPGI_NONE) {
        if ((rc = opgi_splitter_nodes_reserve(s, plan->new_node + 1)) ||
            (rc = opgi_f1_hist_reserve(s, &s->nodes[plan->new_node], 4)))
            return opgi_fail(r->err, rc, NULL, NULL);
    }
    size_t room = opgi_splitter_hist_room(plan->n_nodes, plan->n_dels);
    /* records: per settlement a few (node, the periods it closes and references), and
     * for every node concerned all of its records, which its removal touches */
    size_t touches = 8 + 6 * (plan->n_nodes + plan->n_dels + (plan->new_node != OPGI_NONE));
    if (plan->calls > 1) /* a union of operations: that room for each of them */
        touches *= plan->calls;
    for (size_t i = 0; i < plan->n_nodes; i++) {
        f1_node *n = &s->nodes[plan->nodes[i]];
        if ((rc = opgi_f1_hist_reserve(s, n, room)) || (rc = opgi_f1_slash_reserve(s, n, 1)))
            return opgi_fail(r->err, rc, NULL, NULL);
        touches += opgi_splitter_records_of(s, plan->nodes[i]);
    }
    for (size_t i = 0; i < plan->n_dels; i++)
        if (plan->dels[i] != OPGI_NONE)
            touches += opgi_splitter_records_of(s, r->dels[plan->dels[i]].node);
    if ((rc = opgi_splitter_touch_reserve(s, touches)) != OPG_OK)
        return opgi_fail(r->err, rc, NULL, NULL);
    for (size_t i = 0; i < plan->n_dels; i++) {
        uint32_t del = plan->dels[i];
        if (del == OPGI_NONE)
            continue;
        f1_node *n = &s->nodes[r->dels[del].node];
        if ((rc = opgi_f1_hist_reserve(s, n, room)) != OPG_OK)
            return opgi_fail(r->err, rc, NULL, NULL);
        opg_dec rewards;
        if ((rc = rewards_now(&rewards, s, del, r->cur_height)) != OPG_OK)
            return opgi_fail(r->err, rc, "delegation rewards cannot be settled",
                             rc == OPG_EINVARIANT ? "stake beyond the rounding tolerance" : NULL);
    }
    return OPG_OK;
}

static void hook_node_created(void *ctx, opg_registry *r, uint32_t slot)
{
    (void)r;
    initialize_node(ctx, slot);
}

static void hook_before_created(void *ctx, opg_registry *r, uint32_t slot)
{
    (void)r;
    increment_period(ctx, slot);
}

static void hook_before_modified(void *ctx, opg_registry *r, uint32_t del)
{
    withdraw(ctx, del, r->cur_height, NULL);
}

static void hook_after_modified(void *ctx, opg_registry *r, uint32_t del)
{
    initialize_delegation(ctx, del, r->cur_height);
}

static void hook_before_slashed(void *ctx, opg_registry *r, uint32_t slot, const opg_dec *fraction)
{
    opg_splitter *s = ctx;
    f1_node *n = &s->nodes[slot];
    uint64_t p = increment_period(s, slot);
    hist_incref(s, slot, p);
    if (!OPGI_NEVER(s->err, n->n_slash >= n->cap_slash)) { /* prepare reserved it */
        f1_slash *e = &n->slashes[n->n_slash++];
        e->height = r->cur_height;
        e->period = p;
        e->fraction = *fraction;
        opgi_splitter_touch_slash(s, slot, e);
    }
}

static void hook_node_removed(void *ctx, opg_registry *r, uint32_t slot)
{
    opg_splitter *s = ctx;
    f1_node *n = &s->nodes[slot];
    if (!n->live)
        return;
    /* force-withdraw the commission, then the dust of outstanding to the pool */
    if (!opgi_dec_is_zero(&n->commission)) {
        opg_u256 whole;
        opg_dec whole_dec, rest;
        opg_dec_truncate_int(&whole, &n->commission);
        OPGI_MUST(opg_dec_from_int(&whole_dec, &whole));
        OPGI_MUST(opg_dec_sub(&rest, &n->commission, &whole_dec));
        OPGI_MUST(opg_dec_sub(&n->outstanding, &n->outstanding, &n->commission));
        OPGI_MUST(opg_dec_sub(&s->outstanding, &s->outstanding, &n->commission));
        OPGI_MUST(opg_dec_add(&s->community_pool, &s->community_pool, &rest));
        OPGI_MUST(opg_dec_add(&s->paid_commission, &s->paid_commission, &whole_dec));
        if (!opgi_u256_is_zero(&whole)) { /* SPLITTER_EVENTS_PER_CALL */
            opg_event *e = opgi_event_push(r, OPG_EVENT_COMMISSION_PAID, &r->nodes[slot]);
            e->account = r->nodes[slot].operator_id;
            e->amount = whole;
        }
    }
    OPGI_MUST(opg_dec_add(&s->community_pool, &s->community_pool, &n->outstanding));
    OPGI_MUST(opg_dec_sub(&s->outstanding, &s->outstanding, &n->outstanding));
    opgi_splitter_touch_all_of(s, slot); /* every record of the node goes */
    node_release(s, n);
    opgi_splitter_sync_ledger(s);
}

int opgi_splitter_attach(opg_splitter *s)
{
    for (size_t i = 0; i < s->reg->n_engines; i++)
        if (s->reg->engines[i].prepare == hook_prepare)
            return OPG_EEXISTS;
    opgi_engine_hooks h;
    memset(&h, 0, sizeof h);
    h.ctx = s;
    h.prepare = hook_prepare;
    h.node_created = hook_node_created;
    h.before_delegation_created = hook_before_created;
    h.before_delegation_modified = hook_before_modified;
    h.after_delegation_modified = hook_after_modified;
    h.before_node_slashed = hook_before_slashed;
    h.node_removed = hook_node_removed;
    h.events_per_call = SPLITTER_EVENTS_PER_CALL;
    return opgi_registry_attach(s->reg, &h);
}

/* ---------------------------------------------------------------- handle */

static int splitter_alloc(opg_splitter **out, opg_registry *r, const opg_splitter_params *params,
                          const opg_allocator *alloc)
{
    opg_allocator a;
    opgi_allocator_init(&a, alloc);
    opg_splitter_params p;
    char err[OPGI_ERRMSG_MAX];
    if (params)
        p = *params;
    else
        opg_splitter_params_init(&p);
    int rc = opgi_params_check(&opgi_splitter_param_table, &p, err);
    if (rc)
        return rc;
    opg_splitter *s = opgi_alloc(&a, sizeof *s);
    if (!s)
        return OPG_ENOMEM;
    memset(s, 0, sizeof *s);
    s->alloc = a;
    s->reg = r;
    s->params = p;
    if ((rc = opgi_records_init(&s->records, &a)) != OPG_OK) {
        opgi_free(&a, s, sizeof *s);
        return rc;
    }
    opgi_exp2_table_init(s->exp2_table);
    *out = s;
    return OPG_OK;
}

static void splitter_release(opg_splitter *s)
{
    for (uint32_t i = 0; i < s->n_nodes; i++)
        node_release(s, &s->nodes[i]);
    opgi_free(&s->alloc, s->nodes, (size_t)s->n_nodes * sizeof *s->nodes);
    const opg_allocator a = s->alloc;
    opgi_records_free(&s->records, &a);
    opgi_free(&a, s, sizeof *s);
}

int opg_splitter_new(opg_splitter **out, opg_registry *r, const opg_splitter_params *params,
                     const opg_allocator *alloc)
{
    if (!out || !r)
        return OPG_EINVAL;
    opg_splitter *s;
    int rc = splitter_alloc(&s, r, params, alloc);
    if (rc)
        return rc;
    s->inflation = s->params.initial_inflation;
    s->anchor_amount = s->params.pool_amount;
    s->anchor_time = s->params.pool_start;
    /* genesis: every existing node gets period 1, every delegation starts at period 0 */
    if ((rc = opgi_splitter_nodes_reserve(s, r->node_slots)) != OPG_OK)
        goto fail;
    for (uint32_t i = 0; i < r->node_slots; i++) {
        if (!r->nodes[i].in_use)
            continue;
        if ((rc = opgi_f1_hist_reserve(s, &s->nodes[i], 4)) != OPG_OK)
            goto fail;
        initialize_node(s, i);
    }
    if ((rc = opgi_splitter_attach(s)) != OPG_OK)
        goto fail;
    /* as at genesis: height 0, never the height of whatever call the registry saw
     * last (that is not state, so a replica that reloaded would differ) */
    for (uint32_t d = 0; d < r->del_slots; d++)
        if (r->dels[d].node != OPGI_NONE)
            initialize_delegation(s, d, 0);
    opgi_splitter_sync_ledger(s);
    *out = s;
    return OPG_OK;
fail:
    splitter_release(s);
    return rc;
}

void opg_splitter_free(opg_splitter *s)
{
    if (!s)
        return;
    opgi_registry_detach(s->reg, s);
    splitter_release(s);
}

int opgi_splitter_create_for_load(opg_splitter **out, opg_registry *r,
                                  const opg_splitter_params *params, const opg_allocator *alloc)
{
    return splitter_alloc(out, r, params, alloc);
}

void opgi_splitter_release(opg_splitter *s) { splitter_release(s); }

/* ------------------------------------------------------------ allocation */

int opg_splitter_add_fees(opg_splitter *s, const opg_u256 *amount)
{
    if (!s)
        return OPG_EINVAL;
    s->err[0] = '\0';
    OPGI_CHECK_ARG(s->err, amount);
    opg_dec a, pending, fees;
    if (opg_dec_from_int(&a, amount) || opg_dec_add(&pending, &s->pending, &a) ||
        opg_dec_add(&fees, &s->fees, &a))
        return opgi_fail(s->err, OPG_EOVERFLOW, "fees too large", NULL);
    s->pending = pending;
    s->fees = fees;
    return OPG_OK;
}

int opg_splitter_allocate(opg_splitter *s, const opg_commit_vote *votes, size_t n_votes,
                          opg_height height, opg_time now)
{
    if (!s)
        return OPG_EINVAL;
    (void)now;
    s->err[0] = '\0';
    OPGI_CHECK_ARG(s->err, votes || !n_votes);
    opg_registry *r = s->reg;
    opg_dec one;
    opg_dec_from_u64(&one, 1);
    /* check: nodes, scores and totals first; nothing changes until all is known */
    uint32_t *slots = opgi_alloc_array(&s->alloc, n_votes ? n_votes : 1, sizeof *slots);
    if (!slots)
        return opgi_fail(s->err, OPG_ENOMEM, NULL, NULL);
    int rc = OPG_OK;
    opg_u256 total_power = {{0, 0, 0, 0}};
    opg_dec total_weight = {{0, 0, 0, 0}};
    for (size_t i = 0; i < n_votes; i++) {
        opg_id op;
        slots[i] = opg_registry_node_by_consensus_key(&op, r, &votes[i].consensus_key) == OPG_OK
                       ? opgi_node_find(r, &op) : OPGI_NONE;
        if (opg_dec_cmp(&votes[i].score, &one) > 0) {
            rc = opgi_fail(s->err, OPG_EINVAL, "performance score above 1", NULL);
            goto done;
        }
        opg_u256 pw = {{votes[i].power, 0, 0, 0}};
        opg_dec w;
        /* weight = mul_truncate(Dec(power), score) = power * raw(score), exact */
        OPGI_MUST(opgi_muldiv(w.limb, 4, pw.limb, 4, votes[i].score.limb, 4, ONE_L, 1, OPGI_TRUNC));
        if (opg_u256_add(&total_power, &total_power, &pw) || opg_dec_add(&total_weight, &total_weight, &w)) {
            rc = opgi_fail(s->err, OPG_EOVERFLOW, "total power too large", NULL);
            goto done;
        }
    }
    (void)height;
    if ((rc = opgi_splitter_touch_reserve(s, n_votes)) != OPG_OK)
        goto done;
    opg_dec pot = s->pending, distributed = {{0, 0, 0, 0}};
    memset(&s->pending, 0, sizeof s->pending);
    if (!opgi_u256_is_zero(&total_power)) {
        opg_dec keep, a, a_perf, a_base, total_dec;
        OPGI_MUST(opg_dec_sub(&keep, &one, &s->params.community_tax));
        OPGI_MUST(opg_dec_mul_truncate(&a, &pot, &keep));
        OPGI_MUST(opg_dec_mul_truncate(&a_perf, &a, &s->params.perf_share));
        OPGI_MUST(opg_dec_sub(&a_base, &a, &a_perf));
        if (opgi_dec_is_zero(&total_weight))
            memset(&a_perf, 0, sizeof a_perf); /* no one scored: the perf part stays in the pool */
        OPGI_MUST(opg_dec_from_int(&total_dec, &total_power));
        for (size_t i = 0; i < n_votes; i++) {
            if (slots[i] == OPGI_NONE)
                continue; /* a node that left: its share stays with the community pool */
            opg_u256 pw = {{votes[i].power, 0, 0, 0}};
            opg_dec pwd, frac, reward, w, part;
            OPGI_MUST(opg_dec_from_int(&pwd, &pw));
            OPGI_MUST(opg_dec_quo_truncate(&frac, &pwd, &total_dec));
            OPGI_MUST(opg_dec_mul_truncate(&reward, &a_base, &frac));
            if (!opgi_dec_is_zero(&a_perf)) {
                OPGI_MUST(opgi_muldiv(w.limb, 4, pw.limb, 4, votes[i].score.limb, 4, ONE_L, 1, OPGI_TRUNC));
                OPGI_MUST(opg_dec_quo_truncate(&frac, &w, &total_weight));
                OPGI_MUST(opg_dec_mul_truncate(&part, &a_perf, &frac));
                OPGI_MUST(opg_dec_add(&reward, &reward, &part));
            }
            if (opgi_dec_is_zero(&reward))
                continue;
            allocate_to_node(s, slots[i], &reward);
            OPGI_MUST(opg_dec_add(&distributed, &distributed, &reward));
        }
    }
    opg_dec rest;
    OPGI_MUST(opg_dec_sub(&rest, &pot, &distributed));
    OPGI_MUST(opg_dec_add(&s->community_pool, &s->community_pool, &rest));
    opgi_splitter_sync_ledger(s);
done:
    opgi_free(&s->alloc, slots, (n_votes ? n_votes : 1) * sizeof *slots);
    return rc;
}

int opg_splitter_allocate_to_node(opg_splitter *s, const opg_id *operator_id, const opg_u256 *amount)
{
    if (!s)
        return OPG_EINVAL;
    s->err[0] = '\0';
    OPGI_CHECK_ARG(s->err, operator_id && amount);
    uint32_t slot = opgi_node_find(s->reg, operator_id);
    if (slot == OPGI_NONE)
        return opgi_fail(s->err, OPG_ENOTFOUND, "no node with this operator id", NULL);
    if (opgi_u256_is_zero(amount))
        return opgi_fail(s->err, OPG_EZERO, "amount is zero", NULL);
    opg_dec a, fees, out;
    if (opg_dec_from_int(&a, amount) || opg_dec_add(&fees, &s->fees, &a) ||
        opg_dec_add(&out, &s->outstanding, &a) || opg_dec_add(&out, &s->nodes[slot].outstanding, &a))
        return opgi_fail(s->err, OPG_EOVERFLOW, "amount too large", NULL);
    int rc = opgi_splitter_touch_reserve(s, 1);
    if (rc)
        return rc;
    s->fees = fees;
    allocate_to_node(s, slot, &a);
    opgi_splitter_sync_ledger(s);
    return OPG_OK;
}

/* ----------------------------------------------------------- withdrawals */

int opg_splitter_withdraw_rewards(opg_u256 *paid, opg_splitter *s, const opg_id *delegator,
                                  const opg_id *operator_id, opg_height height, opg_time now)
{
    if (!s)
        return OPG_EINVAL;
    s->err[0] = '\0';
    OPGI_CHECK_ARG(s->err, delegator && operator_id);
    opg_registry *r = s->reg;
    int rc = opgi_stake_call_begin(r, height, now);
    if (rc)
        return rc;
    uint32_t slot = opgi_node_find(r, operator_id);
    uint32_t del = slot == OPGI_NONE ? OPGI_NONE : opgi_del_find(r, delegator, slot);
    if (del == OPGI_NONE)
        return opgi_fail(s->err, OPG_ENOTFOUND, "no such delegation", NULL);
    opgi_plan plan = {NULL, 0, &del, 1, OPGI_NONE, 0};
    if ((rc = opgi_events_reserve(r, opgi_splitter_events_withdraw(s))) != OPG_OK)
        return opgi_fail(s->err, rc, NULL, NULL);
    if ((rc = hook_prepare(s, r, &plan)) != OPG_OK)
        return opgi_fail(s->err, rc, opg_registry_last_error(r), NULL);
    opg_u256 got;
    withdraw(s, del, height, &got);
    initialize_delegation(s, del, height);
    if (paid)
        *paid = got;
    return OPG_OK;
}

int opg_splitter_withdraw_commission(opg_u256 *paid, opg_splitter *s, const opg_id *operator_id)
{
    if (!s)
        return OPG_EINVAL;
    s->err[0] = '\0';
    OPGI_CHECK_ARG(s->err, operator_id);
    opg_registry *r = s->reg;
    opgi_call_begin(r);
    uint32_t slot = opgi_node_find(r, operator_id);
    if (slot == OPGI_NONE)
        return opgi_fail(s->err, OPG_ENOTFOUND, "no node with this operator id", NULL);
    f1_node *n = &s->nodes[slot];
    if (opgi_dec_is_zero(&n->commission))
        return opgi_fail(s->err, OPG_EZERO, "no commission to withdraw", NULL);
    int rc = opgi_events_reserve(r, SPLITTER_EVENTS_PER_CALL);
    if (rc == OPG_OK)
        rc = opgi_splitter_touch_reserve(s, 1);
    if (rc)
        return opgi_fail(s->err, rc, NULL, NULL);
    opg_u256 whole;
    opg_dec whole_dec;
    opg_dec_truncate_int(&whole, &n->commission);
    OPGI_MUST(opg_dec_from_int(&whole_dec, &whole));
    OPGI_MUST(opg_dec_sub(&n->commission, &n->commission, &whole_dec)); /* the fraction stays */
    OPGI_MUST(opg_dec_sub(&n->outstanding, &n->outstanding, &whole_dec));
    OPGI_MUST(opg_dec_sub(&s->outstanding, &s->outstanding, &whole_dec));
    OPGI_MUST(opg_dec_add(&s->paid_commission, &s->paid_commission, &whole_dec));
    opgi_splitter_touch_node(s, slot);
    if (!opgi_u256_is_zero(&whole)) {
        opg_event *e = opgi_event_push(r, OPG_EVENT_COMMISSION_PAID, &r->nodes[slot]);
        e->account = r->nodes[slot].operator_id;
        e->amount = whole;
    }
    opgi_splitter_sync_ledger(s);
    if (paid)
        *paid = whole;
    return OPG_OK;
}

int opg_splitter_fund_community_pool(opg_splitter *s, const opg_u256 *amount)
{
    if (!s)
        return OPG_EINVAL;
    s->err[0] = '\0';
    OPGI_CHECK_ARG(s->err, amount);
    opg_dec a, pool, fees;
    if (opg_dec_from_int(&a, amount) || opg_dec_add(&pool, &s->community_pool, &a) ||
        opg_dec_add(&fees, &s->fees, &a))
        return opgi_fail(s->err, OPG_EOVERFLOW, "amount too large", NULL);
    s->community_pool = pool;
    s->fees = fees;
    opgi_splitter_sync_ledger(s);
    return OPG_OK;
}

int opg_splitter_community_pool_spend(opg_splitter *s, const opg_u256 *amount)
{
    if (!s)
        return OPG_EINVAL;
    s->err[0] = '\0';
    OPGI_CHECK_ARG(s->err, amount);
    opg_dec a;
    if (opg_dec_from_int(&a, amount) || opg_dec_cmp(&a, &s->community_pool) > 0)
        return opgi_fail(s->err, OPG_EUNDERFLOW, "community pool holds less", NULL);
    OPGI_MUST(opg_dec_sub(&s->community_pool, &s->community_pool, &a));
    OPGI_MUST(opg_dec_add(&s->community_spent, &s->community_spent, &a));
    opgi_splitter_sync_ledger(s);
    return OPG_OK;
}

/* --------------------------------------------------------------- queries */

int opg_splitter_pending_rewards(opg_dec *rewards, const opg_splitter *s, const opg_id *delegator,
                                 const opg_id *operator_id, opg_height height)
{
    if (!rewards || !s || !delegator || !operator_id)
        return OPG_EINVAL;
    uint32_t slot = opgi_node_find(s->reg, operator_id);
    uint32_t del = slot == OPGI_NONE ? OPGI_NONE : opgi_del_find(s->reg, delegator, slot);
    if (del == OPGI_NONE)
        return OPG_ENOTFOUND;
    opg_dec v;
    int rc = rewards_now(&v, s, del, height);
    if (rc)
        return rc;
    opg_dec payable; /* as a withdrawal would pay it */
    if (opg_dec_sub(&payable, &s->nodes[slot].outstanding, &s->nodes[slot].commission) != OPG_OK)
        memset(&payable, 0, sizeof payable);
    if (opg_dec_cmp(&v, &payable) > 0)
        v = payable;
    *rewards = v;
    return OPG_OK;
}

int opg_splitter_node_rewards(opg_node_rewards *out, const opg_splitter *s, const opg_id *operator_id)
{
    if (!out || !s || !operator_id)
        return OPG_EINVAL;
    uint32_t slot = opgi_node_find(s->reg, operator_id);
    if (slot == OPGI_NONE)
        return OPG_ENOTFOUND;
    const f1_node *n = &s->nodes[slot];
    out->outstanding = n->outstanding;
    out->commission = n->commission;
    out->current = n->rewards;
    out->period = n->period;
    out->historical = n->n_hist - n->n_dead;
    out->slashes = n->n_slash;
    return OPG_OK;
}

void opg_splitter_totals_get(opg_splitter_totals *o, const opg_splitter *s)
{
    o->minted = s->minted;
    o->emitted = s->emitted;
    o->fees = s->fees;
    o->pending = s->pending;
    o->paid_delegators = s->paid_delegators;
    o->paid_commission = s->paid_commission;
    o->community_pool = s->community_pool;
    o->community_spent = s->community_spent;
    o->outstanding = s->outstanding;
}

int opg_splitter_check(opg_splitter *s)
{
    if (!s)
        return OPG_EINVAL;
    opg_dec in, out, sum_nodes = {{0, 0, 0, 0}};
    int bad = opg_dec_add(&in, &s->minted, &s->emitted) | opg_dec_add(&in, &in, &s->fees);
    bad |= opg_dec_add(&out, &s->pending, &s->paid_delegators) |
           opg_dec_add(&out, &out, &s->paid_commission) | opg_dec_add(&out, &out, &s->community_pool) |
           opg_dec_add(&out, &out, &s->community_spent) | opg_dec_add(&out, &out, &s->outstanding);
    if (bad || opg_dec_cmp(&in, &out) != 0)
        return opgi_fail(s->err, OPG_EINVARIANT, "tokens in and out of the splitter differ", NULL);
    for (uint32_t i = 0; i < s->reg->node_slots && i < s->n_nodes; i++) {
        const f1_node *n = &s->nodes[i];
        if (!s->reg->nodes[i].in_use)
            continue;
        if (!n->live)
            return opgi_fail(s->err, OPG_EINVARIANT, "a node has no reward state", NULL);
        if (opg_dec_cmp(&n->commission, &n->outstanding) > 0)
            return opgi_fail(s->err, OPG_EINVARIANT, "commission above outstanding", NULL);
        OPGI_MUST(opg_dec_add(&sum_nodes, &sum_nodes, &n->outstanding));
    }
    if (opg_dec_cmp(&sum_nodes, &s->outstanding) != 0)
        return opgi_fail(s->err, OPG_EINVARIANT, "node outstanding does not add up", NULL);
    return OPG_OK;
}
