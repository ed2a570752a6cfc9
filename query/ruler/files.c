/* The rules API over the rule files (ruler.h): answers from the files as
 * last read, writes through fs_write_durable (temporary file, fsync,
 * rename, directory fsync) and reloads at once, so a GET after a POST sees
 * the group and the thread evaluates it from its next aligned time. A
 * namespace file is written as "groups:" and its groups in order. */
#include "query/ruler/ruler_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "lib/timeutil.h"
#include "storage/fsutil.h"

static bool tenant_is(const rul_nsfile *f, lk_str tenant)
{
    return f->f && lk_str_eq_c(tenant, f->tenant);
}

static void ns_yaml(const rul_nsfile *f, lk_str group, lk_buf *out, size_t *n)
{
    bool head = false;
    for (size_t k = 0; k < f->f->n_groups; k++) {
        const rul_group *g = &f->f->groups[k];
        if (group.len && !lk_str_eq(group, g->name))
            continue;
        if (group.len) {
            rul_group_yaml(g, 0, false, out);
        } else {
            if (!head) {
                jw w;
                jw_init(&w, out);
                jw_cstr(&w, f->ns);
                lk_buf_puts(out, ":\n");
                head = true;
            }
            rul_group_yaml(g, 4, true, out);
        }
        (*n)++;
    }
}

int rul_rules_yaml(rul_ruler *r, lk_str tenant, lk_str ns, lk_str group, lk_buf *out)
{
    size_t n = 0;
    pthread_mutex_lock(&r->mu);
    rul_reload(r, lk_now_ns());
    for (size_t i = 0; i < r->n_files; i++) {
        const rul_nsfile *f = &r->files[i];
        if (tenant_is(f, tenant) && (!ns.len || lk_str_eq_c(ns, f->ns)))
            ns_yaml(f, group, out, &n);
    }
    pthread_mutex_unlock(&r->mu);
    return n ? LK_OK : LK_ENOTFOUND;
}

static rul_nsfile *ns_file(rul_ruler *r, lk_str tenant, lk_str ns)
{
    for (size_t i = 0; i < r->n_files; i++)
        if (lk_str_eq_c(tenant, r->files[i].tenant) && lk_str_eq_c(ns, r->files[i].ns))
            return &r->files[i];
    return NULL;
}

/* Writes the namespace's file with its groups, `with` replacing or added
 * to them, or the group named drop left out; with neither, none is kept.
 * The file is removed when no group is left. mu held. */
static int write_ns(rul_ruler *r, lk_str tenant, lk_str ns, const rul_group *with, lk_str drop,
                    lk_buf *err)
{
    rul_nsfile *f = ns_file(r, tenant, ns);
    lk_buf text = { 0 }, dir = { 0 }, name = { 0 };
    lk_buf_puts(&text, "groups:\n");
    size_t n = 0;
    bool replaced = false;
    bool keep = with || drop.len;
    for (size_t k = 0; keep && f && f->f && k < f->f->n_groups; k++) {
        const rul_group *g = &f->f->groups[k];
        if (drop.len && lk_str_eq(g->name, drop))
            continue;
        if (with && lk_str_eq(g->name, with->name)) {
            g = with;
            replaced = true;
        }
        rul_group_yaml(g, 2, true, &text);
        n++;
    }
    if (with && !replaced) {
        rul_group_yaml(with, 2, true, &text);
        n++;
    }
    lk_buf_printf(&dir, "%s/%.*s", r->dir, LK_STR_FMT(tenant));
    lk_buf_put_str(&name, ns);
    int rc = fs_mkdirs(dir.p, err);
    if (rc == LK_OK && n) {
        rc = fs_write_durable(NULL, dir.p, name.p, lk_buf_str(&text), 1, err);
    } else if (rc == LK_OK) {
        lk_buf path = { 0 };
        lk_buf_printf(&path, "%s/%s", dir.p, name.p);
        if (unlink(path.p) != 0 && errno != ENOENT) {
            if (err)
                lk_buf_printf(err, "unlink(\"%s\") failed: %s", path.p, strerror(errno));
            rc = LK_EIO;
        }
        lk_buf_free(&path);
        if (rc == LK_OK)
            rc = fs_fsync_dir(dir.p, err);
    }
    lk_buf_free(&text);
    lk_buf_free(&dir);
    lk_buf_free(&name);
    return rc;
}

static bool names_ok(lk_str tenant, lk_str ns, lk_buf *err)
{
    if (rul_name_ok(tenant) && rul_name_ok(ns))
        return true;
    if (err)
        lk_buf_puts(err, "invalid namespace name");
    return false;
}

int rul_set_group(rul_ruler *r, lk_str tenant, lk_str ns, lk_str body, lk_buf *err)
{
    if (!names_ok(tenant, ns, err))
        return LK_EINVAL;
    rul_file *parsed = NULL;
    int rc = rul_group_parse("rule group", body, &parsed, err);
    if (rc != LK_OK)
        return rc;
    pthread_mutex_lock(&r->mu);
    rul_reload(r, lk_now_ns());
    rul_nsfile *f = ns_file(r, tenant, ns);
    if (f && !f->f) {
        if (err)
            lk_buf_puts(err, "the namespace's rule file does not parse; delete it first");
        rc = LK_EINVAL;
    } else {
        rc = write_ns(r, tenant, ns, &parsed->groups[0], LK_STR_NULL, err);
    }
    if (rc == LK_OK) {
        rul_reload(r, lk_now_ns());
        pthread_cond_broadcast(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
    rul_file_free(parsed);
    return rc;
}

int rul_delete(rul_ruler *r, lk_str tenant, lk_str ns, lk_str group, lk_buf *err)
{
    if (!names_ok(tenant, ns, err))
        return LK_EINVAL;
    pthread_mutex_lock(&r->mu);
    rul_reload(r, lk_now_ns());
    rul_nsfile *f = ns_file(r, tenant, ns);
    int rc = LK_OK;
    bool found = f != NULL;
    if (f && group.len) {
        found = false;
        for (size_t k = 0; f->f && k < f->f->n_groups; k++)
            found = found || lk_str_eq(f->f->groups[k].name, group);
    }
    if (!found) {
        if (err)
            lk_buf_puts(err, group.len ? "group does not exist" : "namespace does not exist");
        rc = LK_ENOTFOUND;
    } else {
        rc = write_ns(r, tenant, ns, NULL, group, err);
    }
    if (rc == LK_OK) {
        rul_reload(r, lk_now_ns());
        pthread_cond_broadcast(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}
