/* Rule files: Prometheus rule-group YAML with LogQL expressions, as Loki's
 * ruler reads them (pkg/ruler/base, Prometheus' rulefmt):
 *
 *   groups:
 *     - name: <string, unique in the file>
 *       interval: <duration, default ruler.evaluation_interval>
 *       limit: <int, 0 = none>
 *       rules:
 *         - alert: <name> | record: <metric name>
 *           expr: <LogQL metric query>
 *           for: <duration>              (alerting rules)
 *           keep_firing_for: <duration>  (alerting rules)
 *           labels: { <name>: <template> }
 *           annotations: { <name>: <template> } (alerting rules)
 *
 * A parsed file is immutable; everything it points to lives in its arena.
 * Errors name "<file>:<line>:<column>:" and, for a bad expression, the
 * group, the rule and LogQL's own message. */
#ifndef LOKIC_QUERY_RULER_RULES_H
#define LOKIC_QUERY_RULER_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/labels.h"
#include "lib/str.h"
#include "query/logql/ast.h"

typedef struct rul_rule {
    lk_str alert;          /* alerting rule name, or empty */
    lk_str record;         /* recording rule metric, or empty */
    lk_str expr;
    logql_expr *e;         /* owned (parsed expr) */
    int64_t for_ns, keep_firing_for_ns;
    lk_label *labels;      /* in file order */
    size_t n_labels;
    lk_label *annotations;
    size_t n_annotations;
    int line;
} rul_rule;

typedef struct rul_group {
    lk_str name;
    int64_t interval_ns;   /* 0: the ruler's evaluation_interval */
    int64_t limit;
    rul_rule *rules;
    size_t n_rules;
    int line;
} rul_group;

typedef struct rul_file {
    rul_group *groups;
    size_t n_groups;
    lk_arena arena;
} rul_file;

/* Parses and validates a rule file; name is used in messages. On error
 * LK_EPARSE (YAML) or LK_EINVAL (a rule) with the message in *err and *out
 * untouched. */
int rul_file_parse(const char *name, lk_str text, rul_file **out, lk_buf *err);
/* One group's YAML (the rules API's POST body) as a file of one group. */
int rul_group_parse(const char *name, lk_str text, rul_file **out, lk_buf *err);
void rul_file_free(rul_file *f); /* accepts NULL */

/* One group as YAML (the rules API's answers and files written through it),
 * each line indented by indent spaces; the first line starts with "- " when
 * item is set. */
void rul_group_yaml(const rul_group *g, int indent, bool item, lk_buf *out);

/* A namespace or group name the API accepts as a file name: non-empty, no
 * '/', no NUL, not starting with '.'. */
bool rul_name_ok(lk_str name);

#endif
