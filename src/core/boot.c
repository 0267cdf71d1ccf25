/*
 * boot.c - the core's side of the BSF (pz_core.h, "The BSF's
 * subscribers"): subscriber and bootstrapping-context writes, each in its
 * own store transaction together with its trust-log entries.
 *
 * Trust log: a subscriber may name its device (a urn:dev: identity
 * registered in the trust repository beforehand, as for PSKs).  Then
 * each bootstrap binds a key of type "gba-ks" to that device, named by
 * the B-TID, whose fingerprint is SHA-256 of Ks; the next bootstrap
 * revokes it and binds its own (rotate-key would keep the old B-TID as
 * the name), so a record holds one such key, and removing the
 * subscriber revokes it.  Ks itself is never logged.  A subscriber
 * without a device is logged in plazad's log only (an IMPI is not an
 * identifier kind of the trust repository).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core_int.h"
#include "plaza/pz_err.h"
#include "plaza/pz_ident.h"
#include "plaza/pz_log.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_time.h"

#define BOOT_KEY_TYPE "gba-ks"

static int boot_begin(pz_core *core)
{
	if (pz_store_in_batch(core->store))
		pz_core_flush(core);
	return pz_store_begin(core->store);
}

static int boot_apply(pz_core *core, json_t *e, char *err, size_t errlen)
{
	int rc;

	if (!e) {
		snprintf(err, errlen, "out of memory");
		return PZ_ENOMEM;
	}
	rc = pz_ident_apply(core->tlog, core->store, e,
			    pz_time_now() / 1000, NULL, NULL, err, errlen);
	if (rc != PZ_OK)
		pz_log(PZ_INFO, "bsf", "trust entry %s refused: %s",
		       json_string_value(json_object_get(e, "type")), err);
	json_decref(e);
	return rc;
}

/* The fingerprint of rec's active key of type BOOT_KEY_TYPE, or NULL. */
static const char *boot_key_fp(const json_t *rec)
{
	const json_t *k;
	size_t i;

	json_array_foreach(json_object_get(rec, "keys"), i, k) {
		const char *t = json_string_value(json_object_get(k, "type"));

		if (t && !strcmp(t, BOOT_KEY_TYPE))
			return json_string_value(json_object_get(k, "fp"));
	}
	return NULL;
}

/* The device's primary identifier into *rid (pz_free) and its record,
 * which must be an active device. */
static int boot_device(pz_core *core, const char *device, char **rid,
		       json_t **rec, char *err, size_t errlen)
{
	const char *kind, *status;
	int rc = pz_ident_resolve(core->store, device, rid, rec);

	if (rc == PZ_ENOTFOUND || rc == PZ_EINVAL) {
		snprintf(err, errlen, "no device '%.100s' in the trust "
			 "repository: register it first", device);
		return PZ_ENOTFOUND;
	}
	if (rc != PZ_OK) {
		snprintf(err, errlen, "cannot resolve '%.100s'", device);
		return rc;
	}
	kind = json_string_value(json_object_get(*rec, "kind"));
	status = json_string_value(json_object_get(*rec, "status"));
	if (!kind || strcmp(kind, "device") || !status ||
	    strcmp(status, "active")) {
		snprintf(err, errlen, "'%.100s' is not an active device",
			 device);
		rc = PZ_ESTATE;
	}
	return rc;
}

int pz_core_sub_add(pz_core *core, const struct pz_store_sub *sub,
		    char *err, size_t errlen)
{
	char *rid = NULL;
	json_t *rec = NULL;
	int rc;

	snprintf(err, errlen, "%s", "");
	rc = boot_begin(core);
	if (rc != PZ_OK)
		return rc;
	rc = pz_store_sub_put(core->store, sub);
	if (rc == PZ_EEXIST)
		snprintf(err, errlen, "subscriber exists");
	else if (rc == PZ_EINVAL)
		snprintf(err, errlen, "bad IMPI or SQN");
	if (rc == PZ_OK && sub->device[0] && core->tlog)
		rc = boot_device(core, sub->device, &rid, &rec, err, errlen);
	pz_free(rid);
	json_decref(rec);
	return pz_core__txn_end(core, rc);
}

int pz_core_sub_del(pz_core *core, const char *impi)
{
	struct pz_store_sub sub;
	char err[256], *rid = NULL;
	json_t *rec = NULL;
	const char *fp;
	int rc = boot_begin(core);

	if (rc != PZ_OK)
		return rc;
	rc = pz_store_sub_get(core->store, impi, &sub);
	if (rc == PZ_OK)
		rc = pz_store_sub_del(core->store, impi);
	if (rc == PZ_OK && sub.device[0] && core->tlog &&
	    boot_device(core, sub.device, &rid, &rec, err, sizeof(err)) ==
	    PZ_OK && (fp = boot_key_fp(rec)))
		rc = boot_apply(core, json_pack("{s:s,s:s,s:s,s:s}", "type",
			"revoke", "id", rid, "key", fp, "reason",
			"subscriber removed"), err, sizeof(err));
	OPENSSL_cleanse(&sub, sizeof(sub));
	pz_free(rid);
	json_decref(rec);
	return pz_core__txn_end(core, rc);
}

int pz_core_sub_list(pz_core *core, pz_store_sub_cb cb, void *ud)
{
	return pz_store_sub_list(core->store, cb, ud);
}

int pz_core_sub_get(pz_core *core, const char *impi,
		    struct pz_store_sub *out)
{
	return pz_store_sub_get(core->store, impi, out);
}

int pz_core_sub_sqn(pz_core *core, const char *impi, uint64_t sqn)
{
	int rc = boot_begin(core);

	if (rc != PZ_OK)
		return rc;
	rc = pz_store_sub_sqn(core->store, impi, sqn);
	return pz_core__txn_end(core, rc);
}

/* Bind the gba-ks key of the subscriber's device (revoking the previous
 * bootstrap's); without a device only plazad's log says it. */
static int boot_trust_key(pz_core *core, const struct pz_store_boot *b,
			  const char *device)
{
	char fp[PZ_IDENT_FP_LEN], err[256], *rid = NULL;
	json_t *rec = NULL, *e;
	const char *old;
	int rc;

	if (!core->tlog)
		return PZ_OK;
	if (!device[0]) {
		pz_log(PZ_INFO, "bsf", "bootstrap of %s (no device identity: "
		       "not in the trust log)", b->impi);
		return PZ_OK;
	}
	rc = boot_device(core, device, &rid, &rec, err, sizeof(err));
	if (rc != PZ_OK) {
		pz_log(PZ_WARN, "bsf", "bootstrap of %s refused: %s", b->impi,
		       err);
		goto out;
	}
	pz_ident_fp(b->ks, sizeof(b->ks), fp);
	/* rotate-key keeps a key's name, and each Ks has its own B-TID: the
	 * previous context's key is revoked, then the new one bound. */
	old = boot_key_fp(rec);
	if (old)
		rc = boot_apply(core, json_pack("{s:s,s:s,s:s,s:s}", "type",
			"revoke", "id", rid, "key", old, "reason",
			"re-bootstrapped"), err, sizeof(err));
	e = json_pack("{s:s,s:s,s:{s:s,s:s,s:s}}", "type", "bind-key", "id",
		      rid, "key", "type", BOOT_KEY_TYPE, "fp", fp, "name",
		      b->btid);
	if (rc == PZ_OK)
		rc = boot_apply(core, e, err, sizeof(err));
	else
		json_decref(e);
out:
	pz_free(rid);
	json_decref(rec);
	return rc;
}

int pz_core_boot_put(pz_core *core, const struct pz_store_boot *b,
		     uint64_t sqn)
{
	struct pz_store_sub sub;
	int rc = boot_begin(core);

	if (rc != PZ_OK)
		return rc;
	rc = pz_store_sub_get(core->store, b->impi, &sub);
	if (rc == PZ_OK && sqn > sub.sqn)
		rc = pz_store_sub_sqn(core->store, b->impi, sqn);
	/* Expired contexts go with each new one: the table stays the size
	 * of the live B-TIDs. */
	if (rc == PZ_OK)
		rc = pz_store_boot_purge(core->store, pz_time_now(), NULL);
	if (rc == PZ_OK)
		rc = pz_store_boot_put(core->store, b);
	if (rc == PZ_OK)
		rc = boot_trust_key(core, b, sub.device);
	OPENSSL_cleanse(&sub, sizeof(sub));
	return pz_core__txn_end(core, rc);
}

int pz_core_boot_get(pz_core *core, const char *btid,
		     struct pz_store_boot *out)
{
	return pz_store_boot_get(core->store, btid, out);
}
