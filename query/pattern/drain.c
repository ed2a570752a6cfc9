/* Drain, as Loki 3.6's pattern ingester runs it (see drain.h;
 * pkg/pattern/drain/drain.go and limiter.go). Clusters are kept in a
 * least-recently-used list (every lookup of a cluster, including the
 * candidates of a search, makes it the most recent, as Loki's LRU cache
 * does) with a small hash by id; the parse tree's leaves hold cluster ids,
 * and an evicted cluster's id is simply not found any more. */
#include "query/pattern/drain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mem.h"
#include "lib/utf8.h"

#define DRAIN_BUCKETS 512
#define DRAIN_NODE_DEPTH (DRAIN_DEPTH - 2)

static const lk_str PARAM = { PAT_PARAM, sizeof PAT_PARAM - 1 };

typedef struct dnode dnode;

typedef struct dchild {
    uint64_t head;          /* the key's first 8 bytes, zero-padded: compared first */
    size_t len;
    char *key;
    dnode *node;
} dchild;

struct dnode {
    dchild *kids;
    size_t n_kids, cap_kids;
    int *ids;
    size_t n_ids, cap_ids;
};

typedef struct dcluster {
    int id;
    lk_str *tok;
    size_t n;
    char *mem;                      /* the first line's token bytes */
    int *spaces;
    size_t n_spaces;
    pat_chunks chunks;
    struct dcluster *prev, *next;   /* LRU list, head most recent */
    struct dcluster *hnext;         /* hash chain */
} dcluster;

struct drain {
    pat_format fmt;
    dnode root;
    dcluster *buckets[DRAIN_BUCKETS];
    dcluster *head, *tail;
    size_t n_clusters;
    int counter;
    /* limiter */
    int64_t added, evicted, blocked_until;
    pat_tokens tk;
    lk_buf join;
};

/* ---- clusters: hash and LRU ------------------------------------------------------- */

static void lru_unlink(drain *d, dcluster *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        d->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        d->tail = c->prev;
    c->prev = c->next = NULL;
}

static void lru_push_head(drain *d, dcluster *c)
{
    c->prev = NULL;
    c->next = d->head;
    if (d->head)
        d->head->prev = c;
    d->head = c;
    if (!d->tail)
        d->tail = c;
}

static dcluster **bucket_of(drain *d, int id)
{
    return &d->buckets[(unsigned)id % DRAIN_BUCKETS];
}

static void cluster_free(dcluster *c)
{
    free(c->tok);
    free(c->mem);
    free(c->spaces);
    pat_chunks_free(&c->chunks);
    free(c);
}

/* Unlinks and frees c. */
static void cluster_remove(drain *d, dcluster *c)
{
    dcluster **pp = bucket_of(d, c->id);
    while (*pp != c)
        pp = &(*pp)->hnext;
    *pp = c->hnext;
    lru_unlink(d, c);
    d->n_clusters--;
    cluster_free(c);
}

/* The cluster with this id, made the most recent; NULL when evicted. */
static dcluster *lru_get(drain *d, int id)
{
    for (dcluster *c = *bucket_of(d, id); c; c = c->hnext) {
        if (c->id == id) {
            if (d->head != c) {
                lru_unlink(d, c);
                lru_push_head(d, c);
            }
            return c;
        }
    }
    return NULL;
}

static void lru_add(drain *d, dcluster *c)
{
    dcluster **b = bucket_of(d, c->id);
    c->hnext = *b;
    *b = c;
    lru_push_head(d, c);
    if (++d->n_clusters > DRAIN_MAX_CLUSTERS) {
        cluster_remove(d, d->tail);
        d->evicted++;
    }
}

/* ---- the limiter ------------------------------------------------------------------- */

static bool limiter_allow(drain *d, int64_t now)
{
    if (d->blocked_until) {
        if (now < d->blocked_until)
            return false;
        d->added = d->evicted = d->blocked_until = 0;
    }
    if (d->added == 0) {
        d->added++;
        return true;
    }
    if ((double)d->evicted / (double)d->added > DRAIN_MAX_EVICTION_RATIO) {
        d->blocked_until = now + DRAIN_BLOCK_NS;
        if (!d->blocked_until)
            d->blocked_until = 1;
        return false;
    }
    d->added++;
    return true;
}

/* ---- the parse tree ---------------------------------------------------------------- */

/* Byte equality of two short strings of the same length, without a call. */
static inline bool same_bytes(const char *a, const char *b, size_t n)
{
    if (n > 16)
        return memcmp(a, b, n) == 0;
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

static inline bool tok_eq(lk_str a, lk_str b)
{
    return a.len == b.len && (a.p == b.p || same_bytes(a.p, b.p, a.len));
}

/* Cluster tokens equal to <_> all point to PARAM, so that this is exact. */
static inline bool is_param(lk_str t)
{
    return t.p == PARAM.p;
}

static uint64_t head_of(lk_str key)
{
    uint64_t h = 0;
    memcpy(&h, key.p, key.len < 8 ? key.len : 8);
    return h;
}

static dnode *child(const dnode *n, lk_str key)
{
    uint64_t h = key.len ? head_of(key) : 0;
    for (size_t i = 0; i < n->n_kids; i++) {
        const dchild *k = &n->kids[i];
        if (k->head == h && k->len == key.len &&
            (key.len <= 8 || same_bytes(k->key + 8, key.p + 8, key.len - 8)))
            return k->node;
    }
    return NULL;
}

static dnode *add_child(dnode *n, lk_str key)
{
    if (n->n_kids == n->cap_kids)
        n->kids = lk_grow(n->kids, &n->cap_kids, n->n_kids + 1, sizeof *n->kids);
    dnode *c = lk_calloc(1, sizeof *c);
    n->kids[n->n_kids++] = (dchild){ key.len ? head_of(key) : 0, key.len,
                                     lk_memdup(key.p, key.len ? key.len : 1), c };
    return c;
}

static void node_free(dnode *n)
{
    for (size_t i = 0; i < n->n_kids; i++) {
        node_free(n->kids[i].node);
        free(n->kids[i].node);
        free(n->kids[i].key);
    }
    free(n->kids);
    free(n->ids);
    memset(n, 0, sizeof *n);
}

static lk_str count_key(size_t n, char *buf, size_t size)
{
    int len = snprintf(buf, size, "%zu", n);
    return lk_str_n(buf, (size_t)len);
}

/* Go's unicode.IsNumber on the runes of s: ASCII digits, Latin-1's
 * superscripts and fractions, fullwidth digits. */
static bool has_numbers(lk_str s)
{
    size_t i = 0;
    while (i < s.len) {
        unsigned char c = (unsigned char)s.p[i];
        if (c < 0x80) {
            if (c >= '0' && c <= '9')
                return true;
            i++;
            continue;
        }
        uint32_t r;
        size_t w = lk_utf8_decode(s.p + i, s.len - i, &r);
        if (r == 0xB2 || r == 0xB3 || r == 0xB9 || (r >= 0xBC && r <= 0xBE) ||
            (r >= 0xFF10 && r <= 0xFF19) || (r >= 0x660 && r <= 0x669) ||
            (r >= 0x2070 && r <= 0x2189))
            return true;
        i += w ? w : 1;
    }
    return false;
}

/* Similarity of the cluster to the line (equal tokens / tokens) and the
 * cluster's number of <_>; -1 when a marked token (first byte NUL) differs. */
static double seq_distance(const dcluster *c, const lk_str *tok, int *params)
{
    int sim = 0, np = 0;
    for (size_t i = 0; i < c->n; i++) {
        lk_str a = c->tok[i];
        if (a.len > 0 && a.p[0] == 0 && !tok_eq(a, tok[i])) {
            *params = -1;
            return 0;
        }
        if (is_param(a))
            np++;
        else if (tok_eq(a, tok[i]))
            sim++;
    }
    *params = np;
    return (double)sim / (double)c->n;
}

static dcluster *fast_match(drain *d, const dnode *leaf, const lk_str *tok)
{
    dcluster *best = NULL;
    double max_sim = -1.0;
    int max_params = -1;
    for (size_t i = 0; i < leaf->n_ids; i++) {
        dcluster *c = lru_get(d, leaf->ids[i]);
        if (!c)
            continue;
        int params;
        double sim = seq_distance(c, tok, &params);
        if (params < 0)
            continue;
        if (sim > max_sim || (sim == max_sim && params > max_params)) {
            max_sim = sim;
            max_params = params;
            best = c;
        }
    }
    return max_sim >= DRAIN_SIM_TH ? best : NULL;
}

static dcluster *tree_search(drain *d, const lk_str *tok, size_t n)
{
    char buf[24];
    dnode *node = child(&d->root, count_key(n, buf, sizeof buf));
    if (!node)
        return NULL;
    size_t depth = 1;
    for (size_t i = 0; i < n; i++) {
        if (depth >= DRAIN_NODE_DEPTH || depth == n)
            break;
        dnode *next = child(node, tok[i]);
        if (!next)
            next = child(node, PARAM);
        if (!next)
            return NULL;
        node = next;
        depth++;
    }
    return fast_match(d, node, tok);
}

static void leaf_add(drain *d, dnode *leaf, int id)
{
    size_t w = 0;
    for (size_t i = 0; i < leaf->n_ids; i++)
        if (lru_get(d, leaf->ids[i]))
            leaf->ids[w++] = leaf->ids[i];
    leaf->n_ids = w;
    if (leaf->n_ids == leaf->cap_ids)
        leaf->ids = lk_grow(leaf->ids, &leaf->cap_ids, leaf->n_ids + 1, sizeof *leaf->ids);
    leaf->ids[leaf->n_ids++] = id;
}

/* The next node for a token the node has no child for. */
static dnode *step_new(dnode *node, lk_str t)
{
    dnode *param = child(node, PARAM);
    if (has_numbers(t))
        return param ? param : add_child(node, PARAM);
    if (param)
        return node->n_kids < DRAIN_MAX_CHILDREN ? add_child(node, t) : param;
    if (node->n_kids + 1 < DRAIN_MAX_CHILDREN)
        return add_child(node, t);
    if (node->n_kids + 1 == DRAIN_MAX_CHILDREN)
        return add_child(node, PARAM);
    return param; /* not reached: a full node always has <_> */
}

static void add_seq(drain *d, dcluster *c)
{
    char buf[24];
    lk_str key = count_key(c->n, buf, sizeof buf);
    dnode *node = child(&d->root, key);
    if (!node)
        node = add_child(&d->root, key);
    size_t depth = 1;
    for (size_t i = 0; i < c->n; i++) {
        if (depth >= DRAIN_NODE_DEPTH || depth >= c->n) {
            leaf_add(d, node, c->id);
            return;
        }
        dnode *next = child(node, c->tok[i]);
        node = next ? next : step_new(node, c->tok[i]);
        if (!node)
            LK_BUG("drain: no <_> child in a full node");
        depth++;
    }
}

static dcluster *cluster_new(drain *d, const pat_tokens *t)
{
    dcluster *c = lk_calloc(1, sizeof *c);
    c->id = ++d->counter;
    c->n = t->n;
    size_t total = 0;
    for (size_t i = 0; i < t->n; i++)
        total += t->tok[i].len;
    c->mem = lk_malloc(total ? total : 1);
    c->tok = lk_malloc(t->n * sizeof *c->tok);
    size_t at = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (tok_eq(t->tok[i], PARAM)) {
            c->tok[i] = PARAM;
            continue;
        }
        if (t->tok[i].len)
            memcpy(c->mem + at, t->tok[i].p, t->tok[i].len);
        c->tok[i] = lk_str_n(c->mem + at, t->tok[i].len);
        at += t->tok[i].len;
    }
    if (t->n_spaces) {
        c->spaces = lk_memdup(t->spaces, t->n_spaces * sizeof *t->spaces);
        c->n_spaces = t->n_spaces;
    }
    return c;
}

/* ---- the API ------------------------------------------------------------------------- */

drain *drain_create(pat_format f)
{
    drain *d = lk_calloc(1, sizeof *d);
    d->fmt = f;
    return d;
}

void drain_destroy(drain *d)
{
    if (!d)
        return;
    while (d->head)
        cluster_remove(d, d->head);
    node_free(&d->root);
    pat_tokens_free(&d->tk);
    lk_buf_free(&d->join);
    free(d);
}

bool drain_train(drain *d, lk_str line, int64_t ts_ns, int64_t now_ns)
{
    if (!limiter_allow(d, now_ns))
        return false;
    if (!pat_tokenize(d->fmt, line, &d->tk))
        return false;
    const lk_str *tok = d->tk.tok;
    size_t n = d->tk.n;
    if (n < DRAIN_MIN_TOKENS || n > DRAIN_MAX_TOKENS)
        return false;
    int64_t ts_ms = ts_ns / 1000000;
    dcluster *c = tree_search(d, tok, n);
    if (!c) {
        c = cluster_new(d, &d->tk);
        pat_chunks_add(&c->chunks, ts_ms);
        lru_add(d, c);
        add_seq(d, c);
        return true;
    }
    for (size_t i = 0; i < n; i++)
        if (!tok_eq(tok[i], c->tok[i]))
            c->tok[i] = PARAM;
    pat_chunks_add(&c->chunks, ts_ms);
    lru_get(d, c->id);
    return true;
}

void drain_each(drain *d, void (*fn)(void *ctx, lk_str pattern, const pat_chunks *c), void *ctx)
{
    for (dcluster *c = d->head; c; c = c->next) {
        lk_buf_reset(&d->join);
        pat_join(d->fmt, c->tok, c->n, c->spaces, c->n_spaces, &d->join);
        fn(ctx, d->join.p ? lk_buf_str(&d->join) : LK_STR(""), &c->chunks);
    }
}

/* Removes the nodes below n that lead to no live cluster; returns whether
 * n itself still holds something. */
static bool prune_tree(drain *d, dnode *n)
{
    size_t w = 0;
    for (size_t i = 0; i < n->n_kids; i++) {
        if (prune_tree(d, n->kids[i].node)) {
            n->kids[w++] = n->kids[i];
        } else {
            node_free(n->kids[i].node);
            free(n->kids[i].node);
            free(n->kids[i].key);
        }
    }
    n->n_kids = w;
    size_t live = 0;
    for (size_t i = 0; i < n->n_ids; i++) {
        for (dcluster *c = *bucket_of(d, n->ids[i]); c; c = c->hnext)
            if (c->id == n->ids[i]) {
                live++;
                break;
            }
    }
    return n->n_kids + live > 0;
}

size_t drain_prune(drain *d, int64_t cutoff_ms)
{
    dcluster *c = d->head;
    while (c) {
        dcluster *next = c->next;
        if (pat_chunks_prune(&c->chunks, cutoff_ms) == 0)
            cluster_remove(d, c);
        c = next;
    }
    prune_tree(d, &d->root);
    return d->n_clusters;
}
