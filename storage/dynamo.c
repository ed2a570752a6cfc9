/* The DynamoDB client (dynamo.h): the client, its requests and error
 * answers, and the table operations. Every request is a POST of JSON to "/"
 * with X-Amz-Target: DynamoDB_20120810.<Operation>; an error answer is
 * {"__type":"...#<ExceptionName>","message":"..."}. Items: dynamo_items.c. */
#include "storage/dynamo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "lib/timeutil.h"
#include "storage/dynamo_int.h"

#define DEFAULT_WAIT_NS (300 * LK_NS_PER_SEC)
#define POLL_NS (100 * LK_NS_PER_MS)

int ddb_create(const ddb_config *cfg, ddb_client **out, lk_buf *err)
{
    const char *region = cfg->region && *cfg->region ? cfg->region : "us-east-1";
    lk_buf aws = { 0 }, scheme = { 0 }, host = { 0 };
    lk_buf_printf(&aws, "dynamodb.%s.amazonaws.com", region);
    int rc = aws_http_endpoint("DynamoDB", cfg->endpoint, aws.p, cfg->insecure, &scheme, &host,
                               err);
    if (rc != LK_OK)
        goto out;
    ddb_client *c = lk_calloc(1, sizeof *c);
    c->host = lk_buf_steal(&host);
    lk_buf_reset(&aws);
    lk_buf_printf(&aws, "%s://%s", scheme.p, c->host);
    c->url_base = lk_strdup(aws.p);
    c->max_retries = cfg->http.max_retries;
    aws_http_config hc = cfg->http;
    hc.service = "dynamodb";
    hc.region = region;
    hc.access_key = cfg->access_key;
    hc.secret_key = cfg->secret_key;
    hc.session_token = cfg->session_token;
    rc = aws_http_create(&hc, &c->http);
    if (rc != LK_OK) {
        ddb_destroy(c);
        goto out;
    }
    *out = c;
out:
    lk_buf_free(&aws);
    lk_buf_free(&scheme);
    lk_buf_free(&host);
    return rc;
}

void ddb_destroy(ddb_client *c)
{
    if (!c)
        return;
    aws_http_destroy(c->http);
    free(c->url_base);
    free(c->host);
    free(c);
}

/* ---- requests */

/* "ResourceNotFoundException" from "com.amazonaws.dynamodb.v20120810#...". */
static const char *error_type(json_t *doc)
{
    const char *t = json_string_value(json_object_get(doc, "__type"));
    if (!t)
        return "";
    const char *hash = strrchr(t, '#');
    return hash ? hash + 1 : t;
}

static int answer_error(const char *op, const aws_http_resp *resp, lk_buf *err)
{
    json_t *doc = json_loadb(resp->body.p ? resp->body.p : "", resp->body.len, 0, NULL);
    const char *type = error_type(doc);
    const char *msg = json_string_value(json_object_get(doc, "message"));
    if (!msg)
        msg = json_string_value(json_object_get(doc, "Message"));
    lk_buf_printf(err, "DynamoDB %s: HTTP %ld", op, resp->status);
    if (*type)
        lk_buf_printf(err, " %s", type);
    if (msg)
        lk_buf_printf(err, ": %s", msg);
    int rc = strcmp(type, "ResourceNotFoundException") == 0 ? LK_ENOTFOUND : LK_EIO;
    json_decref(doc);
    return rc;
}

int ddb_call(ddb_client *c, const char *op, json_t *body, json_t **answer, lk_buf *err)
{
    char *text = json_dumps(body, JSON_COMPACT);
    if (!text)
        LK_BUG("json_dumps failed");
    char target[96];
    snprintf(target, sizeof target, "DynamoDB_20120810.%s", op);
    const aws_hdr h[] = { { "Content-Type", "application/x-amz-json-1.0" },
                          { "X-Amz-Target", target } };
    aws_http_req r = { .op = op, .method = "POST", .url_base = c->url_base, .host = c->host,
                       .path = "/", .headers = h, .nheaders = 2, .body = text,
                       .body_len = strlen(text) };
    aws_http_resp resp = { 0 };
    int rc = aws_http_do(c->http, &r, &resp, err);
    if (rc == LK_OK && resp.status != 200) {
        rc = answer_error(op, &resp, err);
    } else if (rc == LK_OK) {
        json_error_t je;
        json_t *doc = json_loadb(resp.body.p ? resp.body.p : "{}", resp.body.len ? resp.body.len : 2,
                                 0, &je);
        if (!json_is_object(doc)) {
            lk_buf_printf(err, "DynamoDB %s: the answer is not a JSON object: %s", op, je.text);
            json_decref(doc);
            rc = LK_EIO;
        } else if (answer) {
            *answer = doc;
        } else {
            json_decref(doc);
        }
    }
    aws_http_resp_free(&resp);
    free(text);
    return rc;
}

/* ---- tables */

static json_t *key_attr(const char *name, const char *type)
{
    return json_pack("{s:s,s:s}", "AttributeName", name, "AttributeType", type);
}

static json_t *key_schema(const char *name, const char *type)
{
    return json_pack("{s:s,s:s}", "AttributeName", name, "KeyType", type);
}

static json_t *create_table_body(const char *table, const ddb_throughput *tp)
{
    json_t *b = json_pack("{s:s,s:[o,o],s:[o,o]}", "TableName", table, "AttributeDefinitions",
                          key_attr(DDB_HASH, "S"), key_attr(DDB_RANGE, "B"), "KeySchema",
                          key_schema(DDB_HASH, "HASH"), key_schema(DDB_RANGE, "RANGE"));
    if (tp->on_demand)
        json_object_set_new(b, "BillingMode", json_string("PAY_PER_REQUEST"));
    else
        json_object_set_new(b, "ProvisionedThroughput",
                            json_pack("{s:I,s:I}", "ReadCapacityUnits", (json_int_t)tp->read,
                                      "WriteCapacityUnits", (json_int_t)tp->write));
    return b;
}

int ddb_create_table(ddb_client *c, const char *table, const ddb_throughput *tp,
                     int64_t wait_ns, lk_buf *err)
{
    json_t *body = create_table_body(table, tp);
    lk_buf why = { 0 };
    int rc = ddb_call(c, "CreateTable", body, NULL, &why);
    json_decref(body);
    if (rc != LK_OK && why.p && strstr(why.p, "ResourceInUseException"))
        rc = LK_OK; /* it exists (or is being created) */
    else if (rc != LK_OK)
        lk_buf_put_str(err, lk_buf_str(&why));
    lk_buf_free(&why);
    return rc == LK_OK ? ddb_wait_active(c, table, wait_ns, err) : rc;
}

static int64_t get_int(json_t *obj, const char *name)
{
    return (int64_t)json_integer_value(json_object_get(obj, name));
}

int ddb_describe_table(ddb_client *c, const char *table, ddb_table_info *out, lk_buf *err)
{
    json_t *body = json_pack("{s:s}", "TableName", table), *answer = NULL;
    int rc = ddb_call(c, "DescribeTable", body, &answer, err);
    json_decref(body);
    if (rc != LK_OK)
        return rc;
    json_t *t = json_object_get(answer, "Table");
    json_t *pt = json_object_get(t, "ProvisionedThroughput");
    const char *status = json_string_value(json_object_get(t, "TableStatus"));
    const char *billing = json_string_value(
        json_object_get(json_object_get(t, "BillingModeSummary"), "BillingMode"));
    ddb_table_info info = { .item_count = get_int(t, "ItemCount") };
    snprintf(info.status, sizeof info.status, "%s", status ? status : "");
    info.throughput.read = get_int(pt, "ReadCapacityUnits");
    info.throughput.write = get_int(pt, "WriteCapacityUnits");
    info.throughput.on_demand = billing && strcmp(billing, "PAY_PER_REQUEST") == 0;
    *out = info;
    json_decref(answer);
    return LK_OK;
}

int ddb_wait_active(ddb_client *c, const char *table, int64_t wait_ns, lk_buf *err)
{
    int64_t deadline = lk_now_ns() + (wait_ns > 0 ? wait_ns : DEFAULT_WAIT_NS);
    for (;;) {
        ddb_table_info info;
        int rc = ddb_describe_table(c, table, &info, err);
        if (rc != LK_OK)
            return rc;
        if (strcmp(info.status, "ACTIVE") == 0)
            return LK_OK;
        if (lk_now_ns() >= deadline) {
            lk_buf_printf(err, "DynamoDB table %s is still %s", table, info.status);
            return LK_EIO;
        }
        lk_sleep_ns(POLL_NS);
    }
}

int ddb_delete_table(ddb_client *c, const char *table, lk_buf *err)
{
    json_t *body = json_pack("{s:s}", "TableName", table);
    lk_buf why = { 0 };
    int rc = ddb_call(c, "DeleteTable", body, NULL, &why);
    json_decref(body);
    if (rc == LK_ENOTFOUND)
        rc = LK_OK;
    else if (rc != LK_OK)
        lk_buf_put_str(err, lk_buf_str(&why));
    lk_buf_free(&why);
    return rc;
}
