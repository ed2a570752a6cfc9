/* Unit tests: api/params (Loki's query parameter rules) and api/routes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "api/params.h"
#include "api/routes.h"
#include "lib/err.h"

#define NS INT64_C(1000000000)

static api_req *req(api_param *p, size_t n)
{
    static api_req r;
    memset(&r, 0, sizeof r);
    r.params = p;
    r.n_params = n;
    return &r;
}

#define P(k, v) { LK_STR(k), LK_STR(v) }

static void test_bounds_defaults(void **state)
{
    (void)state;
    int64_t now = 1793498400 * NS;
    api_range r;
    lk_buf err = { 0 };
    assert_int_equal(api_parse_bounds(req(NULL, 0), now, &r, &err), LK_OK);
    assert_true(r.end == now && r.start == now - 3600 * NS);
    api_param p1[] = { P("since", "5m") };
    assert_int_equal(api_parse_bounds(req(p1, 1), now, &r, &err), LK_OK);
    assert_int_equal(r.start, now - 300 * NS);
    /* end in the future: start = now - since */
    api_param p2[] = { P("end", "1893498400") };
    assert_int_equal(api_parse_bounds(req(p2, 1), now, &r, &err), LK_OK);
    assert_int_equal(r.start, now - 3600 * NS);
    assert_int_equal(r.end, INT64_C(1893498400) * NS);
    api_param p3[] = { P("start", "2026-11-01T00:30:00Z"), P("end", "1793493900.5") };
    assert_int_equal(api_parse_bounds(req(p3, 2), now, &r, &err), LK_OK);
    assert_int_equal(r.start, INT64_C(1793493000) * NS);
    assert_int_equal(r.end, INT64_C(1793493900) * NS + 500000000);
    api_param p4[] = { P("start", "tomorrow") };
    assert_int_equal(api_parse_bounds(req(p4, 1), now, &r, &err), LK_EINVAL);
    assert_non_null(strstr(err.p, "could not parse 'start' parameter"));
    lk_buf_free(&err);
}

static void test_limit_direction(void **state)
{
    (void)state;
    lk_buf err = { 0 };
    int limit;
    bool back;
    assert_int_equal(api_parse_limit(req(NULL, 0), &limit, &err), LK_OK);
    assert_int_equal(limit, 100);
    api_param z[] = { P("limit", "0") };
    assert_int_equal(api_parse_limit(req(z, 1), &limit, &err), LK_EINVAL);
    assert_string_equal(err.p, "limit must be a positive value");
    api_param x[] = { P("limit", "12x") };
    assert_int_equal(api_parse_limit(req(x, 1), &limit, &err), LK_EINVAL);
    assert_int_equal(api_parse_direction(req(NULL, 0), &back, &err), LK_OK);
    assert_true(back);
    api_param f[] = { P("direction", "FORWARD") };
    assert_int_equal(api_parse_direction(req(f, 1), &back, &err), LK_OK);
    assert_false(back);
    api_param s[] = { P("direction", "up") };
    lk_buf_reset(&err);
    assert_int_equal(api_parse_direction(req(s, 1), &back, &err), LK_EINVAL);
    assert_string_equal(err.p, "invalid direction 'up'");
    lk_buf_free(&err);
}

static void test_step(void **state)
{
    (void)state;
    lk_buf err = { 0 };
    int64_t step;
    api_range r = { 0, 7200 * NS };
    assert_int_equal(api_parse_step(req(NULL, 0), &r, &step, &err), LK_OK);
    assert_int_equal(step, 28 * NS); /* floor(7200/250) */
    api_range small = { 0, 10 * NS };
    assert_int_equal(api_parse_step(req(NULL, 0), &small, &step, &err), LK_OK);
    assert_int_equal(step, 1 * NS);
    api_param d[] = { P("step", "5m") };
    assert_int_equal(api_parse_step(req(d, 1), &r, &step, &err), LK_OK);
    assert_int_equal(step, 300 * NS);
    api_param fl[] = { P("step", "300.0") };
    assert_int_equal(api_parse_step(req(fl, 1), &r, &step, &err), LK_OK);
    assert_int_equal(step, 300 * NS);
    api_param tiny[] = { P("step", "0.1") };
    assert_int_equal(api_parse_step(req(tiny, 1), &r, &step, &err), LK_EINVAL);
    assert_non_null(strstr(err.p, "11,000 points"));
    api_param zero[] = { P("step", "0") };
    assert_int_equal(api_parse_step(req(zero, 1), &r, &step, &err), LK_EINVAL);
    lk_buf_free(&err);
}

static void test_routes(void **state)
{
    (void)state;
    lk_str arg = LK_STR_NULL;
    const api_route *r = api_route_find(LK_STR("/loki/api/v1/label/app/values"), &arg);
    assert_non_null(r);
    assert_string_equal(r->name, "loki_api_v1_label_name_values");
    assert_true(lk_str_eq_c(arg, "app"));
    assert_null(api_route_find(LK_STR("/loki/api/v1/label//values"), &arg));
    assert_null(api_route_find(LK_STR("/loki/api/v1/label/a/b/values"), &arg));
    assert_non_null(api_route_find(LK_STR("/loki/api/v1/push/"), &arg));
    assert_non_null(api_route_find(LK_STR("/loki/api/v1/tail"), &arg));
    assert_non_null(api_route_find(LK_STR("/loki/api/v1/index/volume"), &arg));
    assert_null(api_route_find(LK_STR("/loki/api/v1/no_such_endpoint"), &arg));
    assert_int_equal(api_method_bit("POST"), API_POST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounds_defaults),
        cmocka_unit_test(test_limit_direction),
        cmocka_unit_test(test_step),
        cmocka_unit_test(test_routes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
