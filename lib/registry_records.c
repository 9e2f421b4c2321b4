/*
 * registry_records.c - the registry's state as records: keys, values, the commit,
 * export in key order, and loading from a record stream.
 *
 * Keys (tag OPG_RECORDS_REGISTRY, then the kind, then ids; integers big-endian):
 *   params        tag 0
 *   ledger        tag 1
 *   node          tag 2 operator
 *   delegation    tag 3 delegator operator
 *   unbonding     tag 4 delegator operator seq
 *   redelegation  tag 5 delegator src dst seq
 *   block time    tag 6 height                   (the consensus history)
 *   power         tag 7 consensus key height     (the consensus history)
 *   tombstone     tag 8 address (20 bytes)
 * Values begin with a format byte (1) and follow with the fields in the order the
 * encoders below write them, in the canonical field forms of lib/codec.h.
 */
#include "registry_ops.h"

#include "codec.h"
#include "records.h"

#include <stdlib.h>


/* A hint to the cache where the compiler has one; nothing otherwise. */
#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif
#define PREFETCH_AHEAD 8

enum {
    KIND_PARAMS = 0,
    KIND_LEDGER = 1,
    KIND_NODE = 2,
    KIND_DELEGATION = 3,
    KIND_UNBONDING = 4,
    KIND_REDELEGATION = 5,
    KIND_BLOCK_TIME = 6,
    KIND_POWER = 7,
    KIND_TOMBSTONE = 8
};

/* ------------------------------------------------------------------ keys */

static size_t key_begin(uint8_t *key, int kind)
{
    key[0] = OPG_RECORDS_REGISTRY;
    key[1] = (uint8_t)kind;
    return 2;
}

static size_t key_id(uint8_t *key, size_t at, const opg_id *id)
{
    memcpy(key + at, id->bytes, 32);
    return at + 32;
}

static size_t key_u64(uint8_t *key, size_t at, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        key[at + (size_t)i] = (uint8_t)v;
    return at + 8;
}

static uint64_t key_get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static size_t node_key(uint8_t *key, const opg_id *op)
{
    return key_id(key, key_begin(key, KIND_NODE), op);
}

static size_t delegation_key(uint8_t *key, const opg_id *delegator, const opg_id *op)
{
    return key_id(key, key_id(key, key_begin(key, KIND_DELEGATION), delegator), op);
}

static size_t unbonding_key(uint8_t *key, const opgi_unbonding *u)
{
    size_t at = key_id(key, key_id(key, key_begin(key, KIND_UNBONDING), &u->delegator), &u->node);
    return key_u64(key, at, u->seq);
}

static size_t block_time_key(uint8_t *key, opg_height height)
{
    return key_u64(key, key_begin(key, KIND_BLOCK_TIME), height);
}

static size_t power_key(uint8_t *key, const opg_id *consensus_key, opg_height height)
{
    return key_u64(key, key_id(key, key_begin(key, KIND_POWER), consensus_key), height);
}

static size_t tombstone_key(uint8_t *key, const opg_id *address)
{
    size_t at = key_begin(key, KIND_TOMBSTONE);
    memcpy(key + at, address->bytes, 20);
    return at + 20;
}

static size_t redelegation_key(uint8_t *key, const opgi_redelegation *e)
{
    size_t at = key_id(key, key_begin(key, KIND_REDELEGATION), &e->delegator);
    at = key_id(key, key_id(key, at, &e->src), &e->dst);
    return key_u64(key, at, e->seq);
}

/* ---------------------------------------------------------------- touches */

static void touch(opg_registry *r, const uint8_t *key, size_t len, int64_t hint)
{
    opgi_records_touch(&r->records, &r->alloc, r->err, key, len, hint);
}

void opgi_touch_node(opg_registry *r, uint32_t slot)
{
    uint8_t key[OPGI_RECORD_KEY_MAX];
    touch(r, key, node_key(key, &r->nodes[slot].operator_id), 0);
}

void opgi_touch_delegation(opg_registry *r, uint32_t del)
{
    const opgi_delegation *d = &r->dels[del];
    uint8_t key[OPGI_RECORD_KEY_MAX];
    touch(r, key, delegation_key(key, &d->delegator, &r->nodes[d->node].operator_id), 0);
}

void opgi_touch_unbonding(opg_registry *r, const opgi_unbonding *u)
{
    uint8_t key[OPGI_RECORD_KEY_MAX];
    touch(r, key, unbonding_key(key, u), u->completion_time);
}

void opgi_touch_redelegation(opg_registry *r, const opgi_redelegation *e)
{
    uint8_t key[OPGI_RECORD_KEY_MAX];
    touch(r, key, redelegation_key(key, e), e->completion_time);
}

void opgi_touch_block_time(opg_registry *r, opg_height height)
{
    uint8_t key[OPGI_RECORD_KEY_MAX];
    touch(r, key, block_time_key(key, height), 0);
}

void opgi_touch_power(opg_registry *r, const opgi_power_rec *p)
{
    uint8_t key[OPGI_RECORD_KEY_MAX];
    touch(r, key, power_key(key, &p->key, p->height), 0);
}

void opgi_touch_tombstone(opg_registry *r, const opg_id *address)
{
    uint8_t key[OPGI_RECORD_KEY_MAX];
    touch(r, key, tombstone_key(key, address), 0);
}

int opgi_touch_reserve(opg_registry *r, size_t more)
{
    int rc = opgi_records_reserve(&r->records, &r->alloc, more);
    return rc ? opgi_fail(r->err, rc, "no memory for the records a call changes", NULL) : OPG_OK;
}

/* ---------------------------------------------------------------- values */

static void params_value(opgi_writer *w, const opg_registry *r)
{
    const opg_registry_params *p = &r->params;
    opgi_w_u8(w, OPGI_VALUE_FORMAT);
    opgi_w_i64(w, p->unbonding_time);
    opgi_w_u32(w, p->max_validators);
    opgi_w_u32(w, p->max_entries);
    opgi_w_dec(w, &p->min_commission_rate);
    opgi_w_u256(w, &p->power_reduction);
    opgi_w_u8(w, (uint8_t)p->fix_redelegation_overslash);
    opgi_w_u8(w, (uint8_t)p->poa);
}

static void ledger_value(opgi_writer *w, const opg_registry *r)
{
    opgi_w_u8(w, OPGI_VALUE_FORMAT);
    opgi_w_u256(w, &r->genesis_supply);
    opgi_w_u256(w, &r->minted);
    opgi_w_u256(w, &r->burned);
    opgi_w_u256(w, &r->community_pool);
    opgi_w_u256(w, &r->outstanding_rewards);
    opgi_w_u256(w, &r->unbonding_balance);
    opgi_w_u64(w, r->next_seq);
}

static void node_value(opgi_writer *w, const opgi_node *n)
{
    opgi_w_u8(w, OPGI_VALUE_FORMAT);
    opgi_w_id(w, &n->consensus_key);
    opgi_w_u32(w, n->roles);
    opgi_w_u8(w, n->status);
    opgi_w_u8(w, n->jailed);
    opgi_w_u8(w, n->tombstoned);
    opgi_w_i64(w, n->jailed_until);
    opgi_w_u256(w, &n->tokens);
    opgi_w_dec(w, &n->delegator_shares);
    opgi_w_dec(w, &n->rate);
    opgi_w_dec(w, &n->max_rate);
    opgi_w_dec(w, &n->max_change_rate);
    opgi_w_i64(w, n->commission_update_time);
    opgi_w_u256(w, &n->min_self_delegation);
    opgi_w_u64(w, n->unbonding_height);
    opgi_w_i64(w, n->unbonding_time);
    opgi_w_u64(w, n->last_power);
}

static void delegation_value(opgi_writer *w, const opgi_delegation *d)
{
    opgi_w_u8(w, OPGI_VALUE_FORMAT);
    opgi_w_dec(w, &d->shares);
    opgi_w_u64(w, d->f1.period);
    opgi_w_u64(w, d->f1.height);
    opgi_w_dec(w, &d->f1.stake);
}

static void unbonding_value(opgi_writer *w, const opgi_unbonding *u)
{
    opgi_w_u8(w, OPGI_VALUE_FORMAT);
    opgi_w_u64(w, u->creation_height);
    opgi_w_i64(w, u->completion_time);
    opgi_w_u256(w, &u->initial_balance);
    opgi_w_u256(w, &u->balance);
}

static void redelegation_value(opgi_writer *w, const opgi_redelegation *e)
{
    opgi_w_u8(w, OPGI_VALUE_FORMAT);
    opgi_w_u64(w, e->creation_height);
    opgi_w_i64(w, e->completion_time);
    opgi_w_u256(w, &e->initial_balance);
    opgi_w_dec(w, &e->shares_dst);
}

static const opgi_block_time *block_time_find(const opg_registry *r, opg_height height)
{
    size_t lo = r->times_head, hi = r->n_times;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->times[mid].height < height)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->n_times && r->times[lo].height == height ? &r->times[lo] : NULL;
}

static const opgi_power_rec *power_find(const opg_registry *r, const opg_id *k, opg_height height)
{
    size_t lo = 0, hi = r->n_powers;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = opg_id_cmp(&r->powers[mid].key, k);
        if (c < 0 || (c == 0 && r->powers[mid].height < height))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->n_powers && opg_id_cmp(&r->powers[lo].key, k) == 0 &&
                   r->powers[lo].height == height
               ? &r->powers[lo]
               : NULL;
}

static void block_time_value(opgi_writer *w, const opgi_block_time *t)
{
    opgi_w_u8(w, OPGI_VALUE_FORMAT);
    opgi_w_i64(w, t->time);
}

static void power_value(opgi_writer *w, const opgi_power_rec *p)
{
    opgi_w_u8(w, OPGI_VALUE_FORMAT);
    opgi_w_u64(w, p->power);
}

static void tombstone_value(opgi_writer *w) { opgi_w_u8(w, OPGI_VALUE_FORMAT); }

/* The entry with this completion time and seq: the queues are in (time, seq) order,
 * so a binary search finds it whatever else matures at the same time. */
static const void *queue_find(const opgi_queue *q, opg_time t, uint64_t seq, size_t seq_offset)
{
    size_t lo = 0, hi = q->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const unsigned char *item = opgi_queue_at(q, mid);
        opg_time mt;
        uint64_t ms;
        memcpy(&mt, item + q->time_offset, sizeof mt);
        memcpy(&ms, item + seq_offset, sizeof ms);
        if (mt < t || (mt == t && ms < seq))
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == q->len)
        return NULL;
    const unsigned char *item = opgi_queue_at(q, lo);
    opg_time mt;
    uint64_t ms;
    memcpy(&mt, item + q->time_offset, sizeof mt);
    memcpy(&ms, item + seq_offset, sizeof ms);
    return mt == t && ms == seq ? item : NULL;
}

static int key_id_at(opg_id *id, const opgi_touch *t, size_t at)
{
    memcpy(id->bytes, t->key + at, 32);
    return 1;
}

/* The commit's question: the record a touched key names, as it is now. */
static int record_value(opgi_writer *w, const void *owner, const opgi_touch *t)
{
    const opg_registry *r = owner;
    opg_id a, b;
    switch (t->key[1]) {
    case KIND_PARAMS:
        params_value(w, r);
        return 1;
    case KIND_LEDGER:
        ledger_value(w, r);
        return 1;
    case KIND_NODE: {
        key_id_at(&a, t, 2);
        uint32_t s = opgi_node_find(r, &a);
        if (s == OPGI_NONE)
            return 0;
        node_value(w, &r->nodes[s]);
        return 1;
    }
    case KIND_DELEGATION: {
        key_id_at(&a, t, 2);
        key_id_at(&b, t, 34);
        uint32_t s = opgi_node_find(r, &b);
        uint32_t d = s == OPGI_NONE ? OPGI_NONE : opgi_del_find(r, &a, s);
        if (d == OPGI_NONE)
            return 0;
        delegation_value(w, &r->dels[d]);
        return 1;
    }
    case KIND_UNBONDING: {
        const opgi_unbonding *u = queue_find(&r->unbondings, t->hint, key_get_u64(t->key + 66),
                                             offsetof(opgi_unbonding, seq));
        if (!u)
            return 0;
        unbonding_value(w, u);
        return 1;
    }
    case KIND_REDELEGATION: {
        const opgi_redelegation *e = queue_find(&r->redelegations, t->hint,
                                                key_get_u64(t->key + 98),
                                                offsetof(opgi_redelegation, seq));
        if (!e)
            return 0;
        redelegation_value(w, e);
        return 1;
    }
    case KIND_BLOCK_TIME: {
        const opgi_block_time *bt = block_time_find(r, key_get_u64(t->key + 2));
        if (bt)
            block_time_value(w, bt);
        return bt != NULL;
    }
    case KIND_POWER: {
        key_id_at(&a, t, 2);
        const opgi_power_rec *p = power_find(r, &a, key_get_u64(t->key + 34));
        if (p)
            power_value(w, p);
        return p != NULL;
    }
    case KIND_TOMBSTONE: {
        memset(&a, 0, sizeof a);
        memcpy(a.bytes, t->key + 2, 20);
        if (!opgi_tomb_has(r, &a))
            return 0;
        tombstone_value(w);
        return 1;
    }
    }
    (void)OPGI_NEVER(NULL, 1); /* only the keys above are ever touched */
    return 0;
}

/* The singletons, re-encoded at every commit: cheaper than touching them at every
 * one of the many places that move the ledger. */
static size_t singletons(opgi_touch extra[2])
{
    memset(extra, 0, 2 * sizeof *extra);
    extra[0].len = (uint8_t)key_begin(extra[0].key, KIND_PARAMS);
    extra[1].len = (uint8_t)key_begin(extra[1].key, KIND_LEDGER);
    return 2;
}

static int each_record(const void *owner, opgi_record_sink sink, void *ctx)
{
    return opgi_registry_each_record(owner, sink, ctx);
}

int opg_registry_commit(uint8_t root[32], const opg_record **changes, size_t *count,
                        opg_registry *r)
{
    if (!r)
        return OPG_EINVAL;
    opgi_call_begin(r);
    OPGI_CHECK_ARG(r->err, root && changes && count);
    OPGI_CHECK_ARG(r->err, r->depth == 0);
    opgi_touch extra[2];
    opgi_record_owner o = {r, record_value, each_record, extra, singletons(extra)};
    int rc = opgi_records_commit(root, changes, count, &r->records, &r->alloc, &o);
    return rc ? opgi_fail(r->err, rc, "commit", NULL) : OPG_OK;
}

void opg_registry_root(uint8_t root[32], const opg_registry *r)
{
    if (root && r)
        opgi_merkle_root(r->records.tree, root);
}

/* ------------------------------------------------------------ all records */

static int cmp_ubd_key(const void *x, const void *y)
{
    const opgi_unbonding *a = *(const opgi_unbonding *const *)x, *b = *(const opgi_unbonding *const *)y;
    int c = opg_id_cmp(&a->delegator, &b->delegator);
    if (!c)
        c = opg_id_cmp(&a->node, &b->node);
    return c ? c : (a->seq > b->seq) - (a->seq < b->seq);
}

static int cmp_red_key(const void *x, const void *y)
{
    const opgi_redelegation *a = *(const opgi_redelegation *const *)x;
    const opgi_redelegation *b = *(const opgi_redelegation *const *)y;
    int c = opg_id_cmp(&a->delegator, &b->delegator);
    if (!c)
        c = opg_id_cmp(&a->src, &b->src);
    if (!c)
        c = opg_id_cmp(&a->dst, &b->dst);
    return c ? c : (a->seq > b->seq) - (a->seq < b->seq);
}

/* Sorted pointers to the live entries of q, by their keys. */
static int sorted_entries(const opg_registry *r, const opgi_queue *q,
                          int (*cmp)(const void *, const void *), const void ***out)
{
    size_t n = q->len ? q->len : 1;
    const void **p = opgi_alloc_array(&r->alloc, n, sizeof *p);
    if (!p)
        return OPG_ENOMEM;
    for (size_t i = 0; i < q->len; i++)
        p[i] = opgi_queue_at(q, i);
    if (q->len > 1)
        qsort(p, q->len, sizeof *p, cmp);
    *out = p;
    return OPG_OK;
}

int opgi_registry_each_record(const opg_registry *r, opgi_record_sink sink, void *ctx)
{
    opgi_emitter *em = opgi_emitter_new(&r->alloc, sink, ctx);
    if (!em)
        return OPG_ENOMEM;
    const void **ubd = NULL, **red = NULL;
    opgi_del_ref *dels = NULL;
    int rc = sorted_entries(r, &r->unbondings, cmp_ubd_key, &ubd);
    if (rc == OPG_OK)
        rc = sorted_entries(r, &r->redelegations, cmp_red_key, &red);
    if (rc == OPG_OK)
        rc = opgi_sorted_delegations(r, &dels);
    uint8_t key[OPGI_RECORD_KEY_MAX];
    if (rc == OPG_OK) {
        params_value(opgi_emit_begin(em), r);
        rc = opgi_emit(em, key, key_begin(key, KIND_PARAMS));
    }
    if (rc == OPG_OK) {
        ledger_value(opgi_emit_begin(em), r);
        rc = opgi_emit(em, key, key_begin(key, KIND_LEDGER));
    }
    for (uint32_t i = 0; rc == OPG_OK && i < r->node_count; i++) {
        const opgi_node *n = &r->nodes[r->by_operator[i]];
        node_value(opgi_emit_begin(em), n);
        rc = opgi_emit(em, key, node_key(key, &n->operator_id));
    }
    for (uint32_t i = 0; rc == OPG_OK && i < r->del_count; i++) {
        /* key order is random in the pool: ask for a record a few keys ahead */
        if (i + PREFETCH_AHEAD < r->del_count)
            PREFETCH(dels[i + PREFETCH_AHEAD].d);
        const opgi_delegation *d = dels[i].d;
        delegation_value(opgi_emit_begin(em), d);
        rc = opgi_emit(em, key, delegation_key(key, &d->delegator, &r->nodes[d->node].operator_id));
    }
    for (size_t i = 0; rc == OPG_OK && i < r->unbondings.len; i++) {
        unbonding_value(opgi_emit_begin(em), ubd[i]);
        rc = opgi_emit(em, key, unbonding_key(key, ubd[i]));
    }
    for (size_t i = 0; rc == OPG_OK && i < r->redelegations.len; i++) {
        redelegation_value(opgi_emit_begin(em), red[i]);
        rc = opgi_emit(em, key, redelegation_key(key, red[i]));
    }
    for (size_t i = r->times_head; rc == OPG_OK && i < r->n_times; i++) {
        block_time_value(opgi_emit_begin(em), &r->times[i]);
        rc = opgi_emit(em, key, block_time_key(key, r->times[i].height));
    }
    for (size_t i = 0; rc == OPG_OK && i < r->n_powers; i++) {
        power_value(opgi_emit_begin(em), &r->powers[i]);
        rc = opgi_emit(em, key, power_key(key, &r->powers[i].key, r->powers[i].height));
    }
    for (size_t i = 0; rc == OPG_OK && i < r->n_tombs; i++) {
        tombstone_value(opgi_emit_begin(em));
        rc = opgi_emit(em, key, tombstone_key(key, &r->tombs[i]));
    }
    opgi_free(&r->alloc, ubd, (r->unbondings.len ? r->unbondings.len : 1) * sizeof *ubd);
    opgi_free(&r->alloc, red, (r->redelegations.len ? r->redelegations.len : 1) * sizeof *red);
    if (dels)
        opgi_sorted_delegations_free(r, dels);
    opgi_emitter_free(em, &r->alloc);
    return rc;
}

int opg_registry_records(opg_registry *r, opg_record_sink fn, void *ctx)
{
    if (!r)
        return OPG_EINVAL;
    opgi_call_begin(r);
    OPGI_CHECK_ARG(r->err, fn);
    return opgi_records_export(each_record, r, fn, ctx);
}

int opg_registry_root_from_scratch(uint8_t root[32], const opg_registry *r)
{
    if (!root || !r)
        return OPG_EINVAL;
    return opgi_records_root_from_scratch(root, &r->alloc, each_record, r);
}

/* ------------------------------------------------------------------- keys */

int opg_registry_key_node(uint8_t key[OPG_RECORD_KEY_MAX], size_t *len, const opg_id *operator_id)
{
    if (!key || !len || !operator_id)
        return OPG_EINVAL;
    *len = node_key(key, operator_id);
    return OPG_OK;
}

int opg_registry_key_delegation(uint8_t key[OPG_RECORD_KEY_MAX], size_t *len,
                                const opg_id *delegator, const opg_id *operator_id)
{
    if (!key || !len || !delegator || !operator_id)
        return OPG_EINVAL;
    *len = delegation_key(key, delegator, operator_id);
    return OPG_OK;
}

int opg_registry_prove(uint8_t *buf, size_t cap, size_t *len, const opg_registry *r,
                       const uint8_t *key, size_t key_len)
{
    if (!len || !r || !key || (!buf && cap))
        return OPG_EINVAL;
    return opgi_records_prove(&r->records, buf, cap, len, key, key_len);
}

/* ------------------------------------------------------------------ load */

typedef struct loader {
    opg_registry *r;
    opgi_unbonding *ubd;
    size_t n_ubd, cap_ubd;
    opgi_redelegation *red;
    size_t n_red, cap_red;
    opg_u256 ubd_sum;
} loader;

static const size_t KEY_LEN[] = {2, 2, 2 + 32, 2 + 64, 2 + 64 + 8, 2 + 96 + 8,
                                 2 + 8, 2 + 32 + 8, 2 + 20};

static int load_params(opg_registry *r, opgi_reader *rd)
{
    opg_registry_params *p = &r->params;
    p->unbonding_time = opgi_r_i64(rd);
    p->max_validators = opgi_r_u32(rd);
    p->max_entries = opgi_r_u32(rd);
    opgi_r_dec(rd, &p->min_commission_rate);
    opgi_r_u256(rd, &p->power_reduction);
    p->fix_redelegation_overslash = opgi_r_bool(rd);
    p->poa = opgi_r_bool(rd);
    if (rd->bad || opgi_params_check(&opgi_registry_param_table, p, r->err) != OPG_OK)
        return OPG_ECORRUPT;
    return OPG_OK;
}

static int load_ledger(opg_registry *r, opgi_reader *rd)
{
    opgi_r_u256(rd, &r->genesis_supply);
    opgi_r_u256(rd, &r->minted);
    opgi_r_u256(rd, &r->burned);
    opgi_r_u256(rd, &r->community_pool);
    opgi_r_u256(rd, &r->outstanding_rewards);
    opgi_r_u256(rd, &r->unbonding_balance);
    r->next_seq = opgi_r_u64(rd);
    opg_u256 total;
    return opg_u256_add(&total, &r->genesis_supply, &r->minted) ? OPG_ECORRUPT : OPG_OK;
}

static int load_node(opg_registry *r, opgi_reader *rd, const uint8_t *key)
{
    opgi_node n;
    memset(&n, 0, sizeof n);
    memcpy(n.operator_id.bytes, key + 2, 32);
    opgi_r_id(rd, &n.consensus_key);
    n.roles = opgi_r_u32(rd);
    n.status = opgi_r_u8(rd);
    n.jailed = (uint8_t)opgi_r_bool(rd);
    n.tombstoned = (uint8_t)opgi_r_bool(rd);
    n.jailed_until = opgi_r_i64(rd);
    opgi_r_u256(rd, &n.tokens);
    opgi_r_dec(rd, &n.delegator_shares);
    opgi_r_dec(rd, &n.rate);
    opgi_r_dec(rd, &n.max_rate);
    opgi_r_dec(rd, &n.max_change_rate);
    n.commission_update_time = opgi_r_i64(rd);
    opgi_r_u256(rd, &n.min_self_delegation);
    n.unbonding_height = opgi_r_u64(rd);
    n.unbonding_time = opgi_r_i64(rd);
    n.last_power = opgi_r_u64(rd);
    if (rd->bad || !opgi_node_fields_valid(&n) || opgi_consensus_key_check(&n.consensus_key))
        return OPG_ECORRUPT;
    opg_id dummy, addr;
    opgi_consensus_address(&addr, &n.consensus_key);
    if (opg_registry_node_by_consensus_key(&dummy, r, &n.consensus_key) == OPG_OK ||
        opgi_node_find_by_addr(r, &addr) != OPGI_NONE)
        return OPG_ECORRUPT; /* one node per key, and per address */
    uint32_t slot;
    int rc = opgi_node_reserve(r, &slot);
    if (rc)
        return rc;
    opgi_node_insert(r, slot, &n);
    return OPG_OK;
}

static int load_delegation(opg_registry *r, opgi_reader *rd, const uint8_t *key)
{
    opg_id dtor, op;
    memcpy(dtor.bytes, key + 2, 32);
    memcpy(op.bytes, key + 34, 32);
    uint32_t node = opgi_node_find(r, &op);
    if (node == OPGI_NONE)
        return OPG_ECORRUPT;
    opgi_delegation d;
    opgi_r_dec(rd, &d.shares);
    d.f1.period = opgi_r_u64(rd);
    d.f1.height = opgi_r_u64(rd);
    opgi_r_dec(rd, &d.f1.stake);
    if (rd->bad)
        return OPG_ECORRUPT;
    int rc = opgi_del_reserve(r, 1);
    if (rc)
        return rc;
    uint32_t s = opgi_del_add(r, &dtor, node);
    r->dels[s].shares = d.shares;
    r->dels[s].f1 = d.f1;
    return OPG_OK;
}

static int load_unbonding(loader *l, opgi_reader *rd, const uint8_t *key)
{
    opgi_unbonding u;
    memcpy(u.delegator.bytes, key + 2, 32);
    memcpy(u.node.bytes, key + 34, 32);
    u.seq = key_get_u64(key + 66);
    u.creation_height = opgi_r_u64(rd);
    u.completion_time = opgi_r_i64(rd);
    opgi_r_u256(rd, &u.initial_balance);
    opgi_r_u256(rd, &u.balance);
    if (rd->bad || u.seq >= l->r->next_seq || opg_u256_add(&l->ubd_sum, &l->ubd_sum, &u.balance))
        return OPG_ECORRUPT;
    void *p = l->ubd;
    int rc = opgi_grow(&l->r->alloc, &p, &l->cap_ubd, l->n_ubd + 1, sizeof u);
    l->ubd = p;
    if (rc)
        return rc;
    l->ubd[l->n_ubd++] = u;
    return OPG_OK;
}

static int load_redelegation(loader *l, opgi_reader *rd, const uint8_t *key)
{
    opgi_redelegation e;
    memcpy(e.delegator.bytes, key + 2, 32);
    memcpy(e.src.bytes, key + 34, 32);
    memcpy(e.dst.bytes, key + 66, 32);
    e.seq = key_get_u64(key + 98);
    e.creation_height = opgi_r_u64(rd);
    e.completion_time = opgi_r_i64(rd);
    opgi_r_u256(rd, &e.initial_balance);
    opgi_r_dec(rd, &e.shares_dst);
    if (rd->bad || e.seq >= l->r->next_seq)
        return OPG_ECORRUPT;
    void *p = l->red;
    int rc = opgi_grow(&l->r->alloc, &p, &l->cap_red, l->n_red + 1, sizeof e);
    l->red = p;
    if (rc)
        return rc;
    l->red[l->n_red++] = e;
    return OPG_OK;
}

/* The history in key order: heights, then (key, height), then addresses ascending. */
static int load_history(opg_registry *r, opgi_reader *rd, unsigned kind, const uint8_t *key)
{
    int rc;
    if (kind == KIND_BLOCK_TIME) {
        void *p = r->times;
        if ((rc = opgi_grow(&r->alloc, &p, &r->times_cap, r->n_times + 1, sizeof *r->times)))
            return rc;
        r->times = p;
        r->times[r->n_times].height = key_get_u64(key + 2);
        r->times[r->n_times].time = opgi_r_i64(rd);
        r->n_times++;
        return OPG_OK;
    }
    if (kind == KIND_POWER) {
        void *p = r->powers;
        if ((rc = opgi_grow(&r->alloc, &p, &r->powers_cap, r->n_powers + 1, sizeof *r->powers)))
            return rc;
        r->powers = p;
        opgi_power_rec *e = &r->powers[r->n_powers++];
        memcpy(e->key.bytes, key + 2, 32);
        e->height = key_get_u64(key + 34);
        e->power = opgi_r_u64(rd);
        return OPG_OK;
    }
    if ((rc = opgi_tomb_reserve(r, 1)) != OPG_OK)
        return rc;
    memset(&r->tombs[r->n_tombs], 0, sizeof r->tombs[0]);
    memcpy(r->tombs[r->n_tombs].bytes, key + 2, 20);
    r->n_tombs++;
    return OPG_OK;
}

/* One record's value after its format byte (opgi_records_load checked the key). */
static int load_kind(void *owner, unsigned kind, const uint8_t *key, opgi_reader *rd)
{
    loader *l = owner;
    switch (kind) {
    case KIND_PARAMS: return load_params(l->r, rd);
    case KIND_LEDGER: return load_ledger(l->r, rd);
    case KIND_NODE: return load_node(l->r, rd, key);
    case KIND_DELEGATION: return load_delegation(l->r, rd, key);
    case KIND_UNBONDING: return load_unbonding(l, rd, key);
    case KIND_REDELEGATION: return load_redelegation(l, rd, key);
    default: return load_history(l->r, rd, kind, key);
    }
}

static int cmp_ubd_queue(const void *x, const void *y)
{
    const opgi_unbonding *a = x, *b = y;
    if (a->completion_time != b->completion_time)
        return a->completion_time < b->completion_time ? -1 : 1;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

static int cmp_red_queue(const void *x, const void *y)
{
    const opgi_redelegation *a = x, *b = y;
    if (a->completion_time != b->completion_time)
        return a->completion_time < b->completion_time ? -1 : 1;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

/* The entries, collected in key order, into their (time, seq) queues and counters. */
static int load_queues(void *owner)
{
    loader *l = owner;
    opg_registry *r = l->r;
    int rc;
    if ((rc = opgi_registry_reserve(r, 0, l->n_ubd, l->n_red)) != OPG_OK)
        return rc;
    if (l->n_ubd > 1)
        qsort(l->ubd, l->n_ubd, sizeof *l->ubd, cmp_ubd_queue);
    if (l->n_red > 1)
        qsort(l->red, l->n_red, sizeof *l->red, cmp_red_queue);
    /* in queue order, each goes to the end of its queue and of its chains (the
     * indexes are derived: rebuilt here, never saved) */
    for (size_t i = 0; i < l->n_ubd; i++) {
        if (i && l->ubd[i].seq == l->ubd[i - 1].seq)
            return OPG_ECORRUPT; /* seq numbers every entry once */
        opgi_ubd_insert(r, &l->ubd[i]);
    }
    for (size_t i = 0; i < l->n_red; i++) {
        if (i && l->red[i].seq == l->red[i - 1].seq)
            return OPG_ECORRUPT;
        opgi_red_insert(r, &l->red[i]);
    }
    if (opg_u256_cmp(&l->ubd_sum, &r->unbonding_balance) != 0)
        return opgi_fail(r->err, OPG_ECORRUPT, "unbonding balance differs from its entries", NULL);
    /* a node is tombstoned exactly when its address is */
    for (uint32_t i = 0; i < r->node_count; i++) {
        const opgi_node *nd = &r->nodes[r->by_operator[i]];
        if (!nd->tombstoned != !opgi_tomb_has(r, &nd->address))
            return opgi_fail(r->err, OPG_ECORRUPT, "a node's tombstone and its address disagree",
                             NULL);
    }
    return OPG_OK;
}

/* A registry from a record stream; with track, its records are also the committed
 * ones (the tree is built and checked against root when that is not NULL). */
static int load_stream(opg_registry **out, opg_record_source next, void *ctx,
                       const uint8_t root[32], const opg_allocator *alloc, int track)
{
    char err[OPGI_ERRMSG_MAX];
    opg_registry *r;
    int rc = opgi_registry_create(&r, NULL, alloc, err);
    if (rc)
        return rc;
    loader l;
    memset(&l, 0, sizeof l);
    l.r = r;
    opgi_record_loader rl = {OPG_RECORDS_REGISTRY, KEY_LEN, OPGI_ARRAY_LEN(KEY_LEN), load_kind,
                             load_queues, &l, r->err};
    rc = opgi_records_load(&rl, next, ctx, track ? r->records.tree : NULL, &r->alloc, root);
    opgi_free(&r->alloc, l.ubd, l.cap_ubd * sizeof *l.ubd);
    opgi_free(&r->alloc, l.red, l.cap_red * sizeof *l.red);
    if (rc == OPG_OK) {
        /* the shares of every node must be exactly its delegations' (the check
         * allocates: running out of memory there is not corruption) */
        rc = opg_registry_check(r);
        if (rc != OPG_OK && rc != OPG_ENOMEM)
            rc = OPG_ECORRUPT;
    }
    if (rc) {
        opg_registry_free(r);
        return rc;
    }
    r->records.tracking = track;
    r->err[0] = '\0';
    *out = r;
    return OPG_OK;
}

int opg_registry_load_records(opg_registry **out, opg_record_source next, void *ctx,
                              const uint8_t root[32], const opg_allocator *alloc)
{
    if (!out || !next)
        return OPG_EINVAL;
    return load_stream(out, next, ctx, root, alloc, 1);
}

/* -------------------------------------------------------------- snapshots */

#define SNAPSHOT_VERSION 4 /* 4: staking.poa in the params record */

int opg_registry_save(uint8_t *buf, size_t cap, size_t *len, const opg_registry *r)
{
    if (!r || !len || (!buf && cap))
        return OPG_EINVAL;
    return opgi_snapshot_save(buf, cap, len, OPGI_KIND_REGISTRY, SNAPSHOT_VERSION, each_record, r);
}

int opg_registry_load(opg_registry **out, const uint8_t *buf, size_t len,
                      const opg_allocator *alloc)
{
    if (!out || (!buf && len))
        return OPG_EINVAL;
    opgi_snapshot_reader sr;
    int rc = opgi_snapshot_open(&sr, buf, len, OPGI_KIND_REGISTRY, SNAPSHOT_VERSION);
    opg_registry *r;
    if (rc == OPG_OK)
        rc = load_stream(&r, opgi_snapshot_next, &sr, NULL, alloc, 0);
    if (rc == OPG_OK && (rc = opgi_snapshot_finish(&sr)) != OPG_OK)
        opg_registry_free(r);
    if (rc == OPG_OK)
        *out = r;
    return rc;
}

int opg_registry_state_hash(uint8_t out[32], const opg_registry *r)
{
    return opg_registry_root_from_scratch(out, r);
}
