/*
 * core.c - the request walk: identify, resolve, authorise, execute, answer;
 * and group commit.
 *
 * Every request runs inside the open store batch, wrapped in a savepoint.
 * A failed request rolls back alone.  Requests that wrote (and any request
 * that came after a write in the same batch) are answered only when the
 * batch commits, which the loop hook does before the loop sleeps: one
 * commit per loop turn, however many requests it served.  Reads that see
 * only committed data are answered at once.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "plaza/pz_b64.h"
#include "plaza/pz_buf.h"
#include "plaza/pz_codec.h"
#include "plaza/pz_err.h"
#include "plaza/pz_log.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_senml.h"
#include "plaza/pz_time.h"
#include "core_int.h"

static const struct core_type *const core_types[] = {
	&pz_core__acp_type, &pz_core__ae_type, &pz_core__cnt_type,
	&pz_core__cin_type, &pz_core__cb_type, &pz_core__grp_type,
	&pz_core__sub_type, NULL
};

/* oneM2M types that exist but plaza does not serve (answer 5001). */
static const int core_known_types[] = {
	10, 13, 14, 15, 16, 17, 18, 24, 25, 26, 27, 28, 29, 30, 34, 43, 44,
	47, 48, 58, 60, 62, 63, 64, 65, 66, 0
};

const struct core_type *pz_core__type(int ty)
{
	for (int i = 0; core_types[i]; i++)
		if (core_types[i]->ty == ty)
			return core_types[i];
	return NULL;
}

const struct core_type *pz_core__type_by_root(const char *root)
{
	for (int i = 0; core_types[i]; i++)
		if (!strcmp(core_types[i]->root, root))
			return core_types[i];
	return NULL;
}

/* --- responses --------------------------------------------------------- */

int pz_core__fail(struct core_ctx *c, int rsc, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_decref(c->rsp->pc);
	c->rsp->rsc = rsc;
	c->rsp->pc = json_pack("{s:s}", "m2m:dbg", msg);
	return PZ_EREQ;
}

int pz_core__ok(struct core_ctx *c, int rsc, json_t *pc)
{
	json_decref(c->rsp->pc);
	c->rsp->rsc = rsc;
	c->rsp->pc = pc;
	return PZ_OK;
}

int pz_core__internal(struct core_ctx *c, int err, const char *what)
{
	pz_log(PZ_ERROR, "core", "rqi=%s %s: %s", c->req->rqi ? c->req->rqi :
	       "-", what, pz_strerror(err));
	if (err == PZ_ENOMEM)
		return pz_core__fail(c, PZ_RSC_INTERNAL_SERVER_ERROR,
				     "out of memory while %s", what);
	return pz_core__fail(c, PZ_RSC_INTERNAL_SERVER_ERROR,
			     "internal error while %s", what);
}

int64_t pz_core__default_et(pz_core *core, int64_t now)
{
	if (core->conf.default_lifetime_s <= 0)
		return PZ_TIME_NEVER;
	return now + core->conf.default_lifetime_s * 1000000;
}

bool pz_core__is_admin(pz_core *core, const char *orig)
{
	return orig && !strcmp(orig, core->admin);
}

/* --- credentials ------------------------------------------------------- */

static int core_hash(const char *secret, uint8_t out[32])
{
	unsigned int n = 32;

	if (!EVP_Digest(secret, strlen(secret), out, &n, EVP_sha256(), NULL))
		return PZ_EIO;
	return PZ_OK;
}

int pz_core_set_credential(pz_core *core, const char *orig,
			   const char *secret)
{
	uint8_t h[32];
	int rc = core_hash(secret, h);

	if (rc != PZ_OK)
		return rc;
	return pz_store_cred_put(core->store, orig, h, sizeof(h));
}

/* Fill buf from the kernel's random source. */
int pz_core_random(void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom((char *)buf + got, n - got, 0);

		if (r < 0)
			return PZ_EIO;
		got += (size_t)r;
	}
	return PZ_OK;
}

char *pz_core_new_secret(void)
{
	unsigned char r[32];
	char *s;

	if (pz_core_random(r, sizeof(r)) != PZ_OK)
		return NULL;
	s = pz_malloc(48);
	if (s)
		pz_b64_encode(r, sizeof(r), s, 1);
	return s;
}

/* Issue a credential for orig: stored hashed, the secret goes to the
 * registrant in the response (rsp->credential). */
int pz_core__issue_credential(struct core_ctx *c, const char *orig)
{
	char *secret = pz_core_new_secret();
	int rc;

	if (!secret)
		return PZ_ENOMEM;
	rc = pz_core_set_credential(c->core, orig, secret);
	if (rc != PZ_OK) {
		pz_free(secret);
		return rc;
	}
	pz_free(c->rsp->credential);
	c->rsp->credential = secret;
	return PZ_OK;
}

int pz_core_set_admin_secret(pz_core *core, const char *secret)
{
	char *copy = pz_strdup(secret);

	if (!copy)
		return PZ_ENOMEM;
	if (core->admin_secret) {
		explicit_bzero(core->admin_secret, strlen(core->admin_secret));
		pz_free(core->admin_secret);
	}
	core->admin_secret = copy;
	return PZ_OK;
}

static bool core_equal_ct(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	unsigned diff = (unsigned)(n ^ m);

	for (size_t i = 0; i < n && i < m; i++)
		diff |= (unsigned)(a[i] ^ b[i]);
	return diff == 0;
}

/* Constant-time comparison of a presented secret with the stored hash. */
static bool core_check_secret(pz_core *core, const char *orig,
			      const char *secret)
{
	uint8_t want[64], got[32];
	size_t n = sizeof(want);
	unsigned diff = 0;

	if (!strcmp(orig, core->admin))
		return core->admin_secret &&
		       core_equal_ct(secret, core->admin_secret);
	if (pz_store_cred_get(core->store, orig, want, &n) != PZ_OK ||
	    n != sizeof(got) || core_hash(secret, got) != PZ_OK)
		return false;
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned)(want[i] ^ got[i]);
	return diff == 0;
}

/* --- change reports ------------------------------------------------------ */

void pz_core_watch(pz_core *core, pz_core_watch_cb cb, void *ud)
{
	core->watch = cb;
	core->watch_ud = ud;
}

/* Remember that row id changed in the open batch (for the watcher). */
void pz_core__touch(pz_core *core, int64_t id)
{
	int64_t *t;

	if (!core->watch || id <= 0)
		return;
	if (core->ntouched && core->touched[core->ntouched - 1] == id)
		return;
	if (core->ntouched == core->captouched) {
		size_t cap = core->captouched ? core->captouched * 2 : 64;

		t = pz_realloc(core->touched, cap * sizeof(*t));
		if (!t)
			return;  /* a lost report only delays an observer */
		core->touched = t;
		core->captouched = cap;
	}
	core->touched[core->ntouched++] = id;
}

int pz_core_resolve_id(pz_core *core, const char *to, int64_t *id)
{
	struct core_ctx c;
	struct pz_req req;
	struct pz_rsp rsp;
	int rc;

	pz_req_init(&req);
	pz_rsp_init(&rsp);
	req.to = to;
	req.internal = true;
	memset(&c, 0, sizeof(c));
	c.core = core;
	c.req = &req;
	c.rsp = &rsp;
	c.now = pz_time_now();
	pz_core__target_init(&c.t);
	rc = to && *to ? pz_core__resolve(&c, to) : PZ_EREQ;
	if (rc == PZ_OK)
		*id = c.t.chain[c.t.n - 1].id;
	else if (rc == PZ_EREQ)
		rc = rsp.rsc == PZ_RSC_INTERNAL_SERVER_ERROR ? PZ_ESTORE :
		     PZ_ENOTFOUND;
	pz_core__target_clear(&c.t);
	pz_rsp_clear(&rsp);
	pz_req_clear(&req);
	return rc;
}

/* --- pre-shared keys ------------------------------------------------------ */

static bool core_psk_identity_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 128)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

int pz_core__txn_end(pz_core *core, int rc)
{
	if (rc == PZ_OK)
		rc = pz_store_commit(core->store);
	else
		pz_store_rollback(core->store);
	if (core->tlog && rc == PZ_OK)
		pz_tlog_committed(core->tlog);
	else if (core->tlog)
		pz_tlog_aborted(core->tlog);
	return rc;
}

int pz_core_psk_put(pz_core *core, const char *identity, const char *orig,
		    const uint8_t *key, size_t len, char *err, size_t errlen)
{
	int rc;

	snprintf(err, errlen, "%s", "");
	if (!core_psk_identity_ok(identity) || len == 0 || len > 64 ||
	    (orig && !core_psk_identity_ok(orig))) {
		snprintf(err, errlen, "identity and originator are 1-128 "
			 "printable characters without spaces, the key 1-64 "
			 "bytes");
		return PZ_EINVAL;
	}
	if (pz_store_in_batch(core->store))
		pz_core_flush(core);
	rc = pz_store_begin(core->store);
	if (rc != PZ_OK)
		return rc;
	rc = pz_store_psk_put(core->store, identity, orig ? orig : identity,
			      key, len);
	if (rc == PZ_OK)
		rc = pz_core__trust_psk_put(core, identity, orig ? orig :
					    identity, key, len, err, errlen);
	return pz_core__txn_end(core, rc);
}

int pz_core_psk_get(pz_core *core, const char *identity, uint8_t *key,
		    size_t *len, char *orig, size_t origlen)
{
	char *o = NULL;
	int rc;

	if (!core_psk_identity_ok(identity))
		return PZ_ENOTFOUND;
	rc = pz_store_psk_get(core->store, identity, key, len, &o);
	if (rc == PZ_OK && (size_t)snprintf(orig, origlen, "%s", o) >= origlen)
		rc = PZ_ETOOBIG;
	pz_free(o);
	return rc;
}

int pz_core_psk_del(pz_core *core, const char *identity)
{
	int rc;

	if (!core_psk_identity_ok(identity))
		return PZ_ENOTFOUND;
	if (pz_store_in_batch(core->store))
		pz_core_flush(core);
	rc = pz_store_begin(core->store);
	if (rc != PZ_OK)
		return rc;
	rc = pz_store_psk_del(core->store, identity);
	if (rc == PZ_OK)
		rc = pz_core__trust_psk_del(core, identity);
	return pz_core__txn_end(core, rc);
}

int pz_core_psk_list(pz_core *core,
		     int (*cb)(void *ud, const char *identity,
			       const char *orig, int64_t created),
		     void *ud)
{
	return pz_store_psk_list(core->store, cb, ud);
}

bool pz_core_admin_check(pz_core *core, const char *secret)
{
	return secret && core->admin_secret &&
	       core_equal_ct(secret, core->admin_secret);
}

/* --- identify ---------------------------------------------------------- */

/* Strip this CSE's SP-relative or absolute prefix from an identifier:
 * "/plaza-in/Cae1" and "//sp/plaza-in/Cae1" both become "Cae1".  Other
 * identifiers are returned as they are. */
const char *pz_core__local(pz_core *core, const char *o)
{
	size_t n;

	if (!o)
		return NULL;
	if (o[0] == '/' && o[1] == '/') {
		n = strlen(core->sp_id);
		if (strncmp(o + 2, core->sp_id, n) || o[2 + n] != '/')
			return o;
		o += 2 + n;
	}
	n = strlen(core->csi);
	if (!strncmp(o, core->csi, n) && o[n] == '/' && o[n + 1])
		return o + n + 1;
	return o;
}

static bool core_is_registration(const struct pz_req *req)
{
	return req->op == PZ_OP_CREATE && req->ty == PZ_TY_AE;
}

static int core_identify(struct core_ctx *c)
{
	struct pz_req *req = c->req;
	pz_core *core = c->core;
	const char *fr = pz_core__local(core, req->fr);
	const char *id;

	if (fr && !*fr)
		fr = NULL;
	if (req->internal || core->conf.trust_origin) {
		c->orig = fr;
		goto done;
	}
	switch (req->auth) {
	case PZ_AUTH_PEER:
		id = pz_core__local(core, req->auth_id);
		if (fr && id && strcmp(fr, id) && !core_is_registration(req))
			return pz_core__fail(c,
				PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE,
				"originator '%s' does not match the "
				"authenticated identity '%s'", fr, id);
		c->orig = id;
		break;
	case PZ_AUTH_SECRET:
		id = req->auth_id ? pz_core__local(core, req->auth_id) : fr;
		if (!id)
			return pz_core__fail(c, PZ_RSC_BAD_REQUEST,
				"a credential was presented without an "
				"originator (X-M2M-Origin)");
		if (fr && strcmp(fr, id))
			return pz_core__fail(c,
				PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE,
				"originator '%s' does not match the "
				"credential's originator '%s'", fr, id);
		if (!req->secret || !core_check_secret(core, id, req->secret))
			return pz_core__fail(c,
				PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE,
				"invalid credential for originator '%s'", id);
		c->orig = id;
		break;
	default:
		if (core_is_registration(req)) {
			if (!core->conf.open_registration)
				return pz_core__fail(c,
					PZ_RSC_SECURITY_ASSOCIATION_REQUIRED,
					"registration requires a credential "
					"(open registration is disabled)");
			c->orig = fr;  /* the requested AE-ID, unproven */
			break;
		}
		return pz_core__fail(c, PZ_RSC_SECURITY_ASSOCIATION_REQUIRED,
				     "authentication required: present the "
				     "originator's credential");
	}
done:
	c->admin = pz_core__is_admin(core, c->orig);
	return PZ_OK;
}

/* --- request checks ---------------------------------------------------- */

static const char *const core_rvis[] = { "1", "2", "2a", "3", "4", "5",
					 NULL };

static int core_check_req(struct core_ctx *c)
{
	struct pz_req *req = c->req;
	int rcn = req->rcn;
	bool ok = false;

	if (!req->to || !*req->to)
		return pz_core__fail(c, PZ_RSC_BAD_REQUEST,
				     "missing target (to)");
	if (!req->rqi || !*req->rqi)
		return pz_core__fail(c, PZ_RSC_BAD_REQUEST,
				     "missing request identifier (rqi, "
				     "X-M2M-RI)");
	if (req->rvi) {
		for (int i = 0; core_rvis[i]; i++)
			ok |= !strcmp(req->rvi, core_rvis[i]);
		if (!ok)
			return pz_core__fail(c,
				PZ_RSC_RELEASE_VERSION_NOT_SUPPORTED,
				"release version '%.16s' is not supported "
				"(2a, 3, 4, 5)", req->rvi);
	}
	if ((!req->fr || !*req->fr) && !core_is_registration(req) &&
	    !req->internal)
		return pz_core__fail(c, PZ_RSC_BAD_REQUEST,
				     "missing originator (fr, X-M2M-Origin)");
	if (req->rt == 1 || req->rt == 2 || req->rt == 4)
		return pz_core__fail(c, PZ_RSC_NOT_IMPLEMENTED,
				     "non-blocking requests (rt=%d) are not "
				     "supported", req->rt);
	if (req->rqet > 0 && req->rqet < c->now)
		return pz_core__fail(c, PZ_RSC_REQUEST_TIMEOUT,
				     "request expired before it was handled");
	if (req->fc.fu == 2 && req->op != PZ_OP_RETRIEVE)
		return pz_core__fail(c, PZ_RSC_BAD_REQUEST,
				     "filter usage applies to retrieve only");
	switch (req->op) {
	case PZ_OP_CREATE:
		ok = rcn == PZ_RCN_DEFAULT || (rcn >= 0 && rcn <= 3);
		break;
	case PZ_OP_RETRIEVE:
		ok = rcn == PZ_RCN_DEFAULT || rcn == 1 || rcn == 4 ||
		     rcn == 5 || rcn == 6 || rcn == 8 ||
		     (rcn == 11 && req->fc.fu == 1);
		break;
	case PZ_OP_UPDATE:
		ok = rcn == PZ_RCN_DEFAULT || rcn == 0 || rcn == 1 || rcn == 9;
		break;
	case PZ_OP_DELETE:
		ok = rcn == PZ_RCN_DEFAULT || rcn == 0 || rcn == 1;
		break;
	case PZ_OP_NOTIFY:
		ok = true;
		break;
	default:
		return pz_core__fail(c, PZ_RSC_BAD_REQUEST,
				     "unknown operation %d", req->op);
	}
	if (!ok)
		return pz_core__fail(c, PZ_RSC_BAD_REQUEST,
				     "result content rcn=%d is not allowed for "
				     "%s", rcn, pz_op_name(req->op));
	return PZ_OK;
}

/* --- the operations ---------------------------------------------------- */

static struct pz_res *core_target_res(struct core_ctx *c)
{
	return &c->t.chain[c->t.n - 1];
}

/* Extract the attribute object of {"<root>": {...}}; NULL after failing. */
static json_t *core_content(struct core_ctx *c, const struct core_type *type)
{
	json_t *pc = c->req->pc, *attrs;
	const char *key;

	if (!pc || !json_is_object(pc) || json_object_size(pc) != 1) {
		pz_core__fail(c, PZ_RSC_BAD_REQUEST,
			      "content must be one object {\"%s\": {...}}",
			      type->root);
		return NULL;
	}
	key = json_object_iter_key(json_object_iter(pc));
	attrs = json_object_get(pc, key);
	if (strcmp(key, type->root)) {
		pz_core__fail(c, PZ_RSC_BAD_REQUEST,
			      "content root '%.40s' does not match the resource "
			      "type (expected '%s')", key, type->root);
		return NULL;
	}
	if (!json_is_object(attrs)) {
		pz_core__fail(c, PZ_RSC_BAD_REQUEST,
			      "'%s' must be an object of attributes",
			      type->root);
		return NULL;
	}
	return attrs;
}

static bool core_child_allowed(const struct core_type *parent, int ty)
{
	for (const int *p = parent->children; p && *p; p++)
		if (*p == ty)
			return true;
	return false;
}

static bool core_type_known(int ty)
{
	for (int i = 0; core_known_types[i]; i++)
		if (core_known_types[i] == ty)
			return true;
	return false;
}

/* The name is taken by a resource whose expirationTime has passed but
 * that the sweep has not removed yet: remove it now.  PZ_OK if the name
 * is free afterwards. */
static int core_reclaim_name(struct core_ctx *c, struct pz_res *parent,
			     const char *rn)
{
	struct pz_res old;
	int rc;

	pz_res_init(&old);
	rc = pz_store_get_child(c->core->store, parent->id, rn, &old);
	if (rc == PZ_OK && old.et > c->now)
		rc = PZ_EEXIST;
	if (rc == PZ_OK)
		rc = pz_core__delete_res(c, parent, &old);
	pz_res_clear(&old);
	return rc;
}

/*
 * Store one new resource of type under the target from its request
 * attributes (a reference the caller passes on): validation, defaults,
 * the type's hooks, the row, counters and events.  *res and *path (its
 * hierarchical address) are the caller's to clear.  PZ_OK, PZ_EREQ, or
 * PZ_EPENDING (a subscription waiting for its verification).
 */
static int core_insert(struct core_ctx *c, const struct core_type *type,
		       json_t *attrs, struct pz_res *res, struct pz_buf *path)
{
	struct pz_res *parent = core_target_res(c);
	json_t *v;
	char ri[CORE_RI_MAX];
	int rc;

	rc = pz_core__validate(c, type, attrs, true);
	if (rc != PZ_OK)
		goto out;
	v = json_object_get(attrs, "rn");
	if (v && !pz_core__rn_valid(json_string_value(v))) {
		rc = pz_core__fail(c, PZ_RSC_BAD_REQUEST,
				   "invalid resource name '%.64s': use 1-64 "
				   "of A-Z a-z 0-9 - . _ ~, not la/ol/fopt",
				   json_string_value(v));
		goto out;
	}
	res->pid = parent->id;
	res->ty = type->ty;
	res->ct = res->lt = c->now;
	res->et = pz_core__default_et(c->core, c->now);
	res->doc = attrs;
	attrs = NULL;
	res->org = pz_strdup(c->orig ? c->orig : c->core->admin);
	if (!res->org) {
		rc = pz_core__internal(c, PZ_ENOMEM, "creating");
		goto out;
	}
	if ((v = json_object_get(res->doc, "et"))) {
		if (pz_time_parse(json_string_value(v), &res->et) != PZ_OK) {
			rc = pz_core__fail(c, PZ_RSC_BAD_REQUEST,
					   "invalid expirationTime");
			goto out;
		}
		if (res->et <= c->now) {
			rc = pz_core__fail(c, PZ_RSC_BAD_REQUEST,
					   "expirationTime is in the past");
			goto out;
		}
		json_object_del(res->doc, "et");
	}
	if ((v = json_object_get(res->doc, "rn"))) {
		res->rn = pz_strdup(json_string_value(v));
		json_object_del(res->doc, "rn");
	}
	/* "cr": null asks the CSE to record the creator. */
	if (json_object_get(res->doc, "cr"))
		json_object_set_new(res->doc, "cr", json_string(
			c->orig ? c->orig : ""));
	if (c->job && c->job->reserved_id) {
		res->id = c->job->reserved_id;
	} else {
		res->id = pz_store_next_id(c->core->store);
		if (c->job && type->ty == PZ_TY_SUB)
			c->job->reserved_id = res->id;
	}
	rc = type->create ? type->create(c, parent, res) : PZ_OK;
	if (rc != PZ_OK)
		goto out;
	if (!res->rn) {
		pz_core__res_ri(res, ri, sizeof(ri));
		res->rn = pz_strdup(ri);
	}
	pz_core__res_ri(parent, ri, sizeof(ri));
	if (!res->rn || json_object_set_new(res->doc, "pi", json_string(ri))) {
		rc = pz_core__internal(c, PZ_ENOMEM, "creating");
		goto out;
	}
	rc = pz_store_insert(c->core->store, res);
	if (rc == PZ_EEXIST && core_reclaim_name(c, parent, res->rn) == PZ_OK)
		rc = pz_store_insert(c->core->store, res);
	if (rc == PZ_EEXIST) {
		rc = pz_core__fail(c, PZ_RSC_CONFLICT,
				   "a resource named '%s' already exists here",
				   res->rn);
		goto out;
	}
	if (rc != PZ_OK) {
		rc = pz_core__internal(c, rc, "storing the resource");
		goto out;
	}
	if (res->et != PZ_TIME_NEVER)
		pz_core__expiry_note(c->core, res->et);
	pz_core__touch(c->core, res->id);
	pz_core__touch(c->core, parent->id);
	if (type->created) {
		rc = type->created(c, parent, res);
		if (rc != PZ_OK)
			goto out;
	}
	rc = pz_core__event(c, parent, PZ_NET_CREATE_CHILD, res, NULL);
	if (rc != PZ_OK)
		goto out;
	rc = pz_core__path(&c->t, c->t.n, path);
	if (rc == PZ_OK)
		rc = pz_buf_addf(path, "/%s", res->rn);
	if (rc != PZ_OK)
		rc = pz_core__internal(c, rc, "creating");
out:
	json_decref(attrs);
	return rc;
}

static int core_create_senml(struct core_ctx *c);

static int core_create(struct core_ctx *c)
{
	struct pz_req *req = c->req;
	struct pz_res *parent = core_target_res(c);
	const struct core_type *type = pz_core__type(req->ty);
	const struct core_type *ptype = pz_core__type(parent->ty);
	struct pz_res res;
	struct pz_buf path;
	json_t *attrs;
	int rc;

	if (c->t.virt != CORE_VIRT_NONE)
		return pz_core__fail(c, PZ_RSC_OPERATION_NOT_ALLOWED,
				     "cannot create under a virtual resource");
	if (req->pc_kind == PZ_PC_SENML)
		return core_create_senml(c);
	if (!req->ty)
		return pz_core__fail(c, PZ_RSC_BAD_REQUEST,
				     "create without a resource type (ty)");
	if (!type)
		return pz_core__fail(c, core_type_known(req->ty) ?
				     PZ_RSC_NOT_IMPLEMENTED :
				     PZ_RSC_BAD_REQUEST,
				     "resource type %d is not supported",
				     req->ty);
	if (req->ty == PZ_TY_SUB && ptype && !ptype->subscribable)
		return pz_core__fail(c, PZ_RSC_TARGET_NOT_SUBSCRIBABLE,
				     "a %s cannot be subscribed to",
				     ptype->root);
	if (!ptype || !core_child_allowed(ptype, req->ty))
		return pz_core__fail(c, PZ_RSC_INVALID_CHILD_RESOURCE_TYPE,
				     "a %s cannot have a %s child", ptype ?
				     ptype->root : "resource", type->root);
	attrs = core_content(c, type);
	if (!attrs)
		return PZ_EREQ;
	if (c->t.n >= c->core->conf.max_depth)
		return pz_core__fail(c, PZ_RSC_NOT_ACCEPTABLE,
				     "resource tree deeper than %lld levels",
				     (long long)c->core->conf.max_depth);
	if (!pz_core__allowed(c, &c->t, PZ_ACOP_CREATE, req->ty))
		return pz_core__fail(c, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE,
				     "originator '%s' may not create a %s here",
				     c->orig ? c->orig : "(none)", type->root);
	/* The request's own content becomes the stored document (a request
	 * owns its content alone; see group.c).  A subscription's create may
	 * run twice (around its verification), so it works on a copy. */
	attrs = req->ty == PZ_TY_SUB ? json_deep_copy(attrs) :
		json_incref(attrs);
	if (!attrs)
		return pz_core__internal(c, PZ_ENOMEM, "creating");
	pz_res_init(&res);
	pz_buf_init(&path, 0);
	rc = core_insert(c, type, attrs, &res, &path);
	if (rc == PZ_OK)
		rc = pz_core__result(c, PZ_RSC_CREATED, &res, path.data, NULL);
	if (rc == PZ_OK) {
		c->rsp->location = pz_buf_take(&path);
		if (!c->rsp->location)
			rc = pz_core__internal(c, PZ_ENOMEM, "answering");
	}
	pz_buf_free(&path);
	pz_res_clear(&res);
	return rc;
}

/* Is the SenML mode of container cnt "one instance per pack"? */
static bool core_senml_per_pack(struct pz_res *cnt)
{
	json_t *lbl = json_object_get(pz_res_doc(cnt), "lbl"), *v;
	size_t i;

	json_array_foreach(lbl, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v),
						 "senml:pack"))
			return true;
	return false;
}

/* The attributes of one contentInstance holding SenML records. */
static json_t *core_senml_cin(const struct pz_senml_rec *recs, size_t n)
{
	json_t *pack = json_array(), *lbl = json_array(), *attrs = NULL;
	struct pz_buf text;

	pz_buf_init(&text, 0);
	if (!pack || !lbl)
		goto out;
	for (size_t i = 0; i < n; i++) {
		bool seen = false;
		json_t *v;
		size_t k;
		char tag[300];

		if (json_array_append_new(pack, pz_senml_record_json(&recs[i])))
			goto out;
		snprintf(tag, sizeof(tag), "senml:%s", recs[i].name);
		json_array_foreach(lbl, k, v)
			seen |= !strcmp(json_string_value(v), tag);
		if (!seen && json_array_size(lbl) < 32 &&
		    json_array_append_new(lbl, json_string(tag)))
			goto out;
	}
	if (pz_codec_encode(PZ_FMT_JSON, pack, &text) != PZ_OK)
		goto out;
	attrs = json_pack("{s:s,s:s,s:O}", "cnf", "application/senml+json:0",
			  "con", text.data, "lbl", lbl);
out:
	pz_buf_free(&text);
	json_decref(pack);
	json_decref(lbl);
	return attrs;
}

/*
 * A SenML pack posted to a container: resolved against the receive time
 * and stored as one contentInstance per record (or one per pack when the
 * container is labelled "senml:pack"), each holding its records as
 * resolved SenML JSON, labelled "senml:<name>" so a sensor's series can be
 * discovered.  The answer lists the new instances (m2m:uril).
 */
static int core_create_senml(struct core_ctx *c)
{
	struct pz_res *cnt = core_target_res(c);
	const struct core_type *type = &pz_core__cin_type;
	struct pz_senml_pack pack = { NULL, 0 };
	struct pz_buf path;
	struct pz_res res;
	json_t *list = NULL, *attrs;
	char err[300];
	size_t per, i;
	int rc;

	if (cnt->ty != PZ_TY_CNT)
		return pz_core__fail(c, PZ_RSC_BAD_REQUEST,
				     "SenML is posted to a container");
	if (!pz_core__allowed(c, &c->t, PZ_ACOP_CREATE, PZ_TY_CIN))
		return pz_core__fail(c, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE,
				     "originator '%s' may not create "
				     "instances here", c->orig ? c->orig :
				     "(none)");
	rc = pz_senml_resolve(c->req->pc, c->now, &pack, err, sizeof(err));
	if (rc == PZ_ENOMEM)
		return pz_core__internal(c, rc, "resolving SenML");
	if (rc != PZ_OK)
		return pz_core__fail(c, PZ_RSC_BAD_REQUEST, "%s", err);
	if (pack.n == 0) {
		pz_senml_pack_free(&pack);
		return pz_core__fail(c, PZ_RSC_BAD_REQUEST,
				     "the SenML pack has no records");
	}
	per = core_senml_per_pack(cnt) ? pack.n : 1;
	list = json_array();
	pz_buf_init(&path, 0);
	rc = list ? PZ_OK : pz_core__internal(c, PZ_ENOMEM, "storing SenML");
	for (i = 0; rc == PZ_OK && i < pack.n; i += per) {
		attrs = core_senml_cin(pack.recs + i, per);
		if (!attrs) {
			rc = pz_core__internal(c, PZ_ENOMEM, "storing SenML");
			break;
		}
		pz_res_init(&res);
		pz_buf_reset(&path);
		rc = core_insert(c, type, attrs, &res, &path);
		if (rc == PZ_OK &&
		    json_array_append_new(list, json_string(path.data)))
			rc = pz_core__internal(c, PZ_ENOMEM, "storing SenML");
		pz_res_clear(&res);
	}
	if (rc == PZ_OK) {
		c->rsp->location = pz_buf_take(&path);
		rc = pz_core__ok(c, PZ_RSC_CREATED,
				 json_pack("{s:O}", "m2m:uril", list));
	}
	pz_buf_free(&path);
	json_decref(list);
	pz_senml_pack_free(&pack);
	return rc;
}

static int core_retrieve(struct core_ctx *c)
{
	struct pz_req *req = c->req;
	struct pz_res *tr = core_target_res(c), inst;
	int rc;

	if (c->t.virt == CORE_VIRT_LA || c->t.virt == CORE_VIRT_OL) {
		if (!pz_core__allowed(c, &c->t, PZ_ACOP_RETRIEVE, 0))
			return pz_core__fail(c,
				PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE,
				"originator '%s' may not retrieve this "
				"container's instances", c->orig);
		if (req->rcn != PZ_RCN_DEFAULT && req->rcn != 1)
			return pz_core__fail(c, PZ_RSC_BAD_REQUEST,
				"only rcn=1 applies to latest/oldest");
		pz_res_init(&inst);
		rc = pz_core__instance(c, tr, c->t.virt == CORE_VIRT_LA,
				       &inst);
		if (rc == PZ_OK && inst.et <= c->now)
			rc = PZ_ENOTFOUND;  /* expired, the sweep is behind */
		if (rc == PZ_ENOTFOUND)
			return pz_core__fail(c, PZ_RSC_NOT_FOUND,
					     "the container has no instances");
		if (rc != PZ_OK)
			return pz_core__internal(c, rc, "reading the instance");
		rc = pz_core__result(c, PZ_RSC_OK, &inst, NULL, NULL);
		pz_res_clear(&inst);
		return rc;
	}
	if (req->fc.fu == 1)
		return pz_core__discover(c);
	if (!pz_core__allowed(c, &c->t, PZ_ACOP_RETRIEVE, 0))
		return pz_core__fail(c, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE,
				     "originator '%s' may not retrieve this "
				     "resource", c->orig ? c->orig : "(none)");
	if (req->pc && !json_is_null(req->pc))
		return pz_core__fail(c, PZ_RSC_BAD_REQUEST,
				     "a retrieve request carries no content");
	return pz_core__result(c, PZ_RSC_OK, tr, NULL, NULL);
}

/* Apply changes to the stored document; collect what changed in mod. */
static int core_apply(struct core_ctx *c, struct pz_res *res, json_t *changes,
		      json_t *mod)
{
	json_t *doc = pz_res_doc(res), *v;
	const char *k;

	if (!doc)
		return pz_core__internal(c, PZ_ESTORE, "reading the resource");
	json_object_foreach(changes, k, v) {
		if (!strcmp(k, "et")) {
			if (json_is_null(v)) {
				res->et = pz_core__default_et(c->core, c->now);
			} else if (pz_time_parse(json_string_value(v),
						 &res->et) != PZ_OK ||
				   res->et <= c->now) {
				return pz_core__fail(c, PZ_RSC_BAD_REQUEST,
					"invalid or past expirationTime");
			}
		} else if (json_is_null(v)) {
			json_object_del(doc, k);
		} else if (json_object_set(doc, k, v)) {
			return pz_core__internal(c, PZ_ENOMEM, "updating");
		}
		if (json_object_set(mod, k, v))
			return pz_core__internal(c, PZ_ENOMEM, "updating");
	}
	return PZ_OK;
}

static int core_update(struct core_ctx *c)
{
	struct pz_res *res = core_target_res(c);
	const struct core_type *type = pz_core__type(res->ty);
	json_t *attrs, *mod;
	int rc;

	if (c->t.virt != CORE_VIRT_NONE && c->t.virt != CORE_VIRT_FOPT)
		return pz_core__fail(c, PZ_RSC_OPERATION_NOT_ALLOWED,
				     "latest/oldest cannot be updated");
	if (c->t.virt == CORE_VIRT_FOPT)
		return pz_core__fanout(c);
	if (!type || !type->updatable)
		return pz_core__fail(c, PZ_RSC_OPERATION_NOT_ALLOWED,
				     "a %s cannot be updated", type ?
				     type->root : "resource");
	attrs = core_content(c, type);
	if (!attrs)
		return PZ_EREQ;
	if (!pz_core__allowed(c, &c->t, PZ_ACOP_UPDATE, 0))
		return pz_core__fail(c, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE,
				     "originator '%s' may not update this "
				     "resource", c->orig ? c->orig : "(none)");
	rc = pz_core__validate(c, type, attrs, false);
	if (rc != PZ_OK)
		return rc;
	if (type->update) {
		rc = type->update(c, res, attrs);
		if (rc != PZ_OK)
			return rc;
	}
	mod = json_object();
	if (!mod)
		return pz_core__internal(c, PZ_ENOMEM, "updating");
	rc = core_apply(c, res, attrs, mod);
	if (rc != PZ_OK)
		goto out;
	res->lt = c->now;
	if (res->ty == PZ_TY_CNT)
		res->st++;
	rc = pz_store_update(c->core->store, res);
	if (rc != PZ_OK) {
		rc = pz_core__internal(c, rc, "storing the update");
		goto out;
	}
	if (res->et != PZ_TIME_NEVER)
		pz_core__expiry_note(c->core, res->et);
	pz_core__touch(c->core, res->id);
	if (type->updated) {
		rc = type->updated(c, res, mod);
		if (rc != PZ_OK)
			goto out;
	}
	rc = pz_core__event(c, res, PZ_NET_UPDATE, NULL, mod);
	if (rc == PZ_OK)
		rc = pz_core__result(c, PZ_RSC_UPDATED, res, NULL, mod);
out:
	json_decref(mod);
	return rc;
}

static int core_delete(struct core_ctx *c)
{
	struct pz_res *res = core_target_res(c);
	const struct core_type *type = pz_core__type(res->ty);
	struct pz_res inst;
	int rc;

	if (c->t.virt == CORE_VIRT_FOPT)
		return pz_core__fanout(c);
	if (c->t.virt == CORE_VIRT_LA || c->t.virt == CORE_VIRT_OL) {
		/* Deleting latest/oldest deletes that instance. */
		pz_res_init(&inst);
		rc = pz_core__instance(c, res, c->t.virt == CORE_VIRT_LA,
				       &inst);
		if (rc == PZ_ENOTFOUND)
			return pz_core__fail(c, PZ_RSC_NOT_FOUND,
					     "the container has no instances");
		if (rc != PZ_OK)
			return pz_core__internal(c, rc, "reading the instance");
		rc = pz_core__push(&c->t, &inst);
		if (rc != PZ_OK)
			return pz_core__internal(c, rc, "deleting");
		c->t.virt = CORE_VIRT_NONE;
		res = core_target_res(c);
		type = pz_core__type(res->ty);
	}
	if (!type || !type->deletable)
		return pz_core__fail(c, PZ_RSC_OPERATION_NOT_ALLOWED,
				     "the %s cannot be deleted", type ?
				     type->root : "resource");
	if (!pz_core__allowed(c, &c->t, PZ_ACOP_DELETE, 0))
		return pz_core__fail(c, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE,
				     "originator '%s' may not delete this "
				     "resource", c->orig ? c->orig : "(none)");
	/* The representation for rcn=1 is taken before the row goes. */
	rc = pz_core__result(c, PZ_RSC_DELETED, res, NULL, NULL);
	if (rc == PZ_OK)
		rc = pz_core__delete_res(c, &c->t.chain[c->t.n - 2], res);
	return rc;
}

static int core_notify(struct core_ctx *c)
{
	return pz_core__fail(c, PZ_RSC_OPERATION_NOT_ALLOWED,
			     "this CSE accepts no notifications at '%s'",
			     c->req->to);
}

/* The walk of one request; leaves the answer in c->rsp. */
static int core_handle(struct core_ctx *c)
{
	int rc = core_check_req(c);

	if (rc == PZ_OK)
		rc = core_identify(c);
	if (rc == PZ_OK)
		rc = pz_core__resolve(c, c->req->to);
	if (rc != PZ_OK)
		return rc;
	switch (c->req->op) {
	case PZ_OP_CREATE:
		if (c->t.virt == CORE_VIRT_FOPT)
			return pz_core__fanout(c);
		return core_create(c);
	case PZ_OP_RETRIEVE:
		if (c->t.virt == CORE_VIRT_FOPT)
			return pz_core__fanout(c);
		return core_retrieve(c);
	case PZ_OP_UPDATE:
		return core_update(c);
	case PZ_OP_DELETE:
		return core_delete(c);
	default:
		return core_notify(c);
	}
}

/* --- jobs and batches -------------------------------------------------- */

static void core_log(struct core_ctx *c, int64_t started)
{
	struct pz_req *req = c->req;

	pz_log(PZ_INFO, req->binding ? req->binding : "core",
	       "%s %s %s to=%.200s rqi=%.64s rsc=%d %lldus",
	       req->peer ? req->peer : "-",
	       c->orig ? c->orig : (req->fr && *req->fr ? req->fr : "-"),
	       pz_op_name(req->op), req->to ? req->to : "-",
	       req->rqi ? req->rqi : "-", c->rsp->rsc,
	       (long long)(pz_time_now() - started));
}

static int64_t core_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void core_finish(struct core_job *job)
{
	pz_core_done_cb cb = job->cb;
	void *ud = job->ud;
	struct pz_rsp *rsp = job->rsp;

	pz_free(job);
	cb(ud, rsp);
}

static bool core_is_write(const struct pz_req *req)
{
	return req->op == PZ_OP_CREATE || req->op == PZ_OP_UPDATE ||
	       req->op == PZ_OP_DELETE;
}

static void core_prepare_rsp(struct core_ctx *c)
{
	struct pz_rsp *rsp = c->rsp;

	if (!rsp->rqi && c->req->rqi)
		rsp->rqi = pz_strdup(c->req->rqi);
	snprintf(rsp->rvi, sizeof(rsp->rvi), "%s",
		 c->req->rvi ? c->req->rvi : "4");
	if (!rsp->rsc)
		rsp->rsc = PZ_RSC_INTERNAL_SERVER_ERROR;
}

/* The store rolled back to a savepoint taken at trust-log size mark. */
static void core_tlog_rollback(pz_core *core, uint64_t mark)
{
	if (core->tlog && pz_tlog_rollback(core->tlog, mark) != PZ_OK)
		pz_log(PZ_ERROR, "core", "the trust log could not follow a "
		       "rollback; restart plazad");
}

void pz_core__run(pz_core *core, struct core_job *job)
{
	struct core_ctx c;
	struct core_note *mark;
	size_t tmark;
	uint64_t lmark;
	int64_t started = pz_time_now();
	int rc;

	memset(&c, 0, sizeof(c));
	c.core = core;
	c.job = job;
	c.req = job->req;
	c.rsp = job->rsp;
	c.now = started;
	pz_core__target_init(&c.t);
	core->stats.requests++;
	if (!pz_store_in_batch(core->store)) {
		rc = pz_store_begin(core->store);
		if (rc != PZ_OK) {
			pz_core__internal(&c, rc, "starting a transaction");
			goto done;
		}
	}
	/* Whatever expired before this request is gone before it runs. */
	pz_core__expire_due(core, started);
	rc = pz_store_savepoint(core->store);
	if (rc != PZ_OK) {
		pz_core__internal(&c, rc, "starting a transaction");
		goto done;
	}
	mark = core->notes;
	tmark = core->ntouched;
	lmark = core->tlog ? pz_tlog_size(core->tlog) : 0;
	rc = core_handle(&c);
	if (rc == PZ_EPENDING) {
		/* Waiting for subscription verification: nothing was written;
		 * the verification callback runs the job again. */
		pz_store_rollback_to(core->store);
		pz_core__notes_drop(core, mark);
		core->ntouched = tmark;
		core_tlog_rollback(core, lmark);
		pz_core__target_clear(&c.t);
		return;
	}
	if (rc != PZ_OK && rc != PZ_EREQ)
		pz_core__internal(&c, rc, "handling the request");
	if (c.rsp->rsc >= 4000 || (rc != PZ_OK && rc != PZ_EREQ)) {
		pz_store_rollback_to(core->store);
		pz_core__notes_drop(core, mark);
		core->ntouched = tmark;
		core_tlog_rollback(core, lmark);
	} else if (pz_store_release(core->store) != PZ_OK) {
		pz_core__internal(&c, PZ_ESTORE, "finishing the transaction");
	} else {
		job->wrote = core_is_write(c.req);
	}
done:
	pz_core__target_clear(&c.t);
	core_prepare_rsp(&c);
	core_log(&c, started);
	if (job->wrote) {
		core->dirty = true;
		core->batch_writes++;
	}
	if (!core->dirty || !pz_store_in_batch(core->store)) {
		core_finish(job);
		return;
	}
	job->next = NULL;
	*core->pending_tail = job;
	core->pending_tail = &job->next;
}

void pz_core__run_nested(struct core_ctx *outer, struct pz_req *req,
			 struct pz_rsp *rsp)
{
	struct core_ctx c;
	struct core_note *mark = outer->core->notes;
	size_t tmark = outer->core->ntouched;
	uint64_t lmark = outer->core->tlog ? pz_tlog_size(outer->core->tlog) :
			 0;
	int rc;

	memset(&c, 0, sizeof(c));
	c.core = outer->core;
	c.req = req;
	c.rsp = rsp;
	c.now = outer->now;
	pz_core__target_init(&c.t);
	outer->core->nesting++;
	rc = pz_store_savepoint(c.core->store);
	if (rc == PZ_OK)
		rc = core_handle(&c);
	else
		pz_core__internal(&c, rc, "starting a transaction");
	if (rc == PZ_EPENDING)
		pz_core__fail(&c, PZ_RSC_NOT_IMPLEMENTED,
			      "this operation cannot run through a group "
			      "fan-out (it needs a verification round trip)");
	else if (rc != PZ_OK && rc != PZ_EREQ)
		pz_core__internal(&c, rc, "handling the request");
	if (pz_store_in_batch(c.core->store) && c.core->store->depth > 1) {
		if (c.rsp->rsc >= 4000 || rc != PZ_OK) {
			pz_store_rollback_to(c.core->store);
			pz_core__notes_drop(c.core, mark);
			c.core->ntouched = tmark;
			core_tlog_rollback(c.core, lmark);
		} else {
			pz_store_release(c.core->store);
		}
	}
	outer->core->nesting--;
	pz_core__target_clear(&c.t);
	core_prepare_rsp(&c);
}

void pz_core_submit(pz_core *core, struct pz_req *req, struct pz_rsp *rsp,
		    pz_core_done_cb cb, void *ud)
{
	struct core_job *job = pz_calloc(1, sizeof(*job));

	if (!job) {
		rsp->rsc = PZ_RSC_INTERNAL_SERVER_ERROR;
		rsp->pc = json_pack("{s:s}", "m2m:dbg", "out of memory");
		cb(ud, rsp);
		return;
	}
	job->core = core;
	job->req = req;
	job->rsp = rsp;
	job->cb = cb;
	job->ud = ud;
	pz_core__run(core, job);
}

void pz_core_flush(pz_core *core)
{
	struct core_job *job, *next;
	int rc;

	if (!pz_store_in_batch(core->store))
		return;
	if (core->loop)
		pz_loop_timer_stop(core->loop, &core->commit_timer);
	if (core->dirty) {
		core->stats.batches++;
		core->last_commit_us = core_mono_us();
	}
	rc = pz_store_commit(core->store);
	job = core->pending;
	core->pending = NULL;
	core->pending_tail = &core->pending;
	core->dirty = false;
	core->batch_writes = 0;
	if (core->tlog && rc == PZ_OK)
		pz_tlog_committed(core->tlog);
	else if (core->tlog)
		pz_tlog_aborted(core->tlog);
	if (rc == PZ_OK) {
		pz_core__notes_commit(core);
		if (core->watch && core->ntouched)
			core->watch(core->watch_ud, core->touched,
				    core->ntouched);
		core->ntouched = 0;
	} else {
		core->ntouched = 0;
		pz_log(PZ_ERROR, "core", "commit failed: %s; %s", pz_strerror(rc),
		       "answering the batch with 5000");
		pz_core__notes_drop(core, NULL);
	}
	for (; job; job = next) {
		next = job->next;
		if (rc != PZ_OK) {
			json_decref(job->rsp->pc);
			pz_free(job->rsp->location);
			job->rsp->location = NULL;
			pz_free(job->rsp->credential);
			job->rsp->credential = NULL;
			job->rsp->rsc = PZ_RSC_INTERNAL_SERVER_ERROR;
			job->rsp->pc = json_pack("{s:s}", "m2m:dbg",
						 "the storage commit failed");
		}
		core_finish(job);
	}
}

/*
 * Before the loop sleeps: commit.  Under load, writes are gathered for up
 * to commit_interval_us after the previous commit, so a busy CSE commits
 * (and writes its WAL) at most once per interval while an idle one
 * commits at once.  A batch of CORE_BATCH_MAX writes commits regardless.
 */
#define CORE_BATCH_MAX 512

static int core_hook(void *ud)
{
	pz_core *core = ud;
	int64_t now, due;

	if (!pz_store_in_batch(core->store))
		return 0;
	if (core->dirty && core->batch_writes < CORE_BATCH_MAX &&
	    core->conf.commit_interval_us > 0) {
		now = core_mono_us();
		due = core->last_commit_us + core->conf.commit_interval_us;
		if (now < due) {
			if (core->commit_timer.heap_idx < 0)
				pz_loop_timer_start(core->loop,
						    &core->commit_timer,
						    (due - now + 999) / 1000);
			return 0;
		}
	}
	pz_core_flush(core);
	return 0;
}

static void core_commit_tick(void *ud)
{
	pz_core_flush(ud);
}

/* --- lifecycle --------------------------------------------------------- */

static int core_create_cb(pz_core *core)
{
	struct pz_res cb;
	char ts[PZ_TS_LEN];
	int64_t now = pz_time_now();
	int rc;

	pz_res_init(&cb);
	rc = pz_store_get_ri(core->store, core->cse_id, &cb);
	if (rc == PZ_OK) {
		core->cb_id = cb.id;
		if (strcmp(cb.rn, core->cse_name))
			pz_log(PZ_WARN, "core", "CSEBase is named '%s' in the "
			       "store; configured name '%s' ignored", cb.rn,
			       core->cse_name);
		pz_free(core->cse_name);
		core->cse_name = pz_strdup(cb.rn);
		pz_res_clear(&cb);
		return core->cse_name ? PZ_OK : PZ_ENOMEM;
	}
	if (rc != PZ_ENOTFOUND)
		return rc;
	cb.ty = PZ_TY_CB;
	cb.ri = pz_strdup(core->cse_id);
	cb.rn = pz_strdup(core->cse_name);
	cb.org = pz_strdup(core->admin);
	cb.ct = cb.lt = now;
	cb.doc = json_pack("{s:s,s:i,s:[iiiiiii],s:[ssss],s:[ss]}",
			   "csi", core->csi, "cst", 1,
			   "srt", 1, 2, 3, 4, 5, 9, 23,
			   "srv", "2a", "3", "4", "5",
			   "csz", "application/json", "application/cbor");
	if (!cb.ri || !cb.rn || !cb.org || !cb.doc) {
		pz_res_clear(&cb);
		return PZ_ENOMEM;
	}
	if (core->poa)
		json_object_set_new(cb.doc, "poa",
				    json_pack("[s]", core->poa));
	rc = pz_store_begin(core->store);
	if (rc == PZ_OK) {
		rc = pz_store_insert(core->store, &cb);
		if (rc == PZ_OK)
			rc = pz_store_commit(core->store);
		else
			pz_store_rollback(core->store);
	}
	if (rc == PZ_OK) {
		core->cb_id = cb.id;
		pz_log(PZ_INFO, "core", "created CSEBase %s (%s) at %s",
		       core->cse_name, core->csi, pz_time_format(now, ts));
	}
	pz_res_clear(&cb);
	return rc;
}

int pz_core_set_poa(pz_core *core, const char *urls)
{
	struct pz_res cb;
	json_t *list, *doc;
	const char *p = urls;
	int rc;

	list = json_array();
	if (!list)
		return PZ_ENOMEM;
	while (*p) {
		size_t n = strcspn(p, " ,");

		if (n && json_array_append_new(list, json_stringn(p, n))) {
			json_decref(list);
			return PZ_ENOMEM;
		}
		p += n;
		while (*p == ' ' || *p == ',')
			p++;
	}
	pz_res_init(&cb);
	rc = pz_store_get(core->store, core->cb_id, &cb);
	doc = rc == PZ_OK ? pz_res_doc(&cb) : NULL;
	if (rc == PZ_OK && (!doc || json_object_set(doc, "poa", list)))
		rc = PZ_ENOMEM;
	json_decref(list);
	if (rc == PZ_OK)
		rc = pz_store_begin(core->store);
	if (rc == PZ_OK) {
		rc = pz_store_update(core->store, &cb);
		rc = rc == PZ_OK ? pz_store_commit(core->store) :
		     (pz_store_rollback(core->store), rc);
	}
	pz_res_clear(&cb);
	if (rc == PZ_OK)
		rc = pz_store_get(core->store, core->cb_id, &core->cb);
	return rc;
}

static int core_copy_conf(pz_core *core, const struct pz_core_conf *conf)
{
	core->conf = *conf;
	core->cse_id = pz_strdup(conf->cse_id);
	core->cse_name = pz_strdup(conf->cse_name);
	core->sp_id = pz_strdup(conf->sp_id);
	core->admin = pz_strdup(conf->admin);
	core->poa = conf->poa ? pz_strdup(conf->poa) : NULL;
	core->allowed_aes = conf->allowed_aes ? pz_strdup(conf->allowed_aes) :
			    NULL;
	core->csi = core->cse_id ? pz_malloc(strlen(core->cse_id) + 2) : NULL;
	if (!core->cse_id || !core->cse_name || !core->sp_id || !core->admin ||
	    !core->csi || (conf->poa && !core->poa) ||
	    (conf->allowed_aes && !core->allowed_aes))
		return PZ_ENOMEM;
	sprintf(core->csi, "/%s", core->cse_id);
	core->conf.cse_id = core->cse_id;
	core->conf.cse_name = core->cse_name;
	core->conf.sp_id = core->sp_id;
	core->conf.admin = core->admin;
	core->conf.poa = core->poa;
	core->conf.allowed_aes = core->allowed_aes;
	if (core->conf.max_results <= 0)
		core->conf.max_results = 10000;
	if (core->conf.max_depth <= 0)
		core->conf.max_depth = 16;
	if (core->conf.verify_timeout_ms <= 0)
		core->conf.verify_timeout_ms = 5000;
	if (core->conf.notify_queue_max <= 0)
		core->conf.notify_queue_max = 100000;
	return PZ_OK;
}

int pz_core_new(const struct pz_core_conf *conf, pz_store *store,
		pz_loop *loop, pz_core **out)
{
	pz_core *core = pz_calloc(1, sizeof(*core));
	int rc;

	if (!core)
		return PZ_ENOMEM;
	core->store = store;
	core->loop = loop;
	core->tlog = conf->tlog;
	core->pending_tail = &core->pending;
	core->stats.started = pz_time_now();
	pz_loop_timer_init(&core->commit_timer, core_commit_tick, core);
	rc = core_copy_conf(core, conf);
	pz_res_init(&core->cb);
	if (rc == PZ_OK)
		rc = core_create_cb(core);
	if (rc == PZ_OK)
		rc = pz_store_get(core->store, core->cb_id, &core->cb);
	if (rc == PZ_OK)
		rc = pz_core__trust_genesis(core);
	if (rc == PZ_OK)
		rc = pz_core__notify_init(core);
	if (rc == PZ_OK)
		rc = pz_core__expire_init(core);
	if (rc == PZ_OK && loop)
		rc = pz_loop_hook_add(loop, core_hook, core);
	if (rc != PZ_OK) {
		pz_core_free(core);
		return rc;
	}
	*out = core;
	return PZ_OK;
}

void pz_core_free(pz_core *core)
{
	if (!core)
		return;
	pz_core_flush(core);
	if (core->loop) {
		pz_loop_hook_del(core->loop, core_hook, core);
		pz_loop_timer_stop(core->loop, &core->expire_timer);
		pz_loop_timer_stop(core->loop, &core->commit_timer);
	}
	pz_core__notify_free(core);
	pz_free(core->cse_id);
	pz_free(core->cse_name);
	pz_free(core->sp_id);
	pz_free(core->admin);
	pz_free(core->poa);
	pz_free(core->allowed_aes);
	pz_free(core->csi);
	pz_free(core->cb_ri);
	pz_free(core->touched);
	pz_res_clear(&core->cb);
	if (core->admin_secret) {
		explicit_bzero(core->admin_secret, strlen(core->admin_secret));
		pz_free(core->admin_secret);
	}
	pz_free(core);
}

int pz_core_add_sender(pz_core *core, const char *scheme, pz_core_send_fn fn,
		       void *ctx)
{
	struct core_sender *s;

	if (core->nsenders == CORE_MAX_SENDERS ||
	    strlen(scheme) >= sizeof(s->scheme))
		return PZ_EINVAL;
	s = &core->senders[core->nsenders++];
	snprintf(s->scheme, sizeof(s->scheme), "%s", scheme);
	s->fn = fn;
	s->ctx = ctx;
	return PZ_OK;
}

void pz_core_stats(const pz_core *core, struct pz_core_stats *out)
{
	*out = core->stats;
}
