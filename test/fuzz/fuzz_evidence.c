/*
 * fuzz_evidence.c - libFuzzer target for the evidence decoder and for evidence
 * submission (opg_slasher_evidence_decode, opg_slasher_submit_evidence).
 *
 * Any input must give OK or an error code, never a crash. Beyond that the target
 * checks, and abort()s on a violation:
 *   - decode refuses with OPG_EEVIDENCE only, and leaves its output untouched then;
 *   - what decodes encodes back to exactly the input bytes (the form is canonical);
 *   - submitting the bytes to a fresh registry + slasher (one node whose consensus
 *     key is the fuzz key below, with a delegation and unbonding entries): a refusal
 *     leaves both state hashes as they were and no events or records; a success
 *     makes exactly one record, keeps the registry's and slasher's invariants and
 *     conserves tokens (node + entries + burned + reporter reward is unchanged), and
 *     a double sign leaves the node tombstoned and jailed forever;
 *   - for double-sign evidence, the stateless opg_slasher_double_sign_verify gives
 *     the same verdict on form, conflict and signatures as the submission.
 *
 * Built two ways by the Makefile: with -fsanitize=fuzzer for `make fuzz`, and with
 * test/fuzz/replay.c as a plain program that `make test` runs over the checked-in
 * corpus in test/fuzz/corpus/evidence/.
 *
 * The corpus is made by this file too (real evidence signed with libsodium from
 * the fixed seed below, and malformed variants of it):
 *   cc -std=c11 -DFUZZ_EVIDENCE_GEN -Iinclude test/fuzz/fuzz_evidence.c \
 *      build/libopg.a -lgmp -lsodium -o gen && ./gen test/fuzz/corpus/evidence
 */
#include "opg.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fixture: chain, heights, the node's key (from seed 0x42 * 32), another key. */
#define FUZZ_CHAIN "opg-fuzz-1"
#define FUZZ_HEIGHT 1000
#define FUZZ_NOW 100000
#define M UINT64_C(1000000)

static uint8_t key_pk[32], key_sk[64], other_pk[32], other_sk[64], third_pk[32], third_sk[64];

static void keys(void)
{
    static int done;
    if (done)
        return;
    uint8_t seed[32];
    if (sodium_init() < 0)
        abort();
    memset(seed, 0x42, sizeof seed);
    crypto_sign_seed_keypair(key_pk, key_sk, seed);
    memset(seed, 0x43, sizeof seed);
    crypto_sign_seed_keypair(other_pk, other_sk, seed);
    memset(seed, 0x45, sizeof seed);
    crypto_sign_seed_keypair(third_pk, third_sk, seed);
    done = 1;
}

static opg_id id_n(unsigned n)
{
    opg_id id;
    memset(&id, 0, sizeof id);
    id.bytes[30] = (uint8_t)(n >> 8);
    id.bytes[31] = (uint8_t)n;
    return id;
}

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_evidence: %s\n", what);
    abort();
}

static void check(int ok, const char *what)
{
    if (!ok)
        fail(what);
}

static opg_dec dec_raw(uint64_t raw)
{
    opg_dec d;
    memset(&d, 0, sizeof d);
    d.limb[0] = raw;
    return d;
}

static const opg_fault_class CLASSES[2] = {
    {1, {{UINT64_C(100000000000000000), 0, 0, 0}}, 60, 0}, /* 0.1 */
    {2, {{UINT64_C(1000000000000000000), 0, 0, 0}}, 0, 1}, /* 1, tombstone */
};

/* Node 1 (key_pk, every role) bonded at height 1 with 100e6 self-bond (power 100
 * from height 3 on), delegator 500 with 50e6 of which 20e6 unbonding since height
 * 900; node 2 (other_pk) unbonded; node 3 (a verification node) reports. The
 * registry's history: block time 10 for heights 1..849, 99000 from 850 on; power
 * 150 from height 852 on. */
static void fixture(opg_registry **r, opg_slasher **s)
{
    opg_registry_params rp;
    opg_registry_params_init(&rp);
    opg_slasher_params p;
    opg_slasher_params_init(&p);
    strcpy(p.chain_id, FUZZ_CHAIN);
    p.max_age_num_blocks = 100;
    p.max_age_duration = 1000;
    p.reporter_share = dec_raw(UINT64_C(250000000000000000)); /* 0.25 */
    p.correlation_k = dec_raw(UINT64_C(500000000000000000));  /* 0.5 */
    p.fault_classes = CLASSES;
    p.fault_class_count = 2;
    if (opg_registry_new(r, &rp, NULL, NULL) || opg_slasher_new(s, *r, &p, NULL))
        fail("fixture: creation");
    opg_node_create c;
    memset(&c, 0, sizeof c);
    c.operator_id = id_n(1);
    memcpy(c.consensus_key.bytes, key_pk, 32);
    c.roles = OPG_ROLE_ALL;
    opg_u256_from_u64(&c.min_self_delegation, 1);
    opg_u256_from_u64(&c.self_delegation, 100 * M);
    int rc = opg_registry_node_create(*r, &c, 1, 10);
    c.operator_id = id_n(2);
    memcpy(c.consensus_key.bytes, other_pk, 32);
    c.roles = OPG_ROLE_INFERENCE;
    rc |= opg_registry_node_create(*r, &c, 1, 10);
    c.operator_id = id_n(3);
    memcpy(c.consensus_key.bytes, third_pk, 32);
    c.roles = OPG_ROLE_VERIFICATION;
    rc |= opg_registry_node_create(*r, &c, 1, 10);
    rc |= opg_registry_end_block(*r, 1, 10);
    opg_id n1 = id_n(1), d = id_n(500);
    opg_u256 amt, part;
    opg_u256_from_u64(&amt, 50 * M);
    opg_u256_from_u64(&part, 20 * M);
    rc |= opg_registry_delegate(NULL, *r, &d, &n1, &amt, 2, 20);
    rc |= opg_registry_end_block(*r, 850, 99000);
    rc |= opg_registry_undelegate(NULL, NULL, *r, &d, &n1, &part, 900, 90000);
    if (rc)
        fail("fixture: nodes");
}

/* Everything the slasher can move: node tokens + pending entries + burned. */
static void ledger(opg_u256 *out, const opg_registry *r)
{
    opg_supply_info s;
    opg_registry_supply(&s, r);
    opg_u256_add(out, &s.bonded, &s.unbonding);
    opg_u256_add(out, out, &s.burned);
}

static void check_submission(const uint8_t *data, size_t size, const opg_evidence *ev)
{
    opg_registry *r;
    opg_slasher *s;
    fixture(&r, &s);
    uint8_t hr0[32], hs0[32], hr1[32], hs1[32];
    opg_u256 before, after;
    opg_registry_state_hash(hr0, r);
    opg_slasher_state_hash(hs0, s);
    ledger(&before, r);
    opg_slasher_record rec;
    int rc = opg_slasher_submit_evidence(&rec, s, data, size, FUZZ_HEIGHT, FUZZ_NOW);
    size_t nev, nrec;
    opg_registry_events(r, &nev);
    opg_slasher_slashes(s, &nrec);
    if (rc != OPG_OK) {
        opg_registry_state_hash(hr1, r);
        opg_slasher_state_hash(hs1, s);
        check(memcmp(hr0, hr1, 32) == 0, "refused evidence changed the registry");
        check(memcmp(hs0, hs1, 32) == 0, "refused evidence changed the slasher");
        check(nev == 0 && nrec == 0, "refused evidence left events or records");
    } else {
        check(ev != NULL, "undecodable bytes were accepted");
        check(nrec == 1, "accepted evidence made other than one record");
        check(opg_registry_check(r) == OPG_OK, "registry invariants broken");
        check(opg_slasher_check(s) == OPG_OK, "slasher invariants broken");
        ledger(&after, r);
        opg_u256_add(&after, &after, &rec.reporter_reward);
        check(opg_u256_cmp(&before, &after) == 0, "tokens not conserved");
        opg_u256 sum;
        opg_u256_add(&sum, &rec.burned, &rec.reporter_reward);
        check(opg_u256_cmp(&sum, &rec.slash.burned_total) == 0, "burned + reward != slashed");
        opg_node_info ni;
        check(opg_registry_node_get(&ni, r, &rec.node) == OPG_OK, "slashed node vanished");
        check(ni.jailed, "slashed node not jailed");
        if (ev->kind == OPG_EVIDENCE_DOUBLE_SIGN)
            check(ni.tombstoned && ni.jailed_until == OPG_TIME_FOREVER,
                  "double signer not tombstoned for ever");
    }
    if (ev && ev->kind == OPG_EVIDENCE_DOUBLE_SIGN) {
        /* the stateless verdict agrees where the two overlap */
        int v = opg_slasher_double_sign_verify(FUZZ_CHAIN, &ev->double_sign);
        /* (the submission's OPG_EEVIDENCE may also be a field that disagrees with
         * the registry's history, which verify does not see) */
        if (rc == OPG_ENOCONFLICT || rc == OPG_ESIGNATURE || (rc == OPG_EEVIDENCE && v != OPG_OK))
            check(v == rc, "verify disagrees with submission on form/conflict/signature");
        if (rc == OPG_OK)
            check(v == OPG_OK, "submission accepted what verify refuses");
        if (v != OPG_OK)
            check(rc != OPG_OK, "verify refused but submission accepted");
    }
    opg_slasher_free(s);
    opg_registry_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    keys();
    opg_evidence ev, untouched;
    memset(&ev, 0xa5, sizeof ev);
    untouched = ev;
    int rc = opg_slasher_evidence_decode(&ev, data, size);
    if (rc != OPG_OK) {
        check(rc == OPG_EEVIDENCE, "decode failed with a code other than OPG_EEVIDENCE");
        check(memcmp(&ev, &untouched, sizeof ev) == 0, "failed decode wrote its output");
        check_submission(data, size, NULL);
        return 0;
    }
    uint8_t back[512];
    size_t len = 0;
    check(opg_slasher_evidence_encode(back, sizeof back, &len, &ev) == OPG_OK,
          "decoded evidence does not encode");
    check(len == size && memcmp(back, data, size) == 0, "encode(decode(x)) != x");
    check_submission(data, size, &ev);
    return 0;
}

/* ------------------------------------------------------------- the corpus */
#ifdef FUZZ_EVIDENCE_GEN

static opg_slasher_vote vote(const uint8_t *sk, const char *chain, uint8_t type, uint64_t h,
                             uint32_t round, uint8_t block)
{
    opg_slasher_vote v;
    memset(&v, 0, sizeof v);
    v.type = type;
    v.height = h;
    v.round = round;
    memset(v.block_id, block, 32);
    uint8_t m[OPG_VOTE_SIGN_BYTES_MAX];
    size_t n;
    if (opg_slasher_vote_sign_bytes(m, sizeof m, &n, chain, &v) != OPG_OK)
        fail("gen: sign bytes");
    crypto_sign_detached(v.signature, NULL, m, n, sk);
    return v;
}

static const char *out_dir;

static void put(const char *name, const uint8_t *b, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", out_dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(b, 1, n, f) != n) || fclose(f) != 0)
        fail("gen: cannot write");
}

static size_t enc(uint8_t *b, const opg_evidence *ev)
{
    size_t n;
    if (opg_slasher_evidence_encode(b, 512, &n, ev) != OPG_OK)
        fail("gen: encode");
    return n;
}

static opg_evidence ds(const uint8_t *sk_a, const uint8_t *sk_b, const char *chain, uint64_t h,
                       int64_t t)
{
    opg_evidence ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = OPG_EVIDENCE_DOUBLE_SIGN;
    memcpy(ev.double_sign.consensus_key.bytes, key_pk, 32);
    ev.double_sign.vote_a = vote(sk_a, chain, OPG_VOTE_PRECOMMIT, h, 0, 0xaa);
    ev.double_sign.vote_b = vote(sk_b, chain, OPG_VOTE_PRECOMMIT, h, 0, 0xbb);
    ev.double_sign.infraction_time = t;
    ev.double_sign.validator_power = 0; /* the registry's: 100 */
    return ev;
}

static opg_evidence fault(unsigned id, unsigned node, uint64_t h, int64_t t, uint32_t cls)
{
    opg_evidence ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = OPG_EVIDENCE_FAULT;
    ev.fault.evidence_id = id_n(0xe000 + id);
    ev.fault.node = id_n(node);
    ev.fault.infraction_height = h;
    ev.fault.infraction_time = t;
    ev.fault.fault_class = cls;
    ev.fault.reporter = id_n(3);
    return ev;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
        return 2;
    }
    out_dir = argv[1];
    keys();
    uint8_t b[512];
    size_t n;
    opg_evidence ev;

    /* valid double sign: votes at 990, slashed at 989 (the unbonding entry created
     * at 900 is older: untouched) */
    ev = ds(key_sk, key_sk, FUZZ_CHAIN, 990, 99000);
    n = enc(b, &ev);
    put("ds_valid", b, n);
    /* valid, prevotes at 899 (one for nil): the slash at 898 reaches the unbonding
     * entry created at 900; 101 blocks old but only 1000 s: still handled */
    ev = ds(key_sk, key_sk, FUZZ_CHAIN, 950, 99000);
    ev.double_sign.vote_a = vote(key_sk, FUZZ_CHAIN, OPG_VOTE_PREVOTE, 899, 3, 0x00);
    ev.double_sign.vote_b = vote(key_sk, FUZZ_CHAIN, OPG_VOTE_PREVOTE, 899, 3, 0x01);
    n = enc(b, &ev);
    put("ds_valid_prevote_nil_entry", b, n);
    /* old in blocks only (899 < 1000 - 100), recent in time: handled */
    ev = ds(key_sk, key_sk, FUZZ_CHAIN, 850, 99000);
    n = enc(b, &ev);
    put("ds_old_blocks_only", b, n);
    /* too old in both */
    ev = ds(key_sk, key_sk, FUZZ_CHAIN, 10, 10);
    n = enc(b, &ev);
    put("ds_too_old", b, n);
    /* from the future */
    ev = ds(key_sk, key_sk, FUZZ_CHAIN, 1001, 99000);
    n = enc(b, &ev);
    put("ds_future_height", b, n);
    ev = ds(key_sk, key_sk, FUZZ_CHAIN, 990, 99900); /* not the block time of 990 */
    n = enc(b, &ev);
    put("ds_time_not_history", b, n);
    ev = ds(key_sk, key_sk, FUZZ_CHAIN, 990, 99000);
    ev.double_sign.validator_power = 1; /* not the power at 990 (150) */
    n = enc(b, &ev);
    put("ds_power_not_history", b, n);
    ev = ds(key_sk, key_sk, FUZZ_CHAIN, 990, 99000);
    ev.double_sign.validator_power = 150;
    n = enc(b, &ev);
    put("ds_power_as_history", b, n);
    /* tampered signature, tampered vote */
    ev = ds(key_sk, key_sk, FUZZ_CHAIN, 990, 99000);
    ev.double_sign.vote_b.signature[17] ^= 0x04;
    n = enc(b, &ev);
    put("ds_tampered_signature", b, n);
    ev = ds(key_sk, key_sk, FUZZ_CHAIN, 990, 99000);
    ev.double_sign.vote_a.block_id[0] ^= 0x01;
    n = enc(b, &ev);
    put("ds_tampered_block_id", b, n);
    /* not a conflict: equal blocks, heights, rounds, types differ */
    ev = ds(key_sk, key_sk, FUZZ_CHAIN, 990, 99000);
    ev.double_sign.vote_b = ev.double_sign.vote_a;
    n = enc(b, &ev);
    put("ds_equal_block_ids", b, n);
    ev.double_sign.vote_b = vote(key_sk, FUZZ_CHAIN, OPG_VOTE_PRECOMMIT, 991, 0, 0xbb);
    n = enc(b, &ev);
    put("ds_different_heights", b, n);
    ev.double_sign.vote_b = vote(key_sk, FUZZ_CHAIN, OPG_VOTE_PRECOMMIT, 990, 1, 0xbb);
    n = enc(b, &ev);
    put("ds_different_rounds", b, n);
    ev.double_sign.vote_b = vote(key_sk, FUZZ_CHAIN, OPG_VOTE_PREVOTE, 990, 0, 0xbb);
    n = enc(b, &ev);
    put("ds_different_types", b, n);
    /* two keys; an unknown signer; another chain; an unbonded node */
    ev = ds(key_sk, other_sk, FUZZ_CHAIN, 990, 99000);
    n = enc(b, &ev);
    put("ds_two_keys", b, n);
    ev = ds(other_sk, other_sk, FUZZ_CHAIN, 990, 99000);
    memcpy(ev.double_sign.consensus_key.bytes, other_pk, 32);
    n = enc(b, &ev);
    put("ds_unbonded_node", b, n);
    {
        uint8_t seed[32], pk[32], sk[64];
        memset(seed, 0x44, sizeof seed);
        crypto_sign_seed_keypair(pk, sk, seed);
        ev = ds(sk, sk, FUZZ_CHAIN, 990, 99000);
        memcpy(ev.double_sign.consensus_key.bytes, pk, 32);
        n = enc(b, &ev);
        put("ds_unknown_key", b, n);
    }
    ev = ds(key_sk, key_sk, "another-chain", 990, 99000);
    n = enc(b, &ev);
    put("ds_wrong_chain", b, n);

    /* faulty inference */
    ev = fault(1, 1, 995, 99000, 1);
    n = enc(b, &ev);
    put("fault_valid", b, n);
    ev = fault(2, 1, 899, 99000, 2);
    n = enc(b, &ev);
    put("fault_valid_tombstone_entry", b, n);
    ev = fault(3, 1, 995, 99000, 7);
    n = enc(b, &ev);
    put("fault_unknown_class", b, n);
    ev = fault(4, 2, 995, 99000, 1);
    n = enc(b, &ev);
    put("fault_unbonded_node", b, n);
    ev = fault(5, 44, 995, 99000, 1);
    n = enc(b, &ev);
    put("fault_unknown_node", b, n);
    ev = fault(6, 1, 10, 10, 1);
    n = enc(b, &ev);
    put("fault_too_old", b, n);
    ev = fault(7, 1, 1001, 99000, 1);
    n = enc(b, &ev);
    put("fault_future", b, n);
    ev = fault(9, 1, 995, 99950, 1);
    n = enc(b, &ev);
    put("fault_time_not_history", b, n);
    ev = fault(10, 1, 995, 99000, 1);
    ev.fault.reporter = id_n(1);
    n = enc(b, &ev);
    put("fault_self_report", b, n);
    ev = fault(11, 1, 995, 99000, 1);
    ev.fault.reporter = id_n(900);
    n = enc(b, &ev);
    put("fault_reporter_not_a_node", b, n);
    ev = fault(12, 1, 995, 99000, 1);
    ev.fault.reporter = id_n(2);
    n = enc(b, &ev);
    put("fault_reporter_not_a_verifier", b, n);

    /* malformed */
    ev = ds(key_sk, key_sk, FUZZ_CHAIN, 990, 99000);
    n = enc(b, &ev);
    put("bad_truncated", b, n - 1);
    b[n] = 0;
    put("bad_trailing_byte", b, n + 1);
    put("bad_header_only", b, 6);
    put("bad_empty", b, 0);
    uint8_t c[512];
    memcpy(c, b, n);
    c[0] = 'X';
    put("bad_magic", c, n);
    memcpy(c, b, n);
    c[4] = 2;
    put("bad_version", c, n);
    memcpy(c, b, n);
    c[5] = 2;
    put("bad_kind_length", c, n);
    memcpy(c, b, n);
    c[5] = 0;
    put("bad_kind_zero", c, n);
    memcpy(c, b, n);
    c[46] = 0x80;
    put("bad_power_huge", c, n);
    memcpy(c, b, n);
    c[54] = 3;
    put("bad_vote_type", c, n);
    memcpy(c, b, n);
    memset(c + 55, 0, 8);
    put("bad_vote_height_zero", c, n);
    memcpy(c, b, n);
    c[63] = 0xff;
    put("bad_vote_round", c, n);
    ev = fault(8, 1, 995, 99000, 1);
    n = enc(b, &ev);
    memset(b + 70, 0, 8);
    put("bad_fault_height_zero", b, n);
    return 0;
}
#endif
