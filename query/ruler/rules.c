/* Rule files (rules.h): a libyaml document walked into groups and rules
 * kept in the file's arena. Checks as Prometheus' rulefmt makes them (group
 * names unique and set, one of alert/record, expr set, record a metric
 * name, for/keep_firing_for/annotations only on alerting rules, label names
 * valid) and Loki's: the expression parses as LogQL and is a metric query.
 * YAML output quotes every value as a JSON string (valid YAML). */
#include "query/ruler/rules.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "lib/err.h"
#include "lib/jsonw.h"
#include "lib/mem.h"
#include "lib/timeutil.h"
#include "query/logql/parser.h"

typedef struct rp {
    const char *name;
    yaml_document_t doc;
    rul_file *f;
    lk_buf *err;
    int line_adj;   /* added to the lines in messages */
    int col_adj;    /* and to the columns */
} rp;

static lk_str scalar(const yaml_node_t *n)
{
    return lk_str_n((const char *)n->data.scalar.value, n->data.scalar.length);
}

static int fail(rp *p, const yaml_node_t *n, const char *fmt, const char *what)
{
    if (p->err) {
        lk_buf_printf(p->err, "%s:%d:%d: ", p->name, (int)n->start_mark.line + 1 + p->line_adj,
                      (int)n->start_mark.column + 1 + p->col_adj);
        lk_buf_printf(p->err, fmt, what);
    }
    return LK_EINVAL;
}

static yaml_node_t *node(rp *p, int id)
{
    return yaml_document_get_node(&p->doc, id);
}

static int get_str(rp *p, yaml_node_t *v, const char *key, lk_str *out)
{
    if (v->type != YAML_SCALAR_NODE)
        return fail(p, v, "%s: expected a string", key);
    *out = lk_arena_str(&p->f->arena, scalar(v));
    return LK_OK;
}

static int get_duration(rp *p, yaml_node_t *v, const char *key, int64_t *out)
{
    /* Prometheus' model.Duration: whole milliseconds */
    if (v->type != YAML_SCALAR_NODE || lk_parse_duration(scalar(v), out) != 0 || *out < 0 ||
        *out % 1000000 != 0)
        return fail(p, v, "%s: expected a duration such as 5m", key);
    return LK_OK;
}

static int get_limit(rp *p, yaml_node_t *v, int64_t *out)
{
    char *end = NULL;
    const char *s = (const char *)v->data.scalar.value;
    if (v->type != YAML_SCALAR_NODE || !*s)
        return fail(p, v, "%s: expected an integer", "limit");
    errno = 0;
    long long n = strtoll(s, &end, 10);
    if (errno || *end || n < 0)
        return fail(p, v, "%s: expected an integer", "limit");
    *out = n;
    return LK_OK;
}

static int get_map(rp *p, yaml_node_t *v, const char *key, bool names, lk_label **out,
                   size_t *n)
{
    if (v->type == YAML_SCALAR_NODE && v->data.scalar.length == 0)
        return LK_OK;
    if (v->type != YAML_MAPPING_NODE)
        return fail(p, v, "%s: expected a mapping", key);
    size_t cnt = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    *out = lk_arena_alloc(&p->f->arena, (cnt ? cnt : 1) * sizeof **out);
    *n = 0;
    for (yaml_node_pair_t *pr = v->data.mapping.pairs.start; pr < v->data.mapping.pairs.top;
         pr++) {
        yaml_node_t *k = node(p, pr->key), *val = node(p, pr->value);
        if (k->type != YAML_SCALAR_NODE || val->type != YAML_SCALAR_NODE)
            return fail(p, k, "%s: expected string names and values", key);
        if (names && !labels_valid_name(scalar(k)))
            return fail(p, k, "invalid label name: %s", (const char *)k->data.scalar.value);
        (*out)[*n].name = lk_arena_str(&p->f->arena, scalar(k));
        (*out)[(*n)++].value = lk_arena_str(&p->f->arena, scalar(val));
    }
    return LK_OK;
}

static bool metric_name_ok(lk_str s)
{
    if (!s.len)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
            return false;
    }
    return true;
}

static int rule_key(rp *p, rul_rule *r, lk_str k, yaml_node_t *v)
{
    if (lk_str_eq_c(k, "alert"))
        return get_str(p, v, "alert", &r->alert);
    if (lk_str_eq_c(k, "record"))
        return get_str(p, v, "record", &r->record);
    if (lk_str_eq_c(k, "expr"))
        return get_str(p, v, "expr", &r->expr);
    if (lk_str_eq_c(k, "for"))
        return get_duration(p, v, "for", &r->for_ns);
    if (lk_str_eq_c(k, "keep_firing_for"))
        return get_duration(p, v, "keep_firing_for", &r->keep_firing_for_ns);
    if (lk_str_eq_c(k, "labels"))
        return get_map(p, v, "labels", true, &r->labels, &r->n_labels);
    if (lk_str_eq_c(k, "annotations"))
        return get_map(p, v, "annotations", false, &r->annotations, &r->n_annotations);
    return fail(p, v, "field %s not found in type rulefmt.RuleNode", lk_arena_strndup(
                &p->f->arena, k.p, k.len));
}

/* "group \"g\", rule 1, \"name\": why" at the rule's node. */
static int rule_fail(rp *p, const rul_group *g, size_t idx, const rul_rule *r, yaml_node_t *at,
                     const char *why)
{
    lk_buf msg = { 0 };
    lk_buf_printf(&msg, "group \"%.*s\", rule %zu, \"%.*s\": %s", LK_STR_FMT(g->name), idx + 1,
                  LK_STR_FMT(r->alert.len ? r->alert : r->record), why);
    int rc = fail(p, at, "%s", msg.p);
    lk_buf_free(&msg);
    return rc;
}

/* Prometheus' rule checks and the LogQL parse; at is the rule's node. */
static int check_rule(rp *p, const rul_group *g, size_t idx, rul_rule *r, yaml_node_t *at)
{
    const char *why = NULL;
    if (r->alert.len && r->record.len)
        why = "only one of 'record' and 'alert' must be set";
    else if (!r->alert.len && !r->record.len)
        why = "one of 'record' or 'alert' must be set";
    else if (!r->expr.len)
        why = "field 'expr' must be set in rule";
    else if (r->record.len && !metric_name_ok(r->record))
        why = "invalid recording rule name";
    else if (r->record.len && (r->for_ns || r->keep_firing_for_ns))
        why = "invalid field 'for' or 'keep_firing_for' in recording rule";
    else if (r->record.len && r->n_annotations)
        why = "invalid field 'annotations' in recording rule";
    if (why)
        return rule_fail(p, g, idx, r, at, why);
    lk_buf qerr = { 0 };
    int rc = logql_parse(r->expr, &r->e, &qerr);
    if (rc == LK_OK && logql_expr_is_log(r->e)) {
        lk_buf_puts(&qerr, "invalid rule: log queries are not supported, use a metric query");
        rc = LK_EINVAL;
    }
    if (rc != LK_OK) {
        lk_buf msg = { 0 };
        lk_buf_printf(&msg, "could not parse expression: %s", qerr.p ? qerr.p : "parse error");
        rc = rule_fail(p, g, idx, r, at, msg.p);
        lk_buf_free(&msg);
    }
    lk_buf_free(&qerr);
    return rc;
}

static int parse_rule(rp *p, rul_group *g, size_t idx, yaml_node_t *m)
{
    rul_rule *r = &g->rules[idx];
    r->line = (int)m->start_mark.line + 1;
    if (m->type != YAML_MAPPING_NODE)
        return fail(p, m, "%s: expected a mapping", "rule");
    for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top;
         pr++) {
        yaml_node_t *k = node(p, pr->key);
        if (k->type != YAML_SCALAR_NODE)
            return fail(p, k, "%s: expected a string key", "rule");
        int rc = rule_key(p, r, scalar(k), node(p, pr->value));
        if (rc != LK_OK)
            return rc;
    }
    return check_rule(p, g, idx, r, m);
}

static int parse_rules(rp *p, rul_group *g, yaml_node_t *v)
{
    if (v->type == YAML_SCALAR_NODE && v->data.scalar.length == 0)
        return LK_OK; /* rules: (null) */
    if (v->type != YAML_SEQUENCE_NODE)
        return fail(p, v, "%s: expected a list", "rules");
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    g->rules = lk_arena_alloc(&p->f->arena, (n ? n : 1) * sizeof *g->rules);
    memset(g->rules, 0, (n ? n : 1) * sizeof *g->rules);
    for (size_t i = 0; i < n; i++) {
        g->n_rules = i + 1;
        int rc = parse_rule(p, g, i, node(p, v->data.sequence.items.start[i]));
        if (rc != LK_OK)
            return rc;
    }
    return LK_OK;
}

static int parse_group(rp *p, rul_group *g, yaml_node_t *m)
{
    g->line = (int)m->start_mark.line + 1;
    if (m->type != YAML_MAPPING_NODE)
        return fail(p, m, "%s: expected a mapping", "group");
    yaml_node_t *rules = NULL;
    for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top;
         pr++) {
        yaml_node_t *k = node(p, pr->key), *v = node(p, pr->value);
        lk_str key = k->type == YAML_SCALAR_NODE ? scalar(k) : LK_STR("");
        int rc = LK_OK;
        if (lk_str_eq_c(key, "name"))
            rc = get_str(p, v, "name", &g->name);
        else if (lk_str_eq_c(key, "interval"))
            rc = get_duration(p, v, "interval", &g->interval_ns);
        else if (lk_str_eq_c(key, "limit"))
            rc = get_limit(p, v, &g->limit);
        else if (lk_str_eq_c(key, "rules"))
            rules = v;
        else
            rc = fail(p, k, "field %s not found in type rulefmt.RuleGroup",
                      k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "?");
        if (rc != LK_OK)
            return rc;
    }
    if (!g->name.len)
        return fail(p, m, "%s", "Groupname must not be empty");
    return rules ? parse_rules(p, g, rules) : LK_OK;
}

static int parse_root(rp *p, yaml_node_t *root)
{
    if (!root || (root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0))
        return LK_OK;
    if (root->type != YAML_MAPPING_NODE)
        return fail(p, root, "%s", "expected a mapping with groups");
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
         pr < root->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = node(p, pr->key), *v = node(p, pr->value);
        if (k->type != YAML_SCALAR_NODE || !lk_str_eq_c(scalar(k), "groups"))
            return fail(p, k, "%s", "field not found in type rulefmt.RuleGroups");
        if (pr > root->data.mapping.pairs.start)
            return fail(p, k, "%s", "mapping key \"groups\" already defined");
        if (v->type == YAML_SCALAR_NODE && v->data.scalar.length == 0)
            continue; /* groups: (null) */
        if (v->type != YAML_SEQUENCE_NODE)
            return fail(p, v, "%s: expected a list", "groups");
        size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
        p->f->groups = lk_arena_alloc(&p->f->arena, (n ? n : 1) * sizeof *p->f->groups);
        memset(p->f->groups, 0, (n ? n : 1) * sizeof *p->f->groups);
        for (size_t i = 0; i < n; i++) {
            yaml_node_t *gm = node(p, v->data.sequence.items.start[i]);
            p->f->n_groups = i + 1;
            int rc = parse_group(p, &p->f->groups[i], gm);
            if (rc != LK_OK)
                return rc;
            for (size_t j = 0; j < i; j++)
                if (lk_str_eq(p->f->groups[j].name, p->f->groups[i].name))
                    return fail(p, gm, "groupname: \"%s\" is repeated in the same file",
                                lk_arena_strndup(&p->f->arena, p->f->groups[i].name.p,
                                                 p->f->groups[i].name.len));
        }
    }
    return LK_OK;
}

static int parse_doc(const char *name, lk_str text, int line_adj, int col_adj, rul_file **out,
                     lk_buf *err)
{
    rp p = { .name = name, .f = lk_calloc(1, sizeof(rul_file)), .err = err, .line_adj = line_adj,
             .col_adj = col_adj };
    yaml_parser_t y;
    if (!yaml_parser_initialize(&y))
        LK_BUG("yaml_parser_initialize failed");
    yaml_parser_set_input_string(&y, (const unsigned char *)text.p, text.len);
    int rc = LK_OK;
    if (!yaml_parser_load(&y, &p.doc)) {
        if (err)
            lk_buf_printf(err, "%s:%d:%d: %s", name, (int)y.problem_mark.line + 1 + line_adj,
                          (int)y.problem_mark.column + 1 + col_adj,
                          y.problem ? y.problem : "bad YAML");
        yaml_parser_delete(&y);
        rul_file_free(p.f);
        return LK_EPARSE;
    }
    yaml_parser_delete(&y);
    rc = parse_root(&p, yaml_document_get_root_node(&p.doc));
    yaml_document_delete(&p.doc);
    if (rc != LK_OK) {
        rul_file_free(p.f);
        return rc;
    }
    *out = p.f;
    return LK_OK;
}

int rul_file_parse(const char *name, lk_str text, rul_file **out, lk_buf *err)
{
    return parse_doc(name, text, 0, 0, out, err);
}

int rul_group_parse(const char *name, lk_str text, rul_file **out, lk_buf *err)
{
    /* the group becomes the one item of a groups list, each line indented */
    lk_buf doc = { 0 };
    lk_buf_puts(&doc, "groups:\n  - ");
    for (size_t i = 0; i < text.len; i++) {
        lk_buf_putc(&doc, text.p[i]);
        if (text.p[i] == '\n' && i + 1 < text.len)
            lk_buf_puts(&doc, "    ");
    }
    int rc = parse_doc(name, lk_buf_str(&doc), -1, -4, out, err);
    if (rc == LK_OK && (*out)->n_groups != 1) {
        rul_file_free(*out);
        if (err)
            lk_buf_printf(err, "%s: expected one rule group", name);
        rc = LK_EINVAL;
    }
    lk_buf_free(&doc);
    return rc;
}

void rul_file_free(rul_file *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n_groups; i++)
        for (size_t j = 0; j < f->groups[i].n_rules; j++)
            logql_expr_free(f->groups[i].rules[j].e);
    lk_arena_free(&f->arena);
    free(f);
}

/* ---- YAML output */

static void put_indent(lk_buf *out, int n)
{
    for (int i = 0; i < n; i++)
        lk_buf_putc(out, ' ');
}

static void put_value(lk_buf *out, lk_str s)
{
    jw w;
    jw_init(&w, out);
    jw_str(&w, s);
}

static void put_kv(lk_buf *out, int indent, const char *key, lk_str v)
{
    put_indent(out, indent);
    lk_buf_printf(out, "%s: ", key);
    put_value(out, v);
    lk_buf_putc(out, '\n');
}

static void put_duration(lk_buf *out, int indent, const char *key, int64_t ns)
{
    put_indent(out, indent);
    lk_buf_printf(out, "%s: ", key);
    lk_format_prom_duration(ns, out);
    lk_buf_putc(out, '\n');
}

static void put_map(lk_buf *out, int indent, const char *key, const lk_label *v, size_t n)
{
    if (!n)
        return;
    put_indent(out, indent);
    lk_buf_printf(out, "%s:\n", key);
    for (size_t i = 0; i < n; i++) {
        put_indent(out, indent + 2);
        put_value(out, v[i].name);
        lk_buf_puts(out, ": ");
        put_value(out, v[i].value);
        lk_buf_putc(out, '\n');
    }
}

static void rule_yaml(const rul_rule *r, int indent, lk_buf *out)
{
    put_indent(out, indent);
    lk_buf_puts(out, "- ");
    if (r->alert.len)
        put_kv(out, 0, "alert", r->alert);
    else
        put_kv(out, 0, "record", r->record);
    put_kv(out, indent + 2, "expr", r->expr);
    if (r->for_ns)
        put_duration(out, indent + 2, "for", r->for_ns);
    if (r->keep_firing_for_ns)
        put_duration(out, indent + 2, "keep_firing_for", r->keep_firing_for_ns);
    put_map(out, indent + 2, "labels", r->labels, r->n_labels);
    put_map(out, indent + 2, "annotations", r->annotations, r->n_annotations);
}

void rul_group_yaml(const rul_group *g, int indent, bool item, lk_buf *out)
{
    put_indent(out, indent);
    int in = indent;
    if (item) {
        lk_buf_puts(out, "- ");
        in += 2;
    }
    put_kv(out, 0, "name", g->name);
    if (g->interval_ns)
        put_duration(out, in, "interval", g->interval_ns);
    if (g->limit) {
        put_indent(out, in);
        lk_buf_printf(out, "limit: %lld\n", (long long)g->limit);
    }
    put_indent(out, in);
    lk_buf_puts(out, g->n_rules ? "rules:\n" : "rules: []\n");
    for (size_t i = 0; i < g->n_rules; i++)
        rule_yaml(&g->rules[i], in, out);
}

bool rul_name_ok(lk_str name)
{
    return name.len > 0 && name.p[0] != '.' && !memchr(name.p, '/', name.len) &&
           !memchr(name.p, '\0', name.len);
}
