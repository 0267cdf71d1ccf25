/*
 * listen_http.c - the HTTP/1.1 side of plaza listen (cmd_listen.c): a
 * connection's bytes framed into requests (Content-Length bodies, at most
 * LISTEN_MAX_BODY; pipelining; Expect: 100-continue), the request head
 * parsed by a pure, bounded parser, and the answers written back without
 * blocking.  What a request means is cli__listen_request's business.
 *
 * A request that cannot be framed (malformed head, head over
 * LISTEN_MAX_HEAD, body over LISTEN_MAX_BODY, Transfer-Encoding) is
 * answered 4xx with Connection: close and one line on stderr; the
 * connection then lingers (input read and dropped) so that the peer gets
 * the answer rather than a reset.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "plaza/pz_err.h"
#include "plaza/pz_req.h"
#include "plaza/pz_time.h"
#include "cli_int.h"

#define LISTEN_READ 65536                    /* bytes read at a time */
#define LISTEN_MAX_IN (LISTEN_MAX_HEAD + LISTEN_MAX_BODY + LISTEN_READ)
#define LISTEN_MAX_OUT ((size_t)64 << 10)   /* answers waiting to go out */

/* --- messages ----------------------------------------------------------- */

void cli__listen_warn(const struct listen_conn *k, int status,
		      const char *fmt, ...)
{
	char why[512];
	struct pz_buf safe;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	pz_buf_init(&safe, 2048);
	cli__safe_add(&safe, why);
	fprintf(stderr, "plaza: listen: %s: %s", k->peer,
		safe.data ? safe.data : "");
	if (status)
		fprintf(stderr, " (answered %d)", status);
	fputc('\n', stderr);
	pz_buf_free(&safe);
}

/* --- the request head: a pure, bounded parser --------------------------- */

static bool is_tchar(int ch)
{
	return isalnum(ch) || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static bool name_is(const char *p, size_t n, const char *name)
{
	return strlen(name) == n && !strncasecmp(p, name, n);
}

/* Is tok one of the comma-separated tokens of v (len bytes)? */
static bool token_in(const char *v, size_t len, const char *tok)
{
	size_t i = 0, j;

	while (i < len) {
		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		for (j = i; j < len && v[j] != ','; j++)
			;
		while (j > i && (v[j - 1] == ' ' || v[j - 1] == '\t'))
			j--;
		if (name_is(v + i, j - i, tok))
			return true;
		i = j + 1;
	}
	return false;
}

/* "METHOD TARGET HTTP/1.x" (len bytes at p) into h. */
static int lhead_line(const char *p, size_t len, struct listen_head *h,
		      const char **why)
{
	const char *sp1 = memchr(p, ' ', len), *sp2, *ver;
	size_t mlen = sp1 ? (size_t)(sp1 - p) : 0;

	*why = "malformed request line";
	if (!mlen || mlen >= sizeof(h->method))
		return PZ_EINVAL;
	for (size_t i = 0; i < mlen; i++)
		if (!is_tchar((unsigned char)p[i]))
			return PZ_EINVAL;
	memcpy(h->method, p, mlen);
	h->method[mlen] = '\0';
	sp2 = memchr(sp1 + 1, ' ', len - mlen - 1);
	if (!sp2 || sp2 == sp1 + 1)
		return PZ_EINVAL;
	ver = sp2 + 1;
	if ((size_t)(p + len - ver) != 8 || memcmp(ver, "HTTP/1.", 7) ||
	    (ver[7] != '0' && ver[7] != '1')) {
		*why = "not an HTTP/1.x request";
		return PZ_EINVAL;
	}
	h->close = ver[7] == '0';
	return PZ_OK;
}

/* Content-Length: digits only; repeated, it must not change. */
static int lhead_clen(struct listen_head *h, const char *v, size_t len,
		      const char **why)
{
	long long n = 0;

	*why = "malformed Content-Length";
	if (len == 0 || len > 15)
		return PZ_EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)v[i]))
			return PZ_EINVAL;
		n = n * 10 + (v[i] - '0');
	}
	if (h->clen >= 0 && h->clen != n) {
		*why = "conflicting Content-Length headers";
		return PZ_EINVAL;
	}
	h->clen = n;
	return PZ_OK;
}

/* Apply one header (name and trimmed value) to h; others are ignored. */
static int lhead_apply(struct listen_head *h, const char *name, size_t nlen,
		       const char *v, size_t vlen, const char **why)
{
	if (name_is(name, nlen, "Content-Length"))
		return lhead_clen(h, v, vlen, why);
	if (name_is(name, nlen, "Transfer-Encoding")) {
		h->te = true;
	} else if (name_is(name, nlen, "Connection")) {
		h->close = h->close || token_in(v, vlen, "close");
	} else if (name_is(name, nlen, "Expect")) {
		h->expect = name_is(v, vlen, "100-continue");
	} else if (name_is(name, nlen, "X-M2M-RI")) {
		vlen = vlen < sizeof(h->ri) ? vlen : sizeof(h->ri) - 1;
		memcpy(h->ri, v, vlen);
		h->ri[vlen] = '\0';
	}
	return PZ_OK;
}

/* One "Name: value" line (len bytes at p, without its CRLF).  Control
 * characters are refused: X-M2M-RI is echoed into the answer. */
static int lhead_field(struct listen_head *h, const char *p, size_t len,
		       const char **why)
{
	const char *colon = memchr(p, ':', len), *v, *end = p + len;

	for (size_t i = 0; i < len; i++) {
		if (((unsigned char)p[i] < 0x20 && p[i] != '\t') ||
		    p[i] == 0x7f) {
			*why = "control character in a header";
			return PZ_EINVAL;
		}
	}
	*why = "malformed header line";
	if (!colon || colon == p)
		return PZ_EINVAL;
	for (const char *q = p; q < colon; q++)
		if (!is_tchar((unsigned char)*q))
			return PZ_EINVAL;  /* also folding, space before ':' */
	for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++)
		;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	return lhead_apply(h, p, (size_t)(colon - p), v, (size_t)(end - v),
			   why);
}

/*
 * lhead_parse - the request line and headers at the start of p (n bytes)
 * into h.  PZ_OK, PZ_EAGAIN (no blank line yet), PZ_ETOOBIG (none within
 * LISTEN_MAX_HEAD), PZ_EINVAL (malformed; *why, static text, says how).
 * No I/O, no globals.
 */
static int lhead_parse(const char *p, size_t n, struct listen_head *h,
		       const char **why)
{
	const char *end, *line, *eol;
	int rc;

	memset(h, 0, sizeof(*h));
	h->clen = -1;
	*why = NULL;
	end = memmem(p, n < LISTEN_MAX_HEAD ? n : LISTEN_MAX_HEAD, "\r\n\r\n",
		     4);
	if (!end)
		return n >= LISTEN_MAX_HEAD ? PZ_ETOOBIG : PZ_EAGAIN;
	h->len = (size_t)(end - p) + 4;
	eol = memmem(p, (size_t)(end + 2 - p), "\r\n", 2);
	rc = lhead_line(p, (size_t)(eol - p), h, why);
	for (line = eol + 2; rc == PZ_OK && line < end + 2; line = eol + 2) {
		eol = memmem(line, (size_t)(end + 2 - line), "\r\n", 2);
		rc = lhead_field(h, line, (size_t)(eol - line), why);
	}
	if (rc == PZ_OK)
		*why = NULL;
	return rc;
}

/* --- answers ------------------------------------------------------------ */

static const char *http_reason(int status)
{
	static const struct {
		int status;
		const char *text;
	} reasons[] = {
		{ 100, "Continue" }, { 200, "OK" }, { 201, "Created" },
		{ 202, "Accepted" }, { 400, "Bad Request" },
		{ 403, "Forbidden" }, { 404, "Not Found" },
		{ 405, "Method Not Allowed" }, { 406, "Not Acceptable" },
		{ 409, "Conflict" }, { 411, "Length Required" },
		{ 413, "Content Too Large" }, { 415, "Unsupported Media Type" },
		{ 431, "Request Header Fields Too Large" },
		{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
		{ 504, "Gateway Timeout" },
	};

	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].text;
	return "Status";
}

int cli__conn_answer(struct listen_conn *k, int status, int rsc,
		     const char *ri, const char *extra)
{
	int rc = pz_buf_addf(&k->out, "HTTP/1.1 %d %s\r\nX-M2M-RSC: %d\r\n",
			     status, http_reason(status), rsc);

	if (rc == PZ_OK && ri && *ri)
		rc = pz_buf_addf(&k->out, "X-M2M-RI: %s\r\n", ri);
	if (rc == PZ_OK && extra)
		rc = pz_buf_adds(&k->out, extra);
	if (rc == PZ_OK && k->closing)
		rc = pz_buf_adds(&k->out, "Connection: close\r\n");
	if (rc == PZ_OK)
		rc = pz_buf_adds(&k->out, "Content-Length: 0\r\n\r\n");
	return rc;
}

void cli__conn_close(struct listen_conn *k)
{
	if (k->fd >= 0)
		close(k->fd);
	pz_buf_free(&k->in);
	pz_buf_free(&k->out);
	memset(k, 0, sizeof(*k));
	k->fd = -1;
}

void cli__conn_refuse(struct listen_conn *k, int status, int rsc, bool close,
		      const char *ri, const char *why)
{
	cli__listen_warn(k, status, "%s", why);
	k->closing = k->closing || close;
	if (close)
		pz_buf_reset(&k->in);
	if (cli__conn_answer(k, status, rsc ? rsc : PZ_RSC_BAD_REQUEST, ri,
			     status == 405 ? "Allow: POST\r\n" : NULL) != PZ_OK)
		cli__conn_close(k);
}

/* conn_flush - send what k->out holds.  true when all of it went out;
 * false when the rest waits for POLLOUT, or the peer is gone (k closed). */
static bool conn_flush(struct listen_conn *k)
{
	ssize_t n;

	while (k->fd >= 0 && k->sent < k->out.len) {
		n = send(k->fd, k->out.data + k->sent, k->out.len - k->sent,
			 MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return false;
		if (n < 0) {
			cli__conn_close(k);
			return false;
		}
		k->sent += (size_t)n;
		k->last_ms = pz_time_mono_ms();
	}
	if (k->fd < 0)
		return false;
	pz_buf_reset(&k->out);
	k->sent = 0;
	return true;
}

/* --- connections -------------------------------------------------------- */

/* Drop the first n bytes of b (keeping it NUL-terminated). */
static void buf_drop(struct pz_buf *b, size_t n)
{
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

void cli__conn_open(struct listen_conn *k, int fd)
{
	memset(k, 0, sizeof(*k));
	k->fd = fd;
	pz_buf_init(&k->in, LISTEN_MAX_IN);
	pz_buf_init(&k->out, LISTEN_MAX_OUT);
	k->last_ms = pz_time_mono_ms();
}

/*
 * conn_step - handle the request at the start of k->in if it is all there.
 * true when one was handled (there may be another); false when more bytes
 * are needed (a 100 Continue may be queued) or the request was refused
 * and the connection is closing.
 */
static bool conn_step(struct listener *l, struct listen_conn *k)
{
	struct listen_head h;
	const char *why;
	size_t body;
	int rc;

	while (k->in.len >= 2 && !memcmp(k->in.data, "\r\n", 2))
		buf_drop(&k->in, 2);  /* stray CRLF between requests */
	rc = lhead_parse(k->in.data ? k->in.data : "", k->in.len, &h, &why);
	if (rc == PZ_EAGAIN)
		return false;
	if (rc == PZ_ETOOBIG)
		why = "header section larger than 16 KiB";
	else if (rc == PZ_OK && h.te)
		why = "Transfer-Encoding is not supported: send "
		      "Content-Length";
	else if (rc == PZ_OK && h.clen > (long long)LISTEN_MAX_BODY)
		why = "body larger than 1 MiB";
	if (why) {
		cli__conn_refuse(k, rc == PZ_ETOOBIG ? 431 : rc != PZ_OK ? 400 :
				 h.te ? 411 : 413, 0, true, rc ? "" : h.ri,
				 why);
		return false;
	}
	body = h.clen > 0 ? (size_t)h.clen : 0;
	if (k->in.len < h.len + body) {
		if (h.expect && !k->continued &&
		    pz_buf_adds(&k->out, "HTTP/1.1 100 Continue\r\n\r\n") ==
		    PZ_OK)
			k->continued = true;
		return false;
	}
	cli__listen_request(l, k, &h, k->in.data + h.len, body);
	if (k->fd >= 0)
		buf_drop(&k->in, h.len + body);
	k->continued = false;
	return k->fd >= 0 && !k->closing;
}

/*
 * conn_linger - the last answer is out: shut down writing and drop what
 * the peer still sends until it closes (or LISTEN_LINGER_MS pass).  Closing
 * with unread input would reset the connection, and the peer could lose
 * the answer, a refusal above all.
 */
static void conn_linger(struct listen_conn *k)
{
	if (shutdown(k->fd, SHUT_WR) < 0) {
		cli__conn_close(k);
		return;
	}
	pz_buf_free(&k->in);
	k->linger = true;
	k->last_ms = pz_time_mono_ms();
}

void cli__conn_work(struct listener *l, struct listen_conn *k)
{
	if (k->linger) {
		if (k->eof)
			cli__conn_close(k);
		return;
	}
	while (conn_flush(k) && !k->closing && !l->done && conn_step(l, k))
		;
	if (k->fd < 0 || !conn_flush(k))
		return;  /* closed, or answers wait for POLLOUT */
	if (k->eof && k->in.len && !k->closing && !l->done)
		cli__listen_warn(k, 0, "connection closed in the middle of "
				 "a request");
	if (k->closing && !k->eof && !l->done)
		conn_linger(k);
	else if (k->closing || k->eof || l->done)
		cli__conn_close(k);
}

void cli__conn_read(struct listen_conn *k)
{
	char chunk[LISTEN_READ];
	ssize_t n = recv(k->fd, chunk, sizeof(chunk), 0);

	if (n < 0 && (errno == EINTR || errno == EAGAIN ||
		      errno == EWOULDBLOCK))
		return;
	if (n < 0) {
		cli__conn_close(k);  /* reset by the peer: nothing to answer */
		return;
	}
	k->last_ms = pz_time_mono_ms();
	if (n == 0)
		k->eof = true;
	else if (k->linger)
		return;  /* dropped */
	else if (pz_buf_add(&k->in, chunk, (size_t)n) != PZ_OK)
		cli__conn_close(k);  /* cannot happen below LISTEN_MAX_IN */
}
