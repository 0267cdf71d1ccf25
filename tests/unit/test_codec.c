/*
 * test_codec.c - the JSON codec (pz_codec_parse / encode / check): valid
 * documents, the parse -> encode -> parse round trip, every limit exactly
 * at and one over, malformed input of every kind, and allocation failure
 * at every allocation of a parse and an encode.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "plaza/pz_codec.h"
#include "plaza/pz_err.h"
#include "plaza/pz_mem.h"

static int parse(const char *s, const struct pz_codec_limits *lim,
		 json_t **out, char *err, size_t errlen)
{
	return pz_codec_parse(PZ_FMT_JSON, (const uint8_t *)s, strlen(s), lim,
			      out, err, errlen);
}

/* Parse s, which must be refused with want; err must say something. */
static void expect_refused(const char *s, size_t len,
			   const struct pz_codec_limits *lim, int want)
{
	char err[256] = "";
	json_t *doc = (json_t *)1;
	int rc = pz_codec_parse(PZ_FMT_JSON, (const uint8_t *)s, len, lim,
				&doc, err, sizeof(err));

	if (rc != want)
		fail_msg("input '%.*s'%s: rc %d (%s), want %d (%s)",
			 (int)(len > 60 ? 60 : len), s, len > 60 ? "..." : "",
			 rc, pz_strerror(rc), want, err);
	assert_null(doc);
	assert_true(strlen(err) > 0);
}

static void test_parse_valid(void **state)
{
	char err[256];
	json_t *doc = NULL, *v;

	(void)state;
	assert_int_equal(parse("{\"m2m:cnt\":{\"rn\":\"a\",\"mni\":5,"
			       "\"lbl\":[\"x\",\"y\"],\"n\":null,\"t\":true,"
			       "\"r\":1.5,\"u\":\"\\u00e9\\n\"}}", NULL, &doc,
			       err, sizeof(err)), PZ_OK);
	assert_non_null(doc);
	v = json_object_get(doc, "m2m:cnt");
	assert_true(json_is_object(v));
	assert_string_equal(json_string_value(json_object_get(v, "rn")), "a");
	assert_int_equal(json_integer_value(json_object_get(v, "mni")), 5);
	assert_int_equal(json_array_size(json_object_get(v, "lbl")), 2);
	assert_true(json_is_null(json_object_get(v, "n")));
	assert_true(json_is_true(json_object_get(v, "t")));
	assert_true(json_real_value(json_object_get(v, "r")) == 1.5);
	assert_string_equal(json_string_value(json_object_get(v, "u")),
			    "\xc3\xa9\n");
	json_decref(doc);

	/* Whitespace around the document is fine; so is an empty object. */
	assert_int_equal(parse(" \r\n\t{ } \n", NULL, &doc, err, sizeof(err)),
			 PZ_OK);
	assert_int_equal(json_object_size(doc), 0);
	json_decref(doc);
}

static void test_encode(void **state)
{
	struct pz_buf b;
	json_t *doc = json_pack("{s:i,s:[s,b],s:n}", "a", 1, "l", "x", 1,
				"z");

	(void)state;
	pz_buf_init(&b, 0);
	assert_int_equal(pz_codec_encode(PZ_FMT_JSON, doc, &b), PZ_OK);
	assert_string_equal(b.data, "{\"a\":1,\"l\":[\"x\",true],\"z\":null}");
	/* Appends to what the buffer holds. */
	assert_int_equal(pz_codec_encode(PZ_FMT_JSON, doc, &b), PZ_OK);
	assert_int_equal(b.len, 2 * strlen("{\"a\":1,\"l\":[\"x\",true],"
					   "\"z\":null}"));
	/* CBOR too (preferred serialisation, RFC 8949 4.2.1). */
	pz_buf_reset(&b);
	assert_int_equal(pz_codec_encode(PZ_FMT_CBOR, doc, &b), PZ_OK);
	assert_int_equal(b.len, 13);
	assert_memory_equal(b.data, "\xa3\x61\x61\x01\x61\x6c\x82\x61\x78"
			    "\xf5\x61\x7a\xf6", 13);
	pz_buf_free(&b);
	json_decref(doc);
}

/* The buffer's ceiling is reported as PZ_ETOOBIG (pz_codec.h) and leaves
 * the buffer as it was. */
static void test_encode_ceiling(void **state)
{
	struct pz_buf b;
	json_t *doc = json_pack("{s:s}", "a", "hello world");

	(void)state;
	pz_buf_init(&b, 8);
	assert_int_equal(pz_buf_adds(&b, "ab"), PZ_OK);
	assert_int_equal(pz_codec_encode(PZ_FMT_JSON, doc, &b), PZ_ETOOBIG);
	assert_int_equal(b.len, 2);
	assert_string_equal(b.data, "ab");
	pz_buf_free(&b);

	/* Exactly at the ceiling fits. */
	pz_buf_init(&b, strlen("{\"a\":\"hello world\"}"));
	assert_int_equal(pz_codec_encode(PZ_FMT_JSON, doc, &b), PZ_OK);
	pz_buf_free(&b);
	json_decref(doc);
}

static const char *const round_trip_docs[] = {
	"{}",
	"{\"a\":{}}",
	"{\"a\":[]}",
	"{\"m2m:cin\":{\"cnf\":\"text/plain:0\",\"con\":\"21.5\"}}",
	"{\"a\":[1,-2,3.25,-0.0,1e300,true,false,null,\"\"]}",
	("{\"s\":\"quote\\\" backslash\\\\ slash\\/ ctl\\u0001"
	 "\\b\\f\\n\\r\\t\"}"),
	"{\"u\":\"\\u00e9\\u20ac\\ud83d\\ude00 \xe2\x82\xac\"}",
	"{\"big\":9223372036854775807,\"small\":-9223372036854775808}",
	"{\"k\":{\"k\":{\"k\":{\"k\":[[[{\"x\":1}]]]}}}}",
	"{\"\":\"empty key\",\"\\u00e9\":1}",
	"{\"r\":0.1,\"e\":1.5e-10,\"n\":123456789012345678}",
};

static void test_round_trip(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(round_trip_docs) /
	     sizeof(round_trip_docs[0]); i++) {
		char err[256] = "";
		json_t *a = NULL, *b = NULL;
		struct pz_buf buf;
		int rc = parse(round_trip_docs[i], NULL, &a, err, sizeof(err));

		if (rc != PZ_OK)
			fail_msg("%s: %s", round_trip_docs[i], err);
		pz_buf_init(&buf, 0);
		assert_int_equal(pz_codec_encode(PZ_FMT_JSON, a, &buf), PZ_OK);
		rc = pz_codec_parse(PZ_FMT_JSON, (uint8_t *)buf.data, buf.len,
				    NULL, &b, err, sizeof(err));
		if (rc != PZ_OK)
			fail_msg("re-parse of %s: %s", buf.data, err);
		if (!json_equal(a, b))
			fail_msg("%s -> %s differs", round_trip_docs[i],
				 buf.data);
		pz_buf_free(&buf);
		json_decref(a);
		json_decref(b);
	}
}

static void test_limit_bytes(void **state)
{
	const char *s = "{\"a\":\"0123456789\"}";
	struct pz_codec_limits lim = { strlen(s), 32, 100 };
	char err[256];
	json_t *doc;

	(void)state;
	assert_int_equal(parse(s, &lim, &doc, err, sizeof(err)), PZ_OK);
	json_decref(doc);
	lim.max_bytes--;
	expect_refused(s, strlen(s), &lim, PZ_ETOOBIG);
	assert_int_equal(parse(s, &lim, &doc, err, sizeof(err)), PZ_ETOOBIG);
	assert_non_null(strstr(err, "exceeds"));
}

/* "{"a":{"a":...{}...}}" with n objects, or n containers alternating
 * object/array when mixed is set. */
static char *nested(int n, int mixed)
{
	struct pz_buf b;

	pz_buf_init(&b, 0);
	pz_buf_adds(&b, "{");
	for (int i = 1; i < n; i++)
		pz_buf_adds(&b, mixed && i % 2 ? "\"a\":[" :
			    mixed ? "{" : "\"a\":{");
	for (int i = n - 1; i >= 1; i--)
		pz_buf_adds(&b, mixed && i % 2 ? "]" : "}");
	pz_buf_adds(&b, "}");
	return pz_buf_take(&b);
}

static void test_limit_depth(void **state)
{
	struct pz_codec_limits lim = { 1 << 20, 8, 1000 };
	char err[256];
	json_t *doc;

	(void)state;
	for (int mixed = 0; mixed < 2; mixed++) {
		char *at = nested(8, mixed), *over = nested(9, mixed);

		if (parse(at, &lim, &doc, err, sizeof(err)) != PZ_OK)
			fail_msg("%s: %s", at, err);
		json_decref(doc);
		expect_refused(over, strlen(over), &lim, PZ_ETOOBIG);
		pz_free(at);
		pz_free(over);
	}
	/* Scalars do not nest: depth counts containers only. */
	lim.max_depth = 1;
	assert_int_equal(parse("{\"a\":1,\"b\":\"x\"}", &lim, &doc, err,
			       sizeof(err)), PZ_OK);
	json_decref(doc);
	expect_refused("{\"a\":[]}", 8, &lim, PZ_ETOOBIG);
}

/* A document nested far past the configured depth is still "too big"
 * (as the limit says), whatever jansson's own depth guard does. */
static void test_limit_depth_deep(void **state)
{
	struct pz_codec_limits lim = pz_codec_default_limits;
	char *s = nested(5000, 1);

	(void)state;
	expect_refused(s, strlen(s), &lim, PZ_ETOOBIG);
	pz_free(s);
}

static void test_limit_nodes(void **state)
{
	/* object + array + 3 numbers = 5 values */
	const char *s = "{\"a\":[1,2,3]}";
	struct pz_codec_limits lim = { 1 << 20, 8, 5 };
	char err[256];
	json_t *doc;

	(void)state;
	assert_int_equal(parse(s, &lim, &doc, err, sizeof(err)), PZ_OK);
	json_decref(doc);
	lim.max_nodes = 4;
	expect_refused(s, strlen(s), &lim, PZ_ETOOBIG);
	/* pz_codec_check on a built document agrees. */
	doc = json_pack("{s:[i,i,i]}", "a", 1, 2, 3);
	assert_int_equal(pz_codec_check(doc, &lim, err, sizeof(err)),
			 PZ_ETOOBIG);
	lim.max_nodes = 5;
	assert_int_equal(pz_codec_check(doc, &lim, err, sizeof(err)), PZ_OK);
	json_decref(doc);
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {
		"", " ", "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}",
		"{'a':1}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}",
		"{\"a\":+1}", "{\"a\":NaN}", "{\"a\":Infinity}", "{\"a\":tru}",
		"{\"a\":\"unterminated}", "{\"a\":\"\\x\"}",
		"{\"a\":\"\\u12\"}", "{a:1}", "{\"a\":1}}", "{\"a\":1} x",
		"{}{}", "{\"a\":1e99999}",
		"{\"a\":99999999999999999999}",
		"{\"a\":\"tab\there\"}", "{\"a\":\"nl\nhere\"}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_refused(bad[i], strlen(bad[i]), NULL, PZ_EINVAL);
}

static void test_not_object(void **state)
{
	static const char *const bad[] = {
		"[]", "[{\"a\":1}]", "\"s\"", "1", "-1.5", "true", "null",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_refused(bad[i], strlen(bad[i]), NULL, PZ_EINVAL);
}

static void test_duplicate_keys(void **state)
{
	(void)state;
	expect_refused("{\"a\":1,\"a\":2}", 13, NULL, PZ_EINVAL);
	expect_refused("{\"o\":{\"k\":1,\"k\":1}}", 19, NULL, PZ_EINVAL);
	/* Same key in different objects is fine. */
	{
		char err[256];
		json_t *doc;

		assert_int_equal(parse("{\"a\":{\"k\":1},\"b\":{\"k\":1}}",
				       NULL, &doc, err, sizeof(err)), PZ_OK);
		json_decref(doc);
	}
}

static void test_bad_text(void **state)
{
	static const char *const bad[] = {
		"{\"a\":\"\xff\"}",            /* not UTF-8 at all */
		"{\"a\":\"\xc0\xaf\"}",        /* overlong '/' */
		"{\"a\":\"\xed\xa0\x80\"}",    /* UTF-8 encoded surrogate */
		"{\"a\":\"\xe2\x82\"}",        /* truncated sequence */
		"{\"a\":\"\xf4\x90\x80\x80\"}",/* above U+10FFFF */
		"{\"\xff\":1}",                /* bad key */
		"{\"a\":\"\\u0000\"}",         /* NUL in a string */
		"{\"a\\u0000b\":1}",           /* NUL in a key */
		"{\"a\":\"\\ud800\"}",         /* lone high surrogate */
		"{\"a\":\"\\udc00\"}",         /* lone low surrogate */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_refused(bad[i], strlen(bad[i]), NULL, PZ_EINVAL);
	/* A NUL byte in the input, inside or after the document. */
	expect_refused("{\"a\":\"x\0y\"}", 11, NULL, PZ_EINVAL);
	expect_refused("{}\0", 3, NULL, PZ_EINVAL);
	expect_refused("\0{}", 3, NULL, PZ_EINVAL);
}

/* Every proper prefix of a document is malformed, never accepted. */
static void test_truncated(void **state)
{
	const char *s = "{\"m2m:cin\":{\"con\":\"\\u00e9 21.5\",\"lbl\":[\"a\","
			"1,true,null,-2.5e3],\"o\":{}}}";

	(void)state;
	for (size_t n = 0; n < strlen(s); n++)
		expect_refused(s, n, NULL, PZ_EINVAL);
}

static void test_null_input(void **state)
{
	char err[256] = "";
	json_t *doc = (json_t *)1;

	(void)state;
	assert_int_equal(pz_codec_parse(PZ_FMT_JSON, NULL, 0, NULL, &doc, err,
					sizeof(err)), PZ_EINVAL);
	assert_null(doc);
	assert_int_equal(pz_codec_parse(PZ_FMT_CBOR, (const uint8_t *)"{}", 2,
					NULL, &doc, err, sizeof(err)),
			 PZ_EINVAL);
	assert_null(doc);
}

/* Fail allocation N for N = 1, 2, ... until the parse succeeds: every
 * failure is a clean error and nothing leaks (LeakSanitizer checks the
 * latter in the sanitizer build). */
static void test_parse_alloc_failure(void **state)
{
	const char *s = "{\"m2m:cnt\":{\"rn\":\"abc\",\"lbl\":[\"a\",\"b\"],"
			"\"o\":{\"x\":1.5,\"long\":\"0123456789abcdef0123456789"
			"abcdef0123456789abcdef\"}}}";
	json_t *want = json_loads(s, 0, NULL), *doc;
	unsigned long n;
	int rc = PZ_ENOMEM;

	(void)state;
	assert_non_null(want);
	for (n = 1; n < 10000; n++) {
		char err[256] = "";

		doc = NULL;
		pz_mem_fail_after(n);
		rc = parse(s, NULL, &doc, err, sizeof(err));
		pz_mem_fail_after(0);
		if (rc == PZ_OK)
			break;
		/* jansson reports some allocation failures as syntax
		 * errors; either way nothing is returned. */
		if (rc != PZ_ENOMEM && rc != PZ_EINVAL)
			fail_msg("n=%lu: rc %d", n, rc);
		assert_null(doc);
		assert_true(strlen(err) > 0);
	}
	assert_int_equal(rc, PZ_OK);
	assert_true(n > 1);
	assert_true(json_equal(doc, want));
	json_decref(doc);
	json_decref(want);
}

static void test_encode_alloc_failure(void **state)
{
	json_t *doc = json_pack("{s:{s:s,s:[i,i,i],s:s}}", "m2m:cin", "con",
				"some content", "l", 1, 2, 3, "pad",
				"0123456789012345678901234567890123456789"
				"0123456789012345678901234567890123456789");
	struct pz_buf b;
	unsigned long n;
	int rc = PZ_ENOMEM;

	(void)state;
	for (n = 1; n < 10000; n++) {
		pz_buf_init(&b, 0);
		pz_buf_adds(&b, "x");
		pz_mem_fail_after(n);
		rc = pz_codec_encode(PZ_FMT_JSON, doc, &b);
		pz_mem_fail_after(0);
		if (rc == PZ_OK)
			break;
		assert_int_equal(rc, PZ_ENOMEM);
		assert_int_equal(b.len, 1);
		assert_string_equal(b.data, "x");
		pz_buf_free(&b);
	}
	assert_int_equal(rc, PZ_OK);
	assert_true(n > 1);
	assert_int_equal(b.data[0], 'x');
	pz_buf_free(&b);
	json_decref(doc);
}

static int setup(void **state)
{
	(void)state;
	/* As plazad does: every allocation jansson makes goes through
	 * pz_malloc, so fault injection reaches it. */
	json_set_alloc_funcs(pz_malloc, pz_free);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_encode_ceiling),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_limit_bytes),
		cmocka_unit_test(test_limit_depth),
		cmocka_unit_test(test_limit_depth_deep),
		cmocka_unit_test(test_limit_nodes),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_not_object),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_bad_text),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_null_input),
		cmocka_unit_test(test_parse_alloc_failure),
		cmocka_unit_test(test_encode_alloc_failure),
	};

	/* PZ_TEST=pattern runs only the matching tests (docs/testing.md). */
	if (getenv("PZ_TEST"))
		cmocka_set_test_filter(getenv("PZ_TEST"));
	return cmocka_run_group_tests_name("codec", tests, setup, NULL);
}
