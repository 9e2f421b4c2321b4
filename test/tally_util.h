/*
 * tally_util.h - helpers shared by the governance tally's tests (test_tally.c,
 * test_conviction.c): the state hash, and a step that, under an allocator failing
 * on purpose, checks an OPG_ENOMEM left the hash unmoved and runs the step again.
 */
#ifndef OPG_TEST_TALLY_UTIL_H
#define OPG_TEST_TALLY_UTIL_H

#include "failalloc.h"
#include "harness.h"

static void hash_of(uint8_t out[32], const opg_tally *t)
{
    if (opg_tally_state_hash(out, t) != OPG_OK)
        abort();
}

/* The failing allocator of the running test, and the final hash a life leaves. */
static failalloc *fa_now;
static uint8_t fa_hash[32];

/* hash_of without counting as (or failing) one of the test's allocations. */
static void hash_nofail(uint8_t out[32], const opg_tally *t)
{
    unsigned long at = fa_now->fail_at, calls = fa_now->calls;
    fa_now->fail_at = 0;
    hash_of(out, t);
    fa_now->fail_at = at;
    fa_now->calls = calls;
}

/* Runs `expr`; on OPG_ENOMEM checks the hash did not move and runs it again. */
#define STEP(t, expr)                                                                \
    do {                                                                             \
        uint8_t h0_[32], h1_[32];                                                    \
        hash_nofail(h0_, (t));                                                       \
        int st_ = (expr);                                                            \
        if (st_ == OPG_ENOMEM) {                                                     \
            hash_nofail(h1_, (t));                                                   \
            CHECK(memcmp(h0_, h1_, 32) == 0);                                        \
            st_ = (expr);                                                            \
        }                                                                            \
        CHECK_OK(st_);                                                               \
    } while (0)

#endif /* OPG_TEST_TALLY_UTIL_H */
