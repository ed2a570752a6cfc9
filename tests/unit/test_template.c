/* Tests for the Go text/template engine (query/template/template.h) used by
 * line_format and label_format. The table below was recorded from Go's
 * text/template with Loki's function map (sprig 3.2.3) and checks output or
 * the exact error message; the Go 1.22+ behaviours (range over an integer,
 * else-with, comparison errors naming types, call's callee name) follow
 * Go 1.24's sources. Further tests: referenced fields, the "label" name,
 * __line__/__timestamp__, output appending and rollback, limits, IANA zones,
 * concurrent execution. */
#include <pthread.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/err.h"
#include "lib/labels.h"
#include "query/template/template.h"

/* ---- label sets --------------------------------------------------------- */

enum { LS_BASIC, LS_NUM, LS_JSON, LS_NONE, LS_COUNT };

static const char *const label_sets[LS_COUNT][16] = {
    [LS_BASIC] = { "method=GET", "path=/api/v1/items/12345", "status=200", "level=info",
                   "user=alexander_the_great", "foo=blip", "bar=blop", "empty=", "n=42", "f=3.5",
                   "x=h\xc3\xa9llo w\xc3\xb6rld", NULL },
    [LS_NUM] = { "foo=1", "bar=3", "baz=10", "bazz=20", "f1=1.5", "f2=5", "f3=10.5", "f4=20.2",
                 "big=9223372036854775807", NULL },
    [LS_JSON] = { "j={\"a\":1,\"b\":[1,2,\"x\"],\"c\":{\"d\":null,\"e\":true},\"s\":\"str\"}",
                  "bad={oops", "arr=[3,1,2]", NULL },
    [LS_NONE] = { NULL },
};

typedef struct labelset {
    lk_label v[16];
    size_t n;
} labelset;

static void make_labels(int ls, labelset *out)
{
    out->n = 0;
    for (const char *const *p = label_sets[ls]; *p; p++) {
        const char *eq = strchr(*p, '=');
        out->v[out->n].name = lk_str_n(*p, (size_t)(eq - *p));
        out->v[out->n].value = lk_str_c(eq + 1);
        out->n++;
    }
    labels_sort(out->v, out->n);
}

#define TS_2022 INT64_C(1656353124120000000) /* 2022-06-27T18:05:24.12Z */

enum { T_OK, T_PARSE, T_EXEC };

typedef struct tcase {
    int ls;
    const char *tmpl;
    int kind;
    const char *want; /* output, or the whole error message */
} tcase;

static const tcase cases[] = {
    { LS_BASIC, "{{.method}} {{.path}} -> {{.status}}", T_OK, "GET /api/v1/items/12345 -> 200" },
    { LS_BASIC, "{{ .level | ToUpper }} {{ printf \"%5s\" .status }} {{ trunc 8 .user }}", T_OK, "INFO   200 alexande" },
    { LS_BASIC, "{{.user}}@{{.method}}", T_OK, "alexander_the_great@GET" },
    { LS_BASIC, "plain text", T_OK, "plain text" },
    { LS_BASIC, "", T_OK, "" },
    { LS_BASIC, "a{{/* comment */}}b", T_OK, "ab" },
    { LS_BASIC, "a {{- /* c */ -}} b", T_OK, "ab" },
    { LS_BASIC, "x  {{- .foo }}  {{- \" y\" -}}  z", T_OK, "xblip yz" },
    { LS_BASIC, "{{- .foo -}}", T_OK, "blip" },
    { LS_BASIC, "a\n  {{- .foo}}\n  b", T_OK, "ablip\n  b" },
    { LS_BASIC, "{{ .foo }}\n{{ .bar }}", T_OK, "blip\nblop" },
    { LS_BASIC, "{{\n.foo\n}}", T_OK, "blip" },
    { LS_BASIC, "{{.missing}}", T_OK, "" },
    { LS_BASIC, "[{{.empty}}]", T_OK, "[]" },
    { LS_BASIC, "{{.}}", T_OK, "map[bar:blop empty: f:3.5 foo:blip level:info method:GET n:42 path:/api/v1/items/12345 status:200 user:alexander_the_great x:h\xc3""\xa9""llo w\xc3""\xb6""rld]" },
    { LS_BASIC, "{{$}}", T_OK, "map[bar:blop empty: f:3.5 foo:blip level:info method:GET n:42 path:/api/v1/items/12345 status:200 user:alexander_the_great x:h\xc3""\xa9""llo w\xc3""\xb6""rld]" },
    { LS_BASIC, "{{$.foo}}", T_OK, "blip" },
    { LS_BASIC, "{{.x}}", T_OK, "h\xc3""\xa9""llo w\xc3""\xb6""rld" },
    { LS_BASIC, "{{ .foo.bar }}", T_EXEC, "template: line:1:7: executing \"line\" at <.foo.bar>: can't evaluate field bar in type string" },
    { LS_BASIC, "{{.foo Replace \"x\"}}", T_EXEC, "template: line:1:2: executing \"line\" at <.foo>: foo is not a method but has arguments" },
    { LS_BASIC, "{{ . | len }}", T_OK, "11" },
    { LS_BASIC, "{{ \"str\" }} {{ `raw\\n` }} {{ 'a' }} {{ '\\n' }} {{ 42 }} {{ -7 }} {{ 0x1F }} {{ 0o17 }} {{ 0b101 }} {{ 1_000 }} {{ 1.5 }} {{ 1e3 }} {{ .5 }} {{ true }} {{ false }}", T_OK, "str raw\\n 97 10 42 -7 31 15 5 1000 1.5 1000 0.5 true false" },
    { LS_BASIC, "{{ 1e21 }} {{ 1e20 }} {{ 123456.0 }} {{ 1234567.0 }} {{ 0.0001 }} {{ 0.00001 }} {{ -0.0 }} {{ 0x1p-2 }} {{ 2i }} {{ 1+2i }}", T_OK, "1e+21 1e+20 123456 1.234567e+06 0.0001 1e-05 -0 0.25 (0+2i) (1+2i)" },
    { LS_BASIC, "{{ nil }}", T_EXEC, "template: line:1:3: executing \"line\" at <nil>: nil is not a command" },
    { LS_BASIC, "{{ $x := .foo }}{{ $x }}-{{ $x = \"new\" }}{{ $x }}", T_OK, "blip-new" },
    { LS_BASIC, "{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}", T_OK, "2" },
    { LS_BASIC, "{{ $x := 1 }}{{ if true }}{{ $x := 2 }}{{ end }}{{ $x }}", T_OK, "1" },
    { LS_BASIC, "{{ with $x := .foo }}{{ $x }}{{ end }}", T_OK, "blip" },
    { LS_BASIC, "{{ if .foo }}yes{{ else }}no{{ end }}", T_OK, "yes" },
    { LS_BASIC, "{{ if .empty }}yes{{ else }}no{{ end }}", T_OK, "no" },
    { LS_BASIC, "{{ if .empty }}a{{ else if .missing }}b{{ else if .foo }}c{{ end }}", T_OK, "c" },
    { LS_BASIC, "{{ if and .foo (not .empty) }}ok{{ end }}", T_OK, "ok" },
    { LS_BASIC, "{{ with .foo }}[{{.}}]{{ end }}", T_OK, "[blip]" },
    { LS_BASIC, "{{ with .empty }}x{{ else }}none{{ end }}", T_OK, "none" },
    { LS_BASIC, "{{ with .missing }}{{ . }}{{ end }}|", T_OK, "|" },
    { LS_BASIC, "{{ range $k, $v := . }}{{$k}}={{$v}};{{ end }}", T_OK, "bar=blop;empty=;f=3.5;foo=blip;level=info;method=GET;n=42;path=/api/v1/items/12345;status=200;user=alexander_the_great;x=h\xc3""\xa9""llo w\xc3""\xb6""rld;" },
    { LS_BASIC, "{{ range . }}<{{ . }}>{{ end }}", T_OK, "<blop><><3.5><blip><info><GET><42></api/v1/items/12345><200><alexander_the_great><h\xc3""\xa9""llo w\xc3""\xb6""rld>" },
    { LS_BASIC, "{{ range $v := . }}{{ $v }}{{ break }}{{ end }}", T_OK, "blop" },
    { LS_BASIC, "{{ range $k, $v := . }}{{ if eq $k \"foo\" }}{{ continue }}{{ end }}{{ $k }} {{ end }}", T_OK, "bar empty f level method n path status user x " },
    { LS_BASIC, "{{ range .missing }}x{{ else }}empty{{ end }}", T_EXEC, "template: line:1:9: executing \"line\" at <.missing>: range can't iterate over " },
    { LS_BASIC, "{{ range .foo }}x{{ end }}", T_EXEC, "template: line:1:9: executing \"line\" at <.foo>: range can't iterate over blip" },
    { LS_BASIC, "{{ len .foo }} {{ len . }} {{ len \"\" }}", T_OK, "4 11 0" },
    { LS_BASIC, "{{ index . \"foo\" }}|{{ index . \"nope\" }}|{{ index .foo 0 }}", T_OK, "blip||98" },
    { LS_BASIC, "{{ slice .foo 1 3 }} {{ slice .foo 2 }} {{ slice .foo }}", T_OK, "li ip blip" },
    { LS_BASIC, "{{ not .foo }} {{ not .empty }} {{ and .foo .bar }} [{{ and .empty .bar }}] {{ or .empty .bar }} [{{ or .empty \"\" }}]", T_OK, "false true blop [] blop []" },
    { LS_BASIC, "{{ eq .foo \"blip\" }} {{ eq .foo \"x\" \"y\" \"blip\" }} {{ ne 1 2 }} {{ lt 1 2 }} {{ le 2 2 }} {{ gt \"b\" \"a\" }} {{ ge 1.5 2.5 }} {{ eq (index .foo 0) 98 }} {{ eq nil nil }}", T_OK, "true true true true true true false true true" },
    { LS_BASIC, "{{ print 1 2 \"a\" 3 \"b\" \"c\" 4 5 }}|{{ print .foo .bar }}|{{ print nil }}", T_OK, "1 2a3bc4 5|blipblop|<nil>" },
    { LS_BASIC, "{{ println 1 \"a\" }}", T_OK, "1 a\n" },
    { LS_BASIC, "{{ html \"<a href=\\\"x\\\">&'\" }}", T_OK, "&lt;a href=&#34;x&#34;&gt;&amp;&#39;" },
    { LS_BASIC, "{{ js \"a'b\\\"c<>&=\\\\\" }}", T_OK, "a\\'b\\\"c\\u003C\\u003E\\u0026\\u003D\\\\" },
    { LS_BASIC, "{{ urlquery \"a b&c=d/\xc3""\xa9""\" }}", T_OK, "a+b%26c%3Dd%2F%C3%A9" },
    { LS_BASIC, "{{ printf \"%d\" .n }}", T_OK, "%!d(string=42)" },
    { LS_BASIC, "{{ printf \"%s %d\" .foo }}", T_OK, "blip %!d(MISSING)" },
    { LS_BASIC, "{{ printf \"%s\" .foo .bar }}", T_OK, "blip%!(EXTRA string=blop)" },
    { LS_BASIC, "{{ printf \"%v|%q|%x|%X\" .foo .foo .foo .foo }}", T_OK, "blip|\"blip\"|626c6970|626C6970" },
    { LS_BASIC, "{{ printf \"%5s|%-5s|%05d|%.2f|%t|%%\" .foo .foo 42 3.14159 true }}", T_OK, " blip|blip |00042|3.14|true|%" },
    { LS_BASIC, "{{ printf \"%e %g %v %f %E %G\" 1e6 1e6 1e6 1e6 1e-10 1e-10 }}", T_OK, "1.000000e+06 1e+06 1e+06 1000000.000000 1.000000E-10 1E-10" },
    { LS_BASIC, "{{ printf \"%.20x|%.16X|%.14x\" 3.14159 -2.6 0.0 }}", T_OK,
      "0x1.921f9f01b866e0000000p+01|-0X1.4CCCCCCCCCCCD000P+01|0x0.00000000000000p+00" },
    { LS_BASIC, "{{ printf \"%x %X %o %O %b %c %U %#U %q %#x %+d % d\" 255 255 8 8 5 65 128512 128512 65 255 5 5 }}", T_OK, "ff FF 10 0o10 101 A U+1F600 U+1F600 '\xf0""\x9f""\x98""\x80""' 'A' 0xff +5  5" },
    { LS_BASIC, "{{ printf \"%08.3f|%-8.2e|%+.3g|%6.2f%%\" 3.14159 1234.5 0.000012345 99.5 }}", T_OK, "0003.142|1.23e+03|+1.23e-05| 99.50%" },
    { LS_BASIC, "{{ printf \"%[2]s %[1]s\" \"a\" \"b\" }}", T_OK, "b a" },
    { LS_BASIC, "{{ printf \"%*d|%-*d|%.*f\" 5 42 4 7 2 3.14159 }}", T_OK, "   42|7   |3.14" },
    { LS_BASIC, "{{ printf \"%\" }}", T_OK, "%!(NOVERB)" },
    { LS_BASIC, "{{ printf \"%z\" 1 }}", T_OK, "%!z(int=1)" },
    { LS_BASIC, "{{ printf \"%[3]d\" 1 }}", T_OK, "%!d(BADINDEX)" },
    { LS_BASIC, "{{ printf \"%d\" \"x\" }}", T_OK, "%!d(string=x)" },
    { LS_BASIC, "{{ printf \"%s\" nil }}|{{ printf \"%v\" nil }}|{{ printf \"%d\" true }}", T_OK, "%!s(<nil>)|<nil>|%!d(bool=true)" },
    { LS_BASIC, "{{ printf \"%T %T %T %T %T %T\" 1 1.5 \"x\" true . (add 1 2) }}", T_OK, "int float64 string bool map[string]string int64" },
    { LS_BASIC, "{{ printf \"%q\" \"a\\tb\\\"c\" }} {{ printf \"%+q\" \"\xc3""\xa9""\" }} {{ printf \"%#q\" \"ab\" }}", T_OK, "\"a\\tb\\\"c\" \"\\u00e9\" `ab`" },
    { LS_BASIC, "{{ printf \"%5.1s|%.3s|%-4q|\" \"abc\" \"\xe6""\x97""\xa5""\xe6""\x9c""\xac""\xe8""\xaa""\x9e""\xe3""\x83""\x86""\xe3""\x82""\xad""\xe3""\x82""\xb9""\xe3""\x83""\x88""\" \"x\" }}", T_OK, "    a|\xe6""\x97""\xa5""\xe6""\x9c""\xac""\xe8""\xaa""\x9e""|\"x\" |" },
    { LS_BASIC, "{{ printf \"%05s|%-05d|%x|%#v\" \"ab\" 42 -255 . }}", T_OK, "000ab|42   |-ff|map[string]string{\"bar\":\"blop\", \"empty\":\"\", \"f\":\"3.5\", \"foo\":\"blip\", \"level\":\"info\", \"method\":\"GET\", \"n\":\"42\", \"path\":\"/api/v1/items/12345\", \"status\":\"200\", \"user\":\"alexander_the_great\", \"x\":\"h\xc3""\xa9""llo w\xc3""\xb6""rld\"}" },
    { LS_BASIC, "{{ printf \"%#v %#v %#v\" 1.0 \"x\" 42 }}", T_OK, "1 \"x\" 42" },
    { LS_BASIC, "{{ .foo | printf \"%s-%s\" \"a\" }}", T_OK, "a-blip" },
    { LS_BASIC, "{{ \"x\" | printf }}", T_OK, "x" },
    { LS_BASIC, "{{ ToLower \"HeLLo\" }} {{ ToUpper \"h\xc3""\xa9""llo\" }} {{ Replace \"aaa\" \"a\" \"b\" 2 }} {{ Trim \"xxhixx\" \"x\" }} {{ TrimLeft \"xxhi\" \"x\" }} {{ TrimRight \"hixx\" \"x\" }} {{ TrimPrefix \"prefix-x\" \"prefix-\" }} {{ TrimSuffix \"x.go\" \".go\" }} [{{ TrimSpace \"  hi \\t\" }}]", T_OK, "hello H\xc3""\x89""LLO bba hi hi hi x x [hi]" },
    { LS_BASIC, "{{ regexReplaceAll \"(\\\\w+)@(\\\\w+)\" \"bob@example x@y\" \"${2}:$1\" }}", T_OK, "example:bob y:x" },
    { LS_BASIC, "{{ regexReplaceAll \"a(x*)b\" \"-ab-axxb-\" \"${1}W\" }}|{{ regexReplaceAll \"a(x*)b\" \"-ab-axxb-\" \"$1W\" }}", T_OK, "-W-xxW-|---" },
    { LS_BASIC, "{{ regexReplaceAll \"(?P<first>\\\\w+) (?P<last>\\\\w+)\" \"John Smith\" \"$last, $first $$\" }}", T_OK, "Smith, John $" },
    { LS_BASIC, "{{ regexReplaceAllLiteral \"(p)\" .foo \"${1}\" }}", T_OK, "bli${1}" },
    { LS_BASIC, "{{ regexReplaceAll \"x*\" \"abc\" \"-\" }}", T_OK, "-a-b-c-" },
    { LS_BASIC, "{{ regexReplaceAll \"(\\\\d+)\" .path \"N\" }}", T_OK, "/api/vN/items/N" },
    { LS_BASIC, "{{ $re := \"o+\" }}{{ regexReplaceAll $re \"foo boo\" \"0\" }}", T_OK, "f0 b0" },
    { LS_BASIC, "{{ regexReplaceAll \"(\" \"abc\" \"-\" }}", T_EXEC, "template: line:1:3: executing \"line\" at <regexReplaceAll \"(\" \"abc\" \"-\">: error calling regexReplaceAll: error parsing regexp: missing closing ): `(`" },
    { LS_BASIC, "{{ .foo | count \"b\" }} {{ count \"a|b|c\" \"abc abc abc\" }} {{ count \"\" \"abc\" }} {{ count \"x*\" \"xxaxx\" }} {{ __line__ | count \"t\" }}", T_OK, "1 9 4 2 2" },
    { LS_BASIC, "{{ urlencode \"/a b?c=d&e\" }} {{ urldecode \"a%20b+c%2F\" }}", T_OK, "%2Fa+b%3Fc%3Dd%26e a b c/" },
    { LS_BASIC, "{{ urldecode \"%zz\" }}", T_EXEC, "template: line:1:3: executing \"line\" at <urldecode \"%zz\">: error calling urldecode: invalid URL escape \"%zz\"" },
    { LS_BASIC, "{{ urldecode \"abc%4\" }}", T_EXEC, "template: line:1:3: executing \"line\" at <urldecode \"abc%4\">: error calling urldecode: invalid URL escape \"%4\"" },
    { LS_BASIC, "{{ bytes \"3 kB\" }} {{ bytes \"3MB\" }} {{ bytes \"1.5 GiB\" }} {{ bytes \"1,000\" }} {{ bytes \"10\" }} {{ bytes \"2Ki\" }}", T_OK, "3000 3e+06 1.610612736e+09 1000 10 2048" },
    { LS_BASIC, "{{ bytes \"abc\" }}", T_EXEC, "template: line:1:3: executing \"line\" at <bytes \"abc\">: error calling bytes: strconv.ParseFloat: parsing \"\": invalid syntax" },
    { LS_BASIC, "{{ bytes \"5 XB\" }}", T_EXEC, "template: line:1:3: executing \"line\" at <bytes \"5 XB\">: error calling bytes: unhandled size name: xb" },
    { LS_BASIC, "{{ duration \"3ms\" }} {{ duration \"3m10s\" }} {{ duration_seconds \"1h30m\" }} {{ duration \"-1.5h\" }} {{ duration \"0\" }} {{ duration \"1\xc2""\xb5""s\" }}", T_OK, "0.003 190 5400 -5400 0 1e-06" },
    { LS_BASIC, "{{ duration \"abc\" }}", T_EXEC, "template: line:1:3: executing \"line\" at <duration \"abc\">: error calling duration: time: invalid duration \"abc\"" },
    { LS_BASIC, "{{ duration \"5\" }}", T_EXEC, "template: line:1:3: executing \"line\" at <duration \"5\">: error calling duration: time: missing unit in duration \"5\"" },
    { LS_BASIC, "{{ duration \"5x\" }}", T_EXEC, "template: line:1:3: executing \"line\" at <duration \"5x\">: error calling duration: time: unknown unit \"x\" in duration \"5x\"" },
    { LS_BASIC, "{{ duration \"\" }}", T_EXEC, "template: line:1:3: executing \"line\" at <duration \"\">: error calling duration: time: invalid duration \"\"" },
    { LS_BASIC, "{{ alignLeft 4 .foo }}|{{ alignLeft 8 .foo }}|{{ alignRight 2 .foo }}|{{ alignRight 6 .foo }}|{{ alignLeft -1 .foo }}|{{ alignLeft 3 .x }}|{{ alignRight 3 .x }}", T_OK, "blip|blip    |ip|  blip|blip|h\xc3""\xa9""l|rld" },
    { LS_BASIC, "{{ __line__ }}", T_OK, "test line" },
    { LS_BASIC, "{{ __timestamp__ }}", T_OK, "2022-06-27 18:05:24.12 +0000 UTC" },
    { LS_BASIC, "{{ __timestamp__ | date \"2006-01-02\" }} {{ __timestamp__ | unixEpoch }} {{ __timestamp__ | unixEpochMillis }} {{ __timestamp__ | unixEpochNanos }}", T_OK, "2022-06-27 1656353124 1656353124120 1656353124120000000" },
    { LS_BASIC, "{{ __timestamp__ | date \"2006-01-02T15:04:05.000Z07:00 Mon Jan _2 3:04PM MST 06 1 2 __2 002 15 03 4 05 pm .999 ,000000 -0700 -07:00 -07 Z0700 Monday January\" }}", T_OK, "2022-06-27T18:05:24.120Z Mon Jun 27 6:05PM UTC 22 6 27 178 178 18 06 5 24 pm .12 ,120000 +0000 +00:00 +00 Z Monday June" },
    { LS_BASIC, "{{ .foo | toDateInZone \"2006-01-02T15:04:05.999999999Z\" \"UTC\" | unixEpochMillis }}", T_OK, "-62135596800000" },
    { LS_BASIC, "{{ toDateInZone \"2006-01-02T15:04:05.999999999Z\" \"UTC\" \"2023-03-10T01:32:40.340485723Z\" | unixEpochNanos }}", T_OK, "1678411960340485723" },
    { LS_BASIC, "{{ toDateInZone \"2006-01-02 15:04 -0700\" \"UTC\" \"2023-07-01 12:00 +0200\" }}", T_OK, "2023-07-01 12:00:00 +0200 +0200" },
    { LS_BASIC, "{{ toDateInZone \"2006-01-02 15:04 MST\" \"UTC\" \"2023-07-01 12:00 CET\" }}", T_OK, "2023-07-01 12:00:00 +0000 CET" },
    { LS_BASIC, "{{ toDateInZone \"2006-01-02\" \"Bad/Zone\" \"2023-07-01\" }}", T_OK, "2023-07-01 00:00:00 +0000 UTC" },
    { LS_BASIC, "{{ toDateInZone \"2006-01-02\" \"UTC\" \"junk\" }}", T_OK, "0001-01-01 00:00:00 +0000 UTC" },
    { LS_BASIC, "{{ unixToTime \"19503\" }}|{{ unixToTime \"1679577215\" }}|{{ unixToTime \"1257894000000\" }}|{{ unixToTime \"1673798889902000\" }}|{{ unixToTime \"1000000000000000000\" }}", T_OK, "2023-05-26 00:00:00 +0000 UTC|2023-03-23 13:13:35 +0000 UTC|2009-11-10 23:00:00 +0000 UTC|2023-01-15 16:08:09.902 +0000 UTC|2001-09-09 01:46:40 +0000 UTC" },
    { LS_BASIC, "{{ unixToTime \"abc\" }}", T_EXEC, "template: line:1:3: executing \"line\" at <unixToTime \"abc\">: error calling unixToTime: unable to parse time 'abc': strconv.ParseInt: parsing \"abc\": invalid syntax" },
    { LS_BASIC, "{{ unixToTime \"464\" }}", T_EXEC, "template: line:1:3: executing \"line\" at <unixToTime \"464\">: error calling unixToTime: unable to parse time '464': %!w(<nil>)" },
    { LS_BASIC, "{{ b64enc \"i'm a string, encode me!\" }} {{ b64dec \"aSdtIGEgc3RyaW5nLCBlbmNvZGUgbWUh\" }}", T_OK, "aSdtIGEgc3RyaW5nLCBlbmNvZGUgbWUh i'm a string, encode me!" },
    { LS_BASIC, "{{ b64dec \"abc\" }}|{{ b64dec \"a*bc\" }}|{{ b64dec \"YQ==\" }}|{{ b64dec \"YQ=\" }}|{{ b64dec \"YQ\\n==\" }}", T_OK, "illegal base64 data at input byte 0|illegal base64 data at input byte 1|a|illegal base64 data at input byte 3|a" },
    { LS_BASIC, "{{ lower \"ABC\" }} {{ upper \"abc\" }} {{ title \"hello world-foo_bar x.y\" }}", T_OK, "abc ABC Hello World-Foo_bar X.Y" },
    { LS_BASIC, "{{ trunc 3 .foo }} {{ trunc -2 .foo }} {{ trunc 10 .foo }} {{ trunc -10 .foo }} {{ trunc 8 .user }} {{ trunc 0 .foo }}", T_OK, "bli ip blip blip alexande " },
    { LS_BASIC, "{{ substr 1 3 .foo }} {{ substr -1 2 .foo }} {{ substr 1 -1 .foo }} {{ substr 0 10 .foo }} {{ .foo | substr 1 3 }}", T_OK, "li bl lip blip li" },
    { LS_BASIC, "{{ substr 5 2 .foo }}", T_EXEC, "template: line:1:3: executing \"line\" at <substr 5 2 .foo>: error calling substr: runtime error: slice bounds out of range [5:2]" },
    { LS_BASIC, "{{ substr -1 10 .foo }}", T_EXEC, "template: line:1:3: executing \"line\" at <substr -1 10 .foo>: error calling substr: runtime error: slice bounds out of range [:10] with length 4" },
    { LS_BASIC, "{{ substr 9 -1 .foo }}", T_EXEC, "template: line:1:3: executing \"line\" at <substr 9 -1 .foo>: error calling substr: runtime error: slice bounds out of range [9:4]" },
    { LS_BASIC, "{{ contains \"li\" .foo }} {{ hasPrefix \"bl\" .foo }} {{ hasSuffix \"ip\" .foo }} {{ if .foo | contains \"p\" }}yes{{ end }}", T_OK, "true true true yes" },
    { LS_BASIC, "{{ indent 2 \"a\\nb\" }}|{{ nindent 2 \"x\" }}", T_OK, "  a\n  b|\n  x" },
    { LS_BASIC, "{{ replace \"b\" \"B\" .foo }} {{ .bar | replace \"blop\" \"bar\" }} {{ repeat 3 \"ab\" }} {{ \"foo\" | repeat 2 }}", T_OK, "Blip bar ababab foofoo" },
    { LS_BASIC, "{{ repeat -1 \"x\" }}", T_EXEC, "template: line:1:3: executing \"line\" at <repeat -1 \"x\">: error calling repeat: strings: negative Repeat count" },
    { LS_BASIC, "{{ indent -1 \"x\" }}", T_EXEC, "template: line:1:3: executing \"line\" at <indent -1 \"x\">: error calling indent: strings: negative Repeat count" },
    { LS_BASIC, "[{{ trim \"  x  \" }}] {{ trimAll \"x\" \"xxaxx\" }} {{ trimSuffix \".go\" \"a.go\" }} {{ trimPrefix \"a\" \"abc\" }}", T_OK, "[x] a a bc" },
    { LS_BASIC, "{{ int \"42\" }} {{ int \"2.5\" }} {{ int \"2.0\" }} {{ int \"0x1f\" }} {{ int \"017\" }} {{ int \"abc\" }} {{ int 3.9 }} {{ int true }} {{ int nil }} {{ float64 \"2.5\" }} {{ float64 \"x\" }} {{ float64 3 }}", T_OK, "42 0 2 31 15 0 3 1 0 2.5 0 3" },
    { LS_BASIC, "{{ \"2.5\" | float64 | int | add 10 }}", T_OK, "12" },
    { LS_BASIC, "{{ add 1 2 3 }} {{ add }} {{ sub 5 7 }} {{ mul 2 3 4 }} {{ div 7 2 }} {{ div -7 2 }} {{ mod 7 3 }} {{ mod -7 3 }} {{ add \"1\" \"2.0\" }}", T_OK, "6 0 -2 24 3 -3 1 -1 3" },
    { LS_BASIC, "{{ div 1 0 }}", T_EXEC, "template: line:1:3: executing \"line\" at <div 1 0>: error calling div: runtime error: integer divide by zero" },
    { LS_BASIC, "{{ mod 1 0 }}", T_EXEC, "template: line:1:3: executing \"line\" at <mod 1 0>: error calling mod: runtime error: integer divide by zero" },
    { LS_BASIC, "{{ addf 0.1 0.2 }} {{ subf 1 0.9 }} {{ mulf 1.1 3 }} {{ divf 1 3 }} {{ divf 2 3 }} {{ addf }} {{ addf .f 1 }}", T_OK, "0.3 0.1 3.3 0.3333333333333333 0.6666666666666667 0 4.5" },
    { LS_BASIC, "{{ divf 1 0 }}", T_EXEC, "template: line:1:3: executing \"line\" at <divf 1 0>: error calling divf: decimal division by 0" },
    { LS_BASIC, "{{ addf \"NaN\" }}", T_EXEC, "template: line:1:3: executing \"line\" at <addf \"NaN\">: error calling addf: Cannot create a Decimal from NaN" },
    { LS_BASIC, "{{ max 1 5 3 }} {{ min 4 2 8 }} {{ maxf 1.5 2.5 }} {{ minf 1.5 -2.5 }} {{ ceil 1.2 }} {{ floor -1.2 }} {{ round 3.14159 2 }} {{ round 2.5 0 }} {{ round 1.25 1 0.4 }}", T_OK, "5 2 2.5 -2.5 2 -2 3.14 3 1.3" },
    { LS_BASIC, "{{ default \"x\" .empty }} {{ default \"x\" .foo }} {{ default \"x\" }} {{ default \"x\" 0 }} {{ default \"x\" nil }} {{ .missing | default \"d\" }}", T_OK, "x blip x x x d" },
    { LS_BASIC, "{{ date \"2006-01-02\" (toDate \"2006-01-02\" \"2021-11-02\") }} {{ unixEpoch (toDate \"2006-01-02\" \"2021-11-02\") }} {{ toDate \"2006\" \"x\" }}", T_OK, "2021-11-02 1635811200 0001-01-01 00:00:00 +0000 UTC" },
    { LS_BASIC, "{{ sub (unixEpoch (toDate \"2006-01-02\" \"2021-11-02\")) (unixEpoch (toDate \"2006-01-02\" \"2021-11-01\")) }}", T_OK, "86400" },
    { LS_BASIC, "{{ div (unixEpoch now) (unixEpoch now) }}", T_OK, "1" },
    { LS_BASIC, "{{ date \"2006\" 0 }}", T_OK, "1970" },
    { LS_BASIC, "{{ __timestamp__.Unix }} {{ __timestamp__.Year }} {{ __timestamp__.Month }} {{ __timestamp__.Weekday }} {{ (__timestamp__).Format \"Jan 2\" }} {{ __timestamp__.YearDay }}", T_OK, "1656353124 2022 June Monday Jun 27 178" },
    { LS_BASIC, "{{ trunc \"8\" .user }}", T_EXEC, "template: line:1:9: executing \"line\" at <\"8\">: expected integer; found \"8\"" },
    { LS_BASIC, "{{ trunc (add 1 2) .user }}", T_EXEC, "template: line:1:16: executing \"line\" at <2>: wrong type for value; expected int; got int64" },
    { LS_BASIC, "{{ ToUpper 5 }}", T_EXEC, "template: line:1:11: executing \"line\" at <5>: expected string; found 5" },
    { LS_BASIC, "{{ 5 | ToUpper }}", T_EXEC, "template: line:1:7: executing \"line\" at <ToUpper>: wrong type for value; expected string; got int" },
    { LS_BASIC, "{{ ToUpper nil }}", T_EXEC, "template: line:1:11: executing \"line\" at <nil>: cannot assign nil to string" },
    { LS_BASIC, "{{ ToUpper .missing }}", T_OK, "" },
    { LS_BASIC, "{{ unixEpoch 5 }}", T_EXEC, "template: line:1:13: executing \"line\" at <5>: can't handle 5 for arg of type time.Time" },
    { LS_BASIC, "{{ unixEpoch .foo }}", T_EXEC, "template: line:1:13: executing \"line\" at <.foo>: wrong type for value; expected time.Time; got string" },
    { LS_BASIC, "{{ round 1.5 \"x\" }}", T_EXEC, "template: line:1:13: executing \"line\" at <\"x\">: expected integer; found \"x\"" },
    { LS_BASIC, "{{.foo | now}}", T_EXEC, "template: line:1:9: executing \"line\" at <now>: wrong number of args for now: want 0 got 1" },
    { LS_BASIC, "{{replace \"test\" .foo}}", T_EXEC, "template: line:1:2: executing \"line\" at <replace>: wrong number of args for replace: want 3 got 2" },
    { LS_BASIC, "{{printf}}", T_EXEC, "template: line:1:2: executing \"line\" at <printf>: wrong number of args for printf: want at least 1 got 0" },
    { LS_BASIC, "{{ len 3 }}", T_EXEC, "template: line:1:3: executing \"line\" at <len 3>: error calling len: len of type int" },
    { LS_BASIC, "{{ index .foo 10 }}", T_EXEC, "template: line:1:3: executing \"line\" at <index .foo 10>: error calling index: index out of range: 10" },
    { LS_BASIC, "{{ index .foo 4 }}", T_EXEC, "template: line:1:3: executing \"line\" at <index .foo 4>: error calling index: reflect: string index out of range" },
    { LS_BASIC, "{{ index 1 1 }}", T_EXEC, "template: line:1:3: executing \"line\" at <index 1 1>: error calling index: can't index item of type int" },
    { LS_BASIC, "{{ slice .foo 3 1 }}", T_EXEC, "template: line:1:3: executing \"line\" at <slice .foo 3 1>: error calling slice: invalid slice index: 3 > 1" },
    { LS_BASIC, "{{ lt true false }}", T_EXEC, "template: line:1:3: executing \"line\" at <lt true false>: error calling lt: invalid type for comparison" },
    { LS_BASIC, "{{ eq 1 }}", T_EXEC, "template: line:1:3: executing \"line\" at <eq 1>: error calling eq: missing argument for comparison" },
    { LS_BASIC, "{{ .foo 1 }}", T_EXEC, "template: line:1:3: executing \"line\" at <.foo>: foo is not a method but has arguments" },
    { LS_BASIC, "{{ (.foo) 1 }}", T_EXEC, "template: line:1:3: executing \"line\" at <(.foo) 1>: can't give argument to non-function .foo" },
    { LS_BASIC, "{{ \"x\" 1 }}", T_EXEC, "template: line:1:3: executing \"line\" at <\"x\">: can't give argument to non-function \"x\"" },
    { LS_BASIC, "{{", T_PARSE, "template: line:1: unclosed action" },
    { LS_BASIC, "{{ .foo }", T_PARSE, "template: line:1: unexpected \"}\" in operand" },
    { LS_BASIC, "{{}}", T_PARSE, "template: line:1: missing value for command" },
    { LS_BASIC, "{{ nope }}", T_PARSE, "template: line:1: function \"nope\" not defined" },
    { LS_BASIC, "{{ $x }}", T_PARSE, "template: line:1: undefined variable \"$x\"" },
    { LS_BASIC, "{{ if .foo }}", T_PARSE, "template: line:1: unexpected EOF" },
    { LS_BASIC, "{{ end }}", T_PARSE, "template: line:1: unexpected {{end}}" },
    { LS_BASIC, "{{ else }}", T_PARSE, "template: line:1: unexpected {{else}}" },
    { LS_BASIC, "{{ .foo | \"x\" }}", T_PARSE, "template: line:1: non executable command in pipeline stage 2" },
    { LS_BASIC, "{{ break }}", T_PARSE, "template: line:1: {{break}} outside {{range}}" },
    { LS_BASIC, "{{ range . }}{{ break 1 }}{{ end }}", T_PARSE, "template: line:1: unexpected \"1\" in {{break}}" },
    { LS_BASIC, "{{ 1e }}", T_PARSE, "template: line:1: illegal number syntax: \"1e\"" },
    { LS_BASIC, "{{ 9223372036854775808 }}", T_EXEC, "template: line:1:3: executing \"line\" at <9223372036854775808>: 9223372036854775808 overflows int" },
    { LS_BASIC, "{{ \"abc }}", T_PARSE, "template: line:1: unterminated quoted string" },
    { LS_BASIC, "{{ 'ab' }}", T_PARSE, "template: line:1: malformed character constant: 'ab'" },
    { LS_BASIC, "{{ .foo # }}", T_PARSE, "template: line:1: unexpected \"#\" in operand" },
    { LS_BASIC, "{{ ( .foo }}", T_PARSE, "template: line:1: unclosed left paren" },
    { LS_BASIC, "{{ .foo ) }}", T_PARSE, "template: line:1: unexpected right paren" },
    { LS_BASIC, "{{ range $a, $b, $c := . }}{{ end }}", T_PARSE, "template: line:1: too many declarations in range" },
    { LS_BASIC, "{{ $a, $b := 1 }}", T_PARSE, "template: line:1: too many declarations in command" },
    { LS_BASIC, "{{/* x", T_PARSE, "template: line:1: unclosed comment" },
    { LS_BASIC, "{{ /* x */ }}", T_PARSE, "template: line:1: unexpected \"/\" in command" },
    { LS_BASIC, "l1\nl2\n{{ if .foo }}\n{{ nope }}", T_PARSE, "template: line:4: function \"nope\" not defined" },
    { LS_BASIC, "l1\n{{ .foo\n", T_PARSE, "template: line:3: unclosed action started at line:2" },
    { LS_BASIC, "{{ define \"x\" }}a{{ end }}{{ define \"x\" }}b{{ end }}", T_PARSE, "template: line:1: template: multiple definition of template \"x\"" },
    { LS_BASIC, "{{ 3.y }}", T_PARSE, "template: line:1: bad number syntax: \"3.y\"" },
    { LS_BASIC, "{{ template 5 }}", T_PARSE, "template: line:1: unexpected \"5\" in template clause" },
    { LS_BASIC, "{{ define \"T\" }}[{{.}}]{{ end }}{{ template \"T\" .foo }}{{ template \"T\" }}", T_OK, "[blip][<no value>]" },
    { LS_BASIC, "{{ template \"nope\" }}", T_EXEC, "template: line:1:12: executing \"line\" at <{{template \"nope\"}}>: template \"nope\" not defined" },
    { LS_BASIC, "{{ block \"B\" .bar }}<{{.}}>{{ end }}", T_OK, "<blop>" },
    { LS_BASIC, "{{ define \"line\" }}from define{{ end }}", T_OK, "from define" },
    { LS_NUM, "{{ add .foo 1 | sub .bar | mul .baz | div .bazz}}", T_OK, "2" },
    { LS_NUM, "{{ addf .f1 1.5 | subf .f2 1.5 | mulf .f3 | divf .f4 }}", T_OK, "3.8476190476190477" },
    { LS_NUM, "{{ round (addf .f1 1.5 | subf .bar | mulf .f3 | divf .f4) 5 .2}}", T_EXEC, "template: line:1:48: executing \"line\" at <divf .f4>: error calling divf: decimal division by 0" },
    { LS_NUM, "min is {{ min .foo .bar .baz }} and max is {{ max .foo .bar .baz }}", T_OK, "min is 1 and max is 10" },
    { LS_NUM, "{{ mod .bazz 3 }} {{ div .baz 3 }} {{ add .big 1 }} {{ mul .big 2 }}", T_OK, "2 3 -9223372036854775808 -2" },
    { LS_NUM, "{{ printf \"%5.2f|%08.3f|%+d\" (float64 .f1) (float64 .f3) (int .bar) }}", T_OK, " 1.50|0010.500|+3" },
    { LS_JSON, "{{ (fromJson .j).a }} {{ (fromJson .j).c.d }} {{ (fromJson .j).c.e }} {{ (fromJson .j).zz }} {{ (fromJson .j).s }}", T_OK, "1 <no value> true <no value> str" },
    { LS_JSON, "{{ fromJson .j }}", T_OK, "map[a:1 b:[1 2 x] c:map[d:<nil> e:true] s:str]" },
    { LS_JSON, "{{ printf \"%#v\" (fromJson .j) }}", T_OK, "map[string]interface {}{\"a\":1, \"b\":[]interface {}{1, 2, \"x\"}, \"c\":map[string]interface {}{\"d\":interface {}(nil), \"e\":true}, \"s\":\"str\"}" },
    { LS_JSON, "{{ fromJson .bad }}", T_OK, "<no value>" },
    { LS_JSON, "{{ range $i, $e := (fromJson .j).b }}{{$i}}:{{$e}} {{ end }}", T_OK, "0:1 1:2 2:x " },
    { LS_JSON, "{{ range $k, $v := fromJson .j }}{{ $k }} {{ end }}", T_OK, "a b c s " },
    { LS_JSON, "{{ index (fromJson .j) \"b\" 2 }} {{ index (fromJson .j) \"c\" \"e\" }} {{ len (fromJson .arr) }}", T_OK, "x true 3" },
    { LS_JSON, "{{ (fromJson .j).c.d.x }}", T_EXEC, "template: line:1:13: executing \"line\" at <.j>: nil pointer evaluating interface {}.x" },
    { LS_JSON, "{{ $m := fromJson .j }}{{ $m.c.d.x }}", T_EXEC, "template: line:1:28: executing \"line\" at <$m.c.d.x>: nil pointer evaluating interface {}.x" },
    { LS_JSON, "{{ (fromJson .j).b.x }}", T_EXEC, "template: line:1:13: executing \"line\" at <.j>: can't evaluate field x in type interface {}" },
    { LS_JSON, "{{ fromJson \"{\\\"a\\\":1,\\\"a\\\":2}\" }} {{ fromJson \"[1e999]\" }} {{ fromJson \"\\\"\\\\u00e9\\\\n\\\"\" }}", T_OK, "map[a:2] [<nil>] \xc3""\xa9""\n" },
    { LS_NONE, "{{ .anything }}", T_OK, "" },
    { LS_NONE, "{{ len . }}", T_OK, "0" },
    { LS_NONE, "{{ range . }}x{{ else }}none{{ end }}", T_OK, "none" },
    { LS_NONE, "{{ . }}", T_OK, "map[]" },
    { LS_NONE, "{{ count \"notmatching.*\" __line__ }}", T_OK, "0" },
    /* Go 1.22+ / 1.24 behaviour (not in the recorded Go) */
    { LS_BASIC, "{{ range 3 }}{{ . }}{{ end }}", T_OK, "012" },
    { LS_BASIC, "{{ range $i := 3 }}<{{ $i }}>{{ end }}", T_OK, "<0><1><2>" },
    { LS_BASIC, "{{ range 0 }}x{{ else }}none{{ end }}", T_OK, "none" },
    { LS_BASIC, "{{ range $i, $v := 3 }}{{ end }}", T_EXEC, "template: line:1:19: executing \"line\" at <3>: can't use 3 to iterate over more than one variable" },
    { LS_BASIC, "{{ eq 1 1.0 }}", T_EXEC, "template: line:1:3: executing \"line\" at <eq 1 1.0>: error calling eq: incompatible types for comparison: int and float64" },
    { LS_BASIC, "{{ lt 1 \"a\" }}", T_EXEC, "template: line:1:3: executing \"line\" at <lt 1 \"a\">: error calling lt: incompatible types for comparison: int and string" },
    { LS_BASIC, "{{ call .foo }}", T_EXEC, "template: line:1:3: executing \"line\" at <call .foo>: error calling call: non-function .foo of type string" },
    { LS_BASIC, "{{ call nil }}", T_EXEC, "template: line:1:3: executing \"line\" at <call nil>: error calling call: call of nil" },
    { LS_BASIC, "{{ call }}", T_EXEC, "template: line:1:3: executing \"line\" at <call>: wrong number of args for call: want at least 1 got 0" },
    { LS_BASIC, "{{ with .empty }}a{{ else with .bar }}{{.}}{{ end }}", T_OK, "blop" },
    { LS_BASIC, "{{ with .foo }}a{{ else with .bar }}b{{ end }}", T_OK, "a" },
    { LS_BASIC, "{{ printf \"%q\" -1 }}", T_OK, "'\xef\xbf\xbd'" },
};

/* Parses (as "line") and runs one template; returns the output or the
 * message in *res (caller frees), and the kind. */
static int run_one(const char *text, const char *name, int ls, lk_str line, int64_t ts, lk_buf *res)
{
    labelset l;
    make_labels(ls, &l);
    lk_buf err = { 0 }, out = { 0 };
    tmpl *t = NULL;
    int kind;
    if (tmpl_parse_named(lk_str_c(name), lk_str_c(text), &t, &err) != 0) {
        kind = T_PARSE;
        lk_buf_put_str(res, lk_buf_str(&err));
    } else {
        tmpl_data d = { l.v, l.n, line, ts };
        int rc = tmpl_exec(t, &d, &out, &err);
        if (rc == 0) {
            kind = T_OK;
            lk_buf_put_str(res, lk_buf_str(&out));
        } else {
            assert_int_equal(rc, LK_EINVAL);
            assert_int_equal(out.len, 0); /* nothing left behind */
            kind = T_EXEC;
            lk_buf_put_str(res, lk_buf_str(&err));
        }
        tmpl_free(t);
    }
    lk_buf_free(&err);
    lk_buf_free(&out);
    return kind;
}

static const char *kind_name(int k)
{
    return k == T_OK ? "output" : k == T_PARSE ? "parse error" : "exec error";
}

static void test_table(void **state)
{
    (void)state;
    int failed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const tcase *c = &cases[i];
        lk_buf res = { 0 };
        int kind = run_one(c->tmpl, "line", c->ls, LK_STR("test line"), TS_2022, &res);
        lk_str got = lk_buf_str(&res);
        if (kind != c->kind || !lk_str_eq_c(got, c->want)) {
            fprintf(stderr, "case %zu: %s\n  want %s: [%s]\n  got  %s: [%.*s]\n", i, c->tmpl,
                    kind_name(c->kind), c->want, kind_name(kind), LK_STR_FMT(got));
            failed++;
        }
        lk_buf_free(&res);
    }
    assert_int_equal(failed, 0);
}

/* The three templates of the conformance suite, spelled out. */
static void test_conformance_templates(void **state)
{
    (void)state;
    static const struct {
        const char *t, *want;
    } c[] = {
        { "{{.method}} {{.path}} -> {{.status}}", "GET /api/v1/items/12345 -> 200" },
        { "{{ .level | ToUpper }} {{ printf \"%5s\" .status }} {{ trunc 8 .user }}", "INFO   200 alexande" },
        { "{{.user}}@{{.method}}", "alexander_the_great@GET" },
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        lk_buf res = { 0 };
        assert_int_equal(run_one(c[i].t, "line", LS_BASIC, LK_STR(""), 0, &res), T_OK);
        assert_string_equal(res.p, c[i].want);
        lk_buf_free(&res);
    }
}

/* label_format templates are named "label" in Go's messages */
static void test_label_name(void **state)
{
    (void)state;
    lk_buf res = { 0 };
    assert_int_equal(run_one("{{replace \"test\" .foo}}", "label", LS_BASIC, LK_STR(""), 0, &res),
                     T_EXEC);
    assert_string_equal(res.p, "template: label:1:2: executing \"label\" at <replace>: wrong "
                               "number of args for replace: want 3 got 2");
    lk_buf_reset(&res);
    assert_int_equal(run_one("{{ .foo", "label", LS_BASIC, LK_STR(""), 0, &res), T_PARSE);
    assert_string_equal(res.p, "template: label:1: unclosed action");
    lk_buf_free(&res);
}

static void test_line_and_timestamp(void **state)
{
    (void)state;
    lk_buf res = { 0 };
    assert_int_equal(run_one("{{ __line__ }} bar {{ .bar }}", "line", LS_BASIC, LK_STR("1"), 0, &res),
                     T_OK);
    assert_string_equal(res.p, "1 bar blop");
    lk_buf_reset(&res);
    assert_int_equal(run_one("{{ __timestamp__ | date \"2006-01-02\" }} {{ __timestamp__ | unixEpoch }}",
                             "label", LS_NONE, LK_STR("x"), INT64_C(1661518453244672570), &res),
                     T_OK);
    assert_string_equal(res.p, "2022-08-26 1661518453");
    lk_buf_reset(&res);
    /* before 1970: floor division of the nanoseconds */
    assert_int_equal(run_one("{{ __timestamp__ }}", "line", LS_NONE, LK_STR(""), INT64_C(-1), &res), T_OK);
    assert_string_equal(res.p, "1969-12-31 23:59:59.999999999 +0000 UTC");
    lk_buf_reset(&res);
    assert_int_equal(run_one("{{ __timestamp__.UnixNano }}", "line", LS_NONE, LK_STR(""), INT64_C(-1), &res),
                     T_OK);
    assert_string_equal(res.p, "-1");
    lk_buf_free(&res);
}

static void check_fields(const char *text, const char *const *want)
{
    tmpl *t = NULL;
    lk_buf err = { 0 };
    assert_int_equal(tmpl_parse(lk_str_c(text), &t, &err), 0);
    size_t n;
    const lk_str *f = tmpl_fields(t, &n);
    size_t k = 0;
    while (want[k])
        k++;
    if (n != k)
        fail_msg("%s: %zu fields, want %zu", text, n, k);
    for (size_t i = 0; i < n; i++)
        assert_true(lk_str_eq_c(f[i], want[i]));
    tmpl_free(t);
    lk_buf_free(&err);
}

/* Loki's RequiredLabelNames cases and the node kinds it walks or skips */
static void test_fields(void **state)
{
    (void)state;
    check_fields("{{.foo}} and {{.bar}}", (const char *const[]){ "foo", "bar", NULL });
    check_fields("{{ .foo | ToUpper | .buzz }} and {{.bar}}",
                 (const char *const[]){ "foo", "buzz", "bar", NULL });
    check_fields("{{ regexReplaceAllLiteral \"(p)\" .foo \"${1}\" }}", (const char *const[]){ "foo", NULL });
    check_fields("{{ if  .foo | hasSuffix \"Ip\" }} {{.bar}} {{end}}-{{ if  .foo | hasSuffix \"pw\"}}no{{end}}",
                 (const char *const[]){ "foo", "bar", NULL });
    check_fields("{{with .foo}}{{printf \"%q\" .}} {{end}}", (const char *const[]){ "foo", NULL });
    check_fields("{{with .foo}}{{printf \"%q\" .}} {{else}} {{ .buzz | lower }} {{end}}",
                 (const char *const[]){ "foo", "buzz", NULL });
    check_fields("{{ .a.b }} {{ range .c }}{{ .d }}{{ else }}{{ .e }}{{ end }} {{ printf \"%s\" (.f) }}",
                 (const char *const[]){ "a", "b", "c", "d", "e", "f", NULL });
    check_fields("{{ (.x).y }} {{ $v := 1 }}{{ $v }} plain", (const char *const[]){ NULL });
    check_fields("{{ .foo }}{{ .foo }}", (const char *const[]){ "foo", NULL });
}

/* Output is appended; an error leaves the buffer as it was. */
static void test_append_and_rollback(void **state)
{
    (void)state;
    tmpl *t = NULL;
    lk_buf err = { 0 }, out = { 0 };
    assert_int_equal(tmpl_parse(LK_STR("[{{ .a }}]{{ if .b }}{{ div 1 0 }}{{ end }}"), &t, &err), 0);
    lk_label l1[] = { { LK_STR("a"), LK_STR("x") } };
    tmpl_data d1 = { l1, 1, LK_STR(""), 0 };
    lk_buf_puts(&out, "prefix:");
    assert_int_equal(tmpl_exec(t, &d1, &out, &err), 0);
    assert_string_equal(out.p, "prefix:[x]");
    lk_label l2[] = { { LK_STR("a"), LK_STR("y") }, { LK_STR("b"), LK_STR("1") } };
    tmpl_data d2 = { l2, 2, LK_STR(""), 0 };
    assert_int_equal(tmpl_exec(t, &d2, &out, &err), LK_EINVAL);
    assert_string_equal(out.p, "prefix:[x]");
    assert_string_equal(err.p, "template: line:1:24: executing \"line\" at <div 1 0>: error calling div: "
                               "runtime error: integer divide by zero");
    /* a NULL error buffer is allowed */
    assert_int_equal(tmpl_exec(t, &d2, &out, NULL), LK_EINVAL);
    assert_int_equal(tmpl_parse(LK_STR("{{"), &t, NULL), LK_EPARSE);
    tmpl_free(t);
    lk_buf_free(&err);
    lk_buf_free(&out);
}

static void expect_exec_error(const char *text, const char *needle)
{
    lk_buf res = { 0 };
    int k = run_one(text, "line", LS_BASIC, LK_STR(""), 0, &res);
    if (k != T_EXEC || !strstr(res.p ? res.p : "", needle))
        fail_msg("%s: got %s [%s], want an error with [%s]", text, kind_name(k), res.p, needle);
    lk_buf_free(&res);
}

static void expect_parse_error(const char *text, const char *needle)
{
    lk_buf res = { 0 };
    int k = run_one(text, "line", LS_BASIC, LK_STR(""), 0, &res);
    if (k != T_PARSE || !strstr(res.p ? res.p : "", needle))
        fail_msg("%s: got %s [%s], want a parse error with [%s]", text, kind_name(k), res.p, needle);
    lk_buf_free(&res);
}

/* Bounds that keep one execution finite (Go has none of these). */
static void test_limits(void **state)
{
    (void)state;
    expect_exec_error("{{ range 100000000 }}{{ end }}", "exceeded 4000000 steps");
    expect_exec_error("{{ range 3000 }}{{ range 3000 }}{{ end }}{{ end }}", "exceeded 4000000 steps");
    expect_exec_error("{{ repeat 2000000 \"x\" }}", "template output too large (limit 1048576 bytes)");
    expect_exec_error("{{ range 2000 }}{{ repeat 1000 \"x\" }}{{ end }}", "template output too large");
    expect_exec_error("{{ printf \"%1000000d\" 1 }}{{ printf \"%1000000d\" 1 }}", "template output too large");
    expect_exec_error("{{ alignLeft 2000000 \"x\" }}", "template output too large");
    /* the limit inside printf, past each formatter's temporaries (no leak) */
    static const char *const wide[] = {
        "{{ printf \"%2000000U\" 65 }}", "{{ printf \"%2000000c\" 65 }}",
        "{{ printf \"%2000000q\" 65 }}", "{{ printf \"%2000000q\" \"x\" }}",
        "{{ printf \"%2000000f\" 1.5 }}", "{{ printf \"%#.2000000g\" 1.5 }}",
        "{{ printf \"%2000000v\" __timestamp__ }}", "{{ printf \"%2000000d\" (fromJson \"[1,2]\") }}",
        "{{ printf \"%900000v\" (fromJson \"[1,2,3,4,5,6,7,8,9]\") }}",
        "{{ print (printf \"%900000s\" \"a\") (printf \"%900000s\" \"a\") }}",
    };
    for (size_t i = 0; i < sizeof wide / sizeof wide[0]; i++)
        expect_exec_error(wide[i], "template output too large");
    expect_exec_error("{{ define \"r\" }}{{ template \"r\" . }}{{ end }}{{ template \"r\" }}",
                      "exceeded maximum template depth (100)");
    /* deep nesting is rejected at parse time */
    char deep[2000];
    size_t k = 0;
    k += (size_t)snprintf(deep + k, sizeof deep - k, "{{ ");
    for (int i = 0; i < 300; i++)
        deep[k++] = '(';
    deep[k++] = '1';
    for (int i = 0; i < 300; i++)
        deep[k++] = ')';
    snprintf(deep + k, sizeof deep - k, " }}");
    expect_parse_error(deep, "max expression depth exceeded");
    lk_buf b = { 0 };
    for (int i = 0; i < 300; i++)
        lk_buf_puts(&b, "{{ if true }}");
    for (int i = 0; i < 300; i++)
        lk_buf_puts(&b, "{{ end }}");
    expect_parse_error(b.p, "max expression depth exceeded");
    lk_buf_free(&b);
}

/* IANA zones come from the system's zoneinfo when it is there. */
static void test_zones(void **state)
{
    (void)state;
    if (access("/usr/share/zoneinfo/Europe/Paris", R_OK) != 0) {
        skip();
        return;
    }
    static const struct {
        const char *t, *want;
    } c[] = {
        { "{{ toDateInZone \"2006-01-02 15:04\" \"Europe/Paris\" \"2023-07-01 12:00\" }}",
          "2023-07-01 12:00:00 +0200 CEST" },
        { "{{ toDateInZone \"2006-01-02 15:04\" \"Europe/Paris\" \"2023-01-01 12:00\" | unixEpoch }}",
          "1672570800" },
        /* in the spring gap and the autumn overlap, as Go's time.Date */
        { "{{ toDateInZone \"2006-01-02 15:04:05\" \"America/New_York\" \"2023-03-12 02:30:00\" }}",
          "2023-03-12 01:30:00 -0500 EST" },
        { "{{ toDateInZone \"2006-01-02 15:04:05\" \"America/New_York\" \"2023-11-05 01:30:00\" }}",
          "2023-11-05 01:30:00 -0400 EDT" },
        /* past the last transition: the POSIX rule of the file's footer */
        { "{{ toDateInZone \"2006-01-02 15:04:05\" \"America/New_York\" \"2090-07-05 01:30:00\" }}",
          "2090-07-05 01:30:00 -0400 EDT" },
        { "{{ toDateInZone \"2006-01-02 15:04:05\" \"Australia/Lord_Howe\" \"2023-03-10 01:32:40\" }}",
          "2023-03-10 01:32:40 +1100 +11" },
        /* an abbreviation known to the zone gives its offset */
        { "{{ toDateInZone \"Mon Jan _2 15:04:05 MST 2006\" \"Europe/Paris\" \"Fri Mar 10 01:32:40 CET 2023\" }}",
          "2023-03-10 01:32:40 +0100 CET" },
        /* unknown and invalid names are UTC */
        { "{{ toDateInZone \"2006-01-02\" \"No/Such_Zone\" \"2023-07-01\" }}", "2023-07-01 00:00:00 +0000 UTC" },
        { "{{ toDateInZone \"2006-01-02\" \"../etc/passwd\" \"2023-07-01\" }}", "2023-07-01 00:00:00 +0000 UTC" },
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        lk_buf res = { 0 };
        assert_int_equal(run_one(c[i].t, "line", LS_NONE, LK_STR(""), 0, &res), T_OK);
        if (strcmp(res.p, c[i].want) != 0)
            fail_msg("%s: got [%s] want [%s]", c[i].t, res.p, c[i].want);
        lk_buf_free(&res);
    }
}

/* One parsed template, many threads. */
typedef struct worker {
    const tmpl *t;
    int id;
    int bad;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    char val[32];
    bool zones = access("/usr/share/zoneinfo/Europe/Paris", R_OK) == 0;
    lk_buf out = { 0 }, err = { 0 }, want = { 0 };
    for (int i = 0; i < 3000; i++) {
        snprintf(val, sizeof val, "u%d-%d", w->id, i);
        lk_label l[] = { { LK_STR("j"), LK_STR("{\"k\":[1,2.5,\"z\"]}") }, { LK_STR("user"), lk_str_c(val) } };
        tmpl_data d = { l, 2, LK_STR("line"), TS_2022 + i };
        lk_buf_reset(&out);
        lk_buf_reset(&err);
        if (tmpl_exec(w->t, &d, &out, &err) != 0) {
            w->bad++;
            continue;
        }
        lk_buf_reset(&want);
        lk_buf_printf(&want, "%s|U%s|    u|2.5|1.65635312412e+09|2022-06-27|2020-01-01 00:00:00 %s", val,
                      val + 1, zones ? "+0100 CET" : "+0000 UTC");
        if (strcmp(out.p, want.p) != 0)
            w->bad++;
    }
    lk_buf_free(&out);
    lk_buf_free(&err);
    lk_buf_free(&want);
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    tmpl *t = NULL;
    lk_buf err = { 0 };
    assert_int_equal(tmpl_parse(LK_STR("{{ .user }}|{{ regexReplaceAll \"u(\\\\d+)\" .user \"U$1\" }}|"
                                       "{{ printf \"%5s\" (trunc 1 .user) }}|{{ index (fromJson .j).k 1 }}|"
                                       "{{ divf (unixEpochMillis __timestamp__) 1000 }}|"
                                       "{{ __timestamp__ | date \"2006-01-02\" }}|{{ toDateInZone \"2006\" \"Europe/Paris\" \"2020\" }}"),
                                &t, &err),
                     0);
    pthread_t th[8];
    worker w[8];
    for (int i = 0; i < 8; i++) {
        w[i] = (worker){ t, i, 0 };
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].bad, 0);
    }
    /* and the full output of one execution */
    lk_label l[] = { { LK_STR("j"), LK_STR("{\"k\":[1,2.5,\"z\"]}") }, { LK_STR("user"), LK_STR("u12") } };
    tmpl_data d = { l, 2, LK_STR("line"), TS_2022 };
    lk_buf out = { 0 };
    assert_int_equal(tmpl_exec(t, &d, &out, &err), 0);
    if (access("/usr/share/zoneinfo/Europe/Paris", R_OK) == 0)
        assert_string_equal(out.p, "u12|U12|    u|2.5|1.65635312412e+09|2022-06-27|2020-01-01 00:00:00 +0100 CET");
    lk_buf_free(&out);
    lk_buf_free(&err);
    tmpl_free(t);
}

/* Bytes that are not UTF-8 and NULs pass through; case mapping marks the
 * invalid bytes as Go's strings.Map does. */
static void test_binary_data(void **state)
{
    (void)state;
    tmpl *t = NULL;
    lk_buf err = { 0 }, out = { 0 };
    assert_int_equal(tmpl_parse(LK_STR("{{ .v }}|{{ ToUpper .v }}|{{ len .v }}|{{ printf \"%q\" .v }}"), &t, &err), 0);
    lk_label l[] = { { LK_STR("v"), lk_str_n("a\xff\0b\xc3\xa9", 6) } };
    tmpl_data d = { l, 1, LK_STR(""), 0 };
    assert_int_equal(tmpl_exec(t, &d, &out, &err), 0);
    const char want[] = "a\xff\0b\xc3\xa9|A\xef\xbf\xbd\0B\xc3\x89|6|\"a\\xff\\x00b\xc3\xa9\"";
    assert_int_equal(out.len, sizeof want - 1);
    assert_memory_equal(out.p, want, sizeof want - 1);
    lk_buf_free(&out);
    lk_buf_free(&err);
    tmpl_free(t);
    /* empty strings given as { NULL, 0 } (regression: clang's UBSan saw a
     * zero offset applied to a null pointer) */
    assert_int_equal(tmpl_parse(LK_STR("[{{ .v }}|{{ ToUpper .v }}|{{ __line__ }}|{{ trimPrefix .v .v }}|{{ range $k, $e := . }}{{ $k }}{{ $e }}{{ end }}|{{ printf \"%q\" . }}]"), &t, &err), 0);
    lk_label nl[] = { { LK_STR("v"), { NULL, 0 } } };
    tmpl_data dn = { nl, 1, { NULL, 0 }, 0 };
    assert_int_equal(tmpl_exec(t, &dn, &out, &err), 0);
    assert_string_equal(out.p, "[||||v|map[\"v\":\"\"]]");
    lk_buf_free(&out);
    tmpl_free(t);
    /* a template with a NUL byte in its text */
    assert_int_equal(tmpl_parse(lk_str_n("a\0{{ 1 }}", 9), &t, &err), 0);
    tmpl_data e = { NULL, 0, LK_STR(""), 0 };
    assert_int_equal(tmpl_exec(t, &e, &out, &err), 0);
    assert_int_equal(out.len, 3);
    assert_memory_equal(out.p, "a\0001", 3);
    lk_buf_free(&out);
    lk_buf_free(&err);
    tmpl_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_conformance_templates),
        cmocka_unit_test(test_label_name),
        cmocka_unit_test(test_line_and_timestamp),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_append_and_rollback),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_zones),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_binary_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
