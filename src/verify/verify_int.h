/*
 * verify_int.h - the parts of plaza-verify, the auditor's tool that checks
 * the trust log's signed heads, proof bundles and consistency proofs with
 * nothing but the log's public key (docs/trust.md, "Auditing with
 * plaza-verify").
 *
 *   check.c      documents to structs and their verification: pure, no
 *                I/O, bounded (the fuzz target fuzz/verify_fuzz.c drives
 *                it); links only merkle.c, sth.c, b64.c, jansson and
 *                libcrypto
 *   cbor_json.c  a small deterministic-CBOR reader turning an entry's
 *                leaf_input into JSON
 *   fetch.c      files, stdin and http(s) URLs (libcurl), bounded
 *   plaza_verify.c  the command line
 *
 * Every checking function returns PZ_OK, PZ_ECORRUPT (the input is well
 * formed but does not verify: the log or the operator misbehaved),
 * PZ_EINVAL (malformed input), or PZ_ENOMEM, and on error writes a
 * one-line reason into err (errlen bytes, always NUL-terminated).  The
 * tool maps them to its exit codes 0, 1, 2 and 2.
 *
 * Threads: no global state; any thread.
 */
#ifndef PZ_VERIFY_INT_H
#define PZ_VERIFY_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plaza/pz_merkle.h"
#include "plaza/pz_tlog.h"

/* Ceilings on what a document may hold (a bundle of a whole identity's
 * history is small; these are far above anything plaza serves). */
#define PZ_VERIFY_MAX_ENTRIES 100000 /* entries in one bundle */
#define PZ_VERIFY_MAX_DOC (64u << 20) /* bytes of one document */
#define PZ_VERIFY_CBOR_DEPTH 32      /* nesting of an entry */

/* A signed head as published. */
struct pz_verify_head {
	uint8_t log_id[PZ_TLOG_HASH];   /* as the document states it */
	struct pz_store_head h;         /* size, timestamp, root, signature */
};

/* One entry of a proof bundle. */
struct pz_verify_entry {
	uint64_t seq;                   /* the entry's number */
	uint8_t *leaf;                  /* leaf_input, decoded (owned) */
	size_t len;                     /* its bytes */
	uint8_t *path;                  /* audit path, leaf level first
					 * (owned; NULL when npath is 0) */
	size_t npath;                   /* hashes in path */
};

/* A proof bundle: GET /.plaza/log/proof. */
struct pz_verify_bundle {
	struct pz_verify_head head;     /* the head the paths lead to */
	struct pz_verify_entry *e;      /* entries (owned) */
	size_t n;                       /* their number */
	const json_t *record;           /* the identity's record, or NULL
					 * (borrowed from the document) */
};

/* A consistency document: GET /.plaza/log/consistency. */
struct pz_verify_cons {
	uint64_t from, to;              /* the two tree sizes */
	uint8_t proof[PZ_MERKLE_MAX_PROOF * PZ_MERKLE_HASH_LEN];
	size_t nproof;                  /* hashes in proof */
	bool has_head;                  /* "head" was present: */
	struct pz_verify_head head;     /* the signed head of size to */
};

/* --- check.c ------------------------------------------------------------ */

/*
 * pz_verify__head_of - the head object a document carries: j itself when
 * it holds a "signature", else its "head" member (a bundle or a
 * consistency document), else NULL.  Borrowed from j.
 */
const json_t *pz_verify__head_of(const json_t *j);

/* pz_verify__head_parse - a head object (see pz_tlog_head_parse) into
 * *out.  PZ_OK, PZ_EINVAL. */
int pz_verify__head_parse(const json_t *j, struct pz_verify_head *out,
			  char *err, size_t errlen);

/*
 * pz_verify__head_check - h is signed by the Ed25519 key pub (raw, 32
 * bytes): its log id is the key's, its signature is valid, and a head of
 * size 0 has the empty tree's root.  PZ_OK, PZ_ECORRUPT.
 */
int pz_verify__head_check(const uint8_t pub[32],
			  const struct pz_verify_head *h, char *err,
			  size_t errlen);

/*
 * pz_verify__bundle_parse - a proof bundle into *b (zeroed first; free
 * with pz_verify__bundle_free even on error).  Checks the shape, every
 * base64 size and the ceilings; b->record is borrowed from j.  PZ_OK,
 * PZ_EINVAL, PZ_ENOMEM.
 */
int pz_verify__bundle_parse(const json_t *j, struct pz_verify_bundle *b,
			    char *err, size_t errlen);
void pz_verify__bundle_free(struct pz_verify_bundle *b);

/*
 * pz_verify__bundle_check - every entry of b is included in the tree of
 * its head (whose signature this does NOT check: call
 * pz_verify__head_check too), the entries come in increasing seq order,
 * each leaf_input is deterministic CBOR of a map whose "seq" is the
 * entry's and whose "v" is 1, and, with a record, each entry names the
 * record's identifier and every seq of the record's history is proven.
 * *entries (may be NULL) gets a new array of the decoded entries
 * (json_decref) on PZ_OK.  PZ_OK, PZ_ECORRUPT, PZ_EINVAL (an entry
 * version this tool does not know), PZ_ENOMEM.
 */
int pz_verify__bundle_check(const struct pz_verify_bundle *b,
			    json_t **entries, char *err, size_t errlen);

/*
 * pz_verify__cons_parse - a consistency document into *c; a bare JSON
 * array is taken as the proof alone (c->from, c->to zero, no head).
 * PZ_OK, PZ_EINVAL.
 */
int pz_verify__cons_parse(const json_t *j, struct pz_verify_cons *c,
			  char *err, size_t errlen);

/*
 * pz_verify__consistency - the tree of old is a prefix of the tree of nw,
 * by proof (n hashes; may be NULL when n is 0).  Equal sizes need equal
 * roots (two roots for one size are a fork), an old size of 0 needs
 * nothing, a smaller new size is a shrunk log.  Signatures are not
 * checked here.  PZ_OK, PZ_ECORRUPT.
 */
int pz_verify__consistency(const struct pz_verify_head *old,
			   const struct pz_verify_head *nw,
			   const uint8_t *proof, size_t n, char *err,
			   size_t errlen);

/* --- cbor_json.c -------------------------------------------------------- */

/*
 * pz_verify__cbor_json - the one CBOR data item in p (n bytes, borrowed)
 * as JSON into *out (json_decref).  Only what plaza's deterministic
 * encoder writes for JSON is accepted: maps with distinct text keys in
 * RFC 8949 section 4.2.1 order, arrays, text and byte strings (the latter
 * become base64 text), integers within int64, finite floats, false, true
 * and null, all with definite lengths in their shortest form, and nothing
 * after the item; nesting is bounded by PZ_VERIFY_CBOR_DEPTH.  PZ_OK,
 * PZ_EINVAL (err names the offset), PZ_ENOMEM.
 */
int pz_verify__cbor_json(const uint8_t *p, size_t n, json_t **out,
			 char *err, size_t errlen);

/* --- fetch.c ------------------------------------------------------------ */

/* pz_verify__is_url - does src name an http(s) URL? */
bool pz_verify__is_url(const char *src);

/*
 * pz_verify__read - the bytes of src: a file path, "-" for stdin, or an
 * http(s) URL (GET; a status other than 200 is an error naming the
 * server's {"error"} when it sent one).  At most PZ_VERIFY_MAX_DOC bytes;
 * *out is NUL-terminated (free).  PZ_OK, PZ_EIO (err says why),
 * PZ_ETOOBIG, PZ_ENOMEM.
 */
int pz_verify__read(const char *src, char **out, size_t *len, char *err,
		    size_t errlen);

/* pz_verify__escape - s percent-encoded for a query (free), or NULL. */
char *pz_verify__escape(const char *s);

#endif
