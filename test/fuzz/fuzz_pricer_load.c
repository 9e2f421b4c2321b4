/*
 * fuzz_pricer_load.c - the fee pricer's saved-state loader on arbitrary bytes.
 *
 * Oracle, for every input:
 *   - a refusal is OPG_ECORRUPT or OPG_EVERSION, sets nothing and leaks nothing;
 *   - what loads saves back to exactly the input bytes, and its state hash is the
 *     root of its records, which rebuild it (load_records against that root) into
 *     a pricer that saves to the same bytes;
 *   - the loaded pricer satisfies its invariants (base fees within bounds, usage
 *     within limits, classes in order), every parameter reads back and setting it
 *     to the value read changes nothing (the loader accepts no state that the
 *     parameter rules forbid);
 *   - it keeps working: every class is quoted and charged (a quote succeeds exactly
 *     when a charge with an unlimited max fee does, with the same price and a
 *     receipt whose parts add up), end_block keeps the bounds, and save -> load ->
 *     save is the identity afterwards;
 *   - failing each allocation of the load in turn gives OPG_ENOMEM and leaks nothing.
 */
#include "fuzz_util.h"

/* Sets every key to the text it reads back: must succeed and change nothing. */
static void params_round_trip(opg_pricer *p)
{
    uint8_t h0[32], h1[32];
    opg_pricer_state_hash(h0, p);
    for (size_t i = 0;; i++) {
        const char *key = opg_pricer_param_key(p, i);
        if (!key)
            break;
        char buf[512];
        size_t need = 0;
        int rc = opg_pricer_param_get(buf, sizeof buf, &need, p, key);
        FZ_ASSERT(rc == OPG_OK, "param_get(%s): %s", key, opg_errname(rc));
        FZ_ASSERT(need == strlen(buf) + 1, "param_get(%s): needed is not length + 1", key);
        char copy[512];
        memcpy(copy, buf, need);
        rc = opg_pricer_param_set(p, key, copy);
        FZ_ASSERT(rc == OPG_OK, "param_set(%s, \"%s\") of the loaded value: %s (%s)", key, copy,
                  opg_errname(rc), opg_pricer_last_error(p));
        opg_pricer_state_hash(h1, p);
        FZ_ASSERT(memcmp(h0, h1, 32) == 0, "param_set(%s) of its own value changed the state", key);
    }
}

/* Quotes and charges one unit of every dimension under every class. */
static void exercise(opg_pricer *p)
{
    size_t nd = opg_pricer_dimension_count(p);
    size_t nc = opg_pricer_class_count(p);
    static const opg_id verifiers[2] = {{{2}}, {{1}}};
    opg_u256 zero = fz_u256_u64(0), tip = fz_u256_u64(3);
    for (size_t i = 0; i <= nc && i < 64; i++) {
        opg_pricer_request rq;
        memset(&rq, 0, sizeof rq);
        if (i < nc) {
            opg_pricer_class c;
            FZ_ASSERT(opg_pricer_class_at(&c, p, i) == OPG_OK, "class_at");
            rq.model_class = c.id;
        } else {
            rq.model_class = 0xfffffff0u; /* most likely unknown */
        }
        for (size_t d = 0; d < nd; d++)
            rq.units[d] = fz_u256_u64(1 + d);
        uint8_t h0[32], h1[32];
        opg_pricer_state_hash(h0, p);
        opg_pricer_price q;
        int qrc = opg_pricer_quote(&q, p, &rq);
        opg_pricer_state_hash(h1, p);
        FZ_ASSERT(memcmp(h0, h1, 32) == 0, "quote changed the state");
        FZ_ASSERT(qrc == OPG_OK || qrc == OPG_ECLASS || qrc == OPG_EOVERFLOW || qrc == OPG_EZERO ||
                      qrc == OPG_ELIMIT,
                  "quote: unexpected %s", opg_errname(qrc));
        opg_pricer_receipt r;
        opg_u256 amounts[2];
        int crc = opg_pricer_charge(&r, amounts, p, &rq, &FZ_U256_MAX, i % 2 ? &tip : &zero,
                                    verifiers, 2);
        FZ_ASSERT(crc == qrc, "quote %s but charge %s", opg_errname(qrc), opg_errname(crc));
        if (crc == OPG_OK)
            fz_check_receipt(&r, &q, &FZ_U256_MAX, i % 2 ? &tip : &zero, amounts, 2);
        else {
            opg_pricer_state_hash(h1, p);
            FZ_ASSERT(memcmp(h0, h1, 32) == 0, "a refused charge changed the state");
        }
        fz_pricer_invariants(p);
    }
    opg_u256 fees[OPG_PRICER_MAX_DIMENSIONS];
    FZ_ASSERT(opg_pricer_end_block(fees, p) == OPG_OK, "end_block failed");
    fz_pricer_invariants(p);
    for (size_t d = 0; d < nd; d++) {
        opg_pricer_dimension_state st;
        opg_pricer_dimension_get(NULL, &st, p, d);
        FZ_ASSERT(fz_u256_eq(&st.base_fee, &fees[d]) && opg_u256_is_zero(&st.usage),
                  "end_block: reported base fee differs or usage not reset");
    }
    FZ_ASSERT(opg_pricer_end_block(NULL, p) == OPG_OK, "second end_block failed");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    failalloc fa;
    failalloc_init(&fa, 0);
    opg_allocator a = failalloc_allocator(&fa);
    opg_pricer *p = NULL;
    int rc = opg_pricer_load(&p, data, size, &a);
    if (rc != OPG_OK) {
        FZ_ASSERT(rc == OPG_ECORRUPT || rc == OPG_EVERSION, "load refused with %s", opg_errname(rc));
        FZ_ASSERT(p == NULL, "a refused load set *out");
        FZ_ASSERT(fa.live_bytes == 0 && fa.live_blocks == 0, "a refused load leaked %lld bytes",
                  fa.live_bytes);
        return 0;
    }
    unsigned long load_allocs = fa.calls;

    size_t len;
    uint8_t *saved = fz_save(&len, fz_save_pricer, p, "pricer");
    FZ_ASSERT(len == size && memcmp(saved, data, size) == 0, "loaded state saves to other bytes");
    free(saved);
    uint8_t h[32];
    FZ_ASSERT(opg_pricer_state_hash(h, p) == OPG_OK, "state hash");
    record_store st;
    memset(&st, 0, sizeof st);
    FZ_ASSERT(opg_pricer_records(p, store_sink, &st) == OPG_OK, "records");
    opg_pricer *from_records = NULL;
    rc = opg_pricer_load_records(&from_records, store_next, &st, h, NULL);
    FZ_ASSERT(rc == OPG_OK, "its records do not rebuild it against its state hash: %s", opg_errname(rc));
    saved = fz_save(&len, fz_save_pricer, from_records, "pricer");
    FZ_ASSERT(len == size && memcmp(saved, data, size) == 0, "rebuilt from records, it saves to other bytes");
    free(saved);
    opg_pricer_free(from_records);
    store_free(&st);

    fz_pricer_invariants(p);
    params_round_trip(p);
    exercise(p);

    /* save -> load -> save after use */
    uint8_t *b1 = fz_save(&len, fz_save_pricer, p, "pricer");
    opg_pricer *q = NULL;
    rc = opg_pricer_load(&q, b1, len, &a);
    FZ_ASSERT(rc == OPG_OK, "reloading a saved state: %s", opg_errname(rc));
    size_t len2;
    uint8_t *b2 = fz_save(&len2, fz_save_pricer, q, "pricer");
    FZ_ASSERT(len2 == len && memcmp(b1, b2, len) == 0, "save -> load -> save differs");
    free(b1);
    free(b2);
    opg_pricer_free(q);
    opg_pricer_free(p);
    FZ_ASSERT(fa.live_bytes == 0 && fa.live_blocks == 0, "leaked %lld bytes", fa.live_bytes);

    /* the same load, failing each of its allocations in turn */
    for (unsigned long n = 1; n <= load_allocs; n++) {
        failalloc_init(&fa, n);
        q = NULL;
        rc = opg_pricer_load(&q, data, size, &a);
        FZ_ASSERT(rc == OPG_ENOMEM && q == NULL, "load with allocation %lu failing: %s", n,
                  opg_errname(rc));
        FZ_ASSERT(fa.live_bytes == 0 && fa.live_blocks == 0,
                  "load with allocation %lu failing leaked %lld bytes", n, fa.live_bytes);
    }
    return 0;
}
