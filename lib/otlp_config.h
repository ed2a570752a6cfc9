/* limits_config.otlp_config: which OTLP attributes become index labels,
 * structured metadata, or are dropped (Loki 3's pkg/loghttp/push/
 * otlp_config.go). Resource attributes: Loki's default rule (its list of
 * "blessed" attributes are index labels) comes first unless
 * resource_attributes.ignore_defaults, then attributes_config in order;
 * scope_attributes and log_attributes: their rules in order. The first rule
 * naming the attribute (or whose regex matches all of it) decides; none:
 * structured metadata. index_label is only allowed for resource attributes. */
#ifndef LOKIC_LIB_OTLP_CONFIG_H
#define LOKIC_LIB_OTLP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/regex.h"
#include "lib/str.h"

typedef enum lk_otlp_action {
    LK_OTLP_STRUCTURED_METADATA = 0,
    LK_OTLP_INDEX_LABEL,
    LK_OTLP_DROP,
} lk_otlp_action;

typedef struct lk_otlp_rule {
    lk_otlp_action action;
    char **attrs;          /* owned names; or */
    size_t n_attrs;
    lk_regex *re;          /* owned, anchored; NULL when attrs are given */
    char *regex;           /* its source, for /config */
} lk_otlp_rule;

typedef struct lk_otlp_rules {
    lk_otlp_rule *v;
    size_t n;
} lk_otlp_rules;

typedef struct lk_otlp_config {
    bool ignore_defaults;       /* resource_attributes.ignore_defaults */
    lk_otlp_rules resource;     /* resource_attributes.attributes_config */
    lk_otlp_rules scope;        /* scope_attributes */
    lk_otlp_rules log;          /* log_attributes */
} lk_otlp_config;

/* Loki 3.6's default index-label resource attributes
 * (distributor.otlp.default_resource_attributes_as_index_labels), as an
 * initializer list for the decoder's table and the published limits. */
#define LK_OTLP_DEFAULT_INDEX_ATTRS                                                        \
    "service.name", "service.namespace", "service.instance.id", "deployment.environment",   \
        "cloud.region", "cloud.availability_zone", "k8s.cluster.name", "k8s.namespace.name", \
        "k8s.pod.name", "k8s.container.name", "container.name", "k8s.replicaset.name",       \
        "k8s.deployment.name", "k8s.statefulset.name", "k8s.daemonset.name",                 \
        "k8s.cronjob.name", "k8s.job.name"
/* The same, NULL-terminated. */
extern const char *const lk_otlp_default_index_attrs[];

lk_otlp_action lk_otlp_resource_action(const lk_otlp_config *c, lk_str attr);
lk_otlp_action lk_otlp_scope_action(const lk_otlp_config *c, lk_str attr);
lk_otlp_action lk_otlp_log_action(const lk_otlp_config *c, lk_str attr);

/* "index_label", "structured_metadata", "drop" (and "" as structured
 * metadata, Loki's default); LK_EINVAL with Loki's message otherwise. */
int lk_otlp_parse_action(lk_str s, lk_otlp_action *out, lk_buf *err);
/* Appends an empty rule to *rules and returns it. */
lk_otlp_rule *lk_otlp_rules_add(lk_otlp_rules *rules);
/* Checks a finished rule as Loki does (attributes or regex, not both;
 * index_label only when resource). LK_EINVAL with Loki's message. */
int lk_otlp_rule_check(const lk_otlp_rule *r, bool resource, lk_buf *err);
void lk_otlp_config_free(lk_otlp_config *c);

#endif
