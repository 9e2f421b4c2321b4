/*
 * opg_hyper.h - Hyperstaking: programmable staking positions (SEMANTICS.md section 7,
 * an Extension).
 *
 * A position is an account's stake managed by a policy instead of by hand. Its id IS
 * the delegator account in the registry: the position's delegations are ordinary
 * delegations, so slashing, F1 rewards and governance inheritance apply to them
 * unchanged. Every stake move goes through the registry's public calls
 * (opg_registry_delegate / undelegate / redelegate, opg_splitter_withdraw_rewards),
 * so every registry rule applies as it does to a hand-made move: max_entries, no
 * transitive redelegation, unbonding time, zero-token refusals.
 *
 * Policies (opg_hyper_policy):
 *   FIXED        weights over listed nodes, normalised by their sum;
 *   PERFORMANCE  over eligible nodes: status bonded, not jailed (the jailed flag is
 *                read directly, so a node jailed in this block is out although it is
 *                still bonded until end_block), commission rate <= max_commission.
 *                score_i = mul_truncate(mul_truncate(Dec(power_i), perf_i), 1 - rate_i);
 *                the top max_nodes by score (ties: operator id ascending; score 0 is
 *                never picked), weight_i = quo_truncate(score_i, sum of scores).
 * In both, a node that no longer exists, is jailed, or has shares but no tokens (it
 * refuses delegations) is not a target. Then the cap per node: every weight above
 * cap is set to cap and the excess is spread over the uncapped nodes in proportion
 * to their weights (w_j += trunc(excess * w_j / sum of uncapped)), repeated until no
 * weight is above cap (at most one round per node). When cap * n < 1 for the n
 * target nodes the cap cannot hold; it is then raised to quo_truncate(1, n), which
 * gives equal weights. All weights are truncated, so they add up to at most 1.
 * The cap holds up to the split remainder below (a few base units at most).
 *
 * Splits (deposits, compounding, rebalancing targets): part_i = trunc(amount * w_i);
 * what is left goes to the node with the largest weight, ties by operator id
 * ascending. Pro-rata withdrawals use the delegations' tokens as weights: part_i =
 * trunc(amount * tokens_i / total); the remainder goes to the largest delegation
 * (ties by id), and what it cannot take to the next one in that order.
 *
 * Performance scores come from the host at each epoch (opg_hyper_epoch) and are kept
 * as part of the state: positions created, changed or topped up between epochs use
 * the scores of the last epoch. Before the first epoch every node scores 1. After
 * an epoch, a node missing from the list scores 0.
 *
 * Money, as the host sees it:
 *   - deposit: the host has debited the owner `amount` before the call (as for
 *     opg_registry_delegate); the moves list says where it went.
 *   - rewards: whenever a position's rewards are paid (withdrawn at an epoch, or
 *     settled by the registry because a deposit or withdrawal changed a
 *     delegation) they are either re-delegated (COMPOUND moves, at epochs of an
 *     auto-compounding position) or reported as a PAYOUT move to credit to the owner.
 *     Those rewards never show up as registry events: hyper consumes them.
 *   - withdrawal: the undelegated tokens mature in the registry; opg_registry_end_block
 *     then reports OPG_EVENT_UNBONDING_MATURED with account = the position id. The
 *     host credits the position's owner (opg_hyper_position_get gives it).
 *   - other registry events caused by hyper's calls (e.g. a node removed because a
 *     position took the last shares of an unbonded node, with its commission paid)
 *     are passed through in opg_hyper_events(); act on them as on
 *     opg_registry_events(). After a hyper call the registry's own event list holds
 *     every event of every registry and splitter call hyper made, in order, the
 *     positions' own OPG_EVENT_REWARDS_PAID included (those are hyper's moves): act on
 *     hyper's two lists, not also on the registry's, or those rewards count twice.
 *
 * Every call that changes the handle is all-or-nothing: it checks and reserves all it
 * may need (in hyper, the registry and the splitter) before its first stake move, so
 * an error, OPG_ENOMEM included, changes no state hash of the three handles, and the
 * same call repeated gives exactly what a call that never failed gives. A refusal by
 * the registry inside an epoch is not an error but a rule: a SKIPPED move.
 *
 * The host must not move a position's stake by hand (delegate, undelegate or
 * redelegate with the position id as delegator): hyper would adopt the result, but
 * its deposit/withdrawal totals would no longer describe the position.
 *
 * Threads: one thread at a time per handle; the hyper handle, its registry and its
 * splitter form one unit and must be used from the same thread.
 */
#ifndef OPG_HYPER_H
#define OPG_HYPER_H

#include "opg_core.h"
#include "opg_registry.h"
#include "opg_splitter.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct opg_hyper opg_hyper;

/* ------------------------------------------------------------- parameters */

typedef struct opg_hyper_params {
    /* "hyper.max_positions_per_owner": positions one owner may hold; default 100,
     * 1..1000000. Checked when a position is created. */
    uint32_t max_positions_per_owner;
    /* "hyper.max_nodes": the largest max_nodes (and FIXED list) a policy may have;
     * default 32, 1..1000. Checked when a policy is set; lowering it leaves existing
     * positions as they are. */
    uint32_t max_nodes;
    /* "hyper.vault_node_cap": the centralisation guard. The most of one node's tokens
     * that vaults together may hold, as a fraction c; default 1 (no guard), 0..1. With
     * S the shares all vaults hold on a node, H = truncate(tokens_from_shares(S)) and
     * T the node's tokens, vaults may add x tokens there while
     * (H + x) * 10^18 <= c * (T + x) (c as its 18-decimal integer).
     *   - A vault deposit or mint with a part on some node beyond that is refused
     *     (OPG_ELIMIT). O(positions) per node part (it sums the vaults' shares).
     *   - At an epoch the guard redirects instead. A vault's compounding into a
     *     node takes what fits; the rest stays idle in the vault (counted in its
     *     assets; its next deposit delegates it). A rebalance into a node takes what
     *     fits; the rest stays on its source. Each is an OPG_HYPER_GUARD move, and
     *     the epoch's vault report sums them (guard_held). The epoch tallies the
     *     vaults' shares per node once (O(vault delegations)) and keeps the tally
     *     as it moves stake.
     * Lowering the cap moves nothing by itself: vaults above it only stop growing
     * there. */
    opg_dec vault_node_cap;
    /* "hyper.vault_decimals_offset": d in the virtual shares 10^d of vaults created
     * from now (each vault keeps the d it was created with); default 6, 0..18. */
    uint32_t vault_decimals_offset;
} opg_hyper_params;

/* Fills *params with the documented defaults. */
OPG_API void opg_hyper_params_init(opg_hyper_params *params);

/* ------------------------------------------------------------ the handle */

/*
 * Creates a hyperstaking handle on registry r and splitter s (s must be the splitter
 * created on r). Both must outlive the handle. params may be NULL (defaults); alloc
 * may be NULL (realloc/free). Errors: OPG_EINVAL (NULL handle, s not on r, invalid
 * params), OPG_ENOMEM.
 */
OPG_API int opg_hyper_new(opg_hyper **out, opg_registry *r, opg_splitter *s,
                          const opg_hyper_params *params, const opg_allocator *alloc);
/* Frees the handle (not the registry or splitter). NULL is fine. */
OPG_API void opg_hyper_free(opg_hyper *h);
/* Detail text of the last failed call ("" if none). Never NULL. */
OPG_API const char *opg_hyper_last_error(const opg_hyper *h);

/* Parameters by key ("hyper.max_positions_per_owner", "hyper.max_nodes") and decimal
 * text. OPG_EKEY, OPG_EPARSE, OPG_EINVAL; atomic. The shapes match
 * opg_tally_param_set_fn / opg_tally_param_get_fn. */
OPG_API int opg_hyper_param_set(opg_hyper *h, const char *key, const char *value);
OPG_API int opg_hyper_param_get(char *buf, size_t cap, size_t *needed, const opg_hyper *h,
                                const char *key);
/* The i-th parameter key, NULL past the last. */
OPG_API const char *opg_hyper_param_key(size_t i);

/* --------------------------------------------------------------- policies */

typedef enum opg_hyper_policy_kind {
    OPG_HYPER_FIXED = 1,       /* fixed weights over listed nodes */
    OPG_HYPER_PERFORMANCE = 2, /* follows power-weighted score x (1 - commission) */
    OPG_HYPER_HOST = 3         /* weights from the host's strategy callback at each epoch */
} opg_hyper_policy_kind;

typedef struct opg_hyper_weight {
    opg_id node;    /* operator id */
    opg_dec weight; /* FIXED input: > 0, any scale; targets: the fraction of the position */
} opg_hyper_weight;

typedef struct opg_hyper_policy {
    opg_hyper_policy_kind kind;
    /* FIXED: 1..max_nodes distinct nodes that exist when the policy is set, weights
     * > 0. PERFORMANCE: none (weights NULL, n_weights 0). The array is copied. */
    const opg_hyper_weight *weights;
    size_t n_weights;
    opg_dec max_commission;      /* PERFORMANCE: eligible if rate <= this; 0..1 */
    opg_dec cap;                 /* most of the position on one node; (0, 1] */
    uint32_t max_nodes;          /* 1..hyper.max_nodes */
    int auto_compound;           /* 0 or 1: rewards re-delegated at each epoch */
    opg_dec rebalance_threshold; /* 0..1: rebalance when some node drifts by more */
    /* 0..1: the most of the position's tokens one epoch's rebalance may move (the
     * redelegated amounts add up to at most trunc(tokens x max_churn)); 0: no limit */
    opg_dec max_churn;
} opg_hyper_policy;

/*
 * Host strategies (OPG_HYPER_HOST). The policy's weights (FIXED rules, but may be
 * empty) are its targets until the first epoch. At each opg_hyper_epoch, before
 * anything moves, the callback is asked, for every HOST position in id order, for its
 * new target weights: into out[cap] (cap = the policy's max_nodes), *count how many.
 * The library then checks them; the answer is taken only if the callback returned
 * OPG_OK with 1..cap distinct nodes, weights > 0 adding up to exactly 1 (10^18 raw),
 * every node existing (else OPG_ENOTFOUND) and eligible: bonded, not jailed and
 * commission <= max_commission (else OPG_ESTATUS); weights not adding up to 1, a
 * count out of range or a node twice is OPG_EINVAL; a callback's own error code is
 * kept as it is. A refused answer leaves the previous target in place. Either way
 * the epoch reports it as an OPG_HYPER_STRATEGY move of the position with code 0
 * (taken) or the reason. The targets of a HOST position are then its weights over
 * the nodes eligible now, normalised and capped as for FIXED. The library enforces
 * every registry rule, the cap, max_nodes and max_churn on the result. Without a
 * callback HOST positions keep their targets and nothing is reported.
 * The callback must not call into the handle, its registry or its splitter.
 */
typedef int (*opg_hyper_strategy_fn)(opg_hyper_weight *out, size_t cap, size_t *count, void *user,
                                     const opg_id *position, opg_height height);
/* Sets (fn NULL: clears) the strategy callback. Not state: set it again after load. */
OPG_API int opg_hyper_set_strategy_fn(opg_hyper *h, opg_hyper_strategy_fn fn, void *user);

/* ------------------------------------------------------------- the output */

typedef enum opg_hyper_move_kind {
    OPG_HYPER_DELEGATE = 1,   /* amount of a deposit delegated to dst */
    OPG_HYPER_UNDELEGATE = 2, /* amount of the delegation to src put into unbonding,
                                 maturing at completion (paid by end_block) */
    OPG_HYPER_REDELEGATE = 3, /* amount moved from src to dst (entry matures at completion) */
    OPG_HYPER_COMPOUND = 4,   /* amount of rewards delegated to dst */
    OPG_HYPER_PAYOUT = 5,     /* amount of rewards to credit to owner */
    OPG_HYPER_SKIPPED = 6,    /* a step the registry or splitter refused (code); nothing
                                 moved: redelegation src->dst of amount, compounding into
                                 dst (src zero), or withdrawing the rewards of the
                                 delegation to src (dst zero, amount 0) */
    OPG_HYPER_MATURED = 8,    /* a vault's withdrawal claim of owner (the holder) matured
                                 at opg_hyper_end_block with amount (after slashes):
                                 claimable with opg_hyper_vault_claim */
    OPG_HYPER_STRATEGY = 10,  /* the host strategy's answer for position at an epoch:
                                 code 0 taken, else why it was refused */
    OPG_HYPER_ROUTE = 11,     /* amount of position's rewards routed to dst: code 1
                                 an account (credit it), 2 the community pool (funded
                                 already), 3 a position (held for its next turn) */
    OPG_HYPER_GUARD = 12,     /* amount the centralisation guard (hyper.vault_node_cap)
                                 held back from vault position's move into dst at an
                                 epoch: compounding (src zero) leaves it idle in the
                                 vault, a rebalance leaves it on src */
    OPG_HYPER_CLAIM = 9,      /* amount of a vault (position) to credit to owner (the
                                 holder): taken from the vault id's account */
    OPG_HYPER_REFUND = 7      /* amount of a deposit that was not delegated: credit owner.
                                 Never produced by a correct library: only if the registry
                                 refused a part the deposit's checks passed (an internal
                                 error, which debug builds stop at) */
} opg_hyper_move_kind;

typedef struct opg_hyper_move {
    opg_hyper_move_kind kind;
    int code;            /* OPG_HYPER_SKIPPED: the registry's refusal; else 0 */
    opg_id position;
    opg_id owner;
    opg_id src;          /* all zero bytes when the move has no source */
    opg_id dst;          /* all zero bytes when the move has no destination */
    opg_u256 amount;     /* tokens (SKIPPED: what was attempted) */
    opg_time completion; /* UNDELEGATE, REDELEGATE: maturity time; else 0 */
} opg_hyper_move;

/*
 * The moves and payouts of the last call that changed the handle, in the order they
 * happened: an array owned by the handle, valid until the next call on it (any call
 * except the queries). A call that failed changed nothing and leaves it empty.
 */
OPG_API const opg_hyper_move *opg_hyper_moves(const opg_hyper *h, size_t *count);
/*
 * The registry events of the last call other than the positions' own rewards (those
 * are moves): act on them as on opg_registry_events(). Same lifetime as the moves.
 */
OPG_API const opg_event *opg_hyper_events(const opg_hyper *h, size_t *count);

/* -------------------------------------------------------------- positions */

/*
 * Creates a position with id `position` (the delegator account it will use),
 * owned by `owner`, with `policy`, at `height`. The id must be fresh: no position,
 * no node operator, and no delegation or unbonding entry in the registry.
 * Errors: OPG_EINVAL (policy), OPG_EOVERFLOW (FIXED weights add up beyond the
 * decimal range), OPG_EEXISTS (id in use), OPG_ENOTFOUND (a FIXED node),
 * OPG_ELIMIT (owner at hyper.max_positions_per_owner), OPG_ENOMEM.
 * O(positions + pending unbonding entries) for the sorted insert and the id check.
 */
OPG_API int opg_hyper_position_create(opg_hyper *h, const opg_id *position, const opg_id *owner,
                                      const opg_hyper_policy *policy, opg_height height);
/*
 * Replaces the position's policy. Nothing moves now: the next epoch compares the
 * position with its new targets and rebalances if the drift exceeds the (new)
 * threshold. Errors as for create, OPG_ENOTFOUND (no such position).
 */
OPG_API int opg_hyper_position_set_policy(opg_hyper *h, const opg_id *position,
                                          const opg_hyper_policy *policy);
/*
 * Removes a position that holds nothing: no delegation and no pending unbonding
 * entry (withdraw everything and let it mature first), else OPG_ESTATUS.
 */
OPG_API int opg_hyper_position_close(opg_hyper *h, const opg_id *position);

/*
 * Deposits `amount` (already debited from the owner by the host): split by the
 * position's target weights now (stored scores, current registry state) and
 * delegated to each node with a part > 0, in operator id order (DELEGATE moves).
 * Rewards the registry settles on existing delegations are PAYOUT moves.
 * All-or-nothing: every part is checked by the registry's own checks and the memory
 * of every step is reserved before the first delegation, so an error changes nothing.
 * Errors: OPG_EINVAL (NULL argument), OPG_ENOTFOUND (no position, or no target node),
 * OPG_EZERO, OPG_EOVERFLOW (a part the node cannot take, or the position's deposited
 * total beyond 2^256), OPG_EINVARIANT (the splitter cannot settle a delegation's
 * rewards), OPG_EPOA (the registry is in proof-of-authority mode, staking.poa: it
 * refuses every delegation), OPG_ENOMEM. O(nodes log nodes + k) for k target nodes.
 */
OPG_API int opg_hyper_deposit(opg_hyper *h, const opg_id *position, const opg_u256 *amount,
                              opg_height height, opg_time now);
/*
 * Withdraws `amount` tokens pro rata across the position's delegations (see the
 * split rule above) by undelegating each part (UNDELEGATE moves): the tokens mature
 * after the unbonding time and are paid by the registry's end_block to the position
 * id (credit the owner). *unbonded (may be NULL) receives the total put into
 * unbonding; the registry's share rounding may make a part up to one base unit
 * smaller than asked. All-or-nothing like deposit; errors: OPG_EINVAL,
 * OPG_ENOTFOUND, OPG_EZERO, OPG_EUNDERFLOW (more than the position holds, or a part
 * the registry's share arithmetic refuses), OPG_EMAXENTRIES (a node's unbonding
 * entries for this position are at max_entries), OPG_EINSOLVENT, OPG_ELOCKED (the
 * position id voted with conviction and a tally's lock holds it), OPG_EOVERFLOW
 * (completion time out of range, or the position's tokens or withdrawn total beyond
 * 2^256), OPG_EPOA (staking.poa: the registry refuses every undelegation),
 * OPG_EINVARIANT, OPG_ENOMEM. O(nodes log nodes + k + pending unbonding entries).
 */
OPG_API int opg_hyper_withdraw(opg_u256 *unbonded, opg_hyper *h, const opg_id *position,
                               const opg_u256 *amount, opg_height height, opg_time now);

/* ------------------------------------------------------------------ epoch */

typedef struct opg_hyper_score {
    opg_id node;   /* a node's operator id, or else its consensus key */
    opg_dec score; /* performance in [0, 1] */
} opg_hyper_score;

/*
 * The epoch boundary. `scores` (may be NULL: keep the last epoch's scores) replace
 * the stored performance scores; ids naming no node are ignored. The host strategy
 * (if set) is asked for every HOST position's targets (see opg_hyper_set_strategy_fn;
 * one STRATEGY move each, first in the moves). Then, from one snapshot of the nodes
 * taken now (power, status, jailed, commission), for every position in position id
 * order:
 *   1. withdraw the rewards of each of its delegations (operator id order), apply its
 *      routes to them (ROUTE moves) and add what other positions routed to it;
 *   2. auto-compound: split what was withdrawn by the target weights and delegate
 *      each part (COMPOUND); what cannot be compounded (no target node, a refused
 *      delegation) and all rewards of other positions are a PAYOUT to the owner;
 *   3. rebalance: with T its tokens now, if some node's |tokens_i / T - w_i|
 *      (quo_truncate) exceeds rebalance_threshold, the targets are split(T, w);
 *      over-weight nodes (largest surplus first, ties by operator id) redelegate to
 *      under-weight nodes (largest deficit first, ties by id), min(surplus, deficit)
 *      per move (and at most what max_churn leaves), through opg_registry_redelegate.
 * Vaults are positions here: their PAYOUT moves become their idle tokens, and after
 * the epoch opg_hyper_vault_reports gives every vault's share price.
 * A move the registry refuses is not forced: it is reported as a SKIPPED move with
 * the registry's code and the epoch goes on (a source refused as OPG_ETRANSITIVE,
 * OPG_EINSOLVENT or OPG_EPOA is not tried again in this epoch; other refusals only
 * skip that pair). In proof-of-authority mode (staking.poa) rewards are still
 * withdrawn and routed, every compounding and rebalancing move is SKIPPED with
 * OPG_EPOA, and what was not compounded is paid out. Targets come from the snapshot, so a position's moves never depend on the
 * positions before it. *positions_done (may be NULL) receives the number of positions
 * on success (every position is processed) and 0 on any error.
 *
 * All-or-nothing over every position: the epoch first works out, for all positions,
 * the most each step may need (moves, events, new delegations, redelegation entries,
 * reward history per node) and reserves it in hyper, the registry and the splitter;
 * only then does it move stake, and nothing after that can fail. So an error changes
 * nothing (state hashes, stored scores, positions), leaves no moves, and the same call
 * repeated gives exactly what a call that never failed gives. Errors: OPG_EINVAL (NULL
 * handle, a score above 1, or two scores for one node), OPG_ENOMEM.
 * Cost: O(nodes log nodes + scores log scores) once, then per position O(nodes + k^2)
 * bookkeeping (done twice: to reserve, then to move) and O(k) registry calls plus one
 * per redelegation attempt, for k the nodes it touches. The reservation covers the
 * worst case of every position at once (per position about k + k^2 / 4 moves, the
 * event bounds of up to 3k registry calls, and k reward-history records on each node
 * it touches): capacity, kept for the next epoch, not state. (Each
 * opg_registry_redelegate call itself scans the registry's redelegation queue today;
 * see bench/bench_hyper.c for what that costs.)
 */
OPG_API int opg_hyper_epoch(size_t *positions_done, opg_hyper *h, const opg_hyper_score *scores,
                            size_t n_scores, opg_height height, opg_time now);

/* ---------------------------------------------------------------- queries */

typedef struct opg_hyper_position_info {
    opg_id id;
    opg_id owner;
    opg_hyper_policy_kind kind;
    size_t n_weights;            /* FIXED: listed nodes (opg_hyper_position_weights) */
    opg_dec max_commission;
    opg_dec cap;
    uint32_t max_nodes;
    int auto_compound;
    opg_dec rebalance_threshold;
    opg_dec max_churn;
    opg_height created_height;
    opg_u256 deposited;          /* every amount deposited */
    opg_u256 withdrawn;          /* every amount put into unbonding by withdrawals */
    opg_u256 compounded;         /* every reward re-delegated */
    opg_u256 paid_out;           /* every reward reported as PAYOUT */
    opg_u256 staked;             /* its delegations' tokens now (registry rounding) */
    size_t n_delegations;        /* its delegations now */
    opg_u256 routed_in;          /* routed here by other positions, held for its next turn */
    size_t n_routes;             /* its routes (opg_hyper_routes) */
} opg_hyper_position_info;

/* OPG_ENOTFOUND if there is no such position, OPG_EOVERFLOW if its delegations' tokens
 * add up beyond 2^256 (only possible with stake no real supply has). O(log positions + k). */
OPG_API int opg_hyper_position_get(opg_hyper_position_info *out, const opg_hyper *h,
                                   const opg_id *position);
OPG_API size_t opg_hyper_position_count(const opg_hyper *h);
/* The id of the i-th position in id order; OPG_ENOTFOUND past the end. */
OPG_API int opg_hyper_position_at(opg_id *position, const opg_hyper *h, size_t i);
/* A FIXED position's listed weights (as given, ordered by node id) into out[cap];
 * *count receives how many. OPG_EBUFS if cap is too small. */
OPG_API int opg_hyper_position_weights(opg_hyper_weight *out, size_t cap, size_t *count,
                                       const opg_hyper *h, const opg_id *position);
/*
 * The position's target weights now (stored scores, current registry state), in
 * node id order, into out[cap]; *count receives how many (0: no target node).
 * OPG_EBUFS if cap is too small, OPG_ENOMEM. O(nodes log nodes).
 */
OPG_API int opg_hyper_targets(opg_hyper_weight *out, size_t cap, size_t *count,
                              const opg_hyper *h, const opg_id *position);


/* ---------------------------------------------------------- yield routing */

/*
 * Per position, rules that send shares of its rewards elsewhere at each epoch. Of the
 * rewards an epoch withdraws for the position (step 1 of opg_hyper_epoch), each route
 * takes trunc(rewards x share), in the order given, and reports an OPG_HYPER_ROUTE
 * move (code = the route kind):
 *   ACCOUNT         credit dst with it (as a PAYOUT, to another account);
 *   COMMUNITY_POOL  the library funds the splitter's community pool with it
 *                   (opg_splitter_fund_community_pool; dst all zero bytes). A refusal
 *                   is a SKIPPED move and the part stays with the position;
 *   POSITION        hyper holds it for position dst (no host action) and adds it to
 *                   dst's rewards at dst's next turn in an epoch (this epoch if dst
 *                   comes later in id order): compounded or paid out as dst's own.
 *                   A vault destination counts it in its total assets meanwhile.
 * What the routes leave (and what other positions routed here) is then compounded or
 * paid out as before. Routed-in tokens are not routed again.
 */
#define OPG_HYPER_MAX_ROUTES 8

typedef enum opg_hyper_route_kind {
    OPG_HYPER_ROUTE_ACCOUNT = 1,
    OPG_HYPER_ROUTE_COMMUNITY_POOL = 2,
    OPG_HYPER_ROUTE_POSITION = 3
} opg_hyper_route_kind;

typedef struct opg_hyper_route {
    opg_hyper_route_kind kind;
    opg_id dst;    /* the account or position; zero for the community pool */
    opg_dec share; /* > 0; the shares of a position's routes add up to at most 1 */
} opg_hyper_route;

/*
 * Replaces the position's routes (n 0: none). OPG_EINVAL: more than
 * OPG_HYPER_MAX_ROUTES, a kind unknown, a share 0 or the shares above 1, a pool route
 * with a dst, a route listed twice, a position routing to itself, or a routing cycle
 * (following POSITION routes from a destination leads back to the position);
 * OPG_ENOTFOUND: a POSITION destination that does not exist; OPG_ENOMEM. Atomic.
 * A position that is a route's destination, or holds routed-in tokens, cannot be
 * closed (OPG_ESTATUS).
 */
OPG_API int opg_hyper_set_routes(opg_hyper *h, const opg_id *position, const opg_hyper_route *routes,
                                 size_t n);
/* The position's routes into out[cap]; *count how many. OPG_EBUFS if cap is too small. */
OPG_API int opg_hyper_routes(opg_hyper_route *out, size_t cap, size_t *count, const opg_hyper *h,
                             const opg_id *position);

/* ----------------------------------------------------------------- vaults */

/*
 * A vault is a position whose ownership is fungible shares held by many accounts, in
 * the manner of an ERC-4626 tokenised vault. Its id is the delegator account (as for
 * every position) and it is its own owner: the position's PAYOUT moves are credited
 * by the host to the vault id's account and held there as the vault's idle tokens.
 *
 * Total assets, at a height:
 *     A = staked + accrued + idle
 *   staked  the vault's delegations' tokens now (truncated, as opg_hyper_position_get):
 *           a slash of a node lowers its tokens and so enters A through here;
 *   accrued the rewards of its delegations not yet withdrawn (each truncated), and
 *           rewards other positions routed to it, held for its next epoch turn;
 *   idle    tokens the vault id's account holds for the vault: rewards paid out by the
 *           registry when a deposit or withdrawal settled a delegation, rewards an
 *           epoch could not compound, and the rounding remainder of matured claims.
 *           A vault deposit delegates the idle tokens along with the deposit.
 * Queued withdrawals are not in A: their tokens left with the shares they burned.
 *
 * Shares, with S the shares in issue and v = 10^d virtual shares (d is the vault's
 * decimals offset; OpenZeppelin's defence against the first-depositor inflation attack):
 *   to_shares(a, round) = round(a * (S + v) / (A + 1))
 *   to_assets(s, round) = round(s * (A + 1) / (S + v))
 *   deposit(a)  issues to_shares(a, down)   (the vault's benefit)
 *   mint(s)     costs  to_assets(s, up)
 *   withdraw(a) burns  to_shares(a, up)
 *   redeem(s)   pays   to_assets(s, down)
 * A donation (stake added to the vault's id by hand, or rewards) raises A for every
 * holder: with the virtual shares and assets an attacker holding s of S shares keeps at
 * most s / (S + v) of it, so skewing the price costs more than it can take. A deposit or
 * mint that would issue 0 shares is refused (OPG_EZERO) rather than taking the assets.
 *
 * Withdrawals queue through unbonding: withdraw / redeem burns the shares now, takes
 * what it can from idle and undelegates the rest pro rata (opg_hyper_withdraw's rule),
 * and fixes a claim: its idle part and, per node, the tokens put into unbonding. At
 * opg_hyper_end_block of a block whose time reaches a claim's completion the claim
 * matures: each node part becomes trunc(part x balance / initial balance) of the
 * vault's unbonding entries of that node and completion time, so a slash during
 * unbonding reduces every queued claim on that node pro rata (the rounding remainder
 * is idle). The holder then takes it with opg_hyper_vault_claim.
 *
 * Money, as the host sees it: the host debits the depositor the assets of a
 * deposit or mint, and the vault id's account the idle tokens it delegates; the
 * registry's end_block pays matured unbonding entries to the vault id; CLAIM moves
 * move tokens from the vault id's account to the holder. The vault id's account then
 * always holds idle + queued_idle + claimable (opg_hyper_vault_info).
 *
 * opg_hyper_deposit and opg_hyper_withdraw refuse a vault (OPG_ESTATUS): shares would
 * no longer describe it. opg_hyper_epoch treats vaults as positions (auto_compound is
 * required of a vault policy); a vault's PAYOUT moves become idle.
 */

typedef struct opg_hyper_vault_info {
    opg_u256 total_assets;  /* A at the height asked */
    opg_u256 staked, accrued, idle;
    opg_u256 total_shares;  /* S */
    opg_u256 queued;        /* claims not yet matured (nominal, before slashes) */
    opg_u256 queued_idle;   /* the part of `queued` taken from idle: still in the vault
                               id's account */
    opg_u256 claimable;     /* claims matured and not yet claimed */
    uint32_t decimals_offset;
    size_t n_holders;       /* accounts with shares or claims */
    opg_dec share_price;    /* to_assets(10^18 shares) / 10^18, truncated: assets per share */
} opg_hyper_vault_info;

/* Creates vault `vault` (a position owned by itself) with `policy`, which must set
 * auto_compound. Errors as opg_hyper_position_create. */
OPG_API int opg_hyper_vault_create(opg_hyper *h, const opg_id *vault, const opg_hyper_policy *policy,
                                   opg_height height);

/* Previews (no change): what deposit / mint / withdraw / redeem would issue, cost,
 * burn or pay at this height, rounded as above. OPG_ENOTFOUND (no vault),
 * OPG_EOVERFLOW. */
OPG_API int opg_hyper_vault_preview_deposit(opg_u256 *shares, const opg_hyper *h, const opg_id *vault,
                                            const opg_u256 *assets, opg_height height);
OPG_API int opg_hyper_vault_preview_mint(opg_u256 *assets, const opg_hyper *h, const opg_id *vault,
                                         const opg_u256 *shares, opg_height height);
OPG_API int opg_hyper_vault_preview_withdraw(opg_u256 *shares, const opg_hyper *h, const opg_id *vault,
                                             const opg_u256 *assets, opg_height height);
OPG_API int opg_hyper_vault_preview_redeem(opg_u256 *assets, const opg_hyper *h, const opg_id *vault,
                                           const opg_u256 *shares, opg_height height);

/*
 * deposit: `assets` (debited from `holder` by the host) buys preview_deposit shares
 * for `holder`; mint: `shares` for `holder` cost preview_mint assets (the host debits
 * *assets_out). The assets plus the vault's idle are delegated by the position's
 * targets (DELEGATE moves), under the centralisation guard. All-or-nothing. Errors:
 * OPG_EINVAL, OPG_ENOTFOUND, OPG_EZERO (0 assets or 0 shares), OPG_ELIMIT (the guard),
 * OPG_EOVERFLOW, the errors of opg_hyper_deposit, OPG_ENOMEM. *_out may be NULL.
 */
OPG_API int opg_hyper_vault_deposit(opg_u256 *shares_out, opg_hyper *h, const opg_id *vault,
                                    const opg_id *holder, const opg_u256 *assets, opg_height height,
                                    opg_time now);
OPG_API int opg_hyper_vault_mint(opg_u256 *assets_out, opg_hyper *h, const opg_id *vault,
                                 const opg_id *holder, const opg_u256 *shares, opg_height height,
                                 opg_time now);
/*
 * withdraw: burns preview_withdraw(assets) of holder's shares for a claim of `assets`;
 * redeem: burns `shares` for a claim of preview_redeem(shares). The claim's node parts
 * are what the registry put into unbonding (its share rounding may make a part up to
 * one base unit smaller: that stays with the vault). *claim_id (may be NULL) receives
 * the claim's id, *out (may be NULL) the shares burned (withdraw) or the assets of the
 * claim (redeem). All-or-nothing. Errors: OPG_EINVAL, OPG_ENOTFOUND, OPG_EZERO,
 * OPG_EUNDERFLOW (holder's shares too few, or more than idle plus staked: run an epoch
 * so the accrued rewards compound), the errors of opg_hyper_withdraw, OPG_ENOMEM.
 */
OPG_API int opg_hyper_vault_withdraw(opg_u256 *shares_out, uint64_t *claim_id, opg_hyper *h,
                                     const opg_id *vault, const opg_id *holder, const opg_u256 *assets,
                                     opg_height height, opg_time now);
OPG_API int opg_hyper_vault_redeem(opg_u256 *assets_out, uint64_t *claim_id, opg_hyper *h,
                                   const opg_id *vault, const opg_id *holder, const opg_u256 *shares,
                                   opg_height height, opg_time now);
/* Moves `shares` of vault from `from` to `to` (from == to is allowed: no change).
 * OPG_EINVAL, OPG_ENOTFOUND, OPG_EZERO, OPG_EUNDERFLOW, OPG_ENOMEM; atomic.
 * O(log holders) plus the insert of a new holder. */
OPG_API int opg_hyper_vault_transfer(opg_hyper *h, const opg_id *vault, const opg_id *from,
                                     const opg_id *to, const opg_u256 *shares);
/* Pays `holder` every matured claim of the vault (one CLAIM move); *amount (may be
 * NULL) receives it. OPG_ENOTFOUND (no vault or holder), OPG_EZERO (nothing matured). */
OPG_API int opg_hyper_vault_claim(opg_u256 *amount, opg_hyper *h, const opg_id *vault, const opg_id *holder);

/*
 * Call once per block, BEFORE opg_registry_end_block of that block and with the same
 * time: matures every vault claim whose completion time is at or before now (MATURED
 * moves), reading the vault's unbonding entries before the registry pays them out.
 * The claims wait in a queue by completion time, so the cost is O(log claims) plus
 * what matures (each part: O(entries completing at that time)), not a scan of vaults.
 * OPG_ESTATUS if a due claim's unbonding entries are gone (the registry's end_block ran
 * first); OPG_ENOMEM. All-or-nothing.
 */
OPG_API int opg_hyper_end_block(opg_hyper *h, opg_height height, opg_time now);

OPG_API int opg_hyper_vault_get(opg_hyper_vault_info *out, const opg_hyper *h, const opg_id *vault,
                                opg_height height);
/* holder's shares and its matured, unclaimed claims (0 and 0 for an unknown holder). */
OPG_API int opg_hyper_vault_balance(opg_u256 *shares, opg_u256 *claimable, const opg_hyper *h,
                                    const opg_id *vault, const opg_id *holder);
OPG_API int opg_hyper_vault_holder_at(opg_id *holder, const opg_hyper *h, const opg_id *vault, size_t i);

typedef struct opg_hyper_vault_report {
    opg_id vault;
    opg_u256 total_assets;
    opg_u256 total_shares;
    opg_dec share_price;
    opg_u256 guard_held; /* the amounts of the vault's OPG_HYPER_GUARD moves, summed */
} opg_hyper_vault_report;
/* The share price of every vault after the last successful opg_hyper_epoch, and what
 * the centralisation guard held back from it, in vault id order; same lifetime as the
 * moves. */
OPG_API const opg_hyper_vault_report *opg_hyper_vault_reports(const opg_hyper *h, size_t *count);

/* ----------------------------------------------------------- saved state */

/*
 * Canonical state: params, the stored scores (by operator id), and the positions in
 * id order with their policies and totals. The delegations themselves are part of
 * the registry's state. *len receives the size needed; OPG_EBUFS if cap is too small.
 */
OPG_API int opg_hyper_save(uint8_t *buf, size_t cap, size_t *len, const opg_hyper *h);
/* Loads onto r and s (loaded first). OPG_ECORRUPT, OPG_EVERSION, OPG_EINVAL, OPG_ENOMEM. */
OPG_API int opg_hyper_load(opg_hyper **out, opg_registry *r, opg_splitter *s,
                           const uint8_t *buf, size_t len, const opg_allocator *alloc);
/* BLAKE2b-256 (personalised for the hyper kind) of exactly the bytes save writes. */
OPG_API int opg_hyper_state_hash(uint8_t out[32], const opg_hyper *h);

#ifdef __cplusplus
}
#endif

#endif /* OPG_HYPER_H */
