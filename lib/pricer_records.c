/*
 * pricer_records.c - the fee pricer's state as records: keys, values, the commit,
 * export, loading from a record stream, and snapshots (lib/records.h says how
 * commits work).
 *
 * Keys (tag OPG_RECORDS_PRICER, then the kind, then ids; integers big-endian):
 *   params      tag 0              dimension count, combine, split
 *   state       tag 1              per dimension: base fee, usage, excess
 *   dimension   tag 2 index (u8)   name, controller, target, limit, min and max
 *                                  base fee, the controller's rate
 *   class       tag 3 id (u32)     one multiplier per dimension
 * Values begin with a format byte (1). The singletons and the dimensions (at most
 * OPG_PRICER_MAX_DIMENSIONS) are re-encoded at every commit, which the commit then
 * drops when their bytes did not change; classes are touched by the calls that
 * change them.
 */
#include "pricer_internal.h"

#include "codec.h"
#include "num.h"

enum { KIND_PARAMS = 0, KIND_STATE = 1, KIND_DIMENSION = 2, KIND_CLASS = 3 };

static const size_t KEY_LEN[] = {2, 2, 3, 6};

#define SNAPSHOT_VERSION 2

static size_t key_begin(uint8_t *key, int kind)
{
    key[0] = OPG_RECORDS_PRICER;
    key[1] = (uint8_t)kind;
    return 2;
}

static size_t dimension_key(uint8_t *key, size_t d)
{
    key_begin(key, KIND_DIMENSION);
    key[2] = (uint8_t)d;
    return 3;
}

static size_t class_key(uint8_t *key, uint32_t id)
{
    key_begin(key, KIND_CLASS);
    for (int i = 0; i < 4; i++)
        key[2 + i] = (uint8_t)(id >> (24 - 8 * i));
    return 6;
}

static uint32_t key_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int opg_pricer_key_class(uint8_t key[OPG_RECORD_KEY_MAX], size_t *len, uint32_t id)
{
    if (!key || !len)
        return OPG_EINVAL;
    *len = class_key(key, id);
    return OPG_OK;
}

/* ---------------------------------------------------------------- touches */

int opgi_pricer_touch_reserve(opg_pricer *p, size_t more)
{
    int rc = opgi_records_reserve(&p->records, &p->alloc, more);
    return rc ? opgi_fail(p->err, rc, "no memory for the records a call changes", NULL) : OPG_OK;
}

void opgi_pricer_touch_class(opg_pricer *p, uint32_t id)
{
    uint8_t key[OPGI_RECORD_KEY_MAX];
    opgi_records_touch(&p->records, &p->alloc, p->err, key, class_key(key, id), 0);
}

/* ---------------------------------------------------------------- values */

static void params_value(opgi_writer *w, const opg_pricer *p)
{
    opgi_w_u8(w, OPGI_VALUE_FORMAT);
    opgi_w_u8(w, (uint8_t)p->rules.dimension_count);
    opgi_w_u8(w, (uint8_t)p->rules.combine);
    opg_pricer_split s = p->rules.split;
    for (size_t i = 0; i < 5; i++)
        opgi_w_dec(w, opgi_pricer_split_share(&s, i));
}

static void state_value(opgi_writer *w, const opg_pricer *p)
{
    opgi_w_u8(w, OPGI_VALUE_FORMAT);
    for (size_t d = 0; d < p->rules.dimension_count; d++) {
        opgi_w_u256(w, &p->base_fee[d]);
        opgi_w_u256(w, &p->usage[d]);
        opgi_w_u256(w, &p->excess[d]);
    }
}

static void dimension_value(opgi_writer *w, const opg_pricer *p, size_t d)
{
    const dim_rules *r = &p->rules.dim[d];
    opgi_w_u8(w, OPGI_VALUE_FORMAT);
    opgi_w_bytes(w, p->name[d], OPG_PRICER_NAME_MAX);
    opgi_w_u8(w, (uint8_t)r->controller);
    opgi_w_u256(w, &r->target);
    opgi_w_u256(w, &r->limit);
    opgi_w_u256(w, &r->min_base_fee);
    opgi_w_u256(w, &r->max_base_fee);
    opgi_w_u64(w, r->controller == OPG_PRICER_EIP1559 ? r->denominator : r->update_fraction);
}

static void class_value(opgi_writer *w, const opg_pricer *p, const opg_pricer_class *c)
{
    opgi_w_u8(w, OPGI_VALUE_FORMAT);
    for (size_t d = 0; d < p->rules.dimension_count; d++)
        opgi_w_dec(w, &c->multiplier[d]);
}

static int record_value(opgi_writer *w, const void *owner, const opgi_touch *t)
{
    const opg_pricer *p = owner;
    switch (t->key[1]) {
    case KIND_PARAMS:
        params_value(w, p);
        return 1;
    case KIND_STATE:
        state_value(w, p);
        return 1;
    case KIND_DIMENSION:
        if (t->key[2] >= p->rules.dimension_count)
            return 0;
        dimension_value(w, p, t->key[2]);
        return 1;
    case KIND_CLASS: {
        const opg_pricer_class *c = opgi_pricer_class_find(p, key_u32(t->key + 2));
        if (c)
            class_value(w, p, c);
        return c != NULL;
    }
    }
    (void)OPGI_NEVER(NULL, 1); /* only the keys above are ever touched */
    return 0;
}

static int each_record(const void *owner, opgi_record_sink sink, void *ctx)
{
    const opg_pricer *p = owner;
    opgi_emitter *em = opgi_emitter_new(&p->alloc, sink, ctx);
    if (!em)
        return OPG_ENOMEM;
    uint8_t key[OPGI_RECORD_KEY_MAX];
    params_value(opgi_emit_begin(em), p);
    int rc = opgi_emit(em, key, key_begin(key, KIND_PARAMS));
    if (rc == OPG_OK) {
        state_value(opgi_emit_begin(em), p);
        rc = opgi_emit(em, key, key_begin(key, KIND_STATE));
    }
    for (size_t d = 0; rc == OPG_OK && d < p->rules.dimension_count; d++) {
        dimension_value(opgi_emit_begin(em), p, d);
        rc = opgi_emit(em, key, dimension_key(key, d));
    }
    for (size_t i = 0; rc == OPG_OK && i < p->class_count; i++) {
        class_value(opgi_emit_begin(em), p, &p->classes[i]);
        rc = opgi_emit(em, key, class_key(key, p->classes[i].id));
    }
    opgi_emitter_free(em, &p->alloc);
    return rc;
}

/* ---------------------------------------------------------------- commit */

int opg_pricer_commit(uint8_t root[32], const opg_record **changes, size_t *count, opg_pricer *pricer)
{
    if (!pricer)
        return OPG_EINVAL;
    pricer->err[0] = '\0';
    OPGI_CHECK_ARG(pricer->err, root && changes && count);
    /* the singletons and every dimension: at most 2 + MAX_DIMS keys, in key order */
    opgi_touch extra[2 + MAX_DIMS];
    memset(extra, 0, sizeof extra);
    extra[0].len = (uint8_t)key_begin(extra[0].key, KIND_PARAMS);
    extra[1].len = (uint8_t)key_begin(extra[1].key, KIND_STATE);
    size_t dims = pricer->rules.dimension_count;
    for (size_t d = 0; d < dims; d++)
        extra[2 + d].len = (uint8_t)dimension_key(extra[2 + d].key, d);
    opgi_record_owner o = {pricer, record_value, each_record, extra, 2 + dims};
    int rc = opgi_records_commit(root, changes, count, &pricer->records, &pricer->alloc, &o);
    return rc ? opgi_fail(pricer->err, rc, "commit", NULL) : OPG_OK;
}

void opg_pricer_root(uint8_t root[32], const opg_pricer *pricer)
{
    if (root && pricer)
        opgi_merkle_root(pricer->records.tree, root);
}

int opg_pricer_root_from_scratch(uint8_t root[32], const opg_pricer *pricer)
{
    if (!root || !pricer)
        return OPG_EINVAL;
    return opgi_records_root_from_scratch(root, &pricer->alloc, each_record, pricer);
}

int opg_pricer_records(opg_pricer *pricer, opg_record_sink fn, void *ctx)
{
    if (!pricer)
        return OPG_EINVAL;
    pricer->err[0] = '\0';
    OPGI_CHECK_ARG(pricer->err, fn);
    return opgi_records_export(each_record, pricer, fn, ctx);
}

int opg_pricer_prove(uint8_t *buf, size_t cap, size_t *len, const opg_pricer *pricer, const uint8_t *key,
                     size_t key_len)
{
    if (!len || !pricer || !key || (!buf && cap))
        return OPG_EINVAL;
    return opgi_records_prove(&pricer->records, buf, cap, len, key, key_len);
}

int opg_pricer_state_hash(uint8_t out[32], const opg_pricer *pricer)
{
    return opg_pricer_root_from_scratch(out, pricer);
}

/* ------------------------------------------------------------------ load */

static int load_params(opg_pricer *p, opgi_reader *rd)
{
    size_t dims = opgi_r_u8(rd);
    uint8_t combine = opgi_r_u8(rd);
    if (dims < 1 || dims > MAX_DIMS || combine > OPG_PRICER_COMBINE_MAX)
        return OPG_ECORRUPT;
    p->rules.dimension_count = dims;
    p->rules.combine = (opg_pricer_combine)combine;
    for (size_t i = 0; i < 5; i++)
        opgi_r_dec(rd, opgi_pricer_split_share(&p->rules.split, i));
    return rd->bad ? OPG_ECORRUPT : OPG_OK;
}

static int load_state(opg_pricer *p, opgi_reader *rd)
{
    for (size_t d = 0; d < p->rules.dimension_count; d++) {
        opgi_r_u256(rd, &p->base_fee[d]);
        opgi_r_u256(rd, &p->usage[d]);
        opgi_r_u256(rd, &p->excess[d]);
    }
    return rd->bad ? OPG_ECORRUPT : OPG_OK;
}

typedef struct loader {
    opg_pricer *p;
    size_t dims_seen; /* dimension records come as 0, 1, ... */
} loader;

static int load_dimension(loader *l, opgi_reader *rd, const uint8_t *key)
{
    opg_pricer *p = l->p;
    size_t d = key[2];
    if (d != l->dims_seen || d >= p->rules.dimension_count)
        return OPG_ECORRUPT;
    l->dims_seen++;
    dim_rules *x = &p->rules.dim[d];
    opgi_r_bytes(rd, p->name[d], OPG_PRICER_NAME_MAX);
    uint8_t controller = opgi_r_u8(rd);
    if (controller > OPG_PRICER_EXPONENTIAL)
        return OPG_ECORRUPT;
    x->controller = (opg_pricer_controller)controller;
    opgi_r_u256(rd, &x->target);
    opgi_r_u256(rd, &x->limit);
    opgi_r_u256(rd, &x->min_base_fee);
    opgi_r_u256(rd, &x->max_base_fee);
    uint64_t rate = opgi_r_u64(rd);
    if (x->controller == OPG_PRICER_EIP1559)
        x->denominator = rate;
    else
        x->update_fraction = rate;
    /* canonical: the name is zero padded */
    for (size_t i = opgi_pricer_name_len(p->name[d]); i < OPG_PRICER_NAME_MAX; i++)
        if (p->name[d][i])
            return OPG_ECORRUPT;
    return rd->bad ? OPG_ECORRUPT : OPG_OK;
}

static int load_class(loader *l, opgi_reader *rd, const uint8_t *key)
{
    opg_pricer *p = l->p;
    if (l->dims_seen != p->rules.dimension_count)
        return OPG_ECORRUPT; /* key order puts every dimension first */
    size_t need = p->class_count + 1;
    if (need > p->class_cap) {
        void *items = p->classes;
        int rc = opgi_grow(&p->alloc, &items, &p->class_cap, need, sizeof *p->classes);
        p->classes = items;
        if (rc)
            return rc;
    }
    /* key order made the ids strictly increase */
    opg_pricer_class *c = &p->classes[p->class_count];
    memset(c, 0, sizeof *c);
    c->id = key_u32(key + 2);
    for (size_t d = 0; d < p->rules.dimension_count; d++)
        opgi_r_dec(rd, &c->multiplier[d]);
    if (rd->bad)
        return OPG_ECORRUPT;
    p->class_count++;
    return OPG_OK;
}

/* One record's value after its format byte (opgi_records_load checked the key). */
static int load_kind(void *owner, unsigned kind, const uint8_t *key, opgi_reader *rd)
{
    loader *l = owner;
    switch (kind) {
    case KIND_PARAMS: return load_params(l->p, rd);
    case KIND_STATE: return load_state(l->p, rd);
    case KIND_DIMENSION: return load_dimension(l, rd, key);
    default: return load_class(l, rd, key);
    }
}

/* After the stream: every dimension came, the rules hold, and each dimension's state
 * is one the calls can reach (EIP-1559 keeps no excess, the base fee lies in its
 * bounds; usage may exceed a limit lowered mid-block). */
static int load_finish(void *owner)
{
    loader *l = owner;
    opg_pricer *p = l->p;
    if (l->dims_seen != p->rules.dimension_count || opgi_pricer_check(p) != OPG_OK)
        return OPG_ECORRUPT;
    for (size_t d = 0; d < p->rules.dimension_count; d++) {
        const dim_rules *x = &p->rules.dim[d];
        if (x->controller == OPG_PRICER_EIP1559 && !opgi_u256_is_zero(&p->excess[d]))
            return OPG_ECORRUPT;
        if (opg_u256_cmp(&p->base_fee[d], &x->min_base_fee) < 0 ||
            opg_u256_cmp(&x->max_base_fee, &p->base_fee[d]) < 0)
            return OPG_ECORRUPT;
    }
    return OPG_OK;
}

/* A pricer from a record stream; with track, its records are also the committed
 * ones (the tree is built and checked against root when that is given). */
static int load_stream(opg_pricer **out, opg_record_source next, void *ctx, const uint8_t root[32],
                       const opg_allocator *alloc, int track)
{
    opg_pricer *p = opgi_pricer_alloc(alloc);
    if (!p)
        return OPG_ENOMEM;
    loader l = {p, 0};
    opgi_record_loader rl = {OPG_RECORDS_PRICER, KEY_LEN, OPGI_ARRAY_LEN(KEY_LEN), load_kind,
                             load_finish, &l, p->err};
    int rc = opgi_records_load(&rl, next, ctx, track ? p->records.tree : NULL, &p->alloc, root);
    if (rc) {
        opg_pricer_free(p);
        return rc;
    }
    p->records.tracking = track;
    p->err[0] = '\0';
    *out = p;
    return OPG_OK;
}

int opg_pricer_load_records(opg_pricer **out, opg_record_source next, void *ctx, const uint8_t root[32],
                            const opg_allocator *alloc)
{
    if (!out || !next)
        return OPG_EINVAL;
    return load_stream(out, next, ctx, root, alloc, 1);
}

/* -------------------------------------------------------------- snapshots */

int opg_pricer_save(uint8_t *buf, size_t cap, size_t *len, const opg_pricer *pricer)
{
    if (!pricer || !len || (!buf && cap))
        return OPG_EINVAL;
    return opgi_snapshot_save(buf, cap, len, OPGI_KIND_PRICER, SNAPSHOT_VERSION, each_record, pricer);
}

int opg_pricer_load(opg_pricer **out, const uint8_t *buf, size_t len, const opg_allocator *alloc)
{
    if (!out || (!buf && len))
        return OPG_EINVAL;
    opgi_snapshot_reader sr;
    int rc = opgi_snapshot_open(&sr, buf, len, OPGI_KIND_PRICER, SNAPSHOT_VERSION);
    opg_pricer *p;
    if (rc == OPG_OK)
        rc = load_stream(&p, opgi_snapshot_next, &sr, NULL, alloc, 0);
    if (rc == OPG_OK && (rc = opgi_snapshot_finish(&sr)) != OPG_OK)
        opg_pricer_free(p);
    if (rc == OPG_OK)
        *out = p;
    return rc;
}
