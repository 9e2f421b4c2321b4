/*
 * scenario.c - a long seeded run over every handle, printing the final state hashes;
 * `make determinism` builds the library and this program with several compilers,
 * optimisation levels and word sizes and requires every build to print the same.
 *
 * Three worlds, each a registry with a splitter (cosmos_mint, decay pool, linear
 * pool), a pricer (different dimensions and controllers), a slasher, a tally
 * (proposals, text and parameter changes, with deposits and plain and weighted
 * votes, closed by the tally's end_block) and hyperstaking (vaults with many
 * holders: deposits, transfers, redemptions and claims, epochs under the
 * centralisation guard), run BLOCKS
 * blocks of seeded random host calls: the last commit's signatures (some nodes miss
 * blocks, one misses most), faulty-inference reports, now and then a double sign
 * with real Ed25519 votes, node creation and edits, delegations, undelegations,
 * redelegations, cancellations, slashes, jails, minting, fee allocation with
 * performance scores, withdrawals, pool spends, charges, class and parameter
 * changes, end_block of every handle. Every call's result and outputs (codes,
 * events, receipts, amounts) go into a transcript hash, every 100 blocks the state
 * hashes too, and every 500 blocks each world is saved and the run continues on
 * the loaded copies. The output is only integers and hashes, so any difference in
 * arithmetic, ordering or encoding between builds shows. (The scenario itself
 * draws one random number per statement: C leaves the order in which a call's
 * arguments are evaluated to the compiler.)
 *
 *   scenario [BLOCKS]      (default 10000)
 */
#include "opg.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORLDS 3
#define NODES 12
#define DELEGATORS 40

/* ---------------------------------------------------------------- helpers */

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t next(rng *r)
{
    uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t below(rng *r, uint64_t n) { return next(r) % n; }

static void die(const char *what, int rc)
{
    fprintf(stderr, "scenario: %s: %s\n", what, opg_errname(rc));
    exit(1);
}

static opg_u256 u(uint64_t x)
{
    opg_u256 v = {{x, 0, 0, 0}};
    return v;
}

static opg_u256 whole(uint64_t opg) /* opg * 10^18 */
{
    opg_u256 v, p = u(UINT64_C(1000000000000000000)), a = u(opg);
    opg_u256_mul(&v, &a, &p);
    return v;
}

static opg_dec frac(uint64_t n, uint64_t d)
{
    opg_dec a, b, q;
    opg_dec_from_u64(&a, n);
    opg_dec_from_u64(&b, d);
    opg_dec_quo_truncate(&q, &a, &b);
    return q;
}

static opg_id id(uint8_t kind, unsigned n)
{
    opg_id x;
    memset(&x, 0, sizeof x);
    x.bytes[0] = kind;
    x.bytes[31] = (uint8_t)n;
    return x;
}

/* ----------------------------------------------------------- transcript */

static crypto_generichash_blake2b_state transcript;
static uint64_t calls, refused;

/* Everything is fed as fixed-width big-endian fields: never a struct's bytes, whose
 * padding and alignment differ between ABIs. */
static void t_u64(uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (56 - 8 * i));
    crypto_generichash_blake2b_update(&transcript, b, 8);
}

static void t_u256(const opg_u256 *v)
{
    for (int i = 3; i >= 0; i--)
        t_u64(v->limb[i]);
}

static void t_dec(const opg_dec *v)
{
    for (int i = 3; i >= 0; i--)
        t_u64(v->limb[i]);
}

static void t_id(const opg_id *x) { crypto_generichash_blake2b_update(&transcript, x->bytes, 32); }

/* A call's code; the caller adds its outputs. */
static int t_rc(uint64_t what, int rc)
{
    calls++;
    refused += rc != OPG_OK;
    t_u64(what);
    t_u64((uint64_t)(int64_t)rc);
    return rc;
}

/* ---------------------------------------------------------------- worlds */

typedef struct world {
    opg_registry *r;
    opg_splitter *s;
    opg_pricer *p;
    opg_slasher *sl;
    opg_tally *ta;
    opg_hyper *hy;
    unsigned vaults;
    unsigned nodes;
} world;

/* Node n's consensus key pair (Ed25519 from a fixed seed). */
static void node_keys(uint8_t pk[32], uint8_t sk[64], unsigned n)
{
    opg_id seed = id(3, n);
    crypto_sign_seed_keypair(pk, sk, seed.bytes);
}

static void slasher_records(const world *w)
{
    size_t n = 0;
    const opg_slasher_record *r = opg_slasher_slashes(w->sl, &n);
    t_u64(n);
    for (size_t i = 0; i < n; i++) {
        t_u64((uint64_t)r[i].reason);
        t_id(&r[i].node);
        t_u64(r[i].infraction_height);
        t_dec(&r[i].fraction);
        t_u256(&r[i].slash.burned_total);
        t_u256(&r[i].reporter_reward);
        t_u64((uint64_t)r[i].jailed_until);
    }
}

static void events(const world *w)
{
    size_t n = 0;
    const opg_event *ev = opg_registry_events(w->r, &n);
    t_u64(n);
    for (size_t i = 0; i < n; i++) {
        t_u64((uint64_t)ev[i].kind);
        t_u64((uint64_t)ev[i].status);
        t_id(&ev[i].account);
        t_id(&ev[i].node);
        t_id(&ev[i].node2);
        t_u256(&ev[i].amount);
        t_u64(ev[i].power);
    }
}

static void make_pricer(opg_pricer **out, int k)
{
    static const char *const names[] = {"gpu", "tin", "tout", "mem", "disk", "net", "zk", "tee"};
    opg_pricer_params pp;
    opg_pricer_params_init(&pp);
    pp.dimension_count = k == 0 ? 4 : k == 1 ? 2 : 8;
    pp.combine = k == 1 ? OPG_PRICER_COMBINE_MAX : OPG_PRICER_COMBINE_SUM;
    for (size_t d = 0; d < pp.dimension_count; d++) {
        opg_pricer_dimension *x = &pp.dimensions[d];
        strcpy(x->name, names[d]);
        x->target = u(500 + 100 * d);
        x->limit = u(2000 + 100 * d);
        if ((d + (size_t)k) % 2) {
            x->controller = OPG_PRICER_EXPONENTIAL;
            x->min_base_fee = u(1000 + d);
            x->initial_base_fee = x->min_base_fee;
            x->update_fraction = 4000 + d;
            x->max_base_fee = u(UINT64_C(1000000000000000));
        } else {
            x->max_base_fee = u(UINT64_C(1000000000000000));
            x->initial_base_fee = u(1000000000 + d);
            x->min_base_fee = u(100);
            x->denominator = 8;
        }
    }
    pp.split.inference = frac(6, 10);
    pp.split.verifiers = frac(1, 10);
    pp.split.stakers = frac(2, 10);
    pp.split.burn = frac(7, 100);
    pp.split.community = frac(3, 100);
    opg_pricer_class cls[6];
    for (uint32_t c = 0; c < 6; c++) {
        memset(&cls[c], 0, sizeof cls[c]);
        cls[c].id = 10 * c + 1;
        for (size_t d = 0; d < OPG_PRICER_MAX_DIMENSIONS; d++)
            cls[c].multiplier[d] = frac(1 + (c * 7 + d * 3) % 13, 3);
    }
    pp.classes = cls;
    pp.class_count = 6;
    int rc = opg_pricer_new(out, &pp, NULL);
    if (rc)
        die("pricer_new", rc);
}

/* The tally's attachments are not state: set after creation and after a load. */
static void attach(world *w)
{
    int rc;
    if ((rc = opg_tally_attach_pricer(w->ta, w->p)) || (rc = opg_tally_attach_splitter(w->ta, w->s)) ||
        (rc = opg_tally_attach_slasher(w->ta, w->sl)))
        die("tally attach", rc);
}

static void world_new(world *w, int k)
{
    memset(w, 0, sizeof *w);
    opg_registry_params rp;
    opg_registry_params_init(&rp);
    rp.max_validators = 8;
    rp.unbonding_time = 7 * 86400;
    rp.power_reduction = u(1000000000);
    opg_u256 genesis = whole(1000000000); /* a billion OPG */
    int rc = opg_registry_new(&w->r, &rp, &genesis, NULL);
    if (rc)
        die("registry_new", rc);
    opg_splitter_params sp;
    opg_splitter_params_init(&sp);
    sp.emission = k == 0 ? OPG_EMISSION_COSMOS_MINT : k == 1 ? OPG_EMISSION_DECAY_POOL : OPG_EMISSION_LINEAR_POOL;
    sp.perf_share = frac(k, 4);
    sp.pool_amount = whole(300000000);
    sp.pool_start = 1700000000;
    sp.half_life = 4 * 365 * 86400;
    sp.duration = 96 * 30 * 86400;
    if ((rc = opg_splitter_new(&w->s, w->r, &sp, NULL)))
        die("splitter_new", rc);
    make_pricer(&w->p, k);
    opg_slasher_params lp;
    opg_slasher_params_init(&lp);
    lp.signed_blocks_window = 50;
    lp.reporter_share = frac(1, 10);
    lp.correlation_k = frac(k, 1);
    opg_fault_class fc[2] = {{7, frac(2, 100), 600, 0}, {8, frac(1, 2), 0, 1}};
    lp.fault_classes = fc;
    lp.fault_class_count = 2;
    if ((rc = opg_slasher_new(&w->sl, w->r, &lp, NULL)))
        die("slasher_new", rc);
    opg_tally_params tp;
    opg_tally_params_init(&tp);
    tp.min_deposit = whole(1000);
    tp.max_deposit_period = 2 * 3600;
    tp.voting_period = 3600;
    tp.expedited_voting_period = 1800;
    tp.burn_vote_quorum = k == 1;
    tp.liquid_weight = frac(0, 1);
    tp.conviction_voting = k == 2; /* conviction voting, its 0.1x rounding and locks */
    tp.vote_locking_period = 1800;
    if ((rc = opg_tally_new(&w->ta, w->r, &tp, NULL)))
        die("tally_new", rc);
    attach(w);
    opg_hyper_params hp;
    opg_hyper_params_init(&hp);
    hp.vault_node_cap = frac(1 + (unsigned)k, 4); /* 0.25, 0.5, 0.75 */
    hp.vault_decimals_offset = (uint32_t)(3 * k);
    if ((rc = opg_hyper_new(&w->hy, w->r, w->s, &hp, NULL)))
        die("hyper_new", rc);
}

static void world_free(world *w)
{
    opg_hyper_free(w->hy);
    opg_tally_free(w->ta);
    opg_slasher_free(w->sl);
    opg_pricer_free(w->p);
    opg_splitter_free(w->s);
    opg_registry_free(w->r);
}

typedef int (*save_fn)(uint8_t *, size_t, size_t *, const void *);
static int save_r(uint8_t *b, size_t c, size_t *l, const void *h) { return opg_registry_save(b, c, l, h); }
static int save_s(uint8_t *b, size_t c, size_t *l, const void *h) { return opg_splitter_save(b, c, l, h); }
static int save_p(uint8_t *b, size_t c, size_t *l, const void *h) { return opg_pricer_save(b, c, l, h); }
static int save_l(uint8_t *b, size_t c, size_t *l, const void *h) { return opg_slasher_save(b, c, l, h); }
static int save_t(uint8_t *b, size_t c, size_t *l, const void *h) { return opg_tally_save(b, c, l, h); }
static int save_h(uint8_t *b, size_t c, size_t *l, const void *h) { return opg_hyper_save(b, c, l, h); }

static uint8_t *save(size_t *len, save_fn fn, const void *h)
{
    size_t n = 0;
    fn(NULL, 0, &n, h);
    uint8_t *b = malloc(n ? n : 1);
    int rc = b ? fn(b, n, len, h) : OPG_ENOMEM;
    if (rc)
        die("save", rc);
    return b;
}

/* Saves the world and carries on with loaded copies. */
static void reload(world *w)
{
    size_t rl, sl, pl;
    size_t ll;
    uint8_t *rb = save(&rl, save_r, w->r), *sb = save(&sl, save_s, w->s), *pb = save(&pl, save_p, w->p);
    uint8_t *lb = save(&ll, save_l, w->sl);
    size_t tl;
    uint8_t *tb = save(&tl, save_t, w->ta);
    size_t hl;
    uint8_t *hb = save(&hl, save_h, w->hy);
    t_u64(hl);
    t_u64(tl);
    t_u64(rl);
    t_u64(sl);
    t_u64(pl);
    t_u64(ll);
    world c = *w;
    int rc;
    if ((rc = opg_registry_load(&c.r, rb, rl, NULL)) || (rc = opg_splitter_load(&c.s, c.r, sb, sl, NULL)) ||
        (rc = opg_pricer_load(&c.p, pb, pl, NULL)) || (rc = opg_slasher_load(&c.sl, c.r, lb, ll, NULL)))
        die("load", rc);
    if ((rc = opg_tally_load(&c.ta, c.r, tb, tl, NULL)))
        die("tally load", rc);
    attach(&c);
    if ((rc = opg_hyper_load(&c.hy, c.r, c.s, hb, hl, NULL)))
        die("hyper load", rc);
    free(hb);
    free(tb);
    free(lb);
    free(rb);
    free(sb);
    free(pb);
    world_free(w);
    *w = c;
}

static void state_hashes(const world *w, uint8_t out[][32], size_t *n)
{
    *n = 0;
    int rc = opg_registry_state_hash(out[(*n)++], w->r);
    if (rc == OPG_OK)
        rc = opg_splitter_state_hash(out[(*n)++], w->s);
    if (rc == OPG_OK)
        rc = opg_pricer_state_hash(out[(*n)++], w->p);
    if (rc == OPG_OK)
        rc = opg_slasher_state_hash(out[(*n)++], w->sl);
    if (rc == OPG_OK)
        rc = opg_tally_state_hash(out[(*n)++], w->ta);
    if (rc == OPG_OK)
        rc = opg_hyper_state_hash(out[(*n)++], w->hy);
    if (rc)
        die("state_hash", rc);
}

static const char *const HANDLE_NAMES[] = {"registry", "splitter", "pricer", "slasher", "tally", "hyper"};

/* ------------------------------------------------------------ governance */

/* What the tally's last end_block or cancel closed, into the transcript. */
static uint64_t outcomes[8]; /* closed proposals by outcome, printed at the end */

static void tally_closed(const world *w)
{
    size_t n = 0;
    const opg_tally_closed *c = opg_tally_closed_list(w->ta, &n);
    t_u64(n);
    for (size_t i = 0; i < n; i++) {
        t_u64(c[i].proposal_id);
        t_u64((uint64_t)c[i].outcome);
        outcomes[(unsigned)c[i].outcome & 7]++;
        t_u256(&c[i].counts.yes);
        t_u256(&c[i].counts.abstain);
        t_u256(&c[i].counts.no);
        t_u256(&c[i].counts.no_with_veto);
        t_u256(&c[i].refunded);
        t_u256(&c[i].burned);
        t_u64(c[i].refund_count);
        t_u64((uint64_t)(int64_t)c[i].failed_code);
    }
}

static const char *const GOV_CHANGES[][2] = {
    {"gov.quorum", "0.25"}, {"staking.max_validators", "9"}, {"distribution.community_tax", "0.03"},
    {"slashing.signed_blocks_window", "60"}, {"fees.no_such_key", "1"}, {"gov.threshold", "0.6"}};

/* Now and then a proposal; deposits and votes on the open ones; the tally's block. */
static void governance(world *w, rng *g, opg_height h, opg_time t)
{
    if (below(g, 40) == 0) {
        opg_proposal_submit ps;
        memset(&ps, 0, sizeof ps);
        ps.proposer = id(2, (unsigned)below(g, 32));
        ps.kind = below(g, 2) ? OPG_PROPOSAL_PARAMS : OPG_PROPOSAL_TEXT;
        ps.expedited = below(g, 5) == 0;
        ps.initial_deposit = whole(below(g, 3) * 700); /* 0, 700 or 1400 OPG */
        ps.title = "scenario";
        unsigned ci = (unsigned)below(g, 6);
        opg_param_change ch = {GOV_CHANGES[ci][0], GOV_CHANGES[ci][1]};
        ps.changes = ps.kind == OPG_PROPOSAL_PARAMS ? &ch : NULL;
        ps.change_count = ps.kind == OPG_PROPOSAL_PARAMS;
        uint64_t pid = 0;
        if (t_rc(40, opg_tally_submit(&pid, w->ta, &ps, t)) == OPG_OK)
            t_u64(pid);
    }
    size_t np = opg_tally_proposal_count(w->ta);
    for (size_t i = 0; i < np; i++) {
        opg_proposal_info pi;
        if (opg_tally_proposal_at(&pi, w->ta, i) != OPG_OK)
            die("proposal_at", OPG_ENOTFOUND);
        if (below(g, 6) == 0) {
            opg_id d = id(2, (unsigned)below(g, 32));
            opg_u256 amt = whole(1 + below(g, 500));
            int started = 0;
            if (t_rc(41, opg_tally_deposit(&started, w->ta, pi.id, &d, &amt, t)) == OPG_OK)
                t_u64((uint64_t)started);
        }
        if (pi.status != OPG_PROPOSAL_VOTING_PERIOD)
            continue;
        /* a node operator (its stake) or a delegator votes */
        opg_id voter = below(g, 2) ? id(1, (unsigned)below(g, w->nodes + 1)) : id(2, (unsigned)below(g, 32));
        if (below(g, 3)) {
            t_rc(42, opg_tally_vote_option(w->ta, pi.id, &voter, (opg_vote_option)(1 + below(g, 4))));
        } else {
            opg_weighted_vote wv[2];
            wv[0].option = OPG_VOTE_YES;
            wv[0].weight = frac(1 + below(g, 9), 10);
            wv[1].option = (opg_vote_option)(2 + below(g, 3));
            opg_dec one = frac(1, 1);
            opg_dec_sub(&wv[1].weight, &one, &wv[0].weight);
            opg_tally_params gp;
            opg_tally_params_get(&gp, w->ta);
            if (gp.conviction_voting)
                t_rc(46, opg_tally_vote_conviction(w->ta, pi.id, &voter, wv, 2,
                                                   (unsigned)below(g, 7), t));
            else
                t_rc(43, opg_tally_vote(w->ta, pi.id, &voter, wv, 2));
        }
    }
    if (np && below(g, 150) == 0) {
        opg_proposal_info pi;
        if (opg_tally_proposal_at(&pi, w->ta, (size_t)below(g, np)) == OPG_OK &&
            t_rc(44, opg_tally_cancel(w->ta, pi.id, &pi.proposer, t)) == OPG_OK)
            tally_closed(w);
    }
    if (t_rc(45, opg_tally_end_block(w->ta, h, t)) == OPG_OK)
        tally_closed(w);
}

/* --------------------------------------------------------------- a block */

static void create_node(world *w, unsigned n, opg_height h, opg_time t)
{
    opg_node_create c;
    memset(&c, 0, sizeof c);
    c.operator_id = id(1, n);
    uint8_t sk[64];
    node_keys(c.consensus_key.bytes, sk, n);
    c.roles = n % 4 == 3 ? OPG_ROLE_INFERENCE | OPG_ROLE_VERIFICATION : OPG_ROLE_ALL;
    c.commission_rate = frac(n % 7, 20);
    c.commission_max_rate = frac(1, 2);
    c.commission_max_change_rate = frac(1, 20);
    c.min_self_delegation = whole(1000);
    c.self_delegation = whole(100000 + 3571 * (uint64_t)n);
    if (t_rc(1, opg_registry_node_create(w->r, &c, h, t)) == OPG_OK) {
        events(w);
        w->nodes++;
    }
}

/* The last hyperstaking call's moves and the vault reports, into the transcript. */
static void hyper_moves(const world *w)
{
    size_t n = 0;
    const opg_hyper_move *m = opg_hyper_moves(w->hy, &n);
    t_u64(n);
    for (size_t i = 0; i < n; i++) {
        t_u64((uint64_t)m[i].kind);
        t_u64((uint64_t)(int64_t)m[i].code);
        t_id(&m[i].position);
        t_id(&m[i].owner);
        t_id(&m[i].src);
        t_id(&m[i].dst);
        t_u256(&m[i].amount);
        t_u64((uint64_t)m[i].completion);
    }
    const opg_hyper_vault_report *r = opg_hyper_vault_reports(w->hy, &n);
    t_u64(n);
    for (size_t i = 0; i < n; i++) {
        t_id(&r[i].vault);
        t_u256(&r[i].total_assets);
        t_u256(&r[i].total_shares);
        t_dec(&r[i].share_price);
        t_u256(&r[i].guard_held);
    }
}

#define VAULTS 3
#define HOLDERS 12

/* A vault holder's call: a vault over up to three nodes, deposits, mints, transfers,
 * withdrawals, redemptions and claims. */
static void vault_call(world *w, rng *g, opg_height h, opg_time t)
{
    if (w->vaults < VAULTS && w->nodes >= 3) {
        opg_hyper_weight wt[3];
        for (unsigned i = 0; i < 3; i++) {
            wt[i].node = id(1, (w->vaults * 3 + i) % w->nodes);
            wt[i].weight = frac(1 + i, 1);
        }
        opg_hyper_policy pol;
        memset(&pol, 0, sizeof pol);
        pol.kind = OPG_HYPER_FIXED;
        pol.weights = wt;
        pol.n_weights = 3;
        pol.cap = frac(6, 10);
        pol.max_nodes = 3;
        pol.auto_compound = 1;
        pol.rebalance_threshold = frac(5, 100);
        opg_id v = id(6, w->vaults);
        if (t_rc(60, opg_hyper_vault_create(w->hy, &v, &pol, h)) == OPG_OK)
            w->vaults++;
        return;
    }
    if (w->vaults == 0)
        return;
    opg_id v = id(6, (unsigned)below(g, w->vaults)), who = id(7, (unsigned)below(g, HOLDERS));
    opg_id to = id(7, (unsigned)below(g, HOLDERS));
    opg_u256 amt = whole(1 + below(g, 20000)), out;
    amt.limb[0] += below(g, 999999937); /* not round */
    uint64_t claim = 0;
    switch (below(g, 7)) {
    case 0: case 1:
        if (t_rc(61, opg_hyper_vault_deposit(&out, w->hy, &v, &who, &amt, h, t)) == OPG_OK)
            t_u256(&out);
        break;
    case 2:
        if (t_rc(62, opg_hyper_vault_mint(&out, w->hy, &v, &who, &amt, h, t)) == OPG_OK)
            t_u256(&out);
        break;
    case 3: {
        opg_u256 sh;
        opg_hyper_vault_balance(&sh, NULL, w->hy, &v, &who);
        opg_u256_divmod(&sh, NULL, &sh, &(opg_u256){{2 + below(g, 3), 0, 0, 0}});
        t_rc(63, opg_hyper_vault_transfer(w->hy, &v, &who, &to, &sh));
        break;
    }
    case 4: {
        opg_u256 sh;
        opg_hyper_vault_balance(&sh, NULL, w->hy, &v, &who);
        opg_u256_divmod(&sh, NULL, &sh, &(opg_u256){{1 + below(g, 4), 0, 0, 0}});
        if (t_rc(64, opg_hyper_vault_redeem(&out, &claim, w->hy, &v, &who, &sh, h, t)) == OPG_OK) {
            t_u256(&out);
            t_u64(claim);
        }
        break;
    }
    case 5:
        if (t_rc(65, opg_hyper_vault_withdraw(&out, &claim, w->hy, &v, &who, &amt, h, t)) == OPG_OK) {
            t_u256(&out);
            t_u64(claim);
        }
        break;
    default:
        if (t_rc(66, opg_hyper_vault_claim(&out, w->hy, &v, &who)) == OPG_OK)
            t_u256(&out);
        break;
    }
    hyper_moves(w);
}

static void host_call(world *w, rng *g, opg_height h, opg_time t)
{
    unsigned nn = w->nodes ? w->nodes : 1;
    opg_id node = id(1, (unsigned)below(g, nn)), node2 = id(1, (unsigned)below(g, nn));
    opg_id dtor = below(g, 5) == 0 ? node : id(2, (unsigned)below(g, DELEGATORS));
    opg_u256 amt = whole(1 + below(g, 50000));
    amt.limb[0] += below(g, 1000000007); /* not round */
    opg_u256 out;
    switch (below(g, 25)) {
    case 0: case 1: case 2: case 3: {
        opg_dec shares;
        if (t_rc(2, opg_registry_delegate(&shares, w->r, &dtor, &node, &amt, h, t)) == OPG_OK) {
            t_dec(&shares);
            events(w);
        }
        break;
    }
    case 4: case 5: {
        opg_time done;
        if (t_rc(3, opg_registry_undelegate(&out, &done, w->r, &dtor, &node, &amt, h, t)) == OPG_OK) {
            t_u256(&out);
            t_u64((uint64_t)done);
            events(w);
        }
        break;
    }
    case 6: {
        opg_time done;
        if (t_rc(4, opg_registry_redelegate(&done, w->r, &dtor, &node, &node2, &amt, h, t)) == OPG_OK) {
            t_u64((uint64_t)done);
            events(w);
        }
        break;
    }
    case 7: {
        opg_unbonding_info ub[4];
        size_t n = 0;
        opg_registry_unbondings_of(ub, 4, &n, w->r, &dtor);
        if (n == 0 || n > 4)
            break;
        opg_u256 half;
        opg_u256 two = u(2);
        opg_u256_divmod(&half, NULL, &ub[0].balance, &two);
        if (t_rc(5, opg_registry_cancel_unbonding(w->r, &dtor, &ub[0].operator_id, ub[0].creation_height,
                                                  &half, h, t)) == OPG_OK)
            events(w);
        break;
    }
    case 8: {
        opg_node_info ni;
        if (opg_registry_node_get(&ni, w->r, &node) != OPG_OK)
            break;
        opg_dec f = frac(1 + below(g, 50), 1000);
        opg_slash_result sr;
        opg_height inf = h > 20 ? h - below(g, 20) : h;
        if (t_rc(6, opg_registry_slash(&sr, w->r, &node, inf, ni.power, &f, h, t)) == OPG_OK) {
            t_u256(&sr.burned_total);
            t_dec(&sr.effective_fraction);
            events(w);
        }
        if (below(g, 3) == 0 && t_rc(7, opg_registry_jail(w->r, &node, t + 3600)) == OPG_OK)
            events(w);
        break;
    }
    case 9:
        if (t_rc(8, opg_registry_unjail(w->r, &node, t)) == OPG_OK)
            events(w);
        break;
    case 10: {
        opg_dec rate = frac(below(g, 10), 20);
        t_rc(9, opg_registry_node_set_commission(w->r, &node, &rate, t));
        break;
    }
    case 11: case 12:
        if (t_rc(10, opg_splitter_withdraw_rewards(&out, w->s, &dtor, &node, h, t)) == OPG_OK) {
            t_u256(&out);
            events(w);
        }
        break;
    case 13:
        if (t_rc(11, opg_splitter_withdraw_commission(&out, w->s, &node)) == OPG_OK)
            t_u256(&out);
        break;
    case 14: {
        opg_u256 a = u(below(g, 1000000000));
        t_rc(12, opg_splitter_allocate_to_node(w->s, &node, &a));
        break;
    }
    case 15: {
        opg_u256 a = u(1 + below(g, 100000));
        t_rc(13, opg_splitter_community_pool_spend(w->s, &a));
        break;
    }
    case 16: {
        opg_pricer_class c;
        memset(&c, 0, sizeof c);
        c.id = 10 * (uint32_t)below(g, 8) + 1;
        for (size_t d = 0; d < OPG_PRICER_MAX_DIMENSIONS; d++)
        {
            /* one draw per statement: argument order is unspecified in C */
            uint64_t num = below(g, 40);
            uint64_t den = 1 + below(g, 9);
            c.multiplier[d] = frac(num, den);
        }
        t_rc(14, below(g, 4) ? opg_pricer_class_set(w->p, &c) : opg_pricer_class_remove(w->p, c.id));
        break;
    }
    case 17: {
        static const char *const keys[] = {"staking.max_validators", "distribution.community_tax",
                                           "distribution.perf_share", "mint.inflation_rate_change",
                                           "staking.min_commission_rate", "fees.split"};
        static const char *const values[][3] = {{"7", "8", "9"},
                                                {"0.02", "0.05", "0.013"},
                                                {"0", "0.25", "0.5"},
                                                {"0.13", "0.2", "0.07"},
                                                {"0", "0.01", "0.02"},
                                                {"0.6,0.1,0.2,0.07,0.03", "0.5,0.2,0.2,0.1,0", "1,0,0,0,0"}};
        unsigned k = (unsigned)below(g, 6), v = (unsigned)below(g, 3);
        int rc = k == 0 || k == 4 ? opg_registry_param_set(w->r, keys[k], values[k][v])
                 : k == 5         ? opg_pricer_param_set(w->p, keys[k], values[k][v])
                                  : opg_splitter_param_set(w->s, keys[k], values[k][v]);
        t_rc(15, rc);
        break;
    }
    case 18: { /* now and then a verification node reports a faulty inference */
        if (below(g, 10))
            break;
        opg_fault_evidence ev;
        memset(&ev, 0, sizeof ev);
        ev.evidence_id = id(5, (unsigned)below(g, 256));
        ev.evidence_id.bytes[1] = (uint8_t)(h >> 8);
        ev.evidence_id.bytes[2] = (uint8_t)h;
        ev.node = node;
        ev.infraction_height = h > 3 ? h - below(g, 3) : h;
        /* the block time of the infraction height is the registry's (0 if it has none:
         * refused) */
        (void)opg_registry_block_time(&ev.infraction_time, w->r, ev.infraction_height);
        ev.fault_class = below(g, 200) == 0 ? 8 : 7;
        /* another node reports (every node verifies); now and then the accused itself,
         * which is refused */
        ev.reporter = id(1, (unsigned)below(g, w->nodes));
        if (t_rc(21, opg_slasher_fault(NULL, w->sl, &ev, h, t)) == OPG_OK) {
            slasher_records(w);
            events(w);
        }
        break;
    }
    default: { /* an inference request */
        opg_pricer_request rq;
        memset(&rq, 0, sizeof rq);
        rq.model_class = 10 * (uint32_t)below(g, 7) + 1;
        for (size_t d = 0; d < opg_pricer_dimension_count(w->p); d++)
            rq.units[d] = u(below(g, 120));
        opg_pricer_receipt r;
        opg_u256 va[3], tip = u(below(g, 1000000)), max_fee = u(UINT64_MAX);
        opg_id vs[3];
        vs[0] = id(4, (unsigned)below(g, 9)); /* one draw per statement */
        vs[1] = id(4, 9 + (unsigned)below(g, 9));
        vs[2] = id(4, 20);
        if (t_rc(16, opg_pricer_charge(&r, va, w->p, &rq, &max_fee, &tip, vs, 3)) != OPG_OK)
            break;
        t_u256(&r.fee);
        t_u256(&r.inference);
        for (int i = 0; i < 3; i++)
            t_u256(&va[i]);
        /* the host moves the parts: stakers' to the pot, community to its pool, burn;
         * the inference node's share is allocated to it as a fee reward */
        if (!opg_u256_is_zero(&r.stakers))
            t_rc(17, opg_splitter_add_fees(w->s, &r.stakers));
        if (!opg_u256_is_zero(&r.community))
            t_rc(18, opg_splitter_fund_community_pool(w->s, &r.community));
        if (!opg_u256_is_zero(&r.burn))
            t_rc(19, opg_registry_supply_burn(w->r, &r.burn));
        if (!opg_u256_is_zero(&r.inference))
            t_rc(20, opg_splitter_allocate_to_node(w->s, &node, &r.inference));
        break;
    }
    }
}

/* Two conflicting precommits by node n at height vh, signed with its key. */
static void double_sign(world *w, unsigned n, opg_height vh, opg_height h, opg_time t)
{
    opg_double_sign_evidence ev;
    memset(&ev, 0, sizeof ev);
    uint8_t sk[64];
    node_keys(ev.consensus_key.bytes, sk, n);
    opg_slasher_vote *v[2] = {&ev.vote_a, &ev.vote_b};
    for (int k = 0; k < 2; k++) {
        v[k]->type = OPG_VOTE_PRECOMMIT;
        v[k]->height = vh;
        v[k]->round = 1;
        memset(v[k]->block_id, 0x40 + k, 32);
        uint8_t msg[OPG_VOTE_SIGN_BYTES_MAX];
        size_t len = 0;
        int rc = opg_slasher_vote_sign_bytes(msg, sizeof msg, &len, "opg-1", v[k]);
        if (rc)
            die("vote_sign_bytes", rc);
        crypto_sign_detached(v[k]->signature, NULL, msg, len, sk);
    }
    /* neither field is signed: the registry's block time, and power 0 (look it up) */
    (void)opg_registry_block_time(&ev.infraction_time, w->r, vh);
    ev.validator_power = 0;
    (void)t;
    if (t_rc(22, opg_slasher_double_sign(NULL, w->sl, &ev, h, t)) == OPG_OK) {
        slasher_records(w);
        events(w);
    }
}

static void run_block(world *w, rng *g, opg_height h, opg_time t)
{
    /* the last commit's signatures: node 5 misses most blocks, the others a few */
    opg_commit_sig cs[NODES];
    size_t ncs = 0;
    for (unsigned i = 0; i < w->nodes; i++) {
        opg_node_info ni;
        opg_id op = id(1, i);
        if (opg_registry_node_get(&ni, w->r, &op) != OPG_OK || ni.status != OPG_NODE_BONDED)
            continue;
        cs[ncs].consensus_key = ni.consensus_key;
        cs[ncs].power = ni.power;
        cs[ncs++].signed_block = below(g, 100) >= (i == 5 ? 70u : 3u);
    }
    if (t_rc(34, opg_slasher_record_commit(w->sl, cs, ncs, h, t)) == OPG_OK) {
        slasher_records(w);
        events(w);
    }
    if (h % 1999 == 0 && w->nodes) {
        unsigned who = (unsigned)below(g, w->nodes); /* one draw per statement */
        opg_height back = below(g, 5);
        double_sign(w, who, h - 1 - back, h, t);
    }
    opg_u256 minted;
    if (t_rc(30, opg_splitter_mint(&minted, w->s, h, t)) == OPG_OK)
        t_u256(&minted);
    /* the last commit: the bonded nodes, some of them absent (power 0 weight) */
    opg_commit_vote v[NODES];
    size_t nv = 0;
    for (unsigned i = 0; i < w->nodes; i++) {
        opg_node_info ni;
        opg_id op = id(1, i);
        if (opg_registry_node_get(&ni, w->r, &op) == OPG_OK && ni.status == OPG_NODE_BONDED) {
            v[nv].consensus_key = ni.consensus_key;
            v[nv].power = ni.power;
            v[nv].score = frac(below(g, 101), 100);
            nv++;
        }
    }
    t_rc(31, opg_splitter_allocate(w->s, v, nv, h, t));
    if (w->nodes < NODES && below(g, 8) == 0)
        create_node(w, w->nodes, h, t);
    unsigned k = 4 + (unsigned)below(g, 12);
    for (unsigned i = 0; i < k; i++)
        host_call(w, g, h, t);
    for (unsigned i = (unsigned)below(g, 3); i > 0; i--)
        vault_call(w, g, h, t);
    if (h % 50 == 0) {
        size_t done = 0;
        if (t_rc(67, opg_hyper_epoch(&done, w->hy, NULL, 0, h, t)) == OPG_OK)
            t_u64(done);
        hyper_moves(w);
        events(w);
    }
    if (t_rc(68, opg_hyper_end_block(w->hy, h, t)) == OPG_OK)
        hyper_moves(w);
    opg_u256 fees[OPG_PRICER_MAX_DIMENSIONS];
    if (t_rc(32, opg_pricer_end_block(fees, w->p)) == OPG_OK)
        for (int d = 0; d < OPG_PRICER_MAX_DIMENSIONS; d++)
            t_u256(&fees[d]);
    if (t_rc(33, opg_registry_end_block(w->r, h, t)) == OPG_OK)
        events(w);
    governance(w, g, h, t);
}

static void hex(char out[65], const uint8_t h[32])
{
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

int main(int argc, char **argv)
{
    long blocks = argc > 1 ? strtol(argv[1], NULL, 10) : 10000;
    if (sodium_init() < 0)
        return 1;
    uint8_t personal[16] = "opg.determinism";
    crypto_generichash_blake2b_init_salt_personal(&transcript, NULL, 0, 32, NULL, personal);

    world w[WORLDS];
    rng g[WORLDS];
    for (int k = 0; k < WORLDS; k++) {
        world_new(&w[k], k);
        g[k].s = UINT64_C(0x6f70672d64657465) + (uint64_t)k;
        for (unsigned n = 0; n < 4; n++)
            create_node(&w[k], n, 1, 1700000000);
    }
    opg_time t = 1700000000;
    for (long b = 1; b <= blocks; b++) {
        /* mostly 6-second blocks, now and then a long gap (entries mature) */
        t += b % 97 == 0 ? 3 * 86400 : 6;
        for (int k = 0; k < WORLDS; k++)
            run_block(&w[k], &g[k], (opg_height)b + 1, t);
        if (b % 100 == 0)
            for (int k = 0; k < WORLDS; k++) {
                uint8_t hs[8][32];
                size_t n;
                state_hashes(&w[k], hs, &n);
                for (size_t i = 0; i < n; i++)
                    crypto_generichash_blake2b_update(&transcript, hs[i], 32);
            }
        if (b % 500 == 0)
            for (int k = 0; k < WORLDS; k++)
                reload(&w[k]);
    }

    printf("scenario: %d worlds, %ld blocks, %llu calls, %llu refused\n", WORLDS, blocks,
           (unsigned long long)calls, (unsigned long long)refused);
    printf("governance: passed %llu rejected %llu failed %llu removed %llu cancelled %llu converted %llu\n",
           (unsigned long long)outcomes[OPG_TALLY_PASSED], (unsigned long long)outcomes[OPG_TALLY_REJECTED],
           (unsigned long long)outcomes[OPG_TALLY_FAILED], (unsigned long long)outcomes[OPG_TALLY_REMOVED],
           (unsigned long long)outcomes[OPG_TALLY_CANCELLED], (unsigned long long)outcomes[OPG_TALLY_CONVERTED]);
    for (int k = 0; k < WORLDS; k++) {
        uint8_t hs[8][32];
        size_t n;
        char x[65];
        state_hashes(&w[k], hs, &n);
        for (size_t i = 0; i < n; i++) {
            hex(x, hs[i]);
            printf("world %d %-9s %s\n", k, HANDLE_NAMES[i], x);
        }
        opg_supply_info sup;
        opg_registry_supply(&sup, w[k].r);
        char a[OPG_U256_STRING_MAX], bb[OPG_U256_STRING_MAX];
        opg_u256_to_string(a, sizeof a, NULL, &sup.total_supply);
        opg_u256_to_string(bb, sizeof bb, NULL, &sup.bonded);
        printf("world %d supply %s bonded %s nodes %zu delegations %zu\n", k, a, bb,
               opg_registry_node_count(w[k].r), opg_registry_delegation_count(w[k].r));
        for (unsigned v = 0; v < w[k].vaults; v++) {
            opg_id vid = id(6, v);
            opg_hyper_vault_info vi;
            if (opg_hyper_vault_get(&vi, w[k].hy, &vid, (opg_height)blocks + 1) != OPG_OK)
                continue;
            opg_u256_to_string(a, sizeof a, NULL, &vi.total_assets);
            opg_u256_to_string(bb, sizeof bb, NULL, &vi.queued);
            printf("world %d vault %u holders %zu assets %s queued %s\n", k, v, vi.n_holders, a, bb);
        }
    }
    uint8_t th[32];
    char x[65];
    crypto_generichash_blake2b_final(&transcript, th, 32);
    hex(x, th);
    printf("transcript %s\n", x);
    for (int k = 0; k < WORLDS; k++)
        world_free(&w[k]);
    return 0;
}
