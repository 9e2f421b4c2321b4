/*
 * constants.c - every public OPG_ constant by name, for bindings that cannot read C
 * headers: opg_constant("ROLE_INFERENCE", &v). The table is the one place that lists
 * them; a test checks it against the macros.
 */
#include "opg.h"

#include "internal.h"

typedef struct constant {
    const char *name; /* without the OPG_ prefix */
    uint64_t value;
} constant;

static const constant CONSTANTS[] = {
    {"DEC_STRING_MAX", (uint64_t)(OPG_DEC_STRING_MAX)},
    {"EVIDENCE_DOUBLE_SIGN_SIZE", (uint64_t)(OPG_EVIDENCE_DOUBLE_SIGN_SIZE)},
    {"EVIDENCE_FAULT_SIZE", (uint64_t)(OPG_EVIDENCE_FAULT_SIZE)},
    {"HYPER_MAX_ROUTES", (uint64_t)(OPG_HYPER_MAX_ROUTES)},
    {"PRICER_MAX_DIMENSIONS", (uint64_t)(OPG_PRICER_MAX_DIMENSIONS)},
    {"PRICER_NAME_MAX", (uint64_t)(OPG_PRICER_NAME_MAX)},
    {"PROOF_MAX_BYTES", (uint64_t)(OPG_PROOF_MAX_BYTES)},
    {"RECORDS_HYPER", (uint64_t)(OPG_RECORDS_HYPER)},
    {"RECORDS_PRICER", (uint64_t)(OPG_RECORDS_PRICER)},
    {"RECORDS_REGISTRY", (uint64_t)(OPG_RECORDS_REGISTRY)},
    {"RECORDS_SLASHER", (uint64_t)(OPG_RECORDS_SLASHER)},
    {"RECORDS_SPLITTER", (uint64_t)(OPG_RECORDS_SPLITTER)},
    {"RECORDS_TALLY", (uint64_t)(OPG_RECORDS_TALLY)},
    {"RECORD_KEY_MAX", (uint64_t)(OPG_RECORD_KEY_MAX)},
    {"ROLE_ALL", (uint64_t)(OPG_ROLE_ALL)},
    {"ROLE_CONSENSUS", (uint64_t)(OPG_ROLE_CONSENSUS)},
    {"ROLE_INFERENCE", (uint64_t)(OPG_ROLE_INFERENCE)},
    {"ROLE_VERIFICATION", (uint64_t)(OPG_ROLE_VERIFICATION)},
    {"SLASHER_CHAIN_ID_BUF", (uint64_t)(OPG_SLASHER_CHAIN_ID_BUF)},
    {"SLASHER_CHAIN_ID_MAX", (uint64_t)(OPG_SLASHER_CHAIN_ID_MAX)},
    {"SLASHER_MAX_FAULT_CLASSES", (uint64_t)(OPG_SLASHER_MAX_FAULT_CLASSES)},
    {"TALLY_CHANGES_MAX", (uint64_t)(OPG_TALLY_CHANGES_MAX)},
    {"TALLY_KEY_MAX", (uint64_t)(OPG_TALLY_KEY_MAX)},
    {"TALLY_PAYLOAD_MAX", (uint64_t)(OPG_TALLY_PAYLOAD_MAX)},
    {"TALLY_PREFIX_MAX", (uint64_t)(OPG_TALLY_PREFIX_MAX)},
    {"TALLY_SUMMARY_MAX", (uint64_t)(OPG_TALLY_SUMMARY_MAX)},
    {"TALLY_TITLE_MAX", (uint64_t)(OPG_TALLY_TITLE_MAX)},
    {"TALLY_VALUE_MAX", (uint64_t)(OPG_TALLY_VALUE_MAX)},
    {"TIME_FOREVER", (uint64_t)(OPG_TIME_FOREVER)},
    {"U256_STRING_MAX", (uint64_t)(OPG_U256_STRING_MAX)},
    {"VERSION_MAJOR", (uint64_t)(OPG_VERSION_MAJOR)},
    {"VERSION_MINOR", (uint64_t)(OPG_VERSION_MINOR)},
    {"VERSION_NUMBER", (uint64_t)(OPG_VERSION_NUMBER)},
    {"VERSION_PATCH", (uint64_t)(OPG_VERSION_PATCH)},
    {"VOTE_PRECOMMIT", (uint64_t)(OPG_VOTE_PRECOMMIT)},
    {"VOTE_PREVOTE", (uint64_t)(OPG_VOTE_PREVOTE)},
    {"VOTE_SIGN_BYTES_MAX", (uint64_t)(OPG_VOTE_SIGN_BYTES_MAX)},
};

int opg_constant(uint64_t *value, const char *name)
{
    if (!value || !name)
        return OPG_EINVAL;
    if (strncmp(name, "OPG_", 4) == 0)
        name += 4; /* either spelling */
    for (size_t i = 0; i < OPGI_ARRAY_LEN(CONSTANTS); i++)
        if (strcmp(CONSTANTS[i].name, name) == 0) {
            *value = CONSTANTS[i].value;
            return OPG_OK;
        }
    return OPG_ENOTFOUND;
}

const char *opg_constant_name(size_t i)
{
    return i < OPGI_ARRAY_LEN(CONSTANTS) ? CONSTANTS[i].name : NULL;
}
