/* The DynamoDB client's item operations (dynamo.h): BatchWriteItem with
 * UnprocessedItems sent again, DeleteItem, and Query page by page. Items
 * are encoded as dynamo.h lays them out: {"h":{"S":..},"r":{"B":..},
 * "c":{"B":..}}, binary in base64. Reads are consistent (ConsistentRead), as
 * Loki's are, so an entry written is found by the next query. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base64.h"
#include "lib/err.h"
#include "storage/dynamo_int.h"

#define BATCH_MAX 25 /* DynamoDB's limit of requests per BatchWriteItem */

/* ---- attribute values */

static json_t *bin_attr(lk_str v)
{
    lk_buf b = { 0 };
    lk_base64_encode(v.p, v.len, &b);
    json_t *a = json_pack("{s:s%}", "B", b.p ? b.p : "", b.len);
    lk_buf_free(&b);
    return a;
}

/* {"S": s}, or NULL when s is not UTF-8. */
static json_t *str_attr(lk_str s)
{
    json_t *v = json_stringn(s.p ? s.p : "", s.len);
    return v ? json_pack("{s:o}", "S", v) : NULL;
}

/* The item's key (h, r), and its value c unless with_value is false or
 * the value is empty. LK_EINVAL with a reason for what the layout cannot
 * hold. */
static int item_json(const ddb_item *it, bool with_value, json_t **out, lk_buf *err)
{
    json_t *h = str_attr(it->hash);
    if (!h || it->range.len == 0) {
        lk_buf_puts(err, h ? "DynamoDB: an empty range key" : "DynamoDB: a hash key not UTF-8");
        json_decref(h);
        return LK_EINVAL;
    }
    json_t *o = json_pack("{s:o,s:o}", DDB_HASH, h, DDB_RANGE, bin_attr(it->range));
    if (with_value && it->value.len)
        json_object_set_new(o, DDB_VALUE, bin_attr(it->value));
    *out = o;
    return LK_OK;
}

/* Decodes a binary attribute of item into out (reset first); a missing
 * attribute is empty. */
static int bin_value(json_t *item, const char *name, lk_buf *out)
{
    lk_buf_reset(out);
    json_t *a = json_object_get(item, name);
    if (!a)
        return LK_OK;
    json_t *b = json_object_get(a, "B");
    if (!json_is_string(b))
        return LK_EIO;
    return lk_base64_decode(lk_str_n(json_string_value(b), json_string_length(b)), out) == LK_OK
               ? LK_OK
               : LK_EIO;
}

/* ---- writes */

static size_t unprocessed_count(json_t *un)
{
    size_t n = 0;
    const char *name;
    json_t *reqs;
    json_object_foreach(un, name, reqs)
        n += json_array_size(reqs);
    return n;
}

/* Sends {"RequestItems": items} (stolen), then what comes back
 * unprocessed, after a backoff, until nothing is left or the retries run
 * out. */
static int send_batch(ddb_client *c, json_t *items, lk_buf *err)
{
    int rc = LK_OK;
    for (int attempt = 0;; attempt++) {
        json_t *body = json_pack("{s:o}", "RequestItems", items), *answer = NULL;
        rc = ddb_call(c, "BatchWriteItem", body, &answer, err);
        json_decref(body);
        if (rc != LK_OK)
            break;
        json_t *un = json_object_get(answer, "UnprocessedItems");
        size_t left = unprocessed_count(un);
        if (left && attempt >= c->max_retries) {
            lk_buf_printf(err, "DynamoDB BatchWriteItem: %zu items still unprocessed after %d "
                               "retries", left, attempt);
            rc = LK_EIO;
        }
        items = left && rc == LK_OK ? json_incref(un) : NULL;
        json_decref(answer);
        if (!items)
            break;
        aws_http_backoff(c->http, attempt + 1);
    }
    return rc;
}

/* The write request of entry i of puts followed by deletes. */
static int write_request(const ddb_item *puts, size_t nputs, const ddb_item *deletes, size_t i,
                         json_t **out, lk_buf *err)
{
    bool put = i < nputs;
    json_t *item;
    int rc = item_json(put ? &puts[i] : &deletes[i - nputs], put, &item, err);
    if (rc != LK_OK)
        return rc;
    *out = put ? json_pack("{s:{s:o}}", "PutRequest", "Item", item)
               : json_pack("{s:{s:o}}", "DeleteRequest", "Key", item);
    return LK_OK;
}

int ddb_batch_write(ddb_client *c, const char *table, const ddb_item *puts, size_t nputs,
                    const ddb_item *deletes, size_t ndeletes, lk_buf *err)
{
    size_t total = nputs + ndeletes;
    int rc = LK_OK;
    for (size_t i = 0; i < total && rc == LK_OK; i += BATCH_MAX) {
        json_t *reqs = json_array();
        for (size_t j = i; j < total && j < i + BATCH_MAX && rc == LK_OK; j++) {
            json_t *one = NULL;
            rc = write_request(puts, nputs, deletes, j, &one, err);
            if (rc == LK_OK)
                json_array_append_new(reqs, one);
        }
        if (rc == LK_OK)
            rc = send_batch(c, json_pack("{s:o}", table, reqs), err);
        else
            json_decref(reqs);
    }
    return rc;
}

int ddb_delete_item(ddb_client *c, const char *table, lk_str hash, lk_str range, lk_buf *err)
{
    ddb_item it = { .hash = hash, .range = range };
    json_t *key;
    int rc = item_json(&it, false, &key, err);
    if (rc != LK_OK)
        return rc;
    json_t *body = json_pack("{s:s,s:o}", "TableName", table, "Key", key);
    rc = ddb_call(c, "DeleteItem", body, NULL, err);
    json_decref(body);
    return rc;
}

/* ---- queries */

/* The condition on the range key, with its values added to vals. */
static void range_condition(const ddb_query_spec *q, lk_buf *cond, json_t *vals)
{
    if (q->range_prefix.len) {
        lk_buf_puts(cond, " AND begins_with(" DDB_RANGE ", :p)");
        json_object_set_new(vals, ":p", bin_attr(q->range_prefix));
    } else if (q->range_start.len && q->range_end.len) {
        lk_buf_puts(cond, " AND " DDB_RANGE " BETWEEN :a AND :b");
        json_object_set_new(vals, ":a", bin_attr(q->range_start));
        json_object_set_new(vals, ":b", bin_attr(q->range_end));
    } else if (q->range_start.len) {
        lk_buf_puts(cond, " AND " DDB_RANGE " >= :a");
        json_object_set_new(vals, ":a", bin_attr(q->range_start));
    } else if (q->range_end.len) {
        lk_buf_puts(cond, " AND " DDB_RANGE " <= :b");
        json_object_set_new(vals, ":b", bin_attr(q->range_end));
    }
}

/* The first page's request; LK_EINVAL when the hash is not UTF-8. */
static int query_body(const char *table, const ddb_query_spec *q, json_t **out, lk_buf *err)
{
    json_t *h = str_attr(q->hash);
    if (!h) {
        lk_buf_puts(err, "DynamoDB Query: a hash key not UTF-8");
        return LK_EINVAL;
    }
    json_t *vals = json_pack("{s:o}", ":h", h);
    lk_buf cond = { 0 };
    lk_buf_puts(&cond, DDB_HASH " = :h");
    range_condition(q, &cond, vals);
    json_t *b = json_pack("{s:s,s:s,s:b}", "TableName", table, "KeyConditionExpression", cond.p,
                          "ConsistentRead", 1);
    if (q->filter_value && q->value_equal.len) {
        json_object_set_new(b, "FilterExpression", json_string(DDB_VALUE " = :v"));
        json_object_set_new(vals, ":v", bin_attr(q->value_equal));
    } else if (q->filter_value) {
        json_object_set_new(b, "FilterExpression", json_string("attribute_not_exists(" DDB_VALUE ")"));
    }
    json_object_set_new(b, "ExpressionAttributeValues", vals);
    if (q->page_size > 0)
        json_object_set_new(b, "Limit", json_integer(q->page_size));
    lk_buf_free(&cond);
    *out = b;
    return LK_OK;
}

typedef struct page_ctx {
    lk_buf range, value;
    ddb_item_fn fn;
    void *ctx;
} page_ctx;

static int each_item(page_ctx *p, json_t *items, lk_buf *err)
{
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) {
        json_t *h = json_object_get(json_object_get(it, DDB_HASH), "S");
        if (!json_is_string(h) || bin_value(it, DDB_RANGE, &p->range) != LK_OK ||
            bin_value(it, DDB_VALUE, &p->value) != LK_OK) {
            lk_buf_puts(err, "DynamoDB Query: an item not in lokic's layout (h: S, r and c: B)");
            return LK_EIO;
        }
        ddb_item item = { lk_str_n(json_string_value(h), json_string_length(h)),
                          lk_buf_str(&p->range), lk_buf_str(&p->value) };
        int rc = p->fn(p->ctx, &item);
        if (rc != 0)
            return rc;
    }
    return LK_OK;
}

int ddb_query(ddb_client *c, const char *table, const ddb_query_spec *q, ddb_item_fn fn, void *ctx,
              lk_buf *err)
{
    json_t *body = NULL;
    int rc = query_body(table, q, &body, err);
    page_ctx p = { .fn = fn, .ctx = ctx };
    while (rc == LK_OK) {
        json_t *answer = NULL;
        rc = ddb_call(c, "Query", body, &answer, err);
        if (rc != LK_OK)
            break;
        rc = each_item(&p, json_object_get(answer, "Items"), err);
        json_t *last = json_object_get(answer, "LastEvaluatedKey");
        if (rc == LK_OK && json_object_size(last))
            json_object_set(body, "ExclusiveStartKey", last);
        else
            last = NULL;
        json_decref(answer);
        if (!last)
            break;
    }
    json_decref(body);
    lk_buf_free(&p.range);
    lk_buf_free(&p.value);
    return rc;
}
