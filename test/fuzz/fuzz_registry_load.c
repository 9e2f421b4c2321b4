/*
 * fuzz_registry_load.c - libFuzzer target for the registry's saved-state loader
 * (opg_registry_load).
 *
 * Any input must be refused (OPG_ECORRUPT or OPG_EVERSION, with the out-parameter
 * untouched) or loaded, never crash. Beyond that the target abort()s when:
 *
 *   - a loaded state does not save back to exactly the input bytes, or its state
 *     hash cannot be computed, or opg_registry_check refuses it;
 *   - after a block boundary and a slash on the loaded state (the first node, at a
 *     height and time taken from the input's length), the registry no longer passes
 *     opg_registry_check or no longer round-trips save -> load -> save.
 *
 * Built two ways by the Makefile: with -fsanitize=fuzzer for `make fuzz`, and with
 * test/fuzz/replay.c as a plain program that `make test` runs over the checked-in
 * corpus in test/fuzz/corpus/registry_load/: saved states of several sizes (an empty
 * registry, one node, a few nodes in every status with entries of every kind, a few
 * hundred delegations after random operations) and a few refused variants of them.
 */
#include "opg.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Larger inputs only slow the fuzzer down; the corpus states are far smaller. */
#define MAX_INPUT (1u << 20)

static void fail(const char *what, size_t size)
{
    fprintf(stderr, "fuzz_registry_load: %s (input of %zu bytes)\n", what, size);
    abort();
}

/* Saves r into a malloc'd buffer, or aborts. */
static uint8_t *save(const opg_registry *r, size_t *len, size_t size)
{
    size_t n = 0;
    int rc = opg_registry_save(NULL, 0, &n, r);
    if (rc != OPG_EBUFS && rc != OPG_OK)
        fail("save could not size the state", size);
    uint8_t *b = malloc(n ? n : 1);
    if (!b)
        fail("out of memory", size);
    if (opg_registry_save(b, n, len, r) != OPG_OK || *len != n)
        fail("save failed", size);
    return b;
}

/* save -> load -> save must give the same bytes; aborts otherwise. */
static void roundtrip(const opg_registry *r, size_t size)
{
    size_t n1, n2;
    uint8_t *b1 = save(r, &n1, size);
    opg_registry *q = NULL;
    if (opg_registry_load(&q, b1, n1, NULL) != OPG_OK)
        fail("a state the registry reached does not load", size);
    uint8_t *b2 = save(q, &n2, size);
    if (n1 != n2 || memcmp(b1, b2, n1) != 0)
        fail("save -> load -> save differs", size);
    free(b1);
    free(b2);
    opg_registry_free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return 0;
    opg_registry *r = NULL;
    int rc = opg_registry_load(&r, data, size, NULL);
    if (rc != OPG_OK) {
        if (rc != OPG_ECORRUPT && rc != OPG_EVERSION)
            fail(opg_errname(rc), size);
        if (r != NULL)
            fail("a refused load wrote its out-parameter", size);
        return 0;
    }

    size_t n;
    uint8_t *b = save(r, &n, size);
    if (n != size || memcmp(b, data, size) != 0)
        fail("a loaded state saves to other bytes", size);
    free(b);
    uint8_t h[32];
    if (opg_registry_state_hash(h, r) != OPG_OK)
        fail("no state hash", size);
    if (opg_registry_check(r) != OPG_OK)
        fail("a loaded state fails opg_registry_check", size);

    /* drive it a little: a block boundary, then a slash of the first node */
    opg_height height = (opg_height)size;
    opg_time now = (opg_time)size * 7;
    if (opg_registry_end_block(r, height, now) != OPG_OK)
        fail("end_block failed", size);
    opg_node_info info;
    if (opg_registry_node_at(&info, r, 0) == OPG_OK) {
        opg_dec f;
        opg_dec_from_string(&f, "0.05");
        rc = opg_registry_slash(NULL, r, &info.operator_id, height / 2, info.power, &f, height, now);
        if (rc != OPG_OK && rc != OPG_ESTATUS && rc != OPG_EOVERFLOW)
            fail(opg_errname(rc), size);
    }
    if (opg_registry_check(r) != OPG_OK)
        fail("opg_registry_check fails after end_block and slash", size);
    roundtrip(r, size);
    opg_registry_free(r);
    return 0;
}
