/*
 * slasher_evidence.c - consensus votes and their sign bytes, the canonical evidence
 * codec, double-sign evidence (x/evidence HandleEquivocationEvidence) and
 * faulty-inference evidence with the reporter reward and the correlated penalty
 * (Extensions, SEMANTICS.md section 4).
 */
#include "slasher_internal.h"

#include "codec.h"
#include "num.h"

#include <sodium.h>

static const uint8_t EV_MAGIC[4] = {'O', 'P', 'G', 'E'};
#define EV_VERSION 1
#define EV_HEADER 6
#define DOMAIN_LEN 11 /* strlen(OPG_VOTE_DOMAIN) */

static const uint64_t P_ONE[1] = {OPGI_P};

/* ------------------------------------------------------------ vote bytes */

size_t opg_slasher_vote_sign_bytes_max(void) { return OPG_VOTE_SIGN_BYTES_MAX; }

int opgi_chain_id_len(const char *c, size_t *len)
{
    if (!c)
        return OPG_EINVAL;
    size_t n = 0;
    while (n <= OPG_SLASHER_CHAIN_ID_MAX && c[n]) {
        unsigned char ch = (unsigned char)c[n];
        if (ch < 0x21 || ch > 0x7e)
            return OPG_EINVAL;
        n++;
    }
    if (n == 0 || n > OPG_SLASHER_CHAIN_ID_MAX)
        return OPG_EINVAL;
    *len = n;
    return OPG_OK;
}

static int vote_ok(const opg_slasher_vote *v)
{
    return (v->type == OPG_VOTE_PREVOTE || v->type == OPG_VOTE_PRECOMMIT) && v->height >= 1 &&
           v->height <= (uint64_t)INT64_MAX && v->round <= (uint32_t)INT32_MAX;
}

static size_t put_be(uint8_t *o, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        o[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
    return (size_t)bytes;
}

/* The sign bytes of a vote (see opg_slasher_vote_sign_bytes); returns their length. */
static size_t put_sign_bytes(uint8_t out[OPG_VOTE_SIGN_BYTES_MAX], const char *chain,
                             size_t clen, const opg_slasher_vote *v)
{
    size_t k = 0;
    memcpy(out, OPG_VOTE_DOMAIN, DOMAIN_LEN);
    k += DOMAIN_LEN;
    out[k++] = (uint8_t)clen;
    memcpy(out + k, chain, clen);
    k += clen;
    out[k++] = v->type;
    k += put_be(out + k, v->height, 8);
    k += put_be(out + k, v->round, 4);
    memcpy(out + k, v->block_id, 32);
    return k + 32;
}

int opg_slasher_vote_sign_bytes(uint8_t *buf, size_t cap, size_t *len, const char *chain_id,
                                const opg_slasher_vote *vote)
{
    size_t clen;
    if (!len || !vote || (!buf && cap) || opgi_chain_id_len(chain_id, &clen) != OPG_OK ||
        !vote_ok(vote))
        return OPG_EINVAL;
    size_t n = DOMAIN_LEN + 1 + clen + 1 + 8 + 4 + 32;
    *len = n;
    if (cap < n)
        return OPG_EBUFS;
    uint8_t tmp[OPG_VOTE_SIGN_BYTES_MAX];
    put_sign_bytes(tmp, chain_id, clen, vote);
    memcpy(buf, tmp, n);
    return OPG_OK;
}

static int vote_verifies(const char *chain, size_t clen, const opg_id *key,
                         const opg_slasher_vote *v)
{
    uint8_t msg[OPG_VOTE_SIGN_BYTES_MAX];
    size_t n = put_sign_bytes(msg, chain, clen, v);
    return crypto_sign_verify_detached(v->signature, msg, n, key->bytes) == 0;
}

/* -------------------------------------------------------------- the form */

static int double_sign_form_ok(const opg_double_sign_evidence *ev)
{
    return vote_ok(&ev->vote_a) && vote_ok(&ev->vote_b) &&
           ev->validator_power <= (uint64_t)INT64_MAX;
}

static int conflict(const opg_double_sign_evidence *ev)
{
    const opg_slasher_vote *a = &ev->vote_a, *b = &ev->vote_b;
    return a->type == b->type && a->height == b->height && a->round == b->round &&
           memcmp(a->block_id, b->block_id, 32) != 0;
}

static int fault_form_ok(const opg_fault_evidence *ev)
{
    return ev->infraction_height >= 1 && ev->infraction_height <= (uint64_t)INT64_MAX;
}

static void sodium_ready(void)
{
    /* idempotent and thread-safe; Ed25519 verification needs no more than this */
    if (sodium_init() < 0) {
        /* only a failing random source makes it fail; verification does not use one */
    }
}

int opg_slasher_double_sign_verify(const char *chain_id, const opg_double_sign_evidence *ev)
{
    size_t clen;
    if (!ev || opgi_chain_id_len(chain_id, &clen) != OPG_OK || !double_sign_form_ok(ev))
        return OPG_EEVIDENCE;
    if (!conflict(ev))
        return OPG_ENOCONFLICT;
    sodium_ready();
    if (!vote_verifies(chain_id, clen, &ev->consensus_key, &ev->vote_a) ||
        !vote_verifies(chain_id, clen, &ev->consensus_key, &ev->vote_b))
        return OPG_ESIGNATURE;
    return OPG_OK;
}

/* ------------------------------------------------------------- the codec */

size_t opg_slasher_evidence_size(opg_evidence_kind kind)
{
    switch (kind) {
    case OPG_EVIDENCE_DOUBLE_SIGN:
        return OPG_EVIDENCE_DOUBLE_SIGN_SIZE;
    case OPG_EVIDENCE_FAULT:
        return OPG_EVIDENCE_FAULT_SIZE;
    }
    return 0;
}

static void w_vote(opgi_writer *w, const opg_slasher_vote *v)
{
    opgi_w_u8(w, v->type);
    opgi_w_u64(w, v->height);
    opgi_w_u32(w, v->round);
    opgi_w_bytes(w, v->block_id, 32);
    opgi_w_bytes(w, v->signature, 64);
}

static void r_vote(opgi_reader *r, opg_slasher_vote *v)
{
    v->type = opgi_r_u8(r);
    v->height = opgi_r_u64(r);
    v->round = opgi_r_u32(r);
    opgi_r_bytes(r, v->block_id, 32);
    opgi_r_bytes(r, v->signature, 64);
}

int opg_slasher_evidence_encode(uint8_t *buf, size_t cap, size_t *len, const opg_evidence *ev)
{
    if (!len || !ev || (!buf && cap))
        return OPG_EINVAL;
    size_t n = opg_slasher_evidence_size(ev->kind);
    if (n == 0 || (ev->kind == OPG_EVIDENCE_DOUBLE_SIGN && !double_sign_form_ok(&ev->double_sign)) ||
        (ev->kind == OPG_EVIDENCE_FAULT && !fault_form_ok(&ev->fault)))
        return OPG_EEVIDENCE;
    *len = n;
    if (cap < n)
        return OPG_EBUFS;
    opgi_writer w;
    opgi_writer_buffer(&w, buf, cap);
    opgi_w_bytes(&w, EV_MAGIC, 4);
    opgi_w_u8(&w, EV_VERSION);
    opgi_w_u8(&w, (uint8_t)ev->kind);
    if (ev->kind == OPG_EVIDENCE_DOUBLE_SIGN) {
        const opg_double_sign_evidence *d = &ev->double_sign;
        opgi_w_id(&w, &d->consensus_key);
        opgi_w_i64(&w, d->infraction_time);
        opgi_w_u64(&w, d->validator_power);
        w_vote(&w, &d->vote_a);
        w_vote(&w, &d->vote_b);
    } else {
        const opg_fault_evidence *f = &ev->fault;
        opgi_w_id(&w, &f->evidence_id);
        opgi_w_id(&w, &f->node);
        opgi_w_u64(&w, f->infraction_height);
        opgi_w_i64(&w, f->infraction_time);
        opgi_w_u32(&w, f->fault_class);
        opgi_w_id(&w, &f->reporter);
    }
    return opgi_writer_finish(&w, len);
}

int opg_slasher_evidence_decode(opg_evidence *out, const uint8_t *buf, size_t len)
{
    if (!out || (!buf && len))
        return OPG_EINVAL;
    if (len < EV_HEADER || memcmp(buf, EV_MAGIC, 4) != 0 || buf[4] != EV_VERSION)
        return OPG_EEVIDENCE;
    opg_evidence_kind kind = (opg_evidence_kind)buf[5];
    size_t want = buf[5] == OPG_EVIDENCE_DOUBLE_SIGN || buf[5] == OPG_EVIDENCE_FAULT
                      ? opg_slasher_evidence_size(kind) : 0;
    if (want == 0 || len != want)
        return OPG_EEVIDENCE;
    opg_evidence ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = kind;
    opgi_reader r;
    opgi_reader_init(&r, buf + EV_HEADER, len - EV_HEADER);
    if (kind == OPG_EVIDENCE_DOUBLE_SIGN) {
        opg_double_sign_evidence *d = &ev.double_sign;
        opgi_r_id(&r, &d->consensus_key);
        d->infraction_time = opgi_r_i64(&r);
        d->validator_power = opgi_r_u64(&r);
        r_vote(&r, &d->vote_a);
        r_vote(&r, &d->vote_b);
        if (!double_sign_form_ok(d))
            return OPG_EEVIDENCE;
    } else {
        opg_fault_evidence *f = &ev.fault;
        opgi_r_id(&r, &f->evidence_id);
        opgi_r_id(&r, &f->node);
        f->infraction_height = opgi_r_u64(&r);
        f->infraction_time = opgi_r_i64(&r);
        f->fault_class = opgi_r_u32(&r);
        opgi_r_id(&r, &f->reporter);
        if (!fault_form_ok(f))
            return OPG_EEVIDENCE;
    }
    if (opgi_r_finish(&r) != OPG_OK)
        return OPG_EEVIDENCE;
    *out = ev;
    return OPG_OK;
}

/* ------------------------------------------------------------ evidence age */

/* x/evidence: stale only when older than both limits. */
static int too_old(const opg_slasher_params *p, opg_height ih, opg_time it, opg_height height,
                   opg_time now)
{
    /* now > it, so the difference fits an unsigned 64-bit value */
    int old_time = now > it && (uint64_t)now - (uint64_t)it > (uint64_t)p->max_age_duration;
    int old_blocks = height > ih && height - ih > p->max_age_num_blocks;
    return old_time && old_blocks;
}

/* A correlation record at time t still counts at `now`: now - t < window (a record
 * from after `now`, which a host going back in time could leave, counts too). */
static int in_window(const opg_slasher_params *p, opg_time t, opg_time now)
{
    return t > now || (uint64_t)now - (uint64_t)t < (uint64_t)p->correlation_window;
}

/* ------------------------------------------------------------ double sign */

/* The slash, jail and tombstone of equivocation (in a bracket, room reserved):
 * x/evidence's HandleEquivocationEvidence once every check has passed. */
static int equivocation_apply(opg_slasher_record *rec, opg_slasher *s, uint32_t slot,
                              opg_height ih, uint64_t power, opg_height height, opg_time now)
{
    opg_registry *r = s->reg;
    memset(rec, 0, sizeof *rec);
    rec->reason = OPG_SLASH_DOUBLE_SIGN;
    rec->node = r->nodes[slot].operator_id;
    /* the stake that signed: ValidatorUpdateDelay (1) blocks before the votes */
    rec->infraction_height = ih >= 1 ? ih - 1 : 0;
    rec->power = power;
    rec->fraction = s->params.slash_fraction_double_sign;
    int rc = opgi_slasher_slash(s, slot, rec, height, now, 0);
    if (rc)
        return rc;
    rec->jailed = opgi_registry_jail_until(r, slot, OPG_TIME_FOREVER);
    opgi_tomb_node(r, slot); /* room reserved by the caller */
    rec->jailed_until = r->nodes[slot].jailed_until;
    rec->tombstoned = 1;
    rec->burned = rec->slash.burned_total;
    s->recs[s->n_recs++] = *rec;
    return OPG_OK;
}

int opg_slasher_double_sign(opg_slasher_record *out, opg_slasher *s,
                            const opg_double_sign_evidence *ev, opg_height height, opg_time now)
{
    if (!s)
        return OPG_EINVAL;
    opgi_slasher_begin(s);
    OPGI_CHECK_ARG(s->err, ev);
    opg_registry *r = s->reg;
    if (!double_sign_form_ok(ev))
        return opgi_fail(s->err, OPG_EEVIDENCE, "malformed equivocation evidence", NULL);
    if (!conflict(ev))
        return opgi_fail(s->err, OPG_ENOCONFLICT,
                         "votes differ in type, height or round, or agree on the block", NULL);
    uint32_t slot = opgi_slasher_node_by_key(r, &ev->consensus_key);
    opg_id addr;
    opgi_consensus_address(&addr, &ev->consensus_key);
    const int tombstoned = opgi_tomb_has(r, &addr);
    if (slot == OPGI_NONE && !tombstoned)
        return opgi_fail(s->err, OPG_ENOTFOUND, "no node has this consensus key", NULL);
    size_t clen = strlen(s->params.chain_id);
    sodium_ready();
    if (!vote_verifies(s->params.chain_id, clen, &ev->consensus_key, &ev->vote_a) ||
        !vote_verifies(s->params.chain_id, clen, &ev->consensus_key, &ev->vote_b))
        return opgi_fail(s->err, OPG_ESIGNATURE, "a vote signature does not verify", NULL);
    const opg_height ih = ev->vote_a.height;
    if (ih > height)
        return opgi_fail(s->err, OPG_EFUTURE, "infraction after the current block", NULL);
    if (tombstoned) /* also after its node is gone: the key stays tombstoned */
        return opgi_fail(s->err, OPG_ETOMBSTONED, "consensus key already tombstoned: evidence ignored",
                         NULL);
    /* the time and the power of the votes' height are the registry's, never the
     * submitter's: a field that disagrees is refused */
    opg_time it;
    int exact;
    if (opgi_history_time(r, ih, &it, &exact) != OPG_OK)
        return opgi_fail(s->err, OPG_EEXPIRED,
                         "older than the registry's consensus history: evidence ignored", NULL);
    if (ev->infraction_time != it)
        return opgi_fail(s->err, OPG_EEVIDENCE,
                         "infraction_time is not the block time of the votes' height", NULL);
    if (it > now)
        return opgi_fail(s->err, OPG_EFUTURE, "infraction after the current block", NULL);
    const uint64_t power = opgi_history_power_at(r, &ev->consensus_key, ih);
    if (ev->validator_power != 0 && ev->validator_power != power)
        return opgi_fail(s->err, OPG_EEVIDENCE,
                         "validator_power is not the key's power at the votes' height", NULL);
    const opgi_node *n = &r->nodes[slot];
    if (n->status == OPG_NODE_UNBONDED)
        return opgi_fail(s->err, OPG_ESTATUS, "node is unbonded: evidence ignored", NULL);
    if (power == 0)
        return opgi_fail(s->err, OPG_ESTATUS,
                         "key was not in the validator set at the votes' height: evidence ignored",
                         NULL);
    if (too_old(&s->params, ih, it, height, now))
        return opgi_fail(s->err, OPG_EEXPIRED, "older than both max ages: evidence ignored", NULL);

    int rc;
    if ((rc = opgi_tomb_reserve(r, 1)) != OPG_OK)
        return opgi_fail(s->err, rc, NULL, NULL);
    if ((rc = opgi_slasher_enter(s, &slot, 1, ih >= 1 ? ih - 1 : 0, height, now,
                                 opgi_events_jail(r), 1)) != OPG_OK)
        return rc;
    opg_slasher_record rec;
    /* the slash is the first change: if the registry refuses it, nothing happened */
    rc = equivocation_apply(&rec, s, slot, ih, power, height, now);
    opgi_slasher_leave(s);
    if (rc)
        return rc;
    if (out)
        *out = rec;
    return OPG_OK;
}

/* ---------------------------------------------------- CometBFT misbehaviour */

/* What a misbehaviour record does, in s->mark by node slot. */
enum { MB_NONE = 0, MB_SLASH = 1 };

int opg_slasher_misbehavior(int *outcomes, opg_slasher *s, const opg_misbehavior *list,
                            size_t count, opg_height height, opg_time now)
{
    if (!s)
        return OPG_EINVAL;
    opgi_slasher_begin(s);
    OPGI_CHECK_ARG(s->err, (list || !count));
    opg_registry *r = s->reg;
    int rc;
    /* scratch: each record's slot to slash (or OPGI_NONE), then the slots to slash */
    void *scratch = s->scratch;
    rc = count > SIZE_MAX / 2 ? OPG_ENOMEM
                              : opgi_grow(&s->alloc, &scratch, &s->scratch_cap, 2 * count,
                                          sizeof *s->scratch);
    s->scratch = scratch;
    if (rc)
        return opgi_fail(s->err, OPG_ENOMEM, NULL, NULL);
    uint32_t *slot_of = s->scratch, *to_slash = s->scratch + count;
    memset(s->mark, 0, r->node_slots);

    /* 1. check, in order (x/evidence's BeginBlocker): which records are ignored */
    size_t n_slash = 0;
    opg_height min_ih = height;
    for (size_t i = 0; i < count; i++) {
        const opg_misbehavior *m = &list[i];
        slot_of[i] = OPGI_NONE;
        if (m->height == 0 || m->height > (uint64_t)INT64_MAX ||
            m->validator_power > (uint64_t)INT64_MAX)
            return opgi_fail(s->err, OPG_EEVIDENCE, "a record's height or power is out of range",
                             NULL);
        if (m->height > height)
            return opgi_fail(s->err, OPG_EFUTURE, "a record's height is after the current block",
                             NULL);
        int outcome = OPG_OK;
        opg_id addr;
        memset(&addr, 0, sizeof addr);
        memcpy(addr.bytes, m->validator_address, 20);
        uint32_t slot = opgi_node_find_by_addr(r, &addr);
        opg_time it = 0;
        int exact = 0;
        int have_time = opgi_history_time(r, m->height, &it, &exact) == OPG_OK;
        if (have_time && exact && m->time != it)
            return opgi_fail(s->err, OPG_EEVIDENCE,
                             "a record's time is not the block time the registry has for its height",
                             NULL);
        if (m->type != OPG_MISBEHAVIOR_DUPLICATE_VOTE &&
            m->type != OPG_MISBEHAVIOR_LIGHT_CLIENT_ATTACK)
            outcome = OPG_EEVIDENCE; /* an unknown type: Cosmos logs and ignores it */
        else if (slot == OPGI_NONE)
            outcome = opgi_tomb_has(r, &addr) ? OPG_ETOMBSTONED : OPG_ENOTFOUND;
        else if (r->nodes[slot].status == OPG_NODE_UNBONDED)
            outcome = OPG_ESTATUS;
        else if (!have_time || too_old(&s->params, m->height, it, height, now))
            outcome = OPG_EEXPIRED;
        else if (r->nodes[slot].tombstoned || s->mark[slot] == MB_SLASH)
            outcome = OPG_ETOMBSTONED; /* also by an earlier record of this call */
        if (outcome == OPG_OK) {
            opg_u256 amount, pw = {{m->validator_power, 0, 0, 0}};
            if (opg_u256_mul(&amount, &pw, &r->params.power_reduction) != OPG_OK)
                return opgi_fail(s->err, OPG_EOVERFLOW, "power * power_reduction too large", NULL);
            s->mark[slot] = MB_SLASH;
            slot_of[i] = slot;
            to_slash[n_slash++] = slot;
            opg_height dh = m->height - 1; /* height >= 1 */
            if (dh < min_ih)
                min_ih = dh;
        }
        if (outcomes)
            outcomes[i] = outcome;
    }
    if (n_slash == 0)
        return OPG_OK;

    /* 2. reserve for every slash (the plan at the lowest distribution height holds
     * the entries of every higher one), then nothing that follows can fail */
    if ((rc = opgi_tomb_reserve(r, n_slash)) != OPG_OK)
        return opgi_fail(s->err, rc, NULL, NULL);
    if ((rc = opgi_slasher_enter(s, to_slash, n_slash, min_ih, height, now,
                                 n_slash * opgi_events_jail(r), n_slash)) != OPG_OK)
        return rc;

    /* 3. the slashes, in record order */
    for (size_t i = 0; i < count; i++) {
        uint32_t slot = slot_of[i];
        if (slot == OPGI_NONE)
            continue;
        opg_slasher_record rec;
        rc = equivocation_apply(&rec, s, slot, list[i].height, list[i].validator_power, height,
                                now);
        if (OPGI_NEVER(s->err, rc != OPG_OK)) { /* checked and reserved above */
            opgi_slasher_leave(s);
            return OPG_EINVARIANT;
        }
    }
    opgi_slasher_leave(s);
    return OPG_OK;
}

/* ------------------------------------------------------- faulty inference */

/* A faulty-inference slash pushes one event of its own: the reporter's reward. */
#define REPORTER_EVENTS 1

/* Position of id in the seen list (where it is or would go); *found set. */
static size_t seen_search(const opg_slasher *s, const opg_id *id, int *found)
{
    size_t lo = 0, hi = s->n_seen;
    *found = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = opg_id_cmp(&s->seen[mid].id, id);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int opg_slasher_evidence_seen(const opg_slasher *s, const opg_id *evidence_id)
{
    int found = 0;
    if (s && evidence_id)
        seen_search(s, evidence_id, &found);
    return found;
}

size_t opg_slasher_evidence_seen_count(const opg_slasher *s) { return s ? s->n_seen : 0; }

/* min(1, base + trunc(k * S / bonded)), S = stake of this class in the window plus
 * the node's tokens now. */
static void fault_fraction(opg_dec *out, const opg_slasher *s, const opg_fault_class *fc,
                           const opgi_node *n, opg_time now)
{
    opg_dec one, f = fc->slash_fraction;
    opg_dec_from_u64(&one, 1);
    if (!opgi_dec_is_zero(&s->params.correlation_k)) {
        opg_u256 stake = n->tokens;
        int saturated = 0;
        for (size_t i = 0; i < s->n_corr; i++) {
            const opgi_corr *c = &s->corr[i];
            if (c->fault_class == fc->id && in_window(&s->params, c->time, now) &&
                opg_u256_add(&stake, &stake, &c->stake) != OPG_OK)
                saturated = 1;
        }
        opg_supply_info si;
        opg_registry_supply(&si, s->reg);
        if (saturated) {
            f = one;
        } else if (!opgi_u256_is_zero(&si.bonded)) {
            /* k * S / bonded as a Dec: raw(k) * S / bonded, truncated (the dust of the
             * division is not charged) */
            opg_dec add;
            if (opgi_muldiv(add.limb, 4, s->params.correlation_k.limb, 4, stake.limb, 4,
                            si.bonded.limb, 4, OPGI_TRUNC) != OPG_OK ||
                opg_dec_add(&f, &f, &add) != OPG_OK)
                f = one;
        }
        if (opg_dec_cmp(&f, &one) > 0)
            f = one;
    }
    *out = f;
}

int opg_slasher_fault(opg_slasher_record *out, opg_slasher *s, const opg_fault_evidence *ev,
                      opg_height height, opg_time now)
{
    if (!s)
        return OPG_EINVAL;
    opgi_slasher_begin(s);
    OPGI_CHECK_ARG(s->err, ev);
    opg_registry *r = s->reg;
    if (!fault_form_ok(ev))
        return opgi_fail(s->err, OPG_EEVIDENCE, "infraction height out of range", NULL);
    const opg_fault_class *fc = opgi_slasher_class(s, ev->fault_class);
    if (!fc)
        return opgi_fail(s->err, OPG_ECLASS, "unknown fault class", NULL);
    uint32_t slot = opgi_node_find(r, &ev->node);
    if (slot == OPGI_NONE)
        return opgi_fail(s->err, OPG_ENOTFOUND, "no node with this operator id", NULL);
    const opgi_node *n = &r->nodes[slot];
    if (!(n->roles & OPG_ROLE_INFERENCE))
        return opgi_fail(s->err, OPG_EROLE, "node is not an inference node", NULL);
    /* the reporter: a verification node, not the accused (an operator runs one node,
     * under its operator id): a self-report would pay the slashed its own reward */
    if (opg_id_cmp(&ev->reporter, &ev->node) == 0)
        return opgi_fail(s->err, OPG_EREPORTER, "a node cannot report itself", NULL);
    uint32_t rslot = opgi_node_find(r, &ev->reporter);
    if (rslot == OPGI_NONE || !(r->nodes[rslot].roles & OPG_ROLE_VERIFICATION))
        return opgi_fail(s->err, OPG_EREPORTER, "the reporter is not a verification node", NULL);
    int found;
    size_t at = seen_search(s, &ev->evidence_id, &found);
    if (found)
        return opgi_fail(s->err, OPG_EDUPLICATE, NULL, NULL);
    if (ev->infraction_height > height)
        return opgi_fail(s->err, OPG_EFUTURE, "infraction after the current block", NULL);
    opg_time it;
    int exact;
    if (opgi_history_time(r, ev->infraction_height, &it, &exact) != OPG_OK)
        return opgi_fail(s->err, OPG_EEXPIRED, "older than the registry's consensus history", NULL);
    if (ev->infraction_time != it)
        return opgi_fail(s->err, OPG_EEVIDENCE,
                         "infraction_time is not the block time of the infraction height", NULL);
    if (it > now)
        return opgi_fail(s->err, OPG_EFUTURE, "infraction after the current block", NULL);
    if (too_old(&s->params, ev->infraction_height, it, height, now))
        return opgi_fail(s->err, OPG_EEXPIRED, "older than both max ages", NULL);
    if (ev->infraction_height <= s->forgot_height && it <= s->forgot_time)
        return opgi_fail(s->err, OPG_EEXPIRED,
                         "no younger than evidence whose id is forgotten: a replay cannot be told apart",
                         NULL);
    if (n->tombstoned)
        return opgi_fail(s->err, OPG_ETOMBSTONED, NULL, NULL);

    opg_slasher_record rec;
    memset(&rec, 0, sizeof rec);
    rec.reason = OPG_SLASH_FAULT;
    rec.node = n->operator_id;
    rec.fault_class = fc->id;
    rec.infraction_height = ev->infraction_height;
    rec.power = opgi_node_power(r, n);
    rec.reporter = ev->reporter;
    fault_fraction(&rec.fraction, s, fc, n, now);
    const opg_u256 stake = n->tokens;

    /* reserve everything, then slash: nothing after the slash can fail */
    void *seen = s->seen, *corr = s->corr;
    int rc = opgi_grow(&s->alloc, &seen, &s->seen_cap, s->n_seen + 1, sizeof *s->seen);
    s->seen = seen;
    if (rc == OPG_OK)
        rc = opgi_grow(&s->alloc, &corr, &s->corr_cap, s->n_corr + 1, sizeof *s->corr);
    s->corr = corr;
    if (rc == OPG_OK && fc->tombstone)
        rc = opgi_tomb_reserve(r, 1);
    if (rc)
        return opgi_fail(s->err, OPG_ENOMEM, NULL, NULL);
    /* the records: the new id and the forgotten ones, the new correlation record and
     * the dropped ones */
    if ((rc = opgi_slasher_touch_reserve(s, s->n_seen + s->n_corr + 2)) != OPG_OK)
        return rc;
    if ((rc = opgi_slasher_enter(s, &slot, 1, rec.infraction_height, height, now,
                                 opgi_events_jail(r) + REPORTER_EVENTS, 1)) != OPG_OK)
        return rc;
    if ((rc = opgi_slasher_slash(s, slot, &rec, height, now, 1)) != OPG_OK) {
        opgi_slasher_leave(s);
        return rc;
    }
    n = &r->nodes[slot];
    opg_time until = fc->tombstone ? OPG_TIME_FOREVER : opgi_time_after(now, fc->jail_duration);
    rec.jailed = opgi_registry_jail_until(r, slot, until);
    if (fc->tombstone) {
        opgi_tomb_node(r, slot); /* room reserved above */
        rec.tombstoned = 1;
    }
    rec.jailed_until = n->jailed_until;

    /* reporter reward: trunc(burned_total * share); the remainder stays burned */
    /* reporter_share <= 1, so the reward fits and is at most what was burned */
    (void)OPGI_NEVER(s->err, opgi_muldiv(rec.reporter_reward.limb, 4, rec.slash.burned_total.limb,
                                         4, s->params.reporter_share.limb, 4, P_ONE, 1,
                                         OPGI_TRUNC) != OPG_OK ||
                                 opg_u256_sub(&rec.burned, &rec.slash.burned_total,
                                              &rec.reporter_reward) != OPG_OK);
    if (!opgi_u256_is_zero(&rec.reporter_reward)) {
        /* the reward leaves the burned total: the host credits it to the reporter */
        opgi_ledger_unburn(r, &rec.reporter_reward);
        opg_event *e = opgi_event_push(r, OPG_EVENT_REPORTER_REWARD, n); /* REPORTER_EVENTS */
        e->account = ev->reporter;
        e->amount = rec.reporter_reward;
    }

    /* remember the id until the evidence is too old by the parameters in force now:
     * its expiry is fixed here, so lowering evidence.max_age_* later forgets nothing
     * early; what is forgotten raises the floor that older evidence is refused at, so
     * raising them later reopens nothing */
    memmove(&s->seen[at + 1], &s->seen[at], (s->n_seen - at) * sizeof *s->seen);
    s->seen[at].id = ev->evidence_id;
    s->seen[at].height = ev->infraction_height;
    s->seen[at].time = it;
    s->seen[at].expire_height = ev->infraction_height > UINT64_MAX - s->params.max_age_num_blocks
                                    ? UINT64_MAX
                                    : ev->infraction_height + s->params.max_age_num_blocks;
    s->seen[at].expire_time = opgi_time_after(it, s->params.max_age_duration);
    s->n_seen++;
    opgi_slasher_touch_seen(s, &ev->evidence_id);
    size_t keep = 0;
    for (size_t i = 0; i < s->n_seen; i++) {
        const opgi_seen *e = &s->seen[i];
        if (height > e->expire_height && now > e->expire_time) {
            opgi_slasher_touch_seen(s, &e->id);
            if (e->height > s->forgot_height)
                s->forgot_height = e->height;
            if (e->time > s->forgot_time)
                s->forgot_time = e->time;
        } else {
            s->seen[keep++] = *e;
        }
    }
    s->n_seen = keep;

    /* the correlation window: insert in time order, drop what has left it */
    size_t pos = s->n_corr;
    while (pos > 0 && s->corr[pos - 1].time > now)
        pos--;
    memmove(&s->corr[pos + 1], &s->corr[pos], (s->n_corr - pos) * sizeof *s->corr);
    s->corr[pos].time = now;
    s->corr[pos].fault_class = fc->id;
    s->corr[pos].stake = stake;
    s->n_corr++;
    opgi_slasher_touch_corr(s, pos);
    size_t drop = 0;
    while (drop < s->n_corr && !in_window(&s->params, s->corr[drop].time, now))
        opgi_slasher_touch_corr(s, drop++);
    memmove(s->corr, s->corr + drop, (s->n_corr - drop) * sizeof *s->corr);
    s->n_corr -= drop;

    s->recs[s->n_recs++] = rec;
    opgi_slasher_leave(s);
    if (out)
        *out = rec;
    return OPG_OK;
}

int opg_slasher_submit_evidence(opg_slasher_record *out, opg_slasher *s, const uint8_t *buf,
                                size_t len, opg_height height, opg_time now)
{
    if (!s)
        return OPG_EINVAL;
    opg_evidence ev;
    int rc = opg_slasher_evidence_decode(&ev, buf, len);
    if (rc) {
        opgi_slasher_begin(s);
        return opgi_fail(s->err, rc, "malformed evidence bytes", NULL);
    }
    if (ev.kind == OPG_EVIDENCE_DOUBLE_SIGN)
        return opg_slasher_double_sign(out, s, &ev.double_sign, height, now);
    return opg_slasher_fault(out, s, &ev.fault, height, now);
}
