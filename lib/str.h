/* Length-delimited strings (lk_str, borrowed, never NUL-terminated by
 * contract), growable byte buffers (lk_buf) and a bump arena (lk_arena) for
 * request-scoped allocations. */
#ifndef LOKIC_LIB_STR_H
#define LOKIC_LIB_STR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct lk_str {
    const char *p;
    size_t len;
} lk_str;

#define LK_STR(lit) ((lk_str){ (lit), sizeof(lit) - 1 })
#define LK_STR_NULL ((lk_str){ NULL, 0 })
/* printf("%.*s", LK_STR_FMT(s)) */
#define LK_STR_FMT(s) (int)(s).len, (s).p

static inline lk_str lk_str_c(const char *s)
{
    return (lk_str){ s, s ? strlen(s) : 0 };
}

static inline lk_str lk_str_n(const char *s, size_t n)
{
    return (lk_str){ s, n };
}

static inline bool lk_str_eq(lk_str a, lk_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static inline bool lk_str_eq_c(lk_str a, const char *b)
{
    return lk_str_eq(a, lk_str_c(b));
}

/* Byte-wise comparison, shorter first on a common prefix (Go's string order). */
int lk_str_cmp(lk_str a, lk_str b);
bool lk_str_has_prefix(lk_str s, lk_str prefix);
/* Case-insensitive ASCII equality. */
bool lk_str_eq_nocase(lk_str a, const char *b);
bool lk_str_eq_fold(lk_str a, lk_str b);
lk_str lk_str_trim(lk_str s);

/* A growable byte buffer. Always kept NUL-terminated past len (when p is
 * non-NULL), so p can be handed to C APIs. A zeroed lk_buf is empty. */
typedef struct lk_buf {
    char *p;
    size_t len, cap;
} lk_buf;

void lk_buf_reserve(lk_buf *b, size_t extra);
void lk_buf_append(lk_buf *b, const void *p, size_t n);
void lk_buf_puts(lk_buf *b, const char *s);
void lk_buf_putc(lk_buf *b, char c);
void lk_buf_put_str(lk_buf *b, lk_str s);
void lk_buf_printf(lk_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lk_buf_vprintf(lk_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void lk_buf_put_u64(lk_buf *b, uint64_t v);
void lk_buf_put_i64(lk_buf *b, int64_t v);
void lk_buf_reset(lk_buf *b);
void lk_buf_free(lk_buf *b);
/* Takes ownership of the bytes (NUL-terminated); the buffer is left empty. */
char *lk_buf_steal(lk_buf *b);
/* Appends the whole file at path. LK_EIO with errno as the failing open
 * or read left it (ENOENT: no such file); what was read stays in b. */
int lk_buf_read_file(lk_buf *b, const char *path);
static inline lk_str lk_buf_str(const lk_buf *b)
{
    return (lk_str){ b->p, b->len };
}

/* A bump allocator: many small allocations, freed in one call. */
typedef struct lk_arena_block lk_arena_block;
typedef struct lk_arena {
    lk_arena_block *head;
    size_t used, size; /* of head */
} lk_arena;

void *lk_arena_alloc(lk_arena *a, size_t n); /* 16-byte aligned */
char *lk_arena_strndup(lk_arena *a, const char *s, size_t n);
lk_str lk_arena_str(lk_arena *a, lk_str s);
void lk_arena_free(lk_arena *a);

#endif
