/*
 * test_cbor.c - the CBOR codec (pz_codec_parse/_ex and pz_codec_encode
 * with PZ_FMT_CBOR) and the parse flags on JSON: the RFC 8949 Appendix A
 * vectors both ways, preferred serialisation (shortest integers and
 * floats, half subnormals included), indefinite lengths, tags, simple
 * values, map keys, top-level rules, truncation at every length, trailing
 * bytes, nesting bombs and huge declared lengths, every limit at and one
 * over, the output ceiling, JSON -> CBOR -> JSON round trips of oneM2M
 * representations, and allocation failure at every allocation.
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

#include "plaza/pz_codec.h"
#include "plaza/pz_err.h"
#include "plaza/pz_mem.h"

#define ANY (PZ_CODEC_ANY_TOP)

/* Hex text (spaces ignored) -> bytes (caller frees); *n the length. */
static uint8_t *unhex(const char *hex, size_t *n)
{
	uint8_t *b = malloc(strlen(hex) / 2 + 1);
	size_t len = 0;

	assert_non_null(b);
	for (const char *p = hex; *p; ) {
		unsigned v;

		if (*p == ' ') {
			p++;
			continue;
		}
		assert_int_equal(sscanf(p, "%2x", &v), 1);
		b[len++] = (uint8_t)v;
		p += 2;
	}
	*n = len;
	return b;
}

static char *tohex(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);

	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		sprintf(s + 2 * i, "%02x", p[i]);
	s[2 * n] = '\0';
	return s;
}

static int parse_bytes(const uint8_t *b, size_t n,
		       const struct pz_codec_limits *lim, unsigned flags,
		       json_t **out, char *err, size_t errlen)
{
	return pz_codec_parse_ex(PZ_FMT_CBOR, b, n, lim, flags, out, err,
				 errlen);
}

/* Parse hex, which must succeed; returns the document. */
static json_t *parse_ok(const char *hex, unsigned flags)
{
	char err[256] = "";
	json_t *doc = NULL;
	size_t n;
	uint8_t *b = unhex(hex, &n);
	int rc = parse_bytes(b, n, NULL, flags, &doc, err, sizeof(err));

	if (rc != PZ_OK)
		fail_msg("%s: rc %d: %s", hex, rc, err);
	free(b);
	return doc;
}

/* Bytes that must be refused with want and a reason, leaving no doc. */
static void refuse_bytes(const uint8_t *b, size_t n,
			 const struct pz_codec_limits *lim, unsigned flags,
			 int want, const char *what)
{
	char err[256] = "";
	json_t *doc = (json_t *)1;
	int rc = parse_bytes(b, n, lim, flags, &doc, err, sizeof(err));

	if (rc != want)
		fail_msg("%s: rc %d (%s), want %d", what, rc, err, want);
	assert_null(doc);
	assert_true(strlen(err) > 0);
}

static void refuse(const char *hex, unsigned flags, int want)
{
	size_t n;
	uint8_t *b = unhex(hex, &n);

	refuse_bytes(b, n, NULL, flags, want, hex);
	free(b);
}

/* Encode doc; the bytes must be hex exactly. */
static void encode_is(const json_t *doc, const char *hex)
{
	struct pz_buf b;
	char *got;

	pz_buf_init(&b, 0);
	assert_int_equal(pz_codec_encode(PZ_FMT_CBOR, doc, &b), PZ_OK);
	got = tohex((const uint8_t *)b.data, b.len);
	if (strcmp(got, hex))
		fail_msg("encoded %s, want %s", got, hex);
	free(got);
	pz_buf_free(&b);
}

/* hex decodes (any top level) to the JSON text want, and the document
 * encodes back to hex (preferred serialisation in, same bytes out). */
static void both_ways(const char *hex, const char *want)
{
	json_t *doc = parse_ok(hex, ANY);
	json_t *exp = json_loads(want, JSON_DECODE_ANY, NULL);

	assert_non_null(exp);
	if (!json_equal(doc, exp)) {
		char *s = json_dumps(doc, JSON_ENCODE_ANY);

		fail_msg("%s decoded to %s, want %s", hex, s, want);
	}
	encode_is(doc, hex);
	json_decref(doc);
	json_decref(exp);
}

/* --- RFC 8949 Appendix A ------------------------------------------------- */

static void test_integers(void **state)
{
	(void)state;
	both_ways("00", "0");
	both_ways("01", "1");
	both_ways("0a", "10");
	both_ways("17", "23");
	both_ways("1818", "24");
	both_ways("1819", "25");
	both_ways("1864", "100");
	both_ways("18ff", "255");
	both_ways("190100", "256");
	both_ways("1903e8", "1000");
	both_ways("19ffff", "65535");
	both_ways("1a00010000", "65536");
	both_ways("1a000f4240", "1000000");
	both_ways("1affffffff", "4294967295");
	both_ways("1b0000000100000000", "4294967296");
	both_ways("1b000000e8d4a51000", "1000000000000");
	both_ways("1b7fffffffffffffff", "9223372036854775807");
	both_ways("20", "-1");
	both_ways("29", "-10");
	both_ways("37", "-24");
	both_ways("3818", "-25");
	both_ways("3863", "-100");
	both_ways("38ff", "-256");
	both_ways("390100", "-257");
	both_ways("3903e7", "-1000");
	both_ways("3b7fffffffffffffff", "-9223372036854775808");
	/* Non-preferred heads decode to the same values. */
	{
		json_t *d = parse_ok("1b0000000000000001", ANY);

		assert_int_equal(json_integer_value(d), 1);
		encode_is(d, "01");
		json_decref(d);
	}
}

/* Integers beyond int64 are not representable: PZ_EINVAL. */
static void test_integer_range(void **state)
{
	(void)state;
	refuse("1b8000000000000000", ANY, PZ_EINVAL);       /* 2^63 */
	refuse("1bffffffffffffffff", ANY, PZ_EINVAL);       /* 2^64-1 */
	refuse("3b8000000000000000", ANY, PZ_EINVAL);       /* -2^63-1 */
	refuse("3bffffffffffffffff", ANY, PZ_EINVAL);       /* -2^64 */
	refuse("a161611b8000000000000000", 0, PZ_EINVAL);
	/* Bignums (tags 2 and 3) are refused too. */
	refuse("c249010000000000000000", ANY, PZ_EINVAL);
	refuse("c349010000000000000000", ANY, PZ_EINVAL);
}

static void test_floats(void **state)
{
	(void)state;
	both_ways("f90000", "0.0");
	both_ways("f98000", "-0.0");
	both_ways("f93c00", "1.0");
	both_ways("fb3ff199999999999a", "1.1");
	both_ways("f93e00", "1.5");
	both_ways("f97bff", "65504.0");
	both_ways("fa47c35000", "100000.0");
	both_ways("fa7f7fffff", "3.4028234663852886e+38");
	both_ways("fb7e37e43c8800759c", "1.0e+300");
	both_ways("f90001", "5.9604644775390625e-8");
	both_ways("f90400", "0.00006103515625");
	both_ways("f9c400", "-4.0");
	both_ways("fbc010666666666666", "-4.1");
	/* Half subnormals other than powers of two (libcbor 0.8's own
	 * half encoder loses these). */
	both_ways("f90003", "1.78813934326171875e-7");
	both_ways("f983ff", "-6.0975551605224609375e-5");
	/* Just past half's range or precision: single, then double. */
	both_ways("fa477ff000", "65520.0");
	both_ways("fa3f800001", "1.00000011920928955078125");
	both_ways("fb3ff0000000000001", "1.0000000000000002");
	both_ways("fa33000000", "2.98023223876953125e-8");     /* 2^-25 */
	both_ways("fa00000001", "1.4012984643248171e-45");    /* 2^-149 */
	both_ways("fb0000000000000001", "4.9406564584124654e-324");
}

/* Wider encodings of the same value decode equal and re-encode short. */
static void test_floats_non_preferred(void **state)
{
	json_t *d;

	(void)state;
	d = parse_ok("fa3fc00000", ANY);
	assert_true(json_real_value(d) == 1.5);
	encode_is(d, "f93e00");
	json_decref(d);
	d = parse_ok("fb3ff8000000000000", ANY);
	encode_is(d, "f93e00");
	json_decref(d);
	/* A real stays a real, an integer an integer. */
	d = parse_ok("82f93c0001", ANY);
	assert_true(json_is_real(json_array_get(d, 0)));
	assert_true(json_is_integer(json_array_get(d, 1)));
	encode_is(d, "82f93c0001");
	json_decref(d);
}

/* NaN and infinities are refused in every width. */
static void test_nan_inf(void **state)
{
	static const char *const bad[] = {
		"f97c00", "f97e00", "f9fc00", "fa7f800000", "fa7fc00000",
		"faff800000", "fb7ff0000000000000", "fb7ff8000000000000",
		"fbfff0000000000000",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char hex[64];

		refuse(bad[i], ANY, PZ_EINVAL);
		snprintf(hex, sizeof(hex), "a16178%s", bad[i]);
		refuse(hex, 0, PZ_EINVAL);
	}
	/* A decimal fraction too big for a double is infinite too. */
	refuse("c482190400 01", ANY, PZ_EINVAL);
}

static void test_simple(void **state)
{
	(void)state;
	both_ways("f4", "false");
	both_ways("f5", "true");
	both_ways("f6", "null");
	/* undefined becomes null */
	{
		json_t *d = parse_ok("f7", ANY);

		assert_true(json_is_null(d));
		json_decref(d);
	}
	refuse("f0", ANY, PZ_EINVAL);      /* simple(16) */
	refuse("f3", ANY, PZ_EINVAL);
	refuse("f8ff", ANY, PZ_EINVAL);    /* simple(255) */
	refuse("f818", ANY, PZ_EINVAL);
	refuse("fc", ANY, PZ_EINVAL);      /* reserved */
	refuse("1c", ANY, PZ_EINVAL);      /* reserved additional info */
	refuse("5c", ANY, PZ_EINVAL);
	refuse("9e", ANY, PZ_EINVAL);
	refuse("ff", ANY, PZ_EINVAL);      /* a break outside anything */
	refuse("1f", ANY, PZ_EINVAL);      /* indefinite integer */
}

static void test_strings(void **state)
{
	(void)state;
	both_ways("60", "\"\"");
	both_ways("6161", "\"a\"");
	both_ways("6449455446", "\"IETF\"");
	both_ways("62225c", "\"\\\"\\\\\"");
	both_ways("62c3bc", "\"\\u00fc\"");
	both_ways("63e6b0b4", "\"\\u6c34\"");
	both_ways("64f0908591", "\"\\ud800\\udd51\"");
	both_ways("80", "[]");
	both_ways("83010203", "[1,2,3]");
	both_ways("8301820203820405", "[1,[2,3],[4,5]]");
	both_ways("98190102030405060708090a0b0c0d0e0f101112131415161718181819",
		  "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,"
		  "23,24,25]");
	both_ways("a0", "{}");
	both_ways("a26161016162820203", "{\"a\":1,\"b\":[2,3]}");
	both_ways("826161a161626163", "[\"a\",{\"b\":\"c\"}]");
	both_ways("a56161614161626142616361436164614461656145",
		  "{\"a\":\"A\",\"b\":\"B\",\"c\":\"C\",\"d\":\"D\","
		  "\"e\":\"E\"}");
}

/* Text must be strict UTF-8 without NUL, in values and keys. */
static void test_bad_text(void **state)
{
	static const char *const bad[] = {
		"61ff",        /* not UTF-8 */
		"62c0af",      /* overlong '/' */
		"63eda080",    /* encoded surrogate */
		"62e282",      /* a 3-byte sequence cut at 2 */
		"64f4908080",  /* above U+10FFFF */
		"6180",        /* lone continuation byte */
		"6100",        /* NUL */
		"636100 62",   /* NUL inside */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char hex[64];

		snprintf(hex, sizeof(hex), "%s", bad[i]);
		refuse(hex, ANY, PZ_EINVAL);
		/* as a key */
		{
			char k[80];

			snprintf(k, sizeof(k), "a1%s01", hex);
			refuse(k, 0, PZ_EINVAL);
		}
		/* as a chunk of an indefinite string */
		{
			char c[80];

			snprintf(c, sizeof(c), "7f%sff", hex);
			refuse(c, ANY, PZ_EINVAL);
		}
	}
}

static void test_bytes(void **state)
{
	json_t *d;

	(void)state;
	/* Refused unless asked for... */
	refuse("4401020304", ANY, PZ_EINVAL);
	refuse("a161614401020304", 0, PZ_EINVAL);
	refuse("5f42010243030405ff", ANY, PZ_EINVAL);
	/* ...then base64url without padding. */
	d = parse_ok("a161614401020304", PZ_CODEC_BYTES_B64);
	assert_string_equal(json_string_value(json_object_get(d, "a")),
			    "AQIDBA");
	json_decref(d);
	d = parse_ok("40", ANY | PZ_CODEC_BYTES_B64);
	assert_string_equal(json_string_value(d), "");
	json_decref(d);
	d = parse_ok("43fbff00", ANY | PZ_CODEC_BYTES_B64);
	assert_string_equal(json_string_value(d), "-_8A");
	json_decref(d);
	d = parse_ok("5f42010243030405ff", ANY | PZ_CODEC_BYTES_B64);
	assert_string_equal(json_string_value(d), "AQIDBAU");
	json_decref(d);
	d = parse_ok("5fff", ANY | PZ_CODEC_BYTES_B64);
	assert_string_equal(json_string_value(d), "");
	json_decref(d);
	/* Byte strings are never keys. */
	refuse("a1416101", PZ_CODEC_BYTES_B64, PZ_EINVAL);
}

/* RFC 8949 Appendix A's indefinite-length items decode to the definite
 * ones, and encode as definite (preferred serialisation). */
static void test_indefinite(void **state)
{
	static const struct {
		const char *in, *json, *out;
	} v[] = {
		{ "7f657374726561646d696e67ff", "\"streaming\"",
		  "6973747265616d696e67" },
		{ "7fff", "\"\"", "60" },
		{ "9fff", "[]", "80" },
		{ "9f018202039f0405ffff", "[1,[2,3],[4,5]]",
		  "8301820203820405" },
		{ "9f01820203820405ff", "[1,[2,3],[4,5]]",
		  "8301820203820405" },
		{ "83018202039f0405ff", "[1,[2,3],[4,5]]",
		  "8301820203820405" },
		{ "83019f0203ff820405", "[1,[2,3],[4,5]]",
		  "8301820203820405" },
		{ "9f0102030405060708090a0b0c0d0e0f101112131415161718181819ff",
		  "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,"
		  "23,24,25]",
		  "98190102030405060708090a0b0c0d0e0f101112131415161718181819" },
		{ "bf61610161629f0203ffff", "{\"a\":1,\"b\":[2,3]}",
		  "a26161016162820203" },
		{ "826161bf61626163ff", "[\"a\",{\"b\":\"c\"}]",
		  "826161a161626163" },
		{ "bf6346756ef563416d7421ff", "{\"Fun\":true,\"Amt\":-2}",
		  "a26346756ef563416d7421" },
		{ "bf7f6161ff01ff", "{\"a\":1}", "a1616101" },  /* key */
		{ "bfff", "{}", "a0" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		json_t *d = parse_ok(v[i].in, ANY);
		json_t *exp = json_loads(v[i].json, JSON_DECODE_ANY, NULL);

		if (!json_equal(d, exp))
			fail_msg("%s", v[i].in);
		encode_is(d, v[i].out);
		json_decref(d);
		json_decref(exp);
	}
}

static void test_indefinite_bad(void **state)
{
	static const char *const bad[] = {
		"7f7f6161ffff",   /* nested indefinite string */
		"7f4161ff",       /* byte chunk in a text string */
		"5f6161ff",       /* text chunk in a byte string */
		"7f01ff",         /* integer chunk */
		"7f9fffff",       /* array chunk */
		"81ff",           /* break in a definite array */
		"a161 61ff",      /* break in a definite map */
		"bf6161ff",       /* break between key and value */
		"bf616101",       /* no break */
		"9f01",           /* no break */
		"7f6161",         /* no break */
		"9fffff",         /* break after the end */
		"c0ff",           /* break instead of a tagged item */
		"c49f01ff",       /* decimal fraction of one integer */
		"c49f010203ff",   /* of three */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		refuse(bad[i], ANY | PZ_CODEC_BYTES_B64, PZ_EINVAL);
	}
}

static void test_tags(void **state)
{
	json_t *d;

	(void)state;
	/* 0: a date/time string */
	d = parse_ok("c074323031332d30332d32315432303a30343a30305a", ANY);
	assert_string_equal(json_string_value(d), "2013-03-21T20:04:00Z");
	encode_is(d, "74323031332d30332d32315432303a30343a30305a");
	json_decref(d);
	d = parse_ok("c07f6432303133ff", ANY);  /* indefinite string */
	assert_string_equal(json_string_value(d), "2013");
	json_decref(d);
	/* 1: epoch seconds, integer or float */
	d = parse_ok("c11a514b67b0", ANY);
	assert_int_equal(json_integer_value(d), 1363896240);
	json_decref(d);
	d = parse_ok("c1fb41d452d9ec200000", ANY);
	assert_true(json_real_value(d) == 1363896240.5);
	json_decref(d);
	d = parse_ok("c13a0001869f", ANY);
	assert_int_equal(json_integer_value(d), -100000);
	json_decref(d);
	/* 4: decimal fraction [exponent, mantissa] -> real */
	d = parse_ok("c48221196ab3", ANY);
	assert_true(json_is_real(d));
	assert_true(json_real_value(d) == 273.15);
	json_decref(d);
	d = parse_ok("c49f21196ab3ff", ANY);
	assert_true(json_real_value(d) == 273.15);
	json_decref(d);
	d = parse_ok("c4820203", ANY);
	assert_true(json_real_value(d) == 300.0);
	encode_is(d, "f95cb0");
	json_decref(d);
	d = parse_ok("a26161c48221196ab36162c11a514b67b0", 0);
	assert_true(json_real_value(json_object_get(d, "a")) == 273.15);
	assert_int_equal(json_integer_value(json_object_get(d, "b")),
			 1363896240);
	json_decref(d);
	/* A tag counts as one value; its decimal fraction no container. */
	{
		struct pz_codec_limits lim = { 100, 1, 2 };
		char err[256];
		uint8_t in[] = { 0x81, 0xc4, 0x82, 0x21, 0x19, 0x6a, 0xb3 };

		assert_int_equal(parse_bytes(in, sizeof(in), &lim, ANY, &d,
					     err, sizeof(err)), PZ_OK);
		json_decref(d);
	}
}

static void test_tags_bad(void **state)
{
	static const char *const bad[] = {
		"c001",            /* tag 0 on an integer */
		"c0f93c00",        /* ... on a float */
		"c16161",          /* tag 1 on text */
		"c1f6",            /* ... on null */
		"c1c11a514b67b0",  /* tag on a tag */
		"c0c074323031",    /* tag on a tag */
		"c4830102 03",     /* decimal fraction of three */
		"c48101",          /* ... of one */
		"c482f93c0001",    /* ... holding a float */
		"c4826161 01",     /* ... holding text */
		"c482c2410101",    /* ... holding a bignum */
		"c4a0",            /* ... on a map */
		"c401",            /* ... on an integer */
		"d820 6161",       /* tag 32 (URI) unsupported */
		"d8186161",        /* tag 24 */
		"d9d9f7 01",       /* self-described CBOR */
		"c5820102",        /* bigfloat */
		"c6 01",           /* tag 6 */
		"a1c0616101",      /* tag on a key */
		"c0",              /* a tag and nothing */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refuse(bad[i], ANY | PZ_CODEC_BYTES_B64, PZ_EINVAL);
	/* 9223372036854775807e-2 is fine... */
	json_decref(parse_ok("c482211b7fffffffffffffff", ANY));
	/* A decimal fraction out of double range. */
	refuse("c4821b7fffffffffffffff01", ANY, PZ_EINVAL);
	/* ...while one too small for it is zero, as strtod has it. */
	json_decref(parse_ok("c4823b7fffffffffffffff01", ANY));
}

static void test_keys(void **state)
{
	json_t *d;

	(void)state;
	refuse("a10102", 0, PZ_EINVAL);          /* {1: 2} */
	d = parse_ok("a30102200361610a", PZ_CODEC_INT_KEYS);
	assert_int_equal(json_integer_value(json_object_get(d, "1")), 2);
	assert_int_equal(json_integer_value(json_object_get(d, "-1")), 3);
	assert_int_equal(json_integer_value(json_object_get(d, "a")), 10);
	/* Integer keys come back as text keys. */
	encode_is(d, "a3613102622d310361610a");
	json_decref(d);
	d = parse_ok("a13b7fffffffffffffff00", PZ_CODEC_INT_KEYS);
	assert_non_null(json_object_get(d, "-9223372036854775808"));
	json_decref(d);
	refuse("a11b800000000000000000", PZ_CODEC_INT_KEYS, PZ_EINVAL);
	/* Duplicates, also across the integer/text forms. */
	refuse("a2616101616102", 0, PZ_EINVAL);
	refuse("a2010061310a", PZ_CODEC_INT_KEYS, PZ_EINVAL);
	refuse("bf616101616102ff", 0, PZ_EINVAL);
	/* Other key types. */
	refuse("a1f93c0000", PZ_CODEC_INT_KEYS, PZ_EINVAL);
	refuse("a1f600", PZ_CODEC_INT_KEYS, PZ_EINVAL);
	refuse("a1f500", PZ_CODEC_INT_KEYS, PZ_EINVAL);
	refuse("a18000", PZ_CODEC_INT_KEYS, PZ_EINVAL);
	refuse("a1a000", PZ_CODEC_INT_KEYS, PZ_EINVAL);
	refuse("a1c11a514b67b000", PZ_CODEC_INT_KEYS, PZ_EINVAL);
	/* The empty key is a key. */
	d = parse_ok("a16001", 0);
	assert_int_equal(json_integer_value(json_object_get(d, "")), 1);
	json_decref(d);
}

/* Without PZ_CODEC_ANY_TOP the top level is a map, as for JSON. */
static void test_top_level(void **state)
{
	static const char *const not_map[] = {
		"80", "81a0", "6161", "01", "20", "f93e00", "f5", "f6", "f7",
		"c11a514b67b0", "c48221196ab3",
	};
	json_t *d;

	(void)state;
	for (size_t i = 0; i < sizeof(not_map) / sizeof(not_map[0]); i++) {
		refuse(not_map[i], 0, PZ_EINVAL);
		d = parse_ok(not_map[i], ANY);
		json_decref(d);
	}
	d = parse_ok("a0", 0);
	json_decref(d);
	refuse("", 0, PZ_EINVAL);
	refuse("", ANY, PZ_EINVAL);
	/* Trailing bytes after the item. */
	refuse("a000", 0, PZ_EINVAL);
	refuse("0101", ANY, PZ_EINVAL);
	refuse("a0ff", 0, PZ_EINVAL);
	refuse("a0a0", 0, PZ_EINVAL);
}

/* --- documents, truncation, limits --------------------------------------- */

/* A document exercising most of the decoder: indefinite map, array and
 * string, a tag 0 date, a decimal fraction, a half float, the int64
 * extremes and nesting. */
static const char rich_hex[] =
	"bf 67 6d326d3a636e74"
	"   a9 62 7269 6d 636e7430303030303030303031"
	"      62 726e 7f 62 7465 62 6170 ff"
	"      63 6d6e69 19 03e8"
	"      63 6c626c 9f 6161 f5 f6 f4 ff"
	"      62 7265 f9 3e00"
	"      63 626967 1b 7fffffffffffffff"
	"      63 6e6567 3b 7fffffffffffffff"
	"      63 646174 c0 74 323031332d30332d32315432303a30343a30305a"
	"      62 6466 c4 82 21 19 6ab3"
	"   63 6e6573 a1 6178 bf 6179 9f 80 a0 ff ff "
	"ff";

static const char rich_json[] =
	"{\"m2m:cnt\":{\"ri\":\"cnt0000000001\",\"rn\":\"teap\","
	"\"mni\":1000,\"lbl\":[\"a\",true,null,false],\"re\":1.5,"
	"\"big\":9223372036854775807,\"neg\":-9223372036854775808,"
	"\"dat\":\"2013-03-21T20:04:00Z\",\"df\":273.15},"
	"\"nes\":{\"x\":{\"y\":[[],{}]}}}";

static void test_rich(void **state)
{
	json_t *d = parse_ok(rich_hex, 0);
	json_t *exp = json_loads(rich_json, 0, NULL);

	(void)state;
	assert_non_null(exp);
	assert_true(json_equal(d, exp));
	json_decref(d);
	json_decref(exp);
}

/* Every proper prefix is refused as malformed, never accepted. */
static void test_truncated(void **state)
{
	size_t n;
	uint8_t *b = unhex(rich_hex, &n);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		uint8_t *cut = malloc(i ? i : 1);  /* exact size for ASan */
		char what[32];

		memcpy(cut, b, i);
		snprintf(what, sizeof(what), "prefix of %zu", i);
		refuse_bytes(cut, i, NULL, 0, PZ_EINVAL, what);
		refuse_bytes(cut, i, NULL, ANY | PZ_CODEC_INT_KEYS |
			     PZ_CODEC_BYTES_B64, PZ_EINVAL, what);
		free(cut);
	}
	free(b);
	/* Heads cut inside their argument, and strings cut short. */
	refuse("19 01", ANY, PZ_EINVAL);
	refuse("1b 00000000", ANY, PZ_EINVAL);
	refuse("fb 3ff0", ANY, PZ_EINVAL);
	refuse("f9 3c", ANY, PZ_EINVAL);
	refuse("63 6161", ANY, PZ_EINVAL);
	refuse("78", ANY, PZ_EINVAL);
	refuse("82 01", ANY, PZ_EINVAL);
	refuse("a2 6161 01", 0, PZ_EINVAL);
	refuse("d9 01", ANY, PZ_EINVAL);
}

static uint8_t *repeat(uint8_t byte, size_t count, uint8_t last,
		       size_t *n)
{
	uint8_t *b = malloc(count + 1);

	assert_non_null(b);
	memset(b, byte, count);
	b[count] = last;
	*n = count + 1;
	return b;
}

/* 100000 nested containers are refused as soon as the depth limit is
 * passed, with PZ_ETOOBIG, without recursion and in no time. */
static void test_bombs(void **state)
{
	static const uint8_t heads[] = { 0x81, 0x9f, 0xa1 };
	clock_t t0 = clock();
	size_t n;
	uint8_t *b;

	(void)state;
	for (size_t i = 0; i < sizeof(heads); i++) {
		b = repeat(heads[i], 100000, 0x00, &n);
		if (heads[i] == 0xa1) {   /* {"": {"": ...}} */
			for (size_t j = 1; j < 100000; j += 2)
				b[j] = 0x60;
		}
		refuse_bytes(b, n, NULL, ANY, PZ_ETOOBIG, "bomb");
		refuse_bytes(b, n, NULL, 0, PZ_ETOOBIG, "bomb");
		free(b);
	}
	/* {"a": [ [ [ ... ]]]} under a map top level */
	b = repeat(0x81, 100000, 0x00, &n);
	b[0] = 0xa1;
	b[1] = 0x61;
	b[2] = 0x61;
	refuse_bytes(b, n, NULL, 0, PZ_ETOOBIG, "bomb in a map");
	free(b);
	/* Tags on tags stop at the second. */
	b = repeat(0xc1, 100000, 0x00, &n);
	refuse_bytes(b, n, NULL, ANY, PZ_EINVAL, "tag bomb");
	free(b);
	/* Indefinite strings of many empty chunks are fine, and linear. */
	b = repeat(0x60, 100000, 0xff, &n);
	b[0] = 0x7f;
	{
		char err[256];
		json_t *d;

		assert_int_equal(parse_bytes(b, n, NULL, ANY, &d, err,
					     sizeof(err)), PZ_OK);
		assert_string_equal(json_string_value(d), "");
		json_decref(d);
	}
	free(b);
	/* Lengths the input cannot hold are refused at the head. */
	refuse("9b ffffffffffffffff", ANY, PZ_EINVAL);
	refuse("bb ffffffffffffffff", ANY, PZ_EINVAL);
	refuse("9b 7fffffffffffffff 00", ANY, PZ_EINVAL);
	refuse("bb 4000000000000000 0000", ANY, PZ_EINVAL);
	refuse("9a ffffffff 00", ANY, PZ_EINVAL);
	refuse("5b ffffffffffffffff", ANY | PZ_CODEC_BYTES_B64, PZ_EINVAL);
	refuse("7b ffffffffffffffff", ANY, PZ_EINVAL);
	refuse("7b 7fffffffffffffff 61", ANY, PZ_EINVAL);
	refuse("7a ffffffff", ANY, PZ_EINVAL);
	refuse("a1 6161 9b ffffffffffffffff", 0, PZ_EINVAL);
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0);
}

/* A million-element array stops at the value limit. */
static void test_bomb_wide(void **state)
{
	struct pz_codec_limits lim = { 8 << 20, 32, 100000 };
	size_t count = 1 << 20, n = count + 5;
	uint8_t *b = calloc(1, n);

	(void)state;
	b[0] = 0x9a;
	b[1] = 0x00;
	b[2] = 0x10;
	b[3] = 0x00;
	b[4] = 0x00;
	refuse_bytes(b, n, &lim, ANY, PZ_ETOOBIG, "wide");
	lim.max_nodes = count + 1;
	{
		char err[256];
		json_t *d;

		assert_int_equal(parse_bytes(b, n, &lim, ANY, &d, err,
					     sizeof(err)), PZ_OK);
		assert_int_equal(json_array_size(d), count);
		json_decref(d);
	}
	free(b);
}

static void test_limit_bytes(void **state)
{
	size_t n;
	uint8_t *b = unhex(rich_hex, &n);
	struct pz_codec_limits lim = pz_codec_default_limits;
	char err[256];
	json_t *d;

	(void)state;
	lim.max_bytes = n;
	assert_int_equal(parse_bytes(b, n, &lim, 0, &d, err, sizeof(err)),
			 PZ_OK);
	json_decref(d);
	lim.max_bytes = n - 1;
	refuse_bytes(b, n, &lim, 0, PZ_ETOOBIG, "bytes");
	assert_int_equal(parse_bytes(b, n, &lim, 0, &d, err, sizeof(err)),
			 PZ_ETOOBIG);
	assert_non_null(strstr(err, "exceeds"));
	free(b);
}

/* n nested containers: maps {"a": ...} or, mixed, maps and arrays; each
 * definite or indefinite. */
static uint8_t *nested(int n, int mixed, int indef, size_t *len)
{
	uint8_t *b = malloc((size_t)n * 4 + 4);
	size_t o = 0;

	for (int i = 0; i < n; i++) {
		int map = !mixed || i % 2 == 0;

		if (map) {
			b[o++] = indef ? 0xbf : 0xa1;
			if (i < n - 1) {
				b[o++] = 0x61;
				b[o++] = 'a';
			}
		} else {
			b[o++] = indef ? 0x9f : 0x81;
		}
		if (i == n - 1 && map && !indef)
			b[o - 1] = 0xa0;     /* innermost: {} */
		else if (i == n - 1 && !map && !indef)
			b[o - 1] = 0x80;     /* innermost: [] */
	}
	for (int i = n - 1; indef && i >= 0; i--)
		b[o++] = 0xff;
	*len = o;
	return b;
}

static void test_limit_depth(void **state)
{
	struct pz_codec_limits lim = { 1 << 20, 8, 1000 };
	char err[256];
	json_t *d;

	(void)state;
	for (int mode = 0; mode < 4; mode++) {
		size_t na, no;
		uint8_t *at = nested(8, mode & 1, mode >> 1, &na);
		uint8_t *over = nested(9, mode & 1, mode >> 1, &no);
		int rc = parse_bytes(at, na, &lim, 0, &d, err, sizeof(err));

		if (rc != PZ_OK)
			fail_msg("mode %d: %s", mode, err);
		/* The same limits hold for the built document. */
		assert_int_equal(pz_codec_check(d, &lim, err, sizeof(err)),
				 PZ_OK);
		json_decref(d);
		refuse_bytes(over, no, &lim, 0, PZ_ETOOBIG, "depth+1");
		free(at);
		free(over);
	}
	/* Scalars, tags and decimal fractions do not nest. */
	lim.max_depth = 1;
	d = NULL;
	{
		size_t n;
		uint8_t *b = unhex("a3 6161 01 6162 c11a514b67b0 6163 c48221196ab3",
				   &n);

		assert_int_equal(parse_bytes(b, n, &lim, 0, &d, err,
					     sizeof(err)), PZ_OK);
		json_decref(d);
		free(b);
	}
	{
		size_t n;
		uint8_t *b = unhex("a1 6161 80", &n);

		refuse_bytes(b, n, &lim, 0, PZ_ETOOBIG, "depth 2 of 1");
		free(b);
	}
	/* max_depth 0 refuses any container. */
	lim.max_depth = 0;
	{
		size_t n;
		uint8_t *b = unhex("a0", &n);

		refuse_bytes(b, n, &lim, 0, PZ_ETOOBIG, "depth 1 of 0");
		free(b);
		b = unhex("01", &n);
		assert_int_equal(parse_bytes(b, n, &lim, ANY, &d, err,
					     sizeof(err)), PZ_OK);
		json_decref(d);
		free(b);
	}
}

static void test_limit_nodes(void **state)
{
	/* map + array + 3 integers = 5 values; keys do not count */
	struct pz_codec_limits lim = { 1 << 20, 8, 5 };
	size_t n;
	uint8_t *b = unhex("a1 6161 83 01 02 03", &n);
	char err[256];
	json_t *d;

	(void)state;
	assert_int_equal(parse_bytes(b, n, &lim, 0, &d, err, sizeof(err)),
			 PZ_OK);
	assert_int_equal(pz_codec_check(d, &lim, err, sizeof(err)), PZ_OK);
	json_decref(d);
	lim.max_nodes = 4;
	refuse_bytes(b, n, &lim, 0, PZ_ETOOBIG, "nodes");
	free(b);
	/* A tagged value is one value. */
	b = unhex("a2 6161 c11a514b67b0 6162 c48221196ab3", &n);
	lim.max_nodes = 3;
	assert_int_equal(parse_bytes(b, n, &lim, 0, &d, err, sizeof(err)),
			 PZ_OK);
	json_decref(d);
	lim.max_nodes = 2;
	refuse_bytes(b, n, &lim, 0, PZ_ETOOBIG, "tagged nodes");
	free(b);
}

/* --- encoding ------------------------------------------------------------ */

static void test_encode(void **state)
{
	json_t *doc = json_pack("{s:i,s:[s,b],s:n}", "a", 1, "l", "x", 1,
				"z");
	struct pz_buf b;

	(void)state;
	encode_is(doc, "a3616101616c826178f5617af6");
	/* Appends to what the buffer holds. */
	pz_buf_init(&b, 0);
	assert_int_equal(pz_buf_adds(&b, "x"), PZ_OK);
	assert_int_equal(pz_codec_encode(PZ_FMT_CBOR, doc, &b), PZ_OK);
	assert_int_equal(b.len, 14);
	assert_int_equal(b.data[0], 'x');
	assert_int_equal(pz_codec_encode(PZ_FMT_CBOR, NULL, &b), PZ_EINVAL);
	assert_int_equal(pz_codec_encode((enum pz_fmt)7, doc, &b), PZ_EINVAL);
	pz_buf_free(&b);
	json_decref(doc);

	/* Heads at every width boundary, for strings, arrays and maps. */
	{
		static const size_t lens[] = { 0, 23, 24, 255, 256, 65535,
					       65536 };

		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			char *s = malloc(lens[i] + 1);
			json_t *a = json_array(), *back;
			char err[256];

			memset(s, 'q', lens[i]);
			s[lens[i]] = '\0';
			for (size_t j = 0; j < lens[i] && j < 300; j++)
				json_array_append_new(a, json_integer(0));
			doc = json_pack("{s:s,s:o}", "s", s, "a", a);
			pz_buf_init(&b, 0);
			assert_int_equal(pz_codec_encode(PZ_FMT_CBOR, doc, &b),
					 PZ_OK);
			assert_int_equal(pz_codec_parse(PZ_FMT_CBOR,
					 (uint8_t *)b.data, b.len, NULL, &back,
					 err, sizeof(err)), PZ_OK);
			assert_true(json_equal(doc, back));
			json_decref(back);
			json_decref(doc);
			pz_buf_free(&b);
			free(s);
		}
	}
}

/* The buffer's ceiling is PZ_ETOOBIG and leaves the buffer as it was. */
static void test_encode_ceiling(void **state)
{
	json_t *doc = json_pack("{s:s}", "a", "hello world");
	struct pz_buf b;

	(void)state;
	/* a1 6161 6b "hello world" = 15 bytes */
	pz_buf_init(&b, 16);
	assert_int_equal(pz_buf_adds(&b, "ab"), PZ_OK);
	assert_int_equal(pz_codec_encode(PZ_FMT_CBOR, doc, &b), PZ_ETOOBIG);
	assert_int_equal(b.len, 2);
	assert_string_equal(b.data, "ab");
	pz_buf_free(&b);
	pz_buf_init(&b, 15);
	assert_int_equal(pz_codec_encode(PZ_FMT_CBOR, doc, &b), PZ_OK);
	assert_int_equal(b.len, 15);
	pz_buf_free(&b);
	json_decref(doc);
}

/* Representations as plaza writes them: JSON -> CBOR -> JSON is the
 * identity, the CBOR is canonical (a second encoding is identical), and
 * both JSON texts are the same bytes. */
static const char *const onem2m_docs[] = {
	"{\"m2m:cb\":{\"ri\":\"plaza\",\"rn\":\"plaza\",\"ty\":5,"
	"\"ct\":\"20240501T100000\",\"lt\":\"20240501T100000\","
	"\"csi\":\"/plaza\",\"cst\":1,\"srt\":[1,2,3,4,5,9,16,23],"
	"\"poa\":[\"http://127.0.0.1:8080\"],\"srv\":[\"3\",\"4\"]}}",
	"{\"m2m:ae\":{\"rn\":\"app\",\"ri\":\"ae00000000001\",\"pi\":\"plaza\","
	"\"ty\":2,\"ct\":\"20240501T100000\",\"lt\":\"20240501T100000\","
	"\"et\":\"20991231T000000\",\"api\":\"Rapp.example\",\"aei\":\"Capp\","
	"\"rr\":true,\"srv\":[\"3\",\"4\"],\"poa\":[\"http://127.0.0.1:9000/n\"],"
	"\"acpi\":[\"acp00000000002\"],\"lbl\":[\"floor:3\",\"room:12\"]}}",
	"{\"m2m:cnt\":{\"rn\":\"temp\",\"ri\":\"cnt00000000003\",\"ty\":3,"
	"\"pi\":\"ae00000000001\",\"st\":4,\"cni\":2,\"cbs\":9,\"mni\":100,"
	"\"mbs\":10000,\"mia\":3600,\"cr\":\"Capp\",\"la\":\"cin00000000009\","
	"\"ol\":\"cin00000000008\"}}",
	"{\"m2m:cin\":{\"rn\":\"cin_1\",\"ri\":\"cin00000000009\",\"ty\":4,"
	"\"cnf\":\"text/plain:0\",\"con\":\"21.5\",\"cs\":4,\"st\":3,"
	"\"lbl\":[\"temp\",\"room1\"]}}",
	"{\"m2m:cin\":{\"cnf\":\"application/senml+json:0\",\"con\":"
	"{\"n\":\"urn:dev:ow:aq01:pm25\",\"u\":\"kg/m3\",\"v\":1.2e-08,"
	"\"t\":1700000000}}}",
	"{\"m2m:sub\":{\"rn\":\"s\",\"nu\":[\"Cae1\",\"http://h:1/x\"],"
	"\"enc\":{\"net\":[1,3],\"chty\":[4]},\"nct\":1,\"bn\":{\"num\":5,"
	"\"dur\":\"PT10S\"},\"exc\":10,\"ln\":false,\"su\":\"Cae1\"}}",
	"{\"m2m:acp\":{\"rn\":\"p\",\"pv\":{\"acr\":[{\"acor\":[\"all\"],"
	"\"acop\":34,\"acco\":[{\"actw\":[\"* * 8-18 * * 1-5\"],\"acip\":"
	"{\"ipv4\":[\"10.0.0.0/8\"]}}]}]},\"pvs\":{\"acr\":[{\"acor\":"
	"[\"Cae1\"],\"acop\":63}]}}}",
	"{\"m2m:grp\":{\"mt\":3,\"mnm\":10,\"mid\":[\"plaza/ae1/c1\",\"cnt5\"],"
	"\"csy\":1,\"cnm\":2,\"mtv\":true}}",
	"{\"m2m:sgn\":{\"nev\":{\"rep\":{\"m2m:cin\":{\"con\":\"\\u00e9 21.5 "
	"\\u20ac\",\"cs\":9}},\"net\":3},\"sur\":\"/plaza/ae1/s\","
	"\"vrq\":false,\"cr\":\"Cae1\"}}",
	"{\"m2m:uril\":[\"plaza/ae1\",\"plaza/ae1/temp\",\"plaza/ae1/temp/la\"]}",
	"{\"m2m:dbg\":\"no resource\"}",
	"{\"m2m:rsp\":{\"rsc\":2001,\"rqi\":\"r1\",\"pc\":{\"m2m:cin\":"
	"{\"con\":\"x\"}},\"ot\":\"20240501T100000\",\"rvi\":\"3\"}}",
	"{\"a\":[1,-2,3.25,-0.0,1e300,0.1,1.5e-7,65504.0,65520.0,true,false,"
	"null,\"\"],\"big\":9223372036854775807,"
	"\"small\":-9223372036854775808,\"\":\"empty key\",\"\\u00e9\":1}",
};

static void test_round_trip_onem2m(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(onem2m_docs) / sizeof(onem2m_docs[0]);
	     i++) {
		const char *s = onem2m_docs[i];
		struct pz_buf cbor, cbor2, j1, j2;
		json_t *a = NULL, *b = NULL;
		char err[256] = "";
		int rc;

		rc = pz_codec_parse(PZ_FMT_JSON, (const uint8_t *)s, strlen(s),
				    NULL, &a, err, sizeof(err));
		if (rc != PZ_OK)
			fail_msg("%s: %s", s, err);
		pz_buf_init(&cbor, 0);
		assert_int_equal(pz_codec_encode(PZ_FMT_CBOR, a, &cbor), PZ_OK);
		rc = pz_codec_parse(PZ_FMT_CBOR, (uint8_t *)cbor.data,
				    cbor.len, NULL, &b, err, sizeof(err));
		if (rc != PZ_OK)
			fail_msg("CBOR of %s: %s", s, err);
		if (!json_equal(a, b))
			fail_msg("%s differs after CBOR", s);
		pz_buf_init(&cbor2, 0);
		assert_int_equal(pz_codec_encode(PZ_FMT_CBOR, b, &cbor2), PZ_OK);
		assert_int_equal(cbor.len, cbor2.len);
		assert_memory_equal(cbor.data, cbor2.data, cbor.len);
		pz_buf_init(&j1, 0);
		pz_buf_init(&j2, 0);
		assert_int_equal(pz_codec_encode(PZ_FMT_JSON, a, &j1), PZ_OK);
		assert_int_equal(pz_codec_encode(PZ_FMT_JSON, b, &j2), PZ_OK);
		assert_string_equal(j1.data, j2.data);
		/* CBOR is the smaller of the two. */
		assert_true(cbor.len < j1.len);
		pz_buf_free(&cbor);
		pz_buf_free(&cbor2);
		pz_buf_free(&j1);
		pz_buf_free(&j2);
		json_decref(a);
		json_decref(b);
	}
}

/* --- the flags, on both formats ------------------------------------------ */

static void test_parse_ex_json(void **state)
{
	static const char *const tops[] = {
		"[]", "[{\"a\":1}]", "\"s\"", "1", "-1.5", "true", "null",
	};
	char err[256];
	json_t *d;

	(void)state;
	for (size_t i = 0; i < sizeof(tops) / sizeof(tops[0]); i++) {
		const uint8_t *p = (const uint8_t *)tops[i];

		d = (json_t *)1;
		assert_int_equal(pz_codec_parse_ex(PZ_FMT_JSON, p,
			strlen(tops[i]), NULL, 0, &d, err, sizeof(err)),
			PZ_EINVAL);
		assert_null(d);
		assert_int_equal(pz_codec_parse_ex(PZ_FMT_JSON, p,
			strlen(tops[i]), NULL, PZ_CODEC_ANY_TOP, &d, err,
			sizeof(err)), PZ_OK);
		json_decref(d);
	}
	/* The CBOR-only flags change nothing for JSON. */
	assert_int_equal(pz_codec_parse_ex(PZ_FMT_JSON,
		(const uint8_t *)"{\"1\":\"AQ\"}", 10, NULL,
		PZ_CODEC_INT_KEYS | PZ_CODEC_BYTES_B64, &d, err, sizeof(err)),
		PZ_OK);
	assert_string_equal(json_string_value(json_object_get(d, "1")), "AQ");
	json_decref(d);
	/* Limits still apply with any top level. */
	{
		struct pz_codec_limits lim = { 1 << 20, 2, 100 };

		assert_int_equal(pz_codec_parse_ex(PZ_FMT_JSON,
			(const uint8_t *)"[[[]]]", 6, &lim, PZ_CODEC_ANY_TOP,
			&d, err, sizeof(err)), PZ_ETOOBIG);
		assert_null(d);
		lim.max_bytes = 5;
		assert_int_equal(pz_codec_parse_ex(PZ_FMT_JSON,
			(const uint8_t *)"[[[]]]", 6, &lim, PZ_CODEC_ANY_TOP,
			&d, err, sizeof(err)), PZ_ETOOBIG);
	}
}

static void test_flags_unknown(void **state)
{
	char err[256] = "";
	json_t *d = (json_t *)1;

	(void)state;
	assert_int_equal(pz_codec_parse_ex(PZ_FMT_JSON,
		(const uint8_t *)"{}", 2, NULL, 8, &d, err, sizeof(err)),
		PZ_EINVAL);
	assert_null(d);
	assert_true(strlen(err) > 0);
	d = (json_t *)1;
	assert_int_equal(pz_codec_parse_ex(PZ_FMT_CBOR,
		(const uint8_t *)"\xa0", 1, NULL, 0x80000000u, &d, err,
		sizeof(err)), PZ_EINVAL);
	assert_null(d);
	d = (json_t *)1;
	assert_int_equal(pz_codec_parse_ex((enum pz_fmt)9,
		(const uint8_t *)"\xa0", 1, NULL, 0, &d, err, sizeof(err)),
		PZ_EINVAL);
	assert_null(d);
	/* pz_codec_parse is parse_ex with no flags. */
	assert_int_equal(pz_codec_parse(PZ_FMT_CBOR, (const uint8_t *)"\x80",
					1, NULL, &d, err, sizeof(err)),
			 PZ_EINVAL);
	assert_int_equal(pz_codec_parse(PZ_FMT_CBOR, NULL, 0, NULL, &d, err,
					sizeof(err)), PZ_EINVAL);
}

/* Reasons are readable and say where. */
static void test_reasons(void **state)
{
	char err[256];
	json_t *d;
	size_t n;
	uint8_t *b = unhex("a2 6161 01 6162 1b8000000000000000", &n);

	(void)state;
	assert_int_equal(parse_bytes(b, n, NULL, 0, &d, err, sizeof(err)),
			 PZ_EINVAL);
	assert_non_null(strstr(err, "64 bits"));
	assert_non_null(strstr(err, "at byte 6"));
	free(b);
	/* A tiny error buffer is still a terminated string. */
	b = unhex("ff", &n);
	memset(err, 'x', sizeof(err));
	assert_int_equal(parse_bytes(b, n, NULL, ANY, &d, err, 8), PZ_EINVAL);
	assert_true(strlen(err) == 7);
	free(b);
}

/* --- allocation failure -------------------------------------------------- */

/* Fail allocation N for N = 1, 2, ... until the parse succeeds: every
 * failure is PZ_ENOMEM with a reason and no document (LeakSanitizer
 * checks nothing leaks in the sanitizer build). */
static void test_parse_alloc_failure(void **state)
{
	size_t n;
	uint8_t *b = unhex(rich_hex, &n);
	json_t *want = json_loads(rich_json, 0, NULL), *doc;
	unsigned long i;
	int rc = PZ_ENOMEM;

	(void)state;
	for (i = 1; i < 10000; i++) {
		char err[256] = "";

		doc = NULL;
		pz_mem_fail_after(i);
		rc = parse_bytes(b, n, NULL, 0, &doc, err, sizeof(err));
		pz_mem_fail_after(0);
		if (rc == PZ_OK)
			break;
		if (rc != PZ_ENOMEM)
			fail_msg("n=%lu: rc %d: %s", i, rc, err);
		assert_null(doc);
		assert_true(strlen(err) > 0);
	}
	assert_int_equal(rc, PZ_OK);
	assert_true(i > 10);
	assert_true(json_equal(doc, want));
	json_decref(doc);
	json_decref(want);
	free(b);
	/* Byte strings and integer keys allocate too. */
	b = unhex("bf 01 5f 42 0102 43 030405 ff 20 9f 6161 ff ff", &n);
	for (i = 1; i < 10000; i++) {
		char err[256] = "";

		doc = NULL;
		pz_mem_fail_after(i);
		rc = parse_bytes(b, n, NULL, PZ_CODEC_INT_KEYS |
				 PZ_CODEC_BYTES_B64, &doc, err, sizeof(err));
		pz_mem_fail_after(0);
		if (rc == PZ_OK)
			break;
		assert_int_equal(rc, PZ_ENOMEM);
		assert_null(doc);
	}
	assert_int_equal(rc, PZ_OK);
	assert_string_equal(json_string_value(json_object_get(doc, "1")),
			    "AQIDBAU");
	json_decref(doc);
	free(b);
}

/* PZ_CODEC_DETERMINISTIC: RFC 8949 4.2.1 key order (shorter first, then
 * bytewise) at every depth, cross-checked with cbor2's canonical mode;
 * JSON gets bytewise key order; unknown flags are refused. */
static void test_deterministic(void **state)
{
	static const char json[] =
		"{\"bb\":1,\"a\":{\"z\":true,\"y\":[{\"kk\":1,\"k\":2}]},"
		"\"c\":2,\"aaa\":3}";
	json_t *doc = json_loads(json, JSON_PRESERVE_ORDER, NULL);
	struct pz_buf b;
	char *got;

	(void)state;
	assert_non_null(doc);
	/* Without the flag: insertion order. */
	encode_is(doc, "a4626262016161a2617af5617981a2626b6b01616b0261630263"
		  "61616103");
	pz_buf_init(&b, 0);
	assert_int_equal(pz_codec_encode_ex(PZ_FMT_CBOR, doc,
					    PZ_CODEC_DETERMINISTIC, &b), PZ_OK);
	got = tohex((const uint8_t *)b.data, b.len);
	assert_string_equal(got, "a46161a2617981a2616b02626b6b01617af561630262"
			    "62620163616161" "03");
	free(got);
	pz_buf_free(&b);
	pz_buf_init(&b, 0);
	assert_int_equal(pz_codec_encode_ex(PZ_FMT_JSON, doc,
					    PZ_CODEC_DETERMINISTIC, &b), PZ_OK);
	assert_string_equal(b.data, "{\"a\":{\"y\":[{\"k\":2,\"kk\":1}],"
			    "\"z\":true},\"aaa\":3,\"bb\":1,\"c\":2}");
	pz_buf_free(&b);
	pz_buf_init(&b, 0);
	assert_int_equal(pz_codec_encode_ex(PZ_FMT_CBOR, doc, 0x100, &b),
			 PZ_EINVAL);
	assert_int_equal(b.len, 0);
	pz_buf_free(&b);
	json_decref(doc);
}

static void test_encode_alloc_failure(void **state)
{
	json_t *doc = json_loads(rich_json, 0, NULL);
	struct pz_buf b;
	unsigned long i;
	int rc = PZ_ENOMEM;

	(void)state;
	for (i = 1; i < 10000; i++) {
		pz_buf_init(&b, 0);
		pz_buf_adds(&b, "x");
		pz_mem_fail_after(i);
		rc = pz_codec_encode(PZ_FMT_CBOR, doc, &b);
		pz_mem_fail_after(0);
		if (rc == PZ_OK)
			break;
		assert_int_equal(rc, PZ_ENOMEM);
		assert_int_equal(b.len, 1);
		assert_string_equal(b.data, "x");
		pz_buf_free(&b);
	}
	assert_int_equal(rc, PZ_OK);
	assert_true(i > 1);
	assert_int_equal(b.data[0], 'x');
	pz_buf_free(&b);
	json_decref(doc);
}

/* Allocation failure in the deterministic encoders leaves out as it was. */
static void test_deterministic_alloc_failure(void **state)
{
	json_t *doc = json_loads(rich_json, 0, NULL);
	enum pz_fmt fmts[] = { PZ_FMT_CBOR, PZ_FMT_JSON };

	(void)state;
	for (size_t f = 0; f < 2; f++) {
		struct pz_buf b;
		unsigned long i;
		int rc = PZ_ENOMEM;

		for (i = 1; i < 10000; i++) {
			pz_buf_init(&b, 0);
			pz_buf_adds(&b, "x");
			pz_mem_fail_after(i);
			rc = pz_codec_encode_ex(fmts[f], doc,
						PZ_CODEC_DETERMINISTIC, &b);
			pz_mem_fail_after(0);
			if (rc == PZ_OK)
				break;
			assert_int_equal(rc, PZ_ENOMEM);
			assert_int_equal(b.len, 1);
			assert_string_equal(b.data, "x");
			pz_buf_free(&b);
		}
		assert_int_equal(rc, PZ_OK);
		assert_true(i > 1);
		pz_buf_free(&b);
	}
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
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_integer_range),
		cmocka_unit_test(test_floats),
		cmocka_unit_test(test_floats_non_preferred),
		cmocka_unit_test(test_nan_inf),
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_bad_text),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_indefinite),
		cmocka_unit_test(test_indefinite_bad),
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_tags_bad),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_top_level),
		cmocka_unit_test(test_rich),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bombs),
		cmocka_unit_test(test_bomb_wide),
		cmocka_unit_test(test_limit_bytes),
		cmocka_unit_test(test_limit_depth),
		cmocka_unit_test(test_limit_nodes),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_encode_ceiling),
		cmocka_unit_test(test_round_trip_onem2m),
		cmocka_unit_test(test_parse_ex_json),
		cmocka_unit_test(test_flags_unknown),
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_parse_alloc_failure),
		cmocka_unit_test(test_encode_alloc_failure),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_deterministic_alloc_failure),
	};

	/* PZ_TEST=pattern runs only the matching tests (docs/testing.md). */
	if (getenv("PZ_TEST"))
		cmocka_set_test_filter(getenv("PZ_TEST"));
	return cmocka_run_group_tests_name("cbor", tests, setup, NULL);
}
