/* Push-time level detection from a log line (see level.h): Loki 3.6's
 * isJSON / isLogFmt choice, its JSON and logfmt field lookups and the
 * keyword fallback, in that order. */
#define _GNU_SOURCE /* memmem */
#include "query/pipeline/level.h"

#include <stdbool.h>
#include <string.h>

#include "lib/utf8.h"
#include "query/pipeline/pipeline_int.h"

/* Go's unicode.IsSpace. */
static bool is_space_rune(uint32_t r)
{
    switch (r) {
    case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F:
    case 0x205F: case 0x3000:
        return true;
    }
    return r >= 0x2000 && r <= 0x200A;
}

/* Loki's isJSON: the first non-space rune is '{' and the last non-space
 * byte (each byte taken as a rune, as Loki does) is '}'. */
static bool looks_json(lk_str line)
{
    size_t i = 0;
    uint32_t first = 0;
    while (i < line.len) {
        uint32_t r;
        size_t n = lk_utf8_decode(line.p + i, line.len - i, &r);
        if (!is_space_rune(r)) {
            first = r;
            break;
        }
        i += n;
    }
    if (first != '{')
        return false;
    for (size_t j = line.len; j > 0; j--) {
        unsigned char c = (unsigned char)line.p[j - 1];
        if (!is_space_rune(c))
            return c == '}';
    }
    return false;
}

typedef struct json_find {
    const lk_str *fields;
    size_t n_fields;
    int max_depth, depth;
    lk_str found;
    lp_scratch *s;
} json_find;

static const char FOUND[] = "key found";

static const char *json_member(void *ctx, lk_str key, lk_str value, lp_jtype t)
{
    json_find *f = ctx;
    if (t == LP_J_STRING) {
        for (size_t i = 0; i < f->n_fields; i++) {
            if (lk_str_eq(key, f->fields[i])) {
                f->found = value;
                return FOUND;
            }
        }
        return NULL;
    }
    if (t != LP_J_OBJECT)
        return NULL;
    if (f->max_depth > 0 && f->depth + 1 >= f->max_depth)
        return NULL;
    f->depth++;
    const char *err = lp_json_object_each(value, json_member, f, f->s);
    f->depth--;
    return err;
}

static bool eq_any(lk_str v, const char *const *names)
{
    for (; *names; names++)
        if (lk_str_eq_nocase(v, *names))
            return true;
    return false;
}

static const char *normalise(lk_str v, lk_str line)
{
    static const char *const trace[] = { "trace", "trc", NULL };
    static const char *const debug[] = { "debug", "dbg", NULL };
    static const char *const info[] = { "info", "inf", "information", NULL };
    static const char *const warn[] = { "warn", "wrn", "warning", NULL };
    static const char *const error[] = { "error", "err", NULL };
    static const char *const critical[] = { "critical", NULL };
    static const char *const fatal[] = { "fatal", NULL };
    if (eq_any(v, trace))
        return "trace";
    if (eq_any(v, debug))
        return "debug";
    if (eq_any(v, info))
        return "info";
    if (eq_any(v, warn))
        return "warn";
    if (eq_any(v, error))
        return "error";
    if (eq_any(v, critical))
        return "critical";
    if (eq_any(v, fatal))
        return "fatal";
    return lp_keyword_level(line);
}

static bool contains_any(lk_str line, const char *const *words)
{
    for (; *words; words++)
        if (line.len && memmem(line.p, line.len, *words, strlen(*words)))
            return true;
    return false;
}

const char *lp_keyword_level(lk_str line)
{
    static const char *const info[] = { "info", "INFO", NULL };
    static const char *const error[] = { "err:", "ERR:", "[err]", "[ERR]", "[error]", "[ERROR]",
                                         NULL };
    static const char *const warn[] = { "warn:", "WARN:", "[warn]", "[WARN]", "warning",
                                        "WARNING", NULL };
    static const char *const critical[] = { "critical:", "CRITICAL:", "[critical]",
                                            "[CRITICAL]", NULL };
    static const char *const debug[] = { "debug", "DEBUG", NULL };
    if (contains_any(line, info))
        return "info";
    if (contains_any(line, error))
        return "error";
    if (contains_any(line, warn))
        return "warn";
    if (contains_any(line, critical))
        return "critical";
    if (contains_any(line, debug))
        return "debug";
    return "unknown";
}

const char *lp_line_level(lk_str line, const lk_str *fields, size_t n_fields,
                          int json_max_depth)
{
    lp_scratch s = { 0 };
    lk_str v = LK_STR("");
    const char *level;
    if (looks_json(line)) {
        json_find f = { fields, n_fields, json_max_depth, 0, LK_STR(""), &s };
        lp_json_object_each(line, json_member, &f, &s);
        v = f.found;
    } else if (memchr(line.p ? line.p : "", '=', line.len)) {
        lp_logfmt_find(line, fields, n_fields, &s, &v);
    } else {
        return lp_keyword_level(line);
    }
    level = normalise(v, line);
    lp_scratch_free(&s);
    return level;
}
