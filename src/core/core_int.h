/*
 * core_int.h - what the files of the core share: the core object, the
 * per-request context, the resource type table and the functions one core
 * file offers another (pz_core__*).
 */
#ifndef PZ_CORE_INT_H
#define PZ_CORE_INT_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "plaza/pz_buf.h"
#include "plaza/pz_core.h"
#include "plaza/pz_loop.h"
#include "plaza/pz_req.h"
#include "plaza/pz_store.h"

#define CORE_MAX_SENDERS 4
#define CORE_RI_MAX 128        /* longest resource id we produce or accept */

/* ACP operation bits (acop). */
enum {
	PZ_ACOP_CREATE = 1,
	PZ_ACOP_RETRIEVE = 2,
	PZ_ACOP_UPDATE = 4,
	PZ_ACOP_DELETE = 8,
	PZ_ACOP_NOTIFY = 16,
	PZ_ACOP_DISCOVER = 32
};

/* Notification event types (net). */
enum {
	PZ_NET_UPDATE = 1,
	PZ_NET_DELETE = 2,
	PZ_NET_CREATE_CHILD = 3,
	PZ_NET_DELETE_CHILD = 4
};

/* Virtual resources a target address can name. */
enum core_virt {
	CORE_VIRT_NONE = 0,
	CORE_VIRT_LA,
	CORE_VIRT_OL,
	CORE_VIRT_FOPT
};

struct core_sender {
	char scheme[16];          /* "http" */
	pz_core_send_fn fn;
	void *ctx;                /* borrowed */
};

/* A request the core is working on, from submit to completion. */
struct core_job {
	pz_core *core;            /* the core running it */
	struct pz_req *req;       /* borrowed from the binding */
	struct pz_rsp *rsp;       /* borrowed from the binding */
	pz_core_done_cb cb;       /* completion */
	void *ud;                 /* borrowed */
	struct core_job *next;    /* in core->pending */
	int waiting;              /* outstanding verifications */
	int verify_rsc;           /* first failed verification rsc, 0 = ok */
	bool verified;            /* verifications done; run to completion */
	bool wrote;               /* the job's changes are in the open batch */
	int64_t reserved_id;      /* row id kept across a verification wait */
};

/* A notification staged in the open batch; sent once the batch commits. */
struct core_note {
	struct core_note *next;
	int64_t sub_id;           /* subscription row id (0: none) */
	char *target;             /* nu as given: URL or AE-ID (owned) */
	json_t *pc;               /* content to send, owned */
	const char *ec;           /* event category text, or NULL */
	int64_t bn_num;           /* batch: max count, 0 = no batching */
	int64_t bn_dur_ms;        /* batch: max wait */
	bool ln;                  /* batch: latest only */
};

struct core_batchq;           /* batch-notify buffers, notify.c */
struct core_outq;             /* outbound notification queue, notify.c */

struct pz_core {
	struct pz_core_conf conf;     /* strings below are owned copies */
	char *cse_id;                 /* "plaza-in" */
	char *cse_name;               /* "plaza" */
	char *sp_id;                  /* "plaza.example" */
	char *admin;                  /* "CAdmin" */
	char *poa;                    /* may be NULL */
	char *allowed_aes;            /* may be NULL */
	char *admin_secret;           /* the admin's credential, owned */
	char *csi;                    /* "/plaza-in" */
	pz_store *store;              /* borrowed */
	pz_loop *loop;                /* borrowed */
	int64_t cb_id;                /* row id of the CSEBase */
	struct pz_res cb;             /* the CSEBase row, cached (it changes
					 only through pz_core_set_poa) */
	char *cb_ri;                  /* ri of the CSEBase (= cse_id) */
	struct core_job *pending;     /* completed, waiting for commit */
	struct core_job **pending_tail;
	bool dirty;                   /* the open batch holds writes */
	struct core_note *notes;      /* staged in the open batch (reversed) */
	struct core_sender senders[CORE_MAX_SENDERS];
	int nsenders;
	struct pz_timer expire_timer; /* expiry sweep, due at next_expiry */
	int64_t next_expiry;          /* soonest et of any resource (us) */
	struct pz_timer commit_timer; /* ends a group-commit window */
	int64_t last_commit_us;       /* monotonic time of the last commit */
	int batch_writes;             /* write requests in the open batch */
	struct core_batchq *batchq;   /* owned */
	struct core_outq *outq;       /* owned */
	struct pz_core_stats stats;
	int nesting;                  /* depth of in-core sub-requests */
	pz_core_watch_cb watch;       /* change reports, may be NULL */
	void *watch_ud;               /* borrowed */
	int64_t *touched;             /* ids changed in the open batch */
	size_t ntouched, captouched;
	pz_tlog *tlog;                /* borrowed, may be NULL (conf) */
};

/* The resolved target of a request: the ancestor chain from the CSEBase. */
struct core_target {
	struct pz_res *chain;     /* chain[0] CSEBase ... chain[n-1] target */
	int n;                    /* entries used */
	int cap;                  /* entries allocated */
	enum core_virt virt;      /* la / ol / fopt after the chain */
	char *rest;               /* path after fopt ("" if none), owned */
};

/* Everything a handler needs while it runs one request. */
struct core_ctx {
	pz_core *core;
	struct core_job *job;
	struct pz_req *req;
	struct pz_rsp *rsp;
	const char *orig;         /* authenticated originator, or NULL */
	bool admin;               /* orig is the admin */
	int64_t now;              /* request time, microseconds */
	struct core_target t;     /* resolved target */
};

/* Attribute value kinds for validation. */
enum core_akind {
	AK_STR,          /* string */
	AK_NESTR,        /* non-empty string */
	AK_UINT,         /* non-negative integer */
	AK_PINT,         /* positive integer */
	AK_BOOL,
	AK_TS,           /* oneM2M timestamp string */
	AK_STRLIST,      /* array of strings */
	AK_NESTRLIST,    /* non-empty array of non-empty strings */
	AK_INTLIST,      /* array of non-negative integers */
	AK_ANY,          /* any JSON value */
	AK_OBJ,          /* an object, checked by the type's hook */
	AK_ACPI          /* array of strings: ACP resource ids */
};

/* Whether an attribute may appear in a Create / Update. */
enum core_apres {
	AP_NP = 0,       /* not permitted (read-only or not for this op) */
	AP_O,            /* optional */
	AP_M             /* mandatory */
};

struct core_attr {
	const char *name;         /* short name */
	enum core_akind kind;
	enum core_apres create;
	enum core_apres update;
};

/* A resource type and how the core handles it. */
struct core_type {
	int ty;
	const char *root;         /* JSON root name, "m2m:cnt" */
	const char *prefix;       /* prefix of generated ri, "cnt" */
	const struct core_attr *attrs;  /* terminated by name == NULL */
	const int *children;      /* child types allowed, 0-terminated */
	bool has_acpi;            /* has its own accessControlPolicyIDs */
	bool subscribable;        /* may parent a subscription */
	bool updatable;
	bool deletable;
	/* Validate and complete a new resource (res->doc holds the request's
	 * attributes); may write other resources.  PZ_OK or PZ_EREQ. */
	int (*create)(struct core_ctx *c, struct pz_res *parent,
		      struct pz_res *res);
	/* After the row is stored: counters, side effects. */
	int (*created)(struct core_ctx *c, struct pz_res *parent,
		       struct pz_res *res);
	/* Validate an update; changes holds the request's attributes and res
	 * the current state (its doc is changed by the caller afterwards). */
	int (*update)(struct core_ctx *c, struct pz_res *res, json_t *changes);
	/* After an update is stored. */
	int (*updated)(struct core_ctx *c, struct pz_res *res, json_t *mod);
	/* Before the row (and its subtree) is removed. */
	int (*removing)(struct core_ctx *c, struct pz_res *res);
	/* Add live attributes (counters) to an outgoing representation. */
	void (*present)(struct pz_res *res, json_t *obj);
};

/* --- core.c ---------------------------------------------------------- */
void pz_core__run(pz_core *core, struct core_job *job);
int pz_core__issue_credential(struct core_ctx *c, const char *orig);
void pz_core__touch(pz_core *core, int64_t id);
const char *pz_core__local(pz_core *core, const char *id);
int pz_core__fail(struct core_ctx *c, int rsc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int pz_core__ok(struct core_ctx *c, int rsc, json_t *pc);
int pz_core__internal(struct core_ctx *c, int err, const char *what);
const struct core_type *pz_core__type(int ty);
const struct core_type *pz_core__type_by_root(const char *root);
int64_t pz_core__default_et(pz_core *core, int64_t now);
bool pz_core__is_admin(pz_core *core, const char *orig);
/* Run a request inside the current request (group fan-out): same batch,
 * nested savepoint.  The caller owns req and rsp. */
void pz_core__run_nested(struct core_ctx *outer, struct pz_req *req,
			 struct pz_rsp *rsp);

/* --- resolve.c ------------------------------------------------------- */
void pz_core__target_init(struct core_target *t);
void pz_core__target_clear(struct core_target *t);
int pz_core__push(struct core_target *t, struct pz_res *res);
int pz_core__get(pz_core *core, int64_t id, struct pz_res *out);
int pz_core__resolve(struct core_ctx *c, const char *to);
int pz_core__chain_of(struct core_ctx *c, struct pz_res *res,
		      struct core_target *out);
int pz_core__res_ri(const struct pz_res *res, char *out, size_t len);
int pz_core__find_ri(pz_core *core, const char *ri, struct pz_res *out);
int pz_core__path(const struct core_target *t, int upto, struct pz_buf *out);
bool pz_core__rn_valid(const char *rn);

/* --- repr.c ---------------------------------------------------------- */
json_t *pz_core__repr(struct core_ctx *c, struct pz_res *res);
json_t *pz_core__wrap(int ty, json_t *obj);
int pz_core__result(struct core_ctx *c, int rsc, struct pz_res *res,
		    const char *addr, json_t *modified);

/* --- attr.c ---------------------------------------------------------- */
int pz_core__validate(struct core_ctx *c, const struct core_type *type,
		      json_t *attrs, bool create);

/* --- acp.c ----------------------------------------------------------- */
bool pz_core__allowed(struct core_ctx *c, struct core_target *t, int op,
		      int child_ty);
bool pz_core__acpi_grants(struct core_ctx *c, json_t *acpi, int op);
int pz_core__check_pv(struct core_ctx *c, json_t *pv, const char *name);
int pz_core__check_acpi(struct core_ctx *c, json_t *acpi);

/* --- filter.c -------------------------------------------------------- */
bool pz_core__match(struct core_ctx *c, struct pz_res *res);
int pz_core__discover(struct core_ctx *c);
int pz_core__children(struct core_ctx *c, json_t *obj, int rcn);

/* --- notify.c -------------------------------------------------------- */
int pz_core__notify_init(pz_core *core);
void pz_core__notify_free(pz_core *core);
int pz_core__event(struct core_ctx *c, struct pz_res *res, int net,
		   struct pz_res *child, json_t *modified);
int pz_core__sub_deleted(struct core_ctx *c, struct pz_res *sub);
void pz_core__notes_commit(pz_core *core);
void pz_core__notes_drop(pz_core *core, struct core_note *upto);
int pz_core__verify(struct core_ctx *c, json_t *nus, const char *sub_ri);
int pz_core__send(pz_core *core, const char *target, json_t *pc,
		  pz_core_done_cb cb, void *ud);

/* --- types ----------------------------------------------------------- */
extern const struct core_type pz_core__cb_type;
extern const struct core_type pz_core__ae_type;
extern const struct core_type pz_core__cnt_type;
extern const struct core_type pz_core__cin_type;
extern const struct core_type pz_core__sub_type;
extern const struct core_type pz_core__acp_type;
extern const struct core_type pz_core__grp_type;

/* --- group.c --------------------------------------------------------- */
int pz_core__fanout(struct core_ctx *c);

/* --- expire.c -------------------------------------------------------- */
int pz_core__expire_init(pz_core *core);
void pz_core__expiry_note(pz_core *core, int64_t et);
void pz_core__expire_due(pz_core *core, int64_t now);
int pz_core__delete_res(struct core_ctx *c, struct pz_res *parent,
			struct pz_res *res);

/* --- cnt.c ----------------------------------------------------------- */
int pz_core__cap_instances(struct core_ctx *c, struct pz_res *cnt);
int pz_core__instance(struct core_ctx *c, struct pz_res *cnt, bool newest,
		      struct pz_res *out);

/* trust.c: identity changes into the trust log, in the open batch.
 * The ae_ ones fail the request (rsc) on error; the psk_ ones run in
 * pz_core_psk_put/_del's transaction and return the error (err says why
 * for psk_put). */
int pz_core__trust_genesis(pz_core *core);
/* core.c: end a transaction of the core's own (not a request batch):
 * commit if rc is PZ_OK, else roll back; the trust log follows.  Returns
 * rc or the commit's error. */
int pz_core__txn_end(pz_core *core, int rc);
int pz_core__trust_ae_registered(struct core_ctx *c, const char *aei,
				 const char *api);
int pz_core__trust_ae_removed(struct core_ctx *c, const char *aei);
int pz_core__trust_psk_put(pz_core *core, const char *identity,
			   const char *orig, const uint8_t *key, size_t len,
			   char *err, size_t errlen);
int pz_core__trust_psk_del(pz_core *core, const char *identity);

#endif
