/* The tenant of a request from its X-Scope-OrgID value, by Loki's rules
 * (dskit tenant.TenantID as Loki 3 vendors it): at most 150 bytes of
 * [A-Za-z0-9!-_.*'()], not "." or "..", every byte checked. '|' separates
 * the tenants of a multi-tenant query: where one is not allowed (pushes,
 * tail, or querier.multi_tenant_queries_enabled off) the same tenant
 * repeated is that tenant and two different ones are refused; where it is,
 * api_tenants_parse answers them all (dskit's TenantIDs). */
#ifndef LOKIC_API_TENANT_H
#define LOKIC_API_TENANT_H

#include "lib/str.h"

#define API_TENANT_MAX_LEN 150

/* The tenant named by org_id (the header's value, surrounding whitespace
 * already removed), a slice of it, in *tenant. On failure returns
 * LK_EINVAL, sets *http_status and appends Loki's message to err: 401
 * "no org id" for an empty id (also for "|", which Loki would take as the
 * empty tenant), 400 for an unsupported character, a long id, "." or "..",
 * or several tenants. */
int api_tenant_parse(lk_str org_id, lk_str *tenant, int *http_status, lk_buf *err);

/* dskit's TenantIDs for a multi-tenant read: every part checked as above,
 * then sorted and deduplicated (empty parts left out), joined with '|' into
 * *tenants (in arena; one tenant is that tenant, no '|'), their number in
 * *n. The errors of api_tenant_parse, but never "multiple org IDs". */
int api_tenants_parse(lk_str org_id, lk_arena *arena, lk_str *tenants, size_t *n,
                      int *http_status, lk_buf *err);

#endif
