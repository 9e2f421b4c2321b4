/*
 * opg_splitter.h - the reward splitter: emission, per-block allocation, F1 delegator
 * rewards, commission and the community pool (Cosmos x/distribution and x/mint,
 * SEMANTICS.md section 3, plus performance rewards and pool emissions).
 *
 * The splitter is created on a registry and attaches to its hooks: every delegate,
 * undelegate, redelegate and slash settles the rewards it must (F1), and those
 * payouts come back as OPG_EVENT_REWARDS_PAID events of the registry call. The
 * per-delegation F1 starting info lives inside the registry's delegation record.
 *
 * Money flow per block: mint (or a pool's emission) and the stakers' share of fees
 * go into the splitter's pending pot; allocate() splits the pot over the nodes of the
 * last commit (community tax, commission, F1 rewards); delegators withdraw when they
 * like. Every fraction of a base unit is accounted for: see opg_splitter_check().
 */
#ifndef OPG_SPLITTER_H
#define OPG_SPLITTER_H

#include "opg_core.h"
#include "opg_registry.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct opg_splitter opg_splitter;

typedef enum opg_emission_kind {
    OPG_EMISSION_NONE = 0,        /* nothing minted; allocation of fees only */
    OPG_EMISSION_COSMOS_MINT = 1, /* x/mint: inflation moving toward goal_bonded */
    OPG_EMISSION_DECAY_POOL = 2,  /* a pre-funded pool emitted with a half-life */
    OPG_EMISSION_LINEAR_POOL = 3  /* a pre-funded pool released evenly over a duration */
} opg_emission_kind;

typedef struct opg_splitter_params {
    opg_dec community_tax;        /* "distribution.community_tax", default 0.02 */
    opg_dec perf_share;           /* "distribution.perf_share", default 0 */
    opg_emission_kind emission;   /* fixed at creation; default OPG_EMISSION_COSMOS_MINT */
    /* cosmos_mint */
    opg_dec inflation_rate_change;  /* "mint.inflation_rate_change", default 0.13 */
    opg_dec inflation_max;          /* "mint.inflation_max", default 0.20 */
    opg_dec inflation_min;          /* "mint.inflation_min", default 0.07 */
    opg_dec goal_bonded;            /* "mint.goal_bonded", default 0.67 */
    uint64_t blocks_per_year;       /* "mint.blocks_per_year", default 6311520 */
    opg_dec initial_inflation;      /* creation only, default 0.13 */
    /* decay_pool and linear_pool: the pool is part of the existing supply */
    opg_u256 pool_amount;           /* P0 at activation */
    opg_time pool_start;            /* t0, activation time */
    opg_time half_life;             /* "emission.half_life", seconds, >= 365 days (decay) */
    opg_time duration;              /* "emission.duration", seconds, > 0 (linear) */
} opg_splitter_params;

/* Fills *params with the documented defaults. */
OPG_API void opg_splitter_params_init(opg_splitter_params *params);

/*
 * Creates a splitter on registry r and attaches it to r's hooks. Nodes and
 * delegations already in r are initialised as at genesis (their rewards start at
 * height 0, so they earn from the first allocation on). r must outlive the
 * splitter. Errors: OPG_EINVAL (params), OPG_ENOMEM, OPG_EEXISTS (r already has
 * a splitter).
 */
OPG_API int opg_splitter_new(opg_splitter **out, opg_registry *r,
                             const opg_splitter_params *params, const opg_allocator *alloc);
/* Detaches from the registry and frees. NULL is fine. */
OPG_API void opg_splitter_free(opg_splitter *s);
OPG_API const char *opg_splitter_last_error(const opg_splitter *s);

OPG_API int opg_splitter_param_set(opg_splitter *s, const char *key, const char *value);
OPG_API int opg_splitter_param_get(char *buf, size_t cap, size_t *needed, const opg_splitter *s,
                                   const char *key);
OPG_API const char *opg_splitter_param_key(size_t i);

/* ----------------------------------------------------------- emission */

/*
 * Mints (cosmos_mint) or emits (pools) for the block at height/now and adds it to the
 * pending pot; *amount (may be NULL) receives it. cosmos_mint: bonded_ratio =
 * quo_int(bonded, supply); inflation moves by quo(mul(1 - quo(ratio, goal),
 * rate_change), blocks_per_year), clamped to [min, max]; minted =
 * truncate(quo_int(mul_int(inflation, supply), blocks_per_year)); the registry's
 * supply grows. Pools: R(t) is computed from the absolute elapsed time, so the sum of
 * every block's emission is exactly P0 - R(now) and never more than P0.
 * Errors: OPG_EFUTURE (now before the previous call), OPG_EOVERFLOW.
 */
OPG_API int opg_splitter_mint(opg_u256 *amount, opg_splitter *s, opg_height height, opg_time now);
/* Pauses / resumes a pool's emission (time while paused does not count). ESTATUS if
 * already in that state or if the emission is not a pool. */
OPG_API int opg_splitter_pause(opg_splitter *s, opg_time now);
OPG_API int opg_splitter_resume(opg_splitter *s, opg_time now);

/*
 * R(t) of a decay pool: P0 * 2^(-(t - t0)/h), floor, with a 256-bit fixed-point exp2
 * whose result is within 1 base unit of the exact value for any P0 < 2^189.
 * Exposed for tests and planning; t before t0 gives P0.
 */
OPG_API int opg_splitter_decay_remaining(opg_u256 *out, const opg_u256 *p0, opg_time t0,
                                         opg_time half_life, opg_time t);

typedef struct opg_emission_info {
    opg_emission_kind kind;
    opg_dec inflation;         /* cosmos_mint: the current annual rate */
    opg_u256 pool_remaining;   /* pools: not yet emitted */
    opg_u256 emitted_total;    /* pools: everything emitted so far */
    opg_u256 minted_total;     /* cosmos_mint: everything minted so far */
    int paused;
} opg_emission_info;
OPG_API void opg_splitter_emission(opg_emission_info *out, const opg_splitter *s);

/* ----------------------------------------------------------- allocation */

/* Adds the stakers' share of fees (whole base units) to the pending pot. */
OPG_API int opg_splitter_add_fees(opg_splitter *s, const opg_u256 *amount);

typedef struct opg_commit_vote {
    opg_id consensus_key;  /* the node as the consensus engine knows it */
    uint64_t power;        /* its power in that block */
    opg_dec score;         /* performance score in [0, 1]; used when perf_share > 0 */
} opg_commit_vote;

/*
 * Distributes the whole pending pot over the nodes of the last commit (all of them,
 * signers or not, as Cosmos does). Total power 0: everything to the community pool.
 * Else A = mul_truncate(pot, 1 - community_tax); with perf_share p, A_perf =
 * mul_truncate(A, p) goes by weight mul_truncate(power, score) and A - A_perf by
 * power; each node gets mul_truncate(part, quo_truncate(its weight, total)); the node
 * splits it into commission (mul, half to even) and delegator rewards. What is left
 * (tax, truncation dust, unknown keys) goes to the community pool.
 * Errors: OPG_EINVAL (score above 1), OPG_EOVERFLOW, OPG_ENOMEM. O(votes log nodes).
 */
OPG_API int opg_splitter_allocate(opg_splitter *s, const opg_commit_vote *votes, size_t n_votes,
                                  opg_height height, opg_time now);
/* Allocates amount directly to one node (its share of an inference fee), through the
 * same commission/rewards path. OPG_ENOTFOUND, OPG_EZERO. */
OPG_API int opg_splitter_allocate_to_node(opg_splitter *s, const opg_id *operator_id,
                                          const opg_u256 *amount);

/* ----------------------------------------------------------- withdrawals */

/*
 * Pays the delegation's rewards: whole base units to the delegator (*paid, and an
 * OPG_EVENT_REWARDS_PAID event), the fraction to the community pool. Errors:
 * OPG_ENOTFOUND, OPG_EINVARIANT (stake beyond the 3e-18 tolerance; nothing changes).
 * O(1 + slashes of the node since the delegation last changed).
 */
OPG_API int opg_splitter_withdraw_rewards(opg_u256 *paid, opg_splitter *s,
                                          const opg_id *delegator, const opg_id *operator_id,
                                          opg_height height, opg_time now);
/* Pays the node's accumulated commission in whole units; the fraction stays.
 * OPG_EZERO if there is no commission at all. */
OPG_API int opg_splitter_withdraw_commission(opg_u256 *paid, opg_splitter *s,
                                             const opg_id *operator_id);
/* Adds whole units to the community pool (a fee share, a donation: Cosmos
 * FundCommunityPool). Counted with the fees in the totals. */
OPG_API int opg_splitter_fund_community_pool(opg_splitter *s, const opg_u256 *amount);
/* Spends whole units from the community pool (a governance decision of the host). */
OPG_API int opg_splitter_community_pool_spend(opg_splitter *s, const opg_u256 *amount);

/* ----------------------------------------------------------- queries */

/* Rewards the delegation would receive if withdrawn now (a Dec), without changes. */
OPG_API int opg_splitter_pending_rewards(opg_dec *rewards, const opg_splitter *s,
                                         const opg_id *delegator, const opg_id *operator_id,
                                         opg_height height);

typedef struct opg_node_rewards {
    opg_dec outstanding;   /* allocated to the node and not yet paid out */
    opg_dec commission;    /* accumulated commission */
    opg_dec current;       /* delegator rewards of the current period */
    uint64_t period;       /* current F1 period */
    uint64_t historical;   /* historical records kept (bounded by live references) */
    uint64_t slashes;      /* slash events recorded */
} opg_node_rewards;
OPG_API int opg_splitter_node_rewards(opg_node_rewards *out, const opg_splitter *s,
                                      const opg_id *operator_id);

typedef struct opg_splitter_totals {
    opg_dec minted;          /* cosmos_mint */
    opg_dec emitted;         /* pools */
    opg_dec fees;            /* add_fees + allocate_to_node */
    opg_dec pending;         /* in the pot, not yet allocated */
    opg_dec paid_delegators; /* whole units paid by withdrawals */
    opg_dec paid_commission; /* whole units of commission paid */
    opg_dec community_pool;  /* including fractions */
    opg_dec community_spent; /* whole units spent from it */
    opg_dec outstanding;     /* sum over nodes */
} opg_splitter_totals;
OPG_API void opg_splitter_totals_get(opg_splitter_totals *out, const opg_splitter *s);

/*
 * Conservation, to the last 10^-18: minted + emitted + fees = pending + paid_delegators
 * + paid_commission + community_pool + community_spent + outstanding; and every node's
 * outstanding >= its commission. OPG_EINVARIANT with detail otherwise. O(nodes).
 */
OPG_API int opg_splitter_check(opg_splitter *s);

/* ------------------------------------------------------- records, commit */

/*
 * The splitter's records (opg_core.h, "records"; opg_registry.h for the commit
 * cycle, which is the same). Keys: the tag OPG_RECORDS_SPLITTER, a kind byte, ids:
 *   0 params   (no ids)
 *   1 state    (no ids): emission state and the money totals
 *   2 node     operator: current period, its rewards, commission, outstanding
 *   3 history  operator, period (8 bytes): reference count, cumulative reward ratio
 *   4 slash    operator, height, period (8 bytes each): fraction
 * A delegation's F1 start is in the registry's delegation record. A value is a
 * format byte (1), then the fields in their saved form. Commit the splitter after
 * the registry, once per block.
 */
/* As opg_registry_commit: the records changed since the last commit (owned by the
 * splitter, valid until its next commit or free) and the new root. O(c log c + c log
 * n); the first commit of a new or snapshot-loaded splitter puts every record.
 * OPG_ENOMEM changes nothing. */
OPG_API int opg_splitter_commit(uint8_t root[32], const opg_record **changes, size_t *count,
                                opg_splitter *s);
/* The root as of the last commit (32 zero bytes before the first). */
OPG_API void opg_splitter_root(uint8_t root[32], const opg_splitter *s);
/* The root of the records as they are now, from scratch (what the next commit
 * returns). O(n log n). OPG_ENOMEM. */
OPG_API int opg_splitter_root_from_scratch(uint8_t root[32], const opg_splitter *s);
/* Every record in key order to fn; fn's negative code stops it and is returned.
 * O(n). */
OPG_API int opg_splitter_records(opg_splitter *s, opg_record_sink fn, void *ctx);
/* Creates a splitter on r (loaded first, from the same block) from its records in key
 * order; checks as opg_splitter_load does, and against root when not NULL. */
OPG_API int opg_splitter_load_records(opg_splitter **out, opg_registry *r,
                                      opg_record_source next, void *ctx,
                                      const uint8_t root[32], const opg_allocator *alloc);
/* A proof of the record with this key, present or absent, against the last committed
 * root (opg_proof_verify checks it). OPG_EBUFS with *len = the size needed; at most
 * OPG_PROOF_MAX_BYTES. O(log n). */
OPG_API int opg_splitter_prove(uint8_t *buf, size_t cap, size_t *len, const opg_splitter *s,
                               const uint8_t *key, size_t key_len);

/* ----------------------------------------------------------- saved state */

/* The snapshot: the splitter's records in key order, laid out as opg_registry_save
 * lays out the registry's (header kind 3, version 2). */
OPG_API int opg_splitter_save(uint8_t *buf, size_t cap, size_t *len, const opg_splitter *s);
/* Loads a splitter onto r (which must hold the matching registry state, loaded first).
 * OPG_ECORRUPT, OPG_EVERSION, OPG_ENOMEM as opg_registry_load. */
OPG_API int opg_splitter_load(opg_splitter **out, opg_registry *r, const uint8_t *buf,
                              size_t len, const opg_allocator *alloc);
/* The root of the tree over the splitter's records as they are now (what the next
 * commit returns). O(n log n). */
OPG_API int opg_splitter_state_hash(uint8_t out[32], const opg_splitter *s);

#ifdef __cplusplus
}
#endif

#endif /* OPG_SPLITTER_H */
