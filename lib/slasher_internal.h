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
 * tombstone), each of which starts a fresh event list. The slasher copies each
 * call's events into its own buffer and, at the end, puts them all back into the
 * registry's list, so the host sees every effect of the slasher call. Room for all
 * of them (in both lists) is reserved before the first registry call.
 */
#ifndef OPG_SLASHER_INTERNAL_H
#define OPG_SLASHER_INTERNAL_H

#include "opg_slasher.h"

#include "registry_internal.h"

typedef struct opgi_sinfo {
    opg_height start_height;
    uint64_t index_offset;
    uint64_t missed;
    uint8_t has; /* the slot's node has a signing info (it has been bonded) */
} opgi_sinfo;

/* A remembered faulty-inference evidence id. */
typedef struct opgi_seen {
    opg_id id;
    opg_height height;
    opg_time time;
} opgi_seen;

/* A faulty-inference slash in the correlation window. */
typedef struct opgi_corr {
    opg_time time;
    uint32_t fault_class;
    opg_u256 stake; /* the node's tokens just before the slash */
} opgi_corr;

struct opg_slasher {
    opg_allocator alloc;
    char err[OPGI_ERRMSG_MAX];
    opg_registry *reg;
    int attached;
    opg_slasher_params params; /* fault_classes is NULL: the classes are below */
    opg_fault_class *classes;  /* ascending id */
    size_t n_classes;

    /* per registry node slot */
    uint32_t cap;
    opgi_sinfo *info;
    uint64_t *bits; /* cap * words words; node slot k's bitmap at bits + k * words */
    size_t words;   /* 64-bit words per bitmap: ceil(window / 64) */
    uint8_t *mark;  /* scratch of record_commit, one byte per slot */

    opgi_seen *seen; /* ascending id */
    size_t n_seen, seen_cap;
    opgi_corr *corr; /* ascending time, then insertion */
    size_t n_corr, corr_cap;

    /* outputs of the last call (not state) */
    opg_slasher_record *recs;
    size_t n_recs, recs_cap;
    opg_event *ev;
    size_t n_ev, ev_cap;
    uint32_t *scratch;
    size_t scratch_cap;
};

extern const opgi_param_table opgi_slasher_param_table;

/* Starts a mutating call: no records, no error text, no registry events. */
void opgi_slasher_begin(opg_slasher *s);
/* Events one opg_registry_slash of the node in `slot` may append at most. */
size_t opgi_slasher_slash_events(const opg_slasher *s, uint32_t slot);
/* Reserves room for `events` events in the slasher's buffer and the registry's list,
 * and `records` records. Clears the registry's events. */
int opgi_slasher_reserve(opg_slasher *s, size_t events, size_t records);
/* opg_registry_slash of the node in slot; on success its events are kept. */
int opgi_slasher_slash(opg_slasher *s, uint32_t slot, opg_height infraction, uint64_t power,
                       const opg_dec *fraction, opg_height height, opg_time now,
                       opg_slash_result *res, int allow_unbonded);
/* Jails the node until `until`, or extends a jail in force to `until` if later.
 * Returns 1 if it jailed the node now, 0 if it was jailed already. Cannot fail
 * once opgi_slasher_reserve has run. */
int opgi_slasher_jail(opg_slasher *s, uint32_t slot, opg_time until);
/* Puts the kept events back into the registry's list (room was reserved). */
void opgi_slasher_flush_events(opg_slasher *s);
/* Appends one event to the kept events (room was reserved); NULL if none left. */
opg_event *opgi_slasher_event(opg_slasher *s, opg_event_kind kind, const opgi_node *node);
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
