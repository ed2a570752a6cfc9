/* The LogQL lexer: Go text/scanner's tokenisation (GoTokens mode) with the
 * extra rules of Loki's lex.go. See lexer.h for the outline; the comments
 * below name the Go behaviour each piece reproduces. */
#include "query/logql/lexer.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/bytesize.h"
#include "lib/err.h"
#include "lib/hex.h"
#include "lib/labels.h"
#include "lib/mem.h"
#include "lib/timeutil.h"
#include "lib/utf8.h"

#define RUNE_EOF (-1)
#define RUNE_ERROR ((int32_t)LK_RUNE_ERROR)

/* ---- token names (goyacc's, with Loki's string overrides) ---------------- */

static const char *const tok_names[LQ_NTOKENS] = {
    [LQ_EOF] = "$end",
    [LQ_IDENT] = "IDENTIFIER",
    [LQ_ODD] = "IDENTIFIER",
    [LQ_STRING] = "STRING",
    [LQ_NUMBER] = "NUMBER",
    [LQ_DURATION] = "DURATION",
    [LQ_BYTES] = "BYTES",
    [LQ_RANGE] = "RANGE",
    [LQ_PARSER_FLAG] = "PARSER_FLAG",
    [LQ_COMMA] = ",",
    [LQ_DOT] = ".",
    [LQ_LBRACE] = "{",
    [LQ_RBRACE] = "}",
    [LQ_LBRACKET] = "[",
    [LQ_RBRACKET] = "]",
    [LQ_LPAREN] = "(",
    [LQ_RPAREN] = ")",
    [LQ_EQ] = "=",
    [LQ_NEQ] = "!=",
    [LQ_RE] = "=~",
    [LQ_NRE] = "!~",
    [LQ_NPA] = "!>",
    [LQ_PIPE_EXACT] = "|=",
    [LQ_PIPE_MATCH] = "|~",
    [LQ_PIPE_PATTERN] = "|>",
    [LQ_PIPE] = "|",
    [LQ_CMP_EQ] = "==",
    [LQ_GT] = ">",
    [LQ_GTE] = ">=",
    [LQ_LT] = "<",
    [LQ_LTE] = "<=",
    [LQ_ADD] = "+",
    [LQ_SUB] = "-",
    [LQ_MUL] = "*",
    [LQ_DIV] = "/",
    [LQ_MOD] = "%",
    [LQ_POW] = "^",
    [LQ_BY] = "by",
    [LQ_WITHOUT] = "without",
    [LQ_BOOL] = "bool",
    [LQ_OFFSET] = "offset",
    [LQ_ON] = "on",
    [LQ_IGNORING] = "ignoring",
    [LQ_GROUP_LEFT] = "group_left",
    [LQ_GROUP_RIGHT] = "group_right",
    [LQ_OR] = "or",
    [LQ_AND] = "and",
    [LQ_UNLESS] = "unless",
    [LQ_JSON] = "json",
    [LQ_LOGFMT] = "logfmt",
    [LQ_REGEXP] = "regexp",
    [LQ_UNPACK] = "unpack",
    [LQ_PATTERN] = "pattern",
    [LQ_LINE_FMT] = "line_format",
    [LQ_LABEL_FMT] = "label_format",
    [LQ_DECOLORIZE] = "decolorize",
    [LQ_DROP] = "drop",
    [LQ_KEEP] = "keep",
    [LQ_UNWRAP] = "unwrap",
    [LQ_VARIANTS] = "variants",
    [LQ_OF] = "of",
    [LQ_LABEL_REPLACE] = "label_replace",
    [LQ_IP] = "ip",
    [LQ_VECTOR] = "VECTOR",
    [LQ_COUNT_OVER_TIME] = "COUNT_OVER_TIME",
    [LQ_RATE] = "RATE",
    [LQ_RATE_COUNTER] = "RATE_COUNTER",
    [LQ_BYTES_OVER_TIME] = "BYTES_OVER_TIME",
    [LQ_BYTES_RATE] = "BYTES_RATE",
    [LQ_AVG_OVER_TIME] = "AVG_OVER_TIME",
    [LQ_SUM_OVER_TIME] = "SUM_OVER_TIME",
    [LQ_MIN_OVER_TIME] = "MIN_OVER_TIME",
    [LQ_MAX_OVER_TIME] = "MAX_OVER_TIME",
    [LQ_STDVAR_OVER_TIME] = "STDVAR_OVER_TIME",
    [LQ_STDDEV_OVER_TIME] = "STDDEV_OVER_TIME",
    [LQ_QUANTILE_OVER_TIME] = "QUANTILE_OVER_TIME",
    [LQ_FIRST_OVER_TIME] = "FIRST_OVER_TIME",
    [LQ_LAST_OVER_TIME] = "LAST_OVER_TIME",
    [LQ_ABSENT_OVER_TIME] = "ABSENT_OVER_TIME",
    [LQ_SUM] = "SUM",
    [LQ_AVG] = "AVG",
    [LQ_COUNT] = "COUNT",
    [LQ_MAX] = "MAX",
    [LQ_MIN] = "MIN",
    [LQ_STDDEV] = "STDDEV",
    [LQ_STDVAR] = "STDVAR",
    [LQ_BOTTOMK] = "BOTTOMK",
    [LQ_TOPK] = "TOPK",
    [LQ_SORT] = "SORT",
    [LQ_SORT_DESC] = "SORT_DESC",
    [LQ_APPROX_TOPK] = "APPROX_TOPK",
    [LQ_BYTES_CONV] = "BYTES_CONV",
    [LQ_DURATION_CONV] = "DURATION_CONV",
    [LQ_DURATION_SECONDS_CONV] = "DURATION_SECONDS_CONV",
};

const char *logql_tok_name(logql_tok t)
{
    if ((unsigned)t >= LQ_NTOKENS || !tok_names[t])
        return "$unk";
    return tok_names[t];
}

void logql_error_prefix(lk_buf *err, int line, int col)
{
    if (!err)
        return;
    if (line == 0 && col == 0)
        lk_buf_puts(err, "parse error : ");
    else
        lk_buf_printf(err, "parse error at line %d, col %d: ", line, col);
}

/* ---- keywords ------------------------------------------------------------ */

typedef struct kw {
    const char *s;
    logql_tok tok;
} kw;

/* Loki's `tokens` map: keywords wherever they appear. */
static const kw keywords[] = {
    { "by", LQ_BY },
    { "without", LQ_WITHOUT },
    { "bool", LQ_BOOL },
    { "offset", LQ_OFFSET },
    { "on", LQ_ON },
    { "ignoring", LQ_IGNORING },
    { "group_left", LQ_GROUP_LEFT },
    { "group_right", LQ_GROUP_RIGHT },
    { "or", LQ_OR },
    { "and", LQ_AND },
    { "unless", LQ_UNLESS },
    { "json", LQ_JSON },
    { "logfmt", LQ_LOGFMT },
    { "regexp", LQ_REGEXP },
    { "unpack", LQ_UNPACK },
    { "pattern", LQ_PATTERN },
    { "line_format", LQ_LINE_FMT },
    { "label_format", LQ_LABEL_FMT },
    { "decolorize", LQ_DECOLORIZE },
    { "drop", LQ_DROP },
    { "keep", LQ_KEEP },
    { "unwrap", LQ_UNWRAP },
    { "variants", LQ_VARIANTS },
    { "of", LQ_OF },
};

/* Loki's `functionTokens`: only tokens when a function call follows. */
static const kw functions[] = {
    { "rate", LQ_RATE },
    { "rate_counter", LQ_RATE_COUNTER },
    { "count_over_time", LQ_COUNT_OVER_TIME },
    { "bytes_rate", LQ_BYTES_RATE },
    { "bytes_over_time", LQ_BYTES_OVER_TIME },
    { "avg_over_time", LQ_AVG_OVER_TIME },
    { "sum_over_time", LQ_SUM_OVER_TIME },
    { "min_over_time", LQ_MIN_OVER_TIME },
    { "max_over_time", LQ_MAX_OVER_TIME },
    { "stdvar_over_time", LQ_STDVAR_OVER_TIME },
    { "stddev_over_time", LQ_STDDEV_OVER_TIME },
    { "quantile_over_time", LQ_QUANTILE_OVER_TIME },
    { "first_over_time", LQ_FIRST_OVER_TIME },
    { "last_over_time", LQ_LAST_OVER_TIME },
    { "absent_over_time", LQ_ABSENT_OVER_TIME },
    { "vector", LQ_VECTOR },
    { "sum", LQ_SUM },
    { "avg", LQ_AVG },
    { "max", LQ_MAX },
    { "min", LQ_MIN },
    { "count", LQ_COUNT },
    { "stddev", LQ_STDDEV },
    { "stdvar", LQ_STDVAR },
    { "bottomk", LQ_BOTTOMK },
    { "topk", LQ_TOPK },
    { "sort", LQ_SORT },
    { "sort_desc", LQ_SORT_DESC },
    { "label_replace", LQ_LABEL_REPLACE },
    { "approx_topk", LQ_APPROX_TOPK },
    { "bytes", LQ_BYTES_CONV },
    { "duration", LQ_DURATION_CONV },
    { "duration_seconds", LQ_DURATION_SECONDS_CONV },
    { "ip", LQ_IP },
};

static bool find_kw(const kw *tab, size_t n, lk_str s, logql_tok *out)
{
    for (size_t i = 0; i < n; i++) {
        if (lk_str_eq_nocase(s, tab[i].s)) {
            *out = tab[i].tok;
            return true;
        }
    }
    return false;
}

/* ---- characters ---------------------------------------------------------- */

/* Decodes the rune at byte offset i like Go's utf8.DecodeRune: an invalid
 * sequence is RuneError with width 1 (*bad set). */
static int32_t rune_at(lk_str s, size_t i, size_t *width, bool *bad)
{
    if (i >= s.len) {
        *bad = false;
        *width = 0;
        return RUNE_EOF;
    }
    uint32_t r;
    *width = lk_utf8_decode(s.p + i, s.len - i, &r);
    *bad = *width == 1 && (unsigned char)s.p[i] >= 0x80;
    return (int32_t)r;
}

static bool is_go_whitespace(int32_t r)
{
    return r == ' ' || r == '\t' || r == '\n' || r == '\r';
}

static bool is_decimal(int32_t r)
{
    return r >= '0' && r <= '9';
}

/* text/scanner's identifier runes. Non-ASCII runes count as letters (Go asks
 * unicode.IsLetter; any other rune would become a one-rune IDENTIFIER token
 * anyway, so only odd label names differ). */
static bool is_ident_rune(int32_t r, bool first)
{
    if (r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'))
        return true;
    if (is_decimal(r))
        return !first;
    return r >= 0x80 && r != RUNE_ERROR && !lk_unicode_is_space((uint32_t)r);
}

typedef struct cur {
    size_t pos;
    int line, col;
} cur;

static int32_t peek(const logql_lexer *lx, size_t *w, bool *bad)
{
    return rune_at(lx->src, lx->pos, w, bad);
}

static void advance(logql_lexer *lx, int32_t r, size_t w)
{
    lx->pos += w;
    if (r == '\n') {
        lx->line++;
        lx->col = 1;
    } else {
        lx->col++;
    }
}

/* Reads the next rune (RUNE_EOF at the end). An invalid encoding or a NUL is
 * an error, as in text/scanner's next(). */
static int32_t next_rune(logql_lexer *lx, bool *bad_enc, bool *nul)
{
    size_t w;
    bool bad;
    int32_t r = peek(lx, &w, &bad);
    if (r == RUNE_EOF)
        return r;
    if (bad)
        *bad_enc = true;
    if (r == 0)
        *nul = true;
    advance(lx, r, w);
    return r;
}

void logql_lexer_init(logql_lexer *lx, lk_str src, lk_arena *arena)
{
    memset(lx, 0, sizeof(*lx));
    lx->src = src;
    lx->line = 1;
    lx->col = 1;
    lx->arena = arena;
}

void logql_lexer_free(logql_lexer *lx)
{
    lk_buf_free(&lx->tmp);
}

static int lex_error(lk_buf *err, int line, int col, const char *msg)
{
    if (err) {
        logql_error_prefix(err, line, col);
        lk_buf_puts(err, msg);
    }
    return LK_EPARSE;
}

/* ---- Go float syntax ------------------------------------------------------ */

int logql_parse_float(lk_str s, double *out)
{
    /* strconv.ParseFloat's syntax: decimal, or hexadecimal with a p exponent
     * (callers never pass Inf / NaN spellings: the lexer cannot make them). */
    if (s.len == 0)
        return LK_EPARSE;
    size_t i = 0;
    if (s.p[i] == '+' || s.p[i] == '-')
        i++;
    bool hex = s.len - i > 2 && s.p[i] == '0' && (s.p[i + 1] == 'x' || s.p[i + 1] == 'X');
    size_t j = i + (hex ? 2 : 0);
    size_t ndig = 0;
    bool dot = false, exp = false;
    for (; j < s.len; j++) {
        char c = s.p[j];
        if (hex ? lk_is_hex(c) : is_decimal(c))
            ndig++;
        else if (c == '.' && !dot)
            dot = true;
        else
            break;
    }
    if (ndig == 0)
        return LK_EPARSE;
    if (j < s.len && ((!hex && (s.p[j] == 'e' || s.p[j] == 'E')) ||
                      (hex && (s.p[j] == 'p' || s.p[j] == 'P')))) {
        exp = true;
        j++;
        if (j < s.len && (s.p[j] == '+' || s.p[j] == '-'))
            j++;
        size_t ed = 0;
        for (; j < s.len && is_decimal(s.p[j]); j++)
            ed++;
        if (ed == 0)
            return LK_EPARSE;
    }
    if (j != s.len || (hex && !exp))
        return LK_EPARSE;
    char small[128];
    char *buf = s.len < sizeof(small) ? small : lk_malloc(s.len + 1);
    memcpy(buf, s.p, s.len);
    buf[s.len] = '\0';
    char *end;
    double v = strtod(buf, &end);
    bool whole = end == buf + s.len;
    if (buf != small)
        free(buf);
    if (!whole)
        return LK_EPARSE;
    *out = v;
    return isinf(v) ? LK_ERANGE : 0;
}

/* Prometheus model.ParseDuration's accepted shape:
 * ^(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$ (or "0"); used to tell
 * "out of range" from "not a valid duration string". */
static bool prom_duration_syntax_ok(lk_str s)
{
    static const char *const units[] = { "y", "w", "d", "h", "m", "s", "ms" };
    if (lk_str_eq(s, LK_STR("0")))
        return true;
    size_t i = 0, next_unit = 0;
    while (i < s.len) {
        size_t d = i;
        while (i < s.len && is_decimal(s.p[i]))
            i++;
        if (i == d)
            return false;
        size_t u = i;
        while (i < s.len && !is_decimal(s.p[i]))
            i++;
        lk_str unit = { s.p + u, i - u };
        size_t k = next_unit;
        while (k < 7 && !lk_str_eq_c(unit, units[k]))
            k++;
        if (k == 7)
            return false;
        next_unit = k + 1;
    }
    return s.len > 0;
}

/* ---- token scanners ------------------------------------------------------- */

typedef struct scan {
    logql_lexer *lx;
    cur start;
    bool bad_enc, nul;
    const char *err; /* first text/scanner error */
    char msg[64];
} scan;

static int32_t sc_next(scan *s)
{
    return next_rune(s->lx, &s->bad_enc, &s->nul);
}

static int32_t sc_peek(scan *s)
{
    size_t w;
    bool bad;
    return peek(s->lx, &w, &bad);
}

static void sc_error(scan *s, const char *msg)
{
    if (!s->err)
        s->err = msg;
}

/* A formatted error; only the first error of a token is kept. */
static void sc_errorf(scan *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sc_errorf(scan *s, const char *fmt, ...)
{
    if (s->err)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->msg, sizeof(s->msg), fmt, ap);
    va_end(ap);
    s->err = s->msg;
}

static const char *litname(int prefix)
{
    switch (prefix) {
    case 'x': return "hexadecimal literal";
    case 'o': case '0': return "octal literal";
    case 'b': return "binary literal";
    default: return "decimal literal";
    }
}

static int32_t lower(int32_t c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* text/scanner digits(): digits of the base (and '_'), remembering the first
 * invalid digit for base <= 10. ch is the current (unconsumed) rune. */
static int digits(scan *s, int base, int32_t *invalid)
{
    int digsep = 0;
    for (;;) {
        int32_t ch = sc_peek(s);
        if (base <= 10) {
            if (!(is_decimal(ch) || ch == '_'))
                break;
            int ds = 1;
            if (ch == '_')
                ds = 2;
            else if (ch >= '0' + base && invalid && *invalid < 0)
                *invalid = ch;
            digsep |= ds;
        } else {
            if (!(lk_is_hex(ch) || ch == '_'))
                break;
            digsep |= ch == '_' ? 2 : 1;
        }
        sc_next(s);
    }
    return digsep;
}

/* text/scanner invalidSep: index of the first '_' that does not separate
 * two digits, or -1. */
static int invalid_sep(lk_str x)
{
    int32_t x1 = ' ', d = '.';
    size_t i = 0;
    if (x.len >= 2 && x.p[0] == '0') {
        x1 = lower(x.p[1]);
        if (x1 == 'x' || x1 == 'o' || x1 == 'b') {
            d = '0';
            i = 2;
        }
    }
    for (; i < x.len; i++) {
        int32_t p = d;
        d = (unsigned char)x.p[i];
        if (d == '_') {
            if (p != '0')
                return (int)i;
        } else if (is_decimal(d) || (x1 == 'x' && lk_is_hex(d))) {
            d = '0';
        } else {
            if (p == '_')
                return (int)i - 1;
            d = '.';
        }
    }
    return d == '_' ? (int)x.len - 1 : -1;
}

/* text/scanner scanNumber. The first character (a digit, or the '.' when
 * seen_dot) has been consumed. Returns true for a Float. */
static bool scan_number(scan *s, int32_t first, bool seen_dot)
{
    int base = 10, prefix = 0, digsep = 0;
    int32_t invalid = -1;
    bool is_float = false;
    if (!seen_dot) {
        if (first == '0') {
            int32_t ch = lower(sc_peek(s));
            if (ch == 'x') {
                sc_next(s);
                base = 16;
                prefix = 'x';
            } else if (ch == 'o') {
                sc_next(s);
                base = 8;
                prefix = 'o';
            } else if (ch == 'b') {
                sc_next(s);
                base = 2;
                prefix = 'b';
            } else {
                base = 8;
                prefix = '0';
                digsep = 1; /* the leading 0 */
            }
        } else {
            digsep = 1;
        }
        digsep |= digits(s, base, &invalid);
        if (sc_peek(s) == '.') {
            sc_next(s);
            seen_dot = true;
        }
    }
    if (seen_dot) {
        is_float = true;
        if (prefix == 'o' || prefix == 'b')
            sc_error(s, prefix == 'o' ? "invalid radix point in octal literal"
                                      : "invalid radix point in binary literal");
        digsep |= digits(s, base, &invalid);
    }
    if ((digsep & 1) == 0) {
        sc_errorf(s, "%s has no digits", litname(prefix));
    }
    int32_t e = lower(sc_peek(s));
    if (e == 'e' || e == 'p') {
        int32_t ech = sc_peek(s);
        if (e == 'e' && prefix != 0 && prefix != '0')
            sc_errorf(s, "'%c' exponent requires decimal mantissa", (char)ech);
        else if (e == 'p' && prefix != 'x')
            sc_errorf(s, "'%c' exponent requires hexadecimal mantissa", (char)ech);
        sc_next(s);
        is_float = true;
        int32_t c = sc_peek(s);
        if (c == '+' || c == '-')
            sc_next(s);
        int ds = digits(s, 10, NULL);
        digsep |= ds;
        if ((ds & 1) == 0)
            sc_error(s, "exponent has no digits");
    } else if (prefix == 'x' && is_float) {
        sc_error(s, "hexadecimal mantissa requires a 'p' exponent");
    }
    if (!is_float && invalid >= 0)
        sc_errorf(s, "invalid digit '%c' in %s", (char)invalid, litname(prefix));
    if (digsep & 2) {
        lk_str t = { s->lx->src.p + s->start.pos, s->lx->pos - s->start.pos };
        if (invalid_sep(t) >= 0)
            sc_error(s, "'_' must separate successive digits");
    }
    return is_float;
}

/* text/scanner scanEscape / scanDigits. */
static void scan_escape(scan *s, int32_t quote)
{
    int32_t ch = sc_peek(s);
    int n = 0, base = 0;
    switch (ch) {
    case 'a': case 'b': case 'f': case 'n': case 'r': case 't': case 'v': case '\\':
        sc_next(s);
        return;
    case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7':
        n = 3;
        base = 8;
        break;
    case 'x':
        sc_next(s);
        n = 2;
        base = 16;
        break;
    case 'u':
        sc_next(s);
        n = 4;
        base = 16;
        break;
    case 'U':
        sc_next(s);
        n = 8;
        base = 16;
        break;
    default:
        if (ch == quote) {
            sc_next(s);
            return;
        }
        sc_error(s, "invalid char escape");
        return;
    }
    while (n > 0) {
        int32_t c = sc_peek(s);
        int v = is_decimal(c) ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : 16;
        if (v >= base)
            break;
        sc_next(s);
        n--;
    }
    if (n > 0)
        sc_error(s, "invalid char escape");
}

/* The opening quote has been consumed. Returns the number of characters. */
static int scan_string(scan *s, int32_t quote)
{
    int n = 0;
    for (;;) {
        int32_t ch = sc_peek(s);
        if (ch == quote) {
            sc_next(s);
            return n;
        }
        if (ch == '\n' || ch == RUNE_EOF) {
            sc_error(s, "literal not terminated");
            return n;
        }
        sc_next(s);
        if (ch == '\\')
            scan_escape(s, quote);
        n++;
    }
}

static void scan_raw_string(scan *s)
{
    for (;;) {
        int32_t ch = sc_peek(s);
        if (ch == RUNE_EOF) {
            sc_error(s, "literal not terminated");
            return;
        }
        sc_next(s);
        if (ch == '`')
            return;
    }
}

/* ---- Loki's additions ----------------------------------------------------- */

static bool is_duration_rune(int32_t r)
{
    switch (r) {
    case 'n': case 'u': case 0xB5: case 'm': case 's': case 'h': case 'd': case 'w': case 'y':
        return true;
    default:
        return false;
    }
}

static bool is_bytes_rune(int32_t r)
{
    switch (r) {
    case 'B': case 'i': case 'k': case 'K': case 'M': case 'G': case 'T': case 'P':
        return true;
    default:
        return false;
    }
}

/* Length in bytes of the run after the current position made of digits, '.'
 * and runes accepted by ok(), stopping at whitespace or the end (Loki's
 * tryScanDuration / tryScanBytes loop). */
static size_t unit_run(const logql_lexer *lx, bool (*ok)(int32_t))
{
    size_t i = lx->pos;
    for (;;) {
        size_t w;
        bool bad;
        int32_t r = rune_at(lx->src, i, &w, &bad);
        if (r == RUNE_EOF || lk_unicode_is_space((uint32_t)r))
            break;
        if (!(is_decimal(r) || ok(r) || r == '.'))
            break;
        i += w;
    }
    return i - lx->pos;
}

static void skip_bytes(logql_lexer *lx, size_t n)
{
    size_t end = lx->pos + n;
    while (lx->pos < end) {
        size_t w;
        bool bad;
        int32_t r = peek(lx, &w, &bad);
        advance(lx, r, w);
    }
}

/* number text + the unit run glued to it, when it makes a duration. */
static bool try_duration(logql_lexer *lx, lk_str number, int64_t *out)
{
    size_t n = unit_run(lx, is_duration_rune);
    if (n == 0)
        return false;
    lk_buf_reset(&lx->tmp);
    lk_buf_put_str(&lx->tmp, number);
    lk_buf_append(&lx->tmp, lx->src.p + lx->pos, n);
    if (lk_parse_duration(lk_buf_str(&lx->tmp), out) != 0)
        return false;
    skip_bytes(lx, n);
    return true;
}

static bool try_bytes(logql_lexer *lx, lk_str number, uint64_t *out)
{
    size_t n = unit_run(lx, is_bytes_rune);
    if (n == 0)
        return false;
    lk_buf_reset(&lx->tmp);
    lk_buf_put_str(&lx->tmp, number);
    lk_buf_append(&lx->tmp, lx->src.p + lx->pos, n);
    if (lk_parse_bytes(lk_buf_str(&lx->tmp), out, NULL) != 0)
        return false;
    skip_bytes(lx, n);
    return true;
}

/* Loki's isFunction: after optional spaces, '(' or by / without then '('. */
static bool is_function_call(const logql_lexer *lx)
{
    lk_str s = lx->src;
    size_t i = lx->pos;
    for (;;) {
        size_t w;
        bool bad;
        int32_t r = rune_at(s, i, &w, &bad);
        if (r == RUNE_EOF || !lk_unicode_is_space((uint32_t)r))
            break;
        i += w;
    }
    if (i < s.len && s.p[i] == '(')
        return true;
    size_t kwlen = 0;
    if (s.len - i >= 2 && lk_str_eq_nocase((lk_str){ s.p + i, 2 }, "by"))
        kwlen = 2;
    else if (s.len - i >= 7 && lk_str_eq_nocase((lk_str){ s.p + i, 7 }, "without"))
        kwlen = 7;
    if (!kwlen)
        return false;
    i += kwlen;
    for (;;) {
        size_t w;
        bool bad;
        int32_t r = rune_at(s, i, &w, &bad);
        if (r == RUNE_EOF || !lk_unicode_is_space((uint32_t)r))
            break;
        i += w;
    }
    return i < s.len && s.p[i] == '(';
}

/* Loki's tryScanFlag: "--" followed by letters and '-' making a known flag. */
static bool try_flag(logql_lexer *lx)
{
    size_t i = lx->pos; /* at the second '-' */
    size_t start = i - 1;
    for (;;) {
        size_t w;
        bool bad;
        int32_t r = rune_at(lx->src, i, &w, &bad);
        if (r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') ||
            (r >= 0x80 && r != RUNE_ERROR && is_ident_rune(r, true)))
            i += w;
        else
            break;
    }
    lk_str flag = { lx->src.p + start, i - start };
    if (!lk_str_eq(flag, LK_STR("--strict")) && !lk_str_eq(flag, LK_STR("--keep-empty")))
        return false;
    skip_bytes(lx, i - lx->pos);
    return true;
}

/* [duration]: everything up to ']' read as a Prometheus duration. */
static int scan_range(logql_lexer *lx, logql_token *tok, lk_buf *err)
{
    size_t start = lx->pos;
    for (;;) {
        size_t w;
        bool bad;
        int32_t r = peek(lx, &w, &bad);
        if (r == RUNE_EOF)
            return lex_error(err, 0, tok->col, "missing closing ']' in duration");
        advance(lx, r, w);
        if (r == ']')
            break;
    }
    lk_str body = { lx->src.p + start, lx->pos - start - 1 };
    if (body.len == 0)
        return lex_error(err, 0, tok->col, "empty duration string");
    if (lk_parse_prom_duration(body, &tok->dur_ns) != 0) {
        if (err) {
            logql_error_prefix(err, 0, tok->col);
            if (prom_duration_syntax_ok(body)) {
                lk_buf_puts(err, "duration out of range");
            } else {
                lk_buf_puts(err, "not a valid duration string: ");
                lk_go_quote(body, err);
            }
        }
        return LK_EPARSE;
    }
    tok->kind = LQ_RANGE;
    tok->text = body;
    tok->line = 0;
    return 0;
}

/* ---- operators ------------------------------------------------------------ */

static bool two_char_op(int32_t a, int32_t b, logql_tok *out)
{
    static const struct {
        char a, b;
        logql_tok t;
    } ops[] = {
        { '!', '=', LQ_NEQ },         { '=', '~', LQ_RE },          { '!', '~', LQ_NRE },
        { '!', '>', LQ_NPA },         { '|', '=', LQ_PIPE_EXACT },  { '|', '~', LQ_PIPE_MATCH },
        { '|', '>', LQ_PIPE_PATTERN }, { '=', '=', LQ_CMP_EQ },     { '>', '=', LQ_GTE },
        { '<', '=', LQ_LTE },
    };
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        if (ops[i].a == a && ops[i].b == b) {
            *out = ops[i].t;
            return true;
        }
    }
    return false;
}

static bool one_char_op(int32_t c, logql_tok *out)
{
    switch (c) {
    case ',': *out = LQ_COMMA; return true;
    case '.': *out = LQ_DOT; return true;
    case '{': *out = LQ_LBRACE; return true;
    case '}': *out = LQ_RBRACE; return true;
    case ']': *out = LQ_RBRACKET; return true;
    case '(': *out = LQ_LPAREN; return true;
    case ')': *out = LQ_RPAREN; return true;
    case '=': *out = LQ_EQ; return true;
    case '|': *out = LQ_PIPE; return true;
    case '>': *out = LQ_GT; return true;
    case '<': *out = LQ_LT; return true;
    case '+': *out = LQ_ADD; return true;
    case '-': *out = LQ_SUB; return true;
    case '*': *out = LQ_MUL; return true;
    case '/': *out = LQ_DIV; return true;
    case '%': *out = LQ_MOD; return true;
    case '^': *out = LQ_POW; return true;
    default: return false;
    }
}

/* ---- the lexer ------------------------------------------------------------ */

static int finish(scan *s, logql_token *tok, lk_buf *err)
{
    if (s->err)
        return lex_error(err, s->start.line, s->start.col, s->err);
    if (s->nul)
        return lex_error(err, s->start.line, s->start.col, "invalid character NUL");
    if (s->bad_enc)
        return lex_error(err, s->start.line, s->start.col, "invalid UTF-8 encoding");
    (void)tok;
    return 0;
}

static int lex_string(scan *s, logql_token *tok, int32_t quote, lk_buf *err)
{
    logql_lexer *lx = s->lx;
    if (quote == '`')
        scan_raw_string(s);
    else
        scan_string(s, quote);
    int rc = finish(s, tok, err);
    if (rc)
        return rc;
    lk_str raw = { lx->src.p + s->start.pos, lx->pos - s->start.pos };
    if (quote == '`') {
        /* Prometheus' strutil.Unquote keeps a raw string as it is. */
        tok->text = lk_arena_str(lx->arena, (lk_str){ raw.p + 1, raw.len - 2 });
        tok->kind = LQ_STRING;
        return 0;
    }
    lk_buf_reset(&lx->tmp);
    if (lk_go_unquote(raw, &lx->tmp) != 0)
        return lex_error(err, s->start.line, s->start.col, "invalid syntax");
    tok->text = lk_arena_str(lx->arena, lk_buf_str(&lx->tmp));
    tok->kind = LQ_STRING;
    return 0;
}

static int lex_number(scan *s, logql_token *tok, int32_t first, bool seen_dot, lk_buf *err)
{
    logql_lexer *lx = s->lx;
    scan_number(s, first, seen_dot);
    int rc = finish(s, tok, err);
    if (rc)
        return rc;
    lk_str text = { lx->src.p + s->start.pos, lx->pos - s->start.pos };
    if (try_duration(lx, text, &tok->dur_ns)) {
        tok->kind = LQ_DURATION;
        tok->line = 0;
        tok->text = (lk_str){ lx->src.p + s->start.pos, lx->pos - s->start.pos };
        return 0;
    }
    if (try_bytes(lx, text, &tok->bytes)) {
        tok->kind = LQ_BYTES;
        tok->line = 0;
        tok->text = (lk_str){ lx->src.p + s->start.pos, lx->pos - s->start.pos };
        return 0;
    }
    tok->kind = LQ_NUMBER;
    tok->text = text;
    return 0;
}

static void lex_ident(scan *s, logql_token *tok)
{
    logql_lexer *lx = s->lx;
    for (;;) {
        size_t w;
        bool bad;
        int32_t r = peek(lx, &w, &bad);
        if (bad || !is_ident_rune(r, false))
            break;
        advance(lx, r, w);
    }
    lk_str text = { lx->src.p + s->start.pos, lx->pos - s->start.pos };
    tok->text = text;
    logql_tok t;
    if (find_kw(functions, sizeof(functions) / sizeof(functions[0]), text, &t)) {
        tok->kind = is_function_call(lx) ? t : LQ_IDENT;
        return;
    }
    if (find_kw(keywords, sizeof(keywords) / sizeof(keywords[0]), text, &t)) {
        tok->kind = t;
        return;
    }
    tok->kind = LQ_IDENT;
}

/* Skips whitespace and comments. Returns LK_EPARSE for an unterminated
 * block comment or a bad character inside a comment. */
static int skip_space(logql_lexer *lx, lk_buf *err)
{
    for (;;) {
        size_t w;
        bool bad;
        int32_t r = peek(lx, &w, &bad);
        if (is_go_whitespace(r)) {
            advance(lx, r, w);
            continue;
        }
        if (r == '#') {
            /* Loki reads the comment with Next(): errors report line 0 */
            int col = lx->col;
            bool bad_enc = false, nul = false;
            advance(lx, r, w);
            for (;;) {
                int32_t c = peek(lx, &w, &bad);
                if (c == RUNE_EOF || c == '\n')
                    break;
                next_rune(lx, &bad_enc, &nul);
            }
            if (nul)
                return lex_error(err, 0, col, "invalid character NUL");
            if (bad_enc)
                return lex_error(err, 0, col, "invalid UTF-8 encoding");
            continue;
        }
        if (r == '/' && lx->pos + 1 < lx->src.len &&
            (lx->src.p[lx->pos + 1] == '/' || lx->src.p[lx->pos + 1] == '*')) {
            cur start = { lx->pos, lx->line, lx->col };
            bool block = lx->src.p[lx->pos + 1] == '*';
            advance(lx, '/', 1);
            advance(lx, lx->src.p[lx->pos], 1);
            bool bad_enc = false, nul = false;
            if (!block) {
                for (;;) {
                    int32_t c = peek(lx, &w, &bad);
                    if (c == RUNE_EOF || c == '\n')
                        break;
                    next_rune(lx, &bad_enc, &nul);
                }
            } else {
                int32_t prev = 0;
                for (;;) {
                    int32_t c = next_rune(lx, &bad_enc, &nul);
                    if (c == RUNE_EOF)
                        return lex_error(err, start.line, start.col, "comment not terminated");
                    if (prev == '*' && c == '/')
                        break;
                    prev = c;
                }
            }
            if (nul)
                return lex_error(err, start.line, start.col, "invalid character NUL");
            if (bad_enc)
                return lex_error(err, start.line, start.col, "invalid UTF-8 encoding");
            continue;
        }
        return 0;
    }
}

int logql_lexer_next(logql_lexer *lx, logql_token *tok, lk_buf *err)
{
    memset(tok, 0, sizeof(*tok));
    int rc = skip_space(lx, err);
    if (rc)
        return rc;
    scan s = { .lx = lx, .start = { lx->pos, lx->line, lx->col } };
    tok->line = lx->line;
    tok->col = lx->col;
    size_t w;
    bool bad;
    int32_t c = peek(lx, &w, &bad);
    if (c == RUNE_EOF) {
        tok->kind = LQ_EOF;
        return 0;
    }
    if (bad)
        return lex_error(err, tok->line, tok->col, "invalid UTF-8 encoding");
    if (c == 0)
        return lex_error(err, tok->line, tok->col, "invalid character NUL");
    if (is_ident_rune(c, true)) {
        lex_ident(&s, tok);
        return 0;
    }
    advance(lx, c, w);
    if (is_decimal(c))
        return lex_number(&s, tok, c, false, err);
    if (c == '.' && is_decimal(sc_peek(&s)))
        return lex_number(&s, tok, c, true, err);
    if (c == '"' || c == '`')
        return lex_string(&s, tok, c, err);
    if (c == '\'') {
        /* a Go char literal: Loki has no use for it, so it is an IDENTIFIER */
        if (scan_string(&s, '\'') != 1)
            sc_error(&s, "invalid char literal");
        rc = finish(&s, tok, err);
        if (rc)
            return rc;
        tok->kind = LQ_ODD;
        tok->text = (lk_str){ lx->src.p + s.start.pos, lx->pos - s.start.pos };
        return 0;
    }
    if (c == '[')
        return scan_range(lx, tok, err);
    if (c == '-') {
        if (sc_peek(&s) == '-' && try_flag(lx)) {
            tok->kind = LQ_PARSER_FLAG;
            tok->line = 0;
            tok->text = (lk_str){ lx->src.p + s.start.pos, lx->pos - s.start.pos };
            return 0;
        }
        if (try_duration(lx, LK_STR("-"), &tok->dur_ns)) {
            tok->kind = LQ_DURATION;
            tok->line = 0;
            tok->text = (lk_str){ lx->src.p + s.start.pos, lx->pos - s.start.pos };
            return 0;
        }
    }
    int32_t n = sc_peek(&s);
    logql_tok t;
    if (two_char_op(c, n, &t)) {
        sc_next(&s);
        tok->kind = t;
        tok->line = 0;
        tok->text = (lk_str){ lx->src.p + s.start.pos, lx->pos - s.start.pos };
        return 0;
    }
    tok->text = (lk_str){ lx->src.p + s.start.pos, lx->pos - s.start.pos };
    if (one_char_op(c, &t)) {
        tok->kind = t;
        return 0;
    }
    tok->kind = LQ_ODD; /* any other character */
    return 0;
}
