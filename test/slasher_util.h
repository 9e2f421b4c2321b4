/*
 * slasher_util.h - helpers shared by the slashing engine's tests (test_slasher.c,
 * test_deferred_slash.c): signing keys from fixed seeds, nodes on them, and votes and
 * double-sign evidence signed as a validator would sign them.
 */
#ifndef OPG_TEST_SLASHER_UTIL_H
#define OPG_TEST_SLASHER_UTIL_H

#include "harness.h"

#include <sodium.h>

static const char *CHAIN = "opg-test-1";
#define M UINT64_C(1000000) /* the default power reduction: 1 power = 10^6 base units */

/* Ed25519 key pairs from the seeds 0x40 + i (repeated). */
#define NKEYS 32
static uint8_t PK[NKEYS][32], SK[NKEYS][64];

static void keys_init(void)
{
    if (sodium_init() < 0)
        abort();
    for (int i = 0; i < NKEYS; i++) {
        uint8_t seed[32];
        memset(seed, 0x40 + i, sizeof seed);
        crypto_sign_seed_keypair(PK[i], SK[i], seed);
    }
}

static opg_id key_id(int k)
{
    opg_id id;
    memcpy(id.bytes, PK[k], 32);
    return id;
}

/* Node `op` (operator id_n(op)) with consensus key PK[key] and `self` base units. */
static int mk_node(opg_registry *r, unsigned op, int key, uint32_t roles, uint64_t self,
                   opg_height h, opg_time t)
{
    opg_node_create c;
    memset(&c, 0, sizeof c);
    c.operator_id = id_n(op);
    c.consensus_key = key_id(key);
    c.roles = roles;
    c.commission_max_rate = dec_of("0.5");
    c.commission_max_change_rate = dec_of("0.1");
    c.min_self_delegation = u64v(1);
    c.self_delegation = u64v(self);
    return opg_registry_node_create(r, &c, h, t);
}

/* A vote of key `key` on chain `chain`, signed over opg_slasher_vote_sign_bytes. */
static opg_slasher_vote mk_vote(int key, const char *chain, uint8_t type, uint64_t h,
                                uint32_t round, uint8_t block)
{
    opg_slasher_vote v;
    memset(&v, 0, sizeof v);
    v.type = type;
    v.height = h;
    v.round = round;
    memset(v.block_id, block, 32);
    uint8_t m[OPG_VOTE_SIGN_BYTES_MAX];
    size_t n = 0;
    if (opg_slasher_vote_sign_bytes(m, sizeof m, &n, chain, &v) != OPG_OK)
        abort();
    crypto_sign_detached(v.signature, NULL, m, n, SK[key]);
    return v;
}

/* A valid conflict: key `key` precommits blocks 0xaa and 0xbb at height h, round 0
 * (power 0: the registry's history tells it). */
static opg_double_sign_evidence mk_ds(int key, uint64_t h, opg_time t, uint64_t power)
{
    opg_double_sign_evidence ev;
    memset(&ev, 0, sizeof ev);
    ev.consensus_key = key_id(key);
    ev.vote_a = mk_vote(key, CHAIN, OPG_VOTE_PRECOMMIT, h, 0, 0xaa);
    ev.vote_b = mk_vote(key, CHAIN, OPG_VOTE_PRECOMMIT, h, 0, 0xbb);
    ev.infraction_time = t;
    ev.validator_power = power;
    return ev;
}

#endif /* OPG_TEST_SLASHER_UTIL_H */
