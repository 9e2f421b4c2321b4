/*
 * slasher_records.c - the slashing engine's state as records: keys, values, the
 * commit, export, loading from a record stream, and snapshots (lib/records.h says
 * how commits work).
 *
 * Keys (tag OPG_RECORDS_SLASHER, then the kind, then ids; integers big-endian):
 *   params       tag 0                       the parameters and the chain id
 *   state        tag 1                       forgot_height, forgot_time
 *   class        tag 2 id (4)                a fault class
 *   signing      tag 3 operator              start height, index offset, missed
 *   missed       tag 4 operator chunk (4)    1024 bits of the missed-block window
 *                                            (present only when one is set)
 *   seen         tag 5 evidence id           a remembered faulty-inference id
 *   correlation  tag 6 time (8) ordinal (4)  a faulty-inference slash in the window
 *   pending      tag 7 slash id (8)          a pending (deferred) slash
 * Values begin with a format byte (1). Times in keys are big-endian with the sign
 * bit flipped, so keys sort as the times do; the ordinal counts the records of the
 * same time in the order they came.
 *
 * Per block every signing node's signing record changes, and a missed chunk only
 * when a bit of it flips; a node's signing records change in place through its
 * slot, so the commit touches the slots marked since (opgi_slasher_dirty), while a
 * removed node's records are touched at its removal, under its operator id.
 */
#include "slasher_internal.h"

#include "codec.h"
#include "num.h"

#define CHUNK_WORDS 16 /* 1024 bits */

enum {
    KIND_PARAMS = 0,
    KIND_STATE = 1,
    KIND_CLASS = 2,
    KIND_SIGNING = 3,
    KIND_MISSED = 4,
    KIND_SEEN = 5,
    KIND_CORR = 6,
    KIND_PENDING = 7
};

static const size_t KEY_LEN[] = {2, 2, 6, 34, 38, 34, 14, 10};

/* 4: defer_duration, the next pending id and the pending records; 5: a pending
 * record keeps the tokens its power meant at the decision */
#define SNAPSHOT_VERSION 5

/* ------------------------------------------------------------------ keys */

static size_t put_u32(uint8_t *key, size_t at, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        key[at + (size_t)i] = (uint8_t)v;
    return at + 4;
}

static size_t put_u64(uint8_t *key, size_t at, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        key[at + (size_t)i] = (uint8_t)v;
    return at + 8;
}

static uint64_t get_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

static size_t key_begin(uint8_t *key, int kind)
{
    key[0] = OPG_RECORDS_SLASHER;
    key[1] = (uint8_t)kind;
    return 2;
}

static size_t id_key(uint8_t *key, int kind, const opg_id *id)
{
    size_t at = key_begin(key, kind);
    memcpy(key + at, id->bytes, 32);
    return at + 32;
}

static size_t missed_key(uint8_t *key, const opg_id *op, uint32_t chunk)
{
    return put_u32(key, id_key(key, KIND_MISSED, op), chunk);
}

static uint64_t time_bits(opg_time t) { return (uint64_t)t ^ (UINT64_C(1) << 63); }

static size_t corr_key(uint8_t *key, opg_time t, uint32_t ordinal)
{
    return put_u32(key, put_u64(key, key_begin(key, KIND_CORR), time_bits(t)), ordinal);
}

static size_t pending_key(uint8_t *key, uint64_t id)
{
    return put_u64(key, key_begin(key, KIND_PENDING), id);
}

int opg_slasher_key_signing(uint8_t key[OPG_RECORD_KEY_MAX], size_t *len, const opg_id *operator_id)
{
    if (!key || !len || !operator_id)
        return OPG_EINVAL;
    *len = id_key(key, KIND_SIGNING, operator_id);
    return OPG_OK;
}

static uint64_t popcount64(uint64_t x)
{
    uint64_t n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}

/* Chunks of a bitmap of `words` words. */
static uint32_t chunks_of(size_t words) { return (uint32_t)((words + CHUNK_WORDS - 1) / CHUNK_WORDS); }

/* ---------------------------------------------------------------- touches */

int opgi_slasher_touch_reserve(opg_slasher *s, size_t more)
{
    int rc = opgi_records_reserve(&s->records, &s->alloc, more);
    return rc ? opgi_fail(s->err, rc, "no memory for the records a call changes", NULL) : OPG_OK;
}

size_t opgi_slasher_touches_of_node(const opg_slasher *s) { return 1 + chunks_of(s->words); }

static void touch(opg_slasher *s, const uint8_t *key, size_t len)
{
    opgi_records_touch(&s->records, &s->alloc, s->err, key, len, 0);
}

void opgi_slasher_touch_signing(opg_slasher *s, uint32_t slot)
{
    uint8_t key[OPGI_RECORD_KEY_MAX];
    touch(s, key, id_key(key, KIND_SIGNING, &s->reg->nodes[slot].operator_id));
}

void opgi_slasher_touch_missed(opg_slasher *s, uint32_t slot, uint64_t bit)
{
    uint8_t key[OPGI_RECORD_KEY_MAX];
    touch(s, key, missed_key(key, &s->reg->nodes[slot].operator_id, (uint32_t)(bit / (64 * CHUNK_WORDS))));
}

void opgi_slasher_touch_node(opg_slasher *s, uint32_t slot)
{
    uint8_t key[OPGI_RECORD_KEY_MAX];
    const opg_id *op = &s->reg->nodes[slot].operator_id;
    touch(s, key, id_key(key, KIND_SIGNING, op));
    for (uint32_t c = 0, n = chunks_of(s->words); c < n; c++)
        touch(s, key, missed_key(key, op, c));
}

void opgi_slasher_touch_seen(opg_slasher *s, const opg_id *id)
{
    uint8_t key[OPGI_RECORD_KEY_MAX];
    touch(s, key, id_key(key, KIND_SEEN, id));
}

/* The ordinal of correlation record i: how many before it share its time. */
static uint32_t corr_ordinal(const opg_slasher *s, size_t i)
{
    uint32_t k = 0;
    while (i > 0 && s->corr[i - 1].time == s->corr[i].time) {
        i--;
        k++;
    }
    return k;
}

void opgi_slasher_touch_corr(opg_slasher *s, size_t i)
{
    uint8_t key[OPGI_RECORD_KEY_MAX];
    touch(s, key, corr_key(key, s->corr[i].time, corr_ordinal(s, i)));
}

int opgi_slasher_pending_reserve(opg_slasher *s, size_t more, int slashes)
{
    void *p = s->ptouch;
    int rc = more > SIZE_MAX / 2 - s->n_ptouch
                 ? OPG_ENOMEM
                 : opgi_grow(&s->alloc, &p, &s->ptouch_cap, s->n_ptouch + more, sizeof *s->ptouch);
    s->ptouch = p;
    if (rc == OPG_OK && slashes) {
        p = s->pending;
        rc = more > SIZE_MAX / 2 - s->n_pending
                 ? OPG_ENOMEM
                 : opgi_grow(&s->alloc, &p, &s->pending_cap, s->n_pending + more,
                             sizeof *s->pending);
        s->pending = p;
    }
    return rc ? opgi_fail(s->err, OPG_ENOMEM, "no memory for the pending slashes", NULL) : OPG_OK;
}

void opgi_slasher_touch_pending(opg_slasher *s, uint64_t id)
{
    /* before the first commit nothing is tracked */
    if (!s->records.tracking || OPGI_NEVER(s->err, s->n_ptouch >= s->ptouch_cap))
        return;
    s->ptouch[s->n_ptouch++] = id;
}

void opgi_slasher_dirty(opg_slasher *s, uint32_t slot)
{
    /* each slot is listed once until the commit clears its mark: the list fits cap;
     * before the first commit nothing is tracked */
    if (!s->records.tracking || OPGI_NEVER(s->err, slot >= s->cap) || s->dirty[slot])
        return;
    s->dirty[slot] = 1;
    s->dirty_list[s->n_dirty++] = slot;
}

/* The commit's touches of the marked slots: their signing records (a slot whose
 * node left was touched at its removal; a node in it now is touched again,
 * harmlessly). OPG_ENOMEM leaves the marks. */
static int touch_marked(opg_slasher *s)
{
    int rc = opgi_slasher_touch_reserve(s, s->n_dirty + s->n_ptouch);
    if (rc)
        return rc;
    uint8_t key[OPGI_RECORD_KEY_MAX];
    for (size_t i = 0; i < s->n_ptouch; i++)
        touch(s, key, pending_key(key, s->ptouch[i]));
    s->n_ptouch = 0;
    for (size_t i = 0; i < s->n_dirty; i++) {
        uint32_t slot = s->dirty_list[i];
        s->dirty[slot] = 0;
        if (slot < s->reg->node_slots && s->reg->nodes[slot].in_use)
            opgi_slasher_touch_signing(s, slot);
    }
    s->n_dirty = 0;
    return OPG_OK;
}

/* ---------------------------------------------------------------- values */

static void params_value(opgi_writer *w, const opg_slasher *s)
{
    const opg_slasher_params *p = &s->params;
    opgi_w_u8(w, OPGI_VALUE_FORMAT);
    opgi_w_u64(w, p->signed_blocks_window);
    opgi_w_dec(w, &p->min_signed_per_window);
    opgi_w_i64(w, p->downtime_jail_duration);
    opgi_w_dec(w, &p->slash_fraction_double_sign);
    opgi_w_dec(w, &p->slash_fraction_downtime);
    opgi_w_u64(w, p->max_age_num_blocks);
    opgi_w_i64(w, p->max_age_duration);
    opgi_w_dec(w, &p->reporter_share);
    opgi_w_dec(w, &p->correlation_k);
    opgi_w_i64(w, p->correlation_window);
    size_t clen = strlen(p->chain_id);
    opgi_w_u8(w, (uint8_t)clen);
    opgi_w_bytes(w, p->chain_id, clen);
    opgi_w_i64(w, p->defer_duration);
}

static void state_value(opgi_writer *w, const opg_slasher *s)
{
    opgi_w_u8(w, OPGI_VALUE_FORMAT);
    opgi_w_u64(w, s->forgot_height);
    opgi_w_i64(w, s->forgot_time);
    opgi_w_u64(w, s->next_pending_id);
}

static void pending_value(opgi_writer *w, const opgi_pending *p)
{
    opgi_w_u8(w, OPGI_VALUE_FORMAT);
    opgi_w_u8(w, p->reason);
    opgi_w_bytes(w, p->node.bytes, 32);
    opgi_w_u32(w, p->fault_class);
    opgi_w_u64(w, p->infraction_height);
    opgi_w_u64(w, p->power);
    opgi_w_u256(w, &p->power_tokens);
    opgi_w_dec(w, &p->fraction);
    opgi_w_u64(w, p->created_height);
    opgi_w_i64(w, p->created_time);
    opgi_w_i64(w, p->due_time);
    opgi_w_u256(w, &p->node_part);
    opgi_w_u256(w, &p->entries_part);
    opgi_w_u256(w, &p->total);
    opgi_w_dec(w, &p->keep);
    opgi_w_bytes(w, p->reporter.bytes, 32);
    opgi_w_dec(w, &p->reporter_share);
}

static void class_value(opgi_writer *w, const opg_fault_class *c)
{
    opgi_w_u8(w, OPGI_VALUE_FORMAT);
    opgi_w_dec(w, &c->slash_fraction);
    opgi_w_i64(w, c->jail_duration);
    opgi_w_u8(w, (uint8_t)c->tombstone);
}

static void signing_value(opgi_writer *w, const opgi_sinfo *in)
{
    opgi_w_u8(w, OPGI_VALUE_FORMAT);
    opgi_w_u64(w, in->start_height);
    opgi_w_u64(w, in->index_offset);
    opgi_w_u64(w, in->missed);
}

/* The words of chunk c of slot's bitmap, and how many; 0 words when all are zero. */
static size_t chunk_words(const opg_slasher *s, uint32_t slot, uint32_t c, const uint64_t **out)
{
    size_t from = (size_t)c * CHUNK_WORDS;
    if (from >= s->words)
        return 0;
    size_t n = s->words - from < CHUNK_WORDS ? s->words - from : CHUNK_WORDS;
    const uint64_t *b = s->bits + (size_t)slot * s->words + from;
    for (size_t k = 0; k < n; k++)
        if (b[k]) {
            *out = b;
            return n;
        }
    return 0;
}

static void missed_value(opgi_writer *w, const uint64_t *b, size_t n)
{
    opgi_w_u8(w, OPGI_VALUE_FORMAT);
    for (size_t k = 0; k < n; k++)
        opgi_w_u64(w, b[k]);
}

static void seen_value(opgi_writer *w, const opgi_seen *e)
{
    opgi_w_u8(w, OPGI_VALUE_FORMAT);
    opgi_w_u64(w, e->height);
    opgi_w_i64(w, e->time);
    opgi_w_u64(w, e->expire_height);
    opgi_w_i64(w, e->expire_time);
}

static void corr_value(opgi_writer *w, const opgi_corr *c)
{
    opgi_w_u8(w, OPGI_VALUE_FORMAT);
    opgi_w_u32(w, c->fault_class);
    opgi_w_u256(w, &c->stake);
}

static const opgi_seen *seen_find(const opg_slasher *s, const uint8_t *id)
{
    size_t lo = 0, hi = s->n_seen;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(s->seen[mid].id.bytes, id, 32);
        if (c == 0)
            return &s->seen[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static const opgi_corr *corr_find(const opg_slasher *s, opg_time t, uint64_t ordinal)
{
    size_t lo = 0, hi = s->n_corr; /* the first record of time >= t */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->corr[mid].time < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (ordinal >= s->n_corr - lo || s->corr[lo + ordinal].time != t)
        return NULL;
    return &s->corr[lo + ordinal];
}

/* The slot of the node a node-keyed record names, if it has a signing info. */
static uint32_t signing_slot(const opg_slasher *s, const uint8_t *key)
{
    opg_id op;
    memcpy(op.bytes, key + 2, 32);
    uint32_t slot = opgi_node_find(s->reg, &op);
    return slot != OPGI_NONE && slot < s->cap && s->info[slot].has ? slot : OPGI_NONE;
}

static int record_value(opgi_writer *w, const void *owner, const opgi_touch *t)
{
    const opg_slasher *s = owner;
    switch (t->key[1]) {
    case KIND_PARAMS:
        params_value(w, s);
        return 1;
    case KIND_STATE:
        state_value(w, s);
        return 1;
    case KIND_CLASS: {
        const opg_fault_class *c = opgi_slasher_class(s, (uint32_t)get_be(t->key + 2, 4));
        if (c)
            class_value(w, c);
        return c != NULL;
    }
    case KIND_SIGNING: {
        uint32_t slot = signing_slot(s, t->key);
        if (slot != OPGI_NONE)
            signing_value(w, &s->info[slot]);
        return slot != OPGI_NONE;
    }
    case KIND_MISSED: {
        uint32_t slot = signing_slot(s, t->key);
        const uint64_t *b = NULL;
        size_t n = slot == OPGI_NONE ? 0 : chunk_words(s, slot, (uint32_t)get_be(t->key + 34, 4), &b);
        if (n)
            missed_value(w, b, n);
        return n != 0;
    }
    case KIND_SEEN: {
        const opgi_seen *e = seen_find(s, t->key + 2);
        if (e)
            seen_value(w, e);
        return e != NULL;
    }
    case KIND_CORR: {
        const opgi_corr *c =
            corr_find(s, (opg_time)(get_be(t->key + 2, 8) ^ (UINT64_C(1) << 63)), get_be(t->key + 10, 4));
        if (c)
            corr_value(w, c);
        return c != NULL;
    }
    case KIND_PENDING: {
        size_t i = opgi_slasher_pending_find(s, get_be(t->key + 2, 8));
        if (i != SIZE_MAX)
            pending_value(w, &s->pending[i]);
        return i != SIZE_MAX;
    }
    }
    (void)OPGI_NEVER(NULL, 1); /* only the keys above are ever touched */
    return 0;
}

static int each_record(const void *owner, opgi_record_sink sink, void *ctx)
{
    const opg_slasher *s = owner;
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
    for (size_t i = 0; rc == OPG_OK && i < s->n_classes; i++) {
        class_value(opgi_emit_begin(em), &s->classes[i]);
        rc = opgi_emit(em, key, put_u32(key, key_begin(key, KIND_CLASS), s->classes[i].id));
    }
    /* signing records in operator id order, then their chunks in the same order */
    for (int kind = KIND_SIGNING; kind <= KIND_MISSED; kind++)
        for (uint32_t i = 0; rc == OPG_OK && i < r->node_count; i++) {
            uint32_t slot = r->by_operator[i];
            if (slot >= s->cap || !s->info[slot].has)
                continue;
            const opg_id *op = &r->nodes[slot].operator_id;
            if (kind == KIND_SIGNING) {
                signing_value(opgi_emit_begin(em), &s->info[slot]);
                rc = opgi_emit(em, key, id_key(key, KIND_SIGNING, op));
                continue;
            }
            for (uint32_t c = 0, n = chunks_of(s->words); rc == OPG_OK && c < n; c++) {
                const uint64_t *b = NULL;
                size_t nw = chunk_words(s, slot, c, &b);
                if (!nw)
                    continue;
                missed_value(opgi_emit_begin(em), b, nw);
                rc = opgi_emit(em, key, missed_key(key, op, c));
            }
        }
    for (size_t i = 0; rc == OPG_OK && i < s->n_seen; i++) {
        seen_value(opgi_emit_begin(em), &s->seen[i]);
        rc = opgi_emit(em, key, id_key(key, KIND_SEEN, &s->seen[i].id));
    }
    for (size_t i = 0, ord = 0; rc == OPG_OK && i < s->n_corr; i++) {
        ord = i && s->corr[i].time == s->corr[i - 1].time ? ord + 1 : 0;
        corr_value(opgi_emit_begin(em), &s->corr[i]);
        rc = opgi_emit(em, key, corr_key(key, s->corr[i].time, (uint32_t)ord));
    }
    for (size_t i = 0; rc == OPG_OK && i < s->n_pending; i++) {
        pending_value(opgi_emit_begin(em), &s->pending[i]);
        rc = opgi_emit(em, key, pending_key(key, s->pending[i].id));
    }
    opgi_emitter_free(em, &s->alloc);
    return rc;
}

/* ---------------------------------------------------------------- commit */

int opg_slasher_commit(uint8_t root[32], const opg_record **changes, size_t *count, opg_slasher *s)
{
    if (!s)
        return OPG_EINVAL;
    s->err[0] = '\0';
    OPGI_CHECK_ARG(s->err, root && changes && count);
    int rc = touch_marked(s);
    if (rc)
        return rc;
    opgi_touch extra[2];
    memset(extra, 0, sizeof extra);
    extra[0].len = (uint8_t)key_begin(extra[0].key, KIND_PARAMS);
    extra[1].len = (uint8_t)key_begin(extra[1].key, KIND_STATE);
    opgi_record_owner o = {s, record_value, each_record, extra, 2};
    rc = opgi_records_commit(root, changes, count, &s->records, &s->alloc, &o);
    return rc ? opgi_fail(s->err, rc, "commit", NULL) : OPG_OK;
}

void opg_slasher_root(uint8_t root[32], const opg_slasher *s)
{
    if (root && s)
        opgi_merkle_root(s->records.tree, root);
}

int opg_slasher_root_from_scratch(uint8_t root[32], const opg_slasher *s)
{
    if (!root || !s)
        return OPG_EINVAL;
    return opgi_records_root_from_scratch(root, &s->alloc, each_record, s);
}

int opg_slasher_records(opg_slasher *s, opg_record_sink fn, void *ctx)
{
    if (!s)
        return OPG_EINVAL;
    s->err[0] = '\0';
    OPGI_CHECK_ARG(s->err, fn);
    return opgi_records_export(each_record, s, fn, ctx);
}

int opg_slasher_prove(uint8_t *buf, size_t cap, size_t *len, const opg_slasher *s, const uint8_t *key,
                      size_t key_len)
{
    if (!len || !s || !key || (!buf && cap))
        return OPG_EINVAL;
    return opgi_records_prove(&s->records, buf, cap, len, key, key_len);
}

int opg_slasher_state_hash(uint8_t out[32], const opg_slasher *s)
{
    return opg_slasher_root_from_scratch(out, s);
}

/* ------------------------------------------------------------------ load */

typedef struct loader {
    opg_slasher *s;
    size_t classes_cap;
    int bits_ready;
} loader;

static int load_params(loader *l, opgi_reader *rd)
{
    opg_slasher *s = l->s;
    opg_slasher_params p;
    char err[OPGI_ERRMSG_MAX];
    memset(&p, 0, sizeof p);
    p.signed_blocks_window = opgi_r_u64(rd);
    opgi_r_dec(rd, &p.min_signed_per_window);
    p.downtime_jail_duration = opgi_r_i64(rd);
    opgi_r_dec(rd, &p.slash_fraction_double_sign);
    opgi_r_dec(rd, &p.slash_fraction_downtime);
    p.max_age_num_blocks = opgi_r_u64(rd);
    p.max_age_duration = opgi_r_i64(rd);
    opgi_r_dec(rd, &p.reporter_share);
    opgi_r_dec(rd, &p.correlation_k);
    p.correlation_window = opgi_r_i64(rd);
    size_t clen = opgi_r_u8(rd);
    if (clen > OPG_SLASHER_CHAIN_ID_MAX)
        return OPG_ECORRUPT;
    opgi_r_bytes(rd, p.chain_id, clen);
    p.chain_id[clen] = '\0';
    p.defer_duration = opgi_r_i64(rd);
    /* a NUL inside would shorten the id: the state would not save back the same */
    if (rd->bad || memchr(p.chain_id, 0, clen) ||
        opgi_params_check(&opgi_slasher_param_table, &p, err) != OPG_OK)
        return OPG_ECORRUPT;
    s->params = p;
    int rc = opgi_slasher_window_words(s);
    if (rc == OPG_OK)
        rc = opgi_slasher_grow(s, s->reg->node_cap > 16 ? s->reg->node_cap : 16);
    l->bits_ready = rc == OPG_OK;
    return rc;
}

static int load_state(opg_slasher *s, opgi_reader *rd)
{
    s->forgot_height = opgi_r_u64(rd);
    s->forgot_time = opgi_r_i64(rd);
    s->next_pending_id = opgi_r_u64(rd);
    /* ids run from 1; UINT64_MAX is never reached (the decision refuses first) */
    if (rd->bad || s->next_pending_id == 0 || s->next_pending_id == UINT64_MAX)
        return OPG_ECORRUPT;
    return (s->forgot_height == 0) != (s->forgot_time == INT64_MIN) ? OPG_ECORRUPT : OPG_OK;
}

static int load_class(loader *l, opgi_reader *rd, const uint8_t *key)
{
    opg_slasher *s = l->s;
    if (s->n_classes >= OPG_SLASHER_MAX_FAULT_CLASSES)
        return OPG_ECORRUPT;
    void *items = s->classes;
    int rc = opgi_grow(&s->alloc, &items, &l->classes_cap, s->n_classes + 1, sizeof *s->classes);
    s->classes = items;
    if (rc)
        return rc;
    opg_fault_class *c = &s->classes[s->n_classes];
    memset(c, 0, sizeof *c);
    c->id = (uint32_t)get_be(key + 2, 4);
    opgi_r_dec(rd, &c->slash_fraction);
    c->jail_duration = opgi_r_i64(rd);
    c->tombstone = opgi_r_bool(rd);
    if (rd->bad || !opgi_slasher_class_ok(c))
        return OPG_ECORRUPT;
    s->n_classes++; /* key order made the ids increase */
    return OPG_OK;
}

/* The slot of a node-keyed record's node: in the registry, and (for chunks) with its
 * signing record read already. */
static uint32_t load_slot(loader *l, const uint8_t *key, int need_info)
{
    opg_slasher *s = l->s;
    opg_id op;
    memcpy(op.bytes, key + 2, 32);
    uint32_t slot = opgi_node_find(s->reg, &op);
    if (!l->bits_ready || slot == OPGI_NONE || slot >= s->cap || s->info[slot].has != need_info)
        return OPGI_NONE;
    return slot;
}

static int load_signing(loader *l, opgi_reader *rd, const uint8_t *key)
{
    uint32_t slot = load_slot(l, key, 0);
    if (slot == OPGI_NONE)
        return OPG_ECORRUPT;
    opgi_sinfo *in = &l->s->info[slot];
    in->has = 1;
    in->start_height = opgi_r_u64(rd);
    in->index_offset = opgi_r_u64(rd);
    in->missed = opgi_r_u64(rd);
    return rd->bad ? OPG_ECORRUPT : OPG_OK;
}

static int load_missed(loader *l, opgi_reader *rd, const uint8_t *key)
{
    opg_slasher *s = l->s;
    uint32_t slot = load_slot(l, key, 1);
    uint32_t c = (uint32_t)get_be(key + 34, 4);
    if (slot == OPGI_NONE || c >= chunks_of(s->words))
        return OPG_ECORRUPT;
    size_t from = (size_t)c * CHUNK_WORDS;
    size_t n = s->words - from < CHUNK_WORDS ? s->words - from : CHUNK_WORDS;
    uint64_t *b = s->bits + (size_t)slot * s->words + from, any = 0;
    for (size_t k = 0; k < n; k++)
        any |= b[k] = opgi_r_u64(rd);
    /* canonical: an all-zero chunk has no record */
    return rd->bad || !any ? OPG_ECORRUPT : OPG_OK;
}

static int load_seen(loader *l, opgi_reader *rd, const uint8_t *key)
{
    opg_slasher *s = l->s;
    void *items = s->seen;
    int rc = opgi_grow(&s->alloc, &items, &s->seen_cap, s->n_seen + 1, sizeof *s->seen);
    s->seen = items;
    if (rc)
        return rc;
    opgi_seen *e = &s->seen[s->n_seen];
    memcpy(e->id.bytes, key + 2, 32);
    e->height = opgi_r_u64(rd);
    e->time = opgi_r_i64(rd);
    e->expire_height = opgi_r_u64(rd);
    e->expire_time = opgi_r_i64(rd);
    if (rd->bad || e->expire_height < e->height || e->expire_time < e->time)
        return OPG_ECORRUPT;
    s->n_seen++;
    return OPG_OK;
}

static int load_corr(loader *l, opgi_reader *rd, const uint8_t *key)
{
    opg_slasher *s = l->s;
    void *items = s->corr;
    int rc = opgi_grow(&s->alloc, &items, &s->corr_cap, s->n_corr + 1, sizeof *s->corr);
    s->corr = items;
    if (rc)
        return rc;
    opgi_corr *c = &s->corr[s->n_corr];
    c->time = (opg_time)(get_be(key + 2, 8) ^ (UINT64_C(1) << 63));
    uint64_t ordinal = get_be(key + 10, 4);
    c->fault_class = opgi_r_u32(rd);
    opgi_r_u256(rd, &c->stake);
    /* ordinals count from 0 within a time */
    uint64_t want = s->n_corr && s->corr[s->n_corr - 1].time == c->time ? corr_ordinal(s, s->n_corr - 1) + 1u : 0;
    if (rd->bad || ordinal != want || !opgi_slasher_class(s, c->fault_class))
        return OPG_ECORRUPT;
    s->n_corr++;
    return OPG_OK;
}

static int load_pending(loader *l, opgi_reader *rd, const uint8_t *key)
{
    opg_slasher *s = l->s;
    void *items = s->pending;
    int rc = opgi_grow(&s->alloc, &items, &s->pending_cap, s->n_pending + 1, sizeof *s->pending);
    s->pending = items;
    if (rc)
        return rc;
    opgi_pending *p = &s->pending[s->n_pending];
    memset(p, 0, sizeof *p);
    p->id = get_be(key + 2, 8);
    p->reason = opgi_r_u8(rd);
    opgi_r_bytes(rd, p->node.bytes, 32);
    p->fault_class = opgi_r_u32(rd);
    p->infraction_height = opgi_r_u64(rd);
    p->power = opgi_r_u64(rd);
    opgi_r_u256(rd, &p->power_tokens);
    opgi_r_dec(rd, &p->fraction);
    p->created_height = opgi_r_u64(rd);
    p->created_time = opgi_r_i64(rd);
    p->due_time = opgi_r_i64(rd);
    opgi_r_u256(rd, &p->node_part);
    opgi_r_u256(rd, &p->entries_part);
    opgi_r_u256(rd, &p->total);
    opgi_r_dec(rd, &p->keep);
    opgi_r_bytes(rd, p->reporter.bytes, 32);
    opgi_r_dec(rd, &p->reporter_share);
    opg_dec one;
    opg_dec_from_u64(&one, 1);
    opg_u256 sum;
    static const opg_id zero;
    /* ids come after the state record (key order): below the next id */
    if (rd->bad || p->id == 0 || p->id >= s->next_pending_id || p->reason < OPG_SLASH_DOWNTIME ||
        p->reason > OPG_SLASH_FAULT || (p->reason != OPG_SLASH_FAULT && p->fault_class) ||
        (p->reason == OPG_SLASH_FAULT && !opgi_slasher_class(s, p->fault_class)) ||
        opg_dec_cmp(&p->fraction, &one) > 0 || opg_dec_cmp(&p->keep, &one) > 0 ||
        opg_dec_cmp(&p->reporter_share, &one) > 0 ||
        (p->reason != OPG_SLASH_FAULT &&
         (opg_id_cmp(&p->reporter, &zero) || !opgi_dec_is_zero(&p->reporter_share))) ||
        p->infraction_height > p->created_height || p->due_time < p->created_time ||
        /* power * power_reduction with power_reduction >= 1 */
        opg_u256_cmp(&p->power_tokens, &(opg_u256){{p->power, 0, 0, 0}}) < 0 ||
        (p->power == 0) != opgi_u256_is_zero(&p->power_tokens) ||
        opg_u256_add(&sum, &p->node_part, &p->entries_part) != OPG_OK ||
        opg_u256_cmp(&sum, &p->total) != 0 || opgi_node_find(s->reg, &p->node) == OPGI_NONE)
        return OPG_ECORRUPT;
    s->n_pending++;
    return OPG_OK;
}

static int load_kind(void *owner, unsigned kind, const uint8_t *key, opgi_reader *rd)
{
    loader *l = owner;
    switch (kind) {
    case KIND_PARAMS: return load_params(l, rd);
    case KIND_STATE: return load_state(l->s, rd);
    case KIND_CLASS: return load_class(l, rd, key);
    case KIND_SIGNING: return load_signing(l, rd, key);
    case KIND_MISSED: return load_missed(l, rd, key);
    case KIND_SEEN: return load_seen(l, rd, key);
    case KIND_PENDING: return load_pending(l, rd, key);
    default: return load_corr(l, rd, key);
    }
}

/* After the stream: each signing record's missed count is its bitmap's. */
static int load_finish(void *owner)
{
    opg_slasher *s = ((loader *)owner)->s;
    for (uint32_t slot = 0; slot < s->cap; slot++) {
        if (!s->info[slot].has)
            continue;
        const uint64_t *b = s->bits + (size_t)slot * s->words;
        uint64_t count = 0;
        for (size_t k = 0; k < s->words; k++)
            count += popcount64(b[k]);
        uint64_t tail = s->params.signed_blocks_window % 64;
        if (count != s->info[slot].missed || (tail && (b[s->words - 1] >> tail) != 0))
            return OPG_ECORRUPT;
    }
    return OPG_OK;
}

static int load_stream(opg_slasher **out, opg_registry *r, opg_record_source next, void *ctx,
                       const uint8_t root[32], const opg_allocator *alloc, int track)
{
    opg_slasher *s = opgi_slasher_alloc(alloc, r);
    if (!s)
        return OPG_ENOMEM;
    loader l = {s, 0, 0};
    opgi_record_loader rl = {OPG_RECORDS_SLASHER, KEY_LEN, OPGI_ARRAY_LEN(KEY_LEN), load_kind,
                             load_finish, &l, s->err};
    int rc = opgi_records_load(&rl, next, ctx, track ? s->records.tree : NULL, &s->alloc, root);
    s->classes_cap = l.classes_cap;
    if (rc == OPG_OK)
        rc = opgi_slasher_attach(s);
    if (rc) {
        opg_slasher_free(s);
        return rc;
    }
    s->records.tracking = track;
    s->err[0] = '\0';
    *out = s;
    return OPG_OK;
}

int opg_slasher_load_records(opg_slasher **out, opg_registry *r, opg_record_source next, void *ctx,
                             const uint8_t root[32], const opg_allocator *alloc)
{
    if (!out || !r || !next)
        return OPG_EINVAL;
    return load_stream(out, r, next, ctx, root, alloc, 1);
}

/* -------------------------------------------------------------- snapshots */

int opg_slasher_save(uint8_t *buf, size_t cap, size_t *len, const opg_slasher *s)
{
    if (!s || !len || (!buf && cap))
        return OPG_EINVAL;
    return opgi_snapshot_save(buf, cap, len, OPGI_KIND_SLASHER, SNAPSHOT_VERSION, each_record, s);
}

int opg_slasher_load(opg_slasher **out, opg_registry *r, const uint8_t *buf, size_t len,
                     const opg_allocator *alloc)
{
    if (!out || !r || (!buf && len))
        return OPG_EINVAL;
    opgi_snapshot_reader sr;
    int rc = opgi_snapshot_open(&sr, buf, len, OPGI_KIND_SLASHER, SNAPSHOT_VERSION);
    opg_slasher *s;
    if (rc == OPG_OK)
        rc = load_stream(&s, r, opgi_snapshot_next, &sr, NULL, alloc, 0);
    if (rc == OPG_OK && (rc = opgi_snapshot_finish(&sr)) != OPG_OK)
        opg_slasher_free(s);
    if (rc == OPG_OK)
        *out = s;
    return rc;
}
