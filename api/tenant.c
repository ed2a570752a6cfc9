/* X-Scope-OrgID -> tenant, with dskit's checks and messages (see tenant.h). */
#include "api/tenant.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"

static bool tenant_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '!' || c == '-' || c == '_' || c == '.' || c == '*' || c == '\'' || c == '(' ||
           c == ')';
}

/* Go's %c of the byte: the code point U+0000..U+00FF as UTF-8. */
static void put_byte_as_rune(lk_buf *b, unsigned char c)
{
    if (c < 0x80) {
        lk_buf_putc(b, (char)c);
        return;
    }
    lk_buf_putc(b, (char)(0xC0 | (c >> 6)));
    lk_buf_putc(b, (char)(0x80 | (c & 0x3F)));
}

/* dskit's ValidTenantID: characters first, then the length, then the
 * unsafe path segments. LK_EINVAL with the message. */
static int check_one(lk_str id, lk_buf *err)
{
    for (size_t i = 0; i < id.len; i++) {
        unsigned char c = (unsigned char)id.p[i];
        if (!tenant_char(c)) {
            lk_buf_puts(err, "tenant ID '");
            lk_buf_put_str(err, id); /* whole: %.*s would stop at a NUL */
            lk_buf_puts(err, "' contains unsupported character '");
            put_byte_as_rune(err, c);
            lk_buf_putc(err, '\'');
            return LK_EINVAL;
        }
    }
    if (id.len > API_TENANT_MAX_LEN) {
        lk_buf_printf(err, "tenant ID is too long: max %d characters", API_TENANT_MAX_LEN);
        return LK_EINVAL;
    }
    if (lk_str_eq_c(id, ".") || lk_str_eq_c(id, "..")) {
        lk_buf_puts(err, "tenant ID is '.' or '..'");
        return LK_EINVAL;
    }
    return LK_OK;
}

int api_tenant_parse(lk_str org_id, lk_str *tenant, int *http_status, lk_buf *err)
{
    lk_str found = LK_STR_NULL;
    bool several = false;
    const char *p = org_id.p, *end = org_id.p + org_id.len;
    if (org_id.len == 0)
        goto no_org_id;
    for (;;) { /* every part is checked before "several" is answered */
        const char *bar = memchr(p, '|', (size_t)(end - p));
        lk_str id = lk_str_n(p, (size_t)((bar ? bar : end) - p));
        if (check_one(id, err) != LK_OK) {
            *http_status = 400;
            return LK_EINVAL;
        }
        if (!found.p)
            found = id;
        else if (!lk_str_eq(found, id))
            several = true;
        if (!bar)
            break;
        p = bar + 1;
    }
    if (several) {
        lk_buf_puts(err, "multiple org IDs present");
        *http_status = 400;
        return LK_EINVAL;
    }
    if (found.len == 0)
        goto no_org_id;
    *tenant = found;
    return LK_OK;
no_org_id:
    lk_buf_puts(err, "no org id");
    *http_status = 401;
    return LK_EINVAL;
}

static int str_cmp(const void *a, const void *b)
{
    return lk_str_cmp(*(const lk_str *)a, *(const lk_str *)b);
}

int api_tenants_parse(lk_str org_id, lk_arena *arena, lk_str *tenants, size_t *n,
                      int *http_status, lk_buf *err)
{
    size_t parts = 1;
    for (size_t i = 0; i < org_id.len; i++)
        parts += org_id.p[i] == '|';
    lk_str *ids = lk_arena_alloc(arena, parts * sizeof(*ids));
    size_t k = 0;
    const char *p = org_id.p, *end = org_id.p + org_id.len;
    for (size_t i = 0; i < parts; i++) {
        const char *bar = p < end ? memchr(p, '|', (size_t)(end - p)) : NULL;
        lk_str id = lk_str_n(p, (size_t)((bar ? bar : end) - p));
        if (check_one(id, err) != LK_OK) {
            *http_status = 400;
            return LK_EINVAL;
        }
        if (id.len)
            ids[k++] = id;
        p = bar ? bar + 1 : end;
    }
    if (k == 0) {
        lk_buf_puts(err, "no org id");
        *http_status = 401;
        return LK_EINVAL;
    }
    qsort(ids, k, sizeof(*ids), str_cmp);
    lk_buf joined = { 0 };
    size_t uniq = 0;
    for (size_t i = 0; i < k; i++) {
        if (i > 0 && lk_str_eq(ids[i], ids[i - 1]))
            continue;
        if (uniq++)
            lk_buf_putc(&joined, '|');
        lk_buf_put_str(&joined, ids[i]);
    }
    *tenants = lk_arena_str(arena, lk_buf_str(&joined));
    *n = uniq;
    lk_buf_free(&joined);
    return LK_OK;
}
