/*
 * bench_splitter.c - F1 reward distribution at scale.
 *
 *   result splitter.block_us              one block's allocation to every node
 *   result splitter.withdraw_ns           mean withdraw of one delegation (no slashes)
 *   result splitter.naive_block_us        a push distribution crediting every delegation
 *   result splitter.vs_naive              naive per-block cost / F1 per-block cost
 *   result splitter.bytes_per_delegation  resident memory per delegation, splitter attached
 *   result splitter.peak_rss_mb           peak resident memory of the run
 *
 * Sizes: --nodes N (default 1000), --delegations M (default 1000000), --blocks B
 * (default 100 allocation blocks timed), --withdrawals W (default 100000).
 */
#include "bench.h"

#include "opg.h"

#include <stdlib.h>
#include <string.h>

static opg_id make_id(uint64_t kind, uint64_t n)
{
    opg_id id;
    memset(&id, 0, sizeof id);
    for (int i = 0; i < 8; i++) {
        id.bytes[i] = (uint8_t)(kind >> (56 - 8 * i));
        id.bytes[24 + i] = (uint8_t)(n >> (56 - 8 * i));
    }
    /* spread the bytes a little, as real addresses are */
    id.bytes[12] = (uint8_t)(n * 2654435761u >> 24);
    return id;
}

static uint64_t arg(int argc, char **argv, const char *name, uint64_t def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return strtoull(argv[i + 1], NULL, 10);
    return def;
}

int main(int argc, char **argv)
{
    uint64_t nodes = arg(argc, argv, "--nodes", 1000);
    uint64_t dels = arg(argc, argv, "--delegations", 1000000);
    uint64_t blocks = arg(argc, argv, "--blocks", 100);
    uint64_t withdrawals = arg(argc, argv, "--withdrawals", 100000);
    if (withdrawals > dels)
        withdrawals = dels;

    bench_table_header("reward splitter (F1)");
    uint64_t rss0 = bench_rss_bytes();
    opg_registry *r;
    opg_registry_params rp;
    opg_registry_params_init(&rp);
    rp.max_validators = (uint32_t)nodes;
    opg_u256 supply;
    opg_u256_from_string(&supply, "1000000000000000000000000000000");
    if (opg_registry_new(&r, &rp, &supply, NULL))
        return 1;
    opg_splitter *s;
    if (opg_splitter_new(&s, r, NULL, NULL))
        return 1;
    for (uint64_t i = 0; i < nodes; i++) {
        opg_node_create c;
        memset(&c, 0, sizeof c);
        c.operator_id = make_id(1, i);
        c.consensus_key = bench_cons_key(i);
        c.roles = OPG_ROLE_ALL;
        opg_dec_from_string(&c.commission_rate, "0.05");
        opg_dec_from_string(&c.commission_max_rate, "0.2");
        opg_dec_from_string(&c.commission_max_change_rate, "0.01");
        opg_u256_from_u64(&c.min_self_delegation, 1);
        opg_u256_from_string(&c.self_delegation, "1000000000000000000000");
        if (opg_registry_node_create(r, &c, 1, 5))
            return 1;
    }
    uint64_t rss1 = bench_rss_bytes();
    bench_rng rng = {7};
    for (uint64_t i = 0; i < dels; i++) {
        opg_id d = make_id(3, i), op = make_id(1, i % nodes);
        opg_u256 amt;
        opg_u256_from_u64(&amt, 1000000000000000000ull + bench_rand(&rng) % 1000000000000000000ull);
        if (opg_registry_delegate(NULL, r, &d, &op, &amt, 1, 5))
            return 1;
        if (i % 65536 == 0)
            bench_progress("delegating", i, dels);
    }
    bench_progress_end("delegating");
    uint64_t rss2 = bench_rss_bytes();
    opg_registry_end_block(r, 1, 5);

    /* the commit of every node, as the consensus engine reports it */
    opg_commit_vote *votes = calloc(nodes, sizeof *votes);
    for (uint64_t i = 0; i < nodes; i++) {
        opg_node_info ni;
        opg_id op = make_id(1, i);
        opg_registry_node_get(&ni, r, &op);
        votes[i].consensus_key = ni.consensus_key;
        votes[i].power = ni.power;
        opg_dec_from_u64(&votes[i].score, 1);
    }

    /* F1 per block: mint, allocate to every node */
    uint64_t total = 0;
    for (uint64_t b = 0; b < blocks; b++) {
        opg_u256 fees;
        opg_u256_from_u64(&fees, 1000000000000000000ull);
        bench_timer t;
        bench_timer_start(&t);
        opg_splitter_mint(NULL, s, 2 + b, 10 + 5 * (opg_time)b);
        opg_splitter_add_fees(s, &fees);
        opg_splitter_allocate(s, votes, nodes, 2 + b, 10 + 5 * (opg_time)b);
        total += bench_timer_ns(&t);
    }
    double block_us = (double)total / (double)blocks / 1000.0;

    /* naive push: every block, credit each delegation its share directly (same
     * arithmetic: a node's per-token reward times the delegation's stake) */
    opg_dec *credit = calloc(dels, sizeof *credit);
    opg_dec *stake = calloc(dels, sizeof *stake);
    for (uint64_t i = 0; i < dels; i++)
        opg_dec_from_u64(&stake[i], 1 + i % 1000);
    opg_dec per_token;
    opg_dec_from_string(&per_token, "0.000001234567890123");
    uint64_t naive_blocks = blocks < 5 ? blocks : 5;
    bench_timer t;
    bench_timer_start(&t);
    for (uint64_t b = 0; b < naive_blocks; b++)
        for (uint64_t i = 0; i < dels; i++) {
            opg_dec x;
            opg_dec_mul_truncate(&x, &per_token, &stake[i]);
            opg_dec_add(&credit[i], &credit[i], &x);
        }
    double naive_us = (double)bench_timer_ns(&t) / (double)(naive_blocks ? naive_blocks : 1) / 1000.0;
    bench_sink += credit[dels / 2].limb[0];
    free(credit);
    free(stake);

    /* withdrawals spread over the delegations */
    bench_timer_start(&t);
    for (uint64_t i = 0; i < withdrawals; i++) {
        uint64_t k = (i * 2654435761u) % dels;
        opg_id d = make_id(3, k), op = make_id(1, k % nodes);
        opg_u256 paid;
        if (opg_splitter_withdraw_rewards(&paid, s, &d, &op, 10000, 60000))
            return 1;
    }
    double withdraw_ns = (double)bench_timer_ns(&t) / (double)(withdrawals ? withdrawals : 1);
    if (opg_splitter_check(s) != OPG_OK) {
        fprintf(stderr, "conservation check failed: %s\n", opg_splitter_last_error(s));
        return 1;
    }

    printf("  %llu nodes, %llu delegations, %llu blocks, %llu withdrawals\n",
           (unsigned long long)nodes, (unsigned long long)dels, (unsigned long long)blocks,
           (unsigned long long)withdrawals);
    bench_result("splitter.block_us", block_us, "us");
    bench_result("splitter.withdraw_ns", withdraw_ns, "ns");
    bench_result("splitter.naive_block_us", naive_us, "us");
    bench_result("splitter.vs_naive", naive_us / block_us, "x");
    bench_result("splitter.bytes_per_delegation", dels ? (double)(rss2 - rss1) / (double)dels : 0, "bytes");
    bench_result("splitter.peak_rss_mb", (double)bench_peak_rss_bytes() / 1048576.0, "MB");
    (void)rss0;
    free(votes);
    opg_splitter_free(s);
    opg_registry_free(r);
    return 0;
}
