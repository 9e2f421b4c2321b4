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

#endif /* OPG_H */
