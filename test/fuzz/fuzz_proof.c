/*
 * fuzz_proof.c - libFuzzer target for the proof verifier (opg_proof_verify).
 *
 * Input: root (32 bytes), present (1 byte, low bit), key length (1 byte), key,
 * value length (1 byte), value, and the rest is the proof. Short inputs are
 * padded with zeros for the fixed fields. The proof is copied into a buffer of
 * exactly its length, so a read past its end is an AddressSanitizer error.
 * Any input must give OK or OPG_EPROOF, never a crash. The target abort()s if one
 * proof shows both that the key is present with the value and that it is absent
 * (it would take a BLAKE2b collision).
 *
 * Built two ways by the Makefile, as every target: with -fsanitize=fuzzer for
 * `make fuzz`, and with test/fuzz/replay.c over test/fuzz/corpus/proof/ (valid
 * proofs written by test/fuzz/gen_corpus.c, and hand-made edge cases) in
 * `make test`.
 */
#include "opg.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t take(const uint8_t **p, size_t *n, size_t want)
{
    size_t k = want < *n ? want : *n;
    *p += k;
    *n -= k;
    return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data;
    size_t n = size;
    uint8_t root[32] = {0};
    const uint8_t *at = p;
    size_t k = take(&p, &n, 32);
    memcpy(root, at, k);
    int present = 0;
    if (take(&p, &n, 1))
        present = p[-1] & 1;
    size_t klen = 0, vlen = 0;
    if (take(&p, &n, 1))
        klen = p[-1];
    const uint8_t *key = p;
    klen = take(&p, &n, klen);
    if (take(&p, &n, 1))
        vlen = p[-1];
    const uint8_t *value = p;
    vlen = take(&p, &n, vlen);

    uint8_t *proof = malloc(n ? n : 1);
    if (!proof)
        return 0;
    if (n)
        memcpy(proof, p, n);
    int a = opg_proof_verify(root, key, klen, value, vlen, present, proof, n);
    int b = opg_proof_verify(root, key, klen, value, vlen, !present, proof, n);
    free(proof);
    if ((a != OPG_OK && a != OPG_EPROOF) || (b != OPG_OK && b != OPG_EPROOF)) {
        fprintf(stderr, "fuzz_proof: unexpected codes %d %d\n", a, b);
        abort();
    }
    if (a == OPG_OK && b == OPG_OK) {
        fprintf(stderr, "fuzz_proof: one proof shows both present and absent\n");
        abort();
    }
    return 0;
}
