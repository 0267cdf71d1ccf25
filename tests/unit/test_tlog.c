/*
 * test_tlog.c - the trust log (pz_tlog.h) on a real SQLite store in a
 * temporary directory: the log key (created 0600 with its .pub, reused on
 * reopen), appends inside batches, refused entries, savepoint rollbacks
 * and aborted batches, signed heads (signature, every bit flipped, JSON
 * round trip and every parse refusal), inclusion and consistency proofs
 * for every pair up to 20 entries against an independent recomputation,
 * reopen, the full verification, tampering through sqlite3 on the closed
 * database (each caught with a message naming it), and allocation
 * failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sqlite3.h>
#include <cmocka.h>

#include "plaza/pz_b64.h"
#include "plaza/pz_buf.h"
#include "plaza/pz_codec.h"
#include "plaza/pz_err.h"
#include "plaza/pz_log.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_merkle.h"
#include "plaza/pz_store.h"
#include "plaza/pz_tlog.h"

#define T0 1795568400123LL   /* entry times, ms */

struct fx {
	char dir[64];
	char path[96];           /* the database */
	char url[128];
	char key[96];            /* the log key */
	pz_store *st;
	pz_tlog *t;
};

static void fx_remove_files(struct fx *f)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	char p[160];

	for (int i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s%s", f->path, sfx[i]);
		unlink(p);
	}
	unlink(f->key);
	snprintf(p, sizeof(p), "%s.pub", f->key);
	unlink(p);
}

static void fx_open(struct fx *f)
{
	char err[256];
	int rc;

	assert_int_equal(pz_store_open(f->url, NULL, &f->st), PZ_OK);
	rc = pz_tlog_open(f->st, f->key, &f->t, err, sizeof(err));
	if (rc != PZ_OK)
		fail_msg("pz_tlog_open: %s: %s", pz_strerror(rc), err);
}

static void fx_close(struct fx *f)
{
	pz_tlog_free(f->t);
	f->t = NULL;
	pz_store_close(f->st);
	f->st = NULL;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/pz-tlog-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
	snprintf(f->url, sizeof(f->url), "sqlite:%s", f->path);
	snprintf(f->key, sizeof(f->key), "%s/log.key", f->dir);
	fx_open(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	fx_close(f);
	fx_remove_files(f);
	rmdir(f->dir);
	free(f);
	return 0;
}

static json_t *entry_n(uint64_t i)
{
	char id[48];

	snprintf(id, sizeof(id), "urn:dev:mac:0024befffe80%04x",
		 (unsigned)i);
	return json_pack("{s:s, s:s, s:s, s:[s], s:s}", "type", "register",
			 "id", id, "kind", "device", "aliases", id + 12,
			 "owner", "CAdmin");
}

/* Append n entries in one committed batch. */
static void append_n(struct fx *f, uint64_t n)
{
	assert_int_equal(pz_store_begin(f->st), PZ_OK);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t want = pz_tlog_size(f->t), seq = UINT64_MAX;
		json_t *e = entry_n(want);

		assert_int_equal(pz_tlog_append(f->t, e, T0 + (int64_t)want,
						&seq), PZ_OK);
		assert_int_equal(seq, want);
		json_decref(e);
	}
	assert_int_equal(pz_store_commit(f->st), PZ_OK);
	pz_tlog_committed(f->t);
}

/* --- an independent tree: RFC 9162's recursive definition ------------------ */

static void leaf_of(struct fx *f, uint64_t seq, uint8_t out[32])
{
	uint8_t *raw = NULL;
	size_t len = 0;

	assert_int_equal(pz_tlog_entry(f->t, seq, &raw, &len, NULL), PZ_OK);
	assert_int_equal(pz_merkle_leaf(raw, len, out), PZ_OK);
	pz_free(raw);
}

static void mth(uint8_t (*leaves)[32], uint64_t n, uint8_t out[32])
{
	uint8_t l[32], r[32];
	uint64_t k = 1;

	if (n == 0) {
		pz_merkle_empty(out);
		return;
	}
	if (n == 1) {
		memcpy(out, leaves[0], 32);
		return;
	}
	while (k * 2 < n)
		k *= 2;
	mth(leaves, k, l);
	mth(leaves + k, n - k, r);
	assert_int_equal(pz_merkle_node(l, r, out), PZ_OK);
}

/* The root of the first n committed entries, recomputed from them. */
static void root_of(struct fx *f, uint64_t n, uint8_t out[32])
{
	uint8_t (*leaves)[32] = calloc(n ? n : 1, 32);

	for (uint64_t i = 0; i < n; i++)
		leaf_of(f, i, leaves[i]);
	mth(leaves, n, out);
	free(leaves);
}

/* --- the key --------------------------------------------------------------- */

static void test_key(void **state)
{
	struct fx *f = *state;
	uint8_t pub[32], id[32], sha[32];
	char pubpath[128], buf[512];
	struct stat sb;
	FILE *fp;
	size_t n;

	assert_int_equal(stat(f->key, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	snprintf(pubpath, sizeof(pubpath), "%s.pub", f->key);
	fp = fopen(pubpath, "r");
	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = 0;
	assert_string_equal(buf, pz_tlog_public_pem(f->t));
	assert_non_null(strstr(buf, "-----BEGIN PUBLIC KEY-----"));
	/* The log id is the SHA-256 of the raw public key. */
	memcpy(pub, pz_tlog_public_key(f->t), 32);
	memcpy(id, pz_tlog_log_id(f->t), 32);
	assert_true(EVP_Digest(pub, 32, sha, NULL, EVP_sha256(), NULL));
	assert_memory_equal(id, sha, 32);
	/* Reopening reuses the key, also when the .pub file is gone. */
	unlink(pubpath);
	fx_close(f);
	fx_open(f);
	assert_memory_equal(pz_tlog_public_key(f->t), pub, 32);
	assert_memory_equal(pz_tlog_log_id(f->t), id, 32);
	assert_int_equal(access(pubpath, F_OK), 0);
	assert_int_equal(stat(f->key, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
}

static void test_key_errors(void **state)
{
	struct fx *f = *state;
	char bad[128], err[256];
	pz_tlog *t = NULL;
	EVP_PKEY *rsa;
	FILE *fp;

	/* Not a key at all. */
	snprintf(bad, sizeof(bad), "%s/bad.key", f->dir);
	fp = fopen(bad, "w");
	assert_non_null(fp);
	fputs("not a key\n", fp);
	fclose(fp);
	assert_int_equal(pz_tlog_open(f->st, bad, &t, err, sizeof(err)),
			 PZ_EIO);
	assert_null(t);
	/* A key, but not Ed25519. */
	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(rsa);
	fp = fopen(bad, "w");
	assert_non_null(fp);
	assert_int_equal(PEM_write_PrivateKey(fp, rsa, NULL, NULL, 0, NULL,
					      NULL), 1);
	fclose(fp);
	EVP_PKEY_free(rsa);
	assert_int_equal(pz_tlog_open(f->st, bad, &t, err, sizeof(err)),
			 PZ_EIO);
	unlink(bad);
	/* A directory that does not exist: the key cannot be created. */
	assert_int_equal(pz_tlog_open(f->st, "/nonexistent-dir/log.key", &t,
				      err, sizeof(err)), PZ_EIO);
	assert_null(t);
}

/* --- appending -------------------------------------------------------------- */

static void test_append(void **state)
{
	struct fx *f = *state;
	json_t *e = entry_n(0), *doc = NULL, *copy;
	uint8_t *raw = NULL;
	uint64_t seq = 99;
	size_t len = 0;

	assert_int_equal(pz_tlog_size(f->t), 0);
	assert_int_equal(pz_tlog_committed_size(f->t), 0);
	assert_int_equal(pz_store_begin(f->st), PZ_OK);
	copy = json_deep_copy(e);
	assert_int_equal(pz_tlog_append(f->t, e, T0, &seq), PZ_OK);
	assert_int_equal(seq, 0);
	assert_true(json_equal(e, copy));  /* the caller's object is intact */
	json_decref(copy);
	assert_int_equal(pz_tlog_append(f->t, e, T0 + 1, NULL), PZ_OK);
	assert_int_equal(pz_tlog_size(f->t), 2);
	/* Nothing is served before the commit. */
	assert_int_equal(pz_tlog_committed_size(f->t), 0);
	assert_int_equal(pz_tlog_entry(f->t, 0, &raw, &len, NULL),
			 PZ_ENOTFOUND);
	assert_int_equal(pz_store_commit(f->st), PZ_OK);
	assert_int_equal(pz_tlog_entry(f->t, 0, &raw, &len, NULL),
			 PZ_ENOTFOUND);
	pz_tlog_committed(f->t);
	assert_int_equal(pz_tlog_committed_size(f->t), 2);
	/* The entry as served: the fields plus v, seq and time, in its
	 * deterministic CBOR encoding. */
	assert_int_equal(pz_tlog_entry(f->t, 1, &raw, &len, &doc), PZ_OK);
	assert_int_equal(json_integer_value(json_object_get(doc, "v")), 1);
	assert_int_equal(json_integer_value(json_object_get(doc, "seq")), 1);
	assert_int_equal(json_integer_value(json_object_get(doc, "time")),
			 T0 + 1);
	assert_string_equal(json_string_value(json_object_get(doc, "id")),
			    "urn:dev:mac:0024befffe800000");
	assert_int_equal(json_object_size(doc), json_object_size(e) + 3);
	{
		struct pz_buf b;

		pz_buf_init(&b, 0);
		assert_int_equal(pz_codec_encode_ex(PZ_FMT_CBOR, doc,
						    PZ_CODEC_DETERMINISTIC,
						    &b), PZ_OK);
		assert_int_equal(b.len, len);
		assert_memory_equal(b.data, raw, len);
		pz_buf_free(&b);
	}
	pz_free(raw);
	json_decref(doc);
	/* Only raw, only doc, neither. */
	assert_int_equal(pz_tlog_entry(f->t, 0, NULL, NULL, &doc), PZ_OK);
	json_decref(doc);
	assert_int_equal(pz_tlog_entry(f->t, 0, NULL, NULL, NULL), PZ_OK);
	assert_int_equal(pz_tlog_entry(f->t, 2, NULL, NULL, NULL),
			 PZ_ENOTFOUND);
	assert_int_equal(pz_tlog_entry(f->t, UINT64_MAX, NULL, NULL, NULL),
			 PZ_ENOTFOUND);
	json_decref(e);
}

/* The encoded size of e as entry seq with time T0. */
static size_t encoded_size(const json_t *e, uint64_t seq)
{
	json_t *c = json_deep_copy(e);
	struct pz_buf b;
	size_t n;

	json_object_set_new(c, "v", json_integer(1));
	json_object_set_new(c, "seq", json_integer((json_int_t)seq));
	json_object_set_new(c, "time", json_integer(T0));
	pz_buf_init(&b, 0);
	assert_int_equal(pz_codec_encode_ex(PZ_FMT_CBOR, c,
					    PZ_CODEC_DETERMINISTIC, &b),
			 PZ_OK);
	n = b.len;
	pz_buf_free(&b);
	json_decref(c);
	return n;
}

/* An entry {"type": "x", "pad": <string>} encoding to exactly want bytes
 * as entry seq. */
static json_t *entry_of_size(uint64_t seq, size_t want)
{
	size_t pad = want - 40;
	json_t *e = NULL;

	for (int tries = 0; tries < 8; tries++) {
		char *s = malloc(pad + 1);
		size_t got;

		memset(s, 'a', pad);
		s[pad] = 0;
		json_decref(e);
		e = json_pack("{s:s, s:s}", "type", "x", "pad", s);
		free(s);
		got = encoded_size(e, seq);
		if (got == want)
			return e;
		pad += want - got;  /* the string head may change size */
	}
	fail_msg("cannot build an entry of %zu bytes", want);
	return NULL;
}

static void expect_nothing_appended(struct fx *f, uint64_t size)
{
	uint64_t n = 0;

	assert_int_equal(pz_tlog_size(f->t), size);
	assert_int_equal(pz_store_tlog_size(f->st, &n), PZ_OK);
	assert_int_equal(n, size);
}

static void test_append_refused(void **state)
{
	struct fx *f = *state;
	static const char *const reserved[] = { "v", "seq", "time" };
	json_t *e = entry_n(0), *bad;
	uint64_t seq = 77;

	/* Outside a batch. */
	assert_int_equal(pz_tlog_append(f->t, e, T0, &seq), PZ_ESTATE);
	assert_int_equal(seq, 77);
	expect_nothing_appended(f, 0);
	append_n(f, 1);
	assert_int_equal(pz_store_begin(f->st), PZ_OK);
	/* v, seq or time already there. */
	for (int i = 0; i < 3; i++) {
		bad = json_deep_copy(e);
		json_object_set_new(bad, reserved[i], json_integer(1));
		assert_int_equal(pz_tlog_append(f->t, bad, T0, &seq),
				 PZ_EINVAL);
		json_decref(bad);
		expect_nothing_appended(f, 1);
	}
	/* Not an object. */
	bad = json_pack("[s]", "register");
	assert_int_equal(pz_tlog_append(f->t, bad, T0, &seq), PZ_EINVAL);
	json_decref(bad);
	bad = json_string("register");
	assert_int_equal(pz_tlog_append(f->t, bad, T0, &seq), PZ_EINVAL);
	json_decref(bad);
	assert_int_equal(pz_tlog_append(f->t, NULL, T0, &seq), PZ_EINVAL);
	expect_nothing_appended(f, 1);
	/* PZ_TLOG_MAX_ENTRY encoded bytes exactly, and one over. */
	bad = entry_of_size(1, PZ_TLOG_MAX_ENTRY + 1);
	assert_int_equal(pz_tlog_append(f->t, bad, T0, &seq), PZ_ETOOBIG);
	json_decref(bad);
	expect_nothing_appended(f, 1);
	assert_int_equal(seq, 77);
	bad = entry_of_size(1, PZ_TLOG_MAX_ENTRY);
	assert_int_equal(pz_tlog_append(f->t, bad, T0, &seq), PZ_OK);
	assert_int_equal(seq, 1);
	json_decref(bad);
	/* After the refusals the next entry takes the next number. */
	assert_int_equal(pz_tlog_append(f->t, e, T0, &seq), PZ_OK);
	assert_int_equal(seq, 2);
	assert_int_equal(pz_store_commit(f->st), PZ_OK);
	pz_tlog_committed(f->t);
	json_decref(e);
	{
		char err[256];

		assert_int_equal(pz_tlog_verify(f->t, NULL, NULL, err,
						sizeof(err)), PZ_OK);
	}
}

/* --- rollbacks -------------------------------------------------------------- */

static void test_rollback(void **state)
{
	struct fx *f = *state;
	uint8_t root[32], again[32], indep[32];
	uint64_t mark, seq = 0, n = 0;
	json_t *e = entry_n(1000);
	char err[256];

	append_n(f, 5);
	assert_int_equal(pz_tlog_root(f->t, 5, root), PZ_OK);
	/* A request rolled back to its savepoint inside a batch. */
	assert_int_equal(pz_store_begin(f->st), PZ_OK);
	assert_int_equal(pz_tlog_append(f->t, e, T0, &seq), PZ_OK);
	assert_int_equal(seq, 5);
	mark = pz_tlog_size(f->t);
	assert_int_equal(pz_store_savepoint(f->st), PZ_OK);
	for (int i = 0; i < 3; i++)
		assert_int_equal(pz_tlog_append(f->t, e, T0, NULL), PZ_OK);
	assert_int_equal(pz_tlog_size(f->t), 9);
	assert_int_equal(pz_store_rollback_to(f->st), PZ_OK);
	assert_int_equal(pz_tlog_rollback(f->t, mark), PZ_OK);
	assert_int_equal(pz_tlog_size(f->t), 6);
	/* Rolling back to the present is a no-op. */
	assert_int_equal(pz_tlog_rollback(f->t, 6), PZ_OK);
	assert_int_equal(pz_tlog_append(f->t, e, T0, &seq), PZ_OK);
	assert_int_equal(seq, 6);
	assert_int_equal(pz_store_commit(f->st), PZ_OK);
	pz_tlog_committed(f->t);
	assert_int_equal(pz_tlog_committed_size(f->t), 7);
	assert_int_equal(pz_store_tlog_size(f->st, &n), PZ_OK);
	assert_int_equal(n, 7);
	assert_int_equal(pz_tlog_root(f->t, 7, again), PZ_OK);
	root_of(f, 7, indep);
	assert_memory_equal(again, indep, 32);
	/* An aborted batch: size, next seq and root as before it. */
	assert_int_equal(pz_tlog_root(f->t, 7, root), PZ_OK);
	assert_int_equal(pz_store_begin(f->st), PZ_OK);
	for (int i = 0; i < 9; i++)  /* crosses the 8-leaf boundary */
		assert_int_equal(pz_tlog_append(f->t, e, T0, NULL), PZ_OK);
	assert_int_equal(pz_store_rollback(f->st), PZ_OK);
	assert_int_equal(pz_tlog_aborted(f->t), PZ_OK);
	assert_int_equal(pz_tlog_size(f->t), 7);
	assert_int_equal(pz_tlog_committed_size(f->t), 7);
	assert_int_equal(pz_tlog_root(f->t, 7, again), PZ_OK);
	assert_memory_equal(root, again, 32);
	assert_int_equal(pz_store_begin(f->st), PZ_OK);
	assert_int_equal(pz_tlog_append(f->t, e, T0, &seq), PZ_OK);
	assert_int_equal(seq, 7);
	assert_int_equal(pz_store_commit(f->st), PZ_OK);
	pz_tlog_committed(f->t);
	assert_int_equal(pz_tlog_root(f->t, 8, again), PZ_OK);
	root_of(f, 8, indep);
	assert_memory_equal(again, indep, 32);
	json_decref(e);
	assert_int_equal(pz_tlog_verify(f->t, NULL, NULL, err, sizeof(err)),
			 PZ_OK);
	/* And the tree the frontier carries on with is the right one. */
	append_n(f, 9);
	assert_int_equal(pz_tlog_root(f->t, 17, again), PZ_OK);
	root_of(f, 17, indep);
	assert_memory_equal(again, indep, 32);
}

/* A head signed inside a batch that is then abandoned is forgotten. */
static void test_head_rolled_back(void **state)
{
	struct fx *f = *state;
	struct pz_store_head h, h2;
	char err[256];

	append_n(f, 3);
	assert_int_equal(pz_tlog_head(f->t, true, &h), PZ_OK);
	append_n(f, 2);
	assert_int_equal(pz_store_begin(f->st), PZ_OK);
	assert_int_equal(pz_tlog_head(f->t, true, &h2), PZ_OK);
	assert_int_equal(h2.size, 5);
	assert_int_equal(pz_store_rollback(f->st), PZ_OK);
	assert_int_equal(pz_tlog_aborted(f->t), PZ_OK);
	assert_int_equal(pz_tlog_head(f->t, false, &h2), PZ_OK);
	assert_int_equal(h2.size, 3);
	assert_int_equal(pz_tlog_head_at(f->t, 5, &h2), PZ_ENOTFOUND);
	/* The same in a savepoint rolled back. */
	assert_int_equal(pz_store_begin(f->st), PZ_OK);
	assert_int_equal(pz_store_savepoint(f->st), PZ_OK);
	assert_int_equal(pz_tlog_head(f->t, true, &h2), PZ_OK);
	assert_int_equal(h2.size, 5);
	assert_int_equal(pz_store_rollback_to(f->st), PZ_OK);
	assert_int_equal(pz_tlog_rollback(f->t, pz_tlog_size(f->t)), PZ_OK);
	assert_int_equal(pz_tlog_head(f->t, false, &h2), PZ_OK);
	assert_int_equal(h2.size, 3);
	/* Signed again in the batch, which commits this time. */
	assert_int_equal(pz_tlog_head(f->t, true, &h2), PZ_OK);
	assert_int_equal(h2.size, 5);
	assert_int_equal(pz_store_commit(f->st), PZ_OK);
	pz_tlog_committed(f->t);
	assert_int_equal(pz_tlog_head_at(f->t, 5, &h), PZ_OK);
	assert_memory_equal(&h, &h2, sizeof(h));
	fx_close(f);
	fx_open(f);
	assert_int_equal(pz_tlog_verify(f->t, NULL, NULL, err, sizeof(err)),
			 PZ_OK);
}

/* --- heads ------------------------------------------------------------------ */

static void test_head(void **state)
{
	struct fx *f = *state;
	struct pz_store_head h, h2, bad;
	uint8_t root[32], other[32];
	EVP_PKEY *k;
	size_t len = 32;

	assert_int_equal(pz_tlog_head(f->t, false, &h), PZ_ENOTFOUND);
	assert_int_equal(pz_tlog_head_at(f->t, 0, &h), PZ_ENOTFOUND);
	/* The empty tree has a head too. */
	assert_int_equal(pz_tlog_head(f->t, true, &h), PZ_OK);
	assert_int_equal(h.size, 0);
	pz_merkle_empty(root);
	assert_memory_equal(h.root, root, 32);
	assert_true(pz_tlog_head_verify(pz_tlog_public_key(f->t), &h));
	append_n(f, 6);
	/* Not fresh: the newest stored head, even if entries came since. */
	assert_int_equal(pz_tlog_head(f->t, false, &h2), PZ_OK);
	assert_int_equal(h2.size, 0);
	assert_int_equal(pz_tlog_head(f->t, true, &h), PZ_OK);
	assert_int_equal(h.size, 6);
	assert_true(h.ts >= h2.ts);
	root_of(f, 6, root);
	assert_memory_equal(h.root, root, 32);
	assert_int_equal(pz_tlog_head_at(f->t, 6, &h2), PZ_OK);
	assert_memory_equal(&h, &h2, sizeof(h));
	/* Fresh again with nothing new: the same head, not a new one. */
	assert_int_equal(pz_tlog_head(f->t, true, &h2), PZ_OK);
	assert_memory_equal(&h, &h2, sizeof(h));
	/* Uncommitted entries are not covered. */
	assert_int_equal(pz_store_begin(f->st), PZ_OK);
	{
		json_t *e = entry_n(6);

		assert_int_equal(pz_tlog_append(f->t, e, T0, NULL), PZ_OK);
		json_decref(e);
	}
	assert_int_equal(pz_tlog_head(f->t, true, &h2), PZ_OK);
	assert_int_equal(h2.size, 6);
	assert_int_equal(pz_store_commit(f->st), PZ_OK);
	pz_tlog_committed(f->t);
	/* The signature: good, and bad with any bit of any field flipped. */
	assert_true(pz_tlog_head_verify(pz_tlog_public_key(f->t), &h));
	for (unsigned bit = 0; bit < 64; bit++) {
		bad = h;
		bad.size ^= (uint64_t)1 << bit;
		assert_false(pz_tlog_head_verify(pz_tlog_public_key(f->t),
						 &bad));
		bad = h;
		bad.ts ^= (int64_t)((uint64_t)1 << bit);
		assert_false(pz_tlog_head_verify(pz_tlog_public_key(f->t),
						 &bad));
	}
	for (unsigned bit = 0; bit < 8 * 32; bit++) {
		bad = h;
		bad.root[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_false(pz_tlog_head_verify(pz_tlog_public_key(f->t),
						 &bad));
	}
	for (unsigned bit = 0; bit < 8 * 64; bit++) {
		bad = h;
		bad.sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_false(pz_tlog_head_verify(pz_tlog_public_key(f->t),
						 &bad));
	}
	/* Another key does not verify it (and the log id is its digest). */
	k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(k);
	assert_int_equal(EVP_PKEY_get_raw_public_key(k, other, &len), 1);
	EVP_PKEY_free(k);
	assert_false(pz_tlog_head_verify(other, &h));
	/* The signed bytes, as pz_tlog.h lays them out. */
	{
		uint8_t tbs[PZ_TLOG_TBS_LEN];

		pz_tlog_head_tbs(pz_tlog_log_id(f->t), &h, tbs);
		assert_memory_equal(tbs, "plaza tree head v1", 18);
		assert_memory_equal(tbs + 18, pz_tlog_log_id(f->t), 32);
		for (int i = 0; i < 8; i++) {
			assert_int_equal(tbs[50 + i],
					 (uint8_t)((uint64_t)h.ts >>
						   (56 - 8 * i)));
			assert_int_equal(tbs[58 + i],
					 (uint8_t)(h.size >> (56 - 8 * i)));
		}
		assert_memory_equal(tbs + 66, h.root, 32);
	}
	/* Heads survive a reopen. */
	fx_close(f);
	fx_open(f);
	assert_int_equal(pz_tlog_head(f->t, false, &h2), PZ_OK);
	assert_memory_equal(&h, &h2, sizeof(h));
	assert_int_equal(pz_tlog_head_at(f->t, 0, &h2), PZ_OK);
	assert_int_equal(h2.size, 0);
	assert_int_equal(pz_tlog_head(f->t, true, &h2), PZ_OK);
	assert_int_equal(h2.size, 7);
}

static void test_head_json(void **state)
{
	struct fx *f = *state;
	static const char *const fields[] = { "log_id", "tree_size",
					      "timestamp", "root_hash",
					      "signature" };
	struct pz_store_head h, back;
	uint8_t id[32];
	char err[128];
	json_t *j, *bad;

	append_n(f, 3);
	assert_int_equal(pz_tlog_head(f->t, true, &h), PZ_OK);
	j = pz_tlog_head_json(pz_tlog_log_id(f->t), &h);
	assert_non_null(j);
	assert_int_equal(json_object_size(j), 5);
	assert_int_equal(json_integer_value(json_object_get(j, "tree_size")),
			 3);
	assert_int_equal(json_integer_value(json_object_get(j, "timestamp")),
			 h.ts);
	/* Standard base64 with padding: 32 bytes are 44 characters. */
	assert_int_equal(strlen(json_string_value(json_object_get(j,
			 "root_hash"))), 44);
	assert_int_equal(strlen(json_string_value(json_object_get(j,
			 "signature"))), 88);
	memset(&back, 0, sizeof(back));
	assert_int_equal(pz_tlog_head_parse(j, id, &back, err, sizeof(err)),
			 PZ_OK);
	assert_memory_equal(id, pz_tlog_log_id(f->t), 32);
	assert_memory_equal(&back, &h, sizeof(h));
	assert_true(pz_tlog_head_verify(pz_tlog_public_key(f->t), &back));
	/* Every field missing, in turn, and named. */
	for (int i = 0; i < 5; i++) {
		bad = json_deep_copy(j);
		json_object_del(bad, fields[i]);
		assert_int_equal(pz_tlog_head_parse(bad, id, &back, err,
						    sizeof(err)), PZ_EINVAL);
		assert_non_null(strstr(err, fields[i]));
		json_decref(bad);
	}
	/* Wrong types, negative numbers. */
	for (int i = 0; i < 5; i++) {
		bad = json_deep_copy(j);
		json_object_set_new(bad, fields[i], i == 1 || i == 2 ?
				    json_string("3") : json_integer(3));
		assert_int_equal(pz_tlog_head_parse(bad, id, &back, err,
						    sizeof(err)), PZ_EINVAL);
		assert_non_null(strstr(err, fields[i]));
		json_decref(bad);
	}
	for (int i = 1; i <= 2; i++) {
		bad = json_deep_copy(j);
		json_object_set_new(bad, fields[i], json_integer(-1));
		assert_int_equal(pz_tlog_head_parse(bad, id, &back, err,
						    sizeof(err)), PZ_EINVAL);
		assert_non_null(strstr(err, fields[i]));
		json_object_set_new(bad, fields[i], json_real(3.0));
		assert_int_equal(pz_tlog_head_parse(bad, id, &back, err,
						    sizeof(err)), PZ_EINVAL);
		json_decref(bad);
	}
	/* Byte fields one byte short or long, bad base64, huge. */
	{
		static const char *const wrong[] = {
			/* 31 bytes */ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
			/* 33 bytes */ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
			"@@@@", "AAAA AAAA", "A", ""
		};
		char *huge = malloc(4001);

		memset(huge, 'A', 4000);
		huge[4000] = 0;
		for (int fi = 0; fi < 5; fi++) {
			if (fi == 1 || fi == 2)
				continue;
			for (size_t w = 0; w <= sizeof(wrong) /
			     sizeof(wrong[0]); w++) {
				const char *v = w < sizeof(wrong) /
						sizeof(wrong[0]) ? wrong[w] :
						huge;

				bad = json_deep_copy(j);
				json_object_set_new(bad, fields[fi],
						    json_string(v));
				assert_int_equal(pz_tlog_head_parse(bad, id,
						 &back, err, sizeof(err)),
						 PZ_EINVAL);
				assert_non_null(strstr(err, fields[fi]));
				json_decref(bad);
			}
		}
		free(huge);
	}
	/* A signature of 63 bytes (84 base64 characters) and of 65. */
	for (int extra = -1; extra <= 1; extra += 2) {
		uint8_t sig[65] = { 0 };
		char b64[100];

		pz_b64_encode(sig, (size_t)(64 + extra), b64, 0);
		bad = json_deep_copy(j);
		json_object_set_new(bad, "signature", json_string(b64));
		assert_int_equal(pz_tlog_head_parse(bad, id, &back, err,
						    sizeof(err)), PZ_EINVAL);
		assert_non_null(strstr(err, "'signature' must be base64 of "
				       "64 bytes"));
		json_decref(bad);
	}
	/* Not an object. */
	bad = json_array();
	assert_int_equal(pz_tlog_head_parse(bad, id, &back, err, sizeof(err)),
			 PZ_EINVAL);
	json_decref(bad);
	/* Unknown members are ignored. */
	bad = json_deep_copy(j);
	json_object_set_new(bad, "extra", json_true());
	assert_int_equal(pz_tlog_head_parse(bad, id, &back, err, sizeof(err)),
			 PZ_OK);
	json_decref(bad);
	json_decref(j);
}

/* --- proofs ----------------------------------------------------------------- */

#define NPROOF 20

static void test_proofs(void **state)
{
	struct fx *f = *state;
	uint8_t leaves[NPROOF][32], roots[NPROOF + 1][32], got[32];
	uint8_t path[PZ_TLOG_MAX_PROOF * 32], leaf[32];
	size_t len;

	/* In several batches, so the tree is built across commits. */
	append_n(f, 1);
	append_n(f, 6);
	append_n(f, NPROOF - 7);
	for (uint64_t i = 0; i < NPROOF; i++)
		leaf_of(f, i, leaves[i]);
	for (uint64_t n = 0; n <= NPROOF; n++) {
		mth(leaves, n, roots[n]);
		assert_int_equal(pz_tlog_root(f->t, n, got), PZ_OK);
		assert_memory_equal(got, roots[n], 32);
	}
	for (uint64_t n = 1; n <= NPROOF; n++) {
		for (uint64_t i = 0; i < n; i++) {
			len = 999;
			assert_int_equal(pz_tlog_prove(f->t, i, n, path, &len,
						       leaf), PZ_OK);
			assert_memory_equal(leaf, leaves[i], 32);
			assert_true(pz_merkle_verify_inclusion(i, n, leaf,
							       path, len,
							       roots[n]));
			/* The leaf hash is optional. */
			assert_int_equal(pz_tlog_prove(f->t, i, n, path, &len,
						       NULL), PZ_OK);
			/* Not a proof of another leaf. */
			assert_false(pz_merkle_verify_inclusion(
				i, n, leaves[(i + 1) % NPROOF], path, len,
				roots[n]));
		}
		for (uint64_t m = 1; m <= n; m++) {
			len = 999;
			assert_int_equal(pz_tlog_consistency(f->t, m, n, path,
							     &len), PZ_OK);
			assert_true(pz_merkle_verify_consistency(
				m, n, roots[m], roots[n], path, len));
			if (m < n)
				assert_false(pz_merkle_verify_consistency(
					m, n, roots[m - 1], roots[n], path,
					len));
		}
	}
	/* Out of range. */
	assert_int_equal(pz_tlog_prove(f->t, 0, 0, path, &len, leaf),
			 PZ_EINVAL);
	assert_int_equal(pz_tlog_prove(f->t, 5, 5, path, &len, leaf),
			 PZ_EINVAL);
	assert_int_equal(pz_tlog_prove(f->t, 0, NPROOF + 1, path, &len, leaf),
			 PZ_EINVAL);
	assert_int_equal(pz_tlog_prove(f->t, UINT64_MAX, UINT64_MAX, path,
				       &len, leaf), PZ_EINVAL);
	assert_int_equal(pz_tlog_consistency(f->t, 0, 5, path, &len),
			 PZ_EINVAL);
	assert_int_equal(pz_tlog_consistency(f->t, 6, 5, path, &len),
			 PZ_EINVAL);
	assert_int_equal(pz_tlog_consistency(f->t, 5, NPROOF + 1, path, &len),
			 PZ_EINVAL);
	assert_int_equal(pz_tlog_root(f->t, NPROOF + 1, got), PZ_EINVAL);
	/* Appended but not committed: no proofs, no root. */
	assert_int_equal(pz_store_begin(f->st), PZ_OK);
	{
		json_t *e = entry_n(NPROOF);

		assert_int_equal(pz_tlog_append(f->t, e, T0, NULL), PZ_OK);
		json_decref(e);
	}
	assert_int_equal(pz_tlog_prove(f->t, NPROOF, NPROOF + 1, path, &len,
				       leaf), PZ_EINVAL);
	assert_int_equal(pz_tlog_consistency(f->t, 1, NPROOF + 1, path, &len),
			 PZ_EINVAL);
	assert_int_equal(pz_tlog_root(f->t, NPROOF + 1, got), PZ_EINVAL);
	assert_int_equal(pz_tlog_entry(f->t, NPROOF, NULL, NULL, NULL),
			 PZ_ENOTFOUND);
	assert_int_equal(pz_store_commit(f->st), PZ_OK);
	pz_tlog_committed(f->t);
	assert_int_equal(pz_tlog_prove(f->t, NPROOF, NPROOF + 1, path, &len,
				       leaf), PZ_OK);
}

/* A bigger log, built over many batches and a reopen: roots and a sample
 * of proofs still agree with the recomputation (the node cache is used
 * and must not serve stale hashes). */
static void test_many(void **state)
{
	struct fx *f = *state;
	enum { N = 3000 };
	uint8_t (*leaves)[32] = calloc(N, 32), root[32], want[32];
	uint8_t path[PZ_TLOG_MAX_PROOF * 32], leaf[32];
	size_t len;
	char err[256];

	for (int b = 0; b < 10; b++) {
		append_n(f, N / 20);
		/* An aborted batch in between. */
		assert_int_equal(pz_store_begin(f->st), PZ_OK);
		for (int i = 0; i < 37; i++) {
			json_t *e = entry_n(99999);

			assert_int_equal(pz_tlog_append(f->t, e, T0, NULL),
					 PZ_OK);
			json_decref(e);
		}
		assert_int_equal(pz_store_rollback(f->st), PZ_OK);
		assert_int_equal(pz_tlog_aborted(f->t), PZ_OK);
		assert_int_equal(pz_tlog_root(f->t, pz_tlog_size(f->t), root),
				 PZ_OK);
	}
	fx_close(f);
	fx_open(f);
	append_n(f, N / 2);
	for (uint64_t i = 0; i < N; i++)
		leaf_of(f, i, leaves[i]);
	for (uint64_t n = 1; n <= N; n += 97) {
		mth(leaves, n, want);
		assert_int_equal(pz_tlog_root(f->t, n, root), PZ_OK);
		assert_memory_equal(root, want, 32);
		for (uint64_t i = 0; i < n; i += 1 + n / 7) {
			assert_int_equal(pz_tlog_prove(f->t, i, n, path, &len,
						       leaf), PZ_OK);
			assert_true(pz_merkle_verify_inclusion(i, n, leaf,
							       path, len,
							       want));
		}
	}
	assert_int_equal(pz_tlog_verify(f->t, NULL, NULL, err, sizeof(err)),
			 PZ_OK);
	free(leaves);
}

/* Past 65,536 entries the node cache stops keeping the lowest level
 * (pz_tlog keeps at most 2^17 hashes): proofs before and after that
 * point, and of sizes on both sides, still agree with the entries. */
static void test_cache_levels(void **state)
{
	struct fx *f = *state;
	enum { N1 = 60000, N2 = 140000 };
	uint8_t (*leaves)[32] = calloc(N2, 32), want[32], root[32];
	uint8_t path[PZ_TLOG_MAX_PROOF * 32], leaf[32];
	static const uint64_t sizes[] = { 1, 2, 3, 1000, 32768, 59999, N1,
					  65536, 65537, 131071, N2 };
	size_t len;

	for (int b = 0; b < N1 / 10000; b++)
		append_n(f, 10000);
	for (uint64_t i = 0; i < N1; i += 7) {
		assert_int_equal(pz_tlog_prove(f->t, i, N1, path, &len, leaf),
				 PZ_OK);
	}
	for (int b = 0; b < (N2 - N1) / 10000; b++)
		append_n(f, 10000);
	for (uint64_t i = 0; i < N2; i++)
		leaf_of(f, i, leaves[i]);
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		uint64_t n = sizes[k];

		mth(leaves, n, want);
		assert_int_equal(pz_tlog_root(f->t, n, root), PZ_OK);
		assert_memory_equal(root, want, 32);
		for (uint64_t i = 0; i < n; i += 1 + n / 300) {
			assert_int_equal(pz_tlog_prove(f->t, i, n, path, &len,
						       leaf), PZ_OK);
			assert_memory_equal(leaf, leaves[i], 32);
			assert_true(pz_merkle_verify_inclusion(i, n, leaf,
							       path, len,
							       want));
		}
	}
	free(leaves);
}

/* pz_tlog_warm fills the cache in slices; proofs after it are the same
 * proofs, and it also works across the cache's lowest level rising. */
static void test_warm(void **state)
{
	struct fx *f = *state;
	enum { N = 140000 };
	uint8_t (*leaves)[32] = calloc(N, 32), want[32];
	uint8_t path[PZ_TLOG_MAX_PROOF * 32], leaf[32];
	unsigned calls = 0;
	bool done = false;
	size_t len;

	for (int b = 0; b < N / 10000; b++)
		append_n(f, 10000);
	fx_close(f);
	fx_open(f);
	for (uint64_t i = 0; i < N; i++)
		leaf_of(f, i, leaves[i]);
	mth(leaves, N, want);
	while (!done) {
		assert_int_equal(pz_tlog_warm(f->t, 1000, &done), PZ_OK);
		calls++;
	}
	/* 140,000 entries keep levels 2 and up: 35,000 row groups. */
	assert_int_equal(calls, 35);
	assert_int_equal(pz_tlog_warm(f->t, 1000, &done), PZ_OK);
	assert_true(done);
	for (uint64_t i = 0; i < N; i += 1 + N / 2000) {
		assert_int_equal(pz_tlog_prove(f->t, i, N, path, &len, leaf),
				 PZ_OK);
		assert_memory_equal(leaf, leaves[i], 32);
		assert_true(pz_merkle_verify_inclusion(i, N, leaf, path, len,
						       want));
	}
	/* An empty log is warm at once. */
	fx_close(f);
	fx_remove_files(f);
	fx_open(f);
	done = false;
	assert_int_equal(pz_tlog_warm(f->t, 1, &done), PZ_OK);
	assert_true(done);
	free(leaves);
}

/* --- reopen and verify ------------------------------------------------------ */

static void test_reopen(void **state)
{
	struct fx *f = *state;
	struct pz_store_head h, h2;
	uint8_t root[32], root2[32], *raw = NULL, *raw2 = NULL;
	size_t len = 0, len2 = 0;
	uint64_t seq = 0;
	char err[256];

	append_n(f, 11);
	assert_int_equal(pz_tlog_head(f->t, true, &h), PZ_OK);
	append_n(f, 2);
	assert_int_equal(pz_tlog_root(f->t, 13, root), PZ_OK);
	assert_int_equal(pz_tlog_entry(f->t, 12, &raw, &len, NULL), PZ_OK);
	assert_int_equal(pz_tlog_verify(f->t, NULL, NULL, err, sizeof(err)),
			 PZ_OK);
	fx_close(f);
	fx_open(f);
	assert_int_equal(pz_tlog_size(f->t), 13);
	assert_int_equal(pz_tlog_committed_size(f->t), 13);
	assert_int_equal(pz_tlog_head(f->t, false, &h2), PZ_OK);
	assert_memory_equal(&h, &h2, sizeof(h));
	assert_int_equal(pz_tlog_root(f->t, 13, root2), PZ_OK);
	assert_memory_equal(root, root2, 32);
	assert_int_equal(pz_tlog_entry(f->t, 12, &raw2, &len2, NULL), PZ_OK);
	assert_int_equal(len, len2);
	assert_memory_equal(raw, raw2, len);
	pz_free(raw);
	pz_free(raw2);
	assert_int_equal(pz_tlog_verify(f->t, NULL, NULL, err, sizeof(err)),
			 PZ_OK);
	/* Appending carries on from where it was. */
	assert_int_equal(pz_store_begin(f->st), PZ_OK);
	{
		json_t *e = entry_n(13);

		assert_int_equal(pz_tlog_append(f->t, e, T0, &seq), PZ_OK);
		json_decref(e);
	}
	assert_int_equal(seq, 13);
	assert_int_equal(pz_store_commit(f->st), PZ_OK);
	pz_tlog_committed(f->t);
	root_of(f, 14, root);
	assert_int_equal(pz_tlog_root(f->t, 14, root2), PZ_OK);
	assert_memory_equal(root, root2, 32);
	/* An empty log verifies too. */
	fx_close(f);
	fx_remove_files(f);
	fx_open(f);
	assert_int_equal(pz_tlog_verify(f->t, NULL, NULL, err, sizeof(err)),
			 PZ_OK);
}

/* --- tampering -------------------------------------------------------------- */

/* The log the tamper tests start from: 10 entries, heads at 4 and 10. */
static void tamper_setup(struct fx *f)
{
	struct pz_store_head h;
	char err[256];

	append_n(f, 4);
	assert_int_equal(pz_tlog_head(f->t, true, &h), PZ_OK);
	append_n(f, 6);
	assert_int_equal(pz_tlog_head(f->t, true, &h), PZ_OK);
	assert_int_equal(pz_tlog_verify(f->t, NULL, NULL, err, sizeof(err)),
			 PZ_OK);
	fx_close(f);
}

/* Run sql (with one blob parameter, may be NULL) on the closed database. */
static void tamper_sql(struct fx *f, const char *sql, const void *blob,
		       int blen)
{
	sqlite3 *db;
	sqlite3_stmt *q;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (blob)
		sqlite3_bind_blob(q, 1, blob, blen, SQLITE_TRANSIENT);
	assert_int_equal(sqlite3_step(q), SQLITE_DONE);
	sqlite3_finalize(q);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/* A blob column of one row of the closed database. */
static size_t tamper_read(struct fx *f, const char *sql, uint8_t *out,
			  size_t room)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	size_t n;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	n = (size_t)sqlite3_column_bytes(q, 0);
	assert_true(n <= room);
	memcpy(out, sqlite3_column_blob(q, 0), n);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return n;
}

/*
 * Reopen and expect PZ_ECORRUPT, from pz_tlog_open (at_open) or else from
 * pz_tlog_verify, with an err containing what.
 */
static void expect_corrupt(struct fx *f, bool at_open, const char *what)
{
	char err[256];
	int rc;

	assert_int_equal(pz_store_open(f->url, NULL, &f->st), PZ_OK);
	rc = pz_tlog_open(f->st, f->key, &f->t, err, sizeof(err));
	if (at_open) {
		if (rc != PZ_ECORRUPT)
			fail_msg("open: %s, want PZ_ECORRUPT (%s)",
				 pz_strerror(rc), what);
		f->t = NULL;
	} else {
		if (rc != PZ_OK)
			fail_msg("open: %s: %s", pz_strerror(rc), err);
		rc = pz_tlog_verify(f->t, NULL, NULL, err, sizeof(err));
		if (rc != PZ_ECORRUPT)
			fail_msg("verify: %s, want PZ_ECORRUPT (%s)",
				 pz_strerror(rc), what);
	}
	if (!strstr(err, what))
		fail_msg("'%s' does not say '%s'", err, what);
}

static void test_tamper_entry_byte(void **state)
{
	struct fx *f = *state;
	uint8_t e[512];
	size_t n;
	char *p;

	tamper_setup(f);
	n = tamper_read(f, "SELECT entry FROM tlog WHERE seq=5", e, sizeof(e));
	/* One letter of the device id: still a valid, canonical entry. */
	p = memmem(e, n, "befffe80", 8);
	assert_non_null(p);
	p[0] = 'c';
	tamper_sql(f, "UPDATE tlog SET entry=?1 WHERE seq=5", e, (int)n);
	expect_corrupt(f, false, "entry 5 does not hash to its stored leaf");
}

static void test_tamper_entry_undecodable(void **state)
{
	struct fx *f = *state;
	uint8_t e[512];
	size_t n;

	tamper_setup(f);
	n = tamper_read(f, "SELECT entry FROM tlog WHERE seq=2", e, sizeof(e));
	e[0] = 0xff;  /* a break code where a map must start */
	tamper_sql(f, "UPDATE tlog SET entry=?1 WHERE seq=2", e, (int)n);
	expect_corrupt(f, false, "entry 2 does not decode");
}

static void test_tamper_truncate(void **state)
{
	struct fx *f = *state;

	tamper_setup(f);
	tamper_sql(f, "DELETE FROM tlog WHERE seq>=7", NULL, 0);
	expect_corrupt(f, true, "entries were removed");
}

static void test_tamper_truncate_all(void **state)
{
	struct fx *f = *state;

	tamper_setup(f);
	tamper_sql(f, "DELETE FROM tlog", NULL, 0);
	expect_corrupt(f, true, "the log holds 0 entries but a signed head "
		       "covers 10");
}

static void test_tamper_gap(void **state)
{
	struct fx *f = *state;

	tamper_setup(f);
	tamper_sql(f, "DELETE FROM tlog WHERE seq=4", NULL, 0);
	expect_corrupt(f, false, "entry 4 is missing");
}

static void test_tamper_reorder(void **state)
{
	struct fx *f = *state;
	uint8_t a[512], b[512];
	size_t na, nb;

	tamper_setup(f);
	na = tamper_read(f, "SELECT entry FROM tlog WHERE seq=2", a, sizeof(a));
	nb = tamper_read(f, "SELECT entry FROM tlog WHERE seq=3", b, sizeof(b));
	tamper_sql(f, "UPDATE tlog SET entry=?1 WHERE seq=2", b, (int)nb);
	tamper_sql(f, "UPDATE tlog SET entry=?1 WHERE seq=3", a, (int)na);
	expect_corrupt(f, false, "entry 2 carries another sequence number");
}

static void test_tamper_reorder_rows(void **state)
{
	struct fx *f = *state;

	/* Whole rows swapped, nodes and all. */
	tamper_setup(f);
	tamper_sql(f, "UPDATE tlog SET seq=-1 WHERE seq=6", NULL, 0);
	tamper_sql(f, "UPDATE tlog SET seq=6 WHERE seq=5", NULL, 0);
	tamper_sql(f, "UPDATE tlog SET seq=5 WHERE seq=-1", NULL, 0);
	expect_corrupt(f, false, "entry 5 carries another sequence number");
}

static void test_tamper_node(void **state)
{
	struct fx *f = *state;
	uint8_t nodes[2048];
	size_t n;

	/* Node (2, 0), kept with entry 3, is below the newest head's root
	 * nodes: only the full verification sees it. */
	tamper_setup(f);
	n = tamper_read(f, "SELECT nodes FROM tlog WHERE seq=3", nodes,
			sizeof(nodes));
	assert_int_equal(n, 3 * 32);
	nodes[2 * 32 + 7] ^= 0x10;
	tamper_sql(f, "UPDATE tlog SET nodes=?1 WHERE seq=3", nodes, (int)n);
	expect_corrupt(f, false, "the tree nodes stored with entry 3 differ");
}

static void test_tamper_root_node(void **state)
{
	struct fx *f = *state;
	uint8_t nodes[2048];
	size_t n;

	/* Node (3, 0), kept with entry 7, is part of the root of 10. */
	tamper_setup(f);
	n = tamper_read(f, "SELECT nodes FROM tlog WHERE seq=7", nodes,
			sizeof(nodes));
	assert_int_equal(n, 4 * 32);
	nodes[3 * 32] ^= 1;
	tamper_sql(f, "UPDATE tlog SET nodes=?1 WHERE seq=7", nodes, (int)n);
	expect_corrupt(f, true, "the stored tree of 10 entries does not "
		       "match the signed head");
}

static void test_tamper_leaf_node(void **state)
{
	struct fx *f = *state;
	uint8_t nodes[2048];
	size_t n;

	tamper_setup(f);
	n = tamper_read(f, "SELECT nodes FROM tlog WHERE seq=8", nodes,
			sizeof(nodes));
	nodes[0] ^= 0x80;
	tamper_sql(f, "UPDATE tlog SET nodes=?1 WHERE seq=8", nodes, (int)n);
	expect_corrupt(f, false, "entry 8 does not hash to its stored leaf");
}

static void test_tamper_nodes_size(void **state)
{
	struct fx *f = *state;
	uint8_t nodes[4096];
	size_t n;

	/* Nodes cut short (entry 9 keeps two: the leaf and node (1, 4)). */
	tamper_setup(f);
	n = tamper_read(f, "SELECT nodes FROM tlog WHERE seq=9", nodes,
			sizeof(nodes));
	assert_int_equal(n, 64);
	tamper_sql(f, "UPDATE tlog SET nodes=?1 WHERE seq=9", nodes, 32);
	expect_corrupt(f, true, "tree nodes of the 10 stored entries are "
		       "missing");
	/* Too many: an extra hash stored with entry 8. */
	fx_close(f);
	fx_remove_files(f);
	fx_open(f);
	tamper_setup(f);
	n = tamper_read(f, "SELECT nodes FROM tlog WHERE seq=8", nodes,
			sizeof(nodes));
	tamper_sql(f, "UPDATE tlog SET nodes=?1 WHERE seq=8", nodes,
		   (int)n + 32);
	expect_corrupt(f, false, "entry 8 stores 64 bytes of tree nodes");
	/* Far too many: more than any entry can hold. */
	fx_close(f);
	memset(nodes, 0, sizeof(nodes));
	tamper_sql(f, "UPDATE tlog SET nodes=?1 WHERE seq=9", nodes,
		   (int)sizeof(nodes));
	expect_corrupt(f, true, "tree nodes of the 10 stored entries are "
		       "missing");
}

static void test_tamper_head_root(void **state)
{
	struct fx *f = *state;
	uint8_t root[32];

	tamper_setup(f);
	/* The newest head: its signature no longer covers it. */
	tamper_read(f, "SELECT root FROM tlog_head WHERE size=10", root, 32);
	root[31] ^= 1;
	tamper_sql(f, "UPDATE tlog_head SET root=?1 WHERE size=10", root, 32);
	expect_corrupt(f, true, "the newest head (size 10) is not signed");
}

static void test_tamper_old_head_root(void **state)
{
	struct fx *f = *state;
	uint8_t root[32];

	tamper_setup(f);
	tamper_read(f, "SELECT root FROM tlog_head WHERE size=4", root, 32);
	root[0] ^= 1;
	tamper_sql(f, "UPDATE tlog_head SET root=?1 WHERE size=4", root, 32);
	expect_corrupt(f, false, "the signed head of size 4 does not match "
		       "the entries");
}

/* Someone with the key signs a head over another tree: the signature
 * holds, the root does not. */
static void test_tamper_head_resigned(void **state)
{
	struct fx *f = *state;
	struct pz_store_head h;
	uint8_t tbs[PZ_TLOG_TBS_LEN], id[32], pub[32];
	size_t siglen = 64, plen = 32;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY *key;
	FILE *fp;

	tamper_setup(f);
	fp = fopen(f->key, "r");
	assert_non_null(fp);
	key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(key);
	assert_int_equal(EVP_PKEY_get_raw_public_key(key, pub, &plen), 1);
	assert_true(EVP_Digest(pub, 32, id, NULL, EVP_sha256(), NULL));
	for (int which = 0; which < 2; which++) {
		memset(&h, 0, sizeof(h));
		h.size = which ? 10 : 4;
		h.ts = T0;
		memset(h.root, 0x5a, 32);
		pz_tlog_head_tbs(id, &h, tbs);
		assert_int_equal(EVP_DigestSignInit(ctx, NULL, NULL, NULL, key),
				 1);
		assert_int_equal(EVP_DigestSign(ctx, h.sig, &siglen, tbs,
						sizeof(tbs)), 1);
		assert_true(pz_tlog_head_verify(pub, &h));
		tamper_sql(f, which ? "UPDATE tlog_head SET root=?1 WHERE "
			   "size=10" : "UPDATE tlog_head SET root=?1 WHERE "
			   "size=4", h.root, 32);
		{
			char sql[128];

			snprintf(sql, sizeof(sql), "UPDATE tlog_head SET "
				 "ts=%lld, sig=?1 WHERE size=%llu", T0,
				 (unsigned long long)h.size);
			tamper_sql(f, sql, h.sig, 64);
		}
		if (which)
			expect_corrupt(f, true, "the stored tree of 10 entries "
				       "does not match the signed head");
		else
			expect_corrupt(f, false, "the signed head of size 4 "
				       "does not match the entries");
		fx_close(f);
	}
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
}

static void test_tamper_head_sig(void **state)
{
	struct fx *f = *state;
	uint8_t sig[64];

	tamper_setup(f);
	tamper_read(f, "SELECT sig FROM tlog_head WHERE size=4", sig, 64);
	sig[10] ^= 4;
	tamper_sql(f, "UPDATE tlog_head SET sig=?1 WHERE size=4", sig, 64);
	expect_corrupt(f, false, "the head of size 4 is not signed by this "
		       "log key");
	/* The newest one: at open. */
	fx_close(f);
	tamper_read(f, "SELECT sig FROM tlog_head WHERE size=10", sig, 64);
	sig[63] ^= 0x40;
	tamper_sql(f, "UPDATE tlog_head SET sig=?1 WHERE size=10", sig, 64);
	expect_corrupt(f, true, "the newest head (size 10) is not signed by "
		       "this log key");
}

static void test_tamper_head_deleted(void **state)
{
	struct fx *f = *state;

	/* An older head: the count of heads signed gives it away. */
	tamper_setup(f);
	tamper_sql(f, "DELETE FROM tlog_head WHERE size=4", NULL, 0);
	expect_corrupt(f, false, "1 signed heads are stored but the log "
		       "signed 2: heads were removed");
	fx_close(f);
	/* The newest: at open. */
	tamper_sql(f, "DELETE FROM tlog_head WHERE size=10", NULL, 0);
	expect_corrupt(f, true, "the newest signed head (size 10) is missing");
	fx_close(f);
	/* All of them, and the record too. */
	tamper_sql(f, "DELETE FROM tlog_head", NULL, 0);
	tamper_sql(f, "DELETE FROM meta WHERE k='tlog.heads'", NULL, 0);
	fx_open(f);  /* a log never signed: nothing to hold it to */
	fx_close(f);
	fx_remove_files(f);
	fx_open(f);
	tamper_setup(f);
	tamper_sql(f, "DELETE FROM meta WHERE k='tlog.heads'", NULL, 0);
	expect_corrupt(f, true, "the record of signed heads (tlog.heads) is "
		       "missing");
	fx_close(f);
	tamper_sql(f, "INSERT INTO meta(k,v) VALUES('tlog.heads','2 x')",
		   NULL, 0);
	expect_corrupt(f, true, "the record of signed heads (tlog.heads) is "
		       "malformed");
}

/* The key replaced: every head is now "not signed by this log key". */
static void test_tamper_key(void **state)
{
	struct fx *f = *state;
	static const char *const sfx[] = { "", "-wal", "-shm" };
	uint8_t old[32];
	char pubpath[128], buf[512];
	FILE *fp;
	size_t n;

	memcpy(old, pz_tlog_public_key(f->t), 32);
	tamper_setup(f);
	assert_int_equal(unlink(f->key), 0);  /* a new one is made */
	expect_corrupt(f, true, "the newest head (size 10) is not signed by "
		       "this log key");
	/* The .pub left by the lost key was replaced by the new key's
	 * (which a fresh database then uses). */
	fx_close(f);
	for (int i = 0; i < 3; i++) {
		snprintf(buf, sizeof(buf), "%s%s", f->path, sfx[i]);
		unlink(buf);
	}
	fx_open(f);
	assert_memory_not_equal(pz_tlog_public_key(f->t), old, 32);
	snprintf(pubpath, sizeof(pubpath), "%s.pub", f->key);
	fp = fopen(pubpath, "r");
	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = 0;
	assert_string_equal(buf, pz_tlog_public_pem(f->t));
}

/* --- allocation failure ------------------------------------------------------ */

static void test_alloc_failure(void **state)
{
	struct fx *f = *state;
	struct pz_store_head h;
	unsigned long n;
	char err[256];
	int rc = PZ_ENOMEM;

	append_n(f, 5);
	/* Opening. */
	pz_tlog_free(f->t);
	f->t = NULL;
	for (n = 1; n < 1000; n++) {
		pz_mem_fail_after(n);
		rc = pz_tlog_open(f->st, f->key, &f->t, err, sizeof(err));
		pz_mem_fail_after(0);
		if (rc == PZ_OK)
			break;
		assert_int_equal(rc, PZ_ENOMEM);
		assert_null(f->t);
	}
	assert_int_equal(rc, PZ_OK);
	/* Appending: nothing appended on failure, then it goes through. */
	assert_int_equal(pz_store_begin(f->st), PZ_OK);
	for (n = 1; n < 1000; n++) {
		json_t *e = entry_n(5);
		uint64_t seq = 0;

		pz_mem_fail_after(n);
		rc = pz_tlog_append(f->t, e, T0, &seq);
		pz_mem_fail_after(0);
		json_decref(e);
		if (rc == PZ_OK) {
			assert_int_equal(seq, 5);
			break;
		}
		assert_int_equal(rc, PZ_ENOMEM);
		expect_nothing_appended(f, 5);
	}
	assert_int_equal(rc, PZ_OK);
	assert_int_equal(pz_store_commit(f->st), PZ_OK);
	pz_tlog_committed(f->t);
	/* Signing a head, reading an entry, verifying, head JSON. */
	for (n = 1; n < 1000; n++) {
		json_t *doc = NULL, *j = NULL;
		uint8_t *raw = NULL;
		size_t len;

		pz_mem_fail_after(n);
		rc = pz_tlog_head(f->t, true, &h);
		if (rc == PZ_OK)
			rc = pz_tlog_entry(f->t, 3, &raw, &len, &doc);
		if (rc == PZ_OK)
			rc = pz_tlog_verify(f->t, NULL, NULL, err,
					    sizeof(err));
		if (rc == PZ_OK) {
			j = pz_tlog_head_json(pz_tlog_log_id(f->t), &h);
			rc = j ? PZ_OK : PZ_ENOMEM;
		}
		pz_mem_fail_after(0);
		pz_free(raw);
		json_decref(doc);
		json_decref(j);
		if (rc == PZ_OK)
			break;
		/* An entry that cannot be parsed for lack of memory is
		 * reported as what it is, not as corruption. */
		if (rc != PZ_ENOMEM)
			fail_msg("n=%lu: %s (%s)", n, pz_strerror(rc), err);
	}
	assert_int_equal(rc, PZ_OK);
	assert_int_equal(pz_tlog_verify(f->t, NULL, NULL, err, sizeof(err)),
			 PZ_OK);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_key),
		T(test_key_errors),
		T(test_append),
		T(test_append_refused),
		T(test_rollback),
		T(test_head_rolled_back),
		T(test_head),
		T(test_head_json),
		T(test_proofs),
		T(test_many),
		T(test_cache_levels),
		T(test_warm),
		T(test_reopen),
		T(test_tamper_entry_byte),
		T(test_tamper_entry_undecodable),
		T(test_tamper_truncate),
		T(test_tamper_truncate_all),
		T(test_tamper_gap),
		T(test_tamper_reorder),
		T(test_tamper_reorder_rows),
		T(test_tamper_node),
		T(test_tamper_root_node),
		T(test_tamper_leaf_node),
		T(test_tamper_nodes_size),
		T(test_tamper_head_root),
		T(test_tamper_old_head_root),
		T(test_tamper_head_resigned),
		T(test_tamper_head_sig),
		T(test_tamper_head_deleted),
		T(test_tamper_key),
		T(test_alloc_failure),
	};

	/* PZ_TEST=pattern runs only the matching tests (docs/testing.md). */
	if (getenv("PZ_TEST"))
		cmocka_set_test_filter(getenv("PZ_TEST"));
	json_set_alloc_funcs(pz_malloc, pz_free);
	/* Corruption is logged as errors; keep the output readable. */
	pz_log_set_level("error");
	pz_log_open("/dev/null");
	return cmocka_run_group_tests_name("tlog", tests, NULL, NULL);
}
