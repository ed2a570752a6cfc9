/* The ruler's HTTP client (libcurl): one POST at a time per call, for the
 * Alertmanager notifier and remote write. Thread safe (each call has its own
 * handle; libcurl is initialised once). */
#ifndef LOKIC_QUERY_RULER_HTTP_H
#define LOKIC_QUERY_RULER_HTTP_H

#include <stdint.h>

#include "lib/str.h"

typedef struct rul_post {
    const char *url;
    const char *const *headers; /* "Name: value" lines, NULL-terminated; may be NULL */
    const char *user, *password; /* basic auth when user is set */
    lk_str body;
    int64_t timeout_ns;
} rul_post;

/* POSTs; *status gets the HTTP status (0 when no answer came). LK_OK for
 * 2xx, LK_EIO otherwise with the reason (and the start of the answer's
 * body) in *err. */
int rul_http_post(const rul_post *p, int *status, lk_buf *err);

#endif
