/*
 * registry_state.c - the registry's canonical saved form, its state hash, loading,
 * and the invariant check.
 *
 * Version 1 layout (all integers big-endian, amounts and decimals 32 bytes):
 *   header "OPGS" kind=1 version=1
 *   params, supply ledger, next_seq
 *   nodes in operator id order
 *   delegations in (delegator, operator id) order, with their F1 starting info
 *   unbonding entries, then redelegation entries, each in maturity-queue order
 * Version 2 appends the consensus history and the tombstones (version 1 is refused
 * with OPG_EVERSION: it kept no history and no tombstone per key):
 *   u32 count; block times in ascending height: u64 height, i64 time
 *   u32 count; power records in ascending (key, height): key, u64 height, u64 power
 *   u32 count; tombstoned addresses ascending: 20 bytes each
 */
#include "registry_ops.h"

#include "codec.h"
#include "num.h"


#define REGISTRY_VERSION 2

/* A hint to the cache where the compiler has one; nothing otherwise. */
#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif
#define PREFETCH_AHEAD 8

/* A delegation's place in key order. The first 8 bytes of the delegator, big-endian,
 * are kept in the key itself, so that almost every comparison is decided without
 * reaching into the (large, randomly ordered) delegation pool. */
typedef struct del_key {
    uint64_t head;
    const opgi_delegation *d;
    const opg_id *operator_id;
} del_key;

static uint64_t id_head(const opg_id *id)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | id->bytes[i];
    return v;
}

static int key_less(const del_key *x, const del_key *y)
{
    if (x->head != y->head)
        return x->head < y->head;
    int c = opg_id_cmp(&x->d->delegator, &y->d->delegator);
    return c ? c < 0 : opg_id_cmp(x->operator_id, y->operator_id) < 0;
}

/* Bottom-up merge sort of keys[0, n) through tmp[n]: insertion-sorted runs of 8,
 * then merges of doubling width. O(n log n) at worst. */
static void merge_sort(del_key *keys, del_key *tmp, size_t n)
{
    enum { RUN = 8 };
    for (size_t lo = 0; lo < n; lo += RUN) {
        size_t hi = lo + RUN < n ? lo + RUN : n;
        for (size_t i = lo + 1; i < hi; i++) {
            del_key k = keys[i];
            size_t j = i;
            for (; j > lo && key_less(&k, &keys[j - 1]); j--)
                keys[j] = keys[j - 1];
            keys[j] = k;
        }
    }
    del_key *src = keys, *dst = tmp;
    for (size_t w = RUN; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t a = lo, b = mid, o = lo;
            while (a < mid && b < hi)
                dst[o++] = key_less(&src[b], &src[a]) ? src[b++] : src[a++];
            while (a < mid)
                dst[o++] = src[a++];
            while (b < hi)
                dst[o++] = src[b++];
        }
        del_key *t = src;
        src = dst;
        dst = t;
    }
    if (src != keys)
        memcpy(keys, src, n * sizeof *keys);
}

#define DIGIT_BITS 8
#define DIGITS 8

/*
 * Sorts keys[0, n) (tmp[n] is scratch; the two may be swapped): an LSD radix sort
 * on the 64-bit heads, a byte a pass (passes where every key has the same byte
 * are skipped), then each run of equal heads (the same delegator, or ids sharing
 * their first 8 bytes) sorted by the full key. Linear for ids that differ early;
 * O(n log n) at worst, whatever the ids look like. No memory beyond the two arrays.
 */
static void sort_keys(del_key **keys, del_key **tmp, size_t n)
{
    static const size_t B = (size_t)1 << DIGIT_BITS;
    uint32_t count[DIGITS][(size_t)1 << DIGIT_BITS]; /* n < 2^32: del_count is a uint32 */
    memset(count, 0, sizeof count);
    del_key *src = *keys, *dst = *tmp;
    for (size_t i = 0; i < n; i++)
        for (int d = 0; d < DIGITS; d++)
            count[d][(src[i].head >> (d * DIGIT_BITS)) & (B - 1)]++;
    for (int d = 0; d < DIGITS; d++) {
        uint32_t *c = count[d], sum = 0;
        int one_bucket = 0;
        for (size_t b = 0; b < B; b++) {
            if (c[b] == n)
                one_bucket = 1;
            uint32_t t = c[b];
            c[b] = sum; /* the bucket's first position */
            sum += t;
        }
        if (one_bucket)
            continue;
        for (size_t i = 0; i < n; i++)
            dst[c[(src[i].head >> (d * DIGIT_BITS)) & (B - 1)]++] = src[i];
        del_key *t = src;
        src = dst;
        dst = t;
    }
    *keys = src;
    *tmp = dst;
    for (size_t lo = 0; lo < n;) {
        size_t hi = lo + 1;
        while (hi < n && src[hi].head == src[lo].head)
            hi++;
        if (hi - lo > 1)
            merge_sort(src + lo, dst + lo, hi - lo);
        lo = hi;
    }
}

/* The live delegations in key order: an allocated array the caller frees. */
static int sorted_delegations(const opg_registry *r, del_key **out)
{
    size_t n = r->del_count ? r->del_count : 1;
    del_key *keys = opgi_alloc_array(&r->alloc, n, sizeof *keys);
    del_key *tmp = opgi_alloc_array(&r->alloc, n, sizeof *tmp);
    if (!keys || !tmp) {
        opgi_free(&r->alloc, keys, n * sizeof *keys);
        opgi_free(&r->alloc, tmp, n * sizeof *tmp);
        return OPG_ENOMEM;
    }
    size_t k = 0;
    for (uint32_t s = 0; s < r->del_slots; s++) {
        const opgi_delegation *d = &r->dels[s];
        if (d->node == OPGI_NONE)
            continue;
        keys[k].head = id_head(&d->delegator);
        keys[k].d = d;
        keys[k++].operator_id = &r->nodes[d->node].operator_id;
    }
    sort_keys(&keys, &tmp, k);
    opgi_free(&r->alloc, tmp, n * sizeof *tmp);
    *out = keys;
    return OPG_OK;
}

static void encode(opgi_writer *w, const opg_registry *r, const del_key *keys)
{
    const opg_registry_params *p = &r->params;
    opgi_w_header(w, OPGI_KIND_REGISTRY, REGISTRY_VERSION);
    opgi_w_i64(w, p->unbonding_time);
    opgi_w_u32(w, p->max_validators);
    opgi_w_u32(w, p->max_entries);
    opgi_w_dec(w, &p->min_commission_rate);
    opgi_w_u256(w, &p->power_reduction);
    opgi_w_u8(w, (uint8_t)p->fix_redelegation_overslash);

    opgi_w_u256(w, &r->genesis_supply);
    opgi_w_u256(w, &r->minted);
    opgi_w_u256(w, &r->burned);
    opgi_w_u256(w, &r->community_pool);
    opgi_w_u256(w, &r->outstanding_rewards);
    opgi_w_u256(w, &r->unbonding_balance);
    opgi_w_u64(w, r->next_seq);

    opgi_w_u32(w, r->node_count);
    for (uint32_t i = 0; i < r->node_count; i++) {
        const opgi_node *n = &r->nodes[r->by_operator[i]];
        opgi_w_id(w, &n->operator_id);
        opgi_w_id(w, &n->consensus_key);
        opgi_w_u32(w, n->roles);
        opgi_w_u8(w, n->status);
        opgi_w_u8(w, n->jailed);
        opgi_w_u8(w, n->tombstoned);
        opgi_w_i64(w, n->jailed_until);
        opgi_w_u256(w, &n->tokens);
        opgi_w_dec(w, &n->delegator_shares);
        opgi_w_dec(w, &n->rate);
        opgi_w_dec(w, &n->max_rate);
        opgi_w_dec(w, &n->max_change_rate);
        opgi_w_i64(w, n->commission_update_time);
        opgi_w_u256(w, &n->min_self_delegation);
        opgi_w_u64(w, n->unbonding_height);
        opgi_w_i64(w, n->unbonding_time);
        opgi_w_u64(w, n->last_power);
    }

    opgi_w_u32(w, r->del_count);
    for (uint32_t i = 0; i < r->del_count; i++) {
        /* key order is random in the pool: ask for a record a few keys ahead */
        if (i + PREFETCH_AHEAD < r->del_count) {
            PREFETCH(keys[i + PREFETCH_AHEAD].d);
            PREFETCH((const char *)keys[i + PREFETCH_AHEAD].d + 64);
        }
        const opgi_delegation *d = keys[i].d;
        opgi_w_id(w, &d->delegator);
        opgi_w_id(w, keys[i].operator_id);
        opgi_w_dec(w, &d->shares);
        opgi_w_u64(w, d->f1.period);
        opgi_w_u64(w, d->f1.height);
        opgi_w_dec(w, &d->f1.stake);
    }

    opgi_w_u32(w, (uint32_t)r->unbondings.len);
    for (size_t i = 0; i < r->unbondings.len; i++) {
        const opgi_unbonding *u = opgi_queue_at(&r->unbondings, i);
        opgi_w_id(w, &u->delegator);
        opgi_w_id(w, &u->node);
        opgi_w_u64(w, u->creation_height);
        opgi_w_i64(w, u->completion_time);
        opgi_w_u256(w, &u->initial_balance);
        opgi_w_u256(w, &u->balance);
        opgi_w_u64(w, u->seq);
    }

    opgi_w_u32(w, (uint32_t)r->redelegations.len);
    for (size_t i = 0; i < r->redelegations.len; i++) {
        const opgi_redelegation *e = opgi_queue_at(&r->redelegations, i);
        opgi_w_id(w, &e->delegator);
        opgi_w_id(w, &e->src);
        opgi_w_id(w, &e->dst);
        opgi_w_u64(w, e->creation_height);
        opgi_w_i64(w, e->completion_time);
        opgi_w_u256(w, &e->initial_balance);
        opgi_w_dec(w, &e->shares_dst);
        opgi_w_u64(w, e->seq);
    }

    opgi_w_u32(w, (uint32_t)(r->n_times - r->times_head));
    for (size_t i = r->times_head; i < r->n_times; i++) {
        opgi_w_u64(w, r->times[i].height);
        opgi_w_i64(w, r->times[i].time);
    }
    opgi_w_u32(w, (uint32_t)r->n_powers);
    for (size_t i = 0; i < r->n_powers; i++) {
        opgi_w_id(w, &r->powers[i].key);
        opgi_w_u64(w, r->powers[i].height);
        opgi_w_u64(w, r->powers[i].power);
    }
    opgi_w_u32(w, (uint32_t)r->n_tombs);
    for (size_t i = 0; i < r->n_tombs; i++)
        opgi_w_bytes(w, r->tombs[i].bytes, 20);
}

int opg_registry_save(uint8_t *buf, size_t cap, size_t *len, const opg_registry *r)
{
    if (!r || (!buf && cap))
        return OPG_EINVAL;
    del_key *keys;
    int rc = sorted_delegations(r, &keys);
    if (rc)
        return rc;
    opgi_writer w;
    opgi_writer_buffer(&w, buf, cap);
    encode(&w, r, keys);
    opgi_free(&r->alloc, keys, (size_t)(r->del_count ? r->del_count : 1) * sizeof *keys);
    return opgi_writer_finish(&w, len);
}

int opg_registry_state_hash(uint8_t out[32], const opg_registry *r)
{
    if (!out || !r)
        return OPG_EINVAL;
    del_key *keys;
    int rc = sorted_delegations(r, &keys);
    if (rc)
        return rc;
    crypto_generichash_blake2b_state st;
    opgi_writer w;
    opgi_writer_hash(&w, &st, OPGI_KIND_REGISTRY);
    encode(&w, r, keys);
    opgi_writer_hash_end(&w, out);
    opgi_free(&r->alloc, keys, (size_t)(r->del_count ? r->del_count : 1) * sizeof *keys);
    return OPG_OK;
}

/* ------------------------------------------------------------------ load */

static int valid_dec_le_one(const opg_dec *d)
{
    opg_dec one;
    opg_dec_from_u64(&one, 1);
    return opg_dec_cmp(d, &one) <= 0;
}

/* The consensus history and the tombstones. */
static int load_history(opg_registry *r, opgi_reader *rd)
{
    int rc;
    uint32_t n = opgi_r_count(rd, 16);
    if (rd->bad)
        return OPG_ECORRUPT;
    void *t = r->times;
    if ((rc = opgi_grow(&r->alloc, &t, &r->times_cap, n, sizeof *r->times)) != OPG_OK)
        return rc;
    r->times = t;
    for (uint32_t i = 0; i < n && !rd->bad; i++) {
        r->times[i].height = opgi_r_u64(rd);
        r->times[i].time = opgi_r_i64(rd);
        if (i > 0 && r->times[i - 1].height >= r->times[i].height)
            return OPG_ECORRUPT;
        r->n_times = i + 1;
    }
    n = opgi_r_count(rd, 32 + 16);
    if (rd->bad)
        return OPG_ECORRUPT;
    void *p = r->powers;
    if ((rc = opgi_grow(&r->alloc, &p, &r->powers_cap, n, sizeof *r->powers)) != OPG_OK)
        return rc;
    r->powers = p;
    for (uint32_t i = 0; i < n && !rd->bad; i++) {
        opgi_power_rec *e = &r->powers[i];
        opgi_r_id(rd, &e->key);
        e->height = opgi_r_u64(rd);
        e->power = opgi_r_u64(rd);
        if (i > 0) {
            int c = opg_id_cmp(&r->powers[i - 1].key, &e->key);
            if (c > 0 || (c == 0 && r->powers[i - 1].height >= e->height))
                return OPG_ECORRUPT;
        }
        r->n_powers = i + 1;
    }
    n = opgi_r_count(rd, 20);
    if (rd->bad || (rc = opgi_tomb_reserve(r, n)) != OPG_OK)
        return rd->bad ? OPG_ECORRUPT : rc;
    for (uint32_t i = 0; i < n && !rd->bad; i++) {
        memset(&r->tombs[i], 0, sizeof r->tombs[i]);
        opgi_r_bytes(rd, r->tombs[i].bytes, 20);
        if (i > 0 && opg_id_cmp(&r->tombs[i - 1], &r->tombs[i]) >= 0)
            return OPG_ECORRUPT;
        r->n_tombs = i + 1;
    }
    if (rd->bad)
        return OPG_ECORRUPT;
    /* a node is tombstoned exactly when its address is */
    for (uint32_t i = 0; i < r->node_count; i++) {
        const opgi_node *nd = &r->nodes[r->by_operator[i]];
        if (!nd->tombstoned != !opgi_tomb_has(r, &nd->address))
            return OPG_ECORRUPT;
    }
    return OPG_OK;
}

static int load_body(opg_registry *r, opgi_reader *rd)
{
    int rc;
    opg_registry_params *p = &r->params;
    p->unbonding_time = opgi_r_i64(rd);
    p->max_validators = opgi_r_u32(rd);
    p->max_entries = opgi_r_u32(rd);
    opgi_r_dec(rd, &p->min_commission_rate);
    opgi_r_u256(rd, &p->power_reduction);
    p->fix_redelegation_overslash = opgi_r_bool(rd);
    if (rd->bad || opgi_params_check(&opgi_registry_param_table, p, r->err) != OPG_OK)
        return OPG_ECORRUPT;

    opgi_r_u256(rd, &r->genesis_supply);
    opgi_r_u256(rd, &r->minted);
    opgi_r_u256(rd, &r->burned);
    opgi_r_u256(rd, &r->community_pool);
    opgi_r_u256(rd, &r->outstanding_rewards);
    opgi_r_u256(rd, &r->unbonding_balance);
    r->next_seq = opgi_r_u64(rd);
    /* genesis + minted fits (supply_mint refuses more); burned may exceed it when the
     * genesis supply left out the staked tokens that slashes burned */
    opg_u256 total;
    if (opg_u256_add(&total, &r->genesis_supply, &r->minted))
        return OPG_ECORRUPT;

    /* ids, roles, 3 flags, jailed_until, tokens + shares + 3 rates, update time,
     * min_self_delegation, unbonding height and time, last power */
    uint32_t n_nodes = opgi_r_count(rd, 2 * 32 + 4 + 3 + 8 + 5 * 32 + 8 + 32 + 8 + 8 + 8);
    for (uint32_t i = 0; i < n_nodes && !rd->bad; i++) {
        opgi_node n;
        memset(&n, 0, sizeof n);
        opgi_r_id(rd, &n.operator_id);
        opgi_r_id(rd, &n.consensus_key);
        n.roles = opgi_r_u32(rd);
        n.status = opgi_r_u8(rd);
        n.jailed = (uint8_t)opgi_r_bool(rd);
        n.tombstoned = (uint8_t)opgi_r_bool(rd);
        n.jailed_until = opgi_r_i64(rd);
        opgi_r_u256(rd, &n.tokens);
        opgi_r_dec(rd, &n.delegator_shares);
        opgi_r_dec(rd, &n.rate);
        opgi_r_dec(rd, &n.max_rate);
        opgi_r_dec(rd, &n.max_change_rate);
        n.commission_update_time = opgi_r_i64(rd);
        opgi_r_u256(rd, &n.min_self_delegation);
        n.unbonding_height = opgi_r_u64(rd);
        n.unbonding_time = opgi_r_i64(rd);
        n.last_power = opgi_r_u64(rd);
        if (rd->bad || n.roles == 0 || (n.roles & ~OPG_ROLE_ALL) || n.status > OPG_NODE_BONDED ||
            !valid_dec_le_one(&n.max_rate) || opg_dec_cmp(&n.rate, &n.max_rate) > 0 ||
            opg_dec_cmp(&n.max_change_rate, &n.max_rate) > 0)
            return OPG_ECORRUPT;
        if (i > 0 && opg_id_cmp(&r->nodes[r->by_operator[i - 1]].operator_id, &n.operator_id) >= 0)
            return OPG_ECORRUPT; /* strictly increasing operator ids */
        opg_id dummy, addr;
        opgi_consensus_address(&addr, &n.consensus_key);
        if (opg_registry_node_by_consensus_key(&dummy, r, &n.consensus_key) == OPG_OK ||
            opgi_node_find_by_addr(r, &addr) != OPGI_NONE)
            return OPG_ECORRUPT;
        if (opgi_consensus_key_check(&n.consensus_key) != OPG_OK)
            return OPG_ECORRUPT;
        uint32_t slot;
        if ((rc = opgi_node_reserve(r, &slot)) != OPG_OK)
            return rc;
        opgi_node_insert(r, slot, &n);
    }

    uint32_t n_dels = opgi_r_count(rd, 32 + 32 + 32 + 8 + 8 + 32);
    if (!rd->bad && n_dels && (rc = opgi_del_reserve(r, n_dels)) != OPG_OK)
        return rc;
    opg_id prev_dtor, prev_op;
    for (uint32_t i = 0; i < n_dels && !rd->bad; i++) {
        opg_id dtor, op;
        opgi_r_id(rd, &dtor);
        opgi_r_id(rd, &op);
        if (rd->bad)
            break;
        if (i > 0) {
            int c = opg_id_cmp(&prev_dtor, &dtor);
            if (c > 0 || (c == 0 && opg_id_cmp(&prev_op, &op) >= 0))
                return OPG_ECORRUPT;
        }
        prev_dtor = dtor;
        prev_op = op;
        uint32_t node = opgi_node_find(r, &op);
        if (node == OPGI_NONE)
            return OPG_ECORRUPT;
        uint32_t s = opgi_del_add(r, &dtor, node);
        opgi_delegation *d = &r->dels[s];
        opgi_r_dec(rd, &d->shares);
        d->f1.period = opgi_r_u64(rd);
        d->f1.height = opgi_r_u64(rd);
        opgi_r_dec(rd, &d->f1.stake);
    }

    uint32_t n_ubd = opgi_r_count(rd, 2 * 32 + 8 + 8 + 2 * 32 + 8);
    if (!rd->bad && ((rc = opgi_queue_reserve(r, &r->unbondings, n_ubd)) != OPG_OK ||
                     (rc = opgi_counter_reserve(r, &r->ubd_pairs, n_ubd)) != OPG_OK))
        return rc;
    opg_u256 ubd_sum = {{0, 0, 0, 0}};
    for (uint32_t i = 0; i < n_ubd && !rd->bad; i++) {
        opgi_unbonding u;
        opgi_r_id(rd, &u.delegator);
        opgi_r_id(rd, &u.node);
        u.creation_height = opgi_r_u64(rd);
        u.completion_time = opgi_r_i64(rd);
        opgi_r_u256(rd, &u.initial_balance);
        opgi_r_u256(rd, &u.balance);
        u.seq = opgi_r_u64(rd);
        if (u.seq >= r->next_seq || opg_u256_add(&ubd_sum, &ubd_sum, &u.balance))
            return OPG_ECORRUPT;
        if (i > 0) {
            const opgi_unbonding *prev = opgi_queue_at(&r->unbondings, i - 1);
            if (prev->completion_time > u.completion_time ||
                (prev->completion_time == u.completion_time && prev->seq >= u.seq))
                return OPG_ECORRUPT;
        }
        memcpy(opgi_queue_at(&r->unbondings, i), &u, sizeof u);
        r->unbondings.len++;
        unsigned char key[OPGI_KEY_MAX];
        opgi_counter_add(&r->ubd_pairs, opgi_key2(key, &u.delegator, &u.node));
    }
    if (!rd->bad && opg_u256_cmp(&ubd_sum, &r->unbonding_balance) != 0)
        return OPG_ECORRUPT;

    uint32_t n_red = opgi_r_count(rd, 3 * 32 + 8 + 8 + 32 + 32 + 8);
    if (!rd->bad && ((rc = opgi_queue_reserve(r, &r->redelegations, n_red)) != OPG_OK ||
                     (rc = opgi_counter_reserve(r, &r->red_into, n_red)) != OPG_OK ||
                     (rc = opgi_counter_reserve(r, &r->red_triples, n_red)) != OPG_OK))
        return rc;
    for (uint32_t i = 0; i < n_red && !rd->bad; i++) {
        opgi_redelegation e;
        opgi_r_id(rd, &e.delegator);
        opgi_r_id(rd, &e.src);
        opgi_r_id(rd, &e.dst);
        e.creation_height = opgi_r_u64(rd);
        e.completion_time = opgi_r_i64(rd);
        opgi_r_u256(rd, &e.initial_balance);
        opgi_r_dec(rd, &e.shares_dst);
        e.seq = opgi_r_u64(rd);
        if (e.seq >= r->next_seq)
            return OPG_ECORRUPT;
        if (i > 0) {
            const opgi_redelegation *prev = opgi_queue_at(&r->redelegations, i - 1);
            if (prev->completion_time > e.completion_time ||
                (prev->completion_time == e.completion_time && prev->seq >= e.seq))
                return OPG_ECORRUPT;
        }
        memcpy(opgi_queue_at(&r->redelegations, i), &e, sizeof e);
        r->redelegations.len++;
        unsigned char key[OPGI_KEY_MAX];
        opgi_counter_add(&r->red_into, opgi_key2(key, &e.delegator, &e.dst));
        opgi_counter_add(&r->red_triples, opgi_key3(key, &e.delegator, &e.src, &e.dst));
    }
    if (rd->bad)
        return OPG_ECORRUPT;
    if ((rc = load_history(r, rd)) != OPG_OK)
        return rc;
    if ((rc = opgi_r_finish(rd)) != OPG_OK)
        return rc;
    /* the shares of every node must be exactly its delegations' (the check itself
     * allocates: running out of memory there is not corruption) */
    rc = opg_registry_check(r);
    if (rc != OPG_OK)
        return rc == OPG_ENOMEM ? OPG_ENOMEM : OPG_ECORRUPT;
    return OPG_OK;
}

int opg_registry_load(opg_registry **out, const uint8_t *buf, size_t len,
                      const opg_allocator *alloc)
{
    if (!out || (!buf && len))
        return OPG_EINVAL;
    char err[OPGI_ERRMSG_MAX];
    opgi_reader rd;
    opgi_reader_init(&rd, buf, len);
    uint16_t version;
    int rc = opgi_r_header(&rd, OPGI_KIND_REGISTRY, REGISTRY_VERSION, &version);
    if (rc)
        return rc;
    if (version < REGISTRY_VERSION)
        return OPG_EVERSION;
    opg_registry *r;
    if ((rc = opgi_registry_create(&r, NULL, alloc, err)) != OPG_OK)
        return rc;
    rc = load_body(r, &rd);
    if (rc) {
        opg_registry_free(r);
        return rc;
    }
    r->err[0] = '\0';
    *out = r;
    return OPG_OK;
}

/* ------------------------------------------------------------- invariants */

static const unsigned char *ubd_key(unsigned char *key, const void *item)
{
    const opgi_unbonding *u = item;
    return opgi_key2(key, &u->delegator, &u->node);
}

static const unsigned char *red_into_key(unsigned char *key, const void *item)
{
    const opgi_redelegation *e = item;
    return opgi_key2(key, &e->delegator, &e->dst);
}

static const unsigned char *red_triple_key(unsigned char *key, const void *item)
{
    const opgi_redelegation *e = item;
    return opgi_key3(key, &e->delegator, &e->src, &e->dst);
}

/* A counter holds exactly the queue's items by key: every count matched once. */
static int counter_matches(opg_registry *r, const opgi_counter *c, const opgi_queue *q,
                           const unsigned char *(*key_of)(unsigned char *, const void *))
{
    size_t cap = c->cap ? c->cap : 1;
    uint32_t *left = opgi_alloc_array(&r->alloc, cap, sizeof *left);
    if (!left)
        return OPG_ENOMEM;
    int rc = OPG_OK;
    uint32_t keys = 0;
    for (uint32_t k = 0; k < c->cap; k++) {
        left[k] = opgi_counter_at(c, k);
        keys += left[k] != 0;
    }
    if (keys != c->len)
        rc = opgi_fail(r->err, OPG_EINVARIANT, "an entry counter's length is wrong", NULL);
    for (size_t i = 0; i < q->len && rc == OPG_OK; i++) {
        unsigned char key[OPGI_KEY_MAX];
        uint32_t k = opgi_counter_find(c, key_of(key, opgi_queue_at(q, i)));
        if (k == OPGI_NONE || left[k] == 0)
            rc = opgi_fail(r->err, OPG_EINVARIANT, "a queue entry is not counted", NULL);
        else
            left[k]--;
    }
    for (uint32_t k = 0; k < c->cap && rc == OPG_OK; k++)
        if (left[k])
            rc = opgi_fail(r->err, OPG_EINVARIANT, "an entry counter counts too many", NULL);
    opgi_free(&r->alloc, left, cap * sizeof *left);
    return rc;
}

int opg_registry_check(opg_registry *r)
{
    if (!r)
        return OPG_EINVAL;
    opg_dec *sums = opgi_alloc_array(&r->alloc, r->node_slots ? r->node_slots : 1, sizeof *sums);
    uint64_t *counts = opgi_alloc_array(&r->alloc, r->node_slots ? r->node_slots : 1, sizeof *counts);
    int rc = OPG_OK;
    if (!sums || !counts) {
        rc = OPG_ENOMEM;
        goto done;
    }
    memset(sums, 0, (size_t)(r->node_slots ? r->node_slots : 1) * sizeof *sums);
    memset(counts, 0, (size_t)(r->node_slots ? r->node_slots : 1) * sizeof *counts);
    uint32_t live = 0;
    for (uint32_t s = 0; s < r->del_slots; s++) {
        const opgi_delegation *d = &r->dels[s];
        if (d->node == OPGI_NONE)
            continue;
        live++;
        if (d->node >= r->node_slots || !r->nodes[d->node].in_use) {
            rc = opgi_fail(r->err, OPG_EINVARIANT, "delegation to a missing node", NULL);
            goto done;
        }
        if (opgi_del_find(r, &d->delegator, d->node) != s) {
            rc = opgi_fail(r->err, OPG_EINVARIANT, "delegation index does not find a record", NULL);
            goto done;
        }
        if (opg_dec_add(&sums[d->node], &sums[d->node], &d->shares) != OPG_OK) {
            rc = opgi_fail(r->err, OPG_EINVARIANT, "shares overflow", NULL);
            goto done;
        }
        counts[d->node]++;
    }
    if (live != r->del_count) {
        rc = opgi_fail(r->err, OPG_EINVARIANT, "delegation count disagrees with the records", NULL);
        goto done;
    }
    for (uint32_t s = 0; s < r->node_slots; s++) {
        const opgi_node *n = &r->nodes[s];
        if (!n->in_use)
            continue;
        if (opg_dec_cmp(&sums[s], &n->delegator_shares) != 0) {
            rc = opgi_fail(r->err, OPG_EINVARIANT, "a node's shares differ from its delegations'", NULL);
            goto done;
        }
        if (counts[s] != n->delegation_count) {
            rc = opgi_fail(r->err, OPG_EINVARIANT, "a node's delegation count is wrong", NULL);
            goto done;
        }
    }
    opg_u256 ubd = {{0, 0, 0, 0}};
    for (size_t i = 0; i < r->unbondings.len; i++)
        if (opg_u256_add(&ubd, &ubd, &((const opgi_unbonding *)opgi_queue_at(&r->unbondings, i))->balance))
            memset(ubd.limb, 0xff, sizeof ubd.limb); /* an overflow cannot match either */
    if (opg_u256_cmp(&ubd, &r->unbonding_balance) != 0) {
        rc = opgi_fail(r->err, OPG_EINVARIANT, "unbonding balance disagrees with the entries", NULL);
        goto done;
    }
    /* the entry counters are exactly the queues' */
    if ((rc = counter_matches(r, &r->ubd_pairs, &r->unbondings, ubd_key)) != OPG_OK ||
        (rc = counter_matches(r, &r->red_into, &r->redelegations, red_into_key)) != OPG_OK ||
        (rc = counter_matches(r, &r->red_triples, &r->redelegations, red_triple_key)) != OPG_OK)
        goto done;
    /* the consensus history in order; a node is tombstoned exactly when its address is */
    for (size_t i = r->times_head + 1; i < r->n_times; i++)
        if (r->times[i - 1].height >= r->times[i].height) {
            rc = opgi_fail(r->err, OPG_EINVARIANT, "block times out of height order", NULL);
            goto done;
        }
    for (size_t i = 1; i < r->n_powers; i++) {
        int c = opg_id_cmp(&r->powers[i - 1].key, &r->powers[i].key);
        if (c > 0 || (c == 0 && r->powers[i - 1].height >= r->powers[i].height)) {
            rc = opgi_fail(r->err, OPG_EINVARIANT, "power records out of order", NULL);
            goto done;
        }
    }
    for (size_t i = 1; i < r->n_tombs; i++)
        if (opg_id_cmp(&r->tombs[i - 1], &r->tombs[i]) >= 0) {
            rc = opgi_fail(r->err, OPG_EINVARIANT, "tombstones out of order", NULL);
            goto done;
        }
    for (uint32_t s = 0; s < r->node_slots; s++) {
        const opgi_node *n = &r->nodes[s];
        opg_id addr;
        if (!n->in_use)
            continue;
        opgi_consensus_address(&addr, &n->consensus_key);
        if (opg_id_cmp(&addr, &n->address) != 0 || !n->tombstoned != !opgi_tomb_has(r, &addr)) {
            rc = opgi_fail(r->err, OPG_EINVARIANT, "a node's address or tombstone disagrees", NULL);
            goto done;
        }
    }
done:
    opgi_free(&r->alloc, sums, (size_t)(r->node_slots ? r->node_slots : 1) * sizeof *sums);
    opgi_free(&r->alloc, counts, (size_t)(r->node_slots ? r->node_slots : 1) * sizeof *counts);
    return rc;
}
