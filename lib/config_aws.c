/* storage_config.aws resolved into an S3 or DynamoDB target (config.h's
 * lk_aws_target) and checked at config_finish (cfg_check_aws).
 *
 * URL forms, as Loki reads them:
 *   s3://REGION/BUCKET, s3://KEY:SECRET@REGION/BUCKET   AWS's endpoint for REGION
 *   s3://HOST[:PORT]/BUCKET (a host with a dot)          that host, https unless insecure
 *   http(s)://KEY:SECRET@HOST:PORT/BUCKET                that endpoint, path style
 *   dynamodb://REGION, dynamodb://KEY:SECRET@REGION     AWS's DynamoDB for REGION
 *   http(s)://KEY:SECRET@HOST:PORT                      that endpoint
 * User and password are percent-decoded. The separate keys (endpoint,
 * region, bucketnames, access_key_id, secret_access_key) win over the URL's
 * parts; with no keys at all the AWS environment variables give them. */
#include "lib/config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/config_priv.h"
#include "lib/err.h"
#include "lib/hex.h"
#include "lib/mem.h"

typedef struct url_parts {
    lk_str scheme, user, pass, host, path;
    bool has_user;
} url_parts;

static bool parse_url(const char *url, url_parts *u)
{
    memset(u, 0, sizeof *u);
    const char *sep = strstr(url, "://");
    if (!sep || sep == url)
        return false;
    u->scheme = lk_str_n(url, (size_t)(sep - url));
    const char *auth = sep + 3;
    size_t alen = strcspn(auth, "/?#");
    const char *at = memchr(auth, '@', alen);
    if (at) {
        const char *colon = memchr(auth, ':', (size_t)(at - auth));
        u->has_user = true;
        u->user = lk_str_n(auth, (size_t)((colon ? colon : at) - auth));
        u->pass = colon ? lk_str_n(colon + 1, (size_t)(at - colon - 1)) : LK_STR("");
        u->host = lk_str_n(at + 1, (size_t)(auth + alen - at - 1));
    } else {
        u->host = lk_str_n(auth, alen);
    }
    const char *path = auth + alen;
    while (*path == '/')
        path++;
    u->path = lk_str_n(path, strcspn(path, "?#"));
    return u->host.len > 0;
}

static char *unescape(lk_str s)
{
    lk_buf b = { 0 };
    for (size_t i = 0; i < s.len; i++) {
        if (s.p[i] == '%' && i + 2 < s.len && lk_is_hex(s.p[i + 1]) && lk_is_hex(s.p[i + 2])) {
            lk_buf_putc(&b, (char)(lk_hex_val(s.p[i + 1]) * 16 + lk_hex_val(s.p[i + 2])));
            i += 2;
        } else {
            lk_buf_putc(&b, s.p[i]);
        }
    }
    return b.p ? lk_buf_steal(&b) : lk_strdup("");
}

static bool set(const char *s)
{
    return s && *s;
}

static void replace(char **slot, char *v)
{
    free(*slot);
    *slot = v;
}

static void put_if_set(char **slot, const char *v)
{
    if (set(v))
        replace(slot, lk_strdup(v));
}

void config_aws_target_free(lk_aws_target *t)
{
    if (!t)
        return;
    free(t->endpoint);
    free(t->region);
    free(t->bucket);
    free(t->access_key);
    if (t->secret_key)
        memset(t->secret_key, 0, strlen(t->secret_key));
    free(t->secret_key);
    free(t->session_token);
    memset(t, 0, sizeof *t);
}

static void target_init(lk_aws_target *t, const lk_config *c)
{
    memset(t, 0, sizeof *t);
    t->endpoint = lk_strdup("");
    t->region = lk_strdup("");
    t->bucket = lk_strdup("");
    t->access_key = lk_strdup("");
    t->secret_key = lk_strdup("");
    t->session_token = lk_strdup("");
    t->force_path_style = c->aws_s3forcepathstyle;
    t->insecure = c->aws_insecure;
}

/* The URL's parts into t; aws_scheme is "s3" or "dynamodb". */
static int from_url(const char *key, const char *url, const char *aws_scheme, bool want_bucket,
                    lk_aws_target *t, lk_buf *err)
{
    url_parts u;
    if (!parse_url(url, &u)) {
        lk_buf_printf(err, "%s: not a URL (expected %s://region%s or "
                      "http(s)://KEY:SECRET@host:port%s)", key, aws_scheme,
                      want_bucket ? "/bucket" : "", want_bucket ? "/bucket" : "");
        return LK_EINVAL;
    }
    bool http = lk_str_eq_c(u.scheme, "http"), https = lk_str_eq_c(u.scheme, "https");
    if (!http && !https && !lk_str_eq_c(u.scheme, aws_scheme)) {
        lk_buf_printf(err, "%s: unsupported URL scheme \"%.*s\" (expected %s, http or https)",
                      key, LK_STR_FMT(u.scheme), aws_scheme);
        return LK_EINVAL;
    }
    char *host = lk_strndup(u.host.p, u.host.len);
    if (http || https) {
        lk_buf e = { 0 };
        lk_buf_printf(&e, "%.*s://%s", LK_STR_FMT(u.scheme), host);
        replace(&t->endpoint, lk_buf_steal(&e));
        t->force_path_style = true;
        free(host);
    } else if (strchr(host, '.')) {
        replace(&t->endpoint, host);
    } else {
        replace(&t->region, host);
    }
    if (u.has_user) {
        replace(&t->access_key, unescape(u.user));
        replace(&t->secret_key, unescape(u.pass));
    }
    if (want_bucket && u.path.len)
        replace(&t->bucket, lk_strndup(u.path.p, strcspn(u.path.p, "/?#")));
    return LK_OK;
}

static void from_env(lk_aws_target *t)
{
    if (set(t->access_key))
        return;
    put_if_set(&t->access_key, getenv("AWS_ACCESS_KEY_ID"));
    put_if_set(&t->secret_key, getenv("AWS_SECRET_ACCESS_KEY"));
    put_if_set(&t->session_token, getenv("AWS_SESSION_TOKEN"));
}

static void finish_target(const lk_config *c, lk_aws_target *t)
{
    put_if_set(&t->endpoint, c->aws_endpoint);
    put_if_set(&t->region, c->aws_region);
    put_if_set(&t->access_key, c->aws_access_key_id);
    put_if_set(&t->secret_key, c->aws_secret_access_key);
    put_if_set(&t->session_token, c->aws_session_token);
    from_env(t);
    if (!set(t->region))
        put_if_set(&t->region, getenv("AWS_REGION"));
    if (!set(t->region))
        replace(&t->region, lk_strdup("us-east-1"));
}

int config_aws_s3(const lk_config *c, lk_aws_target *out, lk_buf *err)
{
    lk_aws_target t;
    target_init(&t, c);
    int rc = LK_OK;
    if (set(c->aws_s3_url))
        rc = from_url("storage_config.aws.s3", c->aws_s3_url, "s3", true, &t, err);
    if (rc == LK_OK && set(c->aws_bucketnames)) {
        lk_str first = lk_str_trim(lk_str_n(c->aws_bucketnames, strcspn(c->aws_bucketnames, ",")));
        replace(&t.bucket, lk_strndup(first.p, first.len));
    }
    if (rc == LK_OK && !set(t.bucket)) {
        lk_buf_puts(err, "object_store s3 needs a bucket: storage_config.aws.bucketnames, or "
                         "storage_config.aws.s3 as s3://region/bucket");
        rc = LK_EINVAL;
    }
    if (rc == LK_OK) {
        finish_target(c, &t);
        *out = t;
    } else {
        config_aws_target_free(&t);
    }
    return rc;
}

int config_aws_dynamodb(const lk_config *c, lk_aws_target *out, lk_buf *err)
{
    lk_aws_target t;
    target_init(&t, c);
    if (!set(c->aws_dynamodb_url)) {
        lk_buf_puts(err, "store aws needs storage_config.aws.dynamodb.dynamodb_url "
                         "(dynamodb://region or http(s)://KEY:SECRET@host:port)");
        config_aws_target_free(&t);
        return LK_EINVAL;
    }
    int rc = from_url("storage_config.aws.dynamodb.dynamodb_url", c->aws_dynamodb_url,
                      "dynamodb", false, &t, err);
    if (rc != LK_OK) {
        config_aws_target_free(&t);
        return rc;
    }
    /* the S3 endpoint is not DynamoDB's: only the region and the keys carry over */
    put_if_set(&t.region, c->aws_region);
    put_if_set(&t.access_key, c->aws_access_key_id);
    put_if_set(&t.secret_key, c->aws_secret_access_key);
    from_env(&t);
    if (!set(t.region))
        put_if_set(&t.region, getenv("AWS_REGION"));
    if (!set(t.region))
        replace(&t.region, lk_strdup("us-east-1"));
    *out = t;
    return LK_OK;
}

int cfg_check_aws(const lk_config *c, lk_buf *err)
{
    if (!c->schema_s3 && !c->schema_dynamodb)
        return LK_OK;
    lk_aws_target t;
    lk_buf why = { 0 };
    int rc = LK_OK;
    if (c->schema_s3) {
        rc = config_aws_s3(c, &t, &why);
        if (rc == LK_OK)
            config_aws_target_free(&t);
    }
    if (rc == LK_OK && c->schema_dynamodb) {
        rc = config_aws_dynamodb(c, &t, &why);
        if (rc == LK_OK)
            config_aws_target_free(&t);
    }
    if (rc != LK_OK) {
        if (err)
            lk_buf_put_str(err, lk_buf_str(&why));
        lk_buf_free(&why);
        return rc;
    }
    if (err)
        lk_buf_printf(err, "schema_config uses %s: the configuration is valid, but lokic's "
                      "storage path for S3 and DynamoDB is not built yet (issue 11); use "
                      "object_store: filesystem with store: tsdb or boltdb-shipper",
                      c->schema_s3 && c->schema_dynamodb ? "object_store s3 and store aws"
                      : c->schema_s3                     ? "object_store s3"
                                                         : "store aws");
    return LK_EUNSUPPORTED;
}
