/*
 * pzdev_http.h - a minimal blocking HTTP/1.1 client for pzdev: one
 * request per TCP connection to a numeric IPv4 or IPv6 address, an answer
 * framed by Content-Length (or by the server closing), a bound on the
 * whole exchange.  It is what the GBA Ub bootstrap (pzdev_gba.h) needs
 * and no more: no chunked transfer coding, no redirects, no TLS, no DNS.
 *
 * No heap; the caller gives both buffers.  Nothing here depends on
 * plaza's libraries.  The parser is pure (no I/O, no globals).
 */
#ifndef PZDEV_HTTP_H
#define PZDEV_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PZDEV_HTTP_HDRS_MAX 16    /* header fields kept by the parser */

/* One header field; both pointers borrow the parsed buffer, neither is
 * NUL-terminated, the value has no leading or trailing blanks. */
struct pzdev_http_hdr {
	const char *name;        /* field name */
	size_t nlen;             /* its length */
	const char *val;         /* field value */
	size_t vlen;             /* its length */
};

/* A parsed response; every pointer borrows the buffer given to parse. */
struct pzdev_http_rsp {
	unsigned status;         /* 100..599 */
	unsigned nhdr;           /* header fields kept in hdr */
	struct pzdev_http_hdr hdr[PZDEV_HTTP_HDRS_MAX];  /* in order */
	const uint8_t *body;     /* the body (never NULL when parsed) */
	size_t blen;             /* its length */
	size_t len;              /* octets of the whole response */
};

/*
 * pzdev_http_parse - parse the len octets at buf as an HTTP/1.x response
 * into r (its pointers borrow buf).  eof says the server has closed: a
 * response without Content-Length then ends there.  Header fields beyond
 * PZDEV_HTTP_HDRS_MAX are skipped, not kept.  Lines end in CRLF or LF.
 * PZDEV_OK (a whole response; octets after r->len are ignored);
 * PZDEV_EAGAIN (not all of it yet, and !eof); PZDEV_EPARSE (not
 * "HTTP/1.x NNN", a field without ':' or with a folded line, a bad or
 * second differing Content-Length, Transfer-Encoding, a response cut
 * short by eof).
 */
int pzdev_http_parse(const uint8_t *buf, size_t len, bool eof,
		     struct pzdev_http_rsp *r);

/* pzdev_http_header - the value of the first field name (ASCII case-
 * insensitive) of r, its length into *vlen; NULL when absent. */
const char *pzdev_http_header(const struct pzdev_http_rsp *r,
			      const char *name, size_t *vlen);

/*
 * pzdev_http_exchange - connect to host (numeric IPv4 or IPv6) and port,
 * send the req_len octets of req (a whole request, borrowed), and read
 * the response into buf (cap octets) and parse it into rsp (which then
 * borrows buf).  Everything within timeout_ms.  The socket is closed
 * before return.
 * PZDEV_OK; PZDEV_EINVAL (not a numeric address, NULL); PZDEV_ENET
 * (refused, reset, unreachable); PZDEV_ETIMEOUT; PZDEV_ETOOBIG (the
 * response does not fit cap); PZDEV_EPARSE (malformed).
 */
int pzdev_http_exchange(const char *host, uint16_t port, const void *req,
			size_t req_len, uint8_t *buf, size_t cap,
			struct pzdev_http_rsp *rsp, unsigned timeout_ms);

#endif
