/*
 * pz_naf.h - the NAF role of GBA (3GPP TS 33.220, TS 24.109 5.3.3) inside
 * plazad, over plaza's own BSF (pz_bsf.h): a DTLS-PSK identity
 * "3GPP-bootstrapping" || B-TID resolves to Ks_NAF with NAF_Id = the
 * configured NAF FQDN || the Ua id of TLS_PSK_WITH_AES_128_CCM_8
 * (01 00 01 C0 A8), and the authenticated originator is the AE-ID of
 * the subscriber's device in the trust repository.  docs/bootstrap.md,
 * "The NAF".
 *
 * Only the local BSF is served, synchronously: its lookups are local
 * store reads, fast enough inside a handshake.  An external BSF (Zn over
 * the network) is not implemented.
 *
 * Threads: the loop thread (it uses the core synchronously).
 */
#ifndef PZ_NAF_H
#define PZ_NAF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plaza/pz_bsf.h"
#include "plaza/pz_core.h"

/* The PSK identity prefix of GBA_ME (TS 24.109 5.3.3). */
#define PZ_NAF_PREFIX "3GPP-bootstrapping"

typedef struct pz_naf pz_naf;

/* pz_naf_new - a NAF named fqdn (a host name, copied into its NAF_Id)
 * over bsf and core (borrowed, outlive it).  PZ_OK; PZ_EINVAL (fqdn
 * empty or too long); PZ_ENOMEM. */
int pz_naf_new(const char *fqdn, pz_bsf *bsf, pz_core *core, pz_naf **out);
/* pz_naf_free - NULL is fine. */
void pz_naf_free(pz_naf *naf);

/* pz_naf_claims - does identity have a GBA prefix ("3GPP-bootstrapping",
 * with or without "-uicc" / "-digest")? */
bool pz_naf_claims(const char *identity);

/*
 * pz_naf_psk - the PSK and originator of the NUL-terminated identity:
 * Ks_NAF into key (PZ_GBA_KS_LEN octets) and the device's AE-ID into
 * orig (origlen octets).
 * why: OUT, set on failure to a static English reason naming no secret.
 * PZ_OK; PZ_ENOTFOUND (not a GBA identity, unknown or expired B-TID);
 * PZ_EINVAL (malformed B-TID; the "-uicc" and "-digest" variants, which
 * need GBA_U / GBA_Digest, not served); PZ_EPERM (no device, a device
 * without an AE-ID, or one not active); PZ_ETOOBIG (orig too small);
 * PZ_ESTORE; PZ_ENOMEM.  key is zeroed on failure.
 */
int pz_naf_psk(pz_naf *naf, const char *identity, uint8_t *key, char *orig,
	       size_t origlen, const char **why);

#endif
