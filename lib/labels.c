/* Label sets: the stream-label parser, canonical form, fingerprint and Go
 * string quoting.
 *
 * labels_parse follows what Loki really runs for a pushed stream
 * (syntax.ParseLabels = Prometheus' promql ParseMetric, then dropping empty
 * values):
 *   metric   = [ identifier ] [ "{" [ item { "," item } [ "," ] ] "}" ]
 *   item     = name "=" string
 *   name     = [a-zA-Z_][a-zA-Z0-9_]*
 *   string   = "..." | '...' (Go escapes) | `...` (raw)
 * with spaces, tabs, newlines and `#` line comments between tokens. A leading
 * metric name becomes __name__. As in Loki, a label whose value is empty is
 * dropped (every label of that name, as Prometheus' labels.Builder does).
 * Errors read like Prometheus' parser: "1:5: parse error: unexpected "}" in
 * label set, expected string" (line:column of the offending token, 1-based,
 * column in bytes). */
#include "lib/labels.h"

#include <stdio.h>
#include <stdlib.h>
#include <xxhash.h>

#include "lib/err.h"
#include "lib/hex.h"
#include "lib/mem.h"
#include "lib/utf8.h"

/* ---- UTF-8 ---------------------------------------------------------------- */

/* Is (r, width) the decoding of an invalid byte rather than a real U+FFFD? */
static bool utf8_bad(const unsigned char *p, size_t w)
{
    return w == 1 && p[0] >= 0x80;
}

/* ---- Go quoting ----------------------------------------------------------- */

/* An approximation of Go's unicode.IsPrint for r >= 0x80: the separators,
 * format and private-use characters, surrogates and noncharacters are not
 * printable; everything else is taken as printable (Go also treats
 * unassigned code points as non-printable, which needs Unicode tables). */
static bool go_is_print(uint32_t r)
{
    static const uint32_t nonprint[][2] = {
        { 0x0080, 0x00A0 }, { 0x00AD, 0x00AD }, { 0x0600, 0x0605 }, { 0x061C, 0x061C },
        { 0x06DD, 0x06DD }, { 0x070F, 0x070F }, { 0x1680, 0x1680 }, { 0x180E, 0x180E },
        { 0x2000, 0x200F }, { 0x2028, 0x202F }, { 0x205F, 0x206F }, { 0x3000, 0x3000 },
        { 0xD800, 0xDFFF }, { 0xE000, 0xF8FF }, { 0xFDD0, 0xFDEF }, { 0xFEFF, 0xFEFF },
        { 0xFFF9, 0xFFFB }, { 0xE0001, 0xE0001 }, { 0xE0020, 0xE007F },
        { 0xF0000, 0x10FFFF },
    };
    if (r < 0x80)
        return r >= 0x20 && r < 0x7F;
    if ((r & 0xFFFE) == 0xFFFE) /* U+xFFFE, U+xFFFF in every plane */
        return false;
    for (size_t i = 0; i < sizeof(nonprint) / sizeof(nonprint[0]); i++)
        if (r >= nonprint[i][0] && r <= nonprint[i][1])
            return false;
    return r <= 0x10FFFF;
}

static const char hexd[] = "0123456789abcdef";

static void quote_rune(lk_buf *out, uint32_t r)
{
    if (r == '"' || r == '\\') {
        lk_buf_putc(out, '\\');
        lk_buf_putc(out, (char)r);
        return;
    }
    if (go_is_print(r)) {
        lk_utf8_put(out, r);
        return;
    }
    switch (r) {
    case '\a': lk_buf_puts(out, "\\a"); return;
    case '\b': lk_buf_puts(out, "\\b"); return;
    case '\f': lk_buf_puts(out, "\\f"); return;
    case '\n': lk_buf_puts(out, "\\n"); return;
    case '\r': lk_buf_puts(out, "\\r"); return;
    case '\t': lk_buf_puts(out, "\\t"); return;
    case '\v': lk_buf_puts(out, "\\v"); return;
    }
    char tmp[12];
    if (r < ' ' || r == 0x7F) {
        tmp[0] = '\\';
        tmp[1] = 'x';
        tmp[2] = hexd[r >> 4];
        tmp[3] = hexd[r & 0xF];
        lk_buf_append(out, tmp, 4);
    } else if (r < 0x10000) {
        snprintf(tmp, sizeof(tmp), "\\u%04x", (unsigned)r);
        lk_buf_puts(out, tmp);
    } else {
        snprintf(tmp, sizeof(tmp), "\\U%08x", (unsigned)r);
        lk_buf_puts(out, tmp);
    }
}

void lk_go_quote(lk_str s, lk_buf *out)
{
    const unsigned char *p = (const unsigned char *)s.p;
    size_t n = s.len;
    lk_buf_reserve(out, n + 2);
    lk_buf_putc(out, '"');
    size_t plain = 0; /* start of a run that needs no escaping */
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
            i++;
            continue;
        }
        lk_buf_append(out, p + plain, i - plain);
        uint32_t r;
        size_t w = lk_utf8_decode(p + i, n - i, &r);
        if (utf8_bad(p + i, w)) {
            char tmp[4] = { '\\', 'x', hexd[c >> 4], hexd[c & 0xF] };
            lk_buf_append(out, tmp, 4);
        } else {
            quote_rune(out, r);
        }
        i += w;
        plain = i;
    }
    lk_buf_append(out, p + plain, n - plain);
    lk_buf_putc(out, '"');
}

/* One escape after '\' at p[*i] (Go's UnquoteChar). Appends the byte or rune. */
static int unquote_escape(const unsigned char *p, size_t n, size_t *i, char quote, lk_buf *out)
{
    if (*i >= n)
        return LK_EPARSE;
    unsigned char c = p[(*i)++];
    int ndig = 0;
    switch (c) {
    case 'a': lk_buf_putc(out, '\a'); return 0;
    case 'b': lk_buf_putc(out, '\b'); return 0;
    case 'f': lk_buf_putc(out, '\f'); return 0;
    case 'n': lk_buf_putc(out, '\n'); return 0;
    case 'r': lk_buf_putc(out, '\r'); return 0;
    case 't': lk_buf_putc(out, '\t'); return 0;
    case 'v': lk_buf_putc(out, '\v'); return 0;
    case '\\': lk_buf_putc(out, '\\'); return 0;
    case '\'':
    case '"':
        if (c != (unsigned char)quote)
            return LK_EPARSE;
        lk_buf_putc(out, (char)c);
        return 0;
    case 'x': ndig = 2; break;
    case 'u': ndig = 4; break;
    case 'U': ndig = 8; break;
    case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
        uint32_t v = c - '0';
        for (int k = 0; k < 2; k++) {
            if (*i >= n || p[*i] < '0' || p[*i] > '7')
                return LK_EPARSE;
            v = v * 8 + (uint32_t)(p[(*i)++] - '0');
        }
        if (v > 255)
            return LK_EPARSE;
        lk_buf_putc(out, (char)v);
        return 0;
    }
    default:
        return LK_EPARSE;
    }
    uint32_t v = 0;
    for (int k = 0; k < ndig; k++) {
        int h = *i < n ? lk_hex_val(p[*i]) : -1;
        if (h < 0)
            return LK_EPARSE;
        v = v * 16 + (uint32_t)h;
        (*i)++;
    }
    if (c == 'x') {
        lk_buf_putc(out, (char)v);
        return 0;
    }
    if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return LK_EPARSE;
    lk_utf8_put(out, v);
    return 0;
}

/* Unquotes a "..." or '...' body (without the quotes). go_mode: invalid
 * UTF-8 becomes U+FFFD as in Go's strconv; otherwise bytes are kept. */
static int unquote_body(const unsigned char *p, size_t n, char quote, bool go_mode, lk_buf *out)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (c == '\n' || c == (unsigned char)quote)
            return LK_EPARSE;
        if (c == '\\') {
            i++;
            int rc = unquote_escape(p, n, &i, quote, out);
            if (rc)
                return rc;
            continue;
        }
        if (c < 0x80 || !go_mode) {
            lk_buf_putc(out, (char)c);
            i++;
            continue;
        }
        uint32_t r;
        size_t w = lk_utf8_decode(p + i, n - i, &r);
        if (utf8_bad(p + i, w))
            lk_utf8_put(out, 0xFFFD);
        else
            lk_buf_append(out, p + i, w);
        i += w;
    }
    return 0;
}

int lk_go_unquote(lk_str lit, lk_buf *out)
{
    const unsigned char *p = (const unsigned char *)lit.p;
    size_t n = lit.len;
    if (n < 2 || p[0] != p[n - 1])
        return LK_EPARSE;
    const unsigned char *body = p + 1;
    size_t bn = n - 2;
    if (p[0] == '`') {
        if (memchr(body, '`', bn))
            return LK_EPARSE;
        for (size_t i = 0; i < bn; i++) /* Go drops carriage returns */
            if (body[i] != '\r')
                lk_buf_putc(out, (char)body[i]);
        return 0;
    }
    if (p[0] != '"' && p[0] != '\'')
        return LK_EPARSE;
    size_t mark = out->len;
    int rc;
    if (p[0] == '"') {
        rc = unquote_body(body, bn, '"', true, out);
    } else { /* a Go rune literal: exactly one character */
        size_t i = 0;
        rc = LK_EPARSE;
        if (bn > 0 && body[0] == '\\') {
            i = 1;
            rc = unquote_escape(body, bn, &i, '\'', out);
        } else if (bn > 0 && body[0] != '\'' && body[0] != '\n') {
            uint32_t r;
            i = lk_utf8_decode(body, bn, &r);
            lk_utf8_put(out, r);
            rc = 0;
        }
        if (rc == 0 && i != bn)
            rc = LK_EPARSE;
    }
    if (rc) {
        out->len = mark;
        if (out->p)
            out->p[mark] = '\0';
    }
    return rc;
}

/* ---- label sets ----------------------------------------------------------- */

bool labels_valid_name(lk_str name)
{
    if (name.len == 0)
        return false;
    for (size_t i = 0; i < name.len; i++) {
        char c = name.p[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                  (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return true;
}

static void merge_sort(lk_label *v, lk_label *tmp, size_t n)
{
    if (n < 2)
        return;
    if (n <= 8) { /* insertion sort: stable */
        for (size_t i = 1; i < n; i++) {
            lk_label x = v[i];
            size_t j = i;
            while (j > 0 && lk_str_cmp(v[j - 1].name, x.name) > 0) {
                v[j] = v[j - 1];
                j--;
            }
            v[j] = x;
        }
        return;
    }
    size_t h = n / 2;
    merge_sort(v, tmp, h);
    merge_sort(v + h, tmp, n - h);
    size_t a = 0, b = h, k = 0;
    while (a < h && b < n)
        tmp[k++] = lk_str_cmp(v[b].name, v[a].name) < 0 ? v[b++] : v[a++];
    while (a < h)
        tmp[k++] = v[a++];
    while (b < n)
        tmp[k++] = v[b++];
    memcpy(v, tmp, n * sizeof(*v));
}

void labels_sort(lk_label *v, size_t n)
{
    if (n <= 8) {
        merge_sort(v, NULL, n);
        return;
    }
    lk_label *tmp = lk_malloc(n * sizeof(*tmp));
    merge_sort(v, tmp, n);
    free(tmp);
}

void labels_from_pairs(const lk_label *pairs, size_t n, lk_labels *out)
{
    size_t bytes = n * sizeof(lk_label);
    for (size_t i = 0; i < n; i++)
        bytes += pairs[i].name.len + pairs[i].value.len + 2;
    char *mem = lk_malloc(bytes ? bytes : 1);
    lk_label *v = (lk_label *)(void *)mem;
    char *s = mem + n * sizeof(lk_label);
    for (size_t i = 0; i < n; i++) {
        const lk_str *src[2] = { &pairs[i].name, &pairs[i].value };
        lk_str *dst[2] = { &v[i].name, &v[i].value };
        for (int k = 0; k < 2; k++) {
            if (src[k]->len)
                memcpy(s, src[k]->p, src[k]->len);
            s[src[k]->len] = '\0';
            *dst[k] = (lk_str){ s, src[k]->len };
            s += src[k]->len + 1;
        }
    }
    labels_sort(v, n);
    out->n = n;
    out->v = v;
    out->mem = mem;
}

void labels_copy(const lk_labels *src, lk_labels *dst)
{
    labels_from_pairs(src->v, src->n, dst);
}

void labels_free(lk_labels *l)
{
    if (!l)
        return;
    free(l->mem);
    l->mem = NULL;
    l->v = NULL;
    l->n = 0;
}

const lk_str *labels_find_duplicate(const lk_labels *l)
{
    for (size_t i = 1; i < l->n; i++)
        if (lk_str_eq(l->v[i - 1].name, l->v[i].name))
            return &l->v[i].name;
    return NULL;
}

const lk_str *labels_get(const lk_labels *l, lk_str name)
{
    size_t lo = 0, hi = l->n; /* first index with v[i].name >= name */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (lk_str_cmp(l->v[mid].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < l->n && lk_str_eq(l->v[lo].name, name))
        return &l->v[lo].value;
    return NULL;
}

void labels_canonical(const lk_labels *l, lk_buf *out)
{
    lk_buf_putc(out, '{');
    for (size_t i = 0; i < l->n; i++) {
        if (i)
            lk_buf_append(out, ", ", 2);
        lk_buf_put_str(out, l->v[i].name);
        lk_buf_putc(out, '=');
        lk_go_quote(l->v[i].value, out);
    }
    lk_buf_putc(out, '}');
}

uint64_t labels_hash(lk_str canonical)
{
    return XXH3_64bits(canonical.p ? canonical.p : "", canonical.len);
}

/* ---- the parser ----------------------------------------------------------- */

typedef enum tok_type {
    T_EOF,
    T_ERROR, /* lexer error; message in the lexer */
    T_LBRACE,
    T_RBRACE,
    T_COMMA,
    T_EQL,
    T_NEQ,
    T_EQL_RE,
    T_NEQ_RE,
    T_IDENT,
    T_METRIC_IDENT,
    T_STRING,
    T_NUMBER,
    T_OTHER, /* an operator outside braces */
} tok_type;

typedef struct tok {
    tok_type type;
    size_t pos, len;
} tok;

typedef struct lexer {
    const char *p;
    size_t n, i;
    bool in_braces;
    char msg[128]; /* for T_ERROR */
} lexer;

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Go's %q of a rune, for lexer messages (n == 0: Go's eof rune, -1). */
static void quote_char(char *dst, size_t cap, const char *p, size_t n)
{
    uint32_t r = 0xFFFD;
    size_t w = n ? lk_utf8_decode((const unsigned char *)p, n, &r) : 0;
    lk_buf b = { 0 };
    lk_buf_putc(&b, '\'');
    if (r == '\'')
        lk_buf_puts(&b, "\\'");
    else if (r == '"')
        lk_buf_putc(&b, '"');
    else if (w == 0 || utf8_bad((const unsigned char *)p, w))
        lk_utf8_put(&b, 0xFFFD);
    else
        quote_rune(&b, r);
    lk_buf_putc(&b, '\'');
    snprintf(dst, cap, "%s", b.p);
    lk_buf_free(&b);
}

static tok lex_error(lexer *lx, size_t pos, const char *fmt, const char *arg)
{
    snprintf(lx->msg, sizeof(lx->msg), fmt, arg);
    lx->i = lx->n; /* stop */
    return (tok){ T_ERROR, pos, 0 };
}

/* Go's %#U of the rune at p: U+0071 'q'. */
static void fmt_rune_u(char *dst, size_t cap, const char *p, size_t n)
{
    uint32_t r = 0;
    size_t w = n ? lk_utf8_decode((const unsigned char *)p, n, &r) : 0;
    if (w == 0) {
        snprintf(dst, cap, "U+FFFFFFFFFFFFFFFF");
        return;
    }
    bool print = r >= 0x20 && r != 0x7F && go_is_print(r) && !utf8_bad((const unsigned char *)p, w);
    if (print)
        snprintf(dst, cap, "U+%04X '%.*s'", (unsigned)r, (int)w, p);
    else
        snprintf(dst, cap, "U+%04X", (unsigned)r);
}

/* A quoted string token starting at lx->i (the quote), as the promql lexer
 * checks it: escapes must be well-formed, no newline, valid UTF-8. */
static tok lex_string(lexer *lx)
{
    const char *p = lx->p;
    size_t n = lx->n, s = lx->i;
    char q = p[s];
    size_t i = s + 1;
    char tmp[64];
    for (;;) {
        if (i >= n || p[i] == '\n')
            return lex_error(lx, s, "%s", "unterminated quoted string");
        unsigned char c = (unsigned char)p[i];
        if (c == (unsigned char)q)
            break;
        if (c >= 0x80) {
            uint32_t r;
            size_t w = lk_utf8_decode((const unsigned char *)p + i, n - i, &r);
            if (utf8_bad((const unsigned char *)p + i, w))
                return lex_error(lx, s, "%s", "invalid UTF-8 rune");
            i += w;
            continue;
        }
        i++;
        if (c != '\\')
            continue;
        if (i >= n)
            return lex_error(lx, s, "%s", "escape sequence not terminated");
        char e = p[i++];
        int nd;
        uint32_t base, max;
        if (strchr("abfnrtv\\", e) || e == q)
            continue;
        if (e >= '0' && e <= '7') {
            nd = 3, base = 8, max = 255;
            i--;
        } else if (e == 'x') {
            nd = 2, base = 16, max = 255;
        } else if (e == 'u') {
            nd = 4, base = 16, max = 0x10FFFF;
        } else if (e == 'U') {
            nd = 8, base = 16, max = 0x10FFFF;
        } else {
            fmt_rune_u(tmp, sizeof(tmp), p + i - 1, n - i + 1);
            return lex_error(lx, s, "unknown escape sequence %s", tmp);
        }
        uint32_t x = 0;
        for (int k = 0; k < nd; k++) {
            int d = i < n ? lk_hex_val((unsigned char)p[i]) : -1;
            if (d < 0 || (uint32_t)d >= base) {
                if (i >= n)
                    return lex_error(lx, s, "%s", "escape sequence not terminated");
                fmt_rune_u(tmp, sizeof(tmp), p + i, n - i);
                return lex_error(lx, s, "illegal character %s in escape sequence", tmp);
            }
            x = x * base + (uint32_t)d;
            i++;
        }
        if (x > max || (x >= 0xD800 && x < 0xE000))
            return lex_error(lx, s, "%s", "escape sequence is an invalid Unicode code point");
    }
    lx->i = i + 1;
    return (tok){ T_STRING, s, i + 1 - s };
}

static tok lex_raw_string(lexer *lx)
{
    const char *p = lx->p;
    size_t n = lx->n, s = lx->i, i = s + 1;
    for (;;) {
        if (i >= n)
            return lex_error(lx, s, "%s", "unterminated raw string");
        if (p[i] == '`')
            break;
        uint32_t r;
        size_t w = lk_utf8_decode((const unsigned char *)p + i, n - i, &r);
        if (utf8_bad((const unsigned char *)p + i, w))
            return lex_error(lx, s, "%s", "invalid UTF-8 rune");
        i += w;
    }
    lx->i = i + 1;
    return (tok){ T_STRING, s, i + 1 - s };
}

static void skip_space(lexer *lx)
{
    while (lx->i < lx->n) {
        char c = lx->p[lx->i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            lx->i++;
        } else if (c == '#') {
            while (lx->i < lx->n && lx->p[lx->i] != '\n')
                lx->i++;
        } else {
            break;
        }
    }
}

static tok lex_next(lexer *lx)
{
    skip_space(lx);
    const char *p = lx->p;
    size_t s = lx->i, n = lx->n;
    char tmp[24];
    if (s >= n) {
        if (lx->in_braces)
            return lex_error(lx, s, "%s", "unexpected end of input inside braces");
        return (tok){ T_EOF, s, 0 };
    }
    char c = p[s];
    if (c == '"' || c == '\'')
        return lex_string(lx);
    if (c == '`')
        return lex_raw_string(lx);
    if (c == ',') {
        lx->i++;
        return (tok){ T_COMMA, s, 1 };
    }
    if (c == '=') {
        if (s + 1 < n && p[s + 1] == '~') {
            lx->i += 2;
            return (tok){ T_EQL_RE, s, 2 };
        }
        if (!lx->in_braces && s + 1 < n && p[s + 1] == '=') {
            lx->i += 2;
            return (tok){ T_OTHER, s, 2 };
        }
        lx->i++;
        return (tok){ T_EQL, s, 1 };
    }
    if (c == '!') {
        if (s + 1 < n && (p[s + 1] == '=' || p[s + 1] == '~')) {
            lx->i += 2;
            return (tok){ p[s + 1] == '=' ? T_NEQ : T_NEQ_RE, s, 2 };
        }
        if (lx->in_braces) {
            quote_char(tmp, sizeof(tmp), p + s + 1, n - s - 1);
            return lex_error(lx, s, "unexpected character after '!' inside braces: %s", tmp);
        }
        return lex_error(lx, s, "%s", "unexpected character after '!': '!'");
    }
    if (c == '{') {
        if (lx->in_braces)
            return lex_error(lx, s, "%s", "unexpected left brace '{'");
        lx->i++;
        lx->in_braces = true;
        return (tok){ T_LBRACE, s, 1 };
    }
    if (c == '}') {
        if (!lx->in_braces)
            return lex_error(lx, s, "%s", "unexpected right bracket '}'");
        lx->i++;
        lx->in_braces = false;
        return (tok){ T_RBRACE, s, 1 };
    }
    if (is_alpha(c) || (c == ':' && !lx->in_braces)) {
        size_t i = s + 1;
        bool colon = c == ':';
        while (i < n && (is_alpha(p[i]) || is_digit(p[i]) || (!lx->in_braces && p[i] == ':'))) {
            colon = colon || p[i] == ':';
            i++;
        }
        lx->i = i;
        return (tok){ colon ? T_METRIC_IDENT : T_IDENT, s, i - s };
    }
    if (!lx->in_braces && (is_digit(c) || c == '.')) {
        size_t i = s + 1;
        while (i < n && (is_alpha(p[i]) || is_digit(p[i]) || p[i] == '.'))
            i++;
        lx->i = i;
        return (tok){ T_NUMBER, s, i - s };
    }
    quote_char(tmp, sizeof(tmp), p + s, n - s);
    if (lx->in_braces)
        return lex_error(lx, s, "unexpected character inside braces: %s", tmp);
    return lex_error(lx, s, "unexpected character: %s", tmp);
}

/* Prometheus' Item.desc() for the token in an "unexpected ..." message. */
static void tok_desc(const lexer *lx, tok t, lk_buf *out)
{
    lk_str text = { lx->p + t.pos, t.len };
    switch (t.type) {
    case T_EOF:
        lk_buf_puts(out, "end of input");
        return;
    case T_IDENT:
    case T_METRIC_IDENT:
        lk_buf_puts(out, t.type == T_IDENT ? "identifier " : "metric identifier ");
        lk_go_quote(text, out);
        return;
    case T_NEQ:
    case T_EQL_RE:
    case T_NEQ_RE:
    case T_OTHER: /* operators print as <op:!=> */
        lk_buf_printf(out, "<op:%.*s>", LK_STR_FMT(text));
        return;
    case T_STRING:
    case T_NUMBER:
        lk_buf_puts(out, t.type == T_STRING ? "string " : "number ");
        break;
    default:
        break;
    }
    if (text.len > 10 && (t.type == T_STRING || t.type == T_NUMBER)) {
        /* Go's %.10q: the first 10 runes, quoted. */
        size_t i = 0;
        for (int k = 0; k < 10 && i < text.len; k++) {
            uint32_t r;
            i += lk_utf8_decode((const unsigned char *)text.p + i, text.len - i, &r);
        }
        lk_go_quote((lk_str){ text.p, i }, out);
        lk_buf_puts(out, "...");
        return;
    }
    lk_go_quote(text, out);
}

typedef struct parser {
    lexer lx;
    lk_buf *err;
    lk_buf vals;      /* unquoted values, back to back */
    lk_label *pairs;  /* name points into the input; value is an offset into vals */
    size_t npairs, cap;
} parser;

static int parse_fail(parser *ps, size_t pos, const char *msg_prefix, tok t, const char *ctx)
{
    if (!ps->err)
        return LK_EPARSE;
    size_t line = 1, col;
    size_t last_nl = (size_t)-1;
    for (size_t i = 0; i < pos && i < ps->lx.n; i++) {
        if (ps->lx.p[i] == '\n') {
            last_nl = i;
            line++;
        }
    }
    col = pos - last_nl; /* wraps to pos + 1 when there is no newline */
    lk_buf_printf(ps->err, "%zu:%zu: parse error: ", line, col);
    if (t.type == T_ERROR) {
        lk_buf_puts(ps->err, ps->lx.msg);
        return LK_EPARSE;
    }
    lk_buf_puts(ps->err, msg_prefix);
    tok_desc(&ps->lx, t, ps->err);
    if (ctx)
        lk_buf_puts(ps->err, ctx);
    return LK_EPARSE;
}

static int unexpected(parser *ps, tok t, const char *ctx)
{
    return parse_fail(ps, t.pos, "unexpected ", t, ctx);
}

static void add_pair(parser *ps, lk_str name, lk_str value_off)
{
    ps->pairs = lk_grow(ps->pairs, &ps->cap, ps->npairs + 1, sizeof(lk_label));
    ps->pairs[ps->npairs++] = (lk_label){ name, value_off };
}

static int parse_item(parser *ps, tok name)
{
    tok t = lex_next(&ps->lx);
    if (t.type != T_EQL) /* Prometheus recovers at the label-set level */
        return unexpected(ps, t, " in label set, expected identifier or \"}\"");
    t = lex_next(&ps->lx);
    if (t.type != T_STRING)
        return unexpected(ps, t, " in label set, expected string");
    size_t off = ps->vals.len;
    const unsigned char *body = (const unsigned char *)ps->lx.p + t.pos + 1;
    size_t bn = t.len - 2;
    char q = ps->lx.p[t.pos];
    if (q == '`')
        lk_buf_append(&ps->vals, body, bn);
    else if (unquote_body(body, bn, q, false, &ps->vals))
        return unexpected(ps, t, " in label set, expected string"); /* lexer checked */
    add_pair(ps, (lk_str){ ps->lx.p + name.pos, name.len },
             (lk_str){ (const char *)(uintptr_t)off, ps->vals.len - off });
    return 0;
}

static int parse_label_set(parser *ps)
{
    bool need_item = false; /* after a comma an item or "}" may follow */
    for (bool first = true;; first = false) {
        tok t = lex_next(&ps->lx);
        if (t.type == T_RBRACE)
            return 0;
        if (!first && !need_item) {
            if (t.type != T_COMMA)
                return unexpected(ps, t, " in label set, expected \",\" or \"}\"");
            need_item = true;
            continue;
        }
        if (t.type != T_IDENT)
            return unexpected(ps, t, " in label set, expected identifier or \"}\"");
        int rc = parse_item(ps, t);
        if (rc)
            return rc;
        need_item = false;
    }
}

static int parse_metric(parser *ps, lk_str *metric_name)
{
    tok t = lex_next(&ps->lx);
    *metric_name = LK_STR_NULL;
    if (t.type == T_IDENT || t.type == T_METRIC_IDENT) {
        *metric_name = (lk_str){ ps->lx.p + t.pos, t.len };
        t = lex_next(&ps->lx);
    }
    if (t.type == T_LBRACE) {
        int rc = parse_label_set(ps);
        if (rc)
            return rc;
        t = lex_next(&ps->lx);
    }
    if (t.type != T_EOF)
        return unexpected(ps, t, NULL);
    return 0;
}

/* Loki drops empty values the way labels.Builder does: every label whose
 * name has an empty value somewhere is removed. The metric name, when
 * given, replaces any __name__ label. */
static size_t drop_empty(lk_label *v, size_t n, lk_str metric)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool drop = metric.p && lk_str_eq_c(v[i].name, "__name__");
        for (size_t j = 0; j < n && !drop; j++)
            drop = v[j].value.len == 0 && lk_str_eq(v[j].name, v[i].name);
        if (!drop)
            v[k++] = v[i];
    }
    return k;
}

int labels_parse(lk_str text, lk_labels *out, lk_buf *err)
{
    parser ps = { .lx = { .p = text.p ? text.p : "", .n = text.len }, .err = err };
    lk_str metric;
    int rc = parse_metric(&ps, &metric);
    if (rc)
        goto out;
    for (size_t i = 0; i < ps.npairs; i++) /* offsets into vals -> pointers */
        ps.pairs[i].value.p = ps.vals.p ? ps.vals.p + (uintptr_t)ps.pairs[i].value.p : "";
    ps.npairs = drop_empty(ps.pairs, ps.npairs, metric);
    if (metric.p)
        add_pair(&ps, LK_STR("__name__"), metric);
    labels_from_pairs(ps.pairs, ps.npairs, out);
out:
    free(ps.pairs);
    lk_buf_free(&ps.vals);
    return rc;
}

bool labels_equal(const lk_labels *a, const lk_labels *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++) {
        if (!lk_str_eq(a->v[i].name, b->v[i].name) || !lk_str_eq(a->v[i].value, b->v[i].value))
            return false;
    }
    return true;
}
