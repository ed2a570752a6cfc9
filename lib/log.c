/* logfmt logging to stderr; one write(2) per line so threads do not interleave. */
#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/str.h"

_Atomic lk_log_level lk_log_min_level = LK_LOG_INFO;

static const char *const names[] = { "debug", "info", "warn", "error" };

int lk_log_parse_level(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    if (strcmp(s, "warning") == 0)
        return LK_LOG_WARN;
    return -1;
}

const char *lk_log_level_name(lk_log_level l)
{
    return (unsigned)l < 4 ? names[l] : "info";
}

static void put_quoted(lk_buf *b, const char *s)
{
    lk_buf_putc(b, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            lk_buf_putc(b, '\\');
            lk_buf_putc(b, (char)c);
        } else if (c == '\n') {
            lk_buf_puts(b, "\\n");
        } else if (c < 0x20) {
            lk_buf_printf(b, "\\u%04x", c);
        } else {
            lk_buf_putc(b, (char)c);
        }
    }
    lk_buf_putc(b, '"');
}

void lk_log_write(lk_log_level level, const char *file, int line, const char *msg,
                  const char *kvfmt, ...)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;

    lk_buf b = { 0 };
    lk_buf_printf(&b, "level=%s ts=%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ caller=%s:%d msg=",
                  lk_log_level_name(level), tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000, base, line);
    put_quoted(&b, msg);
    if (kvfmt && *kvfmt) {
        char tmp[1024];
        va_list ap;
        va_start(ap, kvfmt);
        int n = vsnprintf(tmp, sizeof tmp, kvfmt, ap);
        va_end(ap);
        if (n > 0) {
            lk_buf_putc(&b, ' ');
            lk_buf_append(&b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
        }
    }
    lk_buf_putc(&b, '\n');
    ssize_t w = write(STDERR_FILENO, b.p, b.len);
    (void)w;
    lk_buf_free(&b);
}
