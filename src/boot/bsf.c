/*
 * bsf.c - plaza's BSF: the Ub interface (HTTP Digest AKA, RFC 3310 over
 * RFC 2617, TS 24.109) issuing B-TIDs, and the Zn-style key request.  See
 * pz_bsf.h for the exchange and docs/bootstrap.md for the sequence.
 *
 * Challenges wait in a fixed table (conf.max_pending slots, the oldest
 * overwritten first), found by their nonce; an answer consumes its
 * challenge whatever the outcome, so a nonce is good for one try.
 *
 * Existence of a subscriber is not revealed: an unknown IMPI is
 * challenged with a vector computed, exactly as for a real one, from K,
 * OPc and SQN derived under a per-process random key from the IMPI; the
 * answer is the same 401 with the same headers and body, and nothing is
 * written for either until an answer verifies.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "plaza/pz_b64.h"
#include "plaza/pz_bsf.h"
#include "plaza/pz_digest.h"
#include "plaza/pz_err.h"
#include "plaza/pz_gba.h"
#include "plaza/pz_log.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_milenage.h"
#include "plaza/pz_time.h"

#define BSF_SERVER_LEN 8                     /* server data in the nonce */
#define BSF_NONCE_RAW (16 + 16 + BSF_SERVER_LEN)
#define BSF_NONCE_B64 (4 * ((BSF_NONCE_RAW + 2) / 3))
#define BSF_AUTS_LEN 14                      /* SQN_MS ^ AK* || MAC-S */
#define BSF_ALGORITHM "AKAv1-MD5"
#define BSF_CTYPE_XML "application/vnd.3gpp.bsf+xml"

/* One challenge waiting for its answer. */
struct bsf_pending {
	bool used;                               /* slot holds a challenge */
	bool known;                              /* IMPI is a subscriber */
	char nonce[BSF_NONCE_B64 + 1];           /* as sent */
	char impi[PZ_DIGEST_USER_MAX + 1];
	uint64_t tag;                            /* of impi, bsf_subject */
	uint8_t rand[PZ_MILENAGE_RAND_LEN];
	uint8_t xres[PZ_MILENAGE_RES_LEN];       /* secret */
	uint8_t ck[PZ_MILENAGE_CK_LEN];          /* secret */
	uint8_t ik[PZ_MILENAGE_IK_LEN];          /* secret */
	uint64_t sqn;                            /* of its AUTN */
	int64_t born;                            /* microseconds */
};

struct pz_bsf {
	pz_core *core;                           /* borrowed */
	char name[PZ_GBA_FQDN_MAX + 1];          /* realm, B-TID domain */
	int64_t lifetime_s;
	int64_t challenge_s;
	unsigned max_pending;
	unsigned next;                           /* slot written next */
	struct bsf_pending *pending;             /* max_pending slots */
	uint8_t dummy_key[32];                   /* for unknown IMPIs */
};

/* Everything one challenge needs about its IMPI. */
struct bsf_subject {
	bool known;
	uint8_t k[16], opc[16], amf[2];          /* secrets */
	uint64_t sqn;                            /* highest issued */
	uint64_t tag;                            /* keyed hash of the IMPI */
};

static void bsf_wipe_subject(struct bsf_subject *s)
{
	OPENSSL_cleanse(s, sizeof(*s));
}

int pz_bsf_new(const struct pz_bsf_conf *conf, pz_core *core, pz_bsf **out)
{
	uint8_t r[16] = { 0 };
	char btid[PZ_GBA_BTID_SIZE];
	pz_bsf *b;
	size_t n;

	if (!conf || !core || !out || !conf->name || conf->lifetime_s < 1 ||
	    conf->challenge_s < 1 || conf->max_pending < 1 ||
	    conf->max_pending > 1000000)
		return PZ_EINVAL;
	n = strlen(conf->name);
	/* The name must make valid B-TIDs. */
	if (n > PZ_GBA_FQDN_MAX || pz_gba_btid_format(r, conf->name, n, btid,
						       sizeof(btid), NULL))
		return PZ_EINVAL;
	b = pz_calloc(1, sizeof(*b));
	if (!b)
		return PZ_ENOMEM;
	b->pending = pz_calloc(conf->max_pending, sizeof(*b->pending));
	if (!b->pending) {
		pz_free(b);
		return PZ_ENOMEM;
	}
	if (pz_core_random(b->dummy_key, sizeof(b->dummy_key)) != PZ_OK) {
		pz_bsf_free(b);
		return PZ_EIO;
	}
	memcpy(b->name, conf->name, n + 1);
	b->core = core;
	b->lifetime_s = conf->lifetime_s;
	b->challenge_s = conf->challenge_s;
	b->max_pending = conf->max_pending;
	*out = b;
	return PZ_OK;
}

void pz_bsf_free(pz_bsf *bsf)
{
	if (!bsf)
		return;
	OPENSSL_cleanse(bsf->pending, bsf->max_pending *
			sizeof(*bsf->pending));
	pz_free(bsf->pending);
	OPENSSL_cleanse(bsf, sizeof(*bsf));
	pz_free(bsf);
}

void pz_bsf_ub_out_free(struct pz_bsf_ub_out *out)
{
	if (!out)
		return;
	pz_free(out->hvalue);
	pz_free(out->body);
	memset(out, 0, sizeof(*out));
}

static void bsf_sqn_put(uint64_t sqn, uint8_t out[6])
{
	for (int i = 5; i >= 0; i--, sqn >>= 8)
		out[i] = (uint8_t)sqn;
}

static uint64_t bsf_sqn_get(const uint8_t in[6])
{
	uint64_t v = 0;

	for (int i = 0; i < 6; i++)
		v = v << 8 | in[i];
	return v;
}

/*
 * What to challenge impi with: the subscriber's secrets, or for an
 * unknown IMPI ones derived from it under the dummy key.  Both paths
 * read the store and compute the HMAC.
 */
static int bsf_subject(pz_bsf *b, const char *impi, struct bsf_subject *s)
{
	struct pz_store_sub sub;
	uint8_t d[32];
	unsigned dl = 0;
	int rc;

	memset(s, 0, sizeof(*s));
	if (!HMAC(EVP_sha256(), b->dummy_key, sizeof(b->dummy_key),
		  (const uint8_t *)impi, strlen(impi), d, &dl) || dl != 32)
		return PZ_ENOMEM;
	for (int i = 0; i < 8; i++)
		s->tag = s->tag << 8 | d[24 + i];
	rc = pz_core_sub_get(b->core, impi, &sub);
	if (rc == PZ_OK) {
		s->known = true;
		memcpy(s->k, sub.k, 16);
		memcpy(s->opc, sub.opc, 16);
		memcpy(s->amf, sub.amf, 2);
		s->sqn = sub.sqn;
	} else if (rc == PZ_ENOTFOUND) {
		memcpy(s->k, d, 16);
		memcpy(s->opc, d + 16, 16);
		s->amf[0] = 0x80;
		/* A plausible, stable SQN: 32 bits of the derivation. */
		s->sqn = (uint64_t)d[0] << 24 | (uint64_t)d[1] << 16 |
			 (uint64_t)d[2] << 8 | d[3];
		rc = PZ_OK;
	}
	OPENSSL_cleanse(&sub, sizeof(sub));
	OPENSSL_cleanse(d, sizeof(d));
	return rc;
}

static bool bsf_live(const pz_bsf *b, const struct bsf_pending *p,
		     int64_t now)
{
	return p->used && now - p->born <= b->challenge_s * 1000000;
}

/* The highest SQN of impi's waiting challenges (tag: its keyed hash), or
 * sqn if higher.  Every slot costs one integer comparison whatever its
 * state or SQN, so the scan costs the same for a subscriber and for an
 * unknown IMPI; names are compared only where the tags match. */
static uint64_t bsf_sqn_pending(const pz_bsf *b, const char *impi,
				uint64_t tag, uint64_t sqn, int64_t now)
{
	for (unsigned i = 0; i < b->max_pending; i++) {
		const struct bsf_pending *p = &b->pending[i];

		if (p->tag == tag && bsf_live(b, p, now) && p->sqn > sqn &&
		    !strcmp(p->impi, impi))
			sqn = p->sqn;
	}
	return sqn;
}

static struct bsf_pending *bsf_find(pz_bsf *b, const char *nonce,
				    int64_t now)
{
	for (unsigned i = 0; i < b->max_pending; i++) {
		struct bsf_pending *p = &b->pending[i];

		if (bsf_live(b, p, now) && !strcmp(p->nonce, nonce))
			return p;
	}
	return NULL;
}

/* Fill out with a JSON error body of status (why: static, no quotes),
 * replacing any body; a 401 keeps its challenge header, others drop it. */
static int bsf_error(struct pz_bsf_ub_out *out, int status, const char *why)
{
	char buf[256];

	pz_free(out->body);
	out->body = NULL;
	if (status != 401) {
		pz_free(out->hvalue);
		out->hvalue = NULL;
		out->hname = NULL;
	}
	snprintf(buf, sizeof(buf), "{\"error\": \"%s\"}", why);
	out->status = status;
	out->ctype = "application/json";
	out->body = pz_strdup(buf);
	return out->body ? status : (out->status = 500);
}

/*
 * A fresh challenge for impi into out (401 with WWW-Authenticate).
 * sqn_floor: the SQN the next vector must exceed, besides the stored and
 * pending ones (resynchronisation); 0 for none.
 */
static int bsf_challenge(pz_bsf *b, const char *impi, uint64_t sqn_floor,
			 struct pz_bsf_ub_out *out)
{
	struct bsf_subject s;
	struct pz_milenage m;
	struct pz_milenage_out v;
	struct pz_digest ch;
	struct bsf_pending *p;
	uint8_t raw[BSF_NONCE_RAW], sqnb[6];
	int64_t now = pz_time_now();
	uint64_t sqn;
	int rc;

	memset(&ch, 0, sizeof(ch));
	rc = bsf_subject(b, impi, &s);
	if (rc != PZ_OK)
		return bsf_error(out, 500, "BSF: cannot read the subscriber");
	sqn = bsf_sqn_pending(b, impi, s.tag, s.sqn > sqn_floor ? s.sqn :
			      sqn_floor, now) + 1;
	if (sqn > PZ_STORE_SQN_MAX)
		sqn = 1;   /* wrapped: the UE will resynchronise */
	bsf_sqn_put(sqn, sqnb);
	rc = pz_core_random(raw, sizeof(raw));
	if (rc == PZ_OK)
		rc = pz_milenage_init(&m, s.k, 16, s.opc, 16);
	if (rc == PZ_OK) {
		rc = pz_milenage_vector(&m, raw, sqnb, s.amf, &v);
		pz_milenage_done(&m);
	}
	if (rc != PZ_OK) {
		bsf_wipe_subject(&s);
		return bsf_error(out, 500, "BSF: cannot compute a vector");
	}
	/* AUTN = SQN xor AK || AMF || MAC-A, after RAND in the nonce. */
	for (int i = 0; i < 6; i++)
		raw[16 + i] = sqnb[i] ^ v.ak[i];
	memcpy(raw + 22, s.amf, 2);
	memcpy(raw + 24, v.mac_a, 8);
	p = &b->pending[b->next];
	b->next = (b->next + 1) % b->max_pending;
	OPENSSL_cleanse(p, sizeof(*p));
	p->used = true;
	p->known = s.known;
	pz_b64_encode(raw, sizeof(raw), p->nonce, 0);
	snprintf(p->impi, sizeof(p->impi), "%s", impi);
	p->tag = s.tag;
	memcpy(p->rand, raw, 16);
	memcpy(p->xres, v.res, sizeof(p->xres));
	memcpy(p->ck, v.ck, sizeof(p->ck));
	memcpy(p->ik, v.ik, sizeof(p->ik));
	p->sqn = sqn;
	p->born = now;
	bsf_wipe_subject(&s);
	OPENSSL_cleanse(&v, sizeof(v));
	ch.have = PZ_DF_REALM | PZ_DF_NONCE | PZ_DF_QOP | PZ_DF_ALGORITHM;
	snprintf(ch.realm, sizeof(ch.realm), "%s", b->name);
	snprintf(ch.nonce, sizeof(ch.nonce), "%s", p->nonce);
	snprintf(ch.qop, sizeof(ch.qop), "auth-int");
	snprintf(ch.algorithm, sizeof(ch.algorithm), BSF_ALGORITHM);
	out->hvalue = pz_malloc(PZ_DIGEST_MAX);
	if (!out->hvalue || pz_digest_write(PZ_DIGEST_CHALLENGE, &ch,
					    out->hvalue, PZ_DIGEST_MAX, NULL))
		return bsf_error(out, 500, "BSF: out of memory");
	out->hname = "WWW-Authenticate";
	return bsf_error(out, 401, "authentication required");
}

/*
 * Resynchronisation (TS 33.102 6.3.5): AUTS = SQN_MS xor f5*(RAND) ||
 * f1*(SQN_MS, RAND, AMF 0000) for the RAND of the challenge p answered.
 * When MAC-S verifies, SQN_MS is stored and the next challenge exceeds
 * it; either way a fresh challenge follows.
 */
static int bsf_resync(pz_bsf *b, const struct bsf_pending *p,
		      const char *auts_b64, struct pz_bsf_ub_out *out)
{
	static const uint8_t amf0[2] = { 0, 0 };
	struct bsf_subject s;
	struct pz_milenage m;
	uint8_t auts[BSF_AUTS_LEN + 4], aks[6], sqnb[6], mac[8];
	uint64_t floor = 0;
	long n = -1;
	bool ok = false;

	if (strlen(auts_b64) <= 4 * ((BSF_AUTS_LEN + 2) / 3))
		n = pz_b64_decode(auts_b64, auts, sizeof(auts));
	if (n != BSF_AUTS_LEN)
		return bsf_error(out, 400, "Digest: auts is not base64 of 14 "
				 "octets");
	if (bsf_subject(b, p->impi, &s) == PZ_OK &&
	    pz_milenage_init(&m, s.k, 16, s.opc, 16) == PZ_OK) {
		if (pz_milenage_f5star(&m, p->rand, aks) == PZ_OK) {
			for (int i = 0; i < 6; i++)
				sqnb[i] = auts[i] ^ aks[i];
			ok = pz_milenage_f1star(&m, p->rand, sqnb, amf0,
						mac) == PZ_OK &&
			     CRYPTO_memcmp(mac, auts + 6, 8) == 0 && s.known;
		}
		pz_milenage_done(&m);
	}
	bsf_wipe_subject(&s);
	if (ok) {
		floor = bsf_sqn_get(sqnb);
		if (pz_core_sub_sqn(b->core, p->impi, floor) != PZ_OK)
			return bsf_error(out, 500, "BSF: cannot store SQN");
		pz_log(PZ_INFO, "bsf", "SQN resynchronised for %s",
		       p->impi);
	}
	return bsf_challenge(b, p->impi, floor, out);
}

/* The TS 24.109 answer body for btid, expiring at exp (microseconds). */
static char *bsf_info_body(const char *btid, int64_t exp)
{
	char ts[32], *body;
	time_t t = (time_t)(exp / 1000000);
	struct tm tm;
	size_t n = strlen(btid) + 200;

	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	body = pz_malloc(n);
	if (body)
		snprintf(body, n, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			 "<BootstrappingInfo xmlns=\"uri:3gpp-gba\">"
			 "<btid>%s</btid><lifetime>%s</lifetime>"
			 "</BootstrappingInfo>\n", btid, ts);
	return body;
}

/* The answer verified: store Ks under a new B-TID and answer 200. */
static int bsf_success(pz_bsf *b, const struct bsf_pending *p,
		       const struct pz_digest *a, struct pz_bsf_ub_out *out)
{
	struct pz_store_boot bt;
	struct pz_digest info;
	int rc;

	memset(&bt, 0, sizeof(bt));
	memset(&info, 0, sizeof(info));
	if (pz_gba_btid_format(p->rand, b->name, strlen(b->name), bt.btid,
			       sizeof(bt.btid), NULL) != PZ_OK)
		return bsf_error(out, 500, "BSF: cannot make a B-TID");
	snprintf(bt.impi, sizeof(bt.impi), "%s", p->impi);
	memcpy(bt.ks, p->ck, 16);
	memcpy(bt.ks + 16, p->ik, 16);
	memcpy(bt.rand, p->rand, 16);
	bt.expires = pz_time_now() + b->lifetime_s * 1000000;
	rc = pz_core_boot_put(b->core, &bt, p->sqn);
	OPENSSL_cleanse(bt.ks, sizeof(bt.ks));
	if (rc == PZ_ENOTFOUND) {
		/* Removed while its challenge waited: as for any unknown. */
		pz_log(PZ_INFO, "bsf", "%s went away during its bootstrap",
		       p->impi);
		return bsf_challenge(b, p->impi, 0, out);
	}
	if (rc == PZ_ESTATE)
		return bsf_error(out, 403, "the device is revoked or "
				 "decommissioned");
	if (rc != PZ_OK) {
		pz_log(PZ_ERROR, "bsf", "cannot store the bootstrap of %s: %s",
		       p->impi, pz_strerror(rc));
		return bsf_error(out, 500, "BSF: cannot store the bootstrap");
	}
	out->body = bsf_info_body(bt.btid, bt.expires);
	out->hvalue = pz_malloc(PZ_DIGEST_MAX);
	if (!out->body || !out->hvalue)
		return bsf_error(out, 500, "BSF: out of memory");
	/* rspauth: the digest of the answer body with an empty method. */
	info = *a;
	info.have = PZ_DF_QOP | PZ_DF_RSPAUTH | PZ_DF_CNONCE | PZ_DF_NC;
	if (pz_digest_response(a, p->xres, sizeof(p->xres), "",
			       (const uint8_t *)out->body, strlen(out->body),
			       info.rspauth) != PZ_OK ||
	    pz_digest_write(PZ_DIGEST_INFO, &info, out->hvalue,
			    PZ_DIGEST_MAX, NULL) != PZ_OK)
		return bsf_error(out, 500, "BSF: cannot answer");
	out->hname = "Authentication-Info";
	out->ctype = BSF_CTYPE_XML;
	pz_log(PZ_INFO, "bsf", "bootstrapped %s: %s", p->impi, bt.btid);
	return out->status = 200;
}

/* Does the answer a to challenge p verify (in constant time per case)? */
static bool bsf_verify(pz_bsf *b, const struct bsf_pending *p,
		       const struct pz_digest *a,
		       const struct pz_bsf_ub_in *in)
{
	char want[PZ_DIGEST_HEX_LEN + 1];
	bool ok;

	ok = pz_digest_response(a, p->xres, sizeof(p->xres), in->method,
				in->body, in->len, want) == PZ_OK &&
	     pz_digest_equal(want, a->response);
	return ok && p->known && !strcmp(a->username, p->impi) &&
	       !strcmp(a->realm, b->name) && !strcmp(a->uri, in->uri) &&
	       (!(a->have & PZ_DF_ALGORITHM) ||
		!strcmp(a->algorithm, BSF_ALGORITHM));
}

/* An answer's required fields, or the reason it is malformed. */
static const char *bsf_answer_why(const struct pz_digest *a)
{
	static const unsigned need = PZ_DF_REALM | PZ_DF_URI | PZ_DF_QOP |
				     PZ_DF_NC | PZ_DF_CNONCE;

	if ((a->have & need) != need)
		return "Digest: an answer needs realm, uri, qop, nc and cnonce";
	if (strcmp(a->qop, "auth-int"))
		return "Digest: qop must be auth-int";
	if (strlen(a->nc) != 8 || strspn(a->nc, "0123456789abcdefABCDEF") != 8)
		return "Digest: nc must be 8 hex digits";
	if (strlen(a->response) != PZ_DIGEST_HEX_LEN ||
	    strspn(a->response, "0123456789abcdef") != PZ_DIGEST_HEX_LEN)
		return "Digest: response must be 32 lower-case hex digits";
	return NULL;
}

int pz_bsf_ub(pz_bsf *b, const struct pz_bsf_ub_in *in,
	      struct pz_bsf_ub_out *out)
{
	struct pz_digest a;
	struct bsf_pending p, *found;
	const char *why = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (strcmp(in->method, "GET") && strcmp(in->method, "POST"))
		return bsf_error(out, 405, "Ub takes GET or POST");
	if (!in->auth)
		return bsf_error(out, 400, "Ub needs Authorization: Digest "
				 "username=<IMPI>");
	rc = pz_digest_parse(PZ_DIGEST_AUTH, in->auth, strlen(in->auth), &a,
			     &why);
	if (rc != PZ_OK)
		return bsf_error(out, 400, why);
	if (!(a.have & PZ_DF_USERNAME) || !a.username[0])
		return bsf_error(out, 400, "Digest: username (the IMPI) is "
				 "required");
	/* A first request: no nonce or no response yet. */
	if (!a.nonce[0] || (!a.response[0] && !(a.have & PZ_DF_AUTS)))
		return bsf_challenge(b, a.username, 0, out);
	/* A malformed answer is refused before its nonce is looked at. */
	if (!(a.have & PZ_DF_AUTS) && (why = bsf_answer_why(&a)))
		return bsf_error(out, 400, why);
	found = bsf_find(b, a.nonce, pz_time_now());
	if (!found || strcmp(found->impi, a.username)) {
		/* Unknown, expired or replayed nonce: a fresh challenge. */
		pz_log(PZ_INFO, "bsf", "stale or unknown nonce for %s",
		       a.username);
		return bsf_challenge(b, a.username, 0, out);
	}
	p = *found;
	OPENSSL_cleanse(found, sizeof(*found));   /* one try per nonce */
	if (a.have & PZ_DF_AUTS)
		rc = bsf_resync(b, &p, a.auts, out);
	else if (bsf_verify(b, &p, &a, in))
		rc = bsf_success(b, &p, &a, out);
	else {
		pz_log(PZ_INFO, "bsf", "authentication of %s failed",
		       a.username);
		rc = bsf_challenge(b, a.username, 0, out);
	}
	OPENSSL_cleanse(&p, sizeof(p));
	return rc;
}

int pz_bsf_zn(pz_bsf *b, const char *btid, const uint8_t *naf_id,
	      size_t naf_id_len, struct pz_bsf_zn *out)
{
	struct pz_store_boot bt;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!naf_id || naf_id_len <= PZ_GBA_UA_ID_LEN ||
	    naf_id_len > PZ_GBA_NAF_ID_MAX)
		return PZ_EINVAL;
	rc = pz_core_boot_get(b->core, btid, &bt);
	if (rc == PZ_OK && bt.expires <= pz_time_now())
		rc = PZ_ENOTFOUND;
	if (rc == PZ_OK)
		rc = pz_gba_ks_naf(bt.ks, bt.rand, bt.impi, strlen(bt.impi),
				   naf_id, naf_id_len, out->ks_naf);
	if (rc == PZ_OK) {
		snprintf(out->impi, sizeof(out->impi), "%s", bt.impi);
		out->expires = bt.expires;
	}
	OPENSSL_cleanse(&bt, sizeof(bt));
	return rc;
}
