/*
 * pz_coap.h - the oneM2M CoAP binding (TS-0008) on libcoap 3, driven from
 * plazad's loop: plain CoAP (RFC 7252) and CoAP over DTLS 1.2 with
 * pre-shared keys (RFC 7925).  Maps CoAP requests to pz_req and pz_rsp back
 * to CoAP; nothing else in plaza knows about CoAP.
 *
 * Authentication: a DTLS session's PSK identity names its originator (see
 * pz_core_psk_get); a request whose oneM2M-FR differs gets 4.03 / 4103.
 * Plain CoAP is off unless an address is configured, and even then only
 * originators matching opts->plain_allowed are believed; any other request
 * reaches the core unauthenticated (4.03 / 4107 SECURITY_ASSOCIATION_
 * REQUIRED, as ACME maps that code).
 */
#ifndef PZ_COAP_H
#define PZ_COAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plaza/pz_buf.h"
#include "plaza/pz_codec.h"
#include "plaza/pz_core.h"
#include "plaza/pz_loop.h"
#include "plaza/pz_naf.h"

typedef struct pz_coap pz_coap;

struct pz_coap_opts {
	const char *plain_allowed;  /* space-separated '*' patterns of
				       originators plain CoAP may claim
				       (copied); NULL or "" = none */
	size_t max_body;            /* largest (reassembled) body; 0 = 1 MiB */
	unsigned max_sessions;      /* concurrent sessions, 0 = libcoap's */
	unsigned max_observed;      /* paths kept observable, 0 = 1024 */
	unsigned session_timeout;   /* seconds an idle session (DTLS state,
				       duplicate records) is kept; 0 = 60 */
	struct pz_codec_limits limits;  /* content parser limits; zero =
					   pz_codec_default_limits */
	pz_naf *naf;                /* resolves "3GPP-bootstrapping" PSK
				       identities first (borrowed; NULL =
				       none): docs/bootstrap.md */
};

/* pz_coap_new - a binding serving core; loop and core are borrowed.
 * Registers a loop hook and the core's change watcher (pz_core_watch).
 * PZ_OK, PZ_ENOMEM, PZ_EIO (libcoap failed; logged). */
int pz_coap_new(pz_loop *loop, pz_core *core, const struct pz_coap_opts *o,
		pz_coap **out);

/*
 * pz_coap_listen - serve on addr ("127.0.0.1:5684", "[::1]:0"); dtls
 * selects CoAP over DTLS with pre-shared keys.  *port gets the bound port.
 * PZ_OK, PZ_EINVAL (bad address), PZ_EIO (logged).
 */
int pz_coap_listen(pz_coap *c, const char *addr, bool dtls, int *port);

/* pz_coap_drain - before shutdown, after the core committed: send what is
 * still owed (answers the core still holds get 5.00 / 5000). */
void pz_coap_drain(pz_coap *c);

/* pz_coap_free - stop and free (NULL is fine). */
void pz_coap_free(pz_coap *c);

/* --- the CoAP to primitive mapping, pure (no I/O, fuzzed) -------------- */

/* oneM2M CoAP option numbers (TS-0008). */
enum {
	PZ_COAP_OPT_OT = 259,       /* originating timestamp, string */
	PZ_COAP_OPT_RTURI = 263,    /* response type URIs, string */
	PZ_COAP_OPT_TY = 267,       /* resource type, uint */
	PZ_COAP_OPT_RVI = 271,      /* release version, string */
	PZ_COAP_OPT_ASRI = 275,     /* assigned token request id (ignored) */
	PZ_COAP_OPT_FR = 279,       /* originator, string */
	PZ_COAP_OPT_RQI = 283,      /* request identifier, string */
	PZ_COAP_OPT_RQET = 291,     /* request expiration, string */
	PZ_COAP_OPT_RSET = 295,     /* result expiration, string */
	PZ_COAP_OPT_OET = 299,      /* operation execution time, string */
	PZ_COAP_OPT_EC = 303,       /* event category, uint */
	PZ_COAP_OPT_RSC = 307,      /* response status code, uint */
	PZ_COAP_OPT_GID = 311,      /* group request identifier, string */
	PZ_COAP_OPT_CTO = 319,      /* content offset (ignored) */
	PZ_COAP_OPT_CTS = 323,      /* content status (ignored) */
	PZ_COAP_OPT_ATI = 327,      /* authorization token ids (ignored) */
	PZ_COAP_OPT_VSI = 331       /* vendor information, string */
};

/* Content formats plaza reads and writes. */
enum {
	PZ_COAP_CF_JSON = 50,       /* application/json */
	PZ_COAP_CF_CBOR = 60,       /* application/cbor */
	PZ_COAP_CF_SENML_JSON = 110,
	PZ_COAP_CF_SENML_CBOR = 112,
	PZ_COAP_CF_RES_JSON = 10001,   /* application/vnd.onem2m-res+json */
	PZ_COAP_CF_NTFY_JSON = 10003,
	PZ_COAP_CF_RES_CBOR = 10010,
	PZ_COAP_CF_NTFY_CBOR = 10011
};

/* A CoAP code as class << 5 | detail (RFC 7252 3): 2.05 is 0x45. */
#define PZ_COAP_CODE(c, d) ((uint8_t)(((c) << 5) | (d)))

/* One option as received; borrowed. */
struct pz_coap_opt {
	uint16_t num;               /* option number */
	uint16_t len;               /* value length */
	const uint8_t *val;         /* value, not NUL-terminated */
};

/* A CoAP request as the mapping sees it; everything borrowed. */
struct pz_coap_in {
	uint8_t code;               /* request code: 1 GET, 2 POST, 3 PUT,
				       4 DELETE; others are refused */
	const struct pz_coap_opt *opts;  /* in message order */
	size_t nopts;
	const uint8_t *body;        /* reassembled payload, may be NULL */
	size_t len;
	size_t max_body;            /* 0 = no ceiling */
	const struct pz_codec_limits *limits;  /* NULL = defaults */
};

/* What the mapping decided besides the request itself. */
struct pz_coap_out {
	uint16_t cf;                /* content format of the answer */
	enum pz_fmt fmt;            /* its serialisation */
	int observe;                /* Observe: -1 absent, 0 register,
				       1 deregister */
	uint8_t code;               /* on refusal: CoAP response code */
	int rsc;                    /* on refusal: oneM2M rsc */
	char msg[300];              /* on refusal: the reason */
};

/*
 * pz_coap_map - fill req (initialised by the caller; strings are copied
 * into req->arena, content is parsed into req->pc) from in.  Does not
 * touch req->auth: the transport decides that.  PZ_OK, or PZ_EREQ with
 * out->code, rsc and msg set (refuse the request with them; out->cf/fmt
 * still say how to answer), or PZ_ENOMEM.
 */
int pz_coap_map(const struct pz_coap_in *in, struct pz_req *req,
		struct pz_coap_out *out);

/* pz_coap_code - the CoAP response code for a oneM2M rsc (ACME's table;
 * other 2xxx 2.05, 4xxx 4.00, anything else 5.00). */
uint8_t pz_coap_code(int rsc);

#define PZ_COAP_ANSWER_MAXOPT 40

/* An answer ready for the wire; strings and the body are owned. */
struct pz_coap_answer {
	uint8_t code;               /* CoAP response code */
	struct pz_coap_opt opts[PZ_COAP_ANSWER_MAXOPT];  /* ascending */
	size_t nopts;
	struct pz_buf body;         /* payload in out->cf's format */
	uint8_t scratch[512];       /* option values (uints, strings) */
	size_t used;                /* bytes of scratch in use */
};

/*
 * pz_coap_answer - build the answer for rsp: the code, oneM2M-RSC (always),
 * oneM2M-RQI (rsp's, else req_rqi), oneM2M-RVI, Content-Format (cf, when
 * there is a body), Location-Path segments for a created resource, and the
 * body (rsp->pc encoded in fmt).  An encoding failure turns the answer
 * into 5.00 / 5000.  Clear a with pz_coap_answer_clear.  PZ_OK or
 * PZ_ENOMEM.
 */
int pz_coap_answer(const struct pz_rsp *rsp, const char *req_rqi,
		   uint16_t cf, enum pz_fmt fmt, struct pz_coap_answer *a);

/* pz_coap_answer_clear - release the body (the struct can be reused). */
void pz_coap_answer_clear(struct pz_coap_answer *a);

/* pz_coap_plain_allowed - does originator fr match one of the
 * space-separated '*' patterns?  NULL/empty patterns or fr: false. */
bool pz_coap_plain_allowed(const char *patterns, const char *fr);

#endif
