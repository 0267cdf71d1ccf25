/*
 * test_senml.c - SenML packs (pz_senml_parse / resolve / record_json /
 * encode) against shared/spec/senml-kpi-ngsild.md section 2: the test
 * vectors TV1-TV8 byte for byte (JSON -> CBOR and CBOR -> document), the
 * RFC 8428 resolution golden pair (TV2), relative time against a given
 * now (TV8), every listed negative case with the record it names, the
 * resolution rules one by one, the CBOR-only rules, limits, the encoder's
 * refusals and allocation failure at every allocation.
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
#include "plaza/pz_senml.h"

#define NOW_US INT64_C(1700000000123456)   /* 2023-11-14T22:13:20.123456Z */
#define NOW_S 1700000000.123456

/* --- the test vectors (spec section 2.5) --------------------------------- */

static const char tv1_json[] =
	"[{\"bn\":\"urn:dev:ow:10e2073a0108006:\",\"bt\":1.276020076001e+09,"
	"\"bu\":\"A\",\"bver\":5,\"n\":\"voltage\",\"u\":\"V\",\"v\":120.1},"
	"{\"n\":\"current\",\"t\":-5,\"v\":1.2},"
	"{\"n\":\"current\",\"t\":-4,\"v\":1.3},"
	"{\"n\":\"current\",\"t\":-3,\"v\":1.4},"
	"{\"n\":\"current\",\"t\":-2,\"v\":1.5},"
	"{\"n\":\"current\",\"t\":-1,\"v\":1.6},"
	"{\"n\":\"current\",\"v\":1.7}]";

/* The same with the "t":0 the RFC's CBOR has in its last record. */
static const char tv1_json_t0[] =
	"[{\"bn\":\"urn:dev:ow:10e2073a0108006:\",\"bt\":1.276020076001e+09,"
	"\"bu\":\"A\",\"bver\":5,\"n\":\"voltage\",\"u\":\"V\",\"v\":120.1},"
	"{\"n\":\"current\",\"t\":-5,\"v\":1.2},"
	"{\"n\":\"current\",\"t\":-4,\"v\":1.3},"
	"{\"n\":\"current\",\"t\":-3,\"v\":1.4},"
	"{\"n\":\"current\",\"t\":-2,\"v\":1.5},"
	"{\"n\":\"current\",\"t\":-1,\"v\":1.6},"
	"{\"n\":\"current\",\"t\":0,\"v\":1.7}]";

/* RFC 8428 section 6, 195 bytes */
static const char tv1_hex[] =
	"87a721781b75726e3a6465763a6f773a3130653230373361303130383030363a22"
	"fb41d303a15b00106223614120050067766f6c7461676501615602fb405e066666"
	"666666a3006763757272656e74062402fb3ff3333333333333a3006763757272656e"
	"74062302fb3ff4cccccccccccda3006763757272656e74062202fb3ff66666666666"
	"66a3006763757272656e74062102f93e00a3006763757272656e74062002fb3ff999"
	"999999999aa3006763757272656e74060002fb3ffb333333333333";

/* RFC 8428 section 5.1.3, and its resolved form from section 5.1.4 */
static const char tv2_json[] =
	"[{\"bn\":\"urn:dev:ow:10e2073a01080063\",\"bt\":1.320067464e+09,"
	"\"bu\":\"%RH\",\"v\":20},"
	"{\"u\":\"lon\",\"v\":24.30621},"
	"{\"u\":\"lat\",\"v\":60.07965},"
	"{\"t\":60,\"v\":20.3},"
	"{\"u\":\"lon\",\"t\":60,\"v\":24.30622},"
	"{\"u\":\"lat\",\"t\":60,\"v\":60.07965},"
	"{\"t\":120,\"v\":20.7},"
	"{\"u\":\"lon\",\"t\":120,\"v\":24.30623},"
	"{\"u\":\"lat\",\"t\":120,\"v\":60.07966},"
	"{\"u\":\"%EL\",\"t\":150,\"v\":98},"
	"{\"t\":180,\"v\":21.2},"
	"{\"u\":\"lon\",\"t\":180,\"v\":24.30628},"
	"{\"u\":\"lat\",\"t\":180,\"v\":60.07967}]";

#define TV2_N "\"n\":\"urn:dev:ow:10e2073a01080063\","
static const char tv2_resolved[] =
	"[{" TV2_N "\"u\":\"%RH\",\"t\":1.320067464e+09,\"v\":20},"
	"{" TV2_N "\"u\":\"lon\",\"t\":1.320067464e+09,\"v\":24.30621},"
	"{" TV2_N "\"u\":\"lat\",\"t\":1.320067464e+09,\"v\":60.07965},"
	"{" TV2_N "\"u\":\"%RH\",\"t\":1.320067524e+09,\"v\":20.3},"
	"{" TV2_N "\"u\":\"lon\",\"t\":1.320067524e+09,\"v\":24.30622},"
	"{" TV2_N "\"u\":\"lat\",\"t\":1.320067524e+09,\"v\":60.07965},"
	"{" TV2_N "\"u\":\"%RH\",\"t\":1.320067584e+09,\"v\":20.7},"
	"{" TV2_N "\"u\":\"lon\",\"t\":1.320067584e+09,\"v\":24.30623},"
	"{" TV2_N "\"u\":\"lat\",\"t\":1.320067584e+09,\"v\":60.07966},"
	"{" TV2_N "\"u\":\"%EL\",\"t\":1.320067614e+09,\"v\":98},"
	"{" TV2_N "\"u\":\"%RH\",\"t\":1.320067644e+09,\"v\":21.2},"
	"{" TV2_N "\"u\":\"lon\",\"t\":1.320067644e+09,\"v\":24.30628},"
	"{" TV2_N "\"u\":\"lat\",\"t\":1.320067644e+09,\"v\":60.07967}]";

static const struct {
	const char *name;
	const char *json;
	const char *hex;
	size_t len;
} tvs[] = {
	{ "TV3",
	  "[{\"bn\":\"urn:dev:ow:10e2073a01080063:\",\"n\":\"temp\","
	  "\"u\":\"Cel\",\"v\":23.1}]",
	  "81a421781c75726e3a6465763a6f773a313065323037336130313038303036"
	  "333a006474656d70016343656c02fb403719999999999a", 54 },
	{ "TV4",
	  "[{\"bn\":\"urn:dev:mac:0024befffe804ff1:\",\"bt\":1700000000,"
	  "\"bu\":\"W\",\"n\":\"power\",\"v\":1250,\"s\":3.6e9}]",
	  "81a621781d75726e3a6465763a6d61633a303032346265666666653830346666"
	  "313a221a6553f1002361570065706f776572021904e205fa4f5693a4", 60 },
	{ "TV5",
	  "[{\"bn\":\"urn:dev:ow:aq01:\",\"bt\":1700000000,\"n\":\"pm25\","
	  "\"u\":\"kg/m3\",\"v\":1.2e-8},{\"n\":\"pm10\",\"u\":\"kg/m3\","
	  "\"v\":2.5e-8},{\"n\":\"noise\",\"u\":\"dB\",\"v\":61.5}]",
	  "83a5217075726e3a6465763a6f773a617130313a221a6553f1000064706d3235"
	  "01656b672f6d3302fb3e49c511dc3a41dfa30064706d313001656b672f6d3302"
	  "fb3e5ad7f29abcaf48a300656e6f6973650162644202f953b0", 89 },
	{ "TV6",
	  "[{\"bn\":\"urn:dev:ow:10e2073a01080063:\",\"n\":\"open\","
	  "\"vb\":false},{\"n\":\"label\",\"vs\":\"Machine Room\"},"
	  "{\"n\":\"nfv-reader\",\"vd\":\"aGkgCg\"}]",
	  "83a321781c75726e3a6465763a6f773a313065323037336130313038303036"
	  "333a00646f70656e04f4a200656c6162656c036c4d616368696e6520526f6f6d"
	  "a2006a6e66762d72656164657208446869200a", 82 },
	{ "TV7",
	  "[{\"bver\":26,\"bn\":\"urn:dev:ow:aq01:\",\"n\":\"pm25\","
	  "\"u\":\"ug/m3\",\"v\":12}]",
	  "81a520181a217075726e3a6465763a6f773a617130313a0064706d3235016575"
	  "672f6d33020c", 38 },
	{ "TV8",
	  "[{\"bn\":\"urn:dev:ow:wm7:\",\"bu\":\"m3\",\"n\":\"vol\",\"v\":0.5,"
	  "\"t\":-60},{\"n\":\"vol\",\"v\":0.75}]",
	  "82a5216f75726e3a6465763a6f773a776d373a23626d330063766f6c02f93800"
	  "06383ba20063766f6c02f93a00", 45 },
};

#define N_TVS (sizeof(tvs) / sizeof(tvs[0]))

/* --- helpers ------------------------------------------------------------- */

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

static json_t *parse_json(const char *s)
{
	char err[256] = "";
	json_t *doc = NULL;
	int rc = pz_senml_parse(PZ_FMT_JSON, (const uint8_t *)s, strlen(s),
				NULL, &doc, err, sizeof(err));

	if (rc != PZ_OK)
		fail_msg("%s: rc %d: %s", s, rc, err);
	return doc;
}

static json_t *parse_cbor(const char *hex)
{
	char err[256] = "";
	json_t *doc = NULL;
	size_t n;
	uint8_t *b = unhex(hex, &n);
	int rc = pz_senml_parse(PZ_FMT_CBOR, b, n, NULL, &doc, err,
				sizeof(err));

	if (rc != PZ_OK)
		fail_msg("%s: rc %d: %s", hex, rc, err);
	free(b);
	return doc;
}

/* Parsing must be refused with want; the reason must hold needle. */
static void refuse_parse(enum pz_fmt fmt, const uint8_t *b, size_t n,
			 const struct pz_codec_limits *lim, int want,
			 const char *needle)
{
	char err[256] = "";
	json_t *doc = (json_t *)1;
	int rc = pz_senml_parse(fmt, b, n, lim, &doc, err, sizeof(err));

	if (rc != want)
		fail_msg("%.*s: rc %d (%s), want %d", (int)(n > 80 ? 80 : n),
			 (const char *)b, rc, err, want);
	assert_null(doc);
	if (!strstr(err, needle))
		fail_msg("reason '%s' lacks '%s'", err, needle);
}

static void refuse_json(const char *s, const char *needle)
{
	refuse_parse(PZ_FMT_JSON, (const uint8_t *)s, strlen(s), NULL,
		     PZ_EINVAL, needle);
}

static void refuse_cbor(const char *hex, const char *needle)
{
	size_t n;
	uint8_t *b = unhex(hex, &n);

	refuse_parse(PZ_FMT_CBOR, b, n, NULL, PZ_EINVAL, needle);
	free(b);
}

static void resolve_ok(const json_t *doc, struct pz_senml_pack *p)
{
	char err[256] = "";
	int rc = pz_senml_resolve(doc, NOW_US, p, err, sizeof(err));

	if (rc != PZ_OK)
		fail_msg("resolve: rc %d: %s", rc, err);
}

/* JSON text s parses, and its resolution is refused naming needle. */
static void refuse_resolve(const char *s, const char *needle)
{
	struct pz_senml_pack p = { (struct pz_senml_rec *)1, 7 };
	char err[256] = "";
	json_t *doc = parse_json(s);
	int rc = pz_senml_resolve(doc, NOW_US, &p, err, sizeof(err));

	if (rc != PZ_EINVAL)
		fail_msg("%s: rc %d, want PZ_EINVAL", s, rc);
	assert_null(p.recs);
	assert_int_equal(p.n, 0);
	if (!strstr(err, needle))
		fail_msg("%s: reason '%s' lacks '%s'", s, err, needle);
	json_decref(doc);
}

/* Encode doc as SenML CBOR; it must be hex exactly. */
static void cbor_is(const json_t *doc, const char *hex)
{
	struct pz_buf b;
	char *got;

	pz_buf_init(&b, 0);
	assert_int_equal(pz_senml_encode(PZ_FMT_CBOR, doc, &b), PZ_OK);
	got = tohex((const uint8_t *)b.data, b.len);
	if (strcmp(got, hex))
		fail_msg("encoded %s\n want   %s", got, hex);
	free(got);
	pz_buf_free(&b);
}

static char *record_text(const struct pz_senml_rec *r)
{
	json_t *o = pz_senml_record_json(r);
	struct pz_buf b;

	assert_non_null(o);
	pz_buf_init(&b, 0);
	assert_int_equal(pz_codec_encode(PZ_FMT_JSON, o, &b), PZ_OK);
	json_decref(o);
	return pz_buf_take(&b);
}

static void record_is(const struct pz_senml_rec *r, const char *want)
{
	char *got = record_text(r);

	if (strcmp(got, want))
		fail_msg("record %s\n want   %s", got, want);
	pz_free(got);
}

/* --- the vectors --------------------------------------------------------- */

/* TV1: the RFC's CBOR decodes to the JSON form (whose last record, as the
 * spec notes, lacks the CBOR's "t":0) and encodes back to its 195 bytes. */
static void test_tv1_codec(void **state)
{
	json_t *cbor = parse_cbor(tv1_hex), *json = parse_json(tv1_json);
	struct pz_buf b;
	size_t n;
	uint8_t *raw = unhex(tv1_hex, &n);

	(void)state;
	assert_int_equal(n, 195);
	assert_false(json_equal(cbor, json));
	json_decref(json);
	json = parse_json(tv1_json_t0);
	assert_true(json_equal(cbor, json));
	cbor_is(cbor, tv1_hex);
	cbor_is(json, tv1_hex);
	/* As printed (no t in the last record): the same bytes but that
	 * record's map of two pairs, without 06 00. */
	json_decref(json);
	json = parse_json(tv1_json);
	pz_buf_init(&b, 0);
	assert_int_equal(pz_senml_encode(PZ_FMT_CBOR, json, &b), PZ_OK);
	assert_int_equal(b.len, 193);
	assert_memory_equal(b.data, raw, 173);
	assert_int_equal((uint8_t)b.data[173], 0xa2);
	pz_buf_free(&b);
	/* Values keep their types: integers stay integers. */
	assert_true(json_is_integer(json_object_get(json_array_get(cbor, 0),
						    "bver")));
	assert_true(json_is_integer(json_object_get(json_array_get(cbor, 1),
						    "t")));
	assert_true(json_real_value(json_object_get(json_array_get(cbor, 4),
						    "v")) == 1.5);
	free(raw);
	json_decref(cbor);
	json_decref(json);
}

/* TV1 resolves as the spec lists it: its version 5 is lower than 10,
 * which RFC 8428 lets a receiver read, and every resolved record carries
 * it. */
static void test_tv1_resolve(void **state)
{
	json_t *doc = parse_cbor(tv1_hex);
	struct pz_senml_pack p;

	(void)state;
	resolve_ok(doc, &p);
	assert_int_equal(p.n, 7);
	/* Chronological: the currents at -5..-1 s, then at the base time the
	 * voltage (first in the pack) and the last current. */
	for (size_t i = 0; i < 5; i++) {
		assert_string_equal(p.recs[i].name,
				    "urn:dev:ow:10e2073a0108006:current");
		assert_string_equal(p.recs[i].unit, "A");
		assert_true(p.recs[i].t == 1276020076.001 - 5 + (double)i);
	}
	assert_string_equal(p.recs[5].name,
			    "urn:dev:ow:10e2073a0108006:voltage");
	assert_string_equal(p.recs[5].unit, "V");
	assert_true(p.recs[5].v == 120.1);
	assert_true(p.recs[5].t == 1276020076.001);
	assert_string_equal(p.recs[6].name,
			    "urn:dev:ow:10e2073a0108006:current");
	assert_true(p.recs[6].t == 1276020076.001);
	assert_true(p.recs[6].v == 1.7);
	assert_true(p.recs[0].v == 1.2);
	assert_int_equal(p.recs[0].kind, PZ_SENML_NUM);
	for (size_t i = 0; i < p.n; i++)
		assert_int_equal(p.recs[i].bver, 5);
	pz_senml_pack_free(&p);
	json_decref(doc);
}

/* TV2: RFC 8428 section 5.1.3 resolves to section 5.1.4. */
static void test_tv2_golden(void **state)
{
	json_t *doc = parse_json(tv2_json);
	json_t *gold = json_loads(tv2_resolved, 0, NULL);
	struct pz_senml_pack p;

	(void)state;
	assert_non_null(gold);
	resolve_ok(doc, &p);
	assert_int_equal(p.n, json_array_size(gold));
	for (size_t i = 0; i < p.n; i++) {
		const json_t *g = json_array_get(gold, i);
		const struct pz_senml_rec *r = &p.recs[i];

		assert_string_equal(r->name, json_string_value(
			json_object_get(g, "n")));
		assert_string_equal(r->unit, json_string_value(
			json_object_get(g, "u")));
		assert_int_equal(r->kind, PZ_SENML_NUM);
		assert_true(r->v == json_number_value(json_object_get(g, "v")));
		assert_true(r->t == json_number_value(json_object_get(g, "t")));
		assert_false(r->has_sum);
		assert_false(r->has_ut);
		assert_int_equal(r->bver, 10);
	}
	/* The record form of the first, as stored. */
	record_is(&p.recs[0], "{\"n\":\"urn:dev:ow:10e2073a01080063\","
		  "\"u\":\"%RH\",\"v\":20,\"t\":1320067464}");
	pz_senml_pack_free(&p);
	json_decref(doc);
	json_decref(gold);
}

/* TV3-TV8: JSON -> CBOR byte for byte, CBOR -> the same document, and the
 * document back to JSON reads equal. */
static void test_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_TVS; i++) {
		json_t *j = parse_json(tvs[i].json), *c = parse_cbor(tvs[i].hex),
		       *back;
		struct pz_buf b;

		assert_int_equal(strlen(tvs[i].hex), 2 * tvs[i].len);
		cbor_is(j, tvs[i].hex);
		if (!json_equal(j, c))
			fail_msg("%s: CBOR and JSON differ", tvs[i].name);
		pz_buf_init(&b, 0);
		assert_int_equal(pz_senml_encode(PZ_FMT_JSON, c, &b), PZ_OK);
		back = parse_json(b.data);
		assert_true(json_equal(back, j));
		json_decref(back);
		pz_buf_free(&b);
		json_decref(j);
		json_decref(c);
	}
}

static void test_tv4_energy(void **state)
{
	json_t *doc = parse_cbor(tvs[1].hex);
	struct pz_senml_pack p;

	(void)state;
	resolve_ok(doc, &p);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.recs[0].name,
			    "urn:dev:mac:0024befffe804ff1:power");
	assert_string_equal(p.recs[0].unit, "W");
	assert_true(p.recs[0].v == 1250);
	assert_true(p.recs[0].has_sum && p.recs[0].sum == 3.6e9);
	assert_true(p.recs[0].t == 1700000000);
	record_is(&p.recs[0], "{\"n\":\"urn:dev:mac:0024befffe804ff1:power\","
		  "\"u\":\"W\",\"v\":1250,\"s\":3600000000,\"t\":1700000000}");
	pz_senml_pack_free(&p);
	json_decref(doc);
}

static void test_tv5_air(void **state)
{
	json_t *doc = parse_cbor(tvs[2].hex);
	struct pz_senml_pack p;

	(void)state;
	resolve_ok(doc, &p);
	assert_int_equal(p.n, 3);
	for (size_t i = 0; i < 3; i++)
		assert_true(p.recs[i].t == 1700000000);
	assert_string_equal(p.recs[0].name, "urn:dev:ow:aq01:pm25");
	assert_string_equal(p.recs[1].name, "urn:dev:ow:aq01:pm10");
	assert_string_equal(p.recs[2].name, "urn:dev:ow:aq01:noise");
	assert_string_equal(p.recs[1].unit, "kg/m3");
	assert_string_equal(p.recs[2].unit, "dB");
	assert_true(p.recs[0].v == 1.2e-8);
	assert_true(p.recs[2].v == 61.5);
	record_is(&p.recs[0], "{\"n\":\"urn:dev:ow:aq01:pm25\",\"u\":\"kg/m3\","
		  "\"v\":1.2e-08,\"t\":1700000000}");
	pz_senml_pack_free(&p);
	json_decref(doc);
}

static void test_tv6_types(void **state)
{
	json_t *doc = parse_cbor(tvs[3].hex);
	struct pz_senml_pack p;

	(void)state;
	/* In CBOR vd is the bytes 68 69 20 0a; in the document base64url. */
	assert_string_equal(json_string_value(json_object_get(
		json_array_get(doc, 2), "vd")), "aGkgCg");
	resolve_ok(doc, &p);
	assert_int_equal(p.recs[0].kind, PZ_SENML_BOOL);
	assert_int_equal(p.recs[0].vb, 0);
	assert_int_equal(p.recs[1].kind, PZ_SENML_STR);
	assert_string_equal(p.recs[1].vs, "Machine Room");
	assert_int_equal(p.recs[2].kind, PZ_SENML_DATA);
	assert_string_equal(p.recs[2].vs, "aGkgCg");
	assert_string_equal(p.recs[2].name,
			    "urn:dev:ow:10e2073a01080063:nfv-reader");
	assert_null(p.recs[0].unit);
	assert_true(p.recs[0].t == NOW_S);
	record_is(&p.recs[0], "{\"n\":\"urn:dev:ow:10e2073a01080063:open\","
		  "\"vb\":false,\"t\":1700000000.123456}");
	record_is(&p.recs[1], "{\"n\":\"urn:dev:ow:10e2073a01080063:label\","
		  "\"vs\":\"Machine Room\",\"t\":1700000000.123456}");
	record_is(&p.recs[2], "{\"n\":\"urn:dev:ow:10e2073a01080063:"
		  "nfv-reader\",\"vd\":\"aGkgCg\",\"t\":1700000000.123456}");
	pz_senml_pack_free(&p);
	json_decref(doc);
}

/* TV7: bver 26 (secondary units) is understood and kept on every record;
 * the RFC 8428 versions up to 10 are read, anything higher is refused. */
static void test_tv7_version(void **state)
{
	static const char *const bad[] = { "11", "12", "25", "27", "42" };
	json_t *doc = parse_cbor(tvs[4].hex);
	struct pz_senml_pack p;

	(void)state;
	resolve_ok(doc, &p);
	assert_int_equal(p.recs[0].bver, 26);
	assert_string_equal(p.recs[0].unit, "ug/m3");
	assert_true(p.recs[0].v == 12);
	record_is(&p.recs[0], "{\"n\":\"urn:dev:ow:aq01:pm25\",\"u\":\"ug/m3\","
		  "\"v\":12,\"t\":1700000000.123456,\"bver\":26}");
	pz_senml_pack_free(&p);
	json_decref(doc);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char s[128], needle[32];

		snprintf(s, sizeof(s), "[{\"bver\":%s,\"n\":\"a\",\"v\":1}]",
			 bad[i]);
		snprintf(needle, sizeof(needle), "bver %s", bad[i]);
		refuse_resolve(s, needle);
	}
	/* A lower version is understood and kept on the record. */
	doc = parse_json("[{\"bver\":5,\"n\":\"a\",\"v\":1}]");
	resolve_ok(doc, &p);
	assert_int_equal(p.recs[0].bver, 5);
	pz_senml_pack_free(&p);
	json_decref(doc);
	/* An explicit 10 is the default, and not written back. */
	doc = parse_json("[{\"bver\":10,\"n\":\"a\",\"v\":1}]");
	resolve_ok(doc, &p);
	assert_int_equal(p.recs[0].bver, 10);
	{
		char *t = record_text(&p.recs[0]);

		assert_null(strstr(t, "bver"));
		pz_free(t);
	}
	pz_senml_pack_free(&p);
	json_decref(doc);
}

/* TV8: relative times resolve against the receive time. */
static void test_tv8_relative(void **state)
{
	json_t *doc = parse_cbor(tvs[5].hex);
	struct pz_senml_pack p;

	(void)state;
	resolve_ok(doc, &p);
	assert_int_equal(p.n, 2);
	assert_true(p.recs[0].t == NOW_S - 60);
	assert_true(p.recs[1].t == NOW_S);
	assert_string_equal(p.recs[0].name, "urn:dev:ow:wm7:vol");
	assert_string_equal(p.recs[1].unit, "m3");
	assert_true(p.recs[0].v == 0.5);
	assert_true(p.recs[1].v == 0.75);
	pz_senml_pack_free(&p);
	/* Another now, another time. */
	{
		char err[256];

		assert_int_equal(pz_senml_resolve(doc, INT64_C(1600000000000000),
						  &p, err, sizeof(err)), PZ_OK);
		assert_true(p.recs[0].t == 1599999940.0);
		pz_senml_pack_free(&p);
	}
	json_decref(doc);
}

/* --- negative cases (spec section 2.5) ----------------------------------- */

static void test_negative_cases(void **state)
{
	(void)state;
	/* a label ending in '_' that the receiver does not know */
	refuse_resolve("[{\"n\":\"a\",\"v\":1},{\"n\":\"b\",\"v\":2,"
		       "\"foo_\":1}]", "record 2: label 'foo_'");
	refuse_resolve("[{\"bn\":\"a\",\"bx_\":\"y\",\"v\":1}]",
		       "record 1: label 'bx_'");
	/* two of v / vs / vb / vd */
	refuse_resolve("[{\"n\":\"a\",\"v\":1,\"vs\":\"x\"}]",
		       "record 1 has more than one value (v, vs)");
	refuse_resolve("[{\"n\":\"a\",\"v\":1},{\"n\":\"a\",\"vb\":true,"
		       "\"vd\":\"AA\"}]", "record 2 has more than one value "
		       "(vb, vd)");
	refuse_resolve("[{\"n\":\"a\",\"v\":1,\"vs\":\"x\",\"vb\":true,"
		       "\"vd\":\"AA\"}]", "(v, vs, vb, vd)");
	/* a name starting with '-' or holding a space */
	refuse_resolve("[{\"n\":\"-a\",\"v\":1}]", "record 1: name '-a'");
	refuse_resolve("[{\"bn\":\"dev:\",\"n\":\"ok\",\"v\":1},"
		       "{\"n\":\"a b\",\"v\":1}]", "record 2: name 'dev:a b'");
	/* bver 11 or higher */
	refuse_resolve("[{\"bver\":11,\"n\":\"a\",\"v\":1}]",
		       "record 1: bver 11 is not supported");
	/* mixed bver within one pack */
	refuse_resolve("[{\"bver\":26,\"n\":\"a\",\"v\":1},{\"bver\":10,"
		       "\"n\":\"a\",\"v\":2}]", "record 2: bver 10 differs");
	refuse_resolve("[{\"n\":\"a\",\"v\":1},{\"bver\":26,\"n\":\"a\","
		       "\"v\":2}]", "record 2: bver 26 differs");
	/* JSON exponent 'E' */
	refuse_json("[{\"n\":\"a\",\"v\":1E3}]", "upper-case exponent 'E'");
	refuse_json("[{\"n\":\"a\",\"v\":1.5E-3}]", "at byte 17");
	refuse_json("[{\"n\":\"a\",\"v\":1,\"x\":2E+1}]", "'E'");
}

/* 'e' is fine, and so is an 'E' inside a string. */
static void test_exponent_lower(void **state)
{
	json_t *doc = parse_json("[{\"n\":\"E\",\"vs\":\"1E3 \\\"E\\\" E\","
				 "\"t\":1.7e9,\"x\":2e+1}]");
	struct pz_senml_pack p;

	(void)state;
	resolve_ok(doc, &p);
	assert_true(p.recs[0].t == 1.7e9);
	assert_string_equal(p.recs[0].vs, "1E3 \"E\" E");
	pz_senml_pack_free(&p);
	json_decref(doc);
}

static void test_negative_more(void **state)
{
	(void)state;
	/* shape */
	refuse_json("[]", "non-empty array");
	refuse_json("{}", "non-empty array");
	refuse_json("\"x\"", "non-empty array");
	refuse_json("[{\"n\":\"a\",\"v\":1},2]", "record 2 is not an object");
	refuse_json("[{\"n\":\"a\",\"v\":1},[]]", "record 2 is not an object");
	refuse_json("[{\"n\":\"a\",\"v\":1,\"v\":2}]", "duplicate");
	/* types */
	refuse_resolve("[{\"n\":\"a\",\"v\":\"1\"}]", "record 1: 'v' must be a "
		       "number");
	refuse_resolve("[{\"n\":1,\"v\":1}]", "'n' must be a string");
	refuse_resolve("[{\"bn\":null,\"n\":\"a\",\"v\":1}]",
		       "'bn' must be a string");
	refuse_resolve("[{\"n\":\"a\",\"vb\":1}]", "'vb' must be true or false");
	refuse_resolve("[{\"n\":\"a\",\"vs\":1}]", "'vs' must be a string");
	refuse_resolve("[{\"n\":\"a\",\"v\":1,\"t\":\"now\"}]",
		       "'t' must be a number");
	refuse_resolve("[{\"n\":\"a\",\"v\":1,\"ut\":true}]",
		       "'ut' must be a number");
	refuse_resolve("[{\"bver\":10.0,\"n\":\"a\",\"v\":1}]",
		       "'bver' must be a positive integer");
	refuse_resolve("[{\"bver\":0,\"n\":\"a\",\"v\":1}]",
		       "'bver' must be a positive integer");
	refuse_resolve("[{\"bver\":-10,\"n\":\"a\",\"v\":1}]",
		       "'bver' must be a positive integer");
	/* vd: base64url, no padding, canonical */
	refuse_resolve("[{\"n\":\"a\",\"vd\":\"aGkgCg==\"}]", "'vd' must be "
		       "base64url");
	refuse_resolve("[{\"n\":\"a\",\"vd\":\"a+b/\"}]", "'vd'");
	refuse_resolve("[{\"n\":\"a\",\"vd\":\"aGkgC\"}]", "'vd'");
	refuse_resolve("[{\"n\":\"a\",\"vd\":\"aGkgCh\"}]", "'vd'");
	refuse_resolve("[{\"n\":\"a\",\"vd\":\"aGk \"}]", "'vd'");
	/* values and names */
	refuse_resolve("[{\"n\":\"a\"}]", "record 1 has no value");
	refuse_resolve("[{\"n\":\"a\",\"v\":1},{\"n\":\"b\",\"u\":\"W\"}]",
		       "record 2 has no value");
	refuse_resolve("[{\"v\":1}]", "record 1 has no name");
	refuse_resolve("[{\"n\":\"\",\"v\":1}]", "record 1 has no name");
	refuse_resolve("[{\"n\":\"_a\",\"v\":1}]", "starts with");
	refuse_resolve("[{\"n\":\"a#b\",\"v\":1}]", "(position 2)");
	refuse_resolve("[{\"n\":\"caf\\u00e9\",\"v\":1}]", "record 1: name");
	refuse_resolve("[{\"bn\":\" x\",\"n\":\"a\",\"v\":1}]", "starts with");
	/* time */
	refuse_resolve("[{\"bt\":1.7e9,\"n\":\"a\",\"v\":1},{\"n\":\"a\","
		       "\"t\":-1.5e9,\"v\":2}]", "record 2: bt 1700000000 + t "
		       "-1500000000 crosses 2^28");
	refuse_resolve("[{\"bt\":-10,\"n\":\"a\",\"t\":1.7e9,\"v\":1}]",
		       "crosses 2^28");
	refuse_resolve("[{\"n\":\"a\",\"t\":-1.5e9,\"v\":1}]",
		       "record 1: time resolves to");
	refuse_resolve("[{\"bt\":1e308,\"n\":\"a\",\"t\":1e308,\"v\":1}]",
		       "record 1: bt + t is not a finite number");
	refuse_resolve("[{\"bv\":1e308,\"n\":\"a\",\"v\":1e308}]",
		       "bv + v is not a finite number");
	refuse_resolve("[{\"bs\":-1e308,\"n\":\"a\",\"s\":-1e308}]",
		       "bs + s is not a finite number");
}

/* Whatever reaches pz_senml_resolve is checked, not only parsed packs. */
static void test_resolve_any_doc(void **state)
{
	struct pz_senml_pack p = { NULL, 0 };
	char err[256];
	json_t *d;

	(void)state;
	d = json_object();
	assert_int_equal(pz_senml_resolve(d, NOW_US, &p, err, sizeof(err)),
			 PZ_EINVAL);
	json_decref(d);
	d = json_array();
	assert_int_equal(pz_senml_resolve(d, NOW_US, &p, err, sizeof(err)),
			 PZ_EINVAL);
	json_array_append_new(d, json_integer(1));
	assert_int_equal(pz_senml_resolve(d, NOW_US, &p, err, sizeof(err)),
			 PZ_EINVAL);
	assert_non_null(strstr(err, "record 1 is not an object"));
	json_decref(d);
	assert_int_equal(pz_senml_resolve(NULL, NOW_US, &p, err, sizeof(err)),
			 PZ_EINVAL);
	assert_null(p.recs);
}

/* --- resolution rules (RFC 8428 section 4) ------------------------------- */

/* RFC 8428 section 5.1.6: the last record uses the base name of the
 * third and the base time of the first. */
static void test_base_scope(void **state)
{
	json_t *doc = parse_json(
		"[{\"bn\":\"2001:db8::2/\",\"bt\":1.320078429e+09,"
		"\"n\":\"temperature\",\"u\":\"Cel\",\"v\":25.2},"
		"{\"n\":\"humidity\",\"u\":\"%RH\",\"v\":30},"
		"{\"bn\":\"2001:db8::1/\",\"n\":\"temperature\",\"u\":\"Cel\","
		"\"v\":12.3},"
		"{\"n\":\"humidity\",\"u\":\"%RH\",\"v\":67}]");
	struct pz_senml_pack p;

	(void)state;
	resolve_ok(doc, &p);
	assert_string_equal(p.recs[0].name, "2001:db8::2/temperature");
	assert_string_equal(p.recs[1].name, "2001:db8::2/humidity");
	assert_string_equal(p.recs[2].name, "2001:db8::1/temperature");
	assert_string_equal(p.recs[3].name, "2001:db8::1/humidity");
	for (size_t i = 0; i < 4; i++)
		assert_true(p.recs[i].t == 1320078429);
	pz_senml_pack_free(&p);
	json_decref(doc);
}

static void test_values_sums_units(void **state)
{
	json_t *doc = parse_json(
		"[{\"bn\":\"m:\",\"bt\":1.7e9,\"bu\":\"W\",\"bv\":100,"
		"\"n\":\"a\",\"v\":5},"                    /* 105 W */
		"{\"n\":\"b\",\"u\":\"V\",\"v\":-1.5},"    /* 98.5 V */
		"{\"n\":\"c\",\"vs\":\"x\"},"              /* bv not applied */
		"{\"n\":\"d\",\"s\":10,\"ut\":30},"        /* sum only */
		"{\"bs\":1000,\"n\":\"e\",\"s\":5,\"v\":1},"  /* 1005, 101 */
		"{\"n\":\"f\"},"                           /* bs alone is a sum */
		"{\"n\":\"g\",\"vb\":true,\"unknown\":[1,{}]},"
		"{\"bn\":\"only\",\"v\":0}]");             /* n omitted */
	struct pz_senml_pack p;

	(void)state;
	resolve_ok(doc, &p);
	assert_int_equal(p.n, 8);
	assert_true(p.recs[0].v == 105);
	assert_string_equal(p.recs[0].unit, "W");
	assert_false(p.recs[0].has_sum);
	assert_true(p.recs[1].v == 98.5);
	assert_string_equal(p.recs[1].unit, "V");
	assert_int_equal(p.recs[2].kind, PZ_SENML_STR);
	assert_string_equal(p.recs[2].unit, "W");
	assert_int_equal(p.recs[3].kind, PZ_SENML_NONE);
	assert_true(p.recs[3].has_sum && p.recs[3].sum == 10);
	assert_true(p.recs[3].has_ut && p.recs[3].ut == 30);
	assert_true(p.recs[4].sum == 1005 && p.recs[4].v == 101);
	assert_int_equal(p.recs[5].kind, PZ_SENML_NONE);
	assert_true(p.recs[5].has_sum && p.recs[5].sum == 1000);
	assert_int_equal(p.recs[6].kind, PZ_SENML_BOOL);
	assert_int_equal(p.recs[6].vb, 1);
	assert_string_equal(p.recs[7].name, "only");
	assert_true(p.recs[7].v == 100);
	record_is(&p.recs[3], "{\"n\":\"m:d\",\"u\":\"W\",\"s\":10,"
		  "\"t\":1700000000,\"ut\":30}");
	record_is(&p.recs[4], "{\"n\":\"m:e\",\"u\":\"W\",\"v\":101,"
		  "\"s\":1005,\"t\":1700000000}");
	pz_senml_pack_free(&p);
	json_decref(doc);
}

/* Records come out in time order; equal times keep the pack's order. */
static void test_sort_stable(void **state)
{
	json_t *doc = parse_json(
		"[{\"bt\":1.7e9,\"n\":\"a\",\"t\":30,\"v\":1},"
		"{\"n\":\"b\",\"t\":10,\"v\":2},"
		"{\"n\":\"c\",\"t\":30,\"v\":3},"
		"{\"n\":\"d\",\"t\":-10,\"v\":4},"
		"{\"n\":\"e\",\"t\":10,\"v\":5},"
		"{\"n\":\"f\",\"t\":30,\"v\":6}]");
	static const char order[] = "dbeacf";
	struct pz_senml_pack p;

	(void)state;
	resolve_ok(doc, &p);
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(p.recs[i].name[0], order[i]);
	pz_senml_pack_free(&p);
	json_decref(doc);
}

/* Unknown labels are ignored (also b-labels), and records resolved and
 * written out resolve to themselves. */
static void test_record_round_trip(void **state)
{
	json_t *doc = parse_json(
		"[{\"bver\":26,\"bn\":\"urn:x:\",\"bt\":1.7e9,\"bu\":\"kWh\","
		"\"bfoo\":1,\"n\":\"e1\",\"v\":0.25,\"s\":-3.5,\"ut\":60,"
		"\"zz\":\"ignored\"},"
		"{\"n\":\"e2\",\"t\":-0.001,\"vd\":\"\"},"
		"{\"n\":\"e3\",\"vs\":\"\\u00e9\"}]");
	json_t *again = json_array();
	struct pz_senml_pack p, q;

	(void)state;
	resolve_ok(doc, &p);
	for (size_t i = 0; i < p.n; i++)
		json_array_append_new(again, pz_senml_record_json(&p.recs[i]));
	resolve_ok(again, &q);
	assert_int_equal(p.n, q.n);
	for (size_t i = 0; i < p.n; i++) {
		assert_string_equal(p.recs[i].name, q.recs[i].name);
		assert_string_equal(p.recs[i].unit, q.recs[i].unit);
		assert_int_equal(p.recs[i].kind, q.recs[i].kind);
		assert_true(p.recs[i].t == q.recs[i].t);
		assert_true(p.recs[i].v == q.recs[i].v);
		assert_int_equal(p.recs[i].has_sum, q.recs[i].has_sum);
		assert_true(p.recs[i].sum == q.recs[i].sum);
		assert_int_equal(p.recs[i].bver, 26);
		assert_int_equal(q.recs[i].bver, 26);
	}
	assert_string_equal(p.recs[0].name, "urn:x:e2");
	assert_string_equal(p.recs[0].vs, "");
	record_is(&p.recs[1], "{\"n\":\"urn:x:e1\",\"u\":\"kWh\",\"v\":0.25,"
		  "\"s\":-3.5,\"t\":1700000000,\"ut\":60,\"bver\":26}");
	pz_senml_pack_free(&p);
	pz_senml_pack_free(&q);
	json_decref(doc);
	json_decref(again);
}

static void test_record_json_edges(void **state)
{
	struct pz_senml_rec r = {
		.name = "n", .kind = PZ_SENML_NUM, .v = 9007199254740994.0,
		.t = 1e300, .bver = 10,
	};
	char *s;

	(void)state;
	/* Beyond 2^53 and huge values stay reals. */
	s = record_text(&r);
	assert_string_equal(s, "{\"n\":\"n\",\"v\":9007199254740994.0,"
			    "\"t\":1e+300}");
	pz_free(s);
	r.v = -0.0;
	r.t = 1.5;
	s = record_text(&r);
	assert_string_equal(s, "{\"n\":\"n\",\"v\":0,\"t\":1.5}");
	pz_free(s);
	r.name = NULL;
	assert_null(pz_senml_record_json(&r));
	pz_senml_pack_free(NULL);
}

/* --- CBOR specifics ------------------------------------------------------ */

static void test_cbor_rules(void **state)
{
	json_t *d;

	(void)state;
	/* An indefinite-length array is a SensML stream, not a pack. */
	refuse_cbor("9f a2 00 6161 02 01 ff", "definite-length array");
	/* Integer labels are a closed table. */
	refuse_cbor("81 a2 00 6161 09 01", "unknown integer map key 9");
	refuse_cbor("81 a2 00 6161 27 01", "unknown integer map key -8");
	/* vd is a byte string; text labels are text. */
	refuse_cbor("81 a2 00 6161 08 6141", "'vd' must hold a byte string");
	refuse_cbor("81 a2 00 6161 6276 64 6141", "'vd' must hold a byte");
	refuse_cbor("81 a2 00 4161 02 01", "'n' must hold a text string");
	refuse_cbor("81 a2 00 6161 03 4161", "'vs' must hold a text");
	refuse_cbor("81 a3 21 4161 00 6161 02 01", "'bn' must hold a text");
	refuse_cbor("81 a3 01 4161 00 6161 02 01", "'u' must hold a text");
	refuse_cbor("81 a3 23 4161 00 6161 02 01", "'bu' must hold a text");
	/* Strings are definite. */
	refuse_cbor("81 a2 00 7f 6161 ff 02 01", "indefinite-length");
	refuse_cbor("81 a2 00 6161 08 5f 4161 ff", "indefinite-length");
	/* -2 and "bn" are the same label. */
	refuse_cbor("81 a3 21 6161 62626e 6162 02 01", "duplicate map key 'bn'");
	/* Shape. */
	refuse_cbor("80", "non-empty array");
	refuse_cbor("a0", "non-empty array");
	refuse_cbor("81 01", "record 1 is not an object");
	refuse_cbor("82 a0 80", "record 2 is not an object");
	refuse_cbor("81 a1 00 6161 00", "trailing");
	refuse_cbor("", "empty");
	/* Text labels and unknown labels are accepted; unknown ones may hold
	 * bytes (as base64url) and their own maps are not SenML's. */
	d = parse_cbor("81 a4 616e 6161 02 01 6178 43 010203 6179 a1 08 01");
	assert_string_equal(json_string_value(json_object_get(
		json_array_get(d, 0), "x")), "AQID");
	assert_non_null(json_object_get(json_object_get(
		json_array_get(d, 0), "y"), "vd"));
	json_decref(d);
	/* Decimal fractions and half floats are numbers. */
	d = parse_cbor("81 a3 00 6161 02 c4 82 21 19 6ab3 06 f9 3c00");
	{
		struct pz_senml_pack p;

		resolve_ok(d, &p);
		assert_true(p.recs[0].v == 273.15);
		assert_true(p.recs[0].t == NOW_S + 1);
		pz_senml_pack_free(&p);
	}
	json_decref(d);
	/* bver in CBOR is an unsigned integer only. */
	d = parse_cbor("81 a3 20 f9 4900 00 6161 02 01");
	{
		struct pz_senml_pack p;
		char err[256];

		assert_int_equal(pz_senml_resolve(d, NOW_US, &p, err,
						  sizeof(err)), PZ_EINVAL);
		assert_non_null(strstr(err, "'bver' must be a positive"));
	}
	json_decref(d);
}

/* --- limits, encoding, allocation ---------------------------------------- */

static void test_limits(void **state)
{
	const char *s = tvs[2].json;
	size_t n, len = strlen(s);
	uint8_t *b = unhex(tvs[2].hex, &n);
	struct pz_codec_limits lim = { len, 2, 1 + 3 * 6 };
	char err[256];
	json_t *d;

	(void)state;
	/* TV5: 89 bytes of CBOR; an array of 3 maps with 5, 3, 3 values. */
	lim.max_nodes = 1 + 3 + 5 + 3 + 3;
	assert_int_equal(pz_senml_parse(PZ_FMT_JSON, (const uint8_t *)s, len,
					&lim, &d, err, sizeof(err)), PZ_OK);
	json_decref(d);
	lim.max_bytes = n;
	assert_int_equal(pz_senml_parse(PZ_FMT_CBOR, b, n, &lim, &d, err,
					sizeof(err)), PZ_OK);
	json_decref(d);
	lim.max_bytes = n - 1;
	refuse_parse(PZ_FMT_CBOR, b, n, &lim, PZ_ETOOBIG, "exceeds");
	lim.max_bytes = len - 1;
	refuse_parse(PZ_FMT_JSON, (const uint8_t *)s, len, &lim, PZ_ETOOBIG,
		     "exceeds");
	lim.max_bytes = len;
	lim.max_nodes--;
	refuse_parse(PZ_FMT_JSON, (const uint8_t *)s, len, &lim, PZ_ETOOBIG,
		     "values");
	refuse_parse(PZ_FMT_CBOR, b, n, &lim, PZ_ETOOBIG, "values");
	lim.max_nodes++;
	lim.max_depth = 1;
	refuse_parse(PZ_FMT_JSON, (const uint8_t *)s, len, &lim, PZ_ETOOBIG,
		     "deeper");
	refuse_parse(PZ_FMT_CBOR, b, n, &lim, PZ_ETOOBIG, "deeper");
	free(b);
	/* Truncated CBOR at every length. */
	b = unhex(tv1_hex, &n);
	for (size_t i = 0; i < n; i++) {
		uint8_t *cut = malloc(i ? i : 1);

		memcpy(cut, b, i);
		refuse_parse(PZ_FMT_CBOR, cut, i, NULL, PZ_EINVAL, "CBOR");
		free(cut);
	}
	free(b);
	refuse_parse(PZ_FMT_JSON, (const uint8_t *)"[", 1, NULL, PZ_EINVAL,
		     "malformed");
	refuse_parse((enum pz_fmt)5, (const uint8_t *)"[", 1, NULL, PZ_EINVAL,
		     "unsupported");
}

static void test_encode(void **state)
{
	json_t *d;
	struct pz_buf b;

	(void)state;
	pz_buf_init(&b, 0);
	assert_int_equal(pz_buf_adds(&b, "xy"), PZ_OK);
	d = json_loads("{\"n\":\"a\"}", 0, NULL);
	assert_int_equal(pz_senml_encode(PZ_FMT_CBOR, d, &b), PZ_EINVAL);
	assert_int_equal(pz_senml_encode(PZ_FMT_JSON, d, &b), PZ_EINVAL);
	json_decref(d);
	d = json_loads("[{\"n\":\"a\"},1]", 0, NULL);
	assert_int_equal(pz_senml_encode(PZ_FMT_CBOR, d, &b), PZ_EINVAL);
	json_decref(d);
	d = json_loads("[{\"n\":\"a\",\"vd\":\"aGk=\"}]", 0, NULL);
	assert_int_equal(pz_senml_encode(PZ_FMT_CBOR, d, &b), PZ_EINVAL);
	json_decref(d);
	d = json_loads("[{\"n\":\"a\",\"vd\":5}]", 0, NULL);
	assert_int_equal(pz_senml_encode(PZ_FMT_CBOR, d, &b), PZ_EINVAL);
	assert_int_equal(pz_senml_encode((enum pz_fmt)3, d, &b), PZ_EINVAL);
	assert_int_equal(pz_senml_encode(PZ_FMT_CBOR, NULL, &b), PZ_EINVAL);
	json_decref(d);
	/* Failures leave the buffer as it was. */
	assert_int_equal(b.len, 2);
	assert_string_equal(b.data, "xy");
	pz_buf_free(&b);
	/* Unknown labels stay text; vd of every length. */
	d = json_loads("[{\"n\":\"a\",\"x_y\":1,\"vd\":\"\"},{\"vd\":\"AA\"},"
		       "{\"vd\":\"AAA\"},{\"vd\":\"AAAA\"}]", 0, NULL);
	cbor_is(d, "84a300616163785f79010840a1084100a108420000"
		   "a10843000000");
	json_decref(d);
	/* The output ceiling. */
	d = parse_json(tvs[0].json);
	pz_buf_init(&b, tvs[0].len - 1);
	assert_int_equal(pz_senml_encode(PZ_FMT_CBOR, d, &b), PZ_ETOOBIG);
	assert_int_equal(b.len, 0);
	pz_buf_free(&b);
	pz_buf_init(&b, tvs[0].len);
	assert_int_equal(pz_senml_encode(PZ_FMT_CBOR, d, &b), PZ_OK);
	pz_buf_free(&b);
	json_decref(d);
}

/* Fail allocation N for N = 1, 2, ... until fn succeeds; every failure
 * must be PZ_ENOMEM and clean (LeakSanitizer checks the rest). */
static void walk_failures(int (*fn)(void *), void *arg)
{
	unsigned long i;
	int rc = PZ_ENOMEM;

	for (i = 1; i < 100000; i++) {
		pz_mem_fail_after(i);
		rc = fn(arg);
		pz_mem_fail_after(0);
		if (rc == PZ_OK)
			break;
		if (rc != PZ_ENOMEM)
			fail_msg("n=%lu: rc %d", i, rc);
	}
	assert_int_equal(rc, PZ_OK);
	assert_true(i > 1);
}

static int try_parse_json(void *arg)
{
	char err[256] = "";
	json_t *d = (json_t *)1;
	int rc = pz_senml_parse(PZ_FMT_JSON, arg, strlen(arg), NULL, &d, err,
				sizeof(err));

	/* jansson reports some allocation failures as syntax errors */
	if (rc == PZ_EINVAL && strstr(err, "malformed"))
		rc = PZ_ENOMEM;
	assert_true(rc == PZ_OK || (d == NULL && strlen(err) > 0));
	json_decref(rc == PZ_OK ? d : NULL);
	return rc;
}

struct bytes {
	uint8_t *p;
	size_t n;
};

static int try_parse_cbor(void *arg)
{
	struct bytes *b = arg;
	char err[256] = "";
	json_t *d = (json_t *)1;
	int rc = pz_senml_parse(PZ_FMT_CBOR, b->p, b->n, NULL, &d, err,
				sizeof(err));

	assert_true(rc == PZ_OK || (d == NULL && strlen(err) > 0));
	json_decref(rc == PZ_OK ? d : NULL);
	return rc;
}

static int try_resolve(void *arg)
{
	struct pz_senml_pack p;
	char err[256] = "";
	int rc = pz_senml_resolve(arg, NOW_US, &p, err, sizeof(err));

	if (rc != PZ_OK) {
		assert_null(p.recs);
		assert_true(strlen(err) > 0);
		return rc;
	}
	/* the record forms too */
	for (size_t i = 0; i < p.n && rc == PZ_OK; i++) {
		json_t *o = pz_senml_record_json(&p.recs[i]);

		if (!o)
			rc = PZ_ENOMEM;
		json_decref(o);
	}
	pz_senml_pack_free(&p);
	return rc;
}

static int try_encode(void *arg)
{
	struct pz_buf b;
	int rc;

	pz_buf_init(&b, 0);
	pz_buf_adds(&b, "x");
	rc = pz_senml_encode(PZ_FMT_CBOR, arg, &b);
	if (rc != PZ_OK) {
		assert_int_equal(b.len, b.data ? 1 : 0);
	}
	pz_buf_free(&b);
	return rc;
}

static void test_alloc_failure(void **state)
{
	/* Out of order, so the sort allocates too. */
	static const char pack[] =
		"[{\"bn\":\"urn:dev:ow:wm7:\",\"bu\":\"m3\",\"n\":\"vol\","
		"\"v\":0.5,\"t\":-60,\"s\":3},{\"n\":\"vol\",\"v\":0.75,"
		"\"t\":-90},{\"n\":\"x\",\"vs\":\"s\",\"u\":\"V\"},"
		"{\"n\":\"d\",\"vd\":\"aGkgCg\"}]";
	struct bytes b;
	json_t *doc;

	(void)state;
	walk_failures(try_parse_json, (void *)pack);
	b.p = unhex(tv1_hex, &b.n);
	walk_failures(try_parse_cbor, &b);
	free(b.p);
	b.p = unhex(tvs[3].hex, &b.n);
	walk_failures(try_parse_cbor, &b);
	free(b.p);
	doc = parse_json(pack);
	walk_failures(try_resolve, doc);
	walk_failures(try_encode, doc);
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
		cmocka_unit_test(test_tv1_codec),
		cmocka_unit_test(test_tv1_resolve),
		cmocka_unit_test(test_tv2_golden),
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_tv4_energy),
		cmocka_unit_test(test_tv5_air),
		cmocka_unit_test(test_tv6_types),
		cmocka_unit_test(test_tv7_version),
		cmocka_unit_test(test_tv8_relative),
		cmocka_unit_test(test_negative_cases),
		cmocka_unit_test(test_exponent_lower),
		cmocka_unit_test(test_negative_more),
		cmocka_unit_test(test_resolve_any_doc),
		cmocka_unit_test(test_base_scope),
		cmocka_unit_test(test_values_sums_units),
		cmocka_unit_test(test_sort_stable),
		cmocka_unit_test(test_record_round_trip),
		cmocka_unit_test(test_record_json_edges),
		cmocka_unit_test(test_cbor_rules),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_alloc_failure),
	};

	/* PZ_TEST=pattern runs only the matching tests (docs/testing.md). */
	if (getenv("PZ_TEST"))
		cmocka_set_test_filter(getenv("PZ_TEST"));
	return cmocka_run_group_tests_name("senml", tests, setup, NULL);
}
