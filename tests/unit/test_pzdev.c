/*
 * test_pzdev.c - the device client's encoders and parser
 * (device/pzdev.h) byte for byte, and its GBA PSK derivation
 * (device/pzdev_gba.h).
 *
 * Where the expected octets come from: the CoAP messages are what
 * tests/it/coapmsg.py (the integration tests' encoder) writes for the same
 * request; the SenML packs are Python cbor2's dumps(..., canonical=True)
 * of the same records, except 65504.0, which cbor2 writes as a single
 * although a half holds it (RFC 8949 preferred serialisation: f9 7b ff);
 * the Ks_NAF and B-TID are the self-derived vector G1 of
 * shared/spec/security.md section 1.4 (TS 35.208 Test Set 1 inputs).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pzdev.h"
#include "pzdev_gba.h"

#define EXPECT_BYTES(got, glen, ...) do {                                  \
		static const uint8_t want_[] = { __VA_ARGS__ };            \
		assert_int_equal((glen), sizeof(want_));                   \
		assert_memory_equal((got), want_, sizeof(want_));          \
	} while (0)

/* --- CoAP writer ----------------------------------------------------------- */

static void coap_request_bytes(void **state)
{
	static const uint8_t tok[4] = { 1, 2, 3, 4 };
	uint8_t buf[64];
	struct pzdev_wr w;
	size_t len = 0;

	pzdev_coap_begin(&w, buf, sizeof(buf), PZDEV_CON, PZDEV_POST, 0x1234,
			 tok, 4);
	pzdev_coap_path(&w, "/plaza//ae1/");
	pzdev_coap_opt_uint(&w, PZDEV_OPT_CONTENT_FORMAT, PZDEV_CF_JSON);
	pzdev_coap_opt_uint(&w, PZDEV_OPT_TY, 2);
	pzdev_coap_opt_str(&w, PZDEV_OPT_RVI, "4");
	pzdev_coap_opt_str(&w, PZDEV_OPT_FR, "Cae1");
	pzdev_coap_opt_str(&w, PZDEV_OPT_RQI, "r1");
	pzdev_coap_payload(&w, "{}", 2);
	assert_int_equal(pzdev_coap_end(&w, &len), PZDEV_OK);
	EXPECT_BYTES(buf, len,
		0x44, 0x02, 0x12, 0x34, 0x01, 0x02, 0x03, 0x04, 0xb5, 0x70,
		0x6c, 0x61, 0x7a, 0x61, 0x03, 0x61, 0x65, 0x31, 0x11, 0x32,
		0xd1, 0xf2, 0x02, 0x41, 0x34, 0x84, 0x43, 0x61, 0x65, 0x31,
		0x42, 0x72, 0x31, 0xff, 0x7b, 0x7d);
}

static void coap_extended_delta_and_length(void **state)
{
	uint8_t buf[400], val[300];
	struct pzdev_wr w;
	size_t len = 0;

	memset(val, 'x', sizeof(val));
	pzdev_coap_begin(&w, buf, sizeof(buf), PZDEV_NON, PZDEV_GET, 1, NULL,
			 0);
	pzdev_coap_opt_str(&w, PZDEV_OPT_URI_PATH, "aaaaaaaaaaaaa");
	pzdev_coap_opt(&w, 2049, val, sizeof(val));
	assert_int_equal(pzdev_coap_end(&w, &len), PZDEV_OK);
	assert_int_equal(len, 324);
	EXPECT_BYTES(buf, 6, 0x50, 0x01, 0x00, 0x01, 0xbd, 0x00);
	/* 2049 - 11 = 2038 = 269 + 0x06e9; 300 = 269 + 0x001f */
	EXPECT_BYTES(buf + 19, 5, 0xee, 0x06, 0xe9, 0x00, 0x1f);
	/* uint options: shortest form, 0 is empty */
	pzdev_coap_begin(&w, buf, sizeof(buf), PZDEV_CON, PZDEV_GET, 0, NULL,
			 0);
	pzdev_coap_opt_uint(&w, PZDEV_OPT_CONTENT_FORMAT, 0);
	pzdev_coap_opt_uint(&w, PZDEV_OPT_ACCEPT, 10001);
	pzdev_coap_opt_uint(&w, PZDEV_OPT_RSC, 0x01000000);
	assert_int_equal(pzdev_coap_end(&w, &len), PZDEV_OK);
	/* 307 - 17 = 290 = 269 + 0x0015 */
	EXPECT_BYTES(buf, len, 0x40, 0x01, 0x00, 0x00, 0xc0, 0x52, 0x27,
		     0x11, 0xe4, 0x00, 0x15, 0x01, 0x00, 0x00, 0x00);
}

static void coap_writer_refuses(void **state)
{
	uint8_t buf[16];
	struct pzdev_wr w;
	size_t len = 99;

	/* options out of order */
	pzdev_coap_begin(&w, buf, sizeof(buf), PZDEV_CON, PZDEV_GET, 0, NULL,
			 0);
	pzdev_coap_opt_str(&w, PZDEV_OPT_FR, "C");
	pzdev_coap_opt_str(&w, PZDEV_OPT_URI_PATH, "x");
	assert_int_equal(pzdev_coap_end(&w, &len), PZDEV_EINVAL);
	assert_int_equal(len, 99);
	/* an option after the payload */
	pzdev_coap_begin(&w, buf, sizeof(buf), PZDEV_CON, PZDEV_GET, 0, NULL,
			 0);
	pzdev_coap_payload(&w, "p", 1);
	pzdev_coap_opt_str(&w, PZDEV_OPT_RQI, "r");
	assert_int_equal(pzdev_coap_end(&w, &len), PZDEV_EINVAL);
	/* a token over 8 octets, a bad type */
	pzdev_coap_begin(&w, buf, sizeof(buf), PZDEV_CON, PZDEV_GET, 0, buf,
			 9);
	assert_int_equal(pzdev_coap_end(&w, &len), PZDEV_EINVAL);
	pzdev_coap_begin(&w, buf, sizeof(buf), 4, PZDEV_GET, 0, NULL, 0);
	assert_int_equal(pzdev_coap_end(&w, &len), PZDEV_EINVAL);
	/* the buffer is full: sticky, nothing past cap */
	memset(buf, 0xaa, sizeof(buf));
	pzdev_coap_begin(&w, buf, 10, PZDEV_CON, PZDEV_GET, 0, NULL, 0);
	pzdev_coap_opt_str(&w, PZDEV_OPT_URI_PATH, "12345");
	pzdev_coap_opt_str(&w, PZDEV_OPT_URI_PATH, "x");
	assert_int_equal(pzdev_coap_end(&w, &len), PZDEV_ETOOBIG);
	assert_int_equal(buf[10], 0xaa);
	assert_int_equal(w.len, 10);
}

/* --- CoAP parser ----------------------------------------------------------- */

static void coap_parse_answer(void **state)
{
	/* ACK 2.01, mid 0x1234, token 01020304, Location-Path "ae1",
	 * Content-Format 50, RSC 2001 (0x07d1; 307 - 12 = 269 + 0x1a),
	 * payload "{}" */
	static const uint8_t msg[] = {
		0x64, 0x41, 0x12, 0x34, 0x01, 0x02, 0x03, 0x04,
		0x83, 0x61, 0x65, 0x31, 0x41, 0x32,
		0xe2, 0x00, 0x1a, 0x07, 0xd1, 0xff, 0x7b, 0x7d
	};
	struct pzdev_msg m;

	assert_int_equal(pzdev_coap_parse(msg, sizeof(msg), &m), PZDEV_OK);
	assert_int_equal(m.type, PZDEV_ACK);
	assert_int_equal(m.code, PZDEV_CODE(2, 1));
	assert_int_equal(m.mid, 0x1234);
	assert_int_equal(m.tkl, 4);
	assert_int_equal(m.token[3], 4);
	assert_int_equal(m.nopts, 3);
	assert_int_equal(m.opts[0].num, PZDEV_OPT_LOCATION_PATH);
	assert_memory_equal(m.opts[0].val, "ae1", 3);
	assert_int_equal(pzdev_coap_uint(pzdev_coap_find(&m,
			 PZDEV_OPT_CONTENT_FORMAT)), 50);
	assert_int_equal(pzdev_coap_uint(pzdev_coap_find(&m, PZDEV_OPT_RSC)),
			 2001);
	assert_null(pzdev_coap_find(&m, PZDEV_OPT_FR));
	assert_int_equal(pzdev_coap_uint(NULL), 0);
	assert_int_equal(m.plen, 2);
	assert_memory_equal(m.payload, "{}", 2);
}

static void coap_parse_round_trip(void **state)
{
	uint8_t buf[400], val[300];
	struct pzdev_wr w;
	struct pzdev_msg m;
	size_t len = 0;

	memset(val, 'v', sizeof(val));
	pzdev_coap_begin(&w, buf, sizeof(buf), PZDEV_NON, PZDEV_PUT, 7,
			 (const uint8_t *)"tok", 3);
	pzdev_coap_path(&w, "a/b");
	pzdev_coap_opt(&w, PZDEV_OPT_FR, val, 20);
	pzdev_coap_opt(&w, 2049, val, sizeof(val));
	pzdev_coap_payload(&w, "body", 4);
	assert_int_equal(pzdev_coap_end(&w, &len), PZDEV_OK);
	assert_int_equal(pzdev_coap_parse(buf, len, &m), PZDEV_OK);
	assert_int_equal(m.type, PZDEV_NON);
	assert_int_equal(m.code, PZDEV_PUT);
	assert_int_equal(m.nopts, 4);
	assert_int_equal(m.opts[1].num, PZDEV_OPT_URI_PATH);
	assert_int_equal(m.opts[2].num, PZDEV_OPT_FR);
	assert_int_equal(m.opts[2].len, 20);
	assert_int_equal(m.opts[3].num, 2049);
	assert_int_equal(m.opts[3].len, 300);
	assert_memory_equal(m.payload, "body", 4);
}

static void coap_parse_refuses(void **state)
{
	static const uint8_t v2[] = { 0x80, 0x01, 0, 0 };
	static const uint8_t tkl9[] = { 0x49, 0x01, 0, 0, 1, 2, 3, 4, 5, 6,
					7, 8, 9 };
	static const uint8_t short_tok[] = { 0x44, 0x01, 0, 0, 1, 2 };
	static const uint8_t opt_past[] = { 0x40, 0x01, 0, 0, 0xb5, 'a' };
	static const uint8_t nib15[] = { 0x40, 0x01, 0, 0, 0xf1, 'a' };
	static const uint8_t ext_cut[] = { 0x40, 0x01, 0, 0, 0xe1, 0x01 };
	static const uint8_t marker[] = { 0x40, 0x45, 0, 0, 0xff };
	static const uint8_t num_big[] = { 0x40, 0x01, 0, 0, 0xe0, 0xff,
					   0xff, 0xe0, 0xff, 0xff };
	struct pzdev_msg m;

	assert_int_equal(pzdev_coap_parse(v2, 3, &m), PZDEV_EPARSE);
	assert_int_equal(pzdev_coap_parse(NULL, 0, &m), PZDEV_EPARSE);
	assert_int_equal(pzdev_coap_parse(v2, sizeof(v2), &m), PZDEV_EPARSE);
	assert_int_equal(pzdev_coap_parse(tkl9, sizeof(tkl9), &m),
			 PZDEV_EPARSE);
	assert_int_equal(pzdev_coap_parse(short_tok, sizeof(short_tok), &m),
			 PZDEV_EPARSE);
	assert_int_equal(pzdev_coap_parse(opt_past, sizeof(opt_past), &m),
			 PZDEV_EPARSE);
	assert_int_equal(pzdev_coap_parse(nib15, sizeof(nib15), &m),
			 PZDEV_EPARSE);
	assert_int_equal(pzdev_coap_parse(ext_cut, sizeof(ext_cut), &m),
			 PZDEV_EPARSE);
	assert_int_equal(pzdev_coap_parse(marker, sizeof(marker), &m),
			 PZDEV_EPARSE);
	assert_int_equal(pzdev_coap_parse(num_big, sizeof(num_big), &m),
			 PZDEV_EPARSE);
}

static void coap_parse_keeps_at_most_opts_max(void **state)
{
	uint8_t buf[128];
	struct pzdev_wr w;
	struct pzdev_msg m;
	size_t len = 0;

	pzdev_coap_begin(&w, buf, sizeof(buf), PZDEV_CON, PZDEV_GET, 0, NULL,
			 0);
	for (int i = 0; i < PZDEV_OPTS_MAX + 5; i++)
		pzdev_coap_opt_str(&w, PZDEV_OPT_URI_PATH, "p");
	assert_int_equal(pzdev_coap_end(&w, &len), PZDEV_OK);
	assert_int_equal(pzdev_coap_parse(buf, len, &m), PZDEV_OK);
	assert_int_equal(m.nopts, PZDEV_OPTS_MAX);
	assert_null(m.payload);
}

/* --- SenML CBOR ------------------------------------------------------------- */

static void senml_record_bytes(void **state)
{
	uint8_t buf[64];
	struct pzdev_senml s;
	size_t len = 0;

	/* cbor2: [{0: "temp", 1: "Cel", 2: 21.5, -2: "urn:dev:x:"}] */
	pzdev_senml_begin(&s, buf, sizeof(buf), 1);
	pzdev_senml_rec(&s, "urn:dev:x:", "temp", "Cel", 21.5, 0);
	assert_int_equal(pzdev_senml_end(&s, &len), PZDEV_OK);
	EXPECT_BYTES(buf, len,
		0x81, 0xa4, 0x00, 0x64, 0x74, 0x65, 0x6d, 0x70, 0x01, 0x63,
		0x43, 0x65, 0x6c, 0x02, 0xf9, 0x4d, 0x60, 0x21, 0x6a, 0x75,
		0x72, 0x6e, 0x3a, 0x64, 0x65, 0x76, 0x3a, 0x78, 0x3a);
}

static void senml_numbers(void **state)
{
	uint8_t buf[128];
	struct pzdev_senml s;
	size_t len = 0;

	/* cbor2: [{0: "a", 2: 0.1, 6: -5},
	 *         {0: "b", 2: -3.4028234663852886e+38, 6: 1700000000},
	 *         {2: 5.960464477539063e-08}, {2: inf}, {2: nan}, {2: -0.0},
	 *         {2: 100000.0}] */
	pzdev_senml_begin(&s, buf, sizeof(buf), 7);
	pzdev_senml_rec(&s, NULL, "a", NULL, 0.1, -5);
	pzdev_senml_rec(&s, NULL, "b", NULL, -3.4028234663852886e+38,
			1700000000);
	pzdev_senml_rec(&s, NULL, NULL, NULL, 5.960464477539063e-08, 0);
	pzdev_senml_rec(&s, NULL, NULL, NULL, INFINITY, 0);
	pzdev_senml_rec(&s, NULL, NULL, NULL, NAN, 0);
	pzdev_senml_rec(&s, NULL, NULL, NULL, -0.0, 0);
	pzdev_senml_rec(&s, NULL, NULL, NULL, 100000.0, 0);
	assert_int_equal(pzdev_senml_end(&s, &len), PZDEV_OK);
	EXPECT_BYTES(buf, len,
		0x87, 0xa3, 0x00, 0x61, 0x61, 0x02, 0xfb, 0x3f, 0xb9, 0x99,
		0x99, 0x99, 0x99, 0x99, 0x9a, 0x06, 0x24, 0xa3, 0x00, 0x61,
		0x62, 0x02, 0xfa, 0xff, 0x7f, 0xff, 0xff, 0x06, 0x1a, 0x65,
		0x53, 0xf1, 0x00, 0xa1, 0x02, 0xf9, 0x00, 0x01, 0xa1, 0x02,
		0xf9, 0x7c, 0x00, 0xa1, 0x02, 0xf9, 0x7e, 0x00, 0xa1, 0x02,
		0xf9, 0x80, 0x00, 0xa1, 0x02, 0xfa, 0x47, 0xc3, 0x50, 0x00);
	/* the largest half, and a subnormal half with a wider mantissa */
	pzdev_senml_begin(&s, buf, sizeof(buf), 2);
	pzdev_senml_rec(&s, NULL, NULL, NULL, 65504.0, 0);
	pzdev_senml_rec(&s, NULL, NULL, NULL, 3 * 5.960464477539063e-08, 0);
	assert_int_equal(pzdev_senml_end(&s, &len), PZDEV_OK);
	EXPECT_BYTES(buf, len, 0x82, 0xa1, 0x02, 0xf9, 0x7b, 0xff, 0xa1,
		     0x02, 0xf9, 0x00, 0x03);
}

static void senml_refuses(void **state)
{
	uint8_t buf[32];
	struct pzdev_senml s;
	size_t len = 0;

	pzdev_senml_begin(&s, buf, sizeof(buf), 2);      /* one too few */
	pzdev_senml_rec(&s, NULL, "a", NULL, 1, 0);
	assert_int_equal(pzdev_senml_end(&s, &len), PZDEV_EINVAL);
	pzdev_senml_begin(&s, buf, sizeof(buf), 1);      /* one too many */
	pzdev_senml_rec(&s, NULL, "a", NULL, 1, 0);
	pzdev_senml_rec(&s, NULL, "b", NULL, 1, 0);
	assert_int_equal(pzdev_senml_end(&s, &len), PZDEV_EINVAL);
	pzdev_senml_begin(&s, buf, sizeof(buf), 0);
	assert_int_equal(pzdev_senml_end(&s, &len), PZDEV_EINVAL);
	memset(buf, 0xaa, sizeof(buf));                  /* too small */
	pzdev_senml_begin(&s, buf, 16, 1);
	pzdev_senml_rec(&s, "urn:dev:a-long-base-name:", "t", NULL, 1, 0);
	assert_int_equal(pzdev_senml_end(&s, &len), PZDEV_ETOOBIG);
	assert_int_equal(buf[16], 0xaa);
	assert_string_equal(pzdev_strerror(PZDEV_ETOOBIG),
			    "too big for the buffer");
	assert_string_equal(pzdev_strerror(-1), "unknown error");
}

/* The RAM budget of issue 6: the whole state, mbedTLS's contexts
 * included, in 4 KiB (bench/device.md). */
static void state_fits_4k(void **state)
{
	assert_true(sizeof(struct pzdev) <= 4096);
	assert_true(sizeof(struct pzdev) - sizeof(((struct pzdev *)0)->tls)
		    <= 2 * PZDEV_MSG_MAX + 128);
}

/* --- GBA ------------------------------------------------------------------- */

static void hex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v = 0;

		for (int k = 0; k < 2; k++) {
			char c = s[2 * i + k];

			v = v << 4 | (unsigned)(c <= '9' ? c - '0'
						: c - 'a' + 10);
		}
		out[i] = (uint8_t)v;
	}
}

static void gba_ks_naf_vector_g1(void **state)
{
	uint8_t k[16], opc[16], rnd[16], key[PZDEV_GBA_KEY_LEN], want[32];
	char id[PZDEV_GBA_ID_SIZE];
	struct pzdev_gba_in in;

	hex("465b5ce8b199b49faa5f0a2ee238a6bc", k, 16);
	hex("cd63cb71954a9f4e48a5994e37a02baf", opc, 16);
	hex("23553cbe9637a89d218ae64dae47bf35", rnd, 16);
	hex("4b0dd9165c64ad093878411c60e2189ffa556ec29715ca75a8de98e0c1abf273",
	    want, 32);
	in = (struct pzdev_gba_in){
		k, opc, rnd, "001010000000001@ims.mnc001.mcc001.3gppnetwork.org",
		"naf.example.org", "bsf.example.org" };
	assert_int_equal(pzdev_gba_psk(&in, key, id, sizeof(id)), 0);
	assert_memory_equal(key, want, 32);
	assert_string_equal(id, "3GPP-bootstrapping"
			    "I1U8vpY3qJ0hiuZNrke/NQ==@bsf.example.org");
	/* a wrong K gives another key; a short id buffer fails cleanly */
	k[0] ^= 1;
	assert_int_equal(pzdev_gba_psk(&in, key, id, sizeof(id)), 0);
	assert_memory_not_equal(key, want, 32);
	assert_int_not_equal(pzdev_gba_psk(&in, key, id, 20), 0);
	in.impi = NULL;
	assert_int_not_equal(pzdev_gba_psk(&in, key, id, sizeof(id)), 0);
}

/* pzdev_gba_bootstrap refuses bad arguments before any I/O, with a
 * reason, and leaves no partial result. */
static void gba_bootstrap_refuses(void **state)
{
	static const uint8_t k[16], opc[16];
	struct pzdev_gba_ub ub = { "127.0.0.1", 9, NULL, "x@y", k, opc,
				   "naf.example.org", 0, 1000 };
	struct pzdev_gba_boot b;
	char impi[300];
	const char *why = NULL;

	(void)state;
	assert_int_equal(pzdev_gba_bootstrap(NULL, &b, &why), PZDEV_EINVAL);
	assert_non_null(why);
	assert_int_equal(pzdev_gba_bootstrap(&ub, NULL, &why), PZDEV_EINVAL);
	ub.impi = "";
	assert_int_equal(pzdev_gba_bootstrap(&ub, &b, &why), PZDEV_EINVAL);
	memset(impi, 'a', 256);
	impi[256] = '\0';
	ub.impi = impi;            /* 256 octets: over the Digest limit */
	assert_int_equal(pzdev_gba_bootstrap(&ub, &b, &why), PZDEV_EINVAL);
	ub.impi = "x@y";
	ub.timeout_ms = 0;
	assert_int_equal(pzdev_gba_bootstrap(&ub, &b, &why), PZDEV_EINVAL);
	ub.timeout_ms = 1000;
	ub.host = "bsf.example.org";   /* not numeric */
	memset(&b, 0x5a, sizeof(b));
	assert_int_equal(pzdev_gba_bootstrap(&ub, &b, &why), PZDEV_EINVAL);
	assert_string_equal(why, "the BSF must be a numeric IPv4 or IPv6 "
			    "address");
	for (size_t i = 0; i < sizeof(b); i++)
		assert_int_equal(((uint8_t *)&b)[i], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(coap_request_bytes),
		cmocka_unit_test(coap_extended_delta_and_length),
		cmocka_unit_test(coap_writer_refuses),
		cmocka_unit_test(coap_parse_answer),
		cmocka_unit_test(coap_parse_round_trip),
		cmocka_unit_test(coap_parse_refuses),
		cmocka_unit_test(coap_parse_keeps_at_most_opts_max),
		cmocka_unit_test(senml_record_bytes),
		cmocka_unit_test(senml_numbers),
		cmocka_unit_test(senml_refuses),
		cmocka_unit_test(state_fits_4k),
		cmocka_unit_test(gba_ks_naf_vector_g1),
		cmocka_unit_test(gba_bootstrap_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
