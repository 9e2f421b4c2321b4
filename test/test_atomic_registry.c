/*
 * test_atomic_registry.c - a registry end_block with many matured entries is
 * all-or-nothing under allocation failure.
 *
 * A registry (with its splitter and slasher) whose end_block at once matures many
 * unbonding and redelegation entries, moves nodes out of and into the active set,
 * finishes unbondings and removes emptied nodes. For n = 1, 2, ... the n-th
 * allocation of that end_block fails: it must return OPG_ENOMEM with every state
 * hash unchanged, no events and nothing leaked, and the retried call must end with
 * the hashes and the exact event list of a run without failures.
 */
#include "registry_util.h"

#include <sodium.h>

#define NODES 24
#define DTORS 60

typedef struct world {
    opg_registry *r;
    opg_splitter *s;
    opg_slasher *sl;
} world;

typedef struct seen {
    uint8_t r[32], s[32], sl[32], events[32];
    size_t n_events;
} seen;

static void look(seen *x, const world *w)
{
    memset(x, 0, sizeof *x);
    opg_registry_state_hash(x->r, w->r);
    opg_splitter_state_hash(x->s, w->s);
    opg_slasher_state_hash(x->sl, w->sl);
    const opg_event *ev = opg_registry_events(w->r, &x->n_events);
    crypto_generichash(x->events, 32, (const unsigned char *)ev, x->n_events * sizeof *ev, NULL, 0);
}

static int same(const seen *a, const seen *b)
{
    return memcmp(a, b, sizeof *a) == 0;
}

/* Builds the world up to the block before the big end_block (at time 1000). */
static int world_new(world *w, const opg_allocator *a)
{
    opg_registry_params rp;
    opg_registry_params_init(&rp);
    rp.unbonding_time = 1000;
    rp.max_validators = 16;
    rp.max_entries = 7;
    opg_u256_from_u64(&rp.power_reduction, 1);
    if (opg_registry_new(&w->r, &rp, NULL, a) || opg_splitter_new(&w->s, w->r, NULL, a) ||
        opg_slasher_new(&w->sl, w->r, NULL, a))
        return 1;
    int rc = 0;
    for (unsigned i = 0; i < NODES; i++)
        rc |= mk_node(w->r, 1 + i, 1000 + 100 * i, 1, 1);
    rc |= opg_registry_end_block(w->r, 1, 1);
    for (unsigned d = 0; d < DTORS; d++) {
        opg_id who = id_n(2000 + d), at = id_n(1 + d % NODES), to = id_n(1 + (d + 5) % NODES);
        opg_u256 amt = u64v(3000 + 10 * d), part = u64v(400 + d), move = u64v(700);
        rc |= opg_registry_delegate(NULL, w->r, &who, &at, &amt, 2, 2);
        rc |= opg_registry_undelegate(NULL, NULL, w->r, &who, &at, &part, 3, 3);
        rc |= opg_registry_redelegate(NULL, w->r, &who, &at, &to, &move, 3, 3);
        opg_u256 fee = u64v(50 + d);
        rc |= opg_splitter_allocate_to_node(w->s, &at, &fee);
    }
    /* the four largest nodes leave: their operators unbond everything, so they are
     * jailed and drop out of the set now, and finish unbonding at the big end_block */
    for (unsigned i = NODES - 4; i < NODES; i++) {
        opg_id op = id_n(1 + i);
        opg_u256 all = u64v(1000 + 100 * i);
        rc |= opg_registry_undelegate(NULL, NULL, w->r, &op, &op, &all, 4, 4);
    }
    rc |= opg_registry_end_block(w->r, 4, 4);
    /* the next end_block: every entry matures, the leavers finish unbonding */
    return rc;
}

static void world_free(world *w)
{
    opg_slasher_free(w->sl);
    opg_splitter_free(w->s);
    opg_registry_free(w->r);
}

static void test_end_block_many_matured_all_or_nothing(void)
{
    world w;
    CHECK(world_new(&w, NULL) == 0);
    CHECK_OK(opg_registry_end_block(w.r, 5, 1004));
    seen ref;
    look(&ref, &w);
    size_t n_ubd = 0, n_red = 0, n_status = 0;
    const opg_event *ev = opg_registry_events(w.r, NULL);
    for (size_t i = 0; i < ref.n_events; i++) {
        n_ubd += ev[i].kind == OPG_EVENT_UNBONDING_MATURED;
        n_red += ev[i].kind == OPG_EVENT_REDELEGATION_MATURED;
        n_status += ev[i].kind == OPG_EVENT_NODE_STATUS;
    }
    /* every delegator's unbonding and redelegation, and the leavers' own unbondings */
    /* every delegator's unbonding and the leavers' own; the redelegations out of the
     * 16 bonded nodes (those out of the 8 unbonded ones completed at once); eight
     * nodes finish unbonding: the four leavers and four that the delegations of
     * height 2 pushed out of the set at height 4 */
    CHECK(n_ubd == DTORS + 4 && n_red == DTORS - 8 * 3 && n_status == 8);
    world_free(&w);

    unsigned points = 0;
    for (unsigned long k = 1;; k++) {
        failalloc fa;
        failalloc_init(&fa, 0);
        opg_allocator a = failalloc_allocator(&fa);
        CHECK(world_new(&w, &a) == 0);
        seen before, after;
        look(&before, &w);
        fa.calls = 0;
        fa.fail_at = k;
        int rc = opg_registry_end_block(w.r, 5, 1004);
        fa.fail_at = 0;
        int done = rc == OPG_OK;
        if (!done) {
            points++;
            CHECK_RC(rc, OPG_ENOMEM);
            look(&after, &w);
            CHECK(memcmp(after.r, before.r, 32) == 0 && memcmp(after.s, before.s, 32) == 0 &&
                  memcmp(after.sl, before.sl, 32) == 0 && after.n_events == 0);
            CHECK_OK(opg_registry_end_block(w.r, 5, 1004));
        }
        look(&after, &w);
        CHECK(same(&after, &ref));
        CHECK_OK(opg_splitter_check(w.s));
        world_free(&w);
        CHECK(fa.live_bytes == 0 && fa.live_blocks == 0);
        if (done)
            break;
        CHECK(k < 1000);
    }
    printf("  end_block maturing %zu entries, %zu events: %u allocation failure points\n",
           n_ubd + n_red, ref.n_events, points);
    CHECK(points >= 2);
}

int main(void)
{
    RUN(test_end_block_many_matured_all_or_nothing);
    return harness_done();
}
