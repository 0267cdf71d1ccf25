/*
 * example.c - pzdev-example, plaza's reference device in action: over
 * CoAP and DTLS-PSK it registers an AE, creates a container, posts N
 * SenML CBOR packs of a simulated temperature sensor and reads the
 * latest instance back (docs/device.md).
 *
 *   pzdev-example --host 127.0.0.1 --port P --identity ID --key HEX
 *                 --originator C... [--count N] [--cse plaza]
 *                 [--container NAME] [--timeout MS]
 *   pzdev-example ... --gba-k HEX --gba-opc HEX --gba-rand HEX
 *                 --gba-impi IMPI --naf-fqdn NAME [--gba-bsf NAME]
 *   pzdev-example ... --bsf ADDR:PORT --impi IMPI --gba-k HEX
 *                 --gba-opc HEX --naf-fqdn NAME [--gba-sqn N]
 *                 [--bootstrap-only]
 *
 * With the --gba-* options the PSK is Ks_NAF from a simulated SIM and its
 * identity "3GPP-bootstrapping" || B-TID (pzdev_gba.h).  With --bsf the
 * SIM first bootstraps over Ub with that BSF (pzdev_gba_bootstrap;
 * --gba-sqn is its highest accepted SQN, default 0) and the B-TID and
 * Ks_NAF come from that run; --bootstrap-only prints them and stops
 * (--host, --port and --originator are then not needed).  Exit 0 when
 * every step worked, 1 otherwise (with a message on stderr), 2 on bad
 * usage.  The only heap use is mbedTLS's own (its record buffers).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/error.h>

#include "pzdev.h"
#include "pzdev_gba.h"

#define BODY_MAX 512

/* The command line. */
struct args {
	const char *host, *identity, *key_hex, *orig, *cse, *cnt;
	const char *gk, *gopc, *grand, *gimpi, *gnaf, *gbsf;
	const char *bsf, *impi;        /* --bsf ADDR:PORT, --impi */
	unsigned long long sqn;        /* --gba-sqn */
	bool boot_only;                /* --bootstrap-only */
	unsigned port, count, timeout_ms;
};

static void usage(void)
{
	fputs("usage: pzdev-example --host ADDR --port P --originator C...\n"
	      "         (--identity ID --key HEX | --gba-k HEX --gba-opc HEX\n"
	      "          --gba-rand HEX --gba-impi IMPI --naf-fqdn NAME\n"
	      "          [--gba-bsf NAME] | --bsf ADDR:PORT --impi IMPI\n"
	      "          --gba-k HEX --gba-opc HEX --naf-fqdn NAME\n"
	      "          [--gba-sqn N] [--bootstrap-only])\n"
	      "         [--count N] [--cse NAME] [--container NAME]"
	      " [--timeout MS]\n", stderr);
}

/* The hex string s into out (exactly n octets expected when n is not 0,
 * else at most max): the length, or -1. */
static long unhex(const char *s, uint8_t *out, size_t max, size_t n)
{
	size_t len = s ? strlen(s) : 0;

	if (!len || len % 2 || len / 2 > max || (n && len / 2 != n))
		return -1;
	for (size_t i = 0; i < len / 2; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1 ||
		    !strchr("0123456789abcdefABCDEF", s[2 * i]) ||
		    !strchr("0123456789abcdefABCDEF", s[2 * i + 1]))
			return -1;
		out[i] = (uint8_t)v;
	}
	return (long)(len / 2);
}

static int parse_args(int argc, char **argv, struct args *a)
{
	static const char *const names[] = {
		"--host", "--identity", "--key", "--originator", "--cse",
		"--container", "--gba-k", "--gba-opc", "--gba-rand",
		"--gba-impi", "--naf-fqdn", "--gba-bsf", "--bsf", "--impi"
	};
	const char **slots[] = {
		&a->host, &a->identity, &a->key_hex, &a->orig, &a->cse,
		&a->cnt, &a->gk, &a->gopc, &a->grand, &a->gimpi, &a->gnaf,
		&a->gbsf, &a->bsf, &a->impi
	};

	memset(a, 0, sizeof(*a));
	a->cse = "plaza";
	a->cnt = "data";
	a->gbsf = "bsf.example.org";
	a->count = 3;
	a->timeout_ms = 10000;
	for (int i = 1; i < argc; i += 2) {
		size_t k;

		if (!strcmp(argv[i], "--bootstrap-only")) {
			a->boot_only = true;
			i--;
			continue;
		}
		if (i + 1 >= argc)
			return -1;
		if (!strcmp(argv[i], "--gba-sqn")) {
			a->sqn = strtoull(argv[i + 1], NULL, 10);
			continue;
		}
		if (!strcmp(argv[i], "--port")) {
			a->port = (unsigned)strtoul(argv[i + 1], NULL, 10);
			continue;
		}
		if (!strcmp(argv[i], "--count")) {
			a->count = (unsigned)strtoul(argv[i + 1], NULL, 10);
			continue;
		}
		if (!strcmp(argv[i], "--timeout")) {
			a->timeout_ms = (unsigned)strtoul(argv[i + 1], NULL,
							  10);
			continue;
		}
		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (!strcmp(argv[i], names[k]))
				break;
		if (k == sizeof(names) / sizeof(names[0]))
			return -1;
		*slots[k] = argv[i + 1];
	}
	if (a->boot_only && !a->bsf)
		return -1;
	if (a->bsf && !(a->impi && a->gk && a->gopc && a->gnaf))
		return -1;
	if (a->boot_only)
		return a->timeout_ms ? 0 : -1;
	if (!a->host || !a->orig || !a->port || a->port > 65535 ||
	    !a->timeout_ms || a->count > 1000)
		return -1;
	if (a->bsf)
		return 0;
	if (a->gk)
		return a->gopc && a->grand && a->gimpi && a->gnaf ? 0 : -1;
	return a->identity && a->key_hex ? 0 : -1;
}

/* Bootstrap over Ub with the BSF of --bsf: Ks_NAF into key, the
 * identity into id.  0 or -1 (reported). */
static int bootstrap(const struct args *a, uint8_t *key, char *id,
		     size_t id_size)
{
	static struct pzdev_gba_boot b;   /* static: keeps the stack small */
	char host[64];
	uint8_t k[16], opc[16];
	const char *colon = strrchr(a->bsf, ':'), *why = NULL;
	unsigned long port = colon ? strtoul(colon + 1, NULL, 10) : 0;
	struct pzdev_gba_ub ub;
	int rc;

	if (!colon || (size_t)(colon - a->bsf) >= sizeof(host) || !port ||
	    port > 65535 || unhex(a->gk, k, 16, 16) < 0 ||
	    unhex(a->gopc, opc, 16, 16) < 0) {
		fprintf(stderr, "pzdev-example: --bsf takes ADDR:PORT, --gba-k"
			" and --gba-opc 32 hex digits\n");
		return -1;
	}
	/* "[::1]:8080" or "127.0.0.1:8080" */
	snprintf(host, sizeof(host), "%.*s", (int)(colon - a->bsf), a->bsf);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	ub = (struct pzdev_gba_ub){ host, (uint16_t)port, NULL, a->impi, k,
				    opc, a->gnaf, a->sqn, a->timeout_ms };
	rc = pzdev_gba_bootstrap(&ub, &b, &why);
	memset(k, 0, sizeof(k));
	memset(opc, 0, sizeof(opc));
	if (rc) {
		fprintf(stderr, "pzdev-example: GBA bootstrap with %s failed:"
			" %s (%s)\n", a->bsf, pzdev_strerror(rc), why);
		return -1;
	}
	if (strlen(b.id) >= id_size)
		return -1;
	memcpy(key, b.ks_naf, PZDEV_GBA_KEY_LEN);
	strcpy(id, b.id);
	printf("GBA bootstrap: B-TID %s lifetime %s sqn %llu%s\n", b.btid,
	       b.lifetime, (unsigned long long)ub.sqn_ms,
	       b.resynced ? " (resynchronised)" : "");
	if (a->boot_only) {
		printf("Ks_NAF ");
		for (size_t i = 0; i < PZDEV_GBA_KEY_LEN; i++)
			printf("%02x", b.ks_naf[i]);
		printf("\n");
	}
	printf("GBA: Ks_NAF derived for %s, identity %s\n", a->gnaf, id);
	memset(&b, 0, sizeof(b));
	return 0;
}

/* The PSK and identity: given, or derived by GBA.  0 or -1 (reported). */
static int credentials(const struct args *a, uint8_t *key, size_t *key_len,
		       char *id, size_t id_size)
{
	uint8_t k[16], opc[16], rnd[16];
	struct pzdev_gba_in in;
	long n;

	if (a->bsf) {
		*key_len = PZDEV_GBA_KEY_LEN;
		return bootstrap(a, key, id, id_size);
	}
	if (!a->gk) {
		n = unhex(a->key_hex, key, PZDEV_PSK_MAX, 0);
		if (n < 0 || strlen(a->identity) >= id_size) {
			fprintf(stderr, "pzdev-example: bad --key or"
				" --identity\n");
			return -1;
		}
		*key_len = (size_t)n;
		strcpy(id, a->identity);
		return 0;
	}
	if (unhex(a->gk, k, 16, 16) < 0 || unhex(a->gopc, opc, 16, 16) < 0 ||
	    unhex(a->grand, rnd, 16, 16) < 0) {
		fprintf(stderr, "pzdev-example: --gba-k, --gba-opc and"
			" --gba-rand take 32 hex digits\n");
		return -1;
	}
	in = (struct pzdev_gba_in){ k, opc, rnd, a->gimpi, a->gnaf, a->gbsf };
	if (pzdev_gba_psk(&in, key, id, id_size) != 0) {
		fprintf(stderr, "pzdev-example: GBA derivation failed\n");
		return -1;
	}
	*key_len = PZDEV_GBA_KEY_LEN;
	printf("GBA: Ks_NAF derived for %s, identity %s\n", a->gnaf, id);
	return 0;
}

/* The oneM2M options every request carries, after Uri-Path (11) and
 * Content-Format (12): TY (267, when ty), RVI (271), FR (279), RQI (283). */
static void om2m(struct pzdev_wr *w, const struct args *a, unsigned ty,
		 const char *rqi)
{
	if (ty)
		pzdev_coap_opt_uint(w, PZDEV_OPT_TY, ty);
	pzdev_coap_opt_str(w, PZDEV_OPT_RVI, "4");
	pzdev_coap_opt_str(w, PZDEV_OPT_FR, a->orig);
	pzdev_coap_opt_str(w, PZDEV_OPT_RQI, rqi);
}

/*
 * Send w and report: "what: 2.01 rsc 2001".  ok_rsc2 is a second
 * acceptable rsc for a re-run (4117 "originator has already registered",
 * 4105 "already exists"), 0 for none.
 * 0 or -1.
 */
static int exchange(struct pzdev *d, struct pzdev_wr *w, const char *what,
		    unsigned ok_rsc, unsigned ok_rsc2, unsigned timeout_ms,
		    struct pzdev_msg *rsp)
{
	int rc = pzdev_request(d, w, rsp, timeout_ms);
	uint32_t rsc;

	if (rc) {
		fprintf(stderr, "pzdev-example: %s: %s\n", what,
			pzdev_strerror(rc));
		return -1;
	}
	rsc = pzdev_coap_uint(pzdev_coap_find(rsp, PZDEV_OPT_RSC));
	printf("%s: %d.%02d rsc %u\n", what, rsp->code >> 5, rsp->code & 31,
	       (unsigned)rsc);
	if (rsc == ok_rsc || (ok_rsc2 && rsc == ok_rsc2))
		return 0;
	fprintf(stderr, "pzdev-example: %s refused (rsc %u): %.*s\n", what,
		(unsigned)rsc, (int)rsp->plen, (const char *)rsp->payload);
	return -1;
}

/* Register, create, post, read back.  0 or -1. */
static int run(struct pzdev *d, const struct args *a)
{
	struct pzdev_wr w;
	struct pzdev_msg rsp;
	struct pzdev_senml s;
	char path[160], body[BODY_MAX], bn[96], rqi[16];
	uint8_t pack[128];
	size_t plen = 0;

	snprintf(body, sizeof(body), "{\"m2m:ae\":{\"rn\":\"%s\",\"api\":"
		 "\"Nplaza.pzdev\",\"rr\":false,\"srv\":[\"4\"]}}", a->orig);
	pzdev_req_begin(d, &w, PZDEV_POST);
	pzdev_coap_path(&w, a->cse);
	pzdev_coap_opt_uint(&w, PZDEV_OPT_CONTENT_FORMAT, PZDEV_CF_JSON);
	om2m(&w, a, 2, "reg");
	pzdev_coap_payload(&w, body, strlen(body));
	if (exchange(d, &w, "register AE", 2001, 4117, a->timeout_ms, &rsp))
		return -1;

	snprintf(path, sizeof(path), "%s/%s", a->cse, a->orig);
	snprintf(body, sizeof(body), "{\"m2m:cnt\":{\"rn\":\"%s\"}}", a->cnt);
	pzdev_req_begin(d, &w, PZDEV_POST);
	pzdev_coap_path(&w, path);
	pzdev_coap_opt_uint(&w, PZDEV_OPT_CONTENT_FORMAT, PZDEV_CF_JSON);
	om2m(&w, a, 3, "cnt");
	pzdev_coap_payload(&w, body, strlen(body));
	if (exchange(d, &w, "create container", 2001, 4105, a->timeout_ms,
		     &rsp))
		return -1;

	snprintf(path, sizeof(path), "%s/%s/%s", a->cse, a->orig, a->cnt);
	snprintf(bn, sizeof(bn), "urn:dev:plaza:%s:", a->orig);
	for (unsigned i = 0; i < a->count; i++) {
		/* The simulated sensor: 21.5 Cel rising by 0.25 a reading. */
		double v = 21.5 + 0.25 * (i % 16);

		pzdev_senml_begin(&s, pack, sizeof(pack), 1);
		pzdev_senml_rec(&s, bn, "temp", "Cel", v, 0);
		if (pzdev_senml_end(&s, &plen))
			return -1;
		snprintf(rqi, sizeof(rqi), "p%u", i);
		pzdev_req_begin(d, &w, PZDEV_POST);
		pzdev_coap_path(&w, path);
		pzdev_coap_opt_uint(&w, PZDEV_OPT_CONTENT_FORMAT,
				    PZDEV_CF_SENML_CBOR);
		om2m(&w, a, 0, rqi);
		pzdev_coap_payload(&w, pack, plen);
		printf("reading %u: temp %.2f Cel, SenML CBOR ", i, v);
		for (size_t k = 0; k < plen; k++)
			printf("%02x", pack[k]);
		printf("\n");
		if (exchange(d, &w, "post SenML", 2001, 0, a->timeout_ms,
			     &rsp))
			return -1;
	}

	snprintf(path, sizeof(path), "%s/%s/%s/la", a->cse, a->orig, a->cnt);
	pzdev_req_begin(d, &w, PZDEV_GET);
	pzdev_coap_path(&w, path);
	pzdev_coap_opt_uint(&w, PZDEV_OPT_ACCEPT, PZDEV_CF_JSON);
	om2m(&w, a, 0, "la");
	if (exchange(d, &w, "retrieve la", 2000, 0, a->timeout_ms, &rsp))
		return -1;
	printf("la: %.*s\n", (int)rsp.plen, (const char *)rsp.payload);
	return 0;
}

/* Why pzdev_open failed with rc, in words (msg: mbedTLS's text). */
static const char *why_open(int rc, const struct pzdev *d, const char *msg,
			    unsigned timeout_ms)
{
	static char buf[200];

	if (rc == PZDEV_ETIMEOUT)
		snprintf(buf, sizeof(buf), "no handshake within %u ms: wrong"
			 " identity or key, or no DTLS server there",
			 timeout_ms);
	else if (rc == PZDEV_ENET)
		snprintf(buf, sizeof(buf), "nothing listening there, or no"
			 " route (%s)", msg);
	else if (pzdev_tls_error(d) == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE)
		snprintf(buf, sizeof(buf), "the server refused the handshake"
			 " with a fatal alert: wrong identity or key");
	else if (rc == PZDEV_EINVAL)
		snprintf(buf, sizeof(buf), "the host must be a numeric IPv4"
			 " or IPv6 address");
	else
		snprintf(buf, sizeof(buf), "mbedTLS -0x%04x: %s",
			 (unsigned)-pzdev_tls_error(d), msg);
	return buf;
}

int main(int argc, char **argv)
{
	static struct pzdev d;   /* the whole session; static: no heap */
	struct args a;
	uint8_t key[PZDEV_PSK_MAX];
	size_t key_len = 0;
	char id[PZDEV_GBA_ID_SIZE], msg[120];
	int rc = 1;

	if (parse_args(argc, argv, &a)) {
		usage();
		return 2;
	}
	if (credentials(&a, key, &key_len, id, sizeof(id)))
		goto out;
	if (a.boot_only) {
		rc = 0;
		goto out;
	}
	rc = pzdev_open(&d, a.host, (uint16_t)a.port, (const uint8_t *)id,
			strlen(id), key, key_len, a.timeout_ms);
	if (rc) {
		mbedtls_strerror(pzdev_tls_error(&d), msg, sizeof(msg));
		fprintf(stderr, "pzdev-example: DTLS handshake with %s:%u"
			" failed: %s (%s)\n", a.host, a.port,
			pzdev_strerror(rc), why_open(rc, &d, msg, a.timeout_ms));
		rc = 1;
		goto out;
	}
	printf("DTLS 1.2 session up: %s\n",
	       mbedtls_ssl_get_ciphersuite(&d.tls.ssl));
	rc = run(&d, &a) ? 1 : 0;
	printf("%s\n", rc ? "failed" : "done");
out:
	pzdev_close(&d);
	memset(key, 0, sizeof(key));
	return rc;
}
