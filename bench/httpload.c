/*
 * httpload.c - an open-loop HTTP/1.1 load generator for latency at a fixed
 * rate (wrk measures throughput; this measures what a client waits at a
 * given load).
 *
 *   httpload -u http://127.0.0.1:8080/path -c 64 -r 12000 -d 10 \
 *            -m POST -H 'Content-Type: application/json;ty=4' -b BODY
 *
 * Requests are issued on a fixed schedule (rate r), each on an idle
 * keep-alive connection; latency is measured from the scheduled send time,
 * so a stalled server cannot hide its queueing ("coordinated omission").
 * A "%n" in the body or headers is replaced by a request counter.  Reports
 * throughput, status counts and the latency percentiles.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 1024
#define MAX_HDRS 16
#define BUCKETS 4096     /* latency histogram: 10 us buckets up to ~41 ms,
			    then a tail list */

struct conn {
	int fd;
	int busy;                /* a request is outstanding */
	int64_t sent_at;         /* scheduled send time, ns */
	char in[16384];
	size_t inlen;
};

static struct {
	const char *method, *host, *path, *body;
	const char *hdrs[MAX_HDRS];
	int nhdrs;
	int port, conns;
	double rate, secs;
} opt = { "GET", NULL, "/", NULL, { NULL }, 0, 0, 64, 1000, 10 };

static uint64_t hist[BUCKETS];
static int64_t *tail;
static size_t ntail, captail;
static uint64_t done_ok, done_err, missed, status[6];

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void record(int64_t ns)
{
	int64_t b = ns / 10000;

	if (b < BUCKETS) {
		hist[b]++;
		return;
	}
	if (ntail == captail) {
		captail = captail ? captail * 2 : 1024;
		tail = realloc(tail, captail * sizeof(*tail));
		if (!tail)
			exit(1);
	}
	tail[ntail++] = ns;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static double percentile(double p)
{
	uint64_t total = done_ok + done_err, want, seen = 0;

	if (!total)
		return 0;
	want = (uint64_t)(p * (double)total);
	if (want >= total)
		want = total - 1;
	for (int i = 0; i < BUCKETS; i++) {
		seen += hist[i];
		if (seen > want)
			return (i + 0.5) * 0.01;
	}
	qsort(tail, ntail, sizeof(*tail), cmp64);
	return tail[want - seen < ntail ? want - seen : ntail - 1] / 1e6;
}

/* Replace "%n" with the counter. */
static size_t expand(char *out, size_t len, const char *s, uint64_t n)
{
	size_t o = 0;

	for (; *s && o + 24 < len; s++) {
		if (s[0] == '%' && s[1] == 'n') {
			o += (size_t)snprintf(out + o, len - o, "%llu",
					      (unsigned long long)n);
			s++;
		} else {
			out[o++] = *s;
		}
	}
	out[o] = '\0';
	return o;
}

static int connect_one(void)
{
	struct sockaddr_in a = { 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)opt.port);
	inet_pton(AF_INET, opt.host, &a.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("connect");
		exit(1);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

static void send_req(struct conn *c, uint64_t n, int64_t at)
{
	char req[8192], body[4096], h[512];
	size_t blen = opt.body ? expand(body, sizeof(body), opt.body, n) : 0;
	int len = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: %s\r\n",
			   opt.method, opt.path, opt.host);

	for (int i = 0; i < opt.nhdrs; i++) {
		expand(h, sizeof(h), opt.hdrs[i], n);
		len += snprintf(req + len, sizeof(req) - (size_t)len, "%s\r\n",
				h);
	}
	len += snprintf(req + len, sizeof(req) - (size_t)len,
			"Content-Length: %zu\r\n\r\n", blen);
	if (blen && (size_t)len + blen < sizeof(req)) {
		memcpy(req + len, body, blen);
		len += (int)blen;
	}
	if (write(c->fd, req, (size_t)len) != len) {
		perror("write");
		exit(1);
	}
	c->busy = 1;
	c->sent_at = at;
	c->inlen = 0;
}

/* A complete response in c->in?  Returns its status, 0 if incomplete. */
static int parse_resp(struct conn *c)
{
	char *end, *cl;
	long clen = 0;
	int st;

	c->in[c->inlen] = '\0';
	end = strstr(c->in, "\r\n\r\n");
	if (!end)
		return 0;
	cl = strcasestr(c->in, "\r\nContent-Length:");
	if (cl && cl < end)
		clen = strtol(cl + 17, NULL, 10);
	if ((size_t)(end + 4 - c->in) + (size_t)clen > c->inlen)
		return 0;
	if (sscanf(c->in, "HTTP/1.%*d %d", &st) != 1)
		return -1;
	return st;
}

static void usage(void)
{
	fprintf(stderr, "usage: httpload -u http://HOST:PORT/PATH [-c conns] "
		"[-r rate] [-d secs] [-m METHOD] [-H header]... [-b body]\n");
	exit(2);
}

static void parse_url(const char *u)
{
	static char host[64];
	const char *p, *slash;

	if (strncmp(u, "http://", 7))
		usage();
	p = u + 7;
	slash = strchr(p, '/');
	if (!slash || sscanf(p, "%63[^:]:%d", host, &opt.port) != 2)
		usage();
	opt.host = host;
	opt.path = slash;
}

int main(int argc, char **argv)
{
	struct conn *cs;
	struct epoll_event ev, evs[256];
	int ep, o;
	int64_t start, stop, next, interval;
	uint64_t n = 0;

	while ((o = getopt(argc, argv, "u:c:r:d:m:H:b:")) != -1) {
		switch (o) {
		case 'u': parse_url(optarg); break;
		case 'c': opt.conns = atoi(optarg); break;
		case 'r': opt.rate = atof(optarg); break;
		case 'd': opt.secs = atof(optarg); break;
		case 'm': opt.method = optarg; break;
		case 'H':
			if (opt.nhdrs < MAX_HDRS)
				opt.hdrs[opt.nhdrs++] = optarg;
			break;
		case 'b': opt.body = optarg; break;
		default: usage();
		}
	}
	if (!opt.host || opt.conns < 1 || opt.conns > MAX_CONNS ||
	    opt.rate <= 0 || opt.secs <= 0)
		usage();
	cs = calloc((size_t)opt.conns, sizeof(*cs));
	ep = epoll_create1(0);
	for (int i = 0; i < opt.conns; i++) {
		cs[i].fd = connect_one();
		ev.events = EPOLLIN;
		ev.data.u32 = (uint32_t)i;
		epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
	}
	interval = (int64_t)(1e9 / opt.rate);
	start = now_ns();
	stop = start + (int64_t)(opt.secs * 1e9);
	next = start;
	for (;;) {
		int64_t t = now_ns();
		int wait_ms, k;

		/* Issue every request whose time has come. */
		while (next <= t && next < stop) {
			int idle = -1;

			for (int i = 0; i < opt.conns; i++) {
				int j = (int)((n + (uint64_t)i) %
					      (uint64_t)opt.conns);

				if (!cs[j].busy) {
					idle = j;
					break;
				}
			}
			if (idle < 0) {
				missed++;  /* every connection busy: overload */
			} else {
				send_req(&cs[idle], n, next);
			}
			n++;
			next += interval;
		}
		if (t >= stop) {
			int busy = 0;

			for (int i = 0; i < opt.conns; i++)
				busy += cs[i].busy;
			if (!busy || t > stop + 5000000000LL)
				break;
		}
		wait_ms = next > t ? (int)((next - t) / 1000000) : 0;
		k = epoll_wait(ep, evs, 256, wait_ms);
		for (int e = 0; e < k; e++) {
			struct conn *c = &cs[evs[e].data.u32];
			ssize_t r = read(c->fd, c->in + c->inlen,
					 sizeof(c->in) - 1 - c->inlen);
			int st;

			if (r <= 0) {
				fprintf(stderr, "connection closed\n");
				exit(1);
			}
			c->inlen += (size_t)r;
			st = parse_resp(c);
			if (st == 0)
				continue;
			record(now_ns() - c->sent_at);
			if (st >= 100 && st < 600)
				status[st / 100]++;
			if (st >= 200 && st < 300)
				done_ok++;
			else
				done_err++;
			c->busy = 0;
		}
	}
	double secs = (double)(now_ns() - start) / 1e9;

	printf("requests %llu ok %llu errors %llu missed %llu in %.2f s\n",
	       (unsigned long long)n, (unsigned long long)done_ok,
	       (unsigned long long)done_err, (unsigned long long)missed, secs);
	printf("throughput %.0f/s (target %.0f/s)\n",
	       (double)(done_ok + done_err) / secs, opt.rate);
	printf("status 2xx %llu 4xx %llu 5xx %llu\n",
	       (unsigned long long)status[2], (unsigned long long)status[4],
	       (unsigned long long)status[5]);
	printf("latency_ms p50 %.2f p90 %.2f p99 %.2f p99.9 %.2f\n",
	       percentile(0.50), percentile(0.90), percentile(0.99),
	       percentile(0.999));
	return 0;
}
