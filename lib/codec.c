/* codec.c - canonical state bytes: one writer for save and hash, a bounded reader. */
#include "codec.h"

static const uint8_t MAGIC[4] = {'O', 'P', 'G', 'S'};

/* Personalisation per kind: 16 bytes, zero padded. */
static void personal_for(uint8_t out[16], enum opgi_kind kind)
{
    static const char *const names[] = {"", "opg.registry", "opg.pricer", "opg.splitter",
                                        "opg.slasher", "opg.tally", "opg.hyper"};
    memset(out, 0, 16);
    size_t k = (size_t)kind < OPGI_ARRAY_LEN(names) ? (size_t)kind : 0;
    memcpy(out, names[k], strlen(names[k]));
}

void opgi_writer_buffer(opgi_writer *w, uint8_t *buf, size_t cap)
{
    w->buf = buf;
    w->cap = buf ? cap : 0;
    w->len = 0;
    w->hash = NULL;
    w->staged = 0;
}

void opgi_writer_hash(opgi_writer *w, crypto_generichash_blake2b_state *st, enum opgi_kind kind)
{
    uint8_t personal[16];
    personal_for(personal, kind);
    /* sodium_init is idempotent and thread-safe; BLAKE2b itself needs no init, but
     * the library promises to have called it wherever libsodium is used. */
    if (sodium_init() < 0) {
        /* BLAKE2b has no runtime requirements; hashing works regardless */
    }
    crypto_generichash_blake2b_init_salt_personal(st, NULL, 0, 32, NULL, personal);
    opgi_writer_buffer(w, NULL, 0);
    w->hash = st;
}

static void flush_stage(opgi_writer *w)
{
    if (w->staged) {
        crypto_generichash_blake2b_update(w->hash, w->stage, w->staged);
        w->staged = 0;
    }
}

void opgi_writer_hash_end(opgi_writer *w, uint8_t out[32])
{
    flush_stage(w);
    crypto_generichash_blake2b_final(w->hash, out, 32);
}

void opgi_w_bytes(opgi_writer *w, const void *p, size_t n)
{
    if (w->hash) {
        if (w->staged + n > sizeof w->stage)
            flush_stage(w);
        if (n > sizeof w->stage) {
            crypto_generichash_blake2b_update(w->hash, p, n);
        } else {
            memcpy(w->stage + w->staged, p, n);
            w->staged += n;
        }
    } else if (w->len + n <= w->cap) {
        memcpy(w->buf + w->len, p, n);
    }
    w->len += n;
}

void opgi_w_u8(opgi_writer *w, uint8_t v) { opgi_w_bytes(w, &v, 1); }

void opgi_w_u16(opgi_writer *w, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    opgi_w_bytes(w, b, 2);
}

void opgi_w_u32(opgi_writer *w, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (24 - 8 * i));
    opgi_w_bytes(w, b, 4);
}

void opgi_w_u64(opgi_writer *w, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (56 - 8 * i));
    opgi_w_bytes(w, b, 8);
}

void opgi_w_i64(opgi_writer *w, int64_t v) { opgi_w_u64(w, (uint64_t)v); }

void opgi_w_limbs(opgi_writer *w, const uint64_t *v, size_t n)
{
    for (size_t i = n; i-- > 0;)
        opgi_w_u64(w, v[i]);
}

void opgi_w_u256(opgi_writer *w, const opg_u256 *v) { opgi_w_limbs(w, v->limb, 4); }

void opgi_w_dec(opgi_writer *w, const opg_dec *v) { opgi_w_limbs(w, v->limb, 4); }

void opgi_w_id(opgi_writer *w, const opg_id *v) { opgi_w_bytes(w, v->bytes, 32); }

void opgi_w_header(opgi_writer *w, enum opgi_kind kind, uint16_t version)
{
    opgi_w_bytes(w, MAGIC, 4);
    opgi_w_u8(w, (uint8_t)kind);
    opgi_w_u8(w, 0);
    opgi_w_u16(w, version);
}

int opgi_writer_finish(const opgi_writer *w, size_t *len)
{
    if (len)
        *len = w->len;
    return w->len > w->cap ? OPG_EBUFS : OPG_OK;
}

int opgi_save(uint8_t *buf, size_t cap, size_t *len, opgi_encode_fn encode, const void *state)
{
    opgi_writer w;
    opgi_writer_buffer(&w, buf, cap);
    encode(&w, state);
    return opgi_writer_finish(&w, len);
}

void opgi_state_hash(uint8_t out[32], enum opgi_kind kind, opgi_encode_fn encode,
                     const void *state)
{
    crypto_generichash_blake2b_state st;
    opgi_writer w;
    opgi_writer_hash(&w, &st, kind);
    encode(&w, state);
    opgi_writer_hash_end(&w, out);
}

/* ---------------------------------------------------------------- reader */

void opgi_reader_init(opgi_reader *r, const uint8_t *p, size_t len)
{
    r->p = p;
    r->len = p ? len : 0;
    r->pos = 0;
    r->bad = 0;
}

void opgi_r_bytes(opgi_reader *r, void *out, size_t n)
{
    if (r->bad || n > r->len - r->pos) {
        r->bad = 1;
        memset(out, 0, n);
        return;
    }
    memcpy(out, r->p + r->pos, n);
    r->pos += n;
}

uint8_t opgi_r_u8(opgi_reader *r)
{
    uint8_t v;
    opgi_r_bytes(r, &v, 1);
    return v;
}

uint16_t opgi_r_u16(opgi_reader *r)
{
    uint8_t b[2];
    opgi_r_bytes(r, b, 2);
    return (uint16_t)((b[0] << 8) | b[1]);
}

uint32_t opgi_r_u32(opgi_reader *r)
{
    uint8_t b[4];
    opgi_r_bytes(r, b, 4);
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

uint64_t opgi_r_u64(opgi_reader *r)
{
    uint8_t b[8];
    opgi_r_bytes(r, b, 8);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | b[i];
    return v;
}

int64_t opgi_r_i64(opgi_reader *r)
{
    uint64_t u = opgi_r_u64(r);
    int64_t v;
    memcpy(&v, &u, sizeof v); /* two's complement, without implementation-defined casts */
    return v;
}

void opgi_r_limbs(opgi_reader *r, uint64_t *v, size_t n)
{
    for (size_t i = n; i-- > 0;)
        v[i] = opgi_r_u64(r);
}

void opgi_r_u256(opgi_reader *r, opg_u256 *v) { opgi_r_limbs(r, v->limb, 4); }

void opgi_r_dec(opgi_reader *r, opg_dec *v) { opgi_r_limbs(r, v->limb, 4); }

void opgi_r_id(opgi_reader *r, opg_id *v) { opgi_r_bytes(r, v->bytes, 32); }

int opgi_r_bool(opgi_reader *r)
{
    uint8_t v = opgi_r_u8(r);
    if (v > 1)
        r->bad = 1;
    return v == 1;
}

uint32_t opgi_r_count(opgi_reader *r, size_t min_each)
{
    uint32_t n = opgi_r_u32(r);
    if (r->bad)
        return 0;
    if (min_each == 0)
        min_each = 1; /* every record takes at least a byte */
    if ((size_t)n > (r->len - r->pos) / min_each) {
        r->bad = 1;
        return 0;
    }
    return n;
}

void opgi_r_fail(opgi_reader *r) { r->bad = 1; }

int opgi_r_header(opgi_reader *r, enum opgi_kind kind, uint16_t max_version, uint16_t *version)
{
    uint8_t magic[4];
    opgi_r_bytes(r, magic, 4);
    uint8_t k = opgi_r_u8(r), zero = opgi_r_u8(r);
    uint16_t v = opgi_r_u16(r);
    if (r->bad || memcmp(magic, MAGIC, 4) != 0 || k != (uint8_t)kind || zero != 0) {
        r->bad = 1;
        return OPG_ECORRUPT;
    }
    if (v == 0) {
        r->bad = 1;
        return OPG_ECORRUPT; /* no format was ever numbered 0 */
    }
    if (v > max_version)
        return OPG_EVERSION;
    if (version)
        *version = v;
    return OPG_OK;
}

int opgi_r_finish(const opgi_reader *r)
{
    return (r->bad || r->pos != r->len) ? OPG_ECORRUPT : OPG_OK;
}
