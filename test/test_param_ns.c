/*
 * test_param_ns.c - one parameter-namespace interface for every handle and host
 * module, seen through governance: proposals whose changes touch every namespace
 * (staking., distribution./mint./emission., slashing./evidence., fees., gov. and a
 * host's) close in one end_block.
 *
 *   - known answers: each namespace's change took effect (read back with its
 *     *_param_get), a later tally reads the parameters an earlier proposal staged, a
 *     rule refusal or a host refusal leaves every namespace untouched;
 *   - all or nothing: for n = 1, 2, 3, ... the n-th allocation of that end_block
 *     fails (test/failalloc.h; every handle shares the allocator) until a run sees
 *     no failure. Each failing call returns OPG_ENOMEM with every handle's state
 *     hash and the host's values unchanged and nothing leaked (it keeps at most its
 *     output lists' capacity), and the same call retried ends exactly as the run
 *     that never failed: hashes, outcomes, values, and the very bytes allocated.
 */
#include "failalloc.h"
#include "harness.h"

#define T0 1000000
#define VP 172800 /* voting period (and max deposit period) */
#define EVP 86400 /* expedited voting period */
#define NOW (T0 + VP)
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *GENESIS = "1000000000000000000000000000000";

/* ------------------------------------------------------- a host namespace */

/* Two numbers "host.a" <= "host.b", set atomically; enomem_at > 0 makes that set
 * (counted from 1) answer OPG_ENOMEM instead. */
typedef struct host_params {
    int a, b;
    int sets, calls, enomem_at;
} host_params;

static int host_set(void *h, const char *key, const char *value)
{
    host_params *p = h;
    if (p->enomem_at && ++p->calls == p->enomem_at)
        return OPG_ENOMEM;
    char *end;
    long v = strtol(value, &end, 10);
    if (*value == '\0' || *end)
        return OPG_EPARSE;
    host_params c = *p;
    if (strcmp(key, "host.a") == 0)
        c.a = (int)v;
    else if (strcmp(key, "host.b") == 0)
        c.b = (int)v;
    else
        return OPG_EKEY;
    if (c.a > c.b)
        return OPG_EINVAL;
    c.sets = p->sets + 1;
    *p = c;
    return OPG_OK;
}

static int host_get(char *buf, size_t cap, size_t *needed, void *h, const char *key)
{
    const host_params *p = h;
    char tmp[32];
    if (strcmp(key, "host.a") == 0)
        snprintf(tmp, sizeof tmp, "%d", p->a);
    else if (strcmp(key, "host.b") == 0)
        snprintf(tmp, sizeof tmp, "%d", p->b);
    else
        return OPG_EKEY;
    size_t n = strlen(tmp) + 1;
    if (needed)
        *needed = n;
    if (cap < n)
        return OPG_EBUFS;
    memcpy(buf, tmp, n);
    return OPG_OK;
}

/* ------------------------------------------------------------------ world */

typedef struct world {
    failalloc fa;
    opg_allocator alloc;
    opg_registry *r;
    opg_splitter *sp;
    opg_slasher *sl;
    opg_pricer *pr;
    opg_tally *t;
    host_params host;
} world;

#define N_HANDLES 5

typedef struct hashes {
    uint8_t h[N_HANDLES][32];
} hashes;

/* Every handle's state hash, with the failure point suspended (hashing allocates). */
static void hash_all(hashes *out, world *w)
{
    unsigned long fail_at = w->fa.fail_at, calls = w->fa.calls;
    w->fa.fail_at = 0;
    if (opg_registry_state_hash(out->h[0], w->r) != OPG_OK ||
        opg_splitter_state_hash(out->h[1], w->sp) != OPG_OK ||
        opg_slasher_state_hash(out->h[2], w->sl) != OPG_OK ||
        opg_pricer_state_hash(out->h[3], w->pr) != OPG_OK ||
        opg_tally_state_hash(out->h[4], w->t) != OPG_OK)
        abort();
    w->fa.fail_at = fail_at;
    w->fa.calls = calls;
}

static const char *const HANDLE_NAMES[N_HANDLES] = {"registry", "splitter", "slasher", "pricer",
                                                    "tally"};

/* Node n's consensus key. */
static opg_id cons_key(unsigned n) { return cons_key_n(5000 + n); }

static int add_node(opg_registry *r, unsigned n, const char *self)
{
    opg_node_create c;
    memset(&c, 0, sizeof c);
    c.operator_id = id_n(n);
    c.consensus_key = cons_key(n);
    c.roles = OPG_ROLE_ALL;
    c.commission_max_rate = dec_of("1");
    c.commission_max_change_rate = dec_of("0.01");
    c.min_self_delegation = u64v(1);
    c.self_delegation = u256_of(self);
    return opg_registry_node_create(r, &c, 1, T0);
}

/* One block of signatures: node 1 signs, node 2 signs when `two` is set. */
static int commit(opg_slasher *sl, int two, opg_height h)
{
    opg_commit_sig e[2];
    memset(e, 0, sizeof e);
    e[0].consensus_key = cons_key(1);
    e[0].power = 600;
    e[0].signed_block = 1;
    e[1].consensus_key = cons_key(2);
    e[1].power = 400;
    e[1].signed_block = two;
    return opg_slasher_record_commit(sl, e, 2, h, T0 + (opg_time)h);
}

static int submit(uint64_t *id, opg_tally *t, opg_proposal_kind kind, int expedited,
                  const char *deposit, const opg_param_change *ch, size_t n, opg_time now)
{
    opg_proposal_submit s;
    memset(&s, 0, sizeof s);
    s.proposer = id_n(200);
    s.kind = kind;
    s.expedited = expedited;
    s.initial_deposit = u256_of(deposit);
    s.title = "param_ns";
    s.changes = ch;
    s.change_count = n;
    return opg_tally_submit(id, t, &s, now);
}

static int vote(opg_tally *t, uint64_t id, unsigned who, opg_vote_option o)
{
    opg_id v = id_n(who);
    return opg_tally_vote_option(t, id, &v, o);
}

/* Every handle on the world's failing allocator (never failing here): nodes 1 (600
 * power) and 2 (400) bonded, node 2 missing two blocks of a 10-block window, the
 * tally with every engine and the host's "host." attached. */
static int world_new(world *w)
{
    memset(w, 0, sizeof *w);
    failalloc_init(&w->fa, 0);
    w->alloc = failalloc_allocator(&w->fa);
    w->host.a = 1;
    w->host.b = 5;
    opg_u256 g = u256_of(GENESIS);
    int rc;
    if ((rc = opg_registry_new(&w->r, NULL, &g, &w->alloc)) != OPG_OK)
        return rc;
    if ((rc = opg_splitter_new(&w->sp, w->r, NULL, &w->alloc)) != OPG_OK)
        return rc;
    opg_slasher_params lp;
    opg_slasher_params_init(&lp);
    lp.signed_blocks_window = 10;
    if ((rc = opg_slasher_new(&w->sl, w->r, &lp, &w->alloc)) != OPG_OK)
        return rc;
    opg_pricer_params pp;
    opg_pricer_params_init(&pp);
    pp.dimension_count = 1;
    strcpy(pp.dimensions[0].name, "gpu");
    pp.dimensions[0].initial_base_fee = u64v(1000);
    if ((rc = opg_pricer_new(&w->pr, &pp, &w->alloc)) != OPG_OK)
        return rc;
    if ((rc = opg_tally_new(&w->t, w->r, NULL, &w->alloc)) != OPG_OK ||
        (rc = opg_tally_attach_pricer(w->t, w->pr)) != OPG_OK ||
        (rc = opg_tally_attach_splitter(w->t, w->sp)) != OPG_OK ||
        (rc = opg_tally_attach_slasher(w->t, w->sl)) != OPG_OK ||
        (rc = opg_tally_attach_params(w->t, "host.", &w->host, host_set, host_get)) != OPG_OK)
        return rc;
    if ((rc = add_node(w->r, 1, "600000000")) != OPG_OK ||
        (rc = add_node(w->r, 2, "400000000")) != OPG_OK ||
        (rc = opg_registry_end_block(w->r, 2, T0)) != OPG_OK)
        return rc;
    for (opg_height h = 3; h <= 6; h++)
        if ((rc = commit(w->sl, h % 2, h)) != OPG_OK)
            return rc;
    return OPG_OK;
}

static void world_free(world *w)
{
    opg_tally_free(w->t);
    opg_pricer_free(w->pr);
    opg_slasher_free(w->sl);
    opg_splitter_free(w->sp);
    opg_registry_free(w->r);
}

/* ------------------------------------------------------------ proposals */

/* Every namespace at once; passes (node 1, 60% of the stake, votes yes). */
static const opg_param_change P1[] = {
    {"gov.quorum", "0.3"},
    {"gov.voting_period", "200000"},
    {"staking.max_validators", "1"},
    {"distribution.community_tax", "0.05"},
    {"mint.blocks_per_year", "1000"},
    {"slashing.signed_blocks_window", "50"},
    {"evidence.max_age_num_blocks", "7"},
    {"fees.gpu.min_base_fee", "2000"}, /* clamps the base fee (1000) up */
    {"fees.combine", "max"},
    {"host.b", "9"},
    {"host.a", "4"},
};
/* Refused by a rule at its last change (max_entries is at most 64): FAILED. */
static const opg_param_change P3[] = {
    {"host.a", "2"},
    {"slashing.signed_blocks_window", "80"},
    {"gov.threshold", "0.4"},
    {"staking.max_entries", "1000"},
};
/* On top of P1, in the same transaction: the window again, gov, emission, staking,
 * the split, the host. */
static const opg_param_change P4[] = {
    {"slashing.signed_blocks_window", "64"},
    {"gov.quorum", "0.25"},
    {"emission.duration", "1000000"},
    {"host.b", "12"},
    {"staking.unbonding_time", "50"},
    {"fees.split", "0.5,0.2,0.2,0.1,0"},
};

/*
 * What closes at NOW, in the order the tally handles it:
 *   5 (deposit period over, short of the minimum)        REMOVED, refunded
 *   1 P1, yes by node 1                                  PASSED
 *   2 text, yes by node 2 only: under P1's staged max_validators 1 node 2 is out of
 *     the set, no power voted, quorum missed (without P1 it would pass)  REJECTED
 *   3 P3, yes by node 1                                  FAILED at change 3, EINVAL
 *   4 P4, yes by node 1                                  PASSED
 *   6 expedited, no by node 1                            CONVERTED, regular voting
 *     period as P1 staged it (200000 s)
 *   7 text, no_with_veto by node 1                       REJECTED, deposit burned
 */
static int propose_all(world *w)
{
    uint64_t id;
    int rc;
#define TRY(x)                   \
    do {                         \
        if ((rc = (x)) != OPG_OK) \
            return rc;           \
    } while (0)
    TRY(submit(&id, w->t, OPG_PROPOSAL_PARAMS, 0, "10000000", P1, ARRAY_LEN(P1), T0));
    TRY(vote(w->t, id, 1, OPG_VOTE_YES));
    TRY(submit(&id, w->t, OPG_PROPOSAL_TEXT, 0, "10000000", NULL, 0, T0));
    TRY(vote(w->t, id, 2, OPG_VOTE_YES));
    TRY(submit(&id, w->t, OPG_PROPOSAL_PARAMS, 0, "10000000", P3, ARRAY_LEN(P3), T0));
    TRY(vote(w->t, id, 1, OPG_VOTE_YES));
    TRY(submit(&id, w->t, OPG_PROPOSAL_PARAMS, 0, "10000000", P4, ARRAY_LEN(P4), T0));
    TRY(vote(w->t, id, 1, OPG_VOTE_YES));
    TRY(submit(&id, w->t, OPG_PROPOSAL_TEXT, 0, "10", NULL, 0, T0));
    TRY(submit(&id, w->t, OPG_PROPOSAL_TEXT, 1, "50000000", NULL, 0, NOW - EVP));
    TRY(vote(w->t, id, 1, OPG_VOTE_NO));
    TRY(submit(&id, w->t, OPG_PROPOSAL_TEXT, 0, "10000000", NULL, 0, T0));
    TRY(vote(w->t, id, 1, OPG_VOTE_NO_WITH_VETO));
#undef TRY
    return OPG_OK;
}

/* The closed records as text, to compare runs field by field. */
static void closed_text(char *out, size_t cap, const opg_tally *t)
{
    size_t n, at = 0;
    const opg_tally_closed *c = opg_tally_closed_list(t, &n);
    at += (size_t)snprintf(out + at, cap - at, "%zu:", n);
    for (size_t i = 0; i < n && at < cap; i++) {
        char y[OPG_U256_STRING_MAX], ab[OPG_U256_STRING_MAX], no[OPG_U256_STRING_MAX],
            nv[OPG_U256_STRING_MAX], rf[OPG_U256_STRING_MAX], bu[OPG_U256_STRING_MAX];
        opg_u256_to_string(y, sizeof y, NULL, &c[i].counts.yes);
        opg_u256_to_string(ab, sizeof ab, NULL, &c[i].counts.abstain);
        opg_u256_to_string(no, sizeof no, NULL, &c[i].counts.no);
        opg_u256_to_string(nv, sizeof nv, NULL, &c[i].counts.no_with_veto);
        opg_u256_to_string(rf, sizeof rf, NULL, &c[i].refunded);
        opg_u256_to_string(bu, sizeof bu, NULL, &c[i].burned);
        at += (size_t)snprintf(out + at, cap - at, " [%" PRIu64 " o%d k%d e%d %s/%s/%s/%s r%zu=%s b%s f%u/%d p%zu]",
                               c[i].proposal_id, (int)c[i].outcome, (int)c[i].kind, c[i].expedited,
                               y, ab, no, nv, c[i].refund_count, rf, bu, c[i].failed_change,
                               c[i].failed_code, c[i].payload_len);
    }
}

/* A parameter of any namespace, read back as text through its own getter. */
static const char *param(const world *w, const char *key)
{
    static char buf[128];
    int rc;
    if (strncmp(key, "staking.", 8) == 0)
        rc = opg_registry_param_get(buf, sizeof buf, NULL, w->r, key);
    else if (strncmp(key, "gov.", 4) == 0)
        rc = opg_tally_param_get(buf, sizeof buf, NULL, w->t, key);
    else if (strncmp(key, "fees.", 5) == 0)
        rc = opg_pricer_param_get(buf, sizeof buf, NULL, w->pr, key);
    else if (strncmp(key, "slashing.", 9) == 0 || strncmp(key, "evidence.", 9) == 0)
        rc = opg_slasher_param_get(buf, sizeof buf, NULL, w->sl, key);
    else
        rc = opg_splitter_param_get(buf, sizeof buf, NULL, w->sp, key);
    return rc == OPG_OK ? buf : "(error)";
}

#define CHECK_PARAM(w, key, want)                                                    \
    do {                                                                             \
        const char *got_ = param((w), (key));                                        \
        if (strcmp(got_, (want)) != 0) {                                             \
            char msg_[256];                                                          \
            snprintf(msg_, sizeof msg_, "%s = %s, want %s", (key), got_, (want));    \
            harness_report(__FILE__, __LINE__, msg_);                                \
            return;                                                                  \
        }                                                                            \
    } while (0)

/* ------------------------------------------------------------------ tests */

/* The run without failures, and what it must come to. */
static char ref_closed[4096];
static hashes ref_hashes;
static unsigned long ref_allocs;
static long long ref_live[2], ref_blocks[2]; /* allocated before and after the clean call */

static void check_outcomes(const world *w)
{
    size_t n;
    const opg_tally_closed *c = opg_tally_closed_list(w->t, &n);
    CHECK(n == 7);
    static const uint64_t ids[7] = {5, 1, 2, 3, 4, 6, 7};
    static const opg_tally_outcome want[7] = {
        OPG_TALLY_REMOVED, OPG_TALLY_PASSED,    OPG_TALLY_REJECTED, OPG_TALLY_FAILED,
        OPG_TALLY_PASSED,  OPG_TALLY_CONVERTED, OPG_TALLY_REJECTED};
    for (size_t i = 0; i < 7; i++)
        CHECK(c[i].proposal_id == ids[i] && c[i].outcome == want[i]);
    CHECK_U256(c[2].counts.yes, "0"); /* node 2 is out of the staged set of 1 */
    CHECK_U256(c[2].refunded, "10000000");
    CHECK(c[3].failed_change == 3 && c[3].failed_code == OPG_EINVAL);
    CHECK_U256(c[3].refunded, "10000000");
    CHECK_U256(c[6].burned, "10000000");
    opg_supply_info sup;
    opg_registry_supply(&sup, w->r);
    CHECK_U256(sup.burned, "10000000");
    /* the converted proposal runs a regular period as P1 set it */
    opg_proposal_info info;
    CHECK_OK(opg_tally_proposal_get(&info, w->t, 6));
    CHECK(info.expedited == 0 && info.vote_count == 0);
    CHECK(info.voting_end == NOW - EVP + 200000);
    CHECK(opg_tally_proposal_count(w->t) == 1);
}

static void check_values(const world *w)
{
    /* P1 then P4, each namespace through its own getter; P3 left no trace */
    CHECK_PARAM(w, "staking.max_validators", "1");
    CHECK_PARAM(w, "staking.unbonding_time", "50");
    CHECK_PARAM(w, "staking.max_entries", "7");
    CHECK_PARAM(w, "gov.quorum", "0.25");
    CHECK_PARAM(w, "gov.voting_period", "200000");
    CHECK_PARAM(w, "gov.threshold", "0.5");
    CHECK_PARAM(w, "distribution.community_tax", "0.05");
    CHECK_PARAM(w, "mint.blocks_per_year", "1000");
    CHECK_PARAM(w, "emission.duration", "1000000");
    CHECK_PARAM(w, "slashing.signed_blocks_window", "64");
    CHECK_PARAM(w, "evidence.max_age_num_blocks", "7");
    CHECK_PARAM(w, "fees.gpu.min_base_fee", "2000");
    CHECK_PARAM(w, "fees.combine", "max");
    CHECK_PARAM(w, "fees.split", "0.5,0.2,0.2,0.1,0");
    opg_pricer_dimension_state ds;
    CHECK_OK(opg_pricer_dimension_get(NULL, &ds, w->pr, 0));
    CHECK_U256(ds.base_fee, "2000"); /* clamped up to the new floor */
    CHECK(w->host.a == 4 && w->host.b == 12);
    /* a new window: node 2's misses are forgotten, its bitmap is the new size */
    opg_signing_info si;
    opg_id two = id_n(2);
    CHECK_OK(opg_slasher_signing_info(&si, w->sl, &two));
    CHECK(si.missed_blocks == 0 && si.index_offset == 0);
    int bit = 1;
    CHECK_OK(opg_slasher_missed_bit(&bit, w->sl, &two, 63));
    CHECK(bit == 0);
    CHECK_RC(opg_slasher_missed_bit(&bit, w->sl, &two, 64), OPG_EINVAL);
    CHECK(opg_slasher_max_missed(w->sl) == 32);
    CHECK_OK(opg_slasher_check(w->sl));
    CHECK_OK(opg_splitter_check(w->sp));
    CHECK_OK(opg_registry_check(w->r));
}

/* (b) every namespace's change took effect, a later tally reads the staged ones */
static void test_every_namespace_known_answers(void)
{
    world w;
    CHECK_OK(world_new(&w));
    opg_signing_info si;
    opg_id two = id_n(2);
    CHECK_OK(opg_slasher_signing_info(&si, w.sl, &two));
    CHECK(si.missed_blocks == 2); /* there is liveness state for the window to drop */
    CHECK_OK(propose_all(&w));
    unsigned long before = w.fa.calls;
    ref_live[0] = w.fa.live_bytes;
    ref_blocks[0] = w.fa.live_blocks;
    CHECK_OK(opg_tally_end_block(w.t, 10, NOW));
    ref_allocs = w.fa.calls - before;
    ref_live[1] = w.fa.live_bytes;
    ref_blocks[1] = w.fa.live_blocks;
    check_outcomes(&w);
    check_values(&w);
    closed_text(ref_closed, sizeof ref_closed, w.t);
    hash_all(&ref_hashes, &w);
    world_free(&w);
    CHECK(w.fa.live_bytes == 0 && w.fa.live_blocks == 0);
    CHECK(ref_allocs > 10);
}

/* (a) every allocation of the end_block fails once: OPG_ENOMEM, nothing changed,
 * nothing leaked; the retry ends as the run that never failed */
static void test_end_block_allocation_failures(void)
{
    CHECK(ref_allocs > 0); /* the reference ran */
    unsigned long n, in_stage = 0, in_bitmaps = 0;
    for (n = 1;; n++) {
        world w;
        CHECK_OK(world_new(&w));
        CHECK_OK(propose_all(&w));
        hashes before, after;
        hash_all(&before, &w);
        host_params host0 = w.host;
        long long live = w.fa.live_bytes, blocks = w.fa.live_blocks;
        size_t events0 = 0, events = 0;
        opg_registry_events(w.r, &events0); /* the tally adds none, failing or not */
        w.fa.fail_at = w.fa.calls + n;
        int rc = opg_tally_end_block(w.t, 10, NOW);
        if (rc == OPG_OK) {
            CHECK(w.fa.failures == 0); /* past the last allocation of the call */
            world_free(&w);
            break;
        }
        CHECK_RC(rc, OPG_ENOMEM);
        CHECK(w.fa.failures == 1);
        const char *why = opg_tally_last_error(w.t);
        in_stage += strstr(why, "no memory to stage") != NULL;
        in_bitmaps += strstr(why, "bitmaps") != NULL;
        hash_all(&after, &w);
        for (int k = 0; k < N_HANDLES; k++)
            if (memcmp(before.h[k], after.h[k], 32) != 0) {
                printf("  allocation %lu of end_block failing changed the %s state\n", n,
                       HANDLE_NAMES[k]);
                CHECK(0);
            }
        CHECK(w.host.a == host0.a && w.host.b == host0.b);
        /* all it may keep is the capacity of its three output lists (records,
         * refunds, payload bytes), which the retry reuses */
        CHECK(w.fa.live_blocks - blocks <= 3);
        size_t closed = 1;
        opg_tally_closed_list(w.t, &closed);
        CHECK(closed == 0);
        opg_registry_events(w.r, &events);
        CHECK(events == events0);
        /* the failure point is used up: the same call again */
        CHECK_OK(opg_tally_end_block(w.t, 10, NOW));
        CHECK(live == ref_live[0] && blocks == ref_blocks[0]);
        opg_registry_events(w.r, &events);
        CHECK(events == events0);
        CHECK(w.fa.live_bytes == ref_live[1] && w.fa.live_blocks == ref_blocks[1]);
        char text[sizeof ref_closed];
        closed_text(text, sizeof text, w.t);
        CHECK(strcmp(text, ref_closed) == 0);
        hash_all(&after, &w);
        CHECK(memcmp(&after, &ref_hashes, sizeof after) == 0);
        check_outcomes(&w);
        check_values(&w);
        world_free(&w);
        CHECK(w.fa.live_bytes == 0 && w.fa.live_blocks == 0);
    }
    printf("  allocation failure points tried in end_block: %lu (the call makes %lu); %lu while "
           "staging, %lu for the slasher's new bitmaps\n",
           n - 1, ref_allocs, in_stage, in_bitmaps);
    CHECK(n - 1 == ref_allocs);
    /* a copy for each of the five library namespaces, the host's old values, and the
     * window's bitmaps (the slasher reserves exactly once) were all among them */
    CHECK(in_stage >= 6 && in_bitmaps == 1);
}

/* (b) a change refused by a rule: FAILED, and no namespace moved (the host was never
 * asked to set, since every library change is validated first) */
static void test_rule_refusal_touches_nothing(void)
{
    world w;
    CHECK_OK(world_new(&w));
    static const opg_param_change bad[] = {
        {"gov.quorum", "0.5"},
        {"staking.max_validators", "3"},
        {"distribution.community_tax", "0.1"},
        {"emission.half_life", "100000000"},
        {"slashing.signed_blocks_window", "200"}, /* would need new bitmaps */
        {"fees.gpu.min_base_fee", "5000"},        /* would clamp the fee */
        {"host.a", "3"},
        {"slashing.min_signed_per_window", "1.5"}, /* above 1 */
    };
    uint64_t id;
    CHECK_OK(submit(&id, w.t, OPG_PROPOSAL_PARAMS, 0, "10000000", bad, ARRAY_LEN(bad), T0));
    CHECK_OK(vote(w.t, id, 1, OPG_VOTE_YES));
    hashes before, after;
    hash_all(&before, &w);
    opg_tally_params gov0, gov1;
    opg_tally_params_get(&gov0, w.t);
    CHECK_OK(opg_tally_end_block(w.t, 10, NOW));
    size_t n;
    const opg_tally_closed *c = opg_tally_closed_list(w.t, &n);
    CHECK(n == 1 && c->outcome == OPG_TALLY_FAILED);
    CHECK(c->failed_change == 7 && c->failed_code == OPG_EINVAL);
    CHECK_U256(c->refunded, "10000000");
    hash_all(&after, &w);
    for (int k = 0; k < N_HANDLES - 1; k++) /* the tally's own state lost the proposal */
        CHECK(memcmp(before.h[k], after.h[k], 32) == 0);
    opg_tally_params_get(&gov1, w.t);
    CHECK(memcmp(&gov0, &gov1, sizeof gov0) == 0);
    CHECK(w.host.a == 1 && w.host.b == 5 && w.host.sets == 0);
    CHECK_PARAM(&w, "slashing.signed_blocks_window", "10");
    CHECK_PARAM(&w, "fees.gpu.min_base_fee", "0");
    world_free(&w);
    CHECK(w.fa.live_bytes == 0);
}

/* A host refusal is the host's deterministic answer: FAILED, its earlier set put
 * back, the library's staged changes dropped. */
static void test_host_refusal_touches_nothing(void)
{
    world w;
    CHECK_OK(world_new(&w));
    static const opg_param_change ch[] = {
        {"gov.quorum", "0.5"},
        {"slashing.signed_blocks_window", "200"},
        {"fees.gpu.min_base_fee", "5000"},
        {"host.b", "7"},
        {"host.a", "9"}, /* above b: the host refuses */
    };
    uint64_t id;
    CHECK_OK(submit(&id, w.t, OPG_PROPOSAL_PARAMS, 0, "10000000", ch, ARRAY_LEN(ch), T0));
    CHECK_OK(vote(w.t, id, 1, OPG_VOTE_YES));
    hashes before, after;
    hash_all(&before, &w);
    CHECK_OK(opg_tally_end_block(w.t, 10, NOW));
    size_t n;
    const opg_tally_closed *c = opg_tally_closed_list(w.t, &n);
    CHECK(n == 1 && c->outcome == OPG_TALLY_FAILED);
    CHECK(c->failed_change == 4 && c->failed_code == OPG_EINVAL);
    hash_all(&after, &w);
    for (int k = 0; k < N_HANDLES - 1; k++)
        CHECK(memcmp(before.h[k], after.h[k], 32) == 0);
    CHECK(w.host.a == 1 && w.host.b == 5 && w.host.sets == 2); /* b = 7, then 5 again */
    CHECK_PARAM(&w, "gov.quorum", "0.334");
    world_free(&w);
    CHECK(w.fa.live_bytes == 0);
}

/* A host that answers OPG_ENOMEM has run out of memory, which is no outcome: the
 * end_block fails with every namespace (the host's too) as it was; retried, it
 * ends as the run that never failed. */
static void test_host_out_of_memory_fails_the_call(void)
{
    CHECK(ref_allocs > 0);
    for (int at = 1; at <= 3; at++) { /* P1's two sets, then P4's one */
        world w;
        CHECK_OK(world_new(&w));
        CHECK_OK(propose_all(&w));
        hashes before, after;
        hash_all(&before, &w);
        w.host.enomem_at = at;
        CHECK_RC(opg_tally_end_block(w.t, 10, NOW), OPG_ENOMEM);
        hash_all(&after, &w);
        CHECK(memcmp(&before, &after, sizeof before) == 0);
        CHECK(w.host.a == 1 && w.host.b == 5);
        CHECK(w.host.sets == 2 * (at - 1)); /* each set made was set back */
        w.host.enomem_at = 0;
        CHECK_OK(opg_tally_end_block(w.t, 10, NOW));
        char text[sizeof ref_closed];
        closed_text(text, sizeof text, w.t);
        CHECK(strcmp(text, ref_closed) == 0);
        hash_all(&after, &w);
        CHECK(memcmp(&after, &ref_hashes, sizeof after) == 0);
        check_values(&w);
        world_free(&w);
        CHECK(w.fa.live_bytes == 0);
    }
}

/* The slasher takes each proposal as one step: a window changed by one proposal and
 * changed back by the next restarts the liveness state (as two setter calls would),
 * while there and back within one proposal does not. */
static void test_window_steps_per_proposal(void)
{
    for (int split = 0; split < 2; split++) {
        world w;
        CHECK_OK(world_new(&w));
        static const opg_param_change there[] = {{"slashing.signed_blocks_window", "20"}};
        static const opg_param_change back[] = {{"slashing.signed_blocks_window", "10"}};
        static const opg_param_change both[] = {{"slashing.signed_blocks_window", "20"},
                                                {"slashing.signed_blocks_window", "10"}};
        uint64_t id;
        if (split) {
            CHECK_OK(submit(&id, w.t, OPG_PROPOSAL_PARAMS, 0, "10000000", there, 1, T0));
            CHECK_OK(vote(w.t, id, 1, OPG_VOTE_YES));
            CHECK_OK(submit(&id, w.t, OPG_PROPOSAL_PARAMS, 0, "10000000", back, 1, T0));
            CHECK_OK(vote(w.t, id, 1, OPG_VOTE_YES));
        } else {
            CHECK_OK(submit(&id, w.t, OPG_PROPOSAL_PARAMS, 0, "10000000", both, 2, T0));
            CHECK_OK(vote(w.t, id, 1, OPG_VOTE_YES));
        }
        CHECK_OK(opg_tally_end_block(w.t, 10, NOW));
        size_t n;
        const opg_tally_closed *c = opg_tally_closed_list(w.t, &n);
        CHECK(n == (size_t)(1 + split) && c[0].outcome == OPG_TALLY_PASSED &&
              c[n - 1].outcome == OPG_TALLY_PASSED);
        CHECK_PARAM(&w, "slashing.signed_blocks_window", "10");
        opg_signing_info si;
        opg_id two = id_n(2);
        CHECK_OK(opg_slasher_signing_info(&si, w.sl, &two));
        CHECK(si.missed_blocks == (split ? 0u : 2u));
        CHECK_OK(opg_slasher_check(w.sl));
        world_free(&w);
    }
}

/* The handles' own setters are the same stage and commit: atomic, and a refused
 * bound leaves the pricer's fees unclamped. */
static void test_setters_share_the_path(void)
{
    world w;
    CHECK_OK(world_new(&w));
    hashes before, after;
    hash_all(&before, &w);
    CHECK_RC(opg_pricer_param_set(w.pr, "fees.gpu.min_base_fee", "x"), OPG_EPARSE);
    CHECK_RC(opg_slasher_param_set(w.sl, "slashing.signed_blocks_window", "0"), OPG_EINVAL);
    CHECK_RC(opg_splitter_param_set(w.sp, "mint.inflation_min", "0.5"), OPG_EINVAL);
    CHECK_RC(opg_registry_param_set(w.r, "staking.nope", "1"), OPG_EKEY);
    CHECK_RC(opg_tally_param_set(w.t, "gov.threshold", "0.9"), OPG_EINVAL);
    /* a new window with no memory for its bitmaps */
    w.fa.fail_at = w.fa.calls + 1;
    CHECK_RC(opg_slasher_param_set(w.sl, "slashing.signed_blocks_window", "30"), OPG_ENOMEM);
    w.fa.fail_at = 0;
    hash_all(&after, &w);
    CHECK(memcmp(&before, &after, sizeof before) == 0);
    CHECK_OK(opg_pricer_param_set(w.pr, "fees.gpu.min_base_fee", "1500"));
    opg_pricer_dimension_state ds;
    CHECK_OK(opg_pricer_dimension_get(NULL, &ds, w.pr, 0));
    CHECK_U256(ds.base_fee, "1500");
    CHECK_OK(opg_slasher_param_set(w.sl, "slashing.signed_blocks_window", "30"));
    CHECK(opg_slasher_max_missed(w.sl) == 15);
    world_free(&w);
    CHECK(w.fa.live_bytes == 0 && w.fa.live_blocks == 0);
}

int main(void)
{
    RUN(test_every_namespace_known_answers);
    RUN(test_end_block_allocation_failures);
    RUN(test_rule_refusal_touches_nothing);
    RUN(test_host_refusal_touches_nothing);
    RUN(test_host_out_of_memory_fails_the_call);
    RUN(test_window_steps_per_proposal);
    RUN(test_setters_share_the_path);
    return harness_done();
}
