/*
 * test_codec.c - white-box tests of the internal foundation every module builds on:
 *
 *   - the canonical state codec (lib/codec.h): field round trips, the big-endian
 *     layout, header checks, bounded reads, record counts, saving into a caller
 *     buffer, and state hashes (BLAKE2b-256 personalised per kind, of exactly the
 *     saved bytes);
 *   - parameters by key and text (lib/params.h) on a table defined here;
 *   - opgi_muldiv (lib/num.h) at widths beyond 256 bits, against GMP mpz.
 *
 * Inputs that readers get are heap copies of exactly their length, so that under
 * `make asan` any read past the end is caught, not only reported by the codec.
 */
#include "harness.h"

#include "codec.h"
#include "num.h"
#include "params.h"

#include <gmp.h>
#include <sodium.h>

/* A heap copy of exactly n bytes (at least 1 allocated, so malloc(0) is no issue). */
static uint8_t *exact_copy(const uint8_t *p, size_t n)
{
    uint8_t *c = malloc(n ? n : 1);
    if (!c)
        abort();
    if (n)
        memcpy(c, p, n);
    return c;
}

/* ================================================================== codec */

/* One value of every field type; write_all and read_all must mirror each other. */
typedef struct sample {
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    int64_t i64;
    opg_u256 u256;
    opg_dec dec;
    opg_id id;
    uint64_t limbs[6];
    int flag;
    uint8_t bytes[5];
} sample;

static sample sample_value(void)
{
    sample s;
    memset(&s, 0, sizeof s);
    s.u8 = 0xfe;
    s.u16 = 0xbeef;
    s.u32 = 0xdeadbeefu;
    s.u64 = UINT64_C(0xfedcba9876543210);
    s.i64 = INT64_MIN + 7;
    s.u256 = u256_of("115792089237316195423570985008687907853269984665640564039457584007913129639935");
    s.dec = dec_of("12345.000000000000000001");
    s.id = id_n(0x1234);
    s.id.bytes[0] = 0x80;
    for (int i = 0; i < 6; i++)
        s.limbs[i] = UINT64_C(0x0101010101010101) * (uint64_t)(i + 1);
    s.flag = 1;
    memcpy(s.bytes, "hello", 5);
    return s;
}

static void write_all(opgi_writer *w, const sample *s)
{
    opgi_w_u8(w, s->u8);
    opgi_w_u16(w, s->u16);
    opgi_w_u32(w, s->u32);
    opgi_w_u64(w, s->u64);
    opgi_w_i64(w, s->i64);
    opgi_w_u256(w, &s->u256);
    opgi_w_dec(w, &s->dec);
    opgi_w_id(w, &s->id);
    opgi_w_limbs(w, s->limbs, 6);
    opgi_w_u8(w, (uint8_t)s->flag); /* a bool is one byte, 0 or 1 */
    opgi_w_bytes(w, s->bytes, 5);
}

/* 1+2+4+8+8+32+32+32+48+1+5 */
#define SAMPLE_BYTES 173

static void read_all(opgi_reader *r, sample *s)
{
    memset(s, 0, sizeof *s);
    s->u8 = opgi_r_u8(r);
    s->u16 = opgi_r_u16(r);
    s->u32 = opgi_r_u32(r);
    s->u64 = opgi_r_u64(r);
    s->i64 = opgi_r_i64(r);
    opgi_r_u256(r, &s->u256);
    opgi_r_dec(r, &s->dec);
    opgi_r_id(r, &s->id);
    opgi_r_limbs(r, s->limbs, 6);
    s->flag = opgi_r_bool(r);
    opgi_r_bytes(r, s->bytes, 5);
}

static int sample_eq(const sample *a, const sample *b)
{
    return a->u8 == b->u8 && a->u16 == b->u16 && a->u32 == b->u32 && a->u64 == b->u64 &&
           a->i64 == b->i64 && opg_u256_cmp(&a->u256, &b->u256) == 0 &&
           opg_dec_cmp(&a->dec, &b->dec) == 0 && opg_id_cmp(&a->id, &b->id) == 0 &&
           memcmp(a->limbs, b->limbs, sizeof a->limbs) == 0 && a->flag == b->flag &&
           memcmp(a->bytes, b->bytes, sizeof a->bytes) == 0;
}

static void test_codec_round_trip(void)
{
    sample in = sample_value(), out;
    uint8_t buf[256];
    opgi_writer w;
    opgi_writer_buffer(&w, buf, sizeof buf);
    write_all(&w, &in);
    size_t len = 0;
    CHECK_OK(opgi_writer_finish(&w, &len));
    CHECK(len == SAMPLE_BYTES);

    uint8_t *copy = exact_copy(buf, len);
    opgi_reader r;
    opgi_reader_init(&r, copy, len);
    read_all(&r, &out);
    int rc = opgi_r_finish(&r);
    free(copy);
    CHECK_OK(rc);
    CHECK(sample_eq(&in, &out));

    /* the extremes of the signed and wide types survive too */
    int64_t extremes[] = {INT64_MIN, -1, 0, 1, INT64_MAX};
    for (size_t i = 0; i < OPGI_ARRAY_LEN(extremes); i++) {
        opgi_writer_buffer(&w, buf, sizeof buf);
        opgi_w_i64(&w, extremes[i]);
        opgi_reader_init(&r, buf, w.len);
        CHECK(opgi_r_i64(&r) == extremes[i]);
        CHECK_OK(opgi_r_finish(&r));
    }
}

static void test_codec_big_endian_layout(void)
{
    uint8_t buf[128];
    opgi_writer w;
    opgi_writer_buffer(&w, buf, sizeof buf);
    opgi_w_header(&w, OPGI_KIND_SLASHER, 0x0102);
    opgi_w_u16(&w, 0x0a0b);
    opgi_w_u32(&w, 0x01020304u);
    opgi_w_u64(&w, UINT64_C(0x0102030405060708));
    opgi_w_i64(&w, -2);
    opg_u256 v = {{UINT64_C(0x1112131415161718), UINT64_C(0x2122232425262728),
                   UINT64_C(0x3132333435363738), UINT64_C(0x4142434445464748)}};
    opgi_w_u256(&w, &v);
    size_t len;
    CHECK_OK(opgi_writer_finish(&w, &len));
    static const uint8_t want[] = {
        'O', 'P', 'G', 'S', 4, 0, 0x01, 0x02,                   /* header */
        0x0a, 0x0b,                                             /* u16 */
        0x01, 0x02, 0x03, 0x04,                                 /* u32 */
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,         /* u64 */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,         /* i64 -2, two's complement */
        0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,         /* u256: most significant */
        0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38,         /* limb first */
        0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28,
        0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
    };
    CHECK(len == sizeof want);
    CHECK(memcmp(buf, want, sizeof want) == 0);
    CHECK(OPGI_HEADER_SIZE == 8);

    /* the u256 field is the public 32-byte big-endian form */
    uint8_t be[32];
    opg_u256_to_be32(be, &v);
    CHECK(memcmp(buf + 30, be, 32) == 0);
}

/* A header of the given parts, read back with kind/max_version. */
static int read_header(const uint8_t h[8], size_t n, enum opgi_kind kind, uint16_t max_version,
                       uint16_t *version)
{
    uint8_t *copy = exact_copy(h, n);
    opgi_reader r;
    opgi_reader_init(&r, copy, n);
    int rc = opgi_r_header(&r, kind, max_version, version);
    free(copy);
    return rc;
}

static void test_codec_header(void)
{
    uint8_t h[OPGI_HEADER_SIZE];
    opgi_writer w;
    opgi_writer_buffer(&w, h, sizeof h);
    opgi_w_header(&w, OPGI_KIND_REGISTRY, 3);
    CHECK(w.len == OPGI_HEADER_SIZE);

    uint16_t version = 0;
    CHECK_OK(read_header(h, 8, OPGI_KIND_REGISTRY, 3, &version));
    CHECK(version == 3);
    CHECK_OK(read_header(h, 8, OPGI_KIND_REGISTRY, 9, &version)); /* older is fine */
    CHECK(version == 3);

    /* a newer version than this build knows */
    version = 77;
    CHECK_RC(read_header(h, 8, OPGI_KIND_REGISTRY, 2, &version), OPG_EVERSION);
    CHECK(version == 77); /* untouched on failure */
    /* another kind's state */
    CHECK_RC(read_header(h, 8, OPGI_KIND_PRICER, 3, &version), OPG_ECORRUPT);
    /* wrong magic, in each of its bytes */
    for (int i = 0; i < 4; i++) {
        uint8_t bad[8];
        memcpy(bad, h, 8);
        bad[i] ^= 0x20;
        CHECK_RC(read_header(bad, 8, OPGI_KIND_REGISTRY, 3, &version), OPG_ECORRUPT);
    }
    /* the reserved byte must be zero */
    uint8_t reserved[8];
    memcpy(reserved, h, 8);
    reserved[5] = 1;
    CHECK_RC(read_header(reserved, 8, OPGI_KIND_REGISTRY, 3, &version), OPG_ECORRUPT);
    /* version 0 was never written by anyone */
    uint8_t v0[8];
    memcpy(v0, h, 8);
    v0[6] = v0[7] = 0;
    CHECK(read_header(v0, 8, OPGI_KIND_REGISTRY, 3, &version) != OPG_OK);
    /* a truncated header, at every length */
    for (size_t n = 0; n < 8; n++)
        CHECK_RC(read_header(h, n, OPGI_KIND_REGISTRY, 3, &version), OPG_ECORRUPT);
}

static void test_codec_short_reads(void)
{
    sample in = sample_value(), out;
    uint8_t buf[256];
    opgi_writer w;
    opgi_writer_buffer(&w, buf, sizeof buf);
    write_all(&w, &in);
    CHECK(w.len == SAMPLE_BYTES);

    /* Every strict prefix of a valid encoding: the reads stay inside the copy
     * (asan would stop us otherwise) and finish refuses it. */
    for (size_t n = 0; n < SAMPLE_BYTES; n++) {
        uint8_t *copy = exact_copy(buf, n);
        opgi_reader r;
        opgi_reader_init(&r, copy, n);
        read_all(&r, &out);
        int rc = opgi_r_finish(&r);
        CHECK(r.pos <= n);
        free(copy);
        CHECK_RC(rc, OPG_ECORRUPT);
    }

    /* A short read yields zeros, and the error is sticky: later reads that would
     * fit fail too, so a decoder cannot resynchronise on garbage. */
    const uint8_t three[3] = {0xaa, 0xbb, 0xcc};
    opgi_reader r;
    opgi_reader_init(&r, three, 3);
    CHECK(opgi_r_u32(&r) == 0);
    CHECK(opgi_r_u8(&r) == 0);
    CHECK(r.pos == 0);
    CHECK_RC(opgi_r_finish(&r), OPG_ECORRUPT);

    opg_id id;
    memset(&id, 0x77, sizeof id);
    opgi_reader_init(&r, buf, 31);
    opgi_r_id(&r, &id);
    opg_id zero;
    memset(&zero, 0, sizeof zero);
    CHECK(opg_id_cmp(&id, &zero) == 0);
    CHECK_RC(opgi_r_finish(&r), OPG_ECORRUPT);

    /* leftover bytes are corrupt too: the input must be used up exactly */
    opgi_reader_init(&r, three, 3);
    CHECK(opgi_r_u16(&r) == 0xaabb);
    CHECK_RC(opgi_r_finish(&r), OPG_ECORRUPT);
    CHECK(opgi_r_u8(&r) == 0xcc);
    CHECK_OK(opgi_r_finish(&r));

    /* a NULL input is empty, whatever length comes with it */
    opgi_reader_init(&r, NULL, 100);
    CHECK(opgi_r_u8(&r) == 0);
    CHECK_RC(opgi_r_finish(&r), OPG_ECORRUPT);
}

static void test_codec_bool_and_fail(void)
{
    const uint8_t bools[3] = {0, 1, 2};
    opgi_reader r;
    opgi_reader_init(&r, bools, 3);
    CHECK(opgi_r_bool(&r) == 0);
    CHECK(opgi_r_bool(&r) == 1);
    CHECK_RC(opgi_r_finish(&r), OPG_ECORRUPT); /* 1 byte left over */
    opgi_r_bool(&r); /* 2: neither false nor true */
    CHECK(r.bad);
    CHECK_RC(opgi_r_finish(&r), OPG_ECORRUPT);

    /* a decoder's own range check marks the input bad with opgi_r_fail */
    opgi_reader_init(&r, bools, 1);
    CHECK(opgi_r_u8(&r) == 0);
    CHECK_OK(opgi_r_finish(&r));
    opgi_r_fail(&r);
    CHECK_RC(opgi_r_finish(&r), OPG_ECORRUPT);
}

/* A count followed by `have` bytes of records. */
static uint32_t read_count(uint32_t count, size_t have, size_t min_each, int *bad)
{
    uint8_t *buf = calloc(1, 4 + have);
    if (!buf)
        abort();
    buf[0] = (uint8_t)(count >> 24);
    buf[1] = (uint8_t)(count >> 16);
    buf[2] = (uint8_t)(count >> 8);
    buf[3] = (uint8_t)count;
    opgi_reader r;
    opgi_reader_init(&r, buf, 4 + have);
    uint32_t n = opgi_r_count(&r, min_each);
    *bad = r.bad;
    free(buf);
    return n;
}

static void test_codec_count(void)
{
    int bad;
    CHECK(read_count(5, 50, 10, &bad) == 5 && !bad);   /* exactly fits */
    CHECK(read_count(5, 49, 10, &bad) == 0 && bad);    /* one byte short */
    CHECK(read_count(0, 0, 10, &bad) == 0 && !bad);    /* empty list */
    CHECK(read_count(UINT32_MAX, 100, 1, &bad) == 0 && bad); /* a huge count is refused */
    CHECK(read_count(1, 100, SIZE_MAX, &bad) == 0 && bad);   /* no overflow in count*size */
    CHECK(read_count(2, 64, 32, &bad) == 2 && !bad);

    /* a count with no room for itself */
    const uint8_t two[2] = {0, 1};
    opgi_reader r;
    opgi_reader_init(&r, two, 2);
    CHECK(opgi_r_count(&r, 1) == 0);
    CHECK_RC(opgi_r_finish(&r), OPG_ECORRUPT);
}

/* A toy module state: a header and a list of records, encoded canonically. */
typedef struct toy_state {
    uint16_t version;
    uint32_t n;
    const uint8_t *blob; /* n bytes written as one field: exercises big writes */
    uint64_t seed;
} toy_state;

static void toy_encode(opgi_writer *w, const void *p)
{
    const toy_state *s = p;
    opgi_w_header(w, OPGI_KIND_REGISTRY, s->version);
    opgi_w_u32(w, s->n);
    for (uint32_t i = 0; i < s->n; i++) /* many small fields: the hash's staging path */
        opgi_w_u64(w, s->seed * (i + 1));
    opgi_w_bytes(w, s->blob, s->n);
}

static size_t toy_size(const toy_state *s) { return OPGI_HEADER_SIZE + 4 + 9 * (size_t)s->n; }

static void test_codec_save_ebufs(void)
{
    static uint8_t blob[700];
    for (size_t i = 0; i < sizeof blob; i++)
        blob[i] = (uint8_t)(i * 31 + 7);
    toy_state st = {1, 700, blob, UINT64_C(0x9e3779b97f4a7c15)};
    size_t need = toy_size(&st);

    /* counting only */
    size_t len = 0;
    CHECK_RC(opgi_save(NULL, 0, &len, toy_encode, &st), OPG_EBUFS);
    CHECK(len == need);

    uint8_t *buf = malloc(need + 16);
    uint8_t *again = malloc(need);
    CHECK(buf && again);
    /* one byte short: EBUFS with the size needed, nothing written past cap */
    memset(buf, 0xee, need + 16);
    len = 0;
    CHECK_RC(opgi_save(buf, need - 1, &len, toy_encode, &st), OPG_EBUFS);
    CHECK(len == need);
    for (size_t i = need - 1; i < need + 16; i++)
        CHECK(buf[i] == 0xee);

    /* exactly enough */
    CHECK_OK(opgi_save(buf, need, &len, toy_encode, &st));
    CHECK(len == need);
    CHECK(buf[need] == 0xee);
    CHECK(memcmp(buf, "OPGS", 4) == 0 && buf[4] == OPGI_KIND_REGISTRY);
    /* saving again gives the same bytes */
    CHECK_OK(opgi_save(again, need, &len, toy_encode, &st));
    CHECK(memcmp(buf, again, need) == 0);

    /* and it decodes */
    opgi_reader r;
    uint16_t version = 0;
    opgi_reader_init(&r, again, need);
    CHECK_OK(opgi_r_header(&r, OPGI_KIND_REGISTRY, 1, &version));
    uint32_t n = opgi_r_count(&r, 9);
    CHECK(n == 700);
    for (uint32_t i = 0; i < n; i++)
        CHECK(opgi_r_u64(&r) == st.seed * (i + 1));
    uint8_t back[700];
    opgi_r_bytes(&r, back, n);
    CHECK_OK(opgi_r_finish(&r));
    CHECK(memcmp(back, blob, sizeof back) == 0);
    free(buf);
    free(again);
}

static void personal_of(uint8_t out[16], const char *name)
{
    memset(out, 0, 16);
    memcpy(out, name, strlen(name));
}

static void test_codec_state_hash(void)
{
    CHECK(sodium_init() >= 0);
    static uint8_t blob[1500]; /* one write larger than the writer's staging buffer */
    for (size_t i = 0; i < sizeof blob; i++)
        blob[i] = (uint8_t)(i ^ (i >> 3));
    static const struct {
        enum opgi_kind kind;
        const char *name;
    } kinds[] = {{OPGI_KIND_REGISTRY, "opg.registry"}, {OPGI_KIND_PRICER, "opg.pricer"},
                 {OPGI_KIND_SPLITTER, "opg.splitter"}, {OPGI_KIND_SLASHER, "opg.slasher"},
                 {OPGI_KIND_TALLY, "opg.tally"},       {OPGI_KIND_HYPER, "opg.hyper"}};
    /* sizes around the 512-byte stage: empty-ish, exact, just over, large */
    uint32_t sizes[] = {0, 1, 56, 57, 200, 1500};
    uint8_t hashes[OPGI_ARRAY_LEN(kinds)][32];

    for (size_t s = 0; s < OPGI_ARRAY_LEN(sizes); s++) {
        toy_state st = {2, sizes[s], blob, 12345 + s};
        size_t need = toy_size(&st), len;
        uint8_t *saved = malloc(need);
        CHECK(saved);
        CHECK_OK(opgi_save(saved, need, &len, toy_encode, &st));
        for (size_t k = 0; k < OPGI_ARRAY_LEN(kinds); k++) {
            uint8_t got[32], want[32], personal[16];
            opgi_state_hash(got, kinds[k].kind, toy_encode, &st);
            personal_of(personal, kinds[k].name);
            crypto_generichash_blake2b_salt_personal(want, 32, saved, len, NULL, 0, NULL,
                                                     personal);
            CHECK(memcmp(got, want, 32) == 0);
            memcpy(hashes[k], got, 32);
        }
        free(saved);
        /* the same bytes hash differently per kind */
        for (size_t a = 0; a < OPGI_ARRAY_LEN(kinds); a++)
            for (size_t b = a + 1; b < OPGI_ARRAY_LEN(kinds); b++)
                CHECK(memcmp(hashes[a], hashes[b], 32) != 0);
    }

    /* one bit of state changes the hash */
    toy_state a = {1, 100, blob, 1}, b = a;
    b.seed = 3; /* differs from a's records only in bit 1 of each */
    uint8_t ha[32], hb[32];
    opgi_state_hash(ha, OPGI_KIND_TALLY, toy_encode, &a);
    opgi_state_hash(hb, OPGI_KIND_TALLY, toy_encode, &b);
    CHECK(memcmp(ha, hb, 32) != 0);
    /* and the hash is deterministic */
    opgi_state_hash(hb, OPGI_KIND_TALLY, toy_encode, &a);
    CHECK(memcmp(ha, hb, 32) == 0);
}

/* ================================================================= params */

typedef struct toy_params {
    uint32_t count;
    uint64_t big;
    opg_time window;
    opg_dec rate;
    opg_u256 amount;
    int flag;
    uint64_t lo, hi;
} toy_params;

static const opgi_param toy_entries[] = {
    {"toy.count", OPGI_PARAM_U32, offsetof(toy_params, count), "1", "1000"},
    {"toy.big", OPGI_PARAM_U64, offsetof(toy_params, big), NULL, NULL},
    {"toy.window", OPGI_PARAM_SECS, offsetof(toy_params, window), "60", NULL},
    {"toy.rate", OPGI_PARAM_DEC, offsetof(toy_params, rate), "0", "1"},
    {"toy.amount", OPGI_PARAM_U256, offsetof(toy_params, amount), NULL, NULL},
    {"toy.flag", OPGI_PARAM_BOOL, offsetof(toy_params, flag), NULL, NULL},
    {"toy.lo", OPGI_PARAM_U64, offsetof(toy_params, lo), NULL, NULL},
    {"toy.hi", OPGI_PARAM_U64, offsetof(toy_params, hi), NULL, NULL},
};

/* What the validator saw on its last call, to prove it runs on a candidate copy. */
static const void *validator_saw;
static uint64_t validator_saw_lo;
static unsigned validator_calls;

/* The rule that ties fields together: lo <= hi. */
static int toy_validate(const void *p, char *err)
{
    const toy_params *tp = p;
    validator_saw = p;
    validator_saw_lo = tp->lo;
    validator_calls++;
    if (tp->lo > tp->hi)
        return opgi_fail(err, OPG_EINVAL, "toy.lo above toy.hi", NULL);
    return OPG_OK;
}

static const opgi_param_table toy_table = {toy_entries, OPGI_ARRAY_LEN(toy_entries),
                                           sizeof(toy_params), toy_validate};

static toy_params toy_defaults(void)
{
    toy_params p;
    memset(&p, 0, sizeof p); /* padding too: the tests compare with memcmp */
    p.count = 10;
    p.big = 5;
    p.window = 3600;
    p.rate = dec_of("0.05");
    p.amount = u64v(1000);
    p.flag = 0;
    p.lo = 1;
    p.hi = 2;
    return p;
}

/* Sets key to text, then reads it back as text. */
static int set_get(toy_params *p, const char *key, const char *text, char *got, size_t cap)
{
    char err[OPGI_ERRMSG_MAX];
    int rc = opgi_params_set(&toy_table, p, key, text, err);
    if (rc)
        return rc;
    return opgi_params_get(&toy_table, p, key, got, cap, NULL, err);
}

static void test_params_every_type(void)
{
    toy_params p = toy_defaults();
    char got[OPG_DEC_STRING_MAX];

    CHECK_OK(set_get(&p, "toy.count", "1000", got, sizeof got));
    CHECK(p.count == 1000 && strcmp(got, "1000") == 0);
    CHECK_OK(set_get(&p, "toy.big", "18446744073709551615", got, sizeof got));
    CHECK(p.big == UINT64_MAX && strcmp(got, "18446744073709551615") == 0);
    CHECK_OK(set_get(&p, "toy.window", "9223372036854775807", got, sizeof got));
    CHECK(p.window == INT64_MAX && strcmp(got, "9223372036854775807") == 0);
    CHECK_OK(set_get(&p, "toy.rate", "0.250", got, sizeof got));
    CHECK_DEC(p.rate, "0.25");
    CHECK(strcmp(got, "0.25") == 0);
    CHECK(p.rate.limb[0] == UINT64_C(250000000000000000));
    const char *max256 =
        "115792089237316195423570985008687907853269984665640564039457584007913129639935";
    char big[OPG_U256_STRING_MAX];
    CHECK_OK(set_get(&p, "toy.amount", max256, big, sizeof big));
    CHECK(strcmp(big, max256) == 0);
    CHECK(p.amount.limb[0] == UINT64_MAX && p.amount.limb[3] == UINT64_MAX);
    CHECK_OK(set_get(&p, "toy.flag", "true", got, sizeof got));
    CHECK(p.flag == 1 && strcmp(got, "true") == 0);
    CHECK_OK(set_get(&p, "toy.flag", "false", got, sizeof got));
    CHECK(p.flag == 0 && strcmp(got, "false") == 0);
    /* other fields are untouched by a set */
    toy_params q = p;
    CHECK_OK(set_get(&q, "toy.count", "7", got, sizeof got));
    q.count = p.count;
    CHECK(memcmp(&q, &p, sizeof p) == 0);
}

static void test_params_bounds_and_errors(void)
{
    toy_params p = toy_defaults();
    const toy_params before = p;
    char err[OPGI_ERRMSG_MAX];
    static const struct {
        const char *key, *text;
        int want;
    } refused[] = {
        {"toy.count", "0", OPG_EINVAL},                      /* below min */
        {"toy.count", "1001", OPG_EINVAL},                   /* above max */
        {"toy.count", "4294967296", OPG_EINVAL},             /* above u32 */
        {"toy.big", "18446744073709551616", OPG_EINVAL},     /* above u64 */
        {"toy.window", "59", OPG_EINVAL},                    /* below min */
        {"toy.window", "9223372036854775808", OPG_EINVAL},   /* above int64 */
        {"toy.rate", "1.000000000000000001", OPG_EINVAL},    /* above max by one ulp */
        {"toy.amount", "115792089237316195423570985008687907853269984665640564039457584007913129639936",
         OPG_EINVAL},                                        /* 2^256 */
        {"toy.count", "-1", OPG_EPARSE},
        {"toy.count", "", OPG_EPARSE},
        {"toy.count", " 5", OPG_EPARSE},
        {"toy.count", "5.0", OPG_EPARSE},                    /* integers take no fraction */
        {"toy.count", "0x10", OPG_EPARSE},
        {"toy.rate", "0.5.5", OPG_EPARSE},
        {"toy.rate", "0.1234567890123456789", OPG_EPARSE},  /* 19 fraction digits */
        {"toy.flag", "1", OPG_EPARSE},
        {"toy.flag", "TRUE", OPG_EPARSE},
        {"toy.nope", "1", OPG_EKEY},
        {"", "1", OPG_EKEY},
        {"toy.count", NULL, OPG_EINVAL},
    };
    for (size_t i = 0; i < OPGI_ARRAY_LEN(refused); i++) {
        err[0] = '\0';
        int rc = opgi_params_set(&toy_table, &p, refused[i].key, refused[i].text, err);
        if (rc != refused[i].want)
            printf("  set %s = %s gave %s\n", refused[i].key,
                   refused[i].text ? refused[i].text : "(null)", opg_errname(rc));
        CHECK(rc == refused[i].want);
        CHECK(memcmp(&p, &before, sizeof p) == 0); /* a refused set changes nothing */
        CHECK(err[0] != '\0');                     /* and says why */
    }
    CHECK_RC(opgi_params_set(&toy_table, &p, NULL, "1", err), OPG_EKEY);
    /* the message names the key */
    CHECK_RC(opgi_params_set(&toy_table, &p, "toy.count", "5000", err), OPG_EINVAL);
    CHECK(strstr(err, "toy.count") != NULL);

    /* the bounds themselves are allowed */
    CHECK_OK(opgi_params_set(&toy_table, &p, "toy.count", "1", err));
    CHECK_OK(opgi_params_set(&toy_table, &p, "toy.rate", "1", err));
    CHECK_OK(opgi_params_set(&toy_table, &p, "toy.rate", "0", err));
    CHECK_OK(opgi_params_set(&toy_table, &p, "toy.window", "60", err));

    /* get: unknown key, too small a buffer */
    char buf[8];
    size_t needed = 0;
    CHECK_RC(opgi_params_get(&toy_table, &p, "toy.nope", buf, sizeof buf, &needed, err), OPG_EKEY);
    CHECK_OK(opgi_params_set(&toy_table, &p, "toy.big", "123456789", err));
    CHECK_RC(opgi_params_get(&toy_table, &p, "toy.big", buf, sizeof buf, &needed, err), OPG_EBUFS);
    CHECK(needed == 10);
    char fits[10];
    CHECK_OK(opgi_params_get(&toy_table, &p, "toy.big", fits, sizeof fits, &needed, err));
    CHECK(strcmp(fits, "123456789") == 0);
}

static void test_params_validator_on_copy(void)
{
    toy_params p = toy_defaults();
    char err[OPGI_ERRMSG_MAX];

    /* accepted: the validator saw the candidate (new lo), not the live struct */
    validator_saw = NULL;
    validator_calls = 0;
    CHECK_OK(opgi_params_set(&toy_table, &p, "toy.lo", "2", err));
    CHECK(validator_calls == 1);
    CHECK(validator_saw != NULL && validator_saw != (const void *)&p);
    CHECK(validator_saw_lo == 2 && p.lo == 2);

    /* refused by the rule: its code and message come back, nothing changes */
    const toy_params before = p;
    err[0] = '\0';
    CHECK_RC(opgi_params_set(&toy_table, &p, "toy.lo", "3", err), OPG_EINVAL);
    CHECK(validator_saw_lo == 3); /* the copy had the new value ... */
    CHECK(memcmp(&p, &before, sizeof p) == 0); /* ... the live struct never did */
    CHECK(strstr(err, "toy.lo above toy.hi") != NULL);

    /* a field-level refusal never reaches the validator */
    validator_calls = 0;
    CHECK_RC(opgi_params_set(&toy_table, &p, "toy.count", "0", err), OPG_EINVAL);
    CHECK(validator_calls == 0);

    /* a list of changes applies in order: raise hi first, then lo */
    CHECK_OK(opgi_params_set(&toy_table, &p, "toy.hi", "10", err));
    CHECK_OK(opgi_params_set(&toy_table, &p, "toy.lo", "10", err));
    CHECK(p.lo == 10 && p.hi == 10);
}

static void test_params_check_and_keys(void)
{
    char err[OPGI_ERRMSG_MAX];
    toy_params p = toy_defaults();
    CHECK_OK(opgi_params_check(&toy_table, &p, err));

    toy_params bad = p;
    bad.count = 0; /* below its bound */
    CHECK_RC(opgi_params_check(&toy_table, &bad, err), OPG_EINVAL);
    CHECK(strstr(err, "toy.count") != NULL);
    bad = p;
    bad.window = -1; /* a negative duration */
    CHECK_RC(opgi_params_check(&toy_table, &bad, err), OPG_EINVAL);
    bad = p;
    bad.rate = dec_of("1.5");
    CHECK_RC(opgi_params_check(&toy_table, &bad, err), OPG_EINVAL);
    bad = p;
    bad.lo = 5; /* the whole-struct rule */
    CHECK_RC(opgi_params_check(&toy_table, &bad, err), OPG_EINVAL);
    CHECK(strstr(err, "toy.lo above toy.hi") != NULL);

    /* listing: every key in table order, then NULL */
    size_t i = 0;
    for (; opgi_params_key(&toy_table, i); i++)
        CHECK(strcmp(opgi_params_key(&toy_table, i), toy_entries[i].key) == 0);
    CHECK(i == OPGI_ARRAY_LEN(toy_entries));
    CHECK(opgi_param_find(&toy_table, "toy.rate") == &toy_entries[3]);
    CHECK(opgi_param_find(&toy_table, "toy.rat") == NULL);
}

/* ================================================================= muldiv */

static void to_mpz(mpz_t z, const uint64_t *v, size_t n)
{
    mpz_import(z, n, -1, sizeof(uint64_t), 0, 0, v);
}

/* z into n limbs; 0 if it does not fit. */
static int from_mpz(uint64_t *v, size_t n, const mpz_t z)
{
    size_t words = (mpz_sizeinbase(z, 2) + 63) / 64;
    if (mpz_sgn(z) == 0)
        words = 0;
    if (words > n)
        return 0;
    memset(v, 0, n * sizeof *v);
    mpz_export(v, NULL, -1, sizeof(uint64_t), 0, 0, z);
    return 1;
}

/* n limbs skewed to the edges. */
static void gen_limbs(test_rng *r, uint64_t *v, size_t n)
{
    memset(v, 0, n * sizeof *v);
    switch (rng_below(r, 8)) {
    case 0: break;                                 /* zero */
    case 1: v[0] = 1 + rng_below(r, 3); break;     /* 1..3 */
    case 2:                                        /* all ones */
        for (size_t i = 0; i < n; i++)
            v[i] = UINT64_MAX;
        break;
    case 3: {                                      /* a power of two */
        unsigned k = (unsigned)rng_below(r, 64 * n);
        v[k / 64] = UINT64_C(1) << (k % 64);
        break;
    }
    default: {                                     /* random, random width */
        size_t used = 1 + (size_t)rng_below(r, n);
        for (size_t i = 0; i < used; i++)
            v[i] = rng_next(r);
        if (rng_below(r, 2))
            v[used - 1] >>= rng_below(r, 64);
        break;
    }
    }
}

static void test_muldiv_widths(void)
{
    /* a limbs * b limbs / d limbs -> out limbs; an + bn <= 16, dn <= 16 */
    static const struct {
        size_t an, bn, dn, outn;
    } shapes[] = {
        {4, 4, 4, 4},   /* opg_u256_mul_div */
        {8, 8, 6, 6},   /* 512-bit operands, out of 6 limbs */
        {8, 8, 1, 16},  /* the full 1024-bit product */
        {4, 2, 4, 6},   /* dec_quo's first step: a * 10^36 / b */
        {6, 1, 1, 4},   /* dec_quo's second step */
        {1, 1, 16, 1},  /* a wide divisor */
        {15, 1, 16, 2},
        {2, 14, 3, 13},
    };
    enum opgi_round modes[] = {OPGI_TRUNC, OPGI_CEIL, OPGI_HALF_EVEN};
    const int cases = 20000;
    test_rng rng = {UINT64_C(0x5eed0c0dec)};
    mpz_t a, b, d, p, q, rem, twice;
    mpz_inits(a, b, d, p, q, rem, twice, NULL);
    unsigned long overflows = 0, ties = 0, divzero = 0, agree = 0;

    for (size_t s = 0; s < OPGI_ARRAY_LEN(shapes); s++) {
        size_t an = shapes[s].an, bn = shapes[s].bn, dn = shapes[s].dn, outn = shapes[s].outn;
        for (int c = 0; c < cases; c++) {
            uint64_t va[16], vb[16], vd[16], out[17], want[16];
            gen_limbs(&rng, va, an);
            gen_limbs(&rng, vb, bn);
            gen_limbs(&rng, vd, dn);
            if (c % 4 == 0) {
                /* an exact tie: a = q*d + d/2 with d even, b = 1 */
                vd[0] &= ~UINT64_C(1);
                to_mpz(d, vd, dn);
                if (mpz_sgn(d) == 0)
                    mpz_set_ui(d, 2);
                uint64_t vq[16];
                gen_limbs(&rng, vq, an);
                to_mpz(q, vq, an);
                mpz_mul(p, q, d);
                mpz_tdiv_q_2exp(twice, d, 1);
                mpz_add(p, p, twice);
                if (from_mpz(va, an, p) && from_mpz(vd, dn, d)) {
                    memset(vb, 0, bn * sizeof *vb);
                    vb[0] = 1;
                }
            }
            to_mpz(a, va, an);
            to_mpz(b, vb, bn);
            to_mpz(d, vd, dn);
            for (size_t m = 0; m < OPGI_ARRAY_LEN(modes); m++) {
                /* sentinel past outn: nothing is written beyond the output */
                for (size_t i = 0; i < 17; i++)
                    out[i] = UINT64_C(0xa5a5a5a5a5a5a5a5);
                int rc = opgi_muldiv(out, outn, va, an, vb, bn, vd, dn, modes[m]);
                CHECK(out[outn] == UINT64_C(0xa5a5a5a5a5a5a5a5));
                if (mpz_sgn(d) == 0) {
                    CHECK_RC(rc, OPG_EDIVZERO);
                    divzero++;
                    continue;
                }
                mpz_mul(p, a, b);
                mpz_fdiv_qr(q, rem, p, d);
                int tie = 0;
                if (mpz_sgn(rem) != 0) {
                    mpz_mul_2exp(twice, rem, 1);
                    int cmp = mpz_cmp(twice, d);
                    tie = cmp == 0;
                    if (modes[m] == OPGI_CEIL ||
                        (modes[m] == OPGI_HALF_EVEN && (cmp > 0 || (cmp == 0 && mpz_odd_p(q)))))
                        mpz_add_ui(q, q, 1);
                }
                if (tie && modes[m] == OPGI_HALF_EVEN)
                    ties++;
                if (!from_mpz(want, outn, q)) {
                    CHECK_RC(rc, OPG_EOVERFLOW);
                    for (size_t i = 0; i < outn; i++)
                        CHECK(out[i] == UINT64_C(0xa5a5a5a5a5a5a5a5)); /* untouched */
                    overflows++;
                    continue;
                }
                CHECK_OK(rc);
                CHECK(memcmp(out, want, outn * sizeof *out) == 0);
                agree++;
            }
        }
    }
    /* the output may alias an input: the product is formed before out is written */
    uint64_t x[4] = {UINT64_MAX, UINT64_MAX, 0, 0}, y[1] = {3}, z[1] = {2};
    CHECK_OK(opgi_muldiv(x, 4, x, 4, y, 1, z, 1, OPGI_TRUNC));
    to_mpz(a, x, 4);
    mpz_set_ui(p, 1);
    mpz_mul_2exp(p, p, 128);
    mpz_sub_ui(p, p, 1);
    mpz_mul_ui(p, p, 3);
    mpz_tdiv_q_2exp(p, p, 1);
    CHECK(mpz_cmp(a, p) == 0);
    mpz_clears(a, b, d, p, q, rem, twice, NULL);

    printf("  muldiv: %lu results agree with mpz, %lu overflows, %lu divisions by zero, "
           "%lu half-even ties\n",
           agree, overflows, divzero, ties);
    /* the edges were really exercised */
    CHECK(overflows > 1000 && ties > 1000 && divzero > 100 && agree > 100000);
}

static void test_limb_helpers(void)
{
    uint64_t a[3] = {UINT64_MAX, UINT64_MAX, 1}, one[3] = {1, 0, 0}, out[3];
    CHECK(opgi_add_n(out, a, one, 3) == 0);
    CHECK(out[0] == 0 && out[1] == 0 && out[2] == 2);
    uint64_t all[2] = {UINT64_MAX, UINT64_MAX};
    CHECK(opgi_add_n(out, all, one, 2) == 1); /* carry out */
    CHECK(opgi_sub_n(out, one, a, 3) == 1);   /* borrow out */
    CHECK(opgi_cmp_n(a, one, 3) > 0 && opgi_cmp_n(one, a, 3) < 0 && opgi_cmp_n(a, a, 3) == 0);

    uint64_t wide[6] = {1, 2, 3, 4, 0, 0}, narrow[4];
    CHECK_OK(opgi_resize_n(narrow, 4, wide, 6));
    CHECK(narrow[0] == 1 && narrow[3] == 4);
    wide[5] = 1;
    narrow[0] = 99;
    CHECK_RC(opgi_resize_n(narrow, 4, wide, 6), OPG_EOVERFLOW);
    CHECK(narrow[0] == 99);
    uint64_t grown[6];
    CHECK_OK(opgi_resize_n(grown, 6, narrow, 4));
    CHECK(grown[3] == 4 && grown[4] == 0 && grown[5] == 0);
}

int main(void)
{
    RUN(test_codec_round_trip);
    RUN(test_codec_big_endian_layout);
    RUN(test_codec_header);
    RUN(test_codec_short_reads);
    RUN(test_codec_bool_and_fail);
    RUN(test_codec_count);
    RUN(test_codec_save_ebufs);
    RUN(test_codec_state_hash);
    RUN(test_params_every_type);
    RUN(test_params_bounds_and_errors);
    RUN(test_params_validator_on_copy);
    RUN(test_params_check_and_keys);
    RUN(test_muldiv_widths);
    RUN(test_limb_helpers);
    return harness_done();
}
