/*
 * opg_slasher.h - the slashing engine: liveness (missed blocks), double-sign
 * evidence, faulty-inference evidence, jail and tombstone (Cosmos x/slashing and
 * x/evidence, SEMANTICS.md section 4, with the libopg extensions).
 *
 * A slasher is created on a registry and stays attached to it until freed (free
 * the slasher before the registry). It decides when a node is punished, with which
 * fraction and at which infraction height; every slash goes through the registry's
 * opg_registry_slash (so unbonding and redelegation entries are slashed, the supply
 * ledger moves and the reward splitter's slash hook fires), every jail through the
 * registry's jail.
 *
 * One block, as the host drives it:
 *   opg_slasher_record_commit     the last commit's signatures (liveness; may slash)
 *   opg_slasher_misbehavior       CometBFT's misbehaviour records (FinalizeBlock)
 *   opg_slasher_double_sign       libopg's own signed-vote evidence
 *   opg_slasher_fault             a verification node's faulty-inference report
 *   opg_slasher_submit_evidence   either kind, from its canonical bytes
 *   opg_slasher_end_block         at the end of the block, before the registry's:
 *                                 the deferred slashes now due (defer_duration > 0)
 *
 * Which double-sign path a host uses:
 *  - A CometBFT host passes the misbehaviour records CometBFT hands it in
 *    FinalizeBlock (RequestFinalizeBlock.misbehavior) to opg_slasher_misbehavior.
 *    CometBFT has verified the votes itself (under its ZIP-215 rules, which accept
 *    signatures libsodium's strict verifier refuses); libopg does not see them.
 *  - opg_slasher_double_sign is for hosts whose consensus signs libopg's vote bytes
 *    (opg_slasher_vote_sign_bytes) under RFC 8032 rules: libopg verifies both votes.
 * Either way, what no signature covers is never taken from the submitter: the time
 * of the infraction height and the validator's power there come from the registry's
 * consensus history (opg_registry_block_time, opg_registry_power_at), and a key
 * once tombstoned stays tombstoned after its node is removed.
 * After each call, the registry's event list (opg_registry_events) holds every
 * effect of the call (burns, jails, settled rewards, the reporter's reward) and
 * opg_slasher_slashes() describes each slash it made.
 *
 * Heights and times come from the host: `height` and `now` are the current block's.
 * All conventions of opg_core.h apply: a failed call changes nothing (no state, no
 * events, no output), one thread per handle at a time (the registry counts as part
 * of the handle: do not use it from another thread meanwhile).
 */
#ifndef OPG_SLASHER_H
#define OPG_SLASHER_H

#include "opg_core.h"
#include "opg_registry.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct opg_slasher opg_slasher;

/* ------------------------------------------------------------- parameters */

/* Longest chain id in bytes (CometBFT's limit), and its buffer with the NUL. */
#define OPG_SLASHER_CHAIN_ID_MAX 50
#define OPG_SLASHER_CHAIN_ID_BUF 51
/* Most fault classes a slasher has. */
#define OPG_SLASHER_MAX_FAULT_CLASSES 256
OPG_API size_t opg_slasher_chain_id_max(void);
OPG_API size_t opg_slasher_max_fault_classes(void);

/* A kind of faulty inference (Extension), chosen by the host at creation. */
typedef struct opg_fault_class {
    uint32_t id;            /* the host's choice; unique */
    opg_dec slash_fraction; /* 0..1 */
    opg_time jail_duration; /* >= 0 s; the node is jailed until now + this */
    int tombstone;          /* 0 or 1: 1 jails forever and tombstones */
} opg_fault_class;

typedef struct opg_slasher_params {
    /* "slashing.signed_blocks_window", blocks, 1..1000000 (a bitmap costs window/8
     * bytes per node; Cosmos has no upper bound); default 100. Changing it resets
     * every node's missed-block bitmap, counter and index offset (start heights
     * stay): a clean rule where Cosmos resets lazily. */
    uint64_t signed_blocks_window;
    /* "slashing.min_signed_per_window", 0..1; default 0.5 */
    opg_dec min_signed_per_window;
    /* "slashing.downtime_jail_duration", seconds; default 600 */
    opg_time downtime_jail_duration;
    /* "slashing.slash_fraction_double_sign", 0..1; default 0.05 */
    opg_dec slash_fraction_double_sign;
    /* "slashing.slash_fraction_downtime", 0..1; default 0.01 */
    opg_dec slash_fraction_downtime;
    /* "evidence.max_age_num_blocks"; default 100000. With max_age_duration, also
     * the window of the registry's consensus history while the slasher is attached
     * (the registry's saved state does not hold it: load the slasher before the
     * next end_block): history older than both is dropped at end_block, so raising
     * them later does not bring it back. */
    uint64_t max_age_num_blocks;
    /* "evidence.max_age_duration", seconds; default 172800 (48 h) */
    opg_time max_age_duration;
    /* "slashing.reporter_share", 0..1; default 0 (Extension): the reporter of a
     * faulty inference receives trunc(burned_total * reporter_share). */
    opg_dec reporter_share;
    /* "slashing.correlation_k", >= 0; default 0 (Extension: correlated penalty). */
    opg_dec correlation_k;
    /* "slashing.correlation_window", seconds; default 86400: a faulty-inference
     * slash at time t stays in the correlation window while now - t < window. */
    opg_time correlation_window;
    /* The chain id that vote signatures cover: 1..50 bytes of printable ASCII
     * (0x21..0x7e), NUL terminated. Fixed at creation. Default "opg-1". */
    char chain_id[OPG_SLASHER_CHAIN_ID_BUF];
    /* Fault classes (copied at creation; may be NULL with count 0). Fixed at
     * creation; read them back with opg_slasher_fault_class_at. */
    const opg_fault_class *fault_classes;
    size_t fault_class_count;
    /* "slashing.defer_duration", seconds, >= 0; default 0: every slash is made at
     * once. When positive, a slash is decided, planned and its node jailed (and
     * tombstoned) at once, but its tokens are taken by opg_slasher_end_block once
     * now >= the decision's time + defer_duration (Substrate's SlashDeferDuration),
     * unless governance cancels it first (opg_slasher_cancel_deferred). The due time
     * is fixed when the slash is decided: changing the parameter later moves no
     * pending slash. See "Deferred slashes" below. */
    opg_time defer_duration;
} opg_slasher_params;

/* Fills *params with the documented defaults (Cosmos' slashing and evidence
 * defaults, extensions off, chain id "opg-1", no fault class). */
OPG_API void opg_slasher_params_init(opg_slasher_params *params);

/* ------------------------------------------------------------- lifetime */

/*
 * Creates a slasher on registry r and attaches it (the registry then tells it when
 * a node is created, becomes bonded or is removed). params may be NULL (defaults),
 * alloc may be NULL (realloc/free). Nodes that are bonded already get a signing
 * info with start height 0 (as validators bonded at genesis do).
 * Errors: OPG_EINVAL (params out of range, bad chain id, a fault class fraction
 * above 1 or negative jail duration, duplicate class ids, too many classes),
 * OPG_ENOMEM (also when the registry has no room for another engine).
 * O(nodes * window / 64).
 */
OPG_API int opg_slasher_new(opg_slasher **out, opg_registry *r, const opg_slasher_params *params,
                            const opg_allocator *alloc);
/* Detaches from the registry and frees everything. NULL is fine. */
OPG_API void opg_slasher_free(opg_slasher *s);
/* Detail text of the last failed call on this slasher ("" if none). Never NULL. */
OPG_API const char *opg_slasher_last_error(const opg_slasher *s);

/* Sets a parameter by key and decimal text (the keys of opg_slasher_params).
 * OPG_EKEY unknown key, OPG_EPARSE bad text, OPG_EINVAL out of range, OPG_ENOMEM
 * (a new window needs new bitmaps). Atomic: a refused value changes nothing.
 * Setting signed_blocks_window to a different value resets all bitmaps: O(nodes *
 * window / 64). */
OPG_API int opg_slasher_param_set(opg_slasher *s, const char *key, const char *value);
/* Reads a parameter as text into buf[cap]; OPG_EBUFS with *needed if too small,
 * OPG_EKEY unknown key. */
OPG_API int opg_slasher_param_get(char *buf, size_t cap, size_t *needed, const opg_slasher *s,
                                  const char *key);
/* The i-th parameter key (0-based), NULL past the last. */
OPG_API const char *opg_slasher_param_key(size_t i);
/* The parameters in force (fault_classes NULL: use opg_slasher_fault_class_at). */
OPG_API void opg_slasher_params_get(opg_slasher_params *out, const opg_slasher *s);

OPG_API size_t opg_slasher_fault_class_count(const opg_slasher *s);
/* The i-th fault class in ascending id order; OPG_ENOTFOUND past the end. */
OPG_API int opg_slasher_fault_class_at(opg_fault_class *out, const opg_slasher *s, size_t i);

/* ------------------------------------------------------ what a call did */

typedef enum opg_slash_reason {
    OPG_SLASH_DOWNTIME = 1,    /* too many missed blocks */
    OPG_SLASH_DOUBLE_SIGN = 2, /* duplicate votes */
    OPG_SLASH_FAULT = 3        /* faulty inference (Extension) */
} opg_slash_reason;

/* One slash made by a slasher call. */
typedef struct opg_slasher_record {
    opg_slash_reason reason;
    opg_id node;                  /* operator id */
    uint32_t fault_class;         /* OPG_SLASH_FAULT: the class id; 0 otherwise */
    opg_height infraction_height; /* as passed to opg_registry_slash */
    uint64_t power;               /* as passed to opg_registry_slash */
    opg_dec fraction;             /* as passed (correlated for a fault) */
    opg_slash_result slash;       /* what the registry burned (all 0 if not slashed) */
    opg_id reporter;              /* OPG_SLASH_FAULT: who reported; zero otherwise */
    opg_u256 reporter_reward;     /* paid to the reporter out of slash.burned_total */
    opg_u256 burned;              /* what stays burned: burned_total - reporter_reward */
    int jailed;                   /* 1 if this call jailed the node (0: it already was) */
    opg_time jailed_until;        /* the node's jailed_until afterwards */
    int tombstoned;               /* 1 if this call tombstoned the node */
    /* Nonzero: the pending slash this record belongs to. A call that decides a
     * deferred slash returns it with slash, reporter_reward and burned all 0;
     * opg_slasher_end_block returns it again, applied, with what was taken (jailed
     * 0, tombstoned 0: those happened when it was decided). */
    uint64_t pending_id;
} opg_slasher_record;

/*
 * The slashes of the last call that changed the slasher, in the order they were
 * made: an array owned by the slasher, valid until its next call. *count receives
 * the length. A failed call leaves none.
 */
OPG_API const opg_slasher_record *opg_slasher_slashes(const opg_slasher *s, size_t *count);

/* -------------------------------------------------------------- liveness */

/* One validator's entry of the last commit, as CometBFT reports it (its CommitSig /
 * VoteInfo). The splitter's opg_commit_vote describes the same validators for
 * reward allocation; this one says whether each signed. */
typedef struct opg_commit_sig {
    opg_id consensus_key; /* the validator's Ed25519 public key */
    uint64_t power;       /* its voting power in that commit */
    int signed_block;     /* 0: absent (a missed block); nonzero: its vote is in the
                             commit (for the block or for nil) */
} opg_commit_sig;

/*
 * Records the last commit (x/slashing's HandleValidatorSignature for every entry,
 * in order). An entry whose node is jailed is skipped. Otherwise, with W the window:
 * index = index_offset mod W, index_offset + 1; a bit that turns missed counts +1,
 * one that turns signed -1; min_signed = round_half_even(min_signed_per_window * W),
 * max_missed = W - min_signed. If height > start_height + W and missed > max_missed:
 * slash (opg_registry_slash) at infraction height max(0, height - 2) with the entry's
 * power and slash_fraction_downtime, jail until now + downtime_jail_duration, and
 * reset the node's counter, index offset and bitmap. Downtime never tombstones.
 * A node that is unbonded is not slashed (the registry refuses it; Cosmos would halt)
 * but is still jailed and reset.
 *
 * Errors (nothing changed): OPG_EINVAL (entries NULL with count > 0, a node listed
 * twice), OPG_ENOTFOUND (no node has a consensus key), OPG_ESTATUS (a node not
 * jailed has never been bonded, so it has no signing info), OPG_EOVERFLOW (power *
 * power_reduction of a node to slash exceeds 256 bits), OPG_ENOMEM. Several slashes in
 * one call are all-or-nothing too: everything they need is checked and reserved
 * before the first, so OPG_ENOMEM leaves the registry, its engines and the slasher
 * as they were, and the same call then gives exactly what one successful call gives.
 * The events of every slash, jail and reward payment the call caused are in the
 * registry's list (opg_registry_events), in order.
 * O(count * log nodes) plus the slashes.
 */
OPG_API int opg_slasher_record_commit(opg_slasher *s, const opg_commit_sig *entries,
                                      size_t count, opg_height height, opg_time now);

/* A node's liveness record. */
typedef struct opg_signing_info {
    opg_height start_height;      /* height at which it last became bonded */
    uint64_t index_offset;        /* blocks counted since the last reset */
    uint64_t missed_blocks;       /* missed blocks in the window */
} opg_signing_info;

/* OPG_ENOTFOUND if the node does not exist or has never been bonded. */
OPG_API int opg_slasher_signing_info(opg_signing_info *out, const opg_slasher *s,
                                     const opg_id *operator_id);
/* Whether bit `index` (0..window-1) of the node's bitmap says missed (1) or not (0).
 * OPG_ENOTFOUND (no signing info), OPG_EINVAL (index outside the window). */
OPG_API int opg_slasher_missed_bit(int *missed, const opg_slasher *s, const opg_id *operator_id,
                                   uint64_t index);
/* window - round_half_even(min_signed_per_window * window) under the current params. */
OPG_API uint64_t opg_slasher_max_missed(const opg_slasher *s);

/* ---------------------------------------------------- votes and evidence */

/* Vote types (CometBFT's SignedMsgType values). */
#define OPG_VOTE_PREVOTE 1
#define OPG_VOTE_PRECOMMIT 2

/* A signed consensus vote. An all-zero block_id is a vote for nil. */
typedef struct opg_slasher_vote {
    uint8_t type;          /* OPG_VOTE_PREVOTE or OPG_VOTE_PRECOMMIT */
    opg_height height;     /* 1..2^63-1 */
    uint32_t round;        /* 0..2^31-1 */
    uint8_t block_id[32];  /* hash of the block voted for */
    uint8_t signature[64]; /* Ed25519 over opg_slasher_vote_sign_bytes() */
} opg_slasher_vote;

/* The domain tag that starts every vote's sign bytes (11 bytes, no NUL). */
#define OPG_VOTE_DOMAIN "opg/vote/v1"
/* Longest sign bytes: 11 + 1 + 50 + 1 + 8 + 4 + 32. */
#define OPG_VOTE_SIGN_BYTES_MAX 107
OPG_API size_t opg_slasher_vote_sign_bytes_max(void);

/*
 * The bytes a validator signs for a vote (its signature is Ed25519 over exactly
 * these, e.g. crypto_sign_detached), all integers big-endian:
 *   "opg/vote/v1"            11 bytes, the domain tag
 *   chain id length          1 byte (1..50), then the chain id bytes
 *   type                     1 byte (1 prevote, 2 precommit)
 *   height                   8 bytes
 *   round                    4 bytes
 *   block id                 32 bytes
 * Writes them into buf[cap] (buf may be NULL with cap 0); *len receives the size.
 * Errors: OPG_EINVAL (bad chain id, or a type/height/round out of range),
 * OPG_EBUFS (cap too small; *len is the size needed).
 */
OPG_API int opg_slasher_vote_sign_bytes(uint8_t *buf, size_t cap, size_t *len,
                                        const char *chain_id, const opg_slasher_vote *vote);

/* CometBFT's DuplicateVoteEvidence: two votes from one key. */
typedef struct opg_double_sign_evidence {
    opg_id consensus_key;        /* the signer's Ed25519 public key */
    opg_slasher_vote vote_a, vote_b;
    /* Neither field is covered by the signatures, so neither is believed: */
    opg_time infraction_time;    /* must be opg_registry_block_time of the votes'
                                    height, else OPG_EEVIDENCE */
    uint64_t validator_power;    /* 0 (look it up), or opg_registry_power_at of the
                                    key at the votes' height, else OPG_EEVIDENCE;
                                    at most 2^63-1 */
} opg_double_sign_evidence;

/* A verification node's report that an inference node returned a wrong result
 * (Extension). The host has checked the proof (TEE attestation, ZKML, re-execution). */
typedef struct opg_fault_evidence {
    opg_id evidence_id;          /* unique; the same id twice is refused */
    opg_id node;                 /* operator id of the inference node */
    opg_height infraction_height;/* when it served the faulty result */
    opg_time infraction_time;    /* must be opg_registry_block_time(infraction_height) */
    uint32_t fault_class;        /* id of a configured opg_fault_class */
    opg_id reporter;             /* operator id of the reporting verification node,
                                    which receives the reporter reward */
} opg_fault_evidence;

typedef enum opg_evidence_kind {
    OPG_EVIDENCE_DOUBLE_SIGN = 1,
    OPG_EVIDENCE_FAULT = 2
} opg_evidence_kind;

/* Either kind of evidence; only the member of `kind` is meaningful. */
typedef struct opg_evidence {
    opg_evidence_kind kind;
    opg_double_sign_evidence double_sign;
    opg_fault_evidence fault;
} opg_evidence;

/* Sizes of the canonical encodings. */
#define OPG_EVIDENCE_DOUBLE_SIGN_SIZE 272
#define OPG_EVIDENCE_FAULT_SIZE 122
OPG_API size_t opg_slasher_evidence_size(opg_evidence_kind kind);

/*
 * The canonical binary form of evidence, all integers big-endian, fixed size:
 *   "OPGE"  4 bytes magic, version 1 (1 byte), kind (1 byte: 1 or 2)
 *   double sign (272 bytes in all): consensus key (32), infraction time (i64),
 *     validator power (u64), then vote a and vote b, each: type (1), height (u64),
 *     round (u32), block id (32), signature (64)
 *   fault (122 bytes in all): evidence id (32), node (32), infraction height (u64),
 *     infraction time (i64), fault class (u32), reporter (32)
 * Encode writes ev into buf[cap] (buf may be NULL with cap 0); *len receives the
 * size. Errors: OPG_EEVIDENCE (ev not encodable: bad kind, or a field out of the
 * ranges decode accepts), OPG_EBUFS (cap too small; *len is the size needed).
 */
OPG_API int opg_slasher_evidence_encode(uint8_t *buf, size_t cap, size_t *len,
                                        const opg_evidence *ev);
/*
 * Decodes canonical evidence. OPG_EEVIDENCE for anything else: wrong magic,
 * version or kind, a length other than the kind's size, a vote type other than 1
 * or 2, a height of 0 or above 2^63-1, a round above 2^31-1, a double-sign power
 * above 2^63-1 (0 is "look it up"). Decoding checks the form only; signatures and conflict are
 * checked when the evidence is submitted (or by opg_slasher_double_sign_verify).
 * Encoding what decode returns gives back exactly the input bytes. *out is
 * untouched on error.
 */
OPG_API int opg_slasher_evidence_decode(opg_evidence *out, const uint8_t *buf, size_t len);

/*
 * Checks double-sign evidence on its own, without a slasher: OPG_EEVIDENCE
 * (malformed as decode defines it, or a bad chain id), OPG_ENOCONFLICT (the votes
 * differ in type, height or round, or have the same block id), OPG_ESIGNATURE
 * (either signature does not verify under consensus_key for chain_id).
 * Two Ed25519 verifications.
 */
OPG_API int opg_slasher_double_sign_verify(const char *chain_id,
                                           const opg_double_sign_evidence *ev);

/*
 * x/evidence's HandleEquivocationEvidence for libopg's own signed votes. Checks, in
 * this order: the form (OPG_EEVIDENCE), the conflict (OPG_ENOCONFLICT), the key
 * (OPG_ENOTFOUND: no node has it and it was never tombstoned), both signatures
 * (OPG_ESIGNATURE), the height (OPG_EFUTURE: the votes' height is above `height`),
 * then the facts of the votes' height h from the registry's consensus history:
 * its block time (OPG_EEXPIRED: older than the kept history; OPG_EEVIDENCE: the
 * evidence's infraction_time is another; OPG_EFUTURE: after `now`) and the key's
 * power P there (OPG_EEVIDENCE: a nonzero validator_power other than P).
 * Evidence that is valid but ignored, as Cosmos ignores it, also changes nothing
 * and returns: OPG_ETOMBSTONED (the key is tombstoned, checked right after the
 * height, so also once its node is gone), OPG_ESTATUS (the node is unbonded, or
 * P = 0: the key was not in the validator set at h), OPG_EEXPIRED (too old in both
 * time and blocks: now - time(h) > max_age_duration and height - h >
 * max_age_num_blocks).
 * Otherwise: slash at max(0, h - 1) (the distribution height: ValidatorUpdateDelay
 * 1) with power P and slash_fraction_double_sign, jail (if not jailed already) with
 * jailed_until = OPG_TIME_FOREVER, and tombstone the node and its key. *out (may be
 * NULL) receives the record. Errors also: OPG_EINVAL (NULL arguments),
 * OPG_EOVERFLOW, OPG_ENOMEM.
 * Two Ed25519 verifications, plus the registry's Slash.
 */
OPG_API int opg_slasher_double_sign(opg_slasher_record *out, opg_slasher *s,
                                    const opg_double_sign_evidence *ev, opg_height height,
                                    opg_time now);

/*
 * Faulty-inference evidence (Extension). Checks, in this order: the fault class
 * (OPG_ECLASS), the node (OPG_ENOTFOUND), its inference role (OPG_EROLE), the
 * reporter (OPG_EREPORTER: the accused itself, or not a node with the verification
 * role; an operator runs one node under its operator id, so this also refuses the
 * accused's operator; a self-report is refused rather than its reward burned), the
 * id (OPG_EDUPLICATE: remembered), the height (OPG_EFUTURE), the block time of the
 * infraction height from the registry's history (OPG_EEXPIRED: older than the kept
 * history; OPG_EEVIDENCE: infraction_time is another; OPG_EFUTURE: after now), the
 * age (OPG_EEXPIRED, the double-sign rule, and also evidence at or before both the
 * height and the time of the latest forgotten id: a replay of a forgotten id cannot
 * be told apart), the tombstone (OPG_ETOMBSTONED); the registry refuses an unbonded
 * node (OPG_ESTATUS).
 * fraction = min(1, class fraction + trunc(correlation_k * S / bonded)) where S is
 * the stake (tokens just before their slash) of this class's faulty-inference
 * slashes still in the correlation window, this slash included, and bonded the
 * tokens of all bonded nodes now (the term is 0 when nothing is bonded). Then:
 * slash at the infraction height with the node's power now; jail until now +
 * jail_duration (only extend a jail already in force), or forever and tombstone
 * for a class with the tombstone flag; the reporter receives trunc(burned_total *
 * reporter_share) (event OPG_EVENT_REWARDS_PAID: account = reporter, node = the
 * slashed node), which leaves the registry's burned total; the rest stays burned.
 * The evidence id is remembered with an expiry fixed when it is accepted
 * (infraction height + max_age_num_blocks and time + max_age_duration as they are
 * then) and forgotten at a later faulty-inference call past both, so memory stays
 * bounded and lowering evidence.max_age_* forgets nothing early; forgetting an id
 * raises the floor above, so raising them later cannot reopen a replay either.
 * *out (may be NULL) receives the record. Errors also: OPG_EINVAL, OPG_ENOMEM.
 * O(log seen ids + seen ids + window records), plus the registry's Slash.
 */
OPG_API int opg_slasher_fault(opg_slasher_record *out, opg_slasher *s,
                              const opg_fault_evidence *ev, opg_height height, opg_time now);

/* CometBFT's MisbehaviorType. */
typedef enum opg_misbehavior_type {
    OPG_MISBEHAVIOR_UNKNOWN = 0,
    OPG_MISBEHAVIOR_DUPLICATE_VOTE = 1,
    OPG_MISBEHAVIOR_LIGHT_CLIENT_ATTACK = 2
} opg_misbehavior_type;

/* One abci.Misbehavior record, as CometBFT hands it to the application. */
typedef struct opg_misbehavior {
    uint32_t type;                 /* opg_misbehavior_type; other values are ignored */
    uint8_t validator_address[20]; /* Validator.Address: first 20 bytes of SHA-256 of
                                      the Ed25519 key (opg_registry_consensus_address) */
    uint64_t validator_power;      /* Validator.Power at the infraction, <= 2^63-1 */
    opg_height height;             /* the infraction height, 1..2^63-1 */
    opg_time time;                 /* block time of that height, in whole seconds */
    uint64_t total_voting_power;   /* TotalVotingPower (not used, as in Cosmos) */
} opg_misbehavior;

/*
 * Applies CometBFT's misbehaviour records of the current block, in order, exactly
 * as Cosmos x/evidence does (BeginBlocker, then HandleEquivocationEvidence for a
 * duplicate vote or a light-client attack). Each record is slashed or ignored;
 * outcomes[i] (outcomes may be NULL) receives OPG_OK for a slash, or why it was
 * ignored: OPG_EEVIDENCE (another type), OPG_ENOTFOUND (no node has the address),
 * OPG_ETOMBSTONED (the address is tombstoned, also when its node is gone, or an
 * earlier record of this call tombstoned it), OPG_ESTATUS (the node is unbonded),
 * OPG_EEXPIRED (too old in both blocks and time: height - h > max_age_num_blocks
 * and now - time(h) > max_age_duration, where time(h) is the registry's block time
 * of h, opg_registry_block_time; a height older than the kept history is too old).
 * A slash: at the distribution height max(0, h - 1) with the record's power (as
 * Cosmos: it is the power CometBFT's validator set held at h, and it is what the
 * validator signed with; libopg's history gives the same when the host passed every
 * update to CometBFT, and a disagreement is decided by CometBFT's record) and
 * slash_fraction_double_sign; jail forever; tombstone the node and its address.
 * The records' slashes are all or nothing and every event is in the registry's
 * list; the records are in opg_slasher_slashes.
 * Errors (nothing changed, outcomes untouched past what was written): OPG_EINVAL
 * (list NULL with count > 0), OPG_EEVIDENCE (a height of 0 or above 2^63-1 or a
 * power above 2^63-1, or a record's time that differs from the block time the
 * registry recorded at exactly that height: the host passed end_block other
 * times than CometBFT's), OPG_EFUTURE (a height above `height`), OPG_EOVERFLOW
 * (power * power_reduction), OPG_ENOMEM.
 * O(count * log nodes) plus the slashes.
 */
OPG_API int opg_slasher_misbehavior(int *outcomes, opg_slasher *s, const opg_misbehavior *list,
                                    size_t count, opg_height height, opg_time now);

/* Decodes canonical evidence bytes and submits them (opg_slasher_double_sign or
 * opg_slasher_fault by kind). The errors of decode and of the call. */
OPG_API int opg_slasher_submit_evidence(opg_slasher_record *out, opg_slasher *s,
                                        const uint8_t *buf, size_t len, opg_height height,
                                        opg_time now);

/* Whether a faulty-inference evidence id is remembered (1) or not (0). */
OPG_API int opg_slasher_evidence_seen(const opg_slasher *s, const opg_id *evidence_id);
/* How many evidence ids are remembered. */
OPG_API size_t opg_slasher_evidence_seen_count(const opg_slasher *s);

/* ------------------------------------------------------- deferred slashes */

/*
 * Deferred slashes (slashing.defer_duration > 0; Substrate's SlashDeferDuration and
 * cancel_deferred_slash). Each slash the calls above decide (downtime, double sign,
 * faulty inference) is then:
 *  - planned at once with the registry's Slash rules at the decision's height and
 *    time: what the node's tokens, each unbonding entry and each redelegation entry
 *    would lose (the amounts an immediate slash would take then; for several
 *    redelegation entries of one delegator into one destination each is counted
 *    against the state before the slash, an upper bound). The plan's parts (node,
 *    entries) and their total are kept in a pending slash with a sequential id;
 *  - the node is jailed (and tombstoned) at once, exactly as an immediate slash does;
 *    correlation (faulty inference) counts the slash when it is decided;
 *  - its tokens are taken by opg_slasher_end_block once now >= due time. The slash is
 *    then evaluated with the registry's rules as at the decision (same infraction
 *    height, power and fraction; the entries walked are those created at or after the
 *    infraction and not yet matured at the decision, plus those created since: an
 *    unbonding or redelegation out of the node made during the window answers as
 *    Cosmos makes entries after an infraction answer, trunc(initial_balance *
 *    fraction) capped at its balance), and the node's tokens pay the rest of
 *    trunc(power_tokens * fraction), capped at what it has, where power_tokens =
 *    power * staking.power_reduction as it was at the decision (kept in the pending
 *    slash: a change of power_reduction in the window changes nothing). The total
 *    taken is capped at the plan's total: never more than the immediate slash would
 *    have taken; tokens that came in since cannot be made to pay more. When nothing
 *    moved in the window, exactly the immediate slash's amounts are taken.
 *  - entries never escape: while a node has a pending slash, its unbonding and
 *    redelegation entries out of it do not mature at the registry's end_block (they
 *    stay queued past their completion time and mature at the first end_block after
 *    the slash is applied or cancelled), and the node is not removed. This holds
 *    whatever staking.unbonding_time is or becomes: entries created after the
 *    infraction but before the decision (evidence may be up to evidence.max_age old)
 *    could otherwise mature inside the window even with defer_duration <
 *    unbonding_time, and the registry's parameter may be lowered by governance
 *    later; so the hold, not a rule between two parameters, is what is relied on.
 *    Stake moved out of a held node always leaves an entry the slash walks
 *    (opg_registry_redelegate, opg_registry_undelegate): a redelegation is recorded
 *    as an entry even out of an unbonded node (where Cosmos moves it at once, with no
 *    entry), created at the current height (not the node's unbonding height) and
 *    completing at max(the usual completion, now + 1); an undelegation completes at
 *    max(now + unbonding_time, now + 1). With no pending slash on the node, Cosmos's
 *    rules apply unchanged.
 *  - destination entries: a slash walking a redelegation entry (delegator, node ->
 *    dst) first drains the delegator's unbonding entries at dst (Cosmos's
 *    slashRedelegation). So these do not escape either: an unbonding entry of
 *    (delegator, dst) does not mature while a redelegation entry (delegator, X ->
 *    dst) exists from any node X with a pending slash (such entries are themselves
 *    held, so until X's slashes are applied or cancelled). The rule counts every
 *    entry of the triple, also one created before the infraction that the slash does
 *    not walk: such an entry holds the delegator's unbonding at dst as well.
 *    The hold lives in the slasher: it holds while the slasher is attached (restore
 *    the slasher before the registry's next end_block, as for the consensus history;
 *    freeing it releases every hold). A node whose slash is never applied because the
 *    host never calls opg_slasher_end_block keeps its entries queued.
 *    A node may have several pending slashes; each is applied against the state the
 *    ones before it left, as consecutive immediate slashes would be.
 *  - the reporter reward of a faulty inference is paid when the slash applies:
 *    trunc(burned_total * reporter_share), with the share in force when the slash was
 *    decided (none if it is cancelled wholly).
 *  - ids: each pending slash takes the next id (from 1); a call that decides slashes
 *    while the next id plus the slashes it may decide would reach UINT64_MAX is
 *    refused with OPG_EOVERFLOW before anything changes (never in practice), and a
 *    saved state whose next id is 0 or UINT64_MAX is refused at load (OPG_ECORRUPT).
 * Conservation holds to the base unit (opg_registry_check passes at every point).
 */

/* A pending slash as opg_slasher_pending_* report it. */
typedef struct opg_pending_slash {
    uint64_t id;                  /* sequential from 1, never reused */
    opg_slash_reason reason;
    opg_id node;                  /* operator id */
    uint32_t fault_class;         /* OPG_SLASH_FAULT: the class id; 0 otherwise */
    opg_height infraction_height; /* as an immediate slash would pass it */
    uint64_t power;
    opg_dec fraction;             /* as decided (before any cancel) */
    opg_height created_height;    /* the decision's block */
    opg_time created_time;
    opg_time due_time;            /* created_time + defer_duration, saturating */
    /* what is still to be taken (the plan, scaled by the cancels so far) */
    opg_u256 node_part;           /* from the node's tokens */
    opg_u256 entries_part;        /* from unbonding entries and redelegations */
    opg_u256 total;               /* node_part + entries_part: the cap */
    opg_dec cancelled;            /* fraction cancelled so far: 1 - the kept factor */
    opg_id reporter;              /* OPG_SLASH_FAULT: who reported; zero otherwise */
    opg_u256 power_tokens;        /* power * staking.power_reduction at the decision */
} opg_pending_slash;

/*
 * Applies the due pending slashes: those with due_time <= now, in the order (due
 * time, id). Call it once per block at the end of the block: after the block's
 * slasher calls and the tally's end_block (so a cancel governance makes in this block
 * comes first), before opg_registry_end_block (so entries held for a slash applied
 * now mature in that same end_block). Each: the registry's Slash evaluated as described above with the
 * kept fraction trunc(fraction * (1 - cancelled)) and capped at `total`, and for a
 * faulty inference the reporter's reward; then the record is gone. Events as an
 * immediate slash emits (OPG_EVENT_BURNED, settled rewards, OPG_EVENT_REPORTER_REWARD)
 * in the registry's list; the records (pending_id set) in opg_slasher_slashes.
 * All or nothing: everything is reserved first; OPG_ENOMEM changes nothing and a
 * retry equals a clean run. Nothing due: OPG_OK, no allocation. Errors: OPG_EINVAL
 * (s NULL), OPG_EFUTURE (height below a due slash's infraction height: nothing
 * applied), OPG_ENOMEM. O(pending log pending) plus the slashes; every registry
 * end_block meanwhile asks the hold O(pending) per matured entry (twice for an
 * unbonding entry whose delegator has a redelegation entry into its node).
 */
OPG_API int opg_slasher_end_block(opg_slasher *s, opg_height height, opg_time now);

/*
 * Cancels a pending slash in part or whole (governance; Substrate's
 * cancel_deferred_slash). fraction in (0, 1]: 1 removes the record (nothing is taken,
 * no reporter reward; the node stays jailed and tombstoned as it was: unjailing is
 * the operator's own call, and a tombstone is never lifted). Less keeps the slash
 * but scales what is still to be taken by (1 - fraction): node_part and entries_part
 * each become trunc(part * (1 - fraction)), total their sum, and the kept factor
 * k becomes trunc(k * (1 - fraction)) (a Dec), so cancelled = 1 - k; what is
 * cancelled is simply never taken. Errors: OPG_EINVAL (NULL, fraction 0 or above 1),
 * OPG_ENOTFOUND (no pending slash with this id: never made, applied or cancelled
 * wholly), OPG_ENOMEM. O(pending).
 */
OPG_API int opg_slasher_cancel_deferred(opg_slasher *s, uint64_t slash_id, const opg_dec *fraction);

/* How many slashes are pending. */
OPG_API size_t opg_slasher_pending_count(const opg_slasher *s);
/* The i-th pending slash in ascending id order (0-based); OPG_ENOTFOUND past the end,
 * OPG_EINVAL for NULL. */
OPG_API int opg_slasher_pending_at(opg_pending_slash *out, const opg_slasher *s, size_t i);
/* The pending slash with this id; OPG_ENOTFOUND if none. O(log pending). */
OPG_API int opg_slasher_pending_get(opg_pending_slash *out, const opg_slasher *s, uint64_t id);

/* ---------------------------------------------------- records and snapshots */

/*
 * The slasher's state is a set of records (opg_core.h, "records"). Keys: the tag
 * OPG_RECORDS_SLASHER, a kind byte, then ids (integers big-endian):
 *   0 params       the parameters, the chain id (1 byte length, bytes), defer_duration
 *   1 state        forgot_height, forgot_time, the next pending slash id
 *   2 class        id (4 bytes): slash_fraction, jail_duration, tombstone (1 byte)
 *   3 signing      operator id: start_height, index_offset, missed
 *   4 missed       operator id, chunk (4 bytes): window bits 1024 * chunk onward,
 *                  as up to 16 words of 64 bits (bit i of the window is bit i % 64
 *                  of word i / 64); only chunks with a bit set have a record
 *   5 seen         evidence id: height, time, expire_height, expire_time
 *   6 correlation  time (8 bytes, sign bit flipped so keys sort as times do),
 *                  ordinal among the records of that time (4 bytes): fault class,
 *                  the node's stake before the slash
 *   7 pending      slash id (8 bytes): a pending slash (opg_pending_slash's fields
 *                  with power_tokens, the kept factor, the reporter share fixed at
 *                  the decision)
 * A value is a format byte (1), then the fields (u256 and decimals 32 bytes).
 * Every block changes the signing record of each node in the commit and a missed
 * chunk only where a bit flips.
 */

/*
 * Commits the block: the records put and deleted since the previous commit, in key
 * order, into *changes and *count (the slasher owns them; valid until the next
 * commit or free), and the new root of the Merkle tree over all records into root
 * (opg_proof.h). Only records whose bytes changed are put, only records the last
 * commit had are deleted. Call it once per block, after the registry's end_block.
 * O(c log c + c log n) for c changed records among n. The first commit of a slasher
 * made by opg_slasher_new or opg_slasher_load puts every record; one made by
 * opg_slasher_load_records starts from the store's. OPG_ENOMEM changes nothing.
 */
OPG_API int opg_slasher_commit(uint8_t root[32], const opg_record **changes, size_t *count,
                               opg_slasher *s);
/* The root as of the last commit (32 zero bytes before the first). */
OPG_API void opg_slasher_root(uint8_t root[32], const opg_slasher *s);
/* The root of the slasher's records now, from scratch. O(n log n). */
OPG_API int opg_slasher_root_from_scratch(uint8_t root[32], const opg_slasher *s);
/* Every record, in key order, to fn. fn's negative code stops it. */
OPG_API int opg_slasher_records(opg_slasher *s, opg_record_sink fn, void *ctx);
/*
 * Creates a slasher on registry r from a stream of records in strictly increasing
 * key order, checked as opg_slasher_load checks (OPG_ECORRUPT); when root is not
 * NULL the records must also hash to it. Attached like opg_slasher_new.
 */
OPG_API int opg_slasher_load_records(opg_slasher **out, opg_registry *r, opg_record_source next,
                                     void *ctx, const uint8_t root[32], const opg_allocator *alloc);
/* The key of a node's signing record, for proofs and host lookups. */
OPG_API int opg_slasher_key_signing(uint8_t key[OPG_RECORD_KEY_MAX], size_t *len,
                                    const opg_id *operator_id);
/* A proof, against the last committed root, that the record with this key is present
 * with its committed value, or absent (opg_proof_verify). OPG_EBUFS with *len = the
 * size needed; at most OPG_PROOF_MAX_BYTES. */
OPG_API int opg_slasher_prove(uint8_t *buf, size_t cap, size_t *len, const opg_slasher *s,
                              const uint8_t *key, size_t key_len);

/*
 * Writes the snapshot (the header, then every record in key order; format 5) into
 * buf[cap]; *len receives the size needed. OPG_EBUFS if cap is too small (buf NULL
 * with cap 0 asks the size), OPG_ENOMEM. O(n) for n records.
 */
OPG_API int opg_slasher_save(uint8_t *buf, size_t cap, size_t *len, const opg_slasher *s);
/*
 * Creates a slasher on registry r from a snapshot and attaches it. Saving again
 * gives the same bytes. OPG_ECORRUPT (malformed, an older format, trailing bytes,
 * records out of order, a counter that disagrees with its bitmap, an all-zero
 * missed chunk, a signing record for a node the registry does not have, a next
 * pending slash id of 0 or UINT64_MAX),
 * OPG_EVERSION (a newer format), OPG_ENOMEM.
 */
OPG_API int opg_slasher_load(opg_slasher **out, opg_registry *r, const uint8_t *buf, size_t len,
                             const opg_allocator *alloc);
/* The state hash: the root of the slasher's records, from scratch. OPG_EINVAL for
 * NULL arguments, OPG_ENOMEM. */
OPG_API int opg_slasher_state_hash(uint8_t out[32], const opg_slasher *s);

/* Checks the slasher's invariants (every counter equals its bitmap's population,
 * no bit past the window, signing infos only for live nodes, records in order).
 * OPG_EINVARIANT with the detail in last_error. O(nodes * window / 64 + records). */
OPG_API int opg_slasher_check(opg_slasher *s);

#ifdef __cplusplus
}
#endif

#endif /* OPG_SLASHER_H */
