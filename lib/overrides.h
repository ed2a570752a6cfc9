/* Per-tenant limits: the runtime config's `overrides` (runtime_config.file,
 * a comma-separated list of YAML files, lib/config_runtime.c) over the
 * configuration's limits_config, re-read every runtime_config.period and
 * applied when the files' bytes changed, as Loki's runtime config manager
 * does. A file that cannot be read or parsed logs an error and the previous
 * overrides stay (at start it is an error: lokic does not start).
 *
 * lk_limits_for is the one lookup of a tenant's limits. Readers never see
 * a half-written set: a reload builds a new immutable set and publishes it
 * with one atomic store; the sets it replaces are kept until
 * lk_overrides_destroy, so a pointer lk_limits_for returned stays valid for
 * the server's life (a reload happens only when a file changed). */
#ifndef LOKIC_LIB_OVERRIDES_H
#define LOKIC_LIB_OVERRIDES_H

#include <stdbool.h>

#include "lib/config.h"
#include "lib/str.h"

typedef struct lk_overrides lk_overrides;

/* base (borrowed; it must outlive the object) gives the defaults and the
 * runtime_config keys. Reads the files once: LK_EIO / LK_EPARSE with the
 * reason in err. With no runtime_config.file, every tenant has base. */
int lk_overrides_create(const lk_config *base, lk_overrides **out, lk_buf *err);
/* Starts the thread that re-reads the files every period (none without
 * files). LK_EIO when it cannot be created. */
int lk_overrides_start(lk_overrides *o, lk_buf *err);
/* Stops the thread and frees everything; accepts NULL. */
void lk_overrides_destroy(lk_overrides *o);

/* Reads the files now and applies them when they changed: 0, or the
 * error (logged by the reloading thread) with the previous overrides kept. */
int lk_overrides_reload(lk_overrides *o, lk_buf *err);

/* The configuration in effect for tenant: base with the tenant's
 * overrides. o may be NULL (base is then not known: NULL). */
const lk_config *lk_limits_for(const lk_overrides *o, lk_str tenant);

/* The active streams a tenant may hold (0: no limit), as Loki's ingester
 * limiter computes it: max_global_streams_per_user shared among the
 * ingesters (one here, replication factor 1: all of it), then the smaller
 * non-zero of that and max_streams_per_user. */
int lk_max_streams(const lk_config *limits);

/* /runtime_config: false when there is no runtime config file. Otherwise
 * `overrides:` with every overridden tenant's limits (all of them, or with
 * diff only those that differ from the defaults). */
bool lk_overrides_to_yaml(const lk_overrides *o, bool diff, lk_buf *out);

#endif
