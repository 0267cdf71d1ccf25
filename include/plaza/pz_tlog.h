/*
 * pz_tlog.h - the trust log: an append-only, publicly verifiable log of
 * every identity change in plaza (RFC 9162 style; docs/trust.md).
 *
 * An entry is a JSON object (the caller's fields plus "v", "seq" and
 * "time") whose deterministic CBOR encoding (RFC 8949 section 4.2.1) is
 * the leaf of an RFC 9162 Merkle tree over SHA-256.  Entries are numbered
 * 0, 1, 2, ... and stored with the tree nodes their append completed
 * (pz_store.h), so proofs cost O(log n) lookups at any size.
 *
 * Tree heads are signed with the platform's Ed25519 log key.  The signed
 * bytes are, in order:
 *
 *     "plaza tree head v1"      18 bytes, ASCII, no terminator
 *     log id                    32 bytes: SHA-256 of the raw public key
 *     timestamp                  8 bytes, big-endian, ms since the epoch
 *     tree size                  8 bytes, big-endian
 *     root hash                 32 bytes
 *
 * Writing follows the store's group commit: pz_tlog_append runs inside a
 * store batch (in the caller's savepoint), pz_tlog_rollback follows a
 * savepoint rollback, and pz_tlog_committed / pz_tlog_aborted the end of
 * the batch.  A head only ever covers committed entries.
 *
 * Threading: a pz_tlog belongs to the thread that owns its store.
 */
#ifndef PZ_TLOG_H
#define PZ_TLOG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plaza/pz_store.h"

#define PZ_TLOG_HASH 32          /* SHA-256 */
#define PZ_TLOG_SIG 64           /* Ed25519 */
#define PZ_TLOG_MAX_PROOF 65     /* hashes in any proof (pz_merkle.h) */
#define PZ_TLOG_MAX_ENTRY 16384  /* encoded bytes of one entry */

typedef struct pz_tlog pz_tlog;

/*
 * pz_tlog_open - the log kept in st (borrowed; it must outlive the log),
 * signed with the Ed25519 private key in keyfile (PKCS#8 PEM).  A missing
 * keyfile is created (mode 0600) with a new key, and the public key is
 * written beside it as <keyfile>.pub (SubjectPublicKeyInfo PEM).
 *
 * Opening checks, cheaply, that the stored tree agrees with the newest
 * signed head (its root recomputed from the stored nodes, its signature
 * checked), that the log has no entry missing at its end and that no
 * head was removed (the count kept in the store's metadata, "tlog.heads");
 * a gap inside the log or a changed entry is for pz_tlog_verify, which
 * checks everything.
 * Returns PZ_OK, PZ_EIO (key file), PZ_ECORRUPT (the check failed;
 * err says how), PZ_ESTORE, PZ_ENOMEM.  Free with pz_tlog_free.
 */
int pz_tlog_open(pz_store *st, const char *keyfile, pz_tlog **out,
		 char *err, size_t errlen);
void pz_tlog_free(pz_tlog *t);

/* --- writing (inside a store batch) ---------------------------------- */

/*
 * pz_tlog_append - append entry (borrowed, left unchanged: the log
 * encodes a copy with "v": 1, "seq" and "time": now_ms added) and store
 * it with its tree nodes.  *seq (may be
 * NULL) gets its number.  PZ_EINVAL (not an object, or it already holds
 * v/seq/time), PZ_ETOOBIG (encoding over PZ_TLOG_MAX_ENTRY), PZ_ESTATE
 * (no batch open), PZ_ESTORE, PZ_ENOMEM; on error nothing was appended.
 */
int pz_tlog_append(pz_tlog *t, json_t *entry, int64_t now_ms,
		   uint64_t *seq);

/* pz_tlog_size - entries appended so far, committed or not: the seq the
 * next append gets.  Use it as the mark for pz_tlog_rollback. */
uint64_t pz_tlog_size(const pz_tlog *t);

/* pz_tlog_rollback - the store rolled back to a savepoint taken when the
 * size was mark: forget the entries from mark on.  PZ_OK, PZ_ESTORE. */
int pz_tlog_rollback(pz_tlog *t, uint64_t mark);

/* pz_tlog_committed - the batch committed: what was appended is durable.
 * pz_tlog_aborted - the batch was rolled back: forget it. */
void pz_tlog_committed(pz_tlog *t);
int pz_tlog_aborted(pz_tlog *t);

/* --- reading --------------------------------------------------------- */

/*
 * pz_tlog_head - the newest signed head into *out.  With fresh, a head
 * covering every committed entry is signed first if the newest does not,
 * and stored (in the open batch, or in a transaction of its own).
 * PZ_ENOTFOUND (no head yet and not fresh), PZ_ESTORE, PZ_ENOMEM.
 */
int pz_tlog_head(pz_tlog *t, bool fresh, struct pz_store_head *out);

/* pz_tlog_head_at - the stored head of exactly size entries. */
int pz_tlog_head_at(pz_tlog *t, uint64_t size, struct pz_store_head *out);

/* pz_tlog_committed_size - entries a head may cover now. */
uint64_t pz_tlog_committed_size(const pz_tlog *t);

/*
 * pz_tlog_entry - entry seq: *raw (may be NULL) gets its encoded bytes
 * (pz_free), *doc (may be NULL) the parsed object (json_decref).  Only
 * committed entries are served.  PZ_ENOTFOUND, PZ_ESTORE, PZ_ECORRUPT.
 */
int pz_tlog_entry(pz_tlog *t, uint64_t seq, uint8_t **raw, size_t *len,
		  json_t **doc);

/*
 * pz_tlog_prove - the inclusion proof of entry seq in the tree of size
 * entries (seq < size <= committed size): *n hashes into path (room for
 * PZ_TLOG_MAX_PROOF, 32 bytes each, the leaf's level first), and the
 * entry's leaf hash into leaf (may be NULL).  PZ_EINVAL (out of range),
 * PZ_ESTORE, PZ_ECORRUPT (a stored node is missing).
 */
int pz_tlog_prove(pz_tlog *t, uint64_t seq, uint64_t size, uint8_t *path,
		  size_t *n, uint8_t leaf[PZ_TLOG_HASH]);

/* pz_tlog_consistency - the consistency proof between the trees of size
 * m and n (0 < m <= n <= committed size), as for pz_tlog_prove.
 * PZ_EINVAL, PZ_ESTORE, PZ_ECORRUPT. */
int pz_tlog_consistency(pz_tlog *t, uint64_t m, uint64_t n, uint8_t *proof,
			size_t *len);

/*
 * pz_tlog_warm - fill the node cache that proofs read the upper levels of
 * the tree from, budget store lookups at a time (a proof at 10 million
 * entries otherwise reads them from the store until enough proofs have
 * passed).  *done says whether it is complete; call it again until it
 * is, between other work (plazad does, from its loop, after start).
 * At most 65,536 lookups in all.  PZ_OK, PZ_ESTORE, PZ_ECORRUPT.
 */
int pz_tlog_warm(pz_tlog *t, unsigned budget, bool *done);

/* pz_tlog_root - the root hash of the tree of size entries. */
int pz_tlog_root(pz_tlog *t, uint64_t size, uint8_t root[PZ_TLOG_HASH]);

/* The log's public key: raw (32 bytes), its id (SHA-256 of the raw key)
 * and PEM text (borrowed from t, NUL-terminated). */
const uint8_t *pz_tlog_public_key(const pz_tlog *t);
const uint8_t *pz_tlog_log_id(const pz_tlog *t);
const char *pz_tlog_public_pem(const pz_tlog *t);

/*
 * pz_tlog_verify - check the whole log: every entry decodes, carries its
 * own seq, and hashes to its stored leaf; every stored node is recomputed;
 * every stored head's root matches the tree of its size and its signature
 * verifies.  PZ_OK, PZ_ECORRUPT (err names the first failure), PZ_ESTORE.
 * progress (may be NULL) is called every 2^20 entries.
 */
int pz_tlog_verify(pz_tlog *t, void (*progress)(void *ud, uint64_t done,
						uint64_t total),
		   void *ud, char *err, size_t errlen);

/* --- heads as bytes and JSON (sth.c; plaza-verify links it alone) ----- */

/* pz_tlog_head_tbs - the 98 signed bytes of a head (see above). */
#define PZ_TLOG_TBS_LEN 98
void pz_tlog_head_tbs(const uint8_t log_id[PZ_TLOG_HASH],
		      const struct pz_store_head *h,
		      uint8_t out[PZ_TLOG_TBS_LEN]);

/* pz_tlog_head_verify - does h carry a valid signature by the Ed25519
 * public key pub (raw, 32 bytes)?  The log id is derived from pub. */
bool pz_tlog_head_verify(const uint8_t pub[32],
			 const struct pz_store_head *h);

/* pz_tlog_head_json - {"log_id","tree_size","timestamp","root_hash",
 * "signature"} with base64 (RFC 4648 section 4) byte fields.  NULL on
 * ENOMEM. */
json_t *pz_tlog_head_json(const uint8_t log_id[PZ_TLOG_HASH],
			  const struct pz_store_head *h);

/* pz_tlog_head_parse - the reverse, checking every field's presence and
 * size.  PZ_OK or PZ_EINVAL with a reason. */
int pz_tlog_head_parse(const json_t *j, uint8_t log_id[PZ_TLOG_HASH],
		       struct pz_store_head *h, char *err, size_t errlen);

#endif
