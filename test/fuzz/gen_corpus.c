/*
 * gen_corpus.c - writes the seed corpora of the fuzz targets (run by `make corpus`;
 * the output is checked in, so this runs only when the formats change):
 *
 *   pricer_load/gen_*    saved pricers: 1..8 dimensions, both controllers, 0..24
 *                        classes, after a number of charged blocks
 *   splitter_load/gen_*  a registry and its splitter saved together (4-byte length,
 *                        registry, splitter): empty, one node, and worlds of 3, 8 and
 *                        16 nodes after 80 to 2000 random host calls under every
 *                        emission schedule, with unbonding and redelegation entries,
 *                        jailed and slashed nodes
 *   slasher_load/gen_*   a registry and its slasher saved together (as splitter_load):
 *   tally_load/gen_*     a registry and its tally: worlds of 0, 1, 3, 8 and 16 nodes
 *                        after random host calls, commits with missed blocks and
 *                        downtime slashes, proposals (text and parameter change) in
 *                        their deposit and voting periods with plain and weighted
 *                        votes; plus refused variants (truncated, a blob of another
 *                        kind in the engine's place)
 *   hyper_load/gen_*     a registry, its splitter and a hyperstaking handle (two
 *                        4-byte lengths, then the three blobs) from the same
 *                        worlds, with fixed and performance positions after
 *                        deposits, withdrawals and epochs; plus refused variants
 *   ops/gen_*            programs for fuzz_ops: one walk through every operation
 *                        per emission schedule, and random programs biased to valid
 *                        arguments
 *   params/gen_*         for every key of every handle: a valid value, its edges,
 *                        and refusals
 *   proof/gen_*          valid proofs (fuzz_proof's layout: root, present, key,
 *                        value, proof) from trees of 0, 1, 2 and 64 records: for
 *                        present keys and for absent ones (ending empty and ending
 *                        at another record)
 *
 *   gen_corpus OUT_DIR   (OUT_DIR is test/fuzz/corpus)
 *
 * Everything is seeded: running it again writes the same bytes.
 */
#include "fuzz_world.h"

#include "fuzz_ops.h"
#include "harness.h"

#include "merkle.h"

#include <errno.h>
#include <sys/stat.h>

static const char *out_dir;
static int files_written;

static void write_file(const char *target, const char *name, const uint8_t *p, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", out_dir, target);
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
    snprintf(path, sizeof path, "%s/%s/%s", out_dir, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
    files_written++;
}

/* A growing byte buffer. */
typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static void put(buf *b, uint8_t v)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 256;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    b->p[b->n++] = v;
}

static void put_bytes(buf *b, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put(b, ((const uint8_t *)p)[i]);
}

static void put_be32(buf *b, uint32_t v)
{
    for (int i = 3; i >= 0; i--)
        put(b, (uint8_t)(v >> (8 * i)));
}

/* ============================================================ saved worlds */

typedef struct gw {
    opg_registry *r;
    opg_splitter *s;
    opg_pricer *p;
    opg_height h;
    opg_time t;
    unsigned nodes, dtors;
} gw;

static void pricer_for(opg_pricer **out, unsigned dims, unsigned classes, unsigned variant)
{
    static const char *const names[] = {"gpu", "tokens_in", "tokens_out", "memory",
                                        "storage", "bandwidth", "proof", "attest"};
    opg_pricer_params pp;
    opg_pricer_params_init(&pp);
    pp.dimension_count = dims;
    pp.combine = variant % 2 ? OPG_PRICER_COMBINE_MAX : OPG_PRICER_COMBINE_SUM;
    for (unsigned d = 0; d < dims; d++) {
        opg_pricer_dimension *dim = &pp.dimensions[d];
        strcpy(dim->name, names[d]);
        dim->target = u64v(50 * (d + 1));
        dim->limit = u64v(100 * (d + 1));
        if ((d + variant) % 2) {
            dim->controller = OPG_PRICER_EXPONENTIAL;
            dim->min_base_fee = u64v(1 + d);
            dim->initial_base_fee = dim->min_base_fee;
            dim->update_fraction = 40 + d;
            dim->max_base_fee = u256_of("1000000000000000000000000000000");
        } else {
            dim->initial_base_fee = u64v(1000000000ull * (d + 1));
            dim->min_base_fee = u64v(d);
            dim->denominator = 8 + d;
        }
    }
    switch (variant % 3) {
    case 0: pp.split.inference = dec_of("1"); break;
    case 1:
        pp.split.inference = dec_of("0.7");
        pp.split.verifiers = dec_of("0.1");
        pp.split.stakers = dec_of("0.15");
        pp.split.burn = dec_of("0.05");
        break;
    default:
        pp.split.inference = dec_of("0");
        pp.split.verifiers = pp.split.stakers = pp.split.burn = pp.split.community = dec_of("0.25");
        break;
    }
    opg_pricer_class cls[32];
    for (unsigned k = 0; k < classes; k++) {
        memset(&cls[k], 0, sizeof cls[k]);
        cls[k].id = 3 * k + 1;
        for (unsigned d = 0; d < OPG_PRICER_MAX_DIMENSIONS; d++) {
            char m[32];
            snprintf(m, sizeof m, "%u.%u", (k + d) % 4, (k * 7 + d) % 10);
            cls[k].multiplier[d] = dec_of(m);
        }
    }
    pp.classes = cls;
    pp.class_count = classes;
    if (opg_pricer_new(out, &pp, NULL) != OPG_OK) {
        fprintf(stderr, "pricer_new refused (%u dimensions, %u classes, variant %u)\n", dims, classes, variant);
        exit(1);
    }
}

static void gw_new(gw *g, unsigned nodes, unsigned dtors, opg_emission_kind emission, unsigned dims,
                   unsigned classes, unsigned variant)
{
    memset(g, 0, sizeof *g);
    g->nodes = nodes;
    g->dtors = dtors;
    g->h = 1;
    g->t = 1000000;
    opg_registry_params rp;
    opg_registry_params_init(&rp);
    rp.unbonding_time = 3 * 86400;
    rp.max_validators = nodes > 4 ? nodes - 2 : 4;
    opg_u256 genesis = u256_of("1000000000000000000000000000000");
    if (opg_registry_new(&g->r, &rp, &genesis, NULL))
        exit(1);
    opg_splitter_params sp;
    opg_splitter_params_init(&sp);
    sp.emission = emission;
    sp.pool_amount = u256_of("100000000000000000000000000");
    sp.pool_start = g->t;
    sp.half_life = 365 * 86400;
    sp.duration = 30 * 86400;
    if (opg_splitter_new(&g->s, g->r, &sp, NULL))
        exit(1);
    pricer_for(&g->p, dims, classes, variant);
    for (unsigned n = 0; n < nodes; n++) {
        opg_node_create nc;
        memset(&nc, 0, sizeof nc);
        nc.operator_id = fw_operator(n);
        nc.consensus_key = fw_cons_key(n);
        nc.roles = n % 3 == 2 ? OPG_ROLE_INFERENCE : OPG_ROLE_ALL;
        nc.commission_rate = fz_dec_frac(n % 5, 10);
        nc.commission_max_rate = dec_of("1");
        nc.commission_max_change_rate = dec_of("0.1");
        nc.min_self_delegation = u64v(1000);
        nc.self_delegation = u256_of("1000000000000000000000");
        nc.self_delegation.limb[0] += 7919ull * n;
        if (opg_registry_node_create(g->r, &nc, g->h, g->t)) {
            fprintf(stderr, "node_create: %s\n", opg_registry_last_error(g->r));
            exit(1);
        }
    }
    opg_registry_end_block(g->r, g->h, g->t);
}

static void gw_free(gw *g)
{
    opg_pricer_free(g->p);
    opg_splitter_free(g->s);
    opg_registry_free(g->r);
}

/* One random host call; refusals are fine (they change nothing). */
static void gw_step(gw *g, test_rng *rng)
{
    opg_id node = fw_operator((unsigned)rng_below(rng, g->nodes + 1));
    opg_id node2 = fw_operator((unsigned)rng_below(rng, g->nodes));
    opg_id d = rng_below(rng, 4) == 0 ? node : fw_delegator((unsigned)rng_below(rng, g->dtors));
    opg_u256 amt = u64v(1 + rng_below(rng, 1000000));
    opg_u256 whole;
    opg_u256_mul(&whole, &amt, &FW_P);
    switch (rng_below(rng, 20)) {
    case 0: case 1: case 2:
        opg_registry_delegate(NULL, g->r, &d, &node, &whole, g->h, g->t);
        break;
    case 3: opg_registry_undelegate(NULL, NULL, g->r, &d, &node, &amt, g->h, g->t); break;
    case 4: opg_registry_undelegate(NULL, NULL, g->r, &d, &node, &whole, g->h, g->t); break;
    case 5: opg_registry_redelegate(NULL, g->r, &d, &node, &node2, &whole, g->h, g->t); break;
    case 6: {
        opg_unbonding_info ub[8];
        size_t n = 0;
        opg_registry_unbondings_of(ub, 8, &n, g->r, &d);
        if (n && n <= 8)
            opg_registry_cancel_unbonding(g->r, &d, &ub[0].operator_id, ub[0].creation_height,
                                          &amt, g->h, g->t);
        break;
    }
    case 7: case 8: {
        opg_commit_vote v[32];
        size_t n = 0;
        for (unsigned i = 0; i < g->nodes && n < 32; i++) {
            opg_node_info ni;
            opg_id op = fw_operator(i);
            if (opg_registry_node_get(&ni, g->r, &op) == OPG_OK && ni.status == OPG_NODE_BONDED) {
                v[n].consensus_key = ni.consensus_key;
                v[n].power = ni.power;
                v[n++].score = fz_dec_frac(rng_below(rng, 11), 10);
            }
        }
        opg_u256 fees = u64v(rng_below(rng, 1000000000));
        opg_splitter_add_fees(g->s, &fees);
        opg_splitter_allocate(g->s, v, n, g->h, g->t);
        break;
    }
    case 9: opg_splitter_allocate_to_node(g->s, &node, &amt); break;
    case 10: opg_splitter_withdraw_rewards(NULL, g->s, &d, &node, g->h, g->t); break;
    case 11: opg_splitter_withdraw_commission(NULL, g->s, &node); break;
    case 12: {
        opg_node_info ni;
        if (opg_registry_node_get(&ni, g->r, &node) != OPG_OK)
            break;
        opg_dec frac = fz_dec_frac(rng_below(rng, 10), 100);
        opg_height inf = g->h > 3 ? g->h - rng_below(rng, 3) : g->h;
        opg_registry_slash(NULL, g->r, &node, inf, ni.power, &frac, g->h, g->t);
        if (rng_below(rng, 2))
            opg_registry_jail(g->r, &node, g->t + 600);
        break;
    }
    case 13: opg_registry_unjail(g->r, &node, g->t); break;
    case 14: opg_splitter_mint(NULL, g->s, g->h, g->t); break;
    case 15: {
        opg_pricer_request rq;
        memset(&rq, 0, sizeof rq);
        size_t nc = opg_pricer_class_count(g->p);
        opg_pricer_class c;
        if (nc && opg_pricer_class_at(&c, g->p, rng_below(rng, nc)) == OPG_OK)
            rq.model_class = c.id;
        for (size_t k = 0; k < opg_pricer_dimension_count(g->p); k++)
            rq.units[k] = u64v(rng_below(rng, 30));
        opg_pricer_receipt rc;
        opg_u256 va[2], tip = u64v(rng_below(rng, 100));
        opg_id vs[2] = {fw_verifier(1), fw_verifier(2)};
        opg_pricer_charge(&rc, va, g->p, &rq, &FZ_U256_MAX, &tip, vs, 2);
        break;
    }
    case 16: opg_pricer_end_block(NULL, g->p); break;
    case 17: {
        opg_dec rate = fz_dec_frac(rng_below(rng, 10), 20);
        opg_registry_node_set_commission(g->r, &node, &rate, g->t);
        break;
    }
    default:
        g->h++;
        g->t += 5 + (opg_time)rng_below(rng, 3 * 86400);
        opg_registry_end_block(g->r, g->h, g->t);
        opg_pricer_end_block(NULL, g->p);
        break;
    }
}

static uint8_t *save_handle(size_t *n, fz_save_fn fn, const void *h)
{
    return fz_save(n, fn, h, "gen");
}

static void write_world(const char *name, gw *g)
{
    size_t rl, sl, pl;
    uint8_t *rb = save_handle(&rl, fz_save_registry, g->r);
    uint8_t *sb = save_handle(&sl, fz_save_splitter, g->s);
    uint8_t *pb = save_handle(&pl, fz_save_pricer, g->p);
    buf b = {0};
    put_be32(&b, (uint32_t)rl);
    put_bytes(&b, rb, rl);
    put_bytes(&b, sb, sl);
    write_file("splitter_load", name, b.p, b.n);
    write_file("pricer_load", name, pb, pl);
    free(b.p);
    free(rb);
    free(sb);
    free(pb);
}

static void gen_worlds(void)
{
    static const struct {
        const char *name;
        unsigned nodes, dtors, steps;
        opg_emission_kind emission;
        unsigned dims, classes;
    } W[] = {
        {"gen_empty", 0, 0, 0, OPG_EMISSION_COSMOS_MINT, 1, 0},
        {"gen_one_node", 1, 1, 0, OPG_EMISSION_NONE, 1, 1},
        {"gen_small_cosmos", 3, 5, 80, OPG_EMISSION_COSMOS_MINT, 2, 3},
        {"gen_small_decay", 3, 5, 80, OPG_EMISSION_DECAY_POOL, 3, 2},
        {"gen_small_linear", 3, 5, 120, OPG_EMISSION_LINEAR_POOL, 4, 5},
        {"gen_medium_cosmos", 8, 16, 400, OPG_EMISSION_COSMOS_MINT, 5, 8},
        {"gen_medium_decay", 8, 16, 500, OPG_EMISSION_DECAY_POOL, 6, 12},
        {"gen_medium_none", 8, 12, 400, OPG_EMISSION_NONE, 7, 16},
        {"gen_large_cosmos", 16, 16, 2000, OPG_EMISSION_COSMOS_MINT, 8, 24},
    };
    for (size_t i = 0; i < sizeof W / sizeof W[0]; i++) {
        gw g;
        gw_new(&g, W[i].nodes, W[i].dtors, W[i].emission, W[i].dims, W[i].classes, (unsigned)i);
        test_rng rng = {1000 + i};
        for (unsigned k = 0; k < W[i].steps && g.nodes; k++)
            gw_step(&g, &rng);
        write_world(W[i].name, &g);
        gw_free(&g);
    }
}

/* ============================================================== programs */

static void a_whole(buf *b, uint8_t k) { put(b, 3); put(b, k); }       /* k * 10^18 */
static void a_small(buf *b, uint8_t x) { put(b, 0); put(b, (uint8_t)(x - 1)); } /* x >= 1 */
static void a_full(buf *b) { put(b, 7); }                             /* the whole */
static void a_wallet(buf *b, uint8_t k) { put(b, 6); put(b, k); }     /* (k+1)/256 of the host's */

static void header(buf *b, uint8_t emission, uint8_t nodes)
{
    /* emission; genesis 10^30; max_validators 3 (52 % 5 = 2), power_reduction 10^6,
     * unbonding 1 day;
     * max_entries 7; tax 0.02 and perf 0.3; 2 dimensions (sum), split 0.7/0.1/0.15/0.05;
     * dimension 1 exponential; nodes at genesis */
    uint8_t h[8] = {emission, 1, 52, 6, (uint8_t)(0 | 1 << 2),
                    (uint8_t)(1 | 1 << 3), 2, nodes};
    put_bytes(b, h, 8);
}

static void op(buf *b, enum op o) { put(b, (uint8_t)o); }

/* Every operation once or more, in an order where most of them succeed. */
static void program_walk(buf *b, uint8_t emission)
{
    header(b, emission, 3);
    for (uint8_t n = 0; n < 3; n++) { /* delegators 8.. delegate to the three nodes */
        op(b, OP_DELEGATE); put(b, (uint8_t)(8 + n)); put(b, n); a_whole(b, 100);
    }
    op(b, OP_NODE_CREATE); put(b, 3); put(b, 20); a_whole(b, 50); a_small(b, 1);
    op(b, OP_END_BLOCK); put(b, 2);
    op(b, OP_MINT);
    op(b, OP_ADD_FEES); a_whole(b, 7);
    op(b, OP_ALLOCATE); put(b, 4);
    for (uint8_t n = 0; n < 4; n++) { put(b, n); put(b, 0); put(b, (uint8_t)(100 + 20 * n)); }
    op(b, OP_ALLOCATE_TO_NODE); put(b, 1); a_whole(b, 3);
    op(b, OP_WITHDRAW_REWARDS); put(b, 8); put(b, 0);
    op(b, OP_WITHDRAW_COMMISSION); put(b, 0);
    op(b, OP_UNDELEGATE); put(b, 8); put(b, 0); a_whole(b, 10);
    op(b, OP_UNDELEGATE); put(b, 9); put(b, 1); a_whole(b, 20);
    op(b, OP_REDELEGATE); put(b, 10); put(b, 2); put(b, 0); a_whole(b, 30);
    op(b, OP_CANCEL_UNBONDING); put(b, 9); put(b, 1); put(b, 0); a_whole(b, 5);
    op(b, OP_END_BLOCK); put(b, 3);
    op(b, OP_SLASH); put(b, 1); put(b, 1); put(b, 10); put(b, 0); /* 5 %, at h - 1 */
    op(b, OP_JAIL); put(b, 1); put(b, 4);
    op(b, OP_END_BLOCK); put(b, 5);
    op(b, OP_UNJAIL); put(b, 1);
    op(b, OP_SET_COMMISSION); put(b, 0); put(b, 12);
    op(b, OP_SET_MIN_SELF); put(b, 2); a_whole(b, 2);
    op(b, OP_SET_ROLES); put(b, 3); put(b, 6);
    /* requests: class, then per dimension 4u+1 asks for u units */
    op(b, OP_QUOTE); put(b, 0); put(b, 13); put(b, 21);
    op(b, OP_CHARGE); put(b, 0); put(b, 13); put(b, 21);
    put(b, 0); put(b, 1); put(b, 2); put(b, 0); put(b, 9); /* max fee unlimited, tip, 2 verifiers; tip 9 */
    op(b, OP_CHARGE); put(b, 1); put(b, 9); put(b, 17);
    put(b, 1); put(b, 0); put(b, 3); /* max fee = base fee, no tip, 3 verifiers */
    op(b, OP_PRICER_END_BLOCK);
    op(b, OP_CLASS_SET); put(b, 5); for (int d = 0; d < 8; d++) put(b, (uint8_t)(25 + 10 * d));
    op(b, OP_CLASS_REMOVE); put(b, 2);
    op(b, OP_PARAM_SET); put(b, 1); put(b, 0); put(b, 6);  /* splitter key 0 = "0.02" */
    op(b, OP_PARAM_SET); put(b, 0); put(b, 2); put(b, 22); /* registry key 2 = "64" */
    op(b, OP_PARAM_SET); put(b, 2); put(b, 0); put(b, 4);  /* pricer key 0 = "100" */
    op(b, OP_PAUSE);
    op(b, OP_END_BLOCK); put(b, 5);
    op(b, OP_MINT);
    op(b, OP_RESUME);
    op(b, OP_MINT);
    op(b, OP_POOL_SPEND); put(b, 0); put(b, 0);
    op(b, OP_FUND_POOL); a_whole(b, 1);
    op(b, OP_SUPPLY_MINT); a_whole(b, 9);
    op(b, OP_SUPPLY_BURN); a_whole(b, 4);
    op(b, OP_SAVE_LOAD);
    op(b, OP_ARM_OOM); put(b, 0);
    op(b, OP_DELEGATE); put(b, 11); put(b, 3); a_wallet(b, 3);
    op(b, OP_ARM_OOM); put(b, 1);
    op(b, OP_END_BLOCK); put(b, 6);
    op(b, OP_WITHDRAW_REWARDS); put(b, 10); put(b, 0);
    op(b, OP_UNDELEGATE); put(b, 0); put(b, 0); a_full(b);
    /* governance: a text proposal and a quorum change straight into voting, one
     * short of its deposit, plain and weighted votes, a top-up that starts voting,
     * a day later the tally closes them; one more proposal is cancelled */
    op(b, OP_PROPOSE); put(b, 9); put(b, 0x18); a_whole(b, 1); put(b, 0); put(b, 0);
    op(b, OP_PROPOSE); put(b, 10); put(b, 0x19); a_whole(b, 2); put(b, 0); put(b, 5);
    op(b, OP_PROPOSE); put(b, 11); put(b, 0x01); a_small(b, 5); put(b, 5); put(b, 1);
    op(b, OP_VOTE); put(b, 0); put(b, 0); put(b, 1);
    op(b, OP_VOTE); put(b, 1); put(b, 1); put(b, 3);
    op(b, OP_VOTE); put(b, 1); put(b, 9); put(b, 200); put(b, 2); put(b, 1); put(b, 100); put(b, 4); put(b, 100);
    op(b, OP_DEPOSIT); put(b, 2); put(b, 12); a_whole(b, 1);
    op(b, OP_VOTE); put(b, 2); put(b, 2); put(b, 2);
    op(b, OP_END_BLOCK); put(b, 5);
    op(b, OP_TALLY_END_BLOCK);
    op(b, OP_PROPOSE); put(b, 13); put(b, 0x02); a_whole(b, 1); put(b, 0); put(b, 0);
    op(b, OP_CANCEL_PROPOSAL); put(b, 0); put(b, 0);
    op(b, OP_TALLY_END_BLOCK);
    /* proof of authority: stake moves refused; governance adds node 5, takes node 2's
     * self-stake, and a second ADD of node 5 in the same end_block fails; then the
     * phase ends */
    op(b, OP_SET_POA); put(b, 1);
    op(b, OP_DELEGATE); put(b, 8); put(b, 0); a_whole(b, 1);
    op(b, OP_UNDELEGATE); put(b, 9); put(b, 1); a_whole(b, 1);
    op(b, OP_PROPOSE_VALIDATOR); put(b, 0); put(b, 0x00); put(b, 5); a_whole(b, 40); a_small(b, 1); a_whole(b, 1);
    op(b, OP_PROPOSE_VALIDATOR); put(b, 0); put(b, 0x01); put(b, 2); a_small(b, 1); a_small(b, 1); a_whole(b, 1);
    op(b, OP_PROPOSE_VALIDATOR); put(b, 3); put(b, 0x08); put(b, 5); a_whole(b, 2); a_small(b, 1); a_whole(b, 1);
    for (uint8_t k = 0; k < 5; k++)
        for (uint8_t v = 0; v < 16; v++) {
            op(b, OP_VOTE); put(b, k); put(b, v); put(b, 1);
        }
    op(b, OP_END_BLOCK); put(b, 5);
    op(b, OP_TALLY_END_BLOCK);
    op(b, OP_END_BLOCK); put(b, 2);
    op(b, OP_SET_POA); put(b, 0);
    op(b, OP_DELEGATE); put(b, 8); put(b, 5); a_whole(b, 1);
    op(b, OP_END_BLOCK); put(b, 2);
    /* liveness: node 2 misses every block; faulty inference; a double sign */
    for (int k = 0; k < 6; k++) {
        op(b, OP_RECORD_COMMIT); put(b, 3);
        for (uint8_t n = 0; n < 3; n++) { put(b, n); put(b, 0); put(b, n == 2 ? 0 : 1); }
        op(b, OP_END_BLOCK); put(b, 2);
    }
    op(b, OP_FAULT); put(b, 1); put(b, 0); put(b, 1); put(b, 1); put(b, 1); /* node 1 reports */
    op(b, OP_FAULT); put(b, 1); put(b, 0); put(b, 1); put(b, 1); put(b, 1); /* the same id */
    op(b, OP_DOUBLE_SIGN); put(b, 1); put(b, 2); put(b, 0);
    op(b, OP_DOUBLE_SIGN); put(b, 0); put(b, 1); put(b, 4); /* through the evidence bytes */
    /* CometBFT's records: node 1 again (tombstoned: ignored), node 2 (slashed) */
    op(b, OP_MISBEHAVIOR); put(b, 2); put(b, 1); put(b, 2); put(b, 9); put(b, 2); put(b, 1); put(b, 10);
    op(b, OP_TOMBSTONE); put(b, 1);
    op(b, OP_END_BLOCK); put(b, 8);
    op(b, OP_END_BLOCK); put(b, 8);
    /* deferred slashes: a day's deferral, node 0 misses blocks until slashed for
     * downtime, a faulty inference of node 3; half of the first cancelled, then both
     * due and applied, and a cancel of one no longer pending */
    op(b, OP_SET_DEFER); put(b, 4);
    for (int k = 0; k < 6; k++) {
        op(b, OP_RECORD_COMMIT); put(b, 3);
        for (uint8_t n = 0; n < 3; n++) { put(b, n); put(b, 0); put(b, n == 0 ? 0 : 1); }
        op(b, OP_END_BLOCK); put(b, 2);
    }
    op(b, OP_FAULT); put(b, 2); put(b, 3); put(b, 1); put(b, 1); put(b, 1);
    op(b, OP_CANCEL_SLASH); put(b, 0); put(b, 100);
    op(b, OP_SLASHER_END_BLOCK);
    op(b, OP_END_BLOCK); put(b, 5);
    op(b, OP_END_BLOCK); put(b, 5);
    op(b, OP_SLASHER_END_BLOCK);
    op(b, OP_END_BLOCK); put(b, 2);
    op(b, OP_CANCEL_SLASH); put(b, 0); put(b, 200);
}

/* Deferred slashes cancelled by governance: a faulty inference and a double sign
 * decided under a deferral, proposals cancelling half of the first and all of the
 * second (twice: the second of those FAILS), passed by every voter, then the due
 * slashes applied. */
static void program_defer_gov(buf *b)
{
    header(b, 1, 3);
    for (uint8_t n = 0; n < 3; n++) {
        op(b, OP_DELEGATE); put(b, (uint8_t)(8 + n)); put(b, n); a_whole(b, 100);
    }
    op(b, OP_NODE_CREATE); put(b, 3); put(b, 20); a_whole(b, 50); a_small(b, 1);
    op(b, OP_END_BLOCK); put(b, 2);
    op(b, OP_SET_DEFER); put(b, 4);
    op(b, OP_FAULT); put(b, 2); put(b, 3); put(b, 1); put(b, 1); put(b, 1);
    op(b, OP_DOUBLE_SIGN); put(b, 1); put(b, 2); put(b, 0);
    op(b, OP_END_BLOCK); put(b, 1);
    op(b, OP_PROPOSE_VALIDATOR); put(b, 0); put(b, 0x10); put(b, 0); a_small(b, 1); a_small(b, 1); a_whole(b, 1);
    op(b, OP_PROPOSE_VALIDATOR); put(b, 0); put(b, 0x30); put(b, 1); a_small(b, 1); a_small(b, 1); a_whole(b, 1);
    op(b, OP_PROPOSE_VALIDATOR); put(b, 3); put(b, 0x30); put(b, 1); a_small(b, 1); a_small(b, 1); a_whole(b, 1);
    for (uint8_t k = 0; k < 3; k++)
        for (uint8_t v = 0; v < 12; v++) {
            op(b, OP_VOTE); put(b, k); put(b, v); put(b, 1);
        }
    op(b, OP_END_BLOCK); put(b, 5);
    op(b, OP_TALLY_END_BLOCK);
    op(b, OP_SLASHER_END_BLOCK);
    op(b, OP_END_BLOCK); put(b, 5);
    op(b, OP_END_BLOCK); put(b, 5);
    op(b, OP_SLASHER_END_BLOCK);
    op(b, OP_END_BLOCK); put(b, 2);
}

/* Conviction voting: the extension turned on by the first vote, convictions 6, 2, 0
 * and a refused 7; undelegations refused while locked (redelegation allowed), a
 * save/load with the locks, the close, and the undelegations allowed once each lock
 * ends (world: voting period 1 day, vote_locking_period 600 s). */
static void program_conviction(buf *b)
{
    header(b, 1, 3);
    for (uint8_t n = 0; n < 3; n++) {
        op(b, OP_DELEGATE); put(b, (uint8_t)(8 + n)); put(b, n); a_whole(b, 100);
    }
    op(b, OP_END_BLOCK); put(b, 2);
    op(b, OP_PROPOSE); put(b, 9); put(b, 0x18); a_whole(b, 1); put(b, 0); put(b, 0);
    op(b, OP_VOTE_CONVICTION); put(b, 0); put(b, 8); put(b, 1); put(b, 0x80 | 6);
    op(b, OP_VOTE_CONVICTION); put(b, 0); put(b, 9); put(b, 3); put(b, 2);
    op(b, OP_VOTE_CONVICTION); put(b, 0); put(b, 10); put(b, 1); put(b, 0);
    op(b, OP_VOTE_CONVICTION); put(b, 0); put(b, 11); put(b, 1); put(b, 7); /* refused */
    op(b, OP_UNDELEGATE); put(b, 8); put(b, 0); a_whole(b, 10);            /* locked */
    op(b, OP_REDELEGATE); put(b, 8); put(b, 0); put(b, 1); a_whole(b, 5);  /* allowed */
    op(b, OP_SAVE_LOAD);
    op(b, OP_UNDELEGATE); put(b, 8); put(b, 1); a_whole(b, 1);             /* locked */
    op(b, OP_END_BLOCK); put(b, 5);
    op(b, OP_TALLY_END_BLOCK);
    op(b, OP_UNDELEGATE); put(b, 9); put(b, 1); a_whole(b, 10);            /* locked */
    op(b, OP_END_BLOCK); put(b, 4);
    op(b, OP_UNDELEGATE); put(b, 9); put(b, 1); a_whole(b, 10);            /* ended */
    op(b, OP_UNDELEGATE); put(b, 8); put(b, 0); a_whole(b, 10);            /* locked */
    for (int k = 0; k < 6; k++) {
        op(b, OP_END_BLOCK); put(b, 4);
    }
    op(b, OP_TALLY_END_BLOCK);
    op(b, OP_UNDELEGATE); put(b, 8); put(b, 0); a_whole(b, 10);
}

/* A random program whose arguments mostly name things that exist. */
static void program_random(buf *b, test_rng *rng, unsigned len)
{
    header(b, (uint8_t)rng_below(rng, 4), (uint8_t)(1 + rng_below(rng, 4)));
    for (unsigned i = 0; i < len; i++) {
        enum op o = (enum op)rng_below(rng, OP_COUNT_);
        op(b, o);
        unsigned nargs = 2 + (unsigned)rng_below(rng, 6);
        for (unsigned k = 0; k < nargs; k++) {
            uint8_t v = (uint8_t)rng_below(rng, 256);
            if (k < 2 && rng_below(rng, 3))
                v = (uint8_t)rng_below(rng, k == 0 && o <= OP_CANCEL_UNBONDING ? 16 : 5);
            put(b, v);
        }
    }
}

static void gen_programs(void)
{
    static const char *const names[] = {"gen_walk_none", "gen_walk_cosmos", "gen_walk_decay", "gen_walk_linear"};
    for (uint8_t e = 0; e < 4; e++) {
        buf b = {0};
        program_walk(&b, e);
        write_file("ops", names[e], b.p, b.n);
        free(b.p);
    }
    {
        buf b = {0};
        program_defer_gov(&b);
        write_file("ops", "gen_defer_gov", b.p, b.n);
        free(b.p);
    }
    {
        buf b = {0};
        program_conviction(&b);
        write_file("ops", "gen_conviction", b.p, b.n);
        free(b.p);
    }
    test_rng rng = {77};
    for (int i = 0; i < 12; i++) {
        buf b = {0};
        program_random(&b, &rng, 40 + 15 * (unsigned)i);
        char name[64];
        snprintf(name, sizeof name, "gen_random_%02d", i);
        write_file("ops", name, b.p, b.n);
        free(b.p);
    }
}

/* ========================================================= slasher, tally */

/* A registry blob then an engine blob, as slasher_load and tally_load read them. */
static void write_pair(const char *target, const char *name, const uint8_t *rb, size_t rl,
                       const uint8_t *eb, size_t el)
{
    buf b = {0};
    put_be32(&b, (uint32_t)rl);
    put_bytes(&b, rb, rl);
    put_bytes(&b, eb, el);
    write_file(target, name, b.p, b.n);
    free(b.p);
}

static int fz_save_hyper_gen(uint8_t *b, size_t c, size_t *l, const void *h)
{
    return opg_hyper_save(b, c, l, (const opg_hyper *)h);
}

/* hyper_load's input: registry and splitter lengths, then the three blobs. */
static void write_triple(const char *name, const uint8_t *rb, size_t rl, const uint8_t *sb, size_t sl,
                         const uint8_t *hb, size_t hl)
{
    buf b = {0};
    put_be32(&b, (uint32_t)rl);
    put_be32(&b, (uint32_t)sl);
    put_bytes(&b, rb, rl);
    put_bytes(&b, sb, sl);
    put_bytes(&b, hb, hl);
    write_file("hyper_load", name, b.p, b.n);
    free(b.p);
}

/* The bonded nodes of the world as a commit; node k misses when (k + round) % 3 == 0
 * and miss is set. */
static size_t gen_commit(opg_commit_sig *v, gw *g, unsigned round, int miss)
{
    size_t n = 0;
    for (unsigned i = 0; i < g->nodes && n < 32; i++) {
        opg_node_info ni;
        opg_id op = fw_operator(i);
        if (opg_registry_node_get(&ni, g->r, &op) == OPG_OK && ni.status == OPG_NODE_BONDED) {
            v[n].consensus_key = ni.consensus_key;
            v[n].power = ni.power;
            v[n].signed_block = !(miss && (i + round) % 3 == 0);
            n++;
        }
    }
    return n;
}

/* hyper_load/gen_vaults: a world with two vaults (one of them HOST-driven, with a
 * routing-free policy), share holders, transfers, claims pending and matured. */
static void gen_vaults(void)
{
    gw g;
    gw_new(&g, 4, 4, OPG_EMISSION_COSMOS_MINT, 1, 1, 7);
    test_rng rng = {7777};
    for (unsigned k = 0; k < 40; k++)
        gw_step(&g, &rng);
    opg_hyper *hy;
    if (opg_hyper_new(&hy, g.r, g.s, NULL, NULL)) {
        fprintf(stderr, "hyper refused\n");
        exit(1);
    }
    opg_hyper_weight hw[2] = {{fw_operator(0), dec_of("1")}, {fw_operator(1), dec_of("1")}};
    opg_hyper_policy pol;
    memset(&pol, 0, sizeof pol);
    pol.kind = OPG_HYPER_FIXED;
    pol.weights = hw;
    pol.n_weights = 2;
    pol.cap = dec_of("0.7");
    pol.max_nodes = 2;
    pol.auto_compound = 1;
    pol.rebalance_threshold = dec_of("0.05");
    pol.max_churn = dec_of("0.25");
    opg_id v0 = fw_id(10, 0), v1 = fw_id(10, 1);
    opg_hyper_vault_create(hy, &v0, &pol, g.h);
    pol.kind = OPG_HYPER_HOST;
    pol.max_commission = dec_of("0.5");
    opg_hyper_vault_create(hy, &v1, &pol, g.h);
    for (unsigned b = 0; b < 60; b++) {
        g.h++;
        g.t += 600;
        opg_id v = rng_below(&rng, 2) ? v1 : v0;
        opg_id who = fw_delegator((unsigned)rng_below(&rng, 4)), to = fw_delegator((unsigned)rng_below(&rng, 4));
        opg_u256 a = u64v(1 + rng_below(&rng, 1000000)), out;
        switch (rng_below(&rng, 5)) {
        case 0: opg_hyper_vault_redeem(&out, NULL, hy, &v, &who, &a, g.h, g.t); break;
        case 1: opg_hyper_vault_transfer(hy, &v, &who, &to, &a); break;
        case 2: opg_hyper_vault_claim(&out, hy, &v, &who); break;
        default: opg_hyper_vault_deposit(&out, hy, &v, &who, &a, g.h, g.t); break;
        }
        if (b % 20 == 19)
            opg_hyper_epoch(NULL, hy, NULL, 0, g.h, g.t);
        opg_hyper_end_block(hy, g.h, g.t);
        opg_registry_end_block(g.r, g.h, g.t);
    }
    size_t rl, spl, hl;
    uint8_t *rb = save_handle(&rl, fz_save_registry, g.r);
    uint8_t *sb = save_handle(&spl, fz_save_splitter, g.s);
    uint8_t *hb = save_handle(&hl, fz_save_hyper_gen, hy);
    write_triple("gen_vaults", rb, rl, sb, spl, hb, hl);
    free(rb), free(sb), free(hb);
    opg_hyper_free(hy);
    gw_free(&g);
}

static void gen_engines(void)
{
    static const struct {
        const char *name;
        unsigned nodes, dtors, steps, blocks, proposals;
    } W[] = {
        {"gen_empty", 0, 0, 0, 0, 0},
        {"gen_one_node", 1, 1, 0, 3, 1},
        {"gen_small", 3, 5, 60, 40, 4},
        {"gen_medium", 8, 16, 300, 120, 10},
        {"gen_large", 16, 16, 1000, 300, 24},
        {"gen_conviction", 8, 16, 300, 120, 10}, /* conviction votes and locks */
    };
    for (size_t i = 0; i < sizeof W / sizeof W[0]; i++) {
        gw g;
        gw_new(&g, W[i].nodes, W[i].dtors, OPG_EMISSION_COSMOS_MINT, 1, 1, (unsigned)i);
        test_rng rng = {5000 + i};
        for (unsigned k = 0; k < W[i].steps && g.nodes; k++)
            gw_step(&g, &rng);
        opg_slasher_params slp;
        opg_slasher_params_init(&slp);
        slp.signed_blocks_window = 10;
        if (i == 3) /* gen_medium: its downtime slashes stay pending (due in 30 days) */
            slp.defer_duration = 30 * 86400;
        opg_slasher *sl;
        opg_tally *t;
        if (opg_slasher_new(&sl, g.r, &slp, NULL) || opg_tally_new(&t, g.r, NULL, NULL)) {
            fprintf(stderr, "slasher or tally refused\n");
            exit(1);
        }
        opg_hyper *hy;
        if (opg_hyper_new(&hy, g.r, g.s, NULL, NULL)) {
            fprintf(stderr, "hyper refused\n");
            exit(1);
        }
        unsigned npos = 0;
        int conv = strcmp(W[i].name, "gen_conviction") == 0;
        if (conv && (opg_tally_param_set(t, "gov.conviction_voting", "true") ||
                     opg_tally_param_set(t, "gov.vote_locking_period", "3600"))) {
            fprintf(stderr, "conviction refused\n");
            exit(1);
        }
        opg_tally_params tp;
        opg_tally_params_get(&tp, t);
        uint64_t ids[32];
        unsigned nids = 0;
        for (unsigned b = 0; b < W[i].blocks || nids < W[i].proposals; b++) {
            g.h++;
            g.t += 600;
            opg_commit_sig v[32];
            size_t n = gen_commit(v, &g, b, b % 4 != 0);
            if (i == 3 && n && b + 12 >= W[i].blocks)
                v[0].signed_block = 0; /* the first in the commit goes down: a pending slash */
            opg_slasher_record_commit(sl, v, n, g.h, g.t);
            if (nids < W[i].proposals && b % 2 == 0) {
                opg_proposal_submit ps;
                memset(&ps, 0, sizeof ps);
                ps.proposer = fw_delegator(nids);
                ps.title = "seed";
                ps.summary = nids % 2 ? "a parameter change" : "text";
                opg_param_change ch[2] = {{"gov.quorum", "0.4"}, {"staking.max_validators", "12"}};
                ps.kind = nids % 2 ? OPG_PROPOSAL_PARAMS : OPG_PROPOSAL_TEXT;
                ps.changes = nids % 2 ? ch : NULL;
                ps.change_count = nids % 2 ? 1 + nids % 4 / 2 : 0;
                ps.expedited = nids % 5 == 3;
                /* governance actions: an ADD of a new node, a REMOVE of node 0 */
                opg_node_create vc;
                opg_id rm_op = fw_operator(0);
                if (nids % 6 == 4) {
                    memset(&vc, 0, sizeof vc);
                    vc.operator_id = fw_operator(100 + nids);
                    vc.consensus_key = fw_cons_key(100 + nids);
                    vc.roles = OPG_ROLE_ALL;
                    vc.commission_rate = dec_of("0.05");
                    vc.commission_max_rate = dec_of("0.5");
                    vc.commission_max_change_rate = dec_of("0.01");
                    vc.min_self_delegation = u64v(1);
                    vc.self_delegation = u64v(5000000 + nids);
                    ps.kind = OPG_PROPOSAL_ADD_VALIDATOR;
                    ps.validator = &vc;
                    ps.changes = NULL;
                    ps.change_count = 0;
                } else if (nids % 6 == 5) {
                    ps.kind = OPG_PROPOSAL_REMOVE_VALIDATOR;
                    ps.operator_id = &rm_op;
                    ps.changes = NULL;
                    ps.change_count = 0;
                }
                /* every third stays in its deposit period */
                ps.initial_deposit = nids % 3 == 2 ? u64v(1000 + nids) : tp.min_deposit;
                if (ps.expedited)
                    ps.initial_deposit.limb[0] *= 5;
                uint64_t id;
                if (opg_tally_submit(&id, t, &ps, g.t) == OPG_OK)
                    ids[nids++] = id;
            }
            for (unsigned k = 0; k < nids; k++) {
                opg_id d = fw_delegator((unsigned)rng_below(&rng, W[i].dtors + 1));
                opg_u256 a = u64v(1 + rng_below(&rng, 1000));
                if (rng_below(&rng, 4) == 0)
                    opg_tally_deposit(NULL, t, ids[k], &d, &a, g.t);
                opg_id who = rng_below(&rng, 2) ? fw_operator((unsigned)rng_below(&rng, g.nodes + 1)) : d;
                if (conv) {
                    opg_weighted_vote wv[2] = {{OPG_VOTE_YES, dec_of("0.25")}, {OPG_VOTE_NO_WITH_VETO, dec_of("0.75")}};
                    if (rng_below(&rng, 2))
                        wv[0] = (opg_weighted_vote){OPG_VOTE_NO, dec_of("1")};
                    opg_tally_vote_conviction(t, ids[k], &who, wv, wv[0].option == OPG_VOTE_NO ? 1 : 2,
                                              (unsigned)rng_below(&rng, 7), g.t);
                } else if (rng_below(&rng, 3) == 0) {
                    opg_weighted_vote wv[2] = {{OPG_VOTE_YES, dec_of("0.25")}, {OPG_VOTE_NO_WITH_VETO, dec_of("0.75")}};
                    opg_tally_vote(t, ids[k], &who, wv, 2);
                } else {
                    opg_tally_vote_option(t, ids[k], &who, (opg_vote_option)(1 + rng_below(&rng, 4)));
                }
            }
            if (g.nodes && b % 7 == 1 && npos < W[i].proposals) {
                opg_hyper_weight hw[2] = {{fw_operator(0), dec_of("2")}, {fw_operator(g.nodes - 1), dec_of("1")}};
                opg_hyper_policy pol;
                memset(&pol, 0, sizeof pol);
                pol.kind = npos % 2 ? OPG_HYPER_FIXED : OPG_HYPER_PERFORMANCE;
                pol.weights = npos % 2 ? hw : NULL;
                pol.n_weights = npos % 2 ? (g.nodes > 1 ? 2 : 1) : 0;
                pol.max_commission = dec_of("0.3");
                pol.cap = dec_of("0.6");
                pol.max_nodes = 3;
                pol.auto_compound = npos % 3 == 0;
                pol.rebalance_threshold = dec_of("0.05");
                opg_id pos = fw_id(9, npos), owner = fw_delegator(npos);
                if (opg_hyper_position_create(hy, &pos, &owner, &pol, g.h) == OPG_OK)
                    npos++;
            }
            if (npos) {
                opg_id pos = fw_id(9, (unsigned)rng_below(&rng, npos));
                opg_u256 a = u64v(1 + rng_below(&rng, 1000000000));
                if (rng_below(&rng, 5))
                    opg_hyper_deposit(hy, &pos, &a, g.h, g.t);
                else
                    opg_hyper_withdraw(NULL, hy, &pos, &a, g.h, g.t);
            }
            if (b % 20 == 19)
                opg_hyper_epoch(NULL, hy, NULL, 0, g.h, g.t);
            opg_registry_end_block(g.r, g.h, g.t);
            /* close a few early proposals (voting_period is 2 days: 288 blocks) */
            opg_tally_end_block(t, g.h, g.t);
        }
        size_t rl, ll, tl;
        uint8_t *rb = save_handle(&rl, fz_save_registry, g.r);
        uint8_t *lb = save_handle(&ll, fz_save_slasher, sl);
        uint8_t *tb = save_handle(&tl, fz_save_tally, t);
        write_pair("slasher_load", W[i].name, rb, rl, lb, ll);
        write_pair("tally_load", W[i].name, rb, rl, tb, tl);
        size_t spl, hl;
        uint8_t *sb = save_handle(&spl, fz_save_splitter, g.s);
        uint8_t *hb = save_handle(&hl, fz_save_hyper_gen, hy);
        write_triple(W[i].name, rb, rl, sb, spl, hb, hl);
        if (i == 2) {
            write_triple("refused_truncated", rb, rl, sb, spl, hb, hl - 1);
            write_triple("refused_kind_tally", rb, rl, sb, spl, tb, tl);
            write_triple("refused_splitter_truncated", rb, rl, sb, spl - 1, hb, hl);
        }
        free(sb), free(hb);
        if (i == 2) {
            /* refused: the engine blob cut short, and the other engine's blob */
            write_pair("slasher_load", "refused_truncated", rb, rl, lb, ll - 1);
            write_pair("tally_load", "refused_truncated", rb, rl, tb, tl - 1);
            write_pair("slasher_load", "refused_kind_tally", rb, rl, tb, tl);
            write_pair("tally_load", "refused_kind_slasher", rb, rl, lb, ll);
            write_pair("tally_load", "refused_registry_truncated", rb, rl - 1, tb, tl);
        }
        free(rb), free(lb), free(tb);
        opg_hyper_free(hy);
        opg_tally_free(t);
        opg_slasher_free(sl);
        gw_free(&g);
    }
}

/* ============================================================ parameters */

/* A value a key plausibly takes, judged by its name. */
static const char *value_for(const char *key, int variant)
{
    if (strstr(key, "split"))
        return variant ? "0.2,0.2,0.2,0.2,0.2" : "0.6,0.1,0.2,0.1,0";
    if (strstr(key, "combine"))
        return variant ? "sum" : "max";
    if (strstr(key, "overslash"))
        return variant ? "false" : "true";
    if (strstr(key, "window") || strstr(key, "num_blocks"))
        return variant ? "1000000" : "10";
    if (strstr(key, "time") || strstr(key, "half_life") || strstr(key, "duration"))
        return variant ? "31536000" : "86400";
    if (strstr(key, "rate") || strstr(key, "tax") || strstr(key, "share") || strstr(key, "inflation") ||
        strstr(key, "goal") || strstr(key, "fraction") || strstr(key, "per_window") ||
        strstr(key, "correlation_k"))
        return variant ? "0.999999999999999999" : "0.05";
    return variant ? "18446744073709551615" : "12";
}

static void record(buf *b, uint8_t handle, const char *key, const char *value)
{
    put(b, handle);
    put(b, 0xff);
    put(b, (uint8_t)strlen(key));
    put_bytes(b, key, strlen(key));
    put(b, (uint8_t)strlen(value));
    put_bytes(b, value, strlen(value));
}

static void gen_params(void)
{
    /* the pricer of fuzz_params' world: dimensions "gpu" and "tokens" */
    opg_pricer_params pp;
    opg_pricer_params_init(&pp);
    pp.dimension_count = 2;
    strcpy(pp.dimensions[0].name, "gpu");
    strcpy(pp.dimensions[1].name, "tokens");
    pp.dimensions[1].controller = OPG_PRICER_EXPONENTIAL;
    pp.dimensions[1].min_base_fee = u64v(1);
    opg_pricer *p;
    if (opg_pricer_new(&p, &pp, NULL))
        exit(1);
    buf all = {0};
    put(&all, 1);
    for (uint8_t h = 0; h < 4; h++) {
        for (size_t i = 0;; i++) {
            const char *key = h == 0 ? opg_registry_param_key(i)
                              : h == 1 ? opg_splitter_param_key(i)
                              : h == 2 ? opg_pricer_param_key(p, i)
                                       : opg_slasher_param_key(i);
            if (!key)
                break;
            buf b = {0};
            put(&b, (uint8_t)(i % 4)); /* emission schedule */
            record(&b, h, key, value_for(key, 0));
            record(&b, h, key, value_for(key, 1));
            record(&b, h, key, "0");
            record(&b, h, key, "1x");
            record(&b, h, key, "");
            char name[128];
            snprintf(name, sizeof name, "gen_%s", key);
            write_file("params", name, b.p, b.n);
            free(b.p);
            record(&all, h, key, value_for(key, 0));
        }
    }
    record(&all, 0, "staking.no_such_key", "1");
    record(&all, 2, "fees.gpu", "1");
    write_file("params", "gen_all_keys", all.p, all.n);
    free(all.p);
    opg_pricer_free(p);
}

/* The value of record i of gen_proofs' trees. */
static void proof_value(char *v, unsigned i) { snprintf(v, 32, "value-%u", i * 7919u); }

typedef struct proof_keys {
    unsigned n;
    uint8_t kh[64][32];
} proof_keys;

static void gen_proofs(void)
{
    static const unsigned sizes[] = {0, 1, 2, 64};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        proof_keys pk = {sizes[si], {{0}}};
        opgi_merkle *t;
        if (opgi_merkle_new(&t, NULL))
            exit(1);
        opgi_merkle_change c[64];
        for (unsigned i = 0; i < pk.n; i++) {
            char k[32], v[32];
            snprintf(k, sizeof k, "key-%u", i);
            proof_value(v, i);
            opgi_merkle_key_hash(pk.kh[i], (const uint8_t *)k, strlen(k));
            memcpy(c[i].key_hash, pk.kh[i], 32);
            opgi_merkle_value_hash(c[i].value_hash, (const uint8_t *)v, strlen(v));
            c[i].present = 1;
        }
        if (opgi_merkle_apply(t, c, pk.n))
            exit(1);
        uint8_t root[32];
        opgi_merkle_root(t, root);
        /* present keys key-0.., absent keys key-1000.. (a few of each) */
        for (unsigned j = 0; j < 8; j++) {
            unsigned id = j < 4 ? j : 1000 + j;
            if (j < 4 && id >= pk.n)
                continue;
            char k[32], v[32];
            snprintf(k, sizeof k, "key-%u", id);
            proof_value(v, id);
            uint8_t kh[32], pr[OPG_PROOF_MAX_BYTES];
            size_t len;
            opgi_merkle_key_hash(kh, (const uint8_t *)k, strlen(k));
            if (opgi_merkle_prove(t, kh, pr, sizeof pr, &len))
                exit(1);
            int present = j < 4;
            buf b = {0};
            put_bytes(&b, root, 32);
            put(&b, (uint8_t)present);
            put(&b, (uint8_t)strlen(k));
            put_bytes(&b, k, strlen(k));
            put(&b, (uint8_t)(present ? strlen(v) : 0));
            if (present)
                put_bytes(&b, v, strlen(v));
            put_bytes(&b, pr, len);
            if (opg_proof_verify(root, (const uint8_t *)k, strlen(k), (const uint8_t *)v,
                                 strlen(v), present, pr, len) != OPG_OK)
                exit(1);
            char name[64];
            snprintf(name, sizeof name, "gen_%u_records_%s_%u", pk.n,
                     present ? "present" : "absent", id);
            write_file("proof", name, b.p, b.n);
            free(b.p);
        }
        opgi_merkle_free(t);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
        return 2;
    }
    out_dir = argv[1];
    gen_worlds();
    gen_engines();
    gen_vaults();
    gen_programs();
    gen_params();
    gen_proofs();
    printf("gen_corpus: %d files written under %s\n", files_written, out_dir);
    return 0;
}
