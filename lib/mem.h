/* Allocation helpers: allocation failure is fatal (logged, then abort), as in
 * redis' zmalloc, so callers never carry an out-of-memory path. */
#ifndef LOKIC_LIB_MEM_H
#define LOKIC_LIB_MEM_H

#include <stddef.h>

void *lk_malloc(size_t n);
void *lk_calloc(size_t nmemb, size_t size);
void *lk_realloc(void *p, size_t n);
/* Growth for arrays: at least min_cap elements of size elem; doubles.
 * A size that does not fit size_t is fatal, as out-of-memory is. */
void *lk_grow(void *p, size_t *cap, size_t min_cap, size_t elem);
char *lk_strdup(const char *s);
char *lk_strndup(const char *s, size_t n);
void *lk_memdup(const void *p, size_t n);

/* BUG: an impossible state. Logs file:line and aborts in every build. */
#define LK_BUG(...) lk_bug(__FILE__, __LINE__, __VA_ARGS__)
void lk_bug(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));

#endif
