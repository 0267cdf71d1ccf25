/*
 * pz_http.h - the oneM2M HTTP binding (TS-0009) on libmicrohttpd, driven
 * from plazad's loop.  Maps HTTP requests to pz_req and pz_rsp back to
 * HTTP; nothing else in plaza knows about HTTP.
 *
 * Authentication: "Authorization: Bearer <secret>" (originator from
 * X-M2M-Origin) or "Authorization: Basic base64(originator:secret)".
 */
#ifndef PZ_HTTP_H
#define PZ_HTTP_H

#include <stddef.h>

#include "plaza/pz_codec.h"
#include "plaza/pz_core.h"
#include "plaza/pz_loop.h"

typedef struct pz_http pz_http;

struct pz_http_opts {
	size_t max_body;          /* largest request body accepted */
	unsigned max_conns;       /* concurrent connections per listener */
	unsigned timeout_s;       /* idle connection timeout */
	struct pz_codec_limits limits;  /* content parser limits */
	bool log_public;          /* the trust log is readable without the
				     admin credential (log.public) */
	struct pz_bsf *bsf;       /* the BSF (pz_bsf.h), borrowed; NULL:
				     /.plaza/bsf/ is off */
};

/* pz_http_new - a binding that serves core; loop and core borrowed. */
int pz_http_new(pz_loop *loop, pz_core *core, const struct pz_http_opts *o,
		pz_http **out);

/*
 * pz_http_listen - listen on addr ("127.0.0.1:8080", "[::1]:0", ":8080" for
 * all IPv4 addresses, "[::]:8080" for all IPv6 ones).  *port receives the
 * bound port (useful with port 0).  PZ_OK, PZ_EINVAL (bad address),
 * PZ_EIO (bind/listen failed; logged).
 */
int pz_http_listen(pz_http *h, const char *addr, int *port);

/* pz_http_drain - before shutdown, after the core has committed: answer
 * what is still waiting (5000) and let libmicrohttpd send the answers. */
void pz_http_drain(pz_http *h);

/* pz_http_free - stop every listener and free (NULL is fine). */
void pz_http_free(pz_http *h);

/* --- the HTTP to primitive mapping, pure (no I/O, fuzzed) ------------- */

struct pz_http_kv {
	const char *name;         /* header or query parameter name */
	const char *value;        /* decoded value */
};

/* An HTTP request as the mapping sees it; everything borrowed. */
struct pz_http_in {
	const char *method;       /* "GET", "POST", ... */
	const char *path;         /* decoded path, starting with '/' */
	const struct pz_http_kv *headers;
	size_t nheaders;
	const struct pz_http_kv *args;  /* query parameters */
	size_t nargs;
};

/* What the mapping decided besides the request itself. */
struct pz_http_out {
	enum pz_fmt body_fmt;     /* serialisation of the request body */
	enum pz_fmt accept;       /* serialisation of the answer */
	const char *ctype;        /* Content-Type of the answer (static) */
	int status;               /* on refusal: HTTP status */
	int rsc;                  /* on refusal: oneM2M rsc */
	char msg[300];            /* on refusal: the reason */
};

/*
 * pz_http_map - fill req (initialised by the caller; strings are copied
 * into req->arena) from in.  PZ_OK, or PZ_EREQ with out->status, rsc and
 * msg set (the request must be refused with them), or PZ_ENOMEM.
 */
int pz_http_map(const struct pz_http_in *in, struct pz_req *req,
		struct pz_http_out *out);

/* A request under /.plaza/ (all borrowed). */
struct pz_http_mgmt_in {
	const char *method;
	const char *path;             /* decoded, without the query */
	const char *auth;             /* Authorization header, or NULL */
	const uint8_t *body;
	size_t len;
	const struct pz_http_kv *args;  /* query parameters */
	size_t nargs;
	bool log_public;              /* the trust log is readable by all */
	struct pz_bsf *bsf;           /* the BSF, or NULL when off */
};

/* Its answer: a JSON document, or a text (PEM, XML) of type ctype, and
 * at most one extra header. */
struct pz_http_mgmt_out {
	int status;                   /* HTTP status */
	json_t *doc;                  /* owned, or NULL */
	char *text;                   /* owned (pz_free), or NULL */
	const char *ctype;            /* static; of text */
	const char *hname;            /* static header name, or NULL */
	char *hvalue;                 /* its value, owned (pz_free) */
};

/*
 * pz_http_mgmt - the management interface under /.plaza/ (http_mgmt.c;
 * admin-only) and the trust repository (http_trust.c; reading public
 * when in->log_public).  Fills *out (zeroed first; the caller frees doc
 * and text) and returns its status.
 */
int pz_http_mgmt(pz_core *core, const struct pz_http_mgmt_in *in,
		 struct pz_http_mgmt_out *out);

/* pz_http__trust - /.plaza/log/... and /.plaza/ids... (http_trust.c),
 * for pz_http_mgmt; admin says the admin credential was presented. */
int pz_http__trust(pz_core *core, const struct pz_http_mgmt_in *in,
		   bool admin, struct pz_http_mgmt_out *out);

/* pz_http__bsf - /.plaza/bsf/... and /.plaza/subscribers... (http_bsf.c),
 * for pz_http_mgmt; admin says the admin credential was presented (the
 * Ub interface needs none). */
int pz_http__bsf(pz_core *core, const struct pz_http_mgmt_in *in,
		 bool admin, struct pz_http_mgmt_out *out);

/*
 * pz_net_parse_addr - split "host:port" / "[v6]:port" / ":port" into a
 * socket address.  Shared by every binding.  PZ_OK or PZ_EINVAL.
 */
struct sockaddr_storage;
int pz_net_parse_addr(const char *addr, struct sockaddr_storage *ss,
		      unsigned *len);

#endif
