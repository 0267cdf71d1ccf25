/*
 * pz_mqtt.h - the oneM2M MQTT binding (TS-0010).  plazad is an MQTT client
 * of a real broker (libmosquitto, driven from plazad's loop through its
 * socket); requests arrive as whole request primitives on
 * /oneM2M/req/<originator>/<CSE-ID>/<json|cbor> (and reg_req), answers
 * leave as response primitives on the matching resp (reg_resp) topic, and
 * notifications leave as request primitives on
 * /oneM2M/req/<CSE-ID>/<AE-ID>/<json|cbor>.  Nothing else in plaza knows about
 * MQTT.
 *
 * Authentication (docs/mqtt.md): the broker authenticates each client and
 * its ACL lets a client publish only on request topics naming its own
 * originator, so the topic's originator is believed (PZ_AUTH_PEER) unless
 * opts->trust_topic is off; a primitive may also carry the AE's plaza
 * credential in a "token" member (PZ_AUTH_SECRET), which is then checked.
 */
#ifndef PZ_MQTT_H
#define PZ_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plaza/pz_buf.h"
#include "plaza/pz_codec.h"
#include "plaza/pz_core.h"
#include "plaza/pz_loop.h"

typedef struct pz_mqtt pz_mqtt;

struct pz_mqtt_opts {
	const char *broker;         /* "host:port" (copied) */
	const char *cse_id;         /* CSE-ID without leading '/' (copied) */
	const char *client_id;      /* NULL or "": "plaza-<CSE-ID>" */
	const char *prefix;         /* topic prefix before "/oneM2M", "" */
	const char *username;       /* NULL or "": none */
	const char *password;       /* never logged */
	const char *tls_ca;         /* CA file: TLS to the broker when set */
	const char *tls_cert;       /* client certificate (PEM), optional */
	const char *tls_key;        /* its key */
	int keepalive;              /* seconds, 0 = 60 */
	bool trust_topic;           /* believe the topic's originator */
	size_t max_payload;         /* largest primitive, 0 = 1 MiB */
	int64_t dedup_ms;           /* how long answers are remembered */
	size_t dedup_max;           /* how many at most */
	long notify_timeout_ms;     /* wait for a notification's answer */
	struct pz_codec_limits limits;  /* zero = pz_codec_default_limits */
};

/*
 * pz_mqtt_new - connect (asynchronously, retried with back-off) to the
 * broker and serve core; loop and core are borrowed.  Registers a loop
 * hook and timers.  PZ_OK, PZ_EINVAL (bad broker address), PZ_ENOMEM,
 * PZ_EIO (libmosquitto refused the settings; logged).
 */
int pz_mqtt_new(pz_loop *loop, pz_core *core, const struct pz_mqtt_opts *o,
		pz_mqtt **out);

/* pz_mqtt_send - a pz_core_send_fn for scheme "mqtt": publish req (a
 * Notify) to the AE named by url (mqtt://host:port/<AE-ID>, with
 * "?ct=cbor" for a CBOR primitive on the cbor topic) and report its
 * answer's rsc; 5103 when plazad's broker is not url's or the broker is
 * unreachable, 4008 after the timeout.  cb runs later, never inside. */
int pz_mqtt_send(void *ctx, const char *url, struct pz_req *req,
		 struct pz_rsp *rsp, pz_core_done_cb cb, void *ud);

/* pz_mqtt_drain - before shutdown: answer what the core still holds with
 * 5000 and flush the socket. */
void pz_mqtt_drain(pz_mqtt *m);

/* pz_mqtt_free - disconnect and free (NULL is fine). */
void pz_mqtt_free(pz_mqtt *m);

/* --- the topic and primitive mapping, pure (no I/O, fuzzed) ----------- */

enum pz_mqtt_kind {
	PZ_MQTT_REQ = 0,            /* /oneM2M/req/<from>/<to>/<fmt> */
	PZ_MQTT_REG_REQ,            /* /oneM2M/reg_req/... */
	PZ_MQTT_RESP,               /* /oneM2M/resp/... */
	PZ_MQTT_REG_RESP            /* /oneM2M/reg_resp/... */
};

#define PZ_MQTT_ID_MAX 256          /* an ID in topic form, with NUL */

/* A oneM2M topic, parsed. */
struct pz_mqtt_topic {
	enum pz_mqtt_kind kind;
	char from[PZ_MQTT_ID_MAX];  /* originator, topic form ("a:b") */
	char to[PZ_MQTT_ID_MAX];    /* receiver, topic form */
	enum pz_fmt fmt;            /* json or cbor */
};

/* pz_mqtt_topic_parse - split topic (after prefix, which may be "" or
 * NULL) into t.  PZ_OK or PZ_EINVAL (not a oneM2M topic). */
int pz_mqtt_topic_parse(const char *topic, const char *prefix,
			struct pz_mqtt_topic *t);

/* pz_mqtt_topic_id - id in topic form (leading '/' dropped, inner '/'
 * become ':') into out.  PZ_OK, PZ_ETOOBIG, PZ_EINVAL (empty, or holds
 * '+', '#' or a control character). */
int pz_mqtt_topic_id(const char *id, char *out, size_t len);

/* A request primitive as the mapping sees it; everything borrowed. */
struct pz_mqtt_in {
	const char *orig;           /* the topic's originator, topic form */
	bool reg;                   /* arrived on reg_req */
	enum pz_fmt fmt;            /* the topic's serialisation */
	const uint8_t *payload;
	size_t len;
	size_t max_len;             /* 0 = no ceiling */
	const struct pz_codec_limits *limits;  /* NULL = defaults */
};

/* Why a primitive was refused. */
struct pz_mqtt_out {
	int rsc;                    /* oneM2M rsc */
	char msg[300];              /* the reason */
};

/*
 * pz_mqtt_map - fill req (initialised by the caller; strings go to
 * req->arena, the content to req->pc) from the request primitive in
 * in->payload: op, to, fr, rqi, rvi, ty, pc, rcn, rt ({rtv, nu}), drt,
 * rqet, rset, oet (timestamps or durations), ot, ec, gid, vsi, fc (its
 * members in pz_req_param's names, as integers, strings or arrays) and
 * "token" (a plaza credential: req->auth = PZ_AUTH_SECRET).  A missing fr
 * becomes the topic's originator; a given one must name it.  req->rqi is
 * set as soon as it is read, so a refusal can be addressed.  PZ_OK, or
 * PZ_EREQ with out->rsc and msg, or PZ_ENOMEM.
 */
int pz_mqtt_map(const struct pz_mqtt_in *in, struct pz_req *req,
		struct pz_mqtt_out *out);

/*
 * pz_mqtt_answer - append the response primitive for rsp to buf in fmt:
 * rsc, rqi (rsp's, else req_rqi; omitted when neither), rvi, ot, pc, to
 * (the requester, may be NULL), fr (the CSE, may be NULL) and, for a
 * registration, "token" (rsp->credential).  An encoding failure of the
 * content turns the answer into 5000 with a diagnostic.  PZ_OK, PZ_ENOMEM.
 */
int pz_mqtt_answer(const struct pz_rsp *rsp, const char *req_rqi,
		   const char *to, const char *fr, enum pz_fmt fmt,
		   struct pz_buf *buf);

/* pz_mqtt_request - append req as a request primitive (op, to, fr, rqi,
 * rvi, ty, pc, rcn, ec, ot) to buf in fmt.  PZ_OK, PZ_ENOMEM, PZ_EINVAL. */
int pz_mqtt_request(const struct pz_req *req, enum pz_fmt fmt,
		    struct pz_buf *buf);

/* pz_mqtt_response_parse - a response primitive into rsp (rsc, rqi, pc,
 * rvi; rsp initialised by the caller, cleared with pz_rsp_clear).  PZ_OK,
 * PZ_EINVAL (no integer rsc, or not a primitive), PZ_ENOMEM. */
int pz_mqtt_response_parse(const uint8_t *buf, size_t len, enum pz_fmt fmt,
			   struct pz_rsp *rsp);

#endif
