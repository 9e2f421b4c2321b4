/* params.c - parameters by key name and decimal text (see params.h). */
#include "params.h"

#include "num.h"

/* Longest text any parameter can take or give. */
#define TEXT_MAX 96

const opgi_param *opgi_param_find(const opgi_param_table *t, const char *key)
{
    if (!key)
        return NULL;
    for (size_t i = 0; i < t->count; i++)
        if (strcmp(t->entries[i].key, key) == 0)
            return &t->entries[i];
    return NULL;
}

const char *opgi_params_key(const opgi_param_table *t, size_t i)
{
    return i < t->count ? t->entries[i].key : NULL;
}

/* Parses an integer-typed or decimal text into a 256-bit value for comparing. */
static int text_value(const opgi_param *p, const char *text, opg_u256 *v)
{
    if (p->type == OPGI_PARAM_DEC) {
        opg_dec d;
        int rc = opg_dec_from_string(&d, text);
        if (rc == OPG_OK)
            opg_dec_to_raw(v, &d);
        return rc;
    }
    return opg_u256_from_string(v, text);
}

int opgi_param_parse(const opgi_param *p, void *field, const char *text, char *err)
{
    if (!text)
        return opgi_fail(err, OPG_EINVAL, "missing value for", p->key);
    if (p->type == OPGI_PARAM_BOOL) {
        int b;
        if (strcmp(text, "true") == 0)
            b = 1;
        else if (strcmp(text, "false") == 0)
            b = 0;
        else
            return opgi_fail(err, OPG_EPARSE, "want true or false for", p->key);
        memcpy(field, &b, sizeof b);
        return OPG_OK;
    }
    opg_u256 v;
    int rc = text_value(p, text, &v);
    if (rc == OPG_EPARSE)
        return opgi_fail(err, rc, "malformed value for", p->key);
    if (rc)
        return opgi_fail(err, OPG_EINVAL, "value out of range for", p->key);

    /* the bounds are the tables' own constants: they always parse */
    opg_u256 bound;
    if (p->min && OPGI_ALWAYS(err, text_value(p, p->min, &bound) == OPG_OK) &&
        opg_u256_cmp(&v, &bound) < 0)
        return opgi_fail(err, OPG_EINVAL, "value below the minimum for", p->key);
    if (p->max && OPGI_ALWAYS(err, text_value(p, p->max, &bound) == OPG_OK) &&
        opg_u256_cmp(&v, &bound) > 0)
        return opgi_fail(err, OPG_EINVAL, "value above the maximum for", p->key);

    uint64_t u = 0;
    int fits64 = opg_u256_to_u64(&u, &v) == OPG_OK;
    switch (p->type) {
    case OPGI_PARAM_U32: {
        if (!fits64 || u > UINT32_MAX)
            return opgi_fail(err, OPG_EINVAL, "value out of range for", p->key);
        uint32_t x = (uint32_t)u;
        memcpy(field, &x, sizeof x);
        break;
    }
    case OPGI_PARAM_U64:
        if (!fits64)
            return opgi_fail(err, OPG_EINVAL, "value out of range for", p->key);
        memcpy(field, &u, sizeof u);
        break;
    case OPGI_PARAM_SECS: {
        if (!fits64 || u > (uint64_t)INT64_MAX)
            return opgi_fail(err, OPG_EINVAL, "value out of range for", p->key);
        int64_t x = (int64_t)u;
        memcpy(field, &x, sizeof x);
        break;
    }
    case OPGI_PARAM_DEC: {
        opg_dec d;
        opg_dec_from_raw(&d, &v);
        memcpy(field, &d, sizeof d);
        break;
    }
    case OPGI_PARAM_U256:
        memcpy(field, &v, sizeof v);
        break;
    case OPGI_PARAM_BOOL:
        break;
    }
    return OPG_OK;
}

int opgi_param_format(const opgi_param *p, const void *field, char *buf, size_t cap,
                      size_t *needed)
{
    opg_u256 v;
    switch (p->type) {
    case OPGI_PARAM_BOOL: {
        int b;
        memcpy(&b, field, sizeof b);
        const char *s = b ? "true" : "false";
        size_t n = strlen(s) + 1;
        if (needed)
            *needed = n;
        if (!buf || cap < n)
            return OPG_EBUFS;
        memcpy(buf, s, n);
        return OPG_OK;
    }
    case OPGI_PARAM_DEC: {
        opg_dec d;
        memcpy(&d, field, sizeof d);
        return opg_dec_to_string(buf, cap, needed, &d);
    }
    case OPGI_PARAM_U32: {
        uint32_t x;
        memcpy(&x, field, sizeof x);
        opg_u256_from_u64(&v, x);
        break;
    }
    case OPGI_PARAM_U64: {
        uint64_t x;
        memcpy(&x, field, sizeof x);
        opg_u256_from_u64(&v, x);
        break;
    }
    case OPGI_PARAM_SECS: {
        int64_t x;
        memcpy(&x, field, sizeof x);
        opg_u256_from_u64(&v, x < 0 ? 0 : (uint64_t)x);
        break;
    }
    case OPGI_PARAM_U256:
        memcpy(&v, field, sizeof v);
        break;
    }
    return opg_u256_to_string(buf, cap, needed, &v);
}

int opgi_params_check(const opgi_param_table *t, const void *params, char *err)
{
    const unsigned char *base = params;
    for (size_t i = 0; i < t->count; i++) {
        const opgi_param *p = &t->entries[i];
        char text[TEXT_MAX];
        unsigned char scratch[32];
        /* every value of these types has a text of at most TEXT_MAX */
        if (OPGI_NEVER(err, opgi_param_format(p, base + p->offset, text, sizeof text, NULL) !=
                                OPG_OK))
            return OPG_EINVARIANT;
        if (p->type == OPGI_PARAM_SECS) {
            int64_t x;
            memcpy(&x, base + p->offset, sizeof x);
            if (x < 0)
                return opgi_fail(err, OPG_EINVAL, "negative duration for", p->key);
        }
        int rc = opgi_param_parse(p, scratch, text, err);
        if (rc)
            return rc;
    }
    return t->validate ? t->validate(params, err) : OPG_OK;
}

int opgi_params_set(const opgi_param_table *t, void *params, const char *key,
                    const char *text, char *err)
{
    const opgi_param *p = opgi_param_find(t, key);
    if (!p)
        return opgi_fail(err, OPG_EKEY, "unknown parameter key", key);
    /* the validator reads the copy as the module's struct: keep it suitably aligned */
    union {
        max_align_t align;
        unsigned char bytes[4096];
    } copy;
    if (OPGI_NEVER(err, t->struct_size > sizeof copy.bytes))
        return OPG_EINVARIANT;
    memcpy(copy.bytes, params, t->struct_size);
    int rc = opgi_param_parse(p, copy.bytes + p->offset, text, err);
    if (rc)
        return rc;
    if (t->validate && (rc = t->validate(copy.bytes, err)) != OPG_OK)
        return rc;
    memcpy(params, copy.bytes, t->struct_size);
    return OPG_OK;
}

int opgi_params_get(const opgi_param_table *t, const void *params, const char *key, char *buf,
                    size_t cap, size_t *needed, char *err)
{
    const opgi_param *p = opgi_param_find(t, key);
    if (!p)
        return opgi_fail(err, OPG_EKEY, "unknown parameter key", key);
    return opgi_param_format(p, (const unsigned char *)params + p->offset, buf, cap, needed);
}

/* ------------------------------------------------------ parameter namespaces */

size_t opgi_param_ns_owns(const opgi_param_ns *ns, const char *key)
{
    size_t best = 0;
    for (size_t i = 0; i < OPGI_NS_PREFIXES && ns->prefixes[i]; i++) {
        size_t n = strlen(ns->prefixes[i]);
        if (n > best && strncmp(key, ns->prefixes[i], n) == 0)
            best = n;
    }
    return best;
}

/* A copy on the stack, aligned for any module's struct. */
typedef union ns_scratch {
    max_align_t align;
    unsigned char bytes[OPGI_NS_SCRATCH_MAX];
} ns_scratch;

int opgi_param_ns_set(const opgi_param_ns *ns, void *h, const char *key, const char *value,
                      char *err)
{
    ns_scratch sc;
    if (OPGI_NEVER(err, ns->scratch_size == 0 || ns->scratch_size > sizeof sc.bytes))
        return OPG_EINVARIANT;
    memset(sc.bytes, 0, ns->scratch_size);
    ns->begin(sc.bytes, h);
    int rc = ns->stage(sc.bytes, h, key, value, err);
    if (rc)
        return rc;
    if (ns->step)
        ns->step(sc.bytes, h);
    if (ns->reserve && (rc = ns->reserve(sc.bytes, h, err)) != OPG_OK) {
        if (ns->release)
            ns->release(sc.bytes, h);
        return rc;
    }
    ns->commit(h, sc.bytes);
    return OPG_OK;
}

void opgi_param_txn_init(opgi_param_txn *x, const opg_allocator *a)
{
    memset(x, 0, sizeof *x);
    x->alloc = a;
}

static opgi_txn_ns *txn_find(const opgi_param_txn *x, const opgi_param_ns *ns, const void *h)
{
    for (size_t i = 0; i < x->n_ns; i++)
        if (x->ns[i].to.ns == ns && x->ns[i].to.h == h)
            return &x->ns[i];
    return NULL;
}

const void *opgi_param_txn_view(const opgi_param_txn *x, const opgi_param_ns *ns,
                                const void *h)
{
    const opgi_txn_ns *e = txn_find(x, ns, h);
    return e ? e->cur : NULL;
}

/* The staged copy of `to`, begun from the handle the first time; NULL: no memory. */
static opgi_txn_ns *txn_copy(opgi_param_txn *x, const opgi_param_ref *to)
{
    opgi_txn_ns *e = txn_find(x, to->ns, to->h);
    if (e)
        return e;
    void *items = x->ns;
    if (opgi_grow(x->alloc, &items, &x->ns_cap, x->n_ns + 1, sizeof *x->ns) != OPG_OK)
        return NULL;
    x->ns = items;
    size_t size = to->ns->scratch_size;
    unsigned char *both = opgi_alloc_array(x->alloc, 2, size);
    if (!both)
        return NULL;
    e = &x->ns[x->n_ns++];
    e->to = *to;
    e->cur = both;
    e->mark = both + size;
    memset(e->cur, 0, size);
    to->ns->begin(e->cur, to->h);
    memcpy(e->mark, e->cur, size); /* a group that begins it can still drop it */
    return e;
}

/* Puts back, in reverse, the live sets from `from` on and forgets them. */
static void txn_unset(opgi_param_txn *x, size_t from)
{
    char ignored[OPGI_ERRMSG_MAX];
    for (size_t i = x->n_sets; i-- > from;) {
        const opgi_txn_set *s = &x->sets[i];
        /* the namespace held exactly this value: a refusal would break the host's
         * contract, and there is nothing better to do than go on with the others */
        if (s->applied)
            (void)s->to.ns->set(s->to.h, s->key, s->old, ignored);
    }
    x->n_sets = from;
}

/* Drops the group in progress: copies back to their marks, live sets put back. */
static void txn_rewind(opgi_param_txn *x, size_t sets_from)
{
    for (size_t i = 0; i < x->n_ns; i++)
        memcpy(x->ns[i].cur, x->ns[i].mark, x->ns[i].to.ns->scratch_size);
    txn_unset(x, sets_from);
}

/* Pass one for change c: staged on its copy, or (live) its old value read. */
static int stage_one(opgi_param_txn *x, const opgi_param_change *c, size_t index, char *err)
{
    const opgi_param_ref *to = &c->to;
    if (!to->ns)
        return opgi_fail(err, OPG_EKEY, "no namespace attached for", c->key);
    if (to->ns->scratch_size) {
        opgi_txn_ns *e = txn_copy(x, to);
        if (!e)
            return opgi_fail(err, OPG_ENOMEM, "no memory to stage", c->key);
        return to->ns->stage(e->cur, to->h, c->key, c->value, err);
    }
    void *items = x->sets;
    if (opgi_grow(x->alloc, &items, &x->sets_cap, x->n_sets + 1, sizeof *x->sets) != OPG_OK)
        return opgi_fail(err, OPG_ENOMEM, "no memory to stage", c->key);
    x->sets = items;
    opgi_txn_set *s = &x->sets[x->n_sets];
    s->to = *to;
    s->key = c->key;
    s->value = c->value;
    s->index = index;
    s->applied = 0;
    memset(s->old, 0, sizeof s->old);
    int rc = to->ns->get(to->h, c->key, s->old, sizeof s->old, err);
    if (rc == OPG_OK)
        x->n_sets++;
    return rc;
}

int opgi_param_txn_stage(opgi_param_txn *x, const opgi_param_change *ch, size_t n,
                         size_t *failed, char *err)
{
    *failed = 0;
    if (OPGI_NEVER(err, x->reserved || x->committed))
        return OPG_EINVARIANT;
    for (size_t i = 0; i < x->n_ns; i++)
        memcpy(x->ns[i].mark, x->ns[i].cur, x->ns[i].to.ns->scratch_size);
    size_t sets_from = x->n_sets;
    int rc = OPG_OK;
    /* copies first, in change order (live namespaces only say what they hold) */
    for (size_t i = 0; i < n && rc == OPG_OK; i++)
        if ((rc = stage_one(x, &ch[i], i, err)) != OPG_OK)
            *failed = i;
    /* then the live sets, in change order */
    for (size_t k = sets_from; rc == OPG_OK && k < x->n_sets; k++) {
        opgi_txn_set *s = &x->sets[k];
        if ((rc = s->to.ns->set(s->to.h, s->key, s->value, err)) == OPG_OK)
            s->applied = 1;
        else
            *failed = s->index;
    }
    if (rc) {
        txn_rewind(x, sets_from);
        return rc;
    }
    for (size_t k = 0; k < x->n_ns; k++)
        if (x->ns[k].to.ns->step)
            x->ns[k].to.ns->step(x->ns[k].cur, x->ns[k].to.h);
    return OPG_OK;
}

int opgi_param_txn_reserve(opgi_param_txn *x, char *err)
{
    if (OPGI_NEVER(err, x->reserved || x->committed))
        return OPG_EINVARIANT;
    for (size_t i = 0; i < x->n_ns; i++) {
        const opgi_txn_ns *e = &x->ns[i];
        int rc = e->to.ns->reserve ? e->to.ns->reserve(e->cur, e->to.h, err) : OPG_OK;
        if (rc)
            return rc;
    }
    x->reserved = 1;
    return OPG_OK;
}

void opgi_param_txn_commit(opgi_param_txn *x)
{
    if (OPGI_NEVER(NULL, !x->reserved || x->committed))
        return;
    for (size_t i = 0; i < x->n_ns; i++)
        x->ns[i].to.ns->commit(x->ns[i].to.h, x->ns[i].cur);
    x->committed = 1;
}

void opgi_param_txn_end(opgi_param_txn *x)
{
    if (!x->committed)
        txn_unset(x, 0);
    for (size_t i = 0; i < x->n_ns; i++) {
        opgi_txn_ns *e = &x->ns[i];
        if (!x->committed && e->to.ns->release)
            e->to.ns->release(e->cur, e->to.h);
        opgi_free(x->alloc, e->cur, 2 * e->to.ns->scratch_size);
    }
    opgi_free(x->alloc, x->ns, x->ns_cap * sizeof *x->ns);
    opgi_free(x->alloc, x->sets, x->sets_cap * sizeof *x->sets);
    opgi_param_txn_init(x, x->alloc);
}
