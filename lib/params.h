/*
 * params.h - parameters by key name and decimal text, one mechanism for every handle.
 *
 * A module describes its public params struct with a table of keys: the field's
 * type, its offset and inclusive bounds. Setting a key parses the text into a copy
 * of the struct, checks the bounds, runs the module's whole-struct validator on the
 * copy (rules that tie fields together), and only then stores the copy. So a
 * refused change leaves the handle exactly as it was, and governance can apply a
 * list of changes and undo it in reverse order.
 */
#ifndef OPG_PARAMS_H
#define OPG_PARAMS_H

#include "internal.h"

typedef enum {
    OPGI_PARAM_U32,  /* uint32_t, decimal digits */
    OPGI_PARAM_U64,  /* uint64_t, decimal digits */
    OPGI_PARAM_SECS, /* opg_time (int64_t) seconds, 0..INT64_MAX */
    OPGI_PARAM_DEC,  /* opg_dec, decimal text */
    OPGI_PARAM_U256, /* opg_u256, decimal digits */
    OPGI_PARAM_BOOL  /* int, "true" or "false" */
} opgi_param_type;

typedef struct opgi_param {
    const char *key;      /* e.g. "staking.unbonding_time" */
    opgi_param_type type;
    size_t offset;        /* offsetof(params struct, field) */
    const char *min;      /* inclusive bound as text, NULL for none */
    const char *max;      /* inclusive bound as text, NULL for none */
} opgi_param;

/* Checks the whole struct; returns 0 or a code and writes why into err. */
typedef int (*opgi_params_validate_fn)(const void *params, char *err);

typedef struct opgi_param_table {
    const opgi_param *entries;
    size_t count;
    size_t struct_size;            /* sizeof the params struct (at most 4096) */
    opgi_params_validate_fn validate; /* may be NULL */
} opgi_param_table;

/* Finds key in the table, NULL if absent. */
const opgi_param *opgi_param_find(const opgi_param_table *t, const char *key);

/* Parses text into *field (of the entry's type) and checks its bounds.
 * OPG_EPARSE for malformed text, OPG_EINVAL out of bounds or overflow. */
int opgi_param_parse(const opgi_param *p, void *field, const char *text, char *err);

/* Formats *field as text into buf[cap]; OPG_EBUFS with *needed when too small. */
int opgi_param_format(const opgi_param *p, const void *field, char *buf, size_t cap,
                      size_t *needed);

/* Validates every bound of every entry and the whole-struct rule, on a candidate
 * struct (used by create and load). */
int opgi_params_check(const opgi_param_table *t, const void *params, char *err);

/* Sets key to text in *params (a module's live params struct) atomically.
 * OPG_EKEY for an unknown key. */
int opgi_params_set(const opgi_param_table *t, void *params, const char *key,
                    const char *text, char *err);

/* Reads key of *params as text. */
int opgi_params_get(const opgi_param_table *t, const void *params, const char *key, char *buf,
                    size_t cap, size_t *needed, char *err);

/* The i-th key of the table (for listing), NULL past the end. */
const char *opgi_params_key(const opgi_param_table *t, size_t i);

#endif /* OPG_PARAMS_H */
