/*
 * hyper_internal.h - the hyperstaking handle's state, shared by hyper.c (handle,
 * positions, targets, queries), hyper_ops.c (deposit, withdraw, epoch) and
 * hyper_state.c (save, load, hash).
 *
 * Stake moves go through the registry's and the splitter's public calls only. Reads
 * of the registry's records (nodes, a delegator's chain, the unbonding queue), the
 * registry's check phase (opgi_check_delegate, opgi_check_unbond_amount), the event
 * bounds and call bracket, and the capacity reservations that make a sequence of
 * calls allocation-free (see reserve_and_enter in hyper_ops.c) are the only uses of
 * their internals.
 */
#ifndef OPG_HYPER_INTERNAL_H
#define OPG_HYPER_INTERNAL_H

#include "opg_hyper.h"

#include "registry_internal.h"
#include "splitter_internal.h"

/* A position. The FIXED weights are kept sorted by node id. */
typedef struct opgi_hpos {
    opg_id id;
    opg_id owner;
    uint8_t kind;          /* opg_hyper_policy_kind */
    uint8_t auto_compound;
    uint32_t max_nodes;
    opg_dec max_commission;
    opg_dec cap;
    opg_dec threshold;
    opg_height created_height;
    opg_u256 deposited, withdrawn, compounded, paid_out;
    opg_hyper_weight *weights;
    uint32_t n_weights;
} opgi_hpos;

/* How many positions an owner holds (sorted by owner; derived, not saved). */
typedef struct opgi_howner {
    opg_id owner;
    uint32_t count;
} opgi_howner;

struct opg_hyper {
    opg_allocator alloc;
    char err[OPGI_ERRMSG_MAX];
    opg_registry *reg;
    opg_splitter *spl;
    opg_hyper_params params;

    opgi_hpos **pos;            /* sorted by id */
    size_t n_pos, cap_pos;
    opgi_howner *owners;        /* sorted by owner */
    size_t n_owners, cap_owners;

    opg_hyper_score *scores;    /* by operator id; only when has_scores */
    size_t n_scores;
    int has_scores;

    /* output of the last call */
    opg_hyper_move *moves;
    size_t n_moves, cap_moves;
    opg_event *events;
    size_t n_events, cap_events;
};

/* A target node: operator id (copied: slots may empty during a call), slot, weight. */
typedef struct opgi_htgt {
    opg_id op;
    uint32_t slot;
    uint8_t capped; /* scratch of the cap rule */
    opg_dec w;
} opgi_htgt;

/* A bonded usable node with a positive score, for PERFORMANCE policies. */
typedef struct opgi_hcand {
    uint32_t slot;
    opg_dec score;
    opg_dec rate;
} opgi_hcand;

/* The node view targets are computed from (taken once per call). */
typedef struct opgi_hsnap {
    uint8_t *usable;      /* per registry slot: exists, not jailed, not insolvent */
    uint32_t n_slots;
    opgi_hcand *ranked;   /* by score descending, operator id ascending */
    size_t n_ranked, cap_ranked;
} opgi_hsnap;

/* Checked arithmetic whose operands the code bounds (parts of one amount, a fraction
 * of at most 1, a sum the splitter's own totals bound): the result is asserted, never
 * ignored. err may be NULL (a helper without a handle). */
#define OPGI_HYPER_EXACT(err, call) ((void)OPGI_NEVER((err), (call) != OPG_OK))

extern const opgi_param_table opgi_hyper_param_table;

/* hyper.c */
int opgi_hyper_alloc(opg_hyper **out, opg_registry *r, opg_splitter *s,
                     const opg_hyper_params *params, const opg_allocator *alloc);
void opgi_hyper_release(opg_hyper *h);
void opgi_hpos_free(opg_hyper *h, opgi_hpos *p);
/* Index of the position with this id, or where it would go (*found set). */
size_t opgi_hpos_search(const opg_hyper *h, const opg_id *id, int *found);
opgi_hpos *opgi_hpos_find(const opg_hyper *h, const opg_id *id);
int opgi_hyper_owner_add(opg_hyper *h, const opg_id *owner, int reserve_only);
void opgi_hyper_owner_remove(opg_hyper *h, const opg_id *owner);
/* Policy rules; check_nodes: FIXED nodes must exist in the registry now. */
int opgi_hyper_check_policy(opg_hyper *h, const opg_hyper_policy *policy, int check_nodes);
/* Performance score of a registry slot under the stored table (1 before any epoch). */
void opgi_hyper_perf(opg_dec *out, const opg_hyper *h, const opg_hyper_score *table, size_t n,
                     int has_table, uint32_t slot);
int opgi_hyper_snap(opgi_hsnap *sn, const opg_hyper *h, const opg_hyper_score *table, size_t n,
                    int has_table);
void opgi_hyper_snap_free(const opg_hyper *h, opgi_hsnap *sn);
/* The position's targets (capacity: node_count + 1), sorted by operator id. */
int opgi_hyper_targets(opgi_htgt *out, size_t *n_out, const opg_hyper *h, const opgi_hpos *p,
                       const opgi_hsnap *sn);
/* parts[i] = trunc(amount * w_i); the remainder to the largest weight (ties: lowest id). */
void opgi_hyper_split(opg_u256 *parts, const opg_u256 *amount, const opgi_htgt *t, size_t n);
/* truncate(tokens_from_shares(shares)) of a delegation slot: what undelegating all yields. */
void opgi_hyper_del_tokens(opg_u256 *out, const opg_registry *r, uint32_t del);

#endif /* OPG_HYPER_INTERNAL_H */
