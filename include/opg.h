/*
 * opg.h - libopg, the token economics of the OpenGradient network (token OPG).
 *
 * Include this one header. It pulls in the basics (opg_core.h) and every module.
 * The library holds state in opaque handles and does no I/O; the host feeds it
 * the events of each block and persists the state it hands back.
 */
#ifndef OPG_H
#define OPG_H

#include "opg_core.h"
#include "opg_registry.h"
#include "opg_splitter.h"
#include "opg_pricer.h"
#include "opg_slasher.h"
#include "opg_tally.h"
#include "opg_hyper.h"
#include "opg_proof.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Every OPG_ constant of the public headers by name (with or without the "OPG_"
 * prefix: "ROLE_INFERENCE", "OPG_TALLY_TITLE_MAX"), for bindings that cannot read
 * C macros. OPG_ENOTFOUND for an unknown name. O(number of constants).
 */
OPG_API int opg_constant(uint64_t *value, const char *name);
/* The i-th constant's name (without the prefix), NULL past the last: to list them. */
OPG_API const char *opg_constant_name(size_t i);

#ifdef __cplusplus
}
#endif

#endif /* OPG_H */
