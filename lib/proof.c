/*
 * proof.c - the Merkle tree's hash functions and the proof verifier
 * (include/opg_proof.h). Self-contained: a light client links this object and
 * libsodium and nothing else of the library.
 */
#include "opg_proof.h"

#include "merkle.h"

#include <sodium.h>
#include <string.h>

static const unsigned char PERS_KEY[16] = "opg.merkle.key";
static const unsigned char PERS_VAL[16] = "opg.merkle.val";
static const unsigned char PERS_LEAF[16] = "opg.merkle.leaf";
static const unsigned char PERS_NODE[16] = "opg.merkle.node";

static void h(uint8_t out[32], const uint8_t *in, size_t len, const unsigned char pers[16])
{
    /* with no key, a 32-byte output and a 16-byte personalisation this cannot fail */
    (void)crypto_generichash_blake2b_salt_personal(out, 32, in, (unsigned long long)len,
                                                   NULL, 0, NULL, pers);
}

void opgi_merkle_key_hash(uint8_t out[32], const uint8_t *key, size_t len)
{
    h(out, key, len, PERS_KEY);
}

void opgi_merkle_value_hash(uint8_t out[32], const uint8_t *value, size_t len)
{
    h(out, value, len, PERS_VAL);
}

void opgi_merkle_leaf_from_hashes(uint8_t out[32], const uint8_t key_hash[32],
                                  const uint8_t value_hash[32])
{
    uint8_t in[64];
    memcpy(in, key_hash, 32);
    memcpy(in + 32, value_hash, 32);
    h(out, in, 64, PERS_LEAF);
}

void opgi_merkle_leaf_hash(uint8_t out[32], const uint8_t key_hash[32], const uint8_t *value,
                           size_t len)
{
    uint8_t vh[32];
    opgi_merkle_value_hash(vh, value, len);
    opgi_merkle_leaf_from_hashes(out, key_hash, vh);
}

void opgi_merkle_inner(uint8_t out[32], const uint8_t left[32], const uint8_t right[32])
{
    uint8_t in[64];
    memcpy(in, left, 32);
    memcpy(in + 32, right, 32);
    h(out, in, 64, PERS_NODE);
}

size_t opg_proof_max_bytes(void) { return OPG_PROOF_MAX_BYTES; }

static int bit_at(const uint8_t kh[32], unsigned i) { return (kh[i >> 3] >> (7 - (i & 7))) & 1; }

static int is_empty(const uint8_t x[32])
{
    uint8_t acc = 0;
    for (int i = 0; i < 32; i++)
        acc |= x[i];
    return acc == 0;
}

int opg_proof_verify(const uint8_t root[32], const uint8_t *key, size_t key_len,
                     const uint8_t *value, size_t value_len, int present, const uint8_t *proof,
                     size_t proof_len)
{
    if (!root || !proof || (!key && key_len) || (present != 0 && present != 1) ||
        (present && !value && value_len))
        return OPG_EINVAL;
    if (sodium_init() < 0)
        return OPG_EINVARIANT;
    if (proof_len < 3 || proof_len > OPG_PROOF_MAX_BYTES || proof[0] != 1)
        return OPG_EPROOF;
    unsigned depth = (unsigned)proof[1] << 8 | proof[2];
    if (depth > 256)
        return OPG_EPROOF;
    size_t bm_len = (depth + 7) / 8;
    if (proof_len < 3 + bm_len)
        return OPG_EPROOF;
    const uint8_t *bm = proof + 3;
    if (depth % 8 && (bm[bm_len - 1] & (0xffu >> (depth % 8))))
        return OPG_EPROOF; /* unused bitmap bits */
    size_t nsib = 0;
    for (size_t i = 0; i < bm_len; i++)
        for (uint8_t b = bm[i]; b; b &= (uint8_t)(b - 1))
            nsib++;
    size_t body = 3 + bm_len + 32 * nsib;
    if (proof_len != body && (present || proof_len != body + 64))
        return OPG_EPROOF;
    if (depth > 0 && !((bm[(depth - 1) / 8] >> (7 - ((depth - 1) % 8))) & 1))
        return OPG_EPROOF; /* the sibling at depth D must not be EMPTY */

    uint8_t kh[32], cur[32];
    opgi_merkle_key_hash(kh, key, key_len);
    if (present) {
        opgi_merkle_leaf_hash(cur, kh, value, value_len);
    } else if (proof_len == body) {
        memset(cur, 0, 32);
    } else {
        const uint8_t *okh = proof + body, *ovh = proof + body + 32;
        if (memcmp(okh, kh, 32) == 0)
            return OPG_EPROOF; /* that is the key itself: it is present */
        for (unsigned i = 0; i < depth; i++)
            if (bit_at(okh, i) != bit_at(kh, i))
                return OPG_EPROOF; /* not on the key's path */
        opgi_merkle_leaf_from_hashes(cur, okh, ovh);
    }
    /* fold upward: siblings are stored shallowest first, so walk them backwards */
    const uint8_t *sib = proof + 3 + bm_len + 32 * nsib;
    static const uint8_t zero[32];
    for (unsigned d = depth; d > 0; d--) {
        unsigned j = d - 1;
        const uint8_t *s = zero;
        if ((bm[j / 8] >> (7 - j % 8)) & 1) {
            sib -= 32;
            s = sib;
            if (is_empty(s))
                return OPG_EPROOF; /* an EMPTY sibling is left out, never listed */
        }
        uint8_t next[32];
        if (bit_at(kh, j))
            opgi_merkle_inner(next, s, cur);
        else
            opgi_merkle_inner(next, cur, s);
        memcpy(cur, next, 32);
    }
    return sodium_memcmp(cur, root, 32) == 0 ? OPG_OK : OPG_EPROOF;
}
