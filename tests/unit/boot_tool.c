/*
 * boot_tool.c - the bootstrap crypto modules (pz_milenage.h, pz_gba.h) on
 * the command line, for the cross-check against an independent Python
 * implementation (tests/it/test_boot_vectors.py).  A test tool; not
 * installed.
 *
 *   boot_tool < queries
 *
 * One query per input line, words separated by single spaces, byte
 * strings in hex ("-" for an empty one); one answer line each, words
 * separated by spaces, byte strings in lower-case hex:
 *
 *   opc K OP                      OPc
 *   mil K OPC RAND SQN AMF        MAC-A MAC-S RES CK IK AK AK*
 *                                 (pz_milenage_vector, then every single
 *                                 function checked against it)
 *   kdf KEY FC P0 P1 ...          the 32-octet output, then the 16-octet
 *   naf KS RAND IMPI NAF_ID       Ks_NAF Ks_int_NAF
 *   akma KAUSF SUPI AF_ID         K_AKMA A-TID K_AF
 *   btid RAND HOST                the B-TID (text)
 *   parse TEXT                    RAND HOST, or "error <name>" (with
 *                                 "-noreason" appended if no reason came)
 *   rspf EXP48 MEF ENROLEE MAF SUID TARGET
 *                                 Ke RelativeKeID KeID(text) Kpsa Km Kuc
 *
 * (IMPI, SUPI, HOST, MEF, ENROLEE, ... are hex like everything else, so
 * any octets can be passed.)  A failing call answers "error <name>".
 * Exit status 0, or 1 on a malformed query line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plaza/pz_err.h"
#include "plaza/pz_gba.h"
#include "plaza/pz_milenage.h"

#define MAXW 24         /* words on a line */
#define MAXB 70000      /* octets in one hex word */

static uint8_t bufs[MAXW][MAXB];
static size_t lens[MAXW];

static int unhex(const char *s, uint8_t *out, size_t *n)
{
	size_t l = strlen(s);

	*n = 0;
	if (strcmp(s, "-") == 0)
		return 0;
	if (l % 2 || l / 2 > MAXB)
		return -1;
	for (size_t i = 0; i < l / 2; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	*n = l / 2;
	return 0;
}

static void put(const uint8_t *b, size_t n)
{
	putchar(' ');
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
}

/* Each call's result; the first failure answers for the line. */
static int chk(int rc)
{
	if (rc != PZ_OK)
		printf("error %s\n", pz_strerror(rc));
	return rc == PZ_OK;
}

static void do_mil(void)
{
	struct pz_milenage m;
	struct pz_milenage_out o;
	uint8_t x[16], y[16], z[16], w[6];

	if (!chk(pz_milenage_init(&m, bufs[1], lens[1], bufs[2], lens[2])))
		return;
	if (lens[3] != 16 || lens[4] != 6 || lens[5] != 2) {
		pz_milenage_done(&m);
		printf("error length\n");
		return;
	}
	if (!chk(pz_milenage_vector(&m, bufs[3], bufs[4], bufs[5], &o)))
		goto out;
	/* The single functions must agree with the vector. */
	if (!chk(pz_milenage_f1(&m, bufs[3], bufs[4], bufs[5], x)) ||
	    memcmp(x, o.mac_a, 8) ||
	    !chk(pz_milenage_f1star(&m, bufs[3], bufs[4], bufs[5], x)) ||
	    memcmp(x, o.mac_s, 8) ||
	    !chk(pz_milenage_f2345(&m, bufs[3], x, y, z, w)) ||
	    memcmp(x, o.res, 8) || memcmp(y, o.ck, 16) ||
	    memcmp(z, o.ik, 16) || memcmp(w, o.ak, 6) ||
	    !chk(pz_milenage_f5star(&m, bufs[3], w)) || memcmp(w, o.ak_s, 6)) {
		printf("error disagree\n");
		goto out;
	}
	printf("ok");
	put(o.mac_a, 8);
	put(o.mac_s, 8);
	put(o.res, 8);
	put(o.ck, 16);
	put(o.ik, 16);
	put(o.ak, 6);
	put(o.ak_s, 6);
	putchar('\n');
out:
	pz_milenage_done(&m);
}

static void do_kdf(int nw)
{
	struct pz_gba_param p[MAXW];
	uint8_t out[32], out16[16];

	if (lens[2] != 1) {
		printf("error fc\n");
		return;
	}
	for (int i = 3; i < nw; i++) {
		p[i - 3].p = bufs[i];
		p[i - 3].len = lens[i];
	}
	if (!chk(pz_gba_kdf(bufs[1], lens[1], bufs[2][0], p, (size_t)(nw - 3),
			    out, 32)) ||
	    !chk(pz_gba_kdf(bufs[1], lens[1], bufs[2][0], p, (size_t)(nw - 3),
			    out16, 16)))
		return;
	printf("ok");
	put(out, 32);
	put(out16, 16);
	putchar('\n');
}

static void do_naf(void)
{
	uint8_t a[32], b[32];

	if (lens[1] != 32 || lens[2] != 16) {
		printf("error length\n");
		return;
	}
	if (!chk(pz_gba_ks_naf(bufs[1], bufs[2], (char *)bufs[3], lens[3],
			       bufs[4], lens[4], a)) ||
	    !chk(pz_gba_ks_int_naf(bufs[1], bufs[2], (char *)bufs[3], lens[3],
				   bufs[4], lens[4], b)))
		return;
	printf("ok");
	put(a, 32);
	put(b, 32);
	putchar('\n');
}

static void do_akma(void)
{
	uint8_t a[32], b[32], c[32];

	if (lens[1] != 32) {
		printf("error length\n");
		return;
	}
	if (!chk(pz_gba_akma_kakma(bufs[1], (char *)bufs[2], lens[2], a)) ||
	    !chk(pz_gba_akma_atid(bufs[1], (char *)bufs[2], lens[2], b)) ||
	    !chk(pz_gba_akma_kaf(a, bufs[3], lens[3], c)))
		return;
	printf("ok");
	put(a, 32);
	put(b, 32);
	put(c, 32);
	putchar('\n');
}

static void do_btid(void)
{
	char out[PZ_GBA_BTID_SIZE];

	if (lens[1] != 16) {
		printf("error length\n");
		return;
	}
	if (!chk(pz_gba_btid_format(bufs[1], (char *)bufs[2], lens[2], out,
				    sizeof out, NULL)))
		return;
	printf("ok %s\n", out);
}

static void do_parse(void)
{
	struct pz_gba_btid t;
	const char *why = NULL;
	int rc = pz_gba_btid_parse((char *)bufs[1], lens[1], &t, &why);

	if (rc != PZ_OK) {
		/* The reason is checked to be there, not printed. */
		printf("error %s%s\n", pz_strerror(rc), why ? "" : "-noreason");
		return;
	}
	printf("ok");
	put(t.rand, 16);
	put((const uint8_t *)t.server, t.server_len);
	putchar('\n');
}

static void do_rspf(void)
{
	uint8_t ke[32], rel[16], a[32], b[32], c[32];
	char keid[PZ_GBA_RSPF_KEID_SIZE];

	if (lens[1] != 48) {
		printf("error length\n");
		return;
	}
	if (!chk(pz_gba_rspf_ke(bufs[1], ke, rel)) ||
	    !chk(pz_gba_rspf_keid(rel, (char *)bufs[2], lens[2], keid,
				  sizeof keid, NULL)) ||
	    !chk(pz_gba_rspf_kpsa(ke, (char *)bufs[3], lens[3], a)) ||
	    !chk(pz_gba_rspf_km(ke, (char *)bufs[4], lens[4], b)) ||
	    !chk(pz_gba_rspf_kuc(ke, (char *)bufs[5], lens[5],
				 (char *)bufs[6], lens[6], c)))
		return;
	printf("ok");
	put(ke, 32);
	put(rel, 16);
	put((const uint8_t *)keid, strlen(keid));
	put(a, 32);
	put(b, 32);
	put(c, 32);
	putchar('\n');
}

static const struct {
	const char *name;
	int words;     /* exact count, or -n for at least n */
} cmds[] = {
	{ "opc", 3 }, { "mil", 6 }, { "kdf", -3 }, { "naf", 5 },
	{ "akma", 4 }, { "btid", 3 }, { "parse", 2 }, { "rspf", 7 },
};

int main(void)
{
	static char line[2 * MAXB * 4];

	while (fgets(line, sizeof line, stdin)) {
		char *w[MAXW], *save = NULL;
		int nw = 0, c = -1;

		line[strcspn(line, "\n")] = '\0';
		for (char *t = strtok_r(line, " ", &save); t;
		     t = strtok_r(NULL, " ", &save)) {
			if (nw == MAXW)
				return 1;
			w[nw++] = t;
		}
		if (nw == 0)
			return 1;
		for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
			if (strcmp(w[0], cmds[i].name) == 0)
				c = (int)i;
		if (c < 0 || (cmds[c].words > 0 && nw != cmds[c].words) ||
		    (cmds[c].words < 0 && nw < -cmds[c].words))
			return 1;
		for (int i = 1; i < nw; i++)
			if (unhex(w[i], bufs[i], &lens[i]) != 0)
				return 1;
		if (c == 0) {
			uint8_t opc[16];

			if (lens[1] != 16 || lens[2] != 16)
				printf("error length\n");
			else if (chk(pz_milenage_opc(bufs[1], bufs[2], opc))) {
				printf("ok");
				put(opc, 16);
				putchar('\n');
			}
		} else if (c == 1) {
			do_mil();
		} else if (c == 2) {
			do_kdf(nw);
		} else if (c == 3) {
			do_naf();
		} else if (c == 4) {
			do_akma();
		} else if (c == 5) {
			do_btid();
		} else if (c == 6) {
			do_parse();
		} else {
			do_rspf();
		}
		fflush(stdout);
	}
	return 0;
}
