/*
 * bench_state.c - the per-block commit of a registry with its splitter, at scale.
 *
 *   result state.commit_us_<size>       commit of both handles after a block that
 *                                       changed --changed delegations and allocated
 *                                       to every node (median of --blocks blocks)
 *   result state.commit_cpu_us_<size>   the same in thread CPU time (the machine may be
 *                                       shared: wall time then counts others' work)
 *   result state.commit_vs_full_hash    the whole-state hash of both handles (what a
 *                                       host had to do per block before) over the commit
 *   result state.proof_bytes            a delegation's proof against the registry root
 *   result state.verify_us              opg_proof_verify of that proof
 *   result state.first_commit_s         the first commit, which puts every record
 *
 * Sizes: --nodes N (default 1000), --delegations M (default 1000000), --changed C
 * (default 1000), --blocks B (default 20). `make bench` runs the defaults; the 10M
 * figure comes from `bench_state --delegations 10000000 --blocks 5` (13 GB, minutes;
 * `make bench-state-10m` is the tree's own bench at 10M records).
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
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            printf("usage: bench_state [--nodes N] [--delegations M] [--changed C] [--blocks B]\n");
            exit(0);
        }
        if (strcmp(argv[i], name) == 0 && i + 1 < argc) {
            char *end;
            unsigned long long v = strtoull(argv[i + 1], &end, 10);
            if (*end) {
                fprintf(stderr, "bench_state: %s wants a whole number, not '%s'\n", name, argv[i + 1]);
                exit(2);
            }
            return v;
        }
    }
    return def;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct find_ctx {
    const uint8_t *key;
    size_t key_len;
    uint8_t value[512];
    size_t value_len;
    int found;
} find_ctx;

static int find_sink(void *ctx, const opg_record *rec)
{
    find_ctx *f = ctx;
    if (rec->key_len == f->key_len && memcmp(rec->key, f->key, f->key_len) == 0) {
        memcpy(f->value, rec->value, rec->value_len);
        f->value_len = rec->value_len;
        f->found = 1;
    }
    return 0;
}

static double cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void fail(const char *what, int rc)
{
    fprintf(stderr, "bench_state: %s: %s\n", what, opg_errname(rc));
    exit(1);
}

int main(int argc, char **argv)
{
    uint64_t nodes = arg(argc, argv, "--nodes", 1000);
    uint64_t dels = arg(argc, argv, "--delegations", 1000000);
    uint64_t changed = arg(argc, argv, "--changed", 1000);
    uint64_t blocks = arg(argc, argv, "--blocks", 20);
    if (!nodes || !dels || !blocks)
        return 2;
    if (changed > dels)
        changed = dels;

    bench_table_header("state commit (registry + splitter)");
    opg_registry *r;
    opg_registry_params rp;
    opg_registry_params_init(&rp);
    rp.max_validators = (uint32_t)nodes;
    opg_u256 supply;
    opg_u256_from_string(&supply, "1000000000000000000000000000000");
    int rc;
    if ((rc = opg_registry_new(&r, &rp, &supply, NULL)))
        fail("registry", rc);
    opg_splitter *s;
    if ((rc = opg_splitter_new(&s, r, NULL, NULL)))
        fail("splitter", rc);
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
        if ((rc = opg_registry_node_create(r, &c, 1, 5)))
            fail("node_create", rc);
    }
    bench_rng rng = {7};
    for (uint64_t i = 0; i < dels; i++) {
        opg_id d = make_id(3, i), op = make_id(1, i % nodes);
        opg_u256 amt;
        opg_u256_from_u64(&amt, 1000000000000000000ull + bench_rand(&rng) % 1000000000000000000ull);
        if ((rc = opg_registry_delegate(NULL, r, &d, &op, &amt, 1, 5)))
            fail("delegate", rc);
        if (i % 65536 == 0)
            bench_progress("delegating", i, dels);
    }
    bench_progress_end("delegating");
    opg_registry_end_block(r, 1, 5);

    /* the first commit puts every record: the host's store starts empty */
    uint8_t rroot[32], sroot[32];
    const opg_record *ch;
    size_t n_ch;
    bench_timer t;
    bench_timer_start(&t);
    if ((rc = opg_registry_commit(rroot, &ch, &n_ch, r)) || (rc = opg_splitter_commit(sroot, &ch, &n_ch, s)))
        fail("first commit", rc);
    double first_s = (double)bench_timer_ns(&t) / 1e9;

    opg_commit_vote *votes = calloc(nodes, sizeof *votes);
    for (uint64_t i = 0; i < nodes; i++) {
        opg_node_info ni;
        opg_id op = make_id(1, i);
        opg_registry_node_get(&ni, r, &op);
        votes[i].consensus_key = ni.consensus_key;
        votes[i].power = ni.power;
        opg_dec_from_u64(&votes[i].score, 1);
    }
    double *us = calloc(blocks, sizeof *us), *cpu = calloc(blocks, sizeof *cpu);
    size_t changes = 0;
    for (uint64_t b = 0; b < blocks; b++) {
        opg_height h = 2 + b;
        opg_time now = 10 + 5 * (opg_time)b;
        for (uint64_t k = 0; k < changed; k++) {
            uint64_t i = bench_rand(&rng) % dels;
            opg_id d = make_id(3, i), op = make_id(1, i % nodes);
            opg_u256 amt;
            opg_u256_from_u64(&amt, 1000000000ull);
            if ((rc = opg_registry_delegate(NULL, r, &d, &op, &amt, h, now)))
                fail("delegate", rc);
        }
        opg_u256 fees;
        opg_u256_from_u64(&fees, 1000000000000000000ull);
        opg_splitter_add_fees(s, &fees);
        if ((rc = opg_splitter_allocate(s, votes, nodes, h, now)))
            fail("allocate", rc);
        if ((rc = opg_registry_end_block(r, h, now)))
            fail("end_block", rc);
        double c0 = cpu_us();
        bench_timer_start(&t);
        size_t n1, n2;
        if ((rc = opg_registry_commit(rroot, &ch, &n1, r)) || (rc = opg_splitter_commit(sroot, &ch, &n2, s)))
            fail("commit", rc);
        us[b] = (double)bench_timer_ns(&t) / 1000.0;
        cpu[b] = cpu_us() - c0;
        changes += n1 + n2;
    }
    qsort(us, blocks, sizeof *us, cmp_double);
    double commit_us = us[blocks / 2];
    qsort(cpu, blocks, sizeof *cpu, cmp_double);
    double commit_cpu_us = cpu[blocks / 2];

    /* what a block cost before: the whole-state hashes */
    uint8_t h1[32], h2[32];
    bench_timer_start(&t);
    if ((rc = opg_registry_state_hash(h1, r)) || (rc = opg_splitter_state_hash(h2, s)))
        fail("state hash", rc);
    double full_us = (double)bench_timer_ns(&t) / 1000.0;

    /* a light client's view of one delegation */
    opg_id d = make_id(3, dels / 2), op = make_id(1, (dels / 2) % nodes);
    uint8_t key[OPG_RECORD_KEY_MAX], proof[OPG_PROOF_MAX_BYTES];
    size_t key_len, proof_len;
    opg_registry_key_delegation(key, &key_len, &d, &op);
    if ((rc = opg_registry_prove(proof, sizeof proof, &proof_len, r, key, key_len)))
        fail("prove", rc);
    /* the value the host stored under the key (found here by an export, once) */
    find_ctx f = {key, key_len, {0}, 0, 0};
    if ((rc = opg_registry_records(r, find_sink, &f)) || !f.found)
        fail("export", rc ? rc : OPG_ENOTFOUND);
    double verify_us = 0;
    int iters = 2000;
    bench_timer_start(&t);
    int valid = 0;
    for (int i = 0; i < iters; i++)
        valid += opg_proof_verify(rroot, key, key_len, f.value, f.value_len, 1, proof, proof_len) == OPG_OK;
    verify_us = (double)bench_timer_ns(&t) / 1000.0 / iters;
    if (valid != iters)
        fail("verify", OPG_EPROOF);
    bench_sink += (uint64_t)valid;

    printf("  %llu nodes, %llu delegations, %llu changed per block, %zu records changed per "
           "block on average\n",
           (unsigned long long)nodes, (unsigned long long)dels, (unsigned long long)changed,
           changes / blocks);
    char name[64];
    snprintf(name, sizeof name, "state.commit_us_%s",
             dels >= 10000000 ? "10m" : dels >= 1000000 ? "1m" : "small");
    bench_result(name, commit_us, "us");
    snprintf(name, sizeof name, "state.commit_cpu_us_%s",
             dels >= 10000000 ? "10m" : dels >= 1000000 ? "1m" : "small");
    bench_result(name, commit_cpu_us, "us (thread CPU time)");
    bench_result("state.commit_vs_full_hash", full_us / commit_us, "x");
    bench_result("state.first_commit_s", first_s, "s");
    bench_result("state.proof_bytes", (double)proof_len, "bytes");
    bench_result("state.verify_us", verify_us, "us");
    free(us);
    free(cpu);
    free(votes);
    opg_splitter_free(s);
    opg_registry_free(r);
    return 0;
}
