/*
 * boot.c - benchmark of the bootstrap cryptography (pz_milenage.h,
 * pz_gba.h), one thread.
 *
 *   boot_bench [-t SECONDS] [-r ROUNDS]
 *
 * Each figure is measured ROUNDS times (default 5) for SECONDS each
 * (default 1.0), interleaved round by round so that a noisy neighbour
 * hits every figure alike; the median and best rounds are printed:
 *
 *   aes_block         the reference: one AES-128 block encrypted through
 *                     the same EVP path Milenage uses (EVP_EncryptUpdate
 *                     of 16 octets on a context keyed once)
 *   milenage_f1_f2345 one vector as pz_milenage_f1 + pz_milenage_f2345
 *                     (MAC-A, RES, CK, IK, AK: six AES blocks in four
 *                     EVP calls), for one K, RAND changing every time
 *   milenage_vector   pz_milenage_vector (all seven outputs: six blocks
 *                     in two EVP calls)
 *   milenage_init     pz_milenage_init + pz_milenage_done (a new K)
 *   ks_naf            pz_gba_ks_naf with the spec sheet's IMPI and NAF_Id
 *   k_af              pz_gba_akma_kaf
 *   hmac_ref          libcrypto's one-shot HMAC() over the same S as
 *                     ks_naf (the reference for the KDF)
 *   btid_parse        pz_gba_btid_parse of the spec sheet's B-TID
 *
 * Prints one "name: median/s (best/s)" line per figure, then the ratio
 * lines bench/README.md quotes.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "plaza/pz_err.h"
#include "plaza/pz_gba.h"
#include "plaza/pz_milenage.h"

enum { B_AES, B_F1F2345, B_VECTOR, B_INIT, B_KSNAF, B_KAF, B_HMAC, B_BTID,
       B_N };

static const char *const names[B_N] = {
	"aes_block", "milenage_f1_f2345", "milenage_vector", "milenage_init",
	"ks_naf", "k_af", "hmac_ref", "btid_parse",
};

static const uint8_t K[16] = { 0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4,
	0x9f, 0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38, 0xa6, 0xbc };
static const uint8_t OPC[16] = { 0xcd, 0x63, 0xcb, 0x71, 0x95, 0x4a, 0x9f,
	0x4e, 0x48, 0xa5, 0x99, 0x4e, 0x37, 0xa0, 0x2b, 0xaf };
static const char IMPI[] = "001010000000001@ims.mnc001.mcc001.3gppnetwork.org";
static const char BTID[] = "I1U8vpY3qJ0hiuZNrke/NQ==@bsf.example.org";

static struct {
	EVP_CIPHER_CTX *aes;
	struct pz_milenage m;
	uint8_t rand[16], sqn[6], amf[2], ks[32], nid[PZ_GBA_NAF_ID_MAX];
	size_t nid_len;
	uint8_t s[256];      /* ks_naf's S, for the HMAC reference */
	size_t s_len;
	unsigned long sink;  /* keeps results alive */
} g;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "boot_bench: %s failed\n", what);
	exit(1);
}

/* One operation of figure b; i varies the input. */
static void op(int b, unsigned long i)
{
	uint8_t o[32], x[16], y[16];
	struct pz_milenage_out v;
	struct pz_milenage m;
	struct pz_gba_btid t;
	unsigned int hl = 0;
	int ol = 0;

	memcpy(g.rand, &i, sizeof i);
	switch (b) {
	case B_AES:
		if (!EVP_EncryptUpdate(g.aes, x, &ol, g.rand, 16) || ol != 16)
			die("EVP_EncryptUpdate");
		g.sink += x[0];
		break;
	case B_F1F2345:
		if (pz_milenage_f1(&g.m, g.rand, g.sqn, g.amf, o) ||
		    pz_milenage_f2345(&g.m, g.rand, o + 8, x, y, o + 16))
			die("milenage");
		g.sink += o[0] + x[0] + y[0];
		break;
	case B_VECTOR:
		if (pz_milenage_vector(&g.m, g.rand, g.sqn, g.amf, &v))
			die("pz_milenage_vector");
		g.sink += v.ck[0];
		break;
	case B_INIT:
		x[0] = (uint8_t)i;
		memcpy(x + 1, K + 1, 15);
		if (pz_milenage_init(&m, x, 16, OPC, 16))
			die("pz_milenage_init");
		pz_milenage_done(&m);
		break;
	case B_KSNAF:
		if (pz_gba_ks_naf(g.ks, g.rand, IMPI, sizeof IMPI - 1, g.nid,
				  g.nid_len, o))
			die("pz_gba_ks_naf");
		g.sink += o[0];
		break;
	case B_KAF:
		if (pz_gba_akma_kaf(g.ks, g.nid, g.nid_len, o))
			die("pz_gba_akma_kaf");
		g.sink += o[0];
		break;
	case B_HMAC:
		memcpy(g.s + 9, &i, sizeof i);   /* inside RAND */
		if (!HMAC(EVP_sha256(), g.ks, 32, g.s, g.s_len, o, &hl))
			die("HMAC");
		g.sink += o[0];
		break;
	default:
		if (pz_gba_btid_parse(BTID, sizeof BTID - 1, &t, NULL))
			die("pz_gba_btid_parse");
		g.sink += t.rand[i & 15];
		break;
	}
}

/* Operations per second of figure b over about secs seconds. */
static double measure(int b, double secs)
{
	unsigned long n = 0, batch = 256;
	double t0 = now(), t;

	do {
		for (unsigned long j = 0; j < batch; j++)
			op(b, n + j);
		n += batch;
		t = now();
	} while (t - t0 < secs);
	return (double)n / (t - t0);
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void setup(void)
{
	uint8_t *s = g.s;

	g.aes = EVP_CIPHER_CTX_new();
	if (!g.aes || !EVP_EncryptInit_ex(g.aes, EVP_aes_128_ecb(), NULL, K,
					  NULL) ||
	    !EVP_CIPHER_CTX_set_padding(g.aes, 0))
		die("EVP set-up");
	if (pz_milenage_init(&g.m, K, 16, OPC, 16))
		die("pz_milenage_init");
	memset(g.sqn, 0x11, sizeof g.sqn);
	memset(g.amf, 0x80, 1);
	memset(g.ks, 0x42, sizeof g.ks);
	if (pz_gba_naf_id("naf.example.org", 15, pz_gba_ua_psk_ccm8, g.nid,
			  sizeof g.nid, &g.nid_len))
		die("pz_gba_naf_id");
	/* S of Ks_NAF: 01 "gba-me" 0006 RAND 0010 IMPI L NAF_Id L */
	*s++ = 0x01;
	memcpy(s, "gba-me\x00\x06", 8);
	s += 8;
	memset(s, 0, 16);
	s += 16;
	*s++ = 0;
	*s++ = 16;
	memcpy(s, IMPI, sizeof IMPI - 1);
	s += sizeof IMPI - 1;
	*s++ = 0;
	*s++ = (uint8_t)(sizeof IMPI - 1);
	memcpy(s, g.nid, g.nid_len);
	s += g.nid_len;
	*s++ = 0;
	*s++ = (uint8_t)g.nid_len;
	g.s_len = (size_t)(s - g.s);
}

int main(int argc, char **argv)
{
	double secs = 1.0, r[B_N][64], med[B_N];
	int rounds = 5, c;

	while ((c = getopt(argc, argv, "t:r:")) != -1) {
		if (c == 't')
			secs = atof(optarg);
		else if (c == 'r')
			rounds = atoi(optarg);
		else
			goto usage;
	}
	if (secs <= 0 || rounds < 1 || rounds > 64)
		goto usage;
	setup();
	for (int k = 0; k < rounds; k++)
		for (int b = 0; b < B_N; b++)
			r[b][k] = measure(b, secs);
	for (int b = 0; b < B_N; b++) {
		qsort(r[b], (size_t)rounds, sizeof(double), cmp_d);
		med[b] = r[b][rounds / 2];
		printf("%s: %.0f/s (best %.0f/s, %.1f ns each)\n", names[b],
		       med[b], r[b][rounds - 1], 1e9 / med[b]);
	}
	printf("milenage_f1_f2345 in aes blocks: %.2f (6 blocks of work)\n",
	       med[B_AES] / med[B_F1F2345]);
	printf("milenage_vector in aes blocks: %.2f (6 blocks of work)\n",
	       med[B_AES] / med[B_VECTOR]);
	printf("ks_naf / hmac_ref: %.2f\n", med[B_KSNAF] / med[B_HMAC]);
	printf("sink: %lu\n", g.sink & 1);
	pz_milenage_done(&g.m);
	EVP_CIPHER_CTX_free(g.aes);
	return 0;
usage:
	fprintf(stderr, "usage: boot_bench [-t SECONDS] [-r ROUNDS]\n");
	return 2;
}
