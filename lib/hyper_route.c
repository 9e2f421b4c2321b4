/*
 * hyper_route.c - yield routing rules (opg_hyper.h, "yield routing"): their checks,
 * the cycle refusal, setting and reading them. The epoch applies them (hyper_ops.c).
 */
#include "hyper_internal.h"

#include "num.h"

static void call_begin(opg_hyper *h)
{
    h->err[0] = '\0';
    h->n_moves = 0;
    h->n_events = 0;
    h->n_reports = 0;
}

static int is_zero_id(const opg_id *id)
{
    for (size_t i = 0; i < sizeof id->bytes; i++)
        if (id->bytes[i])
            return 0;
    return 1;
}

int opgi_hyper_check_routes(opg_hyper *h, const opgi_hpos *p, const opg_hyper_route *routes, size_t n)
{
    if (n > OPG_HYPER_MAX_ROUTES)
        return opgi_fail(h->err, OPG_EINVAL, "more than OPG_HYPER_MAX_ROUTES routes", NULL);
    if (n && !routes)
        return opgi_fail(h->err, OPG_EINVAL, "invalid argument", "routes");
    opg_dec sum = {{0, 0, 0, 0}}, one;
    opg_dec_from_u64(&one, 1);
    for (size_t i = 0; i < n; i++) {
        const opg_hyper_route *x = &routes[i];
        if (x->kind != OPG_HYPER_ROUTE_ACCOUNT && x->kind != OPG_HYPER_ROUTE_COMMUNITY_POOL &&
            x->kind != OPG_HYPER_ROUTE_POSITION)
            return opgi_fail(h->err, OPG_EINVAL, "unknown route kind", NULL);
        if (opgi_dec_is_zero(&x->share) || opg_dec_add(&sum, &sum, &x->share) != OPG_OK ||
            opg_dec_cmp(&sum, &one) > 0)
            return opgi_fail(h->err, OPG_EINVAL, "route shares must be > 0 and add up to at most 1", NULL);
        if (x->kind == OPG_HYPER_ROUTE_COMMUNITY_POOL && !is_zero_id(&x->dst))
            return opgi_fail(h->err, OPG_EINVAL, "a community pool route has no destination id", NULL);
        for (size_t j = 0; j < i; j++)
            if (routes[j].kind == x->kind && opg_id_cmp(&routes[j].dst, &x->dst) == 0)
                return opgi_fail(h->err, OPG_EINVAL, "a route is listed twice", NULL);
        if (x->kind == OPG_HYPER_ROUTE_POSITION) {
            if (opg_id_cmp(&x->dst, &p->id) == 0)
                return opgi_fail(h->err, OPG_EINVAL, "a routing cycle: the position routes to itself", NULL);
            if (!opgi_hpos_find(h, &x->dst))
                return opgi_fail(h->err, OPG_ENOTFOUND, "a route's destination position does not exist", NULL);
        }
    }
    return OPG_OK;
}

int opgi_hyper_route_cycle(const opg_hyper *h, const opgi_hpos *p, const opg_hyper_route *routes, size_t n)
{
    /* depth-first over positions by index, each visited once: O(positions + routes) */
    size_t np = h->n_pos;
    uint8_t *seen = opgi_alloc(&h->alloc, np ? np : 1);
    size_t *stack = opgi_alloc_array(&h->alloc, np ? np : 1, sizeof *stack);
    if (!seen || !stack) {
        opgi_free(&h->alloc, seen, np ? np : 1);
        opgi_free(&h->alloc, stack, (np ? np : 1) * sizeof *stack);
        return OPG_ENOMEM;
    }
    memset(seen, 0, np ? np : 1);
    size_t top = 0;
    int found = 0;
    for (size_t i = 0; i < n && !found; i++) {
        if (routes[i].kind != OPG_HYPER_ROUTE_POSITION)
            continue;
        int f;
        size_t at = opgi_hpos_search(h, &routes[i].dst, &f);
        if (!f || seen[at])
            continue;
        seen[at] = 1;
        stack[top++] = at;
        while (top && !found) {
            const opgi_hpos *q = h->pos[stack[--top]];
            if (q == p) {
                found = 1;
                break;
            }
            for (uint32_t k = 0; k < q->n_routes; k++) {
                if (q->routes[k].kind != OPG_HYPER_ROUTE_POSITION)
                    continue;
                size_t b = opgi_hpos_search(h, &q->routes[k].dst, &f);
                if (f && !seen[b]) {
                    seen[b] = 1;
                    stack[top++] = b;
                }
            }
        }
    }
    opgi_free(&h->alloc, seen, np ? np : 1);
    opgi_free(&h->alloc, stack, (np ? np : 1) * sizeof *stack);
    return found;
}

int opg_hyper_set_routes(opg_hyper *h, const opg_id *position, const opg_hyper_route *routes, size_t n)
{
    if (!h)
        return OPG_EINVAL;
    call_begin(h);
    OPGI_CHECK_ARG(h->err, position);
    opgi_hpos *p = opgi_hpos_find(h, position);
    if (!p)
        return opgi_fail(h->err, OPG_ENOTFOUND, "no such position", NULL);
    int rc = opgi_hyper_check_routes(h, p, routes, n);
    if (rc)
        return rc;
    int cyc = opgi_hyper_route_cycle(h, p, routes, n);
    if (cyc < 0)
        return opgi_fail(h->err, cyc, NULL, NULL);
    if (cyc)
        return opgi_fail(h->err, OPG_EINVAL, "a routing cycle: a destination's routes lead back", NULL);
    opg_hyper_route *copy = NULL;
    if (n) {
        if (!(copy = opgi_alloc_array(&h->alloc, n, sizeof *copy)))
            return opgi_fail(h->err, OPG_ENOMEM, NULL, NULL);
        memcpy(copy, routes, n * sizeof *copy);
    }
    opgi_free(&h->alloc, p->routes, (size_t)p->n_routes * sizeof *p->routes);
    p->routes = copy;
    p->n_routes = (uint32_t)n;
    return OPG_OK;
}

int opg_hyper_routes(opg_hyper_route *out, size_t cap, size_t *count, const opg_hyper *h, const opg_id *position)
{
    if (!h || !position || (!out && cap))
        return OPG_EINVAL;
    const opgi_hpos *p = opgi_hpos_find(h, position);
    if (!p)
        return OPG_ENOTFOUND;
    if (count)
        *count = p->n_routes;
    if (p->n_routes > cap)
        return OPG_EBUFS;
    if (p->n_routes)
        memcpy(out, p->routes, p->n_routes * sizeof *out);
    return OPG_OK;
}
