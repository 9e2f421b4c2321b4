/*
 * registry_stake.c - stake movements: delegate, undelegate, redelegate, cancel
 * unbonding, and x/staking's Slash. Each public call checks everything first
 * (including the engines' prepare), then applies with nothing left that can fail.
 */
#include "registry_ops.h"

#include "num.h"

#include <stdlib.h>

static const uint64_t P_ONE[1] = {OPGI_P};

/* time.Time{} of Go, 0001-01-01T00:00:00Z, in Unix seconds */
#define GO_ZERO_TIME INT64_C(-62135596800)

static void hooks_before_created(opg_registry *r, uint32_t node)
{
    for (size_t i = 0; i < r->n_engines; i++)
        if (r->engines[i].before_delegation_created)
            r->engines[i].before_delegation_created(r->engines[i].ctx, r, node);
}

static void hooks_before_modified(opg_registry *r, uint32_t del)
{
    for (size_t i = 0; i < r->n_engines; i++)
        if (r->engines[i].before_delegation_modified)
            r->engines[i].before_delegation_modified(r->engines[i].ctx, r, del);
}

static void hooks_after_modified(opg_registry *r, uint32_t del)
{
    for (size_t i = 0; i < r->n_engines; i++)
        if (r->engines[i].after_delegation_modified)
            r->engines[i].after_delegation_modified(r->engines[i].ctx, r, del);
}

static int node_insolvent(const opgi_node *n)
{
    return opgi_u256_is_zero(&n->tokens) && !opgi_dec_is_zero(&n->delegator_shares);
}

/* shares_from_tokens: trunc(delegator_shares * amount / tokens), a Dec (Cosmos
 * MulInt then QuoInt; its Truncated variant gives the same value). */
static int shares_from_tokens(opg_dec *out, const opgi_node *n, const opg_u256 *amount)
{
    return opgi_muldiv(out->limb, 4, n->delegator_shares.limb, 4, amount->limb, 4,
                       n->tokens.limb, 4, OPGI_TRUNC);
}

/* -------------------------------------------------------------- delegate */

int opgi_check_delegate(opg_registry *r, uint32_t node, uint32_t del, const opg_u256 *amount,
                        opg_dec *issued)
{
    const opgi_node *n = &r->nodes[node];
    opg_u256 t;
    opg_dec s;
    int rc;
    if (opgi_u256_is_zero(amount))
        return opgi_fail(r->err, OPG_EZERO, "amount is zero", NULL);
    if (node_insolvent(n))
        return opgi_fail(r->err, OPG_EINSOLVENT, NULL, NULL);
    if (opgi_dec_is_zero(&n->delegator_shares))
        rc = opg_dec_from_int(issued, amount); /* the first delegation sets the rate 1:1 */
    else
        rc = shares_from_tokens(issued, n, amount);
    if (rc || opg_u256_add(&t, &n->tokens, amount) || opg_dec_add(&s, &n->delegator_shares, issued) ||
        (del != OPGI_NONE && opg_dec_add(&s, &r->dels[del].shares, issued)))
        return opgi_fail(r->err, OPG_EOVERFLOW, "delegation amount too large", NULL);
    return OPG_OK;
}

void opgi_apply_delegate(opg_registry *r, const opg_id *delegator, uint32_t node, uint32_t del,
                         const opg_u256 *amount, const opg_dec *issued)
{
    if (del != OPGI_NONE)
        hooks_before_modified(r, del);
    else
        hooks_before_created(r, node);
    opgi_node *n = &r->nodes[node];
    /* opgi_check_delegate proved that none of these overflows */
    (void)OPGI_NEVER(r->err, opg_u256_add(&n->tokens, &n->tokens, amount) ||
                                 opg_dec_add(&n->delegator_shares, &n->delegator_shares, issued));
    if (del == OPGI_NONE)
        del = opgi_del_add(r, delegator, node);
    (void)OPGI_NEVER(r->err, opg_dec_add(&r->dels[del].shares, &r->dels[del].shares, issued));
    opgi_touch_node(r, node);
    opgi_touch_delegation(r, del);
    hooks_after_modified(r, del);
}

/* delegate: before created or modified, after modified */
size_t opgi_events_delegate(const opg_registry *r) { return opgi_engine_events(r, 2); }

int opgi_poa_refuse(opg_registry *r, const char *what)
{
    if (!r->params.poa)
        return OPG_OK;
    return opgi_fail(r->err, OPG_EPOA, what,
                     "staking.poa is on: nodes and their stake change only by governance proposals");
}

int opgi_stake_call_begin(opg_registry *r, opg_height height, opg_time now)
{
    if (!r)
        return OPG_EINVAL;
    opgi_call_begin(r);
    r->cur_height = height;
    r->cur_time = now;
    return OPG_OK;
}

int opg_registry_delegate(opg_dec *shares_issued, opg_registry *r, const opg_id *delegator,
                          const opg_id *operator_id, const opg_u256 *amount, opg_height height,
                          opg_time now)
{
    int rc = opgi_stake_call_begin(r, height, now);
    if (rc)
        return rc;
    OPGI_CHECK_ARG(r->err, delegator && operator_id && amount);
    if ((rc = opgi_poa_refuse(r, "delegation refused")) != OPG_OK)
        return rc;
    uint32_t node = opgi_node_find(r, operator_id);
    if (node == OPGI_NONE)
        return opgi_fail(r->err, OPG_ENOTFOUND, "no node with this operator id", NULL);
    uint32_t del = opgi_del_find(r, delegator, node);
    opg_dec issued;
    if ((rc = opgi_check_delegate(r, node, del, amount, &issued)) != OPG_OK)
        return rc;
    if ((del == OPGI_NONE && (rc = opgi_del_reserve(r, 1)) != OPG_OK) ||
        (rc = opgi_events_reserve(r, opgi_events_delegate(r))) != OPG_OK)
        return opgi_fail(r->err, rc, NULL, NULL);
    opgi_plan plan = {&node, del == OPGI_NONE ? 1u : 0u, &del, del == OPGI_NONE ? 0u : 1u, OPGI_NONE, 0};
    if ((rc = opgi_engines_prepare(r, &plan)) != OPG_OK)
        return rc;
    opgi_apply_delegate(r, delegator, node, del, amount, &issued);
    if (shares_issued)
        *shares_issued = issued;
    return OPG_OK;
}

/* ---------------------------------------------------------------- unbond */

/* The completion of an entry out of a node a pending slash holds: max(usual,
 * now + 1), saturating, so it completes strictly after the call's time (and so after
 * the slash's decision) whatever staking.unbonding_time or the node's status is. */
static opg_time held_completion(opg_time usual, opg_time now)
{
    opg_time after = now == INT64_MAX ? INT64_MAX : now + 1;
    return usual > after ? usual : after;
}


int opgi_check_unbond(opg_registry *r, uint32_t del, const opg_dec *shares, opgi_unbond_plan *plan)
{
    const opgi_delegation *d = &r->dels[del];
    const opgi_node *n = &r->nodes[d->node];
    if (opg_dec_cmp(shares, &d->shares) > 0)
        return opgi_fail(r->err, OPG_EUNDERFLOW, "more shares than the delegation holds", NULL);
    memset(plan, 0, sizeof *plan);
    plan->shares = *shares;
    opg_dec remaining;
    if (opg_dec_sub(&remaining, &n->delegator_shares, shares) != OPG_OK)
        return opgi_fail(r->err, OPG_EINVARIANT, "delegation holds more shares than its node", NULL);
    if (opgi_dec_is_zero(&remaining)) {
        plan->tokens = n->tokens; /* the last leaver takes the dust too */
    } else {
        opg_dec t;
        int rc = opgi_tokens_from_shares(&t, n, shares, OPGI_HALF_EVEN);
        if (rc)
            return opgi_fail(r->err, rc, NULL, NULL);
        opg_dec_truncate_int(&plan->tokens, &t);
        if (opg_u256_cmp(&plan->tokens, &n->tokens) > 0)
            return opgi_fail(r->err, OPG_EINVARIANT, "unbond would take more tokens than the node has", NULL);
    }
    plan->removes_delegation = opg_dec_cmp(shares, &d->shares) == 0;
    /* a node held by a pending slash stays (end_block removes it once released) */
    plan->removes_node = opgi_dec_is_zero(&remaining) && n->status == OPG_NODE_UNBONDED &&
                         !opgi_node_held(r, &n->operator_id);
    return OPG_OK;
}

void opgi_apply_unbond(opg_registry *r, uint32_t del, const opgi_unbond_plan *plan)
{
    hooks_before_modified(r, del);
    opgi_delegation *d = &r->dels[del];
    uint32_t node = d->node;
    opgi_node *n = &r->nodes[node];
    opgi_touch_node(r, node); /* before either record may go */
    opgi_touch_delegation(r, del);
    OPGI_MUST(opg_dec_sub(&d->shares, &d->shares, &plan->shares));
    /* the operator's own self-bond falling below its minimum jails the node at once
     * (measured at the node's rate before the tokens leave, as Cosmos does) */
    if (!n->jailed && opg_id_cmp(&d->delegator, &n->operator_id) == 0) {
        opg_dec t;
        opg_u256 self;
        memset(&self, 0, sizeof self);
        /* a value past a Dec's range (tokens above 2^256 / 10^18, stake only a host
         * can make up) counts as 0 */
        if (opgi_tokens_from_shares(&t, n, &d->shares, OPGI_HALF_EVEN) == OPG_OK)
            opg_dec_truncate_int(&self, &t);
        if (opg_u256_cmp(&self, &n->min_self_delegation) < 0)
            opgi_jail(r, node, n->jailed_until);
    }
    if (plan->removes_delegation)
        opgi_del_remove(r, del);
    else
        hooks_after_modified(r, del);
    OPGI_MUST(opg_u256_sub(&n->tokens, &n->tokens, &plan->tokens));
    OPGI_MUST(opg_dec_sub(&n->delegator_shares, &n->delegator_shares, &plan->shares));
    if (plan->removes_node)
        opgi_node_remove(r, node);
}

/* an unbond: before modified, then after modified or the delegation's removal, a
 * self-bond jail, and the node's removal (its own event and its hook) */
#define UNBOND_OWN_EVENTS 2
#define UNBOND_HOOK_CALLS 3

/* The shares an undelegation or redelegation of `amount` removes: shares_from_tokens,
 * an error above the delegation, and exactly all shares when amount is the
 * delegation's whole token value (so "undelegate everything" leaves no dust). */
static int shares_for_amount(opg_registry *r, uint32_t del, const opg_u256 *amount, opg_dec *shares)
{
    const opgi_delegation *d = &r->dels[del];
    const opgi_node *n = &r->nodes[d->node];
    if (opgi_u256_is_zero(amount))
        return opgi_fail(r->err, OPG_EZERO, "amount is zero", NULL);
    if (opgi_u256_is_zero(&n->tokens))
        return opgi_fail(r->err, OPG_EINSOLVENT, NULL, NULL);
    /* the whole delegation first: its value is rounded half to even, so it can be a
     * hair above the exact worth, and shares_from_tokens of it above the shares held */
    opg_dec t;
    opg_u256 whole;
    if (opgi_tokens_from_shares(&t, n, &d->shares, OPGI_HALF_EVEN) == OPG_OK) {
        opg_dec_truncate_int(&whole, &t);
        if (opg_u256_cmp(amount, &whole) == 0) {
            *shares = d->shares;
            return OPG_OK;
        }
    }
    int rc = shares_from_tokens(shares, n, amount);
    if (rc || opg_dec_cmp(shares, &d->shares) > 0)
        return opgi_fail(r->err, OPG_EUNDERFLOW, "amount above the delegation's tokens", NULL);
    return OPG_OK;
}

int opgi_check_unbond_amount(opg_registry *r, uint32_t del, const opg_u256 *amount,
                             opgi_unbond_plan *plan)
{
    opg_dec shares;
    int rc = shares_for_amount(r, del, amount, &shares);
    return rc ? rc : opgi_check_unbond(r, del, &shares, plan);
}

int opgi_check_undelegate(opg_registry *r, uint32_t del, const opg_u256 *amount, opg_time now,
                          opgi_unbond_plan *plan)
{
    const opgi_delegation *d = &r->dels[del];
    /* a conviction lock on the delegator (the tally's guard) comes first */
    int rc = opgi_unbond_guards_check(r, &d->delegator, now);
    if (rc)
        return rc;
    unsigned char key[OPGI_KEY_MAX];
    if (opgi_counter_get(&r->ubd_pairs, opgi_key2(key, &d->delegator,
                                                  &r->nodes[d->node].operator_id)) >=
        r->params.max_entries)
        return opgi_fail(r->err, OPG_EMAXENTRIES, "unbonding entries at max_entries", NULL);
    rc = opgi_check_unbond_amount(r, del, amount, plan);
    if (rc)
        return rc;
    if (now > INT64_MAX - r->params.unbonding_time)
        return opgi_fail(r->err, OPG_EOVERFLOW, "completion time out of range", NULL);
    return OPG_OK;
}

size_t opgi_events_undelegate(const opg_registry *r)
{
    return UNBOND_OWN_EVENTS + opgi_engine_events(r, UNBOND_HOOK_CALLS);
}

int opg_registry_undelegate(opg_u256 *unbonded, opg_time *completion, opg_registry *r,
                            const opg_id *delegator, const opg_id *operator_id,
                            const opg_u256 *amount, opg_height height, opg_time now)
{
    int rc = opgi_stake_call_begin(r, height, now);
    if (rc)
        return rc;
    OPGI_CHECK_ARG(r->err, delegator && operator_id && amount);
    if ((rc = opgi_poa_refuse(r, "undelegation refused")) != OPG_OK)
        return rc;
    uint32_t node = opgi_node_find(r, operator_id);
    uint32_t del = node == OPGI_NONE ? OPGI_NONE : opgi_del_find(r, delegator, node);
    if (del == OPGI_NONE)
        return opgi_fail(r->err, OPG_ENOTFOUND, "no such delegation", NULL);
    unsigned char key[OPGI_KEY_MAX];
    opgi_key2(key, delegator, operator_id);
    opgi_unbond_plan plan;
    if ((rc = opgi_check_undelegate(r, del, amount, now, &plan)) != OPG_OK)
        return rc;
    opg_time done = now + r->params.unbonding_time;
    if (r->params.unbonding_time == 0 && opgi_node_held(r, operator_id))
        done = held_completion(done, now); /* see opg_registry_redelegate */

    /* an entry of the same pair, height and completion time is merged into: the first
     * in queue order, found in the pair's chain (its entries in queue order, at most
     * max_entries), from the tail, where the entries completing at `done` are */
    size_t merge = SIZE_MAX;
    uint32_t from = opgi_chain_last(&r->ubd_pairs, key);
    while (from != OPGI_NONE && r->ubd_links.items[from].time > done)
        from = r->ubd_links.items[from].prev[OPGI_UBD_PAIR];
    while (from != OPGI_NONE && r->ubd_links.items[from].time == done) {
        uint32_t p = r->ubd_links.items[from].prev[OPGI_UBD_PAIR];
        if (p == OPGI_NONE || r->ubd_links.items[p].time != done)
            break;
        from = p;
    }
    for (uint32_t l = from; l != OPGI_NONE && merge == SIZE_MAX &&
                            r->ubd_links.items[l].time == done;
         l = r->ubd_links.items[l].next[OPGI_UBD_PAIR]) {
        const opgi_link *x = &r->ubd_links.items[l];
        size_t i = opgi_queue_find(&r->unbondings, x->time, x->seq);
        if (((const opgi_unbonding *)opgi_queue_at(&r->unbondings, i))->creation_height == height)
            merge = i;
    }
    if ((merge == SIZE_MAX && (rc = opgi_ubd_reserve(r, 1)) != OPG_OK) ||
        (rc = opgi_events_reserve(r, opgi_events_undelegate(r))) != OPG_OK)
        return opgi_fail(r->err, rc, NULL, NULL);
    opgi_plan eplan = {NULL, 0, &del, 1, OPGI_NONE, 0};
    if ((rc = opgi_engines_prepare(r, &eplan)) != OPG_OK)
        return rc;

    opgi_apply_unbond(r, del, &plan);
    if (merge != SIZE_MAX) {
        opgi_unbonding *u = opgi_queue_at(&r->unbondings, merge);
        OPGI_MUST(opg_u256_add(&u->balance, &u->balance, &plan.tokens));
        OPGI_MUST(opg_u256_add(&u->initial_balance, &u->initial_balance, &plan.tokens));
        opgi_touch_unbonding(r, u);
    } else {
        opgi_unbonding u;
        memset(&u, 0, sizeof u);
        u.delegator = *delegator;
        u.node = *operator_id;
        u.creation_height = height;
        u.completion_time = done;
        u.initial_balance = u.balance = plan.tokens;
        u.seq = r->next_seq++;
        opgi_ubd_insert(r, &u);
        opgi_touch_unbonding(r, &u);
    }
    OPGI_MUST(opg_u256_add(&r->unbonding_balance, &r->unbonding_balance, &plan.tokens));
    if (unbonded)
        *unbonded = plan.tokens;
    if (completion)
        *completion = done;
    return OPG_OK;
}

/* ------------------------------------------------------------ redelegate */

/* a redelegation: the unbond at the source, then the delegation at the destination */
size_t opgi_events_redelegate(const opg_registry *r)
{
    return UNBOND_OWN_EVENTS + opgi_engine_events(r, UNBOND_HOOK_CALLS + 2);
}

int opg_registry_redelegate(opg_time *completion, opg_registry *r, const opg_id *delegator,
                            const opg_id *src_id, const opg_id *dst_id, const opg_u256 *amount,
                            opg_height height, opg_time now)
{
    int rc = opgi_stake_call_begin(r, height, now);
    if (rc)
        return rc;
    OPGI_CHECK_ARG(r->err, delegator && src_id && dst_id && amount);
    if ((rc = opgi_poa_refuse(r, "redelegation refused")) != OPG_OK)
        return rc;
    if (opg_id_cmp(src_id, dst_id) == 0)
        return opgi_fail(r->err, OPG_EINVAL, "source and destination are the same node", NULL);
    uint32_t src = opgi_node_find(r, src_id), dst = opgi_node_find(r, dst_id);
    if (src == OPGI_NONE || dst == OPGI_NONE)
        return opgi_fail(r->err, OPG_ENOTFOUND, "no node with this operator id",
                         src == OPGI_NONE ? "source" : "destination");
    uint32_t del = opgi_del_find(r, delegator, src);
    if (del == OPGI_NONE)
        return opgi_fail(r->err, OPG_ENOTFOUND, "no delegation to the source", NULL);
    unsigned char into[OPGI_KEY_MAX], triple[OPGI_KEY_MAX]; /* the counters' keys */
    if (opgi_counter_get(&r->red_into, opgi_key2(into, delegator, src_id)) > 0)
        return opgi_fail(r->err, OPG_ETRANSITIVE, "a redelegation into the source is still maturing", NULL);
    if (opgi_counter_get(&r->red_triples, opgi_key3(triple, delegator, src_id, dst_id)) >=
        r->params.max_entries)
        return opgi_fail(r->err, OPG_EMAXENTRIES, "redelegation entries at max_entries", NULL);
    opg_dec issued;
    opgi_unbond_plan plan;
    if ((rc = opgi_check_unbond_amount(r, del, amount, &plan)) != OPG_OK)
        return rc;
    if (opgi_u256_is_zero(&plan.tokens))
        return opgi_fail(r->err, OPG_EZERO, "redelegation would move no tokens", NULL);
    uint32_t ddel = opgi_del_find(r, delegator, dst);
    if ((rc = opgi_check_delegate(r, dst, ddel, &plan.tokens, &issued)) != OPG_OK)
        return rc;

    /* completion by the source's status. An unbonded source that the unbond removes:
     * x/staking (v0.50+ getBeginInfo) finds no validator after the unbond and returns
     * Go's zero time and height 0 without "complete now", so an entry is recorded
     * that completes at the next end_block. */
    const opgi_node *sn = &r->nodes[src];
    opg_time done = now;
    opg_height created = height;
    int immediate = 0;
    if (plan.removes_node) {
        done = GO_ZERO_TIME;
        created = 0;
    } else if (sn->status == OPG_NODE_BONDED) {
        if (now > INT64_MAX - r->params.unbonding_time)
            return opgi_fail(r->err, OPG_EOVERFLOW, "completion time out of range", NULL);
        done = now + r->params.unbonding_time;
    } else if (sn->status == OPG_NODE_UNBONDING) {
        done = sn->unbonding_time;
        created = sn->unbonding_height;
    } else {
        immediate = 1;
    }
    if (opgi_node_held(r, src_id)) {
        /* a pending slash holds the source: always an entry, created now (after the
         * infraction) and completing after now, so the slash finds it (the hold keeps
         * it queued until the slash is applied or cancelled) */
        immediate = 0;
        created = height;
        done = held_completion(done, now);
    }
    if ((ddel == OPGI_NONE && (rc = opgi_del_reserve(r, 1)) != OPG_OK) ||
        (!immediate && (rc = opgi_red_reserve(r, 1)) != OPG_OK) ||
        (rc = opgi_events_reserve(r, opgi_events_redelegate(r))) != OPG_OK)
        return opgi_fail(r->err, rc, NULL, NULL);
    uint32_t settle[2] = {del, ddel};
    opgi_plan eplan = {&dst, ddel == OPGI_NONE ? 1u : 0u, settle, ddel == OPGI_NONE ? 1u : 2u, OPGI_NONE, 0};
    if ((rc = opgi_engines_prepare(r, &eplan)) != OPG_OK)
        return rc;

    opgi_apply_unbond(r, del, &plan);
    ddel = opgi_del_find(r, delegator, dst); /* slots may have moved in the free list */
    opgi_apply_delegate(r, delegator, dst, ddel, &plan.tokens, &issued);
    if (!immediate) {
        opgi_redelegation e;
        memset(&e, 0, sizeof e);
        e.delegator = *delegator;
        e.src = *src_id;
        e.dst = *dst_id;
        e.creation_height = created;
        e.completion_time = done;
        e.initial_balance = plan.tokens;
        e.shares_dst = issued;
        e.seq = r->next_seq++;
        opgi_red_insert(r, &e);
        opgi_touch_redelegation(r, &e);
    }
    if (completion)
        *completion = done;
    return OPG_OK;
}

/* ------------------------------------------------------ cancel unbonding */

/* a cancel is a delegation back into the node */
size_t opgi_events_cancel_unbonding(const opg_registry *r) { return opgi_events_delegate(r); }

int opg_registry_cancel_unbonding(opg_registry *r, const opg_id *delegator,
                                  const opg_id *operator_id, opg_height creation_height,
                                  const opg_u256 *amount, opg_height height, opg_time now)
{
    int rc = opgi_stake_call_begin(r, height, now);
    if (rc)
        return rc;
    OPGI_CHECK_ARG(r->err, delegator && operator_id && amount);
    if ((rc = opgi_poa_refuse(r, "cancelling an unbonding refused")) != OPG_OK)
        return rc;
    uint32_t node = opgi_node_find(r, operator_id);
    if (node == OPGI_NONE)
        return opgi_fail(r->err, OPG_ENOTFOUND, "no node with this operator id", NULL);
    if (r->nodes[node].jailed)
        return opgi_fail(r->err, OPG_EJAILED, "cannot cancel into a jailed node", NULL);
    /* the pair's first entry (lowest seq) created at that height, from the pair's
     * chain (at most max_entries) */
    size_t at = SIZE_MAX;
    uint64_t best = UINT64_MAX;
    unsigned char pair[OPGI_KEY_MAX];
    for (uint32_t l = opgi_chain_first(&r->ubd_pairs, opgi_key2(pair, delegator, operator_id));
         l != OPGI_NONE; l = r->ubd_links.items[l].next[OPGI_UBD_PAIR]) {
        const opgi_link *x = &r->ubd_links.items[l];
        size_t i = opgi_queue_find(&r->unbondings, x->time, x->seq);
        const opgi_unbonding *u = opgi_queue_at(&r->unbondings, i);
        if (u->creation_height == creation_height && u->seq < best) {
            at = i;
            best = u->seq;
        }
    }
    if (at == SIZE_MAX)
        return opgi_fail(r->err, OPG_ENOTFOUND, "no unbonding entry at that creation height", NULL);
    opgi_unbonding *u = opgi_queue_at(&r->unbondings, at);
    if (opg_u256_cmp(&u->balance, amount) < 0)
        return opgi_fail(r->err, OPG_EUNDERFLOW, "amount above the entry's balance", NULL);
    if (u->completion_time < now)
        return opgi_fail(r->err, OPG_ESTATUS, "unbonding entry already mature", NULL);
    uint32_t del = opgi_del_find(r, delegator, node);
    opg_dec issued;
    if ((rc = opgi_check_delegate(r, node, del, amount, &issued)) != OPG_OK)
        return rc;
    if ((del == OPGI_NONE && (rc = opgi_del_reserve(r, 1)) != OPG_OK) ||
        (rc = opgi_events_reserve(r, opgi_events_cancel_unbonding(r))) != OPG_OK)
        return opgi_fail(r->err, rc, NULL, NULL);
    opgi_plan eplan = {&node, del == OPGI_NONE ? 1u : 0u, &del, del == OPGI_NONE ? 0u : 1u, OPGI_NONE, 0};
    if ((rc = opgi_engines_prepare(r, &eplan)) != OPG_OK)
        return rc;

    opgi_apply_delegate(r, delegator, node, del, amount, &issued);
    u = opgi_queue_at(&r->unbondings, at);
    OPGI_MUST(opg_u256_sub(&u->balance, &u->balance, amount));
    opgi_touch_unbonding(r, u); /* the key stays valid after a removal */
    if (opgi_u256_is_zero(&u->balance))
        opgi_ubd_remove_at(r, at);
    else
        OPGI_MUST(opg_u256_sub(&u->initial_balance, &u->initial_balance, amount)); /* <= balance */
    OPGI_MUST(opg_u256_sub(&r->unbonding_balance, &r->unbonding_balance, amount));
    return OPG_OK;
}

/* ----------------------------------------------------------------- slash */

/* trunc(fraction * amount): Cosmos fraction.MulInt(amount).TruncateInt() */
static void fraction_of(opg_u256 *out, const opg_dec *fraction, const opg_u256 *amount)
{
    /* fraction <= 1, so the result never exceeds amount */
    OPGI_MUST(opgi_muldiv(out->limb, 4, fraction->limb, 4, amount->limb, 4, P_ONE, 1, OPGI_TRUNC));
}

static int entry_live(opg_height creation, opg_time completion, opg_height infraction, opg_time now)
{
    /* created before the infraction: its stake did not contribute; mature: gone */
    return creation >= infraction && completion > now;
}

/* Redelegation entries from the slashed node that the slash touches, ordered as
 * Cosmos walks them: by (delegator, dst) record, then entry creation (seq). */
typedef struct red_ref {
    const opgi_redelegation *e;
    size_t at;
} red_ref;

static int cmp_red_ref(const void *a, const void *b)
{
    const opgi_redelegation *x = ((const red_ref *)a)->e, *y = ((const red_ref *)b)->e;
    int c = opg_id_cmp(&x->delegator, &y->delegator);
    if (c == 0)
        c = opg_id_cmp(&x->dst, &y->dst);
    if (c == 0)
        c = x->seq < y->seq ? -1 : x->seq > y->seq;
    return c;
}

static int cmp_size_by_seq(const void *a, const void *b, const opg_registry *r)
{
    const opgi_unbonding *x = opgi_queue_at(&r->unbondings, *(const size_t *)a);
    const opgi_unbonding *y = opgi_queue_at(&r->unbondings, *(const size_t *)b);
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Burns from the delegator's unbonding entries at the destination, in creation
 * order, up to *budget; returns what was burned. */
static void drain_dst_unbondings(opg_registry *r, const opgi_redelegation *e, opg_u256 *budget,
                                 opg_height infraction, opg_time now, opg_u256 *burned, int dry)
{
    /* entries of (delegator, dst) in creation order: at most max_entries of them
     * (none, mostly: then the queue is not scanned) */
    size_t idx[OPGI_MAX_ENTRIES], n = 0;
    unsigned char key[OPGI_KEY_MAX];
    /* the pair's chain lists them in queue order, as a scan of the queue met them */
    for (uint32_t l = opgi_chain_first(&r->ubd_pairs, opgi_key2(key, &e->delegator, &e->dst));
         l != OPGI_NONE && n < OPGI_ARRAY_LEN(idx); l = r->ubd_links.items[l].next[OPGI_UBD_PAIR])
        idx[n++] = opgi_queue_find(&r->unbondings, r->ubd_links.items[l].time,
                                   r->ubd_links.items[l].seq);
    for (size_t i = 1; i < n; i++) /* insertion sort by seq: n is tiny */
        for (size_t j = i; j > 0 && cmp_size_by_seq(&idx[j - 1], &idx[j], r) > 0; j--) {
            size_t t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
    for (size_t k = 0; k < n; k++) {
        opgi_unbonding *u = opgi_queue_at(&r->unbondings, idx[k]);
        opg_u256 take = opg_u256_cmp(budget, &u->balance) < 0 ? *budget : u->balance;
        if (opgi_u256_is_zero(&take) || !entry_live(u->creation_height, u->completion_time, infraction, now))
            continue;
        OPGI_MUST(opg_u256_sub(budget, budget, &take));
        OPGI_MUST(opg_u256_add(burned, burned, &take));
        if (dry)
            continue;
        OPGI_MUST(opg_u256_sub(&u->balance, &u->balance, &take));
        OPGI_MUST(opg_u256_sub(&r->unbonding_balance, &r->unbonding_balance, &take));
        opgi_touch_unbonding(r, u);
    }
}

/*
 * The redelegation entries out of the node `op` that a slash for an infraction at
 * `infraction` walks (only for a past infraction: entries created since and not yet
 * mature). Returns how many. With reds non-NULL they are listed there; with dels
 * non-NULL each entry's destination delegation, if it still exists, is appended at
 * dels[*n_dels] (once per entry: each unbond settles it again).
 */
static size_t walk_entries(const opg_registry *r, const opg_id *op, opg_height infraction,
                           opg_height height, opg_time now, red_ref *reds, uint32_t *dels,
                           size_t *n_dels)
{
    size_t k = 0;
    if (infraction >= height)
        return 0;
    /* the source's chain: its entries in queue order */
    for (uint32_t l = opgi_chain_first(&r->red_srcs, op->bytes); l != OPGI_NONE;
         l = r->red_links.items[l].next[OPGI_RED_SRC]) {
        const opgi_link *x = &r->red_links.items[l];
        size_t i = opgi_queue_find(&r->redelegations, x->time, x->seq);
        const opgi_redelegation *e = opgi_queue_at(&r->redelegations, i);
        if (!entry_live(e->creation_height, e->completion_time, infraction, now))
            continue;
        if (reds) {
            reds[k].e = e;
            reds[k].at = i;
        }
        k++;
        if (dels) {
            uint32_t dn = opgi_node_find(r, &e->dst);
            uint32_t dd = dn == OPGI_NONE ? OPGI_NONE : opgi_del_find(r, &e->delegator, dn);
            if (dd != OPGI_NONE)
                dels[(*n_dels)++] = dd;
        }
    }
    return k;
}

/* a slash: its burn and the node's before_node_slashed, then per redelegation entry
 * one unbond of the destination delegation */
static size_t slash_events(const opg_registry *r, size_t n_red)
{
    return 1 + UNBOND_OWN_EVENTS * n_red + opgi_engine_events(r, 1 + UNBOND_HOOK_CALLS * n_red);
}

/* The records a slash of `op` may touch: each of its unbonding entries, per
 * redelegation entry the delegator's entries at the destination and the unbond there
 * (node and delegation), and the node. */
static size_t slash_touches(const opg_registry *r, const opg_id *op, size_t n_red)
{
    return (size_t)opgi_counter_get(&r->ubd_nodes, op->bytes) + n_red * (OPGI_MAX_ENTRIES + 2) + 1;
}

/* The scratch of a slash walking n_red entries: outside a bracket it is sized here,
 * inside one it was sized by opgi_registry_slashes_prepare (asserted). */
static int slash_scratch(opg_registry *r, size_t n_red, red_ref **reds, uint32_t **dels)
{
    if (n_red > SIZE_MAX / (sizeof **reds + sizeof **dels))
        return opgi_fail(r->err, OPG_ENOMEM, NULL, NULL);
    size_t need = n_red * (sizeof **reds + sizeof **dels);
    if (need > r->scratch_cap) {
        (void)OPGI_NEVER(r->err, r->depth > 0);
        void *p = opgi_realloc(&r->alloc, r->scratch, r->scratch_cap, need);
        if (!p)
            return opgi_fail(r->err, OPG_ENOMEM, NULL, NULL);
        r->scratch = p;
        r->scratch_cap = need;
    }
    *reds = r->scratch;
    *dels = (uint32_t *)(void *)((unsigned char *)r->scratch + n_red * sizeof **reds);
    return OPG_OK;
}

int opg_registry_slash(opg_slash_result *result, opg_registry *r, const opg_id *operator_id,
                       opg_height infraction_height, uint64_t power, const opg_dec *fraction,
                       opg_height height, opg_time now)
{
    return opgi_registry_slash(result, r, operator_id, infraction_height, power, fraction, height,
                               now, 0);
}

int opgi_registry_slash(opg_slash_result *result, opg_registry *r, const opg_id *operator_id,
                        opg_height infraction_height, uint64_t power, const opg_dec *fraction,
                        opg_height height, opg_time now, int allow_unbonded)
{
    return opgi_registry_slash_at(result, r, operator_id, infraction_height, power, fraction,
                                  height, now, allow_unbonded, NULL);
}

int opgi_node_held(const opg_registry *r, const opg_id *operator_id)
{
    for (size_t i = 0; i < r->n_engines; i++)
        if (r->engines[i].holds_node && r->engines[i].holds_node(r->engines[i].ctx, r, operator_id))
            return 1;
    return 0;
}

int opgi_into_held(const opg_registry *r, const opg_id *delegator, const opg_id *dst)
{
    unsigned char key[OPGI_KEY_MAX];
    if (opgi_counter_get(&r->red_into, opgi_key2(key, delegator, dst)) == 0)
        return 0;
    for (size_t i = 0; i < r->n_engines; i++)
        if (r->engines[i].holds_into &&
            r->engines[i].holds_into(r->engines[i].ctx, r, delegator, dst))
            return 1;
    return 0;
}

uint32_t opgi_red_entries(const opg_registry *r, const opg_id *delegator, const opg_id *src,
                          const opg_id *dst)
{
    unsigned char key[OPGI_KEY_MAX];
    return opgi_counter_get(&r->red_triples, opgi_key3(key, delegator, src, dst));
}

/* *x = min(*x, left) when there is a cap */
static void cap_to(opg_u256 *x, const opg_u256 *left, int capped)
{
    if (capped && opg_u256_cmp(x, left) > 0)
        *x = *left;
}

int opgi_registry_slash_at(opg_slash_result *result, opg_registry *r, const opg_id *operator_id,
                           opg_height infraction_height, uint64_t power, const opg_dec *fraction,
                           opg_height height, opg_time now, int allow_unbonded,
                           const opgi_slash_at *at)
{
    const int dry = at && at->plan_only, capped = at && at->cap;
    const opg_height walk_h = at ? at->at_height : height;
    const opg_time walk_t = at ? at->at_time : now;
    int rc;
    if (dry) {
        /* a plan changes nothing, not even the last call's error or events */
        if (!r)
            return OPG_EINVAL;
    } else if ((rc = opgi_stake_call_begin(r, height, now)) != OPG_OK) {
        return rc;
    }
    OPGI_CHECK_ARG(r->err, operator_id && fraction);
    uint32_t node = opgi_node_find(r, operator_id);
    if (node == OPGI_NONE)
        return opgi_fail(r->err, OPG_ENOTFOUND, "no node with this operator id", NULL);
    opg_dec one;
    opg_dec_from_u64(&one, 1);
    if (opg_dec_cmp(fraction, &one) > 0)
        return opgi_fail(r->err, OPG_EINVAL, "slash fraction above 1", NULL);
    if (r->nodes[node].status == OPG_NODE_UNBONDED && !allow_unbonded)
        return opgi_fail(r->err, OPG_ESTATUS, "an unbonded node is not slashed", NULL);
    if (infraction_height > height)
        return opgi_fail(r->err, OPG_EFUTURE, "infraction after the current height", NULL);
    opg_u256 amount, to_slash, pw = {{power, 0, 0, 0}};
    if (at && at->power_tokens)
        amount = *at->power_tokens; /* the decision's power_reduction */
    else if (opg_u256_mul(&amount, &pw, &r->params.power_reduction) != OPG_OK)
        return opgi_fail(r->err, OPG_EOVERFLOW, "power too large", NULL);
    fraction_of(&to_slash, fraction, &amount);
    opg_u256 left; /* what the cap still allows */
    if (capped)
        left = *at->cap;
    else
        memset(&left, 0, sizeof left);

    /* check phase: the redelegation entries to walk and, one per entry, the
     * destination delegation it may unbond (listed as often as entries drain it: each
     * unbond settles it again, and the engines reserve per listing), in the scratch
     * (sized by opgi_registry_slashes_prepare inside a bracket) */
    int past = infraction_height < walk_h;
    size_t n_red = walk_entries(r, operator_id, infraction_height, walk_h, walk_t, NULL, NULL, NULL);
    red_ref *reds;
    uint32_t *dels;
    if ((rc = slash_scratch(r, n_red, &reds, &dels)) != OPG_OK)
        return rc;
    size_t n_dels = 0;
    if (n_red) {
        walk_entries(r, operator_id, infraction_height, walk_h, walk_t, reds, dels, &n_dels);
        qsort(reds, n_red, sizeof *reds, cmp_red_ref);
    }
    if (!dry) {
        if ((rc = opgi_events_reserve(r, slash_events(r, n_red))) != OPG_OK ||
            (rc = opgi_touch_reserve(r, slash_touches(r, operator_id, n_red))) != OPG_OK)
            return rc;
        opgi_plan eplan = {&node, 1, dels, n_dels, OPGI_NONE, 0};
        if ((rc = opgi_engines_prepare(r, &eplan)) != OPG_OK)
            return rc;
    }

    /* apply (with dry: only count) */
    opg_slash_result res;
    memset(&res, 0, sizeof res);
    opg_u256 counted; /* sum of s over entries: counts toward to_slash even if short */
    memset(&counted, 0, sizeof counted);
    if (past) {
        /* the node's entries in queue order: its chain */
        for (uint32_t l = opgi_chain_first(&r->ubd_nodes, operator_id->bytes); l != OPGI_NONE;
             l = r->ubd_links.items[l].next[OPGI_UBD_NODE]) {
            opgi_unbonding *u = opgi_ubd_at_link(r, l);
            if (!entry_live(u->creation_height, u->completion_time, infraction_height, walk_t))
                continue;
            opg_u256 s;
            fraction_of(&s, fraction, &u->initial_balance);
            if (opg_u256_add(&counted, &counted, &s))
                counted = to_slash; /* saturate: remaining is then 0 anyway */
            opg_u256 take = opg_u256_cmp(&s, &u->balance) < 0 ? s : u->balance;
            cap_to(&take, &left, capped);
            if (capped)
                OPGI_MUST(opg_u256_sub(&left, &left, &take));
            OPGI_MUST(opg_u256_add(&res.burned_unbonding, &res.burned_unbonding, &take));
            if (dry)
                continue;
            OPGI_MUST(opg_u256_sub(&u->balance, &u->balance, &take));
            OPGI_MUST(opg_u256_sub(&r->unbonding_balance, &r->unbonding_balance, &take));
            opgi_touch_unbonding(r, u);
        }
        for (size_t k = 0; k < n_red; k++) {
            const opgi_redelegation *e = reds[k].e;
            opg_u256 s, budget, before = res.burned_unbonding, drained;
            fraction_of(&s, fraction, &e->initial_balance);
            if (opg_u256_add(&counted, &counted, &s))
                counted = to_slash;
            budget = s;
            cap_to(&budget, &left, capped);
            drain_dst_unbondings(r, e, &budget, infraction_height, walk_t, &res.burned_unbonding,
                                 dry);
            OPGI_MUST(opg_u256_sub(&drained, &res.burned_unbonding, &before));
            if (capped)
                OPGI_MUST(opg_u256_sub(&left, &left, &drained));
            opg_dec unbond_shares; /* fraction <= 1: no overflow */
            if (OPGI_NEVER(r->err, opg_dec_mul(&unbond_shares, fraction, &e->shares_dst) != OPG_OK))
                continue;
            uint32_t dn = opgi_node_find(r, &e->dst);
            uint32_t dd = dn == OPGI_NONE ? OPGI_NONE : opgi_del_find(r, &e->delegator, dn);
            if (opgi_dec_is_zero(&unbond_shares) || opgi_u256_is_zero(&budget) || dd == OPGI_NONE)
                continue;
            if (r->params.fix_redelegation_overslash && opg_u256_cmp(&budget, &s) < 0 &&
                !opgi_u256_is_zero(&r->nodes[dn].tokens)) {
                opg_dec worth; /* only the shares worth what is still unpaid */
                if (shares_from_tokens(&worth, &r->nodes[dn], &budget) == OPG_OK &&
                    opg_dec_cmp(&worth, &unbond_shares) < 0)
                    unbond_shares = worth;
                if (opgi_dec_is_zero(&unbond_shares))
                    continue;
            }
            if (opg_dec_cmp(&unbond_shares, &r->dels[dd].shares) > 0)
                unbond_shares = r->dels[dd].shares;
            opgi_unbond_plan plan;
            /* the shares were capped at the delegation's: consistent state passes */
            if (OPGI_NEVER(r->err, opgi_check_unbond(r, dd, &unbond_shares, &plan) != OPG_OK))
                continue;
            if (capped && opg_u256_cmp(&plan.tokens, &left) > 0) {
                /* the cap: only the shares worth what it still allows, or nothing */
                opg_dec worth;
                if (opgi_u256_is_zero(&left) || opgi_u256_is_zero(&r->nodes[dn].tokens) ||
                    shares_from_tokens(&worth, &r->nodes[dn], &left) != OPG_OK ||
                    opgi_dec_is_zero(&worth) || opg_dec_cmp(&worth, &unbond_shares) > 0 ||
                    opgi_check_unbond(r, dd, &worth, &plan) != OPG_OK ||
                    opg_u256_cmp(&plan.tokens, &left) > 0)
                    continue;
            }
            if (capped)
                OPGI_MUST(opg_u256_sub(&left, &left, &plan.tokens));
            if (!dry)
                opgi_apply_unbond(r, dd, &plan);
            OPGI_MUST(opg_u256_add(&res.burned_redelegation, &res.burned_redelegation, &plan.tokens));
        }
    }
    opgi_node *n = &r->nodes[node];
    opg_u256 remaining;
    if (opg_u256_sub(&remaining, &to_slash, &counted) != OPG_OK)
        memset(&remaining, 0, sizeof remaining);
    if (opg_u256_cmp(&remaining, &n->tokens) > 0)
        remaining = n->tokens;
    cap_to(&remaining, &left, capped);
    if (!opgi_u256_is_zero(&remaining)) {
        /* effective fraction for F1: ceil(remaining / tokens) as a Dec, at most 1 */
        OPGI_MUST(opgi_muldiv(res.effective_fraction.limb, 4, remaining.limb, 4, P_ONE, 1, n->tokens.limb, 4,
                              OPGI_CEIL));
        if (opg_dec_cmp(&res.effective_fraction, &one) > 0)
            res.effective_fraction = one;
        res.burned_node = remaining;
        if (!dry) {
            for (size_t i = 0; i < r->n_engines; i++)
                if (r->engines[i].before_node_slashed)
                    r->engines[i].before_node_slashed(r->engines[i].ctx, r, node,
                                                      &res.effective_fraction);
            OPGI_MUST(opg_u256_sub(&n->tokens, &n->tokens, &remaining));
            opgi_touch_node(r, node);
        }
    }
    OPGI_MUST(opg_u256_add(&res.burned_total, &res.burned_node, &res.burned_unbonding));
    OPGI_MUST(opg_u256_add(&res.burned_total, &res.burned_total, &res.burned_redelegation));
    if (!dry) {
        opgi_ledger_burn(r, &res.burned_total);
        if (!opgi_u256_is_zero(&res.burned_total))
            opgi_event_push(r, OPG_EVENT_BURNED, &r->nodes[node])->amount = res.burned_total;
    }
    if (result)
        *result = res;
    return OPG_OK;
}

int opgi_registry_slashes_prepare(size_t *events, opg_registry *r, const uint32_t *slots,
                                  size_t n, opg_height infraction, opg_height height, opg_time now)
{
    return opgi_registry_slashes_prepare_at(events, r, slots, n, &infraction, NULL, NULL, height,
                                            now);
}

/* slashes_prepare's item i: its infraction and where its entries are walked from
 * (infractions of length 1 and NULL points: one for all, at height and now) */
#define PREP_IH(i) (at_heights ? infractions[i] : infractions[0])
#define PREP_AH(i) (at_heights ? at_heights[i] : height)
#define PREP_AT(i) (at_times ? at_times[i] : now)

int opgi_registry_slashes_prepare_at(size_t *events, opg_registry *r, const uint32_t *slots,
                                     size_t n, const opg_height *infractions,
                                     const opg_height *at_heights, const opg_time *at_times,
                                     opg_height height, opg_time now)
{
    size_t most = 0, n_walked = 0, touches = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = walk_entries(r, &r->nodes[slots[i]].operator_id, PREP_IH(i), PREP_AH(i),
                                PREP_AT(i), NULL, NULL, NULL);
        *events += slash_events(r, k);
        touches += slash_touches(r, &r->nodes[slots[i]].operator_id, k);
        most = k > most ? k : most;
        n_walked += k;
    }
    red_ref *reds;
    uint32_t *scratch;
    int rc = slash_scratch(r, most, &reds, &scratch);
    if (rc == OPG_OK)
        rc = opgi_touch_reserve(r, touches);
    if (rc)
        return rc;
    /* the union plan: every slashed node, and one destination delegation per entry
     * the slashes walk (a delegation drained by several entries is listed as often) */
    uint32_t *dels = opgi_alloc_array(&r->alloc, n_walked ? n_walked : 1, sizeof *dels);
    if (!dels)
        return opgi_fail(r->err, OPG_ENOMEM, NULL, NULL);
    size_t d = 0;
    for (size_t i = 0; i < n; i++)
        walk_entries(r, &r->nodes[slots[i]].operator_id, PREP_IH(i), PREP_AH(i), PREP_AT(i),
                     NULL, dels, &d);
    /* the engines judge the plan at the slashes' height, as each slash's own prologue
     * will show them (not at whatever call the registry saw last) */
    r->cur_height = height;
    r->cur_time = now;
    opgi_plan plan = {slots, n, dels, d, OPGI_NONE, 0};
    rc = opgi_engines_prepare(r, &plan);
    opgi_free(&r->alloc, dels, (n_walked ? n_walked : 1) * sizeof *dels);
    return rc;
}

/* ------------------------------------------------- governance's validator actions */

int opgi_check_gov_remove(char *err, opg_registry *r, const opg_id *operator_id, uint32_t *del,
                          opgi_unbond_plan *plan)
{
    uint32_t node = opgi_node_find(r, operator_id);
    if (node == OPGI_NONE)
        return opgi_fail(err, OPG_ENOTFOUND, "no node with this operator id", NULL);
    uint32_t d = opgi_del_find(r, operator_id, node);
    if (d == OPGI_NONE)
        return opgi_fail(err, OPG_ENOTFOUND, "the node has no self-delegation left", NULL);
    int rc = opgi_check_unbond(r, d, &r->dels[d].shares, plan);
    if (rc)
        return opgi_fail(err, rc, r->err[0] ? r->err : NULL, NULL);
    /* the unbond's own prepare, as undelegate asks it: an engine's refusal is the
     * action's */
    opgi_plan eplan = {plan->removes_node ? &node : NULL, plan->removes_node ? 1u : 0u, &d, 1,
                       OPGI_NONE, 0};
    if ((rc = opgi_engines_prepare(r, &eplan)) != OPG_OK)
        return opgi_fail(err, rc, r->err[0] ? r->err : NULL, NULL);
    *del = d;
    return OPG_OK;
}

int opgi_gov_reserve(char *err, opg_registry *r, uint32_t *add_slots, size_t n_add,
                     const uint32_t *rem_dels, const opgi_unbond_plan *rem_plans, size_t n_rem)
{
    size_t n = n_add + n_rem;
    if (n == 0)
        return OPG_OK;
    if (n > UINT32_MAX / 64)
        return opgi_fail(err, OPG_ENOMEM, "too many validator actions to reserve", NULL);
    int rc;
    if (n_add && ((rc = opgi_nodes_reserve(r, add_slots, n_add)) != OPG_OK ||
                  (rc = opgi_del_reserve(r, (uint32_t)n_add)) != OPG_OK))
        return opgi_fail(err, OPG_ENOMEM, "no memory for the nodes governance adds", NULL);
    size_t events = n_add * opgi_events_node_create(r) + n_rem * opgi_events_undelegate(r);
    /* records: what each operation's own reservation would ask (opgi_events_reserve) */
    if (opgi_touch_reserve(r, 2 * events + 8 * n) != OPG_OK)
        return opgi_fail(err, OPG_ENOMEM, "no memory for the records the actions change", NULL);
    /* the engines see the union: every new node (the highest as new_node), every node
     * a removal may remove, every delegation removed; calls = the operations */
    uint32_t *nodes = opgi_alloc_array(&r->alloc, n, sizeof *nodes);
    if (!nodes)
        return opgi_fail(err, OPG_ENOMEM, NULL, NULL);
    size_t k = 0;
    uint32_t top = OPGI_NONE;
    for (size_t i = 0; i < n_add; i++) {
        nodes[k++] = add_slots[i];
        if (top == OPGI_NONE || add_slots[i] > top)
            top = add_slots[i];
    }
    for (size_t i = 0; i < n_rem; i++)
        if (rem_plans[i].removes_node)
            nodes[k++] = r->dels[rem_dels[i]].node;
    opgi_plan plan = {nodes, k, rem_dels, n_rem, top, n};
    rc = opgi_engines_prepare(r, &plan);
    opgi_free(&r->alloc, nodes, n * sizeof *nodes);
    if (rc)
        return opgi_fail(err, rc, r->err[0] ? r->err : NULL, NULL);
    if ((rc = opgi_call_enter(r, events)) != OPG_OK)
        return opgi_fail(err, rc, "no memory for the registry's events", NULL);
    return OPG_OK;
}

void opgi_apply_gov_remove(opg_registry *r, uint32_t del, const opgi_unbond_plan *plan)
{
    opgi_apply_unbond(r, del, plan); /* hooks, the self-bond jail, the removals */
}
