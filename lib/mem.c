/* Allocation helpers: fatal on out-of-memory, so no caller handles it. */
#include "lib/mem.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
    fprintf(stderr, "level=error msg=\"out of memory\" bytes=%zu\n", n);
    abort();
}

void *lk_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *lk_calloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (!p)
        oom(nmemb * size);
    return p;
}

void *lk_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

void *lk_grow(void *p, size_t *cap, size_t min_cap, size_t elem)
{
    if (*cap >= min_cap)
        return p;
    size_t c = *cap ? *cap : 8, bytes;
    while (c < min_cap)
        c = c <= SIZE_MAX / 2 ? c * 2 : min_cap; /* doubling would wrap: just enough */
    if (__builtin_mul_overflow(c, elem ? elem : 1, &bytes))
        oom(SIZE_MAX); /* no array that large can exist */
    p = lk_realloc(p, bytes);
    *cap = c;
    return p;
}

char *lk_strdup(const char *s)
{
    return lk_strndup(s, strlen(s));
}

char *lk_strndup(const char *s, size_t n)
{
    char *d = lk_malloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void *lk_memdup(const void *p, size_t n)
{
    void *d = lk_malloc(n);
    if (n)
        memcpy(d, p, n);
    return d;
}

void lk_bug(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "level=error caller=%s:%d msg=\"BUG: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\"\n");
    abort();
}
