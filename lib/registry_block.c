/*
 * registry_block.c - the block boundary: the active set, node status moves, matured
 * unbondings and redelegations. Cost is O(nodes log nodes + matured entries).
 */
#include "registry_ops.h"

#include "num.h"

#include <stdlib.h>

typedef struct ranked {
    uint64_t power;
    const opg_id *operator_id;
    uint32_t slot;
} ranked;

/* power descending, then operator id ascending */
static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->power != y->power)
        return x->power > y->power ? -1 : 1;
    return opg_id_cmp(x->operator_id, y->operator_id);
}

static int eligible(const opg_registry *r, const opgi_node *n, uint64_t *power)
{
    *power = opgi_node_power(r, n);
    return (n->roles & OPG_ROLE_CONSENSUS) && !n->jailed && *power > 0;
}

static void set_status(opg_registry *r, uint32_t slot, opg_node_status status)
{
    r->nodes[slot].status = (uint8_t)status;
    opgi_touch_node(r, slot);
    opgi_event_push(r, OPG_EVENT_NODE_STATUS, &r->nodes[slot]);
}

/* end_block: per node an update, up to two status moves and a removal (its own event
 * and its hook), and its bonded hook; one event per matured entry */
static size_t end_block_events(const opg_registry *r, size_t nodes, size_t matured)
{
    return 4 * nodes + matured + opgi_engine_events(r, 2 * nodes);
}

int opg_registry_end_block(opg_registry *r, opg_height height, opg_time now)
{
    int rc = opgi_stake_call_begin(r, height, now);
    if (rc)
        return rc;

    /* check phase: rank, count what will happen, reserve room for every event */
    uint32_t n_nodes = r->node_count;
    size_t set_size = r->node_slots ? r->node_slots : 1; /* removals may lower node_slots */
    ranked *rank = opgi_alloc_array(&r->alloc, n_nodes ? n_nodes : 1, sizeof *rank);
    unsigned char *in_set = opgi_alloc(&r->alloc, set_size);
    if (!rank || !in_set) {
        rc = opgi_fail(r->err, OPG_ENOMEM, NULL, NULL);
        goto done;
    }
    memset(in_set, 0, set_size);
    size_t n_rank = 0;
    for (uint32_t i = 0; i < n_nodes; i++) {
        uint32_t s = r->by_operator[i];
        uint64_t p;
        if (eligible(r, &r->nodes[s], &p)) {
            rank[n_rank].power = p;
            rank[n_rank].operator_id = &r->nodes[s].operator_id;
            rank[n_rank++].slot = s;
        }
    }
    qsort(rank, n_rank, sizeof *rank, cmp_ranked);
    if (n_rank > r->params.max_validators)
        n_rank = r->params.max_validators;
    for (size_t i = 0; i < n_rank; i++)
        in_set[rank[i].slot] = 1;

    size_t matured = 0;
    while (matured < r->unbondings.len &&
           ((const opgi_unbonding *)opgi_queue_at(&r->unbondings, matured))->completion_time <= now)
        matured++;
    size_t red_matured = 0;
    while (red_matured < r->redelegations.len &&
           ((const opgi_redelegation *)opgi_queue_at(&r->redelegations, red_matured))->completion_time <= now)
        red_matured++;
    if ((rc = opgi_events_reserve(r, end_block_events(r, n_nodes, matured + red_matured))) != OPG_OK ||
        (rc = opgi_history_reserve(r, n_nodes)) != OPG_OK) {
        rc = opgi_fail(r->err, rc, NULL, NULL);
        goto done;
    }
    /* the engines prepare for the nodes that may leave: those with no shares and no
     * delegations (the rank array is free again) */
    uint32_t *leaving = (uint32_t *)(void *)rank, n_leaving = 0;
    for (uint32_t i = 0; i < n_nodes; i++) {
        const opgi_node *n = &r->nodes[r->by_operator[i]];
        if (opgi_dec_is_zero(&n->delegator_shares) && n->delegation_count == 0)
            leaving[n_leaving++] = r->by_operator[i];
    }
    opgi_plan plan = {leaving, n_leaving, NULL, 0, OPGI_NONE, 0};
    if (n_leaving && (rc = opgi_engines_prepare(r, &plan)) != OPG_OK)
        goto done;

    /* apply: 1. the active set; updates come out in operator id order */
    for (uint32_t i = 0; i < n_nodes; i++) {
        uint32_t s = r->by_operator[i];
        opgi_node *n = &r->nodes[s];
        if (in_set[s]) {
            uint64_t p = opgi_node_power(r, n);
            if (n->status != OPG_NODE_BONDED) {
                set_status(r, s, OPG_NODE_BONDED);
                for (size_t k = 0; k < r->n_engines; k++)
                    if (r->engines[k].node_bonded)
                        r->engines[k].node_bonded(r->engines[k].ctx, r, s, height);
            }
            if (p != n->last_power) {
                opg_event *e = opgi_event_push(r, OPG_EVENT_VALIDATOR_UPDATE, n);
                e->account = n->consensus_key;
                e->power = p;
                n->last_power = p;
                opgi_touch_node(r, s);
                opgi_history_power(r, &n->consensus_key, height, p);
            }
        } else if (n->status == OPG_NODE_BONDED) {
            n->unbonding_height = height;
            n->unbonding_time = now > INT64_MAX - r->params.unbonding_time
                                    ? INT64_MAX : now + r->params.unbonding_time;
            set_status(r, s, OPG_NODE_UNBONDING);
            opg_event *e = opgi_event_push(r, OPG_EVENT_VALIDATOR_UPDATE, n);
            e->account = n->consensus_key;
            e->power = 0;
            n->last_power = 0;
            opgi_history_power(r, &n->consensus_key, height, 0);
        }
    }
    /* 2. nodes whose unbonding finished; those without shares leave */
    for (uint32_t i = 0; i < r->node_count;) {
        uint32_t s = r->by_operator[i];
        opgi_node *n = &r->nodes[s];
        if (n->status == OPG_NODE_UNBONDING && n->unbonding_time <= now &&
            n->unbonding_height <= height)
            set_status(r, s, OPG_NODE_UNBONDED);
        if (n->status == OPG_NODE_UNBONDED && opgi_dec_is_zero(&n->delegator_shares) &&
            n->delegation_count == 0 && !opgi_node_held(r, &n->operator_id)) {
            opgi_touch_node(r, s);
            opgi_node_remove(r, s); /* shifts by_operator: stay at i */
            continue;
        }
        i++;
    }
    /* 3. matured unbonding entries are paid (empty ones just leave); an entry out of a
     * node an engine holds (a pending slash) stays, at its place in the queue */
    for (size_t k = 0, at = 0; k < matured; k++) {
        const opgi_unbonding *u = opgi_queue_at(&r->unbondings, at);
        if (opgi_node_held(r, &u->node) || opgi_into_held(r, &u->delegator, &u->node)) {
            at++;
            continue;
        }
        if (!opgi_u256_is_zero(&u->balance)) {
            opg_event *e = opgi_event_push(r, OPG_EVENT_UNBONDING_MATURED, NULL);
            e->account = u->delegator;
            e->node = u->node;
            e->amount = u->balance;
            OPGI_MUST(opg_u256_sub(&r->unbonding_balance, &r->unbonding_balance, &u->balance));
        }
        opgi_touch_unbonding(r, u);
        opgi_ubd_remove_at(r, at);
    }
    /* 4. the block's time and the updates above enter the consensus history */
    opgi_history_block(r, height, now);
    /* 5. matured redelegations complete */
    for (size_t k = 0, at = 0; k < red_matured; k++) {
        const opgi_redelegation *e = opgi_queue_at(&r->redelegations, at);
        if (opgi_node_held(r, &e->src)) {
            at++;
            continue;
        }
        opg_event *ev = opgi_event_push(r, OPG_EVENT_REDELEGATION_MATURED, NULL);
        ev->account = e->delegator;
        ev->node = e->src;
        ev->node2 = e->dst;
        ev->amount = e->initial_balance;
        opgi_touch_redelegation(r, e);
        opgi_red_remove_at(r, at);
    }
done:
    opgi_free(&r->alloc, rank, (size_t)(n_nodes ? n_nodes : 1) * sizeof *rank);
    opgi_free(&r->alloc, in_set, set_size);
    return rc;
}
