/* The YAML of a runtime config file (runtime_config.file), as Loki reads
 * its `overrides` section:
 *
 *   overrides:
 *     <tenant>:
 *       <limits_config key>: <value>
 *
 * Each tenant's keys replace the defaults (the base configuration's
 * limits_config) for that tenant; a key is parsed and bounded as the same
 * key of limits_config is (the option table, lib/config.c). The other
 * top-level sections Loki knows (configs, multi_kv_config, ...) are
 * skipped. otlp_config replaces the whole of the base's for the tenant, as
 * Loki's per-tenant limits do. A key that is not a limits_config option is
 * a warning; a value that does not parse is an error naming
 * file:line:column, and the file is refused. */
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "lib/config_priv.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"

static lk_str node_str(const yaml_node_t *n)
{
    return lk_str_n((const char *)n->data.scalar.value, n->data.scalar.length);
}

static bool node_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    lk_str s = node_str(n);
    return s.len == 0 || lk_str_eq_c(s, "~") || lk_str_eq_c(s, "null");
}

static void where(lk_buf *err, const char *name, const yaml_node_t *n)
{
    lk_buf_printf(err, "%s:%d:%d: ", name, (int)n->start_mark.line + 1,
                  (int)n->start_mark.column + 1);
}

static cfg_tenant *tenant_get(cfg_tenants *set, const lk_config *base, lk_str name)
{
    for (size_t i = 0; i < set->n; i++)
        if (lk_str_eq_c(name, set->v[i].tenant))
            return &set->v[i];
    set->v = lk_grow(set->v, &set->cap, set->n + 1, sizeof *set->v);
    cfg_tenant *t = &set->v[set->n++];
    t->tenant = lk_strndup(name.p, name.len);
    t->own_otlp = false;
    cfg_copy(&t->cfg, base);
    t->cfg.otlp = base->otlp; /* borrowed until the tenant has its own otlp_config */
    return t;
}

/* The text cfg_set reads for a value: a scalar, or a list's items joined
 * with commas; false for anything else. */
static bool value_text(yaml_document_t *doc, yaml_node_t *v, lk_buf *out)
{
    if (v->type == YAML_SCALAR_NODE) {
        if (!node_null(v))
            lk_buf_put_str(out, node_str(v));
        return true;
    }
    if (v->type != YAML_SEQUENCE_NODE)
        return false;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *item = yaml_document_get_node(doc, *it);
        if (item->type != YAML_SCALAR_NODE)
            return false;
        if (out->len)
            lk_buf_putc(out, ',');
        lk_buf_put_str(out, node_str(item));
    }
    return true;
}

static int apply_key(yaml_document_t *doc, const char *name, lk_str tenant, yaml_node_t *k,
                     yaml_node_t *v, lk_config *c, lk_buf *err)
{
    lk_buf path = { 0 }, text = { 0 }, why = { 0 };
    int rc = LK_OK;
    lk_buf_puts(&path, "limits_config.");
    lk_buf_put_str(&path, node_str(k));
    const cfg_opt *o = cfg_find(lk_buf_str(&path));
    if (!o || (o->flags & CFG_ALIAS)) {
        log_warn("runtime config key not applied", "file=%s tenant=%.*s key=%.*s", name,
                 (int)tenant.len, tenant.p, (int)(path.len - 14), path.p + 14);
        goto out;
    }
    if (!value_text(doc, v, &text)) {
        where(err, name, v);
        lk_buf_printf(err, "invalid value for overrides.%.*s.%.*s", (int)tenant.len, tenant.p,
                      (int)(path.len - 14), path.p + 14);
        rc = LK_EPARSE;
        goto out;
    }
    rc = cfg_set(c, o, lk_buf_str(&text), &why);
    if (rc == LK_OK)
        rc = cfg_check(c, o, &why);
    if (rc != LK_OK) {
        where(err, name, v);
        lk_buf_puts(err, "invalid value ");
        cfg_quote(err, lk_buf_str(&text), 100);
        lk_buf_printf(err, " for overrides.%.*s.%.*s: %s", (int)tenant.len, tenant.p,
                      (int)(path.len - 14), path.p + 14, why.p ? why.p : "");
    }
out:
    lk_buf_free(&path);
    lk_buf_free(&text);
    lk_buf_free(&why);
    return rc;
}

static int apply_tenant(yaml_document_t *doc, const lk_config *base, const char *name,
                        yaml_node_t *k, yaml_node_t *v, cfg_tenants *set, lk_buf *err)
{
    if (k->type != YAML_SCALAR_NODE || (v->type != YAML_MAPPING_NODE && !node_null(v))) {
        where(err, name, v);
        lk_buf_puts(err, "overrides: each tenant must map limits_config keys to values");
        return LK_EPARSE;
    }
    lk_str tenant = node_str(k);
    cfg_tenant *t = tenant_get(set, base, tenant);
    if (v->type != YAML_MAPPING_NODE)
        return LK_OK;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        yaml_node_t *pk = yaml_document_get_node(doc, p->key);
        yaml_node_t *pv = yaml_document_get_node(doc, p->value);
        if (pk->type != YAML_SCALAR_NODE) {
            where(err, name, pk);
            lk_buf_puts(err, "overrides: a limits_config key must be a string");
            return LK_EPARSE;
        }
        int rc;
        if (lk_str_eq_c(node_str(pk), "otlp_config")) {
            if (!t->own_otlp) /* base's stays base's */
                memset(&t->cfg.otlp, 0, sizeof t->cfg.otlp);
            t->own_otlp = true;
            rc = node_null(pv) ? LK_OK : cfg_load_otlp(doc, pv, name, &t->cfg.otlp, err);
        } else {
            rc = apply_key(doc, name, tenant, pk, pv, &t->cfg, err);
        }
        if (rc != LK_OK)
            return rc;
    }
    return LK_OK;
}

static int apply_doc(yaml_document_t *doc, const lk_config *base, const char *name,
                     cfg_tenants *set, lk_buf *err)
{
    yaml_node_t *root = yaml_document_get_root_node(doc);
    if (!root || node_null(root))
        return LK_OK; /* an empty file: no overrides */
    if (root->type != YAML_MAPPING_NODE) {
        where(err, name, root);
        lk_buf_puts(err, "a runtime config file is a mapping");
        return LK_EPARSE;
    }
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        yaml_node_t *v = yaml_document_get_node(doc, p->value);
        if (k->type != YAML_SCALAR_NODE || !lk_str_eq_c(node_str(k), "overrides") || node_null(v))
            continue;
        if (v->type != YAML_MAPPING_NODE) {
            where(err, name, v);
            lk_buf_puts(err, "overrides: a mapping of tenants is expected");
            return LK_EPARSE;
        }
        for (yaml_node_pair_t *t = v->data.mapping.pairs.start; t < v->data.mapping.pairs.top;
             t++) {
            int rc = apply_tenant(doc, base, name, yaml_document_get_node(doc, t->key),
                                  yaml_document_get_node(doc, t->value), set, err);
            if (rc != LK_OK)
                return rc;
        }
    }
    return LK_OK;
}

int cfg_runtime_apply(const lk_config *base, const char *name, lk_str text, cfg_tenants *set,
                      lk_buf *err)
{
    yaml_parser_t y;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&y))
        LK_BUG("yaml_parser_initialize failed");
    yaml_parser_set_input_string(&y, (const unsigned char *)text.p, text.len);
    if (!yaml_parser_load(&y, &doc)) {
        lk_buf_printf(err, "%s:%d:%d: %s", name, (int)y.problem_mark.line + 1,
                      (int)y.problem_mark.column + 1, y.problem ? y.problem : "invalid YAML");
        yaml_parser_delete(&y);
        return LK_EPARSE;
    }
    int rc = apply_doc(&doc, base, name, set, err);
    yaml_document_delete(&doc);
    yaml_parser_delete(&y);
    return rc;
}

static int tenant_cmp(const void *a, const void *b)
{
    return strcmp(((const cfg_tenant *)a)->tenant, ((const cfg_tenant *)b)->tenant);
}

void cfg_tenants_sort(cfg_tenants *set)
{
    if (set->n > 1)
        qsort(set->v, set->n, sizeof *set->v, tenant_cmp);
}

void cfg_tenants_free(cfg_tenants *set)
{
    for (size_t i = 0; i < set->n; i++) {
        if (!set->v[i].own_otlp)
            memset(&set->v[i].cfg.otlp, 0, sizeof set->v[i].cfg.otlp); /* borrowed */
        config_free(&set->v[i].cfg);
        free(set->v[i].tenant);
    }
    free(set->v);
    memset(set, 0, sizeof *set);
}
