/*
 * pz_milenage.h - the 3GPP Milenage algorithm set (TS 35.206): the
 * authentication and key generation functions f1, f1*, f2, f3, f4, f5 and
 * f5* of UMTS/LTE/5G AKA, built on AES-128, with the operator variant
 * OPc = OP xor E_K(OP).
 *
 * With TEMP = E_K(RAND xor OPc) and rot(x, r) the left rotation of a
 * 128-bit block by r bits:
 *
 *   OUT1 = E_K(TEMP xor rot(IN1 xor OPc, r1) xor c1) xor OPc,
 *          IN1 = SQN || AMF || SQN || AMF
 *   OUTi = E_K(rot(TEMP xor OPc, ri) xor ci) xor OPc,   i = 2 .. 5
 *
 *   f1 = OUT1[0..7]   f1* = OUT1[8..15]   f5 = OUT2[0..5]  f2 = OUT2[8..15]
 *   f3 = OUT3         f4  = OUT4          f5* = OUT5[0..5]
 *
 * with the standard constants r1..r5 = 64, 0, 32, 64, 96 bits and c1..c5
 * = 0, 1, 2, 4, 8 (in the last octet).  Verified against the TS 35.208
 * test sets 1-6 (tests/unit/test_milenage.c).
 *
 * A struct pz_milenage holds one subscriber's K (as an AES-128 key
 * schedule in a libcrypto EVP context) and OPc: pz_milenage_init expands
 * the key once and every later call reuses it, so an authentication
 * centre computing many vectors for one K pays for the key schedule
 * once.  The struct is the caller's (on the stack or embedded); init
 * allocates the EVP context, the only allocation, and pz_milenage_done
 * frees it and wipes OPc.  The functions themselves allocate nothing.
 *
 * All byte strings are in the order of the specification (RAND, SQN, AMF
 * and the outputs are octet strings, most significant octet first).
 * Output buffers may not overlap the inputs.
 *
 * Threads: no global state.  A struct pz_milenage is used by one thread
 * at a time; distinct ones may be used concurrently.
 */
#ifndef PZ_MILENAGE_H
#define PZ_MILENAGE_H

#include <stddef.h>
#include <stdint.h>

#define PZ_MILENAGE_K_LEN    16  /* K, OP, OPc */
#define PZ_MILENAGE_RAND_LEN 16
#define PZ_MILENAGE_SQN_LEN  6
#define PZ_MILENAGE_AMF_LEN  2
#define PZ_MILENAGE_MAC_LEN  8   /* f1 (MAC-A), f1* (MAC-S) */
#define PZ_MILENAGE_RES_LEN  8   /* f2 */
#define PZ_MILENAGE_CK_LEN   16  /* f3 */
#define PZ_MILENAGE_IK_LEN   16  /* f4 */
#define PZ_MILENAGE_AK_LEN   6   /* f5, f5* */

struct evp_cipher_ctx_st;

/* One subscriber's K and OPc.  Fields are private to milenage.c. */
struct pz_milenage {
	struct evp_cipher_ctx_st *aes;        /* AES-128-ECB keyed with K */
	uint8_t opc[PZ_MILENAGE_K_LEN];       /* OPc */
};

/* Every output of one (RAND, SQN, AMF), from pz_milenage_vector. */
struct pz_milenage_out {
	uint8_t mac_a[PZ_MILENAGE_MAC_LEN];   /* f1 */
	uint8_t mac_s[PZ_MILENAGE_MAC_LEN];   /* f1* */
	uint8_t res[PZ_MILENAGE_RES_LEN];     /* f2 */
	uint8_t ck[PZ_MILENAGE_CK_LEN];       /* f3 */
	uint8_t ik[PZ_MILENAGE_IK_LEN];       /* f4 */
	uint8_t ak[PZ_MILENAGE_AK_LEN];       /* f5 */
	uint8_t ak_s[PZ_MILENAGE_AK_LEN];     /* f5* */
};

/*
 * pz_milenage_init - set m up for the subscriber key k (k_len octets) and
 * the OPc opc (opc_len octets); both borrowed for the call and copied.
 * m is overwritten (it need not have been initialised); on success it
 * must be released with pz_milenage_done.
 * PZ_OK; PZ_EINVAL (m, k or opc NULL, or a length other than 16; m is
 * then left with no context, so pz_milenage_done on it is harmless);
 * PZ_ENOMEM (libcrypto failed).
 */
int pz_milenage_init(struct pz_milenage *m, const uint8_t *k, size_t k_len,
		     const uint8_t *opc, size_t opc_len);

/*
 * pz_milenage_init_op - as pz_milenage_init, from the operator's OP
 * instead of OPc (OPc = OP xor E_K(OP) is computed with the same key
 * schedule).  Same codes.
 */
int pz_milenage_init_op(struct pz_milenage *m, const uint8_t *k,
			size_t k_len, const uint8_t *op, size_t op_len);

/*
 * pz_milenage_done - free m's context and wipe its OPc.  Accepts NULL,
 * and an m whose init failed or that is already done.
 */
void pz_milenage_done(struct pz_milenage *m);

/*
 * pz_milenage_opc - OPc of k and op into opc (a one-off: a key schedule
 * is set up and released inside).  PZ_OK, PZ_EINVAL (NULL), PZ_ENOMEM.
 */
int pz_milenage_opc(const uint8_t k[PZ_MILENAGE_K_LEN],
		    const uint8_t op[PZ_MILENAGE_K_LEN],
		    uint8_t opc[PZ_MILENAGE_K_LEN]);

/*
 * pz_milenage_get_opc - copy m's OPc into opc (for pz_milenage_init_op
 * callers that store OPc).  PZ_OK, PZ_EINVAL (NULL, or m not
 * initialised).
 */
int pz_milenage_get_opc(const struct pz_milenage *m,
			uint8_t opc[PZ_MILENAGE_K_LEN]);

/*
 * pz_milenage_f1 - the network authentication code MAC-A = f1 of rand,
 * sqn and amf into mac_a.  Two AES blocks.
 * PZ_OK; PZ_EINVAL (a NULL argument, or m not initialised); PZ_ENOMEM
 * (libcrypto failed; outputs unspecified).  The same codes for every
 * function below.
 */
int pz_milenage_f1(const struct pz_milenage *m,
		   const uint8_t rand[PZ_MILENAGE_RAND_LEN],
		   const uint8_t sqn[PZ_MILENAGE_SQN_LEN],
		   const uint8_t amf[PZ_MILENAGE_AMF_LEN],
		   uint8_t mac_a[PZ_MILENAGE_MAC_LEN]);

/*
 * pz_milenage_f1star - the resynchronisation code MAC-S = f1* (the same
 * OUT1 as f1, its second half) into mac_s.  Used with AMF = 0000 for
 * AUTS (TS 33.102 6.3.3).
 */
int pz_milenage_f1star(const struct pz_milenage *m,
		       const uint8_t rand[PZ_MILENAGE_RAND_LEN],
		       const uint8_t sqn[PZ_MILENAGE_SQN_LEN],
		       const uint8_t amf[PZ_MILENAGE_AMF_LEN],
		       uint8_t mac_s[PZ_MILENAGE_MAC_LEN]);

/*
 * pz_milenage_f2345 - RES (f2), CK (f3), IK (f4) and AK (f5) of rand into
 * res, ck, ik and ak; any of the four may be NULL when not wanted (at
 * least one must be given).  Four AES blocks, the last three in one
 * libcrypto call.
 */
int pz_milenage_f2345(const struct pz_milenage *m,
		      const uint8_t rand[PZ_MILENAGE_RAND_LEN],
		      uint8_t res[PZ_MILENAGE_RES_LEN],
		      uint8_t ck[PZ_MILENAGE_CK_LEN],
		      uint8_t ik[PZ_MILENAGE_IK_LEN],
		      uint8_t ak[PZ_MILENAGE_AK_LEN]);

/*
 * pz_milenage_f5star - the resynchronisation anonymity key AK = f5* of
 * rand into ak_s.
 */
int pz_milenage_f5star(const struct pz_milenage *m,
		       const uint8_t rand[PZ_MILENAGE_RAND_LEN],
		       uint8_t ak_s[PZ_MILENAGE_AK_LEN]);

/*
 * pz_milenage_vector - every function (f1, f1*, f2..f5, f5*) of one
 * (rand, sqn, amf) into out: six AES blocks in two libcrypto calls, the
 * cheapest way to build a full authentication vector.  out is wiped
 * (zeroed) on failure.
 */
int pz_milenage_vector(const struct pz_milenage *m,
		       const uint8_t rand[PZ_MILENAGE_RAND_LEN],
		       const uint8_t sqn[PZ_MILENAGE_SQN_LEN],
		       const uint8_t amf[PZ_MILENAGE_AMF_LEN],
		       struct pz_milenage_out *out);

#endif
