/*
 * tally.c - the governance tally handle: parameters, attachments, proposals,
 * deposits, votes and queries. The tally itself, end_block, cancel and parameter
 * changes are in tally_close.c; saved state in tally_state.c.
 */
#include "tally_internal.h"

#include "num.h"

#include <stddef.h>

/* ------------------------------------------------------------ parameters */

static const uint64_t P_LIMB[1] = {OPGI_P};

void opgi_tally_min_deposit(opg_u256 *out, const opg_tally_params *p, int expedited)
{
    if (!expedited) {
        *out = p->min_deposit;
        return;
    }
    /* trunc(min_deposit * ratio): whole base units, the fraction is dropped; the
     * validator refuses params where it overflows */
    if (OPGI_NEVER(NULL, opgi_muldiv(out->limb, 4, p->min_deposit.limb, 4,
                                     p->min_deposit_expedited_ratio.limb, 4, P_LIMB, 1,
                                     OPGI_TRUNC) != OPG_OK))
        memset(out->limb, 0xff, sizeof out->limb);
}

static int validate_params(const void *params, char *err)
{
    const opg_tally_params *p = params;
    if (opg_dec_cmp(&p->expedited_threshold, &p->threshold) <= 0)
        return opgi_fail(err, OPG_EINVAL, "gov.expedited_threshold must exceed gov.threshold",
                         NULL);
    if (p->expedited_voting_period >= p->voting_period)
        return opgi_fail(err, OPG_EINVAL,
                         "gov.expedited_voting_period must be less than gov.voting_period", NULL);
    uint64_t ex[4];
    if (opgi_muldiv(ex, 4, p->min_deposit.limb, 4, p->min_deposit_expedited_ratio.limb, 4,
                    P_LIMB, 1, OPGI_TRUNC) != OPG_OK)
        return opgi_fail(err, OPG_EINVAL, "expedited minimum deposit overflows", NULL);
    if (opgi_cmp_n(ex, p->min_deposit.limb, 4) <= 0)
        return opgi_fail(err, OPG_EINVAL,
                         "expedited minimum deposit (min_deposit * "
                         "min_deposit_expedited_ratio, truncated) must exceed gov.min_deposit",
                         NULL);
    if ((p->burn_vote_quorum | p->burn_vote_veto | p->burn_proposal_deposit_prevote) & ~1)
        return opgi_fail(err, OPG_EINVAL, "burn flags are booleans", NULL);
    if (p->conviction_voting & ~1)
        return opgi_fail(err, OPG_EINVAL, "gov.conviction_voting is a boolean", NULL);
    return OPG_OK;
}

#define TP(field) offsetof(opg_tally_params, field)
static const opgi_param tally_params[] = {
    {"gov.min_deposit", OPGI_PARAM_U256, TP(min_deposit), "1", NULL},
    {"gov.min_deposit_expedited_ratio", OPGI_PARAM_DEC, TP(min_deposit_expedited_ratio), "1", NULL},
    {"gov.max_deposit_period", OPGI_PARAM_SECS, TP(max_deposit_period), "1", NULL},
    {"gov.voting_period", OPGI_PARAM_SECS, TP(voting_period), "1", NULL},
    {"gov.expedited_voting_period", OPGI_PARAM_SECS, TP(expedited_voting_period), "1", NULL},
    {"gov.quorum", OPGI_PARAM_DEC, TP(quorum), "0", "1"},
    {"gov.threshold", OPGI_PARAM_DEC, TP(threshold), "0.000000000000000001", "1"},
    {"gov.expedited_threshold", OPGI_PARAM_DEC, TP(expedited_threshold), "0.000000000000000001", "1"},
    {"gov.veto_threshold", OPGI_PARAM_DEC, TP(veto_threshold), "0.000000000000000001", "1"},
    {"gov.burn_vote_quorum", OPGI_PARAM_BOOL, TP(burn_vote_quorum), NULL, NULL},
    {"gov.burn_vote_veto", OPGI_PARAM_BOOL, TP(burn_vote_veto), NULL, NULL},
    {"gov.burn_proposal_deposit_prevote", OPGI_PARAM_BOOL, TP(burn_proposal_deposit_prevote), NULL, NULL},
    {"gov.liquid_weight", OPGI_PARAM_DEC, TP(liquid_weight), "0", "1"},
    {"gov.proposal_cancel_ratio", OPGI_PARAM_DEC, TP(proposal_cancel_ratio), "0", "1"},
    {"gov.conviction_voting", OPGI_PARAM_BOOL, TP(conviction_voting), NULL, NULL},
    {"gov.vote_locking_period", OPGI_PARAM_SECS, TP(vote_locking_period), "1", NULL},
};
#undef TP

const opgi_param_table opgi_tally_param_table = {tally_params, OPGI_ARRAY_LEN(tally_params),
                                                 sizeof(opg_tally_params), validate_params};

void opg_tally_params_init(opg_tally_params *p)
{
    memset(p, 0, sizeof *p);
    opg_u256_from_u64(&p->min_deposit, 10000000);
    opg_dec_from_u64(&p->min_deposit_expedited_ratio, 5);
    p->max_deposit_period = 2 * 24 * 3600;
    p->voting_period = 2 * 24 * 3600;
    p->expedited_voting_period = 24 * 3600;
    /* raw decimals: value * 10^18 */
    opg_u256 raw;
    opg_u256_from_u64(&raw, UINT64_C(334000000000000000));
    opg_dec_from_raw(&p->quorum, &raw);
    opg_dec_from_raw(&p->veto_threshold, &raw);
    opg_u256_from_u64(&raw, UINT64_C(500000000000000000));
    opg_dec_from_raw(&p->threshold, &raw);
    opg_dec_from_raw(&p->proposal_cancel_ratio, &raw);
    opg_u256_from_u64(&raw, UINT64_C(667000000000000000));
    opg_dec_from_raw(&p->expedited_threshold, &raw);
    p->burn_vote_quorum = 0;
    p->burn_vote_veto = 1;
    p->burn_proposal_deposit_prevote = 0;
    p->conviction_voting = 0;
    p->vote_locking_period = 7 * 24 * 3600;
}

/* The "gov." namespace: a copy is an opg_tally_params (params.h). */
static void params_begin(void *copy, const void *h)
{
    memcpy(copy, &((const opg_tally *)h)->params, sizeof(opg_tally_params));
}

static int params_stage(void *copy, const void *h, const char *key, const char *value,
                        char *err)
{
    (void)h; /* the rules are the table's alone */
    return opgi_params_set(&opgi_tally_param_table, copy, key, value, err);
}

static void params_commit(void *h, void *copy)
{
    memcpy(&((opg_tally *)h)->params, copy, sizeof(opg_tally_params));
}

const opgi_param_ns opgi_tally_param_ns = {
    .prefixes = {"gov.", NULL},
    .scratch_size = sizeof(opg_tally_params),
    .begin = params_begin,
    .stage = params_stage,
    .commit = params_commit,
};

int opg_tally_param_set(opg_tally *t, const char *key, const char *value)
{
    if (!t)
        return OPG_EINVAL;
    t->err[0] = '\0';
    return opgi_param_ns_set(&opgi_tally_param_ns, t, key, value, t->err);
}

int opg_tally_param_get(char *buf, size_t cap, size_t *needed, const opg_tally *t,
                        const char *key)
{
    char scratch[OPGI_ERRMSG_MAX];
    if (!t)
        return OPG_EINVAL;
    return opgi_params_get(&opgi_tally_param_table, &t->params, key, buf, cap, needed, scratch);
}

const char *opg_tally_param_key(size_t i) { return opgi_params_key(&opgi_tally_param_table, i); }

void opg_tally_params_get(opg_tally_params *out, const opg_tally *t) { *out = t->params; }

/* ---------------------------------------------------------------- handle */

/* The registry's guard on undelegation: a delegator locked until after now. */
static int lock_guard(void *ctx, const opg_id *delegator, opg_time now, char *err)
{
    const opg_tally *t = ctx;
    if (!t->n_locks)
        return OPG_OK;
    uint32_t s = opgi_lock_find(t, delegator);
    if (s != UINT32_MAX && now < t->locks[s].until)
        return opgi_fail(err, OPG_ELOCKED,
                         "the delegator's stake is locked by a conviction vote", NULL);
    return OPG_OK;
}

int opg_tally_new(opg_tally **out, opg_registry *r, const opg_tally_params *params,
                  const opg_allocator *alloc)
{
    if (!out || !r)
        return OPG_EINVAL;
    char err[OPGI_ERRMSG_MAX];
    opg_tally_params p;
    if (params)
        p = *params;
    else
        opg_tally_params_init(&p);
    int rc = opgi_params_check(&opgi_tally_param_table, &p, err);
    if (rc)
        return rc;
    opg_allocator a;
    opgi_allocator_init(&a, alloc);
    opg_tally *t = opgi_alloc(&a, sizeof *t);
    if (!t)
        return OPG_ENOMEM;
    memset(t, 0, sizeof *t);
    t->alloc = a;
    t->reg = r;
    t->params = p;
    t->next_id = 1;
    t->lock_min = OPG_TIME_FOREVER;
    t->guard.check = lock_guard;
    t->guard.ctx = t;
    opgi_unbond_guard_add(r, &t->guard);
    *out = t;
    return OPG_OK;
}

void opgi_tprop_free(const opg_allocator *a, opgi_tprop *p)
{
    if (!p)
        return;
    opgi_free(a, p->blob, p->blob_len);
    opgi_free(a, p->deps, (size_t)p->deps_cap * sizeof *p->deps);
    opgi_free(a, p->votes, (size_t)p->votes_cap * sizeof *p->votes);
    opgi_free(a, p->vidx, (size_t)p->vidx_cap * sizeof *p->vidx);
    opgi_free(a, p->convs, p->convs_cap);
    opgi_free(a, p, sizeof *p);
}

int opgi_tprop_convs_reserve(const opg_allocator *a, opgi_tprop *p, uint32_t s)
{
    if (s < p->convs_cap)
        return OPG_OK;
    uint32_t ncap = p->votes_cap > s ? p->votes_cap : s + 1;
    uint8_t *c = opgi_realloc(a, p->convs, p->convs_cap, ncap);
    if (!c)
        return OPG_ENOMEM;
    memset(c + p->convs_cap, 0, ncap - p->convs_cap);
    p->convs = c;
    p->convs_cap = ncap;
    return OPG_OK;
}

void opg_tally_free(opg_tally *t)
{
    if (!t)
        return;
    const opg_allocator a = t->alloc;
    opgi_unbond_guard_remove(t->reg, &t->guard);
    opgi_free(&a, t->locks, (size_t)t->locks_cap * sizeof *t->locks);
    opgi_free(&a, t->lidx, (size_t)t->lidx_cap * sizeof *t->lidx);
    for (size_t i = 0; i < t->n_props; i++)
        opgi_tprop_free(&a, t->props[i]);
    opgi_free(&a, t->props, t->props_cap * sizeof *t->props);
    opgi_free(&a, t->out, t->out_cap * sizeof *t->out);
    opgi_free(&a, t->out_refunds, t->out_refunds_cap * sizeof *t->out_refunds);
    opgi_free(&a, t->out_bytes, t->out_bytes_cap);
    opgi_free(&a, t, sizeof *t);
}

const char *opg_tally_last_error(const opg_tally *t) { return t ? t->err : ""; }

/* ----------------------------------------------------------- attachments */

void opg_tally_set_balance_fn(opg_tally *t, opg_tally_balance_fn fn, void *user)
{
    if (!t)
        return;
    t->balance_fn = fn;
    t->balance_user = fn ? user : NULL;
}

/*
 * A host namespace, wrapped once as a live opgi_param_ns on its attachment record.
 * Its get and set are the host's responsibility and its answers are taken as
 * deterministic rules: a refusal fails the proposal (a code outside the library's
 * range reads as OPG_EINVAL), except OPG_ENOMEM, which fails the whole end_block
 * with everything put back, as the library's own memory failures do.
 */
static int host_code(int rc, char *err, const char *what, const char *key)
{
    if (rc == OPG_OK)
        return OPG_OK;
    return opgi_fail(err, rc < 0 && rc >= OPG_ERROR_LAST_ ? rc : OPG_EINVAL, what, key);
}

static int host_get(const void *h, const char *key, char *buf, size_t cap, char *err)
{
    const opgi_ttarget *g = h;
    size_t needed = 0;
    int rc = g->get(buf, cap, &needed, g->handle, key);
    if (rc == OPG_OK && memchr(buf, '\0', cap) == NULL)
        rc = OPG_EBUFS; /* a value longer than the contract allows */
    return host_code(rc, err, "the host namespace did not give the value of", key);
}

static int host_set(void *h, const char *key, const char *value, char *err)
{
    const opgi_ttarget *g = h;
    return host_code(g->set(g->handle, key, value), err, "the host namespace refused", key);
}

static const opgi_param_ns host_ns = {
    .prefixes = {NULL},
    .scratch_size = 0,
    .get = host_get,
    .set = host_set,
};

_Static_assert(OPGI_NS_VALUE_MAX == OPG_TALLY_VALUE_MAX,
               "a host's old value fits where the transaction keeps it");

static size_t target_find(const opg_tally *t, const char *prefix)
{
    for (size_t i = 0; i < t->n_targets; i++)
        if (strcmp(t->targets[i].prefix, prefix) == 0)
            return i;
    return t->n_targets;
}

static void target_remove(opg_tally *t, size_t i)
{
    memmove(&t->targets[i], &t->targets[i + 1], (t->n_targets - i - 1) * sizeof t->targets[0]);
    t->n_targets--;
}

/* Appends a namespace (room was checked). */
static void target_add(opg_tally *t, const char *prefix, const opgi_param_ns *ns, void *handle,
                       opg_tally_param_set_fn set, opg_tally_param_get_fn get)
{
    opgi_ttarget *g = &t->targets[t->n_targets++];
    memset(g, 0, sizeof *g);
    g->prefix_len = strlen(prefix);
    memcpy(g->prefix, prefix, g->prefix_len + 1);
    g->ns = ns;
    g->handle = handle;
    g->set = set;
    g->get = get;
}

int opgi_tally_attach_ns(opg_tally *t, const opgi_param_ns *ns, void *handle)
{
    if (!t)
        return OPG_EINVAL; /* no handle: no place for detail text */
    t->err[0] = '\0';
    size_t have = 0, n = 0;
    for (; n < OPGI_NS_PREFIXES && ns->prefixes[n]; n++) {
        size_t i = target_find(t, ns->prefixes[n]);
        if (i < t->n_targets && t->targets[i].ns != ns)
            return opgi_fail(t->err, OPG_EEXISTS, "prefix attached to another namespace",
                             ns->prefixes[n]);
        have += i < t->n_targets;
    }
    if (!handle || have) { /* detach, or replace the handle in place */
        for (size_t i = t->n_targets; i-- > 0;)
            if (t->targets[i].ns == ns) {
                if (handle)
                    t->targets[i].handle = handle;
                else
                    target_remove(t, i);
            }
        return OPG_OK;
    }
    if (t->n_targets + n > OPGI_TALLY_MAX_TARGETS)
        return opgi_fail(t->err, OPG_ENOMEM, "too many attached namespaces", NULL);
    for (size_t k = 0; k < n; k++)
        target_add(t, ns->prefixes[k], ns, handle, NULL, NULL);
    return OPG_OK;
}

int opg_tally_attach_pricer(opg_tally *t, opg_pricer *pricer)
{
    return opgi_tally_attach_ns(t, &opgi_pricer_param_ns, pricer);
}

int opg_tally_attach_splitter(opg_tally *t, opg_splitter *splitter)
{
    return opgi_tally_attach_ns(t, &opgi_splitter_param_ns, splitter);
}

int opg_tally_attach_slasher(opg_tally *t, opg_slasher *slasher)
{
    return opgi_tally_attach_ns(t, &opgi_slasher_param_ns, slasher);
}

int opg_tally_attach_params(opg_tally *t, const char *prefix, void *handle,
                            opg_tally_param_set_fn set, opg_tally_param_get_fn get)
{
    if (!t)
        return OPG_EINVAL;
    t->err[0] = '\0';
    size_t n = 0;
    while (prefix && n <= OPG_TALLY_PREFIX_MAX && prefix[n])
        n++;
    if (!prefix || n < 2 || n > OPG_TALLY_PREFIX_MAX || prefix[n - 1] != '.')
        return opgi_fail(t->err, OPG_EINVAL,
                         "a namespace prefix is 2..31 characters ending in '.'", NULL);
    if (opgi_param_ns_owns(&opgi_tally_param_ns, prefix) == n ||
        opgi_param_ns_owns(&opgi_registry_param_ns, prefix) == n)
        return opgi_fail(t->err, OPG_EINVAL, "built-in namespace", prefix);
    size_t i = target_find(t, prefix);
    if (!set) {
        if (i < t->n_targets && t->targets[i].ns == &host_ns)
            target_remove(t, i);
        return OPG_OK;
    }
    if (!get)
        return opgi_fail(t->err, OPG_EINVAL, "a namespace needs both set and get", NULL);
    if (i < t->n_targets)
        return opgi_fail(t->err, OPG_EEXISTS, "namespace already attached", prefix);
    if (t->n_targets == OPGI_TALLY_MAX_TARGETS)
        return opgi_fail(t->err, OPG_ENOMEM, "too many attached namespaces", NULL);
    target_add(t, prefix, &host_ns, handle, set, get);
    return OPG_OK;
}

opgi_param_ref opgi_tally_resolve(opg_tally *t, const char *key)
{
    opgi_param_ref to = {NULL, NULL};
    if (opgi_param_ns_owns(&opgi_tally_param_ns, key)) {
        to.ns = &opgi_tally_param_ns;
        to.h = t;
        return to;
    }
    if (opgi_param_ns_owns(&opgi_registry_param_ns, key)) {
        to.ns = &opgi_registry_param_ns;
        to.h = t->reg;
        return to;
    }
    size_t best = 0;
    for (size_t i = 0; i < t->n_targets; i++) {
        opgi_ttarget *g = &t->targets[i];
        if (g->prefix_len > best && strncmp(key, g->prefix, g->prefix_len) == 0) {
            best = g->prefix_len;
            to.ns = g->ns;
            to.h = g->ns->scratch_size ? g->handle : (void *)g;
        }
    }
    return to;
}

/* -------------------------------------------------------------- helpers */

opg_time opgi_time_add(opg_time a, opg_time b)
{
    if (b > 0 && a > OPG_TIME_FOREVER - b)
        return OPG_TIME_FOREVER;
    return a + b;
}

size_t opgi_tally_find(const opg_tally *t, uint64_t id)
{
    size_t lo = 0, hi = t->n_props;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint64_t at = t->props[mid]->id;
        if (at == id)
            return mid;
        if (at < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return t->n_props;
}

opgi_tprop *opgi_tally_prop(const opg_tally *t, uint64_t id)
{
    size_t i = opgi_tally_find(t, id);
    return i < t->n_props ? t->props[i] : NULL;
}

void opgi_tally_remove_at(opg_tally *t, size_t i)
{
    opgi_tprop_free(&t->alloc, t->props[i]);
    memmove(&t->props[i], &t->props[i + 1], (t->n_props - i - 1) * sizeof *t->props);
    t->n_props--;
}

int opgi_tally_props_reserve(opg_tally *t)
{
    if (t->n_props < t->props_cap)
        return OPG_OK;
    size_t ncap = t->props_cap ? 2 * t->props_cap : 8;
    opgi_tprop **p = opgi_realloc(&t->alloc, t->props, t->props_cap * sizeof *p, ncap * sizeof *p);
    if (!p)
        return OPG_ENOMEM;
    t->props = p;
    t->props_cap = ncap;
    return OPG_OK;
}

/* Length of s if at most max characters, else max + 1. */
static size_t bounded_len(const char *s, size_t max)
{
    size_t n = 0;
    while (n <= max && s[n])
        n++;
    return n;
}

void opgi_tprop_change(const opgi_tprop *p, size_t i, const char **key, const char **value)
{
    const char *c = (const char *)p->blob + p->title_len + p->summary_len;
    for (size_t k = 0; k < i; k++) {
        c += strlen(c) + 1;
        c += strlen(c) + 1;
    }
    *key = c;
    *value = c + strlen(c) + 1;
}

/* ------------------------------------------------------------ proposals */

static void start_voting(const opg_tally *t, opgi_tprop *p, opg_time now)
{
    p->status = OPG_PROPOSAL_VOTING_PERIOD;
    p->voting_start = now;
    p->voting_end = opgi_time_add(now, p->expedited ? t->params.expedited_voting_period
                                                    : t->params.voting_period);
}

static int reaches_min(const opg_tally *t, const opgi_tprop *p)
{
    opg_u256 min;
    opgi_tally_min_deposit(&min, &t->params, p->expedited);
    return opg_u256_cmp(&p->total_deposit, &min) >= 0;
}

int opg_tally_submit(uint64_t *proposal_id, opg_tally *t, const opg_proposal_submit *s,
                     opg_time now)
{
    if (!t)
        return OPG_EINVAL; /* no handle: no place for detail text */
    t->err[0] = '\0';
    OPGI_CHECK_ARG(t->err, s);
    const opgi_action_kind *ak = opgi_action_find((unsigned)s->kind);
    if (s->kind != OPG_PROPOSAL_TEXT && s->kind != OPG_PROPOSAL_PARAMS &&
        s->kind != OPG_PROPOSAL_PAYLOAD && !ak)
        return opgi_fail(t->err, OPG_EINVAL, "unknown proposal kind", NULL);
    if (s->expedited != 0 && s->expedited != 1)
        return opgi_fail(t->err, OPG_EINVAL, "expedited is 0 or 1", NULL);
    size_t title_len = s->title ? bounded_len(s->title, OPG_TALLY_TITLE_MAX) : 0;
    size_t summary_len = s->summary ? bounded_len(s->summary, OPG_TALLY_SUMMARY_MAX) : 0;
    if (title_len > OPG_TALLY_TITLE_MAX)
        return opgi_fail(t->err, OPG_EINVAL, "title too long", NULL);
    if (summary_len > OPG_TALLY_SUMMARY_MAX)
        return opgi_fail(t->err, OPG_EINVAL, "summary too long", NULL);

    size_t content = 0;
    if (s->kind == OPG_PROPOSAL_PARAMS) {
        if (s->change_count == 0 || s->change_count > OPG_TALLY_CHANGES_MAX || !s->changes)
            return opgi_fail(t->err, OPG_EINVAL, "a parameter change has 1..64 changes", NULL);
        for (size_t i = 0; i < s->change_count; i++) {
            const opg_param_change *c = &s->changes[i];
            if (!c->key || !c->value)
                return opgi_fail(t->err, OPG_EINVAL, "a change needs a key and a value", NULL);
            size_t kl = bounded_len(c->key, OPG_TALLY_KEY_MAX);
            size_t vl = bounded_len(c->value, OPG_TALLY_VALUE_MAX);
            const char *dot = memchr(c->key, '.', kl);
            if (kl == 0 || kl > OPG_TALLY_KEY_MAX || !dot || dot == c->key || dot == c->key + kl - 1)
                return opgi_fail(t->err, OPG_EINVAL,
                                 "a key is 3..63 characters \"namespace.name\"", NULL);
            if (vl > OPG_TALLY_VALUE_MAX)
                return opgi_fail(t->err, OPG_EINVAL, "value too long for", c->key);
            content += kl + vl + 2;
        }
        if (s->payload_len)
            return opgi_fail(t->err, OPG_EINVAL, "a parameter change carries no payload", NULL);
    } else if (s->kind == OPG_PROPOSAL_PAYLOAD) {
        if (s->payload_len > OPG_TALLY_PAYLOAD_MAX || (s->payload_len && !s->payload))
            return opgi_fail(t->err, OPG_EINVAL, "payload missing or above 1 MiB", NULL);
        if (s->change_count)
            return opgi_fail(t->err, OPG_EINVAL, "a payload proposal carries no changes", NULL);
        content = s->payload_len;
    } else if (s->change_count || s->payload_len) {
        return opgi_fail(t->err, OPG_EINVAL, ak ? "a governance action carries no changes or payload"
                                                : "a text proposal carries no changes or payload",
                         NULL);
    }
    uint8_t action[OPGI_ACTION_DATA_MAX];
    if (ak) {
        int rc = ak->encode(action, s, t->err);
        if (rc)
            return rc;
        content = ak->data_len;
    }

    /* allocate everything, then build */
    size_t blob_len = title_len + summary_len + content;
    int has_dep = !opgi_u256_is_zero(&s->initial_deposit);
    opgi_tprop *p = opgi_alloc(&t->alloc, sizeof *p);
    uint8_t *blob = blob_len ? opgi_alloc(&t->alloc, blob_len) : NULL;
    opgi_tdeposit *dep = has_dep ? opgi_alloc(&t->alloc, sizeof *dep) : NULL;
    if (!p || (blob_len && !blob) || (has_dep && !dep) || opgi_tally_props_reserve(t) != OPG_OK) {
        opgi_free(&t->alloc, p, sizeof *p);
        opgi_free(&t->alloc, blob, blob_len);
        opgi_free(&t->alloc, dep, sizeof *dep);
        return opgi_fail(t->err, OPG_ENOMEM, NULL, NULL);
    }
    memset(p, 0, sizeof *p);
    p->id = t->next_id;
    p->proposer = s->proposer;
    p->kind = (uint8_t)s->kind;
    p->expedited = (uint8_t)s->expedited;
    p->status = OPG_PROPOSAL_DEPOSIT_PERIOD;
    p->submit_time = now;
    p->deposit_end = opgi_time_add(now, t->params.max_deposit_period);
    p->blob = blob;
    p->blob_len = blob_len;
    p->title_len = (uint32_t)title_len;
    p->summary_len = (uint32_t)summary_len;
    uint8_t *w = blob;
    if (title_len) {
        memcpy(w, s->title, title_len);
        w += title_len;
    }
    if (summary_len) {
        memcpy(w, s->summary, summary_len);
        w += summary_len;
    }
    if (s->kind == OPG_PROPOSAL_PARAMS) {
        p->n_changes = (uint32_t)s->change_count;
        for (size_t i = 0; i < s->change_count; i++) {
            size_t kl = strlen(s->changes[i].key) + 1, vl = strlen(s->changes[i].value) + 1;
            memcpy(w, s->changes[i].key, kl);
            w += kl;
            memcpy(w, s->changes[i].value, vl);
            w += vl;
        }
    } else if (s->kind == OPG_PROPOSAL_PAYLOAD && s->payload_len) {
        memcpy(w, s->payload, s->payload_len);
    } else if (ak) {
        memcpy(w, action, ak->data_len);
    }
    if (has_dep) {
        dep->depositor = s->proposer;
        dep->amount = s->initial_deposit;
        p->deps = dep;
        p->n_deps = p->deps_cap = 1;
        p->total_deposit = s->initial_deposit;
        if (reaches_min(t, p))
            start_voting(t, p, now);
    }
    t->props[t->n_props++] = p;
    t->next_id++;
    if (proposal_id)
        *proposal_id = p->id;
    return OPG_OK;
}

int opg_tally_deposit(int *voting_started, opg_tally *t, uint64_t proposal_id,
                      const opg_id *depositor, const opg_u256 *amount, opg_time now)
{
    if (!t)
        return OPG_EINVAL; /* no handle: no place for detail text */
    t->err[0] = '\0';
    OPGI_CHECK_ARG(t->err, depositor && amount);
    opgi_tprop *p = opgi_tally_prop(t, proposal_id);
    if (!p)
        return opgi_fail(t->err, OPG_ENOTFOUND, "no open proposal with this id", NULL);
    if (opgi_u256_is_zero(amount))
        return opgi_fail(t->err, OPG_EZERO, "deposit of 0", NULL);
    opg_u256 total;
    if (opg_u256_add(&total, &p->total_deposit, amount) != OPG_OK)
        return opgi_fail(t->err, OPG_EOVERFLOW, "total deposit overflows", NULL);
    /* the depositor's position (deposits sorted by depositor) */
    uint32_t lo = 0, hi = p->n_deps;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (opg_id_cmp(&p->deps[mid].depositor, depositor) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    int exists = lo < p->n_deps && opg_id_cmp(&p->deps[lo].depositor, depositor) == 0;
    if (!exists && p->n_deps == p->deps_cap) {
        if (p->deps_cap >= UINT32_MAX / 2)
            return opgi_fail(t->err, OPG_ENOMEM, "too many depositors", NULL);
        uint32_t ncap = p->deps_cap ? 2 * p->deps_cap : 4;
        opgi_tdeposit *d = opgi_realloc(&t->alloc, p->deps, (size_t)p->deps_cap * sizeof *d,
                                        (size_t)ncap * sizeof *d);
        if (!d)
            return opgi_fail(t->err, OPG_ENOMEM, NULL, NULL);
        p->deps = d;
        p->deps_cap = ncap;
    }
    /* apply: a depositor's own sum is below the total, so it cannot overflow */
    if (exists) {
        OPGI_MUST(opg_u256_add(&p->deps[lo].amount, &p->deps[lo].amount, amount));
    } else {
        memmove(&p->deps[lo + 1], &p->deps[lo], (size_t)(p->n_deps - lo) * sizeof *p->deps);
        p->deps[lo].depositor = *depositor;
        p->deps[lo].amount = *amount;
        p->n_deps++;
    }
    p->total_deposit = total;
    int started = 0;
    if (p->status == OPG_PROPOSAL_DEPOSIT_PERIOD && reaches_min(t, p)) {
        start_voting(t, p, now);
        started = 1;
    }
    if (voting_started)
        *voting_started = started;
    return OPG_OK;
}

/* ------------------------------------------------------------------ votes */

static uint32_t voter_hash(const opg_id *id) { return (uint32_t)opgi_hash_id(id); }

/* Slot of voter's vote, or UINT32_MAX. */
static uint32_t vote_find(const opgi_tprop *p, const opg_id *voter)
{
    if (!p->vidx_cap)
        return UINT32_MAX;
    uint32_t mask = p->vidx_cap - 1, h = voter_hash(voter);
    for (uint32_t i = h & mask;; i = (i + 1) & mask) {
        uint64_t e = p->vidx[i];
        if (e == 0)
            return UINT32_MAX;
        uint32_t s = (uint32_t)e - 1;
        if ((uint32_t)(e >> 32) == h && memcmp(p->votes[s].voter.bytes, voter->bytes, 32) == 0)
            return s;
    }
}

static void index_put(uint64_t *idx, uint32_t cap, uint32_t h, uint32_t slot)
{
    uint32_t mask = cap - 1, i = h & mask;
    while (idx[i])
        i = (i + 1) & mask;
    idx[i] = (uint64_t)h << 32 | (uint64_t)(slot + 1);
}

int opgi_tprop_index_build(const opg_allocator *a, opgi_tprop *p, uint32_t cap)
{
    uint64_t *idx = opgi_alloc_array(a, cap, sizeof *idx);
    if (!idx)
        return OPG_ENOMEM;
    memset(idx, 0, (size_t)cap * sizeof *idx);
    if (p->vidx_cap) { /* grow: the stored hashes say where each entry goes */
        for (uint32_t i = 0; i < p->vidx_cap; i++)
            if (p->vidx[i])
                index_put(idx, cap, (uint32_t)(p->vidx[i] >> 32), (uint32_t)p->vidx[i] - 1);
    } else {
        for (uint32_t s = 0; s < p->n_votes; s++)
            index_put(idx, cap, voter_hash(&p->votes[s].voter), s);
    }
    opgi_free(a, p->vidx, (size_t)p->vidx_cap * sizeof *p->vidx);
    p->vidx = idx;
    p->vidx_cap = cap;
    return OPG_OK;
}

int opgi_tally_weights_valid(const uint64_t w[OPGI_TALLY_OPTIONS])
{
    uint64_t sum = 0; /* at most 4 * 10^18 < 2^64 */
    for (int i = 0; i < OPGI_TALLY_OPTIONS; i++) {
        if (w[i] > OPGI_P)
            return 0;
        sum += w[i];
    }
    return sum == OPGI_P;
}

/* Raw weights of a vote from its options; OPG_EVOTE if they break a rule. */
static int vote_weights(uint64_t w[OPGI_TALLY_OPTIONS], const opg_weighted_vote *o, size_t n,
                        char *err)
{
    if (!o || n == 0 || n > OPGI_TALLY_OPTIONS)
        return opgi_fail(err, OPG_EVOTE, "a vote has 1..4 options", NULL);
    memset(w, 0, OPGI_TALLY_OPTIONS * sizeof *w);
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        int opt = (int)o[i].option;
        if (opt < OPG_VOTE_YES || opt > OPG_VOTE_NO_WITH_VETO)
            return opgi_fail(err, OPG_EVOTE, "unknown vote option", NULL);
        if (w[opt - 1])
            return opgi_fail(err, OPG_EVOTE, "an option appears twice", NULL);
        const opg_dec *d = &o[i].weight;
        if (d->limb[1] | d->limb[2] | d->limb[3] || d->limb[0] == 0 || d->limb[0] > OPGI_P)
            return opgi_fail(err, OPG_EVOTE, "a weight must be in (0, 1]", NULL);
        w[opt - 1] = d->limb[0];
        sum += d->limb[0];
    }
    if (sum != OPGI_P)
        return opgi_fail(err, OPG_EVOTE, "weights must add up to exactly 1", NULL);
    return OPG_OK;
}

/* ------------------------------------------------------------------ locks */

opg_time opgi_conviction_lock(const opg_tally_params *p, opg_time voting_end, unsigned c)
{
    static const opg_time periods[OPGI_CONVICTION_MAX + 1] = {0, 1, 2, 4, 8, 16, 32};
    if (c == 0 || c > OPGI_CONVICTION_MAX)
        return 0;
    opg_time k = periods[c], len = p->vote_locking_period; /* len >= 1 */
    opg_time span = len > OPG_TIME_FOREVER / k ? OPG_TIME_FOREVER : len * k;
    return opgi_time_add(voting_end, span);
}

uint32_t opgi_lock_find(const opg_tally *t, const opg_id *account)
{
    if (!t->lidx_cap)
        return UINT32_MAX;
    uint32_t mask = t->lidx_cap - 1, h = voter_hash(account);
    for (uint32_t i = h & mask;; i = (i + 1) & mask) {
        uint64_t e = t->lidx[i];
        if (e == 0)
            return UINT32_MAX;
        uint32_t s = (uint32_t)e - 1;
        if ((uint32_t)(e >> 32) == h &&
            memcmp(t->locks[s].account.bytes, account->bytes, 32) == 0)
            return s;
    }
}

int opgi_lock_index_build(opg_tally *t, uint32_t cap)
{
    uint64_t *idx = opgi_alloc_array(&t->alloc, cap, sizeof *idx);
    if (!idx)
        return OPG_ENOMEM;
    memset(idx, 0, (size_t)cap * sizeof *idx);
    for (uint32_t s = 0; s < t->n_locks; s++)
        index_put(idx, cap, voter_hash(&t->locks[s].account), s);
    opgi_free(&t->alloc, t->lidx, (size_t)t->lidx_cap * sizeof *t->lidx);
    t->lidx = idx;
    t->lidx_cap = cap;
    return OPG_OK;
}

void opgi_lock_min_update(opg_tally *t)
{
    t->lock_min = OPG_TIME_FOREVER;
    for (uint32_t s = 0; s < t->n_locks; s++)
        if (t->locks[s].until < t->lock_min)
            t->lock_min = t->locks[s].until;
}

void opgi_locks_expire(opg_tally *t, opg_time now)
{
    if (!t->n_locks || t->lock_min > now)
        return;
    uint32_t kept = 0;
    for (uint32_t s = 0; s < t->n_locks; s++)
        if (t->locks[s].until > now)
            t->locks[kept++] = t->locks[s];
    t->n_locks = kept;
    /* the index again, in place at its capacity (it only empties) */
    memset(t->lidx, 0, (size_t)t->lidx_cap * sizeof *t->lidx);
    for (uint32_t s = 0; s < t->n_locks; s++)
        index_put(t->lidx, t->lidx_cap, voter_hash(&t->locks[s].account), s);
    opgi_lock_min_update(t);
}

/* Room for account's lock: its record exists, or there is room for one more. */
static int lock_reserve(opg_tally *t, const opg_id *account)
{
    if (opgi_lock_find(t, account) != UINT32_MAX)
        return OPG_OK;
    if (t->n_locks >= UINT32_MAX / 4)
        return OPG_ENOMEM;
    if (t->n_locks == t->locks_cap) {
        uint32_t ncap = t->locks_cap ? 2 * t->locks_cap : 16;
        opgi_tlock *l = opgi_realloc(&t->alloc, t->locks, (size_t)t->locks_cap * sizeof *l,
                                     (size_t)ncap * sizeof *l);
        if (!l)
            return OPG_ENOMEM;
        t->locks = l;
        t->locks_cap = ncap;
    }
    if ((uint64_t)(t->n_locks + 1) * 2 > t->lidx_cap)
        return opgi_lock_index_build(t, t->lidx_cap ? 2 * t->lidx_cap : 32);
    return OPG_OK;
}

/* Raises account's lock to until (room reserved by lock_reserve). */
static void lock_put(opg_tally *t, const opg_id *account, opg_time until)
{
    uint32_t s = opgi_lock_find(t, account);
    if (s == UINT32_MAX) {
        s = t->n_locks++;
        t->locks[s].account = *account;
        t->locks[s].until = until;
        index_put(t->lidx, t->lidx_cap, voter_hash(account), s);
    } else if (until > t->locks[s].until) {
        t->locks[s].until = until;
    }
    if (t->locks[s].until < t->lock_min)
        t->lock_min = t->locks[s].until;
}

int opg_tally_lock_get(opg_time *until, const opg_tally *t, const opg_id *account)
{
    if (!until || !t || !account)
        return OPG_EINVAL;
    uint32_t s = opgi_lock_find(t, account);
    if (s == UINT32_MAX)
        return OPG_ENOTFOUND;
    *until = t->locks[s].until;
    return OPG_OK;
}

size_t opg_tally_lock_count(const opg_tally *t) { return t ? t->n_locks : 0; }

/* ------------------------------------------------------------ vote casting */

/* A vote with conviction c (0 without the extension) and the lock it makes. */
static int vote_cast(opg_tally *t, uint64_t proposal_id, const opg_id *voter,
                     const opg_weighted_vote *options, size_t n, unsigned c)
{
    uint64_t w[OPGI_TALLY_OPTIONS];
    int rc = vote_weights(w, options, n, t->err);
    if (rc)
        return rc;
    opgi_tprop *p = opgi_tally_prop(t, proposal_id);
    if (!p)
        return opgi_fail(t->err, OPG_ENOTFOUND, "no open proposal with this id", NULL);
    if (p->status != OPG_PROPOSAL_VOTING_PERIOD)
        return opgi_fail(t->err, OPG_ESTATUS, "the proposal is not in its voting period", NULL);
    opg_time until = opgi_conviction_lock(&t->params, p->voting_end, c);
    /* room first: the lock, the record array and an index at most half full */
    if (c && lock_reserve(t, voter) != OPG_OK)
        return opgi_fail(t->err, OPG_ENOMEM, NULL, NULL);
    uint32_t s = vote_find(p, voter);
    if (s == UINT32_MAX) {
        if (p->n_votes >= UINT32_MAX / 4)
            return opgi_fail(t->err, OPG_ENOMEM, "too many votes", NULL);
        if (p->n_votes == p->votes_cap) {
            uint32_t ncap = p->votes_cap ? 2 * p->votes_cap : 16;
            opgi_tvote *v = opgi_realloc(&t->alloc, p->votes, (size_t)p->votes_cap * sizeof *v,
                                         (size_t)ncap * sizeof *v);
            if (!v)
                return opgi_fail(t->err, OPG_ENOMEM, NULL, NULL);
            p->votes = v;
            p->votes_cap = ncap;
        }
        if ((uint64_t)(p->n_votes + 1) * 2 > p->vidx_cap) {
            uint32_t ncap = p->vidx_cap ? 2 * p->vidx_cap : 32;
            if (opgi_tprop_index_build(&t->alloc, p, ncap) != OPG_OK)
                return opgi_fail(t->err, OPG_ENOMEM, NULL, NULL);
        }
        if (c && opgi_tprop_convs_reserve(&t->alloc, p, p->n_votes) != OPG_OK)
            return opgi_fail(t->err, OPG_ENOMEM, NULL, NULL);
        s = p->n_votes++;
        memset(&p->votes[s], 0, sizeof p->votes[s]);
        p->votes[s].voter = *voter;
        index_put(p->vidx, p->vidx_cap, voter_hash(voter), s);
    } else if (c && opgi_tprop_convs_reserve(&t->alloc, p, s) != OPG_OK) {
        return opgi_fail(t->err, OPG_ENOMEM, NULL, NULL);
    }
    /* a later vote replaces the earlier one; the lock only grows */
    memcpy(p->votes[s].w, w, sizeof w);
    if (s < p->convs_cap)
        p->convs[s] = (uint8_t)c;
    if (c)
        lock_put(t, voter, until);
    return OPG_OK;
}

int opg_tally_vote(opg_tally *t, uint64_t proposal_id, const opg_id *voter,
                   const opg_weighted_vote *options, size_t n)
{
    if (!t)
        return OPG_EINVAL; /* no handle: no place for detail text */
    t->err[0] = '\0';
    OPGI_CHECK_ARG(t->err, voter);
    return vote_cast(t, proposal_id, voter, options, n, 0);
}

int opg_tally_vote_conviction(opg_tally *t, uint64_t proposal_id, const opg_id *voter,
                              const opg_weighted_vote *options, size_t n, unsigned conviction,
                              opg_time now)
{
    if (!t)
        return OPG_EINVAL; /* no handle: no place for detail text */
    t->err[0] = '\0';
    (void)now; /* the lock runs from the proposal's voting_end */
    OPGI_CHECK_ARG(t->err, voter);
    if (!t->params.conviction_voting)
        return opgi_fail(t->err, OPG_EINVAL, "gov.conviction_voting is off", NULL);
    if (conviction > OPGI_CONVICTION_MAX)
        return opgi_fail(t->err, OPG_EINVAL, "a conviction is 0..6", NULL);
    return vote_cast(t, proposal_id, voter, options, n, conviction);
}

int opg_tally_vote_option(opg_tally *t, uint64_t proposal_id, const opg_id *voter,
                          opg_vote_option option)
{
    opg_weighted_vote v;
    v.option = option;
    opg_dec_from_u64(&v.weight, 1);
    return opg_tally_vote(t, proposal_id, voter, &v, 1);
}

int opg_tally_vote_conviction_get(unsigned *conviction, const opg_tally *t,
                                  uint64_t proposal_id, const opg_id *voter)
{
    if (!conviction || !t || !voter)
        return OPG_EINVAL;
    const opgi_tprop *p = opgi_tally_prop(t, proposal_id);
    uint32_t s = p ? vote_find(p, voter) : UINT32_MAX;
    if (s == UINT32_MAX)
        return OPG_ENOTFOUND;
    *conviction = opgi_tvote_conviction(p, s);
    return OPG_OK;
}

/* ---------------------------------------------------------------- output */

void opgi_tally_out_clear(opg_tally *t)
{
    t->n_out = 0;
    t->err[0] = '\0';
}

int opgi_tally_out_reserve(opg_tally *t, size_t records, size_t refunds, size_t bytes)
{
    if (records > t->out_cap) {
        opg_tally_closed *o = opgi_realloc(&t->alloc, t->out, t->out_cap * sizeof *o,
                                           records * sizeof *o);
        if (!o)
            return OPG_ENOMEM;
        t->out = o;
        t->out_cap = records;
    }
    if (refunds > t->out_refunds_cap) {
        opg_tally_deposit_entry *e = opgi_realloc(
            &t->alloc, t->out_refunds, t->out_refunds_cap * sizeof *e, refunds * sizeof *e);
        if (!e)
            return OPG_ENOMEM;
        t->out_refunds = e;
        t->out_refunds_cap = refunds;
    }
    if (bytes > t->out_bytes_cap) {
        uint8_t *b = opgi_realloc(&t->alloc, t->out_bytes, t->out_bytes_cap, bytes);
        if (!b)
            return OPG_ENOMEM;
        t->out_bytes = b;
        t->out_bytes_cap = bytes;
    }
    return OPG_OK;
}

const opg_tally_closed *opg_tally_closed_list(const opg_tally *t, size_t *count)
{
    if (count)
        *count = t ? t->n_out : 0;
    return t ? t->out : NULL;
}

/* --------------------------------------------------------------- queries */

static void proposal_info(opg_proposal_info *o, const opgi_tprop *p)
{
    memset(o, 0, sizeof *o);
    o->id = p->id;
    o->proposer = p->proposer;
    o->kind = (opg_proposal_kind)p->kind;
    o->status = (opg_proposal_status)p->status;
    o->expedited = p->expedited;
    o->submit_time = p->submit_time;
    o->deposit_end = p->deposit_end;
    o->voting_start = p->voting_start;
    o->voting_end = p->voting_end;
    o->total_deposit = p->total_deposit;
    o->deposit_count = p->n_deps;
    o->vote_count = p->n_votes;
    o->change_count = p->n_changes;
    o->title = p->title_len ? (const char *)p->blob : NULL;
    o->title_len = p->title_len;
    o->summary = p->summary_len ? (const char *)p->blob + p->title_len : NULL;
    o->summary_len = p->summary_len;
    if (p->kind == OPG_PROPOSAL_PAYLOAD) {
        o->payload_len = p->blob_len - p->title_len - p->summary_len;
        o->payload = o->payload_len ? p->blob + p->title_len + p->summary_len : NULL;
    }
}

int opg_tally_proposal_get(opg_proposal_info *out, const opg_tally *t, uint64_t proposal_id)
{
    if (!out || !t)
        return OPG_EINVAL;
    const opgi_tprop *p = opgi_tally_prop(t, proposal_id);
    if (!p)
        return OPG_ENOTFOUND;
    proposal_info(out, p);
    return OPG_OK;
}

size_t opg_tally_proposal_count(const opg_tally *t) { return t ? t->n_props : 0; }

int opg_tally_proposal_at(opg_proposal_info *out, const opg_tally *t, size_t i)
{
    if (!out || !t)
        return OPG_EINVAL;
    if (i >= t->n_props)
        return OPG_ENOTFOUND;
    proposal_info(out, t->props[i]);
    return OPG_OK;
}

int opg_tally_proposal_change(opg_param_change *out, const opg_tally *t, uint64_t proposal_id,
                              size_t i)
{
    if (!out || !t)
        return OPG_EINVAL;
    const opgi_tprop *p = opgi_tally_prop(t, proposal_id);
    if (!p || i >= p->n_changes)
        return OPG_ENOTFOUND;
    opgi_tprop_change(p, i, &out->key, &out->value);
    return OPG_OK;
}

int opg_tally_proposal_action(opg_proposal_action *out, const opg_tally *t,
                              uint64_t proposal_id)
{
    if (!out || !t)
        return OPG_EINVAL;
    const opgi_tprop *p = opgi_tally_prop(t, proposal_id);
    if (!p)
        return OPG_ENOTFOUND;
    const opgi_action_kind *ak = opgi_action_find(p->kind);
    if (!ak)
        return OPG_EINVAL;
    memset(out, 0, sizeof *out);
    out->kind = (opg_proposal_kind)p->kind;
    ak->info(out, opgi_tprop_action_data(p));
    return OPG_OK;
}

int opg_tally_deposits(opg_tally_deposit_entry *out, size_t cap, size_t *count,
                       const opg_tally *t, uint64_t proposal_id)
{
    if (!t || (!out && cap))
        return OPG_EINVAL;
    const opgi_tprop *p = opgi_tally_prop(t, proposal_id);
    if (!p)
        return OPG_ENOTFOUND;
    if (count)
        *count = p->n_deps;
    if (p->n_deps > cap)
        return OPG_EBUFS;
    for (uint32_t i = 0; i < p->n_deps; i++) {
        out[i].depositor = p->deps[i].depositor;
        out[i].amount = p->deps[i].amount;
    }
    return OPG_OK;
}

int opg_tally_vote_get(opg_weighted_vote out[4], size_t *n, const opg_tally *t,
                       uint64_t proposal_id, const opg_id *voter)
{
    if (!out || !t || !voter)
        return OPG_EINVAL;
    const opgi_tprop *p = opgi_tally_prop(t, proposal_id);
    uint32_t s = p ? vote_find(p, voter) : UINT32_MAX;
    if (s == UINT32_MAX)
        return OPG_ENOTFOUND;
    size_t k = 0;
    for (int i = 0; i < OPGI_TALLY_OPTIONS; i++)
        if (p->votes[s].w[i]) {
            memset(&out[k], 0, sizeof out[k]);
            out[k].option = (opg_vote_option)(i + 1);
            out[k].weight.limb[0] = p->votes[s].w[i];
            k++;
        }
    if (n)
        *n = k;
    return OPG_OK;
}

/* ------------------------------------------------------------ vote order */

/* Records of `stride` bytes, each starting with an opg_id. */
typedef struct id_recs {
    const unsigned char *base;
    size_t stride;
} id_recs;

static const uint8_t *rec_id(const id_recs *r, uint32_t i)
{
    return ((const opg_id *)(const void *)(r->base + (size_t)i * r->stride))->bytes;
}

/* Full-id order of two records. */
static int id_cmp(const id_recs *r, uint32_t a, uint32_t b)
{
    return memcmp(rec_id(r, a), rec_id(r, b), 32);
}

/* Merge sort of idx[0..n) by full id, using tmp[0..n). */
static void merge_sort(uint32_t *idx, uint32_t *tmp, size_t n, const id_recs *p)
{
    if (n <= 16) {
        for (size_t i = 1; i < n; i++) {
            uint32_t x = idx[i];
            size_t j = i;
            for (; j > 0 && id_cmp(p, idx[j - 1], x) > 0; j--)
                idx[j] = idx[j - 1];
            idx[j] = x;
        }
        return;
    }
    size_t h = n / 2;
    merge_sort(idx, tmp, h, p);
    merge_sort(idx + h, tmp, n - h, p);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = id_cmp(p, idx[j], idx[i]) < 0 ? idx[j++] : idx[i++];
    while (i < h)
        tmp[k++] = idx[i++];
    while (j < n)
        tmp[k++] = idx[j++];
    memcpy(idx, tmp, n * sizeof *idx);
}

static uint64_t prefix64(const uint8_t *id)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | id[i];
    return v;
}

void opgi_tally_sort_ids(uint32_t *order, const void *base, size_t stride, size_t n,
                         uint64_t *keys, uint32_t *tmp)
{
    /* LSD radix sort of (first 8 bytes, slot) pairs in 11-bit digits, skipping digits
     * every key shares; then runs of equal prefixes are sorted by the whole id. */
    id_recs p = {base, stride};
    uint64_t *k2 = keys + n;
    for (size_t i = 0; i < n; i++) {
        keys[i] = prefix64(rec_id(&p, (uint32_t)i));
        order[i] = (uint32_t)i;
    }
    uint32_t count[2048];
    for (unsigned shift = 0; shift < 64; shift += 11) {
        memset(count, 0, sizeof count);
        for (size_t i = 0; i < n; i++)
            count[(keys[i] >> shift) & 2047]++;
        if (n == 0 || count[(keys[0] >> shift) & 2047] == n)
            continue;
        uint32_t sum = 0;
        for (size_t d = 0; d < 2048; d++) {
            uint32_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) {
            uint32_t at = count[(keys[i] >> shift) & 2047]++;
            k2[at] = keys[i];
            tmp[at] = order[i];
        }
        memcpy(keys, k2, n * sizeof *keys);
        memcpy(order, tmp, n * sizeof *order);
    }
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && keys[j] == keys[i])
            j++;
        if (j - i > 1)
            merge_sort(order + i, tmp, j - i, &p);
        i = j;
    }
}

void opgi_tally_sort_votes(uint32_t *order, const opgi_tprop *p, uint64_t *keys, uint32_t *tmp)
{
    opgi_tally_sort_ids(order, p->votes, sizeof *p->votes, p->n_votes, keys, tmp);
}
