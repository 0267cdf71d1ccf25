/*
 * coapload.c - a closed-loop CoAP load generator on libcoap 3, for plaza's
 * CoAP benchmark (bench/coap-run).
 *
 *   coapload -u coap://127.0.0.1:5683/plaza/bench/data -c 32 -w 4 -d 10 \
 *            -F Cbench -R r -V 4
 *   coapload -u coaps://127.0.0.1:5684/plaza/bench/data -i bench-psk \
 *            -k 706c617a61 -F Cbench -R r -V 4
 *   coapload -M handshake -u coaps://... -c 16 -d 10 -i ID -k HEX
 *   coapload -M idle -u coaps://... -c 1000 -w 32 -d 5 -i ID -k HEX
 *
 * Every session is a libcoap client session with its own UDP socket (and,
 * for coaps://, its own DTLS 1.2 PSK session).  Three modes:
 *
 *   load       (-M load, default) each of -c sessions keeps -w confirmable
 *              requests outstanding for -d seconds; over DTLS the clock
 *              starts once every session has finished its handshake.
 *   handshake  -c attempts run in parallel; each opens a new DTLS session,
 *              completes the handshake, sends one request, and on the answer
 *              closes the session (close_notify) and starts again.
 *   idle       opens -c sessions, at most -w handshakes at a time, each
 *              confirmed by one answered request; then prints
 *              "idle_ready N failed F" (flushed) and holds them for -d
 *              seconds, so that a script can read the server's memory (or
 *              load it) meanwhile.
 *
 * The body is by default a SenML CBOR pack (RFC 8428: an array of one map
 * with n, u and a value that changes with every request), content format
 * 112; oneM2M options (-F originator 279, -R request id 283 with a counter,
 * -V release version 271, -y resource type 267) are added when given.
 * Answers are counted by CoAP code and by oneM2M-RSC.
 *
 * libcoap is driven in one thread through its epoll descriptor: the loop
 * waits on coap_context_get_coap_fd() and hands up to MAX_EVENTS events to
 * coap_io_do_epoll(), which is what coap_io_process() does 10 events at a
 * time.  Requests are sent from the loop, never from libcoap's callbacks.
 * Three libcoap functions are replaced (link with -rdynamic): the option
 * filter, so that answers carrying oneM2M options are accepted at all, and
 * two costs that made the generator, not the server, the bottleneck
 * (timerfd_settime, and coap_prng through coap_set_prng).
 *
 * Retransmissions are inferred from latency: libcoap's ACK_RANDOM_FACTOR
 * is set to 1, so a request is retransmitted exactly when it is still
 * unanswered after ACK_TIMEOUT (-a); answers arriving later are counted as
 * retransmitted.  The program also reports its own CPU use, so that a run
 * can show it was not the bottleneck.  Everything is bounded by -d, -n and
 * the drain time (-D).
 */
#include <coap3/coap.h>
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_SESSIONS 65535  /* each one a socket (RLIMIT_NOFILE is raised) */
#define MAX_WINDOW 1024     /* outstanding requests per session */
#define MAX_SEGS 16         /* Uri-Path segments */
#define MAX_RSC 16          /* distinct oneM2M-RSC values reported */
#define LAT_FINE 100000     /* latency: 1 us buckets up to 100 ms, */
#define LAT_COARSE 60000    /* then 1 ms buckets up to 60 s, then max */
#define OPT_TY 267          /* oneM2M CoAP options (TS-0008) */
#define OPT_RVI 271
#define OPT_FR 279
#define OPT_RQI 283
#define OPT_RSC 307
#define OPT_MARK 65000      /* see coap_option_filter_get below */
#define MAX_EVENTS 512      /* epoll events handed to libcoap at once */
#define TICK_MS 5           /* the loop runs libcoap's timers this often */

enum mode { MODE_LOAD, MODE_HANDSHAKE, MODE_IDLE };

enum phase {
	P_CONNECT,     /* load over DTLS: handshakes before the clock starts */
	P_RUN,         /* measuring */
	P_DRAIN,       /* window over: waiting for outstanding answers */
	P_HOLD,        /* idle mode: sessions held */
	P_END
};

enum sstate {
	S_CLOSED,      /* no libcoap session */
	S_CONNECTING,  /* DTLS handshake under way */
	S_READY,       /* may send */
	S_DONE,        /* handshake/idle mode: its one request was answered */
	S_FAILED       /* to be closed by the loop */
};

struct slot {
	int64_t sent;          /* send time, ns; 0 = free */
	uint16_t gen;          /* bumped per use and carried in the token, so
				  a late answer for a reused slot is stray */
};

struct sess {
	coap_session_t *cs;    /* NULL when closed */
	enum sstate st;
	unsigned idx;          /* for "%n" in the PSK identity */
	unsigned busy;         /* slots in use */
	unsigned next;         /* where to look for a free slot */
	bool asked;            /* handshake/idle: its request was sent */
	bool inflight;         /* handshake/idle: counted in g.attempts */
	bool queued;           /* on the service list */
	int64_t opened;        /* when the session was opened, ns */
	struct slot *slots;    /* opt.window of them */
};

static struct {
	enum mode mode;
	const char *uri;
	bool dtls;
	coap_address_t dst;
	char path[256];                /* Uri-Path, split in place */
	const char *segs[MAX_SEGS];
	size_t nsegs;
	unsigned sessions, window;
	double secs, drain;
	uint64_t max;                  /* requests or handshakes; 0 = none */
	coap_pdu_code_t code;
	int cf;                        /* content format, -1 = none */
	const char *body;              /* "senml", "none" or text with %n */
	const char *fr, *rqi, *rvi;
	int ty;                        /* -1 = no oneM2M-TY */
	const char *identity;
	uint8_t key[64];
	size_t keylen;
	unsigned ack_ms, hs_ms;
	int verbose;                   /* libcoap log level, -v */
} opt = {
	.mode = MODE_LOAD, .sessions = 32, .window = 4, .secs = 10,
	.drain = 3, .code = COAP_REQUEST_CODE_POST, .cf = 112, .body = "senml",
	.ty = -1, .identity = "bench", .ack_ms = 2000, .hs_ms = 5000,
	.verbose = LOG_WARNING
};

static struct {
	coap_context_t *ctx;
	struct sess *ss;
	struct sess **queue;           /* sessions needing the loop's care */
	size_t nqueue;
	enum phase phase;
	uint64_t seq;                  /* request counter: RQI and body */
	uint64_t outstanding;          /* requests awaiting an answer */
	uint64_t attempts;             /* handshake/idle: sessions opened and
					  not yet answered */
	uint64_t sent, answered, in_window, stray, late, send_err;
	uint64_t codes[256];
	struct { unsigned rsc; uint64_t n; } rsc[MAX_RSC];
	uint64_t nack_timeout, nack_rst, nack_tls, nack_other;
	uint64_t connected, failed, open_failed, hs_ok, hs_timeout;
	uint64_t established;          /* idle mode */
	unsigned next_open;            /* idle mode: next session to open */
	int64_t t0, t_end;             /* the measured window, ns */
	int64_t deadline;              /* end of the window (or hold) */
	int64_t drain_end;             /* give up on outstanding answers */
	int64_t connect_end;           /* give up on handshakes before t0 */
	int64_t next_expire;           /* next check for stuck attempts */
	double cpu0, cpu1;             /* own CPU seconds at t0 and t_end */
	uint64_t hist_fine[LAT_FINE], hist_coarse[LAT_COARSE];
	uint64_t nlat;
	int64_t lat_max;
} g;

/*
 * Every oneM2M CoAP option is critical (odd), and RFC 7252 5.4.1 has a
 * client reject a response carrying a critical option it does not know.
 * plazad's answers carry three (oneM2M-RVI 271, -RQI 283, -RSC 307), but
 * libcoap lets a context know at most two options above 255
 * (COAP_OPT_FILTER_LONG is 2, coap_register_option fails silently beyond),
 * so a stock libcoap client drops every such answer.  libcoap asks this
 * exported function through its PLT, so the definition here takes its
 * place: the library's own logic (coap_option_filter_op with FILTER_GET),
 * plus "the numbers oneM2M defines, 256..335, are known" for the one filter
 * that holds OPT_MARK, the context's known options (setup registers it).
 * Linked with -rdynamic so that the symbol is exported.
 */
static int filter_has(const coap_opt_filter_t *f, coap_option_num_t n)
{
	if (n > 255) {
		for (int i = 0; i < COAP_OPT_FILTER_LONG; i++)
			if ((f->mask & (1u << i)) && f->long_opts[i] == n)
				return 1;
		return 0;
	}
	for (int i = 0; i < COAP_OPT_FILTER_SHORT; i++)
		if ((f->mask & (1u << (i + COAP_OPT_FILTER_LONG))) &&
		    f->short_opts[i] == (n & 0xff))
			return 1;
	return 0;
}

int coap_option_filter_get(coap_opt_filter_t *filter, coap_option_num_t n);

int coap_option_filter_get(coap_opt_filter_t *filter, coap_option_num_t n)
{
	if (filter_has(filter, n))
		return 1;
	return n >= 256 && n <= 335 && filter_has(filter, OPT_MARK);
}

/*
 * libcoap 4.3.1 re-arms its timerfd for every confirmable message it sends
 * (coap_wait_ack passes the node's time *relative to the previous queue
 * node*, nearly 0, to coap_update_epoll_timer), so each request cost a
 * timerfd_settime system call and a spurious wake-up: over a fifth of this
 * program's CPU.  libcoap is the only caller in this process; the
 * definition here (exported, -rdynamic) makes the calls no-ops, and the
 * loop instead runs libcoap's timers (retransmissions, DTLS handshake
 * timeouts) every TICK_MS by calling coap_io_do_epoll even when idle.
 */
int timerfd_settime(int fd, int flags, const struct itimerspec *new_value,
		    struct itimerspec *old_value)
{
	(void)fd;
	(void)flags;
	(void)new_value;
	if (old_value)
		memset(old_value, 0, sizeof(*old_value));
	return 0;
}

/*
 * libcoap's coap_prng (message ids, retransmission jitter) makes one
 * getrandom() system call per confirmable message; nothing secret depends
 * on it here (DTLS takes its randomness from OpenSSL), so a xorshift does.
 */
static int cheap_prng(void *out, size_t len)
{
	static uint64_t x = 0x9e3779b97f4a7c15ULL;
	uint8_t *b = out;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		b[i] = (uint8_t)(x >> 32);
	}
	return 1;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double cpu_secs(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void record(int64_t ns)
{
	int64_t us = ns / 1000;

	g.nlat++;
	if (ns > g.lat_max)
		g.lat_max = ns;
	if (us < LAT_FINE)
		g.hist_fine[us]++;
	else if (us / 1000 < LAT_FINE / 1000 + LAT_COARSE)
		g.hist_coarse[us / 1000 - LAT_FINE / 1000]++;
}

/* The p-quantile of the recorded latencies, in ms. */
static double percentile(double p)
{
	uint64_t want, seen = 0;

	if (!g.nlat)
		return 0;
	want = (uint64_t)(p * (double)g.nlat);
	if (want >= g.nlat)
		want = g.nlat - 1;
	for (int i = 0; i < LAT_FINE; i++) {
		seen += g.hist_fine[i];
		if (seen > want)
			return i / 1000.0;
	}
	for (int i = 0; i < LAT_COARSE; i++) {
		seen += g.hist_coarse[i];
		if (seen > want)
			return LAT_FINE / 1000.0 + i;
	}
	return (double)g.lat_max / 1e6;
}

/*
 * The SenML CBOR pack [{0: "temp", 1: "Cel", 2: v}] (n, u, v), with v a
 * float64 that changes with n.  b must hold 26 bytes; returns the length.
 */
static size_t senml(uint8_t *b, uint64_t n)
{
	double v = 15.0 + (double)(n % 100000) / 1000.0;
	uint64_t bits;
	size_t i = 0;

	b[i++] = 0x81;                      /* array(1) */
	b[i++] = 0xa3;                      /* map(3) */
	b[i++] = 0x00;                      /* n */
	b[i++] = 0x64;                      /* text(4) */
	memcpy(b + i, "temp", 4);
	i += 4;
	b[i++] = 0x01;                      /* u */
	b[i++] = 0x63;                      /* text(3) */
	memcpy(b + i, "Cel", 3);
	i += 3;
	b[i++] = 0x02;                      /* v */
	b[i++] = 0xfb;                      /* float64, big-endian */
	memcpy(&bits, &v, sizeof(bits));
	for (int k = 7; k >= 0; k--)
		b[i++] = (uint8_t)(bits >> (8 * k));
	return i;
}

/* Copy s into out, replacing "%n" with n; returns the length. */
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

/* Put s on the loop's service list (once). */
static void enqueue(struct sess *s)
{
	if (s->queued)
		return;
	s->queued = true;
	g.queue[g.nqueue++] = s;
}

static void fail(struct sess *s)
{
	if (s->st == S_FAILED || s->st == S_CLOSED ||
	    (s->st == S_DONE && opt.mode == MODE_HANDSHAKE))
		return;  /* (a server's close_notify after the answer is fine) */
	s->st = S_FAILED;
	g.failed++;
	enqueue(s);
}

/* Free the slot a token names; returns the slot or NULL (stray). */
static struct slot *take_slot(struct sess *s, coap_bin_const_t tok)
{
	unsigned i;
	uint16_t gen;

	if (tok.length != 4)
		return NULL;
	i = (unsigned)tok.s[0] << 8 | tok.s[1];
	gen = (uint16_t)(tok.s[2] << 8 | tok.s[3]);
	if (i >= opt.window || !s->slots[i].sent || s->slots[i].gen != gen)
		return NULL;
	s->busy--;
	g.outstanding--;
	return &s->slots[i];
}

static void count_rsc(const coap_pdu_t *p)
{
	coap_opt_iterator_t it;
	coap_opt_t *o = coap_check_option(p, OPT_RSC, &it);
	unsigned v;

	if (!o)
		return;
	v = coap_decode_var_bytes(coap_opt_value(o), coap_opt_length(o));
	for (int i = 0; i < MAX_RSC; i++) {
		if (g.rsc[i].n == 0 || g.rsc[i].rsc == v) {
			g.rsc[i].rsc = v;
			g.rsc[i].n++;
			return;
		}
	}
}

static coap_response_t on_response(coap_session_t *cs,
				   const coap_pdu_t *sent,
				   const coap_pdu_t *rcvd, const coap_mid_t mid)
{
	struct sess *s = coap_session_get_app_data(cs);
	struct slot *sl = s ? take_slot(s, coap_pdu_get_token(rcvd)) : NULL;
	int64_t t = now_ns(), lat;

	(void)sent;
	(void)mid;
	if (!sl) {
		g.stray++;
		return COAP_RESPONSE_OK;
	}
	lat = t - sl->sent;
	sl->sent = 0;
	g.answered++;
	if (g.phase == P_RUN)
		g.in_window++;
	if (lat >= (int64_t)opt.ack_ms * 1000000)
		g.late++;
	g.codes[coap_pdu_get_code(rcvd)]++;
	count_rsc(rcvd);
	switch (opt.mode) {
	case MODE_LOAD:
		record(lat);
		break;
	case MODE_HANDSHAKE:
		record(t - s->opened);
		if (g.phase == P_RUN)
			g.hs_ok++;
		s->st = S_DONE;
		break;
	case MODE_IDLE:
		record(t - s->opened);
		g.established++;
		s->st = S_DONE;
		break;
	}
	enqueue(s);
	return COAP_RESPONSE_OK;
}

static void on_nack(coap_session_t *cs, const coap_pdu_t *sent,
		    const coap_nack_reason_t reason, const coap_mid_t mid)
{
	struct sess *s = coap_session_get_app_data(cs);
	struct slot *sl;

	(void)mid;
	if (!s)
		return;  /* a session being closed by the loop */
	switch (reason) {
	case COAP_NACK_TOO_MANY_RETRIES: g.nack_timeout++; break;
	case COAP_NACK_RST: g.nack_rst++; break;
	case COAP_NACK_TLS_FAILED: g.nack_tls++; break;
	default: g.nack_other++; break;
	}
	sl = sent ? take_slot(s, coap_pdu_get_token(sent)) : NULL;
	if (sl)
		sl->sent = 0;
	/* a timeout or RST costs one request; anything else (ICMP
	 * unreachable, DTLS failure) ends the session rather than spin */
	if (opt.mode == MODE_LOAD && (reason == COAP_NACK_TOO_MANY_RETRIES ||
				      reason == COAP_NACK_RST))
		enqueue(s);
	else
		fail(s);
}

static int on_event(coap_session_t *cs, const coap_event_t ev)
{
	struct sess *s = coap_session_get_app_data(cs);

	if (!s)
		return 0;
	switch (ev) {
	case COAP_EVENT_DTLS_CONNECTED:
		if (s->st == S_CONNECTING) {
			s->st = S_READY;
			g.connected++;
			enqueue(s);
		}
		break;
	case COAP_EVENT_DTLS_CLOSED:
	case COAP_EVENT_DTLS_ERROR:
	case COAP_EVENT_SESSION_CLOSED:
	case COAP_EVENT_SESSION_FAILED:
		fail(s);
		break;
	default:
		break;
	}
	return 0;
}

/* Hand one confirmable request to libcoap on s. */
static void send_one(struct sess *s)
{
	uint8_t tok[4], buf[8], body[1024];
	char rqi[128];
	struct slot *sl = NULL;
	unsigned i = s->next;
	size_t blen = 0;
	coap_pdu_t *p;

	for (unsigned k = 0; k < opt.window; k++, i = (i + 1) % opt.window) {
		if (!s->slots[i].sent) {
			sl = &s->slots[i];
			break;
		}
	}
	if (!sl)
		return;
	s->next = (i + 1) % opt.window;
	p = coap_pdu_init(COAP_MESSAGE_CON, opt.code,
			  coap_new_message_id(s->cs),
			  coap_session_max_pdu_size(s->cs));
	if (!p) {
		g.send_err++;
		return;
	}
	sl->gen++;
	tok[0] = (uint8_t)(i >> 8);
	tok[1] = (uint8_t)i;
	tok[2] = (uint8_t)(sl->gen >> 8);
	tok[3] = (uint8_t)sl->gen;
	coap_add_token(p, sizeof(tok), tok);
	for (size_t k = 0; k < opt.nsegs; k++)
		coap_add_option(p, COAP_OPTION_URI_PATH, strlen(opt.segs[k]),
				(const uint8_t *)opt.segs[k]);
	if (strcmp(opt.body, "none") != 0) {
		if (strcmp(opt.body, "senml") == 0)
			blen = senml(body, g.seq);
		else
			blen = expand((char *)body, sizeof(body), opt.body,
				      g.seq);
	}
	if (blen && opt.cf >= 0)
		coap_add_option(p, COAP_OPTION_CONTENT_FORMAT,
				coap_encode_var_safe(buf, sizeof(buf),
						     (unsigned)opt.cf), buf);
	if (opt.ty >= 0)
		coap_add_option(p, OPT_TY, coap_encode_var_safe(buf,
				sizeof(buf), (unsigned)opt.ty), buf);
	if (opt.rvi)
		coap_add_option(p, OPT_RVI, strlen(opt.rvi),
				(const uint8_t *)opt.rvi);
	if (opt.fr)
		coap_add_option(p, OPT_FR, strlen(opt.fr),
				(const uint8_t *)opt.fr);
	if (opt.rqi) {
		int n = snprintf(rqi, sizeof(rqi), "%s%llu", opt.rqi,
				 (unsigned long long)g.seq);

		if (n >= (int)sizeof(rqi))
			n = (int)sizeof(rqi) - 1;
		coap_add_option(p, OPT_RQI, (size_t)n, (const uint8_t *)rqi);
	}
	if (blen)
		coap_add_data(p, blen, body);
	g.seq++;
	sl->sent = now_ns();
	s->busy++;
	g.outstanding++;
	g.sent++;
	if (coap_send(s->cs, p) == COAP_INVALID_MID) {  /* p is freed */
		sl->sent = 0;
		s->busy--;
		g.outstanding--;
		g.sent--;
		g.send_err++;
	}
}

static void open_sess(struct sess *s)
{
	coap_fixed_point_t ack = { (uint16_t)(opt.ack_ms / 1000),
				   (uint16_t)(opt.ack_ms % 1000) };
	coap_fixed_point_t one = { 1, 0 };

	if (opt.dtls) {
		char id[256];
		coap_dtls_cpsk_t c;

		memset(&c, 0, sizeof(c));
		c.version = COAP_DTLS_CPSK_SETUP_VERSION;
		c.psk_info.identity.s = (const uint8_t *)id;
		c.psk_info.identity.length = expand(id, sizeof(id),
						    opt.identity, s->idx);
		c.psk_info.key.s = opt.key;
		c.psk_info.key.length = opt.keylen;
		s->cs = coap_new_client_session_psk2(g.ctx, NULL, &opt.dst,
						     COAP_PROTO_DTLS, &c);
	} else {
		s->cs = coap_new_client_session(g.ctx, NULL, &opt.dst,
						COAP_PROTO_UDP);
	}
	if (!s->cs) {
		g.open_failed++;
		s->st = S_CLOSED;
		return;
	}
	coap_session_set_app_data(s->cs, s);
	coap_session_set_nstart(s->cs, (uint16_t)opt.window);
	coap_session_set_ack_timeout(s->cs, ack);
	coap_session_set_ack_random_factor(s->cs, one);
	s->opened = now_ns();
	s->asked = false;
	s->busy = 0;
	if (opt.mode != MODE_LOAD) {
		s->inflight = true;
		g.attempts++;
	}
	s->st = opt.dtls ? S_CONNECTING : S_READY;
	if (!opt.dtls) {
		g.connected++;
		enqueue(s);
	}
}

static void end_attempt(struct sess *s)
{
	if (s->inflight) {
		s->inflight = false;
		g.attempts--;
	}
}

/* Release s's libcoap session (sends close_notify over DTLS). */
static void close_sess(struct sess *s)
{
	coap_session_t *cs = s->cs;

	if (!cs)
		return;
	for (unsigned i = 0; i < opt.window; i++)
		s->slots[i].sent = 0;
	g.outstanding -= s->busy;
	end_attempt(s);
	s->busy = 0;
	s->cs = NULL;
	s->st = S_CLOSED;
	coap_session_set_app_data(cs, NULL);
	coap_session_release(cs);
}

/* Do what s needs now: send, close, reopen. */
static void service(struct sess *s)
{
	s->queued = false;
	switch (s->st) {
	case S_READY:
		if (opt.mode == MODE_LOAD) {
			while (g.phase == P_RUN && s->busy < opt.window &&
			       (!opt.max || g.sent < opt.max))
				send_one(s);
		} else if (!s->asked) {
			s->asked = true;
			send_one(s);
		}
		break;
	case S_DONE:
		end_attempt(s);
		if (opt.mode == MODE_IDLE)
			break;  /* held */
		close_sess(s);
		if (g.phase == P_RUN && (!opt.max || g.hs_ok < opt.max))
			open_sess(s);
		break;
	case S_FAILED:
		close_sess(s);
		if (opt.mode == MODE_HANDSHAKE && g.phase == P_RUN)
			open_sess(s);
		break;
	default:
		break;
	}
}

static void service_all(void)
{
	/* service() may enqueue again (a reopened plain session): loop */
	while (g.nqueue) {
		struct sess *s = g.queue[--g.nqueue];

		service(s);
	}
}

/* Handshake and idle modes: give up on attempts older than -T. */
static void expire(int64_t now)
{
	for (unsigned i = 0; i < opt.sessions; i++) {
		struct sess *s = &g.ss[i];

		if ((s->st == S_CONNECTING || (s->st == S_READY &&
		     opt.mode != MODE_LOAD)) &&
		    now - s->opened > (int64_t)opt.hs_ms * 1000000) {
			g.hs_timeout++;
			fail(s);
		}
	}
}

/*
 * Close every session, CLOSE_BATCH at a time with a millisecond between
 * batches: a thousand DTLS close_notify alerts at once overflow the
 * server's socket buffer, and a server session whose alert was lost stays
 * up for its idle timeout; a later handshake from a client socket that
 * happens to get the same port then stalls (libcoap 4.3.1 does not start
 * a new association on an established one).  Seen as handshake timeouts in
 * a handshake run that followed an idle run.
 */
#define CLOSE_BATCH 32

static void close_all(int epfd, struct epoll_event *evs)
{
	unsigned n = 0;

	for (unsigned i = 0; i < opt.sessions; i++) {
		if (!g.ss[i].cs)
			continue;
		close_sess(&g.ss[i]);
		if (++n % CLOSE_BATCH == 0) {
			int k = epoll_wait(epfd, evs, MAX_EVENTS, 1);

			coap_io_do_epoll(g.ctx, evs, k > 0 ? (size_t)k : 0);
		}
	}
	coap_io_do_epoll(g.ctx, evs, 0);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: coapload -u coap[s]://HOST:PORT/PATH [-M load|handshake|"
		"idle]\n"
		"\t[-c sessions] [-w window] [-d secs] [-n max] [-D drain_secs]\n"
		"\t[-m GET|POST|PUT|DELETE] [-t content_format|-1] "
		"[-b senml|none|TEXT]\n"
		"\t[-F originator] [-R rqi_prefix] [-V rvi] [-y ty]\n"
		"\t[-i psk_identity (%%n = session)] [-k psk_key_hex]\n"
		"\t[-a ack_timeout_ms] [-T handshake_timeout_ms] "
		"[-v libcoap_log_level]\n");
	exit(2);
}

static unsigned long num(const char *s, unsigned long lo, unsigned long hi)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || v < lo || v > hi)
		usage();
	return v;
}

static double secs_arg(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (*end || end == s || v <= 0 || v > 3600)
		usage();
	return v;
}

static void parse_key(const char *hex)
{
	size_t n = strlen(hex);

	if (n == 0 || n % 2 || n / 2 > sizeof(opt.key))
		usage();
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			usage();
		opt.key[i] = (uint8_t)v;
	}
	opt.keylen = n / 2;
}

static void parse_uri(const char *u)
{
	coap_uri_t uri;
	char host[128], port[8];
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_DGRAM }, *ai;
	char *p;

	if (coap_split_uri((const uint8_t *)u, strlen(u), &uri) < 0 ||
	    uri.host.length >= sizeof(host) ||
	    uri.path.length >= sizeof(opt.path))
		usage();
	if (uri.scheme == COAP_URI_SCHEME_COAPS)
		opt.dtls = true;
	else if (uri.scheme != COAP_URI_SCHEME_COAP)
		usage();
	memcpy(host, uri.host.s, uri.host.length);
	host[uri.host.length] = '\0';
	snprintf(port, sizeof(port), "%u", (unsigned)uri.port);
	if (getaddrinfo(host, port, &hints, &ai) != 0) {
		fprintf(stderr, "coapload: cannot resolve %s\n", host);
		exit(2);
	}
	coap_address_init(&opt.dst);
	opt.dst.size = ai->ai_addrlen;
	memcpy(&opt.dst.addr, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	memcpy(opt.path, uri.path.s, uri.path.length);
	opt.path[uri.path.length] = '\0';
	for (p = strtok(opt.path, "/"); p && opt.nsegs < MAX_SEGS;
	     p = strtok(NULL, "/"))
		opt.segs[opt.nsegs++] = p;
}

static coap_pdu_code_t method(const char *m)
{
	if (!strcmp(m, "GET"))
		return COAP_REQUEST_CODE_GET;
	if (!strcmp(m, "POST"))
		return COAP_REQUEST_CODE_POST;
	if (!strcmp(m, "PUT"))
		return COAP_REQUEST_CODE_PUT;
	if (!strcmp(m, "DELETE"))
		return COAP_REQUEST_CODE_DELETE;
	usage();
	return 0;
}

static void parse_args(int argc, char **argv)
{
	int o;

	while ((o = getopt(argc, argv, "u:M:c:w:d:n:D:m:t:b:F:R:V:y:i:k:a:T:v:"))
	       != -1) {
		switch (o) {
		case 'u': opt.uri = optarg; break;
		case 'M':
			if (!strcmp(optarg, "load"))
				opt.mode = MODE_LOAD;
			else if (!strcmp(optarg, "handshake"))
				opt.mode = MODE_HANDSHAKE;
			else if (!strcmp(optarg, "idle"))
				opt.mode = MODE_IDLE;
			else
				usage();
			break;
		case 'c': opt.sessions = (unsigned)num(optarg, 1,
						       MAX_SESSIONS); break;
		case 'w': opt.window = (unsigned)num(optarg, 1, MAX_WINDOW);
			break;
		case 'd': opt.secs = secs_arg(optarg); break;
		case 'n': opt.max = num(optarg, 0, ~0UL); break;
		case 'D': opt.drain = secs_arg(optarg); break;
		case 'm': opt.code = method(optarg); break;
		case 't':
			opt.cf = strcmp(optarg, "-1") ?
				 (int)num(optarg, 0, 65535) : -1;
			break;
		case 'b': opt.body = optarg; break;
		case 'F': opt.fr = optarg; break;
		case 'R': opt.rqi = optarg; break;
		case 'V': opt.rvi = optarg; break;
		case 'y': opt.ty = (int)num(optarg, 0, 65535); break;
		case 'i': opt.identity = optarg; break;
		case 'k': parse_key(optarg); break;
		case 'a': opt.ack_ms = (unsigned)num(optarg, 100, 60000); break;
		case 'T': opt.hs_ms = (unsigned)num(optarg, 100, 600000); break;
		case 'v': opt.verbose = (int)num(optarg, 0, 9); break;
		default: usage();
		}
	}
	if (!opt.uri || optind != argc)
		usage();
	parse_uri(opt.uri);
	if (opt.dtls && !opt.keylen) {
		fprintf(stderr, "coapload: coaps:// needs -k\n");
		exit(2);
	}
	if (opt.mode != MODE_LOAD && !opt.dtls) {
		fprintf(stderr, "coapload: handshake and idle modes need "
			"coaps://\n");
		exit(2);
	}
}

/* Sessions need a socket each: raise the descriptor limit to its ceiling. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int setup(void)
{
	coap_startup();
	coap_set_prng(cheap_prng);
	coap_set_log_level(opt.verbose);
	coap_dtls_set_log_level(opt.verbose);
	if (opt.dtls && !coap_dtls_is_supported()) {
		fprintf(stderr, "coapload: libcoap without DTLS\n");
		return -1;
	}
	g.ctx = coap_new_context(NULL);
	if (!g.ctx)
		return -1;
	/* answers carry critical oneM2M options: see coap_option_filter_get */
	coap_register_option(g.ctx, OPT_MARK);
	coap_register_response_handler(g.ctx, on_response);
	coap_register_nack_handler(g.ctx, on_nack);
	coap_register_event_handler(g.ctx, on_event);
	g.ss = calloc(opt.sessions, sizeof(*g.ss));
	g.queue = calloc(opt.sessions, sizeof(*g.queue));
	if (!g.ss || !g.queue)
		return -1;
	for (unsigned i = 0; i < opt.sessions; i++) {
		g.ss[i].idx = i;
		g.ss[i].slots = calloc(opt.window, sizeof(struct slot));
		if (!g.ss[i].slots)
			return -1;
	}
	return 0;
}

static void print_codes(void)
{
	printf("codes");
	for (int c = 0; c < 256; c++)
		if (g.codes[c])
			printf(" %d.%02d:%llu", c >> 5, c & 31,
			       (unsigned long long)g.codes[c]);
	printf("\nrsc");
	for (int i = 0; i < MAX_RSC && g.rsc[i].n; i++)
		printf(" %u:%llu", g.rsc[i].rsc,
		       (unsigned long long)g.rsc[i].n);
	printf("\n");
}

static void report(double secs, double cpu)
{
	const char *m = opt.mode == MODE_LOAD ? "load" :
			opt.mode == MODE_HANDSHAKE ? "handshake" : "idle";

	printf("mode %s proto %s sessions %u window %u secs %.2f\n", m,
	       opt.dtls ? "coaps" : "coap", opt.sessions, opt.window, secs);
	printf("sent %llu answered %llu unanswered %llu stray %llu\n",
	       (unsigned long long)g.sent, (unsigned long long)g.answered,
	       (unsigned long long)g.outstanding,
	       (unsigned long long)g.stray);
	if (opt.mode == MODE_LOAD)
		printf("throughput %.0f/s\n", (double)g.in_window / secs);
	else if (opt.mode == MODE_HANDSHAKE)
		printf("throughput %.0f/s handshakes %llu\n",
		       (double)g.hs_ok / secs, (unsigned long long)g.hs_ok);
	print_codes();
	printf("retransmitted %llu timeouts %llu rst %llu tls_failed %llu "
	       "other_nacks %llu send_errors %llu\n",
	       (unsigned long long)g.late, (unsigned long long)g.nack_timeout,
	       (unsigned long long)g.nack_rst, (unsigned long long)g.nack_tls,
	       (unsigned long long)g.nack_other,
	       (unsigned long long)g.send_err);
	printf("sessions connected %llu failed %llu open_failed %llu "
	       "handshake_timeouts %llu\n",
	       (unsigned long long)g.connected, (unsigned long long)g.failed,
	       (unsigned long long)g.open_failed,
	       (unsigned long long)g.hs_timeout);
	printf("latency_ms p50 %.3f p90 %.3f p99 %.3f p99.9 %.3f max %.3f%s\n",
	       percentile(0.50), percentile(0.90), percentile(0.99),
	       percentile(0.999), (double)g.lat_max / 1e6,
	       opt.mode == MODE_LOAD ? "" : " (session open to answer)");
	printf("cpu %.2f\n", cpu);
}

/* Start the measured window (or, in idle mode, the hold). */
static void start_clock(int64_t now)
{
	g.t0 = now;
	g.deadline = now + (int64_t)(opt.secs * 1e9);
	g.cpu0 = cpu_secs();
}

/*
 * Move between phases as time and answers allow; returns false when the
 * run is over.  Idle mode also opens its sessions here, -w at a time.
 */
static bool advance(int64_t now)
{
	if (g.phase == P_CONNECT && opt.mode == MODE_LOAD &&
	    (g.connected + g.failed >= opt.sessions || now > g.connect_end)) {
		g.phase = P_RUN;
		start_clock(now);
		for (unsigned i = 0; i < opt.sessions; i++)
			if (g.ss[i].st == S_READY)
				enqueue(&g.ss[i]);
			else
				fail(&g.ss[i]);
	}
	if (g.phase == P_CONNECT && opt.mode == MODE_IDLE) {
		while (g.next_open < opt.sessions && g.attempts < opt.window)
			open_sess(&g.ss[g.next_open++]);
		if ((g.next_open == opt.sessions && !g.attempts) ||
		    now > g.connect_end) {
			printf("idle_ready %llu failed %llu\n",
			       (unsigned long long)g.established,
			       (unsigned long long)g.failed);
			fflush(stdout);
			g.phase = P_HOLD;
			start_clock(now);
		}
	}
	if (g.phase == P_HOLD && now >= g.deadline) {
		g.t_end = now;
		return false;
	}
	if (g.phase == P_RUN && (now >= g.deadline ||
	    (opt.mode == MODE_LOAD && g.failed >= opt.sessions) ||
	    (opt.max && (opt.mode == MODE_LOAD ? g.sent : g.hs_ok) >=
	     opt.max))) {
		g.phase = P_DRAIN;
		g.t_end = now;
		g.cpu1 = cpu_secs();
		g.drain_end = now + (int64_t)(opt.drain * 1e9);
	}
	if (g.phase == P_DRAIN && ((opt.mode == MODE_LOAD ? g.outstanding :
				    g.attempts) == 0 || now >= g.drain_end))
		return false;
	if (opt.mode != MODE_LOAD && now >= g.next_expire) {
		expire(now);
		g.next_expire = now + 50000000;
	}
	return true;
}

int main(int argc, char **argv)
{
	static struct epoll_event evs[MAX_EVENTS];
	int64_t now;
	double secs;
	int epfd;

	parse_args(argc, argv);
	raise_nofile();
	if (setup() < 0) {
		fprintf(stderr, "coapload: setup failed\n");
		return 1;
	}
	epfd = coap_context_get_coap_fd(g.ctx);
	if (epfd < 0) {
		fprintf(stderr, "coapload: libcoap built without epoll\n");
		return 1;
	}
	now = now_ns();
	g.connect_end = now + (int64_t)(opt.hs_ms + 5000) * 1000000;
	g.phase = P_CONNECT;
	if (opt.mode == MODE_IDLE)
		g.connect_end = now + (int64_t)(opt.sessions / 100 + 60) *
				      1000000000;
	else
		for (unsigned i = 0; i < opt.sessions; i++)
			open_sess(&g.ss[i]);
	if (opt.mode == MODE_HANDSHAKE || (opt.mode == MODE_LOAD && !opt.dtls)) {
		g.phase = P_RUN;
		start_clock(now);
	}
	while (advance(now_ns())) {
		int n;

		service_all();
		n = epoll_wait(epfd, evs, MAX_EVENTS, TICK_MS);
		/* also with n == 0: runs libcoap's timers (retransmissions) */
		coap_io_do_epoll(g.ctx, evs, n > 0 ? (size_t)n : 0);
	}
	if (opt.mode == MODE_IDLE)
		printf("idle_done\n");
	secs = (double)(g.t_end - g.t0) / 1e9;
	report(secs, secs > 0 && g.cpu1 > 0 ? (g.cpu1 - g.cpu0) / secs : 0);
	close_all(epfd, evs);
	for (unsigned i = 0; i < opt.sessions; i++)
		free(g.ss[i].slots);
	coap_free_context(g.ctx);
	coap_cleanup();
	free(g.ss);
	free(g.queue);
	return 0;
}
