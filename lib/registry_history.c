/*
 * registry_history.c - what evidence is judged by: consensus addresses, tombstones
 * per address (kept after the node is removed), and the consensus history (block
 * times by height, validator-set powers by key and height) for the evidence window.
 *
 * Memory: one block time per end_block still in the window plus one power record per
 * update in the window and one per key in the set; pruning is O(records) once per
 * end_block.
 */
#include "registry_ops.h"

#include <sodium.h>

void opgi_consensus_address(opg_id *out, const opg_id *key)
{
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, key->bytes, sizeof key->bytes);
    memset(out, 0, sizeof *out);
    memcpy(out->bytes, h, 20);
}

/* ------------------------------------------------------------- tombstones */

static size_t tomb_search(const opg_registry *r, const opg_id *addr, int *found)
{
    size_t lo = 0, hi = r->n_tombs;
    *found = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = opg_id_cmp(&r->tombs[mid], addr);
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

int opgi_tomb_has(const opg_registry *r, const opg_id *addr)
{
    int found;
    tomb_search(r, addr, &found);
    return found;
}

int opgi_tomb_reserve(opg_registry *r, size_t more)
{
    void *p = r->tombs;
    int rc = opgi_grow(&r->alloc, &p, &r->tombs_cap, r->n_tombs + more, sizeof *r->tombs);
    r->tombs = p;
    return rc ? rc : opgi_touch_reserve(r, 2 * more); /* the node's record and its tombstone */
}

void opgi_tomb_node(opg_registry *r, uint32_t slot)
{
    opgi_node *n = &r->nodes[slot];
    n->tombstoned = 1;
    opgi_touch_node(r, slot);
    int found;
    size_t at = tomb_search(r, &n->address, &found);
    if (found)
        return;
    opgi_touch_tombstone(r, &n->address);
    if (OPGI_NEVER(NULL, r->n_tombs >= r->tombs_cap))
        return;
    memmove(&r->tombs[at + 1], &r->tombs[at], (r->n_tombs - at) * sizeof *r->tombs);
    r->tombs[at] = n->address;
    r->n_tombs++;
}

/* ---------------------------------------------------------------- history */

int opgi_history_reserve(opg_registry *r, size_t updates)
{
    /* the times' dead front is reused before the array grows */
    if (r->times_head > 0 && r->n_times == r->times_cap) {
        memmove(r->times, r->times + r->times_head,
                (r->n_times - r->times_head) * sizeof *r->times);
        r->n_times -= r->times_head;
        r->times_head = 0;
    }
    void *t = r->times, *p = r->powers;
    int rc = opgi_grow(&r->alloc, &t, &r->times_cap, r->n_times + 1, sizeof *r->times);
    r->times = t;
    if (rc == OPG_OK)
        rc = opgi_grow(&r->alloc, &p, &r->powers_cap, r->n_powers + updates, sizeof *r->powers);
    r->powers = p;
    /* records: the new time and updates, and whatever of the history may leave */
    if (rc == OPG_OK)
        rc = opgi_touch_reserve(r, 1 + updates + (r->n_times - r->times_head) + r->n_powers);
    return rc;
}

/* First record of a key above (key, height): where (key, height) goes. */
static size_t power_upper(const opg_registry *r, const opg_id *key, opg_height height)
{
    size_t lo = 0, hi = r->n_powers;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const opgi_power_rec *p = &r->powers[mid];
        int c = opg_id_cmp(&p->key, key);
        if (c < 0 || (c == 0 && p->height <= height))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void opgi_history_power(opg_registry *r, const opg_id *key, opg_height height, uint64_t power)
{
    /* this record, or the one it follows, may drop once the floor reaches height + 2 */
    opg_height drop = height > UINT64_MAX - 2 ? UINT64_MAX : height + 2;
    if (drop < r->powers_prune_at)
        r->powers_prune_at = drop;
    size_t at = power_upper(r, key, UINT64_MAX);
    if (at > 0 && opg_id_cmp(&r->powers[at - 1].key, key) == 0 &&
        r->powers[at - 1].height >= height) {
        /* a height that does not increase: its update replaces the last one */
        r->powers[at - 1].power = power;
        opgi_touch_power(r, &r->powers[at - 1]);
        return;
    }
    if (OPGI_NEVER(NULL, r->n_powers >= r->powers_cap))
        return;
    memmove(&r->powers[at + 1], &r->powers[at], (r->n_powers - at) * sizeof *r->powers);
    r->powers[at].key = *key;
    r->powers[at].height = height;
    r->powers[at].power = power;
    r->n_powers++;
    opgi_touch_power(r, &r->powers[at]);
}

/* Evidence at (h, t) would be refused as too old at (height, now): both limits. */
static int too_old(const opg_registry *r, opg_height h, opg_time t, opg_height height,
                   opg_time now)
{
    uint64_t blocks;
    opg_time duration;
    opgi_history_window(r, &blocks, &duration);
    int old_time = now > t && (uint64_t)now - (uint64_t)t > (uint64_t)duration;
    int old_blocks = height > h && height - h > blocks;
    return old_time && old_blocks;
}

void opgi_history_block(opg_registry *r, opg_height height, opg_time now)
{
    if (r->n_times == r->times_head || r->times[r->n_times - 1].height < height) {
        if (OPGI_NEVER(NULL, r->n_times >= r->times_cap))
            return;
        r->times[r->n_times].height = height;
        r->times[r->n_times].time = now;
        r->n_times++;
        opgi_touch_block_time(r, height);
    }
    /* keep the newest entry that is too old: the floor of the heights after it */
    while (r->n_times - r->times_head >= 2 &&
           too_old(r, r->times[r->times_head + 1].height, r->times[r->times_head + 1].time,
                   height, now))
        opgi_touch_block_time(r, r->times[r->times_head++].height);
    /* evidence below the floor h0 is refused; at h >= h0 it reads the last record at
     * or below h - 2 >= h0 - 2: a record followed by one of the same key at or below
     * h0 - 2 is never read, nor a last record of power 0 there (as good as none) */
    const opg_height h0 = r->times[r->times_head].height;
    /* a record drops once the floor reaches its successor's height + 2 (the last of a
     * key's: its own, at power 0); below the least of those the pass would drop
     * nothing, so it is skipped (a block then costs nothing here, whatever the
     * history holds); the pass finds the least of what stays */
    if (h0 < r->powers_prune_at)
        return;
    size_t keep = 0;
    opg_height next = UINT64_MAX;
    for (size_t i = 0; i < r->n_powers; i++) {
        const opgi_power_rec *p = &r->powers[i];
        int last = i + 1 == r->n_powers || opg_id_cmp(&r->powers[i + 1].key, &p->key) != 0;
        opg_height at = UINT64_MAX; /* the floor it drops at */
        if (!last)
            at = r->powers[i + 1].height > UINT64_MAX - 2 ? UINT64_MAX : r->powers[i + 1].height + 2;
        else if (p->power == 0)
            at = p->height > UINT64_MAX - 2 ? UINT64_MAX : p->height + 2;
        if (at > h0) {
            r->powers[keep++] = *p;
            next = at < next ? at : next;
        } else
            opgi_touch_power(r, p);
    }
    r->n_powers = keep;
    r->powers_prune_at = next;
}

int opgi_history_time(const opg_registry *r, opg_height h, opg_time *time, int *exact)
{
    size_t lo = r->times_head, hi = r->n_times;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->times[mid].height <= h)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == r->times_head)
        return OPG_EEXPIRED;
    *time = r->times[lo - 1].time;
    *exact = r->times[lo - 1].height == h;
    return OPG_OK;
}

uint64_t opgi_history_power_at(const opg_registry *r, const opg_id *key, opg_height h)
{
    if (h < 2)
        return 0;
    size_t at = power_upper(r, key, h - 2);
    if (at == 0 || opg_id_cmp(&r->powers[at - 1].key, key) != 0)
        return 0;
    return r->powers[at - 1].power;
}

void opgi_history_window(const opg_registry *r, uint64_t *blocks, opg_time *duration)
{
    int any = 0;
    *blocks = 0;
    *duration = 0;
    for (size_t i = 0; i < r->n_engines; i++) {
        if (!r->engines[i].history_window)
            continue;
        uint64_t b;
        opg_time d;
        r->engines[i].history_window(r->engines[i].ctx, &b, &d);
        *blocks = any && *blocks > b ? *blocks : b;
        *duration = any && *duration > d ? *duration : d;
        any = 1;
    }
    if (!any) {
        *blocks = OPGI_HIST_BLOCKS;
        *duration = OPGI_HIST_DURATION;
    }
}

void opgi_history_free(opg_registry *r)
{
    opgi_free(&r->alloc, r->times, r->times_cap * sizeof *r->times);
    opgi_free(&r->alloc, r->powers, r->powers_cap * sizeof *r->powers);
    opgi_free(&r->alloc, r->tombs, r->tombs_cap * sizeof *r->tombs);
}

/* ---------------------------------------------------------------- queries */

int opg_registry_block_time(opg_time *out, const opg_registry *r, opg_height height)
{
    if (!out || !r)
        return OPG_EINVAL;
    int exact;
    return opgi_history_time(r, height, out, &exact);
}

int opg_registry_power_at(uint64_t *out, const opg_registry *r, const opg_id *consensus_key,
                          opg_height height)
{
    if (!out || !r || !consensus_key)
        return OPG_EINVAL;
    opg_time t;
    int exact;
    if (opgi_history_time(r, height, &t, &exact) != OPG_OK)
        return OPG_EEXPIRED;
    *out = opgi_history_power_at(r, consensus_key, height);
    return OPG_OK;
}

int opg_registry_consensus_address(uint8_t out[20], const opg_id *consensus_key)
{
    if (!out || !consensus_key)
        return OPG_EINVAL;
    opg_id a;
    opgi_consensus_address(&a, consensus_key);
    memcpy(out, a.bytes, 20);
    return OPG_OK;
}

int opg_registry_node_by_address(opg_id *operator_id, const opg_registry *r,
                                 const uint8_t address[20])
{
    if (!operator_id || !r || !address)
        return OPG_EINVAL;
    opg_id a;
    memset(&a, 0, sizeof a);
    memcpy(a.bytes, address, 20);
    uint32_t s = opgi_node_find_by_addr(r, &a);
    if (s == OPGI_NONE)
        return OPG_ENOTFOUND;
    *operator_id = r->nodes[s].operator_id;
    return OPG_OK;
}

int opg_registry_key_tombstoned(const opg_registry *r, const opg_id *consensus_key)
{
    if (!r || !consensus_key)
        return 0;
    opg_id a;
    opgi_consensus_address(&a, consensus_key);
    return opgi_tomb_has(r, &a);
}

/* ------------------------------------------------------------ key checks */

int opgi_consensus_key_check(const opg_id *key)
{
    /* canonical encoding, on the curve, of prime order: not the identity nor any
     * other point of small order (no signature verifies under those) */
    if (sodium_init() < 0) {
        /* only a failing random source makes it fail; the point check does not use one */
    }
    return crypto_core_ed25519_is_valid_point(key->bytes) ? OPG_OK : OPG_ECONSKEY;
}
