/*
 * merkle.h - the incremental sparse Merkle tree over records (internal).
 *
 * The tree's hashing and the proof format are specified in include/opg_proof.h.
 * The tree stores, per record, its key_hash, value_hash and leaf hash (the value
 * hash so that a proof of absence ending at the record needs nothing else): the
 * caller (the records layer) hashes keys and values with the functions below and
 * hands the tree batches of changes.
 *
 * Layout: 16-ary nodes (one nibble of key_hash each) in a pool of fixed-size nodes
 * (uint32 indexes, a free list), leaves in a pool of 96-byte leaves (key hash, value hash, leaf hash). Inside a node
 * the four binary levels are hashed as the spec says; a node with many children
 * also caches its 14 inner binary hashes so that one changed child costs 4 hashes.
 * A subtree with one record is a leaf in its parent's slot (never a node).
 *
 * The tree is used by one thread at a time.
 */
#ifndef OPG_MERKLE_H
#define OPG_MERKLE_H

#include "opg_core.h"

#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------- hashing (lib/proof.c) */

/* key_hash = H("opg.merkle.key", key). */
void opgi_merkle_key_hash(uint8_t out[32], const uint8_t *key, size_t len);
/* value_hash = H("opg.merkle.val", value). */
void opgi_merkle_value_hash(uint8_t out[32], const uint8_t *value, size_t len);
/* leaf = H("opg.merkle.leaf", key_hash || value_hash), value_hash from value. */
void opgi_merkle_leaf_hash(uint8_t out[32], const uint8_t key_hash[32], const uint8_t *value,
                           size_t len);
/* leaf from the two hashes. */
void opgi_merkle_leaf_from_hashes(uint8_t out[32], const uint8_t key_hash[32],
                                  const uint8_t value_hash[32]);
/* inner = H("opg.merkle.node", left || right). out may alias neither input. */
void opgi_merkle_inner(uint8_t out[32], const uint8_t left[32], const uint8_t right[32]);

/* ------------------------------------------------------------ the tree */

typedef struct opgi_merkle opgi_merkle;

/* An empty tree. a may be NULL: the default allocator. OPG_ENOMEM. */
int opgi_merkle_new(opgi_merkle **out, const opg_allocator *a);
/* Accepts NULL. */
void opgi_merkle_free(opgi_merkle *t);

/* One change of a batch: put (present = 1) the record whose key hashes to key_hash
 * with value hash value_hash (the tree makes its leaf), or delete (present = 0;
 * value_hash is not read). apply sets `changed` to 1 when the change altered the
 * tree's records (a put of a new key or of another value, a delete of a present
 * key) and to 0 for a no-op; `tag` is the caller's and not read (apply reorders
 * the batch: the tag says which of the caller's changes an entry is). */
typedef struct opgi_merkle_change {
    uint8_t key_hash[32];
    uint8_t value_hash[32];
    int present;
    int changed;
    size_t tag;
} opgi_merkle_change;

/*
 * Applies a batch of changes in any order; sorts c in place by key_hash. OPG_EINVAL
 * (nothing changed) if two changes have the same key_hash or present is not 0/1.
 * Deleting an absent key is a no-op, and so is putting a present key with the value
 * hash it has (neither rehashes anything); putting a present key with another value
 * replaces its leaf.
 * All or nothing: memory is reserved first and OPG_ENOMEM leaves the tree as it
 * was (root, count, records); nothing after the reservation fails. The root is
 * rehashed once per batch: O(n log N) for n changes in a tree of N records.
 */
int opgi_merkle_apply(opgi_merkle *t, opgi_merkle_change *c, size_t n);

/* The root as the spec defines it (EMPTY for an empty tree). O(1). */
void opgi_merkle_root(const opgi_merkle *t, uint8_t out[32]);
/* Number of records. */
size_t opgi_merkle_count(const opgi_merkle *t);
/* Heap bytes the tree holds (pools, including their free capacity). */
size_t opgi_merkle_bytes(const opgi_merkle *t);
/* Where the bytes go, for benches: items in use and allocated, per pool:
 * out[0..1] nodes (104 bytes each), out[2..3] leaves (96), out[4..5] caches (448). */
void opgi_merkle_layout(const opgi_merkle *t, size_t out[6]);
/* Inner hashes opgi_merkle_apply has computed so far (for benches). */
uint64_t opgi_merkle_hashes(const opgi_merkle *t);
/* The value hash stored for key_hash: OPG_OK, or OPG_ENOTFOUND. O(log N). */
int opgi_merkle_get(const opgi_merkle *t, const uint8_t key_hash[32], uint8_t value_hash[32]);

/*
 * The proof (include/opg_proof.h's format) for key_hash: inclusion if the key is
 * present, exclusion otherwise. Writes it into buf (cap bytes) and its length into
 * *len; OPG_EBUFS with *len = the length needed (buf untouched) when cap is too
 * small. Never more than OPG_PROOF_MAX_BYTES. O(log N).
 */
int opgi_merkle_prove(const opgi_merkle *t, const uint8_t key_hash[32], uint8_t *buf,
                      size_t cap, size_t *len);

#endif /* OPG_MERKLE_H */
