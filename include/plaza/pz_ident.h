/*
 * pz_ident.h - identity records of the trust repository (docs/trust.md):
 * the platform, its devices (RFC 9039 URNs) and its applications
 * (absolute AE-IDs), each with its aliases, key fingerprints, owner,
 * certification and history.
 *
 * A record is never written directly: every change is a trust-log entry
 * (pz_tlog.h) that pz_ident_apply checks against the current record,
 * appends, and then folds into the record and its aliases in the same
 * store transaction.  The records are therefore what the log says, and
 * can be rebuilt from it.
 *
 * Entries (JSON objects; the log adds v, seq and time):
 *
 *   {"type": "register", "id", "kind": "platform"|"device"|"application",
 *    "aliases"?: [..], "owner"?, "ae_id"?, "app_id"?, "node_id"?,
 *    "sp_id"?, "cse_id"?}
 *   {"type": "bind-key"|"rotate-key", "id", "key": {"type", "fp",
 *    "name"?}, "old"?: fp, "ae_id"?, "app_id"?}
 *   {"type": "certify", "id", "result", "profile"?, "report"?}
 *   {"type": "revoke", "id", "key"?: fp, "reason"?}
 *   {"type": "decommission", "id", "reason"?}
 *
 * A key's "name" (a PSK identity) is an alias while the key is bound.
 *
 * Threading: as the store.
 */
#ifndef PZ_IDENT_H
#define PZ_IDENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plaza/pz_store.h"
#include "plaza/pz_tlog.h"

#define PZ_IDENT_MAX 255          /* longest identifier or alias */
#define PZ_IDENT_FP_LEN 72        /* "sha256:" + 64 hex digits + NUL */

/*
 * pz_ident_canon - the canonical spelling of an identifier: a urn:dev:
 * URN normalised (pz_urn.h), anything else checked (1..PZ_IDENT_MAX
 * printable ASCII characters, no space) and copied.  out needs
 * PZ_IDENT_MAX + 1 bytes.  PZ_OK or PZ_EINVAL with a reason in err.
 */
int pz_ident_canon(const char *in, char out[PZ_IDENT_MAX + 1], char *err,
		   size_t errlen);

/* pz_ident_fp - "sha256:<hex>" of len bytes at p into out.
 * pz_ident_fp_ok - is fp (may be NULL) such a fingerprint, lower case? */
void pz_ident_fp(const void *p, size_t len, char out[PZ_IDENT_FP_LEN]);
bool pz_ident_fp_ok(const char *fp);

/*
 * pz_ident_resolve - the record that any identifier or alias names: *id
 * (may be NULL) gets its primary identifier (pz_free), *rec (may be NULL)
 * the record (json_decref).  PZ_ENOTFOUND, PZ_EINVAL (not an identifier),
 * PZ_ESTORE, PZ_ECORRUPT (a stored record does not parse), PZ_ENOMEM.
 */
int pz_ident_resolve(pz_store *st, const char *any, char **id,
		     json_t **rec);

/*
 * pz_ident_apply - check entry (borrowed; its "id" must be canonical)
 * against the current records, append it to t and update the record and
 * aliases, all inside the open store batch (the caller's savepoint undoes
 * everything together).  *rec (may be NULL) gets the new record.  *seq
 * (may be NULL) the entry's number.  Returns PZ_OK, or with a reason in
 * err and nothing appended: PZ_EINVAL (malformed entry), PZ_ENOTFOUND (no
 * such identity), PZ_EEXIST (identifier or alias taken), PZ_ESTATE (the
 * identity is revoked or decommissioned, or the change is a no-op),
 * PZ_ESTORE, PZ_ENOMEM and pz_tlog_append's errors.
 */
int pz_ident_apply(pz_tlog *t, pz_store *st, json_t *entry, int64_t now_ms,
		   json_t **rec, uint64_t *seq, char *err, size_t errlen);

#endif
