/* app_root.c - the one root a host puts in its block header (opg_core.h, "records"). */
#include "internal.h"

#include <sodium.h>

int opg_app_root(uint8_t out[32], const opg_handle_root *roots, size_t n)
{
    if (!out || (!roots && n))
        return OPG_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (roots[i].tag == 0 || (i && roots[i].tag <= roots[i - 1].tag))
            return OPG_EINVAL; /* one root per handle, in tag order */
    static const unsigned char personal[16] = "opg.app";
    crypto_generichash_blake2b_state st;
    crypto_generichash_blake2b_init_salt_personal(&st, NULL, 0, 32, NULL, personal);
    for (size_t i = 0; i < n; i++) {
        crypto_generichash_blake2b_update(&st, &roots[i].tag, 1);
        crypto_generichash_blake2b_update(&st, roots[i].root, 32);
    }
    crypto_generichash_blake2b_final(&st, out, 32);
    return OPG_OK;
}
