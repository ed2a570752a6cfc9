/* libFuzzer driver for lib/regex (Go's syntax, run by RE2): any pattern and
 * subject must never crash, read out of bounds, leak or hang. Input: one
 * flags byte (bit 0: LK_RE_ANCHORED), the pattern, a NUL byte, the subject.
 * When the pattern compiles, the answers must hang together: match agrees
 * with exec, every offset lies in the subject and inside the match, an
 * anchored match spans the rest of the subject, a prepared subject gives
 * exec's answers while a Go-style FindAll walks it, and the required-literal
 * prefilter changes no answer (the pattern compiled without it agrees). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/regex.h"
#include "tests/fuzz/fuzz.h"

#define MAX_PAIRS 16

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_regex: %s\n", what);
        abort();
    }
}

static void check_pairs(const long *ov, int n, size_t from, size_t len, bool anchored)
{
    check(ov[0] >= (long)from && ov[0] <= ov[1] && ov[1] <= (long)len, "group 0 out of range");
    if (anchored)
        check(ov[0] == (long)from && ov[1] == (long)len, "anchored match does not span the rest");
    for (int g = 1; g < n; g++) {
        if (ov[2 * g] < 0) {
            check(ov[2 * g + 1] < 0, "half-set group");
            continue;
        }
        check(ov[2 * g] >= ov[0] && ov[2 * g] <= ov[2 * g + 1] && ov[2 * g + 1] <= ov[1],
              "group outside the match");
    }
}

/* Go's FindAll loop over a prepared subject: each answer must equal
 * lk_regex_exec's at the same offset. */
static void walk(const lk_regex *re, lk_str s, int n_pairs)
{
    lk_regex_subject rs;
    size_t need = lk_regex_subject_init(&rs, re, s);
    void *mem = need ? malloc(need) : NULL;
    if (need)
        lk_regex_subject_fill(&rs, mem);
    size_t pos = 0;
    while (pos <= s.len) {
        long a[2 * MAX_PAIRS], b[2 * MAX_PAIRS];
        int na = lk_regex_exec_in(re, &rs, pos, a, n_pairs);
        int nb = lk_regex_exec(re, s, pos, b, n_pairs);
        check(na == nb && memcmp(a, b, 2 * (size_t)na * sizeof(long)) == 0,
              "prepared subject disagrees with exec");
        if (na <= 0)
            break;
        pos = (size_t)a[1] > pos ? (size_t)a[1] : pos + 1;
    }
    free(mem);
}

/* The same answers with every subject given to RE2. */
static void check_prefilter(const lk_regex *re, lk_str pat, int flags, lk_str subj, int n_pairs)
{
    lk_regex *plain = NULL;
    check(lk_regex_compile(pat, flags | LK_RE_NO_PREFILTER, &plain, NULL) == 0,
          "compiles only with the prefilter");
    long a[2 * MAX_PAIRS], b[2 * MAX_PAIRS];
    check(lk_regex_match(re, subj) == lk_regex_match(plain, subj), "prefilter changes match");
    int na = lk_regex_exec(re, subj, 0, a, n_pairs);
    int nb = lk_regex_exec(plain, subj, 0, b, n_pairs);
    check(na == nb && memcmp(a, b, 2 * (size_t)na * sizeof(long)) == 0,
          "prefilter changes exec");
    lk_regex_free(plain);
}

static int count_name(void *ctx, int group, lk_str name)
{
    int *ncap = ctx;
    check(group >= 1 && group <= *ncap && name.len > 0, "named group out of range");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int flags = data[0] & 1 ? LK_RE_ANCHORED : 0;
    const char *p = (const char *)data + 1;
    size_t rest = size - 1;
    const char *nul = memchr(p, '\0', rest);
    lk_str pat = lk_str_n(p, nul ? (size_t)(nul - p) : rest);
    lk_str subj = nul ? lk_str_n(nul + 1, rest - pat.len - 1) : LK_STR("");
    lk_regex *re = NULL;
    lk_buf err = { 0 };
    if (lk_regex_compile(pat, flags, &re, &err) != 0) {
        check(err.len > 0 && strncmp(err.p, "error parsing regexp: ", 22) == 0,
              "an error without Go's prefix");
        lk_buf_free(&err);
        return 0;
    }
    int ncap = lk_regex_group_count(re);
    check(ncap >= 0, "negative group count");
    lk_regex_named_groups(re, count_name, &ncap);
    int n_pairs = ncap + 1 < MAX_PAIRS ? ncap + 1 : MAX_PAIRS;
    long ov[2 * MAX_PAIRS];
    bool m = lk_regex_match(re, subj);
    int got = lk_regex_exec(re, subj, 0, ov, n_pairs);
    check(m == (got > 0), "match and exec disagree");
    if (got > 0) {
        check(got == n_pairs, "exec set a wrong number of pairs");
        check_pairs(ov, got, 0, subj.len, flags & LK_RE_ANCHORED);
    }
    size_t mid = subj.len / 2;
    got = lk_regex_exec(re, subj, mid, ov, n_pairs);
    if (got > 0)
        check_pairs(ov, got, mid, subj.len, flags & LK_RE_ANCHORED);
    walk(re, subj, n_pairs);
    check_prefilter(re, pat, flags, subj, n_pairs);
    lk_regex_free(re);
    return 0;
}
