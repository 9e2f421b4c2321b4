/*
 * fuzz_params.c - parameters by key and text, on every handle.
 *
 * Input: one byte choosing the splitter's emission schedule, then records
 *   [handle] [key] [value length] [value bytes]
 * handle: which handle (registry, splitter, pricer, slasher; modulo their number);
 * key: below 0xf0 the (key % count)-th key of that handle, else a key text follows
 * as [length] [bytes]; the value is any bytes up to the first NUL. At most 32
 * records.
 *
 * Oracle, for every set:
 *   - a refusal is OPG_EKEY (exactly for names that are not keys), OPG_EPARSE or
 *     OPG_EINVAL, and leaves every state hash unchanged;
 *   - an accepted value reads back as text that is accepted again without changing
 *     anything (the text get returns is canonical), and the handle still saves,
 *     loads and saves to the same bytes;
 *   - the invariants of every handle hold (fuzz_world.h).
 * After the records, the world runs a few blocks under the new parameters (mint,
 * fees, allocation, withdrawals, charges, a commit with a missed signature, a
 * faulty-inference report, end_block of every handle, a slash) with
 * the same checks, so a parameter the rules accept cannot break a later call.
 */
#include "fuzz_world.h"

#define MAX_RECORDS 32

typedef struct phandle {
    const char *name;
    int (*set)(fw_world *w, const char *key, const char *value);
    int (*get)(fw_world *w, const char *key, char *buf, size_t cap, size_t *needed);
    const char *(*key)(fw_world *w, size_t i);
} phandle;

static int reg_set(fw_world *w, const char *k, const char *v) { return opg_registry_param_set(w->r, k, v); }
static int reg_get(fw_world *w, const char *k, char *b, size_t c, size_t *n)
{
    return opg_registry_param_get(b, c, n, w->r, k);
}
static const char *reg_key(fw_world *w, size_t i) { (void)w; return opg_registry_param_key(i); }

static int spl_set(fw_world *w, const char *k, const char *v) { return opg_splitter_param_set(w->s, k, v); }
static int spl_get(fw_world *w, const char *k, char *b, size_t c, size_t *n)
{
    return opg_splitter_param_get(b, c, n, w->s, k);
}
static const char *spl_key(fw_world *w, size_t i) { (void)w; return opg_splitter_param_key(i); }

static int prc_set(fw_world *w, const char *k, const char *v) { return opg_pricer_param_set(w->p, k, v); }
static int prc_get(fw_world *w, const char *k, char *b, size_t c, size_t *n)
{
    return opg_pricer_param_get(b, c, n, w->p, k);
}
static const char *prc_key(fw_world *w, size_t i) { return opg_pricer_param_key(w->p, i); }

static int sla_set(fw_world *w, const char *k, const char *v) { return opg_slasher_param_set(w->sl, k, v); }
static int sla_get(fw_world *w, const char *k, char *b, size_t c, size_t *n)
{
    return opg_slasher_param_get(b, c, n, w->sl, k);
}
static const char *sla_key(fw_world *w, size_t i) { (void)w; return opg_slasher_param_key(i); }

static const phandle HANDLES[] = {
    {"registry", reg_set, reg_get, reg_key},
    {"splitter", spl_set, spl_get, spl_key},
    {"pricer", prc_set, prc_get, prc_key},
    {"slasher", sla_set, sla_get, sla_key},
    /* plug-in: {"tally", ...}, {"hyper", ...} */
};
#define N_HANDLES (sizeof HANDLES / sizeof HANDLES[0])

static size_t key_count(const phandle *ph, fw_world *w)
{
    size_t n = 0;
    while (ph->key(w, n))
        n++;
    return n;
}

static int is_key(const phandle *ph, fw_world *w, const char *key)
{
    for (size_t i = 0; ph->key(w, i); i++)
        if (strcmp(ph->key(w, i), key) == 0)
            return 1;
    return 0;
}

static void world_new(fw_world *w, failalloc *fa, uint8_t emission)
{
    memset(w, 0, sizeof *w);
    failalloc_init(fa, 0);
    w->fa = fa;
    w->alloc = failalloc_allocator(fa);
    w->all_accounts_known = 1;
    w->h = 1;
    w->t = 1000000;
    opg_u256 genesis = fz_pow10(30);
    opg_registry_params rp;
    opg_registry_params_init(&rp);
    rp.unbonding_time = 100;
    FZ_ASSERT(opg_registry_new(&w->r, &rp, &genesis, &w->alloc) == OPG_OK, "registry_new");
    opg_splitter_params sp;
    opg_splitter_params_init(&sp);
    sp.emission = (opg_emission_kind)(emission % 4);
    sp.pool_amount = fz_pow10(28);
    sp.pool_start = w->t;
    sp.half_life = 365 * 86400;
    sp.duration = 86400;
    FZ_ASSERT(opg_splitter_new(&w->s, w->r, &sp, &w->alloc) == OPG_OK, "splitter_new");
    opg_pricer_params pp;
    opg_pricer_params_init(&pp);
    pp.dimension_count = 2;
    strcpy(pp.dimensions[0].name, "gpu");
    pp.dimensions[0].target = fz_u256_u64(10);
    pp.dimensions[0].limit = fz_u256_u64(20);
    strcpy(pp.dimensions[1].name, "tokens");
    pp.dimensions[1].controller = OPG_PRICER_EXPONENTIAL;
    pp.dimensions[1].target = fz_u256_u64(100);
    pp.dimensions[1].limit = fz_u256_u64(1000);
    pp.dimensions[1].min_base_fee = fz_u256_u64(7);
    pp.dimensions[1].initial_base_fee = fz_u256_u64(7);
    pp.dimensions[1].update_fraction = 50;
    pp.split.inference = fz_dec_frac(1, 2);
    pp.split.verifiers = fz_dec_frac(1, 4);
    pp.split.stakers = fz_dec_frac(1, 4);
    opg_pricer_class cls;
    memset(&cls, 0, sizeof cls);
    cls.id = 1;
    opg_dec_from_u64(&cls.multiplier[0], 1);
    opg_dec_from_u64(&cls.multiplier[1], 2);
    pp.classes = &cls;
    pp.class_count = 1;
    FZ_ASSERT(opg_pricer_new(&w->p, &pp, &w->alloc) == OPG_OK, "pricer_new");
    opg_slasher_params lp;
    opg_slasher_params_init(&lp);
    lp.signed_blocks_window = 10;
    opg_fault_class fc = {1, fz_dec_frac(1, 10), 600, 0};
    lp.fault_classes = &fc;
    lp.fault_class_count = 1;
    FZ_ASSERT(opg_slasher_new(&w->sl, w->r, &lp, &w->alloc) == OPG_OK, "slasher_new");
    /* plug-in: tally, hyper */
    fw_ledger_reset(w);

    /* three nodes with a delegator each, bonded */
    for (unsigned n = 0; n < 3; n++) {
        opg_node_create nc;
        memset(&nc, 0, sizeof nc);
        nc.operator_id = fw_operator(n);
        nc.consensus_key = fw_cons_key(n);
        nc.roles = OPG_ROLE_ALL;
        nc.commission_rate = fz_dec_frac(n + 1, 10);
        opg_dec_from_u64(&nc.commission_max_rate, 1);
        nc.commission_max_change_rate = fz_dec_frac(1, 10);
        nc.min_self_delegation = fz_u256_u64(1);
        nc.self_delegation = fz_pow10(24);
        FZ_ASSERT(opg_registry_node_create(w->r, &nc, w->h, w->t) == OPG_OK, "node_create");
        fw_add_amount(&w->led.host_out, &nc.self_delegation);
        opg_id d = fw_delegator(n);
        opg_u256 amt = fz_pow10(23);
        FZ_ASSERT(opg_registry_delegate(NULL, w->r, &d, &nc.operator_id, &amt, w->h, w->t) == OPG_OK,
                  "delegate");
        fw_add_amount(&w->led.host_out, &amt);
        fw_book_events(w, NULL, NULL, NULL);
    }
    FZ_ASSERT(opg_registry_end_block(w->r, w->h, w->t) == OPG_OK, "end_block");
    fw_book_events(w, NULL, NULL, NULL);
    fw_check(w, "genesis");
}

static void set_one(fw_world *w, const phandle *ph, const char *key, const char *value)
{
    fw_hashes h0, h1;
    fw_hash_all(&h0, w);
    int rc = ph->set(w, key, value);
    int known = is_key(ph, w, key);
    if (rc != OPG_OK) {
        FZ_ASSERT(rc == OPG_EKEY || rc == OPG_EPARSE || rc == OPG_EINVAL,
                  "%s param_set(%s, \"%s\"): %s", ph->name, key, value, opg_errname(rc));
        FZ_ASSERT((rc == OPG_EKEY) == !known, "%s param_set(%s): EKEY %s a key of the list", ph->name,
                  key, known ? "for" : "missing for");
        fw_hash_all(&h1, w);
        const char *d = fw_hash_diff(&h0, &h1, w);
        FZ_ASSERT(d == NULL, "%s param_set(%s, \"%s\") refused with %s but changed the %s state",
                  ph->name, key, value, opg_errname(rc), d ? d : "");
        return;
    }
    FZ_ASSERT(known, "%s param_set accepted \"%s\", which is not in the key list", ph->name, key);
    char got[512], again[512];
    size_t need = 0;
    rc = ph->get(w, key, got, sizeof got, &need);
    FZ_ASSERT(rc == OPG_OK && need == strlen(got) + 1, "%s param_get(%s): %s", ph->name, key,
              opg_errname(rc));
    /* too small a buffer: EBUFS with the size */
    if (need > 1) {
        size_t need2 = 0;
        char small[1];
        rc = ph->get(w, key, small, 1, &need2);
        FZ_ASSERT(rc == OPG_EBUFS && need2 == need, "%s param_get(%s) into 1 byte: %s, needed %zu",
                  ph->name, key, opg_errname(rc), need2);
    }
    fw_hash_all(&h0, w);
    rc = ph->set(w, key, got);
    FZ_ASSERT(rc == OPG_OK, "%s param_set(%s, \"%s\") of the value read back: %s", ph->name, key, got,
              opg_errname(rc));
    fw_hash_all(&h1, w);
    const char *d = fw_hash_diff(&h0, &h1, w);
    FZ_ASSERT(d == NULL, "%s param_set(%s) of the value read back changed the %s state", ph->name,
              key, d ? d : "");
    rc = ph->get(w, key, again, sizeof again, NULL);
    FZ_ASSERT(rc == OPG_OK && strcmp(got, again) == 0, "%s param_get(%s) not stable: \"%s\" then \"%s\"",
              ph->name, key, got, again);
}

/* A few blocks under whatever parameters are now set. */
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

static int call_end(call *c, int rc)
{
    if (rc == OPG_OK)
        return rc;
    FZ_ASSERT(rc < 0 && rc >= OPG_ERROR_LAST_ && rc != OPG_ENOMEM && rc != OPG_EINVARIANT,
              "%s under fuzzed parameters: %s", c->name, opg_errname(rc));
    fw_hashes after;
    fw_hash_all(&after, c->w);
    const char *d = fw_hash_diff(&c->before, &after, c->w);
    FZ_ASSERT(d == NULL, "%s refused with %s but changed the %s state", c->name, opg_errname(rc), d ? d : "");
    return rc;
}

static void run_blocks(fw_world *w)
{
    call c;
    for (int b = 0; b < 3; b++) {
        w->h++;
        w->t += b == 2 ? 30 * 86400 : 5;
        opg_u256 amt, paid;
        int pool = fw_is_pool(w);
        call_begin(&c, w, "mint");
        if (call_end(&c, opg_splitter_mint(&amt, w->s, w->h, w->t)) == OPG_OK) {
            fw_add_amount(&w->led.spl_in, &amt);
            if (pool)
                FZ_ASSERT(opg_u256_sub(&w->led.reserve, &w->led.reserve, &amt) == OPG_OK, "pool overdrawn");
            else
                fz_big_add_u256(&w->led.minted, &amt);
        }
        fw_check(w, "mint");

        /* a request through the pricer, its stakers' part to the splitter */
        opg_pricer_request rq;
        memset(&rq, 0, sizeof rq);
        rq.model_class = 1;
        rq.units[0] = fz_u256_u64(3);
        rq.units[1] = fz_u256_u64(40);
        opg_pricer_price q;
        int qrc = opg_pricer_quote(&q, w->p, &rq);
        opg_pricer_receipt r;
        opg_u256 va[2], zero = fz_u256_u64(0);
        opg_id vs[2] = {fw_verifier(1), fw_verifier(2)};
        call_begin(&c, w, "charge");
        int crc = call_end(&c, opg_pricer_charge(&r, va, w->p, &rq, &FZ_U256_MAX, &zero, vs, 2));
        FZ_ASSERT(crc == qrc, "quote %s, charge %s", opg_errname(qrc), opg_errname(crc));
        if (crc == OPG_OK) {
            fz_check_receipt(&r, &q, &FZ_U256_MAX, &zero, va, 2);
            call_begin(&c, w, "add_fees");
            if (!opg_u256_is_zero(&r.stakers) && call_end(&c, opg_splitter_add_fees(w->s, &r.stakers)) == OPG_OK) {
                fw_add_amount(&w->led.host_out, &r.stakers);
                fw_add_amount(&w->led.spl_in, &r.stakers);
            }
        }
        fw_check(w, "charge");

        opg_commit_vote v[3];
        for (unsigned n = 0; n < 3; n++) {
            opg_node_info ni;
            opg_id op = fw_operator(n);
            memset(&ni, 0, sizeof ni);
            opg_registry_node_get(&ni, w->r, &op);
            v[n].consensus_key = fw_cons_key(n);
            v[n].power = ni.power;
            v[n].score = fz_dec_frac(n + 1, 4);
        }
        call_begin(&c, w, "allocate");
        call_end(&c, opg_splitter_allocate(w->s, v, 3, w->h, w->t));
        fw_check(w, "allocate");

        opg_id op = fw_operator((unsigned)b), d = fw_delegator((unsigned)b);
        call_begin(&c, w, "withdraw_rewards");
        if (call_end(&c, opg_splitter_withdraw_rewards(&paid, w->s, &d, &op, w->h, w->t)) == OPG_OK)
            fw_book_events(w, NULL, NULL, NULL);
        fw_check(w, "withdraw_rewards");
        opg_u256 half = fz_pow10(22);
        call_begin(&c, w, "undelegate");
        if (call_end(&c, opg_registry_undelegate(NULL, NULL, w->r, &d, &op, &half, w->h, w->t)) == OPG_OK)
            fw_book_events(w, NULL, NULL, NULL);
        fw_check(w, "undelegate");
        if (b == 1) {
            opg_node_info ni;
            opg_registry_node_get(&ni, w->r, &op);
            opg_dec frac = fz_dec_frac(1, 20);
            opg_slash_result sr;
            call_begin(&c, w, "slash");
            if (call_end(&c, opg_registry_slash(&sr, w->r, &op, w->h - 1, ni.power, &frac, w->h, w->t)) == OPG_OK)
                fw_book_events(w, NULL, NULL, NULL);
            fw_check(w, "slash");
        }

        /* the last commit, node 2 absent: liveness under the fuzzed window */
        opg_commit_sig cs[3];
        for (unsigned n = 0; n < 3; n++) {
            cs[n].consensus_key = fw_cons_key(n);
            cs[n].power = v[n].power;
            cs[n].signed_block = n != 2;
        }
        call_begin(&c, w, "record_commit");
        if (call_end(&c, opg_slasher_record_commit(w->sl, cs, 3, w->h, w->t)) == OPG_OK)
            fw_book_events(w, NULL, NULL, NULL);
        fw_check(w, "record_commit");
        opg_fault_evidence fe;
        memset(&fe, 0, sizeof fe);
        fe.evidence_id = fw_id(5, (unsigned)b);
        fe.node = fw_operator(0);
        fe.infraction_height = w->h;
        (void)opg_registry_block_time(&fe.infraction_time, w->r, w->h);
        fe.fault_class = 1;
        fe.reporter = fw_operator(1); /* a verification node */
        call_begin(&c, w, "fault");
        if (call_end(&c, opg_slasher_fault(NULL, w->sl, &fe, w->h, w->t)) == OPG_OK)
            fw_book_events(w, NULL, NULL, NULL);
        fw_check(w, "fault");

        call_begin(&c, w, "pricer end_block");
        FZ_ASSERT(opg_pricer_end_block(NULL, w->p) == OPG_OK, "pricer end_block");
        call_begin(&c, w, "end_block");
        if (call_end(&c, opg_registry_end_block(w->r, w->h, w->t)) == OPG_OK)
            fw_book_events(w, NULL, NULL, NULL);
        fw_check(w, "end_block");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size, 0};
    failalloc fa;
    fw_world w;
    world_new(&w, &fa, fz_u8(&in));
    for (int rec = 0; rec < MAX_RECORDS && fz_more(&in); rec++) {
        const phandle *ph = &HANDLES[fz_u8(&in) % N_HANDLES];
        uint8_t ksel = fz_u8(&in);
        char key[256], value[256];
        if (ksel < 0xf0) {
            snprintf(key, sizeof key, "%s", ph->key(&w, ksel % key_count(ph, &w)));
        } else {
            size_t kl = fz_u8(&in);
            fz_in sub = {in.p + in.pos, kl < in.len - in.pos ? kl : in.len - in.pos, 0};
            fz_text(key, sizeof key, &sub);
            in.pos += sub.len;
        }
        size_t vl = fz_u8(&in);
        fz_in sub = {in.p + in.pos, vl < in.len - in.pos ? vl : in.len - in.pos, 0};
        fz_text(value, sizeof value, &sub);
        in.pos += sub.len;
        set_one(&w, ph, key, value);
        fw_check(&w, "param_set");
        if (rec % 8 == 7)
            fw_save_load_swap(&w);
    }
    fw_save_load_swap(&w);
    run_blocks(&w);
    fw_save_load_swap(&w);
    fw_check(&w, "save_load");
    fw_free(&w);
    FZ_ASSERT(fa.live_bytes == 0 && fa.live_blocks == 0, "leaked %lld bytes", fa.live_bytes);
    return 0;
}
