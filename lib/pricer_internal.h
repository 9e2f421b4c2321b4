/*
 * pricer_internal.h - the fee pricer's handle, shared by pricer.c (the rules and the
 * calls) and pricer_records.c (its records, commit, load and snapshots).
 */
#ifndef OPG_PRICER_INTERNAL_H
#define OPG_PRICER_INTERNAL_H

#include "opg_pricer.h"

#include "internal.h"
#include "params.h"
#include "records.h"

#define MAX_DIMS OPG_PRICER_MAX_DIMENSIONS

/* Keys per dimension: target, limit, min_base_fee, max_base_fee, and the
 * controller's rate (denominator or update_fraction). */
#define KEYS_PER_DIM 5
/* "fees." + 31-character name + ".update_fraction" + NUL */
#define KEY_MAX 56

/* The governable part of a dimension: what the parameter keys address. */
typedef struct dim_rules {
    opg_u256 target, limit, min_base_fee, max_base_fee;
    uint64_t denominator;     /* EIP-1559 only, else 0 */
    uint64_t update_fraction; /* exponential only, else 0 */
    opg_pricer_controller controller;
} dim_rules;

/* Every parameter of a pricer; the key table points into this struct. */
typedef struct pricer_rules {
    size_t dimension_count;
    dim_rules dim[MAX_DIMS];
    opg_pricer_combine combine;
    opg_pricer_split split;
} pricer_rules;

struct opg_pricer {
    opg_allocator alloc;
    pricer_rules rules;
    char name[MAX_DIMS][OPG_PRICER_NAME_MAX]; /* zero padded */
    opg_u256 base_fee[MAX_DIMS];
    opg_u256 usage[MAX_DIMS];
    opg_u256 excess[MAX_DIMS];
    opg_pricer_class *classes; /* ascending id; multipliers past dimension_count are 0 */
    size_t class_count, class_cap;
    opgi_param_table table;
    opgi_param param[MAX_DIMS * KEYS_PER_DIM];
    char key[MAX_DIMS * KEYS_PER_DIM][KEY_MAX];
    opgi_records records;      /* the committed records and the touches since */
    char err[OPGI_ERRMSG_MAX];
};

/* pricer.c */
/* An empty handle (NULL: no memory); the caller fills rules, names and state. */
opg_pricer *opgi_pricer_alloc(const opg_allocator *alloc);
/* Checks rules and names, builds the key table and checks every key's bounds. */
int opgi_pricer_check(opg_pricer *p);
/* The i-th share of the split (inference, verifiers, stakers, burn, community). */
opg_dec *opgi_pricer_split_share(opg_pricer_split *s, size_t i);
/* The class with this id, or NULL (binary search). */
const opg_pricer_class *opgi_pricer_class_find(const opg_pricer *p, uint32_t id);
/* Length of a name buffer's text; OPG_PRICER_NAME_MAX if it has no NUL. */
size_t opgi_pricer_name_len(const char name[OPG_PRICER_NAME_MAX]);

/* pricer_records.c: a class record changed (reserve first, as for every touch). */
int opgi_pricer_touch_reserve(opg_pricer *p, size_t more);
void opgi_pricer_touch_class(opg_pricer *p, uint32_t id);

#endif /* OPG_PRICER_INTERNAL_H */
