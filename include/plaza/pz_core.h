/*
 * pz_core.h - the oneM2M core: identify the originator, resolve the target,
 * check access, run the resource type's handler, notify subscribers.
 *
 * The core knows nothing about HTTP, CoAP or MQTT.  Bindings hand it a
 * pz_req and get a pz_rsp back through a callback; outbound requests
 * (notifications) leave through senders the bindings register per URL
 * scheme.  Everything runs on the loop thread.
 */
#ifndef PZ_CORE_H
#define PZ_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include "plaza/pz_loop.h"
#include "plaza/pz_req.h"
#include "plaza/pz_store.h"
#include "plaza/pz_tlog.h"

typedef struct pz_core pz_core;

/* Settings the core needs; strings are copied by pz_core_new. */
struct pz_core_conf {
	const char *cse_id;        /* CSE-ID without leading '/', "plaza-in" */
	const char *cse_name;      /* CSEBase resource name, "plaza" */
	const char *sp_id;         /* SP-ID without leading "//" */
	const char *admin;         /* admin originator, full access */
	const char *poa;           /* CSEBase point of access, may be NULL */
	bool trust_origin;         /* compat: believe X-M2M-Origin as is */
	bool open_registration;    /* AEs may register without a credential */
	const char *allowed_aes;   /* space-separated patterns ('*' glob) for
				      requested AE-IDs; NULL = any */
	int64_t max_results;       /* cap on discovery / child lists */
	int64_t default_lifetime_s;/* et default; 0 = never expires */
	int64_t max_depth;         /* deepest resource tree allowed */
	int64_t verify_timeout_ms; /* subscription verification wait */
	int64_t notify_queue_max;  /* pending notifications before dropping */
	int64_t commit_interval_us;/* least time between two write commits
				      under load (group commit window) */
	pz_tlog *tlog;             /* the trust log, open on the same store
				      (borrowed, outlives the core); NULL:
				      identity changes are not logged (only
				      for tests of other parts) */
};

/* Completion of a submitted request.  Called exactly once, on the loop
 * thread, possibly before pz_core_submit returns. */
typedef void (*pz_core_done_cb)(void *ud, struct pz_rsp *rsp);

/*
 * A sender delivers a request the core originates (a notification) to url
 * and reports the peer's response through cb.  req and rsp belong to the
 * core and stay valid until cb is called; the sender fills rsp (rsc 5103
 * TARGET_NOT_REACHABLE when nothing answered).  Returns PZ_OK when queued.
 */
typedef int (*pz_core_send_fn)(void *ctx, const char *url,
			       struct pz_req *req, struct pz_rsp *rsp,
			       pz_core_done_cb cb, void *ud);

/*
 * pz_core_new - create the core on an open store and loop (both borrowed,
 * must outlive it); creates the CSEBase on first start.  Registers a loop
 * hook (group commit) and timers (expiry, batch notifications).
 * PZ_OK, PZ_ENOMEM, PZ_ESTORE, PZ_ECONFIG.
 */
int pz_core_new(const struct pz_core_conf *conf, pz_store *store,
		pz_loop *loop, pz_core **out);

/* pz_core_free - flush the open batch and free (NULL is fine). */
void pz_core_free(pz_core *core);

/*
 * pz_core_submit - handle req.  req and rsp are borrowed and must stay valid
 * until cb(ud, rsp) is called; rsp must be pz_rsp_init'ed.  A write is
 * acknowledged (cb called) only after its batch is committed.
 */
void pz_core_submit(pz_core *core, struct pz_req *req, struct pz_rsp *rsp,
		    pz_core_done_cb cb, void *ud);

/* pz_core_add_sender - route outbound requests whose URL starts with
 * scheme ("http", "https") to fn.  ctx is borrowed. */
int pz_core_add_sender(pz_core *core, const char *scheme, pz_core_send_fn fn,
		       void *ctx);

/*
 * pz_core_set_admin_secret - the admin originator's secret (plazad reads it
 * from <data>/admin.token).  Kept in memory and compared in constant time;
 * never stored in the database.  Copied.  PZ_OK or PZ_ENOMEM.
 */
int pz_core_set_admin_secret(pz_core *core, const char *secret);

/*
 * pz_core_new_secret - a fresh credential secret: 32 random bytes from the
 * kernel, base64url without padding (43 characters).  Caller frees.
 */
char *pz_core_new_secret(void);

/*
 * pz_core_set_credential - store secret (hashed) as the credential of
 * originator orig, replacing any earlier one.
 */
int pz_core_set_credential(pz_core *core, const char *orig,
			   const char *secret);

/*
 * pz_core_set_poa - record the CSE's points of access (space-separated
 * URLs, as bound at start) in the CSEBase.  PZ_OK, PZ_ENOMEM, PZ_ESTORE.
 */
int pz_core_set_poa(pz_core *core, const char *urls);

/* pz_core_flush - commit the open batch now and complete its requests
 * (normally done by the loop hook before the loop sleeps). */
void pz_core_flush(pz_core *core);

/*
 * pz_core_resolve_id - the row id of the resource an address names (for
 * <container>/la and /ol the container, for <group>/fopt the group),
 * without access control: for a binding that must recognise later changes
 * to what a client watches.  PZ_OK, PZ_ENOTFOUND (also other CSEs and
 * expired resources), PZ_ESTORE.
 */
int pz_core_resolve_id(pz_core *core, const char *to, int64_t *id);

/*
 * Change reports: after every commit, cb(ud, ids, n) lists the row ids of
 * the resources the batch created, updated or deleted, and of the parents
 * whose children changed (a container gaining an instance).  Ids may
 * repeat.  One watcher; cb must not submit requests from inside the call.
 */
typedef void (*pz_core_watch_cb)(void *ud, const int64_t *ids, size_t n);
void pz_core_watch(pz_core *core, pz_core_watch_cb cb, void *ud);

/*
 * Pre-shared keys for DTLS (RFC 4279 identities up to 128 bytes, keys up
 * to 64 bytes).  Each identity maps to the originator a session using it
 * is authenticated as.  Keys are kept in the store as given: whoever can
 * read the data directory can read them (see docs/operations.md).
 *
 * pz_core_psk_get - the key of identity into key (*len: room in, size
 * out) and its originator into orig.  Synchronous (it runs inside a DTLS
 * handshake).  PZ_OK, PZ_ENOTFOUND, PZ_ETOOBIG, PZ_ESTORE.
 */
int pz_core_psk_get(pz_core *core, const char *identity, uint8_t *key,
		    size_t *len, char *orig, size_t origlen);
/* pz_core_psk_put - add or replace identity's key and originator (NULL:
 * the identity itself), recorded in the trust log as a key binding or
 * rotation of the originator's identity (an application's record starts
 * here if the originator has none; a device must be registered first).
 * Committed before it returns.  PZ_OK; else err says why and PZ_EINVAL
 * (sizes, characters), PZ_ENOTFOUND (unregistered device), PZ_EEXIST
 * (identity names another record), PZ_ESTATE (originator revoked or
 * decommissioned), PZ_ESTORE. */
int pz_core_psk_put(pz_core *core, const char *identity, const char *orig,
		    const uint8_t *key, size_t len, char *err, size_t errlen);
/* pz_core_psk_del - forget identity (a revocation of its key in the trust
 * log).  PZ_OK, PZ_ENOTFOUND, PZ_ESTORE. */
int pz_core_psk_del(pz_core *core, const char *identity);
/* pz_core_psk_list - cb(ud, identity, originator, created_us) for every
 * identity, sorted; cb returns nonzero to stop.  Never the keys. */
int pz_core_psk_list(pz_core *core,
		     int (*cb)(void *ud, const char *identity,
			       const char *orig, int64_t created),
		     void *ud);

/*
 * The BSF's subscribers and bootstrapping contexts (src/core/boot.c, for
 * the BSF of src/boot/bsf.c and the management interface).  Writes are
 * committed before they return, each in its own transaction with its
 * trust-log entries (docs/trust.md): when the subscriber names its
 * device (sub->device, a registered urn:dev: identity), every bootstrap
 * binds the device's key of type "gba-ks" named by the B-TID (revoking
 * the previous bootstrap's) (fingerprint of Ks, never Ks), and removing the subscriber
 * revokes it; without a device a bootstrap is in plazad's log only.
 *
 * pz_core_sub_add - add sub (K, OPc, SQN, AMF, device).  PZ_OK; else err
 * says why: PZ_EINVAL, PZ_EEXIST (IMPI taken), PZ_ENOTFOUND (no such
 * device), PZ_ESTATE (not an active device), PZ_ESTORE.
 * pz_core_sub_del - remove impi and its contexts.  PZ_OK, PZ_ENOTFOUND.
 * pz_core_sub_list - cb per subscriber, without secrets.
 * pz_core_sub_get - the subscriber with its secrets: the BSF only.
 * pz_core_sub_sqn - set impi's highest SQN (resynchronisation).
 * pz_core_boot_put - store the context b and raise its subscriber's SQN
 * to sqn (never lowers it), and log the key; expired contexts are
 * deleted in the same transaction.  PZ_OK, PZ_ENOTFOUND (the
 * subscriber went away or its device is gone), PZ_ESTATE (the device is
 * revoked or decommissioned), PZ_ESTORE, the trust log's errors.
 * pz_core_boot_get - the context of btid (expired or not).
 */
int pz_core_sub_add(pz_core *core, const struct pz_store_sub *sub,
		    char *err, size_t errlen);
int pz_core_sub_del(pz_core *core, const char *impi);
int pz_core_sub_list(pz_core *core, pz_store_sub_cb cb, void *ud);
int pz_core_sub_get(pz_core *core, const char *impi,
		    struct pz_store_sub *out);
int pz_core_sub_sqn(pz_core *core, const char *impi, uint64_t sqn);
int pz_core_boot_put(pz_core *core, const struct pz_store_boot *b,
		     uint64_t sqn);
int pz_core_boot_get(pz_core *core, const char *btid,
		     struct pz_store_boot *out);

/* pz_core_random - n random bytes from the kernel (for new keys).
 * PZ_OK or PZ_EIO. */
int pz_core_random(void *out, size_t n);

/* pz_core_admin_check - is secret the credential of the admin?  For
 * management interfaces outside oneM2M (constant time). */
bool pz_core_admin_check(pz_core *core, const char *secret);

/* Counters for status and benchmarks. */
struct pz_core_stats {
	uint64_t requests;        /* requests handled */
	uint64_t batches;         /* batches committed */
	uint64_t notify_sent;     /* notifications delivered (2xxx answer) */
	uint64_t notify_failed;   /* notifications not delivered */
	uint64_t notify_dropped;  /* dropped because the queue was full */
	int64_t started;          /* start time, microseconds since epoch */
};
void pz_core_stats(const pz_core *core, struct pz_core_stats *out);

/* --- the trust repository (docs/trust.md, src/core/trust.c) --------- */

/* pz_core_tlog - the trust log given in the configuration, or NULL. */
pz_tlog *pz_core_tlog(pz_core *core);

/* pz_core_ident_get - the record any identifier names (pz_ident_resolve):
 * PZ_OK with *rec (json_decref), PZ_ENOTFOUND, PZ_EINVAL, PZ_ESTORE. */
int pz_core_ident_get(pz_core *core, const char *any, json_t **rec);

/* pz_core_ident_list - a page of up to limit records with ids after after
 * (NULL: from the first), in id order, as [{"id", "kind", "status"}] into
 * *out (json_decref).  PZ_OK, PZ_ESTORE, PZ_ECORRUPT, PZ_ENOMEM. */
int pz_core_ident_list(pz_core *core, const char *after, unsigned limit,
		       json_t **out);

/*
 * pz_core_ident_register - the operator registers a device: body is
 * {"id": <urn:dev:...>, "ae_id"?, "node_id"?, "app_id"?, "owner"?,
 * "key"?: {"type", "fp"}}.  The AE-ID (and its SP-relative and absolute
 * forms) and the node id become aliases, so the AE registering later
 * binds to this device.  Commits the open batch first, then runs in a
 * transaction of its own.  PZ_OK with *rec; else err says why and
 * PZ_EINVAL, PZ_EEXIST, PZ_ESTATE (no trust log), PZ_ESTORE, PZ_ENOMEM.
 */
int pz_core_ident_register(pz_core *core, const json_t *body, json_t **rec,
			   char *err, size_t errlen);

/* pz_core_ident_end - revoke (its keys are no longer accepted) or
 * decommission the identity any names, with an optional reason; as
 * pz_core_ident_register, plus PZ_ENOTFOUND, and PZ_ESTATE when it is
 * not active or is the platform itself. */
int pz_core_ident_end(pz_core *core, const char *any, bool decommission,
		      const char *reason, json_t **rec, char *err,
		      size_t errlen);

#endif
