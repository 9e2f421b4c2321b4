/*
 * bench_merkle.c - the incremental Merkle tree over records (lib/merkle.c) and the
 * proof verifier at scale.
 *
 *   bench_merkle [N]     N records (default 1,000,000; `make bench-state-10m` runs
 *                        10,000,000)
 *
 * Records: key = the 8-byte big-endian id, value = 16 bytes (id, version). The tree
 * is built in batches of 100,000. Then:
 *   state.tree_bytes_per_record_<n>  opgi_merkle_bytes / N
 *   state.tree_update_us_<n>         one batch of 2,000 changed records (1,800
 *                                    values changed, 100 records put, the 100 put by
 *                                    the round before deleted), median of 21 rounds;
 *                                    the changes' hashes are computed beforehand (the
 *                                    records layer's work, not the tree's)
 *   state.proof_bytes_<n>            the longest proof of 10,000 random records
 *   state.proof_bytes_mean_<n>       their mean
 *   state.verify_us_<n>              opg_proof_verify of those proofs, mean per call
 *   state.tree_update_cpu_us_<n>     the same in thread CPU time (the machine is shared)
 *   state.tree_update_hashes_<n>     inner hashes per batch (the spec's floor is about
 *                                    2,000 x (log2 N - log2 2,000) + 2,000)
 *   state.inner_hash_ns              one inner-node hash (the unit of all the above)
 *   state.inner_hash_cpu_ns          the same in thread CPU time, and
 *   state.inner_hash_state_copy_cpu_ns  libsodium's state initialised once and copied
 *                                    per hash instead of its one-shot call
 * At 10,000,000 records the names state.proof_bytes, state.verify_us and
 * state.tree_bytes_per_record are printed too.
 */
#include "bench.h"

#include "merkle.h"
#include "opg.h"

#include <sodium.h>

static void key_of(uint8_t k[8], uint64_t id)
{
    for (int i = 0; i < 8; i++)
        k[i] = (uint8_t)(id >> (56 - 8 * i));
}

static void value_of(uint8_t v[16], uint64_t id, uint64_t ver)
{
    key_of(v, id);
    key_of(v + 8, ver);
}

static void make_change(opgi_merkle_change *c, uint64_t id, uint64_t ver, int present)
{
    uint8_t k[8], v[16];
    key_of(k, id);
    opgi_merkle_key_hash(c->key_hash, k, 8);
    c->present = present;
    if (present) {
        value_of(v, id, ver);
        opgi_merkle_value_hash(c->value_hash, v, 16);
    }
}

static double cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    char suffix[32];
    if (n % 1000000 == 0)
        snprintf(suffix, sizeof suffix, "%llum", (unsigned long long)(n / 1000000));
    else
        snprintf(suffix, sizeof suffix, "%llu", (unsigned long long)n);
    char title[96], name[96];
    snprintf(title, sizeof title, "merkle: incremental state tree, %llu records",
             (unsigned long long)n);
    bench_table_header(title);

    /* the unit cost: one inner hash */
    {
        uint8_t a[32] = {1}, b[32] = {2}, o[32];
        bench_timer tm;
        bench_timer_start(&tm);
        for (int i = 0; i < 200000; i++) {
            opgi_merkle_inner(o, a, b);
            a[0] = o[0];
        }
        bench_result("state.inner_hash_ns", (double)bench_timer_ns(&tm) / 200000.0, "ns");
        /* in thread CPU time, against libsodium's state initialised with the
         * personalisation once and copied per hash (the other way to call it) */
        unsigned char pers[16] = "opg.merkle.node";
        uint8_t in[64] = {1};
        crypto_generichash_blake2b_state st0, st;
        crypto_generichash_blake2b_init_salt_personal(&st0, NULL, 0, 32, NULL, pers);
        double c0 = cpu_us();
        for (int i = 0; i < 200000; i++) {
            opgi_merkle_inner(o, in, in + 32);
            in[0] = o[0];
        }
        double c1 = cpu_us();
        for (int i = 0; i < 200000; i++) {
            memcpy(&st, &st0, sizeof st);
            crypto_generichash_blake2b_update(&st, in, 64);
            crypto_generichash_blake2b_final(&st, o, 32);
            in[0] = o[0];
        }
        double c2 = cpu_us();
        bench_result("state.inner_hash_cpu_ns", (c1 - c0) * 1000.0 / 200000.0, "ns (thread CPU time)");
        bench_result("state.inner_hash_state_copy_cpu_ns", (c2 - c1) * 1000.0 / 200000.0,
                     "ns (libsodium state copied per hash)");
    }

    opgi_merkle *t;
    if (opgi_merkle_new(&t, NULL))
        return 1;
    enum { BUILD = 100000, BATCH = 2000, ROUNDS = 21, PROOFS = 10000 };
    opgi_merkle_change *c = malloc(BUILD * sizeof *c);
    if (!c)
        return 1;
    bench_timer tm;
    bench_timer_start(&tm);
    for (uint64_t at = 0; at < n; at += BUILD) {
        size_t k = (size_t)(n - at < BUILD ? n - at : BUILD);
        for (size_t j = 0; j < k; j++)
            make_change(&c[j], at + j, 0, 1);
        if (opgi_merkle_apply(t, c, k)) {
            fprintf(stderr, "apply failed\n");
            return 1;
        }
        bench_progress("build", at + k, n);
    }
    bench_progress_end("build");
    snprintf(name, sizeof name, "state.tree_build_s_%s", suffix);
    bench_result(name, (double)bench_timer_ns(&tm) / 1e9, "s (hashing included)");
    if (opgi_merkle_count(t) != n)
        return 1;
    double bpr = (double)opgi_merkle_bytes(t) / (double)n;
    snprintf(name, sizeof name, "state.tree_bytes_per_record_%s", suffix);
    bench_result(name, bpr, "bytes");
    size_t lay[6];
    opgi_merkle_layout(t, lay);
    printf("  per record: nodes %.1f B (%.3f per record x 104, %zu allocated), leaves %.1f B,"
           " caches %.1f B (%zu nodes cache)\n",
           104.0 * (double)lay[1] / (double)n, (double)lay[0] / (double)n, lay[1],
           96.0 * (double)lay[3] / (double)n, 448.0 * (double)lay[5] / (double)n, lay[4]);

    /* proofs of random records, and their verification */
    bench_rng rng = {42};
    uint8_t root[32];
    opgi_merkle_root(t, root);
    uint8_t *proofs = malloc((size_t)PROOFS * 1600);
    size_t *lens = malloc(PROOFS * sizeof *lens);
    uint64_t *ids = malloc(PROOFS * sizeof *ids);
    if (!proofs || !lens || !ids)
        return 1;
    size_t maxlen = 0, sum = 0;
    for (int i = 0; i < PROOFS; i++) {
        ids[i] = bench_rand(&rng) % n;
        uint8_t k[8], kh[32];
        key_of(k, ids[i]);
        opgi_merkle_key_hash(kh, k, 8);
        if (opgi_merkle_prove(t, kh, proofs + (size_t)i * 1600, 1600, &lens[i])) {
            fprintf(stderr, "prove failed\n");
            return 1;
        }
        maxlen = lens[i] > maxlen ? lens[i] : maxlen;
        sum += lens[i];
    }
    snprintf(name, sizeof name, "state.proof_bytes_%s", suffix);
    bench_result(name, (double)maxlen, "bytes (longest of 10,000)");
    snprintf(name, sizeof name, "state.proof_bytes_mean_%s", suffix);
    bench_result(name, (double)sum / PROOFS, "bytes");
    bench_timer_start(&tm);
    for (int i = 0; i < PROOFS; i++) {
        uint8_t k[8], v[16];
        key_of(k, ids[i]);
        value_of(v, ids[i], 0);
        if (opg_proof_verify(root, k, 8, v, 16, 1, proofs + (size_t)i * 1600, lens[i])) {
            fprintf(stderr, "verify failed\n");
            return 1;
        }
    }
    double vus = (double)bench_timer_ns(&tm) / 1e3 / PROOFS;
    snprintf(name, sizeof name, "state.verify_us_%s", suffix);
    bench_result(name, vus, "us");

    /* batches of 2,000 changed records */
    double us[ROUNDS], cpu[ROUNDS];
    uint64_t hashes0 = 0;
    uint64_t fresh = n;
    for (int r = 0; r < ROUNDS; r++) {
        size_t k = 0;
        uint64_t start = bench_rand(&rng) % n;
        for (int j = 0; j < 1800; j++)
            make_change(&c[k++], (start + (uint64_t)j * 4999) % n, (uint64_t)r + 1, 1);
        for (int j = 0; j < 100; j++)
            make_change(&c[k++], fresh + (uint64_t)j, 0, 1);
        if (r > 0)
            for (int j = 0; j < 100; j++)
                make_change(&c[k++], fresh - 100 + (uint64_t)j, 0, 0);
        else
            for (int j = 0; j < 100; j++) /* absent keys: no-ops, so the batch is 2,000 */
                make_change(&c[k++], UINT64_C(1) << 62 | (uint64_t)j, 0, 0);
        fresh += 100;
        if (r == 1)
            hashes0 = opgi_merkle_hashes(t);
        struct timespec c0, c1;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
        bench_timer_start(&tm);
        if (opgi_merkle_apply(t, c, k)) {
            fprintf(stderr, "apply failed\n");
            return 1;
        }
        us[r] = (double)bench_timer_ns(&tm) / 1e3;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
        cpu[r] = (double)(c1.tv_sec - c0.tv_sec) * 1e6 + (double)(c1.tv_nsec - c0.tv_nsec) / 1e3;
    }
    snprintf(name, sizeof name, "state.tree_update_us_%s", suffix);
    bench_result(name, bench_median(us, ROUNDS), "us (median of 21; 2,000 records)");
    snprintf(name, sizeof name, "state.tree_update_cpu_us_%s", suffix);
    bench_result(name, bench_median(cpu, ROUNDS), "us (thread CPU time, same batches)");
    snprintf(name, sizeof name, "state.tree_update_hashes_%s", suffix);
    bench_result(name, (double)(opgi_merkle_hashes(t) - hashes0) / (ROUNDS - 1),
                 "inner hashes per batch");
    if (n == 10000000) {
        bench_result("state.proof_bytes", (double)maxlen, "bytes");
        bench_result("state.verify_us", vus, "us");
        bench_result("state.tree_bytes_per_record", bpr, "bytes");
    }
    printf("  peak RSS %.0f MB\n", (double)bench_peak_rss_bytes() / 1e6);
    free(proofs);
    free(lens);
    free(ids);
    free(c);
    opgi_merkle_free(t);
    return 0;
}
