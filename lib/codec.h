/*
 * codec.h - the canonical byte form of saved state, and state hashes.
 *
 * One writer serves both saving and hashing: a module writes its state once, in
 * canonical order (versioned header, fixed-width big-endian fields, records in key
 * order), and the writer either stores the bytes in the caller's buffer or feeds
 * them to BLAKE2b-256 personalised for the state kind. So the state hash always
 * commits to exactly the bytes a save would produce.
 *
 * The reader never reads past its input: a short read sets a sticky error and
 * yields zeros, and the decoder checks the error once at the end.
 */
#ifndef OPG_CODEC_H
#define OPG_CODEC_H

#include "internal.h"

#include <sodium.h>

/* State kinds: the header's kind byte and the hash personalisation. */
enum opgi_kind {
    OPGI_KIND_REGISTRY = 1,
    OPGI_KIND_PRICER = 2,
    OPGI_KIND_SPLITTER = 3,
    OPGI_KIND_SLASHER = 4,
    OPGI_KIND_TALLY = 5,
    OPGI_KIND_HYPER = 6
};

/* Header: "OPGS", kind (1 byte), zero byte, version (2 bytes big-endian). */
#define OPGI_HEADER_SIZE 8

typedef struct opgi_writer {
    uint8_t *buf;  /* caller's buffer, NULL when hashing or only counting */
    size_t cap;    /* its capacity */
    size_t len;    /* bytes written so far, including those past cap */
    crypto_generichash_blake2b_state *hash; /* non-NULL when hashing */
    size_t staged; /* bytes waiting in stage[] for the hash */
    uint8_t stage[512];
} opgi_writer;

/* A writer into buf[cap] (buf may be NULL with cap 0: counts only). */
void opgi_writer_buffer(opgi_writer *w, uint8_t *buf, size_t cap);
/* A writer that hashes what it is given; finish with opgi_writer_hash_end. */
void opgi_writer_hash(opgi_writer *w, crypto_generichash_blake2b_state *st, enum opgi_kind kind);
void opgi_writer_hash_end(opgi_writer *w, uint8_t out[32]);

void opgi_w_bytes(opgi_writer *w, const void *p, size_t n);
void opgi_w_u8(opgi_writer *w, uint8_t v);
void opgi_w_u16(opgi_writer *w, uint16_t v);
void opgi_w_u32(opgi_writer *w, uint32_t v);
void opgi_w_u64(opgi_writer *w, uint64_t v);
void opgi_w_i64(opgi_writer *w, int64_t v);
void opgi_w_u256(opgi_writer *w, const opg_u256 *v);
void opgi_w_dec(opgi_writer *w, const opg_dec *v);
void opgi_w_id(opgi_writer *w, const opg_id *v);
/* n limbs, most significant first, 8 bytes each. */
void opgi_w_limbs(opgi_writer *w, const uint64_t *v, size_t n);
void opgi_w_header(opgi_writer *w, enum opgi_kind kind, uint16_t version);

/* The end of a save: *len = bytes needed; OPG_EBUFS if they did not fit in cap
 * (buf may then hold a prefix of the state). */
int opgi_writer_finish(const opgi_writer *w, size_t *len);

/* A module's whole-state encoder, used for both save and hash. */
typedef void (*opgi_encode_fn)(opgi_writer *w, const void *state);
/* Save through `encode` into buf[cap]; *len receives the size needed. */
int opgi_save(uint8_t *buf, size_t cap, size_t *len, opgi_encode_fn encode, const void *state);
/* BLAKE2b-256 of what `encode` writes, personalised by kind. */
void opgi_state_hash(uint8_t out[32], enum opgi_kind kind, opgi_encode_fn encode,
                     const void *state);

typedef struct opgi_reader {
    const uint8_t *p;
    size_t len;
    size_t pos;
    int bad; /* set by any read past the end, or by opgi_r_fail */
} opgi_reader;

void opgi_reader_init(opgi_reader *r, const uint8_t *p, size_t len);
void opgi_r_bytes(opgi_reader *r, void *out, size_t n);
uint8_t opgi_r_u8(opgi_reader *r);
uint16_t opgi_r_u16(opgi_reader *r);
uint32_t opgi_r_u32(opgi_reader *r);
uint64_t opgi_r_u64(opgi_reader *r);
int64_t opgi_r_i64(opgi_reader *r);
void opgi_r_u256(opgi_reader *r, opg_u256 *v);
void opgi_r_dec(opgi_reader *r, opg_dec *v);
void opgi_r_id(opgi_reader *r, opg_id *v);
void opgi_r_limbs(opgi_reader *r, uint64_t *v, size_t n);
/* A boolean byte: 0 or 1, anything else marks the input bad. */
int opgi_r_bool(opgi_reader *r);
/* A u32 record count, marked bad if count records of at least min_each bytes
 * cannot fit in what is left (so corrupt input cannot ask for huge allocations). */
uint32_t opgi_r_count(opgi_reader *r, size_t min_each);
/* Marks the input bad (a decoder found a value out of range or out of order). */
void opgi_r_fail(opgi_reader *r);
/* Checks the header: OPG_ECORRUPT for a wrong magic or kind, OPG_EVERSION for a
 * version above max_version; *version receives the version found. */
int opgi_r_header(opgi_reader *r, enum opgi_kind kind, uint16_t max_version, uint16_t *version);
/* OPG_ECORRUPT unless every read succeeded and the input is used up exactly. */
int opgi_r_finish(const opgi_reader *r);

#endif /* OPG_CODEC_H */
