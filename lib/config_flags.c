/* The command line, parsed as Go's flag package does (Loki's flags): one
 * table of flags, "-name", "--name", "-name=value", "-name value" (never
 * for booleans), "--" ends the flags; the same messages as Go for unknown
 * flags and bad values. */
#include "lib/config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lib/config_priv.h"
#include "lib/err.h"

typedef enum flag_kind { FLAG_BOOL, FLAG_STRING, FLAG_INT } flag_kind;

typedef struct flag_def {
    const char *name;
    flag_kind kind;
    size_t off; /* into lk_flags */
    const char *def; /* printed as "(default ...)", NULL for none */
    const char *help;
} flag_def;

#define FO(field) offsetof(lk_flags, field)

/* Sorted by name, as Go prints them. */
static const flag_def flag_defs[] = {
    { "config.expand-env", FLAG_BOOL, FO(expand_env), NULL,
      "Expands ${var} or $var in config according to the values of the environment variables." },
    { "config.file", FLAG_STRING, FO(config_file), NULL,
      "yaml file to load (default: the built-in configuration)" },
    { "help", FLAG_BOOL, FO(help), NULL, "Print basic help." },
    { "index.rebuild", FLAG_BOOL, FO(index_rebuild), NULL,
      "Rebuild the index from the chunk files at start, before becoming ready (it is rebuilt "
      "without the flag when missing or damaged)." },
    { "log.level", FLAG_STRING, FO(log_level), "info",
      "Only log messages with the given severity or above. Valid levels: [debug, info, warn, "
      "error]" },
    { "print-config-stderr", FLAG_BOOL, FO(print_config_stderr), NULL,
      "Dump the entire effective config object to stderr" },
    { "server.http-listen-address", FLAG_STRING, FO(http_listen_address), NULL,
      "HTTP server listen address." },
    { "server.http-listen-port", FLAG_INT, FO(http_listen_port), "3100",
      "HTTP server listen port." },
    { "version", FLAG_BOOL, FO(version), NULL, "Print this build's version information" },
};
#define NFLAGS (sizeof flag_defs / sizeof flag_defs[0])

static const flag_def *find_flag(lk_str name)
{
    for (size_t i = 0; i < NFLAGS; i++)
        if (lk_str_eq_c(name, flag_defs[i].name))
            return &flag_defs[i];
    return NULL;
}

/* Go's strconv.ParseBool. */
static int parse_go_bool(const char *s, bool *out)
{
    static const char *const t[] = { "1", "t", "T", "TRUE", "true", "True", NULL };
    static const char *const f[] = { "0", "f", "F", "FALSE", "false", "False", NULL };
    for (int i = 0; t[i]; i++)
        if (strcmp(s, t[i]) == 0) {
            *out = true;
            return LK_OK;
        }
    for (int i = 0; f[i]; i++)
        if (strcmp(s, f[i]) == 0) {
            *out = false;
            return LK_OK;
        }
    return LK_EINVAL;
}

static int bad_flag_value(lk_buf *err, const flag_def *d, const char *v, const char *why)
{
    if (err) {
        lk_buf_puts(err, d->kind == FLAG_BOOL ? "invalid boolean value " : "invalid value ");
        cfg_quote(err, lk_str_c(v), 100);
        lk_buf_printf(err, d->kind == FLAG_BOOL ? " for -%s: %s" : " for flag -%s: %s", d->name,
                      why);
    }
    return LK_EINVAL;
}

static int set_flag(lk_flags *f, const flag_def *d, const char *v, lk_buf *err)
{
    void *p = (char *)f + d->off;
    switch (d->kind) {
    case FLAG_BOOL:
        if (parse_go_bool(v, (bool *)p) != LK_OK)
            return bad_flag_value(err, d, v, "parse error");
        return LK_OK;
    case FLAG_STRING:
        if (d->off == FO(log_level) && strcmp(v, "debug") && strcmp(v, "info") &&
            strcmp(v, "warn") && strcmp(v, "error"))
            return bad_flag_value(err, d, v, "expected one of debug, info, warn, error");
        *(const char **)p = v;
        return LK_OK;
    case FLAG_INT: {
        char *end;
        long n = strtol(v, &end, 10);
        if (!*v || *end)
            return bad_flag_value(err, d, v, "parse error");
        if (n < 0 || n > 65535)
            return bad_flag_value(err, d, v, "must be between 0 and 65535");
        *(int *)p = (int)n;
        return LK_OK;
    }
    }
    return LK_EINVAL;
}

static void flags_init(lk_flags *f)
{
    memset(f, 0, sizeof *f);
    f->http_listen_port = -1;
}

/* One argument at argv[*i] that starts with '-'; may consume the next. */
static int parse_one(int argc, char **argv, int *i, lk_flags *f, lk_buf *err)
{
    const char *arg = argv[*i];
    const char *name = arg + 1;
    if (*name == '-')
        name++;
    if (*name == '\0' || *name == '-' || *name == '=') {
        if (err)
            lk_buf_printf(err, "bad flag syntax: %s", arg);
        return LK_EINVAL;
    }
    const char *eq = strchr(name, '=');
    lk_str n = eq ? lk_str_n(name, (size_t)(eq - name)) : lk_str_c(name);
    if (lk_str_eq_c(n, "h")) { /* Go answers -h with the usage */
        f->help = true;
        return LK_OK;
    }
    const flag_def *d = find_flag(n);
    if (!d) {
        if (err)
            lk_buf_printf(err, "flag provided but not defined: -%.*s", LK_STR_FMT(n));
        return LK_EINVAL;
    }
    if (eq)
        return set_flag(f, d, eq + 1, err);
    if (d->kind == FLAG_BOOL)
        return set_flag(f, d, "true", err);
    if (*i + 1 >= argc) {
        if (err)
            lk_buf_printf(err, "flag needs an argument: -%s", d->name);
        return LK_EINVAL;
    }
    (*i)++;
    return set_flag(f, d, argv[*i], err);
}

int config_parse_flags(int argc, char **argv, lk_flags *f, lk_buf *err)
{
    lk_flags tmp;
    flags_init(&tmp);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--") == 0) {
            if (i + 1 < argc) {
                if (err)
                    lk_buf_printf(err, "unexpected argument: %s", argv[i + 1]);
                return LK_EINVAL;
            }
            break;
        }
        if (arg[0] != '-' || arg[1] == '\0') {
            if (err)
                lk_buf_printf(err, "unexpected argument: %s", arg);
            return LK_EINVAL;
        }
        int rc = parse_one(argc, argv, &i, &tmp, err);
        if (rc != LK_OK)
            return rc;
    }
    *f = tmp;
    return LK_OK;
}

void config_print_usage(lk_buf *out)
{
    lk_buf_puts(out, "Usage of lokic:\n");
    for (size_t i = 0; i < NFLAGS; i++) {
        const flag_def *d = &flag_defs[i];
        lk_buf_printf(out, "  -%s", d->name);
        if (d->kind == FLAG_STRING)
            lk_buf_puts(out, " string");
        else if (d->kind == FLAG_INT)
            lk_buf_puts(out, " int");
        lk_buf_printf(out, "\n    \t%s", d->help);
        if (d->def)
            lk_buf_printf(out, d->kind == FLAG_STRING ? " (default \"%s\")" : " (default %s)",
                          d->def);
        lk_buf_putc(out, '\n');
    }
}
