/*
 * http.c - the oneM2M HTTP binding (TS-0009) on libmicrohttpd.
 *
 * libmicrohttpd runs without threads, in epoll mode; its epoll descriptor
 * sits in plazad's loop and MHD_run is called when it is readable or its
 * timeout passes.  A request is handed to the core once its body is in;
 * the connection is suspended until the core answers (after the batch that
 * holds the request's writes commits), then resumed and answered.
 *
 * Mapping (TS-0009): POST with ty in Content-Type = Create, POST without =
 * Notify, GET = Retrieve, PUT = Update, DELETE = Delete.  Path forms:
 * "/<path>" CSE-relative, "/~/<csi>/<path>" SP-relative,
 * "/_/<sp-id>/<csi>/<path>" absolute.  Other primitive parameters are
 * headers (X-M2M-*) or query parameters.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "plaza/pz_buf.h"
#include "plaza/pz_codec.h"
#include "plaza/pz_err.h"
#include "plaza/pz_http.h"
#include "plaza/pz_log.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_senml.h"
#include "plaza/pz_time.h"

#define HTTP_MAX_LISTENERS 8

enum hr_state {
	HR_READING = 0,    /* headers seen, body arriving */
	HR_REJECTED,       /* answered before the core (bad input) */
	HR_SUBMITTED,      /* the core holds req/rsp */
	HR_ANSWERED        /* the core answered; response can be queued */
};

struct http_listener {
	struct pz_http *h;             /* back pointer */
	struct MHD_Daemon *d;          /* owned */
	int epfd;                      /* MHD's epoll fd (MHD owns it) */
	struct pz_timer timer;         /* MHD's own timeouts */
	bool resumed;                  /* connections resumed since MHD_run */
};

/* One HTTP request in flight.  Freed when MHD reports completion, unless
 * the core still holds it (then when the core answers). */
struct http_req {
	struct pz_http *h;
	struct http_listener *l;       /* the listener it came in on */
	struct MHD_Connection *conn;   /* borrowed from MHD */
	enum hr_state state;
	bool suspended;                /* MHD_suspend_connection was called */
	struct http_req *next, *prev;  /* in pz_http.waiting while suspended */
	bool orphan;                   /* MHD is done; free on answer */
	bool too_big;                  /* body over the limit, discarding */
	bool mgmt;                     /* a /.plaza/ management request */
	bool sent_direct;              /* answered past MHD (half-closed) */
	const char *method;            /* management: the HTTP method */
	const char *path;              /* management: the path */
	const char *auth;              /* management: Authorization */
	enum pz_fmt accept;            /* serialisation of the answer */
	enum pz_fmt body_fmt;          /* serialisation of the request body */
	const char *ctype;             /* media type to answer with */
	struct pz_buf body;            /* request body */
	struct pz_req req;
	struct pz_rsp rsp;
	char peer[64];
};

struct pz_http {
	pz_loop *loop;                 /* borrowed */
	pz_core *core;                 /* borrowed */
	struct pz_http_opts opts;
	struct http_listener ls[HTTP_MAX_LISTENERS];
	int nls;
	struct http_req *waiting;      /* suspended, waiting for the core */
	struct http_req *spare;        /* freed records for reuse (via next) */
	int nspare;
};

static void http_wait_add(struct http_req *hr)
{
	struct pz_http *h = hr->h;

	hr->prev = NULL;
	hr->next = h->waiting;
	if (h->waiting)
		h->waiting->prev = hr;
	h->waiting = hr;
}

static void http_wait_del(struct http_req *hr)
{
	if (hr->prev)
		hr->prev->next = hr->next;
	else
		hr->h->waiting = hr->next;
	if (hr->next)
		hr->next->prev = hr->prev;
	hr->next = hr->prev = NULL;
}

/* --- answers ------------------------------------------------------------ */

static enum MHD_Result http_queue(struct http_req *hr, int status,
				  struct pz_buf *body)
{
	struct MHD_Response *r;
	struct pz_rsp *rsp = &hr->rsp;
	enum MHD_Result ret;
	char num[16], ts[PZ_TS_LEN];

	if (body && body->len) {
		size_t len = body->len;

		r = MHD_create_response_from_buffer(len, pz_buf_take(body),
						    MHD_RESPMEM_MUST_FREE);
	} else {
		r = MHD_create_response_from_buffer(0, NULL,
						    MHD_RESPMEM_PERSISTENT);
	}
	if (!r)
		return MHD_NO;
	snprintf(num, sizeof(num), "%d", rsp->rsc);
	MHD_add_response_header(r, "X-M2M-RSC", num);
	if (rsp->rqi)
		MHD_add_response_header(r, "X-M2M-RI", rsp->rqi);
	else if (hr->req.rqi)
		MHD_add_response_header(r, "X-M2M-RI", hr->req.rqi);
	MHD_add_response_header(r, "X-M2M-RVI", rsp->rvi[0] ? rsp->rvi : "4");
	MHD_add_response_header(r, "X-M2M-OT",
				pz_time_format(pz_time_now(), ts));
	if (body)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
					hr->ctype);
	if (rsp->location && rsp->rsc == 2001)
		MHD_add_response_header(r, "Content-Location", rsp->location);
	if (rsp->credential)
		MHD_add_response_header(r, "X-Plaza-Token", rsp->credential);
	ret = MHD_queue_response(hr->conn, (unsigned)status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result http_answer(struct http_req *hr)
{
	struct pz_rsp *rsp = &hr->rsp;
	struct pz_buf body;
	enum MHD_Result ret;
	int status = pz_rsc_http(rsp->rsc);

	pz_buf_init(&body, 0);
	if (rsp->pc && pz_codec_encode(hr->accept, rsp->pc, &body) != PZ_OK) {
		pz_buf_free(&body);
		json_decref(rsp->pc);
		rsp->pc = NULL;
		rsp->rsc = 5000;
		status = 500;
	}
	ret = http_queue(hr, status, rsp->pc ? &body : NULL);
	pz_buf_free(&body);
	return ret;
}

/* Refuse before the core: rsc with a readable reason. */
static enum MHD_Result http_reject(struct http_req *hr, int status, int rsc,
				   const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static enum MHD_Result http_reject(struct http_req *hr, int status, int rsc,
				   const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	hr->state = HR_REJECTED;
	hr->rsp.rsc = rsc;
	json_decref(hr->rsp.pc);
	hr->rsp.pc = json_pack("{s:s}", "m2m:dbg", msg);
	snprintf(hr->rsp.rvi, sizeof(hr->rsp.rvi), "%s",
		 hr->req.rvi ? hr->req.rvi : "4");
	pz_log(PZ_INFO, "http", "%s %s rejected: rsc=%d %s", hr->peer,
	       hr->req.to ? hr->req.to : "-", rsc, msg);
	if (status == 0)
		status = pz_rsc_http(rsc);
	{
		struct pz_buf body;
		enum MHD_Result ret;

		pz_buf_init(&body, 0);
		if (!hr->rsp.pc ||
		    pz_codec_encode(hr->accept, hr->rsp.pc, &body) != PZ_OK) {
			pz_buf_free(&body);
			return http_queue(hr, status, NULL);
		}
		ret = http_queue(hr, status, &body);
		pz_buf_free(&body);
		return ret;
	}
}

/* --- request mapping ---------------------------------------------------- */

#define HTTP_MAX_KV 64

struct kv_list {
	struct pz_http_kv kv[HTTP_MAX_KV];
	size_t n;
	bool overflow;
};

static enum MHD_Result http_collect(void *cls, enum MHD_ValueKind kind,
				    const char *key, const char *value)
{
	struct kv_list *l = cls;

	(void)kind;
	if (l->n == HTTP_MAX_KV) {
		l->overflow = true;
		return MHD_NO;
	}
	l->kv[l->n].name = key;
	l->kv[l->n].value = value ? value : "";
	l->n++;
	return MHD_YES;
}

/* Map the request's head to hr->req (see http_map.c). */
static enum MHD_Result http_map(struct http_req *hr, const char *method,
				const char *url)
{
	struct kv_list hlist, alist, *hl = &hlist, *al = &alist;
	struct pz_http_in in;
	struct pz_http_out out;
	int rc;

	hl->n = al->n = 0;
	hl->overflow = al->overflow = false;
	MHD_get_connection_values(hr->conn, MHD_HEADER_KIND, http_collect, hl);
	MHD_get_connection_values(hr->conn, MHD_GET_ARGUMENT_KIND,
				  http_collect, al);
	in.method = method;
	in.path = url;
	in.headers = hl->kv;
	in.nheaders = hl->n;
	in.args = al->kv;
	in.nargs = al->n;
	if (hl->overflow || al->overflow)
		return http_reject(hr, 431, 4000, "more than %d headers or "
				   "query parameters", HTTP_MAX_KV);
	rc = pz_http_map(&in, &hr->req, &out);
	hr->accept = out.accept;
	hr->body_fmt = out.body_fmt;
	hr->ctype = out.ctype;
	if (rc == PZ_EREQ)
		return http_reject(hr, out.status, out.rsc, "%s", out.msg);
	return rc == PZ_OK ? MHD_YES : MHD_NO;
}

/* --- the core round trip ----------------------------------------------- */

/* Request records are recycled: each is over a kilobyte, and a fresh
 * allocation of that size per request makes glibc's allocator sweep its
 * small-chunk bins every time. */
#define HTTP_SPARE_MAX 256

static void http_req_free(struct http_req *hr)
{
	struct pz_http *h = hr->h;

	pz_req_clear(&hr->req);
	pz_rsp_clear(&hr->rsp);
	pz_buf_free(&hr->body);
	if (h->nspare < HTTP_SPARE_MAX) {
		hr->next = h->spare;
		h->spare = hr;
		h->nspare++;
		return;
	}
	pz_free(hr);
}

static struct http_req *http_req_new(struct pz_http *h)
{
	struct http_req *hr = h->spare;

	if (!hr)
		return pz_calloc(1, sizeof(*hr));
	h->spare = hr->next;
	h->nspare--;
	memset(hr, 0, sizeof(*hr));
	return hr;
}

/* Has the peer shut down its sending side (end of stream queued)? */
static bool http_peer_done(struct http_req *hr)
{
	const union MHD_ConnectionInfo *ci;
	char b;

	ci = MHD_get_connection_info(hr->conn,
				     MHD_CONNECTION_INFO_CONNECTION_FD);
	return ci && recv(ci->connect_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/*
 * The answer to a client that has shut down its sending side, written
 * straight to the socket.  libmicrohttpd 0.9.75 reads the end of stream
 * of a resumed connection before it writes, and closes it, answer unsent;
 * a client that sent a write and half-closed would never learn that it
 * was stored.  The connection closes after this answer.
 */
static bool http_send_direct(struct http_req *hr)
{
	const union MHD_ConnectionInfo *ci;
	struct pz_rsp *rsp = &hr->rsp;
	struct pz_buf out, body;
	char ts[PZ_TS_LEN];
	int status = pz_rsc_http(rsp->rsc);
	bool ok = false;
	size_t off = 0;

	ci = MHD_get_connection_info(hr->conn,
				     MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!ci)
		return false;
	pz_buf_init(&out, 0);
	pz_buf_init(&body, 0);
	if (rsp->pc && pz_codec_encode(hr->accept, rsp->pc, &body) != PZ_OK)
		goto out;
	if (pz_buf_addf(&out, "HTTP/1.1 %d %s\r\nConnection: close\r\n"
			"X-M2M-RSC: %d\r\nX-M2M-RI: %s\r\nX-M2M-RVI: %s\r\n"
			"X-M2M-OT: %s\r\nContent-Length: %zu\r\n", status,
			MHD_get_reason_phrase_for((unsigned)status), rsp->rsc,
			rsp->rqi ? rsp->rqi : hr->req.rqi ? hr->req.rqi : "",
			rsp->rvi[0] ? rsp->rvi : "4",
			pz_time_format(pz_time_now(), ts), body.len) != PZ_OK ||
	    (body.len && pz_buf_addf(&out, "Content-Type: %s\r\n",
				     hr->ctype) != PZ_OK) ||
	    (rsp->location && rsp->rsc == 2001 &&
	     pz_buf_addf(&out, "Content-Location: %s\r\n",
			 rsp->location) != PZ_OK) ||
	    (rsp->credential && pz_buf_addf(&out, "X-Plaza-Token: %s\r\n",
					    rsp->credential) != PZ_OK) ||
	    pz_buf_adds(&out, "\r\n") != PZ_OK ||
	    (body.len && pz_buf_add(&out, body.data, body.len) != PZ_OK))
		goto out;
	while (off < out.len) {
		ssize_t n = send(ci->connect_fd, out.data + off, out.len - off,
				 MSG_NOSIGNAL);

		if (n <= 0)
			goto out;  /* a full socket: the client stopped reading */
		off += (size_t)n;
	}
	ok = true;
out:
	pz_buf_free(&body);
	pz_buf_free(&out);
	return ok;
}

static void http_done(void *ud, struct pz_rsp *rsp)
{
	struct http_req *hr = ud;

	(void)rsp;
	hr->state = HR_ANSWERED;
	if (hr->orphan) {
		http_req_free(hr);
		return;
	}
	if (hr->suspended && http_peer_done(hr))
		hr->sent_direct = http_send_direct(hr);
	if (hr->suspended) {
		hr->suspended = false;
		http_wait_del(hr);
		MHD_resume_connection(hr->conn);
		/* Without a polling thread nothing wakes MHD after a resume;
		 * the loop hook runs it before the loop sleeps. */
		hr->l->resumed = true;
	}
}


/* A management request, answered at once (see http_mgmt.c). */
static enum MHD_Result http_manage(struct http_req *hr)
{
	struct pz_http_mgmt_in in;
	struct pz_http_mgmt_out out;
	struct kv_list al;
	struct pz_buf body;
	struct MHD_Response *r;
	const char *ctype = "application/json";
	enum MHD_Result ret;
	size_t len;
	int status;

	al.n = 0;
	al.overflow = false;
	MHD_get_connection_values(hr->conn, MHD_GET_ARGUMENT_KIND,
				  http_collect, &al);
	memset(&in, 0, sizeof(in));
	in.method = hr->method;
	in.path = hr->path;
	in.auth = hr->auth;
	in.body = (const uint8_t *)hr->body.data;
	in.len = hr->body.len;
	in.args = al.kv;
	in.nargs = al.n;
	in.log_public = hr->h->opts.log_public;
	in.bsf = hr->h->opts.bsf;
	status = pz_http_mgmt(hr->h->core, &in, &out);
	pz_log(PZ_INFO, "http", "%s management %s %s: %d", hr->peer,
	       hr->method, hr->path, status);
	pz_buf_init(&body, 0);
	hr->state = HR_REJECTED;  /* nothing of it reaches the core */
	hr->rsp.rsc = 0;
	if (out.text) {
		ctype = out.ctype;
		if (pz_buf_add(&body, out.text, strlen(out.text)) != PZ_OK)
			status = 500;
	} else if (!out.doc || pz_codec_encode(PZ_FMT_JSON, out.doc,
					       &body) != PZ_OK) {
		status = 500;
	}
	json_decref(out.doc);
	pz_free(out.text);
	len = body.len;
	r = MHD_create_response_from_buffer(len, pz_buf_take(&body),
					    MHD_RESPMEM_MUST_FREE);
	pz_buf_free(&body);
	if (!r) {
		pz_free(out.hvalue);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (out.hname && out.hvalue)
		MHD_add_response_header(r, out.hname, out.hvalue);
	pz_free(out.hvalue);
	ret = MHD_queue_response(hr->conn, (unsigned)status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result http_submit(struct http_req *hr)
{
	char err[300];
	int rc;

	if (hr->body.len) {
		/* Too deep or too many values is bad content (400); too
		 * many bytes never gets here (413 while reading). */
		if (hr->req.pc_kind == PZ_PC_SENML)
			rc = pz_senml_parse(hr->body_fmt,
					    (const uint8_t *)hr->body.data,
					    hr->body.len, &hr->h->opts.limits,
					    &hr->req.pc, err, sizeof(err));
		else
			rc = pz_codec_parse(hr->body_fmt,
					    (const uint8_t *)hr->body.data,
					    hr->body.len, &hr->h->opts.limits,
					    &hr->req.pc, err, sizeof(err));
		if (rc != PZ_OK)
			return http_reject(hr, 0, 4000, "%s", err);
	}
	pz_buf_free(&hr->body);
	hr->state = HR_SUBMITTED;
	pz_core_submit(hr->h->core, &hr->req, &hr->rsp, http_done, hr);
	/* libmicrohttpd closes a connection whose peer has shut down its
	 * sending side as soon as it reads the end of stream, even with an
	 * answer on the way; a suspended request would lose its answer.  A
	 * client that half-closed after its request (nc -N, some embedded
	 * stacks) therefore gets its batch committed now. */
	if (hr->state != HR_ANSWERED && http_peer_done(hr))
		pz_core_flush(hr->h->core);
	if (hr->state == HR_ANSWERED)
		return http_answer(hr);
	hr->suspended = true;
	http_wait_add(hr);
	MHD_suspend_connection(hr->conn);
	return MHD_YES;
}

static void http_peer(struct http_req *hr)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	ci = MHD_get_connection_info(hr->conn,
				     MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	sa = ci ? ci->client_addr : NULL;
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		port = ntohs(in->sin_port);
		snprintf(hr->peer, sizeof(hr->peer), "%s:%u", ip, port);
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		port = ntohs(in6->sin6_port);
		snprintf(hr->peer, sizeof(hr->peer), "[%s]:%u", ip, port);
	} else {
		snprintf(hr->peer, sizeof(hr->peer), "?");
	}
}

static enum MHD_Result http_handler(void *cls, struct MHD_Connection *conn,
				    const char *url, const char *method,
				    const char *version,
				    const char *upload_data,
				    size_t *upload_data_size, void **con_cls)
{
	struct http_listener *l = cls;
	struct pz_http *h = l->h;
	struct http_req *hr = *con_cls;

	(void)version;
	if (!hr) {
		hr = http_req_new(h);
		if (!hr)
			return MHD_NO;
		hr->h = h;
		hr->l = l;
		hr->conn = conn;
		hr->accept = PZ_FMT_JSON;
		hr->ctype = "application/json";
		pz_buf_init(&hr->body, h->opts.max_body);
		pz_req_init(&hr->req);
		pz_rsp_init(&hr->rsp);
		http_peer(hr);
		hr->req.binding = "http";
		hr->req.peer = hr->peer;
		*con_cls = hr;
		if (!strncmp(url, "/.plaza/", 8)) {
			hr->mgmt = true;
			hr->method = pz_arena_strdup(&hr->req.arena, method);
			hr->path = pz_arena_strdup(&hr->req.arena, url);
			hr->auth = pz_arena_strdup(&hr->req.arena,
				MHD_lookup_connection_value(conn,
					MHD_HEADER_KIND,
					MHD_HTTP_HEADER_AUTHORIZATION));
			return hr->method && hr->path ? MHD_YES : MHD_NO;
		}
		return http_map(hr, method, url);
	}
	if (hr->state == HR_ANSWERED)
		return hr->sent_direct ? MHD_NO : http_answer(hr);
	if (hr->state == HR_REJECTED) {
		*upload_data_size = 0;  /* discard the rest of the body */
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!hr->too_big &&
		    pz_buf_add(&hr->body, upload_data, *upload_data_size) !=
		    PZ_OK)
			hr->too_big = true;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (hr->too_big)
		return http_reject(hr, 413, 4000, "request body exceeds %zu "
				   "bytes", h->opts.max_body);
	if (hr->mgmt)
		return http_manage(hr);
	return http_submit(hr);
}

static void http_completed(void *cls, struct MHD_Connection *conn,
			   void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct http_req *hr = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (!hr)
		return;
	*con_cls = NULL;
	if (hr->state == HR_SUBMITTED) {
		hr->orphan = true;  /* the core still holds it */
		return;
	}
	http_req_free(hr);
}

/*
 * Percent-decoding of the path and query values.  libmicrohttpd's own would
 * turn "%00" into a NUL and silently cut "/plaza/ae/cnt%00junk" down to
 * "/plaza/ae/cnt"; here "%00" becomes DEL (0x7f), which the mapping
 * refuses like every other control character.
 */
static int http_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static size_t http_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	char *r = s, *w = s;

	(void)cls;
	(void)c;
	while (*r) {
		int hi, lo;

		if (r[0] == '%' && (hi = http_hex(r[1])) >= 0 &&
		    (lo = http_hex(r[2])) >= 0) {
			*w++ = (char)(hi << 4 | lo) ? (char)(hi << 4 | lo) :
			       0x7f;
			r += 3;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

/* --- loop integration --------------------------------------------------- */

static void http_arm(struct http_listener *l)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (MHD_get_timeout(l->d, &ms) == MHD_YES)
		pz_loop_timer_start(l->h->loop, &l->timer, (int64_t)ms);
	else
		pz_loop_timer_stop(l->h->loop, &l->timer);
}

/* Before the loop sleeps: let MHD answer the connections the core just
 * resumed.  That may read new requests, so ask for another turn. */
static int http_hook(void *ud)
{
	struct pz_http *h = ud;
	int busy = 0;

	for (int i = 0; i < h->nls; i++) {
		struct http_listener *l = &h->ls[i];

		if (!l->resumed)
			continue;
		l->resumed = false;
		MHD_run(l->d);
		http_arm(l);
		busy = 1;
	}
	return busy;
}

static void http_io(void *ud, int fd, unsigned ev)
{
	struct http_listener *l = ud;

	(void)fd;
	(void)ev;
	MHD_run(l->d);
	http_arm(l);
}

static void http_tick(void *ud)
{
	struct http_listener *l = ud;

	MHD_run(l->d);
	http_arm(l);
}

static int http_open_socket(const char *addr, int *port)
{
	struct sockaddr_storage ss;
	unsigned len;
	int fd, one = 1;

	if (pz_net_parse_addr(addr, &ss, &len) != PZ_OK)
		return -PZ_EINVAL;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -PZ_EIO;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    listen(fd, 1024) < 0) {
		pz_log(PZ_ERROR, "http", "cannot listen on %s: %s", addr,
		       strerror(errno));
		close(fd);
		return -PZ_EIO;
	}
	len = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, (socklen_t *)&len);
	*port = ntohs(ss.ss_family == AF_INET6 ?
		      ((struct sockaddr_in6 *)&ss)->sin6_port :
		      ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

int pz_http_listen(pz_http *h, const char *addr, int *port)
{
	struct http_listener *l;
	const union MHD_DaemonInfo *di;
	int fd, rc;

	if (h->nls == HTTP_MAX_LISTENERS)
		return PZ_EINVAL;
	fd = http_open_socket(addr, port);
	if (fd < 0)
		return -fd;
	l = &h->ls[h->nls];
	l->h = h;
	l->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
				MHD_USE_TURBO | MHD_USE_ERROR_LOG, 0, NULL,
				NULL, http_handler, l,
				MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_CONNECTION_LIMIT,
				(unsigned)h->opts.max_conns,
				MHD_OPTION_CONNECTION_TIMEOUT,
				(unsigned)h->opts.timeout_s,
				MHD_OPTION_NOTIFY_COMPLETED, http_completed, h,
				MHD_OPTION_UNESCAPE_CALLBACK, http_unescape,
				NULL,
				/* libmicrohttpd clears a connection's pool for
				 * every request; 16 KiB (headers up to ~8 KiB)
				 * instead of 32 halves that work. */
				MHD_OPTION_CONNECTION_MEMORY_LIMIT,
				(size_t)16384,
				MHD_OPTION_END);
	if (!l->d) {
		pz_log(PZ_ERROR, "http", "libmicrohttpd failed to start on %s",
		       addr);
		close(fd);
		return PZ_EIO;
	}
	di = MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_EPOLL_FD);
	l->epfd = di ? di->epoll_fd : -1;
	pz_loop_timer_init(&l->timer, http_tick, l);
	rc = l->epfd >= 0 ? pz_loop_io_add(h->loop, l->epfd, PZ_IO_READ,
					   http_io, l) : PZ_EIO;
	if (rc != PZ_OK) {
		MHD_stop_daemon(l->d);
		l->d = NULL;
		return rc;
	}
	h->nls++;
	http_arm(l);
	pz_log(PZ_INFO, "http", "listening on %s (port %d)", addr, *port);
	return PZ_OK;
}

void pz_http_drain(pz_http *h)
{
	/* Requests still in the core at shutdown (waiting for a subscription
	 * verification) are answered 5000 and resumed; libmicrohttpd must
	 * not be stopped with suspended connections.  Their core jobs are
	 * abandoned with the core. */
	while (h->waiting) {
		struct http_req *hr = h->waiting;

		http_wait_del(hr);
		hr->suspended = false;
		hr->state = HR_ANSWERED;
		json_decref(hr->rsp.pc);
		hr->rsp.rsc = 5000;
		hr->rsp.pc = json_pack("{s:s}", "m2m:dbg",
				       "plazad is shutting down");
		MHD_resume_connection(hr->conn);
		hr->l->resumed = true;
	}
	for (int round = 0; round < 3; round++)
		http_hook(h);
}

int pz_http_new(pz_loop *loop, pz_core *core, const struct pz_http_opts *o,
		pz_http **out)
{
	pz_http *h = pz_calloc(1, sizeof(*h));

	if (!h)
		return PZ_ENOMEM;
	h->loop = loop;
	h->core = core;
	h->opts = *o;
	if (!h->opts.max_body)
		h->opts.max_body = 1 << 20;
	if (!h->opts.max_conns)
		h->opts.max_conns = 1024;
	if (!h->opts.limits.max_bytes)
		h->opts.limits = pz_codec_default_limits;
	if (pz_loop_hook_add(loop, http_hook, h) != PZ_OK) {
		pz_free(h);
		return PZ_ENOMEM;
	}
	*out = h;
	return PZ_OK;
}

void pz_http_free(pz_http *h)
{
	if (!h)
		return;
	pz_loop_hook_del(h->loop, http_hook, h);
	for (int i = 0; i < h->nls; i++) {
		pz_loop_io_del(h->loop, h->ls[i].epfd);
		pz_loop_timer_stop(h->loop, &h->ls[i].timer);
		MHD_stop_daemon(h->ls[i].d);
	}
	while (h->spare) {
		struct http_req *hr = h->spare;

		h->spare = hr->next;
		pz_free(hr);
	}
	pz_free(h);
}
