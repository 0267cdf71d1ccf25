/*
 * sqlite.c - the embedded SQLite store backend (the default).
 *
 * One database file in WAL mode.  Prepared statements are created once at
 * open and reused.  A committed batch is in the WAL before commit returns:
 * with synchronous=NORMAL it survives a crash of plazad (kill -9), with
 * store.sync=full (synchronous=FULL) also a power loss.
 *
 * The schema version lives in PRAGMA user_version; migrations run at open.
 *
 * Checkpoints (copying the WAL back into the database file, with an fsync)
 * take milliseconds; run inside a commit they would stall the event loop.
 * So a checkpointer thread with its own connection copies the WAL back
 * whenever it passes SQL_CKPT_FRAMES frames (signalled from the WAL hook)
 * or once a second.  It touches nothing but the database file; all plaza
 * state stays with the loop thread.  Under writes that never pause, those
 * copies never catch up with the end of the WAL, and SQLite rewinds a WAL
 * only when they do: so past SQL_RESTART_FRAMES the loop thread itself,
 * right after a commit, finishes the copy with a TRUNCATE checkpoint (the
 * few frames the checkpointer has not copied yet) and the WAL starts over
 * empty.  That short pause is the price of a bounded WAL.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "plaza/pz_buf.h"
#include "plaza/pz_codec.h"
#include "plaza/pz_err.h"
#include "plaza/pz_log.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_store.h"
#include "plaza/pz_time.h"
#include "store_int.h"

#define SQL_SCHEMA_VERSION 3
#define SQL_CKPT_FRAMES 8192   /* WAL frames (32 MiB) that trigger a
				  checkpoint */
#define SQL_RESTART_FRAMES 65536  /* frames (256 MiB) that force the WAL to
				     restart from its beginning */
#define SQL_COLS "id,pid,ty,rn,ri,ct,lt,et,cs,cni,cbs,st,org,lid"

enum {
	S_BEGIN, S_COMMIT, S_ROLLBACK, S_SAVE, S_RELEASE, S_ROLLBACK_TO,
	S_GET, S_GET_RI, S_GET_CHILD, S_NEWEST, S_OLDEST, S_INSERT, S_UPDATE,
	S_ADJUST, S_REMOVE, S_CHILDREN, S_CHILDREN_DESC, S_CHILDREN_TY, S_COUNT, S_COUNT_ALL,
	S_EXPIRED, S_NEXT_ET, S_CRED_PUT, S_CRED_GET, S_CRED_DEL, S_PSK_PUT,
	S_PSK_GET, S_PSK_DEL, S_PSK_LIST, S_META_GET, S_META_PUT,
	S_TLOG_PUT, S_TLOG_GET, S_TLOG_NODES, S_TLOG_SIZE, S_TLOG_SCAN,
	S_HEAD_PUT, S_HEAD_GET, S_HEAD_LAST, S_HEAD_SCAN, S_IDENT_PUT,
	S_IDENT_GET, S_IDENT_SCAN, S_ALIAS_ADD, S_ALIAS_GET, S_ALIAS_DEL,
	S_SUB_PUT, S_SUB_GET, S_SUB_SQN, S_SUB_DEL, S_SUB_DEL_BOOT, S_SUB_LIST,
	S_BOOT_PUT, S_BOOT_GET, S_BOOT_PURGE,
	S_MAX
};

static const char *const sql_text[S_MAX] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_SAVE] = "SAVEPOINT req",
	[S_RELEASE] = "RELEASE req",
	[S_ROLLBACK_TO] = "ROLLBACK TO req",
	[S_GET] = "SELECT " SQL_COLS ",doc FROM res WHERE id=?1",
	[S_GET_RI] = "SELECT " SQL_COLS ",doc FROM res WHERE ri=?1",
	[S_GET_CHILD] = "SELECT " SQL_COLS ",doc FROM res WHERE pid=?1 AND "
			"rn=?2",
	[S_NEWEST] = "SELECT " SQL_COLS ",doc FROM res WHERE pid=?1 AND ty=?2 "
		     "ORDER BY id DESC LIMIT 1",
	[S_OLDEST] = "SELECT " SQL_COLS ",doc FROM res WHERE pid=?1 AND ty=?2 "
		     "ORDER BY id ASC LIMIT 1",
	[S_INSERT] = "INSERT INTO res(" SQL_COLS ",doc) VALUES(?1,?2,?3,?4,"
		     "?5,?6,?7,?8,?9,?10,?11,?12,?13,0,?14)",
	[S_UPDATE] = "UPDATE res SET lt=?2,et=?3,cni=?4,cbs=?5,st=?6,doc=?7 "
		     "WHERE id=?1",
	[S_ADJUST] = "UPDATE res SET cni=cni+?2,cbs=cbs+?3,st=st+?4,"
		     "lt=CASE WHEN ?5>0 THEN ?5 ELSE lt END,"
		     "lid=CASE WHEN ?6>0 THEN ?6 WHEN ?6<0 AND lid=-?6 THEN 0 "
		     "ELSE lid END WHERE id=?1",
	[S_REMOVE] = "WITH RECURSIVE sub(id) AS (SELECT ?1 UNION ALL "
		     "SELECT r.id FROM res r JOIN sub ON r.pid=sub.id) "
		     "DELETE FROM res WHERE id IN sub",
	[S_CHILDREN] = "SELECT " SQL_COLS ",CASE WHEN ?3 THEN doc END FROM res "
		       "WHERE pid=?1 AND id>?2 ORDER BY id",
	[S_CHILDREN_DESC] = "SELECT " SQL_COLS ",CASE WHEN ?3 THEN doc END "
			    "FROM res WHERE pid=?1 AND (?2=0 OR id<?2) "
			    "ORDER BY id DESC",
	[S_CHILDREN_TY] = "SELECT " SQL_COLS ",CASE WHEN ?3 THEN doc END FROM "
			  "res WHERE pid=?1 AND ty=?4 AND id>?2 ORDER BY id",
	[S_COUNT] = "SELECT count(*) FROM res WHERE pid=?1 AND ty=?2",
	[S_COUNT_ALL] = "SELECT count(*) FROM res WHERE pid=?1",
	[S_EXPIRED] = "SELECT " SQL_COLS ",doc FROM res WHERE et IS NOT NULL "
		      "AND et<=?1 ORDER BY et LIMIT ?2",
	[S_NEXT_ET] = "SELECT min(et) FROM res WHERE et IS NOT NULL",
	[S_CRED_PUT] = "INSERT OR REPLACE INTO cred(orig,hash,created) "
		       "VALUES(?1,?2,?3)",
	[S_CRED_GET] = "SELECT hash FROM cred WHERE orig=?1",
	[S_CRED_DEL] = "DELETE FROM cred WHERE orig=?1",
	[S_PSK_PUT] = "INSERT OR REPLACE INTO psk(identity,orig,key,created) "
		      "VALUES(?1,?2,?3,?4)",
	[S_PSK_GET] = "SELECT key,orig FROM psk WHERE identity=?1",
	[S_PSK_DEL] = "DELETE FROM psk WHERE identity=?1",
	[S_PSK_LIST] = "SELECT identity,orig,created FROM psk ORDER BY identity",
	[S_META_GET] = "SELECT v FROM meta WHERE k=?1",
	[S_META_PUT] = "INSERT OR REPLACE INTO meta(k,v) VALUES(?1,?2)",
	[S_TLOG_PUT] = "INSERT INTO tlog(seq,nodes,entry) VALUES(?1,?2,?3)",
	[S_TLOG_GET] = "SELECT nodes,entry FROM tlog WHERE seq=?1",
	[S_TLOG_NODES] = "SELECT nodes FROM tlog WHERE seq=?1",
	[S_TLOG_SIZE] = "SELECT max(seq) FROM tlog",
	[S_TLOG_SCAN] = "SELECT seq,nodes,entry FROM tlog WHERE seq>=?1 "
			"ORDER BY seq",
	[S_HEAD_PUT] = "INSERT OR REPLACE INTO tlog_head(size,ts,root,sig) "
		       "VALUES(?1,?2,?3,?4)",
	[S_HEAD_GET] = "SELECT size,ts,root,sig FROM tlog_head WHERE size=?1",
	[S_HEAD_LAST] = "SELECT size,ts,root,sig FROM tlog_head "
			"ORDER BY size DESC LIMIT 1",
	[S_HEAD_SCAN] = "SELECT size,ts,root,sig FROM tlog_head ORDER BY size",
	[S_IDENT_PUT] = "INSERT OR REPLACE INTO ident(id,rec) VALUES(?1,?2)",
	[S_IDENT_GET] = "SELECT rec FROM ident WHERE id=?1",
	[S_IDENT_SCAN] = "SELECT id,rec FROM ident WHERE id>?1 ORDER BY id "
			 "LIMIT ?2",
	[S_ALIAS_ADD] = "INSERT OR IGNORE INTO ident_alias(alias,id) "
			"VALUES(?1,?2)",
	[S_ALIAS_GET] = "SELECT id FROM ident_alias WHERE alias=?1",
	[S_ALIAS_DEL] = "DELETE FROM ident_alias WHERE alias=?1",
	[S_SUB_PUT] = "INSERT INTO subscriber(impi,k,opc,sqn,amf,created,"
		      "device) VALUES(?1,?2,?3,?4,?5,?6,?7)",
	/* One row whether or not the IMPI exists (the last column says),
	 * so the BSF's lookup costs the same for both (pz_bsf.h). */
	[S_SUB_GET] = "SELECT k,opc,sqn,amf,created,device,1 FROM subscriber "
		      "WHERE impi=?1 UNION ALL SELECT zeroblob(16),"
		      "zeroblob(16),0,zeroblob(2),0,'',0 LIMIT 1",
	[S_SUB_SQN] = "UPDATE subscriber SET sqn=?2 WHERE impi=?1",
	[S_SUB_DEL] = "DELETE FROM subscriber WHERE impi=?1",
	[S_SUB_DEL_BOOT] = "DELETE FROM bootstrap WHERE impi=?1",
	[S_SUB_LIST] = "SELECT impi,sqn,amf,created,device FROM subscriber "
		       "ORDER BY impi",
	[S_BOOT_PUT] = "INSERT OR REPLACE INTO bootstrap(btid,impi,ks,rand,"
		       "expires) VALUES(?1,?2,?3,?4,?5)",
	[S_BOOT_GET] = "SELECT impi,ks,rand,expires FROM bootstrap "
		       "WHERE btid=?1",
	[S_BOOT_PURGE] = "DELETE FROM bootstrap WHERE expires<=?1",
};

static const char sql_schema_v1[] =
	"CREATE TABLE res("
	" id INTEGER PRIMARY KEY,"   /* creation order, never reused */
	" pid INTEGER NOT NULL,"     /* parent id, 0 for the CSEBase */
	" ty INTEGER NOT NULL,"
	" rn TEXT NOT NULL,"
	" ri TEXT,"                  /* only where not derived from id */
	" ct INTEGER NOT NULL,"
	" lt INTEGER NOT NULL,"
	" et INTEGER,"               /* NULL: never expires */
	" cs INTEGER NOT NULL DEFAULT 0,"
	" cni INTEGER NOT NULL DEFAULT 0,"
	" cbs INTEGER NOT NULL DEFAULT 0,"
	" st INTEGER NOT NULL DEFAULT 0,"
	" org TEXT,"                 /* creator originator */
	" lid INTEGER NOT NULL DEFAULT 0,"  /* container: latest instance */
	" doc TEXT NOT NULL);"
	"CREATE UNIQUE INDEX res_name ON res(pid, rn);"
	"CREATE INDEX res_type ON res(pid, ty);"
	"CREATE UNIQUE INDEX res_ri ON res(ri) WHERE ri IS NOT NULL;"
	"CREATE INDEX res_et ON res(et) WHERE et IS NOT NULL;"
	"CREATE TABLE cred(orig TEXT PRIMARY KEY, hash BLOB NOT NULL,"
	" created INTEGER NOT NULL);"
	"CREATE TABLE meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);"
	"CREATE TABLE psk(identity BLOB PRIMARY KEY, orig TEXT NOT NULL,"
	" key BLOB NOT NULL, created INTEGER NOT NULL);";

/* Version 2: the trust log (entries with the Merkle nodes their append
 * completed, signed heads) and identity records with their aliases. */
static const char sql_schema_v2[] =
	"CREATE TABLE tlog(seq INTEGER PRIMARY KEY,"
	" nodes BLOB NOT NULL,"      /* first, so proofs read only them */
	" entry BLOB NOT NULL);"
	"CREATE TABLE tlog_head(size INTEGER PRIMARY KEY, ts INTEGER NOT NULL,"
	" root BLOB NOT NULL, sig BLOB NOT NULL);"
	"CREATE TABLE ident(id TEXT PRIMARY KEY, rec TEXT NOT NULL);"
	"CREATE TABLE ident_alias(alias TEXT PRIMARY KEY, id TEXT NOT NULL);";

/* Version 3: the BSF's subscribers (K and OPc, the AKA secrets, and the
 * highest SQN issued, and the device identity its bootstraps are logged
 * under) and its bootstrapping contexts (Ks by B-TID).
 * IF NOT EXISTS: a database whose user_version was set back by hand
 * still opens. */
static const char sql_schema_v3[] =
	"CREATE TABLE IF NOT EXISTS subscriber(impi TEXT PRIMARY KEY,"
	" k BLOB NOT NULL, opc BLOB NOT NULL, sqn INTEGER NOT NULL,"
	" amf BLOB NOT NULL, created INTEGER NOT NULL,"
	" device TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE IF NOT EXISTS bootstrap(btid TEXT PRIMARY KEY,"
	" impi TEXT NOT NULL, ks BLOB NOT NULL, rand BLOB NOT NULL,"
	" expires INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS bootstrap_impi ON bootstrap(impi);"
	"CREATE INDEX IF NOT EXISTS bootstrap_exp ON bootstrap(expires);";

struct sql_store {
	struct pz_store base;        /* must be first */
	sqlite3 *db;                 /* owned */
	sqlite3_stmt *stmt[S_MAX];   /* owned, prepared at open */
	int64_t saved_last_id;       /* last_id as stored in meta */
	char *path;                  /* database file, owned */
	struct pz_buf scratch;       /* document text being written */
	pthread_t ckpt;              /* the checkpointer thread */
	bool ckpt_running;           /* ckpt was started */
	pthread_mutex_t mu;          /* guards the two flags below */
	pthread_cond_t cv;
	bool ckpt_want;              /* the WAL grew past SQL_CKPT_FRAMES */
	bool restart_due;            /* past SQL_RESTART_FRAMES (loop thread
					only) */
	bool ckpt_stop;              /* close: the thread must end */
};

#define SQL(st) ((struct sql_store *)(st))

static int sql_fail(struct sql_store *s, const char *what)
{
	pz_log(PZ_ERROR, "store", "sqlite %s: %s", what, sqlite3_errmsg(s->db));
	return PZ_ESTORE;
}

/* Run a statement that returns no rows; reset it afterwards. */
static int sql_step_done(struct sql_store *s, sqlite3_stmt *q,
			 const char *what)
{
	int r = sqlite3_step(q);

	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	if (r == SQLITE_DONE || r == SQLITE_ROW)
		return PZ_OK;
	if ((r & 0xff) == SQLITE_CONSTRAINT)
		return PZ_EEXIST;
	return sql_fail(s, what);
}

static int sql_exec(struct sql_store *s, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		pz_log(PZ_ERROR, "store", "sqlite: %s", msg ? msg : "error");
		sqlite3_free(msg);
		return PZ_ESTORE;
	}
	return PZ_OK;
}

static char *sql_text_dup(sqlite3_stmt *q, int col)
{
	const unsigned char *t = sqlite3_column_text(q, col);

	return t ? pz_strndup((const char *)t,
			      (size_t)sqlite3_column_bytes(q, col)) : NULL;
}

/* Fill res from the current row (columns SQL_COLS, then doc). */
static int sql_row(sqlite3_stmt *q, struct pz_res *res)
{
	pz_res_clear(res);
	res->id = sqlite3_column_int64(q, 0);
	res->pid = sqlite3_column_int64(q, 1);
	res->ty = sqlite3_column_int(q, 2);
	res->rn = sql_text_dup(q, 3);
	if (sqlite3_column_type(q, 4) != SQLITE_NULL)
		res->ri = sql_text_dup(q, 4);
	res->ct = sqlite3_column_int64(q, 5);
	res->lt = sqlite3_column_int64(q, 6);
	res->et = sqlite3_column_type(q, 7) == SQLITE_NULL ?
		  PZ_TIME_NEVER : sqlite3_column_int64(q, 7);
	res->cs = sqlite3_column_int64(q, 8);
	res->cni = sqlite3_column_int64(q, 9);
	res->cbs = sqlite3_column_int64(q, 10);
	res->st = sqlite3_column_int64(q, 11);
	if (sqlite3_column_type(q, 12) != SQLITE_NULL)
		res->org = sql_text_dup(q, 12);
	res->lid = sqlite3_column_int64(q, 13);
	if (sqlite3_column_type(q, 14) != SQLITE_NULL)
		res->doc_text = sql_text_dup(q, 14);
	if (!res->rn || (sqlite3_column_type(q, 4) != SQLITE_NULL && !res->ri) ||
	    (sqlite3_column_type(q, 12) != SQLITE_NULL && !res->org) ||
	    (sqlite3_column_type(q, 14) != SQLITE_NULL && !res->doc_text)) {
		pz_res_clear(res);
		return PZ_ENOMEM;
	}
	return PZ_OK;
}

/* Step a one-row lookup into out. */
static int sql_get_one(struct sql_store *s, sqlite3_stmt *q,
		       struct pz_res *out)
{
	int r = sqlite3_step(q), rc;

	if (r == SQLITE_ROW)
		rc = sql_row(q, out);
	else if (r == SQLITE_DONE)
		rc = PZ_ENOTFOUND;
	else
		rc = sql_fail(s, "lookup");
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return rc;
}

static int sql_migrate(struct sql_store *s)
{
	sqlite3_stmt *q;
	int version = 0, rc;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &q, NULL))
		return sql_fail(s, "user_version");
	if (sqlite3_step(q) == SQLITE_ROW)
		version = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	if (version == SQL_SCHEMA_VERSION)
		return PZ_OK;
	if (version > SQL_SCHEMA_VERSION) {
		pz_log(PZ_ERROR, "store", "database schema %d is newer than "
		       "this plazad (%d); refusing to open", version,
		       SQL_SCHEMA_VERSION);
		return PZ_ESTORE;
	}
	/* version 0: a new database (or one that is not ours); each step
	 * up to the current version runs in the same transaction. */
	rc = sql_exec(s, "BEGIN IMMEDIATE");
	if (rc == PZ_OK && version < 1)
		rc = sql_exec(s, sql_schema_v1);
	if (rc == PZ_OK && version < 2)
		rc = sql_exec(s, sql_schema_v2);
	if (rc == PZ_OK && version < 3)
		rc = sql_exec(s, sql_schema_v3);
	if (rc == PZ_OK)
		rc = sql_exec(s, "PRAGMA user_version=3; COMMIT");
	if (rc != PZ_OK)
		sql_exec(s, "ROLLBACK");
	else if (version > 0)
		pz_log(PZ_INFO, "store", "database schema migrated from "
		       "version %d to %d", version, SQL_SCHEMA_VERSION);
	return rc;
}

static int sql_load_last_id(struct sql_store *s)
{
	sqlite3_stmt *q;
	int64_t max_id = 0, meta_id = 0;
	char *v = NULL;

	if (sqlite3_prepare_v2(s->db, "SELECT max(id) FROM res", -1, &q, NULL))
		return sql_fail(s, "max id");
	if (sqlite3_step(q) == SQLITE_ROW)
		max_id = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	if (s->base.ops->meta_get(&s->base, "last_id", &v) == PZ_OK) {
		meta_id = strtoll(v, NULL, 10);
		pz_free(v);
	}
	s->base.last_id = max_id > meta_id ? max_id : meta_id;
	s->saved_last_id = meta_id;
	return PZ_OK;
}

/* --- checkpointer --------------------------------------------------------- */

static void *sql_ckpt_main(void *arg)
{
	struct sql_store *s = arg;
	sqlite3 *db = NULL;
	struct timespec ts;

	if (sqlite3_open_v2(s->path, &db, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		pz_log(PZ_ERROR, "store", "checkpointer cannot open %s",
		       s->path);
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 1000);
	/* A connection learns that the file is in WAL mode when it first
	 * reads it; until then a checkpoint does nothing. */
	sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL,
		     NULL);
	pthread_mutex_lock(&s->mu);
	while (!s->ckpt_stop) {
		if (!s->ckpt_want) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&s->cv, &s->mu, &ts);
		}
		if (s->ckpt_stop)
			break;
		s->ckpt_want = false;
		pthread_mutex_unlock(&s->mu);
		/* PASSIVE never blocks the writer. */
		sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE,
					  NULL, NULL);
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	sqlite3_close(db);
	return NULL;
}

/* Called by SQLite on the loop thread after each commit. */
static int sql_wal_hook(void *ud, sqlite3 *db, const char *name, int frames)
{
	struct sql_store *s = ud;

	(void)db;
	(void)name;
	if (frames >= SQL_RESTART_FRAMES)
		s->restart_due = true;
	if (frames >= SQL_CKPT_FRAMES) {
		pthread_mutex_lock(&s->mu);
		s->ckpt_want = true;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
	}
	return SQLITE_OK;
}

static int sql_ckpt_start(struct sql_store *s)
{
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if (pthread_create(&s->ckpt, NULL, sql_ckpt_main, s) != 0) {
		pz_log(PZ_ERROR, "store", "cannot start the checkpointer");
		return PZ_EIO;
	}
	s->ckpt_running = true;
	/* wal_autocheckpoint is itself a WAL hook: turn it off first, or it
	 * would replace ours. */
	if (sql_exec(s, "PRAGMA wal_autocheckpoint=0") != PZ_OK)
		return PZ_ESTORE;
	sqlite3_wal_hook(s->db, sql_wal_hook, s);
	return PZ_OK;
}

static void sql_ckpt_stop(struct sql_store *s)
{
	if (!s->ckpt_running)
		return;
	pthread_mutex_lock(&s->mu);
	s->ckpt_stop = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->ckpt, NULL);
	s->ckpt_running = false;
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
}

static void sql_close(pz_store *st)
{
	struct sql_store *s = SQL(st);

	sql_ckpt_stop(s);
	for (int i = 0; i < S_MAX; i++)
		sqlite3_finalize(s->stmt[i]);
	sqlite3_close(s->db);
	pz_buf_free(&s->scratch);
	pz_free(s->path);
	pz_free(s);
}

/* SQLite keeps allocation statistics behind a global mutex, taken on
 * every allocation; plaza does not read them. */
static void sql_global_setup(void)
{
	static int done;

	if (!done) {
		sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
		done = 1;
	}
}

static int sql_open(const char *path, const struct pz_store_opts *opts,
		    pz_store **out)
{
	struct sql_store *s;
	char pragmas[256];
	int rc = PZ_OK;

	sql_global_setup();
	s = pz_calloc(1, sizeof(*s));
	if (!s)
		return PZ_ENOMEM;
	s->base.ops = &pz_store__sqlite_ops;
	pz_buf_init(&s->scratch, 0);
	s->path = pz_strdup(path);
	if (!s->path) {
		pz_free(s);
		return PZ_ENOMEM;
	}
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		pz_log(PZ_ERROR, "store", "cannot open %s: %s", path,
		       s->db ? sqlite3_errmsg(s->db) : "out of memory");
		rc = PZ_EIO;
		goto out;
	}
	sqlite3_busy_timeout(s->db, opts && opts->busy_ms ?
			     (int)opts->busy_ms : 5000);
	snprintf(pragmas, sizeof(pragmas),
		 "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s;"
		 "PRAGMA cache_size=-%lld; PRAGMA temp_store=MEMORY;"
		 "PRAGMA foreign_keys=OFF;",
		 opts && opts->sync_full ? "FULL" : "NORMAL",
		 (long long)(opts && opts->cache_kb ? opts->cache_kb : 32768));
	rc = sql_exec(s, pragmas);
	if (rc == PZ_OK)
		rc = sql_migrate(s);
	for (int i = 0; rc == PZ_OK && i < S_MAX; i++) {
		if (sqlite3_prepare_v3(s->db, sql_text[i], -1,
				       SQLITE_PREPARE_PERSISTENT, &s->stmt[i],
				       NULL) != SQLITE_OK)
			rc = sql_fail(s, sql_text[i]);
	}
	if (rc == PZ_OK)
		rc = sql_load_last_id(s);
	if (rc == PZ_OK)
		rc = sql_ckpt_start(s);
out:
	if (rc != PZ_OK) {
		sql_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return PZ_OK;
}

static int sql_simple(pz_store *st, int which)
{
	return sql_step_done(SQL(st), SQL(st)->stmt[which], sql_text[which]);
}

static int sql_begin(pz_store *st)
{
	return sql_simple(st, S_BEGIN);
}

static int sql_meta_put(pz_store *st, const char *key, const char *val);

static int sql_commit(pz_store *st)
{
	struct sql_store *s = SQL(st);
	char v[32];
	int rc;

	/* Persist the id high-water mark so ids are never reused even when
	 * the newest rows are deleted before a restart. */
	if (s->base.last_id > s->saved_last_id) {
		snprintf(v, sizeof(v), "%lld", (long long)s->base.last_id);
		rc = sql_meta_put(st, "last_id", v);
		if (rc != PZ_OK)
			return rc;
	}
	rc = sql_simple(st, S_COMMIT);
	if (rc == PZ_OK)
		s->saved_last_id = s->base.last_id;
	if (rc == PZ_OK && s->restart_due) {
		s->restart_due = false;
		sqlite3_wal_checkpoint_v2(s->db, NULL,
					  SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	}
	return rc;
}

static int sql_rollback(pz_store *st)
{
	return sql_simple(st, S_ROLLBACK);
}

static int sql_savepoint(pz_store *st)
{
	return sql_simple(st, S_SAVE);
}

static int sql_release(pz_store *st)
{
	return sql_simple(st, S_RELEASE);
}

static int sql_rollback_to(pz_store *st)
{
	int rc = sql_simple(st, S_ROLLBACK_TO);

	/* ROLLBACK TO keeps the savepoint open; close it. */
	if (rc == PZ_OK)
		rc = sql_simple(st, S_RELEASE);
	return rc;
}

static int sql_get(pz_store *st, int64_t id, struct pz_res *out)
{
	sqlite3_stmt *q = SQL(st)->stmt[S_GET];

	sqlite3_bind_int64(q, 1, id);
	return sql_get_one(SQL(st), q, out);
}

static int sql_get_ri(pz_store *st, const char *ri, struct pz_res *out)
{
	sqlite3_stmt *q = SQL(st)->stmt[S_GET_RI];

	sqlite3_bind_text(q, 1, ri, -1, SQLITE_STATIC);
	return sql_get_one(SQL(st), q, out);
}

static int sql_get_child(pz_store *st, int64_t pid, const char *rn,
			 struct pz_res *out)
{
	sqlite3_stmt *q = SQL(st)->stmt[S_GET_CHILD];

	sqlite3_bind_int64(q, 1, pid);
	sqlite3_bind_text(q, 2, rn, -1, SQLITE_STATIC);
	return sql_get_one(SQL(st), q, out);
}

static int sql_edge(pz_store *st, int64_t pid, int ty, bool newest,
		    struct pz_res *out)
{
	sqlite3_stmt *q = SQL(st)->stmt[newest ? S_NEWEST : S_OLDEST];

	sqlite3_bind_int64(q, 1, pid);
	sqlite3_bind_int(q, 2, ty);
	return sql_get_one(SQL(st), q, out);
}

/* The document as text, in the store's reusable buffer (valid until the
 * next call). */
static int sql_doc_text(struct sql_store *s, json_t *doc, char **text)
{
	int rc;

	pz_buf_reset(&s->scratch);
	rc = doc ? pz_codec_encode(PZ_FMT_JSON, doc, &s->scratch) :
	     pz_buf_adds(&s->scratch, "{}");
	if (rc == PZ_OK && !s->scratch.data)
		rc = pz_buf_adds(&s->scratch, "{}");
	*text = s->scratch.data;
	return rc;
}

static int sql_insert(pz_store *st, struct pz_res *res)
{
	struct sql_store *s = SQL(st);
	sqlite3_stmt *q = s->stmt[S_INSERT];
	char *text = res->doc_text;
	int64_t id = res->id;
	int rc;

	if (!text) {
		rc = sql_doc_text(s, res->doc, &text);
		if (rc != PZ_OK)
			return rc;
	}
	if (!id)
		id = st->last_id + 1;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, res->pid);
	sqlite3_bind_int(q, 3, res->ty);
	sqlite3_bind_text(q, 4, res->rn, -1, SQLITE_STATIC);
	if (res->ri)
		sqlite3_bind_text(q, 5, res->ri, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, 5);
	sqlite3_bind_int64(q, 6, res->ct);
	sqlite3_bind_int64(q, 7, res->lt);
	if (res->et == PZ_TIME_NEVER)
		sqlite3_bind_null(q, 8);
	else
		sqlite3_bind_int64(q, 8, res->et);
	sqlite3_bind_int64(q, 9, res->cs);
	sqlite3_bind_int64(q, 10, res->cni);
	sqlite3_bind_int64(q, 11, res->cbs);
	sqlite3_bind_int64(q, 12, res->st);
	if (res->org)
		sqlite3_bind_text(q, 13, res->org, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, 13);
	sqlite3_bind_text(q, 14, text, -1, SQLITE_STATIC);
	rc = sql_step_done(s, q, "insert");
	if (rc == PZ_OK) {
		res->id = id;
		if (id > st->last_id)
			st->last_id = id;
		/* Outside a batch nothing else records the high-water mark. */
		if (st->depth == 0 && st->last_id > s->saved_last_id) {
			char v[32];

			snprintf(v, sizeof(v), "%lld", (long long)st->last_id);
			if (sql_meta_put(st, "last_id", v) == PZ_OK)
				s->saved_last_id = st->last_id;
		}
	}
	return rc;
}

static int sql_update(pz_store *st, struct pz_res *res)
{
	struct sql_store *s = SQL(st);
	sqlite3_stmt *q = s->stmt[S_UPDATE];
	char *text = res->doc_text;
	int rc;

	if (res->doc) {
		rc = sql_doc_text(s, res->doc, &text);
		if (rc != PZ_OK)
			return rc;
	}
	if (!text)
		return PZ_EINVAL;
	sqlite3_bind_int64(q, 1, res->id);
	sqlite3_bind_int64(q, 2, res->lt);
	if (res->et == PZ_TIME_NEVER)
		sqlite3_bind_null(q, 3);
	else
		sqlite3_bind_int64(q, 3, res->et);
	sqlite3_bind_int64(q, 4, res->cni);
	sqlite3_bind_int64(q, 5, res->cbs);
	sqlite3_bind_int64(q, 6, res->st);
	sqlite3_bind_text(q, 7, text, -1, SQLITE_STATIC);
	rc = sql_step_done(s, q, "update");
	if (rc == PZ_OK && sqlite3_changes(s->db) == 0)
		rc = PZ_ENOTFOUND;
	return rc;
}

static int sql_adjust(pz_store *st, int64_t id, int64_t dcni, int64_t dcbs,
		      int64_t dst, int64_t lt, int64_t latest)
{
	struct sql_store *s = SQL(st);
	sqlite3_stmt *q = s->stmt[S_ADJUST];
	int rc;

	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, dcni);
	sqlite3_bind_int64(q, 3, dcbs);
	sqlite3_bind_int64(q, 4, dst);
	sqlite3_bind_int64(q, 5, lt);
	sqlite3_bind_int64(q, 6, latest);
	rc = sql_step_done(s, q, "adjust");
	if (rc == PZ_OK && sqlite3_changes(s->db) == 0)
		rc = PZ_ENOTFOUND;
	return rc;
}

static int sql_remove(pz_store *st, int64_t id)
{
	sqlite3_stmt *q = SQL(st)->stmt[S_REMOVE];

	sqlite3_bind_int64(q, 1, id);
	return sql_step_done(SQL(st), q, "remove");
}

/* Iterate the rows of q into cb. */
static int sql_iterate(struct sql_store *s, sqlite3_stmt *q,
		       pz_store_each_cb cb, void *ud)
{
	struct pz_res res;
	int r, rc = PZ_OK;

	pz_res_init(&res);
	while ((r = sqlite3_step(q)) == SQLITE_ROW) {
		rc = sql_row(q, &res);
		if (rc != PZ_OK || cb(ud, &res))
			break;
	}
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		rc = sql_fail(s, "scan");
	pz_res_clear(&res);
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return rc;
}

/* Searches without a prepared statement: several types, or below the
 * children.  The SQL is built per call (not a hot path). */
static int sql_find_deep(struct sql_store *s, const struct pz_store_q *q,
			 pz_store_each_cb cb, void *ud)
{
	char sql[1024], types[512] = "";
	sqlite3_stmt *stmt;
	size_t off = 0;
	int rc;

	for (int i = 0; i < q->nty && off < sizeof(types) - 16; i++)
		off += (size_t)snprintf(types + off, sizeof(types) - off,
					"%s%d", i ? "," : "", q->ty[i]);
	if (q->lvl == 1)
		snprintf(sql, sizeof(sql),
			 "SELECT " SQL_COLS ",CASE WHEN ?3 THEN doc END FROM res "
			 "WHERE pid=?1 %s%s%s AND (?2=0 OR id%s?2) ORDER BY id%s",
			 q->nty ? "AND ty IN (" : "", types, q->nty ? ")" : "",
			 q->newest_first ? "<" : ">",
			 q->newest_first ? " DESC" : "");
	else
		snprintf(sql, sizeof(sql),
			 "WITH RECURSIVE sub(id, d) AS (SELECT id, 1 FROM res "
			 "WHERE pid=?1 UNION ALL SELECT r.id, sub.d+1 FROM res r "
			 "JOIN sub ON r.pid=sub.id WHERE ?4=0 OR sub.d<?4) "
			 "SELECT " SQL_COLS ",CASE WHEN ?3 THEN doc END FROM sub "
			 "JOIN res USING(id) WHERE (?2=0 OR id>?2) %s%s%s "
			 "ORDER BY d, id", q->nty ? "AND ty IN (" : "", types,
			 q->nty ? ")" : "");
	if (sqlite3_prepare_v2(s->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return sql_fail(s, "find");
	sqlite3_bind_int64(stmt, 1, q->root);
	sqlite3_bind_int64(stmt, 2, q->after_id);
	sqlite3_bind_int(stmt, 3, q->with_doc);
	if (q->lvl != 1)
		sqlite3_bind_int64(stmt, 4, q->lvl);
	rc = sql_iterate(s, stmt, cb, ud);
	sqlite3_finalize(stmt);
	return rc;
}

static int sql_find(pz_store *st, const struct pz_store_q *q,
		    pz_store_each_cb cb, void *ud)
{
	struct sql_store *s = SQL(st);
	sqlite3_stmt *stmt;

	if (q->lvl != 1 || q->nty > 1 || (q->nty == 1 && q->newest_first))
		return sql_find_deep(s, q, cb, ud);
	stmt = s->stmt[q->nty ? S_CHILDREN_TY : q->newest_first ?
		       S_CHILDREN_DESC : S_CHILDREN];
	if (q->nty)
		sqlite3_bind_int(stmt, 4, q->ty[0]);
	sqlite3_bind_int64(stmt, 1, q->root);
	sqlite3_bind_int64(stmt, 2, q->after_id);
	sqlite3_bind_int(stmt, 3, q->with_doc);
	return sql_iterate(s, stmt, cb, ud);
}

static int sql_count(pz_store *st, int64_t pid, int ty, int64_t *n)
{
	struct sql_store *s = SQL(st);
	sqlite3_stmt *q = s->stmt[ty ? S_COUNT : S_COUNT_ALL];
	int r;

	sqlite3_bind_int64(q, 1, pid);
	if (ty)
		sqlite3_bind_int(q, 2, ty);
	r = sqlite3_step(q);
	*n = r == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return r == SQLITE_ROW ? PZ_OK : sql_fail(s, "count");
}

static int sql_expired(pz_store *st, int64_t now, int64_t limit,
		       pz_store_each_cb cb, void *ud)
{
	sqlite3_stmt *q = SQL(st)->stmt[S_EXPIRED];

	sqlite3_bind_int64(q, 1, now);
	sqlite3_bind_int64(q, 2, limit);
	return sql_iterate(SQL(st), q, cb, ud);
}

static int sql_next_expiry(pz_store *st, int64_t *et)
{
	struct sql_store *s = SQL(st);
	sqlite3_stmt *q = s->stmt[S_NEXT_ET];
	int r = sqlite3_step(q);

	*et = r == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL ?
	      sqlite3_column_int64(q, 0) : PZ_TIME_NEVER;
	sqlite3_reset(q);
	return r == SQLITE_ROW ? PZ_OK : sql_fail(s, "next expiry");
}

static int sql_cred_put(pz_store *st, const char *orig, const uint8_t *hash,
			size_t len)
{
	sqlite3_stmt *q = SQL(st)->stmt[S_CRED_PUT];

	sqlite3_bind_text(q, 1, orig, -1, SQLITE_STATIC);
	sqlite3_bind_blob(q, 2, hash, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, pz_time_now());
	return sql_step_done(SQL(st), q, "cred put");
}

static int sql_cred_get(pz_store *st, const char *orig, uint8_t *hash,
			size_t *len)
{
	struct sql_store *s = SQL(st);
	sqlite3_stmt *q = s->stmt[S_CRED_GET];
	int r, rc = PZ_OK;

	sqlite3_bind_text(q, 1, orig, -1, SQLITE_STATIC);
	r = sqlite3_step(q);
	if (r == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(q, 0);

		if (n > *len) {
			rc = PZ_ETOOBIG;
		} else {
			memcpy(hash, sqlite3_column_blob(q, 0), n);
			*len = n;
		}
	} else {
		rc = r == SQLITE_DONE ? PZ_ENOTFOUND : sql_fail(s, "cred get");
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return rc;
}

static int sql_cred_del(pz_store *st, const char *orig)
{
	sqlite3_stmt *q = SQL(st)->stmt[S_CRED_DEL];

	sqlite3_bind_text(q, 1, orig, -1, SQLITE_STATIC);
	return sql_step_done(SQL(st), q, "cred del");
}

static int sql_psk_put(pz_store *st, const char *identity, const char *orig,
		       const uint8_t *key, size_t len)
{
	sqlite3_stmt *q = SQL(st)->stmt[S_PSK_PUT];

	sqlite3_bind_text(q, 1, identity, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, orig, -1, SQLITE_STATIC);
	sqlite3_bind_blob(q, 3, key, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, pz_time_now());
	return sql_step_done(SQL(st), q, "psk put");
}

static int sql_psk_get(pz_store *st, const char *identity, uint8_t *key,
		       size_t *len, char **orig)
{
	struct sql_store *s = SQL(st);
	sqlite3_stmt *q = s->stmt[S_PSK_GET];
	int r, rc = PZ_OK;

	sqlite3_bind_text(q, 1, identity, -1, SQLITE_STATIC);
	r = sqlite3_step(q);
	if (r == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(q, 0);

		if (n > *len) {
			rc = PZ_ETOOBIG;
		} else {
			memcpy(key, sqlite3_column_blob(q, 0), n);
			*len = n;
			*orig = sql_text_dup(q, 1);
			if (!*orig)
				rc = PZ_ENOMEM;
		}
	} else {
		rc = r == SQLITE_DONE ? PZ_ENOTFOUND : sql_fail(s, "psk get");
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return rc;
}

static int sql_psk_del(pz_store *st, const char *identity)
{
	struct sql_store *s = SQL(st);
	sqlite3_stmt *q = s->stmt[S_PSK_DEL];
	int rc;

	sqlite3_bind_text(q, 1, identity, -1, SQLITE_STATIC);
	rc = sql_step_done(s, q, "psk del");
	if (rc == PZ_OK && sqlite3_changes(s->db) == 0)
		rc = PZ_ENOTFOUND;
	return rc;
}

static int sql_psk_list(pz_store *st,
			int (*cb)(void *ud, const char *identity,
				  const char *orig, int64_t created),
			void *ud)
{
	struct sql_store *s = SQL(st);
	sqlite3_stmt *q = s->stmt[S_PSK_LIST];
	int r;

	while ((r = sqlite3_step(q)) == SQLITE_ROW) {
		if (cb(ud, (const char *)sqlite3_column_text(q, 0),
		       (const char *)sqlite3_column_text(q, 1),
		       sqlite3_column_int64(q, 2)))
			break;
	}
	sqlite3_reset(q);
	return r == SQLITE_ROW || r == SQLITE_DONE ? PZ_OK :
	       sql_fail(s, "psk list");
}

static int sql_meta_get(pz_store *st, const char *key, char **val)
{
	struct sql_store *s = SQL(st);
	sqlite3_stmt *q = s->stmt[S_META_GET];
	int r, rc;

	if (!q) {
		/* During open, before statements exist. */
		if (sqlite3_prepare_v2(s->db, sql_text[S_META_GET], -1, &q,
				       NULL))
			return sql_fail(s, "meta");
	}
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	r = sqlite3_step(q);
	if (r == SQLITE_ROW) {
		*val = sql_text_dup(q, 0);
		rc = *val ? PZ_OK : PZ_ENOMEM;
	} else {
		rc = r == SQLITE_DONE ? PZ_ENOTFOUND : sql_fail(s, "meta get");
	}
	if (q == s->stmt[S_META_GET]) {
		sqlite3_reset(q);
		sqlite3_clear_bindings(q);
	} else {
		sqlite3_finalize(q);
	}
	return rc;
}

static int sql_meta_put(pz_store *st, const char *key, const char *val)
{
	sqlite3_stmt *q = SQL(st)->stmt[S_META_PUT];

	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, val, -1, SQLITE_STATIC);
	return sql_step_done(SQL(st), q, "meta put");
}

/* --- trust log ----------------------------------------------------------- */

static int sql_tlog_append(pz_store *st, uint64_t seq, const uint8_t *entry,
			   size_t len, const uint8_t *nodes, size_t nlen)
{
	sqlite3_stmt *q = SQL(st)->stmt[S_TLOG_PUT];

	sqlite3_bind_int64(q, 1, (int64_t)seq);
	sqlite3_bind_blob(q, 2, nodes, (int)nlen, SQLITE_STATIC);
	sqlite3_bind_blob(q, 3, entry, (int)len, SQLITE_STATIC);
	return sql_step_done(SQL(st), q, "tlog append");
}

/* Copy a blob column into (buf, *len room); PZ_ETOOBIG if it does not fit. */
static int sql_blob_into(sqlite3_stmt *q, int col, uint8_t *buf, size_t *len)
{
	size_t n = (size_t)sqlite3_column_bytes(q, col);

	if (n > *len)
		return PZ_ETOOBIG;
	if (n)
		memcpy(buf, sqlite3_column_blob(q, col), n);
	*len = n;
	return PZ_OK;
}

static int sql_tlog_get(pz_store *st, uint64_t seq, uint8_t **entry,
			size_t *len, uint8_t *nodes, size_t *nlen)
{
	struct sql_store *s = SQL(st);
	sqlite3_stmt *q = s->stmt[entry ? S_TLOG_GET : S_TLOG_NODES];
	int r, rc = PZ_OK;

	sqlite3_bind_int64(q, 1, (int64_t)seq);
	r = sqlite3_step(q);
	if (r == SQLITE_ROW) {
		rc = nodes ? sql_blob_into(q, 0, nodes, nlen) : PZ_OK;
		if (rc == PZ_OK && entry) {
			size_t n = (size_t)sqlite3_column_bytes(q, 1);

			*entry = pz_malloc(n ? n : 1);
			if (!*entry) {
				rc = PZ_ENOMEM;
			} else {
				if (n)
					memcpy(*entry, sqlite3_column_blob(q, 1),
					       n);
				*len = n;
			}
		}
	} else {
		rc = r == SQLITE_DONE ? PZ_ENOTFOUND : sql_fail(s, "tlog get");
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return rc;
}

static int sql_tlog_size(pz_store *st, uint64_t *n)
{
	struct sql_store *s = SQL(st);
	sqlite3_stmt *q = s->stmt[S_TLOG_SIZE];
	int r = sqlite3_step(q);

	if (r == SQLITE_ROW)
		*n = sqlite3_column_type(q, 0) == SQLITE_NULL ? 0 :
		     (uint64_t)sqlite3_column_int64(q, 0) + 1;
	sqlite3_reset(q);
	return r == SQLITE_ROW ? PZ_OK : sql_fail(s, "tlog size");
}

static int sql_tlog_scan(pz_store *st, uint64_t from, pz_store_tlog_cb cb,
			 void *ud)
{
	struct sql_store *s = SQL(st);
	sqlite3_stmt *q = s->stmt[S_TLOG_SCAN];
	int r;

	sqlite3_bind_int64(q, 1, (int64_t)from);
	while ((r = sqlite3_step(q)) == SQLITE_ROW) {
		if (cb(ud, (uint64_t)sqlite3_column_int64(q, 0),
		       sqlite3_column_blob(q, 2),
		       (size_t)sqlite3_column_bytes(q, 2),
		       sqlite3_column_blob(q, 1),
		       (size_t)sqlite3_column_bytes(q, 1)))
			break;
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return r == SQLITE_ROW || r == SQLITE_DONE ? PZ_OK :
	       sql_fail(s, "tlog scan");
}

static int sql_head_put(pz_store *st, const struct pz_store_head *h)
{
	sqlite3_stmt *q = SQL(st)->stmt[S_HEAD_PUT];

	sqlite3_bind_int64(q, 1, (int64_t)h->size);
	sqlite3_bind_int64(q, 2, h->ts);
	sqlite3_bind_blob(q, 3, h->root, sizeof(h->root), SQLITE_STATIC);
	sqlite3_bind_blob(q, 4, h->sig, sizeof(h->sig), SQLITE_STATIC);
	return sql_step_done(SQL(st), q, "head put");
}

/* Fill h from a (size, ts, root, sig) row; PZ_ESTORE if malformed. */
static int sql_head_row(sqlite3_stmt *q, struct pz_store_head *h)
{
	size_t rl = sizeof(h->root), sl = sizeof(h->sig);

	h->size = (uint64_t)sqlite3_column_int64(q, 0);
	h->ts = sqlite3_column_int64(q, 1);
	if (sql_blob_into(q, 2, h->root, &rl) != PZ_OK ||
	    rl != sizeof(h->root) ||
	    sql_blob_into(q, 3, h->sig, &sl) != PZ_OK || sl != sizeof(h->sig)) {
		pz_log(PZ_ERROR, "store", "tree head %llu is malformed",
		       (unsigned long long)h->size);
		return PZ_ESTORE;
	}
	return PZ_OK;
}

static int sql_head_get(pz_store *st, uint64_t size, struct pz_store_head *h)
{
	struct sql_store *s = SQL(st);
	sqlite3_stmt *q = s->stmt[size == UINT64_MAX ? S_HEAD_LAST :
					   S_HEAD_GET];
	int r, rc;

	if (size != UINT64_MAX)
		sqlite3_bind_int64(q, 1, (int64_t)size);
	r = sqlite3_step(q);
	if (r == SQLITE_ROW)
		rc = sql_head_row(q, h);
	else
		rc = r == SQLITE_DONE ? PZ_ENOTFOUND : sql_fail(s, "head get");
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return rc;
}

static int sql_head_scan(pz_store *st, pz_store_head_cb cb, void *ud)
{
	struct sql_store *s = SQL(st);
	sqlite3_stmt *q = s->stmt[S_HEAD_SCAN];
	struct pz_store_head h;
	int r, rc = PZ_OK;

	while ((r = sqlite3_step(q)) == SQLITE_ROW) {
		rc = sql_head_row(q, &h);
		if (rc != PZ_OK || cb(ud, &h))
			break;
	}
	sqlite3_reset(q);
	if (rc != PZ_OK)
		return rc;
	return r == SQLITE_ROW || r == SQLITE_DONE ? PZ_OK :
	       sql_fail(s, "head scan");
}

/* --- identities ---------------------------------------------------------- */

static int sql_ident_put(pz_store *st, const char *id, const char *rec)
{
	sqlite3_stmt *q = SQL(st)->stmt[S_IDENT_PUT];

	sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, rec, -1, SQLITE_STATIC);
	return sql_step_done(SQL(st), q, "ident put");
}

/* One text column of a one-row lookup by a text key, pz_malloc'd. */
static int sql_text_lookup(struct sql_store *s, int which, const char *key,
			   char **out)
{
	sqlite3_stmt *q = s->stmt[which];
	int r, rc;

	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	r = sqlite3_step(q);
	if (r == SQLITE_ROW) {
		*out = sql_text_dup(q, 0);
		rc = *out ? PZ_OK : PZ_ENOMEM;
	} else {
		rc = r == SQLITE_DONE ? PZ_ENOTFOUND :
		     sql_fail(s, sql_text[which]);
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return rc;
}

static int sql_ident_get(pz_store *st, const char *id, char **rec)
{
	return sql_text_lookup(SQL(st), S_IDENT_GET, id, rec);
}

static int sql_ident_scan(pz_store *st, const char *after, unsigned limit,
			  pz_store_ident_cb cb, void *ud)
{
	struct sql_store *s = SQL(st);
	sqlite3_stmt *q = s->stmt[S_IDENT_SCAN];
	int r;

	sqlite3_bind_text(q, 1, after ? after : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, (int64_t)limit);
	while ((r = sqlite3_step(q)) == SQLITE_ROW)
		if (cb(ud, (const char *)sqlite3_column_text(q, 0),
		       (const char *)sqlite3_column_text(q, 1)))
			break;
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return r == SQLITE_ROW || r == SQLITE_DONE ? PZ_OK :
	       sql_fail(s, "ident scan");
}

static int sql_alias_get(pz_store *st, const char *alias, char **id)
{
	return sql_text_lookup(SQL(st), S_ALIAS_GET, alias, id);
}

static int sql_alias_put(pz_store *st, const char *alias, const char *id)
{
	struct sql_store *s = SQL(st);
	sqlite3_stmt *q = s->stmt[S_ALIAS_ADD];
	char *have = NULL;
	int rc;

	sqlite3_bind_text(q, 1, alias, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, id, -1, SQLITE_STATIC);
	rc = sql_step_done(s, q, "alias put");
	if (rc != PZ_OK || sqlite3_changes(s->db) > 0)
		return rc;
	/* Already there: fine if it names the same identity. */
	rc = sql_alias_get(st, alias, &have);
	if (rc == PZ_OK && strcmp(have, id) != 0)
		rc = PZ_EEXIST;
	pz_free(have);
	return rc;
}

static int sql_alias_del(pz_store *st, const char *alias)
{
	struct sql_store *s = SQL(st);
	sqlite3_stmt *q = s->stmt[S_ALIAS_DEL];
	int rc;

	sqlite3_bind_text(q, 1, alias, -1, SQLITE_STATIC);
	rc = sql_step_done(s, q, "alias del");
	if (rc == PZ_OK && sqlite3_changes(s->db) == 0)
		rc = PZ_ENOTFOUND;
	return rc;
}

/* --- the BSF's subscribers and bootstrapping contexts ------------------ */

/* Copy a blob column of exactly n octets into out; PZ_ESTORE otherwise. */
static int sql_blob(struct sql_store *s, sqlite3_stmt *q, int col,
		    uint8_t *out, size_t n)
{
	if ((size_t)sqlite3_column_bytes(q, col) != n) {
		pz_log(PZ_ERROR, "store", "corrupt key column in %s",
		       s->path);
		return PZ_ESTORE;
	}
	memcpy(out, sqlite3_column_blob(q, col), n);
	return PZ_OK;
}

static int sql_sub_put(pz_store *st, const struct pz_store_sub *sub)
{
	sqlite3_stmt *q = SQL(st)->stmt[S_SUB_PUT];

	sqlite3_bind_text(q, 1, sub->impi, -1, SQLITE_STATIC);
	sqlite3_bind_blob(q, 2, sub->k, sizeof(sub->k), SQLITE_STATIC);
	sqlite3_bind_blob(q, 3, sub->opc, sizeof(sub->opc), SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, (int64_t)sub->sqn);
	sqlite3_bind_blob(q, 5, sub->amf, sizeof(sub->amf), SQLITE_STATIC);
	sqlite3_bind_int64(q, 6, pz_time_now());
	sqlite3_bind_text(q, 7, sub->device, -1, SQLITE_STATIC);
	return sql_step_done(SQL(st), q, "subscriber put");
}

static int sql_sub_get(pz_store *st, const char *impi,
		       struct pz_store_sub *out)
{
	struct sql_store *s = SQL(st);
	sqlite3_stmt *q = s->stmt[S_SUB_GET];
	int r, rc = PZ_OK;

	memset(out, 0, sizeof(*out));
	if (strlen(impi) > PZ_STORE_IMPI_MAX)
		return PZ_ENOTFOUND;
	sqlite3_bind_text(q, 1, impi, -1, SQLITE_STATIC);
	r = sqlite3_step(q);
	if (r == SQLITE_ROW) {
		/* The same reads for a real row and the stand-in. */
		memcpy(out->impi, impi, strlen(impi) + 1);
		rc = sql_blob(s, q, 0, out->k, sizeof(out->k));
		if (rc == PZ_OK)
			rc = sql_blob(s, q, 1, out->opc, sizeof(out->opc));
		if (rc == PZ_OK)
			rc = sql_blob(s, q, 3, out->amf, sizeof(out->amf));
		out->sqn = (uint64_t)sqlite3_column_int64(q, 2);
		out->created = sqlite3_column_int64(q, 4);
		if (rc == PZ_OK && (size_t)sqlite3_column_bytes(q, 5) >=
		    sizeof(out->device))
			rc = sql_fail(s, "subscriber get");
		else if (rc == PZ_OK && sqlite3_column_text(q, 5))
			memcpy(out->device, sqlite3_column_text(q, 5),
			       (size_t)sqlite3_column_bytes(q, 5));
		if (rc == PZ_OK && !sqlite3_column_int(q, 6))
			rc = PZ_ENOTFOUND;
	} else {
		rc = sql_fail(s, "subscriber get");
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	if (rc != PZ_OK)
		OPENSSL_cleanse(out, sizeof(*out));
	return rc;
}

static int sql_sub_sqn(pz_store *st, const char *impi, uint64_t sqn)
{
	struct sql_store *s = SQL(st);
	sqlite3_stmt *q = s->stmt[S_SUB_SQN];
	int rc;

	sqlite3_bind_text(q, 1, impi, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, (int64_t)sqn);
	rc = sql_step_done(s, q, "subscriber sqn");
	if (rc == PZ_OK && sqlite3_changes(s->db) == 0)
		rc = PZ_ENOTFOUND;
	return rc;
}

static int sql_sub_del(pz_store *st, const char *impi)
{
	struct sql_store *s = SQL(st);
	sqlite3_stmt *q = s->stmt[S_SUB_DEL];
	int rc;

	sqlite3_bind_text(q, 1, impi, -1, SQLITE_STATIC);
	rc = sql_step_done(s, q, "subscriber del");
	if (rc == PZ_OK && sqlite3_changes(s->db) == 0)
		return PZ_ENOTFOUND;
	q = s->stmt[S_SUB_DEL_BOOT];
	if (rc == PZ_OK) {
		sqlite3_bind_text(q, 1, impi, -1, SQLITE_STATIC);
		rc = sql_step_done(s, q, "subscriber del");
	}
	return rc;
}

static int sql_sub_list(pz_store *st, pz_store_sub_cb cb, void *ud)
{
	struct sql_store *s = SQL(st);
	sqlite3_stmt *q = s->stmt[S_SUB_LIST];
	uint8_t amf[2] = { 0, 0 };
	int r;

	while ((r = sqlite3_step(q)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(q, 2) == 2)
			memcpy(amf, sqlite3_column_blob(q, 2), 2);
		if (cb(ud, (const char *)sqlite3_column_text(q, 0),
		       (uint64_t)sqlite3_column_int64(q, 1), amf,
		       (const char *)sqlite3_column_text(q, 4),
		       sqlite3_column_int64(q, 3)))
			break;
	}
	sqlite3_reset(q);
	return r == SQLITE_ROW || r == SQLITE_DONE ? PZ_OK :
	       sql_fail(s, "subscriber list");
}

static int sql_boot_put(pz_store *st, const struct pz_store_boot *b)
{
	sqlite3_stmt *q = SQL(st)->stmt[S_BOOT_PUT];

	sqlite3_bind_text(q, 1, b->btid, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, b->impi, -1, SQLITE_STATIC);
	sqlite3_bind_blob(q, 3, b->ks, sizeof(b->ks), SQLITE_STATIC);
	sqlite3_bind_blob(q, 4, b->rand, sizeof(b->rand), SQLITE_STATIC);
	sqlite3_bind_int64(q, 5, b->expires);
	return sql_step_done(SQL(st), q, "bootstrap put");
}

static int sql_boot_get(pz_store *st, const char *btid,
			struct pz_store_boot *out)
{
	struct sql_store *s = SQL(st);
	sqlite3_stmt *q = s->stmt[S_BOOT_GET];
	const unsigned char *impi;
	int r, rc = PZ_OK;

	memset(out, 0, sizeof(*out));
	if (strlen(btid) > PZ_STORE_BTID_MAX)
		return PZ_ENOTFOUND;
	sqlite3_bind_text(q, 1, btid, -1, SQLITE_STATIC);
	r = sqlite3_step(q);
	if (r == SQLITE_ROW) {
		memcpy(out->btid, btid, strlen(btid) + 1);
		impi = sqlite3_column_text(q, 0);
		if (!impi || (size_t)sqlite3_column_bytes(q, 0) >
		    PZ_STORE_IMPI_MAX)
			rc = sql_fail(s, "bootstrap get");
		else
			memcpy(out->impi, impi,
			       (size_t)sqlite3_column_bytes(q, 0));
		if (rc == PZ_OK)
			rc = sql_blob(s, q, 1, out->ks, sizeof(out->ks));
		if (rc == PZ_OK)
			rc = sql_blob(s, q, 2, out->rand, sizeof(out->rand));
		out->expires = sqlite3_column_int64(q, 3);
	} else {
		rc = r == SQLITE_DONE ? PZ_ENOTFOUND :
		     sql_fail(s, "bootstrap get");
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	if (rc != PZ_OK)
		OPENSSL_cleanse(out, sizeof(*out));
	return rc;
}

static int sql_boot_purge(pz_store *st, int64_t now, int64_t *n)
{
	struct sql_store *s = SQL(st);
	sqlite3_stmt *q = s->stmt[S_BOOT_PURGE];
	int rc;

	sqlite3_bind_int64(q, 1, now);
	rc = sql_step_done(s, q, "bootstrap purge");
	if (n)
		*n = rc == PZ_OK ? sqlite3_changes(s->db) : 0;
	return rc;
}

const struct pz_store_ops pz_store__sqlite_ops = {
	.scheme = "sqlite",
	.open = sql_open,
	.close = sql_close,
	.begin = sql_begin,
	.commit = sql_commit,
	.rollback = sql_rollback,
	.savepoint = sql_savepoint,
	.release = sql_release,
	.rollback_to = sql_rollback_to,
	.get = sql_get,
	.get_ri = sql_get_ri,
	.get_child = sql_get_child,
	.edge = sql_edge,
	.insert = sql_insert,
	.update = sql_update,
	.adjust = sql_adjust,
	.remove = sql_remove,
	.find = sql_find,
	.count = sql_count,
	.expired = sql_expired,
	.next_expiry = sql_next_expiry,
	.cred_put = sql_cred_put,
	.cred_get = sql_cred_get,
	.cred_del = sql_cred_del,
	.psk_put = sql_psk_put,
	.psk_get = sql_psk_get,
	.psk_del = sql_psk_del,
	.psk_list = sql_psk_list,
	.meta_get = sql_meta_get,
	.meta_put = sql_meta_put,
	.tlog_append = sql_tlog_append,
	.tlog_get = sql_tlog_get,
	.tlog_size = sql_tlog_size,
	.tlog_scan = sql_tlog_scan,
	.head_put = sql_head_put,
	.head_get = sql_head_get,
	.head_scan = sql_head_scan,
	.ident_put = sql_ident_put,
	.ident_get = sql_ident_get,
	.ident_scan = sql_ident_scan,
	.alias_put = sql_alias_put,
	.alias_get = sql_alias_get,
	.alias_del = sql_alias_del,
	.sub_put = sql_sub_put,
	.sub_get = sql_sub_get,
	.sub_sqn = sql_sub_sqn,
	.sub_del = sql_sub_del,
	.sub_list = sql_sub_list,
	.boot_put = sql_boot_put,
	.boot_get = sql_boot_get,
	.boot_purge = sql_boot_purge,
};
