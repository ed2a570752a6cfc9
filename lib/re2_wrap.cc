/* The C interface to RE2 declared in lib/re2_wrap.h. lk_re2 is an RE2 object
 * behind an opaque pointer. Every function is noexcept: RE2 throws only
 * std::bad_alloc, which then ends the process (as lk_malloc's out-of-memory
 * does) instead of unwinding through C frames. */
#include "lib/re2_wrap.h"

#include <re2/re2.h>

#include <vector>

extern "C" {
#include "lib/err.h"
}

namespace {

RE2::Options go_options(int64_t max_mem)
{
    RE2::Options o;
    o.set_encoding(RE2::Options::EncodingUTF8);
    o.set_longest_match(false); /* leftmost-first, as Go */
    o.set_dot_nl(false);
    o.set_never_nl(false);
    o.set_case_sensitive(true);
    o.set_log_errors(false);
    o.set_max_mem(max_mem);
    return o;
}

/* Go's text for each of RE2's error codes (regexp/syntax ErrorCode). */
const char *go_error_text(RE2::ErrorCode code)
{
    switch (code) {
    case RE2::ErrorBadEscape: return "invalid escape sequence";
    case RE2::ErrorBadCharClass: return "invalid character class";
    case RE2::ErrorBadCharRange: return "invalid character class range";
    case RE2::ErrorMissingBracket: return "missing closing ]";
    case RE2::ErrorMissingParen: return "missing closing )";
    case RE2::ErrorUnexpectedParen: return "unexpected )";
    case RE2::ErrorTrailingBackslash: return "trailing backslash at end of expression";
    case RE2::ErrorRepeatArgument: return "missing argument to repetition operator";
    case RE2::ErrorRepeatSize: return "invalid repeat count";
    case RE2::ErrorRepeatOp: return "invalid nested repetition operator";
    case RE2::ErrorBadPerlOp: return "invalid or unsupported Perl syntax";
    case RE2::ErrorBadUTF8: return "invalid UTF-8";
    case RE2::ErrorBadNamedCapture: return "invalid named capture";
    case RE2::ErrorPatternTooLarge: return "expression too large";
    default: return "internal error";
    }
}

const RE2 *cre(const lk_re2 *re)
{
    return reinterpret_cast<const RE2 *>(re);
}

} // namespace

int lk_re2_compile(lk_str pattern, int64_t max_mem, lk_re2 **out, lk_buf *err) noexcept
{
    re2::StringPiece p(pattern.p ? pattern.p : "", pattern.len);
    RE2 *re = new RE2(p, go_options(max_mem));
    if (re->ok()) {
        *out = reinterpret_cast<lk_re2 *>(re);
        return 0;
    }
    int rc = LK_EPARSE;
    if (re->error_code() == RE2::ErrorPatternTooLarge) {
        rc = LK_ETOOLARGE;
    } else if (err) {
        const std::string &arg = re->error_arg();
        lk_buf_printf(err, "error parsing regexp: %s: `%.*s`", go_error_text(re->error_code()),
                      (int)arg.size(), arg.data());
    }
    delete re;
    return rc;
}

void lk_re2_free(lk_re2 *re) noexcept
{
    delete reinterpret_cast<RE2 *>(re);
}

int lk_re2_group_count(const lk_re2 *re) noexcept
{
    return cre(re)->NumberOfCapturingGroups();
}

bool lk_re2_match(const lk_re2 *re, lk_str text, size_t from, bool anchored, long *ovector,
                  int n_pairs) noexcept
{
    /* A non-NULL data pointer even for "", so an empty group at offset 0
     * is told apart from a group that did not take part (data() NULL). */
    re2::StringPiece t(text.p ? text.p : "", text.len);
    RE2::Anchor anchor = anchored ? RE2::ANCHOR_BOTH : RE2::UNANCHORED;
    if (n_pairs == 0) /* the DFA alone answers */
        return cre(re)->Match(t, from, t.size(), anchor, NULL, 0);
    re2::StringPiece few[16];
    std::vector<re2::StringPiece> many;
    re2::StringPiece *sub = few;
    if (n_pairs > 16) {
        many.resize((size_t)n_pairs);
        sub = many.data();
    }
    if (!cre(re)->Match(t, from, t.size(), anchor, sub, n_pairs))
        return false;
    for (int i = 0; i < n_pairs; i++) {
        bool used = sub[i].data() != NULL;
        ovector[2 * i] = used ? (long)(sub[i].data() - t.data()) : -1;
        ovector[2 * i + 1] = used ? ovector[2 * i] + (long)sub[i].size() : -1;
    }
    return true;
}

bool lk_re2_knows_class(lk_str item) noexcept
{
    RE2 re(re2::StringPiece(item.p, item.len), go_options(RE2::Options::kDefaultMaxMem));
    return re.error_code() != RE2::ErrorBadCharRange;
}
