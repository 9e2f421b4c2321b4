/*
 * failalloc.h - a test allocator that fails the n-th allocation and counts what is
 * live, so a test can prove that every failure is OPG_ENOMEM, changes nothing and
 * leaks nothing:
 *
 *   failalloc fa; failalloc_init(&fa, n);     n = 0: never fail
 *   opg_allocator a = failalloc_allocator(&fa);
 *   ... fa.live_bytes == 0 after every handle is freed
 */
#ifndef OPG_TEST_FAILALLOC_H
#define OPG_TEST_FAILALLOC_H

#include "opg_core.h"

#include <stdlib.h>

typedef struct failalloc {
    unsigned long fail_at; /* 1-based index of the allocation to refuse; 0 = never */
    unsigned long calls;   /* allocations and growing resizes seen so far */
    unsigned long failures;
    long long live_bytes;  /* bytes handed out and not yet freed */
    long long live_blocks;
} failalloc;

static void *failalloc_fn(void *ud, void *ptr, size_t old_size, size_t new_size)
{
    failalloc *fa = ud;
    if (new_size == 0) {
        if (ptr) {
            fa->live_bytes -= (long long)old_size;
            fa->live_blocks--;
        }
        free(ptr);
        return NULL;
    }
    fa->calls++;
    if (fa->fail_at && fa->calls == fa->fail_at) {
        fa->failures++;
        return NULL;
    }
    void *p = realloc(ptr, new_size);
    if (p) {
        fa->live_bytes += (long long)new_size - (long long)(ptr ? old_size : 0);
        if (!ptr)
            fa->live_blocks++;
    }
    return p;
}

static void failalloc_init(failalloc *fa, unsigned long fail_at)
{
    fa->fail_at = fail_at;
    fa->calls = fa->failures = 0;
    fa->live_bytes = fa->live_blocks = 0;
}

static opg_allocator failalloc_allocator(failalloc *fa)
{
    opg_allocator a = {failalloc_fn, fa};
    return a;
}

#endif /* OPG_TEST_FAILALLOC_H */
