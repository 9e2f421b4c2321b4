/*
 * splitter_internal.h - the reward splitter's state, shared by splitter.c (F1,
 * allocation, hooks), emission.c (minting and pools) and splitter_records.c (records,
 * commits, snapshots).
 */
#ifndef OPG_SPLITTER_INTERNAL_H
#define OPG_SPLITTER_INTERNAL_H

#include "opg_splitter.h"

#include "registry_internal.h"

/* F1 cumulative reward ratios are 384 bits wide: a node with tiny stake and huge
 * rewards (where Cosmos' 256-bit Dec would halt the chain) still accumulates. */
#define OPGI_CUM_LIMBS 6
/* Bits of the fractional exponent used by the decay pool's exp2. */
#define OPGI_EXP2_BITS 192

typedef struct f1_hist {
    uint64_t period;
    uint64_t refcount;
    uint64_t cum[OPGI_CUM_LIMBS]; /* cumulative reward ratio, raw Dec per token */
} f1_hist;

typedef struct f1_slash {
    uint64_t height;
    uint64_t period;
    opg_dec fraction;
} f1_slash;

typedef struct f1_node {
    int live;
    uint64_t period;      /* current period */
    opg_dec rewards;      /* current period's delegator rewards */
    opg_dec commission;   /* accumulated commission */
    opg_dec outstanding;  /* allocated, not yet paid */
    f1_hist *hist;        /* sorted by period; refcount 0 marks a dropped record */
    size_t n_hist, cap_hist;
    size_t n_dead;        /* dropped records not yet compacted away */
    f1_slash *slashes;    /* in (height, period) order */
    size_t n_slash, cap_slash;
} f1_node;

struct opg_splitter {
    opg_allocator alloc;
    opgi_records records; /* the tree as of the last commit, and what changed since */
    char err[OPGI_ERRMSG_MAX];
    opg_registry *reg;
    opg_splitter_params params;

    /* emission */
    opg_dec inflation;        /* cosmos_mint */
    opg_u256 anchor_amount;   /* pools: P0 of the current anchor */
    opg_time anchor_time;     /* pools: t0 of the current anchor (shifted by pauses) */
    opg_u256 anchor_emitted;  /* pools: emitted since the anchor */
    int paused;
    opg_time paused_at;
    opg_time last_time;       /* time of the last mint call (0: none yet) */
    int has_last;

    /* the money, all as Dec so fractions are accounted exactly */
    opg_dec pending, minted, emitted, fees, paid_delegators, paid_commission;
    opg_dec community_pool, community_spent, outstanding;

    f1_node *nodes;           /* indexed by registry node slot */
    uint32_t n_nodes;         /* entries allocated */

    uint64_t exp2_table[OPGI_EXP2_BITS][4]; /* 2^(-2^-i) in Q256, derived, not state */
};

/* emission.c */
void opgi_exp2_table_init(uint64_t table[OPGI_EXP2_BITS][4]);
int opgi_decay_remaining(opg_u256 *out, const uint64_t table[OPGI_EXP2_BITS][4],
                         const opg_u256 *p0, opg_time t0, opg_time half_life, opg_time t);
void opgi_emission_reanchor(opg_splitter *s);

/* splitter.c, used by splitter_records.c */
int opgi_splitter_nodes_reserve(opg_splitter *s, uint32_t slots);
int opgi_f1_hist_reserve(opg_splitter *s, f1_node *n, size_t more);
int opgi_f1_slash_reserve(opg_splitter *s, f1_node *n, size_t more);
void opgi_splitter_sync_ledger(opg_splitter *s);
/* For engines that make several splitter or registry calls in one bracket and reserve
 * for all of them first (hyper): the events one opg_splitter_withdraw_rewards may
 * leave, and the spare F1 history records the splitter's prepare asks for on each node
 * of a plan naming n_nodes nodes and n_dels delegations. */
size_t opgi_splitter_events_withdraw(const opg_splitter *s);
size_t opgi_splitter_hist_room(size_t n_nodes, size_t n_dels);
int opgi_splitter_attach(opg_splitter *s);
/* A bare splitter for load (not attached, no nodes). */
int opgi_splitter_create_for_load(opg_splitter **out, opg_registry *r,
                                  const opg_splitter_params *params, const opg_allocator *alloc);
void opgi_splitter_release(opg_splitter *s);
extern const opgi_param_table opgi_splitter_param_table;

/* splitter_records.c: every change to a node's F1 record, a history record or a slash
 * record touches it; a node's removal touches all of them (records_of counts them,
 * for the reservation). */
void opgi_splitter_touch_node(opg_splitter *s, uint32_t slot);
void opgi_splitter_touch_history(opg_splitter *s, uint32_t slot, uint64_t period);
void opgi_splitter_touch_slash(opg_splitter *s, uint32_t slot, const f1_slash *e);
void opgi_splitter_touch_all_of(opg_splitter *s, uint32_t slot);
size_t opgi_splitter_records_of(const opg_splitter *s, uint32_t slot);
int opgi_splitter_touch_reserve(opg_splitter *s, size_t more);

#endif /* OPG_SPLITTER_INTERNAL_H */
