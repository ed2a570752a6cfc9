/* Request header bytes checked before anything reads them, as Go's
 * net/http (Loki's server) checks them: a header name is a token, a value
 * holds no control character but the tab. libmicrohttpd before 1.0 cuts a
 * name or value at a NUL and reports the shorter string, so with it the
 * bytes around each header are checked in its buffer too (header_check.c):
 * "X-Scope-OrgID: victimA<NUL>evil" must not read as tenant victimA. */
#ifndef LOKIC_API_HEADER_CHECK_H
#define LOKIC_API_HEADER_CHECK_H

#include "lib/str.h"

struct MHD_Connection;

/* Checks the headers of the request whose access handler is called for
 * the first time (headers complete, body not read); method is the
 * handler's method argument. LK_EINVAL with Go's reason ("invalid header
 * name", "invalid header value") in err when a header is malformed. */
int api_header_check(struct MHD_Connection *conn, const char *method, lk_buf *err);

#endif
