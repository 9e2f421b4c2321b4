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
 * The owners index is derived on load. The delegations are the registry's state.
 */
#include "hyper_internal.h"

#include "codec.h"

#define HYPER_VERSION 1

static void encode(opgi_writer *w, const void *state)
{
    const opg_hyper *h = state;
    opgi_w_header(w, OPGI_KIND_HYPER, HYPER_VERSION);
    opgi_w_u32(w, h->params.max_positions_per_owner);
    opgi_w_u32(w, h->params.max_nodes);
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
        p->created_height = created;
        p->deposited = totals[0];
        p->withdrawn = totals[1];
        p->compounded = totals[2];
        p->paid_out = totals[3];
        p->weights = wt;
        p->n_weights = nw;
    }
    if (bad) {
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
    return opgi_r_finish(rd);
}

int opg_hyper_load(opg_hyper **out, opg_registry *r, opg_splitter *s, const uint8_t *buf, size_t len,
                   const opg_allocator *alloc)
{
    if (!out || !r || !s || s->reg != r || (!buf && len))
        return OPG_EINVAL;
    opgi_reader rd;
    opgi_reader_init(&rd, buf, len);
    int rc = opgi_r_header(&rd, OPGI_KIND_HYPER, HYPER_VERSION, NULL);
    if (rc)
        return rc;
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
