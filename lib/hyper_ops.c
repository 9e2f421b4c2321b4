/*
 * hyper_ops.c - what moves stake: deposit, withdraw and the epoch.
 *
 * Every move is a public registry or splitter call, so every registry rule applies.
 * Each of the three host calls is all-or-nothing, in two phases:
 *   1. check and reserve: what the registry would refuse is asked of the registry's
 *      own checks (deposit, withdraw), and the worst case of every call the apply
 *      phase may make is added up into a budget (hyper's moves and events, new
 *      delegations and queue entries in the registry, F1 periods per node in the
 *      splitter, the events of the whole call). All of it is reserved and one
 *      registry bracket is opened with the summed event bound (reserve_and_enter).
 *      A failure here is OPG_ENOMEM with every state as it was: capacity is not state.
 *   2. apply: the registry and splitter calls inside that bracket, which append their
 *      events to the registry's list; hyper harvests each call's events from where
 *      the call started. Nothing left can run out of memory. A registry refusal inside
 *      an epoch is a rule (the same on every replica) and becomes a SKIPPED move.
 */
#include "hyper_internal.h"

#include "num.h"

#include <stdlib.h>

static const uint64_t P_L[1] = {OPGI_P};

/* The largest plan one registry call of hyper hands the engines: a redelegation names
 * two delegations (its source and its destination) or one and the destination node.
 * The splitter's prepare keeps opgi_splitter_hist_room of it spare on those nodes. */
#define PLAN_NODES 1
#define PLAN_DELS 2

static void call_begin(opg_hyper *h)
{
    h->err[0] = '\0';
    h->n_moves = 0;
    h->n_events = 0;
    h->n_reports = 0;
}

static size_t sat_add(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }
static size_t sat_mul(size_t a, size_t b) { return b && a > SIZE_MAX / b ? SIZE_MAX : a * b; }

static opg_hyper_move *push_move(opg_hyper *h, const opgi_hpos *p, opg_hyper_move_kind kind)
{
    /* reserved by the budget; release builds drop a move rather than write past it */
    if (OPGI_NEVER(h->err, h->n_moves >= h->cap_moves))
        return NULL;
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

/* After a successful call whose events start at index `from` of the registry's list:
 * the position's own rewards go to *pot, every other event is passed through. */
static void harvest(opg_hyper *h, const opgi_hpos *p, size_t from, opg_u256 *pot)
{
    size_t n;
    const opg_event *ev = opg_registry_events(h->reg, &n);
    for (size_t i = from; i < n; i++) {
        if (ev[i].kind == OPG_EVENT_REWARDS_PAID && opg_id_cmp(&ev[i].account, &p->id) == 0) {
            /* rewards are bounded by the splitter's totals */
            OPGI_HYPER_EXACT(h->err, opg_u256_add(pot, pot, &ev[i].amount));
            continue;
        }
        /* the budget reserved every event of the call for hyper's list too */
        if (!OPGI_NEVER(h->err, h->n_events >= h->cap_events))
            h->events[h->n_events++] = ev[i];
    }
}

/* Reports what is in *pot as the owner's payout. */
static void flush_payout(opg_hyper *h, opgi_hpos *p, opg_u256 *pot)
{
    if (opgi_u256_is_zero(pot))
        return;
    add_move(h, p, OPG_HYPER_PAYOUT, 0, NULL, &p->owner, pot, 0);
    /* paid_out + compounded never exceed what the splitter paid (a Dec total) */
    OPGI_HYPER_EXACT(h->err, opg_u256_add(&p->paid_out, &p->paid_out, pot));
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
    size_t cap;        /* node count + 1 at the start of the call (never grows in it) */
    opgi_htgt *tg, *tg2;
    hent *ent;
    opg_u256 *parts;
    hmv *src, *dst;
    uint32_t *slots;   /* 2 * cap */
    size_t *periods;   /* per registry slot: F1 periods the call may close on the node */
    uint32_t n_periods;
    opg_dec *vshares;  /* per registry slot: the shares all vaults hold on the node, kept
                          by an epoch while the centralisation guard is on (else NULL) */
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
    opgi_free(&h->alloc, w->periods, (size_t)w->n_periods * sizeof *w->periods);
    if (w->vshares)
        opgi_free(&h->alloc, w->vshares, (size_t)w->n_periods * sizeof *w->vshares);
    if (w->has_snap)
        opgi_hyper_snap_free(h, &w->snap);
    memset(w, 0, sizeof *w);
}

static int work_new(opg_hyper *h, work *w, const opg_hyper_score *table, size_t n_table, int has_table)
{
    memset(w, 0, sizeof *w);
    const opg_registry *r = h->reg;
    size_t c = (size_t)r->node_count + 1;
    w->cap = c;
    w->n_periods = r->node_slots ? r->node_slots : 1;
    w->tg = opgi_alloc_array(&h->alloc, c, sizeof *w->tg);
    w->tg2 = opgi_alloc_array(&h->alloc, c, sizeof *w->tg2);
    w->ent = opgi_alloc_array(&h->alloc, c, sizeof *w->ent);
    w->parts = opgi_alloc_array(&h->alloc, c, sizeof *w->parts);
    w->src = opgi_alloc_array(&h->alloc, c, sizeof *w->src);
    w->dst = opgi_alloc_array(&h->alloc, c, sizeof *w->dst);
    w->slots = opgi_alloc_array(&h->alloc, 2 * c, sizeof *w->slots);
    w->periods = opgi_alloc_array(&h->alloc, w->n_periods, sizeof *w->periods);
    if (!w->tg || !w->tg2 || !w->ent || !w->parts || !w->src || !w->dst || !w->slots || !w->periods) {
        work_free(h, w);
        return OPG_ENOMEM;
    }
    memset(w->periods, 0, (size_t)w->n_periods * sizeof *w->periods);
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

static int cmp_hmv(const void *a, const void *b)
{
    const hmv *x = a, *y = b;
    int c = opg_u256_cmp(&y->rem, &x->rem);
    return c ? c : opg_id_cmp(x->op, y->op);
}

/* The position's delegations now, sorted by operator id; returns how many. */
static size_t load_current(opg_hyper *h, work *w, const opg_id *pid)
{
    const opg_registry *r = h->reg;
    size_t n = 0;
    for (uint32_t d = opgi_del_first_of(r, pid); d != OPGI_NONE; d = r->dels[d].next) {
        /* one delegation per node, and no node is created during a call */
        if (OPGI_NEVER(h->err, n >= w->cap))
            break;
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
static size_t merge_targets(opg_hyper *h, work *w, size_t nc, const opgi_htgt *tg, size_t nt)
{
    size_t n = nc;
    for (size_t i = 0; i < nt; i++) {
        hent *e = find_ent(w, nc, &tg[i].op);
        if (!e) {
            /* both are sets of distinct nodes that existed when the call started */
            if (OPGI_NEVER(h->err, n >= w->cap))
                continue;
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

/* ------------------------------------------------------------ reservation */

/* The worst case of the calls the apply phase may make. */
typedef struct budget {
    size_t moves;         /* hyper's moves */
    size_t events;        /* the sum of the event bounds of every call: the bracket,
                             and hyper's own list (a subset of the registry's) */
    size_t new_dels;      /* delegations the calls may create */
    size_t unbondings;    /* unbonding entries they may add */
    size_t redelegations; /* redelegation entries they may add */
    /* and work.periods: the F1 periods they may close on each node */
} budget;

/*
 * Reserves the budget: hyper's lists, the registry's delegations and queues, on each
 * node with periods[slot] > 0 that many F1 records plus the spare room the splitter's
 * prepare asks for (so a prepare inside the bracket never allocates), and one slash
 * record (the prepare keeps one spare), then opens the registry bracket with the
 * events total. OPG_ENOMEM leaves no bracket open and no state changed.
 */
static int reserve_and_enter(opg_hyper *h, const work *w, const budget *b)
{
    opg_registry *r = h->reg;
    opg_splitter *s = h->spl;
    int rc;
    void *items = h->moves;
    rc = opgi_grow(&h->alloc, &items, &h->cap_moves, b->moves, sizeof *h->moves);
    h->moves = items;
    if (rc)
        return opgi_fail(h->err, rc, "no memory for the moves", NULL);
    items = h->events;
    rc = opgi_grow(&h->alloc, &items, &h->cap_events, b->events, sizeof *h->events);
    h->events = items;
    if (rc)
        return opgi_fail(h->err, rc, "no memory for the events", NULL);
    if (b->new_dels > UINT32_MAX / 4)
        return opgi_fail(h->err, OPG_ENOMEM, "too many delegations to reserve", NULL);
    if ((rc = opgi_registry_reserve(r, (uint32_t)b->new_dels, b->unbondings, b->redelegations)) != OPG_OK)
        return opgi_fail(h->err, rc, "no memory in the registry", NULL);
    size_t room = opgi_splitter_hist_room(PLAN_NODES, PLAN_DELS);
    for (uint32_t slot = 0; slot < w->n_periods; slot++) {
        if (w->periods[slot] == 0)
            continue;
        /* only nodes that exist now are touched: a position's delegations and targets */
        if (OPGI_NEVER(h->err, slot >= r->node_slots || !r->nodes[slot].in_use || slot >= s->n_nodes))
            return OPG_EINVARIANT;
        f1_node *fn = &s->nodes[slot];
        if (opgi_f1_hist_reserve(s, fn, sat_add(w->periods[slot], room)) != OPG_OK ||
            opgi_f1_slash_reserve(s, fn, 1) != OPG_OK)
            return opgi_fail(h->err, OPG_ENOMEM, "no memory for the splitter's reward history", NULL);
    }
    if ((rc = opgi_call_enter(r, b->events)) != OPG_OK)
        return opgi_fail(h->err, rc, "no memory for the registry's events", NULL);
    return OPG_OK;
}

/*
 * What the calls used, checked against the budget after the apply: more than it
 * allowed means the bound reasoning above is wrong (debug builds abort), even where
 * spare capacity hid it this time. The F1 limit of a node is its record count before
 * the calls plus its budget (a call closes at most one period on it, adding at most
 * one record).
 */
typedef struct usage {
    size_t dels, unbondings, redelegations;
} usage;

static void usage_start(usage *u, opg_hyper *h, work *w)
{
    const opg_registry *r = h->reg;
    u->dels = r->del_count;
    u->unbondings = r->unbondings.len;
    u->redelegations = r->redelegations.len;
    for (uint32_t slot = 0; slot < w->n_periods; slot++)
        if (w->periods[slot])
            w->periods[slot] = sat_add(w->periods[slot], h->spl->nodes[slot].n_hist);
}

static void usage_check(opg_hyper *h, const work *w, const budget *b, const usage *u)
{
    const opg_registry *r = h->reg;
    const opg_splitter *s = h->spl;
    (void)OPGI_NEVER(h->err, h->n_moves > b->moves);
    (void)OPGI_NEVER(h->err, h->n_events > b->events || r->n_events > b->events);
    (void)OPGI_NEVER(h->err, r->del_count > sat_add(u->dels, b->new_dels));
    (void)OPGI_NEVER(h->err, r->unbondings.len > sat_add(u->unbondings, b->unbondings));
    (void)OPGI_NEVER(h->err, r->redelegations.len > sat_add(u->redelegations, b->redelegations));
    for (uint32_t slot = 0; slot < w->n_periods; slot++)
        if (w->periods[slot] && slot < s->n_nodes && s->nodes[slot].live)
            (void)OPGI_NEVER(h->err, s->nodes[slot].n_hist > w->periods[slot]);
}

/* --------------------------------------------------------------- deposit */

int opg_hyper_deposit(opg_hyper *h, const opg_id *position, const opg_u256 *amount, opg_height height,
                      opg_time now)
{
    if (!h)
        return OPG_EINVAL;
    call_begin(h);
    OPGI_CHECK_ARG(h->err, position && amount);
    opgi_hpos *p = opgi_hpos_find(h, position);
    if (!p)
        return opgi_fail(h->err, OPG_ENOTFOUND, "no such position", NULL);
    if (p->vault)
        return opgi_fail(h->err, OPG_ESTATUS, "a vault takes deposits through opg_hyper_vault_deposit", NULL);
    return opgi_hyper_deposit(h, p, amount, height, now);
}

int opgi_hyper_deposit(opg_hyper *h, opgi_hpos *p, const opg_u256 *amount, opg_height height, opg_time now)
{
    call_begin(h);
    opg_registry *r = h->reg;
    const opg_id *position = &p->id;
    if (opgi_u256_is_zero(amount))
        return opgi_fail(h->err, OPG_EZERO, "amount is zero", NULL);
    if (r->params.poa) /* the registry refuses every delegation */
        return opgi_fail(h->err, OPG_EPOA, "deposit refused",
                         "staking.poa is on: stake moves only by governance proposals");
    work w;
    int rc = work_new(h, &w, h->scores, h->n_scores, h->has_scores);
    if (rc)
        return opgi_fail(h->err, rc, NULL, NULL);
    size_t nt = 0;
    /* the policy's weights add up within range (checked when it was set) */
    if (OPGI_NEVER(h->err, opgi_hyper_targets(w.tg, &nt, h, p, &w.snap) != OPG_OK)) {
        rc = OPG_EINVARIANT;
        goto done;
    }
    if (nt == 0) {
        rc = opgi_fail(h->err, OPG_ENOTFOUND, "no node is a target of this position's policy now", NULL);
        goto done;
    }
    opgi_hyper_split(w.parts, amount, w.tg, nt);

    /* check: the registry's own checks, and the splitter's settling of existing
     * delegations; the parts go to distinct nodes, so one delegation does not change
     * what another's check found */
    budget b;
    memset(&b, 0, sizeof b);
    for (size_t i = 0; i < nt; i++) {
        if (opgi_u256_is_zero(&w.parts[i]))
            continue;
        uint32_t del = opgi_del_find(r, position, w.tg[i].slot);
        opg_dec issued;
        if ((rc = opgi_check_delegate(r, w.tg[i].slot, del, &w.parts[i], &issued)) != OPG_OK) {
            opgi_fail(h->err, rc, "the registry refuses a part of the deposit", opg_registry_last_error(r));
            goto done;
        }
        if (p->vault && (rc = opgi_hyper_guard(h, w.tg[i].slot, &w.parts[i])) != OPG_OK) {
            opgi_fail(h->err, rc, "hyper.vault_node_cap: vaults would hold more of a node than the cap",
                      NULL);
            goto done;
        }
        if (del == OPGI_NONE) {
            b.new_dels++;
        } else {
            opg_dec pending;
            if ((rc = opg_splitter_pending_rewards(&pending, h->spl, position, &w.tg[i].op, height)) != OPG_OK) {
                opgi_fail(h->err, rc, "the rewards of a delegation cannot be settled", NULL);
                goto done;
            }
        }
        b.moves++;
        b.events += opgi_events_delegate(r);
        w.periods[w.tg[i].slot]++;
    }
    opg_u256 total_after;
    if (opg_u256_add(&total_after, &p->deposited, amount) != OPG_OK) {
        rc = opgi_fail(h->err, OPG_EOVERFLOW, "the position's deposited total would overflow", NULL);
        goto done;
    }
    b.moves++; /* the payout of the rewards the delegations settle */
    if ((rc = reserve_and_enter(h, &w, &b)) != OPG_OK)
        goto done;
    usage u;
    usage_start(&u, h, &w);

    /* apply */
    opg_u256 pot = {{0, 0, 0, 0}}, delegated = {{0, 0, 0, 0}};
    for (size_t i = 0; i < nt; i++) {
        if (opgi_u256_is_zero(&w.parts[i]))
            continue;
        size_t from = r->n_events;
        rc = opg_registry_delegate(NULL, r, position, &w.tg[i].op, &w.parts[i], height, now);
        if (OPGI_NEVER(h->err, rc != OPG_OK)) {
            /* the checks above passed it; release builds hand the part back */
            add_move(h, p, OPG_HYPER_REFUND, rc, NULL, &p->owner, &w.parts[i], 0);
            continue;
        }
        harvest(h, p, from, &pot);
        add_move(h, p, OPG_HYPER_DELEGATE, 0, NULL, &w.tg[i].op, &w.parts[i], 0);
        OPGI_HYPER_EXACT(h->err, opg_u256_add(&delegated, &delegated, &w.parts[i])); /* <= amount */
    }
    opgi_call_leave(r);
    OPGI_HYPER_EXACT(h->err, opg_u256_add(&p->deposited, &p->deposited, &delegated)); /* <= total_after */
    flush_payout(h, p, &pot);
    usage_check(h, &w, &b, &u);
    rc = OPG_OK;
done:
    work_free(h, &w);
    return rc;
}

/* -------------------------------------------------------------- withdraw */

int opg_hyper_withdraw(opg_u256 *unbonded, opg_hyper *h, const opg_id *position, const opg_u256 *amount,
                       opg_height height, opg_time now)
{
    if (!h)
        return OPG_EINVAL;
    call_begin(h);
    OPGI_CHECK_ARG(h->err, position && amount);
    opgi_hpos *p = opgi_hpos_find(h, position);
    if (!p)
        return opgi_fail(h->err, OPG_ENOTFOUND, "no such position", NULL);
    if (p->vault)
        return opgi_fail(h->err, OPG_ESTATUS, "a vault pays out through opg_hyper_vault_withdraw", NULL);
    return opgi_hyper_withdraw(unbonded, h, p, amount, height, now);
}

int opgi_hyper_withdraw(opg_u256 *unbonded, opg_hyper *h, opgi_hpos *p, const opg_u256 *amount,
                        opg_height height, opg_time now)
{
    call_begin(h);
    opg_registry *r = h->reg;
    const opg_id *position = &p->id;
    if (opgi_u256_is_zero(amount))
        return opgi_fail(h->err, OPG_EZERO, "amount is zero", NULL);
    if (r->params.poa) /* the registry refuses every undelegation */
        return opgi_fail(h->err, OPG_EPOA, "withdrawal refused",
                         "staking.poa is on: stake moves only by governance proposals");
    work w;
    int rc = work_new(h, &w, h->scores, h->n_scores, h->has_scores);
    if (rc)
        return opgi_fail(h->err, rc, NULL, NULL);
    size_t nc = load_current(h, &w, position);
    opg_u256 total = {{0, 0, 0, 0}}, sum = {{0, 0, 0, 0}}, rest;
    for (size_t i = 0; i < nc; i++)
        if (opg_u256_add(&total, &total, &w.ent[i].actual) != OPG_OK) {
            rc = opgi_fail(h->err, OPG_EOVERFLOW, "the position's delegations add up beyond 2^256", NULL);
            goto done;
        }
    if (opg_u256_cmp(amount, &total) > 0) {
        rc = opgi_fail(h->err, OPG_EUNDERFLOW, "amount above the position's tokens", NULL);
        goto done;
    }
    /* pro rata: part_i = trunc(amount * tokens_i / total); the remainder to the
     * largest delegation (ties: lowest id), what it cannot take to the next one.
     * amount <= total, so every part is at most its delegation's tokens. */
    for (size_t i = 0; i < nc; i++) {
        OPGI_HYPER_EXACT(h->err, opgi_muldiv(w.parts[i].limb, 4, amount->limb, 4, w.ent[i].actual.limb, 4,
                                             total.limb, 4, OPGI_TRUNC));
        OPGI_HYPER_EXACT(h->err, opg_u256_add(&sum, &sum, &w.parts[i]));
        w.src[i].rem = w.ent[i].actual;
        w.src[i].op = &w.ent[i].op;
        w.src[i].i = i;
    }
    OPGI_HYPER_EXACT(h->err, opg_u256_sub(&rest, amount, &sum));
    qsort(w.src, nc, sizeof *w.src, cmp_hmv);
    for (size_t k = 0; k < nc && !opgi_u256_is_zero(&rest); k++) {
        size_t i = w.src[k].i;
        opg_u256 room;
        OPGI_HYPER_EXACT(h->err, opg_u256_sub(&room, &w.ent[i].actual, &w.parts[i]));
        opg_u256 take = opg_u256_cmp(&room, &rest) < 0 ? room : rest;
        OPGI_HYPER_EXACT(h->err, opg_u256_add(&w.parts[i], &w.parts[i], &take));
        OPGI_HYPER_EXACT(h->err, opg_u256_sub(&rest, &rest, &take));
    }

    /* check: the registry's refusals, by its own checks; the parts come from distinct
     * delegations on distinct nodes, so one undelegation does not change another's */
    budget b;
    memset(&b, 0, sizeof b);
    for (size_t i = 0; i < nc; i++) {
        if (opgi_u256_is_zero(&w.parts[i]))
            continue;
        uint32_t del = opgi_del_find(r, position, w.ent[i].slot);
        if (OPGI_NEVER(h->err, del == OPGI_NONE)) { /* load_current found it */
            rc = OPG_EINVARIANT;
            goto done;
        }
        opgi_unbond_plan plan;
        if ((rc = opgi_check_undelegate(r, del, &w.parts[i], now, &plan)) != OPG_OK) {
            opgi_fail(h->err, rc, "the registry refuses a part of the withdrawal", opg_registry_last_error(r));
            goto done;
        }
        opg_dec pending;
        if ((rc = opg_splitter_pending_rewards(&pending, h->spl, position, &w.ent[i].op, height)) != OPG_OK) {
            opgi_fail(h->err, rc, "the rewards of a delegation cannot be settled", NULL);
            goto done;
        }
        b.moves++;
        b.events += opgi_events_undelegate(r);
        b.unbondings++;
        w.periods[w.ent[i].slot]++;
    }
    opg_u256 total_after;
    if (opg_u256_add(&total_after, &p->withdrawn, amount) != OPG_OK) {
        rc = opgi_fail(h->err, OPG_EOVERFLOW, "the position's withdrawn total would overflow", NULL);
        goto done;
    }
    b.moves++; /* the payout of the rewards the undelegations settle */
    if ((rc = reserve_and_enter(h, &w, &b)) != OPG_OK)
        goto done;
    usage u;
    usage_start(&u, h, &w);

    /* apply */
    opg_u256 pot = {{0, 0, 0, 0}}, got_total = {{0, 0, 0, 0}};
    for (size_t i = 0; i < nc; i++) {
        if (opgi_u256_is_zero(&w.parts[i]))
            continue;
        opg_u256 got;
        opg_time completion;
        size_t from = r->n_events;
        rc = opg_registry_undelegate(&got, &completion, r, position, &w.ent[i].op, &w.parts[i], height, now);
        if (OPGI_NEVER(h->err, rc != OPG_OK))
            continue; /* the checks above passed it; release builds leave that part staked */
        harvest(h, p, from, &pot);
        add_move(h, p, OPG_HYPER_UNDELEGATE, 0, &w.ent[i].op, NULL, &got, completion);
        OPGI_HYPER_EXACT(h->err, opg_u256_add(&got_total, &got_total, &got)); /* <= amount */
    }
    opgi_call_leave(r);
    OPGI_HYPER_EXACT(h->err, opg_u256_add(&p->withdrawn, &p->withdrawn, &got_total)); /* <= total_after */
    flush_payout(h, p, &pot);
    usage_check(h, &w, &b, &u);
    if (unbonded)
        *unbonded = got_total;
    rc = OPG_OK;
done:
    work_free(h, &w);
    return rc;
}

/* ------------------------------------------------------------------ epoch */

/* ------------------------------------------------ the guard at epochs */

/* The epoch's per-node tally of the vaults' shares (w->vshares), when the guard is on
 * and some vault exists: one pass over the vaults' delegations. OPG_ENOMEM. */
static int guard_start(opg_hyper *h, work *w)
{
    const opg_registry *r = h->reg;
    int any = 0;
    for (size_t i = 0; i < h->n_pos && !any; i++)
        any = h->pos[i]->vault != NULL;
    if (!any || !opgi_hyper_guard_on(h))
        return OPG_OK;
    w->vshares = opgi_alloc_array(&h->alloc, w->n_periods, sizeof *w->vshares);
    if (!w->vshares)
        return OPG_ENOMEM;
    memset(w->vshares, 0, (size_t)w->n_periods * sizeof *w->vshares);
    for (size_t i = 0; i < h->n_pos; i++) {
        if (!h->pos[i]->vault)
            continue;
        for (uint32_t d = opgi_del_first_of(r, &h->pos[i]->id); d != OPGI_NONE; d = r->dels[d].next)
            /* the delegations' shares add up to the node's, which is a Dec */
            OPGI_HYPER_EXACT(h->err, opg_dec_add(&w->vshares[r->dels[d].node], &w->vshares[r->dels[d].node],
                                                 &r->dels[d].shares));
    }
    return OPG_OK;
}

/* Does the guard apply to p's moves into nodes in this epoch? */
static int guarded(const work *w, const opgi_hpos *p) { return w->vshares && p->vault; }

/* The shares of p's delegation on slot (0 without one). */
static opg_dec shares_on(const opg_registry *r, const opgi_hpos *p, uint32_t slot)
{
    opg_dec s = {{0, 0, 0, 0}};
    uint32_t d = opgi_del_find(r, &p->id, slot);
    if (d != OPGI_NONE)
        s = r->dels[d].shares;
    return s;
}

/* After a call of vault p changed its delegation on slot from `before` shares: the
 * tally follows. */
static void guard_track(opg_hyper *h, work *w, const opgi_hpos *p, uint32_t slot, const opg_dec *before)
{
    if (!guarded(w, p))
        return;
    opg_dec now = shares_on(h->reg, p, slot), *t = &w->vshares[slot];
    /* the tally includes `before` and, with `now`, stays within the node's shares */
    OPGI_HYPER_EXACT(h->err, opg_dec_sub(t, t, before));
    OPGI_HYPER_EXACT(h->err, opg_dec_add(t, t, &now));
}

/* Clips *amount, which vault p is about to add on the node of slot `slot` (operator
 * op), to the guard's room; what is held back is reported as an OPG_HYPER_GUARD move
 * (src: the node it stays on, zero for compounding; dst: op) and added to *held when
 * held is not NULL. Returns 1 when it clipped. */
static int guard_clip(opg_hyper *h, work *w, const opgi_hpos *p, uint32_t slot, const opg_id *src,
                      const opg_id *op, opg_u256 *amount, opg_u256 *held)
{
    if (!guarded(w, p))
        return 0;
    opg_u256 room, back;
    opgi_hyper_guard_room(&room, h, slot, &w->vshares[slot]);
    if (opg_u256_cmp(amount, &room) <= 0)
        return 0;
    OPGI_HYPER_EXACT(h->err, opg_u256_sub(&back, amount, &room));
    *amount = room;
    add_move(h, p, OPG_HYPER_GUARD, 0, src, op, &back, 0);
    if (held) /* back <= the amount taken from *held's total */
        OPGI_HYPER_EXACT(h->err, opg_u256_add(held, held, &back));
    return 1;
}

/* The most (source, destination) pairs a rebalance over m nodes, at most nt of them
 * destinations, can try: a * b with a + b <= m and b <= nt. */
static size_t rebalance_pairs(size_t m, size_t nt)
{
    size_t b = m / 2 < nt ? m / 2 : nt;
    return sat_mul(b, m - b);
}

/*
 * The worst case of one position's epoch (see epoch_position), added to *b and to
 * w->periods. The position's delegations (nc) cannot change before its turn (only its
 * own calls touch them) and its targets then are a subset of the nt found now (the
 * snapshot is the same; a FIXED node may only have been removed), so with m = the
 * nodes of both:
 *   1. nc withdrawals, each one splitter call;
 *   2. with auto-compound, at most nt delegations;
 *   3. the rebalance splits over at most m nodes into sources and destinations (a
 *      destination is a target). Each successful redelegation empties a source's
 *      surplus or a destination's deficit, and the last empties both (surplus and
 *      deficit add up the same), so at most m - 1 succeed, and while a pair is tried
 *      fewer than m - 1 have: m - 1 redelegation bounds cover every call, refused or
 *      not. Each pair is tried at most once: rebalance_pairs(m, nt) tries.
 * Moves: one per withdrawal, compounding and try, and two payouts. F1 periods: a call
 * closes one period on each node it touches (a withdrawal or delegation on its node, a
 * redelegation on both ends), and a node pairs with at most m - 1 others. New
 * delegations: only on targets without one now (m - nc).
 */
static void budget_position(opg_hyper *h, work *w, const opgi_hpos *p, budget *b)
{
    opg_registry *r = h->reg;
    size_t nt = 0;
    if (OPGI_NEVER(h->err, opgi_hyper_targets(w->tg, &nt, h, p, &w->snap) != OPG_OK))
        nt = 0; /* the policy's weights add up within range (checked when it was set) */
    size_t nc = load_current(h, w, &p->id);
    size_t compound = p->auto_compound ? nt : 0;
    for (size_t i = 0; i < nc; i++)
        w->periods[w->ent[i].slot]++;
    for (size_t i = 0; i < compound; i++)
        w->periods[w->tg[i].slot]++;
    size_t m = merge_targets(h, w, nc, w->tg, nt);
    size_t moves = nt > 0 && m > 1 ? m - 1 : 0;
    size_t tries = nt > 0 ? rebalance_pairs(m, nt) : 0;
    for (size_t i = 0; i < m; i++)
        w->periods[w->ent[i].slot] = sat_add(w->periods[w->ent[i].slot], moves);
    size_t events = sat_add(sat_mul(nc, opgi_splitter_events_withdraw(h->spl)),
                            sat_add(sat_mul(compound, opgi_events_delegate(r)),
                                    sat_mul(moves, opgi_events_redelegate(r))));
    size_t guard = p->vault ? sat_add(compound, tries) : 0; /* GUARD moves, at most one a step */
    b->moves = sat_add(b->moves, sat_add(sat_add(nc + compound + 2 + p->n_routes, tries), guard));
    b->events = sat_add(b->events, events);
    b->new_dels = sat_add(b->new_dels, m - nc);
    b->redelegations = sat_add(b->redelegations, moves);
}

/* The position's routes over the rewards in *pot (opg_hyper.h, "yield routing"). */
static void route_rewards(opg_hyper *h, opgi_hpos *p, opg_u256 *pot)
{
    const opg_u256 own = *pot;
    for (uint32_t k = 0; k < p->n_routes && !opgi_u256_is_zero(&own); k++) {
        const opg_hyper_route *x = &p->routes[k];
        opg_u256 part;
        /* share <= 1 and the shares add up to at most 1: the parts fit in own */
        OPGI_HYPER_EXACT(h->err, opgi_muldiv(part.limb, 4, own.limb, 4, x->share.limb, 4, P_L, 1, OPGI_TRUNC));
        if (opgi_u256_is_zero(&part))
            continue;
        if (x->kind == OPG_HYPER_ROUTE_COMMUNITY_POOL) {
            int rc = opg_splitter_fund_community_pool(h->spl, &part);
            if (rc != OPG_OK) {
                add_move(h, p, OPG_HYPER_SKIPPED, rc, NULL, NULL, &part, 0);
                continue;
            }
        } else if (x->kind == OPG_HYPER_ROUTE_POSITION) {
            opgi_hpos *q = opgi_hpos_find(h, &x->dst);
            /* a route's destination cannot be closed; routed-in tokens are bounded by
             * the rewards the splitter paid */
            if (OPGI_NEVER(h->err, !q))
                continue;
            OPGI_HYPER_EXACT(h->err, opg_u256_add(&q->routed_in, &q->routed_in, &part));
        }
        add_move(h, p, OPG_HYPER_ROUTE, (int)x->kind, NULL, &x->dst, &part, 0);
        OPGI_HYPER_EXACT(h->err, opg_u256_sub(pot, pot, &part));
    }
    OPGI_HYPER_EXACT(h->err, opg_u256_add(pot, pot, &p->routed_in));
    memset(&p->routed_in, 0, sizeof p->routed_in);
}

/* One position's epoch (room reserved by budget_position): nothing in it can fail; a
 * registry refusal is a SKIPPED move. */
static void epoch_position(opg_hyper *h, work *w, opgi_hpos *p, opg_height height, opg_time now)
{
    opg_registry *r = h->reg;
    size_t nt = 0;
    if (OPGI_NEVER(h->err, opgi_hyper_targets(w->tg, &nt, h, p, &w->snap) != OPG_OK))
        return;
    size_t nc = load_current(h, w, &p->id);

    /* 1. rewards of every delegation, in operator id order */
    opg_u256 pot = {{0, 0, 0, 0}};
    for (size_t i = 0; i < nc; i++) {
        size_t from = r->n_events;
        int rc = opg_splitter_withdraw_rewards(NULL, h->spl, &p->id, &w->ent[i].op, height, now);
        if (rc != OPG_OK) {
            (void)OPGI_NEVER(h->err, rc == OPG_ENOMEM); /* reserved */
            add_move(h, p, OPG_HYPER_SKIPPED, rc, &w->ent[i].op, NULL, NULL, 0);
            continue;
        }
        harvest(h, p, from, &pot);
    }

    /* routes: shares of the rewards just withdrawn go elsewhere; then what other
     * positions routed here joins them */
    route_rewards(h, p, &pot);

    /* 2. compound by the target weights; what is not compounded is paid out */
    if (p->auto_compound && nt > 0 && !opgi_u256_is_zero(&pot)) {
        opg_u256 rewards = pot;
        memset(&pot, 0, sizeof pot);
        opgi_hyper_split(w->parts, &rewards, w->tg, nt);
        for (size_t i = 0; i < nt; i++) {
            if (opgi_u256_is_zero(&w->parts[i]))
                continue;
            /* what the guard holds back is not compounded: it stays with the vault */
            guard_clip(h, w, p, w->tg[i].slot, NULL, &w->tg[i].op, &w->parts[i], &pot);
            if (opgi_u256_is_zero(&w->parts[i]))
                continue;
            opg_dec before = shares_on(r, p, w->tg[i].slot);
            size_t from = r->n_events;
            int rc = opg_registry_delegate(NULL, r, &p->id, &w->tg[i].op, &w->parts[i], height, now);
            guard_track(h, w, p, w->tg[i].slot, &before);
            if (rc != OPG_OK) {
                (void)OPGI_NEVER(h->err, rc == OPG_ENOMEM); /* reserved */
                add_move(h, p, OPG_HYPER_SKIPPED, rc, NULL, &w->tg[i].op, &w->parts[i], 0);
                OPGI_HYPER_EXACT(h->err, opg_u256_add(&pot, &pot, &w->parts[i])); /* <= rewards */
                continue;
            }
            harvest(h, p, from, &pot);
            add_move(h, p, OPG_HYPER_COMPOUND, 0, NULL, &w->tg[i].op, &w->parts[i], 0);
            OPGI_HYPER_EXACT(h->err, opg_u256_add(&p->compounded, &p->compounded, &w->parts[i]));
        }
    }
    flush_payout(h, p, &pot);

    /* 3. rebalance when some node drifted beyond the threshold */
    if (nt == 0)
        return; /* no target node: the position stays where it is */
    nc = load_current(h, w, &p->id);
    size_t n = merge_targets(h, w, nc, w->tg, nt);
    opg_u256 total = {{0, 0, 0, 0}};
    for (size_t i = 0; i < n; i++)
        if (opg_u256_add(&total, &total, &w->ent[i].actual) != OPG_OK)
            return; /* tokens beyond 2^256 (only by hand-made stake): no split can hold them */
    if (opgi_u256_is_zero(&total))
        return;
    int drifted = 0;
    for (size_t i = 0; i < n && !drifted; i++) {
        opg_dec share, diff; /* share = quo_truncate(tokens_i, total) <= 1 */
        OPGI_HYPER_EXACT(h->err, opgi_muldiv(share.limb, 4, w->ent[i].actual.limb, 4, P_L, 1, total.limb, 4,
                                             OPGI_TRUNC));
        if (opg_dec_cmp(&share, &w->ent[i].w) >= 0)
            OPGI_HYPER_EXACT(h->err, opg_dec_sub(&diff, &share, &w->ent[i].w));
        else
            OPGI_HYPER_EXACT(h->err, opg_dec_sub(&diff, &w->ent[i].w, &share));
        drifted = opg_dec_cmp(&diff, &p->threshold) > 0;
    }
    if (!drifted)
        return;
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
            OPGI_HYPER_EXACT(h->err, opg_u256_sub(&m.rem, &e->actual, &e->tgt));
            w->src[n_src++] = m;
        } else if (opg_u256_cmp(&e->tgt, &e->actual) > 0) {
            OPGI_HYPER_EXACT(h->err, opg_u256_sub(&m.rem, &e->tgt, &e->actual));
            w->dst[n_dst++] = m;
        }
    }
    qsort(w->src, n_src, sizeof *w->src, cmp_hmv);
    qsort(w->dst, n_dst, sizeof *w->dst, cmp_hmv);
    /* max_churn: the redelegated amounts add up to at most trunc(total * max_churn) */
    int churn_capped = !opgi_dec_is_zero(&p->max_churn);
    opg_u256 churn = total;
    if (churn_capped) /* max_churn <= 1 */
        OPGI_HYPER_EXACT(h->err, opgi_muldiv(churn.limb, 4, total.limb, 4, p->max_churn.limb, 4, P_L, 1,
                                             OPGI_TRUNC));
    size_t tries = 0, moves = 0; /* checked against budget_position's reasoning */
    for (size_t a = 0; a < n_src && !opgi_u256_is_zero(&churn); a++) {
        for (size_t b = 0; b < n_dst && !opgi_u256_is_zero(&w->src[a].rem) && !opgi_u256_is_zero(&churn); b++) {
            if (opgi_u256_is_zero(&w->dst[b].rem))
                continue;
            opg_u256 amt = opg_u256_cmp(&w->src[a].rem, &w->dst[b].rem) < 0 ? w->src[a].rem : w->dst[b].rem;
            if (churn_capped && opg_u256_cmp(&churn, &amt) < 0)
                amt = churn;
            const hent *s = &w->ent[w->src[a].i], *d = &w->ent[w->dst[b].i];
            /* the guard: a destination the vaults are full on takes what fits, then no more */
            int full = guard_clip(h, w, p, d->slot, &s->op, &d->op, &amt, NULL);
            if (full)
                memset(&w->dst[b].rem, 0, sizeof w->dst[b].rem);
            if (opgi_u256_is_zero(&amt))
                continue;
            const opgi_node *dn = &r->nodes[d->slot];
            int dst_live = d->slot < r->node_slots && dn->in_use && opg_id_cmp(&dn->operator_id, &d->op) == 0;
            opg_u256 before = dst_live ? dn->tokens : (opg_u256){{0, 0, 0, 0}}, moved;
            opg_time completion;
            size_t from = r->n_events;
            opg_dec src_before = shares_on(r, p, s->slot), dst_before = shares_on(r, p, d->slot);
            tries++;
            int rc = opg_registry_redelegate(&completion, r, &p->id, &s->op, &d->op, &amt, height, now);
            guard_track(h, w, p, s->slot, &src_before);
            guard_track(h, w, p, d->slot, &dst_before);
            if (rc != OPG_OK) {
                (void)OPGI_NEVER(h->err, rc == OPG_ENOMEM); /* reserved */
                add_move(h, p, OPG_HYPER_SKIPPED, rc, &s->op, &d->op, &amt, 0);
                if (rc == OPG_ETRANSITIVE || rc == OPG_EINSOLVENT || rc == OPG_ENOTFOUND ||
                    rc == OPG_EPOA)
                    break; /* the source refuses every destination (PoA: every move) */
                continue;
            }
            harvest(h, p, from, &pot);
            /* what moved: the destination's tokens grew by exactly the unbonded tokens */
            OPGI_HYPER_EXACT(h->err, opg_u256_sub(&moved, &r->nodes[d->slot].tokens, &before));
            add_move(h, p, OPG_HYPER_REDELEGATE, 0, &s->op, &d->op, &moved, completion);
            OPGI_HYPER_EXACT(h->err, opg_u256_sub(&w->src[a].rem, &w->src[a].rem, &amt));
            if (!full)
                OPGI_HYPER_EXACT(h->err, opg_u256_sub(&w->dst[b].rem, &w->dst[b].rem, &amt));
            if (churn_capped)
                OPGI_HYPER_EXACT(h->err, opg_u256_sub(&churn, &churn, &amt));
            moves++;
        }
    }
    (void)OPGI_NEVER(h->err, n_dst > nt || moves + 1 > n || tries > rebalance_pairs(n, nt));
    flush_payout(h, p, &pot);
}

/* ------------------------------------------------------ host strategies */

/* One HOST position's answer: the weights to use (taken) or the code of the refusal.
 * After the swap, w holds the weights it replaced. */
typedef struct staged {
    opgi_hpos *p;
    opg_hyper_weight *w;
    uint32_t n;
    int code;
} staged;

static int cmp_hweight(const void *a, const void *b)
{
    return opg_id_cmp(&((const opg_hyper_weight *)a)->node, &((const opg_hyper_weight *)b)->node);
}

/* The checks of a strategy's answer (sorted in place by node). */
static int strategy_check(const opg_hyper *h, const opgi_hpos *p, opg_hyper_weight *wt, size_t n, int rc)
{
    if (rc != OPG_OK)
        return rc < 0 ? rc : OPG_EINVAL;
    if (n == 0 || n > p->max_nodes)
        return OPG_EINVAL;
    qsort(wt, n, sizeof *wt, cmp_hweight);
    opg_dec sum = {{0, 0, 0, 0}}, one;
    opg_dec_from_u64(&one, 1);
    for (size_t i = 0; i < n; i++) {
        if (opgi_dec_is_zero(&wt[i].weight) || (i && opg_id_cmp(&wt[i - 1].node, &wt[i].node) == 0) ||
            opg_dec_add(&sum, &sum, &wt[i].weight) != OPG_OK)
            return OPG_EINVAL;
        uint32_t s = opgi_node_find(h->reg, &wt[i].node);
        if (s == OPGI_NONE)
            return OPG_ENOTFOUND;
        if (!opgi_hyper_eligible(h->reg, s, &p->max_commission))
            return OPG_ESTATUS;
    }
    return opg_dec_cmp(&sum, &one) == 0 ? OPG_OK : OPG_EINVAL;
}

static void staged_free(opg_hyper *h, staged *st, size_t n)
{
    for (size_t i = 0; i < n; i++)
        opgi_free(&h->alloc, st[i].w, (size_t)st[i].n * sizeof *st[i].w);
    opgi_free(&h->alloc, st, n * sizeof *st);
}

/* Asks the callback for every HOST position and keeps the answers taken. */
static int strategy_stage(opg_hyper *h, staged **out, size_t *n_out, opg_height height)
{
    *out = NULL;
    *n_out = 0;
    if (!h->strategy)
        return OPG_OK;
    size_t nh = 0;
    for (size_t i = 0; i < h->n_pos; i++)
        nh += h->pos[i]->kind == OPG_HYPER_HOST;
    if (nh == 0)
        return OPG_OK;
    staged *st = opgi_alloc_array(&h->alloc, nh, sizeof *st);
    if (!st)
        return opgi_fail(h->err, OPG_ENOMEM, "no memory for the strategies' answers", NULL);
    memset(st, 0, nh * sizeof *st);
    size_t k = 0;
    for (size_t i = 0; i < h->n_pos; i++) {
        opgi_hpos *p = h->pos[i];
        if (p->kind != OPG_HYPER_HOST)
            continue;
        staged *x = &st[k++];
        x->p = p;
        opg_hyper_weight *buf = opgi_alloc_array(&h->alloc, p->max_nodes, sizeof *buf);
        if (!buf) {
            staged_free(h, st, nh);
            return opgi_fail(h->err, OPG_ENOMEM, "no memory for the strategies' answers", NULL);
        }
        memset(buf, 0, (size_t)p->max_nodes * sizeof *buf);
        size_t count = 0;
        int rc = h->strategy(buf, p->max_nodes, &count, h->strategy_user, &p->id, height);
        x->code = strategy_check(h, p, buf, count, rc);
        if (x->code != OPG_OK) {
            opgi_free(&h->alloc, buf, (size_t)p->max_nodes * sizeof *buf);
            continue;
        }
        opg_hyper_weight *fit = opgi_realloc(&h->alloc, buf, (size_t)p->max_nodes * sizeof *buf, count * sizeof *buf);
        if (!fit) {
            opgi_free(&h->alloc, buf, (size_t)p->max_nodes * sizeof *buf);
            staged_free(h, st, nh);
            return opgi_fail(h->err, OPG_ENOMEM, "no memory for the strategies' answers", NULL);
        }
        x->w = fit;
        x->n = (uint32_t)count;
    }
    *out = st;
    *n_out = nh;
    return OPG_OK;
}

/* Swaps the taken answers with the positions' weights (twice: back again). */
static void strategy_swap(staged *st, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (st[i].code != OPG_OK)
            continue;
        opg_hyper_weight *w = st[i].p->weights;
        uint32_t c = st[i].p->n_weights;
        st[i].p->weights = st[i].w;
        st[i].p->n_weights = st[i].n;
        st[i].w = w;
        st[i].n = c;
    }
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
        return opgi_fail(h->err, OPG_ENOMEM, "too many scores", NULL);
    opg_hyper_score *t = opgi_alloc_array(&h->alloc, n ? n : 1, sizeof *t);
    if (!t)
        return opgi_fail(h->err, OPG_ENOMEM, "no memory for the scores", NULL);
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
        return opgi_fail(h->err, OPG_ENOMEM, "no memory for the scores", NULL);
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
    if (positions_done)
        *positions_done = 0;
    if (!h)
        return OPG_EINVAL;
    call_begin(h);
    opg_hyper_score *table = h->scores;
    size_t n_table = h->n_scores;
    int rc;
    if (scores && (rc = build_scores(h, scores, n_scores, &table, &n_table)) != OPG_OK)
        return rc;
    staged *st = NULL;
    size_t n_st = 0;
    if ((rc = strategy_stage(h, &st, &n_st, height)) != OPG_OK)
        goto fail;
    strategy_swap(st, n_st); /* the answers taken are the targets from here on */
    work w;
    if ((rc = work_new(h, &w, table, n_table, scores ? 1 : h->has_scores)) != OPG_OK) {
        opgi_fail(h->err, rc, "no memory for the epoch's workspace", NULL);
        goto fail_staged;
    }
    if ((rc = guard_start(h, &w)) != OPG_OK) {
        opgi_fail(h->err, rc, "no memory for the epoch's workspace", NULL);
        work_free(h, &w);
        goto fail_staged;
    }

    /* check and reserve for every position first: nothing below can then fail */
    budget b;
    memset(&b, 0, sizeof b);
    for (size_t i = 0; i < h->n_pos; i++)
        budget_position(h, &w, h->pos[i], &b);
    b.moves = sat_add(b.moves, n_st); /* the strategies' reports */
    if ((rc = opgi_hyper_reports_reserve(h)) != OPG_OK) {
        work_free(h, &w);
        goto fail_staged;
    }
    if ((rc = reserve_and_enter(h, &w, &b)) != OPG_OK) {
        work_free(h, &w);
        goto fail_staged;
    }

    usage u;
    usage_start(&u, h, &w);

    /* apply */
    for (size_t i = 0; i < n_st; i++)
        add_move(h, st[i].p, OPG_HYPER_STRATEGY, st[i].code, NULL, NULL, NULL, 0);
    staged_free(h, st, n_st); /* the weights the answers replaced */
    for (size_t i = 0; i < h->n_pos; i++)
        epoch_position(h, &w, h->pos[i], height, now);
    opgi_call_leave(h->reg);
    usage_check(h, &w, &b, &u);
    if (scores) {
        opgi_free(&h->alloc, h->scores, (h->n_scores ? h->n_scores : 1) * sizeof *h->scores);
        h->scores = table;
        h->n_scores = n_table;
        h->has_scores = 1;
    }
    work_free(h, &w);
    opgi_hyper_vault_absorb(h);
    opgi_hyper_reports_fill(h, height);
    if (positions_done)
        *positions_done = h->n_pos;
    return OPG_OK;
fail_staged:
    strategy_swap(st, n_st);
    staged_free(h, st, n_st);
fail:
    if (scores)
        opgi_free(&h->alloc, table, (n_table ? n_table : 1) * sizeof *table);
    return rc;
}
