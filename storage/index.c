/* The LMDB label index (storage/index.h).
 *
 * One environment (data.mdb, lock.mdb) in the index directory, mapped
 * sparsely up to 64 GiB, with three named databases. Integers in keys are
 * big-endian, so LMDB's byte order is numeric order; signed values are
 * biased (sign bit flipped) so that negative ones sort first. Every key
 * starts with the tenant and period:
 *
 *   TP   = u8 T, T bytes tenant (T <= 150), u32 period ^ 0x80000000
 *   SID  = u64 fingerprint, u64 second hash (storage/chunkref.h)
 *
 *   postings (MDB_DUPSORT | MDB_DUPFIXED)
 *     key   TP, NAME, 0x00, KIND, VALUE
 *           NAME: the label name; a name longer than 200 bytes is its first
 *             200 bytes, '#', and 16 lowercase hex digits of XXH3-64 of the
 *             whole name ('#' never occurs in a valid name)
 *           KIND 0x00: VALUE is the label value, when the key fits LMDB's
 *             key size (511); KIND 0x01: VALUE is the value's first 64
 *             bytes then u64 XXH3-64 of the whole value (such a key is a
 *             candidate for every regex matcher of its name; the labels
 *             decide)
 *     data  SID (16 bytes), one duplicate per stream
 *   series
 *     key   TP, SID
 *     data  the canonical labels, {a="1", b="2"}
 *   chunks
 *     key   TP, SID, u64 from ^ 2^63, u64 through ^ 2^63, u32 file CRC
 *     data  u64 file size, u32 entry count
 *
 * A chunk goes into every period from period(from) to period(through),
 * with its series and postings, in one write transaction per batch: a
 * period's series key exists exactly when its postings do. Readers ignore
 * keys and values of unexpected sizes (with a warning), never trusting a
 * length they did not check. */
#define _GNU_SOURCE
#include "storage/index.h"

#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "storage/faultguard.h"
#include "storage/fsutil.h"

#define MAP_SIZE ((size_t)64 << 30)
#define MIN_MAP_SIZE ((size_t)1 << 30)
#define MAX_READERS 4096
#define NAME_RAW_MAX 200
#define VALUE_HASH_PREFIX 64
#define DROP_BATCH 20000 /* deletions per write transaction */
#define KEY_CAP 600
#define SID_LEN 16
#define CHUNK_VAL_LEN 12

struct idx {
    MDB_env *env;
    MDB_dbi postings, series, chunks;
    size_t maxkey;
    size_t psize;     /* page size */
    const char *map;  /* where data.mdb is mapped (NULL: unknown) */
};

/* ---- key building */

typedef struct kbuf {
    uint8_t b[KEY_CAP];
    size_t n;
} kbuf;

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
    put_be32(p, (uint32_t)(v >> 32));
    put_be32(p + 4, (uint32_t)v);
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
    return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

static uint32_t period_bias(int32_t p)
{
    return (uint32_t)p ^ UINT32_C(0x80000000);
}

static int32_t period_unbias(uint32_t v)
{
    return (int32_t)(v ^ UINT32_C(0x80000000));
}

static uint64_t ts_bias(int64_t t)
{
    return (uint64_t)t ^ (UINT64_C(1) << 63);
}

static void kb_put(kbuf *k, const void *p, size_t n)
{
    if (n)
        memcpy(k->b + k->n, p, n);
    k->n += n;
}

static void kb_u32(kbuf *k, uint32_t v)
{
    put_be32(k->b + k->n, v);
    k->n += 4;
}

static void kb_u64(kbuf *k, uint64_t v)
{
    put_be64(k->b + k->n, v);
    k->n += 8;
}

/* Tenant lengths are checked by the callers (<= IDX_MAX_TENANT). */
static void kb_tp(kbuf *k, lk_str tenant, int32_t period)
{
    k->n = 0;
    k->b[k->n++] = (uint8_t)tenant.len;
    kb_put(k, tenant.p, tenant.len);
    kb_u32(k, period_bias(period));
}

static void kb_sid(kbuf *k, chk_sid sid)
{
    kb_u64(k, sid.fp);
    kb_u64(k, sid.h2);
}

static void kb_name(kbuf *k, lk_str name)
{
    if (name.len <= NAME_RAW_MAX) {
        kb_put(k, name.p, name.len);
    } else {
        char hex[18];
        snprintf(hex, sizeof hex, "#%016llx",
                 (unsigned long long)XXH3_64bits(name.p, name.len));
        kb_put(k, name.p, NAME_RAW_MAX);
        kb_put(k, hex, 17);
    }
    k->b[k->n++] = 0;
}

static void kb_value(kbuf *k, lk_str value, size_t maxkey)
{
    if (k->n + 1 + value.len <= maxkey) {
        k->b[k->n++] = 0;
        kb_put(k, value.p, value.len);
        return;
    }
    k->b[k->n++] = 1;
    kb_put(k, value.p, VALUE_HASH_PREFIX);
    kb_u64(k, XXH3_64bits(value.p, value.len));
}

static MDB_val kval(const kbuf *k)
{
    return (MDB_val){ k->n, (void *)k->b };
}

static bool has_prefix(const MDB_val *v, const kbuf *prefix)
{
    return v->mv_size >= prefix->n && memcmp(v->mv_data, prefix->b, prefix->n) == 0;
}

/* The tenant and period a key starts with; false when it is too short. */
static bool key_tp(const MDB_val *v, lk_str *tenant, int32_t *period, size_t *rest)
{
    const uint8_t *p = v->mv_data;
    if (v->mv_size < 1 || v->mv_size < (size_t)1 + p[0] + 4)
        return false;
    *tenant = lk_str_n((const char *)p + 1, p[0]);
    *period = period_unbias(get_be32(p + 1 + p[0]));
    *rest = (size_t)1 + p[0] + 4;
    return true;
}

/* ---- guarding against corrupt pages
 *
 * LMDB trusts its pages: a flipped byte in a node header hands out a key
 * or a value that points outside the file, and reading it would crash; a
 * corrupt page can also make LMDB itself read past the file. Reads run
 * under the fault guard (storage/faultguard.h), and every key and value a
 * read gets is checked to lie inside the pages written so far (from the
 * start of the map to its last page) before it is read; a fault or a key
 * or value outside ends the scan it came from like a corrupt page
 * (MDB_CORRUPTED), and the query goes on with the rest, with a warning.
 * Only in read transactions: a write transaction's own pages live outside
 * the map. */

typedef struct mapb {
    const char *lo, *hi; /* lo NULL: unknown, nothing is checked */
} mapb;

/* Where the environment's data file is mapped: LMDB does not say (its
 * me_mapaddr is only set for fixed maps), /proc/self/maps does. NULL when
 * it cannot be found. */
static const char *find_map(const char *dir)
{
    lk_buf want = { 0 };
    lk_buf_printf(&want, "%s/data.mdb", dir);
    char *real = realpath(want.p, NULL);
    lk_buf_free(&want);
    FILE *f = real ? fopen("/proc/self/maps", "r") : NULL;
    const char *base = NULL;
    char line[4352];
    while (f && !base && fgets(line, sizeof line, f)) {
        unsigned long start, end, off;
        int path_at = 0;
        if (sscanf(line, "%lx-%lx %*s %lx %*s %*s %n", &start, &end, &off, &path_at) != 3 ||
            !path_at || off != 0)
            continue;
        line[strcspn(line, "\n")] = '\0';
        if (strcmp(line + path_at, real) == 0)
            base = (const char *)start;
    }
    if (f)
        fclose(f);
    free(real);
    return base;
}

static mapb map_bounds(const idx *x)
{
    MDB_envinfo info;
    mapb b = { NULL, NULL };
    if (x->map && mdb_env_info(x->env, &info) == 0) {
        b.lo = x->map;
        b.hi = b.lo + ((size_t)info.me_last_pgno + 1) * x->psize;
    }
    return b;
}

/* v was handed out by LMDB (or still points to the caller's own bytes,
 * `own`) and lies inside the written pages. */
static bool in_map(mapb b, const MDB_val *v, const void *own)
{
    const char *p = v->mv_data;
    return !b.lo || v->mv_size == 0 || p == own ||
           (p >= b.lo && p <= b.hi && v->mv_size <= (size_t)(b.hi - p));
}

/* A read LMDB may fault in (storage/faultguard.h). */
typedef struct lmdb_read {
    MDB_txn *txn;        /* mdb_get when set, else mdb_cursor_get */
    MDB_dbi db;
    MDB_cursor *c;
    MDB_val *key, *data;
    MDB_cursor_op op;
    int m;
} lmdb_read;

static void do_read(void *arg)
{
    lmdb_read *r = arg;
    r->m = r->txn ? mdb_get(r->txn, r->db, r->key, r->data)
                  : mdb_cursor_get(r->c, r->key, r->data, r->op);
}

/* The read r, guarded: MDB_CORRUPTED when LMDB faulted or handed out a key
 * or value outside the written pages. */
static int guarded_read(mapb b, lmdb_read *r)
{
    const void *own = r->key->mv_data;
    if (!fg_run(do_read, r))
        return MDB_CORRUPTED;
    if (r->m == 0 && (!in_map(b, r->key, own) || !in_map(b, r->data, NULL)))
        return MDB_CORRUPTED;
    return r->m;
}

/* mdb_cursor_get whose key and data are checked (see above). */
static int cursor_get(mapb b, MDB_cursor *c, MDB_val *key, MDB_val *data, MDB_cursor_op op)
{
    lmdb_read r = { .c = c, .key = key, .data = data, .op = op };
    return guarded_read(b, &r);
}

static chk_sid get_sid(const uint8_t *p)
{
    return (chk_sid){ get_be64(p), get_be64(p + 8) };
}

static int lmdb_fail(lk_buf *err, const char *what, int rc)
{
    if (err)
        lk_buf_printf(err, "index: %s: %s", what, mdb_strerror(rc));
    return LK_EIO;
}

/* ---- open / close */

/* Creates and opens the environment, mapping MAP_SIZE of address space;
 * where that much cannot be reserved (a `ulimit -v`, valgrind) it tries a
 * quarter of it, down to MIN_MAP_SIZE, and says so. */
static int open_env(idx *x, const char *dir)
{
    int m = 0;
    for (size_t size = MAP_SIZE; size >= MIN_MAP_SIZE; size /= 4) {
        if ((m = mdb_env_create(&x->env)) != 0)
            return m;
        if ((m = mdb_env_set_maxdbs(x->env, 3)) == 0 &&
            (m = mdb_env_set_mapsize(x->env, size)) == 0 &&
            (m = mdb_env_set_maxreaders(x->env, MAX_READERS)) == 0)
            m = mdb_env_open(x->env, dir, MDB_NOTLS | MDB_NORDAHEAD, 0644);
        if (m == 0) {
            if (size < MAP_SIZE)
                log_warn("the index could not reserve its full address space", "dir=\"%s\" "
                         "wanted_bytes=%zu mapped_bytes=%zu", dir, MAP_SIZE, size);
            return 0;
        }
        mdb_env_close(x->env);
        x->env = NULL;
        if (m != ENOMEM && m != EINVAL) /* what mmap says to a map too large */
            break;
    }
    return m;
}

int idx_open(const char *dir, idx **out, lk_buf *err)
{
    int rc = fs_mkdirs(dir, err);
    if (rc != 0)
        return rc;
    idx *x = lk_calloc(1, sizeof(*x));
    MDB_txn *txn = NULL;
    int m = open_env(x, dir);
    if (m != 0) {
        if (err)
            lk_buf_printf(err, "opening the index \"%s\" failed: %s", dir, mdb_strerror(m));
        goto fail;
    }
    int dead = 0;
    mdb_reader_check(x->env, &dead); /* slots left by a killed process */
    x->maxkey = (size_t)mdb_env_get_maxkeysize(x->env);
    if (x->maxkey > KEY_CAP)
        x->maxkey = KEY_CAP;
    MDB_stat est;
    x->psize = mdb_env_stat(x->env, &est) == 0 ? est.ms_psize : 4096;
    fg_install();
    if (!(x->map = find_map(dir)))
        log_warn("the index map was not found in /proc/self/maps: corrupt index pages are "
                 "not guarded against", "dir=\"%s\"", dir);
    if ((m = mdb_txn_begin(x->env, NULL, 0, &txn)) == 0 &&
        (m = mdb_dbi_open(txn, "postings", MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED,
                          &x->postings)) == 0 &&
        (m = mdb_dbi_open(txn, "series", MDB_CREATE, &x->series)) == 0 &&
        (m = mdb_dbi_open(txn, "chunks", MDB_CREATE, &x->chunks)) == 0) {
        m = mdb_txn_commit(txn);
        txn = NULL;
    }
    if (m != 0) {
        if (txn)
            mdb_txn_abort(txn);
        if (err)
            lk_buf_printf(err, "opening the index databases in \"%s\" failed: %s", dir,
                          mdb_strerror(m));
        goto fail;
    }
    *out = x;
    return 0;
fail:
    idx_close(x);
    return LK_EIO;
}

void idx_close(idx *x)
{
    if (!x)
        return;
    if (x->env)
        mdb_env_close(x->env);
    free(x);
}

/* ---- adding chunks */

static int put_postings(idx *x, MDB_txn *txn, const idx_chunk *c, int32_t p, const uint8_t *sid)
{
    kbuf k;
    MDB_val data = { SID_LEN, (void *)sid };
    for (size_t i = 0; i < c->labels->n; i++) {
        kb_tp(&k, c->tenant, p);
        kb_name(&k, c->labels->v[i].name);
        kb_value(&k, c->labels->v[i].value, x->maxkey);
        MDB_val key = kval(&k);
        int m = mdb_put(txn, x->postings, &key, &data, MDB_NODUPDATA);
        if (m != 0 && m != MDB_KEYEXIST)
            return m;
    }
    return 0;
}

static int put_chunk_period(idx *x, MDB_txn *txn, const idx_chunk *c, int32_t p)
{
    kbuf k;
    uint8_t sid[SID_LEN];
    put_be64(sid, c->ref.sid.fp);
    put_be64(sid + 8, c->ref.sid.h2);
    kb_tp(&k, c->tenant, p);
    kb_put(&k, sid, SID_LEN);
    MDB_val key = kval(&k);
    MDB_val val = { c->canonical.len, (void *)c->canonical.p };
    int m = mdb_put(txn, x->series, &key, &val, MDB_NOOVERWRITE);
    if (m == 0)
        m = put_postings(x, txn, c, p, sid);
    else if (m == MDB_KEYEXIST)
        m = 0;
    if (m != 0)
        return m;
    kb_u64(&k, ts_bias(c->ref.from));
    kb_u64(&k, ts_bias(c->ref.through));
    kb_u32(&k, c->ref.crc);
    uint8_t v[CHUNK_VAL_LEN];
    put_be64(v, c->ref.size);
    put_be32(v + 8, c->ref.entries);
    key = kval(&k);
    val = (MDB_val){ sizeof(v), v };
    return mdb_put(txn, x->chunks, &key, &val, 0);
}

int idx_add(idx *x, const idx_chunk *v, size_t n, lk_buf *err)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i].tenant.len > IDX_MAX_TENANT || v[i].ref.from > v[i].ref.through) {
            if (err)
                lk_buf_printf(err, "index: bad chunk reference (tenant of %zu bytes)",
                              v[i].tenant.len);
            return LK_EINVAL;
        }
    }
    if (n == 0)
        return 0;
    MDB_txn *txn;
    int m = mdb_txn_begin(x->env, NULL, 0, &txn);
    if (m != 0)
        return lmdb_fail(err, "starting a write transaction", m);
    for (size_t i = 0; m == 0 && i < n; i++) {
        int64_t p0 = chk_period(v[i].ref.from), p1 = chk_period(v[i].ref.through);
        for (int64_t p = p0; m == 0 && p <= p1; p++)
            m = put_chunk_period(x, txn, &v[i], (int32_t)p);
    }
    if (m != 0) {
        mdb_txn_abort(txn);
        return lmdb_fail(err, "writing chunk references", m);
    }
    if ((m = mdb_txn_commit(txn)) != 0)
        return lmdb_fail(err, "committing chunk references", m);
    return 0;
}

/* ---- sets of stream ids */

typedef struct sidset {
    chk_sid *v;
    size_t n, cap;
} sidset;

static void sidset_add(sidset *s, chk_sid id)
{
    s->v = lk_grow(s->v, &s->cap, s->n + 1, sizeof(*s->v));
    s->v[s->n++] = id;
}

static int sid_cmp(const void *a, const void *b)
{
    const chk_sid *x = a, *y = b;
    if (x->fp != y->fp)
        return x->fp < y->fp ? -1 : 1;
    return x->h2 < y->h2 ? -1 : x->h2 > y->h2;
}

static void sidset_sort(sidset *s)
{
    if (s->n < 2)
        return;
    qsort(s->v, s->n, sizeof(*s->v), sid_cmp);
    size_t k = 1;
    for (size_t i = 1; i < s->n; i++) {
        if (!chk_sid_eq(s->v[i], s->v[k - 1]))
            s->v[k++] = s->v[i];
    }
    s->n = k;
}

/* a := a intersected with b (both sorted). */
static void sidset_intersect(sidset *a, const sidset *b)
{
    size_t i = 0, j = 0, k = 0;
    while (i < a->n && j < b->n) {
        int c = sid_cmp(&a->v[i], &b->v[j]);
        if (c == 0) {
            a->v[k++] = a->v[i];
            i++;
            j++;
        } else if (c < 0) {
            i++;
        } else {
            j++;
        }
    }
    a->n = k;
}

/* ---- selecting */

typedef struct sel {
    idx *x;
    MDB_txn *txn;
    MDB_cursor *cp, *cs, *cc;   /* postings, series, chunks */
    lk_str tenant;
    const lk_matcher *ms;
    size_t nm;
    int64_t from, through;
    bool with_chunks;
    idx_result *out;
    size_t warned;
    mapb map;                   /* the written pages (cursor_get) */
} sel;

static void warn_bad(sel *s, const char *db)
{
    if (s->warned++ < 5)
        log_warn("skipping a malformed index entry", "db=%s", db);
    if (s->out->skipped++ == 0)
        s->out->skipped_db = db;
}

/* Keys, and a key's duplicates, come out of LMDB in strictly increasing
 * byte order; one that does not comes from a corrupt page, which could
 * otherwise send a scan round a cycle forever. */
typedef struct order {
    uint8_t b[KEY_CAP];
    size_t n;
    bool any;
} order;

static bool in_order(order *o, const MDB_val *v)
{
    size_t n = v->mv_size < KEY_CAP ? v->mv_size : KEY_CAP;
    if (o->any) {
        int c = memcmp(v->mv_data, o->b, n < o->n ? n : o->n);
        if (c < 0 || (c == 0 && n <= o->n))
            return false;
    }
    memcpy(o->b, v->mv_data, n);
    o->n = n;
    o->any = true;
    return true;
}

static int sel_get(sel *s, MDB_cursor *c, MDB_val *key, MDB_val *data, MDB_cursor_op op)
{
    return cursor_get(s->map, c, key, data, op);
}

/* The end of a scan: MDB_NOTFOUND is its normal end; a corrupt page ends
 * it early, with a warning, and the query goes on with what was read. */
static int scan_end(sel *s, int m, const char *db)
{
    if (m == MDB_CORRUPTED || m == MDB_PAGE_NOTFOUND)
        warn_bad(s, db);
    return m == MDB_NOTFOUND || m == MDB_CORRUPTED || m == MDB_PAGE_NOTFOUND ? 0 : m;
}

/* All stream ids under the current postings key (the cursor is on it). */
static int collect_dups(sel *s, MDB_val *key, MDB_val *data, sidset *out)
{
    int m = 0;
    order o = { .any = false };
    for (;;) {
        if (!in_order(&o, data))
            return scan_end(s, MDB_CORRUPTED, "postings");
        if (data->mv_size == SID_LEN)
            sidset_add(out, get_sid(data->mv_data));
        else
            warn_bad(s, "postings");
        m = sel_get(s, s->cp, key, data, MDB_NEXT_DUP);
        if (m != 0)
            return scan_end(s, m, "postings");
    }
}

static int postings_of(sel *s, const lk_matcher *mt, int32_t p, sidset *out)
{
    kbuf k;
    kb_tp(&k, s->tenant, p);
    kb_name(&k, lk_str_n(mt->name, mt->name_len));
    MDB_val key, data;
    int m;
    if (mt->type == LK_MATCH_EQ) {
        kb_value(&k, lk_str_n(mt->value, mt->value_len), s->x->maxkey);
        key = kval(&k);
        m = sel_get(s, s->cp, &key, &data, MDB_SET_KEY);
        return m ? scan_end(s, m, "postings") : collect_dups(s, &key, &data, out);
    }
    size_t pre = k.n;
    key = kval(&k);
    m = sel_get(s, s->cp, &key, &data, MDB_SET_RANGE);
    order o = { .any = false };
    while (m == 0 && has_prefix(&key, &k)) {
        if (!in_order(&o, &key))
            return scan_end(s, MDB_CORRUPTED, "postings");
        const uint8_t *kp = key.mv_data;
        bool take;
        if (key.mv_size < pre + 1 || kp[pre] > 1) {
            warn_bad(s, "postings");
            take = false;
        } else {
            take = kp[pre] == 1 ||
                   matcher_matches(mt, lk_str_n((const char *)kp + pre + 1, key.mv_size - pre - 1));
        }
        if (take && (m = collect_dups(s, &key, &data, out)) != 0)
            return m;
        m = sel_get(s, s->cp, &key, &data, MDB_NEXT_NODUP);
    }
    return scan_end(s, m, "postings");
}

static int all_series(sel *s, int32_t p, sidset *out)
{
    kbuf k;
    kb_tp(&k, s->tenant, p);
    MDB_val key = kval(&k), data;
    int m = sel_get(s, s->cs, &key, &data, MDB_SET_RANGE);
    order o = { .any = false };
    while (m == 0 && has_prefix(&key, &k)) {
        if (!in_order(&o, &key))
            return scan_end(s, MDB_CORRUPTED, "series");
        if (key.mv_size == k.n + SID_LEN)
            sidset_add(out, get_sid((const uint8_t *)key.mv_data + k.n));
        else
            warn_bad(s, "series");
        m = sel_get(s, s->cs, &key, &data, MDB_NEXT);
    }
    return scan_end(s, m, "series");
}

/* Candidates of period p: the intersection of the postings of the matchers
 * that reject the empty value, or every series when there is none. */
static int candidates(sel *s, int32_t p, sidset *out)
{
    bool any = false;
    sidset one = { 0 };
    int m = 0;
    for (size_t i = 0; m == 0 && i < s->nm; i++) {
        const lk_matcher *mt = &s->ms[i];
        if (matcher_matches_empty(mt))
            continue;
        one.n = 0;
        m = postings_of(s, mt, p, any ? &one : out);
        if (m != 0)
            break;
        if (!any) {
            sidset_sort(out);
            any = true;
        } else {
            sidset_sort(&one);
            sidset_intersect(out, &one);
        }
        if (out->n == 0)
            break;
    }
    free(one.v);
    if (m == 0 && !any) {
        m = all_series(s, p, out);
        sidset_sort(out);
    }
    return m;
}

static size_t sid_hash(chk_sid id)
{
    return (size_t)(id.fp ^ (id.h2 * UINT64_C(0x9E3779B97F4A7C15)));
}

static idx_series *result_find(idx_result *r, chk_sid id, bool create)
{
    if (r->n_slots) {
        for (size_t i = sid_hash(id) & (r->n_slots - 1);; i = (i + 1) & (r->n_slots - 1)) {
            if (!r->slots[i])
                break;
            if (chk_sid_eq(r->v[r->slots[i] - 1].sid, id))
                return &r->v[r->slots[i] - 1];
        }
    }
    if (!create)
        return NULL;
    if ((r->n + 1) * 2 > r->n_slots) {
        size_t ns = r->n_slots ? r->n_slots * 2 : 64;
        free(r->slots);
        r->slots = lk_calloc(ns, sizeof(*r->slots));
        r->n_slots = ns;
        for (size_t j = 0; j < r->n; j++) {
            size_t i = sid_hash(r->v[j].sid) & (ns - 1);
            while (r->slots[i])
                i = (i + 1) & (ns - 1);
            r->slots[i] = j + 1;
        }
    }
    r->v = lk_grow(r->v, &r->cap, r->n + 1, sizeof(*r->v));
    idx_series *x = &r->v[r->n++];
    memset(x, 0, sizeof(*x));
    x->sid = id;
    size_t i = sid_hash(id) & (r->n_slots - 1);
    while (r->slots[i])
        i = (i + 1) & (r->n_slots - 1);
    r->slots[i] = r->n;
    return x;
}

/* The labels of a candidate, when they match every matcher. */
static int series_matches(sel *s, int32_t p, chk_sid id, MDB_val *canon, bool *ok)
{
    kbuf k;
    kb_tp(&k, s->tenant, p);
    kb_sid(&k, id);
    MDB_val key = kval(&k);
    *ok = false;
    lmdb_read r = { .txn = s->txn, .db = s->x->series, .key = &key, .data = canon };
    int m = guarded_read(s->map, &r);
    if (m != 0)
        return scan_end(s, m, "series");
    /* checked even without matchers: the labels go out as they are */
    lk_str text = lk_str_n(canon->mv_data, canon->mv_size);
    if (chk_sid_h2(text) != id.h2) { /* the key holds a hash of the labels */
        warn_bad(s, "series");
        return 0;
    }
    if (s->nm == 0) {
        *ok = true;
        return 0;
    }
    lk_labels l;
    if (labels_parse(text, &l, NULL) != 0) {
        warn_bad(s, "series");
        return 0;
    }
    *ok = matchers_match_labels(s->ms, s->nm, &l);
    labels_free(&l);
    return 0;
}

/* Adds the chunks of id in period p that overlap the range to *x (or
 * only says whether one exists). */
static int overlapping_chunks(sel *s, int32_t p, chk_sid id, idx_series *x, bool *found)
{
    kbuf k;
    kb_tp(&k, s->tenant, p);
    kb_sid(&k, id);
    size_t pre = k.n;
    MDB_val key = kval(&k), data;
    *found = false;
    int m = sel_get(s, s->cc, &key, &data, MDB_SET_RANGE);
    order o = { .any = false };
    for (; m == 0 && has_prefix(&key, &k); m = sel_get(s, s->cc, &key, &data, MDB_NEXT)) {
        if (!in_order(&o, &key))
            return scan_end(s, MDB_CORRUPTED, "chunks");
        const uint8_t *kp = key.mv_data;
        if (key.mv_size != pre + 20 || data.mv_size != CHUNK_VAL_LEN) {
            warn_bad(s, "chunks");
            continue;
        }
        chk_ref r = { .sid = id,
                      .from = (int64_t)(get_be64(kp + pre) ^ (UINT64_C(1) << 63)),
                      .through = (int64_t)(get_be64(kp + pre + 8) ^ (UINT64_C(1) << 63)),
                      .crc = get_be32(kp + pre + 16),
                      .size = get_be64(data.mv_data),
                      .entries = get_be32((const uint8_t *)data.mv_data + 8) };
        if (r.from > s->through)
            break; /* sorted by from */
        if (r.through < s->from || r.from > r.through)
            continue;
        *found = true;
        if (!x)
            return 0;
        x->chunks = lk_grow(x->chunks, &x->cap, x->n_chunks + 1, sizeof(*x->chunks));
        x->chunks[x->n_chunks++] = r;
    }
    return scan_end(s, m, "chunks");
}

static int select_period(sel *s, int32_t p)
{
    sidset cand = { 0 };
    int m = candidates(s, p, &cand);
    for (size_t i = 0; m == 0 && i < cand.n; i++) {
        chk_sid id = cand.v[i];
        idx_series *x = result_find(s->out, id, false);
        if (x && !s->with_chunks)
            continue; /* already known to overlap */
        MDB_val canon = { 0, NULL };
        bool ok = true;
        if (!x && (m = series_matches(s, p, id, &canon, &ok)) != 0)
            break;
        if (!ok)
            continue;
        bool found;
        if (!s->with_chunks) {
            if ((m = overlapping_chunks(s, p, id, NULL, &found)) != 0 || !found)
                continue;
            x = result_find(s->out, id, true);
        } else if (!x) {
            idx_series tmp = { .sid = id };
            if ((m = overlapping_chunks(s, p, id, &tmp, &found)) != 0 || !found) {
                free(tmp.chunks);
                continue;
            }
            x = result_find(s->out, id, true);
            *x = tmp;
        } else {
            m = overlapping_chunks(s, p, id, x, &found);
            continue;
        }
        x->canonical = lk_arena_str(&s->out->arena, lk_str_n(canon.mv_data, canon.mv_size));
    }
    free(cand.v);
    return m;
}

/* The first period >= p (and <= last) holding series of the tenant;
 * false when there is none. */
static bool next_period(sel *s, int64_t p, int64_t last, int32_t *out, int *m)
{
    if (p > last)
        return false;
    kbuf k;
    kb_tp(&k, s->tenant, (int32_t)p);
    MDB_val key = kval(&k), data;
    *m = sel_get(s, s->cs, &key, &data, MDB_SET_RANGE);
    if (*m != 0) {
        *m = scan_end(s, *m, "series");
        return false;
    }
    lk_str t;
    int32_t kp;
    size_t rest;
    if (!key_tp(&key, &t, &kp, &rest) || !lk_str_eq(t, s->tenant) || kp > last)
        return false;
    if (kp < p) { /* keys out of order: a corrupt page */
        *m = scan_end(s, MDB_CORRUPTED, "series");
        return false;
    }
    *out = kp;
    return true;
}

static int ref_cmp(const void *a, const void *b)
{
    const chk_ref *x = a, *y = b;
    if (x->from != y->from)
        return x->from < y->from ? -1 : 1;
    if (x->through != y->through)
        return x->through < y->through ? -1 : 1;
    return x->crc < y->crc ? -1 : x->crc > y->crc;
}

static int series_cmp(const void *a, const void *b)
{
    const idx_series *x = a, *y = b;
    return lk_str_cmp(x->canonical, y->canonical);
}

/* Sorts the chunks of each series, drops the ones indexed in two periods,
 * sorts the series. */
static void finish_result(idx_result *r)
{
    for (size_t i = 0; i < r->n; i++) {
        idx_series *x = &r->v[i];
        if (x->n_chunks < 2)
            continue;
        qsort(x->chunks, x->n_chunks, sizeof(*x->chunks), ref_cmp);
        size_t k = 1;
        for (size_t j = 1; j < x->n_chunks; j++) {
            if (!chk_ref_same(&x->chunks[j], &x->chunks[k - 1]))
                x->chunks[k++] = x->chunks[j];
        }
        x->n_chunks = k;
    }
    if (r->n > 1)
        qsort(r->v, r->n, sizeof(*r->v), series_cmp);
    free(r->slots); /* indexes are stale after sorting */
    r->slots = NULL;
    r->n_slots = 0;
}

int idx_select(idx *x, lk_str tenant, const lk_matcher *ms, size_t nm, int64_t from,
               int64_t through, bool with_chunks, idx_result *out, lk_buf *err)
{
    memset(out, 0, sizeof(*out));
    if (from > through || tenant.len > IDX_MAX_TENANT)
        return 0;
    sel s = { .x = x, .tenant = tenant, .ms = ms, .nm = nm, .from = from, .through = through,
              .with_chunks = with_chunks, .out = out };
    int m = mdb_txn_begin(x->env, NULL, MDB_RDONLY, &s.txn);
    if (m != 0)
        return lmdb_fail(err, "starting a read transaction", m);
    s.map = map_bounds(x);
    if ((m = mdb_cursor_open(s.txn, x->postings, &s.cp)) == 0 &&
        (m = mdb_cursor_open(s.txn, x->series, &s.cs)) == 0 &&
        (m = mdb_cursor_open(s.txn, x->chunks, &s.cc)) == 0) {
        int64_t p = chk_period(from), last = chk_period(through);
        int32_t cur;
        while (m == 0 && next_period(&s, p, last, &cur, &m)) {
            m = select_period(&s, cur);
            p = (int64_t)cur + 1;
        }
    }
    if (s.cp)
        mdb_cursor_close(s.cp);
    if (s.cs)
        mdb_cursor_close(s.cs);
    if (s.cc)
        mdb_cursor_close(s.cc);
    mdb_txn_abort(s.txn);
    finish_result(out);
    if (m != 0)
        return lmdb_fail(err, "reading", m);
    return 0;
}

void idx_result_free(idx_result *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->v[i].chunks);
    free(r->v);
    free(r->slots);
    lk_arena_free(&r->arena);
    memset(r, 0, sizeof(*r));
}

/* The compactor's rewrite of one chunk: the new reference in, the old one
 * out, in one transaction, so a crash leaves one of the two indexed. */
int idx_replace(idx *x, const idx_chunk *old, const chk_ref *repl, lk_buf *err)
{
    if (old->tenant.len > IDX_MAX_TENANT || (repl && repl->from > repl->through))
        return LK_EINVAL;
    MDB_txn *txn;
    int m = mdb_txn_begin(x->env, NULL, 0, &txn);
    if (m != 0)
        return lmdb_fail(err, "starting a write transaction", m);
    idx_chunk nc = *old;
    if (repl) {
        nc.ref = *repl;
        for (int64_t p = chk_period(repl->from); m == 0 && p <= chk_period(repl->through); p++)
            m = put_chunk_period(x, txn, &nc, (int32_t)p);
    }
    for (int64_t p = chk_period(old->ref.from); m == 0 && p <= chk_period(old->ref.through);
         p++) {
        kbuf k;
        kb_tp(&k, old->tenant, (int32_t)p);
        kb_sid(&k, old->ref.sid);
        kb_u64(&k, ts_bias(old->ref.from));
        kb_u64(&k, ts_bias(old->ref.through));
        kb_u32(&k, old->ref.crc);
        MDB_val key = kval(&k);
        if ((m = mdb_del(txn, x->chunks, &key, NULL)) == MDB_NOTFOUND)
            m = 0;
    }
    if (m != 0) {
        mdb_txn_abort(txn);
        return lmdb_fail(err, "replacing a chunk reference", m);
    }
    if ((m = mdb_txn_commit(txn)) != 0)
        return lmdb_fail(err, "committing a chunk replacement", m);
    return 0;
}

/* ---- retention */

/* Deletes the keys of db in periods below the cut of their tenant; counts
 * them into *n. Commits every DROP_BATCH deletions. Tenants are visited in
 * key order; the first kept key of a tenant sends the cursor past all of
 * its keys. */
static int drop_db(idx *x, MDB_dbi db, bool dups, chk_cutoff_fn cut, void *ctx, size_t *n)
{
    MDB_txn *txn = NULL;
    MDB_cursor *c = NULL;
    size_t in_txn = 0;
    kbuf seek = { .n = 0 }, skipped = { .n = 0 };
    MDB_val key, data;
    int m = 0;
    bool reposition = true;
    for (;;) {
        if (!txn) {
            if ((m = mdb_txn_begin(x->env, NULL, 0, &txn)) != 0 ||
                (m = mdb_cursor_open(txn, db, &c)) != 0)
                break;
            reposition = true;
        }
        if (reposition) {
            key = kval(&seek);
            m = mdb_cursor_get(c, &key, &data, seek.n ? MDB_SET_RANGE : MDB_FIRST);
            reposition = false;
        }
        if (m != 0)
            break;
        lk_str t;
        int32_t p;
        size_t rest;
        bool parsed = key_tp(&key, &t, &p, &rest);
        if (parsed && p >= cut(ctx, t)) {
            if (skipped.n && has_prefix(&key, &skipped)) {
                /* past the skip target but still this tenant (a key in the
                 * very last period): step over it */
                m = mdb_cursor_get(c, &key, &data, MDB_NEXT);
                continue;
            }
            /* this tenant's remaining periods are kept: go past them */
            skipped.n = 0;
            skipped.b[skipped.n++] = (uint8_t)t.len;
            kb_put(&skipped, t.p, t.len);
            kb_tp(&seek, t, INT32_MAX);
            memset(seek.b + seek.n, 0xff, 8);
            seek.n += 8;
            reposition = true;
            continue;
        }
        /* an old period, or a key too short to hold one: delete */
        seek.n = key.mv_size < KEY_CAP ? key.mv_size : KEY_CAP;
        memcpy(seek.b, key.mv_data, seek.n);
        if ((m = mdb_cursor_del(c, dups ? MDB_NODUPDATA : 0)) != 0)
            break;
        (*n)++;
        reposition = true;
        if (++in_txn >= DROP_BATCH) {
            mdb_cursor_close(c);
            c = NULL;
            m = mdb_txn_commit(txn);
            txn = NULL;
            in_txn = 0;
            if (m != 0)
                break;
        }
    }
    if (m == MDB_NOTFOUND)
        m = 0;
    if (c)
        mdb_cursor_close(c);
    if (txn) {
        if (m == 0)
            m = mdb_txn_commit(txn);
        else
            mdb_txn_abort(txn);
    }
    return m;
}

static int32_t same_cut(void *ctx, lk_str tenant)
{
    (void)tenant;
    return *(const int32_t *)ctx;
}

int idx_drop_before(idx *x, int32_t period, size_t *deleted, lk_buf *err)
{
    return idx_drop_expired(x, same_cut, &period, deleted, err);
}

int idx_drop_expired(idx *x, chk_cutoff_fn cut, void *ctx, size_t *deleted, lk_buf *err)
{
    size_t n = 0;
    int m = drop_db(x, x->chunks, false, cut, ctx, &n);
    if (m == 0)
        m = drop_db(x, x->postings, true, cut, ctx, &n);
    if (m == 0)
        m = drop_db(x, x->series, false, cut, ctx, &n);
    if (deleted)
        *deleted = n;
    if (m != 0)
        return lmdb_fail(err, "deleting old periods", m);
    return 0;
}

/* ---- checking */

/* Reads the first and the last key of db (guarded). */
static int check_ends(MDB_txn *txn, MDB_dbi db, mapb b)
{
    MDB_cursor *c = NULL;
    int m = mdb_cursor_open(txn, db, &c);
    static const MDB_cursor_op ops[2] = { MDB_FIRST, MDB_LAST };
    for (int i = 0; m == 0 && i < 2; i++) {
        MDB_val key = { 0, NULL }, data;
        m = cursor_get(b, c, &key, &data, ops[i]);
        if (m == MDB_NOTFOUND)
            m = 0;
    }
    if (c)
        mdb_cursor_close(c);
    return m;
}

int idx_check(idx *x, size_t *chunk_keys, lk_buf *err)
{
    MDB_txn *txn;
    int m = mdb_txn_begin(x->env, NULL, MDB_RDONLY, &txn);
    if (m != 0)
        return lmdb_fail(err, "starting a read transaction", m);
    mapb b = map_bounds(x);
    const MDB_dbi dbs[3] = { x->postings, x->series, x->chunks };
    static const char *const names[3] = { "postings", "series", "chunks" };
    int i = 0;
    for (; m == 0 && i < 3; i++)
        m = check_ends(txn, dbs[i], b);
    MDB_stat st;
    if (m == 0)
        m = mdb_stat(txn, x->chunks, &st);
    mdb_txn_abort(txn);
    if (m == MDB_CORRUPTED || m == MDB_PAGE_NOTFOUND) {
        if (err)
            lk_buf_printf(err, "index: the %s database is corrupt: %s", names[i - 1],
                          mdb_strerror(m));
        return LK_ECORRUPT;
    }
    if (m != 0)
        return lmdb_fail(err, "checking", m);
    *chunk_keys = st.ms_entries;
    return 0;
}

int idx_count(idx *x, lk_str tenant, int32_t period, idx_counts *c, lk_buf *err)
{
    memset(c, 0, sizeof(*c));
    if (tenant.len > IDX_MAX_TENANT)
        return LK_EINVAL;
    MDB_txn *txn;
    int m = mdb_txn_begin(x->env, NULL, MDB_RDONLY, &txn);
    if (m != 0)
        return lmdb_fail(err, "starting a read transaction", m);
    MDB_dbi dbs[3] = { x->postings, x->series, x->chunks };
    size_t *cnt[3] = { &c->postings, &c->series, &c->chunks };
    kbuf k;
    kb_tp(&k, tenant, period);
    for (int i = 0; m == 0 && i < 3; i++) {
        MDB_cursor *cur;
        if ((m = mdb_cursor_open(txn, dbs[i], &cur)) != 0)
            break;
        MDB_val key = kval(&k), data;
        m = mdb_cursor_get(cur, &key, &data, MDB_SET_RANGE);
        while (m == 0 && has_prefix(&key, &k)) {
            (*cnt[i])++;
            m = mdb_cursor_get(cur, &key, &data, MDB_NEXT);
        }
        if (m == MDB_NOTFOUND)
            m = 0;
        mdb_cursor_close(cur);
    }
    mdb_txn_abort(txn);
    return m ? lmdb_fail(err, "counting keys", m) : 0;
}
