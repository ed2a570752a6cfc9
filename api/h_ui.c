/* The log explorer: GET / is ui/index.html, GET /ui/<file> the other files
 * of ui/ (compiled in: api/ui_assets.h). Each answer carries its ETag (a
 * matching If-None-Match is 304), Cache-Control: no-cache (revalidated on
 * each load, so a new build is seen at once), a Content-Security-Policy
 * that allows nothing but this origin's files (no inline script or style,
 * no framing), and the gzipped bytes when Accept-Encoding takes gzip. An
 * unknown file is 404. The page uses only the HTTP API beside it. */
#include <string.h>

#include "api/handlers.h"
#include "api/ui_assets.h"

#define UI_CSP                                                                         \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " \
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "      \
    "frame-ancestors 'none'"

static const api_ui_asset *find_asset(lk_str name)
{
    for (size_t i = 0; i < api_ui_n_assets; i++)
        if (lk_str_eq_c(name, api_ui_assets[i].name))
            return &api_ui_assets[i];
    return NULL;
}

/* Splits off the next comma-separated element of *list, trimmed. */
static lk_str next_element(lk_str *list)
{
    const char *comma = memchr(list->p, ',', list->len);
    size_t n = comma ? (size_t)(comma - list->p) : list->len;
    lk_str el = lk_str_trim(lk_str_n(list->p, n));
    list->p += comma ? n + 1 : n;
    list->len -= comma ? n + 1 : n;
    return el;
}

/* q=0 (0, 0.0, 0.000 ...) refuses a coding (RFC 9110 12.4.2). */
static bool q_zero(lk_str params)
{
    for (;;) {
        const char *semi = memchr(params.p, ';', params.len);
        if (!semi)
            return false;
        params = lk_str_n(semi + 1, params.len - (size_t)(semi + 1 - params.p));
        lk_str p = lk_str_trim(params);
        if (p.len < 2 || (p.p[0] != 'q' && p.p[0] != 'Q') || p.p[1] != '=')
            continue;
        size_t i = 2;
        if (i >= p.len || p.p[i] != '0')
            return false;
        while (++i < p.len && p.p[i] != ';')
            if (p.p[i] != '0' && p.p[i] != '.')
                return false;
        return true;
    }
}

static bool accepts_gzip(const api_req *rq)
{
    lk_str list = api_header(rq, "Accept-Encoding");
    while (list.len) {
        lk_str el = next_element(&list);
        const char *semi = memchr(el.p, ';', el.len);
        lk_str coding = lk_str_trim(lk_str_n(el.p, semi ? (size_t)(semi - el.p) : el.len));
        if ((lk_str_eq_nocase(coding, "gzip") || lk_str_eq_c(coding, "*")) && !q_zero(el))
            return true;
    }
    return false;
}

static bool etag_matches(const api_req *rq, const char *etag)
{
    lk_str list = api_header(rq, "If-None-Match");
    while (list.len) {
        lk_str tag = next_element(&list);
        if (lk_str_has_prefix(tag, LK_STR("W/"))) /* weak comparison, RFC 9110 13.1.2 */
            tag = lk_str_n(tag.p + 2, tag.len - 2);
        if (lk_str_eq_c(tag, "*") || lk_str_eq_c(tag, etag))
            return true;
    }
    return false;
}

static void serve(api_req *rq, api_resp *rs, const api_ui_asset *a)
{
    if (!a) {
        api_reply_text(rs, 404, "404 page not found\n");
        return;
    }
    api_resp_header(rs, "ETag", a->etag);
    api_resp_header(rs, "Cache-Control", "no-cache");
    api_resp_header(rs, "Vary", "Accept-Encoding");
    api_resp_header(rs, "Content-Security-Policy", UI_CSP);
    api_resp_header(rs, "X-Content-Type-Options", "nosniff");
    api_resp_header(rs, "Referrer-Policy", "no-referrer");
    rs->content_type = a->content_type;
    lk_buf_reset(&rs->body);
    if (etag_matches(rq, a->etag)) {
        rs->status = 304;
        return;
    }
    rs->status = 200;
    if (accepts_gzip(rq)) {
        api_resp_header(rs, "Content-Encoding", "gzip");
        lk_buf_append(&rs->body, a->gz, a->gz_len);
    } else {
        lk_buf_append(&rs->body, a->data, a->len);
    }
}

void api_h_ui_index(api_req *rq, api_resp *rs)
{
    serve(rq, rs, find_asset(LK_STR("index.html")));
}

void api_h_ui_asset(api_req *rq, api_resp *rs)
{
    serve(rq, rs, find_asset(rq->path_arg));
}
