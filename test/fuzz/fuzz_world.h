/*
 * fuzz_world.h - the handles a host runs together (registry, splitter, pricer, and
 * the engines as they arrive), the host's own token ledger, and the checks run
 * after every step by fuzz_ops, fuzz_params and fuzz_splitter_load.
 *
 * The ledger counts, in raw decimal units (base units * 10^18, so the splitter's
 * fractions count too), everything that crossed the boundary between the host and
 * the library since a baseline:
 *   host_in   paid to the host: matured unbondings, rewards, commission, pool spends,
 *             the inference and verifier parts of a fee, host-side mints
 *   host_out  paid by the host: delegations, fees, direct allocations, host burns
 *   minted    new tokens (cosmos_mint, host mints); burned: slashes and burns
 * and checks, after every step,
 *   held + host_in + burned == held0 + host_out + minted            (conservation)
 *   total_supply + burned == supply0 + minted                       (supply ledger)
 *   splitter money + spl_out == splitter money at baseline + spl_in (splitter)
 *   pool remaining == what the host saw emitted from it
 * where held = tokens of every node + unbonding entries + the splitter's pending,
 * community pool and outstanding rewards + a pool's remaining reserve + the
 * deposits the host holds for the tally's open proposals (a deposit is host_out;
 * a closed proposal's refunds are host_in, its burned deposits burned).
 *
 * Adding a handle (slasher, tally, hyperstaking): a field in fw_world, a line in
 * fw_handles() (hash, save, load), its check in fw_check(), its free in fw_free().
 */
#ifndef OPG_FUZZ_WORLD_H
#define OPG_FUZZ_WORLD_H

#include "fuzz_util.h"

/* Ids: operators 01..., delegators 02..., consensus keys 03..., verifiers 04... */
#define FW_MAX_NODES 8
#define FW_MAX_DELEGATORS 16
#define FW_MAX_ACCOUNTS (FW_MAX_NODES + FW_MAX_DELEGATORS)

static opg_id fw_id(uint8_t kind, unsigned n)
{
    opg_id id;
    memset(&id, 0, sizeof id);
    id.bytes[0] = kind;
    id.bytes[30] = (uint8_t)(n >> 8);
    id.bytes[31] = (uint8_t)n;
    return id;
}
static opg_id fw_operator(unsigned n) { return fw_id(1, n); }
static opg_id fw_delegator(unsigned n) { return fw_id(2, n); }

/* Node n's consensus key: a real Ed25519 key from a fixed seed, so evidence can be
 * signed (n < 256). */
static uint8_t fw_keys_pk[256][32], fw_keys_sk[256][64], fw_keys_made[256];

static void fw_make_key(unsigned n)
{
    n &= 255;
    if (fw_keys_made[n])
        return;
    opg_id seed = fw_id(3, n);
    if (sodium_init() < 0)
        fz_die("sodium_init");
    crypto_sign_seed_keypair(fw_keys_pk[n], fw_keys_sk[n], seed.bytes);
    fw_keys_made[n] = 1;
}

static opg_id fw_cons_key(unsigned n)
{
    fw_make_key(n);
    opg_id id;
    memcpy(id.bytes, fw_keys_pk[n & 255], 32);
    return id;
}

static const uint8_t *fw_cons_secret(unsigned n)
{
    fw_make_key(n);
    return fw_keys_sk[n & 255];
}
static opg_id fw_verifier(unsigned n) { return fw_id(4, n); }

/* The i-th account that may hold stake: the node operators, then delegators. */
static opg_id fw_account(unsigned i)
{
    return i < FW_MAX_NODES ? fw_operator(i) : fw_delegator(i - FW_MAX_NODES);
}

typedef struct fw_ledger {
    fz_big held0, supply0, spl0;
    fz_big host_in, host_out, minted, burned, spl_in, spl_out;
    opg_u256 reserve; /* a pool's remaining reserve as the host tracks it */
} fw_ledger;

typedef struct fw_world {
    failalloc *fa; /* the allocator of every handle (may be NULL: C library) */
    opg_allocator alloc;
    opg_registry *r;
    opg_splitter *s; /* may be NULL */
    opg_pricer *p;   /* may be NULL */
    opg_slasher *sl; /* may be NULL */
    opg_tally *ta;   /* may be NULL */
    /* plug-in: opg_hyper *hy; */
    fw_ledger led;
    int all_accounts_known; /* every delegator is an fw_account: check entries too */
    opg_height h;
    opg_time t;
} fw_world;

/* ----------------------------------------------------------- the handles */

#define FW_MAX_HANDLES 6

typedef struct fw_handle {
    const char *name;
    const void *h;
} fw_handle;

/* The live handles in a fixed order (the order of hashes and saves). */
static size_t fw_handles(fw_handle out[FW_MAX_HANDLES], const fw_world *w)
{
    size_t n = 0;
    out[n++] = (fw_handle){"registry", w->r};
    if (w->s)
        out[n++] = (fw_handle){"splitter", w->s};
    if (w->p)
        out[n++] = (fw_handle){"pricer", w->p};
    if (w->sl)
        out[n++] = (fw_handle){"slasher", w->sl};
    if (w->ta)
        out[n++] = (fw_handle){"tally", w->ta};
    /* plug-in: hyper */
    return n;
}

/* State hashes of every handle, with the allocation failure point suspended. */
typedef struct fw_hashes {
    uint8_t h[FW_MAX_HANDLES][32];
    size_t n;
} fw_hashes;

static void fw_hash_all(fw_hashes *out, const fw_world *w)
{
    fz_suspend sp = fz_suspend_begin(w->fa);
    memset(out, 0, sizeof *out);
    int rc = opg_registry_state_hash(out->h[out->n++], w->r);
    FZ_ASSERT(rc == OPG_OK, "registry state hash: %s", opg_errname(rc));
    if (w->s) {
        rc = opg_splitter_state_hash(out->h[out->n++], w->s);
        FZ_ASSERT(rc == OPG_OK, "splitter state hash: %s", opg_errname(rc));
    }
    if (w->p) {
        rc = opg_pricer_state_hash(out->h[out->n++], w->p);
        FZ_ASSERT(rc == OPG_OK, "pricer state hash: %s", opg_errname(rc));
    }
    if (w->sl) {
        rc = opg_slasher_state_hash(out->h[out->n++], w->sl);
        FZ_ASSERT(rc == OPG_OK, "slasher state hash: %s", opg_errname(rc));
    }
    if (w->ta) {
        rc = opg_tally_state_hash(out->h[out->n++], w->ta);
        FZ_ASSERT(rc == OPG_OK, "tally state hash: %s", opg_errname(rc));
    }
    /* plug-in: hyper */
    fz_suspend_end(sp);
}

/* Which handle differs between two hash sets, NULL if none. */
static const char *fw_hash_diff(const fw_hashes *a, const fw_hashes *b, const fw_world *w)
{
    fw_handle hs[FW_MAX_HANDLES];
    size_t n = fw_handles(hs, w);
    for (size_t i = 0; i < n && i < a->n; i++)
        if (memcmp(a->h[i], b->h[i], 32) != 0)
            return hs[i].name;
    return NULL;
}

/* ------------------------------------------------------------ the ledger */

static const opg_u256 FW_P = {{UINT64_C(1000000000000000000), 0, 0, 0}};

/* amount * 10^18 as a ledger number */
static fz_big fw_raw(const opg_u256 *amount)
{
    /* schoolbook: 4 limbs times one limb into 5 limbs */
    fz_big b;
    memset(&b, 0, sizeof b);
    __extension__ typedef unsigned __int128 u128;
    u128 carry = 0;
    for (int i = 0; i < 4; i++) {
        u128 x = (u128)amount->limb[i] * FW_P.limb[0] + carry;
        b.l[i] = (uint64_t)x;
        carry = x >> 64;
    }
    b.l[4] = (uint64_t)carry;
    return b;
}

static fz_big fw_dec_big(const opg_dec *d)
{
    opg_u256 raw;
    opg_dec_to_raw(&raw, d);
    return fz_big_of(&raw);
}

static void fw_add_amount(fz_big *acc, const opg_u256 *amount)
{
    fz_big b = fw_raw(amount);
    fz_big_add(acc, &b);
}

/* The splitter's money: pending + community pool + outstanding (raw). */
static fz_big fw_splitter_money(const fw_world *w)
{
    fz_big m;
    memset(&m, 0, sizeof m);
    if (!w->s)
        return m;
    opg_splitter_totals t;
    opg_splitter_totals_get(&t, w->s);
    fz_big x = fw_dec_big(&t.pending);
    fz_big_add(&m, &x);
    x = fw_dec_big(&t.community_pool);
    fz_big_add(&m, &x);
    x = fw_dec_big(&t.outstanding);
    fz_big_add(&m, &x);
    return m;
}

static int fw_is_pool(const fw_world *w)
{
    if (!w->s)
        return 0;
    opg_emission_info e;
    opg_splitter_emission(&e, w->s);
    return e.kind == OPG_EMISSION_DECAY_POOL || e.kind == OPG_EMISSION_LINEAR_POOL;
}

/* Wrapping a - b on 256 bits. */
static opg_u256 fw_wrap_sub(const opg_u256 *a, const opg_u256 *b)
{
    opg_u256 o;
    uint64_t borrow = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t x = a->limb[i] - b->limb[i];
        uint64_t b1 = a->limb[i] < b->limb[i];
        uint64_t y = x - borrow;
        uint64_t b2 = x < borrow;
        o.limb[i] = y;
        borrow = b1 | b2;
    }
    return o;
}

/* Tokens in the registry: every node's tokens plus the unbonding entries (raw). */
static fz_big fw_staked(const fw_world *w)
{
    fz_big sum;
    memset(&sum, 0, sizeof sum);
    opg_u256 nonbonded = {{0, 0, 0, 0}};
    size_t nn = opg_registry_node_count(w->r);
    for (size_t i = 0; i < nn; i++) {
        opg_node_info ni;
        FZ_ASSERT(opg_registry_node_at(&ni, w->r, i) == OPG_OK, "node_at %zu of %zu", i, nn);
        fw_add_amount(&sum, &ni.tokens);
        if (ni.status != OPG_NODE_BONDED) {
            opg_u256 x;
            for (int k = 0, c = 0; k < 4; k++) { /* wrapping add: the registry's sum may wrap too */
                x.limb[k] = nonbonded.limb[k] + ni.tokens.limb[k] + (uint64_t)c;
                c = x.limb[k] < nonbonded.limb[k] || (c && x.limb[k] == nonbonded.limb[k]);
            }
            nonbonded = x;
        }
    }
    opg_supply_info sup;
    opg_registry_supply(&sup, w->r);
    opg_u256 entries = fw_wrap_sub(&sup.unbonding, &nonbonded);
    if (w->all_accounts_known) {
        /* every entry belongs to an account we know: count them one by one */
        opg_u256 mine = {{0, 0, 0, 0}};
        for (unsigned a = 0; a <= FW_MAX_ACCOUNTS; a++) { /* the last one too */
            opg_id acct = fw_account(a);
            size_t cnt = 0;
            int rc = opg_registry_unbondings_of(NULL, 0, &cnt, w->r, &acct);
            FZ_ASSERT(rc == OPG_OK || rc == OPG_EBUFS, "unbondings_of: %s", opg_errname(rc));
            opg_unbonding_info *ub = malloc((cnt ? cnt : 1) * sizeof *ub);
            FZ_ASSERT(ub != NULL, "out of memory");
            size_t cnt2 = 0;
            rc = opg_registry_unbondings_of(ub, cnt, &cnt2, w->r, &acct);
            FZ_ASSERT(rc == OPG_OK && cnt2 == cnt, "unbondings_of: %s (%zu entries, then %zu)",
                      opg_errname(rc), cnt, cnt2);
            for (size_t k = 0; k < cnt; k++) {
                FZ_ASSERT(opg_id_cmp(&ub[k].delegator, &acct) == 0, "unbondings_of: another delegator's entry");
                FZ_ASSERT(opg_u256_cmp(&ub[k].balance, &ub[k].initial_balance) <= 0,
                          "unbonding entry balance above its initial balance");
                FZ_ASSERT(k == 0 || ub[k - 1].completion_time <= ub[k].completion_time,
                          "unbondings_of: not in maturity order");
                FZ_ASSERT(opg_u256_add(&mine, &mine, &ub[k].balance) == OPG_OK, "entries overflow");
            }
            free(ub);
        }
        FZ_ASSERT(opg_u256_cmp(&mine, &entries) == 0,
                  "unbonding entries of all accounts differ from the ledger's unbonding balance");
    }
    fw_add_amount(&sum, &entries);
    return sum;
}

/* Deposits of the tally's open proposals (base units), checked against the
 * per-depositor entries. */
static opg_u256 fw_tally_deposits(const fw_world *w)
{
    opg_u256 sum = {{0, 0, 0, 0}};
    if (!w->ta)
        return sum;
    size_t np = opg_tally_proposal_count(w->ta);
    for (size_t i = 0; i < np; i++) {
        opg_proposal_info pi;
        FZ_ASSERT(opg_tally_proposal_at(&pi, w->ta, i) == OPG_OK, "tally: proposal_at %zu of %zu", i, np);
        opg_tally_deposit_entry de[FW_MAX_ACCOUNTS + 2];
        size_t nd = 0;
        int rc = opg_tally_deposits(de, FW_MAX_ACCOUNTS + 2, &nd, w->ta, pi.id);
        if (rc == OPG_OK) {
            opg_u256 s2 = {{0, 0, 0, 0}};
            FZ_ASSERT(nd == pi.deposit_count, "tally: deposit count differs from the entries");
            for (size_t k = 0; k < nd; k++) {
                FZ_ASSERT(!opg_u256_is_zero(&de[k].amount), "tally: a deposit entry of 0");
                FZ_ASSERT(k == 0 || opg_id_cmp(&de[k - 1].depositor, &de[k].depositor) < 0,
                          "tally: deposits not in depositor order");
                FZ_ASSERT(opg_u256_add(&s2, &s2, &de[k].amount) == OPG_OK, "tally: deposits overflow");
            }
            FZ_ASSERT(opg_u256_cmp(&s2, &pi.total_deposit) == 0, "tally: total deposit differs from the entries");
        } else {
            FZ_ASSERT(rc == OPG_EBUFS, "tally: deposits: %s", opg_errname(rc));
        }
        FZ_ASSERT(opg_u256_add(&sum, &sum, &pi.total_deposit) == OPG_OK, "tally: deposits overflow");
    }
    return sum;
}

/* Books what the tally's last end_block or cancel closed: refunds paid back to the
 * host, burned deposits. */
static void fw_book_tally(fw_world *w)
{
    size_t n = 0;
    const opg_tally_closed *cl = opg_tally_closed_list(w->ta, &n);
    for (size_t i = 0; i < n; i++) {
        opg_u256 sum = {{0, 0, 0, 0}};
        for (size_t k = 0; k < cl[i].refund_count; k++) {
            FZ_ASSERT(!opg_u256_is_zero(&cl[i].refunds[k].amount), "tally: a refund of 0");
            FZ_ASSERT(opg_u256_add(&sum, &sum, &cl[i].refunds[k].amount) == OPG_OK, "tally: refunds overflow");
        }
        FZ_ASSERT(opg_u256_cmp(&sum, &cl[i].refunded) == 0, "tally: refunds do not add up to refunded");
        fw_add_amount(&w->led.host_in, &cl[i].refunded);
        fz_big_add_u256(&w->led.burned, &cl[i].burned);
    }
}

static fz_big fw_held(const fw_world *w)
{
    fz_big held = fw_staked(w);
    opg_u256 dep = fw_tally_deposits(w);
    fw_add_amount(&held, &dep);
    fz_big m = fw_splitter_money(w);
    fz_big_add(&held, &m);
    if (fw_is_pool(w)) {
        opg_emission_info e;
        opg_splitter_emission(&e, w->s);
        fw_add_amount(&held, &e.pool_remaining);
    }
    return held;
}

/* Starts the ledger from the state as it is. */
static void fw_ledger_reset(fw_world *w)
{
    fz_suspend sp = fz_suspend_begin(w->fa);
    memset(&w->led, 0, sizeof w->led);
    w->led.held0 = fw_held(w);
    opg_supply_info sup;
    opg_registry_supply(&sup, w->r);
    w->led.supply0 = fz_big_of(&sup.total_supply);
    w->led.spl0 = fw_splitter_money(w);
    if (fw_is_pool(w)) {
        opg_emission_info e;
        opg_splitter_emission(&e, w->s);
        w->led.reserve = e.pool_remaining;
    }
    fz_suspend_end(sp);
}

/* The host's balance: what it had at the baseline (supply0 - held0, in raw units)
 * plus what it received minus what it paid. *ok is 0 if the baseline already had
 * more held than the supply (only possible for a loaded state). */
static fz_big fw_wallet(const fw_world *w, int *ok)
{
    fz_big plus = w->led.supply0, minus = w->led.held0;
    /* supply0 is in base units: scale */
    opg_u256 s0 = {{plus.l[0], plus.l[1], plus.l[2], plus.l[3]}};
    plus = fw_raw(&s0);
    fz_big_add(&plus, &w->led.host_in);
    fz_big_add(&minus, &w->led.host_out);
    fz_big out;
    memset(&out, 0, sizeof out);
    if (fz_big_cmp(&plus, &minus) < 0) {
        *ok = 0;
        return out;
    }
    uint64_t borrow = 0;
    for (int i = 0; i < 6; i++) {
        uint64_t x = plus.l[i] - minus.l[i];
        uint64_t b1 = plus.l[i] < minus.l[i];
        uint64_t y = x - borrow;
        uint64_t b2 = x < borrow;
        out.l[i] = y;
        borrow = b1 | b2;
    }
    *ok = 1;
    return out;
}

/* Can the host pay amount? */
static int fw_can_pay(const fw_world *w, const opg_u256 *amount)
{
    int ok;
    fz_big wal = fw_wallet(w, &ok);
    fz_big need = fw_raw(amount);
    return ok && fz_big_cmp(&wal, &need) >= 0;
}

/* Books a registry call's events (the call clears them first): payouts to the host,
 * burns. Returns the sums by kind through the optional outputs. */
static void fw_book_events(fw_world *w, opg_u256 *rewards, opg_u256 *commission, opg_u256 *burned)
{
    size_t n = 0;
    const opg_event *ev = opg_registry_events(w->r, &n);
    opg_u256 rw = {{0, 0, 0, 0}}, cm = rw, bu = rw;
    for (size_t i = 0; i < n; i++) {
        const opg_event *e = &ev[i];
        switch (e->kind) {
        case OPG_EVENT_REWARDS_PAID:
            FZ_ASSERT(!opg_u256_is_zero(&e->amount), "a rewards event of 0");
            FZ_ASSERT(w->s != NULL, "rewards paid without a splitter");
            fw_add_amount(&w->led.host_in, &e->amount);
            fw_add_amount(&w->led.spl_out, &e->amount);
            FZ_ASSERT(opg_u256_add(&rw, &rw, &e->amount) == OPG_OK, "rewards events overflow");
            break;
        case OPG_EVENT_COMMISSION_PAID:
            FZ_ASSERT(w->s != NULL, "commission paid without a splitter");
            fw_add_amount(&w->led.host_in, &e->amount);
            fw_add_amount(&w->led.spl_out, &e->amount);
            FZ_ASSERT(opg_u256_add(&cm, &cm, &e->amount) == OPG_OK, "commission events overflow");
            break;
        case OPG_EVENT_UNBONDING_MATURED:
            fw_add_amount(&w->led.host_in, &e->amount);
            break;
        case OPG_EVENT_REPORTER_REWARD:
            /* paid to the reporter out of a slash's burn: back into the supply */
            fw_add_amount(&w->led.host_in, &e->amount);
            fz_big_add_u256(&w->led.minted, &e->amount);
            break;
        case OPG_EVENT_BURNED:
            fz_big_add_u256(&w->led.burned, &e->amount);
            FZ_ASSERT(opg_u256_add(&bu, &bu, &e->amount) == OPG_OK, "burn events overflow");
            break;
        case OPG_EVENT_VALIDATOR_UPDATE:
        case OPG_EVENT_REDELEGATION_MATURED:
        case OPG_EVENT_NODE_STATUS:
        case OPG_EVENT_NODE_JAILED:
        case OPG_EVENT_NODE_REMOVED:
            break;
        default:
            fz_die("unknown event kind %d", (int)e->kind);
        }
    }
    if (rewards)
        *rewards = rw;
    if (commission)
        *commission = cm;
    if (burned)
        *burned = bu;
}

static void fw_big_check(const fz_big *a, const fz_big *b, const char *what)
{
    if (fz_big_cmp(a, b) != 0) {
        char x[100], y[100];
        fz_big_text(x, sizeof x, a);
        fz_big_text(y, sizeof y, b);
        fz_die("%s:\n  %s\n  %s", what, x, y);
    }
}

/* ------------------------------------------------------------- the checks */

/* Every invariant of every handle and the host's ledger. */
static void fw_check(fw_world *w, const char *after)
{
    fz_suspend sp = fz_suspend_begin(w->fa);
    int rc = opg_registry_check(w->r);
    FZ_ASSERT(rc == OPG_OK, "after %s: registry check: %s (%s)", after, opg_errname(rc),
              opg_registry_last_error(w->r));
    if (w->s) {
        rc = opg_splitter_check(w->s);
        FZ_ASSERT(rc == OPG_OK, "after %s: splitter check: %s (%s)", after, opg_errname(rc),
                  opg_splitter_last_error(w->s));
    }
    if (w->p)
        fz_pricer_invariants(w->p);
    if (w->sl) {
        rc = opg_slasher_check(w->sl);
        FZ_ASSERT(rc == OPG_OK, "after %s: slasher check: %s (%s)", after, opg_errname(rc),
                  opg_slasher_last_error(w->sl));
    }
    /* the tally has no check of its own: fw_held() checks its deposits */

    /* conservation: held + host_in + burned == held0 + host_out + minted (raw) */
    fz_big lhs = fw_held(w), rhs = w->led.held0;
    fz_big burned_raw, minted_raw;
    opg_u256 b = {{w->led.burned.l[0], w->led.burned.l[1], w->led.burned.l[2], w->led.burned.l[3]}};
    opg_u256 m = {{w->led.minted.l[0], w->led.minted.l[1], w->led.minted.l[2], w->led.minted.l[3]}};
    FZ_ASSERT(!w->led.burned.l[4] && !w->led.burned.l[5] && !w->led.minted.l[4] && !w->led.minted.l[5],
              "after %s: more than 2^256 minted or burned", after);
    burned_raw = fw_raw(&b);
    minted_raw = fw_raw(&m);
    fz_big_add(&lhs, &w->led.host_in);
    fz_big_add(&lhs, &burned_raw);
    fz_big_add(&rhs, &w->led.host_out);
    fz_big_add(&rhs, &minted_raw);
    char what[160];
    snprintf(what, sizeof what, "after %s: tokens not conserved (held + paid out + burned vs "
             "held at start + paid in + minted)", after);
    fw_big_check(&lhs, &rhs, what);

    /* the supply ledger: total + burned == total at start + minted */
    opg_supply_info sup;
    opg_registry_supply(&sup, w->r);
    fz_big s1 = fz_big_of(&sup.total_supply), s2 = w->led.supply0;
    fz_big_add(&s1, &w->led.burned);
    fz_big_add(&s2, &w->led.minted);
    snprintf(what, sizeof what, "after %s: supply ledger (total + burned vs total at start + minted)", after);
    fw_big_check(&s1, &s2, what);

    if (w->s) {
        fz_big a = fw_splitter_money(w), c = w->led.spl0;
        fz_big_add(&a, &w->led.spl_out);
        fz_big_add(&c, &w->led.spl_in);
        snprintf(what, sizeof what, "after %s: splitter money (held + paid out vs held at start + paid in)", after);
        fw_big_check(&a, &c, what);
        opg_splitter_totals t;
        opg_splitter_totals_get(&t, w->s);
        opg_u256 pool, out;
        opg_dec_truncate_int(&pool, &t.community_pool);
        opg_dec_truncate_int(&out, &t.outstanding);
        if (opg_u256_cmp(&pool, &sup.community_pool) != 0 || opg_u256_cmp(&out, &sup.outstanding_rewards) != 0) {
            char a[OPG_U256_STRING_MAX], b2[OPG_U256_STRING_MAX], c2[OPG_U256_STRING_MAX],
                d2[OPG_U256_STRING_MAX];
            opg_u256_to_string(a, sizeof a, NULL, &pool);
            opg_u256_to_string(b2, sizeof b2, NULL, &sup.community_pool);
            opg_u256_to_string(c2, sizeof c2, NULL, &out);
            opg_u256_to_string(d2, sizeof d2, NULL, &sup.outstanding_rewards);
            fz_die("after %s: registry ledger's pool or outstanding differs from the splitter's: "
                   "pool %s (splitter) vs %s (registry), outstanding %s vs %s",
                   after, a, b2, c2, d2);
        }
        if (fw_is_pool(w)) {
            opg_emission_info e;
            opg_splitter_emission(&e, w->s);
            FZ_ASSERT(opg_u256_cmp(&e.pool_remaining, &w->led.reserve) == 0,
                      "after %s: pool remaining differs from what was emitted", after);
        }
    }
    fz_suspend_end(sp);
}

/* ------------------------------------------------------- save, load, swap */

/* Saves every handle, loads them into fresh handles (registry first, engines onto
 * it), checks that the copies save to the same bytes and hash the same, then frees
 * the originals and carries on with the copies. The allocation failure point is
 * suspended throughout. */
static void fw_save_load_swap(fw_world *w)
{
    fz_suspend sp = fz_suspend_begin(w->fa);
    fw_hashes before, after;
    fw_hash_all(&before, w);
    size_t rl, sl = 0, pl = 0;
    uint8_t *rb = fz_save(&rl, fz_save_registry, w->r, "registry");
    uint8_t *sb = w->s ? fz_save(&sl, fz_save_splitter, w->s, "splitter") : NULL;
    uint8_t *pb = w->p ? fz_save(&pl, fz_save_pricer, w->p, "pricer") : NULL;
    size_t ll = 0;
    uint8_t *lb = w->sl ? fz_save(&ll, fz_save_slasher, w->sl, "slasher") : NULL;
    size_t tl = 0;
    uint8_t *tb = w->ta ? fz_save(&tl, fz_save_tally, w->ta, "tally") : NULL;

    fw_world c = *w;
    int rc = opg_registry_load(&c.r, rb, rl, &w->alloc);
    FZ_ASSERT(rc == OPG_OK, "registry reload: %s", opg_errname(rc));
    if (w->s) {
        rc = opg_splitter_load(&c.s, c.r, sb, sl, &w->alloc);
        FZ_ASSERT(rc == OPG_OK, "splitter reload: %s", opg_errname(rc));
    }
    if (w->p) {
        rc = opg_pricer_load(&c.p, pb, pl, &w->alloc);
        FZ_ASSERT(rc == OPG_OK, "pricer reload: %s", opg_errname(rc));
    }
    if (w->sl) {
        rc = opg_slasher_load(&c.sl, c.r, lb, ll, &w->alloc);
        FZ_ASSERT(rc == OPG_OK, "slasher reload: %s", opg_errname(rc));
    }
    if (w->ta) {
        rc = opg_tally_load(&c.ta, c.r, tb, tl, &w->alloc);
        FZ_ASSERT(rc == OPG_OK, "tally reload: %s", opg_errname(rc));
        /* attachments are not state: set them again */
        FZ_ASSERT((!c.p || opg_tally_attach_pricer(c.ta, c.p) == OPG_OK) &&
                      (!c.s || opg_tally_attach_splitter(c.ta, c.s) == OPG_OK) &&
                      (!c.sl || opg_tally_attach_slasher(c.ta, c.sl) == OPG_OK),
                  "tally: attaching the reloaded handles");
    }
    /* plug-in: hyper load onto c.r */

    size_t l2;
    uint8_t *b2 = fz_save(&l2, fz_save_registry, c.r, "registry");
    FZ_ASSERT(l2 == rl && memcmp(b2, rb, rl) == 0, "registry save -> load -> save differs");
    free(b2);
    if (c.s) {
        b2 = fz_save(&l2, fz_save_splitter, c.s, "splitter");
        FZ_ASSERT(l2 == sl && memcmp(b2, sb, sl) == 0, "splitter save -> load -> save differs");
        free(b2);
    }
    if (c.p) {
        b2 = fz_save(&l2, fz_save_pricer, c.p, "pricer");
        FZ_ASSERT(l2 == pl && memcmp(b2, pb, pl) == 0, "pricer save -> load -> save differs");
        free(b2);
    }
    if (c.sl) {
        b2 = fz_save(&l2, fz_save_slasher, c.sl, "slasher");
        FZ_ASSERT(l2 == ll && memcmp(b2, lb, ll) == 0, "slasher save -> load -> save differs");
        free(b2);
    }
    if (c.ta) {
        b2 = fz_save(&l2, fz_save_tally, c.ta, "tally");
        FZ_ASSERT(l2 == tl && memcmp(b2, tb, tl) == 0, "tally save -> load -> save differs");
        free(b2);
    }
    fw_hash_all(&after, &c);
    const char *d = fw_hash_diff(&before, &after, w);
    FZ_ASSERT(d == NULL, "%s: the reloaded copy hashes differently", d ? d : "");
    FZ_ASSERT(fz_records_roots_ok(w->r, w->s), "state hashes are not the roots of the records");
    free(rb);
    free(sb);
    free(pb);
    free(lb);
    free(tb);

    /* engines before the registry they sit on (the tally first: it points at them) */
    opg_tally_free(w->ta);
    opg_slasher_free(w->sl);
    opg_pricer_free(w->p);
    opg_splitter_free(w->s);
    opg_registry_free(w->r);
    w->r = c.r;
    w->s = c.s;
    w->p = c.p;
    w->sl = c.sl;
    w->ta = c.ta;
    fz_suspend_end(sp);
}

static void fw_free(fw_world *w)
{
    /* plug-in: hyper first */
    opg_tally_free(w->ta);
    opg_slasher_free(w->sl);
    opg_pricer_free(w->p);
    opg_splitter_free(w->s);
    opg_registry_free(w->r);
    w->p = NULL;
    w->sl = NULL;
    w->ta = NULL;
    w->s = NULL;
    w->r = NULL;
}

#endif /* OPG_FUZZ_WORLD_H */
