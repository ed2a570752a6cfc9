/* Unit tests for api/inflight: the in-flight bytes budget. A request takes
 * what fits, is refused past the limit while others hold bytes, may go
 * past it alone, gives everything back; no limit takes anything; and
 * concurrent takers never hold more than the limit together. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>

#include "api/inflight.h"

static void test_take_and_release(void **state)
{
    (void)state;
    api_inflight b = { .limit = 100 };
    api_hold x = { .b = &b }, y = { .b = &b };
    assert_true(api_hold_take(&x, 60));
    assert_true(api_hold_take(&y, 40));
    assert_false(api_hold_take(&y, 1)); /* 101 with x holding bytes */
    assert_false(api_hold_take(&x, 1));
    assert_int_equal(y.n, 40);
    api_hold_release(&y);
    assert_int_equal(y.n, 0);
    assert_int_equal(atomic_load(&b.used), 60);
    /* alone: may take past the limit (one request up to the size limits
     * is always served) */
    assert_true(api_hold_take(&x, 1000));
    assert_false(api_hold_take(&y, 1));
    api_hold_release(&x);
    api_hold_release(&x); /* twice: nothing more */
    assert_int_equal(atomic_load(&b.used), 0);
    assert_true(api_hold_take(&y, 100));
    api_hold_release(&y);
    /* no limit, no budget, no hold */
    api_inflight none = { .limit = 0 };
    api_hold z = { .b = &none }, free_hold = { 0 };
    assert_true(api_hold_take(&z, SIZE_MAX));
    api_hold_release(&z);
    assert_true(api_hold_take(&free_hold, 1 << 30));
    assert_true(api_hold_take(NULL, 1));
    api_hold_release(NULL);
}

#define THREADS 4
#define ROUNDS 20000
#define LIMIT 1000

typedef struct racer {
    api_inflight *b;
    long long worst; /* most bytes in use seen while others held bytes */
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    for (int i = 0; i < ROUNDS; i++) {
        api_hold h = { .b = r->b };
        for (int k = 0; k < 3; k++) {
            if (!api_hold_take(&h, (size_t)(100 + (i * 7 + k * 13) % 300)))
                break;
            long long used = atomic_load(&r->b->used);
            if (used > r->worst && h.n < used) /* others hold bytes too */
                r->worst = used;
        }
        api_hold_release(&h);
    }
    return NULL;
}

/* Takes are counted exactly: while more than one request holds bytes the
 * total never passes the limit (a take past it is admitted only to a
 * request alone in the budget, and then nobody else's fits), and
 * everything is given back at the end. */
static void test_concurrent(void **state)
{
    (void)state;
    api_inflight b = { .limit = LIMIT };
    racer r[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        r[i] = (racer){ .b = &b };
        assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_int_equal(atomic_load(&b.used), 0);
    for (int i = 0; i < THREADS; i++)
        assert_true(r[i].worst <= LIMIT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_take_and_release),
        cmocka_unit_test(test_concurrent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
