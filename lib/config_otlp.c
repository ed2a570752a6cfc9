/* The YAML of limits_config.otlp_config (Loki 3's OTLPConfig) read into
 * lk_config.otlp: resource_attributes {ignore_defaults, attributes_config},
 * scope_attributes and log_attributes, each rule {action, attributes |
 * regex}. Errors name file:line:column as the rest of the loader does;
 * unknown keys inside are errors, as Loki's strict YAML makes them. */
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "lib/config_priv.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "lib/otlp_config.h"

typedef struct otlp_ld {
    yaml_document_t *doc;
    const char *name;
    lk_buf *err;
} otlp_ld;

static int fail(otlp_ld *L, const yaml_node_t *n, const char *what)
{
    if (L->err)
        lk_buf_printf(L->err, "%s:%d:%d: %s", L->name, (int)n->start_mark.line + 1,
                      (int)n->start_mark.column + 1, what);
    return LK_EINVAL;
}

static lk_str scalar(const yaml_node_t *n)
{
    return lk_str_n((const char *)n->data.scalar.value, n->data.scalar.length);
}

static yaml_node_t *node(otlp_ld *L, int id)
{
    return yaml_document_get_node(L->doc, id);
}

static int expect(otlp_ld *L, const yaml_node_t *n, yaml_node_type_t t, const char *what)
{
    return n->type == t ? LK_OK : fail(L, n, what);
}

static int rule_attrs(otlp_ld *L, yaml_node_t *v, lk_otlp_rule *r)
{
    int rc = expect(L, v, YAML_SEQUENCE_NODE, "expected a list of attribute names");
    for (yaml_node_item_t *it = v->data.sequence.items.start;
         rc == LK_OK && it < v->data.sequence.items.top; it++) {
        yaml_node_t *a = node(L, *it);
        if ((rc = expect(L, a, YAML_SCALAR_NODE, "expected an attribute name")) != LK_OK)
            break;
        r->attrs = lk_realloc(r->attrs, (r->n_attrs + 1) * sizeof *r->attrs);
        lk_str s = scalar(a);
        r->attrs[r->n_attrs++] = lk_strndup(s.p, s.len);
    }
    return rc;
}

static int rule_regex(otlp_ld *L, yaml_node_t *v, lk_otlp_rule *r)
{
    int rc = expect(L, v, YAML_SCALAR_NODE, "expected a regular expression");
    if (rc != LK_OK)
        return rc;
    lk_str s = scalar(v);
    lk_buf why = { 0 };
    free(r->regex);
    lk_regex_free(r->re);
    r->re = NULL;
    r->regex = lk_strndup(s.p, s.len);
    rc = lk_regex_compile(s, LK_RE_ANCHORED, &r->re, &why);
    if (rc != LK_OK)
        rc = fail(L, v, why.p ? why.p : "invalid regex");
    lk_buf_free(&why);
    return rc;
}

static int rule(otlp_ld *L, yaml_node_t *m, bool resource, lk_otlp_rules *rules)
{
    int rc = expect(L, m, YAML_MAPPING_NODE, "expected a mapping (action, attributes, regex)");
    if (rc != LK_OK)
        return rc;
    lk_otlp_rule *r = lk_otlp_rules_add(rules);
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start;
         rc == LK_OK && p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(L, p->key), *v = node(L, p->value);
        lk_str key = k->type == YAML_SCALAR_NODE ? scalar(k) : LK_STR_NULL;
        if (lk_str_eq_c(key, "action")) {
            lk_buf why = { 0 };
            if (v->type != YAML_SCALAR_NODE ||
                lk_otlp_parse_action(scalar(v), &r->action, &why) != LK_OK)
                rc = fail(L, v, why.p ? why.p : "expected an action");
            lk_buf_free(&why);
        } else if (lk_str_eq_c(key, "attributes")) {
            rc = rule_attrs(L, v, r);
        } else if (lk_str_eq_c(key, "regex")) {
            rc = rule_regex(L, v, r);
        } else {
            rc = fail(L, k, "unknown key in an otlp_config attributes rule");
        }
    }
    if (rc == LK_OK) {
        lk_buf why = { 0 };
        if (lk_otlp_rule_check(r, resource, &why) != LK_OK)
            rc = fail(L, m, why.p);
        lk_buf_free(&why);
    }
    return rc;
}

static int rule_list(otlp_ld *L, yaml_node_t *v, bool resource, lk_otlp_rules *rules)
{
    int rc = expect(L, v, YAML_SEQUENCE_NODE, "expected a list of attributes rules");
    for (yaml_node_item_t *it = v->data.sequence.items.start;
         rc == LK_OK && it < v->data.sequence.items.top; it++)
        rc = rule(L, node(L, *it), resource, rules);
    return rc;
}

static int resource_attrs(otlp_ld *L, yaml_node_t *m, lk_otlp_config *c)
{
    int rc = expect(L, m, YAML_MAPPING_NODE, "expected a mapping (ignore_defaults, "
                                             "attributes_config)");
    for (yaml_node_pair_t *p = rc ? NULL : m->data.mapping.pairs.start;
         rc == LK_OK && p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(L, p->key), *v = node(L, p->value);
        lk_str key = k->type == YAML_SCALAR_NODE ? scalar(k) : LK_STR_NULL;
        if (lk_str_eq_c(key, "ignore_defaults")) {
            lk_str s = v->type == YAML_SCALAR_NODE ? scalar(v) : LK_STR_NULL;
            if (lk_str_eq_c(s, "true"))
                c->ignore_defaults = true;
            else if (lk_str_eq_c(s, "false"))
                c->ignore_defaults = false;
            else
                rc = fail(L, v, "expected true or false");
        } else if (lk_str_eq_c(key, "attributes_config")) {
            rc = rule_list(L, v, true, &c->resource);
        } else {
            rc = fail(L, k, "unknown key in otlp_config.resource_attributes");
        }
    }
    return rc;
}

int cfg_load_otlp(yaml_document_t *doc, yaml_node_t *m, const char *name, lk_otlp_config *out,
                  lk_buf *err)
{
    otlp_ld L = { doc, name, err };
    lk_otlp_config c = { 0 };
    int rc = expect(&L, m, YAML_MAPPING_NODE, "expected a mapping for limits_config.otlp_config");
    for (yaml_node_pair_t *p = rc ? NULL : m->data.mapping.pairs.start;
         rc == LK_OK && p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(&L, p->key), *v = node(&L, p->value);
        lk_str key = k->type == YAML_SCALAR_NODE ? scalar(k) : LK_STR_NULL;
        if (lk_str_eq_c(key, "resource_attributes"))
            rc = resource_attrs(&L, v, &c);
        else if (lk_str_eq_c(key, "scope_attributes"))
            rc = rule_list(&L, v, false, &c.scope);
        else if (lk_str_eq_c(key, "log_attributes"))
            rc = rule_list(&L, v, false, &c.log);
        else
            rc = fail(&L, k, "unknown key in limits_config.otlp_config");
    }
    if (rc != LK_OK) {
        lk_otlp_config_free(&c);
        return rc;
    }
    lk_otlp_config_free(out);
    *out = c;
    return LK_OK;
}
