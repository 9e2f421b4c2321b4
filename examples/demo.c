/*
 * demo.c - a year of an OpenGradient-like network, driven only through libopg's
 * public API: `make demo`.
 *
 * About 150 nodes (consensus, inference and verification roles), 100,000
 * delegators, blocks of 5 s over one simulated year, stepped: each step stands for
 * --step-blocks blocks (default 60, five minutes), with the emission computed from
 * absolute time so stepping loses nothing. Inference demand follows the time of day
 * and grows over the year; every request is priced, charged and split; the decay
 * pool pays the stakers; nodes earn by power and by performance score.
 *
 * Output: a summary on stdout, demo-out/timeseries.csv and demo-out/chart.svg. All
 * arithmetic that reaches the output is integer, so the same seed gives the same
 * bytes on every machine. Progress goes to stderr.
 */
#define _POSIX_C_SOURCE 200809L
#include "opg.h"

#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define OPG_UNIT UINT64_C(1000000000000000000) /* 1 OPG in base units */
#define BLOCK_SECONDS 5
#define DAY 86400
#define GENESIS_TIME 1767225600 /* 2026-01-01 */

typedef struct config {
    unsigned nodes, delegators, days, step_blocks;
    uint64_t seed;
    const char *out;
} config;

/* ------------------------------------------------------------ utilities */

static void die(const char *what, int rc, const char *detail)
{
    fprintf(stderr, "demo: %s: %s (%s)%s%s\n", what, opg_strerror(rc), opg_errname(rc),
            detail && *detail ? ": " : "", detail ? detail : "");
    exit(1);
}

#define TRY(call, handle_err)                       \
    do {                                            \
        int rc_ = (call);                           \
        if (rc_)                                    \
            die(#call, rc_, handle_err);            \
    } while (0)

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

static opg_id id_of(uint32_t kind, uint32_t n)
{
    opg_id id;
    memset(&id, 0, sizeof id);
    /* a hash-like spread, as real account addresses have */
    crypto_generichash(id.bytes, 32, (const uint8_t *)&(uint32_t[2]){kind, n}, 8, NULL, 0);
    return id;
}

static opg_u256 opg(uint64_t whole) /* whole OPG in base units */
{
    opg_u256 v, unit;
    opg_u256_from_u64(&v, whole);
    opg_u256_from_u64(&unit, OPG_UNIT);
    opg_u256_mul(&v, &v, &unit);
    return v;
}

static opg_u256 u(uint64_t x)
{
    opg_u256 v;
    opg_u256_from_u64(&v, x);
    return v;
}

static opg_dec dec(const char *s)
{
    opg_dec d;
    if (opg_dec_from_string(&d, s))
        die("bad decimal literal", OPG_EPARSE, s);
    return d;
}

/* An amount in whole OPG with three decimals, as text. */
static const char *fmt_opg(char *buf, size_t cap, const opg_u256 *v)
{
    opg_u256 milli_unit = u(OPG_UNIT / 1000), q;
    opg_u256_divmod(&q, NULL, v, &milli_unit);
    char digits[OPG_U256_STRING_MAX];
    opg_u256_to_string(digits, sizeof digits, NULL, &q);
    size_t n = strlen(digits);
    if (n <= 3)
        snprintf(buf, cap, "0.%03u", (unsigned)strtoul(digits, NULL, 10));
    else
        snprintf(buf, cap, "%.*s.%s", (int)(n - 3), digits, digits + n - 3);
    return buf;
}

/* A Dec as a percentage with two decimals ("12.34%"), truncated. */
static const char *fmt_pct(char *buf, size_t cap, const opg_dec *d)
{
    opg_u256 raw, q, bp = u(100000000000000); /* 10^14 raw = 0.0001 */
    opg_dec_to_raw(&raw, d);
    opg_u256_divmod(&q, NULL, &raw, &bp);
    uint64_t b = 0;
    opg_u256_to_u64(&b, &q);
    snprintf(buf, cap, "%llu.%02llu%%", (unsigned long long)(b / 100), (unsigned long long)(b % 100));
    return buf;
}

static uint64_t to_u64_sat(const opg_u256 *v)
{
    uint64_t x;
    return opg_u256_to_u64(&x, v) == OPG_OK ? x : UINT64_MAX;
}

static void hex32(char out[65], const uint8_t h[32])
{
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* ------------------------------------------------------------ progress */

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress(uint64_t step, uint64_t steps, uint64_t blocks, double started, int done)
{
    static int last_pct = -1;
    int tty = isatty(2);
    int pct = (int)(steps ? step * 100 / steps : 100);
    if (!done && pct == last_pct)
        return;
    if (!tty && (pct % 10 != 0 || (done && pct == last_pct)))
        return;
    last_pct = pct;
    double el = wall_seconds() - started;
    double bps = el > 0 ? (double)blocks / el : 0;
    char bar[41];
    int fill = pct * 40 / 100;
    for (int i = 0; i < 40; i++)
        bar[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
    bar[40] = '\0';
    fprintf(stderr, "%s[%s] %3d%%  %.0f blocks/s  %.1f s%s", tty ? "\r" : "", bar, pct, bps, el,
            tty && !done ? "" : "\n");
}

/* ------------------------------------------------------------ the world */

typedef struct node_rec {
    opg_id op;
    opg_id key;           /* consensus key: an Ed25519 public key */
    uint8_t sk[64];       /* its secret key (the demo signs votes with it) */
    uint32_t roles;
    uint32_t score_milli; /* performance score, 0..1000 */
} node_rec;

typedef struct sample {
    uint32_t day;
    opg_dec staking_ratio;
    opg_u256 base_fee[2];
    opg_dec apr;
    opg_u256 supply, burned, community;
} sample;

typedef struct world {
    config cfg;
    rng r;
    opg_registry *reg;
    opg_pricer *pricer;
    opg_splitter *split;
    opg_slasher *slasher;
    opg_tally *gov;
    node_rec *nodes;
    uint32_t *inference, *verification;
    unsigned n_inference, n_verification;
    opg_height height;
    opg_time now;

    /* what the host saw come out */
    opg_u256 fees_total, fees_inference, fees_verifiers, fees_stakers, fees_burned,
        fees_community;
    opg_u256 rewards_paid, commission_paid, unbonded_paid;
    uint64_t requests, refused_requests, priced_out, delegator_ops, refused_ops;
    opg_dec accrued_prev; /* delegators' accrued income at the last sample */

    sample *samples;
    size_t n_samples;

    /* the incidents of the year, and what they cost */
    uint32_t outage_node, faulty_node, double_sign_node, reporter_node;
    uint64_t outage_step, fault_step, double_sign_step, proposal_step;
    uint64_t proposal_id;
    opg_tally_closed proposal;      /* how it closed (refunds are not kept) */
    int proposal_closed;
    char gpu_target_before[48], gpu_target_after[48];
    opg_slasher_record slashes[16];
    size_t n_slashes;
} world;

static void collect_events(world *w)
{
    size_t n;
    const opg_event *ev = opg_registry_events(w->reg, &n);
    for (size_t i = 0; i < n; i++) {
        switch (ev[i].kind) {
        case OPG_EVENT_REWARDS_PAID:
            opg_u256_add(&w->rewards_paid, &w->rewards_paid, &ev[i].amount);
            break;
        case OPG_EVENT_COMMISSION_PAID:
            opg_u256_add(&w->commission_paid, &w->commission_paid, &ev[i].amount);
            break;
        case OPG_EVENT_UNBONDING_MATURED:
            opg_u256_add(&w->unbonded_paid, &w->unbonded_paid, &ev[i].amount);
            break;
        default:
            break;
        }
    }
}

static void build_network(world *w)
{
    const config *c = &w->cfg;
    opg_registry_params rp;
    opg_registry_params_init(&rp);
    rp.max_validators = c->nodes * 2 / 3;
    /* OPG has 18 decimals: one unit of consensus power per OPG, as 18-decimal Cosmos
     * chains set it (the Cosmos default of 10^6 suits 6-decimal tokens) */
    opg_u256_from_u64(&rp.power_reduction, OPG_UNIT);
    /* supply: 1 billion OPG, of which 200 million sit in the emission pool */
    opg_u256 supply = opg(1000000000);
    TRY(opg_registry_new(&w->reg, &rp, &supply, NULL), "");

    opg_splitter_params sp;
    opg_splitter_params_init(&sp);
    sp.emission = OPG_EMISSION_DECAY_POOL;
    sp.pool_amount = opg(200000000);
    sp.pool_start = GENESIS_TIME;
    sp.half_life = 4 * 365 * DAY;
    sp.perf_share = dec("0.2");
    TRY(opg_splitter_new(&w->split, w->reg, &sp, NULL), "");

    /* the slashing engine: Cosmos defaults, one fault class for wrong inference
     * results (2 %, jailed a day), and a tenth of a fault slash to its reporter */
    static const opg_fault_class wrong_result = {1, {{20000000000000000, 0, 0, 0}}, DAY, 0};
    opg_slasher_params slp;
    opg_slasher_params_init(&slp);
    slp.fault_classes = &wrong_result;
    slp.fault_class_count = 1;
    slp.reporter_share = dec("0.1");
    TRY(opg_slasher_new(&w->slasher, w->reg, &slp, NULL), "");

    /* governance, with the pricer, splitter and slasher open to parameter changes */
    TRY(opg_tally_new(&w->gov, w->reg, NULL, NULL), "");

    opg_pricer_params pp;
    opg_pricer_params_init(&pp);
    pp.dimension_count = 2;
    snprintf(pp.dimensions[0].name, sizeof pp.dimensions[0].name, "gpu_ms");
    /* targets sit near the demand of mid-year, so base fees fall first, then rise */
    uint64_t per_step = c->step_blocks;
    pp.dimensions[0].initial_base_fee = u(100000000000000); /* 10^-4 OPG per GPU ms */
    pp.dimensions[0].min_base_fee = u(1000000000000);
    pp.dimensions[0].max_base_fee = u(100000000000000000); /* 0.1 OPG per GPU ms at most */
    pp.dimensions[0].target = u(100000 * per_step / 60);
    pp.dimensions[0].limit = u(200000 * per_step / 60);
    snprintf(pp.dimensions[1].name, sizeof pp.dimensions[1].name, "tokens");
    pp.dimensions[1].controller = OPG_PRICER_EXPONENTIAL;
    pp.dimensions[1].initial_base_fee = u(20000000000000); /* 2 * 10^-5 OPG per token */
    pp.dimensions[1].min_base_fee = u(20000000000000);
    pp.dimensions[1].max_base_fee = u(10000000000000000); /* 0.01 OPG per token at most */
    pp.dimensions[1].target = u(60000 * per_step / 60);
    pp.dimensions[1].limit = u(120000 * per_step / 60);
    pp.dimensions[1].update_fraction = 8 * 60000 * per_step / 60;
    pp.split.inference = dec("0.6");
    pp.split.verifiers = dec("0.1");
    pp.split.stakers = dec("0.2");
    pp.split.burn = dec("0.05");
    pp.split.community = dec("0.05");
    static const char *mult[4][2] = {{"1", "1"}, {"2.5", "1"}, {"8", "1.5"}, {"0.3", "0"}};
    opg_pricer_class classes[4];
    for (uint32_t k = 0; k < 4; k++) {
        memset(&classes[k], 0, sizeof classes[k]);
        classes[k].id = k + 1;
        classes[k].multiplier[0] = dec(mult[k][0]);
        classes[k].multiplier[1] = dec(mult[k][1]);
    }
    pp.classes = classes;
    pp.class_count = 4;
    TRY(opg_pricer_new(&w->pricer, &pp, NULL), "");
    TRY(opg_tally_attach_pricer(w->gov, w->pricer), "");
    TRY(opg_tally_attach_splitter(w->gov, w->split), "");
    TRY(opg_tally_attach_slasher(w->gov, w->slasher), "");

    /* nodes: every one validates; two in three serve inference, one in three verifies */
    w->nodes = calloc(c->nodes, sizeof *w->nodes);
    w->inference = calloc(c->nodes, sizeof *w->inference);
    w->verification = calloc(c->nodes, sizeof *w->verification);
    for (uint32_t i = 0; i < c->nodes; i++) {
        node_rec *n = &w->nodes[i];
        uint8_t seed[32];
        memset(seed, 0, sizeof seed);
        memcpy(seed, &w->cfg.seed, sizeof w->cfg.seed);
        memcpy(seed + 8, &i, sizeof i);
        crypto_sign_seed_keypair(n->key.bytes, n->sk, seed);
        n->op = id_of(1, i);
        n->roles = OPG_ROLE_CONSENSUS | (i % 3 == 2 ? OPG_ROLE_VERIFICATION : OPG_ROLE_INFERENCE);
        n->score_milli = 600 + (uint32_t)below(&w->r, 401);
        if (n->roles & OPG_ROLE_INFERENCE)
            w->inference[w->n_inference++] = i;
        else
            w->verification[w->n_verification++] = i;
        opg_node_create nc;
        memset(&nc, 0, sizeof nc);
        nc.operator_id = n->op;
        nc.consensus_key = n->key;
        nc.roles = n->roles;
        char rate[16];
        snprintf(rate, sizeof rate, "0.%02u", 5 + (unsigned)below(&w->r, 16));
        nc.commission_rate = dec(rate);
        nc.commission_max_rate = dec("0.3");
        nc.commission_max_change_rate = dec("0.02");
        nc.min_self_delegation = opg(1000);
        nc.self_delegation = opg(10000 + below(&w->r, 90001));
        TRY(opg_registry_node_create(w->reg, &nc, 1, GENESIS_TIME), opg_registry_last_error(w->reg));
    }
    /* delegators: a few large nodes attract more (the square of a uniform pick) */
    for (uint32_t d = 0; d < c->delegators; d++) {
        uint64_t x = below(&w->r, 1000);
        uint32_t target = (uint32_t)(x * x * c->nodes / 1000000);
        opg_id who = id_of(2, d);
        opg_u256 amt = opg(100 + below(&w->r, 9901));
        TRY(opg_registry_delegate(NULL, w->reg, &who, &w->nodes[target].op, &amt, 1, GENESIS_TIME),
            opg_registry_last_error(w->reg));
    }
    TRY(opg_registry_end_block(w->reg, 1, GENESIS_TIME), "");
    w->height = 1;
    w->now = GENESIS_TIME;
}

/* Requests this step: a day curve (triangle, 50 % at 04:00 to 150 % at 16:00) times
 * growth over the year (x1 to x4), around 20 per five minutes at the start. */
static unsigned demand(const world *w, uint64_t step_blocks)
{
    uint64_t tod = (uint64_t)(w->now - GENESIS_TIME) % DAY;
    uint64_t phase = (tod + DAY - 4 * 3600) % DAY;                 /* 0 at 04:00 */
    uint64_t tri = phase < DAY / 2 ? phase : DAY - phase;          /* 0 .. DAY/2 */
    uint64_t day_pct = 50 + tri * 100 / (DAY / 2);                 /* 50 .. 150 */
    uint64_t year_pct = 100 + (uint64_t)(w->now - GENESIS_TIME) * 300 / (365 * (uint64_t)DAY);
    return (unsigned)(20 * step_blocks / 60 * day_pct * year_pct / 10000);
}

static void serve_requests(world *w)
{
    unsigned n = demand(w, w->cfg.step_blocks);
    for (unsigned k = 0; k < n; k++) {
        opg_pricer_request req;
        memset(&req, 0, sizeof req);
        req.model_class = 1 + (uint32_t)below(&w->r, 4);
        req.units[0] = u(50 + below(&w->r, 2000));
        req.units[1] = u(100 + below(&w->r, 4000));
        opg_pricer_price q;
        if (opg_pricer_quote(&q, w->pricer, &req) != OPG_OK) {
            w->refused_requests++;
            continue;
        }
        /* each user has a budget of 0.5 to 3 OPG; above it the request is not sent,
         * which is what holds the fee market near its targets */
        opg_u256 max_fee = u(OPG_UNIT / 2 + below(&w->r, OPG_UNIT * 5 / 2)), tip = u(1000000);
        if (opg_u256_cmp(&q.base_fee, &max_fee) > 0) {
            w->priced_out++;
            continue;
        }
        uint32_t inf = w->inference[below(&w->r, w->n_inference)];
        /* two distinct verifiers */
        uint64_t i0 = below(&w->r, w->n_verification);
        uint64_t i1 = (i0 + 1 + below(&w->r, w->n_verification - 1)) % w->n_verification;
        opg_id vids[2] = {w->nodes[w->verification[i0]].op, w->nodes[w->verification[i1]].op};
        opg_u256 vamounts[2];
        opg_pricer_receipt rc;
        if (opg_pricer_charge(&rc, vamounts, w->pricer, &req, &max_fee, &tip, vids, 2) != OPG_OK) {
            w->refused_requests++; /* over the block limit, say: the user retries later */
            continue;
        }
        w->requests++;
        opg_u256_add(&w->fees_total, &w->fees_total, &rc.fee);
        opg_u256_add(&w->fees_inference, &w->fees_inference, &rc.inference);
        opg_u256_add(&w->fees_verifiers, &w->fees_verifiers, &rc.verifiers);
        opg_u256_add(&w->fees_stakers, &w->fees_stakers, &rc.stakers);
        opg_u256_add(&w->fees_burned, &w->fees_burned, &rc.burn);
        opg_u256_add(&w->fees_community, &w->fees_community, &rc.community);
        /* the host moves the tokens: node shares through F1, the rest to their pools */
        if (!opg_u256_is_zero(&rc.inference))
            TRY(opg_splitter_allocate_to_node(w->split, &w->nodes[inf].op, &rc.inference),
                opg_splitter_last_error(w->split));
        for (int v = 0; v < 2; v++)
            if (!opg_u256_is_zero(&vamounts[v]))
                TRY(opg_splitter_allocate_to_node(w->split, &vids[v], &vamounts[v]),
                    opg_splitter_last_error(w->split));
        TRY(opg_splitter_add_fees(w->split, &rc.stakers), "");
        TRY(opg_splitter_fund_community_pool(w->split, &rc.community), "");
        TRY(opg_registry_supply_burn(w->reg, &rc.burn), "");
    }
}

/* A handful of delegators act each step: stake more, take some out, move, claim. */
static void delegator_activity(world *w)
{
    for (int k = 0; k < 4; k++) {
        opg_id who = id_of(2, (uint32_t)below(&w->r, w->cfg.delegators));
        opg_delegation_info di[4];
        size_t cnt = 0;
        int rc = opg_registry_delegations_of(di, 4, &cnt, w->reg, &who);
        if (rc != OPG_OK || cnt == 0)
            continue;
        const opg_id *node = &di[0].operator_id;
        const opg_id *other = &w->nodes[below(&w->r, w->cfg.nodes)].op;
        opg_u256 part, ten = u(10);
        opg_u256_divmod(&part, NULL, &di[0].tokens, &ten);
        uint64_t pick = below(&w->r, 100);
        switch (pick < 40 ? 0 : pick < 55 ? 1 : pick < 70 ? 2 : 3) {
        case 0: {
            opg_u256 amt = opg(10 + below(&w->r, 500));
            rc = opg_registry_delegate(NULL, w->reg, &who, node, &amt, w->height, w->now);
            break;
        }
        case 1:
            rc = opg_registry_undelegate(NULL, NULL, w->reg, &who, node, &part, w->height, w->now);
            break;
        case 2:
            rc = opg_registry_redelegate(NULL, w->reg, &who, node, other, &part, w->height, w->now);
            break;
        default:
            rc = opg_splitter_withdraw_rewards(NULL, w->split, &who, node, w->height, w->now);
            break;
        }
        w->delegator_ops++;
        if (rc == OPG_OK)
            collect_events(w);
        else
            w->refused_ops++; /* the rules said no (max entries, transitive ...) */
    }
}

static void allocate_block(world *w)
{
    opg_commit_vote votes[1024];
    size_t n = 0;
    for (uint32_t i = 0; i < w->cfg.nodes && n < 1024; i++) {
        opg_node_info ni;
        if (opg_registry_node_get(&ni, w->reg, &w->nodes[i].op) != OPG_OK ||
            ni.status != OPG_NODE_BONDED || ni.jailed)
            continue;
        votes[n].consensus_key = ni.consensus_key;
        votes[n].power = ni.power;
        char sc[16];
        snprintf(sc, sizeof sc, "0.%03u", w->nodes[i].score_milli % 1000);
        votes[n++].score = w->nodes[i].score_milli >= 1000 ? dec("1") : dec(sc);
    }
    TRY(opg_splitter_mint(NULL, w->split, w->height, w->now), opg_splitter_last_error(w->split));
    TRY(opg_splitter_allocate(w->split, votes, n, w->height, w->now), opg_splitter_last_error(w->split));
}

/* What delegators have earned so far: paid out, plus allocated to nodes and not yet
 * withdrawn, less the nodes' commission. */
static opg_dec delegator_accrued(const world *w)
{
    opg_splitter_totals t;
    opg_splitter_totals_get(&t, w->split);
    opg_dec acc;
    opg_dec_add(&acc, &t.paid_delegators, &t.outstanding);
    for (uint32_t i = 0; i < w->cfg.nodes; i++) {
        opg_node_rewards nr;
        if (opg_splitter_node_rewards(&nr, w->split, &w->nodes[i].op) == OPG_OK)
            opg_dec_sub(&acc, &acc, &nr.commission);
    }
    return acc;
}

/* The day's delegator income over bonded stake, times 365: a trailing APR. */
static void take_sample(world *w, uint32_t day)
{
    sample *s = &w->samples[w->n_samples++];
    memset(s, 0, sizeof *s);
    s->day = day;
    opg_supply_info sup;
    opg_registry_supply(&sup, w->reg);
    s->staking_ratio = sup.staking_ratio;
    s->supply = sup.total_supply;
    s->burned = sup.burned;
    s->community = sup.community_pool;
    for (size_t d = 0; d < 2; d++) {
        opg_pricer_dimension dim;
        opg_pricer_dimension_state st;
        if (opg_pricer_dimension_get(&dim, &st, w->pricer, d) == OPG_OK)
            s->base_fee[d] = st.base_fee;
    }
    opg_dec acc = delegator_accrued(w), inc, bonded;
    if (!opg_u256_is_zero(&sup.bonded) && opg_dec_sub(&inc, &acc, &w->accrued_prev) == OPG_OK) {
        opg_u256 y = u(365);
        opg_dec_mul_int(&inc, &inc, &y);
        opg_dec_from_int(&bonded, &sup.bonded);
        opg_dec_quo_truncate(&s->apr, &inc, &bonded);
    }
    w->accrued_prev = acc;
}

/* Everyone claims at the end of the day, so the day's income is measured. */
static void daily_claims(world *w)
{
    for (uint32_t d = 0; d < w->cfg.delegators; d += 1 + (uint32_t)below(&w->r, 40)) {
        opg_id who = id_of(2, d);
        opg_delegation_info di[4];
        size_t cnt = 0;
        if (opg_registry_delegations_of(di, 4, &cnt, w->reg, &who) != OPG_OK)
            continue;
        for (size_t k = 0; k < cnt; k++)
            if (opg_splitter_withdraw_rewards(NULL, w->split, &who, &di[k].operator_id, w->height,
                                              w->now) == OPG_OK)
                collect_events(w);
    }
}

static void keep_slashes(world *w)
{
    size_t n;
    const opg_slasher_record *rec = opg_slasher_records(w->slasher, &n);
    for (size_t i = 0; i < n && w->n_slashes < sizeof w->slashes / sizeof w->slashes[0]; i++)
        w->slashes[w->n_slashes++] = rec[i];
    collect_events(w);
}

/* Every bonded node signs, but one that is down for an outage of 80 blocks in a row:
 * more than half of the 100-block window missed is downtime. */
static void record_commit(world *w, uint64_t step)
{
    opg_commit_sig sigs[1024];
    size_t n = 0;
    for (uint32_t i = 0; i < w->cfg.nodes && n < 1024; i++) {
        opg_node_info ni;
        if (opg_registry_node_get(&ni, w->reg, &w->nodes[i].op) != OPG_OK ||
            ni.status != OPG_NODE_BONDED || ni.jailed)
            continue;
        sigs[n].consensus_key = ni.consensus_key;
        sigs[n].power = ni.power;
        int down = i == w->outage_node && step >= w->outage_step && step < w->outage_step + 80;
        sigs[n++].signed_block = !down && below(&w->r, 1000) != 0; /* and 0.1 % bad luck */
    }
    TRY(opg_slasher_record_commit(w->slasher, sigs, n, w->height, w->now),
        opg_slasher_last_error(w->slasher));
    keep_slashes(w);
}

/* A vote as a validator signs it: Ed25519 over the canonical sign bytes. */
static opg_slasher_vote signed_vote(const node_rec *n, opg_height h, uint8_t block)
{
    opg_slasher_vote v;
    memset(&v, 0, sizeof v);
    v.type = OPG_VOTE_PRECOMMIT;
    v.height = h;
    memset(v.block_id, block, sizeof v.block_id);
    uint8_t msg[OPG_VOTE_SIGN_BYTES_MAX];
    size_t len;
    TRY(opg_slasher_vote_sign_bytes(msg, sizeof msg, &len, "opg-1", &v), "");
    crypto_sign_detached(v.signature, NULL, msg, len, n->sk);
    return v;
}

/* The year's incidents: a faulty inference reported by a verifier, a double sign
 * proven by two signed votes, and the downtime node let out of jail a day later. */
static void incidents(world *w, uint64_t step)
{
    if (step == w->fault_step) {
        opg_fault_evidence ev;
        memset(&ev, 0, sizeof ev);
        ev.evidence_id = id_of(9, 1);
        ev.node = w->nodes[w->faulty_node].op;
        ev.infraction_height = w->height - 10;
        /* what no proof covers is the registry's: the block time of that height */
        TRY(opg_registry_block_time(&ev.infraction_time, w->reg, ev.infraction_height), "");
        ev.fault_class = 1;
        ev.reporter = w->nodes[w->reporter_node].op;
        TRY(opg_slasher_fault(NULL, w->slasher, &ev, w->height, w->now),
            opg_slasher_last_error(w->slasher));
        keep_slashes(w);
    }
    if (step == w->double_sign_step) {
        const node_rec *n = &w->nodes[w->double_sign_node];
        opg_evidence ev;
        memset(&ev, 0, sizeof ev);
        ev.kind = OPG_EVIDENCE_DOUBLE_SIGN;
        ev.double_sign.consensus_key = n->key;
        ev.double_sign.vote_a = signed_vote(n, w->height - 3, 0xaa);
        ev.double_sign.vote_b = signed_vote(n, w->height - 3, 0xbb);
        /* neither is covered by the signatures: the registry's history gives both
         * (a validator_power of 0 would let the slasher look it up) */
        TRY(opg_registry_block_time(&ev.double_sign.infraction_time, w->reg, w->height - 3), "");
        TRY(opg_registry_power_at(&ev.double_sign.validator_power, w->reg, &n->key,
                                  w->height - 3),
            "");
        /* the host receives it as bytes from the network */
        uint8_t bytes[OPG_EVIDENCE_DOUBLE_SIGN_SIZE];
        size_t len;
        TRY(opg_slasher_evidence_encode(bytes, sizeof bytes, &len, &ev), "");
        TRY(opg_slasher_submit_evidence(NULL, w->slasher, bytes, len, w->height, w->now),
            opg_slasher_last_error(w->slasher));
        keep_slashes(w);
    }
    if (step == w->proposal_step) {
        /* demand has grown: raise the GPU target by half, voted on by the stakers */
        opg_pricer_param_get(w->gpu_target_before, sizeof w->gpu_target_before, NULL, w->pricer,
                             "fees.gpu_ms.target");
        unsigned long long target = strtoull(w->gpu_target_before, NULL, 10) * 3 / 2;
        char value[48];
        snprintf(value, sizeof value, "%llu", target);
        opg_param_change change = {"fees.gpu_ms.target", value};
        opg_proposal_submit p;
        memset(&p, 0, sizeof p);
        p.proposer = w->nodes[5].op;
        p.kind = OPG_PROPOSAL_PARAMS;
        p.title = "Raise the GPU target by half";
        p.changes = &change;
        p.change_count = 1;
        p.initial_deposit = opg(5000);
        TRY(opg_tally_submit(&w->proposal_id, w->gov, &p, w->now), opg_tally_last_error(w->gov));
        /* four in five validators vote yes, the rest no; some delegators override */
        for (uint32_t i = 0; i < w->cfg.nodes; i++)
            TRY(opg_tally_vote_option(w->gov, w->proposal_id, &w->nodes[i].op,
                                      i % 5 ? OPG_VOTE_YES : OPG_VOTE_NO), "");
        for (uint32_t d = 0; d < w->cfg.delegators; d += 7) {
            opg_id who = id_of(2, d);
            opg_vote_option o = below(&w->r, 10) < 7 ? OPG_VOTE_YES
                               : below(&w->r, 2) ? OPG_VOTE_NO : OPG_VOTE_ABSTAIN;
            TRY(opg_tally_vote_option(w->gov, w->proposal_id, &who, o), "");
        }
    }
    /* jailed nodes ask to be let out once their time is served */
    uint64_t day_steps = DAY / (BLOCK_SECONDS * (uint64_t)w->cfg.step_blocks);
    const uint32_t *who = NULL;
    if (step == w->outage_step + 80 + day_steps)
        who = &w->outage_node;
    if (step == w->fault_step + day_steps + 1)
        who = &w->faulty_node;
    if (who) {
        int rc = opg_registry_unjail(w->reg, &w->nodes[*who].op, w->now);
        if (rc != OPG_OK && rc != OPG_ENOTJAILED)
            die("unjail", rc, opg_registry_last_error(w->reg));
    }
}

static void run(world *w)
{
    const config *c = &w->cfg;
    uint64_t steps_per_day = DAY / (BLOCK_SECONDS * (uint64_t)c->step_blocks);
    uint64_t steps = steps_per_day * c->days;
    w->samples = calloc(c->days + 1, sizeof *w->samples);
    /* incidents at fixed points of the run: an outage at 30 %, a faulty inference at
     * 55 %, a double sign at 77 % */
    w->outage_step = steps * 30 / 100;
    w->fault_step = steps * 55 / 100;
    w->double_sign_step = steps * 77 / 100;
    w->proposal_step = steps * 60 / 100;
    w->outage_node = 0;                       /* the largest staking targets are the first */
    w->faulty_node = w->inference[1];
    w->double_sign_node = 3;
    w->reporter_node = w->verification[0];
    double started = wall_seconds();
    for (uint64_t step = 0; step < steps; step++) {
        w->height += c->step_blocks;
        w->now += BLOCK_SECONDS * (opg_time)c->step_blocks;
        /* begin block: the last commit's signatures, then the rewards */
        record_commit(w, step);
        allocate_block(w);
        incidents(w, step);
        /* transactions */
        serve_requests(w);
        delegator_activity(w);
        /* end block */
        TRY(opg_pricer_end_block(NULL, w->pricer), "");
        TRY(opg_tally_end_block(w->gov, w->height, w->now), opg_tally_last_error(w->gov));
        size_t closed;
        const opg_tally_closed *cl = opg_tally_closed_list(w->gov, &closed);
        for (size_t k = 0; k < closed; k++)
            if (cl[k].proposal_id == w->proposal_id && cl[k].outcome != OPG_TALLY_CONVERTED) {
                w->proposal = cl[k];
                w->proposal.refunds = NULL;
                w->proposal_closed = 1;
                opg_pricer_param_get(w->gpu_target_after, sizeof w->gpu_target_after, NULL,
                                     w->pricer, "fees.gpu_ms.target");
            }
        TRY(opg_registry_end_block(w->reg, w->height, w->now), "");
        collect_events(w);
        if ((step + 1) % steps_per_day == 0) {
            daily_claims(w);
            take_sample(w, (uint32_t)((step + 1) / steps_per_day));
        }
        progress(step + 1, steps, (step + 1) * c->step_blocks, started, 0);
    }
    progress(steps, steps, steps * c->step_blocks, started, 1);
}

/* ------------------------------------------------------------ output */

static FILE *open_out(const config *c, const char *name, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", c->out, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "demo: cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
    return f;
}

static void write_csv(const world *w, char *path, size_t cap)
{
    FILE *f = open_out(&w->cfg, "timeseries.csv", path, cap);
    fprintf(f, "day,staking_ratio,base_fee_gpu_ms,base_fee_tokens,delegator_apr,supply_opg,burned_opg,community_pool_opg\n");
    for (size_t i = 0; i < w->n_samples; i++) {
        const sample *s = &w->samples[i];
        char a[96], b[96], c[96], d[96], e[96], g[96], h[96];
        opg_dec_to_string(a, sizeof a, NULL, &s->staking_ratio);
        opg_u256_to_string(b, sizeof b, NULL, &s->base_fee[0]);
        opg_u256_to_string(c, sizeof c, NULL, &s->base_fee[1]);
        opg_dec_to_string(d, sizeof d, NULL, &s->apr);
        fprintf(f, "%u,%s,%s,%s,%s,%s,%s,%s\n", s->day, a, b, c, d, fmt_opg(e, sizeof e, &s->supply),
                fmt_opg(g, sizeof g, &s->burned), fmt_opg(h, sizeof h, &s->community));
    }
    fclose(f);
}

/* How a panel labels its axis: value v (already scaled to an integer) as text. */
typedef void (*label_fn)(char *buf, size_t cap, uint64_t v);

static void label_pct(char *buf, size_t cap, uint64_t v) /* v in 10^-4 */
{
    snprintf(buf, cap, "%llu.%02llu%%", (unsigned long long)(v / 100), (unsigned long long)(v % 100));
}

static void label_plain(char *buf, size_t cap, uint64_t v)
{
    snprintf(buf, cap, "%llu", (unsigned long long)v);
}

static void label_sci(char *buf, size_t cap, uint64_t v) /* 5.67e17, integers only */
{
    char d[24];
    int n = snprintf(d, sizeof d, "%llu", (unsigned long long)v);
    if (n <= 4)
        snprintf(buf, cap, "%s", d);
    else
        snprintf(buf, cap, "%c.%c%ce%d", d[0], d[1], d[2], n - 1);
}

/* One panel of the chart: series values (already scaled to integers) as polylines,
 * with the lowest and highest value on the axis. */
static void svg_panel(FILE *f, int x0, int y0, const char *title, const uint64_t *v[], int nseries,
                      const char *const colors[], size_t n, label_fn label)
{
    const int W = 420, H = 220, L = 70; /* L: room for the axis labels */
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int s = 0; s < nseries; s++)
        for (size_t i = 0; i < n; i++) {
            lo = v[s][i] < lo ? v[s][i] : lo;
            hi = v[s][i] > hi ? v[s][i] : hi;
        }
    if (n == 0)
        lo = hi = 0;
    uint64_t span = hi > lo ? hi - lo : 1;
    char lo_text[48], hi_text[48];
    label(lo_text, sizeof lo_text, lo);
    label(hi_text, sizeof hi_text, hi);
    fprintf(f, "<g transform=\"translate(%d,%d)\">\n", x0, y0);
    fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#fafafa\" stroke=\"#bbb\"/>\n", W, H);
    fprintf(f, "<text x=\"8\" y=\"16\" font-family=\"sans-serif\" font-size=\"13\">%s</text>\n", title);
    fprintf(f, "<text x=\"%d\" y=\"34\" font-family=\"sans-serif\" font-size=\"10\" fill=\"#666\" text-anchor=\"end\">%s</text>\n",
            L - 4, hi_text);
    fprintf(f, "<text x=\"%d\" y=\"%d\" font-family=\"sans-serif\" font-size=\"10\" fill=\"#666\" text-anchor=\"end\">%s</text>\n",
            L - 4, H - 15, lo_text);
    for (int s = 0; s < nseries; s++) {
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"", colors[s]);
        for (size_t i = 0; i < n; i++) {
            uint64_t x = (uint64_t)L + (uint64_t)(W - L - 10) * i / (n > 1 ? n - 1 : 1);
            uint64_t y = 30 + (uint64_t)(H - 45) - (uint64_t)(H - 45) * (v[s][i] - lo) / span;
            fprintf(f, "%llu,%llu ", (unsigned long long)x, (unsigned long long)y);
        }
        fprintf(f, "\"/>\n");
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\" font-family=\"sans-serif\" font-size=\"10\" fill=\"#666\">day 1 .. %zu</text>\n",
            L, H - 3, n);
    fprintf(f, "</g>\n");
}

static void write_svg(const world *w, char *path, size_t cap)
{
    size_t n = w->n_samples;
    uint64_t *ratio = calloc(n + 1, 8), *fee0 = calloc(n + 1, 8), *fee1 = calloc(n + 1, 8),
             *apr = calloc(n + 1, 8), *supply = calloc(n + 1, 8);
    for (size_t i = 0; i < n; i++) {
        const sample *s = &w->samples[i];
        opg_u256 raw, q, scale = u(100000000000000); /* 10^-4 steps */
        opg_dec_to_raw(&raw, &s->staking_ratio);
        opg_u256_divmod(&q, NULL, &raw, &scale);
        ratio[i] = to_u64_sat(&q);
        opg_dec_to_raw(&raw, &s->apr);
        opg_u256_divmod(&q, NULL, &raw, &scale);
        apr[i] = to_u64_sat(&q);
        fee0[i] = to_u64_sat(&s->base_fee[0]);
        fee1[i] = to_u64_sat(&s->base_fee[1]);
        opg_u256 unit = u(OPG_UNIT);
        opg_u256_divmod(&q, NULL, &s->supply, &unit);
        supply[i] = to_u64_sat(&q);
    }
    FILE *f = open_out(&w->cfg, "chart.svg", path, cap);
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"880\" height=\"500\" viewBox=\"0 0 880 500\">\n");
    fprintf(f, "<text x=\"14\" y=\"22\" font-family=\"sans-serif\" font-size=\"16\">libopg demo: %u nodes, %u delegators, %u days (seed %llu)</text>\n",
            w->cfg.nodes, w->cfg.delegators, w->cfg.days, (unsigned long long)w->cfg.seed);
    const char *const c1[] = {"#1f77b4"}, *const c2[] = {"#d62728", "#2ca02c"};
    const uint64_t *s1[] = {ratio}, *s2[] = {fee0, fee1}, *s3[] = {apr}, *s4[] = {supply};
    svg_panel(f, 10, 40, "staking ratio", s1, 1, c1, n, label_pct);
    svg_panel(f, 450, 40, "base fee per unit (red: gpu_ms, green: tokens)", s2, 2, c2, n,
              label_sci);
    svg_panel(f, 10, 270, "delegator APR (trailing day)", s3, 1, c1, n, label_pct);
    svg_panel(f, 450, 270, "total supply (OPG)", s4, 1, c1, n, label_plain);
    fprintf(f, "</svg>\n");
    fclose(f);
    free(ratio); free(fee0); free(fee1); free(apr); free(supply);
}

static void summary(const world *w, const char *csv, const char *svg)
{
    char a[96], b[96], c[96];
    opg_supply_info sup;
    opg_registry_supply(&sup, w->reg);
    opg_splitter_totals t;
    opg_splitter_totals_get(&t, w->split);
    opg_emission_info em;
    opg_splitter_emission(&em, w->split);
    printf("libopg demo: %u nodes, %u delegators, %u days of %u-block steps, seed %llu\n",
           w->cfg.nodes, w->cfg.delegators, w->cfg.days, w->cfg.step_blocks,
           (unsigned long long)w->cfg.seed);
    printf("\nsupply\n");
    printf("  total supply       %s OPG\n", fmt_opg(a, sizeof a, &sup.total_supply));
    printf("  burned             %s OPG\n", fmt_opg(a, sizeof a, &sup.burned));
    printf("  bonded             %s OPG (staking ratio %s)\n", fmt_opg(a, sizeof a, &sup.bonded),
           fmt_pct(b, sizeof b, &sup.staking_ratio));
    printf("  not bonded         %s OPG (nodes outside the active set, unbonding entries)\n",
           fmt_opg(a, sizeof a, &sup.unbonding));
    printf("  emitted by pool    %s OPG (%s OPG left)\n", fmt_opg(a, sizeof a, &em.emitted_total),
           fmt_opg(b, sizeof b, &em.pool_remaining));
    printf("  community pool     %s OPG\n", fmt_opg(a, sizeof a, &sup.community_pool));
    printf("  outstanding        %s OPG\n", fmt_opg(a, sizeof a, &sup.outstanding_rewards));
    printf("\ninference fees (%llu requests served, %llu priced out, %llu over the block limits)\n",
           (unsigned long long)w->requests, (unsigned long long)w->priced_out,
           (unsigned long long)w->refused_requests);
    printf("  total              %s OPG\n", fmt_opg(a, sizeof a, &w->fees_total));
    printf("  inference nodes    %s OPG\n", fmt_opg(a, sizeof a, &w->fees_inference));
    printf("  verifiers          %s OPG\n", fmt_opg(a, sizeof a, &w->fees_verifiers));
    printf("  stakers            %s OPG\n", fmt_opg(a, sizeof a, &w->fees_stakers));
    printf("  burned             %s OPG\n", fmt_opg(a, sizeof a, &w->fees_burned));
    printf("  community          %s OPG\n", fmt_opg(a, sizeof a, &w->fees_community));
    printf("\nrewards\n");
    printf("  paid to delegators %s OPG\n", fmt_opg(a, sizeof a, &w->rewards_paid));
    opg_dec apr_avg = {{0, 0, 0, 0}};
    if (w->n_samples) {
        opg_dec sum = {{0, 0, 0, 0}};
        for (size_t i = 0; i < w->n_samples; i++)
            opg_dec_add(&sum, &sum, &w->samples[i].apr);
        opg_u256 cnt = u(w->n_samples);
        opg_dec_quo_int(&apr_avg, &sum, &cnt);
    }
    printf("  delegator APR      %s (mean of the daily samples: income accrued / bonded)\n",
           fmt_pct(a, sizeof a, &apr_avg));
    printf("  delegator actions  %llu (%llu refused by the staking rules)\n",
           (unsigned long long)w->delegator_ops, (unsigned long long)w->refused_ops);
    printf("  unbondings paid    %s OPG\n", fmt_opg(a, sizeof a, &w->unbonded_paid));
    (void)c;
    printf("\nslashes\n");
    static const char *const reason[] = {"", "downtime", "double sign", "faulty inference"};
    for (size_t i = 0; i < w->n_slashes; i++) {
        const opg_slasher_record *r = &w->slashes[i];
        char node[17];
        for (int k = 0; k < 8; k++)
            snprintf(node + 2 * k, 3, "%02x", r->node.bytes[k]);
        printf("  %-17s node %s  burned %s OPG", reason[r->reason], node,
               fmt_opg(a, sizeof a, &r->burned));
        if (!opg_u256_is_zero(&r->reporter_reward))
            printf(", reporter got %s OPG", fmt_opg(b, sizeof b, &r->reporter_reward));
        printf("%s%s\n", r->tombstoned ? ", tombstoned" : "",
               r->jailed_until == OPG_TIME_FOREVER ? ", jailed forever" : r->jailed ? ", jailed" : "");
    }
    printf("\ngovernance\n");
    if (w->proposal_closed) {
        static const char *const outcome[] = {"", "passed", "rejected", "failed", "removed",
                                              "cancelled", "converted"};
        char y[96], no[96], ab[96], v[96];
        printf("  proposal %llu \"Raise the GPU target by half\": %s\n",
               (unsigned long long)w->proposal.proposal_id, outcome[w->proposal.outcome]);
        printf("  yes %s, no %s, abstain %s, veto %s OPG\n",
               fmt_opg(y, sizeof y, &w->proposal.counts.yes), fmt_opg(no, sizeof no, &w->proposal.counts.no),
               fmt_opg(ab, sizeof ab, &w->proposal.counts.abstain),
               fmt_opg(v, sizeof v, &w->proposal.counts.no_with_veto));
        printf("  fees.gpu_ms.target %s -> %s\n", w->gpu_target_before, w->gpu_target_after);
    } else {
        printf("  no proposal closed in this run\n");
    }
    printf("\nfinal state hashes\n");
    uint8_t h[32];
    char hx[65];
    TRY(opg_registry_state_hash(h, w->reg), "");
    hex32(hx, h);
    printf("  registry  %s\n", hx);
    TRY(opg_pricer_state_hash(h, w->pricer), "");
    hex32(hx, h);
    printf("  pricer    %s\n", hx);
    TRY(opg_splitter_state_hash(h, w->split), "");
    hex32(hx, h);
    printf("  splitter  %s\n", hx);
    TRY(opg_slasher_state_hash(h, w->slasher), "");
    hex32(hx, h);
    printf("  slasher   %s\n", hx);
    TRY(opg_tally_state_hash(h, w->gov), "");
    hex32(hx, h);
    printf("  tally     %s\n", hx);
    printf("\nwrote %s and %s\n", csv, svg);
}

/* ------------------------------------------------------------ main */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: demo [options]\n"
            "  --nodes N         nodes (default 150)\n"
            "  --delegators N    delegators (default 100000)\n"
            "  --days N          simulated days (default 365)\n"
            "  --step-blocks N   blocks of 5 s per simulation step (default 60)\n"
            "  --seed N          random seed (default 1); the same seed gives the same output\n"
            "  --out DIR         output directory (default demo-out)\n"
            "  --help            this text\n");
}

static unsigned long parse_num(const char *flag, const char *v, unsigned long min)
{
    char *end;
    errno = 0;
    unsigned long x = v ? strtoul(v, &end, 10) : 0;
    if (!v || errno || *end || x < min) {
        fprintf(stderr, "demo: %s needs a whole number of at least %lu\n", flag, min);
        usage(stderr);
        exit(2);
    }
    return x;
}

int main(int argc, char **argv)
{
    world w;
    memset(&w, 0, sizeof w);
    config *c = &w.cfg;
    c->nodes = 150;
    c->delegators = 100000;
    c->days = 365;
    c->step_blocks = 60;
    c->seed = 1;
    c->out = "demo-out";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--nodes") == 0) {
            c->nodes = (unsigned)parse_num(a, v, 6), i++;
        } else if (strcmp(a, "--delegators") == 0) {
            c->delegators = (unsigned)parse_num(a, v, 1), i++;
        } else if (strcmp(a, "--days") == 0) {
            c->days = (unsigned)parse_num(a, v, 1), i++;
        } else if (strcmp(a, "--step-blocks") == 0) {
            c->step_blocks = (unsigned)parse_num(a, v, 1), i++;
        } else if (strcmp(a, "--seed") == 0) {
            c->seed = parse_num(a, v, 0), i++;
        } else if (strcmp(a, "--out") == 0 && v) {
            c->out = v, i++;
        } else {
            fprintf(stderr, "demo: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (c->nodes > 1000) {
        fprintf(stderr, "demo: at most 1000 nodes\n");
        return 2;
    }
    if (DAY % (BLOCK_SECONDS * c->step_blocks) != 0) {
        fprintf(stderr, "demo: --step-blocks must divide a day of 5 s blocks (17280)\n");
        return 2;
    }
    if (sodium_init() < 0)
        return 1;
    if (mkdir(c->out, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "demo: cannot create %s: %s\n", c->out, strerror(errno));
        return 1;
    }
    w.r.s = c->seed * UINT64_C(0x2545f4914f6cdd1d) + 1;
    fprintf(stderr, "building the network: %u nodes, %u delegators\n", c->nodes, c->delegators);
    build_network(&w);
    fprintf(stderr, "simulating %u days\n", c->days);
    run(&w);
    if (opg_splitter_check(w.split) != OPG_OK || opg_registry_check(w.reg) != OPG_OK ||
        opg_slasher_check(w.slasher) != OPG_OK) {
        fprintf(stderr, "demo: invariant check failed: %s %s\n", opg_splitter_last_error(w.split),
                opg_registry_last_error(w.reg));
        return 1;
    }
    char csv[4096], svg[4096];
    write_csv(&w, csv, sizeof csv);
    write_svg(&w, svg, sizeof svg);
    summary(&w, csv, svg);
    opg_tally_free(w.gov);
    opg_slasher_free(w.slasher);
    opg_splitter_free(w.split);
    opg_pricer_free(w.pricer);
    opg_registry_free(w.reg);
    free(w.nodes);
    free(w.inference);
    free(w.verification);
    free(w.samples);
    return 0;
}
