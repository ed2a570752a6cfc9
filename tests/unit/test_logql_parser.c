/* Unit tests: the LogQL front end (query/logql: lexer, parser, validate,
 * printer): every construct of LOKI-API.md section 3 parses to the
 * expected tree and prints in Loki's canonical form, the printed form parses
 * back to the same text, invalid queries fail with Loki's messages and
 * positions, and the conformance suite's queries pass or fail as Loki 2.9
 * answered them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lib/err.h"
#include "lib/timeutil.h"
#include "query/logql/ast.h"
#include "query/logql/parser.h"
#include "tests/unit/testutil.h"

#define ERR_EMPTY                                                                            \
    "parse error : queries require at least one regexp or equality matcher that does not "  \
    "have an empty-compatible value. For instance, app=~\".*\" does not meet this "         \
    "requirement, but app=~\".+\" will"

static logql_expr *parse_ok(const char *q)
{
    logql_expr *e = NULL;
    lk_buf err = { 0 };
    int rc = logql_parse(lk_str_c(q), &e, &err);
    if (rc)
        fail_msg("%s: %s", q, err.p);
    lk_buf_free(&err);
    return e;
}

static char *format(const logql_expr *e)
{
    lk_buf out = { 0 };
    logql_format(e, &out);
    return lk_buf_steal(&out);
}

/* ---- canonical form and round trip ---------------------------------------- */

typedef struct canon_case {
    const char *in, *out;
} canon_case;

static const canon_case canon_cases[] = {
    { "{app=\"api\"}",
      "{app=\"api\"}" },
    { "{app=\"api\", cluster=\"prod-eu\"}",
      "{app=\"api\", cluster=\"prod-eu\"}" },
    { "{namespace=~\"shop|data\"}",
      "{namespace=~\"shop|data\"}" },
    { "{app!=\"web\", namespace=\"shop\"}",
      "{app!=\"web\", namespace=\"shop\"}" },
    { "{app=~\"w.*\", cluster!~\"prod-u.\"}",
      "{app=~\"w.*\", cluster!~\"prod-u.\"}" },
    { "{component=\"postgres \\\"primary\\\"\"}",
      "{component=\"postgres \\\"primary\\\"\"}" },
    { "{app=\"nope\"}",
      "{app=\"nope\"}" },
    { "{app=\"api\"} |= \"error\"",
      "{app=\"api\"} |= \"error\"" },
    { "{namespace=\"shop\"} != \"info\"",
      "{namespace=\"shop\"} != \"info\"" },
    { "{app=\"api\"} |~ \"status=5[0-9]{2}\"",
      "{app=\"api\"} |~ \"status=5[0-9]{2}\"" },
    { "{app=\"web\"} !~ \"GET|PUT\"",
      "{app=\"web\"} !~ \"GET|PUT\"" },
    { "{app=\"db\"} |= \"timeout\" != \"lag\"",
      "{app=\"db\"} |= \"timeout\" != \"lag\"" },
    { "{app=\"db\"} |~ \"(?i)fatal\"",
      "{app=\"db\"} |~ \"(?i)fatal\"" },
    { "{app=\"worker\"} |= `\"level\":\"error\"`",
      "{app=\"worker\"} |= \"\\\"level\\\":\\\"error\\\"\"" },
    { "{app=\"worker\"} |= \"日本語\"",
      "{app=\"worker\"} |= \"日本語\"" },
    { "{app=\"web\"} |= ip(\"10.1.0.0/16\")",
      "{app=\"web\"} |= ip(\"10.1.0.0/16\")" },
    { "{app=\"api\"} | logfmt | status >= 500",
      "{app=\"api\"} | logfmt | status>=500" },
    { "{app=\"api\"} | logfmt | duration > 100ms",
      "{app=\"api\"} | logfmt | duration>100ms" },
    { "{app=\"api\"} | logfmt | bytes > 150KB",
      "{app=\"api\"} | logfmt | bytes>150kB" },
    { "{app=\"api\"} | logfmt | user=\"alice\" and method=\"POST\"",
      "{app=\"api\"} | logfmt | ( user=\"alice\" , method=\"POST\" )" },
    { "{app=\"api\"} | logfmt | status == 404 or status == 401",
      "{app=\"api\"} | logfmt | ( status==404 or status==401 )" },
    { "{app=\"worker\"} | json | level=\"error\"",
      "{app=\"worker\"} | json | level=\"error\"" },
    { "{app=\"worker\"} | json | user_name=\"bob\"",
      "{app=\"worker\"} | json | user_name=\"bob\"" },
    { "{app=\"worker\"} | json lat=\"latency_ms\", q=\"queue\" | lat > 300 | q=\"billing\"",
      "{app=\"worker\"} | json lat=\"latency_ms\",q=\"queue\" | lat>300 | q=\"billing\"" },
    { "{app=\"worker\"} | json | level=~\"warn|error\" and latency_ms > 100",
      "{app=\"worker\"} | json | ( level=~\"warn|error\" , latency_ms>100 )" },
    { "{app=\"web\"} | regexp `^(?P<ip>\\S+) - (?P<user>\\S+)` | user!=\"-\"",
      "{app=\"web\"} | regexp \"^(?P<ip>\\\\S+) - (?P<user>\\\\S+)\" | user!=\"-\"" },
    { "{app=\"web\"} | pattern `<ip> - <user> [<_>] \"<method> <path> <_>\" <status> <size> <_>` | status >= 500",
      "{app=\"web\"} | pattern \"<ip> - <user> [<_>] \\\"<method> <path> <_>\\\" <status> <size> <_>\" | status>=500" },
    { "{app=\"db\"} | json | __error__!=\"\"",
      "{app=\"db\"} | json | __error__!=\"\"" },
    { "{namespace=\"data\"} | json | __error__=\"\"",
      "{namespace=\"data\"} | json | __error__=\"\"" },
    { "{app=\"api\"} | logfmt | line_format \"{{.method}} {{.path}} -> {{.status}}\"",
      "{app=\"api\"} | logfmt | line_format \"{{.method}} {{.path}} -> {{.status}}\"" },
    { "{app=\"api\"} | logfmt | line_format \"{{ .level | ToUpper }} {{ printf \\\"%5s\\\" .status }} {{ trunc 8 .user }}\"",
      "{app=\"api\"} | logfmt | line_format \"{{ .level | ToUpper }} {{ printf \\\"%5s\\\" .status }} {{ trunc 8 .user }}\"" },
    { "{app=\"api\"} | logfmt | label_format lvl=level, who=\"{{.user}}@{{.method}}\" | lvl=\"error\"",
      "{app=\"api\"} | logfmt | label_format lvl=level,who=\"{{.user}}@{{.method}}\" | lvl=\"error\"" },
    { "{app=\"worker\"} | json | drop tags, user_id, ts",
      "{app=\"worker\"} | json | drop tags,user_id,ts" },
    { "{app=\"worker\"} | json | keep level, queue",
      "{app=\"worker\"} | json | keep level,queue" },
    { "{app=\"db\"} | decolorize",
      "{app=\"db\"} | decolorize" },
    { "count_over_time({app=\"api\"}[5m])",
      "count_over_time({app=\"api\"}[5m])" },
    { "sum by (level) (count_over_time({app=\"api\"} | logfmt [5m]))",
      "sum by (level)(count_over_time({app=\"api\"} | logfmt[5m]))" },
    { "rate({namespace=\"shop\"}[1m])",
      "rate({namespace=\"shop\"}[1m])" },
    { "sum(rate({namespace=\"shop\"} |= \"error\" [5m])) by (app)",
      "sum by (app)(rate({namespace=\"shop\"} |= \"error\"[5m]))" },
    { "bytes_over_time({app=\"db\"}[10m])",
      "bytes_over_time({app=\"db\"}[10m])" },
    { "sum by (cluster) (bytes_rate({namespace=\"data\"}[5m]))",
      "sum by (cluster)(bytes_rate({namespace=\"data\"}[5m]))" },
    { "avg_over_time({app=\"api\"} | logfmt | unwrap bytes [5m]) by (path)",
      "avg_over_time({app=\"api\"} | logfmt | unwrap bytes[5m]) by (path)" },
    { "quantile_over_time(0.99, {app=\"api\"} | logfmt | unwrap duration(duration) [5m]) by (method)",
      "quantile_over_time(0.99,{app=\"api\"} | logfmt | unwrap duration(duration)[5m]) by (method)" },
    { "max_over_time({app=\"worker\"} | json | unwrap latency_ms [10m]) by (queue)",
      "max_over_time({app=\"worker\"} | json | unwrap latency_ms[10m]) by (queue)" },
    { "min_over_time({app=\"worker\"} | json | unwrap latency_ms [10m]) by (cluster)",
      "min_over_time({app=\"worker\"} | json | unwrap latency_ms[10m]) by (cluster)" },
    { "first_over_time({app=\"worker\"} | json | unwrap latency_ms [10m]) by (cluster)",
      "first_over_time({app=\"worker\"} | json | unwrap latency_ms[10m]) by (cluster)" },
    { "last_over_time({app=\"worker\"} | json | unwrap latency_ms [10m]) by (cluster)",
      "last_over_time({app=\"worker\"} | json | unwrap latency_ms[10m]) by (cluster)" },
    { "stddev_over_time({app=\"worker\"} | json | unwrap latency_ms [10m]) by (cluster)",
      "stddev_over_time({app=\"worker\"} | json | unwrap latency_ms[10m]) by (cluster)" },
    { "stdvar_over_time({app=\"worker\"} | json | unwrap latency_ms [10m]) by (cluster)",
      "stdvar_over_time({app=\"worker\"} | json | unwrap latency_ms[10m]) by (cluster)" },
    { "absent_over_time({app=\"nope\"}[5m])",
      "absent_over_time({app=\"nope\"}[5m])" },
    { "topk(3, sum by (path) (count_over_time({app=\"api\"} | logfmt [30m])))",
      "topk(3,sum by (path)(count_over_time({app=\"api\"} | logfmt[30m])))" },
    { "bottomk(2, sum by (pod) (count_over_time({cluster=\"prod-eu\"}[30m])))",
      "bottomk(2,sum by (pod)(count_over_time({cluster=\"prod-eu\"}[30m])))" },
    { "sort(sum by (app) (count_over_time({cluster=\"prod-us\"}[30m])))",
      "sort(sum by (app)(count_over_time({cluster=\"prod-us\"}[30m])))" },
    { "sum by (status) (count_over_time({app=\"web\"} | pattern `<_> - <_> [<_>] \"<_> <_> <_>\" <status> <_>` [10m]))",
      "sum by (status)(count_over_time({app=\"web\"} | pattern \"<_> - <_> [<_>] \\\"<_> <_> <_>\\\" <status> <_>\"[10m]))" },
    { "sum(rate({app=\"api\"} |= \"level=error\" [5m])) / sum(rate({app=\"api\"}[5m]))",
      "(sum(rate({app=\"api\"} |= \"level=error\"[5m])) / sum(rate({app=\"api\"}[5m])))" },
    { "sum by (app) (count_over_time({namespace=\"shop\"}[5m])) > 50",
      "(sum by (app)(count_over_time({namespace=\"shop\"}[5m])) > 50)" },
    { "sum by (app) (count_over_time({namespace=\"shop\"}[5m])) > bool 50",
      "(sum by (app)(count_over_time({namespace=\"shop\"}[5m])) > bool 50)" },
    { "sum(count_over_time({app=\"db\"}[5m])) * 2 + 1",
      "((sum(count_over_time({app=\"db\"}[5m])) * 2) + 1)" },
    { "vector(1) + vector(1)",
      "(vector(1.000000) + vector(1.000000))" },
    { "label_replace(sum by (pod) (count_over_time({app=\"api\"}[10m])), \"short\", \"$1\", \"pod\", \"(api)-.*\")",
      "label_replace(sum by (pod)(count_over_time({app=\"api\"}[10m])),\"short\",\"$1\",\"pod\",\"(api)-.*\")" },
    { "sum(count_over_time({app=\"api\"}[5m] offset 10m))",
      "sum(count_over_time({app=\"api\"}[5m] offset 10m0s))" },
    { "count(count_over_time({namespace=\"shop\"}[30m])) by (app)",
      "count by (app)(count_over_time({namespace=\"shop\"}[30m]))" },
    { "avg by (cluster) (count_over_time({app=\"worker\"}[10m]))",
      "avg by (cluster)(count_over_time({app=\"worker\"}[10m]))" },
    { "sum without (pod, stream) (count_over_time({app=\"api\"}[5m]))",
      "sum without (pod,stream)(count_over_time({app=\"api\"}[5m]))" },
    { "sum by (cluster) (count_over_time({app=\"api\"} |= \"error\" [10m])) / on (cluster) sum by (cluster) (count_over_time({app=\"api\"}[10m]))",
      "(sum by (cluster)(count_over_time({app=\"api\"} |= \"error\"[10m])) / on (cluster)  sum by (cluster)(count_over_time({app=\"api\"}[10m])))" },
    { "sum by (cluster, app) (count_over_time({namespace=\"shop\"}[10m])) / on (cluster) group_left sum by (cluster) (count_over_time({namespace=\"shop\"}[10m]))",
      "(sum by (cluster,app)(count_over_time({namespace=\"shop\"}[10m])) / on (cluster) group_left sum by (cluster)(count_over_time({namespace=\"shop\"}[10m])))" },
    { "stddev(sum by (pod) (count_over_time({namespace=\"shop\"}[10m])))",
      "stddev(sum by (pod)(count_over_time({namespace=\"shop\"}[10m])))" },
    { "max by (namespace) (rate({cluster=\"prod-eu\"}[2m]))",
      "max by (namespace)(rate({cluster=\"prod-eu\"}[2m]))" },
    { "{app=\"db\"}",
      "{app=\"db\"}" },
    { "count_over_time({app=\"db\"}[5m])",
      "count_over_time({app=\"db\"}[5m])" },
    { "count_over_time({app=\"db\"}[1m])",
      "count_over_time({app=\"db\"}[1m])" },
    { "{app=\"api\", env!=\"dev\", ns=~\"shop|data\", pod!~\"x-.*\"}",
      "{app=\"api\", env!=\"dev\", ns=~\"shop|data\", pod!~\"x-.*\"}" },
    { "{app = \"api\" , env = `raw\\value`}",
      "{app=\"api\", env=\"raw\\\\value\"}" },
    { "{app=\"api\"} != \"info\"",
      "{app=\"api\"} != \"info\"" },
    { "{app=\"api\"} !~ \"GET|PUT\"",
      "{app=\"api\"} !~ \"GET|PUT\"" },
    { "{app=\"api\"} |> \"<_> error <_>\"",
      "{app=\"api\"} |> \"<_> error <_>\"" },
    { "{app=\"api\"} !> \"<_> debug <_>\"",
      "{app=\"api\"} !> \"<_> debug <_>\"" },
    { "{app=\"api\"} |= \"a\" or \"b\"",
      "{app=\"api\"} |= \"a\" or \"b\"" },
    { "{app=\"api\"} |~ \"a\" or \"b\" or \"c\"",
      "{app=\"api\"} |~ \"a\" or \"b\" or \"c\"" },
    { "{app=\"api\"} != \"a\" or \"b\"",
      "{app=\"api\"} != \"a\" != \"b\"" },
    { "{app=\"api\"} |= ip(\"10.1.0.0/16\")",
      "{app=\"api\"} |= ip(\"10.1.0.0/16\")" },
    { "{app=\"api\"} != ip(\"192.168.0.1-192.168.0.20\")",
      "{app=\"api\"} != ip(\"192.168.0.1-192.168.0.20\")" },
    { "{app=\"api\"} |= \"a\" |~ \"b\" != \"c\" !~ \"d\"",
      "{app=\"api\"} |= \"a\" |~ \"b\" != \"c\" !~ \"d\"" },
    { "{app=\"api\"} |= `\"level\":\"error\"`",
      "{app=\"api\"} |= \"\\\"level\\\":\\\"error\\\"\"" },
    { "{app=\"api\"} |= \"日本語\"",
      "{app=\"api\"} |= \"日本語\"" },
    { "{app=\"api\"} | json",
      "{app=\"api\"} | json" },
    { "{app=\"api\"} | json first=\"name.first\", tags=\"tags[0]\", raw=`[\"a\"][\"b\"]`",
      "{app=\"api\"} | json first=\"name.first\",tags=\"tags[0]\",raw=\"[\\\"a\\\"][\\\"b\\\"]\"" },
    { "{app=\"api\"} | json field",
      "{app=\"api\"} | json field=\"field\"" },
    { "{app=\"api\"} | logfmt",
      "{app=\"api\"} | logfmt" },
    { "{app=\"api\"} | logfmt --strict",
      "{app=\"api\"} | logfmt --strict" },
    { "{app=\"api\"} | logfmt --keep-empty --strict",
      "{app=\"api\"} | logfmt --strict --keep-empty" },
    { "{app=\"api\"} | logfmt --strict a, b=\"key\"",
      "{app=\"api\"} | logfmt --strict a=\"a\",b=\"key\"" },
    { "{app=\"api\"} | regexp \"(?P<method>\\\\w+) (?P<path>\\\\S+)\"",
      "{app=\"api\"} | regexp \"(?P<method>\\\\w+) (?P<path>\\\\S+)\"" },
    { "{app=\"api\"} | pattern \"<ip> - <_> \\\"<method> <path>\\\"\"",
      "{app=\"api\"} | pattern \"<ip> - <_> \\\"<method> <path>\\\"\"" },
    { "{app=\"api\"} | unpack",
      "{app=\"api\"} | unpack" },
    { "{app=\"api\"} | decolorize",
      "{app=\"api\"} | decolorize" },
    { "{app=\"api\"} | line_format \"{{.method}} {{.path}}\"",
      "{app=\"api\"} | line_format \"{{.method}} {{.path}}\"" },
    { "{app=\"api\"} | label_format dst=src, tmpl=\"{{.a}}-{{.b}}\"",
      "{app=\"api\"} | label_format dst=src,tmpl=\"{{.a}}-{{.b}}\"" },
    { "{app=\"api\"} | drop a, b=\"v\", c!=\"w\", d=~\"x.*\", e!~\"y\"",
      "{app=\"api\"} | drop a,b=\"v\",c!=\"w\",d=~\"x.*\",e!~\"y\"" },
    { "{app=\"api\"} | keep a, b=\"v\"",
      "{app=\"api\"} | keep a,b=\"v\"" },
    { "{app=\"api\"} | status >= 500",
      "{app=\"api\"} | status>=500" },
    { "{app=\"api\"} | status = 200 | status == 201 | status != 202 | status > 1 | status < 2 | status <= 3",
      "{app=\"api\"} | status==200 | status==201 | status!=202 | status>1 | status<2 | status<=3" },
    { "{app=\"api\"} | latency > -1.5 | latency < +2",
      "{app=\"api\"} | latency>-1.5 | latency<2" },
    { "{app=\"api\"} | duration > 100ms | duration <= 1.5h | d == 2h45m | d != 1d",
      "{app=\"api\"} | duration>100ms | duration<=1h30m0s | d==2h45m0s | d!=24h0m0s" },
    { "{app=\"api\"} | size > 150KB | size < 2MiB | size == 10B | size != 1.5GB",
      "{app=\"api\"} | size>150kB | size<2.1MB | size==10B | size!=1.5GB" },
    { "{app=\"api\"} | addr = ip(\"10.0.0.0/8\") | addr != ip(\"::1\")",
      "{app=\"api\"} | addr=ip(\"10.0.0.0/8\") | addr!=ip(\"::1\")" },
    { "{app=\"api\"} | level=\"error\" and status >= 500",
      "{app=\"api\"} | ( level=\"error\" , status>=500 )" },
    { "{app=\"api\"} | level=\"error\" or level=\"warn\"",
      "{app=\"api\"} | ( level=\"error\" or level=\"warn\" )" },
    { "{app=\"api\"} | a=\"1\", b=\"2\"",
      "{app=\"api\"} | ( a=\"1\" , b=\"2\" )" },
    { "{app=\"api\"} | a=\"1\" b=\"2\"",
      "{app=\"api\"} | ( a=\"1\" , b=\"2\" )" },
    { "{app=\"api\"} | (a=\"1\" or b=\"2\") and c=\"3\"",
      "{app=\"api\"} | ( ( a=\"1\" or b=\"2\" ) , c=\"3\" )" },
    { "{app=\"api\"} | a=\"1\" or b=\"2\" and c=\"3\"",
      "{app=\"api\"} | ( a=\"1\" or ( b=\"2\" , c=\"3\" ) )" },
    { "{app=\"api\"} | a=\"1\" and b=\"2\" or c=\"3\"",
      "{app=\"api\"} | ( ( a=\"1\" , b=\"2\" ) or c=\"3\" )" },
    { "{app=\"api\"} | a=\"1\" b=\"2\" or c=\"3\"",
      "{app=\"api\"} | ( a=\"1\" , ( b=\"2\" or c=\"3\" ) )" },
    { "{app=\"api\"} | __error__=\"\" | __error__!=\"JSONParserErr\"",
      "{app=\"api\"} | __error__=\"\" | __error__!=\"JSONParserErr\"" },
    { "{app=\"api\"} |= \"x\" | logfmt | level=~\"warn|error\" | line_format \"{{.msg}}\" |= \"y\"",
      "{app=\"api\"} |= \"x\" | logfmt | level=~\"warn|error\" | line_format \"{{.msg}}\" |= \"y\"" },
    { "({app=\"api\"})",
      "{app=\"api\"}" },
    { "({app=\"api\"} |= \"x\")",
      "{app=\"api\"} |= \"x\"" },
    { "count_over_time({app=\"api\"} |= \"x\" [1h30m])",
      "count_over_time({app=\"api\"} |= \"x\"[1h30m])" },
    { "count_over_time({app=\"api\"}[5m] |= \"x\")",
      "count_over_time({app=\"api\"} |= \"x\"[5m])" },
    { "count_over_time({app=\"api\"}[5m] offset 1h)",
      "count_over_time({app=\"api\"}[5m] offset 1h0m0s)" },
    { "count_over_time({app=\"api\"}[5m] offset -30s | json)",
      "count_over_time({app=\"api\"} | json[5m] offset -30s)" },
    { "rate({app=\"api\"}[1m])",
      "rate({app=\"api\"}[1m])" },
    { "rate_counter({app=\"api\"} | unwrap x [1m])",
      "rate_counter({app=\"api\"} | unwrap x[1m])" },
    { "bytes_over_time({app=\"api\"}[1d])",
      "bytes_over_time({app=\"api\"}[1d])" },
    { "bytes_rate({app=\"api\"}[1w])",
      "bytes_rate({app=\"api\"}[1w])" },
    { "absent_over_time({app=\"api\"}[1y])",
      "absent_over_time({app=\"api\"}[1y])" },
    { "absent_over_time({app=\"api\"} | unwrap x [5m])",
      "absent_over_time({app=\"api\"} | unwrap x[5m])" },
    { "avg_over_time({app=\"api\"} | logfmt | unwrap latency [5m]) by (path)",
      "avg_over_time({app=\"api\"} | logfmt | unwrap latency[5m]) by (path)" },
    { "sum_over_time({app=\"api\"} | logfmt | unwrap bytes(size) [5m])",
      "sum_over_time({app=\"api\"} | logfmt | unwrap bytes(size)[5m])" },
    { "min_over_time({app=\"api\"} | logfmt | unwrap duration(d) [5m]) without (pod)",
      "min_over_time({app=\"api\"} | logfmt | unwrap duration(d)[5m]) without (pod)" },
    { "max_over_time({app=\"api\"} | logfmt | unwrap duration_seconds(d) | __error__=\"\" [5m])",
      "max_over_time({app=\"api\"} | logfmt | unwrap duration_seconds(d) | __error__=\"\"[5m])" },
    { "stdvar_over_time({app=\"api\"} | unwrap x | x > 0 or x < -1 [5m])",
      "stdvar_over_time({app=\"api\"} | unwrap x | ( x>0 or x<-1 )[5m])" },
    { "stddev_over_time({app=\"api\"} | unwrap x [5m])",
      "stddev_over_time({app=\"api\"} | unwrap x[5m])" },
    { "quantile_over_time(0.99, {app=\"api\"} | unwrap x [5m]) by (a, b)",
      "quantile_over_time(0.99,{app=\"api\"} | unwrap x[5m]) by (a,b)" },
    { "first_over_time({app=\"api\"} | unwrap x [5m])",
      "first_over_time({app=\"api\"} | unwrap x[5m])" },
    { "last_over_time({app=\"api\"} | unwrap x [5m]) by ()",
      "last_over_time({app=\"api\"} | unwrap x[5m]) by ()" },
    { "avg_over_time({app=\"api\"}[5m] | logfmt | unwrap x)",
      "avg_over_time({app=\"api\"} | logfmt | unwrap x[5m])" },
    { "avg_over_time({app=\"api\"}[5m] offset 5m | unwrap x)",
      "avg_over_time({app=\"api\"} | unwrap x[5m] offset 5m0s)" },
    { "avg_over_time({app=\"api\"}[5m] | unwrap x)",
      "avg_over_time({app=\"api\"} | unwrap x[5m])" },
    { "avg_over_time({app=\"api\"} | unwrap x [5m] offset 1m)",
      "avg_over_time({app=\"api\"} | unwrap x[5m] offset 1m0s)" },
    { "rate(({app=\"api\"})[5m])",
      "rate({app=\"api\"}[5m])" },
    { "rate(({app=\"api\"} | json)[5m] offset 1m)",
      "rate({app=\"api\"} | json[5m] offset 1m0s)" },
    { "rate(({app=\"api\"} | unwrap x)[5m])",
      "rate({app=\"api\"} | unwrap x[5m])" },
    { "rate(({app=\"api\"})[5m] | unwrap x)",
      "rate({app=\"api\"} | unwrap x[5m])" },
    { "rate(({app=\"api\"}[5m]))",
      "rate({app=\"api\"}[5m])" },
    { "rate((({app=\"api\"} |= \"x\" [5m] offset 2m)))",
      "rate({app=\"api\"} |= \"x\"[5m] offset 2m0s)" },
    { "sum(rate({app=\"api\"}[5m]))",
      "sum(rate({app=\"api\"}[5m]))" },
    { "sum by (a) (rate({app=\"api\"}[5m]))",
      "sum by (a)(rate({app=\"api\"}[5m]))" },
    { "sum(rate({app=\"api\"}[5m])) by (a, b)",
      "sum by (a,b)(rate({app=\"api\"}[5m]))" },
    { "sum without (a) (rate({app=\"api\"}[5m]))",
      "sum without (a)(rate({app=\"api\"}[5m]))" },
    { "sum(rate({app=\"api\"}[5m])) without (a)",
      "sum without (a)(rate({app=\"api\"}[5m]))" },
    { "sum by () (rate({app=\"api\"}[5m]))",
      "sum(rate({app=\"api\"}[5m]))" },
    { "avg(rate({app=\"api\"}[5m]))",
      "avg(rate({app=\"api\"}[5m]))" },
    { "count(rate({app=\"api\"}[5m]))",
      "count(rate({app=\"api\"}[5m]))" },
    { "max(rate({app=\"api\"}[5m]))",
      "max(rate({app=\"api\"}[5m]))" },
    { "min(rate({app=\"api\"}[5m]))",
      "min(rate({app=\"api\"}[5m]))" },
    { "stddev(rate({app=\"api\"}[5m]))",
      "stddev(rate({app=\"api\"}[5m]))" },
    { "stdvar(rate({app=\"api\"}[5m]))",
      "stdvar(rate({app=\"api\"}[5m]))" },
    { "topk(5, rate({app=\"api\"}[5m]))",
      "topk(5,rate({app=\"api\"}[5m]))" },
    { "topk by (a) (5, rate({app=\"api\"}[5m]))",
      "topk by (a)(5,rate({app=\"api\"}[5m]))" },
    { "bottomk(1, rate({app=\"api\"}[5m])) by (a)",
      "bottomk by (a)(1,rate({app=\"api\"}[5m]))" },
    { "sort(rate({app=\"api\"}[5m]))",
      "sort(rate({app=\"api\"}[5m]))" },
    { "sort_desc(rate({app=\"api\"}[5m]))",
      "sort_desc(rate({app=\"api\"}[5m]))" },
    { "approx_topk(3, rate({app=\"api\"}[5m]))",
      "approx_topk(3,rate({app=\"api\"}[5m]))" },
    { "sum(sum(rate({app=\"api\"}[5m])))",
      "sum(sum(rate({app=\"api\"}[5m])))" },
    { "sum(5)",
      "sum(5)" },
    { "1",
      "1" },
    { "-1.5",
      "-1.5" },
    { "+2",
      "2" },
    { "1e3",
      "1000" },
    { "0.0001",
      "0.0001" },
    { "1e-5",
      "1e-05" },
    { "100000",
      "100000" },
    { "1000000",
      "1e+06" },
    { "0x10p0",
      "16" },
    { "1 + 2",
      "3" },
    { "1 + 2 * 3",
      "7" },
    { "(1 + 2) * 3",
      "9" },
    { "2 ^ 3 ^ 2",
      "512" },
    { "8 % 3",
      "2" },
    { "1 / 0",
      "(0 / 0)" },
    { "0 / 0",
      "(0 / 0)" },
    { "2 ^ 1024",
      "(2 ^ 1024)" },
    { "1 == 1",
      "1" },
    { "2 > bool 1",
      "1" },
    { "vector(1)",
      "vector(1.000000)" },
    { "vector(0.5) + vector(1)",
      "(vector(0.500000) + vector(1.000000))" },
    { "sum(rate({app=\"api\"}[5m])) * 2",
      "(sum(rate({app=\"api\"}[5m])) * 2)" },
    { "2 * sum(rate({app=\"api\"}[5m]))",
      "(2 * sum(rate({app=\"api\"}[5m])))" },
    { "sum(rate({app=\"api\"}[5m])) > 10",
      "(sum(rate({app=\"api\"}[5m])) > 10)" },
    { "sum(rate({app=\"api\"}[5m])) > bool 10",
      "(sum(rate({app=\"api\"}[5m])) > bool 10)" },
    { "sum(rate({app=\"api\"}[5m])) / on (a) sum(rate({app=\"api\"}[5m]))",
      "(sum(rate({app=\"api\"}[5m])) / on (a)  sum(rate({app=\"api\"}[5m])))" },
    { "sum(rate({app=\"api\"}[5m])) / ignoring (a, b) sum(rate({app=\"api\"}[5m]))",
      "(sum(rate({app=\"api\"}[5m])) / ignoring (a,b)  sum(rate({app=\"api\"}[5m])))" },
    { "sum(rate({app=\"api\"}[5m])) / on (a) group_left (b, c) sum(rate({app=\"api\"}[5m]))",
      "(sum(rate({app=\"api\"}[5m])) / on (a) group_left (b,c) sum(rate({app=\"api\"}[5m])))" },
    { "sum(rate({app=\"api\"}[5m])) / on (a) group_right sum(rate({app=\"api\"}[5m]))",
      "(sum(rate({app=\"api\"}[5m])) / on (a) group_right sum(rate({app=\"api\"}[5m])))" },
    { "sum(rate({app=\"api\"}[5m])) / on () group_left () sum(rate({app=\"api\"}[5m]))",
      "(sum(rate({app=\"api\"}[5m])) / on () group_left sum(rate({app=\"api\"}[5m])))" },
    { "sum(rate({app=\"api\"}[5m])) == bool on (a) sum(rate({app=\"api\"}[5m]))",
      "(sum(rate({app=\"api\"}[5m])) == bool on (a)  sum(rate({app=\"api\"}[5m])))" },
    { "sum(rate({app=\"api\"}[5m])) and sum(rate({app=\"api\"}[5m]))",
      "(sum(rate({app=\"api\"}[5m])) and sum(rate({app=\"api\"}[5m])))" },
    { "sum(rate({app=\"api\"}[5m])) or vector(0)",
      "(sum(rate({app=\"api\"}[5m])) or vector(0.000000))" },
    { "sum(rate({app=\"api\"}[5m])) unless sum(rate({app=\"api\"}[5m]))",
      "(sum(rate({app=\"api\"}[5m])) unless sum(rate({app=\"api\"}[5m])))" },
    { "sum(rate({app=\"api\"}[5m])) or vector(0) and vector(1)",
      "(sum(rate({app=\"api\"}[5m])) or (vector(0.000000) and vector(1.000000)))" },
    { "sum(rate({app=\"api\"}[5m])) + 1 > 2 and vector(1) or vector(2)",
      "((((sum(rate({app=\"api\"}[5m])) + 1) > 2) and vector(1.000000)) or vector(2.000000))" },
    { "label_replace(rate({app=\"api\"}[5m]), \"dst\", \"$1\", \"src\", \"(.*)\")",
      "label_replace(rate({app=\"api\"}[5m]),\"dst\",\"$1\",\"src\",\"(.*)\")" },
    { "label_replace(sum(rate({app=\"api\"}[5m])) / 2, \"dst\", \"x\", \"src\", \"\")",
      "label_replace((sum(rate({app=\"api\"}[5m])) / 2),\"dst\",\"x\",\"src\",\"\")" },
    { "{app=\"api\"} # trailing comment",
      "{app=\"api\"}" },
    /* whitespace, newlines and comments anywhere */
    { "{app=\"api\"}\n  |= \"x\"\n  | json # the parser\n  | level=\"error\"",
      "{app=\"api\"} |= \"x\" | json | level=\"error\"" },
    { "sum by (a) (\n  rate({app=\"api\"}[5m]) // per second\n)",
      "sum by (a)(rate({app=\"api\"}[5m]))" },
    { "{app=\"api\"} /* block\n comment */ != \"x\"", "{app=\"api\"} != \"x\"" },
    /* keywords and function names in any case */
    { "SUM BY (A) (COUNT_OVER_TIME({app=\"api\"} |= \"x\" [5m]))",
      "sum by (A)(count_over_time({app=\"api\"} |= \"x\"[5m]))" },
    { "{app=\"api\"} | JSON | Logfmt | UNPACK", "{app=\"api\"} | json | logfmt | unpack" },
    /* function names are label names unless a call follows */
    { "sum by (count, rate, bytes) (rate({sum=\"x\"} | bytes > 1KB | unwrap duration [1m]))",
      "sum by (count,rate,bytes)(rate({sum=\"x\"} | bytes>1.0kB | unwrap duration[1m]))" },
    /* negative zero and huge sizes print so that they read back */
    { "-0.0 * 1", "-0.0" },
    { "{app=\"api\"} | x > -0.0", "{app=\"api\"} | x>-0.0" },
    { "{app=\"api\"} | s > 0KB | s < 5TiB | s != 999999KB | s > 999.99TB",
      "{app=\"api\"} | s>0kB | s<5.5TB | s!=1.0GB | s>1000000000000000B" },
    { "{app=\"api\"} |= \"\\x01\\t\\u00e9\"", "{app=\"api\"} |= \"\\x01\\té\"" },
    /* `group_left (` would read a parenthesised right side as the include
     * list: an empty list is printed before it */
    { "sum(rate({a=\"b\"}[1m])) + ignoring () group_left sum(rate({a=\"b\"}[1m])) / 4",
      "(sum(rate({a=\"b\"}[1m])) + ignoring () group_left () (sum(rate({a=\"b\"}[1m])) / 4))" },
    { "vector(1) * on (a) group_right () (0 / 0)",
      "(vector(1.000000) * on (a) group_right () (0 / 0))" },
    /* variants (Loki 3.5), as Loki's Test_VariantsExpr_String prints them */
    { "variants(count_over_time({foo=\"bar\"}[5m])) of ({foo=\"bar\"}[5m])",
      "variants(count_over_time({foo=\"bar\"}[5m])) of ({foo=\"bar\"}[5m])" },
    { "variants(sum by (app) (count_over_time({baz=\"qux\", foo!=\"bar\"}[5m])),rate({baz=\"qux\", "
      "foo!=\"bar\"}[5m])) of ({baz=\"qux\", foo!=\"bar\"} |= \"that\" [5m])",
      "variants(sum by (app)(count_over_time({baz=\"qux\", foo!=\"bar\"}[5m])), rate({baz=\"qux\", "
      "foo!=\"bar\"}[5m])) of ({baz=\"qux\", foo!=\"bar\"} |= \"that\"[5m])" },
    { "VARIANTS(bytes_over_time({a=\"b\"}[1m])) OF ((({a=\"b\"} | logfmt | unwrap bytes(size)[1m] "
      "offset 1h)))",
      "variants(bytes_over_time({a=\"b\"}[1m])) of ({a=\"b\"} | logfmt | unwrap bytes(size)[1m] "
      "offset 1h0m0s)" },
    /* an operand of a binary operation, as Loki's grammar has it */
    { "variants(rate({a=\"b\"}[1m])) of ({a=\"b\"}[1m]) * 2",
      "(variants(rate({a=\"b\"}[1m])) of ({a=\"b\"}[1m]) * 2)" },
};

static void test_canonical(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(canon_cases) / sizeof(canon_cases[0]); i++) {
        const canon_case *c = &canon_cases[i];
        logql_expr *e = parse_ok(c->in);
        char *got = format(e);
        if (strcmp(got, c->out) != 0)
            fail_msg("%s\n  got  %s\n  want %s", c->in, got, c->out);
        logql_expr *again = parse_ok(got);
        char *got2 = format(again);
        if (strcmp(got, got2) != 0)
            fail_msg("not stable: %s\n  %s\n  %s", c->in, got, got2);
        free(got);
        free(got2);
        logql_expr_free(e);
        logql_expr_free(again);
    }
}

/* ---- errors ------------------------------------------------------------------ */

typedef struct err_case {
    const char *in, *msg;
} err_case;

static const err_case err_cases[] = {
    { "{app=\"api\"",
      "parse error at line 1, col 11: syntax error: unexpected $end, expecting } or ," },
    { "{}",
      ERR_EMPTY },
    { "{app=~\".*\"}",
      ERR_EMPTY },
    { "{app=~\"(\"}",
      "parse error : error parsing regexp: missing closing ): `(`" },
    { "sum(count_over_time({app=\"api\"} | logfmt | unwrap [5m]))",
      "parse error at line 0, col 51: syntax error: unexpected RANGE, expecting IDENTIFIER or BYTES_CONV or DURATION_CONV or DURATION_SECONDS_CONV" },
    { "count_over_time({app=\"api\"})",
      "parse error at line 1, col 28: syntax error: unexpected )" },
    { "sum(rate({app=\"api\"}[5m])",
      "parse error at line 1, col 26: syntax error: unexpected $end" },
    { "sum_over_time({app=\"worker\"} | json | unwrap job_id [15m]) by (queue)",
      "parse error : grouping not allowed for sum_over_time aggregation" },
    { "",
      "parse error at line 1, col 1: syntax error: unexpected $end" },
    { "{",
      "parse error at line 1, col 2: syntax error: unexpected $end, expecting IDENTIFIER or }" },
    { "{app",
      "parse error at line 1, col 5: syntax error: unexpected $end, expecting = or =~ or !~ or !=" },
    { "{app=",
      "parse error at line 1, col 6: syntax error: unexpected $end, expecting STRING" },
    { "{app=\"a\",",
      "parse error at line 1, col 10: syntax error: unexpected $end, expecting IDENTIFIER" },
    { "{app=\"a\"} |=",
      "parse error at line 1, col 13: syntax error: unexpected $end, expecting STRING or ip" },
    { "{app=\"a\"} |= ip",
      "parse error at line 1, col 14: syntax error: unexpected IDENTIFIER, expecting STRING or ip" },
    { "{app=\"a\"} |= ip(",
      "parse error at line 1, col 17: syntax error: unexpected $end, expecting STRING" },
    { "{app=\"a\"} |= ip(\"x\"",
      "parse error at line 1, col 20: syntax error: unexpected $end, expecting )" },
    { "{app=\"a\"} != 1",
      "parse error at line 1, col 14: syntax error: unexpected NUMBER, expecting STRING or ip" },
    { "{app=\"a\"} | regexp",
      "parse error at line 1, col 19: syntax error: unexpected $end, expecting STRING" },
    { "{app=\"a\"} | line_format",
      "parse error at line 1, col 24: syntax error: unexpected $end, expecting STRING" },
    { "{app=\"a\"} | label_format",
      "parse error at line 1, col 25: syntax error: unexpected $end, expecting IDENTIFIER" },
    { "{app=\"a\"} | label_format a",
      "parse error at line 1, col 27: syntax error: unexpected $end, expecting =" },
    { "{app=\"a\"} | label_format a=",
      "parse error at line 1, col 28: syntax error: unexpected $end, expecting IDENTIFIER or STRING" },
    { "{app=\"a\"} | drop",
      "parse error at line 1, col 17: syntax error: unexpected $end, expecting IDENTIFIER" },
    { "{app=\"a\"} | json a=",
      "parse error at line 1, col 20: syntax error: unexpected $end, expecting STRING" },
    { "{app=\"a\"} | json a,",
      "parse error at line 1, col 20: syntax error: unexpected $end, expecting IDENTIFIER" },
    { "{app=\"a\"} | logfmt --strict --bogus",
      "parse error at line 1, col 31: syntax error: unexpected IDENTIFIER, expecting NUMBER" },
    { "{app=\"a\"} | x",
      "parse error at line 1, col 14: syntax error: unexpected $end" },
    { "{app=\"a\"} | x =",
      "parse error at line 1, col 16: syntax error: unexpected $end" },
    { "{app=\"a\"} | x =~ 5",
      "parse error at line 1, col 18: syntax error: unexpected NUMBER, expecting STRING" },
    { "{app=\"a\"} | x > \"a\"",
      "parse error at line 1, col 17: syntax error: unexpected STRING" },
    { "{app=\"a\"} | x = ip",
      "parse error at line 1, col 17: syntax error: unexpected IDENTIFIER" },
    { "{app=\"a\"} | x=\"a\" and",
      "parse error at line 1, col 22: syntax error: unexpected $end, expecting IDENTIFIER or (" },
    { "{app=\"a\"} | x=\"a\" or",
      "parse error at line 1, col 21: syntax error: unexpected $end, expecting IDENTIFIER or (" },
    { "{app=\"a\"} | (x=\"a\"",
      "parse error at line 1, col 19: syntax error: unexpected $end" },
    { "{app=\"a\"} | unwrap x",
      "parse error at line 1, col 13: syntax error: unexpected unwrap" },
    { "{app=\"a\"}[5m]",
      "parse error at line 0, col 10: syntax error: unexpected RANGE" },
    { "{app=\"a\"} |= \"a\" or",
      "parse error at line 1, col 20: syntax error: unexpected $end, expecting STRING or ip" },
    { "count_over_time(",
      "parse error at line 1, col 17: syntax error: unexpected $end, expecting NUMBER or { or (" },
    { "count_over_time(5",
      "parse error at line 1, col 18: syntax error: unexpected $end, expecting ," },
    { "count_over_time(5,",
      "parse error at line 1, col 19: syntax error: unexpected $end, expecting { or (" },
    { "count_over_time(5, (",
      "parse error at line 1, col 21: syntax error: unexpected $end, expecting { or (" },
    { "count_over_time({app=\"a\"} | json)",
      "parse error at line 1, col 33: syntax error: unexpected )" },
    { "count_over_time({app=\"a\"} | unwrap x)",
      "parse error at line 1, col 37: syntax error: unexpected ), expecting RANGE or |" },
    { "count_over_time({app=\"a\"}[5m] x)",
      "parse error at line 1, col 31: syntax error: unexpected IDENTIFIER, expecting )" },
    { "count_over_time({app=\"a\"}[5m] offset)",
      "parse error at line 1, col 37: syntax error: unexpected ), expecting DURATION" },
    { "count_over_time({app=\"a\"}[5m]) by",
      "parse error at line 1, col 34: syntax error: unexpected $end, expecting (" },
    { "count_over_time({app=\"a\"}[5m]) by (",
      "parse error at line 1, col 36: syntax error: unexpected $end, expecting IDENTIFIER or )" },
    { "count_over_time({app=\"a\"}[5m]) by (a",
      "parse error at line 1, col 37: syntax error: unexpected $end, expecting , or )" },
    { "count_over_time({app=\"a\"}[5m]) by (a,",
      "parse error at line 1, col 38: syntax error: unexpected $end, expecting IDENTIFIER" },
    { "count_over_time(({app=\"a\"}) x)",
      "parse error at line 1, col 29: syntax error: unexpected IDENTIFIER, expecting RANGE" },
    { "count_over_time(({app=\"a\"})[5m] | json)",
      "parse error at line 1, col 35: syntax error: unexpected json, expecting unwrap" },
    { "count_over_time({app=\"a\"} | unwrap bytes x [5m])",
      "parse error at line 1, col 42: syntax error: unexpected IDENTIFIER, expecting RANGE or |" },
    { "count_over_time({app=\"a\"} | unwrap bytes(x [5m])",
      "parse error at line 0, col 44: syntax error: unexpected RANGE, expecting )" },
    { "count_over_time({app=\"a\"} | unwrap x | json [5m])",
      "parse error at line 1, col 40: syntax error: unexpected json, expecting IDENTIFIER or (" },
    { "sum",
      "parse error at line 1, col 1: syntax error: unexpected IDENTIFIER" },
    { "sum(",
      "parse error at line 1, col 5: syntax error: unexpected $end" },
    { "sum by",
      "parse error at line 1, col 1: syntax error: unexpected IDENTIFIER" },
    { "sum by (a)",
      "parse error at line 1, col 11: syntax error: unexpected $end, expecting (" },
    { "sum({app=\"a\"})",
      "parse error at line 1, col 14: syntax error: unexpected )" },
    { "sum(rate({app=\"a\"}[5m])) by (a) by (b)",
      "parse error at line 1, col 33: syntax error: unexpected by" },
    { "vector",
      "parse error at line 1, col 1: syntax error: unexpected IDENTIFIER" },
    { "vector(",
      "parse error at line 1, col 8: syntax error: unexpected $end, expecting NUMBER" },
    { "vector(1",
      "parse error at line 1, col 9: syntax error: unexpected $end, expecting )" },
    { "vector(x)",
      "parse error at line 1, col 8: syntax error: unexpected IDENTIFIER, expecting NUMBER" },
    { "label_replace(",
      "parse error at line 1, col 15: syntax error: unexpected $end" },
    { "label_replace(rate({app=\"a\"}[5m])",
      "parse error at line 1, col 34: syntax error: unexpected $end" },
    { "label_replace(rate({app=\"a\"}[5m]),",
      "parse error at line 1, col 35: syntax error: unexpected $end, expecting STRING" },
    { "label_replace(rate({app=\"a\"}[5m]), \"a\"",
      "parse error at line 1, col 39: syntax error: unexpected $end, expecting ," },
    { "label_replace(rate({app=\"a\"}[5m]), \"a\", \"b\", \"c\", \"d\"",
      "parse error at line 1, col 54: syntax error: unexpected $end, expecting )" },
    { "1 +",
      "parse error at line 1, col 4: syntax error: unexpected $end" },
    { "-",
      "parse error at line 1, col 2: syntax error: unexpected $end, expecting NUMBER" },
    { "- x",
      "parse error at line 1, col 3: syntax error: unexpected IDENTIFIER, expecting NUMBER" },
    { "1 + on",
      "parse error at line 1, col 7: syntax error: unexpected $end, expecting (" },
    { "1 + on (a",
      "parse error at line 1, col 10: syntax error: unexpected $end, expecting , or )" },
    { "1 + on (a) group_left (",
      "parse error at line 1, col 24: syntax error: unexpected $end, expecting IDENTIFIER or )" },
    { "sum(rate({app=\"a\"}[5m])) * on (a) group_left (sum(rate({app=\"a\"}[5m])))",
      "parse error at line 1, col 47: syntax error: unexpected SUM, expecting IDENTIFIER or )" },
    { "(1",
      "parse error at line 1, col 3: syntax error: unexpected $end" },
    { ")",
      "parse error at line 1, col 1: syntax error: unexpected )" },
    { "{app=\"a\"} or 1",
      "parse error : unexpected type for left leg of binary operation (or): *syntax.MatchersExpr" },
    { "1 and 1",
      "parse error : unexpected literal for left leg of logical/set binary operation (and): 1.000000" },
    { "vector(1) or 1",
      "parse error : unexpected literal for right leg of logical/set binary operation (or): 1.000000" },
    { "{app=\"a\"} + 1",
      "parse error : unexpected type for left leg of binary operation (+): *syntax.MatchersExpr" },
    { "{app=\"a\"} |= \"x\" / 2",
      "parse error : unexpected type for left leg of binary operation (/): *syntax.PipelineExpr" },
    { "1 + {app=\"a\"}",
      "parse error : unexpected type for right leg of binary operation (+): *syntax.MatchersExpr" },
    { "topk(0, rate({app=\"a\"}[1m]))",
      "parse error : invalid parameter (must be greater than 0) topk(0" },
    { "topk(-1, rate({app=\"a\"}[1m]))",
      "parse error at line 1, col 8: syntax error: unexpected ," },
    { "topk(1.5, rate({app=\"a\"}[1m]))",
      "parse error : invalid parameter topk(1.5," },
    { "topk(rate({app=\"a\"}[1m]))",
      "parse error : parameter required for operation topk" },
    { "bottomk(99999999999999999999, rate({app=\"a\"}[1m]))",
      "parse error : invalid parameter bottomk(99999999999999999999," },
    { "approx_topk(rate({app=\"a\"}[1m]))",
      "parse error : parameter required for operation approx_topk" },
    { "approx_topk(2, rate({app=\"a\"}[1m])) by (a)",
      "parse error : grouping not allowed for approx_topk aggregation" },
    { "sum(2, rate({app=\"a\"}[1m]))",
      "parse error : unsupported parameter for operation sum(2," },
    { "sort by (a) (rate({app=\"a\"}[1m]))",
      "parse error : sort and sort_desc doesn't allow grouping by " },
    { "sort_desc(rate({app=\"a\"}[1m])) without (a)",
      "parse error : sort and sort_desc doesn't allow grouping by " },
    { "quantile_over_time({app=\"a\"} | unwrap x [1m])",
      "parse error : parameter required for operation quantile_over_time" },
    { "quantile_over_time(1e999, {app=\"a\"} | unwrap x [1m])",
      "parse error : invalid parameter for operation quantile_over_time: strconv.ParseFloat: parsing \"1e999\": value out of range" },
    { "quantile_over_time(0x5, {app=\"a\"} | unwrap x [1m])",
      "parse error : invalid parameter for operation quantile_over_time: strconv.ParseFloat: parsing \"0x5\": invalid syntax" },
    { "rate(1, {app=\"a\"}[1m])",
      "parse error : parameter 1 not supported for operation rate" },
    { "rate({app=\"a\"}[1m]) by (a)",
      "parse error : grouping not allowed for rate aggregation" },
    { "bytes_rate({app=\"a\"} | unwrap x [1m])",
      "parse error : invalid aggregation bytes_rate with unwrap" },
    { "avg_over_time({app=\"a\"}[1m])",
      "parse error : invalid aggregation avg_over_time without unwrap" },
    { "label_replace(rate({app=\"a\"}[1m]), \"a\", \"b\", \"c\", \"[\")",
      "parse error : invalid regex in label_replace: error parsing regexp: missing closing ]: `[)$`" },
    { "label_replace(vector(1), \"a\", \"b\", \"c\", \"d\")",
      ERR_EMPTY },
    { "label_replace(1 + sum(rate({app=\"a\"}[1m])), \"a\", \"b\", \"c\", \"d\")",
      ERR_EMPTY },
    { "sum(rate({app=\"\"}[1m]))",
      ERR_EMPTY },
    { "sum(rate({app=\"a\"}[1m])) / sum(rate({app!=\"b\"}[1m]))",
      ERR_EMPTY },
    { "{app=~\".*\", b!=\"x\"}",
      ERR_EMPTY },
    { "{app=\"a\"} | regexp \"a\"",
      "parse error : invalid regexp parser: at least one named capture must be supplied" },
    { "{app=\"a\"} | regexp \"(\"",
      "parse error : invalid regexp parser: error parsing regexp: missing closing ): `(`" },
    { "{app=\"a\"} | regexp \"(?P<a>x)(?P<a>y)\"",
      "parse error : invalid regexp parser: duplicate extracted label name 'a'" },
    { "{app=\"a\"} | pattern \"x\"",
      "parse error : invalid pattern parser: at least one capture is required" },
    { "{app=\"a\"} | pattern \"<a><b>\"",
      "parse error : invalid pattern parser: found consecutive capture: invalid expression" },
    { "{app=\"a\"} | pattern \"<a> <a>\"",
      "parse error : invalid pattern parser: duplicate capture name (a): invalid expression" },
    { "{app=\"a\"} | x =~ \"(\"",
      "parse error : error parsing regexp: missing closing ): `(`" },
    { "{app=\"a\"} | drop a=~\"(\"",
      "parse error : error parsing regexp: missing closing ): `(`" },
    { "1e999",
      "parse error : unable to parse literal as a float: strconv.ParseFloat: parsing \"1e999\": value out of range" },
    { "vector(1e999)",
      "parse error : unable to parse vectorExpr as a float: strconv.ParseFloat: parsing \"1e999\": value out of range" },
    { "{app=\"a\"} | x > 1e999",
      "parse error : unable to parse literal as a float: strconv.ParseFloat: parsing \"1e999\": value out of range" },
    { "{app=\"a\"}[5m",
      "parse error at line 0, col 10: missing closing ']' in duration" },
    { "{app=\"a\"}[]",
      "parse error at line 0, col 10: empty duration string" },
    { "{app=\"a\"}[5x]",
      "parse error at line 0, col 10: not a valid duration string: \"5x\"" },
    { "rate({app=\"a\"}[99999999999y])",
      "parse error at line 0, col 15: duration out of range" },
    { "{app=\"a\"} |= \"abc",
      "parse error at line 1, col 14: literal not terminated" },
    { "{app=\"a\"} |= `abc",
      "parse error at line 1, col 14: literal not terminated" },
    { "{app=\"a\"} |= \"\\z\"",
      "parse error at line 1, col 14: invalid char escape" },
    { "{app=\"a\"} |= \"\\400\"",
      "parse error at line 1, col 14: invalid syntax" },
    { "{app=\"a\"} /* x",
      "parse error at line 1, col 11: comment not terminated" },
    { "{app=\"a\"} | x > 0x",
      "parse error at line 1, col 17: hexadecimal literal has no digits" },
    { "{app=\"a\"} | x > 1e",
      "parse error at line 1, col 17: exponent has no digits" },
    { "{app=\"a\"} | x > 0b2",
      "parse error at line 1, col 17: invalid digit '2' in binary literal" },
    { "{app=\"a\"} | x > 09",
      "parse error at line 1, col 17: invalid digit '9' in octal literal" },
    { "{app=\"a\"} | x > 1__0",
      "parse error at line 1, col 17: '_' must separate successive digits" },
    { "{app='ab'}",
      "parse error at line 1, col 6: invalid char literal" },
    { "@",
      "parse error at line 1, col 1: syntax error: unexpected IDENTIFIER" },
    { "{app=\"a\"} ~",
      "parse error at line 1, col 11: syntax error: unexpected IDENTIFIER" },
    /* positions count characters (runes), lines start at 1 */
    { "{app=\"日本語\"} @", "parse error at line 1, col 13: syntax error: unexpected IDENTIFIER" },
    { "{app=\"a\"}\n  |= 5",
      "parse error at line 2, col 6: syntax error: unexpected NUMBER, expecting STRING or ip" },
    { "{app=\"a\"}\n\n|= \"x\" @", "parse error at line 3, col 8: syntax error: unexpected IDENTIFIER" },
    /* a token Loki's lexer completes by reading ahead reports line 0 */
    { "|= \"error\"", "parse error at line 0, col 1: syntax error: unexpected |=" },
    { "{app=\"a\"}\n 5m", "parse error at line 0, col 2: syntax error: unexpected DURATION" },
    /* odd characters are IDENTIFIER tokens */
    { "{@=\"x\"}", "parse error at line 1, col 2: syntax error: unexpected IDENTIFIER, "
                   "expecting IDENTIFIER or }" },
    { "{app=\"a\"} \x01", "parse error at line 1, col 11: syntax error: unexpected IDENTIFIER" },
    { "{app=\"a\"} |= \"\xff\"", "parse error at line 1, col 14: invalid UTF-8 encoding" },
    /* keywords are not label names */
    { "{json=\"x\"}", "parse error at line 1, col 2: syntax error: unexpected json, "
                      "expecting IDENTIFIER or }" },
    { "sum by (by) (rate({a=\"b\"}[1m]))",
      "parse error at line 1, col 9: syntax error: unexpected by, expecting IDENTIFIER or )" },
    /* Loki 3.5 made `variants` and `of` keywords */
    { "{of=\"x\"}", "parse error at line 1, col 2: syntax error: unexpected of, "
                    "expecting IDENTIFIER or }" },
    { "{a=\"b\"} | variants=\"x\"", "parse error at line 1, col 11: syntax error: "
                                   "unexpected variants" },
    /* variants: only a whole query or a binary operand; the parts in order */
    { "variants(rate({a=\"b\"}[1m]))",
      "parse error at line 1, col 28: syntax error: unexpected $end, expecting of" },
    { "variants rate({a=\"b\"}[1m])",
      "parse error at line 1, col 10: syntax error: unexpected RATE, expecting (" },
    { "variants(rate({a=\"b\"}[1m])) of {a=\"b\"}[1m]",
      "parse error at line 1, col 32: syntax error: unexpected {, expecting (" },
    { "variants(rate({a=\"b\"}[1m])) of (rate({a=\"b\"}[1m]))",
      "parse error at line 1, col 33: syntax error: unexpected RATE, expecting { or (" },
    { "variants({a=\"b\"}) of ({a=\"b\"}[1m])",
      "parse error at line 1, col 17: syntax error: unexpected )" },
    { "sum(variants(rate({a=\"b\"}[1m])) of ({a=\"b\"}[1m]))",
      "parse error at line 1, col 49: syntax error: unexpected )" },
    { "(variants(rate({a=\"b\"}[1m])) of ({a=\"b\"}[1m]))",
      "parse error at line 1, col 46: syntax error: unexpected )" },
    { "variants(variants(rate({a=\"b\"}[1m])) of ({a=\"b\"}[1m])) of ({a=\"b\"}[1m])",
      "parse error at line 1, col 54: syntax error: unexpected )" },
    /* the shared log range needs a matcher, as every selector does */
    { "variants(rate({a=\"b\"}[1m])) of ({a=~\".*\"}[1m])", ERR_EMPTY },
};

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
        const err_case *c = &err_cases[i];
        logql_expr *e = NULL;
        lk_buf err = { 0 };
        int rc = logql_parse(lk_str_c(c->in), &e, &err);
        if (rc != LK_EPARSE)
            fail_msg("%s: parsed (rc %d)", c->in, rc);
        if (!err.p || strcmp(err.p, c->msg) != 0)
            fail_msg("%s\n  got  %s\n  want %s", c->in, err.p ? err.p : "(none)", c->msg);
        assert_null(e);
        lk_buf_free(&err);
    }
}

static void test_input_size(void **state)
{
    (void)state;
    size_t n = LOGQL_MAX_QUERY_BYTES;
    char *q = malloc(n + 1);
    memcpy(q, "{app=\"", 6);
    memset(q + 6, 'x', n - 8);
    memcpy(q + n - 2, "\"}", 2);
    q[n] = '\0';
    logql_expr *e = NULL;
    lk_buf err = { 0 };
    assert_int_equal(logql_parse(lk_str_n(q, n), &e, &err), LK_EPARSE);
    assert_string_equal(err.p, "parse error : input size too long (5120 > 5120)");
    lk_buf_reset(&err);
    /* one byte less is fine */
    memcpy(q + n - 3, "\"}", 2);
    assert_int_equal(logql_parse(lk_str_n(q, n - 1), &e, &err), 0);
    logql_expr_free(e);
    lk_buf_free(&err);
    free(q);
}

static void test_unvalidated(void **state)
{
    (void)state;
    logql_expr *e = NULL;
    lk_buf err = { 0 };
    assert_int_equal(logql_parse_unvalidated(LK_STR("{}"), &e, &err), 0);
    assert_int_equal(e->kind, LOGQL_EXPR_LOG);
    assert_int_equal(e->u.log.n_matchers, 0);
    assert_int_equal(logql_validate(e, &err), LK_EPARSE);
    assert_string_equal(err.p, ERR_EMPTY);
    logql_expr_free(e);
    lk_buf_reset(&err);
    /* syntax errors are still errors */
    assert_int_equal(logql_parse_unvalidated(LK_STR("{"), &e, &err), LK_EPARSE);
    lk_buf_free(&err);
}

/* ---- the tree ---------------------------------------------------------------- */

static void assert_str(lk_str s, const char *want)
{
    if (!lk_str_eq_c(s, want))
        fail_msg("got %.*s, want %s", LK_STR_FMT(s), want);
    assert_int_equal(s.p[s.len], '\0');
}

static void test_tree_log_query(void **state)
{
    (void)state;
    logql_expr *e = parse_ok("{app=\"api\", env=~\"a|b\"} |= \"x\" or \"y\" != ip(\"10.0.0.0/8\")"
                             " | logfmt --strict lat=\"latency\" | level=\"error\" or status >= 500"
                             " | drop a, b=\"c\" | line_format \"{{.msg}}\"");
    assert_true(logql_expr_is_log(e));
    const logql_log_selector *sel = logql_expr_selector(e);
    assert_ptr_equal(sel, &e->u.log);
    assert_int_equal(sel->n_matchers, 2);
    assert_string_equal(sel->matchers[0].name, "app");
    assert_int_equal(sel->matchers[0].type, LK_MATCH_EQ);
    assert_int_equal(sel->matchers[1].type, LK_MATCH_RE);
    assert_true(matcher_matches(&sel->matchers[1], LK_STR("b")));
    assert_false(matcher_matches(&sel->matchers[1], LK_STR("ab")));
    assert_int_equal(sel->n_stages, 6);
    assert_false(logql_pipeline_is_filter_only(sel->stages, sel->n_stages));
    assert_true(logql_pipeline_is_filter_only(sel->stages, 2));

    const logql_line_filter *f = &sel->stages[0].u.line_filter;
    assert_int_equal(sel->stages[0].kind, LOGQL_STAGE_LINE_FILTER);
    assert_int_equal(f->type, LOGQL_LF_CONTAINS);
    assert_int_equal(f->n_alts, 2);
    assert_str(f->alts[0].value, "x");
    assert_str(f->alts[1].value, "y");
    f = &sel->stages[1].u.line_filter;
    assert_int_equal(f->type, LOGQL_LF_NOT_CONTAINS);
    assert_true(f->alts[0].ip);
    assert_str(f->alts[0].value, "10.0.0.0/8");

    const logql_stage *s = &sel->stages[2];
    assert_int_equal(s->kind, LOGQL_STAGE_LOGFMT);
    assert_true(s->u.logfmt.strict);
    assert_false(s->u.logfmt.keep_empty);
    assert_int_equal(s->u.logfmt.n_params, 1);
    assert_str(s->u.logfmt.params[0].label, "lat");
    assert_str(s->u.logfmt.params[0].expr, "latency");

    s = &sel->stages[3];
    assert_int_equal(s->kind, LOGQL_STAGE_LABEL_FILTER);
    const logql_label_filter *lf = s->u.label_filter;
    assert_int_equal(lf->kind, LOGQL_LBF_OR);
    assert_int_equal(lf->u.bin.left->kind, LOGQL_LBF_STRING);
    assert_str(lf->u.bin.left->name, "level");
    assert_true(matcher_matches(lf->u.bin.left->u.matcher, LK_STR("error")));
    assert_int_equal(lf->u.bin.right->kind, LOGQL_LBF_NUMBER);
    assert_int_equal(lf->u.bin.right->cmp, LOGQL_CMP_GE);
    assert_true(lf->u.bin.right->u.number == 500);

    s = &sel->stages[4];
    assert_int_equal(s->kind, LOGQL_STAGE_DROP);
    assert_int_equal(s->u.names.n, 2);
    assert_null(s->u.names.v[0].matcher);
    assert_str(s->u.names.v[0].name, "a");
    assert_non_null(s->u.names.v[1].matcher);
    assert_string_equal(s->u.names.v[1].matcher->value, "c");

    s = &sel->stages[5];
    assert_int_equal(s->kind, LOGQL_STAGE_LINE_FORMAT);
    assert_str(s->u.line_format, "{{.msg}}");
    logql_expr_free(e);
}

static void test_tree_label_filter_values(void **state)
{
    (void)state;
    logql_expr *e = parse_ok("{a=\"b\"} | d > 1.5h | d2 <= -100ms | s == 2KiB | s2 != 1.5MB"
                             " | ip = ip(\"::1\") | ip2 != ip(\"1.2.3.4\") | n < -2.5e3");
    const logql_stage *st = e->u.log.stages;
    assert_int_equal(e->u.log.n_stages, 7);
    assert_int_equal(st[0].u.label_filter->kind, LOGQL_LBF_DURATION);
    assert_int_equal(st[0].u.label_filter->cmp, LOGQL_CMP_GT);
    assert_int_equal(st[0].u.label_filter->u.duration_ns, INT64_C(5400) * 1000000000);
    assert_int_equal(st[1].u.label_filter->u.duration_ns, -INT64_C(100000000));
    assert_int_equal(st[1].u.label_filter->cmp, LOGQL_CMP_LE);
    assert_int_equal(st[2].u.label_filter->kind, LOGQL_LBF_BYTES);
    assert_int_equal(st[2].u.label_filter->cmp, LOGQL_CMP_EQ);
    assert_int_equal(st[2].u.label_filter->u.bytes, 2048);
    assert_int_equal(st[3].u.label_filter->u.bytes, 1500000);
    assert_int_equal(st[4].u.label_filter->kind, LOGQL_LBF_IP);
    assert_int_equal(st[4].u.label_filter->cmp, LOGQL_CMP_EQ);
    assert_str(st[4].u.label_filter->u.ip_pattern, "::1");
    assert_int_equal(st[5].u.label_filter->cmp, LOGQL_CMP_NE);
    assert_true(st[6].u.label_filter->u.number == -2500);
    logql_expr_free(e);
}

/* and binds tighter than or; a comma or juxtaposition next to `or` groups
 * to the right, as goyacc's shift preference decides in Loki */
static void test_tree_label_filter_precedence(void **state)
{
    (void)state;
    logql_expr *e = parse_ok("{a=\"b\"} | x=\"1\" y=\"2\" or z=\"3\"");
    const logql_label_filter *f = e->u.log.stages[0].u.label_filter;
    assert_int_equal(f->kind, LOGQL_LBF_AND);
    assert_str(f->u.bin.left->name, "x");
    assert_int_equal(f->u.bin.right->kind, LOGQL_LBF_OR);
    logql_expr_free(e);

    e = parse_ok("{a=\"b\"} | x=\"1\" and y=\"2\" or z=\"3\"");
    f = e->u.log.stages[0].u.label_filter;
    assert_int_equal(f->kind, LOGQL_LBF_OR);
    assert_int_equal(f->u.bin.left->kind, LOGQL_LBF_AND);
    assert_str(f->u.bin.right->name, "z");
    logql_expr_free(e);

    e = parse_ok("{a=\"b\"} | x=\"1\" or y=\"2\" or z=\"3\"");
    f = e->u.log.stages[0].u.label_filter;
    assert_int_equal(f->kind, LOGQL_LBF_OR);
    assert_int_equal(f->u.bin.left->kind, LOGQL_LBF_OR);
    assert_str(f->u.bin.right->name, "z");
    logql_expr_free(e);
}

static void test_tree_range_aggregation(void **state)
{
    (void)state;
    logql_expr *e = parse_ok("quantile_over_time(0.99, {app=\"api\"} | json"
                             " | unwrap duration(latency) | __error__=\"\" [5m] offset 1m) by (path)");
    assert_false(logql_expr_is_log(e));
    assert_int_equal(e->kind, LOGQL_EXPR_RANGE_AGG);
    const logql_range_agg *r = &e->u.range;
    assert_int_equal(r->op, LOGQL_RANGE_QUANTILE);
    assert_true(r->has_param);
    assert_true(r->param == 0.99);
    assert_int_equal(r->range_ns, INT64_C(300) * 1000000000);
    assert_int_equal(r->offset_ns, INT64_C(60) * 1000000000);
    assert_ptr_equal(logql_expr_selector(e), &r->sel);
    assert_int_equal(r->sel.n_stages, 1);
    assert_int_equal(r->sel.stages[0].kind, LOGQL_STAGE_JSON);
    assert_non_null(r->unwrap);
    assert_int_equal(r->unwrap->conv, LOGQL_CONV_DURATION);
    assert_str(r->unwrap->label, "latency");
    assert_int_equal(r->unwrap->n_post, 1);
    assert_true(r->grouping.present);
    assert_false(r->grouping.without);
    assert_int_equal(r->grouping.n_labels, 1);
    assert_str(r->grouping.labels[0], "path");
    logql_expr_free(e);

    /* the pipeline after the range belongs to the same selector */
    e = parse_ok("rate({app=\"api\"}[1m] |= \"x\" | unwrap bytes(b))");
    assert_int_equal(e->u.range.sel.n_stages, 1);
    assert_int_equal(e->u.range.unwrap->conv, LOGQL_CONV_BYTES);
    assert_int_equal(e->u.range.range_ns, INT64_C(60) * 1000000000);
    assert_false(e->u.range.grouping.present);
    logql_expr_free(e);
}

static void test_tree_vector_and_binop(void **state)
{
    (void)state;
    logql_expr *e = parse_ok("topk by (a) (5, sum(rate({x=\"y\"}[1m]))) / on (a) group_left (b)"
                             " sum(rate({x=\"y\"}[1m])) > bool 0.5");
    assert_int_equal(e->kind, LOGQL_EXPR_BINOP);
    assert_int_equal(e->u.binop.op, LOGQL_OP_GT);
    assert_true(e->u.binop.return_bool);
    assert_int_equal(e->u.binop.rhs->kind, LOGQL_EXPR_LITERAL);
    const logql_expr *div = e->u.binop.lhs;
    assert_int_equal(div->kind, LOGQL_EXPR_BINOP);
    assert_int_equal(div->u.binop.op, LOGQL_OP_DIV);
    assert_true(div->u.binop.matching);
    assert_true(div->u.binop.on);
    assert_int_equal(div->u.binop.card, LOGQL_CARD_MANY_TO_ONE);
    assert_int_equal(div->u.binop.n_match_labels, 1);
    assert_str(div->u.binop.match_labels[0], "a");
    assert_int_equal(div->u.binop.n_include, 1);
    assert_str(div->u.binop.include[0], "b");
    const logql_expr *topk = div->u.binop.lhs;
    assert_int_equal(topk->kind, LOGQL_EXPR_VECTOR_AGG);
    assert_int_equal(topk->u.vagg.op, LOGQL_VEC_TOPK);
    assert_true(topk->u.vagg.has_param);
    assert_int_equal(topk->u.vagg.param, 5);
    assert_true(topk->u.vagg.grouping.present);
    assert_int_equal(topk->u.vagg.inner->kind, LOGQL_EXPR_VECTOR_AGG);
    assert_null(logql_expr_selector(e));
    logql_expr_free(e);

    e = parse_ok("sum(rate({x=\"y\"}[1m])) or vector(0)");
    assert_int_equal(e->u.binop.op, LOGQL_OP_OR);
    assert_int_equal(e->u.binop.rhs->kind, LOGQL_EXPR_VECTOR);
    assert_true(e->u.binop.rhs->u.literal.value == 0);
    assert_int_equal(e->u.binop.card, LOGQL_CARD_ONE_TO_ONE);
    assert_false(e->u.binop.matching);
    logql_expr_free(e);
}

static void test_tree_literals(void **state)
{
    (void)state;
    static const struct {
        const char *q;
        double v;
    } cases[] = {
        { "1 + 2 * 3", 7 },     { "(1 + 2) * 3", 9 }, { "2 ^ 3 ^ 2", 512 }, { "-2 ^ 2", 4 },
        { "10 % 4", 2 },        { "1 - -1", 2 },      { "3 > 2", 1 },       { "3 < bool 2", 0 },
        { "1 == 1", 1 },        { "0x10p0", 16 },     { "1e3", 1000 },      { ".5 + 0.25", 0.75 },
        { "7 - 2 - 1", 4 },     { "8 / 2 / 2", 2 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        logql_expr *e = parse_ok(cases[i].q);
        assert_int_equal(e->kind, LOGQL_EXPR_LITERAL);
        if (e->u.literal.value != cases[i].v)
            fail_msg("%s = %g, want %g", cases[i].q, e->u.literal.value, cases[i].v);
        logql_expr_free(e);
    }
    logql_expr *e = parse_ok("1 / 0");
    assert_true(isnan(e->u.literal.value)); /* Loki divides by zero into NaN */
    logql_expr_free(e);
    e = parse_ok("5 % 0");
    assert_true(isnan(e->u.literal.value));
    logql_expr_free(e);
}

static void test_tree_label_replace(void **state)
{
    (void)state;
    logql_expr *e = parse_ok("label_replace(sum by (pod) (rate({a=\"b\"}[1m])), \"short\", \"$1\","
                             " \"pod\", \"(api)-.*\")");
    assert_int_equal(e->kind, LOGQL_EXPR_LABEL_REPLACE);
    const logql_label_replace *l = &e->u.label_replace;
    assert_str(l->dst, "short");
    assert_str(l->replacement, "$1");
    assert_str(l->src, "pod");
    assert_str(l->regex, "(api)-.*");
    assert_non_null(l->re);
    assert_null(l->re_error);
    assert_true(lk_regex_match(l->re, LK_STR("api-7d9f")));
    assert_false(lk_regex_match(l->re, LK_STR("xapi-7d9f"))); /* anchored */
    assert_int_equal(l->inner->kind, LOGQL_EXPR_VECTOR_AGG);
    logql_expr_free(e);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(logql_range_op_name(LOGQL_RANGE_BYTES_RATE), "bytes_rate");
    assert_string_equal(logql_vector_op_name(LOGQL_VEC_SORT_DESC), "sort_desc");
    assert_string_equal(logql_binop_name(LOGQL_OP_UNLESS), "unless");
    assert_true(logql_binop_is_logical(LOGQL_OP_AND));
    assert_false(logql_binop_is_logical(LOGQL_OP_ADD));
    assert_true(logql_binop_is_comparison(LOGQL_OP_LE));
    assert_false(logql_binop_is_comparison(LOGQL_OP_POW));
    assert_string_equal(logql_lf_op(LOGQL_LF_NOT_PATTERN), "!>");
    assert_true(logql_lf_negative(LOGQL_LF_NOT_REGEX));
    assert_false(logql_lf_negative(LOGQL_LF_PATTERN));
    assert_string_equal(logql_cmp_op(LOGQL_CMP_EQ), "==");
    /* freeing a non-root node does nothing; NULL is fine */
    logql_expr *e = parse_ok("sum(rate({a=\"b\"}[1m]))");
    logql_expr_free(e->u.vagg.inner);
    logql_expr_free(NULL);
    logql_expr_free(e);
}

static void test_tree_variants(void **state)
{
    (void)state;
    logql_expr *e = parse_ok("variants(count_over_time({a=\"b\"}[5m]), bytes_rate({a=\"b\"}[5m])) "
                             "of ({a=\"b\"} | json [5m] offset 1m)");
    assert_int_equal(e->kind, LOGQL_EXPR_VARIANTS);
    const logql_variants *v = &e->u.variants;
    assert_int_equal(v->n, 2);
    assert_int_equal(v->v[0]->kind, LOGQL_EXPR_RANGE_AGG);
    assert_int_equal(v->v[1]->u.range.op, LOGQL_RANGE_BYTES_RATE);
    assert_int_equal(v->of.sel.n_matchers, 1);
    assert_int_equal(v->of.sel.n_stages, 1);
    assert_int_equal(v->of.sel.stages[0].kind, LOGQL_STAGE_JSON);
    assert_true(v->of.range_ns == 5 * 60 * LK_NS_PER_SEC);
    assert_true(v->of.offset_ns == 60 * LK_NS_PER_SEC);
    assert_true(logql_expr_has_variants(e));
    assert_false(logql_expr_is_log(e));
    logql_expr_free(e);
    /* inside a binary operation, under an aggregation */
    e = parse_ok("sum(1 + variants(rate({a=\"b\"}[1m])) of ({a=\"b\"}[1m]))");
    assert_true(logql_expr_has_variants(e));
    logql_expr_free(e);
    e = parse_ok("sum(rate({a=\"b\"}[1m])) + 1");
    assert_false(logql_expr_has_variants(e));
    logql_expr_free(e);
}

/* ---- the conformance suite ----------------------------------------------------
 * Every query of queries.jsonl parses when Loki 2.9 answered 200 and fails
 * when it answered 400, except e.steps and e.order (valid queries with bad
 * step / time parameters). Skipped when the suite is not beside the tree. */

static char *conformance_path(const char *file)
{
    lk_buf rel = { 0 };
    lk_buf_printf(&rel, "../shared/conformance/%s", file);
    char *p = tst_source_path(rel.p);
    lk_buf_free(&rel);
    return p;
}

static json_t *load_golden(const char *path)
{
    gzFile f = gzopen(path, "rb");
    if (!f)
        return NULL;
    lk_buf b = { 0 };
    char chunk[65536];
    int n;
    while ((n = gzread(f, chunk, sizeof(chunk))) > 0)
        lk_buf_append(&b, chunk, (size_t)n);
    gzclose(f);
    json_t *j = json_loadb(b.p, b.len, 0, NULL);
    lk_buf_free(&b);
    return j;
}

static const char *query_param(json_t *params)
{
    if (json_is_object(params))
        return json_string_value(json_object_get(params, "query"));
    return NULL;
}

static void test_conformance_queries(void **state)
{
    (void)state;
    char *qpath = conformance_path("queries.jsonl");
    char *gpath = conformance_path("golden.json.gz");
    lk_buf lines = { 0 };
    json_t *golden = qpath && tst_read_file(qpath, &lines) ? load_golden(gpath) : NULL;
    free(qpath);
    free(gpath);
    if (!golden) {
        lk_buf_free(&lines);
        skip();
    }
    int cases = 0, queries = 0;
    for (size_t at = 0; at < lines.len;) {
        const char *nl = memchr(lines.p + at, '\n', lines.len - at);
        size_t len = nl ? (size_t)(nl - (lines.p + at)) : lines.len - at;
        json_t *c = json_loadb(lines.p + at, len, 0, NULL);
        at += len + 1;
        assert_non_null(c);
        const char *id = json_string_value(json_object_get(c, "id"));
        const char *q = query_param(json_object_get(c, "params"));
        json_t *g = json_object_get(golden, id);
        assert_non_null(g);
        int status = (int)json_integer_value(json_object_get(g, "http"));
        cases++;
        if (q) {
            queries++;
            logql_expr *e = NULL;
            lk_buf err = { 0 };
            int rc = logql_parse(lk_str_c(q), &e, &err);
            /* refused by the API after parsing: bad parameters, or a log
             * query at an instant (Loki 3) */
            bool api_error = !strcmp(id, "e.steps") || !strcmp(id, "e.order") ||
                             !strcmp(id, "i.log");
            if (status == 200 || api_error) {
                if (rc)
                    fail_msg("%s: %s: %s", id, q, err.p);
                if (!strcmp(id, "i.log"))
                    assert_true(logql_expr_is_log(e));
            } else {
                assert_int_equal(status, 400);
                if (rc != LK_EPARSE)
                    fail_msg("%s: %s parsed, Loki answered 400", id, q);
                assert_true(err.len > 0);
            }
            logql_expr_free(e);
            lk_buf_free(&err);
        }
        json_decref(c);
    }
    lk_buf_free(&lines);
    json_decref(golden);
    assert_int_equal(cases, 159);
    assert_true(queries > 140);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_input_size),
        cmocka_unit_test(test_unvalidated),
        cmocka_unit_test(test_tree_log_query),
        cmocka_unit_test(test_tree_label_filter_values),
        cmocka_unit_test(test_tree_label_filter_precedence),
        cmocka_unit_test(test_tree_range_aggregation),
        cmocka_unit_test(test_tree_vector_and_binop),
        cmocka_unit_test(test_tree_literals),
        cmocka_unit_test(test_tree_label_replace),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_tree_variants),
        cmocka_unit_test(test_conformance_queries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
