/* Line filters compiled for matching: |= and != (substring, or ip("...")),
 * |~ and !~ (unanchored regex), |> and !> (Loki's pattern syntax with <_>
 * wildcards), with Loki 3's `or` alternatives; and chains of them (a
 * filter-only pipeline) with the literal substrings a line must contain,
 * for skipping blocks.
 *
 * Like Loki (pkg/logql/log/filter.go), regexes that are provably equivalent
 * to substring tests are not run as regexes: `error|warn` is contains("error")
 * or contains("warn"), `(?i)fatal` an ASCII case-insensitive contains, `.*`
 * and "" match every line (regex_simplify.c). Everything else goes to
 * lib/regex.h.
 *
 * A compiled matcher is read-only: match from any number of threads. */
#ifndef LOKIC_QUERY_LINEFILTER_H
#define LOKIC_QUERY_LINEFILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/str.h"
#include "query/logql/ast.h"

typedef struct lf_matcher lf_matcher;
typedef struct lf_chain lf_chain;

/* Compiles one filter stage. LK_EPARSE with Loki's stage error in *err, e.g.
 *   parse error : stage '|~ "("' : error parsing regexp: missing closing ): `(`
 */
int lf_compile(const logql_line_filter *f, lf_matcher **out, lk_buf *err);
bool lf_match(const lf_matcher *m, lk_str line);
void lf_free(lf_matcher *m);

/* Compiles the line-filter stages of a pipeline that has nothing else
 * (logql_pipeline_is_filter_only); LK_EINVAL for any other stage. A line
 * matches when every stage keeps it. n == 0 matches everything. */
int lf_chain_compile(const logql_stage *stages, size_t n, lf_chain **out, lk_buf *err);
bool lf_chain_match(const lf_chain *c, lk_str line);
/* Substrings every matching line contains (from |= "literal", simple
 * literal regexes and pattern literals), for block skipping. The array
 * lives as long as the chain. */
size_t lf_chain_required(const lf_chain *c, const lk_str **out);
void lf_chain_free(lf_chain *c);

/* ---- ip("...") ------------------------------------------------------------
 * A single address, a range "a-b" or a CIDR "a/n", IPv4 or IPv6. A text
 * matches when it contains an address in the set (Loki's ipFilter: digits
 * and dots after a digit-led hint for IPv4, hex digits and colons for IPv6,
 * each candidate parsed like Go's netip.ParseAddr). Also used for
 * `label = ip("...")`. In ipmatch.c. */
typedef struct lf_ip lf_ip;

/* LK_EPARSE with `ip: invalid pattern: "<pattern>"` in *err. */
int lf_ip_compile(lk_str pattern, lf_ip **out, lk_buf *err);
bool lf_ip_contains(const lf_ip *ip, lk_str text);
void lf_ip_free(lf_ip *ip);

/* ---- patterns -------------------------------------------------------------
 * `<ip> - <_> "<method> <path>"`: literal runs and captures (<name>, with
 * <_> unnamed). In patternfilter.c. */
typedef struct lf_pattern_node {
    bool capture;
    lk_str text; /* the literal bytes, or the capture name ("_" unnamed) */
} lf_pattern_node;

typedef struct lf_pattern {
    lf_pattern_node *nodes;
    size_t n;
    char *mem;
} lf_pattern;

/* Splits a pattern into nodes (an empty pattern has none). */
void lf_pattern_parse(lk_str src, lf_pattern *out);
/* The rules of the `| pattern` stage (pattern.New): at least one named
 * capture, no two captures in a row, no repeated name. The reason, e.g.
 * "at least one capture is required", goes to *err. */
int lf_pattern_check_stage(lk_str src, lk_buf *err);
/* The rules of |> / !>: no two captures in a row, only <_>. */
int lf_pattern_check_filter(const lf_pattern *p, lk_buf *err);
/* Loki's pattern.Matcher.Test (the |> semantics). */
bool lf_pattern_test(const lf_pattern *p, lk_str line);
void lf_pattern_free(lf_pattern *p);

/* ---- helpers -------------------------------------------------------------- */

/* The `| regexp` stage rules (log.NewRegexpParser; in regexp.c): compiles,
 * needs at least one capture, every capture named with a valid, unique label
 * name. The reason goes to *err. */
int lf_regexp_stage_check(lk_str re, lk_buf *err);

#endif
