/*
 * fuzz_splitter_load.c - a registry blob and a splitter blob, loaded together as a
 * host restores them (the splitter onto its registry).
 *
 * Input: a 4-byte big-endian length L, then L bytes of registry state, then the
 * splitter state (the rest). L beyond the input takes all of it.
 *
 * Oracle:
 *   - a refused load is OPG_ECORRUPT or OPG_EVERSION and leaks nothing; a refused
 *     splitter load leaves the registry as it was (same hash, no engine attached:
 *     a new splitter can still be created on it);
 *   - what loads saves back to exactly its input bytes, and each state hash is
 *     the root of its records (they rebuild it, checked against that root);
 *   - the loaded pair passes both checks and keeps working under the host's ledger
 *     (fuzz_world.h): every commission and every delegation of the node operators
 *     and the generator's delegators is withdrawn, fees are allocated over the
 *     bonded nodes, the splitter mints, the registry closes a block far in the
 *     future (everything matures); after each call the checks and conservation
 *     hold and a refusal changes nothing; save -> load -> save is then the identity;
 *   - failing each allocation of the splitter load in turn gives OPG_ENOMEM, leaks
 *     nothing and leaves the registry as it was.
 */
#include "fuzz_world.h"

static void check_refusal(int rc, const char *what)
{
    FZ_ASSERT(rc == OPG_ECORRUPT || rc == OPG_EVERSION, "%s load refused with %s", what, opg_errname(rc));
}

typedef struct call {
    fw_world *w;
    fw_hashes before;
    const char *name;
} call;

static void call_begin(call *c, fw_world *w, const char *name)
{
    c->w = w;
    c->name = name;
    fw_hash_all(&c->before, w);
}

/* A loaded state may carry F1 starting info (a delegation's stake and period) that
 * the loader cannot check without recomputing every reward history; withdrawing
 * such a delegation is refused with OPG_EINVARIANT, and must then change nothing
 * like any other refusal. Everywhere else OPG_EINVARIANT is a violation. */
static int call_end_x(call *c, int rc, int events, int invariant_ok)
{
    if (getenv("FUZZ_TRACE"))
        fprintf(stderr, "%s -> %s\n", c->name, opg_errname(rc));
    if (rc == OPG_OK)
        return rc;
    FZ_ASSERT(rc < 0 && rc >= OPG_ERROR_LAST_ && rc != OPG_ENOMEM &&
                  (rc != OPG_EINVARIANT || invariant_ok),
              "%s refused with %s (%s)", c->name, opg_errname(rc), opg_splitter_last_error(c->w->s));
    fw_hashes after;
    fw_hash_all(&after, c->w);
    const char *d = fw_hash_diff(&c->before, &after, c->w);
    FZ_ASSERT(d == NULL, "%s refused with %s but changed the %s state", c->name, opg_errname(rc), d ? d : "");
    if (events) {
        size_t n = 1;
        opg_registry_events(c->w->r, &n);
        FZ_ASSERT(n == 0, "%s refused but left events", c->name);
    }
    return rc;
}

static int call_end(call *c, int rc, int events) { return call_end_x(c, rc, events, 0); }

/* Runs the loaded pair through a few blocks of host calls, checking as it goes. */
static void exercise(fw_world *w)
{
    call c;
    opg_supply_info sup;
    w->all_accounts_known = 0;
    fw_ledger_reset(w);
    fw_check(w, "load");
    size_t nn = opg_registry_node_count(w->r);
    if (nn > 64)
        nn = 64;
    opg_id ops[64];
    for (size_t i = 0; i < nn; i++) {
        opg_node_info ni;
        FZ_ASSERT(opg_registry_node_at(&ni, w->r, i) == OPG_OK, "node_at");
        ops[i] = ni.operator_id;
    }
    /* A height and a time after anything a real state records (the state does not
     * say which block it was saved at; a height below a recorded slash would make
     * the rewards walk skip it). */
    const opg_height h = UINT64_C(1) << 40;
    const opg_time now = (opg_time)1 << 40;
    w->h = h;
    w->t = now;

    for (size_t i = 0; i < nn; i++) {
        opg_u256 paid, cm;
        call_begin(&c, w, "withdraw_commission");
        if (call_end(&c, opg_splitter_withdraw_commission(&paid, w->s, &ops[i]), 1) == OPG_OK) {
            fw_book_events(w, NULL, &cm, NULL);
            FZ_ASSERT(opg_u256_cmp(&cm, &paid) == 0, "withdraw_commission: paid differs from events");
        }
        fw_check(w, "withdraw_commission");
        /* delegators: the operators themselves and the generator's accounts */
        for (unsigned a = 0; a < nn + FW_MAX_DELEGATORS && a < 96; a++) {
            opg_id who = a < nn ? ops[a] : fw_delegator(a - (unsigned)nn);
            opg_delegation_info di;
            if (opg_registry_delegation_get(&di, w->r, &who, &ops[i]) != OPG_OK)
                continue;
            opg_dec pending;
            int prc = opg_splitter_pending_rewards(&pending, w->s, &who, &ops[i], h);
            opg_u256 rw;
            call_begin(&c, w, "withdraw_rewards");
            int rc = call_end_x(&c, opg_splitter_withdraw_rewards(&paid, w->s, &who, &ops[i], h, now), 1, 1);
            FZ_ASSERT((prc == OPG_OK) == (rc == OPG_OK), "pending_rewards %s but withdraw %s",
                      opg_errname(prc), opg_errname(rc));
            if (rc == OPG_OK) {
                fw_book_events(w, &rw, NULL, NULL);
                FZ_ASSERT(opg_u256_cmp(&rw, &paid) == 0, "withdraw_rewards: paid differs from events");
            }
            fw_check(w, "withdraw_rewards");
        }
    }

    /* fees over the bonded nodes by their power */
    opg_commit_vote v[64];
    size_t nv = 0;
    for (size_t i = 0; i < nn; i++) {
        opg_node_info ni;
        opg_registry_node_at(&ni, w->r, i);
        if (ni.status == OPG_NODE_BONDED) {
            v[nv].consensus_key = ni.consensus_key;
            v[nv].power = ni.power;
            opg_dec_from_u64(&v[nv].score, 1);
            nv++;
        }
    }
    opg_u256 fee = fz_pow10(20);
    call_begin(&c, w, "add_fees");
    if (call_end(&c, opg_splitter_add_fees(w->s, &fee), 0) == OPG_OK) {
        fw_add_amount(&w->led.host_out, &fee);
        fw_add_amount(&w->led.spl_in, &fee);
    }
    fw_check(w, "add_fees");
    call_begin(&c, w, "allocate");
    call_end(&c, opg_splitter_allocate(w->s, v, nv, h, now), 0);
    fw_check(w, "allocate");

    opg_u256 minted;
    int pool = fw_is_pool(w);
    call_begin(&c, w, "mint");
    if (call_end(&c, opg_splitter_mint(&minted, w->s, h, now), 0) == OPG_OK) {
        fw_add_amount(&w->led.spl_in, &minted);
        if (pool)
            FZ_ASSERT(opg_u256_sub(&w->led.reserve, &w->led.reserve, &minted) == OPG_OK,
                      "emitted more than the pool held");
        else
            fz_big_add_u256(&w->led.minted, &minted);
    }
    fw_check(w, "mint");

    /* far in the future: every unbonding and redelegation entry matures */
    opg_registry_supply(&sup, w->r);
    call_begin(&c, w, "end_block");
    if (call_end(&c, opg_registry_end_block(w->r, h + 1, INT64_MAX / 2), 1) == OPG_OK)
        fw_book_events(w, NULL, NULL, NULL);
    fw_check(w, "end_block");
    call_begin(&c, w, "end_block");
    if (call_end(&c, opg_registry_end_block(w->r, h + 2, INT64_MAX / 2 + 1), 1) == OPG_OK)
        fw_book_events(w, NULL, NULL, NULL);
    fw_check(w, "end_block");

    fw_save_load_swap(w);
    fw_check(w, "save_load");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    size_t rl = (size_t)data[0] << 24 | (size_t)data[1] << 16 | (size_t)data[2] << 8 | data[3];
    if (rl > size - 4)
        rl = size - 4;
    const uint8_t *rb = data + 4, *sb = data + 4 + rl;
    size_t sl = size - 4 - rl;

    failalloc fa;
    failalloc_init(&fa, 0);
    fw_world w;
    memset(&w, 0, sizeof w);
    w.fa = &fa;
    w.alloc = failalloc_allocator(&fa);
    int rc = opg_registry_load(&w.r, rb, rl, &w.alloc);
    if (rc != OPG_OK) {
        check_refusal(rc, "registry");
        FZ_ASSERT(fa.live_bytes == 0, "a refused registry load leaked %lld bytes", fa.live_bytes);
        return 0;
    }
    size_t len;
    uint8_t *saved = fz_save(&len, fz_save_registry, w.r, "registry");
    FZ_ASSERT(len == rl && memcmp(saved, rb, rl) == 0, "loaded registry saves to other bytes");
    free(saved);
    fw_hashes h0, h1;
    fw_hash_all(&h0, &w);
    FZ_ASSERT(fz_records_roots_ok(w.r, NULL), "registry hash is not the root of its records");

    long long reg_bytes = fa.live_bytes;
    unsigned long calls0 = fa.calls;
    rc = opg_splitter_load(&w.s, w.r, sb, sl, &w.alloc);
    if (rc != OPG_OK) {
        check_refusal(rc, "splitter");
        FZ_ASSERT(w.s == NULL, "a refused splitter load set *out");
        FZ_ASSERT(fa.live_bytes == reg_bytes, "a refused splitter load leaked %lld bytes",
                  fa.live_bytes - reg_bytes);
        fw_hash_all(&h1, &w);
        FZ_ASSERT(memcmp(h0.h[0], h1.h[0], 32) == 0, "a refused splitter load changed the registry");
        /* nothing stays attached: a splitter can be created on the registry */
        opg_splitter *s2 = NULL;
        rc = opg_splitter_new(&s2, w.r, NULL, &w.alloc);
        FZ_ASSERT(rc != OPG_EEXISTS, "a refused splitter load left an engine attached");
        opg_splitter_free(s2);
        opg_registry_free(w.r);
        FZ_ASSERT(fa.live_bytes == 0, "leaked %lld bytes", fa.live_bytes);
        return 0;
    }
    unsigned long load_allocs = fa.calls - calls0;
    saved = fz_save(&len, fz_save_splitter, w.s, "splitter");
    FZ_ASSERT(len == sl && memcmp(saved, sb, sl) == 0, "loaded splitter saves to other bytes");
    free(saved);
    fw_hash_all(&h1, &w);
    FZ_ASSERT(fz_records_roots_ok(w.r, w.s), "splitter hash is not the root of its records");
    FZ_ASSERT(memcmp(h0.h[0], h1.h[0], 32) == 0, "loading the splitter changed the registry");

    /* the splitter load again, failing each of its allocations in turn */
    opg_splitter *keep = w.s;
    for (unsigned long n = 1; n <= load_allocs; n++) {
        opg_splitter_free(keep);
        keep = NULL;
        w.s = NULL;
        long long before = fa.live_bytes;
        fa.fail_at = fa.calls + n;
        rc = opg_splitter_load(&w.s, w.r, sb, sl, &w.alloc);
        fa.fail_at = 0;
        FZ_ASSERT(rc == OPG_ENOMEM && w.s == NULL, "splitter load with allocation %lu failing: %s", n,
                  opg_errname(rc));
        FZ_ASSERT(fa.live_bytes == before, "splitter load with allocation %lu failing leaked", n);
        fw_hash_all(&h1, &w);
        FZ_ASSERT(memcmp(h0.h[0], h1.h[0], 32) == 0, "a failed splitter load changed the registry");
        rc = opg_splitter_load(&keep, w.r, sb, sl, &w.alloc);
        FZ_ASSERT(rc == OPG_OK, "splitter reload after a failure: %s", opg_errname(rc));
    }
    w.s = keep;

    exercise(&w);
    fw_free(&w);
    FZ_ASSERT(fa.live_bytes == 0 && fa.live_blocks == 0, "leaked %lld bytes", fa.live_bytes);
    return 0;
}
