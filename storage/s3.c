/* The S3 client (s3.h). Requests go to
 *   virtual-host style  {scheme}://{bucket}.{host}/{key}
 *   path style          {scheme}://{host}/{bucket}/{key}
 * with the key URI-encoded ('/' kept). ListObjectsV2's XML answer is read
 * for <Contents><Key>, <Size>, <IsTruncated> and <NextContinuationToken>;
 * error answers for <Code> and <Message>. */
#define _GNU_SOURCE /* memmem */
#include "storage/s3.h"

#include <stdio.h>

#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"

struct s3_client {
    aws_http *http;
    char *url_base; /* scheme://host[:port] to send to */
    char *host;     /* the Host header */
    char *bucket;
    char *prefix;   /* "/bucket" in path style, "" otherwise */
};

/* ---- the endpoint */

static int split_endpoint(const s3_config *cfg, lk_buf *scheme, lk_buf *host, lk_buf *err)
{
    lk_buf aws = { 0 };
    lk_buf_printf(&aws, "s3.%s.amazonaws.com",
                  cfg->region && *cfg->region ? cfg->region : "us-east-1");
    int rc = aws_http_endpoint("S3", cfg->endpoint, aws.p, cfg->insecure, scheme, host, err);
    lk_buf_free(&aws);
    return rc;
}

/* A bucket name that can be a DNS label (else path style is the only way). */
static bool dns_compatible(const char *b)
{
    for (const char *p = b; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return false;
    return *b != '\0';
}

int s3_create(const s3_config *cfg, s3_client **out, lk_buf *err)
{
    if (!cfg->bucket || !*cfg->bucket) {
        lk_buf_puts(err, "S3: no bucket name");
        return LK_EINVAL;
    }
    lk_buf scheme = { 0 }, host = { 0 };
    int rc = split_endpoint(cfg, &scheme, &host, err);
    if (rc != LK_OK)
        goto out;
    s3_client *c = lk_calloc(1, sizeof *c);
    c->bucket = lk_strdup(cfg->bucket);
    bool path_style = cfg->force_path_style || !dns_compatible(cfg->bucket);
    lk_buf b = { 0 };
    if (path_style) {
        c->host = lk_strdup(host.p);
        lk_buf_puts(&b, "/");
        aws_uri_encode(&b, lk_str_c(cfg->bucket), false);
        c->prefix = lk_buf_steal(&b);
    } else {
        lk_buf_printf(&b, "%s.%s", cfg->bucket, host.p);
        c->host = lk_buf_steal(&b);
        c->prefix = lk_strdup("");
    }
    lk_buf_printf(&b, "%s://%s", scheme.p, c->host);
    c->url_base = lk_buf_steal(&b);
    aws_http_config hc = cfg->http;
    hc.service = "s3";
    hc.region = cfg->region;
    hc.access_key = cfg->access_key;
    hc.secret_key = cfg->secret_key;
    hc.session_token = cfg->session_token;
    rc = aws_http_create(&hc, &c->http);
    if (rc != LK_OK) {
        s3_destroy(c);
        goto out;
    }
    *out = c;
out:
    lk_buf_free(&scheme);
    lk_buf_free(&host);
    return rc;
}

void s3_destroy(s3_client *c)
{
    if (!c)
        return;
    aws_http_destroy(c->http);
    free(c->url_base);
    free(c->host);
    free(c->bucket);
    free(c->prefix);
    free(c);
}

/* ---- XML */

/* The text between the next <tag> and </tag> at or after *pos; *pos moves
 * past it. */
static bool xml_next(lk_str doc, size_t *pos, const char *tag, lk_str *inner)
{
    char open[64], close[64];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    if (*pos >= doc.len)
        return false;
    const char *s = memmem(doc.p + *pos, doc.len - *pos, open, strlen(open));
    if (!s)
        return false;
    s += strlen(open);
    const char *e = memmem(s, (size_t)(doc.p + doc.len - s), close, strlen(close));
    if (!e)
        return false;
    *inner = lk_str_n(s, (size_t)(e - s));
    *pos = (size_t)(e - doc.p) + strlen(close);
    return true;
}

/* XML's five entities and numeric references (ASCII ones; others as they
 * are) decoded into out. */
static void xml_unescape(lk_buf *out, lk_str s)
{
    static const struct { const char *ent; char ch; } ents[] = {
        { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' }, { "&apos;", '\'' },
    };
    for (size_t i = 0; i < s.len;) {
        bool done = false;
        for (size_t k = 0; k < sizeof ents / sizeof ents[0] && s.p[i] == '&' && !done; k++) {
            size_t n = strlen(ents[k].ent);
            if (s.len - i >= n && memcmp(s.p + i, ents[k].ent, n) == 0) {
                lk_buf_putc(out, ents[k].ch);
                i += n;
                done = true;
            }
        }
        if (!done && s.p[i] == '&' && i + 2 < s.len && s.p[i + 1] == '#') {
            char *end;
            long v = s.p[i + 2] == 'x' ? strtol(s.p + i + 3, &end, 16)
                                       : strtol(s.p + i + 2, &end, 10);
            if (end < s.p + s.len && *end == ';' && v > 0 && v < 128) {
                lk_buf_putc(out, (char)v);
                i = (size_t)(end - s.p) + 1;
                done = true;
            }
        }
        if (!done)
            lk_buf_putc(out, s.p[i++]);
    }
}

/* "HTTP 403 AccessDenied: ..." from an error answer. */
static int answer_error(const aws_http_req *r, const aws_http_resp *resp, lk_buf *err)
{
    lk_str doc = lk_buf_str(&resp->body), code = LK_STR(""), msg = LK_STR("");
    size_t pos = 0;
    xml_next(doc, &pos, "Code", &code);
    pos = 0;
    xml_next(doc, &pos, "Message", &msg);
    lk_buf_printf(err, "S3 %s %s: HTTP %ld", r->op, r->path, resp->status);
    if (code.len) {
        lk_buf_puts(err, " ");
        xml_unescape(err, code);
    }
    if (msg.len) {
        lk_buf_puts(err, ": ");
        xml_unescape(err, msg);
    }
    return LK_EIO;
}

/* ---- requests */

/* The path of key, or of the bucket itself when key is NULL. */
static void key_path(const s3_client *c, const char *key, lk_buf *out)
{
    lk_buf_puts(out, c->prefix);
    if (key || !*c->prefix)
        lk_buf_putc(out, '/');
    if (key)
        aws_uri_encode(out, lk_str_c(key), true);
}

static aws_http_req base_req(const s3_client *c, const char *op, const char *method,
                             const char *path)
{
    return (aws_http_req){ .op = op, .method = method, .url_base = c->url_base,
                           .host = c->host, .path = path };
}

int s3_put(s3_client *c, const char *key, const void *p, size_t n, lk_buf *err)
{
    lk_buf path = { 0 };
    key_path(c, key, &path);
    const aws_hdr h[] = { { "Content-Type", "application/octet-stream" } };
    aws_http_req r = base_req(c, "PutObject", "PUT", path.p);
    r.headers = h;
    r.nheaders = 1;
    r.body = p;
    r.body_len = n;
    aws_http_resp resp = { 0 };
    int rc = aws_http_do(c->http, &r, &resp, err);
    if (rc == LK_OK && resp.status != 200)
        rc = answer_error(&r, &resp, err);
    aws_http_resp_free(&resp);
    lk_buf_free(&path);
    return rc;
}

static int get(s3_client *c, const char *key, const char *range, lk_buf *out, lk_buf *err)
{
    lk_buf path = { 0 };
    key_path(c, key, &path);
    const aws_hdr h[] = { { "Range", range } };
    aws_http_req r = base_req(c, "GetObject", "GET", path.p);
    r.headers = h;
    r.nheaders = range ? 1 : 0;
    aws_http_resp resp = { 0 };
    int rc = aws_http_do(c->http, &r, &resp, err);
    if (rc == LK_OK && (resp.status == 200 || resp.status == 206))
        lk_buf_append(out, resp.body.p, resp.body.len);
    else if (rc == LK_OK && resp.status == 404)
        rc = LK_ENOTFOUND;
    else if (rc == LK_OK && resp.status == 416)
        rc = LK_OK; /* the range starts past the end: nothing there */
    else if (rc == LK_OK)
        rc = answer_error(&r, &resp, err);
    aws_http_resp_free(&resp);
    lk_buf_free(&path);
    return rc;
}

int s3_get(s3_client *c, const char *key, lk_buf *out, lk_buf *err)
{
    return get(c, key, NULL, out, err);
}

int s3_get_range(s3_client *c, const char *key, uint64_t off, uint64_t len, lk_buf *out,
                 lk_buf *err)
{
    if (len == 0)
        return LK_OK;
    char range[64];
    snprintf(range, sizeof range, "bytes=%llu-%llu", (unsigned long long)off,
             (unsigned long long)(off + len - 1));
    return get(c, key, range, out, err);
}

int s3_head(s3_client *c, const char *key, int64_t *size, lk_buf *err)
{
    lk_buf path = { 0 };
    key_path(c, key, &path);
    aws_http_req r = base_req(c, "HeadObject", "HEAD", path.p);
    r.no_body = true;
    aws_http_resp resp = { 0 };
    int rc = aws_http_do(c->http, &r, &resp, err);
    if (rc == LK_OK && resp.status == 200)
        *size = resp.content_length;
    else if (rc == LK_OK && resp.status == 404)
        rc = LK_ENOTFOUND;
    else if (rc == LK_OK)
        rc = answer_error(&r, &resp, err);
    aws_http_resp_free(&resp);
    lk_buf_free(&path);
    return rc;
}

int s3_delete(s3_client *c, const char *key, lk_buf *err)
{
    lk_buf path = { 0 };
    key_path(c, key, &path);
    aws_http_req r = base_req(c, "DeleteObject", "DELETE", path.p);
    aws_http_resp resp = { 0 };
    int rc = aws_http_do(c->http, &r, &resp, err);
    if (rc == LK_OK && resp.status != 204 && resp.status != 200 && resp.status != 404)
        rc = answer_error(&r, &resp, err);
    aws_http_resp_free(&resp);
    lk_buf_free(&path);
    return rc;
}

int s3_create_bucket(s3_client *c, lk_buf *err)
{
    lk_buf path = { 0 };
    key_path(c, NULL, &path);
    aws_http_req r = base_req(c, "CreateBucket", "PUT", path.p);
    aws_http_resp resp = { 0 };
    int rc = aws_http_do(c->http, &r, &resp, err);
    if (rc == LK_OK && resp.status != 200 &&
        !(resp.status == 409 && resp.body.p && strstr(resp.body.p, "BucketAlreadyOwnedByYou")))
        rc = answer_error(&r, &resp, err);
    aws_http_resp_free(&resp);
    lk_buf_free(&path);
    return rc;
}

/* ---- listing */

static void list_query(lk_buf *q, const char *prefix, int page_size, const char *token)
{
    lk_buf_puts(q, "list-type=2");
    if (page_size > 0)
        lk_buf_printf(q, "&max-keys=%d", page_size);
    if (prefix && *prefix) {
        lk_buf_puts(q, "&prefix=");
        aws_uri_encode(q, lk_str_c(prefix), false);
    }
    if (token) {
        lk_buf_puts(q, "&continuation-token=");
        aws_uri_encode(q, lk_str_c(token), false);
    }
}

static int64_t parse_size(lk_str v)
{
    int64_t n = 0;
    for (size_t i = 0; i < v.len; i++) {
        if (v.p[i] < '0' || v.p[i] > '9' || n > (INT64_MAX - 9) / 10)
            return -1;
        n = n * 10 + (v.p[i] - '0');
    }
    return v.len ? n : -1;
}

/* Calls fn for each <Contents> of one page; *token gets the next page's
 * continuation token, or NULL after the last page. */
static int list_page(lk_str doc, s3_list_fn fn, void *ctx, char **token)
{
    lk_str item, v;
    lk_buf key = { 0 };
    int rc = 0;
    for (size_t pos = 0; rc == 0 && xml_next(doc, &pos, "Contents", &item);) {
        size_t ip = 0;
        int64_t size = -1;
        lk_buf_reset(&key);
        if (xml_next(item, &ip, "Key", &v))
            xml_unescape(&key, v);
        ip = 0;
        if (xml_next(item, &ip, "Size", &v))
            size = parse_size(v);
        rc = fn(ctx, key.p ? key.p : "", size);
    }
    lk_buf_free(&key);
    size_t pos = 0;
    bool more = xml_next(doc, &pos, "IsTruncated", &v) && lk_str_eq_c(v, "true");
    *token = NULL;
    pos = 0;
    if (more && xml_next(doc, &pos, "NextContinuationToken", &v)) {
        lk_buf t = { 0 };
        xml_unescape(&t, v);
        *token = lk_buf_steal(&t);
    }
    return rc;
}

int s3_list(s3_client *c, const char *prefix, int page_size, s3_list_fn fn, void *ctx,
            lk_buf *err)
{
    lk_buf path = { 0 }, q = { 0 };
    key_path(c, NULL, &path);
    char *token = NULL;
    int rc = LK_OK;
    do {
        lk_buf_reset(&q);
        list_query(&q, prefix, page_size, token);
        free(token);
        token = NULL;
        aws_http_req r = base_req(c, "ListObjectsV2", "GET", path.p);
        r.query = q.p;
        aws_http_resp resp = { 0 };
        rc = aws_http_do(c->http, &r, &resp, err);
        if (rc == LK_OK && resp.status != 200)
            rc = answer_error(&r, &resp, err);
        if (rc == LK_OK)
            rc = list_page(lk_buf_str(&resp.body), fn, ctx, &token);
        aws_http_resp_free(&resp);
    } while (rc == LK_OK && token);
    free(token);
    lk_buf_free(&path);
    lk_buf_free(&q);
    return rc;
}
