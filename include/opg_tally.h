/*
 * opg_tally.h - governance: proposals, deposits, weighted votes, the Cosmos x/gov v1
 * tally and parameter changes (SEMANTICS.md section 5).
 *
 * A tally is created on a registry and reads its nodes and delegations directly at
 * the close of each voting period; nothing is kept per delegation, so a stake change
 * needs no bookkeeping here. The registry must outlive the tally.
 *
 * A proposal's life:
 *   opg_tally_submit       text, parameter change (key=value list), an opaque payload
 *                          for the host, or a governance action (add or remove a
 *                          validator); optionally expedited; with an initial deposit
 *   opg_tally_deposit      deposits accumulate per depositor; reaching min_deposit
 *                          (expedited: min_deposit * min_deposit_expedited_ratio)
 *                          starts the voting period
 *   opg_tally_vote         yes / abstain / no / no_with_veto, plain or weighted, during
 *                          the voting period; a later vote replaces the earlier one
 *                          (opg_tally_vote_conviction: with a conviction, Extension)
 *   opg_tally_end_block    removes proposals whose deposit period ended, tallies those
 *                          whose voting period ended, burns or refunds deposits,
 *                          applies passed parameter changes and governance actions;
 *                          the host reads what closed with opg_tally_closed_list()
 *   opg_tally_cancel       the proposer withdraws it (part of the deposits is burned)
 *
 * Who holds what. Deposits are tokens the host has taken from the depositors' accounts
 * and holds for the tally (they are still part of the registry's total supply but of
 * no pool). When a proposal closes, the host pays back each refund to its depositor;
 * burned deposits are recorded by the tally in the registry's supply ledger
 * (opg_registry_supply: `burned` grows), so the host only deletes them. For that
 * reason the registry's total supply must include the deposits (a genesis supply of
 * 0 refuses the burn: OPG_EUNDERFLOW).
 *
 * Closed proposals leave the tally's state: the record handed out by end_block (or
 * cancel) is the host's to keep (**Differs** from Cosmos, which keeps finished
 * proposals in its store). Proposal ids start at 1 and are never reused.
 *
 * As in Cosmos v0.50: an expedited proposal that does not pass (vetoed included) is
 * not burned or refunded but goes on as a regular one, and its votes are gone (the
 * Cosmos tally deletes every vote it counts), so voters vote again; a proposal that
 * passes is refunded even if its parameter change then fails; cancelling burns
 * proposal_cancel_ratio of each deposit (Cosmos may send it elsewhere instead).
 * Arithmetic is exact on wide integers, so values where Cosmos would panic on
 * decimal overflow are computed (counts saturate at 2^256 - 1).
 *
 * All conventions of opg_core.h apply: a failed call changes nothing (the state hash
 * stays as it was), one thread per handle at a time.
 */
#ifndef OPG_TALLY_H
#define OPG_TALLY_H

#include "opg_core.h"
#include "opg_pricer.h"
#include "opg_registry.h"
#include "opg_slasher.h"
#include "opg_splitter.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct opg_tally opg_tally;

/* Limits on what a proposal carries (bytes, without a NUL). */
#define OPG_TALLY_TITLE_MAX 256
#define OPG_TALLY_SUMMARY_MAX 10000
#define OPG_TALLY_PAYLOAD_MAX 1048576
#define OPG_TALLY_CHANGES_MAX 64 /* changes in one parameter-change proposal */
#define OPG_TALLY_KEY_MAX 63     /* characters of a parameter key */
#define OPG_TALLY_VALUE_MAX 511  /* characters of a parameter value (also of an old one) */
#define OPG_TALLY_PREFIX_MAX 31  /* characters of an attached namespace prefix */

/* ------------------------------------------------------------- parameters */

typedef struct opg_tally_params {
    opg_u256 min_deposit;        /* "gov.min_deposit"; default 10,000,000; at least 1 */
    /* "gov.min_deposit_expedited_ratio"; default 5: an expedited proposal needs
     * trunc(min_deposit * ratio), which must exceed min_deposit */
    opg_dec min_deposit_expedited_ratio;
    opg_time max_deposit_period; /* "gov.max_deposit_period", seconds; default 2 days */
    opg_time voting_period;      /* "gov.voting_period"; default 2 days */
    opg_time expedited_voting_period; /* "gov.expedited_voting_period"; default 1 day,
                                       * less than voting_period */
    opg_dec quorum;              /* "gov.quorum"; default 0.334, in [0, 1] */
    opg_dec threshold;           /* "gov.threshold"; default 0.5, in (0, 1] */
    opg_dec expedited_threshold; /* "gov.expedited_threshold"; default 0.667, > threshold */
    opg_dec veto_threshold;      /* "gov.veto_threshold"; default 0.334, in (0, 1] */
    int burn_vote_quorum;        /* "gov.burn_vote_quorum"; default false */
    int burn_vote_veto;          /* "gov.burn_vote_veto"; default true */
    int burn_proposal_deposit_prevote; /* "gov.burn_proposal_deposit_prevote"; default false */
    /* "gov.liquid_weight" (Extension, held tokens); default 0, in [0, 1]: a voter's
     * liquid balance counts mul_truncate(balance, liquid_weight) of voting power */
    opg_dec liquid_weight;
    /* "gov.proposal_cancel_ratio"; default 0.5, in [0, 1]: share of each deposit burned
     * when the proposer cancels */
    opg_dec proposal_cancel_ratio;
    /* "gov.conviction_voting" (Extension, Polkadot's conviction-voting pallet);
     * default false: the tally is exactly Cosmos'. See "Conviction voting" below. */
    int conviction_voting;
    /* "gov.vote_locking_period", seconds, at least 1; default 7 days (Kusama's
     * VoteLockingPeriod; Polkadot's relay chain uses 28): the lock of one period */
    opg_time vote_locking_period;
} opg_tally_params;

/* Fills *params with the documented defaults (the Cosmos x/gov v1 defaults). */
OPG_API void opg_tally_params_init(opg_tally_params *params);

/* ------------------------------------------------------------ the handle */

/*
 * Creates a tally on registry r (which must outlive it). params may be NULL
 * (defaults); alloc may be NULL (realloc/free). Errors: OPG_EINVAL (r NULL or params
 * out of range or breaking a rule), OPG_ENOMEM.
 */
OPG_API int opg_tally_new(opg_tally **out, opg_registry *r, const opg_tally_params *params,
                          const opg_allocator *alloc);
/* Frees the tally and everything it owns. NULL is fine. */
OPG_API void opg_tally_free(opg_tally *t);
/* Detail text of the last failed call on this tally ("" if none). Never NULL. */
OPG_API const char *opg_tally_last_error(const opg_tally *t);

/* Sets a "gov.*" parameter by key and decimal text (booleans "true"/"false").
 * OPG_EKEY unknown key, OPG_EPARSE bad text, OPG_EINVAL out of range or breaking a
 * rule (expedited_threshold > threshold, expedited_voting_period < voting_period,
 * expedited min deposit > min_deposit). Atomic. */
OPG_API int opg_tally_param_set(opg_tally *t, const char *key, const char *value);
/* Reads a parameter as text into buf[cap]; OPG_EBUFS with *needed if too small. */
OPG_API int opg_tally_param_get(char *buf, size_t cap, size_t *needed, const opg_tally *t,
                                const char *key);
/* The i-th parameter key (0-based), NULL past the last. */
OPG_API const char *opg_tally_param_key(size_t i);
/* The parameters in force. */
OPG_API void opg_tally_params_get(opg_tally_params *out, const opg_tally *t);

/* ------------------------------------------------------- host attachments */

/*
 * Held tokens (Extension). When gov.liquid_weight > 0, end_block asks the host for
 * each voter's liquid balance through this callback (once per voter of each
 * proposal that closes, in voter id order) and adds mul_truncate(balance,
 * liquid_weight) to that voter's voting power. Return 0 with *balance set, or an
 * OPG_E* code: end_block then fails with it and changes nothing. Without a
 * callback, liquid balances count as 0. fn NULL removes it. Not saved.
 */
typedef int (*opg_tally_balance_fn)(void *user, const opg_id *account, opg_u256 *balance);
OPG_API void opg_tally_set_balance_fn(opg_tally *t, opg_tally_balance_fn fn, void *user);

/*
 * Parameter-change proposals address handles by key namespace:
 *   staking.*                        the registry the tally was created on (always)
 *   gov.*                            this tally (always)
 *   fees.*                           a pricer attached with opg_tally_attach_pricer
 *   distribution.* mint.* emission.* a splitter attached with opg_tally_attach_splitter
 *   slashing.* evidence.*            a slasher attached with opg_tally_attach_slasher
 *   other                            a namespace the host attaches with
 *                                    opg_tally_attach_params (its own modules)
 * A key whose namespace has nothing attached when the proposal passes fails that
 * proposal (OPG_EKEY). Attachments are runtime links, not state: attach again after
 * a load. Every attached handle must outlive its attachment.
 *
 * All or nothing: a passed proposal's changes apply in order, each with the rules of
 * its handle's own param_set, or none does. Every change to a library handle is
 * staged on a copy first; only host namespaces are trusted to set back their old
 * values. A slasher takes one proposal's changes as one step (it ends with the
 * values the sequence leaves): a step that ends on another signed_blocks_window
 * restarts the liveness bitmaps, a window set and set back within it changes
 * nothing. A refused change (a value out of range, a rule, a host's refusal, no
 * such key or namespace) fails the proposal with nothing applied; running out of
 * memory is never an outcome, see opg_tally_end_block.
 */

/* Attaches (or with pricer NULL detaches) the pricer that "fees.*" changes go to.
 * The pricer must outlive the attachment. OPG_EEXISTS if "fees." is attached with
 * opg_tally_attach_params. */
OPG_API int opg_tally_attach_pricer(opg_tally *t, opg_pricer *pricer);

/* Attaches (or with NULL detaches) the splitter that "distribution.*", "mint.*" and
 * "emission.*" changes go to. OPG_EEXISTS if one of those prefixes is attached with
 * opg_tally_attach_params; OPG_ENOMEM if the namespaces are full. */
OPG_API int opg_tally_attach_splitter(opg_tally *t, opg_splitter *splitter);
/* Attaches (or with NULL detaches) the slasher that "slashing.*" and "evidence.*"
 * changes go to. Errors as for opg_tally_attach_splitter. */
OPG_API int opg_tally_attach_slasher(opg_tally *t, opg_slasher *slasher);

typedef int (*opg_tally_param_set_fn)(void *handle, const char *key, const char *value);
typedef int (*opg_tally_param_get_fn)(char *buf, size_t cap, size_t *needed, void *handle,
                                      const char *key);
/*
 * Attaches a namespace: keys starting with `prefix` (1..OPG_TALLY_PREFIX_MAX
 * characters ending in '.') go to set/get on `handle`. The two functions follow the
 * opg_*_param_set/get contract: set is atomic (a refused value changes nothing) and
 * get gives back text (at most OPG_TALLY_VALUE_MAX characters) that set accepts.
 * When a proposal passes, end_block first validates its changes to the library's
 * handles, then reads the old value of each of its keys in this namespace, sets the
 * new values in order and, if one is refused, sets the old values back in reverse
 * order (so set must restore exactly what get read) and the proposal is FAILED with
 * that code. The same happens to every set of the call when the end_block fails.
 * A host namespace's sets are made while end_block stages its proposals, before the
 * library's handles take any change of that end_block: a set must not depend on
 * library state that the same end_block changes.
 * These callbacks are the host's responsibility: their answers must be deterministic
 * (the same on every replica), since a refusal is a consensus outcome. OPG_ENOMEM
 * from get or set is a local condition, never an outcome: the whole end_block then
 * fails with it, every namespace put back, and may be retried. set
 * NULL detaches the prefix. Errors: OPG_EINVAL (bad prefix, "staking." or "gov."),
 * OPG_EEXISTS (already attached: detach first), OPG_ENOMEM (more than 12 namespaces
 * in all, the engines' included).
 */
OPG_API int opg_tally_attach_params(opg_tally *t, const char *prefix, void *handle,
                                    opg_tally_param_set_fn set, opg_tally_param_get_fn get);

/* -------------------------------------------------------------- proposals */

typedef enum opg_proposal_kind {
    OPG_PROPOSAL_TEXT = 0,   /* signalling only: nothing is executed */
    OPG_PROPOSAL_PARAMS = 1, /* parameter changes, applied all-or-nothing when passed */
    OPG_PROPOSAL_PAYLOAD = 2, /* opaque bytes the host executes when passed */
    OPG_PROPOSAL_ADD_VALIDATOR = 3,   /* governance creates a node (see below) */
    OPG_PROPOSAL_REMOVE_VALIDATOR = 4, /* governance takes a node's self-stake (see below) */
    OPG_PROPOSAL_CANCEL_SLASH = 5     /* governance cancels a deferred slash (see below) */
} opg_proposal_kind;

/*
 * Validator-set proposals (the proof-of-authority phase, staking.poa; allowed whether
 * or not it is on). They are governance actions: a passed one acts on the registry
 * the tally was created on, in close order with the parameter changes of the same
 * end_block (a later proposal sees an earlier one's staged parameters and actions),
 * after those changes are made. A refused action is FAILED (failed_change 0,
 * failed_code the registry's code) with nothing of it applied.
 *
 * OPG_PROPOSAL_ADD_VALIDATOR (opg_proposal_submit.validator): exactly the checks and
 * the effect of opg_registry_node_create (operator and consensus key not in use,
 * a canonical key never tombstoned, roles, commission rules under
 * staking.min_commission_rate as staged so far, min_self_delegation > 0 and
 * self_delegation >= it), without the PoA refusal: governance is the one allowed to
 * add. The self-delegation's tokens are created for it and recorded as minted in the
 * registry's supply ledger (in PoA stake is authority granted by governance, not an
 * account's tokens): OPG_EOVERFLOW if the supply would not fit. The node starts
 * unbonded and joins the active set at the registry's next end_block by its power.
 * An ADD sees the nodes as the end_block found them plus the ADDs passed before it
 * in the same end_block: a second ADD of the same operator or key fails
 * (OPG_EEXISTS), as does an ADD of an operator whose node a REMOVE before it takes
 * the stake of (the node is still there).
 *
 * OPG_PROPOSAL_REMOVE_VALIDATOR (opg_proposal_submit.operator_id): the operator's
 * whole self-delegation to its node is removed and its tokens burned (recorded in
 * the ledger), the mirror of the mint, through the registry's undelegation (every
 * engine hook runs: the splitter pays out the delegation's rewards; events are
 * emitted) but with no unbonding entry. The self-bond is then 0, below
 * min_self_delegation, so the node is jailed at once, cannot unjail, and leaves the
 * active set at the registry's next end_block (an unbonded node with no other stake
 * is removed). Other delegations to it (only possible outside PoA) stay; their
 * owners may undelegate. No such node (a node added in the same end_block is not
 * there yet) or no self-delegation left (a REMOVE before it in the same end_block
 * took it): OPG_ENOTFOUND. Tallies closing after a REMOVE in the same end_block see
 * its node out of the voting set and its self-stake out of the bonded total (other
 * delegations to it stay bonded), as Cosmos, which jails before the next proposal is
 * tallied. A conviction lock of the operator (gov.conviction_voting) does not stop a
 * REMOVE: it refuses the account's own undelegations, not governance's action, so a
 * validator cannot vote its way out of being removed.
 *
 * The tally in PoA mode: the rules are unchanged. Voting power is stake, and in PoA
 * the only stake is each validator's self-delegation granted by ADD_VALIDATOR, so
 * the Cosmos tally counts each validator's power (its bonded tokens): governance
 * "by power". Give validators equal stake for one validator, one vote.
 *
 * OPG_PROPOSAL_CANCEL_SLASH (opg_proposal_submit.slash_id and cancel_fraction, in
 * (0, 1]): exactly opg_slasher_cancel_deferred on the slasher attached to the tally
 * (opg_tally_attach_slasher) when the proposal passes: a fraction of 1 removes the
 * pending slash, a smaller one scales what it will take by 1 - fraction (truncated).
 * Several cancels of one slash in the same end_block apply in close order, each to
 * what the one before it left (a half then a half leave a quarter). Refusals
 * (FAILED): OPG_EKEY (no slasher attached), OPG_ENOTFOUND (no pending slash with
 * this id: it was applied, cancelled wholly, or a cancel before it in the same
 * end_block cancelled it wholly). Run the tally's end_block before the slasher's
 * (opg_slasher_end_block), so a slash that falls due in the block a cancel passes is
 * cancelled, not applied.
 *
 * When a passed action is applied, opg_tally_end_block opens a registry call: the
 * registry's event list (opg_registry_events) then holds what the actions did.
 */

typedef enum opg_proposal_status {
    OPG_PROPOSAL_DEPOSIT_PERIOD = 1,
    OPG_PROPOSAL_VOTING_PERIOD = 2
} opg_proposal_status;

/* One change of a parameter-change proposal: "staking.max_validators" = "150". */
typedef struct opg_param_change {
    const char *key;   /* 1..OPG_TALLY_KEY_MAX characters, NUL-terminated */
    const char *value; /* 0..OPG_TALLY_VALUE_MAX characters, NUL-terminated */
} opg_param_change;

typedef struct opg_proposal_submit {
    opg_id proposer;
    opg_proposal_kind kind;
    int expedited;              /* 0 or 1 */
    opg_u256 initial_deposit;   /* may be 0 (no deposit record then) */
    const char *title;          /* optional (NULL), up to OPG_TALLY_TITLE_MAX bytes */
    const char *summary;        /* optional (NULL), up to OPG_TALLY_SUMMARY_MAX bytes */
    const opg_param_change *changes; /* OPG_PROPOSAL_PARAMS: 1..OPG_TALLY_CHANGES_MAX */
    size_t change_count;
    const uint8_t *payload;     /* OPG_PROPOSAL_PAYLOAD: up to OPG_TALLY_PAYLOAD_MAX bytes */
    size_t payload_len;
    /* OPG_PROPOSAL_ADD_VALIDATOR: the node to create (copied; ignored for other kinds) */
    const opg_node_create *validator;
    /* OPG_PROPOSAL_REMOVE_VALIDATOR: the operator whose self-delegation goes (copied;
     * ignored for other kinds) */
    const opg_id *operator_id;
    /* OPG_PROPOSAL_CANCEL_SLASH: the pending slash's id (opg_slasher_pending_get) and
     * the fraction of it to cancel, in (0, 1] (ignored for other kinds) */
    uint64_t slash_id;
    opg_dec cancel_fraction;
} opg_proposal_submit;

/*
 * Submits a proposal at block time now; *proposal_id receives its id. The deposit
 * period ends at now + max_deposit_period; if the initial deposit already reaches
 * the minimum (expedited: trunc(min_deposit * min_deposit_expedited_ratio)) the
 * voting period starts now and ends at now + voting_period (expedited:
 * expedited_voting_period). Times saturate at OPG_TIME_FOREVER. Parameter keys and
 * values are checked for shape only (lengths, a '.' in the key); whether they are
 * valid is decided when the proposal passes. A validator proposal is checked for
 * what does not depend on state: ADD needs `validator` with a non-empty set of
 * roles, a canonical Ed25519 consensus key, max_rate <= 1, rate and max_change_rate
 * <= max_rate, min_self_delegation > 0 and self_delegation >= it; REMOVE needs
 * `operator_id`; neither carries changes or a payload.
 * Errors: OPG_EINVAL (kind, lengths, change count, expedited not 0/1, a validator
 * proposal's shape), OPG_ENOMEM.
 */
OPG_API int opg_tally_submit(uint64_t *proposal_id, opg_tally *t, const opg_proposal_submit *p,
                             opg_time now);

/*
 * Adds amount to the depositor's deposit on a proposal in its deposit or voting
 * period, i.e. any open proposal until the end_block that closes it (the host has
 * taken the tokens). If the proposal is in its deposit period and the total now
 * reaches the minimum, its voting period starts now;
 * *voting_started (may be NULL) says whether that happened.
 * Errors: OPG_ENOTFOUND, OPG_EZERO (amount 0), OPG_EOVERFLOW, OPG_ENOMEM.
 * O(depositors of the proposal).
 */
OPG_API int opg_tally_deposit(int *voting_started, opg_tally *t, uint64_t proposal_id,
                              const opg_id *depositor, const opg_u256 *amount, opg_time now);

typedef enum opg_vote_option {
    OPG_VOTE_YES = 1,
    OPG_VOTE_ABSTAIN = 2,
    OPG_VOTE_NO = 3,
    OPG_VOTE_NO_WITH_VETO = 4
} opg_vote_option;

typedef struct opg_weighted_vote {
    opg_vote_option option;
    opg_dec weight; /* in (0, 1] */
} opg_weighted_vote;

/*
 * Casts (or replaces) voter's vote on a proposal in its voting period: n (1..4)
 * distinct options whose weights, each in (0, 1], add up to exactly 1. Any account
 * may vote; its power is counted at the close (its delegations to bonded nodes, the
 * node it operates, and held tokens when enabled). As in Cosmos the period is a
 * status, not a clock: votes are taken until the end_block that closes it. With
 * gov.conviction_voting on this is a vote of conviction 0 (Polkadot's "None": 0.1x,
 * no lock; see opg_tally_vote_conviction); off, it is Cosmos' vote.
 * Errors: OPG_ENOTFOUND, OPG_ESTATUS (not in the voting period), OPG_EVOTE (options
 * or weights invalid), OPG_ENOMEM. O(1) expected.
 */
OPG_API int opg_tally_vote(opg_tally *t, uint64_t proposal_id, const opg_id *voter,
                           const opg_weighted_vote *options, size_t n);
/* A plain vote: one option with weight 1. Same errors as opg_tally_vote. */
OPG_API int opg_tally_vote_option(opg_tally *t, uint64_t proposal_id, const opg_id *voter,
                                  opg_vote_option option);

/*
 * Conviction voting (Extension; Polkadot's conviction-voting pallet), on while
 * gov.conviction_voting is true. A vote carries a conviction 0..6 that multiplies
 * the voter's power and locks the voter's staked tokens after the voting period:
 *
 *   conviction     0     1    2    3    4    5    6
 *   multiplier     0.1x  1x   2x   3x   4x   5x   6x
 *   lock periods   none  1    2    4    8    16   32
 *
 * Locks. A vote with conviction c >= 1 locks the voter until voting_end + periods(c)
 * * gov.vote_locking_period (saturating at OPG_TIME_FOREVER), with the proposal's
 * voting_end and the period in force when the vote is cast: a lock is fixed then.
 * A voter has one lock, the latest end over all its votes (the maximum, not a sum);
 * a replaced or a later vote never shortens it, and neither does the close,
 * cancelling or the conversion of an expedited proposal (its votes are gone and its
 * voting_end moves later: a voter who votes again is locked to the new end).
 * Conviction 0 (Polkadot's "None") locks nothing. While now < its lock's end the
 * registry refuses opg_registry_undelegate for that delegator (on every node, the
 * hyperstaking withdrawals included) with OPG_ELOCKED; opg_registry_redelegate and
 * opg_registry_cancel_unbonding keep the tokens staked and are allowed. The locks
 * are the tally's state (save, load, hash); the tally links its guard into the
 * registry when it is created or loaded and unlinks it when freed, so the registry
 * refuses only while a tally holding locks is attached to it (a host restores both
 * before it runs a block). Since the registry's undelegation then reads the tally,
 * the two are used from one thread at a time. end_block drops the
 * locks whose end is <= now. Turning the extension off leaves the locks in force
 * until they end.
 *
 * The tally with the extension on, per vote: the power of the voter's own
 * delegations (and of the node it operates: its self-delegation is its own) is
 * multiplied by the vote's multiplier; power a node inherits from delegators that
 * did not vote has no lock behind it (those delegators may leave at any time), so
 * it counts at 0.1x, the unlocked multiplier, whatever the operator's conviction;
 * held tokens (gov.liquid_weight) are not locked either and count at 0.1x. Each
 * term is multiplied before the options' weights are applied: x c exactly for
 * c >= 1, and for 0.1x power * 10^17 / 10^18 rounded half to even (Dec.Mul), term
 * by term, so the sums stay exact and independent of order. As in Polkadot, turnout
 * is unweighted: the quorum compares the unweighted power that voted with the
 * bonded tokens, while the veto and pass thresholds compare weighted results. The
 * counts of opg_tally_closed and the preview's results and total_power are
 * weighted; the preview's turnout is the unweighted power. Votes cast while the
 * extension was on keep their conviction if it is turned off; a tally then is
 * plain Cosmos (every vote at 1x). With the extension off no vote has a conviction
 * and the tally, its counts and outcomes are exactly Cosmos'.
 */

/* Conviction with the extension on (plain opg_tally_vote is conviction 0). */
#define OPG_CONVICTION_MAX 6

/*
 * opg_tally_vote with a conviction 0..OPG_CONVICTION_MAX at block time now (now is
 * not read by the rules: as for opg_tally_vote the period is a status, and the lock
 * runs from the proposal's voting_end). A conviction >= 1 creates or raises the
 * voter's lock (see above). Errors as opg_tally_vote, and OPG_EINVAL (conviction
 * above 6, or gov.conviction_voting off: then every conviction is refused, 0
 * included, since none is Cosmos' plain vote; use opg_tally_vote). The lock
 * saturates, so there is no OPG_EOVERFLOW. A refusal changes nothing (OPG_ENOMEM
 * included: the lock's room is reserved with the vote's). O(1) expected.
 */
OPG_API int opg_tally_vote_conviction(opg_tally *t, uint64_t proposal_id, const opg_id *voter,
                                      const opg_weighted_vote *options, size_t n,
                                      unsigned conviction, opg_time now);
/* The conviction of the voter's current vote (0 for a vote cast plainly).
 * OPG_ENOTFOUND (no proposal or no vote). O(1) expected. */
OPG_API int opg_tally_vote_conviction_get(unsigned *conviction, const opg_tally *t,
                                          uint64_t proposal_id, const opg_id *voter);
/* The end of account's lock into *until. OPG_ENOTFOUND if it has none (never
 * locked, or dropped by an end_block at or after its end); a lock that has ended
 * but is not dropped yet is still reported (it refuses nothing). O(1) expected. */
OPG_API int opg_tally_lock_get(opg_time *until, const opg_tally *t, const opg_id *account);
/* Number of locks held (ended ones not yet dropped included). */
OPG_API size_t opg_tally_lock_count(const opg_tally *t);

/*
 * The proposer cancels a proposal in its deposit period or in a voting period that
 * has not ended (voting_end >= now). Each deposit loses
 * trunc(amount * proposal_cancel_ratio), which is burned (and recorded in the
 * registry's ledger); the rest is refunded. Votes and the proposal are removed. The
 * outcome (OPG_TALLY_CANCELLED) is read with opg_tally_closed().
 * Errors: OPG_ENOTFOUND, OPG_EINVAL (not the proposer), OPG_ESTATUS (voting period
 * over), OPG_EUNDERFLOW (burn above the registry's total supply), OPG_ENOMEM.
 */
OPG_API int opg_tally_cancel(opg_tally *t, uint64_t proposal_id, const opg_id *proposer,
                             opg_time now);

/* ------------------------------------------------------------ the block */

typedef enum opg_tally_outcome {
    OPG_TALLY_PASSED = 1,    /* passed; a parameter change was applied, a payload is the
                              * host's to execute */
    OPG_TALLY_REJECTED = 2,  /* rejected (deposits burned or refunded per the rules) */
    OPG_TALLY_FAILED = 3,    /* passed, but a parameter change (or the governance action)
                              * was refused: none applied */
    OPG_TALLY_REMOVED = 4,   /* deposit period ended below the minimum */
    OPG_TALLY_CANCELLED = 5, /* cancelled by the proposer */
    /* an expedited proposal that did not pass: it goes on as a regular one until
     * voting_start + voting_period, with its deposits and without votes (Cosmos
     * removes the votes when it tallies). Not closed: no deposits move. */
    OPG_TALLY_CONVERTED = 6
} opg_tally_outcome;

typedef struct opg_tally_counts {
    opg_u256 yes, abstain, no, no_with_veto; /* truncate_int of each result */
} opg_tally_counts;

typedef struct opg_tally_deposit_entry {
    opg_id depositor;
    opg_u256 amount;
} opg_tally_deposit_entry;

typedef struct opg_tally_closed {
    uint64_t proposal_id;
    opg_tally_outcome outcome;
    opg_proposal_kind kind;
    opg_id proposer;
    int expedited;            /* tallied under the expedited rules */
    opg_tally_counts counts;  /* zero for REMOVED and CANCELLED */
    /* Deposits to pay back, by depositor id; zero amounts are left out. */
    const opg_tally_deposit_entry *refunds;
    size_t refund_count;
    opg_u256 refunded;        /* sum of the refunds */
    opg_u256 burned;          /* burned and recorded in the registry's ledger */
    /* FAILED: index of the refused change and the code its handle gave (OPG_EKEY:
     * nothing attached for its namespace or no such key; never OPG_ENOMEM); for a
     * governance action, 0 and the code of its refusal */
    uint32_t failed_change;
    int failed_code;
    /* PAYLOAD proposals that PASSED: the bytes to execute (else NULL, 0) */
    const uint8_t *payload;
    size_t payload_len;
} opg_tally_closed;

/*
 * Closes the block at time now (height is used only by governance actions: the
 * registry calls they make, and their hooks, run at height and now). In this order:
 *   1. proposals in their deposit period with deposit_end <= now, by (deposit_end,
 *      id): removed, deposits refunded (burned if burn_proposal_deposit_prevote);
 *   2. proposals in their voting period with voting_end <= now, by (voting_end, id):
 *      tallied (SEMANTICS §5, exactly Cosmos v0.50 x/gov Tally) under the
 *      parameters in force at that moment, so a parameter change passed by one
 *      proposal applies to the tallies after it in the same call, as in Cosmos.
 *      Passed: deposits refunded, a parameter change applied all-or-nothing (else
 *      FAILED, nothing applied), a governance action checked against the handle
 *      and the actions and parameters staged before it (else FAILED) and applied
 *      after the parameter changes, in close order. Expedited and not passed:
 *      CONVERTED. Otherwise rejected, deposits burned (quorum missed and burn_vote_quorum; veto over the
 *      threshold and burn_vote_veto) or refunded.
 * What closed is read with opg_tally_closed_list(). All or nothing: before it
 * changes any handle the call reserves every piece of memory the close needs, asks
 * the host for balances, works out every tally and stages every passed change on
 * copies (host namespaces are set then, the only thing done in place) and reserves
 * what every governance action needs (also in the engines on the registry); so a failure
 * leaves the tally and every attached handle (registry, splitter, slasher, pricer)
 * as they were, host namespaces set back, and the same call retried gives exactly
 * what it would have given without the failure. Deposits that may burn (those of every proposal that
 * closes, when a burn flag is on or a gov.* change closes) must lie within the
 * registry's total supply.
 * Errors: OPG_ENOMEM (also a host namespace's); OPG_EUNDERFLOW (deposits that may
 * burn above the registry's total supply); a balance callback's code.
 * Last, after a successful close (also when nothing closes), the conviction locks
 * whose end is <= now are dropped (O(locks) in a block where one ends).
 * Cost: O(proposals) plus, per closing proposal, O(bonded nodes log bonded nodes +
 * votes * delegations per voter) and a radix sort of its votes; per governance
 * action, O(actions before it) and the registry's cost of its operation.
 */
OPG_API int opg_tally_end_block(opg_tally *t, opg_height height, opg_time now);

/*
 * The proposals closed (or converted) by the last opg_tally_end_block or
 * opg_tally_cancel on this tally, in the order they were handled; *count receives
 * how many. The array and everything it points to belong to the tally and stay valid
 * until the next end_block, cancel or free. A failed call leaves an empty list.
 */
OPG_API const opg_tally_closed *opg_tally_closed_list(const opg_tally *t, size_t *count);

/* ---------------------------------------------------------------- queries */

typedef struct opg_proposal_info {
    uint64_t id;
    opg_id proposer;
    opg_proposal_kind kind;
    opg_proposal_status status;
    int expedited;
    opg_time submit_time;
    opg_time deposit_end;
    opg_time voting_start;   /* 0 in the deposit period */
    opg_time voting_end;     /* 0 in the deposit period */
    opg_u256 total_deposit;
    size_t deposit_count;
    size_t vote_count;
    size_t change_count;     /* OPG_PROPOSAL_PARAMS */
    /* Owned by the tally, valid until the next call that changes it; not NUL-terminated. */
    const char *title;
    size_t title_len;
    const char *summary;
    size_t summary_len;
    const uint8_t *payload;  /* OPG_PROPOSAL_PAYLOAD */
    size_t payload_len;
} opg_proposal_info;

/* OPG_ENOTFOUND if no open proposal has this id. O(log proposals). */
OPG_API int opg_tally_proposal_get(opg_proposal_info *out, const opg_tally *t,
                                   uint64_t proposal_id);
/* Number of open proposals (deposit or voting period). */
OPG_API size_t opg_tally_proposal_count(const opg_tally *t);
/* The i-th open proposal in id order; OPG_ENOTFOUND past the end. */
OPG_API int opg_tally_proposal_at(opg_proposal_info *out, const opg_tally *t, size_t i);
/* Change i of a parameter-change proposal; the strings belong to the tally and stay
 * valid until the next call that changes it. OPG_ENOTFOUND. O(changes). */
OPG_API int opg_tally_proposal_change(opg_param_change *out, const opg_tally *t,
                                      uint64_t proposal_id, size_t i);
/* What a governance-action proposal does when it passes. */
typedef struct opg_proposal_action {
    opg_proposal_kind kind;
    opg_node_create validator; /* OPG_PROPOSAL_ADD_VALIDATOR: the node to create */
    opg_id operator_id;        /* OPG_PROPOSAL_REMOVE_VALIDATOR: the operator */
    uint64_t slash_id;         /* OPG_PROPOSAL_CANCEL_SLASH: the pending slash ... */
    opg_dec cancel_fraction;   /* ... and the fraction of it to cancel */
} opg_proposal_action;

/* The action of an open ADD_VALIDATOR, REMOVE_VALIDATOR or CANCEL_SLASH proposal (fields of the
 * other kind zero). OPG_ENOTFOUND (no open proposal with this id), OPG_EINVAL (a
 * proposal of another kind). O(log proposals). */
OPG_API int opg_tally_proposal_action(opg_proposal_action *out, const opg_tally *t,
                                      uint64_t proposal_id);

/* The proposal's deposits by depositor id into out[cap]; *count receives how many.
 * OPG_EBUFS (with *count) if cap is too small, OPG_ENOTFOUND. */
OPG_API int opg_tally_deposits(opg_tally_deposit_entry *out, size_t cap, size_t *count,
                               const opg_tally *t, uint64_t proposal_id);
/* The voter's current vote: its options in option order into out[4], *n how many.
 * OPG_ENOTFOUND (no proposal or no vote). O(1) expected. */
OPG_API int opg_tally_vote_get(opg_weighted_vote out[4], size_t *n, const opg_tally *t,
                               uint64_t proposal_id, const opg_id *voter);

typedef struct opg_tally_preview_result {
    opg_tally_counts counts;     /* truncate_int of each result */
    opg_dec results[4];          /* the results before truncation, by option - 1 */
    opg_dec total_power;         /* voting power that voted (sum over options) */
    opg_u256 bonded_total;       /* tokens of every bonded node, jailed ones included */
    opg_tally_outcome outcome;   /* PASSED, REJECTED or CONVERTED (expedited, not passed) */
    int burn;                    /* the deposits would be burned */
    opg_dec turnout;             /* unweighted voting power that voted (the quorum's);
                                  * equals total_power with the extension off */
} opg_tally_preview_result;

/*
 * Tallies a proposal in its voting period as if it closed now, changing nothing
 * (Cosmos' tally query). Calls the balance callback when liquid_weight > 0. Values
 * beyond 256 bits (only with host balances beyond any supply) saturate.
 * Errors: OPG_ENOTFOUND, OPG_ESTATUS (deposit period), OPG_ENOMEM, a callback's code.
 */
OPG_API int opg_tally_preview(opg_tally_preview_result *out, const opg_tally *t,
                              uint64_t proposal_id);

/* ---------------------------------------------------------- saved state */

/*
 * Writes the canonical state (versioned header, parameters, next id, proposals by id
 * each with its deposits by depositor and votes by voter, conviction locks by
 * account) into buf[cap]; *len
 * receives the size needed. OPG_EBUFS if cap is too small (buf NULL, cap 0 asks the
 * size), OPG_ENOMEM (sorting the votes). O(proposals + deposits + votes), votes radix
 * sorted.
 */
OPG_API int opg_tally_save(uint8_t *buf, size_t cap, size_t *len, const opg_tally *t);
/* Creates a tally on registry r from saved bytes (attachments and the balance
 * callback are not state: set them again; the lock guard is linked as by
 * opg_tally_new). Version 2 carries the governance actions' data and conviction
 * voting; version 1 (before both) loads with the extension off, no convictions, no
 * locks and no action kinds (one there is OPG_ECORRUPT). OPG_ECORRUPT (malformed, trailing bytes,
 * out of order, inconsistent), OPG_EVERSION, OPG_ENOMEM. */
OPG_API int opg_tally_load(opg_tally **out, opg_registry *r, const uint8_t *buf, size_t len,
                           const opg_allocator *alloc);
/* BLAKE2b-256 (personalised "opg.tally") of exactly the bytes save would write.
 * OPG_ENOMEM (out untouched). */
OPG_API int opg_tally_state_hash(uint8_t out[32], const opg_tally *t);

#ifdef __cplusplus
}
#endif

#endif /* OPG_TALLY_H */
