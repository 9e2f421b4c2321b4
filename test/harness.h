/*
 * harness.h - the in-tree test harness: no dependencies, one program per test file.
 *
 *   static void test_something(void) { CHECK(x == 1); CHECK_RC(opg_call(...), OPG_OK); }
 *   int main(void) { RUN(test_something); return harness_done(); }
 *
 * Each test prints "ok <name>" or "FAIL <name>" with the failing line; test/run.sh
 * counts them over every program and prints the closing "N passed, M failed".
 * A CHECK that fails ends the current test function.
 */
#ifndef OPG_TEST_HARNESS_H
#define OPG_TEST_HARNESS_H

#include "opg.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int harness_passed, harness_failed, harness_current_failed;

static void harness_report(const char *file, int line, const char *what)
{
    if (!harness_current_failed)
        printf("  %s:%d: %s\n", file, line, what);
    harness_current_failed = 1;
}

#define CHECK(cond)                                          \
    do {                                                     \
        if (!(cond)) {                                       \
            harness_report(__FILE__, __LINE__, "CHECK(" #cond ")"); \
            return;                                          \
        }                                                    \
    } while (0)

#define CHECK_RC(expr, want)                                                         \
    do {                                                                             \
        int harness_rc_ = (expr), harness_want_ = (want);                                            \
        if (harness_rc_ != harness_want_) {                                                          \
            char msg_[256];                                                          \
            snprintf(msg_, sizeof msg_, "%s returned %s, want %s", #expr,            \
                     opg_errname(harness_rc_), opg_errname(harness_want_));                          \
            harness_report(__FILE__, __LINE__, msg_);                                \
            return;                                                                  \
        }                                                                            \
    } while (0)

#define CHECK_OK(expr) CHECK_RC(expr, OPG_OK)

/* Checks that a u256/dec equals the decimal text `want` (a dec in decimal form). */
#define CHECK_U256(value, want)                                                      \
    do {                                                                             \
        char got_[OPG_U256_STRING_MAX];                                              \
        opg_u256_to_string(got_, sizeof got_, NULL, &(value));                       \
        if (strcmp(got_, (want)) != 0) {                                             \
            char msg_[300];                                                          \
            snprintf(msg_, sizeof msg_, "%s = %s, want %s", #value, got_, (want));   \
            harness_report(__FILE__, __LINE__, msg_);                                \
            return;                                                                  \
        }                                                                            \
    } while (0)

#define CHECK_DEC(value, want)                                                       \
    do {                                                                             \
        char got_[OPG_DEC_STRING_MAX];                                               \
        opg_dec_to_string(got_, sizeof got_, NULL, &(value));                        \
        if (strcmp(got_, (want)) != 0) {                                             \
            char msg_[300];                                                          \
            snprintf(msg_, sizeof msg_, "%s = %s, want %s", #value, got_, (want));   \
            harness_report(__FILE__, __LINE__, msg_);                                \
            return;                                                                  \
        }                                                                            \
    } while (0)

#define RUN(fn) harness_run(#fn, fn)

static void harness_run(const char *name, void (*fn)(void))
{
    harness_current_failed = 0;
    fn();
    if (harness_current_failed) {
        harness_failed++;
        printf("FAIL %s\n", name);
    } else {
        harness_passed++;
        printf("ok   %s\n", name);
    }
    fflush(stdout);
}

static int harness_done(void) { return harness_failed ? 1 : 0; }

/* ------------------------------------------------------- helpers for tests */

/* splitmix64: a fixed-seed generator so every run tests the same cases. */
typedef struct {
    uint64_t s;
} test_rng;

static uint64_t rng_next(test_rng *r)
{
    uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform in [0, n) for n > 0 (tiny bias is fine for tests). */
static uint64_t rng_below(test_rng *r, uint64_t n) { return rng_next(r) % n; }

static opg_u256 u256_of(const char *s)
{
    opg_u256 v;
    if (opg_u256_from_string(&v, s) != OPG_OK) {
        fprintf(stderr, "bad u256 literal %s\n", s);
        abort();
    }
    return v;
}

static opg_dec dec_of(const char *s)
{
    opg_dec v;
    if (opg_dec_from_string(&v, s) != OPG_OK) {
        fprintf(stderr, "bad dec literal %s\n", s);
        abort();
    }
    return v;
}

static opg_u256 u64v(uint64_t x)
{
    opg_u256 v;
    opg_u256_from_u64(&v, x);
    return v;
}

/* An id whose bytes are all zero but the last two: handy, ordered by n. */
static opg_id id_n(unsigned n)
{
    opg_id id;
    memset(&id, 0, sizeof id);
    id.bytes[30] = (uint8_t)(n >> 8);
    id.bytes[31] = (uint8_t)n;
    return id;
}

/* A usable consensus key (an Ed25519 public key, of prime order) for n: the public
 * key of the seed n. Distinct n give distinct keys. */
static inline opg_id cons_key_n(unsigned n)
{
    unsigned char seed[crypto_sign_SEEDBYTES] = {0}, sk[crypto_sign_SECRETKEYBYTES];
    opg_id k;
    for (int i = 0; i < 4; i++)
        seed[i] = (unsigned char)(n >> (8 * i));
    seed[31] = 0xC0;
    crypto_sign_seed_keypair(k.bytes, sk, seed);
    return k;
}

#endif /* OPG_TEST_HARNESS_H */
