/* Loki 3's push-time enrichment: service_name and detected_level discovery
 * (see push_discover.h for the rules and where they apply). */
#include "api/push_discover.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/goint.h"
#include "lib/mem.h"
#include "lib/utf8.h"
#include "query/pipeline/level.h"

/* Loki's default level fields, used when log_level_fields is set to []. */
static const char *const default_level_fields[] = {
    "level", "LEVEL", "Level", "log.level", "severity", "SEVERITY", "Severity", "SeverityText",
    "lvl", "LVL", "Lvl", "severity_text", "Severity_Text", "SEVERITY_TEXT",
};

static bool internal_stream(const lk_labels *l)
{
    return labels_get(l, LK_STR("__aggregated_metric__")) ||
           labels_get(l, LK_STR("__pattern__"));
}

bool push_discover_service_name(const lk_config *cfg, lk_labels *labels)
{
    const lk_cfg_list *names = &cfg->discover_service_name;
    if (names->n == 0 || labels_get(labels, LK_STR(PUSH_SERVICE_NAME)) ||
        internal_stream(labels))
        return false;
    lk_str service = LK_STR(PUSH_UNKNOWN_SERVICE);
    for (size_t i = 0; i < names->n; i++) {
        const lk_str *v = labels_get(labels, lk_str_c(names->v[i]));
        if (v && v->len) {
            service = *v;
            break;
        }
    }
    lk_label *pairs = lk_malloc((labels->n + 1) * sizeof *pairs);
    for (size_t i = 0; i < labels->n; i++)
        pairs[i] = labels->v[i];
    pairs[labels->n] = (lk_label){ LK_STR(PUSH_SERVICE_NAME), service };
    lk_labels out;
    labels_from_pairs(pairs, labels->n + 1, &out); /* copies, sorts */
    free(pairs);
    labels_free(labels);
    *labels = out;
    return true;
}

static const lk_str *meta_get(const lk_entry *e, lk_str name)
{
    for (size_t i = 0; i < e->n_meta; i++)
        if (lk_str_eq(e->meta[i].name, name))
            return &e->meta[i].value;
    return NULL;
}

/* OTLP's SeverityNumber ranges (1-4 trace, 5-8 debug, ..., 21-24 fatal). */
static lk_str severity_level(lk_str number)
{
    int64_t n;
    if (lk_go_parse_int(number, &n) != 0)
        return LK_STR("info");
    if (n == 0)
        return LK_STR("unknown");
    if (n <= 4)
        return LK_STR("trace");
    if (n <= 8)
        return LK_STR("debug");
    if (n <= 12)
        return LK_STR("info");
    if (n <= 16)
        return LK_STR("warn");
    if (n <= 20)
        return LK_STR("error");
    if (n <= 24)
        return LK_STR("fatal");
    return LK_STR("unknown");
}

/* What level detection needs of a stream, worked out once for all its
 * entries: the level fields as lengths and bytes (compared per key of
 * every line), and the level a stream label gives. */
typedef struct level_ctx {
    lk_str *fields;
    size_t n_fields;
    const lk_str *label_level; /* the first level field that is a stream label */
    int json_max_depth;
} level_ctx;

static void level_ctx_init(level_ctx *c, const lk_config *cfg, const lk_labels *labels)
{
    const char *const *names = (const char *const *)cfg->log_level_fields.v;
    size_t n = cfg->log_level_fields.n;
    if (n == 0) {
        names = default_level_fields;
        n = sizeof default_level_fields / sizeof *default_level_fields;
    }
    c->fields = lk_malloc(n * sizeof *c->fields);
    c->n_fields = n;
    c->label_level = NULL;
    for (size_t i = 0; i < n; i++)
        c->fields[i] = lk_str_c(names[i]);
    for (size_t i = 0; i < n && !c->label_level; i++)
        c->label_level = labels_get(labels, c->fields[i]);
    c->json_max_depth = cfg->log_level_from_json_max_depth;
}

static bool detect_level(const level_ctx *c, const lk_entry *e, lk_str *level)
{
    if (e->n_meta && meta_get(e, LK_STR(PUSH_DETECTED_LEVEL)))
        return false;
    const lk_str *v = c->label_level;
    for (size_t i = 0; i < c->n_fields && !v && e->n_meta; i++)
        v = meta_get(e, c->fields[i]);
    if (v) {
        *level = *v;
        return v->len > 0;
    }
    const lk_str *severity = e->n_meta ? meta_get(e, LK_STR("severity_number")) : NULL;
    if (severity && severity->len) {
        *level = severity_level(*severity);
        return true;
    }
    *level = lk_str_c(lp_line_level(e->line, c->fields, c->n_fields, c->json_max_depth));
    return true;
}

bool push_detect_level(const lk_config *cfg, const lk_labels *labels, const lk_entry *e,
                       lk_str *level)
{
    level_ctx c;
    level_ctx_init(&c, cfg, labels);
    bool got = detect_level(&c, e, level);
    free(c.fields);
    return got;
}

static bool alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool push_metadata_name(lk_str name, lk_buf *out, bool *changed)
{
    *changed = false;
    lk_str core = name;
    bool reserved = name.len >= 4 && name.p[0] == '_' && name.p[1] == '_' &&
                    name.p[name.len - 1] == '_' && name.p[name.len - 2] == '_';
    if (reserved)
        core = (lk_str){ name.p + 2, name.len - 4 };
    lk_buf_reset(out);
    if (reserved)
        lk_buf_puts(out, "__");
    bool under = false, only_under = true;
    for (size_t i = 0; i < core.len;) {
        unsigned char c = (unsigned char)core.p[i];
        uint32_t r;
        size_t w = c < 0x80 ? 1 : lk_utf8_decode(core.p + i, core.len - i, &r);
        if (alnum(c)) {
            lk_buf_putc(out, (char)c);
            under = only_under = false;
        } else if (!under) {
            lk_buf_putc(out, '_');
            under = true;
        }
        i += w;
    }
    if (reserved)
        lk_buf_puts(out, "__");
    if (name.len == 0 || (!reserved && only_under))
        return false; /* Loki refuses the request; lokic keeps the name */
    if (!reserved && out->p[0] >= '0' && out->p[0] <= '9') {
        lk_buf fixed = { 0 };
        lk_buf_puts(&fixed, "key_");
        lk_buf_put_str(&fixed, lk_buf_str(out));
        lk_buf_reset(out);
        lk_buf_put_str(out, lk_buf_str(&fixed));
        lk_buf_free(&fixed);
    }
    *changed = !lk_str_eq(lk_buf_str(out), name);
    return true;
}

/* Go's strings.ContainsRune(v, utf8.RuneError): invalid UTF-8 or U+FFFD. */
static bool has_rune_error(lk_str v)
{
    for (size_t i = 0; i < v.len;) {
        unsigned char c = (unsigned char)v.p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        uint32_t r;
        i += lk_utf8_decode(v.p + i, v.len - i, &r);
        if (r == 0xFFFD)
            return true;
    }
    return false;
}

/* strings.Map(removeInvalidUtf, v): every RuneError becomes a space. */
static lk_str fix_value(lk_str v, lk_arena *a)
{
    char *o = lk_arena_alloc(a, v.len ? v.len : 1);
    size_t w = 0;
    for (size_t i = 0; i < v.len;) {
        unsigned char c = (unsigned char)v.p[i];
        uint32_t r = c;
        size_t n = c < 0x80 ? 1 : lk_utf8_decode(v.p + i, v.len - i, &r);
        if (r == 0xFFFD) {
            o[w++] = ' ';
        } else {
            memcpy(o + w, v.p + i, n);
            w += n;
        }
        i += n;
    }
    return (lk_str){ o, w };
}

static bool needs_rewrite(const lk_entry *e, lk_buf *tmp)
{
    for (size_t k = 0; k < e->n_meta; k++) {
        bool changed;
        push_metadata_name(e->meta[k].name, tmp, &changed);
        if (changed || has_rune_error(e->meta[k].value))
            return true;
    }
    return false;
}

/* Copies e's metadata to m with names and values rewritten; returns the
 * count (a rewritten name that meets a pair of that name replaces it). */
static size_t rewrite_meta(const lk_entry *e, lk_label *m, lk_arena *a, lk_buf *tmp)
{
    size_t n = 0;
    for (size_t k = 0; k < e->n_meta; k++) {
        bool changed;
        lk_str name = e->meta[k].name, value = e->meta[k].value;
        push_metadata_name(name, tmp, &changed);
        if (changed)
            name = lk_arena_str(a, lk_buf_str(tmp));
        if (has_rune_error(value))
            value = fix_value(value, a);
        size_t at = n;
        for (size_t j = 0; j < n; j++)
            if (lk_str_eq(m[j].name, name))
                at = j;
        if (at < n && !changed)
            continue; /* an earlier rewritten pair of this name wins */
        m[at] = (lk_label){ name, value };
        if (at == n)
            n++;
    }
    return n;
}

void push_meta_buf_free(push_meta_buf *b)
{
    free(b->v);
    lk_arena_free(&b->strings);
    memset(b, 0, sizeof *b);
}

size_t push_enrich_entries(const lk_config *cfg, const lk_labels *labels, lk_entry *entries,
                           size_t n, push_meta_buf *b)
{
    lk_arena_free(&b->strings);
    bool levels = cfg->discover_log_levels && cfg->allow_structured_metadata;
    size_t need = 0;
    for (size_t i = 0; i < n; i++)
        need += entries[i].n_meta + 1;
    if (need > b->cap)
        b->v = lk_grow(b->v, &b->cap, need, sizeof *b->v);
    lk_buf tmp = { 0 };
    level_ctx lc = { 0 };
    if (levels)
        level_ctx_init(&lc, cfg, labels);
    size_t used = 0, changed = 0;
    for (size_t i = 0; i < n; i++) {
        lk_entry *e = &entries[i];
        bool rewrite = needs_rewrite(e, &tmp);
        lk_entry clean = *e;
        lk_label *m = b->v + used;
        if (rewrite) {
            clean.n_meta = rewrite_meta(e, m, &b->strings, &tmp);
            clean.meta = m;
        }
        lk_str level;
        bool leveled = levels && detect_level(&lc, &clean, &level);
        if (!rewrite && !leveled)
            continue;
        if (!rewrite) {
            for (size_t k = 0; k < e->n_meta; k++)
                m[k] = e->meta[k];
            clean.meta = m;
        }
        if (leveled)
            m[clean.n_meta++] = (lk_label){ LK_STR(PUSH_DETECTED_LEVEL), level };
        *e = clean;
        used += clean.n_meta;
        changed++;
    }
    lk_buf_free(&tmp);
    free(lc.fields);
    return changed;
}
