/*
 * bench_registry.c - the stake registry at scale: 1,000 nodes and 1,000,000
 * delegations from distinct delegators.
 *
 *   result registry.delegate_ns           mean ns per opg_registry_delegate while filling
 *                                         (every call creates a delegation record)
 *   result registry.bytes_per_delegation  resident memory growth over the fill / delegations
 *   result registry.end_block_us          opg_registry_end_block with 1,000 nodes and
 *                                         nothing maturing (median of ROUNDS calls)
 *   result registry.save_mb_s             saved-state bytes / (one opg_registry_save +
 *                                         one opg_registry_state_hash), best of SAVES
 *
 * and, after those, with the same registry:
 *
 *   result registry.undelegate_ns         mean ns per opg_registry_undelegate over UNBONDS
 *                                         calls, 100 a block: the unbonding queue grows
 *                                         to UNBONDS entries
 *   result registry.redelegate_ns         the same for opg_registry_redelegate (bonded
 *                                         sources: each call queues an entry)
 *
 * Amounts are realistic: self-delegations of 10,000..20,000 OPG, delegations of
 * 1..1,000 OPG (1 OPG = 10^18 base units), default parameters (power_reduction 10^6)
 * except max_validators = 1,000, so that every node is bonded. Delegators are spread
 * over the nodes at random. Runs in several seconds and needs about 300 MB.
 */
#include "bench.h"

#include "opg.h"

#define NODES 1000
#define DELEGATIONS 1000000
#define ROUNDS 51
#define SAVES 3
#define UNBONDS 100000

static opg_id id_of(uint64_t tag, uint64_t i)
{
    /* spread the bytes like real addresses: a mixed 64-bit value in every 8 bytes */
    bench_rng r = {tag * UINT64_C(0x100000001b3) ^ i};
    opg_id id;
    for (int w = 0; w < 4; w++) {
        uint64_t v = bench_rand(&r);
        for (int b = 0; b < 8; b++)
            id.bytes[w * 8 + b] = (uint8_t)(v >> (8 * b));
    }
    return id;
}

/* whole OPG times 10^18 */
static opg_u256 opg_amount(uint64_t whole)
{
    opg_u256 a, p, out;
    opg_u256_from_u64(&a, whole);
    opg_u256_from_u64(&p, UINT64_C(1000000000000000000));
    if (opg_u256_mul(&out, &a, &p) != OPG_OK)
        abort();
    return out;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_registry: %s: %s\n", what, opg_errname(rc));
    exit(1);
}

int main(void)
{
    bench_rng rng = {UINT64_C(0x5eed0001)};
    const bench_rng pick0 = {UINT64_C(0x5eed0002)}; /* node of each delegation, replayable */
    bench_rng pick = pick0;
    opg_registry *r = NULL;
    opg_registry_params params;
    opg_registry_params_init(&params);
    params.max_validators = NODES;
    opg_u256 genesis = opg_amount(UINT64_C(1000000000)); /* 10^9 OPG */
    int rc = opg_registry_new(&r, &params, &genesis, NULL);
    if (rc)
        die("new", rc);

    static opg_id ops[NODES];
    for (uint64_t i = 0; i < NODES; i++) {
        opg_node_create c;
        memset(&c, 0, sizeof c);
        c.operator_id = ops[i] = id_of(1, i);
        c.consensus_key = bench_cons_key(i);
        c.roles = OPG_ROLE_ALL;
        opg_dec_from_string(&c.commission_rate, "0.05");
        opg_dec_from_string(&c.commission_max_rate, "0.2");
        opg_dec_from_string(&c.commission_max_change_rate, "0.01");
        c.min_self_delegation = opg_amount(1);
        c.self_delegation = opg_amount(10000 + bench_rand(&rng) % 10000);
        if ((rc = opg_registry_node_create(r, &c, 1, 1700000000)))
            die("node_create", rc);
    }
    if ((rc = opg_registry_end_block(r, 1, 1700000000)))
        die("end_block", rc);

    /* fill: one new delegation per call */
    uint64_t rss0 = bench_rss_bytes();
    uint64_t total_ns = 0;
    for (uint64_t i = 0; i < DELEGATIONS; i++) {
        opg_id who = id_of(3, i);
        const opg_id *node = &ops[bench_rand(&pick) % NODES];
        opg_u256 amount = opg_amount(1 + bench_rand(&rng) % 1000);
        uint64_t t0 = bench_now_ns();
        rc = opg_registry_delegate(NULL, r, &who, node, &amount, 2, 1700000005);
        total_ns += bench_now_ns() - t0;
        if (rc)
            die("delegate", rc);
        if ((i & 0xffff) == 0)
            bench_progress("delegations", i, DELEGATIONS);
    }
    bench_progress_end("delegations");
    uint64_t rss1 = bench_rss_bytes();
    if (opg_registry_delegation_count(r) != DELEGATIONS + NODES)
        die("delegation count", OPG_EINVARIANT);

    /* end_block: the first settles the new powers, then nothing changes */
    if ((rc = opg_registry_end_block(r, 2, 1700000005)))
        die("end_block", rc);
    double eb[ROUNDS];
    for (int k = 0; k < ROUNDS; k++) {
        bench_timer t;
        bench_timer_start(&t);
        rc = opg_registry_end_block(r, 3 + (opg_height)k, 1700000010 + k);
        eb[k] = (double)bench_timer_ns(&t) / 1000.0;
        size_t n_events;
        opg_registry_events(r, &n_events);
        if (rc || n_events)
            die("quiet end_block", rc ? rc : OPG_EINVARIANT);
    }

    /* save + state hash */
    size_t len = 0;
    rc = opg_registry_save(NULL, 0, &len, r);
    if (rc != OPG_EBUFS)
        die("save size", rc);
    uint8_t *buf = malloc(len);
    if (!buf)
        die("malloc", OPG_ENOMEM);
    double best_save = 0, best_hash = 0, best = 0;
    for (int k = 0; k < SAVES; k++) {
        uint8_t h[32];
        bench_timer t;
        bench_timer_start(&t);
        if ((rc = opg_registry_save(buf, len, &len, r)))
            die("save", rc);
        double s = (double)bench_timer_ns(&t);
        bench_timer_start(&t);
        if ((rc = opg_registry_state_hash(h, r)))
            die("state_hash", rc);
        double hs = (double)bench_timer_ns(&t);
        bench_sink += h[0];
        if (k == 0 || s + hs < best) {
            best = s + hs;
            best_save = s;
            best_hash = hs;
        }
    }

    /* undelegations, then redelegations, 100 a block (nothing matures: 21 days) */
    pick = pick0;
    opg_u256 one = opg_amount(1);
    uint64_t und_ns = 0, red_ns = 0;
    for (uint64_t i = 0; i < 2 * UNBONDS; i++) {
        opg_id who = id_of(3, i);
        uint64_t n = bench_rand(&pick) % NODES;
        opg_height h = 100 + i / 100;
        opg_time t = 1700001000 + (opg_time)(i / 100) * 5;
        uint64_t t0 = bench_now_ns();
        if (i < UNBONDS)
            rc = opg_registry_undelegate(NULL, NULL, r, &who, &ops[n], &one, h, t);
        else
            rc = opg_registry_redelegate(NULL, r, &who, &ops[n], &ops[(n + 1) % NODES], &one, h, t);
        uint64_t dt = bench_now_ns() - t0;
        if (rc)
            die(i < UNBONDS ? "undelegate" : "redelegate", rc);
        *(i < UNBONDS ? &und_ns : &red_ns) += dt;
    }

    char title[160];
    snprintf(title, sizeof title,
             "registry: %d nodes, %d delegations (saved state %.1f MB: save %.0f ms, hash %.0f ms)",
             NODES, DELEGATIONS, (double)len / 1e6, best_save / 1e6, best_hash / 1e6);
    bench_table_header(title);
    bench_result("registry.delegate_ns", (double)total_ns / DELEGATIONS, "ns");
    bench_result("registry.bytes_per_delegation",
                 (double)(rss1 > rss0 ? rss1 - rss0 : 0) / DELEGATIONS, "bytes");
    bench_result("registry.end_block_us", bench_median(eb, ROUNDS), "us");
    bench_result("registry.save_mb_s", (double)len / 1e6 / (best / 1e9), "MB/s");
    bench_result("registry.undelegate_ns", (double)und_ns / UNBONDS, "ns");
    bench_result("registry.redelegate_ns", (double)red_ns / UNBONDS, "ns");
    free(buf);
    opg_registry_free(r);
    return 0;
}
