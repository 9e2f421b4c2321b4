/*
 * workbench.c - the economist's workbench: a year of an OpenGradient-like network,
 * driven only through libopg's public API (`make demo` runs it with the baseline).
 *
 * About 150 nodes (consensus, inference and verification roles), 100,000
 * delegators, blocks of 5 s over one simulated year, stepped: each step stands for
 * world.step_blocks blocks (default 60, five minutes), with the emission computed
 * from absolute time so stepping loses nothing. Inference demand follows the time of
 * day and grows over the year; every request is priced, charged and split; the decay
 * pool pays the stakers; nodes earn by power and by performance score.
 *
 * Every parameter of every handle is set by its key (--set distribution.community_tax=0.1,
 * or a scenario file of `key = value` lines), and so are the workload knobs (world.*,
 * workload.*; --list-keys prints them all). Every token is accounted for: each
 * delegator, operator and the users hold balances inside the simulated supply, a
 * stake comes out of its owner's balance, every payout goes back into one, and every
 * day the balances, bonded, unbonding, the splitter's pools, the emission pool and the
 * held deposits must add up to the registry's total supply to the base unit.
 *
 * --sweep key=v1,v2,... (once or twice: a grid) runs every point as its own process,
 * --jobs at a time, and writes one folder per point plus a comparison.
 *
 * Output per run: a summary on stdout (and summary.txt), timeseries.csv, final.csv
 * and report.html (self-contained, inline SVG). The numbers that reach the output
 * are integers or come from integers by the same IEEE operations, so the same seed
 * and parameters give the same bytes. Progress goes to stderr.
 */
#define _POSIX_C_SOURCE 200809L
#include "opg.h"

#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <math.h>

#define OPG_UNIT UINT64_C(1000000000000000000) /* 1 OPG in base units */
#define BLOCK_SECONDS 5
#define DAY 86400
#define GENESIS_TIME 1767225600 /* 2026-01-01 */


/* ------------------------------------------------------------ utilities */

static void die(const char *what, int rc, const char *detail)
{
    fprintf(stderr, "workbench: %s: %s (%s)%s%s\n", what, opg_strerror(rc), opg_errname(rc),
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

static int quiet; /* sweep points: no progress bar */

static void progress(uint64_t step, uint64_t steps, uint64_t blocks, double started, int done)
{
    static int last_pct = -1;
    if (quiet)
        return;
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

/* ------------------------------------------------------------ the knobs */

__extension__ typedef unsigned __int128 u128; /* host balances: up to 3.4e20 OPG */

/* The workload: world.* sizes the network, workload.* drives it. Decimal knobs are
 * kept in thousandths (milli), so the run is integer throughout. */
typedef struct config {
    uint64_t nodes, delegators, days, step_blocks, seed;
    uint64_t genesis_supply, emission_pool;     /* whole OPG */
    uint64_t delegator_share_m;  /* share of the supply delegators hold at genesis */
    uint64_t stake_fraction_m;   /* share of its balance a delegator stakes */
    uint64_t users_share_m;      /* share of the supply held by the users who pay fees */
    uint64_t users;              /* users sending requests at the start */
    uint64_t usage_frequency_m;  /* requests per user per day */
    uint64_t demand_growth_m;    /* demand added over a year (3 = x1 to x4) */
    uint64_t price_sensitivity_m;/* users' budgets are divided by this */
    uint64_t node_entry, node_exit;      /* nodes joining / leaving per 30 days */
    uint64_t delegator_growth;           /* new delegators per day */
    uint64_t faulty_share_m, offline_share_m; /* of the nodes, once each in the run */
    uint64_t stake_concentration;        /* exponent of a new delegation's node pick */
    uint64_t governance;                 /* 1: the GPU-target proposal mid-year */
    uint64_t incidents;                  /* 1: the fixed outage, fault, double sign */
    const char *out;
} config;

typedef struct knob {
    const char *key;
    int milli; /* 1: a decimal kept in thousandths; 0: a whole number */
    size_t off;
    uint64_t min, max;
    const char *help;
} knob;

#define K(f) offsetof(config, f)
static const knob knobs[] = {
    {"world.nodes", 0, K(nodes), 6, 1000, "nodes at genesis"},
    {"world.delegators", 0, K(delegators), 1, 20000000, "delegators at genesis"},
    {"world.days", 0, K(days), 1, 3650, "simulated days"},
    {"world.step_blocks", 0, K(step_blocks), 1, 17280, "5 s blocks per step (divides 17280)"},
    {"world.seed", 0, K(seed), 0, UINT64_MAX, "random seed"},
    {"world.genesis_supply", 0, K(genesis_supply), 1000, UINT64_C(1000000000000), "OPG at genesis"},
    {"world.emission_pool", 0, K(emission_pool), 0, UINT64_C(1000000000000), "OPG in the decay pool (part of the supply)"},
    {"world.delegator_share", 1, K(delegator_share_m), 0, 900, "share of the supply delegators hold"},
    {"world.stake_fraction", 1, K(stake_fraction_m), 1, 1000, "share of its balance a delegator stakes (mean)"},
    {"world.users_share", 1, K(users_share_m), 0, 500, "share of the supply the paying users hold"},
    {"workload.users", 0, K(users), 0, 100000000, "users sending inference requests at the start"},
    {"workload.usage_frequency", 1, K(usage_frequency_m), 0, 1000000000, "requests per user per day"},
    {"workload.demand_growth", 1, K(demand_growth_m), 0, 1000000, "demand added over a year (3 = x1 to x4)"},
    {"workload.price_sensitivity", 1, K(price_sensitivity_m), 1, 1000000, "users' fee budgets divided by this"},
    {"workload.node_entry", 0, K(node_entry), 0, 1000, "nodes joining per 30 days"},
    {"workload.node_exit", 0, K(node_exit), 0, 1000, "nodes leaving per 30 days"},
    {"workload.delegator_growth", 0, K(delegator_growth), 0, 1000000, "new delegators per day"},
    {"workload.faulty_share", 1, K(faulty_share_m), 0, 1000, "share of inference nodes caught with a faulty result once"},
    {"workload.offline_share", 1, K(offline_share_m), 0, 1000, "share of nodes with one long outage"},
    {"workload.stake_concentration", 0, K(stake_concentration), 1, 16, "exponent of a delegation's node pick (1 uniform)"},
    {"workload.governance", 0, K(governance), 0, 1, "1: a proposal to raise the GPU target mid-run"},
    {"workload.incidents", 0, K(incidents), 0, 1, "1: the fixed outage, faulty inference, double sign"},
};
#define NKNOBS (sizeof knobs / sizeof knobs[0])

static void config_init(config *c)
{
    memset(c, 0, sizeof *c);
    c->nodes = 150;
    c->delegators = 100000;
    c->days = 365;
    c->step_blocks = 60;
    c->seed = 1;
    c->genesis_supply = 1000000000;
    c->emission_pool = 200000000;
    c->delegator_share_m = 400;
    c->stake_fraction_m = 600;
    c->users_share_m = 50;
    c->users = 2000;
    c->usage_frequency_m = 2880;
    c->demand_growth_m = 3000;
    c->price_sensitivity_m = 1000;
    c->stake_concentration = 2;
    c->governance = 1;
    c->incidents = 1;
    c->out = "workbench-out";
}

/* "12", "0.25", "1.5": a value in thousandths; at most three decimals. */
static int parse_value(uint64_t *out, const char *v, int milli)
{
    uint64_t x = 0, frac = 0;
    int digits = 0, fd = 0;
    const char *p = v;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        if (x > (UINT64_MAX - 9) / 10)
            return -1;
        x = x * 10 + (uint64_t)(*p - '0');
    }
    if (*p == '.' && milli) {
        for (p++; *p >= '0' && *p <= '9'; p++, fd++) {
            if (fd >= 3)
                return -1;
            frac = frac * 10 + (uint64_t)(*p - '0');
        }
        if (fd == 0)
            return -1;
    }
    if (*p || digits == 0)
        return -1;
    while (milli && fd < 3)
        frac *= 10, fd++;
    if (milli) {
        if (x > UINT64_MAX / 1000)
            return -1;
        x = x * 1000 + frac;
    }
    *out = x;
    return 0;
}

/* A setting: key and value, and where it came from (for the error message). */
typedef struct setting {
    char key[96], value[160], origin[200];
} setting;

typedef struct settings {
    setting *v;
    size_t n, cap;
} settings;

static void bad_setting(const setting *s, const char *why)
{
    fprintf(stderr, "workbench: %s: %s = %s: %s\n", s->origin, s->key, s->value, why);
    exit(2);
}

static void settings_add(settings *ss, const char *key, size_t klen, const char *value,
                         const char *origin)
{
    if (ss->n == ss->cap) {
        ss->cap = ss->cap ? ss->cap * 2 : 16;
        ss->v = realloc(ss->v, ss->cap * sizeof *ss->v);
        if (!ss->v)
            exit(1);
    }
    setting *s = &ss->v[ss->n++];
    memset(s, 0, sizeof *s);
    snprintf(s->origin, sizeof s->origin, "%s", origin);
    if (klen >= sizeof s->key || strlen(value) >= sizeof s->value) {
        snprintf(s->key, sizeof s->key, "%.*s", (int)(klen < 60 ? klen : 60), key);
        bad_setting(s, "key or value too long");
    }
    memcpy(s->key, key, klen);
    snprintf(s->value, sizeof s->value, "%s", value);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

/* "key=value" from the command line. */
static void settings_add_arg(settings *ss, const char *arg, const char *origin)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg) {
        fprintf(stderr, "workbench: %s: \"%s\" is not key=value\n", origin, arg);
        exit(2);
    }
    settings_add(ss, arg, (size_t)(eq - arg), eq + 1, origin);
}

/* A scenario: `key = value` lines; `#` starts a comment; `include = other.conf`
 * (relative to the file) reads another scenario first. */
static void settings_add_file(settings *ss, const char *path, int depth)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "workbench: cannot read scenario %s: %s\n", path, strerror(errno));
        exit(2);
    }
    char line[512];
    unsigned no = 0;
    while (fgets(line, sizeof line, f)) {
        no++;
        char *h = strchr(line, '#');
        if (h)
            *h = '\0';
        char *t = trim(line);
        if (!*t)
            continue;
        char origin[200];
        snprintf(origin, sizeof origin, "%s:%u", path, no);
        char *eq = strchr(t, '=');
        if (!eq) {
            fprintf(stderr, "workbench: %s: \"%s\" is not key = value\n", origin, t);
            exit(2);
        }
        *eq = '\0';
        char *k = trim(t), *v = trim(eq + 1);
        if (!*k || !*v) {
            fprintf(stderr, "workbench: %s: empty key or value\n", origin);
            exit(2);
        }
        if (strcmp(k, "include") == 0) {
            if (depth > 8) {
                fprintf(stderr, "workbench: %s: includes nested too deep\n", origin);
                exit(2);
            }
            char inc[1024];
            const char *slash = strrchr(path, '/');
            if (v[0] != '/' && slash)
                snprintf(inc, sizeof inc, "%.*s/%s", (int)(slash - path), path, v);
            else
                snprintf(inc, sizeof inc, "%s", v);
            settings_add_file(ss, inc, depth + 1);
            continue;
        }
        settings_add(ss, k, strlen(k), v, origin);
    }
    fclose(f);
}

/* The workload knobs of the settings go into *c; the others are library keys,
 * left for apply_library_settings. */
static void apply_knobs(config *c, const settings *ss)
{
    for (size_t i = 0; i < ss->n; i++) {
        const setting *s = &ss->v[i];
        if (strncmp(s->key, "world.", 6) != 0 && strncmp(s->key, "workload.", 9) != 0)
            continue;
        const knob *k = NULL;
        for (size_t j = 0; j < NKNOBS; j++)
            if (strcmp(knobs[j].key, s->key) == 0)
                k = &knobs[j];
        if (!k)
            bad_setting(s, "unknown key (--list-keys prints them)");
        uint64_t x;
        if (parse_value(&x, s->value, k->milli) != 0)
            bad_setting(s, k->milli ? "not a decimal number (at most 3 decimals)"
                                    : "not a whole number");
        uint64_t lo = k->min * (k->milli ? 1 : 1), hi = k->max;
        if (x < lo || x > hi) {
            char why[160];
            if (k->milli)
                snprintf(why, sizeof why, "out of range %llu.%03llu .. %llu.%03llu",
                         (unsigned long long)(lo / 1000), (unsigned long long)(lo % 1000),
                         (unsigned long long)(hi / 1000), (unsigned long long)(hi % 1000));
            else
                snprintf(why, sizeof why, "out of range %llu .. %llu", (unsigned long long)lo,
                         (unsigned long long)hi);
            bad_setting(s, why);
        }
        memcpy((char *)c + k->off, &x, sizeof x);
    }
    if (DAY % (BLOCK_SECONDS * c->step_blocks) != 0) {
        fprintf(stderr, "workbench: world.step_blocks = %llu: must divide a day of 5 s blocks (17280)\n",
                (unsigned long long)c->step_blocks);
        exit(2);
    }
}

/* ------------------------------------------------------------ the world */

typedef struct node_rec {
    opg_id op;
    opg_id key;           /* consensus key: an Ed25519 public key */
    uint8_t sk[64];       /* its secret key (the workbench signs votes with it) */
    uint32_t roles;
    uint32_t score_milli; /* performance score, 0..1000 */
    uint64_t outage_step; /* UINT64_MAX: never down */
    uint64_t fault_step;  /* UINT64_MAX: never faulty */
    int exited;
} node_rec;

typedef struct sample {
    uint32_t day;
    opg_dec staking_ratio, apr;
    opg_u256 base_fee[2];
    opg_u256 supply, bonded, burned, community;
    u128 fees[5]; /* cumulative: inference, verifiers, stakers, burned, community */
    uint64_t requests, priced_out, nakamoto, gini_bp, active, delegators, nodes_live;
} sample;

enum { MARK_SLASH = 1, MARK_JAIL = 2, MARK_GOV = 3 };
typedef struct mark {
    uint32_t day, kind;
    char text[64];
} mark;

/* Accounts the host keeps: 0 the rest of the holders (reserve), 1 the users who pay
 * fees, 2 deposits held for the tally, then operators, then delegators. */
enum { ACC_RESERVE = 0, ACC_USERS = 1, ACC_DEPOSITS = 2, ACC_FIRST_OP = 3 };

typedef struct world {
    config cfg;
    rng r;
    opg_registry *reg;
    opg_pricer *pricer;
    opg_splitter *split;
    opg_slasher *slasher;
    opg_tally *gov;
    node_rec *nodes;
    uint32_t n_nodes, node_cap;
    uint32_t *inference, *verification;
    unsigned n_inference, n_verification;
    uint64_t n_delegators, delegator_cap;
    u128 *bal;          /* balances, by account */
    size_t n_acc;
    uint64_t *map_key;  /* id -> account: open addressing on the id's first 8 bytes */
    uint32_t *map_val;
    size_t map_mask;
    u128 genesis_mean;  /* mean genesis balance of a delegator */
    opg_height height;
    opg_time now;
    uint64_t step, steps_per_day;

    /* what the host saw come out */
    u128 fees[5];
    opg_u256 rewards_paid, commission_paid, unbonded_paid;
    uint64_t requests, refused_requests, priced_out, delegator_ops, refused_ops;
    uint64_t nodes_joined, nodes_left, identity_checks;
    opg_dec accrued_prev;

    sample *samples;
    size_t n_samples;
    mark marks[512];
    size_t n_marks;

    uint32_t double_sign_node, reporter_node;
    uint64_t double_sign_step, proposal_step;
    uint64_t proposal_id, n_faults;
    opg_tally_closed proposal;
    int proposal_closed;
    char gpu_target_before[48], gpu_target_after[48];
    opg_slasher_record slashes[64];
    size_t n_slashes, n_slashes_total;
    double t_build, t_run, t_report;
} world;

static u128 u128_of(const opg_u256 *v)
{
    if (v->limb[2] || v->limb[3])
        die("amount beyond 2^128", OPG_EOVERFLOW, "");
    return ((u128)v->limb[1] << 64) | v->limb[0];
}

static opg_u256 u256_of(u128 x)
{
    opg_u256 v = {{(uint64_t)x, (uint64_t)(x >> 64), 0, 0}};
    return v;
}

static u128 opg128(uint64_t whole) { return (u128)whole * OPG_UNIT; }

static uint64_t id_key(const opg_id *id)
{
    uint64_t k;
    memcpy(&k, id->bytes, 8);
    return k | 1; /* 0 marks an empty slot */
}

static void map_put(world *w, const opg_id *id, uint32_t acc)
{
    size_t i = (size_t)id_key(id) & w->map_mask;
    while (w->map_key[i] && w->map_key[i] != id_key(id))
        i = (i + 1) & w->map_mask;
    w->map_key[i] = id_key(id);
    w->map_val[i] = acc;
}

static uint32_t map_get(const world *w, const opg_id *id)
{
    size_t i = (size_t)id_key(id) & w->map_mask;
    while (w->map_key[i]) {
        if (w->map_key[i] == id_key(id))
            return w->map_val[i];
        i = (i + 1) & w->map_mask;
    }
    die("a payout to an account the host does not know", OPG_ENOTFOUND, "");
    return 0;
}

static uint32_t acc_op(const world *w, uint32_t node) { (void)w; return ACC_FIRST_OP + node; }
static uint32_t acc_del(const world *w, uint64_t d) { return ACC_FIRST_OP + w->node_cap + (uint32_t)d; }
static opg_id del_id(uint64_t d) { return id_of(2, (uint32_t)d); }

static int take(world *w, uint32_t acc, u128 amount)
{
    if (w->bal[acc] < amount)
        return 0;
    w->bal[acc] -= amount;
    return 1;
}

static void move(world *w, uint32_t from, uint32_t to, u128 amount)
{
    if (!take(w, from, amount))
        die("a transfer larger than the balance", OPG_EINSOLVENT, "");
    w->bal[to] += amount;
}

static void add_mark(world *w, uint32_t kind, const char *text)
{
    if (w->n_marks == sizeof w->marks / sizeof w->marks[0])
        return;
    mark *m = &w->marks[w->n_marks++];
    m->day = (uint32_t)(w->step / w->steps_per_day) + 1;
    m->kind = kind;
    snprintf(m->text, sizeof m->text, "%s", text);
}

static uint32_t node_index(const world *w, const opg_id *op)
{
    uint32_t acc = map_get(w, op);
    return acc - ACC_FIRST_OP;
}

/* Every payout the registry asks for goes to its account's balance. */
static void collect_events(world *w)
{
    size_t n;
    const opg_event *ev = opg_registry_events(w->reg, &n);
    for (size_t i = 0; i < n; i++) {
        switch (ev[i].kind) {
        case OPG_EVENT_REWARDS_PAID:
            opg_u256_add(&w->rewards_paid, &w->rewards_paid, &ev[i].amount);
            w->bal[map_get(w, &ev[i].account)] += u128_of(&ev[i].amount);
            break;
        case OPG_EVENT_COMMISSION_PAID:
            opg_u256_add(&w->commission_paid, &w->commission_paid, &ev[i].amount);
            w->bal[map_get(w, &ev[i].account)] += u128_of(&ev[i].amount);
            break;
        case OPG_EVENT_UNBONDING_MATURED:
            opg_u256_add(&w->unbonded_paid, &w->unbonded_paid, &ev[i].amount);
            w->bal[map_get(w, &ev[i].account)] += u128_of(&ev[i].amount);
            break;
        case OPG_EVENT_REPORTER_REWARD:
            w->bal[map_get(w, &ev[i].account)] += u128_of(&ev[i].amount);
            break;
        case OPG_EVENT_NODE_JAILED: {
            char t[64];
            snprintf(t, sizeof t, "jail: node %u", node_index(w, &ev[i].node));
            add_mark(w, MARK_JAIL, t);
            break;
        }
        default:
            break;
        }
    }
}

/* The handles, with the workbench's defaults; no nodes or delegators yet. */
static void make_handles(world *w)
{
    const config *c = &w->cfg;
    opg_registry_params rp;
    opg_registry_params_init(&rp);
    rp.max_validators = (uint32_t)(c->nodes * 2 / 3);
    /* OPG has 18 decimals: one unit of consensus power per OPG, as 18-decimal Cosmos
     * chains set it (the Cosmos default of 10^6 suits 6-decimal tokens) */
    opg_u256_from_u64(&rp.power_reduction, OPG_UNIT);
    opg_u256 supply = u256_of(opg128(c->genesis_supply));
    TRY(opg_registry_new(&w->reg, &rp, &supply, NULL), "");

    opg_splitter_params sp;
    opg_splitter_params_init(&sp);
    sp.emission = OPG_EMISSION_DECAY_POOL;
    sp.pool_amount = u256_of(opg128(c->emission_pool));
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
}

static void free_handles(world *w)
{
    opg_tally_free(w->gov);
    opg_slasher_free(w->slasher);
    opg_splitter_free(w->split);
    opg_pricer_free(w->pricer);
    opg_registry_free(w->reg);
    w->gov = NULL, w->slasher = NULL, w->split = NULL, w->pricer = NULL, w->reg = NULL;
}

/* Library keys go to the handle that knows them, through its own param_set: the
 * first that does not answer OPG_EKEY decides. */
static void apply_library_settings(world *w, const settings *ss)
{
    for (size_t i = 0; i < ss->n; i++) {
        const setting *s = &ss->v[i];
        if (strncmp(s->key, "world.", 6) == 0 || strncmp(s->key, "workload.", 9) == 0)
            continue;
        int rc = opg_registry_param_set(w->reg, s->key, s->value);
        const char *detail = opg_registry_last_error(w->reg);
        if (rc == OPG_EKEY)
            rc = opg_splitter_param_set(w->split, s->key, s->value),
            detail = opg_splitter_last_error(w->split);
        if (rc == OPG_EKEY)
            rc = opg_slasher_param_set(w->slasher, s->key, s->value),
            detail = opg_slasher_last_error(w->slasher);
        if (rc == OPG_EKEY)
            rc = opg_tally_param_set(w->gov, s->key, s->value), detail = opg_tally_last_error(w->gov);
        if (rc == OPG_EKEY)
            rc = opg_pricer_param_set(w->pricer, s->key, s->value),
            detail = opg_pricer_last_error(w->pricer);
        if (rc == OPG_EKEY)
            bad_setting(s, "unknown key (--list-keys prints them)");
        if (rc != OPG_OK) {
            char why[400];
            snprintf(why, sizeof why, "%s (%s)%s%s", opg_strerror(rc), opg_errname(rc),
                     detail && *detail ? ": " : "", detail ? detail : "");
            bad_setting(s, why);
        }
    }
}

/* A node pick for a new delegation: the first nodes attract more (a uniform pick
 * raised to workload.stake_concentration). */
static uint32_t pick_node(world *w)
{
    uint64_t x = below(&w->r, 1000000), p = 1000000;
    for (uint64_t k = 0; k < w->cfg.stake_concentration; k++)
        p = p * x / 1000000;
    return (uint32_t)(p * w->n_nodes / 1000000);
}

static void add_node(world *w, uint32_t i)
{
    node_rec *n = &w->nodes[i];
    uint8_t seed[32];
    memset(seed, 0, sizeof seed);
    memcpy(seed, &w->cfg.seed, sizeof w->cfg.seed);
    memcpy(seed + 8, &i, sizeof i);
    crypto_sign_seed_keypair(n->key.bytes, n->sk, seed);
    n->op = id_of(1, i);
    map_put(w, &n->op, acc_op(w, i));
    n->roles = OPG_ROLE_CONSENSUS | (i % 3 == 2 ? OPG_ROLE_VERIFICATION : OPG_ROLE_INFERENCE);
    n->score_milli = 600 + (uint32_t)below(&w->r, 401);
    n->outage_step = n->fault_step = UINT64_MAX;
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
    u128 self = opg128(10000 + below(&w->r, 90001));
    nc.self_delegation = u256_of(self);
    /* the operator's tokens: its self-bond and 10,000 OPG to spend, from the reserve */
    move(w, ACC_RESERVE, acc_op(w, i), self + opg128(10000));
    take(w, acc_op(w, i), self);
    TRY(opg_registry_node_create(w->reg, &nc, w->height, w->now), opg_registry_last_error(w->reg));
    w->n_nodes++;
}

static void add_delegator(world *w, u128 balance, u128 stake)
{
    uint64_t d = w->n_delegators++;
    opg_id who = del_id(d);
    map_put(w, &who, acc_del(w, d));
    w->bal[acc_del(w, d)] = balance;
    if (stake == 0 || !take(w, acc_del(w, d), stake))
        return;
    opg_u256 amt = u256_of(stake);
    TRY(opg_registry_delegate(NULL, w->reg, &who, &w->nodes[pick_node(w)].op, &amt, w->height, w->now),
        opg_registry_last_error(w->reg));
}

/* A delegator's stake: stake_fraction of its balance, give or take half. */
static u128 stake_of(world *w, u128 balance)
{
    uint64_t f = w->cfg.stake_fraction_m;
    uint64_t lo = f / 2, hi = f + f / 2 > 1000 ? 1000 : f + f / 2;
    uint64_t pick = lo + below(&w->r, hi - lo + 1);
    return balance / 1000 * pick;
}

static void build_network(world *w)
{
    const config *c = &w->cfg;
    w->node_cap = (uint32_t)(c->nodes + c->node_entry * (c->days / 30 + 1));
    if (w->node_cap > 1000)
        w->node_cap = 1000;
    w->delegator_cap = c->delegators + c->delegator_growth * c->days;
    w->n_acc = ACC_FIRST_OP + w->node_cap + w->delegator_cap;
    w->bal = calloc(w->n_acc, sizeof *w->bal);
    size_t slots = 1;
    while (slots < 2 * w->n_acc)
        slots *= 2;
    w->map_key = calloc(slots, sizeof *w->map_key);
    w->map_val = calloc(slots, sizeof *w->map_val);
    w->map_mask = slots - 1;
    w->nodes = calloc(w->node_cap, sizeof *w->nodes);
    w->inference = calloc(w->node_cap, sizeof *w->inference);
    w->verification = calloc(w->node_cap, sizeof *w->verification);
    if (!w->bal || !w->map_key || !w->map_val || !w->nodes || !w->inference || !w->verification)
        die("out of memory", OPG_ENOMEM, "");
    w->height = 1;
    w->now = GENESIS_TIME;

    /* the genesis supply: the emission pool, the users' funds, the delegators'
     * holdings, and the reserve (every other holder), which funds the operators */
    u128 supply = opg128(c->genesis_supply), pool = opg128(c->emission_pool);
    u128 users = supply / 1000 * c->users_share_m, dels = supply / 1000 * c->delegator_share_m;
    if (pool + users + dels > supply) {
        fprintf(stderr, "workbench: world.emission_pool + world.users_share + world.delegator_share "
                        "exceed world.genesis_supply\n");
        exit(2);
    }
    w->bal[ACC_USERS] = users;
    w->bal[ACC_RESERVE] = supply - pool - users - dels;
    for (uint32_t i = 0; i < c->nodes; i++) {
        if (w->bal[ACC_RESERVE] < opg128(110000)) {
            fprintf(stderr, "workbench: the reserve cannot fund %llu operators (lower world.delegator_share)\n",
                    (unsigned long long)c->nodes);
            exit(2);
        }
        add_node(w, i);
    }
    /* delegators: weights 1..100, the holdings split in proportion */
    uint8_t *wt = malloc(c->delegators);
    uint64_t total_wt = 0;
    for (uint64_t d = 0; d < c->delegators; d++)
        total_wt += wt[d] = (uint8_t)(1 + below(&w->r, 100));
    u128 given = 0;
    for (uint64_t d = 0; d < c->delegators; d++) {
        u128 b = dels / total_wt * wt[d];
        given += b;
        add_delegator(w, b, stake_of(w, b));
    }
    w->bal[ACC_RESERVE] += dels - given; /* the rounding dust */
    w->genesis_mean = dels / c->delegators;
    free(wt);
    TRY(opg_registry_end_block(w->reg, 1, GENESIS_TIME), "");
    collect_events(w);
}

/* ------------------------------------------------------------ one step */

/* Requests this step: a day curve (triangle, 50 % at 04:00 to 150 % at 16:00) times
 * growth (x1 to x1+demand_growth over a year), users x usage frequency per day. */
static uint64_t demand(const world *w)
{
    uint64_t tod = (uint64_t)(w->now - GENESIS_TIME) % DAY;
    uint64_t phase = (tod + DAY - 4 * 3600) % DAY;                 /* 0 at 04:00 */
    uint64_t tri = phase < DAY / 2 ? phase : DAY - phase;          /* 0 .. DAY/2 */
    uint64_t day_pct = 50 + tri * 100 / (DAY / 2);                 /* 50 .. 150 */
    uint64_t growth_m = 1000 + (uint64_t)(w->now - GENESIS_TIME) * w->cfg.demand_growth_m /
                                   (365 * (uint64_t)DAY);
    u128 per_day_m = (u128)w->cfg.users * w->cfg.usage_frequency_m;        /* x1000 */
    u128 n = per_day_m * day_pct / 100 * growth_m / 1000 / 1000 / w->steps_per_day;
    return (uint64_t)n;
}

static void serve_requests(world *w)
{
    uint64_t n = demand(w);
    for (uint64_t k = 0; k < n; k++) {
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
        /* each user has a budget of 0.5 to 3 OPG (divided by the price sensitivity);
         * above it the request is not sent: that holds the fee market near its targets */
        uint64_t budget = (OPG_UNIT / 2 + below(&w->r, OPG_UNIT * 5 / 2)) / w->cfg.price_sensitivity_m * 1000;
        opg_u256 max_fee = u(budget), tip = u(1000000);
        if (opg_u256_cmp(&q.base_fee, &max_fee) > 0 || w->bal[ACC_USERS] < (u128)budget + 1000000) {
            w->priced_out++;
            continue;
        }
        uint32_t inf = w->inference[below(&w->r, w->n_inference)];
        uint64_t i0 = below(&w->r, w->n_verification); /* two distinct verifiers */
        uint64_t i1 = (i0 + 1 + below(&w->r, w->n_verification - 1)) % w->n_verification;
        opg_id vids[2] = {w->nodes[w->verification[i0]].op, w->nodes[w->verification[i1]].op};
        opg_u256 vamounts[2];
        opg_pricer_receipt rc;
        if (opg_pricer_charge(&rc, vamounts, w->pricer, &req, &max_fee, &tip, vids, 2) != OPG_OK) {
            w->refused_requests++; /* over the block limit, say: the user retries later */
            continue;
        }
        w->requests++;
        if (!take(w, ACC_USERS, u128_of(&rc.fee)))
            die("users paid more than they hold", OPG_EINSOLVENT, "");
        w->fees[0] += u128_of(&rc.inference);
        w->fees[1] += u128_of(&rc.verifiers);
        w->fees[2] += u128_of(&rc.stakers);
        w->fees[3] += u128_of(&rc.burn);
        w->fees[4] += u128_of(&rc.community);
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
        uint64_t d = below(&w->r, w->n_delegators);
        opg_id who = del_id(d);
        opg_delegation_info di[4];
        size_t cnt = 0;
        int rc = opg_registry_delegations_of(di, 4, &cnt, w->reg, &who);
        if (rc != OPG_OK || cnt == 0)
            continue;
        const opg_id *node = &di[0].operator_id;
        const opg_id *other = &w->nodes[below(&w->r, w->n_nodes)].op;
        opg_u256 part, ten = u(10);
        opg_u256_divmod(&part, NULL, &di[0].tokens, &ten);
        uint64_t pick = below(&w->r, 100);
        switch (pick < 40 ? 0 : pick < 55 ? 1 : pick < 70 ? 2 : 3) {
        case 0: { /* stake a tenth of what it holds, from its own balance */
            u128 amt = w->bal[acc_del(w, d)] / 10;
            if (amt == 0) {
                rc = OPG_EZERO;
                break;
            }
            opg_u256 a = u256_of(amt);
            rc = opg_registry_delegate(NULL, w->reg, &who, node, &a, w->height, w->now);
            if (rc == OPG_OK)
                take(w, acc_del(w, d), amt);
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
    for (uint32_t i = 0; i < w->n_nodes && n < 1024; i++) {
        opg_node_info ni;
        if (opg_registry_node_get(&ni, w->reg, &w->nodes[i].op) != OPG_OK ||
            ni.status != OPG_NODE_BONDED || ni.jailed)
            continue;
        votes[n].consensus_key = ni.consensus_key;
        votes[n].power = ni.power;
        opg_u256 raw = u((uint64_t)w->nodes[i].score_milli * 1000000000000000);
        opg_dec_from_raw(&votes[n++].score, &raw);
    }
    TRY(opg_splitter_mint(NULL, w->split, w->height, w->now), opg_splitter_last_error(w->split));
    TRY(opg_splitter_allocate(w->split, votes, n, w->height, w->now), opg_splitter_last_error(w->split));
}

static void keep_slashes(world *w)
{
    size_t n;
    static const char *const reason[] = {"", "downtime", "double sign", "faulty inference"};
    const opg_slasher_record *rec = opg_slasher_slashes(w->slasher, &n);
    for (size_t i = 0; i < n; i++) {
        if (w->n_slashes < sizeof w->slashes / sizeof w->slashes[0])
            w->slashes[w->n_slashes++] = rec[i];
        w->n_slashes_total++;
        char t[64];
        snprintf(t, sizeof t, "slash (%s): node %u", reason[rec[i].reason], node_index(w, &rec[i].node));
        add_mark(w, MARK_SLASH, t);
    }
    collect_events(w);
}

/* Every bonded node signs, but one in an outage (80 steps in a row); 0.1 % bad luck. */
static void record_commit(world *w)
{
    opg_commit_sig sigs[1024];
    size_t n = 0;
    for (uint32_t i = 0; i < w->n_nodes && n < 1024; i++) {
        opg_node_info ni;
        if (opg_registry_node_get(&ni, w->reg, &w->nodes[i].op) != OPG_OK ||
            ni.status != OPG_NODE_BONDED || ni.jailed)
            continue;
        sigs[n].consensus_key = ni.consensus_key;
        sigs[n].power = ni.power;
        uint64_t o = w->nodes[i].outage_step;
        int down = o != UINT64_MAX && w->step >= o && w->step < o + 80;
        sigs[n++].signed_block = !down && below(&w->r, 1000) != 0;
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

static void fault(world *w, uint32_t node)
{
    opg_fault_evidence ev;
    memset(&ev, 0, sizeof ev);
    ev.evidence_id = id_of(9, (uint32_t)++w->n_faults);
    ev.node = w->nodes[node].op;
    ev.infraction_height = w->height - 10;
    /* the block time the registry recorded for that height: evidence states it */
    TRY(opg_registry_block_time(&ev.infraction_time, w->reg, ev.infraction_height), "");
    ev.fault_class = 1;
    ev.reporter = w->nodes[w->reporter_node].op;
    int rc = opg_slasher_fault(NULL, w->slasher, &ev, w->height, w->now);
    if (rc == OPG_OK)
        keep_slashes(w);
}

/* Incidents: faulty inferences, a double sign, the governance proposal. */
static void incidents(world *w)
{
    for (uint32_t i = 0; i < w->n_nodes; i++)
        if (w->nodes[i].fault_step == w->step)
            fault(w, i);
    if (w->step == w->double_sign_step) {
        const node_rec *n = &w->nodes[w->double_sign_node];
        opg_node_info ni;
        TRY(opg_registry_node_get(&ni, w->reg, &n->op), "");
        opg_evidence ev;
        memset(&ev, 0, sizeof ev);
        ev.kind = OPG_EVIDENCE_DOUBLE_SIGN;
        ev.double_sign.consensus_key = n->key;
        ev.double_sign.vote_a = signed_vote(n, w->height - 3, 0xaa);
        ev.double_sign.vote_b = signed_vote(n, w->height - 3, 0xbb);
        TRY(opg_registry_block_time(&ev.double_sign.infraction_time, w->reg, w->height - 3), "");
        ev.double_sign.validator_power = 0; /* the registry's history knows it */
        uint8_t bytes[OPG_EVIDENCE_DOUBLE_SIGN_SIZE];
        size_t len;
        TRY(opg_slasher_evidence_encode(bytes, sizeof bytes, &len, &ev), "");
        if (opg_slasher_submit_evidence(NULL, w->slasher, bytes, len, w->height, w->now) == OPG_OK)
            keep_slashes(w);
    }
    if (w->step == w->proposal_step) {
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
        /* the deposit leaves the proposer's balance; the host holds it for the tally */
        if (w->bal[acc_op(w, 5)] >= opg128(5000) &&
            opg_tally_submit(&w->proposal_id, w->gov, &p, w->now) == OPG_OK) {
            move(w, acc_op(w, 5), ACC_DEPOSITS, opg128(5000));
            add_mark(w, MARK_GOV, "proposal: raise the GPU target by half");
            for (uint32_t i = 0; i < w->n_nodes; i++)
                opg_tally_vote_option(w->gov, w->proposal_id, &w->nodes[i].op,
                                      i % 5 ? OPG_VOTE_YES : OPG_VOTE_NO);
            for (uint64_t d = 0; d < w->n_delegators; d += 7) {
                opg_id who = del_id(d);
                opg_vote_option o = below(&w->r, 10) < 7 ? OPG_VOTE_YES
                                   : below(&w->r, 2) ? OPG_VOTE_NO : OPG_VOTE_ABSTAIN;
                opg_tally_vote_option(w->gov, w->proposal_id, &who, o);
            }
        }
    }
}

/* Once a day: nodes join and leave, new delegators arrive, jailed nodes ask out. */
static void daily_changes(world *w, uint64_t day)
{
    const config *c = &w->cfg;
    /* entries and exits spread over each 30 days */
    uint64_t in_today = c->node_entry * (day + 1) / 30 - c->node_entry * day / 30;
    for (uint64_t k = 0; k < in_today && w->n_nodes < w->node_cap; k++)
        if (w->bal[ACC_RESERVE] >= opg128(110000)) {
            add_node(w, w->n_nodes);
            w->nodes_joined++;
            collect_events(w);
        }
    uint64_t out_today = c->node_exit * (day + 1) / 30 - c->node_exit * day / 30;
    for (uint64_t k = 0; k < out_today; k++) {
        uint32_t i = (uint32_t)below(&w->r, w->n_nodes);
        node_rec *n = &w->nodes[i];
        opg_delegation_info di;
        if (n->exited || i == 5 || opg_registry_delegation_get(&di, w->reg, &n->op, &n->op) != OPG_OK)
            continue;
        /* the operator takes its whole self-bond out: the node leaves the active set */
        if (opg_registry_undelegate(NULL, NULL, w->reg, &n->op, &n->op, &di.tokens, w->height,
                                    w->now) == OPG_OK) {
            n->exited = 1;
            w->nodes_left++;
            collect_events(w);
        }
    }
    for (uint64_t k = 0; k < c->delegator_growth && w->n_delegators < w->delegator_cap; k++) {
        u128 b = w->genesis_mean / 50 * (1 + below(&w->r, 100));
        if (!take(w, ACC_RESERVE, b)) /* a newcomer buys its tokens from the other holders */
            break;
        add_delegator(w, b, stake_of(w, b));
        collect_events(w);
    }
    for (uint32_t i = 0; i < w->n_nodes; i++) {
        opg_node_info ni;
        if (opg_registry_node_get(&ni, w->reg, &w->nodes[i].op) == OPG_OK && ni.jailed &&
            !ni.tombstoned && !w->nodes[i].exited && ni.jailed_until <= w->now)
            if (opg_registry_unjail(w->reg, &w->nodes[i].op, w->now) == OPG_OK)
                collect_events(w);
    }
}

/* At the end of the day about one delegator in twenty (every 1st to 40th) claims its
 * rewards into its balance; at a million delegators this is most of a run's cost. */
static void daily_claims(world *w)
{
    for (uint64_t d = 0; d < w->n_delegators; d += 1 + below(&w->r, 40)) {
        opg_id who = del_id(d);
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

/* ------------------------------------------------------------ the books */

/* The supply identity, to the base unit: the host's balances (holders, users,
 * operators, delegators, held deposits), the emission pool not yet emitted, bonded
 * and unbonding tokens, and what the splitter holds (the pot, the community pool
 * and the rewards not yet withdrawn) add up to the registry's total supply. */
static void check_supply(world *w)
{
    u128 held = 0; /* every balance, recounted */
    for (size_t i = 0; i < w->n_acc; i++)
        held += w->bal[i];
    opg_supply_info sup;
    opg_registry_supply(&sup, w->reg);
    opg_emission_info em;
    opg_splitter_emission(&em, w->split);
    opg_splitter_totals t;
    opg_splitter_totals_get(&t, w->split);
    opg_dec inside, tmp;
    opg_dec_add(&tmp, &t.pending, &t.community_pool);
    opg_dec_add(&inside, &tmp, &t.outstanding);
    opg_u256 raw, whole, rem, unit = u(OPG_UNIT);
    opg_dec_to_raw(&raw, &inside);
    opg_u256_divmod(&whole, &rem, &raw, &unit);
    u128 total = held + u128_of(&em.pool_remaining) + u128_of(&sup.bonded) + u128_of(&sup.unbonding) +
                 u128_of(&whole);
    w->identity_checks++;
    if (!opg_u256_is_zero(&rem) || total != u128_of(&sup.total_supply)) {
        char a[96], b[96];
        opg_u256 tv = u256_of(total);
        opg_u256_to_string(a, sizeof a, NULL, &tv);
        opg_u256_to_string(b, sizeof b, NULL, &sup.total_supply);
        fprintf(stderr, "workbench: day %llu: the supply does not add up: held + pools + bonded + "
                        "unbonding = %s base units, total supply %s\n",
                (unsigned long long)(w->step / w->steps_per_day), a, b);
        exit(1);
    }
}

/* What delegators have earned so far: paid out, plus allocated to nodes and not yet
 * withdrawn, less the nodes' commission. */
static opg_dec delegator_accrued(const world *w)
{
    opg_splitter_totals t;
    opg_splitter_totals_get(&t, w->split);
    opg_dec acc;
    opg_dec_add(&acc, &t.paid_delegators, &t.outstanding);
    for (uint32_t i = 0; i < w->n_nodes; i++) {
        opg_node_rewards nr;
        if (opg_splitter_node_rewards(&nr, w->split, &w->nodes[i].op) == OPG_OK)
            opg_dec_sub(&acc, &acc, &nr.commission);
    }
    return acc;
}

static int cmp_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Centralisation over the bonded nodes' stake (whole OPG): the Nakamoto coefficient
 * (fewest nodes holding more than a third of the power) and the Gini coefficient
 * (in 1/10000, integer arithmetic). */
static void centralisation(world *w, sample *s)
{
    uint64_t v[1024];
    size_t n = 0;
    for (uint32_t i = 0; i < w->n_nodes && n < 1024; i++) {
        opg_node_info ni;
        if (opg_registry_node_get(&ni, w->reg, &w->nodes[i].op) != OPG_OK ||
            ni.status != OPG_NODE_BONDED || ni.jailed)
            continue;
        v[n++] = (uint64_t)(u128_of(&ni.tokens) / OPG_UNIT);
    }
    s->active = n;
    qsort(v, n, sizeof v[0], cmp_desc);
    u128 total = 0, run = 0;
    for (size_t i = 0; i < n; i++)
        total += v[i];
    s->nakamoto = 0;
    for (size_t i = 0; i < n; i++) {
        run += v[i];
        s->nakamoto = i + 1;
        if (run * 3 > total)
            break;
    }
    /* Gini = sum_i (2i - n - 1) x_(i) / (n sum x), x ascending (i from 1) */
    __extension__ __int128 acc = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t x = v[n - 1 - i];
        acc += (__int128)(2 * (int64_t)(i + 1) - (int64_t)n - 1) * x;
    }
    s->gini_bp = n && total ? (uint64_t)(acc * 10000 / ((__int128)n * (__int128)total)) : 0;
}

static void take_sample(world *w, uint32_t day)
{
    sample *s = &w->samples[w->n_samples++];
    memset(s, 0, sizeof *s);
    s->day = day;
    opg_supply_info sup;
    opg_registry_supply(&sup, w->reg);
    s->staking_ratio = sup.staking_ratio;
    s->supply = sup.total_supply;
    s->bonded = sup.bonded;
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
    memcpy(s->fees, w->fees, sizeof s->fees);
    s->requests = w->requests;
    s->priced_out = w->priced_out;
    s->delegators = w->n_delegators;
    s->nodes_live = w->n_nodes - w->nodes_left;
    centralisation(w, s);
}

static void run(world *w)
{
    const config *c = &w->cfg;
    w->steps_per_day = DAY / (BLOCK_SECONDS * c->step_blocks);
    uint64_t steps = w->steps_per_day * c->days;
    w->samples = calloc(c->days + 1, sizeof *w->samples);
    /* incidents at fixed points of the run: an outage at 30 %, a faulty inference at
     * 55 %, a double sign at 77 %, the proposal at 60 %; and the workload's share of
     * faulty and offline nodes at random points between 10 % and 90 % */
    w->double_sign_step = c->incidents ? steps * 77 / 100 : UINT64_MAX;
    w->proposal_step = c->governance ? steps * 60 / 100 : UINT64_MAX;
    w->double_sign_node = 3;
    w->reporter_node = w->verification[0];
    if (c->incidents) {
        w->nodes[0].outage_step = steps * 30 / 100; /* the largest staking targets come first */
        w->nodes[w->inference[1]].fault_step = steps * 55 / 100;
    }
    for (uint32_t i = 0; i < w->n_nodes; i++) {
        if (below(&w->r, 1000) < c->offline_share_m)
            w->nodes[i].outage_step = steps / 10 + below(&w->r, steps * 8 / 10);
        if ((w->nodes[i].roles & OPG_ROLE_INFERENCE) && below(&w->r, 1000) < c->faulty_share_m)
            w->nodes[i].fault_step = steps / 10 + below(&w->r, steps * 8 / 10);
    }
    check_supply(w);
    double started = wall_seconds();
    for (w->step = 0; w->step < steps; w->step++) {
        w->height += c->step_blocks;
        w->now += BLOCK_SECONDS * (opg_time)c->step_blocks;
        record_commit(w);
        allocate_block(w);
        incidents(w);
        serve_requests(w);
        delegator_activity(w);
        TRY(opg_pricer_end_block(NULL, w->pricer), "");
        TRY(opg_tally_end_block(w->gov, w->height, w->now), opg_tally_last_error(w->gov));
        size_t closed;
        const opg_tally_closed *cl = opg_tally_closed_list(w->gov, &closed);
        for (size_t k = 0; k < closed; k++) {
            /* refunds go back to the depositors; burned deposits are gone */
            for (size_t j = 0; j < cl[k].refund_count; j++)
                move(w, ACC_DEPOSITS, map_get(w, &cl[k].refunds[j].depositor),
                     u128_of(&cl[k].refunds[j].amount));
            if (!take(w, ACC_DEPOSITS, u128_of(&cl[k].burned)))
                die("the tally burned more than it held", OPG_EINSOLVENT, "");
            if (cl[k].proposal_id == w->proposal_id && cl[k].outcome != OPG_TALLY_CONVERTED) {
                w->proposal = cl[k];
                w->proposal.refunds = NULL;
                w->proposal_closed = 1;
                opg_pricer_param_get(w->gpu_target_after, sizeof w->gpu_target_after, NULL,
                                     w->pricer, "fees.gpu_ms.target");
                add_mark(w, MARK_GOV, cl[k].outcome == OPG_TALLY_PASSED
                                          ? "governance: GPU target raised"
                                          : "governance: proposal closed, not passed");
            }
        }
        TRY(opg_registry_end_block(w->reg, w->height, w->now), "");
        collect_events(w);
        if ((w->step + 1) % w->steps_per_day == 0) {
            uint64_t day = (w->step + 1) / w->steps_per_day;
            daily_claims(w);
            daily_changes(w, day);
            check_supply(w);
            take_sample(w, (uint32_t)day);
        }
        progress(w->step + 1, steps, (w->step + 1) * c->step_blocks, started, 0);
    }
    check_supply(w);
    progress(steps, steps, steps * c->step_blocks, started, 1);
}

/* ------------------------------------------------------------ output */

static FILE *open_in(const char *dir, const char *name, char *path, size_t cap, const char *mode)
{
    snprintf(path, cap, "%s/%s", dir, name);
    FILE *f = fopen(path, mode);
    if (!f) {
        fprintf(stderr, "workbench: cannot %s %s: %s\n", *mode == 'r' ? "read" : "write", path,
                strerror(errno));
        exit(1);
    }
    return f;
}

static const char *fmt_u128_opg(char *buf, size_t cap, u128 x)
{
    opg_u256 v = u256_of(x);
    return fmt_opg(buf, cap, &v);
}

static const char *csv_header =
    "day,staking_ratio,delegator_apr,base_fee_gpu_ms,base_fee_tokens,supply_opg,bonded_opg,"
    "burned_opg,community_pool_opg,fees_inference_opg,fees_verifiers_opg,fees_stakers_opg,"
    "fees_burned_opg,fees_community_opg,requests,priced_out,nakamoto,gini,active_nodes,delegators\n";

static void write_csv(const world *w)
{
    char path[4096];
    FILE *f = open_in(w->cfg.out, "timeseries.csv", path, sizeof path, "w");
    fputs(csv_header, f);
    for (size_t i = 0; i < w->n_samples; i++) {
        const sample *s = &w->samples[i];
        char a[96], b[96], c[96], d[96], e[96], g[96], h[96], k[96], fe[5][96];
        opg_dec_to_string(a, sizeof a, NULL, &s->staking_ratio);
        opg_dec_to_string(b, sizeof b, NULL, &s->apr);
        opg_u256_to_string(c, sizeof c, NULL, &s->base_fee[0]);
        opg_u256_to_string(d, sizeof d, NULL, &s->base_fee[1]);
        for (int r = 0; r < 5; r++)
            fmt_u128_opg(fe[r], sizeof fe[r], s->fees[r]);
        fprintf(f, "%u,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%llu,%llu,%llu,%llu.%04llu,%llu,%llu\n",
                s->day, a, b, c, d, fmt_opg(e, sizeof e, &s->supply), fmt_opg(g, sizeof g, &s->bonded),
                fmt_opg(h, sizeof h, &s->burned), fmt_opg(k, sizeof k, &s->community), fe[0], fe[1],
                fe[2], fe[3], fe[4], (unsigned long long)s->requests,
                (unsigned long long)s->priced_out, (unsigned long long)s->nakamoto,
                (unsigned long long)(s->gini_bp / 10000), (unsigned long long)(s->gini_bp % 10000),
                (unsigned long long)s->active, (unsigned long long)s->delegators);
    }
    fclose(f);
    f = open_in(w->cfg.out, "events.csv", path, sizeof path, "w");
    fprintf(f, "day,kind,text\n");
    static const char *const kinds[] = {"", "slash", "jail", "governance"};
    for (size_t i = 0; i < w->n_marks; i++)
        fprintf(f, "%u,%s,%s\n", w->marks[i].day, kinds[w->marks[i].kind], w->marks[i].text);
    fclose(f);
}

/* The run's summary, on stdout and in summary.txt; final.csv holds the end-of-run
 * figures a sweep compares. */
static void summary(const world *w, FILE *f, FILE *fin)
{
    char a[96], b[96];
    opg_supply_info sup;
    opg_registry_supply(&sup, w->reg);
    opg_emission_info em;
    opg_splitter_emission(&em, w->split);
    const config *c = &w->cfg;
    fprintf(f, "libopg workbench: %llu nodes, %llu delegators, %llu days of %llu-block steps, seed %llu\n",
            (unsigned long long)c->nodes, (unsigned long long)c->delegators, (unsigned long long)c->days,
            (unsigned long long)c->step_blocks, (unsigned long long)c->seed);
    fprintf(f, "\nsupply (checked every day: balances + pools + bonded + unbonding = supply, %llu checks)\n",
            (unsigned long long)w->identity_checks);
    fprintf(f, "  total supply       %s OPG\n", fmt_opg(a, sizeof a, &sup.total_supply));
    fprintf(f, "  burned             %s OPG\n", fmt_opg(a, sizeof a, &sup.burned));
    fprintf(f, "  bonded             %s OPG (staking ratio %s)\n", fmt_opg(a, sizeof a, &sup.bonded),
            fmt_pct(b, sizeof b, &sup.staking_ratio));
    fprintf(f, "  not bonded         %s OPG (nodes outside the active set, unbonding entries)\n",
            fmt_opg(a, sizeof a, &sup.unbonding));
    fprintf(f, "  emitted by pool    %s OPG (%s OPG left)\n", fmt_opg(a, sizeof a, &em.emitted_total),
            fmt_opg(b, sizeof b, &em.pool_remaining));
    fprintf(f, "  community pool     %s OPG\n", fmt_opg(a, sizeof a, &sup.community_pool));
    fprintf(f, "  outstanding        %s OPG\n", fmt_opg(a, sizeof a, &sup.outstanding_rewards));
    fprintf(f, "  users' funds left  %s OPG\n", fmt_u128_opg(a, sizeof a, w->bal[ACC_USERS]));
    fprintf(f, "\ninference fees (%llu requests served, %llu priced out, %llu over the block limits)\n",
            (unsigned long long)w->requests, (unsigned long long)w->priced_out,
            (unsigned long long)w->refused_requests);
    static const char *const role[] = {"inference nodes", "verifiers", "stakers", "burned", "community"};
    u128 total = 0;
    for (int r = 0; r < 5; r++)
        total += w->fees[r];
    fprintf(f, "  total              %s OPG\n", fmt_u128_opg(a, sizeof a, total));
    for (int r = 0; r < 5; r++)
        fprintf(f, "  %-18s %s OPG\n", role[r], fmt_u128_opg(a, sizeof a, w->fees[r]));
    fprintf(f, "\nrewards\n");
    fprintf(f, "  paid to delegators %s OPG\n", fmt_opg(a, sizeof a, &w->rewards_paid));
    opg_dec apr_avg = {{0, 0, 0, 0}};
    if (w->n_samples) {
        opg_dec sum = {{0, 0, 0, 0}};
        for (size_t i = 0; i < w->n_samples; i++)
            opg_dec_add(&sum, &sum, &w->samples[i].apr);
        opg_u256 cnt = u(w->n_samples);
        opg_dec_quo_int(&apr_avg, &sum, &cnt);
    }
    fprintf(f, "  delegator APR      %s (mean of the daily samples: income accrued / bonded)\n",
            fmt_pct(a, sizeof a, &apr_avg));
    fprintf(f, "  delegator actions  %llu (%llu refused by the staking rules)\n",
            (unsigned long long)w->delegator_ops, (unsigned long long)w->refused_ops);
    fprintf(f, "  unbondings paid    %s OPG\n", fmt_opg(a, sizeof a, &w->unbonded_paid));
    const sample *last = w->n_samples ? &w->samples[w->n_samples - 1] : NULL;
    fprintf(f, "\nnetwork\n");
    fprintf(f, "  nodes              %u (%llu joined, %llu left), %llu in the active set\n", w->n_nodes,
            (unsigned long long)w->nodes_joined, (unsigned long long)w->nodes_left,
            (unsigned long long)(last ? last->active : 0));
    fprintf(f, "  delegators         %llu\n", (unsigned long long)w->n_delegators);
    if (last)
        fprintf(f, "  Nakamoto coeff.    %llu (fewest nodes with more than 1/3 of the stake); Gini %llu.%04llu\n",
                (unsigned long long)last->nakamoto, (unsigned long long)(last->gini_bp / 10000),
                (unsigned long long)(last->gini_bp % 10000));
    fprintf(f, "\nslashes (%llu)\n", (unsigned long long)w->n_slashes_total);
    static const char *const reason[] = {"", "downtime", "double sign", "faulty inference"};
    for (size_t i = 0; i < w->n_slashes; i++) {
        const opg_slasher_record *r = &w->slashes[i];
        char node[17];
        for (int k = 0; k < 8; k++)
            snprintf(node + 2 * k, 3, "%02x", r->node.bytes[k]);
        fprintf(f, "  %-17s node %s  burned %s OPG", reason[r->reason], node,
                fmt_opg(a, sizeof a, &r->burned));
        if (!opg_u256_is_zero(&r->reporter_reward))
            fprintf(f, ", reporter got %s OPG", fmt_opg(b, sizeof b, &r->reporter_reward));
        fprintf(f, "%s%s\n", r->tombstoned ? ", tombstoned" : "",
                r->jailed_until == OPG_TIME_FOREVER ? ", jailed forever" : r->jailed ? ", jailed" : "");
    }
    fprintf(f, "\ngovernance\n");
    if (w->proposal_closed) {
        static const char *const outcome[] = {"", "passed", "rejected", "failed", "removed",
                                              "cancelled", "converted"};
        char y[96], no[96], ab[96], v[96];
        fprintf(f, "  proposal %llu \"Raise the GPU target by half\": %s\n",
                (unsigned long long)w->proposal.proposal_id, outcome[w->proposal.outcome]);
        fprintf(f, "  yes %s, no %s, abstain %s, veto %s OPG\n",
                fmt_opg(y, sizeof y, &w->proposal.counts.yes), fmt_opg(no, sizeof no, &w->proposal.counts.no),
                fmt_opg(ab, sizeof ab, &w->proposal.counts.abstain),
                fmt_opg(v, sizeof v, &w->proposal.counts.no_with_veto));
        fprintf(f, "  fees.gpu_ms.target %s -> %s\n", w->gpu_target_before, w->gpu_target_after);
    } else {
        fprintf(f, "  no proposal closed in this run\n");
    }
    fprintf(f, "\nfinal state hashes\n");
    uint8_t h[32];
    char hx[65];
    static const char *const hname[] = {"registry", "pricer", "splitter", "slasher", "tally"};
    for (int k = 0; k < 5; k++) {
        int rc = k == 0 ? opg_registry_state_hash(h, w->reg)
               : k == 1 ? opg_pricer_state_hash(h, w->pricer)
               : k == 2 ? opg_splitter_state_hash(h, w->split)
               : k == 3 ? opg_slasher_state_hash(h, w->slasher)
                        : opg_tally_state_hash(h, w->gov);
        if (rc)
            die("state hash", rc, "");
        hex32(hx, h);
        fprintf(f, "  %-9s %s\n", hname[k], hx);
        if (fin)
            fprintf(fin, "hash_%s,%s\n", hname[k], hx);
    }
    if (fin) {
        fprintf(fin, "staking_ratio,%s\n", fmt_pct(a, sizeof a, &sup.staking_ratio));
        fprintf(fin, "delegator_apr_mean,%s\n", fmt_pct(a, sizeof a, &apr_avg));
        fprintf(fin, "supply_opg,%s\n", fmt_opg(a, sizeof a, &sup.total_supply));
        fprintf(fin, "bonded_opg,%s\n", fmt_opg(a, sizeof a, &sup.bonded));
        fprintf(fin, "burned_opg,%s\n", fmt_opg(a, sizeof a, &sup.burned));
        fprintf(fin, "community_pool_opg,%s\n", fmt_opg(a, sizeof a, &sup.community_pool));
        fprintf(fin, "fees_total_opg,%s\n", fmt_u128_opg(a, sizeof a, total));
        fprintf(fin, "requests,%llu\n", (unsigned long long)w->requests);
        fprintf(fin, "priced_out,%llu\n", (unsigned long long)w->priced_out);
        fprintf(fin, "slashes,%llu\n", (unsigned long long)w->n_slashes_total);
        fprintf(fin, "nakamoto,%llu\n", (unsigned long long)(last ? last->nakamoto : 0));
        fprintf(fin, "gini,%llu.%04llu\n", (unsigned long long)(last ? last->gini_bp / 10000 : 0),
                (unsigned long long)(last ? last->gini_bp % 10000 : 0));
        fprintf(fin, "active_nodes,%llu\n", (unsigned long long)(last ? last->active : 0));
        fprintf(fin, "delegators,%llu\n", (unsigned long long)w->n_delegators);
        fprintf(fin, "supply_checks,%llu\n", (unsigned long long)w->identity_checks);
    }
}

/* ------------------------------------------------------------ the report */

/* A time series table read back from timeseries.csv: one code path draws a run and
 * a sweep. Columns by name. */
typedef struct table {
    char name[32][40];
    int ncol;
    double *v; /* rows x ncol */
    size_t rows;
} table;

static int read_table(table *t, const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/timeseries.csv", dir);
    FILE *f = fopen(path, "r");
    memset(t, 0, sizeof *t);
    if (!f)
        return -1;
    char line[4096];
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return -1;
    }
    for (char *tok = strtok(line, ",\n"); tok && t->ncol < 32; tok = strtok(NULL, ",\n"))
        snprintf(t->name[t->ncol++], sizeof t->name[0], "%s", tok);
    size_t cap = 0;
    while (fgets(line, sizeof line, f)) {
        if (t->rows == cap) {
            cap = cap ? cap * 2 : 512;
            t->v = realloc(t->v, cap * (size_t)t->ncol * sizeof(double));
        }
        char *p = line;
        for (int c = 0; c < t->ncol; c++) {
            t->v[t->rows * (size_t)t->ncol + (size_t)c] = strtod(p, &p);
            if (*p == ',')
                p++;
        }
        t->rows++;
    }
    fclose(f);
    return 0;
}

static double *column(const table *t, const char *name, double scale, int per_day)
{
    int c = -1;
    for (int k = 0; k < t->ncol; k++)
        if (strcmp(t->name[k], name) == 0)
            c = k;
    double *out = calloc(t->rows + 1, sizeof *out);
    for (size_t i = 0; c >= 0 && i < t->rows; i++) {
        double x = t->v[i * (size_t)t->ncol + (size_t)c];
        double prev = i ? t->v[(i - 1) * (size_t)t->ncol + (size_t)c] : 0;
        out[i] = (per_day ? x - prev : x) * scale;
    }
    return out;
}

typedef struct series {
    const char *name;
    const char *color;
    const double *v;
} series;

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                      "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};

/* A tick label: few digits, SI suffixes past a thousand. */
static void tick_text(char *buf, size_t cap, double v)
{
    double a = fabs(v);
    if (a == 0)
        snprintf(buf, cap, "0");
    else if (a >= 1e12)
        snprintf(buf, cap, "%gT", v / 1e12);
    else if (a >= 1e9)
        snprintf(buf, cap, "%gG", v / 1e9);
    else if (a >= 1e6)
        snprintf(buf, cap, "%gM", v / 1e6);
    else if (a >= 1e4)
        snprintf(buf, cap, "%gk", v / 1e3);
    else
        snprintf(buf, cap, "%g", v);
}

/* One chart: series over days on shared axes; a log axis when the positive values
 * span more than a decade; ticks and gridlines on both axes; the marks as
 * vertical lines (red slashes, orange jails, blue governance). */
static void chart(FILE *f, const char *title, const char *unit, const series *s, int ns,
                  size_t n, const mark *marks, size_t nmarks, int allow_log)
{
    const double W = 560, H = 260, L = 64, R = 12, T = 28, B = 34;
    double lo = INFINITY, hi = -INFINITY, plo = INFINITY;
    for (int k = 0; k < ns; k++)
        for (size_t i = 0; i < n; i++) {
            double x = s[k].v[i];
            lo = x < lo ? x : lo;
            hi = x > hi ? x : hi;
            if (x > 0 && x < plo)
                plo = x;
        }
    if (n == 0 || !isfinite(lo))
        lo = 0, hi = 1, plo = 1;
    int logy = allow_log && plo < INFINITY && hi > 0 && hi / plo > 10;
    double y0, y1;
    if (logy) {
        y0 = floor(log10(plo));
        y1 = ceil(log10(hi));
        if (y1 <= y0)
            y1 = y0 + 1;
    } else {
        if (lo > 0 && lo < hi * 0.5)
            lo = 0;
        if (hi == lo)
            hi = lo + (lo == 0 ? 1 : fabs(lo) * 0.1);
        double raw = (hi - lo) / 5, mag = pow(10, floor(log10(raw))), step;
        step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5 ? 5 * mag : 10 * mag;
        y0 = floor(lo / step) * step;
        y1 = ceil(hi / step) * step;
    }
    double pw = W - L - R, ph = H - T - B;
#define YPOS(x) (T + ph - ph * ((logy ? log10((x) > 0 ? (x) : pow(10, y0)) : (x)) - y0) / (y1 - y0))
#define XPOS(i) (L + pw * (double)(i) / (double)(n > 1 ? n - 1 : 1))
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" class=\"chart\">\n",
            W, H, W, H);
    fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#fff\"/>\n", W, H);
    fprintf(f, "<text x=\"%.0f\" y=\"17\" font-size=\"13\" font-weight=\"bold\">%s</text>\n", L, title);
    fprintf(f, "<text x=\"%.0f\" y=\"17\" font-size=\"11\" fill=\"#555\" text-anchor=\"end\">%s%s</text>\n",
            W - R, unit, logy ? " (log scale)" : "");
    /* y ticks */
    if (logy) {
        for (double e = y0; e <= y1 + 1e-9; e++) {
            double y = T + ph - ph * (e - y0) / (y1 - y0);
            char t[32];
            snprintf(t, sizeof t, "1e%d", (int)e);
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", L, y, W - R, y);
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">%s</text>\n", L - 4, y + 3, t);
        }
    } else {
        double raw = (y1 - y0) / 5, mag = pow(10, floor(log10(raw))), step;
        step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5 ? 5 * mag : 10 * mag;
        for (double v = y0; v <= y1 + step * 1e-6; v += step) {
            double y = YPOS(v);
            char t[32];
            tick_text(t, sizeof t, fabs(v) < step * 1e-6 ? 0 : v);
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", L, y, W - R, y);
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">%s</text>\n", L - 4, y + 3, t);
        }
    }
    /* x ticks: every 30 days (or fewer for short runs) */
    size_t every = n > 120 ? 30 : n > 30 ? 10 : n > 10 ? 2 : 1;
    for (size_t d = 0; d < n; d += every) {
        double x = XPOS(d);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>\n", x, T, x, T + ph);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"middle\">%zu</text>\n", x,
                T + ph + 13, d + 1);
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" fill=\"#555\" text-anchor=\"middle\">day</text>\n",
            L + pw / 2, H - 4);
    fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#999\"/>\n",
            L, T, pw, ph);
    static const char *const mcol[] = {"", "#d62728", "#ff7f0e", "#1f4fb4"};
    for (size_t m = 0; m < nmarks; m++) {
        if (marks[m].day < 1 || marks[m].day > n)
            continue;
        double x = XPOS(marks[m].day - 1);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-dasharray=\"3,3\"><title>day %u: %s</title></line>\n",
                x, T, x, T + ph, mcol[marks[m].kind], marks[m].day, marks[m].text);
    }
    for (int k = 0; k < ns; k++) {
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"", s[k].color);
        for (size_t i = 0; i < n; i++)
            fprintf(f, "%.1f,%.1f ", XPOS(i), YPOS(s[k].v[i]));
        fprintf(f, "\"/>\n");
        fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"10\" height=\"3\" fill=\"%s\"/><text x=\"%.0f\" y=\"%.0f\" font-size=\"10\">%s</text>\n",
                L + 6, T + 6 + 12.0 * k, s[k].color, L + 20, T + 10 + 12.0 * k, s[k].name);
    }
#undef YPOS
#undef XPOS
    fprintf(f, "</svg>\n");
}

static void html_head(FILE *f, const char *title)
{
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>%s</title>\n"
               "<style>body{font-family:sans-serif;margin:16px;color:#222}svg.chart{border:1px solid #ccc;margin:4px}"
               "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
               "th{background:#f0f0f0}.legend span{margin-right:14px}</style></head><body>\n<h1>%s</h1>\n",
            title, title);
}

static size_t read_marks(mark *m, size_t cap, const char *dir)
{
    char path[4096], line[256];
    snprintf(path, sizeof path, "%s/events.csv", dir);
    FILE *f = fopen(path, "r");
    size_t n = 0;
    if (!f)
        return 0;
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return 0;
    }
    while (n < cap && fgets(line, sizeof line, f)) {
        char kind[32];
        unsigned day;
        int off = 0;
        if (sscanf(line, "%u,%31[^,],%n", &day, kind, &off) < 2)
            continue;
        m[n].day = day;
        m[n].kind = strcmp(kind, "slash") == 0 ? MARK_SLASH : strcmp(kind, "jail") == 0 ? MARK_JAIL : MARK_GOV;
        snprintf(m[n].text, sizeof m[n].text, "%s", trim(line + off));
        n++;
    }
    fclose(f);
    return n;
}

static void run_report(const world *w, const settings *ss)
{
    table t;
    if (read_table(&t, w->cfg.out) != 0)
        die("cannot read back timeseries.csv", OPG_EPARSE, w->cfg.out);
    char path[4096];
    FILE *f = open_in(w->cfg.out, "report.html", path, sizeof path, "w");
    char title[256];
    snprintf(title, sizeof title, "libopg workbench: %llu nodes, %llu delegators, %llu days, seed %llu",
             (unsigned long long)w->cfg.nodes, (unsigned long long)w->cfg.delegators,
             (unsigned long long)w->cfg.days, (unsigned long long)w->cfg.seed);
    html_head(f, title);
    fprintf(f, "<p>Settings:");
    if (ss->n == 0)
        fprintf(f, " the defaults");
    for (size_t i = 0; i < ss->n; i++)
        fprintf(f, " <code>%s=%s</code>", ss->v[i].key, ss->v[i].value);
    fprintf(f, ". The supply identity (balances, pools, bonded and unbonding add up to the total supply) "
               "held to the base unit on each of %llu checks.</p>\n",
            (unsigned long long)w->identity_checks);
    fprintf(f, "<p class=\"legend\">Marks: <span style=\"color:#d62728\">&#9474; slash</span>"
               "<span style=\"color:#ff7f0e\">&#9474; jail</span><span style=\"color:#1f4fb4\">&#9474; governance</span>"
               " (hover a mark for what happened)</p>\n");
    size_t n = t.rows;
    const mark *m = w->marks;
    size_t nm = w->n_marks;
    double *sr = column(&t, "staking_ratio", 100, 0), *apr = column(&t, "delegator_apr", 100, 0);
    double *f0 = column(&t, "base_fee_gpu_ms", 1e-18, 0), *f1 = column(&t, "base_fee_tokens", 1e-18, 0);
    double *sup = column(&t, "supply_opg", 1, 0), *bon = column(&t, "bonded_opg", 1, 0);
    double *bur = column(&t, "burned_opg", 1, 0), *com = column(&t, "community_pool_opg", 1, 0);
    static const char *const roles[] = {"fees_inference_opg", "fees_verifiers_opg", "fees_stakers_opg",
                                        "fees_burned_opg", "fees_community_opg"};
    static const char *const rname[] = {"inference nodes", "verifiers", "stakers", "burned", "community"};
    double *fr[5];
    for (int r = 0; r < 5; r++)
        fr[r] = column(&t, roles[r], 1, 1);
    double *req = column(&t, "requests", 1, 1), *po = column(&t, "priced_out", 1, 1);
    double *nak = column(&t, "nakamoto", 1, 0), *gini = column(&t, "gini", 1, 0);
    double *act = column(&t, "active_nodes", 1, 0);
    series s1[] = {{"staking ratio", palette[0], sr}};
    chart(f, "Staking ratio", "% of supply bonded", s1, 1, n, m, nm, 0);
    series s2[] = {{"delegator APR (trailing day)", palette[0], apr}};
    chart(f, "Delegator APR", "% per year", s2, 1, n, m, nm, 0);
    series s3[] = {{"gpu_ms", palette[1], f0}, {"tokens", palette[2], f1}};
    chart(f, "Base fee per unit", "OPG per unit", s3, 2, n, m, nm, 1);
    series s4[] = {{"total supply", palette[0], sup}, {"bonded", palette[2], bon}};
    chart(f, "Supply and bonded", "OPG", s4, 2, n, m, nm, 0);
    series s5[] = {{"burned (cumulative)", palette[1], bur}, {"community pool", palette[2], com}};
    chart(f, "Burned and community pool", "OPG", s5, 2, n, m, nm, 1);
    series s6[5];
    for (int r = 0; r < 5; r++)
        s6[r] = (series){rname[r], palette[r], fr[r]};
    chart(f, "Fees by role", "OPG per day", s6, 5, n, m, nm, 1);
    series s7[] = {{"requests served", palette[2], req}, {"priced out", palette[1], po}};
    chart(f, "Users served and priced out", "requests per day", s7, 2, n, m, nm, 0);
    series s8[] = {{"Nakamoto coefficient", palette[0], nak}, {"active nodes", palette[7], act}};
    chart(f, "Centralisation: Nakamoto coefficient", "nodes", s8, 2, n, m, nm, 0);
    series s9[] = {{"Gini of stake over active nodes", palette[4], gini}};
    chart(f, "Centralisation: Gini of stake", "0 = equal, 1 = one node", s9, 1, n, m, nm, 0);
    fprintf(f, "<h2>Events</h2>\n<table><tr><th>day</th><th>what</th></tr>\n");
    for (size_t i = 0; i < nm && i < 200; i++)
        fprintf(f, "<tr><td>%u</td><td style=\"text-align:left\">%s</td></tr>\n", m[i].day, m[i].text);
    fprintf(f, "</table>\n<p>Data: timeseries.csv (base fees in base units, amounts in OPG, ratios as decimals), "
               "events.csv, final.csv, summary.txt.</p>\n</body></html>\n");
    fclose(f);
    free(sr), free(apr), free(f0), free(f1), free(sup), free(bon), free(bur), free(com);
    for (int r = 0; r < 5; r++)
        free(fr[r]);
    free(req), free(po), free(nak), free(gini), free(act), free(t.v);
}

/* ------------------------------------------------------------ sweeps */

typedef struct sweep_axis {
    char key[96];
    char values[32][64];
    int n;
} sweep_axis;

static void parse_sweep(sweep_axis *a, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || !eq[1] || (size_t)(eq - arg) >= sizeof a->key) {
        fprintf(stderr, "workbench: --sweep %s: expected key=v1,v2,...\n", arg);
        exit(2);
    }
    memset(a, 0, sizeof *a);
    memcpy(a->key, arg, (size_t)(eq - arg));
    const char *p = eq + 1;
    while (*p) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        if (len == 0 || len >= sizeof a->values[0] || a->n == 32) {
            fprintf(stderr, "workbench: --sweep %s: empty or too long value, or more than 32\n", arg);
            exit(2);
        }
        memcpy(a->values[a->n++], p, len);
        p += len + (c ? 1 : 0);
    }
}

static void mkdir_or_die(const char *dir)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "workbench: cannot create %s: %s\n", dir, strerror(errno));
        exit(1);
    }
}

/* A point's settings are the run's, then the point's values. */
static void point_settings(settings *out, const settings *base, const sweep_axis *ax, int nax, int idx)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < base->n; i++)
        settings_add(out, base->v[i].key, strlen(base->v[i].key), base->v[i].value, base->v[i].origin);
    int rest = idx;
    for (int a = nax - 1; a >= 0; a--) {
        int k = rest % ax[a].n;
        rest /= ax[a].n;
        settings_add(out, ax[a].key, strlen(ax[a].key), ax[a].values[k], "--sweep");
    }
}

/* Every setting checked as a run would apply it, without building anything. */
static void validate(const settings *ss)
{
    world v;
    memset(&v, 0, sizeof v);
    config_init(&v.cfg);
    apply_knobs(&v.cfg, ss);
    make_handles(&v);
    apply_library_settings(&v, ss);
    free_handles(&v);
}

static void shell_quote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++)
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    fputc('\'', f);
}

/* The sweep's index: DIR/sweep.csv, one line per point: folder, then the swept values. */
static void write_sweep_index(const char *dir, const sweep_axis *ax, int nax, int npoints)
{
    char path[4096];
    FILE *f = open_in(dir, "sweep.csv", path, sizeof path, "w");
    fprintf(f, "point");
    for (int a = 0; a < nax; a++)
        fprintf(f, ",%s", ax[a].key);
    fprintf(f, "\n");
    for (int i = 0; i < npoints; i++) {
        fprintf(f, "point-%02d", i + 1);
        int rest = i;
        int k[2] = {0, 0};
        for (int a = nax - 1; a >= 0; a--)
            k[a] = rest % ax[a].n, rest /= ax[a].n;
        for (int a = 0; a < nax; a++)
            fprintf(f, ",%s", ax[a].values[k[a]]);
        fprintf(f, "\n");
    }
    fclose(f);
}

/* The comparison of a sweep's points: comparison.csv and report.html in DIR. */
static void compare(const char *dir)
{
    char path[4096], line[1024];
    FILE *f = open_in(dir, "sweep.csv", path, sizeof path, "r");
    char keys[2][96] = {{0}};
    int nkeys = 0;
    char pname[64][32], pval[64][2][64];
    int np = 0;
    if (fgets(line, sizeof line, f)) {
        char *tok = strtok(trim(line), ",");
        while ((tok = strtok(NULL, ",")) && nkeys < 2)
            snprintf(keys[nkeys++], sizeof keys[0], "%s", tok);
    }
    while (np < 64 && fgets(line, sizeof line, f)) {
        char *tok = strtok(trim(line), ",");
        if (!tok)
            continue;
        snprintf(pname[np], sizeof pname[0], "%s", tok);
        for (int a = 0; a < nkeys; a++) {
            tok = strtok(NULL, ",");
            snprintf(pval[np][a], sizeof pval[0][0], "%s", tok ? tok : "");
        }
        np++;
    }
    fclose(f);
    table t[64];
    char fin_keys[32][40], fin_vals[64][32][96];
    int nfin = 0;
    size_t n = SIZE_MAX;
    for (int i = 0; i < np; i++) {
        char pd[2048];
        snprintf(pd, sizeof pd, "%.2000s/%.31s", dir, pname[i]);
        if (read_table(&t[i], pd) != 0) {
            fprintf(stderr, "workbench: %s has no timeseries.csv (did the point run?)\n", pd);
            exit(1);
        }
        n = t[i].rows < n ? t[i].rows : n;
        snprintf(path, sizeof path, "%s/final.csv", pd);
        FILE *g = fopen(path, "r");
        int k = 0;
        while (g && k < 32 && fgets(line, sizeof line, g)) {
            char *c = strchr(line, ',');
            if (!c || strncmp(line, "hash_", 5) == 0 || strncmp(line, "key,", 4) == 0)
                continue;
            *c = '\0';
            snprintf(fin_keys[k], sizeof fin_keys[0], "%.39s", line);
            snprintf(fin_vals[i][k++], sizeof fin_vals[0][0], "%s", trim(c + 1));
        }
        if (g)
            fclose(g);
        nfin = k;
    }
    if (np == 0)
        n = 0;
    FILE *c = open_in(dir, "comparison.csv", path, sizeof path, "w");
    fprintf(c, "point");
    for (int a = 0; a < nkeys; a++)
        fprintf(c, ",%s", keys[a]);
    for (int k = 0; k < nfin; k++)
        fprintf(c, ",%s", fin_keys[k]);
    fprintf(c, "\n");
    for (int i = 0; i < np; i++) {
        fprintf(c, "%s", pname[i]);
        for (int a = 0; a < nkeys; a++)
            fprintf(c, ",%s", pval[i][a]);
        for (int k = 0; k < nfin; k++)
            fprintf(c, ",%s", fin_vals[i][k]);
        fprintf(c, "\n");
    }
    fclose(c);

    FILE *h = open_in(dir, "report.html", path, sizeof path, "w");
    char title[300];
    snprintf(title, sizeof title, "libopg workbench sweep: %s%s%s (%d points)", keys[0], nkeys > 1 ? " x " : "",
             nkeys > 1 ? keys[1] : "", np);
    html_head(h, title);
    fprintf(h, "<p>One line per point on shared axes; each point's own report is in its folder.</p>\n");
    char names[64][160];
    for (int i = 0; i < np; i++) {
        if (nkeys > 1)
            snprintf(names[i], sizeof names[i], "%.40s=%.30s, %.40s=%.30s", keys[0], pval[i][0], keys[1], pval[i][1]);
        else
            snprintf(names[i], sizeof names[i], "%.80s=%.60s", keys[0], pval[i][0]);
    }
    static const struct {
        const char *col, *title, *unit;
        double scale;
        int per_day, log;
    } panels[] = {
        {"staking_ratio", "Staking ratio", "% of supply bonded", 100, 0, 0},
        {"delegator_apr", "Delegator APR", "% per year", 100, 0, 0},
        {"base_fee_gpu_ms", "Base fee: gpu_ms", "OPG per GPU ms", 1e-18, 0, 1},
        {"base_fee_tokens", "Base fee: tokens", "OPG per token", 1e-18, 0, 1},
        {"community_pool_opg", "Community pool", "OPG", 1, 0, 1},
        {"burned_opg", "Burned (cumulative)", "OPG", 1, 0, 1},
        {"priced_out", "Users priced out", "requests per day", 1, 1, 0},
        {"nakamoto", "Nakamoto coefficient", "nodes", 1, 0, 0},
        {"gini", "Gini of stake", "0 = equal, 1 = one node", 1, 0, 0},
    };
    for (size_t p = 0; p < sizeof panels / sizeof panels[0]; p++) {
        series s[64];
        double *cols[64];
        memset(s, 0, sizeof s);
        for (int i = 0; i < np; i++) {
            cols[i] = column(&t[i], panels[p].col, panels[p].scale, panels[p].per_day);
            s[i] = (series){names[i], palette[i % 10], cols[i]};
        }
        chart(h, panels[p].title, panels[p].unit, s, np, n, NULL, 0, panels[p].log);
        for (int i = 0; i < np; i++)
            free(cols[i]);
    }
    fprintf(h, "<h2>End of run</h2>\n<div style=\"overflow-x:auto\"><table><tr><th>point</th>");
    for (int a = 0; a < nkeys; a++)
        fprintf(h, "<th>%s</th>", keys[a]);
    for (int k = 0; k < nfin; k++)
        fprintf(h, "<th>%s</th>", fin_keys[k]);
    fprintf(h, "</tr>\n");
    for (int i = 0; i < np; i++) {
        fprintf(h, "<tr><td><a href=\"%s/report.html\">%s</a></td>", pname[i], pname[i]);
        for (int a = 0; a < nkeys; a++)
            fprintf(h, "<td>%s</td>", pval[i][a]);
        for (int k = 0; k < nfin; k++)
            fprintf(h, "<td>%s</td>", fin_vals[i][k]);
        fprintf(h, "</tr>\n");
    }
    fprintf(h, "</table></div>\n<p>Data: comparison.csv, sweep.csv, point-*/timeseries.csv.</p>\n</body></html>\n");
    fclose(h);
    for (int i = 0; i < np; i++)
        free(t[i].v);
}

/* ------------------------------------------------------------ main */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: workbench [options]\n"
            "  --scenario FILE     key = value lines (examples/scenarios/*.conf); repeatable\n"
            "  --set KEY=VALUE     any handle's parameter by key (distribution.community_tax=0.1)\n"
            "                      or a workload knob (workload.users=5000); repeatable, later wins\n"
            "  --sweep KEY=V1,V2   one process per value, in parallel; give it twice for a grid\n"
            "  --jobs N            sweep processes at a time (default: the number of cores)\n"
            "  --print-jobs        print the sweep's points as shell commands (for GNU parallel),\n"
            "                      write OUT/sweep.csv, run nothing; then --compare OUT\n"
            "  --compare DIR       write DIR/comparison.csv and DIR/report.html from the points\n"
            "  --out DIR           output folder (default workbench-out)\n"
            "  --quiet             no progress bar and no summary on stdout\n"
            "  --list-keys         every key with its default\n"
            "  --nodes N, --delegators N, --days N, --step-blocks N, --seed N\n"
            "                      short for --set world.nodes=N and so on\n"
            "  --help              this text\n");
}

static void list_keys(void)
{
    config c;
    config_init(&c);
    printf("# workload knobs\n");
    for (size_t i = 0; i < NKNOBS; i++) {
        uint64_t v;
        memcpy(&v, (const char *)&c + knobs[i].off, sizeof v);
        if (knobs[i].milli)
            printf("%-34s %llu.%03llu   %s\n", knobs[i].key, (unsigned long long)(v / 1000),
                   (unsigned long long)(v % 1000), knobs[i].help);
        else
            printf("%-34s %-9llu %s\n", knobs[i].key, (unsigned long long)v, knobs[i].help);
    }
    world w;
    memset(&w, 0, sizeof w);
    config_init(&w.cfg);
    make_handles(&w);
    char buf[512];
    const char *k;
    printf("# library parameters (the workbench's defaults)\n");
    for (size_t i = 0; (k = opg_registry_param_key(i)); i++)
        if (opg_registry_param_get(buf, sizeof buf, NULL, w.reg, k) == OPG_OK)
            printf("%-34s %s\n", k, buf);
    for (size_t i = 0; (k = opg_splitter_param_key(i)); i++)
        if (opg_splitter_param_get(buf, sizeof buf, NULL, w.split, k) == OPG_OK)
            printf("%-34s %s\n", k, buf);
    for (size_t i = 0; (k = opg_slasher_param_key(i)); i++)
        if (opg_slasher_param_get(buf, sizeof buf, NULL, w.slasher, k) == OPG_OK)
            printf("%-34s %s\n", k, buf);
    for (size_t i = 0; (k = opg_tally_param_key(i)); i++)
        if (opg_tally_param_get(buf, sizeof buf, NULL, w.gov, k) == OPG_OK)
            printf("%-34s %s\n", k, buf);
    for (size_t i = 0; (k = opg_pricer_param_key(w.pricer, i)); i++)
        if (opg_pricer_param_get(buf, sizeof buf, NULL, w.pricer, k) == OPG_OK)
            printf("%-34s %s\n", k, buf);
    free_handles(&w);
}

/* One run: validate, build, simulate, write. */
static int run_one(const settings *ss, const char *out)
{
    static world w; /* large; zeroed */
    memset(&w, 0, sizeof w);
    config_init(&w.cfg);
    apply_knobs(&w.cfg, ss);
    w.cfg.out = out;
    double t0 = wall_seconds();
    make_handles(&w);
    apply_library_settings(&w, ss);
    w.r.s = w.cfg.seed * UINT64_C(0x2545f4914f6cdd1d) + 1;
    if (!quiet)
        fprintf(stderr, "building the network: %llu nodes, %llu delegators\n",
                (unsigned long long)w.cfg.nodes, (unsigned long long)w.cfg.delegators);
    build_network(&w);
    double t1 = wall_seconds();
    if (!quiet)
        fprintf(stderr, "simulating %llu days\n", (unsigned long long)w.cfg.days);
    run(&w);
    double t2 = wall_seconds();
    if (opg_splitter_check(w.split) != OPG_OK || opg_registry_check(w.reg) != OPG_OK ||
        opg_slasher_check(w.slasher) != OPG_OK) {
        fprintf(stderr, "workbench: invariant check failed: %s %s\n", opg_splitter_last_error(w.split),
                opg_registry_last_error(w.reg));
        return 1;
    }
    mkdir_or_die(out);
    write_csv(&w);
    run_report(&w, ss);
    char path[4096];
    FILE *s = open_in(out, "summary.txt", path, sizeof path, "w");
    FILE *fin = open_in(out, "final.csv", path, sizeof path, "w");
    fprintf(fin, "key,value\n");
    summary(&w, s, fin);
    fclose(s);
    fclose(fin);
    FILE *st = open_in(out, "settings.conf", path, sizeof path, "w");
    fprintf(st, "# the settings of this run, in the order applied\n");
    for (size_t i = 0; i < ss->n; i++)
        fprintf(st, "%s = %s\n", ss->v[i].key, ss->v[i].value);
    fclose(st);
    if (!quiet) {
        summary(&w, stdout, NULL);
        printf("\nwrote %s/report.html, timeseries.csv, events.csv, final.csv, summary.txt\n", out);
    }
    double t3 = wall_seconds();
    /* the point's own timings (not part of the compared output) */
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    FILE *tf = open_in(out, "timing.txt", path, sizeof path, "w");
    fprintf(tf, "build %.3f s\nrun %.3f s\nreport %.3f s\ntotal %.3f s\ncpu %.3f s\nmax_rss %ld MB\n",
            t1 - t0, t2 - t1, t3 - t2, t3 - t0, cpu, ru.ru_maxrss / 1024);
    fclose(tf);
    free_handles(&w);
    free(w.nodes), free(w.inference), free(w.verification), free(w.samples);
    free(w.bal), free(w.map_key), free(w.map_val);
    return 0;
}

int main(int argc, char **argv)
{
    /* static: what main allocates lives until the process ends */
    static settings ss;
    static const char **pass; /* the arguments a sweep point inherits */
    static char ***cmds;
    static pid_t *pid;
    static double *start;
    sweep_axis ax[2];
    int nax = 0, jobs = 0, print_jobs = 0;
    const char *out = NULL, *compare_dir = NULL;
    pass = calloc((size_t)argc + 1, sizeof *pass);
    int npass = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char origin[64];
        snprintf(origin, sizeof origin, "%s", a);
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--list-keys") == 0) {
            if (sodium_init() < 0)
                return 1;
            list_keys();
            return 0;
        } else if (!v && strcmp(a, "--quiet") && strcmp(a, "--print-jobs")) {
            fprintf(stderr, "workbench: %s needs a value (or is unknown)\n", a);
            usage(stderr);
            return 2;
        } else if (strcmp(a, "--set") == 0) {
            settings_add_arg(&ss, v, "--set");
            pass[npass++] = a, pass[npass++] = v, i++;
        } else if (strcmp(a, "--scenario") == 0) {
            settings_add_file(&ss, v, 0);
            pass[npass++] = a, pass[npass++] = v, i++;
        } else if (strcmp(a, "--nodes") == 0 || strcmp(a, "--delegators") == 0 ||
                   strcmp(a, "--days") == 0 || strcmp(a, "--step-blocks") == 0 ||
                   strcmp(a, "--seed") == 0) {
            char key[64];
            snprintf(key, sizeof key, "world.%s", a + 2);
            if (strcmp(a, "--step-blocks") == 0)
                snprintf(key, sizeof key, "world.step_blocks");
            settings_add(&ss, key, strlen(key), v, a);
            pass[npass++] = a, pass[npass++] = v, i++;
        } else if (strcmp(a, "--sweep") == 0) {
            if (nax == 2) {
                fprintf(stderr, "workbench: at most two --sweep keys (a grid)\n");
                return 2;
            }
            parse_sweep(&ax[nax++], v), i++;
        } else if (strcmp(a, "--jobs") == 0) {
            jobs = atoi(v), i++;
            if (jobs < 1) {
                fprintf(stderr, "workbench: --jobs needs a whole number of at least 1\n");
                return 2;
            }
        } else if (strcmp(a, "--out") == 0) {
            out = v, i++;
        } else if (strcmp(a, "--compare") == 0) {
            compare_dir = v, i++;
        } else if (strcmp(a, "--quiet") == 0) {
            quiet = 1;
        } else if (strcmp(a, "--print-jobs") == 0) {
            print_jobs = 1;
        } else {
            fprintf(stderr, "workbench: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (sodium_init() < 0)
        return 1;
    if (compare_dir) {
        compare(compare_dir);
        printf("wrote %s/comparison.csv and %s/report.html\n", compare_dir, compare_dir);
        return 0;
    }
    if (nax == 0) {
        if (print_jobs) {
            fprintf(stderr, "workbench: --print-jobs needs --sweep\n");
            return 2;
        }
        validate(&ss);
        return run_one(&ss, out ? out : "workbench-out");
    }

    /* a sweep: every point checked before anything is written or started */
    if (!out)
        out = "sweep-out";
    int npoints = ax[0].n * (nax > 1 ? ax[1].n : 1);
    if (npoints > 64) {
        fprintf(stderr, "workbench: at most 64 points in a sweep\n");
        return 2;
    }
    for (int p = 0; p < npoints; p++) {
        settings ps;
        point_settings(&ps, &ss, ax, nax, p);
        validate(&ps);
        free(ps.v);
    }
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0)
        snprintf(self, sizeof self, "%s", argv[0]);
    else
        self[len] = '\0';
    mkdir_or_die(out);
    write_sweep_index(out, ax, nax, npoints);
    /* a point's command: the inherited arguments, its values, its folder */
    cmds = calloc((size_t)npoints, sizeof *cmds);
    for (int p = 0; p < npoints; p++) {
        char **c = calloc((size_t)npass + 12, sizeof *c);
        int k = 0;
        c[k++] = self;
        for (int j = 0; j < npass; j++)
            c[k++] = (char *)pass[j];
        int rest = p;
        for (int a = nax - 1; a >= 0; a--) {
            int vi = rest % ax[a].n;
            rest /= ax[a].n;
            char *kv = malloc(200);
            snprintf(kv, 200, "%s=%s", ax[a].key, ax[a].values[vi]);
            c[k++] = "--set";
            c[k++] = kv;
        }
        char *dir = malloc(strlen(out) + 32);
        sprintf(dir, "%s/point-%02d", out, p + 1);
        c[k++] = "--out";
        c[k++] = dir;
        c[k++] = "--quiet";
        cmds[p] = c;
    }
    if (print_jobs) {
        for (int p = 0; p < npoints; p++) {
            for (int k = 0; cmds[p][k]; k++) {
                if (k)
                    fputc(' ', stdout);
                shell_quote(stdout, cmds[p][k]);
            }
            fputc('\n', stdout);
        }
        return 0;
    }
    if (jobs == 0) {
        long nc = sysconf(_SC_NPROCESSORS_ONLN);
        jobs = nc > 0 ? (int)nc : 1;
    }
    fprintf(stderr, "sweep: %d points, %d at a time, into %s\n", npoints, jobs, out);
    fflush(NULL);
    pid = calloc((size_t)npoints, sizeof *pid);
    start = calloc((size_t)npoints, sizeof *start);
    int next = 0, running = 0, done = 0, failed = 0;
    double t0 = wall_seconds();
    while (done < npoints) {
        while (running < jobs && next < npoints) {
            pid_t c = fork();
            if (c < 0) {
                perror("workbench: fork");
                return 1;
            }
            if (c == 0) {
                execv(self, cmds[next]);
                perror("workbench: exec");
                _exit(127);
            }
            pid[next] = c;
            start[next] = wall_seconds();
            next++, running++;
        }
        int st;
        pid_t c = wait(&st);
        if (c < 0)
            break;
        for (int p = 0; p < npoints; p++)
            if (pid[p] == c) {
                running--, done++;
                int ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
                failed += !ok;
                fprintf(stderr, "sweep: [%d/%d] %s %s in %.1f s\n", done, npoints,
                        cmds[p][npass + 2 + 2 * nax] /* its folder */, ok ? "done" : "FAILED",
                        wall_seconds() - start[p]);
            }
    }
    if (failed) {
        fprintf(stderr, "workbench: %d of %d points failed\n", failed, npoints);
        return 1;
    }
    compare(out);
    printf("sweep: %d points in %.1f s; wrote %s/comparison.csv and %s/report.html\n", npoints,
           wall_seconds() - t0, out, out);
    return 0;
}
