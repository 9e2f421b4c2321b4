/*
 * fuzz_decimal.c - libFuzzer target for the decimal text parsers
 * (opg_dec_from_string, opg_u256_from_string).
 *
 * The input bytes, cut at the first NUL, are parsed as both a dec and a u256.
 * Any input must give OK or an error code, never a crash. Beyond that the target
 * checks the contract against an independent oracle and abort()s on a violation:
 *
 *   - the grammar (SEMANTICS.md section 1): digits, optionally '.' and 1..18
 *     digits for a dec, digits only for a u256; anything else is OPG_EPARSE;
 *   - a well-formed text is OPG_OK, or OPG_EOVERFLOW exactly when its value is
 *     above 2^256 - 1 (raw value for a dec), compared as digit strings;
 *   - what parses formats back to the canonical text (no leading zeros, no
 *     trailing fraction zeros, no '.' for an integer), which re-parses to the same
 *     value and formats to the same text again: parse(format(x)) == x and
 *     format(parse(format(x))) == format(x).
 *
 * Built two ways by the Makefile: with -fsanitize=fuzzer for `make fuzz`, and
 * with test/fuzz/replay.c as a plain program that `make test` runs over the
 * checked-in corpus in test/fuzz/corpus/decimal/.
 */
#include "opg.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Longer inputs than anything meaningful only slow the fuzzer down. */
#define MAX_INPUT 4096

/*
 * The oracle checks every input exactly: any number of leading zeros is accepted by
 * the library, so the digit-run bound is simply the longest input.
 */
#define LIB_DIGIT_RUN_MAX MAX_INPUT

/* 2^256 - 1, the largest u256 and the largest raw dec. */
static const char MAX_DIGITS[] =
    "115792089237316195423570985008687907853269984665640564039457584007913129639935";

static void fail(const char *what, const char *input)
{
    fprintf(stderr, "fuzz_decimal: %s\n  input: \"%.200s\"%s\n", what, input,
            strlen(input) > 200 ? " (cut)" : "");
    abort();
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static size_t digit_run(const char *s)
{
    size_t n = 0;
    while (is_digit(s[n]))
        n++;
    return n;
}

/* Digits of s (length n) without leading zeros, "0" for zero; into out. */
static void strip_leading_zeros(char *out, const char *s, size_t n)
{
    while (n > 1 && *s == '0') {
        s++;
        n--;
    }
    memcpy(out, s, n);
    out[n] = '\0';
}

/* Is the normalised digit string d above 2^256 - 1? */
static int above_max(const char *d)
{
    size_t n = strlen(d), m = sizeof MAX_DIGITS - 1;
    return n != m ? n > m : strcmp(d, MAX_DIGITS) > 0;
}

/* Formats a dec; a valid value must always format into OPG_DEC_STRING_MAX. */
static void dec_text(char *buf, const opg_dec *v, const char *input)
{
    size_t needed = 0;
    if (opg_dec_to_string(buf, OPG_DEC_STRING_MAX, &needed, v) != OPG_OK)
        fail("opg_dec_to_string failed on a parsed value", input);
    if (needed != strlen(buf) + 1)
        fail("opg_dec_to_string: needed is not the text length + 1", input);
}

static void u256_text(char *buf, const opg_u256 *v, const char *input)
{
    size_t needed = 0;
    if (opg_u256_to_string(buf, OPG_U256_STRING_MAX, &needed, v) != OPG_OK)
        fail("opg_u256_to_string failed on a parsed value", input);
    if (needed != strlen(buf) + 1)
        fail("opg_u256_to_string: needed is not the text length + 1", input);
}

static void check_dec(const char *s, size_t len)
{
    /* Oracle: the grammar, the canonical text and the raw digit string. */
    size_t ni = digit_run(s), nf = 0;
    int has_dot = s[ni] == '.';
    if (has_dot)
        nf = digit_run(s + ni + 1);
    int well_formed = ni > 0 && (!has_dot || (nf >= 1 && nf <= 18)) &&
                      ni + (has_dot ? 1 + nf : 0) == len;

    opg_dec v;
    memset(&v, 0xa5, sizeof v);
    const opg_dec before = v;
    int rc = opg_dec_from_string(&v, s);
    if (rc != OPG_OK && memcmp(&v, &before, sizeof v) != 0)
        fail("dec: a failed parse changed the output", s);

    if (ni > LIB_DIGIT_RUN_MAX) {
        if (rc != OPG_EOVERFLOW && rc != OPG_EPARSE && rc != OPG_OK)
            fail("dec: unexpected code for a very long input", s);
        if (rc != OPG_OK)
            return;
    } else if (!well_formed) {
        if (rc != OPG_EPARSE)
            fail("dec: malformed text not refused with OPG_EPARSE", s);
        return;
    }

    /* Well formed: raw = integer digits followed by the fraction padded to 18. */
    char raw[LIB_DIGIT_RUN_MAX + 32 + 1], raw_norm[sizeof raw];
    char canon[LIB_DIGIT_RUN_MAX + 32 + 1];
    size_t rn = 0;
    if (ni <= LIB_DIGIT_RUN_MAX) {
        memcpy(raw, s, ni);
        rn = ni;
        if (has_dot) {
            memcpy(raw + rn, s + ni + 1, nf);
            rn += nf;
        }
        for (size_t k = nf; k < 18; k++)
            raw[rn++] = '0';
        strip_leading_zeros(raw_norm, raw, rn);
        if (above_max(raw_norm)) {
            if (rc != OPG_EOVERFLOW)
                fail("dec: a value above the range was not OPG_EOVERFLOW", s);
            return;
        }
        if (rc != OPG_OK)
            fail("dec: a well-formed value in range was refused", s);
        /* canonical text: integer part without leading zeros, fraction without
         * trailing zeros, no '.' when nothing is left of it */
        strip_leading_zeros(canon, s, ni);
        size_t keep = nf;
        while (keep > 0 && s[ni + keep] == '0')
            keep--;
        if (keep) {
            size_t at = strlen(canon);
            canon[at++] = '.';
            memcpy(canon + at, s + ni + 1, keep);
            canon[at + keep] = '\0';
        }
    }

    char text[OPG_DEC_STRING_MAX], text2[OPG_DEC_STRING_MAX];
    dec_text(text, &v, s);
    if (ni <= LIB_DIGIT_RUN_MAX && strcmp(text, canon) != 0)
        fail("dec: formatted text is not the canonical form of the input", s);

    opg_dec again;
    if (opg_dec_from_string(&again, text) != OPG_OK)
        fail("dec: formatted text does not parse", text);
    if (opg_dec_cmp(&again, &v) != 0)
        fail("dec: parse(format(x)) != x", s);
    dec_text(text2, &again, s);
    if (strcmp(text, text2) != 0)
        fail("dec: format(parse(format(x))) != format(x)", s);

    /* The same value through the raw integer and the 32-byte form. */
    uint8_t be[32];
    opg_dec back;
    opg_dec_to_be32(be, &v);
    opg_dec_from_be32(&back, be);
    if (opg_dec_cmp(&back, &v) != 0)
        fail("dec: 32-byte big-endian round trip differs", s);
}

static void check_u256(const char *s, size_t len)
{
    size_t nd = digit_run(s);
    int well_formed = nd > 0 && nd == len;

    opg_u256 v;
    memset(&v, 0x5a, sizeof v);
    const opg_u256 before = v;
    int rc = opg_u256_from_string(&v, s);
    if (rc != OPG_OK && memcmp(&v, &before, sizeof v) != 0)
        fail("u256: a failed parse changed the output", s);

    if (nd > LIB_DIGIT_RUN_MAX) {
        if (rc != OPG_EOVERFLOW && rc != OPG_EPARSE && rc != OPG_OK)
            fail("u256: unexpected code for a very long input", s);
        if (rc != OPG_OK)
            return;
    } else if (!well_formed) {
        if (rc != OPG_EPARSE)
            fail("u256: malformed text not refused with OPG_EPARSE", s);
        return;
    }

    char canon[LIB_DIGIT_RUN_MAX + 1];
    if (nd <= LIB_DIGIT_RUN_MAX) {
        strip_leading_zeros(canon, s, nd);
        if (above_max(canon)) {
            if (rc != OPG_EOVERFLOW)
                fail("u256: a value above 2^256 - 1 was not OPG_EOVERFLOW", s);
            return;
        }
        if (rc != OPG_OK)
            fail("u256: a well-formed value in range was refused", s);
    }

    char text[OPG_U256_STRING_MAX], text2[OPG_U256_STRING_MAX];
    u256_text(text, &v, s);
    if (nd <= LIB_DIGIT_RUN_MAX && strcmp(text, canon) != 0)
        fail("u256: formatted text is not the canonical form of the input", s);
    opg_u256 again;
    if (opg_u256_from_string(&again, text) != OPG_OK)
        fail("u256: formatted text does not parse", text);
    if (opg_u256_cmp(&again, &v) != 0)
        fail("u256: parse(format(x)) != x", s);
    u256_text(text2, &again, s);
    if (strcmp(text, text2) != 0)
        fail("u256: format(parse(format(x))) != format(x)", s);

    /* A u256 is also a dec's raw integer: its dec text must parse back to it. */
    opg_dec d, d2;
    char dtext[OPG_DEC_STRING_MAX];
    opg_dec_from_raw(&d, &v);
    dec_text(dtext, &d, s);
    if (opg_dec_from_string(&d2, dtext) != OPG_OK || opg_dec_cmp(&d, &d2) != 0)
        fail("u256 as raw dec: parse(format(x)) != x", s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char s[MAX_INPUT + 1];
    if (size > MAX_INPUT)
        size = MAX_INPUT;
    memcpy(s, data, size);
    s[size] = '\0';
    size_t len = strlen(s); /* the parsers see the text up to the first NUL */
    check_dec(s, len);
    check_u256(s, len);
    return 0;
}
