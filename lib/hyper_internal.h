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

/* A vault's share holder: shares, matured claims not yet claimed, claims pending.
 * Kept while any of the three is non-zero. */
typedef struct opgi_hholder {
    opg_id acct;
    opg_u256 shares;
    opg_u256 claimable;
    uint32_t n_pending;
} opgi_hholder;

/* A vault's share ledger (see opg_hyper.h). Holders sorted by account. */
typedef struct opgi_hvault {
    uint32_t offset;        /* decimals offset d: 10^d virtual shares */
    opg_u256 supply;        /* shares in issue */
    opg_u256 idle;
    opg_u256 queued;        /* nominal of pending claims */
    opg_u256 claimable;     /* sum of the holders' claimable */
    opg_u256 queued_idle;   /* fixed parts of pending claims (derived, not saved) */
    opgi_hholder *holders;
    size_t n_holders, cap_holders;
} opgi_hvault;

/* One node part of a withdrawal claim: the tokens put into unbonding there. */
typedef struct opgi_hpart {
    opg_id node;
    opg_time completion;
    opg_u256 amount;
} opgi_hpart;

/* A pending withdrawal claim (h->claims, ordered by completion then id). */
typedef struct opgi_hclaim {
    uint64_t id;
    opg_id vault;
    opg_id holder;
    opg_time completion;    /* the latest of its parts' (0: idle only, matures at once) */
    opg_u256 fixed;         /* from idle: not slashable */
    opg_u256 nominal;       /* fixed + parts */
    opgi_hpart *parts;
    uint32_t n_parts, cap_parts;
} opgi_hclaim;

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
    opg_dec max_churn;
    opg_height created_height;
    opg_u256 deposited, withdrawn, compounded, paid_out;
    opg_hyper_weight *weights;
    uint32_t n_weights;
    opgi_hvault *vault;    /* NULL: not a vault */
    opg_hyper_route *routes;
    uint32_t n_routes;
    opg_u256 routed_in;
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

    opg_hyper_strategy_fn strategy;  /* not state */
    void *strategy_user;

    opg_hyper_score *scores;    /* by operator id; only when has_scores */
    size_t n_scores;
    int has_scores;

    opgi_hclaim *claims;        /* pending, by (completion, id) */
    size_t n_claims, cap_claims;
    uint64_t next_claim;

    opg_hyper_vault_report *reports; /* of the last epoch */
    size_t n_reports, cap_reports;

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
/* Bonded, usable, commission <= max_commission: a HOST target may be on it. */
int opgi_hyper_eligible(const opg_registry *r, uint32_t slot, const opg_dec *max_commission);
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

/* hyper_ops.c: a deposit into p (vault or not); the vault guard is applied when p is
 * a vault. */
int opgi_hyper_deposit(opg_hyper *h, opgi_hpos *p, const opg_u256 *amount, opg_height height, opg_time now);
int opgi_hyper_withdraw(opg_u256 *unbonded, opg_hyper *h, opgi_hpos *p, const opg_u256 *amount,
                        opg_height height, opg_time now);

/* Route rules of one position (no cycle check). */
int opgi_hyper_check_routes(opg_hyper *h, const opgi_hpos *p, const opg_hyper_route *routes, size_t n);
/* Does following POSITION routes from `from` (with p's routes replaced by routes[n])
 * reach p? 1 yes, 0 no, OPG_ENOMEM. */
int opgi_hyper_route_cycle(const opg_hyper *h, const opgi_hpos *p, const opg_hyper_route *routes, size_t n);

/* hyper_vault.c */
void opgi_hvault_free(opg_hyper *h, opgi_hvault *v);
void opgi_hclaim_free(opg_hyper *h, opgi_hclaim *c);
/* The centralisation guard (hyper.vault_node_cap): is it on (cap < 1)? The shares all
 * vaults hold on registry slot `slot` (O(positions)); the most tokens vaults may add
 * there with those shares; and would adding `part` there for a vault cross the cap
 * (OPG_ELIMIT)? */
int opgi_hyper_guard_on(const opg_hyper *h);
void opgi_hyper_vault_shares(opg_dec *out, const opg_hyper *h, uint32_t slot);
void opgi_hyper_guard_room(opg_u256 *room, const opg_hyper *h, uint32_t slot, const opg_dec *vshares);
int opgi_hyper_guard(const opg_hyper *h, uint32_t slot, const opg_u256 *part);
/* After a successful call: the vaults' PAYOUT moves become their idle. */
void opgi_hyper_vault_absorb(opg_hyper *h);
/* The epoch's vault reports: room before the epoch, filled after it. */
int opgi_hyper_reports_reserve(opg_hyper *h);
void opgi_hyper_reports_fill(opg_hyper *h, opg_height height);
size_t opgi_hholder_search(const opgi_hvault *v, const opg_id *acct, int *found);

#endif /* OPG_HYPER_INTERNAL_H */
