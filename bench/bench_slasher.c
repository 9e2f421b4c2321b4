/*
 * bench_slasher.c - the cost of the slashing engine on a 1,000-node active set.
 *
 *   result slasher.commit_us           one last-commit record of 1,000 validators
 *                                      (opg_slasher_record_commit; ~2 % miss, no
 *                                      slash), window 100
 *   result slasher.double_sign_us      one double-sign evidence verified and applied
 *                                      (two Ed25519 verifications, the registry's
 *                                      Slash, jail, tombstone, events)
 *   result slasher.verify_us           one bare crypto_sign_verify_detached over the
 *                                      same vote bytes, measured in the same rounds
 *   result slasher.double_sign_vs_verify  double_sign_us / (2 * verify_us): the
 *                                      evidence against the TWO bare verifications
 *                                      it cannot avoid (1.0 = nothing but crypto)
 *   result slasher.fault_us            one faulty-inference evidence applied
 *
 * Each figure is the median over rounds of the mean over one round. Evidence
 * tombstones or jails its node, so every round takes fresh nodes; the votes are
 * signed before timing starts. Runs in a few seconds.
 */
#include "bench.h"

#include "opg.h"

#include <sodium.h>

#define NODES 1000
#define COMMIT_ROUNDS 9
#define COMMIT_BLOCKS 200 /* blocks per round */
#define EV_ROUNDS 10
#define EV_PER_ROUND (NODES / EV_ROUNDS)
#define CHAIN "opg-bench-1"

static uint8_t pk[NODES][32], sk[NODES][64];
static opg_double_sign_evidence evs[NODES];
static uint8_t msgs[NODES][2][OPG_VOTE_SIGN_BYTES_MAX];
static size_t msg_len[NODES][2];

static opg_id id_n(unsigned n)
{
    opg_id id;
    memset(&id, 0, sizeof id);
    id.bytes[29] = (uint8_t)(n >> 16);
    id.bytes[30] = (uint8_t)(n >> 8);
    id.bytes[31] = (uint8_t)n;
    return id;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_slasher: %s: %s\n", what, opg_errname(rc));
    exit(1);
}

/* 1,000 bonded nodes with every role, tokens 10^8 .. 10^8 + 999 * 10^6. */
static void setup(opg_registry **r, opg_slasher **s)
{
    opg_registry_params rp;
    opg_registry_params_init(&rp);
    rp.max_validators = NODES;
    opg_slasher_params sp;
    opg_slasher_params_init(&sp);
    strcpy(sp.chain_id, CHAIN);
    static const opg_fault_class cls = {1, {{UINT64_C(10000000000000000), 0, 0, 0}}, 600, 0};
    sp.fault_classes = &cls;
    sp.fault_class_count = 1;
    int rc;
    if ((rc = opg_registry_new(r, &rp, NULL, NULL)) || (rc = opg_slasher_new(s, *r, &sp, NULL)))
        die("new", rc);
    for (unsigned i = 0; i < NODES; i++) {
        opg_node_create c;
        memset(&c, 0, sizeof c);
        c.operator_id = id_n(i + 1);
        memcpy(c.consensus_key.bytes, pk[i], 32);
        c.roles = OPG_ROLE_ALL;
        opg_u256_from_u64(&c.min_self_delegation, 1);
        opg_u256_from_u64(&c.self_delegation, 100000000u + (uint64_t)i * 1000000u);
        if ((rc = opg_registry_node_create(*r, &c, 1, 0)))
            die("node_create", rc);
    }
    if ((rc = opg_registry_end_block(*r, 1, 0)))
        die("end_block", rc);
}

static opg_slasher_vote vote(unsigned i, uint8_t block, int which)
{
    opg_slasher_vote v;
    memset(&v, 0, sizeof v);
    v.type = OPG_VOTE_PRECOMMIT;
    v.height = 100;
    v.round = 0;
    memset(v.block_id, block, 32);
    size_t n;
    opg_slasher_vote_sign_bytes(msgs[i][which], OPG_VOTE_SIGN_BYTES_MAX, &n, CHAIN, &v);
    msg_len[i][which] = n;
    crypto_sign_detached(v.signature, NULL, msgs[i][which], n, sk[i]);
    return v;
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    for (unsigned i = 0; i < NODES; i++) {
        uint8_t seed[32];
        memset(seed, 0, sizeof seed);
        seed[0] = (uint8_t)i;
        seed[1] = (uint8_t)(i >> 8);
        crypto_sign_seed_keypair(pk[i], sk[i], seed);
    }
    opg_registry *r;
    opg_slasher *s;
    setup(&r, &s);
    bench_table_header("slasher (1,000 bonded validators, window 100)");

    /* ---- last commit */
    static opg_commit_sig e[NODES];
    for (unsigned i = 0; i < NODES; i++) {
        memcpy(e[i].consensus_key.bytes, pk[i], 32);
        e[i].power = 100 + i;
    }
    bench_rng rng = {42};
    double commit[COMMIT_ROUNDS];
    opg_height h = 2;
    for (int round = 0; round < COMMIT_ROUNDS; round++) {
        uint64_t ns = 0;
        for (int b = 0; b < COMMIT_BLOCKS; b++, h++) {
            for (unsigned i = 0; i < NODES; i++)
                e[i].signed_block = bench_rand(&rng) % 50 != 0;
            bench_timer t;
            bench_timer_start(&t);
            int rc = opg_slasher_record_commit(s, e, NODES, h, (opg_time)h * 6);
            ns += bench_timer_ns(&t);
            if (rc)
                die("record_commit", rc);
            size_t n;
            opg_slasher_slashes(s, &n);
            if (n)
                die("unexpected downtime slash", OPG_OK);
        }
        commit[round] = (double)ns / COMMIT_BLOCKS / 1000.0;
    }
    bench_result("slasher.commit_us", bench_median(commit, COMMIT_ROUNDS), "us");

    /* ---- double sign, beside bare verification of the same bytes */
    for (unsigned i = 0; i < NODES; i++) {
        memset(&evs[i], 0, sizeof evs[i]);
        memcpy(evs[i].consensus_key.bytes, pk[i], 32);
        evs[i].vote_a = vote(i, 0xaa, 0);
        evs[i].vote_b = vote(i, 0xbb, 1);
        /* not signed: the registry's block time; power 0 = the registry's */
        int brc = opg_registry_block_time(&evs[i].infraction_time, r, evs[i].vote_a.height);
        if (brc)
            die("block_time", brc);
        evs[i].validator_power = 0;
    }
    double ds[EV_ROUNDS], ver[EV_ROUNDS];
    const opg_time now = (opg_time)h * 6;
    for (int round = 0; round < EV_ROUNDS; round++) {
        unsigned first = (unsigned)round * EV_PER_ROUND;
        bench_timer t;
        bench_timer_start(&t);
        for (unsigned i = first; i < first + EV_PER_ROUND; i++) {
            int rc = opg_slasher_double_sign(NULL, s, &evs[i], h, now);
            if (rc)
                die("double_sign", rc);
        }
        ds[round] = (double)bench_timer_ns(&t) / EV_PER_ROUND / 1000.0;
        int bad = 0;
        bench_timer_start(&t);
        for (unsigned i = first; i < first + EV_PER_ROUND; i++) {
            bad |= crypto_sign_verify_detached(evs[i].vote_a.signature, msgs[i][0], msg_len[i][0],
                                               pk[i]);
            bad |= crypto_sign_verify_detached(evs[i].vote_b.signature, msgs[i][1], msg_len[i][1],
                                               pk[i]);
        }
        ver[round] = (double)bench_timer_ns(&t) / (2.0 * EV_PER_ROUND) / 1000.0;
        if (bad)
            die("bare verify", OPG_ESIGNATURE);
    }
    double ds_us = bench_median(ds, EV_ROUNDS), ver_us = bench_median(ver, EV_ROUNDS);
    bench_result("slasher.double_sign_us", ds_us, "us");
    bench_result("slasher.verify_us", ver_us, "us");
    bench_result("slasher.double_sign_vs_verify", ds_us / (2.0 * ver_us), "x");

    /* ---- faulty inference on a fresh set of nodes */
    opg_slasher_free(s);
    opg_registry_free(r);
    setup(&r, &s);
    double fault[EV_ROUNDS];
    for (int round = 0; round < EV_ROUNDS; round++) {
        unsigned first = (unsigned)round * EV_PER_ROUND;
        bench_timer t;
        bench_timer_start(&t);
        for (unsigned i = first; i < first + EV_PER_ROUND; i++) {
            opg_fault_evidence f;
            memset(&f, 0, sizeof f);
            f.evidence_id = id_n(0x100000 + i);
            f.node = id_n(i + 1);
            f.infraction_height = 1;
            int brc = opg_registry_block_time(&f.infraction_time, r, 1);
            if (brc)
                die("block_time", brc);
            f.fault_class = 1;
            f.reporter = id_n(i == 0 ? 2 : 1); /* another node (all verify) */
            int rc = opg_slasher_fault(NULL, s, &f, 2, 12);
            if (rc)
                die("fault", rc);
        }
        fault[round] = (double)bench_timer_ns(&t) / EV_PER_ROUND / 1000.0;
    }
    bench_result("slasher.fault_us", bench_median(fault, EV_ROUNDS), "us");
    opg_slasher_free(s);
    opg_registry_free(r);
    return 0;
}
