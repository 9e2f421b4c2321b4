/*
 * splitter_state.c - the splitter's canonical saved form and state hash.
 *
 * Version 1: header "OPGS" kind=3 version=1; params; emission state; the money
 * totals; then per node, in operator id order: current period and rewards,
 * commission, outstanding, historical records (by period) and slash events (in
 * order). Delegations' F1 starting info is part of the registry's state.
 */
#include "splitter_internal.h"

#include "codec.h"

#define SPLITTER_VERSION 1

static void encode(opgi_writer *w, const void *state)
{
    const opg_splitter *s = state;
    const opg_splitter_params *p = &s->params;
    opgi_w_header(w, OPGI_KIND_SPLITTER, SPLITTER_VERSION);
    opgi_w_dec(w, &p->community_tax);
    opgi_w_dec(w, &p->perf_share);
    opgi_w_u8(w, (uint8_t)p->emission);
    opgi_w_dec(w, &p->inflation_rate_change);
    opgi_w_dec(w, &p->inflation_max);
    opgi_w_dec(w, &p->inflation_min);
    opgi_w_dec(w, &p->goal_bonded);
    opgi_w_u64(w, p->blocks_per_year);
    opgi_w_dec(w, &p->initial_inflation);
    opgi_w_u256(w, &p->pool_amount);
    opgi_w_i64(w, p->pool_start);
    opgi_w_i64(w, p->half_life);
    opgi_w_i64(w, p->duration);

    opgi_w_dec(w, &s->inflation);
    opgi_w_u256(w, &s->anchor_amount);
    opgi_w_i64(w, s->anchor_time);
    opgi_w_u256(w, &s->anchor_emitted);
    opgi_w_u8(w, (uint8_t)s->paused);
    opgi_w_i64(w, s->paused_at);
    opgi_w_i64(w, s->last_time);
    opgi_w_u8(w, (uint8_t)s->has_last);

    const opg_dec *money[] = {&s->pending, &s->minted, &s->emitted, &s->fees, &s->paid_delegators,
                              &s->paid_commission, &s->community_pool, &s->community_spent,
                              &s->outstanding};
    for (size_t i = 0; i < OPGI_ARRAY_LEN(money); i++)
        opgi_w_dec(w, money[i]);

    const opg_registry *r = s->reg;
    opgi_w_u32(w, r->node_count);
    for (uint32_t i = 0; i < r->node_count; i++) {
        uint32_t slot = r->by_operator[i];
        const f1_node *n = &s->nodes[slot];
        opgi_w_id(w, &r->nodes[slot].operator_id);
        opgi_w_u64(w, n->period);
        opgi_w_dec(w, &n->rewards);
        opgi_w_dec(w, &n->commission);
        opgi_w_dec(w, &n->outstanding);
        opgi_w_u32(w, (uint32_t)(n->n_hist - n->n_dead));
        for (size_t k = 0; k < n->n_hist; k++) {
            if (!n->hist[k].refcount)
                continue; /* dropped: not part of the state */
            opgi_w_u64(w, n->hist[k].period);
            opgi_w_u64(w, n->hist[k].refcount);
            opgi_w_limbs(w, n->hist[k].cum, OPGI_CUM_LIMBS);
        }
        opgi_w_u32(w, (uint32_t)n->n_slash);
        for (size_t k = 0; k < n->n_slash; k++) {
            opgi_w_u64(w, n->slashes[k].height);
            opgi_w_u64(w, n->slashes[k].period);
            opgi_w_dec(w, &n->slashes[k].fraction);
        }
    }
}

int opg_splitter_save(uint8_t *buf, size_t cap, size_t *len, const opg_splitter *s)
{
    if (!s || (!buf && cap))
        return OPG_EINVAL;
    return opgi_save(buf, cap, len, encode, s);
}

int opg_splitter_state_hash(uint8_t out[32], const opg_splitter *s)
{
    if (!out || !s)
        return OPG_EINVAL;
    opgi_state_hash(out, OPGI_KIND_SPLITTER, encode, s);
    return OPG_OK;
}

static int load_body(opg_splitter *s, opgi_reader *rd)
{
    opg_dec one;
    opg_dec_from_u64(&one, 1);
    opg_registry *r = s->reg;
    int rc;
    opg_dec_from_u64(&s->params.initial_inflation, 0);
    opg_splitter_params *p = &s->params;
    opgi_r_dec(rd, &p->community_tax);
    opgi_r_dec(rd, &p->perf_share);
    p->emission = (opg_emission_kind)opgi_r_u8(rd);
    opgi_r_dec(rd, &p->inflation_rate_change);
    opgi_r_dec(rd, &p->inflation_max);
    opgi_r_dec(rd, &p->inflation_min);
    opgi_r_dec(rd, &p->goal_bonded);
    p->blocks_per_year = opgi_r_u64(rd);
    opgi_r_dec(rd, &p->initial_inflation);
    opgi_r_u256(rd, &p->pool_amount);
    p->pool_start = opgi_r_i64(rd);
    p->half_life = opgi_r_i64(rd);
    p->duration = opgi_r_i64(rd);
    if (rd->bad || opgi_params_check(&opgi_splitter_param_table, p, s->err) != OPG_OK)
        return OPG_ECORRUPT;

    opgi_r_dec(rd, &s->inflation);
    opgi_r_u256(rd, &s->anchor_amount);
    s->anchor_time = opgi_r_i64(rd);
    opgi_r_u256(rd, &s->anchor_emitted);
    s->paused = opgi_r_bool(rd);
    s->paused_at = opgi_r_i64(rd);
    s->last_time = opgi_r_i64(rd);
    s->has_last = opgi_r_bool(rd);
    if (opg_u256_cmp(&s->anchor_emitted, &s->anchor_amount) > 0)
        return OPG_ECORRUPT;
    opg_dec *money[] = {&s->pending, &s->minted, &s->emitted, &s->fees, &s->paid_delegators,
                        &s->paid_commission, &s->community_pool, &s->community_spent,
                        &s->outstanding};
    for (size_t i = 0; i < OPGI_ARRAY_LEN(money); i++)
        opgi_r_dec(rd, money[i]);

    uint32_t n_nodes = opgi_r_count(rd, 32 + 8 + 3 * 32 + 8);
    if (rd->bad || n_nodes != r->node_count)
        return OPG_ECORRUPT;
    if ((rc = opgi_splitter_nodes_reserve(s, r->node_slots)) != OPG_OK)
        return rc;
    for (uint32_t i = 0; i < n_nodes && !rd->bad; i++) {
        opg_id op;
        opgi_r_id(rd, &op);
        uint32_t slot = r->by_operator[i];
        if (opg_id_cmp(&op, &r->nodes[slot].operator_id) != 0)
            return OPG_ECORRUPT; /* the splitter belongs to another registry state */
        f1_node *n = &s->nodes[slot];
        n->live = 1;
        n->period = opgi_r_u64(rd);
        opgi_r_dec(rd, &n->rewards);
        opgi_r_dec(rd, &n->commission);
        opgi_r_dec(rd, &n->outstanding);
        uint32_t nh = opgi_r_count(rd, 16 + 8 * OPGI_CUM_LIMBS);
        if (rd->bad || nh == 0 || (rc = opgi_f1_hist_reserve(s, n, nh + 2)) != OPG_OK)
            return rd->bad || nh == 0 ? OPG_ECORRUPT : rc;
        for (uint32_t k = 0; k < nh; k++) {
            f1_hist *h = &n->hist[k];
            h->period = opgi_r_u64(rd);
            h->refcount = opgi_r_u64(rd);
            opgi_r_limbs(rd, h->cum, OPGI_CUM_LIMBS);
            if (h->refcount == 0 || h->period >= n->period || (k && h->period <= n->hist[k - 1].period))
                return OPG_ECORRUPT;
        }
        n->n_hist = nh;
        if (n->hist[nh - 1].period != n->period - 1)
            return OPG_ECORRUPT; /* the period just closed is always referenced */
        uint32_t ns = opgi_r_count(rd, 16 + 32);
        if (rd->bad || (rc = opgi_f1_slash_reserve(s, n, ns + 1)) != OPG_OK)
            return rd->bad ? OPG_ECORRUPT : rc;
        for (uint32_t k = 0; k < ns; k++) {
            f1_slash *e = &n->slashes[k];
            e->height = opgi_r_u64(rd);
            e->period = opgi_r_u64(rd);
            opgi_r_dec(rd, &e->fraction);
            if (opg_dec_cmp(&e->fraction, &one) > 0) /* a slash takes at most everything */
                return OPG_ECORRUPT;
            if (k && (e->height < n->slashes[k - 1].height || e->period <= n->slashes[k - 1].period))
                return OPG_ECORRUPT;
        }
        n->n_slash = ns;
    }
    if ((rc = opgi_r_finish(rd)) != OPG_OK)
        return rc;
    if (opg_splitter_check(s) != OPG_OK)
        return OPG_ECORRUPT;
    opg_u256 pool, out;
    opg_dec_truncate_int(&pool, &s->community_pool);
    opg_dec_truncate_int(&out, &s->outstanding);
    if (opg_u256_cmp(&pool, &r->community_pool) || opg_u256_cmp(&out, &r->outstanding_rewards))
        return OPG_ECORRUPT;
    return OPG_OK;
}

int opg_splitter_load(opg_splitter **out, opg_registry *r, const uint8_t *buf, size_t len,
                      const opg_allocator *alloc)
{
    if (!out || !r || (!buf && len))
        return OPG_EINVAL;
    opgi_reader rd;
    opgi_reader_init(&rd, buf, len);
    int rc = opgi_r_header(&rd, OPGI_KIND_SPLITTER, SPLITTER_VERSION, NULL);
    if (rc)
        return rc;
    opg_splitter *s;
    if ((rc = opgi_splitter_create_for_load(&s, r, NULL, alloc)) != OPG_OK)
        return rc;
    if ((rc = load_body(s, &rd)) != OPG_OK || (rc = opgi_splitter_attach(s)) != OPG_OK) {
        opgi_splitter_release(s);
        return rc;
    }
    s->err[0] = '\0';
    *out = s;
    return OPG_OK;
}
