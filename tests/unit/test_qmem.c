/* Unit tests: the query memory accountant (query/qmem.h): charges and
 * releases against a query's limit and the process-wide budget, the sticky
 * failure, refusal of a new query while the budget is spent, everything
 * given back at the end, the messages naming the keys, and charges from
 * many threads at once adding up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <string.h>

#include "lib/err.h"
#include "query/qmem.h"

static void test_unlimited_counts(void **state)
{
    (void)state;
    qm_query q = { 0 }; /* zero-initialized: counts, no limits */
    assert_int_equal(qm_charge(&q, 1000), LK_OK);
    assert_int_equal(qm_charge(&q, INT64_C(1) << 40), LK_OK);
    qm_release(&q, 1000);
    assert_int_equal(q.used, INT64_C(1) << 40);
    assert_int_equal(q.peak, (INT64_C(1) << 40) + 1000);
    qm_release(&q, INT64_C(1) << 41); /* never below zero */
    assert_int_equal(q.used, 0);
    qm_end(&q);
}

static void test_query_limit(void **state)
{
    (void)state;
    qm_budget *b = qm_budget_new(0, false);
    qm_query q;
    assert_int_equal(qm_begin(b, 1000, &q), LK_OK);
    assert_int_equal(qm_charge(&q, 600), LK_OK);
    assert_int_equal(qm_charge(&q, 400), LK_OK); /* at the limit is allowed */
    assert_int_equal(qm_budget_used(b), 1000);
    assert_int_equal(qm_charge(&q, 1), LK_ELIMIT);
    /* sticky: even a release and a zero charge keep failing */
    qm_release(&q, 500);
    assert_int_equal(qm_charge(&q, 0), LK_ELIMIT);
    assert_int_equal(qm_charge(&q, 1), LK_ELIMIT);
    lk_buf err = { 0 };
    qm_error(&q, LK_ELIMIT, &err);
    assert_non_null(strstr(err.p, "query memory limit (1000 bytes) reached for a single query"));
    assert_non_null(strstr(err.p, "querier.max_memory_per_query"));
    lk_buf_free(&err);
    qm_end(&q);
    assert_int_equal(qm_budget_used(b), 0); /* everything given back */
    qm_budget_free(b);
}

static void test_budget_shared(void **state)
{
    (void)state;
    qm_budget *b = qm_budget_new(1000, false);
    qm_query a, c, d;
    assert_int_equal(qm_begin(b, 0, &a), LK_OK);
    assert_int_equal(qm_begin(b, 0, &c), LK_OK);
    assert_int_equal(qm_charge(&a, 700), LK_OK);
    /* the query that takes the budget past its end fails, the other not */
    assert_int_equal(qm_charge(&c, 400), LK_ERATE);
    assert_int_equal(qm_charge(&a, 0), LK_OK);
    lk_buf err = { 0 };
    qm_error(&c, LK_ERATE, &err);
    assert_non_null(strstr(err.p, "too many outstanding requests"));
    assert_non_null(strstr(err.p, "querier.max_memory_all_queries"));
    lk_buf_free(&err);
    qm_end(&c);
    assert_int_equal(qm_budget_used(b), 700);
    /* spent budget: a new query is refused at once and holds nothing */
    assert_int_equal(qm_charge(&a, 300), LK_OK);
    assert_int_equal(qm_begin(b, 0, &d), LK_ERATE);
    assert_int_equal(qm_charge(&d, 1), LK_ERATE);
    qm_end(&d);
    assert_int_equal(qm_budget_used(b), 1000);
    qm_end(&a);
    assert_int_equal(qm_budget_used(b), 0);
    /* and once given back, new queries start again */
    assert_int_equal(qm_begin(b, 0, &d), LK_OK);
    qm_end(&d);
    qm_budget_free(b);
}

#define THREADS 4
#define CHARGES 10000

static void *charger(void *arg)
{
    qm_query *q = arg;
    for (int i = 0; i < CHARGES; i++) {
        if (qm_charge(q, 3) != LK_OK)
            return (void *)1;
        if (i % 2)
            qm_release(q, 1);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    qm_budget *b = qm_budget_new(INT64_C(1) << 30, false);
    qm_query q;
    assert_int_equal(qm_begin(b, INT64_C(1) << 30, &q), LK_OK);
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, charger, &q), 0);
    for (int i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(th[i], &r);
        assert_null(r);
    }
    int64_t want = (int64_t)THREADS * (CHARGES * 3 - CHARGES / 2);
    assert_int_equal(q.used, want);
    assert_int_equal(qm_budget_used(b), want);
    qm_end(&q);
    assert_int_equal(qm_budget_used(b), 0);
    qm_budget_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unlimited_counts),
        cmocka_unit_test(test_query_limit),
        cmocka_unit_test(test_budget_shared),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
