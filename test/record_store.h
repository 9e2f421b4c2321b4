/*
 * record_store.h - a host's key-value store in miniature, for tests: records kept in
 * key order, change sets applied to it, and a record source that streams it back to
 * a loader. O(n) per put; fine at test sizes.
 */
#ifndef OPG_TEST_RECORD_STORE_H
#define OPG_TEST_RECORD_STORE_H

#include "opg.h"

#include <stdlib.h>
#include <string.h>

typedef struct stored_record {
    uint8_t *key, *value;
    size_t key_len, value_len;
} stored_record;

typedef struct record_store {
    stored_record *items;
    size_t n, cap;
    size_t cursor; /* the source's position */
} record_store;

static int store_key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    return c ? c : (alen > blen) - (alen < blen);
}

/* Position of key, or where it would go; *found set. */
static size_t store_find(const record_store *s, const uint8_t *key, size_t len, int *found)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = store_key_cmp(s->items[mid].key, s->items[mid].key_len, key, len);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = 0;
    return lo;
}

static uint8_t *store_dup(const uint8_t *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    if (n)
        memcpy(d, p, n);
    return d;
}

static void store_put(record_store *s, const opg_record *r)
{
    int found;
    size_t at = store_find(s, r->key, r->key_len, &found);
    if (!r->present) {
        if (found) {
            free(s->items[at].key);
            free(s->items[at].value);
            memmove(&s->items[at], &s->items[at + 1], (s->n - at - 1) * sizeof *s->items);
            s->n--;
        }
        return;
    }
    if (found) {
        free(s->items[at].value);
    } else {
        if (s->n == s->cap) {
            s->cap = s->cap ? 2 * s->cap : 64;
            s->items = realloc(s->items, s->cap * sizeof *s->items);
        }
        memmove(&s->items[at + 1], &s->items[at], (s->n - at) * sizeof *s->items);
        s->n++;
        s->items[at].key = store_dup(r->key, r->key_len);
        s->items[at].key_len = r->key_len;
    }
    s->items[at].value = store_dup(r->value, r->value_len);
    s->items[at].value_len = r->value_len;
}

/* Applies a change set; 0 unless its keys are not strictly increasing. */
static int store_apply(record_store *s, const opg_record *changes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i && store_key_cmp(changes[i - 1].key, changes[i - 1].key_len, changes[i].key,
                               changes[i].key_len) >= 0)
            return -1;
        store_put(s, &changes[i]);
    }
    return 0;
}

/* An opg_record_source over the store, from its first record. */
static int store_next(void *ctx, opg_record *rec)
{
    record_store *s = ctx;
    if (s->cursor == s->n)
        return 0;
    const stored_record *it = &s->items[s->cursor++];
    rec->key = it->key;
    rec->key_len = it->key_len;
    rec->value = it->value;
    rec->value_len = it->value_len;
    rec->present = 1;
    return 1;
}

static void store_rewind(record_store *s) { s->cursor = 0; }

/* An opg_record_sink that fills a store (export). */
static int store_sink(void *ctx, const opg_record *rec)
{
    store_put(ctx, rec);
    return 0;
}

static void store_free(record_store *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->items[i].key);
        free(s->items[i].value);
    }
    free(s->items);
    memset(s, 0, sizeof *s);
}

#endif /* OPG_TEST_RECORD_STORE_H */
