/*
 * registry_ops.h - functions shared by the registry's own files (registry.c,
 * registry_stake.c, registry_block.c, registry_records.c, registry_state.c); engines
 * do not use these
 * (the check phase they may call is in registry_internal.h).
 * Naming: check_* validate and compute without changing anything; apply_* mutate and
 * cannot fail (their memory was reserved by the check phase).
 */
#ifndef OPG_REGISTRY_OPS_H
#define OPG_REGISTRY_OPS_H

#include "registry_internal.h"

int opgi_registry_create(opg_registry **out, const opg_registry_params *params,
                         const opg_allocator *alloc, char *err);

int opgi_node_reserve(opg_registry *r, uint32_t *slot);
void opgi_node_insert(opg_registry *r, uint32_t slot, const opgi_node *n);
void opgi_node_remove(opg_registry *r, uint32_t slot);
void opgi_self_bond(opg_u256 *out, const opg_registry *r, uint32_t slot);
void opgi_jail(opg_registry *r, uint32_t slot, opg_time until);

int opgi_del_reserve(opg_registry *r, uint32_t more);
uint32_t opgi_del_add(opg_registry *r, const opg_id *delegator, uint32_t node);
void opgi_del_remove(opg_registry *r, uint32_t slot);

/* Applies a checked delegation; del is the existing record or OPGI_NONE. */
void opgi_apply_delegate(opg_registry *r, const opg_id *delegator, uint32_t node, uint32_t del,
                         const opg_u256 *amount, const opg_dec *issued);

/* Applies a checked unbond (hooks, self-bond jail, record and node removal). */
void opgi_apply_unbond(opg_registry *r, uint32_t del, const opgi_unbond_plan *plan);

/* Queue helpers on the (completion_time, seq) order. */
void opgi_queue_insert(opgi_queue *q, const void *item, opg_time completion_time);
void opgi_queue_remove_at(opgi_queue *q, size_t i);
/* Position of the first item completing at or after t. O(log n). */
size_t opgi_queue_lower_bound(const opgi_queue *q, opg_time t);

/*
 * Entry counters (opgi_counter in registry_internal.h). Every change to a queue's
 * membership goes through add/sub on its counters; room for additions is reserved
 * in the check phase (reserve), so add cannot fail. Keys are ids laid end to end.
 */
#define OPGI_KEY_MAX (3 * 32)
const unsigned char *opgi_key2(unsigned char *key, const opg_id *a, const opg_id *b);
const unsigned char *opgi_key3(unsigned char *key, const opg_id *a, const opg_id *b,
                               const opg_id *c);
/* The key's count (0 if absent). O(1) expected. */
uint32_t opgi_counter_get(const opgi_counter *c, const unsigned char *key);
/* The key's slot, or OPGI_NONE; the count in a slot. */
uint32_t opgi_counter_find(const opgi_counter *c, const unsigned char *key);
uint32_t opgi_counter_at(const opgi_counter *c, uint32_t slot);
int opgi_counter_reserve(opg_registry *r, opgi_counter *c, size_t more);
void opgi_counter_add(opgi_counter *c, const unsigned char *key);
void opgi_counter_sub(opgi_counter *c, const unsigned char *key);
void opgi_counter_free(opg_registry *r, opgi_counter *c);

/*
 * The entry queues with their counters and chains (registry.c). Every change to a
 * queue's membership goes through these: reserve in the check phase (the queue, every
 * counter and the links), then insert (which sets the item's link) or remove_at,
 * which cannot fail.
 */
int opgi_ubd_reserve(opg_registry *r, size_t more);
void opgi_ubd_insert(opg_registry *r, opgi_unbonding *u);
void opgi_ubd_remove_at(opg_registry *r, size_t i);
int opgi_red_reserve(opg_registry *r, size_t more);
void opgi_red_insert(opg_registry *r, opgi_redelegation *e);
void opgi_red_remove_at(opg_registry *r, size_t i);
void opgi_links_free(opg_registry *r, opgi_links *l);
/* The first link of the key's chain in a chained counter, or OPGI_NONE; the next one
 * is links->items[l].next[chain]. O(1) expected. */
uint32_t opgi_chain_first(const opgi_counter *c, const unsigned char *key);
uint32_t opgi_chain_last(const opgi_counter *c, const unsigned char *key);
/* The head (tail 0) or tail (1) of the chain in a used slot of a chained counter. */
uint32_t opgi_chain_end_at(const opgi_counter *c, uint32_t slot, int tail);
/* The chains (the `chained` value of each counter, less one). */
#define OPGI_UBD_PAIR 0
#define OPGI_UBD_NODE 1
#define OPGI_UBD_DTOR 2
#define OPGI_RED_SRC 0
#define OPGI_RED_DTOR 1
/* The position of the item with this completion time and seq, or SIZE_MAX. O(log n). */
size_t opgi_queue_find(const opgi_queue *q, opg_time t, uint64_t seq);
/* The item a link stands for (it is in the queue: asserted). */
opgi_unbonding *opgi_ubd_at_link(const opg_registry *r, uint32_t l);
opgi_redelegation *opgi_red_at_link(const opg_registry *r, uint32_t l);

/* Delegations in key order, (delegator, operator id) (lib/registry_state.c). The first
 * 8 bytes of the delegator, big-endian, are kept in the reference itself, so that
 * almost every comparison is decided without reaching into the delegation pool. */
typedef struct opgi_del_ref {
    uint64_t head;
    const opgi_delegation *d;
    const opg_id *operator_id;
} opgi_del_ref;
int opgi_sorted_delegations(const opg_registry *r, opgi_del_ref **out);
void opgi_sorted_delegations_free(const opg_registry *r, opgi_del_ref *keys);

/* Every record in key order (lib/registry_records.c). */
int opgi_registry_each_record(const opg_registry *r, opgi_record_sink sink, void *ctx);
/* A node record's fields are within their ranges (roles, status, rates). */
int opgi_node_fields_valid(const opgi_node *n);

#endif /* OPG_REGISTRY_OPS_H */
