/*
 * test_gba.c - the TS 33.220 Annex B.2 KDF and the GBA, AKMA and oneM2M
 * RSPF derivations (pz_gba.h).
 *
 * Where expected values come from: shared/spec/security.md section 1.4.
 *
 *  - P1, P2, P3, P3b are published vectors of other implementations
 *    (free5gc's RFC 5448 test vector 1, open5gs security_test3, OAI's
 *    K_eNB tests).  P2 is also reached from Milenage: TS 35.208 test set 1
 *    gives CK, IK and AK, and fd8eef40df7d xor AK is P2's P1 (the sheet's
 *    SQN for P2).
 *  - G1, G2, A1-A4 and the B-TID are the spec sheet's self-derived
 *    vectors (not normative; no published GBA or AKMA vectors exist).
 *    Where the sheet gives S, the test also computes HMAC-SHA-256 over
 *    that S with libcrypto's one-shot HMAC(), so the module must build
 *    exactly the published S.
 *  - The RSPF derivations have no published vectors: they are checked
 *    against one-shot HMAC() over an explicitly concatenated buffer here,
 *    and against Python's hmac in tests/it/test_boot_vectors.py.
 *
 * Beyond the vectors: every length limit at and one past its bound, NULLs,
 * the B-TID parser's accepted and refused forms and its round trip, and
 * each allocation failing in turn.
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

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "plaza/pz_err.h"
#include "plaza/pz_gba.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_milenage.h"

#define HL PZ_GBA_KDF_LEN

/* hex into out (strlen(hex) / 2 octets, at most max); returns the count. */
static size_t unhex(const char *hex, uint8_t *out, size_t max)
{
	size_t n = strlen(hex) / 2;

	assert_int_equal(strlen(hex) % 2, 0);
	assert_true(n <= max);
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

static void expect_hex(const uint8_t *got, const char *hex)
{
	uint8_t want[HL];
	size_t n = unhex(hex, want, sizeof want);

	assert_memory_equal(got, want, n);
}

/* HMAC-SHA-256(key, S) with S given in hex, through the one-shot API. */
static void ref_hmac_hex(const uint8_t *key, size_t klen, const char *s_hex,
			 uint8_t out[HL])
{
	uint8_t s[512];
	size_t n = unhex(s_hex, s, sizeof s);
	unsigned int olen = 0;

	assert_non_null(HMAC(EVP_sha256(), key, (int)klen, s, n, out, &olen));
	assert_int_equal(olen, HL);
}

/* Inputs shared by the vectors: TS 35.208 set 1 and the sheet's names. */
static const char *const IMPI = "001010000000001@ims.mnc001.mcc001.3gppnetwork.org";
static const char *const SUPI = "001010000000001";
static const char *const CK1 = "b40ba9a3c58b2a05bbf0d987b21bf8cb";
static const char *const IK1 = "f769bcd751044604127672711c6d3441";
static const char *const RAND1 = "23553cbe9637a89d218ae64dae47bf35";

static const char *const G1_S = "016762612d6d65000623553cbe9637a89d218ae64d"
	"ae47bf35001030303130313030303030303030303140696d732e6d6e633030312e6d"
	"63633030312e336770706e6574776f726b2e6f726700316e61662e6578616d706c65"
	"2e6f7267010001c0a80014";
static const char *const G1 = "4b0dd9165c64ad093878411c60e2189ffa556ec29715ca75a8de98e0c1abf273";
static const char *const G2 = "1d1c4d3d98856cce4ad06489c25feb2269db6b036667abb4f1d84a010df48bb4";
static const char *const A1 = "474698caf02cc715db2ec0726510cfee6caa5bb1a649cb01224f2e23af94de1b";
static const char *const A2_S = "80414b4d410004303031303130303030303030303031000f";
static const char *const A2 = "176cdc89b8bc8634d912bf84cb7ed7b85afe1b8802afa110d1100a881df659a3";
static const char *const A3_S = "81412d5449440005303031303130303030303030303031000f";
static const char *const A3 = "a4763ff6a5427c58fa51f62e036c2aa33c88343cdda5f17db86cf1ab7b5661b6";
static const char *const A4_S = "8261662e6578616d706c652e6f7267010001c0a80013";
static const char *const A4 = "3a9bde4fefa5b087d5cd0561c0489fef53667efa004f808d1a4c0a7f7a3c1a4c";

static void ks1(uint8_t ks[32])
{
	uint8_t ck[16], ik[16];

	unhex(CK1, ck, 16);
	unhex(IK1, ik, 16);
	assert_int_equal(pz_gba_ks(ck, ik, ks), PZ_OK);
}

static void naf_id(const char *fqdn, uint8_t *out, size_t *len)
{
	assert_int_equal(pz_gba_naf_id(fqdn, strlen(fqdn), pz_gba_ua_psk_ccm8,
				       out, PZ_GBA_NAF_ID_MAX, len), PZ_OK);
}

/* --- the published KDF vectors ------------------------------------------ */

static void test_p1_rfc5448(void **state)
{
	uint8_t key[32], sqnak[6], out[HL], ref[HL];
	struct pz_gba_param p[2] = { { "WLAN", 4 }, { sqnak, 6 } };

	(void)state;
	unhex("5349fbe098649f948f5d2e973a81c00f9744871ad32bf9bbd1dd5ce54e3e2e5a",
	      key, 32);
	unhex("bb52e91c747a", sqnak, 6);
	assert_int_equal(pz_gba_kdf(key, 32, 0x20, p, 2, out, HL), PZ_OK);
	expect_hex(out, "0093962d0dd84aa5684b045c9edffa04"
			"ccfc230ca74fcc96c0a5d61164f5a76c");
	ref_hmac_hex(key, 32, "20574c414e0004bb52e91c747a0006", ref);
	assert_memory_equal(out, ref, HL);
	/* The 128-bit form: the rightmost 16 octets. */
	assert_int_equal(pz_gba_kdf(key, 32, 0x20, p, 2, out, 16), PZ_OK);
	expect_hex(out, "ccfc230ca74fcc96c0a5d61164f5a76c");
}

/* P2 (K_ASME) and P3 (K_eNB), from TS 35.208 set 1 through Milenage. */
static void test_p2_p3_from_milenage(void **state)
{
	static const char *const P2 = "238e457e0f758badbca8d34bb2612c10428d426757cb5553b2b184fa64bfc549";
	uint8_t k[16], op[16], rand[16], sqn[6], ck[16], ik[16], ak[6];
	uint8_t key[32], sqnak[6], plmn[3], count[4], kasme[HL], kenb[HL];
	uint8_t ref[HL];
	struct pz_gba_param p2[2] = { { plmn, 3 }, { sqnak, 6 } };
	struct pz_gba_param p3 = { count, 4 };
	struct pz_milenage m;

	(void)state;
	unhex("465b5ce8b199b49faa5f0a2ee238a6bc", k, 16);
	unhex("cdc202d5123e20f62b6d676ac72cb318", op, 16);
	unhex(RAND1, rand, 16);
	/* open5gs pairs set 1's AK with the SQN fd8eef40df7d (set 2's). */
	unhex("fd8eef40df7d", sqn, 6);
	assert_int_equal(pz_milenage_init_op(&m, k, 16, op, 16), PZ_OK);
	assert_int_equal(pz_milenage_f2345(&m, rand, NULL, ck, ik, ak), PZ_OK);
	pz_milenage_done(&m);
	assert_int_equal(pz_gba_ks(ck, ik, key), PZ_OK);
	for (int i = 0; i < 6; i++)
		sqnak[i] = sqn[i] ^ ak[i];
	expect_hex(sqnak, "57e673245c0d");
	unhex("024830", plmn, 3);
	assert_int_equal(pz_gba_kdf(key, 32, 0x10, p2, 2, kasme, HL), PZ_OK);
	expect_hex(kasme, P2);
	ref_hmac_hex(key, 32, "10024830000357e673245c0d0006", ref);
	assert_memory_equal(kasme, ref, HL);

	unhex("db1a3569", count, 4);
	assert_int_equal(pz_gba_kdf(kasme, 32, 0x11, &p3, 1, kenb, HL), PZ_OK);
	expect_hex(kenb, "8eb1bf0083bd79281ef7034bf677e9ec"
			 "529f196e15287514a2d122acf713b8e8");

	unhex("564cb4d2007e4f293b67d9b29392a64add4c776b133d895af6499aa6882aab62",
	      key, 32);
	unhex("001fb39c", count, 4);
	assert_int_equal(pz_gba_kdf(key, 32, 0x11, &p3, 1, kenb, HL), PZ_OK);
	expect_hex(kenb, "009010688f85855e218339de6c5bd7b6"
			 "394958da12ddfbf7559e978ce43408f1");
}

/* --- GBA ---------------------------------------------------------------- */

static void test_gba_vectors(void **state)
{
	uint8_t ks[32], rand[16], nid[PZ_GBA_NAF_ID_MAX], out[HL], ref[HL];
	size_t nlen = 0;

	(void)state;
	ks1(ks);
	expect_hex(ks, "b40ba9a3c58b2a05bbf0d987b21bf8cb");
	expect_hex(ks + 16, "f769bcd751044604127672711c6d3441");
	unhex(RAND1, rand, 16);
	naf_id("naf.example.org", nid, &nlen);
	assert_int_equal(nlen, 20);
	expect_hex(nid, "6e61662e6578616d706c652e6f7267010001c0a8");

	assert_int_equal(pz_gba_ks_naf(ks, rand, IMPI, strlen(IMPI), nid, nlen,
				       out), PZ_OK);
	expect_hex(out, G1);
	ref_hmac_hex(ks, 32, G1_S, ref);
	assert_memory_equal(out, ref, HL);

	assert_int_equal(pz_gba_ks_int_naf(ks, rand, IMPI, strlen(IMPI), nid,
					   nlen, out), PZ_OK);
	expect_hex(out, G2);
	/* G2's S is G1's with P0 "gba-u" (00 05). */
	{
		char s2[600];

		snprintf(s2, sizeof s2, "01%s0005%s", "6762612d75",
			 G1_S + strlen("016762612d6d650006"));
		ref_hmac_hex(ks, 32, s2, ref);
		assert_memory_equal(out, ref, HL);
	}
}

static void test_ua_ids(void **state)
{
	(void)state;
	expect_hex(pz_gba_ua_http_digest, "0100000002");
	expect_hex(pz_gba_ua_tls13, "0100000007");
	expect_hex(pz_gba_ua_psk_ccm8, "010001c0a8");
}

static void test_btid_vector(void **state)
{
	uint8_t rand[16];
	char b[PZ_GBA_BTID_SIZE];
	struct pz_gba_btid t;
	size_t len = 0;

	(void)state;
	unhex(RAND1, rand, 16);
	assert_int_equal(pz_gba_btid_format(rand, "bsf.example.org", 15, b,
					    sizeof b, &len), PZ_OK);
	assert_string_equal(b, "I1U8vpY3qJ0hiuZNrke/NQ==@bsf.example.org");
	assert_int_equal(len, strlen(b));
	assert_int_equal(pz_gba_btid_parse(b, len, &t, NULL), PZ_OK);
	assert_memory_equal(t.rand, rand, 16);
	assert_int_equal(t.server_len, 15);
	assert_ptr_equal(t.server, b + 25);
	/* Exactly enough room, then one octet less. */
	assert_int_equal(pz_gba_btid_format(rand, "bsf.example.org", 15, b,
					    len + 1, NULL), PZ_OK);
	assert_int_equal(pz_gba_btid_format(rand, "bsf.example.org", 15, b,
					    len, NULL), PZ_ETOOBIG);
	assert_string_equal(b, "");
	assert_int_equal(pz_gba_btid_format(rand, "bsf.example.org", 15, b, 0,
					    NULL), PZ_ETOOBIG);
}

/* Every RAND's B-TID parses back to it (pseudo-random RANDs, and the
 * all-zero and all-one ones that exercise the first and last digits). */
static void test_btid_round_trip(void **state)
{
	uint32_t x = 7;

	(void)state;
	for (int n = 0; n < 3000; n++) {
		uint8_t rand[16];
		char b[PZ_GBA_BTID_SIZE];
		struct pz_gba_btid t;
		size_t len = 0;

		for (int i = 0; i < 16; i++) {
			x = x * 1664525u + 1013904223u;
			rand[i] = n == 0 ? 0 : n == 1 ? 0xff : (uint8_t)(x >> 24);
		}
		assert_int_equal(pz_gba_btid_format(rand, "b", 1, b, sizeof b,
						    &len), PZ_OK);
		assert_int_equal(len, 26);
		assert_int_equal(pz_gba_btid_parse(b, len, &t, NULL), PZ_OK);
		assert_memory_equal(t.rand, rand, 16);
	}
}

static void test_btid_parse_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"I1U8vpY3qJ0hiuZNrke/NQ==@",
		"I1U8vpY3qJ0hiuZNrke/NQ==",
		"I1U8vpY3qJ0hiuZNrke/NQ=@bsf.example.org",
		"I1U8vpY3qJ0hiuZNrke/NQ===@bsf.example.org",
		"I1U8vpY3qJ0hiuZNrke/NQ@bsf.example.org",
		"I1U8vpY3qJ0hiuZNrke/NR==@bsf.example.org",  /* low bits set */
		"I1U8vpY3qJ0hiuZNrke_NQ==@bsf.example.org",  /* URL alphabet */
		"I1U8vpY3qJ0hiuZNrke/N===@bsf.example.org",
		"I1U8vpY3qJ0hiuZNrke/NQ==bsf.example.org",
		"I1U8vpY3qJ0hiuZNrke/NQ==@bsf.example.org.",
		"I1U8vpY3qJ0hiuZNrke/NQ==@.bsf",
		"I1U8vpY3qJ0hiuZNrke/NQ==@bsf..org",
		"I1U8vpY3qJ0hiuZNrke/NQ==@-bsf.org",
		"I1U8vpY3qJ0hiuZNrke/NQ==@bsf-.org",
		"I1U8vpY3qJ0hiuZNrke/NQ==@bsf.org-",
		"I1U8vpY3qJ0hiuZNrke/NQ==@bsf_x.org",
		"I1U8vpY3qJ0hiuZNrke/NQ==@bsf@org",
		"I1U8vpY3qJ0hiuZNrke/NQ==@bsf org",
		" I1U8vpY3qJ0hiuZNrke/NQ==@bsf.org",
		"I1U8vpY3qJ0hiuZNrke/NQ==@bsf.org ",
		"I1U8vpY3qJ0hiuZNrke/NQ==@b\xc3\xa9.org",
	};
	static const char *const reasons[][2] = {
		{ "I1U8vpY3qJ0hiuZNrke/NQ==", "then '@'" },
		{ "I1U8vpY3qJ0hiuZNrke/NQ=@bsf", "then '@'" },
		{ "I1U8vpY3qJ0hiuZNrke/NQ=A@bsf", "end in \"==\"" },
		{ "I1U8vpY3qJ0hiuZNrke/N===@bsf", "outside standard base64" },
		{ "I1U8vpY3qJ0hiuZNrke_NQ==@bsf", "outside standard base64" },
		{ "I1U8vpY3qJ0hiuZNrke/NR==@bsf", "unused bits" },
		{ "I1U8vpY3qJ0hiuZNrke/NQ==@bsf.", "not a host name" },
	};
	char b[600];
	struct pz_gba_btid t;
	const char *why2 = "untouched";

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *why = NULL;

		memset(&t, 0x5a, sizeof t);
		if (pz_gba_btid_parse(bad[i], strlen(bad[i]), &t, &why) !=
		    PZ_EINVAL)
			fail_msg("accepted or misreported: \"%s\"", bad[i]);
		assert_null(t.server);
		assert_int_equal(t.server_len, 0);
		assert_non_null(why);
		assert_int_equal(strncmp(why, "B-TID: ", 7), 0);
	}
	/* The reasons name what is wrong. */
	for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
		const char *why = NULL;

		assert_int_equal(pz_gba_btid_parse(reasons[i][0],
						   strlen(reasons[i][0]), &t,
						   &why), PZ_EINVAL);
		if (!why || !strstr(why, reasons[i][1]))
			fail_msg("\"%s\": reason \"%s\", not \"%s\"",
				 reasons[i][0], why ? why : "(none)",
				 reasons[i][1]);
	}
	/* A NUL inside is not part of a host name. */
	memcpy(b, "I1U8vpY3qJ0hiuZNrke/NQ==@bsf\0org", 32);
	assert_int_equal(pz_gba_btid_parse(b, 32, &t, NULL), PZ_EINVAL);
	/* A 63-octet label is accepted, 64 is not. */
	memcpy(b, "I1U8vpY3qJ0hiuZNrke/NQ==@", 25);
	memset(b + 25, 'a', 64);
	assert_int_equal(pz_gba_btid_parse(b, 25 + 63, &t, NULL), PZ_OK);
	assert_int_equal(pz_gba_btid_parse(b, 25 + 64, &t, NULL), PZ_EINVAL);
	/* A 253-octet host is accepted; 254 is refused, and past the whole
	 * B-TID's ceiling the answer is PZ_ETOOBIG. */
	for (int i = 0; i < 300; i++)
		b[25 + i] = i % 2 ? '.' : 'a';
	assert_int_equal(pz_gba_btid_parse(b, 25 + 253, &t, &why2), PZ_OK);
	assert_string_equal(why2, "untouched");
	assert_int_equal(t.server_len, 253);
	assert_int_equal(pz_gba_btid_format(t.rand, t.server, 253, b + 300,
					    PZ_GBA_BTID_SIZE, NULL), PZ_OK);
	b[25 + 253] = 'a';
	assert_int_equal(pz_gba_btid_parse(b, 25 + 254, &t, &why2),
			 PZ_ETOOBIG);
	assert_string_equal(why2, "B-TID: longer than 278 octets");
	assert_int_equal(pz_gba_btid_parse(b, 25 + 252, &t, NULL), PZ_EINVAL);
	assert_int_equal(pz_gba_btid_parse(NULL, 30, &t, NULL), PZ_EINVAL);
	assert_int_equal(pz_gba_btid_parse(b, 30, NULL, NULL), PZ_EINVAL);
}

static void test_btid_format_refused(void **state)
{
	static const char *const bad[] = { "", "a.", ".a", "a..b", "-a",
					   "a-", "a_b", "a b", "a@b" };
	uint8_t rand[16] = { 0 };
	char b[PZ_GBA_BTID_SIZE], host[300];

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(pz_gba_btid_format(rand, bad[i],
						    strlen(bad[i]), b,
						    sizeof b, NULL),
				 PZ_EINVAL);
	memset(host, 'a', sizeof host);
	for (int i = 63; i < 300; i += 64)
		host[i] = '.';
	assert_int_equal(pz_gba_btid_format(rand, host, 253, b, sizeof b,
					    NULL), PZ_OK);
	assert_int_equal(strlen(b), PZ_GBA_BTID_MAX);
	assert_int_equal(pz_gba_btid_format(rand, host, 254, b, sizeof b,
					    NULL), PZ_EINVAL);
	assert_int_equal(pz_gba_btid_format(NULL, "a", 1, b, sizeof b, NULL),
			 PZ_EINVAL);
	assert_int_equal(pz_gba_btid_format(rand, NULL, 1, b, sizeof b, NULL),
			 PZ_EINVAL);
	assert_int_equal(pz_gba_btid_format(rand, "a", 1, NULL, 9, NULL),
			 PZ_EINVAL);
}

/* --- AKMA --------------------------------------------------------------- */

static void test_akma_vectors(void **state)
{
	uint8_t ks[32], sqnak[6], kausf[HL], kakma[HL], atid[HL], kaf[HL];
	uint8_t afid[PZ_GBA_NAF_ID_MAX], ref[HL];
	const char *snn = "5G:mnc001.mcc001.3gppnetwork.org";
	struct pz_gba_param p[2] = { { snn, strlen(snn) }, { sqnak, 6 } };
	size_t alen = 0;

	(void)state;
	ks1(ks);
	unhex("55f328b43577", sqnak, 6);
	/* A1: K_AUSF, TS 33.501 A.2 (FC 0x6A). */
	assert_int_equal(pz_gba_kdf(ks, 32, 0x6a, p, 2, kausf, HL), PZ_OK);
	expect_hex(kausf, A1);

	assert_int_equal(pz_gba_akma_kakma(kausf, SUPI, strlen(SUPI), kakma),
			 PZ_OK);
	expect_hex(kakma, A2);
	ref_hmac_hex(kausf, 32, A2_S, ref);
	assert_memory_equal(kakma, ref, HL);

	assert_int_equal(pz_gba_akma_atid(kausf, SUPI, strlen(SUPI), atid),
			 PZ_OK);
	expect_hex(atid, A3);
	ref_hmac_hex(kausf, 32, A3_S, ref);
	assert_memory_equal(atid, ref, HL);

	naf_id("af.example.org", afid, &alen);
	assert_int_equal(alen, 19);
	assert_int_equal(pz_gba_akma_kaf(kakma, afid, alen, kaf), PZ_OK);
	expect_hex(kaf, A4);
	ref_hmac_hex(kakma, 32, A4_S, ref);
	assert_memory_equal(kaf, ref, HL);
}

/* --- oneM2M RSPF -------------------------------------------------------- */

/* HMAC-SHA-256(ke, a || b || c) over one buffer, one-shot. */
static void ref_hmac3(const uint8_t *ke, const char *a, const char *b,
		      const char *c, uint8_t out[HL])
{
	char buf[1024];
	unsigned int olen = 0;
	int n = snprintf(buf, sizeof buf, "%s%s%s", a, b, c);

	assert_true(n > 0 && (size_t)n < sizeof buf);
	assert_non_null(HMAC(EVP_sha256(), ke, 32, (uint8_t *)buf, (size_t)n,
			     out, &olen));
}

static void test_rspf(void **state)
{
	uint8_t exp[48], ke[32], rel[16], out[HL], ref[HL];
	char keid[PZ_GBA_RSPF_KEID_SIZE];
	size_t len = 0;

	(void)state;
	for (int i = 0; i < 48; i++)
		exp[i] = (uint8_t)i;
	assert_int_equal(pz_gba_rspf_ke(exp, ke, rel), PZ_OK);
	assert_memory_equal(rel, exp, 16);
	assert_memory_equal(ke, exp + 16, 32);
	assert_int_equal(pz_gba_rspf_keid(rel, "mef.example.org", 15, keid,
					  sizeof keid, &len), PZ_OK);
	assert_string_equal(keid, "000102030405060708090a0b0c0d0e0f"
			    "@mef.example.org");
	assert_int_equal(len, strlen(keid));
	assert_int_equal(pz_gba_rspf_keid(rel, "mef.example.org", 15, keid,
					  len, NULL), PZ_ETOOBIG);
	assert_string_equal(keid, "");

	assert_int_equal(pz_gba_rspf_kpsa(ke, "CAE-enrolee-1", 13, out), PZ_OK);
	ref_hmac3(ke, "oneM2M Enrolment Key to Provisioned Secure Connection "
		  "Key derivation", "CAE-enrolee-1", "", ref);
	assert_memory_equal(out, ref, HL);
	assert_int_equal(pz_gba_rspf_km(ke, "maf.example.org", 15, out), PZ_OK);
	ref_hmac3(ke, "oneM2M Enrolment Key to Master Credential derivation",
		  "maf.example.org", "", ref);
	assert_memory_equal(out, ref, HL);
	assert_int_equal(pz_gba_rspf_kuc(ke, "2", 1, "/in-cse", 7, out), PZ_OK);
	ref_hmac3(ke, "oneM2M Enrolment Key to Usage-Constrained Symmetric "
		  "Key derivation", "2", "/in-cse", ref);
	assert_memory_equal(out, ref, HL);
}

/* --- bounds ------------------------------------------------------------- */

static void test_kdf_bounds(void **state)
{
	static uint8_t big[PZ_GBA_PARAM_MAX + 1];
	uint8_t key[PZ_GBA_KEY_MAX + 1], out[HL], ref[HL];
	struct pz_gba_param p[PZ_GBA_KDF_MAX_PARAMS + 1];
	unsigned int olen = 0;
	uint8_t *s;

	(void)state;
	memset(key, 0x0b, sizeof key);
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (uint8_t)(i * 7);
	for (int i = 0; i <= PZ_GBA_KDF_MAX_PARAMS; i++) {
		p[i].p = "x";
		p[i].len = 1;
	}
	/* Key lengths 1 and 256 work, 0 and 257 do not. */
	assert_int_equal(pz_gba_kdf(key, 1, 1, p, 1, out, HL), PZ_OK);
	assert_int_equal(pz_gba_kdf(key, PZ_GBA_KEY_MAX, 1, p, 1, out, HL),
			 PZ_OK);
	assert_int_equal(pz_gba_kdf(key, 0, 1, p, 1, out, HL), PZ_EINVAL);
	assert_int_equal(pz_gba_kdf(key, PZ_GBA_KEY_MAX + 1, 1, p, 1, out, HL),
			 PZ_EINVAL);
	/* Output 16 or 32 only. */
	for (size_t ol = 0; ol < 40; ol++)
		if (ol != 16 && ol != 32)
			assert_int_equal(pz_gba_kdf(key, 32, 1, p, 1, out, ol),
					 PZ_EINVAL);
	/* 16 parameters, not 17; none at all is S = FC. */
	assert_int_equal(pz_gba_kdf(key, 32, 1, p, PZ_GBA_KDF_MAX_PARAMS, out,
				    HL), PZ_OK);
	assert_int_equal(pz_gba_kdf(key, 32, 1, p, PZ_GBA_KDF_MAX_PARAMS + 1,
				    out, HL), PZ_EINVAL);
	assert_int_equal(pz_gba_kdf(key, 32, 0x42, NULL, 0, out, HL), PZ_OK);
	ref_hmac_hex(key, 32, "42", ref);
	assert_memory_equal(out, ref, HL);
	/* An empty Pi is allowed (L = 00 00), with or without a pointer. */
	p[0].p = NULL;
	p[0].len = 0;
	assert_int_equal(pz_gba_kdf(key, 32, 0x42, p, 1, out, HL), PZ_OK);
	ref_hmac_hex(key, 32, "420000", ref);
	assert_memory_equal(out, ref, HL);
	/* A NULL Pi with a length, NULL params, key or out. */
	p[0].len = 1;
	assert_int_equal(pz_gba_kdf(key, 32, 1, p, 1, out, HL), PZ_EINVAL);
	assert_int_equal(pz_gba_kdf(key, 32, 1, NULL, 1, out, HL), PZ_EINVAL);
	assert_int_equal(pz_gba_kdf(NULL, 32, 1, NULL, 0, out, HL), PZ_EINVAL);
	assert_int_equal(pz_gba_kdf(key, 32, 1, NULL, 0, NULL, HL), PZ_EINVAL);
	/* A Pi of 65,535 octets (L = ff ff) works; 65,536 does not. */
	p[0].p = big;
	p[0].len = PZ_GBA_PARAM_MAX;
	assert_int_equal(pz_gba_kdf(key, 32, 0x99, p, 1, out, HL), PZ_OK);
	s = malloc(PZ_GBA_PARAM_MAX + 3);
	assert_non_null(s);
	s[0] = 0x99;
	memcpy(s + 1, big, PZ_GBA_PARAM_MAX);
	s[PZ_GBA_PARAM_MAX + 1] = 0xff;
	s[PZ_GBA_PARAM_MAX + 2] = 0xff;
	assert_non_null(HMAC(EVP_sha256(), key, 32, s, PZ_GBA_PARAM_MAX + 3,
			     ref, &olen));
	free(s);
	assert_memory_equal(out, ref, HL);
	p[0].len = PZ_GBA_PARAM_MAX + 1;
	assert_int_equal(pz_gba_kdf(key, 32, 0x99, p, 1, out, HL), PZ_EINVAL);
}

static void test_id_bounds(void **state)
{
	char id[PZ_GBA_ID_MAX + 2];
	uint8_t ks[32] = { 1 }, rand[16] = { 2 }, nid[PZ_GBA_NAF_ID_MAX + 8];
	uint8_t out[HL];
	char fq[PZ_GBA_FQDN_MAX + 2], keid[PZ_GBA_RSPF_KEID_SIZE];
	size_t nlen = 0;

	(void)state;
	memset(id, 'i', sizeof id);
	memset(fq, 'f', sizeof fq);
	/* NAF_Id: FQDN of 1..253 octets; out_size exact or too small. */
	assert_int_equal(pz_gba_naf_id(fq, PZ_GBA_FQDN_MAX, pz_gba_ua_tls13,
				       nid, PZ_GBA_NAF_ID_MAX, &nlen), PZ_OK);
	assert_int_equal(nlen, PZ_GBA_NAF_ID_MAX);
	assert_int_equal(pz_gba_naf_id(fq, PZ_GBA_FQDN_MAX + 1, pz_gba_ua_tls13,
				       nid, sizeof nid, &nlen), PZ_EINVAL);
	assert_int_equal(pz_gba_naf_id(fq, 0, pz_gba_ua_tls13, nid, sizeof nid,
				       &nlen), PZ_EINVAL);
	assert_int_equal(pz_gba_naf_id(fq, 10, pz_gba_ua_tls13, nid, 14,
				       &nlen), PZ_ETOOBIG);
	assert_int_equal(pz_gba_naf_id(fq, 10, NULL, nid, 15, &nlen),
			 PZ_EINVAL);
	assert_int_equal(pz_gba_naf_id(fq, 10, pz_gba_ua_tls13, nid, 15,
				       NULL), PZ_EINVAL);

	/* IMPI 1..255, NAF_Id 6..258. */
	assert_int_equal(pz_gba_ks_naf(ks, rand, id, 1, nid, 6, out), PZ_OK);
	assert_int_equal(pz_gba_ks_naf(ks, rand, id, PZ_GBA_ID_MAX, nid,
				       PZ_GBA_NAF_ID_MAX, out), PZ_OK);
	assert_int_equal(pz_gba_ks_naf(ks, rand, id, 0, nid, 6, out),
			 PZ_EINVAL);
	assert_int_equal(pz_gba_ks_naf(ks, rand, id, PZ_GBA_ID_MAX + 1, nid, 6,
				       out), PZ_EINVAL);
	assert_int_equal(pz_gba_ks_naf(ks, rand, id, 1, nid, 5, out),
			 PZ_EINVAL);
	assert_int_equal(pz_gba_ks_int_naf(ks, rand, id, 1, nid,
					   PZ_GBA_NAF_ID_MAX + 1, out),
			 PZ_EINVAL);
	assert_int_equal(pz_gba_ks_naf(NULL, rand, id, 1, nid, 6, out),
			 PZ_EINVAL);
	assert_int_equal(pz_gba_ks_naf(ks, NULL, id, 1, nid, 6, out),
			 PZ_EINVAL);
	assert_int_equal(pz_gba_ks_naf(ks, rand, NULL, 1, nid, 6, out),
			 PZ_EINVAL);
	assert_int_equal(pz_gba_ks_naf(ks, rand, id, 1, NULL, 6, out),
			 PZ_EINVAL);
	assert_int_equal(pz_gba_ks_naf(ks, rand, id, 1, nid, 6, NULL),
			 PZ_EINVAL);
	assert_int_equal(pz_gba_ks(NULL, ks, out), PZ_EINVAL);

	/* AKMA: SUPI 1..255, AF_ID 6..258. */
	assert_int_equal(pz_gba_akma_kakma(ks, id, PZ_GBA_ID_MAX, out), PZ_OK);
	assert_int_equal(pz_gba_akma_kakma(ks, id, PZ_GBA_ID_MAX + 1, out),
			 PZ_EINVAL);
	assert_int_equal(pz_gba_akma_atid(ks, id, 0, out), PZ_EINVAL);
	assert_int_equal(pz_gba_akma_atid(NULL, id, 1, out), PZ_EINVAL);
	assert_int_equal(pz_gba_akma_kaf(ks, nid, PZ_GBA_NAF_ID_MAX, out),
			 PZ_OK);
	assert_int_equal(pz_gba_akma_kaf(ks, nid, PZ_GBA_NAF_ID_MAX + 1, out),
			 PZ_EINVAL);
	assert_int_equal(pz_gba_akma_kaf(ks, nid, 5, out), PZ_EINVAL);
	assert_int_equal(pz_gba_akma_kaf(ks, nid, 6, NULL), PZ_EINVAL);

	/* RSPF identifiers 1..255; the MEF FQDN 1..253. */
	assert_int_equal(pz_gba_rspf_kpsa(ks, id, PZ_GBA_ID_MAX, out), PZ_OK);
	assert_int_equal(pz_gba_rspf_kpsa(ks, id, PZ_GBA_ID_MAX + 1, out),
			 PZ_EINVAL);
	assert_int_equal(pz_gba_rspf_kpsa(ks, id, 0, out), PZ_EINVAL);
	assert_int_equal(pz_gba_rspf_kpsa(NULL, id, 1, out), PZ_EINVAL);
	assert_int_equal(pz_gba_rspf_km(ks, id, 0, out), PZ_EINVAL);
	assert_int_equal(pz_gba_rspf_km(ks, id, 1, NULL), PZ_EINVAL);
	assert_int_equal(pz_gba_rspf_kuc(ks, id, 1, id, PZ_GBA_ID_MAX + 1, out),
			 PZ_EINVAL);
	assert_int_equal(pz_gba_rspf_kuc(ks, id, 0, id, 1, out), PZ_EINVAL);
	assert_int_equal(pz_gba_rspf_kuc(ks, id, PZ_GBA_ID_MAX, id,
					 PZ_GBA_ID_MAX, out), PZ_OK);
	assert_int_equal(pz_gba_rspf_keid(rand, fq, PZ_GBA_FQDN_MAX, keid,
					  sizeof keid, &nlen), PZ_OK);
	assert_int_equal(nlen, PZ_GBA_RSPF_KEID_MAX);
	assert_int_equal(pz_gba_rspf_keid(rand, fq, PZ_GBA_FQDN_MAX + 1, keid,
					  sizeof keid, NULL), PZ_EINVAL);
	assert_int_equal(pz_gba_rspf_keid(rand, fq, 0, keid, sizeof keid,
					  NULL), PZ_EINVAL);
	assert_int_equal(pz_gba_rspf_ke(NULL, ks, rand), PZ_EINVAL);
}

/* libcrypto allocates through pz_malloc here (see main): each allocation
 * of a derivation fails in turn, cleanly (PZ_ENOMEM, output zeroed). */
static void test_alloc_failure(void **state)
{
	uint8_t ks[32], rand[16], nid[PZ_GBA_NAF_ID_MAX], out[HL], zero[HL];
	size_t nlen = 0;
	unsigned long n;
	int rc = PZ_ENOMEM;

	(void)state;
	ks1(ks);
	unhex(RAND1, rand, 16);
	naf_id("naf.example.org", nid, &nlen);
	memset(zero, 0, sizeof zero);
	for (n = 1; n < 1000; n++) {
		memset(out, 0xa5, sizeof out);
		pz_mem_fail_after(n);
		rc = pz_gba_ks_naf(ks, rand, IMPI, strlen(IMPI), nid, nlen,
				   out);
		pz_mem_fail_after(0);
		if (rc == PZ_OK)
			break;
		assert_int_equal(rc, PZ_ENOMEM);
		assert_memory_equal(out, zero, HL);
	}
	assert_int_equal(rc, PZ_OK);
	expect_hex(out, G1);
	if (n < 2)
		fail_msg("no allocation to fail");
}

static void *t_crypto_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return pz_malloc(n);
}

static void *t_crypto_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return pz_realloc(p, n);
}

static void t_crypto_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	pz_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_p1_rfc5448),
		cmocka_unit_test(test_p2_p3_from_milenage),
		cmocka_unit_test(test_gba_vectors),
		cmocka_unit_test(test_ua_ids),
		cmocka_unit_test(test_btid_vector),
		cmocka_unit_test(test_btid_round_trip),
		cmocka_unit_test(test_btid_parse_refused),
		cmocka_unit_test(test_btid_format_refused),
		cmocka_unit_test(test_akma_vectors),
		cmocka_unit_test(test_rspf),
		cmocka_unit_test(test_kdf_bounds),
		cmocka_unit_test(test_id_bounds),
		cmocka_unit_test(test_alloc_failure),
	};

	if (!CRYPTO_set_mem_functions(t_crypto_malloc, t_crypto_realloc,
				      t_crypto_free)) {
		fprintf(stderr, "CRYPTO_set_mem_functions refused\n");
		return 1;
	}
	/* PZ_TEST=pattern runs only the matching tests (docs/testing.md). */
	if (getenv("PZ_TEST"))
		cmocka_set_test_filter(getenv("PZ_TEST"));
	return cmocka_run_group_tests_name("gba", tests, NULL, NULL);
}
