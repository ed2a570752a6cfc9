/* One test body for every object store (storage/objstore.h): run on the
 * file-system store by unit/test_objstore.c and on an S3 bucket (radosgw)
 * by s3/objstore_s3.c, so both implementations answer alike. */
#ifndef LOKIC_TESTS_UNIT_OBJSTORE_SUITE_H
#define LOKIC_TESTS_UNIT_OBJSTORE_SUITE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "storage/objstore.h"

/* What each test of the suite gets as its cmocka state: the store, and a
 * key prefix of its own ("run-<n>/") so that runs sharing a bucket never
 * meet. */
typedef struct objstore_fixture {
    obj_store *store;
    char prefix[64];
} objstore_fixture;

/* The suite's tests; their state must be an objstore_fixture. */
extern const struct CMUnitTest objstore_suite[];
extern const size_t objstore_suite_len;

#endif
