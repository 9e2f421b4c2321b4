/*
 * opg_pricer.h - the fee market for inference requests (SEMANTICS.md section 6).
 *
 * A pricer prices requests over up to 8 resource dimensions (GPU seconds, tokens
 * in, tokens out, ...). Each dimension has a base fee in base units per unit, a
 * per-block target and limit, bounds on its base fee, and a controller that moves
 * the base fee toward the target after every block:
 *   - EIP-1559 (Ethereum's exact integer rule), or
 *   - exponential (EIP-4844's fake_exponential of the accumulated excess).
 * A model class scales a request's units per dimension; the request's base fee is
 * the sum (EIP-7706) or the maximum of its per-dimension fees. Charging adds a tip
 * (EIP-1559 style), splits the fee by a policy and records the usage.
 *
 * One block, as the host drives it:
 *   opg_pricer_quote / opg_pricer_charge   for each request (charge records usage)
 *   opg_pricer_end_block                   base fees move, usage resets
 *   opg_pricer_state_hash / opg_pricer_save
 *
 * Dimensions are addressed by index, in the order given at creation; names serve
 * the parameter keys. Model classes are addressed by a small integer id chosen by
 * the host (uint32_t), so a request names its class without any lookup table.
 *
 * The pricer stands alone: it needs no registry. All conventions of opg_core.h
 * apply: a failed call changes nothing, one thread per handle at a time.
 */
#ifndef OPG_PRICER_H
#define OPG_PRICER_H

#include "opg_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Most resource dimensions a pricer has. */
#define OPG_PRICER_MAX_DIMENSIONS 8
/* Size of a dimension name buffer: names are 1..31 characters plus the NUL. */
#define OPG_PRICER_NAME_MAX 32
OPG_API size_t opg_pricer_max_dimensions(void);
OPG_API size_t opg_pricer_name_max(void);

/* How a dimension's base fee follows its usage (SEMANTICS.md section 6). */
typedef enum opg_pricer_controller {
    /* Ethereum's rule: +-(1/denominator) at a full or empty block, +1 at least when
     * above target, never below 0; then clamped to [min_base_fee, max_base_fee]. */
    OPG_PRICER_EIP1559 = 0,
    /* EIP-4844's rule: excess = max(0, excess + used - target); base fee =
     * fake_exponential(min_base_fee, excess, update_fraction), capped at max_base_fee. */
    OPG_PRICER_EXPONENTIAL = 1
} opg_pricer_controller;

/* How the per-dimension fees of one request combine into its base fee. */
typedef enum opg_pricer_combine {
    OPG_PRICER_COMBINE_SUM = 0, /* sum over dimensions (EIP-7706) */
    OPG_PRICER_COMBINE_MAX = 1  /* the largest one: the scarcest resource sets the price */
} opg_pricer_combine;

/* One resource dimension. Amounts are base units of OPG per unit of the resource. */
typedef struct opg_pricer_dimension {
    char name[OPG_PRICER_NAME_MAX]; /* 1..31 of [A-Za-z0-9_-], unique, not "split"/"combine" */
    opg_pricer_controller controller;
    opg_u256 initial_base_fee; /* the base fee until the first end_block; in [min, max] */
    opg_u256 target;           /* units per block the controller steers to; 1..limit */
    opg_u256 limit;            /* most units per block; a request beyond it is refused */
    opg_u256 min_base_fee;     /* floor; for exponential also the factor, so at least 1 */
    opg_u256 max_base_fee;     /* cap; min_base_fee..2^256-1 */
    uint64_t denominator;      /* EIP-1559: the change bound 1/denominator; at least 1 */
    uint64_t update_fraction;  /* exponential: the e-folding excess; at least 1 */
} opg_pricer_dimension;

/* Shares of every charged fee; they must add up to exactly 1. */
typedef struct opg_pricer_split {
    opg_dec inference; /* the node that served the request (it also gets the dust) */
    opg_dec verifiers; /* the verification nodes, in equal parts */
    opg_dec stakers;   /* joins the next block's staking rewards */
    opg_dec burn;      /* destroyed */
    opg_dec community; /* the community pool */
} opg_pricer_split;

/* A model class: how much of each dimension one requested unit takes. */
typedef struct opg_pricer_class {
    uint32_t id; /* the host's choice; unique within a pricer */
    /* Per dimension, by index. A request's effective units are
     * ceil(units * multiplier); dimensions past dimension_count are ignored. */
    opg_dec multiplier[OPG_PRICER_MAX_DIMENSIONS];
} opg_pricer_class;

typedef struct opg_pricer_params {
    size_t dimension_count; /* 1..OPG_PRICER_MAX_DIMENSIONS */
    opg_pricer_dimension dimensions[OPG_PRICER_MAX_DIMENSIONS];
    opg_pricer_combine combine;
    opg_pricer_split split;
    /* Model classes to start with (copied; may be NULL with class_count 0). More can
     * be added and removed later with opg_pricer_class_set / _remove. */
    const opg_pricer_class *classes;
    size_t class_count;
} opg_pricer_params;

/*
 * Fills the documented defaults: no dimension yet (dimension_count 0), and every
 * dimension slot set to Ethereum's London parameters with an empty name: EIP-1559,
 * initial base fee 10^9, target 15,000,000, limit 30,000,000, min 0, max 2^256-1,
 * denominator 8, update_fraction 3,338,477 (EIP-4844's). Combine SUM; split all to
 * the inference node (inference 1, the rest 0); no classes. So a host that sets
 * dimension_count = 1 and names dimension 0 has Ethereum's gas market.
 */
OPG_API void opg_pricer_params_init(opg_pricer_params *params);

/* ------------------------------------------------------------- lifetime */

typedef struct opg_pricer opg_pricer;

/*
 * Creates a pricer from params (copied; the caller keeps ownership of params and
 * its class array). alloc may be NULL for the C library's allocator; the handle
 * keeps a copy and uses it for every allocation until opg_pricer_free.
 * Every dimension starts at its initial_base_fee with no usage and no excess.
 * Errors: OPG_EINVAL for a NULL out or params, or params out of range (names,
 * bounds, target > limit, min > max, initial base fee outside [min, max], split
 * not summing to 1, duplicate class ids), OPG_ENOMEM.
 * *out is set only on success. O(dimensions + classes * log classes).
 */
OPG_API int opg_pricer_new(opg_pricer **out, const opg_pricer_params *params,
                           const opg_allocator *alloc);

/* Frees the pricer and everything it owns. NULL is a no-op. */
OPG_API void opg_pricer_free(opg_pricer *pricer);

/*
 * Detail text of the last failing call that took this handle non-const (e.g. which
 * dimension a charge found at its limit), "" if none. Calls on a const handle
 * (quote, get, save) only return their code, so they stay read-only. Owned by the
 * handle, valid until the next call on it. Never NULL (also for a NULL handle).
 */
OPG_API const char *opg_pricer_last_error(const opg_pricer *pricer);

/* ------------------------------------------------------------ inspection */

OPG_API size_t opg_pricer_dimension_count(const opg_pricer *pricer);

/* A dimension's live state. */
typedef struct opg_pricer_dimension_state {
    opg_u256 base_fee; /* base units per unit, now */
    opg_u256 usage;    /* units recorded in the current block */
    opg_u256 excess;   /* exponential controller's accumulated excess (0 for EIP-1559) */
} opg_pricer_dimension_state;

/*
 * Reads dimension `index`: its current parameters into *dimension (may be NULL;
 * initial_base_fee is filled with the base fee now, so the descriptor can start an
 * equivalent pricer) and its state into *state (may be NULL).
 * Errors: OPG_EINVAL if index >= dimension count.
 */
OPG_API int opg_pricer_dimension_get(opg_pricer_dimension *dimension,
                                     opg_pricer_dimension_state *state,
                                     const opg_pricer *pricer, size_t index);

/* The index of the dimension called `name`. OPG_ENOTFOUND if there is none. */
OPG_API int opg_pricer_dimension_find(size_t *index, const opg_pricer *pricer,
                                      const char *name);

/* The current split policy and combine policy. Never fail. */
OPG_API void opg_pricer_split_get(opg_pricer_split *split, const opg_pricer *pricer);
OPG_API opg_pricer_combine opg_pricer_combine_get(const opg_pricer *pricer);

/* ---------------------------------------------------------- model classes */

/*
 * Adds the class `cls` (copied), or replaces the multipliers of the class with its
 * id. Errors: OPG_EINVAL for a NULL cls, OPG_ENOMEM (nothing changed).
 * O(classes) (kept sorted by id).
 */
OPG_API int opg_pricer_class_set(opg_pricer *pricer, const opg_pricer_class *cls);

/* Removes the class `id`. OPG_ECLASS if there is none. O(classes). */
OPG_API int opg_pricer_class_remove(opg_pricer *pricer, uint32_t id);

/* Copies the class `id` into *cls. OPG_ECLASS if there is none. O(log classes). */
OPG_API int opg_pricer_class_get(opg_pricer_class *cls, const opg_pricer *pricer, uint32_t id);

/* Number of classes, and the i-th in ascending id order (OPG_EINVAL past the end). */
OPG_API size_t opg_pricer_class_count(const opg_pricer *pricer);
OPG_API int opg_pricer_class_at(opg_pricer_class *cls, const opg_pricer *pricer, size_t i);

/* ------------------------------------------------------- quote and charge */

/* What a request asks for: units of each dimension (by index) under a model class. */
typedef struct opg_pricer_request {
    uint32_t model_class;
    opg_u256 units[OPG_PRICER_MAX_DIMENSIONS]; /* past dimension_count: ignored */
} opg_pricer_request;

/* The price of a request at the current base fees. */
typedef struct opg_pricer_price {
    opg_u256 base_fee; /* the request's base fee: sum or max of dimension_fee */
    opg_u256 effective_units[OPG_PRICER_MAX_DIMENSIONS]; /* ceil(units * multiplier) */
    opg_u256 dimension_fee[OPG_PRICER_MAX_DIMENSIONS];   /* effective units * base fee */
} opg_pricer_price;

/*
 * Prices a request without changing any state. It succeeds exactly when a charge of
 * the same request with a high enough max_fee would succeed, so its errors are:
 * OPG_ECLASS unknown model class; OPG_EOVERFLOW effective units or a fee beyond
 * 2^256-1; OPG_EZERO every effective unit is 0 (the request takes nothing);
 * OPG_ELIMIT some dimension's usage in this block would pass its limit.
 * Entries of *out past the dimension count are 0. O(dimensions + log classes).
 */
OPG_API int opg_pricer_quote(opg_pricer_price *out, const opg_pricer *pricer,
                             const opg_pricer_request *request);

/* Where a charged fee goes. inference + verifiers + stakers + burn + community = fee. */
typedef struct opg_pricer_receipt {
    opg_pricer_price price;
    opg_u256 tip;       /* min(max_priority_fee, max_fee - base fee) */
    opg_u256 fee;       /* base fee + tip: what the payer pays */
    opg_u256 inference; /* trunc(fee * share) plus the dust of every part */
    opg_u256 verifiers; /* trunc(fee * share), all verifiers together */
    opg_u256 stakers;   /* trunc(fee * share) */
    opg_u256 burn;      /* trunc(fee * share) */
    opg_u256 community; /* trunc(fee * share) */
} opg_pricer_receipt;

/*
 * Charges a request: prices it as opg_pricer_quote does, takes the fee, splits it
 * and adds its effective units to the block's usage.
 *
 * verifiers[verifier_count] are the verification nodes' ids (distinct). Their part
 * is divided equally, truncated; the remainder goes to the verifier with the lowest
 * id (byte order). verifier_amounts[i] receives verifiers[i]'s amount, in the
 * caller's order; the caller provides verifier_count entries (NULL when 0).
 *
 * Errors, each leaving all state and outputs untouched: the quote errors (OPG_ECLASS,
 * OPG_EOVERFLOW, OPG_EZERO, OPG_ELIMIT); OPG_EFEE max_fee below the base fee;
 * OPG_EINVAL no verifier while the verifiers' share is not 0, or a verifier id
 * given twice. O(dimensions + log classes + verifier_count^2).
 */
OPG_API int opg_pricer_charge(opg_pricer_receipt *out, opg_u256 *verifier_amounts,
                              opg_pricer *pricer, const opg_pricer_request *request,
                              const opg_u256 *max_fee, const opg_u256 *max_priority_fee,
                              const opg_id *verifiers, size_t verifier_count);

/*
 * Ends the block: every dimension's base fee moves by its controller from the
 * block's usage, is clamped to [min_base_fee, max_base_fee], and usage resets to 0.
 * new_base_fees (may be NULL) receives the new base fees by dimension index, 0 past
 * the dimension count. Cannot fail: wide intermediates make every step exact, and
 * a result past max_base_fee is capped there (an exponential excess is likewise
 * capped at 2^256-1, far beyond where the base fee reaches any cap).
 * O(dimensions); an exponential dimension takes O(excess / update_fraction + 1)
 * series terms, at most a few hundred before the cap stops it.
 */
OPG_API int opg_pricer_end_block(opg_u256 new_base_fees[OPG_PRICER_MAX_DIMENSIONS],
                                 opg_pricer *pricer);

/*
 * EIP-4844's fake_exponential(factor, numerator, denominator): the integer Taylor
 * series approximating factor * e^(numerator / denominator), bit for bit as the EIP
 * computes it, with wide intermediates. Errors: OPG_EDIVZERO for denominator 0,
 * OPG_EOVERFLOW if the result exceeds 2^256-1 (*out untouched).
 */
OPG_API int opg_pricer_fake_exponential(opg_u256 *out, const opg_u256 *factor,
                                        const opg_u256 *numerator,
                                        const opg_u256 *denominator);

/* ------------------------------------------------------------- parameters */

/*
 * Governance sets parameters by key and decimal text. The keys, per dimension <d>:
 *   fees.<d>.target, fees.<d>.limit, fees.<d>.min_base_fee, fees.<d>.max_base_fee
 *   fees.<d>.denominator          (EIP-1559 dimensions)
 *   fees.<d>.update_fraction      (exponential dimensions)
 * and for the pricer:
 *   fees.combine   "sum" or "max"
 *   fees.split     five decimals "inference,verifiers,stakers,burn,community",
 *                  e.g. "0.7,0.1,0.15,0.05,0"; they must add up to exactly 1.
 * The split is one key so that a change of two shares is one atomic, checkable step
 * (a share changed alone could never keep the sum at 1).
 *
 * A set is atomic: the value is parsed and every rule checked (target <= limit,
 * min <= max, ...) before anything changes. A new fee bound clamps the current base
 * fee into [min_base_fee, max_base_fee] at once; everything else takes effect at
 * the next charge or end_block. Errors: OPG_EKEY unknown key, OPG_EPARSE malformed
 * text, OPG_EINVAL a value out of range or breaking a rule (see last_error).
 */
OPG_API int opg_pricer_param_set(opg_pricer *pricer, const char *key, const char *value);

/*
 * Reads the key's value as text (the same form set accepts) into buf[cap].
 * needed (may be NULL) receives the size with NUL. Errors: OPG_EKEY, OPG_EBUFS.
 */
OPG_API int opg_pricer_param_get(char *buf, size_t cap, size_t *needed,
                                 const opg_pricer *pricer, const char *key);

/* The i-th key (dimension keys by index, then fees.combine, fees.split); NULL past
 * the end. Owned by the pricer, valid until it is freed. */
OPG_API const char *opg_pricer_param_key(const opg_pricer *pricer, size_t i);

/* ---------------------------------------------------- records and snapshots */

/*
 * The pricer's state is a set of records (opg_core.h, "records"). Keys: the tag
 * OPG_RECORDS_PRICER, a kind byte, then ids (integers big-endian):
 *   0 params      dimension count, combine, split
 *   1 state       per dimension: base fee, usage, excess
 *   2 dimension   index (1 byte): name, controller, target, limit, min_base_fee,
 *                 max_base_fee, the controller's rate
 *   3 class       id (4 bytes): one multiplier per dimension
 * A value is a format byte (1), then the record's fields (u256 and decimals as 32
 * bytes, most significant limb first).
 */

/*
 * Commits the block: the records put and deleted since the previous commit, in key
 * order, into *changes and *count (the pricer owns them; valid until the next
 * commit or free), and the new root of the Merkle tree over all records into root
 * (opg_proof.h specifies the tree). Only records whose bytes changed are put, only
 * records the last commit had are deleted. Call it once per block, after end_block.
 * O(d + c log c + c log n) for d dimensions and c classes set or removed since.
 * The first commit of a pricer made by opg_pricer_new or opg_pricer_load puts every
 * record; one made by opg_pricer_load_records starts from the store's records. Until
 * its first commit a pricer tracks no changes. OPG_ENOMEM changes nothing.
 */
OPG_API int opg_pricer_commit(uint8_t root[32], const opg_record **changes, size_t *count,
                              opg_pricer *pricer);
/* The root as of the last commit (32 zero bytes, the empty tree's, before the first
 * commit of a new or snapshot-loaded pricer). */
OPG_API void opg_pricer_root(uint8_t root[32], const opg_pricer *pricer);
/* The root the pricer's records would have now, from scratch. O(n log n). */
OPG_API int opg_pricer_root_from_scratch(uint8_t root[32], const opg_pricer *pricer);
/* Every record, in key order, to fn. fn's negative code stops it. */
OPG_API int opg_pricer_records(opg_pricer *pricer, opg_record_sink fn, void *ctx);
/*
 * Creates a pricer from a stream of records in strictly increasing key order, as a
 * host's store iterates them, checked as opg_pricer_load checks (OPG_ECORRUPT); when
 * root is not NULL the records must also hash to it. Its committed root is the
 * records' root, and its next commit returns what changed since.
 */
OPG_API int opg_pricer_load_records(opg_pricer **out, opg_record_source next, void *ctx,
                                    const uint8_t root[32], const opg_allocator *alloc);
/* The key of class id's record, for proofs and host lookups. */
OPG_API int opg_pricer_key_class(uint8_t key[OPG_RECORD_KEY_MAX], size_t *len, uint32_t id);
/* A proof, against the last committed root, that the record with this key is present
 * with its committed value, or absent (opg_proof_verify checks it). OPG_EBUFS with
 * *len = the size needed; at most OPG_PROOF_MAX_BYTES. */
OPG_API int opg_pricer_prove(uint8_t *buf, size_t cap, size_t *len, const opg_pricer *pricer,
                             const uint8_t *key, size_t key_len);

/*
 * Writes the snapshot (the header, then every record in key order; lib format 2)
 * into buf[cap]; *len receives the size needed. OPG_EBUFS if cap is too small (buf
 * may then hold a prefix), OPG_ENOMEM (the encoder's scratch). buf may be NULL with
 * cap 0 to ask the size. O(dimensions * classes).
 */
OPG_API int opg_pricer_save(uint8_t *buf, size_t cap, size_t *len, const opg_pricer *pricer);

/*
 * Creates a pricer from a snapshot. Saving it again gives the same bytes.
 * Errors: OPG_ECORRUPT (wrong kind, an older format, truncated, trailing bytes, any
 * value out of range or out of order), OPG_EVERSION (saved by a newer libopg),
 * OPG_ENOMEM.
 */
OPG_API int opg_pricer_load(opg_pricer **out, const uint8_t *buf, size_t len,
                            const opg_allocator *alloc);

/* The state hash: the root of the pricer's records, from scratch
 * (opg_pricer_root_from_scratch). OPG_EINVAL on NULL, OPG_ENOMEM. */
OPG_API int opg_pricer_state_hash(uint8_t out[32], const opg_pricer *pricer);

#ifdef __cplusplus
}
#endif

#endif /* OPG_PRICER_H */
