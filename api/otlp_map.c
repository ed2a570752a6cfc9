/* OTLP logs to a push request, as Loki 3.6's otlpToLokiPushRequest maps
 * them (contract in otlp.h). Per resource: attributes whose otlp_config
 * action is index_label become the stream's labels (names normalized,
 * key-value lists flattened as name_key), the others structured metadata,
 * dropped ones nothing; with service name discovery on, service_name comes
 * from service.name, else from the first index label that Loki's
 * discovery list names, else unknown_service. Per record, in Loki's
 * order: the log attributes, observed_timestamp (when the record has both
 * timestamps), severity_number, severity_text, dropped_attributes_count,
 * flags, trace_id, span_id (hex), then the resource's structured metadata,
 * then the scope's (its attributes, scope_name, scope_version,
 * scope_dropped_attributes_count). The line is the body's AsString; the
 * time timeUnixNano, else observedTimeUnixNano, else now. One stream per
 * resource and scope; streams with equal labels meet in the ingester. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/otlp.h"
#include "api/push_int.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "lib/timeutil.h"

typedef struct map_ctx {
    push_priv *pv;
    otlp_mem *m;
    const otlp_input *in;
    lk_buf err;
    int rc;
    lk_label *labels;       /* the resource's index labels */
    size_t n_labels, cap_labels;
    lk_label *meta;         /* resource, then scope structured metadata */
    size_t n_meta, cap_meta, n_res_meta;
} map_ctx;

/* s copied into the arena (budgeted); LK_STR_NULL and c->rc set when refused. */
static lk_str keep(map_ctx *c, lk_str s)
{
    if (s.len == 0)
        return LK_STR("");
    char *p = otlp_alloc(c->m, s.len);
    if (!p) {
        c->rc = LK_ELIMIT;
        return LK_STR_NULL;
    }
    memcpy(p, s.p, s.len);
    return lk_str_n(p, s.len);
}

static lk_str value_text(map_ctx *c, const otlp_value *v)
{
    if (v->kind == OTLP_STRING)
        return v->s;
    lk_buf b = { 0 };
    otlp_value_string(v, &b);
    lk_str s = keep(c, lk_buf_str(&b));
    lk_buf_free(&b);
    return s;
}

static lk_str fmt_u64(map_ctx *c, uint64_t v, bool is_signed)
{
    char tmp[32];
    int n = is_signed ? snprintf(tmp, sizeof tmp, "%lld", (long long)(int64_t)v)
                      : snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v);
    return keep(c, lk_str_n(tmp, (size_t)n));
}

static lk_str fmt_hex(map_ctx *c, lk_str raw)
{
    static const char digits[] = "0123456789abcdef";
    char tmp[64];
    for (size_t i = 0; i < raw.len && i < 32; i++) {
        tmp[2 * i] = digits[(unsigned char)raw.p[i] >> 4];
        tmp[2 * i + 1] = digits[(unsigned char)raw.p[i] & 15];
    }
    return keep(c, lk_str_n(tmp, raw.len * 2));
}

/* An attribute as Loki's attributeToLabels flattens it: (name, text)
 * pairs handed to fn. */
typedef void (*pair_fn)(map_ctx *c, lk_str name, lk_str value, void *arg);

static void flatten(map_ctx *c, lk_str prefix, const otlp_kv *kv, pair_fn fn, void *arg)
{
    lk_buf raw = { 0 }, name = { 0 };
    if (prefix.len) {
        lk_buf_put_str(&raw, prefix);
        lk_buf_putc(&raw, '_');
    }
    lk_buf_put_str(&raw, kv->key);
    otlp_normalize_label(lk_buf_str(&raw), &name);
    lk_str n = keep(c, lk_buf_str(&name));
    lk_buf_free(&raw);
    lk_buf_free(&name);
    if (kv->v.kind == OTLP_KVLIST) {
        for (size_t i = 0; i < kv->v.n && c->rc == LK_OK; i++)
            flatten(c, n, &kv->v.kvs[i], fn, arg);
    } else if (c->rc == LK_OK) {
        lk_str v = value_text(c, &kv->v);
        if (c->rc == LK_OK)
            fn(c, n, v, arg);
    }
}

static void add_label(map_ctx *c, lk_str name, lk_str value, void *arg)
{
    (void)arg;
    for (size_t i = 0; i < c->n_labels; i++) {
        if (lk_str_eq(c->labels[i].name, name)) { /* a map: the last one wins */
            c->labels[i].value = value;
            return;
        }
    }
    c->labels = lk_grow(c->labels, &c->cap_labels, c->n_labels + 1, sizeof *c->labels);
    c->labels[c->n_labels++] = (lk_label){ name, value };
}

static void add_ctx_meta(map_ctx *c, lk_str name, lk_str value, void *arg)
{
    (void)arg;
    c->meta = lk_grow(c->meta, &c->cap_meta, c->n_meta + 1, sizeof *c->meta);
    c->meta[c->n_meta++] = (lk_label){ name, value };
}

static void add_entry_meta(map_ctx *c, lk_str name, lk_str value, void *arg)
{
    lk_label *l = push_add_meta(c->pv, arg);
    if (!l) {
        c->rc = LK_ELIMIT;
        return;
    }
    *l = (lk_label){ name, value };
}

static bool in_discover_list(const lk_cfg_list *list, lk_str name)
{
    for (size_t i = 0; list && i < list->n; i++)
        if (lk_str_eq_c(name, list->v[i]))
            return true;
    return false;
}

static void resource_labels(map_ctx *c, const otlp_resource *res)
{
    const lk_otlp_config *cfg = c->in->cfg;
    bool has_service = false;
    lk_str discovered = LK_STR_NULL;
    c->n_labels = c->n_meta = 0;
    for (size_t i = 0; i < res->attrs.n && c->rc == LK_OK; i++) {
        const otlp_kv *kv = &res->attrs.v[i];
        if (lk_str_eq_c(kv->key, "service.name")) {
            lk_buf b = { 0 };
            otlp_value_string(&kv->v, &b);
            has_service = has_service || b.len > 0;
            lk_buf_free(&b);
        }
        lk_otlp_action a = lk_otlp_resource_action(cfg, kv->key);
        if (a == LK_OTLP_DROP)
            continue;
        size_t before = c->n_labels;
        flatten(c, LK_STR_NULL, kv, a == LK_OTLP_INDEX_LABEL ? add_label : add_ctx_meta, NULL);
        for (size_t j = before; j < c->n_labels && !discovered.p; j++)
            if (in_discover_list(c->in->discover_service_name, c->labels[j].name))
                discovered = c->labels[j].value;
    }
    if (c->in->discover_service_name && c->in->discover_service_name->n && !has_service)
        add_label(c, LK_STR("service_name"), discovered.p ? discovered : LK_STR("unknown_service"),
                  NULL);
    c->n_res_meta = c->n_meta;
}

static void scope_meta(map_ctx *c, const otlp_scope *sc)
{
    c->n_meta = c->n_res_meta;
    for (size_t i = 0; i < sc->attrs.n && c->rc == LK_OK; i++) {
        const otlp_kv *kv = &sc->attrs.v[i];
        if (lk_otlp_scope_action(c->in->cfg, kv->key) != LK_OTLP_DROP)
            flatten(c, LK_STR_NULL, kv, add_ctx_meta, NULL);
    }
    if (sc->name.len)
        add_ctx_meta(c, LK_STR("scope_name"), sc->name, NULL);
    if (sc->version.len)
        add_ctx_meta(c, LK_STR("scope_version"), sc->version, NULL);
    if (sc->dropped_attrs)
        add_ctx_meta(c, LK_STR("scope_dropped_attributes_count"),
                     fmt_u64(c, sc->dropped_attrs, false), NULL);
}

static void record_entry(map_ctx *c, push_stream *st, const otlp_record *lr, int64_t now)
{
    lk_entry *e = push_add_entry(c->pv, st);
    if (!e) {
        c->rc = LK_ELIMIT;
        return;
    }
    e->ts = lr->time_ns ? (int64_t)lr->time_ns : lr->observed_ns ? (int64_t)lr->observed_ns : now;
    e->line = value_text(c, &lr->body);
    for (size_t i = 0; i < lr->attrs.n && c->rc == LK_OK; i++) {
        const otlp_kv *kv = &lr->attrs.v[i];
        if (lk_otlp_log_action(c->in->cfg, kv->key) != LK_OTLP_DROP)
            flatten(c, LK_STR_NULL, kv, add_entry_meta, e);
    }
    if (lr->time_ns && lr->observed_ns)
        add_entry_meta(c, LK_STR("observed_timestamp"), fmt_u64(c, lr->observed_ns, true), e);
    if (lr->severity_number)
        add_entry_meta(c, LK_STR("severity_number"),
                       fmt_u64(c, (uint64_t)(int64_t)lr->severity_number, true), e);
    if (lr->severity_text.len)
        add_entry_meta(c, LK_STR("severity_text"), lr->severity_text, e);
    if (lr->dropped_attrs)
        add_entry_meta(c, LK_STR("dropped_attributes_count"), fmt_u64(c, lr->dropped_attrs, false),
                       e);
    if (lr->flags)
        add_entry_meta(c, LK_STR("flags"), fmt_u64(c, lr->flags, false), e);
    if (lr->trace_id.len)
        add_entry_meta(c, LK_STR("trace_id"), fmt_hex(c, lr->trace_id), e);
    if (lr->span_id.len)
        add_entry_meta(c, LK_STR("span_id"), fmt_hex(c, lr->span_id), e);
    for (size_t i = 0; i < c->n_meta && c->rc == LK_OK; i++)
        add_entry_meta(c, c->meta[i].name, c->meta[i].value, e);
}

static void scope_stream(map_ctx *c, const otlp_scope *sc, int64_t now)
{
    if (sc->n_records == 0)
        return;
    scope_meta(c, sc);
    push_stream *st = c->rc == LK_OK ? push_add_stream(c->pv) : NULL;
    if (!st) {
        c->rc = c->rc ? c->rc : LK_ELIMIT;
        return;
    }
    st->has_pairs = true;
    for (size_t i = 0; i < c->n_labels; i++) {
        lk_label *l = push_add_pair(c->pv, st);
        if (!l) {
            c->rc = LK_ELIMIT;
            return;
        }
        *l = c->labels[i];
    }
    for (size_t i = 0; i < sc->n_records && c->rc == LK_OK; i++)
        record_entry(c, st, &sc->records[i], now);
}

int otlp_map(const otlp_input *in, const otlp_logs *logs, otlp_mem *m, push_priv *pv,
             lk_buf *err)
{
    map_ctx c = { .pv = pv, .m = m, .in = in };
    int64_t now = lk_now_ns();
    for (size_t i = 0; i < logs->n_resources && c.rc == LK_OK; i++) {
        const otlp_resource *res = &logs->resources[i];
        resource_labels(&c, res);
        for (size_t j = 0; j < res->n_scopes && c.rc == LK_OK; j++)
            scope_stream(&c, &res->scopes[j], now);
    }
    free(c.labels);
    free(c.meta);
    return c.rc == LK_OK ? LK_OK : push_fail_budget(err);
}
