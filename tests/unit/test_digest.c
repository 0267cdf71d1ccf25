/*
 * test_digest.c - the HTTP Digest headers of the Ub interface
 * (pz_digest.h): parse, write, round trip, refusals and the response
 * computation.
 *
 * Vectors: RFC 2617 section 3.5 (Mufasa, qop=auth) is published; the
 * auth-int form with an octet password (RFC 3310's RES) is checked
 * against MD5 over explicitly concatenated strings with libcrypto's
 * one-shot EVP_Digest, and again by the Python UE of tests/it/test_bsf.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "plaza/pz_digest.h"
#include "plaza/pz_err.h"

static int parse(enum pz_digest_kind k, const char *s, struct pz_digest *d)
{
	const char *why = NULL;
	int rc = pz_digest_parse(k, s, strlen(s), d, &why);

	if (rc != PZ_OK)
		assert_non_null(why);
	return rc;
}

/* RFC 2617 3.5: the published example, parsed and answered. */
static void test_rfc2617_example(void **state)
{
	struct pz_digest d;
	char out[PZ_DIGEST_HEX_LEN + 1];

	(void)state;
	assert_int_equal(parse(PZ_DIGEST_AUTH, "Digest username=\"Mufasa\","
		" realm=\"testrealm@host.com\","
		" nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\","
		" uri=\"/dir/index.html\", qop=auth, nc=00000001,"
		" cnonce=\"0a4f113b\","
		" response=\"6629fae49393a05397450978507c4ef1\","
		" opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"", &d), PZ_OK);
	assert_string_equal(d.username, "Mufasa");
	assert_string_equal(d.qop, "auth");
	assert_string_equal(d.nc, "00000001");
	assert_true(d.have & PZ_DF_OPAQUE);
	assert_false(d.have & PZ_DF_AUTS);
	assert_int_equal(pz_digest_response(&d, (const uint8_t *)
		"Circle Of Life", 14, "GET", NULL, 0, out), PZ_OK);
	assert_string_equal(out, "6629fae49393a05397450978507c4ef1");
	assert_true(pz_digest_equal(out, d.response));
	out[3] ^= 1;
	assert_false(pz_digest_equal(out, d.response));
	assert_false(pz_digest_equal("", d.response));
}

static void md5hex(const char *s, size_t n, char hex[33])
{
	unsigned char md[16];

	assert_int_equal(EVP_Digest(s, n, md, NULL, EVP_md5(), NULL), 1);
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* auth-int with an octet password (RES holds a NUL and high octets). */
static void test_auth_int(void **state)
{
	static const uint8_t res[8] = { 0xa5, 0x42, 0x11, 0x00, 0xe3, 0xba,
					0x50, 0xbf };
	struct pz_digest d;
	char out[33], ha1[33], hb[33], ha2[33], want[33], buf[512];
	const char *body = "<x/>";
	size_t n;

	(void)state;
	assert_int_equal(parse(PZ_DIGEST_AUTH, "Digest username=\"u@ims.x\", "
		"realm=\"bsf.x\", nonce=\"bm9uY2U=\", uri=\"/.plaza/bsf/ub\", "
		"qop=\"auth-int\", nc=00000001, cnonce=\"c1\", "
		"algorithm=AKAv1-MD5, response=\"\"", &d), PZ_OK);
	assert_string_equal(d.qop, "auth-int");
	assert_string_equal(d.response, "");
	assert_true(d.have & PZ_DF_RESPONSE);
	assert_int_equal(pz_digest_response(&d, res, sizeof(res), "POST",
		(const uint8_t *)body, 4, out), PZ_OK);
	n = (size_t)snprintf(buf, sizeof(buf), "u@ims.x:bsf.x:");
	memcpy(buf + n, res, sizeof(res));
	md5hex(buf, n + sizeof(res), ha1);
	md5hex(body, 4, hb);
	n = (size_t)snprintf(buf, sizeof(buf), "POST:/.plaza/bsf/ub:%s", hb);
	md5hex(buf, n, ha2);
	n = (size_t)snprintf(buf, sizeof(buf), "%s:bm9uY2U=:00000001:c1:"
			     "auth-int:%s", ha1, ha2);
	md5hex(buf, n, want);
	assert_string_equal(out, want);
	/* qop other than auth / auth-int is not computed. */
	snprintf(d.qop, sizeof(d.qop), "auth-conf");
	assert_int_equal(pz_digest_response(&d, res, 8, "POST", NULL, 0, out),
			 PZ_EINVAL);
}

/* Every kind: write then parse gives the same fields. */
static void test_round_trip(void **state)
{
	struct pz_digest d, e;
	char out[PZ_DIGEST_MAX];
	size_t n;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.have = PZ_DF_REALM | PZ_DF_NONCE | PZ_DF_QOP | PZ_DF_ALGORITHM |
		 PZ_DF_OPAQUE;
	snprintf(d.realm, sizeof(d.realm), "bsf.example.org");
	snprintf(d.nonce, sizeof(d.nonce), "AAAA+/==");
	snprintf(d.qop, sizeof(d.qop), "auth-int");
	snprintf(d.algorithm, sizeof(d.algorithm), "AKAv1-MD5");
	snprintf(d.opaque, sizeof(d.opaque), "a \"quoted\\\" one");
	assert_int_equal(pz_digest_write(PZ_DIGEST_CHALLENGE, &d, out,
					 sizeof(out), &n), PZ_OK);
	assert_int_equal(n, strlen(out));
	assert_string_equal(out, "Digest realm=\"bsf.example.org\", "
			    "nonce=\"AAAA+/==\", qop=\"auth-int\", opaque=\"a "
			    "\\\"quoted\\\\\\\" one\", algorithm=AKAv1-MD5");
	assert_int_equal(parse(PZ_DIGEST_CHALLENGE, out, &e), PZ_OK);
	assert_memory_equal(&d, &e, sizeof(d));
	/* Authentication-Info has no scheme. */
	memset(&d, 0, sizeof(d));
	d.have = PZ_DF_RSPAUTH | PZ_DF_QOP | PZ_DF_NC | PZ_DF_CNONCE;
	memset(d.rspauth, 'a', 32);
	snprintf(d.qop, sizeof(d.qop), "auth-int");
	snprintf(d.nc, sizeof(d.nc), "00000001");
	snprintf(d.cnonce, sizeof(d.cnonce), "xyz");
	assert_int_equal(pz_digest_write(PZ_DIGEST_INFO, &d, out, sizeof(out),
					 NULL), PZ_OK);
	assert_int_equal(parse(PZ_DIGEST_INFO, out, &e), PZ_OK);
	assert_memory_equal(&d, &e, sizeof(d));
	assert_int_equal(parse(PZ_DIGEST_AUTH, out, &e), PZ_EINVAL);
	/* Too small a buffer, and a token field that is not a token. */
	assert_int_equal(pz_digest_write(PZ_DIGEST_INFO, &d, out, 20, NULL),
			 PZ_ETOOBIG);
	assert_string_equal(out, "");
	d.have = 1u << 20;  /* no field */
	assert_int_equal(pz_digest_write(PZ_DIGEST_INFO, &d, out, sizeof(out),
					 NULL), PZ_EINVAL);
	d.have = PZ_DF_QOP;
	snprintf(d.qop, sizeof(d.qop), "a b");
	assert_int_equal(pz_digest_write(PZ_DIGEST_INFO, &d, out, sizeof(out),
					 NULL), PZ_EINVAL);
}

/* Lenient where RFC 7235 is: case of the scheme and names, OWS, unknown
 * parameters; the 255-octet username fits, 256 does not. */
static void test_accepted_forms(void **state)
{
	struct pz_digest d;
	char buf[600];

	(void)state;
	assert_int_equal(parse(PZ_DIGEST_AUTH, "  dIgEsT\tUserName = \"a\" ,"
			       "future=thing,REALM=r", &d), PZ_OK);
	assert_string_equal(d.username, "a");
	assert_string_equal(d.realm, "r");
	snprintf(buf, sizeof(buf), "Digest username=\"%0255d\"", 0);
	assert_int_equal(parse(PZ_DIGEST_AUTH, buf, &d), PZ_OK);
	assert_int_equal(strlen(d.username), 255);
	snprintf(buf, sizeof(buf), "Digest username=\"%0256d\"", 0);
	assert_int_equal(parse(PZ_DIGEST_AUTH, buf, &d), PZ_ETOOBIG);
	assert_int_equal(d.have, 0);
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
		"", "Digest", "Digest ", "Basic dXNlcg==", "Digestusername=a",
		"Digest username", "Digest username=", "Digest username=\"a",
		"Digest username=\"a\\", "Digest username=a realm=b",
		"Digest username=a,", "Digest username=a,,realm=b",
		"Digest username=a, username=b", "Digest =a",
		"Digest username=\"a\x01\"", "Digest username=\"\xc3\xa9\"",
		"Digest username=a;realm=b", "Digest username=(a)",
	};
	struct pz_digest d;
	char big[PZ_DIGEST_MAX + 2];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		d.have = 99;
		assert_int_not_equal(parse(PZ_DIGEST_AUTH, bad[i], &d), PZ_OK);
		assert_int_equal(d.have, 0);
	}
	/* A NUL inside the given length. */
	assert_int_equal(pz_digest_parse(PZ_DIGEST_AUTH, "Digest a=\"\0\"", 12,
					 &d, NULL), PZ_EINVAL);
	/* Over the header ceiling, and too many parameters. */
	memset(big, 'a', sizeof(big));
	assert_int_equal(pz_digest_parse(PZ_DIGEST_AUTH, big, sizeof(big) - 1,
					 &d, NULL), PZ_ETOOBIG);
	n = (size_t)snprintf(big, sizeof(big), "Digest ");
	for (int i = 0; i <= PZ_DIGEST_MAX_PARAMS; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "x%d=1,", i);
	big[n - 1] = '\0';
	assert_int_equal(parse(PZ_DIGEST_AUTH, big, &d), PZ_ETOOBIG);
	assert_int_equal(pz_digest_parse(PZ_DIGEST_AUTH, NULL, 0, &d, NULL),
			 PZ_EINVAL);
	assert_int_equal(pz_digest_parse(PZ_DIGEST_AUTH, "x", 1, NULL, NULL),
			 PZ_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc2617_example),
		cmocka_unit_test(test_auth_int),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_accepted_forms),
		cmocka_unit_test(test_refused),
	};

	if (getenv("PZ_TEST"))
		cmocka_set_test_filter(getenv("PZ_TEST"));
	return cmocka_run_group_tests_name("digest", tests, NULL, NULL);
}
