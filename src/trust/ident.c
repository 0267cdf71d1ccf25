/*
 * ident.c - identity records of the trust repository (pz_ident.h).
 *
 * pz_ident_apply runs in three steps, in the caller's store savepoint:
 * check the entry against the stored record (ident_check_*), append it to
 * the log, fold it into the record (ident_fold) and store the record and
 * its aliases.  A failure after the append leaves the rollback to the
 * caller's savepoint (and pz_tlog_rollback), as for any other write.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "plaza/pz_err.h"
#include "plaza/pz_ident.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_urn.h"

#define IDENT_FAIL(rc, ...) \
	(snprintf(err, errlen, __VA_ARGS__), (rc))

/* Fields a register entry may carry besides type, id, kind, aliases. */
static const char *const ident_reg_fields[] = {
	"owner", "ae_id", "app_id", "node_id", "sp_id", "cse_id", NULL
};

int pz_ident_canon(const char *in, char out[PZ_IDENT_MAX + 1], char *err,
		   size_t errlen)
{
	struct pz_urn u;
	size_t n = in ? strlen(in) : 0;

	if (n == 0)
		return IDENT_FAIL(PZ_EINVAL, "empty identifier");
	if (n > PZ_IDENT_MAX)
		return IDENT_FAIL(PZ_EINVAL, "identifier longer than %d bytes",
				  PZ_IDENT_MAX);
	if (n >= 8 && !strncasecmp(in, "urn:dev:", 8))
		return pz_urn_parse(in, n, out, PZ_IDENT_MAX + 1, &u, err,
				    errlen) == PZ_OK ? PZ_OK : PZ_EINVAL;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)in[i] <= 0x20 || (unsigned char)in[i] >= 0x7f)
			return IDENT_FAIL(PZ_EINVAL, "identifier '%.64s' has a "
					  "space or a byte that is not "
					  "printable ASCII at %zu", in, i);
	memcpy(out, in, n + 1);
	return PZ_OK;
}

void pz_ident_fp(const void *p, size_t len, char out[PZ_IDENT_FP_LEN])
{
	uint8_t md[32];
	unsigned mdlen = 0;

	memcpy(out, "sha256:", 7);
	if (EVP_Digest(p, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != sizeof(md))
		memset(md, 0, sizeof(md));
	for (size_t i = 0; i < sizeof(md); i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

/* --- reading --------------------------------------------------------------- */

static int ident_load(pz_store *st, const char *id, json_t **rec)
{
	char *text = NULL;
	json_error_t je;
	int rc = pz_store_ident_get(st, id, &text);

	if (rc != PZ_OK)
		return rc;
	*rec = json_loads(text, 0, &je);
	pz_free(text);
	return *rec && json_is_object(*rec) ? PZ_OK :
	       (json_decref(*rec), *rec = NULL, PZ_ECORRUPT);
}

int pz_ident_resolve(pz_store *st, const char *any, char **id, json_t **rec)
{
	char canon[PZ_IDENT_MAX + 1], *primary = NULL;
	json_t *r = NULL;
	int rc;

	if (pz_ident_canon(any, canon, NULL, 0) != PZ_OK)
		return PZ_EINVAL;
	rc = pz_store_alias_get(st, canon, &primary);
	if (rc == PZ_ENOTFOUND) {
		primary = pz_strdup(canon);
		rc = primary ? PZ_OK : PZ_ENOMEM;
	}
	if (rc == PZ_OK)
		rc = ident_load(st, primary, &r);
	if (rc == PZ_OK && id) {
		*id = primary;
		primary = NULL;
	}
	if (rc == PZ_OK && rec)
		*rec = r;
	else
		json_decref(r);
	pz_free(primary);
	return rc;
}

/* --- checks ---------------------------------------------------------------- */

static const char *ident_str(const json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

/* Is alias free for id: no other record's alias, nor another record? */
static int ident_alias_free(pz_store *st, const char *alias, const char *id,
			    char *err, size_t errlen)
{
	char *other = NULL, *text = NULL;
	int rc;

	if (!strcmp(alias, id))
		return PZ_OK;
	rc = pz_store_alias_get(st, alias, &other);
	if (rc == PZ_OK) {
		bool same = !strcmp(other, id);

		if (!same)
			snprintf(err, errlen, "'%.100s' already names %.100s",
				 alias, other);
		pz_free(other);
		return same ? PZ_OK : PZ_EEXIST;
	}
	if (rc != PZ_ENOTFOUND)
		return rc;
	rc = pz_store_ident_get(st, alias, &text);
	pz_free(text);
	if (rc == PZ_OK)
		return IDENT_FAIL(PZ_EEXIST, "'%.100s' is the identifier of "
				  "another record", alias);
	return rc == PZ_ENOTFOUND ? PZ_OK : rc;
}

/* A string field that must be an identifier in canonical form. */
static int ident_check_canon(const char *what, const char *s, char *err,
			     size_t errlen)
{
	char canon[PZ_IDENT_MAX + 1], why[160];

	if (!s)
		return IDENT_FAIL(PZ_EINVAL, "%s must be a string", what);
	if (pz_ident_canon(s, canon, why, sizeof(why)) != PZ_OK)
		return IDENT_FAIL(PZ_EINVAL, "%s: %s", what, why);
	if (strcmp(canon, s))
		return IDENT_FAIL(PZ_EINVAL, "%s '%.100s' is not in canonical "
				  "form ('%.100s')", what, s, canon);
	return PZ_OK;
}

static int ident_check_register(pz_store *st, const json_t *e,
				const char *id, const json_t *old,
				char *err, size_t errlen)
{
	const char *kind = ident_str(e, "kind");
	const json_t *aliases = json_object_get(e, "aliases");
	const json_t *v;
	size_t i;
	int rc;

	if (!kind || (strcmp(kind, "platform") && strcmp(kind, "device") &&
		      strcmp(kind, "application")))
		return IDENT_FAIL(PZ_EINVAL, "kind must be platform, device "
				  "or application");
	if (!strcmp(kind, "device") ? strncmp(id, "urn:dev:", 8) :
	    strncmp(id, "//", 2))
		return IDENT_FAIL(PZ_EINVAL, "a %s is identified by %s, not "
				  "'%.100s'", kind, !strcmp(kind, "device") ?
				  "an RFC 9039 urn:dev: URN" :
				  "an absolute oneM2M identifier (//...)", id);
	for (i = 0; ident_reg_fields[i]; i++) {
		v = json_object_get(e, ident_reg_fields[i]);
		if (v && (!json_is_string(v) || !json_string_length(v) ||
			  json_string_length(v) > PZ_IDENT_MAX))
			return IDENT_FAIL(PZ_EINVAL, "%s must be a string of "
					  "1-%d bytes", ident_reg_fields[i],
					  PZ_IDENT_MAX);
	}
	if (old) {
		const char *status = ident_str(old, "status");
		const char *okind = ident_str(old, "kind");

		if (!status || strcmp(status, "decommissioned") || !okind ||
		    strcmp(okind, "application") || strcmp(kind, okind))
			return IDENT_FAIL(PZ_EEXIST, "'%.100s' is already "
					  "registered", id);
	}
	rc = ident_alias_free(st, id, id, err, errlen);
	if (rc != PZ_OK)
		return rc;
	if (aliases && !json_is_array(aliases))
		return IDENT_FAIL(PZ_EINVAL, "aliases must be an array");
	json_array_foreach(aliases, i, v) {
		rc = ident_check_canon("alias", json_string_value(v), err,
				       errlen);
		if (rc == PZ_OK)
			rc = ident_alias_free(st, json_string_value(v), id,
					      err, errlen);
		if (rc != PZ_OK)
			return rc;
	}
	return PZ_OK;
}

/* The index of the key of type and name (NULL: none) in rec's keys, or -1:
 * the key a new one of that type and name replaces. */
static long ident_key_match(const json_t *rec, const char *type,
			    const char *name)
{
	const json_t *k;
	size_t i;

	json_array_foreach(json_object_get(rec, "keys"), i, k) {
		const char *kt = ident_str(k, "type");
		const char *kn = ident_str(k, "name");

		if (kt && !strcmp(kt, type) &&
		    (name ? kn && !strcmp(kn, name) : !kn))
			return (long)i;
	}
	return -1;
}

static long ident_key_of_fp(const json_t *rec, const char *fp)
{
	const json_t *k;
	size_t i;

	json_array_foreach(json_object_get(rec, "keys"), i, k)
		if (!strcmp(ident_str(k, "fp") ? ident_str(k, "fp") : "", fp))
			return (long)i;
	return -1;
}

bool pz_ident_fp_ok(const char *fp)
{
	size_t n = fp ? strlen(fp) : 0;

	if (n != 71 || strncmp(fp, "sha256:", 7))
		return false;
	for (size_t i = 7; i < n; i++)
		if (!strchr("0123456789abcdef", fp[i]))
			return false;
	return true;
}

static int ident_check_key(pz_store *st, const json_t *e, const char *id,
			   const json_t *old, bool rotate, char *err,
			   size_t errlen)
{
	const json_t *key = json_object_get(e, "key");
	const char *type = ident_str(key, "type");
	const char *fp = ident_str(key, "fp");
	const char *name = ident_str(key, "name");
	long i;

	if (!json_is_object(key) || !type || !*type || strlen(type) > 32 ||
	    !pz_ident_fp_ok(fp))
		return IDENT_FAIL(PZ_EINVAL, "key must be {\"type\", \"fp\": "
				  "\"sha256:<64 hex digits>\"}");
	if (json_object_get(key, "name")) {
		int rc = ident_check_canon("key name", name, err, errlen);

		if (rc == PZ_OK)
			rc = ident_alias_free(st, name, id, err, errlen);
		if (rc != PZ_OK)
			return rc;
	}
	if (ident_key_of_fp(old, fp) >= 0)
		return IDENT_FAIL(PZ_ESTATE, "this key is already bound to "
				  "'%.100s'", id);
	i = ident_key_match(old, type, name);
	if (!rotate && i >= 0)
		return IDENT_FAIL(PZ_ESTATE, "'%.100s' already has this %s "
				  "key: rotate it", id, type);
	if (rotate && (i < 0 || !ident_str(e, "old") ||
		       strcmp(ident_str(e, "old"),
			      ident_str(json_array_get(json_object_get(old,
				"keys"), (size_t)i), "fp"))))
		return IDENT_FAIL(PZ_ESTATE, "rotate-key must name the bound "
				  "%s key of '%.100s' in old", type, id);
	return PZ_OK;
}

static int ident_check(pz_store *st, const json_t *e, const char *type,
		       const char *id, const json_t *old, char *err,
		       size_t errlen)
{
	const char *status = ident_str(old, "status");
	const json_t *v;

	if (!strcmp(type, "register"))
		return ident_check_register(st, e, id, old, err, errlen);
	if (!old)
		return IDENT_FAIL(PZ_ENOTFOUND, "no identity '%.100s'", id);
	if (!status || strcmp(status, "active"))
		return IDENT_FAIL(PZ_ESTATE, "'%.100s' is %s", id,
				  status ? status : "not active");
	if ((v = json_object_get(e, "reason")) && (!json_is_string(v) ||
						   json_string_length(v) > 200))
		return IDENT_FAIL(PZ_EINVAL, "reason must be a string of at "
				  "most 200 bytes");
	if (!strcmp(type, "bind-key") || !strcmp(type, "rotate-key"))
		return ident_check_key(st, e, id, old, type[0] == 'r', err,
				       errlen);
	if (!strcmp(type, "certify")) {
		if (!ident_str(e, "result"))
			return IDENT_FAIL(PZ_EINVAL, "certify needs a result");
		return PZ_OK;
	}
	if (!strcmp(type, "revoke")) {
		v = json_object_get(e, "key");
		if (v && (!json_is_string(v) ||
			  ident_key_of_fp(old, json_string_value(v)) < 0))
			return IDENT_FAIL(PZ_ENOTFOUND, "'%.100s' has no such "
					  "key", id);
		return PZ_OK;
	}
	if (!strcmp(type, "decommission"))
		return PZ_OK;
	return IDENT_FAIL(PZ_EINVAL, "unknown entry type '%.40s'", type);
}

/* --- folding an entry into the record ---------------------------------- */

static int ident_alias_add(pz_store *st, json_t *rec, const char *alias,
			   const char *id)
{
	json_t *list = json_object_get(rec, "aliases");
	const json_t *v;
	size_t i;
	int rc;

	if (!strcmp(alias, id))
		return PZ_OK;
	json_array_foreach(list, i, v)
		if (!strcmp(json_string_value(v), alias))
			return PZ_OK;
	rc = pz_store_alias_put(st, alias, id);
	if (rc == PZ_OK && json_array_append_new(list, json_string(alias)))
		rc = PZ_ENOMEM;
	return rc;
}

static int ident_alias_drop(pz_store *st, json_t *rec, const char *alias)
{
	json_t *list = json_object_get(rec, "aliases");
	const json_t *v;
	size_t i;
	int rc = pz_store_alias_del(st, alias);

	if (rc != PZ_OK && rc != PZ_ENOTFOUND)
		return rc;
	json_array_foreach(list, i, v)
		if (!strcmp(json_string_value(v), alias))
			return json_array_remove(list, i) ? PZ_ENOMEM : PZ_OK;
	return PZ_OK;
}

/* Remove key i, and the alias its name was, unless the name is also the
 * identity's AE-ID or node ID (a PSK identity equal to its originator). */
static int ident_key_drop(pz_store *st, json_t *rec, size_t i)
{
	json_t *keys = json_object_get(rec, "keys");
	const char *name = ident_str(json_array_get(keys, i), "name");
	const char *ae = ident_str(rec, "ae_id"), *node = ident_str(rec,
								   "node_id");
	bool own = name && ((ae && !strcmp(name, ae)) ||
			    (node && !strcmp(name, node)));
	int rc = name && !own ? ident_alias_drop(st, rec, name) : PZ_OK;

	if (rc == PZ_OK && json_array_remove(keys, i))
		rc = PZ_ENOMEM;
	return rc;
}

static int ident_fold_key(pz_store *st, json_t *rec, const json_t *e,
			  const char *id, uint64_t seq)
{
	const json_t *key = json_object_get(e, "key");
	const char *old = ident_str(e, "old");
	json_t *k;
	long i;
	int rc = PZ_OK;

	if (old && (i = ident_key_of_fp(rec, old)) >= 0)
		rc = ident_key_drop(st, rec, (size_t)i);
	if (rc == PZ_OK && ident_str(key, "name"))
		rc = ident_alias_add(st, rec, ident_str(key, "name"), id);
	if (rc != PZ_OK)
		return rc;
	k = json_deep_copy(key);
	if (!k || json_object_set_new(k, "since", json_integer((json_int_t)seq))
	    || json_array_append_new(json_object_get(rec, "keys"), k))
		return PZ_ENOMEM;
	for (const char *f = "ae_id"; f; f = strcmp(f, "ae_id") ? NULL :
	     "app_id")
		if (json_object_get(e, f) &&
		    json_object_set(rec, f, json_object_get(e, f)))
			return PZ_ENOMEM;
	return PZ_OK;
}

static int ident_fold(pz_store *st, json_t **recp, const json_t *e,
		      const char *type, const char *id, uint64_t seq,
		      int64_t time)
{
	json_t *rec = *recp, *h;
	const json_t *v;
	size_t i;
	int rc = PZ_OK;

	if (!strcmp(type, "register")) {
		json_t *hist = rec ? json_incref(json_object_get(rec,
								 "history")) :
			       json_array();

		json_decref(rec);
		rec = *recp = json_pack("{s:s,s:O,s:[],s:s,s:[],s:n,s:o}",
					"id", id, "kind", json_object_get(e,
					"kind"), "aliases", "status", "active",
					"keys", "cert", "history",
					hist ? hist : json_array());
		if (!rec)
			return PZ_ENOMEM;
		for (i = 0; ident_reg_fields[i]; i++)
			if ((v = json_object_get(e, ident_reg_fields[i])) &&
			    json_object_set(rec, ident_reg_fields[i],
					    (json_t *)v))
				return PZ_ENOMEM;
		json_array_foreach(json_object_get(e, "aliases"), i, v)
			if ((rc = ident_alias_add(st, rec,
						  json_string_value(v), id)))
				return rc;
	} else if (!strcmp(type, "bind-key") || !strcmp(type, "rotate-key")) {
		rc = ident_fold_key(st, rec, e, id, seq);
	} else if (!strcmp(type, "certify")) {
		json_t *cert = json_pack("{s:O,s:I,s:I}", "result",
					 json_object_get(e, "result"), "seq",
					 (json_int_t)seq, "time",
					 (json_int_t)time);

		if (!cert)
			return PZ_ENOMEM;
		if ((v = json_object_get(e, "profile")))
			json_object_set(cert, "profile", (json_t *)v);
		if ((v = json_object_get(e, "report")))
			json_object_set(cert, "report", (json_t *)v);
		if (json_object_set_new(rec, "cert", cert))
			return PZ_ENOMEM;
	} else if (!strcmp(type, "revoke") && json_object_get(e, "key")) {
		rc = ident_key_drop(st, rec, (size_t)ident_key_of_fp(rec,
			ident_str(e, "key")));
	} else {
		/* revoke (the identity) or decommission: no key is accepted
		 * any more; a decommissioned identity gives up its aliases. */
		json_t *keys = json_object_get(rec, "keys");

		while (rc == PZ_OK && json_array_size(keys))
			rc = ident_key_drop(st, rec, 0);
		if (rc == PZ_OK && type[0] == 'd') {
			json_t *list = json_object_get(rec, "aliases");

			while (rc == PZ_OK && json_array_size(list))
				rc = ident_alias_drop(st, rec,
					json_string_value(json_array_get(list,
									 0)));
		}
		if (rc == PZ_OK && json_object_set_new(rec, "status",
			json_string(type[0] == 'd' ? "decommissioned" :
				    "revoked")))
			rc = PZ_ENOMEM;
	}
	if (rc != PZ_OK)
		return rc;
	h = json_pack("{s:I,s:s,s:I}", "seq", (json_int_t)seq, "type", type,
		      "time", (json_int_t)time);
	if (!h || json_array_append_new(json_object_get(rec, "history"), h))
		return PZ_ENOMEM;
	return PZ_OK;
}

int pz_ident_apply(pz_tlog *t, pz_store *st, json_t *entry, int64_t now_ms,
		   json_t **rec, uint64_t *seq, char *err, size_t errlen)
{
	const char *type = ident_str(entry, "type");
	const char *id = ident_str(entry, "id");
	json_t *old = NULL;
	uint64_t n;
	char *text;
	int rc;

	if (!json_is_object(entry) || !type)
		return IDENT_FAIL(PZ_EINVAL, "an entry is an object with a "
				  "type");
	rc = ident_check_canon("id", id, err, errlen);
	if (rc != PZ_OK)
		return rc;
	rc = ident_load(st, id, &old);
	if (rc != PZ_OK && rc != PZ_ENOTFOUND)
		return IDENT_FAIL(rc, "cannot read the record of '%.100s'",
				  id);
	rc = ident_check(st, entry, type, id, old, err, errlen);
	if (rc == PZ_OK) {
		rc = pz_tlog_append(t, entry, now_ms, &n);
		if (rc != PZ_OK)
			snprintf(err, errlen, "cannot append to the trust "
				 "log: %s", pz_strerror(rc));
	}
	if (rc == PZ_OK) {
		rc = ident_fold(st, &old, entry, type, id, n, now_ms);
		text = rc == PZ_OK ? json_dumps(old, JSON_COMPACT) : NULL;
		if (rc == PZ_OK && !text)
			rc = PZ_ENOMEM;
		if (rc == PZ_OK)
			rc = pz_store_ident_put(st, id, text);
		pz_free(text);
		if (rc != PZ_OK)
			snprintf(err, errlen, "cannot store the record of "
				 "'%.100s': %s", id, pz_strerror(rc));
	}
	if (rc == PZ_OK && seq)
		*seq = n;
	if (rc == PZ_OK && rec)
		*rec = json_incref(old);
	json_decref(old);
	return rc;
}
