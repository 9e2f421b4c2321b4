/*
 * fuzz_ops.c - operation sequences over a registry, a splitter and a pricer, as a
 * host drives them, with every invariant checked after every step.
 *
 * The input is a program. Eight header bytes choose the world (emission schedule,
 * genesis supply, registry, splitter, pricer, slasher and tally parameters, nodes
 * at genesis); then
 * each operation is an opcode byte followed by its argument bytes (an input that
 * runs out reads zeros, so every byte string is a whole program). At most
 * FZ_MAX_STEPS operations run, so no input can run long.
 *
 * After EVERY operation (fuzz_world.h):
 *   - opg_registry_check, opg_splitter_check, opg_slasher_check and the pricer's
 *     bounds hold; the tally's deposits add up per proposal;
 *   - tokens are conserved to the base unit (the host's own ledger of what it paid
 *     in and received, what was minted and burned, against what the handles hold,
 *     the tally's deposits included: deposits are paid in, refunds paid out);
 *   - a refused call left every handle's state hash unchanged and no events, and was
 *     refused with a listed code (never EINVARIANT; ENOMEM only when an allocation
 *     failure was armed);
 *   - quote and charge agree (same price; a quote succeeds exactly when the charge
 *     with an unlimited max fee does) and a receipt's parts add up;
 *   - payouts returned by a call equal the sum of its events.
 * Every FZ_SAVE_EVERY operations (and at the end) every handle is saved, loaded,
 * saved again (same bytes, same hash) and the run continues on the loaded copies.
 * Finally everything is freed and nothing may be left allocated.
 *
 * The opcodes are in fuzz_ops.h; test/fuzz/gen_corpus.c writes seed programs
 * with the same encoding.
 */
#include "fuzz_world.h"

#define FZ_MAX_STEPS 200
#define FZ_SAVE_EVERY 16

#include "fuzz_ops.h"

typedef struct ctx {
    fw_world w;
    failalloc fa;
    fz_in in;
    int oom_armed;
    int step;
    fw_hashes before;
    const char *opname;
} ctx;

/* ------------------------------------------------------------- arguments */

static unsigned arg_node(ctx *c) { return fz_u8(&c->in) % (FW_MAX_NODES + 1); } /* 8 = no node */

static opg_id arg_account(ctx *c)
{
    uint8_t b = fz_u8(&c->in);
    return fw_account(b % (FW_MAX_ACCOUNTS + 1)); /* the last: no node, a 17th delegator */
}

/* The host's balance in base units (truncated). */
static opg_u256 wallet_base(const ctx *c)
{
    int ok;
    fz_big w = fw_wallet(&c->w, &ok);
    opg_u256 out = {{0, 0, 0, 0}};
    if (!ok)
        return out;
    /* long division of 6 limbs by 10^18 */
    __extension__ typedef unsigned __int128 u128;
    u128 rem = 0;
    uint64_t q[6];
    for (int i = 5; i >= 0; i--) {
        u128 cur = rem << 64 | w.l[i];
        q[i] = (uint64_t)(cur / FW_P.limb[0]);
        rem = cur % FW_P.limb[0];
    }
    if (q[4] || q[5])
        return FZ_U256_MAX;
    memcpy(out.limb, q, sizeof out.limb);
    return out;
}

/* An amount: small, 16 or 64 bits, whole OPG, zero, any 256 bits, a share of the
 * host's balance, or `full` (what the operation would take at most). */
static opg_u256 arg_amount(ctx *c, const opg_u256 *full)
{
    uint8_t m = fz_u8(&c->in);
    opg_u256 v = {{0, 0, 0, 0}};
    switch (m % 8) {
    case 0: v.limb[0] = 1 + (uint64_t)fz_u8(&c->in); break;
    case 1: v.limb[0] = fz_u16(&c->in); break;
    case 2: v.limb[0] = fz_u64(&c->in); break;
    case 3: {
        opg_u256 k = fz_u256_u64(fz_u8(&c->in));
        opg_u256_mul(&v, &k, &FW_P);
        break;
    }
    case 4: break;
    case 5:
        for (int i = 3; i >= 0; i--)
            v.limb[i] = fz_u64(&c->in);
        break;
    case 6: {
        opg_u256 wal = wallet_base(c), k = fz_u256_u64(1 + (uint64_t)fz_u8(&c->in)), d = fz_u256_u64(256);
        opg_u256_divmod(&wal, NULL, &wal, &d);
        if (opg_u256_mul(&v, &wal, &k) != OPG_OK)
            v = wal;
        break;
    }
    default:
        v = full ? *full : fz_u256_u64(1);
        break;
    }
    return v;
}

/* A fraction: b/200 for b <= 200 (0 .. 1 in steps of 0.005), else any 64-bit raw
 * value (up to about 18.4, mostly above 1). */
static opg_dec arg_fraction(ctx *c)
{
    uint8_t b = fz_u8(&c->in);
    if (b <= 200)
        return fz_dec_frac(b, 200);
    return fz_dec_raw(fz_u64(&c->in));
}

static opg_time arg_time_step(ctx *c)
{
    static const opg_time steps[] = {0, 1, 5, 60, 3600, 86400, 21 * 86400, 21 * 86400 + 1,
                                     365 * 86400};
    uint8_t b = fz_u8(&c->in);
    if (b % 10 < 9)
        return steps[b % 10];
    return (opg_time)fz_u32(&c->in);
}

/* ------------------------------------------------------------ call checks */

/* Codes a refusal may carry (ENOMEM only with a failure armed). */
static int refusal_ok(const ctx *c, int rc)
{
    if (rc == OPG_ENOMEM)
        return c->oom_armed;
    if (rc == OPG_EINVARIANT || rc >= 0 || rc < OPG_ERROR_LAST_)
        return 0;
    return 1;
}

/* FUZZ_OPS_TRACE=1 in the environment prints every call and its result. */
static int trace = -1;

static void call_begin(ctx *c, const char *name)
{
    if (trace < 0)
        trace = getenv("FUZZ_OPS_TRACE") != NULL;
    c->opname = name;
    fw_hash_all(&c->before, &c->w);
}

/* After one library call: a refusal changed nothing. `events` says whether the
 * call starts a fresh event list (registry calls and withdrawals). */
static int call_end(ctx *c, int rc, int events)
{
    if (trace)
        fprintf(stderr, "step %d: %s -> %s %s\n", c->step, c->opname, opg_errname(rc),
                rc ? opg_registry_last_error(c->w.r) : "");
    if (rc == OPG_OK)
        return rc;
    FZ_ASSERT(refusal_ok(c, rc), "step %d: %s refused with %s (%s / %s)", c->step, c->opname,
              opg_errname(rc), opg_registry_last_error(c->w.r),
              c->w.s ? opg_splitter_last_error(c->w.s) : "");
    fw_hashes after;
    fw_hash_all(&after, &c->w);
    const char *d = fw_hash_diff(&c->before, &after, &c->w);
    FZ_ASSERT(d == NULL, "step %d: %s refused with %s but changed the %s state", c->step,
              c->opname, opg_errname(rc), d ? d : "");
    if (events) {
        size_t n = 1;
        opg_registry_events(c->w.r, &n);
        FZ_ASSERT(n == 0, "step %d: %s refused with %s but left %zu events", c->step, c->opname,
                  opg_errname(rc), n);
    }
    return rc;
}

/* ---------------------------------------------------------------- the world */

static const opg_u256 *genesis_choice(uint8_t b, opg_u256 *v)
{
    switch (b % 8) {
    case 0: *v = fz_pow10(27); break;
    case 1: *v = fz_pow10(30); break;
    case 2: *v = fz_pow10(36); break;
    case 3: *v = fz_pow10(45); break;
    case 4: *v = fz_u256_u64(0); v->limb[2] = 1; break;           /* 2^128 */
    case 5: *v = fz_u256_u64(0); v->limb[3] = UINT64_C(1) << 8; break; /* 2^200 */
    case 6: *v = fz_u256_u64(0); v->limb[3] = UINT64_C(1) << 58; break; /* 2^250 */
    default: *v = FZ_U256_MAX; v->limb[3] >>= 1; break;            /* 2^255 - 1 */
    }
    return v;
}

static void pricer_params(opg_pricer_params *pp, opg_pricer_class cls[4], uint8_t b5, uint8_t b6)
{
    opg_pricer_params_init(pp);
    pp->dimension_count = 1 + b5 % 4;
    pp->combine = (b5 >> 2) & 1 ? OPG_PRICER_COMBINE_MAX : OPG_PRICER_COMBINE_SUM;
    static const char *const names[] = {"gpu", "tokens_in", "tokens_out", "memory"};
    for (size_t d = 0; d < pp->dimension_count; d++) {
        opg_pricer_dimension *dim = &pp->dimensions[d];
        strcpy(dim->name, names[d]);
        dim->target = fz_u256_u64(10 * (d + 1));
        dim->limit = fz_u256_u64(20 * (d + 1) + 5);
        if ((b6 >> d) & 1) {
            dim->controller = OPG_PRICER_EXPONENTIAL;
            dim->min_base_fee = fz_u256_u64(1 + d);
            dim->initial_base_fee = dim->min_base_fee;
            dim->update_fraction = 20;
            dim->max_base_fee = fz_pow10(40);
        } else {
            dim->initial_base_fee = fz_u256_u64(1000000000 * (d + 1));
            dim->min_base_fee = fz_u256_u64(1);
            dim->max_base_fee = fz_pow10(30);
            dim->denominator = 8;
        }
    }
    opg_pricer_split *s = &pp->split;
    memset(s, 0, sizeof *s);
    switch ((b5 >> 3) % 4) {
    case 0: opg_dec_from_u64(&s->inference, 1); break;
    case 1:
        s->inference = fz_dec_frac(70, 100);
        s->verifiers = fz_dec_frac(10, 100);
        s->stakers = fz_dec_frac(15, 100);
        s->burn = fz_dec_frac(5, 100);
        break;
    case 2:
        s->verifiers = s->stakers = s->burn = s->community = fz_dec_frac(1, 4);
        break;
    default:
        s->inference = s->verifiers = fz_dec_raw(UINT64_C(333333333333333333));
        s->stakers = fz_dec_raw(UINT64_C(333333333333333334));
        break;
    }
    for (uint32_t k = 0; k < 4; k++) {
        memset(&cls[k], 0, sizeof cls[k]);
        cls[k].id = k;
        for (size_t d = 0; d < OPG_PRICER_MAX_DIMENSIONS; d++) {
            switch (k) {
            case 0: opg_dec_from_u64(&cls[k].multiplier[d], 1); break;
            case 1: cls[k].multiplier[d] = d % 2 ? fz_dec_frac(1, 2) : fz_dec_frac(2, 1); break;
            case 2: if (d) opg_dec_from_u64(&cls[k].multiplier[d], 3); break;
            default: cls[k].multiplier[d] = fz_dec_raw(UINT64_C(1000000000000000001)); break;
            }
        }
    }
    pp->classes = cls;
    pp->class_count = 4;
}

static int node_create(ctx *c, unsigned n, const opg_dec *rate, const opg_u256 *self,
                       const opg_u256 *min_self)
{
    opg_node_create nc;
    memset(&nc, 0, sizeof nc);
    nc.operator_id = fw_operator(n);
    nc.consensus_key = fw_cons_key(n);
    nc.roles = OPG_ROLE_ALL;
    nc.commission_rate = *rate;
    opg_dec_from_u64(&nc.commission_max_rate, 1);
    nc.commission_max_change_rate = fz_dec_frac(1, 10);
    nc.min_self_delegation = *min_self;
    nc.self_delegation = *self;
    if (!fw_can_pay(&c->w, self))
        return 1; /* the host cannot pay: not called */
    call_begin(c, "node_create");
    int rc = call_end(c, opg_registry_node_create(c->w.r, &nc, c->w.h, c->w.t), 1);
    if (rc == OPG_OK) {
        fw_add_amount(&c->w.led.host_out, self);
        fw_book_events(&c->w, NULL, NULL, NULL);
    }
    return rc;
}

/* Creates the world from the 8 header bytes; 0 if creation was refused. */
static int world_new(ctx *c)
{
    uint8_t hd[8];
    for (int i = 0; i < 8; i++)
        hd[i] = fz_u8(&c->in);
    failalloc_init(&c->fa, 0);
    memset(&c->w, 0, sizeof c->w);
    c->w.fa = &c->fa;
    c->w.alloc = failalloc_allocator(&c->fa);
    c->w.all_accounts_known = 1;
    c->w.h = 1;
    c->w.t = 1000000;

    opg_u256 genesis;
    genesis_choice(hd[1], &genesis);
    opg_registry_params rp;
    opg_registry_params_init(&rp);
    rp.max_validators = 1 + hd[2] % 5;
    rp.fix_redelegation_overslash = (hd[2] >> 3) & 1;
    rp.power_reduction = (hd[2] >> 4) & 1 ? fz_u256_u64(1000000) : fz_u256_u64(1);
    static const opg_time ubd[] = {21 * 86400, 86400, 0, 100};
    rp.unbonding_time = ubd[(hd[2] >> 5) & 3];
    rp.max_entries = 1 + hd[3] % 7;
    if ((hd[3] >> 3) & 1)
        rp.min_commission_rate = fz_dec_frac(5, 100);
    int rc = opg_registry_new(&c->w.r, &rp, &genesis, &c->w.alloc);
    FZ_ASSERT(rc == OPG_OK, "registry_new: %s", opg_errname(rc));

    opg_splitter_params sp;
    opg_splitter_params_init(&sp);
    sp.emission = (opg_emission_kind)(hd[0] % 4);
    static const uint64_t tax[] = {2, 0, 50, 100}, perf[] = {0, 30, 100, 50};
    sp.community_tax = fz_dec_frac(tax[hd[4] % 4], 100);
    sp.perf_share = fz_dec_frac(perf[(hd[4] >> 2) % 4], 100);
    opg_u256 four = fz_u256_u64(4);
    opg_u256_divmod(&sp.pool_amount, NULL, &genesis, &four);
    sp.pool_start = c->w.t;
    sp.half_life = 365 * 86400;
    sp.duration = 30 * 86400;
    rc = opg_splitter_new(&c->w.s, c->w.r, &sp, &c->w.alloc);
    FZ_ASSERT(rc == OPG_OK, "splitter_new: %s", opg_errname(rc));

    opg_pricer_params pp;
    opg_pricer_class cls[4];
    pricer_params(&pp, cls, hd[5], hd[6]);
    rc = opg_pricer_new(&c->w.p, &pp, &c->w.alloc);
    FZ_ASSERT(rc == OPG_OK, "pricer_new: %s (%s)", opg_errname(rc), opg_pricer_last_error(c->w.p));

    opg_slasher_params lp;
    opg_slasher_params_init(&lp);
    static const uint64_t windows[] = {4, 10, 100};
    static const uint64_t reporter[] = {0, 10, 50, 100};
    lp.signed_blocks_window = windows[(hd[3] >> 4) % 3];
    lp.reporter_share = fz_dec_frac(reporter[hd[3] >> 6], 100);
    lp.correlation_k = fz_dec_frac(hd[4] >> 6, 1);
    opg_fault_class fc[3] = {{1, fz_dec_frac(1, 10), 600, 0}, {2, fz_dec_frac(1, 1), 0, 1},
                             {3, fz_dec_frac(0, 1), 0, 0}};
    lp.fault_classes = fc;
    lp.fault_class_count = 3;
    rc = opg_slasher_new(&c->w.sl, c->w.r, &lp, &c->w.alloc);
    FZ_ASSERT(rc == OPG_OK, "slasher_new: %s", opg_errname(rc));

    /* the tally: short periods so proposals close within a program; bits of hd[5]
     * and hd[6] choose the burn rules and the quorum */
    opg_tally_params tp;
    opg_tally_params_init(&tp);
    tp.min_deposit = fz_u256_u64(1000);
    tp.max_deposit_period = 3600;
    tp.voting_period = 86400;
    tp.expedited_voting_period = 3600;
    tp.burn_vote_quorum = hd[5] >> 7;
    tp.burn_proposal_deposit_prevote = (hd[6] >> 7) & 1;
    tp.burn_vote_veto = !((hd[6] >> 6) & 1);
    tp.quorum = fz_dec_frac((hd[7] >> 4) % 4 * 25, 100);
    tp.vote_locking_period = 600; /* conviction locks end within a program */
    rc = opg_tally_new(&c->w.ta, c->w.r, &tp, &c->w.alloc);
    FZ_ASSERT(rc == OPG_OK, "tally_new: %s", opg_errname(rc));
    FZ_ASSERT(opg_tally_attach_pricer(c->w.ta, c->w.p) == OPG_OK &&
                  opg_tally_attach_splitter(c->w.ta, c->w.s) == OPG_OK &&
                  opg_tally_attach_slasher(c->w.ta, c->w.sl) == OPG_OK,
              "tally: attach");
    /* plug-in: hyper on c->w.r */

    fw_ledger_reset(&c->w);
    /* the pool's reserve is part of the supply the host set aside */
    unsigned nodes = hd[7] % 5;
    opg_u256 each, sixty4 = fz_u256_u64(64), one = fz_u256_u64(1);
    opg_u256_divmod(&each, NULL, &genesis, &sixty4);
    opg_u256 cap = fz_pow10(30); /* shares are Decs: at most about 1.16e59 tokens' worth */
    if (opg_u256_cmp(&each, &cap) > 0)
        each = cap;
    for (unsigned n = 0; n < nodes; n++) {
        opg_dec rate = fz_dec_frac(5 * n + 5, 100);
        int rc2 = node_create(c, n, &rate, &each, &one);
        FZ_ASSERT(rc2 == OPG_OK, "genesis node %u refused: %s (%s)", n, opg_errname(rc2),
                  opg_registry_last_error(c->w.r));
    }
    if (nodes) {
        call_begin(c, "end_block");
        rc = call_end(c, opg_registry_end_block(c->w.r, c->w.h, c->w.t), 1);
        FZ_ASSERT(rc == OPG_OK, "genesis end_block: %s", opg_errname(rc));
        fw_book_events(&c->w, NULL, NULL, NULL);
    }
    fw_check(&c->w, "genesis");
    return 1;
}

/* ------------------------------------------------------------- operations */

static opg_u256 delegation_tokens(const ctx *c, const opg_id *who, const opg_id *node)
{
    opg_delegation_info di;
    if (opg_registry_delegation_get(&di, c->w.r, who, node) == OPG_OK)
        return di.tokens;
    return fz_u256_u64(1);
}

static void op_delegate(ctx *c)
{
    opg_id who = arg_account(c), node = fw_operator(arg_node(c));
    opg_u256 amt = arg_amount(c, NULL);
    if (!fw_can_pay(&c->w, &amt))
        return;
    call_begin(c, "delegate");
    opg_dec issued;
    if (call_end(c, opg_registry_delegate(&issued, c->w.r, &who, &node, &amt, c->w.h, c->w.t), 1) == OPG_OK) {
        fw_add_amount(&c->w.led.host_out, &amt);
        fw_book_events(&c->w, NULL, NULL, NULL);
    }
}

static void op_undelegate(ctx *c)
{
    opg_id who = arg_account(c), node = fw_operator(arg_node(c));
    opg_u256 full = delegation_tokens(c, &who, &node);
    opg_u256 amt = arg_amount(c, &full), got;
    opg_time done;
    call_begin(c, "undelegate");
    int rc = call_end(c, opg_registry_undelegate(&got, &done, c->w.r, &who, &node, &amt, c->w.h, c->w.t), 1);
    /* a conviction lock refuses exactly while it has not ended */
    opg_time until = 0;
    int locked = c->w.ta && opg_tally_lock_get(&until, c->w.ta, &who) == OPG_OK && c->w.t < until;
    FZ_ASSERT(!locked || rc != OPG_OK, "undelegate: allowed under a conviction lock");
    FZ_ASSERT(locked || rc != OPG_ELOCKED, "undelegate: OPG_ELOCKED without a lock in force");
    if (rc == OPG_OK) {
        fw_book_events(&c->w, NULL, NULL, NULL);
        FZ_ASSERT(done >= c->w.t, "undelegate: completion before now");
    }
}

static void op_redelegate(ctx *c)
{
    opg_id who = arg_account(c), src = fw_operator(arg_node(c)), dst = fw_operator(arg_node(c));
    opg_u256 full = delegation_tokens(c, &who, &src);
    opg_u256 amt = arg_amount(c, &full);
    opg_time done;
    call_begin(c, "redelegate");
    if (call_end(c, opg_registry_redelegate(&done, c->w.r, &who, &src, &dst, &amt, c->w.h, c->w.t), 1) == OPG_OK)
        fw_book_events(&c->w, NULL, NULL, NULL);
}

static void op_cancel(ctx *c)
{
    opg_id who = arg_account(c), node = fw_operator(arg_node(c));
    uint8_t pick = fz_u8(&c->in);
    opg_unbonding_info ub[32];
    size_t cnt = 0;
    opg_registry_unbondings_of(ub, 32, &cnt, c->w.r, &who);
    if (cnt > 32)
        cnt = 32;
    opg_height created = c->w.h;
    opg_u256 full = fz_u256_u64(1);
    size_t k = 0;
    for (size_t i = 0; i < cnt; i++)
        if (opg_id_cmp(&ub[i].operator_id, &node) == 0 && k++ == pick % (cnt ? cnt : 1)) {
            created = ub[i].creation_height;
            full = ub[i].balance;
        }
    opg_u256 amt = arg_amount(c, &full);
    call_begin(c, "cancel_unbonding");
    if (call_end(c, opg_registry_cancel_unbonding(c->w.r, &who, &node, created, &amt, c->w.h, c->w.t), 1) == OPG_OK)
        fw_book_events(&c->w, NULL, NULL, NULL);
}

static void op_node_create(ctx *c)
{
    unsigned n = arg_node(c);
    opg_dec rate = arg_fraction(c);
    opg_u256 self = arg_amount(c, NULL);
    opg_u256 min_self = arg_amount(c, &self);
    node_create(c, n, &rate, &self, &min_self);
}

static void op_end_block(ctx *c)
{
    opg_time dt = arg_time_step(c);
    if (c->w.t > INT64_MAX / 2)
        dt = 0;
    c->w.h++;
    c->w.t += dt;
    call_begin(c, "end_block");
    if (call_end(c, opg_registry_end_block(c->w.r, c->w.h, c->w.t), 1) == OPG_OK)
        fw_book_events(&c->w, NULL, NULL, NULL);
}

static void op_mint(ctx *c)
{
    opg_u256 amt;
    int pool = fw_is_pool(&c->w);
    call_begin(c, "mint");
    if (call_end(c, opg_splitter_mint(&amt, c->w.s, c->w.h, c->w.t), 0) != OPG_OK)
        return;
    fw_add_amount(&c->w.led.spl_in, &amt);
    if (pool) {
        FZ_ASSERT(opg_u256_sub(&c->w.led.reserve, &c->w.led.reserve, &amt) == OPG_OK,
                  "emitted more than the pool held");
    } else {
        fz_big_add_u256(&c->w.led.minted, &amt);
    }
}

static void op_allocate(ctx *c)
{
    opg_commit_vote v[FW_MAX_NODES + 2];
    size_t n = fz_u8(&c->in) % (FW_MAX_NODES + 3);
    for (size_t i = 0; i < n; i++) {
        unsigned node = arg_node(c);
        opg_id op = fw_operator(node);
        opg_node_info ni;
        memset(&ni, 0, sizeof ni);
        int known = opg_registry_node_get(&ni, c->w.r, &op) == OPG_OK;
        v[i].consensus_key = known ? ni.consensus_key : fw_cons_key(node);
        uint8_t pm = fz_u8(&c->in);
        v[i].power = pm < 200 ? ni.power : pm < 250 ? (uint64_t)fz_u8(&c->in) : fz_u64(&c->in);
        v[i].score = arg_fraction(c);
    }
    call_begin(c, "allocate");
    call_end(c, opg_splitter_allocate(c->w.s, v, n, c->w.h, c->w.t), 0);
}

static void op_allocate_to_node(ctx *c)
{
    opg_id node = fw_operator(arg_node(c));
    opg_u256 amt = arg_amount(c, NULL);
    if (!fw_can_pay(&c->w, &amt))
        return;
    call_begin(c, "allocate_to_node");
    if (call_end(c, opg_splitter_allocate_to_node(c->w.s, &node, &amt), 0) == OPG_OK) {
        fw_add_amount(&c->w.led.host_out, &amt);
        fw_add_amount(&c->w.led.spl_in, &amt);
    }
}

static int add_fees(ctx *c, const opg_u256 *amt)
{
    call_begin(c, "add_fees");
    int rc = call_end(c, opg_splitter_add_fees(c->w.s, amt), 0);
    if (rc == OPG_OK) {
        fw_add_amount(&c->w.led.host_out, amt);
        fw_add_amount(&c->w.led.spl_in, amt);
    }
    return rc;
}

static int fund_pool(ctx *c, const opg_u256 *amt)
{
    call_begin(c, "fund_community_pool");
    int rc = call_end(c, opg_splitter_fund_community_pool(c->w.s, amt), 0);
    if (rc == OPG_OK) {
        fw_add_amount(&c->w.led.host_out, amt);
        fw_add_amount(&c->w.led.spl_in, amt);
    }
    return rc;
}

static int supply_burn(ctx *c, const opg_u256 *amt)
{
    call_begin(c, "supply_burn");
    int rc = call_end(c, opg_registry_supply_burn(c->w.r, amt), 1);
    if (rc == OPG_OK) {
        fw_add_amount(&c->w.led.host_out, amt);
        fz_big_add_u256(&c->w.led.burned, amt);
    }
    return rc;
}

static void op_add_fees(ctx *c)
{
    opg_u256 amt = arg_amount(c, NULL);
    if (fw_can_pay(&c->w, &amt))
        add_fees(c, &amt);
}

static void op_withdraw_rewards(ctx *c)
{
    opg_id who = arg_account(c), node = fw_operator(arg_node(c));
    opg_u256 paid, rw;
    call_begin(c, "withdraw_rewards");
    if (call_end(c, opg_splitter_withdraw_rewards(&paid, c->w.s, &who, &node, c->w.h, c->w.t), 1) == OPG_OK) {
        fw_book_events(&c->w, &rw, NULL, NULL);
        FZ_ASSERT(opg_u256_cmp(&rw, &paid) == 0, "withdraw_rewards: paid differs from its events");
    }
}

static void op_withdraw_commission(ctx *c)
{
    opg_id node = fw_operator(arg_node(c));
    opg_u256 paid, cm;
    call_begin(c, "withdraw_commission");
    if (call_end(c, opg_splitter_withdraw_commission(&paid, c->w.s, &node), 1) == OPG_OK) {
        fw_book_events(&c->w, NULL, &cm, NULL);
        FZ_ASSERT(opg_u256_cmp(&cm, &paid) == 0, "withdraw_commission: paid differs from its events");
    }
}

static void op_slash(ctx *c)
{
    opg_id node = fw_operator(arg_node(c));
    uint8_t back = fz_u8(&c->in);
    opg_dec frac = arg_fraction(c);
    opg_node_info ni;
    memset(&ni, 0, sizeof ni);
    opg_registry_node_get(&ni, c->w.r, &node);
    uint8_t pm = fz_u8(&c->in);
    uint64_t power = pm < 200 ? ni.power : pm < 250 ? (uint64_t)fz_u8(&c->in) : fz_u64(&c->in);
    opg_height inf = c->w.h > back % 8 ? c->w.h - back % 8 : 0;
    if (back >= 250)
        inf = c->w.h + 1; /* the future */
    opg_slash_result sr;
    call_begin(c, "slash");
    if (call_end(c, opg_registry_slash(&sr, c->w.r, &node, inf, power, &frac, c->w.h, c->w.t), 1) != OPG_OK)
        return;
    opg_u256 burned, parts;
    fw_book_events(&c->w, NULL, NULL, &burned);
    FZ_ASSERT(opg_u256_cmp(&burned, &sr.burned_total) == 0, "slash: burned_total differs from its events");
    FZ_ASSERT(opg_u256_add(&parts, &sr.burned_node, &sr.burned_unbonding) == OPG_OK &&
                  opg_u256_add(&parts, &parts, &sr.burned_redelegation) == OPG_OK &&
                  opg_u256_cmp(&parts, &sr.burned_total) == 0,
              "slash: the parts do not add up to burned_total");
    opg_dec one;
    opg_dec_from_u64(&one, 1);
    FZ_ASSERT(opg_dec_cmp(&sr.effective_fraction, &one) <= 0, "slash: effective fraction above 1");
}

static void op_jail(ctx *c)
{
    opg_id node = fw_operator(arg_node(c));
    opg_time dt = arg_time_step(c);
    opg_time until = dt == 0 ? OPG_TIME_FOREVER : c->w.t + dt;
    call_begin(c, "jail");
    if (call_end(c, opg_registry_jail(c->w.r, &node, until), 1) == OPG_OK)
        fw_book_events(&c->w, NULL, NULL, NULL);
}

static void op_unjail(ctx *c)
{
    opg_id node = fw_operator(arg_node(c));
    call_begin(c, "unjail");
    if (call_end(c, opg_registry_unjail(c->w.r, &node, c->w.t), 1) == OPG_OK)
        fw_book_events(&c->w, NULL, NULL, NULL);
}

static void op_tombstone(ctx *c)
{
    opg_id node = fw_operator(arg_node(c));
    call_begin(c, "tombstone");
    if (call_end(c, opg_registry_tombstone(c->w.r, &node), 1) == OPG_OK)
        fw_book_events(&c->w, NULL, NULL, NULL);
}

static void op_set_commission(ctx *c)
{
    opg_id node = fw_operator(arg_node(c));
    opg_dec rate = arg_fraction(c);
    call_begin(c, "set_commission");
    call_end(c, opg_registry_node_set_commission(c->w.r, &node, &rate, c->w.t), 1);
}

static void op_set_min_self(ctx *c)
{
    opg_id node = fw_operator(arg_node(c));
    opg_node_info ni;
    memset(&ni, 0, sizeof ni);
    opg_registry_node_get(&ni, c->w.r, &node);
    opg_u256 amt = arg_amount(c, &ni.tokens);
    call_begin(c, "set_min_self_delegation");
    call_end(c, opg_registry_node_set_min_self_delegation(c->w.r, &node, &amt), 1);
}

static void op_set_roles(ctx *c)
{
    opg_id node = fw_operator(arg_node(c));
    uint32_t roles = fz_u8(&c->in) % 9; /* 8: an unknown bit */
    call_begin(c, "set_roles");
    call_end(c, opg_registry_node_set_roles(c->w.r, &node, roles), 1);
}

static void arg_request(ctx *c, opg_pricer_request *rq)
{
    memset(rq, 0, sizeof rq[0]);
    rq->model_class = fz_u8(&c->in) % 6;
    size_t nd = opg_pricer_dimension_count(c->w.p);
    for (size_t d = 0; d < nd; d++) {
        uint8_t m = fz_u8(&c->in);
        switch (m % 4) {
        case 0: break;
        case 1: rq->units[d] = fz_u256_u64(m / 4); break;
        case 2: rq->units[d] = fz_u256_u64(fz_u16(&c->in)); break;
        default: rq->units[d] = arg_amount(c, NULL); break;
        }
    }
}

static void op_quote(ctx *c)
{
    opg_pricer_request rq;
    arg_request(c, &rq);
    opg_pricer_price q, q2;
    call_begin(c, "quote");
    int rc = opg_pricer_quote(&q, c->w.p, &rq);
    FZ_ASSERT(rc == OPG_OK || rc == OPG_ECLASS || rc == OPG_EOVERFLOW || rc == OPG_EZERO ||
                  rc == OPG_ELIMIT,
              "quote: %s", opg_errname(rc));
    fw_hashes after;
    fw_hash_all(&after, &c->w);
    FZ_ASSERT(fw_hash_diff(&c->before, &after, &c->w) == NULL, "quote changed the state");
    FZ_ASSERT(opg_pricer_quote(&q2, c->w.p, &rq) == rc, "quote twice: different codes");
    if (rc == OPG_OK)
        FZ_ASSERT(memcmp(&q, &q2, sizeof q) == 0, "quote twice: different prices");
}

/* Charges a request and moves the parts as a host would: inference and verifier
 * parts to their accounts, stakers' part into the splitter's pot, the community
 * part into its pool, the burn burned. */
static void op_charge(ctx *c)
{
    opg_pricer_request rq;
    arg_request(c, &rq);
    uint8_t fm = fz_u8(&c->in), tm = fz_u8(&c->in), vm = fz_u8(&c->in);
    opg_pricer_price q;
    int qrc = opg_pricer_quote(&q, c->w.p, &rq);
    FZ_ASSERT(qrc == OPG_OK || qrc == OPG_ECLASS || qrc == OPG_EOVERFLOW || qrc == OPG_EZERO ||
                  qrc == OPG_ELIMIT,
              "quote: %s", opg_errname(qrc));
    opg_u256 max_fee = FZ_U256_MAX, tip = fz_u256_u64(0);
    if (qrc == OPG_OK) {
        switch (fm % 4) {
        case 0: break;
        case 1: max_fee = q.base_fee; break;
        case 2: /* one below: OPG_EFEE unless the base fee is 0 */
            if (opg_u256_sub(&max_fee, &q.base_fee, &(opg_u256){{1, 0, 0, 0}}) != OPG_OK)
                max_fee = q.base_fee;
            break;
        default: opg_u256_add(&max_fee, &q.base_fee, &(opg_u256){{(uint64_t)fz_u16(&c->in), 0, 0, 0}}); break;
        }
    }
    switch (tm % 3) {
    case 0: break;
    case 1: tip = fz_u256_u64(fz_u16(&c->in)); break;
    default: tip = FZ_U256_MAX; break;
    }
    opg_id vs[4];
    size_t nv = vm % 5;
    for (size_t i = 0; i < nv; i++)
        vs[i] = fw_verifier((unsigned)(vm & 0x80 ? 0 : i)); /* high bit: all the same id */
    if (qrc == OPG_OK) {
        /* the host must be able to pay the largest fee this charge can take */
        opg_u256 room, t, fee;
        opg_u256_sub(&room, &max_fee, &q.base_fee);
        if (opg_u256_cmp(&max_fee, &q.base_fee) >= 0) {
            t = opg_u256_cmp(&tip, &room) < 0 ? tip : room;
            opg_u256_add(&fee, &q.base_fee, &t);
            if (!fw_can_pay(&c->w, &fee))
                return;
        }
    }
    opg_pricer_receipt r;
    opg_u256 amounts[4];
    call_begin(c, "charge");
    int rc = call_end(c, opg_pricer_charge(&r, nv ? amounts : NULL, c->w.p, &rq, &max_fee, &tip,
                                           nv ? vs : NULL, nv), 0);
    /* the verifier set is refused when the verifiers have a share but none is
     * named, or when one id is given twice */
    opg_pricer_split split;
    opg_pricer_split_get(&split, c->w.p);
    int bad_verifiers = (nv == 0 && !opg_dec_is_zero(&split.verifiers)) || (nv >= 2 && (vm & 0x80));
    if (rc == OPG_ENOMEM)
        return;
    if (qrc != OPG_OK) {
        FZ_ASSERT(rc == qrc || (bad_verifiers && rc == OPG_EINVAL), "quote %s but charge %s",
                  opg_errname(qrc), opg_errname(rc));
        return;
    }
    int low = opg_u256_cmp(&max_fee, &q.base_fee) < 0;
    if (rc != OPG_OK) {
        FZ_ASSERT((rc == OPG_EFEE && low) || (rc == OPG_EINVAL && bad_verifiers),
                  "quote OK but charge %s (max_fee %s the base fee, verifiers %s)", opg_errname(rc),
                  low ? "below" : "at or above", bad_verifiers ? "refusable" : "fine");
        return;
    }
    FZ_ASSERT(!low && !bad_verifiers, "charge accepted a max_fee below the base fee or a bad verifier set");
    fz_check_receipt(&r, &q, &max_fee, &tip, amounts, nv);
    /* the pricer holds no tokens: the whole fee stays with the host, which then
     * moves the stakers', community and burn parts (each a call of its own; a part
     * the library refuses stays with the host) */
    c->oom_armed = 0; /* the routing calls below may not fail for memory */
    c->fa.fail_at = 0;
    if (!opg_u256_is_zero(&r.stakers))
        add_fees(c, &r.stakers);
    if (!opg_u256_is_zero(&r.community))
        fund_pool(c, &r.community);
    if (!opg_u256_is_zero(&r.burn))
        supply_burn(c, &r.burn);
}

static void op_pricer_end_block(ctx *c)
{
    opg_u256 fees[OPG_PRICER_MAX_DIMENSIONS];
    call_begin(c, "pricer_end_block");
    int rc = opg_pricer_end_block(fees, c->w.p);
    FZ_ASSERT(rc == OPG_OK, "pricer end_block: %s", opg_errname(rc));
    size_t nd = opg_pricer_dimension_count(c->w.p);
    for (size_t d = 0; d < OPG_PRICER_MAX_DIMENSIONS; d++) {
        opg_pricer_dimension_state st;
        if (d < nd) {
            opg_pricer_dimension_get(NULL, &st, c->w.p, d);
            FZ_ASSERT(opg_u256_cmp(&st.base_fee, &fees[d]) == 0 && opg_u256_is_zero(&st.usage),
                      "pricer end_block: reported fee differs or usage not reset");
        } else {
            FZ_ASSERT(opg_u256_is_zero(&fees[d]), "pricer end_block: a fee past the dimensions");
        }
    }
}

static void op_class_set(ctx *c)
{
    opg_pricer_class cls;
    memset(&cls, 0, sizeof cls);
    cls.id = fz_u8(&c->in) % 6;
    for (size_t d = 0; d < OPG_PRICER_MAX_DIMENSIONS; d++) {
        uint8_t m = fz_u8(&c->in);
        cls.multiplier[d] = m < 250 ? fz_dec_frac(m, 50) : fz_dec_raw(fz_u64(&c->in));
    }
    call_begin(c, "class_set");
    call_end(c, opg_pricer_class_set(c->w.p, &cls), 0);
}

static void op_class_remove(ctx *c)
{
    call_begin(c, "class_remove");
    call_end(c, opg_pricer_class_remove(c->w.p, fz_u8(&c->in) % 6), 0);
}

static const char *const VALUES[] = {
    "0", "1", "2", "7", "100", "0.5", "0.02", "0.999999999999999999", "1.000000000000000001",
    "true", "false", "sum", "max", "0.7,0.1,0.15,0.05,0", "1,0,0,0,0", "0.2,0.2,0.2,0.2,0.2",
    "0,0,1,0,0", "0,0,0,1,0", "86400", "1814400", "31536000", "31535999", "64", "65",
    "18446744073709551615", "18446744073709551616", "9223372036854775807",
    "115792089237316195423570985008687907853269984665640564039457584007913129639935",
    "1000000000000000000000000000000", "", "-1", "1e3", " 1", "0.0000000000000000001"};
#define N_VALUES (sizeof VALUES / sizeof VALUES[0])

static void op_param_set(ctx *c)
{
    uint8_t hsel = fz_u8(&c->in), ksel = fz_u8(&c->in), vsel = fz_u8(&c->in);
    char value[64];
    if (vsel < 0xe0)
        snprintf(value, sizeof value, "%s", VALUES[vsel % N_VALUES]);
    else
        fz_text(value, 25, &c->in);
    const char *key = NULL;
    size_t nk = 0;
    switch (hsel % 5) {
    case 0:
        while (opg_registry_param_key(nk))
            nk++;
        key = opg_registry_param_key(ksel % nk);
        call_begin(c, "registry_param_set");
        call_end(c, opg_registry_param_set(c->w.r, key, value), 0);
        break;
    case 1:
        while (opg_splitter_param_key(nk))
            nk++;
        key = opg_splitter_param_key(ksel % nk);
        call_begin(c, "splitter_param_set");
        call_end(c, opg_splitter_param_set(c->w.s, key, value), 0);
        break;
    case 2:
        while (opg_pricer_param_key(c->w.p, nk))
            nk++;
        key = opg_pricer_param_key(c->w.p, ksel % nk);
        call_begin(c, "pricer_param_set");
        call_end(c, opg_pricer_param_set(c->w.p, key, value), 0);
        break;
    case 3:
        while (opg_slasher_param_key(nk))
            nk++;
        key = opg_slasher_param_key(ksel % nk);
        call_begin(c, "slasher_param_set");
        call_end(c, opg_slasher_param_set(c->w.sl, key, value), 0);
        break;
    default:
        while (opg_tally_param_key(nk))
            nk++;
        key = opg_tally_param_key(ksel % nk);
        call_begin(c, "tally_param_set");
        call_end(c, opg_tally_param_set(c->w.ta, key, value), 0);
        break;
    /* plug-in: hyper keys */
    }
}

static void op_pause(ctx *c)
{
    call_begin(c, "pause");
    call_end(c, opg_splitter_pause(c->w.s, c->w.t), 0);
}

static void op_resume(ctx *c)
{
    call_begin(c, "resume");
    call_end(c, opg_splitter_resume(c->w.s, c->w.t), 0);
}

static void op_pool_spend(ctx *c)
{
    opg_supply_info sup;
    opg_registry_supply(&sup, c->w.r);
    opg_u256 amt = arg_amount(c, &sup.community_pool);
    call_begin(c, "community_pool_spend");
    if (call_end(c, opg_splitter_community_pool_spend(c->w.s, &amt), 0) == OPG_OK) {
        fw_add_amount(&c->w.led.host_in, &amt);
        fw_add_amount(&c->w.led.spl_out, &amt);
    }
}

static void op_fund_pool(ctx *c)
{
    opg_u256 amt = arg_amount(c, NULL);
    if (fw_can_pay(&c->w, &amt))
        fund_pool(c, &amt);
}

static void op_supply_mint(ctx *c)
{
    opg_u256 amt = arg_amount(c, NULL);
    call_begin(c, "supply_mint");
    if (call_end(c, opg_registry_supply_mint(c->w.r, &amt), 1) == OPG_OK) {
        fw_add_amount(&c->w.led.host_in, &amt);
        fz_big_add_u256(&c->w.led.minted, &amt);
    }
}

static void op_supply_burn(ctx *c)
{
    opg_u256 amt = arg_amount(c, NULL);
    if (fw_can_pay(&c->w, &amt))
        supply_burn(c, &amt);
}

/* Books a slasher call's records against its events. */
static void book_slasher(ctx *c)
{
    opg_u256 burned;
    fw_book_events(&c->w, NULL, NULL, &burned);
    size_t n = 0;
    const opg_slasher_record *rec = opg_slasher_slashes(c->w.sl, &n);
    opg_u256 sum = {{0, 0, 0, 0}};
    for (size_t i = 0; i < n; i++) {
        opg_u256 x;
        FZ_ASSERT(opg_u256_add(&x, &rec[i].burned, &rec[i].reporter_reward) == OPG_OK &&
                      opg_u256_cmp(&x, &rec[i].slash.burned_total) == 0,
                  "slasher record: burned + reporter reward != burned_total");
        FZ_ASSERT(opg_u256_add(&sum, &sum, &rec[i].slash.burned_total) == OPG_OK, "records overflow");
    }
    FZ_ASSERT(opg_u256_cmp(&sum, &burned) == 0, "slasher: records' burned_total differs from the burn events");
}

static void op_record_commit(ctx *c)
{
    opg_commit_sig e[FW_MAX_NODES + 2];
    size_t n = fz_u8(&c->in) % (FW_MAX_NODES + 3);
    for (size_t i = 0; i < n; i++) {
        unsigned node = arg_node(c);
        opg_id op = fw_operator(node);
        opg_node_info ni;
        memset(&ni, 0, sizeof ni);
        opg_registry_node_get(&ni, c->w.r, &op);
        e[i].consensus_key = fw_cons_key(node);
        uint8_t pm = fz_u8(&c->in);
        e[i].power = pm < 200 ? ni.power : pm < 250 ? (uint64_t)fz_u8(&c->in) : fz_u64(&c->in);
        e[i].signed_block = fz_u8(&c->in) % 3 != 0;
    }
    /* documented exception: a second slash of one call that meets OPG_ENOMEM keeps
     * the first; so no allocation failure is armed here */
    c->oom_armed = 0;
    c->fa.fail_at = 0;
    call_begin(c, "record_commit");
    if (call_end(c, opg_slasher_record_commit(c->w.sl, e, n, c->w.h, c->w.t), 1) == OPG_OK)
        book_slasher(c);
}

static void op_fault(ctx *c)
{
    opg_fault_evidence ev;
    memset(&ev, 0, sizeof ev);
    ev.evidence_id = fw_id(5, fz_u8(&c->in) % 16);
    ev.node = fw_operator(arg_node(c));
    uint8_t back = fz_u8(&c->in);
    ev.infraction_height = c->w.h > back % 16 ? c->w.h - back % 16 : 1;
    /* the block time of that height is the registry's: stated, or now and then not */
    if (back >= 240 ||
        opg_registry_block_time(&ev.infraction_time, c->w.r, ev.infraction_height) != OPG_OK)
        ev.infraction_time = c->w.t - (opg_time)(back % 16) * 5;
    if (back >= 250) {
        ev.infraction_height = c->w.h + 1; /* the future */
        ev.infraction_time = c->w.t + 1;
    }
    ev.fault_class = fz_u8(&c->in) % 4; /* 0: no such class */
    ev.reporter = fw_operator(arg_node(c)); /* a verifier, another node, or the accused */
    opg_slasher_record rec;
    call_begin(c, "fault");
    if (call_end(c, opg_slasher_fault(&rec, c->w.sl, &ev, c->w.h, c->w.t), 1) == OPG_OK) {
        book_slasher(c);
        FZ_ASSERT(opg_slasher_evidence_seen(c->w.sl, &ev.evidence_id) == 1, "fault: evidence id not remembered");
    }
}

static void sign_vote(opg_slasher_vote *v, unsigned node, const char *chain_id)
{
    uint8_t msg[OPG_VOTE_SIGN_BYTES_MAX];
    size_t len = 0;
    if (opg_slasher_vote_sign_bytes(msg, sizeof msg, &len, chain_id, v) != OPG_OK)
        return; /* an out-of-range vote: left unsigned */
    crypto_sign_detached(v->signature, NULL, msg, len, fw_cons_secret(node));
}

static void op_double_sign(ctx *c)
{
    unsigned node = arg_node(c);
    uint8_t back = fz_u8(&c->in), flags = fz_u8(&c->in);
    opg_double_sign_evidence ev;
    memset(&ev, 0, sizeof ev);
    ev.consensus_key = fw_cons_key(node);
    opg_height vh = c->w.h > back % 16 ? c->w.h - back % 16 : 1;
    if (back >= 250)
        vh = c->w.h + 1;
    ev.vote_a.type = ev.vote_b.type = flags & 16 ? OPG_VOTE_PREVOTE : OPG_VOTE_PRECOMMIT;
    ev.vote_a.height = ev.vote_b.height = vh;
    ev.vote_a.round = ev.vote_b.round = flags >> 5;
    ev.vote_a.block_id[0] = 1;
    ev.vote_b.block_id[0] = flags & 1 ? 1 : 2; /* bit 0: the same block, no conflict */
    if (flags & 8)
        ev.vote_b.round++; /* different rounds: no conflict either */
    opg_slasher_params lp;
    opg_slasher_params_get(&lp, c->w.sl);
    sign_vote(&ev.vote_a, node, lp.chain_id);
    sign_vote(&ev.vote_b, node, lp.chain_id);
    if (flags & 2)
        ev.vote_b.signature[7] ^= 0x20; /* bit 1: a bad signature */
    /* the fields no signature covers: the registry's block time (or, back >= 240,
     * another), and power 0 (looked up) or the node's power now (which the history
     * may contradict) */
    if (back >= 240 || opg_registry_block_time(&ev.infraction_time, c->w.r, vh) != OPG_OK)
        ev.infraction_time = c->w.t - (opg_time)(back % 16) * 5;
    opg_node_info ni;
    memset(&ni, 0, sizeof ni);
    opg_id op = fw_operator(node);
    opg_registry_node_get(&ni, c->w.r, &op);
    ev.validator_power = (back >> 4) & 1 ? ni.power : 0;
    opg_slasher_record rec;
    call_begin(c, "double_sign");
    int rc;
    if (flags & 4) { /* bit 2: through the canonical bytes */
        opg_evidence e;
        memset(&e, 0, sizeof e);
        e.kind = OPG_EVIDENCE_DOUBLE_SIGN;
        e.double_sign = ev;
        uint8_t buf[OPG_EVIDENCE_DOUBLE_SIGN_SIZE];
        size_t len = 0;
        if (opg_slasher_evidence_encode(buf, sizeof buf, &len, &e) != OPG_OK)
            return;
        opg_evidence back_ev;
        FZ_ASSERT(opg_slasher_evidence_decode(&back_ev, buf, len) == OPG_OK, "evidence: decode(encode(x)) refused");
        rc = opg_slasher_submit_evidence(&rec, c->w.sl, buf, len, c->w.h, c->w.t);
    } else {
        rc = opg_slasher_double_sign(&rec, c->w.sl, &ev, c->w.h, c->w.t);
    }
    if (call_end(c, rc, 1) == OPG_OK) {
        book_slasher(c);
        FZ_ASSERT(!(flags & 3) && !(flags & 8), "double_sign accepted votes without a conflict or with a bad signature");
        FZ_ASSERT(opg_registry_node_get(&ni, c->w.r, &op) == OPG_OK && ni.tombstoned && ni.jailed,
                  "double_sign: the node is not jailed and tombstoned");
    }
}

/* CometBFT's misbehaviour records: a node's address (or none), a height back, its
 * power and the registry's block time (or, flags bit 1, another). */
static void op_misbehavior(ctx *c)
{
    opg_misbehavior m[3];
    int out[3];
    size_t n = fz_u8(&c->in) % 4;
    memset(m, 0, sizeof m);
    for (size_t i = 0; i < n; i++) {
        unsigned node = arg_node(c);
        uint8_t back = fz_u8(&c->in), flags = fz_u8(&c->in);
        opg_id key = fw_cons_key(node);
        opg_registry_consensus_address(m[i].validator_address, &key);
        m[i].type = flags % 4; /* 0 and 3: not equivocation, ignored */
        m[i].height = c->w.h > back % 32 ? c->w.h - back % 32 : 1;
        if (back >= 250)
            m[i].height = c->w.h + 1; /* the future: refused */
        if ((flags & 4) || opg_registry_block_time(&m[i].time, c->w.r, m[i].height) != OPG_OK)
            m[i].time = c->w.t;
        opg_node_info ni;
        memset(&ni, 0, sizeof ni);
        opg_id op = fw_operator(node);
        opg_registry_node_get(&ni, c->w.r, &op);
        m[i].validator_power = (flags & 8) ? ni.power : flags >> 4;
        m[i].total_voting_power = 1;
    }
    call_begin(c, "misbehavior");
    if (call_end(c, opg_slasher_misbehavior(out, c->w.sl, m, n, c->w.h, c->w.t), 1) == OPG_OK) {
        book_slasher(c);
        size_t slashed = 0;
        for (size_t i = 0; i < n; i++) {
            slashed += out[i] == OPG_OK;
            FZ_ASSERT(out[i] == OPG_OK || out[i] == OPG_EEVIDENCE || out[i] == OPG_ENOTFOUND ||
                          out[i] == OPG_ETOMBSTONED || out[i] == OPG_ESTATUS ||
                          out[i] == OPG_EEXPIRED,
                      "misbehavior: an outcome outside the documented set");
            if (out[i] == OPG_OK) {
                opg_id who;
                FZ_ASSERT(opg_registry_node_by_address(&who, c->w.r, m[i].validator_address) ==
                              OPG_OK,
                          "misbehavior: a slashed address has no node");
                opg_node_info ni;
                FZ_ASSERT(opg_registry_node_get(&ni, c->w.r, &who) == OPG_OK && ni.tombstoned &&
                              ni.jailed && ni.jailed_until == OPG_TIME_FOREVER,
                          "misbehavior: a slashed node is not jailed for ever and tombstoned");
            }
        }
        size_t nrec;
        opg_slasher_slashes(c->w.sl, &nrec);
        FZ_ASSERT(nrec == slashed, "misbehavior: records differ from the slashed outcomes");
    }
}

/* ---------------------------------------------------- deferred slashes */

static void op_set_defer(ctx *c)
{
    static const char *const D[] = {"0", "1", "60", "3600", "86400", "1814400", "1814401"};
    uint8_t b = fz_u8(&c->in);
    call_begin(c, "slasher_param_set");
    call_end(c, opg_slasher_param_set(c->w.sl, "slashing.defer_duration", D[b % 7]), 0);
}

/* The pending slashes change only as documented: a refused call changes nothing
 * (call_end), an applied slash leaves the list, the rest stay. */
static void op_slasher_end_block(ctx *c)
{
    size_t before = opg_slasher_pending_count(c->w.sl), due = 0;
    opg_pending_slash ps;
    uint64_t ids[64];
    opg_u256 totals[64];
    for (size_t i = 0; i < before; i++) {
        FZ_ASSERT(opg_slasher_pending_at(&ps, c->w.sl, i) == OPG_OK, "pending_at in range");
        if (ps.due_time <= c->w.t && due < 64) {
            ids[due] = ps.id;
            totals[due] = ps.total;
        }
        due += ps.due_time <= c->w.t;
        FZ_ASSERT(opg_u256_cmp(&ps.total, &ps.node_part) >= 0, "pending: total below its node part");
    }
    call_begin(c, "slasher_end_block");
    if (call_end(c, opg_slasher_end_block(c->w.sl, c->w.h, c->w.t), 1) == OPG_OK) {
        book_slasher(c);
        size_t n;
        const opg_slasher_record *rec = opg_slasher_slashes(c->w.sl, &n);
        FZ_ASSERT(n == due && opg_slasher_pending_count(c->w.sl) == before - due,
                  "slasher_end_block: applied %zu of %zu due", n, due);
        for (size_t i = 0; i < n; i++) {
            FZ_ASSERT(rec[i].pending_id != 0 && (i == 0 || rec[i - 1].pending_id != rec[i].pending_id),
                      "slasher_end_block: a record without its pending id");
            for (size_t k = 0; k < due && k < 64; k++)
                FZ_ASSERT(ids[k] != rec[i].pending_id ||
                              opg_u256_cmp(&rec[i].slash.burned_total, &totals[k]) <= 0,
                          "slasher_end_block: took more than the plan's total");
        }
    }
}

static void op_cancel_slash(ctx *c)
{
    size_t n = opg_slasher_pending_count(c->w.sl);
    uint8_t b = fz_u8(&c->in);
    opg_pending_slash ps;
    memset(&ps, 0, sizeof ps);
    uint64_t id = 1000 + b;
    if (b % (n + 1) < n && opg_slasher_pending_at(&ps, c->w.sl, b % (n + 1)) == OPG_OK)
        id = ps.id;
    opg_dec f = arg_fraction(c);
    call_begin(c, "cancel_slash");
    if (call_end(c, opg_slasher_cancel_deferred(c->w.sl, id, &f), 0) == OPG_OK) {
        opg_pending_slash after;
        int rc = opg_slasher_pending_get(&after, c->w.sl, id);
        opg_dec one;
        opg_dec_from_u64(&one, 1);
        FZ_ASSERT(opg_dec_cmp(&f, &one) == 0 ? rc == OPG_ENOTFOUND
                                             : rc == OPG_OK && opg_u256_cmp(&after.total, &ps.total) <= 0,
                  "cancel_slash: the pending slash is not what the cancel leaves");
    }
}

/* ------------------------------------------------------------- the tally */

/* A proposal id: one of the open proposals, or (last choice) one that is not. */
static uint64_t arg_proposal(ctx *c, opg_proposal_info *pi)
{
    size_t n = opg_tally_proposal_count(c->w.ta);
    uint8_t b = fz_u8(&c->in);
    memset(pi, 0, sizeof *pi);
    if (b % (n + 1) < n && opg_tally_proposal_at(pi, c->w.ta, b % (n + 1)) == OPG_OK)
        return pi->id;
    return 1000 + b;
}

/* Some keys of every namespace, and keys nothing answers to. */
static const char *const GOV_KEYS[] = {
    "gov.quorum", "gov.threshold", "gov.min_deposit", "gov.voting_period", "gov.burn_vote_veto",
    "staking.max_validators", "distribution.community_tax", "mint.inflation_max",
    "fees.gpu.target", "fees.split", "slashing.signed_blocks_window", "evidence.max_age_num_blocks",
    "nothing.here", "gov.no_such_key", "slashing.reporter_share", "emission.half_life"};
#define N_GOV_KEYS (sizeof GOV_KEYS / sizeof GOV_KEYS[0])

static void op_propose(ctx *c)
{
    opg_proposal_submit ps;
    memset(&ps, 0, sizeof ps);
    ps.proposer = arg_account(c);
    uint8_t f = fz_u8(&c->in);
    ps.kind = (opg_proposal_kind)(f % 4); /* 3: an ADD_VALIDATOR without its validator */
    ps.expedited = (f >> 2) & 1;
    if (f >= 0xf8)
        ps.expedited = 2; /* refused */
    ps.initial_deposit = arg_amount(c, NULL);
    if (!fw_can_pay(&c->w, &ps.initial_deposit))
        return;
    ps.title = (f >> 3) & 1 ? "title" : NULL;
    ps.summary = (f >> 4) & 1 ? "summary" : NULL;
    opg_param_change ch[4];
    char vals[4][64];
    size_t n = (f >> 5) % 5; /* 4: none, so a parameter change is refused */
    if (n == 4)
        n = 0;
    else
        n++;
    for (size_t i = 0; i < n; i++) {
        uint8_t k = fz_u8(&c->in), v = fz_u8(&c->in);
        ch[i].key = GOV_KEYS[k % N_GOV_KEYS];
        snprintf(vals[i], sizeof vals[i], "%s", VALUES[v % N_VALUES]);
        ch[i].value = vals[i];
    }
    ps.changes = ps.kind == OPG_PROPOSAL_PARAMS ? ch : NULL;
    ps.change_count = ps.kind == OPG_PROPOSAL_PARAMS ? n : 0;
    static const uint8_t payload[5] = {1, 2, 3, 4, 5};
    ps.payload = ps.kind == OPG_PROPOSAL_PAYLOAD ? payload : NULL;
    ps.payload_len = ps.kind == OPG_PROPOSAL_PAYLOAD ? 1 + n : 0;
    uint64_t id = 0;
    call_begin(c, "propose");
    if (call_end(c, opg_tally_submit(&id, c->w.ta, &ps, c->w.t), 0) == OPG_OK)
        fw_add_amount(&c->w.led.host_out, &ps.initial_deposit);
}

static void op_deposit(ctx *c)
{
    opg_proposal_info pi;
    uint64_t id = arg_proposal(c, &pi);
    opg_id who = arg_account(c);
    opg_u256 amt = arg_amount(c, NULL);
    if (!fw_can_pay(&c->w, &amt))
        return;
    int started = -1;
    call_begin(c, "deposit");
    if (call_end(c, opg_tally_deposit(&started, c->w.ta, id, &who, &amt, c->w.t), 0) == OPG_OK) {
        fw_add_amount(&c->w.led.host_out, &amt);
        opg_proposal_info after;
        FZ_ASSERT(opg_tally_proposal_get(&after, c->w.ta, id) == OPG_OK, "deposit: proposal gone");
        FZ_ASSERT(started == (pi.status == OPG_PROPOSAL_DEPOSIT_PERIOD && after.status == OPG_PROPOSAL_VOTING_PERIOD),
                  "deposit: voting_started disagrees with the status");
    }
}

static void op_vote(ctx *c)
{
    opg_proposal_info pi;
    uint64_t id = arg_proposal(c, &pi);
    opg_id who = arg_account(c);
    uint8_t o = fz_u8(&c->in);
    call_begin(c, "vote");
    int rc;
    if (o < 200) {
        rc = opg_tally_vote_option(c->w.ta, id, &who, (opg_vote_option)(o % 6)); /* 0, 5: invalid */
    } else {
        opg_weighted_vote wv[5];
        size_t n = fz_u8(&c->in) % 6; /* 0 and 5: invalid */
        for (size_t i = 0; i < n; i++) {
            wv[i].option = (opg_vote_option)(fz_u8(&c->in) % 5);
            wv[i].weight = arg_fraction(c);
        }
        rc = opg_tally_vote(c->w.ta, id, &who, wv, n);
    }
    if (call_end(c, rc, 0) == OPG_OK) {
        opg_weighted_vote got[4];
        size_t n = 0;
        FZ_ASSERT(opg_tally_vote_get(got, &n, c->w.ta, id, &who) == OPG_OK && n >= 1 && n <= 4,
                  "vote: not recorded");
    }
}

static void op_tally_end_block(ctx *c)
{
    opg_supply_info s0, s1;
    opg_registry_supply(&s0, c->w.r);
    call_begin(c, "tally_end_block");
    if (call_end(c, opg_tally_end_block(c->w.ta, c->w.h, c->w.t), 0) != OPG_OK)
        return;
    fw_book_tally(&c->w);
    /* governance actions: their registry events (the call opened a registry call
     * only then), the stake ADD mints and REMOVE burns (the ledger's change beyond
     * the deposits the tally burned) */
    size_t n = 0;
    const opg_tally_closed *cl = opg_tally_closed_list(c->w.ta, &n);
    int acted = 0;
    opg_u256 dep_burned = {{0, 0, 0, 0}};
    for (size_t i = 0; i < n; i++) {
        if (trace)
            fprintf(stderr, "  closed %llu: kind %d outcome %d code %s\n", (unsigned long long)cl[i].proposal_id,
                    (int)cl[i].kind, (int)cl[i].outcome, opg_errname(cl[i].failed_code));
        int action = cl[i].kind == OPG_PROPOSAL_ADD_VALIDATOR || cl[i].kind == OPG_PROPOSAL_REMOVE_VALIDATOR;
        acted |= action && cl[i].outcome == OPG_TALLY_PASSED;
        FZ_ASSERT(cl[i].outcome != OPG_TALLY_FAILED ||
                      (cl[i].failed_code < 0 && cl[i].failed_code != OPG_ENOMEM &&
                       cl[i].failed_code != OPG_EINVARIANT),
                  "tally_end_block: FAILED with %s", opg_errname(cl[i].failed_code));
        FZ_ASSERT(opg_u256_add(&dep_burned, &dep_burned, &cl[i].burned) == OPG_OK, "burns overflow");
    }
    opg_registry_supply(&s1, c->w.r);
    if (!acted) {
        FZ_ASSERT(opg_u256_cmp(&s0.minted, &s1.minted) == 0, "tally_end_block: minted without an action");
        return;
    }
    fw_book_events(&c->w, NULL, NULL, NULL);
    opg_u256 d;
    FZ_ASSERT(opg_u256_sub(&d, &s1.minted, &s0.minted) == OPG_OK, "tally_end_block: minted shrank");
    fz_big_add_u256(&c->w.led.minted, &d);
    FZ_ASSERT(opg_u256_sub(&d, &s1.burned, &s0.burned) == OPG_OK &&
                  opg_u256_sub(&d, &d, &dep_burned) == OPG_OK,
              "tally_end_block: burned less than the deposits");
    fz_big_add_u256(&c->w.led.burned, &d);
}

/* A governance-action proposal: ADD (the node's usual shape, its key or another
 * node's) or REMOVE of a node's self-delegation, or (bit 4) CANCEL_SLASH of a pending
 * slash (the node choice picks it; bit 5: wholly, else in half; none pending: an id
 * that is not). */
static void op_propose_validator(ctx *c)
{
    opg_proposal_submit ps;
    memset(&ps, 0, sizeof ps);
    ps.proposer = arg_account(c);
    uint8_t f = fz_u8(&c->in);
    unsigned n = arg_node(c);
    opg_u256 self = arg_amount(c, NULL);
    opg_u256 min_self = arg_amount(c, &self);
    ps.initial_deposit = arg_amount(c, NULL);
    if (!fw_can_pay(&c->w, &ps.initial_deposit))
        return;
    ps.expedited = (f >> 1) & 1;
    opg_node_create nc;
    opg_id op = fw_operator(n);
    memset(&nc, 0, sizeof nc);
    if ((f >> 4) & 1) {
        ps.kind = OPG_PROPOSAL_CANCEL_SLASH;
        size_t np = opg_slasher_pending_count(c->w.sl);
        opg_pending_slash pend;
        ps.slash_id = 1000 + n;
        if (np && opg_slasher_pending_at(&pend, c->w.sl, n % np) == OPG_OK)
            ps.slash_id = pend.id;
        ps.cancel_fraction = (f >> 5) & 1 ? fz_dec_frac(1, 1) : fz_dec_frac(1, 2);
    } else if (f & 1) {
        ps.kind = OPG_PROPOSAL_REMOVE_VALIDATOR;
        ps.operator_id = &op;
    } else {
        ps.kind = OPG_PROPOSAL_ADD_VALIDATOR;
        nc.operator_id = op;
        nc.consensus_key = fw_cons_key(n);
        /* bit 2: the key of node n + 1 if that node holds it (so the ADD is refused:
         * the world keeps node k's key for operator k, which evidence relies on) */
        opg_id other = fw_cons_key((n + 1) % (FW_MAX_NODES + 1)), holder;
        if ((f >> 2) & 1 && opg_registry_node_by_consensus_key(&holder, c->w.r, &other) == OPG_OK)
            nc.consensus_key = other;
        nc.roles = OPG_ROLE_ALL;
        nc.commission_rate = (f >> 3) & 1 ? fz_dec_frac(1, 100) : fz_dec_frac(1, 10);
        opg_dec_from_u64(&nc.commission_max_rate, 1);
        nc.commission_max_change_rate = fz_dec_frac(1, 10);
        nc.min_self_delegation = min_self;
        nc.self_delegation = self;
        ps.validator = &nc;
    }
    uint64_t id = 0;
    call_begin(c, "propose_validator");
    if (call_end(c, opg_tally_submit(&id, c->w.ta, &ps, c->w.t), 0) == OPG_OK) {
        fw_add_amount(&c->w.led.host_out, &ps.initial_deposit);
        opg_proposal_action act;
        FZ_ASSERT(opg_tally_proposal_action(&act, c->w.ta, id) == OPG_OK && act.kind == ps.kind,
                  "propose_validator: the action is not there");
    }
}

static void op_set_poa(ctx *c)
{
    uint8_t b = fz_u8(&c->in);
    call_begin(c, "set_poa");
    call_end(c, opg_registry_param_set(c->w.r, "staking.poa", b & 1 ? "true" : "false"), 0);
}

static void op_cancel_proposal(ctx *c)
{
    opg_proposal_info pi;
    uint64_t id = arg_proposal(c, &pi);
    uint8_t b = fz_u8(&c->in);
    opg_id who = b < 200 ? pi.proposer : fw_account(b % (FW_MAX_ACCOUNTS + 1));
    call_begin(c, "cancel_proposal");
    if (call_end(c, opg_tally_cancel(c->w.ta, id, &who, c->w.t), 0) == OPG_OK) {
        fw_book_tally(&c->w);
        FZ_ASSERT(opg_tally_proposal_get(&pi, c->w.ta, id) == OPG_ENOTFOUND, "cancel: the proposal is still open");
    }
}

/* A vote with conviction (Extension): when the flag asks, the extension is turned on
 * first (a separate call). A vote taken is recorded with its conviction, and its
 * voter's lock reaches at least voting_end + periods * vote_locking_period. */
static void op_vote_conviction(ctx *c)
{
    opg_proposal_info pi;
    uint64_t id = arg_proposal(c, &pi);
    opg_id who = arg_account(c);
    uint8_t o = fz_u8(&c->in), f = fz_u8(&c->in);
    if (f & 0x80) {
        call_begin(c, "tally_param_set");
        call_end(c, opg_tally_param_set(c->w.ta, "gov.conviction_voting", "true"), 0);
    }
    unsigned conv = (f & 0x7f) % 9; /* 7, 8: refused */
    opg_weighted_vote wv;
    wv.option = (opg_vote_option)(o % 6); /* 0, 5: invalid */
    opg_dec_from_u64(&wv.weight, 1);
    opg_time before = 0;
    int had = opg_tally_lock_get(&before, c->w.ta, &who) == OPG_OK;
    call_begin(c, "vote_conviction");
    if (call_end(c, opg_tally_vote_conviction(c->w.ta, id, &who, &wv, 1, conv, c->w.t), 0) == OPG_OK) {
        unsigned got = 99;
        FZ_ASSERT(opg_tally_vote_conviction_get(&got, c->w.ta, id, &who) == OPG_OK && got == conv,
                  "vote_conviction: not recorded");
        opg_tally_params tp;
        opg_tally_params_get(&tp, c->w.ta);
        FZ_ASSERT(tp.conviction_voting, "vote_conviction: taken with the extension off");
        opg_time until = 0;
        int has = opg_tally_lock_get(&until, c->w.ta, &who) == OPG_OK;
        FZ_ASSERT(has == (had || conv > 0), "vote_conviction: lock presence");
        FZ_ASSERT(!had || until >= before, "vote_conviction: a lock shrank");
        if (conv > 0) {
            static const int64_t periods[7] = {0, 1, 2, 4, 8, 16, 32};
            opg_time span = tp.vote_locking_period > OPG_TIME_FOREVER / periods[conv]
                                ? OPG_TIME_FOREVER
                                : tp.vote_locking_period * periods[conv];
            opg_time want = pi.voting_end > OPG_TIME_FOREVER - span ? OPG_TIME_FOREVER
                                                                    : pi.voting_end + span;
            FZ_ASSERT(until >= want, "vote_conviction: lock below voting_end + periods * L");
        }
    }
}

typedef void (*op_fn)(ctx *c);
static const op_fn OPS[OP_COUNT_] = {
    op_delegate, op_undelegate, op_redelegate, op_cancel, op_node_create, op_end_block,
    op_mint, op_allocate, op_allocate_to_node, op_add_fees, op_withdraw_rewards,
    op_withdraw_commission, op_slash, op_jail, op_unjail, op_tombstone, op_set_commission,
    op_set_min_self, op_set_roles, op_quote, op_charge, op_pricer_end_block, op_class_set,
    op_class_remove, op_param_set, op_pause, op_resume, op_pool_spend, op_fund_pool,
    op_supply_mint, op_supply_burn, NULL /* save_load */, NULL /* arm_oom */,
    op_record_commit, op_fault, op_double_sign, op_propose, op_deposit, op_vote,
    op_tally_end_block, op_cancel_proposal, op_misbehavior, op_propose_validator, op_set_poa,
    op_set_defer, op_slasher_end_block, op_cancel_slash, op_vote_conviction};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ctx c;
    memset(&c, 0, sizeof c);
    c.in.p = data;
    c.in.len = size;
    world_new(&c);
    for (c.step = 0; c.step < FZ_MAX_STEPS && fz_more(&c.in); c.step++) {
        uint8_t opcode = fz_u8(&c.in) % OP_COUNT_;
        if (opcode == OP_ARM_OOM) {
            /* fail the k-th allocation from here on, for the next operation only */
            c.fa.fail_at = c.fa.calls + 1 + fz_u8(&c.in) % 8;
            c.oom_armed = 1;
            continue;
        }
        if (opcode == OP_SAVE_LOAD)
            fw_save_load_swap(&c.w);
        else
            OPS[opcode](&c);
        c.fa.fail_at = 0;
        c.oom_armed = 0;
        fw_check(&c.w, c.opname ? c.opname : "save_load");
        if (c.step % FZ_SAVE_EVERY == FZ_SAVE_EVERY - 1)
            fw_save_load_swap(&c.w);
    }
    fw_save_load_swap(&c.w);
    fw_check(&c.w, "the last save_load");
    fw_free(&c.w);
    FZ_ASSERT(c.fa.live_bytes == 0 && c.fa.live_blocks == 0, "%lld bytes left allocated",
              c.fa.live_bytes);
    return 0;
}
