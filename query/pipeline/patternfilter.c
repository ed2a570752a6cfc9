/* Loki's pattern syntax (linefilter.h): parsing `<ip> - <_> ...` into
 * literal runs and captures, the rules of the `| pattern` stage and of the
 * |> / !> filters, and the |> test (pattern.Matcher.Test). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "query/pipeline/linefilter.h"

static bool pat_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Length of a capture `<name>` at s (name: (alpha|_)(alnum|_)*), or 0. */
static size_t capture_len(const char *s, size_t n)
{
    if (n < 3 || s[0] != '<' || !(pat_alpha(s[1]) || s[1] == '_'))
        return 0;
    size_t i = 2;
    while (i < n && (pat_alpha(s[i]) || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
        i++;
    return i < n && s[i] == '>' ? i + 1 : 0;
}

void lf_pattern_parse(lk_str src, lf_pattern *out)
{
    memset(out, 0, sizeof(*out));
    if (src.len == 0)
        return;
    out->mem = lk_memdup(src.p, src.len);
    out->nodes = lk_calloc(src.len, sizeof(lf_pattern_node));
    size_t i = 0, lit_start = 0;
    bool in_lit = false;
    while (i < src.len) {
        size_t c = capture_len(out->mem + i, src.len - i);
        if (c) {
            if (in_lit) {
                out->nodes[out->n++] = (lf_pattern_node){ false, { out->mem + lit_start,
                                                                   i - lit_start } };
                in_lit = false;
            }
            out->nodes[out->n++] = (lf_pattern_node){ true, { out->mem + i + 1, c - 2 } };
            i += c;
            continue;
        }
        if (!in_lit) {
            in_lit = true;
            lit_start = i;
        }
        i++;
    }
    if (in_lit)
        out->nodes[out->n++] = (lf_pattern_node){ false, { out->mem + lit_start, i - lit_start } };
}

void lf_pattern_free(lf_pattern *p)
{
    if (!p)
        return;
    free(p->nodes);
    free(p->mem);
    memset(p, 0, sizeof(*p));
}

static bool is_unnamed(const lf_pattern_node *n)
{
    return n->capture && lk_str_eq(n->text, LK_STR("_"));
}

static bool has_consecutive_captures(const lf_pattern *p)
{
    for (size_t i = 1; i < p->n; i++)
        if (p->nodes[i].capture && p->nodes[i - 1].capture)
            return true;
    return false;
}

int lf_pattern_check_filter(const lf_pattern *p, lk_buf *err)
{
    if (has_consecutive_captures(p)) {
        if (err)
            lk_buf_puts(err, "found consecutive capture: invalid expression");
        return LK_EPARSE;
    }
    for (size_t i = 0; i < p->n; i++) {
        if (p->nodes[i].capture && !is_unnamed(&p->nodes[i])) {
            if (err)
                lk_buf_puts(err, "named captures are not allowed");
            return LK_EPARSE;
        }
    }
    return 0;
}

int lf_pattern_check_stage(lk_str src, lk_buf *err)
{
    if (src.len == 0) {
        if (err)
            lk_buf_puts(err, "parse error at line 1, col 1: syntax error: unexpected $end, "
                             "expecting IDENTIFIER or LITERAL");
        return LK_EPARSE;
    }
    lf_pattern p;
    lf_pattern_parse(src, &p);
    int rc = 0;
    size_t named = 0;
    for (size_t i = 0; i < p.n; i++)
        if (p.nodes[i].capture && !is_unnamed(&p.nodes[i]))
            named++;
    if (named == 0) {
        if (err)
            lk_buf_puts(err, "at least one capture is required");
        rc = LK_EPARSE;
        goto out;
    }
    if (has_consecutive_captures(&p)) {
        if (err)
            lk_buf_puts(err, "found consecutive capture: invalid expression");
        rc = LK_EPARSE;
        goto out;
    }
    for (size_t i = 0; i < p.n && !rc; i++) {
        if (!p.nodes[i].capture || is_unnamed(&p.nodes[i]))
            continue;
        for (size_t j = 0; j < i; j++) {
            if (p.nodes[j].capture && lk_str_eq(p.nodes[j].text, p.nodes[i].text)) {
                if (err)
                    lk_buf_printf(err, "duplicate capture name (%.*s): invalid expression",
                                  LK_STR_FMT(p.nodes[i].text));
                rc = LK_EPARSE;
                break;
            }
        }
    }
out:
    lf_pattern_free(&p);
    return rc;
}

static const char *find_bytes(const char *hay, size_t n, const char *needle, size_t m)
{
    if (m == 0)
        return hay;
    if (n < m)
        return NULL;
    return memmem(hay, n, needle, m);
}

bool lf_pattern_test(const lf_pattern *p, lk_str line)
{
    if (line.len == 0 || p->n == 0)
        return line.len == 0 && p->n == 0; /* an empty line only matches an empty pattern */
    size_t off = 0;
    for (size_t i = 0; i < p->n; i++) {
        const lf_pattern_node *nd = &p->nodes[i];
        if (nd->capture)
            continue;
        const char *hit = find_bytes(line.p + off, line.len - off, nd->text.p, nd->text.len);
        if (!hit)
            return false;
        size_t j = (size_t)(hit - (line.p + off));
        if (i != 0 && j == 0)
            return false; /* an empty capture or repeated literals */
        off += j + nd->text.len;
    }
    /* ending on a capture needs text left for it; ending on a literal, none */
    bool req_rem = p->nodes[p->n - 1].capture;
    bool has_rem = off != line.len;
    return req_rem == has_rem;
}
