/*
 * node.c - a chain node on a real database: libopg's handles as the state machine,
 * LMDB as the store (`make examples`, then build/examples/node/node --help).
 *
 * The node runs a seeded workload as a chain of 5 s blocks. Every block:
 *
 *   begin   slasher: the last commit's signatures (a node now and then misses);
 *           pricer: the block's inference requests charged, their stakers' part
 *           the block's fees; splitter: mint, add the fees, allocate over the
 *           bonded nodes
 *   txs     registry: node creation, delegations, undelegations, redelegations;
 *           splitter: reward and commission withdrawals
 *   end     registry and pricer: end_block
 *   commit  each handle in tag order: its change set and its root; the app root over
 *           the handles' roots; then ONE LMDB write transaction with every change
 *           set, the height, the handles' roots and the app root
 *
 * Only after that transaction has committed is the block's line ("height app-root")
 * printed (--print-roots): a printed block is on disk. A node killed at any point
 * restarts at the block after the last committed one, with the state of that block
 * exactly: the store holds every record of every handle, nothing else, and the
 * handles are rebuilt by streaming the records back in key order from an LMDB
 * cursor and checked against the stored roots.
 *
 * Each block's operations are derived from (seed, height) and the state alone, never
 * from what this process did before, so a resumed run and an uninterrupted one make
 * the same blocks.
 *
 * The handles the node runs are the rows of one table (`handles` below): a tag, a
 * create, a load, a commit and a free function. A handle with records is added by
 * adding its row; its records go into the same store under its tag.
 *
 * The database (DIR, an LMDB environment): a named database "records" (key: record
 * key, value: record value, every handle's records) and "meta" (format, seed, nodes,
 * delegators, height, app_root, root/<handle> for each handle, and check: a hash
 * over the identity, the height and the app root).
 */
#define _POSIX_C_SOURCE 200809L
#include "opg.h"

#include <errno.h>
#include <inttypes.h>
#include <lmdb.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Exit codes (documented in --help and README). */
enum {
    EXIT_OKAY = 0,
    EXIT_FAILED = 1,   /* the run failed: I/O error, disk or map full, refused call */
    EXIT_USAGE = 2,    /* bad command line */
    EXIT_DAMAGED = 3,  /* the database is truncated or corrupt */
    EXIT_FOREIGN = 4   /* the database belongs to another chain (seed, nodes, ...) */
};

#define OPG_UNIT UINT64_C(1000000000000000000) /* 1 OPG in base units */
#define BLOCK_SECONDS 5
#define GENESIS_TIME 1767225600 /* 2026-01-01 */
#define META_FORMAT 3 /* 2: the pricer's records too; 3: the slasher's */
#define OPS_PER_BLOCK 24
#define NODE_EVERY 40 /* on average one new node every NODE_EVERY blocks */
#define REQUESTS_PER_BLOCK 16 /* inference requests: 1 to this many a block */

typedef struct config {
    const char *db;
    uint64_t blocks, seed;
    uint32_t nodes, delegators;
    int print_roots, bench, quiet;
} config;

typedef struct node {
    config cfg;
    MDB_env *env;
    MDB_dbi records, meta;
    opg_registry *reg;
    opg_pricer *pricer;
    opg_splitter *split;
    opg_slasher *slasher;
    opg_height height; /* last committed block; 0: none */
    uint8_t app_root[32];
    uint64_t refused, ops, records_written;
} node;

/* ------------------------------------------------------------ utilities */

static const char *db_dir = "";

static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("node: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void die(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("node: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (code == EXIT_DAMAGED)
        fprintf(stderr, "node: the database in %s is damaged; restore it from a backup or a "
                        "peer, or delete the directory to start the chain afresh\n",
                db_dir);
    exit(code);
}

/* LMDB's codes that mean the file's content is not a sound database. */
static int mdb_damage(int rc)
{
    return rc == MDB_CORRUPTED || rc == MDB_INVALID || rc == MDB_PAGE_NOTFOUND ||
           rc == MDB_BAD_VALSIZE || rc == MDB_INCOMPATIBLE || rc == MDB_VERSION_MISMATCH;
}

static void die_mdb(const char *what, int rc)
{
    die(mdb_damage(rc) ? EXIT_DAMAGED : EXIT_FAILED, "%s: %s: %s", db_dir, what, mdb_strerror(rc));
}

static void die_opg(const char *what, int rc, const char *detail)
{
    die(EXIT_FAILED, "%s: %s (%s)%s%s", what, opg_strerror(rc), opg_errname(rc),
        detail && *detail ? ": " : "", detail ? detail : "");
}

static void hex32(char out[65], const uint8_t h[32])
{
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void put_be64(uint8_t p[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_be64(const uint8_t p[8])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* --------------------------------------------------- the block's randomness */

/* A block's generator: seeded from (seed, height) only, so a resumed node draws
 * exactly what an uninterrupted one drew. */
typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rnd(rng *r)
{
    uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t below(rng *r, uint64_t n) { return n ? rnd(r) % n : 0; }

static rng block_rng(uint64_t seed, opg_height height)
{
    uint8_t in[16], out[8];
    put_be64(in, seed);
    put_be64(in + 8, height);
    crypto_generichash(out, sizeof out, in, sizeof in, NULL, 0);
    rng r = {get_be64(out)};
    return r;
}

/* Ids spread like real addresses: BLAKE2b of (kind, n). Kinds: 1 genesis node
 * operator, 2 delegator, 3 operator of the node created at height n, 4 consensus
 * key of a genesis node, 5 consensus key of the node created at height n. */
static opg_id id_of(uint32_t kind, uint64_t n)
{
    uint8_t in[12];
    in[0] = (uint8_t)(kind >> 24), in[1] = (uint8_t)(kind >> 16);
    in[2] = (uint8_t)(kind >> 8), in[3] = (uint8_t)kind;
    put_be64(in + 4, n);
    opg_id id;
    crypto_generichash(id.bytes, 32, in, sizeof in, NULL, 0);
    return id;
}

/* A consensus key a validator could sign with: the Ed25519 public key whose seed is
 * id_of(kind, n) (the registry refuses keys that are not points of prime order). */
static opg_id key_of(uint32_t kind, uint64_t n)
{
    opg_id seed = id_of(kind, n), key;
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_seed_keypair(key.bytes, sk, seed.bytes);
    return key;
}

static opg_u256 opg(uint64_t whole)
{
    opg_u256 v, unit;
    opg_u256_from_u64(&v, whole);
    opg_u256_from_u64(&unit, OPG_UNIT);
    opg_u256_mul(&v, &v, &unit);
    return v;
}

static opg_dec dec(const char *s)
{
    opg_dec d;
    if (opg_dec_from_string(&d, s))
        die_opg("bad decimal literal", OPG_EPARSE, s);
    return d;
}

/* ------------------------------------------------------------ the handles */

static int registry_create(node *n)
{
    opg_registry_params rp;
    opg_registry_params_init(&rp);
    rp.max_validators = n->cfg.nodes * 2 / 3 ? n->cfg.nodes * 2 / 3 : 1;
    opg_u256_from_u64(&rp.power_reduction, OPG_UNIT); /* one unit of power per OPG */
    rp.unbonding_time = 120 * BLOCK_SECONDS;          /* short, so entries mature in a run */
    opg_u256 supply = opg(1000000000);
    return opg_registry_new(&n->reg, &rp, &supply, NULL);
}

static int registry_load(node *n, opg_record_source next, void *ctx, const uint8_t root[32])
{
    return opg_registry_load_records(&n->reg, next, ctx, root, NULL);
}

static int registry_commit(uint8_t root[32], const opg_record **ch, size_t *count, node *n)
{
    return opg_registry_commit(root, ch, count, n->reg);
}

static void registry_free(node *n)
{
    opg_registry_free(n->reg);
    n->reg = NULL;
}

static const char *registry_error(const node *n) { return n->reg ? opg_registry_last_error(n->reg) : ""; }

/* Two dimensions priced by EIP-1559, tokens in and out; the fee's stakers' part
 * goes to the splitter, the rest to the inference node (outside this node). */
static int pricer_create(node *n)
{
    opg_pricer_params pp;
    opg_pricer_params_init(&pp);
    pp.dimension_count = 2;
    strcpy(pp.dimensions[0].name, "tokens_in");
    strcpy(pp.dimensions[1].name, "tokens_out");
    for (size_t d = 0; d < 2; d++) {
        opg_u256_from_u64(&pp.dimensions[d].target, 20000);
        opg_u256_from_u64(&pp.dimensions[d].limit, 80000);
        opg_u256_from_u64(&pp.dimensions[d].min_base_fee, 1000000);
        opg_u256_from_u64(&pp.dimensions[d].initial_base_fee, 1000000000);
    }
    pp.split.inference = dec("0.7");
    pp.split.stakers = dec("0.3");
    opg_pricer_class cls[2];
    memset(cls, 0, sizeof cls);
    cls[0].id = 1; /* a small model */
    cls[0].multiplier[0] = dec("1");
    cls[0].multiplier[1] = dec("1");
    cls[1].id = 2; /* a large one: output costs four times */
    cls[1].multiplier[0] = dec("2");
    cls[1].multiplier[1] = dec("8");
    pp.classes = cls;
    pp.class_count = 2;
    return opg_pricer_new(&n->pricer, &pp, NULL);
}

static int pricer_load(node *n, opg_record_source next, void *ctx, const uint8_t root[32])
{
    return opg_pricer_load_records(&n->pricer, next, ctx, root, NULL);
}

static int pricer_commit(uint8_t root[32], const opg_record **ch, size_t *count, node *n)
{
    return opg_pricer_commit(root, ch, count, n->pricer);
}

static void pricer_free(node *n)
{
    opg_pricer_free(n->pricer);
    n->pricer = NULL;
}

static const char *pricer_error(const node *n) { return n->pricer ? opg_pricer_last_error(n->pricer) : ""; }

static int splitter_create(node *n)
{
    opg_splitter_params sp;
    opg_splitter_params_init(&sp); /* cosmos mint */
    sp.perf_share = dec("0.2");
    return opg_splitter_new(&n->split, n->reg, &sp, NULL);
}

static int splitter_load(node *n, opg_record_source next, void *ctx, const uint8_t root[32])
{
    return opg_splitter_load_records(&n->split, n->reg, next, ctx, root, NULL);
}

static int splitter_commit(uint8_t root[32], const opg_record **ch, size_t *count, node *n)
{
    return opg_splitter_commit(root, ch, count, n->split);
}

static void splitter_free(node *n)
{
    opg_splitter_free(n->split);
    n->split = NULL;
}

static const char *splitter_error(const node *n) { return n->split ? opg_splitter_last_error(n->split) : ""; }

/* Liveness over a window of 100 blocks (the defaults otherwise). */
static int slasher_create(node *n)
{
    opg_slasher_params lp;
    opg_slasher_params_init(&lp);
    return opg_slasher_new(&n->slasher, n->reg, &lp, NULL);
}

static int slasher_load(node *n, opg_record_source next, void *ctx, const uint8_t root[32])
{
    return opg_slasher_load_records(&n->slasher, n->reg, next, ctx, root, NULL);
}

static int slasher_commit(uint8_t root[32], const opg_record **ch, size_t *count, node *n)
{
    return opg_slasher_commit(root, ch, count, n->slasher);
}

static void slasher_free(node *n)
{
    opg_slasher_free(n->slasher);
    n->slasher = NULL;
}

static const char *slasher_error(const node *n) { return n->slasher ? opg_slasher_last_error(n->slasher) : ""; }

/*
 * The handles, in tag order: the order of their commits, of their roots in the app
 * root, and of their loads (a handle created on another loads after it). Freed in
 * reverse order. Adding a handle with records is adding its row.
 */
typedef struct handle_kind {
    uint8_t tag;      /* OPG_RECORDS_*: the first byte of its record keys */
    const char *name; /* its root's meta key is "root/<name>" */
    int (*create)(node *n);
    int (*load)(node *n, opg_record_source next, void *ctx, const uint8_t root[32]);
    int (*commit)(uint8_t root[32], const opg_record **changes, size_t *count, node *n);
    void (*free)(node *n);
    const char *(*last_error)(const node *n);
} handle_kind;

static const handle_kind handles[] = {
    {OPG_RECORDS_REGISTRY, "registry", registry_create, registry_load, registry_commit,
     registry_free, registry_error},
    {OPG_RECORDS_PRICER, "pricer", pricer_create, pricer_load, pricer_commit, pricer_free,
     pricer_error},
    {OPG_RECORDS_SPLITTER, "splitter", splitter_create, splitter_load, splitter_commit,
     splitter_free, splitter_error},
    {OPG_RECORDS_SLASHER, "slasher", slasher_create, slasher_load, slasher_commit, slasher_free,
     slasher_error},
};
#define N_HANDLES (sizeof handles / sizeof handles[0])

static void free_handles(node *n)
{
    for (size_t i = N_HANDLES; i-- > 0;)
        handles[i].free(n);
}

/* The app root, the one hash a block header carries (opg_app_root: the handles'
 * roots in tag order). */
static void app_root(uint8_t out[32], const uint8_t roots[][32])
{
    opg_handle_root hr[N_HANDLES];
    for (size_t i = 0; i < N_HANDLES; i++) {
        hr[i].tag = handles[i].tag;
        memcpy(hr[i].root, roots[i], 32);
    }
    if (opg_app_root(out, hr, N_HANDLES) != OPG_OK)
        abort(); /* the table lists the handles in tag order */
}

/* The meta records' own check: BLAKE2b-256 ("opg.node.meta") over the chain's
 * identity, the height and the app root, so a damaged height (which no handle's
 * root covers) is found too. */
static void meta_check(uint8_t out[32], const config *c, uint64_t height, const uint8_t app[32])
{
    uint8_t personal[crypto_generichash_blake2b_PERSONALBYTES] = "opg.node.meta";
    uint8_t in[5 * 8 + 32];
    put_be64(in, META_FORMAT);
    put_be64(in + 8, c->seed);
    put_be64(in + 16, c->nodes);
    put_be64(in + 24, c->delegators);
    put_be64(in + 32, height);
    memcpy(in + 40, app, 32);
    crypto_generichash_blake2b_salt_personal(out, 32, in, sizeof in, NULL, 0, NULL, personal);
}

/* ------------------------------------------------------------ the workload */

static opg_node_create node_params(opg_id op, opg_id key, rng *r)
{
    opg_node_create nc;
    memset(&nc, 0, sizeof nc);
    nc.operator_id = op;
    nc.consensus_key = key;
    nc.roles = OPG_ROLE_CONSENSUS | OPG_ROLE_INFERENCE;
    char rate[16];
    snprintf(rate, sizeof rate, "0.%02u", 5 + (unsigned)below(r, 16));
    nc.commission_rate = dec(rate);
    nc.commission_max_rate = dec("0.3");
    nc.commission_max_change_rate = dec("0.02");
    nc.min_self_delegation = opg(1000);
    nc.self_delegation = opg(10000 + below(r, 90001));
    return nc;
}

static opg_time time_at(opg_height h) { return GENESIS_TIME + (opg_time)h * BLOCK_SECONDS; }

/* Genesis (height 1): the nodes, one delegation per delegator. */
static void genesis_ops(node *n)
{
    rng r = block_rng(n->cfg.seed, 1);
    opg_time now = time_at(1);
    for (uint32_t i = 0; i < n->cfg.nodes; i++) {
        opg_node_create nc = node_params(id_of(1, i), key_of(4, i), &r);
        int rc = opg_registry_node_create(n->reg, &nc, 1, now);
        if (rc)
            die_opg("genesis node", rc, opg_registry_last_error(n->reg));
    }
    for (uint32_t d = 0; d < n->cfg.delegators; d++) {
        /* a few large nodes attract more (the square of a uniform pick) */
        uint64_t x = below(&r, 1000);
        opg_id op = id_of(1, x * x * n->cfg.nodes / 1000000);
        opg_id who = id_of(2, d);
        opg_u256 amt = opg(100 + below(&r, 9901));
        int rc = opg_registry_delegate(NULL, n->reg, &who, &op, &amt, 1, now);
        if (rc)
            die_opg("genesis delegation", rc, opg_registry_last_error(n->reg));
    }
}

/* A refusal by the rules is part of the workload; anything else ends the run. */
static void check_op(node *n, const char *what, int rc, const char *detail)
{
    n->ops++;
    if (rc == OPG_OK)
        return;
    if (rc == OPG_ENOMEM || rc == OPG_EINVARIANT || rc == OPG_EINVAL || rc == OPG_ECORRUPT ||
        rc == OPG_EOVERFLOW)
        die_opg(what, rc, detail);
    n->refused++;
}

static int random_node(opg_node_info *out, const node *n, rng *r)
{
    size_t count = opg_registry_node_count(n->reg);
    return count ? opg_registry_node_at(out, n->reg, (size_t)below(r, count)) : OPG_ENOTFOUND;
}

/* The block's inference requests: each charged at the pricer's base fee plus a
 * small tip (a request the block has no room for is refused, as a chain would);
 * the stakers' parts add up to the block's fees. */
static opg_u256 charge_requests(node *n, rng *r)
{
    opg_u256 fees = {{0, 0, 0, 0}}, unlimited, tip;
    memset(&unlimited, 0xff, sizeof unlimited);
    opg_u256_from_u64(&tip, 1000);
    for (uint64_t k = 1 + below(r, REQUESTS_PER_BLOCK); k > 0; k--) {
        opg_pricer_request rq;
        memset(&rq, 0, sizeof rq);
        rq.model_class = 1 + (uint32_t)below(r, 2);
        opg_u256_from_u64(&rq.units[0], 100 + below(r, 4000));
        opg_u256_from_u64(&rq.units[1], 10 + below(r, 1000));
        opg_pricer_receipt rc;
        int e = opg_pricer_charge(&rc, NULL, n->pricer, &rq, &unlimited, &tip, NULL, 0);
        if (e == OPG_ELIMIT) {
            n->refused++;
            continue;
        }
        if (e != OPG_OK || opg_u256_add(&fees, &fees, &rc.stakers) != OPG_OK)
            die_opg("charge", e, opg_pricer_last_error(n->pricer));
    }
    return fees;
}

/* The last commit's signatures: every bonded node, each missing one block in 50
 * (below the window's threshold: the chain stays live). */
static void record_signatures(node *n, rng *r, opg_height h, opg_time now)
{
    size_t count = opg_registry_node_count(n->reg), k = 0;
    opg_commit_sig *sigs = calloc(count ? count : 1, sizeof *sigs);
    if (!sigs)
        die(EXIT_FAILED, "out of memory");
    for (size_t i = 0; i < count; i++) {
        opg_node_info ni;
        if (opg_registry_node_at(&ni, n->reg, i) != OPG_OK || ni.status != OPG_NODE_BONDED || ni.jailed)
            continue;
        sigs[k].consensus_key = ni.consensus_key;
        sigs[k].power = ni.power;
        sigs[k++].signed_block = below(r, 50) != 0;
    }
    int rc = opg_slasher_record_commit(n->slasher, sigs, k, h, now);
    free(sigs);
    if (rc)
        die_opg("record_commit", rc, opg_slasher_last_error(n->slasher));
}

/* Begin: mint, this block's fees, allocation over the bonded nodes by power, with a
 * performance score fixed per node. */
static void begin_block(node *n, rng *r, opg_height h, opg_time now)
{
    record_signatures(n, r, h, now);
    int rc = opg_splitter_mint(NULL, n->split, h, now);
    if (rc)
        die_opg("mint", rc, opg_splitter_last_error(n->split));
    opg_u256 fees = charge_requests(n, r);
    if ((rc = opg_splitter_add_fees(n->split, &fees)) != OPG_OK)
        die_opg("add_fees", rc, opg_splitter_last_error(n->split));
    size_t count = opg_registry_node_count(n->reg), k = 0;
    opg_commit_vote *votes = calloc(count ? count : 1, sizeof *votes);
    if (!votes)
        die(EXIT_FAILED, "out of memory");
    for (size_t i = 0; i < count; i++) {
        opg_node_info ni;
        if (opg_registry_node_at(&ni, n->reg, i) != OPG_OK || ni.status != OPG_NODE_BONDED ||
            ni.jailed || ni.power == 0)
            continue;
        votes[k].consensus_key = ni.consensus_key;
        votes[k].power = ni.power;
        char score[8];
        snprintf(score, sizeof score, "0.%02u", 50 + ni.operator_id.bytes[0] % 50);
        votes[k++].score = dec(score);
    }
    rc = opg_splitter_allocate(n->split, votes, k, h, now);
    free(votes);
    if (rc)
        die_opg("allocate", rc, opg_splitter_last_error(n->split));
}

/* One delegator acts: stakes more (mostly with a node it already backs), takes
 * some or all of a delegation out, moves it, or claims its rewards; or a node's
 * operator claims its commission. */
static void delegator_op(node *n, rng *r, opg_height h, opg_time now)
{
    opg_id who = id_of(2, below(r, n->cfg.delegators));
    uint64_t pick = below(r, 100);
    opg_node_info target;
    if (random_node(&target, n, r) != OPG_OK)
        return;
    opg_delegation_info di[16];
    size_t cnt = 0;
    if (opg_registry_delegations_of(di, 16, &cnt, n->reg, &who) != OPG_OK)
        cnt = 0; /* more than 16: it acts with a new node only */
    const opg_delegation_info *d = cnt ? &di[below(r, cnt)] : NULL;
    if (pick < 35) {
        opg_u256 amt = opg(10 + below(r, 2000));
        const opg_id *to = d && below(r, 4) ? &d->operator_id : &target.operator_id;
        check_op(n, "delegate", opg_registry_delegate(NULL, n->reg, &who, to, &amt, h, now),
                 opg_registry_last_error(n->reg));
        return;
    }
    if (!d)
        return;
    /* all of it half of the time, else a half, a third or a quarter */
    opg_u256 part, div;
    opg_u256_from_u64(&div, below(r, 2) ? 1 : 2 + below(r, 3));
    opg_u256_divmod(&part, NULL, &d->tokens, &div);
    if (opg_u256_is_zero(&part))
        return;
    if (pick < 55) {
        check_op(n, "undelegate",
                 opg_registry_undelegate(NULL, NULL, n->reg, &who, &d->operator_id, &part, h, now),
                 opg_registry_last_error(n->reg));
    } else if (pick < 70) {
        if (opg_id_cmp(&target.operator_id, &d->operator_id) == 0)
            return;
        check_op(n, "redelegate",
                 opg_registry_redelegate(NULL, n->reg, &who, &d->operator_id, &target.operator_id,
                                         &part, h, now),
                 opg_registry_last_error(n->reg));
    } else if (pick < 95) {
        check_op(n, "withdraw_rewards",
                 opg_splitter_withdraw_rewards(NULL, n->split, &who, &d->operator_id, h, now),
                 opg_splitter_last_error(n->split));
    } else {
        check_op(n, "withdraw_commission",
                 opg_splitter_withdraw_commission(NULL, n->split, &target.operator_id),
                 opg_splitter_last_error(n->split));
    }
}

/* The operations of block h (h >= 2), from (seed, h) and the state. */
static void block_ops(node *n, opg_height h)
{
    rng r = block_rng(n->cfg.seed, h);
    opg_time now = time_at(h);
    begin_block(n, &r, h, now);
    if (below(&r, NODE_EVERY) == 0) {
        opg_node_create nc = node_params(id_of(3, h), key_of(5, h), &r);
        check_op(n, "node_create", opg_registry_node_create(n->reg, &nc, h, now),
                 opg_registry_last_error(n->reg));
    }
    for (int k = 0; k < OPS_PER_BLOCK; k++)
        delegator_op(n, &r, h, now);
}

/* --------------------------------------------------------------- the store */

static void meta_put(MDB_txn *txn, node *n, const char *key, const void *v, size_t len)
{
    MDB_val k = {strlen(key), (void *)key}, d = {len, (void *)v};
    int rc = mdb_put(txn, n->meta, &k, &d, 0);
    if (rc)
        die_mdb("write meta", rc);
}

static void meta_put_u64(MDB_txn *txn, node *n, const char *key, uint64_t v)
{
    uint8_t b[8];
    put_be64(b, v);
    meta_put(txn, n, key, b, 8);
}

/* 1 and the value if present with exactly len bytes; 0 if absent; a value of
 * another size is damage. */
static int meta_get(MDB_txn *txn, const node *n, const char *key, void *out, size_t len)
{
    MDB_val k = {strlen(key), (void *)key}, d;
    int rc = mdb_get(txn, n->meta, &k, &d);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        die_mdb("read meta", rc);
    if (d.mv_size != len)
        die(EXIT_DAMAGED, "%s: meta record \"%s\" has %zu bytes, not %zu", db_dir, key, d.mv_size,
            len);
    memcpy(out, d.mv_data, len);
    return 1;
}

static int meta_get_u64(MDB_txn *txn, const node *n, const char *key, uint64_t *v)
{
    uint8_t b[8];
    if (!meta_get(txn, n, key, b, 8))
        return 0;
    *v = get_be64(b);
    return 1;
}

/* Writes one block: every handle's change set, the roots, the height; one commit. */
static void store_block(node *n, opg_height h, const opg_record *const changes[],
                        const size_t counts[], const uint8_t roots[][32])
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(n->env, NULL, 0, &txn);
    if (rc)
        die_mdb("begin write", rc);
    for (size_t i = 0; i < N_HANDLES; i++) {
        for (size_t j = 0; j < counts[i]; j++) {
            const opg_record *c = &changes[i][j];
            MDB_val k = {c->key_len, (void *)c->key};
            if (c->present) {
                MDB_val d = {c->value_len, (void *)c->value};
                rc = mdb_put(txn, n->records, &k, &d, 0);
            } else {
                /* a record made and dropped since the last commit (an F1 history
                 * period opened and released within the block) comes as a deletion
                 * of a key the store never held: nothing to delete */
                rc = mdb_del(txn, n->records, &k, NULL);
                if (rc == MDB_NOTFOUND)
                    rc = 0;
            }
            if (rc)
                die_mdb("write records", rc);
        }
        n->records_written += counts[i];
        char key[64];
        snprintf(key, sizeof key, "root/%s", handles[i].name);
        meta_put(txn, n, key, roots[i], 32);
    }
    meta_put(txn, n, "app_root", n->app_root, 32);
    meta_put_u64(txn, n, "height", h);
    uint8_t check[32];
    meta_check(check, &n->cfg, h, n->app_root);
    meta_put(txn, n, "check", check, 32);
    if ((rc = mdb_txn_commit(txn)) != 0)
        die_mdb("commit", rc);
}

/* An opg_record_source over the records of one handle: the keys starting with its
 * tag, from an LMDB cursor, in LMDB's key order (bytewise: the library's). */
typedef struct cursor_source {
    MDB_cursor *cur;
    uint8_t tag;
    int started, mdb_rc;
    size_t count;
} cursor_source;

static int cursor_next(void *ctx, opg_record *rec)
{
    cursor_source *cs = ctx;
    MDB_val k, v;
    int rc;
    if (!cs->started) {
        k.mv_size = 1;
        k.mv_data = &cs->tag;
        rc = mdb_cursor_get(cs->cur, &k, &v, MDB_SET_RANGE);
        cs->started = 1;
    } else {
        rc = mdb_cursor_get(cs->cur, &k, &v, MDB_NEXT);
    }
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc) {
        cs->mdb_rc = rc;
        return OPG_ECORRUPT;
    }
    if (k.mv_size == 0 || *(const uint8_t *)k.mv_data != cs->tag)
        return 0;
    rec->key = k.mv_data;
    rec->key_len = k.mv_size;
    rec->value = v.mv_data;
    rec->value_len = v.mv_size;
    rec->present = 1;
    cs->count++;
    return 1;
}

/* Reading a damaged memory-mapped file can fault where LMDB checks nothing (a page
 * past the end of a file that shrank after the check below): while the node reads
 * the store, such a fault ends it with the damaged-database exit code and a message
 * instead of a crash. */
static void read_fault(int sig)
{
    static const char msg[] = "node: fault while reading the database: it is damaged\n";
    (void)sig;
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    _exit(EXIT_DAMAGED);
}

static void guard_reads(int on)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on ? read_fault : SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGSEGV, &sa, NULL);
}

/* The data file must hold every page its newest meta page counts: a shorter file was
 * truncated (LMDB would map the missing pages and fault on them). */
static void check_size(node *n)
{
    MDB_envinfo info;
    MDB_stat st;
    int rc = mdb_env_info(n->env, &info);
    if (rc == 0)
        rc = mdb_env_stat(n->env, &st);
    if (rc)
        die_mdb("read the environment", rc);
    char path[4096];
    snprintf(path, sizeof path, "%s/data.mdb", n->cfg.db);
    struct stat fs;
    if (stat(path, &fs) != 0)
        die(EXIT_FAILED, "%s: %s", path, strerror(errno));
    uint64_t need = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
    if ((uint64_t)fs.st_size < need)
        die(EXIT_DAMAGED, "%s: truncated: %" PRIu64 " bytes, the database needs %" PRIu64, path,
            (uint64_t)fs.st_size, need);
}

static void open_env(node *n, const char *dir)
{
    int rc = mdb_env_create(&n->env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs(n->env, 2);
    /* address space only: the file grows with the data */
    if (rc == 0)
        rc = mdb_env_set_mapsize(n->env, sizeof(size_t) >= 8 ? (size_t)1 << 36 : (size_t)1 << 30);
    if (rc == 0)
        rc = mdb_env_open(n->env, dir, 0, 0644);
    if (rc)
        die_mdb("open", rc);
}

/* A new environment with its two databases and the chain's identity, and no height;
 * made in a scratch directory renamed into place, so DIR is never a half-made
 * environment. */
static void create_env(node *n)
{
    const char *dir = n->cfg.db;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.new", dir);
    char lock[4200], data[4200];
    snprintf(lock, sizeof lock, "%s/lock.mdb", tmp);
    snprintf(data, sizeof data, "%s/data.mdb", tmp);
    unlink(lock);
    unlink(data);
    rmdir(tmp); /* a leftover of a node killed while creating */
    if (mkdir(tmp, 0755) != 0)
        die(EXIT_FAILED, "cannot create %s: %s", tmp, strerror(errno));
    open_env(n, tmp);
    MDB_txn *txn;
    int rc = mdb_txn_begin(n->env, NULL, 0, &txn);
    if (rc == 0)
        rc = mdb_dbi_open(txn, "records", MDB_CREATE, &n->records);
    if (rc == 0)
        rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &n->meta);
    if (rc)
        die_mdb("create", rc);
    meta_put_u64(txn, n, "format", META_FORMAT);
    meta_put_u64(txn, n, "seed", n->cfg.seed);
    meta_put_u64(txn, n, "nodes", n->cfg.nodes);
    meta_put_u64(txn, n, "delegators", n->cfg.delegators);
    if ((rc = mdb_txn_commit(txn)) != 0)
        die_mdb("create", rc);
    mdb_env_close(n->env);
    n->env = NULL;
    if (rename(tmp, dir) != 0)
        die(EXIT_FAILED, "cannot rename %s to %s: %s", tmp, dir, strerror(errno));
}

static void check_identity(MDB_txn *txn, node *n)
{
    uint64_t format, v;
    if (!meta_get_u64(txn, n, "format", &format))
        die(EXIT_DAMAGED, "%s: no meta \"format\" record", db_dir);
    if (format != META_FORMAT)
        die(EXIT_FOREIGN, "%s: store format %" PRIu64 ", this node reads format %d", db_dir, format,
            META_FORMAT);
    static const char *const keys[] = {"seed", "nodes", "delegators"};
    const uint64_t want[] = {n->cfg.seed, n->cfg.nodes, n->cfg.delegators};
    for (int i = 0; i < 3; i++) {
        if (!meta_get_u64(txn, n, keys[i], &v))
            die(EXIT_DAMAGED, "%s: no meta \"%s\" record", db_dir, keys[i]);
        if (v != want[i])
            die(EXIT_FOREIGN, "%s: the database is of another chain: it was made with --%s %" PRIu64
                              ", not %" PRIu64,
                db_dir, keys[i], v, want[i]);
    }
}

/* Rebuilds every handle from the store and checks it against the stored roots. */
static void load_handles(node *n, MDB_txn *txn, uint64_t height)
{
    uint8_t roots[N_HANDLES][32], stored_app[32];
    size_t loaded = 0;
    for (size_t i = 0; i < N_HANDLES; i++) {
        char key[64];
        snprintf(key, sizeof key, "root/%s", handles[i].name);
        if (!meta_get(txn, n, key, roots[i], 32))
            die(EXIT_DAMAGED, "%s: a committed height but no meta \"%s\"", db_dir, key);
        cursor_source cs;
        memset(&cs, 0, sizeof cs);
        cs.tag = handles[i].tag;
        int rc = mdb_cursor_open(txn, n->records, &cs.cur);
        if (rc)
            die_mdb("open a cursor", rc);
        rc = handles[i].load(n, cursor_next, &cs, roots[i]);
        mdb_cursor_close(cs.cur);
        if (cs.mdb_rc)
            die_mdb(handles[i].name, cs.mdb_rc);
        if (rc == OPG_ECORRUPT || rc == OPG_EVERSION)
            die(EXIT_DAMAGED, "%s: the %s's %zu records do not load: %s (%s) (a record is "
                              "malformed, missing or extra, or they do not hash to the stored root)",
                db_dir, handles[i].name, cs.count, opg_strerror(rc), opg_errname(rc));
        if (rc)
            die_opg(handles[i].name, rc, "");
        loaded += cs.count;
    }
    MDB_stat st;
    int rc = mdb_stat(txn, n->records, &st);
    if (rc)
        die_mdb("stat records", rc);
    if (st.ms_entries != loaded)
        die(EXIT_DAMAGED, "%s: %zu records in the store, %zu of them of this node's handles", db_dir,
            (size_t)st.ms_entries, loaded);
    uint8_t want[32];
    app_root(want, (const uint8_t(*)[32])roots);
    if (!meta_get(txn, n, "app_root", stored_app, 32))
        die(EXIT_DAMAGED, "%s: a committed height but no meta \"app_root\"", db_dir);
    if (memcmp(want, stored_app, 32) != 0)
        die(EXIT_DAMAGED, "%s: the stored app root is not the one of the stored handle roots", db_dir);
    uint8_t check[32], stored_check[32];
    meta_check(check, &n->cfg, height, stored_app);
    if (!meta_get(txn, n, "check", stored_check, 32) || memcmp(check, stored_check, 32) != 0)
        die(EXIT_DAMAGED, "%s: the meta records (height %" PRIu64 ", app root) fail their check", db_dir,
            height);
    memcpy(n->app_root, stored_app, 32);
}

/* Opens (or creates) the store; rebuilds the handles when it holds a committed
 * height. */
static void start(node *n)
{
    const char *dir = n->cfg.db;
    char data[4200];
    snprintf(data, sizeof data, "%s/data.mdb", dir);
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno != ENOENT)
            die(EXIT_FAILED, "%s: %s", dir, strerror(errno));
        create_env(n);
    } else if (!S_ISDIR(st.st_mode)) {
        die(EXIT_USAGE, "--db %s is not a directory", dir);
    } else if (stat(data, &st) != 0) {
        die(EXIT_DAMAGED, "%s: no data.mdb (an empty or foreign directory; the node creates "
                          "its own directory when --db names none)", dir);
    }
    guard_reads(1);
    long page = sysconf(_SC_PAGESIZE);
    if (stat(data, &st) == 0 && st.st_size < 2 * (page > 0 ? page : 4096))
        die(EXIT_DAMAGED, "%s: truncated: %lld bytes, less than LMDB's two meta pages", data,
            (long long)st.st_size);
    open_env(n, dir);
    check_size(n);
    MDB_txn *txn;
    int rc = mdb_txn_begin(n->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        die_mdb("begin read", rc);
    if ((rc = mdb_dbi_open(txn, "records", 0, &n->records)) != 0 ||
        (rc = mdb_dbi_open(txn, "meta", 0, &n->meta)) != 0) {
        if (rc == MDB_NOTFOUND)
            die(EXIT_DAMAGED, "%s: no \"records\" or \"meta\" database", dir);
        die_mdb("open the databases", rc);
    }
    check_identity(txn, n);
    uint64_t height = 0;
    if (meta_get_u64(txn, n, "height", &height)) {
        if (height == 0)
            die(EXIT_DAMAGED, "%s: committed height 0", dir);
        double t0 = wall_seconds();
        load_handles(n, txn, height);
        n->height = height;
        char hx[65];
        hex32(hx, n->app_root);
        if (!n->cfg.quiet)
            say("resumed at height %" PRIu64 " (app root %s), %zu delegations, loaded in %.2f s",
                height, hx, opg_registry_delegation_count(n->reg), wall_seconds() - t0);
    }
    /* the read transaction ends; the databases' handles stay open */
    if ((rc = mdb_txn_commit(txn)) != 0)
        die_mdb("end read", rc);
    guard_reads(0);
}

/* --------------------------------------------------------------- the chain */

static void run_block(node *n, opg_height h)
{
    if (h == 1) {
        for (size_t i = 0; i < N_HANDLES; i++) {
            int rc = handles[i].create(n);
            if (rc)
                die_opg(handles[i].name, rc, "");
        }
        genesis_ops(n);
    } else {
        block_ops(n, h);
    }
    /* the deferred slashes now due (none while slashing.defer_duration is 0) */
    int rc = opg_slasher_end_block(n->slasher, h, time_at(h));
    if (rc)
        die_opg("slasher_end_block", rc, opg_slasher_last_error(n->slasher));
    rc = opg_registry_end_block(n->reg, h, time_at(h));
    if (rc)
        die_opg("end_block", rc, opg_registry_last_error(n->reg));
    if ((rc = opg_pricer_end_block(NULL, n->pricer)) != OPG_OK)
        die_opg("pricer end_block", rc, opg_pricer_last_error(n->pricer));
    const opg_record *changes[N_HANDLES];
    size_t counts[N_HANDLES];
    uint8_t roots[N_HANDLES][32];
    for (size_t i = 0; i < N_HANDLES; i++)
        if ((rc = handles[i].commit(roots[i], &changes[i], &counts[i], n)) != OPG_OK)
            die_opg("commit", rc, handles[i].last_error(n));
    app_root(n->app_root, (const uint8_t(*)[32])roots);
    store_block(n, h, changes, counts, (const uint8_t(*)[32])roots);
    n->height = h;
    if (n->cfg.print_roots) {
        char hx[65];
        hex32(hx, n->app_root);
        printf("%" PRIu64 " %s\n", h, hx);
        fflush(stdout);
    }
}

/* ------------------------------------------------------------------- main */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: node --db DIR [options]\n"
            "Runs a seeded workload as a chain of blocks on libopg's registry, pricer,\n"
            "splitter and slasher, committing each block into the LMDB environment DIR;\n"
            "resumes where DIR ends.\n"
            "  --db DIR          the database (created when DIR does not exist)\n"
            "  --blocks N        run until height N (default 1000; height 1 is genesis)\n"
            "  --seed N          the workload's seed (default 1), stored in DIR\n"
            "  --nodes N         nodes at genesis (default 20), stored in DIR\n"
            "  --delegators N    delegators, one delegation each at genesis (default 1000)\n"
            "  --print-roots     print \"height app-root\" for every block once it is on disk\n"
            "  --bench           print result state.node_blocks_per_s for this run's blocks\n"
            "  --quiet           no progress lines on stderr\n"
            "  --help            this text\n"
            "exit status: 0 done; 1 the run failed (I/O, a refused call); 2 bad arguments;\n"
            "3 the database is truncated or corrupt; 4 the database is of another chain\n"
            "(another --seed, --nodes or --delegators) or format\n");
}

static uint64_t parse_num(const char *flag, const char *v, uint64_t min, uint64_t max)
{
    char *end;
    errno = 0;
    unsigned long long x = v && *v != '-' ? strtoull(v, &end, 10) : 0;
    if (!v || *v == '-' || !*v || errno || *end || x < min || x > max) {
        fprintf(stderr, "node: %s needs a whole number from %" PRIu64 " to %" PRIu64 "\n", flag, min,
                max);
        usage(stderr);
        exit(EXIT_USAGE);
    }
    return x;
}

int main(int argc, char **argv)
{
    node n;
    memset(&n, 0, sizeof n);
    config *c = &n.cfg;
    c->blocks = 1000;
    c->seed = 1;
    c->nodes = 20;
    c->delegators = 1000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return EXIT_OKAY;
        } else if (strcmp(a, "--db") == 0) {
            if (!v || !*v) {
                fprintf(stderr, "node: --db needs a directory\n");
                usage(stderr);
                return EXIT_USAGE;
            }
            c->db = v, i++;
        } else if (strcmp(a, "--blocks") == 0) {
            c->blocks = parse_num(a, v, 1, UINT64_MAX / 2), i++;
        } else if (strcmp(a, "--seed") == 0) {
            c->seed = parse_num(a, v, 0, UINT64_MAX), i++;
        } else if (strcmp(a, "--nodes") == 0) {
            c->nodes = (uint32_t)parse_num(a, v, 1, 10000), i++;
        } else if (strcmp(a, "--delegators") == 0) {
            c->delegators = (uint32_t)parse_num(a, v, 1, 100000000), i++;
        } else if (strcmp(a, "--print-roots") == 0) {
            c->print_roots = 1;
        } else if (strcmp(a, "--bench") == 0) {
            c->bench = 1;
        } else if (strcmp(a, "--quiet") == 0) {
            c->quiet = 1;
        } else {
            fprintf(stderr, "node: unknown option %s\n", a);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (!c->db) {
        fprintf(stderr, "node: --db DIR is required\n");
        usage(stderr);
        return EXIT_USAGE;
    }
    /* "dir/" and "dir" are the same directory (and "dir.new" its scratch twin) */
    static char db[4096];
    size_t len = strlen(c->db);
    while (len > 1 && c->db[len - 1] == '/')
        len--;
    if (len >= sizeof db - 16) {
        fprintf(stderr, "node: --db path too long\n");
        return EXIT_USAGE;
    }
    memcpy(db, c->db, len);
    db[len] = '\0';
    c->db = db_dir = db;
    if (sodium_init() < 0)
        die(EXIT_FAILED, "libsodium does not initialise");
    start(&n);
    if (n.height >= c->blocks) {
        if (!c->quiet)
            say("height %" PRIu64 " already committed, nothing to do (--blocks %" PRIu64 ")",
                n.height, c->blocks);
    } else {
        opg_height first = n.height + 1;
        double t0 = wall_seconds(), t_timed = t0;
        uint64_t timed = 0; /* blocks after genesis, which the rate counts */
        for (opg_height h = first; h <= c->blocks; h++) {
            if (h >= 2 && timed++ == 0)
                t_timed = wall_seconds();
            run_block(&n, h);
        }
        double t1 = wall_seconds();
        double rate = timed && t1 > t_timed ? (double)timed / (t1 - t_timed) : 0;
        if (!c->quiet)
            say("blocks %" PRIu64 "..%" PRIu64 " in %.2f s (%.1f blocks/s after genesis); "
                "%zu nodes, %zu delegations; %" PRIu64 " ops (%" PRIu64 " refused by the rules), "
                "%" PRIu64 " records written",
                first, c->blocks, t1 - t0, rate, opg_registry_node_count(n.reg),
                opg_registry_delegation_count(n.reg), n.ops, n.refused, n.records_written);
        if (c->bench)
            printf("result state.node_blocks_per_s %.1f blocks/s\n", rate);
        int rc = opg_registry_check(n.reg);
        if (rc == OPG_OK)
            rc = opg_splitter_check(n.split);
        if (rc)
            die_opg("invariant check", rc, opg_splitter_last_error(n.split));
    }
    free_handles(&n);
    mdb_env_close(n.env);
    return EXIT_OKAY;
}
