/* Private to query/ruler/: the ruler's state shared by ruler.c (life cycle,
 * thread, loading), eval.c (evaluation), notify.c (Alertmanager),
 * files.c (the API's file writes) and state.c (JSON of the state). */
#ifndef LOKIC_QUERY_RULER_INT_H
#define LOKIC_QUERY_RULER_INT_H

#include <pthread.h>

#include "lib/metrics.h"
#include "lib/overrides.h"
#include "query/ruler/alert.h"
#include "query/ruler/forstate.h"
#include "query/ruler/notifier.h"
#include "query/ruler/remote.h"
#include "query/ruler/ruler.h"
#include "query/ruler/rules.h"

/* One namespace file as last read. */
typedef struct rul_nsfile {
    char *tenant, *ns;
    lk_buf text;       /* its bytes, to see a change */
    rul_file *f;       /* NULL when it did not parse */
} rul_nsfile;

/* The evaluation state of one rule. */
typedef struct rul_rstate {
    rul_alerts alerts;
    char *last_error;  /* NULL: healthy */
    bool evaluated;
    int64_t last_eval, eval_ns;
} rul_rstate;

/* One group being evaluated. */
typedef struct rul_rgroup {
    const rul_nsfile *file;
    const rul_group *g;
    int64_t interval_ns;
    int64_t next_eval;
    int64_t last_eval, eval_ns;
    bool restore;        /* from the first load: restore the for state after
                            the first evaluation (forstate.h) */
    rul_rstate *rules;   /* g->n_rules */
} rul_rgroup;

struct rul_ruler {
    const lk_config *cfg;
    const lk_overrides *overrides; /* per-tenant limits; NULL: cfg's for all */
    ing *g;
    qm_budget *qmem;
    char *dir;
    pthread_mutex_t mu;     /* everything below */
    pthread_cond_t cv;
    bool stopping, started, reload;
    pthread_t thread;
    rul_nsfile *files;
    size_t n_files;
    rul_rgroup *groups;
    size_t n_groups;
    bool loaded;            /* the first load is done */
    char *wal_dir;          /* ruler.wal.dir; NULL: no for state on disk */
    rul_fstate for_state;   /* as read at start */
    uint64_t gen;           /* rul_reload's count */
    bool in_query;          /* the thread runs a rule's query without mu */
    rul_file **buried;      /* rule files freed when that query ends */
    size_t n_buried;
    rul_rw *rw;
    rul_notifier *notifier; /* NULL: no Alertmanager */
    lk_metric *m_evals, *m_eval_failures, *m_eval_duration;
};

/* eval.c: evaluates group at ts (mu held, released while each rule's query
 * runs). False when the files were reloaded meanwhile: grp is gone, the
 * rest of the evaluation dropped. */
bool rul_eval_group(rul_ruler *r, rul_rgroup *grp, int64_t ts);
/* ruler.c: frees the rule files a reload left while a query ran (mu
 * held). */
void rul_unbury(rul_ruler *r);
/* notify.c: queues the alerts of one rule that need sending (mu held). */
void rul_notify(rul_ruler *r, const rul_rgroup *grp, size_t rule, int64_t ts);
/* ruler.c: reads the files again and rebuilds the groups, keeping the
 * state of rules that did not change (mu held). */
void rul_reload(rul_ruler *r, int64_t now);
/* The "<file>;<group>" name Loki's metrics label groups with. */
void rul_group_key(const rul_rgroup *grp, lk_buf *out);

#endif
