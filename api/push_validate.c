/* Push validation: Loki's distributor checks of one stream's labels and
 * entries, with Loki 2.9's messages (see push_validate.h for the order and the
 * shape of the combined message). Nothing is allocated per entry: accepted
 * entries are copied into one array kept across calls, and messages are only
 * formatted for the first PUSH_MAX_STREAM_ERRORS rejections of a stream. */
#include "api/push_validate.h"

#include <stdlib.h>
#include <string.h>

#include "api/push_discover.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "lib/timeutil.h"

static const char *const reason_names[PUSH_R_COUNT] = {
    [PUSH_R_INVALID_LABELS] = "invalid_labels",
    [PUSH_R_MISSING_LABELS] = "missing_labels",
    [PUSH_R_MAX_LABEL_NAMES] = "max_label_names_per_series",
    [PUSH_R_LABEL_NAME_TOO_LONG] = "label_name_too_long",
    [PUSH_R_LABEL_VALUE_TOO_LONG] = "label_value_too_long",
    [PUSH_R_DUPLICATE_LABEL_NAMES] = "duplicate_label_names",
    [PUSH_R_TOO_OLD] = "greater_than_max_sample_age",
    [PUSH_R_TOO_NEW] = "too_far_in_future",
    [PUSH_R_LINE_TOO_LONG] = "line_too_long",
    [PUSH_R_SM_DISALLOWED] = "disallowed_structured_metadata",
    [PUSH_R_SM_TOO_LARGE] = "structured_metadata_too_large",
    [PUSH_R_SM_TOO_MANY] = "structured_metadata_too_many",
};

const char *push_reason_name(push_reason r)
{
    return (unsigned)r < PUSH_R_COUNT ? reason_names[r] : "unknown";
}

void push_err_join(lk_buf *all, lk_str msg)
{
    if (!all)
        return;
    if (all->len)
        lk_buf_putc(all, '\n');
    lk_buf_put_str(all, msg);
}

/* ------------------------------------------------------------ helpers */

static int64_t sat_add(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

/* Go's t.Format(time.RFC3339) in UTC: whole seconds, no fraction. */
static void fmt_rfc3339(int64_t ns, lk_buf *out)
{
    int64_t rem = ns % LK_NS_PER_SEC;
    int64_t floored = ns - rem;
    if (rem < 0 && floored >= INT64_MIN + LK_NS_PER_SEC)
        floored -= LK_NS_PER_SEC;
    lk_format_rfc3339nano(floored, out);
}

/* The longest prefix of line no longer than max bytes that does not end
 * inside a UTF-8 sequence (Loki cuts at the byte; we keep lines valid). */
static size_t utf8_cut(lk_str line, size_t max)
{
    if (line.len <= max)
        return line.len;
    const unsigned char *p = (const unsigned char *)line.p;
    if ((p[max] & 0xC0) != 0x80)
        return max; /* the first dropped byte starts a character */
    for (size_t k = 1; k <= 3 && k <= max; k++) {
        unsigned char b = p[max - k];
        if ((b & 0xC0) == 0x80)
            continue;
        if ((b & 0xC0) == 0xC0) {
            size_t need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
            if (k < need)
                return max - k; /* the character at max-k runs past the cut */
        }
        break;
    }
    return max;
}

/* ------------------------------------------------------------ labels */

/* Prometheus' labels.Builder as Loki's ParseLabels uses it: every label
 * whose name carries an empty value somewhere is dropped. */
static void drop_empty_values(lk_labels *l)
{
    size_t empties = 0;
    for (size_t i = 0; i < l->n; i++)
        empties += l->v[i].value.len == 0;
    if (!empties)
        return;
    lk_label *keep = lk_malloc((l->n ? l->n : 1) * sizeof *keep);
    size_t n = 0;
    for (size_t i = 0; i < l->n;) {
        size_t j = i;
        bool drop = false;
        while (j < l->n && lk_str_eq(l->v[j].name, l->v[i].name)) {
            drop |= l->v[j].value.len == 0;
            j++;
        }
        for (; !drop && i < j; i++)
            keep[n++] = l->v[i];
        i = j;
    }
    lk_labels filtered;
    labels_from_pairs(keep, n, &filtered);
    free(keep);
    labels_free(l);
    *l = filtered;
}

/* Parses s's labels into *out (sorted). *raw_text is the label string as
 * Loki names the stream in label messages: the text as sent, or for v1 JSON
 * the sorted rendering of the map (kept in *raw). On error, the message is in
 * *msg and nothing is left in *out. */
static int parse_stream_labels(const push_stream *s, lk_labels *out, lk_buf *raw,
                               lk_str *raw_text, lk_buf *msg)
{
    lk_buf perr = { 0 };
    int rc = LK_OK;
    if (!s->has_pairs) {
        *raw_text = s->labels_text;
        rc = labels_parse(s->labels_text, out, &perr);
    } else {
        labels_from_pairs(s->pairs, s->n_pairs, out);
        labels_canonical(out, raw);
        *raw_text = lk_buf_str(raw);
        /* Loki renders the map and parses it again, so a bad name is a
         * parse error of that text. */
        const lk_str *bad = NULL;
        for (size_t i = 0; i < out->n && !bad; i++)
            if (!labels_valid_name(out->v[i].name))
                bad = &out->v[i].name;
        if (bad) {
            lk_labels again;
            if (labels_parse(*raw_text, &again, &perr) == LK_OK) {
                labels_free(&again);
                lk_buf_printf(&perr, "invalid label name '%.*s'", LK_STR_FMT(*bad));
            }
            labels_free(out);
            memset(out, 0, sizeof *out);
            rc = LK_EPARSE;
        }
    }
    if (rc != LK_OK) {
        lk_buf_printf(msg, "error parsing labels '%.*s' with error: %.*s", LK_STR_FMT(*raw_text),
                      (int)perr.len, perr.p ? perr.p : "");
        lk_buf_free(&perr);
        return LK_EPARSE;
    }
    lk_buf_free(&perr);
    drop_empty_values(out);
    return LK_OK;
}

/* Loki's ValidateLabels on the sorted set l; raw is the stream's text. */
static int check_labels(const lk_config *cfg, lk_str raw, const lk_labels *l,
                        push_reason *why, lk_buf *msg)
{
    if (l->n == 0) {
        *why = PUSH_R_MISSING_LABELS;
        lk_buf_puts(msg, "error at least one label pair is required per stream");
        return LK_EINVAL;
    }
    if ((long long)l->n > (long long)cfg->max_label_names_per_series) {
        *why = PUSH_R_MAX_LABEL_NAMES;
        lk_buf_printf(msg, "entry for stream '%.*s' has %zu label names; limit %d",
                      LK_STR_FMT(raw), l->n, cfg->max_label_names_per_series);
        return LK_EINVAL;
    }
    lk_str last = LK_STR("");
    for (size_t i = 0; i < l->n; i++) {
        const lk_label *lb = &l->v[i];
        if ((long long)lb->name.len > (long long)cfg->max_label_name_length) {
            *why = PUSH_R_LABEL_NAME_TOO_LONG;
            lk_buf_printf(msg, "stream '%.*s' has label name too long: '%.*s'", LK_STR_FMT(raw),
                          LK_STR_FMT(lb->name));
            return LK_EINVAL;
        }
        if ((long long)lb->value.len > (long long)cfg->max_label_value_length) {
            *why = PUSH_R_LABEL_VALUE_TOO_LONG;
            lk_buf_printf(msg, "stream '%.*s' has label value too long: '%.*s'", LK_STR_FMT(raw),
                          LK_STR_FMT(lb->value));
            return LK_EINVAL;
        }
        if (lk_str_eq(last, lb->name)) {
            *why = PUSH_R_DUPLICATE_LABEL_NAMES;
            lk_buf_printf(msg, "stream '%.*s' has duplicate label name: '%.*s'", LK_STR_FMT(raw),
                          LK_STR_FMT(lb->name));
            return LK_EINVAL;
        }
        last = lb->name;
    }
    return LK_OK;
}

/* ------------------------------------------------------------ entries */

typedef struct entry_ctx {
    const lk_config *cfg;
    int64_t oldest; /* valid when cfg->reject_old_samples */
    int64_t newest;
    lk_str stream;  /* canonical labels */
} entry_ctx;

static int64_t meta_bytes(const lk_entry *e)
{
    int64_t n = 0;
    for (size_t i = 0; i < e->n_meta; i++)
        n += (int64_t)(e->meta[i].name.len + e->meta[i].value.len);
    return n;
}

/* Loki's ValidateEntry: true when e passes; else false with the reason in
 * *why and the message appended to msg when msg is not NULL. */
static bool entry_ok(const entry_ctx *c, const lk_entry *e, push_reason *why, lk_buf *msg)
{
    const lk_config *cfg = c->cfg;
    if (cfg->reject_old_samples && e->ts < c->oldest) {
        if (msg) {
            lk_buf_printf(msg, "entry for stream '%.*s' has timestamp too old: ",
                          LK_STR_FMT(c->stream));
            fmt_rfc3339(e->ts, msg);
            lk_buf_puts(msg, ", oldest acceptable timestamp is: ");
            fmt_rfc3339(c->oldest, msg);
        }
        *why = PUSH_R_TOO_OLD;
        return false;
    }
    if (e->ts > c->newest) {
        if (msg) {
            lk_buf_printf(msg, "entry for stream '%.*s' has timestamp too new: ",
                          LK_STR_FMT(c->stream));
            fmt_rfc3339(e->ts, msg);
        }
        *why = PUSH_R_TOO_NEW;
        return false;
    }
    if (cfg->max_line_size > 0 && e->line.len > (uint64_t)cfg->max_line_size) {
        if (msg)
            lk_buf_printf(msg,
                          "max entry size '%lld' bytes exceeded for stream '%.*s' while adding "
                          "an entry with length '%zu' bytes",
                          (long long)cfg->max_line_size, LK_STR_FMT(c->stream), e->line.len);
        *why = PUSH_R_LINE_TOO_LONG;
        return false;
    }
    if (e->n_meta == 0)
        return true;
    if (!cfg->allow_structured_metadata) {
        if (msg)
            lk_buf_printf(msg,
                          "stream '%.*s' includes structured metadata, but this feature is "
                          "disallowed. Please see `limits_config.allow_structured_metadata` or "
                          "contact your Loki administrator to enable it.",
                          LK_STR_FMT(c->stream));
        *why = PUSH_R_SM_DISALLOWED;
        return false;
    }
    int64_t size = meta_bytes(e);
    if (cfg->max_structured_metadata_size > 0 && size > cfg->max_structured_metadata_size) {
        if (msg)
            lk_buf_printf(msg,
                          "stream '%.*s' has structured metadata too large: '%lld' bytes, limit: "
                          "'%lld' bytes. Please see `limits_config.max_structured_metadata_size` "
                          "or contact your Loki administrator to increase it.",
                          LK_STR_FMT(c->stream), (long long)size,
                          (long long)cfg->max_structured_metadata_size);
        *why = PUSH_R_SM_TOO_LARGE;
        return false;
    }
    if (cfg->max_structured_metadata_entries_count > 0 &&
        e->n_meta > (size_t)cfg->max_structured_metadata_entries_count) {
        if (msg)
            lk_buf_printf(msg,
                          "stream '%.*s' has too many structured metadata labels: '%zu', limit: "
                          "'%d'. Please see `limits_config.max_structured_metadata_entries_count` "
                          "or contact your Loki administrator to increase it.",
                          LK_STR_FMT(c->stream), e->n_meta,
                          cfg->max_structured_metadata_entries_count);
        *why = PUSH_R_SM_TOO_MANY;
        return false;
    }
    return true;
}

/* ------------------------------------------------------------ the stream */

static void clear_labels(lk_labels *l)
{
    if (l->mem || l->v)
        labels_free(l);
    memset(l, 0, sizeof *l);
}

static void reset_out(push_valid_stream *out)
{
    clear_labels(&out->labels);
    lk_buf_reset(&out->canonical);
    out->fingerprint = 0;
    out->n_entries = 0;
    out->n_rejected = 0;
    out->n_truncated = 0;
    out->accepted_bytes = 0;
    out->accepted_meta_bytes = 0;
    out->rejected_bytes = 0;
    memset(out->discarded, 0, sizeof out->discarded);
    memset(out->discarded_bytes, 0, sizeof out->discarded_bytes);
    out->http_status = 0;
    out->enriched = false;
}

/* The line of e after max_line_size_truncate. */
static lk_str effective_line(const lk_config *cfg, const lk_entry *e, size_t *n_truncated)
{
    lk_str line = e->line;
    if (cfg->max_line_size_truncate && cfg->max_line_size > 0 &&
        line.len > (uint64_t)cfg->max_line_size) {
        line.len = utf8_cut(line, (size_t)cfg->max_line_size);
        (*n_truncated)++;
    }
    return line;
}

static void reject_stream(const lk_config *cfg, const push_stream *s, push_reason why,
                          push_valid_stream *out)
{
    size_t ignored = 0;
    for (size_t i = 0; i < s->n_entries; i++)
        out->rejected_bytes += (int64_t)effective_line(cfg, &s->entries[i], &ignored).len;
    out->n_rejected = s->n_entries;
    out->discarded[why] = s->n_entries;
    out->discarded_bytes[why] = out->rejected_bytes;
    out->http_status = 400;
}

static void validate_entries(const lk_config *cfg, lk_str tenant, const push_stream *s,
                             int64_t now_ns, push_valid_stream *out, lk_buf *err)
{
    entry_ctx c = {
        .cfg = cfg,
        .oldest = sat_add(now_ns, -cfg->reject_old_samples_max_age_ns),
        .newest = sat_add(now_ns, cfg->creation_grace_period_ns),
        .stream = lk_buf_str(&out->canonical),
    };
    if (out->cap_entries < s->n_entries)
        out->entries = lk_grow(out->entries, &out->cap_entries, s->n_entries, sizeof *out->entries);
    size_t listed = 0;
    for (size_t i = 0; i < s->n_entries; i++) {
        lk_entry e = s->entries[i];
        e.line = effective_line(cfg, &e, &out->n_truncated);
        push_reason why;
        if (entry_ok(&c, &e, &why, NULL)) {
            out->entries[out->n_entries++] = e;
            out->accepted_bytes += (int64_t)e.line.len;
            out->accepted_meta_bytes += meta_bytes(&e);
            continue;
        }
        if (err && listed < PUSH_MAX_STREAM_ERRORS) { /* the message, for the first few */
            if (err->len)
                lk_buf_putc(err, '\n');
            entry_ok(&c, &e, &why, err);
            listed++;
        }
        out->n_rejected++;
        out->rejected_bytes += (int64_t)e.line.len;
        out->discarded[why]++;
        out->discarded_bytes[why] += (int64_t)e.line.len;
    }
    if (out->n_rejected)
        out->http_status = 400;
    if (out->n_rejected > 1 && err) {
        lk_buf line = { 0 };
        lk_buf_printf(&line, "user '%.*s', total ignored: %zu out of %zu for stream: %.*s",
                      LK_STR_FMT(tenant), out->n_rejected, s->n_entries,
                      LK_STR_FMT(out->canonical));
        push_err_join(err, lk_buf_str(&line));
        lk_buf_free(&line);
    }
}

int push_validate_stream(const lk_config *cfg, lk_str tenant, const push_stream *s,
                         int64_t now_ns, push_valid_stream *out, lk_buf *err)
{
    reset_out(out);
    if (s->n_entries == 0)
        return LK_OK;

    lk_buf raw = { 0 }, msg = { 0 };
    lk_str raw_text;
    push_reason why = PUSH_R_INVALID_LABELS;
    int rc = parse_stream_labels(s, &out->labels, &raw, &raw_text, &msg);
    if (rc == LK_OK && push_discover_service_name(cfg, &out->labels)) {
        /* Loki names the stream with its new labels from here on */
        out->enriched = true;
        lk_buf_reset(&raw);
        labels_canonical(&out->labels, &raw);
        raw_text = lk_buf_str(&raw);
    }
    if (rc == LK_OK && check_labels(cfg, raw_text, &out->labels, &why, &msg) != LK_OK)
        rc = LK_EINVAL;
    if (rc != LK_OK) {
        clear_labels(&out->labels);
        reject_stream(cfg, s, why, out);
        push_err_join(err, lk_buf_str(&msg));
        lk_buf_free(&raw);
        lk_buf_free(&msg);
        return LK_EINVAL;
    }
    lk_buf_free(&raw);
    lk_buf_free(&msg);

    labels_canonical(&out->labels, &out->canonical);
    out->fingerprint = labels_hash(lk_buf_str(&out->canonical));
    validate_entries(cfg, tenant, s, now_ns, out, err);
    if (push_enrich_entries(cfg, &out->labels, out->entries, out->n_entries, &out->meta))
        out->enriched = true;
    return out->n_rejected ? LK_EINVAL : LK_OK;
}

int push_stream_labels(const push_stream *s, lk_labels *out, lk_buf *msg)
{
    lk_buf raw = { 0 };
    lk_str raw_text;
    int rc = parse_stream_labels(s, out, &raw, &raw_text, msg);
    lk_buf_free(&raw);
    return rc;
}

void push_valid_stream_free(push_valid_stream *v)
{
    if (!v)
        return;
    clear_labels(&v->labels);
    lk_buf_free(&v->canonical);
    free(v->entries);
    push_meta_buf_free(&v->meta);
    memset(v, 0, sizeof *v);
}
