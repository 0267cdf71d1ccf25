/*
 * pz_req.h - the request and response primitives: the contract between the
 * protocol bindings and the core (DESIGN principle 1).
 *
 * These are plain data.  A binding fills a pz_req from its wire message, the
 * core answers with a pz_rsp, the binding writes that back in its wire form.
 * Strings point into the request's arena (req->arena) unless noted; content
 * is a jansson document owned by the struct and released by pz_req_clear /
 * pz_rsp_clear.
 */
#ifndef PZ_REQ_H
#define PZ_REQ_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plaza/pz_arena.h"

enum pz_op {
	PZ_OP_NONE = 0,
	PZ_OP_CREATE = 1,
	PZ_OP_RETRIEVE = 2,
	PZ_OP_UPDATE = 3,
	PZ_OP_DELETE = 4,
	PZ_OP_NOTIFY = 5
};

/* Resource types (ty) plaza serves. */
enum pz_ty {
	PZ_TY_NONE = 0,
	PZ_TY_ACP = 1,
	PZ_TY_AE = 2,
	PZ_TY_CNT = 3,
	PZ_TY_CIN = 4,
	PZ_TY_CB = 5,
	PZ_TY_GRP = 9,
	PZ_TY_SUB = 23
};

/* Result content (rcn) values. */
enum pz_rcn {
	PZ_RCN_DEFAULT = -1,   /* not given: the operation's default */
	PZ_RCN_NOTHING = 0,
	PZ_RCN_ATTRS = 1,
	PZ_RCN_HIER = 2,
	PZ_RCN_HIER_ATTRS = 3,
	PZ_RCN_ATTRS_CHILDREN = 4,
	PZ_RCN_ATTRS_CHILDREFS = 5,
	PZ_RCN_CHILDREFS = 6,
	PZ_RCN_ORIGINAL = 7,
	PZ_RCN_CHILDREN = 8,
	PZ_RCN_MODIFIED = 9
};

/* Response status codes (rsc) plaza produces; values from TS-0004. */
enum pz_rsc {
	PZ_RSC_ACCEPTED = 1000,
	PZ_RSC_OK = 2000,
	PZ_RSC_CREATED = 2001,
	PZ_RSC_DELETED = 2002,
	PZ_RSC_UPDATED = 2004,
	PZ_RSC_BAD_REQUEST = 4000,
	PZ_RSC_RELEASE_VERSION_NOT_SUPPORTED = 4001,
	PZ_RSC_NOT_FOUND = 4004,
	PZ_RSC_OPERATION_NOT_ALLOWED = 4005,
	PZ_RSC_REQUEST_TIMEOUT = 4008,
	PZ_RSC_UNSUPPORTED_MEDIA_TYPE = 4015,
	PZ_RSC_SUBSCRIPTION_CREATOR_HAS_NO_PRIVILEGE = 4101,
	PZ_RSC_CONTENTS_UNACCEPTABLE = 4102,
	PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE = 4103,
	PZ_RSC_CONFLICT = 4105,
	PZ_RSC_SECURITY_ASSOCIATION_REQUIRED = 4107,
	PZ_RSC_INVALID_CHILD_RESOURCE_TYPE = 4108,
	PZ_RSC_GROUP_MEMBER_TYPE_INCONSISTENT = 4110,
	PZ_RSC_ORIGINATOR_HAS_ALREADY_REGISTERED = 4117,
	PZ_RSC_INTERNAL_SERVER_ERROR = 5000,
	PZ_RSC_NOT_IMPLEMENTED = 5001,
	PZ_RSC_TARGET_NOT_REACHABLE = 5103,
	PZ_RSC_RECEIVER_HAS_NO_PRIVILEGES = 5105,
	PZ_RSC_ALREADY_EXISTS = 5106,
	PZ_RSC_TARGET_NOT_SUBSCRIBABLE = 5203,
	PZ_RSC_SUBSCRIPTION_VERIFICATION_INITIATION_FAILED = 5204,
	PZ_RSC_NOT_ACCEPTABLE = 5207,
	PZ_RSC_MAX_NUMBER_OF_MEMBER_EXCEEDED = 6010,
	PZ_RSC_INVALID_ARGUMENTS = 6023,
	PZ_RSC_INSUFFICIENT_ARGUMENTS = 6024
};

/* How the binding authenticated the originator. */
enum pz_auth {
	PZ_AUTH_NONE = 0,     /* nothing presented */
	PZ_AUTH_PEER,         /* the transport proved auth_id (DTLS PSK, mTLS) */
	PZ_AUTH_SECRET        /* a secret for auth_id the core must verify */
};

/* What a request's content (pc) holds. */
enum pz_pc_kind {
	PZ_PC_RESOURCE = 0,   /* a oneM2M representation {"m2m:xxx": {...}} */
	PZ_PC_SENML           /* a SenML pack (array of records), posted to a
				 container to become contentInstances */
};

/* Wire serialisations a binding can negotiate. */
enum pz_fmt {
	PZ_FMT_JSON = 0,
	PZ_FMT_CBOR = 1
};

#define PZ_FC_MAX_LIST 32   /* labels, types, content types per request */

#define PZ_FC_UNSET INT64_MIN  /* a time criterion that was not given */

/*
 * Filter criteria (fc).  Times are microseconds since the epoch, or
 * PZ_FC_UNSET; counts and sizes are -1 when not given.
 */
struct pz_fc {
	int fu;                 /* 0 unset, 1 discovery, 2 conditional retrieval */
	int fo;                 /* 1 AND (default), 2 OR */
	int64_t crb, cra;       /* created before / after */
	int64_t ms, us;         /* modified since / unmodified since */
	int64_t exb, exa;       /* expire before / after */
	int64_t stb, sts;       /* stateTag bigger / smaller; -1 unset */
	int64_t sza, szb;       /* size above (>=) / below (<); -1 unset */
	int64_t lim, ofst, lvl; /* -1 unset */
	const char *lbl[PZ_FC_MAX_LIST];  /* labels */
	int nlbl;
	int ty[PZ_FC_MAX_LIST];           /* resource types */
	int nty;
	const char *cty[PZ_FC_MAX_LIST];  /* content types (cnf of cin) */
	int ncty;
	const char *atr_name[PZ_FC_MAX_LIST];  /* attribute=value pairs */
	const char *atr_val[PZ_FC_MAX_LIST];
	int natr;
	bool present;           /* any criterion was given */
};

struct pz_req {
	struct pz_arena arena;  /* owns every string below */
	enum pz_op op;
	const char *to;         /* target address as received */
	const char *fr;         /* originator (claimed); NULL if absent */
	const char *rqi;        /* request identifier */
	const char *rvi;        /* release version indicator */
	int ty;                 /* resource type for Create, 0 otherwise */
	json_t *pc;             /* content, owned by this request alone (the
				   core may keep or change it); NULL if none */
	int pc_kind;            /* enum pz_pc_kind */
	int rcn;                /* enum pz_rcn */
	int rt;                 /* response type rtv, 0 unset (blocking) */
	const char *rtu;        /* response target for non-blocking */
	int64_t rqet;           /* request expiration, 0 unset */
	int64_t rset;           /* result expiration, 0 unset */
	int64_t oet;            /* operation execution time, 0 unset */
	const char *ot;         /* originating timestamp as sent */
	const char *gid;        /* group request identifier */
	const char *vsi;        /* vendor information */
	int ec;                 /* event category, 0 unset */
	int drt;                /* discovery result type, 0 unset */
	struct pz_fc fc;        /* filter criteria */
	enum pz_auth auth;      /* set by the binding, see enum pz_auth */
	const char *auth_id;    /* identity the transport proved (PZ_AUTH_PEER) */
	const char *secret;     /* secret to verify (PZ_AUTH_SECRET); never
				   logged */
	const char *binding;    /* "http", "coap", ... for logs */
	const char *peer;       /* peer address for logs */
	bool internal;          /* issued by plaza itself (fan-out, sweeps) */
};

struct pz_rsp {
	int rsc;                /* oneM2M response status code */
	json_t *pc;             /* content, owned; NULL if none */
	char *rqi;              /* echoed request id, owned (pz_free) */
	char *location;         /* address of a created resource, owned */
	char *credential;       /* secret issued at AE registration, owned;
				   bindings hand it to the registrant only */
	char *ot;               /* originating timestamp of the response, owned */
	char rvi[8];            /* release version of the response */
};

/* pz_req_init - zero req and set the defaults (rcn default, lim unset...). */
void pz_req_init(struct pz_req *req);

/* pz_req_clear - release everything req owns; req can be reused after
 * pz_req_init. */
void pz_req_clear(struct pz_req *req);

/* pz_rsp_init / pz_rsp_clear - likewise for a response. */
void pz_rsp_init(struct pz_rsp *rsp);
void pz_rsp_clear(struct pz_rsp *rsp);

/* pz_fc_init - set every criterion to "not given". */
void pz_fc_init(struct pz_fc *fc);

/* pz_op_name - "create", "retrieve", ... for logs; never NULL. */
const char *pz_op_name(int op);

/*
 * pz_rsc_http - the HTTP status for a oneM2M rsc, per the spec sheet (ACME's
 * mapping); 500 for unknown codes.
 */
int pz_rsc_http(int rsc);

/*
 * pz_req_param - apply one request parameter given as text (a query-string
 * pair or a binding header) to req: rcn, rt, drt, fu, fo, ty (a filter type
 * on Retrieve), lbl, lim, ofst, lvl, crb, cra, ms, us, sts, stb, exb, exa,
 * sza, szb, cty, attribute filters (rn=..., cnf=..., for the attribute
 * names plaza filters on), rp and da (accepted, without effect).  Geo and
 * semantic queries (gmty geom gsf smf sqi arp) are refused.
 * Strings are copied into req->arena.  Returns PZ_OK, PZ_EINVAL (malformed
 * value; err gets a readable reason) or PZ_ENOTFOUND (unknown name).
 */
int pz_req_param(struct pz_req *req, const char *name, const char *value,
		 char *err, size_t errlen);

/* pz_rsc_name - the rsc's name ("CREATED", "NOT_FOUND", ...), never NULL. */
const char *pz_rsc_name(int rsc);

#endif
