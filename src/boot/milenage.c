/*
 * milenage.c - 3GPP Milenage, TS 35.206 (see pz_milenage.h).
 *
 * AES-128 comes from libcrypto's EVP interface in ECB mode with padding
 * off: the context keyed in pz_milenage_init encrypts any number of whole
 * blocks per EVP_EncryptUpdate and never holds back data, so it can be
 * reused for every later call without EVP_EncryptFinal.  Blocks that do
 * not depend on each other (OUT1..OUT5 all depend only on TEMP) go through
 * one call, which lets AES-NI pipeline them.
 *
 * Intermediate blocks (TEMP, the cipher inputs and outputs) are derived
 * from K and are wiped before returning, as is OPc in pz_milenage_done.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "plaza/pz_err.h"
#include "plaza/pz_milenage.h"

#define BL 16   /* the AES block, and K, OP, OPc, RAND */

/* The rotations r1..r5 in octets (64, 0, 32, 64, 96 bits) and the
 * constants c1..c5, which differ from zero in their last octet only. */
static const uint8_t ml_rot[5] = { 8, 0, 4, 8, 12 };
static const uint8_t ml_c[5] = { 0, 1, 2, 4, 8 };

/*
 * n blocks of in through AES-128 under m's key into out (which may alias
 * in: ECB processes each block in place).  libcrypto fails only when an
 * internal call does; its error queue is cleared so that a later
 * SSL_get_error in the same thread does not see our failure.
 */
static int ml_aes(const struct pz_milenage *m, const uint8_t *in,
		  uint8_t *out, int n)
{
	int olen = 0;

	if (!EVP_EncryptUpdate(m->aes, out, &olen, in, n * BL) ||
	    olen != n * BL) {
		ERR_clear_error();
		return PZ_ENOMEM;
	}
	return PZ_OK;
}

/* TEMP = E_K(RAND xor OPc) */
static int ml_temp(const struct pz_milenage *m, const uint8_t rand[BL],
		   uint8_t temp[BL])
{
	for (int i = 0; i < BL; i++)
		temp[i] = rand[i] ^ m->opc[i];
	return ml_aes(m, temp, temp, 1);
}

/*
 * The cipher input of OUTi, i = 2..5 (idx = i - 1):
 * rot(TEMP xor OPc, ri) xor ci.
 */
static void ml_in(const struct pz_milenage *m, const uint8_t temp[BL],
		  int idx, uint8_t in[BL])
{
	for (int j = 0; j < BL; j++) {
		int s = (j + ml_rot[idx]) % BL;

		in[j] = temp[s] ^ m->opc[s];
	}
	in[BL - 1] ^= ml_c[idx];
}

/* The cipher input of OUT1: TEMP xor rot(IN1 xor OPc, r1) xor c1. */
static void ml_in1(const struct pz_milenage *m, const uint8_t temp[BL],
		   const uint8_t sqn[PZ_MILENAGE_SQN_LEN],
		   const uint8_t amf[PZ_MILENAGE_AMF_LEN], uint8_t in[BL])
{
	uint8_t in1[BL];

	memcpy(in1, sqn, PZ_MILENAGE_SQN_LEN);
	memcpy(in1 + 6, amf, PZ_MILENAGE_AMF_LEN);
	memcpy(in1 + 8, in1, 8);
	for (int j = 0; j < BL; j++) {
		int s = (j + ml_rot[0]) % BL;

		in[j] = temp[j] ^ in1[s] ^ m->opc[s];
	}
	in[BL - 1] ^= ml_c[0];
}

/* OUTi = E_K(...) xor OPc, for n consecutive blocks already encrypted. */
static void ml_xor_opc(const struct pz_milenage *m, uint8_t *blocks, int n)
{
	for (int i = 0; i < n * BL; i++)
		blocks[i] ^= m->opc[i % BL];
}

static int ml_ready(const struct pz_milenage *m, const void *rand)
{
	return m && m->aes && rand;
}

/* --- set-up ------------------------------------------------------------- */

static int ml_key(struct pz_milenage *m, const uint8_t *k, size_t k_len)
{
	m->aes = NULL;
	OPENSSL_cleanse(m->opc, sizeof m->opc);
	if (!k || k_len != PZ_MILENAGE_K_LEN)
		return PZ_EINVAL;
	m->aes = EVP_CIPHER_CTX_new();
	if (!m->aes ||
	    !EVP_EncryptInit_ex(m->aes, EVP_aes_128_ecb(), NULL, k, NULL) ||
	    !EVP_CIPHER_CTX_set_padding(m->aes, 0)) {
		ERR_clear_error();
		EVP_CIPHER_CTX_free(m->aes);   /* cleanses the key schedule */
		m->aes = NULL;
		return PZ_ENOMEM;
	}
	return PZ_OK;
}

int pz_milenage_init(struct pz_milenage *m, const uint8_t *k, size_t k_len,
		     const uint8_t *opc, size_t opc_len)
{
	int rc = PZ_OK;

	if (!m)
		return PZ_EINVAL;
	m->aes = NULL;
	if (!opc || opc_len != PZ_MILENAGE_K_LEN)
		return PZ_EINVAL;
	rc = ml_key(m, k, k_len);
	if (rc == PZ_OK)
		memcpy(m->opc, opc, BL);
	return rc;
}

int pz_milenage_init_op(struct pz_milenage *m, const uint8_t *k,
			size_t k_len, const uint8_t *op, size_t op_len)
{
	uint8_t e[BL];
	int rc = PZ_OK;

	if (!m)
		return PZ_EINVAL;
	m->aes = NULL;
	if (!op || op_len != PZ_MILENAGE_K_LEN)
		return PZ_EINVAL;
	rc = ml_key(m, k, k_len);
	if (rc != PZ_OK)
		goto out;
	rc = ml_aes(m, op, e, 1);
	if (rc != PZ_OK) {
		pz_milenage_done(m);
		goto out;
	}
	for (int i = 0; i < BL; i++)
		m->opc[i] = op[i] ^ e[i];
out:
	OPENSSL_cleanse(e, sizeof e);
	return rc;
}

void pz_milenage_done(struct pz_milenage *m)
{
	if (!m)
		return;
	EVP_CIPHER_CTX_free(m->aes);
	m->aes = NULL;
	OPENSSL_cleanse(m->opc, sizeof m->opc);
}

int pz_milenage_opc(const uint8_t k[PZ_MILENAGE_K_LEN],
		    const uint8_t op[PZ_MILENAGE_K_LEN],
		    uint8_t opc[PZ_MILENAGE_K_LEN])
{
	struct pz_milenage m;
	int rc = PZ_OK;

	if (!opc)
		return PZ_EINVAL;
	rc = pz_milenage_init_op(&m, k, PZ_MILENAGE_K_LEN, op,
				 PZ_MILENAGE_K_LEN);
	if (rc != PZ_OK)
		return rc;
	memcpy(opc, m.opc, BL);
	pz_milenage_done(&m);
	return PZ_OK;
}

int pz_milenage_get_opc(const struct pz_milenage *m,
			uint8_t opc[PZ_MILENAGE_K_LEN])
{
	if (!m || !m->aes || !opc)
		return PZ_EINVAL;
	memcpy(opc, m->opc, BL);
	return PZ_OK;
}

/* --- the functions ------------------------------------------------------ */

/* OUT1 into out1: f1 and f1* are its halves. */
static int ml_out1(const struct pz_milenage *m, const uint8_t rand[BL],
		   const uint8_t *sqn, const uint8_t *amf, uint8_t out1[BL])
{
	uint8_t temp[BL];
	int rc = PZ_OK;

	rc = ml_temp(m, rand, temp);
	if (rc != PZ_OK)
		goto out;
	ml_in1(m, temp, sqn, amf, out1);
	rc = ml_aes(m, out1, out1, 1);
	if (rc != PZ_OK)
		goto out;
	ml_xor_opc(m, out1, 1);
out:
	OPENSSL_cleanse(temp, sizeof temp);
	return rc;
}

static int ml_f1(const struct pz_milenage *m, const uint8_t *rand,
		 const uint8_t *sqn, const uint8_t *amf, uint8_t *mac,
		 size_t half)
{
	uint8_t out1[BL];
	int rc = PZ_OK;

	if (!ml_ready(m, rand) || !sqn || !amf || !mac)
		return PZ_EINVAL;
	rc = ml_out1(m, rand, sqn, amf, out1);
	if (rc == PZ_OK)
		memcpy(mac, out1 + half, PZ_MILENAGE_MAC_LEN);
	OPENSSL_cleanse(out1, sizeof out1);
	return rc;
}

int pz_milenage_f1(const struct pz_milenage *m,
		   const uint8_t rand[PZ_MILENAGE_RAND_LEN],
		   const uint8_t sqn[PZ_MILENAGE_SQN_LEN],
		   const uint8_t amf[PZ_MILENAGE_AMF_LEN],
		   uint8_t mac_a[PZ_MILENAGE_MAC_LEN])
{
	return ml_f1(m, rand, sqn, amf, mac_a, 0);
}

int pz_milenage_f1star(const struct pz_milenage *m,
		       const uint8_t rand[PZ_MILENAGE_RAND_LEN],
		       const uint8_t sqn[PZ_MILENAGE_SQN_LEN],
		       const uint8_t amf[PZ_MILENAGE_AMF_LEN],
		       uint8_t mac_s[PZ_MILENAGE_MAC_LEN])
{
	return ml_f1(m, rand, sqn, amf, mac_s, 8);
}

int pz_milenage_f2345(const struct pz_milenage *m,
		      const uint8_t rand[PZ_MILENAGE_RAND_LEN],
		      uint8_t res[PZ_MILENAGE_RES_LEN],
		      uint8_t ck[PZ_MILENAGE_CK_LEN],
		      uint8_t ik[PZ_MILENAGE_IK_LEN],
		      uint8_t ak[PZ_MILENAGE_AK_LEN])
{
	uint8_t temp[BL], out[3 * BL];   /* OUT2, OUT3, OUT4 */
	int rc = PZ_OK;

	if (!ml_ready(m, rand) || (!res && !ck && !ik && !ak))
		return PZ_EINVAL;
	rc = ml_temp(m, rand, temp);
	if (rc != PZ_OK)
		goto out;
	for (int i = 0; i < 3; i++)
		ml_in(m, temp, i + 1, out + i * BL);
	rc = ml_aes(m, out, out, 3);
	if (rc != PZ_OK)
		goto out;
	ml_xor_opc(m, out, 3);
	if (ak)
		memcpy(ak, out, PZ_MILENAGE_AK_LEN);
	if (res)
		memcpy(res, out + 8, PZ_MILENAGE_RES_LEN);
	if (ck)
		memcpy(ck, out + BL, PZ_MILENAGE_CK_LEN);
	if (ik)
		memcpy(ik, out + 2 * BL, PZ_MILENAGE_IK_LEN);
out:
	OPENSSL_cleanse(temp, sizeof temp);
	OPENSSL_cleanse(out, sizeof out);
	return rc;
}

int pz_milenage_f5star(const struct pz_milenage *m,
		       const uint8_t rand[PZ_MILENAGE_RAND_LEN],
		       uint8_t ak_s[PZ_MILENAGE_AK_LEN])
{
	uint8_t temp[BL], out5[BL];
	int rc = PZ_OK;

	if (!ml_ready(m, rand) || !ak_s)
		return PZ_EINVAL;
	rc = ml_temp(m, rand, temp);
	if (rc != PZ_OK)
		goto out;
	ml_in(m, temp, 4, out5);
	rc = ml_aes(m, out5, out5, 1);
	if (rc != PZ_OK)
		goto out;
	ml_xor_opc(m, out5, 1);
	memcpy(ak_s, out5, PZ_MILENAGE_AK_LEN);
out:
	OPENSSL_cleanse(temp, sizeof temp);
	OPENSSL_cleanse(out5, sizeof out5);
	return rc;
}

int pz_milenage_vector(const struct pz_milenage *m,
		       const uint8_t rand[PZ_MILENAGE_RAND_LEN],
		       const uint8_t sqn[PZ_MILENAGE_SQN_LEN],
		       const uint8_t amf[PZ_MILENAGE_AMF_LEN],
		       struct pz_milenage_out *o)
{
	uint8_t temp[BL], out[5 * BL];   /* OUT1 .. OUT5 */
	int rc = PZ_OK;

	if (!ml_ready(m, rand) || !sqn || !amf || !o)
		return PZ_EINVAL;
	rc = ml_temp(m, rand, temp);
	if (rc != PZ_OK)
		goto out;
	ml_in1(m, temp, sqn, amf, out);
	for (int i = 1; i < 5; i++)
		ml_in(m, temp, i, out + i * BL);
	rc = ml_aes(m, out, out, 5);
	if (rc != PZ_OK)
		goto out;
	ml_xor_opc(m, out, 5);
	memcpy(o->mac_a, out, PZ_MILENAGE_MAC_LEN);
	memcpy(o->mac_s, out + 8, PZ_MILENAGE_MAC_LEN);
	memcpy(o->ak, out + BL, PZ_MILENAGE_AK_LEN);
	memcpy(o->res, out + BL + 8, PZ_MILENAGE_RES_LEN);
	memcpy(o->ck, out + 2 * BL, PZ_MILENAGE_CK_LEN);
	memcpy(o->ik, out + 3 * BL, PZ_MILENAGE_IK_LEN);
	memcpy(o->ak_s, out + 4 * BL, PZ_MILENAGE_AK_LEN);
out:
	if (rc != PZ_OK)
		OPENSSL_cleanse(o, sizeof *o);
	OPENSSL_cleanse(temp, sizeof temp);
	OPENSSL_cleanse(out, sizeof out);
	return rc;
}
