/*
 * opg_registry.h - the stake registry: nodes, delegations, unbonding, redelegation,
 * the active set and the supply ledger (Cosmos x/staking, SEMANTICS.md section 2).
 *
 * The registry owns everything per node and per delegation. The reward splitter,
 * slashing engine and governance tally are created on a registry and read it
 * directly; when stake changes the registry tells them through an internal hook
 * table, so no host bookkeeping is needed to keep them consistent.
 *
 * Outputs the host must act on (a matured unbonding to pay, a validator-set update,
 * rewards settled by a stake change, a burn) come back as events of the call that
 * caused them: see opg_registry_events().
 *
 * Accounts, node operators and consensus keys are opg_id values (32 bytes). A node's
 * self-delegation is the delegation whose delegator is the node's operator id.
 */
#ifndef OPG_REGISTRY_H
#define OPG_REGISTRY_H

#include "opg_core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct opg_registry opg_registry;

/* ------------------------------------------------------------- parameters */

typedef struct opg_registry_params {
    opg_time unbonding_time;        /* "staking.unbonding_time", seconds; default 21 days */
    uint32_t max_validators;        /* "staking.max_validators"; default 100 */
    uint32_t max_entries;           /* "staking.max_entries"; default 7, at most 64 */
    opg_dec min_commission_rate;    /* "staking.min_commission_rate"; default 0 */
    opg_u256 power_reduction;       /* "staking.power_reduction"; default 10^6 */
    /* "staking.fix_redelegation_overslash"; default 0 (Cosmos-exact). See SEMANTICS §4. */
    int fix_redelegation_overslash;
    /* "staking.poa"; default 0. Proof-of-authority mode: while set, accounts may not
     * move stake (delegate, undelegate, redelegate, cancel_unbonding) nor create a
     * node: those calls fail with OPG_EPOA and change nothing. Validators come and go
     * only by governance (opg_tally.h: OPG_PROPOSAL_ADD_VALIDATOR / REMOVE_VALIDATOR).
     * Setting it back to 0 (by a parameter-change proposal) opens delegation, with the
     * nodes as they are. */
    int poa;
} opg_registry_params;

/* Fills *params with the documented defaults. */
OPG_API void opg_registry_params_init(opg_registry_params *params);

/* ------------------------------------------------------------ the handle */

/*
 * Creates a registry. params may be NULL (defaults); genesis_supply (may be NULL: 0)
 * is the token supply at creation, the base of the supply ledger. alloc may be NULL
 * (realloc/free). OPG_EINVAL for invalid params, OPG_ENOMEM.
 */
OPG_API int opg_registry_new(opg_registry **out, const opg_registry_params *params,
                             const opg_u256 *genesis_supply, const opg_allocator *alloc);
/* Frees the registry. Engines created on it must be freed first. NULL is fine. */
OPG_API void opg_registry_free(opg_registry *r);
/* Detail text of the last failed call on this registry ("" if none). Never NULL. */
OPG_API const char *opg_registry_last_error(const opg_registry *r);

/* Sets a parameter by key ("staking.unbonding_time") and decimal text ("1814400";
 * booleans "true"/"false"). OPG_EKEY unknown key, OPG_EPARSE bad text, OPG_EINVAL out
 * of range. Atomic: a refused value changes nothing. */
OPG_API int opg_registry_param_set(opg_registry *r, const char *key, const char *value);
/* Reads a parameter as text into buf[cap]; OPG_EBUFS with *needed if too small. */
OPG_API int opg_registry_param_get(char *buf, size_t cap, size_t *needed, const opg_registry *r,
                                   const char *key);
/* The i-th parameter key (0-based), NULL past the last. */
OPG_API const char *opg_registry_param_key(size_t i);
/* The parameters in force. */
OPG_API void opg_registry_params_get(opg_registry_params *out, const opg_registry *r);

/* ----------------------------------------------------------------- nodes */

/* Roles of a node (a bit set). Only consensus nodes can enter the active set. */
#define OPG_ROLE_CONSENSUS 1u
#define OPG_ROLE_INFERENCE 2u
#define OPG_ROLE_VERIFICATION 4u
#define OPG_ROLE_ALL 7u

typedef enum opg_node_status {
    OPG_NODE_UNBONDED = 0,
    OPG_NODE_UNBONDING = 1,
    OPG_NODE_BONDED = 2
} opg_node_status;

typedef struct opg_node_create {
    opg_id operator_id;            /* unique; also the self-delegator account */
    opg_id consensus_key;          /* Ed25519 public key, unique, of prime order */
    uint32_t roles;                /* OPG_ROLE_* bits, at least one */
    opg_dec commission_rate;       /* min_commission_rate <= rate <= max_rate */
    opg_dec commission_max_rate;   /* <= 1, never changes */
    opg_dec commission_max_change_rate; /* <= max_rate, never changes */
    opg_u256 min_self_delegation;  /* > 0 */
    opg_u256 self_delegation;      /* >= min_self_delegation, delegated at creation */
} opg_node_create;

typedef struct opg_node_info {
    opg_id operator_id;
    opg_id consensus_key;
    uint32_t roles;
    opg_node_status status;
    int jailed;
    int tombstoned;
    opg_time jailed_until;
    opg_u256 tokens;
    opg_dec delegator_shares;
    opg_dec commission_rate;
    opg_dec commission_max_rate;
    opg_dec commission_max_change_rate;
    opg_time commission_update_time;
    opg_u256 min_self_delegation;
    opg_height unbonding_height;
    opg_time unbonding_time;
    uint64_t power;                /* tokens / power_reduction, truncated, capped at INT64_MAX */
    uint64_t delegation_count;
} opg_node_info;

/*
 * Creates a node with its self-delegation (the operator delegates self_delegation).
 * It starts unbonded; end_block decides whether it enters the active set.
 * The consensus key must be a canonical encoding of an Ed25519 point of prime
 * order (libsodium's crypto_core_ed25519_is_valid_point: not the identity, no
 * other small-order point, no non-canonical encoding), since no signature under
 * another key verifies and its node could never be slashed for double signing.
 * There is no call that changes a node's consensus key.
 * Errors: OPG_ECONSKEY (unusable consensus key), OPG_ETOMBSTONED (the key was
 * tombstoned, even if its node is gone), OPG_EEXISTS (operator or consensus key,
 * or its address, in use), OPG_ECOMMISSION (rates),
 * OPG_ESELFBOND (self_delegation below min_self_delegation), OPG_EZERO
 * (min_self_delegation 0), OPG_EINVAL (no role), OPG_EPOA (staking.poa is on: only
 * governance adds nodes, see OPG_PROPOSAL_ADD_VALIDATOR in opg_tally.h), OPG_ENOMEM.
 */
OPG_API int opg_registry_node_create(opg_registry *r, const opg_node_create *node,
                                     opg_height height, opg_time now);
/* Changes the commission rate: refused (OPG_ETOOSOON) within 24 h of the last change,
 * OPG_ECOMMISSION outside [min_commission_rate, max_rate] or for an increase above
 * max_change_rate. A decrease is unbounded. */
OPG_API int opg_registry_node_set_commission(opg_registry *r, const opg_id *operator_id,
                                             const opg_dec *rate, opg_time now);
/* Raises min_self_delegation: must be strictly greater than now and at most the
 * node's tokens (OPG_EINVAL / OPG_ESELFBOND). */
OPG_API int opg_registry_node_set_min_self_delegation(opg_registry *r, const opg_id *operator_id,
                                                      const opg_u256 *min_self_delegation);
/* Replaces the node's roles (at least one bit). Dropping OPG_ROLE_CONSENSUS takes the
 * node out of the active set at the next end_block. */
OPG_API int opg_registry_node_set_roles(opg_registry *r, const opg_id *operator_id,
                                        uint32_t roles);
/* Lifts a jail: needs jailed (OPG_ENOTJAILED), not tombstoned (OPG_ETOMBSTONED),
 * now >= jailed_until (OPG_ETOOSOON), self-bond >= min_self_delegation (OPG_ESELFBOND). */
OPG_API int opg_registry_unjail(opg_registry *r, const opg_id *operator_id, opg_time now);

OPG_API int opg_registry_node_get(opg_node_info *out, const opg_registry *r,
                                  const opg_id *operator_id);
/* The operator id of the node with this consensus key; OPG_ENOTFOUND. */
OPG_API int opg_registry_node_by_consensus_key(opg_id *operator_id, const opg_registry *r,
                                               const opg_id *consensus_key);
OPG_API size_t opg_registry_node_count(const opg_registry *r);
/* The i-th node in operator id order (0-based); OPG_ENOTFOUND past the end. */
OPG_API int opg_registry_node_at(opg_node_info *out, const opg_registry *r, size_t i);

/* ----------------------------------------------------------- delegations */

/*
 * Delegates amount base units from delegator to the node (the host has debited the
 * delegator). Shares: 1:1 for a node without shares, else trunc(shares*amount/tokens).
 * Rewards the delegation had earned are settled first (event OPG_EVENT_REWARDS_PAID
 * when a splitter is attached). *shares_issued may be NULL.
 * Errors: OPG_ENOTFOUND (node), OPG_EZERO (amount 0), OPG_EINSOLVENT (node has shares
 * but no tokens), OPG_EOVERFLOW, OPG_EPOA (staking.poa is on), OPG_ENOMEM. O(1)
 * expected.
 */
OPG_API int opg_registry_delegate(opg_dec *shares_issued, opg_registry *r,
                                  const opg_id *delegator, const opg_id *operator_id,
                                  const opg_u256 *amount, opg_height height, opg_time now);

/*
 * Undelegates `amount` tokens' worth of shares (the whole delegation if the amount
 * covers it) into an unbonding entry that matures at now + unbonding_time and is paid
 * by end_block. *unbonded receives the tokens put into unbonding, *completion the
 * maturity time (either may be NULL). If the operator's own self-bond falls below
 * min_self_delegation the node is jailed at once. While an attached slasher holds
 * the node (a pending deferred slash, opg_slasher.h "Deferred slashes"), the entry
 * completes at max(now + unbonding_time, now + 1): with unbonding_time 0 one second
 * later, so the slash finds it; otherwise as always. Created at `height` in every case.
 * Errors: OPG_ENOTFOUND (no such delegation), OPG_EZERO, OPG_EUNDERFLOW (more than
 * the delegation holds), OPG_EMAXENTRIES, OPG_EINSOLVENT, OPG_EPOA (staking.poa is on),
 * OPG_ELOCKED (a tally on this registry holds a conviction lock on the delegator that
 * has not ended at now: opg_tally_lock_get; redelegation and cancel_unbonding are not
 * locked).
 */
OPG_API int opg_registry_undelegate(opg_u256 *unbonded, opg_time *completion, opg_registry *r,
                                    const opg_id *delegator, const opg_id *operator_id,
                                    const opg_u256 *amount, opg_height height, opg_time now);

/*
 * Moves `amount` tokens' worth of the delegation from src to dst. Refused when
 * src == dst (OPG_EINVAL), when the delegator has a redelegation into src still
 * maturing (OPG_ETRANSITIVE), at max_entries for (delegator, src, dst)
 * (OPG_EMAXENTRIES), or when the unbond yields 0 tokens (OPG_EZERO). The entry
 * completes by src's status: bonded -> now + unbonding_time; unbonding -> src's own
 * unbonding completion (and its unbonding height as the entry's creation height);
 * unbonded -> at once, no entry. *completion may be NULL (receives `now` for an
 * immediate completion). One corner as x/staking v0.50+: when src is unbonded and
 * this redelegation takes its last shares (src is removed), the entry is recorded
 * with creation height 0 and completion 0001-01-01T00:00:00Z (-62135596800), so it
 * completes at the next end_block; *completion receives that time. OPG_EPOA while
 * staking.poa is on.
 * While an attached slasher holds src (a pending deferred slash, opg_slasher.h
 * "Deferred slashes"), none of the status rules above applies: an entry is always
 * recorded (an unbonded src is not immediate; src is never removed while held),
 * created at `height` (not src's unbonding height) and completing at max(the
 * status's completion, now + 1), so the pending slash walks it as an entry made
 * after the infraction; the hold keeps it queued until the slash is applied or
 * cancelled. It counts toward max_entries and, like any entry into dst, refuses a
 * redelegation out of dst (OPG_ETRANSITIVE) until it matures.
 */
OPG_API int opg_registry_redelegate(opg_time *completion, opg_registry *r,
                                    const opg_id *delegator, const opg_id *src,
                                    const opg_id *dst, const opg_u256 *amount,
                                    opg_height height, opg_time now);

/*
 * Cancels (part of) the unbonding entry created at creation_height: `amount` goes
 * back into the delegation with the same node. Errors: OPG_ENOTFOUND (no entry at that
 * height), OPG_EUNDERFLOW (amount above the entry's balance), OPG_ESTATUS (entry
 * already mature), OPG_EJAILED (node jailed), OPG_EINSOLVENT, OPG_EZERO, OPG_EPOA
 * (staking.poa is on).
 */
OPG_API int opg_registry_cancel_unbonding(opg_registry *r, const opg_id *delegator,
                                          const opg_id *operator_id,
                                          opg_height creation_height, const opg_u256 *amount,
                                          opg_height height, opg_time now);

typedef struct opg_delegation_info {
    opg_id delegator;
    opg_id operator_id;
    opg_dec shares;
    opg_u256 tokens; /* truncate(tokens_from_shares(shares)), what an undelegation of all yields */
} opg_delegation_info;

/* OPG_ENOTFOUND if the delegator has no delegation with the node. O(1) expected. */
OPG_API int opg_registry_delegation_get(opg_delegation_info *out, const opg_registry *r,
                                        const opg_id *delegator, const opg_id *operator_id);
/* Number of delegations in the registry. */
OPG_API size_t opg_registry_delegation_count(const opg_registry *r);
/*
 * The delegator's delegations, ordered by operator id, into out[cap]; *count receives
 * how many there are. OPG_EBUFS (with *count) if cap is too small. O(k log k) for k
 * delegations of this delegator, without scanning others.
 */
OPG_API int opg_registry_delegations_of(opg_delegation_info *out, size_t cap, size_t *count,
                                        const opg_registry *r, const opg_id *delegator);

typedef struct opg_unbonding_info {
    opg_id delegator;
    opg_id operator_id;
    opg_height creation_height;
    opg_time completion_time;
    opg_u256 initial_balance;
    opg_u256 balance;
} opg_unbonding_info;

typedef struct opg_redelegation_info {
    opg_id delegator;
    opg_id src;
    opg_id dst;
    opg_height creation_height;
    opg_time completion_time;
    opg_u256 initial_balance;
    opg_dec shares_dst;
} opg_redelegation_info;

/* The delegator's pending unbonding entries (all nodes), in maturity order. OPG_EBUFS
 * with *count if cap is too small. O(pending entries). */
OPG_API int opg_registry_unbondings_of(opg_unbonding_info *out, size_t cap, size_t *count,
                                       const opg_registry *r, const opg_id *delegator);
/* The delegator's pending redelegation entries, in maturity order. */
OPG_API int opg_registry_redelegations_of(opg_redelegation_info *out, size_t cap,
                                          size_t *count, const opg_registry *r,
                                          const opg_id *delegator);

/* ------------------------------------------------------------ the block */

typedef enum opg_event_kind {
    OPG_EVENT_VALIDATOR_UPDATE = 1,   /* node (consensus key in account) gets power; 0 = removed */
    OPG_EVENT_UNBONDING_MATURED = 2,  /* pay amount to account (the delegator) */
    OPG_EVENT_REDELEGATION_MATURED = 3, /* account's redelegation node -> node2 completed */
    OPG_EVENT_REWARDS_PAID = 4,       /* pay amount to account: rewards of its delegation to node */
    OPG_EVENT_COMMISSION_PAID = 5,    /* pay amount to account (operator of node) */
    OPG_EVENT_BURNED = 6,             /* amount burned because of node (slash) */
    OPG_EVENT_NODE_STATUS = 7,        /* node moved to `status` */
    OPG_EVENT_NODE_JAILED = 8,        /* node jailed */
    OPG_EVENT_NODE_REMOVED = 9,       /* node left the registry (unbonded, no shares left) */
    OPG_EVENT_REPORTER_REWARD = 10    /* pay amount to account: its reward for evidence on node */
} opg_event_kind;

typedef struct opg_event {
    opg_event_kind kind;
    opg_node_status status; /* OPG_EVENT_NODE_STATUS */
    opg_id account;         /* delegator, operator or consensus key, by kind */
    opg_id node;            /* operator id of the node concerned */
    opg_id node2;           /* redelegation destination */
    opg_u256 amount;
    uint64_t power;         /* OPG_EVENT_VALIDATOR_UPDATE */
} opg_event;

/*
 * The events of the last call that changed the registry (or an engine attached to
 * it), in the order they happened: an array owned by the registry, valid until the
 * next such call. *count receives the length. A failed call leaves no events.
 * An engine call that makes several registry calls (a slasher commit that slashes
 * several nodes, a hyperstaking epoch) leaves the events of all of them, in order;
 * nothing is ever dropped (room for every event is reserved before the call changes
 * anything). After a hyperstaking call, act on its own lists (opg_hyper_moves and
 * opg_hyper_events) instead: they are these events, with the positions' rewards
 * turned into moves.
 */
OPG_API const opg_event *opg_registry_events(const opg_registry *r, size_t *count);

/*
 * Closes the block: recomputes the active set (eligible = consensus role, not jailed,
 * power > 0; ordered by power descending, operator id ascending; the first
 * max_validators are bonded), moves leaving nodes to unbonding and finished ones to
 * unbonded (removing those without shares), pays matured unbonding entries and
 * completes matured redelegations. Events, in this order: for each node in operator
 * id order its status change and validator update; then nodes whose unbonding ended
 * (status, removal); then matured unbondings and redelegations, in maturity order.
 * The height, `now` and every validator update enter the consensus history that
 * evidence is judged by (see "consensus history" below): pass CometBFT's block time.
 * While an attached slasher holds a pending (deferred) slash of a node, the entries
 * out of that node do not mature and the node is not removed (opg_slasher.h,
 * "Deferred slashes"): they stay queued and mature at the first end_block after.
 * Cost: O(nodes log nodes + matured entries + history records), independent of the
 * number of delegations (with pending slashes, O(pending) more per matured entry).
 */
OPG_API int opg_registry_end_block(opg_registry *r, opg_height height, opg_time now);

/* ------------------------------------------------------------- slashing */

typedef struct opg_slash_result {
    opg_u256 burned_total;        /* everything burned by this slash */
    opg_u256 burned_node;         /* from the node's tokens */
    opg_u256 burned_unbonding;    /* from unbonding entries (at the node and at destinations) */
    opg_u256 burned_redelegation; /* from delegations at redelegation destinations */
    opg_dec effective_fraction;   /* passed to the splitter's slash hook; 0 if no node slash */
} opg_slash_result;

/*
 * x/staking's Slash (SEMANTICS §4, first paragraph): slashes the node for an
 * infraction at infraction_height when it had `power`, by `fraction` (0..1),
 * including unbonding and redelegation entries created since the infraction.
 * Errors: OPG_ENOTFOUND, OPG_EFUTURE (infraction after `height`), OPG_ESTATUS (node
 * unbonded, as in Cosmos; the slashing engine slashes an unbonded inference node for a
 * faulty inference), OPG_EINVAL (fraction > 1). *result may be NULL. Events: OPG_EVENT_BURNED,
 * and rewards settled for delegations drained at redelegation destinations.
 */
OPG_API int opg_registry_slash(opg_slash_result *result, opg_registry *r,
                               const opg_id *operator_id, opg_height infraction_height,
                               uint64_t power, const opg_dec *fraction, opg_height height,
                               opg_time now);
/* Jails the node until `until` (OPG_TIME_FOREVER for ever). OPG_EJAILED if already. */
OPG_API int opg_registry_jail(opg_registry *r, const opg_id *operator_id, opg_time until);
/* Marks the node tombstoned: it can never be unjailed, and its consensus key (by
 * its address) stays tombstoned after the node is removed: no node can register it
 * again (opg_registry_node_create: OPG_ETOMBSTONED). OPG_ENOTFOUND, OPG_ENOMEM. */
OPG_API int opg_registry_tombstone(opg_registry *r, const opg_id *operator_id);
/* Whether the consensus key is tombstoned (1) or not (0), with or without a node. */
OPG_API int opg_registry_key_tombstoned(const opg_registry *r, const opg_id *consensus_key);

/* -------------------------------------------------- consensus history */

/*
 * The registry keeps what evidence is judged by, so that evidence never has to say
 * it: each end_block records its height and time, and every validator-set update it
 * issues (OPG_EVENT_VALIDATOR_UPDATE). They are kept while evidence at their height
 * could still be accepted: an entry leaves once it is older than the evidence window
 * (the attached slasher's evidence.max_age_num_blocks AND max_age_duration, which
 * are the slasher's state, not the registry's; 100000 blocks and 172800 s without
 * one), except the newest such entry, which stays as
 * the floor of the heights above it. Memory: the block times in the window plus the
 * updates in it and one record per validator. Heights that do not increase record
 * no new time; their updates replace the last one of the key.
 */

/* The block time of `height`: the time end_block was given at the highest recorded
 * height at or below it (a height the host skipped reads the block before it).
 * OPG_EEXPIRED: the history has no height at or below it (older than kept, or
 * before the first end_block). O(log blocks). */
OPG_API int opg_registry_block_time(opg_time *out, const opg_registry *r, opg_height height);
/* The consensus power of the key at `height`: the last validator-set update issued
 * for it at an end_block of height <= height - 2 (CometBFT applies the updates of
 * block H from block H + 2, ValidatorUpdateDelay 1); 0 if it was not in the set.
 * OPG_EEXPIRED as opg_registry_block_time. O(log records). */
OPG_API int opg_registry_power_at(uint64_t *out, const opg_registry *r,
                                  const opg_id *consensus_key, opg_height height);
/* CometBFT's validator address of an Ed25519 key: the first 20 bytes of its
 * SHA-256. */
OPG_API int opg_registry_consensus_address(uint8_t out[20], const opg_id *consensus_key);
/* The operator id of the node whose consensus key has this address; OPG_ENOTFOUND.
 * O(log nodes). */
OPG_API int opg_registry_node_by_address(opg_id *operator_id, const opg_registry *r,
                                         const uint8_t address[20]);

/* ------------------------------------------------------------ the ledger */

typedef struct opg_supply_info {
    opg_u256 total_supply;    /* genesis + minted - burned (0 if the burns exceed the rest:
                                 a genesis supply that left out the staked tokens) */
    opg_u256 minted;          /* everything minted since genesis */
    opg_u256 burned;          /* everything burned since genesis (at most 2^256 - 1: a
                               * burn past it leaves it there) */
    opg_u256 bonded;          /* tokens of bonded nodes */
    opg_u256 unbonding;       /* tokens of unbonding/unbonded nodes + pending unbonding entries */
    opg_u256 community_pool;  /* whole base units held by the community pool */
    opg_u256 outstanding_rewards; /* rewards allocated and not yet withdrawn (whole units) */
    opg_dec staking_ratio;    /* bonded / total_supply (quo_truncate), 0 if no supply */
} opg_supply_info;

OPG_API void opg_registry_supply(opg_supply_info *out, const opg_registry *r);
/* Records tokens the host minted or burned outside libopg, so the ledger stays whole. */
OPG_API int opg_registry_supply_mint(opg_registry *r, const opg_u256 *amount);
OPG_API int opg_registry_supply_burn(opg_registry *r, const opg_u256 *amount);

/* ---------------------------------------------------------- saved state */

/*
 * Writes the snapshot: a header ("OPGS", kind 1, 0, version 3 big-endian), then
 * every record in key order (below, "records"), each as key length (1 byte), key,
 * value length (4 bytes big-endian), value, then a 0 byte and the number of records
 * (8 bytes). *len receives the size needed; OPG_EBUFS if cap is too small (call with
 * buf NULL, cap 0 to learn the size; buf may then hold a prefix). O(n log n).
 */
OPG_API int opg_registry_save(uint8_t *buf, size_t cap, size_t *len, const opg_registry *r);
/* Creates a registry from a snapshot. OPG_ECORRUPT (malformed, trailing bytes,
 * records out of order or inconsistent, an unusable consensus key, a node whose
 * tombstone flag and address disagree, an older format), OPG_EVERSION (a newer
 * format), OPG_ENOMEM. Its first commit puts every record. */
OPG_API int opg_registry_load(opg_registry **out, const uint8_t *buf, size_t len,
                              const opg_allocator *alloc);
/* The root of the Merkle tree over the registry's records as they are now: what the
 * next commit would return (opg_registry_root_from_scratch). O(n log n). OPG_ENOMEM
 * leaves out untouched. */
OPG_API int opg_registry_state_hash(uint8_t out[32], const opg_registry *r);

/*
 * Checks the registry's invariants: for every node, the sum of its delegations'
 * shares equals delegator_shares; counts and indexes agree; the consensus history is
 * in order and a node is tombstoned exactly when its address is. OPG_EINVARIANT with
 * the detail in last_error. For tests and paranoid hosts; O(delegations + history).
 */
OPG_API int opg_registry_check(opg_registry *r);

/* ------------------------------------------------------- records, commit */

/*
 * The registry's records (opg_core.h, "records"). Keys: the tag
 * OPG_RECORDS_REGISTRY, a kind byte, then ids (32 bytes each) and integers
 * (big-endian):
 *   0 params        (no ids)
 *   1 ledger        (no ids): supply, minted, burned, pools, unbonding balance, next seq
 *   2 node          operator
 *   3 delegation    delegator, operator
 *   4 unbonding     delegator, operator, seq (8 bytes)
 *   5 redelegation  delegator, source, destination, seq (8 bytes)
 * A value is a format byte (1), then the record's fields in their saved form.
 */

/*
 * Commits the block: the records put and deleted since the previous commit, in key
 * order, into *changes and *count (the
 * registry owns them; valid until the next commit or free), and the new root of the
 * Merkle tree over all records into root (opg_proof.h specifies the tree). Only
 * records whose bytes changed are put, only records the last commit had are
 * deleted. Call it once per block, after
 * end_block; the host writes the change set and the root in one transaction.
 * O(c log c + c log n) for c changed records among n. The first commit of a registry
 * made by opg_registry_new or opg_registry_load puts every record, O(n log n) once
 * (the host's store starts empty); one made by opg_registry_load_records starts from
 * the store's records. Until its first commit a registry tracks no changes, so a host
 * that never commits pays nothing for this. OPG_ENOMEM changes nothing.
 */
OPG_API int opg_registry_commit(uint8_t root[32], const opg_record **changes, size_t *count,
                                opg_registry *r);
/* The root as of the last commit (the empty tree's, 32 zero bytes, before the first
 * commit of a new or snapshot-loaded registry). */
OPG_API void opg_registry_root(uint8_t root[32], const opg_registry *r);
/* The root the registry's records would have now, computed from scratch: what the
 * next commit returns. O(n log n); for checks and tests. */
OPG_API int opg_registry_root_from_scratch(uint8_t root[32], const opg_registry *r);
/* Every record, in key order, to fn. O(n log n). fn's negative code stops it. */
OPG_API int opg_registry_records(opg_registry *r, opg_record_sink fn, void *ctx);
/*
 * Creates a registry from a stream of records in strictly increasing key order, as
 * a host's store iterates them. Every record and their sum are checked as
 * opg_registry_load checks (OPG_ECORRUPT); when root is not NULL the records must
 * also hash to it (OPG_ECORRUPT otherwise). The new registry's committed root is the
 * records' root, and its next commit returns what changed since.
 */
OPG_API int opg_registry_load_records(opg_registry **out, opg_record_source next, void *ctx,
                                      const uint8_t root[32], const opg_allocator *alloc);
/* Record keys, for proofs and host lookups: key[OPG_RECORD_KEY_MAX], *len set. */
OPG_API int opg_registry_key_node(uint8_t key[OPG_RECORD_KEY_MAX], size_t *len,
                                  const opg_id *operator_id);
OPG_API int opg_registry_key_delegation(uint8_t key[OPG_RECORD_KEY_MAX], size_t *len,
                                        const opg_id *delegator, const opg_id *operator_id);
/* A proof, against the last committed root, that the record with this key is present
 * with its committed value, or absent (opg_proof_verify checks it). OPG_EBUFS with
 * *len = the size needed; at most OPG_PROOF_MAX_BYTES. */
OPG_API int opg_registry_prove(uint8_t *buf, size_t cap, size_t *len, const opg_registry *r,
                               const uint8_t *key, size_t key_len);

#ifdef __cplusplus
}
#endif

#endif /* OPG_REGISTRY_H */
