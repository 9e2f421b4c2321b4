/*
 * tally_action.c - governance actions (tally_internal.h): the table of action kinds
 * and the mechanism end_block drives, with the registry's two kinds,
 * ADD_VALIDATOR (node_create by governance, its self-stake minted) and
 * REMOVE_VALIDATOR (the self-stake taken and burned, the node jailed), and the
 * slasher's CANCEL_SLASH (opg_slasher_cancel_deferred by governance).
 */
#include "tally_internal.h"

#include "codec.h"
#include "num.h"
#include "params.h"
#include "slasher_internal.h"

/* ------------------------------------------------------- ADD_VALIDATOR data */

/* operator, consensus key, roles u32, rate, max_rate, max_change_rate (decimals),
 * min_self_delegation, self_delegation (amounts) */
#define ADD_DATA_LEN (32 + 32 + 4 + 3 * 32 + 2 * 32)

static void add_decode(opg_node_create *c, const uint8_t *data)
{
    opgi_reader rd;
    opgi_reader_init(&rd, data, ADD_DATA_LEN);
    memset(c, 0, sizeof *c);
    opgi_r_id(&rd, &c->operator_id);
    opgi_r_id(&rd, &c->consensus_key);
    c->roles = opgi_r_u32(&rd);
    opgi_r_dec(&rd, &c->commission_rate);
    opgi_r_dec(&rd, &c->commission_max_rate);
    opgi_r_dec(&rd, &c->commission_max_change_rate);
    opgi_r_u256(&rd, &c->min_self_delegation);
    opgi_r_u256(&rd, &c->self_delegation);
}

/* What node_create decides without looking at the registry. */
static int add_shape(const opg_node_create *c, char *err)
{
    opg_dec one;
    opg_dec_from_u64(&one, 1);
    if (c->roles == 0 || (c->roles & ~OPG_ROLE_ALL))
        return opgi_fail(err, OPG_EINVAL, "roles must be a non-empty set of OPG_ROLE_* bits", NULL);
    if (opgi_consensus_key_check(&c->consensus_key) != OPG_OK)
        return opgi_fail(err, OPG_EINVAL,
                         "consensus key is not a canonical Ed25519 point of prime order", NULL);
    if (opg_dec_cmp(&c->commission_max_rate, &one) > 0 ||
        opg_dec_cmp(&c->commission_rate, &c->commission_max_rate) > 0 ||
        opg_dec_cmp(&c->commission_max_change_rate, &c->commission_max_rate) > 0)
        return opgi_fail(err, OPG_EINVAL,
                         "commission: max_rate <= 1, rate and max_change_rate <= max_rate", NULL);
    if (opgi_u256_is_zero(&c->min_self_delegation) ||
        opg_u256_cmp(&c->self_delegation, &c->min_self_delegation) < 0)
        return opgi_fail(err, OPG_EINVAL,
                         "min_self_delegation > 0 and self_delegation >= it", NULL);
    return OPG_OK;
}

static int add_encode(uint8_t *data, const opg_proposal_submit *s, char *err)
{
    const opg_node_create *c = s->validator;
    if (!c)
        return opgi_fail(err, OPG_EINVAL, "an ADD_VALIDATOR proposal needs its validator", NULL);
    int rc = add_shape(c, err);
    if (rc)
        return rc;
    opgi_writer w;
    opgi_writer_buffer(&w, data, ADD_DATA_LEN);
    opgi_w_id(&w, &c->operator_id);
    opgi_w_id(&w, &c->consensus_key);
    opgi_w_u32(&w, c->roles);
    opgi_w_dec(&w, &c->commission_rate);
    opgi_w_dec(&w, &c->commission_max_rate);
    opgi_w_dec(&w, &c->commission_max_change_rate);
    opgi_w_u256(&w, &c->min_self_delegation);
    opgi_w_u256(&w, &c->self_delegation);
    size_t len = 0;
    if (OPGI_NEVER(err, opgi_writer_finish(&w, &len) != OPG_OK || len != ADD_DATA_LEN))
        return OPG_EINVARIANT;
    return OPG_OK;
}

static int add_data_ok(const uint8_t *data)
{
    opg_node_create c;
    char err[OPGI_ERRMSG_MAX];
    add_decode(&c, data);
    return add_shape(&c, err) == OPG_OK;
}

static void add_info(opg_proposal_action *out, const uint8_t *data)
{
    add_decode(&out->validator, data);
}

/* ---------------------------------------------------- REMOVE_VALIDATOR data */

#define REMOVE_DATA_LEN 32

static int remove_encode(uint8_t *data, const opg_proposal_submit *s, char *err)
{
    if (!s->operator_id)
        return opgi_fail(err, OPG_EINVAL, "a REMOVE_VALIDATOR proposal needs its operator_id", NULL);
    memcpy(data, s->operator_id->bytes, 32);
    return OPG_OK;
}

static int remove_data_ok(const uint8_t *data)
{
    (void)data;
    return 1;
}

static void remove_info(opg_proposal_action *out, const uint8_t *data)
{
    memcpy(out->operator_id.bytes, data, 32);
}

/* ------------------------------------------------------ CANCEL_SLASH data */

/* slash id u64, fraction (decimal) */
#define CANCEL_DATA_LEN (8 + 32)

static void cancel_decode(uint64_t *id, opg_dec *fraction, const uint8_t *data)
{
    opgi_reader rd;
    opgi_reader_init(&rd, data, CANCEL_DATA_LEN);
    *id = opgi_r_u64(&rd);
    opgi_r_dec(&rd, fraction);
}

/* A fraction in (0, 1]; the slasher's check says the same, this is submit's shape. */
static int cancel_fraction_ok(const opg_dec *f)
{
    opg_dec one;
    opg_dec_from_u64(&one, 1);
    return !opgi_dec_is_zero(f) && opg_dec_cmp(f, &one) <= 0;
}

static int cancel_encode(uint8_t *data, const opg_proposal_submit *s, char *err)
{
    if (!cancel_fraction_ok(&s->cancel_fraction))
        return opgi_fail(err, OPG_EINVAL, "a CANCEL_SLASH proposal's fraction must be in (0, 1]",
                         NULL);
    opgi_writer w;
    opgi_writer_buffer(&w, data, CANCEL_DATA_LEN);
    opgi_w_u64(&w, s->slash_id);
    opgi_w_dec(&w, &s->cancel_fraction);
    size_t len = 0;
    if (OPGI_NEVER(err, opgi_writer_finish(&w, &len) != OPG_OK || len != CANCEL_DATA_LEN))
        return OPG_EINVARIANT;
    return OPG_OK;
}

static int cancel_data_ok(const uint8_t *data)
{
    uint64_t id;
    opg_dec f;
    cancel_decode(&id, &f, data);
    return cancel_fraction_ok(&f);
}

static void cancel_info(opg_proposal_action *out, const uint8_t *data)
{
    cancel_decode(&out->slash_id, &out->cancel_fraction, data);
}

/* -------------------------------------------------- the registry's actions */

static int add_stage(opgi_actions *ax, opgi_staged_action *st, char *err)
{
    opg_registry *r = ax->t->reg;
    opg_node_create *c = &st->u.add.c;
    add_decode(c, st->data);
    const opg_registry_params *rp = opgi_param_txn_view(ax->x, &opgi_registry_param_ns, r);
    if (!rp)
        rp = &r->params;
    int rc = opgi_check_node_create(err, r, c, &rp->min_commission_rate, &st->u.add.shares);
    if (rc)
        return rc;
    opg_id addr;
    opgi_consensus_address(&addr, &c->consensus_key);
    for (size_t i = 0; i < ax->n; i++) {
        const opgi_staged_action *e = &ax->st[i];
        if (e->kind->kind != OPG_PROPOSAL_ADD_VALIDATOR)
            continue;
        const opg_node_create *o = &e->u.add.c;
        if (opg_id_cmp(&o->operator_id, &c->operator_id) == 0)
            return opgi_fail(err, OPG_EEXISTS,
                             "operator id added by an earlier proposal of this end_block", NULL);
        opg_id oaddr;
        opgi_consensus_address(&oaddr, &o->consensus_key);
        if (opg_id_cmp(&o->consensus_key, &c->consensus_key) == 0 || opg_id_cmp(&oaddr, &addr) == 0)
            return opgi_fail(err, OPG_EEXISTS,
                             "consensus key added by an earlier proposal of this end_block", NULL);
    }
    opg_u256 total;
    if (opg_u256_add(&total, &ax->minted, &c->self_delegation) != OPG_OK ||
        opgi_ledger_mint_check(r, &total) != OPG_OK)
        return opgi_fail(err, OPG_EOVERFLOW, "the supply would overflow with this self-delegation",
                         NULL);
    ax->minted = total;
    return OPG_OK;
}

static int remove_stage(opgi_actions *ax, opgi_staged_action *st, char *err)
{
    opg_registry *r = ax->t->reg;
    memcpy(st->u.remove.operator_id.bytes, st->data, 32);
    const opg_id *op = &st->u.remove.operator_id;
    for (size_t i = 0; i < ax->n; i++) {
        const opgi_staged_action *e = &ax->st[i];
        if (e->kind->kind == OPG_PROPOSAL_REMOVE_VALIDATOR &&
            opg_id_cmp(&e->u.remove.operator_id, op) == 0)
            return opgi_fail(err, OPG_ENOTFOUND,
                             "an earlier proposal of this end_block removes this self-delegation",
                             NULL);
    }
    uint32_t del;
    int rc = opgi_check_gov_remove(err, r, op, &del, &st->u.remove.plan);
    if (rc)
        return rc;
    uint32_t node = r->dels[del].node;
    st->u.remove.node = node;
    /* the tallies after it: the node is jailed (out of the voting set) and, bonded,
     * its self-stake leaves the bonded total */
    if (r->nodes[node].status == OPG_NODE_BONDED) {
        st->leaves_set = node;
        st->bonded_less = st->u.remove.plan.tokens;
    }
    return OPG_OK;
}

/* One reserve for both kinds: the registry sees all of them at once. */
static int registry_reserve(opgi_actions *ax, char *err)
{
    opg_registry *r = ax->t->reg;
    const opg_allocator *a = &ax->t->alloc;
    size_t n_add = 0, n_rem = 0;
    for (size_t i = 0; i < ax->n; i++) {
        if (ax->st[i].kind->kind == OPG_PROPOSAL_ADD_VALIDATOR)
            n_add++;
        else if (ax->st[i].kind->kind == OPG_PROPOSAL_REMOVE_VALIDATOR)
            n_rem++;
    }
    size_t na = n_add ? n_add : 1, nr = n_rem ? n_rem : 1;
    uint32_t *slots = opgi_alloc_array(a, na, sizeof *slots);
    uint32_t *dels = opgi_alloc_array(a, nr, sizeof *dels);
    opgi_unbond_plan *plans = opgi_alloc_array(a, nr, sizeof *plans);
    int rc = OPG_ENOMEM;
    if (slots && dels && plans) {
        size_t k = 0;
        for (size_t i = 0; i < ax->n; i++) {
            const opgi_staged_action *st = &ax->st[i];
            if (st->kind->kind != OPG_PROPOSAL_REMOVE_VALIDATOR)
                continue;
            dels[k] = opgi_del_find(r, &st->u.remove.operator_id, st->u.remove.node);
            plans[k++] = st->u.remove.plan;
        }
        rc = opgi_gov_reserve(err, r, slots, n_add, dels, plans, n_rem);
        if (rc == OPG_OK) {
            ax->reg_bracket = 1;
            k = 0;
            for (size_t i = 0; i < ax->n; i++)
                if (ax->st[i].kind->kind == OPG_PROPOSAL_ADD_VALIDATOR)
                    ax->st[i].u.add.slot = slots[k++];
        }
    } else {
        opgi_fail(err, OPG_ENOMEM, NULL, NULL);
    }
    opgi_free(a, slots, na * sizeof *slots);
    opgi_free(a, dels, nr * sizeof *dels);
    opgi_free(a, plans, nr * sizeof *plans);
    return rc;
}

static void registry_end(opgi_actions *ax, int applied)
{
    (void)applied;
    if (ax->reg_bracket)
        opgi_call_leave(ax->t->reg);
    ax->reg_bracket = 0;
}

static void add_apply(opgi_actions *ax, opgi_staged_action *st)
{
    opg_registry *r = ax->t->reg;
    opgi_apply_node_create(r, &st->u.add.c, st->u.add.slot, &st->u.add.shares, ax->now);
    opgi_ledger_mint(r, &st->u.add.c.self_delegation);
}

static void remove_apply(opgi_actions *ax, opgi_staged_action *st)
{
    opg_registry *r = ax->t->reg;
    /* the node and its self-delegation are as stage found them: the actions before
     * it add other nodes or take other nodes' self-stake */
    uint32_t del = opgi_del_find(r, &st->u.remove.operator_id, st->u.remove.node);
    if (OPGI_NEVER(ax->t->err, del == OPGI_NONE))
        return;
    opgi_apply_gov_remove(r, del, &st->u.remove.plan);
    opgi_ledger_burn(r, &st->u.remove.plan.tokens);
}

/* --------------------------------------------------- the slasher's actions */

/* The slasher's check sees each cancel staged before it: a whole one of the same
 * slash refuses (it is gone), partial ones compose in order. */
static int cancel_stage(opgi_actions *ax, opgi_staged_action *st, char *err)
{
    opgi_param_ref to = opgi_tally_resolve(ax->t, "slashing.defer_duration");
    if (to.ns != &opgi_slasher_param_ns || !to.h)
        return opgi_fail(err, OPG_EKEY, "no slasher attached to the tally", NULL);
    opg_slasher *s = to.h;
    uint64_t id = 0;
    cancel_decode(&id, &st->u.cancel.fraction, st->data);
    st->u.cancel.slash_id = id;
    int rc = opgi_slasher_cancel_check(s, id, &st->u.cancel.fraction, NULL, 0, err);
    for (size_t i = 0; rc == OPG_OK && i < ax->n; i++) {
        const opgi_staged_action *e = &ax->st[i];
        if (e->kind->kind != OPG_PROPOSAL_CANCEL_SLASH || e->u.cancel.slash_id != id)
            continue;
        opgi_cancel_staged before = {e->u.cancel.slash_id, e->u.cancel.fraction};
        rc = opgi_slasher_cancel_check(s, id, &st->u.cancel.fraction, &before, 1, err);
    }
    if (rc == OPG_OK)
        ax->slasher = s; /* one slasher: the tally's attachment does not change here */
    return rc;
}

static int slasher_reserve(opgi_actions *ax, char *err)
{
    size_t n = 0;
    for (size_t i = 0; i < ax->n; i++)
        n += ax->st[i].kind->kind == OPG_PROPOSAL_CANCEL_SLASH;
    if (opgi_slasher_cancel_reserve(ax->slasher, n) != OPG_OK)
        return opgi_fail(err, OPG_ENOMEM, NULL, NULL);
    return OPG_OK;
}

static void cancel_apply(opgi_actions *ax, opgi_staged_action *st)
{
    opgi_slasher_cancel_apply(ax->slasher, st->u.cancel.slash_id, &st->u.cancel.fraction);
}

/* ---------------------------------------------------------------- the table */

static const opgi_action_kind KINDS[] = {
    {OPG_PROPOSAL_ADD_VALIDATOR, ADD_DATA_LEN, add_encode, add_data_ok, add_info, add_stage,
     registry_reserve, add_apply, registry_end},
    {OPG_PROPOSAL_REMOVE_VALIDATOR, REMOVE_DATA_LEN, remove_encode, remove_data_ok, remove_info,
     remove_stage, registry_reserve, remove_apply, registry_end},
    {OPG_PROPOSAL_CANCEL_SLASH, CANCEL_DATA_LEN, cancel_encode, cancel_data_ok, cancel_info,
     cancel_stage, slasher_reserve, cancel_apply, NULL},
};

const opgi_action_kind *opgi_action_find(unsigned kind)
{
    for (size_t i = 0; i < OPGI_ARRAY_LEN(KINDS); i++)
        if (KINDS[i].kind == kind)
            return &KINDS[i];
    return NULL;
}

const uint8_t *opgi_tprop_action_data(const opgi_tprop *p)
{
    return p->blob + p->title_len + p->summary_len;
}

/* -------------------------------------------------------------- mechanism */

int opgi_actions_begin(opgi_actions *ax, opg_tally *t, size_t cap, opg_height height,
                       opg_time now)
{
    memset(ax, 0, sizeof *ax);
    ax->t = t;
    ax->height = height;
    ax->now = now;
    if (cap == 0)
        return OPG_OK;
    ax->st = opgi_alloc_array(&t->alloc, cap, sizeof *ax->st);
    if (!ax->st)
        return OPG_ENOMEM;
    ax->cap = cap;
    /* the registry's hooks run at the end_block's height and time (not state) */
    t->reg->cur_height = height;
    t->reg->cur_time = now;
    return OPG_OK;
}

int opgi_actions_stage(opgi_actions *ax, const opgi_param_txn *x, const opgi_tprop *p,
                       const opgi_action_kind *k, char *err)
{
    if (OPGI_NEVER(err, ax->n >= ax->cap))
        return OPG_EINVARIANT; /* begin counted every action proposal that closes */
    opgi_staged_action *st = &ax->st[ax->n];
    memset(st, 0, sizeof *st);
    st->kind = k;
    st->p = p;
    st->data = opgi_tprop_action_data(p);
    st->leaves_set = OPGI_NONE;
    ax->x = x;
    int rc = k->stage(ax, st, err);
    if (rc == OPG_OK)
        ax->n++;
    return rc;
}

int opgi_actions_reserve(opgi_actions *ax, char *err)
{
    for (size_t i = 0; i < ax->n; i++) {
        const opgi_action_kind *k = ax->st[i].kind;
        int seen = 0;
        for (size_t j = 0; j < ax->n_reserved && !seen; j++)
            seen = ax->reserved[j]->reserve == k->reserve;
        if (seen)
            continue;
        if (OPGI_NEVER(err, ax->n_reserved >= OPGI_ARRAY_LEN(ax->reserved)))
            return OPG_EINVARIANT;
        int rc = k->reserve(ax, err);
        if (rc)
            return rc;
        ax->reserved[ax->n_reserved++] = k;
    }
    return OPG_OK;
}

void opgi_actions_apply(opgi_actions *ax)
{
    for (size_t i = 0; i < ax->n; i++)
        ax->st[i].kind->apply(ax, &ax->st[i]);
    for (size_t j = 0; j < ax->n_reserved; j++)
        if (ax->reserved[j]->end)
            ax->reserved[j]->end(ax, 1);
    ax->n_reserved = 0;
}

void opgi_actions_end(opgi_actions *ax)
{
    for (size_t j = 0; j < ax->n_reserved; j++)
        if (ax->reserved[j]->end)
            ax->reserved[j]->end(ax, 0);
    ax->n_reserved = 0;
    if (ax->st)
        opgi_free(&ax->t->alloc, ax->st, ax->cap * sizeof *ax->st);
    ax->st = NULL;
    ax->n = ax->cap = 0;
}
