/* The JSON paths behind `| json`'s flattened label names, for
 * detected_fields' jsonPath: every string, number or boolean leaf of the
 * line's object (arrays and nulls skipped, as the json stage skips them),
 * with the name the json stage gives it (keys sanitized, joined with '_')
 * and the unescaped keys that lead to it. */
#include <stdlib.h>

#include "lib/mem.h"
#include "query/pipeline/pipeline_int.h"

#define MAX_DEPTH 64

typedef struct leaf_walk {
    lp_scratch *s;
    lp_sb name;
    lk_str keys[MAX_DEPTH];
    size_t depth;
    lp_json_leaf_fn fn;
    void *ctx;
} leaf_walk;

static const char *leaf_member(void *ctx, lk_str key, lk_str value, lp_jtype t)
{
    leaf_walk *w = ctx;
    bool obj = t == LP_J_OBJECT;
    if (!obj && t != LP_J_STRING && t != LP_J_NUMBER && t != LP_J_BOOL)
        return NULL;
    if (w->depth == MAX_DEPTH)
        return NULL;
    size_t keep = w->name.len;
    if (w->name.len)
        lp_sb_putc(&w->name, '_');
    lp_sanitize_append(&w->name, key, w->name.len == 0);
    w->keys[w->depth++] = (lk_str){ lp_strdup(w->s, key.p, key.len), key.len };
    const char *e = NULL;
    if (obj)
        e = lp_json_object_each(value, leaf_member, w, w->s);
    else
        w->fn(w->ctx, lp_sb_str(&w->name), w->keys, w->depth);
    w->depth--;
    w->name.len = keep;
    return e;
}

bool lp_json_leaves(lk_str line, lp_json_leaf_fn fn, void *ctx)
{
    lp_scratch s = { 0 };
    leaf_walk w = { .s = &s, .fn = fn, .ctx = ctx };
    lp_sb_init(&w.name, &s, 64);
    const char *e = lp_json_object_each(line, leaf_member, &w, &s);
    lp_scratch_free(&s);
    return e == NULL;
}
