/*
 * merkle.c - the incremental sparse Merkle tree (lib/merkle.h; hashing and proof
 * format in include/opg_proof.h).
 *
 * Physical layout. A node covers one nibble (four binary levels) of key_hash: node
 * depth d (0..63) branches on nibble d. Its 16 slots are empty, a leaf (exactly one
 * record below) or a child node (two or more records below). The root node (index
 * 0) always exists and may hold zero or one record; any other node holds at least
 * two records (a node left with one leaf is replaced by that leaf).
 *
 * Inside a node the binary subtrees are numbered as a heap: range 1 is the whole
 * node (binary depth 4d), ranges 2i and 2i+1 its halves, ranges 16..31 the slots.
 * node.hash is range 1's hash. A node with at least CACHE_MIN children also holds
 * the hashes of ranges 2..15 (those with two or more records), so rehashing after a
 * change in one slot costs four hashes instead of up to fifteen. The cache is an
 * optimisation only: a node without one computes the same hashes.
 *
 * Nodes, leaves and caches live in pools of fixed-size items in chunks, addressed
 * by uint32 indexes, with free lists. A batch first counts (upper bounds of) the
 * nodes and leaves it can need and reserves them; the apply phase then takes from
 * the free lists and cannot fail (a cache that cannot be allocated is skipped).
 */
#include "merkle.h"

#include "internal.h"
#include "opg_proof.h"

#include <sodium.h>
#include <stdlib.h>

#ifndef CACHE_MIN
#define CACHE_MIN 6 /* children from which a node keeps its inner hashes */
#endif
#define NONE UINT32_MAX

typedef struct mnode {
    uint8_t hash[32];
    uint32_t child[16]; /* leaf or node index by slot; free list link in child[0] */
    uint16_t used;      /* slot s non-empty: bit s */
    uint16_t leaves;    /* slot s holds a leaf: bit s (subset of used) */
    uint32_t cache;     /* cache index, NONE for none */
} mnode;

typedef struct mleaf {
    uint8_t key_hash[32];
    uint8_t value_hash[32]; /* for proofs of absence that end at this record */
    uint8_t leaf_hash[32];  /* H(key_hash || value_hash), kept: hashed on every rehash */
} mleaf;

typedef struct mcache {
    uint8_t h[14][32]; /* ranges 2..15 */
} mcache;

/* A pool of fixed-size items in chunks of CHUNK items. */
typedef struct pool {
    uint8_t **chunks;
    size_t nchunks, cap_chunks;
    size_t item;    /* bytes per item */
    unsigned shift; /* CHUNK = 1 << shift items per chunk */
    uint32_t free_head;
    size_t free_count;
} pool;

struct opgi_merkle {
    opg_allocator alloc;
    pool nodes, leaves, caches;
    size_t count;
    uint64_t hashes; /* inner hashes computed by opgi_merkle_apply so far */
};

static const uint8_t ZERO[32];

/* ------------------------------------------------------------------ pools */

static void *pool_at(const pool *p, uint32_t i)
{
    return p->chunks[i >> p->shift] + (size_t)(i & ((1u << p->shift) - 1)) * p->item;
}

static uint32_t *pool_link(const pool *p, uint32_t i)
{
    return (uint32_t *)pool_at(p, i); /* items are multiples of 4 bytes in malloc'd chunks */
}

/* One more chunk onto the free list. */
static int pool_add_chunk(const opg_allocator *a, pool *p)
{
    const uint32_t CHUNK = 1u << p->shift;
    if (p->nchunks >= (size_t)(UINT32_MAX >> p->shift))
        return OPG_ENOMEM;
    if (opgi_grow(a, (void **)&p->chunks, &p->cap_chunks, p->nchunks + 1, sizeof *p->chunks))
        return OPG_ENOMEM;
    uint8_t *c = opgi_alloc_array(a, CHUNK, p->item);
    if (!c)
        return OPG_ENOMEM;
    p->chunks[p->nchunks] = c;
    uint32_t base = (uint32_t)(p->nchunks << p->shift);
    p->nchunks++;
    for (uint32_t k = CHUNK; k-- > 0;) {
        uint32_t i = base + k;
        if (i == NONE)
            continue;
        *pool_link(p, i) = p->free_head;
        p->free_head = i;
        p->free_count++;
    }
    return OPG_OK;
}

static int pool_reserve(const opg_allocator *a, pool *p, size_t need)
{
    while (p->free_count < need)
        if (pool_add_chunk(a, p))
            return OPG_ENOMEM;
    return OPG_OK;
}

static uint32_t pool_take(pool *p)
{
    if (OPGI_NEVER(NULL, p->free_count == 0))
        return NONE;
    uint32_t i = p->free_head;
    p->free_head = *pool_link(p, i);
    p->free_count--;
    return i;
}

static void pool_put(pool *p, uint32_t i)
{
    *pool_link(p, i) = p->free_head;
    p->free_head = i;
    p->free_count++;
}

static void pool_free(const opg_allocator *a, pool *p)
{
    for (size_t i = 0; i < p->nchunks; i++)
        opgi_free(a, p->chunks[i], ((size_t)1 << p->shift) * p->item);
    opgi_free(a, p->chunks, p->cap_chunks * sizeof *p->chunks);
}

static mnode *N(const opgi_merkle *t, uint32_t i) { return pool_at(&t->nodes, i); }
static mleaf *L(const opgi_merkle *t, uint32_t i) { return pool_at(&t->leaves, i); }
static mcache *C(const opgi_merkle *t, uint32_t i) { return pool_at(&t->caches, i); }

/* ------------------------------------------------------------------ keys */

static unsigned nibble(const uint8_t kh[32], unsigned d)
{
    return d & 1 ? kh[d >> 1] & 15u : kh[d >> 1] >> 4;
}

/* Number of leading nibbles two key hashes share (64 if equal). */
static unsigned lcp_nibbles(const uint8_t a[32], const uint8_t b[32])
{
    for (unsigned i = 0; i < 32; i++)
        if (a[i] != b[i])
            return 2 * i + ((a[i] ^ b[i]) >> 4 ? 0 : 1);
    return 64;
}

static int popcount16(unsigned x) { return __builtin_popcount(x & 0xffffu); }

/* ------------------------------------------------------------ node hashing */

/* Slot mask of heap range i (1..31). */
static unsigned range_mask(unsigned i)
{
    unsigned level = i >= 16 ? 4 : i >= 8 ? 3 : i >= 4 ? 2 : i >= 2 ? 1 : 0;
    unsigned width = 16u >> level, first = (i - (1u << level)) * width;
    return ((1u << width) - 1) << first;
}

static const uint8_t *slot_hash(const opgi_merkle *t, const mnode *n, unsigned s)
{
    return (n->leaves >> s) & 1 ? L(t, n->child[s])->leaf_hash : N(t, n->child[s])->hash;
}

/*
 * Hash of range i of node n into out. Ranges that meet `dirty` are computed (and,
 * when the node has a cache and store is not NULL, written to it, *store counting
 * the inner hashes computed); the others come from the cache where there is one.
 */
static void range_hash(const opgi_merkle *t, const mnode *n, unsigned i, unsigned dirty,
                       uint64_t *store, uint8_t out[32])
{
    unsigned m = range_mask(i), u = m & n->used;
    if (u == 0) {
        memset(out, 0, 32);
        return;
    }
    if (i >= 16 || (popcount16(u) == 1 && (u & n->leaves))) {
        memcpy(out, slot_hash(t, n, (unsigned)__builtin_ctz(u)), 32);
        return;
    }
    if (i == 1 && !(m & dirty)) {
        memcpy(out, n->hash, 32);
        return;
    }
    mcache *c = n->cache != NONE ? C(t, n->cache) : NULL;
    if (c && i >= 2 && !(m & dirty)) {
        memcpy(out, c->h[i - 2], 32);
        return;
    }
    uint8_t l[32], r[32];
    range_hash(t, n, 2 * i, dirty, store, l);
    range_hash(t, n, 2 * i + 1, dirty, store, r);
    opgi_merkle_inner(out, l, r);
    if (store)
        ++*store;
    if (c && store && i >= 2)
        memcpy(c->h[i - 2], out, 32);
}

/* Recomputes n's hash after the slots in dirty changed. */
static void node_rehash(opgi_merkle *t, mnode *n, unsigned dirty)
{
    if (n->cache == NONE && popcount16(n->used) >= CACHE_MIN && t->caches.free_count > 0) {
        /* from what apply reserved (never allocated here: nothing after the
         * reservation may fail); without a cache the hashes are the same, only slower */
        n->cache = pool_take(&t->caches);
        dirty = 0xffff;
    }
    uint8_t h[32];
    range_hash(t, n, 1, dirty, &t->hashes, h);
    memcpy(n->hash, h, 32);
}

/* ------------------------------------------------------------- prefetching */

/*
 * A batch's paths are chains of dependent loads through a tree far larger than the
 * processor's caches: walked one change after another, every load of a node or a
 * leaf waits for the one before. warm() walks up to WARM changes side by side, one
 * depth per round, and asks for each next node or leaf before reading any of them,
 * so that their misses overlap; with `deep` it also asks for what rehashing will
 * read (a node's cache, the hashes of the children it recomputes from). Hints only:
 * nothing here changes the tree or any result.
 */
#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif
enum { WARM = 32 };

static void prefetch_item(const void *p, size_t size)
{
    const uint8_t *b = p;
    for (size_t o = 0; o < size; o += 64)
        PREFETCH(b + o);
    PREFETCH(b + size - 1);
}

static void prefetch_slot_hash(const opgi_merkle *t, const mnode *n, unsigned s)
{
    if ((n->leaves >> s) & 1)
        PREFETCH(L(t, n->child[s])->leaf_hash);
    else
        PREFETCH(N(t, n->child[s])->hash);
}

static void warm(const opgi_merkle *t, const opgi_merkle_change *c, size_t n, int deep)
{
    for (size_t base = 0; base < n; base += WARM) {
        size_t k = n - base < WARM ? n - base : WARM;
        uint32_t at[WARM];
        unsigned char done[WARM];
        for (size_t j = 0; j < k; j++) {
            at[j] = 0;
            done[j] = 0;
        }
        for (unsigned d = 0, active = 1; d < 64 && active; d++) {
            active = 0;
            for (size_t j = 0; j < k; j++) {
                if (done[j])
                    continue;
                const mnode *nd = N(t, at[j]);
                unsigned s = nibble(c[base + j].key_hash, d);
                if (deep) {
                    if (nd->cache != NONE) {
                        prefetch_item(C(t, nd->cache), sizeof(mcache));
                        if ((nd->used >> (s ^ 1)) & 1)
                            prefetch_slot_hash(t, nd, s ^ 1);
                    } else {
                        for (unsigned u = nd->used & ~(1u << s); u; u &= u - 1)
                            prefetch_slot_hash(t, nd, (unsigned)__builtin_ctz(u));
                    }
                }
                if (!((nd->used >> s) & 1)) {
                    done[j] = 1;
                } else if ((nd->leaves >> s) & 1) {
                    prefetch_item(L(t, nd->child[s]), sizeof(mleaf));
                    done[j] = 1;
                } else {
                    at[j] = nd->child[s];
                    prefetch_item(N(t, at[j]), sizeof(mnode));
                    active = 1;
                }
            }
        }
    }
}

/* ------------------------------------------------------------ public bits */

int opgi_merkle_new(opgi_merkle **out, const opg_allocator *a)
{
    if (!out)
        return OPG_EINVAL;
    opg_allocator al;
    opgi_allocator_init(&al, a);
    opgi_merkle *t = opgi_alloc(&al, sizeof *t);
    if (!t)
        return OPG_ENOMEM;
    memset(t, 0, sizeof *t);
    t->alloc = al;
    t->nodes.item = sizeof(mnode);
    t->leaves.item = sizeof(mleaf);
    t->caches.item = sizeof(mcache);
    t->nodes.shift = 8;
    t->leaves.shift = 8;
    t->caches.shift = 4;
    t->nodes.free_head = t->leaves.free_head = t->caches.free_head = NONE;
    /* the root node takes index 0: the first chunk's free list hands out 0 first */
    if (pool_add_chunk(&t->alloc, &t->nodes)) {
        opgi_merkle_free(t);
        return OPG_ENOMEM;
    }
    uint32_t r = pool_take(&t->nodes);
    mnode *root = N(t, r);
    memset(root, 0, sizeof *root);
    root->cache = NONE;
    if (sodium_init() < 0) { /* picks libsodium's fastest BLAKE2b; idempotent */
        opgi_merkle_free(t);
        return OPG_EINVARIANT;
    }
    *out = t;
    return OPG_OK;
}

void opgi_merkle_free(opgi_merkle *t)
{
    if (!t)
        return;
    pool_free(&t->alloc, &t->nodes);
    pool_free(&t->alloc, &t->leaves);
    pool_free(&t->alloc, &t->caches);
    opg_allocator a = t->alloc;
    opgi_free(&a, t, sizeof *t);
}

void opgi_merkle_root(const opgi_merkle *t, uint8_t out[32]) { memcpy(out, N(t, 0)->hash, 32); }

size_t opgi_merkle_count(const opgi_merkle *t) { return t->count; }

static size_t pool_bytes(const pool *p)
{
    return (p->nchunks << p->shift) * p->item + p->cap_chunks * sizeof *p->chunks;
}

size_t opgi_merkle_bytes(const opgi_merkle *t)
{
    return sizeof *t + pool_bytes(&t->nodes) + pool_bytes(&t->leaves) + pool_bytes(&t->caches);
}

void opgi_merkle_layout(const opgi_merkle *t, size_t out[6])
{
    const pool *p[3] = {&t->nodes, &t->leaves, &t->caches};
    for (int i = 0; i < 3; i++) {
        size_t cap = p[i]->nchunks << p[i]->shift;
        out[2 * i] = cap - p[i]->free_count;
        out[2 * i + 1] = cap;
    }
}

uint64_t opgi_merkle_hashes(const opgi_merkle *t) { return t->hashes; }

int opgi_merkle_get(const opgi_merkle *t, const uint8_t key_hash[32], uint8_t value_hash[32])
{
    const mnode *n = N(t, 0);
    for (unsigned d = 0; d < 64; d++) {
        unsigned s = nibble(key_hash, d);
        if (!((n->used >> s) & 1))
            return OPG_ENOTFOUND;
        if ((n->leaves >> s) & 1) {
            const mleaf *l = L(t, n->child[s]);
            if (memcmp(l->key_hash, key_hash, 32) != 0)
                return OPG_ENOTFOUND;
            memcpy(value_hash, l->value_hash, 32);
            return OPG_OK;
        }
        n = N(t, n->child[s]);
    }
    return OPG_ENOTFOUND;
}

/* ----------------------------------------------------------------- apply */

static int by_key(const void *a, const void *b)
{
    return memcmp(((const opgi_merkle_change *)a)->key_hash,
                  ((const opgi_merkle_change *)b)->key_hash, 32);
}

static uint32_t new_node(opgi_merkle *t)
{
    uint32_t i = pool_take(&t->nodes);
    mnode *n = N(t, i);
    memset(n, 0, sizeof *n);
    n->cache = NONE;
    return i;
}

static void free_node(opgi_merkle *t, uint32_t i)
{
    mnode *n = N(t, i);
    if (n->cache != NONE)
        pool_put(&t->caches, n->cache);
    pool_put(&t->nodes, i);
}

static void set_leaf(mnode *n, unsigned s, uint32_t leaf)
{
    n->child[s] = leaf;
    n->used = (uint16_t)(n->used | 1u << s);
    n->leaves = (uint16_t)(n->leaves | 1u << s);
}

static void set_node(mnode *n, unsigned s, uint32_t node)
{
    n->child[s] = node;
    n->used = (uint16_t)(n->used | 1u << s);
    n->leaves = (uint16_t)(n->leaves & ~(1u << s));
}

static void clear_slot(mnode *n, unsigned s)
{
    n->used = (uint16_t)(n->used & ~(1u << s));
    n->leaves = (uint16_t)(n->leaves & ~(1u << s));
}

static uint32_t add_leaf(opgi_merkle *t, const opgi_merkle_change *c)
{
    uint32_t i = pool_take(&t->leaves);
    mleaf *l = L(t, i);
    memcpy(l->key_hash, c->key_hash, 32);
    memcpy(l->value_hash, c->value_hash, 32);
    opgi_merkle_leaf_from_hashes(l->leaf_hash, c->key_hash, c->value_hash);
    t->count++;
    return i;
}

static int apply_node(opgi_merkle *t, uint32_t ni, unsigned d, opgi_merkle_change *c, size_t n);

/* Slot s of node ni holds child node ci, just updated: a child with no record
 * goes, a child with one leaf is replaced by the leaf. */
static void normalise(opgi_merkle *t, uint32_t ni, unsigned s, uint32_t ci)
{
    mnode *cn = N(t, ci);
    if (cn->used == 0) {
        clear_slot(N(t, ni), s);
        free_node(t, ci);
    } else if (popcount16(cn->used) == 1 && cn->leaves == cn->used) {
        uint32_t leaf = cn->child[__builtin_ctz(cn->used)];
        set_leaf(N(t, ni), s, leaf);
        free_node(t, ci);
    }
}

/* Applies c[0..n) (sorted, all sharing node ni's first d nibbles) below node ni,
 * setting each change's `changed`. Returns 1 if a record below ni changed (ni is
 * then rehashed), 0 if every change was a no-op. */
static int apply_node(opgi_merkle *t, uint32_t ni, unsigned d, opgi_merkle_change *c, size_t n)
{
    unsigned dirty = 0;
    size_t lo = 0;
    if (d == 2) /* 256 slices of the batch: each warmed just before its use */
        warm(t, c, n, 1);
    while (lo < n) {
        unsigned s = nibble(c[lo].key_hash, d);
        size_t hi = lo + 1;
        while (hi < n && nibble(c[hi].key_hash, d) == s)
            hi++;
        opgi_merkle_change *g = c + lo;
        size_t gn = hi - lo;
        lo = hi;
        mnode *nd = N(t, ni);
        if (!((nd->used >> s) & 1)) {
            size_t puts = 0, last = 0;
            for (size_t k = 0; k < gn; k++)
                if (g[k].present) {
                    puts++;
                    last = k;
                }
            if (puts == 0)
                continue; /* deletes of absent keys */
            if (puts == 1) {
                uint32_t leaf = add_leaf(t, &g[last]);
                set_leaf(N(t, ni), s, leaf);
                g[last].changed = 1;
            } else {
                uint32_t ci = new_node(t);
                set_node(N(t, ni), s, ci);
                apply_node(t, ci, d + 1, g, gn);
            }
            dirty |= 1u << s;
        } else if ((nd->leaves >> s) & 1) {
            uint32_t li = nd->child[s];
            mleaf *lf = L(t, li);
            size_t self = gn, fresh = 0;
            for (size_t k = 0; k < gn; k++) {
                if (memcmp(g[k].key_hash, lf->key_hash, 32) == 0)
                    self = k;
                else if (g[k].present)
                    fresh++;
            }
            if (fresh == 0) {
                if (self == gn)
                    continue; /* only deletes of absent keys */
                if (g[self].present) {
                    if (memcmp(lf->value_hash, g[self].value_hash, 32) == 0)
                        continue; /* the value it has */
                    memcpy(lf->value_hash, g[self].value_hash, 32);
                    opgi_merkle_leaf_from_hashes(lf->leaf_hash, lf->key_hash, lf->value_hash);
                } else {
                    clear_slot(N(t, ni), s);
                    pool_put(&t->leaves, li);
                    t->count--;
                }
                g[self].changed = 1;
            } else {
                /* push the leaf down into a new node and apply the group there */
                uint32_t ci = new_node(t);
                set_leaf(N(t, ci), nibble(lf->key_hash, d + 1), li);
                set_node(N(t, ni), s, ci);
                apply_node(t, ci, d + 1, g, gn);
                normalise(t, ni, s, ci);
            }
            dirty |= 1u << s;
        } else {
            uint32_t ci = nd->child[s];
            if (!apply_node(t, ci, d + 1, g, gn))
                continue;
            normalise(t, ni, s, ci);
            dirty |= 1u << s;
        }
    }
    /* a leaf deleted from a deeper node is reported through the slots above */
    if (dirty)
        node_rehash(t, N(t, ni), dirty);
    return dirty != 0;
}

/*
 * Caches for the nodes a batch creates: a new node's children are the puts below
 * it and at most one leaf pushed down, so it reaches CACHE_MIN children only if at
 * least CACHE_MIN - 1 puts share its prefix. In the sorted batch the puts sharing a
 * prefix of d nibbles are consecutive; such a run of at least K + 1 = CACHE_MIN - 1
 * puts starting at put j exists for every d with lcp(put j-1, put j) < d <=
 * lcp(put j, put j+K). Their number bounds the caches new nodes can take (a tree
 * built in one batch, as at a first commit or a load, gets its caches at once).
 */
static size_t new_node_caches(const opgi_merkle_change *c, size_t n)
{
    enum { K = CACHE_MIN > 2 ? CACHE_MIN - 2 : 0, RING = K + 2 };
    size_t ring[RING], puts = 0, need = 0;
    for (size_t i = 0; i < n; i++) {
        if (!c[i].present)
            continue;
        ring[puts % RING] = i;
        if (puts >= K) {
            size_t j = puts - K; /* the run's first put */
            unsigned in = lcp_nibbles(c[ring[j % RING]].key_hash, c[i].key_hash);
            unsigned before = j ? lcp_nibbles(c[ring[(j - 1) % RING]].key_hash,
                                              c[ring[j % RING]].key_hash)
                                : 0;
            need += in > before ? in - before : 0;
        }
        puts++;
    }
    return need;
}

int opgi_merkle_apply(opgi_merkle *t, opgi_merkle_change *c, size_t n)
{
    if (!t || (!c && n))
        return OPG_EINVAL;
    if (n == 0)
        return OPG_OK;
    for (size_t i = 0; i < n; i++) {
        if (c[i].present != 0 && c[i].present != 1)
            return OPG_EINVAL;
        c[i].changed = 0;
    }
    qsort(c, n, sizeof *c, by_key);
    for (size_t i = 1; i < n; i++)
        if (memcmp(c[i - 1].key_hash, c[i].key_hash, 32) == 0)
            return OPG_EINVAL;

    /* Reservation. A put of key k that meets the tree at node depth d (an empty slot
     * or another record's leaf L there) creates nodes only at depths d+1 .. m, where
     * m is the longest nibble prefix k shares with another key of the final set:
     * with L, or with its neighbours in the sorted batch (no other key of the tree
     * shares more than d nibbles with k). Each new node is such a prefix of some put
     * (a push-down node too: the pushed leaf shares d+1 nibbles with the put). */
    size_t need_nodes = 0, need_leaves = 0, need_caches = 0, prev_fresh = SIZE_MAX;
    size_t prev_put = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        if (i % WARM == 0)
            warm(t, c + i, n - i < WARM ? n - i : WARM, 0);
        if (!c[i].present)
            continue;
        /* the nodes above depth `shared` were on the previous put's path */
        unsigned shared = prev_put == SIZE_MAX ? 0 : lcp_nibbles(c[i].key_hash, c[prev_put].key_hash);
        int first = prev_put == SIZE_MAX;
        prev_put = i;
        const mnode *nd = N(t, 0);
        unsigned d = 0, m = 0;
        int update = 0;
        for (;; d++) {
            /* a node one child short of keeping its inner hashes may get there
             * (counted once, on the first put that passes it) */
            need_caches += (first || d > shared) && nd->cache == NONE &&
                           popcount16(nd->used) + 1 >= CACHE_MIN;
            unsigned s = nibble(c[i].key_hash, d);
            if (!((nd->used >> s) & 1))
                break;
            if ((nd->leaves >> s) & 1) {
                const mleaf *lf = L(t, nd->child[s]);
                m = lcp_nibbles(c[i].key_hash, lf->key_hash);
                update = m == 64;
                break;
            }
            nd = N(t, nd->child[s]);
        }
        if (update)
            continue;
        if (i > 0) {
            unsigned p = lcp_nibbles(c[i].key_hash, c[i - 1].key_hash);
            m = p > m ? p : m;
        }
        if (i + 1 < n) {
            unsigned q = lcp_nibbles(c[i].key_hash, c[i + 1].key_hash);
            m = q > m ? q : m;
        }
        /* prefixes up to the length shared with the previous fresh put are on its
         * path, and counted there already */
        unsigned seen = d;
        if (prev_fresh != SIZE_MAX) {
            unsigned q = lcp_nibbles(c[i].key_hash, c[prev_fresh].key_hash);
            seen = q > seen ? q : seen;
        }
        need_nodes += m > seen ? m - seen : 0;
        need_leaves++;
        prev_fresh = i;
    }
    need_caches += new_node_caches(c, n);
    if (pool_reserve(&t->alloc, &t->nodes, need_nodes) ||
        pool_reserve(&t->alloc, &t->leaves, need_leaves) ||
        pool_reserve(&t->alloc, &t->caches, need_caches))
        return OPG_ENOMEM; /* chunks added stay as free capacity; no record changed */

    apply_node(t, 0, 0, c, n);
    return OPG_OK;
}

/* ----------------------------------------------------------------- prove */

int opgi_merkle_prove(const opgi_merkle *t, const uint8_t key_hash[32], uint8_t *buf,
                      size_t cap, size_t *len)
{
    if (!t || !key_hash || !len || (!buf && cap))
        return OPG_EINVAL;
    uint8_t sib[256][32];
    uint8_t bm[32] = {0};
    size_t nsib = 0;
    unsigned depth = 0;
    int end_other = 0; /* 1: ends at another record's leaf */
    const mleaf *other = NULL;

    const mnode *nd = N(t, 0);
    unsigned i = 1, base = 0; /* heap range in nd; binary depth of nd's range 1 */
    for (;;) {
        unsigned m = range_mask(i), u = m & nd->used;
        unsigned lvl = i >= 16 ? 4 : i >= 8 ? 3 : i >= 4 ? 2 : i >= 2 ? 1 : 0;
        depth = base + lvl;
        if (u == 0)
            break; /* empty subtree */
        if (i >= 16 || (popcount16(u) == 1 && (u & nd->leaves))) {
            unsigned s = (unsigned)__builtin_ctz(u);
            if ((nd->leaves >> s) & 1) {
                const mleaf *lf = L(t, nd->child[s]);
                if (memcmp(lf->key_hash, key_hash, 32) != 0) {
                    end_other = 1;
                    other = lf;
                }
                break;
            }
            /* a child node: continue at its range 1, same binary depth */
            nd = N(t, nd->child[s]);
            i = 1;
            base += 4;
            continue;
        }
        unsigned bit = (key_hash[depth >> 3] >> (7 - (depth & 7))) & 1;
        uint8_t h[32];
        range_hash(t, nd, 2 * i + (1 - bit), 0, NULL, h);
        if (memcmp(h, ZERO, 32) != 0) {
            memcpy(sib[nsib++], h, 32);
            bm[depth >> 3] = (uint8_t)(bm[depth >> 3] | 0x80u >> (depth & 7));
        }
        i = 2 * i + bit;
    }
    size_t bm_len = (depth + 7) / 8;
    size_t need = 3 + bm_len + 32 * nsib + (end_other ? 64 : 0);
    *len = need;
    if (cap < need)
        return OPG_EBUFS;
    OPGI_ASSERT(NULL, need <= OPG_PROOF_MAX_BYTES);
    buf[0] = 1;
    buf[1] = (uint8_t)(depth >> 8);
    buf[2] = (uint8_t)depth;
    memcpy(buf + 3, bm, bm_len);
    memcpy(buf + 3 + bm_len, sib, 32 * nsib);
    if (end_other) {
        memcpy(buf + 3 + bm_len + 32 * nsib, other->key_hash, 32);
        memcpy(buf + 3 + bm_len + 32 * nsib + 32, other->value_hash, 32);
    }
    return OPG_OK;
}
