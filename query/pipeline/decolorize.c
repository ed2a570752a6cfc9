/* The `| decolorize` stage: removes ANSI escape sequences from the line,
 * with the expression Loki uses (github.com/acarl005/stripansi), ESC or CSI
 * (U+009B) led. Lines without either byte pass untouched. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "lib/regex.h"
#include "query/pipeline/pipeline_int.h"

static const char ANSI_PATTERN[] =
    "[\\x{1b}\\x{9b}][[\\]()#;?]*(?:(?:(?:[a-zA-Z\\d]*(?:;[a-zA-Z\\d]*)*)?\\x{07})"
    "|(?:(?:\\d{1,4}(?:;\\d{0,4})*)?[\\dA-PRZcf-ntqry=><~]))";

static bool may_have_escape(lk_str line)
{
    if (memchr(line.p, 0x1b, line.len))
        return true;
    const char *p = line.p, *e = line.p + line.len;
    while (p < e && (p = memchr(p, 0xc2, (size_t)(e - p)))) {
        if (p + 1 < e && (unsigned char)p[1] == 0x9b)
            return true;
        p++;
    }
    return false;
}

static bool decolorize_run(const lp_stage *st, lp_exec *r)
{
    const lk_regex *re = st->impl;
    if (r->line.len == 0 || !may_have_escape(r->line))
        return true;
    lp_sb out;
    lp_sb_init(&out, &r->scratch, r->line.len);
    size_t at = 0;
    long ov[2];
    while (at <= r->line.len && lk_regex_exec(re, r->line, at, ov, 1) > 0) {
        size_t ms = (size_t)ov[0], me = (size_t)ov[1];
        lp_sb_put(&out, r->line.p + at, ms - at);
        if (me == ms) { /* cannot happen with this expression; keep going */
            if (ms < r->line.len)
                lp_sb_putc(&out, r->line.p[ms]);
            at = ms + 1;
            continue;
        }
        at = me;
    }
    if (at < r->line.len)
        lp_sb_put(&out, r->line.p + at, r->line.len - at);
    r->line = lp_sb_str(&out);
    return true;
}

static void decolorize_free(void *impl)
{
    lk_regex_free(impl);
}

int lp_compile_decolorize(const logql_stage *s, lp_stage *st, lk_buf *err)
{
    (void)s;
    lk_regex *re;
    int rc = lk_regex_compile(LK_STR(ANSI_PATTERN), 0, &re, err);
    if (rc)
        return rc;
    st->kind = LOGQL_STAGE_DECOLORIZE;
    st->run = decolorize_run;
    st->impl = re;
    st->free_impl = decolorize_free;
    return 0;
}
