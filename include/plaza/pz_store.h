/*
 * pz_store.h - the storage interface.  Every backend (SQLite now, PostgreSQL
 * later) implements struct pz_store_ops; the core only ever calls through
 * the pz_store_* wrappers below and never sees SQL (DESIGN principle 3).
 *
 * Model: one table of resources.  Each resource has a row id that is its
 * creation order and is never reused, a parent id, a type, a name, indexed
 * times, the counters of a container, and a JSON document holding all other
 * attributes.  Plus small tables for originator credentials and metadata.
 *
 * Transactions: the core groups the requests handled in one event-loop turn
 * into one batch (pz_store_begin ... pz_store_commit) and wraps each request
 * in a savepoint, so one failed request rolls back alone while the batch
 * commits once (group commit).  A commit returns only after the data are
 * durable to the level the backend promises (SQLite WAL: survives a crash of
 * plazad; with store.sync=full also a power loss).
 *
 * Threading: a store handle belongs to the loop thread that opened it.
 */
#ifndef PZ_STORE_H
#define PZ_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pz_store pz_store;

/* One stored resource.  Strings and doc are owned; pz_res_clear frees. */
struct pz_res {
	int64_t id;        /* row id, creation order, never reused; 0 = none */
	int64_t pid;       /* parent row id; 0 for the CSEBase */
	int ty;            /* resource type */
	char *ri;          /* resource id; NULL in a row means derived from id */
	char *rn;          /* resource name, unique under the parent */
	char *org;         /* originator that created it (access default) */
	int64_t ct;        /* creation time, microseconds since the epoch */
	int64_t lt;        /* last modification time */
	int64_t et;        /* expiration time, PZ_TIME_NEVER if none */
	int64_t cs;        /* content size of a contentInstance, else 0 */
	int64_t cni;       /* container: current number of instances */
	int64_t cbs;       /* container: current byte size */
	int64_t st;        /* state tag (container: live; instance: at birth) */
	int64_t lid;       /* container: id of the latest instance, 0 unknown */
	char *doc_text;    /* the attribute document as stored (JSON text) */
	json_t *doc;       /* parsed document; NULL until pz_res_doc() */
};

/* Query for pz_store_find: descendants of root. */
struct pz_store_q {
	int64_t root;         /* search below this resource (not included) */
	int64_t lvl;          /* depth limit, 1 = children only; 0 = any */
	const int *ty;        /* only these types; NULL = all */
	int nty;
	bool newest_first;    /* order by creation, newest first (lvl 1) */
	int64_t after_id;     /* lvl 1 paging: ids beyond this one (0 = none) */
	bool with_doc;        /* also load doc_text */
};

/* Called per row by pz_store_find.  res is borrowed for the call (copy what
 * you keep; pz_res_move takes it).  Return 0 to continue, 1 to stop.  The
 * callback must not call pz_store_find itself. */
typedef int (*pz_store_each_cb)(void *ud, struct pz_res *res);

/* A signed tree head of the trust log (pz_tlog.h), stored as issued. */
struct pz_store_head {
	uint64_t size;              /* entries covered */
	int64_t ts;                 /* signing time, ms since the epoch */
	uint8_t root[32];           /* RFC 9162 Merkle tree hash */
	uint8_t sig[64];            /* Ed25519 signature */
};

/* Called per trust-log entry by pz_store_tlog_scan, in sequence order;
 * entry and nodes are borrowed for the call.  Return 0 to continue, 1 to
 * stop. */
typedef int (*pz_store_tlog_cb)(void *ud, uint64_t seq,
				const uint8_t *entry, size_t len,
				const uint8_t *nodes, size_t nlen);
/* Called per identity record by pz_store_ident_scan, in id order;
 * borrowed strings, valid during the call.  Non-zero stops the scan. */
typedef int (*pz_store_ident_cb)(void *ud, const char *id, const char *rec);

/* Called per stored head by pz_store_head_scan, smallest size first. */
typedef int (*pz_store_head_cb)(void *ud, const struct pz_store_head *h);

/*
 * A BSF subscriber (the BSF's stand-in for the HSS, docs/bootstrap.md):
 * the IMPI and the subscriber's long-term AKA secrets.  K and OPc are
 * read only by the BSF (src/boot/bsf.c) to compute authentication
 * vectors; no interface hands them out (pz_store_sub_list gives no key),
 * only keys derived from them leave.
 */
#define PZ_STORE_IMPI_MAX 255                /* octets of an IMPI */
#define PZ_STORE_SQN_MAX  0xffffffffffffULL  /* SQN is 48 bits */
struct pz_store_sub {
	char impi[PZ_STORE_IMPI_MAX + 1];  /* NUL-terminated */
	uint8_t k[16];                     /* K, secret */
	uint8_t opc[16];                   /* OPc, secret */
	uint64_t sqn;                      /* highest SQN issued (48 bits) */
	uint8_t amf[2];                    /* AMF of the vectors */
	int64_t created;                   /* microseconds since the epoch */
	char device[PZ_STORE_IMPI_MAX + 1];  /* the device's identifier in
						the trust repository (a
						urn:dev: URN), or "" */
};

/* A bootstrapping context of the BSF: Ks under its B-TID until expires. */
#define PZ_STORE_BTID_MAX 278              /* = PZ_GBA_BTID_MAX */
struct pz_store_boot {
	char btid[PZ_STORE_BTID_MAX + 1];  /* NUL-terminated */
	char impi[PZ_STORE_IMPI_MAX + 1];  /* whose */
	uint8_t ks[32];                    /* Ks = CK || IK, secret */
	uint8_t rand[16];                  /* the RAND of the AKA run */
	int64_t expires;                   /* microseconds since the epoch */
};

/* Called per subscriber by pz_store_sub_list (no secrets given). */
typedef int (*pz_store_sub_cb)(void *ud, const char *impi, uint64_t sqn,
			       const uint8_t amf[2], const char *device,
			       int64_t created);

/* Backend options, from the configuration. */
struct pz_store_opts {
	int sync_full;        /* fsync every commit (power-loss durability) */
	int64_t cache_kb;     /* page cache size */
	int64_t busy_ms;      /* how long to wait for a lock held elsewhere */
};

struct pz_store_ops {
	const char *scheme;   /* "sqlite", "postgresql" */
	int (*open)(const char *location, const struct pz_store_opts *opts,
		    pz_store **out);
	void (*close)(pz_store *st);
	int (*begin)(pz_store *st);
	int (*commit)(pz_store *st);
	int (*rollback)(pz_store *st);
	int (*savepoint)(pz_store *st);
	int (*release)(pz_store *st);
	int (*rollback_to)(pz_store *st);
	int (*get)(pz_store *st, int64_t id, struct pz_res *out);
	int (*get_ri)(pz_store *st, const char *ri, struct pz_res *out);
	int (*get_child)(pz_store *st, int64_t pid, const char *rn,
			 struct pz_res *out);
	int (*edge)(pz_store *st, int64_t pid, int ty, bool newest,
		    struct pz_res *out);
	int (*insert)(pz_store *st, struct pz_res *res);
	int (*update)(pz_store *st, struct pz_res *res);
	int (*adjust)(pz_store *st, int64_t id, int64_t dcni, int64_t dcbs,
		      int64_t dst, int64_t lt, int64_t latest);
	int (*remove)(pz_store *st, int64_t id);
	int (*find)(pz_store *st, const struct pz_store_q *q,
		    pz_store_each_cb cb, void *ud);
	int (*count)(pz_store *st, int64_t pid, int ty, int64_t *n);
	int (*expired)(pz_store *st, int64_t now, int64_t limit,
		       pz_store_each_cb cb, void *ud);
	int (*next_expiry)(pz_store *st, int64_t *et);
	int (*cred_put)(pz_store *st, const char *orig, const uint8_t *hash,
			size_t len);
	int (*cred_get)(pz_store *st, const char *orig, uint8_t *hash,
			size_t *len);
	int (*cred_del)(pz_store *st, const char *orig);
	int (*psk_put)(pz_store *st, const char *identity, const char *orig,
		       const uint8_t *key, size_t len);
	int (*psk_get)(pz_store *st, const char *identity, uint8_t *key,
		       size_t *len, char **orig);
	int (*psk_del)(pz_store *st, const char *identity);
	int (*psk_list)(pz_store *st,
			int (*cb)(void *ud, const char *identity,
				  const char *orig, int64_t created),
			void *ud);
	int (*meta_get)(pz_store *st, const char *key, char **val);
	int (*meta_put)(pz_store *st, const char *key, const char *val);
	int (*tlog_append)(pz_store *st, uint64_t seq, const uint8_t *entry,
			   size_t len, const uint8_t *nodes, size_t nlen);
	int (*tlog_get)(pz_store *st, uint64_t seq, uint8_t **entry,
			size_t *len, uint8_t *nodes, size_t *nlen);
	int (*tlog_size)(pz_store *st, uint64_t *n);
	int (*tlog_scan)(pz_store *st, uint64_t from,
			 pz_store_tlog_cb cb, void *ud);
	int (*head_put)(pz_store *st, const struct pz_store_head *h);
	int (*head_get)(pz_store *st, uint64_t size,
			struct pz_store_head *h);
	int (*head_scan)(pz_store *st, pz_store_head_cb cb, void *ud);
	int (*ident_put)(pz_store *st, const char *id, const char *rec);
	int (*ident_get)(pz_store *st, const char *id, char **rec);
	int (*ident_scan)(pz_store *st, const char *after, unsigned limit,
			  pz_store_ident_cb cb, void *ud);
	int (*alias_put)(pz_store *st, const char *alias, const char *id);
	int (*alias_get)(pz_store *st, const char *alias, char **id);
	int (*alias_del)(pz_store *st, const char *alias);
	int (*sub_put)(pz_store *st, const struct pz_store_sub *sub);
	int (*sub_get)(pz_store *st, const char *impi,
		       struct pz_store_sub *out);
	int (*sub_sqn)(pz_store *st, const char *impi, uint64_t sqn);
	int (*sub_del)(pz_store *st, const char *impi);
	int (*sub_list)(pz_store *st, pz_store_sub_cb cb, void *ud);
	int (*boot_put)(pz_store *st, const struct pz_store_boot *b);
	int (*boot_get)(pz_store *st, const char *btid,
			struct pz_store_boot *out);
	int (*boot_purge)(pz_store *st, int64_t now, int64_t *n);
};

/* Every backend embeds this as its first member. */
struct pz_store {
	const struct pz_store_ops *ops;  /* the backend */
	int64_t last_id;                 /* highest id handed out */
	int depth;                       /* 0 idle, 1 in batch, +1 per savepoint */
};

/* --- lifecycle -------------------------------------------------------- */

/*
 * pz_store_open - open the store named by url: "sqlite:PATH" or a plain path
 * (SQLite).  Creates the schema on first use and migrates older schemas.
 * Returns PZ_OK, PZ_EINVAL (unknown scheme), PZ_EIO/PZ_ESTORE (cannot open,
 * corrupt, newer schema than this build).  Caller closes with
 * pz_store_close.
 */
int pz_store_open(const char *url, const struct pz_store_opts *opts,
		  pz_store **out);

/* pz_store_close - close (NULL is fine).  An open batch is rolled back. */
void pz_store_close(pz_store *st);

/* --- transactions ----------------------------------------------------- */

/* Begin a batch; PZ_ESTATE if one is open.  */
int pz_store_begin(pz_store *st);
/* Commit the batch; on failure the batch is rolled back and PZ_ESTORE
 * returned: nothing of it is stored. */
int pz_store_commit(pz_store *st);
/* Abandon the batch. */
int pz_store_rollback(pz_store *st);
/* Per-request savepoint inside a batch (they nest: a group fan-out runs
 * member requests inside the outer request); release keeps, rollback_to
 * undoes everything since the matching savepoint. */
int pz_store_savepoint(pz_store *st);
int pz_store_release(pz_store *st);
int pz_store_rollback_to(pz_store *st);
/* true while a batch is open. */
bool pz_store_in_batch(const pz_store *st);

/* --- resources -------------------------------------------------------- */

/*
 * Lookups fill *out (pz_res_clear it after) and return PZ_OK, PZ_ENOTFOUND
 * or PZ_ESTORE.  get_ri finds resources whose ri is stored explicitly (AE,
 * CSEBase); the core derives other ri from ids.  edge gives the newest
 * (newest = true) or oldest child of type ty.
 */
int pz_store_get(pz_store *st, int64_t id, struct pz_res *out);
int pz_store_get_ri(pz_store *st, const char *ri, struct pz_res *out);
int pz_store_get_child(pz_store *st, int64_t pid, const char *rn,
		       struct pz_res *out);
int pz_store_edge(pz_store *st, int64_t pid, int ty, bool newest,
		  struct pz_res *out);

/* pz_store_next_id - reserve the next row id (never handed out twice). */
int64_t pz_store_next_id(pz_store *st);

/*
 * pz_store_insert - store a new resource.  When res->id is 0 a new id is
 * assigned (res->id set).  res->doc is serialised when doc_text is NULL.
 * PZ_EEXIST when (pid, rn) or ri is taken, PZ_ESTORE otherwise.
 */
int pz_store_insert(pz_store *st, struct pz_res *res);

/* pz_store_update - rewrite lt, et, doc (from res->doc if set) and the
 * counters of an existing row.  PZ_ENOTFOUND, PZ_ESTORE. */
int pz_store_update(pz_store *st, struct pz_res *res);

/*
 * pz_store_adjust - add to the counters of a container in place and set
 * its lt (0 keeps it): the exact-counter path of a child create/delete.
 * latest > 0 records that instance as the latest; latest < 0 forgets the
 * latest if it is instance -latest (being deleted); 0 leaves it.
 */
int pz_store_adjust(pz_store *st, int64_t id, int64_t dcni, int64_t dcbs,
		    int64_t dst, int64_t lt, int64_t latest);

/* pz_store_remove - delete the resource and every descendant. */
int pz_store_remove(pz_store *st, int64_t id);

/* pz_store_find - visit descendants per q (see struct pz_store_q). */
int pz_store_find(pz_store *st, const struct pz_store_q *q,
		  pz_store_each_cb cb, void *ud);

/* pz_store_count - number of children of pid with type ty (0 = any). */
int pz_store_count(pz_store *st, int64_t pid, int ty, int64_t *n);

/* pz_store_expired - visit up to limit resources whose et <= now, soonest
 * first. */
int pz_store_expired(pz_store *st, int64_t now, int64_t limit,
		     pz_store_each_cb cb, void *ud);

/* pz_store_next_expiry - the soonest expirationTime of any resource, or
 * PZ_TIME_NEVER. */
int pz_store_next_expiry(pz_store *st, int64_t *et);

/* --- credentials and metadata ----------------------------------------- */

/* Originator credentials are stored as hashes only (len <= 64 bytes). */
int pz_store_cred_put(pz_store *st, const char *orig, const uint8_t *hash,
		      size_t len);
/* *len is the buffer size in, the hash size out. PZ_ENOTFOUND if none. */
int pz_store_cred_get(pz_store *st, const char *orig, uint8_t *hash,
		      size_t *len);
int pz_store_cred_del(pz_store *st, const char *orig);

/* DTLS pre-shared keys by identity, with the originator each stands for.
 * psk_get: *len is the room in key, the key's size out; *orig is
 * caller-freed.  PZ_ENOTFOUND, PZ_ETOOBIG.  psk_list never gives keys. */
int pz_store_psk_put(pz_store *st, const char *identity, const char *orig,
		     const uint8_t *key, size_t len);
int pz_store_psk_get(pz_store *st, const char *identity, uint8_t *key,
		     size_t *len, char **orig);
int pz_store_psk_del(pz_store *st, const char *identity);
int pz_store_psk_list(pz_store *st,
		      int (*cb)(void *ud, const char *identity,
				const char *orig, int64_t created),
		      void *ud);

/* Small key/value metadata.  meta_get: *val is caller-freed (pz_free). */
int pz_store_meta_get(pz_store *st, const char *key, char **val);
int pz_store_meta_put(pz_store *st, const char *key, const char *val);

/* --- the trust log and identity records (see pz_tlog.h) ------------- */

/*
 * The log is a sequence of entries numbered 0, 1, 2, ... without gaps.
 * With each entry the Merkle node hashes that appending it completed are
 * kept (nodes: 32 bytes per level, level 0 being the entry's leaf hash),
 * so any perfect subtree's hash is one lookup away.
 *
 * tlog_append stores entry seq (PZ_EEXIST if taken).  tlog_get: *entry
 * gets a pz_malloc'd copy (pass entry NULL to skip it), nodes gets the
 * node hashes (*nlen is the room in, the size out; NULL to skip them,
 * with entry not NULL); PZ_ENOTFOUND,
 * PZ_ETOOBIG.  tlog_size: the number of entries (highest seq + 1).
 * tlog_scan visits entries from seq on.
 */
int pz_store_tlog_append(pz_store *st, uint64_t seq, const uint8_t *entry,
			 size_t len, const uint8_t *nodes, size_t nlen);
int pz_store_tlog_get(pz_store *st, uint64_t seq, uint8_t **entry,
		      size_t *len, uint8_t *nodes, size_t *nlen);
int pz_store_tlog_size(pz_store *st, uint64_t *n);
int pz_store_tlog_scan(pz_store *st, uint64_t from, pz_store_tlog_cb cb,
		       void *ud);

/* Signed tree heads by size.  head_get with size UINT64_MAX gives the
 * largest; PZ_ENOTFOUND when there is none.  head_put replaces a head of
 * the same size. */
int pz_store_head_put(pz_store *st, const struct pz_store_head *h);
int pz_store_head_get(pz_store *st, uint64_t size, struct pz_store_head *h);
int pz_store_head_scan(pz_store *st, pz_store_head_cb cb, void *ud);

/* Identity records (JSON text, keyed by the normalised global identifier)
 * and the aliases that resolve to them (AE-IDs, PSK identities, ...).
 * ident_get/alias_get: the result is caller-freed (pz_free); PZ_ENOTFOUND.
 * alias_put: PZ_EEXIST when the alias names another identity. */
int pz_store_ident_put(pz_store *st, const char *id, const char *rec);
int pz_store_ident_get(pz_store *st, const char *id, char **rec);
/* ident_scan: up to limit records with ids after after ("" or NULL: from
 * the first), in bytewise id order. */
int pz_store_ident_scan(pz_store *st, const char *after, unsigned limit,
			pz_store_ident_cb cb, void *ud);
int pz_store_alias_put(pz_store *st, const char *alias, const char *id);
int pz_store_alias_get(pz_store *st, const char *alias, char **id);
int pz_store_alias_del(pz_store *st, const char *alias);

/* --- the BSF's subscribers and bootstrapping contexts (schema v3) ---- */

/*
 * pz_store_sub_put - add sub (sub->created is set by the store).
 * PZ_OK; PZ_EEXIST (the IMPI is taken); PZ_EINVAL (empty IMPI, SQN over
 * 48 bits); PZ_ESTORE.
 * pz_store_sub_get - the subscriber impi into *out, secrets included: for
 * the BSF only.  PZ_OK; PZ_ENOTFOUND; PZ_ESTORE.
 * pz_store_sub_sqn - set impi's SQN.  PZ_OK; PZ_ENOTFOUND; PZ_EINVAL.
 * pz_store_sub_del - remove impi and its bootstrapping contexts.
 * PZ_OK; PZ_ENOTFOUND.
 * pz_store_sub_list - cb per subscriber in IMPI order, without K or OPc;
 * a non-zero return from cb stops the walk.
 */
int pz_store_sub_put(pz_store *st, const struct pz_store_sub *sub);
int pz_store_sub_get(pz_store *st, const char *impi, struct pz_store_sub *out);
int pz_store_sub_sqn(pz_store *st, const char *impi, uint64_t sqn);
int pz_store_sub_del(pz_store *st, const char *impi);
int pz_store_sub_list(pz_store *st, pz_store_sub_cb cb, void *ud);

/*
 * pz_store_boot_put - store (or replace) the context of b->btid.
 * pz_store_boot_get - the context of btid into *out; PZ_ENOTFOUND when
 * there is none (expiry is the caller's to check).
 * pz_store_boot_purge - delete contexts with expires <= now; the number
 * deleted into *n (may be NULL).
 */
int pz_store_boot_put(pz_store *st, const struct pz_store_boot *b);
int pz_store_boot_get(pz_store *st, const char *btid,
		      struct pz_store_boot *out);
int pz_store_boot_purge(pz_store *st, int64_t now, int64_t *n);

/* --- resource records ------------------------------------------------- */

/* pz_res_init - an empty record (no allocations). */
void pz_res_init(struct pz_res *res);
/* pz_res_clear - free what res owns and re-init it. */
void pz_res_clear(struct pz_res *res);
/* pz_res_copy - dst becomes an independent copy of src (dst cleared
 * first).  PZ_OK or PZ_ENOMEM (dst left empty). */
int pz_res_copy(struct pz_res *dst, const struct pz_res *src);
/* pz_res_move - move src into dst (dst cleared first); src is left empty. */
void pz_res_move(struct pz_res *dst, struct pz_res *src);
/* pz_res_doc - the parsed document, parsing doc_text on first use; NULL on
 * ENOMEM or a corrupt document (logged).  Borrowed from res. */
json_t *pz_res_doc(struct pz_res *res);

#endif
