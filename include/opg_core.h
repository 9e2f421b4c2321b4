/*
 * opg_core.h - libopg basics: version, errors, amounts, decimals, ids, allocator.
 *
 * Everything in libopg stands on this header. It includes nothing but <stddef.h>
 * and <stdint.h>: no GMP or libsodium type ever appears in a public header, so a
 * binding only needs plain C types.
 *
 * Conventions, for every function of the library:
 *   - A call that can fail returns int: 0 (OPG_OK) or a negative OPG_E* code.
 *   - Out-parameters come first, then the handle, then the inputs.
 *   - A failed call changes nothing: outputs are left untouched and no state moves.
 *   - A buffer too small for a result gives OPG_EBUFS and, where the function has
 *     a `needed` out-parameter, the size that would have been enough.
 *   - Threads: a handle is used by one thread at a time; distinct handles may be
 *     used on distinct threads. The library starts no threads and has no globals.
 *   - Determinism: no floating point, clocks, randomness or I/O inside the library.
 *     Time and height always come from the host as arguments.
 */
#ifndef OPG_CORE_H
#define OPG_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define OPG_API __attribute__((visibility("default")))
#else
#define OPG_API
#endif

/* ---------------------------------------------------------------- version */

/* The one source of truth for the version; the Makefile reads these lines. */
#define OPG_VERSION_MAJOR 0
#define OPG_VERSION_MINOR 1
#define OPG_VERSION_PATCH 0

#define OPG_VERSION_NUMBER \
    (OPG_VERSION_MAJOR * 10000 + OPG_VERSION_MINOR * 100 + OPG_VERSION_PATCH)
#define OPG_VERSION_STR2_(x) #x
#define OPG_VERSION_STR_(x) OPG_VERSION_STR2_(x)
#define OPG_VERSION_STRING                                                     \
    OPG_VERSION_STR_(OPG_VERSION_MAJOR) "." OPG_VERSION_STR_(OPG_VERSION_MINOR) \
    "." OPG_VERSION_STR_(OPG_VERSION_PATCH)

/* The version of the library actually linked, "MAJOR.MINOR.PATCH". Never NULL. */
OPG_API const char *opg_version_string(void);
/* The same as MAJOR*10000 + MINOR*100 + PATCH (OPG_VERSION_NUMBER). */
OPG_API unsigned opg_version_number(void);

/* ----------------------------------------------------------------- errors */

/*
 * Every error code, once. X(NAME, value, message). Codes are never renumbered;
 * new codes are appended with the next free value.
 */
#define OPG_ERROR_LIST(X)                                                          \
    X(OK, 0, "success")                                                            \
    X(EINVAL, -1, "invalid argument")                                              \
    X(EOVERFLOW, -2, "arithmetic overflow: result does not fit")                   \
    X(EUNDERFLOW, -3, "result would be negative")                                  \
    X(EPARSE, -4, "malformed text")                                                \
    X(ENOTFOUND, -5, "no such item")                                               \
    X(EEXISTS, -6, "item already exists")                                          \
    X(ENOMEM, -7, "out of memory")                                                 \
    X(EBUFS, -8, "buffer too small")                                               \
    X(ECORRUPT, -9, "saved state is corrupt or of another kind")                   \
    X(EVERSION, -10, "saved state has an unsupported version")                     \
    X(EINVARIANT, -11, "internal consistency check failed; state unchanged")       \
    X(EDIVZERO, -12, "division by zero")                                           \
    X(EKEY, -13, "unknown parameter key")                                          \
    X(ELIMIT, -14, "request exceeds a block resource limit")                       \
    X(EFEE, -15, "max fee below the base fee")                                     \
    X(ECOMMISSION, -16, "commission rule refused the change")                      \
    X(ETOOSOON, -17, "not allowed yet at this time")                               \
    X(EMAXENTRIES, -18, "too many unbonding or redelegation entries")              \
    X(ETRANSITIVE, -19, "transitive redelegation refused")                         \
    X(EJAILED, -20, "node is jailed")                                              \
    X(ENOTJAILED, -21, "node is not jailed")                                       \
    X(ETOMBSTONED, -22, "node is tombstoned")                                      \
    X(ESELFBOND, -23, "self-delegation below the node's minimum")                  \
    X(EINSOLVENT, -24, "node has shares but no tokens; it refuses delegations")    \
    X(EZERO, -25, "amount is zero or yields nothing")                              \
    X(EEVIDENCE, -26, "evidence is malformed")                                     \
    X(ESIGNATURE, -27, "signature does not verify")                                \
    X(ENOCONFLICT, -28, "evidence does not show a conflict")                       \
    X(EEXPIRED, -29, "evidence is too old")                                        \
    X(EDUPLICATE, -30, "evidence already submitted")                               \
    X(EFUTURE, -31, "height or time lies in the future")                           \
    X(ESTATUS, -32, "item is not in a status that allows this")                    \
    X(EVOTE, -33, "vote options or weights are invalid")                           \
    X(ECLASS, -34, "unknown model class or fault class")                           \
    X(EROLE, -35, "node lacks the role this needs")                                \
    X(ECONSKEY, -36, "not a usable consensus key (Ed25519 point of prime order)")  \
    X(EREPORTER, -37, "reporter may not report this node")                          \
    X(EPROOF, -38, "proof is malformed or does not verify")                        \
    X(EPOA, -39, "refused in proof-of-authority mode: the validator set is governance's") \
    X(ELOCKED, -40, "stake is locked by a conviction vote")

enum opg_error {
#define OPG_ERROR_ENUM_(name, value, msg) OPG_##name = value,
    OPG_ERROR_LIST(OPG_ERROR_ENUM_)
#undef OPG_ERROR_ENUM_
    OPG_ERROR_LAST_ = -40 /* lowest code in use */
};

/* A human sentence for `code`; "unknown error" for a value not in the list. Never NULL. */
OPG_API const char *opg_strerror(int code);
/* The code's name without prefix, e.g. "EOVERFLOW"; "EUNKNOWN" if not in the list. Never NULL. */
OPG_API const char *opg_errname(int code);
/* The lowest error code this build knows (for bindings that build a table). */
OPG_API int opg_error_min(void);

/* -------------------------------------------------------------- time, ids */

/* Heights are block numbers; times are Unix seconds; durations are seconds. */
typedef uint64_t opg_height;
typedef int64_t opg_time;
/* A time that never comes: jailed forever, no completion. */
#define OPG_TIME_FOREVER INT64_MAX
OPG_API opg_time opg_time_forever(void);

/* 32 opaque bytes: accounts, node operators, consensus keys, evidence ids. Ordered by bytes. */
typedef struct opg_id {
    uint8_t bytes[32];
} opg_id;

/* memcmp order of two ids: <0, 0, >0. */
OPG_API int opg_id_cmp(const opg_id *a, const opg_id *b);

/* --------------------------------------------------------------- numbers */

/*
 * opg_u256: an unsigned 256-bit integer (token amounts in base units; 1 OPG = 10^18).
 * opg_dec: an 18-decimal fixed-point number; its raw integer is value * 10^18.
 * Both are four 64-bit limbs, least significant first. They are distinct types so
 * the compiler catches a decimal passed where an amount is expected.
 *
 * Every operation is checked: a result that does not fit 256 bits is OPG_EOVERFLOW,
 * one that would be negative is OPG_EUNDERFLOW, a zero divisor OPG_EDIVZERO, and the
 * output is then left untouched. Outputs may alias inputs.
 */
typedef struct opg_u256 {
    uint64_t limb[4];
} opg_u256;

typedef struct opg_dec {
    uint64_t limb[4];
} opg_dec;

/* Longest text (with terminating NUL) of a u256: 78 digits + NUL. */
#define OPG_U256_STRING_MAX 79
/* Longest text of a dec: 60 integer digits, '.', 18 fraction digits, NUL. */
#define OPG_DEC_STRING_MAX 80
OPG_API size_t opg_u256_string_max(void);
OPG_API size_t opg_dec_string_max(void);

/* --- u256 --- */
OPG_API void opg_u256_from_u64(opg_u256 *out, uint64_t v);
/* OPG_EOVERFLOW if a does not fit 64 bits. */
OPG_API int opg_u256_to_u64(uint64_t *out, const opg_u256 *a);
/* Decimal digits only ("0", "42"; leading zeros allowed, at most 78 digits before
 * they are stripped). OPG_EPARSE on anything else, OPG_EOVERFLOW above 2^256-1. */
OPG_API int opg_u256_from_string(opg_u256 *out, const char *s);
/* Shortest decimal text, NUL-terminated, into buf[cap]. `needed` (may be NULL)
 * receives the size with NUL. OPG_EBUFS if cap is too small (buf untouched). */
OPG_API int opg_u256_to_string(char *buf, size_t cap, size_t *needed, const opg_u256 *a);
/* 32-byte big-endian form. */
OPG_API void opg_u256_from_be32(opg_u256 *out, const uint8_t in[32]);
OPG_API void opg_u256_to_be32(uint8_t out[32], const opg_u256 *a);
OPG_API int opg_u256_cmp(const opg_u256 *a, const opg_u256 *b);
OPG_API int opg_u256_is_zero(const opg_u256 *a);
OPG_API int opg_u256_add(opg_u256 *out, const opg_u256 *a, const opg_u256 *b);
OPG_API int opg_u256_sub(opg_u256 *out, const opg_u256 *a, const opg_u256 *b);
OPG_API int opg_u256_mul(opg_u256 *out, const opg_u256 *a, const opg_u256 *b);
/* quotient = trunc(a / b), remainder = a - quotient*b; either output may be NULL. */
OPG_API int opg_u256_divmod(opg_u256 *quotient, opg_u256 *remainder, const opg_u256 *a,
                            const opg_u256 *b);
/* trunc(a * b / c) with a 512-bit intermediate product. */
OPG_API int opg_u256_mul_div(opg_u256 *out, const opg_u256 *a, const opg_u256 *b,
                             const opg_u256 *c);

/* --- dec (the Cosmos LegacyDec rules, SEMANTICS.md section 1) --- */
OPG_API void opg_dec_from_u64(opg_dec *out, uint64_t integer); /* integer * 10^18 */
/* The decimal whose raw integer is `raw` (value raw / 10^18). */
OPG_API void opg_dec_from_raw(opg_dec *out, const opg_u256 *raw);
OPG_API void opg_dec_to_raw(opg_u256 *out, const opg_dec *a);
/* i * 10^18 as a decimal; OPG_EOVERFLOW above the decimal range. */
OPG_API int opg_dec_from_int(opg_dec *out, const opg_u256 *i);
/* "123", "0.5", "1.000000000000000001": digits, optionally '.' and 1..18 digits.
 * No sign, exponent, whitespace or empty parts. OPG_EPARSE otherwise. */
OPG_API int opg_dec_from_string(opg_dec *out, const char *s);
/* Shortest exact text: no trailing fraction zeros, no '.' for an integer. */
OPG_API int opg_dec_to_string(char *buf, size_t cap, size_t *needed, const opg_dec *a);
OPG_API void opg_dec_from_be32(opg_dec *out, const uint8_t in[32]);
OPG_API void opg_dec_to_be32(uint8_t out[32], const opg_dec *a);
OPG_API int opg_dec_cmp(const opg_dec *a, const opg_dec *b);
OPG_API int opg_dec_is_zero(const opg_dec *a);
OPG_API int opg_dec_add(opg_dec *out, const opg_dec *a, const opg_dec *b);
OPG_API int opg_dec_sub(opg_dec *out, const opg_dec *a, const opg_dec *b);
/* round(a*b / 10^18), half to even */
OPG_API int opg_dec_mul(opg_dec *out, const opg_dec *a, const opg_dec *b);
/* trunc(a*b / 10^18) */
OPG_API int opg_dec_mul_truncate(opg_dec *out, const opg_dec *a, const opg_dec *b);
/* ceil(a*b / 10^18) */
OPG_API int opg_dec_mul_round_up(opg_dec *out, const opg_dec *a, const opg_dec *b);
/* round_half_even(trunc(a * 10^36 / b) / 10^18) */
OPG_API int opg_dec_quo(opg_dec *out, const opg_dec *a, const opg_dec *b);
/* trunc(a * 10^18 / b) */
OPG_API int opg_dec_quo_truncate(opg_dec *out, const opg_dec *a, const opg_dec *b);
/* ceil(a * 10^18 / b) */
OPG_API int opg_dec_quo_round_up(opg_dec *out, const opg_dec *a, const opg_dec *b);
/* raw(a) * i, exact */
OPG_API int opg_dec_mul_int(opg_dec *out, const opg_dec *a, const opg_u256 *i);
/* trunc(raw(a) / i) */
OPG_API int opg_dec_quo_int(opg_dec *out, const opg_dec *a, const opg_u256 *i);
/* trunc(a): the integer part. Never fails. */
OPG_API void opg_dec_truncate_int(opg_u256 *out, const opg_dec *a);

/* ------------------------------------------------------------- allocator */

/*
 * One function that allocates, resizes and frees (the shape of Lua's lua_Alloc):
 *   new_size == 0: free ptr (may be NULL), return NULL;
 *   ptr == NULL:   allocate new_size bytes;
 *   otherwise:     resize ptr from old_size to new_size bytes.
 * Returning NULL for new_size > 0 means out of memory; the library then returns
 * OPG_ENOMEM and leaves its state as it was. old_size is the size the library
 * asked for last time (0 when ptr is NULL).
 */
typedef void *(*opg_alloc_fn)(void *user_data, void *ptr, size_t old_size, size_t new_size);

typedef struct opg_allocator {
    opg_alloc_fn alloc_fn; /* NULL: the C library's realloc and free */
    void *user_data;
} opg_allocator;


/* --------------------------------------------------------------- records */

/*
 * Every handle's state is a set of records: a key that names the record's kind and
 * ids, and the record's canonical value bytes. Keys start with the handle's tag byte
 * and a kind byte; ids follow as their 32 bytes, integers big-endian, so the byte
 * order of keys is the order a host's key-value store iterates in. Each handle's
 * header lists its kinds. A handle's commit returns the records put and deleted
 * since its previous commit, in key order; a deletion has present = 0, value NULL.
 */
typedef struct opg_record {
    const uint8_t *key;
    size_t key_len;
    const uint8_t *value; /* NULL when present is 0 */
    size_t value_len;
    int present;          /* 1: put, 0: deleted */
} opg_record;

/* A host's stream of records in key order, driven by a loader: fill *rec (the bytes
 * must stay valid until the next call) and return 1, return 0 at the end, or return
 * a negative OPG_E* code, which the loader then returns. */
typedef int (*opg_record_source)(void *ctx, opg_record *rec);
/* Where a handle sends its records in key order (export): return 0 to go on, or a
 * negative OPG_E* code to stop with it. */
typedef int (*opg_record_sink)(void *ctx, const opg_record *rec);

/*
 * The app root: one 32-byte commitment to every handle's state, for the block
 * header. app_root = BLAKE2b-256 personalised "opg.app" (zero-padded to 16 bytes)
 * over, for each handle in increasing tag order, its tag (1 byte) then its root (32
 * bytes, the handle's last commit). A light client checks a record against a header
 * in two steps: the handles' roots give the header's app root (opg_app_root), then
 * the record's proof verifies against its handle's root (opg_proof_verify).
 * OPG_EINVAL unless the tags are non-zero and strictly increasing.
 */
typedef struct opg_handle_root {
    uint8_t tag;      /* OPG_RECORDS_* */
    uint8_t root[32];
} opg_handle_root;
OPG_API int opg_app_root(uint8_t out[32], const opg_handle_root *roots, size_t n);

/* The longest key of any record. */
#define OPG_RECORD_KEY_MAX 112
/* Each handle's tag, the first byte of its records' keys. */
#define OPG_RECORDS_REGISTRY 1
#define OPG_RECORDS_PRICER 2
#define OPG_RECORDS_SPLITTER 3
#define OPG_RECORDS_SLASHER 4
#define OPG_RECORDS_TALLY 5
#define OPG_RECORDS_HYPER 6

#ifdef __cplusplus
}
#endif

#endif /* OPG_CORE_H */
