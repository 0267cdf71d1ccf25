/*
 * pzdev_gba.c - Ks_NAF and the GBA PSK identity on plaza's Milenage and
 * KDF (see pzdev_gba.h).
 */
#include <string.h>

#include <openssl/crypto.h>

#include "plaza/pz_err.h"
#include "plaza/pz_gba.h"
#include "plaza/pz_milenage.h"

#include "pzdev_gba.h"

int pzdev_gba_psk(const struct pzdev_gba_in *in,
		  uint8_t key[PZDEV_GBA_KEY_LEN], char *id, size_t id_size)
{
	struct pz_milenage m = { 0 };
	uint8_t ck[PZ_GBA_CK_LEN], ik[PZ_GBA_IK_LEN], ks[PZ_GBA_KS_LEN];
	uint8_t naf_id[PZ_GBA_NAF_ID_MAX];
	size_t naf_len = 0, plen = strlen(PZDEV_GBA_PREFIX);
	int rc = PZ_OK;

	if (!in || !in->k || !in->opc || !in->rand || !in->impi ||
	    !in->naf_fqdn || !in->bsf || !key || !id) {
		rc = PZ_EINVAL;
		goto out;
	}
	if (id_size <= plen) {
		rc = PZ_ETOOBIG;
		goto out;
	}
	rc = pz_milenage_init(&m, in->k, PZ_MILENAGE_K_LEN, in->opc,
			      PZ_MILENAGE_K_LEN);
	if (!rc)
		rc = pz_milenage_f2345(&m, in->rand, NULL, ck, ik, NULL);
	if (!rc)
		rc = pz_gba_ks(ck, ik, ks);
	if (!rc)
		rc = pz_gba_naf_id(in->naf_fqdn, strlen(in->naf_fqdn),
				   pz_gba_ua_psk_ccm8, naf_id, sizeof(naf_id),
				   &naf_len);
	if (!rc)
		rc = pz_gba_ks_naf(ks, in->rand, in->impi, strlen(in->impi),
				   naf_id, naf_len, key);
	if (!rc) {
		memcpy(id, PZDEV_GBA_PREFIX, plen);
		rc = pz_gba_btid_format(in->rand, in->bsf, strlen(in->bsf),
					id + plen, id_size - plen, NULL);
	}
out:
	pz_milenage_done(&m);
	OPENSSL_cleanse(ck, sizeof(ck));
	OPENSSL_cleanse(ik, sizeof(ik));
	OPENSSL_cleanse(ks, sizeof(ks));
	if (rc && key)
		OPENSSL_cleanse(key, PZDEV_GBA_KEY_LEN);
	return rc;
}
