/*
 * naf.c - the NAF role of GBA over plaza's own BSF: a DTLS-PSK identity
 * "3GPP-bootstrapping" || B-TID becomes Ks_NAF and the AE-ID of the
 * subscriber's device.  See pz_naf.h; docs/bootstrap.md, "The NAF".
 *
 * Every step is a local store read (the bootstrapping context, the
 * subscriber, the device's record), so it runs inside the handshake.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "plaza/pz_err.h"
#include "plaza/pz_gba.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_naf.h"
#include "plaza/pz_store.h"

struct pz_naf {
	pz_bsf *bsf;                         /* borrowed */
	pz_core *core;                       /* borrowed */
	uint8_t naf_id[PZ_GBA_NAF_ID_MAX];   /* FQDN || 01 00 01 C0 A8 */
	size_t naf_id_len;
};

#define NAF_PREFIX_LEN (sizeof(PZ_NAF_PREFIX) - 1)

int pz_naf_new(const char *fqdn, pz_bsf *bsf, pz_core *core, pz_naf **out)
{
	pz_naf *n;
	int rc;

	*out = NULL;
	if (!fqdn || !bsf || !core)
		return PZ_EINVAL;
	n = pz_calloc(1, sizeof(*n));
	if (!n)
		return PZ_ENOMEM;
	rc = pz_gba_naf_id(fqdn, strlen(fqdn), pz_gba_ua_psk_ccm8, n->naf_id,
			   sizeof(n->naf_id), &n->naf_id_len);
	if (rc != PZ_OK) {
		pz_free(n);
		return PZ_EINVAL;
	}
	n->bsf = bsf;
	n->core = core;
	*out = n;
	return PZ_OK;
}

void pz_naf_free(pz_naf *naf)
{
	pz_free(naf);
}

bool pz_naf_claims(const char *identity)
{
	return identity && !strncmp(identity, PZ_NAF_PREFIX, NAF_PREFIX_LEN);
}

/* The AE-ID of the device impi is bound to, into orig. */
static int naf_orig(pz_naf *n, const char *impi, char *orig, size_t origlen,
		    const char **why)
{
	struct pz_store_sub sub;
	json_t *rec = NULL;
	const char *kind, *status, *aei;
	int rc;

	rc = pz_core_sub_get(n->core, impi, &sub);
	OPENSSL_cleanse(sub.k, sizeof(sub.k));
	OPENSSL_cleanse(sub.opc, sizeof(sub.opc));
	if (rc == PZ_ENOTFOUND) {
		*why = "the B-TID's subscriber is gone";
		return PZ_ENOTFOUND;
	}
	if (rc != PZ_OK) {
		*why = "cannot read the subscriber";
		return rc;
	}
	if (!sub.device[0]) {
		*why = "the subscriber has no device in the trust repository";
		return PZ_EPERM;
	}
	rc = pz_core_ident_get(n->core, sub.device, &rec);
	if (rc != PZ_OK) {
		*why = "the subscriber's device is not in the trust repository";
		return rc == PZ_ENOTFOUND || rc == PZ_EINVAL ? PZ_EPERM : rc;
	}
	kind = json_string_value(json_object_get(rec, "kind"));
	status = json_string_value(json_object_get(rec, "status"));
	aei = json_string_value(json_object_get(rec, "ae_id"));
	if (!kind || strcmp(kind, "device") || !status ||
	    strcmp(status, "active")) {
		*why = "the subscriber's device is not active";
		rc = PZ_EPERM;
	} else if (!aei || !aei[0]) {
		*why = "the subscriber's device has no AE-ID";
		rc = PZ_EPERM;
	} else if ((size_t)snprintf(orig, origlen, "%s", aei) >= origlen) {
		*why = "the device's AE-ID is too long";
		rc = PZ_ETOOBIG;
	}
	json_decref(rec);
	return rc;
}

int pz_naf_psk(pz_naf *n, const char *identity, uint8_t *key, char *orig,
	       size_t origlen, const char **why)
{
	struct pz_bsf_zn zn;
	struct pz_gba_btid bt;
	const char *btid, *dummy;
	int rc;

	if (!why)
		why = &dummy;
	memset(key, 0, PZ_GBA_KS_LEN);
	if (origlen)
		orig[0] = '\0';
	if (!pz_naf_claims(identity)) {
		*why = "not a GBA identity";
		return PZ_ENOTFOUND;
	}
	btid = identity + NAF_PREFIX_LEN;
	if (!strncmp(btid, "-uicc", 5) || !strncmp(btid, "-digest", 7)) {
		*why = "GBA_U and GBA_Digest identities are not served "
		       "(the BSF does GBA_ME only)";
		return PZ_EINVAL;
	}
	rc = pz_gba_btid_parse(btid, strlen(btid), &bt, why);
	if (rc != PZ_OK)
		return PZ_EINVAL;
	rc = pz_bsf_zn(n->bsf, btid, n->naf_id, n->naf_id_len, &zn);
	if (rc == PZ_ENOTFOUND)
		*why = "unknown or expired B-TID";
	else if (rc != PZ_OK)
		*why = "the BSF cannot derive Ks_NAF";
	if (rc == PZ_OK)
		rc = naf_orig(n, zn.impi, orig, origlen, why);
	if (rc == PZ_OK)
		memcpy(key, zn.ks_naf, PZ_GBA_KS_LEN);
	else if (origlen)
		orig[0] = '\0';
	OPENSSL_cleanse(&zn, sizeof(zn));
	return rc;
}
