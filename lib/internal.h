/*
 * internal.h - what every library source shares and nothing outside lib/ sees.
 * Internal symbols use the prefix opgi_ so the version script keeps them hidden.
 */
#ifndef OPG_INTERNAL_H
#define OPG_INTERNAL_H

#include "opg_core.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define OPGI_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------ allocation */

/* Fill `dst` from the host's allocator (or the default one when src or its fn is NULL). */
void opgi_allocator_init(opg_allocator *dst, const opg_allocator *src);
void *opgi_alloc(const opg_allocator *a, size_t size);
/* count * size bytes, NULL on multiplication overflow or failure. */
void *opgi_alloc_array(const opg_allocator *a, size_t count, size_t size);
void *opgi_realloc(const opg_allocator *a, void *ptr, size_t old_size, size_t new_size);
void opgi_free(const opg_allocator *a, void *ptr, size_t size);
/* Grows the array *items (capacity *cap elements of `size` bytes) to hold at least
 * `need` elements, doubling; OPG_ENOMEM leaves it as it was. */
int opgi_grow(const opg_allocator *a, void **items, size_t *cap, size_t need, size_t size);

/* ----------------------------------------------------------------- hashing */

/* A 64-bit finaliser (murmur3's): spreads the bits of x. For hash tables only; no
 * result ever depends on a hash (iteration always follows sorted keys). */
uint64_t opgi_mix64(uint64_t x);
/* A hash of all 32 bytes of an id, for the hash indexes of every module. */
uint64_t opgi_hash_id(const opg_id *id);

/* ------------------------------------------------------- error details */

/* Size of every handle's last-error text buffer. */
#define OPGI_ERRMSG_MAX 160

/* Stores "what" (and ": detail" when detail is not NULL) as the handle's last error
 * text and returns code, so a failing path can read `return opgi_fail(h->err, ...)`. */
int opgi_fail(char *errbuf, int code, const char *what, const char *detail);

/* ------------------------------------------------------------ assertions */

/*
 * "Cannot happen" paths, in the manner of SQLite's NEVER()/ALWAYS() and libgit2's
 * GIT_ASSERT. Every path the code is built never to take is written with one of
 * these, never as a silent return or continue:
 *   if (OPGI_NEVER(err, x)) return OPG_EINVARIANT;   -- x must be false
 *   if (!OPGI_ALWAYS(err, x)) return OPG_EINVARIANT; -- x must be true
 *   OPGI_ASSERT(err, x);                               -- the same, returning for you
 * Builds with -DOPGI_DEBUG (make test, asan, ubsan, fuzz) abort with the expression,
 * so a test, a sanitizer run or a fuzzer finds the bug at once; release builds put
 * "internal error: 'x'" into err (NULL: nowhere) and take the graceful path the
 * caller wrote, which is placed before anything changed.
 */
#ifdef OPGI_DEBUG
#undef NDEBUG
#include <assert.h>
#define OPGI_TRAP_(text) assert(!text) /* prints the expression, file and line */
#else
#define OPGI_TRAP_(text) ((void)0)
#endif
void opgi_invariant_fail(char *errbuf, const char *expr);
#define OPGI_NEVER(err, x) \
    ((x) ? (OPGI_TRAP_(#x), opgi_invariant_fail((err), #x), 1) : 0)
#define OPGI_ALWAYS(err, x) (!OPGI_NEVER(err, !(x)))
#define OPGI_ASSERT(err, x)                 \
    do {                                    \
        if (OPGI_NEVER(err, !(x)))          \
            return OPG_EINVARIANT;          \
    } while (0)
/* A checked operation (opg_u256_add, opgi_muldiv, ...) whose check phase proved it
 * cannot fail, in code where nothing may fail any more: its result is asserted,
 * not thrown away. */
#define OPGI_MUST(call) ((void)OPGI_NEVER(NULL, (call) != OPG_OK))
/* An argument check that says which argument: OPG_EINVAL with
 * "invalid argument: 'x'" as the handle's error text. */
#define OPGI_CHECK_ARG(err, x)                                      \
    do {                                                            \
        if (!(x))                                                   \
            return opgi_fail((err), OPG_EINVAL, "invalid argument", #x); \
    } while (0)

#endif /* OPG_INTERNAL_H */
