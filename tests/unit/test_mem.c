/* Unit tests for lib/mem: lk_grow's growth, and that a size that cannot be
 * represented aborts as out-of-memory does instead of wrapping (run in a
 * child process, which must die of SIGABRT). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/mem.h"

static void test_grow_doubles(void **state)
{
    (void)state;
    size_t cap = 0;
    int *v = lk_grow(NULL, &cap, 1, sizeof *v);
    assert_int_equal(cap, 8);
    v = lk_grow(v, &cap, 9, sizeof *v);
    assert_int_equal(cap, 16);
    v = lk_grow(v, &cap, 100, sizeof *v);
    assert_int_equal(cap, 128);
    v[127] = 1;
    assert_ptr_equal(lk_grow(v, &cap, 50, sizeof *v), v); /* room already */
    free(v);
}

/* Runs lk_grow(NULL, cap, min_cap, elem) in a child; returns how it ended:
 * the signal that killed it, or 0 when lk_grow returned. */
static int grow_in_child(size_t cap, size_t min_cap, size_t elem)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(5); /* a doubling loop that never ends dies of SIGALRM */
        void *p = lk_grow(NULL, &cap, min_cap, elem);
        free(p);
        _exit(0);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

/* Regression: lk_grow multiplied the capacity by the element size without
 * checking, so 2^62 elements of 8 bytes wrapped to a 0-byte request that
 * "succeeded" with a capacity of 2^62, and a min_cap above SIZE_MAX/2 made
 * the doubling wrap to 0 and loop for ever. Both now abort like OOM. */
static void test_grow_overflow_aborts(void **state)
{
    (void)state;
    assert_int_equal(grow_in_child(0, (SIZE_MAX >> 3) + 2, 8), SIGABRT);
    assert_int_equal(grow_in_child(0, SIZE_MAX, 2), SIGABRT);
    assert_int_equal(grow_in_child(8, SIZE_MAX / 2 + 2, 2), SIGABRT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grow_doubles),
        cmocka_unit_test(test_grow_overflow_aborts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
