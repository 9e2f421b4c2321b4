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

int main(void)
{
    RUN(test_version);
    RUN(test_error_table);
    RUN(test_ids_and_time);
    return harness_done();
}
