/*
 * slasher_defer.c - deferred slashes (slashing.defer_duration): the pending slashes'
 * application at end_block, their cancel (check, reserve, apply: the steps a
 * governance action runs) and the queries. opg_slasher.h, "Deferred slashes", states
 * the rules; opgi_slasher_slash (slasher.c) makes the pending slashes.
 */
#include "slasher_internal.h"

#include "num.h"

static const uint64_t P_ONE[1] = {OPGI_P};

/* events an applied slash may add beyond the registry's: the reporter's reward */
#define APPLY_OWN_EVENTS 1

size_t opgi_slasher_pending_find(const opg_slasher *s, uint64_t id)
{
    size_t lo = 0, hi = s->n_pending;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->pending[mid].id == id)
            return mid;
        if (s->pending[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return SIZE_MAX;
}

/* --------------------------------------------------------------- queries */

static void pending_out(opg_pending_slash *out, const opgi_pending *p)
{
    memset(out, 0, sizeof *out);
    out->id = p->id;
    out->reason = (opg_slash_reason)p->reason;
    out->node = p->node;
    out->fault_class = p->fault_class;
    out->infraction_height = p->infraction_height;
    out->power = p->power;
    out->fraction = p->fraction;
    out->created_height = p->created_height;
    out->created_time = p->created_time;
    out->due_time = p->due_time;
    out->node_part = p->node_part;
    out->entries_part = p->entries_part;
    out->total = p->total;
    opg_dec one;
    opg_dec_from_u64(&one, 1);
    OPGI_MUST(opg_dec_sub(&out->cancelled, &one, &p->keep)); /* keep <= 1 */
    out->reporter = p->reporter;
    out->power_tokens = p->power_tokens;
}

size_t opg_slasher_pending_count(const opg_slasher *s) { return s ? s->n_pending : 0; }

int opg_slasher_pending_at(opg_pending_slash *out, const opg_slasher *s, size_t i)
{
    if (!out || !s)
        return OPG_EINVAL;
    if (i >= s->n_pending)
        return OPG_ENOTFOUND;
    pending_out(out, &s->pending[i]);
    return OPG_OK;
}

int opg_slasher_pending_get(opg_pending_slash *out, const opg_slasher *s, uint64_t id)
{
    if (!out || !s)
        return OPG_EINVAL;
    size_t i = opgi_slasher_pending_find(s, id);
    if (i == SIZE_MAX)
        return OPG_ENOTFOUND;
    pending_out(out, &s->pending[i]);
    return OPG_OK;
}

/* ---------------------------------------------------------------- cancel */

static int is_one(const opg_dec *d)
{
    opg_dec one;
    opg_dec_from_u64(&one, 1);
    return opg_dec_cmp(d, &one) == 0;
}

int opgi_slasher_cancel_check(const opg_slasher *s, uint64_t slash_id, const opg_dec *fraction,
                              const opgi_cancel_staged *staged, size_t n_staged, char *err)
{
    opg_dec one;
    opg_dec_from_u64(&one, 1);
    if (!fraction || opgi_dec_is_zero(fraction) || opg_dec_cmp(fraction, &one) > 0)
        return opgi_fail(err, OPG_EINVAL, "cancel fraction must be in (0, 1]", NULL);
    if (opgi_slasher_pending_find(s, slash_id) == SIZE_MAX)
        return opgi_fail(err, OPG_ENOTFOUND, "no pending slash with this id", NULL);
    for (size_t i = 0; i < n_staged; i++)
        if (staged[i].slash_id == slash_id && is_one(&staged[i].fraction))
            return opgi_fail(err, OPG_ENOTFOUND,
                             "the pending slash is cancelled wholly by an earlier action", NULL);
    return OPG_OK;
}

int opgi_slasher_cancel_reserve(opg_slasher *s, size_t n) { return opgi_slasher_pending_reserve(s, n, 0); }

/* trunc(x * k) for k <= 1 */
static void scale(opg_u256 *x, const opg_dec *k)
{
    OPGI_MUST(opgi_muldiv(x->limb, 4, x->limb, 4, k->limb, 4, P_ONE, 1, OPGI_TRUNC));
}

static void pending_remove(opg_slasher *s, size_t i)
{
    opgi_slasher_touch_pending(s, s->pending[i].id);
    memmove(&s->pending[i], &s->pending[i + 1], (s->n_pending - i - 1) * sizeof *s->pending);
    s->n_pending--;
}

void opgi_slasher_cancel_apply(opg_slasher *s, uint64_t slash_id, const opg_dec *fraction)
{
    size_t i = opgi_slasher_pending_find(s, slash_id);
    if (i == SIZE_MAX) /* cancelled wholly earlier in the batch: refused by the check */
        return;
    if (is_one(fraction)) {
        pending_remove(s, i);
        return;
    }
    opgi_pending *p = &s->pending[i];
    opg_dec one, rest; /* 1 - fraction, in (0, 1) */
    opg_dec_from_u64(&one, 1);
    OPGI_MUST(opg_dec_sub(&rest, &one, fraction));
    scale(&p->node_part, &rest);
    scale(&p->entries_part, &rest);
    OPGI_MUST(opg_u256_add(&p->total, &p->node_part, &p->entries_part));
    OPGI_MUST(opgi_muldiv(p->keep.limb, 4, p->keep.limb, 4, rest.limb, 4, P_ONE, 1, OPGI_TRUNC));
    opgi_slasher_touch_pending(s, p->id);
}

int opg_slasher_cancel_deferred(opg_slasher *s, uint64_t slash_id, const opg_dec *fraction)
{
    if (!s)
        return OPG_EINVAL;
    opgi_slasher_begin(s);
    int rc = opgi_slasher_cancel_check(s, slash_id, fraction, NULL, 0, s->err);
    if (rc == OPG_OK)
        rc = opgi_slasher_cancel_reserve(s, 1);
    if (rc)
        return rc;
    opgi_slasher_cancel_apply(s, slash_id, fraction);
    return OPG_OK;
}

/* ------------------------------------------------------------- end_block */

/* Due slashes in application order: (due time, id). */
typedef struct due_ref {
    opg_time due;
    uint64_t id;
} due_ref;

static int cmp_due(const void *a, const void *b)
{
    const due_ref *x = a, *y = b;
    if (x->due != y->due)
        return x->due < y->due ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* The work arrays of one end_block (freed at its end). */
typedef struct due_work {
    due_ref *refs;
    uint32_t *slots;
    opg_height *ih, *ah;
    opg_time *at;
    size_t n;
} due_work;

static void work_free(opg_slasher *s, due_work *w)
{
    size_t n = w->n ? w->n : 1;
    opgi_free(&s->alloc, w->refs, n * sizeof *w->refs);
    opgi_free(&s->alloc, w->slots, n * sizeof *w->slots);
    opgi_free(&s->alloc, w->ih, n * sizeof *w->ih);
    opgi_free(&s->alloc, w->ah, n * sizeof *w->ah);
    opgi_free(&s->alloc, w->at, n * sizeof *w->at);
}

/* One due slash, inside the bracket with everything reserved: cannot fail. */
static void apply_one(opg_slasher *s, const opgi_pending *p, opg_height height, opg_time now)
{
    opg_registry *r = s->reg;
    opg_slasher_record rec;
    memset(&rec, 0, sizeof rec);
    rec.reason = (opg_slash_reason)p->reason;
    rec.node = p->node;
    rec.fault_class = p->fault_class;
    rec.infraction_height = p->infraction_height;
    rec.power = p->power;
    rec.reporter = p->reporter;
    rec.pending_id = p->id;
    /* the kept fraction: trunc(fraction * keep) */
    OPGI_MUST(opgi_muldiv(rec.fraction.limb, 4, p->fraction.limb, 4, p->keep.limb, 4, P_ONE, 1,
                          OPGI_TRUNC));
    opgi_slash_at at = {p->created_height, p->created_time, &p->total, 0, &p->power_tokens};
    int rc = opgi_registry_slash_at(&rec.slash, r, &p->node, p->infraction_height, p->power,
                                    &rec.fraction, height, now, 1, &at);
    if (OPGI_NEVER(s->err, rc != OPG_OK)) /* checked and reserved by the caller */
        memset(&rec.slash, 0, sizeof rec.slash);
    uint32_t slot = opgi_node_find(r, &p->node);
    /* reporter reward: trunc(burned_total * share), share <= 1 */
    OPGI_MUST(opgi_muldiv(rec.reporter_reward.limb, 4, rec.slash.burned_total.limb, 4,
                          p->reporter_share.limb, 4, P_ONE, 1, OPGI_TRUNC));
    OPGI_MUST(opg_u256_sub(&rec.burned, &rec.slash.burned_total, &rec.reporter_reward));
    if (!opgi_u256_is_zero(&rec.reporter_reward)) {
        opgi_ledger_unburn(r, &rec.reporter_reward);
        opg_event *e = opgi_event_push(r, OPG_EVENT_REPORTER_REWARD,
                                       slot == OPGI_NONE ? NULL : &r->nodes[slot]);
        e->account = p->reporter;
        e->node = p->node;
        e->amount = rec.reporter_reward;
    }
    if (slot != OPGI_NONE)
        rec.jailed_until = r->nodes[slot].jailed_until;
    s->recs[s->n_recs++] = rec;
}

int opg_slasher_end_block(opg_slasher *s, opg_height height, opg_time now)
{
    if (!s)
        return OPG_EINVAL;
    opgi_slasher_begin(s);
    opg_registry *r = s->reg;
    size_t n = 0;
    for (size_t i = 0; i < s->n_pending; i++)
        n += s->pending[i].due_time <= now;
    if (n == 0)
        return OPG_OK;

    /* 1. check and reserve: the order, the records, the registry's plan and events */
    due_work w;
    memset(&w, 0, sizeof w);
    w.n = n;
    w.refs = opgi_alloc_array(&s->alloc, n, sizeof *w.refs);
    w.slots = opgi_alloc_array(&s->alloc, n, sizeof *w.slots);
    w.ih = opgi_alloc_array(&s->alloc, n, sizeof *w.ih);
    w.ah = opgi_alloc_array(&s->alloc, n, sizeof *w.ah);
    w.at = opgi_alloc_array(&s->alloc, n, sizeof *w.at);
    int rc = OPG_OK;
    if (!w.refs || !w.slots || !w.ih || !w.ah || !w.at) {
        rc = opgi_fail(s->err, OPG_ENOMEM, NULL, NULL);
        goto done;
    }
    for (size_t i = 0, k = 0; i < s->n_pending; i++)
        if (s->pending[i].due_time <= now) {
            w.refs[k].due = s->pending[i].due_time;
            w.refs[k++].id = s->pending[i].id;
        }
    qsort(w.refs, n, sizeof *w.refs, cmp_due);
    for (size_t k = 0; k < n; k++) {
        const opgi_pending *p = &s->pending[opgi_slasher_pending_find(s, w.refs[k].id)];
        uint32_t slot = opgi_node_find(r, &p->node);
        if (slot == OPGI_NONE) { /* held: the node cannot have left */
            rc = opgi_fail(s->err, OPG_EINVARIANT, "a pending slash of a node that is gone", NULL);
            goto done;
        }
        if (p->infraction_height > height) {
            rc = opgi_fail(s->err, OPG_EFUTURE, "height before a due slash's infraction", NULL);
            goto done;
        }
        w.slots[k] = slot;
        w.ih[k] = p->infraction_height;
        w.ah[k] = p->created_height;
        w.at[k] = p->created_time;
    }
    {
        void *recs = s->recs;
        rc = opgi_grow(&s->alloc, &recs, &s->recs_cap, n, sizeof *s->recs);
        s->recs = recs;
        if (rc) {
            rc = opgi_fail(s->err, OPG_ENOMEM, NULL, NULL);
            goto done;
        }
    }
    if ((rc = opgi_slasher_pending_reserve(s, n, 0)) != OPG_OK)
        goto done;
    size_t events = n * APPLY_OWN_EVENTS;
    if ((rc = opgi_registry_slashes_prepare_at(&events, r, w.slots, n, w.ih, w.ah, w.at, height,
                                               now)) != OPG_OK ||
        (rc = opgi_call_enter(r, events)) != OPG_OK) {
        rc = opgi_fail(s->err, rc, "the registry cannot take the slashes", r->err);
        goto done;
    }

    /* 2. apply in (due, id) order, then drop the applied records: nothing fails */
    for (size_t k = 0; k < n; k++)
        apply_one(s, &s->pending[opgi_slasher_pending_find(s, w.refs[k].id)], height, now);
    for (size_t k = 0; k < n; k++)
        pending_remove(s, opgi_slasher_pending_find(s, w.refs[k].id));
    opgi_slasher_leave(s);
done:
    work_free(s, &w);
    return rc;
}
