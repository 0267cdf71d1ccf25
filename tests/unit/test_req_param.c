/*
 * test_req_param.c - request parameters in text form (pz_req_param): every
 * parameter at and beyond its bounds, the timestamps, the '+'/space lists
 * and their overflow, attribute filters, unknown names, and the readable
 * reason that comes with every refusal.  Also the primitive helpers
 * (pz_req_init defaults, pz_rsc_http, pz_rsc_name, pz_op_name).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "plaza/pz_err.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_req.h"
#include "plaza/pz_time.h"

static int setup(void **state)
{
	struct pz_req *req = pz_malloc(sizeof(*req));

	if (!req)
		return -1;
	pz_req_init(req);
	*state = req;
	return 0;
}

static int teardown(void **state)
{
	pz_req_clear(*state);
	pz_free(*state);
	return 0;
}

static int param(struct pz_req *req, const char *name, const char *value,
		 char *err, size_t errlen)
{
	err[0] = '\0';
	return pz_req_param(req, name, value, err, errlen);
}

/* name=value must be refused with PZ_EINVAL and a reason naming it. */
static void expect_invalid(struct pz_req *req, const char *name,
			   const char *value)
{
	char err[256];
	int rc = param(req, name, value, err, sizeof(err));

	if (rc != PZ_EINVAL)
		fail_msg("%s=%s: rc %d, want PZ_EINVAL", name,
			 value ? value : "(null)", rc);
	if (!strstr(err, name))
		fail_msg("%s=%s: reason '%s' does not name the parameter", name,
			 value ? value : "(null)", err);
}

static void test_defaults(void **state)
{
	struct pz_req *req = *state;

	assert_int_equal(req->op, PZ_OP_NONE);
	assert_int_equal(req->rcn, PZ_RCN_DEFAULT);
	assert_int_equal(req->rt, 0);
	assert_int_equal(req->drt, 0);
	assert_int_equal(req->fc.fu, 0);
	assert_int_equal(req->fc.lim, -1);
	assert_int_equal(req->fc.ofst, -1);
	assert_int_equal(req->fc.lvl, -1);
	assert_int_equal(req->fc.sts, -1);
	assert_int_equal(req->fc.stb, -1);
	assert_int_equal(req->fc.sza, -1);
	assert_int_equal(req->fc.szb, -1);
	assert_true(req->fc.crb <= 0);  /* "not given" (pz_req.h) */
	assert_int_equal(req->fc.nlbl + req->fc.nty + req->fc.ncty +
			 req->fc.natr, 0);
	assert_false(req->fc.present);
	assert_null(req->pc);
	assert_null(req->to);
}

struct int_case {
	const char *name;
	long long lo, hi;
	bool fc;             /* a filter criterion (sets fc.present) */
};

static const struct int_case int_cases[] = {
	{ "rcn", 0, 12, false },
	{ "rt", 1, 5, false },
	{ "drt", 1, 2, false },
	{ "fu", 1, 2, true },
	{ "fo", 1, 2, true },
	{ "lim", 0, 1000000000, true },
	{ "ofst", 0, 1000000000, true },
	{ "lvl", 1, 1000000, true },
	{ "sts", 0, INT64_MAX / 2, true },
	{ "stb", 0, INT64_MAX / 2, true },
	{ "sza", 0, INT64_MAX / 2, true },
	{ "szb", 0, INT64_MAX / 2, true },
};

static long long int_field(const struct pz_req *req, const char *name)
{
	if (!strcmp(name, "rcn")) return req->rcn;
	if (!strcmp(name, "rt")) return req->rt;
	if (!strcmp(name, "drt")) return req->drt;
	if (!strcmp(name, "fu")) return req->fc.fu;
	if (!strcmp(name, "fo")) return req->fc.fo;
	if (!strcmp(name, "lim")) return req->fc.lim;
	if (!strcmp(name, "ofst")) return req->fc.ofst;
	if (!strcmp(name, "lvl")) return req->fc.lvl;
	if (!strcmp(name, "sts")) return req->fc.sts;
	if (!strcmp(name, "stb")) return req->fc.stb;
	if (!strcmp(name, "sza")) return req->fc.sza;
	if (!strcmp(name, "szb")) return req->fc.szb;
	fail_msg("no field %s", name);
	return 0;
}

static void test_int_params(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(int_cases) / sizeof(int_cases[0]); i++) {
		const struct int_case *c = &int_cases[i];
		long long vals[3] = { c->lo, c->hi, (c->lo + c->hi) / 2 };
		char v[32], err[256];
		struct pz_req req;

		for (int k = 0; k < 3; k++) {
			pz_req_init(&req);
			snprintf(v, sizeof(v), "%lld", vals[k]);
			if (param(&req, c->name, v, err, sizeof(err)) != PZ_OK)
				fail_msg("%s=%s refused: %s", c->name, v, err);
			assert_int_equal(int_field(&req, c->name), vals[k]);
			assert_int_equal(req.fc.present, c->fc);
			pz_req_clear(&req);
		}
		pz_req_init(&req);
		snprintf(v, sizeof(v), "%lld", c->lo - 1);
		expect_invalid(&req, c->name, v);
		if (c->hi < INT64_MAX) {
			snprintf(v, sizeof(v), "%lld", c->hi + 1);
			expect_invalid(&req, c->name, v);
		}
		/* Not integers, or not only an integer. */
		expect_invalid(&req, c->name, "");
		expect_invalid(&req, c->name, NULL);
		expect_invalid(&req, c->name, "x");
		expect_invalid(&req, c->name, "1x");
		expect_invalid(&req, c->name, " 1");
		expect_invalid(&req, c->name, "1 ");
		expect_invalid(&req, c->name, "1.0");
		expect_invalid(&req, c->name, "0x1");
		expect_invalid(&req, c->name, "99999999999999999999999");
		/* A refused value leaves the field as it was. */
		{
			struct pz_req def;

			pz_req_init(&def);
			assert_int_equal(int_field(&req, c->name),
					 int_field(&def, c->name));
			assert_false(req.fc.present);
		}
		pz_req_clear(&req);
	}
}

static void test_int_reason(void **state)
{
	struct pz_req *req = *state;
	char err[256];

	assert_int_equal(param(req, "lvl", "0", err, sizeof(err)), PZ_EINVAL);
	assert_non_null(strstr(err, "'0'"));
	assert_non_null(strstr(err, "lvl"));
	assert_non_null(strstr(err, "1 to 1000000"));
	/* A long value is cut in the reason, which stays within errlen. */
	char big[600];

	memset(big, '9', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(param(req, "lim", big, err, 40), PZ_EINVAL);
	assert_true(strlen(err) < 40);
}

/* Microseconds of a UTC calendar time, computed independently. */
static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = { 0 };

	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (int64_t)timegm(&tm) * 1000000;
}

static void test_time_params(void **state)
{
	static const char *const names[] = { "crb", "cra", "ms", "us", "exb",
					     "exa" };

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct pz_req req;
		char err[256];
		int64_t *f;

		pz_req_init(&req);
		f = !strcmp(names[i], "crb") ? &req.fc.crb :
		    !strcmp(names[i], "cra") ? &req.fc.cra :
		    !strcmp(names[i], "ms") ? &req.fc.ms :
		    !strcmp(names[i], "us") ? &req.fc.us :
		    !strcmp(names[i], "exb") ? &req.fc.exb : &req.fc.exa;
		assert_int_equal(param(&req, names[i], "20240229T123456", err,
				       sizeof(err)), PZ_OK);
		assert_int_equal(*f, utc(2024, 2, 29, 12, 34, 56));
		assert_true(req.fc.present);
		assert_int_equal(param(&req, names[i], "20240229T123456,25Z",
				       err, sizeof(err)), PZ_OK);
		assert_int_equal(*f, utc(2024, 2, 29, 12, 34, 56) + 250000);
		expect_invalid(&req, names[i], "20230229T123456");
		expect_invalid(&req, names[i], "2024-02-29T12:34:56");
		expect_invalid(&req, names[i], "");
		expect_invalid(&req, names[i], "now");
		assert_non_null(strstr((param(&req, names[i], "x", err,
					      sizeof(err)), err),
				       "YYYYMMDDTHHMMSS"));
		/* The last good value stays. */
		assert_int_equal(*f, utc(2024, 2, 29, 12, 34, 56) + 250000);
		pz_req_clear(&req);
	}
}

static void test_lists(void **state)
{
	struct pz_req *req = *state;
	char err[256];

	assert_int_equal(param(req, "lbl", "a+b c", err, sizeof(err)), PZ_OK);
	assert_int_equal(req->fc.nlbl, 3);
	assert_string_equal(req->fc.lbl[0], "a");
	assert_string_equal(req->fc.lbl[1], "b");
	assert_string_equal(req->fc.lbl[2], "c");
	/* Empty items vanish; a second parameter appends. */
	assert_int_equal(param(req, "lbl", "++d  +e+ ", err, sizeof(err)),
			 PZ_OK);
	assert_int_equal(req->fc.nlbl, 5);
	assert_string_equal(req->fc.lbl[3], "d");
	assert_string_equal(req->fc.lbl[4], "e");
	assert_true(req->fc.present);

	assert_int_equal(param(req, "cty", "text/plain:0+application/json",
			       err, sizeof(err)), PZ_OK);
	assert_int_equal(req->fc.ncty, 2);
	assert_string_equal(req->fc.cty[0], "text/plain:0");
	assert_string_equal(req->fc.cty[1], "application/json");

	assert_int_equal(param(req, "ty", "2+3 4", err, sizeof(err)), PZ_OK);
	assert_int_equal(req->fc.nty, 3);
	assert_int_equal(req->fc.ty[0], 2);
	assert_int_equal(req->fc.ty[1], 3);
	assert_int_equal(req->fc.ty[2], 4);
	assert_int_equal(param(req, "ty", "65535", err, sizeof(err)), PZ_OK);
	expect_invalid(req, "ty", "0");
	expect_invalid(req, "ty", "65536");
	expect_invalid(req, "ty", "cnt");
	expect_invalid(req, "ty", "3+x");
	expect_invalid(req, "ty", "-3");
	/* ty does not set req->ty (that is the Create type). */
	assert_int_equal(req->ty, 0);
}

static void test_empty_list(void **state)
{
	struct pz_req *req = *state;
	char err[256];

	assert_int_equal(param(req, "lbl", "", err, sizeof(err)), PZ_OK);
	assert_int_equal(req->fc.nlbl, 0);
	assert_int_equal(param(req, "lbl", "+ +", err, sizeof(err)), PZ_OK);
	assert_int_equal(req->fc.nlbl, 0);
	assert_int_equal(param(req, "lbl", NULL, err, sizeof(err)), PZ_OK);
	assert_int_equal(req->fc.nlbl, 0);
}

/* PZ_FC_MAX_LIST items fit, one more is refused, in one parameter or
 * spread over several. */
static void test_list_overflow(void **state)
{
	static const char *const names[] = { "lbl", "cty", "ty" };

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct pz_req req;
		char list[PZ_FC_MAX_LIST * 8 + 16], err[256];
		size_t o = 0;

		pz_req_init(&req);
		for (int k = 0; k < PZ_FC_MAX_LIST; k++)
			o += (size_t)snprintf(list + o, sizeof(list) - o,
					      "%s%d", k ? "+" : "", k + 1);
		if (param(&req, names[i], list, err, sizeof(err)) != PZ_OK)
			fail_msg("%s: %d items refused: %s", names[i],
				 PZ_FC_MAX_LIST, err);
		assert_int_equal(param(&req, names[i], "99", err, sizeof(err)),
				 PZ_EINVAL);
		assert_non_null(strstr(err, "too many"));
		pz_req_clear(&req);

		pz_req_init(&req);
		snprintf(list + o, sizeof(list) - o, "+%d", PZ_FC_MAX_LIST + 1);
		assert_int_equal(param(&req, names[i], list, err, sizeof(err)),
				 PZ_EINVAL);
		assert_true(strlen(err) > 0);
		pz_req_clear(&req);
	}
}

static void test_atr(void **state)
{
	struct pz_req *req = *state;
	char err[256];

	assert_int_equal(param(req, "rn", "temp*", err, sizeof(err)), PZ_OK);
	assert_int_equal(param(req, "cnf", "text/plain:0", err, sizeof(err)),
			 PZ_OK);
	assert_int_equal(param(req, "cr", "", err, sizeof(err)), PZ_OK);
	assert_int_equal(req->fc.natr, 3);
	assert_string_equal(req->fc.atr_name[0], "rn");
	assert_string_equal(req->fc.atr_val[0], "temp*");
	assert_string_equal(req->fc.atr_name[1], "cnf");
	assert_string_equal(req->fc.atr_val[1], "text/plain:0");
	assert_string_equal(req->fc.atr_val[2], "");
	assert_true(req->fc.present);
	for (int i = 3; i < PZ_FC_MAX_LIST; i++)
		assert_int_equal(param(req, "ri", "x", err, sizeof(err)),
				 PZ_OK);
	assert_int_equal(param(req, "ri", "x", err, sizeof(err)), PZ_EINVAL);
	assert_non_null(strstr(err, "too many"));
	assert_int_equal(req->fc.natr, PZ_FC_MAX_LIST);
}

static void test_unknown(void **state)
{
	static const char *const names[] = { "zzz", "", "RCN", "rcn ", "lb",
					     "lbls", "ty2", "con_x" };
	struct pz_req *req = *state;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char err[256];

		if (param(req, names[i], "1", err, sizeof(err)) != PZ_ENOTFOUND)
			fail_msg("'%s' is not PZ_ENOTFOUND", names[i]);
		assert_non_null(strstr(err, "unknown"));
	}
	assert_false(req->fc.present);
	assert_int_equal(req->fc.natr, 0);
}

static void test_accepted_ignored(void **state)
{
	struct pz_req *req = *state;
	char err[256];

	assert_int_equal(param(req, "rp", "PT1H", err, sizeof(err)), PZ_OK);
	assert_int_equal(param(req, "da", "true", err, sizeof(err)), PZ_OK);
	/* Geo queries are refused with a reason. */
	expect_invalid(req, "gmty", "1");
	expect_invalid(req, "geom", "[1,2]");
	expect_invalid(req, "gsf", "1");
	expect_invalid(req, "smf", "x");
	/* arp and sqi are recognised (pz_req.h lists them as accepted). */
	assert_int_not_equal(param(req, "arp", "x", err, sizeof(err)),
			     PZ_ENOTFOUND);
	assert_int_not_equal(param(req, "sqi", "true", err, sizeof(err)),
			     PZ_ENOTFOUND);
}

/* Failing the arena's allocation is PZ_ENOMEM, never a crash. */
static void test_alloc_failure(void **state)
{
	unsigned long n;
	int rc = PZ_ENOMEM;

	(void)state;
	for (n = 1; n < 1000; n++) {
		struct pz_req req;
		char err[256];

		pz_req_init(&req);
		pz_mem_fail_after(n);
		rc = pz_req_param(&req, "lbl", "a+b+c", err, sizeof(err));
		if (rc == PZ_OK)
			rc = pz_req_param(&req, "rn", "x", err, sizeof(err));
		pz_mem_fail_after(0);
		pz_req_clear(&req);
		if (rc == PZ_OK)
			break;
		assert_int_equal(rc, PZ_ENOMEM);
	}
	assert_int_equal(rc, PZ_OK);
}

static void test_rsc_tables(void **state)
{
	static const struct { int rsc, http; const char *name; } t[] = {
		{ 2000, 200, "OK" }, { 2001, 201, "CREATED" },
		{ 2002, 200, "DELETED" }, { 2004, 200, "UPDATED" },
		{ 4000, 400, "BAD_REQUEST" },
		{ 4001, 501, "RELEASE_VERSION_NOT_SUPPORTED" },
		{ 4004, 404, "NOT_FOUND" },
		{ 4005, 405, "OPERATION_NOT_ALLOWED" },
		{ 4008, 504, "REQUEST_TIMEOUT" },
		{ 4015, 415, "UNSUPPORTED_MEDIA_TYPE" },
		{ 4103, 403, "ORIGINATOR_HAS_NO_PRIVILEGE" },
		{ 4105, 409, "CONFLICT" },
		{ 4107, 403, "SECURITY_ASSOCIATION_REQUIRED" },
		{ 4108, 403, "INVALID_CHILD_RESOURCE_TYPE" },
		{ 4117, 403, "ORIGINATOR_HAS_ALREADY_REGISTERED" },
		{ 5000, 500, "INTERNAL_SERVER_ERROR" },
		{ 5001, 501, "NOT_IMPLEMENTED" },
		{ 5103, 404, "TARGET_NOT_REACHABLE" },
		{ 5105, 403, "RECEIVER_HAS_NO_PRIVILEGES" },
		{ 5106, 409, "ALREADY_EXISTS" },
		{ 5203, 403, "TARGET_NOT_SUBSCRIBABLE" },
		{ 5204, 500, "SUBSCRIPTION_VERIFICATION_INITIATION_FAILED" },
		{ 5207, 406, "NOT_ACCEPTABLE" },
		{ 6010, 400, "MAX_NUMBER_OF_MEMBER_EXCEEDED" },
		{ 6023, 400, "INVALID_ARGUMENTS" },
		{ 6024, 400, "INSUFFICIENT_ARGUMENTS" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(pz_rsc_http(t[i].rsc), t[i].http);
		assert_string_equal(pz_rsc_name(t[i].rsc), t[i].name);
	}
	assert_int_equal(pz_rsc_http(1234), 500);
	assert_string_equal(pz_rsc_name(1234), "UNKNOWN");
	assert_string_equal(pz_op_name(PZ_OP_CREATE), "create");
	assert_string_equal(pz_op_name(PZ_OP_NOTIFY), "notify");
	assert_string_equal(pz_op_name(-1), "unknown");
	assert_string_equal(pz_op_name(6), "unknown");
	for (int e = -1; e <= PZ_ERR_MAX_; e++)
		assert_non_null(pz_strerror(e));
	assert_string_equal(pz_strerror(PZ_ERR_MAX_), "unknown error");
}

static void test_rsp_clear(void **state)
{
	struct pz_rsp rsp;

	(void)state;
	pz_rsp_init(&rsp);
	rsp.rsc = 2001;
	rsp.pc = json_object();
	rsp.rqi = pz_strdup("r1");
	rsp.location = pz_strdup("plaza/x");
	rsp.credential = pz_strdup("s");
	rsp.ot = pz_strdup("t");
	pz_rsp_clear(&rsp);
	assert_int_equal(rsp.rsc, 0);
	assert_null(rsp.pc);
	assert_null(rsp.rqi);
	pz_rsp_clear(&rsp);  /* twice is fine */
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_defaults),
		T(test_int_params),
		T(test_int_reason),
		T(test_time_params),
		T(test_lists),
		T(test_empty_list),
		T(test_list_overflow),
		T(test_atr),
		T(test_unknown),
		T(test_accepted_ignored),
		T(test_alloc_failure),
		T(test_rsc_tables),
		T(test_rsp_clear),
	};

	/* PZ_TEST=pattern runs only the matching tests (docs/testing.md). */
	if (getenv("PZ_TEST"))
		cmocka_set_test_filter(getenv("PZ_TEST"));
	json_set_alloc_funcs(pz_malloc, pz_free);
	return cmocka_run_group_tests_name("req_param", tests, NULL, NULL);
}
