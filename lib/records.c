/* records.c - touched keys, the commit that turns them into a change set and a root. */
#include "records.h"

#include <stdlib.h>

/* Test builds may make every reservation short, to prove a touch past it aborts. */
#ifndef OPGI_TEST_EVENT_SHORTFALL
#define OPGI_TEST_EVENT_SHORTFALL 0
#endif

int opgi_key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

static int touch_cmp(const void *x, const void *y)
{
    const opgi_touch *a = x, *b = y;
    return opgi_key_cmp(a->key, a->len, b->key, b->len);
}

int opgi_records_init(opgi_records *rs, const opg_allocator *a)
{
    memset(rs, 0, sizeof *rs);
    return opgi_merkle_new(&rs->tree, a);
}

void opgi_records_free(opgi_records *rs, const opg_allocator *a)
{
    opgi_free(a, rs->touched, rs->touched_cap * sizeof *rs->touched);
    opgi_free(a, rs->changes, rs->changes_cap * sizeof *rs->changes);
    opgi_free(a, rs->bytes, rs->bytes_cap);
    opgi_free(a, rs->spare_changes, rs->spare_changes_cap * sizeof *rs->spare_changes);
    opgi_free(a, rs->spare_bytes, rs->spare_bytes_cap);
    opgi_free(a, rs->batch, rs->batch_cap * sizeof *rs->batch);
    opgi_free(a, rs->order, rs->order_cap * sizeof *rs->order);
    opgi_merkle_free(rs->tree);
    memset(rs, 0, sizeof *rs);
}

int opgi_records_reserve(opgi_records *rs, const opg_allocator *a, size_t more)
{
    if (!rs->tracking)
        return OPG_OK;
    more = more > OPGI_TEST_EVENT_SHORTFALL ? more - OPGI_TEST_EVENT_SHORTFALL : 0;
    if (more > SIZE_MAX / sizeof(opgi_touch) - rs->n_touched)
        return OPG_ENOMEM;
    size_t need = rs->n_touched + more;
    if (need <= rs->touched_room)
        return OPG_OK;
    void *items = rs->touched;
    int rc = opgi_grow(a, &items, &rs->touched_cap, need, sizeof(opgi_touch));
    rs->touched = items;
    if (rc)
        return rc;
    rs->touched_room = need;
    return OPG_OK;
}

int opgi_records_reserve_more(opgi_records *rs, const opg_allocator *a, size_t more)
{
    if (!rs->tracking)
        return OPG_OK;
    size_t held = rs->touched_room > rs->n_touched ? rs->touched_room - rs->n_touched : 0;
    if (more > SIZE_MAX - held)
        return OPG_ENOMEM;
    return opgi_records_reserve(rs, a, held + more);
}

void opgi_records_touch(opgi_records *rs, const opg_allocator *a, char *err, const uint8_t *key,
                        size_t len, int64_t hint)
{
    if (!rs->tracking || OPGI_NEVER(err, len > OPGI_RECORD_KEY_MAX))
        return;
    /* Past the reservation is a bug; release builds still keep the key if they can,
     * and a key lost with memory would only cost the host a stale record. */
    if (OPGI_NEVER(err, rs->n_touched >= rs->touched_room)) {
        void *items = rs->touched;
        int rc = opgi_grow(a, &items, &rs->touched_cap, rs->n_touched + 1, sizeof(opgi_touch));
        rs->touched = items;
        if (rc)
            return;
        rs->touched_room = rs->n_touched + 1;
    }
    if (rs->n_touched) { /* the same record again, as often happens: once is enough */
        const opgi_touch *last = &rs->touched[rs->n_touched - 1];
        if (last->len == len && memcmp(last->key, key, len) == 0)
            return;
    }
    opgi_touch *t = &rs->touched[rs->n_touched++];
    t->hint = hint;
    t->len = (uint8_t)len;
    memcpy(t->key, key, len);
}

/* The commit's work in progress; nothing of it is visible until it succeeded. */
typedef struct commit_state {
    const opg_allocator *alloc;
    opg_record *changes; /* key and value pointers are set once the bytes stop moving */
    size_t n, changes_cap;
    uint8_t *bytes;      /* keys and values, one after the other */
    size_t bytes_cap, used;
} commit_state;

static int ensure_bytes(commit_state *c, size_t more)
{
    if (more > SIZE_MAX - c->used)
        return OPG_ENOMEM;
    void *p = c->bytes;
    int rc = opgi_grow(c->alloc, &p, &c->bytes_cap, c->used + more, 1);
    c->bytes = p;
    return rc;
}

static opg_record *new_change(commit_state *c, size_t key_len)
{
    void *p = c->changes;
    if (opgi_grow(c->alloc, &p, &c->changes_cap, c->n + 1, sizeof *c->changes) != OPG_OK)
        return NULL;
    c->changes = p;
    opg_record *r = &c->changes[c->n++];
    memset(r, 0, sizeof *r);
    r->key_len = key_len;
    return r;
}

/* A touched key and, when the record exists, its value as the owner has it now.
 * A value is written twice at most: once more when it did not fit. */
static int add_touched(commit_state *c, const opgi_record_owner *o, const opgi_touch *t)
{
    opg_record *r = new_change(c, t->len);
    if (!r || ensure_bytes(c, t->len))
        return OPG_ENOMEM;
    memcpy(c->bytes + c->used, t->key, t->len);
    c->used += t->len;
    opgi_writer w;
    opgi_writer_buffer(&w, c->bytes + c->used, c->bytes_cap - c->used);
    int present = o->value(&w, o->owner, t);
    if (present && w.len > c->bytes_cap - c->used) {
        if (ensure_bytes(c, w.len))
            return OPG_ENOMEM;
        opgi_writer_buffer(&w, c->bytes + c->used, c->bytes_cap - c->used);
        present = o->value(&w, o->owner, t);
    }
    r->present = present;
    r->value_len = present ? w.len : 0;
    c->used += r->value_len;
    return OPG_OK;
}

/* An opgi_record_sink for the first commit: every record, as a put. */
static int add_whole(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value,
                     size_t value_len)
{
    commit_state *c = ctx;
    opg_record *r = new_change(c, key_len);
    if (!r || ensure_bytes(c, key_len + value_len))
        return OPG_ENOMEM;
    memcpy(c->bytes + c->used, key, key_len);
    memcpy(c->bytes + c->used + key_len, value, value_len);
    c->used += key_len + value_len;
    r->present = 1;
    r->value_len = value_len;
    return OPG_OK;
}

static int touch_less(const opgi_touch *a, const opgi_touch *b)
{
    return opgi_key_cmp(a->key, a->len, b->key, b->len) < 0;
}

/* Sorts p[0..n) (pointers to touches) by key, stable, with tmp[0..n) as scratch:
 * runs of 8 by insertion, then merges (the touches stay where they are, only
 * pointers move; qsort moved the 128-byte touches and called through a pointer). */
static void sort_touches(const opgi_touch **p, const opgi_touch **tmp, size_t n)
{
    enum { RUN = 8 };
    for (size_t lo = 0; lo < n; lo += RUN) {
        size_t hi = n - lo < RUN ? n : lo + RUN;
        for (size_t i = lo + 1; i < hi; i++) {
            const opgi_touch *x = p[i];
            size_t j = i;
            for (; j > lo && touch_less(x, p[j - 1]); j--)
                p[j] = p[j - 1];
            p[j] = x;
        }
    }
    const opgi_touch **src = p, **dst = tmp;
    for (size_t w = RUN; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = n - lo < w ? n : lo + w, hi = n - lo < 2 * w ? n : lo + 2 * w;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                dst[k++] = touch_less(src[j], src[i]) ? src[j++] : src[i++];
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
        }
        const opgi_touch **s = src;
        src = dst;
        dst = s;
    }
    if (src != p)
        memcpy(p, src, n * sizeof *p);
}

/* The touched keys, deduplicated, merged in key order with the extras. The touches
 * themselves are left as they are: if the commit fails they are still the set. */
static int collect_touched(commit_state *c, opgi_records *rs, const opgi_record_owner *o)
{
    size_t nt = rs->n_touched;
    void *grown = rs->order;
    int rc = opgi_grow(c->alloc, &grown, &rs->order_cap, 2 * nt + 1, sizeof *rs->order);
    rs->order = grown;
    if (rc)
        return rc;
    const opgi_touch **order = rs->order;
    for (size_t i = 0; i < nt; i++)
        order[i] = &rs->touched[i];
    sort_touches(order, order + nt, nt);
    size_t n = 0;
    for (size_t i = 0; i < nt; i++)
        if (n == 0 || touch_cmp(order[n - 1], order[i]) != 0)
            order[n++] = order[i];
    for (size_t i = 0, e = 0; rc == OPG_OK && (i < n || e < o->n_extra);) {
        const opgi_touch *t;
        if (e < o->n_extra && (i == n || touch_cmp(&o->extra[e], order[i]) <= 0)) {
            t = &o->extra[e++];
            if (i < n && touch_cmp(t, order[i]) == 0)
                i++; /* touched as well: once */
        } else {
            t = order[i++];
        }
        rc = add_touched(c, o, t);
    }
    return rc;
}

int opgi_records_commit(uint8_t root[32], const opg_record **changes, size_t *count,
                        opgi_records *rs, const opg_allocator *a, const opgi_record_owner *o)
{
    commit_state c;
    memset(&c, 0, sizeof c);
    c.alloc = a;
    c.changes = rs->spare_changes; /* the buffers of two commits ago */
    c.changes_cap = rs->spare_changes_cap;
    c.bytes = rs->spare_bytes;
    c.bytes_cap = rs->spare_bytes_cap;
    rs->spare_changes = NULL;
    rs->spare_bytes = NULL;
    rs->spare_changes_cap = rs->spare_bytes_cap = 0;
    int rc = rs->tracking ? collect_touched(&c, rs, o) : o->each(o->owner, add_whole, &c);
    opgi_merkle_change *batch = NULL;
    void *grown = rs->batch;
    opgi_merkle *tree = rs->tree, *fresh = NULL;
    if (rc == OPG_OK && !rs->tracking && (rc = opgi_merkle_new(&fresh, a)) == OPG_OK)
        tree = fresh; /* the first commit: the tree of every record */
    if (rc == OPG_OK)
        rc = opgi_grow(a, &grown, &rs->batch_cap, c.n ? c.n : 1, sizeof *batch);
    rs->batch = grown;
    batch = rs->batch;
    if (rc == OPG_OK) {
        /* keys and values stop moving: set the pointers and hash */
        size_t pos = 0;
        for (size_t i = 0; i < c.n; i++) {
            opg_record *r = &c.changes[i];
            r->key = c.bytes + pos;
            pos += r->key_len;
            r->value = r->present ? c.bytes + pos : NULL;
            pos += r->value_len;
            opgi_merkle_change *m = &batch[i];
            opgi_merkle_key_hash(m->key_hash, r->key, r->key_len);
            m->present = r->present;
            if (r->present)
                opgi_merkle_value_hash(m->value_hash, r->value, r->value_len);
            else
                memset(m->value_hash, 0, sizeof m->value_hash);
            m->tag = i;
        }
        rc = opgi_merkle_apply(tree, batch, c.n);
    }
    if (rc == OPG_OK) {
        /* keep only real changes (not a record touched but as it was, nor a record
         * made and gone again): the tree says which changes were no-ops */
        for (size_t i = 0; i < c.n; i++)
            if (!batch[i].changed)
                c.changes[batch[i].tag].key = NULL;
        size_t kept = 0;
        for (size_t i = 0; i < c.n; i++)
            if (c.changes[i].key)
                c.changes[kept++] = c.changes[i];
        c.n = kept;
    }
    if (rc) {
        opgi_merkle_free(fresh);
        rs->spare_changes = c.changes; /* kept for the next try */
        rs->spare_changes_cap = c.changes_cap;
        rs->spare_bytes = c.bytes;
        rs->spare_bytes_cap = c.bytes_cap;
        return rc;
    }
    if (fresh) {
        opgi_merkle_free(rs->tree);
        rs->tree = fresh;
        rs->tracking = 1;
    }
    rs->spare_changes = rs->changes; /* the last change set is no longer the host's */
    rs->spare_changes_cap = rs->changes_cap;
    rs->spare_bytes = rs->bytes;
    rs->spare_bytes_cap = rs->bytes_cap;
    rs->changes = c.changes;
    rs->changes_cap = c.changes_cap;
    rs->n_changes = c.n;
    rs->bytes = c.bytes;
    rs->bytes_cap = c.bytes_cap;
    rs->n_touched = 0;
    rs->touched_room = 0;
    opgi_merkle_root(rs->tree, root);
    *changes = rs->changes;
    *count = rs->n_changes;
    return OPG_OK;
}

/* ------------------------------------------------------------ tree builder */

void opgi_tree_builder_init(opgi_tree_builder *b, opgi_merkle *tree, const opg_allocator *a)
{
    memset(b, 0, sizeof *b);
    b->tree = tree;
    b->alloc = a;
}

int opgi_tree_builder_add(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value,
                          size_t value_len)
{
    opgi_tree_builder *b = ctx;
    if (b->rc)
        return b->rc;
    if (b->n == b->cap) {
        void *p = b->batch;
        b->rc = opgi_grow(b->alloc, &p, &b->cap, b->n + 1, sizeof *b->batch);
        b->batch = p;
        if (b->rc)
            return b->rc;
    }
    opgi_merkle_change *m = &b->batch[b->n++];
    opgi_merkle_key_hash(m->key_hash, key, key_len);
    opgi_merkle_value_hash(m->value_hash, value, value_len);
    m->present = 1;
    return OPG_OK;
}

int opgi_tree_builder_finish(opgi_tree_builder *b)
{
    int rc = b->rc ? b->rc : opgi_merkle_apply(b->tree, b->batch, b->n);
    opgi_free(b->alloc, b->batch, b->cap * sizeof *b->batch);
    b->batch = NULL;
    b->n = b->cap = 0;
    return rc;
}

/* ------------------------------------------------- whole-state helpers */

int opgi_records_build_tree(opgi_merkle **out, const opg_allocator *a, opgi_record_each_fn each,
                            const void *owner)
{
    opgi_merkle *t;
    int rc = opgi_merkle_new(&t, a);
    if (rc)
        return rc;
    opgi_tree_builder b;
    opgi_tree_builder_init(&b, t, a);
    rc = each(owner, opgi_tree_builder_add, &b);
    int frc = opgi_tree_builder_finish(&b);
    if (rc == OPG_OK)
        rc = frc;
    if (rc) {
        opgi_merkle_free(t);
        return rc;
    }
    *out = t;
    return OPG_OK;
}

int opgi_records_root_from_scratch(uint8_t root[32], const opg_allocator *a,
                                   opgi_record_each_fn each, const void *owner)
{
    opgi_merkle *t;
    int rc = opgi_records_build_tree(&t, a, each, owner);
    if (rc)
        return rc;
    opgi_merkle_root(t, root);
    opgi_merkle_free(t);
    return OPG_OK;
}

typedef struct host_sink {
    opg_record_sink fn;
    void *ctx;
} host_sink;

static int to_host(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value,
                   size_t value_len)
{
    host_sink *h = ctx;
    opg_record rec = {key, key_len, value, value_len, 1};
    int rc = h->fn(h->ctx, &rec);
    return rc > 0 ? OPG_OK : rc;
}

int opgi_records_export(opgi_record_each_fn each, const void *owner, opg_record_sink fn, void *ctx)
{
    host_sink h = {fn, ctx};
    return each(owner, to_host, &h);
}

int opgi_records_prove(const opgi_records *rs, uint8_t *buf, size_t cap, size_t *len,
                       const uint8_t *key, size_t key_len)
{
    uint8_t kh[32];
    opgi_merkle_key_hash(kh, key, key_len);
    return opgi_merkle_prove(rs->tree, kh, buf, cap, len);
}

opgi_writer *opgi_emit_begin(opgi_emitter *em)
{
    opgi_writer_buffer(&em->w, em->value, sizeof em->value);
    return &em->w;
}

opgi_emitter *opgi_emitter_new(const opg_allocator *a, opgi_record_sink sink, void *ctx)
{
    opgi_emitter *em = opgi_alloc(a, sizeof *em);
    if (em) {
        em->sink = sink;
        em->ctx = ctx;
    }
    return em;
}

void opgi_emitter_free(opgi_emitter *em, const opg_allocator *a) { opgi_free(a, em, sizeof *em); }

int opgi_emit(opgi_emitter *em, const uint8_t *key, size_t key_len)
{
    if (OPGI_NEVER(NULL, em->w.len > sizeof em->value))
        return OPG_EINVARIANT; /* every value is far below OPGI_VALUE_MAX */
    return em->sink(em->ctx, key, key_len, em->value, em->w.len);
}

/* -------------------------------------------------------------- snapshots */

typedef struct snapshot_writer {
    opgi_writer w;
    uint64_t count;
} snapshot_writer;

static int snapshot_put(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value,
                        size_t value_len)
{
    snapshot_writer *sw = ctx;
    if (OPGI_NEVER(NULL, key_len == 0 || key_len > OPGI_RECORD_KEY_MAX || value_len > UINT32_MAX))
        return OPG_EINVARIANT;
    opgi_w_u8(&sw->w, (uint8_t)key_len);
    opgi_w_bytes(&sw->w, key, key_len);
    opgi_w_u32(&sw->w, (uint32_t)value_len);
    opgi_w_bytes(&sw->w, value, value_len);
    sw->count++;
    return OPG_OK;
}

int opgi_snapshot_save(uint8_t *buf, size_t cap, size_t *len, enum opgi_kind kind,
                       uint16_t version, opgi_record_each_fn each, const void *owner)
{
    snapshot_writer sw;
    sw.count = 0;
    opgi_writer_buffer(&sw.w, buf, cap);
    opgi_w_header(&sw.w, kind, version);
    int rc = each(owner, snapshot_put, &sw);
    if (rc)
        return rc;
    opgi_w_u8(&sw.w, 0);
    opgi_w_u64(&sw.w, sw.count);
    return opgi_writer_finish(&sw.w, len);
}

int opgi_snapshot_open(opgi_snapshot_reader *s, const uint8_t *buf, size_t len,
                       enum opgi_kind kind, uint16_t version)
{
    memset(s, 0, sizeof *s);
    opgi_reader_init(&s->rd, buf, len);
    uint16_t got;
    int rc = opgi_r_header(&s->rd, kind, version, &got);
    if (rc == OPG_OK && got != version)
        rc = OPG_ECORRUPT; /* older formats are not read any more */
    return rc;
}

int opgi_snapshot_next(void *ctx, opg_record *rec)
{
    opgi_snapshot_reader *s = ctx;
    opgi_reader *rd = &s->rd;
    if (s->ended)
        return 0;
    uint8_t key_len = opgi_r_u8(rd);
    if (rd->bad)
        return OPG_ECORRUPT;
    if (key_len == 0) {
        uint64_t n = opgi_r_u64(rd);
        s->ended = 1;
        return rd->bad || n != s->count ? OPG_ECORRUPT : 0;
    }
    if (key_len > OPGI_RECORD_KEY_MAX || rd->len - rd->pos < key_len)
        return OPG_ECORRUPT;
    rec->key = rd->p + rd->pos;
    rec->key_len = key_len;
    rd->pos += key_len;
    uint32_t value_len = opgi_r_u32(rd);
    if (rd->bad || rd->len - rd->pos < value_len)
        return OPG_ECORRUPT;
    rec->value = rd->p + rd->pos;
    rec->value_len = value_len;
    rec->present = 1;
    rd->pos += value_len;
    s->count++;
    return 1;
}

int opgi_snapshot_finish(const opgi_snapshot_reader *s)
{
    return s->ended ? opgi_r_finish(&s->rd) : OPG_ECORRUPT;
}

/* ---------------------------------------------------------------- loading */

static int load_one(const opgi_record_loader *l, const opg_record *rec, uint8_t *prev,
                    size_t *prev_len, unsigned *seen)
{
    if (!rec->key || rec->key_len < 2 || rec->key_len > OPGI_RECORD_KEY_MAX ||
        (!rec->value && rec->value_len) || !rec->present)
        return opgi_fail(l->err, OPG_ECORRUPT, "not a record", NULL);
    const uint8_t *key = rec->key;
    unsigned kind = key[1];
    if (key[0] != l->tag || kind >= l->n_kinds || rec->key_len != l->key_len[kind])
        return opgi_fail(l->err, OPG_ECORRUPT, "not a record key of this handle", NULL);
    if (*prev_len && opgi_key_cmp(prev, *prev_len, key, rec->key_len) >= 0)
        return opgi_fail(l->err, OPG_ECORRUPT, "records out of key order", NULL);
    /* the singletons' keys are the smallest: they come first, and must */
    if (kind > 1 && (*seen & 3) != 3)
        return opgi_fail(l->err, OPG_ECORRUPT, "a singleton record is missing", NULL);
    memcpy(prev, key, rec->key_len);
    *prev_len = rec->key_len;
    *seen |= 1u << kind;
    opgi_reader rd;
    opgi_reader_init(&rd, rec->value, rec->value_len);
    if (opgi_r_u8(&rd) != OPGI_VALUE_FORMAT)
        return opgi_fail(l->err, OPG_ECORRUPT, "unknown record format", NULL);
    int rc = l->load(l->owner, kind, key, &rd);
    return rc ? rc : opgi_r_finish(&rd);
}

int opgi_records_load(const opgi_record_loader *l, opg_record_source next, void *ctx,
                      opgi_merkle *tree, const opg_allocator *a, const uint8_t root[32])
{
    uint8_t prev[OPGI_RECORD_KEY_MAX];
    size_t prev_len = 0;
    unsigned seen = 0;
    opgi_tree_builder b;
    opgi_tree_builder_init(&b, tree, a);
    int rc;
    for (;;) {
        opg_record rec;
        memset(&rec, 0, sizeof rec);
        int more = next(ctx, &rec);
        if (more <= 0) {
            rc = more < 0 ? more
                 : (seen & 3) == 3 ? l->finish(l->owner)
                                   : opgi_fail(l->err, OPG_ECORRUPT, "a singleton record is missing", NULL);
            break;
        }
        if ((rc = load_one(l, &rec, prev, &prev_len, &seen)) != OPG_OK)
            break;
        if (tree && (rc = opgi_tree_builder_add(&b, rec.key, rec.key_len, rec.value,
                                                rec.value_len)) != OPG_OK)
            break;
    }
    int trc = tree ? opgi_tree_builder_finish(&b) : OPG_OK;
    if (rc == OPG_OK)
        rc = trc;
    if (rc == OPG_OK && tree && root) {
        uint8_t got[32];
        opgi_merkle_root(tree, got);
        if (memcmp(got, root, 32) != 0)
            rc = opgi_fail(l->err, OPG_ECORRUPT, "the records do not give the stored root", NULL);
    }
    return rc;
}
