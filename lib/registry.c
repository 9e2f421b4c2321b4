/*
 * registry.c - the stake registry handle: parameters, node and delegation indexes,
 * node lifecycle, events, engines and queries. Stake movements are in
 * registry_stake.c, the block boundary in registry_block.c, records, commits and
 * snapshots in registry_records.c, the invariant check in registry_state.c.
 */
#include "registry_internal.h"
#include "registry_ops.h"

#include "num.h"

#include <stddef.h>
#include <stdlib.h>

/* ------------------------------------------------------------ parameters */

static int validate_params(const void *params, char *err)
{
    const opg_registry_params *p = params;
    if (p->max_validators == 0)
        return opgi_fail(err, OPG_EINVAL, "staking.max_validators must be positive", NULL);
    if (p->max_entries == 0)
        return opgi_fail(err, OPG_EINVAL, "staking.max_entries must be positive", NULL);
    if (opgi_u256_is_zero(&p->power_reduction))
        return opgi_fail(err, OPG_EINVAL, "staking.power_reduction must be positive", NULL);
    if (p->fix_redelegation_overslash != 0 && p->fix_redelegation_overslash != 1)
        return opgi_fail(err, OPG_EINVAL, "staking.fix_redelegation_overslash is a boolean", NULL);
    if (p->poa != 0 && p->poa != 1)
        return opgi_fail(err, OPG_EINVAL, "staking.poa is a boolean", NULL);
    return OPG_OK;
}

static const opgi_param registry_params[] = {
    {"staking.unbonding_time", OPGI_PARAM_SECS, offsetof(opg_registry_params, unbonding_time), "0", NULL},
    {"staking.max_validators", OPGI_PARAM_U32, offsetof(opg_registry_params, max_validators), "1", NULL},
    {"staking.max_entries", OPGI_PARAM_U32, offsetof(opg_registry_params, max_entries), "1", "64"},
    {"staking.min_commission_rate", OPGI_PARAM_DEC, offsetof(opg_registry_params, min_commission_rate), "0", "1"},
    {"staking.power_reduction", OPGI_PARAM_U256, offsetof(opg_registry_params, power_reduction), "1", NULL},
    {"staking.fix_redelegation_overslash", OPGI_PARAM_BOOL,
     offsetof(opg_registry_params, fix_redelegation_overslash), NULL, NULL},
    {"staking.poa", OPGI_PARAM_BOOL, offsetof(opg_registry_params, poa), NULL, NULL},
};

const opgi_param_table opgi_registry_param_table = {
    registry_params, OPGI_ARRAY_LEN(registry_params), sizeof(opg_registry_params),
    validate_params};

void opg_registry_params_init(opg_registry_params *p)
{
    memset(p, 0, sizeof *p);
    p->unbonding_time = 21 * 24 * 3600;
    p->max_validators = 100;
    p->max_entries = 7;
    opg_u256_from_u64(&p->power_reduction, 1000000);
}

/* The "staking." namespace: a copy is an opg_registry_params (params.h). */
static void params_begin(void *copy, const void *h)
{
    memcpy(copy, &((const opg_registry *)h)->params, sizeof(opg_registry_params));
}

static int params_stage(void *copy, const void *h, const char *key, const char *value,
                        char *err)
{
    (void)h; /* the rules are the table's alone */
    return opgi_params_set(&opgi_registry_param_table, copy, key, value, err);
}

static void params_commit(void *h, void *copy)
{
    memcpy(&((opg_registry *)h)->params, copy, sizeof(opg_registry_params));
}

const opgi_param_ns opgi_registry_param_ns = {
    .prefixes = {"staking.", NULL},
    .scratch_size = sizeof(opg_registry_params),
    .begin = params_begin,
    .stage = params_stage,
    .commit = params_commit,
};

int opg_registry_param_set(opg_registry *r, const char *key, const char *value)
{
    opgi_call_begin(r); /* a call that may change the registry: no stale events */
    return opgi_param_ns_set(&opgi_registry_param_ns, r, key, value, r->err);
}

int opg_registry_param_get(char *buf, size_t cap, size_t *needed, const opg_registry *r,
                           const char *key)
{
    char scratch[OPGI_ERRMSG_MAX];
    return opgi_params_get(&opgi_registry_param_table, &r->params, key, buf, cap, needed,
                           scratch);
}

const char *opg_registry_param_key(size_t i)
{
    return opgi_params_key(&opgi_registry_param_table, i);
}

void opg_registry_params_get(opg_registry_params *out, const opg_registry *r)
{
    *out = r->params;
}

uint64_t opgi_power_under(const opg_registry_params *p, const opg_u256 *tokens)
{
    opg_u256 q;
    uint64_t v;
    OPGI_MUST(opg_u256_divmod(&q, NULL, tokens, &p->power_reduction)); /* validated > 0 */
    if (opg_u256_to_u64(&v, &q) != OPG_OK || v > (uint64_t)INT64_MAX)
        return (uint64_t)INT64_MAX;
    return v;
}

/* ---------------------------------------------------------------- handle */

int opgi_registry_create(opg_registry **out, const opg_registry_params *params,
                         const opg_allocator *alloc, char *err)
{
    opg_allocator a;
    opgi_allocator_init(&a, alloc);
    opg_registry_params p;
    if (params)
        p = *params;
    else
        opg_registry_params_init(&p);
    int rc = opgi_params_check(&opgi_registry_param_table, &p, err);
    if (rc)
        return rc;
    opg_registry *r = opgi_alloc(&a, sizeof *r);
    if (!r)
        return OPG_ENOMEM;
    memset(r, 0, sizeof *r);
    r->alloc = a;
    r->params = p;
    r->unbondings.size = sizeof(opgi_unbonding);
    r->unbondings.time_offset = offsetof(opgi_unbonding, completion_time);
    r->unbondings.seq_offset = offsetof(opgi_unbonding, seq);
    r->redelegations.size = sizeof(opgi_redelegation);
    r->redelegations.time_offset = offsetof(opgi_redelegation, completion_time);
    r->redelegations.seq_offset = offsetof(opgi_redelegation, seq);
    r->del_free = OPGI_NONE;
    r->ubd_pairs.key_len = r->red_into.key_len = 2 * 32;
    r->red_triples.key_len = 3 * 32;
    r->ubd_nodes.key_len = r->ubd_dtors.key_len = r->red_srcs.key_len = r->red_dtors.key_len = 32;
    r->ubd_pairs.chained = 1 + OPGI_UBD_PAIR;
    r->ubd_nodes.chained = 1 + OPGI_UBD_NODE;
    r->ubd_dtors.chained = 1 + OPGI_UBD_DTOR;
    r->red_srcs.chained = 1 + OPGI_RED_SRC;
    r->red_dtors.chained = 1 + OPGI_RED_DTOR;
    r->ubd_links.free = r->red_links.free = OPGI_NONE;
    if ((rc = opgi_records_init(&r->records, &r->alloc)) != OPG_OK) {
        opgi_free(&a, r, sizeof *r);
        return rc;
    }
    *out = r;
    return OPG_OK;
}

int opg_registry_new(opg_registry **out, const opg_registry_params *params,
                     const opg_u256 *genesis_supply, const opg_allocator *alloc)
{
    char err[OPGI_ERRMSG_MAX];
    if (!out)
        return OPG_EINVAL;
    opg_registry *r;
    int rc = opgi_registry_create(&r, params, alloc, err);
    if (rc)
        return rc;
    if (genesis_supply)
        r->genesis_supply = *genesis_supply;
    *out = r;
    return OPG_OK;
}

void opg_registry_free(opg_registry *r)
{
    if (!r)
        return;
    const opg_allocator a = r->alloc;
    opgi_free(&a, r->nodes, (size_t)r->node_cap * sizeof *r->nodes);
    opgi_free(&a, r->by_operator, (size_t)r->node_cap * sizeof *r->by_operator);
    opgi_free(&a, r->by_key, (size_t)r->node_cap * sizeof *r->by_key);
    opgi_free(&a, r->by_addr, (size_t)r->node_cap * sizeof *r->by_addr);
    opgi_history_free(r);
    opgi_free(&a, r->dels, (size_t)r->del_cap * sizeof *r->dels);
    opgi_free(&a, r->del_index, (size_t)r->del_index_cap * sizeof *r->del_index);
    opgi_free(&a, r->dtor_index, (size_t)r->dtor_index_cap * sizeof *r->dtor_index);
    opgi_free(&a, r->unbondings.items, r->unbondings.cap * r->unbondings.size);
    opgi_free(&a, r->redelegations.items, r->redelegations.cap * r->redelegations.size);
    opgi_counter_free(r, &r->ubd_pairs);
    opgi_counter_free(r, &r->ubd_nodes);
    opgi_counter_free(r, &r->ubd_dtors);
    opgi_links_free(r, &r->ubd_links);
    opgi_counter_free(r, &r->red_into);
    opgi_counter_free(r, &r->red_triples);
    opgi_counter_free(r, &r->red_srcs);
    opgi_counter_free(r, &r->red_dtors);
    opgi_links_free(r, &r->red_links);
    opgi_free(&a, r->events, r->events_cap * sizeof *r->events);
    opgi_free(&a, r->scratch, r->scratch_cap);
    opgi_records_free(&r->records, &a);
    opgi_free(&a, r, sizeof *r);
}

const char *opg_registry_last_error(const opg_registry *r) { return r ? r->err : ""; }

/* Every mutating call starts here: no stale error text, and outside a bracket no
 * events of an earlier call. */
void opgi_call_begin(opg_registry *r)
{
    r->err[0] = '\0';
    if (r->depth == 0) {
        r->n_events = 0;
        r->events_room = 0;
    }
}

int opgi_call_enter(opg_registry *r, size_t events)
{
    opgi_call_begin(r);
    int rc = opgi_events_reserve(r, events);
    if (rc)
        return rc;
    r->depth++;
    return OPG_OK;
}

void opgi_call_leave(opg_registry *r)
{
    if (!OPGI_NEVER(r->err, r->depth == 0))
        r->depth--;
}

/* ------------------------------------------------------------ node index */

/* Binary search of key in a slot array sorted by the id at `offset` in opgi_node;
 * returns the position where it is or would be, *found set accordingly. */
static uint32_t node_search(const opg_registry *r, const uint32_t *idx, size_t offset,
                            const opg_id *key, int *found)
{
    uint32_t lo = 0, hi = r->node_count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const opg_id *at = (const opg_id *)(const void *)((const char *)&r->nodes[idx[mid]] + offset);
        int c = opg_id_cmp(at, key);
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

uint32_t opgi_node_find(const opg_registry *r, const opg_id *operator_id)
{
    int found;
    uint32_t at = node_search(r, r->by_operator, offsetof(opgi_node, operator_id), operator_id, &found);
    return found ? r->by_operator[at] : OPGI_NONE;
}

static uint32_t node_find_by_key(const opg_registry *r, const opg_id *key)
{
    int found;
    uint32_t at = node_search(r, r->by_key, offsetof(opgi_node, consensus_key), key, &found);
    return found ? r->by_key[at] : OPGI_NONE;
}

uint32_t opgi_node_find_by_addr(const opg_registry *r, const opg_id *addr)
{
    int found;
    uint32_t at = node_search(r, r->by_addr, offsetof(opgi_node, address), addr, &found);
    return found ? r->by_addr[at] : OPGI_NONE;
}

/* Makes room for one more node; returns the slot it will take. The four node
 * arrays grow together or not at all, so their recorded capacity stays exact. */
/* Grows the node arrays to at least `want` slots (doubling). */
static int nodes_grow(opg_registry *r, uint32_t want)
{
    if (want <= r->node_cap)
        return OPG_OK;
    uint32_t ncap = r->node_cap ? r->node_cap : 16;
    while (ncap < want) {
        if (ncap >= UINT32_MAX / 4)
            return OPG_ENOMEM;
        ncap *= 2;
    }
    opgi_node *n = opgi_alloc_array(&r->alloc, ncap, sizeof *n);
    uint32_t *a = opgi_alloc_array(&r->alloc, ncap, sizeof *a);
    uint32_t *b = opgi_alloc_array(&r->alloc, ncap, sizeof *b);
    uint32_t *c = opgi_alloc_array(&r->alloc, ncap, sizeof *c);
    if (!n || !a || !b || !c) {
        opgi_free(&r->alloc, n, (size_t)ncap * sizeof *n);
        opgi_free(&r->alloc, a, (size_t)ncap * sizeof *a);
        opgi_free(&r->alloc, b, (size_t)ncap * sizeof *b);
        opgi_free(&r->alloc, c, (size_t)ncap * sizeof *c);
        return OPG_ENOMEM;
    }
    memset(n, 0, (size_t)ncap * sizeof *n);
    if (r->node_cap) {
        memcpy(n, r->nodes, (size_t)r->node_cap * sizeof *n);
        memcpy(a, r->by_operator, (size_t)r->node_cap * sizeof *a);
        memcpy(b, r->by_key, (size_t)r->node_cap * sizeof *b);
        memcpy(c, r->by_addr, (size_t)r->node_cap * sizeof *c);
    }
    opgi_free(&r->alloc, r->nodes, (size_t)r->node_cap * sizeof *n);
    opgi_free(&r->alloc, r->by_operator, (size_t)r->node_cap * sizeof *a);
    opgi_free(&r->alloc, r->by_key, (size_t)r->node_cap * sizeof *b);
    opgi_free(&r->alloc, r->by_addr, (size_t)r->node_cap * sizeof *c);
    r->by_addr = c;
    r->nodes = n;
    r->by_operator = a;
    r->by_key = b;
    r->node_cap = ncap;
    return OPG_OK;
}

int opgi_node_reserve(opg_registry *r, uint32_t *slot)
{
    for (uint32_t i = 0; i < r->node_slots; i++)
        if (!r->nodes[i].in_use) {
            *slot = i;
            return OPG_OK;
        }
    if (r->node_slots == r->node_cap) {
        if (r->node_cap >= UINT32_MAX / 2)
            return OPG_ENOMEM;
        int rc = nodes_grow(r, r->node_cap ? r->node_cap * 2 : 16);
        if (rc)
            return rc;
    }
    *slot = r->node_slots;
    return OPG_OK;
}

int opgi_nodes_reserve(opg_registry *r, uint32_t *slots, size_t n)
{
    size_t k = 0;
    for (uint32_t i = 0; i < r->node_slots && k < n; i++)
        if (!r->nodes[i].in_use)
            slots[k++] = i;
    uint64_t top = (uint64_t)r->node_slots + (n - k);
    if (top >= UINT32_MAX / 4)
        return OPG_ENOMEM;
    for (uint32_t i = r->node_slots; k < n; i++)
        slots[k++] = i;
    return nodes_grow(r, (uint32_t)top);
}

static void index_insert(opg_registry *r, uint32_t *idx, size_t offset, uint32_t slot)
{
    int found;
    const opg_id *key = (const opg_id *)(const void *)((const char *)&r->nodes[slot] + offset);
    uint32_t at = node_search(r, idx, offset, key, &found);
    memmove(idx + at + 1, idx + at, (size_t)(r->node_count - at) * sizeof *idx);
    idx[at] = slot;
}

static void index_remove(opg_registry *r, uint32_t *idx, size_t offset, uint32_t slot)
{
    int found;
    const opg_id *key = (const opg_id *)(const void *)((const char *)&r->nodes[slot] + offset);
    uint32_t at = node_search(r, idx, offset, key, &found);
    memmove(idx + at, idx + at + 1, (size_t)(r->node_count - at - 1) * sizeof *idx);
}

/* Puts a fully initialised node into `slot` (reserved by opgi_node_reserve). */
void opgi_node_insert(opg_registry *r, uint32_t slot, const opgi_node *n)
{
    r->nodes[slot] = *n;
    r->nodes[slot].in_use = 1;
    opgi_consensus_address(&r->nodes[slot].address, &n->consensus_key);
    if (slot >= r->node_slots) /* a slot above the high-water mark: opgi_nodes_reserve */
        r->node_slots = slot + 1;
    index_insert(r, r->by_operator, offsetof(opgi_node, operator_id), slot);
    index_insert(r, r->by_key, offsetof(opgi_node, consensus_key), slot);
    index_insert(r, r->by_addr, offsetof(opgi_node, address), slot);
    r->node_count++;
}

void opgi_node_remove(opg_registry *r, uint32_t slot)
{
    for (size_t i = 0; i < r->n_engines; i++)
        if (r->engines[i].node_removed)
            r->engines[i].node_removed(r->engines[i].ctx, r, slot);
    opgi_event_push(r, OPG_EVENT_NODE_REMOVED, &r->nodes[slot]);
    index_remove(r, r->by_operator, offsetof(opgi_node, operator_id), slot);
    index_remove(r, r->by_key, offsetof(opgi_node, consensus_key), slot);
    index_remove(r, r->by_addr, offsetof(opgi_node, address), slot);
    r->node_count--;
    memset(&r->nodes[slot], 0, sizeof r->nodes[slot]);
    while (r->node_slots > 0 && !r->nodes[r->node_slots - 1].in_use)
        r->node_slots--;
}

uint64_t opgi_node_power(const opg_registry *r, const opgi_node *n)
{
    return opgi_power_under(&r->params, &n->tokens);
}

int opgi_tokens_from_shares(opg_dec *out, const opgi_node *n, const opg_dec *shares, int rounding)
{
    if (opgi_dec_is_zero(&n->delegator_shares)) {
        memset(out, 0, sizeof *out);
        return OPG_OK;
    }
    /* Cosmos: shares.MulInt(tokens) then Quo / QuoTruncate / QuoRoundUp by
     * delegator_shares. The product is kept at 512 bits, so where Cosmos would
     * overflow its Dec this still gives the exact value. */
    static const uint64_t one[1] = {1}, p[1] = {OPGI_P};
    static const uint64_t p2[2] = {UINT64_C(0xb34b9f1000000000), UINT64_C(0x00c097ce7bc90715)};
    uint64_t prod[8];
    OPGI_MUST(opgi_muldiv(prod, 8, shares->limb, 4, n->tokens.limb, 4, one, 1, OPGI_TRUNC));
    if (rounding == OPGI_HALF_EVEN) {
        /* quo: truncate prod * 10^36 / shares once, then half-even to 18 decimals */
        uint64_t t[10];
        int rc = opgi_muldiv(t, 10, prod, 8, p2, 2, n->delegator_shares.limb, 4, OPGI_TRUNC);
        if (rc)
            return rc;
        return opgi_muldiv(out->limb, 4, t, 10, one, 1, p, 1, OPGI_HALF_EVEN);
    }
    return opgi_muldiv(out->limb, 4, prod, 8, p, 1, n->delegator_shares.limb, 4,
                       rounding == OPGI_CEIL ? OPGI_CEIL : OPGI_TRUNC);
}

/* ------------------------------------------------------ delegation index */

static uint32_t del_hash(const opg_id *delegator, uint32_t node)
{
    return (uint32_t)opgi_mix64(opgi_hash_id(delegator) ^ ((uint64_t)node * UINT64_C(0x9e3779b97f4a7c15)));
}

uint32_t opgi_del_find(const opg_registry *r, const opg_id *delegator, uint32_t node)
{
    if (!r->del_index_cap)
        return OPGI_NONE;
    uint32_t mask = r->del_index_cap - 1;
    for (uint32_t i = del_hash(delegator, node) & mask;; i = (i + 1) & mask) {
        uint32_t v = r->del_index[i];
        if (v == 0)
            return OPGI_NONE;
        const opgi_delegation *d = &r->dels[v - 1];
        if (d->node == node && opg_id_cmp(&d->delegator, delegator) == 0)
            return v - 1;
    }
}

uint32_t opgi_del_first_of(const opg_registry *r, const opg_id *delegator)
{
    if (!r->dtor_index_cap)
        return OPGI_NONE;
    uint32_t mask = r->dtor_index_cap - 1;
    for (uint32_t i = (uint32_t)opgi_hash_id(delegator) & mask;; i = (i + 1) & mask) {
        uint32_t v = r->dtor_index[i];
        if (v == 0)
            return OPGI_NONE;
        if (opg_id_cmp(&r->dels[v - 1].delegator, delegator) == 0)
            return v - 1;
    }
}

/* Rebuilds both hash indexes at new capacities (powers of two). */
static int rehash(opg_registry *r, uint32_t del_cap, uint32_t dtor_cap)
{
    uint32_t *di = opgi_alloc_array(&r->alloc, del_cap, sizeof *di);
    uint32_t *ti = opgi_alloc_array(&r->alloc, dtor_cap, sizeof *ti);
    if (!di || !ti) {
        opgi_free(&r->alloc, di, (size_t)del_cap * sizeof *di);
        opgi_free(&r->alloc, ti, (size_t)dtor_cap * sizeof *ti);
        return OPG_ENOMEM;
    }
    memset(di, 0, (size_t)del_cap * sizeof *di);
    memset(ti, 0, (size_t)dtor_cap * sizeof *ti);
    /* delegation index: every live record */
    for (uint32_t s = 0; s < r->del_slots; s++) {
        const opgi_delegation *d = &r->dels[s];
        if (d->node == OPGI_NONE)
            continue;
        uint32_t i = del_hash(&d->delegator, d->node) & (del_cap - 1);
        while (di[i])
            i = (i + 1) & (del_cap - 1);
        di[i] = s + 1;
    }
    /* delegator index: carry over the chain heads */
    for (uint32_t k = 0; k < r->dtor_index_cap; k++) {
        uint32_t v = r->dtor_index[k];
        if (!v)
            continue;
        uint32_t i = (uint32_t)opgi_hash_id(&r->dels[v - 1].delegator) & (dtor_cap - 1);
        while (ti[i])
            i = (i + 1) & (dtor_cap - 1);
        ti[i] = v;
    }
    opgi_free(&r->alloc, r->del_index, (size_t)r->del_index_cap * sizeof *r->del_index);
    opgi_free(&r->alloc, r->dtor_index, (size_t)r->dtor_index_cap * sizeof *r->dtor_index);
    r->del_index = di;
    r->del_index_cap = del_cap;
    r->dtor_index = ti;
    r->dtor_index_cap = dtor_cap;
    return OPG_OK;
}

int opgi_del_reserve(opg_registry *r, uint32_t more)
{
    if ((uint64_t)r->del_count + more >= UINT32_MAX / 4)
        return OPG_ENOMEM;
    uint32_t want = r->del_count + more;
    /* a free slot makes room for one; for more (an engine reserving for a sequence of
     * calls) the free list is not counted and the array itself gets the room */
    if ((r->del_free == OPGI_NONE || more > 1) && r->del_slots + more > r->del_cap) {
        uint32_t ncap = r->del_cap ? r->del_cap : 64;
        while (ncap < r->del_slots + more)
            ncap *= 2;
        opgi_delegation *d = opgi_realloc(&r->alloc, r->dels, (size_t)r->del_cap * sizeof *d,
                                          (size_t)ncap * sizeof *d);
        if (!d)
            return OPG_ENOMEM;
        r->dels = d;
        r->del_cap = ncap;
    }
    /* keep both indexes at most half full */
    uint32_t dcap = r->del_index_cap ? r->del_index_cap : 128;
    while ((uint64_t)want * 2 > dcap)
        dcap *= 2;
    uint32_t tcap = r->dtor_index_cap ? r->dtor_index_cap : 128;
    while ((uint64_t)(r->dtor_count + more) * 2 > tcap)
        tcap *= 2;
    if (dcap != r->del_index_cap || tcap != r->dtor_index_cap)
        return rehash(r, dcap, tcap);
    return OPG_OK;
}

static void probe_insert(uint32_t *table, uint32_t cap, uint32_t start, uint32_t value)
{
    uint32_t i = start & (cap - 1);
    while (table[i])
        i = (i + 1) & (cap - 1);
    table[i] = value;
}

/* Backward-shift deletion for linear probing: no tombstones, probes stay short. */
static void probe_delete(uint32_t *table, uint32_t cap, uint32_t at,
                         uint32_t (*home)(const opg_registry *, uint32_t), const opg_registry *r)
{
    uint32_t mask = cap - 1, hole = at;
    table[hole] = 0;
    for (uint32_t i = (hole + 1) & mask; table[i]; i = (i + 1) & mask) {
        uint32_t h = home(r, table[i] - 1) & mask;
        /* move it into the hole if its home is not in (hole, i] cyclically */
        int between = hole <= i ? (h > hole && h <= i) : (h > hole || h <= i);
        if (!between) {
            table[hole] = table[i];
            table[i] = 0;
            hole = i;
        }
    }
}

static uint32_t del_home(const opg_registry *r, uint32_t slot)
{
    return del_hash(&r->dels[slot].delegator, r->dels[slot].node);
}

static uint32_t dtor_home(const opg_registry *r, uint32_t slot)
{
    return (uint32_t)opgi_hash_id(&r->dels[slot].delegator);
}

/* Adds a delegation record (room reserved); returns its slot. */
uint32_t opgi_del_add(opg_registry *r, const opg_id *delegator, uint32_t node)
{
    uint32_t s;
    if (r->del_free != OPGI_NONE) {
        s = r->del_free;
        r->del_free = r->dels[s].next;
    } else {
        s = r->del_slots++;
    }
    opgi_delegation *d = &r->dels[s];
    memset(d, 0, sizeof *d);
    d->delegator = *delegator;
    d->node = node;
    probe_insert(r->del_index, r->del_index_cap, del_hash(delegator, node), s + 1);
    /* link at the head of the delegator's chain */
    uint32_t head = opgi_del_first_of(r, delegator);
    d->next = head;
    if (head == OPGI_NONE) {
        probe_insert(r->dtor_index, r->dtor_index_cap, (uint32_t)opgi_hash_id(delegator), s + 1);
        r->dtor_count++;
    } else {
        uint32_t mask = r->dtor_index_cap - 1;
        for (uint32_t i = (uint32_t)opgi_hash_id(delegator) & mask;; i = (i + 1) & mask)
            if (r->dtor_index[i] == head + 1) {
                r->dtor_index[i] = s + 1;
                break;
            }
    }
    r->del_count++;
    r->nodes[node].delegation_count++;
    return s;
}

void opgi_del_remove(opg_registry *r, uint32_t s)
{
    opgi_delegation *d = &r->dels[s];
    uint32_t mask = r->del_index_cap - 1;
    for (uint32_t i = del_hash(&d->delegator, d->node) & mask;; i = (i + 1) & mask)
        if (r->del_index[i] == s + 1) {
            probe_delete(r->del_index, r->del_index_cap, i, del_home, r);
            break;
        }
    /* unlink from the delegator's chain */
    uint32_t head = opgi_del_first_of(r, &d->delegator);
    if (head == s) {
        uint32_t tmask = r->dtor_index_cap - 1;
        for (uint32_t i = (uint32_t)opgi_hash_id(&d->delegator) & tmask;; i = (i + 1) & tmask)
            if (r->dtor_index[i] == s + 1) {
                if (d->next != OPGI_NONE) {
                    r->dtor_index[i] = d->next + 1;
                } else {
                    probe_delete(r->dtor_index, r->dtor_index_cap, i, dtor_home, r);
                    r->dtor_count--;
                }
                break;
            }
    } else {
        uint32_t p = head;
        while (r->dels[p].next != s)
            p = r->dels[p].next;
        r->dels[p].next = d->next;
    }
    r->nodes[d->node].delegation_count--;
    r->del_count--;
    memset(d, 0, sizeof *d);
    d->node = OPGI_NONE;
    d->next = r->del_free;
    r->del_free = s;
}

/* -------------------------------------------------------- entry counters */

const unsigned char *opgi_key2(unsigned char *key, const opg_id *a, const opg_id *b)
{
    memcpy(key, a->bytes, 32);
    memcpy(key + 32, b->bytes, 32);
    return key;
}

const unsigned char *opgi_key3(unsigned char *key, const opg_id *a, const opg_id *b,
                               const opg_id *c)
{
    opgi_key2(key, a, b);
    memcpy(key + 64, c->bytes, 32);
    return key;
}

static uint32_t key_hash(const unsigned char *key, uint32_t len)
{
    uint64_t h = len;
    for (uint32_t w = 0; w < len; w += 8) {
        uint64_t v = 0;
        for (int i = 0; i < 8; i++)
            v = (v << 8) | key[w + (uint32_t)i];
        h = opgi_mix64(h ^ v ^ w);
    }
    return (uint32_t)h;
}

/* Bytes per slot: the key, the count, and with a chain its head and tail. */
static size_t slot_size(const opgi_counter *c)
{
    return (size_t)c->key_len + 4 + (c->chained ? 8 : 0);
}

static unsigned char *counter_slot(const opgi_counter *c, uint32_t i)
{
    return c->slots + (size_t)i * slot_size(c);
}

uint32_t opgi_counter_at(const opgi_counter *c, uint32_t slot)
{
    uint32_t n;
    memcpy(&n, counter_slot(c, slot) + c->key_len, sizeof n);
    return n;
}

static void counter_set(opgi_counter *c, uint32_t slot, uint32_t n)
{
    memcpy(counter_slot(c, slot) + c->key_len, &n, sizeof n);
}

/* The key's slot, or the free slot where it would go (*found 0). cap > 0. */
static uint32_t counter_probe(const opgi_counter *c, const unsigned char *key, int *found)
{
    uint32_t mask = c->cap - 1;
    for (uint32_t i = key_hash(key, c->key_len) & mask;; i = (i + 1) & mask) {
        uint32_t n = opgi_counter_at(c, i);
        if (n == 0 || memcmp(counter_slot(c, i), key, c->key_len) == 0) {
            *found = n != 0;
            return i;
        }
    }
}

uint32_t opgi_counter_find(const opgi_counter *c, const unsigned char *key)
{
    if (!c->cap)
        return OPGI_NONE;
    int found;
    uint32_t i = counter_probe(c, key, &found);
    return found ? i : OPGI_NONE;
}

uint32_t opgi_counter_get(const opgi_counter *c, const unsigned char *key)
{
    uint32_t i = opgi_counter_find(c, key);
    return i == OPGI_NONE ? 0 : opgi_counter_at(c, i);
}

int opgi_counter_reserve(opg_registry *r, opgi_counter *c, size_t more)
{
    if (more == 0)
        return OPG_OK;
    size_t want = (size_t)c->len + more;
    uint32_t cap = c->cap ? c->cap : 64;
    while (want * 2 > cap) {
        if (cap >= UINT32_MAX / 2)
            return OPG_ENOMEM;
        cap *= 2;
    }
    if (cap == c->cap)
        return OPG_OK;
    size_t size = slot_size(c);
    opgi_counter t = {opgi_alloc_array(&r->alloc, cap, size), cap, c->len, c->key_len, c->chained};
    if (!t.slots)
        return OPG_ENOMEM;
    memset(t.slots, 0, (size_t)cap * size);
    for (uint32_t k = 0; k < c->cap; k++) {
        const unsigned char *from = counter_slot(c, k);
        if (!opgi_counter_at(c, k))
            continue;
        int found;
        memcpy(counter_slot(&t, counter_probe(&t, from, &found)), from, size);
    }
    opgi_counter_free(r, c);
    *c = t;
    return OPG_OK;
}

void opgi_counter_add(opgi_counter *c, const unsigned char *key)
{
    int found;
    uint32_t i = counter_probe(c, key, &found);
    if (!found) {
        memcpy(counter_slot(c, i), key, c->key_len);
        c->len++;
    }
    counter_set(c, i, opgi_counter_at(c, i) + 1);
}

static void counter_sub_at(opgi_counter *c, uint32_t hole);

void opgi_counter_sub(opgi_counter *c, const unsigned char *key)
{
    uint32_t hole = opgi_counter_find(c, key);
    if (OPGI_NEVER(NULL, hole == OPGI_NONE)) /* every entry was counted */
        return;
    counter_sub_at(c, hole);
}

/* One less in a used slot; the key leaves at zero. */
static void counter_sub_at(opgi_counter *c, uint32_t hole)
{
    uint32_t n = opgi_counter_at(c, hole) - 1, mask = c->cap - 1;
    counter_set(c, hole, n);
    if (n)
        return;
    c->len--;
    /* backward-shift deletion, as for the delegation indexes */
    size_t size = slot_size(c);
    for (uint32_t i = (hole + 1) & mask; opgi_counter_at(c, i); i = (i + 1) & mask) {
        uint32_t h = key_hash(counter_slot(c, i), c->key_len) & mask;
        int between = hole <= i ? (h > hole && h <= i) : (h > hole || h <= i);
        if (!between) {
            memcpy(counter_slot(c, hole), counter_slot(c, i), size);
            counter_set(c, i, 0);
            hole = i;
        }
    }
}

void opgi_counter_free(opg_registry *r, opgi_counter *c)
{
    opgi_free(&r->alloc, c->slots, (size_t)c->cap * slot_size(c));
    c->slots = NULL;
    c->cap = c->len = 0;
}

/* ---------------------------------------------------------------- chains */

static uint32_t chain_end(const opgi_counter *c, uint32_t slot, int tail)
{
    uint32_t v;
    memcpy(&v, counter_slot(c, slot) + c->key_len + 4 + (tail ? 4 : 0), sizeof v);
    return v;
}

static void chain_set_end(opgi_counter *c, uint32_t slot, int tail, uint32_t v)
{
    memcpy(counter_slot(c, slot) + c->key_len + 4 + (tail ? 4 : 0), &v, sizeof v);
}

uint32_t opgi_chain_end_at(const opgi_counter *c, uint32_t slot, int tail)
{
    return chain_end(c, slot, tail);
}

uint32_t opgi_chain_first(const opgi_counter *c, const unsigned char *key)
{
    uint32_t s = opgi_counter_find(c, key);
    return s == OPGI_NONE ? OPGI_NONE : chain_end(c, s, 0);
}

uint32_t opgi_chain_last(const opgi_counter *c, const unsigned char *key)
{
    uint32_t s = opgi_counter_find(c, key);
    return s == OPGI_NONE ? OPGI_NONE : chain_end(c, s, 1);
}

void opgi_links_free(opg_registry *r, opgi_links *l)
{
    opgi_free(&r->alloc, l->items, (size_t)l->cap * sizeof *l->items);
    l->items = NULL;
    l->cap = l->used = l->n_free = 0;
    l->free = OPGI_NONE;
}

/* Room for `more` links beyond those in use. */
static int links_reserve(opg_registry *r, opgi_links *l, size_t more)
{
    if (more <= (size_t)(l->cap - l->used) + l->n_free)
        return OPG_OK;
    size_t want = (size_t)l->used + (more - l->n_free);
    if (want >= UINT32_MAX / 2)
        return OPG_ENOMEM;
    size_t cap = l->cap ? l->cap : 16;
    while (cap < want)
        cap *= 2;
    opgi_link *p = opgi_realloc(&r->alloc, l->items, (size_t)l->cap * sizeof *p, cap * sizeof *p);
    if (!p)
        return OPG_ENOMEM;
    l->items = p;
    l->cap = (uint32_t)cap;
    return OPG_OK;
}

static uint32_t link_alloc(opgi_links *l, opg_time t, uint64_t seq)
{
    uint32_t i;
    if (l->free != OPGI_NONE) {
        i = l->free;
        l->free = l->items[i].next[0];
        l->n_free--;
    } else {
        (void)OPGI_NEVER(NULL, l->used >= l->cap); /* reserved */
        i = l->used++;
    }
    opgi_link *x = &l->items[i];
    x->time = t;
    x->seq = seq;
    for (int k = 0; k < OPGI_CHAINS; k++)
        x->next[k] = x->prev[k] = OPGI_NONE;
    return i;
}

static void link_release(opgi_links *l, uint32_t i)
{
    l->items[i].next[0] = l->free;
    l->free = i;
    l->n_free++;
}

/* a before b in queue order (completion time, then seq) */
static int link_before(const opgi_link *a, const opgi_link *b)
{
    return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

/* Counts link l under key and puts it into the key's chain at its queue position:
 * searched from the tail, where a new entry almost always goes (or straight at the
 * head when it comes first). Room was reserved. */
static void chain_insert(opgi_links *L, opgi_counter *c, const unsigned char *key, uint32_t l)
{
    int ch = (int)c->chained - 1, found;
    uint32_t s = counter_probe(c, key, &found);
    opgi_link *x = &L->items[l];
    if (!found) {
        memcpy(counter_slot(c, s), key, c->key_len);
        c->len++;
        counter_set(c, s, 1);
        chain_set_end(c, s, 0, l);
        chain_set_end(c, s, 1, l);
        x->prev[ch] = x->next[ch] = OPGI_NONE;
        return;
    }
    counter_set(c, s, opgi_counter_at(c, s) + 1);
    uint32_t head = chain_end(c, s, 0), at = chain_end(c, s, 1);
    if (link_before(x, &L->items[head])) {
        x->prev[ch] = OPGI_NONE;
        x->next[ch] = head;
        L->items[head].prev[ch] = l;
        chain_set_end(c, s, 0, l);
        return;
    }
    while (link_before(x, &L->items[at])) /* stops at the head at the latest */
        at = L->items[at].prev[ch];
    uint32_t nx = L->items[at].next[ch];
    x->prev[ch] = at;
    x->next[ch] = nx;
    L->items[at].next[ch] = l;
    if (nx == OPGI_NONE)
        chain_set_end(c, s, 1, l);
    else
        L->items[nx].prev[ch] = l;
}

static void chain_remove(opgi_links *L, opgi_counter *c, const unsigned char *key, uint32_t l)
{
    int ch = (int)c->chained - 1;
    uint32_t s = opgi_counter_find(c, key);
    if (OPGI_NEVER(NULL, s == OPGI_NONE)) /* every entry was chained */
        return;
    const opgi_link *x = &L->items[l];
    uint32_t p = x->prev[ch], n = x->next[ch];
    if (p == OPGI_NONE)
        chain_set_end(c, s, 0, n);
    else
        L->items[p].next[ch] = n;
    if (n == OPGI_NONE)
        chain_set_end(c, s, 1, p);
    else
        L->items[n].prev[ch] = p;
    counter_sub_at(c, s);
}

int opgi_ubd_reserve(opg_registry *r, size_t more)
{
    int rc;
    if ((rc = opgi_queue_reserve(r, &r->unbondings, more)) != OPG_OK ||
        (rc = opgi_counter_reserve(r, &r->ubd_pairs, more)) != OPG_OK ||
        (rc = opgi_counter_reserve(r, &r->ubd_nodes, more)) != OPG_OK ||
        (rc = opgi_counter_reserve(r, &r->ubd_dtors, more)) != OPG_OK)
        return rc;
    return links_reserve(r, &r->ubd_links, more);
}

void opgi_ubd_insert(opg_registry *r, opgi_unbonding *u)
{
    unsigned char key[OPGI_KEY_MAX];
    uint32_t l = link_alloc(&r->ubd_links, u->completion_time, u->seq);
    u->link = l;
    opgi_queue_insert(&r->unbondings, u, u->completion_time);
    chain_insert(&r->ubd_links, &r->ubd_pairs, opgi_key2(key, &u->delegator, &u->node), l);
    chain_insert(&r->ubd_links, &r->ubd_nodes, u->node.bytes, l);
    chain_insert(&r->ubd_links, &r->ubd_dtors, u->delegator.bytes, l);
}

void opgi_ubd_remove_at(opg_registry *r, size_t i)
{
    unsigned char key[OPGI_KEY_MAX];
    const opgi_unbonding *u = opgi_queue_at(&r->unbondings, i);
    uint32_t l = u->link;
    chain_remove(&r->ubd_links, &r->ubd_pairs, opgi_key2(key, &u->delegator, &u->node), l);
    chain_remove(&r->ubd_links, &r->ubd_nodes, u->node.bytes, l);
    chain_remove(&r->ubd_links, &r->ubd_dtors, u->delegator.bytes, l);
    link_release(&r->ubd_links, l);
    opgi_queue_remove_at(&r->unbondings, i);
}

int opgi_red_reserve(opg_registry *r, size_t more)
{
    int rc;
    if ((rc = opgi_queue_reserve(r, &r->redelegations, more)) != OPG_OK ||
        (rc = opgi_counter_reserve(r, &r->red_into, more)) != OPG_OK ||
        (rc = opgi_counter_reserve(r, &r->red_triples, more)) != OPG_OK ||
        (rc = opgi_counter_reserve(r, &r->red_srcs, more)) != OPG_OK ||
        (rc = opgi_counter_reserve(r, &r->red_dtors, more)) != OPG_OK)
        return rc;
    return links_reserve(r, &r->red_links, more);
}

void opgi_red_insert(opg_registry *r, opgi_redelegation *e)
{
    unsigned char key[OPGI_KEY_MAX];
    uint32_t l = link_alloc(&r->red_links, e->completion_time, e->seq);
    e->link = l;
    opgi_queue_insert(&r->redelegations, e, e->completion_time);
    opgi_counter_add(&r->red_into, opgi_key2(key, &e->delegator, &e->dst));
    opgi_counter_add(&r->red_triples, opgi_key3(key, &e->delegator, &e->src, &e->dst));
    chain_insert(&r->red_links, &r->red_srcs, e->src.bytes, l);
    chain_insert(&r->red_links, &r->red_dtors, e->delegator.bytes, l);
}

void opgi_red_remove_at(opg_registry *r, size_t i)
{
    unsigned char key[OPGI_KEY_MAX];
    const opgi_redelegation *e = opgi_queue_at(&r->redelegations, i);
    uint32_t l = e->link;
    opgi_counter_sub(&r->red_into, opgi_key2(key, &e->delegator, &e->dst));
    opgi_counter_sub(&r->red_triples, opgi_key3(key, &e->delegator, &e->src, &e->dst));
    chain_remove(&r->red_links, &r->red_srcs, e->src.bytes, l);
    chain_remove(&r->red_links, &r->red_dtors, e->delegator.bytes, l);
    link_release(&r->red_links, l);
    opgi_queue_remove_at(&r->redelegations, i);
}

opgi_unbonding *opgi_ubd_at_link(const opg_registry *r, uint32_t l)
{
    const opgi_link *x = &r->ubd_links.items[l];
    size_t i = opgi_queue_find(&r->unbondings, x->time, x->seq);
    if (OPGI_NEVER(NULL, i == SIZE_MAX)) /* a chained link is a queued entry */
        i = 0;
    return opgi_queue_at(&r->unbondings, i);
}

opgi_redelegation *opgi_red_at_link(const opg_registry *r, uint32_t l)
{
    const opgi_link *x = &r->red_links.items[l];
    size_t i = opgi_queue_find(&r->redelegations, x->time, x->seq);
    if (OPGI_NEVER(NULL, i == SIZE_MAX))
        i = 0;
    return opgi_queue_at(&r->redelegations, i);
}

/* ---------------------------------------------------------------- events */

/* Capacity for `need` events (need * sizeof(opg_event) fits a size_t). */
static int events_grow(opg_registry *r, size_t need)
{
    if (need <= r->events_cap)
        return OPG_OK;
    size_t ncap = r->events_cap ? r->events_cap : 16;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / sizeof(opg_event) / 2 ? need : 2 * ncap;
    opg_event *e = opgi_realloc(&r->alloc, r->events, r->events_cap * sizeof *e,
                                ncap * sizeof *e);
    if (!e)
        return OPG_ENOMEM;
    r->events = e;
    r->events_cap = ncap;
    return OPG_OK;
}

/* Test builds may make every reservation short by this many events, to prove that a
 * push past the reservation stops a debug build (test/short_bound.c). */
#ifndef OPGI_TEST_EVENT_SHORTFALL
#define OPGI_TEST_EVENT_SHORTFALL 0
#endif

int opgi_events_reserve(opg_registry *r, size_t more)
{
    more = more > OPGI_TEST_EVENT_SHORTFALL ? more - OPGI_TEST_EVENT_SHORTFALL : 0;
    if (more > SIZE_MAX / sizeof(opg_event) - r->n_events)
        return opgi_fail(r->err, OPG_ENOMEM, "event bound too large", NULL);
    size_t need = r->n_events + more;
    /* every event names a record at most, and a few records change without one; a
     * bracket reserved for the calls it makes */
    if (r->depth == 0 && opgi_records_reserve(&r->records, &r->alloc, 2 * more + 8) != OPG_OK)
        return opgi_fail(r->err, OPG_ENOMEM, NULL, NULL);
    if (need <= r->events_room)
        return OPG_OK;
    /* inside a bracket the bracket reserved for every call it makes */
    (void)OPGI_NEVER(r->err, r->depth > 0);
    int rc = events_grow(r, need);
    if (rc)
        return opgi_fail(r->err, rc, NULL, NULL);
    r->events_room = need;
    return OPG_OK;
}

opg_event *opgi_event_push(opg_registry *r, opg_event_kind kind, const opgi_node *node)
{
    /* Room was reserved by the bound of the operation. Past it is a bug that debug
     * builds stop at; release builds still keep the event whenever memory allows. */
    if (OPGI_NEVER(r->err, r->n_events >= r->events_room)) {
        if (events_grow(r, r->n_events + 1) != OPG_OK) {
            memset(&r->event_sink, 0, sizeof r->event_sink);
            return &r->event_sink;
        }
        r->events_room = r->n_events + 1;
    }
    opg_event *e = &r->events[r->n_events++];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    if (node) {
        e->node = node->operator_id;
        e->status = (opg_node_status)node->status;
    }
    return e;
}

const opg_event *opg_registry_events(const opg_registry *r, size_t *count)
{
    if (count)
        *count = r->n_events;
    return r->events;
}

/* --------------------------------------------------------------- engines */

int opgi_registry_attach(opg_registry *r, const opgi_engine_hooks *hooks)
{
    if (r->n_engines == OPGI_MAX_ENGINES)
        return opgi_fail(r->err, OPG_ENOMEM, "too many engines on one registry", NULL);
    r->engines[r->n_engines++] = *hooks;
    return OPG_OK;
}

void opgi_unbond_guard_add(opg_registry *r, opgi_unbond_guard *g)
{
    g->next = r->guards;
    r->guards = g;
}

void opgi_unbond_guard_remove(opg_registry *r, opgi_unbond_guard *g)
{
    for (opgi_unbond_guard **at = &r->guards; *at; at = &(*at)->next)
        if (*at == g) {
            *at = g->next;
            g->next = NULL;
            return;
        }
}

int opgi_unbond_guards_check(opg_registry *r, const opg_id *delegator, opg_time now)
{
    for (const opgi_unbond_guard *g = r->guards; g; g = g->next) {
        int rc = g->check(g->ctx, delegator, now, r->err);
        if (rc)
            return rc;
    }
    return OPG_OK;
}

void opgi_registry_detach(opg_registry *r, void *ctx)
{
    for (size_t i = 0; i < r->n_engines; i++)
        if (r->engines[i].ctx == ctx) {
            memmove(&r->engines[i], &r->engines[i + 1],
                    (r->n_engines - i - 1) * sizeof r->engines[0]);
            r->n_engines--;
            return;
        }
}

int opgi_engines_prepare(opg_registry *r, const opgi_plan *plan)
{
    for (size_t i = 0; i < r->n_engines; i++)
        if (r->engines[i].prepare) {
            int rc = r->engines[i].prepare(r->engines[i].ctx, r, plan);
            if (rc)
                return rc;
        }
    return OPG_OK;
}

size_t opgi_engine_events(const opg_registry *r, size_t calls)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_engines; i++)
        n += r->engines[i].events_per_call * calls;
    return n;
}

/* ----------------------------------------------------------------- nodes */

static int check_commission(char *err, const opg_node_create *c, const opg_dec *min_rate)
{
    opg_dec one;
    opg_dec_from_u64(&one, 1);
    if (opg_dec_cmp(&c->commission_max_rate, &one) > 0)
        return opgi_fail(err, OPG_ECOMMISSION, "max_rate above 1", NULL);
    if (opg_dec_cmp(&c->commission_rate, &c->commission_max_rate) > 0)
        return opgi_fail(err, OPG_ECOMMISSION, "rate above max_rate", NULL);
    if (opg_dec_cmp(&c->commission_max_change_rate, &c->commission_max_rate) > 0)
        return opgi_fail(err, OPG_ECOMMISSION, "max_change_rate above max_rate", NULL);
    if (opg_dec_cmp(&c->commission_rate, min_rate) < 0)
        return opgi_fail(err, OPG_ECOMMISSION, "rate below min_commission_rate", NULL);
    return OPG_OK;
}

/* node_create: the node_created hook and the self-delegation's two hook calls */
size_t opgi_events_node_create(const opg_registry *r) { return opgi_engine_events(r, 3); }

int opgi_check_node_create(char *err, const opg_registry *r, const opg_node_create *c,
                           const opg_dec *min_commission_rate, opg_dec *shares)
{
    int rc;
    if (c->roles == 0 || (c->roles & ~OPG_ROLE_ALL))
        return opgi_fail(err, OPG_EINVAL, "roles must be a non-empty set of OPG_ROLE_* bits", NULL);
    if (opgi_node_find(r, &c->operator_id) != OPGI_NONE)
        return opgi_fail(err, OPG_EEXISTS, "operator id already has a node", NULL);
    if ((rc = opgi_consensus_key_check(&c->consensus_key)) != OPG_OK)
        return opgi_fail(err, rc, "consensus key is not a canonical Ed25519 point of prime order", NULL);
    opg_id addr;
    opgi_consensus_address(&addr, &c->consensus_key);
    if (opgi_tomb_has(r, &addr))
        return opgi_fail(err, OPG_ETOMBSTONED,
                         "consensus key was tombstoned: it can never register again", NULL);
    if (node_find_by_key(r, &c->consensus_key) != OPGI_NONE ||
        opgi_node_find_by_addr(r, &addr) != OPGI_NONE)
        return opgi_fail(err, OPG_EEXISTS, "consensus key already in use", NULL);
    if ((rc = check_commission(err, c, min_commission_rate)) != OPG_OK)
        return rc;
    if (opgi_u256_is_zero(&c->min_self_delegation))
        return opgi_fail(err, OPG_EZERO, "min_self_delegation must be positive", NULL);
    if (opg_u256_cmp(&c->self_delegation, &c->min_self_delegation) < 0)
        return opgi_fail(err, OPG_ESELFBOND, "self_delegation below min_self_delegation", NULL);
    if ((rc = opg_dec_from_int(shares, &c->self_delegation)) != OPG_OK)
        return opgi_fail(err, rc, "self_delegation too large", NULL);
    return OPG_OK;
}

void opgi_apply_node_create(opg_registry *r, const opg_node_create *c, uint32_t slot,
                            const opg_dec *shares, opg_time now)
{
    opgi_node n;
    memset(&n, 0, sizeof n);
    n.operator_id = c->operator_id;
    n.consensus_key = c->consensus_key;
    n.roles = c->roles;
    n.status = OPG_NODE_UNBONDED;
    n.rate = c->commission_rate;
    n.max_rate = c->commission_max_rate;
    n.max_change_rate = c->commission_max_change_rate;
    n.commission_update_time = now;
    n.min_self_delegation = c->min_self_delegation;
    opgi_node_insert(r, slot, &n);
    opgi_touch_node(r, slot);
    for (size_t i = 0; i < r->n_engines; i++)
        if (r->engines[i].node_created)
            r->engines[i].node_created(r->engines[i].ctx, r, slot);
    opgi_apply_delegate(r, &c->operator_id, slot, OPGI_NONE, &c->self_delegation, shares);
}

int opg_registry_node_create(opg_registry *r, const opg_node_create *c, opg_height height,
                             opg_time now)
{
    int rc = opgi_stake_call_begin(r, height, now);
    if (rc)
        return rc;
    OPGI_CHECK_ARG(r->err, c);
    if ((rc = opgi_poa_refuse(r, "node creation refused")) != OPG_OK)
        return rc;
    opg_dec shares;
    if ((rc = opgi_check_node_create(r->err, r, c, &r->params.min_commission_rate, &shares)) != OPG_OK)
        return rc;

    uint32_t slot;
    if ((rc = opgi_node_reserve(r, &slot)) || (rc = opgi_del_reserve(r, 1)) ||
        (rc = opgi_events_reserve(r, opgi_events_node_create(r))))
        return opgi_fail(r->err, rc, NULL, NULL);
    opgi_plan plan = {&slot, 1, NULL, 0, slot, 0};
    if ((rc = opgi_engines_prepare(r, &plan)) != OPG_OK)
        return rc;
    opgi_apply_node_create(r, c, slot, &shares, now);
    return OPG_OK;
}

static int node_for_edit(opg_registry *r, const opg_id *operator_id, uint32_t *slot)
{
    if (!r)
        return OPG_EINVAL;
    opgi_call_begin(r);
    OPGI_CHECK_ARG(r->err, operator_id);
    *slot = opgi_node_find(r, operator_id);
    if (*slot == OPGI_NONE)
        return opgi_fail(r->err, OPG_ENOTFOUND, "no node with this operator id", NULL);
    return opgi_touch_reserve(r, 1); /* the node's record */
}

int opg_registry_node_set_commission(opg_registry *r, const opg_id *operator_id,
                                     const opg_dec *rate, opg_time now)
{
    uint32_t s;
    int rc = node_for_edit(r, operator_id, &s);
    if (rc)
        return rc;
    opgi_node *n = &r->nodes[s];
    /* 24 h since the last change; a clock before it is too soon. The difference of two
     * opg_time values may not fit one: compare without forming it signed. */
    if (now < n->commission_update_time ||
        (uint64_t)now - (uint64_t)n->commission_update_time < 24 * 3600)
        return opgi_fail(r->err, OPG_ETOOSOON, "commission changed less than 24 h ago", NULL);
    if (opg_dec_cmp(rate, &n->max_rate) > 0)
        return opgi_fail(r->err, OPG_ECOMMISSION, "rate above max_rate", NULL);
    if (opg_dec_cmp(rate, &r->params.min_commission_rate) < 0)
        return opgi_fail(r->err, OPG_ECOMMISSION, "rate below min_commission_rate", NULL);
    opg_dec rise;
    if (opg_dec_sub(&rise, rate, &n->rate) == OPG_OK &&
        opg_dec_cmp(&rise, &n->max_change_rate) > 0)
        return opgi_fail(r->err, OPG_ECOMMISSION, "increase above max_change_rate", NULL);
    n->rate = *rate;
    n->commission_update_time = now;
    opgi_touch_node(r, s);
    return OPG_OK;
}

int opg_registry_node_set_min_self_delegation(opg_registry *r, const opg_id *operator_id,
                                              const opg_u256 *min)
{
    uint32_t s;
    int rc = node_for_edit(r, operator_id, &s);
    if (rc)
        return rc;
    opgi_node *n = &r->nodes[s];
    if (opg_u256_cmp(min, &n->min_self_delegation) <= 0)
        return opgi_fail(r->err, OPG_EINVAL, "min_self_delegation may only increase", NULL);
    if (opg_u256_cmp(min, &n->tokens) > 0)
        return opgi_fail(r->err, OPG_ESELFBOND, "min_self_delegation above the node's tokens", NULL);
    n->min_self_delegation = *min;
    opgi_touch_node(r, s);
    return OPG_OK;
}

int opg_registry_node_set_roles(opg_registry *r, const opg_id *operator_id, uint32_t roles)
{
    uint32_t s;
    int rc = node_for_edit(r, operator_id, &s);
    if (rc)
        return rc;
    if (roles == 0 || (roles & ~OPG_ROLE_ALL))
        return opgi_fail(r->err, OPG_EINVAL, "roles must be a non-empty set of OPG_ROLE_* bits", NULL);
    r->nodes[s].roles = roles;
    opgi_touch_node(r, s);
    return OPG_OK;
}

/* Self-bond of the node in whole tokens (truncated), 0 without a self-delegation. */
void opgi_self_bond(opg_u256 *out, const opg_registry *r, uint32_t slot)
{
    const opgi_node *n = &r->nodes[slot];
    uint32_t d = opgi_del_find(r, &n->operator_id, slot);
    memset(out, 0, sizeof *out);
    if (d == OPGI_NONE)
        return;
    opg_dec t;
    if (opgi_tokens_from_shares(&t, n, &r->dels[d].shares, OPGI_HALF_EVEN) == OPG_OK)
        opg_dec_truncate_int(out, &t);
}

int opg_registry_unjail(opg_registry *r, const opg_id *operator_id, opg_time now)
{
    uint32_t s;
    int rc = node_for_edit(r, operator_id, &s);
    if (rc)
        return rc;
    opgi_node *n = &r->nodes[s];
    if (!n->jailed)
        return opgi_fail(r->err, OPG_ENOTJAILED, NULL, NULL);
    if (n->tombstoned)
        return opgi_fail(r->err, OPG_ETOMBSTONED, "a tombstoned node never unjails", NULL);
    if (now < n->jailed_until)
        return opgi_fail(r->err, OPG_ETOOSOON, "jail period not over", NULL);
    opg_u256 self;
    opgi_self_bond(&self, r, s);
    if (opg_u256_cmp(&self, &n->min_self_delegation) < 0)
        return opgi_fail(r->err, OPG_ESELFBOND, "self-bond below min_self_delegation", NULL);
    n->jailed = 0;
    opgi_touch_node(r, s);
    return OPG_OK;
}

int opg_registry_jail(opg_registry *r, const opg_id *operator_id, opg_time until)
{
    uint32_t s;
    int rc = node_for_edit(r, operator_id, &s);
    if (rc)
        return rc;
    if (r->nodes[s].jailed)
        return opgi_fail(r->err, OPG_EJAILED, "node already jailed", NULL);
    if ((rc = opgi_events_reserve(r, opgi_events_jail(r))) != OPG_OK)
        return rc;
    opgi_jail(r, s, until);
    return OPG_OK;
}

/* a jail: its event */
size_t opgi_events_jail(const opg_registry *r)
{
    (void)r;
    return 1;
}

void opgi_jail(opg_registry *r, uint32_t slot, opg_time until)
{
    opgi_node *n = &r->nodes[slot];
    n->jailed = 1;
    if (until > n->jailed_until)
        n->jailed_until = until;
    opgi_touch_node(r, slot);
    opgi_event_push(r, OPG_EVENT_NODE_JAILED, n); /* opgi_events_jail */
}

int opgi_registry_jail_until(opg_registry *r, uint32_t slot, opg_time until)
{
    opgi_node *n = &r->nodes[slot];
    if (n->jailed) {
        if (until > n->jailed_until)
            n->jailed_until = until;
        opgi_touch_node(r, slot);
        return 0;
    }
    opgi_jail(r, slot, until);
    return 1;
}

int opg_registry_tombstone(opg_registry *r, const opg_id *operator_id)
{
    uint32_t s;
    int rc = node_for_edit(r, operator_id, &s);
    if (rc)
        return rc;
    if ((rc = opgi_tomb_reserve(r, 1)) != OPG_OK || (rc = opgi_touch_reserve(r, 2)) != OPG_OK)
        return opgi_fail(r->err, rc, NULL, NULL);
    opgi_tomb_node(r, s); /* touches the node and its tombstone */
    return OPG_OK;
}

/* --------------------------------------------------------------- queries */

static void node_info(opg_node_info *o, const opg_registry *r, const opgi_node *n)
{
    memset(o, 0, sizeof *o);
    o->operator_id = n->operator_id;
    o->consensus_key = n->consensus_key;
    o->roles = n->roles;
    o->status = (opg_node_status)n->status;
    o->jailed = n->jailed;
    o->tombstoned = n->tombstoned;
    o->jailed_until = n->jailed_until;
    o->tokens = n->tokens;
    o->delegator_shares = n->delegator_shares;
    o->commission_rate = n->rate;
    o->commission_max_rate = n->max_rate;
    o->commission_max_change_rate = n->max_change_rate;
    o->commission_update_time = n->commission_update_time;
    o->min_self_delegation = n->min_self_delegation;
    o->unbonding_height = n->unbonding_height;
    o->unbonding_time = n->unbonding_time;
    o->power = opgi_node_power(r, n);
    o->delegation_count = n->delegation_count;
}

int opg_registry_node_get(opg_node_info *out, const opg_registry *r, const opg_id *operator_id)
{
    if (!out || !r || !operator_id)
        return OPG_EINVAL;
    uint32_t s = opgi_node_find(r, operator_id);
    if (s == OPGI_NONE)
        return OPG_ENOTFOUND;
    node_info(out, r, &r->nodes[s]);
    return OPG_OK;
}

int opg_registry_node_by_consensus_key(opg_id *operator_id, const opg_registry *r,
                                       const opg_id *key)
{
    if (!operator_id || !r || !key)
        return OPG_EINVAL;
    uint32_t s = node_find_by_key(r, key);
    if (s == OPGI_NONE)
        return OPG_ENOTFOUND;
    *operator_id = r->nodes[s].operator_id;
    return OPG_OK;
}

size_t opg_registry_node_count(const opg_registry *r) { return r ? r->node_count : 0; }

int opg_registry_node_at(opg_node_info *out, const opg_registry *r, size_t i)
{
    if (!out || !r)
        return OPG_EINVAL;
    if (i >= r->node_count)
        return OPG_ENOTFOUND;
    node_info(out, r, &r->nodes[r->by_operator[i]]);
    return OPG_OK;
}

static void delegation_info(opg_delegation_info *o, const opg_registry *r, uint32_t d)
{
    const opgi_delegation *del = &r->dels[d];
    const opgi_node *n = &r->nodes[del->node];
    o->delegator = del->delegator;
    o->operator_id = n->operator_id;
    o->shares = del->shares;
    opg_dec t;
    memset(&o->tokens, 0, sizeof o->tokens);
    if (opgi_tokens_from_shares(&t, n, &del->shares, OPGI_HALF_EVEN) == OPG_OK)
        opg_dec_truncate_int(&o->tokens, &t);
}

int opg_registry_delegation_get(opg_delegation_info *out, const opg_registry *r,
                                const opg_id *delegator, const opg_id *operator_id)
{
    if (!out || !r || !delegator || !operator_id)
        return OPG_EINVAL;
    uint32_t s = opgi_node_find(r, operator_id);
    uint32_t d = s == OPGI_NONE ? OPGI_NONE : opgi_del_find(r, delegator, s);
    if (d == OPGI_NONE)
        return OPG_ENOTFOUND;
    delegation_info(out, r, d);
    return OPG_OK;
}

size_t opg_registry_delegation_count(const opg_registry *r) { return r ? r->del_count : 0; }

static int cmp_delegation_info(const void *a, const void *b)
{
    return opg_id_cmp(&((const opg_delegation_info *)a)->operator_id,
                      &((const opg_delegation_info *)b)->operator_id);
}

int opg_registry_delegations_of(opg_delegation_info *out, size_t cap, size_t *count,
                                const opg_registry *r, const opg_id *delegator)
{
    if (!r || !delegator || (!out && cap))
        return OPG_EINVAL;
    size_t n = 0;
    for (uint32_t d = opgi_del_first_of(r, delegator); d != OPGI_NONE; d = r->dels[d].next)
        n++;
    if (count)
        *count = n;
    if (n > cap)
        return OPG_EBUFS;
    size_t i = 0;
    for (uint32_t d = opgi_del_first_of(r, delegator); d != OPGI_NONE; d = r->dels[d].next)
        delegation_info(&out[i++], r, d);
    if (n > 1)
        qsort(out, n, sizeof *out, cmp_delegation_info);
    return OPG_OK;
}

int opg_registry_unbondings_of(opg_unbonding_info *out, size_t cap, size_t *count,
                               const opg_registry *r, const opg_id *delegator)
{
    if (!r || !delegator || (!out && cap))
        return OPG_EINVAL;
    size_t n = 0; /* the delegator's chain: its entries in queue order */
    for (uint32_t l = opgi_chain_first(&r->ubd_dtors, delegator->bytes); l != OPGI_NONE;
         l = r->ubd_links.items[l].next[OPGI_UBD_DTOR]) {
        if (n >= cap) { /* only the count is still wanted */
            n++;
            continue;
        }
        const opgi_unbonding *u = opgi_ubd_at_link(r, l);
        opg_unbonding_info *o = &out[n++];
        o->delegator = u->delegator;
        o->operator_id = u->node;
        o->creation_height = u->creation_height;
        o->completion_time = u->completion_time;
        o->initial_balance = u->initial_balance;
        o->balance = u->balance;
    }
    if (count)
        *count = n;
    return n > cap ? OPG_EBUFS : OPG_OK;
}

int opg_registry_redelegations_of(opg_redelegation_info *out, size_t cap, size_t *count,
                                  const opg_registry *r, const opg_id *delegator)
{
    if (!r || !delegator || (!out && cap))
        return OPG_EINVAL;
    size_t n = 0;
    for (uint32_t l = opgi_chain_first(&r->red_dtors, delegator->bytes); l != OPGI_NONE;
         l = r->red_links.items[l].next[OPGI_RED_DTOR]) {
        if (n >= cap) {
            n++;
            continue;
        }
        const opgi_redelegation *e = opgi_red_at_link(r, l);
        opg_redelegation_info *o = &out[n++];
        o->delegator = e->delegator;
        o->src = e->src;
        o->dst = e->dst;
        o->creation_height = e->creation_height;
        o->completion_time = e->completion_time;
        o->initial_balance = e->initial_balance;
        o->shares_dst = e->shares_dst;
    }
    if (count)
        *count = n;
    return n > cap ? OPG_EBUFS : OPG_OK;
}

/* ---------------------------------------------------------------- ledger */

void opg_registry_supply(opg_supply_info *o, const opg_registry *r)
{
    memset(o, 0, sizeof *o);
    opgi_ledger_total_supply(&o->total_supply, r);
    o->minted = r->minted;
    o->burned = r->burned;
    o->unbonding = r->unbonding_balance;
    for (uint32_t i = 0; i < r->node_count; i++) {
        const opgi_node *n = &r->nodes[r->by_operator[i]];
        opg_u256 *sum = n->status == OPG_NODE_BONDED ? &o->bonded : &o->unbonding;
        if (opg_u256_add(sum, sum, &n->tokens)) /* amounts the host made up: saturate */
            memset(sum->limb, 0xff, sizeof sum->limb);
    }
    o->community_pool = r->community_pool;
    o->outstanding_rewards = r->outstanding_rewards;
    if (!opgi_u256_is_zero(&o->total_supply)) {
        /* bonded / supply as a Dec, truncated: bonded * 10^18 / supply */
        const uint64_t P[1] = {OPGI_P};
        if (opgi_muldiv(o->staking_ratio.limb, 4, o->bonded.limb, 4, P, 1,
                        o->total_supply.limb, 4, OPGI_TRUNC) != OPG_OK)
            memset(&o->staking_ratio, 0, sizeof o->staking_ratio);
    }
}

int opg_registry_supply_mint(opg_registry *r, const opg_u256 *amount)
{
    if (!r)
        return OPG_EINVAL;
    opgi_call_begin(r);
    OPGI_CHECK_ARG(r->err, amount);
    opg_u256 m, total;
    if (opg_u256_add(&m, &r->minted, amount) || opg_u256_add(&total, &r->genesis_supply, &m))
        return opgi_fail(r->err, OPG_EOVERFLOW, "supply would overflow", NULL);
    r->minted = m;
    return OPG_OK;
}

int opg_registry_supply_burn(opg_registry *r, const opg_u256 *amount)
{
    if (!r)
        return OPG_EINVAL;
    opgi_call_begin(r);
    OPGI_CHECK_ARG(r->err, amount);
    opg_supply_info s;
    opg_registry_supply(&s, r);
    if (opg_u256_cmp(amount, &s.total_supply) > 0)
        return opgi_fail(r->err, OPG_EUNDERFLOW, "burn above the total supply", NULL);
    opgi_ledger_burn(r, amount);
    return OPG_OK;
}

void opgi_ledger_total_supply(opg_u256 *out, const opg_registry *r)
{
    /* the sum fits: supply_mint refuses more */
    opg_u256 s;
    if (OPGI_NEVER(NULL, opg_u256_add(&s, &r->genesis_supply, &r->minted) != OPG_OK))
        memset(s.limb, 0xff, sizeof s.limb);
    if (opg_u256_sub(out, &s, &r->burned) != OPG_OK)
        memset(out->limb, 0, sizeof out->limb);
}

void opgi_ledger_burn(opg_registry *r, const opg_u256 *amount)
{
    /* Stake amounts come from the host, so burns of stake the host made up could add
     * past 2^256 - 1: the total then stays there (the same on every replica). */
    if (opg_u256_add(&r->burned, &r->burned, amount) != OPG_OK)
        memset(r->burned.limb, 0xff, sizeof r->burned.limb);
}

int opgi_ledger_mint_check(const opg_registry *r, const opg_u256 *amount)
{
    opg_u256 m, total;
    if (opg_u256_add(&m, &r->minted, amount) || opg_u256_add(&total, &r->genesis_supply, &m))
        return OPG_EOVERFLOW;
    return OPG_OK;
}

void opgi_ledger_mint(opg_registry *r, const opg_u256 *amount)
{
    /* opgi_ledger_mint_check passed it */
    if (OPGI_NEVER(r->err, opg_u256_add(&r->minted, &r->minted, amount) != OPG_OK))
        memset(r->minted.limb, 0xff, sizeof r->minted.limb);
}

void opgi_ledger_unburn(opg_registry *r, const opg_u256 *amount)
{
    if (OPGI_NEVER(r->err, opg_u256_sub(&r->burned, &r->burned, amount) != OPG_OK))
        memset(r->burned.limb, 0, sizeof r->burned.limb);
}

void opgi_ledger_set_pools(opg_registry *r, const opg_u256 *community_pool,
                           const opg_u256 *outstanding_rewards)
{
    r->community_pool = *community_pool;
    r->outstanding_rewards = *outstanding_rewards;
}

/* ---------------------------------------------------------------- queues */

void *opgi_queue_at(const opgi_queue *q, size_t i) { return q->items + (q->head + i) * q->size; }

int opgi_queue_reserve(opg_registry *r, opgi_queue *q, size_t more)
{
    if (q->head + q->len + more <= q->cap)
        return OPG_OK;
    /* reclaim the consumed front when the queue is then at most half full (each
     * reclaim buys cap / 2 insertions: O(1) amortized), else grow */
    if (q->head && q->len + more <= q->cap / 2) {
        memmove(q->items, q->items + q->head * q->size, q->len * q->size);
        q->head = 0;
        return OPG_OK;
    }
    size_t ncap = q->cap ? q->cap * 2 : 16;
    while (ncap < q->len + more)
        ncap *= 2;
    unsigned char *p = opgi_realloc(&r->alloc, q->items, q->cap * q->size, ncap * q->size);
    if (!p)
        return OPG_ENOMEM;
    q->items = p;
    q->cap = ncap;
    if (q->head) {
        memmove(q->items, q->items + q->head * q->size, q->len * q->size);
        q->head = 0;
    }
    return OPG_OK;
}

static opg_time queue_time(const opgi_queue *q, size_t i)
{
    opg_time t;
    memcpy(&t, (const unsigned char *)opgi_queue_at(q, i) + q->time_offset, sizeof t);
    return t;
}

size_t opgi_queue_lower_bound(const opgi_queue *q, opg_time t)
{
    size_t lo = 0, hi = q->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (queue_time(q, mid) < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void opgi_queue_insert(opgi_queue *q, const void *item, opg_time completion_time)
{
    /* after every item due at or before completion_time: (time, seq) order, since a
     * new item has the highest seq */
    size_t lo = 0, hi = q->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (queue_time(q, mid) <= completion_time)
            lo = mid + 1;
        else
            hi = mid;
    }
    unsigned char *at = opgi_queue_at(q, lo);
    memmove(at + q->size, at, (q->len - lo) * q->size);
    memcpy(at, item, q->size);
    q->len++;
}

size_t opgi_queue_find(const opgi_queue *q, opg_time t, uint64_t seq)
{
    size_t lo = 0, hi = q->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const unsigned char *item = opgi_queue_at(q, mid);
        opg_time mt;
        uint64_t ms;
        memcpy(&mt, item + q->time_offset, sizeof mt);
        memcpy(&ms, item + q->seq_offset, sizeof ms);
        if (mt < t || (mt == t && ms < seq))
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == q->len)
        return SIZE_MAX;
    const unsigned char *item = opgi_queue_at(q, lo);
    opg_time mt;
    uint64_t ms;
    memcpy(&mt, item + q->time_offset, sizeof mt);
    memcpy(&ms, item + q->seq_offset, sizeof ms);
    return mt == t && ms == seq ? lo : SIZE_MAX;
}

void opgi_queue_remove_at(opgi_queue *q, size_t i)
{
    /* the shorter side moves: the front (matured entries) is the common case */
    if (i < q->len / 2 || i == 0) {
        unsigned char *first = opgi_queue_at(q, 0);
        memmove(first + q->size, first, i * q->size);
        q->head++;
        q->len--;
        if (q->len == 0)
            q->head = 0;
        return;
    }
    unsigned char *at = opgi_queue_at(q, i);
    memmove(at, at + q->size, (q->len - i - 1) * q->size);
    q->len--;
}

int opgi_registry_reserve(opg_registry *r, uint32_t new_dels, size_t unbondings,
                          size_t redelegations)
{
    int rc = OPG_OK;
    if (new_dels)
        rc = opgi_del_reserve(r, new_dels);
    if (rc == OPG_OK && unbondings)
        rc = opgi_ubd_reserve(r, unbondings);
    if (rc == OPG_OK && redelegations)
        rc = opgi_red_reserve(r, redelegations);
    return rc;
}

uint32_t opgi_dtor_home(const opg_registry *r, const opg_id *delegator)
{
    return r->dtor_index_cap ? (uint32_t)opgi_hash_id(delegator) & (r->dtor_index_cap - 1) : 0;
}
