/*
 * pz_bsf.h - plaza's own BSF (GBA bootstrapping server function, 3GPP TS
 * 33.220 / TS 24.109) for laboratories and private networks: the Ub
 * interface (HTTP Digest AKA, RFC 3310) that issues B-TIDs, and the
 * Zn-style key request by which a NAF obtains Ks_NAF.  docs/bootstrap.md
 * describes the exchange; the subscriber database is the store's
 * (pz_core_sub_*).
 *
 * Ub: the UE sends Authorization: Digest username=<IMPI> without a
 * response; the BSF answers 401 with a fresh authentication vector in
 * WWW-Authenticate (nonce = base64(RAND || AUTN || 8 random octets),
 * qop "auth-int", algorithm AKAv1-MD5).  The UE answers with the digest
 * computed from RES; the BSF answers 200 with the B-TID and its lifetime
 * in a TS 24.109 BootstrappingInfo body and Authentication-Info, and
 * stores Ks = CK || IK under the B-TID.  An Authorization with auts
 * resynchronises SQN (TS 33.102 6.3.5) and gets a new challenge.
 *
 * Unknown IMPIs get a challenge computed the same way from keys derived
 * (HMAC-SHA-256 under a per-process random key) from the IMPI, so status,
 * headers, body and the work done do not tell whether a subscriber
 * exists; their answers never verify.  Challenges wait in memory
 * (bounded; each nonce is good for one answer); SQN is persisted when a
 * bootstrap succeeds or a resynchronisation verifies, never on a
 * challenge alone.
 *
 * Threads: the loop thread (it uses the core synchronously).
 */
#ifndef PZ_BSF_H
#define PZ_BSF_H

#include <stddef.h>
#include <stdint.h>

#include "plaza/pz_core.h"

typedef struct pz_bsf pz_bsf;

struct pz_bsf_conf {
	const char *name;          /* BSF server name: the realm and the
				      B-TID's domain (a host name) */
	int64_t lifetime_s;        /* B-TID lifetime */
	int64_t challenge_s;       /* how long a challenge may be answered */
	unsigned max_pending;      /* challenges kept waiting at most */
};

/* pz_bsf_new - a BSF over core (borrowed, outlives it); conf copied.
 * PZ_OK; PZ_EINVAL (name not a host name, values out of range);
 * PZ_ENOMEM; PZ_EIO (no randomness). */
int pz_bsf_new(const struct pz_bsf_conf *conf, pz_core *core, pz_bsf **out);
/* pz_bsf_free - NULL is fine; pending challenges are wiped. */
void pz_bsf_free(pz_bsf *bsf);

/* One Ub request (all borrowed). */
struct pz_bsf_ub_in {
	const char *method;        /* "GET" or "POST" */
	const char *uri;           /* the request path (digest-uri) */
	const char *auth;          /* the Authorization header, or NULL */
	const uint8_t *body;       /* the entity body (auth-int) */
	size_t len;
};

/* Its answer: status, one header (name static, value owned) and a body
 * (owned) of type ctype (static).  pz_bsf_ub_out_free releases it. */
struct pz_bsf_ub_out {
	int status;                /* 200, 400, 401, 403 (the subscriber's
				      device is revoked), 405, 500 */
	const char *hname;         /* "WWW-Authenticate",
				      "Authentication-Info" or NULL */
	char *hvalue;
	char *body;
	const char *ctype;
};

/* pz_bsf_ub - answer one Ub request into *out (zeroed first).  Returns
 * out->status.  Every outcome is logged without secrets. */
int pz_bsf_ub(pz_bsf *bsf, const struct pz_bsf_ub_in *in,
	      struct pz_bsf_ub_out *out);
void pz_bsf_ub_out_free(struct pz_bsf_ub_out *out);

/* Zn: what a NAF gets for a B-TID. */
struct pz_bsf_zn {
	uint8_t ks_naf[32];        /* Ks_NAF (GBA_ME) */
	char impi[256];            /* the subscriber */
	int64_t expires;           /* of the B-TID, microseconds */
};

/*
 * pz_bsf_zn - Ks_NAF for the B-TID btid and the NAF_Id naf_id
 * (naf_id_len octets: NAF FQDN || Ua protocol id, 6 to 258) into *out.
 * PZ_OK; PZ_ENOTFOUND (unknown or expired B-TID, not told apart);
 * PZ_EINVAL (bad NAF_Id); PZ_ESTORE; PZ_ENOMEM.
 */
int pz_bsf_zn(pz_bsf *bsf, const char *btid, const uint8_t *naf_id,
	      size_t naf_id_len, struct pz_bsf_zn *out);

#endif
