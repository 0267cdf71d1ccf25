/*
 * coap.c - the oneM2M CoAP binding (TS-0008) on libcoap 3 (4.3.1).
 *
 * libcoap runs in epoll mode: its epoll descriptor (coap_context_get_coap_fd)
 * sits in plazad's loop, coap_io_process(COAP_IO_NO_WAIT) runs when it is
 * readable, when libcoap's next timeout passes (a loop timer) and from a
 * loop hook after the core answered.  One libcoap context serves every
 * endpoint, plain (UDP) and DTLS (pre-shared keys).
 *
 * Requests: every path is served by libcoap's "unknown resource" handler,
 * which maps the request (coap_map.c) and hands it to the core.  A request
 * the core answers at once gets a piggybacked answer; a write waits for
 * its batch to commit, so the handler registers a libcoap async (the client
 * gets an empty ACK), the core's callback triggers it, and libcoap runs the
 * handler again with the request, which then answers from the job the async
 * carries (a separate response, RFC 7252 5.2.2).
 *
 * Observe (RFC 7641): libcoap cannot observe its unknown resource, so the
 * first GET with Observe on a path creates a libcoap resource for that path
 * and replays the request through an async: the replay reaches the new
 * resource, where libcoap registers the observer.  Each observed resource
 * remembers the row id of what it names (pz_core_resolve_id); the core's
 * change reports (pz_core_watch) mark it changed and libcoap calls the GET
 * handler for each observer, which retrieves afresh through the core as
 * that observer (committing the open batch first if needed).
 */
#include <arpa/inet.h>
#include <coap3/coap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plaza/pz_coap.h"
#include "plaza/pz_err.h"
#include "plaza/pz_http.h"
#include "plaza/pz_log.h"
#include "plaza/pz_mem.h"

#define COAP_MAX_OPTS 128          /* options read from one request */
#define COAP_ORIG_MAX 256          /* originator of a PSK identity */
#define COAP_KNOWN_MARK 65000      /* see coap_option_filter_get below */

/*
 * libcoap 4.3.1 answers 4.02 (or RST) to every critical option it was not
 * told about, and coap_register_option can tell it about only two options
 * above 255 (COAP_OPT_FILTER_LONG): the oneM2M binding has fifteen
 * (259..331, all critical).  The only place libcoap consults that list is
 * through coap_option_filter_get, which it calls through its PLT, so plazad
 * provides its own: the same lookup, and for the context's list (the one
 * filter holding the elective marker option COAP_KNOWN_MARK, registered by
 * pz_coap_new) every option is known.  coap_map.c then checks every
 * option itself and answers 4.02 with oneM2M-RSC and a diagnostic for the
 * critical ones plaza does not understand.
 */
static int cp_filter_has(const coap_opt_filter_t *f, unsigned num)
{
	if (num > 255) {
		for (unsigned i = 0; i < COAP_OPT_FILTER_LONG; i++)
			if ((f->mask & (1u << i)) && f->long_opts[i] == num)
				return 1;
		return 0;
	}
	for (unsigned i = 0; i < COAP_OPT_FILTER_SHORT; i++)
		if ((f->mask & (1u << (i + COAP_OPT_FILTER_LONG))) &&
		    f->short_opts[i] == num)
			return 1;
	return 0;
}

int coap_option_filter_get(coap_opt_filter_t *filter,
			   coap_option_num_t number)
{
	if (cp_filter_has(filter, number))
		return 1;
	return number != COAP_KNOWN_MARK &&
	       cp_filter_has(filter, COAP_KNOWN_MARK);
}

/* One request between the handler and the core. */
struct cp_job {
	struct pz_coap *c;
	struct cp_job *next, *prev;  /* in pz_coap.jobs while waiting */
	coap_async_t *async;           /* libcoap's record of the request */
	bool listed;                   /* in pz_coap.jobs */
	bool in_core;                  /* the core holds req/rsp */
	bool answered;                 /* rsp is final */
	uint16_t cf;                   /* answer's content format */
	enum pz_fmt fmt;
	coap_session_t *session;       /* borrowed; for the duplicate cache */
	uint16_t mid;                  /* the request's message id */
	uint8_t tok[8];                /* and token */
	uint8_t toklen;
	bool dedup;                    /* remember the answer (a write) */
	struct pz_req req;
	struct pz_rsp rsp;
	char peer[64];
};

/* A path made observable: a libcoap resource and the row it names. */
struct cp_obs {
	struct cp_obs *next;
	coap_resource_t *r;            /* owned by the libcoap context */
	int64_t id;                    /* row id (pz_core_resolve_id) */
};

/*
 * An answered write, kept for EXCHANGE_LIFETIME (RFC 7252 4.8.2): libcoap
 * 4.3.1 drops a duplicate only while the request is in flight (its async
 * record), so a retransmission arriving after the answer would run the
 * write again.  It gets the remembered answer instead.
 */
struct cp_dup {
	struct cp_dup *next;           /* newer first */
	coap_session_t *session;       /* borrowed; entries go with it */
	uint16_t mid;
	uint8_t tok[8];
	uint8_t toklen;
	int64_t expires;               /* monotonic ms */
	uint16_t cf;
	enum pz_fmt fmt;
	char *rqi;                     /* the request's, owned */
	struct pz_rsp rsp;             /* the answer (rsc, pc, location, rvi) */
};

#define CP_DUP_MAX 512
#define CP_DUP_MS 247000

struct pz_coap {
	pz_loop *loop;                 /* borrowed */
	pz_core *core;                 /* borrowed */
	struct pz_coap_opts opts;      /* plain_allowed is our copy */
	coap_context_t *ctx;           /* owned */
	coap_resource_t *unknown;      /* owned by ctx */
	int fd;                        /* libcoap's epoll fd, -1 if none */
	struct pz_timer timer;         /* libcoap's next timeout */
	bool kick;                     /* run libcoap before the loop sleeps */
	bool psk_set;                  /* coap_context_set_psk2 done */
	struct cp_job *jobs;         /* waiting for the core */
	struct cp_obs *obs;          /* observable paths */
	struct cp_dup *dups;           /* answered writes, newest first */
	unsigned ndups;
	unsigned nobs;
	uint8_t key[64];               /* the PSK handed to libcoap */
	coap_bin_const_t keyc;
};

static int cp_started;

/* --- logging ------------------------------------------------------------- */

static void cp_log_cb(coap_log_t level, const char *message)
{
	size_t n = strlen(message);
	int lvl = level <= LOG_ERR ? PZ_WARN :
		  level == LOG_WARNING ? PZ_INFO : PZ_DEBUG;

	while (n && (message[n - 1] == '\n' || message[n - 1] == '\r'))
		n--;
	pz_log(lvl, "coap", "libcoap: %.*s", (int)n, message);
}

static void cp_peer(coap_session_t *s, char *out, size_t len)
{
	const coap_address_t *a = coap_session_get_addr_remote(s);

	out[0] = '\0';
	if (!a || !coap_print_addr(a, (unsigned char *)out, len))
		snprintf(out, len, "?");
}

/* --- jobs ---------------------------------------------------------------- */

static struct cp_job *cp_job_new(struct pz_coap *c, coap_session_t *s)
{
	struct cp_job *j = pz_calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->c = c;
	j->cf = PZ_COAP_CF_JSON;
	j->fmt = PZ_FMT_JSON;
	pz_req_init(&j->req);
	pz_rsp_init(&j->rsp);
	cp_peer(s, j->peer, sizeof(j->peer));
	j->req.binding = coap_session_get_proto(s) == COAP_PROTO_DTLS ?
			 "coaps" : "coap";
	j->req.peer = j->peer;
	return j;
}

static void cp_job_unlist(struct cp_job *j)
{
	if (!j->listed)
		return;
	if (j->prev)
		j->prev->next = j->next;
	else
		j->c->jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
	j->next = j->prev = NULL;
	j->listed = false;
}

static void cp_job_list(struct cp_job *j)
{
	j->prev = NULL;
	j->next = j->c->jobs;
	if (j->next)
		j->next->prev = j;
	j->c->jobs = j;
	j->listed = true;
}

static void cp_job_free(struct cp_job *j)
{
	if (!j)
		return;
	cp_job_unlist(j);
	pz_req_clear(&j->req);
	pz_rsp_clear(&j->rsp);
	pz_free(j);
}

static void cp_done(void *ud, struct pz_rsp *rsp)
{
	struct cp_job *j = ud;

	(void)rsp;
	j->in_core = false;
	if (j->answered)
		return;  /* answered by pz_coap_drain; kept until freed */
	j->answered = true;
	if (j->async) {
		coap_async_trigger(j->async);
		j->c->kick = true;
	}
}

/* --- answers ------------------------------------------------------------- */

static void cp_release(coap_session_t *s, void *p)
{
	(void)s;
	pz_free(p);
}

/* Write rsp into the libcoap response: code, options, body (block-wise
 * when large, libcoap's business). */
static void cp_write(coap_resource_t *r, coap_session_t *s,
		       const coap_pdu_t *pdu, const coap_string_t *query,
		       coap_pdu_t *resp, const struct pz_rsp *rsp,
		       const char *rqi, uint16_t cf, enum pz_fmt fmt)
{
	struct pz_coap_answer a;
	size_t len;
	uint8_t *body;

	if (pz_coap_answer(rsp, rqi, cf, fmt, &a) != PZ_OK) {
		coap_pdu_set_code(resp, COAP_RESPONSE_CODE_INTERNAL_ERROR);
		pz_coap_answer_clear(&a);
		return;
	}
	coap_pdu_set_code(resp, (coap_pdu_code_t)a.code);
	for (size_t i = 0; i < a.nopts; i++)
		if (a.opts[i].num != COAP_OPTION_CONTENT_FORMAT)
			coap_add_option(resp, a.opts[i].num, a.opts[i].len,
					a.opts[i].val);
	len = a.body.len;
	if (len) {
		body = (uint8_t *)pz_buf_take(&a.body);
		if (!body)
			coap_pdu_set_code(resp,
					  COAP_RESPONSE_CODE_INTERNAL_ERROR);
		else
			coap_add_data_large_response(r, s, pdu, resp, query,
						     cf, -1, 0, len, body,
						     cp_release, body);
	}
	pz_coap_answer_clear(&a);
}

/* Refuse before the core: rsc with a readable reason, logged once. */
static void cp_refuse(struct cp_job *j, coap_resource_t *r,
			coap_session_t *s, const coap_pdu_t *pdu,
			const coap_string_t *query, coap_pdu_t *resp,
			uint8_t code, int rsc, const char *msg)
{
	struct pz_rsp *rsp = &j->rsp;
	struct pz_coap_answer a;
	uint8_t *body;
	size_t len;

	pz_log(PZ_INFO, "coap", "%s %s rejected: %u.%02u rsc=%d %s", j->peer,
	       j->req.to ? j->req.to : "-", code >> 5, code & 0x1f, rsc, msg);
	json_decref(rsp->pc);
	rsp->rsc = rsc;
	rsp->pc = json_pack("{s:s}", "m2m:dbg", msg);
	snprintf(rsp->rvi, sizeof(rsp->rvi), "%s",
		 j->req.rvi ? j->req.rvi : "4");
	if (pz_coap_answer(rsp, j->req.rqi, j->cf, j->fmt, &a) != PZ_OK) {
		coap_pdu_set_code(resp, COAP_RESPONSE_CODE_INTERNAL_ERROR);
		pz_coap_answer_clear(&a);
		return;
	}
	/* The code may differ from the rsc's own (4.02, 4.13, 5.05). */
	coap_pdu_set_code(resp, (coap_pdu_code_t)code);
	for (size_t i = 0; i < a.nopts; i++)
		if (a.opts[i].num != COAP_OPTION_CONTENT_FORMAT)
			coap_add_option(resp, a.opts[i].num, a.opts[i].len,
					a.opts[i].val);
	len = a.body.len;
	body = len ? (uint8_t *)pz_buf_take(&a.body) : NULL;
	if (body)
		coap_add_data_large_response(r, s, pdu, resp, query, j->cf, -1,
					     0, len, body, cp_release, body);
	pz_coap_answer_clear(&a);
}

/* --- authentication ------------------------------------------------------ */

/* The originator a DTLS session's PSK identity stands for, into orig. */
static bool cp_psk_orig(struct pz_coap *c, coap_session_t *s, char *orig,
			  size_t len)
{
	const coap_bin_const_t *id = coap_session_get_psk_identity(s);
	char ident[129];
	uint8_t key[64];
	size_t klen = sizeof(key);
	int rc;

	if (!id || !id->length || id->length > 128 ||
	    memchr(id->s, '\0', id->length))
		return false;
	memcpy(ident, id->s, id->length);
	ident[id->length] = '\0';
	rc = pz_core_psk_get(c->core, ident, key, &klen, orig, len);
	explicit_bzero(key, sizeof(key));
	return rc == PZ_OK && orig[0];
}

/* How the transport vouches for the originator (DESIGN: the binding
 * authenticates at its layer). */
static void cp_auth(struct pz_coap *c, coap_session_t *s,
		      struct cp_job *j)
{
	struct pz_req *req = &j->req;
	char orig[COAP_ORIG_MAX];

	req->auth = PZ_AUTH_NONE;
	if (coap_session_get_proto(s) == COAP_PROTO_DTLS) {
		if (!cp_psk_orig(c, s, orig, sizeof(orig)))
			return;
		req->auth_id = pz_arena_strdup(&req->arena, orig);
		if (req->auth_id)
			req->auth = PZ_AUTH_PEER;
		return;
	}
	if (pz_coap_plain_allowed(c->opts.plain_allowed, req->fr)) {
		req->auth = PZ_AUTH_PEER;
		req->auth_id = req->fr;
	}
}

static const coap_bin_const_t *cp_psk_cb(coap_bin_const_t *identity,
					   coap_session_t *s, void *arg)
{
	struct pz_coap *c = arg;
	char ident[129], orig[COAP_ORIG_MAX], peer[64];
	size_t klen = sizeof(c->key);
	int rc = PZ_ENOTFOUND;

	cp_peer(s, peer, sizeof(peer));
	if (identity && identity->length && identity->length <= 128 &&
	    !memchr(identity->s, '\0', identity->length)) {
		memcpy(ident, identity->s, identity->length);
		ident[identity->length] = '\0';
		rc = pz_core_psk_get(c->core, ident, c->key, &klen, orig,
				     sizeof(orig));
	} else {
		snprintf(ident, sizeof(ident), "(%zu bytes)",
			 identity ? identity->length : 0);
	}
	if (rc != PZ_OK) {
		pz_log(PZ_INFO, "coap", "%s: DTLS handshake refused: PSK "
		       "identity '%s' %s", peer, ident,
		       rc == PZ_ENOTFOUND ? "unknown" : pz_strerror(rc));
		return NULL;
	}
	/* libcoap copies the key before the next callback can run. */
	c->keyc.length = klen;
	c->keyc.s = c->key;
	return &c->keyc;
}

/* --- observable paths ---------------------------------------------------- */

static void cp_hnd(coap_resource_t *r, coap_session_t *s,
		     const coap_pdu_t *pdu, const coap_string_t *query,
		     coap_pdu_t *resp);

static struct cp_obs *cp_obs_find(struct pz_coap *c, coap_resource_t *r)
{
	for (struct cp_obs *o = c->obs; o; o = o->next)
		if (o->r == r)
			return o;
	return NULL;
}

/* A libcoap resource for the request's path, observable, served by the
 * same handler.  NULL when over the limit or out of memory. */
static coap_resource_t *cp_obs_add(struct pz_coap *c, const coap_pdu_t *pdu,
				     int64_t id)
{
	coap_string_t *path = coap_get_uri_path(pdu);
	coap_str_const_t *key;
	coap_resource_t *r = NULL;
	struct cp_obs *o;

	if (!path || c->nobs >= c->opts.max_observed)
		goto out;
	key = coap_new_str_const(path->s, path->length);
	if (!key)
		goto out;
	r = coap_resource_init(key, COAP_RESOURCE_FLAGS_RELEASE_URI);
	o = r ? pz_calloc(1, sizeof(*o)) : NULL;
	if (!o) {
		if (r)
			coap_delete_resource(NULL, r);
		else
			coap_delete_str_const(key);
		r = NULL;
		goto out;
	}
	coap_register_request_handler(r, COAP_REQUEST_GET, cp_hnd);
	coap_register_request_handler(r, COAP_REQUEST_POST, cp_hnd);
	coap_register_request_handler(r, COAP_REQUEST_PUT, cp_hnd);
	coap_register_request_handler(r, COAP_REQUEST_DELETE, cp_hnd);
	coap_resource_set_get_observable(r, 1);
	coap_add_resource(c->ctx, r);
	o->r = r;
	o->id = id;
	o->next = c->obs;
	c->obs = o;
	c->nobs++;
out:
	coap_delete_string(path);
	return r;
}

/* The core committed: mark the observed resources whose rows changed. */
static void cp_watch(void *ud, const int64_t *ids, size_t n)
{
	struct pz_coap *c = ud;

	for (struct cp_obs *o = c->obs; o; o = o->next) {
		for (size_t i = 0; i < n; i++) {
			if (ids[i] != o->id)
				continue;
			coap_resource_notify_observers(o->r, NULL);
			c->kick = true;
			break;
		}
	}
}

/* --- requests ------------------------------------------------------------ */

/* Map the request into j->req; PZ_OK, PZ_EREQ (out says why) or
 * PZ_ENOMEM. */
static int cp_map_pdu(struct pz_coap *c, const coap_pdu_t *pdu,
			struct cp_job *j, struct pz_coap_out *out)
{
	struct pz_coap_opt opts[COAP_MAX_OPTS];
	struct pz_coap_in in;
	coap_opt_iterator_t it;
	coap_opt_t *o;
	size_t n = 0, len = 0, off = 0, total = 0;
	const uint8_t *data = NULL;

	memset(&in, 0, sizeof(in));
	coap_option_iterator_init(pdu, &it, COAP_OPT_ALL);
	while ((o = coap_option_next(&it))) {
		if (n == COAP_MAX_OPTS) {
			out->cf = PZ_COAP_CF_JSON;
			out->fmt = PZ_FMT_JSON;
			out->code = PZ_COAP_CODE(4, 0);
			out->rsc = PZ_RSC_BAD_REQUEST;
			snprintf(out->msg, sizeof(out->msg), "more than %d "
				 "options", COAP_MAX_OPTS);
			return PZ_EREQ;
		}
		opts[n].num = it.number;
		opts[n].len = (uint16_t)coap_opt_length(o);
		opts[n].val = coap_opt_value(o);
		n++;
	}
	if (coap_get_data_large(pdu, &len, &data, &off, &total) && off == 0) {
		in.body = data;
		in.len = len;
	}
	in.code = (uint8_t)coap_pdu_get_code(pdu);
	in.opts = opts;
	in.nopts = n;
	in.max_body = c->opts.max_body;
	in.limits = &c->opts.limits;
	return pz_coap_map(&in, &j->req, out);
}

/* --- duplicates ---------------------------------------------------------- */

static int64_t cp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void cp_dup_free(struct cp_dup *d)
{
	pz_rsp_clear(&d->rsp);
	pz_free(d->rqi);
	pz_free(d);
}

/* Drop what is past its lifetime or over the cap (the list is newest
 * first, so both are a tail). */
static void cp_dup_expire(struct pz_coap *c)
{
	struct cp_dup **pp = &c->dups, *d;
	int64_t now = cp_now_ms();
	unsigned n = 0;

	while (*pp && (*pp)->expires > now && n < CP_DUP_MAX) {
		pp = &(*pp)->next;
		n++;
	}
	while ((d = *pp)) {
		*pp = d->next;
		cp_dup_free(d);
	}
	c->ndups = n;
}

static struct cp_dup *cp_dup_find(struct pz_coap *c, coap_session_t *s,
				  const coap_pdu_t *pdu)
{
	coap_bin_const_t tok = coap_pdu_get_token(pdu);
	uint16_t mid = (uint16_t)coap_pdu_get_mid(pdu);

	cp_dup_expire(c);
	for (struct cp_dup *d = c->dups; d; d = d->next)
		if (d->session == s && d->mid == mid &&
		    d->toklen == tok.length &&
		    !memcmp(d->tok, tok.s, tok.length))
			return d;
	return NULL;
}

static void cp_dup_add(struct cp_job *j)
{
	struct pz_coap *c = j->c;
	struct cp_dup *d;

	if (!j->dedup || !j->session)
		return;
	d = pz_calloc(1, sizeof(*d));
	if (!d)
		return;  /* a lost entry only weakens duplicate detection */
	d->session = j->session;
	d->mid = j->mid;
	memcpy(d->tok, j->tok, j->toklen);
	d->toklen = j->toklen;
	d->expires = cp_now_ms() + CP_DUP_MS;
	d->cf = j->cf;
	d->fmt = j->fmt;
	pz_rsp_init(&d->rsp);
	d->rsp.rsc = j->rsp.rsc;
	d->rsp.pc = json_incref(j->rsp.pc);
	d->rsp.location = j->rsp.location ? pz_strdup(j->rsp.location) : NULL;
	memcpy(d->rsp.rvi, j->rsp.rvi, sizeof(d->rsp.rvi));
	d->rqi = j->rsp.rqi ? pz_strdup(j->rsp.rqi) :
		 j->req.rqi ? pz_strdup(j->req.rqi) : NULL;
	d->next = c->dups;
	c->dups = d;
	cp_dup_expire(c);
}

/* A session ended: its message ids mean nothing any more. */
static int cp_event(coap_session_t *s, coap_event_t ev)
{
	struct pz_coap *c = coap_get_app_data(coap_session_get_context(s));
	struct cp_dup **pp = c ? &c->dups : NULL, *d;

	if (c && ev == COAP_EVENT_DTLS_ERROR) {
		const coap_bin_const_t *id = coap_session_get_psk_identity(s);
		char orig[COAP_ORIG_MAX], peer[64];

		/* An unknown identity was logged by cp_psk_cb; a known one
		 * failing means the two sides hold different keys. */
		if (cp_psk_orig(c, s, orig, sizeof(orig))) {
			cp_peer(s, peer, sizeof(peer));
			pz_log(PZ_INFO, "coap", "%s: DTLS handshake failed for "
			       "PSK identity '%.*s' (%s): the keys differ",
			       peer, (int)id->length, (const char *)id->s,
			       orig);
		}
		return 0;
	}
	if (!c || ev != COAP_EVENT_SERVER_SESSION_DEL)
		return 0;
	while ((d = *pp)) {
		if (d->session == s) {
			*pp = d->next;
			cp_dup_free(d);
			c->ndups--;
		} else {
			pp = &d->next;
		}
	}
	return 0;
}

/* Answer a job the core finished (piggybacked or on a replay). */
static void cp_reply(struct cp_job *j, coap_resource_t *r,
		       coap_session_t *s, const coap_pdu_t *pdu,
		       const coap_string_t *query, coap_pdu_t *resp)
{
	cp_write(r, s, pdu, query, resp, &j->rsp, j->req.rqi, j->cf, j->fmt);
	cp_dup_add(j);
}

/* The first Observe of a path: make the path a resource and replay the
 * request so libcoap registers the observer there.  True when done (the
 * handler answers nothing now: an empty ACK for a CON request). */
static bool cp_observe_start(struct pz_coap *c, coap_session_t *s,
			       const coap_pdu_t *pdu, struct cp_job *j)
{
	coap_async_t *as;
	int64_t id;

	if (pz_core_resolve_id(c->core, j->req.to, &id) != PZ_OK ||
	    !cp_obs_add(c, pdu, id))
		return false;
	as = coap_register_async(s, pdu, 0);
	if (!as)
		return false;  /* the path is observable from the next GET */
	coap_async_set_app_data(as, NULL);
	coap_async_trigger(as);
	c->kick = true;
	return true;
}

/* Every request, on every path, lands here; see the file comment. */
static void cp_hnd(coap_resource_t *r, coap_session_t *s,
		     const coap_pdu_t *pdu, const coap_string_t *query,
		     coap_pdu_t *resp)
{
	struct pz_coap *c = coap_get_app_data(coap_session_get_context(s));
	coap_async_t *as = coap_find_async(s, coap_pdu_get_token(pdu));
	struct cp_job *j;
	struct pz_coap_out out;
	struct cp_obs *o;
	coap_bin_const_t tok;
	coap_pdu_code_t code;
	int rc;

	if (as && coap_async_get_app_data(as)) {
		/* The replay of a request the core has answered since. */
		j = coap_async_get_app_data(as);
		coap_async_set_app_data(as, NULL);
		j->async = NULL;
		cp_reply(j, r, s, pdu, query, resp);
		if (j->in_core)
			return;  /* drained: the core may still call back */
		cp_job_free(j);
		return;
	}
	code = coap_pdu_get_code(pdu);
	if (code >= COAP_REQUEST_CODE_POST && code <= COAP_REQUEST_CODE_DELETE) {
		struct cp_dup *d = cp_dup_find(c, s, pdu);

		if (d) {
			cp_write(r, s, pdu, query, resp, &d->rsp, d->rqi,
				 d->cf, d->fmt);
			return;
		}
	}
	j = cp_job_new(c, s);
	if (!j) {
		coap_pdu_set_code(resp, COAP_RESPONSE_CODE_INTERNAL_ERROR);
		return;
	}
	tok = coap_pdu_get_token(pdu);
	j->session = s;
	j->mid = (uint16_t)coap_pdu_get_mid(pdu);
	j->dedup = code >= COAP_REQUEST_CODE_POST &&
		   code <= COAP_REQUEST_CODE_DELETE &&
		   tok.length <= sizeof(j->tok);
	if (j->dedup) {
		memcpy(j->tok, tok.s, tok.length);
		j->toklen = (uint8_t)tok.length;
	}
	rc = cp_map_pdu(c, pdu, j, &out);
	j->cf = out.cf;
	j->fmt = out.fmt;
	if (rc == PZ_EREQ) {
		cp_refuse(j, r, s, pdu, query, resp, out.code, out.rsc,
			    out.msg);
		goto free;
	}
	if (rc != PZ_OK) {
		cp_refuse(j, r, s, pdu, query, resp, PZ_COAP_CODE(5, 0),
			    PZ_RSC_INTERNAL_SERVER_ERROR, "out of memory");
		goto free;
	}
	cp_auth(c, s, j);
	o = r == c->unknown ? NULL : cp_obs_find(c, r);
	if (o && out.observe == 0)  /* the path may name a new row now */
		pz_core_resolve_id(c->core, j->req.to, &o->id);
	j->in_core = true;
	pz_core_submit(c->core, &j->req, &j->rsp, cp_done, j);
	/* A retrieve on an observed path is answered now: libcoap asks for
	 * notifications synchronously. */
	if (!j->answered && o && j->req.op == PZ_OP_RETRIEVE)
		pz_core_flush(c->core);
	if (j->answered) {
		if (r == c->unknown && out.observe == 0 &&
		    j->rsp.rsc == PZ_RSC_OK &&
		    cp_observe_start(c, s, pdu, j))
			goto free;
		cp_reply(j, r, s, pdu, query, resp);
		goto free;
	}
	as = coap_register_async(s, pdu, 0);
	if (!as) {
		pz_core_flush(c->core);
		if (j->answered)
			cp_reply(j, r, s, pdu, query, resp);
		else  /* the core keeps j until it answers */
			coap_pdu_set_code(resp,
					  COAP_RESPONSE_CODE_SERVICE_UNAVAILABLE);
		if (j->answered)
			goto free;
		cp_job_list(j);
		return;
	}
	j->async = as;
	coap_async_set_app_data(as, j);
	cp_job_list(j);
	return;  /* empty response: libcoap sends an empty ACK for CON */
free:
	cp_job_free(j);
}

/* --- loop integration ---------------------------------------------------- */

static void cp_run(struct pz_coap *c)
{
	coap_tick_t now;
	unsigned ms;

	c->kick = false;
	coap_io_process(c->ctx, COAP_IO_NO_WAIT);
	coap_ticks(&now);
	ms = coap_io_prepare_epoll(c->ctx, now);
	if (ms)
		pz_loop_timer_start(c->loop, &c->timer, ms);
	else
		pz_loop_timer_stop(c->loop, &c->timer);
}

static void cp_io(void *ud, int fd, unsigned ev)
{
	(void)fd;
	(void)ev;
	cp_run(ud);
}

static void cp_tick(void *ud)
{
	cp_run(ud);
}

/* Before the loop sleeps: send the answers the core just completed and
 * the notifications its commit caused. */
static int cp_hook(void *ud)
{
	struct pz_coap *c = ud;

	if (!c->kick)
		return 0;
	cp_run(c);
	return 1;
}

/* --- setup --------------------------------------------------------------- */

static int cp_port(coap_endpoint_t *ep)
{
	const char *s = coap_endpoint_str(ep);
	const char *colon = s ? strrchr(s, ':') : NULL;

	return colon ? atoi(colon + 1) : 0;
}

int pz_coap_listen(pz_coap *c, const char *addr, bool dtls, int *port)
{
	struct sockaddr_storage ss;
	coap_address_t a;
	coap_endpoint_t *ep;
	unsigned len;

	if (pz_net_parse_addr(addr, &ss, &len) != PZ_OK)
		return PZ_EINVAL;
	if (dtls && !c->psk_set) {
		coap_dtls_spsk_t sp;

		if (!coap_dtls_is_supported()) {
			pz_log(PZ_ERROR, "coap", "libcoap has no DTLS support");
			return PZ_EIO;
		}
		memset(&sp, 0, sizeof(sp));
		sp.version = COAP_DTLS_SPSK_SETUP_VERSION;
		sp.validate_id_call_back = cp_psk_cb;
		sp.id_call_back_arg = c;
		if (!coap_context_set_psk2(c->ctx, &sp)) {
			pz_log(PZ_ERROR, "coap", "cannot set up DTLS-PSK");
			return PZ_EIO;
		}
		c->psk_set = true;
	}
	coap_address_init(&a);
	a.size = len;
	memcpy(&a.addr, &ss, len);
	ep = coap_new_endpoint(c->ctx, &a, dtls ? COAP_PROTO_DTLS :
			       COAP_PROTO_UDP);
	if (!ep) {
		pz_log(PZ_ERROR, "coap", "cannot listen on %s (%s)", addr,
		       dtls ? "coaps" : "coap");
		return PZ_EIO;
	}
	*port = cp_port(ep);
	pz_log(PZ_INFO, "coap", "listening on %s (%s, port %d)", addr,
	       dtls ? "CoAP over DTLS" : "plain CoAP", *port);
	c->kick = true;
	return PZ_OK;
}

int pz_coap_new(pz_loop *loop, pz_core *core, const struct pz_coap_opts *o,
		pz_coap **out)
{
	pz_coap *c = pz_calloc(1, sizeof(*c));
	int rc = PZ_ENOMEM;

	if (!c)
		return PZ_ENOMEM;
	c->loop = loop;
	c->core = core;
	c->opts = *o;
	c->fd = -1;
	c->opts.plain_allowed = NULL;
	if (o->plain_allowed && *o->plain_allowed) {
		c->opts.plain_allowed = pz_strdup(o->plain_allowed);
		if (!c->opts.plain_allowed)
			goto fail;
	}
	if (!c->opts.max_body)
		c->opts.max_body = 1 << 20;
	if (!c->opts.max_observed)
		c->opts.max_observed = 1024;
	if (!c->opts.session_timeout)
		c->opts.session_timeout = 60;
	if (!c->opts.limits.max_bytes)
		c->opts.limits = pz_codec_default_limits;
	if (!cp_started) {
		coap_startup();
		coap_set_log_handler(cp_log_cb);
		cp_started = 1;
	}
	coap_set_log_level(pz_log_level_ >= PZ_DEBUG ? LOG_DEBUG : LOG_WARNING);
	coap_dtls_set_log_level(pz_log_level_ >= PZ_DEBUG ? LOG_DEBUG :
				LOG_WARNING);
	rc = PZ_EIO;
	c->ctx = coap_new_context(NULL);
	if (!c->ctx)
		goto fail;
	coap_set_app_data(c->ctx, c);
	coap_context_set_block_mode(c->ctx, COAP_BLOCK_USE_LIBCOAP |
				    COAP_BLOCK_SINGLE_BODY);
	coap_register_option(c->ctx, COAP_KNOWN_MARK);
	coap_context_set_session_timeout(c->ctx, c->opts.session_timeout);
	if (c->opts.max_sessions) {
		coap_context_set_max_idle_sessions(c->ctx,
						   c->opts.max_sessions);
		coap_context_set_max_handshake_sessions(c->ctx,
			c->opts.max_sessions);
	}
	c->unknown = coap_resource_unknown_init2(cp_hnd, 0);
	if (!c->unknown)
		goto fail;
	coap_register_request_handler(c->unknown, COAP_REQUEST_GET, cp_hnd);
	coap_register_request_handler(c->unknown, COAP_REQUEST_POST, cp_hnd);
	coap_register_request_handler(c->unknown, COAP_REQUEST_DELETE,
				      cp_hnd);
	/* So that the mapping answers 4.05 rather than libcoap 4.04. */
	coap_register_request_handler(c->unknown, COAP_REQUEST_FETCH, cp_hnd);
	coap_register_request_handler(c->unknown, COAP_REQUEST_PATCH, cp_hnd);
	coap_register_request_handler(c->unknown, COAP_REQUEST_IPATCH,
				      cp_hnd);
	coap_add_resource(c->ctx, c->unknown);
	coap_register_event_handler(c->ctx, cp_event);
	c->fd = coap_context_get_coap_fd(c->ctx);
	pz_loop_timer_init(&c->timer, cp_tick, c);
	if (c->fd < 0 ||
	    pz_loop_io_add(loop, c->fd, PZ_IO_READ, cp_io, c) != PZ_OK) {
		c->fd = -1;
		goto fail;
	}
	if (pz_loop_hook_add(loop, cp_hook, c) != PZ_OK) {
		rc = PZ_ENOMEM;
		goto fail;
	}
	pz_core_watch(core, cp_watch, c);
	*out = c;
	return PZ_OK;
fail:
	pz_log(PZ_ERROR, "coap", "cannot start the CoAP binding: %s",
	       pz_strerror(rc));
	pz_coap_free(c);
	return rc;
}

void pz_coap_drain(pz_coap *c)
{
	if (!c)
		return;
	/* What the core still holds (a create waiting for a subscription
	 * verification) is answered 5000 now; libcoap sends the answers
	 * when it replays the requests below. */
	for (struct cp_job *j = c->jobs; j; j = j->next) {
		if (j->answered)
			continue;
		j->answered = true;
		pz_rsp_clear(&j->rsp);
		pz_rsp_init(&j->rsp);
		j->rsp.rsc = PZ_RSC_INTERNAL_SERVER_ERROR;
		j->rsp.pc = json_pack("{s:s}", "m2m:dbg",
				      "plazad is shutting down");
		if (j->async)
			coap_async_trigger(j->async);
	}
	for (int round = 0; round < 3; round++)
		cp_run(c);
}

void pz_coap_free(pz_coap *c)
{
	if (!c)
		return;
	pz_loop_hook_del(c->loop, cp_hook, c);
	pz_loop_timer_stop(c->loop, &c->timer);
	if (c->fd >= 0)
		pz_loop_io_del(c->loop, c->fd);
	if (c->ctx)
		coap_free_context(c->ctx);  /* frees resources and asyncs */
	while (c->jobs)
		cp_job_free(c->jobs);
	while (c->dups) {
		struct cp_dup *d = c->dups;

		c->dups = d->next;
		cp_dup_free(d);
	}
	while (c->obs) {
		struct cp_obs *o = c->obs;

		c->obs = o->next;
		pz_free(o);
	}
	pz_free((char *)c->opts.plain_allowed);
	memset(c->key, 0, sizeof(c->key));
	pz_free(c);
}
