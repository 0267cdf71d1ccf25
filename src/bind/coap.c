/*
 * coap.c - the oneM2M CoAP binding (TS-0008) on libcoap 3 (4.3.1).
 *
 * libcoap runs in epoll mode: its epoll descriptor (coap_context_get_coap_fd)
 * sits in plazad's loop.  When it is readable, cp_run takes up to CP_EVENTS
 * events from it with one epoll_wait and hands them to coap_io_do_epoll,
 * which reads the datagrams, calls the handler and then runs libcoap's
 * timeouts (retransmissions, notifications, idle sessions) and arms
 * libcoap's own timerfd for the next one.  That timerfd is in libcoap's
 * epoll set, so its expiry makes the descriptor readable and plazad's loop
 * runs libcoap again: plazad keeps no timer for libcoap and replaces no
 * libc function.  One libcoap context serves every endpoint, plain (UDP)
 * and DTLS (pre-shared keys).
 *
 * Each UDP socket gets CP_SOCKBUF of receive and send buffer, so that a
 * burst from many devices (or one arriving during a commit) queues rather
 * than being dropped.  libcoap 4.3.1 has no accessor for an endpoint's
 * socket, so cp_tune_socket looks for the one bound to the endpoint's
 * address and port (see there); docs/coap.md has the sysctl notes.
 *
 * Requests: every path is served by libcoap's "unknown resource" handler,
 * which maps the request (coap_map.c) and hands it to the core.  A request
 * the core answers at once is answered in the response libcoap prepared
 * (piggybacked on the ACK of a CON).  A request waiting for its batch to
 * commit is deferred: the handler leaves libcoap nothing to send (an empty
 * NON response, which libcoap 4.3.1 drops in no_response()) and keeps a
 * session reference, the message id, token and type.  When the core calls
 * back, cp_hook sends the answer itself: an ACK with the request's message
 * id for a CON, a NON for a NON (RFC 7252 5.2.1).  A CON the core holds
 * longer than CP_PIGGY_MS (a create waiting for a subscription verification
 * can take seconds) gets an empty ACK then, and its answer follows as a
 * separate confirmable response (5.2.2), retransmitted by libcoap.
 *
 * Exchanges: a hash table keyed by (session, message id, token) holds each
 * deferred request (a retransmission of it is dropped, or gets the empty
 * ACK again once that went out) and, for EXCHANGE_LIFETIME, the answer to
 * each write (a retransmission gets that answer again instead of running
 * twice).  See struct cp_ex.
 *
 * Observe (RFC 7641): libcoap cannot observe its unknown resource, so the
 * first GET with Observe on a path creates a libcoap resource for that path
 * and replays the request through a libcoap async: the replay reaches the
 * new resource, where libcoap registers the observer.  Each observed
 * resource remembers the row id of what it names (pz_core_resolve_id); the
 * core's change reports (pz_core_watch) mark it changed and libcoap calls
 * the GET handler for each observer, which retrieves afresh through the
 * core as that observer (committing the open batch first if needed).
 */
#include <arpa/inet.h>
#include <coap3/coap.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "plaza/pz_coap.h"
#include "plaza/pz_err.h"
#include "plaza/pz_gba.h"
#include "plaza/pz_http.h"
#include "plaza/pz_log.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_time.h"

#define COAP_MAX_OPTS 128          /* options read from one request */
#define COAP_ORIG_MAX 256          /* originator of a PSK identity */
#define COAP_KNOWN_MARK 65000      /* see coap_option_filter_get below */
#define CP_EVENTS 256              /* epoll events handed to libcoap at once */
#define CP_SOCKBUF (4 << 20)       /* SO_RCVBUF/SO_SNDBUF of the sockets */
#define CP_FD_SCAN 1024            /* descriptors cp_tune_socket looks at */
#define CP_PIGGY_MS 1000           /* a CON waits this long for a
				      piggybacked answer, then gets an empty
				      ACK (half the client's ACK_TIMEOUT) */
#define CP_NORESPONSE 258          /* RFC 7967 No-Response option */

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

/*
 * An answer encoded once: code, options and body in one block (a
 * pz_malloc'd one, or a record of the exchange ring).  A deferred request
 * is answered from it, and the exchange table keeps it for the
 * retransmissions of a write.
 */
struct cp_ans {
	size_t len;                    /* body bytes */
	const uint8_t *body;           /* into this allocation */
	size_t wire;                   /* the options' encoded size */
	size_t nopts;
	uint16_t cf;                   /* Content-Format of the body */
	uint8_t code;                  /* CoAP response code */
	struct pz_coap_opt opts[];     /* ascending, Content-Format included;
					  values point into this allocation */
};

/*
 * An exchange: a deferred request (in its job), or an answered write kept
 * for EXCHANGE_LIFETIME (RFC 7252 4.8.2) in a record of the exchange ring,
 * as libcoap 4.3.1 does not recognise duplicates itself.  Entries are
 * found by hash of (session, message id, token) and listed per session
 * (from its app data) so that they go with it (COAP_EVENT_SERVER_SESSION_
 * DEL); a deferred request holds a session reference, so only answered
 * entries go that way.
 */
struct cp_ex {
	struct cp_ex *hnext;           /* hash chain */
	struct cp_ex *sprev, *snext;   /* the session's entries */
	coap_session_t *session;       /* borrowed, see above */
	uint64_t hash;
	struct cp_job *job;            /* deferred: the job holding this */
	struct cp_rec *rec;            /* answered: the record holding this */
	bool linked;                   /* in the table */
	uint16_t mid;
	uint8_t tok[8];
	uint8_t toklen;
};

/*
 * The exchange ring: CP_RING bytes holding the answered writes' records
 * (entry and answer) one after the other, oldest first.  A new record
 * evicts the oldest ones it needs the room of, and those past their
 * lifetime; at most CP_EX_MAX are kept, each at most CP_RING / 4 bytes
 * (a larger answer is not remembered).  Records never move, and their
 * memory is never handed back to malloc: tens of thousands of answers
 * living for seconds among the core's short-lived allocations made
 * malloc itself slower than the rest of the binding.  A SenML post's
 * record takes about 330 bytes, so the ring holds about 50,000: the
 * last 1.7 s at the benchmark's 30,000 writes/s (a client whose ACK was
 * lost retransmits after 2 to 3 s), the whole lifetime at 200 writes/s.
 */
struct cp_rec {
	uint32_t size;                 /* bytes, a multiple of 8 */
	uint32_t live;                 /* its entry is in the table; 0 for
					  a removed entry or padding */
	int64_t expires;               /* monotonic ms */
	struct cp_ex ex;
	/* the struct cp_ans follows */
};

#define CP_EX_BUCKETS (1u << 15)
#define CP_EX_MAX 65536
#define CP_RING (16u << 20)
#define CP_EX_MS 247000

/* One request between the handler and the core. */
struct cp_job {
	struct pz_coap *c;
	struct cp_job *next, *prev;    /* in pz_coap.jobs while deferred,
					  oldest first */
	struct cp_job *rnext;          /* in pz_coap.ready once answered */
	bool listed;                   /* in pz_coap.jobs */
	bool in_core;                  /* the core holds req/rsp */
	bool answered;                 /* rsp is final */
	bool separate;                 /* an empty ACK went out: the answer is
					  a separate response */
	uint16_t cf;                   /* answer's content format */
	enum pz_fmt fmt;
	coap_session_t *session;       /* a reference while deferred */
	coap_resource_t *res;          /* the handler's, owned by the context */
	struct cp_ex ex;               /* its exchange: the request's session,
					  message id and token; in the table
					  while deferred */
	uint8_t *query;                /* the request's Uri-Query, owned; for
					  a block-wise answer */
	size_t querylen;
	int64_t arrived;               /* monotonic ms */
	uint8_t type;                  /* the request's type (CON or NON) */
	uint8_t method;                /* and code */
	uint8_t noresp;                /* and No-Response (RFC 7967) bits */
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

struct pz_coap {
	pz_loop *loop;                 /* borrowed */
	pz_core *core;                 /* borrowed */
	struct pz_coap_opts opts;      /* plain_allowed is our copy */
	coap_context_t *ctx;           /* owned */
	coap_resource_t *unknown;      /* owned by ctx */
	int fd;                        /* libcoap's epoll fd, -1 if none */
	struct pz_timer late;          /* the oldest CON's CP_PIGGY_MS */
	bool late_armed;
	bool kick;                     /* run libcoap before the loop sleeps */
	bool psk_set;                  /* coap_context_set_psk2 done */
	bool buf_logged;               /* a socket buffer problem was logged */
	struct cp_job *jobs, *jobs_tail;  /* deferred, oldest first */
	struct cp_job *ready;          /* answered by the core, to send */
	struct cp_job **ready_tail;
	struct cp_ex **ex;             /* CP_EX_BUCKETS chains, owned */
	uint8_t *ring;                 /* CP_RING bytes, owned */
	size_t head, tail;             /* next record, oldest record */
	size_t used;                   /* bytes from tail to head */
	size_t nex;                    /* live records */
	struct cp_obs *obs;            /* observable paths */
	unsigned nobs;
	uint8_t key[64];               /* the PSK handed to libcoap */
	coap_bin_const_t keyc;
};

static int cp_started;

/* --- sockets ------------------------------------------------------------- */

/* Is a (from getsockname) the address want with port port? */
static bool cp_same_addr(const struct sockaddr_storage *a,
			 const struct sockaddr_storage *want, int port)
{
	if (a->ss_family != want->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a;
		const struct sockaddr_in *y = (const void *)want;

		return ntohs(x->sin_port) == port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a;
		const struct sockaddr_in6 *y = (const void *)want;

		return ntohs(x->sin6_port) == port &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr,
			       sizeof(x->sin6_addr));
	}
	return false;
}

/*
 * Give the UDP socket libcoap just bound to address want (port: the one it
 * got) CP_SOCKBUF of receive and send buffer.  libcoap 4.3.1 offers no
 * handle on it, so it is found among the first CP_FD_SCAN descriptors (the
 * endpoints are made at startup, when few are open) as the datagram
 * socket whose local address and port are the endpoint's: no other socket
 * of the process can be bound there.  Fails safe: a socket not found, or a
 * size the kernel caps at net.core.rmem_max / wmem_max, only costs the
 * bursts a larger buffer would have absorbed, and is logged once.
 */
static void cp_tune_socket(struct pz_coap *c,
			   const struct sockaddr_storage *want, int port)
{
	struct sockaddr_storage a;
	int type, size = CP_SOCKBUF, got = 0, fd;
	socklen_t len;

	for (fd = 0; fd < CP_FD_SCAN; fd++) {
		len = sizeof(type);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) ||
		    type != SOCK_DGRAM)
			continue;
		len = sizeof(a);
		if (!getsockname(fd, (struct sockaddr *)&a, &len) &&
		    cp_same_addr(&a, want, port))
			break;
	}
	if (fd == CP_FD_SCAN) {
		if (!c->buf_logged)
			pz_log(PZ_INFO, "coap", "UDP socket of port %d not "
			       "found: its buffers stay at the kernel's "
			       "default", port);
		c->buf_logged = true;
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	len = sizeof(got);
	/* Linux reports twice what it grants. */
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) ||
	    got / 2 >= size || c->buf_logged)
		return;
	pz_log(PZ_INFO, "coap", "UDP receive buffer is %d KiB, not %d KiB: "
	       "raise net.core.rmem_max for bursts", got / 2 / 1024,
	       size / 1024);
	c->buf_logged = true;
}

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

/* --- answers ------------------------------------------------------------- */

static size_t cp_ext(size_t n)
{
	return n < 13 ? 0 : n < 269 ? 1 : 2;
}

/* Bytes cp_ans_put needs for a. */
static size_t cp_ans_size(const struct pz_coap_answer *a)
{
	size_t size = sizeof(struct cp_ans) +
		      a->nopts * sizeof(struct pz_coap_opt) + a->body.len;

	for (size_t i = 0; i < a->nopts; i++)
		size += a->opts[i].len;
	return size;
}

/* Encode a into mem (cp_ans_size(a) bytes, 8-aligned), its code replaced
 * by code: a refusal's may differ from the rsc's own. */
static struct cp_ans *cp_ans_put(const struct pz_coap_answer *a,
				 uint8_t code, uint16_t cf, void *mem)
{
	struct cp_ans *ans = mem;
	unsigned prev = 0;
	uint8_t *p;

	ans->code = code;
	ans->cf = cf;
	ans->nopts = a->nopts;
	ans->wire = 0;
	p = (uint8_t *)&ans->opts[a->nopts];
	for (size_t i = 0; i < a->nopts; i++) {
		const struct pz_coap_opt *o = &a->opts[i];

		ans->opts[i].num = o->num;
		ans->opts[i].len = o->len;
		ans->opts[i].val = p;
		if (o->len)
			memcpy(p, o->val, o->len);
		p += o->len;
		ans->wire += 1 + cp_ext(o->num - prev) + cp_ext(o->len) +
			     o->len;
		prev = o->num;
	}
	ans->body = p;
	ans->len = a->body.len;
	if (ans->len)
		memcpy(p, a->body.data, ans->len);
	return ans;
}

static void cp_release(coap_session_t *s, void *p)
{
	(void)s;
	pz_free(p);
}

/* The options of ans into pdu, without Content-Format when libcoap adds
 * it (coap_add_data_large_response). */
static void cp_add_opts(coap_pdu_t *pdu, const struct cp_ans *ans,
			bool with_cf)
{
	for (size_t i = 0; i < ans->nopts; i++)
		if (with_cf || ans->opts[i].num != COAP_OPTION_CONTENT_FORMAT)
			coap_add_option(pdu, ans->opts[i].num, ans->opts[i].len,
					ans->opts[i].val);
}

/*
 * ans into pdu with the body going block-wise (RFC 7959) when it does not
 * fit one message: libcoap then keeps a copy and serves the later blocks
 * itself, finding it by resource r, query and the request's method (req:
 * only its method and Block2 option are read).
 */
static void cp_fill_large(coap_pdu_t *pdu, const struct cp_ans *ans,
			  coap_resource_t *r, coap_session_t *s,
			  const coap_pdu_t *req, const coap_string_t *query)
{
	uint8_t *body;

	coap_pdu_set_code(pdu, (coap_pdu_code_t)ans->code);
	cp_add_opts(pdu, ans, false);
	if (!ans->len)
		return;
	body = pz_malloc(ans->len);
	if (!body) {
		coap_pdu_set_code(pdu, COAP_RESPONSE_CODE_INTERNAL_ERROR);
		return;
	}
	memcpy(body, ans->body, ans->len);
	coap_add_data_large_response(r, s, req, pdu, query, ans->cf, -1, 0,
				     ans->len, body, cp_release, body);
}

/* ans (NULL: out of memory) into the response libcoap prepared for the
 * request the handler runs for. */
static void cp_fill(coap_resource_t *r, coap_session_t *s,
		    const coap_pdu_t *pdu, const coap_string_t *query,
		    coap_pdu_t *resp, const struct cp_ans *ans)
{
	if (!ans)
		coap_pdu_set_code(resp, COAP_RESPONSE_CODE_INTERNAL_ERROR);
	else
		cp_fill_large(resp, ans, r, s, pdu, query);
}

/* --- exchanges ------------------------------------------------------------ */

static uint64_t cp_ex_hash(const struct cp_ex *e)
{
	uint64_t h = (uint64_t)(uintptr_t)e->session * 0x9e3779b97f4a7c15ull;

	h = (h ^ e->mid) * 0x100000001b3ull;
	for (size_t i = 0; i < e->toklen; i++)
		h = (h ^ e->tok[i]) * 0x100000001b3ull;
	return h ^ (h >> 31);
}

/* Set e's key from request pdu on s.  False for a token over 8 bytes. */
static bool cp_ex_key(struct cp_ex *e, coap_session_t *s,
		      const coap_pdu_t *pdu)
{
	coap_bin_const_t tok = coap_pdu_get_token(pdu);

	memset(e, 0, sizeof(*e));
	if (tok.length > sizeof(e->tok))
		return false;
	e->session = s;
	e->mid = (uint16_t)coap_pdu_get_mid(pdu);
	memcpy(e->tok, tok.s, tok.length);
	e->toklen = (uint8_t)tok.length;
	e->hash = cp_ex_hash(e);
	return true;
}

/* Put e (key set) in the table and its session's list. */
static void cp_ex_link(struct pz_coap *c, struct cp_ex *e)
{
	struct cp_ex **b = &c->ex[e->hash & (CP_EX_BUCKETS - 1)];

	e->hnext = *b;
	*b = e;
	e->sprev = NULL;
	e->snext = coap_session_get_app_data(e->session);
	if (e->snext)
		e->snext->sprev = e;
	coap_session_set_app_data(e->session, e);
	e->linked = true;
}

/* Take e out of the table (its ring record, if any, becomes dead). */
static void cp_ex_unlink(struct pz_coap *c, struct cp_ex *e)
{
	struct cp_ex **pp = &c->ex[e->hash & (CP_EX_BUCKETS - 1)];

	if (!e->linked)
		return;
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	if (e->sprev)
		e->sprev->snext = e->snext;
	else
		coap_session_set_app_data(e->session, e->snext);
	if (e->snext)
		e->snext->sprev = e->sprev;
	e->linked = false;
	if (e->rec) {
		e->rec->live = 0;
		c->nex--;
	}
}

/* Drop the oldest record of the ring. */
static void cp_ring_pop(struct pz_coap *c)
{
	struct cp_rec *r = (struct cp_rec *)(c->ring + c->tail);

	if (r->live)
		cp_ex_unlink(c, &r->ex);
	c->used -= r->size;
	c->tail += r->size;
	if (c->tail == CP_RING)
		c->tail = 0;
}

/* Room for a record of size bytes, evicting the oldest as needed; NULL
 * for a record over CP_RING / 4. */
static struct cp_rec *cp_ring_alloc(struct pz_coap *c, size_t size)
{
	int64_t now = pz_time_mono_ms();
	struct cp_rec *r;

	size = (size + 7) & ~(size_t)7;
	if (size > CP_RING / 4)
		return NULL;
	while (c->used) {  /* the dead and the expired first */
		r = (struct cp_rec *)(c->ring + c->tail);
		if (r->live && r->expires > now && c->nex < CP_EX_MAX)
			break;
		cp_ring_pop(c);
	}
	for (;;) {
		if (!c->used)
			c->head = c->tail = 0;
		if (c->used && c->head <= c->tail) {  /* free: [head, tail) */
			if (c->tail - c->head >= size)
				break;
			cp_ring_pop(c);
		} else if (CP_RING - c->head >= size) {
			break;
		} else {  /* pad to the end (8 bytes at least), wrap */
			r = (struct cp_rec *)(c->ring + c->head);
			r->size = (uint32_t)(CP_RING - c->head);
			r->live = 0;
			c->used += r->size;
			c->head = 0;
		}
	}
	r = (struct cp_rec *)(c->ring + c->head);
	memset(r, 0, sizeof(*r));
	r->size = (uint32_t)size;
	r->expires = now + CP_EX_MS;
	c->head += size;
	if (c->head == CP_RING)
		c->head = 0;
	c->used += size;
	return r;
}

/*
 * Encode a (code: see cp_ans_put).  With key (an exchange's session,
 * message id and token) the answer is remembered in the ring for that
 * exchange, and *kept is true; otherwise it is in a pz_malloc'd block the
 * caller frees.  NULL when out of memory.
 */
static struct cp_ans *cp_encode(struct pz_coap *c,
				const struct pz_coap_answer *a, uint8_t code,
				uint16_t cf, const struct cp_ex *key,
				bool *kept)
{
	size_t size = cp_ans_size(a);
	struct cp_rec *r = key ? cp_ring_alloc(c, sizeof(*r) + size) : NULL;
	void *mem;

	*kept = r != NULL;
	if (!r) {
		mem = pz_malloc(size);
		return mem ? cp_ans_put(a, code, cf, mem) : NULL;
	}
	r->ex = *key;
	r->ex.job = NULL;
	r->ex.rec = r;
	r->live = 1;
	cp_ex_link(c, &r->ex);
	c->nex++;
	return cp_ans_put(a, code, cf, r + 1);
}

/* The answer an entry remembers. */
static const struct cp_ans *cp_ex_ans(const struct cp_ex *e)
{
	return (const struct cp_ans *)(e->rec + 1);
}

/* The exchange of request pdu on session s, or NULL. */
static struct cp_ex *cp_ex_find(struct pz_coap *c, coap_session_t *s,
				const coap_pdu_t *pdu)
{
	struct cp_ex key, *e;

	if (!cp_ex_key(&key, s, pdu))
		return NULL;
	for (e = c->ex[key.hash & (CP_EX_BUCKETS - 1)]; e; e = e->hnext) {
		if (e->hash != key.hash || e->session != s ||
		    e->mid != key.mid || e->toklen != key.toklen ||
		    memcmp(e->tok, key.tok, key.toklen))
			continue;
		if (e->rec && e->rec->expires <= pz_time_mono_ms()) {
			cp_ex_unlink(c, e);
			return NULL;
		}
		return e;
	}
	return NULL;
}

/* rsp as an answer, remembered for key when given (see cp_encode). */
static struct cp_ans *cp_ans_rsp(struct pz_coap *c, const struct pz_rsp *rsp,
				 const char *rqi, uint16_t cf, enum pz_fmt fmt,
				 const struct cp_ex *key, bool *kept)
{
	struct pz_coap_answer a;
	struct cp_ans *ans = NULL;

	*kept = false;
	if (pz_coap_answer(rsp, rqi, cf, fmt, &a) == PZ_OK)
		ans = cp_encode(c, &a, a.code, cf, key, kept);
	pz_coap_answer_clear(&a);
	return ans;
}

static bool cp_is_write(coap_pdu_code_t code)
{
	return code >= COAP_REQUEST_CODE_POST &&
	       code <= COAP_REQUEST_CODE_DELETE;
}

/* --- jobs ---------------------------------------------------------------- */

/* A job for request pdu, or NULL when out of memory (or for a token over
 * 8 bytes, which libcoap 4.3.1 does not parse). */
static struct cp_job *cp_job_new(struct pz_coap *c, coap_session_t *s,
				 const coap_pdu_t *pdu,
				 const coap_string_t *query)
{
	struct cp_job *j = pz_calloc(1, sizeof(*j));
	coap_opt_iterator_t it;
	coap_opt_t *nr;

	if (!j)
		return NULL;
	if (!cp_ex_key(&j->ex, s, pdu))
		goto fail;
	j->ex.job = j;
	if (query && query->length) {
		j->query = pz_malloc(query->length);
		if (!j->query)
			goto fail;
		memcpy(j->query, query->s, query->length);
		j->querylen = query->length;
	}
	j->c = c;
	j->cf = PZ_COAP_CF_JSON;
	j->fmt = PZ_FMT_JSON;
	j->type = (uint8_t)coap_pdu_get_type(pdu);
	j->method = (uint8_t)coap_pdu_get_code(pdu);
	nr = coap_check_option(pdu, CP_NORESPONSE, &it);
	if (nr)
		j->noresp = (uint8_t)coap_decode_var_bytes(coap_opt_value(nr),
							   coap_opt_length(nr));
	pz_req_init(&j->req);
	pz_rsp_init(&j->rsp);
	cp_peer(s, j->peer, sizeof(j->peer));
	j->req.binding = coap_session_get_proto(s) == COAP_PROTO_DTLS ?
			 "coaps" : "coap";
	j->req.peer = j->peer;
	return j;
fail:
	pz_free(j);
	return NULL;
}

static void cp_job_unlist(struct cp_job *j)
{
	struct pz_coap *c = j->c;

	if (!j->listed)
		return;
	if (j->prev)
		j->prev->next = j->next;
	else
		c->jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
	else
		c->jobs_tail = j->prev;
	j->next = j->prev = NULL;
	j->listed = false;
}

static void cp_job_free(struct cp_job *j)
{
	if (!j)
		return;
	cp_job_unlist(j);
	cp_ex_unlink(j->c, &j->ex);
	if (j->session)
		coap_session_release(j->session);
	pz_free(j->query);
	pz_req_clear(&j->req);
	pz_rsp_clear(&j->rsp);
	pz_free(j);
}

/* The core answered.  A deferred job goes to pz_coap.ready, for cp_hook;
 * one answered inside the handler is answered there. */
static void cp_done(void *ud, struct pz_rsp *rsp)
{
	struct cp_job *j = ud;
	struct pz_coap *c = j->c;

	(void)rsp;
	j->in_core = false;
	if (j->answered)
		return;  /* answered by pz_coap_drain; kept until freed */
	j->answered = true;
	if (!j->listed)
		return;
	cp_job_unlist(j);
	j->rnext = NULL;
	*c->ready_tail = j;
	c->ready_tail = &j->rnext;
}

/* --- deferred answers ---------------------------------------------------- */

/* Is an answer of class code >> 5 unwanted (No-Response, RFC 7967 2.1)? */
static bool cp_unwanted(const struct cp_job *j, uint8_t code)
{
	unsigned cls = code >> 5;

	return cls && (j->noresp & (1u << (cls - 1)));
}

/* The empty ACK of a CON the core holds too long. */
static void cp_empty_ack(struct cp_job *j)
{
	coap_pdu_t *p = coap_pdu_init(COAP_MESSAGE_ACK, 0, j->ex.mid, 0);

	if (p)
		coap_send(j->session, p);
}

/*
 * The message carrying ans (NULL: 5.00) for deferred job j: an ACK with the
 * request's message id for a CON (piggybacked), else a CON or NON with a
 * new one.  A body too large for one message goes block-wise like any
 * other answer, through a bare request of j's method (libcoap reads
 * nothing else of it).  NULL when out of memory.
 */
static coap_pdu_t *cp_pdu(struct cp_job *j, const struct cp_ans *ans)
{
	coap_session_t *s = j->session;
	size_t max = coap_session_max_pdu_size(s);
	coap_pdu_type_t type = j->type != COAP_MESSAGE_CON ? COAP_MESSAGE_NON :
			       j->separate ? COAP_MESSAGE_CON : COAP_MESSAGE_ACK;
	coap_mid_t mid = type == COAP_MESSAGE_ACK ? j->ex.mid :
			 coap_new_message_id(s);
	coap_pdu_t *p = coap_pdu_init(type, 0, mid, max), *req;
	coap_string_t q = { j->querylen, j->query };

	if (!p || !coap_add_token(p, j->ex.toklen, j->ex.tok)) {
		coap_delete_pdu(p);
		return NULL;
	}
	if (!ans) {
		coap_pdu_set_code(p, COAP_RESPONSE_CODE_INTERNAL_ERROR);
		return p;
	}
	if (j->ex.toklen + ans->wire + 1 + ans->len <= max) {  /* fits */
		coap_pdu_set_code(p, (coap_pdu_code_t)ans->code);
		cp_add_opts(p, ans, true);
		if (ans->len && !coap_add_data(p, ans->len, ans->body))
			coap_pdu_set_code(p, COAP_RESPONSE_CODE_INTERNAL_ERROR);
		return p;
	}
	req = coap_pdu_init(COAP_MESSAGE_CON, j->method, 0, 0);
	if (!req) {
		coap_delete_pdu(p);
		return NULL;
	}
	cp_fill_large(p, ans, j->res, s, req, j->query ? &q : NULL);
	coap_delete_pdu(req);
	return p;
}

/* Send ans (NULL: 5.00) for deferred job j, unless the client asked for
 * no such answer: then only the ACK a CON still needs. */
static void cp_out(struct cp_job *j, const struct cp_ans *ans)
{
	coap_pdu_t *p;

	if (cp_unwanted(j, ans ? ans->code :
			COAP_RESPONSE_CODE_INTERNAL_ERROR)) {
		if (j->type == COAP_MESSAGE_CON && !j->separate)
			cp_empty_ack(j);
		return;
	}
	p = cp_pdu(j, ans);
	if (p)
		coap_send(j->session, p);  /* takes p */
}

/*
 * Answer deferred job j from its rsp, then let go of its session.  A
 * write's answer stays in the exchange ring for its retransmissions.
 * Nothing goes out when the session has ended (the peer closed or the
 * DTLS session failed) or the client asked for no such answer.
 */
static void cp_send(struct pz_coap *c, struct cp_job *j)
{
	struct cp_ex key = j->ex;
	struct cp_ans *ans;
	bool kept;

	cp_ex_unlink(c, &j->ex);  /* the answer's entry replaces it */
	ans = cp_ans_rsp(c, &j->rsp, j->req.rqi, j->cf, j->fmt,
			 key.linked && cp_is_write(j->method) ? &key : NULL,
			 &kept);
	if (coap_session_get_state(j->session) ==
	    COAP_SESSION_STATE_ESTABLISHED)
		cp_out(j, ans);
	if (!kept)
		pz_free(ans);
	coap_session_release(j->session);
	j->session = NULL;
}

/* Send what the core answered since the last call.  The sessions let go
 * of may now time out: libcoap is run (c->kick) to schedule that, as it
 * counts only unreferenced sessions. */
static void cp_send_ready(struct pz_coap *c)
{
	for (struct cp_job *j = c->ready; j; j = c->ready) {
		c->ready = j->rnext;
		if (!c->ready)
			c->ready_tail = &c->ready;
		cp_send(c, j);
		cp_job_free(j);
		c->kick = true;
	}
}

/* CP_PIGGY_MS after the oldest deferred CON: empty ACKs for those that
 * waited that long, so that their clients stop retransmitting. */
static void cp_late(void *ud)
{
	struct pz_coap *c = ud;
	int64_t now = pz_time_mono_ms();

	c->late_armed = false;
	for (struct cp_job *j = c->jobs; j; j = j->next) {
		if (j->arrived + CP_PIGGY_MS > now) {
			c->late_armed = pz_loop_timer_start(c->loop, &c->late,
				j->arrived + CP_PIGGY_MS - now) == PZ_OK;
			return;
		}
		if (j->answered || j->separate || j->type != COAP_MESSAGE_CON)
			continue;
		j->separate = true;
		if (coap_session_get_state(j->session) ==
		    COAP_SESSION_STATE_ESTABLISHED)
			cp_empty_ack(j);
	}
}

/* The handler defers j (already with the core): libcoap sends nothing
 * now, cp_send answers later.  Takes a reference on s. */
static void cp_defer(struct pz_coap *c, struct cp_job *j, coap_resource_t *r,
		     coap_session_t *s, coap_pdu_t *resp)
{
	j->session = coap_session_reference(s);
	j->res = r;
	j->arrived = pz_time_mono_ms();
	cp_ex_link(c, &j->ex);
	j->prev = c->jobs_tail;
	j->next = NULL;
	if (c->jobs_tail)
		c->jobs_tail->next = j;
	else
		c->jobs = j;
	c->jobs_tail = j;
	j->listed = true;
	if (j->type == COAP_MESSAGE_CON && !c->late_armed)
		c->late_armed = pz_loop_timer_start(c->loop, &c->late,
						    CP_PIGGY_MS) == PZ_OK;
	/* libcoap 4.3.1 sends no empty NON response (no_response()). */
	coap_pdu_set_type(resp, COAP_MESSAGE_NON);
}
/* --- authentication ------------------------------------------------------ */

/* The key and originator of the PSK identity ident: a GBA identity goes
 * to the NAF first (Ks_NAF, the device's AE-ID); one the NAF does not
 * know, and every other, to the PSK table.  *why: the NAF's reason. */
static int cp_psk_lookup(struct pz_coap *c, const char *ident, uint8_t *key,
			 size_t *klen, char *orig, size_t len,
			 const char **why)
{
	const char *dummy;
	int rc;

	if (!why)
		why = &dummy;
	*why = NULL;
	if (c->opts.naf && pz_naf_claims(ident) && *klen >= PZ_GBA_KS_LEN) {
		rc = pz_naf_psk(c->opts.naf, ident, key, orig, len, why);
		if (rc == PZ_OK)
			*klen = PZ_GBA_KS_LEN;
		if (rc != PZ_ENOTFOUND)
			return rc;
	}
	rc = pz_core_psk_get(c->core, ident, key, klen, orig, len);
	if (rc == PZ_OK)
		*why = NULL;
	return rc;
}

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
	rc = cp_psk_lookup(c, ident, key, &klen, orig, len, NULL);
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
	const char *why = NULL;
	int rc = PZ_ENOTFOUND;

	cp_peer(s, peer, sizeof(peer));
	if (identity && identity->length && identity->length <= 128 &&
	    !memchr(identity->s, '\0', identity->length)) {
		memcpy(ident, identity->s, identity->length);
		ident[identity->length] = '\0';
		rc = cp_psk_lookup(c, ident, c->key, &klen, orig,
				   sizeof(orig), &why);
	} else {
		snprintf(ident, sizeof(ident), "(%zu bytes)",
			 identity ? identity->length : 0);
	}
	if (rc != PZ_OK) {
		pz_log(PZ_INFO, "coap", "%s: DTLS handshake refused: PSK "
		       "identity '%s' %s", peer, ident, why ? why :
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

/* Refuse before the core: rsc with a readable reason, logged once. */
static void cp_refuse(struct cp_job *j, coap_resource_t *r,
			coap_session_t *s, const coap_pdu_t *pdu,
			const coap_string_t *query, coap_pdu_t *resp,
			uint8_t code, int rsc, const char *msg)
{
	struct pz_rsp *rsp = &j->rsp;
	struct pz_coap_answer a;
	struct cp_ans *ans = NULL;
	bool kept = false;

	pz_log(PZ_INFO, "coap", "%s %s rejected: %u.%02u rsc=%d %s", j->peer,
	       j->req.to ? j->req.to : "-", code >> 5, code & 0x1f, rsc, msg);
	json_decref(rsp->pc);
	rsp->rsc = rsc;
	rsp->pc = json_pack("{s:s}", "m2m:dbg", msg);
	snprintf(rsp->rvi, sizeof(rsp->rvi), "%s",
		 j->req.rvi ? j->req.rvi : "4");
	/* The code may differ from the rsc's own (4.02, 4.13, 5.05). */
	if (pz_coap_answer(rsp, j->req.rqi, j->cf, j->fmt, &a) == PZ_OK)
		ans = cp_encode(j->c, &a, code, j->cf, NULL, &kept);
	pz_coap_answer_clear(&a);
	cp_fill(r, s, pdu, query, resp, ans);
	pz_free(ans);
}

/* Session events: a DTLS failure worth a log line, a session's end. */
static int cp_event(coap_session_t *s, coap_event_t ev)
{
	struct pz_coap *c = coap_get_app_data(coap_session_get_context(s));
	struct cp_ex *e;

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
	/* The session's message ids mean nothing any more. */
	if (c && ev == COAP_EVENT_SERVER_SESSION_DEL)
		for (e = coap_session_get_app_data(s); e;
		     e = coap_session_get_app_data(s))
			cp_ex_unlink(c, e);
	return 0;
}

/* Answer a job the core finished while the handler runs: in libcoap's
 * response, piggybacked on the ACK of a CON. */
static void cp_reply(struct pz_coap *c, struct cp_job *j, coap_resource_t *r,
		     coap_session_t *s, const coap_pdu_t *pdu,
		     const coap_string_t *query, coap_pdu_t *resp)
{
	bool kept;
	struct cp_ans *ans = cp_ans_rsp(c, &j->rsp, j->req.rqi, j->cf, j->fmt,
					cp_is_write(j->method) ? &j->ex : NULL,
					&kept);

	cp_fill(r, s, pdu, query, resp, ans);
	if (!kept)
		pz_free(ans);
}

/* A duplicate of exchange e (same session, message id and token). */
static void cp_dup(struct cp_ex *e, coap_resource_t *r, coap_session_t *s,
		   const coap_pdu_t *pdu, const coap_string_t *query,
		   coap_pdu_t *resp)
{
	if (e->rec) {
		cp_fill(r, s, pdu, query, resp, cp_ex_ans(e));  /* the same */
		return;
	}
	/* Still with the core, which answers it once.  A CON that got its
	 * empty ACK gets it again (libcoap sends the empty response as
	 * one); otherwise nothing goes out. */
	if (!e->job || !e->job->separate ||
	    coap_pdu_get_type(pdu) != COAP_MESSAGE_CON)
		coap_pdu_set_type(resp, COAP_MESSAGE_NON);
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
	coap_pdu_code_t code = coap_pdu_get_code(pdu);
	struct cp_obs *o = r == c->unknown ? NULL : cp_obs_find(c, r);
	struct pz_coap_out out;
	struct cp_job *j;
	struct cp_ex *e;
	int rc;

	/* A GET on an observed path is never deferred (below), and
	 * libcoap's notifications call here with the observer's request:
	 * only other requests can repeat a known exchange. */
	if (!o || code != COAP_REQUEST_CODE_GET) {
		e = cp_ex_find(c, s, pdu);
		if (e) {
			cp_dup(e, r, s, pdu, query, resp);
			return;
		}
	}
	j = cp_job_new(c, s, pdu, query);
	if (!j) {
		coap_pdu_set_code(resp, COAP_RESPONSE_CODE_INTERNAL_ERROR);
		return;
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
	if (o && out.observe == 0)  /* the path may name a new row now */
		pz_core_resolve_id(c->core, j->req.to, &o->id);
	j->in_core = true;
	pz_core_submit(c->core, &j->req, &j->rsp, cp_done, j);
	/* A retrieve on an observed path, or one that starts observing, is
	 * answered now: libcoap asks for notifications synchronously and
	 * registers observers only from the handler. */
	if (!j->answered && j->req.op == PZ_OP_RETRIEVE &&
	    (o || out.observe == 0))
		pz_core_flush(c->core);
	if (j->answered) {
		if (r == c->unknown && out.observe == 0 &&
		    j->rsp.rsc == PZ_RSC_OK &&
		    cp_observe_start(c, s, pdu, j))
			goto free;
		cp_reply(c, j, r, s, pdu, query, resp);
		goto free;
	}
	cp_defer(c, j, r, s, resp);  /* the core keeps j until it answers */
	return;
free:
	cp_job_free(j);
}

/* --- loop integration ---------------------------------------------------- */

/* Hand libcoap what its descriptor has (CP_EVENTS at a time; level-
 * triggered, so the loop comes back for more); it then runs its timeouts
 * and arms its timerfd for the next one.  With no event (cp_hook) it only
 * runs its timeouts: sessions let go of may start their idle countdown,
 * and notifications go out. */
static void cp_run(struct pz_coap *c)
{
	struct epoll_event evs[CP_EVENTS];
	int n;

	c->kick = false;
	n = epoll_wait(c->fd, evs, CP_EVENTS, 0);
	if (n < 0) {
		if (errno != EINTR)
			pz_log(PZ_WARN, "coap", "epoll_wait: %s",
			       strerror(errno));
		n = 0;
	}
	coap_io_do_epoll(c->ctx, evs, (size_t)n);
}

static void cp_io(void *ud, int fd, unsigned ev)
{
	(void)fd;
	(void)ev;
	cp_run(ud);
}

/* Before the loop sleeps: send the answers the core just completed, and
 * run libcoap for the notifications its commit caused. */
static int cp_hook(void *ud)
{
	struct pz_coap *c = ud;

	cp_send_ready(c);
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
	cp_tune_socket(c, &ss, *port);
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
	c->ready_tail = &c->ready;
	pz_loop_timer_init(&c->late, cp_late, c);
	c->opts.plain_allowed = NULL;
	if (o->plain_allowed && *o->plain_allowed) {
		c->opts.plain_allowed = pz_strdup(o->plain_allowed);
		if (!c->opts.plain_allowed)
			goto fail;
	}
	c->ex = pz_calloc(CP_EX_BUCKETS, sizeof(*c->ex));
	c->ring = pz_malloc(CP_RING);  /* pages come as records are made */
	if (!c->ex || !c->ring)
		goto fail;
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
	cp_send_ready(c);
	/* What the core still holds (a create waiting for a subscription
	 * verification) is answered 5000 now; the jobs stay listed until
	 * pz_coap_free, as the core may still call back. */
	for (struct cp_job *j = c->jobs; j; j = j->next) {
		if (j->answered)
			continue;
		j->answered = true;
		pz_rsp_clear(&j->rsp);
		pz_rsp_init(&j->rsp);
		j->rsp.rsc = PZ_RSC_INTERNAL_SERVER_ERROR;
		j->rsp.pc = json_pack("{s:s}", "m2m:dbg",
				      "plazad is shutting down");
		cp_send(c, j);
	}
	for (int round = 0; round < 3; round++)
		cp_run(c);
}

void pz_coap_free(pz_coap *c)
{
	if (!c)
		return;
	pz_loop_hook_del(c->loop, cp_hook, c);
	pz_loop_timer_stop(c->loop, &c->late);
	if (c->fd >= 0)
		pz_loop_io_del(c->loop, c->fd);
	/* Jobs hold session references, which must go before the context. */
	while (c->ready) {
		struct cp_job *j = c->ready;

		c->ready = j->rnext;
		cp_job_free(j);
	}
	while (c->jobs)
		cp_job_free(c->jobs);
	pz_free(c->ex);
	pz_free(c->ring);
	if (c->ctx) {
		coap_set_app_data(c->ctx, NULL);  /* no more events for us */
		coap_free_context(c->ctx);  /* frees resources and asyncs */
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
