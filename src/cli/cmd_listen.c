/*
 * cmd_listen.c - plaza listen: a notification receiver for trying
 * subscriptions out.
 *
 *   plaza listen [ADDR:]PORT [--answer RSC] [--count N] [--json]
 *
 * It listens on ADDR:PORT (127.0.0.1 unless ADDR is given; PORT 0 picks a
 * free port), announces "listening on http://ADDR:PORT/", and answers every
 * HTTP/1.1 POST that carries a oneM2M notification (m2m:sgn, or m2m:agn
 * holding several) with X-M2M-RSC 2000 (or --answer's code) and X-M2M-RI
 * echoing the request's, printing one line per notification:
 *
 *   verification request for SUR from CR
 *   SUR net=N: REP                    (REP: the representation, compact)
 *   subscription SUR ended            (the deletion notice)
 *
 * With --json each received body is printed instead, as one JSON line, and
 * the announcement goes to stderr so that stdout is JSON only.  --count N
 * exits 0 once N notifications were printed (verification requests are
 * answered but not counted), after their answers went out.  SIGINT and
 * SIGTERM end it with status 0.
 *
 * It is a small HTTP/1.1 server on plain POSIX sockets and poll(2), one
 * thread: this file accepts connections, runs the loop and handles
 * notifications; listen_http.c frames, parses and answers the requests
 * (persistent connections, pipelining, Content-Length bodies of at most
 * LISTEN_MAX_BODY, Expect: 100-continue).  A malformed request gets a 4xx
 * answer and one line on stderr ("plaza: listen: PEER: why (answered
 * 400)"), and the receiver goes on.  Everything printed that came from the
 * network is escaped for the terminal, as elsewhere in plaza.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "plaza/pz_err.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_req.h"
#include "plaza/pz_time.h"
#include "cli_int.h"

#define LISTEN_BACKLOG 64                    /* listen(2) queue */
#define LISTEN_DRAIN_MS 2000                 /* --count reached: time left
						to send the last answers */
#define LISTEN_TICK_MS 500                   /* longest poll(2) wait, so a
						signal between the check and
						poll is seen soon */

static volatile sig_atomic_t listen_stop;  /* SIGINT or SIGTERM seen */

static void listen_on_signal(int sig)
{
	(void)sig;
	listen_stop = 1;
}

/* The HTTP status for an rsc: the spec sheet's, else by its class. */
static int rsc_status(int rsc)
{
	if (strcmp(pz_rsc_name(rsc), "UNKNOWN"))
		return pz_rsc_http(rsc);
	return rsc < 2000 ? 202 : rsc < 4000 ? 200 : rsc < 5000 ? 400 : 500;
}

/* --- notifications ------------------------------------------------------ */

/* The notifications body carries, as a new array of m2m:sgn objects (the
 * caller decrefs), or NULL when it carries none: {"m2m:sgn": {...}} or
 * {"m2m:agn": {"m2m:sgn": [...]}} (also with one object, or the list
 * directly under m2m:agn). */
static json_t *note_list(const json_t *doc)
{
	json_t *sgn = json_object_get(doc, "m2m:sgn");
	json_t *agn = json_object_get(doc, "m2m:agn"), *items, *v;
	size_t i;

	if (json_is_object(sgn))
		return json_pack("[O]", sgn);
	items = json_is_object(agn) ? json_object_get(agn, "m2m:sgn") : agn;
	if (json_is_object(items))
		return json_pack("[O]", items);
	if (!json_is_array(items))
		return NULL;
	json_array_foreach(items, i, v)
		if (!json_is_object(v))
			return NULL;
	return json_incref(items);
}

/* The string member k of o, escaped on stdout; "-" when absent. */
static void put_member(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	cli__put_safe(s ? s : "-", 0);
}

/* One notification as one line (see the top of the file). */
static void sgn_print(const json_t *sgn)
{
	const json_t *nev = json_object_get(sgn, "nev");
	const json_t *net = json_object_get(nev, "net");
	const json_t *rep = json_object_get(nev, "rep");
	char *text;

	if (json_is_true(json_object_get(sgn, "vrq"))) {
		fputs("verification request for ", stdout);
		put_member(sgn, "sur");
		fputs(" from ", stdout);
		put_member(sgn, "cr");
	} else if (json_is_true(json_object_get(sgn, "sud"))) {
		fputs("subscription ", stdout);
		put_member(sgn, "sur");
		fputs(" ended", stdout);
	} else {
		put_member(sgn, "sur");
		if (json_is_integer(net))
			printf(" net=%lld: ",
			       (long long)json_integer_value(net));
		else
			fputs(" net=-: ", stdout);
		text = rep ? json_dumps(rep, JSON_COMPACT | JSON_ENCODE_ANY |
					JSON_PRESERVE_ORDER) : NULL;
		cli__put_safe(text ? text : "-", 0);
		pz_free(text);
	}
	putchar('\n');
}

/* Print what doc carries (list: its notifications) and count them; once
 * --count is reached the receiver winds down. */
static void note_show(struct listener *l, const json_t *doc,
		      const json_t *list)
{
	const json_t *sgn;
	size_t i;

	if (l->c->json) {
		json_dumpf(doc, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		putchar('\n');
	}
	json_array_foreach(list, i, sgn) {
		if (!l->c->json)
			sgn_print(sgn);
		if (!json_is_true(json_object_get(sgn, "vrq")))
			l->seen++;
	}
	fflush(stdout);
	if (l->count && l->seen >= l->count && !l->done) {
		l->done = true;
		l->done_ms = pz_time_mono_ms();
	}
}

void cli__listen_request(struct listener *l, struct listen_conn *k,
			 const struct listen_head *h, const char *body,
			 size_t n)
{
	char why[300];
	json_error_t je;
	json_t *doc, *list;

	k->closing = k->closing || h->close;
	if (strcmp(h->method, "POST")) {
		cli__conn_refuse(k, 405, PZ_RSC_OPERATION_NOT_ALLOWED, false,
				 h->ri, "only POST carries notifications");
		return;
	}
	doc = n ? json_loadb(body, n, JSON_REJECT_DUPLICATES, &je) : NULL;
	list = doc ? note_list(doc) : NULL;
	if (list) {
		note_show(l, doc, list);
		if (cli__conn_answer(k, rsc_status(l->answer), l->answer,
				     h->ri, NULL) != PZ_OK)
			cli__conn_close(k);
		goto out;
	}
	if (!n)
		snprintf(why, sizeof(why), "empty body");
	else if (!doc)
		snprintf(why, sizeof(why), "malformed JSON body: %d:%d: %s",
			 je.line, je.column, je.text);
	else
		snprintf(why, sizeof(why), "not a notification (no m2m:sgn "
			 "or m2m:agn)");
	cli__conn_refuse(k, 400, 0, false, h->ri, why);
out:
	json_decref(list);
	json_decref(doc);
}

/* "ADDR:PORT" of a socket address ("[ADDR]:PORT" for IPv6). */
static void addr_text(const struct sockaddr *sa, socklen_t len, char *out,
		      size_t outlen)
{
	char host[NI_MAXHOST], serv[NI_MAXSERV];

	if (getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv),
			NI_NUMERICHOST | NI_NUMERICSERV)) {
		snprintf(out, outlen, "?");
		return;
	}
	snprintf(out, outlen, strchr(host, ':') ? "[%s]:%s" : "%s:%s", host,
		 serv);
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return PZ_EIO;
	return PZ_OK;
}

static struct listen_conn *conn_slot(struct listener *l)
{
	for (int i = 0; i < LISTEN_MAX_CONNS; i++)
		if (l->conns[i].fd < 0)
			return &l->conns[i];
	return NULL;
}

/* Accept what is waiting, while there are free slots. */
static void listen_accept(struct listener *l)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct listen_conn *k;
	int fd;

	while ((k = conn_slot(l)) != NULL) {
		len = sizeof(ss);
		fd = accept(l->fd, (struct sockaddr *)&ss, &len);
		if (fd < 0 && errno == EINTR)
			continue;
		if (fd < 0)
			return;  /* EAGAIN: none left; others: try later */
		if (set_nonblock(fd) != PZ_OK) {
			close(fd);
			continue;
		}
		cli__conn_open(k, fd);
		addr_text((struct sockaddr *)&ss, len, k->peer,
			  sizeof(k->peer));
	}
}

/* --- the loop ----------------------------------------------------------- */

/* The poll set: the listener (while slots are free and --count is not
 * reached), each connection for reading or, with answers pending, writing.
 * idx[i] is the connection of pfd[i], -1 for the listener. */
static nfds_t loop_fill(struct listener *l, struct pollfd *pfd, int *idx)
{
	nfds_t n = 0;

	if (!l->done && conn_slot(l)) {
		pfd[n] = (struct pollfd){ .fd = l->fd, .events = POLLIN };
		idx[n++] = -1;
	}
	for (int i = 0; i < LISTEN_MAX_CONNS; i++) {
		struct listen_conn *k = &l->conns[i];

		if (k->fd < 0)
			continue;
		pfd[n] = (struct pollfd){ .fd = k->fd,
			.events = k->sent < k->out.len ? POLLOUT : POLLIN };
		idx[n++] = i;
	}
	return n;
}

/* Close connections silent for LISTEN_IDLE_MS (lingering ones after
 * LISTEN_LINGER_MS); true while any connection still has answers to
 * send. */
static bool loop_sweep(struct listener *l)
{
	int64_t now = pz_time_mono_ms();
	bool pending = false;

	for (int i = 0; i < LISTEN_MAX_CONNS; i++) {
		struct listen_conn *k = &l->conns[i];

		if (k->fd >= 0 && now - k->last_ms >
		    (k->linger ? LISTEN_LINGER_MS : LISTEN_IDLE_MS))
			cli__conn_close(k);
		pending = pending || (k->fd >= 0 && k->sent < k->out.len);
	}
	return pending;
}

/* Serve until a signal, or --count is reached and the answers are out.
 * PZ_OK or PZ_EIO (poll failed; reported). */
static int listen_loop(struct listener *l)
{
	struct pollfd pfd[LISTEN_MAX_CONNS + 1];
	int idx[LISTEN_MAX_CONNS + 1];
	nfds_t n;
	int rc = PZ_OK;

	while (!listen_stop) {
		if (l->done && (!loop_sweep(l) || pz_time_mono_ms() -
				l->done_ms > LISTEN_DRAIN_MS))
			break;
		n = loop_fill(l, pfd, idx);
		if (poll(pfd, n, LISTEN_TICK_MS) < 0) {
			if (errno == EINTR)
				continue;
			rc = cli__say(PZ_EIO, "listen: poll: %s",
				      strerror(errno));
			break;
		}
		for (nfds_t i = 0; i < n; i++) {
			struct listen_conn *k = idx[i] < 0 ? NULL :
						&l->conns[idx[i]];

			if (!pfd[i].revents)
				continue;
			if (!k) {
				listen_accept(l);
				continue;
			}
			if (pfd[i].events & POLLIN)
				cli__conn_read(k);
			if (k->fd >= 0)
				cli__conn_work(l, k);
		}
		loop_sweep(l);
	}
	return rc;
}

/* --- setting up --------------------------------------------------------- */

/*
 * listen_split - "[ADDR:]PORT" into host (127.0.0.1 when ADDR is absent
 * or empty) and port; an IPv6 ADDR is written in brackets.  PZ_OK or
 * PZ_EINVAL (reported).
 */
static int listen_split(const char *arg, char *host, size_t hostlen,
			char *port, size_t portlen)
{
	const char *colon = strrchr(arg, ':'), *h = arg;
	size_t hn = colon ? (size_t)(colon - arg) : 0;
	long long n;

	if (hn >= 2 && arg[0] == '[' && arg[hn - 1] == ']') {
		h++;
		hn -= 2;
	} else if (hn && memchr(arg, ':', hn)) {
		return cli__usage_error("write an IPv6 address in brackets: "
					"[ADDR]:PORT, not '%s'", arg);
	}
	if (hn >= hostlen)
		return cli__usage_error("address too long: '%s'", arg);
	snprintf(host, hostlen, "%.*s", (int)hn, h);
	if (!hn)
		snprintf(host, hostlen, "127.0.0.1");
	if (cli__arg_int("PORT", colon ? colon + 1 : arg, 0, 65535, &n))
		return PZ_EINVAL;
	snprintf(port, portlen, "%lld", n);
	return PZ_OK;
}

/* Bind and listen on the first address host:port resolves to; *fd is the
 * non-blocking listening socket.  PZ_OK, PZ_EINVAL (cannot resolve) or
 * PZ_EIO (cannot bind), reported. */
static int listen_open(const char *arg, const char *host, const char *port,
		       int *fd)
{
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
				  .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL;
	int err, one = 1, saved = EADDRNOTAVAIL;

	err = getaddrinfo(host, port, &hints, &ai);
	if (err)
		return cli__usage_error("cannot listen on %s: %s", arg,
					gai_strerror(err));
	*fd = -1;
	for (struct addrinfo *a = ai; a && *fd < 0; a = a->ai_next) {
		*fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
		if (*fd < 0) {
			saved = errno;
			continue;
		}
		setsockopt(*fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(*fd, a->ai_addr, a->ai_addrlen) == 0 &&
		    listen(*fd, LISTEN_BACKLOG) == 0 &&
		    set_nonblock(*fd) == PZ_OK)
			break;
		saved = errno;
		close(*fd);
		*fd = -1;
	}
	freeaddrinfo(ai);
	if (*fd < 0)
		return cli__say(PZ_EIO, "cannot listen on %s: %s", arg,
				strerror(saved));
	return PZ_OK;
}

/* "listening on http://ADDR:PORT/", the port the one bound; on stderr
 * with --json (stdout carries JSON only). */
static int listen_announce(const struct listener *l)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char where[NI_MAXHOST + NI_MAXSERV + 4];
	FILE *f = l->c->json ? stderr : stdout;

	if (getsockname(l->fd, (struct sockaddr *)&ss, &len) < 0)
		return cli__say(PZ_EIO, "listen: getsockname: %s",
				strerror(errno));
	addr_text((struct sockaddr *)&ss, len, where, sizeof(where));
	fprintf(f, "listening on http://%s/\n", where);
	fflush(f);
	return PZ_OK;
}

/* SIGINT and SIGTERM end the loop (old: the handlers to put back). */
static void listen_signals(bool on, struct sigaction old[2])
{
	static const int sigs[2] = { SIGINT, SIGTERM };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = listen_on_signal;  /* no SA_RESTART: poll returns */
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < 2; i++) {
		if (on)
			sigaction(sigs[i], &sa, &old[i]);
		else
			sigaction(sigs[i], &old[i], NULL);
	}
}

static void listener_free(struct listener *l)
{
	if (!l)
		return;
	for (int i = 0; i < LISTEN_MAX_CONNS; i++)
		cli__conn_close(&l->conns[i]);
	if (l->fd >= 0)
		close(l->fd);
	pz_free(l);
}

/* listen [ADDR:]PORT [--answer RSC] [--count N] */
struct listen_args {
	const char *addr;
	long long answer;
	long long count;
};

enum { L_ANSWER = 1, L_COUNT };

static const struct copt listen_opts[] = {
	{ "--answer", true, L_ANSWER }, { "--count", true, L_COUNT },
	{ NULL, false, 0 },
};

static int listen_arg(void *ud, int id, const char *val)
{
	struct listen_args *a = ud;

	switch (id) {
	case 0:
		return cli__one_arg(&a->addr, 0, val);
	case L_ANSWER:
		return cli__arg_int("--answer", val, 1000, 6999, &a->answer);
	default:
		return cli__arg_int("--count", val, 1, 1000000000, &a->count);
	}
}

int cli__cmd_listen(struct cli *c)
{
	struct listen_args a = { NULL, PZ_RSC_OK, 0 };
	struct listener *l = NULL;
	struct sigaction old[2];
	char host[NI_MAXHOST], port[8];
	int rc;

	rc = cli__args(c, 1, listen_opts, listen_arg, &a);
	if (rc == PZ_OK && !a.addr)
		rc = cli__usage_error("listen needs [ADDR:]PORT");
	if (rc == PZ_OK)
		rc = listen_split(a.addr, host, sizeof(host), port,
				  sizeof(port));
	if (rc != PZ_OK)
		goto out;
	l = pz_calloc(1, sizeof(*l));
	if (!l) {
		rc = cli__say(PZ_ENOMEM, "out of memory");
		goto out;
	}
	l->fd = -1;
	l->c = c;
	l->answer = (int)a.answer;
	l->count = a.count;
	for (int i = 0; i < LISTEN_MAX_CONNS; i++)
		l->conns[i].fd = -1;
	rc = listen_open(a.addr, host, port, &l->fd);
	if (rc == PZ_OK)
		rc = listen_announce(l);
	if (rc != PZ_OK)
		goto out;
	listen_signals(true, old);
	rc = listen_loop(l);
	listen_signals(false, old);
out:
	listener_free(l);
	return rc;
}
