/*
 * hyper.c - the hyperstaking handle: parameters, positions and their policies, the
 * target weights of a policy (selection, normalisation, cap), splits, and queries.
 * Deposits, withdrawals and epochs are in hyper_ops.c, saved state in hyper_state.c.
 */
#include "hyper_internal.h"

#include "num.h"

#include <stdlib.h>

static const uint64_t ONE_L[1] = {1};
static const uint64_t P_L[1] = {OPGI_P};

/* ------------------------------------------------------------ parameters */

static const opgi_param hyper_params[] = {
    {"hyper.max_positions_per_owner", OPGI_PARAM_U32,
     offsetof(opg_hyper_params, max_positions_per_owner), "1", "1000000"},
    {"hyper.max_nodes", OPGI_PARAM_U32, offsetof(opg_hyper_params, max_nodes), "1", "1000"},
    {"hyper.vault_decimals_offset", OPGI_PARAM_U32, offsetof(opg_hyper_params, vault_decimals_offset), "0",
     "18"},
    {"hyper.vault_node_cap", OPGI_PARAM_DEC, offsetof(opg_hyper_params, vault_node_cap), "0", "1"},
};

const opgi_param_table opgi_hyper_param_table = {hyper_params, OPGI_ARRAY_LEN(hyper_params),
                                                 sizeof(opg_hyper_params), NULL};

void opg_hyper_params_init(opg_hyper_params *p)
{
    memset(p, 0, sizeof *p);
    p->max_positions_per_owner = 100;
    p->max_nodes = 32;
    opg_dec_from_u64(&p->vault_node_cap, 1);
    p->vault_decimals_offset = 6;
}

int opg_hyper_param_set(opg_hyper *h, const char *key, const char *value)
{
    if (!h)
        return OPG_EINVAL;
    h->err[0] = '\0';
    return opgi_params_set(&opgi_hyper_param_table, &h->params, key, value, h->err);
}

int opg_hyper_param_get(char *buf, size_t cap, size_t *needed, const opg_hyper *h, const char *key)
{
    char scratch[OPGI_ERRMSG_MAX];
    if (!h)
        return OPG_EINVAL;
    return opgi_params_get(&opgi_hyper_param_table, &h->params, key, buf, cap, needed, scratch);
}

const char *opg_hyper_param_key(size_t i) { return opgi_params_key(&opgi_hyper_param_table, i); }

const char *opg_hyper_last_error(const opg_hyper *h) { return h ? h->err : ""; }

/* ---------------------------------------------------------------- handle */

int opgi_hyper_alloc(opg_hyper **out, opg_registry *r, opg_splitter *s,
                     const opg_hyper_params *params, const opg_allocator *alloc)
{
    char err[OPGI_ERRMSG_MAX];
    if (!out || !r || !s || s->reg != r)
        return OPG_EINVAL;
    opg_hyper_params p;
    if (params)
        p = *params;
    else
        opg_hyper_params_init(&p);
    int rc = opgi_params_check(&opgi_hyper_param_table, &p, err);
    if (rc)
        return rc;
    opg_allocator a;
    opgi_allocator_init(&a, alloc);
    opg_hyper *h = opgi_alloc(&a, sizeof *h);
    if (!h)
        return OPG_ENOMEM;
    memset(h, 0, sizeof *h);
    h->alloc = a;
    h->reg = r;
    h->spl = s;
    h->params = p;
    *out = h;
    return OPG_OK;
}

int opg_hyper_new(opg_hyper **out, opg_registry *r, opg_splitter *s, const opg_hyper_params *params,
                  const opg_allocator *alloc)
{
    return opgi_hyper_alloc(out, r, s, params, alloc);
}

void opgi_hpos_free(opg_hyper *h, opgi_hpos *p)
{
    if (!p)
        return;
    opgi_free(&h->alloc, p->weights, (size_t)p->n_weights * sizeof *p->weights);
    opgi_hvault_free(h, p->vault);
    opgi_free(&h->alloc, p->routes, (size_t)p->n_routes * sizeof *p->routes);
    opgi_free(&h->alloc, p, sizeof *p);
}

void opgi_hyper_release(opg_hyper *h)
{
    const opg_allocator a = h->alloc;
    for (size_t i = 0; i < h->n_pos; i++)
        opgi_hpos_free(h, h->pos[i]);
    opgi_free(&a, h->pos, h->cap_pos * sizeof *h->pos);
    opgi_free(&a, h->owners, h->cap_owners * sizeof *h->owners);
    if (h->scores)
        opgi_free(&a, h->scores, (h->n_scores ? h->n_scores : 1) * sizeof *h->scores);
    for (size_t i = 0; i < h->n_claims; i++)
        opgi_hclaim_free(h, &h->claims[i]);
    opgi_free(&a, h->claims, h->cap_claims * sizeof *h->claims);
    opgi_free(&a, h->reports, h->cap_reports * sizeof *h->reports);
    opgi_free(&a, h->moves, h->cap_moves * sizeof *h->moves);
    opgi_free(&a, h->events, h->cap_events * sizeof *h->events);
    opgi_free(&a, h, sizeof *h);
}

void opg_hyper_free(opg_hyper *h)
{
    if (h)
        opgi_hyper_release(h);
}

const opg_hyper_move *opg_hyper_moves(const opg_hyper *h, size_t *count)
{
    if (count)
        *count = h ? h->n_moves : 0;
    return h ? h->moves : NULL;
}

const opg_event *opg_hyper_events(const opg_hyper *h, size_t *count)
{
    if (count)
        *count = h ? h->n_events : 0;
    return h ? h->events : NULL;
}

/* ------------------------------------------------------------- positions */

size_t opgi_hpos_search(const opg_hyper *h, const opg_id *id, int *found)
{
    size_t lo = 0, hi = h->n_pos;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = opg_id_cmp(&h->pos[mid]->id, id);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = 0;
    return lo;
}

opgi_hpos *opgi_hpos_find(const opg_hyper *h, const opg_id *id)
{
    int found;
    size_t at = opgi_hpos_search(h, id, &found);
    return found ? h->pos[at] : NULL;
}

static size_t owner_search(const opg_hyper *h, const opg_id *owner, int *found)
{
    size_t lo = 0, hi = h->n_owners;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = opg_id_cmp(&h->owners[mid].owner, owner);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = 0;
    return lo;
}

/* Counts one more position of owner; with reserve_only, only makes room (may fail). */
int opgi_hyper_owner_add(opg_hyper *h, const opg_id *owner, int reserve_only)
{
    int found;
    size_t at = owner_search(h, owner, &found);
    if (reserve_only) {
        if (found || h->n_owners < h->cap_owners)
            return OPG_OK;
        size_t ncap = h->cap_owners ? h->cap_owners * 2 : 16;
        opgi_howner *o = opgi_realloc(&h->alloc, h->owners, h->cap_owners * sizeof *o, ncap * sizeof *o);
        if (!o)
            return OPG_ENOMEM;
        h->owners = o;
        h->cap_owners = ncap;
        return OPG_OK;
    }
    if (found) {
        h->owners[at].count++;
        return OPG_OK;
    }
    memmove(&h->owners[at + 1], &h->owners[at], (h->n_owners - at) * sizeof *h->owners);
    h->owners[at].owner = *owner;
    h->owners[at].count = 1;
    h->n_owners++;
    return OPG_OK;
}

void opgi_hyper_owner_remove(opg_hyper *h, const opg_id *owner)
{
    int found;
    size_t at = owner_search(h, owner, &found);
    if (!found)
        return;
    if (--h->owners[at].count == 0) {
        memmove(&h->owners[at], &h->owners[at + 1], (h->n_owners - at - 1) * sizeof *h->owners);
        h->n_owners--;
    }
}

static int cmp_weight(const void *a, const void *b)
{
    return opg_id_cmp(&((const opg_hyper_weight *)a)->node, &((const opg_hyper_weight *)b)->node);
}

int opgi_hyper_check_policy(opg_hyper *h, const opg_hyper_policy *p, int check_nodes)
{
    opg_dec one;
    opg_dec_from_u64(&one, 1);
    if (!p)
        return opgi_fail(h->err, OPG_EINVAL, "no policy", NULL);
    if (p->kind != OPG_HYPER_FIXED && p->kind != OPG_HYPER_PERFORMANCE && p->kind != OPG_HYPER_HOST)
        return opgi_fail(h->err, OPG_EINVAL, "unknown policy kind", NULL);
    if (opg_dec_cmp(&p->max_churn, &one) > 0)
        return opgi_fail(h->err, OPG_EINVAL, "max_churn must be in [0, 1]", NULL);
    if (p->kind == OPG_HYPER_HOST && opg_dec_cmp(&p->max_commission, &one) > 0)
        return opgi_fail(h->err, OPG_EINVAL, "max_commission must be in [0, 1]", NULL);
    if (opgi_dec_is_zero(&p->cap) || opg_dec_cmp(&p->cap, &one) > 0)
        return opgi_fail(h->err, OPG_EINVAL, "cap must be in (0, 1]", NULL);
    if (p->max_nodes == 0 || p->max_nodes > h->params.max_nodes)
        return opgi_fail(h->err, OPG_EINVAL, "max_nodes must be in 1..hyper.max_nodes", NULL);
    if (p->auto_compound != 0 && p->auto_compound != 1)
        return opgi_fail(h->err, OPG_EINVAL, "auto_compound is 0 or 1", NULL);
    if (opg_dec_cmp(&p->rebalance_threshold, &one) > 0)
        return opgi_fail(h->err, OPG_EINVAL, "rebalance_threshold must be in [0, 1]", NULL);
    if (p->kind == OPG_HYPER_PERFORMANCE) {
        if (p->n_weights || p->weights)
            return opgi_fail(h->err, OPG_EINVAL, "a performance policy lists no weights", NULL);
        if (opg_dec_cmp(&p->max_commission, &one) > 0)
            return opgi_fail(h->err, OPG_EINVAL, "max_commission must be in [0, 1]", NULL);
        return OPG_OK;
    }
    if (p->kind == OPG_HYPER_HOST && p->n_weights == 0) {
        if (p->weights)
            return opgi_fail(h->err, OPG_EINVAL, "no weights: weights NULL", NULL);
        return OPG_OK;
    }
    if (!p->weights || p->n_weights == 0 || p->n_weights > p->max_nodes)
        return opgi_fail(h->err, OPG_EINVAL, "a fixed policy lists 1..max_nodes weights", NULL);
    opg_dec sum = {{0, 0, 0, 0}};
    for (size_t i = 0; i < p->n_weights; i++) {
        if (opgi_dec_is_zero(&p->weights[i].weight))
            return opgi_fail(h->err, OPG_EINVAL, "fixed weights must be positive", NULL);
        if (opg_dec_add(&sum, &sum, &p->weights[i].weight) != OPG_OK)
            return opgi_fail(h->err, OPG_EOVERFLOW, "fixed weights add up beyond the decimal range", NULL);
        for (size_t j = 0; j < i; j++)
            if (opg_id_cmp(&p->weights[i].node, &p->weights[j].node) == 0)
                return opgi_fail(h->err, OPG_EINVAL, "a node is listed twice", NULL);
        if (check_nodes && opgi_node_find(h->reg, &p->weights[i].node) == OPGI_NONE)
            return opgi_fail(h->err, OPG_ENOTFOUND, "a listed node does not exist", NULL);
    }
    return OPG_OK;
}

/* Builds a position record from a checked policy (weights copied and sorted). */
static int make_position(opgi_hpos **out, opg_hyper *h, const opg_hyper_policy *p)
{
    opgi_hpos *q = opgi_alloc(&h->alloc, sizeof *q);
    if (!q)
        return OPG_ENOMEM;
    memset(q, 0, sizeof *q);
    if (p->n_weights) {
        q->weights = opgi_alloc_array(&h->alloc, p->n_weights, sizeof *q->weights);
        if (!q->weights) {
            opgi_free(&h->alloc, q, sizeof *q);
            return OPG_ENOMEM;
        }
        memcpy(q->weights, p->weights, p->n_weights * sizeof *q->weights);
        q->n_weights = (uint32_t)p->n_weights;
        qsort(q->weights, p->n_weights, sizeof *q->weights, cmp_weight);
    }
    q->kind = (uint8_t)p->kind;
    q->auto_compound = (uint8_t)p->auto_compound;
    q->max_nodes = p->max_nodes;
    q->max_commission = p->kind != OPG_HYPER_FIXED ? p->max_commission : (opg_dec){{0, 0, 0, 0}};
    q->max_churn = p->max_churn;
    q->cap = p->cap;
    q->threshold = p->rebalance_threshold;
    *out = q;
    return OPG_OK;
}

static void call_begin(opg_hyper *h)
{
    h->err[0] = '\0';
    h->n_moves = 0;
    h->n_events = 0;
    h->n_reports = 0;
}

/* The id has stake or a role in the registry already: a node, a delegation or an
 * unbonding entry (its own chain of entries, not a walk of the whole queue). */
static int id_in_registry(const opg_registry *r, const opg_id *id)
{
    size_t n_ubd = 0;
    (void)opg_registry_unbondings_of(NULL, 0, &n_ubd, r, id); /* OPG_EBUFS with the count */
    return opgi_node_find(r, id) != OPGI_NONE || opgi_del_first_of(r, id) != OPGI_NONE || n_ubd;
}

int opg_hyper_position_create(opg_hyper *h, const opg_id *position, const opg_id *owner,
                              const opg_hyper_policy *policy, opg_height height)
{
    if (!h)
        return OPG_EINVAL;
    call_begin(h);
    OPGI_CHECK_ARG(h->err, position && owner);
    int rc = opgi_hyper_check_policy(h, policy, 1);
    if (rc)
        return rc;
    int found;
    size_t at = opgi_hpos_search(h, position, &found);
    if (found)
        return opgi_fail(h->err, OPG_EEXISTS, "a position with this id exists", NULL);
    if (id_in_registry(h->reg, position))
        return opgi_fail(h->err, OPG_EEXISTS, "the id is a node or already has stake in the registry", NULL);
    size_t oat = owner_search(h, owner, &found);
    if (found && h->owners[oat].count >= h->params.max_positions_per_owner)
        return opgi_fail(h->err, OPG_ELIMIT, "owner at hyper.max_positions_per_owner", NULL);
    if ((rc = opgi_hyper_owner_add(h, owner, 1)) != OPG_OK)
        return opgi_fail(h->err, rc, NULL, NULL);
    if (h->n_pos == h->cap_pos) {
        size_t ncap = h->cap_pos ? h->cap_pos * 2 : 16;
        opgi_hpos **np = opgi_realloc(&h->alloc, h->pos, h->cap_pos * sizeof *np, ncap * sizeof *np);
        if (!np)
            return opgi_fail(h->err, OPG_ENOMEM, NULL, NULL);
        h->pos = np;
        h->cap_pos = ncap;
    }
    opgi_hpos *q;
    if ((rc = make_position(&q, h, policy)) != OPG_OK)
        return opgi_fail(h->err, rc, NULL, NULL);
    q->id = *position;
    q->owner = *owner;
    q->created_height = height;
    memmove(&h->pos[at + 1], &h->pos[at], (h->n_pos - at) * sizeof *h->pos);
    h->pos[at] = q;
    h->n_pos++;
    opgi_hyper_owner_add(h, owner, 0);
    return OPG_OK;
}

int opg_hyper_position_set_policy(opg_hyper *h, const opg_id *position, const opg_hyper_policy *policy)
{
    if (!h)
        return OPG_EINVAL;
    call_begin(h);
    OPGI_CHECK_ARG(h->err, position);
    opgi_hpos *p = opgi_hpos_find(h, position);
    if (!p)
        return opgi_fail(h->err, OPG_ENOTFOUND, "no such position", NULL);
    int rc = opgi_hyper_check_policy(h, policy, 1);
    if (rc)
        return rc;
    if (p->vault && !policy->auto_compound)
        return opgi_fail(h->err, OPG_EINVAL, "a vault's policy must auto-compound", NULL);
    opgi_hpos *q;
    if ((rc = make_position(&q, h, policy)) != OPG_OK)
        return opgi_fail(h->err, rc, NULL, NULL);
    /* the new policy, the old identity and totals */
    opg_hyper_weight *old_w = p->weights;
    uint32_t old_n = p->n_weights;
    p->kind = q->kind;
    p->auto_compound = q->auto_compound;
    p->max_nodes = q->max_nodes;
    p->max_commission = q->max_commission;
    p->cap = q->cap;
    p->threshold = q->threshold;
    p->max_churn = q->max_churn;
    p->weights = q->weights;
    p->n_weights = q->n_weights;
    opgi_free(&h->alloc, old_w, (size_t)old_n * sizeof *old_w);
    opgi_free(&h->alloc, q, sizeof *q);
    return OPG_OK;
}

int opg_hyper_position_close(opg_hyper *h, const opg_id *position)
{
    if (!h)
        return OPG_EINVAL;
    call_begin(h);
    OPGI_CHECK_ARG(h->err, position);
    int found;
    size_t at = opgi_hpos_search(h, position, &found);
    if (!found)
        return opgi_fail(h->err, OPG_ENOTFOUND, "no such position", NULL);
    if (id_in_registry(h->reg, position))
        return opgi_fail(h->err, OPG_ESTATUS, "the position still has delegations or unbonding entries", NULL);
    opgi_hpos *p = h->pos[at];
    if (!opgi_u256_is_zero(&p->routed_in))
        return opgi_fail(h->err, OPG_ESTATUS, "the position holds routed-in rewards (run an epoch)", NULL);
    for (size_t i = 0; i < h->n_pos; i++)
        for (uint32_t k = 0; k < h->pos[i]->n_routes; k++)
            if (h->pos[i]->routes[k].kind == OPG_HYPER_ROUTE_POSITION &&
                opg_id_cmp(&h->pos[i]->routes[k].dst, position) == 0)
                return opgi_fail(h->err, OPG_ESTATUS, "another position routes rewards to this one", NULL);
    if (p->vault && (p->vault->n_holders || !opgi_u256_is_zero(&p->vault->idle)))
        return opgi_fail(h->err, OPG_ESTATUS, "the vault still has holders, claims or idle tokens", NULL);
    opgi_hyper_owner_remove(h, &p->owner);
    memmove(&h->pos[at], &h->pos[at + 1], (h->n_pos - at - 1) * sizeof *h->pos);
    h->n_pos--;
    opgi_hpos_free(h, p);
    return OPG_OK;
}

/* --------------------------------------------------------------- targets */

static int score_search(const opg_hyper_score *t, size_t n, const opg_id *op)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = opg_id_cmp(&t[mid].node, op);
        if (c == 0)
            return (int)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

void opgi_hyper_perf(opg_dec *out, const opg_hyper *h, const opg_hyper_score *table, size_t n,
                     int has_table, uint32_t slot)
{
    if (!has_table) {
        opg_dec_from_u64(out, 1);
        return;
    }
    int at = score_search(table, n, &h->reg->nodes[slot].operator_id);
    if (at < 0)
        memset(out, 0, sizeof *out);
    else
        *out = table[at].score;
}

/* Ranked order: score descending, then operator id ascending. */
typedef struct rank_item {
    opgi_hcand c;
    const opg_id *op;
} rank_item;

static int cmp_rank(const void *a, const void *b)
{
    const rank_item *x = a, *y = b;
    int c = opg_dec_cmp(&y->c.score, &x->c.score);
    return c ? c : opg_id_cmp(x->op, y->op);
}

static int node_usable(const opgi_node *n)
{
    int insolvent = opgi_u256_is_zero(&n->tokens) && !opgi_dec_is_zero(&n->delegator_shares);
    return n->in_use && !n->jailed && !insolvent;
}

int opgi_hyper_eligible(const opg_registry *r, uint32_t slot, const opg_dec *max_commission)
{
    const opgi_node *n = &r->nodes[slot];
    return node_usable(n) && n->status == OPG_NODE_BONDED && opg_dec_cmp(&n->rate, max_commission) <= 0;
}

int opg_hyper_set_strategy_fn(opg_hyper *h, opg_hyper_strategy_fn fn, void *user)
{
    if (!h)
        return OPG_EINVAL;
    h->strategy = fn;
    h->strategy_user = fn ? user : NULL;
    return OPG_OK;
}

int opgi_hyper_snap(opgi_hsnap *sn, const opg_hyper *h, const opg_hyper_score *table, size_t n,
                    int has_table)
{
    const opg_registry *r = h->reg;
    memset(sn, 0, sizeof *sn);
    uint32_t slots = r->node_slots ? r->node_slots : 1;
    uint8_t *usable = opgi_alloc(&h->alloc, slots);
    rank_item *items = opgi_alloc_array(&h->alloc, r->node_count ? r->node_count : 1, sizeof *items);
    opgi_hcand *ranked = opgi_alloc_array(&h->alloc, r->node_count ? r->node_count : 1, sizeof *ranked);
    if (!usable || !items || !ranked) {
        opgi_free(&h->alloc, usable, slots);
        opgi_free(&h->alloc, items, (r->node_count ? r->node_count : 1) * sizeof *items);
        opgi_free(&h->alloc, ranked, (r->node_count ? r->node_count : 1) * sizeof *ranked);
        return OPG_ENOMEM;
    }
    memset(usable, 0, slots);
    size_t k = 0;
    opg_dec one;
    opg_dec_from_u64(&one, 1);
    for (uint32_t i = 0; i < r->node_count; i++) {
        uint32_t s = r->by_operator[i];
        const opgi_node *nd = &r->nodes[s];
        usable[s] = (uint8_t)node_usable(nd);
        if (!usable[s] || nd->status != OPG_NODE_BONDED)
            continue;
        /* score = mul_truncate(mul_truncate(Dec(power), perf), 1 - rate):
         * the first is power * raw(perf) exactly; the second truncates */
        opg_dec perf, keep, score;
        opgi_hyper_perf(&perf, h, table, n, has_table, s);
        uint64_t pw[1] = {opgi_node_power(r, nd)};
        /* power < 2^63 and perf <= 1: below 2^124; keep <= 1 */
        OPGI_HYPER_EXACT(NULL, opgi_muldiv(score.limb, 4, pw, 1, perf.limb, 4, ONE_L, 1, OPGI_TRUNC));
        if (opg_dec_sub(&keep, &one, &nd->rate) != OPG_OK)
            memset(&keep, 0, sizeof keep);
        OPGI_HYPER_EXACT(NULL, opg_dec_mul_truncate(&score, &score, &keep));
        if (opgi_dec_is_zero(&score))
            continue;
        items[k].c.slot = s;
        items[k].c.score = score;
        items[k].c.rate = nd->rate;
        items[k++].op = &nd->operator_id;
    }
    qsort(items, k, sizeof *items, cmp_rank);
    for (size_t i = 0; i < k; i++)
        ranked[i] = items[i].c;
    opgi_free(&h->alloc, items, (r->node_count ? r->node_count : 1) * sizeof *items);
    sn->usable = usable;
    sn->n_slots = slots;
    sn->ranked = ranked;
    sn->n_ranked = k;
    sn->cap_ranked = r->node_count ? r->node_count : 1;
    return OPG_OK;
}

void opgi_hyper_snap_free(const opg_hyper *h, opgi_hsnap *sn)
{
    opgi_free(&h->alloc, sn->usable, sn->n_slots);
    opgi_free(&h->alloc, sn->ranked, sn->cap_ranked * sizeof *sn->ranked);
    memset(sn, 0, sizeof *sn);
}

static int cmp_tgt(const void *a, const void *b)
{
    return opg_id_cmp(&((const opgi_htgt *)a)->op, &((const opgi_htgt *)b)->op);
}

/*
 * The cap rule: c = max(cap, quo_truncate(1, n)); every weight above c becomes c and
 * the excess is spread over the uncapped weights in proportion, each share
 * trunc(excess * w_j / sum_uncapped) (the truncation dust stays unassigned and ends in
 * the split remainder); repeated until no weight is above c. Each round caps at least
 * one more node, so it ends after at most n + 1 rounds.
 */
static void apply_cap(opgi_htgt *t, size_t n, const opg_dec *cap)
{
    if (n == 0)
        return;
    opg_dec c = *cap, eq;
    uint64_t nn[1] = {n};
    /* quo_truncate(1, n) = trunc(10^18 / n) raw */
    OPGI_HYPER_EXACT(NULL, opgi_muldiv(eq.limb, 4, P_L, 1, ONE_L, 1, nn, 1, OPGI_TRUNC));
    if (opg_dec_cmp(&c, &eq) < 0)
        c = eq;
    for (size_t i = 0; i < n; i++)
        t[i].capped = 0;
    for (;;) {
        opg_dec excess = {{0, 0, 0, 0}}, u = {{0, 0, 0, 0}}, d;
        int any = 0;
        for (size_t i = 0; i < n; i++)
            if (!t[i].capped && opg_dec_cmp(&t[i].w, &c) > 0) {
                /* the weights add up to at most 1 before and after each round */
                OPGI_HYPER_EXACT(NULL, opg_dec_sub(&d, &t[i].w, &c));
                OPGI_HYPER_EXACT(NULL, opg_dec_add(&excess, &excess, &d));
                t[i].w = c;
                t[i].capped = 1;
                any = 1;
            }
        if (!any)
            return;
        for (size_t i = 0; i < n; i++)
            if (!t[i].capped)
                OPGI_HYPER_EXACT(NULL, opg_dec_add(&u, &u, &t[i].w));
        if (opgi_dec_is_zero(&u))
            return;
        for (size_t i = 0; i < n; i++)
            if (!t[i].capped) {
                OPGI_HYPER_EXACT(NULL, opgi_muldiv(d.limb, 4, excess.limb, 4, t[i].w.limb, 4, u.limb, 4, OPGI_TRUNC));
                OPGI_HYPER_EXACT(NULL, opg_dec_add(&t[i].w, &t[i].w, &d));
            }
    }
}

int opgi_hyper_targets(opgi_htgt *out, size_t *n_out, const opg_hyper *h, const opgi_hpos *p,
                       const opgi_hsnap *sn)
{
    const opg_registry *r = h->reg;
    size_t n = 0;
    opg_dec sum = {{0, 0, 0, 0}};
    if (p->kind != OPG_HYPER_PERFORMANCE) {
        for (uint32_t i = 0; i < p->n_weights; i++) {
            uint32_t s = opgi_node_find(r, &p->weights[i].node);
            if (s == OPGI_NONE || s >= sn->n_slots || !sn->usable[s])
                continue;
            if (p->kind == OPG_HYPER_HOST && !opgi_hyper_eligible(r, s, &p->max_commission))
                continue;
            out[n].op = p->weights[i].node;
            out[n].slot = s;
            out[n].w = p->weights[i].weight;
            if (opg_dec_add(&sum, &sum, &out[n].w) != OPG_OK)
                return OPG_EOVERFLOW;
            n++;
        }
    } else {
        for (size_t i = 0; i < sn->n_ranked && n < p->max_nodes; i++) {
            const opgi_hcand *c = &sn->ranked[i];
            if (opg_dec_cmp(&c->rate, &p->max_commission) > 0)
                continue;
            out[n].op = r->nodes[c->slot].operator_id;
            out[n].slot = c->slot;
            out[n].w = c->score;
            /* at most max_nodes <= 1000 scores below 2^124 each */
            OPGI_HYPER_EXACT(NULL, opg_dec_add(&sum, &sum, &c->score));
            n++;
        }
        qsort(out, n, sizeof *out, cmp_tgt);
    }
    /* normalise: w_i = quo_truncate(w_i, sum), so the weights add up to at most 1 */
    for (size_t i = 0; i < n; i++) /* 0 < w_i <= sum */
        OPGI_HYPER_EXACT(NULL, opgi_muldiv(out[i].w.limb, 4, out[i].w.limb, 4, P_L, 1, sum.limb, 4, OPGI_TRUNC));
    apply_cap(out, n, &p->cap);
    *n_out = n;
    return OPG_OK;
}

void opgi_hyper_split(opg_u256 *parts, const opg_u256 *amount, const opgi_htgt *t, size_t n)
{
    if (n == 0)
        return;
    opg_u256 sum = {{0, 0, 0, 0}}, rest;
    size_t best = 0;
    for (size_t i = 0; i < n; i++) {
        /* trunc(amount * w_i / 10^18): never more than amount since w_i <= 1 */
        OPGI_HYPER_EXACT(NULL, opgi_muldiv(parts[i].limb, 4, amount->limb, 4, t[i].w.limb, 4, P_L, 1, OPGI_TRUNC));
        OPGI_HYPER_EXACT(NULL, opg_u256_add(&sum, &sum, &parts[i]));
        if (opg_dec_cmp(&t[i].w, &t[best].w) > 0)
            best = i; /* strictly larger: the lowest id keeps a tie (t is in id order) */
    }
    OPGI_HYPER_EXACT(NULL, opg_u256_sub(&rest, amount, &sum)); /* the weights add up to at most 1 */
    OPGI_HYPER_EXACT(NULL, opg_u256_add(&parts[best], &parts[best], &rest));
}

void opgi_hyper_del_tokens(opg_u256 *out, const opg_registry *r, uint32_t del)
{
    const opgi_delegation *d = &r->dels[del];
    opg_dec t;
    memset(out, 0, sizeof *out);
    if (opgi_tokens_from_shares(&t, &r->nodes[d->node], &d->shares, OPGI_HALF_EVEN) == OPG_OK)
        opg_dec_truncate_int(out, &t);
}

/* ---------------------------------------------------------------- queries */

int opg_hyper_position_get(opg_hyper_position_info *out, const opg_hyper *h, const opg_id *position)
{
    if (!out || !h || !position)
        return OPG_EINVAL;
    const opgi_hpos *p = opgi_hpos_find(h, position);
    if (!p)
        return OPG_ENOTFOUND;
    opg_hyper_position_info o;
    memset(&o, 0, sizeof o);
    o.id = p->id;
    o.owner = p->owner;
    o.kind = (opg_hyper_policy_kind)p->kind;
    o.n_weights = p->n_weights;
    o.max_commission = p->max_commission;
    o.cap = p->cap;
    o.max_nodes = p->max_nodes;
    o.auto_compound = p->auto_compound;
    o.rebalance_threshold = p->threshold;
    o.max_churn = p->max_churn;
    o.created_height = p->created_height;
    o.deposited = p->deposited;
    o.withdrawn = p->withdrawn;
    o.compounded = p->compounded;
    o.paid_out = p->paid_out;
    o.routed_in = p->routed_in;
    o.n_routes = p->n_routes;
    const opg_registry *r = h->reg;
    for (uint32_t d = opgi_del_first_of(r, position); d != OPGI_NONE; d = r->dels[d].next) {
        opg_u256 t;
        opgi_hyper_del_tokens(&t, r, d);
        if (opg_u256_add(&o.staked, &o.staked, &t) != OPG_OK)
            return OPG_EOVERFLOW; /* only hand-made stake beyond 2^256 in total */
        o.n_delegations++;
    }
    *out = o;
    return OPG_OK;
}

size_t opg_hyper_position_count(const opg_hyper *h) { return h ? h->n_pos : 0; }

int opg_hyper_position_at(opg_id *position, const opg_hyper *h, size_t i)
{
    if (!position || !h)
        return OPG_EINVAL;
    if (i >= h->n_pos)
        return OPG_ENOTFOUND;
    *position = h->pos[i]->id;
    return OPG_OK;
}

int opg_hyper_position_weights(opg_hyper_weight *out, size_t cap, size_t *count, const opg_hyper *h,
                               const opg_id *position)
{
    if (!h || !position || (!out && cap))
        return OPG_EINVAL;
    const opgi_hpos *p = opgi_hpos_find(h, position);
    if (!p)
        return OPG_ENOTFOUND;
    if (count)
        *count = p->n_weights;
    if (p->n_weights > cap)
        return OPG_EBUFS;
    if (p->n_weights)
        memcpy(out, p->weights, p->n_weights * sizeof *out);
    return OPG_OK;
}

int opg_hyper_targets(opg_hyper_weight *out, size_t cap, size_t *count, const opg_hyper *h,
                      const opg_id *position)
{
    if (!h || !position || (!out && cap))
        return OPG_EINVAL;
    const opgi_hpos *p = opgi_hpos_find(h, position);
    if (!p)
        return OPG_ENOTFOUND;
    opgi_hsnap sn;
    int rc = opgi_hyper_snap(&sn, h, h->scores, h->n_scores, h->has_scores);
    if (rc)
        return rc;
    size_t nt = (size_t)h->reg->node_count + 1, n = 0;
    opgi_htgt *t = opgi_alloc_array(&h->alloc, nt, sizeof *t);
    if (!t) {
        opgi_hyper_snap_free(h, &sn);
        return OPG_ENOMEM;
    }
    rc = opgi_hyper_targets(t, &n, h, p, &sn);
    if (rc == OPG_OK) {
        if (count)
            *count = n;
        if (n > cap)
            rc = OPG_EBUFS;
        else
            for (size_t i = 0; i < n; i++) {
                out[i].node = t[i].op;
                out[i].weight = t[i].w;
            }
    }
    opgi_free(&h->alloc, t, nt * sizeof *t);
    opgi_hyper_snap_free(h, &sn);
    return rc;
}
