/*
 * test_http_map.c - the HTTP to request-primitive mapping (pz_http_map,
 * TS-0009): methods, ty in Content-Type, the three path scopes, the
 * X-M2M-* headers, Authorization (Bearer and Basic, valid and malformed),
 * Accept negotiation, query parameters, and the HTTP status and rsc of
 * every refusal.
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

#include "plaza/pz_b64.h"
#include "plaza/pz_err.h"
#include "plaza/pz_http.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_time.h"

#define MAXKV 16

/* One mapping: build it with the helpers, run it with map(). */
struct m {
	struct pz_http_kv h[MAXKV], a[MAXKV];
	struct pz_http_in in;
	struct pz_http_out out;
	struct pz_req req;
	char b64[256];
};

static int setup(void **state)
{
	struct m *m = pz_calloc(1, sizeof(*m));

	if (!m)
		return -1;
	m->in.method = "GET";
	m->in.path = "/plaza";
	m->in.headers = m->h;
	m->in.args = m->a;
	pz_req_init(&m->req);
	*state = m;
	return 0;
}

static int teardown(void **state)
{
	struct m *m = *state;

	pz_req_clear(&m->req);
	pz_free(m);
	return 0;
}

static void hdr(struct m *m, const char *name, const char *value)
{
	assert_true(m->in.nheaders < MAXKV);
	m->h[m->in.nheaders].name = name;
	m->h[m->in.nheaders++].value = value;
}

static void arg(struct m *m, const char *name, const char *value)
{
	assert_true(m->in.nargs < MAXKV);
	m->a[m->in.nargs].name = name;
	m->a[m->in.nargs++].value = value;
}

/* Run the mapping on a fresh request. */
static int map(struct m *m)
{
	pz_req_clear(&m->req);
	pz_req_init(&m->req);
	memset(&m->out, 0x5a, sizeof(m->out));
	return pz_http_map(&m->in, &m->req, &m->out);
}

static void map_ok(struct m *m)
{
	int rc = map(m);

	if (rc != PZ_OK)
		fail_msg("%s %s refused: %d %d %s", m->in.method, m->in.path,
			 m->out.status, m->out.rsc, m->out.msg);
	assert_int_equal(m->out.status, 0);
	assert_int_equal(m->out.rsc, 0);
}

static void map_refused(struct m *m, int status, int rsc)
{
	int rc = map(m);

	if (rc != PZ_EREQ || m->out.status != status || m->out.rsc != rsc)
		fail_msg("%s %s: rc %d status %d rsc %d (%s), want %d %d",
			 m->in.method, m->in.path, rc, m->out.status,
			 m->out.rsc, rc == PZ_EREQ ? m->out.msg : "", status,
			 rsc);
	assert_true(strlen(m->out.msg) > 0);
	assert_true(memchr(m->out.msg, '\0', sizeof(m->out.msg)) != NULL);
}

static const char *basic(struct m *m, const char *plain)
{
	strcpy(m->b64, "Basic ");
	pz_b64_encode((const uint8_t *)plain, strlen(plain), m->b64 + 6, 0);
	return m->b64;
}

static void test_methods(void **state)
{
	struct m *m = *state;

	m->in.method = "GET";
	map_ok(m);
	assert_int_equal(m->req.op, PZ_OP_RETRIEVE);
	assert_int_equal(m->out.accept, PZ_FMT_JSON);
	assert_string_equal(m->out.ctype, "application/json");

	m->in.method = "DELETE";
	map_ok(m);
	assert_int_equal(m->req.op, PZ_OP_DELETE);

	hdr(m, "Content-Type", "application/json");
	m->in.method = "PUT";
	map_ok(m);
	assert_int_equal(m->req.op, PZ_OP_UPDATE);
	assert_int_equal(m->req.ty, 0);

	m->in.method = "POST";
	map_ok(m);
	assert_int_equal(m->req.op, PZ_OP_NOTIFY);
	assert_int_equal(m->req.ty, 0);

	m->h[0].value = "application/json;ty=4";
	map_ok(m);
	assert_int_equal(m->req.op, PZ_OP_CREATE);
	assert_int_equal(m->req.ty, 4);
}

static void test_bad_methods(void **state)
{
	static const char *const bad[] = { "PATCH", "HEAD", "OPTIONS", "get",
					   "Post", "", "CONNECT" };
	struct m *m = *state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m->in.method = bad[i];
		map_refused(m, 405, 4005);
	}
	m->in.method = NULL;
	map_refused(m, 405, 4005);
}

static void test_content_type(void **state)
{
	static const struct { const char *ct; int ty; } good[] = {
		{ "application/json;ty=2", 2 },
		{ "application/json; ty=3", 3 },
		{ "application/vnd.onem2m-res+json; ty=23", 23 },
		{ "application/vnd.onem2m-ntfy+json", 0 },
		{ "APPLICATION/JSON;TY=9", 9 },
		{ "application/json; charset=utf-8; ty=1", 1 },
		{ "application/json;ty=4;charset=utf-8", 4 },
		{ "application/json ; ty=5 ", 5 },
		{ "application/json;ty=65535", 65535 },
		{ "application/cbor;ty=3", 3 },
		{ "application/vnd.onem2m-res+cbor; ty=4", 4 },
	};
	static const char *const bad_ty[] = {
		"application/json;ty=", "application/json;ty=0",
		"application/json;ty=-1", "application/json;ty=65536",
		"application/json;ty=cnt", "application/json;ty=4x",
		"application/json;ty=99999999999999999999",
	};
	static const char *const bad_type[] = {
		"text/plain", "application/xml;ty=4", "application/cborx",
		"application/jsonx;ty=4", "", "application/vnd.onem2m-res+xml",
		"json",
	};
	struct m *m = *state;

	m->in.method = "POST";
	hdr(m, "Content-Type", NULL);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		m->h[0].value = good[i].ct;
		map_ok(m);
		assert_int_equal(m->req.ty, good[i].ty);
		assert_int_equal(m->req.op, good[i].ty ? PZ_OP_CREATE :
				 PZ_OP_NOTIFY);
	}
	for (size_t i = 0; i < sizeof(bad_ty) / sizeof(bad_ty[0]); i++) {
		m->h[0].value = bad_ty[i];
		map_refused(m, 400, 4000);
	}
	for (size_t i = 0; i < sizeof(bad_type) / sizeof(bad_type[0]); i++) {
		m->h[0].value = bad_type[i];
		map_refused(m, 415, 4015);
	}
	/* The header name is case-insensitive. */
	m->h[0].name = "content-type";
	m->h[0].value = "application/json;ty=3";
	map_ok(m);
	assert_int_equal(m->req.ty, 3);
}

static void test_missing_content_type(void **state)
{
	struct m *m = *state;

	m->in.method = "POST";
	map_refused(m, 415, 4015);
	m->in.method = "PUT";
	map_refused(m, 415, 4015);
	/* Retrieve and delete carry no content and need none. */
	m->in.method = "GET";
	map_ok(m);
	m->in.method = "DELETE";
	map_ok(m);
	/* An unusable Content-Type is refused even on GET. */
	hdr(m, "Content-Type", "text/html");
	m->in.method = "GET";
	map_refused(m, 415, 4015);
}

static void test_paths(void **state)
{
	static const struct { const char *path, *to; } t[] = {
		{ "/plaza", "plaza" },
		{ "/plaza/ae1/cnt", "plaza/ae1/cnt" },
		{ "/cnt42", "cnt42" },
		{ "/-/ae1", "-/ae1" },
		{ "/~/plaza-in/plaza/ae1", "/plaza-in/plaza/ae1" },
		{ "/~/plaza-in/cnt42", "/plaza-in/cnt42" },
		{ "/~/plaza-in", "/plaza-in" },
		{ "/_/plaza.example/plaza-in/plaza/ae1",
		  "//plaza.example/plaza-in/plaza/ae1" },
		{ "/_/plaza.example/plaza-in/cnt42",
		  "//plaza.example/plaza-in/cnt42" },
		{ "/", "" },
	};
	struct m *m = *state;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		m->in.path = t[i].path;
		map_ok(m);
		assert_non_null(m->req.to);
		if (strcmp(m->req.to, t[i].to))
			fail_msg("path %s -> to '%s', want '%s'", t[i].path,
				 m->req.to, t[i].to);
	}
	m->in.path = NULL;
	map_ok(m);
	assert_string_equal(m->req.to, "");
}

static void test_headers(void **state)
{
	struct m *m = *state;

	hdr(m, "X-M2M-Origin", "Cae1");
	hdr(m, "x-m2m-ri", "req-1");
	hdr(m, "X-M2M-RVI", "4");
	hdr(m, "X-M2M-RTU", "http://x/y");
	hdr(m, "X-M2M-OT", "20240101T000000");
	hdr(m, "X-M2M-GID", "g1");
	hdr(m, "X-M2M-VSI", "vendor");
	hdr(m, "X-M2M-EC", "2");
	hdr(m, "X-M2M-Unknown", "ignored");
	map_ok(m);
	assert_string_equal(m->req.fr, "Cae1");
	assert_string_equal(m->req.rqi, "req-1");
	assert_string_equal(m->req.rvi, "4");
	assert_string_equal(m->req.rtu, "http://x/y");
	assert_string_equal(m->req.ot, "20240101T000000");
	assert_string_equal(m->req.gid, "g1");
	assert_string_equal(m->req.vsi, "vendor");
	assert_int_equal(m->req.ec, 2);
	assert_int_equal(m->req.auth, PZ_AUTH_NONE);
	/* The strings are copies in the request's arena. */
	assert_ptr_not_equal(m->req.fr, m->h[0].value);
}

static void test_no_headers(void **state)
{
	struct m *m = *state;

	map_ok(m);
	assert_null(m->req.fr);
	assert_null(m->req.rqi);
	assert_null(m->req.rvi);
	assert_int_equal(m->req.rqet, 0);
	assert_int_equal(m->req.ec, 0);
	assert_int_equal(m->req.rcn, PZ_RCN_DEFAULT);
}

static void test_time_headers(void **state)
{
	static const char *const names[] = { "X-M2M-RET", "X-M2M-RST",
					     "X-M2M-OET" };
	struct m *m = *state;

	hdr(m, NULL, NULL);
	for (int i = 0; i < 3; i++) {
		int64_t *f, before, after, want;

		m->h[0].name = names[i];
		m->h[0].value = "20300101T000000";
		map_ok(m);
		f = i == 0 ? &m->req.rqet : i == 1 ? &m->req.rset :
		    &m->req.oet;
		assert_int_equal(pz_time_parse("20300101T000000", &want),
				 PZ_OK);
		assert_int_equal(*f, want);
		/* A duration is relative to now. */
		m->h[0].value = "PT10S";
		before = pz_time_now();
		map_ok(m);
		after = pz_time_now();
		f = i == 0 ? &m->req.rqet : i == 1 ? &m->req.rset :
		    &m->req.oet;
		assert_true(*f >= before + 10000000 &&
			    *f <= after + 10000000);
		m->h[0].value = "5000";
		map_ok(m);
		assert_true(*f >= before + 5000000);
		m->h[0].value = "tomorrow";
		map_refused(m, 400, 4000);
		assert_non_null(strstr(m->out.msg, names[i]));
		m->h[0].value = "";
		map_refused(m, 400, 4000);
	}
}

static void test_ec(void **state)
{
	static const char *const bad[] = { "0", "256", "-1", "x", "" };
	struct m *m = *state;

	hdr(m, "X-M2M-EC", "255");
	map_ok(m);
	assert_int_equal(m->req.ec, 255);
	m->h[0].value = "1";
	map_ok(m);
	assert_int_equal(m->req.ec, 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m->h[0].value = bad[i];
		map_refused(m, 400, 4000);
	}
}

static void test_auth_bearer(void **state)
{
	struct m *m = *state;

	hdr(m, "X-M2M-Origin", "Cae1");
	hdr(m, "Authorization", "Bearer s3cr3t-token");
	map_ok(m);
	assert_int_equal(m->req.auth, PZ_AUTH_SECRET);
	assert_string_equal(m->req.secret, "s3cr3t-token");
	assert_null(m->req.auth_id);
	assert_string_equal(m->req.fr, "Cae1");
	/* The scheme is case-insensitive (RFC 7235); spaces are skipped. */
	m->h[1].value = "bearer   tok";
	map_ok(m);
	assert_string_equal(m->req.secret, "tok");
	m->h[1].value = "Bearer ";
	map_refused(m, 403, 4103);
	m->h[1].value = "Bearer    ";
	map_refused(m, 403, 4103);
	m->h[1].value = "Bearer";
	map_refused(m, 403, 4103);
}

static void test_auth_basic(void **state)
{
	struct m *m = *state;

	hdr(m, "Authorization", NULL);
	m->h[0].value = basic(m, "Cae1:pass:word");
	map_ok(m);
	assert_int_equal(m->req.auth, PZ_AUTH_SECRET);
	assert_string_equal(m->req.auth_id, "Cae1");
	assert_string_equal(m->req.secret, "pass:word");
	/* "Basic" in any case, base64 with or without padding. */
	m->h[0].value = "BASIC Q2FlMTp4";  /* Cae1:x */
	map_ok(m);
	assert_string_equal(m->req.auth_id, "Cae1");
	assert_string_equal(m->req.secret, "x");
	m->h[0].value = "Basic Q2FlMjp5eg";  /* Cae2:yz, unpadded */
	map_ok(m);
	assert_string_equal(m->req.auth_id, "Cae2");
	assert_string_equal(m->req.secret, "yz");
}

static void test_auth_malformed(void **state)
{
	static const char *const plain[] = {
		"nocolon", ":secret", "Cae1:", ":", "",
	};
	static const char *const raw[] = {
		"Basic", "Basic ", "Basic !!!!", "Basic Q2FlMTp4=Q",
		"Basic Q", "Digest username=\"x\"", "Token abc", "abc",
		"", "Negotiate YII=",
	};
	struct m *m = *state;

	hdr(m, "Authorization", NULL);
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		m->h[0].value = basic(m, plain[i]);
		map_refused(m, 403, 4103);
	}
	for (size_t i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
		m->h[0].value = raw[i];
		map_refused(m, 403, 4103);
	}
	/* A NUL inside the decoded credential. */
	m->h[0].value = "Basic Q2FlMQA6eA==";  /* "Cae1\0:x" */
	map_refused(m, 403, 4103);
	m->h[0].value = "Basic Q2FlMTp4AHk=";  /* "Cae1:x\0y" */
	map_refused(m, 403, 4103);
	/* Longer than any credential: refused, not overflowed. */
	{
		char big[6 + 2048 + 1];

		memcpy(big, "Basic ", 6);
		memset(big + 6, 'Q', 2048);
		big[sizeof(big) - 1] = '\0';
		m->h[0].value = big;
		map_refused(m, 403, 4103);
	}
}

static void test_accept(void **state)
{
	static const char *const ok[] = {
		"application/json", "*/*", "application/*",
		"text/html, application/json;q=0.9", "",
		"application/vnd.onem2m-res+json",
	};
	static const char *const bad[] = {
		"application/xml", "application/senml+json", "text/html",
		"text/*", "image/png", "application/cbor;q=0",
	};
	struct m *m = *state;

	hdr(m, "Accept", NULL);
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		m->h[0].value = ok[i];
		map_ok(m);
		assert_int_equal(m->out.accept, PZ_FMT_JSON);
	}
	m->h[0].value = "application/vnd.onem2m-res+json";
	map_ok(m);
	assert_string_equal(m->out.ctype, "application/vnd.onem2m-res+json");
	m->h[0].value = "application/json";
	map_ok(m);
	assert_string_equal(m->out.ctype, "application/json");
	/* CBOR is served on request, in the type asked for. */
	m->h[0].value = "application/cbor";
	map_ok(m);
	assert_int_equal(m->out.accept, PZ_FMT_CBOR);
	assert_string_equal(m->out.ctype, "application/cbor");
	m->h[0].value = "text/html, application/vnd.onem2m-res+cbor";
	map_ok(m);
	assert_int_equal(m->out.accept, PZ_FMT_CBOR);
	assert_string_equal(m->out.ctype, "application/vnd.onem2m-res+cbor");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m->h[0].value = bad[i];
		map_refused(m, 406, 5207);
	}
}

static void test_query(void **state)
{
	struct m *m = *state;

	arg(m, "rcn", "4");
	arg(m, "fu", "1");
	arg(m, "lbl", "a+b");
	arg(m, "ty", "3");
	arg(m, "crb", "20300101T000000");
	arg(m, "rn", "x*");
	map_ok(m);
	assert_int_equal(m->req.rcn, 4);
	assert_int_equal(m->req.fc.fu, 1);
	assert_int_equal(m->req.fc.nlbl, 2);
	assert_int_equal(m->req.fc.nty, 1);
	assert_int_equal(m->req.fc.ty[0], 3);
	assert_true(m->req.fc.crb > 0);
	assert_int_equal(m->req.fc.natr, 1);
	assert_int_equal(m->req.op, PZ_OP_RETRIEVE);
	assert_int_equal(m->req.ty, 0);

	m->a[5].name = "bogus";
	map_refused(m, 400, 4000);
	assert_non_null(strstr(m->out.msg, "bogus"));
	m->a[5].name = NULL;
	map_refused(m, 400, 4000);
	m->a[5].name = "lim";
	m->a[5].value = "-1";
	map_refused(m, 400, 4000);
	assert_non_null(strstr(m->out.msg, "lim"));
	m->a[5].value = NULL;
	map_refused(m, 400, 4000);
}

/* Fail allocation N for N = 1, 2, ...: PZ_ENOMEM or success, nothing else,
 * and pz_req_clear frees whatever was copied. */
static void test_alloc_failure(void **state)
{
	struct m *m = *state;
	unsigned long n;
	int rc = PZ_ENOMEM;

	m->in.method = "POST";
	m->in.path = "/~/plaza-in/plaza/ae1";
	hdr(m, "X-M2M-Origin", "Cae1");
	hdr(m, "X-M2M-RI", "r1");
	hdr(m, "Content-Type", "application/json;ty=3");
	hdr(m, "Authorization", "Basic Q2FlMTp4");
	arg(m, "lbl", "a+b+c");
	arg(m, "rcn", "1");
	for (n = 1; n < 1000; n++) {
		pz_mem_fail_after(n);
		rc = map(m);
		pz_mem_fail_after(0);
		if (rc == PZ_OK)
			break;
		if (rc != PZ_ENOMEM)
			fail_msg("n=%lu: rc %d (%s)", n, rc, m->out.msg);
	}
	assert_int_equal(rc, PZ_OK);
	assert_string_equal(m->req.to, "/plaza-in/plaza/ae1");
	assert_string_equal(m->req.auth_id, "Cae1");
	assert_int_equal(m->req.fc.nlbl, 3);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_methods),
		T(test_bad_methods),
		T(test_content_type),
		T(test_missing_content_type),
		T(test_paths),
		T(test_headers),
		T(test_no_headers),
		T(test_time_headers),
		T(test_ec),
		T(test_auth_bearer),
		T(test_auth_basic),
		T(test_auth_malformed),
		T(test_accept),
		T(test_query),
		T(test_alloc_failure),
	};

	/* PZ_TEST=pattern runs only the matching tests (docs/testing.md). */
	if (getenv("PZ_TEST"))
		cmocka_set_test_filter(getenv("PZ_TEST"));
	json_set_alloc_funcs(pz_malloc, pz_free);
	return cmocka_run_group_tests_name("http_map", tests, NULL, NULL);
}
