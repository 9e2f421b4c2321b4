/*
 * hyper_state.c - the hyperstaking handle's canonical saved form and state hash.
 *
 * Version 1 layout (integers big-endian, amounts and decimals 32 bytes):
 *   header "OPGS" kind=6 version=1
 *   params: max_positions_per_owner u32, max_nodes u32
 *   scores: has_scores u8, count u32, then (operator id, score) by operator id
 *   positions: count u32, then in id order: id, owner, kind u8, auto_compound u8,
 *     max_nodes u32, max_commission, cap, threshold, created_height u64, deposited,
 *     withdrawn, compounded, paid_out, weight count u32, (node id, weight) by node id
 * Version 2 adds (a version 1 state is refused with OPG_EVERSION):
 *   params: vault_node_cap, vault_decimals_offset u32 (after max_nodes)
 *   per position, after its weights: max_churn, routed_in, route count u32, then
 *     (kind u8, dst, share); is_vault u8; a vault then has decimals offset
 *     u32, supply, idle, queued, claimable, holder count u32, then by account:
 *     account, shares, claimable, pending claims u32
 *   after the positions: next claim id u64, claim count u32, then by (completion, id):
 *     id u64, vault, holder, completion i64, fixed, nominal, part count u32, then
 *     (node, completion i64, amount)
 * The owners index is derived on load. The delegations are the registry's state.
 */
#include "hyper_internal.h"

#include "codec.h"

#define HYPER_VERSION 2

static void encode(opgi_writer *w, const void *state)
{
    const opg_hyper *h = state;
    opgi_w_header(w, OPGI_KIND_HYPER, HYPER_VERSION);
    opgi_w_u32(w, h->params.max_positions_per_owner);
    opgi_w_u32(w, h->params.max_nodes);
    opgi_w_dec(w, &h->params.vault_node_cap);
    opgi_w_u32(w, h->params.vault_decimals_offset);
    opgi_w_u8(w, (uint8_t)(h->has_scores ? 1 : 0));
    opgi_w_u32(w, (uint32_t)(h->has_scores ? h->n_scores : 0));
    for (size_t i = 0; h->has_scores && i < h->n_scores; i++) {
        opgi_w_id(w, &h->scores[i].node);
        opgi_w_dec(w, &h->scores[i].score);
    }
    opgi_w_u32(w, (uint32_t)h->n_pos);
    for (size_t i = 0; i < h->n_pos; i++) {
        const opgi_hpos *p = h->pos[i];
        opgi_w_id(w, &p->id);
        opgi_w_id(w, &p->owner);
        opgi_w_u8(w, p->kind);
        opgi_w_u8(w, p->auto_compound);
        opgi_w_u32(w, p->max_nodes);
        opgi_w_dec(w, &p->max_commission);
        opgi_w_dec(w, &p->cap);
        opgi_w_dec(w, &p->threshold);
        opgi_w_u64(w, p->created_height);
        opgi_w_u256(w, &p->deposited);
        opgi_w_u256(w, &p->withdrawn);
        opgi_w_u256(w, &p->compounded);
        opgi_w_u256(w, &p->paid_out);
        opgi_w_u32(w, p->n_weights);
        for (uint32_t k = 0; k < p->n_weights; k++) {
            opgi_w_id(w, &p->weights[k].node);
            opgi_w_dec(w, &p->weights[k].weight);
        }
        opgi_w_dec(w, &p->max_churn);
        opgi_w_u256(w, &p->routed_in);
        opgi_w_u32(w, p->n_routes);
        for (uint32_t k = 0; k < p->n_routes; k++) {
            opgi_w_u8(w, (uint8_t)p->routes[k].kind);
            opgi_w_id(w, &p->routes[k].dst);
            opgi_w_dec(w, &p->routes[k].share);
        }
        const opgi_hvault *v = p->vault;
        opgi_w_u8(w, v ? 1 : 0);
        if (!v)
            continue;
        opgi_w_u32(w, v->offset);
        opgi_w_u256(w, &v->supply);
        opgi_w_u256(w, &v->idle);
        opgi_w_u256(w, &v->queued);
        opgi_w_u256(w, &v->claimable);
        opgi_w_u32(w, (uint32_t)v->n_holders);
        for (size_t k = 0; k < v->n_holders; k++) {
            opgi_w_id(w, &v->holders[k].acct);
            opgi_w_u256(w, &v->holders[k].shares);
            opgi_w_u256(w, &v->holders[k].claimable);
            opgi_w_u32(w, v->holders[k].n_pending);
        }
    }
    opgi_w_u64(w, h->next_claim);
    opgi_w_u32(w, (uint32_t)h->n_claims);
    for (size_t i = 0; i < h->n_claims; i++) {
        const opgi_hclaim *c = &h->claims[i];
        opgi_w_u64(w, c->id);
        opgi_w_id(w, &c->vault);
        opgi_w_id(w, &c->holder);
        opgi_w_u64(w, (uint64_t)c->completion);
        opgi_w_u256(w, &c->fixed);
        opgi_w_u256(w, &c->nominal);
        opgi_w_u32(w, c->n_parts);
        for (uint32_t k = 0; k < c->n_parts; k++) {
            opgi_w_id(w, &c->parts[k].node);
            opgi_w_u64(w, (uint64_t)c->parts[k].completion);
            opgi_w_u256(w, &c->parts[k].amount);
        }
    }
}

int opg_hyper_save(uint8_t *buf, size_t cap, size_t *len, const opg_hyper *h)
{
    if (!h || (!buf && cap))
        return OPG_EINVAL;
    return opgi_save(buf, cap, len, encode, h);
}

int opg_hyper_state_hash(uint8_t out[32], const opg_hyper *h)
{
    if (!out || !h)
        return OPG_EINVAL;
    opgi_state_hash(out, OPGI_KIND_HYPER, encode, h);
    return OPG_OK;
}

/* A vault's ledger; the sums are checked against the holders. */
static int load_vault(opg_hyper *h, opgi_reader *rd, opgi_hvault **out)
{
    opgi_hvault *v = opgi_alloc(&h->alloc, sizeof *v);
    if (!v)
        return OPG_ENOMEM;
    memset(v, 0, sizeof *v);
    v->offset = opgi_r_u32(rd);
    opgi_r_u256(rd, &v->supply);
    opgi_r_u256(rd, &v->idle);
    opgi_r_u256(rd, &v->queued);
    opgi_r_u256(rd, &v->claimable);
    uint32_t n = opgi_r_count(rd, 32 + 32 + 32 + 4);
    if (rd->bad || v->offset > 18) {
        opgi_free(&h->alloc, v, sizeof *v);
        return OPG_ECORRUPT;
    }
    if (n) {
        v->holders = opgi_alloc_array(&h->alloc, n, sizeof *v->holders);
        if (!v->holders) {
            opgi_free(&h->alloc, v, sizeof *v);
            return OPG_ENOMEM;
        }
        v->cap_holders = n;
    }
    opg_u256 shares = {{0, 0, 0, 0}}, claimable = {{0, 0, 0, 0}};
    int bad = 0;
    for (uint32_t k = 0; k < n && !rd->bad; k++) {
        opgi_hholder *x = &v->holders[k];
        opgi_r_id(rd, &x->acct);
        opgi_r_u256(rd, &x->shares);
        opgi_r_u256(rd, &x->claimable);
        x->n_pending = opgi_r_u32(rd);
        v->n_holders++;
        if ((k && opg_id_cmp(&v->holders[k - 1].acct, &x->acct) >= 0) ||
            (opg_u256_is_zero(&x->shares) && opg_u256_is_zero(&x->claimable) && !x->n_pending) ||
            opg_u256_add(&shares, &shares, &x->shares) != OPG_OK ||
            opg_u256_add(&claimable, &claimable, &x->claimable) != OPG_OK)
            bad = 1;
    }
    if (rd->bad || bad || opg_u256_cmp(&shares, &v->supply) || opg_u256_cmp(&claimable, &v->claimable)) {
        opgi_hvault_free(h, v);
        return OPG_ECORRUPT;
    }
    *out = v;
    return OPG_OK;
}

static int load_claims(opg_hyper *h, opgi_reader *rd)
{
    h->next_claim = opgi_r_u64(rd);
    uint32_t n = opgi_r_count(rd, 8 + 32 + 32 + 8 + 32 + 32 + 4);
    if (rd->bad)
        return OPG_ECORRUPT;
    if (n) {
        h->claims = opgi_alloc_array(&h->alloc, n, sizeof *h->claims);
        if (!h->claims)
            return OPG_ENOMEM;
        h->cap_claims = n;
    }
    for (uint32_t i = 0; i < n; i++) {
        opgi_hclaim *c = &h->claims[i];
        memset(c, 0, sizeof *c);
        c->id = opgi_r_u64(rd);
        opgi_r_id(rd, &c->vault);
        opgi_r_id(rd, &c->holder);
        c->completion = (opg_time)opgi_r_u64(rd);
        opgi_r_u256(rd, &c->fixed);
        opgi_r_u256(rd, &c->nominal);
        uint32_t np = opgi_r_count(rd, 32 + 8 + 32);
        if (rd->bad)
            return OPG_ECORRUPT;
        h->n_claims++;
        if (np) {
            c->parts = opgi_alloc_array(&h->alloc, np, sizeof *c->parts);
            if (!c->parts)
                return OPG_ENOMEM;
            c->n_parts = c->cap_parts = np;
        }
        opg_u256 sum = c->fixed;
        for (uint32_t k = 0; k < np; k++) {
            opgi_r_id(rd, &c->parts[k].node);
            c->parts[k].completion = (opg_time)opgi_r_u64(rd);
            opgi_r_u256(rd, &c->parts[k].amount);
            if (c->parts[k].completion > c->completion || c->parts[k].completion < 0 ||
                opg_u256_add(&sum, &sum, &c->parts[k].amount) != OPG_OK)
                opgi_r_fail(rd);
        }
        const opgi_hpos *p = opgi_hpos_find(h, &c->vault);
        opgi_hholder *x = NULL;
        if (p && p->vault) {
            int found;
            size_t at = opgi_hholder_search(p->vault, &c->holder, &found);
            if (found)
                x = &p->vault->holders[at];
        }
        if (rd->bad || !x || x->n_pending == 0 || c->id == 0 || c->id > h->next_claim || c->completion < 0 ||
            opg_u256_cmp(&sum, &c->nominal) ||
            (i && (h->claims[i - 1].completion > c->completion ||
                   (h->claims[i - 1].completion == c->completion && h->claims[i - 1].id >= c->id))))
            return OPG_ECORRUPT;
        /* counted down here, checked to reach 0 below, then counted back */
        x->n_pending--;
        if (opg_u256_sub(&p->vault->queued, &p->vault->queued, &c->nominal) != OPG_OK)
            return OPG_ECORRUPT;
    }
    for (size_t i = 0; i < h->n_pos; i++) {
        const opgi_hvault *v = h->pos[i]->vault;
        if (!v)
            continue;
        if (!opg_u256_is_zero(&v->queued))
            return OPG_ECORRUPT;
        for (size_t k = 0; k < v->n_holders; k++)
            if (v->holders[k].n_pending)
                return OPG_ECORRUPT;
    }
    for (size_t i = 0; i < h->n_claims; i++) {
        opgi_hpos *p = opgi_hpos_find(h, &h->claims[i].vault);
        int found;
        size_t at = opgi_hholder_search(p->vault, &h->claims[i].holder, &found);
        p->vault->holders[at].n_pending++;
        OPGI_MUST(opg_u256_add(&p->vault->queued, &p->vault->queued, &h->claims[i].nominal));
        OPGI_MUST(opg_u256_add(&p->vault->queued_idle, &p->vault->queued_idle, &h->claims[i].fixed));
    }
    return OPG_OK;
}

static int load_position(opg_hyper *h, opgi_reader *rd, opgi_hpos **out)
{
    opg_hyper_policy pol;
    memset(&pol, 0, sizeof pol);
    opg_id id, owner;
    opgi_r_id(rd, &id);
    opgi_r_id(rd, &owner);
    pol.kind = (opg_hyper_policy_kind)opgi_r_u8(rd);
    pol.auto_compound = opgi_r_u8(rd);
    pol.max_nodes = opgi_r_u32(rd);
    opgi_r_dec(rd, &pol.max_commission);
    opgi_r_dec(rd, &pol.cap);
    opgi_r_dec(rd, &pol.rebalance_threshold);
    opg_height created = opgi_r_u64(rd);
    opg_u256 totals[4];
    for (int i = 0; i < 4; i++)
        opgi_r_u256(rd, &totals[i]);
    uint32_t nw = opgi_r_count(rd, 64);
    if (rd->bad)
        return OPG_ECORRUPT;
    opg_hyper_weight *wt = NULL;
    if (nw) {
        wt = opgi_alloc_array(&h->alloc, nw, sizeof *wt);
        if (!wt)
            return OPG_ENOMEM;
        for (uint32_t k = 0; k < nw; k++) {
            opgi_r_id(rd, &wt[k].node);
            opgi_r_dec(rd, &wt[k].weight);
            if (k && opg_id_cmp(&wt[k - 1].node, &wt[k].node) >= 0)
                opgi_r_fail(rd);
        }
    }
    pol.weights = wt;
    pol.n_weights = nw;
    opgi_hvault *vault = NULL;
    opg_hyper_route *routes = NULL;
    opg_u256 routed_in = {{0, 0, 0, 0}};
    uint32_t nr = 0;
    opgi_r_dec(rd, &pol.max_churn);
    opgi_r_u256(rd, &routed_in);
    nr = opgi_r_count(rd, 1 + 32 + 32);
    if (!rd->bad && nr > OPG_HYPER_MAX_ROUTES)
        opgi_r_fail(rd);
    if (!rd->bad && nr) {
        routes = opgi_alloc_array(&h->alloc, nr, sizeof *routes);
        if (!routes) {
            opgi_free(&h->alloc, wt, (size_t)nw * sizeof *wt);
            return OPG_ENOMEM;
        }
        for (uint32_t k = 0; k < nr; k++) {
            routes[k].kind = (opg_hyper_route_kind)opgi_r_u8(rd);
            opgi_r_id(rd, &routes[k].dst);
            opgi_r_dec(rd, &routes[k].share);
        }
    }
    if (opgi_r_bool(rd)) {
        int rc = load_vault(h, rd, &vault);
        if (rc) {
            opgi_free(&h->alloc, wt, (size_t)nw * sizeof *wt);
            opgi_free(&h->alloc, routes, (size_t)nr * sizeof *routes);
            return rc;
        }
        if (!pol.auto_compound || opg_id_cmp(&id, &owner))
            opgi_r_fail(rd);
    }
    /* the policy rules, except that FIXED nodes may have left the registry since;
     * max_nodes is bounded by 1000 (hyper.max_nodes may have been lowered since) */
    opg_hyper_params keep = h->params;
    h->params.max_nodes = 1000;
    int bad = rd->bad || opgi_hyper_check_policy(h, &pol, 0) != OPG_OK;
    h->params = keep;
    opgi_hpos *p = NULL;
    if (!bad) {
        p = opgi_alloc(&h->alloc, sizeof *p);
        if (!p) {
            opgi_free(&h->alloc, wt, (size_t)nw * sizeof *wt);
            opgi_free(&h->alloc, routes, (size_t)nr * sizeof *routes);
            opgi_hvault_free(h, vault);
            return OPG_ENOMEM;
        }
        memset(p, 0, sizeof *p);
        p->id = id;
        p->owner = owner;
        p->kind = (uint8_t)pol.kind;
        p->auto_compound = (uint8_t)pol.auto_compound;
        p->max_nodes = pol.max_nodes;
        p->max_commission = pol.max_commission;
        p->cap = pol.cap;
        p->threshold = pol.rebalance_threshold;
        p->max_churn = pol.max_churn;
        p->created_height = created;
        p->deposited = totals[0];
        p->withdrawn = totals[1];
        p->compounded = totals[2];
        p->paid_out = totals[3];
        p->weights = wt;
        p->n_weights = nw;
        p->vault = vault;
        p->routes = routes;
        p->n_routes = nr;
        p->routed_in = routed_in;
    }
    if (bad) {
        opgi_free(&h->alloc, routes, (size_t)nr * sizeof *routes);
        opgi_hvault_free(h, vault);
        opgi_free(&h->alloc, wt, (size_t)nw * sizeof *wt);
        opgi_free(&h->alloc, p, sizeof *p);
        return OPG_ECORRUPT;
    }
    *out = p;
    return OPG_OK;
}

static int load_body(opg_hyper *h, opgi_reader *rd)
{
    char err[OPGI_ERRMSG_MAX];
    h->params.max_positions_per_owner = opgi_r_u32(rd);
    h->params.max_nodes = opgi_r_u32(rd);
    opgi_r_dec(rd, &h->params.vault_node_cap);
    h->params.vault_decimals_offset = opgi_r_u32(rd);
    if (rd->bad || opgi_params_check(&opgi_hyper_param_table, &h->params, err) != OPG_OK)
        return OPG_ECORRUPT;
    int has = opgi_r_bool(rd);
    uint32_t ns = opgi_r_count(rd, 64);
    if (rd->bad || (!has && ns))
        return OPG_ECORRUPT;
    if (has) {
        h->scores = opgi_alloc_array(&h->alloc, ns ? ns : 1, sizeof *h->scores);
        if (!h->scores)
            return OPG_ENOMEM;
        h->n_scores = ns;
        h->has_scores = 1;
        opg_dec one;
        opg_dec_from_u64(&one, 1);
        for (uint32_t i = 0; i < ns; i++) {
            opgi_r_id(rd, &h->scores[i].node);
            opgi_r_dec(rd, &h->scores[i].score);
            if (opg_dec_cmp(&h->scores[i].score, &one) > 0 ||
                (i && opg_id_cmp(&h->scores[i - 1].node, &h->scores[i].node) >= 0))
                opgi_r_fail(rd);
        }
    }
    uint32_t np = opgi_r_count(rd, 32 + 32 + 2 + 4 + 3 * 32 + 8 + 4 * 32 + 4);
    if (rd->bad)
        return OPG_ECORRUPT;
    if (np) {
        h->pos = opgi_alloc_array(&h->alloc, np, sizeof *h->pos);
        if (!h->pos)
            return OPG_ENOMEM;
        h->cap_pos = np;
    }
    for (uint32_t i = 0; i < np; i++) {
        opgi_hpos *p;
        int rc = load_position(h, rd, &p);
        if (rc)
            return rc;
        h->pos[h->n_pos++] = p;
        if (i && opg_id_cmp(&h->pos[i - 1]->id, &p->id) >= 0)
            return OPG_ECORRUPT;
        /* owners: room first, then count (a corrupt input may name many owners) */
        if ((rc = opgi_hyper_owner_add(h, &p->owner, 1)) != OPG_OK)
            return rc;
        opgi_hyper_owner_add(h, &p->owner, 0);
    }
    /* routes: each position's rules, and no cycle (destinations are all loaded now) */
    for (size_t i = 0; i < h->n_pos; i++) {
        const opgi_hpos *p = h->pos[i];
        if (!p->n_routes)
            continue;
        if (opgi_hyper_check_routes(h, p, p->routes, p->n_routes) != OPG_OK)
            return OPG_ECORRUPT;
        int cyc = opgi_hyper_route_cycle(h, p, p->routes, p->n_routes);
        if (cyc < 0)
            return cyc;
        if (cyc)
            return OPG_ECORRUPT;
    }
    int rc = load_claims(h, rd);
    if (rc)
        return rc;
    return opgi_r_finish(rd);
}

int opg_hyper_load(opg_hyper **out, opg_registry *r, opg_splitter *s, const uint8_t *buf, size_t len,
                   const opg_allocator *alloc)
{
    if (!out || !r || !s || s->reg != r || (!buf && len))
        return OPG_EINVAL;
    opgi_reader rd;
    opgi_reader_init(&rd, buf, len);
    uint16_t version;
    int rc = opgi_r_header(&rd, OPGI_KIND_HYPER, HYPER_VERSION, &version);
    if (rc)
        return rc;
    if (version != HYPER_VERSION)
        return OPG_EVERSION; /* version 1 had no vaults; its states are re-made, not read */
    opg_hyper *h;
    if ((rc = opgi_hyper_alloc(&h, r, s, NULL, alloc)) != OPG_OK)
        return rc;
    if ((rc = load_body(h, &rd)) != OPG_OK) {
        opgi_hyper_release(h);
        return rc;
    }
    h->err[0] = '\0';
    *out = h;
    return OPG_OK;
}
