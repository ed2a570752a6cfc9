/* Unit tests: the fault guard (storage/faultguard.h): a guarded read past
 * the end of a mapped file comes back as a failure instead of a SIGBUS,
 * again and again (the signal is not left blocked), nested guards return
 * to the innermost one, and unguarded code is untouched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "storage/faultguard.h"

typedef struct mapped {
    volatile const char *p;  /* two pages; only the first is in the file */
    size_t page;
    int sum;
} mapped;

static void map_short_file(mapped *m)
{
    char path[] = "/tmp/lokic-fg-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    m->page = (size_t)sysconf(_SC_PAGESIZE);
    assert_int_equal(ftruncate(fd, (off_t)m->page), 0);
    void *p = mmap(NULL, 2 * m->page, PROT_READ, MAP_SHARED, fd, 0);
    assert_true(p != MAP_FAILED);
    close(fd);
    m->p = p;
    m->sum = 0;
}

static void unmap(mapped *m)
{
    munmap((void *)(uintptr_t)m->p, 2 * m->page);
}

static void read_first(void *arg)
{
    mapped *m = arg;
    m->sum += m->p[0] + 1;
}

static void read_past_end(void *arg)
{
    mapped *m = arg;
    m->sum += m->p[m->page]; /* SIGBUS: beyond the file */
    m->sum += 1000;          /* never reached */
}

static void nested(void *arg)
{
    mapped *m = arg;
    assert_false(fg_run(read_past_end, m)); /* back here, not to the outer guard */
    m->sum += 10;
}

static void test_fault_in_guard(void **state)
{
    (void)state;
    fg_install();
    fg_install(); /* once */
    mapped m;
    map_short_file(&m);
    assert_true(fg_run(read_first, &m));
    assert_int_equal(m.sum, 1);
    for (int i = 0; i < 3; i++)
        assert_false(fg_run(read_past_end, &m));
    assert_int_equal(m.sum, 1);
    assert_true(fg_run(nested, &m));
    assert_int_equal(m.sum, 11);
    assert_true(fg_run(read_first, &m));
    assert_int_equal(m.sum, 12);
    unmap(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fault_in_guard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
