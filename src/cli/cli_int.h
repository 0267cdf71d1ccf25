/*
 * cli_int.h - what the files of plaza, the operator's command-line tool,
 * share: the run (struct cli), one request and its answer, the option
 * walker, and the cli__ functions each file offers the others.
 *
 *   main.c        option parsing, dispatch, usage, exit status
 *   http.c        requests to plazad over libcurl, the credential
 *   out.c         attribute lists, type names, terminal-safe output
 *   cmd_res.c     get, create, update, delete, discover
 *   cmd_ae.c      status, ae list/show/register/delete
 *   cmd_conf.c    init, config show
 *   cmd_psk.c     psk add/list/revoke (plazad's management interface)
 *   cmd_sub.c     subscriber add/list/remove (the BSF's subscribers)
 *   cmd_log.c     log head/get/prove/verify, id add/show/revoke/decommission
 *                 (the trust repository)
 *   cmd_listen.c  listen: a notification receiver
 *   listen_http.c listen's HTTP/1.1 requests and answers
 *
 * Everything runs on the main thread; nothing here is thread-safe.
 * Functions that return a pz_err report the error on stderr themselves
 * (once, prefixed "plaza: ") unless their comment says otherwise.
 */
#ifndef CLI_INT_H
#define CLI_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plaza/pz_buf.h"

#define CLI_MAX_BODY ((size_t)16 << 20)  /* largest answer accepted */
#define CLI_MAX_URL 8192                 /* longest request URL */
#define CLI_MAX_HDR 512                  /* longest header value kept */

/* The run: global settings, the HTTP handle, the command's arguments. */
struct cli {
	const char *url;          /* plazad base URL (argv or environment) */
	const char *via;          /* mqtt://host:port: oneM2M requests go
				     through that broker (src/cli/mqtt.c) */
	const char *origin;       /* X-M2M-Origin */
	const char *token;        /* credential; NULL until looked up */
	const char *data;         /* data directory holding admin.token */
	bool json;                /* --json: raw JSON on stdout */
	bool help, version;       /* --help / --version seen */
	bool token_done;          /* token looked up (maybe not found) */
	char token_buf[256];      /* token read from admin.token */
	void *curl;               /* reused CURL handle, owned by http.c;
				     NULL until needed */
	unsigned long rqn;        /* request counter for X-M2M-RI */
	int argc;                 /* command and its arguments ... */
	char **argv;              /* ... global options removed; owned array,
				     borrowed strings */
};

/* One request to plazad. */
struct call {
	const char *method;       /* GET, POST, PUT, DELETE */
	const char *path;         /* oneM2M address in any scope */
	const char *query;        /* encoded "k=v&k=v" or NULL */
	int ty;                   /* Create: resource type, else 0 */
	const json_t *pc;         /* content or NULL; borrowed */
	const char *origin;       /* overrides cli->origin when set */
	bool anonymous;           /* send no credential (registration) */
	bool mgmt;                /* path is one of plazad's management
				     paths (/.plaza/...), sent as it is:
				     its segments encoded by the caller
				     (cli__seg_add) */
};

/* plazad's answer. */
struct reply {
	long http;                /* HTTP status */
	int rsc;                  /* X-M2M-RSC, 0 when absent */
	char token[CLI_MAX_HDR];  /* X-Plaza-Token (AE registration) */
	char location[CLI_MAX_HDR];  /* Content-Location */
	bool too_big;             /* the body passed CLI_MAX_BODY */
	struct pz_buf body;       /* raw body, ceiling CLI_MAX_BODY */
	json_t *doc;              /* parsed body, owned; NULL if empty */
};

/* A resource type plaza knows by name. */
struct ty_row {
	int ty;                   /* the number (ty) */
	const char *root;         /* JSON root, "m2m:cnt" */
	const char *name;         /* short name, "cnt" */
	const char *long_name;    /* long name, "container" */
};

/* A command's own option: its name, whether it takes a value, its id. */
struct copt {
	const char *name;
	bool arg;
	int id;
};

/* Called per option (id > 0, val "" for a flag) and per positional
 * argument (id 0); val is never NULL.  Returns PZ_OK or an error
 * (reported). */
typedef int (*copt_fn)(void *ud, int id, const char *val);

/* --- main.c: messages and arguments ------------------------------------- */

/* cli__say - print "plaza: message" on stderr and return rc, for
 * `return cli__say(...)`. */
int cli__say(int rc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* cli__usage_error - a usage error: the reason, a pointer to --help;
 * returns PZ_EINVAL. */
int cli__usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/*
 * cli__args - walk a command's arguments argv[from..argc) against opts
 * (NULL-name terminated, or NULL for none), handing each to fn.  Options
 * start with "--"; anything else ("-", the CSEBase address "-/ae1") is a
 * positional argument, and so is everything after "--".  PZ_OK, PZ_EINVAL
 * (reported) or fn's error.
 */
int cli__args(const struct cli *c, int from, const struct copt *opts,
	      copt_fn fn, void *ud);

/* cli__arg_int - a whole decimal number in [lo, hi] for option opt into
 * *out.  PZ_OK or PZ_EINVAL (reported). */
int cli__arg_int(const char *opt, const char *v, long long lo, long long hi,
		 long long *out);

/* cli__one_arg - a copt_fn for one positional argument only (delete PATH,
 * ae show X, ...): ud is a const char ** that receives it. */
int cli__one_arg(void *ud, int id, const char *val);

/* cli__no_arg - a copt_fn for commands without positional arguments. */
int cli__no_arg(void *ud, int id, const char *val);

/* --- http.c: requests to plazad ----------------------------------------- */

/* cli__http_init / cli__http_cleanup - libcurl's global state, once per
 * process; cleanup also frees c's handle (c may be NULL).  init returns
 * PZ_OK or PZ_ENOMEM (not reported). */
int cli__http_init(void);
void cli__http_cleanup(struct cli *c);

/* cli__reply_init / cli__reply_clear - an empty answer; clear releases
 * what it holds and leaves it empty again. */
void cli__reply_init(struct reply *r);
void cli__reply_clear(struct reply *r);

/*
 * cli__call - send call to plazad and wait for the answer in r (initialised
 * by the caller, cleared by the caller with cli__reply_clear).  Reports
 * every failure itself.  PZ_OK (a success rsc; r->doc is the content or
 * NULL), PZ_EREQ (an error rsc), PZ_EAGAIN (unreachable), PZ_EINVAL,
 * PZ_ENOMEM, PZ_ETOOBIG, PZ_EIO.
 */
int cli__call(struct cli *c, const struct call *call, struct reply *r);

/* cli__mqtt_call - cli__call over the oneM2M MQTT binding (c->via): one
 * request primitive, its answer by rqi.  Same results as cli__call. */
int cli__mqtt_call(struct cli *c, const struct call *call, struct reply *r);

/* cli__outcome - check a oneM2M answer in r (rsc, body): PZ_OK for
 * 1xxx/2xxx, PZ_EREQ (reported) for an error rsc, PZ_EIO otherwise. */
int cli__outcome(const struct cli *c, const struct call *call,
		 struct reply *r);

/* cli__token - the credential (--token, $PLAZA_TOKEN, DATA/admin.token),
 * looked up once; NULL if none. */
const char *cli__token(struct cli *c);

/* cli__get - Retrieve path (query optional, encoded) into r; as cli__call. */
int cli__get(struct cli *c, const char *path, const char *query,
	     struct reply *r);

/* cli__seg_add - append seg to the path in b percent-encoded as one
 * segment ('/' too), for a management path (struct call .mgmt, whose path
 * cli__call sends as it is).  PZ_OK, PZ_ENOMEM, PZ_ETOOBIG (not
 * reported). */
int cli__seg_add(struct pz_buf *b, const char *seg);

/* cli__mgmt_delete - DELETE prefix + name (one encoded segment) on the
 * management interface; prints the answer with --json, else
 * "<what> <name> <done>".  As cli__call. */
int cli__mgmt_delete(struct cli *c, const char *prefix, const char *name,
		     const char *what, const char *done);

/* cli__query_add - append "&name=value" (encoded) to the query q.  PZ_OK,
 * PZ_ENOMEM, PZ_ETOOBIG (not reported). */
int cli__query_add(struct pz_buf *q, const char *name, const char *value);

/* cli__query_kv - append a "name=value" argument of option opt (--param,
 * --attr).  PZ_OK, PZ_EINVAL and PZ_ENOMEM (reported), PZ_ETOOBIG. */
int cli__query_kv(struct pz_buf *q, const char *opt, const char *kv);

/* --- out.c: output ------------------------------------------------------ */

/* cli__ty_by_num - the row of type ty, NULL if plaza has no name for it. */
const struct ty_row *cli__ty_by_num(long ty);

/*
 * cli__ty_parse - a type given as a name ("cnt", "container", case ignored)
 * or a number (1..65535) into *ty and, when plaza knows the type, *row
 * (else NULL).  PZ_OK or PZ_EINVAL (reported).
 */
int cli__ty_parse(const char *s, int *ty, const struct ty_row **row);

/* cli__safe_add - append s to b with control characters escaped (see
 * out.c).  PZ_OK, PZ_ENOMEM, PZ_ETOOBIG (not reported). */
int cli__safe_add(struct pz_buf *b, const char *s);

/* cli__safe_width - the columns s takes once escaped. */
int cli__safe_width(const char *s);

/* cli__put_safe - print s on stdout escaped, padded with spaces to width
 * columns. */
void cli__put_safe(const char *s, int width);

/* cli__print_json - doc (NULL prints nothing) on stdout, indented, members
 * in the order received.  PZ_OK or PZ_ENOMEM (reported). */
int cli__print_json(const json_t *doc);

/*
 * cli__value_text - one value as readable text in out: strings bare (and
 * escaped), lists of scalars comma-separated, anything else compact JSON.
 * PZ_OK, PZ_ENOMEM, PZ_ETOOBIG (out's ceiling; not reported).
 */
int cli__value_text(const json_t *v, struct pz_buf *out);

/* cli__print_result - a resource answer: JSON with --json, else its
 * attributes one a line.  PZ_OK, PZ_ENOMEM, PZ_ETOOBIG. */
int cli__print_result(const struct cli *c, const json_t *doc);

/* cli__print_created - a created resource: where it is, then its
 * attributes (or JSON, with the token of a new AE as member "token"),
 * then a new AE's token.  verb is "created" or "registered". */
int cli__print_created(const struct cli *c, const char *verb,
		       struct reply *r);

/* cli__doc_root - the only member of a {"m2m:xxx": {...}} document (its
 * name in *name when name is not NULL), or NULL.  Borrowed from doc. */
json_t *cli__doc_root(const json_t *doc, const char **name);

/* cli__doc_str - the string attribute k of the resource in doc, "" when
 * absent.  Borrowed from doc. */
const char *cli__doc_str(const json_t *doc, const char *k);

/* --- listen: cmd_listen.c and listen_http.c ----------------------------- */

#define LISTEN_MAX_HEAD ((size_t)16 << 10)  /* request line and headers */
#define LISTEN_MAX_BODY ((size_t)1 << 20)   /* one request's body */
#define LISTEN_MAX_CONNS 32                  /* connections at once */
#define LISTEN_IDLE_MS 60000                 /* close a silent connection */
#define LISTEN_LINGER_MS 2000                /* a closing connection's input
						is read and dropped this long */

/* The head of one request, as listen_http.c parsed it. */
struct listen_head {
	size_t len;               /* bytes up to and including the blank line */
	char method[16];          /* "POST", ... */
	long long clen;           /* Content-Length, -1 when absent */
	bool te;                  /* Transfer-Encoding given (unsupported) */
	bool close;               /* Connection: close, or HTTP/1.0 */
	bool expect;              /* Expect: 100-continue */
	char ri[CLI_MAX_HDR];     /* X-M2M-RI, "" when absent */
};

/* One accepted connection. */
struct listen_conn {
	int fd;                   /* owned; -1 when the slot is free */
	char peer[80];            /* "ADDR:PORT", for messages */
	struct pz_buf in;         /* received, not yet handled */
	struct pz_buf out;        /* answers not yet sent */
	size_t sent;              /* bytes of out already sent */
	bool eof;                 /* the peer will send no more */
	bool closing;             /* close once out is sent */
	bool continued;           /* 100 Continue sent for this request */
	bool linger;              /* answered and shut down for writing:
				     input is dropped until EOF */
	int64_t last_ms;          /* last activity, for LISTEN_IDLE_MS */
};

/* The receiver. */
struct listener {
	const struct cli *c;      /* borrowed: c->json */
	int fd;                   /* listening socket, owned; -1 none */
	int answer;               /* rsc answered to notifications */
	long long count;          /* stop after so many; 0 never */
	long long seen;           /* notifications printed (not vrq) */
	bool done;                /* count reached: drain, then exit */
	int64_t done_ms;          /* when it was reached */
	struct listen_conn conns[LISTEN_MAX_CONNS];
};

/* cli__listen_warn - "plaza: listen: PEER: why (answered STATUS)" on
 * stderr (without the parenthesis when status is 0), the reason escaped:
 * it may quote what the peer sent. */
void cli__listen_warn(const struct listen_conn *k, int status,
		      const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* cli__conn_open - k takes the accepted, non-blocking socket fd (owned
 * from now on; k->peer is the caller's to fill). */
void cli__conn_open(struct listen_conn *k, int fd);

/* cli__conn_close - close k and free its slot (a free slot is a no-op). */
void cli__conn_close(struct listen_conn *k);

/* cli__conn_read - take what the peer sent into k->in (k may be closed:
 * k->fd is -1 then). */
void cli__conn_read(struct listen_conn *k);

/* cli__conn_work - handle what k has received, as far as the peer takes
 * the answers (each complete request goes to cli__listen_request); close
 * k when it is finished.  Once l->done, no further request is handled. */
void cli__conn_work(struct listener *l, struct listen_conn *k);

/*
 * cli__conn_answer - queue an answer without a body: status, X-M2M-RSC
 * rsc, X-M2M-RI ri (when not empty), extra header lines (CRLF-terminated,
 * or NULL), Connection: close when k is closing.  PZ_OK, or PZ_ENOMEM /
 * PZ_ETOOBIG (not reported; the connection should be dropped).
 */
int cli__conn_answer(struct listen_conn *k, int status, int rsc,
		     const char *ri, const char *extra);

/* cli__conn_refuse - answer status (rsc 4000 unless rsc is given) to a
 * request that cannot be handled, say why on stderr, and close the
 * connection after the answer when close is set (the framing is lost). */
void cli__conn_refuse(struct listen_conn *k, int status, int rsc, bool close,
		      const char *ri, const char *why);

/* cli__listen_request - one complete request (head h, body of n bytes,
 * both borrowed): print it if it is a notification and queue the answer
 * (cmd_listen.c).  k may be closed on return (k->fd is -1 then). */
void cli__listen_request(struct listener *l, struct listen_conn *k,
			 const struct listen_head *h, const char *body,
			 size_t n);

/* --- the commands: each runs c->argv[0] with its arguments -------------- */

int cli__cmd_status(struct cli *c);    /* cmd_ae.c */
int cli__cmd_ae(struct cli *c);        /* cmd_ae.c */
int cli__cmd_get(struct cli *c);       /* cmd_res.c */
int cli__cmd_create(struct cli *c);    /* cmd_res.c */
int cli__cmd_update(struct cli *c);    /* cmd_res.c */
int cli__cmd_delete(struct cli *c);    /* cmd_res.c */
int cli__cmd_discover(struct cli *c);  /* cmd_res.c */
int cli__cmd_init(struct cli *c);      /* cmd_conf.c */
int cli__cmd_config(struct cli *c);    /* cmd_conf.c */
int cli__cmd_listen(struct cli *c);    /* cmd_listen.c */
int cli__cmd_psk(struct cli *c);       /* cmd_psk.c */
int cli__cmd_sub(struct cli *c);       /* cmd_sub.c */
int cli__cmd_log(struct cli *c);       /* cmd_log.c */
int cli__cmd_id(struct cli *c);        /* cmd_log.c */

#endif
