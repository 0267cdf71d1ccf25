/*
 * pz_gba.h - the key derivations of network-based bootstrapping: the
 * generic KDF of 3GPP TS 33.220 Annex B.2 and, on it, GBA (TS 33.220:
 * Ks, Ks_(ext/int)_NAF, NAF_Id, B-TID) and AKMA (TS 33.535 Annex A:
 * K_AKMA, A-TID, K_AF); plus the derivations of oneM2M TS-0003's
 * pre-provisioned symmetric key RSPF (Ke/KeID, Km, Kpsa, usage-constrained
 * keys), which are plain HMAC-SHA-256.  Facts and vectors:
 * shared/spec/security.md sections 1 and 3.
 *
 * The KDF (Annex B.2):
 *
 *   S   = FC || P0 || L0 || P1 || L1 || ... || Pn || Ln
 *   out = HMAC-SHA-256(Key, S)
 *
 * with FC one octet and Li the length of Pi in octets, two octets big-
 * endian (so no Pi is longer than 65,535 octets).  Users of 128-bit keys
 * take the 16 rightmost octets.  One function serves GBA (FC 0x01), EPS
 * (0x10, 0x11, ...), EAP-AKA' (0x20), 5G (0x6A, ...) and AKMA (0x80..0x82).
 * The 0xFF || x escape for two-octet FCs is not supported (no derivation
 * here needs it).
 *
 * Strings (IMPI, SUPI, FQDNs, identifiers) are taken as the octets given,
 * with explicit lengths; the specifications want them UTF-8 in NFKC,
 * which for the ASCII identifiers used in practice is the identity.
 * plaza does not normalise.  Every identifier is between 1 and
 * PZ_GBA_ID_MAX octets, every FQDN between 1 and PZ_GBA_FQDN_MAX.
 *
 * Memory: nothing is allocated by the caller; all outputs are fixed-size
 * buffers.  HMAC comes from libcrypto's EVP_MAC, which allocates inside
 * each call (so any derivation can fail with PZ_ENOMEM); intermediate
 * secrets are wiped before returning.  Outputs may not overlap inputs.
 *
 * Threads: no global state; every function may run in any thread.
 */
#ifndef PZ_GBA_H
#define PZ_GBA_H

#include <stddef.h>
#include <stdint.h>

#define PZ_GBA_KDF_LEN        32   /* the KDF's full output */
#define PZ_GBA_KDF_MAX_PARAMS 16   /* P0 .. P15 */
#define PZ_GBA_PARAM_MAX      65535
#define PZ_GBA_KEY_MAX        256  /* KDF keys (Ks, K_AUSF, ... are 32) */
#define PZ_GBA_KS_LEN         32   /* Ks = CK || IK; Ks_NAF; K_AKMA; K_AF */
#define PZ_GBA_CK_LEN         16
#define PZ_GBA_IK_LEN         16
#define PZ_GBA_RAND_LEN       16
#define PZ_GBA_UA_ID_LEN      5    /* Ua security protocol identifier */
#define PZ_GBA_ID_MAX         255  /* IMPI, SUPI, RSPF identifiers */
#define PZ_GBA_FQDN_MAX       253  /* a DNS name in text form */
#define PZ_GBA_NAF_ID_MAX     (PZ_GBA_FQDN_MAX + PZ_GBA_UA_ID_LEN)
/* base64(RAND) is 24 characters (22 and "=="). */
#define PZ_GBA_BTID_B64_LEN   24
/* Longest B-TID, and a buffer for it with its NUL. */
#define PZ_GBA_BTID_MAX       (PZ_GBA_BTID_B64_LEN + 1 + PZ_GBA_FQDN_MAX)
#define PZ_GBA_BTID_SIZE      (PZ_GBA_BTID_MAX + 1)

/* The FCs used here (TS 33.220 B.2.2, TS 33.535 A.2-A.4). */
#define PZ_GBA_FC_NAF         0x01
#define PZ_GBA_FC_AKMA        0x80
#define PZ_GBA_FC_ATID        0x81
#define PZ_GBA_FC_KAF         0x82

/* Ua security protocol identifiers (TS 33.220 Annex H), 5 octets:
 * HTTP Digest (01 00 00 00 02), shared-key TLS 1.3 (01 00 00 00 07). */
extern const uint8_t pz_gba_ua_http_digest[PZ_GBA_UA_ID_LEN];
extern const uint8_t pz_gba_ua_tls13[PZ_GBA_UA_ID_LEN];
/* Shared-key TLS with TLS_PSK_WITH_AES_128_CCM_8 (01 00 01 C0 A8), the
 * suite of CoAP over DTLS-PSK (RFC 7252, RFC 7925). */
extern const uint8_t pz_gba_ua_psk_ccm8[PZ_GBA_UA_ID_LEN];

/* One KDF parameter Pi: len octets at p (borrowed; NULL only if len 0). */
struct pz_gba_param {
	const void *p;     /* Pi */
	size_t len;        /* its length, at most PZ_GBA_PARAM_MAX */
};

/*
 * pz_gba_kdf - the TS 33.220 Annex B.2 KDF of key (key_len octets, 1 to
 * PZ_GBA_KEY_MAX), fc and the n parameters params[0..n-1] (n at most
 * PZ_GBA_KDF_MAX_PARAMS; 0 gives S = FC) into out: out_len is
 * PZ_GBA_KDF_LEN for the whole output, or 16 for its rightmost 16 octets.
 * PZ_OK; PZ_EINVAL (NULL key or out, NULL params with n > 0, a NULL Pi
 * with a length, a length out of range, out_len neither 16 nor 32);
 * PZ_ENOMEM (libcrypto failed; out is then zeroed).
 */
int pz_gba_kdf(const uint8_t *key, size_t key_len, uint8_t fc,
	       const struct pz_gba_param *params, size_t n, uint8_t *out,
	       size_t out_len);

/* --- GBA (TS 33.220) ---------------------------------------------------- */

/* pz_gba_ks - Ks = CK || IK into ks.  PZ_OK, PZ_EINVAL (NULL). */
int pz_gba_ks(const uint8_t ck[PZ_GBA_CK_LEN], const uint8_t ik[PZ_GBA_IK_LEN],
	      uint8_t ks[PZ_GBA_KS_LEN]);

/*
 * pz_gba_naf_id - NAF_Id = FQDN || Ua security protocol identifier (the
 * same form is AKMA's AF_ID) into out (room for out_size octets; it needs
 * fqdn_len + 5), its length into *out_len.  fqdn is fqdn_len octets (1 to
 * PZ_GBA_FQDN_MAX), taken as given (a DNS name in the case the NAF uses:
 * the derivation is case-sensitive).
 * PZ_OK; PZ_EINVAL (NULL, fqdn_len 0 or over PZ_GBA_FQDN_MAX); PZ_ETOOBIG
 * (out_size too small; nothing written).
 */
int pz_gba_naf_id(const char *fqdn, size_t fqdn_len,
		  const uint8_t ua[PZ_GBA_UA_ID_LEN], uint8_t *out,
		  size_t out_size, size_t *out_len);

/*
 * pz_gba_ks_naf - Ks_NAF (GBA_ME) = KDF(Ks; 0x01, "gba-me", RAND, IMPI,
 * NAF_Id) into out.  The same derivation from the UICC's Ks gives GBA_U's
 * Ks_ext_NAF.  impi is impi_len octets (1 to PZ_GBA_ID_MAX), naf_id
 * naf_id_len (PZ_GBA_UA_ID_LEN + 1 to PZ_GBA_NAF_ID_MAX), normally from
 * pz_gba_naf_id.
 * PZ_OK; PZ_EINVAL (NULL, a length out of range); PZ_ENOMEM.
 */
int pz_gba_ks_naf(const uint8_t ks[PZ_GBA_KS_LEN],
		  const uint8_t rand[PZ_GBA_RAND_LEN], const char *impi,
		  size_t impi_len, const uint8_t *naf_id, size_t naf_id_len,
		  uint8_t out[PZ_GBA_KS_LEN]);

/*
 * pz_gba_ks_int_naf - GBA_U's Ks_int_NAF, kept in the UICC: as
 * pz_gba_ks_naf with P0 "gba-u".  Same codes.
 */
int pz_gba_ks_int_naf(const uint8_t ks[PZ_GBA_KS_LEN],
		      const uint8_t rand[PZ_GBA_RAND_LEN], const char *impi,
		      size_t impi_len, const uint8_t *naf_id,
		      size_t naf_id_len, uint8_t out[PZ_GBA_KS_LEN]);

/*
 * pz_gba_btid_format - the B-TID of TS 33.220 4.5.2,
 * base64(RAND) "@" BSF server name, NUL-terminated into out (out_size
 * octets; PZ_GBA_BTID_SIZE always suffices); its length, without the NUL,
 * into *len when len is not NULL.  base64 is RFC 4648's standard alphabet
 * with padding (24 characters).  bsf is bsf_len octets and must pass the
 * same check as in pz_gba_btid_parse, so every formatted B-TID parses.
 * PZ_OK; PZ_EINVAL (NULL, bsf not a host name); PZ_ETOOBIG (out_size too
 * small; out then holds "" if out_size > 0).
 */
int pz_gba_btid_format(const uint8_t rand[PZ_GBA_RAND_LEN], const char *bsf,
		       size_t bsf_len, char *out, size_t out_size,
		       size_t *len);

/* A parsed B-TID. */
struct pz_gba_btid {
	uint8_t rand[PZ_GBA_RAND_LEN];   /* the RAND base64 encodes */
	const char *server;              /* the BSF name, into the input */
	size_t server_len;               /* its length */
};

/*
 * pz_gba_btid_parse - parse the len octets at s (no NUL needed; s
 * borrowed, and out->server points into it) as a B-TID of the form
 * pz_gba_btid_format writes: exactly 24 characters of canonical base64
 * (standard alphabet, "==" padding, the unused low bits zero) of a 16-
 * octet RAND, "@", then a host name: dot-separated labels of 1 to 63
 * letters, digits and hyphens, not starting or ending with a hyphen, at
 * most PZ_GBA_FQDN_MAX octets in all, no trailing dot.  This is the form
 * plaza's BSF issues; B-TIDs of other BSFs are opaque identifiers and are
 * only ever compared, never parsed.
 * why: OUT, may be NULL; on failure set to a static English reason
 *      ("B-TID: ..."), which names no input byte, so it can be logged;
 *      untouched on success.
 * PZ_OK; PZ_EINVAL (NULL, or malformed: *out is then zeroed); PZ_ETOOBIG
 * (len over PZ_GBA_BTID_MAX, *out zeroed).
 */
int pz_gba_btid_parse(const char *s, size_t len, struct pz_gba_btid *out,
		      const char **why);

/* --- AKMA (TS 33.535 Annex A) ------------------------------------------- */

/*
 * pz_gba_akma_kakma - K_AKMA = KDF(K_AUSF; 0x80, "AKMA", SUPI) into out.
 * supi is supi_len octets (1 to PZ_GBA_ID_MAX): an IMSI-based SUPI is its
 * digit string ("001010000000001"), otherwise the NAI (TS 33.501 A.7.0).
 * PZ_OK; PZ_EINVAL (NULL, length out of range); PZ_ENOMEM.
 */
int pz_gba_akma_kakma(const uint8_t kausf[PZ_GBA_KS_LEN], const char *supi,
		      size_t supi_len, uint8_t out[PZ_GBA_KS_LEN]);

/*
 * pz_gba_akma_atid - A-TID = KDF(K_AUSF; 0x81, "A-TID", SUPI) into out (32
 * octets; how the A-KID's username encodes it is TS 23.003's and not
 * implemented here).  Same codes.
 */
int pz_gba_akma_atid(const uint8_t kausf[PZ_GBA_KS_LEN], const char *supi,
		     size_t supi_len, uint8_t out[PZ_GBA_KS_LEN]);

/*
 * pz_gba_akma_kaf - K_AF = KDF(K_AKMA; 0x82, AF_ID) into out, AF_ID =
 * AF FQDN || Ua* protocol id (built with pz_gba_naf_id), af_id_len
 * octets (PZ_GBA_UA_ID_LEN + 1 to PZ_GBA_NAF_ID_MAX).  Same codes.
 */
int pz_gba_akma_kaf(const uint8_t kakma[PZ_GBA_KS_LEN], const uint8_t *af_id,
		    size_t af_id_len, uint8_t out[PZ_GBA_KS_LEN]);

/* --- oneM2M TS-0003 pre-provisioned symmetric key RSPF ------------------ */

/* The RFC 5705 exporter label of the Enrolment, and its output length. */
#define PZ_GBA_RSPF_EXPORT_LABEL "EXPORTER-oneM2M-Bootstrap"
#define PZ_GBA_RSPF_EXPORT_LEN   48
#define PZ_GBA_RSPF_KE_LEN       32
#define PZ_GBA_RSPF_RELKEID_LEN  16
/* Longest KeID: 32 hex digits, "@", an FQDN; and a buffer with its NUL. */
#define PZ_GBA_RSPF_KEID_MAX \
	(2 * PZ_GBA_RSPF_RELKEID_LEN + 1 + PZ_GBA_FQDN_MAX)
#define PZ_GBA_RSPF_KEID_SIZE (PZ_GBA_RSPF_KEID_MAX + 1)

/*
 * pz_gba_rspf_ke - split the 48 octets exported from the Enrolment's
 * (D)TLS session (label PZ_GBA_RSPF_EXPORT_LABEL) into Ke, the 32 least
 * significant octets (the last 32), and RelativeKeID, the 16 most
 * significant (the first 16).  PZ_OK, PZ_EINVAL (NULL).
 */
int pz_gba_rspf_ke(const uint8_t exported[PZ_GBA_RSPF_EXPORT_LEN],
		   uint8_t ke[PZ_GBA_RSPF_KE_LEN],
		   uint8_t rel_keid[PZ_GBA_RSPF_RELKEID_LEN]);

/*
 * pz_gba_rspf_keid - KeID = hex(RelativeKeID) "@" MEF FQDN, lower-case
 * hex, NUL-terminated into out (out_size octets; PZ_GBA_RSPF_KEID_SIZE
 * suffices), its length into *len when not NULL.  The case of the hex
 * digits is our choice (TS-0003 as read does not fix it).
 * PZ_OK; PZ_EINVAL (NULL, mef_len 0 or over PZ_GBA_FQDN_MAX); PZ_ETOOBIG.
 */
int pz_gba_rspf_keid(const uint8_t rel_keid[PZ_GBA_RSPF_RELKEID_LEN],
		     const char *mef, size_t mef_len, char *out,
		     size_t out_size, size_t *len);

/*
 * pz_gba_rspf_km - Km = HMAC-SHA-256(Ke, "oneM2M Enrolment Key to Master
 * Credential derivation" || MAF-ID) into out; maf_id is 1 to
 * PZ_GBA_ID_MAX octets.  PZ_OK; PZ_EINVAL; PZ_ENOMEM.
 */
int pz_gba_rspf_km(const uint8_t ke[PZ_GBA_RSPF_KE_LEN], const char *maf_id,
		   size_t maf_id_len, uint8_t out[PZ_GBA_KS_LEN]);

/*
 * pz_gba_rspf_kpsa - Kpsa = HMAC-SHA-256(Ke, "oneM2M Enrolment Key to
 * Provisioned Secure Connection Key derivation" || Enrolee-B-ID) into
 * out.  Same codes.
 */
int pz_gba_rspf_kpsa(const uint8_t ke[PZ_GBA_RSPF_KE_LEN],
		     const char *enrolee, size_t enrolee_len,
		     uint8_t out[PZ_GBA_KS_LEN]);

/*
 * pz_gba_rspf_kuc - the usage-constrained symmetric key HMAC-SHA-256(Ke,
 * "oneM2M Enrolment Key to Usage-Constrained Symmetric Key derivation" ||
 * SUID || Target-ID) into out; suid and target are 1 to PZ_GBA_ID_MAX
 * octets each.  Same codes.
 */
int pz_gba_rspf_kuc(const uint8_t ke[PZ_GBA_RSPF_KE_LEN], const char *suid,
		    size_t suid_len, const char *target, size_t target_len,
		    uint8_t out[PZ_GBA_KS_LEN]);

#endif
