/* Logging in logfmt on stderr, as Loki does:
 *   level=info ts=2026-11-24T10:00:00.123456Z caller=server.c:42 msg="listening" port=3100
 * The level is checked before anything is formatted. Usage:
 *   log_info("listening", "address=%s port=%d", addr, port);
 * The first argument is the message (quoted for you); the second a printf
 * format for the key=value pairs that follow it ("" for none). */
#ifndef LOKIC_LIB_LOG_H
#define LOKIC_LIB_LOG_H

#include <stdbool.h>

typedef enum lk_log_level {
    LK_LOG_DEBUG = 0,
    LK_LOG_INFO = 1,
    LK_LOG_WARN = 2,
    LK_LOG_ERROR = 3,
} lk_log_level;

/* The level below which nothing is logged. Atomic: /log_level changes it
 * while other threads read it (plain reads and assignments of it are
 * atomic accesses). */
extern _Atomic lk_log_level lk_log_min_level;

/* "debug", "info", "warn", "error" -> level; -1 when unknown. */
int lk_log_parse_level(const char *s);
const char *lk_log_level_name(lk_log_level l);

void lk_log_write(lk_log_level level, const char *file, int line, const char *msg,
                  const char *kvfmt, ...) __attribute__((format(printf, 5, 6)));

#define LK_LOG(level, msg, ...)                                                 \
    do {                                                                        \
        if ((level) >= lk_log_min_level)                                        \
            lk_log_write((level), __FILE__, __LINE__, (msg), __VA_ARGS__);      \
    } while (0)

#define log_debug(msg, ...) LK_LOG(LK_LOG_DEBUG, msg, __VA_ARGS__)
#define log_info(msg, ...) LK_LOG(LK_LOG_INFO, msg, __VA_ARGS__)
#define log_warn(msg, ...) LK_LOG(LK_LOG_WARN, msg, __VA_ARGS__)
#define log_error(msg, ...) LK_LOG(LK_LOG_ERROR, msg, __VA_ARGS__)

#endif
