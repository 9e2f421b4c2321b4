/*
 * records.h - a handle's state as canonical key/value records, and the change set
 * of each commit.
 *
 * A handle's state is a set of records: the key names the record's kind and ids
 * (include/opg_core.h, "records"), the value is that record's canonical bytes. As a
 * call changes records it touches their keys; the handle's commit sorts the keys
 * touched since the previous commit, asks the handle for each record's value now
 * (or its absence), updates the Merkle tree (lib/merkle.h) and keeps the puts and
 * deletes for the host. A commit costs O(t log t) for t touched keys, plus the
 * tree's O(t log n): what the block changed, never the size of the state.
 *
 * Tracking starts with the first commit, which writes every record (the host's store
 * starts empty): a handle that is never committed (a host that only saves snapshots)
 * keeps no touches and no tree.
 *
 * Touching is reserved like events: a call's check phase reserves room for the keys
 * its apply phase may touch, so the apply phase, which must not fail, never
 * allocates. A touch past the reservation is a bug that debug builds stop at.
 */
#ifndef OPG_RECORDS_H
#define OPG_RECORDS_H

#include "codec.h"
#include "merkle.h"

/* The format byte every record value begins with. */
#define OPGI_VALUE_FORMAT 1

/* The longest key of any kind: tag, kind, three ids and a sequence number. */
#define OPGI_RECORD_KEY_MAX OPG_RECORD_KEY_MAX

typedef struct opgi_touch {
    int64_t hint;   /* the owner's lookup hint (an entry's completion time), or 0 */
    uint8_t len;
    uint8_t key[OPGI_RECORD_KEY_MAX];
} opgi_touch;

typedef struct opgi_records {
    int tracking;                  /* the tree is the records as of the last commit */
    opgi_touch *touched;           /* keys touched since the last commit, unordered */
    size_t n_touched, touched_cap, touched_room;
    opgi_merkle *tree;             /* the records as of the last commit */
    opg_record *changes;           /* the last commit's change set, in key order */
    size_t n_changes, changes_cap;
    uint8_t *bytes;                /* its keys and values */
    size_t bytes_cap;
    /* the buffers of the commit before, kept for the next one, so that a node's
     * steady state commits without allocating */
    opg_record *spare_changes;
    size_t spare_changes_cap;
    uint8_t *spare_bytes;
    size_t spare_bytes_cap;
    opgi_merkle_change *batch;
    size_t batch_cap;
    const opgi_touch **order;      /* the commit's sort of the touches (2 per touch) */
    size_t order_cap;
} opgi_records;

/* Writes the value of the record `t` names into w and returns 1, or returns 0 when
 * the owner holds no such record (it was deleted, or never survived a commit). */
typedef int (*opgi_record_value_fn)(opgi_writer *w, const void *owner, const opgi_touch *t);

int opgi_records_init(opgi_records *rs, const opg_allocator *a);
void opgi_records_free(opgi_records *rs, const opg_allocator *a);
/* Room for `more` touches beyond those already made (OPG_ENOMEM: none taken). */
int opgi_records_reserve(opgi_records *rs, const opg_allocator *a, size_t more);
/* Room for `more` touches on top of every reservation made and not yet used: for one
 * step whose parts reserve apart before any of them touches (a tally end_block's
 * parameter changes after its governance actions). OPG_ENOMEM: none taken. */
int opgi_records_reserve_more(opgi_records *rs, const opg_allocator *a, size_t more);
/* Names a record changed. Within the reservation this cannot fail. */
void opgi_records_touch(opgi_records *rs, const opg_allocator *a, char *err, const uint8_t *key,
                        size_t len, int64_t hint);
/* Where an owner sends every one of its records, in key order. */
typedef int (*opgi_record_sink)(void *ctx, const uint8_t *key, size_t key_len,
                                const uint8_t *value, size_t value_len);
/* An owner's enumeration of all its records in key order into sink. */
typedef int (*opgi_record_each_fn)(const void *owner, opgi_record_sink sink, void *ctx);

/*
 * The commit: the touched keys' records go into the tree and become the change set
 * (*changes, *count, valid until the next commit or free): only records whose
 * bytes differ from the last commit's, and deletions of records it had. `extra` keys (the
 * owner's singletons, re-encoded at every commit) are included as if touched. The
 * first commit takes every record from `each` instead. On OPG_ENOMEM nothing
 * changed: the touches, the tree and the previous change set stay.
 */
typedef struct opgi_record_owner {
    const void *owner;
    opgi_record_value_fn value;
    opgi_record_each_fn each;
    const opgi_touch *extra;
    size_t n_extra;
} opgi_record_owner;
int opgi_records_commit(uint8_t root[32], const opg_record **changes, size_t *count,
                        opgi_records *rs, const opg_allocator *a, const opgi_record_owner *o);

/* Key order: bytewise, a key before every longer key it is a prefix of. */
int opgi_key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/* Builds the tree of a whole record stream in key order (the loaders' check against
 * a stored root, and tests' from-scratch roots). */
typedef struct opgi_tree_builder {
    opgi_merkle_change *batch;
    size_t n, cap;
    const opg_allocator *alloc;
    opgi_merkle *tree;
    int rc;
} opgi_tree_builder;
void opgi_tree_builder_init(opgi_tree_builder *b, opgi_merkle *tree, const opg_allocator *a);
/* An opgi_record_sink: ctx is the builder. */
int opgi_tree_builder_add(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value,
                          size_t value_len);
int opgi_tree_builder_finish(opgi_tree_builder *b);

/* An owner's enumeration writes each value into an emitter, then emits it with its
 * key: opgi_writer *w = opgi_emit_begin(em); ...encode...; rc = opgi_emit(em, key, len). */
#define OPGI_VALUE_MAX 1024
typedef struct opgi_emitter {
    opgi_record_sink sink;
    void *ctx;
    opgi_writer w;
    uint8_t value[OPGI_VALUE_MAX];
} opgi_emitter;
opgi_writer *opgi_emit_begin(opgi_emitter *em);
int opgi_emit(opgi_emitter *em, const uint8_t *key, size_t key_len);
/* An emitter for one enumeration into sink (on the heap: its value buffer is large);
 * NULL without memory. */
opgi_emitter *opgi_emitter_new(const opg_allocator *a, opgi_record_sink sink, void *ctx);
void opgi_emitter_free(opgi_emitter *em, const opg_allocator *a);

/* The tree of all of an owner's records, from scratch; its root alone. */
int opgi_records_build_tree(opgi_merkle **out, const opg_allocator *a, opgi_record_each_fn each,
                            const void *owner);
int opgi_records_root_from_scratch(uint8_t root[32], const opg_allocator *a,
                                   opgi_record_each_fn each, const void *owner);
/* Every record of the owner to a host's sink, as opg_record. */
int opgi_records_export(opgi_record_each_fn each, const void *owner, opg_record_sink fn, void *ctx);
/* A proof of the key against the committed tree (opg_*_prove). */
int opgi_records_prove(const opgi_records *rs, uint8_t *buf, size_t cap, size_t *len,
                       const uint8_t *key, size_t key_len);

/*
 * Snapshots: a handle's whole state as its records in key order, after the header
 * ("OPGS", kind, 0, version):
 *     { key length (1 byte, 1..OPG_RECORD_KEY_MAX), key, value length (4 bytes), value }*
 *     0 (1 byte), the number of records (8 bytes)
 * so a snapshot cut at a record boundary is refused like any other truncation.
 */
int opgi_snapshot_save(uint8_t *buf, size_t cap, size_t *len, enum opgi_kind kind,
                       uint16_t version, opgi_record_each_fn each, const void *owner);
/* A record source over a snapshot's body; check it with opgi_snapshot_finish. */
typedef struct opgi_snapshot_reader {
    opgi_reader rd;
    uint64_t count;
    int ended;
} opgi_snapshot_reader;
/* OPG_ECORRUPT / OPG_EVERSION for a bad header. */
int opgi_snapshot_open(opgi_snapshot_reader *s, const uint8_t *buf, size_t len,
                       enum opgi_kind kind, uint16_t version);
int opgi_snapshot_next(void *ctx, opg_record *rec); /* an opg_record_source */
/* OPG_ECORRUPT unless the stream ended with its count and nothing after it. */
int opgi_snapshot_finish(const opgi_snapshot_reader *s);

/*
 * A handle's loader from a record stream (load_records and snapshot loads). The
 * stream's records are checked here, the same for every handle: a key of the
 * handle's tag, a known kind and that kind's key length, keys strictly increasing,
 * kinds 0 and 1 (each handle's singletons) before any other and both present, a
 * value that starts with OPGI_VALUE_FORMAT. Then load(owner, kind, key, rd) reads
 * the rest of the value (which must be used up exactly), and at the end
 * finish(owner) checks the whole. With tree non-NULL every record also goes into
 * it, and its root must equal root when root is not NULL. OPG_ECORRUPT (detail in
 * err), the stream's own code, or OPG_ENOMEM.
 */
typedef struct opgi_record_loader {
    uint8_t tag;
    const size_t *key_len; /* by kind */
    size_t n_kinds;
    int (*load)(void *owner, unsigned kind, const uint8_t *key, opgi_reader *rd);
    int (*finish)(void *owner);
    void *owner;
    char *err;
} opgi_record_loader;
int opgi_records_load(const opgi_record_loader *l, opg_record_source next, void *ctx,
                      opgi_merkle *tree, const opg_allocator *a, const uint8_t root[32]);

#endif /* OPG_RECORDS_H */
