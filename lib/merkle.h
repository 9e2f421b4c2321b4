/* merkle.h - provisional interface of the incremental Merkle tree (lib/merkle.c). */
#ifndef OPG_MERKLE_H
#define OPG_MERKLE_H

#include "internal.h"

void opgi_merkle_key_hash(uint8_t out[32], const uint8_t *key, size_t len);
void opgi_merkle_leaf_hash(uint8_t out[32], const uint8_t key_hash[32], const uint8_t *value,
                           size_t len);
typedef struct opgi_merkle opgi_merkle;
int opgi_merkle_new(opgi_merkle **out, const opg_allocator *a);
void opgi_merkle_free(opgi_merkle *t);
typedef struct opgi_merkle_change {
    uint8_t key_hash[32];
    uint8_t leaf_hash[32];
    int present;
} opgi_merkle_change;
int opgi_merkle_apply(opgi_merkle *t, opgi_merkle_change *c, size_t n);
void opgi_merkle_root(const opgi_merkle *t, uint8_t out[32]);
size_t opgi_merkle_count(const opgi_merkle *t);
size_t opgi_merkle_bytes(const opgi_merkle *t);
int opgi_merkle_prove(const opgi_merkle *t, const uint8_t key_hash[32], uint8_t *buf, size_t cap,
                      size_t *len);

#endif
