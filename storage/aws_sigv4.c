/* AWS Signature Version 4 (aws_sigv4.h). The canonical request is
 *   METHOD \n PATH \n QUERY \n HEADERS \n SIGNED-HEADERS \n PAYLOAD-HASH
 * where QUERY is the request's name=value pairs sorted by name then value
 * (a bare name gets "="), HEADERS one "name:value\n" per header, names
 * lower-cased and sorted, values trimmed with inner spaces folded, and
 * SIGNED-HEADERS those names joined by ';'. The string to sign is
 *   AWS4-HMAC-SHA256 \n AMZ-DATE \n DATE/REGION/SERVICE/aws4_request \n
 *   hex(SHA-256(canonical request))
 * and the key HMAC("AWS4" secret, DATE) -> REGION -> SERVICE -> "aws4_request". */
#include "storage/aws_sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/err.h"
#include "lib/mem.h"

static const char hexdig[] = "0123456789abcdef";

static void to_hex(const unsigned char *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexdig[p[i] >> 4];
        out[2 * i + 1] = hexdig[p[i] & 15];
    }
    out[2 * n] = '\0';
}

void aws_sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(p, n, md);
    to_hex(md, sizeof md, out);
}

void aws_amz_date(time_t t, char out[17])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~';
}

void aws_uri_encode(lk_buf *out, lk_str s, bool keep_slash)
{
    static const char up[] = "0123456789ABCDEF";
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (unreserved(c) || (keep_slash && c == '/')) {
            lk_buf_putc(out, (char)c);
        } else {
            char e[3] = { '%', up[c >> 4], up[c & 15] };
            lk_buf_append(out, e, 3);
        }
    }
}

/* ---- the canonical query */

typedef struct qparam {
    lk_str name, value;
} qparam;

static int qparam_cmp(const void *a, const void *b)
{
    const qparam *x = a, *y = b;
    int c = lk_str_cmp(x->name, y->name);
    return c ? c : lk_str_cmp(x->value, y->value);
}

static void put_canonical_query(lk_buf *out, const char *query)
{
    size_t n = 0, cap = 0;
    qparam *ps = NULL;
    for (const char *p = query; p && *p;) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len) {
            const char *eq = memchr(p, '=', len);
            ps = lk_grow(ps, &cap, n + 1, sizeof *ps);
            ps[n++] = eq ? (qparam){ lk_str_n(p, (size_t)(eq - p)),
                                     lk_str_n(eq + 1, len - (size_t)(eq - p) - 1) }
                         : (qparam){ lk_str_n(p, len), LK_STR("") };
        }
        p += len + (end ? 1 : 0);
    }
    if (n > 1)
        qsort(ps, n, sizeof *ps, qparam_cmp);
    for (size_t i = 0; i < n; i++) {
        if (i)
            lk_buf_putc(out, '&');
        lk_buf_put_str(out, ps[i].name);
        lk_buf_putc(out, '=');
        lk_buf_put_str(out, ps[i].value);
    }
    free(ps);
}

/* ---- the canonical headers */

static int hdr_cmp(const void *a, const void *b)
{
    return strcasecmp(((const aws_hdr *)a)->name, ((const aws_hdr *)b)->name);
}

static void put_lower(lk_buf *out, const char *s)
{
    for (; *s; s++)
        lk_buf_putc(out, (*s >= 'A' && *s <= 'Z') ? (char)(*s - 'A' + 'a') : *s);
}

static void put_folded_value(lk_buf *out, const char *v)
{
    lk_str s = lk_str_trim(lk_str_c(v));
    for (size_t i = 0; i < s.len; i++) {
        if (s.p[i] == ' ' && i > 0 && s.p[i - 1] == ' ')
            continue;
        lk_buf_putc(out, s.p[i]);
    }
}

/* The headers sorted by name (a copy; the caller frees it). */
static aws_hdr *sorted_headers(const aws_sign_in *in)
{
    aws_hdr *h = lk_calloc(in->nheaders ? in->nheaders : 1, sizeof *h);
    if (in->nheaders)
        memcpy(h, in->headers, in->nheaders * sizeof *h);
    qsort(h, in->nheaders, sizeof *h, hdr_cmp);
    return h;
}

static void put_signed_headers(lk_buf *out, const aws_hdr *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            lk_buf_putc(out, ';');
        put_lower(out, h[i].name);
    }
}

void aws_sigv4_canonical_request(const aws_sign_in *in, lk_buf *out)
{
    aws_hdr *h = sorted_headers(in);
    lk_buf_printf(out, "%s\n%s\n", in->method, in->path && *in->path ? in->path : "/");
    put_canonical_query(out, in->query);
    lk_buf_putc(out, '\n');
    for (size_t i = 0; i < in->nheaders; i++) {
        put_lower(out, h[i].name);
        lk_buf_putc(out, ':');
        put_folded_value(out, h[i].value);
        lk_buf_putc(out, '\n');
    }
    lk_buf_putc(out, '\n');
    put_signed_headers(out, h, in->nheaders);
    lk_buf_printf(out, "\n%s", in->payload_hash);
    free(h);
}

static void hmac(const void *key, size_t klen, const void *msg, size_t mlen,
                 unsigned char out[SHA256_DIGEST_LENGTH])
{
    unsigned int len = SHA256_DIGEST_LENGTH;
    if (!HMAC(EVP_sha256(), key, (int)klen, msg, mlen, out, &len))
        LK_BUG("HMAC-SHA256 failed");
}

static void signing_key(const aws_sign_in *in, const char *date,
                        unsigned char key[SHA256_DIGEST_LENGTH])
{
    lk_buf k = { 0 };
    lk_buf_printf(&k, "AWS4%s", in->secret_key);
    hmac(k.p, k.len, date, strlen(date), key);
    hmac(key, SHA256_DIGEST_LENGTH, in->region, strlen(in->region), key);
    hmac(key, SHA256_DIGEST_LENGTH, in->service, strlen(in->service), key);
    hmac(key, SHA256_DIGEST_LENGTH, "aws4_request", 12, key);
    OPENSSL_cleanse(k.p, k.len);
    lk_buf_free(&k);
}

int aws_sigv4_authorization(const aws_sign_in *in, lk_buf *out)
{
    if (!in->amz_date || strlen(in->amz_date) != 16)
        return LK_EINVAL;
    char date[9], creq_hash[65], sig[65];
    memcpy(date, in->amz_date, 8);
    date[8] = '\0';
    lk_buf creq = { 0 }, sts = { 0 };
    aws_sigv4_canonical_request(in, &creq);
    aws_sha256_hex(creq.p, creq.len, creq_hash);
    lk_buf_printf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", in->amz_date, date,
                  in->region, in->service, creq_hash);
    unsigned char key[SHA256_DIGEST_LENGTH], mac[SHA256_DIGEST_LENGTH];
    signing_key(in, date, key);
    hmac(key, sizeof key, sts.p, sts.len, mac);
    OPENSSL_cleanse(key, sizeof key);
    to_hex(mac, sizeof mac, sig);
    lk_buf_printf(out, "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=",
                  in->access_key, date, in->region, in->service);
    aws_hdr *h = sorted_headers(in);
    put_signed_headers(out, h, in->nheaders);
    free(h);
    lk_buf_printf(out, ", Signature=%s", sig);
    lk_buf_free(&creq);
    lk_buf_free(&sts);
    return LK_OK;
}
