/*
 * alloc.c - the allocator hook. Every allocation of the library goes through a
 * handle's opg_allocator; this file holds the default one, the only place in lib/
 * that calls the C library's realloc and free.
 */
#include "internal.h"

#include <stdlib.h>

static void *default_alloc(void *user_data, void *ptr, size_t old_size, size_t new_size)
{
    (void)user_data;
    (void)old_size;
    if (new_size == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, new_size);
}

void opgi_allocator_init(opg_allocator *dst, const opg_allocator *src)
{
    if (src && src->alloc_fn) {
        *dst = *src;
    } else {
        dst->alloc_fn = default_alloc;
        dst->user_data = NULL;
    }
}

void *opgi_alloc(const opg_allocator *a, size_t size)
{
    if (size == 0)
        size = 1; /* a zero-size request must still give a unique pointer */
    return a->alloc_fn(a->user_data, NULL, 0, size);
}

void *opgi_alloc_array(const opg_allocator *a, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    return opgi_alloc(a, count * size);
}

void *opgi_realloc(const opg_allocator *a, void *ptr, size_t old_size, size_t new_size)
{
    if (ptr == NULL)
        return opgi_alloc(a, new_size);
    if (new_size == 0)
        new_size = 1;
    return a->alloc_fn(a->user_data, ptr, old_size, new_size);
}

void opgi_free(const opg_allocator *a, void *ptr, size_t size)
{
    if (ptr)
        a->alloc_fn(a->user_data, ptr, size ? size : 1, 0); /* as opgi_alloc asked */
}

int opgi_grow(const opg_allocator *a, void **items, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return OPG_OK;
    size_t n = *cap ? *cap : 4;
    while (n < need) {
        if (n > SIZE_MAX / 2 / size)
            return OPG_ENOMEM;
        n *= 2;
    }
    void *p = opgi_realloc(a, *items, *cap * size, n * size);
    if (!p)
        return OPG_ENOMEM;
    *items = p;
    *cap = n;
    return OPG_OK;
}
