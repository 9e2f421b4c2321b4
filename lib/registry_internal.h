/*
 * registry_internal.h - the registry's records and the contract with its engines.
 *
 * Engines (splitter, slasher, tally) live in lib/ and read these structs directly.
 * They learn about stake changes through opgi_engine_hooks, in two phases so that a
 * failing call changes nothing anywhere:
 *   1. check: the registry validates the request and reserves its own memory; then
 *      every engine's prepare() sees a plan of what will happen and may refuse it
 *      (e.g. OPG_EINVARIANT) or reserve memory, without changing its state;
 *   2. apply: the registry mutates and calls the apply hooks, which cannot fail.
 */
#ifndef OPG_REGISTRY_INTERNAL_H
#define OPG_REGISTRY_INTERNAL_H

#include "opg_registry.h"

#include "internal.h"
#include "params.h"
#include "records.h"

#define OPGI_NONE UINT32_MAX

/* Upper bound of staking.max_entries (entries per pair are scanned on the stack). */
#define OPGI_MAX_ENTRIES 64

/* What an engine keeps per delegation lives in the delegation record (F1 starting
 * info), so there is one record per delegation and no parallel map. */
typedef struct opgi_f1_start {
    uint64_t period; /* previous period at the last (re)initialisation */
    uint64_t height; /* block height of that */
    opg_dec stake;   /* tokens_from_shares_truncated(shares) then */
} opgi_f1_start;

typedef struct opgi_delegation {
    opg_id delegator;
    opg_dec shares;
    opgi_f1_start f1;
    uint32_t node;      /* node slot */
    uint32_t next;      /* next delegation of the same delegator, or free-list link */
} opgi_delegation;

typedef struct opgi_node {
    opg_id operator_id;
    opg_id consensus_key;
    opg_id address;       /* consensus address (derived, not saved): opgi_consensus_address */
    uint32_t roles;
    uint8_t status;       /* opg_node_status */
    uint8_t jailed;
    uint8_t tombstoned;
    uint8_t in_use;       /* slot holds a node */
    opg_time jailed_until;
    opg_u256 tokens;
    opg_dec delegator_shares;
    opg_dec rate, max_rate, max_change_rate;
    opg_time commission_update_time;
    opg_u256 min_self_delegation;
    opg_height unbonding_height;
    opg_time unbonding_time;
    uint64_t last_power;  /* power in the last validator-set update (0: not in the set) */
    uint64_t delegation_count;
} opgi_node;

typedef struct opgi_unbonding {
    opg_id delegator;
    opg_id node;          /* operator id: entries outlive a removed node */
    opg_height creation_height;
    opg_time completion_time;
    opg_u256 initial_balance;
    opg_u256 balance;
    uint64_t seq;         /* creation order; ties in the maturity queue */
    uint32_t link;        /* its opgi_link (derived, not saved) */
} opgi_unbonding;

typedef struct opgi_redelegation {
    opg_id delegator;
    opg_id src, dst;
    opg_height creation_height;
    opg_time completion_time;
    opg_u256 initial_balance;
    opg_dec shares_dst;
    uint64_t seq;
    uint32_t link;        /* its opgi_link (derived, not saved) */
} opgi_redelegation;

/* A queue ordered by (completion_time, seq): appends are the common case, matured
 * entries leave from the front. Elements are `size` bytes. */
typedef struct opgi_queue {
    unsigned char *items;
    size_t size, head, len, cap; /* live items are [head, head+len) */
    size_t time_offset;          /* offset of the opg_time completion_time in an item */
    size_t seq_offset;           /* offset of the uint64_t seq */
} opgi_queue;

/* Counts of pending queue entries per key: an open-addressing table of key_len-byte
 * keys (one, two or three ids) with a uint32 count each (0 marks a free slot), at most
 * half full. Registry-private and derived from the queues (not saved); it lets the
 * max_entries and transitive-redelegation rules skip scanning the queues. A chained
 * counter also keeps, per key, the head and tail of a chain of opgi_links through
 * that key's entries in queue order (chain `chain` of the links), so that a call
 * walks the entries of one key (a pair, a node, a delegator), not the queue. */
typedef struct opgi_counter {
    unsigned char *slots; /* cap slots of key_len + 4 (+ 8 when chained) bytes */
    uint32_t cap, len, key_len;
    uint32_t chained;     /* 1 + the chain's number in opgi_link, or 0 */
} opgi_counter;

/* Where an entry sits in the chains of its queue's chained counters: its queue
 * position is found from (time, seq) by binary search, since positions shift. */
#define OPGI_CHAINS 3
typedef struct opgi_link {
    opg_time time;
    uint64_t seq;
    uint32_t next[OPGI_CHAINS], prev[OPGI_CHAINS]; /* OPGI_NONE at the ends */
} opgi_link;

/* A pool of links with a free list (next[0]); one link per queue entry. */
typedef struct opgi_links {
    opgi_link *items;
    uint32_t cap, used, free, n_free; /* used: high-water mark */
} opgi_links;

/* The block time the host passed to end_block at a height. */
typedef struct opgi_block_time {
    opg_height height;
    opg_time time;
} opgi_block_time;

/* A validator-set update the registry issued: the key's power from end_block at
 * `height` on. */
typedef struct opgi_power_rec {
    opg_id key;
    opg_height height;
    uint64_t power;
} opgi_power_rec;

/* A plan handed to engines in the check phase. */
typedef struct opgi_plan {
    const uint32_t *nodes;  /* node slots whose F1 period will advance (creations, slash) */
    size_t n_nodes;
    const uint32_t *dels;   /* delegations whose rewards will be settled */
    size_t n_dels;
    uint32_t new_node;      /* a node about to be created (slot), or OPGI_NONE; when
                             * several are (calls > 1), the highest of them, and every
                             * one of them is in nodes */
    /* 0 or 1: the plan is one operation. More: the union of that many operations
     * applied one after the other (governance's validator actions), so room an engine
     * keeps per operation is kept that many times. */
    size_t calls;
} opgi_plan;

typedef struct opgi_engine_hooks {
    void *ctx;
    int (*prepare)(void *ctx, opg_registry *r, const opgi_plan *plan);
    void (*node_created)(void *ctx, opg_registry *r, uint32_t node);
    void (*before_delegation_created)(void *ctx, opg_registry *r, uint32_t node);
    void (*before_delegation_modified)(void *ctx, opg_registry *r, uint32_t del);
    void (*after_delegation_modified)(void *ctx, opg_registry *r, uint32_t del);
    void (*before_node_slashed)(void *ctx, opg_registry *r, uint32_t node,
                                const opg_dec *fraction);
    void (*node_bonded)(void *ctx, opg_registry *r, uint32_t node, opg_height height);
    void (*node_removed)(void *ctx, opg_registry *r, uint32_t node);
    /* The evidence window the engine needs the consensus history kept for (the
     * slasher's evidence.max_age_*), or NULL for none. */
    void (*history_window)(void *ctx, uint64_t *blocks, opg_time *duration);
    /* Events each hook call may append at most (for reserving the event list). */
    size_t events_per_call;
    /* Nonzero while unbonding and redelegation entries out of this node must not
     * mature and the node must not be removed (the slasher's pending slashes), or
     * NULL for never. Reads only; asked at end_block per matured entry and per node
     * that would leave, and by an unbond that would remove the node. */
    int (*holds_node)(void *ctx, const opg_registry *r, const opg_id *operator_id);
    /* Nonzero while the delegator's unbonding entries at `dst` must not mature: a
     * redelegation entry (delegator, src -> dst) out of a node src the engine holds
     * exists (its slash may drain them), or NULL for never. Asked at end_block per
     * matured unbonding entry whose pair has a redelegation entry into dst. */
    int (*holds_into)(void *ctx, const opg_registry *r, const opg_id *delegator,
                      const opg_id *dst);
} opgi_engine_hooks;

#define OPGI_MAX_ENGINES 4

/*
 * A guard on undelegation (the tally's conviction locks): check() refuses a
 * delegator's undelegation at `now` with OPG_ELOCKED (detail text into err) or
 * returns 0. It reads its own state only and changes nothing. Guards are linked
 * through records their owners keep, so adding one cannot fail and any number of
 * handles (a tally and a loaded copy of it) may guard one registry.
 */
typedef struct opgi_unbond_guard {
    int (*check)(void *ctx, const opg_id *delegator, opg_time now, char *err);
    void *ctx;
    struct opgi_unbond_guard *next;
} opgi_unbond_guard;

struct opg_registry {
    opg_allocator alloc;
    opgi_records records; /* the tree as of the last commit, and what changed since */
    char err[OPGI_ERRMSG_MAX];
    opg_registry_params params;

    /* supply ledger */
    opg_u256 genesis_supply, minted, burned;
    opg_u256 community_pool, outstanding_rewards; /* kept by the splitter */
    opg_u256 unbonding_balance; /* sum of pending unbonding entries' balances */

    /* nodes: stable slots, plus slot indexes sorted by operator id and by key */
    opgi_node *nodes;
    uint32_t node_slots, node_cap; /* slots in use (high-water mark) and allocated */
    uint32_t *by_operator, *by_key, *by_addr;
    uint32_t node_count;

    /* delegations: a pool with a free list, a hash index by (delegator, node) and a
     * hash index by delegator pointing at the head of its chain */
    opgi_delegation *dels;
    uint32_t del_slots, del_cap, del_free, del_count;
    uint32_t *del_index;      /* open addressing, 0 = empty, else slot + 1 */
    uint32_t del_index_cap;   /* power of two */
    uint32_t *dtor_index;     /* delegator -> head delegation slot + 1 */
    uint32_t dtor_index_cap, dtor_count;

    opgi_queue unbondings;    /* of opgi_unbonding */
    opgi_queue redelegations; /* of opgi_redelegation */
    opgi_counter ubd_pairs;   /* unbonding entries per (delegator, node), chained */
    opgi_counter ubd_nodes;   /* unbonding entries per node, chained */
    opgi_counter ubd_dtors;   /* unbonding entries per delegator, chained */
    opgi_links ubd_links;
    opgi_counter red_into;    /* redelegation entries per (delegator, dst) */
    opgi_counter red_triples; /* redelegation entries per (delegator, src, dst) */
    opgi_counter red_srcs;    /* redelegation entries per source node, chained */
    opgi_counter red_dtors;   /* redelegation entries per delegator, chained */
    opgi_links red_links;
    uint64_t next_seq;

    /* events of the host call in progress (or the last one): see opgi_call_enter */
    opg_event *events;
    size_t n_events, events_cap;
    size_t events_room;  /* reserved: n_events may grow to this, asserted on push */
    unsigned depth;      /* open opgi_call_enter brackets */
    opg_event event_sink; /* release builds only: a push past room with no memory left */

    /* capacity a slash works in (not state; opgi_registry_slashes_prepare sizes it) */
    void *scratch;
    size_t scratch_cap;

    /* consensus history for evidence (registry_history.c): block times by height and
     * validator-set powers by (consensus key, height), kept for the evidence window
     * the attached engines ask for (opgi_history_window); tombstoned consensus
     * addresses, kept forever */
    opgi_block_time *times;
    size_t times_head, n_times, times_cap; /* live times are [times_head, n_times) */
    opgi_power_rec *powers;                /* ascending (key, height) */
    size_t n_powers, powers_cap;
    opg_height powers_prune_at; /* no power record drops while the floor is below
                                 * this (derived, not saved: 0 after a load) */
    opg_id *tombs; /* ascending; addresses zero-padded to 32 bytes */
    size_t n_tombs, tombs_cap;

    opgi_engine_hooks engines[OPGI_MAX_ENGINES];
    size_t n_engines;
    opgi_unbond_guard *guards; /* not state: the guards' owners keep theirs */

    /* height and time of the call in progress, for hooks (not part of the state) */
    opg_height cur_height;
    opg_time cur_time;
};

/* ---- used by the registry's own files and by the engines ---- */

extern const opgi_param_table opgi_registry_param_table;

/* Slot of the node with this operator id, or OPGI_NONE. O(log nodes). */
uint32_t opgi_node_find(const opg_registry *r, const opg_id *operator_id);
/* Slot of the delegation (delegator, node slot), or OPGI_NONE. O(1) expected. */
uint32_t opgi_del_find(const opg_registry *r, const opg_id *delegator, uint32_t node);
/* The slot of the delegator index where a search for this delegator starts: a
 * prefetch hint for engines that walk many delegators (the tally). */
uint32_t opgi_dtor_home(const opg_registry *r, const opg_id *delegator);
/* Head slot of the delegator's chain (linked by .next), or OPGI_NONE. */
uint32_t opgi_del_first_of(const opg_registry *r, const opg_id *delegator);
/* power = tokens / power_reduction (truncated), capped at INT64_MAX. */
uint64_t opgi_node_power(const opg_registry *r, const opgi_node *n);
/* The same rule under parameters p (staged ones: the tally closes under changes). */
uint64_t opgi_power_under(const opg_registry_params *p, const opg_u256 *tokens);
/* tokens_from_shares with each rounding of SEMANTICS §2 (node has delegator_shares > 0;
 * returns 0 when it has none). */
int opgi_tokens_from_shares(opg_dec *out, const opgi_node *n, const opg_dec *shares,
                            int rounding /* enum opgi_round */);

/* opg_registry_slash, and with allow_unbonded also for a node outside the active
 * set: inference nodes never bond, yet a faulty inference is slashed (Extension). */
int opgi_registry_slash(opg_slash_result *result, opg_registry *r, const opg_id *operator_id,
                        opg_height infraction_height, uint64_t power, const opg_dec *fraction,
                        opg_height height, opg_time now, int allow_unbonded);

/* How a slash is evaluated (opgi_registry_slash_at; the slasher's deferred slashes).
 * The entries a slash walks are those an immediate slash at (at_height, at_time)
 * walks: created at or after the infraction, completing after at_time, and none when
 * infraction >= at_height. Entries held by opgi_engine_hooks.holds_node stay in the
 * queues past their completion, so a slash applied later still finds every entry it
 * found then, and those created since. `cap` (NULL: none) bounds the total burned:
 * each unbonding take, each destination drain and the node part are cut to what is
 * left of it, and a destination unbond worth more than what is left is trimmed to the
 * shares worth it (trunc) or skipped if still worth more. With plan_only the slash
 * is computed, not made: *result receives what it would burn (each redelegation entry
 * against the state before the slash, so for several entries of one delegator into
 * one destination the plan is an upper bound), nothing is reserved or changed.
 * `power_tokens` (NULL: power * power_reduction now) is what the power means in
 * tokens: a deferred slash passes the value of its decision. */
typedef struct opgi_slash_at {
    opg_height at_height;
    opg_time at_time;
    const opg_u256 *cap;
    int plan_only;
    const opg_u256 *power_tokens;
} opgi_slash_at;
int opgi_registry_slash_at(opg_slash_result *result, opg_registry *r, const opg_id *operator_id,
                           opg_height infraction_height, uint64_t power, const opg_dec *fraction,
                           opg_height height, opg_time now, int allow_unbonded,
                           const opgi_slash_at *at);
/* Whether an engine holds the node's entries and the node (holds_node). */
int opgi_node_held(const opg_registry *r, const opg_id *operator_id);
/* Whether an engine holds the delegator's unbonding entries at dst (holds_into);
 * 0 at once when the delegator has no redelegation entry into dst. */
int opgi_into_held(const opg_registry *r, const opg_id *delegator, const opg_id *dst);
/* How many redelegation entries (delegator, src -> dst) there are. O(1) expected. */
uint32_t opgi_red_entries(const opg_registry *r, const opg_id *delegator, const opg_id *src,
                          const opg_id *dst);
/* Jails the node until `until`, or only extends jailed_until if it is already
 * jailed. Pushes OPG_EVENT_NODE_JAILED when it newly jails (room reserved by the
 * caller); returns 1 if it newly jailed. */
int opgi_registry_jail_until(opg_registry *r, uint32_t slot, opg_time until);

/* Makes room for new_dels more delegations, `unbondings` unbonding and
 * `redelegations` redelegation entries (with their entry counters), so that a
 * sequence of registry calls an engine is about to make cannot run out of memory
 * there. Capacity is not state: a failure changes no hash. */
int opgi_registry_reserve(opg_registry *r, uint32_t new_dels, size_t unbondings,
                          size_t redelegations);

/* The registry's own checks, for engines that must know before they call (never a
 * copy of the rule): what delegating `amount` to the node in `node` would issue (del
 * is the existing delegation or OPGI_NONE), and what removing `shares` from a
 * delegation would do. They change nothing but the error text. */
int opgi_check_delegate(opg_registry *r, uint32_t node, uint32_t del, const opg_u256 *amount,
                        opg_dec *issued);

/* What removing `shares` from delegation `del` would do. */
typedef struct opgi_unbond_plan {
    opg_dec shares;
    opg_u256 tokens;        /* tokens the node gives up */
    int removes_delegation; /* the delegation's shares reach zero */
    int removes_node;       /* the node is unbonded and its shares reach zero */
} opgi_unbond_plan;

int opgi_check_unbond(opg_registry *r, uint32_t del, const opg_dec *shares, opgi_unbond_plan *plan);
/* What undelegating (or redelegating) `amount` tokens of delegation `del` would do: the
 * shares that amount is (all of them for the delegation's whole value), then
 * opgi_check_unbond. */
int opgi_check_unbond_amount(opg_registry *r, uint32_t del, const opg_u256 *amount,
                             opgi_unbond_plan *plan);
/* Everything opg_registry_undelegate of `amount` from delegation `del` at `now` would
 * refuse: the pair's max_entries, opgi_check_unbond_amount, the completion time. */
int opgi_check_undelegate(opg_registry *r, uint32_t del, const opg_u256 *amount, opg_time now,
                          opgi_unbond_plan *plan);

/* Links g (kept by its owner until opgi_unbond_guard_remove) into r's guards. */
void opgi_unbond_guard_add(opg_registry *r, opgi_unbond_guard *g);
void opgi_unbond_guard_remove(opg_registry *r, opgi_unbond_guard *g);
/* The guards' verdict on delegator undelegating at now: 0 or the first refusal
 * (its text in r->err). */
int opgi_unbond_guards_check(opg_registry *r, const opg_id *delegator, opg_time now);

/* OPG_EPOA (detail text: `what`, then why) while staking.poa is on, else OPG_OK: the
 * refusal of every stake move and node creation an account asks for in
 * proof-of-authority mode (engines that move stake, like hyperstaking, ask it first). */
int opgi_poa_refuse(opg_registry *r, const char *what);

/*
 * Governance's validator actions (the tally's ADD_VALIDATOR and REMOVE_VALIDATOR),
 * several of them applied one after the other in one host call, all checked and
 * reserved first:
 *   opgi_check_node_create  every check of opg_registry_node_create but the PoA
 *                           refusal, under min_commission_rate (the staged one); err:
 *                           why; *shares: the self-delegation's shares
 *   opgi_check_gov_remove   the operator's node and self-delegation (OPG_ENOTFOUND:
 *                           no node, or no self-delegation), and the unbond of all
 *                           of it (opgi_check_unbond); the engines' prepare of that
 *                           unbond alone, whose refusal is the action's
 *   opgi_gov_reserve        for n_add creations (their slots written to add_slots,
 *                           distinct, free now, taken in order) and the removals of
 *                           the delegations rem_dels (plans rem_plans): node slots,
 *                           delegations, records, the engines' prepare of the union
 *                           plan, and a registry bracket with the summed event bound
 *                           (close it with opgi_call_leave after the applies, or on
 *                           failure; on OPG_ENOMEM none is open)
 *   opgi_apply_node_create  node_create's effect in a reserved slot (no mint)
 *   opgi_apply_gov_remove   opgi_apply_unbond of the whole self-delegation (every
 *                           hook; the self-bond jail) with no unbonding entry
 * The mint and burn of the stake are the caller's, in the supply ledger.
 */
int opgi_check_node_create(char *err, const opg_registry *r, const opg_node_create *c,
                           const opg_dec *min_commission_rate, opg_dec *shares);
int opgi_check_gov_remove(char *err, opg_registry *r, const opg_id *operator_id, uint32_t *del,
                          opgi_unbond_plan *plan);
int opgi_gov_reserve(char *err, opg_registry *r, uint32_t *add_slots, size_t n_add,
                     const uint32_t *rem_dels, const opgi_unbond_plan *rem_plans,
                     size_t n_rem);
void opgi_apply_node_create(opg_registry *r, const opg_node_create *c, uint32_t slot,
                            const opg_dec *shares, opg_time now);
void opgi_apply_gov_remove(opg_registry *r, uint32_t del, const opgi_unbond_plan *plan);
/* The slots of n nodes about to be created one after the other, each free now (free
 * slots first, then above the high-water mark), with room for all of them. */
int opgi_nodes_reserve(opg_registry *r, uint32_t *slots, size_t n);

/* Registers an engine; OPG_ENOMEM past OPGI_MAX_ENGINES. */
int opgi_registry_attach(opg_registry *r, const opgi_engine_hooks *hooks);
void opgi_registry_detach(opg_registry *r, void *ctx);

/*
 * Calls and their events.
 *
 * Every registry operation that may change state starts with opgi_call_begin (its
 * stake calls through one prologue that also records height and time for the hooks).
 * Its events are appended to the registry's list, which the host reads with
 * opg_registry_events once its call returns. An engine whose host call makes several
 * registry calls brackets them with opgi_call_enter / opgi_call_leave: only the
 * outermost call clears the list, so every effect of the host call is in it, in the
 * order it happened, and nothing is copied or rewound.
 *
 * Room: the worst case of each operation is named once, by the opgi_events_* function
 * beside the operation (hooks included, through opgi_engine_events). An operation
 * reserves that in its check phase; an engine's bracket reserves the sum of the bounds
 * of the calls it will make, and a nested operation must then find its room already
 * there (asserted). A push beyond the reservation is a bug: debug builds abort.
 */
void opgi_call_begin(opg_registry *r);
/* The prologue of every stake call (node_create, delegate, undelegate, redelegate,
 * cancel_unbonding, slash, end_block, and the splitter's withdrawal, whose hooks see
 * the same): opgi_call_begin, then the call's height and time for the hooks. */
int opgi_stake_call_begin(opg_registry *r, opg_height height, opg_time now);
/* Opens a bracket with room for `events` events (the outermost clears the list first).
 * OPG_ENOMEM leaves no bracket open. */
int opgi_call_enter(opg_registry *r, size_t events);
void opgi_call_leave(opg_registry *r);
/* Room for `more` events beyond those already in the list. */
int opgi_events_reserve(opg_registry *r, size_t more);
/* Appends an event (room reserved); never NULL, never drops. */
opg_event *opgi_event_push(opg_registry *r, opg_event_kind kind, const opgi_node *node);

/* The bounds (registry_stake.c, registry.c): events one operation may leave. */
size_t opgi_events_node_create(const opg_registry *r);
size_t opgi_events_delegate(const opg_registry *r);
size_t opgi_events_undelegate(const opg_registry *r);
size_t opgi_events_redelegate(const opg_registry *r);
size_t opgi_events_cancel_unbonding(const opg_registry *r);
size_t opgi_events_jail(const opg_registry *r);

/*
 * The check phase of several slashes in one host call (the slasher's liveness and
 * evidence), all for an infraction at `infraction`, at `height` and `now`: adds their
 * event bound to *events, sizes the scratch each slash works in, and runs the engines'
 * prepare on their union plan (exactly the entries those slashes walk), so that the
 * slashes that follow inside a bracket cannot run out of memory. Changes no state.
 */
int opgi_registry_slashes_prepare(size_t *events, opg_registry *r, const uint32_t *slots,
                                  size_t n, opg_height infraction, opg_height height,
                                  opg_time now);
/* The same for slashes each evaluated at its own point: slot i for an infraction at
 * infractions[i], walked as at (at_heights[i], at_times[i]) (opgi_slash_at). */
int opgi_registry_slashes_prepare_at(size_t *events, opg_registry *r, const uint32_t *slots,
                                     size_t n, const opg_height *infractions,
                                     const opg_height *at_heights, const opg_time *at_times,
                                     opg_height height, opg_time now);

/*
 * The supply ledger. Engines read the fields freely and change them only here.
 * Total supply is genesis + minted - burned, floored at 0 (slashes may burn staked
 * tokens that the genesis supply left out).
 */
void opgi_ledger_total_supply(opg_u256 *out, const opg_registry *r);
/* Adds to burned (a deposit burned by governance, a slash), saturating at 2^256 - 1. */
void opgi_ledger_burn(opg_registry *r, const opg_u256 *amount);
/* Whether minting amount keeps genesis + minted within 2^256 - 1 (OPG_EOVERFLOW), and
 * the mint (governance's new stake; checked first). */
int opgi_ledger_mint_check(const opg_registry *r, const opg_u256 *amount);
void opgi_ledger_mint(opg_registry *r, const opg_u256 *amount);
/* Takes back from burned what leaves a slash for its reporter (at most what it burned). */
void opgi_ledger_unburn(opg_registry *r, const opg_u256 *amount);
/* The splitter's pools, shown in whole units. */
void opgi_ledger_set_pools(opg_registry *r, const opg_u256 *community_pool,
                           const opg_u256 *outstanding_rewards);

/* Runs every engine's prepare on a plan; the first refusal is returned. */
int opgi_engines_prepare(opg_registry *r, const opgi_plan *plan);
/* Upper bound of events the engines may emit for `calls` hook calls. */
size_t opgi_engine_events(const opg_registry *r, size_t calls);

/* Queue helpers. */
void *opgi_queue_at(const opgi_queue *q, size_t i);
int opgi_queue_reserve(opg_registry *r, opgi_queue *q, size_t more);

/*
 * Consensus history and tombstones (registry_history.c).
 *
 * The address of a consensus key is CometBFT's: the first 20 bytes of SHA-256 of the
 * Ed25519 key, here zero-padded to an opg_id. Tombstones are kept per address, so
 * they outlive the node record: a tombstoned key never registers again.
 *
 * end_block records its height and time and every validator-set update it issues;
 * an entry leaves the history only when evidence at its height would be too old in
 * both blocks and time (the newest such entry stays as the floor of the heights
 * after it), so evidence older than the kept history is too old.
 */
void opgi_consensus_address(opg_id *out, const opg_id *key);
/* Slot of the node with this address (zero-padded), or OPGI_NONE. O(log nodes). */
uint32_t opgi_node_find_by_addr(const opg_registry *r, const opg_id *addr);
int opgi_tomb_has(const opg_registry *r, const opg_id *addr);
/* Room for `more` tombstones; opgi_tomb_add then cannot fail. */
int opgi_tomb_reserve(opg_registry *r, size_t more);
/* Tombstones the node in slot: its flag and its address (room reserved). */
void opgi_tomb_node(opg_registry *r, uint32_t slot);
/* Room for one block time and `updates` power records. */
int opgi_history_reserve(opg_registry *r, size_t updates);
/* Records a validator-set update issued at end_block `height` (room reserved). */
void opgi_history_power(opg_registry *r, const opg_id *key, opg_height height, uint64_t power);
/* Records the block time of end_block `height` and drops what left the window. */
void opgi_history_block(opg_registry *r, opg_height height, opg_time now);
/* The block time of height h: the time end_block was given at the highest recorded
 * height <= h (*exact: at h itself). OPG_EEXPIRED if the history has none. */
int opgi_history_time(const opg_registry *r, opg_height h, opg_time *time, int *exact);
/* The key's consensus power at height h: the last update issued at an end_block of
 * height <= h - 2 (CometBFT applies the updates of block H from block H + 2); 0 if
 * none (it was not in the validator set). */
uint64_t opgi_history_power_at(const opg_registry *r, const opg_id *key, opg_height h);
/* The evidence window the history keeps: the longest any attached engine asks for
 * (the slasher's evidence.max_age_*, its state), the defaults when none asks. Derived
 * from what is attached, never set, so attaching and freeing a copy of an engine
 * (a host checking a snapshot) leaves the window as it was. */
void opgi_history_window(const opg_registry *r, uint64_t *blocks, opg_time *duration);
/* The window without a slasher: its defaults. */
#define OPGI_HIST_BLOCKS 100000
#define OPGI_HIST_DURATION 172800
void opgi_history_free(opg_registry *r);
/* OPG_OK if key is a canonical encoding of an Ed25519 point of prime order
 * (crypto_core_ed25519_is_valid_point), else OPG_ECONSKEY. */
int opgi_consensus_key_check(const opg_id *key);

/*
 * Records (lib/registry_records.c): every change to a node, a delegation or an entry
 * touches its record, after the change, so the next commit carries it. Engines that
 * change registry records (the splitter's F1 start of a delegation) touch them too.
 * Room is reserved with the call's events (opgi_events_reserve), or explicitly.
 */
void opgi_touch_node(opg_registry *r, uint32_t slot);
void opgi_touch_delegation(opg_registry *r, uint32_t del);
void opgi_touch_unbonding(opg_registry *r, const opgi_unbonding *u);
void opgi_touch_redelegation(opg_registry *r, const opgi_redelegation *e);
void opgi_touch_block_time(opg_registry *r, opg_height height);
void opgi_touch_power(opg_registry *r, const opgi_power_rec *p);
void opgi_touch_tombstone(opg_registry *r, const opg_id *address);
int opgi_touch_reserve(opg_registry *r, size_t more);

#endif /* OPG_REGISTRY_INTERNAL_H */
