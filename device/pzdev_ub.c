/*
 * pzdev_ub.c - the device side of GBA's Ub (TS 24.109, RFC 3310 HTTP
 * Digest AKA) for pzdev: a simulated SIM (K, OPc, SQN_MS) bootstraps with
 * a BSF over pzdev_http.h and derives Ks_NAF (see pzdev_gba.h).
 *
 * The Digest header parser/writer and the auth-int response are plaza's
 * src/boot/digest.c (libcrypto's MD5 and pz_err only); Milenage and the
 * KDF are plaza's too.  Buffers are on the stack and bounded; secrets
 * (RES, CK, IK, Ks) are wiped before return.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <sys/random.h>

#include "plaza/pz_digest.h"
#include "plaza/pz_err.h"
#include "plaza/pz_gba.h"
#include "plaza/pz_milenage.h"

#include "pzdev.h"
#include "pzdev_gba.h"
#include "pzdev_http.h"

#define UB_TX_MAX 1024   /* a request: line, Host, Authorization */
#define UB_RX_MAX 1536   /* a response: 401 or 200 with its XML body */

/* One run's working state, on the stack of pzdev_gba_bootstrap. */
struct ub {
	struct pzdev_gba_ub *in;       /* the caller's inputs */
	const char *path;              /* the Ub URI */
	struct pz_digest d;            /* the challenge, then the answer */
	struct pzdev_http_rsp rsp;     /* the last response, in rx */
	uint8_t rand[16], autn[16];    /* of the challenge */
	uint8_t res[8], ck[16], ik[16];  /* the SIM's (secret) */
	uint8_t tx[UB_TX_MAX];         /* the request */
	uint8_t rx[UB_RX_MAX];         /* the response */
	const char *why;               /* the reason of a failure */
};

/* --- base64 (RFC 4648, standard alphabet, padded) ----------------------- */

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void b64_encode(const uint8_t *p, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;

		v |= i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0;
		v |= i + 2 < n ? p[i + 2] : 0;
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	out[o] = '\0';
}

/* The base64 text s into out (at most max octets): the length, or -1. */
static long b64_decode(const char *s, uint8_t *out, size_t max)
{
	size_t n = strlen(s), o = 0;
	uint32_t v = 0;
	int bits = 0;

	if (n % 4)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *c = strchr(b64, s[i]);

		if (s[i] == '=') {
			if (i < n - 2 || (i == n - 2 && s[n - 1] != '='))
				return -1;
			break;
		}
		if (!c || !s[i])
			return -1;
		v = v << 6 | (uint32_t)(c - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == max)
				return -1;
			out[o++] = (uint8_t)(v >> bits);
		}
	}
	return (long)o;
}

/* --- the exchange ---------------------------------------------------------- */

/* Send a GET with the Authorization header of u->d (written straight
 * into u->tx); the answer into u->rsp. */
static int ub_send(struct ub *u)
{
	char *tx = (char *)u->tx;
	size_t n, a = 0;
	int rc;

	n = (size_t)snprintf(tx, sizeof(u->tx), "GET %s HTTP/1.1\r\n"
			     "Host: %s:%u\r\nConnection: close\r\n"
			     "Authorization: ", u->path, u->in->host,
			     u->in->port);
	if (n >= sizeof(u->tx) ||
	    pz_digest_write(PZ_DIGEST_AUTH, &u->d, tx + n, sizeof(u->tx) - n,
			    &a) || sizeof(u->tx) - n - a < 5) {
		u->why = "the request does not fit";
		return PZDEV_ETOOBIG;
	}
	memcpy(tx + n + a, "\r\n\r\n", 4);
	rc = pzdev_http_exchange(u->in->host, u->in->port, u->tx, n + a + 4,
				 u->rx, sizeof(u->rx), &u->rsp,
				 u->in->timeout_ms);
	if (rc)
		u->why = rc == PZDEV_ETIMEOUT ? "no answer from the BSF in time"
			 : rc == PZDEV_ENET ? "cannot reach the BSF"
			 : rc == PZDEV_ETOOBIG ? "the BSF's answer is too long"
			 : rc == PZDEV_EINVAL ? "the BSF must be a numeric IPv4 "
			   "or IPv6 address"
			 : "the BSF's answer is not HTTP this client reads";
	return rc;
}

/* The first request: the IMPI, its domain as realm, nothing else. */
static int ub_first(struct ub *u)
{
	const char *at = strrchr(u->in->impi, '@');

	memset(&u->d, 0, sizeof(u->d));
	u->d.have = PZ_DF_USERNAME | PZ_DF_REALM | PZ_DF_NONCE | PZ_DF_URI |
		    PZ_DF_RESPONSE;
	snprintf(u->d.username, sizeof(u->d.username), "%s", u->in->impi);
	snprintf(u->d.realm, sizeof(u->d.realm), "%s", at ? at + 1 : "");
	snprintf(u->d.uri, sizeof(u->d.uri), "%s", u->path);
	return ub_send(u);
}

/* u->rsp must be a 401 with an AKAv1-MD5 auth-int challenge: parse it
 * into u->d and its nonce into RAND and AUTN. */
static int ub_challenge(struct ub *u)
{
	uint8_t raw[PZ_DIGEST_NONCE_MAX];
	const char *v;
	size_t vlen = 0;

	if (u->rsp.status == 403) {
		u->why = "the BSF refused the device (403: revoked?)";
		return PZDEV_EAUTH;
	}
	v = pzdev_http_header(&u->rsp, "WWW-Authenticate", &vlen);
	if (u->rsp.status != 401 || !v) {
		u->why = "the BSF did not answer with a Digest challenge";
		return PZDEV_EPARSE;
	}
	if (pz_digest_parse(PZ_DIGEST_CHALLENGE, v, vlen, &u->d, NULL) ||
	    strcasecmp(u->d.algorithm, "AKAv1-MD5") ||
	    !strstr(u->d.qop, "auth-int")) {
		u->why = "the challenge is not AKAv1-MD5 with qop auth-int";
		return PZDEV_EPARSE;
	}
	if (b64_decode(u->d.nonce, raw, sizeof(raw)) < 32) {
		u->why = "the nonce is not base64 of RAND || AUTN";
		return PZDEV_EPARSE;
	}
	memcpy(u->rand, raw, 16);
	memcpy(u->autn, raw + 16, 16);
	return PZDEV_OK;
}

/* The SQN of 6 octets as a number. */
static uint64_t sqn_val(const uint8_t s[6])
{
	uint64_t v = 0;

	for (int i = 0; i < 6; i++)
		v = v << 8 | s[i];
	return v;
}

/* The answer's common fields on the parsed challenge in u->d. */
static void ub_answer_fields(struct ub *u)
{
	uint8_t c[8] = { 0 };
	char *p = u->d.cnonce;

	if (getrandom(c, sizeof(c), 0) != (ssize_t)sizeof(c))
		memcpy(c, u->autn + 8, sizeof(c));   /* still unpredictable */
	for (size_t i = 0; i < sizeof(c); i++)
		p += snprintf(p, 3, "%02x", c[i]);
	u->d.have = (u->d.have & (PZ_DF_REALM | PZ_DF_NONCE | PZ_DF_OPAQUE |
				  PZ_DF_ALGORITHM)) | PZ_DF_USERNAME |
		    PZ_DF_URI | PZ_DF_RESPONSE | PZ_DF_QOP | PZ_DF_NC |
		    PZ_DF_CNONCE;
	snprintf(u->d.username, sizeof(u->d.username), "%s", u->in->impi);
	snprintf(u->d.uri, sizeof(u->d.uri), "%s", u->path);
	snprintf(u->d.qop, sizeof(u->d.qop), "auth-int");
	snprintf(u->d.nc, sizeof(u->d.nc), "00000001");
	u->d.response[0] = '\0';
}

/*
 * Run the SIM on the challenge in u: check MAC-A, then either the answer
 * (RES as the Digest password) or, when SQN is not above SQN_MS, AUTS.
 * *resync says which was built.  PZDEV_OK or PZDEV_EAUTN/EINVAL.
 */
static int ub_sim(struct ub *u, struct pz_milenage *m, bool *resync)
{
	uint8_t ak[6], sqn[6], mac[8], ms[6], auts[14];
	char auts64[PZ_DIGEST_AUTS_MAX + 1];
	uint64_t s;
	int rc;

	rc = pz_milenage_f2345(m, u->rand, u->res, u->ck, u->ik, ak);
	for (int i = 0; i < 6; i++)
		sqn[i] = u->autn[i] ^ ak[i];
	if (!rc)
		rc = pz_milenage_f1(m, u->rand, sqn, u->autn + 6, mac);
	if (rc) {
		u->why = "Milenage failed (libcrypto)";
		return PZDEV_EINVAL;
	}
	if (CRYPTO_memcmp(mac, u->autn + 8, 8)) {
		u->why = "the challenge's AUTN does not verify (MAC-A): not "
			 "from our network, or K or OPc is wrong";
		return PZDEV_EAUTN;
	}
	ub_answer_fields(u);
	s = sqn_val(sqn);
	*resync = s <= u->in->sqn_ms;
	if (!*resync) {
		u->in->sqn_ms = s;
		if (pz_digest_response(&u->d, u->res, sizeof(u->res), "GET",
				       NULL, 0, u->d.response))
			rc = PZDEV_EINVAL;
		return rc;
	}
	/* AUTS = SQN_MS ^ f5*(RAND) || f1*(SQN_MS, RAND, AMF 0000). */
	for (int i = 0; i < 6; i++)
		ms[i] = (uint8_t)(u->in->sqn_ms >> (40 - 8 * i));
	rc = pz_milenage_f5star(m, u->rand, ak);
	if (!rc)
		rc = pz_milenage_f1star(m, u->rand, ms,
					(const uint8_t[2]){ 0, 0 }, auts + 6);
	for (int i = 0; i < 6; i++)
		auts[i] = ms[i] ^ ak[i];
	b64_encode(auts, sizeof(auts), auts64);
	snprintf(u->d.auts, sizeof(u->d.auts), "%s", auts64);
	u->d.have |= PZ_DF_AUTS;
	return rc ? PZDEV_EINVAL : PZDEV_OK;
}

/* The text of <tag> ... </tag> (any namespace prefix) in the body into
 * out (size octets).  false if absent or too long. */
static bool xml_text(const struct pzdev_http_rsp *r, const char *tag,
		     char *out, size_t size)
{
	const char *b = (const char *)r->body, *end = b + r->blen, *s, *e;
	size_t tl = strlen(tag);

	for (s = b; s + tl + 1 < end; s++) {
		if (s == b || s[tl] != '>' || memcmp(s, tag, tl) ||
		    (s[-1] != '<' && s[-1] != ':'))
			continue;
		s += tl + 1;
		for (e = s; e < end && *e != '<'; e++)
			;
		if (e == end || (size_t)(e - s) >= size || e == s)
			return false;
		memcpy(out, s, (size_t)(e - s));
		out[e - s] = '\0';
		return true;
	}
	return false;
}

/* The 200: rspauth must verify (mutual authentication), then the body. */
static int ub_success(struct ub *u, struct pzdev_gba_boot *out)
{
	char want[PZ_DIGEST_HEX_LEN + 1];
	const char *v;
	size_t vlen = 0;

	if (u->rsp.status == 401 || u->rsp.status == 403) {
		u->why = u->rsp.status == 401 ? "the BSF refused the answer "
			 "(401): RES does not match, K or OPc is wrong" :
			 "the BSF refused the device (403: revoked?)";
		return PZDEV_EAUTH;
	}
	if (u->rsp.status != 200) {
		u->why = "the BSF answered with an unexpected status";
		return PZDEV_EPARSE;
	}
	if (pz_digest_response(&u->d, u->res, sizeof(u->res), "",
			       u->rsp.body, u->rsp.blen, want))
		return PZDEV_EINVAL;
	v = pzdev_http_header(&u->rsp, "Authentication-Info", &vlen);
	if (!v || pz_digest_parse(PZ_DIGEST_INFO, v, vlen, &u->d, NULL) ||
	    !pz_digest_equal(want, u->d.rspauth)) {
		u->why = "the BSF's rspauth does not verify";
		return PZDEV_EAUTH;
	}
	if (!xml_text(&u->rsp, "btid", out->btid, sizeof(out->btid)) ||
	    !xml_text(&u->rsp, "lifetime", out->lifetime,
		      sizeof(out->lifetime))) {
		u->why = "the BSF's body has no <btid> and <lifetime>";
		return PZDEV_EPARSE;
	}
	return PZDEV_OK;
}

/* Ks_NAF and the identity from the run's CK, IK, RAND and B-TID. */
static int ub_derive(struct ub *u, struct pzdev_gba_boot *out)
{
	uint8_t ks[PZ_GBA_KS_LEN], naf_id[PZ_GBA_NAF_ID_MAX];
	const char *naf = u->in->naf_fqdn;
	size_t naf_len = 0, plen = strlen(PZDEV_GBA_PREFIX);
	int rc;

	rc = pz_gba_ks(u->ck, u->ik, ks);
	if (!rc)
		rc = pz_gba_naf_id(naf, strlen(naf), pz_gba_ua_psk_ccm8,
				   naf_id, sizeof(naf_id), &naf_len);
	if (!rc)
		rc = pz_gba_ks_naf(ks, u->rand, u->in->impi,
				   strlen(u->in->impi), naf_id, naf_len,
				   out->ks_naf);
	OPENSSL_cleanse(ks, sizeof(ks));
	if (rc) {
		u->why = "Ks_NAF derivation failed (bad NAF FQDN?)";
		return PZDEV_EINVAL;
	}
	memcpy(out->id, PZDEV_GBA_PREFIX, plen);
	snprintf(out->id + plen, sizeof(out->id) - plen, "%s", out->btid);
	return PZDEV_OK;
}

/* The exchange after the SIM is set up: challenge, at most one AUTS,
 * answer, success, derivation. */
static int ub_run(struct ub *u, struct pz_milenage *m,
		  struct pzdev_gba_boot *out)
{
	bool resync = false;
	int rc = ub_first(u);

	for (int round = 0; !rc && round < 2; round++) {
		rc = ub_challenge(u);
		if (!rc)
			rc = ub_sim(u, m, &resync);
		if (!rc && resync && round) {
			u->why = "SQN still out of range after AUTS";
			rc = PZDEV_EAUTH;
		}
		if (!rc)
			rc = ub_send(u);
		if (!rc && !resync)
			break;
		out->resynced = true;
	}
	if (!rc)
		rc = ub_success(u, out);
	if (!rc)
		rc = ub_derive(u, out);
	return rc;
}

int pzdev_gba_bootstrap(struct pzdev_gba_ub *ub, struct pzdev_gba_boot *out,
			const char **why)
{
	struct pz_milenage m = { 0 };
	struct ub u;
	const char *reason;
	int rc = PZDEV_OK;

	memset(&u, 0, sizeof(u));
	u.in = ub;
	if (!ub || !out || !ub->host || !ub->impi || !ub->k || !ub->opc ||
	    !ub->naf_fqdn || !ub->impi[0] || strlen(ub->impi) >
	    PZ_DIGEST_USER_MAX || !ub->timeout_ms) {
		u.why = "bad arguments";
		rc = PZDEV_EINVAL;
		goto out;
	}
	memset(out, 0, sizeof(*out));
	u.path = ub->path ? ub->path : PZDEV_GBA_UB_PATH;
	if (pz_milenage_init(&m, ub->k, PZ_MILENAGE_K_LEN, ub->opc,
			     PZ_MILENAGE_K_LEN)) {
		u.why = "Milenage failed (libcrypto)";
		rc = PZDEV_EINVAL;
		goto out;
	}
	rc = ub_run(&u, &m, out);
	if (rc)
		OPENSSL_cleanse(out, sizeof(*out));
out:
	reason = rc ? (u.why ? u.why : pzdev_strerror(rc)) : NULL;
	pz_milenage_done(&m);
	OPENSSL_cleanse(&u, sizeof(u));
	if (why)
		*why = reason;
	return rc;
}
