/*
 * tally_internal.h - the governance tally's records, shared by tally.c (handle,
 * proposals, deposits, votes, queries), tally_close.c (the tally, end_block, cancel,
 * parameter changes) and tally_state.c (save, load, hash).
 */
#ifndef OPG_TALLY_INTERNAL_H
#define OPG_TALLY_INTERNAL_H

#include "opg_tally.h"

#include "registry_internal.h"

/* Weight 1 as a raw decimal; every vote weight is in (0, OPGI_P] and fits 64 bits. */
#define OPGI_TALLY_OPTIONS 4

/* A vote: the voter, the raw weight of each option (index option - 1; 0 = not
 * chosen) and its conviction (0 unless cast with one; conviction voting). 72 bytes,
 * so a million votes take 72 MB plus the index. */
typedef struct opgi_tvote {
    opg_id voter;
    uint64_t w[OPGI_TALLY_OPTIONS];
} opgi_tvote;

/* A conviction lock: the account's staked tokens stay until `until`. */
typedef struct opgi_tlock {
    opg_id account;
    opg_time until;
} opgi_tlock;

typedef struct opgi_tdeposit {
    opg_id depositor;
    opg_u256 amount;
} opgi_tdeposit;

typedef struct opgi_tprop {
    uint64_t id;
    opg_id proposer;
    uint8_t kind;      /* opg_proposal_kind */
    uint8_t status;    /* opg_proposal_status */
    uint8_t expedited;
    opg_time submit_time, deposit_end;
    opg_time voting_start, voting_end; /* 0 in the deposit period */
    opg_u256 total_deposit;
    /* title, summary, then the content: PARAMS "key\0value\0" per change, PAYLOAD bytes */
    uint8_t *blob;
    size_t blob_len;
    uint32_t title_len, summary_len, n_changes;
    /* deposits sorted by depositor */
    opgi_tdeposit *deps;
    uint32_t n_deps, deps_cap;
    /* votes in arrival order (a replacement overwrites in place), with an open
     * addressing index by voter, at most half full: 0 = empty, else
     * (hash32 << 32) | (slot + 1). The stored hash lets a probe skip other voters
     * without touching their records and lets the index grow without reading them. */
    opgi_tvote *votes;
    uint32_t n_votes, votes_cap;
    uint64_t *vidx;
    uint32_t vidx_cap; /* 0 or a power of two */
    /* the conviction of each vote slot below convs_cap; a slot past it (or no array:
     * no vote ever had one) is conviction 0. Apart from the records, so a vote stays
     * 64 bytes and a tally without conviction voting reads no more. */
    uint8_t *convs;
    uint32_t convs_cap;
} opgi_tprop;

/* The conviction of vote slot s. */
static inline unsigned opgi_tvote_conviction(const opgi_tprop *p, uint32_t s)
{
    return s < p->convs_cap ? p->convs[s] : 0;
}
/* Room to record a conviction for vote slot s (OPG_ENOMEM: nothing changed). */
int opgi_tprop_convs_reserve(const opg_allocator *a, opgi_tprop *p, uint32_t s);

/* An attached parameter namespace: keys starting with prefix go to ns. An engine's
 * namespace acts on handle; a host's (a live namespace, wrapped once in tally.c) on
 * this record, which holds the host's handle and functions. */
typedef struct opgi_ttarget {
    char prefix[OPG_TALLY_PREFIX_MAX + 1];
    size_t prefix_len;
    const opgi_param_ns *ns;
    void *handle;
    opg_tally_param_set_fn set; /* host namespaces only */
    opg_tally_param_get_fn get;
} opgi_ttarget;

#define OPGI_TALLY_MAX_TARGETS 12

struct opg_tally {
    opg_allocator alloc;
    char err[OPGI_ERRMSG_MAX];
    opg_registry *reg;
    opg_tally_params params;
    uint64_t next_id;

    /* open proposals, sorted by id (ids only grow, so submit appends) */
    opgi_tprop **props;
    size_t n_props, props_cap;

    opg_tally_balance_fn balance_fn;
    void *balance_user;
    opgi_ttarget targets[OPGI_TALLY_MAX_TARGETS];
    size_t n_targets;

    /* conviction locks in arrival order (a later lock raises the record in place,
     * expiry compacts in order), with an open addressing index by account as the
     * votes have, at most half full; lock_min is at most the earliest end
     * (derived: expiry scans the locks once now reaches it) */
    opgi_tlock *locks;
    uint32_t n_locks, locks_cap;
    uint64_t *lidx;
    uint32_t lidx_cap;
    opg_time lock_min;
    opgi_unbond_guard guard; /* linked into reg while the tally lives */

    /* output of the last end_block or cancel */
    opg_tally_closed *out;
    size_t n_out, out_cap;
    opg_tally_deposit_entry *out_refunds;
    size_t out_refunds_cap;
    uint8_t *out_bytes;
    size_t out_bytes_cap;
};

extern const opgi_param_table opgi_tally_param_table;

/* Position of the proposal with this id, or n_props if there is none. */
size_t opgi_tally_find(const opg_tally *t, uint64_t id);
opgi_tprop *opgi_tally_prop(const opg_tally *t, uint64_t id);
/* Frees a proposal record and everything it owns. */
void opgi_tprop_free(const opg_allocator *a, opgi_tprop *p);
/* Removes the proposal at position i from the list (and frees it). */
void opgi_tally_remove_at(opg_tally *t, size_t i);
/* Makes room for one more proposal in the list. */
int opgi_tally_props_reserve(opg_tally *t);
/* Minimum deposit for a proposal (expedited or not): OPG_EOVERFLOW never happens for
 * valid params (the validator checks it). */
void opgi_tally_min_deposit(opg_u256 *out, const opg_tally_params *p, int expedited);
/* a + b seconds, saturating at OPG_TIME_FOREVER (both >= 0 for b). */
opg_time opgi_time_add(opg_time a, opg_time b);
/* (Re)builds a proposal's vote index at capacity cap (power of two, >= 2 * n_votes). */
int opgi_tprop_index_build(const opg_allocator *a, opgi_tprop *p, uint32_t cap);
/* Checks a raw weight vector: each in [0, 1], at least one nonzero, sum exactly 1. */
int opgi_tally_weights_valid(const uint64_t w[OPGI_TALLY_OPTIONS]);

/* Conviction: 0.1x and 1x..6x; lock periods 0, 1, 2, 4, 8, 16, 32. */
#define OPGI_CONVICTION_MAX 6
/* The lock of a vote with conviction c on a proposal ending at voting_end under p
 * (0 for conviction 0: no lock). */
opg_time opgi_conviction_lock(const opg_tally_params *p, opg_time voting_end, unsigned c);
/* Slot of account's lock, or UINT32_MAX. */
uint32_t opgi_lock_find(const opg_tally *t, const opg_id *account);
/* (Re)builds the lock index at capacity cap (power of two, >= 2 * n_locks). */
int opgi_lock_index_build(opg_tally *t, uint32_t cap);
/* Recomputes lock_min. */
void opgi_lock_min_update(opg_tally *t);
/* Drops the locks whose end is <= now (cannot fail: the index is rebuilt in place). */
void opgi_locks_expire(opg_tally *t, opg_time now);

/* Sorts n records of `stride` bytes starting with an opg_id by that id into
 * order[0..n) with scratch keys[2n], tmp[n] (the votes' and the locks' order). */
void opgi_tally_sort_ids(uint32_t *order, const void *base, size_t stride, size_t n,
                         uint64_t *keys, uint32_t *tmp);

/* Sorts the votes of p by voter id into order[0..n_votes) using scratch of
 * 2 * n_votes uint64_t and n_votes uint32_t (see opgi_vote_sort_scratch). */
void opgi_tally_sort_votes(uint32_t *order, const opgi_tprop *p, uint64_t *keys,
                           uint32_t *tmp);

/* Content of a PARAMS proposal: change i as pointers into the blob. */
void opgi_tprop_change(const opgi_tprop *p, size_t i, const char **key, const char **value);

/* Start of a call that produces an output list: clears it and the error text. */
void opgi_tally_out_clear(opg_tally *t);
/* Makes room for `records` output records, `refunds` refund entries and `bytes`
 * payload bytes (the list is empty when this is called). */
int opgi_tally_out_reserve(opg_tally *t, size_t records, size_t refunds, size_t bytes);

/* The namespace that owns key: the tally's ("gov.") and the registry's
 * ("staking.") first, else the attached one with the longest matching prefix
 * ({NULL, NULL}: none). */
opgi_param_ref opgi_tally_resolve(opg_tally *t, const char *key);
/* Attaches ns on handle under each of its prefixes (handle NULL detaches it). */
int opgi_tally_attach_ns(opg_tally *t, const opgi_param_ns *ns, void *handle);

/* ------------------------------------------------------ governance actions */

/*
 * A governance action is a proposal kind whose effect is an action on a library
 * handle rather than parameter text (ADD_VALIDATOR and REMOVE_VALIDATOR on the
 * registry; more kinds plug in the same way). Each kind is one opgi_action_kind in
 * the table of tally_action.c, found by opgi_action_find; the tally's submit, save,
 * load, hash, query and end_block know nothing more of it.
 *
 * Data. An action proposal carries data_len canonical bytes (portable: ids as bytes,
 * integers big-endian, amounts and decimals as lib/codec.h writes them) at the end of
 * its blob, after title and summary. encode writes them at submit from the submit
 * struct (shape checks only, OPG_EINVAL with err saying why); data_ok checks saved
 * bytes at load (0: OPG_ECORRUPT); info fills the public query struct. Save and hash
 * write them as u32 length + bytes.
 *
 * end_block. Phase A works out every close in close order; for each passed action
 * proposal it stages one opgi_staged_action (ax->st[ax->n], zeroed, kind, p and data
 * set, leaves_set OPGI_NONE):
 *   stage(ax, st, err)  checks the action against the live handle, the actions
 *                       staged before it in this end_block (ax->st[0 .. ax->n)) and
 *                       the parameters as staged so far
 *                       (opgi_param_txn_view(ax->x, ns, handle), NULL: unchanged);
 *                       records what apply needs in st->u. It changes no state
 *                       (capacity it grows, an engine's prepare, is not state).
 *                       Returns 0 (the action is staged: ax->n grows), a refusal (the
 *                       proposal is FAILED with failed_code, nothing of it applied,
 *                       err saying why), or OPG_ENOMEM (the whole end_block fails).
 *                       An action that changes the stake later tallies read says so:
 *                       st->leaves_set, a node slot that leaves the voting set, and
 *                       st->bonded_less, tokens that leave the bonded total.
 * After the last stage, before the parameter transaction's reserve (which sizes for
 * what the actions grew, and adds its records room on top of theirs):
 *   reserve(ax, err)    obtains every piece of memory the applies of the staged
 *                       actions need. It is called once per distinct reserve function
 *                       among the staged kinds (kinds on one handle share one and see
 *                       all of that handle's actions, ax->st filtered by kind).
 *                       OPG_ENOMEM only (a refusal here would be a bug: stage found
 *                       them), with nothing left obtained.
 * Phase B, after the parameter transaction's commit, in close order:
 *   apply(ax, st)       the effect; cannot fail. Every parameter change of the
 *                       end_block is in force by then, so close order is decided in
 *                       stage: what apply needs of the parameters as they stood at
 *                       the action's place in the order, stage records in st->u.
 * Then, and when the end_block fails after a reserve succeeded:
 *   end(ax, applied)    (may be NULL) once per reserve that succeeded: closes what it
 *                       opened (the registry's event bracket) and frees what apply
 *                       did not take.
 * A new kind adds: its opg_proposal_kind value and submit field (opg_tally.h), its
 * opgi_action_kind row, and its member of opgi_staged_action.u (and, for a new
 * handle, that handle's fields in opgi_actions). A slasher action, for instance, finds
 * the slasher through the tally's attachment (opgi_tally_resolve of "slashing.x").
 */
#define OPGI_ACTION_DATA_MAX 512 /* bytes of one action's data */

typedef struct opgi_actions opgi_actions;
typedef struct opgi_staged_action opgi_staged_action;

typedef struct opgi_action_kind {
    uint8_t kind;    /* its opg_proposal_kind */
    size_t data_len; /* bytes of its data, at most OPGI_ACTION_DATA_MAX */
    int (*encode)(uint8_t *data, const opg_proposal_submit *s, char *err);
    int (*data_ok)(const uint8_t *data);
    void (*info)(opg_proposal_action *out, const uint8_t *data);
    int (*stage)(opgi_actions *ax, opgi_staged_action *st, char *err);
    int (*reserve)(opgi_actions *ax, char *err);
    void (*apply)(opgi_actions *ax, opgi_staged_action *st);
    void (*end)(opgi_actions *ax, int applied);
} opgi_action_kind;

struct opgi_staged_action {
    const opgi_action_kind *kind;
    const opgi_tprop *p;
    const uint8_t *data;   /* the proposal's data_len bytes */
    uint32_t leaves_set;   /* a node slot out of the voting set from here on, or OPGI_NONE */
    opg_u256 bonded_less;  /* tokens out of the bonded total from here on */
    union {
        struct { /* ADD_VALIDATOR */
            opg_node_create c;
            opg_dec shares;
            uint32_t slot; /* set by reserve */
        } add;
        struct { /* REMOVE_VALIDATOR */
            opg_id operator_id;
            uint32_t node;
            opgi_unbond_plan plan;
        } remove;
        struct { /* CANCEL_SLASH */
            uint64_t slash_id;
            opg_dec fraction;
        } cancel;
        uint64_t raw[64]; /* room for a kind's record */
    } u;
};

struct opgi_actions {
    opg_tally *t;
    const opgi_param_txn *x; /* the parameters staged so far */
    opg_height height;
    opg_time now;
    opgi_staged_action *st;  /* staged, in close order */
    size_t n, cap;
    const opgi_action_kind *reserved[8]; /* the kinds whose reserve succeeded */
    size_t n_reserved;
    /* the registry's actions */
    opg_u256 minted;  /* what the staged ADDs mint */
    int reg_bracket;  /* reserve opened the registry's event bracket */
    /* the slasher's actions */
    opg_slasher *slasher; /* the attached slasher the staged cancels act on */
};

/* The kind's row, or NULL for a kind that is no action (TEXT, PARAMS, PAYLOAD). */
const opgi_action_kind *opgi_action_find(unsigned kind);
/* Offset of an action proposal's data in its blob. */
const uint8_t *opgi_tprop_action_data(const opgi_tprop *p);

/* The mechanism as end_block drives it: begin (room for cap stagings, ENOMEM), stage
 * one passed proposal (stage's result), reserve (every group), apply (every staged
 * action in order, then every end), and end (frees; a reserved group's end(0) when
 * apply did not run). */
int opgi_actions_begin(opgi_actions *ax, opg_tally *t, size_t cap, opg_height height,
                       opg_time now);
int opgi_actions_stage(opgi_actions *ax, const opgi_param_txn *x, const opgi_tprop *p,
                       const opgi_action_kind *k, char *err);
int opgi_actions_reserve(opgi_actions *ax, char *err);
void opgi_actions_apply(opgi_actions *ax);
void opgi_actions_end(opgi_actions *ax);

#endif /* OPG_TALLY_INTERNAL_H */
