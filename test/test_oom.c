/*
 * test_oom.c - allocation failure injection across every handle.
 *
 * One scripted sequence of calls drives a registry, its splitter, a pricer, a
 * slasher and a tally (and each engine as it is added: see "plug-in") through
 * proposals, deposits, plain and weighted votes, tallies, a cancel, node creation,
 * delegation, blocks, minting, allocation, withdrawals, unbonding, redelegation,
 * cancellation, slashing, jailing, commits, faulty-inference and double-sign
 * evidence, charges, model classes, parameter changes, state hashes, invariant
 * checks, saves and loads. A first run with no failure records what every
 * call returns and the final state hashes. Then, for n = 1, 2, 3, ..., the run is
 * repeated with the n-th allocation failing (test/failalloc.h), until a run sees no
 * failure. In every run:
 *   - the call that meets the failure returns OPG_ENOMEM, and every state hash is
 *     exactly as before the call (hashes are taken with the failure point suspended,
 *     so hashing neither uses it up nor moves it); a registry call leaves no events;
 *   - the same call is then repeated and returns what it returned in the first run
 *     (the handle keeps working), and so does every later call;
 *   - a load that fails leaves nothing allocated behind;
 *   - the run ends with the first run's final hashes, and after freeing everything
 *     nothing is left allocated.
 */
#include "failalloc.h"
#include "harness.h"

#include <sodium.h>


/* ------------------------------------------------------------------ world */

typedef struct world {
    failalloc *fa;
    opg_allocator alloc;
    opg_registry *r;
    opg_splitter *s;
    opg_pricer *p;
    opg_slasher *sl;
    opg_tally *ta;
    /* plug-in: opg_hyper *hy; */
    /* copies made by the load steps */
    opg_registry *r2;
    opg_splitter *s2;
    opg_pricer *p2;
    opg_slasher *sl2;
    opg_tally *ta2;
    uint8_t *blob[5];
    size_t blob_len[5];
    opg_height h;
    opg_time t;
} world;

#define MAX_HANDLES 6

typedef struct hashes {
    uint8_t h[MAX_HANDLES][32];
    size_t n;
} hashes;

/* Every handle's state hash, with the failure point suspended. */
static void hash_all(hashes *out, world *w)
{
    unsigned long fail_at = w->fa->fail_at, calls = w->fa->calls;
    w->fa->fail_at = 0;
    memset(out, 0, sizeof *out);
    if (opg_registry_state_hash(out->h[out->n++], w->r) != OPG_OK)
        abort();
    if (opg_splitter_state_hash(out->h[out->n++], w->s) != OPG_OK)
        abort();
    if (opg_pricer_state_hash(out->h[out->n++], w->p) != OPG_OK)
        abort();
    if (opg_slasher_state_hash(out->h[out->n++], w->sl) != OPG_OK)
        abort();
    if (opg_tally_state_hash(out->h[out->n++], w->ta) != OPG_OK)
        abort();
    /* plug-in: hyper */
    w->fa->fail_at = fail_at;
    w->fa->calls = calls;
}

static const char *const HANDLE_NAMES[MAX_HANDLES] = {"registry", "splitter", "pricer", "slasher", "tally"};

/* Node n's consensus key pair: Ed25519 from a fixed seed, so votes can be signed. */
static void node_keys(uint8_t pk[32], uint8_t sk[64], unsigned n)
{
    opg_id seed = id_n(500 + n);
    crypto_sign_seed_keypair(pk, sk, seed.bytes);
}

static opg_id cons_key(unsigned n)
{
    opg_id k;
    uint8_t sk[64];
    node_keys(k.bytes, sk, n);
    return k;
}

static int world_new(world *w, failalloc *fa)
{
    memset(w, 0, sizeof *w);
    w->fa = fa;
    w->alloc = failalloc_allocator(fa);
    w->h = 1;
    w->t = 1000;
    opg_registry_params rp;
    opg_registry_params_init(&rp);
    rp.unbonding_time = 100;
    rp.max_validators = 3;
    opg_u256_from_u64(&rp.power_reduction, 1000);
    opg_u256 genesis = u256_of("1000000000000000000000000");
    int rc = opg_registry_new(&w->r, &rp, &genesis, &w->alloc);
    if (rc)
        return rc;
    opg_splitter_params sp;
    opg_splitter_params_init(&sp);
    sp.perf_share = dec_of("0.25");
    if ((rc = opg_splitter_new(&w->s, w->r, &sp, &w->alloc)) != OPG_OK) {
        opg_registry_free(w->r);
        return rc;
    }
    opg_pricer_params pp;
    opg_pricer_params_init(&pp);
    pp.dimension_count = 2;
    strcpy(pp.dimensions[0].name, "gpu");
    pp.dimensions[0].target = u64v(10);
    pp.dimensions[0].limit = u64v(1000);
    strcpy(pp.dimensions[1].name, "tokens");
    pp.dimensions[1].controller = OPG_PRICER_EXPONENTIAL;
    pp.dimensions[1].target = u64v(10);
    pp.dimensions[1].limit = u64v(1000);
    pp.dimensions[1].min_base_fee = u64v(3);
    pp.dimensions[1].initial_base_fee = u64v(3);
    pp.dimensions[1].update_fraction = 30;
    pp.split.inference = dec_of("0.6");
    pp.split.verifiers = dec_of("0.2");
    pp.split.stakers = dec_of("0.2");
    opg_pricer_class cls = {1, {dec_of("1"), dec_of("2")}};
    pp.classes = &cls;
    pp.class_count = 1;
    if ((rc = opg_pricer_new(&w->p, &pp, &w->alloc)) != OPG_OK) {
        opg_splitter_free(w->s);
        opg_registry_free(w->r);
        return rc;
    }
    opg_slasher_params lp;
    opg_slasher_params_init(&lp);
    lp.signed_blocks_window = 10;
    lp.reporter_share = dec_of("0.1");
    lp.correlation_k = dec_of("1");
    opg_fault_class fc = {1, dec_of("0.05"), 30, 0};
    lp.fault_classes = &fc;
    lp.fault_class_count = 1;
    if ((rc = opg_slasher_new(&w->sl, w->r, &lp, &w->alloc)) != OPG_OK) {
        opg_pricer_free(w->p);
        opg_splitter_free(w->s);
        opg_registry_free(w->r);
        return rc;
    }
    opg_tally_params tp;
    opg_tally_params_init(&tp);
    tp.min_deposit = u64v(1000);
    tp.max_deposit_period = 200;
    tp.voting_period = 100;
    tp.expedited_voting_period = 50;
    if ((rc = opg_tally_new(&w->ta, w->r, &tp, &w->alloc)) != OPG_OK ||
        (rc = opg_tally_attach_pricer(w->ta, w->p)) != OPG_OK ||
        (rc = opg_tally_attach_splitter(w->ta, w->s)) != OPG_OK ||
        (rc = opg_tally_attach_slasher(w->ta, w->sl)) != OPG_OK) {
        opg_tally_free(w->ta);
        opg_slasher_free(w->sl);
        opg_pricer_free(w->p);
        opg_splitter_free(w->s);
        opg_registry_free(w->r);
        return rc;
    }
    /* plug-in: hyper on w->r (free the others if one fails) */
    return OPG_OK;
}

static void free_copies(world *w)
{
    opg_tally_free(w->ta2);
    w->ta2 = NULL;
    opg_slasher_free(w->sl2);
    w->sl2 = NULL;
    opg_pricer_free(w->p2);
    opg_splitter_free(w->s2);
    opg_registry_free(w->r2);
    w->p2 = NULL;
    w->s2 = NULL;
    w->r2 = NULL;
    for (int i = 0; i < 5; i++) {
        free(w->blob[i]);
        w->blob[i] = NULL;
    }
}

static void world_free(world *w)
{
    free_copies(w);
    /* plug-in: hyper first */
    opg_tally_free(w->ta);
    opg_slasher_free(w->sl);
    opg_pricer_free(w->p);
    opg_splitter_free(w->s);
    opg_registry_free(w->r);
}

/* ------------------------------------------------------------- the script */

enum kind {
    K_NODE, K_DELEGATE, K_END_BLOCK, K_MINT, K_FEES, K_ALLOCATE, K_ALLOCATE_TO_NODE,
    K_WITHDRAW, K_COMMISSION, K_UNDELEGATE, K_REDELEGATE, K_CANCEL, K_SLASH, K_JAIL,
    K_UNJAIL, K_CLASS_SET, K_CLASS_REMOVE, K_CHARGE, K_PRICER_END_BLOCK, K_PARAM_REGISTRY,
    K_PARAM_SPLITTER, K_PARAM_PRICER, K_HASH, K_CHECK, K_SAVE_REGISTRY, K_LOAD_REGISTRY,
    K_LOAD_SPLITTER, K_LOAD_PRICER, K_FREE_COPIES, K_FUND_POOL, K_POOL_SPEND,
    K_UNDELEGATE_TOO_MUCH, K_CHARGE_OVER_LIMIT, K_REDELEGATE_TRANSITIVE,
    K_COMMIT, K_FAULT, K_DOUBLE_SIGN, K_PARAM_SLASHER, K_LOAD_SLASHER,
    K_PROPOSE, K_DEPOSIT, K_VOTE, K_VOTE_WEIGHTED, K_TALLY_END_BLOCK, K_CANCEL_PROPOSAL,
    K_PARAM_TALLY, K_SAVE_TALLY, K_TALLY_HASH, K_LOAD_TALLY,
    /* plug-in: hyper calls */
    K_COUNT_
};

static const char *const KIND_NAMES[K_COUNT_] = {
    "node_create", "delegate", "end_block", "mint", "add_fees", "allocate", "allocate_to_node",
    "withdraw_rewards", "withdraw_commission", "undelegate", "redelegate", "cancel_unbonding",
    "slash", "jail", "unjail", "class_set", "class_remove", "charge", "pricer_end_block",
    "registry_param_set", "splitter_param_set", "pricer_param_set", "registry_state_hash",
    "registry_check", "registry_save", "registry_load", "splitter_load", "pricer_load",
    "free_copies", "fund_community_pool", "community_pool_spend", "undelegate (too much)",
    "charge (over the limit)", "redelegate (transitive)", "record_commit", "fault",
    "double_sign", "slasher_param_set", "slasher_load", "propose", "deposit", "vote",
    "vote (weighted)", "tally_end_block", "cancel_proposal", "tally_param_set", "tally_save",
    "tally_state_hash", "tally_load"};

/* Whether the call starts a fresh registry event list. */
static int clears_events(enum kind k)
{
    switch (k) {
    case K_NODE: case K_DELEGATE: case K_END_BLOCK: case K_WITHDRAW: case K_COMMISSION:
    case K_UNDELEGATE: case K_REDELEGATE: case K_CANCEL: case K_SLASH: case K_JAIL: case K_UNJAIL:
    case K_UNDELEGATE_TOO_MUCH: case K_REDELEGATE_TRANSITIVE: case K_COMMIT: case K_FAULT:
    case K_DOUBLE_SIGN:
        return 1;
    default:
        return 0;
    }
}

typedef struct step {
    enum kind kind;
    unsigned a, b; /* arguments: node, delegator, round ... */
} step;

#define MAX_STEPS 600
#define ROUNDS 6
static step script[MAX_STEPS];
static size_t n_script;

static void add(enum kind k, unsigned a, unsigned b)
{
    if (n_script == MAX_STEPS)
        abort();
    script[n_script++] = (step){k, a, b};
}

/* Six rounds, each growing every structure a little (so arrays, indexes and
 * queues reallocate), then saves and loads of every handle. Arguments: a is the
 * node (or class id), b the delegator. */
static void build_script(void)
{
    for (unsigned r = 0; r < ROUNDS; r++) {
        add(K_NODE, r, 0);
        for (unsigned d = 0; d < 8; d++)
            add(K_DELEGATE, r, 3 * d + r);
        add(K_DELEGATE, 0, r); /* node 0 again */
        add(K_END_BLOCK, 0, 0);
        add(K_MINT, 0, 0);
        add(K_FEES, 0, 0);
        add(K_ALLOCATE, 0, 0);
        add(K_ALLOCATE_TO_NODE, r, 0);
        add(K_WITHDRAW, r, r);
        add(K_COMMISSION, r, 0);
        add(K_UNDELEGATE, r, r + 3);
        add(K_UNDELEGATE, r, r + 6);
        add(K_UNDELEGATE_TOO_MUCH, r, r + 3);
        if (r > 0) {
            add(K_REDELEGATE, r, r + 9);              /* to node r - 1 */
            add(K_REDELEGATE_TRANSITIVE, r - 1, r + 9); /* on from node r - 1 */
        }
        add(K_END_BLOCK, 0, 0);
        add(K_CANCEL, r, r + 3);
        add(K_SLASH, r, 0);
        add(K_JAIL, r, 0);
        add(K_END_BLOCK, 0, 0);
        add(K_UNJAIL, r, 0);
        add(K_CLASS_SET, 10 + r, 0);
        add(K_CHARGE, 1, 0);
        add(K_CHARGE, 10 + r, 0);
        add(K_CHARGE_OVER_LIMIT, 1, 0);
        add(K_PRICER_END_BLOCK, 0, 0);
        add(K_PARAM_REGISTRY, r, 0);
        add(K_PARAM_SPLITTER, r, 0);
        add(K_PARAM_PRICER, r, 0);
        add(K_FUND_POOL, 0, 0);
        add(K_POOL_SPEND, 0, 0);
        add(K_COMMIT, r, 0);
        add(K_FAULT, r, r);
        add(K_PARAM_SLASHER, r, 0);
        if (r == 4)
            add(K_DOUBLE_SIGN, r, 0);
        /* governance: proposal r + 1 (a parameter change in odd rounds, short of its
         * deposit in rounds 2 and 5), a top-up, votes, the tally's block */
        add(K_PROPOSE, r, 0);
        add(K_DEPOSIT, r, 2 * r);
        add(K_DEPOSIT, r, 2 * r + 1);
        add(K_VOTE, r, 0);
        add(K_VOTE_WEIGHTED, r, r + 3);
        if (r > 0)
            add(K_VOTE_WEIGHTED, r - 1, r + 6); /* on the previous one, if still open */
        add(K_PARAM_TALLY, r, 0);
        if (r == 3)
            add(K_CANCEL_PROPOSAL, r, 0);
        add(K_SAVE_TALLY, 0, 0);
        add(K_TALLY_HASH, 0, 0);
        add(K_TALLY_END_BLOCK, 0, 0);
        add(K_HASH, 0, 0);
        add(K_CHECK, 0, 0);
        add(K_SAVE_REGISTRY, 0, 0);
    }
    add(K_CLASS_REMOVE, 11, 0);
    for (unsigned k = 0; k < 3; k++)
        add(K_END_BLOCK, 1, 0); /* long blocks: entries mature, nodes unbond */
    add(K_LOAD_REGISTRY, 0, 0);
    add(K_LOAD_SPLITTER, 0, 0);
    add(K_LOAD_PRICER, 0, 0);
    add(K_LOAD_SLASHER, 0, 0);
    add(K_LOAD_TALLY, 0, 0);
    add(K_FREE_COPIES, 0, 0);
    add(K_WITHDRAW, 0, 0);
}

static opg_id op_id(unsigned n) { return id_n(1 + n); }
static opg_id dtor_id(unsigned n) { return id_n(100 + n); }

/* Saves h into w->blob[i] with the failure point suspended (test memory). */
static void stash(world *w, int i, int (*save)(uint8_t *, size_t, size_t *, const void *), const void *h)
{
    unsigned long fail_at = w->fa->fail_at, calls = w->fa->calls;
    w->fa->fail_at = 0;
    size_t n = 0;
    save(NULL, 0, &n, h);
    free(w->blob[i]);
    w->blob[i] = malloc(n);
    if (!w->blob[i] || save(w->blob[i], n, &w->blob_len[i], h) != OPG_OK)
        abort();
    w->fa->fail_at = fail_at;
    w->fa->calls = calls;
}

static int save_r(uint8_t *b, size_t c, size_t *l, const void *h) { return opg_registry_save(b, c, l, h); }
static int save_s(uint8_t *b, size_t c, size_t *l, const void *h) { return opg_splitter_save(b, c, l, h); }
static int save_p(uint8_t *b, size_t c, size_t *l, const void *h) { return opg_pricer_save(b, c, l, h); }
static int save_l(uint8_t *b, size_t c, size_t *l, const void *h) { return opg_slasher_save(b, c, l, h); }
static int save_t(uint8_t *b, size_t c, size_t *l, const void *h) { return opg_tally_save(b, c, l, h); }

/* Runs one step; its return code. */
static int run_step(world *w, const step *s)
{
    opg_id op = op_id(s->a % ROUNDS), d = dtor_id(s->b);
    switch (s->kind) {
    case K_NODE: {
        opg_node_create c;
        memset(&c, 0, sizeof c);
        c.operator_id = op_id(s->a);
        c.consensus_key = cons_key(s->a);
        c.roles = OPG_ROLE_ALL;
        c.commission_rate = dec_of("0.1");
        c.commission_max_rate = dec_of("0.5");
        c.commission_max_change_rate = dec_of("0.05");
        c.min_self_delegation = u64v(10);
        c.self_delegation = u64v(100000 + 1000 * s->a);
        return opg_registry_node_create(w->r, &c, w->h, w->t);
    }
    case K_DELEGATE: {
        opg_u256 amt = u64v(5000 + 10 * s->a);
        return opg_registry_delegate(NULL, w->r, &d, &op, &amt, w->h, w->t);
    }
    case K_END_BLOCK:
        w->h++;
        w->t += s->a ? 500 : 20;
        return opg_registry_end_block(w->r, w->h, w->t);
    case K_MINT: return opg_splitter_mint(NULL, w->s, w->h, w->t);
    case K_FEES: {
        opg_u256 f = u64v(123457);
        return opg_splitter_add_fees(w->s, &f);
    }
    case K_ALLOCATE: {
        opg_commit_vote v[8];
        size_t n = 0;
        for (unsigned i = 0; i < ROUNDS; i++) {
            opg_node_info ni;
            opg_id o = op_id(i);
            if (opg_registry_node_get(&ni, w->r, &o) == OPG_OK) {
                v[n].consensus_key = ni.consensus_key;
                v[n].power = ni.power + 1;
                v[n++].score = dec_of(i % 2 ? "0.5" : "1");
            }
        }
        v[n].consensus_key = id_n(999); /* not a node: its share goes to the pool */
        v[n].power = 1;
        v[n++].score = dec_of("1");
        return opg_splitter_allocate(w->s, v, n, w->h, w->t);
    }
    case K_ALLOCATE_TO_NODE: {
        opg_u256 amt = u64v(777);
        return opg_splitter_allocate_to_node(w->s, &op, &amt);
    }
    case K_WITHDRAW: return opg_splitter_withdraw_rewards(NULL, w->s, &d, &op, w->h, w->t);
    case K_COMMISSION: return opg_splitter_withdraw_commission(NULL, w->s, &op);
    case K_UNDELEGATE: {
        opg_u256 amt = u64v(700 + 10 * s->a);
        return opg_registry_undelegate(NULL, NULL, w->r, &d, &op, &amt, w->h, w->t);
    }
    case K_REDELEGATE: {
        opg_id dst = op_id((s->a + ROUNDS - 1) % ROUNDS);
        opg_u256 amt = u64v(600);
        return opg_registry_redelegate(NULL, w->r, &d, &op, &dst, &amt, w->h, w->t);
    }
    case K_CANCEL: {
        opg_unbonding_info ub[16];
        size_t n = 0;
        opg_registry_unbondings_of(ub, 16, &n, w->r, &d);
        opg_height created = n ? ub[0].creation_height : w->h;
        opg_id node = n ? ub[0].operator_id : op;
        opg_u256 amt = u64v(100);
        return opg_registry_cancel_unbonding(w->r, &d, &node, created, &amt, w->h, w->t);
    }
    case K_SLASH: {
        opg_node_info ni;
        if (opg_registry_node_get(&ni, w->r, &op) != OPG_OK)
            return OPG_ENOTFOUND;
        opg_dec f = dec_of("0.1");
        return opg_registry_slash(NULL, w->r, &op, w->h - 1, ni.power, &f, w->h, w->t);
    }
    case K_JAIL: return opg_registry_jail(w->r, &op, w->t + 10);
    case K_UNJAIL: return opg_registry_unjail(w->r, &op, w->t);
    case K_CLASS_SET: {
        opg_pricer_class c = {s->a, {dec_of("1.5"), dec_of("0.5")}};
        return opg_pricer_class_set(w->p, &c);
    }
    case K_CLASS_REMOVE: return opg_pricer_class_remove(w->p, s->a);
    case K_CHARGE: {
        opg_pricer_request rq;
        memset(&rq, 0, sizeof rq);
        rq.model_class = s->a;
        rq.units[0] = u64v(7);
        rq.units[1] = u64v(9);
        opg_pricer_receipt r;
        opg_u256 va[2], tip = u64v(2), max_fee = u64v(UINT64_MAX);
        opg_id vs[2] = {id_n(700), id_n(701)};
        return opg_pricer_charge(&r, va, w->p, &rq, &max_fee, &tip, vs, 2);
    }
    case K_PRICER_END_BLOCK: return opg_pricer_end_block(NULL, w->p);
    case K_PARAM_REGISTRY:
        return opg_registry_param_set(w->r, "staking.max_validators", s->a % 2 ? "4" : "3");
    case K_PARAM_SPLITTER:
        return opg_splitter_param_set(w->s, "distribution.community_tax", s->a % 2 ? "0.03" : "0.02");
    case K_PARAM_PRICER:
        return opg_pricer_param_set(w->p, "fees.split", s->a % 2 ? "0.5,0.2,0.2,0.1,0" : "0.6,0.2,0.2,0,0");
    case K_HASH: {
        uint8_t h[32], before[32];
        memset(h, 0x5a, sizeof h);
        memcpy(before, h, 32);
        int rc = opg_registry_state_hash(h, w->r);
        if (rc != OPG_OK && memcmp(h, before, 32) != 0)
            return OPG_EINVARIANT; /* a failed hash wrote its output */
        return rc;
    }
    case K_CHECK: {
        int rc = opg_registry_check(w->r);
        if (rc == OPG_OK)
            rc = opg_splitter_check(w->s);
        if (rc == OPG_OK)
            rc = opg_slasher_check(w->sl);
        return rc;
    }
    case K_SAVE_REGISTRY: {
        size_t n = 0;
        unsigned long fail_at = w->fa->fail_at, calls = w->fa->calls;
        w->fa->fail_at = 0;
        opg_registry_save(NULL, 0, &n, w->r); /* sizing, not under test */
        w->fa->fail_at = fail_at;
        w->fa->calls = calls;
        uint8_t *b = malloc(n);
        size_t len = 0;
        int rc = opg_registry_save(b, n, &len, w->r);
        free(b);
        return rc;
    }
    case K_LOAD_REGISTRY: {
        stash(w, 0, save_r, w->r);
        long long live = w->fa->live_bytes;
        opg_registry *r2 = NULL;
        int rc = opg_registry_load(&r2, w->blob[0], w->blob_len[0], &w->alloc);
        if (rc != OPG_OK && (r2 != NULL || w->fa->live_bytes != live))
            return OPG_EINVARIANT; /* a failed load left something behind */
        w->r2 = r2;
        return rc;
    }
    case K_LOAD_SPLITTER: {
        stash(w, 1, save_s, w->s);
        long long live = w->fa->live_bytes;
        opg_splitter *s2 = NULL;
        int rc = opg_splitter_load(&s2, w->r2, w->blob[1], w->blob_len[1], &w->alloc);
        if (rc != OPG_OK && (s2 != NULL || w->fa->live_bytes != live))
            return OPG_EINVARIANT;
        w->s2 = s2;
        return rc;
    }
    case K_LOAD_PRICER: {
        stash(w, 2, save_p, w->p);
        long long live = w->fa->live_bytes;
        opg_pricer *p2 = NULL;
        int rc = opg_pricer_load(&p2, w->blob[2], w->blob_len[2], &w->alloc);
        if (rc != OPG_OK && (p2 != NULL || w->fa->live_bytes != live))
            return OPG_EINVARIANT;
        w->p2 = p2;
        return rc;
    }
    case K_FREE_COPIES: {
        /* the copies hash like the originals */
        world c = *w;
        c.r = w->r2;
        c.s = w->s2;
        c.p = w->p2;
        c.sl = w->sl2;
        hashes a, b;
        hash_all(&a, w);
        hash_all(&b, &c);
        free_copies(w);
        return memcmp(&a, &b, sizeof a) == 0 ? OPG_OK : OPG_EINVARIANT;
    }
    case K_FUND_POOL: {
        opg_u256 amt = u64v(31);
        return opg_splitter_fund_community_pool(w->s, &amt);
    }
    case K_POOL_SPEND: {
        opg_u256 amt = u64v(5);
        return opg_splitter_community_pool_spend(w->s, &amt);
    }
    case K_UNDELEGATE_TOO_MUCH: {
        opg_u256 amt = u64v(1000000000);
        return opg_registry_undelegate(NULL, NULL, w->r, &d, &op, &amt, w->h, w->t);
    }
    case K_REDELEGATE_TRANSITIVE: {
        opg_id dst = op_id(s->a == 0 ? 1 : 0);
        opg_u256 amt = u64v(10);
        return opg_registry_redelegate(NULL, w->r, &d, &op, &dst, &amt, w->h, w->t);
    }
    case K_CHARGE_OVER_LIMIT: {
        opg_pricer_request rq;
        memset(&rq, 0, sizeof rq);
        rq.model_class = s->a;
        rq.units[0] = u64v(2000);
        opg_pricer_receipt r;
        opg_u256 va[2], tip = u64v(0), max_fee = u64v(UINT64_MAX);
        opg_id vs[2] = {id_n(700), id_n(701)};
        return opg_pricer_charge(&r, va, w->p, &rq, &max_fee, &tip, vs, 2);
    }
    case K_COMMIT: {
        /* every node of the script, node a absent */
        opg_commit_sig e[ROUNDS];
        size_t n = 0;
        for (unsigned i = 0; i < ROUNDS; i++) {
            opg_node_info ni;
            opg_id o = op_id(i);
            if (opg_registry_node_get(&ni, w->r, &o) != OPG_OK || ni.status != OPG_NODE_BONDED)
                continue;
            e[n].consensus_key = ni.consensus_key;
            e[n].power = ni.power;
            e[n++].signed_block = i != s->a;
        }
        return opg_slasher_record_commit(w->sl, e, n, w->h, w->t);
    }
    case K_FAULT: {
        opg_fault_evidence ev;
        memset(&ev, 0, sizeof ev);
        ev.evidence_id = id_n(900 + s->b);
        ev.node = op;
        ev.infraction_height = w->h;
        if (opg_registry_block_time(&ev.infraction_time, w->r, w->h) != OPG_OK)
            return OPG_EEXPIRED;
        ev.fault_class = 1;
        ev.reporter = op_id(s->a ? 0 : 1); /* another node (every node verifies) */
        return opg_slasher_fault(NULL, w->sl, &ev, w->h, w->t);
    }
    case K_DOUBLE_SIGN: {
        opg_double_sign_evidence ev;
        memset(&ev, 0, sizeof ev);
        uint8_t sk[64];
        node_keys(ev.consensus_key.bytes, sk, s->a);
        opg_slasher_vote *v[2] = {&ev.vote_a, &ev.vote_b};
        for (int k = 0; k < 2; k++) {
            v[k]->type = OPG_VOTE_PRECOMMIT;
            v[k]->height = w->h;
            v[k]->block_id[0] = (uint8_t)(k + 1);
            uint8_t msg[OPG_VOTE_SIGN_BYTES_MAX];
            size_t len = 0;
            if (opg_slasher_vote_sign_bytes(msg, sizeof msg, &len, "opg-1", v[k]) != OPG_OK)
                return OPG_EINVARIANT;
            crypto_sign_detached(v[k]->signature, NULL, msg, len, sk);
        }
        if (opg_registry_block_time(&ev.infraction_time, w->r, w->h) != OPG_OK)
            return OPG_EEXPIRED;
        ev.validator_power = 0; /* the registry's */
        return opg_slasher_double_sign(NULL, w->sl, &ev, w->h, w->t);
    }
    case K_PARAM_SLASHER: /* a new window reallocates every bitmap */
        return opg_slasher_param_set(w->sl, "slashing.signed_blocks_window", s->a % 2 ? "64" : "10");
    case K_LOAD_SLASHER: {
        stash(w, 3, save_l, w->sl);
        long long live = w->fa->live_bytes;
        opg_slasher *l2 = NULL;
        int rc = opg_slasher_load(&l2, w->r2, w->blob[3], w->blob_len[3], &w->alloc);
        if (rc != OPG_OK && (l2 != NULL || w->fa->live_bytes != live))
            return OPG_EINVARIANT;
        w->sl2 = l2;
        return rc;
    }
    case K_PROPOSE: {
        opg_proposal_submit ps;
        memset(&ps, 0, sizeof ps);
        ps.proposer = dtor_id(s->a);
        ps.title = "oom";
        ps.summary = "a proposal of the allocation failure script";
        opg_param_change ch[2] = {{"gov.quorum", "0.3"}, {"staking.max_validators", "7"}};
        ps.kind = s->a % 2 ? OPG_PROPOSAL_PARAMS : OPG_PROPOSAL_TEXT;
        ps.changes = s->a % 2 ? ch : NULL;
        ps.change_count = s->a % 2 ? 2 : 0;
        ps.initial_deposit = u64v(s->a % 3 == 2 ? 10 : 1000);
        uint64_t id = 0;
        return opg_tally_submit(&id, w->ta, &ps, w->t);
    }
    case K_DEPOSIT: {
        opg_u256 amt = u64v(700);
        return opg_tally_deposit(NULL, w->ta, s->a + 1, &d, &amt, w->t);
    }
    case K_VOTE:
        return opg_tally_vote_option(w->ta, s->a + 1, &op, OPG_VOTE_YES);
    case K_VOTE_WEIGHTED: {
        opg_weighted_vote wv[3] = {{OPG_VOTE_YES, dec_of("0.5")}, {OPG_VOTE_NO, dec_of("0.25")},
                                   {OPG_VOTE_ABSTAIN, dec_of("0.25")}};
        return opg_tally_vote(w->ta, s->a + 1, &d, wv, 3);
    }
    case K_TALLY_END_BLOCK:
        return opg_tally_end_block(w->ta, w->h, w->t);
    case K_CANCEL_PROPOSAL: {
        opg_id proposer = dtor_id(s->a);
        return opg_tally_cancel(w->ta, s->a + 1, &proposer, w->t);
    }
    case K_PARAM_TALLY:
        return opg_tally_param_set(w->ta, "gov.quorum", s->a % 2 ? "0.4" : "0.2");
    case K_SAVE_TALLY: { /* sorting the votes allocates */
        size_t n = 0;
        unsigned long fail_at = w->fa->fail_at, calls = w->fa->calls;
        w->fa->fail_at = 0;
        opg_tally_save(NULL, 0, &n, w->ta); /* sizing, not under test */
        w->fa->fail_at = fail_at;
        w->fa->calls = calls;
        uint8_t *b = malloc(n);
        size_t len = 0;
        int rc = opg_tally_save(b, n, &len, w->ta);
        free(b);
        return rc;
    }
    case K_TALLY_HASH: {
        uint8_t h[32];
        return opg_tally_state_hash(h, w->ta);
    }
    case K_LOAD_TALLY: {
        stash(w, 4, save_t, w->ta);
        long long live = w->fa->live_bytes;
        opg_tally *t2 = NULL;
        int rc = opg_tally_load(&t2, w->r2, w->blob[4], w->blob_len[4], &w->alloc);
        if (rc != OPG_OK && (t2 != NULL || w->fa->live_bytes != live))
            return OPG_EINVARIANT;
        w->ta2 = t2;
        return rc;
    }
    case K_COUNT_: break;
    }
    return OPG_EINVAL;
}

/* ------------------------------------------------------------------ tests */

static int expected[MAX_STEPS];
static hashes final_hashes;

/* The run without failures: what each call returns, the final hashes. */
static void test_reference_run(void)
{
    build_script();
    failalloc fa;
    failalloc_init(&fa, 0);
    world w;
    CHECK_OK(world_new(&w, &fa));
    int ok = 0;
    for (size_t i = 0; i < n_script; i++) {
        expected[i] = run_step(&w, &script[i]);
        CHECK(expected[i] != OPG_ENOMEM && expected[i] != OPG_EINVARIANT);
        ok += expected[i] == OPG_OK;
        if (expected[i] != OPG_OK && getenv("OOM_DEBUG"))
            printf("  step %zu %s: %s\n", i, KIND_NAMES[script[i].kind], opg_errname(expected[i]));
    }
    hash_all(&final_hashes, &w);
    unsigned long allocations = fa.calls;
    CHECK_OK(opg_registry_check(w.r));
    CHECK_OK(opg_splitter_check(w.s));
    CHECK_OK(opg_slasher_check(w.sl));
    world_free(&w);
    CHECK(fa.live_bytes == 0 && fa.live_blocks == 0);
    printf("  %zu calls in the script, %d succeed, %zu refused by the rules; %lu allocations\n",
           n_script, ok, n_script - (size_t)ok, allocations);
    /* the script must mostly do things, or failing its allocations proves little */
    CHECK(ok >= (int)(n_script * 3 / 4));
}

static void test_every_allocation_fails_once(void)
{
    unsigned long n, handled = 0, at_creation = 0, bad = 0;
    unsigned long by_kind[K_COUNT_] = {0};
    for (n = 1;; n++) {
        failalloc fa;
        failalloc_init(&fa, n);
        world w;
        int diverged = 0;
        int rc = world_new(&w, &fa);
        if (rc != OPG_OK) {
            CHECK_RC(rc, OPG_ENOMEM);
            CHECK(fa.live_bytes == 0 && fa.live_blocks == 0);
            at_creation++;
            handled++;
            continue;
        }
        for (size_t i = 0; i < n_script; i++) {
            hashes before, after;
            hash_all(&before, &w);
            opg_height h0 = w.h; /* a repeated end_block closes the same block */
            opg_time t0 = w.t;
            rc = run_step(&w, &script[i]);
            if (rc == OPG_ENOMEM) {
                hash_all(&after, &w);
                for (size_t k = 0; k < before.n; k++)
                    if (memcmp(before.h[k], after.h[k], 32) != 0) {
                        printf("  allocation %lu failing in %s (step %zu) changed the %s state\n", n,
                               KIND_NAMES[script[i].kind], i, HANDLE_NAMES[k]);
                        CHECK(0);
                    }
                if (clears_events(script[i].kind)) {
                    size_t ne = 1;
                    opg_registry_events(w.r, &ne);
                    CHECK(ne == 0);
                }
                handled++;
                by_kind[script[i].kind]++;
                w.h = h0;
                w.t = t0;
                rc = run_step(&w, &script[i]); /* the failure point is used up */
            }
            if (rc != expected[i]) {
                printf("  allocation %lu failing: %s (step %zu) returned %s, %s without failures\n", n,
                       KIND_NAMES[script[i].kind], i, opg_errname(rc), opg_errname(expected[i]));
                bad++;
                diverged = 1;
                break; /* the rest of this run would only repeat the consequences */
            }
        }
        hashes end;
        hash_all(&end, &w);
        if (!diverged && memcmp(&end, &final_hashes, sizeof end) != 0) {
            printf("  allocation %lu failing: the run ended in another state\n", n);
            bad++;
        }
        world_free(&w);
        if (fa.live_bytes != 0 || fa.live_blocks != 0) {
            printf("  allocation %lu failing: %lld bytes in %lld blocks leaked\n", n, fa.live_bytes,
                   fa.live_blocks);
            CHECK(0);
        }
        if (getenv("OOM_DEBUG"))
            printf("  n %lu: %lu calls, %lu failures\n", n, fa.calls, fa.failures);
        if (fa.failures == 0)
            break; /* the whole sequence ran without reaching allocation n */
        CHECK(fa.failures == 1);
    }
    CHECK(bad == 0);
    printf("  allocation failure points tried: %lu; failures handled: %lu (%lu at creation)\n",
           n - 1, handled, at_creation);
    printf("  failures by call:");
    for (int k = 0; k < K_COUNT_; k++)
        if (by_kind[k])
            printf(" %s %lu", KIND_NAMES[k], by_kind[k]);
    printf("\n");
    CHECK(handled == n - 1);
    CHECK(n > 100);
}

int main(void)
{
    RUN(test_reference_run);
    RUN(test_every_allocation_fails_once);
    return harness_done();
}
