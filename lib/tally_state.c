/*
 * tally_state.c - the tally's canonical saved form, its state hash, and loading.
 *
 * Version 2 layout (integers big-endian, amounts and decimals 32 bytes):
 *   header "OPGS" kind=5 version=2
 *   params in struct order (booleans one byte)
 *   next_id u64, proposal count u32
 *   per proposal, by id:
 *     id u64, proposer, kind u8, status u8, expedited u8,
 *     submit_time, deposit_end, voting_start, voting_end (i64), total_deposit,
 *     title (u32 length, bytes), summary (u32 length, bytes),
 *     PARAMS: u32 count, per change u16 key length, key, u16 value length, value
 *     PAYLOAD: u32 length, bytes
 *     a governance action (ADD_VALIDATOR, REMOVE_VALIDATOR, CANCEL_SLASH): u32
 *       length (its kind's data_len), its data bytes (tally_internal.h)
 *     deposits: u32 count, (depositor, amount) by depositor
 *     votes: u32 count, (voter, 4 raw weights u64 by option, conviction u8) by voter
 *   conviction locks: u32 count, (account, until i64) by account
 * The votes and locks are kept in arrival order in memory and radix sorted for each
 * save/hash. Version 1 (still loaded) is version 2 without the last two parameters
 * (conviction_voting, vote_locking_period: the defaults), without action kinds (a
 * kind above PAYLOAD is corrupt), without the votes' conviction byte (0) and without
 * the locks (none). Version 2 is one format carrying both the governance actions and
 * conviction voting (neither had a released format of its own).
 */
#include "tally_internal.h"

#include "codec.h"
#include "num.h"

#define TALLY_VERSION 2 /* 2: governance actions and conviction voting */

typedef struct order_buf {
    size_t n;
    uint32_t *order, *tmp;
    uint64_t *keys;
} order_buf;

static void order_free(const opg_allocator *a, order_buf *b)
{
    opgi_free(a, b->order, b->n * sizeof *b->order);
    opgi_free(a, b->tmp, b->n * sizeof *b->tmp);
    opgi_free(a, b->keys, 2 * b->n * sizeof *b->keys);
}

static int order_alloc(const opg_tally *t, order_buf *b)
{
    size_t max = t->n_locks > 1 ? t->n_locks : 1;
    for (size_t i = 0; i < t->n_props; i++)
        if (t->props[i]->n_votes > max)
            max = t->props[i]->n_votes;
    b->n = max;
    b->order = opgi_alloc_array(&t->alloc, max, sizeof *b->order);
    b->tmp = opgi_alloc_array(&t->alloc, max, sizeof *b->tmp);
    b->keys = opgi_alloc_array(&t->alloc, 2 * max, sizeof *b->keys);
    if (!b->order || !b->tmp || !b->keys) {
        order_free(&t->alloc, b);
        return OPG_ENOMEM;
    }
    return OPG_OK;
}

static void encode(opgi_writer *w, const opg_tally *t, order_buf *ob)
{
    const opg_tally_params *pp = &t->params;
    opgi_w_header(w, OPGI_KIND_TALLY, TALLY_VERSION);
    opgi_w_u256(w, &pp->min_deposit);
    opgi_w_dec(w, &pp->min_deposit_expedited_ratio);
    opgi_w_i64(w, pp->max_deposit_period);
    opgi_w_i64(w, pp->voting_period);
    opgi_w_i64(w, pp->expedited_voting_period);
    opgi_w_dec(w, &pp->quorum);
    opgi_w_dec(w, &pp->threshold);
    opgi_w_dec(w, &pp->expedited_threshold);
    opgi_w_dec(w, &pp->veto_threshold);
    opgi_w_u8(w, (uint8_t)pp->burn_vote_quorum);
    opgi_w_u8(w, (uint8_t)pp->burn_vote_veto);
    opgi_w_u8(w, (uint8_t)pp->burn_proposal_deposit_prevote);
    opgi_w_dec(w, &pp->liquid_weight);
    opgi_w_dec(w, &pp->proposal_cancel_ratio);
    opgi_w_u8(w, (uint8_t)pp->conviction_voting);
    opgi_w_i64(w, pp->vote_locking_period);

    opgi_w_u64(w, t->next_id);
    opgi_w_u32(w, (uint32_t)t->n_props);
    for (size_t i = 0; i < t->n_props; i++) {
        const opgi_tprop *p = t->props[i];
        opgi_w_u64(w, p->id);
        opgi_w_id(w, &p->proposer);
        opgi_w_u8(w, p->kind);
        opgi_w_u8(w, p->status);
        opgi_w_u8(w, p->expedited);
        opgi_w_i64(w, p->submit_time);
        opgi_w_i64(w, p->deposit_end);
        opgi_w_i64(w, p->voting_start);
        opgi_w_i64(w, p->voting_end);
        opgi_w_u256(w, &p->total_deposit);
        opgi_w_u32(w, p->title_len);
        if (p->title_len)
            opgi_w_bytes(w, p->blob, p->title_len);
        opgi_w_u32(w, p->summary_len);
        if (p->summary_len)
            opgi_w_bytes(w, p->blob + p->title_len, p->summary_len);
        if (p->kind == OPG_PROPOSAL_PARAMS) {
            opgi_w_u32(w, p->n_changes);
            for (size_t c = 0; c < p->n_changes; c++) {
                const char *key, *value;
                opgi_tprop_change(p, c, &key, &value);
                size_t kl = strlen(key), vl = strlen(value);
                opgi_w_u16(w, (uint16_t)kl);
                opgi_w_bytes(w, key, kl);
                opgi_w_u16(w, (uint16_t)vl);
                if (vl)
                    opgi_w_bytes(w, value, vl);
            }
        } else if (p->kind == OPG_PROPOSAL_PAYLOAD || opgi_action_find(p->kind)) {
            size_t n = p->blob_len - p->title_len - p->summary_len;
            opgi_w_u32(w, (uint32_t)n);
            if (n)
                opgi_w_bytes(w, p->blob + p->title_len + p->summary_len, n);
        }
        opgi_w_u32(w, p->n_deps);
        for (uint32_t d = 0; d < p->n_deps; d++) {
            opgi_w_id(w, &p->deps[d].depositor);
            opgi_w_u256(w, &p->deps[d].amount);
        }
        opgi_w_u32(w, p->n_votes);
        opgi_tally_sort_votes(ob->order, p, ob->keys, ob->tmp);
        for (uint32_t k = 0; k < p->n_votes; k++) {
#if defined(__GNUC__) || defined(__clang__)
            if (k + 16 < p->n_votes) /* voter order is random in memory: load ahead */
                __builtin_prefetch(&p->votes[ob->order[k + 16]]);
#endif
            const opgi_tvote *v = &p->votes[ob->order[k]];
            opgi_w_id(w, &v->voter);
            for (int o = 0; o < OPGI_TALLY_OPTIONS; o++)
                opgi_w_u64(w, v->w[o]);
            opgi_w_u8(w, (uint8_t)opgi_tvote_conviction(p, ob->order[k]));
        }
    }
    opgi_w_u32(w, t->n_locks);
    opgi_tally_sort_ids(ob->order, t->locks, sizeof *t->locks, t->n_locks, ob->keys, ob->tmp);
    for (uint32_t k = 0; k < t->n_locks; k++) {
        const opgi_tlock *l = &t->locks[ob->order[k]];
        opgi_w_id(w, &l->account);
        opgi_w_i64(w, l->until);
    }
}

int opg_tally_save(uint8_t *buf, size_t cap, size_t *len, const opg_tally *t)
{
    if (!t || (!buf && cap))
        return OPG_EINVAL;
    order_buf ob;
    int rc = order_alloc(t, &ob);
    if (rc)
        return rc;
    opgi_writer w;
    opgi_writer_buffer(&w, buf, cap);
    encode(&w, t, &ob);
    order_free(&t->alloc, &ob);
    return opgi_writer_finish(&w, len);
}

int opg_tally_state_hash(uint8_t out[32], const opg_tally *t)
{
    if (!out || !t)
        return OPG_EINVAL;
    order_buf ob;
    int rc = order_alloc(t, &ob);
    if (rc)
        return rc;
    crypto_generichash_blake2b_state st;
    opgi_writer w;
    opgi_writer_hash(&w, &st, OPGI_KIND_TALLY);
    encode(&w, t, &ob);
    opgi_writer_hash_end(&w, out);
    order_free(&t->alloc, &ob);
    return OPG_OK;
}

/* ------------------------------------------------------------------ load */

/* Skips n bytes, marking the input bad if they are not there. */
static const uint8_t *r_take(opgi_reader *rd, size_t n)
{
    if (rd->bad || n > rd->len - rd->pos) {
        rd->bad = 1;
        return NULL;
    }
    const uint8_t *at = rd->p + rd->pos;
    rd->pos += n;
    return at;
}

/* A parameter key or value as saved: no NUL inside; keys "a.b" with a '.' inside. */
static int text_ok(const uint8_t *s, size_t n, int key)
{
    if (memchr(s, '\0', n))
        return 0;
    if (!key)
        return n <= OPG_TALLY_VALUE_MAX;
    if (n == 0 || n > OPG_TALLY_KEY_MAX)
        return 0;
    const uint8_t *dot = memchr(s, '.', n);
    return dot && dot != s && dot != s + n - 1;
}

static int load_proposal(opg_tally *t, opgi_reader *rd, uint64_t prev_id, uint16_t version)
{
    opgi_tprop *p = opgi_alloc(&t->alloc, sizeof *p);
    if (!p)
        return OPG_ENOMEM;
    memset(p, 0, sizeof *p);
    int rc = OPG_ECORRUPT;
    p->id = opgi_r_u64(rd);
    opgi_r_id(rd, &p->proposer);
    p->kind = opgi_r_u8(rd);
    p->status = opgi_r_u8(rd);
    p->expedited = (uint8_t)opgi_r_bool(rd);
    p->submit_time = opgi_r_i64(rd);
    p->deposit_end = opgi_r_i64(rd);
    p->voting_start = opgi_r_i64(rd);
    p->voting_end = opgi_r_i64(rd);
    opgi_r_u256(rd, &p->total_deposit);
    const opgi_action_kind *ak = version >= 2 ? opgi_action_find(p->kind) : NULL;
    if (rd->bad || p->id <= prev_id || p->id >= t->next_id || (p->kind > OPG_PROPOSAL_PAYLOAD && !ak) ||
        (p->status != OPG_PROPOSAL_DEPOSIT_PERIOD && p->status != OPG_PROPOSAL_VOTING_PERIOD) ||
        (p->status == OPG_PROPOSAL_DEPOSIT_PERIOD && (p->voting_start || p->voting_end)))
        goto fail;

    /* first pass over title, summary and content for the sizes; then copy */
    size_t blob_len = 0;
    uint32_t tl = opgi_r_u32(rd);
    const uint8_t *title = r_take(rd, tl);
    uint32_t sl = opgi_r_u32(rd);
    const uint8_t *summary = r_take(rd, sl);
    if (rd->bad || tl > OPG_TALLY_TITLE_MAX || sl > OPG_TALLY_SUMMARY_MAX)
        goto fail;
    blob_len = (size_t)tl + sl;
    uint32_t n_changes = 0;
    size_t content_at = rd->pos;
    if (p->kind == OPG_PROPOSAL_PARAMS) {
        n_changes = opgi_r_u32(rd);
        if (rd->bad || n_changes == 0 || n_changes > OPG_TALLY_CHANGES_MAX)
            goto fail;
        for (uint32_t c = 0; c < n_changes; c++) {
            uint16_t kl = opgi_r_u16(rd);
            const uint8_t *k = r_take(rd, kl);
            uint16_t vl = opgi_r_u16(rd);
            const uint8_t *v = r_take(rd, vl);
            if (rd->bad || !text_ok(k, kl, 1) || !text_ok(v, vl, 0))
                goto fail;
            blob_len += (size_t)kl + vl + 2;
        }
    } else if (p->kind == OPG_PROPOSAL_PAYLOAD) {
        uint32_t n = opgi_r_u32(rd);
        if (rd->bad || n > OPG_TALLY_PAYLOAD_MAX || !r_take(rd, n))
            goto fail;
        blob_len += n;
    } else if (ak) {
        uint32_t n = opgi_r_u32(rd);
        const uint8_t *data = n == ak->data_len ? r_take(rd, n) : NULL;
        if (rd->bad || !data || !ak->data_ok(data))
            goto fail;
        blob_len += n;
    }
    if (blob_len && !(p->blob = opgi_alloc(&t->alloc, blob_len))) {
        rc = OPG_ENOMEM;
        goto fail;
    }
    p->blob_len = blob_len;
    p->title_len = tl;
    p->summary_len = sl;
    p->n_changes = n_changes;
    uint8_t *w = p->blob;
    if (tl) {
        memcpy(w, title, tl);
        w += tl;
    }
    if (sl) {
        memcpy(w, summary, sl);
        w += sl;
    }
    {
        opgi_reader again = *rd;
        again.pos = content_at;
        if (p->kind == OPG_PROPOSAL_PARAMS) {
            if (OPGI_NEVER(t->err, opgi_r_u32(&again) != n_changes))
                goto fail; /* the bytes the first pass read */
            for (uint32_t c = 0; c < n_changes; c++) {
                uint16_t kl = opgi_r_u16(&again);
                memcpy(w, r_take(&again, kl), kl);
                w[kl] = '\0';
                w += kl + 1;
                uint16_t vl = opgi_r_u16(&again);
                if (vl)
                    memcpy(w, r_take(&again, vl), vl);
                w[vl] = '\0';
                w += vl + 1;
            }
        } else if (p->kind == OPG_PROPOSAL_PAYLOAD || ak) {
            uint32_t n = opgi_r_u32(&again);
            if (n)
                memcpy(w, r_take(&again, n), n);
        }
    }

    /* deposits: strictly increasing depositors, positive amounts adding up */
    uint32_t nd = opgi_r_count(rd, 64);
    if (rd->bad)
        goto fail;
    if (nd) {
        p->deps = opgi_alloc_array(&t->alloc, nd, sizeof *p->deps);
        if (!p->deps) {
            rc = OPG_ENOMEM;
            goto fail;
        }
        p->deps_cap = nd;
    }
    opg_u256 sum;
    memset(&sum, 0, sizeof sum);
    for (uint32_t d = 0; d < nd; d++) {
        opgi_tdeposit *e = &p->deps[d];
        opgi_r_id(rd, &e->depositor);
        opgi_r_u256(rd, &e->amount);
        if (rd->bad || opgi_u256_is_zero(&e->amount) ||
            opg_u256_add(&sum, &sum, &e->amount) != OPG_OK ||
            (d && opg_id_cmp(&p->deps[d - 1].depositor, &e->depositor) >= 0))
            goto fail;
        p->n_deps++;
    }
    if (opg_u256_cmp(&sum, &p->total_deposit) != 0)
        goto fail;

    /* votes: strictly increasing voters, valid weights, only in the voting period */
    uint32_t nv = opgi_r_count(rd, version >= 2 ? 65 : 64);
    if (rd->bad || (nv && p->status != OPG_PROPOSAL_VOTING_PERIOD) || nv >= UINT32_MAX / 4)
        goto fail;
    if (nv) {
        p->votes = opgi_alloc_array(&t->alloc, nv, sizeof *p->votes);
        if (!p->votes) {
            rc = OPG_ENOMEM;
            goto fail;
        }
        p->votes_cap = nv;
    }
    for (uint32_t k = 0; k < nv; k++) {
        opgi_tvote *v = &p->votes[k];
        opgi_r_id(rd, &v->voter);
        for (int o = 0; o < OPGI_TALLY_OPTIONS; o++)
            v->w[o] = opgi_r_u64(rd);
        uint8_t conviction = version >= 2 ? opgi_r_u8(rd) : 0;
        if (conviction && !rd->bad && conviction <= OPGI_CONVICTION_MAX) {
            if (opgi_tprop_convs_reserve(&t->alloc, p, k) != OPG_OK) {
                rc = OPG_ENOMEM;
                goto fail;
            }
            p->convs[k] = conviction;
        }
        if (rd->bad || !opgi_tally_weights_valid(v->w) || conviction > OPGI_CONVICTION_MAX ||
            (k && opg_id_cmp(&p->votes[k - 1].voter, &v->voter) >= 0))
            goto fail;
        p->n_votes++;
    }
    if (nv) {
        uint32_t cap = 32;
        while (cap < 2 * (uint64_t)nv + 2)
            cap *= 2;
        if (opgi_tprop_index_build(&t->alloc, p, cap) != OPG_OK) {
            rc = OPG_ENOMEM;
            goto fail;
        }
    }
    if (opgi_tally_props_reserve(t) != OPG_OK) {
        rc = OPG_ENOMEM;
        goto fail;
    }
    t->props[t->n_props++] = p;
    return OPG_OK;
fail:
    opgi_tprop_free(&t->alloc, p);
    return rc;
}

/* The locks: strictly increasing accounts. */
static int load_locks(opg_tally *t, opgi_reader *rd)
{
    uint32_t n = opgi_r_count(rd, 40);
    if (rd->bad || n >= UINT32_MAX / 4)
        return OPG_ECORRUPT;
    if (!n)
        return OPG_OK;
    if (!(t->locks = opgi_alloc_array(&t->alloc, n, sizeof *t->locks)))
        return OPG_ENOMEM;
    t->locks_cap = n;
    for (uint32_t k = 0; k < n; k++) {
        opgi_tlock *l = &t->locks[k];
        opgi_r_id(rd, &l->account);
        l->until = opgi_r_i64(rd);
        if (rd->bad || (k && opg_id_cmp(&t->locks[k - 1].account, &l->account) >= 0))
            return OPG_ECORRUPT;
        t->n_locks++;
    }
    uint32_t cap = 32;
    while (cap < 2 * (uint64_t)n + 2)
        cap *= 2;
    if (opgi_lock_index_build(t, cap) != OPG_OK)
        return OPG_ENOMEM;
    opgi_lock_min_update(t);
    return OPG_OK;
}

static int load_body(opg_tally *t, opgi_reader *rd, uint16_t version)
{
    opg_tally_params *pp = &t->params;
    opgi_r_u256(rd, &pp->min_deposit);
    opgi_r_dec(rd, &pp->min_deposit_expedited_ratio);
    pp->max_deposit_period = opgi_r_i64(rd);
    pp->voting_period = opgi_r_i64(rd);
    pp->expedited_voting_period = opgi_r_i64(rd);
    opgi_r_dec(rd, &pp->quorum);
    opgi_r_dec(rd, &pp->threshold);
    opgi_r_dec(rd, &pp->expedited_threshold);
    opgi_r_dec(rd, &pp->veto_threshold);
    pp->burn_vote_quorum = opgi_r_bool(rd);
    pp->burn_vote_veto = opgi_r_bool(rd);
    pp->burn_proposal_deposit_prevote = opgi_r_bool(rd);
    opgi_r_dec(rd, &pp->liquid_weight);
    opgi_r_dec(rd, &pp->proposal_cancel_ratio);
    if (version >= 2) {
        pp->conviction_voting = opgi_r_bool(rd);
        pp->vote_locking_period = opgi_r_i64(rd);
    } /* else the defaults of opg_tally_new */
    if (rd->bad || opgi_params_check(&opgi_tally_param_table, pp, t->err) != OPG_OK)
        return OPG_ECORRUPT;
    t->next_id = opgi_r_u64(rd);
    /* the smallest proposal record is 8+32+3+4*8+32+4+4+4+4 bytes */
    uint32_t n = opgi_r_count(rd, 123);
    if (rd->bad || t->next_id == 0)
        return OPG_ECORRUPT;
    uint64_t prev = 0;
    for (uint32_t i = 0; i < n; i++) {
        int rc = load_proposal(t, rd, prev, version);
        if (rc)
            return rc;
        prev = t->props[t->n_props - 1]->id;
    }
    if (version >= 2) {
        int rc = load_locks(t, rd);
        if (rc)
            return rc;
    }
    return opgi_r_finish(rd);
}

int opg_tally_load(opg_tally **out, opg_registry *r, const uint8_t *buf, size_t len,
                   const opg_allocator *alloc)
{
    if (!out || !r || (!buf && len))
        return OPG_EINVAL;
    opgi_reader rd;
    opgi_reader_init(&rd, buf, len);
    uint16_t version = 0;
    int rc = opgi_r_header(&rd, OPGI_KIND_TALLY, TALLY_VERSION, &version);
    if (rc)
        return rc;
    opg_tally *t;
    if ((rc = opg_tally_new(&t, r, NULL, alloc)) != OPG_OK)
        return rc;
    rc = load_body(t, &rd, version);
    if (rc) {
        opg_tally_free(t);
        return rc;
    }
    t->err[0] = '\0';
    *out = t;
    return OPG_OK;
}
