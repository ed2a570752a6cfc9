/* Unit tests for api/ratelimit: per-tenant token buckets and Loki's 429
 * message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "api/ratelimit.h"

#define SEC INT64_C(1000000000)
#define T0 (INT64_C(1793491200) * SEC)

static void test_burst_then_deny(void **state)
{
    (void)state;
    push_ratelimiter *rl = push_ratelimiter_create(100, 1000);
    lk_str t = LK_STR("fake");
    assert_true(push_rate_allow(rl, t, 600, T0));
    assert_true(push_rate_allow(rl, t, 400, T0));
    assert_false(push_rate_allow(rl, t, 1, T0));
    /* a denied request takes nothing */
    assert_false(push_rate_allow(rl, t, 50, T0));
    assert_true(push_rate_allow(rl, t, 50, T0 + SEC / 2));
    assert_false(push_rate_allow(rl, t, 1, T0 + SEC / 2));
    push_ratelimiter_destroy(rl);
}

static void test_refill_capped_at_burst(void **state)
{
    (void)state;
    push_ratelimiter *rl = push_ratelimiter_create(100, 1000);
    lk_str t = LK_STR("a");
    assert_true(push_rate_allow(rl, t, 1000, T0));
    /* 3 s later: 300 tokens */
    assert_false(push_rate_allow(rl, t, 301, T0 + 3 * SEC));
    assert_true(push_rate_allow(rl, t, 300, T0 + 3 * SEC));
    /* an hour later: full burst, not more */
    assert_false(push_rate_allow(rl, t, 1001, T0 + 3600 * SEC));
    assert_true(push_rate_allow(rl, t, 1000, T0 + 3600 * SEC));
    push_ratelimiter_destroy(rl);
}

static void test_larger_than_burst_never(void **state)
{
    (void)state;
    push_ratelimiter *rl = push_ratelimiter_create(1e9, 10);
    assert_false(push_rate_allow(rl, LK_STR("a"), 11, T0));
    assert_true(push_rate_allow(rl, LK_STR("a"), 10, T0));
    assert_true(push_rate_allow(rl, LK_STR("a"), 0, T0)); /* 0 bytes always pass */
    push_ratelimiter_destroy(rl);
}

static void test_tenants_independent(void **state)
{
    (void)state;
    push_ratelimiter *rl = push_ratelimiter_create(1, 100);
    assert_true(push_rate_allow(rl, LK_STR("a"), 100, T0));
    assert_false(push_rate_allow(rl, LK_STR("a"), 1, T0));
    assert_true(push_rate_allow(rl, LK_STR("b"), 100, T0));
    assert_true(push_rate_allow(rl, LK_STR(""), 100, T0));
    assert_true(push_rate_allow(rl, LK_STR("ab"), 100, T0));
    assert_false(push_rate_allow(rl, LK_STR("b"), 1, T0));
    push_ratelimiter_destroy(rl);
}

static void test_time_backwards(void **state)
{
    (void)state;
    push_ratelimiter *rl = push_ratelimiter_create(100, 100);
    lk_str t = LK_STR("a");
    assert_true(push_rate_allow(rl, t, 100, T0 + 10 * SEC));
    assert_false(push_rate_allow(rl, t, 1, T0)); /* clock went back: no refill */
    assert_true(push_rate_allow(rl, t, 100, T0 + 11 * SEC));
    push_ratelimiter_destroy(rl);
}

/* Many tenants: the table grows and idle full buckets are swept, while busy
 * tenants keep their state. */
static void test_many_tenants(void **state)
{
    (void)state;
    push_ratelimiter *rl = push_ratelimiter_create(10, 100);
    char name[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "tenant-%d", i);
        assert_true(push_rate_allow(rl, lk_str_c(name), 100, T0 + i * (SEC / 1000)));
    }
    /* tenant-4999 emptied its bucket 0 s ago */
    assert_false(push_rate_allow(rl, LK_STR("tenant-4999"), 50, T0 + 4999 * (SEC / 1000)));
    /* tenant-0 was emptied ~5 s ago: 50 tokens back */
    assert_true(push_rate_allow(rl, LK_STR("tenant-0"), 49, T0 + 4999 * (SEC / 1000)));
    /* much later everyone is full again (swept or not) */
    for (int i = 0; i < 5000; i += 7) {
        snprintf(name, sizeof name, "tenant-%d", i);
        assert_true(push_rate_allow(rl, lk_str_c(name), 100, T0 + 1000 * SEC));
    }
    push_ratelimiter_destroy(rl);
}

typedef struct thr_arg {
    push_ratelimiter *rl;
    int64_t allowed;
} thr_arg;

static void *hammer(void *p)
{
    thr_arg *a = p;
    for (int i = 0; i < 20000; i++)
        if (push_rate_allow(a->rl, LK_STR("shared"), 10, T0))
            a->allowed += 10;
    return NULL;
}

/* Concurrent callers never get more than the burst at one instant. */
static void test_threads(void **state)
{
    (void)state;
    push_ratelimiter *rl = push_ratelimiter_create(1000, 50000);
    pthread_t th[8];
    thr_arg args[8];
    for (int i = 0; i < 8; i++) {
        args[i] = (thr_arg){ rl, 0 };
        pthread_create(&th[i], NULL, hammer, &args[i]);
    }
    int64_t total = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        total += args[i].allowed;
    }
    assert_int_equal(total, 50000);
    push_ratelimiter_destroy(rl);
}

static void test_cfg_and_message(void **state)
{
    (void)state;
    lk_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.ingestion_rate_mb = 4;
    cfg.ingestion_burst_size_mb = 6;
    push_ratelimiter *rl = push_ratelimiter_create_cfg(&cfg);
    assert_int_equal(push_rate_limit(rl), 4 * 1024 * 1024);
    assert_true(push_rate_allow(rl, LK_STR("fake"), 6 * 1024 * 1024, T0));
    assert_false(push_rate_allow(rl, LK_STR("fake"), 1, T0));
    assert_false(push_rate_allow(rl, LK_STR("other"), 6 * 1024 * 1024 + 1, T0));

    lk_buf b = { 0 };
    push_rate_format_error(&b, LK_STR("fake"), push_rate_limit(rl), 3, 7340032);
    assert_string_equal(b.p,
                        "ingestion rate limit exceeded for user fake (limit: 4194304 bytes/sec) "
                        "while attempting to ingest '3' lines totaling '7340032' bytes, reduce "
                        "log volume or contact your Loki administrator to see if the limit can "
                        "be increased");
    lk_buf_free(&b);
    push_ratelimiter_destroy(rl);
    push_ratelimiter_destroy(NULL);
}

/* A fractional rate (ingestion_rate_mb: 0.5) refills proportionally. */
static void test_fractional_rate(void **state)
{
    (void)state;
    lk_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.ingestion_rate_mb = 0.5;
    cfg.ingestion_burst_size_mb = 1;
    push_ratelimiter *rl = push_ratelimiter_create_cfg(&cfg);
    assert_int_equal(push_rate_limit(rl), 524288);
    assert_true(push_rate_allow(rl, LK_STR("t"), 1048576, T0));
    assert_false(push_rate_allow(rl, LK_STR("t"), 524289, T0 + SEC));
    assert_true(push_rate_allow(rl, LK_STR("t"), 524288, T0 + SEC));
    push_ratelimiter_destroy(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_deny),
        cmocka_unit_test(test_refill_capped_at_burst),
        cmocka_unit_test(test_larger_than_burst_never),
        cmocka_unit_test(test_tenants_independent),
        cmocka_unit_test(test_time_backwards),
        cmocka_unit_test(test_many_tenants),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_cfg_and_message),
        cmocka_unit_test(test_fractional_rate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
