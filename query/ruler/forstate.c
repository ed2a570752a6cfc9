/* The alerts' for state on disk and its restore (forstate.h). The file
 * <ruler.wal.dir>/for_state, replaced whole (fs_write_durable) after each
 * round of evaluations; little-endian:
 *
 *   0   4  magic "LKFS"
 *   4   1  version (1)
 *   5   3  zero
 *   8   4  record count
 *   12  4  payload length P
 *   16  4  CRC-32C of the payload
 *   20  P  records, each:
 *            4  key length K
 *            K  key: tenant NUL group NUL canonical alert labels
 *            8  active time, Unix seconds (signed)
 *            8  last evaluation, Unix milliseconds (signed)
 *
 * The file counts when its length is 20 + P, the checksum matches and the
 * records fill the payload exactly; otherwise nothing is restored. */
#include "query/ruler/forstate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/crc32c.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "storage/codec.h"
#include "storage/fsutil.h"

#define HDR 20
#define FILE_NAME "for_state"

void rul_fstate_key(const char *tenant, lk_str group, const lk_labels *alert, lk_buf *out)
{
    lk_buf_puts(out, tenant);
    lk_buf_putc(out, '\0');
    lk_buf_put_str(out, group);
    lk_buf_putc(out, '\0');
    labels_canonical(alert, out);
}

void rul_fstate_add(rul_fstate *s, lk_str key, int64_t active_at_s, int64_t down_at_ms)
{
    s->v = lk_grow(s->v, &s->cap, s->n + 1, sizeof *s->v);
    s->v[s->n++] = (rul_fsrec){ lk_strndup(key.p, key.len), key.len, active_at_s, down_at_ms };
}

bool rul_fstate_in_group(const rul_fsrec *r, const char *tenant, lk_str group)
{
    size_t tl = strlen(tenant);
    return r->key_len > tl + group.len + 1 && memcmp(r->key, tenant, tl) == 0 &&
           r->key[tl] == '\0' && memcmp(r->key + tl + 1, group.p, group.len) == 0 &&
           r->key[tl + 1 + group.len] == '\0';
}

int rul_fstate_save(const rul_fstate *s, const char *dir, lk_buf *err)
{
    lk_buf b = { 0 };
    uint8_t hdr[HDR] = { 'L', 'K', 'F', 'S', 1, 0, 0, 0 };
    lk_buf_append(&b, hdr, HDR);
    for (size_t i = 0; i < s->n; i++) {
        uint8_t n[8];
        codec_put_le32(n, (uint32_t)s->v[i].key_len);
        lk_buf_append(&b, n, 4);
        lk_buf_append(&b, s->v[i].key, s->v[i].key_len);
        codec_put_le64(n, (uint64_t)s->v[i].active_at_s);
        lk_buf_append(&b, n, 8);
        codec_put_le64(n, (uint64_t)s->v[i].down_at_ms);
        lk_buf_append(&b, n, 8);
    }
    uint8_t *p = (uint8_t *)b.p;
    codec_put_le32(p + 8, (uint32_t)s->n);
    codec_put_le32(p + 12, (uint32_t)(b.len - HDR));
    codec_put_le32(p + 16, lk_crc32c(0, p + HDR, b.len - HDR));
    int rc = fs_write_durable(NULL, dir, FILE_NAME, lk_buf_str(&b), 1, err);
    lk_buf_free(&b);
    return rc;
}

static int decode(const uint8_t *p, size_t len, rul_fstate *s)
{
    if (len < HDR || memcmp(p, "LKFS\1\0\0\0", 8) != 0 ||
        (uint64_t)codec_get_le32(p + 12) + HDR != len ||
        lk_crc32c(0, p + HDR, len - HDR) != codec_get_le32(p + 16))
        return LK_ECORRUPT;
    uint32_t count = codec_get_le32(p + 8);
    size_t off = HDR;
    for (uint32_t i = 0; i < count; i++) {
        if (len - off < 4)
            return LK_ECORRUPT;
        size_t k = codec_get_le32(p + off);
        off += 4;
        if (len - off < k + 16)
            return LK_ECORRUPT;
        rul_fstate_add(s, lk_str_n((const char *)p + off, k),
                       (int64_t)codec_get_le64(p + off + k),
                       (int64_t)codec_get_le64(p + off + k + 8));
        off += k + 16;
    }
    return off == len ? LK_OK : LK_ECORRUPT;
}

int rul_fstate_load(const char *dir, rul_fstate *s, lk_buf *err)
{
    lk_buf path = { 0 }, data = { 0 };
    lk_buf_printf(&path, "%s/" FILE_NAME, dir);
    int rc = LK_OK;
    if (lk_buf_read_file(&data, path.p) != LK_OK) {
        if (errno != ENOENT) {
            rc = LK_EIO;
            if (err)
                lk_buf_printf(err, "reading \"%s\" failed: %s", path.p, strerror(errno));
        }
        goto out;
    }
    rc = decode((const uint8_t *)(data.p ? data.p : ""), data.len, s);
    if (rc != LK_OK) {
        rul_fstate_free(s);
        if (err)
            lk_buf_printf(err, "%s: not a valid for state file", path.p);
    }
out:
    lk_buf_free(&path);
    lk_buf_free(&data);
    return rc;
}

static const rul_fsrec *find(const rul_fstate *s, const lk_buf *key)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].key_len == key->len && memcmp(s->v[i].key, key->p, key->len) == 0)
            return &s->v[i];
    return NULL;
}

#define NS INT64_C(1000000000)

/* Prometheus' arithmetic: both times at whole seconds. */
static int64_t restored_active_at(const rul_fsrec *r, int64_t for_ns, int64_t ts, int64_t grace)
{
    int64_t down = r->down_at_ms / 1000 * NS;
    int64_t active = r->active_at_s * NS;
    int64_t remaining = for_ns - (down - active);
    if (remaining <= 0)
        return active; /* it was firing: it fires again at the next evaluation */
    if (remaining < grace)
        return ts + grace - for_ns;
    return active + (ts - down);
}

void rul_fstate_restore(const rul_fstate *s, const char *tenant, lk_str group, rul_alerts *a,
                        int64_t for_ns, int64_t ts, int64_t outage_tolerance_ns,
                        int64_t grace_period_ns)
{
    if (for_ns < grace_period_ns)
        return;
    lk_buf key = { 0 };
    for (size_t i = 0; i < a->n; i++) {
        rul_alert *al = &a->v[i];
        if (al->state == RUL_INACTIVE)
            continue;
        key.len = 0;
        rul_fstate_key(tenant, group, &al->labels, &key);
        const rul_fsrec *r = find(s, &key);
        if (!r || r->down_at_ms * 1000000 < ts - outage_tolerance_ns ||
            r->down_at_ms * 1000000 > ts)
            continue;
        al->active_at = restored_active_at(r, for_ns, ts, grace_period_ns);
    }
    lk_buf_free(&key);
}

void rul_fstate_free(rul_fstate *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].key);
    free(s->v);
    memset(s, 0, sizeof *s);
}
