/*
 * check.c - plaza-verify's documents and their verification
 * (verify_int.h): signed heads, proof bundles and consistency proofs of
 * the trust log (docs/trust.md), checked with the log's public key and
 * the RFC 9162 verifiers of merkle.c.
 *
 * Pure: no I/O, no globals.  Every size read from a document is bounded
 * before it is used, so any input is safe (fuzz/verify_fuzz.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "plaza/pz_b64.h"
#include "plaza/pz_err.h"
#include "verify_int.h"

#define HASH PZ_MERKLE_HASH_LEN

/* Base64 text of at most max bytes: the length is checked before
 * decoding.  -1 if s is not base64 or too long. */
static long b64_bounded(const char *s, size_t slen, uint8_t *out,
			size_t max)
{
	if (slen > (max + 2) / 3 * 4 || strlen(s) != slen)
		return -1;
	return pz_b64_decode(s, out, max);
}

const json_t *pz_verify__head_of(const json_t *j)
{
	const json_t *h;

	if (!json_is_object(j))
		return NULL;
	if (json_object_get(j, "signature"))
		return j;
	h = json_object_get(j, "head");
	return json_is_object(h) ? h : NULL;
}

int pz_verify__head_parse(const json_t *j, struct pz_verify_head *out,
			  char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (!j) {
		snprintf(err, errlen, "no signed tree head in the document");
		return PZ_EINVAL;
	}
	return pz_tlog_head_parse(j, out->log_id, &out->h, err, errlen);
}

int pz_verify__head_check(const uint8_t pub[32],
			  const struct pz_verify_head *h, char *err,
			  size_t errlen)
{
	uint8_t id[HASH], empty[HASH];

	if (!EVP_Digest(pub, 32, id, NULL, EVP_sha256(), NULL)) {
		snprintf(err, errlen, "SHA-256 failed");
		return PZ_ENOMEM;
	}
	if (memcmp(id, h->log_id, HASH) != 0) {
		snprintf(err, errlen, "head of size %" PRIu64 ": its log_id "
			 "is not the key's (another log, or the wrong key)",
			 h->h.size);
		return PZ_ECORRUPT;
	}
	if (!pz_tlog_head_verify(pub, &h->h)) {
		snprintf(err, errlen, "head of size %" PRIu64 ": head "
			 "signature invalid", h->h.size);
		return PZ_ECORRUPT;
	}
	pz_merkle_empty(empty);
	if (h->h.size == 0 && memcmp(h->h.root, empty, HASH) != 0) {
		snprintf(err, errlen, "head of size 0: the root is not the "
			 "empty tree's");
		return PZ_ECORRUPT;
	}
	return PZ_OK;
}

/* A JSON array of at most max base64 hashes into out (room for max). */
static int hashes(const json_t *a, const char *what, size_t max,
		  uint8_t *out, size_t *n, char *err, size_t errlen)
{
	size_t i;
	const json_t *v;

	if (!json_is_array(a)) {
		snprintf(err, errlen, "%s: not an array", what);
		return PZ_EINVAL;
	}
	if (json_array_size(a) > max) {
		snprintf(err, errlen, "%s: %zu hashes, more than any tree "
			 "needs (%zu)", what, json_array_size(a), max);
		return PZ_EINVAL;
	}
	json_array_foreach(a, i, v) {
		const char *s = json_string_value(v);

		if (!s || b64_bounded(s, json_string_length(v),
				      out + i * HASH, HASH) != HASH) {
			snprintf(err, errlen, "%s[%zu]: not base64 of a "
				 "32-byte hash", what, i);
			return PZ_EINVAL;
		}
	}
	*n = json_array_size(a);
	return PZ_OK;
}

static int entry_parse(const json_t *j, size_t i, struct pz_verify_entry *e,
		       char *err, size_t errlen)
{
	const json_t *seq = json_object_get(j, "seq");
	const json_t *li = json_object_get(j, "leaf_input");
	const json_t *path = json_object_get(j, "path");
	uint8_t tmp[PZ_MERKLE_MAX_PATH * HASH], leaf[PZ_TLOG_MAX_ENTRY];
	char what[48];
	long got;
	int rc;

	if (!json_is_object(j) || !json_is_integer(seq) ||
	    json_integer_value(seq) < 0 || !json_is_string(li)) {
		snprintf(err, errlen, "entries[%zu]: needs \"seq\" (a "
			 "non-negative integer), \"leaf_input\" and \"path\"",
			 i);
		return PZ_EINVAL;
	}
	e->seq = (uint64_t)json_integer_value(seq);
	got = b64_bounded(json_string_value(li), json_string_length(li),
			  leaf, sizeof(leaf));
	if (got < 0) {
		snprintf(err, errlen, "entry %" PRIu64 ": leaf_input is not "
			 "base64 of at most %d bytes", e->seq,
			 PZ_TLOG_MAX_ENTRY);
		return PZ_EINVAL;
	}
	e->len = (size_t)got;
	e->leaf = malloc(e->len ? e->len : 1);
	if (!e->leaf)
		return PZ_ENOMEM;
	memcpy(e->leaf, leaf, e->len);
	snprintf(what, sizeof(what), "entry %" PRIu64 ": path", e->seq);
	rc = hashes(path, what, PZ_MERKLE_MAX_PATH, tmp, &e->npath, err,
		    errlen);
	if (rc == PZ_OK && e->npath) {
		/* exactly its size, so an overread would show */
		e->path = malloc(e->npath * HASH);
		if (!e->path)
			return PZ_ENOMEM;
		memcpy(e->path, tmp, e->npath * HASH);
	}
	return rc;
}

int pz_verify__bundle_parse(const json_t *j, struct pz_verify_bundle *b,
			    char *err, size_t errlen)
{
	const json_t *ents = json_object_get(j, "entries");
	const json_t *rec = json_object_get(j, "record");
	int rc;

	memset(b, 0, sizeof(*b));
	if (!json_is_object(j) || !json_is_object(json_object_get(j, "head"))
	    || !json_is_array(ents)) {
		snprintf(err, errlen, "a proof bundle is an object with "
			 "\"head\" and \"entries\"");
		return PZ_EINVAL;
	}
	rc = pz_verify__head_parse(json_object_get(j, "head"), &b->head, err,
				   errlen);
	if (rc != PZ_OK)
		return rc;
	if (rec && !json_is_object(rec) && !json_is_null(rec)) {
		snprintf(err, errlen, "\"record\" is not an object");
		return PZ_EINVAL;
	}
	b->record = json_is_object(rec) ? rec : NULL;
	if (json_array_size(ents) > PZ_VERIFY_MAX_ENTRIES) {
		snprintf(err, errlen, "%zu entries: over the limit of %d",
			 json_array_size(ents), PZ_VERIFY_MAX_ENTRIES);
		return PZ_EINVAL;
	}
	if (json_array_size(ents)) {
		b->e = calloc(json_array_size(ents), sizeof(*b->e));
		if (!b->e)
			return PZ_ENOMEM;
	}
	for (size_t i = 0; i < json_array_size(ents) && rc == PZ_OK; i++) {
		rc = entry_parse(json_array_get(ents, i), i, &b->e[i], err,
				 errlen);
		b->n = i + 1;
	}
	if (rc == PZ_ENOMEM)
		snprintf(err, errlen, "out of memory");
	return rc;
}

void pz_verify__bundle_free(struct pz_verify_bundle *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++) {
		free(b->e[i].leaf);
		free(b->e[i].path);
	}
	free(b->e);
	memset(b, 0, sizeof(*b));
}

/* The length of the audit path of leaf index in a tree of n leaves
 * (RFC 9162 section 2.1.3.1), for a precise reason when it differs. */
static size_t path_len(uint64_t index, uint64_t n)
{
	size_t len = 0;

	while (n > 1) {
		uint64_t k = 1;

		while (k < n - k)
			k <<= 1;
		if (index < k) {
			n = k;
		} else {
			index -= k;
			n -= k;
		}
		len++;
	}
	return len;
}

static int entry_inclusion(const struct pz_verify_entry *e,
			   const struct pz_store_head *h, char *err,
			   size_t errlen)
{
	uint8_t leaf[HASH];

	if (e->seq >= h->size) {
		snprintf(err, errlen, "entry %" PRIu64 ": not in a tree of %"
			 PRIu64 " entries", e->seq, h->size);
		return PZ_ECORRUPT;
	}
	if (e->npath != path_len(e->seq, h->size)) {
		snprintf(err, errlen, "entry %" PRIu64 ": audit path has %zu "
			 "hashes, a tree of %" PRIu64 " entries needs %zu",
			 e->seq, e->npath, h->size,
			 path_len(e->seq, h->size));
		return PZ_ECORRUPT;
	}
	if (pz_merkle_leaf(e->leaf, e->len, leaf) != PZ_OK) {
		snprintf(err, errlen, "SHA-256 failed");
		return PZ_ENOMEM;
	}
	if (!pz_merkle_verify_inclusion(e->seq, h->size, leaf, e->path,
					e->npath, h->root)) {
		snprintf(err, errlen, "entry %" PRIu64 ": audit path does not "
			 "lead to the signed root", e->seq);
		return PZ_ECORRUPT;
	}
	return PZ_OK;
}

/* The entry's own fields agree with where the log put it. */
static int entry_fields(const struct pz_verify_entry *e, const json_t *doc,
			const json_t *record, char *err, size_t errlen)
{
	const json_t *v = json_object_get(doc, "v");
	const json_t *seq = json_object_get(doc, "seq");
	const char *id = json_string_value(json_object_get(record, "id"));

	if (!json_is_object(doc)) {
		snprintf(err, errlen, "entry %" PRIu64 ": not a CBOR map",
			 e->seq);
		return PZ_ECORRUPT;
	}
	if (!json_is_integer(seq) ||
	    (uint64_t)json_integer_value(seq) != e->seq ||
	    json_integer_value(seq) < 0) {
		snprintf(err, errlen, "entry %" PRIu64 ": its \"seq\" field "
			 "is not %" PRIu64, e->seq, e->seq);
		return PZ_ECORRUPT;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 1) {
		snprintf(err, errlen, "entry %" PRIu64 ": no valid \"v\" "
			 "field", e->seq);
		return PZ_ECORRUPT;
	}
	if (json_integer_value(v) != 1) {
		snprintf(err, errlen, "entry %" PRIu64 ": version %"
			 JSON_INTEGER_FORMAT " is unknown to this "
			 "plaza-verify", e->seq, json_integer_value(v));
		return PZ_EINVAL;
	}
	if (id && !json_equal(json_object_get(doc, "id"),
			      json_object_get(record, "id"))) {
		snprintf(err, errlen, "entry %" PRIu64 ": is not about %s, "
			 "the record's identifier", e->seq, id);
		return PZ_ECORRUPT;
	}
	return PZ_OK;
}

/* Every seq the record's history names has a proven entry. */
static int record_history(const struct pz_verify_bundle *b, char *err,
			  size_t errlen)
{
	const json_t *hist = json_object_get(b->record, "history");
	const json_t *h;
	size_t i;

	if (!hist)
		return PZ_OK;
	if (!json_is_array(hist)) {
		snprintf(err, errlen, "record: \"history\" is not an array");
		return PZ_EINVAL;
	}
	json_array_foreach(hist, i, h) {
		const json_t *s = json_object_get(h, "seq");
		size_t k;

		if (!json_is_integer(s)) {
			snprintf(err, errlen, "record: history[%zu] has no "
				 "seq", i);
			return PZ_EINVAL;
		}
		for (k = 0; k < b->n; k++)
			if (json_integer_value(s) >= 0 &&
			    b->e[k].seq == (uint64_t)json_integer_value(s))
				break;
		if (k == b->n) {
			snprintf(err, errlen, "record: history names entry %"
				 JSON_INTEGER_FORMAT ", which the bundle does "
				 "not prove", json_integer_value(s));
			return PZ_ECORRUPT;
		}
	}
	return PZ_OK;
}

static int entry_check(const struct pz_verify_bundle *b, size_t i,
		       json_t **doc, char *err, size_t errlen)
{
	const struct pz_verify_entry *e = &b->e[i];
	char why[160];
	int rc;

	if (i > 0 && e->seq <= b->e[i - 1].seq) {
		snprintf(err, errlen, "entry %" PRIu64 ": out of order (after "
			 "entry %" PRIu64 ")", e->seq, b->e[i - 1].seq);
		return PZ_ECORRUPT;
	}
	rc = entry_inclusion(e, &b->head.h, err, errlen);
	if (rc != PZ_OK)
		return rc;
	rc = pz_verify__cbor_json(e->leaf, e->len, doc, why, sizeof(why));
	if (rc == PZ_EINVAL) {
		snprintf(err, errlen, "entry %" PRIu64 ": leaf_input is not "
			 "plaza's deterministic CBOR: %s", e->seq, why);
		return PZ_ECORRUPT;
	}
	if (rc != PZ_OK) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	return entry_fields(e, *doc, b->record, err, errlen);
}

int pz_verify__bundle_check(const struct pz_verify_bundle *b,
			    json_t **entries, char *err, size_t errlen)
{
	json_t *all = json_array();
	int rc = all ? PZ_OK : PZ_ENOMEM;

	for (size_t i = 0; i < b->n && rc == PZ_OK; i++) {
		json_t *doc = NULL;

		rc = entry_check(b, i, &doc, err, errlen);
		if (rc == PZ_OK && json_array_append_new(all, doc))
			rc = PZ_ENOMEM;
		else if (rc != PZ_OK)
			json_decref(doc);
	}
	if (rc == PZ_OK && b->record)
		rc = record_history(b, err, errlen);
	if (rc == PZ_ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (rc == PZ_OK && entries)
		*entries = json_incref(all);
	json_decref(all);
	return rc;
}

int pz_verify__cons_parse(const json_t *j, struct pz_verify_cons *c,
			  char *err, size_t errlen)
{
	const json_t *from = json_object_get(j, "from");
	const json_t *to = json_object_get(j, "to");
	const json_t *head = json_object_get(j, "head");
	int rc;

	memset(c, 0, sizeof(*c));
	if (json_is_array(j))
		return hashes(j, "consistency proof", PZ_MERKLE_MAX_PROOF,
			      c->proof, &c->nproof, err, errlen);
	if (!json_is_object(j) || !json_is_integer(from) ||
	    !json_is_integer(to) || json_integer_value(from) < 0 ||
	    json_integer_value(to) < 0) {
		snprintf(err, errlen, "a consistency document is an object "
			 "with \"from\", \"to\" (non-negative integers) and "
			 "\"proof\"");
		return PZ_EINVAL;
	}
	c->from = (uint64_t)json_integer_value(from);
	c->to = (uint64_t)json_integer_value(to);
	rc = hashes(json_object_get(j, "proof"), "consistency proof",
		    PZ_MERKLE_MAX_PROOF, c->proof, &c->nproof, err, errlen);
	if (rc == PZ_OK && head) {
		c->has_head = true;
		rc = pz_verify__head_parse(head, &c->head, err, errlen);
	}
	if (rc == PZ_OK && c->has_head && c->head.h.size != c->to) {
		snprintf(err, errlen, "consistency document: \"to\" is %"
			 PRIu64 " but its head has %" PRIu64 " entries",
			 c->to, c->head.h.size);
		return PZ_EINVAL;
	}
	return rc;
}

int pz_verify__consistency(const struct pz_verify_head *old,
			   const struct pz_verify_head *nw,
			   const uint8_t *proof, size_t n, char *err,
			   size_t errlen)
{
	uint64_t m = old->h.size, sz = nw->h.size;

	if (m > sz) {
		snprintf(err, errlen, "log shrank: old head has %" PRIu64
			 " entries, new %" PRIu64, m, sz);
		return PZ_ECORRUPT;
	}
	if (m == sz) {
		if (memcmp(old->h.root, nw->h.root, HASH) != 0) {
			snprintf(err, errlen, "not consistent: two different "
				 "roots signed for %" PRIu64 " entries (a "
				 "fork)", m);
			return PZ_ECORRUPT;
		}
		return PZ_OK;
	}
	if (m == 0)
		return PZ_OK;   /* every tree extends the empty one */
	if (!pz_merkle_verify_consistency(m, sz, old->h.root, nw->h.root,
					  proof, n)) {
		snprintf(err, errlen, "not consistent: the proof does not "
			 "link the old root (%" PRIu64 " entries) to the new "
			 "one (%" PRIu64 ")", m, sz);
		return PZ_ECORRUPT;
	}
	return PZ_OK;
}
