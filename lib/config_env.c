/* Environment expansion of a config file before it is parsed, as Loki's
 * -config.expand-env does (envsubst semantics):
 *   ${VAR}          the value of VAR, "" when unset
 *   ${VAR:-word}    word when VAR is unset or empty ("${VAR:word}" too)
 *   ${VAR-word}     word when VAR is unset
 *   ${VAR:=word}    as :-  (nothing is assigned)
 *   ${VAR=word}     as -
 *   ${VAR:+word}    word when VAR is set and not empty, else ""
 *   ${VAR+word}     word when VAR is set, else ""
 *   $VAR            the value of VAR
 *   $$              a literal $
 * word may itself hold ${...}. A '$' followed by anything else is kept. */
#include <stdlib.h>
#include <string.h>

#include "lib/config_priv.h"
#include "lib/err.h"
#include "lib/mem.h"

#define ENV_MAX_DEPTH 8

typedef struct env_ctx {
    const char *name;
    lk_str all; /* the whole text, for line:column */
    lk_buf *err;
} env_ctx;

static bool name_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool name_char(char c)
{
    return name_start(c) || (c >= '0' && c <= '9');
}

static int env_error(env_ctx *x, const char *at, const char *what)
{
    if (x->err) {
        int line = 1, col = 1;
        for (const char *p = x->all.p; p < at; p++) {
            if (*p == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        lk_buf_printf(x->err, "%s:%d:%d: %s", x->name, line, col, what);
    }
    return LK_EPARSE;
}

/* The value of the variable named s, or NULL when unset. */
static const char *lookup(lk_str s)
{
    char tmp[256];
    if (s.len >= sizeof tmp)
        return NULL;
    memcpy(tmp, s.p, s.len);
    tmp[s.len] = '\0';
    return getenv(tmp);
}

/* Offset of the '}' closing a ${ whose body starts at s.p, or s.len. */
static size_t closing_brace(lk_str s)
{
    int depth = 1;
    for (size_t i = 0; i < s.len; i++) {
        if (s.p[i] == '$' && i + 1 < s.len && s.p[i + 1] == '{') {
            depth++;
            i++;
        } else if (s.p[i] == '}' && --depth == 0) {
            return i;
        }
    }
    return s.len;
}

static int expand(env_ctx *x, lk_str in, lk_buf *out, int depth);

/* body is what stands between "${" and its "}". */
static int substitute(env_ctx *x, lk_str body, lk_buf *out, int depth)
{
    size_t n = 0;
    if (body.len == 0 || !name_start(body.p[0]))
        return env_error(x, body.p - 2, "bad substitution: expected a variable name after ${");
    while (n < body.len && name_char(body.p[n]))
        n++;
    const char *val = lookup(lk_str_n(body.p, n));
    if (n == body.len) {
        if (val)
            lk_buf_puts(out, val);
        return LK_OK;
    }
    lk_str rest = lk_str_n(body.p + n, body.len - n);
    bool colon = rest.p[0] == ':';
    if (colon) {
        rest.p++;
        rest.len--;
    }
    char op = rest.len ? rest.p[0] : '\0';
    if (op == '-' || op == '=' || op == '+') {
        rest.p++;
        rest.len--;
    } else if (colon) {
        op = '-'; /* ${VAR:word} */
    } else {
        return env_error(x, body.p + n, "bad substitution: expected }, :-, -, := or :+");
    }
    bool set = val != NULL, nonempty = val && *val;
    bool use_word = op == '+' ? (colon ? nonempty : set) : (colon ? !nonempty : !set);
    if (use_word)
        return expand(x, rest, out, depth + 1);
    if (op != '+')
        lk_buf_puts(out, val);
    return LK_OK;
}

static int expand(env_ctx *x, lk_str in, lk_buf *out, int depth)
{
    if (depth > ENV_MAX_DEPTH)
        return env_error(x, in.p, "bad substitution: nested too deeply");
    size_t i = 0;
    while (i < in.len) {
        const char *d = memchr(in.p + i, '$', in.len - i);
        if (!d) {
            lk_buf_append(out, in.p + i, in.len - i);
            break;
        }
        size_t at = (size_t)(d - in.p);
        lk_buf_append(out, in.p + i, at - i);
        i = at + 1;
        if (i < in.len && in.p[i] == '$') {
            lk_buf_putc(out, '$');
            i++;
        } else if (i < in.len && in.p[i] == '{') {
            lk_str body = lk_str_n(in.p + i + 1, in.len - i - 1);
            size_t close = closing_brace(body);
            if (close == body.len)
                return env_error(x, d, "unterminated ${");
            int rc = substitute(x, lk_str_n(body.p, close), out, depth);
            if (rc != LK_OK)
                return rc;
            i += 1 + close + 1;
        } else if (i < in.len && name_start(in.p[i])) {
            size_t n = 0;
            while (i + n < in.len && name_char(in.p[i + n]))
                n++;
            const char *val = lookup(lk_str_n(in.p + i, n));
            if (val)
                lk_buf_puts(out, val);
            i += n;
        } else {
            lk_buf_putc(out, '$');
        }
    }
    return LK_OK;
}

int cfg_expand_env(const char *name, lk_str in, lk_buf *out, lk_buf *err)
{
    env_ctx x = { name, in, err };
    lk_buf tmp = { 0 };
    int rc = expand(&x, in, &tmp, 0);
    if (rc == LK_OK)
        lk_buf_put_str(out, lk_buf_str(&tmp));
    lk_buf_free(&tmp);
    return rc;
}
