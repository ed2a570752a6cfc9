/* rul_http_post (http.h) over a libcurl easy handle per call: no redirects
 * followed, no signals (CURLOPT_NOSIGNAL, the server's threads), the answer
 * body kept up to 512 bytes for the error message. */
#include "query/ruler/http.h"

#include <curl/curl.h>
#include <pthread.h>

#include "lib/err.h"

#define BODY_KEEP 512

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t keep_body(char *p, size_t size, size_t n, void *ctx)
{
    lk_buf *b = ctx;
    size_t len = size * n;
    if (b->len < BODY_KEEP)
        lk_buf_append(b, p, len < BODY_KEEP - b->len ? len : BODY_KEEP - b->len);
    return len;
}

int rul_http_post(const rul_post *p, int *status, lk_buf *err)
{
    pthread_once(&curl_once, curl_init);
    CURL *c = curl_easy_init();
    if (!c) {
        if (err)
            lk_buf_puts(err, "curl_easy_init failed");
        return LK_EIO;
    }
    struct curl_slist *hs = NULL;
    for (size_t i = 0; p->headers && p->headers[i]; i++)
        hs = curl_slist_append(hs, p->headers[i]);
    lk_buf answer = { 0 };
    long ms = (long)(p->timeout_ns / 1000000);
    curl_easy_setopt(c, CURLOPT_URL, p->url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, p->body.p ? p->body.p : "");
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)p->body.len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ms > 0 ? ms : 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
    if (p->user && *p->user) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, p->user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, p->password ? p->password : "");
    }
    CURLcode cc = curl_easy_perform(c);
    long code = 0;
    int rc = LK_OK;
    if (cc != CURLE_OK) {
        rc = LK_EIO;
        if (err)
            lk_buf_printf(err, "POST %s: %s", p->url, curl_easy_strerror(cc));
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        if (code < 200 || code > 299) {
            rc = LK_EIO;
            if (err)
                lk_buf_printf(err, "POST %s: status %ld: %.*s", p->url, code,
                              LK_STR_FMT(lk_buf_str(&answer)));
        }
    }
    *status = (int)code;
    lk_buf_free(&answer);
    curl_slist_free_all(hs);
    curl_easy_cleanup(c);
    return rc;
}
