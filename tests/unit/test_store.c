/*
 * test_store.c - the storage interface on its SQLite backend, in a
 * temporary directory: insert, the lookups, edge, update, adjust,
 * subtree removal, find with paging, expiry, credentials, metadata,
 * batches and savepoints, ids never reused (also across a reopen),
 * schema versions, unusable files, and allocation failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>
#include <cmocka.h>

#include "plaza/pz_err.h"
#include "plaza/pz_log.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_req.h"
#include "plaza/pz_store.h"
#include "plaza/pz_time.h"

struct fx {
	char dir[64];
	char path[96];
	char url[128];
	pz_store *st;
};

static void fx_remove_files(struct fx *f)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	char p[160];

	for (int i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s%s", f->path, sfx[i]);
		unlink(p);
	}
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/pz-store-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
	snprintf(f->url, sizeof(f->url), "sqlite:%s", f->path);
	if (pz_store_open(f->url, NULL, &f->st) != PZ_OK)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	pz_store_close(f->st);
	fx_remove_files(f);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void reopen(struct fx *f)
{
	pz_store_close(f->st);
	f->st = NULL;
	assert_int_equal(pz_store_open(f->url, NULL, &f->st), PZ_OK);
}

/* Insert a resource (et 0: never expires); returns its id. */
static int64_t ins(pz_store *st, int64_t pid, int ty, const char *rn,
		   const char *ri, int64_t ct, int64_t et)
{
	struct pz_res r;
	int64_t id;

	pz_res_init(&r);
	r.pid = pid;
	r.ty = ty;
	r.rn = pz_strdup(rn);
	r.ri = ri ? pz_strdup(ri) : NULL;
	r.org = pz_strdup("Corg");
	r.ct = r.lt = ct;
	r.et = et ? et : PZ_TIME_NEVER;
	r.doc = json_pack("{s:s,s:i}", "name", rn, "ty", ty);
	assert_int_equal(pz_store_insert(st, &r), PZ_OK);
	assert_true(r.id > 0);
	id = r.id;
	pz_res_clear(&r);
	return id;
}

static void test_insert_get(void **state)
{
	struct fx *f = *state;
	struct pz_res r, o;
	int64_t a, b;

	pz_res_init(&r);
	r.ty = PZ_TY_CB;
	r.rn = pz_strdup("plaza");
	r.ri = pz_strdup("plaza-in");
	r.ct = 1000;
	r.lt = 2000;
	r.cs = 5;
	r.cni = 6;
	r.cbs = 7;
	r.st = 8;
	r.doc_text = pz_strdup("{\"csi\":\"/plaza-in\"}");
	assert_int_equal(pz_store_insert(f->st, &r), PZ_OK);
	a = r.id;
	assert_true(a > 0);
	pz_res_clear(&r);

	pz_res_init(&o);
	assert_int_equal(pz_store_get(f->st, a, &o), PZ_OK);
	assert_int_equal(o.id, a);
	assert_int_equal(o.pid, 0);
	assert_int_equal(o.ty, PZ_TY_CB);
	assert_string_equal(o.rn, "plaza");
	assert_string_equal(o.ri, "plaza-in");
	assert_null(o.org);
	assert_int_equal(o.ct, 1000);
	assert_int_equal(o.lt, 2000);
	assert_true(o.et == PZ_TIME_NEVER);
	assert_int_equal(o.cs, 5);
	assert_int_equal(o.cni, 6);
	assert_int_equal(o.cbs, 7);
	assert_int_equal(o.st, 8);
	assert_string_equal(json_string_value(json_object_get(pz_res_doc(&o),
							      "csi")),
			    "/plaza-in");
	/* pz_res_doc parses once and keeps the document. */
	assert_ptr_equal(pz_res_doc(&o), pz_res_doc(&o));

	assert_int_equal(pz_store_get_ri(f->st, "plaza-in", &o), PZ_OK);
	assert_int_equal(o.id, a);
	b = ins(f->st, a, PZ_TY_CNT, "c1", NULL, 5, 123456);
	assert_true(b > a);
	assert_int_equal(pz_store_get_child(f->st, a, "c1", &o), PZ_OK);
	assert_int_equal(o.id, b);
	assert_null(o.ri);
	assert_string_equal(o.org, "Corg");
	assert_int_equal(o.et, 123456);
	assert_int_equal(json_integer_value(json_object_get(pz_res_doc(&o),
							    "ty")), 3);

	assert_int_equal(pz_store_get(f->st, 99999, &o), PZ_ENOTFOUND);
	assert_int_equal(pz_store_get_ri(f->st, "nope", &o), PZ_ENOTFOUND);
	assert_int_equal(pz_store_get_child(f->st, a, "c2", &o),
			 PZ_ENOTFOUND);
	assert_int_equal(pz_store_get_child(f->st, b, "c1", &o),
			 PZ_ENOTFOUND);
	pz_res_clear(&o);
}

static void test_insert_conflicts(void **state)
{
	struct fx *f = *state;
	struct pz_res r;
	int64_t cb = ins(f->st, 0, PZ_TY_CB, "plaza", "plaza-in", 1, 0);
	int64_t ae = ins(f->st, cb, PZ_TY_AE, "ae1", "Cae1", 1, 0);

	/* The same name under another parent is fine. */
	ins(f->st, cb, PZ_TY_CNT, "x", NULL, 1, 0);
	ins(f->st, ae, PZ_TY_CNT, "x", NULL, 1, 0);
	pz_res_init(&r);
	r.pid = ae;
	r.ty = PZ_TY_CNT;
	r.rn = pz_strdup("x");
	assert_int_equal(pz_store_insert(f->st, &r), PZ_EEXIST);
	assert_int_equal(r.id, 0);
	pz_free(r.rn);
	r.rn = pz_strdup("y");
	r.ri = pz_strdup("Cae1");
	assert_int_equal(pz_store_insert(f->st, &r), PZ_EEXIST);
	pz_free(r.ri);
	r.ri = NULL;
	r.id = ae;  /* an id in use */
	assert_int_equal(pz_store_insert(f->st, &r), PZ_EEXIST);
	r.id = 0;
	assert_int_equal(pz_store_insert(f->st, &r), PZ_OK);
	pz_res_clear(&r);
}

/* A record without a document is stored as "{}" (and nothing leaks:
 * LeakSanitizer checks that in the sanitizer build). */
static void test_insert_without_doc(void **state)
{
	struct fx *f = *state;
	struct pz_res r, o;

	pz_res_init(&r);
	pz_res_init(&o);
	r.ty = PZ_TY_CNT;
	r.rn = pz_strdup("bare");
	assert_int_equal(pz_store_insert(f->st, &r), PZ_OK);
	assert_int_equal(pz_store_get(f->st, r.id, &o), PZ_OK);
	assert_string_equal(o.doc_text, "{}");
	assert_int_equal(json_object_size(pz_res_doc(&o)), 0);
	pz_res_clear(&o);
	pz_res_clear(&r);
}

static void test_edge(void **state)
{
	struct fx *f = *state;
	struct pz_res o;
	int64_t cnt = ins(f->st, 0, PZ_TY_CNT, "c", NULL, 1, 0), i1, i3;

	pz_res_init(&o);
	assert_int_equal(pz_store_edge(f->st, cnt, PZ_TY_CIN, true, &o),
			 PZ_ENOTFOUND);
	i1 = ins(f->st, cnt, PZ_TY_CIN, "i1", NULL, 1, 0);
	ins(f->st, cnt, PZ_TY_SUB, "s", NULL, 1, 0);
	ins(f->st, cnt, PZ_TY_CIN, "i2", NULL, 1, 0);
	i3 = ins(f->st, cnt, PZ_TY_CIN, "i3", NULL, 1, 0);
	ins(f->st, cnt, PZ_TY_CNT, "sub", NULL, 1, 0);
	assert_int_equal(pz_store_edge(f->st, cnt, PZ_TY_CIN, true, &o), PZ_OK);
	assert_int_equal(o.id, i3);
	assert_int_equal(pz_store_edge(f->st, cnt, PZ_TY_CIN, false, &o),
			 PZ_OK);
	assert_int_equal(o.id, i1);
	assert_non_null(o.doc_text);
	pz_res_clear(&o);
}

static void test_update_adjust(void **state)
{
	struct fx *f = *state;
	struct pz_res o;
	int64_t id = ins(f->st, 0, PZ_TY_CNT, "c", NULL, 100, 5000);

	pz_res_init(&o);
	assert_int_equal(pz_store_get(f->st, id, &o), PZ_OK);
	o.lt = 200;
	o.et = PZ_TIME_NEVER;
	o.cni = 3;
	o.cbs = 30;
	o.st = 9;
	json_object_set_new(pz_res_doc(&o), "mni", json_integer(10));
	assert_int_equal(pz_store_update(f->st, &o), PZ_OK);
	pz_res_clear(&o);
	assert_int_equal(pz_store_get(f->st, id, &o), PZ_OK);
	assert_int_equal(o.lt, 200);
	assert_true(o.et == PZ_TIME_NEVER);
	assert_int_equal(o.ct, 100);
	assert_int_equal(o.cni, 3);
	assert_int_equal(o.cbs, 30);
	assert_int_equal(o.st, 9);
	assert_int_equal(json_integer_value(json_object_get(pz_res_doc(&o),
							    "mni")), 10);
	/* Back from "never" to a time. */
	o.et = 777;
	assert_int_equal(pz_store_update(f->st, &o), PZ_OK);

	assert_int_equal(pz_store_adjust(f->st, id, 1, 10, 1, 300, 41), PZ_OK);
	assert_int_equal(pz_store_adjust(f->st, id, -2, -5, 2, 0, 0), PZ_OK);
	pz_res_clear(&o);
	assert_int_equal(pz_store_get(f->st, id, &o), PZ_OK);
	assert_int_equal(o.et, 777);
	assert_int_equal(o.cni, 2);
	assert_int_equal(o.cbs, 35);
	assert_int_equal(o.st, 12);
	assert_int_equal(o.lt, 300);  /* lt 0 kept it */
	assert_int_equal(o.lid, 41);  /* latest 0 kept it */
	/* Forgetting the latest only applies to that instance. */
	assert_int_equal(pz_store_adjust(f->st, id, 0, 0, 0, 0, -40), PZ_OK);
	pz_res_clear(&o);
	assert_int_equal(pz_store_get(f->st, id, &o), PZ_OK);
	assert_int_equal(o.lid, 41);
	assert_int_equal(pz_store_adjust(f->st, id, 0, 0, 0, 0, -41), PZ_OK);
	pz_res_clear(&o);
	assert_int_equal(pz_store_get(f->st, id, &o), PZ_OK);
	assert_int_equal(o.lid, 0);

	o.id = 99999;
	assert_int_equal(pz_store_update(f->st, &o), PZ_ENOTFOUND);
	assert_int_equal(pz_store_adjust(f->st, 99999, 1, 1, 1, 1, 0),
			 PZ_ENOTFOUND);
	pz_res_clear(&o);
	/* Nothing to write. */
	pz_res_init(&o);
	o.id = id;
	assert_int_equal(pz_store_update(f->st, &o), PZ_EINVAL);
}

static void test_remove_subtree(void **state)
{
	struct fx *f = *state;
	struct pz_res o;
	int64_t cb = ins(f->st, 0, PZ_TY_CB, "cb", "cb-in", 1, 0);
	int64_t a = ins(f->st, cb, PZ_TY_AE, "a", "Ca", 1, 0);
	int64_t b = ins(f->st, a, PZ_TY_CNT, "b", NULL, 1, 0);
	int64_t c = ins(f->st, b, PZ_TY_CIN, "c", NULL, 1, 0);
	int64_t d = ins(f->st, cb, PZ_TY_CNT, "d", NULL, 1, 0);
	int64_t e = ins(f->st, b, PZ_TY_CNT, "e", NULL, 1, 0);
	int64_t g = ins(f->st, e, PZ_TY_CIN, "g", NULL, 1, 0);
	int64_t n;

	pz_res_init(&o);
	assert_int_equal(pz_store_remove(f->st, a), PZ_OK);
	assert_int_equal(pz_store_get(f->st, a, &o), PZ_ENOTFOUND);
	assert_int_equal(pz_store_get(f->st, b, &o), PZ_ENOTFOUND);
	assert_int_equal(pz_store_get(f->st, c, &o), PZ_ENOTFOUND);
	assert_int_equal(pz_store_get(f->st, e, &o), PZ_ENOTFOUND);
	assert_int_equal(pz_store_get(f->st, g, &o), PZ_ENOTFOUND);
	assert_int_equal(pz_store_get_ri(f->st, "Ca", &o), PZ_ENOTFOUND);
	assert_int_equal(pz_store_get(f->st, d, &o), PZ_OK);
	assert_int_equal(pz_store_get(f->st, cb, &o), PZ_OK);
	assert_int_equal(pz_store_count(f->st, cb, 0, &n), PZ_OK);
	assert_int_equal(n, 1);
	/* Removing what is gone is not an error. */
	assert_int_equal(pz_store_remove(f->st, a), PZ_OK);
	/* The name is free again. */
	ins(f->st, cb, PZ_TY_AE, "a", "Ca", 1, 0);
	pz_res_clear(&o);
}

/* --- find ---------------------------------------------------------------- */

struct seen {
	int64_t ids[512];
	int n;
	int stop_at;          /* stop after this many (0 = never) */
	bool docs;            /* every row came with doc_text */
};

static int collect(void *ud, struct pz_res *res)
{
	struct seen *s = ud;

	if (s->n < 512)
		s->ids[s->n++] = res->id;
	if (!res->doc_text)
		s->docs = false;
	return s->stop_at && s->n >= s->stop_at;
}

static void find(pz_store *st, struct pz_store_q *q, struct seen *s)
{
	memset(s, 0, sizeof(*s));
	s->docs = true;
	assert_int_equal(pz_store_find(st, q, collect, s), PZ_OK);
}

static void test_find_children(void **state)
{
	struct fx *f = *state;
	struct pz_store_q q = { 0 };
	struct seen s;
	int64_t root = ins(f->st, 0, PZ_TY_CB, "cb", "cb-in", 1, 0), id[10];
	char rn[8];

	for (int i = 0; i < 10; i++) {
		snprintf(rn, sizeof(rn), "r%d", i);
		id[i] = ins(f->st, root, i % 2 ? PZ_TY_CIN : PZ_TY_CNT, rn,
			    NULL, 1, 0);
	}
	ins(f->st, id[0], PZ_TY_CIN, "deep", NULL, 1, 0);
	q.root = root;
	q.lvl = 1;
	find(f->st, &q, &s);
	assert_int_equal(s.n, 10);
	for (int i = 0; i < 10; i++)
		assert_int_equal(s.ids[i], id[i]);
	assert_false(s.docs);  /* with_doc not asked */
	q.with_doc = true;
	find(f->st, &q, &s);
	assert_true(s.docs);
	/* Paging: ids after the last one seen. */
	q.after_id = id[6];
	find(f->st, &q, &s);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.ids[0], id[7]);
	/* Newest first, paging down. */
	q.after_id = 0;
	q.newest_first = true;
	find(f->st, &q, &s);
	assert_int_equal(s.n, 10);
	assert_int_equal(s.ids[0], id[9]);
	assert_int_equal(s.ids[9], id[0]);
	q.after_id = id[3];
	find(f->st, &q, &s);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.ids[0], id[2]);
	q.newest_first = false;
	q.after_id = 0;
	/* One type. */
	int ty_cin = PZ_TY_CIN;

	q.ty = &ty_cin;
	q.nty = 1;
	find(f->st, &q, &s);
	assert_int_equal(s.n, 5);
	assert_int_equal(s.ids[0], id[1]);
	q.after_id = id[5];
	find(f->st, &q, &s);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.ids[0], id[7]);
	/* The callback stops the walk. */
	q.nty = 0;
	q.after_id = 0;
	memset(&s, 0, sizeof(s));
	s.stop_at = 4;
	assert_int_equal(pz_store_find(f->st, &q, collect, &s), PZ_OK);
	assert_int_equal(s.n, 4);
}

/* lvl-1 paging (after_id) holds whatever the type filter and order, as
 * struct pz_store_q promises. */
static int64_t paging_tree(pz_store *st, int64_t id[9])
{
	int64_t root = ins(st, 0, PZ_TY_CB, "cb", "cb-in", 1, 0);
	char rn[8];

	/* CNT CIN SUB CNT CIN SUB CNT CIN SUB */
	for (int i = 0; i < 9; i++) {
		snprintf(rn, sizeof(rn), "r%d", i);
		id[i] = ins(st, root, i % 3 == 2 ? PZ_TY_SUB :
			    i % 3 ? PZ_TY_CIN : PZ_TY_CNT, rn, NULL, 1, 0);
	}
	return root;
}

static void test_find_paging_two_types(void **state)
{
	struct fx *f = *state;
	const int tys[2] = { PZ_TY_CNT, PZ_TY_CIN };
	struct pz_store_q q = { 0 };
	struct seen s;
	int64_t id[9];

	q.root = paging_tree(f->st, id);
	q.lvl = 1;
	q.ty = tys;
	q.nty = 2;
	find(f->st, &q, &s);
	assert_int_equal(s.n, 6);
	q.after_id = id[4];
	find(f->st, &q, &s);
	if (s.n != 2)
		fail_msg("two types, after_id: %d rows, want 2", s.n);
	assert_int_equal(s.ids[0], id[6]);
	assert_int_equal(s.ids[1], id[7]);
}

static void test_find_paging_newest_typed(void **state)
{
	struct fx *f = *state;
	const int ty_cnt = PZ_TY_CNT;
	struct pz_store_q q = { 0 };
	struct seen s;
	int64_t id[9];

	q.root = paging_tree(f->st, id);
	q.lvl = 1;
	q.ty = &ty_cnt;
	q.nty = 1;
	q.newest_first = true;
	find(f->st, &q, &s);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.ids[0], id[6]);
	q.after_id = id[4];
	find(f->st, &q, &s);
	if (s.n != 2)
		fail_msg("one type newest first, after_id: %d rows, want 2",
			 s.n);
	assert_int_equal(s.ids[0], id[3]);
	assert_int_equal(s.ids[1], id[0]);
}

static void test_find_deep(void **state)
{
	struct fx *f = *state;
	struct pz_store_q q = { 0 };
	const int ty_cnt = PZ_TY_CNT;
	struct seen s;
	int64_t root = ins(f->st, 0, PZ_TY_CB, "cb", "cb-in", 1, 0);
	int64_t a = ins(f->st, root, PZ_TY_AE, "a", "Ca", 1, 0);
	int64_t b = ins(f->st, root, PZ_TY_CNT, "b", NULL, 1, 0);
	int64_t a1 = ins(f->st, a, PZ_TY_CNT, "a1", NULL, 1, 0);
	int64_t a11 = ins(f->st, a1, PZ_TY_CIN, "a11", NULL, 1, 0);
	int64_t b1 = ins(f->st, b, PZ_TY_CIN, "b1", NULL, 1, 0);

	q.root = root;
	q.lvl = 0;
	find(f->st, &q, &s);
	assert_int_equal(s.n, 5);
	/* Level by level, creation order inside a level. */
	assert_int_equal(s.ids[0], a);
	assert_int_equal(s.ids[1], b);
	assert_int_equal(s.ids[2], a1);
	assert_int_equal(s.ids[3], b1);
	assert_int_equal(s.ids[4], a11);
	q.lvl = 2;
	find(f->st, &q, &s);
	assert_int_equal(s.n, 4);
	q.lvl = 0;
	q.ty = &ty_cnt;
	q.nty = 1;
	find(f->st, &q, &s);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.ids[0], b);
	assert_int_equal(s.ids[1], a1);
	/* The root itself is never a result. */
	q.root = a11;
	q.nty = 0;
	find(f->st, &q, &s);
	assert_int_equal(s.n, 0);
}

static void test_count(void **state)
{
	struct fx *f = *state;
	int64_t root = ins(f->st, 0, PZ_TY_CB, "cb", "cb-in", 1, 0), n = -1;

	assert_int_equal(pz_store_count(f->st, root, 0, &n), PZ_OK);
	assert_int_equal(n, 0);
	ins(f->st, root, PZ_TY_CNT, "a", NULL, 1, 0);
	ins(f->st, root, PZ_TY_CNT, "b", NULL, 1, 0);
	ins(f->st, root, PZ_TY_AE, "c", "Cc", 1, 0);
	assert_int_equal(pz_store_count(f->st, root, PZ_TY_CNT, &n), PZ_OK);
	assert_int_equal(n, 2);
	assert_int_equal(pz_store_count(f->st, root, 0, &n), PZ_OK);
	assert_int_equal(n, 3);
	assert_int_equal(pz_store_count(f->st, root, PZ_TY_CIN, &n), PZ_OK);
	assert_int_equal(n, 0);
}

static int collect_et(void *ud, struct pz_res *res)
{
	struct seen *s = ud;

	s->ids[s->n++] = res->et;
	return 0;
}

static void test_expired(void **state)
{
	struct fx *f = *state;
	int64_t root = ins(f->st, 0, PZ_TY_CB, "cb", "cb-in", 1, 0), et = 0;
	struct seen s;

	assert_int_equal(pz_store_next_expiry(f->st, &et), PZ_OK);
	assert_true(et == PZ_TIME_NEVER);

	ins(f->st, root, PZ_TY_CNT, "late", NULL, 1, 300);
	ins(f->st, root, PZ_TY_CNT, "never", NULL, 1, PZ_TIME_NEVER);
	ins(f->st, root, PZ_TY_CNT, "early", NULL, 1, 100);
	ins(f->st, root, PZ_TY_CNT, "future", NULL, 1, 900);
	ins(f->st, root, PZ_TY_CNT, "mid", NULL, 1, 200);
	assert_int_equal(pz_store_next_expiry(f->st, &et), PZ_OK);
	assert_int_equal(et, 100);
	memset(&s, 0, sizeof(s));
	assert_int_equal(pz_store_expired(f->st, 300, 10, collect_et, &s),
			 PZ_OK);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.ids[0], 100);
	assert_int_equal(s.ids[1], 200);
	assert_int_equal(s.ids[2], 300);
	memset(&s, 0, sizeof(s));
	assert_int_equal(pz_store_expired(f->st, 1000, 2, collect_et, &s),
			 PZ_OK);
	assert_int_equal(s.n, 2);
	memset(&s, 0, sizeof(s));
	assert_int_equal(pz_store_expired(f->st, 99, 10, collect_et, &s),
			 PZ_OK);
	assert_int_equal(s.n, 0);
}

static void test_cred_meta(void **state)
{
	struct fx *f = *state;
	uint8_t h[64], want[32];
	size_t n = sizeof(h);
	char *v = NULL;

	memset(want, 0xab, sizeof(want));
	assert_int_equal(pz_store_cred_get(f->st, "Cae1", h, &n),
			 PZ_ENOTFOUND);
	assert_int_equal(pz_store_cred_put(f->st, "Cae1", want, 32), PZ_OK);
	n = sizeof(h);
	assert_int_equal(pz_store_cred_get(f->st, "Cae1", h, &n), PZ_OK);
	assert_int_equal(n, 32);
	assert_memory_equal(h, want, 32);
	/* Too small a buffer. */
	n = 16;
	assert_int_equal(pz_store_cred_get(f->st, "Cae1", h, &n), PZ_ETOOBIG);
	/* Put replaces. */
	want[0] = 1;
	assert_int_equal(pz_store_cred_put(f->st, "Cae1", want, 32), PZ_OK);
	n = sizeof(h);
	assert_int_equal(pz_store_cred_get(f->st, "Cae1", h, &n), PZ_OK);
	assert_int_equal(h[0], 1);
	assert_int_equal(pz_store_cred_del(f->st, "Cae1"), PZ_OK);
	n = sizeof(h);
	assert_int_equal(pz_store_cred_get(f->st, "Cae1", h, &n),
			 PZ_ENOTFOUND);
	assert_int_equal(pz_store_cred_del(f->st, "Cae1"), PZ_OK);

	assert_int_equal(pz_store_meta_get(f->st, "k", &v), PZ_ENOTFOUND);
	assert_int_equal(pz_store_meta_put(f->st, "k", "v1"), PZ_OK);
	assert_int_equal(pz_store_meta_put(f->st, "k", "v2"), PZ_OK);
	assert_int_equal(pz_store_meta_get(f->st, "k", &v), PZ_OK);
	assert_string_equal(v, "v2");
	pz_free(v);
	/* Both survive a reopen. */
	assert_int_equal(pz_store_cred_put(f->st, "Cae2", want, 32), PZ_OK);
	reopen(f);
	assert_int_equal(pz_store_meta_get(f->st, "k", &v), PZ_OK);
	assert_string_equal(v, "v2");
	pz_free(v);
	n = sizeof(h);
	assert_int_equal(pz_store_cred_get(f->st, "Cae2", h, &n), PZ_OK);
}

/* --- transactions -------------------------------------------------------- */

static bool exists(pz_store *st, int64_t id)
{
	struct pz_res o;
	int rc;

	pz_res_init(&o);
	rc = pz_store_get(st, id, &o);
	pz_res_clear(&o);
	assert_true(rc == PZ_OK || rc == PZ_ENOTFOUND);
	return rc == PZ_OK;
}

static void test_batch_states(void **state)
{
	struct fx *f = *state;

	assert_false(pz_store_in_batch(f->st));
	assert_int_equal(pz_store_commit(f->st), PZ_ESTATE);
	assert_int_equal(pz_store_rollback(f->st), PZ_ESTATE);
	assert_int_equal(pz_store_savepoint(f->st), PZ_ESTATE);
	assert_int_equal(pz_store_release(f->st), PZ_ESTATE);
	assert_int_equal(pz_store_rollback_to(f->st), PZ_ESTATE);
	assert_int_equal(pz_store_begin(f->st), PZ_OK);
	assert_true(pz_store_in_batch(f->st));
	assert_int_equal(pz_store_begin(f->st), PZ_ESTATE);
	assert_int_equal(pz_store_release(f->st), PZ_ESTATE);
	assert_int_equal(pz_store_rollback_to(f->st), PZ_ESTATE);
	assert_int_equal(pz_store_savepoint(f->st), PZ_OK);
	assert_int_equal(pz_store_commit(f->st), PZ_ESTATE);
	assert_int_equal(pz_store_release(f->st), PZ_OK);
	assert_int_equal(pz_store_commit(f->st), PZ_OK);
	assert_false(pz_store_in_batch(f->st));
}

static void test_batch_commit_rollback(void **state)
{
	struct fx *f = *state;
	int64_t a, b;

	assert_int_equal(pz_store_begin(f->st), PZ_OK);
	a = ins(f->st, 0, PZ_TY_CNT, "a", NULL, 1, 0);
	assert_int_equal(pz_store_commit(f->st), PZ_OK);
	assert_int_equal(pz_store_begin(f->st), PZ_OK);
	b = ins(f->st, 0, PZ_TY_CNT, "b", NULL, 1, 0);
	assert_true(exists(f->st, b));
	assert_int_equal(pz_store_rollback(f->st), PZ_OK);
	assert_true(exists(f->st, a));
	assert_false(exists(f->st, b));
	/* What was committed survives a reopen; an open batch does not. */
	assert_int_equal(pz_store_begin(f->st), PZ_OK);
	b = ins(f->st, 0, PZ_TY_CNT, "c", NULL, 1, 0);
	reopen(f);
	assert_true(exists(f->st, a));
	assert_false(exists(f->st, b));
}

static void test_savepoints(void **state)
{
	struct fx *f = *state;
	int64_t a, b, c, d;

	assert_int_equal(pz_store_begin(f->st), PZ_OK);
	assert_int_equal(pz_store_savepoint(f->st), PZ_OK);
	a = ins(f->st, 0, PZ_TY_CNT, "a", NULL, 1, 0);
	assert_int_equal(pz_store_release(f->st), PZ_OK);
	assert_int_equal(pz_store_savepoint(f->st), PZ_OK);
	b = ins(f->st, 0, PZ_TY_CNT, "b", NULL, 1, 0);
	assert_int_equal(pz_store_rollback_to(f->st), PZ_OK);
	assert_false(exists(f->st, b));
	assert_true(pz_store_in_batch(f->st));
	/* Nested: the inner one rolls back alone. */
	assert_int_equal(pz_store_savepoint(f->st), PZ_OK);
	c = ins(f->st, 0, PZ_TY_CNT, "c", NULL, 1, 0);
	assert_int_equal(pz_store_savepoint(f->st), PZ_OK);
	d = ins(f->st, 0, PZ_TY_CNT, "d", NULL, 1, 0);
	assert_int_equal(pz_store_rollback_to(f->st), PZ_OK);
	assert_true(exists(f->st, c));
	assert_false(exists(f->st, d));
	assert_int_equal(pz_store_release(f->st), PZ_OK);
	/* The name rolled back is free again, under a new id. */
	assert_int_equal(pz_store_savepoint(f->st), PZ_OK);
	assert_true(ins(f->st, 0, PZ_TY_CNT, "b", NULL, 1, 0) > d);
	assert_int_equal(pz_store_release(f->st), PZ_OK);
	assert_int_equal(pz_store_commit(f->st), PZ_OK);
	reopen(f);
	assert_true(exists(f->st, a));
	assert_false(exists(f->st, b));
	assert_true(exists(f->st, c));
	assert_false(exists(f->st, d));
}

/* Ids are creation order and never handed out twice, even when the newest
 * rows are deleted and the store is reopened. */
static void test_ids_not_reused(void **state)
{
	struct fx *f = *state;
	int64_t a, b, r, c;

	assert_int_equal(pz_store_begin(f->st), PZ_OK);
	a = ins(f->st, 0, PZ_TY_CNT, "a", NULL, 1, 0);
	b = ins(f->st, 0, PZ_TY_CNT, "b", NULL, 1, 0);
	assert_true(b > a);
	assert_int_equal(pz_store_commit(f->st), PZ_OK);
	assert_int_equal(pz_store_begin(f->st), PZ_OK);
	assert_int_equal(pz_store_remove(f->st, b), PZ_OK);
	assert_int_equal(pz_store_commit(f->st), PZ_OK);
	reopen(f);
	assert_int_equal(pz_store_begin(f->st), PZ_OK);
	c = ins(f->st, 0, PZ_TY_CNT, "c", NULL, 1, 0);
	assert_true(c > b);
	/* A reserved id is not given out again either. */
	r = pz_store_next_id(f->st);
	assert_true(r > c);
	assert_true(ins(f->st, 0, PZ_TY_CNT, "d", NULL, 1, 0) > r);
	assert_int_equal(pz_store_commit(f->st), PZ_OK);
	/* Nor is the id of a row created and deleted in one batch. */
	assert_int_equal(pz_store_begin(f->st), PZ_OK);
	b = ins(f->st, 0, PZ_TY_CNT, "e", NULL, 1, 0);
	assert_int_equal(pz_store_remove(f->st, b), PZ_OK);
	assert_int_equal(pz_store_commit(f->st), PZ_OK);
	reopen(f);
	assert_true(ins(f->st, 0, PZ_TY_CNT, "f", NULL, 1, 0) > b);
}

/* The same promise for writes made outside a batch. */
static void test_ids_not_reused_autocommit(void **state)
{
	struct fx *f = *state;
	int64_t a, b;

	a = ins(f->st, 0, PZ_TY_CNT, "a", NULL, 1, 0);
	b = ins(f->st, 0, PZ_TY_CNT, "b", NULL, 1, 0);
	assert_int_equal(pz_store_remove(f->st, b), PZ_OK);
	reopen(f);
	if (ins(f->st, 0, PZ_TY_CNT, "c", NULL, 1, 0) <= b)
		fail_msg("id %lld of a deleted row handed out again",
			 (long long)b);
	(void)a;
}

static void test_open_errors(void **state)
{
	struct fx *f = *state;
	pz_store *st = NULL;
	char url[200];
	FILE *fp;
	int rc;

	assert_int_equal(pz_store_open("pg:host=x", NULL, &st), PZ_EINVAL);
	assert_int_equal(pz_store_open("sqlite:/nonexistent/dir/t.db", NULL,
				       &st), PZ_EIO);
	/* A file that is not a database. */
	snprintf(url, sizeof(url), "%s/junk.db", f->dir);
	fp = fopen(url, "w");
	assert_non_null(fp);
	for (int i = 0; i < 512; i++)
		fputs("this is not an SQLite database\n", fp);
	fclose(fp);
	rc = pz_store_open(url, NULL, &st);
	assert_true(rc == PZ_EIO || rc == PZ_ESTORE);
	unlink(url);
	/* A schema newer than this build. */
	pz_store_close(f->st);
	f->st = NULL;
	{
		sqlite3 *db;

		assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, "PRAGMA user_version=99",
					      NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
	}
	assert_int_equal(pz_store_open(f->url, NULL, &st), PZ_ESTORE);
	/* A plain path means SQLite. */
	{
		sqlite3 *db;

		assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, "PRAGMA user_version=2",
					      NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
	}
	assert_int_equal(pz_store_open(f->path, NULL, &f->st), PZ_OK);
	pz_store_close(NULL);
}

/* A version 1 database (before the trust log) is migrated in place: its
 * data stay, the new tables work, and the version is the current one
 * (3) afterwards. */
static void test_migrate_v1(void **state)
{
	struct fx *f = *state;
	struct pz_res r;
	sqlite3 *db;
	sqlite3_stmt *q;
	uint8_t nodes[32] = { 7 };
	size_t nlen = sizeof(nodes);
	uint64_t n = 9;
	int64_t id = ins(f->st, 0, PZ_TY_CB, "cb", "cb-in", 1, 0);

	pz_store_close(f->st);
	f->st = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TABLE tlog; DROP TABLE "
				      "tlog_head; DROP TABLE ident; DROP TABLE "
				      "ident_alias; PRAGMA user_version=1",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(pz_store_open(f->url, NULL, &f->st), PZ_OK);
	pz_res_init(&r);
	assert_int_equal(pz_store_get(f->st, id, &r), PZ_OK);
	assert_string_equal(r.rn, "cb");
	pz_res_clear(&r);
	assert_int_equal(pz_store_tlog_size(f->st, &n), PZ_OK);
	assert_int_equal(n, 0);
	assert_int_equal(pz_store_begin(f->st), PZ_OK);
	assert_int_equal(pz_store_tlog_append(f->st, 0, (const uint8_t *)"e",
					      1, nodes, nlen), PZ_OK);
	assert_int_equal(pz_store_commit(f->st), PZ_OK);
	pz_store_close(f->st);
	f->st = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q,
					    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 3);
	sqlite3_finalize(q);
	sqlite3_close(db);
	reopen(f);
}

static int db_version(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	int v;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q,
					    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	v = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return v;
}

static struct pz_store_sub mksub(const char *impi, uint64_t sqn)
{
	struct pz_store_sub s;

	memset(&s, 0, sizeof(s));
	snprintf(s.impi, sizeof(s.impi), "%s", impi);
	memset(s.k, 0x11, sizeof(s.k));
	memset(s.opc, 0x22, sizeof(s.opc));
	s.sqn = sqn;
	s.amf[0] = 0x80;
	return s;
}

/* A version 2 database (before the BSF) is migrated in place: the trust
 * log stays, subscribers and bootstraps work, the version is 3. */
static void test_migrate_v2(void **state)
{
	struct fx *f = *state;
	struct pz_store_sub sub = mksub("a@ims.example", 5), got;
	uint8_t nodes[32] = { 7 };
	uint64_t n = 0;
	sqlite3 *db;

	assert_int_equal(pz_store_begin(f->st), PZ_OK);
	assert_int_equal(pz_store_tlog_append(f->st, 0, (const uint8_t *)"e",
					      1, nodes, sizeof(nodes)), PZ_OK);
	assert_int_equal(pz_store_commit(f->st), PZ_OK);
	pz_store_close(f->st);
	f->st = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TABLE subscriber; DROP TABLE "
				      "bootstrap; PRAGMA user_version=2",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(db_version(f->path), 2);
	assert_int_equal(pz_store_open(f->url, NULL, &f->st), PZ_OK);
	assert_int_equal(pz_store_tlog_size(f->st, &n), PZ_OK);
	assert_int_equal(n, 1);
	assert_int_equal(pz_store_sub_put(f->st, &sub), PZ_OK);
	assert_int_equal(pz_store_sub_get(f->st, sub.impi, &got), PZ_OK);
	assert_int_equal(got.sqn, 5);
	assert_int_equal(db_version(f->path), 3);
	reopen(f);
	assert_int_equal(pz_store_sub_get(f->st, sub.impi, &got), PZ_OK);
}

static int list_cb(void *ud, const char *impi, uint64_t sqn,
		   const uint8_t amf[2], const char *device, int64_t created)
{
	char *out = ud;
	size_t n = strlen(out);

	assert_true(created > 0);
	snprintf(out + n, 256 - n, "%s:%llu:%02x%02x:%s;", impi,
		 (unsigned long long)sqn, amf[0], amf[1], device);
	return 0;
}

/* Subscribers: add, read back (secrets included, for the BSF), the SQN
 * update, 48-bit bound, duplicates, listing without keys, removal with
 * its bootstrapping contexts; contexts: put, get, expiry purge. */
static void test_subscribers(void **state)
{
	struct fx *f = *state;
	struct pz_store_sub a = mksub("b@ims.example", 1), b, got;
	struct pz_store_boot bt, bg;
	char list[256] = "";
	char big[PZ_STORE_IMPI_MAX + 8];
	int64_t n = -1;

	b = mksub("a@ims.example", PZ_STORE_SQN_MAX);
	snprintf(b.device, sizeof(b.device), "urn:dev:mac:0024befffe804ff1");
	assert_int_equal(pz_store_sub_put(f->st, &a), PZ_OK);
	assert_int_equal(pz_store_sub_put(f->st, &b), PZ_OK);
	assert_int_equal(pz_store_sub_put(f->st, &a), PZ_EEXIST);
	a.sqn = PZ_STORE_SQN_MAX + 1;
	assert_int_equal(pz_store_sub_put(f->st, &a), PZ_EINVAL);
	a.impi[0] = 0;
	assert_int_equal(pz_store_sub_put(f->st, &a), PZ_EINVAL);
	assert_int_equal(pz_store_sub_get(f->st, "b@ims.example", &got), PZ_OK);
	assert_string_equal(got.impi, "b@ims.example");
	assert_int_equal(got.sqn, 1);
	assert_int_equal(got.k[15], 0x11);
	assert_int_equal(got.opc[0], 0x22);
	assert_int_equal(got.amf[0], 0x80);
	assert_true(got.created > 0);
	assert_int_equal(pz_store_sub_sqn(f->st, "b@ims.example", 77), PZ_OK);
	assert_int_equal(pz_store_sub_sqn(f->st, "b@ims.example",
					  PZ_STORE_SQN_MAX + 1), PZ_EINVAL);
	assert_int_equal(pz_store_sub_sqn(f->st, "nobody", 1), PZ_ENOTFOUND);
	assert_int_equal(pz_store_sub_get(f->st, "nobody", &got),
			 PZ_ENOTFOUND);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	assert_int_equal(pz_store_sub_get(f->st, big, &got), PZ_ENOTFOUND);
	assert_int_equal(pz_store_sub_list(f->st, list_cb, list), PZ_OK);
	assert_string_equal(list, "a@ims.example:281474976710655:8000:"
			    "urn:dev:mac:0024befffe804ff1;b@ims.example:77:8000:;");

	memset(&bt, 0, sizeof(bt));
	snprintf(bt.btid, sizeof(bt.btid), "I1U8vpY3qJ0hiuZNrke/NQ==@bsf.x");
	snprintf(bt.impi, sizeof(bt.impi), "b@ims.example");
	memset(bt.ks, 0x33, sizeof(bt.ks));
	memset(bt.rand, 0x44, sizeof(bt.rand));
	bt.expires = 1000;
	assert_int_equal(pz_store_boot_put(f->st, &bt), PZ_OK);
	assert_int_equal(pz_store_boot_get(f->st, bt.btid, &bg), PZ_OK);
	assert_memory_equal(&bt, &bg, sizeof(bt));
	assert_int_equal(pz_store_boot_get(f->st, "x@y", &bg), PZ_ENOTFOUND);
	assert_int_equal(pz_store_boot_purge(f->st, 999, &n), PZ_OK);
	assert_int_equal(n, 0);
	assert_int_equal(pz_store_boot_purge(f->st, 1000, &n), PZ_OK);
	assert_int_equal(n, 1);
	assert_int_equal(pz_store_boot_get(f->st, bt.btid, &bg), PZ_ENOTFOUND);
	/* Removing a subscriber removes its contexts. */
	assert_int_equal(pz_store_boot_put(f->st, &bt), PZ_OK);
	assert_int_equal(pz_store_sub_del(f->st, "b@ims.example"), PZ_OK);
	assert_int_equal(pz_store_sub_del(f->st, "b@ims.example"),
			 PZ_ENOTFOUND);
	assert_int_equal(pz_store_boot_get(f->st, bt.btid, &bg), PZ_ENOTFOUND);
	reopen(f);
	assert_int_equal(pz_store_sub_get(f->st, "a@ims.example", &got), PZ_OK);
	assert_int_equal(got.sqn, PZ_STORE_SQN_MAX);
	assert_string_equal(got.device, "urn:dev:mac:0024befffe804ff1");
}

static void test_options(void **state)
{
	struct fx *f = *state;
	struct pz_store_opts o = { 1, 1024, 100 };

	pz_store_close(f->st);
	f->st = NULL;
	assert_int_equal(pz_store_open(f->url, &o, &f->st), PZ_OK);
	ins(f->st, 0, PZ_TY_CB, "cb", "cb-in", 1, 0);
}

/* Allocation failures while reading rows: PZ_ENOMEM, nothing leaked. */
static void test_alloc_failure(void **state)
{
	struct fx *f = *state;
	int64_t root = ins(f->st, 0, PZ_TY_CB, "cb", "cb-in", 1, 0), id;
	struct pz_store_q q = { 0 };
	unsigned long n;
	int rc = PZ_ENOMEM;

	id = ins(f->st, root, PZ_TY_AE, "ae", "Cae", 1, 0);
	ins(f->st, id, PZ_TY_CNT, "c", NULL, 1, 0);
	for (n = 1; n < 1000; n++) {
		struct pz_res o;
		struct seen s;

		pz_res_init(&o);
		memset(&s, 0, sizeof(s));
		q.root = root;
		q.with_doc = true;
		pz_mem_fail_after(n);
		rc = pz_store_get(f->st, id, &o);
		if (rc == PZ_OK)
			rc = pz_store_find(f->st, &q, collect, &s);
		pz_mem_fail_after(0);
		pz_res_clear(&o);
		if (rc == PZ_OK) {
			assert_int_equal(s.n, 2);
			break;
		}
		assert_int_equal(rc, PZ_ENOMEM);
	}
	assert_int_equal(rc, PZ_OK);
	/* Writing: insert and update serialise the document. */
	for (n = 1; n < 1000; n++) {
		struct pz_res r;

		pz_res_init(&r);
		r.pid = id;
		r.ty = PZ_TY_CNT;
		r.rn = pz_strdup("fi");
		r.doc = json_pack("{s:s}", "lbl", "x");
		pz_mem_fail_after(n);
		rc = pz_store_insert(f->st, &r);
		pz_mem_fail_after(0);
		pz_res_clear(&r);
		if (rc == PZ_OK)
			break;
		assert_int_equal(rc, PZ_ENOMEM);
	}
	assert_int_equal(rc, PZ_OK);
}

struct scan_ctx {
	uint64_t seqs[8];
	size_t n;
	size_t stop_after;
};

static int scan_cb(void *ud, uint64_t seq, const uint8_t *entry, size_t len,
		   const uint8_t *nodes, size_t nlen)
{
	struct scan_ctx *c = ud;

	assert_int_equal(len, 2);
	assert_int_equal(entry[0], 'e');
	assert_int_equal(entry[1], (uint8_t)('0' + seq));
	assert_int_equal(nlen, 32 * (seq % 2 + 1));
	assert_int_equal(nodes[0], (uint8_t)seq);
	c->seqs[c->n++] = seq;
	return c->n == c->stop_after;
}

/* The trust log's rows: append in order, duplicates refused, lookups
 * with and without the entry, size, scans, and savepoint rollback. */
static void test_tlog_rows(void **state)
{
	struct fx *f = *state;
	uint8_t nodes[64], got[64], small[16], *entry = NULL;
	size_t nlen, len = 0;
	struct scan_ctx c = { .stop_after = 0 };
	uint64_t n = 7;

	assert_int_equal(pz_store_tlog_size(f->st, &n), PZ_OK);
	assert_int_equal(n, 0);
	assert_int_equal(pz_store_begin(f->st), PZ_OK);
	for (uint64_t seq = 0; seq < 4; seq++) {
		uint8_t e[2] = { 'e', (uint8_t)('0' + seq) };

		memset(nodes, 0, sizeof(nodes));
		nodes[0] = (uint8_t)seq;
		assert_int_equal(pz_store_tlog_append(f->st, seq, e, 2, nodes,
						      32 * (seq % 2 + 1)),
				 PZ_OK);
	}
	assert_int_equal(pz_store_tlog_append(f->st, 2, (const uint8_t *)"x",
					      1, nodes, 32), PZ_EEXIST);
	/* A savepoint rolled back takes its rows with it. */
	assert_int_equal(pz_store_savepoint(f->st), PZ_OK);
	assert_int_equal(pz_store_tlog_append(f->st, 4, (const uint8_t *)"e4",
					      2, nodes, 32), PZ_OK);
	assert_int_equal(pz_store_rollback_to(f->st), PZ_OK);
	assert_int_equal(pz_store_commit(f->st), PZ_OK);
	assert_int_equal(pz_store_tlog_size(f->st, &n), PZ_OK);
	assert_int_equal(n, 4);
	nlen = sizeof(got);
	assert_int_equal(pz_store_tlog_get(f->st, 3, &entry, &len, got, &nlen),
			 PZ_OK);
	assert_int_equal(len, 2);
	assert_memory_equal(entry, "e3", 2);
	assert_int_equal(nlen, 64);
	assert_int_equal(got[0], 3);
	pz_free(entry);
	nlen = sizeof(got);
	assert_int_equal(pz_store_tlog_get(f->st, 2, NULL, NULL, got, &nlen),
			 PZ_OK);
	assert_int_equal(nlen, 32);
	nlen = sizeof(small);
	assert_int_equal(pz_store_tlog_get(f->st, 1, NULL, NULL, small, &nlen),
			 PZ_ETOOBIG);
	nlen = sizeof(got);
	assert_int_equal(pz_store_tlog_get(f->st, 4, NULL, NULL, got, &nlen),
			 PZ_ENOTFOUND);
	assert_int_equal(pz_store_tlog_scan(f->st, 1, scan_cb, &c), PZ_OK);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.seqs[0], 1);
	assert_int_equal(c.seqs[2], 3);
	c.n = 0;
	c.stop_after = 2;
	assert_int_equal(pz_store_tlog_scan(f->st, 0, scan_cb, &c), PZ_OK);
	assert_int_equal(c.n, 2);
	reopen(f);
	assert_int_equal(pz_store_tlog_size(f->st, &n), PZ_OK);
	assert_int_equal(n, 4);
}

static int head_cb(void *ud, const struct pz_store_head *h)
{
	uint64_t *sizes = ud;

	sizes[++sizes[0]] = h->size;
	return 0;
}

/* Signed heads: put, replace, exact and newest lookups, scan order. */
static void test_heads(void **state)
{
	struct fx *f = *state;
	struct pz_store_head h, got;
	uint64_t sizes[8] = { 0 };

	assert_int_equal(pz_store_head_get(f->st, UINT64_MAX, &got),
			 PZ_ENOTFOUND);
	memset(&h, 0, sizeof(h));
	for (int s = 5; s > 0; s -= 2) {
		h.size = (uint64_t)s;
		h.ts = 1000 + s;
		memset(h.root, s, sizeof(h.root));
		memset(h.sig, s + 100, sizeof(h.sig));
		assert_int_equal(pz_store_head_put(f->st, &h), PZ_OK);
	}
	h.size = 3;
	h.ts = 42;
	assert_int_equal(pz_store_head_put(f->st, &h), PZ_OK);
	assert_int_equal(pz_store_head_get(f->st, UINT64_MAX, &got), PZ_OK);
	assert_int_equal(got.size, 5);
	assert_int_equal(got.ts, 1005);
	assert_int_equal(got.root[31], 5);
	assert_int_equal(got.sig[63], 105);
	assert_int_equal(pz_store_head_get(f->st, 3, &got), PZ_OK);
	assert_int_equal(got.ts, 42);
	assert_int_equal(pz_store_head_get(f->st, 2, &got), PZ_ENOTFOUND);
	assert_int_equal(pz_store_head_scan(f->st, head_cb, sizes), PZ_OK);
	assert_int_equal(sizes[0], 3);
	assert_int_equal(sizes[1], 1);
	assert_int_equal(sizes[2], 3);
	assert_int_equal(sizes[3], 5);
}

/* Identity records and aliases. */
static void test_idents(void **state)
{
	struct fx *f = *state;
	char *v = NULL;

	assert_int_equal(pz_store_ident_get(f->st, "urn:dev:ow:1", &v),
			 PZ_ENOTFOUND);
	assert_int_equal(pz_store_ident_put(f->st, "urn:dev:ow:1", "{}"),
			 PZ_OK);
	assert_int_equal(pz_store_ident_put(f->st, "urn:dev:ow:1",
					    "{\"a\":1}"), PZ_OK);
	assert_int_equal(pz_store_ident_get(f->st, "urn:dev:ow:1", &v), PZ_OK);
	assert_string_equal(v, "{\"a\":1}");
	pz_free(v);
	assert_int_equal(pz_store_alias_put(f->st, "Cx", "urn:dev:ow:1"),
			 PZ_OK);
	assert_int_equal(pz_store_alias_put(f->st, "Cx", "urn:dev:ow:1"),
			 PZ_OK);
	assert_int_equal(pz_store_alias_put(f->st, "Cx", "urn:dev:ow:2"),
			 PZ_EEXIST);
	assert_int_equal(pz_store_alias_get(f->st, "Cx", &v), PZ_OK);
	assert_string_equal(v, "urn:dev:ow:1");
	pz_free(v);
	assert_int_equal(pz_store_alias_del(f->st, "Cx"), PZ_OK);
	assert_int_equal(pz_store_alias_del(f->st, "Cx"), PZ_ENOTFOUND);
	assert_int_equal(pz_store_alias_get(f->st, "Cx", &v), PZ_ENOTFOUND);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_insert_get),
		T(test_insert_conflicts),
		T(test_insert_without_doc),
		T(test_edge),
		T(test_update_adjust),
		T(test_remove_subtree),
		T(test_find_children),
		T(test_find_paging_two_types),
		T(test_find_paging_newest_typed),
		T(test_find_deep),
		T(test_count),
		T(test_expired),
		T(test_cred_meta),
		T(test_batch_states),
		T(test_batch_commit_rollback),
		T(test_savepoints),
		T(test_ids_not_reused),
		T(test_ids_not_reused_autocommit),
		T(test_open_errors),
		T(test_migrate_v1),
		T(test_migrate_v2),
		T(test_subscribers),
		T(test_options),
		T(test_tlog_rows),
		T(test_heads),
		T(test_idents),
		T(test_alloc_failure),
	};

	/* PZ_TEST=pattern runs only the matching tests (docs/testing.md). */
	if (getenv("PZ_TEST"))
		cmocka_set_test_filter(getenv("PZ_TEST"));
	json_set_alloc_funcs(pz_malloc, pz_free);
	/* Store errors are expected here; keep the output readable. */
	pz_log_set_level("error");
	pz_log_open("/dev/null");
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
