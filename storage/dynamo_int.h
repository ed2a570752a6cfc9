/* What the DynamoDB client's files (dynamo.c, dynamo_items.c) share: the
 * client's struct, the attribute names of the item layout (dynamo.h) and
 * one JSON request. Private to them. */
#ifndef LOKIC_STORAGE_DYNAMO_INT_H
#define LOKIC_STORAGE_DYNAMO_INT_H

#include <jansson.h>

#include "storage/dynamo.h"

#define DDB_HASH "h"
#define DDB_RANGE "r"
#define DDB_VALUE "c"

struct ddb_client {
    aws_http *http;
    char *url_base;  /* scheme://host[:port] */
    char *host;      /* the Host header */
    int max_retries; /* of unprocessed items, as of requests */
};

/* POSTs body as operation op; the answer's JSON object goes to *answer
 * (when not NULL; json_decref it). LK_ENOTFOUND for
 * ResourceNotFoundException, LK_EIO for other errors (the exception's
 * name and message in err). */
int ddb_call(ddb_client *c, const char *op, json_t *body, json_t **answer, lk_buf *err);

#endif
