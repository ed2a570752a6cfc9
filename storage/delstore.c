/* The durable store of delete requests (storage/delete.h): an LMDB
 * environment of its own in <index directory>/deletes, apart from the
 * label index because the index is derived data that a rebuild replaces
 * (storage/reindex.h), and delete requests are not derived from anything.
 *
 * One database, "requests":
 *   key    u8 T, T bytes tenant (T <= 255), 8 bytes request id (hex text)
 *   value  u8 version (1), u8 status (0 received, 1 processed),
 *          i64 start ms, i64 end ms, i64 created ms (big-endian, two's
 *          complement), then the query's bytes to the end of the value
 * A record of another version or a shorter value is skipped with a
 * warning. Every write is one transaction, durable when it returns. */
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "storage/delete.h"
#include "storage/fsutil.h"

#define REC_VERSION 1
#define REC_HEAD 26 /* version, status, three i64 */
#define KEY_MAX (1 + 255 + DEL_ID_LEN)

struct del_store {
    MDB_env *env;
    MDB_dbi db;
};

static int fail(lk_buf *err, const char *what, int m)
{
    if (err)
        lk_buf_printf(err, "delete requests: %s: %s", what, mdb_strerror(m));
    return LK_EIO;
}

int del_store_open(const char *dir, del_store **out, lk_buf *err)
{
    int rc = fs_mkdirs(dir, err);
    if (rc != 0)
        return rc;
    del_store *d = lk_calloc(1, sizeof(*d));
    MDB_txn *txn = NULL;
    int m;
    if ((m = mdb_env_create(&d->env)) == 0 && (m = mdb_env_set_maxdbs(d->env, 1)) == 0 &&
        (m = mdb_env_set_mapsize(d->env, (size_t)1 << 30)) == 0 &&
        (m = mdb_env_open(d->env, dir, MDB_NOTLS, 0644)) == 0 &&
        (m = mdb_txn_begin(d->env, NULL, 0, &txn)) == 0 &&
        (m = mdb_dbi_open(txn, "requests", MDB_CREATE, &d->db)) == 0) {
        m = mdb_txn_commit(txn);
        txn = NULL;
    }
    if (txn)
        mdb_txn_abort(txn);
    if (m != 0) {
        if (err)
            lk_buf_printf(err, "opening the delete requests in \"%s\" failed: %s", dir,
                          mdb_strerror(m));
        del_store_close(d);
        return LK_EIO;
    }
    int dead = 0;
    mdb_reader_check(d->env, &dead);
    *out = d;
    return 0;
}

void del_store_close(del_store *d)
{
    if (!d)
        return;
    if (d->env)
        mdb_env_close(d->env);
    free(d);
}

static void put_i64(uint8_t *p, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 7; i >= 0; i--, u >>= 8)
        p[i] = (uint8_t)u;
}

static int64_t get_i64(const uint8_t *p)
{
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = u << 8 | p[i];
    return (int64_t)u;
}

static size_t make_key(uint8_t *k, lk_str tenant, const char *id)
{
    k[0] = (uint8_t)tenant.len;
    memcpy(k + 1, tenant.p, tenant.len);
    memcpy(k + 1 + tenant.len, id, DEL_ID_LEN);
    return 1 + tenant.len + DEL_ID_LEN;
}

static int write_txn(del_store *d, MDB_val *key, MDB_val *val, const char *what, lk_buf *err)
{
    MDB_txn *txn;
    int m = mdb_txn_begin(d->env, NULL, 0, &txn);
    if (m != 0)
        return fail(err, "starting a write transaction", m);
    m = val ? mdb_put(txn, d->db, key, val, 0) : mdb_del(txn, d->db, key, NULL);
    if (m != 0) {
        mdb_txn_abort(txn);
        return m == MDB_NOTFOUND ? LK_ENOTFOUND : fail(err, what, m);
    }
    if ((m = mdb_txn_commit(txn)) != 0)
        return fail(err, what, m);
    return 0;
}

int del_store_put(del_store *d, lk_str tenant, const del_req *r, lk_buf *err)
{
    if (tenant.len > 255)
        return LK_EINVAL;
    uint8_t k[KEY_MAX];
    MDB_val key = { make_key(k, tenant, r->id), k };
    uint8_t *v = lk_malloc(REC_HEAD + r->query.len);
    v[0] = REC_VERSION;
    v[1] = r->processed ? 1 : 0;
    put_i64(v + 2, r->start_ms);
    put_i64(v + 10, r->end_ms);
    put_i64(v + 18, r->created_ms);
    if (r->query.len)
        memcpy(v + REC_HEAD, r->query.p, r->query.len);
    MDB_val val = { REC_HEAD + r->query.len, v };
    int rc = write_txn(d, &key, &val, "writing a request", err);
    free(v);
    return rc;
}

int del_store_remove(del_store *d, lk_str tenant, const char *id, lk_buf *err)
{
    if (tenant.len > 255)
        return LK_ENOTFOUND;
    uint8_t k[KEY_MAX];
    MDB_val key = { make_key(k, tenant, id), k };
    return write_txn(d, &key, NULL, "removing a request", err);
}

/* Decodes a record; false when it is not one this version writes. */
static bool decode(const MDB_val *key, const MDB_val *val, lk_str *tenant, del_req *r)
{
    const uint8_t *k = key->mv_data, *v = val->mv_data;
    if (key->mv_size < 1 || key->mv_size != 1u + k[0] + DEL_ID_LEN ||
        val->mv_size < REC_HEAD || v[0] != REC_VERSION || v[1] > 1)
        return false;
    *tenant = lk_str_n((const char *)k + 1, k[0]);
    memset(r, 0, sizeof(*r));
    memcpy(r->id, k + 1 + k[0], DEL_ID_LEN);
    r->processed = v[1] == 1;
    r->start_ms = get_i64(v + 2);
    r->end_ms = get_i64(v + 10);
    r->created_ms = get_i64(v + 18);
    r->query = lk_str_n((const char *)v + REC_HEAD, val->mv_size - REC_HEAD);
    return true;
}

int del_store_load(del_store *d, del_store_fn fn, void *ctx, lk_buf *err)
{
    MDB_txn *txn;
    MDB_cursor *c;
    int m = mdb_txn_begin(d->env, NULL, MDB_RDONLY, &txn);
    if (m != 0)
        return fail(err, "starting a read transaction", m);
    if ((m = mdb_cursor_open(txn, d->db, &c)) != 0) {
        mdb_txn_abort(txn);
        return fail(err, "opening a cursor", m);
    }
    MDB_val key, val;
    int rc = 0;
    for (m = mdb_cursor_get(c, &key, &val, MDB_FIRST); m == 0 && rc == 0;
         m = mdb_cursor_get(c, &key, &val, MDB_NEXT)) {
        lk_str tenant;
        del_req r;
        if (!decode(&key, &val, &tenant, &r)) {
            log_warn("skipping a delete request record that does not decode",
                     "key_bytes=%zu value_bytes=%zu", key.mv_size, val.mv_size);
            continue;
        }
        rc = fn(ctx, tenant, &r);
    }
    mdb_cursor_close(c);
    mdb_txn_abort(txn);
    if (rc == 0 && m != 0 && m != MDB_NOTFOUND)
        return fail(err, "reading the requests", m);
    return rc;
}
