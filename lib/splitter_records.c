/*
 * splitter_records.c - the splitter's state as records: keys, values, the commit,
 * export, and loading from a record stream (lib/records.h says how commits work).
 *
 * Keys (tag OPG_RECORDS_SPLITTER, then the kind, then ids; integers big-endian):
 *   params        tag 0
 *   state         tag 1                      emission state and the money totals
 *   node          tag 2 operator             current period, rewards, commission, outstanding
 *   history       tag 3 operator period      reference count, cumulative ratio
 *   slash         tag 4 operator height period   fraction
 * Values begin with a format byte (1). A delegation's F1 start is part of the
 * registry's delegation record.
 */
#include "splitter_internal.h"

#include "codec.h"
#include "records.h"

#include <stdlib.h>


enum { KIND_PARAMS = 0, KIND_STATE = 1, KIND_NODE = 2, KIND_HISTORY = 3, KIND_SLASH = 4 };

static const size_t KEY_LEN[] = {2, 2, 2 + 32, 2 + 32 + 8, 2 + 32 + 16};

static size_t key_begin(uint8_t *key, int kind)
{
    key[0] = OPG_RECORDS_SPLITTER;
    key[1] = (uint8_t)kind;
    return 2;
}

static size_t put_u64(uint8_t *key, size_t at, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        key[at + (size_t)i] = (uint8_t)v;
    return at + 8;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static size_t node_key(uint8_t *key, int kind, const opg_id *op)
{
    size_t at = key_begin(key, kind);
    memcpy(key + at, op->bytes, 32);
    return at + 32;
}

static size_t history_key(uint8_t *key, const opg_id *op, uint64_t period)
{
    return put_u64(key, node_key(key, KIND_HISTORY, op), period);
}

static size_t slash_key(uint8_t *key, const opg_id *op, const f1_slash *e)
{
    return put_u64(key, put_u64(key, node_key(key, KIND_SLASH, op), e->height), e->period);
}

/* ---------------------------------------------------------------- touches */

static const opg_id *operator_of(const opg_splitter *s, uint32_t slot)
{
    return &s->reg->nodes[slot].operator_id;
}

void opgi_splitter_touch_node(opg_splitter *s, uint32_t slot)
{
    uint8_t key[OPGI_RECORD_KEY_MAX];
    opgi_records_touch(&s->records, &s->alloc, s->err, key,
                       node_key(key, KIND_NODE, operator_of(s, slot)), 0);
}

void opgi_splitter_touch_history(opg_splitter *s, uint32_t slot, uint64_t period)
{
    uint8_t key[OPGI_RECORD_KEY_MAX];
    opgi_records_touch(&s->records, &s->alloc, s->err, key,
                       history_key(key, operator_of(s, slot), period), 0);
}

void opgi_splitter_touch_slash(opg_splitter *s, uint32_t slot, const f1_slash *e)
{
    uint8_t key[OPGI_RECORD_KEY_MAX];
    opgi_records_touch(&s->records, &s->alloc, s->err, key, slash_key(key, operator_of(s, slot), e),
                       0);
}

void opgi_splitter_touch_all_of(opg_splitter *s, uint32_t slot)
{
    const f1_node *n = &s->nodes[slot];
    opgi_splitter_touch_node(s, slot);
    for (size_t k = 0; k < n->n_hist; k++)
        if (n->hist[k].refcount)
            opgi_splitter_touch_history(s, slot, n->hist[k].period);
    for (size_t k = 0; k < n->n_slash; k++)
        opgi_splitter_touch_slash(s, slot, &n->slashes[k]);
}

size_t opgi_splitter_records_of(const opg_splitter *s, uint32_t slot)
{
    const f1_node *n = &s->nodes[slot];
    return 1 + (n->n_hist - n->n_dead) + n->n_slash;
}

int opgi_splitter_touch_reserve(opg_splitter *s, size_t more)
{
    int rc = opgi_records_reserve(&s->records, &s->alloc, more);
    return rc ? opgi_fail(s->err, rc, "no memory for the records a call changes", NULL) : OPG_OK;
}

/* ---------------------------------------------------------------- values */

static void params_value(opgi_writer *w, const opg_splitter *s)
{
    const opg_splitter_params *p = &s->params;
    opgi_w_u8(w, OPGI_VALUE_FORMAT);
    opgi_w_dec(w, &p->community_tax);
    opgi_w_dec(w, &p->perf_share);
    opgi_w_u8(w, (uint8_t)p->emission);
    opgi_w_dec(w, &p->inflation_rate_change);
    opgi_w_dec(w, &p->inflation_max);
    opgi_w_dec(w, &p->inflation_min);
    opgi_w_dec(w, &p->goal_bonded);
    opgi_w_u64(w, p->blocks_per_year);
    opgi_w_dec(w, &p->initial_inflation);
    opgi_w_u256(w, &p->pool_amount);
    opgi_w_i64(w, p->pool_start);
    opgi_w_i64(w, p->half_life);
    opgi_w_i64(w, p->duration);
}

#define MONEY(s)                                                                              \
    {                                                                                         \
        &(s)->pending, &(s)->minted, &(s)->emitted, &(s)->fees, &(s)->paid_delegators,        \
            &(s)->paid_commission, &(s)->community_pool, &(s)->community_spent, &(s)->outstanding \
    }

static void state_value(opgi_writer *w, const opg_splitter *s)
{
    opgi_w_u8(w, OPGI_VALUE_FORMAT);
    opgi_w_dec(w, &s->inflation);
    opgi_w_u256(w, &s->anchor_amount);
    opgi_w_i64(w, s->anchor_time);
    opgi_w_u256(w, &s->anchor_emitted);
    opgi_w_u8(w, (uint8_t)s->paused);
    opgi_w_i64(w, s->paused_at);
    opgi_w_i64(w, s->last_time);
    opgi_w_u8(w, (uint8_t)s->has_last);
    const opg_dec *money[] = MONEY(s);
    for (size_t i = 0; i < OPGI_ARRAY_LEN(money); i++)
        opgi_w_dec(w, money[i]);
}

static void node_value(opgi_writer *w, const f1_node *n)
{
    opgi_w_u8(w, OPGI_VALUE_FORMAT);
    opgi_w_u64(w, n->period);
    opgi_w_dec(w, &n->rewards);
    opgi_w_dec(w, &n->commission);
    opgi_w_dec(w, &n->outstanding);
}

static void history_value(opgi_writer *w, const f1_hist *h)
{
    opgi_w_u8(w, OPGI_VALUE_FORMAT);
    opgi_w_u64(w, h->refcount);
    opgi_w_limbs(w, h->cum, OPGI_CUM_LIMBS);
}

static void slash_value(opgi_writer *w, const f1_slash *e)
{
    opgi_w_u8(w, OPGI_VALUE_FORMAT);
    opgi_w_dec(w, &e->fraction);
}

static const f1_hist *history_find(const f1_node *n, uint64_t period)
{
    size_t lo = 0, hi = n->n_hist;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (n->hist[mid].period < period)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n->n_hist && n->hist[lo].period == period && n->hist[lo].refcount ? &n->hist[lo]
                                                                                  : NULL;
}

static const f1_slash *slash_find(const f1_node *n, uint64_t height, uint64_t period)
{
    size_t lo = 0, hi = n->n_slash; /* (height, period) order */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const f1_slash *e = &n->slashes[mid];
        if (e->height < height || (e->height == height && e->period < period))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n->n_slash && n->slashes[lo].height == height && n->slashes[lo].period == period
               ? &n->slashes[lo]
               : NULL;
}

static int record_value(opgi_writer *w, const void *owner, const opgi_touch *t)
{
    const opg_splitter *s = owner;
    if (t->key[1] == KIND_PARAMS) {
        params_value(w, s);
        return 1;
    }
    if (t->key[1] == KIND_STATE) {
        state_value(w, s);
        return 1;
    }
    opg_id op;
    memcpy(op.bytes, t->key + 2, 32);
    uint32_t slot = opgi_node_find(s->reg, &op);
    if (slot == OPGI_NONE || slot >= s->n_nodes || !s->nodes[slot].live)
        return 0;
    const f1_node *n = &s->nodes[slot];
    switch (t->key[1]) {
    case KIND_NODE:
        node_value(w, n);
        return 1;
    case KIND_HISTORY: {
        const f1_hist *h = history_find(n, get_u64(t->key + 34));
        if (h)
            history_value(w, h);
        return h != NULL;
    }
    case KIND_SLASH: {
        const f1_slash *e = slash_find(n, get_u64(t->key + 34), get_u64(t->key + 42));
        if (e)
            slash_value(w, e);
        return e != NULL;
    }
    }
    (void)OPGI_NEVER(NULL, 1); /* only the keys above are ever touched */
    return 0;
}

static int each_record(const void *owner, opgi_record_sink sink, void *ctx)
{
    const opg_splitter *s = owner;
    const opg_registry *r = s->reg;
    opgi_emitter *em = opgi_emitter_new(&s->alloc, sink, ctx);
    if (!em)
        return OPG_ENOMEM;
    uint8_t key[OPGI_RECORD_KEY_MAX];
    params_value(opgi_emit_begin(em), s);
    int rc = opgi_emit(em, key, key_begin(key, KIND_PARAMS));
    if (rc == OPG_OK) {
        state_value(opgi_emit_begin(em), s);
        rc = opgi_emit(em, key, key_begin(key, KIND_STATE));
    }
    /* kinds in order, each in operator id order */
    for (int kind = KIND_NODE; kind <= KIND_SLASH && rc == OPG_OK; kind++)
        for (uint32_t i = 0; rc == OPG_OK && i < r->node_count; i++) {
            uint32_t slot = r->by_operator[i];
            const f1_node *n = &s->nodes[slot];
            const opg_id *op = &r->nodes[slot].operator_id;
            if (!n->live)
                continue;
            if (kind == KIND_NODE) {
                node_value(opgi_emit_begin(em), n);
                rc = opgi_emit(em, key, node_key(key, KIND_NODE, op));
            }
            for (size_t k = 0; kind == KIND_HISTORY && rc == OPG_OK && k < n->n_hist; k++) {
                if (!n->hist[k].refcount)
                    continue;
                history_value(opgi_emit_begin(em), &n->hist[k]);
                rc = opgi_emit(em, key, history_key(key, op, n->hist[k].period));
            }
            for (size_t k = 0; kind == KIND_SLASH && rc == OPG_OK && k < n->n_slash; k++) {
                slash_value(opgi_emit_begin(em), &n->slashes[k]);
                rc = opgi_emit(em, key, slash_key(key, op, &n->slashes[k]));
            }
        }
    opgi_emitter_free(em, &s->alloc);
    return rc;
}

int opg_splitter_commit(uint8_t root[32], const opg_record **changes, size_t *count,
                        opg_splitter *s)
{
    if (!s)
        return OPG_EINVAL;
    s->err[0] = '\0';
    OPGI_CHECK_ARG(s->err, root && changes && count);
    opgi_touch extra[2];
    memset(extra, 0, sizeof extra);
    extra[0].len = (uint8_t)key_begin(extra[0].key, KIND_PARAMS);
    extra[1].len = (uint8_t)key_begin(extra[1].key, KIND_STATE);
    opgi_record_owner o = {s, record_value, each_record, extra, 2};
    int rc = opgi_records_commit(root, changes, count, &s->records, &s->alloc, &o);
    return rc ? opgi_fail(s->err, rc, "commit", NULL) : OPG_OK;
}

void opg_splitter_root(uint8_t root[32], const opg_splitter *s)
{
    if (root && s)
        opgi_merkle_root(s->records.tree, root);
}

int opg_splitter_root_from_scratch(uint8_t root[32], const opg_splitter *s)
{
    if (!root || !s)
        return OPG_EINVAL;
    return opgi_records_root_from_scratch(root, &s->alloc, each_record, s);
}

int opg_splitter_records(opg_splitter *s, opg_record_sink fn, void *ctx)
{
    if (!s)
        return OPG_EINVAL;
    s->err[0] = '\0';
    OPGI_CHECK_ARG(s->err, fn);
    return opgi_records_export(each_record, s, fn, ctx);
}

int opg_splitter_prove(uint8_t *buf, size_t cap, size_t *len, const opg_splitter *s,
                       const uint8_t *key, size_t key_len)
{
    if (!len || !s || !key || (!buf && cap))
        return OPG_EINVAL;
    return opgi_records_prove(&s->records, buf, cap, len, key, key_len);
}

/* ------------------------------------------------------------------ load */

typedef struct loader {
    opg_splitter *s;
} loader;

static int load_params(opg_splitter *s, opgi_reader *rd)
{
    opg_splitter_params *p = &s->params;
    opgi_r_dec(rd, &p->community_tax);
    opgi_r_dec(rd, &p->perf_share);
    p->emission = (opg_emission_kind)opgi_r_u8(rd);
    opgi_r_dec(rd, &p->inflation_rate_change);
    opgi_r_dec(rd, &p->inflation_max);
    opgi_r_dec(rd, &p->inflation_min);
    opgi_r_dec(rd, &p->goal_bonded);
    p->blocks_per_year = opgi_r_u64(rd);
    opgi_r_dec(rd, &p->initial_inflation);
    opgi_r_u256(rd, &p->pool_amount);
    p->pool_start = opgi_r_i64(rd);
    p->half_life = opgi_r_i64(rd);
    p->duration = opgi_r_i64(rd);
    if (rd->bad || opgi_params_check(&opgi_splitter_param_table, p, s->err) != OPG_OK)
        return OPG_ECORRUPT;
    return OPG_OK;
}

static int load_state(opg_splitter *s, opgi_reader *rd)
{
    opgi_r_dec(rd, &s->inflation);
    opgi_r_u256(rd, &s->anchor_amount);
    s->anchor_time = opgi_r_i64(rd);
    opgi_r_u256(rd, &s->anchor_emitted);
    s->paused = opgi_r_bool(rd);
    s->paused_at = opgi_r_i64(rd);
    s->last_time = opgi_r_i64(rd);
    s->has_last = opgi_r_bool(rd);
    opg_dec *money[] = MONEY(s);
    for (size_t i = 0; i < OPGI_ARRAY_LEN(money); i++)
        opgi_r_dec(rd, money[i]);
    return opg_u256_cmp(&s->anchor_emitted, &s->anchor_amount) > 0 ? OPG_ECORRUPT : OPG_OK;
}

/* The node of a node-keyed record: it must be in the registry, and (for history and
 * slashes) its node record must have come first. */
static f1_node *node_of_key(loader *l, const uint8_t *key, int need_live)
{
    opg_id op;
    memcpy(op.bytes, key + 2, 32);
    uint32_t slot = opgi_node_find(l->s->reg, &op);
    if (slot == OPGI_NONE || slot >= l->s->n_nodes)
        return NULL;
    f1_node *n = &l->s->nodes[slot];
    return n->live == need_live ? n : NULL;
}

static int load_node(loader *l, opgi_reader *rd, const uint8_t *key)
{
    f1_node *n = node_of_key(l, key, 0);
    if (!n)
        return OPG_ECORRUPT;
    n->live = 1;
    n->period = opgi_r_u64(rd);
    opgi_r_dec(rd, &n->rewards);
    opgi_r_dec(rd, &n->commission);
    opgi_r_dec(rd, &n->outstanding);
    return rd->bad || n->period == 0 ? OPG_ECORRUPT : OPG_OK;
}

static int load_history(loader *l, opgi_reader *rd, const uint8_t *key)
{
    f1_node *n = node_of_key(l, key, 1);
    if (!n)
        return OPG_ECORRUPT;
    f1_hist h;
    h.period = get_u64(key + 34);
    h.refcount = opgi_r_u64(rd);
    opgi_r_limbs(rd, h.cum, OPGI_CUM_LIMBS);
    /* key order already made the periods increase */
    if (rd->bad || h.refcount == 0 || h.period >= n->period)
        return OPG_ECORRUPT;
    int rc = opgi_f1_hist_reserve(l->s, n, 3);
    if (rc)
        return rc;
    n->hist[n->n_hist++] = h;
    return OPG_OK;
}

static int load_slash(loader *l, opgi_reader *rd, const uint8_t *key)
{
    f1_node *n = node_of_key(l, key, 1);
    if (!n)
        return OPG_ECORRUPT;
    f1_slash e;
    e.height = get_u64(key + 34);
    e.period = get_u64(key + 42);
    opgi_r_dec(rd, &e.fraction);
    opg_dec one;
    opg_dec_from_u64(&one, 1);
    /* a slash takes at most everything; periods grow with heights */
    if (rd->bad || opg_dec_cmp(&e.fraction, &one) > 0 ||
        (n->n_slash && e.period <= n->slashes[n->n_slash - 1].period))
        return OPG_ECORRUPT;
    int rc = opgi_f1_slash_reserve(l->s, n, 2);
    if (rc)
        return rc;
    n->slashes[n->n_slash++] = e;
    return OPG_OK;
}

/* One record's value after its format byte (opgi_records_load checked the key). */
static int load_kind(void *owner, unsigned kind, const uint8_t *key, opgi_reader *rd)
{
    loader *l = owner;
    switch (kind) {
    case KIND_PARAMS: return load_params(l->s, rd);
    case KIND_STATE: return load_state(l->s, rd);
    case KIND_NODE: return load_node(l, rd, key);
    case KIND_HISTORY: return load_history(l, rd, key);
    default: return load_slash(l, rd, key);
    }
}

/* After the stream: every registry node has its F1 record, whose period just closed
 * is referenced, and the totals agree with the registry's ledger. */
static int load_finish(void *owner)
{
    opg_splitter *s = ((loader *)owner)->s;
    const opg_registry *r = s->reg;
    for (uint32_t i = 0; i < r->node_count; i++) {
        const f1_node *n = &s->nodes[r->by_operator[i]];
        if (!n->live || n->n_hist == 0 || n->hist[n->n_hist - 1].period != n->period - 1)
            return OPG_ECORRUPT;
    }
    if (opg_splitter_check(s) != OPG_OK)
        return OPG_ECORRUPT;
    opg_u256 pool, out;
    opg_dec_truncate_int(&pool, &s->community_pool);
    opg_dec_truncate_int(&out, &s->outstanding);
    if (opg_u256_cmp(&pool, &r->community_pool) || opg_u256_cmp(&out, &r->outstanding_rewards))
        return OPG_ECORRUPT;
    return OPG_OK;
}

/* A splitter on r from a record stream; with track, its records are also the
 * committed ones (the tree is built and checked against root when that is given). */
static int load_stream(opg_splitter **out, opg_registry *r, opg_record_source next, void *ctx,
                       const uint8_t root[32], const opg_allocator *alloc, int track)
{
    opg_splitter *s;
    int rc = opgi_splitter_create_for_load(&s, r, NULL, alloc);
    if (rc)
        return rc;
    if ((rc = opgi_splitter_nodes_reserve(s, r->node_slots)) != OPG_OK) {
        opgi_splitter_release(s);
        return rc;
    }
    loader l = {s};
    opgi_record_loader rl = {OPG_RECORDS_SPLITTER, KEY_LEN, OPGI_ARRAY_LEN(KEY_LEN), load_kind,
                             load_finish, &l, s->err};
    rc = opgi_records_load(&rl, next, ctx, track ? s->records.tree : NULL, &s->alloc, root);
    if (rc == OPG_OK)
        rc = opgi_splitter_attach(s);
    if (rc) {
        opgi_splitter_release(s);
        return rc;
    }
    s->records.tracking = track;
    s->err[0] = '\0';
    *out = s;
    return OPG_OK;
}

int opg_splitter_load_records(opg_splitter **out, opg_registry *r, opg_record_source next,
                              void *ctx, const uint8_t root[32], const opg_allocator *alloc)
{
    if (!out || !r || !next)
        return OPG_EINVAL;
    return load_stream(out, r, next, ctx, root, alloc, 1);
}

/* -------------------------------------------------------------- snapshots */

#define SNAPSHOT_VERSION 2

int opg_splitter_save(uint8_t *buf, size_t cap, size_t *len, const opg_splitter *s)
{
    if (!s || !len || (!buf && cap))
        return OPG_EINVAL;
    return opgi_snapshot_save(buf, cap, len, OPGI_KIND_SPLITTER, SNAPSHOT_VERSION, each_record, s);
}

int opg_splitter_load(opg_splitter **out, opg_registry *r, const uint8_t *buf, size_t len,
                      const opg_allocator *alloc)
{
    if (!out || !r || (!buf && len))
        return OPG_EINVAL;
    opgi_snapshot_reader sr;
    int rc = opgi_snapshot_open(&sr, buf, len, OPGI_KIND_SPLITTER, SNAPSHOT_VERSION);
    opg_splitter *s;
    if (rc == OPG_OK)
        rc = load_stream(&s, r, opgi_snapshot_next, &sr, NULL, alloc, 0);
    if (rc == OPG_OK && (rc = opgi_snapshot_finish(&sr)) != OPG_OK)
        opg_splitter_free(s);
    if (rc == OPG_OK)
        *out = s;
    return rc;
}

int opg_splitter_state_hash(uint8_t out[32], const opg_splitter *s)
{
    return opg_splitter_root_from_scratch(out, s);
}
