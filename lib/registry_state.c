/*
 * registry_state.c - delegations in key order (for records and snapshots, which
 * lib/registry_records.c writes and reads), the node field checks, and the invariant
 * check.
 */
#include "registry_ops.h"

#include "codec.h"
#include "num.h"



/* A delegation's place in key order. The first 8 bytes of the delegator, big-endian,
 * are kept in the key itself, so that almost every comparison is decided without
 * reaching into the (large, randomly ordered) delegation pool. */

static uint64_t id_head(const opg_id *id)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | id->bytes[i];
    return v;
}

static int key_less(const opgi_del_ref *x, const opgi_del_ref *y)
{
    if (x->head != y->head)
        return x->head < y->head;
    int c = opg_id_cmp(&x->d->delegator, &y->d->delegator);
    return c ? c < 0 : opg_id_cmp(x->operator_id, y->operator_id) < 0;
}

/* Bottom-up merge sort of keys[0, n) through tmp[n]: insertion-sorted runs of 8,
 * then merges of doubling width. O(n log n) at worst. */
static void merge_sort(opgi_del_ref *keys, opgi_del_ref *tmp, size_t n)
{
    enum { RUN = 8 };
    for (size_t lo = 0; lo < n; lo += RUN) {
        size_t hi = lo + RUN < n ? lo + RUN : n;
        for (size_t i = lo + 1; i < hi; i++) {
            opgi_del_ref k = keys[i];
            size_t j = i;
            for (; j > lo && key_less(&k, &keys[j - 1]); j--)
                keys[j] = keys[j - 1];
            keys[j] = k;
        }
    }
    opgi_del_ref *src = keys, *dst = tmp;
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
        opgi_del_ref *t = src;
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
static void sort_keys(opgi_del_ref **keys, opgi_del_ref **tmp, size_t n)
{
    static const size_t B = (size_t)1 << DIGIT_BITS;
    uint32_t count[DIGITS][(size_t)1 << DIGIT_BITS]; /* n < 2^32: del_count is a uint32 */
    memset(count, 0, sizeof count);
    opgi_del_ref *src = *keys, *dst = *tmp;
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
        opgi_del_ref *t = src;
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
int opgi_sorted_delegations(const opg_registry *r, opgi_del_ref **out)
{
    size_t n = r->del_count ? r->del_count : 1;
    opgi_del_ref *keys = opgi_alloc_array(&r->alloc, n, sizeof *keys);
    opgi_del_ref *tmp = opgi_alloc_array(&r->alloc, n, sizeof *tmp);
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

void opgi_sorted_delegations_free(const opg_registry *r, opgi_del_ref *keys)
{
    opgi_free(&r->alloc, keys, (size_t)(r->del_count ? r->del_count : 1) * sizeof *keys);
}

static int valid_dec_le_one(const opg_dec *d)
{
    opg_dec one;
    opg_dec_from_u64(&one, 1);
    return opg_dec_cmp(d, &one) <= 0;
}

int opgi_node_fields_valid(const opgi_node *n)
{
    return n->roles != 0 && !(n->roles & ~OPG_ROLE_ALL) && n->status <= OPG_NODE_BONDED &&
           valid_dec_le_one(&n->max_rate) && opg_dec_cmp(&n->rate, &n->max_rate) <= 0 &&
           opg_dec_cmp(&n->max_change_rate, &n->max_rate) <= 0;
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

static const unsigned char *ubd_node_key(unsigned char *key, const void *item)
{
    memcpy(key, ((const opgi_unbonding *)item)->node.bytes, 32);
    return key;
}

static const unsigned char *ubd_dtor_key(unsigned char *key, const void *item)
{
    memcpy(key, ((const opgi_unbonding *)item)->delegator.bytes, 32);
    return key;
}

static const unsigned char *red_src_key(unsigned char *key, const void *item)
{
    memcpy(key, ((const opgi_redelegation *)item)->src.bytes, 32);
    return key;
}

static const unsigned char *red_dtor_key(unsigned char *key, const void *item)
{
    memcpy(key, ((const opgi_redelegation *)item)->delegator.bytes, 32);
    return key;
}

static uint32_t item_link(const opgi_queue *q, const void *item)
{
    /* the link is the last field of both entry kinds */
    uint32_t l;
    memcpy(&l, (const unsigned char *)item + (q->size == sizeof(opgi_unbonding)
                                                  ? offsetof(opgi_unbonding, link)
                                                  : offsetof(opgi_redelegation, link)),
           sizeof l);
    return l;
}

/* Every queue item has its own link, which names it by (time, seq). */
static int links_match(opg_registry *r, const opgi_links *L, const opgi_queue *q)
{
    if (L->used > L->cap || L->n_free > L->used || q->len != (size_t)(L->used - L->n_free))
        return opgi_fail(r->err, OPG_EINVARIANT, "an entry index holds other than its queue", NULL);
    for (size_t i = 0; i < q->len; i++) {
        const unsigned char *item = opgi_queue_at(q, i);
        uint32_t l = item_link(q, item);
        opg_time t;
        uint64_t seq;
        memcpy(&t, item + q->time_offset, sizeof t);
        memcpy(&seq, item + q->seq_offset, sizeof seq);
        if (l >= L->used || L->items[l].time != t || L->items[l].seq != seq)
            return opgi_fail(r->err, OPG_EINVARIANT, "a queue entry's link is wrong", NULL);
    }
    return OPG_OK;
}

/* Each key's chain in a chained counter lists exactly its entries, in queue order:
 * (with counter_matches and links_match) as many links as the count, each the link of
 * a queued entry of that key, in ascending (time, seq), linked both ways. */
static int chains_match(opg_registry *r, const opgi_counter *c, const opgi_links *L,
                        const opgi_queue *q,
                        const unsigned char *(*key_of)(unsigned char *, const void *))
{
    int ch = (int)c->chained - 1;
    for (uint32_t k = 0; k < c->cap; k++) {
        uint32_t n = opgi_counter_at(c, k), seen = 0, prev = OPGI_NONE;
        if (!n)
            continue;
        for (uint32_t l = opgi_chain_end_at(c, k, 0); l != OPGI_NONE; l = L->items[l].next[ch]) {
            unsigned char key[OPGI_KEY_MAX];
            if (l >= L->used || ++seen > n || L->items[l].prev[ch] != prev)
                return opgi_fail(r->err, OPG_EINVARIANT, "an entry chain is broken", NULL);
            const opgi_link *x = &L->items[l];
            size_t i = opgi_queue_find(q, x->time, x->seq);
            if (i == SIZE_MAX || item_link(q, opgi_queue_at(q, i)) != l ||
                opgi_counter_find(c, key_of(key, opgi_queue_at(q, i))) != k)
                return opgi_fail(r->err, OPG_EINVARIANT, "an entry chain holds a wrong entry", NULL);
            if (prev != OPGI_NONE && (L->items[prev].time > x->time ||
                                      (L->items[prev].time == x->time && L->items[prev].seq >= x->seq)))
                return opgi_fail(r->err, OPG_EINVARIANT, "an entry chain out of queue order", NULL);
            prev = l;
        }
        if (seen != n || opgi_chain_end_at(c, k, 1) != prev)
            return opgi_fail(r->err, OPG_EINVARIANT, "an entry chain's length or tail is wrong", NULL);
    }
    return OPG_OK;
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
        (rc = counter_matches(r, &r->red_triples, &r->redelegations, red_triple_key)) != OPG_OK ||
        (rc = counter_matches(r, &r->ubd_nodes, &r->unbondings, ubd_node_key)) != OPG_OK ||
        (rc = counter_matches(r, &r->ubd_dtors, &r->unbondings, ubd_dtor_key)) != OPG_OK ||
        (rc = counter_matches(r, &r->red_srcs, &r->redelegations, red_src_key)) != OPG_OK ||
        (rc = counter_matches(r, &r->red_dtors, &r->redelegations, red_dtor_key)) != OPG_OK)
        goto done;
    /* and the chains through them list each key's entries in queue order */
    if ((rc = links_match(r, &r->ubd_links, &r->unbondings)) != OPG_OK ||
        (rc = links_match(r, &r->red_links, &r->redelegations)) != OPG_OK ||
        (rc = chains_match(r, &r->ubd_pairs, &r->ubd_links, &r->unbondings, ubd_key)) != OPG_OK ||
        (rc = chains_match(r, &r->ubd_nodes, &r->ubd_links, &r->unbondings, ubd_node_key)) != OPG_OK ||
        (rc = chains_match(r, &r->ubd_dtors, &r->ubd_links, &r->unbondings, ubd_dtor_key)) != OPG_OK ||
        (rc = chains_match(r, &r->red_srcs, &r->red_links, &r->redelegations, red_src_key)) != OPG_OK ||
        (rc = chains_match(r, &r->red_dtors, &r->red_links, &r->redelegations, red_dtor_key)) != OPG_OK)
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
