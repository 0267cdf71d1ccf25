/*
 * httpc.c - outbound oneM2M requests over HTTP (notifications and
 * verification requests), on libcurl's multi interface driven from
 * plazad's loop: curl's sockets are watched by the loop and its timer is a
 * loop timer, so sending never blocks request handling.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plaza/pz_buf.h"
#include "plaza/pz_codec.h"
#include "plaza/pz_err.h"
#include "plaza/pz_httpc.h"
#include "plaza/pz_log.h"
#include "plaza/pz_mem.h"

#define HTTPC_MAX_ANSWER (64 * 1024)

struct pz_httpc {
	pz_loop *loop;            /* borrowed */
	CURLM *multi;             /* owned; made at the first send */
	struct pz_timer timer;    /* curl's timeout */
	long timeout_ms;          /* per request */
	int running;
};

/* One transfer. */
struct httpc_xfer {
	pz_httpc *c;
	CURL *easy;                   /* owned */
	struct curl_slist *headers;   /* owned */
	struct pz_buf body;           /* request body */
	struct pz_buf answer;         /* response body */
	struct pz_rsp *rsp;           /* borrowed from the caller */
	pz_core_done_cb cb;
	void *ud;
	int rsc;                      /* X-M2M-RSC from the answer, 0 if none */
	char err[CURL_ERROR_SIZE];
};

static void httpc_check(pz_httpc *c);

/* HTTP status to rsc when the peer sent no X-M2M-RSC. */
static int httpc_status_rsc(long status)
{
	if (status >= 200 && status < 300)
		return status == 201 ? 2001 : 2000;
	switch (status) {
	case 400: return 4000;
	case 403: return 4103;
	case 404: return 4004;
	case 405: return 4005;
	case 406: return 5207;
	case 409: return 4105;
	case 415: return 4015;
	case 501: return 5001;
	case 504: return 4008;
	default: return 5000;
	}
}

static void httpc_finish(struct httpc_xfer *x, CURLcode res)
{
	struct pz_rsp *rsp = x->rsp;
	long status = 0;
	char err[200];

	if (res == CURLE_OK) {
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
		rsp->rsc = x->rsc ? x->rsc : httpc_status_rsc(status);
		if (x->answer.len)
			pz_codec_parse(PZ_FMT_JSON,
				       (const uint8_t *)x->answer.data,
				       x->answer.len, NULL, &rsp->pc, err,
				       sizeof(err));
	} else {
		rsp->rsc = res == CURLE_OPERATION_TIMEDOUT ? 4008 : 5103;
		pz_log(PZ_DEBUG, "httpc", "transfer failed: %s",
		       x->err[0] ? x->err : curl_easy_strerror(res));
	}
	curl_multi_remove_handle(x->c->multi, x->easy);
	curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->headers);
	pz_buf_free(&x->body);
	pz_buf_free(&x->answer);
	x->cb(x->ud, rsp);
	pz_free(x);
}

static void httpc_check(pz_httpc *c)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(c->multi, &left))) {
		struct httpc_xfer *x = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &x);
		if (x)
			httpc_finish(x, m->data.result);
	}
}

static void httpc_io(void *ud, int fd, unsigned ev)
{
	pz_httpc *c = ud;
	int mask = 0;

	if (ev & PZ_IO_READ)
		mask |= CURL_CSELECT_IN;
	if (ev & PZ_IO_WRITE)
		mask |= CURL_CSELECT_OUT;
	if (ev & PZ_IO_ERROR)
		mask |= CURL_CSELECT_ERR;
	curl_multi_socket_action(c->multi, fd, mask, &c->running);
	httpc_check(c);
}

static void httpc_tick(void *ud)
{
	pz_httpc *c = ud;

	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &c->running);
	httpc_check(c);
}

static int httpc_sock_cb(CURL *e, curl_socket_t s, int what, void *ud,
			 void *sockp)
{
	pz_httpc *c = ud;
	unsigned ev = 0;

	(void)e;
	(void)sockp;
	if (what == CURL_POLL_REMOVE) {
		pz_loop_io_del(c->loop, s);
		return 0;
	}
	if (what & CURL_POLL_IN)
		ev |= PZ_IO_READ;
	if (what & CURL_POLL_OUT)
		ev |= PZ_IO_WRITE;
	if (pz_loop_io_mod(c->loop, s, ev) == PZ_ENOTFOUND)
		pz_loop_io_add(c->loop, s, ev, httpc_io, c);
	return 0;
}

static int httpc_timer_cb(CURLM *m, long ms, void *ud)
{
	pz_httpc *c = ud;

	(void)m;
	if (ms < 0)
		pz_loop_timer_stop(c->loop, &c->timer);
	else
		pz_loop_timer_start(c->loop, &c->timer, ms);
	return 0;
}

static size_t httpc_write(char *p, size_t size, size_t n, void *ud)
{
	struct httpc_xfer *x = ud;

	if (pz_buf_add(&x->answer, p, size * n) != PZ_OK)
		return 0;  /* over the ceiling: abort the transfer */
	return size * n;
}

static size_t httpc_header(char *p, size_t size, size_t n, void *ud)
{
	struct httpc_xfer *x = ud;
	size_t len = size * n;

	if (len > 10 && !strncasecmp(p, "X-M2M-RSC:", 10))
		x->rsc = atoi(p + 10);
	return len;
}

int pz_httpc_new(pz_loop *loop, long timeout_ms, pz_httpc **out)
{
	pz_httpc *c = pz_calloc(1, sizeof(*c));

	if (!c)
		return PZ_ENOMEM;
	c->loop = loop;
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
	pz_loop_timer_init(&c->timer, httpc_tick, c);
	*out = c;
	return PZ_OK;
}

/* libcurl (and the TLS library under it) is set up at the first send, so
 * a plazad that sends no notifications does not carry it in memory. */
static int httpc_start(pz_httpc *c)
{
	if (c->multi)
		return PZ_OK;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return PZ_EIO;
	c->multi = curl_multi_init();
	if (!c->multi) {
		curl_global_cleanup();
		return PZ_ENOMEM;
	}
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, httpc_sock_cb);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, httpc_timer_cb);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 8L);
	curl_multi_setopt(c->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, 256L);
	return PZ_OK;
}

static int httpc_add_header(struct httpc_xfer *x, const char *name,
			    const char *value)
{
	char line[512];
	struct curl_slist *l;

	if (!value)
		return PZ_OK;
	snprintf(line, sizeof(line), "%s: %s", name, value);
	l = curl_slist_append(x->headers, line);
	if (!l)
		return PZ_ENOMEM;
	x->headers = l;
	return PZ_OK;
}

int pz_httpc_send(void *ctx, const char *url, struct pz_req *req,
		  struct pz_rsp *rsp, pz_core_done_cb cb, void *ud)
{
	pz_httpc *c = ctx;
	struct httpc_xfer *x;
	int rc = PZ_OK;

	if (req->op != PZ_OP_NOTIFY)
		return PZ_EINVAL;
	rc = httpc_start(c);
	if (rc != PZ_OK)
		return rc;
	x = pz_calloc(1, sizeof(*x));
	if (!x)
		return PZ_ENOMEM;
	x->c = c;
	x->rsp = rsp;
	x->cb = cb;
	x->ud = ud;
	pz_buf_init(&x->body, 0);
	pz_buf_init(&x->answer, HTTPC_MAX_ANSWER);
	x->easy = curl_easy_init();
	if (!x->easy)
		rc = PZ_ENOMEM;
	if (rc == PZ_OK && req->pc)
		rc = pz_codec_encode(PZ_FMT_JSON, req->pc, &x->body);
	if (rc == PZ_OK)
		rc = httpc_add_header(x, "X-M2M-Origin", req->fr);
	if (rc == PZ_OK)
		rc = httpc_add_header(x, "X-M2M-RI", req->rqi);
	if (rc == PZ_OK)
		rc = httpc_add_header(x, "X-M2M-RVI", req->rvi);
	if (rc == PZ_OK)
		rc = httpc_add_header(x, "Content-Type", "application/json");
	if (rc == PZ_OK)
		rc = httpc_add_header(x, "Accept", "application/json");
	if (rc == PZ_OK)
		rc = httpc_add_header(x, "Expect", "");
	if (rc != PZ_OK) {
		if (x->easy)
			curl_easy_cleanup(x->easy);
		curl_slist_free_all(x->headers);
		pz_buf_free(&x->body);
		pz_free(x);
		return rc;
	}
	curl_easy_setopt(x->easy, CURLOPT_URL, url);
	curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(x->easy, CURLOPT_POST, 1L);
	curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->body.data ?
			 x->body.data : "");
	curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE, (long)x->body.len);
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
	curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, httpc_write);
	curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_HEADERFUNCTION, httpc_header);
	curl_easy_setopt(x->easy, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
	curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->err);
	if (curl_multi_add_handle(c->multi, x->easy) != CURLM_OK) {
		curl_easy_cleanup(x->easy);
		curl_slist_free_all(x->headers);
		pz_buf_free(&x->body);
		pz_free(x);
		return PZ_EIO;
	}
	return PZ_OK;
}

void pz_httpc_free(pz_httpc *c)
{
	if (!c)
		return;
	pz_loop_timer_stop(c->loop, &c->timer);
	/* Transfers still running are abandoned: their callers are being
	 * torn down too. */
	if (c->multi) {
		curl_multi_cleanup(c->multi);
		curl_global_cleanup();
	}
	pz_free(c);
}
