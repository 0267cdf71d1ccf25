/*
 * tlog.c - benchmark of the trust log (pz_tlog.h) on its SQLite store.
 *
 *   tlog_bench [-d DIR] [-n ENTRIES] [-b BATCH] [-t SECONDS] [-p PROOFS]
 *              [-r REF_ENTRIES] [-F] [-V]
 *
 * Opens (or reuses) DIR/tlog.db and DIR/log.key, appends register-like
 * entries of about 150 encoded bytes in store batches of BATCH until the
 * log holds ENTRIES or SECONDS of appending have passed, then measures
 * at the size reached:
 *
 *   appends/s       durable (each batch committed to the WAL, the
 *                   store's default synchronous=NORMAL, which survives a
 *                   crash of the process; with -F synchronous=FULL, an
 *                   fsync per commit, which survives a power loss, for
 *                   both the log and the reference), against raw
 *                   SQLite inserts of the same encoded blobs in batches
 *                   of the same size, measured in the same run in
 *                   DIR/ref.db (REF_ENTRIES of them);
 *   inclusion       pz_tlog_prove of PROOFS random entries in the tree of
 *                   all entries, and pz_merkle_verify_inclusion of each,
 *                   against one random stored-row lookup (generation) and
 *                   one bare SHA-256 of a leaf (verification);
 *   consistency     pz_tlog_consistency from a random older size, and its
 *                   verification;
 *   storage         the database's pages (and the WAL) minus the encoded
 *                   entries, per entry; the tlog table alone through
 *                   SQLite's dbstat when the library has it.
 *
 * With -V it also times pz_tlog_verify over the whole log.  Prints one
 * "key: value" line per figure (bench/README.md reads them).  Without -d
 * a temporary directory is used and removed at the end.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "plaza/pz_buf.h"
#include "plaza/pz_codec.h"
#include "plaza/pz_err.h"
#include "plaza/pz_log.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_merkle.h"
#include "plaza/pz_store.h"
#include "plaza/pz_tlog.h"

struct opts {
	const char *dir;        /* NULL: a temporary one */
	uint64_t entries;       /* size to build the log to */
	unsigned batch;         /* entries per store batch */
	double seconds;         /* bound on the appending phase */
	unsigned proofs;        /* random proofs measured */
	uint64_t ref_entries;   /* raw SQLite inserts for the reference */
	bool verify;            /* also time pz_tlog_verify */
	bool sync_full;         /* synchronous=FULL (store.sync=full) */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x;
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "tlog_bench: %s: %s\n", what, pz_strerror(rc));
	exit(1);
}

/* A register entry as plaza writes one for an AE: ~150 bytes encoded
 * with v, seq and time. */
static json_t *make_entry(uint64_t i)
{
	char urn[48], ae[24], alias[64];

	snprintf(urn, sizeof(urn), "urn:dev:mac:0024be%010" PRIx64,
		 (uint64_t)(i & 0xffffffffffu));
	snprintf(ae, sizeof(ae), "C%" PRIu64, i);
	snprintf(alias, sizeof(alias), "//city.example/plaza-in/C%" PRIu64,
		 i);
	return json_pack("{s:s, s:s, s:s, s:[s,s], s:s, s:s}",
			 "type", "register", "id", urn, "kind", "device",
			 "aliases", ae, alias, "owner", "CAdmin",
			 "ae_id", ae);
}

/* --- reference: raw SQLite inserts of the same blobs ------------------- */

static double ref_inserts(const char *dir, unsigned batch, uint64_t n,
			  bool full, size_t *avg)
{
	char path[4200];
	sqlite3 *db;
	sqlite3_stmt *q;
	struct pz_buf b;
	double t0, busy = 0;
	uint64_t i = 0, bytes = 0;

	snprintf(path, sizeof(path), "%s/ref.db", dir);
	unlink(path);
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, full ? "PRAGMA synchronous=FULL" :
			 "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) ||
	    sqlite3_exec(db, "PRAGMA journal_mode=WAL; "
			 "PRAGMA cache_size=-32768;"
			 "CREATE TABLE t(seq INTEGER PRIMARY KEY,"
			 " entry BLOB NOT NULL)", NULL, NULL, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT INTO t(seq,entry) VALUES(?1,?2)",
			       -1, &q, NULL))
		die("reference database", PZ_ESTORE);
	pz_buf_init(&b, 0);
	while (i < n) {
		/* The blobs are made outside the timed part. */
		size_t *offs = malloc((batch + 1) * sizeof(*offs));

		pz_buf_reset(&b);
		offs[0] = 0;
		for (unsigned k = 0; k < batch; k++) {
			json_t *e = make_entry(i + k);

			json_object_set_new(e, "v", json_integer(1));
			json_object_set_new(e, "seq", json_integer(
						    (json_int_t)(i + k)));
			json_object_set_new(e, "time",
					    json_integer(1795568400123));
			if (pz_codec_encode_ex(PZ_FMT_CBOR, e,
					       PZ_CODEC_DETERMINISTIC, &b))
				die("encode", PZ_EINVAL);
			json_decref(e);
			offs[k + 1] = b.len;
		}
		t0 = now_s();
		sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
		for (unsigned k = 0; k < batch; k++) {
			sqlite3_bind_int64(q, 1, (sqlite3_int64)(i + k));
			sqlite3_bind_blob(q, 2, b.data + offs[k],
					  (int)(offs[k + 1] - offs[k]),
					  SQLITE_STATIC);
			if (sqlite3_step(q) != SQLITE_DONE)
				die("reference insert", PZ_ESTORE);
			sqlite3_reset(q);
		}
		if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL))
			die("reference commit", PZ_ESTORE);
		busy += now_s() - t0;
		bytes += b.len;
		i += batch;
		free(offs);
	}
	pz_buf_free(&b);
	sqlite3_finalize(q);
	sqlite3_close(db);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ref.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ref.db-shm", dir);
	unlink(path);
	*avg = (size_t)(bytes / n);
	return (double)n / busy;
}

/* --- the log ------------------------------------------------------------- */

struct build {
	double busy;             /* seconds inside begin..commit */
	uint64_t appended;       /* entries appended in this run */
	uint64_t enc_bytes;      /* their encoded bytes */
	double first_rate;       /* appends/s over the first REF-sized part */
	double last_rate;        /* over the last batches (1% or more) */
};

/* Append batches until the log holds o->entries or the time is up. */
static void build_log(pz_store *st, pz_tlog *t, const struct opts *o,
		      uint64_t ref_n, struct build *b)
{
	json_t **es = malloc(o->batch * sizeof(*es));
	double start = now_s(), last_report = start, win_busy = 0;
	uint64_t win_n = 0;

	memset(b, 0, sizeof(*b));
	while (pz_tlog_size(t) < o->entries &&
	       now_s() - start < o->seconds) {
		uint64_t base = pz_tlog_size(t);
		unsigned k, nb = o->batch;
		double t0, dt;
		int rc;

		if (o->entries - base < nb)
			nb = (unsigned)(o->entries - base);
		for (k = 0; k < nb; k++)
			es[k] = make_entry(base + k);
		t0 = now_s();
		rc = pz_store_begin(st);
		for (k = 0; rc == PZ_OK && k < nb; k++)
			rc = pz_tlog_append(t, es[k], 1795568400123 +
					    (int64_t)(base + k), NULL);
		if (rc == PZ_OK)
			rc = pz_store_commit(st);
		if (rc != PZ_OK)
			die("append batch", rc);
		pz_tlog_committed(t);
		dt = now_s() - t0;
		for (k = 0; k < nb; k++)
			json_decref(es[k]);
		b->busy += dt;
		b->appended += nb;
		win_busy += dt;
		win_n += nb;
		if (b->appended == ref_n || (b->first_rate == 0 &&
					     b->appended > ref_n))
			b->first_rate = (double)b->appended / b->busy;
		/* The rate of the last window of at least 1% of the log. */
		if (win_n * 100 >= o->entries) {
			b->last_rate = (double)win_n / win_busy;
			win_n = 0;
			win_busy = 0;
		}
		if (now_s() - last_report >= 30) {
			last_report = now_s();
			fprintf(stderr, "  %" PRIu64 " entries, %.0f s, "
				"%.0f appends/s overall\n", pz_tlog_size(t),
				last_report - start,
				(double)b->appended / b->busy);
		}
	}
	free(es);
}

/* The mean encoded size of a sample of entries (for a reused log). */
static double entry_bytes(pz_tlog *t, uint64_t n, uint64_t *total)
{
	uint64_t sum = 0, k = n < 4096 ? n : 4096;

	for (uint64_t i = 0; i < k; i++) {
		uint8_t *raw = NULL;
		size_t len = 0;
		uint64_t seq = k == n ? i : rnd() % n;

		if (pz_tlog_entry(t, seq, &raw, &len, NULL) != PZ_OK)
			die("entry", PZ_ESTORE);
		sum += len;
		pz_free(raw);
	}
	*total = (uint64_t)((double)sum / (double)k * (double)n);
	return (double)sum / (double)k;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Mean, median and 99th percentile of n samples (µs), sorted in place. */
static void stats(double *v, unsigned n, const char *name)
{
	double sum = 0;

	qsort(v, n, sizeof(*v), cmp_double);
	for (unsigned i = 0; i < n; i++)
		sum += v[i];
	printf("%s_us_mean: %.2f\n%s_us_p50: %.2f\n%s_us_p99: %.2f\n",
	       name, sum / n, name, v[n / 2], name, v[(size_t)(n * 0.99)]);
}

/* Inclusion proofs of random entries at size n, generated and checked;
 * the figures are named name_gen and name_verify. */
static void bench_inclusion(pz_tlog *t, uint64_t n, unsigned count,
			    const char *name)
{
	char gname[64], vname[64];
	double *gen = malloc(count * sizeof(double));
	double *ver = malloc(count * sizeof(double));
	uint8_t path[PZ_TLOG_MAX_PROOF * PZ_TLOG_HASH], leaf[PZ_TLOG_HASH];
	uint8_t root[PZ_TLOG_HASH];
	size_t len = 0, hashes = 0;
	int rc;

	rc = pz_tlog_root(t, n, root);
	if (rc != PZ_OK)
		die("root", rc);
	for (unsigned i = 0; i < count; i++) {
		uint64_t seq = rnd() % n;
		double t0 = now_s(), t1;
		bool ok;

		rc = pz_tlog_prove(t, seq, n, path, &len, leaf);
		t1 = now_s();
		if (rc != PZ_OK)
			die("prove", rc);
		ok = pz_merkle_verify_inclusion(seq, n, leaf, path, len, root);
		gen[i] = (t1 - t0) * 1e6;
		ver[i] = (now_s() - t1) * 1e6;
		if (!ok)
			die("an inclusion proof does not verify", PZ_ECORRUPT);
		hashes += len;
	}
	if (!name)
		goto out;
	snprintf(gname, sizeof(gname), "%s_gen", name);
	snprintf(vname, sizeof(vname), "%s_verify", name);
	printf("%s_hashes_mean: %.1f\n", name, (double)hashes / count);
	stats(gen, count, gname);
	stats(ver, count, vname);
out:
	free(gen);
	free(ver);
}

/* References: one random stored-row lookup through the store (what a
 * proof is made of) and one bare SHA-256 of an entry-sized leaf. */
static void bench_refs(pz_store *st, uint64_t n, unsigned count)
{
	double *v = malloc(count * sizeof(double));
	uint8_t nodes[64 * 32], data[151] = { 0 }, out[32];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	for (unsigned i = 0; i < count; i++) {
		size_t nlen = sizeof(nodes);
		uint64_t seq = rnd() % n;
		double t0 = now_s();

		if (pz_store_tlog_get(st, seq, NULL, NULL, nodes, &nlen))
			die("lookup", PZ_ESTORE);
		v[i] = (now_s() - t0) * 1e6;
	}
	stats(v, count, "ref_lookup");
	for (unsigned i = 0; i < count; i++) {
		unsigned olen;
		double t0 = now_s();

		data[0] = 0;
		data[1] = (uint8_t)i;
		EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
		EVP_DigestUpdate(ctx, data, sizeof(data));
		EVP_DigestFinal_ex(ctx, out, &olen);
		v[i] = (now_s() - t0) * 1e6;
	}
	stats(v, count, "ref_sha256_leaf");
	/* The same hash with a fresh context, as one-shot callers pay it. */
	for (unsigned i = 0; i < count; i++) {
		double t0 = now_s();

		data[1] = (uint8_t)i;
		pz_merkle_leaf(data + 1, sizeof(data) - 1, out);
		v[i] = (now_s() - t0) * 1e6;
	}
	stats(v, count, "ref_pz_merkle_leaf");
	EVP_MD_CTX_free(ctx);
	free(v);
}

static void bench_consistency(pz_tlog *t, uint64_t n, unsigned count)
{
	double *gen = malloc(count * sizeof(double));
	double *ver = malloc(count * sizeof(double));
	uint8_t proof[PZ_TLOG_MAX_PROOF * PZ_TLOG_HASH];
	uint8_t rm[PZ_TLOG_HASH], rn[PZ_TLOG_HASH];
	size_t len = 0;
	int rc = pz_tlog_root(t, n, rn);

	if (rc != PZ_OK)
		die("root", rc);
	for (unsigned i = 0; i < count; i++) {
		uint64_t m = 1 + rnd() % n;
		double t0, t1;
		bool ok;

		if (pz_tlog_root(t, m, rm) != PZ_OK)  /* the client's old head */
			die("root", PZ_ESTORE);
		t0 = now_s();
		rc = pz_tlog_consistency(t, m, n, proof, &len);
		t1 = now_s();
		if (rc != PZ_OK)
			die("consistency", rc);
		ok = pz_merkle_verify_consistency(m, n, rm, rn, proof, len);
		gen[i] = (t1 - t0) * 1e6;
		ver[i] = (now_s() - t1) * 1e6;
		if (!ok)
			die("a consistency proof does not verify", PZ_ECORRUPT);
	}
	stats(gen, count, "consistency_gen");
	stats(ver, count, "consistency_verify");
	free(gen);
	free(ver);
}

/* --- storage ------------------------------------------------------------- */

static int64_t pragma_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *q;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

static void bench_storage(const char *dbpath, uint64_t n, uint64_t enc)
{
	char wal[4300];
	struct stat sb;
	sqlite3 *db;
	int64_t pages, psize, freel, tbl;

	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL))
		die("open for dbstat", PZ_ESTORE);
	pages = pragma_int(db, "PRAGMA page_count");
	psize = pragma_int(db, "PRAGMA page_size");
	freel = pragma_int(db, "PRAGMA freelist_count");
	/* dbstat counts every page of the table, its interior pages too. */
	tbl = pragma_int(db, "SELECT sum(pgsize) FROM dbstat WHERE "
			 "name='tlog'");
	snprintf(wal, sizeof(wal), "%s-wal", dbpath);
	printf("db_bytes: %" PRId64 "\n", pages * psize);
	printf("db_free_bytes: %" PRId64 "\n", freel * psize);
	printf("wal_bytes: %lld\n",
	       stat(wal, &sb) == 0 ? (long long)sb.st_size : 0LL);
	printf("entry_bytes_total: %" PRIu64 "\n", enc);
	printf("overhead_per_entry_db: %.1f\n",
	       ((double)((pages - freel) * psize) - (double)enc) / (double)n);
	if (tbl > 0)
		printf("overhead_per_entry_tlog_table: %.1f\n",
		       ((double)tbl - (double)enc) / (double)n);
	else
		printf("overhead_per_entry_tlog_table: (dbstat not "
		       "available)\n");
	sqlite3_close(db);
}

/* --- main ---------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr, "usage: tlog_bench [-d DIR] [-n ENTRIES] [-b BATCH] "
		"[-t SECONDS] [-p PROOFS] [-r REF_ENTRIES] [-F] [-V]\n");
	exit(2);
}

static void progress(void *ud, uint64_t done, uint64_t total)
{
	(void)ud;
	if ((done & ((1u << 22) - 1)) == 0)
		fprintf(stderr, "  verified %" PRIu64 " of %" PRIu64 "\n",
			done, total);
}

int main(int argc, char **argv)
{
	struct opts o = { NULL, 10000000, 1000, 900, 10000, 1000000, false,
			  false };
	struct pz_store_opts so = { 0, 0, 0 };
	char tmpl[] = "/tmp/pz-tlog-bench-XXXXXX", dbpath[4200], url[4300];
	char key[4200], err[256];
	struct pz_store_head h;
	struct build b;
	pz_store *st = NULL;
	pz_tlog *t = NULL;
	uint64_t n, before, enc_total = 0;
	double t0, ref_rate, avg;
	size_t ref_avg = 0;
	int c, rc;

	while ((c = getopt(argc, argv, "d:n:b:t:p:r:FV")) != -1) {
		switch (c) {
		case 'd': o.dir = optarg; break;
		case 'n': o.entries = strtoull(optarg, NULL, 10); break;
		case 'b': o.batch = (unsigned)strtoul(optarg, NULL, 10); break;
		case 't': o.seconds = strtod(optarg, NULL); break;
		case 'p': o.proofs = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'r': o.ref_entries = strtoull(optarg, NULL, 10); break;
		case 'V': o.verify = true; break;
		case 'F': o.sync_full = true; break;
		default: usage();
		}
	}
	if (!o.batch || !o.proofs || !o.ref_entries ||
	    o.ref_entries % o.batch)
		usage();
	json_set_alloc_funcs(pz_malloc, pz_free);
	pz_log_set_level("warn");
	if (!o.dir) {
		if (!mkdtemp(tmpl))
			die("mkdtemp", PZ_EIO);
		o.dir = tmpl;
	} else if (mkdir(o.dir, 0700) != 0 && errno != EEXIST) {
		die(o.dir, PZ_EIO);
	}
	snprintf(dbpath, sizeof(dbpath), "%s/tlog.db", o.dir);
	snprintf(url, sizeof(url), "sqlite:%s", dbpath);
	snprintf(key, sizeof(key), "%s/log.key", o.dir);
	printf("dir: %s\nbatch: %u\nsqlite: %s\nsynchronous: %s\n", o.dir,
	       o.batch, sqlite3_libversion(), o.sync_full ? "FULL" : "NORMAL");
	so.sync_full = o.sync_full;

	ref_rate = ref_inserts(o.dir, o.batch, o.ref_entries, o.sync_full,
			       &ref_avg);
	printf("ref_raw_sqlite_inserts_per_s: %.0f\n", ref_rate);
	printf("ref_entry_bytes: %zu\n", ref_avg);

	t0 = now_s();
	rc = pz_store_open(url, &so, &st);
	if (rc == PZ_OK)
		rc = pz_tlog_open(st, key, &t, err, sizeof(err));
	if (rc != PZ_OK) {
		fprintf(stderr, "tlog_bench: open: %s\n", err);
		return 1;
	}
	before = pz_tlog_size(t);
	printf("open_s: %.3f\nentries_before: %" PRIu64 "\n", now_s() - t0,
	       before);

	build_log(st, t, &o, o.ref_entries, &b);
	n = pz_tlog_committed_size(t);
	printf("entries: %" PRIu64 "\nappended: %" PRIu64 "\n", n,
	       b.appended);
	if (b.appended) {
		printf("append_busy_s: %.1f\n", b.busy);
		printf("appends_per_s: %.0f\n", (double)b.appended / b.busy);
		printf("appends_per_s_first: %.0f\n", b.first_rate);
		printf("appends_per_s_last: %.0f\n", b.last_rate);
		printf("appends_vs_raw_sqlite: %.2f\n",
		       b.first_rate / ref_rate);
	}
	if (n == 0)
		return 0;
	t0 = now_s();
	rc = pz_tlog_head(t, true, &h);
	if (rc != PZ_OK)
		die("head", rc);
	printf("head_sign_ms: %.3f\n", (now_s() - t0) * 1e3);

	bench_refs(st, n, o.proofs);
	/* Right after open the node cache is empty: the first proofs read
	 * their upper levels from the store. */
	bench_inclusion(t, n, o.proofs, "inclusion_cold");
	/* What plazad does after start: fill the cache in slices. */
	t0 = now_s();
	for (bool done = false; !done;) {
		rc = pz_tlog_warm(t, 512, &done);
		if (rc != PZ_OK)
			die("warm", rc);
	}
	printf("cache_warm_ms: %.1f\n", (now_s() - t0) * 1e3);
	bench_inclusion(t, n, o.proofs, "inclusion_after_warm");
	t0 = now_s();
	for (unsigned i = 0; i < 20; i++)
		bench_inclusion(t, n, o.proofs, NULL);
	printf("warmup_proofs: %u in %.1f s\n", 20 * o.proofs, now_s() - t0);
	bench_inclusion(t, n, o.proofs, "inclusion");
	bench_consistency(t, n, o.proofs < 2000 ? o.proofs : 2000);
	avg = entry_bytes(t, n, &enc_total);
	printf("entry_bytes_mean: %.1f\n", avg);

	if (o.verify) {
		t0 = now_s();
		rc = pz_tlog_verify(t, progress, NULL, err, sizeof(err));
		printf("verify_s: %.1f (%s)\n", now_s() - t0,
		       rc == PZ_OK ? "ok" : err);
	}
	pz_tlog_free(t);
	pz_store_close(st);
	/* Closing checkpoints the WAL into the file: count it all there. */
	bench_storage(dbpath, n, enc_total);
	if (o.dir == tmpl) {
		static const char *const sfx[] = { "", "-wal", "-shm" };

		for (int i = 0; i < 3; i++) {
			snprintf(url, sizeof(url), "%s%s", dbpath, sfx[i]);
			unlink(url);
		}
		unlink(key);
		snprintf(url, sizeof(url), "%s.pub", key);
		unlink(url);
		rmdir(tmpl);
	}
	return 0;
}
