/* Length-delimited strings, growable buffers and the bump arena. */
#include "lib/str.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/err.h"
#include "lib/mem.h"

int lk_str_cmp(lk_str a, lk_str b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int c = n ? memcmp(a.p, b.p, n) : 0;
    if (c)
        return c;
    return a.len < b.len ? -1 : a.len > b.len;
}

bool lk_str_has_prefix(lk_str s, lk_str prefix)
{
    return s.len >= prefix.len && memcmp(s.p, prefix.p, prefix.len) == 0;
}

bool lk_str_eq_nocase(lk_str a, const char *b)
{
    return lk_str_eq_fold(a, lk_str_c(b));
}

bool lk_str_eq_fold(lk_str a, lk_str b)
{
    if (a.len != b.len)
        return false;
    for (size_t i = 0; i < a.len; i++) {
        char x = a.p[i], y = b.p[i];
        if (x >= 'A' && x <= 'Z')
            x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (char)(y - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

lk_str lk_str_trim(lk_str s)
{
    while (s.len && (s.p[0] == ' ' || s.p[0] == '\t' || s.p[0] == '\n' || s.p[0] == '\r')) {
        s.p++;
        s.len--;
    }
    while (s.len && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t' ||
                     s.p[s.len - 1] == '\n' || s.p[s.len - 1] == '\r'))
        s.len--;
    return s;
}


void lk_buf_reserve(lk_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t c = b->cap ? b->cap : 64;
    while (c < need)
        c *= 2;
    b->p = lk_realloc(b->p, c);
    b->cap = c;
}

void lk_buf_append(lk_buf *b, const void *p, size_t n)
{
    lk_buf_reserve(b, n);
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void lk_buf_puts(lk_buf *b, const char *s)
{
    lk_buf_append(b, s, strlen(s));
}

void lk_buf_putc(lk_buf *b, char c)
{
    lk_buf_reserve(b, 1);
    b->p[b->len++] = c;
    b->p[b->len] = '\0';
}

void lk_buf_put_str(lk_buf *b, lk_str s)
{
    lk_buf_append(b, s.p, s.len);
}

void lk_buf_vprintf(lk_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    if (n >= 0 && (size_t)n < sizeof tmp) {
        lk_buf_append(b, tmp, (size_t)n);
    } else if (n >= 0) {
        lk_buf_reserve(b, (size_t)n);
        vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
}

void lk_buf_printf(lk_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lk_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void lk_buf_put_u64(lk_buf *b, uint64_t v)
{
    char tmp[24];
    char *e = tmp + sizeof tmp, *s = e;
    do {
        *--s = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    lk_buf_append(b, s, (size_t)(e - s));
}

void lk_buf_put_i64(lk_buf *b, int64_t v)
{
    if (v < 0) {
        lk_buf_putc(b, '-');
        lk_buf_put_u64(b, (uint64_t)0 - (uint64_t)v);
    } else {
        lk_buf_put_u64(b, (uint64_t)v);
    }
}

void lk_buf_reset(lk_buf *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = '\0';
}

void lk_buf_free(lk_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

char *lk_buf_steal(lk_buf *b)
{
    if (!b->p)
        return lk_strdup("");
    char *p = b->p;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

struct lk_arena_block {
    lk_arena_block *next;
    size_t size;
    _Alignas(16) unsigned char data[];
};

void *lk_arena_alloc(lk_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (!a->head || a->used + n > a->size) {
        size_t sz = n > 8192 ? n : 8192;
        if (a->head && a->size * 2 > sz && a->size < (1u << 20))
            sz = a->size * 2 > n ? a->size * 2 : n;
        lk_arena_block *blk = lk_malloc(sizeof *blk + sz);
        blk->next = a->head;
        blk->size = sz;
        a->head = blk;
        a->used = 0;
        a->size = sz;
    }
    void *p = a->head->data + a->used;
    a->used += n;
    return p;
}

char *lk_arena_strndup(lk_arena *a, const char *s, size_t n)
{
    char *d = lk_arena_alloc(a, n + 1);
    if (n)
        memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

lk_str lk_arena_str(lk_arena *a, lk_str s)
{
    return (lk_str){ lk_arena_strndup(a, s.p, s.len), s.len };
}

void lk_arena_free(lk_arena *a)
{
    lk_arena_block *b = a->head;
    while (b) {
        lk_arena_block *n = b->next;
        free(b);
        b = n;
    }
    a->head = NULL;
    a->used = a->size = 0;
}

int lk_buf_read_file(lk_buf *b, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return LK_EIO;
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        lk_buf_append(b, chunk, got);
    int bad = ferror(f) ? (errno ? errno : EIO) : 0;
    fclose(f);
    errno = bad;
    return bad ? LK_EIO : LK_OK;
}
