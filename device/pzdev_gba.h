/*
 * pzdev_gba.h - the device side of GBA (3GPP TS 33.220) for pzdev: from a
 * simulated SIM's K and OPc and the RAND of a bootstrap, Milenage f3/f4
 * give CK and IK, Ks = CK || IK, and Ks_NAF = KDF(Ks; 0x01, "gba-me",
 * RAND, IMPI, NAF_Id) with NAF_Id = NAF FQDN || 01 00 01 C0 A8 (the Ua
 * identifier of TLS_PSK_WITH_AES_128_CCM_8).  Ks_NAF is the DTLS PSK and
 * "3GPP-bootstrapping" || B-TID its identity (shared/spec/security.md
 * sections 1.2 and 2).
 *
 * This reuses plaza's src/boot/milenage.c and kdf.c, which are pure
 * functions over libcrypto (AES-128, HMAC-SHA-256): on a device a port
 * swaps those two primitives for mbedTLS's (docs/device.md).  No Ub
 * exchange happens here: RAND and the BSF name come from the caller, as a
 * BSF would have given them.
 */
#ifndef PZDEV_GBA_H
#define PZDEV_GBA_H

#include <stddef.h>
#include <stdint.h>

#define PZDEV_GBA_PREFIX "3GPP-bootstrapping"
#define PZDEV_GBA_KEY_LEN 32
/* The identity: the prefix, a B-TID of at most 24 + 1 + 253 octets. */
#define PZDEV_GBA_ID_SIZE (sizeof(PZDEV_GBA_PREFIX) + 24 + 1 + 253)

/* What a bootstrap gives the device; every pointer borrowed. */
struct pzdev_gba_in {
	const uint8_t *k;        /* 16 octets: the SIM's K */
	const uint8_t *opc;      /* 16 octets: OPc */
	const uint8_t *rand;     /* 16 octets: RAND of the bootstrap */
	const char *impi;        /* the IMPI */
	const char *naf_fqdn;    /* the NAF's (plaza's) FQDN */
	const char *bsf;         /* the BSF's host name, for the B-TID */
};

/*
 * pzdev_gba_psk - Ks_NAF into key, and the PSK identity "3GPP-
 * bootstrapping" || B-TID (NUL-terminated) into id (id_size octets;
 * PZDEV_GBA_ID_SIZE suffices).  Intermediate keys are wiped.
 * Returns 0, or a pz_err code of plaza's boot functions (PZ_EINVAL for a
 * bad input, PZ_ETOOBIG for a small id, PZ_ENOMEM if libcrypto failed).
 */
int pzdev_gba_psk(const struct pzdev_gba_in *in,
		  uint8_t key[PZDEV_GBA_KEY_LEN], char *id, size_t id_size);

#endif
