/*
 * test_pzdev_http.c - the device client's HTTP response parser
 * (device/pzdev_http.h): whole responses as plazad's BSF sends them (a
 * 401 challenge, a 200 with the TS 24.109 body), framing by
 * Content-Length and by the server closing, every prefix of a response
 * being "incomplete" and never a misparse, the header lookup, and the
 * malformed forms it refuses; plus pzdev_http_exchange's refusals that
 * need no server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pzdev.h"
#include "pzdev_http.h"

static const char challenge[] =
	"HTTP/1.1 401 Unauthorized\r\n"
	"Connection: close\r\n"
	"Content-Length: 0\r\n"
	"WWW-Authenticate: Digest realm=\"bsf.plaza.example\", "
	"nonce=\"AAAA\", qop=\"auth-int\", algorithm=AKAv1-MD5\r\n"
	"Date: Wed, 25 Nov 2026 03:00:00 GMT\r\n"
	"\r\n";

static const char ok[] =
	"HTTP/1.1 200 OK\r\n"
	"content-type: application/vnd.3gpp.bsf+xml\r\n"
	"Authentication-Info:   qop=auth-int, rspauth=\"00\"  \r\n"
	"Content-Length: 12\r\n"
	"\r\n"
	"<btid>x</btid>trailing";

static int parse(const char *s, size_t len, bool eof,
		 struct pzdev_http_rsp *r)
{
	return pzdev_http_parse((const uint8_t *)s, len, eof, r);
}

static void http_parse_challenge(void **state)
{
	struct pzdev_http_rsp r;
	const char *v;
	size_t vlen = 0;

	(void)state;
	assert_int_equal(parse(challenge, strlen(challenge), false, &r),
			 PZDEV_OK);
	assert_int_equal(r.status, 401);
	assert_int_equal(r.nhdr, 4);
	assert_int_equal(r.blen, 0);
	assert_int_equal(r.len, strlen(challenge));
	v = pzdev_http_header(&r, "www-authenticate", &vlen);
	assert_non_null(v);
	assert_int_equal(vlen, strlen("Digest realm=\"bsf.plaza.example\", "
				      "nonce=\"AAAA\", qop=\"auth-int\", "
				      "algorithm=AKAv1-MD5"));
	assert_memory_equal(v, "Digest realm=", 13);
	assert_null(pzdev_http_header(&r, "Authentication-Info", NULL));
	assert_null(pzdev_http_header(&r, "WWW-Authenticat", NULL));
}

static void http_parse_body_and_ows(void **state)
{
	struct pzdev_http_rsp r;
	const char *v;
	size_t vlen = 0;

	(void)state;
	assert_int_equal(parse(ok, strlen(ok), false, &r), PZDEV_OK);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.blen, 12);
	assert_memory_equal(r.body, "<btid>x</bti", 12);
	assert_int_equal(r.len, strlen(ok) - strlen("d>trailing"));
	v = pzdev_http_header(&r, "AUTHENTICATION-INFO", &vlen);
	assert_non_null(v);
	/* leading and trailing blanks are not part of the value */
	assert_int_equal(vlen, strlen("qop=auth-int, rspauth=\"00\""));
	assert_memory_equal(v, "qop=", 4);
}

static void http_parse_every_prefix_is_incomplete(void **state)
{
	struct pzdev_http_rsp r;
	size_t whole = strlen(ok) - strlen("d>trailing");

	(void)state;
	for (size_t n = 0; n < whole; n++) {
		assert_int_equal(parse(ok, n, false, &r), PZDEV_EAGAIN);
		/* cut short by the server: malformed, never a response */
		assert_int_equal(parse(ok, n, true, &r), PZDEV_EPARSE);
	}
	for (size_t n = 0; n < strlen(challenge); n++)
		assert_int_equal(parse(challenge, n, false, &r),
				 PZDEV_EAGAIN);
}

static void http_parse_framing(void **state)
{
	static const char no_cl[] = "HTTP/1.0 200 OK\n\nhello";
	static const char lf[] = "HTTP/1.1 404 Not Found\nA: b\n"
				 "Content-Length: 2\n\nxy";
	static const char nocontent[] = "HTTP/1.1 204 No Content\r\n\r\n";
	static const char same_cl[] = "HTTP/1.1 200 OK\r\nContent-Length: 1"
				      "\r\ncontent-length: 1\r\n\r\nz";
	struct pzdev_http_rsp r;

	(void)state;
	/* Without Content-Length the body runs until the server closes. */
	assert_int_equal(parse(no_cl, strlen(no_cl), false, &r),
			 PZDEV_EAGAIN);
	assert_int_equal(parse(no_cl, strlen(no_cl), true, &r), PZDEV_OK);
	assert_int_equal(r.blen, 5);
	assert_memory_equal(r.body, "hello", 5);
	/* Bare LF line ends. */
	assert_int_equal(parse(lf, strlen(lf), false, &r), PZDEV_OK);
	assert_int_equal(r.status, 404);
	assert_int_equal(r.nhdr, 2);
	assert_memory_equal(r.body, "xy", 2);
	/* 204 has no body, Content-Length or not. */
	assert_int_equal(parse(nocontent, strlen(nocontent), false, &r),
			 PZDEV_OK);
	assert_int_equal(r.blen, 0);
	/* The same Content-Length twice is one. */
	assert_int_equal(parse(same_cl, strlen(same_cl), false, &r),
			 PZDEV_OK);
	assert_int_equal(r.blen, 1);
}

static void http_parse_keeps_at_most_hdrs_max(void **state)
{
	char buf[1024];
	size_t n = (size_t)snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\n");
	struct pzdev_http_rsp r;

	(void)state;
	for (int i = 0; i < PZDEV_HTTP_HDRS_MAX + 4; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "X-%d: %d\r\n",
				      i, i);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			      "Content-Length: 0\r\n\r\n");
	assert_int_equal(parse(buf, n, false, &r), PZDEV_OK);
	assert_int_equal(r.nhdr, PZDEV_HTTP_HDRS_MAX);
	/* a framing field after the cap still frames the message */
	assert_int_equal(r.len, n);
}

static void http_parse_refuses(void **state)
{
	static const char *const bad[] = {
		"HTTP/2 200 OK\r\n\r\n",
		"HTTP/1.1 20 OK\r\n\r\n",
		"HTTP/1.1 2x0 OK\r\n\r\n",
		"HTTP/1.1 099 Low\r\n\r\n",
		"HTTP/1.1 200OK\r\n\r\n",
		"ICY 200 OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
		"HTTP/1.1 200 OK\r\n: empty name\r\n\r\n",
		"HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n",
		"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1234567890\r\n\r\n",
		("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
		 "Content-Length: 2\r\n\r\nab"),
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
	};
	struct pzdev_http_rsp r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(bad[i], strlen(bad[i]), true, &r);

		if (rc != PZDEV_EPARSE)
			fail_msg("accepted (%d): %s", rc, bad[i]);
	}
	assert_int_equal(pzdev_http_parse(NULL, 0, true, &r), PZDEV_EINVAL);
	/* A longer body than announced: the rest is ignored, not refused. */
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n"
			       "ab", 40, true, &r), PZDEV_OK);
	assert_int_equal(r.blen, 1);
}

static void http_exchange_refuses(void **state)
{
	struct pzdev_http_rsp r;
	uint8_t buf[64];

	(void)state;
	assert_int_equal(pzdev_http_exchange("localhost", 80, "x", 1, buf,
					     sizeof(buf), &r, 100),
			 PZDEV_EINVAL);
	assert_int_equal(pzdev_http_exchange(NULL, 80, "x", 1, buf,
					     sizeof(buf), &r, 100),
			 PZDEV_EINVAL);
	assert_string_equal(pzdev_strerror(PZDEV_EAGAIN),
			    "incomplete message");
	assert_string_equal(pzdev_strerror(PZDEV_EAUTN),
			    "AUTN does not verify");
	assert_string_equal(pzdev_strerror(PZDEV_EAUTH),
			    "authentication refused");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(http_parse_challenge),
		cmocka_unit_test(http_parse_body_and_ows),
		cmocka_unit_test(http_parse_every_prefix_is_incomplete),
		cmocka_unit_test(http_parse_framing),
		cmocka_unit_test(http_parse_keeps_at_most_hdrs_max),
		cmocka_unit_test(http_parse_refuses),
		cmocka_unit_test(http_exchange_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
