/*
 * params.h - parameters by key name and decimal text, one mechanism for every handle.
 *
 * A module describes its public params struct with a table of keys: the field's
 * type, its offset and inclusive bounds. Setting a key parses the text into a copy
 * of the struct, checks the bounds, runs the module's whole-struct validator on the
 * copy (rules that tie fields together), and only then stores the copy, so a refused
 * change leaves the struct exactly as it was.
 *
 * On top of the tables, every handle (and every host module the tally is given)
 * implements one namespace interface, opgi_param_ns: stage on a copy, commit without
 * failing. Its own setter and governance both change parameters through it.
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

/* ------------------------------------------------------ parameter namespaces */

/*
 * A namespace is the set of keys one handle (or one host module) owns, under a few
 * prefixes, and the way to change them in two steps: stage the changes on a copy
 * (every rule checked there, the live handle untouched), then commit the copy in a
 * step that cannot fail. Governance applies a proposal only through this, so a new
 * module plugs in by defining one opgi_param_ns; the tally does not change.
 *
 * A copy namespace (scratch_size > 0) works on a staged copy:
 *   begin    the copy of the handle's governable state (plain values: the
 *            transaction duplicates and restores it with memcpy, so it holds no
 *            resource until reserve);
 *   stage    one key = value on the copy, with exactly the rules the handle's own
 *            setter applies to its live state; a refusal (OPG_EKEY, OPG_EPARSE,
 *            OPG_EINVAL, with err saying why) leaves the copy as it was. It reads the
 *            handle, never changes it and never allocates;
 *   step     (may be NULL) the end of one proposal's changes, for a namespace that
 *            takes a proposal as one step (the slasher: a window changed by the
 *            step restarts the liveness bitmaps);
 *   reserve  (may be NULL) after the last stage: obtains what commit needs (memory,
 *            OPG_ENOMEM) and records it in the copy for commit or release;
 *   commit   makes the copy live and takes over what reserve obtained; cannot fail;
 *   release  (may be NULL) frees what reserve obtained when commit does not run.
 * A live namespace (scratch_size 0: a host module, which offers no copy) is changed
 * in place: get reads a value in force as text (at most OPGI_NS_VALUE_MAX
 * characters) so that set can put it back. Both answers are the host's own and
 * deterministic: a refusal by set is a rule, not a local condition.
 */
#define OPGI_NS_PREFIXES 3
#define OPGI_NS_SCRATCH_MAX 4096 /* the pricer's copy, the largest, is under 2 KB */
#define OPGI_NS_VALUE_MAX 511

typedef struct opgi_param_ns {
    const char *prefixes[OPGI_NS_PREFIXES + 1]; /* key prefixes owned, NULL-terminated */
    size_t scratch_size;                        /* bytes of a copy; 0: a live namespace */
    void (*begin)(void *scratch, const void *h);
    int (*stage)(void *scratch, const void *h, const char *key, const char *value, char *err);
    void (*step)(void *scratch, const void *h);
    int (*reserve)(void *scratch, const void *h, char *err);
    void (*commit)(void *h, void *scratch);
    void (*release)(void *scratch, const void *h);
    /* live namespaces only */
    int (*get)(const void *h, const char *key, char *buf, size_t cap, char *err);
    int (*set)(void *h, const char *key, const char *value, char *err);
} opgi_param_ns;

/* The namespaces of the library's handles, each defined beside its parameter table.
 * A copy of the registry's is an opg_registry_params and one of the tally's an
 * opg_tally_params, so the tally can read parameters as staged (opgi_param_txn_view). */
extern const opgi_param_ns opgi_registry_param_ns; /* "staking." on an opg_registry */
extern const opgi_param_ns opgi_splitter_param_ns; /* "distribution.", "mint.", "emission." */
extern const opgi_param_ns opgi_slasher_param_ns;  /* "slashing.", "evidence." */
extern const opgi_param_ns opgi_pricer_param_ns;   /* "fees." */
extern const opgi_param_ns opgi_tally_param_ns;    /* "gov." */

/* Whether key starts with one of the namespace's prefixes; the longest one's length
 * (0: none). */
size_t opgi_param_ns_owns(const opgi_param_ns *ns, const char *key);

/*
 * The setter of one handle: key = value on h through its copy namespace, in one
 * step (begin, stage, step, reserve, commit). Atomic: a refusal, or OPG_ENOMEM from
 * reserve, changes nothing. Every opg_*_param_set is this call.
 */
int opgi_param_ns_set(const opgi_param_ns *ns, void *h, const char *key, const char *value,
                      char *err);

/* A namespace bound to its handle (for a live namespace, whatever its get/set take). */
typedef struct opgi_param_ref {
    const opgi_param_ns *ns; /* NULL: no namespace owns the key */
    void *h;
} opgi_param_ref;

/* One change of a group: the key's text must stay valid until the transaction ends. */
typedef struct opgi_param_change {
    opgi_param_ref to;
    const char *key, *value;
} opgi_param_change;

/* Internal to the transaction: a staged copy namespace, and a set made on a live one. */
typedef struct opgi_txn_ns {
    opgi_param_ref to;
    unsigned char *cur;  /* the staged copy */
    unsigned char *mark; /* the copy as the current group found it */
} opgi_txn_ns;

typedef struct opgi_txn_set {
    opgi_param_ref to;
    const char *key, *value;
    size_t index; /* of its change in the group */
    int applied;
    char old[OPGI_NS_VALUE_MAX + 1];
} opgi_txn_set;

/*
 * A transaction: groups of changes (one per proposal) staged in order over any
 * namespaces, each group on top of the ones before it, then committed together.
 * The copies live in the transaction; a live namespace's sets are made as its group
 * is staged and put back in reverse order if the transaction ends uncommitted.
 *   opgi_param_txn_init; opgi_param_txn_stage per group; opgi_param_txn_reserve;
 *   opgi_param_txn_commit (cannot fail); opgi_param_txn_end (always).
 */
typedef struct opgi_param_txn {
    const opg_allocator *alloc;
    opgi_txn_ns *ns;
    size_t n_ns, ns_cap;
    opgi_txn_set *sets;
    size_t n_sets, sets_cap;
    int reserved, committed;
} opgi_param_txn;

void opgi_param_txn_init(opgi_param_txn *x, const opg_allocator *a);

/*
 * Stages one group, all of it or none. First, in change order, every change to a
 * copy namespace is staged and every old value of a live one read; then the live
 * sets are made in change order. Then each staged namespace's step runs.
 * Returns 0; or the refusal of change *failed (OPG_EKEY when no namespace owns its
 * key, else the namespace's code), the transaction as before the call (this group's
 * live sets put back in reverse); or OPG_ENOMEM (the transaction's own memory, or a
 * live namespace's answer), likewise as before the call. err: why.
 */
int opgi_param_txn_stage(opgi_param_txn *x, const opgi_param_change *ch, size_t n,
                         size_t *failed, char *err);

/* After the last group: every staged namespace's reserve. OPG_ENOMEM (what was
 * obtained is freed by opgi_param_txn_end). */
int opgi_param_txn_reserve(opgi_param_txn *x, char *err);

/* Makes every staged copy live, in the order first staged. After a successful
 * opgi_param_txn_reserve; cannot fail. */
void opgi_param_txn_commit(opgi_param_txn *x);

/* Ends the transaction and frees it. Uncommitted, it also frees what reserve obtained
 * and puts back every live set in reverse order, so every namespace is as before. */
void opgi_param_txn_end(opgi_param_txn *x);

/* The staged copy of ns on h, or NULL if the transaction has staged nothing there. */
const void *opgi_param_txn_view(const opgi_param_txn *x, const opgi_param_ns *ns,
                                const void *h);

#endif /* OPG_PARAMS_H */
