/* params.c - parameters by key name and decimal text (see params.h). */
#include "params.h"

#include "num.h"

/* Longest text any parameter can take or give. */
#define TEXT_MAX 96

const opgi_param *opgi_param_find(const opgi_param_table *t, const char *key)
{
    if (!key)
        return NULL;
    for (size_t i = 0; i < t->count; i++)
        if (strcmp(t->entries[i].key, key) == 0)
            return &t->entries[i];
    return NULL;
}

const char *opgi_params_key(const opgi_param_table *t, size_t i)
{
    return i < t->count ? t->entries[i].key : NULL;
}

/* Parses an integer-typed or decimal text into a 256-bit value for comparing. */
static int text_value(const opgi_param *p, const char *text, opg_u256 *v)
{
    if (p->type == OPGI_PARAM_DEC) {
        opg_dec d;
        int rc = opg_dec_from_string(&d, text);
        if (rc == OPG_OK)
            opg_dec_to_raw(v, &d);
        return rc;
    }
    return opg_u256_from_string(v, text);
}

int opgi_param_parse(const opgi_param *p, void *field, const char *text, char *err)
{
    if (!text)
        return opgi_fail(err, OPG_EINVAL, "missing value for", p->key);
    if (p->type == OPGI_PARAM_BOOL) {
        int b;
        if (strcmp(text, "true") == 0)
            b = 1;
        else if (strcmp(text, "false") == 0)
            b = 0;
        else
            return opgi_fail(err, OPG_EPARSE, "want true or false for", p->key);
        memcpy(field, &b, sizeof b);
        return OPG_OK;
    }
    opg_u256 v;
    int rc = text_value(p, text, &v);
    if (rc == OPG_EPARSE)
        return opgi_fail(err, rc, "malformed value for", p->key);
    if (rc)
        return opgi_fail(err, OPG_EINVAL, "value out of range for", p->key);

    opg_u256 bound;
    if (p->min && text_value(p, p->min, &bound) == OPG_OK && opg_u256_cmp(&v, &bound) < 0)
        return opgi_fail(err, OPG_EINVAL, "value below the minimum for", p->key);
    if (p->max && text_value(p, p->max, &bound) == OPG_OK && opg_u256_cmp(&v, &bound) > 0)
        return opgi_fail(err, OPG_EINVAL, "value above the maximum for", p->key);

    uint64_t u = 0;
    int fits64 = opg_u256_to_u64(&u, &v) == OPG_OK;
    switch (p->type) {
    case OPGI_PARAM_U32: {
        if (!fits64 || u > UINT32_MAX)
            return opgi_fail(err, OPG_EINVAL, "value out of range for", p->key);
        uint32_t x = (uint32_t)u;
        memcpy(field, &x, sizeof x);
        break;
    }
    case OPGI_PARAM_U64:
        if (!fits64)
            return opgi_fail(err, OPG_EINVAL, "value out of range for", p->key);
        memcpy(field, &u, sizeof u);
        break;
    case OPGI_PARAM_SECS: {
        if (!fits64 || u > (uint64_t)INT64_MAX)
            return opgi_fail(err, OPG_EINVAL, "value out of range for", p->key);
        int64_t x = (int64_t)u;
        memcpy(field, &x, sizeof x);
        break;
    }
    case OPGI_PARAM_DEC: {
        opg_dec d;
        opg_dec_from_raw(&d, &v);
        memcpy(field, &d, sizeof d);
        break;
    }
    case OPGI_PARAM_U256:
        memcpy(field, &v, sizeof v);
        break;
    case OPGI_PARAM_BOOL:
        break;
    }
    return OPG_OK;
}

int opgi_param_format(const opgi_param *p, const void *field, char *buf, size_t cap,
                      size_t *needed)
{
    opg_u256 v;
    switch (p->type) {
    case OPGI_PARAM_BOOL: {
        int b;
        memcpy(&b, field, sizeof b);
        const char *s = b ? "true" : "false";
        size_t n = strlen(s) + 1;
        if (needed)
            *needed = n;
        if (!buf || cap < n)
            return OPG_EBUFS;
        memcpy(buf, s, n);
        return OPG_OK;
    }
    case OPGI_PARAM_DEC: {
        opg_dec d;
        memcpy(&d, field, sizeof d);
        return opg_dec_to_string(buf, cap, needed, &d);
    }
    case OPGI_PARAM_U32: {
        uint32_t x;
        memcpy(&x, field, sizeof x);
        opg_u256_from_u64(&v, x);
        break;
    }
    case OPGI_PARAM_U64: {
        uint64_t x;
        memcpy(&x, field, sizeof x);
        opg_u256_from_u64(&v, x);
        break;
    }
    case OPGI_PARAM_SECS: {
        int64_t x;
        memcpy(&x, field, sizeof x);
        opg_u256_from_u64(&v, x < 0 ? 0 : (uint64_t)x);
        break;
    }
    case OPGI_PARAM_U256:
        memcpy(&v, field, sizeof v);
        break;
    }
    return opg_u256_to_string(buf, cap, needed, &v);
}

int opgi_params_check(const opgi_param_table *t, const void *params, char *err)
{
    const unsigned char *base = params;
    for (size_t i = 0; i < t->count; i++) {
        const opgi_param *p = &t->entries[i];
        char text[TEXT_MAX];
        unsigned char scratch[32];
        if (opgi_param_format(p, base + p->offset, text, sizeof text, NULL) != OPG_OK)
            return opgi_fail(err, OPG_EINVAL, "unformattable value for", p->key);
        if (p->type == OPGI_PARAM_SECS) {
            int64_t x;
            memcpy(&x, base + p->offset, sizeof x);
            if (x < 0)
                return opgi_fail(err, OPG_EINVAL, "negative duration for", p->key);
        }
        int rc = opgi_param_parse(p, scratch, text, err);
        if (rc)
            return rc;
    }
    return t->validate ? t->validate(params, err) : OPG_OK;
}

int opgi_params_set(const opgi_param_table *t, void *params, const char *key,
                    const char *text, char *err)
{
    const opgi_param *p = opgi_param_find(t, key);
    if (!p)
        return opgi_fail(err, OPG_EKEY, "unknown parameter key", key);
    /* the validator reads the copy as the module's struct: keep it suitably aligned */
    union {
        max_align_t align;
        unsigned char bytes[4096];
    } copy;
    if (t->struct_size > sizeof copy.bytes)
        return opgi_fail(err, OPG_EINVARIANT, "parameter struct too large", NULL);
    memcpy(copy.bytes, params, t->struct_size);
    int rc = opgi_param_parse(p, copy.bytes + p->offset, text, err);
    if (rc)
        return rc;
    if (t->validate && (rc = t->validate(copy.bytes, err)) != OPG_OK)
        return rc;
    memcpy(params, copy.bytes, t->struct_size);
    return OPG_OK;
}

int opgi_params_get(const opgi_param_table *t, const void *params, const char *key, char *buf,
                    size_t cap, size_t *needed, char *err)
{
    const opgi_param *p = opgi_param_find(t, key);
    if (!p)
        return opgi_fail(err, OPG_EKEY, "unknown parameter key", key);
    return opgi_param_format(p, (const unsigned char *)params + p->offset, buf, cap, needed);
}
