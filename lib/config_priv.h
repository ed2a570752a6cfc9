/* Internals shared by the configuration files (config.c: the option table,
 * values, defaults, validation, YAML output; config_yaml.c: the YAML loader;
 * config_env.c: ${VAR} expansion; config_flags.c: the command line). Not a
 * public header: only lib/config*.c include it. */
#ifndef LOKIC_LIB_CONFIG_PRIV_H
#define LOKIC_LIB_CONFIG_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "lib/config.h"
#include "lib/str.h"

typedef enum cfg_type {
    CFG_BOOL,
    CFG_INT,      /* int */
    CFG_INT64,    /* int64_t */
    CFG_FLOAT,    /* double */
    CFG_STRING,   /* char *, owned */
    CFG_DURATION, /* int64_t ns: Prometheus or Go duration */
    CFG_BYTES,    /* int64_t bytes: Loki's flagext.ByteSize, "256KB", "1.5MB", 1024 */
    CFG_ENUM,     /* char *, owned, one of opt->enums */
    /* lk_cfg_list, owned: a YAML sequence of strings, or a scalar of
     * comma-separated items as Loki's list flags take them ("" or []: empty) */
    CFG_LIST,
} cfg_type;

enum {
    /* Another YAML name for an option printed under its own key: loaded,
     * never printed, never defaulted or freed through this entry. */
    CFG_ALIAS = 1u << 0,
    /* Applies only when no stronger key set the same field (common.*, and
     * deprecated spellings), as Loki's common config does. */
    CFG_WEAK = 1u << 1,
    /* A Loki model.Duration: printed Prometheus-style ("1w", "30d1h");
     * otherwise a Go time.Duration ("30m0s"). */
    CFG_PROM = 1u << 2,
    /* A value outside enums is unsupported (LK_EUNSUPPORTED), not invalid. */
    CFG_UNSUP_OTHER = 1u << 3,
    /* A CFG_LIST read from a YAML mapping (nested mappings of scalars
     * allowed): name, value pairs, nested names joined with dots. */
    CFG_MAP = 1u << 5,
    /* A secret (a key, or a URL that may hold one): /config and
     * -print-config-stderr print "<secret>" when it is set, as Loki does. */
    CFG_SECRET = 1u << 6,
};

typedef struct cfg_opt {
    const char *path;   /* dotted YAML path, "limits_config.max_line_size" */
    cfg_type type;
    unsigned flags;
    const char *def;    /* default, written as it would be in YAML */
    int64_t min, max;   /* bounds for numeric types (ns, bytes, integers) */
    size_t off;         /* offsetof(lk_config, field) */
    const char *const *enums; /* NULL-terminated, for CFG_ENUM */
    const char *help;
} cfg_opt;

/* config_otlp.c: limits_config.otlp_config's YAML (mapping node m) into
 * *out (replaced on success); LK_EINVAL with "name:line:col: why". */
struct yaml_document_s;
struct yaml_node_s;
int cfg_load_otlp(struct yaml_document_s *doc, struct yaml_node_s *m, const char *name,
                  lk_otlp_config *out, lk_buf *err);

extern const cfg_opt cfg_opts[];
extern const size_t cfg_nopts;

/* The option at exactly this dotted path, or NULL. */
const cfg_opt *cfg_find(lk_str path);
/* "expected a byte size such as 256KB" and the like. */
const char *cfg_expected(const cfg_opt *o);
/* Parses text as o's type into *c (strings are duplicated, the previous
 * value freed). LK_EINVAL when the text is not of the type or out of bounds,
 * LK_EUNSUPPORTED for a CFG_UNSUP_OTHER enum outside its list; why (may be
 * NULL) gets the reason ("expected a byte size such as 256KB"). */
int cfg_set(lk_config *c, const cfg_opt *o, lk_str text, lk_buf *why);
/* Replaces the list of o in c with items (taken over). */
void cfg_set_items(lk_config *c, const cfg_opt *o, lk_cfg_list items);
/* Checks the value of o in c against its bounds / list; LK_EINVAL and a
 * reason in why otherwise. */
int cfg_check(const lk_config *c, const cfg_opt *o, lk_buf *why);
/* Writes the value of o in c as YAML scalar text. */
void cfg_format(const lk_config *c, const cfg_opt *o, lk_buf *out);
/* Deep copy of every owned string (dst must not own anything). */
void cfg_copy(lk_config *dst, const lk_config *src);
/* Appends s as a logfmt value (quoted when it has to be). */
void cfg_logfmt_value(lk_buf *b, lk_str s);
/* Appends s in double quotes with Go-like escapes, cut at max bytes. */
void cfg_quote(lk_buf *b, lk_str s, size_t max);

/* config_aws.c: checks storage_config.aws and the schema's stores once
 * everything is loaded: LK_EINVAL with a reason for a config that cannot
 * work (no bucket, a malformed URL), else LK_EUNSUPPORTED while chunks and
 * index cannot yet go to S3 or DynamoDB. LK_OK when neither is used. */
int cfg_check_aws(const lk_config *c, lk_buf *err);

/* One tenant's effective configuration under the runtime config's
 * overrides (lib/overrides.c). */
typedef struct cfg_tenant {
    char *tenant;
    lk_config cfg;   /* the base config with the tenant's limits_config keys */
    bool own_otlp;   /* cfg.otlp is the tenant's otlp_config (else base's, borrowed) */
} cfg_tenant;

typedef struct cfg_tenants {
    cfg_tenant *v;   /* sorted by tenant once parsed */
    size_t n, cap;
} cfg_tenants;

/* Applies the `overrides:` of one runtime config file (name for messages)
 * to set: a tenant not yet in it starts from base. LK_EPARSE / LK_EINVAL
 * with `file:line:column: ...` in err (set may then be half-applied). */
int cfg_runtime_apply(const lk_config *base, const char *name, lk_str text, cfg_tenants *set,
                      lk_buf *err);
void cfg_tenants_sort(cfg_tenants *set);
void cfg_tenants_free(cfg_tenants *set);

/* ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:default}, ${VAR:=default},
 * ${VAR:+alt}, $VAR and $$ -> $, as envsubst does. LK_EPARSE on an
 * unterminated or malformed ${...}. */
int cfg_expand_env(const char *name, lk_str in, lk_buf *out, lk_buf *err);

#endif
