/*
 * test_registry_internal.c - white-box tests of the registry against its engine
 * contract (lib/registry_internal.h): a small fake engine attached with
 * opgi_registry_attach records the hook calls, pushes events the way the splitter
 * will, and can refuse in prepare. Also the internal helpers engines use
 * (opgi_tokens_from_shares with its three roundings) and states that are easiest to
 * set up by writing the records directly.
 */
#include "registry_util.h"

#include "num.h"
#include "registry_internal.h"

/* -------------------------------------------------------------- fake engine */

typedef struct fake {
    int refuse;         /* what prepare returns */
    int push_on_modify; /* push a REWARDS_PAID event from before_delegation_modified */
    size_t prepares, node_created, before_created, before_modified, after_modified, slashed,
        bonded, removed;
    uint32_t last_node, last_del;
    opg_dec fraction;   /* from the last before_node_slashed */
    opg_u256 tokens;    /* the node's tokens when before_node_slashed ran */
    char order[64];     /* hook calls in order: c(reated) b(efore mod) a(fter) s(lashed) */
    size_t n_order;
} fake;

static void note(fake *f, char c)
{
    if (f->n_order + 1 < sizeof f->order) {
        f->order[f->n_order++] = c;
        f->order[f->n_order] = '\0';
    }
}

static int fk_prepare(void *ctx, opg_registry *r, const opgi_plan *plan)
{
    fake *f = ctx;
    (void)r;
    (void)plan;
    f->prepares++;
    return f->refuse;
}

static void fk_node_created(void *ctx, opg_registry *r, uint32_t node)
{
    fake *f = ctx;
    (void)r;
    f->node_created++;
    f->last_node = node;
    note(f, 'n');
}

static void fk_before_created(void *ctx, opg_registry *r, uint32_t node)
{
    fake *f = ctx;
    (void)r;
    f->before_created++;
    f->last_node = node;
    note(f, 'c');
}

static void fk_before_modified(void *ctx, opg_registry *r, uint32_t del)
{
    fake *f = ctx;
    f->before_modified++;
    f->last_del = del;
    note(f, 'b');
    if (f->push_on_modify) {
        opg_event *e = opgi_event_push(r, OPG_EVENT_REWARDS_PAID, &r->nodes[r->dels[del].node]);
        if (e)
            e->account = r->dels[del].delegator;
    }
}

static void fk_after_modified(void *ctx, opg_registry *r, uint32_t del)
{
    fake *f = ctx;
    (void)r;
    f->after_modified++;
    f->last_del = del;
    note(f, 'a');
}

static void fk_slashed(void *ctx, opg_registry *r, uint32_t node, const opg_dec *fraction)
{
    fake *f = ctx;
    f->slashed++;
    f->last_node = node;
    f->fraction = *fraction;
    f->tokens = r->nodes[node].tokens;
    note(f, 's');
}

static void fk_bonded(void *ctx, opg_registry *r, uint32_t node, opg_height height)
{
    fake *f = ctx;
    (void)r;
    (void)height;
    f->bonded++;
    f->last_node = node;
}

static void fk_removed(void *ctx, opg_registry *r, uint32_t node)
{
    fake *f = ctx;
    (void)r;
    f->removed++;
    f->last_node = node;
    note(f, 'r');
}

static void attach(opg_registry *r, fake *f)
{
    memset(f, 0, sizeof *f);
    opgi_engine_hooks h;
    memset(&h, 0, sizeof h);
    h.ctx = f;
    h.prepare = fk_prepare;
    h.node_created = fk_node_created;
    h.before_delegation_created = fk_before_created;
    h.before_delegation_modified = fk_before_modified;
    h.after_delegation_modified = fk_after_modified;
    h.before_node_slashed = fk_slashed;
    h.node_bonded = fk_bonded;
    h.node_removed = fk_removed;
    h.events_per_call = 1;
    if (opgi_registry_attach(r, &h) != OPG_OK)
        abort();
}

/* ------------------------------------------------------------------ hooks */

static void test_hooks_on_stake_changes(void)
{
    opg_registry *r = small_registry();
    fake f;
    attach(r, &f);
    CHECK_OK(mk_node(r, 1, 100, 1, 1000));
    /* node_created, then the self-delegation: before_created, after_modified */
    CHECK(strcmp(f.order, "nca") == 0);
    opg_id op = id_n(1), d1 = dtor(1);
    uint32_t slot = opgi_node_find(r, &op);
    CHECK(slot != OPGI_NONE && f.last_node == slot);
    CHECK(f.last_del == opgi_del_find(r, &op, slot));
    f.n_order = 0;
    CHECK_OK(delegate_u(r, 1, 1, 50, 2, 1000)); /* new: c a */
    CHECK_OK(delegate_u(r, 1, 1, 50, 2, 1000)); /* existing: b a */
    CHECK(strcmp(f.order, "caba") == 0);
    CHECK(f.last_del == opgi_del_find(r, &d1, slot));
    f.n_order = 0;
    opg_u256 got;
    CHECK_OK(undelegate_u(&got, r, &d1, 1, 40, 3, 1000)); /* partial: b a */
    CHECK_OK(undelegate_u(&got, r, &d1, 1, 60, 3, 1001)); /* whole: b, record gone */
    CHECK(strcmp(f.order, "bab") == 0);
    CHECK_OK(opg_registry_end_block(r, 4, 1002));
    CHECK(f.bonded == 1 && f.last_node == slot);
    /* an unbonded node removed when its last shares leave: node_removed */
    opg_node_create c = node_spec(2, 10);
    c.roles = OPG_ROLE_INFERENCE;
    CHECK_OK(opg_registry_node_create(r, &c, 5, 1003));
    opg_id o2 = id_n(2);
    uint32_t slot2 = opgi_node_find(r, &o2);
    f.n_order = 0;
    CHECK_OK(undelegate_u(&got, r, &o2, 2, 10, 5, 1003));
    CHECK(strcmp(f.order, "br") == 0);
    CHECK(f.removed == 1 && f.last_node == slot2);
    CHECK(f.prepares >= 6);
    opg_registry_free(r);
}

/* The effective fraction reaches the splitter before the node's tokens drop. */
static void test_hook_effective_fraction(void)
{
    opg_registry *r = small_registry();
    fake f;
    attach(r, &f);
    opg_id d1 = dtor(1), op = id_n(1);
    opg_u256 got;
    CHECK_OK(mk_node(r, 1, 1000, 1, 1000));
    CHECK_OK(delegate_u(r, 1, 1, 300, 1, 1000));
    CHECK_OK(opg_registry_end_block(r, 1, 1000));
    CHECK_OK(undelegate_u(&got, r, &d1, 1, 150, 5, 1005)); /* node 1150, entry {h5, 150} */
    f.n_order = 0;
    /* infraction 5 at 7, power 1300, fraction 0.1: to_slash 130, the entry pays
     * trunc(0.1 * 150) = 15, remaining 115 of 1150 -> quo_round_up(115, 1150) = 0.1 */
    opg_slash_result res;
    CHECK_OK(slash_u(&res, r, 1, 5, 1300, "0.1", 7, 1010));
    CHECK(f.slashed == 1 && f.last_node == opgi_node_find(r, &op));
    CHECK_DEC(f.fraction, "0.1");
    CHECK_U256(f.tokens, "1150"); /* pre-slash tokens */
    CHECK_DEC(res.effective_fraction, "0.1");
    CHECK_U256(NODE(r, 1)->tokens, "1035");
    CHECK(strcmp(f.order, "s") == 0);
    /* 1035 tokens, to_slash trunc(1035 * 0.3333) = 344 (344.9655):
     * 344 / 1035 = 0.33236714975845410628… rounded up to 0.332367149758454107 */
    CHECK_OK(slash_u(&res, r, 1, 7, 1035, "0.3333", 7, 1011));
    CHECK_DEC(f.fraction, "0.332367149758454107");
    CHECK_U256(f.tokens, "1035");
    /* capped at 1: power 5000 at the infraction, everything goes */
    CHECK_OK(slash_u(&res, r, 1, 7, 5000, "0.5", 7, 1012));
    CHECK_DEC(f.fraction, "1");
    CHECK_U256(f.tokens, "691");
    CHECK(f.slashed == 3);
    /* nothing to take from the node (the entry pays all of to_slash): no hook */
    CHECK_OK(slash_u(&res, r, 1, 5, 100, "0.1", 8, 1013));
    CHECK_U256(res.burned_unbonding, "15"); /* s = trunc(0.1 * 150) >= to_slash 10 */
    CHECK_U256(res.burned_node, "0");
    CHECK(f.slashed == 3);
    opg_registry_free(r);
}

/* An engine refusing in prepare refuses the call: nothing changes anywhere. */
static void test_engine_refusal_changes_nothing(void)
{
    opg_registry *r = small_registry();
    fake f;
    attach(r, &f);
    CHECK_OK(mk_node(r, 1, 1000, 1, 1000));
    CHECK_OK(mk_node(r, 2, 1000, 1, 1000));
    CHECK_OK(opg_registry_end_block(r, 1, 1000));
    CHECK_OK(delegate_u(r, 1, 1, 300, 2, 1000));
    opg_id d1 = dtor(1), o1 = id_n(1);
    opg_u256 got;
    opg_time done;
    CHECK_OK(redelegate_u(&done, r, &d1, 1, 2, 100, 3, 1001));
    CHECK_OK(undelegate_u(&got, r, &d1, 1, 50, 3, 1001));
    f.refuse = OPG_EINVARIANT;
    size_t calls = f.before_created + f.before_modified + f.after_modified + f.slashed;
    opg_node_create c = node_spec(3, 10);
    opg_u256 a = u64v(5);
    CHECK_REFUSED(r, opg_registry_node_create(r, &c, 4, 1002), OPG_EINVARIANT);
    CHECK_REFUSED(r, delegate_u(r, 1, 1, 10, 4, 1002), OPG_EINVARIANT);
    CHECK_REFUSED(r, delegate_u(r, 2, 1, 10, 4, 1002), OPG_EINVARIANT);
    CHECK_REFUSED(r, undelegate_u(&got, r, &d1, 1, 10, 4, 1002), OPG_EINVARIANT);
    CHECK_REFUSED(r, redelegate_u(&done, r, &d1, 1, 2, 10, 4, 1002), OPG_EINVARIANT);
    CHECK_REFUSED(r, opg_registry_cancel_unbonding(r, &d1, &o1, 3, &a, 4, 1002), OPG_EINVARIANT);
    opg_slash_result res;
    CHECK_REFUSED(r, slash_u(&res, r, 1, 3, 1000, "0.1", 4, 1002), OPG_EINVARIANT);
    CHECK(f.before_created + f.before_modified + f.after_modified + f.slashed == calls);
    CHECK(f.node_created == 2);
    CHECK(opg_registry_node_count(r) == 2);
    f.refuse = 0;
    CHECK_OK(slash_u(&res, r, 1, 3, 1000, "0.1", 4, 1002));
    opg_registry_free(r);
}

/*
 * A slash that unbonds at a destination once per redelegation entry calls the
 * delegation hooks once per entry, and each call may add engine events: room must
 * be reserved per entry, not per distinct delegation. 20 entries 1 -> 2 of 10 each;
 * slash 0.1 for an infraction before all of them: each entry has s = 1 and unbonds
 * mul(0.1, 10) = 1 share at node 2 -> 20 settlements (REWARDS_PAID from the fake).
 */
static void test_slash_reserves_events_per_entry(void)
{
    opg_registry_params p = small_params();
    p.max_entries = 64;
    opg_registry *r = NULL;
    CHECK_OK(opg_registry_new(&r, &p, NULL, NULL));
    fake f;
    attach(r, &f);
    CHECK_OK(mk_node(r, 1, 1000, 1, 1000));
    CHECK_OK(mk_node(r, 2, 1000, 1, 1000));
    CHECK_OK(opg_registry_end_block(r, 1, 1000));
    CHECK_OK(delegate_u(r, 1, 1, 1000, 2, 1000));
    opg_id d1 = dtor(1);
    opg_time done;
    for (unsigned h = 10; h < 30; h++)
        CHECK_OK(redelegate_u(&done, r, &d1, 1, 2, 10, h, 1000 + h));
    f.push_on_modify = 1;
    size_t before = f.before_modified;
    opg_slash_result res;
    CHECK_OK(slash_u(&res, r, 1, 10, 2000, "0.1", 30, 1030));
    CHECK_U256(res.burned_redelegation, "20");
    CHECK(f.before_modified - before == 20);
    CHECK(count_kind(r, OPG_EVENT_REWARDS_PAID) == 20);
    CHECK(count_kind(r, OPG_EVENT_BURNED) == 1);
    opg_registry_free(r);
}

/* ------------------------------------------------------- tokens_from_shares */

static void test_tokens_from_shares_roundings(void)
{
    opgi_node n;
    memset(&n, 0, sizeof n);
    opg_dec out, s = dec_of("1");
    /* tokens 10, shares 3: 1 share is worth 10/3 = 3.3333… */
    n.tokens = u64v(10);
    n.delegator_shares = dec_of("3");
    CHECK_OK(opgi_tokens_from_shares(&out, &n, &s, OPGI_TRUNC));
    CHECK_DEC(out, "3.333333333333333333");
    CHECK_OK(opgi_tokens_from_shares(&out, &n, &s, OPGI_HALF_EVEN));
    CHECK_DEC(out, "3.333333333333333333");
    CHECK_OK(opgi_tokens_from_shares(&out, &n, &s, OPGI_CEIL));
    CHECK_DEC(out, "3.333333333333333334");
    /* tokens 2, shares 3: 0.6666… truncated, half even (up), round up */
    n.tokens = u64v(2);
    CHECK_OK(opgi_tokens_from_shares(&out, &n, &s, OPGI_TRUNC));
    CHECK_DEC(out, "0.666666666666666666");
    CHECK_OK(opgi_tokens_from_shares(&out, &n, &s, OPGI_HALF_EVEN));
    CHECK_DEC(out, "0.666666666666666667");
    CHECK_OK(opgi_tokens_from_shares(&out, &n, &s, OPGI_CEIL));
    CHECK_DEC(out, "0.666666666666666667");
    /* an exact value is the same under every rounding */
    n.tokens = u64v(300);
    n.delegator_shares = dec_of("600");
    s = dec_of("7");
    CHECK_OK(opgi_tokens_from_shares(&out, &n, &s, OPGI_TRUNC));
    CHECK_DEC(out, "3.5");
    CHECK_OK(opgi_tokens_from_shares(&out, &n, &s, OPGI_CEIL));
    CHECK_DEC(out, "3.5");
    /* shares * tokens beyond 256 bits (Cosmos' LegacyDec holds it): 10^30 shares of
     * 2 * 10^30 with 10^31 tokens are worth exactly 5 * 10^30 tokens */
    n.tokens = u256_of("10000000000000000000000000000000");
    n.delegator_shares = dec_of("2000000000000000000000000000000");
    s = dec_of("1000000000000000000000000000000");
    for (int mode = OPGI_TRUNC; mode <= OPGI_HALF_EVEN; mode++) {
        CHECK_OK(opgi_tokens_from_shares(&out, &n, &s, mode));
        CHECK_DEC(out, "5000000000000000000000000000000");
    }
    /* no shares: 0 */
    n.delegator_shares = dec_of("0");
    CHECK_OK(opgi_tokens_from_shares(&out, &n, &s, OPGI_HALF_EVEN));
    CHECK_DEC(out, "0");
}

/* ----------------------------------------------- the whole delegation rule */

/*
 * A node with 1 token and 10 shares (raw 10^19): D1 holds 9.999999999999999996 shares,
 * the operator 0.000000000000000004. D1's shares are worth
 * 9.999999999999999996 * 1 / 10 = 0.9999999999999999996 -> quo rounds to 1, so D1's
 * delegation reports 1 token, "what an undelegation of all yields". Undelegating 1 is
 * the whole delegation and takes exactly D1's shares (shares_from_tokens(1) would be
 * trunc(10 * 1 / 1) = 10 shares, more than D1 holds). D1 receives
 * truncate_int(1) = 1; the operator's dust shares are left with 0 tokens.
 */
static opg_registry *rounding_up_node(void)
{
    opg_registry *r = small_registry();
    if (mk_node(r, 1, 5, 1, 1000) || delegate_u(r, 1, 1, 5, 1, 1000))
        abort();
    opg_id op = id_n(1), d1 = dtor(1);
    uint32_t s = opgi_node_find(r, &op);
    opgi_node *n = &r->nodes[s];
    n->tokens = u64v(1);
    n->delegator_shares = dec_of("10");
    r->dels[opgi_del_find(r, &d1, s)].shares = dec_of("9.999999999999999996");
    r->dels[opgi_del_find(r, &op, s)].shares = dec_of("0.000000000000000004");
    if (opg_registry_check(r) != OPG_OK)
        abort();
    return r;
}

static void test_whole_delegation_when_value_rounds_up(void)
{
    opg_registry *r = rounding_up_node();
    opg_id d1 = dtor(1);
    opg_delegation_info d = del_of(r, &d1, 1, NULL);
    CHECK_U256(d.tokens, "1");
    opg_u256 got;
    CHECK_OK(undelegate_u(&got, r, &d1, 1, 1, 2, 1001));
    CHECK_U256(got, "1");
    int found;
    del_of(r, &d1, 1, &found);
    CHECK(!found);
    CHECK_U256(NODE(r, 1)->tokens, "0");
    CHECK_DEC(NODE(r, 1)->delegator_shares, "0.000000000000000004");
    CHECK_OK(opg_registry_check(r));
    opg_registry_free(r);

    /* the same for a redelegation of the whole */
    r = rounding_up_node();
    CHECK_OK(mk_node(r, 2, 10, 1, 1000));
    opg_time done;
    CHECK_OK(redelegate_u(&done, r, &d1, 1, 2, 1, 2, 1001));
    del_of(r, &d1, 1, &found);
    CHECK(!found);
    CHECK_DEC(DEL(r, &d1, 2)->shares, "1");
    opg_registry_free(r);
}

int main(void)
{
    RUN(test_hooks_on_stake_changes);
    RUN(test_hook_effective_fraction);
    RUN(test_engine_refusal_changes_nothing);
    RUN(test_slash_reserves_events_per_entry);
    RUN(test_tokens_from_shares_roundings);
    RUN(test_whole_delegation_when_value_rounds_up);
    return harness_done();
}
