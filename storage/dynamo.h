/* A DynamoDB client for the index of `store: aws` periods: tables
 * (CreateTable with provisioned or on-demand throughput, DescribeTable,
 * waiting for ACTIVE, DeleteTable), BatchWriteItem puts and deletes, 25 to a
 * request, with UnprocessedItems sent again after a backoff, DeleteItem,
 * and Query by hash key with a range-key prefix or range, page by page
 * (LastEvaluatedKey). JSON (jansson) over aws_http.h: SigV4, retries of
 * 5xx and throttling, metrics labelled service="dynamodb".
 *
 * Item layout, Loki's (its aws storage client, so a table Loki wrote reads
 * the same):
 *   h  S  hash key: the index entry's hash value, UTF-8 text
 *         ("<tenant>:d<day>:<metric name>" and the like)
 *   r  B  range key: the entry's range value, bytes, compared bytewise;
 *         never empty (DynamoDB refuses an empty key)
 *   c  B  the entry's value; omitted when empty (read back as empty)
 * Tables: attribute h of type S as HASH key, r of type B as RANGE key.
 * Binary attributes travel in the JSON as standard base64. */
#ifndef LOKIC_STORAGE_DYNAMO_H
#define LOKIC_STORAGE_DYNAMO_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/str.h"
#include "storage/aws_http.h"

typedef struct ddb_config {
    /* "http://127.0.0.1:8000", a bare "host[:port]" (https, or http when
     * insecure); NULL or "": AWS's dynamodb.<region>.amazonaws.com */
    const char *endpoint;
    const char *region;       /* NULL or "": us-east-1 */
    const char *access_key;
    const char *secret_key;
    const char *session_token;
    bool insecure;
    aws_http_config http;     /* timeouts, retries, TLS; service, region and keys are set here */
} ddb_config;

typedef struct ddb_client ddb_client;

/* LK_EINVAL with a reason for an endpoint this client cannot use. The
 * config's strings are copied. */
int ddb_create(const ddb_config *cfg, ddb_client **out, lk_buf *err);
void ddb_destroy(ddb_client *c);

/* Every call below: LK_OK, LK_ENOTFOUND (no such table), LK_EINVAL (an
 * item this layout cannot hold: a hash that is not UTF-8, an empty range),
 * LK_EIO (transport failures past the retries, or an error answer whose
 * type and message go to err). */

/* Throughput of a new table: Loki's table_manager index_tables_provisioning
 * (provisioned_read_throughput, provisioned_write_throughput,
 * enable_ondemand_throughput_mode). */
typedef struct ddb_throughput {
    int64_t read;
    int64_t write;
    bool on_demand; /* PAY_PER_REQUEST: read and write are not sent */
} ddb_throughput;

/* Creates the table with this layout's keys and waits until it is ACTIVE
 * (at most wait_ns; 0: 5 minutes). A table that exists already is not an
 * error (its throughput is left as it is). */
int ddb_create_table(ddb_client *c, const char *table, const ddb_throughput *tp,
                     int64_t wait_ns, lk_buf *err);

typedef struct ddb_table_info {
    char status[24];       /* CREATING, ACTIVE, UPDATING, DELETING, ... */
    ddb_throughput throughput;
    int64_t item_count;    /* as DynamoDB last counted (every 6 hours on AWS) */
} ddb_table_info;
int ddb_describe_table(ddb_client *c, const char *table, ddb_table_info *out, lk_buf *err);
/* Polls DescribeTable until the table is ACTIVE: LK_EIO past wait_ns (0:
 * 5 minutes). */
int ddb_wait_active(ddb_client *c, const char *table, int64_t wait_ns, lk_buf *err);
/* Deleting a missing table is not an error. */
int ddb_delete_table(ddb_client *c, const char *table, lk_buf *err);

/* One index entry; for a delete only hash and range count. */
typedef struct ddb_item {
    lk_str hash;
    lk_str range;
    lk_str value;
} ddb_item;

/* Writes puts and deletes in BatchWriteItem requests of at most 25, each
 * request's UnprocessedItems sent again after a backoff (the http config's
 * max_retries times at most, then LK_EIO naming how many were left). One
 * key may appear once in puts and deletes together (DynamoDB refuses a
 * request naming a key twice). */
int ddb_batch_write(ddb_client *c, const char *table, const ddb_item *puts, size_t nputs,
                    const ddb_item *deletes, size_t ndeletes, lk_buf *err);
/* Deleting a missing item is not an error. */
int ddb_delete_item(ddb_client *c, const char *table, lk_str hash, lk_str range, lk_buf *err);

/* The items of one hash key whose range key begins with range_prefix (when
 * not empty) or else lies in [range_start, range_end] (each bound only when
 * not empty), optionally only those whose value equals value_equal. */
typedef struct ddb_query_spec {
    lk_str hash;
    lk_str range_prefix;
    lk_str range_start;
    lk_str range_end;
    lk_str value_equal;
    bool filter_value;  /* value_equal applies (it may be empty) */
    int page_size;      /* Limit per request (0: DynamoDB's 1 MB pages) */
} ddb_query_spec;
/* Called for each item, in range-key order; the item's strings are valid
 * during the call. Non-zero stops the query and is returned. */
typedef int (*ddb_item_fn)(void *ctx, const ddb_item *item);
int ddb_query(ddb_client *c, const char *table, const ddb_query_spec *q, ddb_item_fn fn, void *ctx,
              lk_buf *err);

#endif
