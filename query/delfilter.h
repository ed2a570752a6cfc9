/* Delete requests' queries compiled with the LogQL front end and the log
 * pipeline, for the ingester (ing_opts.delete_filter, storage/delete.h). */
#ifndef LOKIC_QUERY_DELFILTER_H
#define LOKIC_QUERY_DELFILTER_H

#include "storage/delete.h"

extern const del_filter_ops logql_delete_filter;

/* Has a compiled query a pipeline (Loki's HasFilter)? */
bool logql_delete_has_pipeline(const void *compiled);

#endif
