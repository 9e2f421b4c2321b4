/* core.c - version, error names and messages, ids, and error detail text. */
#include "internal.h"

const char *opg_version_string(void) { return OPG_VERSION_STRING; }

unsigned opg_version_number(void) { return OPG_VERSION_NUMBER; }

const char *opg_strerror(int code)
{
    switch (code) {
#define OPG_ERROR_MSG_(name, value, msg) \
    case value:                          \
        return msg;
        OPG_ERROR_LIST(OPG_ERROR_MSG_)
#undef OPG_ERROR_MSG_
    }
    return "unknown error";
}

const char *opg_errname(int code)
{
    switch (code) {
#define OPG_ERROR_NAME_(name, value, msg) \
    case value:                           \
        return #name;
        OPG_ERROR_LIST(OPG_ERROR_NAME_)
#undef OPG_ERROR_NAME_
    }
    return "EUNKNOWN";
}

int opg_error_min(void) { return OPG_ERROR_LAST_; }

opg_time opg_time_forever(void) { return OPG_TIME_FOREVER; }

int opg_id_cmp(const opg_id *a, const opg_id *b) { return memcmp(a->bytes, b->bytes, 32); }

uint64_t opgi_mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    x ^= x >> 33;
    return x;
}

/* The big-endian word at p, with one load where the compiler knows the byte order. */
static uint64_t load_be64(const unsigned char *p)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return __builtin_bswap64(v);
#elif defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
#else
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
#endif
}

uint64_t opgi_hash_id(const opg_id *id)
{
    uint64_t h = 0;
    for (int w = 0; w < 4; w++)
        h = opgi_mix64(h ^ load_be64(id->bytes + 8 * w) ^ (uint64_t)w);
    return h;
}

/* Copies as much of s as fits after position at; returns the new position. */
static size_t append(char *dst, size_t at, const char *s)
{
    while (*s && at + 1 < OPGI_ERRMSG_MAX)
        dst[at++] = *s++;
    dst[at] = '\0';
    return at;
}

int opgi_fail(char *errbuf, int code, const char *what, const char *detail)
{
    size_t at = append(errbuf, 0, what ? what : opg_strerror(code));
    if (detail) {
        at = append(errbuf, at, ": ");
        append(errbuf, at, detail);
    }
    return code;
}

void opgi_invariant_fail(char *errbuf, const char *expr)
{
    if (errbuf) {
        size_t at = append(errbuf, 0, "internal error: '");
        at = append(errbuf, at, expr);
        append(errbuf, at, "'");
    }
}
