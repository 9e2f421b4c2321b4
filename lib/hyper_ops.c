/*
 * hyper_ops.c - what moves stake: deposit, withdraw and the epoch.
 *
 * Every move is a public registry or splitter call, so every registry rule applies.
 * A call made of several registry calls stays all-or-nothing in two steps:
 *   1. check: everything the registry would refuse is checked first by the same
 *      arithmetic (deposit, withdraw), and the memory every step needs is reserved:
 *      hyper's own lists, and the registry's and splitter's capacities
 *      (opgi_hyper_reserve below), so the calls that follow do not allocate;
 *   2. apply: the registry calls, whose events are harvested after each one.
 * The epoch is not one transaction but a sequence of positions; each position is
 * checked and reserved before its first call (see opg_hyper_epoch in the header).
 */
#include "hyper_internal.h"

#include "num.h"

#include <stdlib.h>

static const uint64_t P_L[1] = {OPGI_P};

/* The most events one registry or splitter call may leave (each reserves at most
 * this many for itself: redelegate is the largest with 6 + engines' 6 calls). */
static size_t events_per_call(const opg_registry *r) { return 8 + opgi_engine_events(r, 8); }

static void call_begin(opg_hyper *h)
{
    h->err[0] = '\0';
    h->n_moves = 0;
    h->n_events = 0;
}

/* Room for `moves` more moves and `events` more passed-through events. */
static int reserve_out(opg_hyper *h, size_t moves, size_t events)
{
    if (h->n_moves + moves > h->cap_moves) {
        size_t ncap = h->cap_moves ? h->cap_moves : 16;
        while (ncap < h->n_moves + moves)
            ncap *= 2;
        opg_hyper_move *m = opgi_realloc(&h->alloc, h->moves, h->cap_moves * sizeof *m, ncap * sizeof *m);
        if (!m)
            return OPG_ENOMEM;
        h->moves = m;
        h->cap_moves = ncap;
    }
    if (h->n_events + events > h->cap_events) {
        size_t ncap = h->cap_events ? h->cap_events : 16;
        while (ncap < h->n_events + events)
            ncap *= 2;
        opg_event *e = opgi_realloc(&h->alloc, h->events, h->cap_events * sizeof *e, ncap * sizeof *e);
        if (!e)
            return OPG_ENOMEM;
        h->events = e;
        h->cap_events = ncap;
    }
    return OPG_OK;
}

/*
 * Makes the registry and splitter calls that follow allocation-free: room for
 * new_dels new delegations, `unb` unbonding and `red` redelegation entries, the
 * events of one call, and on each of the n nodes `touches` more F1 periods (each
 * registry call appends at most one record per node it touches, and the splitter's
 * prepare asks for 2 * (nodes + delegations + 2) <= 10 spare ones) and a slash
 * event. Capacity is not state: a failure here leaves every state hash as it was.
 */
static int reserve_registry(opg_hyper *h, uint32_t new_dels, size_t unb, size_t red,
                            const uint32_t *slots, size_t n, size_t touches)
{
    opg_registry *r = h->reg;
    opg_splitter *s = h->spl;
    if (opgi_registry_reserve(r, new_dels ? new_dels + 1 : 0, unb, red) != OPG_OK ||
        opgi_events_reserve(r, events_per_call(r)) != OPG_OK)
        return OPG_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        uint32_t slot = slots[i];
        if (slot >= r->node_slots || !r->nodes[slot].in_use || slot >= s->n_nodes)
            continue;
        f1_node *fn = &s->nodes[slot];
        if (opgi_f1_hist_reserve(s, fn, touches + 12) != OPG_OK || opgi_f1_slash_reserve(s, fn, 1) != OPG_OK)
            return OPG_ENOMEM;
    }
    return OPG_OK;
}

static opg_hyper_move *push_move(opg_hyper *h, const opgi_hpos *p, opg_hyper_move_kind kind)
{
    if (h->n_moves >= h->cap_moves)
        return NULL; /* reserved beforehand; a miss would be a bug, never a write out of bounds */
    opg_hyper_move *m = &h->moves[h->n_moves++];
    memset(m, 0, sizeof *m);
    m->kind = kind;
    m->position = p->id;
    m->owner = p->owner;
    return m;
}

static void add_move(opg_hyper *h, const opgi_hpos *p, opg_hyper_move_kind kind, int code,
                     const opg_id *src, const opg_id *dst, const opg_u256 *amount, opg_time completion)
{
    opg_hyper_move *m = push_move(h, p, kind);
    if (!m)
        return;
    m->code = code;
    if (src)
        m->src = *src;
    if (dst)
        m->dst = *dst;
    if (amount)
        m->amount = *amount;
    m->completion = completion;
}

/* After a successful registry call: the position's rewards go to *pot, every other
 * event is passed through (room reserved). */
static void harvest(opg_hyper *h, const opgi_hpos *p, opg_u256 *pot)
{
    size_t n;
    const opg_event *ev = opg_registry_events(h->reg, &n);
    for (size_t i = 0; i < n; i++) {
        if (ev[i].kind == OPG_EVENT_REWARDS_PAID && opg_id_cmp(&ev[i].account, &p->id) == 0) {
            opg_u256_add(pot, pot, &ev[i].amount);
            continue;
        }
        if (h->n_events < h->cap_events)
            h->events[h->n_events++] = ev[i];
    }
}

/* Reports what is in *pot as the owner's payout. */
static void flush_payout(opg_hyper *h, opgi_hpos *p, opg_u256 *pot)
{
    if (opgi_u256_is_zero(pot))
        return;
    add_move(h, p, OPG_HYPER_PAYOUT, 0, NULL, &p->owner, pot, 0);
    opg_u256_add(&p->paid_out, &p->paid_out, pot);
    memset(pot, 0, sizeof *pot);
}

/* ------------------------------------------------------------- workspace */

/* One node of a position: its delegation now (if any) and its target weight. */
typedef struct hent {
    opg_id op;
    uint32_t slot;
    opg_u256 actual; /* truncate(tokens_from_shares(shares)) */
    opg_u256 tgt;
    opg_dec w;
} hent;

typedef struct hmv {
    opg_u256 rem;
    const opg_id *op;
    size_t i;
} hmv;

typedef struct work {
    size_t cap;      /* node count + 1 at the start of the call (never grows in it) */
    opgi_htgt *tg, *tg2;
    hent *ent;
    opg_u256 *parts;
    hmv *src, *dst;
    uint32_t *slots; /* 2 * cap */
    opgi_hsnap snap;
    int has_snap;
} work;

static void work_free(opg_hyper *h, work *w)
{
    size_t c = w->cap;
    opgi_free(&h->alloc, w->tg, c * sizeof *w->tg);
    opgi_free(&h->alloc, w->tg2, c * sizeof *w->tg2);
    opgi_free(&h->alloc, w->ent, c * sizeof *w->ent);
    opgi_free(&h->alloc, w->parts, c * sizeof *w->parts);
    opgi_free(&h->alloc, w->src, c * sizeof *w->src);
    opgi_free(&h->alloc, w->dst, c * sizeof *w->dst);
    opgi_free(&h->alloc, w->slots, 2 * c * sizeof *w->slots);
    if (w->has_snap)
        opgi_hyper_snap_free(h, &w->snap);
    memset(w, 0, sizeof *w);
}

static int work_new(opg_hyper *h, work *w, const opg_hyper_score *table, size_t n_table, int has_table)
{
    memset(w, 0, sizeof *w);
    size_t c = (size_t)h->reg->node_count + 1;
    w->cap = c;
    w->tg = opgi_alloc_array(&h->alloc, c, sizeof *w->tg);
    w->tg2 = opgi_alloc_array(&h->alloc, c, sizeof *w->tg2);
    w->ent = opgi_alloc_array(&h->alloc, c, sizeof *w->ent);
    w->parts = opgi_alloc_array(&h->alloc, c, sizeof *w->parts);
    w->src = opgi_alloc_array(&h->alloc, c, sizeof *w->src);
    w->dst = opgi_alloc_array(&h->alloc, c, sizeof *w->dst);
    w->slots = opgi_alloc_array(&h->alloc, 2 * c, sizeof *w->slots);
    if (!w->tg || !w->tg2 || !w->ent || !w->parts || !w->src || !w->dst || !w->slots) {
        work_free(h, w);
        return OPG_ENOMEM;
    }
    if (opgi_hyper_snap(&w->snap, h, table, n_table, has_table) != OPG_OK) {
        work_free(h, w);
        return OPG_ENOMEM;
    }
    w->has_snap = 1;
    return OPG_OK;
}

static int cmp_ent(const void *a, const void *b)
{
    return opg_id_cmp(&((const hent *)a)->op, &((const hent *)b)->op);
}

/* The position's delegations now, sorted by operator id; returns how many. */
static size_t load_current(const opg_hyper *h, work *w, const opg_id *pid)
{
    const opg_registry *r = h->reg;
    size_t n = 0;
    for (uint32_t d = opgi_del_first_of(r, pid); d != OPGI_NONE && n < w->cap; d = r->dels[d].next) {
        hent *e = &w->ent[n++];
        memset(e, 0, sizeof *e);
        e->slot = r->dels[d].node;
        e->op = r->nodes[e->slot].operator_id;
        opgi_hyper_del_tokens(&e->actual, r, d);
    }
    qsort(w->ent, n, sizeof *w->ent, cmp_ent);
    return n;
}

static hent *find_ent(work *w, size_t n, const opg_id *op)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = opg_id_cmp(&w->ent[mid].op, op);
        if (c == 0)
            return &w->ent[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ent[0..nc) (sorted) gets the target weights; targets without a delegation are
 * added. Returns the new count, still sorted. */
static size_t merge_targets(work *w, size_t nc, const opgi_htgt *tg, size_t nt)
{
    size_t n = nc;
    for (size_t i = 0; i < nt; i++) {
        hent *e = find_ent(w, nc, &tg[i].op);
        if (!e) {
            if (n >= w->cap)
                continue; /* cannot happen: both are subsets of the nodes */
            e = &w->ent[n++];
            memset(e, 0, sizeof *e);
            e->op = tg[i].op;
            e->slot = tg[i].slot;
        }
        e->w = tg[i].w;
    }
    qsort(w->ent, n, sizeof *w->ent, cmp_ent);
    return n;
}

/* The same overflow checks opg_registry_delegate makes, before any call. */
static int check_delegate(const opg_registry *r, uint32_t slot, uint32_t del, const opg_u256 *amount)
{
    const opgi_node *n = &r->nodes[slot];
    opg_dec issued, s;
    opg_u256 t;
    int rc;
    if (opgi_dec_is_zero(&n->delegator_shares))
        rc = opg_dec_from_int(&issued, amount);
    else
        rc = opgi_muldiv(issued.limb, 4, n->delegator_shares.limb, 4, amount->limb, 4, n->tokens.limb,
                         4, OPGI_TRUNC);
    if (rc || opg_u256_add(&t, &n->tokens, amount) || opg_dec_add(&s, &n->delegator_shares, &issued) ||
        (del != OPGI_NONE && opg_dec_add(&s, &r->dels[del].shares, &issued)))
        return OPG_EOVERFLOW;
    return OPG_OK;
}

/* --------------------------------------------------------------- deposit */

int opg_hyper_deposit(opg_hyper *h, const opg_id *position, const opg_u256 *amount, opg_height height,
                      opg_time now)
{
    if (!h || !position || !amount)
        return OPG_EINVAL;
    call_begin(h);
    opg_registry *r = h->reg;
    opgi_hpos *p = opgi_hpos_find(h, position);
    if (!p)
        return opgi_fail(h->err, OPG_ENOTFOUND, "no such position", NULL);
    if (opgi_u256_is_zero(amount))
        return opgi_fail(h->err, OPG_EZERO, "amount is zero", NULL);
    work w;
    int rc = work_new(h, &w, h->scores, h->n_scores, h->has_scores);
    if (rc)
        return opgi_fail(h->err, rc, NULL, NULL);
    size_t nt = 0;
    if ((rc = opgi_hyper_targets(w.tg, &nt, h, p, &w.snap)) != OPG_OK) {
        opgi_fail(h->err, rc, "targets", NULL);
        goto done;
    }
    if (nt == 0) {
        rc = opgi_fail(h->err, OPG_ENOTFOUND, "no node is a target of this position's policy now", NULL);
        goto done;
    }
    opgi_hyper_split(w.parts, amount, w.tg, nt);

    /* check: what the registry and the splitter would refuse */
    uint32_t new_dels = 0;
    for (size_t i = 0; i < nt; i++) {
        w.slots[i] = w.tg[i].slot;
        if (opgi_u256_is_zero(&w.parts[i]))
            continue;
        uint32_t del = opgi_del_find(r, position, w.tg[i].slot);
        if ((rc = check_delegate(r, w.tg[i].slot, del, &w.parts[i])) != OPG_OK) {
            opgi_fail(h->err, rc, "delegation amount too large", NULL);
            goto done;
        }
        if (del == OPGI_NONE) {
            new_dels++;
            continue;
        }
        opg_dec pending;
        if ((rc = opg_splitter_pending_rewards(&pending, h->spl, position, &w.tg[i].op, height)) != OPG_OK) {
            opgi_fail(h->err, rc, "the rewards of a delegation cannot be settled", NULL);
            goto done;
        }
    }
    if ((rc = reserve_out(h, nt + 2, nt * events_per_call(r))) != OPG_OK ||
        (rc = reserve_registry(h, new_dels, 0, 0, w.slots, nt, 1)) != OPG_OK) {
        opgi_fail(h->err, rc, NULL, NULL);
        goto done;
    }

    /* apply */
    opg_u256 pot = {{0, 0, 0, 0}}, done_amount = {{0, 0, 0, 0}};
    for (size_t i = 0; i < nt; i++) {
        if (opgi_u256_is_zero(&w.parts[i]))
            continue;
        rc = opg_registry_delegate(NULL, r, position, &w.tg[i].op, &w.parts[i], height, now);
        if (rc != OPG_OK) {
            /* not expected after the checks and reservations: what was delegated
             * stays, the rest goes back to the owner */
            opg_u256 rest;
            opgi_fail(h->err, rc, "registry refused a delegation", opg_registry_last_error(r));
            opg_u256_sub(&rest, amount, &done_amount);
            add_move(h, p, OPG_HYPER_REFUND, rc, NULL, &p->owner, &rest, 0);
            break;
        }
        harvest(h, p, &pot);
        add_move(h, p, OPG_HYPER_DELEGATE, 0, NULL, &w.tg[i].op, &w.parts[i], 0);
        opg_u256_add(&done_amount, &done_amount, &w.parts[i]);
    }
    opg_u256_add(&p->deposited, &p->deposited, &done_amount);
    flush_payout(h, p, &pot);
done:
    work_free(h, &w);
    return rc;
}

/* -------------------------------------------------------------- withdraw */

static int cmp_hmv(const void *a, const void *b)
{
    const hmv *x = a, *y = b;
    int c = opg_u256_cmp(&y->rem, &x->rem);
    return c ? c : opg_id_cmp(x->op, y->op);
}

int opg_hyper_withdraw(opg_u256 *unbonded, opg_hyper *h, const opg_id *position, const opg_u256 *amount,
                       opg_height height, opg_time now)
{
    if (!h || !position || !amount)
        return OPG_EINVAL;
    call_begin(h);
    opg_registry *r = h->reg;
    opgi_hpos *p = opgi_hpos_find(h, position);
    if (!p)
        return opgi_fail(h->err, OPG_ENOTFOUND, "no such position", NULL);
    if (opgi_u256_is_zero(amount))
        return opgi_fail(h->err, OPG_EZERO, "amount is zero", NULL);
    work w;
    int rc = work_new(h, &w, h->scores, h->n_scores, h->has_scores);
    if (rc)
        return opgi_fail(h->err, rc, NULL, NULL);
    size_t nc = load_current(h, &w, position);
    opg_u256 total = {{0, 0, 0, 0}}, sum = {{0, 0, 0, 0}}, rest;
    for (size_t i = 0; i < nc; i++)
        opg_u256_add(&total, &total, &w.ent[i].actual);
    if (opg_u256_cmp(amount, &total) > 0) {
        rc = opgi_fail(h->err, OPG_EUNDERFLOW, "amount above the position's tokens", NULL);
        goto done;
    }
    /* pro rata: part_i = trunc(amount * tokens_i / total); the remainder to the
     * largest delegation (ties: lowest id), what it cannot take to the next one */
    for (size_t i = 0; i < nc; i++) {
        opgi_muldiv(w.parts[i].limb, 4, amount->limb, 4, w.ent[i].actual.limb, 4, total.limb, 4, OPGI_TRUNC);
        opg_u256_add(&sum, &sum, &w.parts[i]);
        w.src[i].rem = w.ent[i].actual;
        w.src[i].op = &w.ent[i].op;
        w.src[i].i = i;
    }
    opg_u256_sub(&rest, amount, &sum);
    qsort(w.src, nc, sizeof *w.src, cmp_hmv);
    for (size_t k = 0; k < nc && !opgi_u256_is_zero(&rest); k++) {
        size_t i = w.src[k].i;
        opg_u256 room;
        opg_u256_sub(&room, &w.ent[i].actual, &w.parts[i]);
        opg_u256 take = opg_u256_cmp(&room, &rest) < 0 ? room : rest;
        opg_u256_add(&w.parts[i], &w.parts[i], &take);
        opg_u256_sub(&rest, &rest, &take);
    }

    /* check: the registry's refusals, by its own arithmetic */
    uint32_t *count = (uint32_t *)(void *)(w.slots + w.cap); /* second half: entries per node */
    for (size_t i = 0; i < nc; i++) {
        w.slots[i] = w.ent[i].slot;
        count[i] = 0;
    }
    for (size_t q = 0; q < r->unbondings.len; q++) {
        const opgi_unbonding *u = opgi_queue_at(&r->unbondings, q);
        if (opg_id_cmp(&u->delegator, position) != 0)
            continue;
        hent *e = find_ent(&w, nc, &u->node);
        if (e)
            count[e - w.ent]++;
    }
    if (now > INT64_MAX - r->params.unbonding_time) {
        rc = opgi_fail(h->err, OPG_EOVERFLOW, "completion time out of range", NULL);
        goto done;
    }
    for (size_t i = 0; i < nc; i++) {
        if (opgi_u256_is_zero(&w.parts[i]))
            continue;
        const opgi_node *n = &r->nodes[w.ent[i].slot];
        uint32_t del = opgi_del_find(r, position, w.ent[i].slot);
        opg_dec shares, pending;
        if (count[i] >= r->params.max_entries) {
            rc = opgi_fail(h->err, OPG_EMAXENTRIES, "unbonding entries at max_entries", NULL);
            goto done;
        }
        if (opgi_u256_is_zero(&n->tokens)) {
            rc = opgi_fail(h->err, OPG_EINSOLVENT, NULL, NULL);
            goto done;
        }
        if (opgi_muldiv(shares.limb, 4, n->delegator_shares.limb, 4, w.parts[i].limb, 4, n->tokens.limb, 4,
                        OPGI_TRUNC) != OPG_OK ||
            opg_dec_cmp(&shares, &r->dels[del].shares) > 0) {
            rc = opgi_fail(h->err, OPG_EUNDERFLOW, "the registry's share arithmetic refuses a part", NULL);
            goto done;
        }
        if ((rc = opg_splitter_pending_rewards(&pending, h->spl, position, &w.ent[i].op, height)) != OPG_OK) {
            opgi_fail(h->err, rc, "the rewards of a delegation cannot be settled", NULL);
            goto done;
        }
    }
    if ((rc = reserve_out(h, nc + 2, nc * events_per_call(r))) != OPG_OK ||
        (rc = reserve_registry(h, 0, nc, 0, w.slots, nc, 1)) != OPG_OK) {
        opgi_fail(h->err, rc, NULL, NULL);
        goto done;
    }

    /* apply */
    opg_u256 pot = {{0, 0, 0, 0}}, got_total = {{0, 0, 0, 0}};
    for (size_t i = 0; i < nc; i++) {
        if (opgi_u256_is_zero(&w.parts[i]))
            continue;
        opg_u256 got;
        opg_time completion;
        rc = opg_registry_undelegate(&got, &completion, r, position, &w.ent[i].op, &w.parts[i], height, now);
        if (rc != OPG_OK) { /* not expected after the checks and reservations */
            opgi_fail(h->err, rc, "registry refused an undelegation", opg_registry_last_error(r));
            break;
        }
        harvest(h, p, &pot);
        add_move(h, p, OPG_HYPER_UNDELEGATE, 0, &w.ent[i].op, NULL, &got, completion);
        opg_u256_add(&got_total, &got_total, &got);
    }
    opg_u256_add(&p->withdrawn, &p->withdrawn, &got_total);
    flush_payout(h, p, &pot);
    if (unbonded && rc == OPG_OK)
        *unbonded = got_total;
done:
    work_free(h, &w);
    return rc;
}

/* ------------------------------------------------------------------ epoch */

/* One position's epoch. Returns OPG_OK, or OPG_ENOMEM with *inside 0 (stopped
 * before its first call: nothing happened) or 1 (stopped after some of its calls). */
static int epoch_position(opg_hyper *h, work *w, opgi_hpos *p, opg_height height, opg_time now,
                          int *inside)
{
    opg_registry *r = h->reg;
    size_t nt = 0;
    *inside = 0;
    int rc = opgi_hyper_targets(w->tg, &nt, h, p, &w->snap);
    if (rc)
        return rc;
    size_t nc = load_current(h, w, &p->id);

    /* reserve for the worst case: nc withdrawals, nt compounding delegations, and
     * at most (nc + nt) * nt redelegation attempts, of which at most nc + 2 nt
     * succeed (each success uses up a source's surplus or a sink's deficit) */
    size_t attempts = (nc + nt) * nt, calls = nc + nt + attempts;
    size_t ns = 0;
    for (size_t i = 0; i < nc; i++)
        w->slots[ns++] = w->ent[i].slot;
    for (size_t i = 0; i < nt; i++)
        w->slots[ns++] = w->tg[i].slot;
    if ((rc = reserve_out(h, nc + nt + 2 + attempts, calls * events_per_call(r))) != OPG_OK ||
        (rc = reserve_registry(h, (uint32_t)nt, 0, nc + 2 * nt, w->slots, ns, 2 + nc + 2 * nt)) != OPG_OK)
        return rc;

    /* 1. rewards of every delegation, in operator id order */
    opg_u256 pot = {{0, 0, 0, 0}};
    for (size_t i = 0; i < nc; i++) {
        *inside = 1;
        rc = opg_splitter_withdraw_rewards(NULL, h->spl, &p->id, &w->ent[i].op, height, now);
        if (rc == OPG_ENOMEM)
            goto stop;
        if (rc != OPG_OK) {
            add_move(h, p, OPG_HYPER_SKIPPED, rc, &w->ent[i].op, NULL, NULL, 0);
            continue;
        }
        harvest(h, p, &pot);
    }

    /* 2. compound by the target weights; what is not compounded is paid out */
    if (p->auto_compound && nt > 0 && !opgi_u256_is_zero(&pot)) {
        opg_u256 rewards = pot;
        memset(&pot, 0, sizeof pot);
        opgi_hyper_split(w->parts, &rewards, w->tg, nt);
        for (size_t i = 0; i < nt; i++) {
            if (opgi_u256_is_zero(&w->parts[i]))
                continue;
            *inside = 1;
            rc = opg_registry_delegate(NULL, r, &p->id, &w->tg[i].op, &w->parts[i], height, now);
            if (rc == OPG_ENOMEM) {
                for (size_t j = i; j < nt; j++)
                    opg_u256_add(&pot, &pot, &w->parts[j]);
                goto stop;
            }
            if (rc != OPG_OK) {
                add_move(h, p, OPG_HYPER_SKIPPED, rc, NULL, &w->tg[i].op, &w->parts[i], 0);
                opg_u256_add(&pot, &pot, &w->parts[i]);
                continue;
            }
            harvest(h, p, &pot);
            add_move(h, p, OPG_HYPER_COMPOUND, 0, NULL, &w->tg[i].op, &w->parts[i], 0);
            opg_u256_add(&p->compounded, &p->compounded, &w->parts[i]);
        }
    }
    flush_payout(h, p, &pot);

    /* 3. rebalance when some node drifted beyond the threshold */
    if (nt == 0)
        return OPG_OK; /* no target node: the position stays where it is */
    nc = load_current(h, w, &p->id);
    size_t n = merge_targets(w, nc, w->tg, nt);
    opg_u256 total = {{0, 0, 0, 0}};
    for (size_t i = 0; i < n; i++)
        opg_u256_add(&total, &total, &w->ent[i].actual);
    if (opgi_u256_is_zero(&total))
        return OPG_OK;
    int drifted = 0;
    for (size_t i = 0; i < n && !drifted; i++) {
        opg_dec share, diff; /* share = quo_truncate(tokens_i, total) */
        opgi_muldiv(share.limb, 4, w->ent[i].actual.limb, 4, P_L, 1, total.limb, 4, OPGI_TRUNC);
        if (opg_dec_cmp(&share, &w->ent[i].w) >= 0)
            opg_dec_sub(&diff, &share, &w->ent[i].w);
        else
            opg_dec_sub(&diff, &w->ent[i].w, &share);
        drifted = opg_dec_cmp(&diff, &p->threshold) > 0;
    }
    if (!drifted)
        return OPG_OK;
    for (size_t i = 0; i < n; i++) {
        w->tg2[i].op = w->ent[i].op;
        w->tg2[i].slot = w->ent[i].slot;
        w->tg2[i].w = w->ent[i].w;
    }
    opgi_hyper_split(w->parts, &total, w->tg2, n); /* the same parts as over the targets alone */
    size_t n_src = 0, n_dst = 0;
    for (size_t i = 0; i < n; i++) {
        hent *e = &w->ent[i];
        e->tgt = w->parts[i];
        hmv m;
        m.op = &e->op;
        m.i = i;
        if (opg_u256_cmp(&e->actual, &e->tgt) > 0) {
            opg_u256_sub(&m.rem, &e->actual, &e->tgt);
            w->src[n_src++] = m;
        } else if (opg_u256_cmp(&e->tgt, &e->actual) > 0) {
            opg_u256_sub(&m.rem, &e->tgt, &e->actual);
            w->dst[n_dst++] = m;
        }
    }
    qsort(w->src, n_src, sizeof *w->src, cmp_hmv);
    qsort(w->dst, n_dst, sizeof *w->dst, cmp_hmv);
    for (size_t a = 0; a < n_src; a++) {
        for (size_t b = 0; b < n_dst && !opgi_u256_is_zero(&w->src[a].rem); b++) {
            if (opgi_u256_is_zero(&w->dst[b].rem))
                continue;
            opg_u256 amt = opg_u256_cmp(&w->src[a].rem, &w->dst[b].rem) < 0 ? w->src[a].rem : w->dst[b].rem;
            const hent *s = &w->ent[w->src[a].i], *d = &w->ent[w->dst[b].i];
            const opgi_node *dn = &r->nodes[d->slot];
            int dst_live = d->slot < r->node_slots && dn->in_use && opg_id_cmp(&dn->operator_id, &d->op) == 0;
            opg_u256 before = dst_live ? dn->tokens : (opg_u256){{0, 0, 0, 0}}, moved;
            opg_time completion;
            *inside = 1;
            rc = opg_registry_redelegate(&completion, r, &p->id, &s->op, &d->op, &amt, height, now);
            if (rc == OPG_ENOMEM)
                goto stop;
            if (rc != OPG_OK) {
                add_move(h, p, OPG_HYPER_SKIPPED, rc, &s->op, &d->op, &amt, 0);
                if (rc == OPG_ETRANSITIVE || rc == OPG_EINSOLVENT || rc == OPG_ENOTFOUND)
                    break; /* the source refuses every destination */
                continue;
            }
            harvest(h, p, &pot);
            /* what moved: the destination's tokens grew by exactly the unbonded tokens */
            opg_u256_sub(&moved, &r->nodes[d->slot].tokens, &before);
            add_move(h, p, OPG_HYPER_REDELEGATE, 0, &s->op, &d->op, &moved, completion);
            opg_u256_sub(&w->src[a].rem, &w->src[a].rem, &amt);
            opg_u256_sub(&w->dst[b].rem, &w->dst[b].rem, &amt);
        }
    }
    flush_payout(h, p, &pot);
    return OPG_OK;
stop:
    opgi_fail(h->err, rc, "registry out of memory inside a position", opg_registry_last_error(r));
    flush_payout(h, p, &pot);
    return rc;
}

static int cmp_score(const void *a, const void *b)
{
    return opg_id_cmp(&((const opg_hyper_score *)a)->node, &((const opg_hyper_score *)b)->node);
}

/* The host's scores by operator id: checked, sorted, unknown ids dropped. */
static int build_scores(opg_hyper *h, const opg_hyper_score *in, size_t n, opg_hyper_score **out,
                        size_t *n_out)
{
    opg_dec one;
    opg_dec_from_u64(&one, 1);
    if (n > SIZE_MAX / sizeof **out)
        return opgi_fail(h->err, OPG_ENOMEM, NULL, NULL);
    opg_hyper_score *t = opgi_alloc_array(&h->alloc, n ? n : 1, sizeof *t);
    if (!t)
        return opgi_fail(h->err, OPG_ENOMEM, NULL, NULL);
    size_t k = 0, tn = n ? n : 1;
    for (size_t i = 0; i < n; i++) {
        if (opg_dec_cmp(&in[i].score, &one) > 0) {
            opgi_free(&h->alloc, t, tn * sizeof *t);
            return opgi_fail(h->err, OPG_EINVAL, "performance score above 1", NULL);
        }
        opg_id op = in[i].node;
        if (opgi_node_find(h->reg, &op) == OPGI_NONE &&
            opg_registry_node_by_consensus_key(&op, h->reg, &in[i].node) != OPG_OK)
            continue; /* no such node: ignored */
        t[k].node = op;
        t[k++].score = in[i].score;
    }
    qsort(t, k, sizeof *t, cmp_score);
    for (size_t i = 1; i < k; i++)
        if (opg_id_cmp(&t[i - 1].node, &t[i].node) == 0) {
            opgi_free(&h->alloc, t, tn * sizeof *t);
            return opgi_fail(h->err, OPG_EINVAL, "two scores for one node", NULL);
        }
    /* the stored table holds exactly max(k, 1) entries */
    opg_hyper_score *fit = opgi_alloc_array(&h->alloc, k ? k : 1, sizeof *fit);
    if (!fit) {
        opgi_free(&h->alloc, t, tn * sizeof *t);
        return opgi_fail(h->err, OPG_ENOMEM, NULL, NULL);
    }
    if (k)
        memcpy(fit, t, k * sizeof *t);
    opgi_free(&h->alloc, t, tn * sizeof *t);
    *out = fit;
    *n_out = k;
    return OPG_OK;
}

int opg_hyper_epoch(size_t *positions_done, opg_hyper *h, const opg_hyper_score *scores, size_t n_scores,
                    opg_height height, opg_time now)
{
    if (!h)
        return OPG_EINVAL;
    call_begin(h);
    if (positions_done)
        *positions_done = 0;
    opg_hyper_score *table = h->scores;
    size_t n_table = h->n_scores;
    int rc;
    if (scores && (rc = build_scores(h, scores, n_scores, &table, &n_table)) != OPG_OK)
        return rc;
    size_t table_bytes = (n_table ? n_table : 1) * sizeof *table;
    work w;
    if ((rc = work_new(h, &w, table, n_table, scores ? 1 : h->has_scores)) != OPG_OK) {
        if (scores)
            opgi_free(&h->alloc, table, table_bytes);
        return opgi_fail(h->err, rc, NULL, NULL);
    }
    size_t done = 0;
    int touched = 0, inside = 0;
    for (size_t i = 0; i < h->n_pos; i++) {
        rc = epoch_position(h, &w, h->pos[i], height, now, &inside);
        touched |= inside;
        if (rc != OPG_OK) {
            if (!inside)
                opgi_fail(h->err, rc, "epoch stopped before a position", NULL);
            break;
        }
        touched = 1; /* a position done counts even if it made no call */
        done++;
    }
    if (scores) {
        if (rc == OPG_OK || touched) {
            opgi_free(&h->alloc, h->scores, (h->n_scores ? h->n_scores : 1) * sizeof *h->scores);
            h->scores = table;
            h->n_scores = n_table;
            h->has_scores = 1;
        } else {
            opgi_free(&h->alloc, table, table_bytes);
        }
    }
    work_free(h, &w);
    if (positions_done)
        *positions_done = done;
    return rc;
}
