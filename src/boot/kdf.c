/*
 * kdf.c - the TS 33.220 Annex B.2 KDF and the GBA, AKMA and oneM2M RSPF
 * derivations on it (see pz_gba.h).
 *
 * Every derivation is one HMAC-SHA-256 computed incrementally through a
 * libcrypto EVP_MAC context, so S is never assembled in memory and needs
 * no ceiling of its own; the only limits are the ones the format has
 * (two-octet lengths) and the ones pz_gba.h sets on identifiers.
 *
 * The B-TID parser is strict on purpose: plaza's own BSF issues B-TIDs
 * of exactly this form, and a strict parser lets the NAF reject garbage
 * before any lookup (fuzz/gba_btid_fuzz.c holds it to its model).
 */
#include <stdbool.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "plaza/pz_err.h"
#include "plaza/pz_gba.h"

#define HL PZ_GBA_KDF_LEN

const uint8_t pz_gba_ua_http_digest[PZ_GBA_UA_ID_LEN] = { 1, 0, 0, 0, 2 };
const uint8_t pz_gba_ua_tls13[PZ_GBA_UA_ID_LEN] = { 1, 0, 0, 0, 7 };
const uint8_t pz_gba_ua_psk_ccm8[PZ_GBA_UA_ID_LEN] = { 1, 0, 1, 0xc0, 0xa8 };

/* --- HMAC-SHA-256 ------------------------------------------------------- */

/* One HMAC in progress; ok drops to false at the first libcrypto error,
 * so callers feed every piece and check once at kd_end. */
struct kd_mac {
	EVP_MAC *mac;       /* owned */
	EVP_MAC_CTX *ctx;   /* owned */
	bool ok;
};

static void kd_begin(struct kd_mac *m, const uint8_t *key, size_t key_len)
{
	char digest[] = "SHA256";
	OSSL_PARAM params[2];

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	m->ctx = NULL;
	m->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (m->mac)
		m->ctx = EVP_MAC_CTX_new(m->mac);
	m->ok = m->ctx && EVP_MAC_init(m->ctx, key, key_len, params);
}

static void kd_update(struct kd_mac *m, const void *p, size_t len)
{
	if (m->ok && len)
		m->ok = EVP_MAC_update(m->ctx, p, len);
}

/* The MAC into out (zeroed on failure); frees m's context (which
 * cleanses the key it holds).  PZ_OK or PZ_ENOMEM. */
static int kd_end(struct kd_mac *m, uint8_t out[HL])
{
	size_t olen = 0;

	if (m->ok)
		m->ok = EVP_MAC_final(m->ctx, out, &olen, HL) && olen == HL;
	EVP_MAC_CTX_free(m->ctx);
	EVP_MAC_free(m->mac);
	m->ctx = NULL;
	m->mac = NULL;
	if (!m->ok) {
		ERR_clear_error();
		OPENSSL_cleanse(out, HL);
		return PZ_ENOMEM;
	}
	return PZ_OK;
}

/* --- the KDF ------------------------------------------------------------ */

int pz_gba_kdf(const uint8_t *key, size_t key_len, uint8_t fc,
	       const struct pz_gba_param *params, size_t n, uint8_t *out,
	       size_t out_len)
{
	struct kd_mac m;
	uint8_t full[HL];
	int rc = PZ_OK;

	if (!key || key_len == 0 || key_len > PZ_GBA_KEY_MAX || !out ||
	    (out_len != HL && out_len != 16) || n > PZ_GBA_KDF_MAX_PARAMS ||
	    (n && !params))
		return PZ_EINVAL;
	for (size_t i = 0; i < n; i++)
		if ((!params[i].p && params[i].len) ||
		    params[i].len > PZ_GBA_PARAM_MAX)
			return PZ_EINVAL;
	kd_begin(&m, key, key_len);
	kd_update(&m, &fc, 1);
	for (size_t i = 0; i < n; i++) {
		uint8_t l[2] = { (uint8_t)(params[i].len >> 8),
				 (uint8_t)params[i].len };

		kd_update(&m, params[i].p, params[i].len);
		kd_update(&m, l, 2);
	}
	rc = kd_end(&m, full);
	/* 128-bit users take the rightmost octets (B.2.0). */
	memcpy(out, full + (HL - out_len), out_len);
	OPENSSL_cleanse(full, sizeof full);
	return rc;
}

/* --- GBA ---------------------------------------------------------------- */

int pz_gba_ks(const uint8_t ck[PZ_GBA_CK_LEN], const uint8_t ik[PZ_GBA_IK_LEN],
	      uint8_t ks[PZ_GBA_KS_LEN])
{
	if (!ck || !ik || !ks)
		return PZ_EINVAL;
	memcpy(ks, ck, PZ_GBA_CK_LEN);
	memcpy(ks + PZ_GBA_CK_LEN, ik, PZ_GBA_IK_LEN);
	return PZ_OK;
}

int pz_gba_naf_id(const char *fqdn, size_t fqdn_len,
		  const uint8_t ua[PZ_GBA_UA_ID_LEN], uint8_t *out,
		  size_t out_size, size_t *out_len)
{
	if (!fqdn || !ua || !out || !out_len || fqdn_len == 0 ||
	    fqdn_len > PZ_GBA_FQDN_MAX)
		return PZ_EINVAL;
	if (out_size < fqdn_len + PZ_GBA_UA_ID_LEN)
		return PZ_ETOOBIG;
	memcpy(out, fqdn, fqdn_len);
	memcpy(out + fqdn_len, ua, PZ_GBA_UA_ID_LEN);
	*out_len = fqdn_len + PZ_GBA_UA_ID_LEN;
	return PZ_OK;
}

static bool id_ok(const void *p, size_t len)
{
	return p && len >= 1 && len <= PZ_GBA_ID_MAX;
}

static bool naf_id_ok(const void *p, size_t len)
{
	return p && len > PZ_GBA_UA_ID_LEN && len <= PZ_GBA_NAF_ID_MAX;
}

static int gba_naf(const char *p0, const uint8_t *ks, const uint8_t *rand,
		   const char *impi, size_t impi_len, const uint8_t *naf_id,
		   size_t naf_id_len, uint8_t *out)
{
	struct pz_gba_param p[4] = {
		{ p0, strlen(p0) },
		{ rand, PZ_GBA_RAND_LEN },
		{ impi, impi_len },
		{ naf_id, naf_id_len },
	};

	if (!ks || !rand || !out || !id_ok(impi, impi_len) ||
	    !naf_id_ok(naf_id, naf_id_len))
		return PZ_EINVAL;
	return pz_gba_kdf(ks, PZ_GBA_KS_LEN, PZ_GBA_FC_NAF, p, 4, out, HL);
}

int pz_gba_ks_naf(const uint8_t ks[PZ_GBA_KS_LEN],
		  const uint8_t rand[PZ_GBA_RAND_LEN], const char *impi,
		  size_t impi_len, const uint8_t *naf_id, size_t naf_id_len,
		  uint8_t out[PZ_GBA_KS_LEN])
{
	return gba_naf("gba-me", ks, rand, impi, impi_len, naf_id,
		       naf_id_len, out);
}

int pz_gba_ks_int_naf(const uint8_t ks[PZ_GBA_KS_LEN],
		      const uint8_t rand[PZ_GBA_RAND_LEN], const char *impi,
		      size_t impi_len, const uint8_t *naf_id,
		      size_t naf_id_len, uint8_t out[PZ_GBA_KS_LEN])
{
	return gba_naf("gba-u", ks, rand, impi, impi_len, naf_id,
		       naf_id_len, out);
}

/* --- B-TID -------------------------------------------------------------- */

static const char b64_alpha[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The value of a standard-alphabet base64 digit, or -1. */
static int b64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static bool ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-';
}

/* A host name: LDH labels of 1..63, no hyphen at either end of a label,
 * 1..PZ_GBA_FQDN_MAX octets, no empty label (so no trailing dot). */
static bool host_ok(const char *s, size_t len)
{
	size_t lab = 0;

	if (!s || len == 0 || len > PZ_GBA_FQDN_MAX)
		return false;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (lab == 0 || lab > 63 || s[i - 1] == '-')
				return false;
			lab = 0;
			continue;
		}
		if (!ldh(s[i]) || (lab == 0 && s[i] == '-'))
			return false;
		lab++;
	}
	return true;
}

int pz_gba_btid_format(const uint8_t rand[PZ_GBA_RAND_LEN], const char *bsf,
		       size_t bsf_len, char *out, size_t out_size,
		       size_t *len)
{
	size_t need = PZ_GBA_BTID_B64_LEN + 1 + bsf_len;
	char *o = out;

	if (!rand || !out || !host_ok(bsf, bsf_len))
		return PZ_EINVAL;
	if (out_size < need + 1) {
		if (out_size)
			out[0] = '\0';
		return PZ_ETOOBIG;
	}
	/* 15 octets in five groups of three, then the 16th with "==". */
	for (int i = 0; i < 15; i += 3) {
		uint32_t v = (uint32_t)rand[i] << 16 |
			     (uint32_t)rand[i + 1] << 8 | rand[i + 2];

		*o++ = b64_alpha[v >> 18];
		*o++ = b64_alpha[(v >> 12) & 63];
		*o++ = b64_alpha[(v >> 6) & 63];
		*o++ = b64_alpha[v & 63];
	}
	*o++ = b64_alpha[rand[15] >> 2];
	*o++ = b64_alpha[(rand[15] & 3) << 4];
	*o++ = '=';
	*o++ = '=';
	*o++ = '@';
	memcpy(o, bsf, bsf_len);
	o[bsf_len] = '\0';
	if (len)
		*len = need;
	return PZ_OK;
}

/* pz_gba_btid_parse's refusal: why (if wanted) and the code. */
static int btid_refuse(const char **why, const char *reason, int rc)
{
	if (why)
		*why = reason;
	return rc;
}

int pz_gba_btid_parse(const char *s, size_t len, struct pz_gba_btid *out,
		      const char **why)
{
	int d[22];

	if (!out)
		return btid_refuse(why, "B-TID: no output", PZ_EINVAL);
	memset(out, 0, sizeof *out);
	if (!s)
		return btid_refuse(why, "B-TID: no input", PZ_EINVAL);
	if (len > PZ_GBA_BTID_MAX)
		return btid_refuse(why, "B-TID: longer than 278 octets",
				   PZ_ETOOBIG);
	if (len < PZ_GBA_BTID_B64_LEN + 1 || s[24] != '@')
		return btid_refuse(why, "B-TID: not 24 base64 characters "
				   "then '@'", PZ_EINVAL);
	if (s[22] != '=' || s[23] != '=')
		return btid_refuse(why, "B-TID: RAND is not 16 octets of "
				   "padded base64 (must end in \"==\")",
				   PZ_EINVAL);
	for (int i = 0; i < 22; i++) {
		d[i] = b64_val(s[i]);
		if (d[i] < 0)
			return btid_refuse(why, "B-TID: RAND holds a character "
					   "outside standard base64",
					   PZ_EINVAL);
	}
	/* Canonical: the last digit carries 2 bits, its low 4 are zero. */
	if (d[21] & 15)
		return btid_refuse(why, "B-TID: RAND is not canonical base64 "
				   "(unused bits set)", PZ_EINVAL);
	if (!host_ok(s + PZ_GBA_BTID_B64_LEN + 1,
		     len - PZ_GBA_BTID_B64_LEN - 1))
		return btid_refuse(why, "B-TID: the BSF name is not a host "
				   "name (LDH labels of 1-63, at most 253 "
				   "octets)", PZ_EINVAL);
	for (int i = 0, j = 0; i < 15; i += 3, j += 4) {
		uint32_t v = (uint32_t)d[j] << 18 | (uint32_t)d[j + 1] << 12 |
			     (uint32_t)d[j + 2] << 6 | (uint32_t)d[j + 3];

		out->rand[i] = (uint8_t)(v >> 16);
		out->rand[i + 1] = (uint8_t)(v >> 8);
		out->rand[i + 2] = (uint8_t)v;
	}
	out->rand[15] = (uint8_t)(d[20] << 2 | d[21] >> 4);
	out->server = s + PZ_GBA_BTID_B64_LEN + 1;
	out->server_len = len - PZ_GBA_BTID_B64_LEN - 1;
	return PZ_OK;
}

/* --- AKMA --------------------------------------------------------------- */

static int akma_supi(uint8_t fc, const char *p0, const uint8_t *kausf,
		     const char *supi, size_t supi_len, uint8_t *out)
{
	struct pz_gba_param p[2] = {
		{ p0, strlen(p0) },
		{ supi, supi_len },
	};

	if (!kausf || !out || !id_ok(supi, supi_len))
		return PZ_EINVAL;
	return pz_gba_kdf(kausf, PZ_GBA_KS_LEN, fc, p, 2, out, HL);
}

int pz_gba_akma_kakma(const uint8_t kausf[PZ_GBA_KS_LEN], const char *supi,
		      size_t supi_len, uint8_t out[PZ_GBA_KS_LEN])
{
	return akma_supi(PZ_GBA_FC_AKMA, "AKMA", kausf, supi, supi_len, out);
}

int pz_gba_akma_atid(const uint8_t kausf[PZ_GBA_KS_LEN], const char *supi,
		     size_t supi_len, uint8_t out[PZ_GBA_KS_LEN])
{
	return akma_supi(PZ_GBA_FC_ATID, "A-TID", kausf, supi, supi_len, out);
}

int pz_gba_akma_kaf(const uint8_t kakma[PZ_GBA_KS_LEN], const uint8_t *af_id,
		    size_t af_id_len, uint8_t out[PZ_GBA_KS_LEN])
{
	struct pz_gba_param p = { af_id, af_id_len };

	if (!kakma || !out || !naf_id_ok(af_id, af_id_len))
		return PZ_EINVAL;
	return pz_gba_kdf(kakma, PZ_GBA_KS_LEN, PZ_GBA_FC_KAF, &p, 1, out, HL);
}

/* --- oneM2M RSPF -------------------------------------------------------- */

int pz_gba_rspf_ke(const uint8_t exported[PZ_GBA_RSPF_EXPORT_LEN],
		   uint8_t ke[PZ_GBA_RSPF_KE_LEN],
		   uint8_t rel_keid[PZ_GBA_RSPF_RELKEID_LEN])
{
	if (!exported || !ke || !rel_keid)
		return PZ_EINVAL;
	memcpy(rel_keid, exported, PZ_GBA_RSPF_RELKEID_LEN);
	memcpy(ke, exported + PZ_GBA_RSPF_RELKEID_LEN, PZ_GBA_RSPF_KE_LEN);
	return PZ_OK;
}

int pz_gba_rspf_keid(const uint8_t rel_keid[PZ_GBA_RSPF_RELKEID_LEN],
		     const char *mef, size_t mef_len, char *out,
		     size_t out_size, size_t *len)
{
	static const char hex[] = "0123456789abcdef";
	size_t need = 2 * PZ_GBA_RSPF_RELKEID_LEN + 1 + mef_len;

	if (!rel_keid || !mef || !out || mef_len == 0 ||
	    mef_len > PZ_GBA_FQDN_MAX)
		return PZ_EINVAL;
	if (out_size < need + 1) {
		if (out_size)
			out[0] = '\0';
		return PZ_ETOOBIG;
	}
	for (int i = 0; i < PZ_GBA_RSPF_RELKEID_LEN; i++) {
		out[2 * i] = hex[rel_keid[i] >> 4];
		out[2 * i + 1] = hex[rel_keid[i] & 15];
	}
	out[2 * PZ_GBA_RSPF_RELKEID_LEN] = '@';
	memcpy(out + 2 * PZ_GBA_RSPF_RELKEID_LEN + 1, mef, mef_len);
	out[need] = '\0';
	if (len)
		*len = need;
	return PZ_OK;
}

/* HMAC-SHA-256(Ke, label || a || b), b optional (NULL, 0). */
static int rspf_hmac(const uint8_t *ke, const char *label, const char *a,
		     size_t alen, const char *b, size_t blen, uint8_t *out)
{
	struct kd_mac m;

	if (!ke || !out)
		return PZ_EINVAL;
	kd_begin(&m, ke, PZ_GBA_RSPF_KE_LEN);
	kd_update(&m, label, strlen(label));
	kd_update(&m, a, alen);
	kd_update(&m, b, blen);
	return kd_end(&m, out);
}

int pz_gba_rspf_km(const uint8_t ke[PZ_GBA_RSPF_KE_LEN], const char *maf_id,
		   size_t maf_id_len, uint8_t out[PZ_GBA_KS_LEN])
{
	if (!id_ok(maf_id, maf_id_len))
		return PZ_EINVAL;
	return rspf_hmac(ke, "oneM2M Enrolment Key to Master Credential "
			 "derivation", maf_id, maf_id_len, NULL, 0, out);
}

int pz_gba_rspf_kpsa(const uint8_t ke[PZ_GBA_RSPF_KE_LEN],
		     const char *enrolee, size_t enrolee_len,
		     uint8_t out[PZ_GBA_KS_LEN])
{
	if (!id_ok(enrolee, enrolee_len))
		return PZ_EINVAL;
	return rspf_hmac(ke, "oneM2M Enrolment Key to Provisioned Secure "
			 "Connection Key derivation", enrolee, enrolee_len,
			 NULL, 0, out);
}

int pz_gba_rspf_kuc(const uint8_t ke[PZ_GBA_RSPF_KE_LEN], const char *suid,
		    size_t suid_len, const char *target, size_t target_len,
		    uint8_t out[PZ_GBA_KS_LEN])
{
	if (!id_ok(suid, suid_len) || !id_ok(target, target_len))
		return PZ_EINVAL;
	return rspf_hmac(ke, "oneM2M Enrolment Key to Usage-Constrained "
			 "Symmetric Key derivation", suid, suid_len, target,
			 target_len, out);
}
