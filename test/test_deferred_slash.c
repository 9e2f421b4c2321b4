/*
 * test_deferred_slash.c - deferred slashes (slashing.defer_duration; Substrate's
 * SlashDeferDuration and cancel_deferred_slash).
 *
 * The fixture (hand-worked numbers; power reduction 10^6, unbonding_time 100 s):
 *   node 1 (key 1) self-bond 100M, delegators 501 and 502 with 50M each: 200M;
 *   node 2 (key 2) self-bond 100M. Bonded at height 1 (time 100).
 *   height 4 (time 140): 501 redelegates its 50M from node 1 to node 2 (entry created
 *   at 4, completes at 240; 50M shares at node 2, 1:1).
 *   end_block at 5 (150) and 8 (180). Node 1's power at height 5 is 200.
 * Double-sign evidence for votes at height 5 is submitted at height 10, time 200:
 * infraction height 4, fraction 0.05, to_slash = trunc(200M * 0.05) = 10M. The
 * redelegation entry (created 4 >= 4, live at 200) answers s = trunc(0.05 * 50M) =
 * 2.5M: 2.5M shares of 501's delegation at node 2 are unbonded and burned. The node
 * pays 10M - 2.5M = 7.5M of its 150M: 142.5M. Total 10M.
 * With defer_duration 50 the slash is due at 250; the host runs, per block,
 * opg_slasher_end_block then opg_registry_end_block, at heights 11 (210), 12 (240)
 * and 13 (250). The redelegation entry would mature at 240: it is held until the
 * slash applies at 250, then matures in that same end_block.
 */
#include "failalloc.h"
#include "harness.h"
#include "slasher_util.h"

#define CHECK_U256V(expr, want)                                                      \
    do {                                                                             \
        opg_u256 v_ = (expr);                                                        \
        CHECK_U256(v_, want);                                                        \
    } while (0)
#define CHECK_DECV(expr, want)                                                       \
    do {                                                                             \
        opg_dec v_ = (expr);                                                         \
        CHECK_DEC(v_, want);                                                         \
    } while (0)

typedef struct fx {
    opg_registry *r;
    opg_slasher *s;
} fx;

/* The fixture above with defer_duration `defer`, allocating through a (may be NULL). */
static int fx_setup(fx *f, opg_time defer, const opg_allocator *a)
{
    opg_registry_params rp;
    opg_registry_params_init(&rp);
    rp.unbonding_time = 100;
    opg_slasher_params p;
    opg_slasher_params_init(&p);
    strcpy(p.chain_id, CHAIN);
    p.defer_duration = defer;
    if (opg_registry_new(&f->r, &rp, NULL, a) || opg_slasher_new(&f->s, f->r, &p, a))
        return 1;
    opg_id n1 = id_n(1), n2 = id_n(2), d1 = id_n(501), d2 = id_n(502);
    opg_u256 amt = u64v(50 * M);
    int rc = mk_node(f->r, 1, 1, OPG_ROLE_CONSENSUS, 100 * M, 1, 100);
    rc |= mk_node(f->r, 2, 2, OPG_ROLE_CONSENSUS, 100 * M, 1, 100);
    rc |= opg_registry_delegate(NULL, f->r, &d1, &n1, &amt, 1, 100);
    rc |= opg_registry_delegate(NULL, f->r, &d2, &n1, &amt, 1, 100);
    rc |= opg_registry_end_block(f->r, 1, 100);
    rc |= opg_registry_redelegate(NULL, f->r, &d1, &n1, &n2, &amt, 4, 140);
    rc |= opg_registry_end_block(f->r, 5, 150);
    rc |= opg_registry_end_block(f->r, 8, 180);
    return rc;
}

static void fx_free(fx *f)
{
    opg_slasher_free(f->s);
    opg_registry_free(f->r);
}

/* One block's end as the host runs it: the slasher's, then the registry's. */
static int block_end(fx *f, opg_height h, opg_time t)
{
    int rc = opg_slasher_end_block(f->s, h, t);
    return rc ? rc : opg_registry_end_block(f->r, h, t);
}

static opg_u256 tokens_of(const opg_registry *r, unsigned op)
{
    opg_node_info ni;
    opg_id id = id_n(op);
    memset(&ni, 0, sizeof ni);
    opg_registry_node_get(&ni, r, &id);
    return ni.tokens;
}

static opg_dec del_shares(const opg_registry *r, unsigned who, unsigned op)
{
    opg_delegation_info di;
    opg_id d = id_n(who), o = id_n(op);
    memset(&di, 0, sizeof di);
    opg_registry_delegation_get(&di, r, &d, &o);
    return di.shares;
}

static size_t n_redelegations(const opg_registry *r, unsigned who)
{
    opg_redelegation_info out[4];
    size_t n = 0;
    opg_id d = id_n(who);
    opg_registry_redelegations_of(out, 4, &n, r, &d);
    return n;
}

static opg_u256 burned_of(const opg_registry *r)
{
    opg_supply_info si;
    opg_registry_supply(&si, r);
    return si.burned;
}

typedef struct snap {
    uint8_t r[32], s[32];
} snap;

static void take(snap *x, const fx *f)
{
    opg_registry_state_hash(x->r, f->r);
    opg_slasher_state_hash(x->s, f->s);
}

static int same(const snap *x, const snap *y) { return memcmp(x, y, sizeof *x) == 0; }

static int unchanged(const snap *x, const fx *f)
{
    snap y;
    take(&y, f);
    return same(x, &y);
}

/* ---------------------------------------------------------------- tests */

static void test_param(void)
{
    fx f;
    CHECK(fx_setup(&f, 0, NULL) == 0);
    char buf[32];
    CHECK_OK(opg_slasher_param_get(buf, sizeof buf, NULL, f.s, "slashing.defer_duration"));
    CHECK(strcmp(buf, "0") == 0);
    snap x;
    take(&x, &f);
    CHECK_RC(opg_slasher_param_set(f.s, "slashing.defer_duration", "-1"), OPG_EPARSE);
    CHECK(unchanged(&x, &f));
    CHECK_OK(opg_slasher_param_set(f.s, "slashing.defer_duration", "3600"));
    CHECK_OK(opg_slasher_param_get(buf, sizeof buf, NULL, f.s, "slashing.defer_duration"));
    CHECK(strcmp(buf, "3600") == 0);
    opg_slasher_params p;
    opg_slasher_params_get(&p, f.s);
    CHECK(p.defer_duration == 3600);
    /* nothing pending: end_block does nothing */
    take(&x, &f);
    CHECK_OK(opg_slasher_end_block(f.s, 9, 190));
    CHECK(unchanged(&x, &f) && opg_slasher_pending_count(f.s) == 0);
    fx_free(&f);
}

/* The decision: jailed and tombstoned at once, the plan recorded, nothing taken. */
static void test_decided_not_taken(void)
{
    fx f;
    CHECK(fx_setup(&f, 50, NULL) == 0);
    opg_double_sign_evidence ev = mk_ds(1, 5, 150, 0);
    opg_slasher_record rec;
    CHECK_OK(opg_slasher_double_sign(&rec, f.s, &ev, 10, 200));
    CHECK(rec.pending_id == 1 && rec.power == 200 && rec.infraction_height == 4);
    CHECK(rec.jailed == 1 && rec.tombstoned == 1);
    CHECK_U256(rec.slash.burned_total, "0");
    CHECK_U256(rec.burned, "0");
    CHECK_U256V(tokens_of(f.r, 1), "150000000");
    CHECK_U256V(burned_of(f.r), "0");
    opg_node_info ni;
    opg_id n1 = id_n(1);
    CHECK_OK(opg_registry_node_get(&ni, f.r, &n1));
    CHECK(ni.jailed && ni.tombstoned);
    CHECK(opg_slasher_pending_count(f.s) == 1);
    opg_pending_slash ps;
    CHECK_OK(opg_slasher_pending_get(&ps, f.s, 1));
    CHECK(ps.id == 1 && ps.reason == OPG_SLASH_DOUBLE_SIGN && opg_id_cmp(&ps.node, &n1) == 0);
    CHECK(ps.infraction_height == 4 && ps.power == 200 && ps.created_height == 10);
    CHECK(ps.created_time == 200 && ps.due_time == 250);
    CHECK_DEC(ps.fraction, "0.05");
    CHECK_U256(ps.node_part, "7500000");
    CHECK_U256(ps.entries_part, "2500000");
    CHECK_U256(ps.total, "10000000");
    CHECK_DEC(ps.cancelled, "0");
    opg_pending_slash p2;
    CHECK_OK(opg_slasher_pending_at(&p2, f.s, 0));
    CHECK(memcmp(&p2, &ps, sizeof ps) == 0);
    CHECK_RC(opg_slasher_pending_at(&p2, f.s, 1), OPG_ENOTFOUND);
    CHECK_RC(opg_slasher_pending_get(&p2, f.s, 2), OPG_ENOTFOUND);
    /* not due yet: nothing happens */
    snap x;
    take(&x, &f);
    CHECK_OK(opg_slasher_end_block(f.s, 11, 249));
    CHECK(unchanged(&x, &f));
    /* a height below the infraction's (4): refused, nothing applied */
    CHECK_RC(opg_slasher_end_block(f.s, 3, 300), OPG_EFUTURE);
    CHECK(unchanged(&x, &f) && opg_slasher_pending_count(f.s) == 1);
    size_t nev, nrec;
    opg_registry_events(f.r, &nev);
    opg_slasher_slashes(f.s, &nrec);
    CHECK(nev == 0 && nrec == 0);
    CHECK_RC(opg_slasher_end_block(NULL, 11, 300), OPG_EINVAL);
    CHECK_OK(opg_registry_check(f.r));
    CHECK_OK(opg_slasher_check(f.s));
    fx_free(&f);
}

/* Run the block sequence with defer 0 and with defer 50: the same end state. */
static void run_blocks(fx *f, int with_unbond)
{
    opg_double_sign_evidence ev = mk_ds(1, 5, 150, 0);
    CHECK_OK(opg_slasher_double_sign(NULL, f->s, &ev, 10, 200));
    CHECK_OK(opg_registry_end_block(f->r, 10, 200));
    if (with_unbond) {
        opg_id d2 = id_n(502), n1 = id_n(1);
        opg_u256 amt = u64v(50 * M);
        CHECK_OK(opg_registry_undelegate(NULL, NULL, f->r, &d2, &n1, &amt, 11, 210));
    }
    CHECK_OK(block_end(f, 11, 210));
    CHECK_OK(block_end(f, 12, 240));
}

/* The registry's records but its consensus history (kind 7: validator powers by
 * height), appended as bytes to a buffer. */
typedef struct rbuf {
    uint8_t *p;
    size_t n, cap;
} rbuf;

static int collect(void *ctx, const opg_record *rec)
{
    rbuf *b = ctx;
    if (rec->key_len > 1 && rec->key[1] == 7)
        return 0;
    size_t need = b->n + rec->key_len + rec->value_len + 2;
    if (need > b->cap) {
        b->cap = need * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    b->p[b->n++] = (uint8_t)rec->key_len;
    memcpy(b->p + b->n, rec->key, rec->key_len);
    b->n += rec->key_len;
    b->p[b->n++] = (uint8_t)rec->value_len;
    memcpy(b->p + b->n, rec->value, rec->value_len);
    b->n += rec->value_len;
    return 0;
}

static void test_same_as_immediate(void)
{
    fx a, b;
    CHECK(fx_setup(&a, 0, NULL) == 0);
    CHECK(fx_setup(&b, 50, NULL) == 0);
    run_blocks(&a, 0);
    run_blocks(&b, 0);
    /* immediate: taken at 200; the redelegation matured at 240 */
    CHECK_U256V(tokens_of(a.r, 1), "142500000");
    CHECK_U256V(burned_of(a.r), "10000000");
    CHECK(n_redelegations(a.r, 501) == 0);
    /* deferred: nothing taken yet, and the redelegation entry held past 240 */
    CHECK_U256V(tokens_of(b.r, 1), "150000000");
    CHECK_U256V(burned_of(b.r), "0");
    CHECK(n_redelegations(b.r, 501) == 1);
    CHECK_OK(opg_registry_check(b.r));
    CHECK_OK(block_end(&a, 13, 250));
    CHECK_OK(opg_slasher_end_block(b.s, 13, 250));
    size_t n;
    const opg_slasher_record *rec = opg_slasher_slashes(b.s, &n);
    CHECK(n == 1 && rec[0].pending_id == 1);
    CHECK_U256(rec[0].slash.burned_node, "7500000");
    CHECK_U256(rec[0].slash.burned_redelegation, "2500000");
    CHECK_U256(rec[0].slash.burned_total, "10000000");
    size_t ne;
    const opg_event *e = opg_registry_events(b.r, &ne);
    int burns = 0;
    for (size_t i = 0; i < ne; i++)
        if (e[i].kind == OPG_EVENT_BURNED) {
            burns++;
            CHECK_U256(e[i].amount, "10000000");
        }
    CHECK(burns == 1);
    CHECK(opg_slasher_pending_count(b.s) == 0);
    CHECK(n_redelegations(b.r, 501) == 1); /* released: matures at this end_block */
    CHECK_OK(opg_registry_end_block(b.r, 13, 250));
    CHECK(n_redelegations(b.r, 501) == 0);
    /* every node's tokens, the destination delegation, the supply: the same */
    CHECK_U256V(tokens_of(b.r, 1), "142500000");
    CHECK_U256V(tokens_of(b.r, 2), "147500000"); /* 150M - 2.5M */
    opg_dec da = del_shares(a.r, 501, 2), db = del_shares(b.r, 501, 2);
    CHECK(opg_dec_cmp(&da, &db) == 0);
    CHECK_DEC(db, "47500000");
    opg_supply_info sa, sb;
    opg_registry_supply(&sa, a.r);
    opg_registry_supply(&sb, b.r);
    CHECK(memcmp(&sa, &sb, sizeof sa) == 0);
    /* every registry record the same but the consensus history: node 2's power
     * update (147) is recorded at height 10 in one run and 13 in the other, as the
     * tokens left it then (the validator set follows the tokens) */
    rbuf ra = {0}, rb = {0};
    CHECK_OK(opg_registry_records(a.r, collect, &ra));
    CHECK_OK(opg_registry_records(b.r, collect, &rb));
    CHECK(ra.n == rb.n && ra.n > 0 && memcmp(ra.p, rb.p, ra.n) == 0);
    free(ra.p);
    free(rb.p);
    CHECK_OK(opg_registry_check(b.r));
    CHECK_OK(opg_slasher_check(b.s));
    fx_free(&a);
    fx_free(&b);
}

/* 502 undelegates its 50M during the window (height 11): its entry, created after
 * the infraction, answers trunc(0.05 * 50M) = 2.5M of its 50M balance; the
 * redelegation 2.5M; the node the rest, 10M - 5M = 5M of its 100M: 95M. Total 10M,
 * the plan's; the immediate slash took 7.5M from the node while 502's stake was in
 * it: the same total, shared otherwise. */
static void test_unbonding_in_window_answers(void)
{
    fx f;
    CHECK(fx_setup(&f, 50, NULL) == 0);
    run_blocks(&f, 1);
    CHECK_U256V(tokens_of(f.r, 1), "100000000");
    CHECK_OK(block_end(&f, 13, 250));
    CHECK_U256V(tokens_of(f.r, 1), "95000000");
    CHECK_U256V(burned_of(f.r), "10000000");
    opg_unbonding_info u[2];
    size_t n = 0;
    opg_id d2 = id_n(502);
    CHECK_OK(opg_registry_unbondings_of(u, 2, &n, f.r, &d2));
    CHECK(n == 1);
    CHECK_U256(u[0].initial_balance, "50000000");
    CHECK_U256(u[0].balance, "47500000");
    CHECK_OK(opg_registry_check(f.r));
    CHECK_OK(opg_slasher_check(f.s));
    /* the entry matures at 310 with what is left */
    CHECK_OK(block_end(&f, 14, 310));
    CHECK_OK(opg_registry_unbondings_of(u, 2, &n, f.r, &d2));
    CHECK(n == 0);
    fx_free(&f);
}

/* Everyone leaves node 1 in the window (defer 500: due at 700): 502's 50M and the
 * self-bond's 100M unbond at 210 (complete at 310). The node, jailed at 200, is
 * unbonded from 300 with no shares, yet stays, and the entries stay queued past
 * 310, until the slash applies at 700: the entries answer trunc(0.05 * 50M) = 2.5M
 * and trunc(0.05 * 100M) = 5M, the redelegation 2.5M: 10M, the node (no tokens)
 * nothing. Then the entries mature with what is left and the node leaves. */
static void test_held_until_applied(void)
{
    fx f;
    CHECK(fx_setup(&f, 500, NULL) == 0);
    opg_double_sign_evidence ev = mk_ds(1, 5, 150, 0);
    CHECK_OK(opg_slasher_double_sign(NULL, f.s, &ev, 10, 200));
    CHECK_OK(opg_registry_end_block(f.r, 10, 200));
    opg_id d2 = id_n(502), n1 = id_n(1);
    opg_u256 amt = u64v(50 * M), self = u64v(100 * M);
    CHECK_OK(opg_registry_undelegate(NULL, NULL, f.r, &d2, &n1, &amt, 11, 210));
    CHECK_OK(opg_registry_undelegate(NULL, NULL, f.r, &n1, &n1, &self, 11, 210));
    CHECK_OK(block_end(&f, 11, 210));
    CHECK_OK(block_end(&f, 12, 400));
    CHECK_OK(block_end(&f, 13, 500));
    opg_node_info ni;
    CHECK_OK(opg_registry_node_get(&ni, f.r, &n1));
    CHECK(ni.status == OPG_NODE_UNBONDED);
    CHECK_U256(ni.tokens, "0");
    opg_unbonding_info u[2];
    size_t n = 0;
    CHECK_OK(opg_registry_unbondings_of(u, 2, &n, f.r, &d2));
    CHECK(n == 1 && u[0].completion_time == 310);
    CHECK(n_redelegations(f.r, 501) == 1);
    CHECK_OK(opg_registry_check(f.r));
    CHECK_OK(opg_slasher_check(f.s));
    CHECK_OK(block_end(&f, 14, 700));
    CHECK_U256V(burned_of(f.r), "10000000");
    CHECK_RC(opg_registry_node_get(&ni, f.r, &n1), OPG_ENOTFOUND); /* left at 700 */
    CHECK_OK(opg_registry_unbondings_of(u, 2, &n, f.r, &d2));
    CHECK(n == 0);
    CHECK(n_redelegations(f.r, 501) == 0);
    size_t ne;
    const opg_event *e = opg_registry_events(f.r, &ne);
    opg_u256 paid = u64v(0);
    for (size_t i = 0; i < ne; i++)
        if (e[i].kind == OPG_EVENT_UNBONDING_MATURED)
            opg_u256_add(&paid, &paid, &e[i].amount);
    CHECK_U256(paid, "142500000"); /* 47.5M + 95M */
    CHECK_OK(opg_registry_check(f.r));
    CHECK_OK(opg_slasher_check(f.s));
    fx_free(&f);
}

static void test_cancel(void)
{
    /* wholly: the record goes, nothing is taken, the node stays jailed */
    fx f;
    CHECK(fx_setup(&f, 50, NULL) == 0);
    opg_double_sign_evidence ev = mk_ds(1, 5, 150, 0);
    CHECK_OK(opg_slasher_double_sign(NULL, f.s, &ev, 10, 200));
    snap x;
    take(&x, &f);
    opg_dec one = dec_of("1"), zero = dec_of("0"), big = dec_of("1.000000000000000001");
    CHECK_RC(opg_slasher_cancel_deferred(f.s, 2, &one), OPG_ENOTFOUND);
    CHECK(unchanged(&x, &f));
    CHECK_RC(opg_slasher_cancel_deferred(f.s, 1, &zero), OPG_EINVAL);
    CHECK(unchanged(&x, &f));
    CHECK_RC(opg_slasher_cancel_deferred(f.s, 1, &big), OPG_EINVAL);
    CHECK(unchanged(&x, &f));
    CHECK_RC(opg_slasher_cancel_deferred(f.s, 1, NULL), OPG_EINVAL);
    CHECK(unchanged(&x, &f));
    CHECK_OK(opg_slasher_cancel_deferred(f.s, 1, &one));
    CHECK(opg_slasher_pending_count(f.s) == 0);
    CHECK_RC(opg_slasher_cancel_deferred(f.s, 1, &one), OPG_ENOTFOUND);
    CHECK_OK(opg_registry_end_block(f.r, 10, 200));
    CHECK_OK(block_end(&f, 11, 210));
    CHECK_OK(block_end(&f, 12, 240)); /* released: the redelegation matures */
    CHECK(n_redelegations(f.r, 501) == 0);
    CHECK_OK(block_end(&f, 13, 250));
    CHECK_U256V(tokens_of(f.r, 1), "150000000");
    CHECK_U256V(burned_of(f.r), "0");
    opg_node_info ni;
    opg_id n1 = id_n(1);
    CHECK_OK(opg_registry_node_get(&ni, f.r, &n1));
    CHECK(ni.jailed && ni.tombstoned);
    fx_free(&f);

    /* in half: every part trunc(part * 0.5): node 3.75M, entries 1.25M, total 5M;
     * applied with fraction trunc(0.05 * 0.5) = 0.025: to_slash = 5M, the
     * redelegation 1.25M, the node 3.75M (150M -> 146.25M) */
    CHECK(fx_setup(&f, 50, NULL) == 0);
    CHECK_OK(opg_slasher_double_sign(NULL, f.s, &ev, 10, 200));
    opg_dec half = dec_of("0.5");
    CHECK_OK(opg_slasher_cancel_deferred(f.s, 1, &half));
    opg_pending_slash ps;
    CHECK_OK(opg_slasher_pending_get(&ps, f.s, 1));
    CHECK_U256(ps.node_part, "3750000");
    CHECK_U256(ps.entries_part, "1250000");
    CHECK_U256(ps.total, "5000000");
    CHECK_DEC(ps.cancelled, "0.5");
    /* again by 0.5: a quarter kept, cancelled 0.75 */
    CHECK_OK(opg_slasher_cancel_deferred(f.s, 1, &half));
    CHECK_OK(opg_slasher_pending_get(&ps, f.s, 1));
    CHECK_U256(ps.node_part, "1875000");
    CHECK_U256(ps.entries_part, "625000");
    CHECK_DEC(ps.cancelled, "0.75");
    CHECK_OK(opg_registry_end_block(f.r, 10, 200));
    CHECK_OK(block_end(&f, 13, 250));
    /* fraction trunc(0.05 * 0.25) = 0.0125: to_slash 2.5M; redelegation 625,000;
     * node 1,875,000 */
    CHECK_U256V(tokens_of(f.r, 1), "148125000");
    CHECK_U256V(burned_of(f.r), "2500000");
    CHECK_DECV(del_shares(f.r, 501, 2), "49375000");
    CHECK_OK(opg_registry_check(f.r));
    CHECK_OK(opg_slasher_check(f.s));
    fx_free(&f);
}

/* The governance steps: a batch of cancels staged in one end_block. */
#include "slasher_internal.h"

static void test_cancel_steps(void)
{
    fx f;
    CHECK(fx_setup(&f, 50, NULL) == 0);
    opg_double_sign_evidence ev = mk_ds(1, 5, 150, 0);
    CHECK_OK(opg_slasher_double_sign(NULL, f.s, &ev, 10, 200));
    opgi_cancel_staged st[2] = {{1, dec_of("0.5")}, {1, dec_of("1")}};
    char err[OPGI_ERRMSG_MAX];
    snap x;
    take(&x, &f);
    CHECK_OK(opgi_slasher_cancel_check(f.s, 1, &st[0].fraction, NULL, 0, err));
    CHECK_OK(opgi_slasher_cancel_check(f.s, 1, &st[1].fraction, st, 1, err));
    opg_dec q = dec_of("0.1");
    CHECK_RC(opgi_slasher_cancel_check(f.s, 1, &q, st, 2, err), OPG_ENOTFOUND);
    CHECK_RC(opgi_slasher_cancel_check(f.s, 7, &q, NULL, 0, err), OPG_ENOTFOUND);
    CHECK_RC(opgi_slasher_cancel_check(f.s, 1, NULL, NULL, 0, err), OPG_EINVAL);
    CHECK(unchanged(&x, &f));
    CHECK_OK(opgi_slasher_cancel_reserve(f.s, 2));
    opgi_slasher_cancel_apply(f.s, 1, &st[0].fraction);
    opgi_slasher_cancel_apply(f.s, 1, &st[1].fraction);
    CHECK(opg_slasher_pending_count(f.s) == 0);
    CHECK_OK(opg_slasher_check(f.s));
    fx_free(&f);
}

/* Allocation failures at every point of the applying end_block. */
static void test_end_block_oom(void)
{
    /* the clean run */
    fx c;
    CHECK(fx_setup(&c, 50, NULL) == 0);
    run_blocks(&c, 1);
    CHECK_OK(opg_slasher_end_block(c.s, 13, 250));
    snap clean;
    take(&clean, &c);
    fx_free(&c);
    int points = 0;
    for (unsigned long k = 1;; k++) {
        failalloc fa;
        failalloc_init(&fa, 0);
        opg_allocator a = failalloc_allocator(&fa);
        fx f;
        CHECK(fx_setup(&f, 50, &a) == 0);
        run_blocks(&f, 1);
        snap before;
        take(&before, &f);
        size_t pend = opg_slasher_pending_count(f.s);
        fa.fail_at = fa.calls + k;
        int rc = opg_slasher_end_block(f.s, 13, 250);
        fa.fail_at = 0;
        if (rc == OPG_OK && fa.failures == 0) {
            snap got;
            take(&got, &f);
            CHECK(same(&got, &clean));
            fx_free(&f);
            CHECK(fa.live_bytes == 0);
            break;
        }
        points++;
        CHECK_RC(rc, OPG_ENOMEM);
        CHECK(unchanged(&before, &f) && opg_slasher_pending_count(f.s) == pend);
        size_t n;
        opg_slasher_slashes(f.s, &n);
        CHECK(n == 0);
        CHECK_OK(opg_slasher_end_block(f.s, 13, 250)); /* the retry */
        snap got;
        take(&got, &f);
        CHECK(same(&got, &clean));
        fx_free(&f);
        CHECK(fa.live_bytes == 0);
        if (k > 200)
            break;
    }
    CHECK(points > 3);
    printf("  end_block: %d allocation failure points, each all-or-nothing\n", points);

    /* the decision (op 0) and the cancel (op 1) too */
    for (int which = 0; which < 2; which++) {
        int fpoints = 0;
        for (unsigned long k = 1; k < 200; k++) {
            failalloc fa;
            failalloc_init(&fa, 0);
            opg_allocator a = failalloc_allocator(&fa);
            fx f;
            CHECK(fx_setup(&f, 50, &a) == 0);
            /* commit once so the records are tracked (touches are reserved) */
            uint8_t root[32];
            const opg_record *ch;
            size_t nch;
            CHECK_OK(opg_slasher_commit(root, &ch, &nch, f.s));
            opg_double_sign_evidence ev = mk_ds(1, 5, 150, 0);
            opg_dec half = dec_of("0.5");
            if (which == 1)
                CHECK_OK(opg_slasher_double_sign(NULL, f.s, &ev, 10, 200));
            snap before;
            take(&before, &f);
            fa.fail_at = fa.calls + k;
            int rc = which == 0 ? opg_slasher_double_sign(NULL, f.s, &ev, 10, 200)
                                : opg_slasher_cancel_deferred(f.s, 1, &half);
            int failed = fa.failures != 0;
            fa.fail_at = 0;
            if (!failed) {
                CHECK_OK(rc);
                fx_free(&f);
                CHECK(fa.live_bytes == 0);
                break;
            }
            fpoints++;
            CHECK_RC(rc, OPG_ENOMEM);
            CHECK(unchanged(&before, &f));
            CHECK(opg_slasher_pending_count(f.s) == (size_t)which);
            fx_free(&f);
            CHECK(fa.live_bytes == 0);
        }
        printf("  %s: %d allocation failure points\n", which ? "cancel" : "deferred double sign",
               fpoints);
    }
}

static int sink(void *ctx, const opg_record *rec)
{
    (void)rec;
    ++*(size_t *)ctx;
    return 0;
}

static void test_save_load_and_records(void)
{
    fx f;
    CHECK(fx_setup(&f, 50, NULL) == 0);
    uint8_t root[32], scratch[32];
    const opg_record *ch;
    size_t n;
    CHECK_OK(opg_slasher_commit(root, &ch, &n, f.s));
    opg_double_sign_evidence ev = mk_ds(1, 5, 150, 0);
    CHECK_OK(opg_slasher_double_sign(NULL, f.s, &ev, 10, 200));
    opg_dec q = dec_of("0.3");
    CHECK_OK(opg_slasher_cancel_deferred(f.s, 1, &q));
    CHECK_OK(opg_slasher_commit(root, &ch, &n, f.s));
    int pending_put = 0;
    for (size_t i = 0; i < n; i++)
        if (ch[i].key_len == 10 && ch[i].key[1] == 7 && ch[i].value_len)
            pending_put++;
    CHECK(pending_put == 1);
    CHECK_OK(opg_slasher_root_from_scratch(scratch, f.s));
    CHECK(memcmp(root, scratch, 32) == 0);
    size_t nrec = 0;
    CHECK_OK(opg_slasher_records(f.s, sink, &nrec));
    CHECK(nrec >= 3);

    size_t len;
    CHECK_RC(opg_slasher_save(NULL, 0, &len, f.s), OPG_EBUFS);
    uint8_t *buf = malloc(len), *buf2 = malloc(len);
    size_t len2;
    CHECK_OK(opg_slasher_save(buf, len, &len, f.s));
    opg_slasher *s2;
    CHECK_OK(opg_slasher_load(&s2, f.r, buf, len, NULL));
    CHECK_OK(opg_slasher_save(buf2, len, &len2, s2));
    CHECK(len2 == len && memcmp(buf, buf2, len) == 0);
    opg_pending_slash a, b;
    CHECK_OK(opg_slasher_pending_get(&a, f.s, 1));
    CHECK_OK(opg_slasher_pending_get(&b, s2, 1));
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    CHECK_DEC(b.cancelled, "0.3");
    uint8_t h1[32], h2[32];
    CHECK_OK(opg_slasher_state_hash(h1, f.s));
    CHECK_OK(opg_slasher_state_hash(h2, s2));
    CHECK(memcmp(h1, h2, 32) == 0);
    CHECK_OK(opg_slasher_check(s2));
    opg_slasher_free(s2);
    free(buf);
    free(buf2);

    /* applied: the record is deleted at the next commit */
    CHECK_OK(opg_registry_end_block(f.r, 10, 200));
    CHECK_OK(block_end(&f, 13, 250));
    CHECK_OK(opg_slasher_commit(root, &ch, &n, f.s));
    int pending_del = 0;
    for (size_t i = 0; i < n; i++)
        if (ch[i].key_len == 10 && ch[i].key[1] == 7 && ch[i].value_len == 0)
            pending_del++;
    CHECK(pending_del == 1);
    CHECK_OK(opg_slasher_root_from_scratch(scratch, f.s));
    CHECK(memcmp(root, scratch, 32) == 0);
    fx_free(&f);
}

/* A faulty inference: the reporter is paid when the slash applies. */
static const opg_fault_class CLASSES[] = {{1, {{UINT64_C(100000000000000000), 0, 0, 0}}, 3600, 0}};

static void test_fault_reporter_paid_at_apply(void)
{
    opg_slasher_params p;
    opg_slasher_params_init(&p);
    strcpy(p.chain_id, CHAIN);
    p.fault_classes = CLASSES;
    p.fault_class_count = 1;
    p.reporter_share = dec_of("0.25");
    p.defer_duration = 60;
    opg_registry *r;
    opg_slasher *s;
    CHECK_OK(opg_registry_new(&r, NULL, NULL, NULL));
    CHECK_OK(opg_slasher_new(&s, r, &p, NULL));
    const uint32_t inf = OPG_ROLE_CONSENSUS | OPG_ROLE_INFERENCE;
    CHECK_OK(mk_node(r, 1, 1, inf, 100 * M, 1, 0));
    CHECK_OK(mk_node(r, 3, 3, OPG_ROLE_CONSENSUS | OPG_ROLE_VERIFICATION, 10 * M, 1, 0));
    CHECK_OK(opg_registry_end_block(r, 1, 0));
    opg_fault_evidence ev;
    memset(&ev, 0, sizeof ev);
    ev.evidence_id = id_n(900);
    ev.node = id_n(1);
    ev.infraction_height = 8;
    ev.infraction_time = 0;
    ev.fault_class = 1;
    ev.reporter = id_n(3);
    opg_slasher_record rec;
    CHECK_OK(opg_slasher_fault(&rec, s, &ev, 10, 1000));
    CHECK(rec.pending_id == 1 && rec.jailed == 1);
    CHECK_U256(rec.reporter_reward, "0");
    /* to_slash trunc(100M * 0.1) = 10M at 1060; the reporter trunc(10M * 0.25) */
    CHECK_OK(opg_slasher_end_block(s, 11, 1059));
    CHECK(opg_slasher_pending_count(s) == 1);
    p.reporter_share = dec_of("0.5"); /* a later change does not matter */
    CHECK_OK(opg_slasher_param_set(s, "slashing.reporter_share", "0.5"));
    CHECK_OK(opg_slasher_end_block(s, 12, 1060));
    size_t n;
    const opg_slasher_record *out = opg_slasher_slashes(s, &n);
    CHECK(n == 1);
    CHECK_U256(out[0].slash.burned_total, "10000000");
    CHECK_U256(out[0].reporter_reward, "2500000");
    CHECK_U256(out[0].burned, "7500000");
    size_t ne;
    const opg_event *e = opg_registry_events(r, &ne);
    int found = 0;
    opg_id rep = id_n(3), n1 = id_n(1);
    for (size_t i = 0; i < ne; i++)
        if (e[i].kind == OPG_EVENT_REPORTER_REWARD) {
            CHECK(opg_id_cmp(&e[i].account, &rep) == 0 && opg_id_cmp(&e[i].node, &n1) == 0);
            CHECK_U256(e[i].amount, "2500000");
            found++;
        }
    CHECK(found == 1);
    opg_supply_info si;
    opg_registry_supply(&si, r);
    CHECK_U256(si.burned, "7500000");
    CHECK_OK(opg_registry_check(r));
    CHECK_OK(opg_slasher_check(s));
    opg_slasher_free(s);
    opg_registry_free(r);
}

/* Downtime too is deferred; due slashes apply in (due, id) order. */
static void test_order_and_downtime(void)
{
    fx f;
    CHECK(fx_setup(&f, 50, NULL) == 0);
    CHECK_OK(opg_slasher_param_set(f.s, "slashing.signed_blocks_window", "2"));
    /* node 2 misses blocks until slashed for downtime */
    opg_height h = 9;
    opg_time t = 190;
    size_t n = 0;
    while (opg_slasher_pending_count(f.s) == 0 && h < 30) {
        opg_commit_sig e;
        memset(&e, 0, sizeof e);
        e.consensus_key = key_id(2);
        e.power = 100;
        e.signed_block = 0;
        CHECK_OK(opg_slasher_record_commit(f.s, &e, 1, h, t));
        CHECK_OK(opg_registry_end_block(f.r, h, t));
        h++;
        t += 1;
    }
    CHECK(opg_slasher_pending_count(f.s) == 1);
    opg_pending_slash p1;
    CHECK_OK(opg_slasher_pending_at(&p1, f.s, 0));
    CHECK(p1.reason == OPG_SLASH_DOWNTIME);
    CHECK_U256V(tokens_of(f.r, 2), "150000000");
    /* a later double sign of node 1, due later */
    opg_double_sign_evidence ev = mk_ds(1, 5, 150, 0);
    CHECK_OK(opg_slasher_double_sign(NULL, f.s, &ev, h, t + 5));
    CHECK(opg_slasher_pending_count(f.s) == 2);
    CHECK_OK(opg_slasher_param_set(f.s, "slashing.defer_duration", "1"));
    CHECK_OK(opg_slasher_end_block(f.s, h + 1, t + 60));
    const opg_slasher_record *rec = opg_slasher_slashes(f.s, &n);
    CHECK(n == 2 && rec[0].pending_id == 1 && rec[1].pending_id == 2);
    CHECK(rec[0].reason == OPG_SLASH_DOWNTIME && rec[1].reason == OPG_SLASH_DOUBLE_SIGN);
    /* downtime: trunc(100M * 0.01) = 1M from node 2 (no entries out of node 2) */
    CHECK_U256(rec[0].slash.burned_total, "1000000");
    CHECK(opg_slasher_pending_count(f.s) == 0);
    CHECK_OK(opg_registry_check(f.r));
    CHECK_OK(opg_slasher_check(f.s));
    fx_free(&f);
}

/* ---------------------------------------------- cancels by governance proposal */

#define VOTING (2 * 24 * 3600) /* the tally's default voting period */

static int submit_cancel(uint64_t *id, opg_tally *t, uint64_t slash, const char *fraction)
{
    opg_proposal_submit p;
    memset(&p, 0, sizeof p);
    p.proposer = id_n(2);
    p.kind = OPG_PROPOSAL_CANCEL_SLASH;
    p.initial_deposit = u64v(10 * M); /* the default minimum: voting starts at once */
    p.slash_id = slash;
    p.cancel_fraction = dec_of(fraction);
    return opg_tally_submit(id, t, &p, 200);
}

/* The fixture with a slash decided at 200 and due a week later (after the vote), a
 * tally on its registry with the slasher attached (or not), and the registry's
 * end_block at 10: node 1 jailed and out of the set, node 2 (150M with 501's
 * redelegated 50M) the only voter. */
static int gov_setup(fx *f, opg_tally **t, int attach, const opg_allocator *a)
{
    if (fx_setup(f, 7 * 24 * 3600, a))
        return 1;
    opg_double_sign_evidence ev = mk_ds(1, 5, 150, 0);
    opg_u256 supply = u64v(1000 * M);
    if (opg_slasher_double_sign(NULL, f->s, &ev, 10, 200) || opg_registry_end_block(f->r, 10, 200) ||
        opg_registry_supply_mint(f->r, &supply) || opg_tally_new(t, f->r, NULL, a))
        return 1;
    return attach ? opg_tally_attach_slasher(*t, f->s) : 0;
}

static void test_cancel_by_proposal(void)
{
    fx f;
    opg_tally *t;
    CHECK(gov_setup(&f, &t, 1, NULL) == 0);
    uint8_t th[32], th2[32];
    uint64_t a, b, c, bad;
    /* submit checks the fraction's shape; a refusal changes nothing */
    CHECK_OK(opg_tally_state_hash(th, t));
    CHECK_RC(submit_cancel(&bad, t, 1, "0"), OPG_EINVAL);
    CHECK_RC(submit_cancel(&bad, t, 1, "1.000000000000000001"), OPG_EINVAL);
    CHECK_OK(opg_tally_state_hash(th2, t));
    CHECK(memcmp(th, th2, 32) == 0);
    /* a half, another half, and a slash that does not exist, all passing together */
    CHECK_OK(submit_cancel(&a, t, 1, "0.5"));
    CHECK_OK(submit_cancel(&b, t, 1, "0.5"));
    CHECK_OK(submit_cancel(&c, t, 9, "1"));
    opg_proposal_action act;
    CHECK_OK(opg_tally_proposal_action(&act, t, a));
    CHECK(act.kind == OPG_PROPOSAL_CANCEL_SLASH && act.slash_id == 1);
    CHECK_DEC(act.cancel_fraction, "0.5");
    opg_id v = id_n(2);
    CHECK_OK(opg_tally_vote_option(t, a, &v, OPG_VOTE_YES));
    CHECK_OK(opg_tally_vote_option(t, b, &v, OPG_VOTE_YES));
    CHECK_OK(opg_tally_vote_option(t, c, &v, OPG_VOTE_YES));

    /* saved with its action proposals: save -> load -> save gives the same bytes */
    size_t len = 0, len2 = 0;
    CHECK_RC(opg_tally_save(NULL, 0, &len, t), OPG_EBUFS);
    uint8_t *buf = malloc(len), *buf2 = malloc(len);
    CHECK(buf && buf2);
    CHECK_OK(opg_tally_save(buf, len, &len, t));
    opg_tally *t2;
    CHECK_OK(opg_tally_load(&t2, f.r, buf, len, NULL));
    CHECK_OK(opg_tally_save(buf2, len, &len2, t2));
    CHECK(len2 == len && memcmp(buf, buf2, len) == 0);
    opg_tally_free(t2);
    free(buf);
    free(buf2);

    CHECK_OK(opg_tally_end_block(t, 11, 200 + VOTING));
    size_t n;
    const opg_tally_closed *cl = opg_tally_closed_list(t, &n);
    CHECK(n == 3);
    CHECK(cl[0].proposal_id == a && cl[0].outcome == OPG_TALLY_PASSED);
    CHECK(cl[1].proposal_id == b && cl[1].outcome == OPG_TALLY_PASSED);
    CHECK(cl[2].proposal_id == c && cl[2].outcome == OPG_TALLY_FAILED &&
          cl[2].failed_code == OPG_ENOTFOUND);
    /* two halves: a quarter kept (node 7.5M -> 1.875M, entries 2.5M -> 625,000) */
    opg_pending_slash ps;
    CHECK_OK(opg_slasher_pending_get(&ps, f.s, 1));
    CHECK_U256(ps.node_part, "1875000");
    CHECK_U256(ps.entries_part, "625000");
    CHECK_U256(ps.total, "2500000");
    CHECK_DEC(ps.cancelled, "0.75");
    CHECK_OK(opg_slasher_check(f.s));
    opg_tally_free(t);
    fx_free(&f);

    /* wholly, then a half of the same slash in the same end_block: the second FAILS */
    CHECK(gov_setup(&f, &t, 1, NULL) == 0);
    CHECK_OK(submit_cancel(&a, t, 1, "1"));
    CHECK_OK(submit_cancel(&b, t, 1, "0.5"));
    CHECK_OK(opg_tally_vote_option(t, a, &v, OPG_VOTE_YES));
    CHECK_OK(opg_tally_vote_option(t, b, &v, OPG_VOTE_YES));
    CHECK_OK(opg_tally_end_block(t, 11, 200 + VOTING));
    cl = opg_tally_closed_list(t, &n);
    CHECK(n == 2 && cl[0].outcome == OPG_TALLY_PASSED && cl[1].outcome == OPG_TALLY_FAILED &&
          cl[1].failed_code == OPG_ENOTFOUND);
    CHECK(opg_slasher_pending_count(f.s) == 0);
    /* nothing is taken when the slash would have been due */
    CHECK_OK(block_end(&f, 12, 200 + 7 * 24 * 3600));
    CHECK_U256V(tokens_of(f.r, 1), "150000000");
    opg_tally_free(t);
    fx_free(&f);

    /* no slasher attached: FAILED with OPG_EKEY, the pending slash untouched */
    CHECK(gov_setup(&f, &t, 0, NULL) == 0);
    CHECK_OK(submit_cancel(&a, t, 1, "1"));
    CHECK_OK(opg_tally_vote_option(t, a, &v, OPG_VOTE_YES));
    snap x;
    take(&x, &f);
    CHECK_OK(opg_tally_end_block(t, 11, 200 + VOTING));
    cl = opg_tally_closed_list(t, &n);
    CHECK(n == 1 && cl[0].outcome == OPG_TALLY_FAILED && cl[0].failed_code == OPG_EKEY);
    CHECK(unchanged(&x, &f) && opg_slasher_pending_count(f.s) == 1);
    opg_tally_free(t);
    fx_free(&f);
}

/* Allocation failures at every point of the tally's end_block that applies a cancel:
 * every handle as before, and the retry equals a clean run. */
static void test_cancel_by_proposal_oom(void)
{
    uint8_t clean[3][32];
    {
        fx f;
        opg_tally *t;
        uint64_t a;
        CHECK(gov_setup(&f, &t, 1, NULL) == 0);
        CHECK_OK(submit_cancel(&a, t, 1, "0.5"));
        opg_id v = id_n(2);
        CHECK_OK(opg_tally_vote_option(t, a, &v, OPG_VOTE_YES));
        CHECK_OK(opg_tally_end_block(t, 11, 200 + VOTING));
        opg_registry_state_hash(clean[0], f.r);
        opg_slasher_state_hash(clean[1], f.s);
        opg_tally_state_hash(clean[2], t);
        opg_tally_free(t);
        fx_free(&f);
    }
    int points = 0;
    for (unsigned long k = 1; k < 400; k++) {
        failalloc fa;
        failalloc_init(&fa, 0);
        opg_allocator al = failalloc_allocator(&fa);
        fx f;
        opg_tally *t;
        uint64_t a;
        CHECK(gov_setup(&f, &t, 1, &al) == 0);
        CHECK_OK(submit_cancel(&a, t, 1, "0.5"));
        opg_id v = id_n(2);
        CHECK_OK(opg_tally_vote_option(t, a, &v, OPG_VOTE_YES));
        uint8_t before[3][32], got[3][32];
        opg_registry_state_hash(before[0], f.r);
        opg_slasher_state_hash(before[1], f.s);
        opg_tally_state_hash(before[2], t);
        fa.fail_at = fa.calls + k;
        int rc = opg_tally_end_block(t, 11, 200 + VOTING);
        int failed = fa.failures != 0;
        fa.fail_at = 0;
        if (failed) {
            points++;
            CHECK_RC(rc, OPG_ENOMEM);
            opg_registry_state_hash(got[0], f.r);
            opg_slasher_state_hash(got[1], f.s);
            opg_tally_state_hash(got[2], t);
            CHECK(memcmp(got, before, sizeof got) == 0);
            CHECK_OK(opg_tally_end_block(t, 11, 200 + VOTING)); /* the retry */
        } else {
            CHECK_OK(rc);
        }
        opg_registry_state_hash(got[0], f.r);
        opg_slasher_state_hash(got[1], f.s);
        opg_tally_state_hash(got[2], t);
        CHECK(memcmp(got, clean, sizeof got) == 0);
        opg_tally_free(t);
        fx_free(&f);
        CHECK(fa.live_bytes == 0);
        if (!failed)
            break;
    }
    CHECK(points > 3);
    printf("  tally end_block with a cancel: %d allocation failure points\n", points);
}


/* ------------------------------------------- no escape out of a held node */

/*
 * Escape by redelegating out of the held node once it is unbonded (no fixture: 502
 * is node 1's only delegator). unbonding_time 100, defer_duration 500. Node 1: 100M
 * self + 50M of 502; node 2: 100M self. Double sign for votes at height 5 (power
 * 150) decided at height 10, time 200: infraction height 4, to_slash = trunc(150M *
 * 0.05) = 7.5M, no entries: the plan is node part 7.5M, total 7.5M (what an
 * immediate slash burns). Node 1 is jailed, unbonding from end_block 10 (completes
 * 300) and unbonded at end_block 11 (300). At height 12, time 310 both 502 and the
 * operator move everything to node 2: an unbonded source would be immediate (no
 * entry), but node 1 is held, so each is an entry created at 12 completing at
 * max(310, 310 + 1) = 311. With `undelegate`, 502 then undelegates its 50M from node
 * 2 at height 13, time 320 (entry completing at 420).
 * Applied at height 20, time 1000 (due 700): the entries answer trunc(0.05 * 100M) =
 * 5M (operator) and trunc(0.05 * 50M) = 2.5M (502): counted 7.5M, the node owes 0
 * (and has 0). Node 2 (250M tokens and shares, 1:1): 5M of the operator's shares
 * unbond, 5M burned. 502's 2.5M: without `undelegate` 2.5M of its shares at node 2;
 * with it, its unbonding entry at node 2 (held past 420: its redelegation entry out
 * of held node 1 exists) is drained by 2.5M (47.5M left to pay). Burned 7.5M either
 * way: the immediate slash's total.
 */
/* The scenario up to height 11 (node 1 unbonded, its slash pending), allocating
 * through a (may be NULL). */
static int escape_setup(fx *f, const opg_allocator *a)
{
    opg_registry_params rp;
    opg_registry_params_init(&rp);
    rp.unbonding_time = 100;
    opg_slasher_params p;
    opg_slasher_params_init(&p);
    strcpy(p.chain_id, CHAIN);
    p.defer_duration = 500;
    if (opg_registry_new(&f->r, &rp, NULL, a) || opg_slasher_new(&f->s, f->r, &p, a))
        return 1;
    opg_id n1 = id_n(1), d2 = id_n(502);
    opg_u256 amt = u64v(50 * M);
    int rc = mk_node(f->r, 1, 1, OPG_ROLE_CONSENSUS, 100 * M, 1, 100);
    rc |= mk_node(f->r, 2, 2, OPG_ROLE_CONSENSUS, 100 * M, 1, 100);
    rc |= opg_registry_delegate(NULL, f->r, &d2, &n1, &amt, 1, 100);
    rc |= opg_registry_end_block(f->r, 1, 100);
    rc |= opg_registry_end_block(f->r, 5, 150);
    rc |= opg_registry_end_block(f->r, 8, 180);
    opg_double_sign_evidence ev = mk_ds(1, 5, 150, 0);
    rc |= opg_slasher_double_sign(NULL, f->s, &ev, 10, 200);
    rc |= block_end(f, 10, 200);
    rc |= block_end(f, 11, 300);
    return rc;
}

static void run_escape(int undelegate)
{
    fx f;
    CHECK(escape_setup(&f, NULL) == 0);
    opg_registry *r = f.r;
    opg_slasher *s = f.s;
    opg_id n1 = id_n(1), n2 = id_n(2), d2 = id_n(502);
    opg_u256 amt = u64v(50 * M), self = u64v(100 * M);
    opg_pending_slash ps;
    CHECK_OK(opg_slasher_pending_get(&ps, s, 1));
    CHECK_U256(ps.node_part, "7500000");
    CHECK_U256(ps.total, "7500000");
    CHECK_U256(ps.power_tokens, "150000000");
    opg_node_info ni;
    CHECK_OK(opg_registry_node_get(&ni, r, &n1));
    CHECK(ni.status == OPG_NODE_UNBONDED);
    opg_time done = -1;
    CHECK_OK(opg_registry_redelegate(&done, r, &d2, &n1, &n2, &amt, 12, 310));
    CHECK(done == 311);
    CHECK_OK(opg_registry_redelegate(&done, r, &n1, &n1, &n2, &self, 12, 310));
    CHECK(done == 311);
    opg_redelegation_info ri[2];
    size_t nri = 0;
    CHECK_OK(opg_registry_redelegations_of(ri, 2, &nri, r, &d2));
    CHECK(nri == 1 && ri[0].creation_height == 12 && ri[0].completion_time == 311);
    CHECK_U256V(tokens_of(r, 1), "0");
    CHECK_OK(opg_slasher_end_block(s, 12, 310));
    CHECK_OK(opg_registry_end_block(r, 12, 310));
    if (undelegate) {
        opg_u256 got;
        CHECK_OK(opg_registry_undelegate(&got, &done, r, &d2, &n2, &amt, 13, 320));
        CHECK_U256(got, "50000000");
        CHECK(done == 420);
    }
    CHECK_OK(opg_slasher_end_block(s, 14, 500));
    CHECK_OK(opg_registry_end_block(r, 14, 500));
    /* held past their completion: both redelegation entries and 502's unbonding */
    CHECK(n_redelegations(r, 502) == 1 && n_redelegations(r, 1) == 1);
    opg_unbonding_info ui[2];
    size_t nui = 0;
    CHECK_OK(opg_registry_unbondings_of(ui, 2, &nui, r, &d2));
    CHECK(nui == (undelegate ? 1u : 0u));
    CHECK_OK(opg_registry_node_get(&ni, r, &n1)); /* held: not removed */
    CHECK_OK(opg_slasher_end_block(s, 20, 1000));
    size_t n;
    const opg_slasher_record *out = opg_slasher_slashes(s, &n);
    CHECK(n == 1 && out[0].pending_id == 1);
    CHECK_U256(out[0].slash.burned_node, "0");
    CHECK_U256(out[0].slash.burned_unbonding, undelegate ? "2500000" : "0");
    CHECK_U256(out[0].slash.burned_redelegation, undelegate ? "5000000" : "7500000");
    CHECK_U256(out[0].slash.burned_total, "7500000");
    CHECK_U256V(burned_of(r), "7500000");
    if (undelegate) {
        CHECK_OK(opg_registry_unbondings_of(ui, 2, &nui, r, &d2));
        CHECK(nui == 1);
        CHECK_U256(ui[0].balance, "47500000");
        CHECK_U256V(tokens_of(r, 2), "195000000"); /* 200M - 5M */
    } else {
        CHECK_U256V(tokens_of(r, 2), "242500000"); /* 250M - 7.5M */
        CHECK_DECV(del_shares(r, 502, 2), "47500000");
    }
    CHECK_DECV(del_shares(r, 1, 2), "95000000");
    CHECK_OK(opg_registry_end_block(r, 20, 1000));
    CHECK(n_redelegations(r, 502) == 0 && n_redelegations(r, 1) == 0);
    CHECK_OK(opg_registry_unbondings_of(ui, 2, &nui, r, &d2));
    CHECK(nui == 0);
    CHECK_RC(opg_registry_node_get(&ni, r, &n1), OPG_ENOTFOUND); /* released: gone */
    CHECK_OK(opg_registry_check(r));
    CHECK_OK(opg_slasher_check(s));
    fx_free(&f);
}

static void test_no_escape_from_held_node(void)
{
    run_escape(0);
    run_escape(1);
}

/* The held redelegation's new entry at every allocation failure: refused with
 * OPG_ENOMEM changing nothing, and the retry equals a clean run. */
static void test_held_redelegate_oom(void)
{
    opg_id n1 = id_n(1), n2 = id_n(2), d2 = id_n(502);
    opg_u256 amt = u64v(50 * M);
    fx c;
    CHECK(escape_setup(&c, NULL) == 0);
    CHECK_OK(opg_registry_redelegate(NULL, c.r, &d2, &n1, &n2, &amt, 12, 310));
    snap clean;
    take(&clean, &c);
    fx_free(&c);
    int points = 0;
    for (unsigned long k = 1;; k++) {
        failalloc fa;
        failalloc_init(&fa, 0);
        opg_allocator a = failalloc_allocator(&fa);
        fx f;
        CHECK(escape_setup(&f, &a) == 0);
        snap before;
        take(&before, &f);
        fa.fail_at = fa.calls + k;
        int rc = opg_registry_redelegate(NULL, f.r, &d2, &n1, &n2, &amt, 12, 310);
        fa.fail_at = 0;
        if (rc == OPG_OK && fa.failures == 0) {
            snap got;
            take(&got, &f);
            CHECK(same(&got, &clean));
            fx_free(&f);
            CHECK(fa.live_bytes == 0);
            break;
        }
        points++;
        CHECK_RC(rc, OPG_ENOMEM);
        CHECK(unchanged(&before, &f));
        CHECK_OK(opg_registry_redelegate(NULL, f.r, &d2, &n1, &n2, &amt, 12, 310));
        snap got;
        take(&got, &f);
        CHECK(same(&got, &clean));
        fx_free(&f);
        CHECK(fa.live_bytes == 0);
    }
    printf("  held redelegation: %d allocation failure points\n", points);
    CHECK(points > 0);
}

/* The decision's power_reduction: governance lowers staking.power_reduction from
 * 10^6 to 5 * 10^5 during the window. The fixture's slash still takes trunc(200 *
 * 10^6 * 0.05) = 10M (2.5M redelegation, 7.5M node), not trunc(200 * 5 * 10^5 *
 * 0.05) = 5M. */
static void test_power_reduction_of_decision(void)
{
    fx f;
    CHECK(fx_setup(&f, 50, NULL) == 0);
    opg_double_sign_evidence ev = mk_ds(1, 5, 150, 0);
    CHECK_OK(opg_slasher_double_sign(NULL, f.s, &ev, 10, 200));
    CHECK_OK(opg_registry_end_block(f.r, 10, 200));
    CHECK_OK(opg_registry_param_set(f.r, "staking.power_reduction", "500000"));
    /* the saved record keeps it too */
    size_t len;
    CHECK_RC(opg_slasher_save(NULL, 0, &len, f.s), OPG_EBUFS);
    uint8_t *buf = malloc(len);
    CHECK_OK(opg_slasher_save(buf, len, &len, f.s));
    opg_slasher_free(f.s);
    CHECK_OK(opg_slasher_load(&f.s, f.r, buf, len, NULL));
    free(buf);
    CHECK_OK(block_end(&f, 13, 250));
    size_t n;
    const opg_slasher_record *rec = opg_slasher_slashes(f.s, &n);
    (void)rec;
    CHECK_U256V(burned_of(f.r), "10000000");
    CHECK_U256V(tokens_of(f.r, 1), "142500000");
    CHECK_U256V(tokens_of(f.r, 2), "147500000");
    CHECK_OK(opg_registry_check(f.r));
    fx_free(&f);
}

/* The state record's next pending id in a snapshot, patched: the value is the format
 * byte, forgot_height 0, forgot_time INT64_MIN, then the id (big-endian). */
static size_t find_state(const uint8_t *buf, size_t len, uint64_t next)
{
    uint8_t v[25];
    memset(v, 0, sizeof v);
    v[0] = 1;
    v[9] = 0x80;
    for (int i = 0; i < 8; i++)
        v[17 + i] = (uint8_t)(next >> (56 - 8 * i));
    size_t at = SIZE_MAX;
    for (size_t i = 0; i + sizeof v <= len; i++)
        if (memcmp(buf + i, v, sizeof v) == 0) {
            if (at != SIZE_MAX)
                return SIZE_MAX; /* not once */
            at = i + 17;
        }
    return at;
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

/* Pending ids: a snapshot whose next id is UINT64_MAX is refused (OPG_ECORRUPT); one
 * at UINT64_MAX - 1 loads but a deferred slash is refused before anything changes
 * (OPG_EOVERFLOW: its id would leave the next at UINT64_MAX); at UINT64_MAX - 2 one
 * more slash is made (id UINT64_MAX - 2) and the state saves and loads again. */
static void test_pending_ids_exhausted(void)
{
    fx f;
    CHECK(fx_setup(&f, 50, NULL) == 0);
    size_t len;
    CHECK_RC(opg_slasher_save(NULL, 0, &len, f.s), OPG_EBUFS);
    uint8_t *buf = malloc(len);
    CHECK_OK(opg_slasher_save(buf, len, &len, f.s));
    size_t at = find_state(buf, len, 1);
    CHECK(at != SIZE_MAX);
    opg_slasher *s2 = NULL;
    put_be64(buf + at, UINT64_MAX);
    CHECK_RC(opg_slasher_load(&s2, f.r, buf, len, NULL), OPG_ECORRUPT);
    put_be64(buf + at, 0);
    CHECK_RC(opg_slasher_load(&s2, f.r, buf, len, NULL), OPG_ECORRUPT);

    put_be64(buf + at, UINT64_MAX - 1);
    opg_slasher_free(f.s);
    CHECK_OK(opg_slasher_load(&f.s, f.r, buf, len, NULL));
    CHECK_OK(opg_slasher_check(f.s));
    snap before;
    take(&before, &f);
    opg_double_sign_evidence ev = mk_ds(1, 5, 150, 0);
    CHECK_RC(opg_slasher_double_sign(NULL, f.s, &ev, 10, 200), OPG_EOVERFLOW);
    CHECK(unchanged(&before, &f));
    opg_node_info ni;
    opg_id n1 = id_n(1);
    CHECK_OK(opg_registry_node_get(&ni, f.r, &n1));
    CHECK(!ni.jailed);

    put_be64(buf + at, UINT64_MAX - 2);
    opg_slasher_free(f.s);
    CHECK_OK(opg_slasher_load(&f.s, f.r, buf, len, NULL));
    CHECK_OK(opg_slasher_double_sign(NULL, f.s, &ev, 10, 200));
    opg_pending_slash ps;
    CHECK_OK(opg_slasher_pending_get(&ps, f.s, UINT64_MAX - 2));
    CHECK_OK(opg_slasher_check(f.s));
    size_t len2;
    CHECK_RC(opg_slasher_save(NULL, 0, &len2, f.s), OPG_EBUFS);
    uint8_t *buf2 = malloc(len2);
    CHECK_OK(opg_slasher_save(buf2, len2, &len2, f.s));
    CHECK_OK(opg_slasher_load(&s2, f.r, buf2, len2, NULL));
    opg_slasher_free(s2);
    free(buf2);
    free(buf);
    fx_free(&f);
}

/* An undelegation from the held node with staking.unbonding_time 0, in the
 * decision's own block (height 10, time 200): Cosmos's completion would be 200, which
 * the slash's walk (entries completing after 200) skips; held it completes at 201.
 * Applied at 250: 502's entry answers trunc(0.05 * 50M) = 2.5M of its 50M, the
 * redelegation 2.5M, the node 10M - 5M = 5M of its 100M: 95M (as with 502's
 * unbonding in the window). */
static void test_held_undelegate_zero_unbonding_time(void)
{
    fx f;
    CHECK(fx_setup(&f, 50, NULL) == 0);
    opg_double_sign_evidence ev = mk_ds(1, 5, 150, 0);
    CHECK_OK(opg_slasher_double_sign(NULL, f.s, &ev, 10, 200));
    CHECK_OK(opg_registry_param_set(f.r, "staking.unbonding_time", "0"));
    opg_id n1 = id_n(1), d2 = id_n(502);
    opg_u256 amt = u64v(50 * M), got;
    opg_time done = 0;
    CHECK_OK(opg_registry_undelegate(&got, &done, f.r, &d2, &n1, &amt, 10, 200));
    CHECK(done == 201);
    CHECK_OK(opg_registry_end_block(f.r, 10, 200));
    CHECK_OK(block_end(&f, 11, 210)); /* held past 201 */
    opg_unbonding_info u[2];
    size_t n = 0;
    CHECK_OK(opg_registry_unbondings_of(u, 2, &n, f.r, &d2));
    CHECK(n == 1 && u[0].completion_time == 201 && u[0].creation_height == 10);
    CHECK_OK(block_end(&f, 13, 250));
    size_t nr;
    const opg_slasher_record *rec = opg_slasher_slashes(f.s, &nr);
    CHECK(nr == 1);
    CHECK_U256(rec[0].slash.burned_unbonding, "2500000");
    CHECK_U256(rec[0].slash.burned_redelegation, "2500000");
    CHECK_U256(rec[0].slash.burned_node, "5000000");
    CHECK_U256V(tokens_of(f.r, 1), "95000000");
    CHECK_U256V(burned_of(f.r), "10000000");
    CHECK_OK(opg_registry_unbondings_of(u, 2, &n, f.r, &d2));
    CHECK(n == 0); /* released: matured at that end_block with 47.5M */
    CHECK_OK(opg_registry_check(f.r));
    fx_free(&f);
}

int main(void)
{
    keys_init();
    RUN(test_param);
    RUN(test_decided_not_taken);
    RUN(test_same_as_immediate);
    RUN(test_unbonding_in_window_answers);
    RUN(test_held_until_applied);
    RUN(test_cancel);
    RUN(test_cancel_steps);
    RUN(test_end_block_oom);
    RUN(test_save_load_and_records);
    RUN(test_fault_reporter_paid_at_apply);
    RUN(test_order_and_downtime);
    RUN(test_cancel_by_proposal);
    RUN(test_cancel_by_proposal_oom);
    RUN(test_no_escape_from_held_node);
    RUN(test_held_redelegate_oom);
    RUN(test_held_undelegate_zero_unbonding_time);
    RUN(test_power_reduction_of_decision);
    RUN(test_pending_ids_exhausted);
    return harness_done();
}
