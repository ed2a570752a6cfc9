/* The `| pattern "<ip> - <_> ..."` stage (Loki's pattern.Matcher.Matches):
 * a leading literal must start the line; each capture then extends to the
 * next occurrence of the literal after it, or to the end of the line when
 * that literal is missing (and matching stops); `<_>` captures nothing.
 * The named captures found become labels. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "query/pipeline/linefilter.h"
#include "query/pipeline/pipeline_int.h"

typedef struct pattern_stage {
    lf_pattern pat;
} pattern_stage;

static const char *find(const char *h, size_t hn, lk_str needle)
{
    if (needle.len == 0)
        return h;
    if (needle.len > hn)
        return NULL;
    return memmem(h, hn, needle.p, needle.len);
}

static bool unnamed(const lf_pattern_node *n)
{
    return n->text.len == 1 && n->text.p[0] == '_';
}

static void capture(lp_exec *r, const lf_pattern_node *n, lk_str v)
{
    if (unnamed(n))
        return;
    (void)lp_lbs_parsed_kv(&r->lbs, n->text, v, &r->scratch);
}

static bool pattern_run(const lp_stage *st, lp_exec *r)
{
    const pattern_stage *ps = st->impl;
    const lf_pattern_node *e = ps->pat.nodes;
    size_t n = ps->pat.n;
    if (r->skip_parsers || r->line.len == 0 || n == 0)
        return true;
    const char *in = r->line.p;
    size_t len = r->line.len;
    if (!e[0].capture) {
        if (len < e[0].text.len || memcmp(in, e[0].text.p, e[0].text.len) != 0)
            return true;
        in += e[0].text.len;
        len -= e[0].text.len;
        e++;
        n--;
    }
    while (n) {
        if (n == 1) { /* ending on a capture */
            capture(r, &e[0], (lk_str){ in, len });
            return true;
        }
        const lf_pattern_node *cap = &e[0], *lit = &e[1];
        e += 2;
        n -= 2;
        const char *hit = find(in, len, lit->text);
        if (!hit) {
            capture(r, cap, (lk_str){ in, len });
            return true;
        }
        size_t i = (size_t)(hit - in);
        capture(r, cap, (lk_str){ in, i });
        in += i + lit->text.len;
        len -= i + lit->text.len;
    }
    return true;
}

static void pattern_free(void *impl)
{
    pattern_stage *ps = impl;
    if (!ps)
        return;
    lf_pattern_free(&ps->pat);
    free(ps);
}

int lp_compile_pattern(const logql_stage *s, lp_stage *st, lk_buf *err)
{
    lk_buf why = { 0 };
    if (lf_pattern_check_stage(s->u.pattern, &why) != 0) {
        if (err)
            lk_buf_printf(err, "invalid pattern parser: %s", why.p ? why.p : "invalid expression");
        lk_buf_free(&why);
        return LK_EPARSE;
    }
    lk_buf_free(&why);
    pattern_stage *ps = lk_calloc(1, sizeof(*ps));
    lf_pattern_parse(s->u.pattern, &ps->pat);
    st->kind = LOGQL_STAGE_PATTERN;
    st->run = pattern_run;
    st->impl = ps;
    st->free_impl = pattern_free;
    return 0;
}
