/*
 * opg_proof.h - the state commitment's proofs and the function that checks them.
 *
 * A light client links only the verifier (lib/proof.c) and libsodium: it needs no
 * handle, allocates nothing and keeps no state. Thread-safe.
 *
 * ---------------------------------------------------------------- the tree
 *
 * The state of a handle is a set of records: (key, value) byte strings, each key
 * at most once. Its root is a binary sparse Merkle tree over the records, specified
 * here byte for byte. H(p, x) is BLAKE2b with a 32-byte output, no key, no salt and
 * the 16-byte personalisation p (the ASCII text, zero-padded to 16 bytes), over x
 * (libsodium: crypto_generichash_blake2b_salt_personal):
 *
 *   key_hash   = H("opg.merkle.key",  key)
 *   value_hash = H("opg.merkle.val",  value)
 *   leaf       = H("opg.merkle.leaf", key_hash || value_hash)       64 bytes in
 *   inner      = H("opg.merkle.node", left || right)                64 bytes in
 *   EMPTY      = 32 zero bytes
 *
 * The tree is keyed by the 256 bits of key_hash: bit 0 is the most significant bit
 * of byte 0, bit 255 the least significant bit of byte 31; bit 0 goes left, 1 right.
 * The subtree at depth d (0 <= d <= 256) along a path holds the records whose
 * key_hash starts with that path's first d bits. Its hash:
 *
 *   no record            EMPTY
 *   exactly one record   that record's leaf (the leaf sits at the shallowest depth
 *                        where it is alone, as in the Jellyfish Merkle Tree)
 *   two or more          inner(hash of the left child subtree at d + 1,
 *                              hash of the right child subtree at d + 1),
 *                        an empty child being EMPTY
 *
 * The root is the hash of the subtree at depth 0. It depends only on the set of
 * records, never on the order in which they were put or deleted: the empty set has
 * root EMPTY; one record's root is its leaf.
 *
 * --------------------------------------------------------------- the proof
 *
 * A proof follows the path of key_hash from the root down to where it ends: at the
 * record's leaf (inclusion), at an empty subtree, or at the leaf of another record
 * whose key_hash shares the path's bits (both exclusion). D is the depth where it
 * ends. Its bytes, in this order, nothing else:
 *
 *   1 byte    version, 1
 *   2 bytes   D, big-endian, 0 <= D <= 256
 *   B bytes   B = ceil(D / 8): a bitmap of the siblings along the path; bit j
 *             (byte j / 8, mask 0x80 >> (j % 8)) is set when the sibling of the path
 *             at depth j + 1 is not EMPTY; the unused low bits of the last byte are 0
 *   32 bytes  for each set bit, that sibling's hash, shallowest (depth 1) first;
 *             EMPTY siblings are left out
 *   tail      inclusion, or exclusion ending at an empty subtree: nothing;
 *             exclusion ending at another record: its key_hash, then its value_hash
 *             (64 bytes)
 *
 * The verifier computes the hash at depth D (the leaf of (key, value), EMPTY, or
 * the leaf of the other record), folds it with the siblings up to depth 0, choosing
 * sides by the bits of key_hash, and compares with the root. It refuses (so that
 * every fact has exactly one valid proof): another version; D > 256; a length that
 * is not exactly what the header implies; unused bitmap bits set; a proof with
 * D > 0 whose sibling at depth D is EMPTY (a record alone there would sit higher;
 * an empty end's parent holds two or more records, all on the sibling's side); an
 * exclusion tail whose key_hash equals the key's or does not share the key's first
 * D bits; a tail on an inclusion proof. A proof is at most OPG_PROOF_MAX_BYTES.
 *
 * Example: the tree of records a and b whose key hashes differ first in bit 0 has
 * root inner(leaf_a, leaf_b) when a's bit 0 is 0; a's proof is 01 0001 80 || leaf_b.
 */
#ifndef OPG_PROOF_H
#define OPG_PROOF_H

#include "opg_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 + 2 + 32 + 256 * 32 + 64: no proof is longer. */
#define OPG_PROOF_MAX_BYTES 8291
OPG_API size_t opg_proof_max_bytes(void);

/*
 * Checks a proof against a root. present = 1: that key maps to exactly that value
 * under root; present = 0: that key has no record under root (value is then not
 * read and may be NULL). OPG_OK when the proof shows it, OPG_EPROOF otherwise
 * (malformed, non-canonical, or not matching), OPG_EINVAL for a NULL pointer with
 * a non-zero length, a NULL root or proof, or present not 0 or 1. Reads only
 * proof[0 .. proof_len), never more. O(proof_len).
 */
OPG_API int opg_proof_verify(const uint8_t root[32], const uint8_t *key, size_t key_len,
                             const uint8_t *value, size_t value_len, int present,
                             const uint8_t *proof, size_t proof_len);

#ifdef __cplusplus
}
#endif

#endif /* OPG_PROOF_H */
