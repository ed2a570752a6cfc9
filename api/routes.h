/* The route table: which handler serves which method and path. */
#ifndef LOKIC_API_ROUTES_H
#define LOKIC_API_ROUTES_H

#include "api/http.h"

enum {
    API_GET = 1,
    API_POST = 2,
    API_PUT = 4,
    API_DELETE = 8,
};

typedef struct api_route {
    const char *pattern;  /* exact path, or with one "{name}" segment */
    int methods;          /* API_GET | API_POST ... */
    const char *name;     /* metric route label, as Loki names it */
    bool needs_tenant;    /* resolve X-Scope-OrgID */
    api_handler handler;
    bool multi_tenant;    /* a read endpoint: X-Scope-OrgID may name several tenants
                             (querier.multi_tenant_queries_enabled) */
} api_route;

/* Finds the route for path. Sets *arg to the {name} segment. NULL: 404. */
const api_route *api_route_find(lk_str path, lk_str *arg);
int api_method_bit(const char *method);

#endif
