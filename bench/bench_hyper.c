/*
 * bench_hyper.c - Hyperstaking epochs at scale.
 *
 *   result hyper.epoch_ms          one epoch over every position (median of the timed epochs)
 *   result hyper.moves_per_epoch   moves reported by a timed epoch (compounds, redelegations, skips)
 *   result hyper.first_epoch_ms    the first epoch, untimed in the median: the scores the
 *                                  host passes for the first time move every position
 *   result hyper.deposit_us        mean deposit of one position (targets + its delegations)
 *
 * Sizes: --positions P (default 10000), --nodes N (default 100), --epochs E (default
 * 5 timed epochs), --blocks B (default 20 blocks of minting and allocation before
 * each epoch), --drift D (default 10: each node's score moves by up to +-D/1000
 * around its base score between epochs). Every position follows the performance
 * policy with auto-compound on and a rebalance threshold of 0.02. --unbonding S
 * (default 21 days) sets staking.unbonding_time: with a short one, redelegation
 * entries mature between epochs and the registry's queues stay short.
 *
 *   result hyper.epoch_max_ms      the slowest timed epoch
 *   result hyper.redelegation_queue  redelegation entries pending after the last epoch
 *
 * Vaults (a second world, after the positions): --vaults V (default 10000) vaults,
 * each FIXED over 5 of the 100 nodes, auto-compounding, with --holders H (default
 * 100000) share holders spread over them (H / V each, every one a deposit), then
 * blocks of rewards and --epochs timed epochs over them.
 *
 *   result hyper.vault_epoch_ms      one epoch over every vault (median), with the
 *                                    share price of each reported
 *   result hyper.vault_deposit_us    mean vault deposit (price, shares, delegations)
 *   result hyper.share_transfer_ns   mean share transfer between two holders of a vault
 *   result hyper.vault_redeem_us     mean redeem (a claim through unbonding)
 *   result hyper.vault_end_block_us  hyper's end_block of a block in which no claim
 *                                    matures, with every redeem's claim pending
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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int vault_bench(uint64_t vaults, uint64_t holders, uint64_t nodes, uint64_t epochs, uint64_t blocks)
{
    bench_table_header("hyperstaking vaults");
    opg_registry *r;
    opg_registry_params rp;
    opg_registry_params_init(&rp);
    rp.max_validators = (uint32_t)nodes;
    opg_u256 supply;
    opg_u256_from_string(&supply, "1000000000000000000000000000000");
    if (opg_registry_new(&r, &rp, &supply, NULL))
        return 1;
    opg_splitter *s;
    opg_hyper *h;
    if (opg_splitter_new(&s, r, NULL, NULL) || opg_hyper_new(&h, r, s, NULL, NULL))
        return 1;
    bench_rng rng = {29};
    for (uint64_t i = 0; i < nodes; i++) {
        opg_node_create c;
        memset(&c, 0, sizeof c);
        c.operator_id = make_id(1, i);
        c.consensus_key = bench_cons_key(i);
        c.roles = OPG_ROLE_ALL;
        c.commission_rate.limb[0] = 10000000000000000ull * (1 + i % 20);
        opg_dec_from_string(&c.commission_max_rate, "0.5");
        opg_dec_from_string(&c.commission_max_change_rate, "0.01");
        opg_u256_from_u64(&c.min_self_delegation, 1);
        opg_u256_from_u64(&c.self_delegation, 1000000000000000000ull * (1000 + bench_rand(&rng) % 1000));
        if (opg_registry_node_create(r, &c, 1, 5))
            return 1;
    }
    opg_registry_end_block(r, 1, 5);
    uint64_t per = vaults ? (holders + vaults - 1) / vaults : 0, dep_ns = 0, deposits = 0;
    for (uint64_t i = 0; i < vaults; i++) {
        opg_hyper_weight w[5];
        for (int k = 0; k < 5; k++) {
            w[k].node = make_id(1, (i * 7 + (uint64_t)k * 13) % nodes);
            opg_dec_from_u64(&w[k].weight, 1 + (uint64_t)k);
        }
        opg_hyper_policy p;
        memset(&p, 0, sizeof p);
        p.kind = OPG_HYPER_FIXED;
        p.weights = w;
        p.n_weights = nodes >= 5 ? 5 : (size_t)nodes;
        opg_dec_from_string(&p.cap, "0.4");
        p.max_nodes = 5;
        p.auto_compound = 1;
        opg_dec_from_string(&p.rebalance_threshold, "0.02");
        opg_id v = make_id(5, i);
        if (opg_hyper_vault_create(h, &v, &p, 2)) {
            fprintf(stderr, "vault_create: %s\n", opg_hyper_last_error(h));
            return 1;
        }
        for (uint64_t k = 0; k < per && deposits < holders; k++, deposits++) {
            opg_id who = make_id(6, i * per + k);
            opg_u256 amt;
            opg_u256_from_u64(&amt, 1000000000000000000ull * (1 + bench_rand(&rng) % 1000));
            bench_timer t;
            bench_timer_start(&t);
            if (opg_hyper_vault_deposit(NULL, h, &v, &who, &amt, 2, 10)) {
                fprintf(stderr, "vault_deposit: %s\n", opg_hyper_last_error(h));
                return 1;
            }
            dep_ns += bench_timer_ns(&t);
        }
        if (i % 256 == 0)
            bench_progress("vaults", i, vaults);
    }
    bench_progress_end("vaults");
    opg_registry_end_block(r, 2, 10);

    /* transfers: a holder of a vault to another of the same vault */
    uint64_t n_tr = holders < 100000 ? holders : 100000, tr_ns = 0;
    for (uint64_t j = 0; j < n_tr && per > 1; j++) {
        uint64_t i = bench_rand(&rng) % vaults, a = bench_rand(&rng) % per, b = (a + 1) % per;
        opg_id v = make_id(5, i), from = make_id(6, i * per + a), to = make_id(6, i * per + b);
        opg_u256 sh;
        opg_u256_from_u64(&sh, 1000);
        bench_timer t;
        bench_timer_start(&t);
        int rc = opg_hyper_vault_transfer(h, &v, &from, &to, &sh);
        tr_ns += bench_timer_ns(&t);
        if (rc && rc != OPG_EUNDERFLOW)
            return 1;
    }

    opg_commit_vote *votes = calloc(nodes, sizeof *votes);
    double *ms = calloc(epochs, sizeof *ms);
    opg_height height = 3;
    opg_time now = 15;
    for (uint64_t e = 0; e < epochs; e++) {
        for (uint64_t b = 0; b < blocks; b++, height++, now += 5) {
            for (uint64_t i = 0; i < nodes; i++) {
                opg_node_info ni;
                opg_id op = make_id(1, i);
                opg_registry_node_get(&ni, r, &op);
                votes[i].consensus_key = ni.consensus_key;
                votes[i].power = ni.power;
                opg_dec_from_u64(&votes[i].score, 1);
            }
            opg_splitter_mint(NULL, s, height, now);
            opg_splitter_allocate(s, votes, nodes, height, now);
            opg_hyper_end_block(h, height, now);
            opg_registry_end_block(r, height, now);
        }
        bench_timer t;
        bench_timer_start(&t);
        size_t done;
        int rc = opg_hyper_epoch(&done, h, NULL, 0, height, now);
        ms[e] = (double)bench_timer_ns(&t) / 1e6;
        size_t nm, nr;
        opg_hyper_moves(h, &nm);
        opg_hyper_vault_reports(h, &nr);
        if (rc || nr != vaults) {
            fprintf(stderr, "vault epoch: %s\n", opg_hyper_last_error(h));
            return 1;
        }
        printf("  vault epoch %llu: %.1f ms, %zu moves, %zu share prices\n", (unsigned long long)e, ms[e], nm, nr);
        height++;
        now += 5;
    }
    /* redeems: one holder of each of up to 10,000 vaults, claims through unbonding */
    uint64_t n_rd = vaults < 10000 ? vaults : 10000, rd_ns = 0;
    for (uint64_t i = 0; i < n_rd; i++) {
        opg_id v = make_id(5, i), who = make_id(6, i * per);
        opg_u256 sh;
        opg_u256_from_u64(&sh, 1000000);
        bench_timer t;
        bench_timer_start(&t);
        int rc = opg_hyper_vault_redeem(NULL, NULL, h, &v, &who, &sh, height, now);
        rd_ns += bench_timer_ns(&t);
        if (rc) {
            fprintf(stderr, "vault_redeem: %s\n", opg_hyper_last_error(h));
            return 1;
        }
    }
    bench_timer t;
    bench_timer_start(&t);
    for (int k = 0; k < 100; k++)
        if (opg_hyper_end_block(h, height + 1 + (opg_height)k, now + 5 + k))
            return 1;
    double eb_us = (double)bench_timer_ns(&t) / 100.0 / 1000.0;
    if (opg_splitter_check(s) != OPG_OK || opg_registry_check(r) != OPG_OK) {
        fprintf(stderr, "invariant check failed\n");
        return 1;
    }
    qsort(ms, epochs, sizeof *ms, cmp_double);
    printf("  %llu vaults, %llu holders, %llu nodes\n", (unsigned long long)vaults, (unsigned long long)deposits,
           (unsigned long long)nodes);
    bench_result("hyper.vault_epoch_ms", ms[epochs / 2], "ms");
    bench_result("hyper.vault_deposit_us", deposits ? (double)dep_ns / (double)deposits / 1000.0 : 0, "us");
    bench_result("hyper.share_transfer_ns", n_tr ? (double)tr_ns / (double)n_tr : 0, "ns");
    bench_result("hyper.vault_redeem_us", n_rd ? (double)rd_ns / (double)n_rd / 1000.0 : 0, "us");
    bench_result("hyper.vault_end_block_us", eb_us, "us");
    free(votes);
    free(ms);
    opg_hyper_free(h);
    opg_splitter_free(s);
    opg_registry_free(r);
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t positions = arg(argc, argv, "--positions", 10000);
    uint64_t nodes = arg(argc, argv, "--nodes", 100);
    uint64_t epochs = arg(argc, argv, "--epochs", 5);
    uint64_t blocks = arg(argc, argv, "--blocks", 20);
    uint64_t drift = arg(argc, argv, "--drift", 10);
    uint64_t unbonding = arg(argc, argv, "--unbonding", 21 * 24 * 3600);
    if (nodes == 0 || epochs == 0)
        return 1;

    bench_table_header("hyperstaking");
    opg_registry *r;
    opg_registry_params rp;
    opg_registry_params_init(&rp);
    rp.max_validators = (uint32_t)nodes;
    rp.unbonding_time = (opg_time)unbonding;
    opg_u256 supply;
    opg_u256_from_string(&supply, "1000000000000000000000000000000");
    if (opg_registry_new(&r, &rp, &supply, NULL))
        return 1;
    opg_splitter *s;
    if (opg_splitter_new(&s, r, NULL, NULL))
        return 1;
    opg_hyper *h;
    if (opg_hyper_new(&h, r, s, NULL, NULL))
        return 1;
    bench_rng rng = {11};
    for (uint64_t i = 0; i < nodes; i++) {
        opg_node_create c;
        memset(&c, 0, sizeof c);
        c.operator_id = make_id(1, i);
        c.consensus_key = bench_cons_key(i);
        c.roles = OPG_ROLE_ALL;
        /* commission 0.01 .. 0.20 */
        opg_dec_from_u64(&c.commission_rate, 0);
        c.commission_rate.limb[0] = 10000000000000000ull * (1 + i % 20);
        opg_dec_from_string(&c.commission_max_rate, "0.5");
        opg_dec_from_string(&c.commission_max_change_rate, "0.01");
        opg_u256_from_u64(&c.min_self_delegation, 1);
        opg_u256_from_u64(&c.self_delegation, 1000000000000000000ull * (1000 + bench_rand(&rng) % 1000));
        if (opg_registry_node_create(r, &c, 1, 5))
            return 1;
    }
    opg_registry_end_block(r, 1, 5);

    /* positions: performance policy, auto-compound, a spread of caps and sizes */
    static const char *caps[] = {"0.1", "0.2", "0.3", "1"};
    static const char *maxc[] = {"0.1", "0.15", "0.2"};
    uint64_t dep_ns = 0;
    for (uint64_t i = 0; i < positions; i++) {
        opg_hyper_policy p;
        memset(&p, 0, sizeof p);
        p.kind = OPG_HYPER_PERFORMANCE;
        opg_dec_from_string(&p.max_commission, maxc[i % 3]);
        opg_dec_from_string(&p.cap, caps[i % 4]);
        p.max_nodes = 5 + (uint32_t)(i % 11);
        p.auto_compound = 1;
        opg_dec_from_string(&p.rebalance_threshold, "0.02");
        opg_id id = make_id(3, i), owner = make_id(4, i / 50);
        if (opg_hyper_position_create(h, &id, &owner, &p, 2))
            return 1;
        opg_u256 amt;
        opg_u256_from_u64(&amt, 1000000000000000000ull * (100 + bench_rand(&rng) % 10000));
        bench_timer t;
        bench_timer_start(&t);
        if (opg_hyper_deposit(h, &id, &amt, 2, 10)) {
            fprintf(stderr, "deposit: %s\n", opg_hyper_last_error(h));
            return 1;
        }
        dep_ns += bench_timer_ns(&t);
        if (i % 1024 == 0)
            bench_progress("positions", i, positions);
    }
    bench_progress_end("positions");
    opg_registry_end_block(r, 2, 10);

    opg_commit_vote *votes = calloc(nodes, sizeof *votes);
    opg_hyper_score *scores = calloc(nodes, sizeof *scores);
    double *ms = calloc(epochs + 1, sizeof *ms);
    uint64_t *base = calloc(nodes, sizeof *base);
    for (uint64_t i = 0; i < nodes; i++) /* base scores 0.6 .. 1 */
        base[i] = 600000000000000000ull + bench_rand(&rng) % 400000000000000001ull;
    uint64_t moves_total = 0, skipped = 0, compounds = 0, redelegations = 0;
    opg_height height = 3;
    opg_time now = 15;
    /* e = 0 is the first epoch, reported on its own */
    for (uint64_t e = 0; e <= epochs; e++) {
        /* rewards between epochs: blocks of minting and allocation over every node */
        for (uint64_t b = 0; b < blocks; b++, height++, now += 5) {
            for (uint64_t i = 0; i < nodes; i++) {
                opg_node_info ni;
                opg_id op = make_id(1, i);
                opg_registry_node_get(&ni, r, &op);
                votes[i].consensus_key = ni.consensus_key;
                votes[i].power = ni.power;
                opg_dec_from_u64(&votes[i].score, 1);
            }
            opg_splitter_mint(NULL, s, height, now);
            opg_splitter_allocate(s, votes, nodes, height, now);
            opg_registry_end_block(r, height, now);
        }
        /* scores drift around their base, within [0, 1] */
        for (uint64_t i = 0; i < nodes; i++) {
            uint64_t span = drift * 1000000000000000ull, v = base[i];
            if (e > 0 && span) {
                uint64_t d = bench_rand(&rng) % (2 * span + 1);
                v = v + d < span ? 0 : v + d - span;
                if (v > 1000000000000000000ull)
                    v = 1000000000000000000ull;
            }
            scores[i].node = make_id(1, i);
            opg_dec_from_u64(&scores[i].score, 0);
            scores[i].score.limb[0] = v;
        }
        bench_timer t;
        bench_timer_start(&t);
        size_t done;
        int rc = opg_hyper_epoch(&done, h, scores, nodes, height, now);
        ms[e] = (double)bench_timer_ns(&t) / 1e6;
        if (rc || done != positions) {
            fprintf(stderr, "epoch: %s\n", opg_hyper_last_error(h));
            return 1;
        }
        size_t nm;
        const opg_hyper_move *m = opg_hyper_moves(h, &nm);
        printf("  epoch %llu: %.1f ms, %zu moves\n", (unsigned long long)e, ms[e], nm);
        height++;
        now += 5;
        if (e == 0)
            continue;
        moves_total += nm;
        for (size_t i = 0; i < nm; i++) {
            skipped += m[i].kind == OPG_HYPER_SKIPPED;
            compounds += m[i].kind == OPG_HYPER_COMPOUND;
            redelegations += m[i].kind == OPG_HYPER_REDELEGATE;
        }
    }
    if (opg_splitter_check(s) != OPG_OK || opg_registry_check(r) != OPG_OK) {
        fprintf(stderr, "invariant check failed\n");
        return 1;
    }
    double first = ms[0];
    qsort(ms + 1, epochs, sizeof *ms, cmp_double);
    printf("  %llu positions, %llu nodes, %llu epochs of %llu blocks: %llu compounds, %llu redelegations, "
           "%llu skipped\n",
           (unsigned long long)positions, (unsigned long long)nodes, (unsigned long long)epochs,
           (unsigned long long)blocks, (unsigned long long)compounds, (unsigned long long)redelegations,
           (unsigned long long)skipped);
    bench_result("hyper.epoch_ms", ms[1 + epochs / 2], "ms");
    bench_result("hyper.epoch_max_ms", ms[epochs], "ms");
    bench_result("hyper.moves_per_epoch", (double)moves_total / (double)epochs, "moves");
    bench_result("hyper.first_epoch_ms", first, "ms");
    size_t queue = 0;
    for (uint64_t i = 0; i < positions; i++) {
        opg_id id = make_id(3, i);
        size_t c = 0;
        opg_registry_redelegations_of(NULL, 0, &c, r, &id);
        queue += c;
    }
    bench_result("hyper.redelegation_queue", (double)queue, "entries");
    bench_result("hyper.deposit_us", positions ? (double)dep_ns / (double)positions / 1000.0 : 0, "us");
    free(votes);
    free(scores);
    free(ms);
    free(base);
    opg_hyper_free(h);
    opg_splitter_free(s);
    opg_registry_free(r);
    return vault_bench(arg(argc, argv, "--vaults", 10000), arg(argc, argv, "--holders", 100000), nodes, epochs,
                       blocks);
}
