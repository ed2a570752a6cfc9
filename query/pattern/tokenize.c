/* Loki 3.6's pattern tokenizers (pkg/pattern/drain/line_tokenizer.go): the
 * punctuation tokenizer for plain text, the logfmt one and the JSON one
 * (the message field tokenized as plain text), the format guess, and the
 * joins that turn a cluster's tokens into its pattern. See tokenize.h. */
#include "query/pattern/tokenize.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"
#include "lib/regex.h"
#include "lib/utf8.h"
#include "query/pipeline/pipeline_int.h"

/* ---- format guess ---------------------------------------------------------------- */

static lk_regex *logfmt_re;
static pthread_once_t logfmt_once = PTHREAD_ONCE_INIT;

static void logfmt_re_init(void)
{
    lk_buf err = { 0 };
    if (lk_regex_compile(LK_STR("^(\\w+?=([^\"]\\S*?|\".+?\") )*?(\\w+?=([^\"]\\S*?|\".+?\"))+$"),
                         0, &logfmt_re, &err) != 0)
        LK_BUG("pattern logfmt regex: %s", err.p ? err.p : "?");
    lk_buf_free(&err);
}

pat_format pat_detect_format(lk_str line)
{
    if (line.len < 2)
        return PAT_FMT_PLAIN;
    if (line.p[0] == '{' && line.p[line.len - 1] == '}')
        return PAT_FMT_JSON;
    pthread_once(&logfmt_once, logfmt_re_init);
    return lk_regex_match(logfmt_re, line) ? PAT_FMT_LOGFMT : PAT_FMT_PLAIN;
}

/* ---- token arrays ------------------------------------------------------------------- */

static void push_tok(pat_tokens *t, lk_str s)
{
    if (t->n == t->cap)
        t->tok = lk_grow(t->tok, &t->cap, t->n + 1, sizeof *t->tok);
    t->tok[t->n++] = s;
}

static void push_space(pat_tokens *t, int after)
{
    if (t->n_spaces == t->cap_spaces)
        t->spaces = lk_grow(t->spaces, &t->cap_spaces, t->n_spaces + 1, sizeof *t->spaces);
    t->spaces[t->n_spaces++] = after;
}

void pat_tokens_free(pat_tokens *t)
{
    free(t->tok);
    free(t->spaces);
    if (t->scratch) {
        lp_scratch_free(t->scratch);
        free(t->scratch);
    }
    memset(t, 0, sizeof *t);
}

/* ---- plain text --------------------------------------------------------------------- */

/* Go's unicode.IsPunct for ASCII, and the common punctuation blocks beyond
 * (Latin-1 punctuation, General Punctuation, CJK symbols and punctuation,
 * fullwidth forms); other non-ASCII runes count as letters. */
static bool is_punct(uint32_t r)
{
    if (r < 0x80)
        return r && strchr("!\"#%&'()*,-./:;?@[\\]_{}", (int)r) != NULL;
    if (r == 0xA1 || r == 0xA7 || r == 0xAB || r == 0xB6 || r == 0xB7 || r == 0xBB ||
        r == 0xBF)
        return true;
    return (r >= 0x2010 && r <= 0x2027) || (r >= 0x2030 && r <= 0x205E) ||
           (r >= 0x3001 && r <= 0x3003) || (r >= 0x3008 && r <= 0x3011) ||
           (r >= 0xFF01 && r <= 0xFF0F && r != 0xFF04 && r != 0xFF0B);
}

/* Letters, digits and _ - . : / continue a token. U+FFFD (an invalid
 * byte) is a symbol in Go, so it continues one too: only spaces, = and
 * punctuation end a token. */
static bool is_word(uint32_t r)
{
    if (r < 0x80)
        return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') ||
               r == '_' || r == '-' || r == '.' || r == ':' || r == '/';
    return !is_punct(r) && r != 0xA0 && r != 0x3000;
}

static void tokenize_plain(lk_str line, pat_tokens *t)
{
    size_t start = 0, i = 0;
    while (i < line.len) {
        if (t->n >= PAT_MAX_TOKENS - 1)
            break;
        uint32_t r;
        size_t w = lk_utf8_decode(line.p + i, line.len - i, &r);
        if (w == 0)
            w = 1;
        if (!is_word(r) && (r == ' ' || r == '=' || is_punct(r))) {
            if (i > start)
                push_tok(t, lk_str_n(line.p + start, i - start));
            if (r == ' ')
                push_space(t, (int)t->n - 1);
            else
                push_tok(t, lk_str_n(line.p + i, 1));
            start = i + 1;
        }
        i += w;
    }
    if (start < line.len)
        push_tok(t, lk_str_n(line.p + start, line.len - start));
}

/* ---- logfmt ------------------------------------------------------------------------- */

static bool variable_key(lk_str k)
{
    switch (k.len) {
    case 1:
        return k.p[0] == 't';
    case 2:
        return lk_str_eq_nocase(k, "ts");
    case 4:
        return lk_str_eq_nocase(k, "time");
    case 7:
        return lk_str_eq_nocase(k, "traceID");
    case 9:
        return lk_str_eq_nocase(k, "timestamp");
    default:
        return false;
    }
}

static void logfmt_pair(void *ctx, lk_str key, lk_str value)
{
    pat_tokens *t = ctx;
    push_tok(t, key);
    push_tok(t, variable_key(key) ? LK_STR(PAT_PARAM) : value);
}

static bool tokenize_logfmt(lk_str line, pat_tokens *t)
{
    if (!t->scratch)
        t->scratch = lk_calloc(1, sizeof *t->scratch);
    lp_scratch_reset(t->scratch);
    return lp_logfmt_each(line, t->scratch, logfmt_pair, t);
}

/* ---- JSON --------------------------------------------------------------------------- */

static const char *const json_fields[] = { "log", "message", "msg", "msg_", "_msg", "content" };
#define N_JSON_FIELDS (sizeof json_fields / sizeof json_fields[0])

typedef struct json_find {
    lk_str found[N_JSON_FIELDS];
    bool have[N_JSON_FIELDS];
} json_find;

static const char *json_member(void *ctx, lk_str key, lk_str value, lp_jtype type)
{
    json_find *f = ctx;
    for (size_t i = 0; i < N_JSON_FIELDS; i++) {
        if (!f->have[i] && lk_str_eq_c(key, json_fields[i])) {
            f->have[i] = true;
            f->found[i] = type == LP_J_STRING ? value : LK_STR_NULL;
        }
    }
    return NULL;
}

static bool tokenize_json(lk_str line, pat_tokens *t)
{
    json_find f;
    memset(&f, 0, sizeof f);
    if (!t->scratch)
        t->scratch = lk_calloc(1, sizeof *t->scratch);
    lp_scratch_reset(t->scratch);
    (void)lp_json_object_each(line, json_member, &f, t->scratch); /* keys found before an error count */
    for (size_t i = 0; i < N_JSON_FIELDS; i++) {
        if (f.have[i] && f.found[i].p) {
            if (f.found[i].len > PAT_MAX_LINE)
                return false;
            tokenize_plain(f.found[i], t);
            return true;
        }
    }
    return false;
}

bool pat_tokenize(pat_format f, lk_str line, pat_tokens *t)
{
    t->n = 0;
    t->n_spaces = 0;
    if (f == PAT_FMT_JSON) /* only the message's length counts */
        return tokenize_json(line, t);
    if (line.len > PAT_MAX_LINE)
        return false;
    if (f == PAT_FMT_LOGFMT)
        return tokenize_logfmt(line, t);
    tokenize_plain(line, t);
    return true;
}

/* ---- joins -------------------------------------------------------------------------- */

static void join_plain(const lk_str *tok, size_t n, const int *spaces, size_t n_spaces,
                       lk_buf *out)
{
    size_t si = 0;
    for (size_t i = 0; i < n; i++) {
        lk_buf_put_str(out, tok[i]);
        while (si < n_spaces && (long)i == spaces[si]) {
            lk_buf_putc(out, ' ');
            si++;
        }
    }
}

/* Does s hold U+FFFD (Go's utf8.RuneError, which go-logfmt refuses)? */
static bool has_rune_error(lk_str s)
{
    for (size_t i = 0; i + 2 < s.len; i++)
        if ((unsigned char)s.p[i] == 0xEF && (unsigned char)s.p[i + 1] == 0xBF &&
            (unsigned char)s.p[i + 2] == 0xBD)
            return true;
    return false;
}

/* go-logfmt's key check: not empty, no byte <= ' ', '=', '"', valid UTF-8. */
static bool logfmt_key_ok(lk_str k)
{
    if (!k.len || !lk_utf8_valid(k))
        return false;
    for (size_t i = 0; i < k.len; i++) {
        unsigned char c = (unsigned char)k.p[i];
        if (c <= ' ' || c == '=' || c == '"')
            return false;
    }
    return !has_rune_error(k);
}

static bool value_needs_quotes(lk_str v)
{
    if (!lk_utf8_valid(v) || has_rune_error(v))
        return true;
    for (size_t i = 0; i < v.len; i++) {
        unsigned char c = (unsigned char)v.p[i];
        if (c <= ' ' || c == '=' || c == '"')
            return true;
    }
    return false;
}

/* go-logfmt's quoted value: JSON string escapes. */
static void put_quoted(lk_buf *out, lk_str v)
{
    static const char hex[] = "0123456789abcdef";
    lk_buf_putc(out, '"');
    size_t i = 0;
    while (i < v.len) {
        unsigned char c = (unsigned char)v.p[i];
        if (c < 0x80) {
            if (c == '\\' || c == '"') {
                lk_buf_putc(out, '\\');
                lk_buf_putc(out, (char)c);
            } else if (c == '\n') {
                lk_buf_puts(out, "\\n");
            } else if (c == '\r') {
                lk_buf_puts(out, "\\r");
            } else if (c == '\t') {
                lk_buf_puts(out, "\\t");
            } else if (c < 0x20) {
                char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
                lk_buf_append(out, u, 6);
            } else {
                lk_buf_putc(out, (char)c);
            }
            i++;
            continue;
        }
        uint32_t r;
        size_t w = lk_utf8_decode(v.p + i, v.len - i, &r);
        if (w == 0)
            w = 1;
        if (r == 0xFFFD && w == 1)
            lk_buf_puts(out, "\\ufffd");
        else if (r == 0x2028 || r == 0x2029)
            lk_buf_printf(out, "\\u%04x", (unsigned)r);
        else
            lk_buf_append(out, v.p + i, w);
        i += w;
    }
    lk_buf_putc(out, '"');
}

static bool join_logfmt(const lk_str *tok, size_t n, lk_buf *out)
{
    for (size_t i = 0; i < n; i += 2) {
        lk_str k = tok[i], v = i + 1 < n ? tok[i + 1] : LK_STR("");
        if (!logfmt_key_ok(k))
            return false;
        if (i)
            lk_buf_putc(out, ' ');
        lk_buf_put_str(out, k);
        lk_buf_putc(out, '=');
        if (value_needs_quotes(v))
            put_quoted(out, v);
        else
            lk_buf_put_str(out, v);
    }
    return true;
}

/* Collapses runs of <_> in out[from:] into one. */
static void dedup_params(lk_buf *out, size_t from)
{
    const size_t pl = sizeof PAT_PARAM - 1;
    size_t w = from, r = from;
    bool last_param = false;
    while (r < out->len) {
        if (out->len - r >= pl && memcmp(out->p + r, PAT_PARAM, pl) == 0) {
            if (!last_param) {
                memmove(out->p + w, PAT_PARAM, pl);
                w += pl;
            }
            r += pl;
            last_param = true;
            continue;
        }
        out->p[w++] = out->p[r++];
        last_param = false;
    }
    out->len = w;
    if (out->p)
        out->p[w] = '\0';
}

void pat_join(pat_format f, const lk_str *tok, size_t n, const int *spaces, size_t n_spaces,
              lk_buf *out)
{
    size_t from = out->len;
    switch (f) {
    case PAT_FMT_LOGFMT:
        if (n && !join_logfmt(tok, n, out)) {
            out->len = from;
            if (out->p)
                out->p[from] = '\0';
            return;
        }
        break;
    case PAT_FMT_JSON:
        lk_buf_puts(out, PAT_PARAM);
        join_plain(tok, n, spaces, n_spaces, out);
        lk_buf_puts(out, PAT_PARAM);
        break;
    case PAT_FMT_PLAIN:
        join_plain(tok, n, spaces, n_spaces, out);
        break;
    }
    dedup_params(out, from);
}
