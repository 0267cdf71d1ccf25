/*
 * tlog.c - the trust log (pz_tlog.h): entries, the Merkle tree over them,
 * signed heads, proofs and the full verification.
 *
 * The store keeps, with entry seq, the nodes its append completed (level
 * 0 = its leaf hash, then each parent it closed); node (level, index) is
 * therefore found with entry ((index + 1) << level) - 1.  The frontier in
 * memory covers every appended entry, committed or not; a rollback
 * rebuilds it from the store, which is rare and costs one lookup per set
 * bit of the size.
 *
 * A proof at ten million entries reads about 25 nodes, most of them from
 * rows far apart; the upper levels are shared by every proof.  So nodes
 * of committed entries at the upper levels are kept in memory once read
 * (struct tlog_cache): at most TLOG_CACHE_SLOTS hashes, the lowest level
 * kept rising as the log grows, which leaves a proof about eight store
 * lookups, all near its leaf.
 *
 * Heads are checked against the entries and the key, but a deleted head
 * leaves nothing behind to check; so the number of heads signed and the
 * newest one's size are kept in the store's metadata (TLOG_META_HEADS),
 * written in the transaction that stores each head.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "plaza/pz_buf.h"
#include "plaza/pz_codec.h"
#include "plaza/pz_err.h"
#include "plaza/pz_log.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_merkle.h"
#include "plaza/pz_time.h"
#include "plaza/pz_tlog.h"

#define TLOG_NODES (PZ_MERKLE_MAX_LEVELS * PZ_TLOG_HASH)
#define TLOG_CACHE_SLOTS (1u << 17)   /* hashes of the node cache: 4 MiB */
#define TLOG_META_HEADS "tlog.heads"  /* "<heads signed> <newest size>" */

/* Upper tree nodes by level: level l holds cap[l] slots, node (l, i) in
 * slot i when bit i of have[l] is set.  Levels below low are not kept. */
struct tlog_cache {
	unsigned low;                              /* lowest level kept */
	uint8_t *hash[PZ_MERKLE_MAX_LEVELS];       /* owned, cap * 32 bytes */
	uint64_t *have[PZ_MERKLE_MAX_LEVELS];      /* owned, cap / 64 words */
	uint64_t cap[PZ_MERKLE_MAX_LEVELS];        /* slots, a multiple of 64 */
};

struct pz_tlog {
	pz_store *st;                    /* borrowed */
	EVP_PKEY *key;                   /* owned: the signing key */
	uint8_t pub[32];                 /* raw public key */
	uint8_t id[PZ_TLOG_HASH];        /* SHA-256(pub) */
	char *pem;                       /* owned: public key, PEM */
	struct pz_merkle_frontier fr;    /* every appended entry */
	uint64_t committed;              /* entries durable */
	struct pz_store_head head;       /* newest signed head */
	bool have_head;
	uint64_t nheads;                 /* heads signed (TLOG_META_HEADS) */
	bool head_in_batch;              /* a head was stored in the open
					  * batch: reload it on a rollback */
	struct tlog_cache cache;         /* upper nodes of committed entries */
	uint64_t warm;                   /* pz_tlog_warm's next row group */
	struct pz_buf enc;               /* scratch: an entry's encoding */
	uint8_t nodes[TLOG_NODES];       /* scratch: nodes of one append */
	size_t nlen;
};

/* --- the node cache ------------------------------------------------------- */

/* The lowest level kept for a log of n committed entries: levels l and up
 * hold fewer than 2 * (n >> l) nodes, which must fit TLOG_CACHE_SLOTS. */
static unsigned cache_low(uint64_t n)
{
	unsigned l = 0;

	while ((n >> l) > TLOG_CACHE_SLOTS / 2)
		l++;
	return l;
}

static void cache_drop_level(struct tlog_cache *c, unsigned l)
{
	pz_free(c->hash[l]);
	pz_free(c->have[l]);
	c->hash[l] = NULL;
	c->have[l] = NULL;
	c->cap[l] = 0;
}

static bool cache_find(const struct tlog_cache *c, unsigned level,
		       uint64_t index, uint8_t out[PZ_TLOG_HASH])
{
	if (level < c->low || index >= c->cap[level] ||
	    !(c->have[level][index / 64] >> (index % 64) & 1))
		return false;
	memcpy(out, c->hash[level] + index * PZ_TLOG_HASH, PZ_TLOG_HASH);
	return true;
}

/* Keep node (level, index) of a log of n committed entries, if its level
 * is kept; a failed allocation only means it is not kept. */
static void cache_put(struct tlog_cache *c, uint64_t n, unsigned level,
		      uint64_t index, const uint8_t hash[PZ_TLOG_HASH])
{
	unsigned low = cache_low(n);
	uint64_t cap, room = ((n >> level) + 63) & ~(uint64_t)63;
	uint8_t *h;
	uint64_t *have;

	while (c->low < low)
		cache_drop_level(c, c->low++);
	if (level < c->low)
		return;
	if (index >= c->cap[level]) {
		cap = c->cap[level] ? 2 * c->cap[level] : 64;
		if (cap < index + 1)
			cap = (index + 64) & ~(uint64_t)63;
		if (cap > room)
			cap = room;
		if (index >= cap)
			return;
		h = pz_realloc(c->hash[level], cap * PZ_TLOG_HASH);
		if (!h)
			return;
		c->hash[level] = h;
		have = pz_realloc(c->have[level], cap / 64 * sizeof(*have));
		if (!have)
			return;
		memset(have + c->cap[level] / 64, 0,
		       (cap - c->cap[level]) / 64 * sizeof(*have));
		c->have[level] = have;
		c->cap[level] = cap;
	}
	memcpy(c->hash[level] + index * PZ_TLOG_HASH, hash, PZ_TLOG_HASH);
	c->have[level][index / 64] |= (uint64_t)1 << (index % 64);
}

/*
 * pz_tlog_warm - read the upper nodes into the cache, budget rows at a
 * time.  The rows ((j + 1) << low) - 1 hold every node of level low and
 * above (a row keeps each node its append completed), so (n >> low)
 * lookups, at most TLOG_CACHE_SLOTS / 2, fill the cache for n entries.
 */
int pz_tlog_warm(pz_tlog *t, unsigned budget, bool *done)
{
	uint8_t buf[TLOG_NODES];
	unsigned low = cache_low(t->committed), level;
	uint64_t seq, groups = t->committed >> low;
	size_t len;
	int rc;

	for (; budget && t->warm < groups; budget--, t->warm++) {
		seq = ((t->warm + 1) << low) - 1;
		len = sizeof(buf);
		rc = pz_store_tlog_get(t->st, seq, NULL, NULL, buf, &len);
		if (rc != PZ_OK)
			return rc == PZ_ENOTFOUND ? PZ_ECORRUPT : rc;
		for (level = low; (size_t)(level + 1) * PZ_TLOG_HASH <= len;
		     level++)
			cache_put(&t->cache, t->committed, level,
				  ((seq + 1) >> level) - 1,
				  buf + (size_t)level * PZ_TLOG_HASH);
	}
	*done = t->warm >= groups;
	return PZ_OK;
}

static void cache_free(struct tlog_cache *c)
{
	for (unsigned l = 0; l < PZ_MERKLE_MAX_LEVELS; l++)
		cache_drop_level(c, l);
}

/* --- store access -------------------------------------------------------- */

/* pz_merkle_get_fn over the store, through the cache for the nodes of
 * committed entries (they never change). */
static int tlog_get(void *arg, unsigned level, uint64_t index,
		    uint8_t out[PZ_TLOG_HASH])
{
	struct pz_tlog *t = arg;
	uint8_t buf[TLOG_NODES];
	size_t len = sizeof(buf);
	uint64_t seq = ((index + 1) << level) - 1;
	int rc;

	if (cache_find(&t->cache, level, index, out))
		return PZ_OK;
	rc = pz_store_tlog_get(t->st, seq, NULL, NULL, buf, &len);
	if (rc == PZ_ENOTFOUND || rc == PZ_ETOOBIG || (rc == PZ_OK &&
	    len < (size_t)(level + 1) * PZ_TLOG_HASH)) {
		pz_log(PZ_ERROR, "tlog", "node (%u, %llu) is missing from "
		       "entry %llu", level, (unsigned long long)index,
		       (unsigned long long)seq);
		return PZ_ECORRUPT;
	}
	if (rc != PZ_OK)
		return rc;
	memcpy(out, buf + (size_t)level * PZ_TLOG_HASH, PZ_TLOG_HASH);
	if (seq < t->committed)
		cache_put(&t->cache, t->committed, level, index, out);
	return PZ_OK;
}

/* pz_merkle_emit_fn collecting the nodes of one append, bottom-up. */
static int tlog_emit(void *arg, unsigned level, uint64_t index,
		     const uint8_t hash[PZ_TLOG_HASH])
{
	struct pz_tlog *t = arg;

	(void)index;
	if ((size_t)level * PZ_TLOG_HASH != t->nlen || level >=
	    PZ_MERKLE_MAX_LEVELS)
		return PZ_ESTATE;
	memcpy(t->nodes + t->nlen, hash, PZ_TLOG_HASH);
	t->nlen += PZ_TLOG_HASH;
	return PZ_OK;
}

/* --- the key --------------------------------------------------------------- */

static int tlog_key_create(const char *path, EVP_PKEY **out)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	int fd;
	FILE *f;
	bool ok;

	if (!key)
		return PZ_ENOMEM;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		pz_log(PZ_ERROR, "tlog", "cannot create %s: %s", path,
		       strerror(errno));
		EVP_PKEY_free(key);
		return PZ_EIO;
	}
	f = fdopen(fd, "w");
	ok = f && PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	ok = ok && fflush(f) == 0 && fsync(fd) == 0;
	if (f ? fclose(f) != 0 : close(fd) != 0)
		ok = false;
	if (!ok) {
		pz_log(PZ_ERROR, "tlog", "cannot write %s", path);
		unlink(path);
		EVP_PKEY_free(key);
		return PZ_EIO;
	}
	pz_log(PZ_INFO, "tlog", "new Ed25519 log key in %s", path);
	*out = key;
	return PZ_OK;
}

/* The key in path, or a new one (*created) if there is no such file. */
static int tlog_key_load(const char *path, EVP_PKEY **out, bool *created)
{
	FILE *f = fopen(path, "re");
	EVP_PKEY *key;

	*created = false;
	if (!f) {
		*created = errno == ENOENT;
		if (errno == ENOENT)
			return tlog_key_create(path, out);
		pz_log(PZ_ERROR, "tlog", "cannot open %s: %s", path,
		       strerror(errno));
		return PZ_EIO;
	}
	key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!key || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
		pz_log(PZ_ERROR, "tlog", "%s does not hold an Ed25519 private "
		       "key (PKCS#8 PEM)", path);
		EVP_PKEY_free(key);
		return PZ_EIO;
	}
	*out = key;
	return PZ_OK;
}

/* The public key as raw bytes, id and PEM; <keyfile>.pub written if it is
 * missing or the key is new (a .pub left from a lost key would mislead). */
static int tlog_key_public(struct pz_tlog *t, const char *keyfile,
			   bool created)
{
	size_t len = sizeof(t->pub);
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, pubpath[4096];
	long n;

	if (!bio)
		return PZ_ENOMEM;
	if (EVP_PKEY_get_raw_public_key(t->key, t->pub, &len) != 1 ||
	    len != 32 || !EVP_Digest(t->pub, 32, t->id, NULL, EVP_sha256(),
				     NULL) ||
	    PEM_write_bio_PUBKEY(bio, t->key) != 1) {
		BIO_free(bio);
		return PZ_ENOMEM;
	}
	n = BIO_get_mem_data(bio, &data);
	t->pem = pz_strndup(data, (size_t)n);
	BIO_free(bio);
	if (!t->pem)
		return PZ_ENOMEM;
	if (snprintf(pubpath, sizeof(pubpath), "%s.pub", keyfile) <
	    (int)sizeof(pubpath) && (created || access(pubpath, F_OK) != 0)) {
		FILE *f = fopen(pubpath, "we");
		bool ok = f && fputs(t->pem, f) >= 0;

		if (f && fclose(f) != 0)
			ok = false;
		if (!ok)  /* the .pub file is a convenience only */
			pz_log(PZ_WARN, "tlog", "cannot write %s", pubpath);
	}
	return PZ_OK;
}

/* --- open ------------------------------------------------------------------ */

/*
 * The record of signed heads (TLOG_META_HEADS): *count heads, the newest of
 * *size entries; both 0 when none was signed.  PZ_OK, PZ_ECORRUPT (a
 * malformed record), PZ_ESTORE, PZ_ENOMEM.
 */
static int tlog_heads_record(struct pz_tlog *t, uint64_t *count,
			     uint64_t *size)
{
	unsigned long long c = 0, n = 0;
	char *val = NULL, tail;
	int rc = pz_store_meta_get(t->st, TLOG_META_HEADS, &val);

	*count = 0;
	*size = 0;
	if (rc == PZ_ENOTFOUND)
		return PZ_OK;
	if (rc != PZ_OK)
		return rc;
	if (sscanf(val, "%llu %llu%c", &c, &n, &tail) != 2 || c == 0)
		rc = PZ_ECORRUPT;
	pz_free(val);
	*count = c;
	*size = n;
	return rc;
}

/*
 * The newest stored head into t->head and the count of heads signed into
 * t->nheads, checked against each other: a head deleted, or the record
 * of them, is PZ_ECORRUPT with err saying so (err may be NULL).
 */
static int tlog_load_head(struct pz_tlog *t, char *err, size_t errlen)
{
	uint64_t count = 0, size = 0;
	int rc = tlog_heads_record(t, &count, &size);

	if (rc == PZ_ECORRUPT && err)
		snprintf(err, errlen, "the record of signed heads (%s) is "
			 "malformed", TLOG_META_HEADS);
	if (rc != PZ_OK)
		return rc;
	t->have_head = false;
	t->nheads = count;
	rc = pz_store_head_get(t->st, UINT64_MAX, &t->head);
	if (rc == PZ_ENOTFOUND && count == 0)
		return PZ_OK;
	if (rc == PZ_ENOTFOUND || (rc == PZ_OK && t->head.size != size)) {
		if (err && count == 0)
			snprintf(err, errlen, "the record of signed heads (%s) "
				 "is missing", TLOG_META_HEADS);
		else if (err)
			snprintf(err, errlen, "the newest signed head (size "
				 "%llu) is missing: heads were removed",
				 (unsigned long long)size);
		return PZ_ECORRUPT;
	}
	if (rc == PZ_OK)
		t->have_head = true;
	return rc;
}

/* The newest head agrees with the stored tree and the key. */
static int tlog_check_head(struct pz_tlog *t, uint64_t n, char *err,
			   size_t errlen)
{
	uint8_t root[PZ_TLOG_HASH];
	int rc = tlog_load_head(t, err, errlen);

	if (rc != PZ_OK || !t->have_head)
		return rc;
	if (t->head.size > n) {
		snprintf(err, errlen, "the log holds %llu entries but a signed "
			 "head covers %llu: entries were removed",
			 (unsigned long long)n,
			 (unsigned long long)t->head.size);
		return PZ_ECORRUPT;
	}
	if (!pz_tlog_head_verify(t->pub, &t->head)) {
		snprintf(err, errlen, "the newest head (size %llu) is not "
			 "signed by this log key",
			 (unsigned long long)t->head.size);
		return PZ_ECORRUPT;
	}
	rc = pz_merkle_root(t->head.size, tlog_get, t, root);
	if (rc == PZ_OK && memcmp(root, t->head.root, PZ_TLOG_HASH)) {
		snprintf(err, errlen, "the stored tree of %llu entries does "
			 "not match the signed head of that size",
			 (unsigned long long)t->head.size);
		rc = PZ_ECORRUPT;
	} else if (rc == PZ_ECORRUPT) {
		snprintf(err, errlen, "tree nodes below the signed head of "
			 "size %llu are missing",
			 (unsigned long long)t->head.size);
	}
	return rc;
}

int pz_tlog_open(pz_store *st, const char *keyfile, pz_tlog **out,
		 char *err, size_t errlen)
{
	struct pz_tlog *t = pz_calloc(1, sizeof(*t));
	uint64_t n = 0;
	bool created = false;
	int rc;

	snprintf(err, errlen, "(no details)");
	if (!t)
		return PZ_ENOMEM;
	t->st = st;
	pz_buf_init(&t->enc, PZ_TLOG_MAX_ENTRY);
	rc = tlog_key_load(keyfile, &t->key, &created);
	if (rc == PZ_OK)
		rc = tlog_key_public(t, keyfile, created);
	if (rc == PZ_OK)
		rc = pz_store_tlog_size(st, &n);
	if (rc == PZ_OK) {
		pz_merkle_frontier_init(&t->fr);
		rc = pz_merkle_frontier_load(&t->fr, n, tlog_get, t);
		if (rc == PZ_ECORRUPT)
			snprintf(err, errlen, "tree nodes of the %llu stored "
				 "entries are missing", (unsigned long long)n);
	}
	if (rc == PZ_OK)
		rc = tlog_check_head(t, n, err, errlen);
	if (rc != PZ_OK) {
		if (rc != PZ_ECORRUPT)
			snprintf(err, errlen, "%s", pz_strerror(rc));
		pz_tlog_free(t);
		return rc;
	}
	t->committed = n;
	*out = t;
	return PZ_OK;
}

void pz_tlog_free(pz_tlog *t)
{
	if (!t)
		return;
	EVP_PKEY_free(t->key);
	pz_free(t->pem);
	pz_buf_free(&t->enc);
	cache_free(&t->cache);
	pz_free(t);
}

/* --- writing --------------------------------------------------------------- */

/* The canonical bytes of entry (a copy with v/seq/time) into t->enc. */
static int tlog_encode(struct pz_tlog *t, const json_t *entry, uint64_t seq,
		       int64_t now_ms)
{
	json_t *e;
	int rc;

	if (!json_is_object(entry) || json_object_get(entry, "v") ||
	    json_object_get(entry, "seq") || json_object_get(entry, "time"))
		return PZ_EINVAL;
	e = json_copy((json_t *)entry);
	if (!e || json_object_set_new(e, "v", json_integer(1)) ||
	    json_object_set_new(e, "seq", json_integer((json_int_t)seq)) ||
	    json_object_set_new(e, "time", json_integer(now_ms))) {
		json_decref(e);
		return PZ_ENOMEM;
	}
	pz_buf_reset(&t->enc);
	rc = pz_codec_encode_ex(PZ_FMT_CBOR, e, PZ_CODEC_DETERMINISTIC,
				&t->enc);
	json_decref(e);
	return rc;
}

int pz_tlog_append(pz_tlog *t, json_t *entry, int64_t now_ms, uint64_t *seq)
{
	struct pz_merkle_frontier fr = t->fr;
	uint8_t leaf[PZ_TLOG_HASH];
	int rc;

	if (!pz_store_in_batch(t->st))
		return PZ_ESTATE;
	rc = tlog_encode(t, entry, fr.n, now_ms);
	if (rc == PZ_OK)
		rc = pz_merkle_leaf(t->enc.data, t->enc.len, leaf);
	t->nlen = 0;
	if (rc == PZ_OK)
		rc = pz_merkle_append(&fr, leaf, tlog_emit, t);
	if (rc == PZ_OK)
		rc = pz_store_tlog_append(t->st, t->fr.n,
					  (const uint8_t *)t->enc.data,
					  t->enc.len, t->nodes, t->nlen);
	if (rc != PZ_OK)
		return rc;
	if (seq)
		*seq = t->fr.n;
	t->fr = fr;
	return PZ_OK;
}

uint64_t pz_tlog_size(const pz_tlog *t)
{
	return t->fr.n;
}

uint64_t pz_tlog_committed_size(const pz_tlog *t)
{
	return t->committed;
}

int pz_tlog_rollback(pz_tlog *t, uint64_t mark)
{
	struct pz_merkle_frontier fr;
	int rc;

	/* A head stored in the batch may have gone with the savepoint. */
	if (t->head_in_batch) {
		rc = tlog_load_head(t, NULL, 0);
		if (rc != PZ_OK) {
			pz_log(PZ_ERROR, "tlog", "cannot reload the newest "
			       "head: %s", pz_strerror(rc));
			return rc;
		}
	}
	if (mark >= t->fr.n)
		return PZ_OK;
	pz_merkle_frontier_init(&fr);
	rc = pz_merkle_frontier_load(&fr, mark, tlog_get, t);
	if (rc == PZ_OK)
		t->fr = fr;
	else
		pz_log(PZ_ERROR, "tlog", "cannot rebuild the tree at %llu "
		       "entries: %s", (unsigned long long)mark,
		       pz_strerror(rc));
	return rc;
}

void pz_tlog_committed(pz_tlog *t)
{
	t->committed = t->fr.n;
	t->head_in_batch = false;
}

int pz_tlog_aborted(pz_tlog *t)
{
	int rc = pz_tlog_rollback(t, t->committed);

	t->head_in_batch = false;
	return rc;
}

/* --- heads ----------------------------------------------------------------- */

static int tlog_sign(struct pz_tlog *t, struct pz_store_head *h)
{
	uint8_t tbs[PZ_TLOG_TBS_LEN];
	size_t siglen = PZ_TLOG_SIG;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	pz_tlog_head_tbs(t->id, h, tbs);
	ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, t->key) == 1 &&
	     EVP_DigestSign(ctx, h->sig, &siglen, tbs, sizeof(tbs)) == 1 &&
	     siglen == PZ_TLOG_SIG;
	EVP_MD_CTX_free(ctx);
	return ok ? PZ_OK : PZ_ENOMEM;
}

/* Store h and the record of heads (TLOG_META_HEADS) together. */
static int tlog_put_head(struct pz_tlog *t, const struct pz_store_head *h)
{
	char rec[48];
	int rc = pz_store_head_put(t->st, h);

	snprintf(rec, sizeof(rec), "%llu %llu",
		 (unsigned long long)t->nheads + 1,
		 (unsigned long long)h->size);
	if (rc == PZ_OK)
		rc = pz_store_meta_put(t->st, TLOG_META_HEADS, rec);
	return rc;
}

static int tlog_store_head(struct pz_tlog *t, const struct pz_store_head *h)
{
	int rc;

	if (pz_store_in_batch(t->st)) {
		t->head_in_batch = true;
		return tlog_put_head(t, h);
	}
	rc = pz_store_begin(t->st);
	if (rc != PZ_OK)
		return rc;
	rc = tlog_put_head(t, h);
	if (rc != PZ_OK) {
		pz_store_rollback(t->st);
		return rc;
	}
	return pz_store_commit(t->st);
}

int pz_tlog_head(pz_tlog *t, bool fresh, struct pz_store_head *out)
{
	struct pz_store_head h;
	int rc;

	if (fresh && (!t->have_head || t->head.size < t->committed)) {
		memset(&h, 0, sizeof(h));
		h.size = t->committed;
		h.ts = pz_time_now() / 1000;
		if (t->have_head && h.ts < t->head.ts)
			h.ts = t->head.ts;  /* heads never go back in time */
		rc = pz_merkle_root(h.size, tlog_get, t, h.root);
		if (rc == PZ_OK)
			rc = tlog_sign(t, &h);
		if (rc == PZ_OK)
			rc = tlog_store_head(t, &h);
		if (rc != PZ_OK)
			return rc;
		t->head = h;
		t->have_head = true;
		t->nheads++;
	}
	if (!t->have_head)
		return PZ_ENOTFOUND;
	*out = t->head;
	return PZ_OK;
}

int pz_tlog_head_at(pz_tlog *t, uint64_t size, struct pz_store_head *out)
{
	return pz_store_head_get(t->st, size, out);
}

/* --- reading --------------------------------------------------------------- */

int pz_tlog_entry(pz_tlog *t, uint64_t seq, uint8_t **raw, size_t *len,
		  json_t **doc)
{
	uint8_t nodes[TLOG_NODES], *bytes = NULL;
	size_t nlen = sizeof(nodes), blen = 0;
	char err[128];
	int rc;

	if (seq >= t->committed)
		return PZ_ENOTFOUND;
	rc = pz_store_tlog_get(t->st, seq, &bytes, &blen, nodes, &nlen);
	if (rc != PZ_OK)
		return rc;
	if (doc) {
		rc = pz_codec_parse(PZ_FMT_CBOR, bytes, blen,
				    &pz_codec_default_limits, doc, err,
				    sizeof(err));
		if (rc != PZ_OK) {
			pz_free(bytes);
			if (rc == PZ_ENOMEM)
				return rc;
			pz_log(PZ_ERROR, "tlog", "entry %llu does not decode: "
			       "%s", (unsigned long long)seq, err);
			return PZ_ECORRUPT;
		}
	}
	if (raw) {
		*raw = bytes;
		*len = blen;
	} else {
		pz_free(bytes);
	}
	return PZ_OK;
}

int pz_tlog_prove(pz_tlog *t, uint64_t seq, uint64_t size, uint8_t *path,
		  size_t *n, uint8_t leaf[PZ_TLOG_HASH])
{
	int rc;

	if (seq >= size || size > t->committed)
		return PZ_EINVAL;
	rc = pz_merkle_inclusion(seq, size, tlog_get, t, path, n);
	if (rc == PZ_OK && leaf)
		rc = tlog_get(t, 0, seq, leaf);
	return rc;
}

int pz_tlog_consistency(pz_tlog *t, uint64_t m, uint64_t n, uint8_t *proof,
			size_t *len)
{
	if (m == 0 || m > n || n > t->committed)
		return PZ_EINVAL;
	return pz_merkle_consistency(m, n, tlog_get, t, proof, len);
}

int pz_tlog_root(pz_tlog *t, uint64_t size, uint8_t root[PZ_TLOG_HASH])
{
	if (size > t->committed)
		return PZ_EINVAL;
	return pz_merkle_root(size, tlog_get, t, root);
}

const uint8_t *pz_tlog_public_key(const pz_tlog *t)
{
	return t->pub;
}

const uint8_t *pz_tlog_log_id(const pz_tlog *t)
{
	return t->id;
}

const char *pz_tlog_public_pem(const pz_tlog *t)
{
	return t->pem;
}

/* --- full verification ----------------------------------------------------- */

struct tlog_verify {
	struct pz_tlog *t;
	struct pz_merkle_frontier fr;    /* recomputed from the entries */
	struct pz_store_head *heads;     /* every stored head, by size */
	size_t nheads, nexthead;
	uint64_t total;
	void (*progress)(void *ud, uint64_t done, uint64_t total);
	void *ud;
	const uint8_t *stored;           /* the entry's stored nodes */
	size_t slen;
	int rc;
	char *err;
	size_t errlen;
};

static int verify_fail(struct tlog_verify *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Record the first failure; returns 1 (stop the scan). */
static int verify_fail(struct tlog_verify *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->err, v->errlen, fmt, ap);
	va_end(ap);
	v->rc = PZ_ECORRUPT;
	return 1;
}

/* Each node the recomputation completes must be the one stored. */
static int verify_emit(void *arg, unsigned level, uint64_t index,
		       const uint8_t hash[PZ_TLOG_HASH])
{
	struct tlog_verify *v = arg;
	size_t off = (size_t)level * PZ_TLOG_HASH;

	(void)index;
	if (off + PZ_TLOG_HASH > v->slen ||
	    memcmp(v->stored + off, hash, PZ_TLOG_HASH))
		return PZ_ECORRUPT;
	return PZ_OK;
}

/* Heads whose size the recomputed tree has reached must match it. */
static int verify_heads(struct tlog_verify *v)
{
	uint8_t root[PZ_TLOG_HASH];

	while (v->nexthead < v->nheads &&
	       v->heads[v->nexthead].size == v->fr.n) {
		const struct pz_store_head *h = &v->heads[v->nexthead++];

		if (pz_merkle_frontier_root(&v->fr, root) != PZ_OK) {
			v->rc = PZ_ENOMEM;
			return 1;
		}
		if (memcmp(root, h->root, PZ_TLOG_HASH))
			return verify_fail(v, "the signed head of size %llu "
					   "does not match the entries",
					   (unsigned long long)h->size);
		if (!pz_tlog_head_verify(v->t->pub, h))
			return verify_fail(v, "the head of size %llu is not "
					   "signed by this log key",
					   (unsigned long long)h->size);
	}
	return 0;
}

static int verify_entry(void *ud, uint64_t seq, const uint8_t *entry,
			size_t len, const uint8_t *nodes, size_t nlen)
{
	struct tlog_verify *v = ud;
	uint8_t leaf[PZ_TLOG_HASH];
	json_t *doc = NULL, *s;
	struct pz_buf re;
	char err[128];
	bool same;
	int rc;

	if (seq != v->fr.n)
		return verify_fail(v, "entry %llu is missing (found %llu "
				   "next)", (unsigned long long)v->fr.n,
				   (unsigned long long)seq);
	rc = pz_codec_parse(PZ_FMT_CBOR, entry, len, &pz_codec_default_limits,
			    &doc, err, sizeof(err));
	if (rc == PZ_ENOMEM) {
		v->rc = rc;
		return 1;
	}
	if (rc != PZ_OK)
		return verify_fail(v, "entry %llu does not decode: %s",
				   (unsigned long long)seq, err);
	s = json_object_get(doc, "seq");
	if (!json_is_integer(s) || (uint64_t)json_integer_value(s) != seq) {
		json_decref(doc);
		return verify_fail(v, "entry %llu carries another sequence "
				   "number: entries were moved or replaced",
				   (unsigned long long)seq);
	}
	/* Canonical: its bytes are its deterministic encoding. */
	pz_buf_init(&re, 0);
	rc = pz_codec_encode_ex(PZ_FMT_CBOR, doc, PZ_CODEC_DETERMINISTIC, &re);
	same = rc == PZ_OK && re.len == len && !memcmp(re.data, entry, len);
	pz_buf_free(&re);
	json_decref(doc);
	if (rc == PZ_ENOMEM) {
		v->rc = PZ_ENOMEM;
		return 1;
	}
	if (!same)
		return verify_fail(v, "entry %llu is not in canonical form",
				   (unsigned long long)seq);
	if (pz_merkle_leaf(entry, len, leaf) != PZ_OK) {
		v->rc = PZ_ENOMEM;
		return 1;
	}
	if (nlen < PZ_TLOG_HASH || memcmp(leaf, nodes, PZ_TLOG_HASH))
		return verify_fail(v, "entry %llu does not hash to its stored "
				   "leaf: it was altered",
				   (unsigned long long)seq);
	v->stored = nodes;
	v->slen = nlen;
	rc = pz_merkle_append(&v->fr, leaf, verify_emit, v);
	if (rc == PZ_ECORRUPT)
		return verify_fail(v, "the tree nodes stored with entry %llu "
				   "differ from the recomputed ones",
				   (unsigned long long)seq);
	if (rc != PZ_OK) {
		v->rc = rc;
		return 1;
	}
	if (nlen != (size_t)(__builtin_ctzll(~seq) + 1) * PZ_TLOG_HASH)
		return verify_fail(v, "entry %llu stores %zu bytes of tree "
				   "nodes", (unsigned long long)seq, nlen);
	if (v->progress && (v->fr.n & ((1u << 20) - 1)) == 0)
		v->progress(v->ud, v->fr.n, v->total);
	return verify_heads(v);
}

static int verify_collect_head(void *ud, const struct pz_store_head *h)
{
	struct tlog_verify *v = ud;
	struct pz_store_head *more;

	more = pz_realloc(v->heads, (v->nheads + 1) * sizeof(*more));
	if (!more) {
		v->rc = PZ_ENOMEM;
		return 1;
	}
	v->heads = more;
	v->heads[v->nheads++] = *h;
	return 0;
}

int pz_tlog_verify(pz_tlog *t, void (*progress)(void *ud, uint64_t done,
						uint64_t total),
		   void *ud, char *err, size_t errlen)
{
	struct tlog_verify v;
	uint64_t signed_heads = 0, newest = 0;
	int rc;

	memset(&v, 0, sizeof(v));
	v.t = t;
	v.progress = progress;
	v.ud = ud;
	v.err = err;
	v.errlen = errlen;
	snprintf(err, errlen, "(no details)");
	pz_merkle_frontier_init(&v.fr);
	rc = pz_store_tlog_size(t->st, &v.total);
	if (rc == PZ_OK)
		rc = pz_store_head_scan(t->st, verify_collect_head, &v);
	if (rc == PZ_OK && v.rc == PZ_OK && v.nheads && v.heads[0].size == 0)
		verify_heads(&v);  /* a head of the empty tree */
	if (rc == PZ_OK && v.rc == PZ_OK)
		rc = pz_store_tlog_scan(t->st, 0, verify_entry, &v);
	if (rc == PZ_OK)
		rc = v.rc;
	if (rc == PZ_OK) {
		rc = tlog_heads_record(t, &signed_heads, &newest);
		if (rc == PZ_ECORRUPT)
			snprintf(err, errlen, "the record of signed heads (%s) "
				 "is malformed", TLOG_META_HEADS);
	}
	if (rc == PZ_OK && (v.nheads != signed_heads || (v.nheads &&
			    v.heads[v.nheads - 1].size != newest))) {
		snprintf(err, errlen, "%zu signed heads are stored but the log "
			 "signed %llu: heads were removed", v.nheads,
			 (unsigned long long)signed_heads);
		rc = PZ_ECORRUPT;
	}
	if (rc == PZ_OK && v.nexthead < v.nheads) {
		snprintf(err, errlen, "the log holds %llu entries but a signed "
			 "head covers %llu: entries were removed",
			 (unsigned long long)v.fr.n,
			 (unsigned long long)v.heads[v.nexthead].size);
		rc = PZ_ECORRUPT;
	}
	if (rc != PZ_OK && rc != PZ_ECORRUPT)
		snprintf(err, errlen, "%s", pz_strerror(rc));
	pz_free(v.heads);
	return rc;
}
