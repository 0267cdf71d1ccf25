/*
 * trust.c - the core's side of the trust repository (docs/trust.md): the
 * identity changes of registrations, deregistrations and pre-shared keys
 * become trust-log entries (pz_ident.h) in the same store transaction as
 * the change itself, and the operator's registrations, revocations and
 * decommissionings run here.
 *
 * Identifiers: the platform is //<SP-ID>/<CSE-ID>; an application its
 * absolute AE-ID //<SP-ID>/<CSE-ID>/<AE-ID>, with the AE-ID and the
 * SP-relative /<CSE-ID>/<AE-ID> as aliases; a device its URN, bound to an
 * AE-ID by the operator (POST /.plaza/ids) before the AE registers.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core_int.h"
#include "plaza/pz_err.h"
#include "plaza/pz_ident.h"
#include "plaza/pz_log.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_time.h"

#define TRUST_ERR 256

static int64_t trust_now_ms(void)
{
	return pz_time_now() / 1000;
}

/* "//sp/cse" or "//sp/cse/name" into out (PZ_IDENT_MAX + 1). */
static bool trust_abs(pz_core *core, const char *name,
		      char out[PZ_IDENT_MAX + 1])
{
	int n = name ? snprintf(out, PZ_IDENT_MAX + 1, "//%s/%s/%s",
				core->sp_id, core->cse_id, name) :
		snprintf(out, PZ_IDENT_MAX + 1, "//%s/%s", core->sp_id,
			 core->cse_id);

	return n > 0 && n <= PZ_IDENT_MAX;
}

/* Apply entry (consumed) in the open batch; PZ_OK or pz_ident_apply's
 * error with its reason logged and in err. */
static int trust_apply(pz_core *core, json_t *entry, json_t **rec,
		       char *err, size_t errlen)
{
	int rc;

	if (!entry) {
		snprintf(err, errlen, "out of memory");
		return PZ_ENOMEM;
	}
	rc = pz_ident_apply(core->tlog, core->store, entry, trust_now_ms(),
			    rec, NULL, err, errlen);
	if (rc != PZ_OK)
		pz_log(rc == PZ_ESTORE || rc == PZ_ENOMEM ? PZ_ERROR : PZ_INFO,
		       "trust", "%s entry for %s refused: %s",
		       json_string_value(json_object_get(entry, "type")),
		       json_string_value(json_object_get(entry, "id")), err);
	json_decref(entry);
	return rc;
}

/* The core's rsc for an identity failure. */
static int trust_fail(struct core_ctx *c, int rc, const char *err)
{
	switch (rc) {
	case PZ_EEXIST:
		return pz_core__fail(c, PZ_RSC_CONFLICT, "%s", err);
	case PZ_ESTATE:
	case PZ_ENOTFOUND:
		return pz_core__fail(c, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE,
				     "%s", err);
	case PZ_EINVAL:
		return pz_core__fail(c, PZ_RSC_BAD_REQUEST, "%s", err);
	default:
		return pz_core__internal(c, rc, "recording the identity");
	}
}

static const char *trust_str(const json_t *o, const char *name)
{
	const char *v = json_string_value(json_object_get(o, name));

	return v ? v : "";
}

/* The fingerprint of rec's first key whose field is value, or NULL. */
static const char *trust_key_fp(const json_t *rec, const char *field,
				const char *value)
{
	const json_t *k;
	size_t i;

	json_array_foreach(json_object_get(rec, "keys"), i, k)
		if (!strcmp(trust_str(k, field), value))
			return json_string_value(json_object_get(k, "fp"));
	return NULL;
}

/*
 * The identity any names lost its key whose field is value: append the
 * key's revocation, or with app_ends, an application's decommissioning.
 * Nothing when any has no active record (made before the trust log) or
 * no such key.
 */
static int trust_key_gone(pz_core *core, const char *any, const char *field,
			  const char *value, bool app_ends, const char *reason,
			  char *err, size_t errlen)
{
	char *rid = NULL;
	json_t *rec = NULL, *e = NULL;
	const char *fp;
	int rc = pz_ident_resolve(core->store, any, &rid, &rec);

	if (rc == PZ_ENOTFOUND || rc == PZ_EINVAL)
		return PZ_OK;
	if (rc != PZ_OK) {
		snprintf(err, errlen, "cannot resolve '%.100s'", any);
		return rc;
	}
	if (!strcmp(trust_str(rec, "status"), "active")) {
		if (app_ends && !strcmp(trust_str(rec, "kind"), "application"))
			e = json_pack("{s:s,s:s,s:s}", "type", "decommission",
				      "id", rid, "reason", reason);
		else if ((fp = trust_key_fp(rec, field, value)))
			e = json_pack("{s:s,s:s,s:s,s:s}", "type", "revoke",
				      "id", rid, "key", fp, "reason", reason);
	}
	if (e)
		rc = trust_apply(core, e, NULL, err, errlen);
	pz_free(rid);
	json_decref(rec);
	return rc;
}

int pz_core__trust_genesis(pz_core *core)
{
	char id[PZ_IDENT_MAX + 1], alias[PZ_IDENT_MAX + 1];
	char fp[PZ_IDENT_FP_LEN], err[TRUST_ERR];
	int rc;

	if (!core->tlog || pz_tlog_size(core->tlog) > 0)
		return PZ_OK;
	if (!trust_abs(core, NULL, id))
		return PZ_ECONFIG;
	snprintf(alias, sizeof(alias), "/%s", core->cse_id);
	pz_ident_fp(pz_tlog_public_key(core->tlog), 32, fp);
	rc = pz_store_begin(core->store);
	if (rc != PZ_OK)
		return rc;
	rc = trust_apply(core, json_pack("{s:s,s:s,s:s,s:[s],s:s,s:s,s:s}",
		"type", "register", "id", id, "kind", "platform", "aliases",
		alias, "sp_id", core->sp_id, "cse_id", core->cse_id, "owner",
		core->admin), NULL, err, sizeof(err));
	if (rc == PZ_OK)
		rc = trust_apply(core, json_pack("{s:s,s:s,s:{s:s,s:s}}",
			"type", "bind-key", "id", id, "key", "type",
			"ed25519-log", "fp", fp), NULL, err, sizeof(err));
	rc = pz_core__txn_end(core, rc);
	if (rc == PZ_OK)
		pz_log(PZ_INFO, "trust", "trust log started with %s", id);
	return rc;
}

/* --- registration and deregistration -------------------------------------- */

int pz_core__trust_ae_registered(struct core_ctx *c, const char *aei,
				 const char *api)
{
	pz_core *core = c->core;
	char id[PZ_IDENT_MAX + 1], rel[PZ_IDENT_MAX + 1];
	char fp[PZ_IDENT_FP_LEN], err[TRUST_ERR];
	const char *secret = c->rsp->credential;
	char *rid = NULL;
	json_t *rec = NULL, *e;
	const char *kind, *status, *old = NULL;
	int rc;

	if (!core->tlog)
		return PZ_OK;
	if (!trust_abs(core, aei, id) ||
	    snprintf(rel, sizeof(rel), "/%s/%s", core->cse_id, aei) >=
	    (int)sizeof(rel))
		return pz_core__fail(c, PZ_RSC_BAD_REQUEST, "AE-ID '%.64s' is "
				     "too long for the trust repository", aei);
	if (secret)
		pz_ident_fp(secret, strlen(secret), fp);
	rc = pz_ident_resolve(core->store, aei, &rid, &rec);
	if (rc != PZ_OK && rc != PZ_ENOTFOUND)
		return pz_core__internal(c, rc, "resolving the identity");
	kind = json_string_value(json_object_get(rec, "kind"));
	status = json_string_value(json_object_get(rec, "status"));
	if (rec && status && strcmp(status, "active") &&
	    !(kind && !strcmp(kind, "application") &&
	      !strcmp(status, "decommissioned"))) {
		rc = pz_core__fail(c, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE,
				   "'%s' is %s in the trust repository (%s)",
				   aei, status, rid);
		goto out;
	}
	if (!rec || strcmp(status, "active")) {
		rc = trust_apply(core, json_pack("{s:s,s:s,s:s,s:[ss],s:s,s:s,"
			"s:s,s:s,s:s}", "type", "register", "id", id, "kind",
			"application", "aliases", aei, rel, "owner", aei,
			"ae_id", aei, "app_id", api, "sp_id", core->sp_id,
			"cse_id", core->cse_id), NULL, err, sizeof(err));
		if (rc != PZ_OK)
			goto fail;
		pz_free(rid);
		rid = pz_strdup(id);
		if (!rid) {
			rc = pz_core__internal(c, PZ_ENOMEM, "registering");
			goto out;
		}
	}
	if (!secret)
		goto out;
	if (rec && !strcmp(status, "active"))
		old = trust_key_fp(rec, "type", "token");
	e = json_pack("{s:s,s:s,s:{s:s,s:s},s:s,s:s}", "type",
		      old ? "rotate-key" : "bind-key", "id", rid, "key", "type",
		      "token", "fp", fp, "ae_id", aei, "app_id", api);
	if (e && old)
		json_object_set_new(e, "old", json_string(old));
	rc = trust_apply(core, e, NULL, err, sizeof(err));
fail:
	if (rc != PZ_OK)
		rc = trust_fail(c, rc, err);
out:
	pz_free(rid);
	json_decref(rec);
	return rc;
}

int pz_core__trust_ae_removed(struct core_ctx *c, const char *aei)
{
	char err[TRUST_ERR];
	int rc;

	/* An application ends with its AE; a device loses its token. */
	if (!c->core->tlog)
		return PZ_OK;
	rc = trust_key_gone(c->core, aei, "type", "token", true,
			    "AE deregistered", err, sizeof(err));
	return rc == PZ_OK ? PZ_OK : trust_fail(c, rc, err);
}

/* --- pre-shared keys (inside pz_core_psk_put / _del's transaction) ---- */

int pz_core__trust_psk_put(pz_core *core, const char *identity,
			   const char *orig, const uint8_t *key, size_t len,
			   char *err, size_t errlen)
{
	char id[PZ_IDENT_MAX + 1], rel[PZ_IDENT_MAX + 1];
	char fp[PZ_IDENT_FP_LEN], *rid = NULL;
	json_t *rec = NULL, *e;
	const char *old = NULL;
	int rc;

	if (!core->tlog)
		return PZ_OK;
	pz_ident_fp(key, len, fp);
	rc = pz_ident_resolve(core->store, orig, &rid, &rec);
	if (rc == PZ_EINVAL) {
		snprintf(err, errlen, "'%.100s' is not an identifier", orig);
		return rc;
	}
	if (rc == PZ_ENOTFOUND && !strncmp(orig, "urn:", 4)) {
		snprintf(err, errlen, "no device '%.100s' in the trust "
			 "repository: register it first", orig);
		return rc;
	}
	if (rc == PZ_ENOTFOUND) {
		/* A key for an AE that has not registered yet: the
		 * application's record starts here. */
		if (!trust_abs(core, orig, id) ||
		    snprintf(rel, sizeof(rel), "/%s/%s", core->cse_id, orig) >=
		    (int)sizeof(rel)) {
			snprintf(err, errlen, "originator too long");
			return PZ_EINVAL;
		}
		rc = trust_apply(core, json_pack("{s:s,s:s,s:s,s:[ss],s:s,"
			"s:s,s:s,s:s}", "type", "register", "id", id, "kind",
			"application", "aliases", orig, rel, "owner",
			core->admin, "ae_id", orig, "sp_id", core->sp_id,
			"cse_id", core->cse_id), &rec, err, errlen);
		rid = rc == PZ_OK ? pz_strdup(id) : NULL;
		if (rc == PZ_OK && !rid)
			rc = PZ_ENOMEM;
	}
	if (rc != PZ_OK)
		goto out;
	old = trust_key_fp(rec, "name", identity);
	if (old && !strcmp(old, fp))
		goto out;         /* the same key again: nothing changes */
	e = json_pack("{s:s,s:s,s:{s:s,s:s,s:s}}", "type", old ? "rotate-key" :
		      "bind-key", "id", rid, "key", "type", "psk", "fp", fp,
		      "name", identity);
	if (e && old)
		json_object_set_new(e, "old", json_string(old));
	rc = trust_apply(core, e, NULL, err, errlen);
out:
	pz_free(rid);
	json_decref(rec);
	return rc;
}

int pz_core__trust_psk_del(pz_core *core, const char *identity)
{
	char err[TRUST_ERR];

	if (!core->tlog)
		return PZ_OK;
	return trust_key_gone(core, identity, "name", identity, false,
			      "PSK identity deleted", err, sizeof(err));
}

/* --- the operator's interface ---------------------------------------------- */

pz_tlog *pz_core_tlog(pz_core *core)
{
	return core->tlog;
}

int pz_core_ident_get(pz_core *core, const char *any, json_t **rec)
{
	return pz_ident_resolve(core->store, any, NULL, rec);
}

struct trust_list {
	json_t *list;
	int rc;                  /* why the scan stopped early */
};

static int trust_list_one(void *ud, const char *id, const char *text)
{
	struct trust_list *l = ud;
	json_t *rec = json_loads(text, 0, NULL);

	if (!rec)
		l->rc = PZ_ECORRUPT;
	else if (json_array_append_new(l->list, json_pack("{s:s,s:s,s:s}",
		 "id", id, "kind", trust_str(rec, "kind"), "status",
		 trust_str(rec, "status"))))
		l->rc = PZ_ENOMEM;
	json_decref(rec);
	return l->rc != PZ_OK;
}

int pz_core_ident_list(pz_core *core, const char *after, unsigned limit,
		       json_t **out)
{
	struct trust_list l = { json_array(), PZ_OK };
	int rc;

	if (!l.list)
		return PZ_ENOMEM;
	rc = pz_store_ident_scan(core->store, after, limit, trust_list_one,
				 &l);
	if (rc == PZ_OK)
		rc = l.rc;
	if (rc != PZ_OK) {
		json_decref(l.list);
		return rc;
	}
	*out = l.list;
	return PZ_OK;
}

/* Start a transaction of its own for the operator's entries. */
static int trust_txn_begin(pz_core *core, char *err, size_t errlen)
{
	int rc;

	if (!core->tlog) {
		snprintf(err, errlen, "this plazad keeps no trust log");
		return PZ_ESTATE;
	}
	if (pz_store_in_batch(core->store))
		pz_core_flush(core);
	rc = pz_store_begin(core->store);
	if (rc != PZ_OK)
		snprintf(err, errlen, "cannot start a transaction");
	return rc;
}

int pz_core_ident_register(pz_core *core, const json_t *body, json_t **rec,
			   char *err, size_t errlen)
{
	static const char *const fields[] = {
		"id", "ae_id", "node_id", "app_id", "owner", "key", NULL
	};
	char id[PZ_IDENT_MAX + 1], abs[PZ_IDENT_MAX + 1];
	char rel[PZ_IDENT_MAX + 1], why[200];
	const char *in = json_string_value(json_object_get(body, "id"));
	const char *aei = json_string_value(json_object_get(body, "ae_id"));
	const char *node = json_string_value(json_object_get(body, "node_id"));
	const char *name;
	const json_t *v, *key = json_object_get(body, "key");
	json_t *e, *aliases;
	size_t i;
	int rc;

	if (!json_is_object(body)) {
		snprintf(err, errlen, "the body is a JSON object");
		return PZ_EINVAL;
	}
	json_object_foreach((json_t *)body, name, v) {
		for (i = 0; fields[i] && strcmp(fields[i], name); i++)
			;
		if (!fields[i]) {
			snprintf(err, errlen, "unknown field '%.40s'", name);
			return PZ_EINVAL;
		}
		if (strcmp(name, "key") && !json_is_string(v)) {
			snprintf(err, errlen, "%s must be a string", name);
			return PZ_EINVAL;
		}
	}
	if (key && (!json_is_object(key) ||
		    !json_is_string(json_object_get(key, "type")) ||
		    !pz_ident_fp_ok(json_string_value(json_object_get(key,
								"fp"))))) {
		snprintf(err, errlen, "key must be {\"type\", \"fp\": "
			 "\"sha256:<64 hex digits>\"}");
		return PZ_EINVAL;
	}
	if (!in || strncasecmp(in, "urn:dev:", 8)) {
		snprintf(err, errlen, "id must be an RFC 9039 device URN "
			 "(urn:dev:...)");
		return PZ_EINVAL;
	}
	if (pz_ident_canon(in, id, why, sizeof(why)) != PZ_OK) {
		snprintf(err, errlen, "%s", why);
		return PZ_EINVAL;
	}
	aliases = json_array();
	e = json_pack("{s:s,s:s,s:s,s:o,s:s}", "type", "register", "id", id,
		      "kind", "device", "aliases", aliases, "owner",
		      json_string_value(json_object_get(body, "owner")) ?
		      json_string_value(json_object_get(body, "owner")) :
		      core->admin);
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return PZ_ENOMEM;
	}
	if (aei) {
		if (!trust_abs(core, aei, abs) ||
		    snprintf(rel, sizeof(rel), "/%s/%s", core->cse_id, aei) >=
		    (int)sizeof(rel) || pz_ident_canon(aei, rel, why,
						       sizeof(why)) != PZ_OK) {
			json_decref(e);
			snprintf(err, errlen, "ae_id '%.64s' is not a usable "
				 "AE-ID", aei);
			return PZ_EINVAL;
		}
		snprintf(rel, sizeof(rel), "/%s/%s", core->cse_id, aei);
		json_array_append_new(aliases, json_string(aei));
		json_array_append_new(aliases, json_string(rel));
		json_array_append_new(aliases, json_string(abs));
		json_object_set_new(e, "ae_id", json_string(aei));
	}
	if (node) {
		json_array_append_new(aliases, json_string(node));
		json_object_set_new(e, "node_id", json_string(node));
	}
	if ((v = json_object_get(body, "app_id")))
		json_object_set(e, "app_id", (json_t *)v);
	json_object_set_new(e, "sp_id", json_string(core->sp_id));
	json_object_set_new(e, "cse_id", json_string(core->cse_id));
	rc = trust_txn_begin(core, err, errlen);
	if (rc != PZ_OK) {
		json_decref(e);
		return rc;
	}
	rc = trust_apply(core, e, rec, err, errlen);
	if (rc == PZ_OK && key) {
		json_decref(*rec);
		*rec = NULL;
		rc = trust_apply(core, json_pack("{s:s,s:s,s:O}", "type",
			"bind-key", "id", id, "key", key), rec, err, errlen);
	}
	rc = pz_core__txn_end(core, rc);
	if (rc != PZ_OK) {
		json_decref(*rec);
		*rec = NULL;
	}
	return rc;
}

/* The keys a revocation ends stop working now: the AE's registration
 * credential and the PSK identities bound to the identity are deleted
 * (sessions already established run until they close). */
static int trust_drop_keys(pz_core *core, const char *id, char *err,
			   size_t errlen)
{
	json_t *rec = NULL;
	const json_t *k;
	const char *type, *aei;
	size_t i;
	int rc = pz_ident_resolve(core->store, id, NULL, &rec);

	aei = json_string_value(json_object_get(rec, "ae_id"));
	json_array_foreach(json_object_get(rec, "keys"), i, k) {
		if (rc != PZ_OK)
			break;
		type = json_string_value(json_object_get(k, "type"));
		if (type && !strcmp(type, "token") && aei)
			rc = pz_store_cred_del(core->store, aei);
		else if (type && !strcmp(type, "psk"))
			rc = pz_store_psk_del(core->store, json_string_value(
				json_object_get(k, "name")));
		if (rc == PZ_ENOTFOUND)
			rc = PZ_OK;
	}
	json_decref(rec);
	if (rc != PZ_OK)
		snprintf(err, errlen, "cannot withdraw the keys: %s",
			 pz_strerror(rc));
	return rc;
}

int pz_core_ident_end(pz_core *core, const char *any, bool decommission,
		      const char *reason, json_t **rec, char *err,
		      size_t errlen)
{
	char platform[PZ_IDENT_MAX + 1], *rid = NULL;
	json_t *e;
	int rc = pz_ident_resolve(core->store, any, &rid, NULL);

	if (rc == PZ_ENOTFOUND || rc == PZ_EINVAL) {
		snprintf(err, errlen, "no identity '%.100s'", any);
		return rc;
	}
	if (rc != PZ_OK) {
		snprintf(err, errlen, "cannot resolve: %s", pz_strerror(rc));
		return rc;
	}
	if (trust_abs(core, NULL, platform) && !strcmp(rid, platform)) {
		snprintf(err, errlen, "the platform's own identity cannot be "
			 "ended");
		pz_free(rid);
		return PZ_ESTATE;
	}
	rc = trust_txn_begin(core, err, errlen);
	if (rc != PZ_OK) {
		pz_free(rid);
		return rc;
	}
	rc = trust_drop_keys(core, rid, err, errlen);
	if (rc == PZ_OK) {
		e = json_pack("{s:s,s:s}", "type", decommission ?
			      "decommission" : "revoke", "id", rid);
		if (e && reason)
			json_object_set_new(e, "reason", json_string(reason));
		rc = trust_apply(core, e, rec, err, errlen);
	}
	pz_free(rid);
	return pz_core__txn_end(core, rc);
}
