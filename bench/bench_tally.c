/*
 * bench_tally.c - the governance tally at a million delegations.
 *
 * A registry of 1,000 nodes (all bonded) and 1,000,000 delegators with one
 * delegation each, built through the public API, then a proposal on which 500,000
 * of those delegators vote (three in four plain, one in four split over two to four
 * options) and every node's operator votes too.
 *
 *   result tally.vote_ns        mean cost of casting one of those 501,000 votes
 *   result tally.close_1m_ms    the end_block that tallies the proposal (sorting the
 *                               votes, walking every voter's delegations, the node
 *                               pass, the outcome, the refunds)
 *   result tally.close_1m_cpu_ms  the same, in CPU time of the process (steadier than
 *                               wall time when the machine is shared)
 *   result tally.preview_1m_ms  the same tally as a read-only preview
 *   result tally.state_hash_ms  state hash of the tally holding those votes (radix
 *                               sort + BLAKE2b of ~36 MB)
 *   result tally.bytes_per_vote memory of the vote store per vote (records + index)
 *
 * Delegator ids are random 32-byte strings (accounts are hashes), so the vote index
 * and the registry's delegator index see realistic keys. Each figure is the median
 * of ROUNDS proposals voted and closed one after the other on the same registry.
 */
#include "bench.h"

#include "opg.h"

/* sizes: --nodes, --delegations, --votes on the command line */
static int n_nodes = 1000, n_delegators = 1000000, n_voters = 500000;
#define ROUNDS 3

/* CPU time of this process in ms: steadier than wall time on a shared machine. */
static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void rand_id(bench_rng *g, opg_id *id)
{
    for (int i = 0; i < 4; i++) {
        uint64_t v = bench_rand(g);
        memcpy(id->bytes + 8 * i, &v, 8);
    }
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "%s: %s\n", what, opg_errname(rc));
    exit(1);
}

static int size_arg(int argc, char **argv, const char *name, int def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return atoi(argv[i + 1]);
    return def;
}

int main(int argc, char **argv)
{
    n_nodes = size_arg(argc, argv, "--nodes", n_nodes);
    n_delegators = size_arg(argc, argv, "--delegations", n_delegators);
    n_voters = size_arg(argc, argv, "--votes", n_voters);
    if (n_nodes < 1 || n_delegators < 2 || n_voters < 1 || n_voters > n_delegators / 2) {
        fprintf(stderr, "bench_tally: --votes is at most half of --delegations (every other delegator votes)\n");
        return 2;
    }
    bench_rng g = {UINT64_C(0x7a11e5)};
    opg_registry_params rp;
    opg_registry_params_init(&rp);
    rp.max_validators = n_nodes;
    opg_u256 genesis;
    opg_u256_from_string(&genesis, "1000000000000000000000000000000000");
    opg_registry *r;
    int rc = opg_registry_new(&r, &rp, &genesis, NULL);
    if (rc)
        die("registry_new", rc);

    opg_id *ops = malloc(n_nodes * sizeof *ops);
    opg_id *dtors = malloc((size_t)n_delegators * sizeof *dtors);
    if (!ops || !dtors)
        die("malloc", OPG_ENOMEM);
    uint64_t t0 = bench_now_ns();
    for (int i = 0; i < n_nodes; i++) {
        opg_node_create c;
        memset(&c, 0, sizeof c);
        rand_id(&g, &c.operator_id);
        rand_id(&g, &c.consensus_key); /* (keeps the id stream of earlier runs) */
        c.consensus_key = bench_cons_key((uint64_t)i);
        ops[i] = c.operator_id;
        c.roles = OPG_ROLE_ALL;
        opg_dec_from_string(&c.commission_rate, "0.05");
        opg_dec_from_string(&c.commission_max_rate, "0.2");
        opg_dec_from_string(&c.commission_max_change_rate, "0.01");
        opg_u256_from_u64(&c.min_self_delegation, 1);
        /* 1,000..2,000 OPG of self-bond */
        opg_u256 self;
        opg_u256_from_u64(&self, 1000 + bench_rand(&g) % 1000);
        opg_u256 e18;
        opg_u256_from_u64(&e18, UINT64_C(1000000000000000000));
        opg_u256_mul(&c.self_delegation, &self, &e18);
        if ((rc = opg_registry_node_create(r, &c, 1, 1000)) != OPG_OK)
            die("node_create", rc);
    }
    for (int i = 0; i < n_delegators; i++) {
        rand_id(&g, &dtors[i]);
        /* 1..1,000 OPG plus odd base units, so exchange rates are not round */
        opg_u256 amt;
        opg_u256_from_u64(&amt, (1 + bench_rand(&g) % 1000) * UINT64_C(1000000000000000000) +
                                    bench_rand(&g) % 1000000007);
        if ((rc = opg_registry_delegate(NULL, r, &dtors[i], &ops[bench_rand(&g) % n_nodes], &amt, 1,
                                        1000)) != OPG_OK)
            die("delegate", rc);
        if (i % 4096 == 0)
            bench_progress("delegations", (uint64_t)i, n_delegators);
    }
    bench_progress_end("delegations");
    if ((rc = opg_registry_end_block(r, 2, 1000)) != OPG_OK)
        die("registry end_block", rc);
    /* a slash on every tenth node: tokens no longer equal shares there */
    for (int i = 0; i < n_nodes; i += 10) {
        opg_node_info ni;
        opg_registry_node_get(&ni, r, &ops[i]);
        opg_dec f;
        opg_dec_from_string(&f, "0.0123456789");
        if ((rc = opg_registry_slash(NULL, r, &ops[i], 2, ni.power, &f, 3, 1000)) != OPG_OK)
            die("slash", rc);
    }
    double setup_s = (double)(bench_now_ns() - t0) / 1e9;

    opg_tally *t;
    if ((rc = opg_tally_new(&t, r, NULL, NULL)) != OPG_OK)
        die("tally_new", rc);

    /* the votes to cast, prepared outside the timed loop */
    typedef struct cast {
        const opg_id *voter;
        opg_weighted_vote o[4];
        size_t n;
    } cast;
    size_t n_cast = n_voters + n_nodes;
    cast *casts = malloc(n_cast * sizeof *casts);
    if (!casts)
        die("malloc", OPG_ENOMEM);
    for (size_t i = 0; i < n_cast; i++) {
        cast *c = &casts[i];
        c->voter = i < (size_t)n_voters ? &dtors[i * 2] : &ops[i - (size_t)n_voters]; /* every other delegator */
        uint64_t x = bench_rand(&g);
        if (x % 4) {
            c->n = 1;
            c->o[0].option = x % 10 < 6 ? OPG_VOTE_YES : x % 10 < 8 ? OPG_VOTE_NO
                                                     : x % 10 < 9 ? OPG_VOTE_ABSTAIN
                                                                  : OPG_VOTE_NO_WITH_VETO;
            opg_dec_from_u64(&c->o[0].weight, 1);
        } else {
            c->n = 2 + (size_t)(bench_rand(&g) % 3);
            uint64_t left = UINT64_C(1000000000000000000);
            for (size_t k = 0; k < c->n; k++) {
                uint64_t w = k + 1 == c->n ? left : left / 2 - bench_rand(&g) % 1000;
                left -= w;
                memset(&c->o[k].weight, 0, sizeof c->o[k].weight);
                c->o[k].weight.limb[0] = w;
                c->o[k].option = (opg_vote_option)(1 + k);
            }
        }
    }

    /* ROUNDS proposals, one after the other: cast every vote, preview, hash, close */
    double vote_v[ROUNDS], close_v[ROUNDS], close_cpu_v[ROUNDS], preview_v[ROUNDS],
        hash_v[ROUNDS];
    double bytes_per_vote = 0;
    opg_time now = 1000;
    opg_tally_closed first;
    opg_tally_preview_result pv;
    memset(&first, 0, sizeof first);
    for (int round = 0; round < ROUNDS; round++) {
        opg_proposal_submit s;
        memset(&s, 0, sizeof s);
        s.proposer = dtors[0];
        s.kind = OPG_PROPOSAL_TEXT;
        opg_u256_from_u64(&s.initial_deposit, 10000000);
        s.title = "bench";
        uint64_t id;
        if ((rc = opg_tally_submit(&id, t, &s, now)) != OPG_OK)
            die("submit", rc);

        uint64_t rss0 = bench_rss_bytes();
        uint64_t v0 = bench_now_ns();
        for (size_t i = 0; i < n_cast; i++)
            if ((rc = opg_tally_vote(t, id, casts[i].voter, casts[i].o, casts[i].n)) != OPG_OK)
                die("vote", rc);
        vote_v[round] = (double)(bench_now_ns() - v0) / (double)n_cast;
        uint64_t rss1 = bench_rss_bytes();
        if (round == 0 && rss1 > rss0)
            bytes_per_vote = (double)(rss1 - rss0) / (double)n_cast;

        uint64_t p0 = bench_now_ns();
        if ((rc = opg_tally_preview(&pv, t, id)) != OPG_OK)
            die("preview", rc);
        preview_v[round] = (double)(bench_now_ns() - p0) / 1e6;

        uint8_t h[32];
        uint64_t h0 = bench_now_ns();
        if ((rc = opg_tally_state_hash(h, t)) != OPG_OK)
            die("state_hash", rc);
        hash_v[round] = (double)(bench_now_ns() - h0) / 1e6;

        now += 2 * 24 * 3600;
        double cpu0 = cpu_ms();
        uint64_t c0 = bench_now_ns();
        if ((rc = opg_tally_end_block(t, 3, now)) != OPG_OK)
            die("end_block", rc);
        close_v[round] = (double)(bench_now_ns() - c0) / 1e6;
        close_cpu_v[round] = cpu_ms() - cpu0;
        size_t n_closed;
        const opg_tally_closed *closed = opg_tally_closed_list(t, &n_closed);
        if (n_closed != 1 || closed->outcome != pv.outcome)
            die("close", OPG_EINVARIANT);
        if (round == 0)
            first = *closed;
        else if (memcmp(&first.counts, &closed->counts, sizeof first.counts) != 0)
            die("rounds disagree", OPG_EINVARIANT);
    }

    char yes[OPG_U256_STRING_MAX], no[OPG_U256_STRING_MAX], bonded[OPG_U256_STRING_MAX];
    opg_u256_to_string(yes, sizeof yes, NULL, &first.counts.yes);
    opg_u256_to_string(no, sizeof no, NULL, &first.counts.no);
    opg_u256_to_string(bonded, sizeof bonded, NULL, &pv.bonded_total);
    printf("setup: %d nodes, %d delegations in %.1f s; %zu votes per proposal, %d rounds "
           "(medians); outcome %d, yes %s, no %s of bonded %s\n",
           n_nodes, n_delegators, setup_s, n_cast, ROUNDS, (int)first.outcome, yes, no, bonded);
    bench_table_header("governance tally");
    bench_result("tally.vote_ns", bench_median(vote_v, ROUNDS), "ns");
    bench_result("tally.close_1m_ms", bench_median(close_v, ROUNDS), "ms");
    bench_result("tally.close_1m_cpu_ms", bench_median(close_cpu_v, ROUNDS), "ms");
    bench_result("tally.preview_1m_ms", bench_median(preview_v, ROUNDS), "ms");
    bench_result("tally.state_hash_ms", bench_median(hash_v, ROUNDS), "ms");
    if (bytes_per_vote > 0)
        bench_result("tally.bytes_per_vote", bytes_per_vote, "bytes");

    opg_tally_free(t);
    opg_registry_free(r);
    free(casts);
    free(dtors);
    free(ops);
    return 0;
}
