/* The pipeline's label builder (Loki's LabelsBuilder): the stream labels of
 * the current stream, what the entry's stages added (structured metadata,
 * parsed labels, with Loki's precedence), removed, and the error labels,
 * which live beside the set; and the parser hints it applies. */
#include "query/pipeline/pipeline_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"

const lk_str LP_ERROR_LABEL = { "__error__", 9 };
const lk_str LP_ERROR_DETAILS_LABEL = { "__error_details__", 17 };

/* ---- the builder ------------------------------------------------------------------ */

void lp_lbs_init(lp_lbs *b)
{
    memset(b, 0, sizeof(*b));
}

void lp_lbs_free(lp_lbs *b)
{
    free(b->base_h);
    free(b->add);
    free(b->del);
    memset(b, 0, sizeof(*b));
}

void lp_lbs_set_base(lp_lbs *b, const lk_labels *base)
{
    b->base = base;
    size_t n = base ? base->n : 0;
    if (n > b->cap_base_h)
        b->base_h = lk_grow(b->base_h, &b->cap_base_h, n, sizeof(*b->base_h));
    for (size_t i = 0; i < n; i++)
        b->base_h[i] = lp_name_hash(base->v[i].name);
    lp_lbs_reset(b);
}

void lp_lbs_reset(lp_lbs *b)
{
    b->n_add = 0;
    b->n_del = 0;
    b->n_shadow = 0;
    b->has_err = b->has_details = false;
    b->err = b->err_details = LK_STR_NULL;
}

void lp_lbs_set_err(lp_lbs *b, lk_str err);
void lp_lbs_set_details(lp_lbs *b, lk_str details);

static const lk_str *base_find_h(const lp_lbs *b, lk_str name, uint32_t h)
{
    if (!b->base)
        return NULL;
    for (size_t i = 0; i < b->base->n; i++)
        if (b->base_h[i] == h && lk_str_eq(b->base->v[i].name, name))
            return &b->base->v[i].value;
    return NULL;
}

static const lk_str *base_find(const lp_lbs *b, lk_str name)
{
    return b->base && b->base->n ? base_find_h(b, name, lp_name_hash(name)) : NULL;
}

bool lp_lbs_base_has(const lp_lbs *b, lk_str name)
{
    return base_find(b, name) != NULL;
}

static lp_lbl *add_find_h(const lp_lbs *b, lk_str name, uint32_t h)
{
    for (size_t i = 0; i < b->n_add; i++)
        if (b->add[i].h == h && lk_str_eq(b->add[i].name, name))
            return &b->add[i];
    return NULL;
}

static lp_lbl *add_find(const lp_lbs *b, lk_str name)
{
    return b->n_add ? add_find_h(b, name, lp_name_hash(name)) : NULL;
}

static bool deleted(const lp_lbs *b, lk_str name)
{
    for (size_t i = 0; i < b->n_del; i++)
        if (lk_str_eq(b->del[i], name))
            return true;
    return false;
}

bool lp_lbs_get(const lp_lbs *b, lk_str name, lk_str *out)
{
    lp_cat cat;
    return lp_lbs_get_cat(b, name, out, &cat);
}

bool lp_lbs_get_cat(const lp_lbs *b, lk_str name, lk_str *out, lp_cat *cat)
{
    const lp_lbl *a = add_find(b, name);
    if (a) {
        *out = a->value;
        *cat = (lp_cat)a->cat;
        return true;
    }
    *cat = LP_CAT_STREAM;
    if (b->n_del && deleted(b, name))
        return false;
    const lk_str *v = base_find(b, name);
    if (!v)
        return false;
    *out = *v;
    return true;
}

static void add_new(lp_lbs *b, lp_cat cat, lk_str name, lk_str value, uint32_t h)
{
    if (b->n_add == b->cap_add)
        b->add = lk_grow(b->add, &b->cap_add, b->n_add + 1, sizeof(*b->add));
    bool shadows = base_find_h(b, name, h) != NULL;
    b->add[b->n_add++] = (lp_lbl){ name, value, h, (uint8_t)cat, shadows };
    b->n_shadow += shadows;
}

/* The error labels live beside the set, never in it: setting one by name
 * sets the error (or its details). */
static bool error_name(lp_lbs *b, lk_str name, lk_str value)
{
    if (name.len < 9 || name.p[0] != '_' || name.p[1] != '_')
        return false;
    if (lk_str_eq(name, LP_ERROR_LABEL)) {
        lp_lbs_set_err(b, value);
        return true;
    }
    if (lk_str_eq(name, LP_ERROR_DETAILS_LABEL)) {
        lp_lbs_set_details(b, value);
        return true;
    }
    return false;
}

void lp_lbs_set(lp_lbs *b, lp_cat cat, lk_str name, lk_str value)
{
    if (error_name(b, name, value))
        return;
    uint32_t h = lp_name_hash(name);
    lp_lbl *a = add_find_h(b, name, h);
    if (a) {
        if (a->cat > (uint8_t)cat)
            return; /* parsed > metadata > stream labels */
        a->value = value;
        a->cat = (uint8_t)cat;
        return;
    }
    add_new(b, cat, name, value, h);
}

static bool hint_wanted(const lp_hints *hs, lk_str name, uint32_t h)
{
    for (size_t i = 0; i < hs->n; i++)
        if (hs->h[i] == h && lk_str_eq(hs->names[i], name))
            return true;
    return false;
}

/* Every hinted name is in the set (a stream label counts). */
static bool hints_done(const lp_lbs *b)
{
    const lp_hints *hs = b->hints;
    for (size_t i = 0; i < hs->n; i++) {
        if (add_find_h(b, hs->names[i], hs->h[i]))
            continue;
        if (b->n_del && deleted(b, hs->names[i]))
            return false;
        if (!base_find_h(b, hs->names[i], hs->h[i]))
            return false;
    }
    return true;
}

bool lp_lbs_wants_prefix(const lp_lbs *b, lk_str prefix)
{
    const lp_hints *hs = b->hints;
    if (!hs)
        return true;
    for (size_t i = 0; i < hs->n; i++) {
        lk_str n = hs->names[i];
        if (n.len > prefix.len && n.p[prefix.len] == '_' && memcmp(n.p, prefix.p, prefix.len) == 0)
            return true;
    }
    return false;
}

bool lp_lbs_parsed_kv(lp_lbs *b, lk_str name, lk_str value, lp_scratch *s)
{
    if (name.len >= 9 && name.p[0] == '_' && name.p[1] == '_' &&
        (lk_str_eq(name, LP_ERROR_LABEL) || lk_str_eq(name, LP_ERROR_DETAILS_LABEL)))
        return false; /* a parser never makes the error labels */
    uint32_t h = lp_name_hash(name);
    if (base_find_h(b, name, h)) {
        char *p = lp_alloc(s, name.len + 10);
        memcpy(p, name.p, name.len);
        memcpy(p + name.len, "_extracted", 10);
        name = (lk_str){ p, name.len + 10 };
        h = lp_name_hash(name);
    }
    if (b->hints && !hint_wanted(b->hints, name, h))
        return false;
    lp_lbl *a = add_find_h(b, name, h);
    if (a) {
        if (a->cat != LP_CAT_PARSED) {
            a->value = value;
            a->cat = LP_CAT_PARSED;
        }
    } else {
        add_new(b, LP_CAT_PARSED, name, value, h);
    }
    return b->hints && hints_done(b);
}

void lp_lbs_del(lp_lbs *b, lk_str name)
{
    uint32_t h = lp_name_hash(name);
    for (size_t i = 0; i < b->n_add; i++) {
        if (b->add[i].h == h && lk_str_eq(b->add[i].name, name)) {
            b->n_shadow -= b->add[i].shadows;
            memmove(&b->add[i], &b->add[i + 1], (b->n_add - i - 1) * sizeof(*b->add));
            b->n_add--;
            break;
        }
    }
    if (deleted(b, name) || !base_find_h(b, name, h))
        return; /* only stream labels need remembering as deleted */
    if (b->n_del == b->cap_del)
        b->del = lk_grow(b->del, &b->cap_del, b->n_del + 1, sizeof(*b->del));
    b->del[b->n_del++] = name;
}

void lp_lbs_set_err(lp_lbs *b, lk_str err)
{
    b->err = err;
    b->has_err = err.len > 0;
}

void lp_lbs_set_details(lp_lbs *b, lk_str details)
{
    b->err_details = details;
    b->has_details = details.len > 0;
}

void lp_lbs_add_meta(lp_lbs *b, const lk_label *meta, size_t n, lp_scratch *s)
{
    for (size_t i = 0; i < n; i++) {
        lk_str name = lp_dedup_key(b, meta[i].name, s);
        if (lk_str_eq(name, LP_ERROR_LABEL))
            lp_lbs_set_err(b, meta[i].value);
        else if (lk_str_eq(name, LP_ERROR_DETAILS_LABEL))
            lp_lbs_set_details(b, meta[i].value);
        else
            lp_lbs_set(b, LP_CAT_META, name, meta[i].value);
    }
}

size_t lp_lbs_count_max(const lp_lbs *b)
{
    return (b->base ? b->base->n : 0) + b->n_add + 2;
}

static const uint32_t NO_HASH = 0;

size_t lp_lbs_collect_adds(const lp_lbs *b, lp_lbl *out)
{
    size_t n = 0;
    for (size_t i = 0; i < b->n_add; i++)
        out[n++] = b->add[i];
    if (b->has_err)
        out[n++] = (lp_lbl){ LP_ERROR_LABEL, b->err, NO_HASH, LP_CAT_PARSED, false };
    if (b->has_details)
        out[n++] = (lp_lbl){ LP_ERROR_DETAILS_LABEL, b->err_details, NO_HASH, LP_CAT_PARSED,
                             false };
    return n;
}

size_t lp_lbs_collect(const lp_lbs *b, lp_lbl *out)
{
    size_t n = 0;
    if (b->base) {
        bool intact = lp_lbs_base_intact(b);
        for (size_t i = 0; i < b->base->n; i++) {
            const lk_label *l = &b->base->v[i];
            if (!intact && (add_find(b, l->name) || deleted(b, l->name)))
                continue;
            out[n++] = (lp_lbl){ l->name, l->value, NO_HASH, 0, false };
        }
    }
    return n + lp_lbs_collect_adds(b, out + n);
}
