/* Label matchers (=, !=, =~, !~) with Prometheus semantics: regexes match
 * the whole value, and a label that is absent reads as "". */
#include "lib/matcher.h"

#include <stdlib.h>

#include "lib/err.h"
#include "lib/mem.h"

int matcher_init(lk_matcher *m, lk_match_type type, lk_str name, lk_str value, lk_buf *err)
{
    lk_regex *re = NULL;
    if (type != LK_MATCH_EQ && type != LK_MATCH_NEQ && type != LK_MATCH_RE &&
        type != LK_MATCH_NRE)
        return LK_EINVAL;
    if (type == LK_MATCH_RE || type == LK_MATCH_NRE) {
        int rc = lk_regex_compile(value, LK_RE_ANCHORED, &re, err);
        if (rc)
            return rc;
    }
    m->type = type;
    m->name = lk_strndup(name.p ? name.p : "", name.len);
    m->name_len = name.len;
    m->value = lk_strndup(value.p ? value.p : "", value.len);
    m->value_len = value.len;
    m->re = re;
    return 0;
}

void matcher_free(lk_matcher *m)
{
    if (!m)
        return;
    free(m->name);
    free(m->value);
    lk_regex_free(m->re);
    m->name = m->value = NULL;
    m->re = NULL;
    m->name_len = m->value_len = 0;
}

bool matcher_matches(const lk_matcher *m, lk_str value)
{
    lk_str want = { m->value, m->value_len };
    switch (m->type) {
    case LK_MATCH_EQ: return lk_str_eq(value, want);
    case LK_MATCH_NEQ: return !lk_str_eq(value, want);
    case LK_MATCH_RE: return lk_regex_match(m->re, value);
    case LK_MATCH_NRE: return !lk_regex_match(m->re, value);
    }
    LK_BUG("matcher type %d", (int)m->type);
}

bool matcher_matches_empty(const lk_matcher *m)
{
    return matcher_matches(m, LK_STR(""));
}

bool matchers_match_labels(const lk_matcher *ms, size_t n, const lk_labels *l)
{
    for (size_t i = 0; i < n; i++) {
        const lk_str *v = labels_get(l, (lk_str){ ms[i].name, ms[i].name_len });
        if (!matcher_matches(&ms[i], v ? *v : LK_STR("")))
            return false;
    }
    return true;
}

const char *matcher_op(lk_match_type t)
{
    switch (t) {
    case LK_MATCH_EQ: return "=";
    case LK_MATCH_NEQ: return "!=";
    case LK_MATCH_RE: return "=~";
    case LK_MATCH_NRE: return "!~";
    }
    return "?";
}
