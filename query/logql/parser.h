/* The LogQL parser: text -> AST (query/logql/ast.h) for the whole of Loki's
 * grammar, with Loki 2.9's error messages (plus Loki 3's pattern filters
 * |> !> and `or` inside line filters), then Loki's semantic validation.
 *
 * Errors are LK_EPARSE with the message Loki sends as the 400 body, e.g.
 *   parse error at line 1, col 11: syntax error: unexpected $end, expecting } or ,
 *   parse error : queries require at least one regexp or equality matcher ...
 */
#ifndef LOKIC_QUERY_PARSER_H
#define LOKIC_QUERY_PARSER_H

#include "lib/str.h"
#include "query/logql/ast.h"

/* Loki refuses queries of this many bytes or more. */
#define LOGQL_MAX_QUERY_BYTES 5120

/* Parses and validates a query (Loki's syntax.ParseExpr). On success *out
 * is the root; free it with logql_expr_free. */
int logql_parse(lk_str text, logql_expr **out, lk_buf *err);

/* Parses without the semantic validation (Loki's parseExprWithoutValidation,
 * used where `{}` is acceptable, e.g. series match[]). */
int logql_parse_unvalidated(lk_str text, logql_expr **out, lk_buf *err);

/* The semantic checks logql_parse runs after a successful parse (Loki's
 * validateExpr and the checks its AST constructors make): aggregation
 * parameters, grouping, unwrap, binary operation legs, label_replace's
 * regex, and the non-empty-compatible matcher rule. */
int logql_validate(const logql_expr *e, lk_buf *err);
/* The non-empty-compatible matcher rule alone: LK_EPARSE with Loki's
 * "parse error : queries require at least one regexp or equality matcher
 * ..." unless some matcher rejects the empty value. */
int logql_validate_matchers(const lk_matcher *ms, size_t n, lk_buf *err);

#endif
