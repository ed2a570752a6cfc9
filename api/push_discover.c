/* Loki 3's push-time enrichment: service_name and detected_level discovery
 * (see push_discover.h for the rules and where they apply). */
#include "api/push_discover.h"

#include <stdint.h>
#include <stdlib.h>

#include "lib/mem.h"
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

/* Go's strconv.Atoi: an optional sign and decimal digits, within int64. */
static bool go_atoi(lk_str s, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (s.len && (s.p[0] == '+' || s.p[0] == '-'))
        neg = s.p[i++] == '-';
    if (i == s.len)
        return false;
    uint64_t v = 0;
    for (; i < s.len; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s.p[i] - '0');
        if (v > (uint64_t)INT64_MAX + neg)
            return false;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

/* OTLP's SeverityNumber ranges (1-4 trace, 5-8 debug, ..., 21-24 fatal). */
static lk_str severity_level(lk_str number)
{
    int64_t n;
    if (!go_atoi(number, &n))
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

bool push_detect_level(const lk_config *cfg, const lk_labels *labels, const lk_entry *e,
                       lk_str *level)
{
    if (meta_get(e, LK_STR(PUSH_DETECTED_LEVEL)))
        return false;
    const char *const *fields = (const char *const *)cfg->log_level_fields.v;
    size_t n_fields = cfg->log_level_fields.n;
    if (n_fields == 0) {
        fields = default_level_fields;
        n_fields = sizeof default_level_fields / sizeof *default_level_fields;
    }
    const lk_str *v = NULL;
    for (size_t i = 0; i < n_fields && !v; i++)
        v = labels_get(labels, lk_str_c(fields[i]));
    for (size_t i = 0; i < n_fields && !v; i++)
        v = meta_get(e, lk_str_c(fields[i]));
    if (v) {
        *level = *v;
        return v->len > 0;
    }
    const lk_str *severity = meta_get(e, LK_STR("severity_number"));
    if (severity && severity->len) {
        *level = severity_level(*severity);
        return true;
    }
    *level = lk_str_c(lp_line_level(e->line, fields, n_fields, cfg->log_level_from_json_max_depth));
    return true;
}

size_t push_discover_levels(const lk_config *cfg, const lk_labels *labels, lk_entry *entries,
                            size_t n, lk_label **meta, size_t *cap_meta)
{
    if (!cfg->discover_log_levels || !cfg->allow_structured_metadata || n == 0)
        return 0;
    size_t need = 0;
    for (size_t i = 0; i < n; i++)
        need += entries[i].n_meta + 1;
    if (*cap_meta < need)
        *meta = lk_grow(*meta, cap_meta, need, sizeof **meta);
    size_t used = 0, added = 0;
    for (size_t i = 0; i < n; i++) {
        lk_entry *e = &entries[i];
        lk_str level;
        if (!push_detect_level(cfg, labels, e, &level))
            continue;
        lk_label *m = *meta + used;
        for (size_t k = 0; k < e->n_meta; k++)
            m[k] = e->meta[k];
        m[e->n_meta] = (lk_label){ LK_STR(PUSH_DETECTED_LEVEL), level };
        e->meta = m;
        e->n_meta++;
        used += e->n_meta;
        added++;
    }
    return added;
}
