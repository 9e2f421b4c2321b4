/*
 * test_slasher.c - the slashing engine (SEMANTICS.md section 4).
 *
 * Known answers worked by hand from the rules: the downtime threshold exactly at
 * and just past max_missed and start_height + window, the infraction height
 * height - 2 seen through unbonding entries, the bitmap reset, jailed nodes skipped;
 * double-sign evidence signed with libsodium (valid, tampered, equal block ids, two
 * keys, two heights, too old, tombstoned, unbonded, unknown key, future), slash at
 * infraction height - 1, jail forever, never unjailed; faulty inference with class
 * fractions, duplicate ids, the reporter reward and the correlated penalty; ids
 * forgotten after the max age. Every refusal leaves both state hashes and the event
 * list as they were. Also: the vote sign bytes and the evidence codec byte for
 * byte, parameters by key, save/load/save identity, allocation failures, and a long
 * fixed-seed run of random slashes and stake operations checking the registry's
 * and the slasher's invariants and conservation of tokens.
 */
#include "failalloc.h"
#include "harness.h"
#include "record_store.h"
#include "slasher_util.h"

/* ------------------------------------------------------------------ helpers */

static opg_slasher_params base_params(void)
{
    opg_slasher_params p;
    opg_slasher_params_init(&p);
    strcpy(p.chain_id, CHAIN);
    return p;
}

/* The splitter attached in the current test, if any: snapshots include its hash. */
static opg_splitter *g_splitter;

typedef struct snap {
    uint8_t r[32], s[32], sp[32];
    size_t n_events;
    uint8_t events[32]; /* BLAKE2b of the registry's event list */
} snap;

static void take(snap *x, opg_registry *r, opg_slasher *s)
{
    memset(x, 0, sizeof *x);
    opg_registry_state_hash(x->r, r);
    opg_slasher_state_hash(x->s, s);
    if (g_splitter)
        opg_splitter_state_hash(x->sp, g_splitter);
    const opg_event *ev = opg_registry_events(r, &x->n_events);
    crypto_generichash(x->events, 32, (const unsigned char *)ev, x->n_events * sizeof *ev, NULL, 0);
}

static int same_state(const snap *x, const snap *y)
{
    return memcmp(x->r, y->r, 32) == 0 && memcmp(x->s, y->s, 32) == 0 &&
           memcmp(x->sp, y->sp, 32) == 0;
}

/* Same state as the snapshot, no events, no records. */
static int unchanged(const snap *x, opg_registry *r, opg_slasher *s)
{
    snap y;
    take(&y, r, s);
    size_t nrec;
    opg_slasher_slashes(s, &nrec);
    return same_state(x, &y) && y.n_events == 0 && nrec == 0;
}

static opg_splitter *splitter_on(opg_registry *r, const opg_allocator *a)
{
    opg_splitter_params p;
    opg_splitter_params_init(&p);
    p.emission = OPG_EMISSION_NONE;
    opg_splitter *sp = NULL;
    if (opg_splitter_new(&sp, r, &p, a) != OPG_OK)
        abort();
    return sp;
}

static int commit1(opg_slasher *s, int key, uint64_t power, int signed_block, opg_height h,
                   opg_time t)
{
    opg_commit_sig e;
    memset(&e, 0, sizeof e);
    e.consensus_key = key_id(key);
    e.power = power;
    e.signed_block = signed_block;
    return opg_slasher_record_commit(s, &e, 1, h, t);
}

static size_t n_records(const opg_slasher *s)
{
    size_t n;
    opg_slasher_slashes(s, &n);
    return n;
}

static opg_u256 node_tokens(const opg_registry *r, unsigned op)
{
    opg_node_info ni;
    opg_id id = id_n(op);
    memset(&ni, 0, sizeof ni);
    opg_registry_node_get(&ni, r, &id);
    return ni.tokens;
}

/* The node's tokens are `want` (decimal text). */
#define CHECK_TOKENS(r, op, want)                                                    \
    do {                                                                             \
        opg_u256 tokens_ = node_tokens(r, op);                                       \
        CHECK_U256(tokens_, want);                                                   \
    } while (0)

static opg_node_info node_info(const opg_registry *r, unsigned op)
{
    opg_node_info ni;
    opg_id id = id_n(op);
    memset(&ni, 0, sizeof ni);
    opg_registry_node_get(&ni, r, &id);
    return ni;
}

static int count_events(const opg_registry *r, opg_event_kind kind, opg_u256 *sum)
{
    size_t n;
    const opg_event *e = opg_registry_events(r, &n);
    int c = 0;
    if (sum)
        memset(sum, 0, sizeof *sum);
    for (size_t i = 0; i < n; i++)
        if (e[i].kind == kind) {
            c++;
            if (sum)
                opg_u256_add(sum, sum, &e[i].amount);
        }
    return c;
}

/* The registry's block time of height h (0 if it has none). */
static opg_time hist_time(const opg_registry *r, opg_height h)
{
    opg_time t = 0;
    (void)opg_registry_block_time(&t, r, h);
    return t;
}

static opg_fault_evidence mk_fault(unsigned id, unsigned node, opg_height h, opg_time t,
                                   uint32_t cls, unsigned reporter)
{
    opg_fault_evidence f;
    memset(&f, 0, sizeof f);
    f.evidence_id = id_n(0xe000 + id);
    f.node = id_n(node);
    f.infraction_height = h;
    f.infraction_time = t;
    f.fault_class = cls;
    f.reporter = id_n(reporter);
    return f;
}

/* ------------------------------------------------------------- parameters */

static void test_params_defaults_and_keys(void)
{
    opg_registry *r;
    opg_slasher *s;
    CHECK_OK(opg_registry_new(&r, NULL, NULL, NULL));
    CHECK_OK(opg_slasher_new(&s, r, NULL, NULL));
    static const char *const want[][2] = {
        {"slashing.signed_blocks_window", "100"},
        {"slashing.min_signed_per_window", "0.5"},
        {"slashing.downtime_jail_duration", "600"},
        {"slashing.slash_fraction_double_sign", "0.05"},
        {"slashing.slash_fraction_downtime", "0.01"},
        {"evidence.max_age_num_blocks", "100000"},
        {"evidence.max_age_duration", "172800"},
        {"slashing.reporter_share", "0"},
        {"slashing.correlation_k", "0"},
        {"slashing.correlation_window", "86400"},
        {"slashing.defer_duration", "0"},
    };
    size_t nkeys = 0;
    while (opg_slasher_param_key(nkeys))
        nkeys++;
    CHECK(nkeys == sizeof want / sizeof want[0]);
    for (size_t i = 0; i < nkeys; i++) {
        char buf[64];
        CHECK(strcmp(opg_slasher_param_key(i), want[i][0]) == 0);
        CHECK_OK(opg_slasher_param_get(buf, sizeof buf, NULL, s, want[i][0]));
        CHECK(strcmp(buf, want[i][1]) == 0);
    }
    /* 100 - round(0.5 * 100) = 50 */
    CHECK(opg_slasher_max_missed(s) == 50);
    opg_slasher_params p;
    opg_slasher_params_get(&p, s);
    CHECK(strcmp(p.chain_id, "opg-1") == 0);

    /* refusals change nothing */
    uint8_t h0[32], h1[32];
    opg_slasher_state_hash(h0, s);
    CHECK_RC(opg_slasher_param_set(s, "slashing.nope", "1"), OPG_EKEY);
    CHECK_RC(opg_slasher_param_set(s, "slashing.signed_blocks_window", "0"), OPG_EINVAL);
    CHECK_RC(opg_slasher_param_set(s, "slashing.signed_blocks_window", "1000001"), OPG_EINVAL);
    CHECK_RC(opg_slasher_param_set(s, "slashing.min_signed_per_window", "1.1"), OPG_EINVAL);
    CHECK_RC(opg_slasher_param_set(s, "slashing.reporter_share", "x"), OPG_EPARSE);
    CHECK_RC(opg_slasher_param_set(s, "slashing.slash_fraction_downtime", "2"), OPG_EINVAL);
    opg_slasher_state_hash(h1, s);
    CHECK(memcmp(h0, h1, 32) == 0);
    char small[2];
    size_t needed = 0;
    CHECK_RC(opg_slasher_param_get(small, sizeof small, &needed, s,
                                   "slashing.signed_blocks_window"),
             OPG_EBUFS);
    CHECK(needed == 4);

    /* round half to even: window 10 * 0.25 = 2.5 -> 2, max_missed 8; 0.35 -> 3.5 -> 4 */
    CHECK_OK(opg_slasher_param_set(s, "slashing.signed_blocks_window", "10"));
    CHECK_OK(opg_slasher_param_set(s, "slashing.min_signed_per_window", "0.25"));
    CHECK(opg_slasher_max_missed(s) == 8);
    CHECK_OK(opg_slasher_param_set(s, "slashing.min_signed_per_window", "0.35"));
    CHECK(opg_slasher_max_missed(s) == 6);
    CHECK_OK(opg_slasher_param_set(s, "slashing.min_signed_per_window", "0.45"));
    CHECK(opg_slasher_max_missed(s) == 6); /* 4.5 -> 4 */
    opg_slasher_free(s);

    /* bad creation params */
    opg_slasher_params bad = base_params();
    strcpy(bad.chain_id, "has space");
    CHECK_RC(opg_slasher_new(&s, r, &bad, NULL), OPG_EINVAL);
    bad = base_params();
    bad.chain_id[0] = '\0';
    CHECK_RC(opg_slasher_new(&s, r, &bad, NULL), OPG_EINVAL);
    opg_fault_class fc[2] = {{7, dec_of("0.1"), 10, 0}, {7, dec_of("0.2"), 10, 0}};
    bad = base_params();
    bad.fault_classes = fc;
    bad.fault_class_count = 2;
    CHECK_RC(opg_slasher_new(&s, r, &bad, NULL), OPG_EINVAL); /* duplicate id */
    fc[1].id = 8;
    fc[1].slash_fraction = dec_of("1.5");
    CHECK_RC(opg_slasher_new(&s, r, &bad, NULL), OPG_EINVAL); /* fraction above 1 */
    fc[1].slash_fraction = dec_of("1");
    fc[1].tombstone = 2;
    CHECK_RC(opg_slasher_new(&s, r, &bad, NULL), OPG_EINVAL);
    fc[1].tombstone = 1;
    CHECK_OK(opg_slasher_new(&s, r, &bad, NULL));
    CHECK(opg_slasher_fault_class_count(s) == 2);
    opg_fault_class got;
    CHECK_OK(opg_slasher_fault_class_at(&got, s, 1));
    CHECK(got.id == 8 && got.tombstone == 1);
    CHECK_RC(opg_slasher_fault_class_at(&got, s, 2), OPG_ENOTFOUND);
    opg_slasher_free(s);
    opg_registry_free(r);
}

/* ------------------------------------------------------------------ votes */

static void test_vote_sign_bytes(void)
{
    opg_slasher_vote v;
    memset(&v, 0, sizeof v);
    v.type = OPG_VOTE_PRECOMMIT;
    v.height = UINT64_C(0x0102030405060708);
    v.round = 0x0a0b0c0d;
    for (int i = 0; i < 32; i++)
        v.block_id[i] = (uint8_t)(0xc0 + i);
    uint8_t buf[OPG_VOTE_SIGN_BYTES_MAX];
    size_t len = 0;
    CHECK_OK(opg_slasher_vote_sign_bytes(buf, sizeof buf, &len, "abc", &v));
    /* 11 tag + 1 + 3 chain + 1 type + 8 height + 4 round + 32 block = 60 */
    CHECK(len == 60);
    CHECK(memcmp(buf, "opg/vote/v1", 11) == 0);
    CHECK(buf[11] == 3 && memcmp(buf + 12, "abc", 3) == 0);
    CHECK(buf[15] == 2);
    static const uint8_t hr[12] = {1, 2, 3, 4, 5, 6, 7, 8, 0x0a, 0x0b, 0x0c, 0x0d};
    CHECK(memcmp(buf + 16, hr, 12) == 0);
    CHECK(memcmp(buf + 28, v.block_id, 32) == 0);
    /* the longest chain id gives the documented maximum */
    char chain50[51];
    memset(chain50, 'z', 50);
    chain50[50] = '\0';
    v.height = 1;
    CHECK_OK(opg_slasher_vote_sign_bytes(buf, sizeof buf, &len, chain50, &v));
    CHECK(len == OPG_VOTE_SIGN_BYTES_MAX && opg_slasher_vote_sign_bytes_max() == len);
    /* sizes, refusals */
    CHECK_RC(opg_slasher_vote_sign_bytes(NULL, 0, &len, "abc", &v), OPG_EBUFS);
    CHECK(len == 60);
    CHECK_RC(opg_slasher_vote_sign_bytes(buf, 59, &len, "abc", &v), OPG_EBUFS);
    char chain51[52];
    memset(chain51, 'z', 51);
    chain51[51] = '\0';
    CHECK_RC(opg_slasher_vote_sign_bytes(buf, sizeof buf, &len, chain51, &v), OPG_EINVAL);
    CHECK_RC(opg_slasher_vote_sign_bytes(buf, sizeof buf, &len, "", &v), OPG_EINVAL);
    v.type = 3;
    CHECK_RC(opg_slasher_vote_sign_bytes(buf, sizeof buf, &len, "abc", &v), OPG_EINVAL);
    v.type = 1;
    v.height = 0;
    CHECK_RC(opg_slasher_vote_sign_bytes(buf, sizeof buf, &len, "abc", &v), OPG_EINVAL);
    v.height = 1;
    v.round = UINT32_C(0x80000000);
    CHECK_RC(opg_slasher_vote_sign_bytes(buf, sizeof buf, &len, "abc", &v), OPG_EINVAL);

    /* a signature made over these bytes verifies; the stateless check agrees */
    opg_double_sign_evidence ev = mk_ds(0, 5, 100, 10);
    CHECK_OK(opg_slasher_double_sign_verify(CHAIN, &ev));
    CHECK_RC(opg_slasher_double_sign_verify("other-chain", &ev), OPG_ESIGNATURE);
    ev.vote_b.signature[10] ^= 1;
    CHECK_RC(opg_slasher_double_sign_verify(CHAIN, &ev), OPG_ESIGNATURE);
}

/* -------------------------------------------------------------- evidence codec */

static void test_evidence_codec(void)
{
    opg_evidence ev, back;
    memset(&ev, 0, sizeof ev);
    ev.kind = OPG_EVIDENCE_DOUBLE_SIGN;
    ev.double_sign = mk_ds(1, 7, -5, 42);
    uint8_t buf[400];
    size_t len = 0;
    CHECK_OK(opg_slasher_evidence_encode(buf, sizeof buf, &len, &ev));
    CHECK(len == 272 && opg_slasher_evidence_size(OPG_EVIDENCE_DOUBLE_SIGN) == 272);
    CHECK(memcmp(buf, "OPGE\x01\x01", 6) == 0);
    CHECK(memcmp(buf + 6, PK[1], 32) == 0);
    /* infraction time -5 as a big-endian i64, power 42 */
    static const uint8_t t5[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfb};
    CHECK(memcmp(buf + 38, t5, 8) == 0);
    CHECK(buf[53] == 42 && buf[46] == 0);
    /* vote a at 54: type, height 7, round 0, block, signature */
    CHECK(buf[54] == OPG_VOTE_PRECOMMIT && buf[62] == 7 && buf[67] == 0xaa);
    CHECK(memcmp(buf + 99, ev.double_sign.vote_a.signature, 64) == 0);
    CHECK(memcmp(buf + 163 + 45, ev.double_sign.vote_b.signature, 64) == 0);
    CHECK_OK(opg_slasher_evidence_decode(&back, buf, len));
    CHECK(back.kind == OPG_EVIDENCE_DOUBLE_SIGN);
    CHECK(memcmp(&back.double_sign, &ev.double_sign, sizeof ev.double_sign) == 0);

    /* malformed variants are OPG_EEVIDENCE and leave the output alone */
    uint8_t bad[400];
    memset(&back, 0x5a, sizeof back);
    const opg_evidence before = back;
    CHECK_RC(opg_slasher_evidence_decode(&back, buf, len - 1), OPG_EEVIDENCE);
    memcpy(bad, buf, len);
    bad[len] = 0;
    CHECK_RC(opg_slasher_evidence_decode(&back, bad, len + 1), OPG_EEVIDENCE);
    memcpy(bad, buf, len);
    bad[0] = 'X';
    CHECK_RC(opg_slasher_evidence_decode(&back, bad, len), OPG_EEVIDENCE);
    memcpy(bad, buf, len);
    bad[4] = 2; /* version */
    CHECK_RC(opg_slasher_evidence_decode(&back, bad, len), OPG_EEVIDENCE);
    memcpy(bad, buf, len);
    bad[5] = 3; /* kind */
    CHECK_RC(opg_slasher_evidence_decode(&back, bad, len), OPG_EEVIDENCE);
    memcpy(bad, buf, len);
    bad[5] = 2; /* fault kind with a double-sign length */
    CHECK_RC(opg_slasher_evidence_decode(&back, bad, len), OPG_EEVIDENCE);
    memcpy(bad, buf, len);
    bad[54] = 0; /* vote type */
    CHECK_RC(opg_slasher_evidence_decode(&back, bad, len), OPG_EEVIDENCE);
    memcpy(bad, buf, len);
    memset(bad + 46, 0, 8); /* power 0: "look it up", a valid form */
    CHECK_RC(opg_slasher_evidence_decode(&back, bad, len), OPG_OK);
    back = before;
    memcpy(bad, buf, len);
    bad[46] = 0x80; /* power above 2^63 - 1 */
    CHECK_RC(opg_slasher_evidence_decode(&back, bad, len), OPG_EEVIDENCE);
    memcpy(bad, buf, len);
    bad[55] = 0x80; /* vote a height above 2^63 - 1 */
    CHECK_RC(opg_slasher_evidence_decode(&back, bad, len), OPG_EEVIDENCE);
    memcpy(bad, buf, len);
    bad[63] = 0x80; /* vote a round above 2^31 - 1 */
    CHECK_RC(opg_slasher_evidence_decode(&back, bad, len), OPG_EEVIDENCE);
    CHECK_RC(opg_slasher_evidence_decode(&back, buf, 3), OPG_EEVIDENCE);
    CHECK(memcmp(&back, &before, sizeof back) == 0);

    /* fault evidence */
    memset(&ev, 0, sizeof ev);
    ev.kind = OPG_EVIDENCE_FAULT;
    ev.fault = mk_fault(1, 2, 300, 4000, 9, 77);
    CHECK_OK(opg_slasher_evidence_encode(buf, sizeof buf, &len, &ev));
    CHECK(len == 122 && opg_slasher_evidence_size(OPG_EVIDENCE_FAULT) == 122);
    CHECK(memcmp(buf, "OPGE\x01\x02", 6) == 0);
    CHECK(buf[6 + 64 + 6] == 0x01 && buf[6 + 64 + 7] == 0x2c); /* height 300 */
    CHECK(buf[6 + 64 + 16 + 3] == 9);                          /* class */
    CHECK_OK(opg_slasher_evidence_decode(&back, buf, len));
    CHECK(back.kind == OPG_EVIDENCE_FAULT && memcmp(&back.fault, &ev.fault, sizeof ev.fault) == 0);
    memcpy(bad, buf, len);
    memset(bad + 70, 0, 8); /* infraction height 0 */
    CHECK_RC(opg_slasher_evidence_decode(&back, bad, len), OPG_EEVIDENCE);

    /* encode: sizes and refusals */
    CHECK_RC(opg_slasher_evidence_encode(NULL, 0, &len, &ev), OPG_EBUFS);
    CHECK(len == 122);
    CHECK_RC(opg_slasher_evidence_encode(buf, 121, &len, &ev), OPG_EBUFS);
    ev.fault.infraction_height = 0;
    CHECK_RC(opg_slasher_evidence_encode(buf, sizeof buf, &len, &ev), OPG_EEVIDENCE);
    ev.kind = (opg_evidence_kind)9;
    CHECK_RC(opg_slasher_evidence_encode(buf, sizeof buf, &len, &ev), OPG_EEVIDENCE);
}

/* --------------------------------------------------------------- liveness */

/* window 10, min_signed_per_window 0.5: min_signed = round(5) = 5, max_missed = 5. */
static void test_downtime_threshold(void)
{
    opg_registry *r;
    opg_slasher *s;
    opg_slasher_params p = base_params();
    p.signed_blocks_window = 10;
    CHECK_OK(opg_registry_new(&r, NULL, NULL, NULL));
    CHECK_OK(opg_slasher_new(&s, r, &p, NULL));
    CHECK(opg_slasher_max_missed(s) == 5);
    CHECK_OK(mk_node(r, 1, 1, OPG_ROLE_CONSENSUS, 100 * M, 1, 1000));
    opg_signing_info si;
    opg_id a = id_n(1);
    CHECK_RC(opg_slasher_signing_info(&si, s, &a), OPG_ENOTFOUND); /* not bonded yet */
    CHECK_OK(opg_registry_end_block(r, 1, 1000));
    CHECK_OK(opg_slasher_signing_info(&si, s, &a));
    CHECK(si.start_height == 1 && si.index_offset == 0 && si.missed_blocks == 0);

    /* heights 2..6 signed, 7..11 missed: 5 misses = max_missed, no slash */
    for (opg_height h = 2; h <= 11; h++) {
        CHECK_OK(commit1(s, 1, 100, h <= 6, h, 1000 + (opg_time)h));
        CHECK(n_records(s) == 0);
    }
    CHECK_OK(opg_slasher_signing_info(&si, s, &a));
    CHECK(si.index_offset == 10 && si.missed_blocks == 5);
    int bit;
    CHECK_OK(opg_slasher_missed_bit(&bit, s, &a, 4));
    CHECK(bit == 0); /* height 6 */
    CHECK_OK(opg_slasher_missed_bit(&bit, s, &a, 5));
    CHECK(bit == 1); /* height 7 */
    CHECK_RC(opg_slasher_missed_bit(&bit, s, &a, 10), OPG_EINVAL);

    /* height 12: index 0 (height 2, signed) becomes missed: 6 > 5 and 12 > 1 + 10 */
    CHECK_OK(commit1(s, 1, 100, 0, 12, 1012));
    size_t n;
    const opg_slasher_record *rec = opg_slasher_slashes(s, &n);
    CHECK(n == 1);
    CHECK(rec[0].reason == OPG_SLASH_DOWNTIME);
    CHECK(opg_id_cmp(&rec[0].node, &a) == 0);
    CHECK(rec[0].infraction_height == 10); /* 12 - 2 */
    CHECK(rec[0].power == 100);
    CHECK_DEC(rec[0].fraction, "0.01");
    /* to_slash = trunc(100 * 10^6 * 0.01) = 1,000,000, all from the node */
    CHECK_U256(rec[0].slash.burned_total, "1000000");
    CHECK_U256(rec[0].slash.burned_node, "1000000");
    CHECK_U256(rec[0].burned, "1000000");
    CHECK(opg_u256_is_zero(&rec[0].reporter_reward));
    CHECK(rec[0].jailed == 1 && rec[0].jailed_until == 1012 + 600 && !rec[0].tombstoned);
    CHECK_TOKENS(r, 1, "99000000");
    opg_node_info ni = node_info(r, 1);
    CHECK(ni.jailed && !ni.tombstoned && ni.jailed_until == 1612);
    opg_u256 burned;
    CHECK(count_events(r, OPG_EVENT_BURNED, &burned) == 1);
    CHECK_U256(burned, "1000000");
    CHECK(count_events(r, OPG_EVENT_NODE_JAILED, NULL) == 1);
    opg_supply_info sup;
    opg_registry_supply(&sup, r);
    CHECK_U256(sup.burned, "1000000");

    /* reset: counter, offset and bitmap; start height kept */
    CHECK_OK(opg_slasher_signing_info(&si, s, &a));
    CHECK(si.index_offset == 0 && si.missed_blocks == 0 && si.start_height == 1);
    for (uint64_t i = 0; i < 10; i++) {
        CHECK_OK(opg_slasher_missed_bit(&bit, s, &a, i));
        CHECK(bit == 0);
    }

    /* jailed: skipped by liveness (nothing counted) */
    uint8_t h0[32], h1[32];
    opg_slasher_state_hash(h0, s);
    CHECK_OK(commit1(s, 1, 100, 0, 13, 1013));
    CHECK(n_records(s) == 0);
    opg_slasher_state_hash(h1, s);
    CHECK(memcmp(h0, h1, 32) == 0);
    CHECK_OK(opg_slasher_signing_info(&si, s, &a));
    CHECK(si.index_offset == 0);

    /* leaves the set at end_block; unjail after the jail time, bonds again: new start */
    CHECK_OK(opg_registry_end_block(r, 13, 1013));
    CHECK_RC(opg_registry_unjail(r, &a, 1611), OPG_ETOOSOON);
    CHECK_OK(opg_registry_unjail(r, &a, 1612));
    CHECK_OK(opg_registry_end_block(r, 14, 1614));
    CHECK_OK(opg_slasher_signing_info(&si, s, &a));
    CHECK(si.start_height == 14 && si.index_offset == 0 && si.missed_blocks == 0);
    /* grace again: 10 misses up to height 24 = 14 + 10 do not slash; 25 does */
    for (opg_height h = 15; h <= 24; h++) {
        CHECK_OK(commit1(s, 1, 99, 0, h, 1600 + (opg_time)h));
        CHECK(n_records(s) == 0);
    }
    CHECK_OK(commit1(s, 1, 99, 0, 25, 1625));
    CHECK(n_records(s) == 1);
    CHECK_OK(opg_slasher_check(s));
    CHECK_OK(opg_registry_check(r));
    opg_slasher_free(s);
    opg_registry_free(r);
}

/* Six misses before start_height + window do not slash; the first block past it does. */
static void test_downtime_grace_period(void)
{
    opg_registry *r;
    opg_slasher *s;
    opg_slasher_params p = base_params();
    p.signed_blocks_window = 10;
    CHECK_OK(opg_registry_new(&r, NULL, NULL, NULL));
    CHECK_OK(opg_slasher_new(&s, r, &p, NULL));
    CHECK_OK(mk_node(r, 1, 1, OPG_ROLE_CONSENSUS, 100 * M, 1, 0));
    CHECK_OK(opg_registry_end_block(r, 1, 0));
    for (opg_height h = 2; h <= 11; h++) {
        CHECK_OK(commit1(s, 1, 100, 0, h, (opg_time)h));
        CHECK(n_records(s) == 0); /* the counter passes 5 at height 7, but 11 <= 1 + 10 */
    }
    opg_signing_info si;
    opg_id a = id_n(1);
    CHECK_OK(opg_slasher_signing_info(&si, s, &a));
    CHECK(si.missed_blocks == 10);
    /* height 12 signs: index 0 flips back, 9 missed > 5 and 12 > 11: slashed */
    CHECK_OK(commit1(s, 1, 100, 1, 12, 12));
    CHECK(n_records(s) == 1);
    opg_slasher_free(s);
    opg_registry_free(r);
}

/* The slash lands at height - 2: an unbonding entry created at that height is
 * slashed, one created a block earlier is not. Window 2, min 0.5: max_missed 1. */
static void test_downtime_infraction_height(void)
{
    opg_registry *r;
    opg_slasher *s;
    opg_slasher_params p = base_params();
    p.signed_blocks_window = 2;
    CHECK_OK(opg_registry_new(&r, NULL, NULL, NULL));
    CHECK_OK(opg_slasher_new(&s, r, &p, NULL));
    CHECK(opg_slasher_max_missed(s) == 1);
    opg_id a = id_n(1), d = id_n(500), e = id_n(501);
    CHECK_OK(mk_node(r, 1, 1, OPG_ROLE_CONSENSUS, 100 * M, 1, 0));
    opg_u256 amt = u64v(50 * M);
    CHECK_OK(opg_registry_delegate(NULL, r, &d, &a, &amt, 1, 0));
    CHECK_OK(opg_registry_delegate(NULL, r, &e, &a, &amt, 1, 0));
    CHECK_OK(opg_registry_end_block(r, 1, 0));
    CHECK_OK(commit1(s, 1, 200, 1, 2, 2));
    CHECK_OK(opg_registry_undelegate(NULL, NULL, r, &d, &a, &amt, 2, 2)); /* before */
    CHECK_OK(commit1(s, 1, 200, 1, 3, 3));
    CHECK_OK(opg_registry_undelegate(NULL, NULL, r, &e, &a, &amt, 3, 3)); /* at */
    CHECK_OK(commit1(s, 1, 200, 0, 4, 4));
    CHECK(n_records(s) == 0); /* 1 missed */
    CHECK_OK(commit1(s, 1, 200, 0, 5, 5));
    size_t n;
    const opg_slasher_record *rec = opg_slasher_slashes(s, &n);
    CHECK(n == 1);
    CHECK(rec[0].infraction_height == 3);
    /* to_slash = trunc(200 * 10^6 * 0.01) = 2,000,000; e's entry (created at 3 >= 3)
     * pays trunc(0.01 * 50,000,000) = 500,000; the node the remaining 1,500,000 */
    CHECK_U256(rec[0].slash.burned_unbonding, "500000");
    CHECK_U256(rec[0].slash.burned_node, "1500000");
    CHECK_U256(rec[0].slash.burned_total, "2000000");
    CHECK_TOKENS(r, 1, "98500000");
    opg_unbonding_info ub;
    size_t cnt;
    CHECK_OK(opg_registry_unbondings_of(&ub, 1, &cnt, r, &d));
    CHECK(cnt == 1);
    CHECK_U256(ub.balance, "50000000"); /* created at 2 < 3: untouched */
    CHECK_OK(opg_registry_unbondings_of(&ub, 1, &cnt, r, &e));
    CHECK_U256(ub.balance, "49500000");
    /* at height 1 the infraction height is clamped at 0 */
    CHECK_OK(opg_registry_check(r));
    opg_slasher_free(s);
    opg_registry_free(r);
}

/*
 * With the reward splitter attached, a downtime slash fires its slash hook with the
 * effective fraction, and a delegator's rewards across the slash follow SEMANTICS
 * section 3. Node 1: rate 0, self 100e6, delegator 500 with 100e6; tax 0, no mint.
 * Periods: creation 1 -> self-delegation 2 -> delegation 3 (500 starts at prev 2,
 * stake 100e6). Block 2 allocates 1000 (period 3). Downtime slash at height 4:
 * to_slash = trunc(200e6 * 0.01) = 2e6, effective fraction quo_round_up(2e6, 200e6)
 * = 0.01; historical[3] = quo_truncate(1000, 200e6) = 0.000005. Block 5 allocates
 * 1000 to 198e6 tokens; the withdrawal closes period 4: ratio quo_truncate(1000,
 * 198e6) = 0.000005050505050505. Rewards: mul_truncate(0.000005, 100e6) = 500 before
 * the slash; stake mul_truncate(100e6, 0.99) = 99e6 (= tokens_from_shares now);
 * mul_truncate(0.000005050505050505, 99e6) = 5.050505050505 * 99 = 499.999999999995
 * after: 999.999999999995, of which 999 whole units are paid.
 */
static void test_splitter_rewards_across_slash(void)
{
    opg_registry *r;
    opg_slasher *s;
    opg_splitter *sp;
    opg_splitter_params spp;
    opg_splitter_params_init(&spp);
    spp.community_tax = dec_of("0");
    spp.emission = OPG_EMISSION_NONE;
    opg_slasher_params p = base_params();
    p.signed_blocks_window = 2;
    CHECK_OK(opg_registry_new(&r, NULL, NULL, NULL));
    CHECK_OK(opg_splitter_new(&sp, r, &spp, NULL));
    CHECK_OK(opg_slasher_new(&s, r, &p, NULL));
    opg_id a = id_n(1), d = id_n(500);
    opg_u256 amt = u64v(100 * M), fee = u64v(1000);
    CHECK_OK(mk_node(r, 1, 1, OPG_ROLE_CONSENSUS, 100 * M, 1, 0));
    CHECK_OK(opg_registry_delegate(NULL, r, &d, &a, &amt, 1, 0));
    CHECK_OK(opg_registry_end_block(r, 1, 0));
    opg_commit_vote v;
    memset(&v, 0, sizeof v);
    v.consensus_key = key_id(1);
    v.power = 200;
    CHECK_OK(commit1(s, 1, 200, 0, 2, 2));
    CHECK_OK(opg_splitter_add_fees(sp, &fee));
    CHECK_OK(opg_splitter_allocate(sp, &v, 1, 2, 2));
    CHECK_OK(commit1(s, 1, 200, 0, 3, 3));
    CHECK_OK(commit1(s, 1, 200, 0, 4, 4));
    size_t n;
    const opg_slasher_record *rec = opg_slasher_slashes(s, &n);
    CHECK(n == 1);
    CHECK_DEC(rec[0].slash.effective_fraction, "0.01");
    opg_node_rewards nr;
    CHECK_OK(opg_splitter_node_rewards(&nr, sp, &a));
    CHECK(nr.slashes == 1);
    v.power = 198;
    CHECK_OK(opg_splitter_add_fees(sp, &fee));
    CHECK_OK(opg_splitter_allocate(sp, &v, 1, 5, 5));
    opg_dec pending;
    CHECK_OK(opg_splitter_pending_rewards(&pending, sp, &d, &a, 5));
    CHECK_DEC(pending, "999.999999999995");
    opg_u256 paid;
    CHECK_OK(opg_splitter_withdraw_rewards(&paid, sp, &d, &a, 5, 5));
    CHECK_U256(paid, "999");
    CHECK_OK(opg_splitter_check(sp));
    CHECK_OK(opg_slasher_check(s));
    CHECK_OK(opg_registry_check(r));
    opg_slasher_free(s);
    opg_splitter_free(sp);
    opg_registry_free(r);
}

/* Several nodes in one commit: jailed ones skipped, each counted, refusals. */
static void test_commit_many_nodes(void)
{
    opg_registry *r;
    opg_slasher *s;
    opg_slasher_params p = base_params();
    p.signed_blocks_window = 4; /* min_signed 2, max_missed 2 */
    CHECK_OK(opg_registry_new(&r, NULL, NULL, NULL));
    CHECK_OK(opg_slasher_new(&s, r, &p, NULL));
    for (unsigned i = 1; i <= 4; i++)
        CHECK_OK(mk_node(r, i, (int)i, OPG_ROLE_CONSENSUS, (10 + i) * M, 1, 0));
    CHECK_OK(mk_node(r, 9, 9, OPG_ROLE_CONSENSUS, 10 * M, 1, 0));
    opg_id n3 = id_n(3), n9 = id_n(9);
    CHECK_OK(opg_registry_node_set_roles(r, &n9, OPG_ROLE_INFERENCE)); /* never bonds */
    CHECK_OK(opg_registry_end_block(r, 1, 0));
    CHECK_OK(opg_registry_jail(r, &n3, 50));

    opg_commit_sig e[4];
    memset(e, 0, sizeof e);
    for (int i = 0; i < 4; i++) {
        e[i].consensus_key = key_id(i + 1);
        e[i].power = 10;
    }
    /* nodes 1 and 2 miss everything, 3 is jailed, 4 signs */
    e[3].signed_block = 1;
    for (opg_height h = 2; h <= 5; h++) {
        CHECK_OK(opg_slasher_record_commit(s, e, 4, h, (opg_time)h));
        CHECK(n_records(s) == 0);
    }
    /* height 6 > 1 + 4, missed 3 > 2 for nodes 1 and 2: two slashes, commit order */
    CHECK_OK(opg_slasher_record_commit(s, e, 4, 6, 6));
    size_t n;
    const opg_slasher_record *rec = opg_slasher_slashes(s, &n);
    CHECK(n == 2);
    opg_id n1 = id_n(1), n2 = id_n(2), n4 = id_n(4);
    CHECK(opg_id_cmp(&rec[0].node, &n1) == 0 && opg_id_cmp(&rec[1].node, &n2) == 0);
    /* 10 * 10^6 * 0.01 = 100,000 each */
    CHECK_U256(rec[0].slash.burned_total, "100000");
    CHECK_U256(rec[1].slash.burned_total, "100000");
    CHECK(count_events(r, OPG_EVENT_BURNED, NULL) == 2);
    CHECK(count_events(r, OPG_EVENT_NODE_JAILED, NULL) == 2);
    opg_signing_info si;
    CHECK_OK(opg_slasher_signing_info(&si, s, &n4));
    CHECK(si.index_offset == 5 && si.missed_blocks == 0);
    CHECK_OK(opg_slasher_signing_info(&si, s, &n3));
    CHECK(si.index_offset == 0); /* jailed all along */

    /* refusals: unknown key, a node twice, a node never bonded; nothing changes */
    snap x;
    take(&x, r, s);
    opg_commit_sig bad[2];
    memcpy(bad, e + 3, sizeof bad[0]);
    memcpy(bad + 1, e + 3, sizeof bad[0]);
    CHECK_RC(opg_slasher_record_commit(s, bad, 2, 7, 7), OPG_EINVAL);
    CHECK(unchanged(&x, r, s));
    bad[1].consensus_key = key_id(12);
    CHECK_RC(opg_slasher_record_commit(s, bad, 2, 7, 7), OPG_ENOTFOUND);
    CHECK(unchanged(&x, r, s));
    bad[1].consensus_key = key_id(9);
    CHECK_RC(opg_slasher_record_commit(s, bad, 2, 7, 7), OPG_ESTATUS);
    CHECK(unchanged(&x, r, s));
    CHECK_RC(opg_slasher_record_commit(s, NULL, 1, 7, 7), OPG_EINVAL);
    CHECK_OK(opg_slasher_record_commit(s, NULL, 0, 7, 7));
    CHECK_OK(opg_slasher_check(s));
    opg_slasher_free(s);
    opg_registry_free(r);
}

/* A node that leaves the registry takes its signing info along; a node created in
 * its slot starts without one. */
static void test_node_removed_drops_info(void)
{
    opg_registry *r;
    opg_slasher *s;
    opg_registry_params rp;
    opg_registry_params_init(&rp);
    rp.unbonding_time = 10;
    opg_slasher_params p = base_params();
    p.signed_blocks_window = 4;
    CHECK_OK(opg_registry_new(&r, &rp, NULL, NULL));
    CHECK_OK(opg_slasher_new(&s, r, &p, NULL));
    CHECK_OK(mk_node(r, 1, 1, OPG_ROLE_CONSENSUS, 10 * M, 1, 0));
    CHECK_OK(opg_registry_end_block(r, 1, 0));
    CHECK_OK(commit1(s, 1, 10, 0, 2, 2));
    opg_id a = id_n(1);
    opg_signing_info si;
    CHECK_OK(opg_slasher_signing_info(&si, s, &a));
    CHECK(si.missed_blocks == 1);
    opg_u256 all = u64v(10 * M);
    CHECK_OK(opg_registry_undelegate(NULL, NULL, r, &a, &a, &all, 2, 2));
    CHECK_OK(opg_registry_end_block(r, 2, 2));   /* jailed (self-bond), leaves the set */
    CHECK_OK(opg_registry_end_block(r, 3, 100)); /* unbonded, no shares: removed */
    CHECK(opg_registry_node_count(r) == 0);
    CHECK_RC(opg_slasher_signing_info(&si, s, &a), OPG_ENOTFOUND);
    CHECK_OK(opg_slasher_check(s));
    CHECK_OK(mk_node(r, 2, 2, OPG_ROLE_CONSENSUS, 10 * M, 4, 101));
    opg_id b = id_n(2);
    CHECK_RC(opg_slasher_signing_info(&si, s, &b), OPG_ENOTFOUND);
    CHECK_OK(opg_registry_end_block(r, 4, 101));
    CHECK_OK(opg_slasher_signing_info(&si, s, &b));
    CHECK(si.start_height == 4 && si.missed_blocks == 0 && si.index_offset == 0);
    CHECK_OK(opg_slasher_check(s));
    opg_slasher_free(s);
    opg_registry_free(r);
}

/* A slasher created on a registry with bonded nodes gives them signing infos that
 * start at height 0; nodes not bonded get theirs when they bond. */
static void test_created_on_live_registry(void)
{
    opg_registry *r;
    opg_slasher *s;
    CHECK_OK(opg_registry_new(&r, NULL, NULL, NULL));
    CHECK_OK(mk_node(r, 1, 1, OPG_ROLE_CONSENSUS, 10 * M, 1, 0));
    CHECK_OK(opg_registry_end_block(r, 1, 0));
    CHECK_OK(mk_node(r, 2, 2, OPG_ROLE_CONSENSUS, 10 * M, 2, 0));
    opg_slasher_params p = base_params();
    CHECK_OK(opg_slasher_new(&s, r, &p, NULL));
    opg_id a = id_n(1), b = id_n(2);
    opg_signing_info si;
    CHECK_OK(opg_slasher_signing_info(&si, s, &a));
    CHECK(si.start_height == 0);
    CHECK_RC(opg_slasher_signing_info(&si, s, &b), OPG_ENOTFOUND);
    CHECK_OK(opg_registry_end_block(r, 2, 0));
    CHECK_OK(opg_slasher_signing_info(&si, s, &b));
    CHECK(si.start_height == 2);
    opg_slasher_free(s);
    opg_registry_free(r);
}

/* A new window resets every bitmap, counter and offset; start heights stay. */
static void test_window_change_resets(void)
{
    opg_registry *r;
    opg_slasher *s;
    opg_slasher_params p = base_params();
    p.signed_blocks_window = 10;
    CHECK_OK(opg_registry_new(&r, NULL, NULL, NULL));
    CHECK_OK(opg_slasher_new(&s, r, &p, NULL));
    CHECK_OK(mk_node(r, 1, 1, OPG_ROLE_CONSENSUS, 100 * M, 1, 0));
    CHECK_OK(opg_registry_end_block(r, 1, 0));
    for (opg_height h = 2; h <= 5; h++)
        CHECK_OK(commit1(s, 1, 100, 0, h, (opg_time)h));
    opg_signing_info si;
    opg_id a = id_n(1);
    CHECK_OK(opg_slasher_signing_info(&si, s, &a));
    CHECK(si.missed_blocks == 4 && si.index_offset == 4);
    /* the same value: nothing happens */
    CHECK_OK(opg_slasher_param_set(s, "slashing.signed_blocks_window", "10"));
    CHECK_OK(opg_slasher_signing_info(&si, s, &a));
    CHECK(si.missed_blocks == 4);
    CHECK_OK(opg_slasher_param_set(s, "slashing.signed_blocks_window", "200"));
    CHECK_OK(opg_slasher_signing_info(&si, s, &a));
    CHECK(si.missed_blocks == 0 && si.index_offset == 0 && si.start_height == 1);
    int bit;
    CHECK_OK(opg_slasher_missed_bit(&bit, s, &a, 199));
    CHECK(bit == 0);
    CHECK(opg_slasher_max_missed(s) == 100);
    CHECK_OK(commit1(s, 1, 100, 0, 6, 6));
    CHECK_OK(opg_slasher_missed_bit(&bit, s, &a, 0));
    CHECK(bit == 1);
    CHECK_OK(opg_slasher_check(s));
    opg_slasher_free(s);
    opg_registry_free(r);
}

/* The kind byte and, for a missed chunk, the chunk index of a change. */
static int change_is(const opg_record *c, int kind, int present, uint32_t chunk)
{
    if (c->key[0] != OPG_RECORDS_SLASHER || c->key[1] != kind || c->present != present)
        return 0;
    if (kind != 4)
        return 1;
    uint32_t k = (uint32_t)c->key[34] << 24 | (uint32_t)c->key[35] << 16 | (uint32_t)c->key[36] << 8 | c->key[37];
    return c->key_len == 38 && k == chunk && (!present || c->value_len == 1 + 16 * 8);
}

/* The change sets worked by hand: a block changes the signer's signing record, and a
 * missed chunk only where a bit flips; a window of 2,048 blocks has two chunks of
 * 1,024; a window change rewrites the signing record and drops the chunks; a removed
 * node's records are deleted. */
static void test_change_sets(void)
{
    opg_registry *r;
    opg_slasher *s;
    opg_registry_params rp;
    opg_registry_params_init(&rp);
    rp.unbonding_time = 10;
    opg_slasher_params p = base_params();
    p.signed_blocks_window = 2048;
    CHECK_OK(opg_registry_new(&r, &rp, NULL, NULL));
    CHECK_OK(opg_slasher_new(&s, r, &p, NULL));
    CHECK_OK(mk_node(r, 1, 1, OPG_ROLE_CONSENSUS, 10 * M, 1, 0));
    CHECK_OK(opg_registry_end_block(r, 1, 0));
    uint8_t root[32], scratch[32];
    const opg_record *ch;
    size_t n;
    CHECK_OK(opg_slasher_commit(root, &ch, &n, s)); /* params, state, node 1's signing */
    CHECK(n == 3 && change_is(&ch[0], 0, 1, 0) && change_is(&ch[1], 1, 1, 0) && change_is(&ch[2], 3, 1, 0));
    CHECK_OK(commit1(s, 1, 10, 1, 2, 2)); /* signed: the offset moves, no bit */
    CHECK_OK(opg_slasher_commit(root, &ch, &n, s));
    CHECK(n == 1 && change_is(&ch[0], 3, 1, 0) && ch[0].value_len == 1 + 3 * 8);
    CHECK_OK(commit1(s, 1, 10, 0, 3, 3)); /* missed: bit 1 of chunk 0 */
    CHECK_OK(opg_slasher_commit(root, &ch, &n, s));
    CHECK(n == 2 && change_is(&ch[0], 3, 1, 0) && change_is(&ch[1], 4, 1, 0));
    CHECK(ch[1].value[1 + 7] == 2); /* word 0, big-endian: bit 1 */
    for (opg_height h = 4; h <= 1025; h++) /* signed up to index 1023 */
        CHECK_OK(commit1(s, 1, 10, 1, h, (opg_time)h));
    CHECK_OK(commit1(s, 1, 10, 0, 1026, 1026)); /* missed: index 1024, chunk 1 */
    CHECK_OK(opg_slasher_commit(root, &ch, &n, s));
    CHECK(n == 2 && change_is(&ch[0], 3, 1, 0) && change_is(&ch[1], 4, 1, 1));
    CHECK_OK(opg_slasher_root_from_scratch(scratch, s));
    CHECK(memcmp(root, scratch, 32) == 0);
    /* a proof of the signing record */
    uint8_t key[OPG_RECORD_KEY_MAX], proof[OPG_PROOF_MAX_BYTES];
    size_t klen, plen;
    opg_id a = id_n(1);
    CHECK_OK(opg_slasher_key_signing(key, &klen, &a));
    CHECK_OK(opg_slasher_prove(proof, sizeof proof, &plen, s, key, klen));
    uint8_t want[25] = {1};
    opg_signing_info si;
    CHECK_OK(opg_slasher_signing_info(&si, s, &a));
    uint64_t f[3] = {si.start_height, si.index_offset, si.missed_blocks};
    for (int k = 0; k < 24; k++)
        want[1 + k] = (uint8_t)(f[k / 8] >> (56 - 8 * (k % 8)));
    CHECK(si.index_offset == 1025 && si.missed_blocks == 2);
    CHECK_OK(opg_proof_verify(root, key, klen, want, sizeof want, 1, proof, plen));
    /* a window change: params and signing put, both chunks deleted */
    CHECK_OK(opg_slasher_param_set(s, "slashing.signed_blocks_window", "10"));
    CHECK_OK(opg_slasher_commit(root, &ch, &n, s));
    CHECK(n == 4 && change_is(&ch[0], 0, 1, 0) && change_is(&ch[1], 3, 1, 0) && change_is(&ch[2], 4, 0, 0) &&
          change_is(&ch[3], 4, 0, 1));
    /* a miss, then the node leaves: its signing record and chunk are deleted */
    CHECK_OK(commit1(s, 1, 10, 0, 1027, 1027));
    opg_u256 all = u64v(10 * M);
    CHECK_OK(opg_registry_undelegate(NULL, NULL, r, &a, &a, &all, 1027, 1027));
    CHECK_OK(opg_registry_end_block(r, 1027, 1027));
    CHECK_OK(opg_registry_end_block(r, 1028, 2000)); /* unbonded, no shares: removed */
    CHECK(opg_registry_node_count(r) == 0);
    CHECK_OK(opg_slasher_commit(root, &ch, &n, s));
    CHECK(n == 1 && change_is(&ch[0], 3, 0, 0)); /* the chunk was made and dropped unseen */
    CHECK_OK(opg_slasher_root_from_scratch(scratch, s));
    CHECK(memcmp(root, scratch, 32) == 0);
    opg_slasher_free(s);
    opg_registry_free(r);
}

/* ------------------------------------------------------------ double sign */

typedef struct ds_fx {
    opg_registry *r;
    opg_slasher *s;
} ds_fx;

/* Node 1 (key 1) with 100 * 10^6 self-bond and delegators 500 (unbonds at height 3)
 * and 501 (unbonds at height 4), 50 * 10^6 each; bonded at height 1; now height 10.
 * The registry's history: block times 100 (heights 1..4), 150 (5..7), 180 (8..);
 * node 1's power 200 at heights 3..6 and 100 from 7 on (updates at 1 and 5). */
static int ds_setup(ds_fx *f)
{
    opg_slasher_params p = base_params();
    if (opg_registry_new(&f->r, NULL, NULL, NULL) || opg_slasher_new(&f->s, f->r, &p, NULL))
        return 1;
    opg_id a = id_n(1), d = id_n(500), e = id_n(501);
    opg_u256 amt = u64v(50 * M);
    int rc = mk_node(f->r, 1, 1, OPG_ROLE_CONSENSUS, 100 * M, 1, 100);
    rc |= mk_node(f->r, 2, 2, OPG_ROLE_CONSENSUS, 100 * M, 1, 100);
    rc |= opg_registry_delegate(NULL, f->r, &d, &a, &amt, 1, 100);
    rc |= opg_registry_delegate(NULL, f->r, &e, &a, &amt, 1, 100);
    rc |= opg_registry_end_block(f->r, 1, 100);
    rc |= opg_registry_undelegate(NULL, NULL, f->r, &d, &a, &amt, 3, 130);
    rc |= opg_registry_undelegate(NULL, NULL, f->r, &e, &a, &amt, 4, 140);
    rc |= opg_registry_end_block(f->r, 5, 150);
    rc |= opg_registry_end_block(f->r, 8, 180);
    return rc;
}

static void ds_free(ds_fx *f)
{
    opg_slasher_free(f->s);
    opg_registry_free(f->r);
}

static void test_double_sign_valid(void)
{
    ds_fx f;
    CHECK(ds_setup(&f) == 0);
    opg_double_sign_evidence ev = mk_ds(1, 5, 150, 200);
    opg_slasher_record rec;
    CHECK_OK(opg_slasher_double_sign(&rec, f.s, &ev, 10, 200));
    CHECK(rec.reason == OPG_SLASH_DOUBLE_SIGN);
    CHECK(rec.infraction_height == 4); /* 5 - 1 */
    CHECK(rec.power == 200);
    CHECK_DEC(rec.fraction, "0.05");
    /* to_slash = trunc(200 * 10^6 * 0.05) = 10,000,000. The entry created at 4 >= 4
     * pays trunc(0.05 * 50,000,000) = 2,500,000; the one at 3 is untouched; the node
     * pays 7,500,000 of its 100,000,000. */
    CHECK_U256(rec.slash.burned_unbonding, "2500000");
    CHECK_U256(rec.slash.burned_node, "7500000");
    CHECK_U256(rec.slash.burned_total, "10000000");
    CHECK(rec.jailed == 1 && rec.tombstoned == 1 && rec.jailed_until == OPG_TIME_FOREVER);
    CHECK_TOKENS(f.r, 1, "92500000");
    opg_node_info ni = node_info(f.r, 1);
    CHECK(ni.jailed && ni.tombstoned && ni.jailed_until == OPG_TIME_FOREVER);
    size_t n;
    const opg_slasher_record *recs = opg_slasher_slashes(f.s, &n);
    CHECK(n == 1 && memcmp(&recs[0], &rec, sizeof rec) == 0);
    opg_u256 burned;
    CHECK(count_events(f.r, OPG_EVENT_BURNED, &burned) == 1);
    CHECK_U256(burned, "10000000");
    CHECK(count_events(f.r, OPG_EVENT_NODE_JAILED, NULL) == 1);
    /* never unjails */
    opg_id a = id_n(1);
    CHECK_RC(opg_registry_unjail(f.r, &a, OPG_TIME_FOREVER), OPG_ETOMBSTONED);
    /* the same or another conflict again: tombstoned, ignored */
    snap x;
    take(&x, f.r, f.s);
    CHECK_RC(opg_slasher_double_sign(&rec, f.s, &ev, 11, 210), OPG_ETOMBSTONED);
    CHECK(unchanged(&x, f.r, f.s));
    opg_double_sign_evidence ev2 = mk_ds(1, 8, 180, 200);
    CHECK_RC(opg_slasher_double_sign(NULL, f.s, &ev2, 11, 210), OPG_ETOMBSTONED);
    CHECK(unchanged(&x, f.r, f.s));
    CHECK_OK(opg_registry_check(f.r));
    CHECK_OK(opg_slasher_check(f.s));
    ds_free(&f);
}

/* A node already jailed for downtime: jailed_until becomes forever, still tombstoned. */
static void test_double_sign_jailed_node(void)
{
    ds_fx f;
    CHECK(ds_setup(&f) == 0);
    opg_id a = id_n(1);
    CHECK_OK(opg_registry_jail(f.r, &a, 900));
    opg_double_sign_evidence ev = mk_ds(1, 5, 150, 200);
    opg_slasher_record rec;
    CHECK_OK(opg_slasher_double_sign(&rec, f.s, &ev, 10, 200));
    CHECK(rec.jailed == 0 && rec.tombstoned == 1 && rec.jailed_until == OPG_TIME_FOREVER);
    CHECK(count_events(f.r, OPG_EVENT_NODE_JAILED, NULL) == 0);
    opg_node_info ni = node_info(f.r, 1);
    CHECK(ni.jailed_until == OPG_TIME_FOREVER && ni.tombstoned);
    ds_free(&f);
}

static void test_double_sign_refusals(void)
{
    ds_fx f;
    CHECK(ds_setup(&f) == 0);
    snap x;
    take(&x, f.r, f.s);
    opg_slasher_record rec;
    memset(&rec, 0x77, sizeof rec);
    const opg_slasher_record rec0 = rec;

    /* tampered signature */
    opg_double_sign_evidence ev = mk_ds(1, 5, 150, 200);
    ev.vote_b.signature[0] ^= 0x01;
    CHECK_RC(opg_slasher_double_sign(&rec, f.s, &ev, 10, 200), OPG_ESIGNATURE);
    CHECK(unchanged(&x, f.r, f.s));
    /* a tampered vote (the signature no longer covers it) */
    ev = mk_ds(1, 5, 150, 200);
    ev.vote_a.round = 1;
    ev.vote_b.round = 1;
    CHECK_RC(opg_slasher_double_sign(&rec, f.s, &ev, 10, 200), OPG_ESIGNATURE);
    CHECK(unchanged(&x, f.r, f.s));
    /* equal block ids: no conflict */
    ev = mk_ds(1, 5, 150, 200);
    ev.vote_b = ev.vote_a;
    CHECK_RC(opg_slasher_double_sign(&rec, f.s, &ev, 10, 200), OPG_ENOCONFLICT);
    CHECK(unchanged(&x, f.r, f.s));
    /* two different keys: vote b is node 2's vote */
    ev = mk_ds(1, 5, 150, 200);
    ev.vote_b = mk_vote(2, CHAIN, OPG_VOTE_PRECOMMIT, 5, 0, 0xbb);
    CHECK_RC(opg_slasher_double_sign(&rec, f.s, &ev, 10, 200), OPG_ESIGNATURE);
    CHECK(unchanged(&x, f.r, f.s));
    /* different heights, rounds, types: no conflict */
    ev = mk_ds(1, 5, 150, 200);
    ev.vote_b = mk_vote(1, CHAIN, OPG_VOTE_PRECOMMIT, 6, 0, 0xbb);
    CHECK_RC(opg_slasher_double_sign(&rec, f.s, &ev, 10, 200), OPG_ENOCONFLICT);
    ev.vote_b = mk_vote(1, CHAIN, OPG_VOTE_PRECOMMIT, 5, 1, 0xbb);
    CHECK_RC(opg_slasher_double_sign(&rec, f.s, &ev, 10, 200), OPG_ENOCONFLICT);
    ev.vote_b = mk_vote(1, CHAIN, OPG_VOTE_PREVOTE, 5, 0, 0xbb);
    CHECK_RC(opg_slasher_double_sign(&rec, f.s, &ev, 10, 200), OPG_ENOCONFLICT);
    CHECK(unchanged(&x, f.r, f.s));
    /* signed for another chain */
    ev.vote_a = mk_vote(1, "other-chain", OPG_VOTE_PRECOMMIT, 5, 0, 0xaa);
    ev.vote_b = mk_vote(1, "other-chain", OPG_VOTE_PRECOMMIT, 5, 0, 0xbb);
    CHECK_RC(opg_slasher_double_sign(&rec, f.s, &ev, 10, 200), OPG_ESIGNATURE);
    /* unknown key */
    ev = mk_ds(7, 5, 150, 100);
    CHECK_RC(opg_slasher_double_sign(&rec, f.s, &ev, 10, 200), OPG_ENOTFOUND);
    /* from the future */
    ev = mk_ds(1, 11, 150, 200);
    CHECK_RC(opg_slasher_double_sign(&rec, f.s, &ev, 10, 200), OPG_EFUTURE);
    /* fields no signature covers, stated otherwise than the registry's history:
     * the time (the age bypass: "it happened now") and the power (power 1 would
     * burn 0.05 % of what the signer had) */
    ev = mk_ds(1, 5, 200, 200);
    CHECK_RC(opg_slasher_double_sign(&rec, f.s, &ev, 10, 200), OPG_EEVIDENCE);
    ev = mk_ds(1, 5, 150, 1);
    CHECK_RC(opg_slasher_double_sign(&rec, f.s, &ev, 10, 200), OPG_EEVIDENCE);
    ev = mk_ds(1, 8, 180, 200); /* node 1's power at 8 is 100 (the update of 5) */
    CHECK_RC(opg_slasher_double_sign(&rec, f.s, &ev, 10, 200), OPG_EEVIDENCE);
    CHECK(unchanged(&x, f.r, f.s));
    CHECK(memcmp(&rec, &rec0, sizeof rec) == 0);

    /* too old: both ages past their limits (100000 blocks, 172800 s) */
    ev = mk_ds(1, 5, 150, 200);
    CHECK_RC(opg_slasher_double_sign(&rec, f.s, &ev, 5 + 100001, 150 + 172801), OPG_EEXPIRED);
    CHECK(unchanged(&x, f.r, f.s));
    /* exactly at the limits, or old in one dimension only: still handled */
    CHECK_OK(opg_slasher_double_sign(&rec, f.s, &ev, 5 + 100000, 150 + 172801));
    CHECK(rec.tombstoned);
    ds_free(&f);

    CHECK(ds_setup(&f) == 0);
    ev = mk_ds(1, 5, 150, 200);
    CHECK_OK(opg_slasher_double_sign(&rec, f.s, &ev, 5 + 100001, 150 + 172800));
    ds_free(&f);

    /* an unbonded node: ignored */
    CHECK(ds_setup(&f) == 0);
    CHECK_OK(mk_node(f.r, 3, 3, OPG_ROLE_INFERENCE, 10 * M, 10, 200));
    take(&x, f.r, f.s);
    ev = mk_ds(3, 5, 150, 0);
    CHECK_RC(opg_slasher_double_sign(&rec, f.s, &ev, 10, 200), OPG_ESTATUS);
    CHECK(unchanged(&x, f.r, f.s));
    ds_free(&f);
}

/* Evidence bytes through opg_slasher_submit_evidence. */
static void test_submit_evidence_bytes(void)
{
    ds_fx f;
    CHECK(ds_setup(&f) == 0);
    opg_evidence ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = OPG_EVIDENCE_DOUBLE_SIGN;
    ev.double_sign = mk_ds(1, 5, 150, 200);
    uint8_t buf[OPG_EVIDENCE_DOUBLE_SIGN_SIZE];
    size_t len;
    CHECK_OK(opg_slasher_evidence_encode(buf, sizeof buf, &len, &ev));
    snap x;
    take(&x, f.r, f.s);
    CHECK_RC(opg_slasher_submit_evidence(NULL, f.s, buf, len - 1, 10, 200), OPG_EEVIDENCE);
    CHECK(unchanged(&x, f.r, f.s));
    buf[200] ^= 1; /* inside vote b's signature */
    CHECK_RC(opg_slasher_submit_evidence(NULL, f.s, buf, len, 10, 200), OPG_ESIGNATURE);
    CHECK(unchanged(&x, f.r, f.s));
    buf[200] ^= 1;
    opg_slasher_record rec;
    CHECK_OK(opg_slasher_submit_evidence(&rec, f.s, buf, len, 10, 200));
    CHECK(rec.reason == OPG_SLASH_DOUBLE_SIGN && rec.tombstoned);
    ds_free(&f);
}

/* ------------------------------------------------------- faulty inference */

static const opg_fault_class FAULT_CLASSES[2] = {
    {1, {{UINT64_C(100000000000000000), 0, 0, 0}}, 3600, 0}, /* 0.1, one hour */
    {2, {{UINT64_C(500000000000000000), 0, 0, 0}}, 0, 1},    /* 0.5, tombstone */
};

static int fault_setup(ds_fx *f, const char *reporter_share, const char *k)
{
    opg_slasher_params p = base_params();
    p.fault_classes = FAULT_CLASSES;
    p.fault_class_count = 2;
    p.reporter_share = dec_of(reporter_share);
    p.correlation_k = dec_of(k);
    p.correlation_window = 3600;
    if (opg_registry_new(&f->r, NULL, NULL, NULL) || opg_slasher_new(&f->s, f->r, &p, NULL))
        return 1;
    const uint32_t inf = OPG_ROLE_CONSENSUS | OPG_ROLE_INFERENCE;
    int rc = mk_node(f->r, 1, 1, inf, 100 * M, 1, 0);
    rc |= mk_node(f->r, 2, 2, inf, 300 * M, 1, 0);
    rc |= mk_node(f->r, 3, 3, OPG_ROLE_CONSENSUS | OPG_ROLE_VERIFICATION, 10 * M, 1, 0);
    rc |= opg_registry_end_block(f->r, 1, 0);
    return rc;
}

static void test_fault_classes_and_reporter(void)
{
    ds_fx f;
    CHECK(fault_setup(&f, "0.25", "0") == 0);
    opg_fault_evidence ev = mk_fault(1, 1, 8, 0, 1, 3);
    opg_slasher_record rec;
    CHECK_OK(opg_slasher_fault(&rec, f.s, &ev, 10, 1000));
    CHECK(rec.reason == OPG_SLASH_FAULT && rec.fault_class == 1);
    CHECK(rec.infraction_height == 8 && rec.power == 100);
    CHECK_DEC(rec.fraction, "0.1");
    /* to_slash = trunc(100 * 10^6 * 0.1) = 10,000,000; reporter trunc(10^7 * 0.25) =
     * 2,500,000; 7,500,000 stays burned */
    CHECK_U256(rec.slash.burned_total, "10000000");
    CHECK_U256(rec.reporter_reward, "2500000");
    CHECK_U256(rec.burned, "7500000");
    opg_id rep = id_n(3);
    CHECK(opg_id_cmp(&rec.reporter, &rep) == 0);
    CHECK(rec.jailed == 1 && rec.jailed_until == 1000 + 3600 && !rec.tombstoned);
    CHECK_TOKENS(f.r, 1, "90000000");
    opg_supply_info sup;
    opg_registry_supply(&sup, f.r);
    CHECK_U256(sup.burned, "7500000");
    size_t n;
    const opg_event *e = opg_registry_events(f.r, &n);
    int found = 0;
    for (size_t i = 0; i < n; i++)
        if (e[i].kind == OPG_EVENT_REPORTER_REWARD) {
            opg_id node = id_n(1);
            CHECK(opg_id_cmp(&e[i].account, &rep) == 0 && opg_id_cmp(&e[i].node, &node) == 0);
            CHECK_U256(e[i].amount, "2500000");
            found++;
        }
    CHECK(found == 1);
    CHECK(opg_slasher_evidence_seen(f.s, &ev.evidence_id) == 1);

    /* refusals, each changing nothing */
    snap x;
    take(&x, f.r, f.s);
    CHECK_RC(opg_slasher_fault(&rec, f.s, &ev, 11, 1010), OPG_EDUPLICATE);
    CHECK(unchanged(&x, f.r, f.s));
    opg_fault_evidence bad = mk_fault(2, 1, 8, 0, 5, 3);
    CHECK_RC(opg_slasher_fault(&rec, f.s, &bad, 11, 1010), OPG_ECLASS);
    bad = mk_fault(2, 3, 8, 0, 1, 3);
    CHECK_RC(opg_slasher_fault(&rec, f.s, &bad, 11, 1010), OPG_EROLE);
    bad = mk_fault(2, 44, 8, 0, 1, 3);
    CHECK_RC(opg_slasher_fault(&rec, f.s, &bad, 11, 1010), OPG_ENOTFOUND);
    bad = mk_fault(2, 2, 12, 0, 1, 3);
    CHECK_RC(opg_slasher_fault(&rec, f.s, &bad, 11, 1010), OPG_EFUTURE);
    bad = mk_fault(2, 2, 0, 0, 1, 3);
    CHECK_RC(opg_slasher_fault(&rec, f.s, &bad, 11, 1010), OPG_EEVIDENCE);
    bad = mk_fault(2, 2, 1, 0, 1, 3);
    CHECK_RC(opg_slasher_fault(&rec, f.s, &bad, 100002, 172801), OPG_EEXPIRED);
    CHECK(unchanged(&x, f.r, f.s));

    /* a second fault on the jailed node extends its jail: 1010 + 3600 */
    ev = mk_fault(3, 1, 9, 0, 1, 3);
    CHECK_OK(opg_slasher_fault(&rec, f.s, &ev, 11, 1010));
    CHECK(rec.jailed == 0 && rec.jailed_until == 4610);
    /* 90 power: trunc(90 * 10^6 * 0.1) = 9,000,000, reporter 2,250,000 */
    CHECK_U256(rec.slash.burned_total, "9000000");
    CHECK_U256(rec.reporter_reward, "2250000");
    CHECK(count_events(f.r, OPG_EVENT_NODE_JAILED, NULL) == 0);

    /* the tombstone class: jailed forever, tombstoned, then refused */
    ev = mk_fault(4, 2, 9, 0, 2, 3);
    CHECK_OK(opg_slasher_fault(&rec, f.s, &ev, 11, 1010));
    CHECK_DEC(rec.fraction, "0.5");
    CHECK_U256(rec.slash.burned_total, "150000000"); /* 300 * 10^6 * 0.5 */
    CHECK_U256(rec.reporter_reward, "37500000");
    CHECK(rec.tombstoned && rec.jailed_until == OPG_TIME_FOREVER);
    opg_node_info ni = node_info(f.r, 2);
    CHECK(ni.tombstoned && ni.jailed);
    take(&x, f.r, f.s);
    ev = mk_fault(5, 2, 9, 0, 1, 3);
    CHECK_RC(opg_slasher_fault(&rec, f.s, &ev, 11, 1010), OPG_ETOMBSTONED);
    CHECK(unchanged(&x, f.r, f.s));
    CHECK_OK(opg_registry_check(f.r));
    CHECK_OK(opg_slasher_check(f.s));
    ds_free(&f);
}

/* reporter_share 1/3 (18 digits): the reward truncates, the dust stays burned. */
static void test_reporter_reward_truncates(void)
{
    ds_fx f;
    CHECK(fault_setup(&f, "0.333333333333333333", "0") == 0);
    opg_id a = id_n(1), d = id_n(600);
    opg_u256 amt = u64v(23456789);
    CHECK_OK(opg_registry_delegate(NULL, f.r, &d, &a, &amt, 2, 5));
    /* tokens 123,456,789: power 123, to_slash = trunc(123 * 10^6 * 0.1) = 12,300,000;
     * reward = trunc(12,300,000 * 0.333333333333333333) = trunc(4,099,999.99...)
     * = 4,099,999; burned 8,200,001 */
    opg_fault_evidence ev = mk_fault(1, 1, 2, 0, 1, 3);
    opg_slasher_record rec;
    CHECK_OK(opg_slasher_fault(&rec, f.s, &ev, 3, 6));
    CHECK(rec.power == 123);
    CHECK_U256(rec.slash.burned_total, "12300000");
    CHECK_U256(rec.reporter_reward, "4099999");
    CHECK_U256(rec.burned, "8200001");
    opg_supply_info sup;
    opg_registry_supply(&sup, f.r);
    CHECK_U256(sup.burned, "8200001");
    ds_free(&f);
}

/*
 * Correlated penalty, k = 0.5, window 3600 s, class 1 (base 0.1). Bonded: node 1
 * 100e6, node 2 300e6, node 3 10e6 = 410e6.
 *   node 1 at t=1000: S = 100e6; 0.5 * 100e6 / 410e6 = 0.121951219512195121 (trunc);
 *     fraction 0.221951219512195121; to_slash = trunc(100e6 * that) = 22,195,121.
 *     Node 1 keeps 77,804,879 (still bonded until end_block).
 *   node 2 at t=1010: S = 100e6 (node 1's stake then) + 300e6 = 400e6; bonded =
 *     77,804,879 + 300e6 + 10e6 = 387,804,879; 0.5 * 400e6 / 387,804,879 =
 *     0.515723269175269968 (trunc); fraction 0.615723269175269968;
 *     to_slash = trunc(300e6 * 0.615723269175269968) = 184,716,980, node 2 keeps
 *     115,283,020.
 */
static void test_correlated_penalty(void)
{
    ds_fx f;
    CHECK(fault_setup(&f, "0", "0.5") == 0);
    opg_slasher_record rec;
    opg_fault_evidence ev = mk_fault(1, 1, 1, 0, 1, 3);
    CHECK_OK(opg_slasher_fault(&rec, f.s, &ev, 2, 1000));
    CHECK_DEC(rec.fraction, "0.221951219512195121");
    CHECK_U256(rec.slash.burned_total, "22195121");
    CHECK_TOKENS(f.r, 1, "77804879");
    ev = mk_fault(2, 2, 1, 0, 1, 3);
    CHECK_OK(opg_slasher_fault(&rec, f.s, &ev, 2, 1010));
    CHECK_DEC(rec.fraction, "0.615723269175269968");
    CHECK_U256(rec.slash.burned_total, "184716980");
    CHECK_TOKENS(f.r, 2, "115283020");
    /* another class does not see class 1's records: node 1 under class 2 (base 0.5)
     * at t=1020: S = 77,804,879 only; bonded = 77,804,879 + 115,283,020 + 10e6 =
     * 203,087,899; 0.5 * 77,804,879 / 203,087,899 = 0.191554689824232215 (trunc) ->
     * 0.691554689824232215; power 77: trunc(77e6 * that) = 53,249,711 */
    ev = mk_fault(3, 1, 1, 0, 2, 3);
    CHECK_OK(opg_slasher_fault(&rec, f.s, &ev, 2, 1020));
    CHECK_DEC(rec.fraction, "0.691554689824232215");
    CHECK_U256(rec.slash.burned_total, "53249711");
    ds_free(&f);

    /* k large: capped at 1 */
    CHECK(fault_setup(&f, "0", "100") == 0);
    ev = mk_fault(1, 1, 1, 0, 1, 3);
    CHECK_OK(opg_slasher_fault(&rec, f.s, &ev, 2, 1000));
    CHECK_DEC(rec.fraction, "1");
    CHECK_U256(rec.slash.burned_total, "100000000");
    ds_free(&f);

    /* the window: records older than 3600 s no longer count */
    CHECK(fault_setup(&f, "0", "0.5") == 0);
    ev = mk_fault(1, 1, 1, 0, 1, 3);
    CHECK_OK(opg_slasher_fault(&rec, f.s, &ev, 2, 1000)); /* as above */
    CHECK_OK(opg_registry_end_block(f.r, 2, 1000));       /* node 1 leaves the set */
    /* node 2 at t=4600 (4600 - 1000 = 3600: out): S = 300e6; bonded = 300e6 + 10e6;
     * 0.5 * 300e6 / 310e6 = 0.483870967741935483 -> 0.583870967741935483;
     * trunc(300e6 * that) = 175,161,290 */
    ev = mk_fault(2, 2, 1, 0, 1, 3);
    CHECK_OK(opg_slasher_fault(&rec, f.s, &ev, 3, 4600));
    CHECK_DEC(rec.fraction, "0.583870967741935483");
    CHECK_U256(rec.slash.burned_total, "175161290");
    ds_free(&f);
}

/* Evidence ids are kept until they would be refused as too old, then forgotten. */
static void test_seen_ids_forgotten(void)
{
    ds_fx f;
    CHECK(fault_setup(&f, "0", "0") == 0);
    CHECK_OK(opg_slasher_param_set(f.s, "evidence.max_age_num_blocks", "10"));
    CHECK_OK(opg_slasher_param_set(f.s, "evidence.max_age_duration", "100"));
    opg_fault_evidence e1 = mk_fault(1, 1, 10, 1000, 1, 3);
    opg_fault_evidence e2 = mk_fault(2, 1, 20, 1095, 1, 3);
    opg_fault_evidence e3 = mk_fault(3, 1, 21, 1101, 1, 3);
    CHECK_OK(opg_registry_end_block(f.r, 10, 1000));
    CHECK_OK(opg_slasher_fault(NULL, f.s, &e1, 10, 1000));
    CHECK_OK(opg_registry_end_block(f.r, 20, 1095));
    CHECK_OK(opg_slasher_fault(NULL, f.s, &e2, 20, 1095));
    CHECK_OK(opg_registry_end_block(f.r, 21, 1101));
    CHECK(opg_slasher_evidence_seen_count(f.s) == 2);
    /* at height 21, now 1101: e1 is 11 blocks and 101 s old: forgotten; e2 stays */
    CHECK_OK(opg_slasher_fault(NULL, f.s, &e3, 21, 1101));
    CHECK(opg_slasher_evidence_seen_count(f.s) == 2);
    CHECK(!opg_slasher_evidence_seen(f.s, &e1.evidence_id));
    CHECK(opg_slasher_evidence_seen(f.s, &e2.evidence_id));
    CHECK(opg_slasher_evidence_seen(f.s, &e3.evidence_id));
    /* e1 again is now too old rather than a duplicate */
    CHECK_RC(opg_slasher_fault(NULL, f.s, &e1, 21, 1101), OPG_EEXPIRED);
    CHECK_RC(opg_slasher_fault(NULL, f.s, &e2, 21, 1101), OPG_EDUPLICATE);
    CHECK_OK(opg_slasher_check(f.s));
    ds_free(&f);
}

/* An inference-only node never bonds, yet a faulty inference slashes it: power 10
 * (10 * 10^6 tokens), class 1 fraction 0.1 -> 1,000,000 burned, jailed one hour. */
static void test_fault_unbonded_node(void)
{
    ds_fx f;
    CHECK(fault_setup(&f, "0", "0") == 0);
    CHECK_OK(mk_node(f.r, 4, 4, OPG_ROLE_INFERENCE, 10 * M, 2, 5));
    opg_fault_evidence ev = mk_fault(1, 4, 2, 0, 1, 3);
    opg_slasher_record rec;
    CHECK_OK(opg_slasher_fault(&rec, f.s, &ev, 3, 6));
    CHECK_U256(rec.slash.burned_total, "1000000");
    opg_node_info ni;
    opg_id op = id_n(4);
    CHECK_OK(opg_registry_node_get(&ni, f.r, &op));
    CHECK(ni.status == OPG_NODE_UNBONDED && ni.jailed && ni.jailed_until == 6 + 3600);
    CHECK_U256(ni.tokens, "9000000");
    CHECK(opg_slasher_evidence_seen(f.s, &ev.evidence_id));
    /* a consensus validator's own slash stays Cosmos-exact: unbonded is refused */
    opg_dec tenth = dec_of("0.1");
    CHECK_RC(opg_registry_slash(NULL, f.r, &op, 2, 10, &tenth, 3, 6), OPG_ESTATUS);
    ds_free(&f);
}

/* ------------------------------------------------- CometBFT misbehaviour */

static int save_bytes(const opg_slasher *s, uint8_t **out, size_t *len);

static opg_misbehavior mk_mb(uint32_t type, int key, uint64_t power, opg_height h, opg_time t)
{
    opg_misbehavior m;
    memset(&m, 0, sizeof m);
    m.type = type;
    opg_id k = key_id(key);
    (void)opg_registry_consensus_address(m.validator_address, &k);
    m.validator_power = power;
    m.height = h;
    m.time = t;
    m.total_voting_power = 300;
    return m;
}

/*
 * Worked by hand from x/evidence (ds_setup's world, default parameters: power
 * reduction 10^6, slash_fraction_double_sign 0.05, max ages 100000 blocks and
 * 172800 s).
 *   Address: the first 20 bytes of SHA-256 of node 1's key.
 *   Record 1, duplicate vote by node 1 at height 5 (time 150), power 200, handled
 *   at height 10, now 200: distribution height 5 - 1 = 4; to_slash = trunc(200 *
 *   10^6 * 0.05) = 10,000,000; the unbonding entry created at 4 (>= 4) pays
 *   trunc(0.05 * 50,000,000) = 2,500,000, the one created at 3 nothing; the node
 *   pays the remaining 7,500,000 (tokens 100,000,000 -> 92,500,000); jailed for ever,
 *   tombstoned.
 *   Record 2, the same validator again (a light-client attack): ignored, tombstoned.
 *   Record 3, an unknown address: ignored. Record 4, type 3: ignored.
 */
static void test_misbehavior_known_answer(void)
{
    ds_fx f;
    CHECK(ds_setup(&f) == 0);
    /* the address is CometBFT's */
    opg_id k1 = key_id(1);
    uint8_t addr[20], sha[32];
    CHECK_OK(opg_registry_consensus_address(addr, &k1));
    crypto_hash_sha256(sha, k1.bytes, 32);
    CHECK(memcmp(addr, sha, 20) == 0);
    opg_id who, one = id_n(1);
    CHECK_OK(opg_registry_node_by_address(&who, f.r, addr));
    CHECK(opg_id_cmp(&who, &one) == 0);

    opg_misbehavior m[4];
    m[0] = mk_mb(OPG_MISBEHAVIOR_DUPLICATE_VOTE, 1, 200, 5, 150);
    m[1] = mk_mb(OPG_MISBEHAVIOR_LIGHT_CLIENT_ATTACK, 1, 200, 5, 150);
    m[2] = mk_mb(OPG_MISBEHAVIOR_DUPLICATE_VOTE, 9, 200, 5, 150);
    m[3] = mk_mb(3, 2, 100, 5, 150);
    int out[4] = {1, 1, 1, 1};
    CHECK_OK(opg_slasher_misbehavior(out, f.s, m, 4, 10, 200));
    CHECK(out[0] == OPG_OK && out[1] == OPG_ETOMBSTONED && out[2] == OPG_ENOTFOUND &&
          out[3] == OPG_EEVIDENCE);
    size_t n;
    const opg_slasher_record *rec = opg_slasher_slashes(f.s, &n);
    CHECK(n == 1);
    CHECK(rec[0].reason == OPG_SLASH_DOUBLE_SIGN && rec[0].infraction_height == 4 &&
          rec[0].power == 200);
    CHECK_U256(rec[0].slash.burned_unbonding, "2500000");
    CHECK_U256(rec[0].slash.burned_node, "7500000");
    CHECK_U256(rec[0].slash.burned_total, "10000000");
    CHECK(rec[0].jailed && rec[0].tombstoned && rec[0].jailed_until == OPG_TIME_FOREVER);
    CHECK_TOKENS(f.r, 1, "92500000");
    CHECK(opg_registry_key_tombstoned(f.r, &k1));
    CHECK(count_events(f.r, OPG_EVENT_NODE_JAILED, NULL) == 1);
    /* a later block: the same validator is ignored */
    snap x;
    take(&x, f.r, f.s);
    CHECK_OK(opg_slasher_misbehavior(out, f.s, m, 1, 11, 210));
    CHECK(out[0] == OPG_ETOMBSTONED && unchanged(&x, f.r, f.s));
    CHECK_OK(opg_registry_check(f.r));
    CHECK_OK(opg_slasher_check(f.s));
    ds_free(&f);
}

/* Age by both blocks and time, from the registry's block time of the record's
 * height; too old in only one is applied. Node 2, power 100, at height 2 (time 100):
 * at height 100003 it is 100001 blocks old; 172801 s at now 172901. */
static void test_misbehavior_age(void)
{
    ds_fx f;
    CHECK(ds_setup(&f) == 0);
    opg_misbehavior m = mk_mb(OPG_MISBEHAVIOR_DUPLICATE_VOTE, 2, 100, 2, 100);
    snap x;
    take(&x, f.r, f.s);
    int out = 1;
    CHECK_OK(opg_slasher_misbehavior(&out, f.s, &m, 1, 100003, 172901));
    CHECK(out == OPG_EEXPIRED && unchanged(&x, f.r, f.s));
    /* a record whose time disagrees with the block time the registry recorded at
     * exactly its height (5: 150) is refused: the host fed end_block other times */
    opg_misbehavior lie = mk_mb(OPG_MISBEHAVIOR_DUPLICATE_VOTE, 2, 100, 5, 172901);
    CHECK_RC(opg_slasher_misbehavior(&out, f.s, &lie, 1, 100003, 172901), OPG_EEVIDENCE);
    CHECK(unchanged(&x, f.r, f.s));
    /* from the future, height 0: refused */
    m.height = 100004;
    CHECK_RC(opg_slasher_misbehavior(&out, f.s, &m, 1, 100003, 172901), OPG_EFUTURE);
    m.height = 0;
    CHECK_RC(opg_slasher_misbehavior(&out, f.s, &m, 1, 100003, 172901), OPG_EEVIDENCE);
    CHECK(unchanged(&x, f.r, f.s));
    /* too old in time only (blocks exactly at the limit): applied; distribution
     * height 1, to_slash = trunc(100 * 10^6 * 0.05) = 5,000,000 */
    m = mk_mb(OPG_MISBEHAVIOR_DUPLICATE_VOTE, 2, 100, 2, 100);
    CHECK_OK(opg_slasher_misbehavior(&out, f.s, &m, 1, 100002, 172901));
    CHECK(out == OPG_OK);
    size_t n;
    const opg_slasher_record *rec = opg_slasher_slashes(f.s, &n);
    CHECK(n == 1 && rec[0].infraction_height == 1);
    CHECK_U256(rec[0].slash.burned_total, "5000000");
    CHECK_TOKENS(f.r, 2, "95000000");
    ds_free(&f);
    /* too old in blocks only: applied */
    CHECK(ds_setup(&f) == 0);
    CHECK_OK(opg_slasher_misbehavior(&out, f.s, &m, 1, 100003, 172900));
    CHECK(out == OPG_OK && n_records(f.s) == 1);
    ds_free(&f);
}

/* A tombstone outlives its node: once the node is gone, its key cannot register
 * again, and old evidence against it is ignored rather than slashing a newcomer. */
static void test_tombstone_outlives_node(void)
{
    opg_registry_params rp;
    opg_registry_params_init(&rp);
    rp.unbonding_time = 100;
    opg_registry *r;
    opg_slasher *s;
    opg_slasher_params p = base_params();
    CHECK_OK(opg_registry_new(&r, &rp, NULL, NULL));
    CHECK_OK(opg_slasher_new(&s, r, &p, NULL));
    CHECK_OK(mk_node(r, 1, 1, OPG_ROLE_CONSENSUS, 10 * M, 1, 0));
    CHECK_OK(mk_node(r, 2, 2, OPG_ROLE_CONSENSUS, 10 * M, 1, 0));
    CHECK_OK(opg_registry_end_block(r, 1, 0));
    opg_double_sign_evidence ev = mk_ds(1, 3, 0, 10);
    CHECK_OK(opg_slasher_double_sign(NULL, s, &ev, 4, 10));
    /* jailed: leaves the set; the operator takes everything out; the node goes */
    CHECK_OK(opg_registry_end_block(r, 4, 10));
    opg_id a = id_n(1);
    opg_node_info ni = node_info(r, 1);
    CHECK_OK(opg_registry_undelegate(NULL, NULL, r, &a, &a, &ni.tokens, 5, 20));
    CHECK_OK(opg_registry_end_block(r, 6, 200));
    CHECK_RC(opg_registry_node_get(&ni, r, &a), OPG_ENOTFOUND);
    opg_id k1 = key_id(1);
    CHECK(opg_registry_key_tombstoned(r, &k1));
    /* the same key, under a new operator: refused */
    snap x;
    take(&x, r, s);
    CHECK_RC(mk_node(r, 3, 1, OPG_ROLE_CONSENSUS, 10 * M, 7, 210), OPG_ETOMBSTONED);
    /* the old evidence again: ignored (before, it found no node: OPG_ENOTFOUND; with
     * the key re-registered it would have slashed the newcomer) */
    CHECK_RC(opg_slasher_double_sign(NULL, s, &ev, 7, 210), OPG_ETOMBSTONED);
    opg_misbehavior m = mk_mb(OPG_MISBEHAVIOR_DUPLICATE_VOTE, 1, 10, 3, 0);
    int out = 1;
    CHECK_OK(opg_slasher_misbehavior(&out, s, &m, 1, 7, 210));
    CHECK(out == OPG_ETOMBSTONED);
    CHECK(unchanged(&x, r, s));
    /* the tombstone is saved with the registry */
    uint8_t *b = NULL;
    size_t len;
    CHECK_RC(opg_registry_save(NULL, 0, &len, r), OPG_EBUFS);
    b = malloc(len);
    CHECK(b != NULL);
    CHECK_OK(opg_registry_save(b, len, &len, r));
    opg_registry *r2;
    CHECK_OK(opg_registry_load(&r2, b, len, NULL));
    CHECK(opg_registry_key_tombstoned(r2, &k1));
    opg_registry_free(r2);
    free(b);
    opg_slasher_free(s);
    opg_registry_free(r);
}

/* Consensus keys no signature verifies under are refused at node creation: the
 * identity point, a point of order 2, a non-canonical encoding (y = p). */
static void test_unusable_consensus_keys(void)
{
    opg_registry *r;
    CHECK_OK(opg_registry_new(&r, NULL, NULL, NULL));
    uint8_t h0[32], h1[32];
    opg_registry_state_hash(h0, r);
    static const uint8_t bad[3][32] = {
        {1},                                                              /* identity */
        {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff, 0xff, 0x7f}, /* y = -1: order 2 */
        {0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff, 0xff, 0xff, 0x7f}, /* y = p: not canonical (the encoding of y = 0) */
    };
    for (int i = 0; i < 3; i++) {
        opg_node_create c;
        memset(&c, 0, sizeof c);
        c.operator_id = id_n(1);
        memcpy(c.consensus_key.bytes, bad[i], 32);
        c.roles = OPG_ROLE_CONSENSUS;
        c.commission_max_rate = dec_of("0.5");
        c.min_self_delegation = u64v(1);
        c.self_delegation = u64v(M);
        CHECK_RC(opg_registry_node_create(r, &c, 1, 0), OPG_ECONSKEY);
        opg_registry_state_hash(h1, r);
        CHECK(memcmp(h0, h1, 32) == 0);
    }
    CHECK_OK(mk_node(r, 1, 1, OPG_ROLE_CONSENSUS, M, 1, 0));
    opg_registry_free(r);
}

/* The reporter of a faulty inference: not the accused, and a verification node. */
static void test_fault_reporter_checked(void)
{
    ds_fx f;
    CHECK(fault_setup(&f, "0.25", "0") == 0);
    snap x;
    take(&x, f.r, f.s);
    opg_fault_evidence ev = mk_fault(1, 1, 1, 0, 1, 1); /* node 1 reports itself */
    CHECK_RC(opg_slasher_fault(NULL, f.s, &ev, 2, 10), OPG_EREPORTER);
    ev = mk_fault(1, 1, 1, 0, 1, 2); /* node 2 has no verification role */
    CHECK_RC(opg_slasher_fault(NULL, f.s, &ev, 2, 10), OPG_EREPORTER);
    ev = mk_fault(1, 1, 1, 0, 1, 900); /* not a node */
    CHECK_RC(opg_slasher_fault(NULL, f.s, &ev, 2, 10), OPG_EREPORTER);
    /* the infraction time is the registry's: "now" is not believed */
    ev = mk_fault(1, 1, 1, 10, 1, 3);
    CHECK_RC(opg_slasher_fault(NULL, f.s, &ev, 2, 10), OPG_EEVIDENCE);
    CHECK(unchanged(&x, f.r, f.s));
    ev = mk_fault(1, 1, 1, 0, 1, 3);
    CHECK_OK(opg_slasher_fault(NULL, f.s, &ev, 2, 10));
    ds_free(&f);
}

/* Lowering and restoring evidence.max_age_* by governance does not reopen replay:
 * an id keeps the expiry of its acceptance, and a forgotten one leaves a floor. */
static void test_seen_ids_survive_param_changes(void)
{
    ds_fx f;
    CHECK(fault_setup(&f, "0", "0") == 0);
    CHECK_OK(opg_slasher_param_set(f.s, "evidence.max_age_num_blocks", "10"));
    CHECK_OK(opg_slasher_param_set(f.s, "evidence.max_age_duration", "100"));
    CHECK_OK(opg_registry_end_block(f.r, 10, 1000));
    opg_fault_evidence e1 = mk_fault(1, 1, 10, 1000, 1, 3);
    CHECK_OK(opg_slasher_fault(NULL, f.s, &e1, 10, 1000)); /* expires after 20 / 1100 */
    /* governance lowers the window to 1 block, 1 s; another fault at 12 / 1003 */
    CHECK_OK(opg_slasher_param_set(f.s, "evidence.max_age_num_blocks", "1"));
    CHECK_OK(opg_slasher_param_set(f.s, "evidence.max_age_duration", "1"));
    CHECK_OK(opg_registry_end_block(f.r, 12, 1003));
    opg_fault_evidence e2 = mk_fault(2, 2, 12, 1003, 1, 3);
    CHECK_OK(opg_slasher_fault(NULL, f.s, &e2, 12, 1003));
    CHECK(opg_slasher_evidence_seen(f.s, &e1.evidence_id)); /* not forgotten early */
    /* and restores it: e1 is still a duplicate */
    CHECK_OK(opg_slasher_param_set(f.s, "evidence.max_age_num_blocks", "10"));
    CHECK_OK(opg_slasher_param_set(f.s, "evidence.max_age_duration", "100"));
    CHECK_RC(opg_slasher_fault(NULL, f.s, &e1, 12, 1003), OPG_EDUPLICATE);
    /* past its expiry it is forgotten; raising the window then does not reopen it */
    CHECK_OK(opg_registry_end_block(f.r, 21, 1101));
    opg_fault_evidence e3 = mk_fault(3, 2, 21, 1101, 1, 3);
    CHECK_OK(opg_slasher_fault(NULL, f.s, &e3, 21, 1101));
    CHECK(!opg_slasher_evidence_seen(f.s, &e1.evidence_id));
    CHECK_OK(opg_slasher_param_set(f.s, "evidence.max_age_num_blocks", "100000"));
    CHECK_OK(opg_slasher_param_set(f.s, "evidence.max_age_duration", "172800"));
    snap x;
    take(&x, f.r, f.s);
    CHECK_RC(opg_slasher_fault(NULL, f.s, &e1, 21, 1101), OPG_EEXPIRED);
    CHECK(unchanged(&x, f.r, f.s));
    /* the floor and the expiries are saved */
    uint8_t *a = NULL, *b = NULL;
    size_t la, lb;
    CHECK(save_bytes(f.s, &a, &la) == 0);
    opg_slasher *s2;
    opg_slasher_free(f.s);
    CHECK_OK(opg_slasher_load(&s2, f.r, a, la, NULL));
    f.s = s2;
    CHECK(save_bytes(s2, &b, &lb) == 0);
    CHECK(la == lb && memcmp(a, b, la) == 0);
    CHECK_RC(opg_slasher_fault(NULL, f.s, &e1, 21, 1101), OPG_EEXPIRED);
    free(a);
    free(b);
    ds_free(&f);
}

/* The history window is the slasher's state: making, loading or freeing a slasher
 * with other max ages leaves the registry's state hash alone (found by
 * fuzz_slasher_load). */
static void test_history_window_not_registry_state(void)
{
    opg_registry *r;
    CHECK_OK(opg_registry_new(&r, NULL, NULL, NULL));
    CHECK_OK(mk_node(r, 1, 1, OPG_ROLE_CONSENSUS, M, 1, 0));
    CHECK_OK(opg_registry_end_block(r, 1, 0));
    uint8_t h0[32], h1[32];
    opg_registry_state_hash(h0, r);
    opg_slasher_params p = base_params();
    p.max_age_num_blocks = 7;
    p.max_age_duration = 9;
    opg_slasher *s;
    CHECK_OK(opg_slasher_new(&s, r, &p, NULL));
    CHECK_OK(opg_slasher_param_set(s, "evidence.max_age_duration", "11"));
    uint8_t *b = NULL;
    size_t len;
    CHECK(save_bytes(s, &b, &len) == 0);
    opg_slasher_free(s);
    CHECK_OK(opg_slasher_load(&s, r, b, len, NULL));
    opg_registry_state_hash(h1, r);
    CHECK(memcmp(h0, h1, 32) == 0);
    opg_slasher_free(s);
    free(b);
    opg_registry_free(r);
}

/* The history's window follows the slashers attached: a copy loaded beside the
 * slasher (a host checking a snapshot) and freed leaves it as it was, so the
 * registry prunes as a replica that made no copy does. */
static void test_history_window_survives_a_copy(void)
{
    opg_registry *r, *r2;
    CHECK_OK(opg_registry_new(&r, NULL, NULL, NULL));
    CHECK_OK(mk_node(r, 1, 1, OPG_ROLE_CONSENSUS, M, 1, 0));
    uint8_t *rb = NULL;
    size_t rl;
    CHECK_RC(opg_registry_save(NULL, 0, &rl, r), OPG_EBUFS);
    rb = malloc(rl);
    CHECK_OK(opg_registry_save(rb, rl, &rl, r));
    CHECK_OK(opg_registry_load(&r2, rb, rl, NULL));
    free(rb);
    opg_slasher_params p = base_params();
    p.max_age_num_blocks = 3;
    p.max_age_duration = 3;
    opg_slasher *s, *s2, *copy;
    CHECK_OK(opg_slasher_new(&s, r, &p, NULL));
    CHECK_OK(opg_slasher_new(&s2, r2, &p, NULL));
    uint8_t *b = NULL;
    size_t len;
    CHECK(save_bytes(s, &b, &len) == 0);
    CHECK_OK(opg_slasher_load(&copy, r, b, len, NULL));
    opg_slasher_free(copy); /* only r had a copy */
    free(b);
    for (opg_height h = 1; h <= 20; h++) {
        CHECK_OK(opg_registry_end_block(r, h, (opg_time)h));
        CHECK_OK(opg_registry_end_block(r2, h, (opg_time)h));
    }
    opg_time t;
    CHECK_RC(opg_registry_block_time(&t, r, 5), OPG_EEXPIRED); /* pruned: the window is 3 */
    uint8_t h1[32], h2[32];
    CHECK_OK(opg_registry_state_hash(h1, r));
    CHECK_OK(opg_registry_state_hash(h2, r2));
    CHECK(memcmp(h1, h2, 32) == 0);
    opg_slasher_free(s2);
    opg_slasher_free(s);
    opg_registry_free(r2);
    opg_registry_free(r);
}

/* The registry's history: block times by height, powers by key and height. */
static void test_consensus_history(void)
{
    ds_fx f;
    CHECK(ds_setup(&f) == 0);
    opg_time t;
    CHECK_RC(opg_registry_block_time(&t, f.r, 0), OPG_EEXPIRED);
    CHECK_OK(opg_registry_block_time(&t, f.r, 1));
    CHECK(t == 100);
    CHECK_OK(opg_registry_block_time(&t, f.r, 7)); /* a skipped height: the block before */
    CHECK(t == 150);
    CHECK_OK(opg_registry_block_time(&t, f.r, 8));
    CHECK(t == 180);
    opg_id k1 = key_id(1);
    uint64_t p;
    static const uint64_t want[9] = {0, 0, 0, 200, 200, 200, 200, 100, 100};
    for (opg_height h = 1; h <= 8; h++) {
        CHECK_OK(opg_registry_power_at(&p, f.r, &k1, h));
        CHECK(p == want[h]);
    }
    ds_free(&f);
}

/* ---------------------------------------------------------- saved state */

static int save_bytes(const opg_slasher *s, uint8_t **out, size_t *len)
{
    if (opg_slasher_save(NULL, 0, len, s) != OPG_EBUFS)
        return 1;
    *out = malloc(*len);
    return !*out || opg_slasher_save(*out, *len, len, s) != OPG_OK;
}

static void test_save_load(void)
{
    ds_fx f;
    CHECK(fault_setup(&f, "0.1", "0.5") == 0);
    opg_slasher_record rec;
    opg_fault_evidence ev = mk_fault(1, 1, 1, 0, 1, 3);
    CHECK_OK(opg_slasher_fault(&rec, f.s, &ev, 2, 1000));
    ev = mk_fault(2, 2, 1, 0, 1, 3);
    CHECK_OK(opg_slasher_fault(&rec, f.s, &ev, 2, 1001));
    CHECK_OK(opg_slasher_param_set(f.s, "slashing.signed_blocks_window", "70"));
    for (opg_height h = 3; h < 40; h++)
        CHECK_OK(commit1(f.s, 3, 10, h % 3 == 0, h, 1000 + (opg_time)h));

    uint8_t *a = NULL, *b = NULL;
    size_t la, lb;
    CHECK(save_bytes(f.s, &a, &la) == 0);
    uint8_t h0[32], h1[32];
    opg_slasher_state_hash(h0, f.s);
    opg_slasher *s2;
    CHECK_OK(opg_slasher_load(&s2, f.r, a, la, NULL));
    CHECK(save_bytes(s2, &b, &lb) == 0);
    CHECK(la == lb && memcmp(a, b, la) == 0);
    opg_slasher_state_hash(h1, s2);
    CHECK(memcmp(h0, h1, 32) == 0);
    opg_id n3 = id_n(3);
    opg_signing_info x1, x2;
    CHECK_OK(opg_slasher_signing_info(&x1, f.s, &n3));
    CHECK_OK(opg_slasher_signing_info(&x2, s2, &n3));
    /* heights 3..39 with window 70: 37 blocks, 13 of them (multiples of 3) signed */
    CHECK(memcmp(&x1, &x2, sizeof x1) == 0 && x1.missed_blocks == 24);
    CHECK(opg_slasher_evidence_seen_count(s2) == 2);
    CHECK(opg_slasher_fault_class_count(s2) == 2);
    CHECK_OK(opg_slasher_check(s2));
    opg_slasher_free(s2);

    /* corruptions: truncation, trailing byte, wrong kind, a counter off by one */
    opg_slasher *s3 = NULL;
    CHECK_RC(opg_slasher_load(&s3, f.r, a, la - 1, NULL), OPG_ECORRUPT);
    uint8_t *c = malloc(la + 1);
    CHECK(c != NULL);
    memcpy(c, a, la);
    c[la] = 0;
    CHECK_RC(opg_slasher_load(&s3, f.r, c, la + 1, NULL), OPG_ECORRUPT);
    memcpy(c, a, la);
    c[4] = 1; /* registry kind */
    CHECK_RC(opg_slasher_load(&s3, f.r, c, la, NULL), OPG_ECORRUPT);
    memcpy(c, a, la);
    c[7] = 9; /* version 9 */
    CHECK_RC(opg_slasher_load(&s3, f.r, c, la, NULL), OPG_EVERSION);
    /* every single-byte flip either loads to a consistent slasher or is refused */
    for (size_t i = 8; i < la; i++) {
        memcpy(c, a, la);
        c[i] ^= 0x01;
        int rc = opg_slasher_load(&s3, f.r, c, la, NULL);
        CHECK(rc == OPG_OK || rc == OPG_ECORRUPT);
        if (rc == OPG_OK) {
            CHECK_OK(opg_slasher_check(s3));
            opg_slasher_free(s3);
        }
    }
    free(c);
    free(a);
    free(b);
    /* a signing info for a node the registry does not have */
    opg_registry *other;
    CHECK_OK(opg_registry_new(&other, NULL, NULL, NULL));
    CHECK(save_bytes(f.s, &a, &la) == 0);
    CHECK_RC(opg_slasher_load(&s3, other, a, la, NULL), OPG_ECORRUPT);
    free(a);
    opg_registry_free(other);
    ds_free(&f);
}

/* ------------------------------------------------------ allocation failure */

/* Runs `op` with the n-th allocation failing, n = 1, 2, ...: each failure must be
 * OPG_ENOMEM with both hashes unchanged and no events; rc_out receives the code of
 * the first run that does not fail for memory. */
#define FAIL_LOOP(fa, r, s, op, rc_out)                                              \
    do {                                                                             \
        for (unsigned long n_ = 1;; n_++) {                                          \
            snap before_;                                                            \
            (fa).fail_at = 0;                                                        \
            take(&before_, r, s);                                                    \
            (fa).calls = 0;                                                          \
            (fa).fail_at = n_;                                                       \
            int rc_ = (op);                                                          \
            (fa).fail_at = 0;                                                        \
            if (rc_ != OPG_ENOMEM) {                                                 \
                rc_out = rc_;                                                        \
                break;                                                               \
            }                                                                        \
            snap after_;                                                             \
            take(&after_, r, s);                                                     \
            CHECK(same_state(&before_, &after_));                                    \
            CHECK(after_.n_events == 0);                                             \
            CHECK(n_ < 10000);                                                       \
        }                                                                            \
    } while (0)

static void test_allocation_failures(void)
{
    failalloc fa;
    failalloc_init(&fa, 0);
    opg_allocator a = failalloc_allocator(&fa);
    opg_registry *r;
    opg_slasher *s;
    opg_slasher_params p = base_params();
    p.signed_blocks_window = 4;
    p.fault_classes = FAULT_CLASSES;
    p.fault_class_count = 2;
    p.reporter_share = dec_of("0.5");
    p.correlation_k = dec_of("0.1");

    /* creation (the reward splitter is attached too: its memory counts) */
    CHECK_OK(opg_registry_new(&r, NULL, NULL, &a));
    g_splitter = splitter_on(r, &a);
    for (unsigned long n = 1;; n++) {
        long long live = fa.live_bytes;
        fa.calls = 0;
        fa.fail_at = n;
        int rc = opg_slasher_new(&s, r, &p, &a);
        fa.fail_at = 0;
        if (rc == OPG_OK)
            break;
        CHECK_RC(rc, OPG_ENOMEM);
        CHECK(fa.live_bytes == live);
    }
    /* node creation grows the slasher's slots in the registry's check phase */
    int rc = 0;
    const uint32_t inf = OPG_ROLE_CONSENSUS | OPG_ROLE_INFERENCE;
    for (unsigned i = 1; i <= 20; i++) {
        FAIL_LOOP(fa, r, s, mk_node(r, i, (int)i, inf, (10 + i) * M, 1, 0), rc);
        CHECK_OK(rc);
    }
    /* node 21 reports the faults */
    FAIL_LOOP(fa, r, s, mk_node(r, 21, 21, OPG_ROLE_VERIFICATION, M, 1, 0), rc);
    CHECK_OK(rc);
    CHECK_OK(opg_registry_end_block(r, 1, 0));
    opg_commit_sig e[20];
    memset(e, 0, sizeof e);
    for (int i = 0; i < 15; i++) { /* 15 distinct keys: nodes 1..15 */
        e[i].consensus_key = key_id(i + 1);
        e[i].power = 11;
        e[i].signed_block = i >= 3;
    }
    for (opg_height h = 2; h <= 5; h++) {
        FAIL_LOOP(fa, r, s, opg_slasher_record_commit(s, e, 15, h, (opg_time)h), rc);
        CHECK_OK(rc);
    }
    /* height 6: three downtime slashes in one call */
    FAIL_LOOP(fa, r, s, opg_slasher_record_commit(s, e, 15, 6, 6), rc);
    CHECK_OK(rc);
    CHECK(n_records(s) == 3);
    /* evidence */
    opg_double_sign_evidence ds = mk_ds(5, 3, hist_time(r, 3), 15);
    FAIL_LOOP(fa, r, s, opg_slasher_double_sign(NULL, s, &ds, 6, 6), rc);
    CHECK_OK(rc);
    for (unsigned i = 1; i <= 4; i++) {
        opg_fault_evidence fe = mk_fault(i, 6 + i, 4, hist_time(r, 4), 1 + (i % 2), 21);
        FAIL_LOOP(fa, r, s, opg_slasher_fault(NULL, s, &fe, 6, 6), rc);
        CHECK_OK(rc);
    }
    /* a new window (a parameter change leaves the registry's events alone: clear them
     * first so the loop's no-events check holds) */
    CHECK_OK(opg_slasher_record_commit(s, NULL, 0, 7, 7));
    FAIL_LOOP(fa, r, s, opg_slasher_param_set(s, "slashing.signed_blocks_window", "1000"), rc);
    CHECK_OK(rc);
    CHECK_OK(opg_slasher_check(s));
    CHECK_OK(opg_registry_check(r));

    /* load */
    size_t len;
    CHECK_RC(opg_slasher_save(NULL, 0, &len, s), OPG_EBUFS);
    uint8_t *buf = malloc(len);
    CHECK(buf != NULL);
    CHECK_OK(opg_slasher_save(buf, len, &len, s));
    for (unsigned long n = 1;; n++) {
        long long live = fa.live_bytes;
        opg_slasher *s2;
        fa.calls = 0;
        fa.fail_at = n;
        rc = opg_slasher_load(&s2, r, buf, len, &a);
        fa.fail_at = 0;
        if (rc == OPG_OK) {
            opg_slasher_free(s2);
            break;
        }
        CHECK_RC(rc, OPG_ENOMEM);
        CHECK(fa.live_bytes == live);
    }
    free(buf);
    CHECK_OK(opg_splitter_check(g_splitter));
    opg_slasher_free(s);
    opg_splitter_free(g_splitter);
    g_splitter = NULL;
    opg_registry_free(r);
    CHECK(fa.live_bytes == 0 && fa.live_blocks == 0);
}

/*
 * Three downtime slashes in one commit, two of the nodes with redelegations out of
 * them and one destination delegation also unbonding (so the slashes drain entries
 * and unbond delegations at the destination). For every n, failing the n-th
 * allocation of the commit returns OPG_ENOMEM with every state hash unchanged, no
 * events and no records; calling again then reaches exactly the state, events and
 * records of one successful call.
 */
/* A commit at height (= time) h that nodes 1 to 3 miss and node 4 signs; node 2 with
 * power p2, the others 100. */
static int commit_at(opg_slasher *s, opg_height h, uint64_t p2)
{
    opg_commit_sig e[4];
    memset(e, 0, sizeof e);
    for (int i = 0; i < 4; i++) {
        e[i].consensus_key = key_id(i + 1);
        e[i].power = i == 1 ? p2 : 100;
        e[i].signed_block = i == 3;
    }
    return opg_slasher_record_commit(s, e, 4, h, (opg_time)h);
}

static int partial_setup(opg_registry **r, opg_slasher **s, const opg_allocator *a)
{
    opg_slasher_params p = base_params();
    p.signed_blocks_window = 2; /* max_missed 1 */
    if (opg_registry_new(r, NULL, NULL, a))
        return 1;
    g_splitter = splitter_on(*r, a);
    if (opg_slasher_new(s, *r, &p, a))
        return 1;
    opg_id b = id_n(2), c = id_n(3), dst = id_n(4), d = id_n(700), e = id_n(701);
    opg_u256 amt = u64v(40 * M), part = u64v(10 * M);
    int rc = mk_node(*r, 1, 1, OPG_ROLE_CONSENSUS, 100 * M, 1, 0);
    rc |= mk_node(*r, 2, 2, OPG_ROLE_CONSENSUS, 100 * M, 1, 0);
    rc |= mk_node(*r, 3, 3, OPG_ROLE_CONSENSUS, 100 * M, 1, 0);
    rc |= mk_node(*r, 4, 4, OPG_ROLE_CONSENSUS, 100 * M, 1, 0);
    rc |= opg_registry_delegate(NULL, *r, &d, &b, &amt, 1, 0);
    rc |= opg_registry_delegate(NULL, *r, &e, &c, &amt, 1, 0);
    rc |= opg_registry_end_block(*r, 1, 0);
    rc |= opg_registry_redelegate(NULL, *r, &d, &b, &dst, &amt, 3, 3);
    rc |= opg_registry_redelegate(NULL, *r, &e, &c, &dst, &amt, 3, 3);
    rc |= opg_registry_undelegate(NULL, NULL, *r, &e, &dst, &part, 3, 3);
    opg_u256 fees = u64v(9 * M); /* rewards at node 4, paid when a slash unbonds there */
    rc |= opg_splitter_allocate_to_node(g_splitter, &dst, &fees);
    rc |= commit_at(*s, 4, 100);
    return rc;
}

static int partial_commit(opg_slasher *s) { return commit_at(s, 5, 140); }

static void test_liveness_all_or_nothing(void)
{
    opg_registry *r;
    opg_slasher *s;
    CHECK(partial_setup(&r, &s, NULL) == 0);
    CHECK_OK(partial_commit(s));
    size_t n;
    const opg_slasher_record *rec = opg_slasher_slashes(s, &n);
    CHECK(n == 3);
    /* node 2: to_slash = trunc(140e6 * 0.01) = 1,400,000; the redelegation (created at
     * 3 >= 5 - 2) counts trunc(0.01 * 40e6) = 400,000 and unbonds 0.4 of d's shares
     * at node 4: 400,000; the node pays the remaining 1,000,000 */
    CHECK_U256(rec[1].slash.burned_redelegation, "400000");
    CHECK_U256(rec[1].slash.burned_node, "1000000");
    /* node 3: to_slash = 1,000,000; e's entry counts 400,000 and first drains e's
     * unbonding at node 4 (10,000,000 balance, created at 3): all 400,000 from it,
     * so nothing is unbonded at node 4; the node pays 600,000 */
    CHECK_U256(rec[2].slash.burned_unbonding, "400000");
    CHECK_U256(rec[2].slash.burned_redelegation, "0");
    CHECK_U256(rec[2].slash.burned_node, "600000");
    opg_slasher_record ref_recs[3];
    memcpy(ref_recs, rec, sizeof ref_recs);
    snap ref;
    take(&ref, r, s);
    /* in order: node 1 burned, jailed; node 2's slash pays d's rewards at node 4 as it
     * unbonds there, then burned, jailed; node 3 burned, jailed */
    static const opg_event_kind want[] = {
        OPG_EVENT_BURNED, OPG_EVENT_NODE_JAILED, OPG_EVENT_REWARDS_PAID, OPG_EVENT_BURNED,
        OPG_EVENT_NODE_JAILED, OPG_EVENT_BURNED, OPG_EVENT_NODE_JAILED};
    size_t ne;
    const opg_event *ev = opg_registry_events(r, &ne);
    CHECK(ne == (sizeof want / sizeof want[0]));
    for (size_t i = 0; i < ne && i < (sizeof want / sizeof want[0]); i++)
        CHECK(ev[i].kind == want[i]);
    CHECK(ne == 7 && opg_u256_cmp(&ev[3].amount, &rec[1].slash.burned_total) == 0 &&
          opg_u256_cmp(&ev[5].amount, &rec[2].slash.burned_total) == 0);
    opg_slasher_free(s);
    opg_splitter_free(g_splitter);
    opg_registry_free(r);

    unsigned points = 0;
    for (unsigned long k = 1;; k++) {
        failalloc fa;
        failalloc_init(&fa, 0);
        opg_allocator a = failalloc_allocator(&fa);
        CHECK(partial_setup(&r, &s, &a) == 0);
        snap before, after;
        take(&before, r, s);
        fa.calls = 0;
        fa.fail_at = k;
        int rc = partial_commit(s);
        fa.fail_at = 0;
        int done = rc == OPG_OK;
        if (rc != OPG_OK) {
            points++;
            CHECK_RC(rc, OPG_ENOMEM);
            take(&after, r, s);
            CHECK(unchanged(&before, r, s) && after.n_events == 0);
            CHECK_OK(partial_commit(s));
        }
        take(&after, r, s);
        CHECK(same_state(&after, &ref) && after.n_events == ref.n_events &&
              memcmp(after.events, ref.events, 32) == 0);
        rec = opg_slasher_slashes(s, &n);
        CHECK(n == 3 && memcmp(rec, ref_recs, sizeof ref_recs) == 0);
        CHECK_OK(opg_splitter_check(g_splitter));
        opg_slasher_free(s);
        opg_splitter_free(g_splitter);
        opg_registry_free(r);
        CHECK(fa.live_bytes == 0);
        if (done)
            break;
        CHECK(k < 1000);
    }
    g_splitter = NULL;
    printf("  liveness with 3 slashes: %u allocation failure points, each all-or-nothing\n", points);
    CHECK(points >= 3);
}

/* ------------------------------------------------------------- property */

/*
 * Random stake operations interleaved with commits (random misses), double-sign and
 * faulty-inference evidence, end_blocks and unjails. After every step: the
 * registry's and the slasher's checks pass, and tokens are conserved:
 *   deposited = bonded + unbonding (node tokens and pending entries)
 *             + matured payouts + burned + reporter rewards
 * Every refused call leaves both hashes unchanged; save/load/save is the identity.
 */
static void test_random_slashes_and_stake(void)
{
    test_rng rng = {20250101};
    opg_registry *r;
    opg_slasher *s;
    opg_registry_params rp;
    opg_registry_params_init(&rp);
    rp.unbonding_time = 50;
    rp.max_validators = 8;
    opg_slasher_params p = base_params();
    p.signed_blocks_window = 8;
    p.downtime_jail_duration = 20;
    p.fault_classes = FAULT_CLASSES;
    p.fault_class_count = 2;
    p.reporter_share = dec_of("0.2");
    p.correlation_k = dec_of("0.3");
    p.correlation_window = 40;
    p.max_age_num_blocks = 30;
    p.max_age_duration = 60;
    CHECK_OK(opg_registry_new(&r, &rp, NULL, NULL));
    opg_splitter *sp = splitter_on(r, NULL);
    g_splitter = sp;
    CHECK_OK(opg_slasher_new(&s, r, &p, NULL));

    const unsigned NODES = 12, DELEGATORS = 12;
    opg_u256 deposited = u64v(0), paid = u64v(0), rewards = u64v(0);
    opg_height h = 1;
    opg_time t = 1000;
    for (unsigned i = 1; i <= NODES; i++) {
        uint64_t self = (5 + rng_below(&rng, 50)) * M + rng_below(&rng, M);
        uint32_t roles = OPG_ROLE_CONSENSUS | (i % 3 ? OPG_ROLE_INFERENCE : OPG_ROLE_VERIFICATION);
        CHECK_OK(mk_node(r, i, (int)i, roles, self, h, t));
        opg_u256 v = u64v(self);
        opg_u256_add(&deposited, &deposited, &v);
    }
    unsigned evid = 0, n_slashes = 0, n_refused = 0, by_reason[4] = {0, 0, 0, 0}, entries_hit = 0;
    record_store store; /* the host's store of the slasher's change sets */
    memset(&store, 0, sizeof store);
    size_t changed = 0;
    for (int step = 0; step < 5000; step++) {
        if (step == 2000 || step == 3500) /* a window of two chunks, then back: restarts */
            CHECK_OK(opg_slasher_param_set(s, "slashing.signed_blocks_window", step == 2000 ? "1100" : "8"));
        unsigned op = (unsigned)rng_below(&rng, 100);
        opg_id node = id_n(1 + (unsigned)rng_below(&rng, NODES));
        opg_id dtor = id_n(300 + (unsigned)rng_below(&rng, DELEGATORS));
        snap before;
        take(&before, r, s);
        int rc = OPG_OK, ours = 0;
        if (op < 20) {
            opg_u256 amt = u64v(1 + rng_below(&rng, 20 * M));
            rc = opg_registry_delegate(NULL, r, &dtor, &node, &amt, h, t);
            if (rc == OPG_OK)
                opg_u256_add(&deposited, &deposited, &amt);
        } else if (op < 28) {
            opg_u256 amt = u64v(1 + rng_below(&rng, 10 * M));
            rc = opg_registry_undelegate(NULL, NULL, r, &dtor, &node, &amt, h, t);
        } else if (op < 34) {
            opg_id dst = id_n(1 + (unsigned)rng_below(&rng, NODES));
            opg_u256 amt = u64v(1 + rng_below(&rng, 10 * M));
            rc = opg_registry_redelegate(NULL, r, &dtor, &node, &dst, &amt, h, t);
        } else if (op < 64) {
            /* a block: end the last one, then the new one's commit */
            CHECK_OK(opg_registry_end_block(r, h, t));
            size_t ne;
            const opg_event *ev = opg_registry_events(r, &ne);
            for (size_t k = 0; k < ne; k++)
                if (ev[k].kind == OPG_EVENT_UNBONDING_MATURED)
                    opg_u256_add(&paid, &paid, &ev[k].amount);
            h++;
            t += 1 + (opg_time)rng_below(&rng, 6);
            opg_commit_sig e[16];
            opg_commit_vote v[16];
            size_t n = 0;
            for (unsigned i = 1; i <= NODES; i++) {
                opg_node_info ni = node_info(r, i);
                if (ni.status != OPG_NODE_BONDED)
                    continue;
                e[n].consensus_key = ni.consensus_key;
                e[n].power = ni.power;
                e[n].signed_block = rng_below(&rng, 100) < (i % 3 == 0 ? 25u : 90u);
                memset(&v[n], 0, sizeof v[n]);
                v[n].consensus_key = ni.consensus_key;
                v[n].power = ni.power;
                n++;
            }
            take(&before, r, s);
            rc = opg_slasher_record_commit(s, e, n, h, t);
            ours = 1;
            if (rc == OPG_OK) { /* the splitter allocates the block's fees */
                opg_u256 fee = u64v(rng_below(&rng, 1000000));
                CHECK_OK(opg_splitter_add_fees(sp, &fee));
                CHECK_OK(opg_splitter_allocate(sp, v, n, h, t));
            }
        } else if (op < 74) {
            opg_id self = node;
            rc = opg_registry_unjail(r, &self, t);
            opg_u256 paid;
            if (rng_below(&rng, 2))
                (void)opg_splitter_withdraw_rewards(&paid, sp, &dtor, &node, h, t);
        } else if (op < 76) {
            unsigned k = 1 + (unsigned)rng_below(&rng, NODES);
            uint64_t ih = h - rng_below(&rng, h < 20 ? h : 20);
            /* the power: looked up (0), the registry's, or another (refused) */
            uint64_t pw = 0, hp = 0;
            opg_id kk = key_id((int)k);
            (void)opg_registry_power_at(&hp, r, &kk, ih);
            uint64_t pick = rng_below(&rng, 3);
            pw = pick == 0 ? 0 : pick == 1 ? hp : 1 + rng_below(&rng, 60);
            opg_double_sign_evidence ds = mk_ds((int)k, ih, hist_time(r, ih), pw);
            if (rng_below(&rng, 2) == 0)
                ds.vote_a.signature[rng_below(&rng, 64)] ^= 0x10;
            rc = opg_slasher_double_sign(NULL, s, &ds, h, t);
            ours = 1;
        } else if (op < 86) {
            unsigned id = rng_below(&rng, 5) == 0 && evid ? evid : ++evid;
            uint64_t c = rng_below(&rng, 20);
            uint32_t cls = c == 0 ? 2 : c == 1 ? 3 : 1; /* tombstoning and unknown: rare */
            opg_height ih = h - rng_below(&rng, h < 20 ? h : 20);
            /* reporters: node 3k have the verification role; some report themselves */
            unsigned accused = 1 + (unsigned)rng_below(&rng, NODES);
            unsigned reporter = rng_below(&rng, 8) == 0 ? accused : 3 * (1 + (unsigned)rng_below(&rng, NODES / 3));
            opg_fault_evidence fe = mk_fault(id, accused, ih, hist_time(r, ih), cls, reporter);
            opg_slasher_record rec;
            rc = opg_slasher_fault(&rec, s, &fe, h, t);
            if (rc == OPG_OK)
                opg_u256_add(&rewards, &rewards, &rec.reporter_reward);
            ours = 1;
        } else if (op < 90) {
            /* the window moves under governance */
            char v[32];
            snprintf(v, sizeof v, "%u", 4 + (unsigned)rng_below(&rng, 12));
            rc = opg_slasher_param_set(s, "slashing.signed_blocks_window", v);
        } else {
            uint64_t ch = h > 1 ? h - rng_below(&rng, 2) : h;
            opg_u256 amt = u64v(1 + rng_below(&rng, M));
            rc = opg_registry_cancel_unbonding(r, &dtor, &node, ch, &amt, h, t);
        }
        if (rc != OPG_OK && ours) {
            CHECK(unchanged(&before, r, s));
            n_refused++;
        }
        if (rc == OPG_OK && ours) {
            size_t nr;
            const opg_slasher_record *rs = opg_slasher_slashes(s, &nr);
            for (size_t k = 0; k < nr; k++) {
                by_reason[rs[k].reason]++;
                if (!opg_u256_is_zero(&rs[k].slash.burned_unbonding) ||
                    !opg_u256_is_zero(&rs[k].slash.burned_redelegation))
                    entries_hit++;
            }
            n_slashes += (unsigned)nr;
        }
        CHECK_OK(opg_registry_check(r));
        CHECK_OK(opg_slasher_check(s));
        CHECK_OK(opg_splitter_check(sp));
        /* the commit: its root is the root from scratch, its change sets the store */
        uint8_t root[32], scratch[32];
        const opg_record *ch;
        size_t nch;
        CHECK_OK(opg_slasher_commit(root, &ch, &nch, s));
        for (size_t k = 0; k < nch; k++)
            store_put(&store, &ch[k]);
        changed += nch;
        CHECK_OK(opg_slasher_root_from_scratch(scratch, s));
        CHECK(memcmp(root, scratch, 32) == 0);
        if (step % 250 == 0) {
            store.cursor = 0;
            opg_slasher *s3 = NULL;
            uint8_t *a = NULL, *b = NULL;
            size_t la, lb;
            CHECK_OK(opg_slasher_load_records(&s3, r, store_next, &store, root, NULL));
            CHECK(save_bytes(s, &a, &la) == 0 && save_bytes(s3, &b, &lb) == 0);
            CHECK(la == lb && memcmp(a, b, la) == 0);
            opg_slasher_free(s3);
            free(a);
            free(b);
        }
        opg_supply_info sup;
        opg_registry_supply(&sup, r);
        opg_u256 total;
        opg_u256_add(&total, &sup.bonded, &sup.unbonding);
        opg_u256_add(&total, &total, &paid);
        opg_u256_add(&total, &total, &sup.burned);
        opg_u256_add(&total, &total, &rewards);
        CHECK(opg_u256_cmp(&total, &deposited) == 0);
        if (step % 500 == 0) {
            uint8_t *a = NULL, *b = NULL;
            size_t la, lb;
            opg_slasher *s2;
            CHECK(save_bytes(s, &a, &la) == 0);
            CHECK_OK(opg_slasher_load(&s2, r, a, la, NULL));
            CHECK(save_bytes(s2, &b, &lb) == 0);
            CHECK(la == lb && memcmp(a, b, la) == 0);
            opg_slasher_free(s2);
            free(a);
            free(b);
        }
    }
    printf("  %u slashes (%u downtime, %u double sign, %u fault; %u reaching entries), "
           "%u refused slasher calls, %zu records changed, %zu in the store\n",
           n_slashes, by_reason[1], by_reason[2], by_reason[3], entries_hit, n_refused, changed, store.n);
    store_free(&store);
    /* the run exercised what it claims to */
    CHECK(by_reason[1] > 5 && by_reason[2] > 2 && by_reason[3] > 5 && entries_hit > 2 &&
          n_refused > 20);
    opg_slasher_free(s);
    opg_splitter_free(sp);
    g_splitter = NULL;
    opg_registry_free(r);
}

int main(void)
{
    keys_init();
    RUN(test_params_defaults_and_keys);
    RUN(test_vote_sign_bytes);
    RUN(test_evidence_codec);
    RUN(test_downtime_threshold);
    RUN(test_downtime_grace_period);
    RUN(test_downtime_infraction_height);
    RUN(test_splitter_rewards_across_slash);
    RUN(test_commit_many_nodes);
    RUN(test_window_change_resets);
    RUN(test_change_sets);
    RUN(test_node_removed_drops_info);
    RUN(test_created_on_live_registry);
    RUN(test_double_sign_valid);
    RUN(test_double_sign_jailed_node);
    RUN(test_double_sign_refusals);
    RUN(test_submit_evidence_bytes);
    RUN(test_fault_classes_and_reporter);
    RUN(test_reporter_reward_truncates);
    RUN(test_correlated_penalty);
    RUN(test_seen_ids_forgotten);
    RUN(test_misbehavior_known_answer);
    RUN(test_misbehavior_age);
    RUN(test_tombstone_outlives_node);
    RUN(test_unusable_consensus_keys);
    RUN(test_fault_reporter_checked);
    RUN(test_seen_ids_survive_param_changes);
    RUN(test_consensus_history);
    RUN(test_history_window_not_registry_state);
    RUN(test_history_window_survives_a_copy);
    RUN(test_fault_unbonded_node);
    RUN(test_save_load);
    RUN(test_allocation_failures);
    RUN(test_liveness_all_or_nothing);
    RUN(test_random_slashes_and_stake);
    return harness_done();
}
