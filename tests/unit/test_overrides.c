/* Unit tests: lib/overrides.c and lib/config_runtime.c, per-tenant limits
 * from runtime config files: parsing, the lookup (an overridden tenant,
 * another keeping the defaults), several files, a reload after a change, a
 * broken file keeping the previous overrides, the /runtime_config YAML,
 * and readers racing reloads (run under TSan: label `threads`). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/config.h"
#include "lib/err.h"
#include "lib/overrides.h"
#include "testutil.h"

typedef struct fixture {
    char *dir;
    char path[512], path2[512];
    lk_config cfg;
} fixture;

static void setup(fixture *f, const char *text)
{
    f->dir = tst_tmpdir("overrides");
    snprintf(f->path, sizeof f->path, "%s/runtime.yaml", f->dir);
    snprintf(f->path2, sizeof f->path2, "%s/runtime2.yaml", f->dir);
    tst_write_file(f->path, text);
    config_defaults(&f->cfg);
    free(f->cfg.runtime_config_file);
    f->cfg.runtime_config_file = strdup(f->path);
}

static void teardown(fixture *f)
{
    config_free(&f->cfg);
    tst_rmtree(f->dir);
}

static lk_overrides *create_ok(fixture *f)
{
    lk_overrides *o = NULL;
    lk_buf err = { 0 };
    if (lk_overrides_create(&f->cfg, &o, &err) != LK_OK)
        fail_msg("create: %s", err.p);
    lk_buf_free(&err);
    return o;
}

static void test_lookup(void **state)
{
    (void)state;
    fixture f;
    setup(&f, "overrides:\n"
              "  team-a:\n"
              "    max_entries_limit_per_query: 7\n"
              "    ingestion_rate_mb: 1.5\n"
              "    max_line_size: 1KB\n"
              "    discover_service_name: [svc, app]\n"
              "  team-b: {}\n");
    lk_overrides *o = create_ok(&f);
    const lk_config *a = lk_limits_for(o, LK_STR("team-a"));
    assert_int_equal(a->max_entries_limit_per_query, 7);
    assert_true(a->ingestion_rate_mb == 1.5);
    assert_int_equal(a->max_line_size, 1024);
    assert_int_equal(a->discover_service_name.n, 2);
    assert_string_equal(a->discover_service_name.v[1], "app");
    /* what is not overridden keeps the default */
    assert_int_equal(a->max_query_series, f.cfg.max_query_series);
    const lk_config *b = lk_limits_for(o, LK_STR("team-b"));
    assert_int_equal(b->max_entries_limit_per_query, 5000);
    /* a tenant the file does not name has the configuration itself */
    assert_ptr_equal(lk_limits_for(o, LK_STR("team-c")), &f.cfg);
    assert_ptr_equal(lk_limits_for(o, LK_STR("team")), &f.cfg);
    assert_ptr_equal(lk_limits_for(o, LK_STR("team-a|team-b")), &f.cfg);
    lk_overrides_destroy(o);
    teardown(&f);
}

static void test_yaml(void **state)
{
    (void)state;
    fixture f;
    setup(&f, "overrides:\n  team-a:\n    max_query_series: 9\n  team-b:\n");
    lk_overrides *o = create_ok(&f);
    lk_buf y = { 0 };
    assert_true(lk_overrides_to_yaml(o, true, &y));
    assert_string_equal(y.p, "overrides:\n  team-a:\n    max_query_series: 9\n  team-b: {}\n");
    lk_buf_reset(&y);
    assert_true(lk_overrides_to_yaml(o, false, &y));
    assert_non_null(strstr(y.p, "  team-b:\n    reject_old_samples: true\n"));
    assert_non_null(strstr(y.p, "    max_query_series: 9\n"));
    lk_buf_free(&y);
    lk_overrides_destroy(o);
    /* no runtime config: Loki's "doesn't exist" */
    free(f.cfg.runtime_config_file);
    f.cfg.runtime_config_file = strdup("");
    o = create_ok(&f);
    assert_false(lk_overrides_to_yaml(o, false, &y));
    assert_ptr_equal(lk_limits_for(o, LK_STR("team-a")), &f.cfg);
    lk_overrides_destroy(o);
    teardown(&f);
}

static void test_several_files(void **state)
{
    (void)state;
    fixture f;
    setup(&f, "overrides:\n  team-a:\n    max_query_series: 9\n    volume_max_series: 3\n");
    tst_write_file(f.path2, "overrides:\n  team-a:\n    max_query_series: 10\n");
    free(f.cfg.runtime_config_file);
    char list[1100];
    snprintf(list, sizeof list, "%s, %s", f.path, f.path2);
    f.cfg.runtime_config_file = strdup(list);
    lk_overrides *o = create_ok(&f);
    const lk_config *a = lk_limits_for(o, LK_STR("team-a"));
    assert_int_equal(a->max_query_series, 10); /* the later file wins */
    assert_int_equal(a->volume_max_series, 3);
    lk_overrides_destroy(o);
    teardown(&f);
}

static void test_reload_and_broken(void **state)
{
    (void)state;
    fixture f;
    setup(&f, "overrides:\n  team-a:\n    max_query_series: 9\n");
    lk_overrides *o = create_ok(&f);
    const lk_config *before = lk_limits_for(o, LK_STR("team-a"));
    lk_buf err = { 0 };
    /* unchanged bytes: nothing is rebuilt */
    assert_int_equal(lk_overrides_reload(o, &err), LK_OK);
    assert_ptr_equal(lk_limits_for(o, LK_STR("team-a")), before);
    tst_write_file(f.path, "overrides:\n  team-a:\n    max_query_series: 11\n");
    assert_int_equal(lk_overrides_reload(o, &err), LK_OK);
    assert_int_equal(lk_limits_for(o, LK_STR("team-a"))->max_query_series, 11);
    /* the previous set stays readable */
    assert_int_equal(before->max_query_series, 9);
    /* a broken file: an error, the overrides in place stay */
    tst_write_file(f.path, "overrides:\n  team-a:\n    max_query_series: lots\n");
    assert_int_equal(lk_overrides_reload(o, &err), LK_EINVAL);
    assert_non_null(strstr(err.p, "runtime.yaml:3:"));
    assert_non_null(strstr(err.p, "max_query_series"));
    assert_int_equal(lk_limits_for(o, LK_STR("team-a"))->max_query_series, 11);
    lk_buf_reset(&err);
    tst_write_file(f.path, "overrides: [\n");
    assert_int_equal(lk_overrides_reload(o, &err), LK_EPARSE);
    assert_int_equal(lk_limits_for(o, LK_STR("team-a"))->max_query_series, 11);
    lk_buf_reset(&err);
    /* a missing file too */
    unlink(f.path);
    assert_int_equal(lk_overrides_reload(o, &err), LK_EIO);
    assert_int_equal(lk_limits_for(o, LK_STR("team-a"))->max_query_series, 11);
    lk_buf_free(&err);
    lk_overrides_destroy(o);
    /* at start a broken file is an error */
    tst_write_file(f.path, "overrides:\n  team-a:\n    max_line_size: -3\n");
    lk_overrides *bad = NULL;
    assert_int_not_equal(lk_overrides_create(&f.cfg, &bad, &err), LK_OK);
    assert_null(bad);
    lk_buf_free(&err);
    teardown(&f);
}

/* Readers look tenants up while the reloading thread swaps the set. */
typedef struct race {
    lk_overrides *o;
    atomic_bool stop;
    atomic_long reads;
} race;

static void *reader(void *arg)
{
    race *r = arg;
    while (!atomic_load(&r->stop)) {
        const lk_config *c = lk_limits_for(r->o, LK_STR("team-a"));
        int v = c->max_query_series;
        if (v != 100 && v != 200 && v != 500)
            fail_msg("half-written limits: %d", v);
        atomic_fetch_add(&r->reads, 1);
    }
    return NULL;
}

static void test_readers_race_reloads(void **state)
{
    (void)state;
    fixture f;
    setup(&f, "overrides:\n  team-a:\n    max_query_series: 100\n");
    f.cfg.runtime_config_period_ns = 1000000; /* 1 ms */
    lk_overrides *o = create_ok(&f);
    lk_buf err = { 0 };
    assert_int_equal(lk_overrides_start(o, &err), LK_OK);
    race r = { .o = o };
    atomic_init(&r.stop, false);
    atomic_init(&r.reads, 0);
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&th[i], NULL, reader, &r);
    for (int i = 0; i < 40; i++) {
        char text[128];
        snprintf(text, sizeof text, "overrides:\n  team-a:\n    max_query_series: %d\n",
                 i % 2 ? 100 : 200);
        tst_write_file(f.path, text);
        lk_overrides_reload(o, &err); /* also from this thread, beside the reloader */
    }
    atomic_store(&r.stop, true);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    assert_true(atomic_load(&r.reads) > 0);
    lk_buf_free(&err);
    lk_overrides_destroy(o);
    teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_yaml),
        cmocka_unit_test(test_several_files),
        cmocka_unit_test(test_reload_and_broken),
        cmocka_unit_test(test_readers_race_reloads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
