/* TEMPORARY naive stand-in (not to be committed) */
#include "merkle.h"
#include <sodium.h>
#include <stdlib.h>

struct opgi_merkle { opg_allocator a; uint8_t (*items)[64]; size_t n, cap; };

static void h_pers(uint8_t out[32], const char *pers, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    uint8_t p[16] = {0};
    memcpy(p, pers, strlen(pers));
    crypto_generichash_blake2b_state st;
    crypto_generichash_blake2b_init_salt_personal(&st, NULL, 0, 32, NULL, p);
    crypto_generichash_blake2b_update(&st, a, alen);
    if (b) crypto_generichash_blake2b_update(&st, b, blen);
    crypto_generichash_blake2b_final(&st, out, 32);
}
void opgi_merkle_key_hash(uint8_t out[32], const uint8_t *key, size_t len) { h_pers(out, "opg.merkle.key", key, len, NULL, 0); }
void opgi_merkle_leaf_hash(uint8_t out[32], const uint8_t kh[32], const uint8_t *v, size_t len)
{
    uint8_t vh[32];
    h_pers(vh, "opg.merkle.val", v, len, NULL, 0);
    h_pers(out, "opg.merkle.leaf", kh, 32, vh, 32);
}
int opgi_merkle_new(opgi_merkle **out, const opg_allocator *a)
{
    opgi_merkle *t = calloc(1, sizeof *t);
    if (!t) return OPG_ENOMEM;
    *out = t; (void)a; return OPG_OK;
}
void opgi_merkle_free(opgi_merkle *t) { if (t) { free(t->items); free(t); } }
static int cmp64(const void *x, const void *y) { return memcmp(x, y, 32); }
int opgi_merkle_apply(opgi_merkle *t, opgi_merkle_change *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t (*f)[64] = t->n ? bsearch(c[i].key_hash, t->items, t->n, 64, cmp64) : NULL;
        if (c[i].present) {
            if (f) { memcpy(*f + 32, c[i].leaf_hash, 32); continue; }
            if (t->n == t->cap) { t->cap = t->cap ? 2 * t->cap : 64; t->items = realloc(t->items, t->cap * 64); }
            memcpy(t->items[t->n], c[i].key_hash, 32); memcpy(t->items[t->n] + 32, c[i].leaf_hash, 32);
            t->n++;
            qsort(t->items, t->n, 64, cmp64);
        } else if (f) {
            size_t at = (size_t)(f - t->items);
            memmove(t->items[at], t->items[at + 1], (t->n - at - 1) * 64);
            t->n--;
        }
    }
    return OPG_OK;
}
static int bit(const uint8_t *k, unsigned d) { return (k[d / 8] >> (7 - d % 8)) & 1; }
static void sub(uint8_t out[32], uint8_t (*it)[64], size_t n, unsigned d)
{
    if (n == 0) { memset(out, 0, 32); return; }
    if (n == 1) { memcpy(out, it[0] + 32, 32); return; }
    size_t m = 0;
    while (m < n && !bit(it[m], d)) m++;
    uint8_t l[32], r[32];
    sub(l, it, m, d + 1); sub(r, it + m, n - m, d + 1);
    h_pers(out, "opg.merkle.node", l, 32, r, 32);
}
void opgi_merkle_root(const opgi_merkle *t, uint8_t out[32]) { sub(out, t->items, t->n, 0); }
size_t opgi_merkle_count(const opgi_merkle *t) { return t->n; }
size_t opgi_merkle_bytes(const opgi_merkle *t) { return t->cap * 64; }
int opgi_merkle_prove(const opgi_merkle *t, const uint8_t kh[32], uint8_t *buf, size_t cap, size_t *len)
{ (void)t; (void)kh; (void)buf; (void)cap; *len = 0; return OPG_OK; }
