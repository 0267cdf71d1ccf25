/*
 * pzdev_gba.h - the device side of GBA (3GPP TS 33.220) for pzdev: from a
 * simulated SIM's K and OPc and the RAND of a bootstrap, Milenage f3/f4
 * give CK and IK, Ks = CK || IK, and Ks_NAF = KDF(Ks; 0x01, "gba-me",
 * RAND, IMPI, NAF_Id) with NAF_Id = NAF FQDN || 01 00 01 C0 A8 (the Ua
 * identifier of TLS_PSK_WITH_AES_128_CCM_8).  Ks_NAF is the DTLS PSK and
 * "3GPP-bootstrapping" || B-TID its identity (shared/spec/security.md
 * sections 1.2 and 2).
 *
 * pzdev_gba_psk takes RAND and the BSF name from the caller, as a BSF
 * would have given them; pzdev_gba_bootstrap runs the Ub exchange itself
 * (TS 24.109, HTTP Digest AKA of RFC 3310) against a BSF over
 * pzdev_http.h and derives the same.
 *
 * This reuses plaza's src/boot/milenage.c, kdf.c and digest.c, which are
 * pure functions over libcrypto (AES-128, HMAC-SHA-256, MD5) and
 * plaza's pz_err codes, nothing else: on a device a port swaps those
 * primitives for mbedTLS's (docs/device.md).
 */
#ifndef PZDEV_GBA_H
#define PZDEV_GBA_H

#include <stdbool.h>
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

/* The B-TID (base64 of RAND, '@', a host name) and lifetime limits. */
#define PZDEV_GBA_BTID_MAX (24 + 1 + 253)
#define PZDEV_GBA_LIFETIME_MAX 40
#define PZDEV_GBA_UB_PATH "/.plaza/bsf/ub"

/* A Ub bootstrap's inputs; every pointer borrowed for the call. */
struct pzdev_gba_ub {
	const char *host;        /* the BSF: numeric IPv4 or IPv6 address */
	uint16_t port;           /* its HTTP port */
	const char *path;        /* NULL: PZDEV_GBA_UB_PATH */
	const char *impi;        /* the IMPI (Digest username), <= 255 */
	const uint8_t *k;        /* 16 octets: the SIM's K */
	const uint8_t *opc;      /* 16 octets: OPc */
	const char *naf_fqdn;    /* the NAF's (plaza's) FQDN */
	uint64_t sqn_ms;         /* in/out: the SIM's highest accepted SQN */
	unsigned timeout_ms;     /* bound of each HTTP exchange */
};

/* What a bootstrap gives (the caller's; wiped on failure). */
struct pzdev_gba_boot {
	char btid[PZDEV_GBA_BTID_MAX + 1];         /* as the BSF sent it */
	char lifetime[PZDEV_GBA_LIFETIME_MAX + 1]; /* xs:dateTime, as sent */
	char id[PZDEV_GBA_ID_SIZE];     /* "3GPP-bootstrapping" || B-TID */
	uint8_t ks_naf[PZDEV_GBA_KEY_LEN];         /* the DTLS PSK */
	bool resynced;           /* an AUTS was sent (SQN out of range) */
};

/*
 * pzdev_gba_bootstrap - bootstrap over Ub with the BSF at ub->host:port:
 * GET with Authorization: Digest username=IMPI; the 401's nonce is
 * base64(RAND || AUTN || ...); the simulated SIM checks AUTN's MAC-A (f1)
 * and that its SQN exceeds ub->sqn_ms (else it answers with AUTS = SQN_MS
 * ^ f5* || f1*, at most once, and takes the fresh challenge), answers
 * with the auth-int digest with RES as the password, checks the 200's
 * rspauth, and reads <btid> and <lifetime> from its TS 24.109 body.  Then
 * Ks = CK || IK, Ks_NAF for naf_fqdn (pzdev_gba_psk's derivation, with
 * the RAND and IMPI of this run) and the identity, into *out.
 * ub->sqn_ms is raised to the SQN accepted.  why (OUT, may be NULL): a
 * static sentence on failure.  Uses about 5 KiB of stack, no heap but
 * libcrypto's (docs/device.md).
 * PZDEV_OK; PZDEV_EINVAL; PZDEV_ENET; PZDEV_ETIMEOUT; PZDEV_ETOOBIG;
 * PZDEV_EPARSE (malformed HTTP, challenge or body); PZDEV_EAUTN (the
 * challenge's MAC-A does not verify: not our network's, or K/OPc
 * wrong); PZDEV_EAUTH (the BSF refused the answer, 401 or 403; SQN still
 * out of range after a resynchronisation; a wrong rspauth).
 */
int pzdev_gba_bootstrap(struct pzdev_gba_ub *ub, struct pzdev_gba_boot *out,
			const char **why);

#endif
