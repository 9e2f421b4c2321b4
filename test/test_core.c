/* test_core.c - version, error table, ids. */
#include "harness.h"

static void test_version(void)
{
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", OPG_VERSION_MAJOR, OPG_VERSION_MINOR,
             OPG_VERSION_PATCH);
    CHECK(strcmp(opg_version_string(), want) == 0);
    CHECK(strcmp(OPG_VERSION_STRING, want) == 0);
    CHECK(opg_version_number() == OPG_VERSION_NUMBER);
    CHECK(opg_version_number() ==
          (unsigned)(OPG_VERSION_MAJOR * 10000 + OPG_VERSION_MINOR * 100 + OPG_VERSION_PATCH));
}

static void test_error_table(void)
{
    CHECK(strcmp(opg_errname(OPG_OK), "OK") == 0);
    CHECK(strcmp(opg_errname(OPG_EOVERFLOW), "EOVERFLOW") == 0);
    CHECK(strcmp(opg_errname(OPG_EBUFS), "EBUFS") == 0);
    CHECK(strcmp(opg_strerror(OPG_ENOMEM), "out of memory") == 0);
    /* every code from 0 down to the lowest has a distinct name and a message */
    for (int c = 0; c >= opg_error_min(); c--) {
        CHECK(opg_strerror(c) != NULL && strcmp(opg_strerror(c), "unknown error") != 0);
        CHECK(strcmp(opg_errname(c), "EUNKNOWN") != 0);
        for (int d = c - 1; d >= opg_error_min(); d--)
            CHECK(strcmp(opg_errname(c), opg_errname(d)) != 0);
    }
    /* never NULL, even for values outside the list */
    int odd[] = {1, 42, opg_error_min() - 1, -1000, 2147483647, -2147483647 - 1};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        CHECK(strcmp(opg_strerror(odd[i]), "unknown error") == 0);
        CHECK(strcmp(opg_errname(odd[i]), "EUNKNOWN") == 0);
    }
    /* codes are never renumbered: pin a few */
    CHECK(OPG_EINVAL == -1 && OPG_EOVERFLOW == -2 && OPG_EPARSE == -4 && OPG_ENOMEM == -7 &&
          OPG_EBUFS == -8 && OPG_EINVARIANT == -11);
    /* the two codes the conviction and proof-of-authority branches each took as -39:
     * EPOA kept it, ELOCKED is -40 and the lowest */
    CHECK(OPG_EPOA == -39 && OPG_ELOCKED == -40 && opg_error_min() == OPG_ELOCKED);
}

static void test_ids_and_time(void)
{
    opg_id a = id_n(1), b = id_n(2);
    CHECK(opg_id_cmp(&a, &b) < 0);
    CHECK(opg_id_cmp(&b, &a) > 0);
    CHECK(opg_id_cmp(&a, &a) == 0);
    CHECK(opg_time_forever() == OPG_TIME_FOREVER);
    CHECK(OPG_TIME_FOREVER == INT64_MAX);
    CHECK(opg_u256_string_max() == OPG_U256_STRING_MAX);
    CHECK(opg_dec_string_max() == OPG_DEC_STRING_MAX);
}

static void test_constants(void)
{
    uint64_t v = 0;
    CHECK(opg_constant(&v, "DEC_STRING_MAX") == OPG_OK && v == (uint64_t)(OPG_DEC_STRING_MAX));
    CHECK(opg_constant(&v, "EVIDENCE_DOUBLE_SIGN_SIZE") == OPG_OK && v == (uint64_t)(OPG_EVIDENCE_DOUBLE_SIGN_SIZE));
    CHECK(opg_constant(&v, "EVIDENCE_FAULT_SIZE") == OPG_OK && v == (uint64_t)(OPG_EVIDENCE_FAULT_SIZE));
    CHECK(opg_constant(&v, "HYPER_MAX_ROUTES") == OPG_OK && v == (uint64_t)(OPG_HYPER_MAX_ROUTES));
    CHECK(opg_constant(&v, "PRICER_MAX_DIMENSIONS") == OPG_OK && v == (uint64_t)(OPG_PRICER_MAX_DIMENSIONS));
    CHECK(opg_constant(&v, "PRICER_NAME_MAX") == OPG_OK && v == (uint64_t)(OPG_PRICER_NAME_MAX));
    CHECK(opg_constant(&v, "PROOF_MAX_BYTES") == OPG_OK && v == (uint64_t)(OPG_PROOF_MAX_BYTES));
    CHECK(opg_constant(&v, "ROLE_ALL") == OPG_OK && v == (uint64_t)(OPG_ROLE_ALL));
    CHECK(opg_constant(&v, "ROLE_CONSENSUS") == OPG_OK && v == (uint64_t)(OPG_ROLE_CONSENSUS));
    CHECK(opg_constant(&v, "ROLE_INFERENCE") == OPG_OK && v == (uint64_t)(OPG_ROLE_INFERENCE));
    CHECK(opg_constant(&v, "ROLE_VERIFICATION") == OPG_OK && v == (uint64_t)(OPG_ROLE_VERIFICATION));
    CHECK(opg_constant(&v, "SLASHER_CHAIN_ID_BUF") == OPG_OK && v == (uint64_t)(OPG_SLASHER_CHAIN_ID_BUF));
    CHECK(opg_constant(&v, "SLASHER_CHAIN_ID_MAX") == OPG_OK && v == (uint64_t)(OPG_SLASHER_CHAIN_ID_MAX));
    CHECK(opg_constant(&v, "SLASHER_MAX_FAULT_CLASSES") == OPG_OK && v == (uint64_t)(OPG_SLASHER_MAX_FAULT_CLASSES));
    CHECK(opg_constant(&v, "TALLY_CHANGES_MAX") == OPG_OK && v == (uint64_t)(OPG_TALLY_CHANGES_MAX));
    CHECK(opg_constant(&v, "TALLY_KEY_MAX") == OPG_OK && v == (uint64_t)(OPG_TALLY_KEY_MAX));
    CHECK(opg_constant(&v, "TALLY_PAYLOAD_MAX") == OPG_OK && v == (uint64_t)(OPG_TALLY_PAYLOAD_MAX));
    CHECK(opg_constant(&v, "RECORDS_HYPER") == OPG_OK && v == (uint64_t)(OPG_RECORDS_HYPER));
    CHECK(opg_constant(&v, "RECORDS_PRICER") == OPG_OK && v == (uint64_t)(OPG_RECORDS_PRICER));
    CHECK(opg_constant(&v, "RECORDS_REGISTRY") == OPG_OK && v == (uint64_t)(OPG_RECORDS_REGISTRY));
    CHECK(opg_constant(&v, "RECORDS_SLASHER") == OPG_OK && v == (uint64_t)(OPG_RECORDS_SLASHER));
    CHECK(opg_constant(&v, "RECORDS_SPLITTER") == OPG_OK && v == (uint64_t)(OPG_RECORDS_SPLITTER));
    CHECK(opg_constant(&v, "RECORDS_TALLY") == OPG_OK && v == (uint64_t)(OPG_RECORDS_TALLY));
    CHECK(opg_constant(&v, "RECORD_KEY_MAX") == OPG_OK && v == (uint64_t)(OPG_RECORD_KEY_MAX));
    CHECK(opg_constant(&v, "TALLY_PREFIX_MAX") == OPG_OK && v == (uint64_t)(OPG_TALLY_PREFIX_MAX));
    CHECK(opg_constant(&v, "TALLY_SUMMARY_MAX") == OPG_OK && v == (uint64_t)(OPG_TALLY_SUMMARY_MAX));
    CHECK(opg_constant(&v, "TALLY_TITLE_MAX") == OPG_OK && v == (uint64_t)(OPG_TALLY_TITLE_MAX));
    CHECK(opg_constant(&v, "TALLY_VALUE_MAX") == OPG_OK && v == (uint64_t)(OPG_TALLY_VALUE_MAX));
    CHECK(opg_constant(&v, "TIME_FOREVER") == OPG_OK && v == (uint64_t)(OPG_TIME_FOREVER));
    CHECK(opg_constant(&v, "U256_STRING_MAX") == OPG_OK && v == (uint64_t)(OPG_U256_STRING_MAX));
    CHECK(opg_constant(&v, "VERSION_MAJOR") == OPG_OK && v == (uint64_t)(OPG_VERSION_MAJOR));
    CHECK(opg_constant(&v, "VERSION_MINOR") == OPG_OK && v == (uint64_t)(OPG_VERSION_MINOR));
    CHECK(opg_constant(&v, "VERSION_NUMBER") == OPG_OK && v == (uint64_t)(OPG_VERSION_NUMBER));
    CHECK(opg_constant(&v, "VERSION_PATCH") == OPG_OK && v == (uint64_t)(OPG_VERSION_PATCH));
    CHECK(opg_constant(&v, "VOTE_PRECOMMIT") == OPG_OK && v == (uint64_t)(OPG_VOTE_PRECOMMIT));
    CHECK(opg_constant(&v, "VOTE_PREVOTE") == OPG_OK && v == (uint64_t)(OPG_VOTE_PREVOTE));
    CHECK(opg_constant(&v, "VOTE_SIGN_BYTES_MAX") == OPG_OK && v == (uint64_t)(OPG_VOTE_SIGN_BYTES_MAX));
    CHECK(opg_constant(&v, "OPG_ROLE_INFERENCE") == OPG_OK && v == OPG_ROLE_INFERENCE);
    CHECK_RC(opg_constant(&v, "NO_SUCH_THING"), OPG_ENOTFOUND);
    CHECK_RC(opg_constant(NULL, "ROLE_ALL"), OPG_EINVAL);
    size_t n = 0;
    while (opg_constant_name(n))
        n++;
    CHECK(n == 37); /* every constant listed once */
}

int main(void)
{
    RUN(test_version);
    RUN(test_error_table);
    RUN(test_ids_and_time);
    RUN(test_constants);
    return harness_done();
}
