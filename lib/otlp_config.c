/* limits_config.otlp_config (contract in otlp_config.h): the rules and how
 * an attribute name finds its action. */
#include "lib/otlp_config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"

const char *const lk_otlp_default_index_attrs[] = { LK_OTLP_DEFAULT_INDEX_ATTRS, NULL };

static const char *const action_names[] = {
    [LK_OTLP_STRUCTURED_METADATA] = "structured_metadata",
    [LK_OTLP_INDEX_LABEL] = "index_label",
    [LK_OTLP_DROP] = "drop",
};

static bool rule_matches(const lk_otlp_rule *r, lk_str attr)
{
    if (r->re)
        return lk_regex_match(r->re, attr);
    for (size_t i = 0; i < r->n_attrs; i++)
        if (lk_str_eq_c(attr, r->attrs[i]))
            return true;
    return false;
}

static bool rules_action(const lk_otlp_rules *rules, lk_str attr, lk_otlp_action *out)
{
    for (size_t i = 0; i < rules->n; i++) {
        if (rule_matches(&rules->v[i], attr)) {
            *out = rules->v[i].action;
            return true;
        }
    }
    return false;
}

lk_otlp_action lk_otlp_resource_action(const lk_otlp_config *c, lk_str attr)
{
    if (!c || !c->ignore_defaults) {
        for (const char *const *d = lk_otlp_default_index_attrs; *d; d++)
            if (lk_str_eq_c(attr, *d))
                return LK_OTLP_INDEX_LABEL;
    }
    lk_otlp_action a = LK_OTLP_STRUCTURED_METADATA;
    if (c)
        rules_action(&c->resource, attr, &a);
    return a;
}

lk_otlp_action lk_otlp_scope_action(const lk_otlp_config *c, lk_str attr)
{
    lk_otlp_action a = LK_OTLP_STRUCTURED_METADATA;
    if (c)
        rules_action(&c->scope, attr, &a);
    return a;
}

lk_otlp_action lk_otlp_log_action(const lk_otlp_config *c, lk_str attr)
{
    lk_otlp_action a = LK_OTLP_STRUCTURED_METADATA;
    if (c)
        rules_action(&c->log, attr, &a);
    return a;
}

int lk_otlp_parse_action(lk_str s, lk_otlp_action *out, lk_buf *err)
{
    if (s.len == 0) {
        *out = LK_OTLP_STRUCTURED_METADATA;
        return LK_OK;
    }
    for (int i = 0; i < 3; i++) {
        if (lk_str_eq_c(s, action_names[i])) {
            *out = (lk_otlp_action)i;
            return LK_OK;
        }
    }
    lk_buf_puts(err, "unsupported action, it must be one of: drop, index_label, "
                     "structured_metadata");
    return LK_EINVAL;
}

lk_otlp_rule *lk_otlp_rules_add(lk_otlp_rules *rules)
{
    rules->v = lk_realloc(rules->v, (rules->n + 1) * sizeof *rules->v);
    lk_otlp_rule *r = &rules->v[rules->n++];
    memset(r, 0, sizeof *r);
    return r;
}

int lk_otlp_rule_check(const lk_otlp_rule *r, bool resource, lk_buf *err)
{
    if (r->n_attrs == 0 && !r->re) {
        lk_buf_puts(err, "attributes or regex must be set");
        return LK_EINVAL;
    }
    if (r->n_attrs && r->re) {
        lk_buf_puts(err, "only one of attributes or regex must be set");
        return LK_EINVAL;
    }
    if (!resource && r->action == LK_OTLP_INDEX_LABEL) {
        lk_buf_puts(err, "index_label action is only supported for resource_attributes");
        return LK_EINVAL;
    }
    return LK_OK;
}

static void rules_free(lk_otlp_rules *rules)
{
    for (size_t i = 0; i < rules->n; i++) {
        lk_otlp_rule *r = &rules->v[i];
        for (size_t j = 0; j < r->n_attrs; j++)
            free(r->attrs[j]);
        free(r->attrs);
        lk_regex_free(r->re);
        free(r->regex);
    }
    free(rules->v);
    memset(rules, 0, sizeof *rules);
}

void lk_otlp_config_free(lk_otlp_config *c)
{
    if (!c)
        return;
    rules_free(&c->resource);
    rules_free(&c->scope);
    rules_free(&c->log);
    c->ignore_defaults = false;
}
