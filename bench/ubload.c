/*
 * ubload.c - full Ub bootstraps per second against plazad's BSF
 * (bench/README.md, "Ub bootstraps").
 *
 *   ubload HOST PORT IMPI K_HEX OPC_HEX SECONDS [CONNECTIONS [UES]]
 *
 * Connection i (keep-alive, driven from one thread with poll) plays the
 * UEs "<i>-<j>-<IMPI>", j = 0 .. UES-1 in turn (those subscribers must
 * exist, all with K and OPc; UES defaults to 1): the first request, the
 * 401 challenge, AUTN checked and RES computed with Milenage
 * (plaza_boot), the auth-int answer, and a 200 with a B-TID.  A challenge
 * with an old SQN is answered with AUTS as a USIM would (counted apart,
 * not as a bootstrap).  Prints
 * "bootstraps N seconds S rate R/s resyncs X failures F".  Bounded: it
 * stops after SECONDS.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "plaza/pz_b64.h"
#include "plaza/pz_digest.h"
#include "plaza/pz_milenage.h"

#define UB "/.plaza/bsf/ub"
#define MAXC 64

struct conn {
	int fd;
	int step;                 /* 0 send first, 1 wait 401, 2 wait 200 */
	char buf[8192];
	size_t len;
	char impi[256];           /* its UE now */
	int ue;                   /* which of its UEs */
	uint64_t *sqn;            /* each UE's USIM's highest SQN */
};

static int nues = 1;

static struct pz_milenage usim;
static struct conn conns[MAXC];
static const char *base_impi;
static long boots, resyncs, failures;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int hexin(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

static int sendreq(struct conn *c, const char *auth)
{
	char req[2048];
	int n = snprintf(req, sizeof(req), "GET " UB " HTTP/1.1\r\n"
			 "Host: bench\r\nAuthorization: %s\r\n\r\n", auth);

	return write(c->fd, req, (size_t)n) == n ? 0 : -1;
}

static int first(struct conn *c)
{
	char a[600];

	c->ue = (c->ue + 1) % nues;
	snprintf(c->impi, sizeof(c->impi), "%d-%d-%s", (int)(c - conns),
		 c->ue, base_impi);
	snprintf(a, sizeof(a), "Digest username=\"%s\", realm=\"x\", "
		 "nonce=\"\", uri=\"" UB "\", response=\"\"", c->impi);
	c->step = 1;
	return sendreq(c, a);
}

/* A whole response in c->buf?  Its status and header block end. */
static int complete(struct conn *c, int *status, size_t *total)
{
	char *end, *cl;
	size_t body = 0;

	c->buf[c->len] = '\0';
	end = strstr(c->buf, "\r\n\r\n");
	if (!end)
		return 0;
	cl = strcasestr(c->buf, "\r\nContent-Length:");
	if (cl && cl < end)
		body = (size_t)strtoul(cl + 17, NULL, 10);
	if (c->len < (size_t)(end + 4 - c->buf) + body)
		return 0;
	*status = atoi(c->buf + 9);
	*total = (size_t)(end + 4 - c->buf) + body;
	return 1;
}

static int answer(struct conn *c)
{
	char *h = strcasestr(c->buf, "\r\nWWW-Authenticate: "), *e;
	struct pz_digest ch, a;
	uint8_t raw[64], sqn[6], ak[6], res[8], mac[8];
	static const uint8_t amf0[2];
	char out[PZ_DIGEST_MAX];
	long n;

	if (!h)
		return -1;
	h += 20;
	e = strstr(h, "\r\n");
	if (pz_digest_parse(PZ_DIGEST_CHALLENGE, h, (size_t)(e - h), &ch,
			    NULL))
		return -1;
	n = pz_b64_decode(ch.nonce, raw, sizeof(raw));
	if (n < 32 || pz_milenage_f2345(&usim, raw, res, NULL, NULL, ak))
		return -1;
	for (int i = 0; i < 6; i++)
		sqn[i] = raw[16 + i] ^ ak[i];
	if (pz_milenage_f1(&usim, raw, sqn, raw + 22, mac) ||
	    memcmp(mac, raw + 24, 8))
		return -1;
	memset(&a, 0, sizeof(a));
	a.have = PZ_DF_USERNAME | PZ_DF_REALM | PZ_DF_NONCE | PZ_DF_URI |
		 PZ_DF_RESPONSE | PZ_DF_QOP | PZ_DF_NC | PZ_DF_CNONCE;
	snprintf(a.username, sizeof(a.username), "%s", c->impi);
	snprintf(a.realm, sizeof(a.realm), "%s", ch.realm);
	snprintf(a.nonce, sizeof(a.nonce), "%s", ch.nonce);
	snprintf(a.uri, sizeof(a.uri), UB);
	snprintf(a.qop, sizeof(a.qop), "auth-int");
	snprintf(a.nc, sizeof(a.nc), "00000001");
	snprintf(a.cnonce, sizeof(a.cnonce), "bench");
	{
		uint64_t s = 0;

		for (int i = 0; i < 6; i++)
			s = s << 8 | sqn[i];
		if (s <= c->sqn[c->ue]) {
			/* Already used by another connection: AUTS. */
			uint8_t aks[6], ms[6], auts[14];

			for (int i = 5, v = 0; i >= 0; i--, v += 8)
				ms[i] = (uint8_t)(c->sqn[c->ue] >> v);
			pz_milenage_f5star(&usim, raw, aks);
			pz_milenage_f1star(&usim, raw, ms, amf0, auts + 6);
			for (int i = 0; i < 6; i++)
				auts[i] = ms[i] ^ aks[i];
			a.have |= PZ_DF_AUTS;
			a.response[0] = '\0';
			pz_b64_encode(auts, 14, a.auts, 0);
			resyncs++;
			c->step = 1;
			pz_digest_write(PZ_DIGEST_AUTH, &a, out, sizeof(out),
					NULL);
			return sendreq(c, out);
		}
		c->sqn[c->ue] = s;
	}
	if (pz_digest_response(&a, res, 8, "GET", NULL, 0, a.response))
		return -1;
	pz_digest_write(PZ_DIGEST_AUTH, &a, out, sizeof(out), NULL);
	c->step = 2;
	return sendreq(c, out);
}

static int opened(const char *host, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	sa.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, host, &sa.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

int main(int argc, char **argv)
{
	struct conn *cs = conns;
	struct pollfd pf[MAXC];
	uint8_t k[16], opc[16];
	double t0, secs;
	int nc;

	if (argc < 7 || hexin(argv[4], k, 16) || hexin(argv[5], opc, 16)) {
		fprintf(stderr, "usage: ubload HOST PORT IMPI K OPC SECONDS "
			"[CONNECTIONS]\n");
		return 2;
	}
	secs = atof(argv[6]);
	nc = argc > 7 ? atoi(argv[7]) : 4;
	nues = argc > 8 ? atoi(argv[8]) : 1;
	base_impi = argv[3];
	if (nues < 1 || nues > 1000000)
		return 2;
	if (nc < 1 || nc > MAXC || pz_milenage_init(&usim, k, 16, opc, 16))
		return 2;
	for (int i = 0; i < nc; i++) {
		cs[i].sqn = calloc((size_t)nues, sizeof(uint64_t));
		cs[i].ue = -1;
		if (!cs[i].sqn)
			return 1;
		cs[i].fd = opened(argv[1], atoi(argv[2]));
		if (cs[i].fd < 0 || first(&cs[i])) {
			perror("connect");
			return 1;
		}
	}
	t0 = now_s();
	while (now_s() - t0 < secs) {
		for (int i = 0; i < nc; i++)
			pf[i] = (struct pollfd){ .fd = cs[i].fd,
						 .events = POLLIN };
		if (poll(pf, (nfds_t)nc, 1000) < 0)
			break;
		for (int i = 0; i < nc; i++) {
			struct conn *c = &cs[i];
			ssize_t r;
			size_t total;
			int st, rc = 0;

			if (!(pf[i].revents & (POLLIN | POLLHUP)))
				continue;
			r = read(c->fd, c->buf + c->len,
				 sizeof(c->buf) - 1 - c->len);
			if (r <= 0) {
				fprintf(stderr, "connection closed\n");
				return 1;
			}
			c->len += (size_t)r;
			if (!complete(c, &st, &total))
				continue;
			if (c->step == 1 && st == 401) {
				rc = answer(c);
			} else if (c->step == 2 && st == 200 &&
				   strstr(c->buf, "<btid>")) {
				boots++;
				rc = first(c);
			} else {
				failures++;
				rc = first(c);
			}
			memmove(c->buf, c->buf + total, c->len - total);
			c->len -= total;
			if (rc) {
				fprintf(stderr, "bad challenge\n");
				return 1;
			}
		}
	}
	secs = now_s() - t0;
	printf("bootstraps %ld seconds %.2f rate %.0f/s resyncs %ld "
	       "failures %ld\n", boots, secs, boots / secs, resyncs,
	       failures);
	pz_milenage_done(&usim);
	for (int i = 0; i < nc; i++) {
		close(cs[i].fd);
		free(cs[i].sqn);
	}
	return failures ? 1 : 0;
}
