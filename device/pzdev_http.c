/*
 * pzdev_http.c - the minimal blocking HTTP/1.1 client of pzdev (see
 * pzdev_http.h): a pure response parser and one exchange over TCP.
 *
 * The only OS interfaces used are a TCP socket (socket, connect, send,
 * recv, poll) and a monotonic clock; a port replaces http_connect and
 * http_io.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "pzdev.h"
#include "pzdev_http.h"

/* --- the parser ----------------------------------------------------------- */

/* The end of the line starting at i (the index of its '\n'), or len. */
static size_t line_end(const uint8_t *b, size_t len, size_t i)
{
	const uint8_t *nl = memchr(b + i, '\n', len - i);

	return nl ? (size_t)(nl - b) : len;
}

/* The length of the line from i to e without a trailing CR. */
static size_t line_len(const uint8_t *b, size_t i, size_t e)
{
	return e > i && b[e - 1] == '\r' ? e - i - 1 : e - i;
}

/* "HTTP/1.x NNN ..." into r->status; false if it is not one. */
static bool status_line(const uint8_t *b, size_t n, struct pzdev_http_rsp *r)
{
	if (n < 12 || memcmp(b, "HTTP/1.", 7) || b[7] < '0' || b[7] > '9' ||
	    b[8] != ' ' || (n > 12 && b[12] != ' '))
		return false;
	r->status = 0;
	for (size_t i = 9; i < 12; i++) {
		if (b[i] < '0' || b[i] > '9')
			return false;
		r->status = r->status * 10 + (unsigned)(b[i] - '0');
	}
	return r->status >= 100;
}

/* A Content-Length value into *cl; false unless 1 to 9 digits. */
static bool content_length(const char *v, size_t n, size_t *cl)
{
	size_t x = 0;

	if (!n || n > 9)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		x = x * 10 + (size_t)(v[i] - '0');
	}
	*cl = x;
	return true;
}

/* One field line (b, n octets, no line end) into r, checking framing
 * fields; *cl is SIZE_MAX until a Content-Length.  PZDEV_OK/EPARSE. */
static int field(const char *b, size_t n, struct pzdev_http_rsp *r,
		 size_t *cl)
{
	const char *colon = memchr(b, ':', n);
	size_t nl, vs, ve, x = 0;

	if (!colon || colon == b || b[0] == ' ' || b[0] == '\t')
		return PZDEV_EPARSE;          /* no name, or obs-fold */
	nl = (size_t)(colon - b);
	if (memchr(b, ' ', nl) || memchr(b, '\t', nl))
		return PZDEV_EPARSE;
	vs = nl + 1;
	ve = n;
	while (vs < ve && (b[vs] == ' ' || b[vs] == '\t'))
		vs++;
	while (ve > vs && (b[ve - 1] == ' ' || b[ve - 1] == '\t'))
		ve--;
	if (nl == 17 && !strncasecmp(b, "Transfer-Encoding", nl))
		return PZDEV_EPARSE;          /* chunked is not supported */
	if (nl == 14 && !strncasecmp(b, "Content-Length", nl)) {
		if (!content_length(b + vs, ve - vs, &x) ||
		    (*cl != SIZE_MAX && *cl != x))
			return PZDEV_EPARSE;
		*cl = x;
	}
	if (r->nhdr < PZDEV_HTTP_HDRS_MAX)
		r->hdr[r->nhdr++] = (struct pzdev_http_hdr){
			b, nl, b + vs, ve - vs };
	return PZDEV_OK;
}

int pzdev_http_parse(const uint8_t *buf, size_t len, bool eof,
		     struct pzdev_http_rsp *r)
{
	size_t i, e, cl = SIZE_MAX;
	int rc;

	if (!buf || !r)
		return PZDEV_EINVAL;
	memset(r, 0, sizeof(*r));
	e = line_end(buf, len, 0);
	if (e == len)
		return eof ? PZDEV_EPARSE : PZDEV_EAGAIN;
	if (!status_line(buf, line_len(buf, 0, e), r))
		return PZDEV_EPARSE;
	for (i = e + 1;; i = e + 1) {
		e = line_end(buf, len, i);
		if (e == len)
			return eof ? PZDEV_EPARSE : PZDEV_EAGAIN;
		if (!line_len(buf, i, e))
			break;                /* the empty line */
		rc = field((const char *)buf + i, line_len(buf, i, e), r,
			   &cl);
		if (rc)
			return rc;
	}
	r->body = buf + e + 1;
	if (cl == SIZE_MAX && (r->status < 200 || r->status == 204 ||
			       r->status == 304))
		cl = 0;                       /* bodiless by definition */
	if (cl == SIZE_MAX) {
		if (!eof)
			return PZDEV_EAGAIN;
		cl = len - (e + 1);
	}
	if (cl > len - (e + 1))
		return eof ? PZDEV_EPARSE : PZDEV_EAGAIN;
	r->blen = cl;
	r->len = e + 1 + cl;
	return PZDEV_OK;
}

const char *pzdev_http_header(const struct pzdev_http_rsp *r,
			      const char *name, size_t *vlen)
{
	size_t n = name ? strlen(name) : 0;

	for (unsigned i = 0; r && i < r->nhdr; i++)
		if (r->hdr[i].nlen == n &&
		    !strncasecmp(r->hdr[i].name, name, n)) {
			if (vlen)
				*vlen = r->hdr[i].vlen;
			return r->hdr[i].val;
		}
	return NULL;
}

/* --- the exchange ----------------------------------------------------------- */

static int64_t http_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A non-blocking TCP socket connecting to host:port into *fd. */
static int http_connect(const char *host, uint16_t port, int *fd)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	const struct sockaddr *sa;
	socklen_t salen;

	if (inet_pton(AF_INET, host, &a4.sin_addr) == 1) {
		a4.sin_port = htons(port);
		sa = (const struct sockaddr *)&a4;
		salen = sizeof(a4);
	} else if (inet_pton(AF_INET6, host, &a6.sin6_addr) == 1) {
		a6.sin6_port = htons(port);
		sa = (const struct sockaddr *)&a6;
		salen = sizeof(a6);
	} else {
		return PZDEV_EINVAL;
	}
	*fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC |
		     SOCK_NONBLOCK, 0);
	if (*fd < 0)
		return PZDEV_ENET;
	if (connect(*fd, sa, salen) != 0 && errno != EINPROGRESS)
		return PZDEV_ENET;
	return PZDEV_OK;
}

/* Wait until fd is ready for events before deadline.  PZDEV_OK,
 * PZDEV_ETIMEOUT, PZDEV_ENET (an error on the socket). */
static int http_wait(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t left = deadline - http_now();
	int n;

	if (left <= 0)
		return PZDEV_ETIMEOUT;
	n = poll(&p, 1, (int)left);
	if (n == 0)
		return PZDEV_ETIMEOUT;
	if (n < 0)
		return errno == EINTR ? PZDEV_OK : PZDEV_ENET;
	if ((p.revents & (POLLERR | POLLNVAL)) ||
	    ((p.revents & POLLHUP) && !(events & POLLIN)))
		return PZDEV_ENET;
	return PZDEV_OK;
}

/* Send all of req, then read and parse until a whole response. */
static int http_io(int fd, const uint8_t *req, size_t req_len, uint8_t *buf,
		   size_t cap, struct pzdev_http_rsp *rsp, int64_t deadline)
{
	size_t off = 0, got = 0;
	ssize_t n;
	int rc;

	while (off < req_len) {
		rc = http_wait(fd, POLLOUT, deadline);
		if (rc)
			return rc;
		n = send(fd, req + off, req_len - off, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return PZDEV_ENET;
		off += n > 0 ? (size_t)n : 0;
	}
	for (;;) {
		rc = http_wait(fd, POLLIN, deadline);
		if (rc)
			return rc;
		if (got == cap)
			return PZDEV_ETOOBIG;
		n = recv(fd, buf + got, cap - got, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return PZDEV_ENET;
		got += (size_t)n;
		rc = pzdev_http_parse(buf, got, n == 0, rsp);
		if (rc != PZDEV_EAGAIN)
			return rc;
	}
}

int pzdev_http_exchange(const char *host, uint16_t port, const void *req,
			size_t req_len, uint8_t *buf, size_t cap,
			struct pzdev_http_rsp *rsp, unsigned timeout_ms)
{
	int64_t deadline = http_now() + timeout_ms;
	int fd = -1, rc;

	if (!host || !req || !buf || !rsp)
		return PZDEV_EINVAL;
	rc = http_connect(host, port, &fd);
	if (rc == PZDEV_OK)
		rc = http_io(fd, req, req_len, buf, cap, rsp, deadline);
	if (fd >= 0)
		close(fd);
	return rc;
}
