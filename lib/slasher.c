/*
 * slasher.c - the slashing engine's handle: parameters, the registry hooks, the
 * liveness tracker (x/slashing HandleValidatorSignature) and checks. Evidence (votes,
 * the codec, double sign, faulty inference) is in slasher_evidence.c, the records
 * and snapshots in slasher_records.c.
 */
#include "slasher_internal.h"

#include "codec.h"
#include "num.h"

#include <stdlib.h>

/* ------------------------------------------------------------ parameters */

static int validate_params(const void *params, char *err)
{
    const opg_slasher_params *p = params;
    size_t len;
    if (opgi_chain_id_len(p->chain_id, &len) != OPG_OK)
        return opgi_fail(err, OPG_EINVAL,
                         "chain_id must be 1..50 printable ASCII bytes without spaces", NULL);
    return OPG_OK;
}

static const opgi_param slasher_params[] = {
    {"slashing.signed_blocks_window", OPGI_PARAM_U64,
     offsetof(opg_slasher_params, signed_blocks_window), "1", "1000000"},
    {"slashing.min_signed_per_window", OPGI_PARAM_DEC,
     offsetof(opg_slasher_params, min_signed_per_window), "0", "1"},
    {"slashing.downtime_jail_duration", OPGI_PARAM_SECS,
     offsetof(opg_slasher_params, downtime_jail_duration), "0", NULL},
    {"slashing.slash_fraction_double_sign", OPGI_PARAM_DEC,
     offsetof(opg_slasher_params, slash_fraction_double_sign), "0", "1"},
    {"slashing.slash_fraction_downtime", OPGI_PARAM_DEC,
     offsetof(opg_slasher_params, slash_fraction_downtime), "0", "1"},
    {"evidence.max_age_num_blocks", OPGI_PARAM_U64,
     offsetof(opg_slasher_params, max_age_num_blocks), "0", NULL},
    {"evidence.max_age_duration", OPGI_PARAM_SECS,
     offsetof(opg_slasher_params, max_age_duration), "0", NULL},
    {"slashing.reporter_share", OPGI_PARAM_DEC, offsetof(opg_slasher_params, reporter_share),
     "0", "1"},
    {"slashing.correlation_k", OPGI_PARAM_DEC, offsetof(opg_slasher_params, correlation_k),
     "0", NULL},
    {"slashing.correlation_window", OPGI_PARAM_SECS,
     offsetof(opg_slasher_params, correlation_window), "0", NULL},
    {"slashing.defer_duration", OPGI_PARAM_SECS, offsetof(opg_slasher_params, defer_duration),
     "0", NULL},
};

const opgi_param_table opgi_slasher_param_table = {
    slasher_params, OPGI_ARRAY_LEN(slasher_params), sizeof(opg_slasher_params),
    validate_params};

static void dec_raw(opg_dec *d, uint64_t raw)
{
    memset(d, 0, sizeof *d);
    d->limb[0] = raw;
}

void opg_slasher_params_init(opg_slasher_params *p)
{
    if (!p)
        return;
    memset(p, 0, sizeof *p);
    p->signed_blocks_window = 100;
    dec_raw(&p->min_signed_per_window, UINT64_C(500000000000000000));     /* 0.5 */
    p->downtime_jail_duration = 600;
    dec_raw(&p->slash_fraction_double_sign, UINT64_C(50000000000000000)); /* 0.05 */
    dec_raw(&p->slash_fraction_downtime, UINT64_C(10000000000000000));    /* 0.01 */
    p->max_age_num_blocks = 100000;
    p->max_age_duration = 172800;
    p->correlation_window = 86400;
    memcpy(p->chain_id, "opg-1", 6);
}

size_t opg_slasher_chain_id_max(void) { return OPG_SLASHER_CHAIN_ID_MAX; }
size_t opg_slasher_max_fault_classes(void) { return OPG_SLASHER_MAX_FAULT_CLASSES; }

/* 64-bit words of a bitmap of `window` bits; OPG_ENOMEM if it cannot be addressed. */
static int words_for(uint64_t window, size_t *out)
{
    uint64_t w = window / 64 + (window % 64 != 0);
    if (w > SIZE_MAX / 8)
        return OPG_ENOMEM;
    *out = (size_t)w;
    return OPG_OK;
}

int opgi_slasher_window_words(opg_slasher *s) { return words_for(s->params.signed_blocks_window, &s->words); }

/* A zeroed bitmap arena for `cap` slots of `words` words. */
static uint64_t *bits_alloc(const opg_allocator *a, uint32_t cap, size_t words, size_t *n)
{
    if (words && cap > SIZE_MAX / 8 / words)
        return NULL;
    *n = (size_t)cap * words;
    uint64_t *b = opgi_alloc_array(a, *n ? *n : 1, sizeof *b);
    if (b)
        memset(b, 0, (*n ? *n : 1) * sizeof *b);
    return b;
}

static void bits_free(opg_slasher *s)
{
    size_t n = (size_t)s->cap * s->words;
    opgi_free(&s->alloc, s->bits, (n ? n : 1) * sizeof *s->bits);
    s->bits = NULL;
}

static uint64_t *node_bits(const opg_slasher *s, uint32_t slot)
{
    return s->bits + (size_t)slot * s->words;
}

static unsigned popcount64(uint64_t x)
{
    unsigned n = 0;
    while (x) {
        x &= x - 1;
        n++;
    }
    return n;
}

/* window - round_half_even(min_signed_per_window * window). min_signed_per_window
 * <= 1, so the product fits and min_signed <= window. */
static uint64_t max_missed_of(const opg_slasher_params *p)
{
    const uint64_t w[1] = {p->signed_blocks_window}, P[1] = {OPGI_P};
    uint64_t min_signed[4] = {0, 0, 0, 0};
    /* Cosmos: MulInt64 (exact) then RoundInt64 (half to even) */
    OPGI_MUST(opgi_muldiv(min_signed, 4, p->min_signed_per_window.limb, 4, w, 1, P, 1, OPGI_HALF_EVEN));
    return p->signed_blocks_window - min_signed[0];
}

uint64_t opg_slasher_max_missed(const opg_slasher *s) { return s ? max_missed_of(&s->params) : 0; }

/*
 * The "slashing." and "evidence." namespace. The slasher takes each proposal's
 * changes as one step, from its parameters before to the values the sequence leaves:
 * a step that ends on another signed_blocks_window restarts the liveness state
 * (fresh bitmaps, every counter and offset 0), and a window set and set back within
 * a step is no change. Restarting twice is restarting once, so the copy only
 * remembers whether some step did; the bitmaps for the final window are obtained by
 * reserve, so commit cannot fail.
 */
typedef struct params_copy {
    opg_slasher_params params;
    uint64_t step_window; /* the window as the current step found it */
    int restart;          /* some step changed the window */
    /* reserve: the new bitmaps */
    uint64_t *bits;
    size_t words, n;
} params_copy;
_Static_assert(sizeof(params_copy) <= OPGI_NS_SCRATCH_MAX, "a slasher copy fits the stack copy");

static void params_begin(void *copy, const void *h)
{
    const opg_slasher *s = h;
    params_copy *c = copy;
    memset(c, 0, sizeof *c);
    c->params = s->params;
    c->step_window = s->params.signed_blocks_window;
}

static int params_stage(void *copy, const void *h, const char *key, const char *value,
                        char *err)
{
    params_copy *c = copy;
    (void)h; /* the rules are the table's alone */
    return opgi_params_set(&opgi_slasher_param_table, &c->params, key, value, err);
}

static void params_step(void *copy, const void *h)
{
    params_copy *c = copy;
    (void)h;
    if (c->params.signed_blocks_window != c->step_window)
        c->restart = 1;
    c->step_window = c->params.signed_blocks_window;
}

static int params_reserve(void *copy, const void *h, char *err)
{
    const opg_slasher *s = h;
    params_copy *c = copy;
    if (!c->restart || c->bits)
        return OPG_OK;
    size_t words;
    if (words_for(c->params.signed_blocks_window, &words) != OPG_OK)
        return opgi_fail(err, OPG_ENOMEM, "window too large", NULL);
    /* the restart rewrites every node's signing record and drops its chunks */
    size_t nodes = 0;
    for (uint32_t i = 0; i < s->cap; i++)
        nodes += s->info[i].has;
    /* room only (the records' capacity is not state), so the handle may be const; on
     * top of what the same end_block's governance actions reserved before */
    if (opgi_records_reserve_more((opgi_records *)&s->records, &s->alloc,
                             nodes * opgi_slasher_touches_of_node(s)) != OPG_OK)
        return opgi_fail(err, OPG_ENOMEM, "no memory for the records the new window changes", NULL);
    c->bits = bits_alloc(&s->alloc, s->cap, words, &c->n);
    if (!c->bits)
        return opgi_fail(err, OPG_ENOMEM, "no memory for the new window's bitmaps", NULL);
    c->words = words;
    return OPG_OK;
}

static void params_commit(void *h, void *copy)
{
    opg_slasher *s = h;
    params_copy *c = copy;
    if (c->restart && !OPGI_NEVER(s->err, !c->bits || c->n != (size_t)s->cap * c->words)) {
        for (uint32_t i = 0; i < s->cap; i++) /* room reserved: the old chunks' keys */
            if (s->info[i].has && i < s->reg->node_slots && s->reg->nodes[i].in_use)
                opgi_slasher_touch_node(s, i);
        bits_free(s);
        s->bits = c->bits;
        s->words = c->words;
        c->bits = NULL;
        for (uint32_t i = 0; i < s->cap; i++) {
            s->info[i].index_offset = 0;
            s->info[i].missed = 0;
        }
    }
    s->params = c->params;
}

static void params_release(void *copy, const void *h)
{
    const opg_slasher *s = h;
    params_copy *c = copy;
    opgi_free(&s->alloc, c->bits, (c->n ? c->n : 1) * sizeof *c->bits);
    c->bits = NULL;
}

const opgi_param_ns opgi_slasher_param_ns = {
    .prefixes = {"slashing.", "evidence.", NULL},
    .scratch_size = sizeof(params_copy),
    .begin = params_begin,
    .stage = params_stage,
    .step = params_step,
    .reserve = params_reserve,
    .commit = params_commit,
    .release = params_release,
};

int opg_slasher_param_set(opg_slasher *s, const char *key, const char *value)
{
    if (!s || !key || !value)
        return OPG_EINVAL;
    s->err[0] = '\0';
    return opgi_param_ns_set(&opgi_slasher_param_ns, s, key, value, s->err);
}

int opg_slasher_param_get(char *buf, size_t cap, size_t *needed, const opg_slasher *s,
                          const char *key)
{
    char scratch[OPGI_ERRMSG_MAX];
    if (!s || !key)
        return OPG_EINVAL;
    return opgi_params_get(&opgi_slasher_param_table, &s->params, key, buf, cap, needed, scratch);
}

const char *opg_slasher_param_key(size_t i)
{
    return opgi_params_key(&opgi_slasher_param_table, i);
}

void opg_slasher_params_get(opg_slasher_params *out, const opg_slasher *s)
{
    *out = s->params;
    out->fault_classes = NULL;
    out->fault_class_count = s->n_classes;
}

size_t opg_slasher_fault_class_count(const opg_slasher *s) { return s ? s->n_classes : 0; }

int opg_slasher_fault_class_at(opg_fault_class *out, const opg_slasher *s, size_t i)
{
    if (!out || !s)
        return OPG_EINVAL;
    if (i >= s->n_classes)
        return OPG_ENOTFOUND;
    *out = s->classes[i];
    return OPG_OK;
}

/* ---------------------------------------------------------------- memory */

int opgi_slasher_grow(opg_slasher *s, uint32_t ncap)
{
    if (ncap <= s->cap)
        return OPG_OK;
    size_t nbits;
    opgi_sinfo *info = opgi_alloc_array(&s->alloc, ncap, sizeof *info);
    uint8_t *mark = opgi_alloc(&s->alloc, ncap), *dirty = opgi_alloc(&s->alloc, ncap);
    uint32_t *dirty_list = opgi_alloc_array(&s->alloc, ncap, sizeof *dirty_list);
    uint64_t *bits = bits_alloc(&s->alloc, ncap, s->words, &nbits);
    if (!info || !mark || !dirty || !dirty_list || !bits) {
        opgi_free(&s->alloc, info, (size_t)ncap * sizeof *info);
        opgi_free(&s->alloc, mark, ncap);
        opgi_free(&s->alloc, dirty, ncap);
        opgi_free(&s->alloc, dirty_list, (size_t)ncap * sizeof *dirty_list);
        opgi_free(&s->alloc, bits, (nbits ? nbits : 1) * sizeof *bits);
        return OPG_ENOMEM;
    }
    memset(info, 0, (size_t)ncap * sizeof *info);
    memset(mark, 0, ncap);
    memset(dirty, 0, ncap);
    if (s->cap) {
        memcpy(info, s->info, (size_t)s->cap * sizeof *info);
        memcpy(dirty, s->dirty, s->cap);
        memcpy(dirty_list, s->dirty_list, s->n_dirty * sizeof *dirty_list);
        memcpy(bits, s->bits, (size_t)s->cap * s->words * sizeof *bits);
    }
    opgi_free(&s->alloc, s->info, (size_t)s->cap * sizeof *s->info);
    opgi_free(&s->alloc, s->mark, s->cap);
    opgi_free(&s->alloc, s->dirty, s->cap);
    opgi_free(&s->alloc, s->dirty_list, (size_t)s->cap * sizeof *s->dirty_list);
    bits_free(s);
    s->info = info;
    s->mark = mark;
    s->dirty = dirty;
    s->dirty_list = dirty_list;
    s->bits = bits;
    s->cap = ncap;
    return OPG_OK;
}

static void clear_slot(opg_slasher *s, uint32_t slot)
{
    if (slot >= s->cap)
        return;
    memset(&s->info[slot], 0, sizeof s->info[slot]);
    memset(node_bits(s, slot), 0, s->words * sizeof *s->bits);
}

/* ----------------------------------------------------------------- hooks */

static int hook_prepare(void *ctx, opg_registry *r, const opgi_plan *plan)
{
    opg_slasher *s = ctx;
    /* a node of the plan may be removed: its records are touched then */
    if (opgi_records_reserve(&s->records, &s->alloc, plan->n_nodes * opgi_slasher_touches_of_node(s)) != OPG_OK)
        return opgi_fail(r->err, OPG_ENOMEM, "slasher: no memory for the records a call changes", NULL);
    if (plan->new_node == OPGI_NONE || plan->new_node < s->cap)
        return OPG_OK;
    uint32_t want = r->node_cap > plan->new_node ? r->node_cap : plan->new_node + 1;
    if (opgi_slasher_grow(s, want) != OPG_OK)
        return opgi_fail(r->err, OPG_ENOMEM, "slasher: no memory for another node", NULL);
    return OPG_OK;
}

static void hook_node_created(void *ctx, opg_registry *r, uint32_t node)
{
    (void)r;
    clear_slot(ctx, node);
}

/* x/slashing's AfterValidatorBonded: a new signing info, or a new start height. */
static void hook_node_bonded(void *ctx, opg_registry *r, uint32_t node, opg_height height)
{
    opg_slasher *s = ctx;
    (void)r;
    /* prepare grew the arrays before the node existed */
    if (OPGI_NEVER(s->err, node >= s->cap))
        return;
    if (!s->info[node].has) {
        clear_slot(s, node);
        s->info[node].has = 1;
    }
    s->info[node].start_height = height;
    opgi_slasher_dirty(s, node);
}

static void hook_node_removed(void *ctx, opg_registry *r, uint32_t node)
{
    opg_slasher *s = ctx;
    (void)r;
    if (node < s->cap && s->info[node].has)
        opgi_slasher_touch_node(s, node); /* reserved by the prepare hook */
    clear_slot(s, node);
}

/* The consensus history must cover the evidence this slasher accepts. */
static void hook_history_window(void *ctx, uint64_t *blocks, opg_time *duration)
{
    const opg_slasher *s = ctx;
    *blocks = s->params.max_age_num_blocks;
    *duration = s->params.max_age_duration;
}

/* A node with a pending slash keeps its entries and stays (see opg_slasher.h). */
static int hook_holds_node(void *ctx, const opg_registry *r, const opg_id *operator_id)
{
    const opg_slasher *s = ctx;
    (void)r;
    for (size_t i = 0; i < s->n_pending; i++)
        if (opg_id_cmp(&s->pending[i].node, operator_id) == 0)
            return 1;
    return 0;
}

/* A delegator's unbonding entries at dst stay while a redelegation entry into dst
 * out of a node with a pending slash exists (see opg_slasher.h). */
static int hook_holds_into(void *ctx, const opg_registry *r, const opg_id *delegator,
                           const opg_id *dst)
{
    const opg_slasher *s = ctx;
    for (size_t i = 0; i < s->n_pending; i++)
        if (opgi_red_entries(r, delegator, &s->pending[i].node, dst) > 0)
            return 1;
    return 0;
}

static opgi_engine_hooks hooks_for(opg_slasher *s)
{
    opgi_engine_hooks h;
    memset(&h, 0, sizeof h);
    h.ctx = s;
    h.prepare = hook_prepare;
    h.node_created = hook_node_created;
    h.node_bonded = hook_node_bonded;
    h.node_removed = hook_node_removed;
    h.history_window = hook_history_window;
    h.holds_node = hook_holds_node;
    h.holds_into = hook_holds_into;
    h.events_per_call = 0;
    return h;
}

/* ---------------------------------------------------------------- handle */

static int cmp_class(const void *a, const void *b)
{
    uint32_t x = ((const opg_fault_class *)a)->id, y = ((const opg_fault_class *)b)->id;
    return x < y ? -1 : x > y;
}

int opgi_slasher_class_ok(const opg_fault_class *c)
{
    opg_dec one;
    opg_dec_from_u64(&one, 1);
    return opg_dec_cmp(&c->slash_fraction, &one) <= 0 && c->jail_duration >= 0 &&
           (c->tombstone == 0 || c->tombstone == 1);
}

opg_slasher *opgi_slasher_alloc(const opg_allocator *alloc, opg_registry *r)
{
    opg_allocator a;
    opgi_allocator_init(&a, alloc);
    opg_slasher *s = opgi_alloc(&a, sizeof *s);
    if (!s)
        return NULL;
    memset(s, 0, sizeof *s);
    s->alloc = a;
    s->reg = r;
    s->forgot_time = INT64_MIN;
    s->next_pending_id = 1;
    if (opgi_records_init(&s->records, &s->alloc) != OPG_OK) {
        opgi_free(&a, s, sizeof *s);
        return NULL;
    }
    return s;
}

int opgi_slasher_attach(opg_slasher *s)
{
    opgi_engine_hooks h = hooks_for(s);
    int rc = opgi_registry_attach(s->reg, &h);
    if (rc)
        return rc;
    s->attached = 1;
    return OPG_OK;
}

int opg_slasher_new(opg_slasher **out, opg_registry *r, const opg_slasher_params *params,
                    const opg_allocator *alloc)
{
    char err[OPGI_ERRMSG_MAX];
    if (!out || !r)
        return OPG_EINVAL;
    opg_slasher_params p;
    if (params)
        p = *params;
    else
        opg_slasher_params_init(&p);
    int rc = opgi_params_check(&opgi_slasher_param_table, &p, err);
    if (rc)
        return rc;
    if (p.fault_class_count > OPG_SLASHER_MAX_FAULT_CLASSES ||
        (p.fault_class_count && !p.fault_classes))
        return OPG_EINVAL;
    for (size_t i = 0; i < p.fault_class_count; i++)
        if (!opgi_slasher_class_ok(&p.fault_classes[i]))
            return OPG_EINVAL;
    size_t words;
    if ((rc = words_for(p.signed_blocks_window, &words)) != OPG_OK)
        return rc;

    opg_slasher *s = opgi_slasher_alloc(alloc, r);
    if (!s)
        return OPG_ENOMEM;
    s->words = words;
    if (p.fault_class_count) {
        s->classes = opgi_alloc_array(&s->alloc, p.fault_class_count, sizeof *s->classes);
        if (!s->classes) {
            opg_slasher_free(s);
            return OPG_ENOMEM;
        }
        memcpy(s->classes, p.fault_classes, p.fault_class_count * sizeof *s->classes);
        s->n_classes = s->classes_cap = p.fault_class_count;
        qsort(s->classes, s->n_classes, sizeof *s->classes, cmp_class);
        for (size_t i = 1; i < s->n_classes; i++)
            if (s->classes[i].id == s->classes[i - 1].id) {
                opg_slasher_free(s);
                return OPG_EINVAL;
            }
    }
    p.fault_classes = NULL;
    p.fault_class_count = 0;
    s->params = p;
    if ((rc = opgi_slasher_grow(s, r->node_cap > 16 ? r->node_cap : 16)) != OPG_OK) {
        opg_slasher_free(s);
        return rc;
    }
    /* nodes bonded already: as if bonded at genesis */
    for (uint32_t i = 0; i < r->node_count; i++) {
        uint32_t slot = r->by_operator[i];
        if (r->nodes[slot].status == OPG_NODE_BONDED)
            s->info[slot].has = 1;
    }
    if ((rc = opgi_slasher_attach(s)) != OPG_OK) {
        opg_slasher_free(s);
        return rc;
    }
    *out = s;
    return OPG_OK;
}

void opg_slasher_free(opg_slasher *s)
{
    if (!s)
        return;
    if (s->attached)
        opgi_registry_detach(s->reg, s);
    const opg_allocator a = s->alloc;
    opgi_records_free(&s->records, &a);
    opgi_free(&a, s->classes, s->classes_cap * sizeof *s->classes);
    opgi_free(&a, s->info, (size_t)s->cap * sizeof *s->info);
    opgi_free(&a, s->mark, s->cap);
    opgi_free(&a, s->dirty, s->cap);
    opgi_free(&a, s->dirty_list, (size_t)s->cap * sizeof *s->dirty_list);
    if (s->bits)
        bits_free(s);
    opgi_free(&a, s->seen, s->seen_cap * sizeof *s->seen);
    opgi_free(&a, s->corr, s->corr_cap * sizeof *s->corr);
    opgi_free(&a, s->pending, s->pending_cap * sizeof *s->pending);
    opgi_free(&a, s->ptouch, s->ptouch_cap * sizeof *s->ptouch);
    opgi_free(&a, s->recs, s->recs_cap * sizeof *s->recs);
    opgi_free(&a, s->scratch, s->scratch_cap * sizeof *s->scratch);
    opgi_free(&a, s, sizeof *s);
}

const char *opg_slasher_last_error(const opg_slasher *s) { return s ? s->err : ""; }

const opg_slasher_record *opg_slasher_slashes(const opg_slasher *s, size_t *count)
{
    if (count)
        *count = s ? s->n_recs : 0;
    return s ? s->recs : NULL;
}

/* ------------------------------------------------- registry calls, events */

void opgi_slasher_begin(opg_slasher *s)
{
    s->err[0] = '\0';
    s->n_recs = 0;
    opgi_call_begin(s->reg);
}

opg_time opgi_time_after(opg_time now, opg_time d)
{
    if (d > 0 && now > OPG_TIME_FOREVER - d)
        return OPG_TIME_FOREVER;
    return now + d;
}

int opgi_slasher_enter(opg_slasher *s, const uint32_t *slots, size_t n, opg_height infraction,
                       opg_height height, opg_time now, size_t events, size_t records)
{
    opg_registry *r = s->reg;
    /* ids for as many pending slashes, the next id staying below UINT64_MAX (load
     * refuses UINT64_MAX): checked before anything changes */
    if (s->params.defer_duration > 0 &&
        (uint64_t)records > UINT64_MAX - 1 - s->next_pending_id)
        return opgi_fail(s->err, OPG_EOVERFLOW, "no pending slash ids left", NULL);
    void *recs = s->recs;
    int rc = opgi_grow(&s->alloc, &recs, &s->recs_cap, records, sizeof *s->recs);
    s->recs = recs;
    /* each slash may become a pending slash with its record */
    if (rc == OPG_OK && s->params.defer_duration > 0)
        rc = opgi_slasher_pending_reserve(s, records, 1);
    if (rc)
        return opgi_fail(s->err, OPG_ENOMEM, NULL, NULL);
    if ((rc = opgi_registry_slashes_prepare(&events, r, slots, n, infraction, height, now)) != OPG_OK ||
        (rc = opgi_call_enter(r, events)) != OPG_OK)
        return opgi_fail(s->err, rc, "the registry cannot take the slashes", r->err);
    return OPG_OK;
}

void opgi_slasher_leave(opg_slasher *s) { opgi_call_leave(s->reg); }

int opgi_slasher_slash(opg_slasher *s, uint32_t slot, opg_slasher_record *rec, opg_height height,
                       opg_time now, int allow_unbonded)
{
    const opg_id op = s->reg->nodes[slot].operator_id;
    memset(&rec->slash, 0, sizeof rec->slash);
    rec->pending_id = 0;
    if (s->params.defer_duration <= 0) {
        int rc = opgi_registry_slash(&rec->slash, s->reg, &op, rec->infraction_height, rec->power,
                                     &rec->fraction, height, now, allow_unbonded);
        if (rc)
            return opgi_fail(s->err, rc, "the registry refused the slash", s->reg->err);
        return OPG_OK;
    }
    /* deferred: the plan an immediate slash would make now, kept for later */
    opg_slash_result plan;
    opgi_slash_at at = {height, now, NULL, 1, NULL};
    int rc = opgi_registry_slash_at(&plan, s->reg, &op, rec->infraction_height, rec->power,
                                    &rec->fraction, height, now, allow_unbonded, &at);
    if (rc)
        return opgi_fail(s->err, rc, "the registry refused the slash", s->reg->err);
    if (OPGI_NEVER(s->err, s->n_pending >= s->pending_cap || s->next_pending_id == UINT64_MAX))
        return OPG_EINVARIANT;
    opgi_pending *p = &s->pending[s->n_pending++]; /* ids increase: stays sorted */
    memset(p, 0, sizeof *p);
    p->id = s->next_pending_id++;
    p->reason = (uint8_t)rec->reason;
    p->node = op;
    p->fault_class = rec->fault_class;
    p->infraction_height = rec->infraction_height;
    p->power = rec->power;
    {
        opg_u256 pw = {{rec->power, 0, 0, 0}}; /* the plan above checked the product */
        OPGI_MUST(opg_u256_mul(&p->power_tokens, &pw, &s->reg->params.power_reduction));
    }
    p->fraction = rec->fraction;
    p->created_height = height;
    p->created_time = now;
    p->due_time = opgi_time_after(now, s->params.defer_duration);
    p->node_part = plan.burned_node;
    OPGI_MUST(opg_u256_add(&p->entries_part, &plan.burned_unbonding, &plan.burned_redelegation));
    p->total = plan.burned_total;
    opg_dec_from_u64(&p->keep, 1);
    if (rec->reason == OPG_SLASH_FAULT) {
        p->reporter = rec->reporter;
        p->reporter_share = s->params.reporter_share;
    }
    opgi_slasher_touch_pending(s, p->id); /* reserved by opgi_slasher_enter */
    rec->pending_id = p->id;
    return OPG_OK;
}

/* -------------------------------------------------------------- liveness */

int opg_slasher_signing_info(opg_signing_info *out, const opg_slasher *s,
                             const opg_id *operator_id)
{
    if (!out || !s || !operator_id)
        return OPG_EINVAL;
    uint32_t slot = opgi_node_find(s->reg, operator_id);
    if (slot == OPGI_NONE || slot >= s->cap || !s->info[slot].has)
        return OPG_ENOTFOUND;
    out->start_height = s->info[slot].start_height;
    out->index_offset = s->info[slot].index_offset;
    out->missed_blocks = s->info[slot].missed;
    return OPG_OK;
}

int opg_slasher_missed_bit(int *missed, const opg_slasher *s, const opg_id *operator_id,
                           uint64_t index)
{
    if (!missed || !s || !operator_id)
        return OPG_EINVAL;
    uint32_t slot = opgi_node_find(s->reg, operator_id);
    if (slot == OPGI_NONE || slot >= s->cap || !s->info[slot].has)
        return OPG_ENOTFOUND;
    if (index >= s->params.signed_blocks_window)
        return OPG_EINVAL;
    *missed = (int)((node_bits(s, slot)[index / 64] >> (index % 64)) & 1u);
    return OPG_OK;
}

uint32_t opgi_slasher_node_by_key(const opg_registry *r, const opg_id *key)
{
    uint32_t lo = 0, hi = r->node_count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2, slot = r->by_key[mid];
        int c = opg_id_cmp(&r->nodes[slot].consensus_key, key);
        if (c == 0)
            return slot;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return OPGI_NONE;
}

/* What record_commit does to an entry, in s->mark by node slot. */
enum { MARK_NONE = 0, MARK_SKIP = 1, MARK_UPDATE = 2, MARK_SLASH = 3 };

int opg_slasher_record_commit(opg_slasher *s, const opg_commit_sig *entries, size_t count,
                              opg_height height, opg_time now)
{
    if (!s)
        return OPG_EINVAL;
    opgi_slasher_begin(s);
    OPGI_CHECK_ARG(s->err, (entries || !count));
    opg_registry *r = s->reg;
    int rc;
    /* scratch: each entry's slot, then the slots to slash */
    void *scratch = s->scratch;
    rc = count > SIZE_MAX / 2 ? OPG_ENOMEM
                              : opgi_grow(&s->alloc, &scratch, &s->scratch_cap, 2 * count,
                                          sizeof *s->scratch);
    s->scratch = scratch;
    if (rc)
        return opgi_fail(s->err, OPG_ENOMEM, NULL, NULL);
    uint32_t *slot_of = s->scratch, *to_slash = s->scratch + count;
    memset(s->mark, 0, r->node_slots);
    const uint64_t W = s->params.signed_blocks_window;
    const uint64_t max_missed = max_missed_of(&s->params);

    /* 1. check: every entry's node, and which nodes cross the threshold */
    size_t n_slash = 0;
    for (size_t i = 0; i < count; i++) {
        const opg_commit_sig *e = &entries[i];
        uint32_t slot = opgi_slasher_node_by_key(r, &e->consensus_key);
        if (slot == OPGI_NONE)
            return opgi_fail(s->err, OPG_ENOTFOUND, "no node has an entry's consensus key", NULL);
        if (s->mark[slot] != MARK_NONE)
            return opgi_fail(s->err, OPG_EINVAL, "a node is listed twice", NULL);
        slot_of[i] = slot;
        if (r->nodes[slot].jailed) { /* Cosmos: no bookkeeping while jailed */
            s->mark[slot] = MARK_SKIP;
            continue;
        }
        const opgi_sinfo *in = &s->info[slot];
        if (!in->has)
            return opgi_fail(s->err, OPG_ESTATUS, "a node in the commit was never bonded", NULL);
        uint64_t idx = in->index_offset % W;
        int prev = (int)((node_bits(s, slot)[idx / 64] >> (idx % 64)) & 1u);
        int missed = !e->signed_block;
        uint64_t cnt = in->missed + (uint64_t)(missed && !prev) - (uint64_t)(!missed && prev);
        s->mark[slot] = MARK_UPDATE;
        if (height > in->start_height && height - in->start_height > W && cnt > max_missed) {
            s->mark[slot] = MARK_SLASH;
            n_slash++;
        }
    }

    /* 2. reserve the records' touches (a flipped bit's chunk per entry, every chunk of
     * a slashed node) and for the slashes: records, events, the registry's and the
     * engines' memory; then nothing that follows can fail */
    if ((rc = opgi_slasher_touch_reserve(s, count + n_slash * opgi_slasher_touches_of_node(s))) != OPG_OK)
        return rc;
    if (n_slash) {
        size_t n_to = 0;
        for (size_t i = 0; i < count; i++) {
            uint32_t slot = slot_of[i];
            if (s->mark[slot] != MARK_SLASH || r->nodes[slot].status == OPG_NODE_UNBONDED)
                continue;
            opg_u256 amount, pw = {{entries[i].power, 0, 0, 0}};
            if (opg_u256_mul(&amount, &pw, &r->params.power_reduction) != OPG_OK)
                return opgi_fail(s->err, OPG_EOVERFLOW, "power * power_reduction too large", NULL);
            to_slash[n_to++] = slot;
        }
        if ((rc = opgi_slasher_enter(s, to_slash, n_to, height >= 2 ? height - 2 : 0, height, now,
                                     n_slash * opgi_events_jail(r), n_slash)) != OPG_OK)
            return rc;
    }

    /* 3. the slashes, in commit order (each resets its node: no bitmap update) */
    const opg_time until = opgi_time_after(now, s->params.downtime_jail_duration);
    for (size_t i = 0; i < count && n_slash; i++) {
        uint32_t slot = slot_of[i];
        if (s->mark[slot] != MARK_SLASH)
            continue;
        opgi_node *n = &r->nodes[slot];
        if (!n->in_use || n->jailed) { /* jailed by an earlier slash of this call */
            s->mark[slot] = MARK_SKIP;
            continue;
        }
        opg_slasher_record rec;
        memset(&rec, 0, sizeof rec);
        rec.reason = OPG_SLASH_DOWNTIME;
        rec.node = n->operator_id;
        rec.infraction_height = height >= 2 ? height - 2 : 0;
        rec.power = entries[i].power;
        rec.fraction = s->params.slash_fraction_downtime;
        if (n->status != OPG_NODE_UNBONDED) {
            /* checked and reserved above: the registry cannot refuse now */
            rc = opgi_slasher_slash(s, slot, &rec, height, now, 0);
            if (OPGI_NEVER(s->err, rc != OPG_OK)) {
                opgi_slasher_leave(s);
                return OPG_EINVARIANT;
            }
        }
        n = &r->nodes[slot];
        rec.jailed = opgi_registry_jail_until(r, slot, until);
        rec.jailed_until = n->jailed_until;
        rec.burned = rec.slash.burned_total;
        /* reset so the node is not slashed again at once when it bonds again */
        opgi_slasher_touch_node(s, slot);
        s->info[slot].index_offset = 0;
        s->info[slot].missed = 0;
        memset(node_bits(s, slot), 0, s->words * sizeof *s->bits);
        s->mark[slot] = MARK_SKIP;
        s->recs[s->n_recs++] = rec;
        if (!opgi_u256_is_zero(&rec.slash.burned_redelegation)) {
            /* draining a self-delegation may have jailed (or removed) a node further
             * down the commit: Cosmos would skip it when it gets there */
            for (size_t j = i + 1; j < count; j++) {
                uint32_t sl = slot_of[j];
                if (s->mark[sl] == MARK_UPDATE && (!r->nodes[sl].in_use || r->nodes[sl].jailed))
                    s->mark[sl] = MARK_SKIP;
            }
        }
    }

    /* 4. the bitmaps: nothing left can fail */
    for (size_t i = 0; i < count; i++) {
        uint32_t slot = slot_of[i];
        if (s->mark[slot] != MARK_UPDATE || !r->nodes[slot].in_use || !s->info[slot].has)
            continue;
        opgi_sinfo *in = &s->info[slot];
        uint64_t idx = in->index_offset % W;
        in->index_offset++;
        uint64_t *word = &node_bits(s, slot)[idx / 64];
        uint64_t bit = UINT64_C(1) << (idx % 64);
        int prev = (*word & bit) != 0, missed = !entries[i].signed_block;
        opgi_slasher_dirty(s, slot);
        if (missed != prev)
            opgi_slasher_touch_missed(s, slot, idx);
        if (missed && !prev) {
            *word |= bit;
            in->missed++;
        } else if (!missed && prev) {
            *word &= ~bit;
            in->missed--;
        }
    }
    if (n_slash)
        opgi_slasher_leave(s);
    return OPG_OK;
}

/* ----------------------------------------------------------- fault classes */

static const opg_fault_class *class_find(const opg_slasher *s, uint32_t id)
{
    size_t lo = 0, hi = s->n_classes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->classes[mid].id == id)
            return &s->classes[mid];
        if (s->classes[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const opg_fault_class *opgi_slasher_class(const opg_slasher *s, uint32_t id)
{
    return class_find(s, id);
}


/* ---------------------------------------------------------------- checks */

int opg_slasher_check(opg_slasher *s)
{
    if (!s)
        return OPG_EINVAL;
    const opg_registry *r = s->reg;
    const uint64_t W = s->params.signed_blocks_window;
    const uint64_t tail = W % 64;
    if (s->cap < r->node_slots)
        return opgi_fail(s->err, OPG_EINVARIANT, "fewer slots than the registry's nodes", NULL);
    for (uint32_t slot = 0; slot < s->cap; slot++) {
        const opgi_sinfo *in = &s->info[slot];
        const uint64_t *b = node_bits(s, slot);
        uint64_t count = 0;
        for (size_t k = 0; k < s->words; k++)
            count += popcount64(b[k]);
        if (!in->has) {
            if (count || in->missed || in->index_offset || in->start_height)
                return opgi_fail(s->err, OPG_EINVARIANT, "a free slot holds liveness data", NULL);
            continue;
        }
        if (slot >= r->node_slots || !r->nodes[slot].in_use)
            return opgi_fail(s->err, OPG_EINVARIANT, "a signing info without a node", NULL);
        if (count != in->missed)
            return opgi_fail(s->err, OPG_EINVARIANT, "missed counter differs from the bitmap",
                             NULL);
        if (in->missed > W || (tail && (b[s->words - 1] >> tail) != 0))
            return opgi_fail(s->err, OPG_EINVARIANT, "bits past the window", NULL);
    }
    for (size_t i = 1; i < s->n_seen; i++)
        if (opg_id_cmp(&s->seen[i - 1].id, &s->seen[i].id) >= 0)
            return opgi_fail(s->err, OPG_EINVARIANT, "seen evidence out of order", NULL);
    for (size_t i = 1; i < s->n_corr; i++)
        if (s->corr[i - 1].time > s->corr[i].time)
            return opgi_fail(s->err, OPG_EINVARIANT, "correlation records out of order", NULL);
    if (s->next_pending_id == 0 || s->next_pending_id == UINT64_MAX)
        return opgi_fail(s->err, OPG_EINVARIANT, "the next pending slash id out of range", NULL);
    for (size_t i = 0; i < s->n_pending; i++) {
        const opgi_pending *p = &s->pending[i];
        opg_u256 sum;
        if ((i > 0 && s->pending[i - 1].id >= p->id) || p->id == 0 || p->id >= s->next_pending_id)
            return opgi_fail(s->err, OPG_EINVARIANT, "pending slash ids out of order", NULL);
        if (opg_u256_add(&sum, &p->node_part, &p->entries_part) != OPG_OK ||
            opg_u256_cmp(&sum, &p->total) != 0)
            return opgi_fail(s->err, OPG_EINVARIANT, "a pending slash's parts differ from its total",
                             NULL);
        if (opgi_node_find(r, &p->node) == OPGI_NONE)
            return opgi_fail(s->err, OPG_EINVARIANT, "a pending slash of a node that is gone", NULL);
    }
    return OPG_OK;
}
