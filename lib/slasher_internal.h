/*
 * slasher_internal.h - the slashing engine's handle, shared by slasher.c (handle,
 * parameters, liveness, hooks, saved state) and slasher_evidence.c (votes, the
 * evidence codec, double-sign and faulty-inference handling).
 *
 * Per node the slasher keeps a signing info and a bit-packed missed-block bitmap,
 * indexed by the registry's node slot (slots are stable while a node exists; the
 * registry's node_removed hook clears a slot before it can be reused). The arrays
 * grow in the engine prepare hook when the registry is about to create a node in a
 * slot past them, so the apply hooks never allocate.
 *
 * A slasher call that slashes makes several registry calls (slash, jail,
 * tombstone) inside one registry bracket (opgi_slasher_enter / opgi_slasher_leave),
 * so their events append to the registry's list and the host finds every effect of
 * the slasher call there. Everything the slashes need (events, the registry's and
 * the engines' memory, the records) is reserved before the first of them.
 */
#ifndef OPG_SLASHER_INTERNAL_H
#define OPG_SLASHER_INTERNAL_H

#include "opg_slasher.h"

#include "records.h"
#include "registry_internal.h"

typedef struct opgi_sinfo {
    opg_height start_height;
    uint64_t index_offset;
    uint64_t missed;
    uint8_t has; /* the slot's node has a signing info (it has been bonded) */
} opgi_sinfo;

/* A remembered faulty-inference evidence id: its infraction, and its expiry fixed
 * when it was accepted (forgotten once height > expire_height and now > expire_time). */
typedef struct opgi_seen {
    opg_id id;
    opg_height height;
    opg_time time;
    opg_height expire_height;
    opg_time expire_time;
} opgi_seen;

/* A faulty-inference slash in the correlation window. */
typedef struct opgi_corr {
    opg_time time;
    uint32_t fault_class;
    opg_u256 stake; /* the node's tokens just before the slash */
} opgi_corr;

/* A pending (deferred) slash: opg_pending_slash's fields, the kept factor (1 -
 * cancelled) and the reporter share fixed at the decision, and the tokens the power
 * meant then (power * staking.power_reduction at the decision: the apply uses it, so
 * a later change of power_reduction changes nothing). */
typedef struct opgi_pending {
    uint64_t id;
    uint8_t reason;
    opg_id node;
    uint32_t fault_class;
    opg_height infraction_height;
    uint64_t power;
    opg_u256 power_tokens; /* power * power_reduction at the decision */
    opg_dec fraction;
    opg_height created_height;
    opg_time created_time;
    opg_time due_time;
    opg_u256 node_part, entries_part, total;
    opg_dec keep;
    opg_id reporter;
    opg_dec reporter_share;
} opgi_pending;

struct opg_slasher {
    opg_allocator alloc;
    char err[OPGI_ERRMSG_MAX];
    opg_registry *reg;
    int attached;
    opg_slasher_params params; /* fault_classes is NULL: the classes are below */
    opg_fault_class *classes;  /* ascending id */
    size_t n_classes, classes_cap;
    opgi_records records;      /* the committed records and the touches since */

    /* per registry node slot */
    uint32_t cap;
    opgi_sinfo *info;
    uint64_t *bits; /* cap * words words; node slot k's bitmap at bits + k * words */
    size_t words;   /* 64-bit words per bitmap: ceil(window / 64) */
    uint8_t *mark;  /* scratch of record_commit, one byte per slot */
    /* slots whose signing record changed in place since the last commit (not state) */
    uint8_t *dirty;
    uint32_t *dirty_list;
    size_t n_dirty;

    opgi_seen *seen; /* ascending id */
    size_t n_seen, seen_cap;
    /* the latest infraction height and time of a forgotten id (0 and INT64_MIN:
     * none): faulty-inference evidence at or before both is refused as too old */
    opg_height forgot_height;
    opg_time forgot_time;
    opgi_corr *corr; /* ascending time, then insertion */
    size_t n_corr, corr_cap;
    opgi_pending *pending; /* ascending id */
    size_t n_pending, pending_cap;
    uint64_t next_pending_id; /* the id the next pending slash gets (from 1) */
    /* ids of pending records changed since the last commit (not state): the commit
     * touches them, so a call reserves only this list (opgi_slasher_pending_reserve) */
    uint64_t *ptouch;
    size_t n_ptouch, ptouch_cap;

    /* outputs of the last call (not state) */
    opg_slasher_record *recs;
    size_t n_recs, recs_cap;
    uint32_t *scratch;
    size_t scratch_cap;
};

extern const opgi_param_table opgi_slasher_param_table;

/* slasher.c: the handle's life and its per-slot arrays. */
opg_slasher *opgi_slasher_alloc(const opg_allocator *alloc, opg_registry *r);
int opgi_slasher_attach(opg_slasher *s);
/* Grows the per-slot arrays to ncap slots, all or nothing (OPG_ENOMEM). */
int opgi_slasher_grow(opg_slasher *s, uint32_t ncap);
/* s->words from the window in s->params (OPG_ENOMEM if it cannot be addressed). */
int opgi_slasher_window_words(opg_slasher *s);
int opgi_slasher_class_ok(const opg_fault_class *c);

/* slasher_records.c: what a call changes, for the next commit. Touches are reserved
 * first (OPG_ENOMEM), as for every handle; a node's records are its signing record
 * and its missed chunks (opgi_slasher_touches_of_node of them). A slot's signing
 * record changed in place is only marked dirty (no reservation: the commit touches
 * the marked slots). */
int opgi_slasher_touch_reserve(opg_slasher *s, size_t more);
size_t opgi_slasher_touches_of_node(const opg_slasher *s);
void opgi_slasher_touch_signing(opg_slasher *s, uint32_t slot);
void opgi_slasher_touch_missed(opg_slasher *s, uint32_t slot, uint64_t bit);
void opgi_slasher_touch_node(opg_slasher *s, uint32_t slot);
void opgi_slasher_touch_seen(opg_slasher *s, const opg_id *id);
void opgi_slasher_touch_corr(opg_slasher *s, size_t i);
void opgi_slasher_dirty(opg_slasher *s, uint32_t slot);

/* Starts a mutating call: no records, no error text, no registry events. */
void opgi_slasher_begin(opg_slasher *s);
/* The check phase of the slashes of one call: room for `records` records (and as
 * many pending slashes and their record touches, for deferred slashes), for the
 * slashes of the n nodes in slots for an infraction at `infraction`
 * (opgi_registry_slashes_prepare) and `events` more
 * events, then a registry bracket is open. Changes no state. */
int opgi_slasher_enter(opg_slasher *s, const uint32_t *slots, size_t n, opg_height infraction,
                       opg_height height, opg_time now, size_t events, size_t records);
void opgi_slasher_leave(opg_slasher *s);
/* The slash rec describes (reason, node, fault_class, infraction_height, power,
 * fraction, reporter) of the node in slot, inside the bracket: opg_registry_slash at
 * once into rec->slash, or with slashing.defer_duration > 0 a pending slash planned
 * now (rec->pending_id; rec->slash all 0). Room for the pending slash and its record
 * was reserved by opgi_slasher_enter. */
int opgi_slasher_slash(opg_slasher *s, uint32_t slot, opg_slasher_record *rec, opg_height height,
                       opg_time now, int allow_unbonded);
/* Room for `more` pending-record changes (opgi_slasher_touch_pending) and, with
 * `slashes`, for `more` new pending slashes (OPG_ENOMEM, nothing changed). */
int opgi_slasher_pending_reserve(opg_slasher *s, size_t more, int slashes);
void opgi_slasher_touch_pending(opg_slasher *s, uint64_t id);
/* Index of the pending slash with this id, or SIZE_MAX. O(log pending). */
size_t opgi_slasher_pending_find(const opg_slasher *s, uint64_t id);

/*
 * The cancel of a pending slash in three steps, for governance actions executed at
 * a tally's end_block (OPG_PROPOSAL_CANCEL_SLASH), which stage several actions, check
 * all, reserve all, then apply all:
 *  - check reads only: OPG_EINVAL (fraction NULL, 0 or above 1), OPG_ENOTFOUND (no
 *    pending slash with this id, or one of the `n_staged` cancels staged before it
 *    in the same end_block cancels it wholly). Partial cancels staged before it do
 *    not matter to the check (each applies to what the previous left). The detail
 *    goes to err (OPGI_ERRMSG_MAX bytes) when err is not NULL.
 *  - reserve makes room for the records `n` cancels change (OPG_ENOMEM).
 *  - apply cannot fail once every cancel of the batch passed check (in order, with
 *    the ones before it as staged) and reserve(n) was made: it cancels as
 *    opg_slasher_cancel_deferred documents; a slash already cancelled wholly by an
 *    earlier apply of the batch is a no-op (the check refused that already).
 * opg_slasher_cancel_deferred is check (nothing staged), reserve(1), apply.
 */
typedef struct opgi_cancel_staged {
    uint64_t slash_id;
    opg_dec fraction;
} opgi_cancel_staged;
int opgi_slasher_cancel_check(const opg_slasher *s, uint64_t slash_id, const opg_dec *fraction,
                              const opgi_cancel_staged *staged, size_t n_staged, char *err);
int opgi_slasher_cancel_reserve(opg_slasher *s, size_t n);
void opgi_slasher_cancel_apply(opg_slasher *s, uint64_t slash_id, const opg_dec *fraction);
/* The fault class with this id, or NULL. O(log classes). */
const opg_fault_class *opgi_slasher_class(const opg_slasher *s, uint32_t id);
/* OPG_OK and the length if c is a valid chain id (1..50 bytes of 0x21..0x7e and a
 * NUL within the buffer), OPG_EINVAL otherwise. */
int opgi_chain_id_len(const char *c, size_t *len);
/* Slot of the node with this consensus key, or OPGI_NONE: a binary search of the
 * registry's key index. O(log nodes). */
uint32_t opgi_slasher_node_by_key(const opg_registry *r, const opg_id *key);
/* now + d, saturating at OPG_TIME_FOREVER (d >= 0). */
opg_time opgi_time_after(opg_time now, opg_time d);

#endif /* OPG_SLASHER_INTERNAL_H */
