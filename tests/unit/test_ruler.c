/* The ruler's pieces (query/ruler/): rule files (errors with the line and
 * LogQL's message), the alert life cycle on a fake clock, Prometheus
 * template expansion, the remote-write encoder decoded back with
 * protobuf-c, and the YAML the rules API writes read back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <snappy-c.h>

#include "lib/config.h"
#include "lib/err.h"
#include "lib/metrics.h"
#include "query/ruler/alert.h"
#include "query/ruler/expand.h"
#include "query/ruler/forstate.h"
#include "query/ruler/notifier.h"
#include "query/ruler/remote.h"
#include "query/ruler/remote.pb-c.h"
#include "query/ruler/rules.h"
#include "query/ruler/rwwal.h"
#include "tests/unit/testutil.h"

#define SEC INT64_C(1000000000)

static const char good[] =
    "groups:\n"
    "  - name: g1\n"
    "    interval: 30s\n"
    "    rules:\n"
    "      - alert: Errors\n"
    "        expr: sum(rate({app=\"a\"} |= \"error\" [1m])) > 1\n"
    "        for: 5m\n"
    "        keep_firing_for: 1m\n"
    "        labels: {severity: page}\n"
    "        annotations:\n"
    "          summary: \"{{ $value }}\"\n"
    "      - record: app:lines:rate1m\n"
    "        expr: sum by (app) (rate({app=\"a\"}[1m]))\n";

static void test_parse(void **state)
{
    (void)state;
    rul_file *f = NULL;
    lk_buf err = { 0 };
    assert_int_equal(rul_file_parse("f.yaml", lk_str_c(good), &f, &err), LK_OK);
    assert_int_equal(f->n_groups, 1);
    const rul_group *g = &f->groups[0];
    assert_int_equal(g->interval_ns, 30 * SEC);
    assert_int_equal(g->n_rules, 2);
    assert_true(lk_str_eq_c(g->rules[0].alert, "Errors"));
    assert_int_equal(g->rules[0].for_ns, 300 * SEC);
    assert_int_equal(g->rules[0].keep_firing_for_ns, 60 * SEC);
    assert_true(lk_str_eq_c(g->rules[0].labels[0].value, "page"));
    assert_true(lk_str_eq_c(g->rules[1].record, "app:lines:rate1m"));
    assert_int_equal(g->rules[1].line, 12);

    /* the YAML the API writes parses back to the same group */
    lk_buf y = { 0 };
    lk_buf_puts(&y, "groups:\n");
    rul_group_yaml(g, 2, true, &y);
    rul_file *back = NULL;
    assert_int_equal(rul_file_parse("back", lk_buf_str(&y), &back, &err), LK_OK);
    assert_true(lk_str_eq(back->groups[0].rules[0].expr, g->rules[0].expr));
    assert_true(lk_str_eq(back->groups[0].rules[0].annotations[0].value,
                          g->rules[0].annotations[0].value));
    assert_int_equal(back->groups[0].rules[0].for_ns, 300 * SEC);
    rul_file_free(back);
    lk_buf_free(&y);
    rul_file_free(f);
}

static void expect_error(const char *text, const char *want)
{
    rul_file *f = NULL;
    lk_buf err = { 0 };
    int rc = rul_file_parse("r.yaml", lk_str_c(text), &f, &err);
    assert_int_not_equal(rc, LK_OK);
    if (!strstr(err.p ? err.p : "", want))
        fail_msg("error \"%s\" lacks \"%s\"", err.p, want);
    lk_buf_free(&err);
}

static void test_parse_errors(void **state)
{
    (void)state;
    /* the rule's line and LogQL's own message */
    expect_error("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: sum(rate({a=\"b\"}[1m]) >\n",
                 "r.yaml:4:9: group \"g\", rule 1, \"A\": could not parse expression: parse error");
    expect_error("groups:\n  - name: g\n    rules:\n      - record: r\n        expr: '{a=\"b\"}'\n",
                 "r.yaml:4:9: group \"g\", rule 1, \"r\": could not parse expression: invalid rule: "
                 "log queries are not supported");
    expect_error("groups:\n  - name: g\n    rules:\n      - expr: vector(1)\n",
                 "one of 'record' or 'alert' must be set");
    expect_error("groups:\n  - name: g\n    rules:\n      - record: 1bad\n        expr: vector(1)\n",
                 "invalid recording rule name");
    expect_error("groups:\n  - name: g\n  - name: g\n", "r.yaml:3:5: groupname: \"g\" is repeated");
    expect_error("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: vector(1)\n"
                 "        for: soon\n", "r.yaml:6:14: for: expected a duration");
    expect_error("groups:\n  - name: g\n    rules: [\n", "r.yaml:4:");
    /* regression: a rule name was used as a printf format (fuzz_rules found
     * "%s" and "%n" in a name crash the error path) */
    expect_error("groups:\n  - name: g\n    rules:\n      - alert: \"A%s%n%s\"\n        expr: sum(\n",
                 "rule 1, \"A%s%n%s\": could not parse expression");
    /* regression: groups given twice leaked the first list's queries */
    expect_error("groups: []\ngroups: []\n", "r.yaml:2:1: mapping key \"groups\" already defined");
    expect_error("groups:\n  - name: g\n    interval: 1.5ms\n", "interval: expected a duration");
}

static rul_active active(const char *labels, double v)
{
    rul_active a = { .value = v };
    assert_int_equal(labels_parse(lk_str_c(labels), &a.labels, NULL), LK_OK);
    assert_int_equal(labels_parse(LK_STR("{}"), &a.annotations, NULL), LK_OK);
    return a;
}

/* pending -> firing after `for`, resent after the resend delay, kept
 * firing for keep_firing_for, then resolved, sent once as resolved and
 * forgotten after 15 minutes; a pending alert that goes away is dropped. */
static void test_alert_life_cycle(void **state)
{
    (void)state;
    rul_alerts as = { 0 };
    int64_t t = 1000 * SEC, forns = 60 * SEC, keep = 30 * SEC, resend = 60 * SEC;
    rul_active in[2];
    in[0] = active("{a=\"1\"}", 5);
    rul_alerts_update(&as, in, 1, t, forns, keep);
    assert_int_equal(as.n, 1);
    assert_int_equal(as.v[0].state, RUL_PENDING);
    assert_false(rul_alert_needs_sending(&as.v[0], t, resend));
    t += 30 * SEC;
    in[0] = active("{a=\"1\"}", 6);
    in[1] = active("{a=\"2\"}", 1);
    rul_alerts_update(&as, in, 2, t, forns, keep);
    assert_int_equal(as.n, 2);
    assert_int_equal(as.v[0].state, RUL_PENDING);
    t += 30 * SEC;
    in[0] = active("{a=\"1\"}", 7);
    rul_alerts_update(&as, in, 1, t, forns, keep); /* a=2 was pending: dropped */
    assert_int_equal(as.n, 1);
    assert_int_equal(as.v[0].state, RUL_FIRING);
    assert_int_equal(as.v[0].fired_at, t);
    assert_true(as.v[0].value == 7);
    assert_true(rul_alert_needs_sending(&as.v[0], t, resend));
    as.v[0].last_sent_at = t;
    assert_false(rul_alert_needs_sending(&as.v[0], t + 30 * SEC, resend));
    assert_true(rul_alert_needs_sending(&as.v[0], t + 61 * SEC, resend));
    int64_t seen = t;
    t += 20 * SEC;
    rul_alerts_update(&as, NULL, 0, t, forns, keep); /* kept firing */
    assert_int_equal(as.v[0].state, RUL_FIRING);
    assert_int_equal(as.v[0].keep_firing_since, t);
    t = seen + 30 * SEC;
    rul_alerts_update(&as, NULL, 0, t, forns, keep);
    assert_int_equal(as.v[0].state, RUL_INACTIVE);
    assert_int_equal(as.v[0].resolved_at, t);
    assert_true(rul_alert_needs_sending(&as.v[0], t, resend));
    as.v[0].last_sent_at = t;
    t += 15 * 60 * SEC + 1;
    rul_alerts_update(&as, NULL, 0, t, forns, keep);
    assert_int_equal(as.n, 0);
    /* with for: 0 an alert fires on its first evaluation */
    in[0] = active("{a=\"3\"}", 1);
    rul_alerts_update(&as, in, 1, t, 0, 0);
    assert_int_equal(as.v[0].state, RUL_FIRING);
    rul_alerts_free(&as);
}

static void expand_is(const char *text, double v, const char *want)
{
    lk_labels l;
    assert_int_equal(labels_parse(LK_STR("{app=\"web\", instance=\"h.example.com:9100\"}"), &l,
                                  NULL), LK_OK);
    lk_label ext[] = { { LK_STR("cluster"), LK_STR("c1") } };
    rul_tmpl_ctx c = { .labels = &l, .value = v, .external = ext, .n_external = 1,
                       .external_url = "http://lokic", .ts = INT64_C(1700000000500000000) };
    lk_buf out = { 0 };
    rul_expand("t", lk_str_c(text), &c, &out);
    assert_string_equal(out.p ? out.p : "", want);
    lk_buf_free(&out);
    labels_free(&l);
}

static void test_expand(void **state)
{
    (void)state;
    expand_is("{{ $labels.app }} at {{ $value }}", 2.5, "web at 2.5");
    expand_is("{{ $value }}", 3, "3");
    expand_is("{{ humanize $value }}", 1234567, "1.235M");
    expand_is("{{ humanize $value }}", 0.001234, "1.234m");
    expand_is("{{ humanize1024 $value }}", 2048, "2ki");
    expand_is("{{ humanizeDuration $value }}", 90061, "1d 1h 1m 1s");
    expand_is("{{ humanizeDuration $value }}", 0.25, "250ms");
    expand_is("{{ humanizePercentage $value }}", 0.5, "50%");
    expand_is("{{ $externalLabels.cluster }} {{ $externalURL }}", 0, "c1 http://lokic");
    expand_is("{{ stripPort $labels.instance }} {{ toUpper $labels.app }}", 0,
              "h.example.com WEB");
    expand_is("{{ stripDomain $labels.instance }}", 0, "h:9100");
    expand_is("{{ nope }}", 0,
              "<error expanding template: template: t:1: function \"nope\" not defined>");
}

/* Prometheus' data as dot: .Labels, .ExternalLabels, .ExternalURL, .Value;
 * a missing label is "" as in Prometheus' map[string]string (it printed
 * "<no value>" while $labels was a fromJson map). */
static void test_expand_data(void **state)
{
    (void)state;
    expand_is("{{ .Labels.app }} {{ .Value }} {{ .ExternalLabels.cluster }} {{ .ExternalURL }}",
              1.5, "web 1.5 c1 http://lokic");
    expand_is("[{{ $labels.nope }}][{{ .Labels.nope }}][{{ index $labels \"nope\" }}]", 0,
              "[][][]");
    expand_is("{{ range $k, $v := .Labels }}{{ $k }}={{ $v }};{{ end }}", 0,
              "app=web;instance=h.example.com:9100;");
    expand_is("{{ .Nope }}", 0,
              "<error expanding template: template: t:1:115: executing \"t\" at <.Nope>: "
              "can't evaluate field Nope in type struct>");
}

/* The functions of prometheus/template/template.go beyond humanize. */
static void test_expand_funcs(void **state)
{
    (void)state;
    expand_is("{{ humanizeTimestamp 1435065584.128 }}", 0, "2015-06-23 13:19:44.128 +0000 UTC");
    expand_is("{{ humanizeTimestamp $value }}", 1e300,
              "<error expanding template: template: t:1:115: executing \"t\" at "
              "<humanizeTimestamp $value>: error calling humanizeTimestamp: 1e+300 cannot be "
              "represented as a nanoseconds timestamp since it overflows int64>");
    expand_is("{{ (toTime 1435065584.128).Unix }}", 0, "1435065584");
    expand_is("{{ parseDuration \"1h2m\" }}", 0, "3720");
    expand_is("{{ reReplaceAll \"(a)b\" \"x$1\" \"abab\" }}", 0, "xaxa");
    expand_is("{{ if match \"^w.b$\" $labels.app }}yes{{ end }}", 0, "yes");
    expand_is("{{ with args 1 \"x\" }}{{ .arg0 }} {{ .arg1 }}{{ end }}", 0, "1 x");
    expand_is("{{ title \"hello world\" }} {{ toLower \"AbC\" }}", 0, "Hello World abc");
    expand_is("{{ safeHtml \"<b>\" }}", 0, "<b>");
    expand_is("{{ externalURL }}|{{ pathPrefix }}", 0, "http://lokic|");
    expand_is("{{ graphLink \"up == 0\" }}", 0, "/graph?g0.expr=up+%3D%3D+0&g0.tab=0");
    expand_is("{{ tableLink \"up\" }}", 0, "/graph?g0.expr=up&g0.tab=1");
    expand_is("{{ now }}", 0, "1.7000000005e+09"); /* Go prints float64 with %v */
}

/* A fake engine: two samples, b before a, whatever the query. */
static int fake_query(void *ctx, lk_str q, lk_arena *a, tmpl_sample **out, size_t *n,
                      lk_buf *err)
{
    (void)ctx;
    if (lk_str_eq_c(q, "bad")) {
        lk_buf_puts(err, "parse error at line 1");
        return LK_EPARSE;
    }
    tmpl_sample *s = lk_arena_alloc(a, 2 * sizeof *s);
    const char *names[] = { "b", "a" };
    for (int i = 0; i < 2; i++) {
        s[i].labels = lk_arena_alloc(a, 2 * sizeof(lk_label));
        s[i].labels[0] = (lk_label){ LK_STR("__value__"), LK_STR("sv") };
        s[i].labels[1] = (lk_label){ LK_STR("job"), lk_str_c(names[i]) };
        s[i].n_labels = 2;
        s[i].value = i + 1;
    }
    *out = s;
    *n = 2;
    return LK_OK;
}

static void query_is(const char *text, const char *want)
{
    lk_labels l = { 0 };
    rul_tmpl_ctx c = { .labels = &l, .query = fake_query };
    lk_buf out = { 0 };
    rul_expand("t", lk_str_c(text), &c, &out);
    assert_string_equal(out.p ? out.p : "", want);
    lk_buf_free(&out);
}

static void test_expand_query(void **state)
{
    (void)state;
    query_is("{{ with query \"q\" }}{{ . | first | value }}{{ end }}", "1");
    query_is("{{ range query \"q\" }}{{ .Labels.job }}={{ .Value }} {{ end }}", "b=1 a=2 ");
    query_is("{{ range sortByLabel \"job\" (query \"q\") }}{{ label \"job\" . }} {{ end }}",
             "a b ");
    query_is("{{ query \"q\" | first | strvalue }}", "sv");
    query_is("{{ query \"bad\" }}",
             "<error expanding template: template: t:1:115: executing \"t\" at <query \"bad\">: "
             "error calling query: parse error at line 1>");
    query_is("{{ first \"x\" }}",
             "<error expanding template: template: t:1:115: executing \"t\" at <first \"x\">: "
             "error calling first: wrong type for value; expected template.queryResult; got "
             "string>");
}

typedef struct seen {
    int n;
    uint64_t seq[8];
    char tenant[8][16];
    uint32_t samples[8];
    char body[8][16];
} seen;

static void see(void *ctx, uint64_t seq, const char *tenant, uint32_t n, lk_str body)
{
    seen *s = ctx;
    assert_true(s->n < 8);
    s->seq[s->n] = seq;
    snprintf(s->tenant[s->n], sizeof s->tenant[0], "%s", tenant);
    s->samples[s->n] = n;
    snprintf(s->body[s->n], sizeof s->body[0], "%.*s", LK_STR_FMT(body));
    s->n++;
}

/* The queue's files: replayed in order, a removed batch gone, a corrupted
 * one skipped and removed, numbering going on after the last. */
static void test_rwwal(void **state)
{
    (void)state;
    char *dir = tst_tmpdir("rwwal");
    rul_rwwal *w = NULL;
    assert_int_equal(rul_rwwal_open(dir, &w, NULL), LK_OK);
    uint64_t seq[4];
    assert_int_equal(rul_rwwal_append(w, "t1", 3, LK_STR("one"), &seq[0]), LK_OK);
    assert_int_equal(rul_rwwal_append(w, "t2", 1, LK_STR("two"), &seq[1]), LK_OK);
    assert_int_equal(rul_rwwal_append(w, "t1", 2, LK_STR("three"), &seq[2]), LK_OK);
    assert_int_equal(rul_rwwal_append(w, "t3", 5, LK_STR("four"), &seq[3]), LK_OK);
    rul_rwwal_remove(w, seq[1]);
    rul_rwwal_close(w);
    char path[512];
    snprintf(path, sizeof path, "%s/%016llx.rwb", dir, (unsigned long long)seq[2]);
    tst_flip_byte(path, 26, 0x01); /* a byte of the body */

    seen s = { 0 };
    assert_int_equal(rul_rwwal_open(dir, &w, NULL), LK_OK);
    assert_int_equal(rul_rwwal_replay(w, see, &s), 2);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.seq[0], seq[0]);
    assert_string_equal(s.tenant[0], "t1");
    assert_int_equal(s.samples[0], 3);
    assert_string_equal(s.body[0], "one");
    assert_string_equal(s.tenant[1], "t3");
    assert_string_equal(s.body[1], "four");
    assert_false(tst_exists(path));
    uint64_t next;
    assert_int_equal(rul_rwwal_append(w, "t1", 1, LK_STR("five"), &next), LK_OK);
    assert_true(next > seq[3]);
    rul_rwwal_close(w);
    tst_rmtree(dir);
}

/* Samples the remote end never took are still on disk after the queue
 * stops, and queued again at the next start. */
static void test_remote_write_survives_restart(void **state)
{
    (void)state;
    char *dir = tst_tmpdir("rwq");
    lk_config cfg;
    config_defaults(&cfg);
    cfg.ruler_remote_write_enabled = true;
    free(cfg.ruler_rw_url);
    cfg.ruler_rw_url = strdup("http://127.0.0.1:1/api/v1/write"); /* nothing listens */
    free(cfg.ruler_wal_dir);
    cfg.ruler_wal_dir = strdup(dir);
    rul_rw *rw = NULL;
    assert_int_equal(rul_rw_create(&cfg, &rw, NULL), LK_OK);
    rul_sample smp = { .value = 1, .ts_ms = 1000 };
    assert_int_equal(labels_parse(LK_STR("{__name__=\"r\"}"), &smp.labels, NULL), LK_OK);
    rul_rw_push(rw, LK_STR("t1"), &smp, 1);
    rul_rw_destroy(rw, 0);

    rul_rwwal *w = NULL;
    seen s = { 0 };
    assert_int_equal(rul_rwwal_open(dir, &w, NULL), LK_OK);
    assert_int_equal(rul_rwwal_replay(w, see, &s), 1);
    rul_rwwal_close(w);
    assert_string_equal(s.tenant[0], "t1");
    assert_int_equal(s.samples[0], 1);

    assert_int_equal(rul_rw_create(&cfg, &rw, NULL), LK_OK); /* queued again, not sent */
    rul_rw_destroy(rw, 0);
    memset(&s, 0, sizeof s);
    assert_int_equal(rul_rwwal_open(dir, &w, NULL), LK_OK);
    assert_int_equal(rul_rwwal_replay(w, see, &s), 1);
    rul_rwwal_close(w);

    labels_free(&smp.labels);
    config_free(&cfg);
    tst_rmtree(dir);
}

/* One pending alert (as after the first evaluation since a start, at ts)
 * restored from a record saying it became active at active_s and was last
 * evaluated at down_s; returns its active time in seconds. */
static int64_t restored(int64_t active_s, int64_t down_s, int64_t ts_s, int64_t for_s,
                        int64_t grace_s)
{
    rul_alerts as = { 0 };
    rul_active in = { 0 };
    assert_int_equal(labels_parse(LK_STR("{alertname=\"A\", app=\"web\"}"), &in.labels, NULL),
                     LK_OK);
    rul_alerts_update(&as, &in, 1, ts_s * SEC, for_s * SEC, 0);
    rul_fstate s = { 0 };
    lk_buf key = { 0 };
    rul_fstate_key("t1", LK_STR("ns;g"), &as.v[0].labels, &key);
    rul_fstate_add(&s, lk_buf_str(&key), active_s, down_s * 1000 + 999);
    rul_fstate_restore(&s, "t1", LK_STR("ns;g"), &as, for_s * SEC, ts_s * SEC, 3600 * SEC,
                       grace_s * SEC);
    int64_t got = as.v[0].active_at / SEC;
    lk_buf_free(&key);
    rul_fstate_free(&s);
    rul_alerts_free(&as);
    return got;
}

/* Prometheus' RestoreForState cases, on a fake clock: down 60 s at 1000. */
static void test_for_state_restore(void **state)
{
    (void)state;
    /* 120 s of 300 pending: the rest (180 s) still to wait, from now */
    assert_int_equal(restored(880, 1000, 1060, 300, 60), 940);
    /* 290 s of 300 pending: 10 s left, less than the grace period */
    assert_int_equal(restored(710, 1000, 1060, 300, 60), 1060 + 60 - 300);
    /* it was firing: the old active time, so it fires at the next evaluation */
    assert_int_equal(restored(500, 1000, 1060, 300, 60), 500);
    /* for below the grace period: not restored */
    assert_int_equal(restored(880, 1000, 1060, 30, 60), 1060);
    /* down longer than the outage tolerance (1 h): not restored */
    assert_int_equal(restored(880, 1000, 1000 + 3601, 300, 60), 1000 + 3601);
}

/* The for state file: a round trip, and a flipped byte refused whole. */
static void test_for_state_file(void **state)
{
    (void)state;
    char *dir = tst_tmpdir("forstate");
    rul_fstate s = { 0 }, back = { 0 };
    rul_fstate_add(&s, lk_str_n("t1\0ns;g\0{a=\"1\"}", 15), 100, 200000);
    rul_fstate_add(&s, LK_STR("t2"), -5, 7);
    assert_int_equal(rul_fstate_save(&s, dir, NULL), LK_OK);
    assert_int_equal(rul_fstate_load(dir, &back, NULL), LK_OK);
    assert_int_equal(back.n, 2);
    assert_int_equal(back.v[0].key_len, 15);
    assert_memory_equal(back.v[0].key, "t1\0ns;g\0{a=\"1\"}", 15);
    assert_true(rul_fstate_in_group(&back.v[0], "t1", LK_STR("ns;g")));
    assert_false(rul_fstate_in_group(&back.v[0], "t1", LK_STR("ns;")));
    assert_int_equal(back.v[0].active_at_s, 100);
    assert_int_equal(back.v[0].down_at_ms, 200000);
    assert_int_equal(back.v[1].active_at_s, -5);
    rul_fstate_free(&back);
    char path[512];
    snprintf(path, sizeof path, "%s/for_state", dir);
    tst_flip_byte(path, 30, 0x40);
    assert_int_equal(rul_fstate_load(dir, &back, NULL), LK_ECORRUPT);
    assert_int_equal(back.n, 0);
    rul_fstate_free(&s);
    tst_rmtree(dir);
    dir = tst_tmpdir("forstate");
    assert_int_equal(rul_fstate_load(dir, &back, NULL), LK_OK); /* none yet */
    assert_int_equal(back.n, 0);
    tst_rmtree(dir);
}

/* The value of one series on /metrics ("name{labels}"), -1 when absent. */
static double metric_value(const char *series)
{
    lk_buf out = { 0 };
    lk_metrics_render(&out);
    double v = -1;
    size_t n = strlen(series);
    for (const char *p = out.p; p && *p;) {
        const char *nl = strchr(p, '\n');
        if (strncmp(p, series, n) == 0 && p[n] == ' ')
            v = strtod(p + n + 1, NULL);
        p = nl ? nl + 1 : NULL;
    }
    lk_buf_free(&out);
    return v;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

/* The Alertmanager notifier's bounded queue: while the sender waits on an
 * Alertmanager that never answers, pushes past the capacity drop the
 * oldest batch, counted; what is left at a stop with no time is dropped,
 * counted too. */
static void test_notifier_queue(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 8), 0); /* accepts nothing: requests wait for the timeout */
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    lk_config cfg;
    config_defaults(&cfg);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", ntohs(a.sin_port));
    free(cfg.ruler_alertmanager_url);
    cfg.ruler_alertmanager_url = strdup(url);
    cfg.ruler_notification_queue_capacity = 3;
    cfg.ruler_notification_timeout_ns = 1000000000;
    rul_notifier *nt = NULL;
    assert_int_equal(rul_notifier_create(&cfg, &nt), LK_OK);
    assert_non_null(nt);
    const char *qlen = "loki_prometheus_notifications_queue_length{user=\"nq\"}";
    rul_notifier_push(nt, "nq", LK_STR("[{},{}]"), 2);
    for (int i = 0; i < 500 && metric_value(qlen) != 0; i++)
        sleep_ms(10); /* the sender took it and waits */
    assert_true(metric_value(qlen) == 0);
    rul_notifier_push(nt, "nq", LK_STR("[{},{}]"), 2);
    rul_notifier_push(nt, "nq", LK_STR("[{},{}]"), 2); /* 4 > 3: the one before goes */
    assert_true(metric_value(qlen) == 2);
    assert_true(metric_value("loki_prometheus_notifications_dropped_total{user=\"nq\"}") == 2);
    rul_notifier_destroy(nt, 0);
    /* the first batch timed out, the last one was left at the stop */
    assert_true(metric_value("loki_prometheus_notifications_dropped_total{user=\"nq\"}") == 6);
    assert_true(metric_value("loki_prometheus_notifications_errors_total{user=\"nq\"}") == 1);
    assert_true(metric_value(qlen) == 0);
    close(fd);
    config_free(&cfg);
}

static void test_remote_write_encode(void **state)
{
    (void)state;
    rul_sample s[2] = { { .value = 1.5, .ts_ms = 1700000000000 },
                        { .value = -2, .ts_ms = 1700000000001 } };
    assert_int_equal(labels_parse(LK_STR("{__name__=\"r:x\", app=\"a\"}"), &s[0].labels, NULL),
                     LK_OK);
    assert_int_equal(labels_parse(LK_STR("{__name__=\"r:x\", app=\"b\"}"), &s[1].labels, NULL),
                     LK_OK);
    lk_buf out = { 0 };
    rul_rw_encode(s, 2, &out);
    size_t n = 0;
    assert_int_equal(snappy_uncompressed_length(out.p, out.len, &n), SNAPPY_OK);
    char *raw = malloc(n);
    assert_int_equal(snappy_uncompress(out.p, out.len, raw, &n), SNAPPY_OK);
    Prometheus__WriteRequest *req =
        prometheus__write_request__unpack(NULL, n, (const uint8_t *)raw);
    assert_non_null(req);
    assert_int_equal(req->n_timeseries, 2);
    assert_int_equal(req->timeseries[1]->n_labels, 2);
    assert_string_equal(req->timeseries[1]->labels[0]->name, "__name__");
    assert_string_equal(req->timeseries[1]->labels[1]->value, "b");
    assert_true(req->timeseries[1]->samples[0]->value == -2);
    assert_int_equal(req->timeseries[0]->samples[0]->timestamp, 1700000000000);
    prometheus__write_request__free_unpacked(req, NULL);
    free(raw);
    lk_buf_free(&out);
    labels_free(&s[0].labels);
    labels_free(&s[1].labels);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_alert_life_cycle),
        cmocka_unit_test(test_expand),
        cmocka_unit_test(test_expand_data),
        cmocka_unit_test(test_expand_funcs),
        cmocka_unit_test(test_expand_query),
        cmocka_unit_test(test_rwwal),
        cmocka_unit_test(test_notifier_queue),
        cmocka_unit_test(test_for_state_restore),
        cmocka_unit_test(test_for_state_file),
        cmocka_unit_test(test_remote_write_survives_restart),
        cmocka_unit_test(test_remote_write_encode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
