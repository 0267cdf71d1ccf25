/*
 * test_bsf.c - plaza's BSF (pz_bsf.h) on a real core and SQLite store,
 * without HTTP: challenges, answers, replays, resynchronisation, unknown
 * IMPIs, the waiting-challenge table, Zn, the NAF's refusals
 * (pz_naf.h; its success path needs a trust log and is in
 * tests/it/test_naf.py), configuration errors and allocation failure.  The device side here uses plaza's own Milenage and
 * Digest code; tests/it/test_bsf.py does the same against an independent
 * Python UE over HTTP.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "plaza/pz_b64.h"
#include "plaza/pz_bsf.h"
#include "plaza/pz_core.h"
#include "plaza/pz_digest.h"
#include "plaza/pz_err.h"
#include "plaza/pz_gba.h"
#include "plaza/pz_log.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_milenage.h"
#include "plaza/pz_naf.h"

#define UB "/.plaza/bsf/ub"
#define IMPI "001010000000001@ims.example"
#define NAME "bsf.example.org"

static const uint8_t K[16] = { 0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4,
			       0x9f, 0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38,
			       0xa6, 0xbc };
static const uint8_t OPC[16] = { 0xcd, 0x63, 0xcb, 0x71, 0x95, 0x4a, 0x9f,
				 0x4e, 0x48, 0xa5, 0x99, 0x4e, 0x37, 0xa0,
				 0x2b, 0xaf };

struct fx {
	char dir[64], path[96];
	pz_loop *loop;
	pz_store *st;
	pz_core *core;
	pz_bsf *bsf;
};

static int fx_bsf(struct fx *f, unsigned max_pending)
{
	struct pz_bsf_conf bc = { NAME, 3600, 300, max_pending };

	pz_bsf_free(f->bsf);
	f->bsf = NULL;
	return pz_bsf_new(&bc, f->core, &f->bsf);
}

static int setup(void **state)
{
	struct pz_core_conf conf = { .cse_id = "plaza-in", .cse_name = "plaza",
				     .sp_id = "plaza.example",
				     .admin = "CAdmin" };
	struct pz_store_sub sub;
	struct fx *f = calloc(1, sizeof(*f));
	char url[128], err[200];

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/pz-bsf-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
	snprintf(url, sizeof(url), "sqlite:%s", f->path);
	if (pz_loop_new(&f->loop) != PZ_OK ||
	    pz_store_open(url, NULL, &f->st) != PZ_OK ||
	    pz_core_new(&conf, f->st, f->loop, &f->core) != PZ_OK ||
	    fx_bsf(f, 64) != PZ_OK)
		return -1;
	memset(&sub, 0, sizeof(sub));
	snprintf(sub.impi, sizeof(sub.impi), IMPI);
	memcpy(sub.k, K, 16);
	memcpy(sub.opc, OPC, 16);
	sub.amf[0] = 0x80;
	sub.sqn = 100;
	if (pz_core_sub_add(f->core, &sub, err, sizeof(err)) != PZ_OK)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	static const char *const sfx[] = { "", "-wal", "-shm" };
	struct fx *f = *state;
	char p[160];

	pz_bsf_free(f->bsf);
	pz_core_free(f->core);
	pz_store_close(f->st);
	pz_loop_free(f->loop);
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", f->path, sfx[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

/* One Ub request with Authorization auth; the answer into *out. */
static int ub(struct fx *f, const char *auth, struct pz_bsf_ub_out *out)
{
	struct pz_bsf_ub_in in = { "GET", UB, auth, NULL, 0 };

	pz_bsf_ub_out_free(out);
	return pz_bsf_ub(f->bsf, &in, out);
}

static int first(struct fx *f, const char *impi, struct pz_bsf_ub_out *out)
{
	char a[600];

	snprintf(a, sizeof(a), "Digest username=\"%s\", realm=\"" NAME "\", "
		 "nonce=\"\", uri=\"" UB "\", response=\"\"", impi);
	return ub(f, a, out);
}

/* What the USIM makes of a challenge. */
struct ue {
	struct pz_digest ch;
	uint8_t rand[16], sqn[6], res[8], ck[16], ik[16];
	bool mac_ok;
};

static void ue_read(const struct pz_bsf_ub_out *out, const uint8_t *k,
		    struct ue *u)
{
	struct pz_milenage m;
	uint8_t raw[64], ak[6], mac[8];

	assert_int_equal(out->status, 401);
	assert_string_equal(out->hname, "WWW-Authenticate");
	assert_int_equal(pz_digest_parse(PZ_DIGEST_CHALLENGE, out->hvalue,
					 strlen(out->hvalue), &u->ch, NULL),
			 PZ_OK);
	assert_string_equal(u->ch.qop, "auth-int");
	assert_string_equal(u->ch.algorithm, "AKAv1-MD5");
	assert_string_equal(u->ch.realm, NAME);
	assert_int_equal(pz_b64_decode(u->ch.nonce, raw, sizeof(raw)), 40);
	memcpy(u->rand, raw, 16);
	assert_int_equal(pz_milenage_init(&m, k, 16, OPC, 16), PZ_OK);
	assert_int_equal(pz_milenage_f2345(&m, u->rand, u->res, u->ck, u->ik,
					   ak), PZ_OK);
	for (int i = 0; i < 6; i++)
		u->sqn[i] = raw[16 + i] ^ ak[i];
	assert_int_equal(pz_milenage_f1(&m, u->rand, u->sqn, raw + 22, mac),
			 PZ_OK);
	u->mac_ok = !memcmp(mac, raw + 24, 8);
	pz_milenage_done(&m);
}

static uint64_t sqn_of(const struct ue *u)
{
	uint64_t v = 0;

	for (int i = 0; i < 6; i++)
		v = v << 8 | u->sqn[i];
	return v;
}

/* The answer of u as an Authorization header into buf. */
static void ue_answer(const struct ue *u, const char *impi, char *buf,
		      size_t size)
{
	struct pz_digest a;

	memset(&a, 0, sizeof(a));
	a.have = PZ_DF_USERNAME | PZ_DF_REALM | PZ_DF_NONCE | PZ_DF_URI |
		 PZ_DF_RESPONSE | PZ_DF_QOP | PZ_DF_NC | PZ_DF_CNONCE |
		 PZ_DF_ALGORITHM;
	snprintf(a.username, sizeof(a.username), "%s", impi);
	snprintf(a.realm, sizeof(a.realm), "%s", u->ch.realm);
	snprintf(a.nonce, sizeof(a.nonce), "%s", u->ch.nonce);
	snprintf(a.uri, sizeof(a.uri), UB);
	snprintf(a.qop, sizeof(a.qop), "auth-int");
	snprintf(a.nc, sizeof(a.nc), "00000001");
	snprintf(a.cnonce, sizeof(a.cnonce), "c1");
	snprintf(a.algorithm, sizeof(a.algorithm), "AKAv1-MD5");
	assert_int_equal(pz_digest_response(&a, u->res, 8, "GET", NULL, 0,
					    a.response), PZ_OK);
	assert_int_equal(pz_digest_write(PZ_DIGEST_AUTH, &a, buf, size, NULL),
			 PZ_OK);
}

static void test_bootstrap_and_zn(void **state)
{
	struct fx *f = *state;
	struct pz_bsf_ub_out out = { 0 };
	struct pz_bsf_zn z;
	struct ue u;
	uint8_t ks[32], want[32], naf[64];
	char a[2048], btid[PZ_GBA_BTID_SIZE], *p;
	size_t nlen;

	assert_int_equal(first(f, IMPI, &out), 401);
	ue_read(&out, K, &u);
	assert_true(u.mac_ok);
	assert_int_equal(sqn_of(&u), 101);
	ue_answer(&u, IMPI, a, sizeof(a));
	assert_int_equal(ub(f, a, &out), 200);
	assert_string_equal(out.hname, "Authentication-Info");
	assert_non_null(strstr(out.hvalue, "rspauth=\""));
	assert_int_equal(pz_gba_btid_format(u.rand, NAME, strlen(NAME), btid,
					    sizeof(btid), NULL), PZ_OK);
	p = strstr(out.body, "<btid>");
	assert_non_null(p);
	assert_memory_equal(p + 6, btid, strlen(btid));
	/* Zn: Ks_NAF from Ks = CK || IK. */
	assert_int_equal(pz_gba_naf_id("naf.example.org", 15,
				       pz_gba_ua_psk_ccm8, naf, sizeof(naf),
				       &nlen), PZ_OK);
	assert_int_equal(pz_bsf_zn(f->bsf, btid, naf, nlen, &z), PZ_OK);
	memcpy(ks, u.ck, 16);
	memcpy(ks + 16, u.ik, 16);
	assert_int_equal(pz_gba_ks_naf(ks, u.rand, IMPI, strlen(IMPI), naf,
				       nlen, want), PZ_OK);
	assert_memory_equal(z.ks_naf, want, 32);
	assert_string_equal(z.impi, IMPI);
	assert_int_equal(pz_bsf_zn(f->bsf, "x@y", naf, nlen, &z),
			 PZ_ENOTFOUND);
	assert_int_equal(pz_bsf_zn(f->bsf, btid, naf, 5, &z), PZ_EINVAL);
	/* The answer again: the nonce is used up, a fresh challenge comes
	 * with SQN 102 (101 was stored), and the next one 103. */
	assert_int_equal(ub(f, a, &out), 401);
	ue_read(&out, K, &u);
	assert_int_equal(sqn_of(&u), 102);
	assert_int_equal(first(f, IMPI, &out), 401);
	ue_read(&out, K, &u);
	assert_int_equal(sqn_of(&u), 103);
	pz_bsf_ub_out_free(&out);
}

/* A wrong RES uses the nonce up; the right one after it fails. */
static void test_wrong_answer(void **state)
{
	struct fx *f = *state;
	struct pz_bsf_ub_out out = { 0 };
	struct ue u, bad;
	uint8_t k2[16];
	char a[2048];

	memcpy(k2, K, 16);
	k2[0] ^= 1;
	assert_int_equal(first(f, IMPI, &out), 401);
	ue_read(&out, K, &u);
	ue_read(&out, k2, &bad);
	assert_false(bad.mac_ok);
	ue_answer(&bad, IMPI, a, sizeof(a));
	assert_int_equal(ub(f, a, &out), 401);
	ue_answer(&u, IMPI, a, sizeof(a));
	assert_int_equal(ub(f, a, &out), 401);
	/* Another IMPI answering someone's challenge: a fresh challenge. */
	assert_int_equal(first(f, IMPI, &out), 401);
	ue_read(&out, K, &u);
	ue_answer(&u, "other@ims.example", a, sizeof(a));
	assert_int_equal(ub(f, a, &out), 401);
	pz_bsf_ub_out_free(&out);
}

/* Unknown IMPIs: the same answer, a vector that looks real, never 200. */
static void test_unknown_impi(void **state)
{
	struct fx *f = *state;
	struct pz_bsf_ub_out k1 = { 0 }, u1 = { 0 }, out = { 0 };
	struct ue u;
	char a[2048], *n1, *n2;

	assert_int_equal(first(f, IMPI, &k1), 401);
	assert_int_equal(first(f, "ghost@ims.example", &u1), 401);
	assert_string_equal(k1.body, u1.body);
	assert_string_equal(k1.ctype, u1.ctype);
	assert_string_equal(k1.hname, u1.hname);
	assert_int_equal(strlen(k1.hvalue), strlen(u1.hvalue));
	n1 = strstr(k1.hvalue, "nonce=");
	n2 = strstr(u1.hvalue, "nonce=");
	assert_memory_equal(k1.hvalue, u1.hvalue, (size_t)(n1 - k1.hvalue));
	assert_string_equal(strchr(n1 + 7, '"'), strchr(n2 + 7, '"'));
	/* An answer with any K fails. */
	ue_read(&u1, K, &u);
	ue_answer(&u, "ghost@ims.example", a, sizeof(a));
	assert_int_equal(ub(f, a, &out), 401);
	pz_bsf_ub_out_free(&k1);
	pz_bsf_ub_out_free(&u1);
	pz_bsf_ub_out_free(&out);
}

/* AUTS with SQN_MS 5000: stored, the next challenge is 5001. */
static void test_resync(void **state)
{
	static const uint8_t amf0[2];
	struct fx *f = *state;
	struct pz_bsf_ub_out out = { 0 };
	struct pz_milenage m;
	struct pz_store_sub sub;
	struct ue u;
	uint8_t ms[6] = { 0, 0, 0, 0, 0x13, 0x88 }, aks[6], auts[14];
	char a[2048], b64[32];

	assert_int_equal(first(f, IMPI, &out), 401);
	ue_read(&out, K, &u);
	assert_int_equal(pz_milenage_init(&m, K, 16, OPC, 16), PZ_OK);
	assert_int_equal(pz_milenage_f5star(&m, u.rand, aks), PZ_OK);
	assert_int_equal(pz_milenage_f1star(&m, u.rand, ms, amf0, auts + 6),
			 PZ_OK);
	pz_milenage_done(&m);
	for (int i = 0; i < 6; i++)
		auts[i] = ms[i] ^ aks[i];
	/* A forged AUTS first: nothing stored, a fresh challenge. */
	auts[13] ^= 1;
	pz_b64_encode(auts, 14, b64, 0);
	snprintf(a, sizeof(a), "Digest username=\"" IMPI "\", nonce=\"%s\", "
		 "auts=\"%s\"", u.ch.nonce, b64);
	assert_int_equal(ub(f, a, &out), 401);
	assert_int_equal(pz_core_sub_get(f->core, IMPI, &sub), PZ_OK);
	assert_int_equal(sub.sqn, 100);
	/* The genuine AUTS for the new challenge's RAND. */
	ue_read(&out, K, &u);
	assert_int_equal(pz_milenage_init(&m, K, 16, OPC, 16), PZ_OK);
	assert_int_equal(pz_milenage_f5star(&m, u.rand, aks), PZ_OK);
	assert_int_equal(pz_milenage_f1star(&m, u.rand, ms, amf0, auts + 6),
			 PZ_OK);
	pz_milenage_done(&m);
	for (int i = 0; i < 6; i++)
		auts[i] = ms[i] ^ aks[i];
	pz_b64_encode(auts, 14, b64, 0);
	snprintf(a, sizeof(a), "Digest username=\"" IMPI "\", nonce=\"%s\", "
		 "auts=\"%s\"", u.ch.nonce, b64);
	assert_int_equal(ub(f, a, &out), 401);
	assert_int_equal(pz_core_sub_get(f->core, IMPI, &sub), PZ_OK);
	assert_int_equal(sub.sqn, 5000);
	ue_read(&out, K, &u);
	assert_int_equal(sqn_of(&u), 5001);
	/* An AUTS that is not 14 octets of base64. */
	snprintf(a, sizeof(a), "Digest username=\"" IMPI "\", nonce=\"%s\", "
		 "auts=\"AAAA\"", u.ch.nonce);
	assert_int_equal(ub(f, a, &out), 400);
	pz_bsf_ub_out_free(&out);
}

/* The table keeps max_pending challenges; the oldest goes first.  Two
 * waiting challenges of one IMPI have increasing SQNs. */
static void test_pending_table(void **state)
{
	struct fx *f = *state;
	struct pz_bsf_ub_out out = { 0 };
	struct ue u1, u2, u3;
	char a[2048];

	assert_int_equal(fx_bsf(f, 2), PZ_OK);
	assert_int_equal(first(f, IMPI, &out), 401);
	ue_read(&out, K, &u1);
	assert_int_equal(first(f, IMPI, &out), 401);
	ue_read(&out, K, &u2);
	assert_int_equal(sqn_of(&u2), sqn_of(&u1) + 1);
	assert_int_equal(first(f, IMPI, &out), 401);
	ue_read(&out, K, &u3);
	ue_answer(&u3, IMPI, a, sizeof(a));
	assert_int_equal(ub(f, a, &out), 200);
	ue_answer(&u2, IMPI, a, sizeof(a));
	assert_int_equal(ub(f, a, &out), 200);  /* SQN stays at u3's */
	ue_answer(&u1, IMPI, a, sizeof(a));
	assert_int_equal(ub(f, a, &out), 401);  /* evicted by u3 */
	pz_bsf_ub_out_free(&out);
}

static void test_refusals(void **state)
{
	struct fx *f = *state;
	struct pz_bsf_ub_out out = { 0 };
	struct pz_bsf_ub_in in = { "PUT", UB, "Digest username=a", NULL, 0 };
	struct pz_bsf_conf bc = { "not a host", 1, 1, 1 };
	pz_bsf *b = NULL;
	char a[400];

	assert_int_equal(pz_bsf_ub(f->bsf, &in, &out), 405);
	assert_int_equal(ub(f, NULL, &out), 400);
	assert_int_equal(ub(f, "Basic eA==", &out), 400);
	assert_int_equal(ub(f, "Digest realm=x", &out), 400);
	assert_int_equal(ub(f, "Digest username=\"\"", &out), 400);
	/* An answer without qop / with another qop / bad nc. */
	assert_int_equal(ub(f, "Digest username=a, realm=r, nonce=n, uri=u, "
			    "response=\"0123456789abcdef0123456789abcdef\"",
			    &out), 400);
	assert_int_equal(ub(f, "Digest username=a, realm=r, nonce=n, uri=u, "
			    "qop=auth, nc=00000001, cnonce=c, "
			    "response=\"0123456789abcdef0123456789abcdef\"",
			    &out), 400);
	assert_int_equal(ub(f, "Digest username=a, realm=r, nonce=n, uri=u, "
			    "qop=auth-int, nc=1, cnonce=c, "
			    "response=\"0123456789abcdef0123456789abcdef\"",
			    &out), 400);
	assert_non_null(strstr(out.body, "nc must be"));
	assert_int_equal(ub(f, "Digest username=a, realm=r, nonce=n, uri=u, "
			    "qop=auth-int, nc=00000001, cnonce=c, "
			    "response=\"0123456789abcdef0123456789abcdeg\"",
			    &out), 400);
	assert_non_null(strstr(out.body, "response must be"));
	/* 255 octets is an IMPI, 256 is not. */
	memset(a, 'i', 255);
	a[255] = '\0';
	assert_int_equal(first(f, a, &out), 401);
	memset(a, 'i', 256);
	a[256] = '\0';
	assert_int_equal(first(f, a, &out), 400);
	pz_bsf_ub_out_free(&out);
	assert_int_equal(pz_bsf_new(&bc, f->core, &b), PZ_EINVAL);
	bc.name = NAME;
	bc.max_pending = 0;
	assert_int_equal(pz_bsf_new(&bc, f->core, &b), PZ_EINVAL);
	bc.max_pending = 1;
	bc.lifetime_s = 0;
	assert_int_equal(pz_bsf_new(&bc, f->core, &b), PZ_EINVAL);
	assert_int_equal(pz_bsf_new(NULL, f->core, &b), PZ_EINVAL);
	pz_bsf_free(NULL);
	pz_bsf_ub_out_free(NULL);
}

/* Each allocation failing in turn during a full exchange: an error
 * status or success, never a crash or a leak. */
static void test_alloc_failure(void **state)
{
	struct fx *f = *state;
	struct pz_bsf_ub_out out = { 0 };
	struct ue u;
	char a[2048];
	int st, failed = 0;

	for (unsigned long n = 1; n < 200; n++) {
		assert_int_equal(first(f, IMPI, &out), 401);
		ue_read(&out, K, &u);
		ue_answer(&u, IMPI, a, sizeof(a));
		pz_mem_fail_after(n);   /* counts from here */
		st = ub(f, a, &out);
		pz_mem_fail_after(0);
		assert_true(st == 200 || st == 500 || st == 401);
		failed += st != 200;
		if (st == 200 && n > 20)
			break;
	}
	assert_true(failed > 0);
	/* The same for a challenge, known and unknown. */
	for (unsigned long n = 1; n < 10; n++) {
		pz_mem_fail_after(n);
		st = first(f, n % 2 ? IMPI : "ghost@ims.example", &out);
		pz_mem_fail_after(0);
		assert_true(st == 401 || st == 500);
	}
	pz_bsf_ub_out_free(&out);
}

/* The NAF: a B-TID of a subscriber without a device, malformed, unknown
 * and unsupported identities are refused with a reason, the key zeroed. */
static void test_naf_refusals(void **state)
{
	struct fx *f = *state;
	struct pz_bsf_ub_out out = { 0 };
	struct ue u;
	pz_naf *naf = NULL;
	uint8_t key[PZ_GBA_KS_LEN], zero[PZ_GBA_KS_LEN] = { 0 };
	char a[2048], id[400], orig[64];
	const char *why;
	size_t n;

	assert_int_equal(pz_naf_new("", f->bsf, f->core, &naf), PZ_EINVAL);
	assert_null(naf);
	assert_int_equal(pz_naf_new("naf.example.org", f->bsf, f->core,
				    &naf), PZ_OK);
	assert_true(pz_naf_claims("3GPP-bootstrapping-uicc"));
	assert_false(pz_naf_claims("3GPP-AKMA"));
	assert_int_equal(first(f, IMPI, &out), 401);
	ue_read(&out, K, &u);
	ue_answer(&u, IMPI, a, sizeof(a));
	assert_int_equal(ub(f, a, &out), 200);
	n = (size_t)snprintf(id, sizeof(id), PZ_NAF_PREFIX);
	assert_int_equal(pz_gba_btid_format(u.rand, NAME, strlen(NAME),
					    id + n, sizeof(id) - n, NULL),
			 PZ_OK);
	memset(key, 0xff, sizeof(key));
	why = NULL;
	assert_int_equal(pz_naf_psk(naf, id, key, orig, sizeof(orig), &why),
			 PZ_EPERM);
	assert_string_equal(why, "the subscriber has no device in the "
			    "trust repository");
	assert_memory_equal(key, zero, sizeof(key));
	assert_string_equal(orig, "");
	assert_int_equal(pz_naf_psk(naf, "3GPP-bootstrappingAAAAAAAAAAAAAAAA"
				    "AAAAAA==@" NAME, key, orig, sizeof(orig),
				    &why), PZ_ENOTFOUND);
	assert_string_equal(why, "unknown or expired B-TID");
	assert_int_equal(pz_naf_psk(naf, "3GPP-bootstrappingx@y", key, orig,
				    sizeof(orig), &why), PZ_EINVAL);
	assert_non_null(strstr(why, "B-TID"));
	assert_int_equal(pz_naf_psk(naf, "3GPP-bootstrapping-uicc", key, orig,
				    sizeof(orig), &why), PZ_EINVAL);
	assert_int_equal(pz_naf_psk(naf, "id-1", key, orig, sizeof(orig),
				    NULL), PZ_ENOTFOUND);
	assert_memory_equal(key, zero, sizeof(key));
	pz_naf_free(naf);
	pz_bsf_ub_out_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bootstrap_and_zn, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_wrong_answer, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unknown_impi, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_resync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_table, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_naf_refusals, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_alloc_failure, setup,
						teardown),
	};

	if (getenv("PZ_TEST"))
		cmocka_set_test_filter(getenv("PZ_TEST"));
	json_set_alloc_funcs(pz_malloc, pz_free);
	pz_log_set_level("error");
	pz_log_open("/dev/null");
	return cmocka_run_group_tests_name("bsf", tests, NULL, NULL);
}
