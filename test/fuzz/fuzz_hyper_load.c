/*
 * fuzz_hyper_load.c - a registry, its splitter and a hyperstaking blob, loaded
 * together as a host restores them (the splitter onto the registry, hyper onto both).
 *
 * Input: two 4-byte big-endian lengths L1 and L2, then L1 bytes of registry state,
 * L2 bytes of splitter state, then the hyper state (the rest). A length beyond the
 * input takes all of what is left.
 *
 * Oracle:
 *   - a refused load is OPG_ECORRUPT or OPG_EVERSION and leaks nothing; a refused
 *     hyper load leaves the registry and the splitter as they were (same hashes);
 *   - what loads saves back to exactly its input bytes, and each state hash is
 *     BLAKE2b-256 (personalised) of those bytes;
 *   - the loaded triple keeps working: every position reads back, the first one
 *     takes a deposit and an epoch runs far in the future, each checked (registry
 *     and splitter checks pass; a refusal changes no hash); save -> load -> save
 *     of the triple is then the identity;
 *   - failing each allocation of the hyper load in turn gives OPG_ENOMEM, leaks
 *     nothing and leaves the registry and the splitter as they were.
 */
#include "fuzz_util.h"

static void check_refusal(int rc, const char *what)
{
    FZ_ASSERT(rc == OPG_ECORRUPT || rc == OPG_EVERSION, "%s load refused with %s", what, opg_errname(rc));
}

static int fz_save_hyper(uint8_t *b, size_t c, size_t *l, const void *h)
{
    return opg_hyper_save(b, c, l, (const opg_hyper *)h);
}

typedef struct trio {
    opg_registry *r;
    opg_splitter *s;
    opg_hyper *h;
} trio;

static void hash3(uint8_t out[3][32], const trio *t)
{
    FZ_ASSERT(opg_registry_state_hash(out[0], t->r) == OPG_OK, "registry state_hash");
    FZ_ASSERT(opg_splitter_state_hash(out[1], t->s) == OPG_OK, "splitter state_hash");
    if (t->h)
        FZ_ASSERT(opg_hyper_state_hash(out[2], t->h) == OPG_OK, "hyper state_hash");
    else
        memset(out[2], 0, 32);
}

static void checks(const trio *t, const char *after)
{
    int rc = opg_registry_check(t->r);
    FZ_ASSERT(rc == OPG_OK, "registry check after %s: %s", after, opg_errname(rc));
    rc = opg_splitter_check(t->s);
    FZ_ASSERT(rc == OPG_OK, "splitter check after %s: %s (%s)", after, opg_errname(rc), opg_splitter_last_error(t->s));
}

/* A loaded state may carry F1 starting info the loader cannot check without
 * recomputing every reward history (see fuzz_splitter_load.c): settling such a
 * delegation is refused with OPG_EINVARIANT, which must then change nothing like
 * any other refusal. */
static void refused(int rc, const char *what, uint8_t before[3][32], const trio *t)
{
    if (getenv("FUZZ_TRACE"))
        fprintf(stderr, "%s -> %s\n", what, opg_errname(rc));
    if (rc == OPG_OK)
        return;
    FZ_ASSERT(rc < 0 && rc >= OPG_ERROR_LAST_ && rc != OPG_ENOMEM,
              "%s refused with %s (%s)", what, opg_errname(rc), opg_hyper_last_error(t->h));
    uint8_t after[3][32];
    hash3(after, t);
    FZ_ASSERT(memcmp(before, after, sizeof after) == 0, "%s refused with %s but changed a state", what,
              opg_errname(rc));
}

static void save_load_save(const trio *t, const opg_allocator *alloc)
{
    size_t l[3], l2[3];
    uint8_t *b[3], *b2[3];
    b[0] = fz_save(&l[0], fz_save_registry, t->r, "registry");
    b[1] = fz_save(&l[1], fz_save_splitter, t->s, "splitter");
    b[2] = fz_save(&l[2], fz_save_hyper, t->h, "hyper");
    trio c = {NULL, NULL, NULL};
    FZ_ASSERT(opg_registry_load(&c.r, b[0], l[0], alloc) == OPG_OK, "registry reload");
    FZ_ASSERT(opg_splitter_load(&c.s, c.r, b[1], l[1], alloc) == OPG_OK, "splitter reload");
    FZ_ASSERT(opg_hyper_load(&c.h, c.r, c.s, b[2], l[2], alloc) == OPG_OK, "hyper reload");
    b2[0] = fz_save(&l2[0], fz_save_registry, c.r, "registry");
    b2[1] = fz_save(&l2[1], fz_save_splitter, c.s, "splitter");
    b2[2] = fz_save(&l2[2], fz_save_hyper, c.h, "hyper");
    for (int i = 0; i < 3; i++) {
        FZ_ASSERT(l[i] == l2[i] && memcmp(b[i], b2[i], l[i]) == 0, "handle %d: save -> load -> save differs", i);
        free(b[i]);
        free(b2[i]);
    }
    opg_hyper_free(c.h);
    opg_splitter_free(c.s);
    opg_registry_free(c.r);
}

static void exercise(trio *t, const opg_allocator *alloc)
{
    checks(t, "load");
    const opg_height h = UINT64_C(1) << 40;
    const opg_time now = (opg_time)1 << 40;
    size_t np = opg_hyper_position_count(t->h);
    opg_id first;
    memset(&first, 0, sizeof first);
    for (size_t i = 0; i < np && i < 256; i++) {
        opg_id pos;
        FZ_ASSERT(opg_hyper_position_at(&pos, t->h, i) == OPG_OK, "position_at %zu of %zu", i, np);
        opg_hyper_position_info pi;
        FZ_ASSERT(opg_hyper_position_get(&pi, t->h, &pos) == OPG_OK, "position_get of a listed position");
        if (i == 0)
            first = pos;
    }
    uint8_t before[3][32];
    opg_u256 amt = fz_u256_u64(1000000);
    hash3(before, t);
    refused(opg_hyper_deposit(t->h, &first, &amt, h, now), "deposit", before, t);
    checks(t, "deposit");
    hash3(before, t);
    size_t done = 0;
    refused(opg_hyper_epoch(&done, t->h, NULL, 0, h, now), "epoch", before, t);
    checks(t, "epoch");
    save_load_save(t, alloc);
}

static size_t be32(const uint8_t *p) { return (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3]; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    size_t rl = be32(data), sl = be32(data + 4), rest = size - 8;
    if (rl > rest)
        rl = rest;
    if (sl > rest - rl)
        sl = rest - rl;
    const uint8_t *rb = data + 8, *sb = rb + rl, *hb = sb + sl;
    size_t hl = rest - rl - sl;

    failalloc fa;
    failalloc_init(&fa, 0);
    opg_allocator alloc = failalloc_allocator(&fa);
    trio t = {NULL, NULL, NULL};
    int rc = opg_registry_load(&t.r, rb, rl, &alloc);
    if (rc != OPG_OK) {
        check_refusal(rc, "registry");
        FZ_ASSERT(fa.live_bytes == 0, "a refused registry load leaked");
        return 0;
    }
    rc = opg_splitter_load(&t.s, t.r, sb, sl, &alloc);
    if (rc != OPG_OK) {
        check_refusal(rc, "splitter");
        opg_registry_free(t.r);
        FZ_ASSERT(fa.live_bytes == 0, "a refused splitter load leaked");
        return 0;
    }
    uint8_t h0[3][32], h1[3][32], want[32];
    hash3(h0, &t);
    long long before_bytes = fa.live_bytes;
    unsigned long calls0 = fa.calls;
    rc = opg_hyper_load(&t.h, t.r, t.s, hb, hl, &alloc);
    if (rc != OPG_OK) {
        check_refusal(rc, "hyper");
        FZ_ASSERT(t.h == NULL, "a refused hyper load set *out");
        FZ_ASSERT(fa.live_bytes == before_bytes, "a refused hyper load leaked %lld bytes",
                  fa.live_bytes - before_bytes);
        hash3(h1, &t);
        FZ_ASSERT(memcmp(h0, h1, sizeof h1) == 0, "a refused hyper load changed the registry or splitter");
        opg_splitter_free(t.s);
        opg_registry_free(t.r);
        FZ_ASSERT(fa.live_bytes == 0, "leaked %lld bytes", fa.live_bytes);
        return 0;
    }
    unsigned long load_allocs = fa.calls - calls0;
    size_t len;
    uint8_t *saved = fz_save(&len, fz_save_hyper, t.h, "hyper");
    FZ_ASSERT(len == hl && memcmp(saved, hb, hl) == 0, "loaded hyper saves to other bytes");
    free(saved);
    hash3(h1, &t);
    fz_blake2b_personal(want, hb, hl, "opg.hyper");
    FZ_ASSERT(memcmp(want, h1[2], 32) == 0, "hyper hash is not BLAKE2b of its bytes");
    FZ_ASSERT(memcmp(h0, h1, 64) == 0, "loading hyper changed the registry or splitter");

    for (unsigned long n = 1; n <= load_allocs; n++) {
        opg_hyper_free(t.h);
        t.h = NULL;
        long long b = fa.live_bytes;
        fa.fail_at = fa.calls + n;
        rc = opg_hyper_load(&t.h, t.r, t.s, hb, hl, &alloc);
        fa.fail_at = 0;
        FZ_ASSERT(rc == OPG_ENOMEM && t.h == NULL, "hyper load with allocation %lu failing: %s", n, opg_errname(rc));
        FZ_ASSERT(fa.live_bytes == b, "hyper load with allocation %lu failing leaked", n);
        hash3(h1, &t);
        FZ_ASSERT(memcmp(h0, h1, 64) == 0, "a failed hyper load changed the registry or splitter");
        rc = opg_hyper_load(&t.h, t.r, t.s, hb, hl, &alloc);
        FZ_ASSERT(rc == OPG_OK, "hyper reload after a failure: %s", opg_errname(rc));
    }

    exercise(&t, &alloc);
    opg_hyper_free(t.h);
    opg_splitter_free(t.s);
    opg_registry_free(t.r);
    FZ_ASSERT(fa.live_bytes == 0 && fa.live_blocks == 0, "leaked %lld bytes", fa.live_bytes);
    return 0;
}
