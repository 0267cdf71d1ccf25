/*
 * test_core.c - the oneM2M core through its public API (pz_core_submit)
 * on a real SQLite store in a temporary directory:
 *   - addressing: structured, unstructured and hybrid targets in the
 *     CSE-relative, SP-relative and absolute scopes, la/ol, originator
 *     scopes, the request checks;
 *   - access control: default creator rights, every acop bit, the acor
 *     forms, self-privileges, acco time windows and addresses, policy
 *     validation, dangling policies;
 *   - filter criteria: ty, lbl, cty, sza/szb, sts/stb, cra/crb, ms/us,
 *     exa/exb, attributes, fo AND/OR, lim/ofst/lvl, drt, and the child
 *     result contents (rcn 4, 6, 8).
 * The core runs with trust_origin (X-M2M-Origin believed) so each test
 * can speak as any originator; "CAdmin" is the admin.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "plaza/pz_core.h"
#include "plaza/pz_err.h"
#include "plaza/pz_log.h"
#include "plaza/pz_loop.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_req.h"
#include "plaza/pz_store.h"
#include "plaza/pz_time.h"

#define ADMIN "CAdmin"
#define AE_PC "{\"m2m:ae\":{\"api\":\"Rtest\",\"rr\":false,\"srv\":[\"3\"]}}"
#define CNT_PC "{\"m2m:cnt\":{}}"

struct fx {
	char dir[64];
	char path[96];
	pz_loop *loop;
	pz_store *st;
	pz_core *core;
	int rqi;
	const char *peer;         /* peer address for the next requests */
	char loc[256];            /* location of the last create */
	char ri[16][64];          /* resource ids a setup noted */
	char msg[512];            /* m2m:dbg of the last refusal */
};

static struct fx *fx_new(void)
{
	struct pz_core_conf conf = {
		.cse_id = "plaza-in",
		.cse_name = "plaza",
		.sp_id = "plaza.example",
		.admin = ADMIN,
		.trust_origin = true,
		.open_registration = true,
	};
	struct fx *f = calloc(1, sizeof(*f));
	char url[128];

	if (!f)
		return NULL;
	snprintf(f->dir, sizeof(f->dir), "/tmp/pz-core-XXXXXX");
	if (!mkdtemp(f->dir))
		return NULL;
	snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
	snprintf(url, sizeof(url), "sqlite:%s", f->path);
	if (pz_loop_new(&f->loop) != PZ_OK ||
	    pz_store_open(url, NULL, &f->st) != PZ_OK ||
	    pz_core_new(&conf, f->st, f->loop, &f->core) != PZ_OK)
		return NULL;
	return f;
}

static int teardown(void **state)
{
	static const char *const sfx[] = { "", "-wal", "-shm" };
	struct fx *f = *state;
	char p[160];

	if (!f)
		return 0;
	pz_core_free(f->core);
	pz_store_close(f->st);
	pz_loop_free(f->loop);
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", f->path, sfx[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

struct answer {
	bool done;
	int calls;
};

static void on_done(void *ud, struct pz_rsp *rsp)
{
	struct answer *a = ud;

	(void)rsp;
	a->done = true;
	a->calls++;
}

/* Apply "a=b&c=d" to req through pz_req_param. */
static void apply_query(struct pz_req *req, const char *query)
{
	char buf[512], err[256];
	char *save = NULL, *kv;

	snprintf(buf, sizeof(buf), "%s", query);
	for (kv = strtok_r(buf, "&", &save); kv;
	     kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');

		if (eq)
			*eq++ = '\0';
		if (pz_req_param(req, kv, eq ? eq : "", err, sizeof(err)) !=
		    PZ_OK)
			fail_msg("query %s: %s", kv, err);
	}
}

/*
 * Run one request to completion; returns its rsc.  *out (if given) takes
 * the response content.  The target may carry a query after '?'.
 */
static int run(struct fx *f, enum pz_op op, const char *target,
	       const char *fr, int ty, const char *pc, json_t **out)
{
	struct answer a = { false, 0 };
	struct pz_req req;
	struct pz_rsp rsp;
	const char *q = strchr(target, '?');
	char rqi[16];
	int rsc;

	pz_req_init(&req);
	pz_rsp_init(&rsp);
	req.op = op;
	req.to = pz_arena_strndup(&req.arena, target,
				  q ? (size_t)(q - target) : strlen(target));
	req.fr = pz_arena_strdup(&req.arena, fr);
	snprintf(rqi, sizeof(rqi), "r%d", ++f->rqi);
	req.rqi = pz_arena_strdup(&req.arena, rqi);
	req.ty = ty;
	req.peer = f->peer;
	req.binding = "test";
	if (pc) {
		json_error_t jerr;

		req.pc = json_loads(pc, JSON_REJECT_DUPLICATES, &jerr);
		if (!req.pc)
			fail_msg("bad test content %s: %s", pc, jerr.text);
	}
	if (q)
		apply_query(&req, q + 1);
	pz_core_submit(f->core, &req, &rsp, on_done, &a);
	if (!a.done)
		pz_core_flush(f->core);
	assert_true(a.done);
	assert_int_equal(a.calls, 1);
	rsc = rsp.rsc;
	assert_non_null(rsp.rqi);
	assert_string_equal(rsp.rqi, rqi);
	f->msg[0] = '\0';
	if (rsc >= 4000)
		snprintf(f->msg, sizeof(f->msg), "%s",
			 json_string_value(json_object_get(rsp.pc, "m2m:dbg")) ?
			 json_string_value(json_object_get(rsp.pc, "m2m:dbg")) :
			 "(no m2m:dbg)");
	if (rsc == PZ_RSC_CREATED) {
		assert_non_null(rsp.location);
		snprintf(f->loc, sizeof(f->loc), "%s", rsp.location);
	}
	if (out) {
		*out = rsp.pc;
		rsp.pc = NULL;
	}
	pz_rsp_clear(&rsp);
	pz_req_clear(&req);
	return rsc;
}

/* Run and require want; a mismatch reports the core's reason. */
static void expect(struct fx *f, int want, enum pz_op op, const char *target,
		   const char *fr, int ty, const char *pc)
{
	int rsc = run(f, op, target, fr, ty, pc, NULL);

	if (rsc != want)
		fail_msg("%s %s as %s: rsc %d (%s), want %d", pz_op_name(op),
			 target, fr ? fr : "(none)", rsc, f->msg, want);
}

/* The "ri" of a response's single resource. */
static const char *ri_of(json_t *pc, char *out, size_t len)
{
	const char *key;
	json_t *obj;

	assert_non_null(pc);
	key = json_object_iter_key(json_object_iter(pc));
	obj = json_object_get(pc, key);
	assert_non_null(json_string_value(json_object_get(obj, "ri")));
	snprintf(out, len, "%s", json_string_value(json_object_get(obj, "ri")));
	return out;
}

/* Create and return the new resource's ri in f->ri[slot]. */
static const char *create(struct fx *f, int slot, const char *parent,
			  const char *fr, int ty, const char *pc)
{
	json_t *out = NULL;
	int rsc = run(f, PZ_OP_CREATE, parent, fr, ty, pc, &out);

	if (rsc != PZ_RSC_CREATED)
		fail_msg("create %s under %s as %s: rsc %d (%s)", pc, parent,
			 fr, rsc, f->msg);
	ri_of(out, f->ri[slot], sizeof(f->ri[slot]));
	json_decref(out);
	return f->ri[slot];
}

/* Retrieve target as fr; 2000 required; the resource's ri returned. */
static const char *retrieve_ri(struct fx *f, const char *target,
			       const char *fr, char *out, size_t len)
{
	json_t *pc = NULL;
	int rsc = run(f, PZ_OP_RETRIEVE, target, fr, 0, NULL, &pc);

	if (rsc != PZ_RSC_OK)
		fail_msg("retrieve %s as %s: rsc %d (%s)", target, fr, rsc,
			 f->msg);
	ri_of(pc, out, len);
	json_decref(pc);
	return out;
}

static void register_ae(struct fx *f, const char *aei)
{
	char loc[64];

	expect(f, PZ_RSC_CREATED, PZ_OP_CREATE, "plaza", aei, PZ_TY_AE, AE_PC);
	snprintf(loc, sizeof(loc), "plaza/%s", aei);
	assert_string_equal(f->loc, loc);
}

/* --- addressing --------------------------------------------------------- */

enum { RI_CNT = 0, RI_CNT2, RI_CIN1, RI_CIN2, RI_CIN3 };

/* Cae1 with container c1 (three instances, sub-container c2). */
static int setup_addr(void **state)
{
	struct fx *f = fx_new();

	*state = f;
	if (!f)
		return -1;
	register_ae(f, "Cae1");
	create(f, RI_CNT, "plaza/Cae1", "Cae1", PZ_TY_CNT,
	       "{\"m2m:cnt\":{\"rn\":\"c1\"}}");
	create(f, RI_CNT2, "plaza/Cae1/c1", "Cae1", PZ_TY_CNT,
	       "{\"m2m:cnt\":{\"rn\":\"c2\"}}");
	create(f, RI_CIN1, "plaza/Cae1/c1", "Cae1", PZ_TY_CIN,
	       "{\"m2m:cin\":{\"con\":\"one\"}}");
	create(f, RI_CIN2, "plaza/Cae1/c1", "Cae1", PZ_TY_CIN,
	       "{\"m2m:cin\":{\"con\":\"two\"}}");
	create(f, RI_CIN3, "plaza/Cae1/c1", "Cae1", PZ_TY_CIN,
	       "{\"m2m:cin\":{\"con\":\"three\"}}");
	return 0;
}

/* target must resolve (as Cae1) to the resource with ri want. */
static void expect_resolves(struct fx *f, const char *target,
			    const char *want)
{
	char got[64];

	retrieve_ri(f, target, "Cae1", got, sizeof(got));
	if (strcmp(got, want))
		fail_msg("%s resolved to %s, want %s", target, got, want);
}

static void test_addr_structured(void **state)
{
	struct fx *f = *state;
	const char *c1 = f->ri[RI_CNT], *c2 = f->ri[RI_CNT2];

	expect_resolves(f, "plaza/Cae1/c1", c1);
	expect_resolves(f, "plaza/Cae1/c1/c2", c2);
	expect_resolves(f, "-/Cae1/c1", c1);
	expect_resolves(f, "plaza/Cae1", "Cae1");
	expect_resolves(f, "plaza", "plaza-in");
	expect_resolves(f, "-", "plaza-in");
	/* A trailing slash names the same resource. */
	expect_resolves(f, "plaza/Cae1/c1/", c1);
}

static void test_addr_unstructured(void **state)
{
	struct fx *f = *state;
	const char *c1 = f->ri[RI_CNT];

	/* Generated ids: a type prefix and the row id. */
	assert_int_equal(strncmp(c1, "cnt", 3), 0);
	assert_int_equal(strncmp(f->ri[RI_CIN1], "cin", 3), 0);
	expect_resolves(f, c1, c1);
	expect_resolves(f, f->ri[RI_CIN2], f->ri[RI_CIN2]);
	expect_resolves(f, "Cae1", "Cae1");
	expect_resolves(f, "plaza-in", "plaza-in");
}

static void test_addr_hybrid(void **state)
{
	struct fx *f = *state;
	char t[128];

	expect_resolves(f, "Cae1/c1", f->ri[RI_CNT]);
	expect_resolves(f, "Cae1/c1/c2", f->ri[RI_CNT2]);
	snprintf(t, sizeof(t), "%s/c2", f->ri[RI_CNT]);
	expect_resolves(f, t, f->ri[RI_CNT2]);
	expect_resolves(f, "plaza-in/Cae1", "Cae1");
}

static void test_addr_sp_relative(void **state)
{
	struct fx *f = *state;
	char t[128];

	expect_resolves(f, "/plaza-in/plaza/Cae1/c1", f->ri[RI_CNT]);
	expect_resolves(f, "/plaza-in/-/Cae1/c1", f->ri[RI_CNT]);
	snprintf(t, sizeof(t), "/plaza-in/%s", f->ri[RI_CNT]);
	expect_resolves(f, t, f->ri[RI_CNT]);
	snprintf(t, sizeof(t), "/plaza-in/%s/c2", f->ri[RI_CNT]);
	expect_resolves(f, t, f->ri[RI_CNT2]);
	expect_resolves(f, "/plaza-in/Cae1/c1", f->ri[RI_CNT]);
	expect_resolves(f, "/plaza-in", "plaza-in");
	expect_resolves(f, "/plaza-in/", "plaza-in");
}

static void test_addr_absolute(void **state)
{
	struct fx *f = *state;
	char t[128];

	expect_resolves(f, "//plaza.example/plaza-in/plaza/Cae1/c1",
			f->ri[RI_CNT]);
	expect_resolves(f, "//plaza.example/plaza-in/-/Cae1/c1/c2",
			f->ri[RI_CNT2]);
	snprintf(t, sizeof(t), "//plaza.example/plaza-in/%s",
		 f->ri[RI_CIN1]);
	expect_resolves(f, t, f->ri[RI_CIN1]);
	expect_resolves(f, "//plaza.example/plaza-in/Cae1", "Cae1");
	expect_resolves(f, "//plaza.example/plaza-in", "plaza-in");
}

static void test_addr_not_found(void **state)
{
	static const char *const nf[] = {
		"plaza/nope", "plaza/Cae1/c1/nope", "plaza//Cae1",
		"plaza/Cae1/c1//c2", "Cnope", "cnt0", "cnt999999", "cntx",
		"CNT1", "nope/c1", "/plaza-in/nope", "/plaza-in/plaza/nope",
		"//plaza.example", "//plaza.example/plaza-in/nope",
		"plaza/Cae1/la", "plaza/Cae1/c1/fopt", "plaza/Cae1/c1/la/x",
		"/plaza-in//plaza",
	};
	static const char *const unreachable[] = {
		"/other-in/plaza", "/other-in",
		"//other.example/plaza-in/plaza",
		"//other.example", "/plaza-inx/plaza", "//plaza.examplex/x",
	};
	struct fx *f = *state;
	char t[128];

	for (size_t i = 0; i < sizeof(nf) / sizeof(nf[0]); i++)
		expect(f, PZ_RSC_NOT_FOUND, PZ_OP_RETRIEVE, nf[i], "Cae1", 0,
		       NULL);
	for (size_t i = 0; i < sizeof(unreachable) / sizeof(unreachable[0]);
	     i++)
		expect(f, PZ_RSC_TARGET_NOT_REACHABLE, PZ_OP_RETRIEVE,
		       unreachable[i], "Cae1", 0, NULL);
	/* A generated id names its type: the right number with another
	 * type's prefix is not the resource. */
	snprintf(t, sizeof(t), "ae%s", f->ri[RI_CNT] + 3);
	expect(f, PZ_RSC_NOT_FOUND, PZ_OP_RETRIEVE, t, "Cae1", 0, NULL);
	snprintf(t, sizeof(t), "cnt0%s", f->ri[RI_CNT] + 3);
	expect(f, PZ_RSC_NOT_FOUND, PZ_OP_RETRIEVE, t, "Cae1", 0, NULL);
}

/* Content of a latest/oldest retrieve. */
static void expect_con(struct fx *f, const char *target, const char *con)
{
	json_t *pc = NULL;
	int rsc = run(f, PZ_OP_RETRIEVE, target, "Cae1", 0, NULL, &pc);

	if (rsc != PZ_RSC_OK)
		fail_msg("%s: rsc %d (%s)", target, rsc, f->msg);
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(pc, "m2m:cin"), "con")), con);
	json_decref(pc);
}

static void test_la_ol(void **state)
{
	struct fx *f = *state;
	char t[128];

	expect_con(f, "plaza/Cae1/c1/la", "three");
	expect_con(f, "plaza/Cae1/c1/ol", "one");
	expect_con(f, "/plaza-in/plaza/Cae1/c1/la", "three");
	expect_con(f, "//plaza.example/plaza-in/Cae1/c1/ol", "one");
	snprintf(t, sizeof(t), "%s/la", f->ri[RI_CNT]);
	expect_con(f, t, "three");
	snprintf(t, sizeof(t), "/plaza-in/%s/ol", f->ri[RI_CNT]);
	expect_con(f, t, "one");
	/* Only rcn=1 applies. */
	expect(f, PZ_RSC_BAD_REQUEST, PZ_OP_RETRIEVE,
	       "plaza/Cae1/c1/la?rcn=4", "Cae1", 0, NULL);
	/* la/ol cannot be updated or created under. */
	expect(f, PZ_RSC_OPERATION_NOT_ALLOWED, PZ_OP_UPDATE,
	       "plaza/Cae1/c1/la", "Cae1", 0, "{\"m2m:cin\":{\"con\":\"x\"}}");
	expect(f, PZ_RSC_OPERATION_NOT_ALLOWED, PZ_OP_CREATE,
	       "plaza/Cae1/c1/la", "Cae1", PZ_TY_CIN,
	       "{\"m2m:cin\":{\"con\":\"x\"}}");
	/* Deleting la deletes the newest instance. */
	expect(f, PZ_RSC_DELETED, PZ_OP_DELETE, "plaza/Cae1/c1/la", "Cae1", 0,
	       NULL);
	expect_con(f, "plaza/Cae1/c1/la", "two");
	expect(f, PZ_RSC_NOT_FOUND, PZ_OP_RETRIEVE, f->ri[RI_CIN3], "Cae1", 0,
	       NULL);
	expect(f, PZ_RSC_DELETED, PZ_OP_DELETE, "plaza/Cae1/c1/ol", "Cae1", 0,
	       NULL);
	expect_con(f, "plaza/Cae1/c1/ol", "two");
	expect(f, PZ_RSC_DELETED, PZ_OP_DELETE, "plaza/Cae1/c1/ol", "Cae1", 0,
	       NULL);
	/* An empty container has neither. */
	expect(f, PZ_RSC_NOT_FOUND, PZ_OP_RETRIEVE, "plaza/Cae1/c1/la",
	       "Cae1", 0, NULL);
	expect(f, PZ_RSC_NOT_FOUND, PZ_OP_RETRIEVE, "plaza/Cae1/c1/c2/ol",
	       "Cae1", 0, NULL);
	expect(f, PZ_RSC_NOT_FOUND, PZ_OP_DELETE, "plaza/Cae1/c1/la", "Cae1",
	       0, NULL);
	/* The counters followed. */
	{
		json_t *pc = NULL;

		assert_int_equal(run(f, PZ_OP_RETRIEVE, "plaza/Cae1/c1",
				     "Cae1", 0, NULL, &pc), PZ_RSC_OK);
		assert_int_equal(json_integer_value(json_object_get(
			json_object_get(pc, "m2m:cnt"), "cni")), 0);
		assert_int_equal(json_integer_value(json_object_get(
			json_object_get(pc, "m2m:cnt"), "cbs")), 0);
		json_decref(pc);
	}
}

/* Originators in SP-relative and absolute form are the same originator. */
static void test_originator_scopes(void **state)
{
	struct fx *f = *state;
	char got[64];

	retrieve_ri(f, "plaza/Cae1/c1", "/plaza-in/Cae1", got, sizeof(got));
	retrieve_ri(f, "plaza/Cae1/c1", "//plaza.example/plaza-in/Cae1", got,
		    sizeof(got));
	/* Another CSE's Cae1 is someone else. */
	expect(f, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, PZ_OP_RETRIEVE,
	       "plaza/Cae1/c1", "/other-in/Cae1", 0, NULL);
	expect(f, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, PZ_OP_RETRIEVE,
	       "plaza/Cae1/c1", "//other.example/plaza-in/Cae1", 0, NULL);
}

static void test_result_content(void **state)
{
	struct fx *f = *state;
	json_t *pc = NULL;

	/* rcn=2: the hierarchical address; rcn=3 adds the resource. */
	assert_int_equal(run(f, PZ_OP_CREATE, "plaza/Cae1?rcn=2", "Cae1",
			     PZ_TY_CNT, "{\"m2m:cnt\":{\"rn\":\"r2\"}}", &pc),
			 PZ_RSC_CREATED);
	assert_string_equal(json_string_value(json_object_get(pc, "m2m:uri")),
			    "plaza/Cae1/r2");
	json_decref(pc);
	assert_string_equal(f->loc, "plaza/Cae1/r2");
	assert_int_equal(run(f, PZ_OP_CREATE, "Cae1?rcn=3", "Cae1", PZ_TY_CNT,
			     "{\"m2m:cnt\":{\"rn\":\"r3\"}}", &pc),
			 PZ_RSC_CREATED);
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(pc, "m2m:rce"), "uri")), "plaza/Cae1/r3");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
		json_object_get(pc, "m2m:rce"), "cnt"), "rn")), "r3");
	json_decref(pc);
	/* rcn=0: nothing. */
	assert_int_equal(run(f, PZ_OP_CREATE, "Cae1?rcn=0", "Cae1", PZ_TY_CNT,
			     "{\"m2m:cnt\":{\"rn\":\"r0\"}}", &pc),
			 PZ_RSC_CREATED);
	assert_null(pc);
	/* The default representation of a create. */
	assert_int_equal(run(f, PZ_OP_CREATE, "/plaza-in/Cae1", "Cae1",
			     PZ_TY_CNT, "{\"m2m:cnt\":{\"rn\":\"r1\","
			     "\"lbl\":[\"a\"]}}", &pc), PZ_RSC_CREATED);
	{
		json_t *o = json_object_get(pc, "m2m:cnt");

		assert_int_equal(json_integer_value(json_object_get(o, "ty")),
				 3);
		assert_string_equal(json_string_value(json_object_get(o, "pi")),
				    "Cae1");
		assert_non_null(json_object_get(o, "ct"));
		assert_non_null(json_object_get(o, "lt"));
		assert_string_equal(json_string_value(json_object_get(o, "et")),
				    "99991231T235959");
		assert_int_equal(json_array_size(json_object_get(o, "lbl")), 1);
	}
	json_decref(pc);
	/* A name in use: 4105; the original is untouched. */
	expect(f, PZ_RSC_CONFLICT, PZ_OP_CREATE, "plaza/Cae1", "Cae1",
	       PZ_TY_CNT, "{\"m2m:cnt\":{\"rn\":\"r1\"}}");
	expect(f, PZ_RSC_OK, PZ_OP_RETRIEVE, "plaza/Cae1/r1", "Cae1", 0, NULL);
}

static void test_request_checks(void **state)
{
	struct fx *f = *state;
	struct answer a = { false, 0 };
	struct pz_req req;
	struct pz_rsp rsp;

	/* Missing rqi and missing to. */
	pz_req_init(&req);
	pz_rsp_init(&rsp);
	req.op = PZ_OP_RETRIEVE;
	req.to = "plaza";
	req.fr = "Cae1";
	pz_core_submit(f->core, &req, &rsp, on_done, &a);
	pz_core_flush(f->core);
	assert_int_equal(a.calls, 1);
	assert_int_equal(rsp.rsc, PZ_RSC_BAD_REQUEST);
	pz_rsp_clear(&rsp);
	req.rqi = "x";
	req.to = "";
	pz_core_submit(f->core, &req, &rsp, on_done, &a);
	pz_core_flush(f->core);
	assert_int_equal(a.calls, 2);
	assert_int_equal(rsp.rsc, PZ_RSC_BAD_REQUEST);
	pz_rsp_clear(&rsp);
	/* Release versions. */
	req.to = "plaza";
	req.rvi = "9";
	pz_core_submit(f->core, &req, &rsp, on_done, &a);
	pz_core_flush(f->core);
	assert_int_equal(rsp.rsc, PZ_RSC_RELEASE_VERSION_NOT_SUPPORTED);
	pz_rsp_clear(&rsp);
	req.rvi = "2a";
	pz_core_submit(f->core, &req, &rsp, on_done, &a);
	pz_core_flush(f->core);
	assert_int_equal(rsp.rsc, PZ_RSC_OK);
	assert_string_equal(rsp.rvi, "2a");
	pz_rsp_clear(&rsp);
	/* An expired request is not executed. */
	req.rvi = NULL;
	req.rqet = pz_time_now() - 1000000;
	pz_core_submit(f->core, &req, &rsp, on_done, &a);
	pz_core_flush(f->core);
	assert_int_equal(rsp.rsc, PZ_RSC_REQUEST_TIMEOUT);
	pz_rsp_clear(&rsp);
	pz_req_clear(&req);

	expect(f, PZ_RSC_BAD_REQUEST, PZ_OP_RETRIEVE, "plaza", NULL, 0, NULL);
	expect(f, PZ_RSC_BAD_REQUEST, PZ_OP_RETRIEVE, "plaza", "", 0, NULL);
	expect(f, PZ_RSC_NOT_IMPLEMENTED, PZ_OP_RETRIEVE, "plaza?rt=2",
	       "Cae1", 0, NULL);
	expect(f, PZ_RSC_BAD_REQUEST, PZ_OP_RETRIEVE, "plaza?rcn=0", "Cae1",
	       0, NULL);
	expect(f, PZ_RSC_BAD_REQUEST, PZ_OP_DELETE, "plaza/Cae1/c1?rcn=4",
	       "Cae1", 0, NULL);
	expect(f, PZ_RSC_BAD_REQUEST, PZ_OP_CREATE, "plaza/Cae1?fu=2",
	       "Cae1", PZ_TY_CNT, CNT_PC);
	expect(f, PZ_RSC_BAD_REQUEST, PZ_OP_RETRIEVE, "plaza", "Cae1", 0,
	       "{\"m2m:cnt\":{}}");
	/* Create: type, content and names. */
	expect(f, PZ_RSC_BAD_REQUEST, PZ_OP_CREATE, "plaza/Cae1", "Cae1", 0,
	       CNT_PC);
	expect(f, PZ_RSC_NOT_IMPLEMENTED, PZ_OP_CREATE, "plaza/Cae1", "Cae1",
	       28, "{\"m2m:fcnt\":{}}");
	expect(f, PZ_RSC_BAD_REQUEST, PZ_OP_CREATE, "plaza/Cae1", "Cae1",
	       777, "{\"m2m:x\":{}}");
	expect(f, PZ_RSC_INVALID_CHILD_RESOURCE_TYPE, PZ_OP_CREATE,
	       "plaza/Cae1", "Cae1", PZ_TY_CIN,
	       "{\"m2m:cin\":{\"con\":\"x\"}}");
	expect(f, PZ_RSC_BAD_REQUEST, PZ_OP_CREATE, "plaza/Cae1", "Cae1",
	       PZ_TY_CNT, "{\"m2m:cin\":{}}");
	expect(f, PZ_RSC_BAD_REQUEST, PZ_OP_CREATE, "plaza/Cae1", "Cae1",
	       PZ_TY_CNT, NULL);
	expect(f, PZ_RSC_BAD_REQUEST, PZ_OP_CREATE, "plaza/Cae1", "Cae1",
	       PZ_TY_CNT, "{\"m2m:cnt\":{\"bogus\":1}}");
	expect(f, PZ_RSC_BAD_REQUEST, PZ_OP_CREATE, "plaza/Cae1", "Cae1",
	       PZ_TY_CNT, "{\"m2m:cnt\":{\"mni\":-1}}");
	expect(f, PZ_RSC_BAD_REQUEST, PZ_OP_CREATE, "plaza/Cae1", "Cae1",
	       PZ_TY_CNT, "{\"m2m:cnt\":{\"cni\":1}}");
	static const char *const bad_rn[] = { "la", "ol", "fopt", "-", ".",
					      "..", "a/b", "a b", "" };
	for (size_t i = 0; i < sizeof(bad_rn) / sizeof(bad_rn[0]); i++) {
		char pc[64];

		snprintf(pc, sizeof(pc), "{\"m2m:cnt\":{\"rn\":\"%s\"}}",
			 bad_rn[i]);
		expect(f, PZ_RSC_BAD_REQUEST, PZ_OP_CREATE, "plaza/Cae1",
		       "Cae1", PZ_TY_CNT, pc);
	}
	expect(f, PZ_RSC_BAD_REQUEST, PZ_OP_CREATE, "plaza/Cae1", "Cae1",
	       PZ_TY_CNT, "{\"m2m:cnt\":{\"et\":\"20000101T000000\"}}");
	/* The CSEBase is neither updated nor deleted. */
	expect(f, PZ_RSC_OPERATION_NOT_ALLOWED, PZ_OP_DELETE, "plaza", ADMIN,
	       0, NULL);
	expect(f, PZ_RSC_OPERATION_NOT_ALLOWED, PZ_OP_UPDATE, "plaza", ADMIN,
	       0, "{\"m2m:cb\":{\"lbl\":[]}}");
	/* Instances are immutable. */
	expect(f, PZ_RSC_OPERATION_NOT_ALLOWED, PZ_OP_UPDATE, f->ri[RI_CIN1],
	       "Cae1", 0, "{\"m2m:cin\":{\"lbl\":[\"x\"]}}");
	/* Notifications to the CSE itself are not accepted. */
	expect(f, PZ_RSC_OPERATION_NOT_ALLOWED, PZ_OP_NOTIFY, "plaza", "Cae1",
	       0, "{\"m2m:sgn\":{}}");
}

static void test_update_delete(void **state)
{
	struct fx *f = *state;
	json_t *pc = NULL;

	assert_int_equal(run(f, PZ_OP_UPDATE, "plaza/Cae1/c1", "Cae1", 0,
			     "{\"m2m:cnt\":{\"lbl\":[\"x\"],\"mni\":2}}", &pc),
			 PZ_RSC_UPDATED);
	json_decref(pc);
	/* mni=2 removed the oldest instance at once. */
	expect_con(f, "plaza/Cae1/c1/ol", "two");
	assert_int_equal(run(f, PZ_OP_RETRIEVE, "plaza/Cae1/c1", "Cae1", 0,
			     NULL, &pc), PZ_RSC_OK);
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(pc, "m2m:cnt"), "cni")), 2);
	json_decref(pc);
	/* rcn=9: only what was modified. */
	assert_int_equal(run(f, PZ_OP_UPDATE, "plaza/Cae1/c1?rcn=9", "Cae1", 0,
			     "{\"m2m:cnt\":{\"lbl\":null}}", &pc),
			 PZ_RSC_UPDATED);
	assert_int_equal(json_object_size(json_object_get(pc, "m2m:cnt")), 1);
	json_decref(pc);
	expect(f, PZ_RSC_BAD_REQUEST, PZ_OP_UPDATE, "plaza/Cae1/c1", "Cae1",
	       0, "{\"m2m:cnt\":{}}");
	expect(f, PZ_RSC_BAD_REQUEST, PZ_OP_UPDATE, "plaza/Cae1/c1", "Cae1",
	       0, "{\"m2m:cnt\":{\"rn\":\"new\"}}");
	/* Deleting a container deletes its subtree. */
	expect(f, PZ_RSC_DELETED, PZ_OP_DELETE, "plaza/Cae1/c1", "Cae1", 0,
	       NULL);
	expect(f, PZ_RSC_NOT_FOUND, PZ_OP_RETRIEVE, f->ri[RI_CNT2], "Cae1", 0,
	       NULL);
	expect(f, PZ_RSC_NOT_FOUND, PZ_OP_RETRIEVE, f->ri[RI_CIN2], "Cae1", 0,
	       NULL);
	expect(f, PZ_RSC_NOT_FOUND, PZ_OP_DELETE, "plaza/Cae1/c1", "Cae1", 0,
	       NULL);
	/* Deregistration. */
	expect(f, PZ_RSC_DELETED, PZ_OP_DELETE, "plaza/Cae1", "Cae1", 0, NULL);
	expect(f, PZ_RSC_NOT_FOUND, PZ_OP_RETRIEVE, "Cae1", ADMIN, 0, NULL);
	register_ae(f, "Cae1");
}

static void test_registration(void **state)
{
	struct fx *f = *state;
	json_t *pc = NULL;
	char ri[64];

	expect(f, PZ_RSC_ORIGINATOR_HAS_ALREADY_REGISTERED, PZ_OP_CREATE,
	       "plaza", "Cae1", PZ_TY_AE, AE_PC);
	/* "C" asks the CSE to choose. */
	assert_int_equal(run(f, PZ_OP_CREATE, "plaza", "C", PZ_TY_AE, AE_PC,
			     &pc), PZ_RSC_CREATED);
	ri_of(pc, ri, sizeof(ri));
	assert_int_equal(ri[0], 'C');
	assert_true(strlen(ri) > 2);
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(pc, "m2m:ae"), "aei")), ri);
	json_decref(pc);
	{
		char got[64];

		retrieve_ri(f, ri, ri, got, sizeof(got));
		assert_string_equal(got, ri);
	}
	/* Registration goes to the CSEBase only. */
	expect(f, PZ_RSC_INVALID_CHILD_RESOURCE_TYPE, PZ_OP_CREATE,
	       "plaza/Cae1", "Cae9", PZ_TY_AE, AE_PC);
	expect(f, PZ_RSC_BAD_REQUEST, PZ_OP_CREATE, "plaza", "Cae9", PZ_TY_AE,
	       "{\"m2m:ae\":{\"api\":\"Xbad\",\"rr\":false,\"srv\":[\"3\"]}}");
	expect(f, PZ_RSC_BAD_REQUEST, PZ_OP_CREATE, "plaza", "Cae9", PZ_TY_AE,
	       "{\"m2m:ae\":{\"api\":\"Rx\",\"rr\":false}}");
	expect(f, PZ_RSC_SECURITY_ASSOCIATION_REQUIRED, PZ_OP_CREATE, "plaza",
	       "Xae9", PZ_TY_AE, AE_PC);
}

/* Submit with allocation n failing (and every later one); the request
 * itself is built before the failures start. */
static int run_failing(struct fx *f, unsigned long n, enum pz_op op,
		       const char *to, const char *query, int ty,
		       const char *pc)
{
	struct answer a = { false, 0 };
	struct pz_req req;
	struct pz_rsp rsp;
	int rsc;

	pz_req_init(&req);
	pz_rsp_init(&rsp);
	req.op = op;
	req.to = to;
	req.fr = "Cae1";
	req.rqi = "fault";
	req.ty = ty;
	req.pc = pc ? json_loads(pc, 0, NULL) : NULL;
	if (query)
		apply_query(&req, query);
	pz_mem_fail_after(n);
	pz_core_submit(f->core, &req, &rsp, on_done, &a);
	if (!a.done)
		pz_core_flush(f->core);
	pz_mem_fail_after(0);
	assert_int_equal(a.calls, 1);
	rsc = rsp.rsc;
	pz_rsp_clear(&rsp);
	pz_req_clear(&req);
	return rsc;
}

/* Fail allocation N = 1, 2, ... of a create, an update, a discovery and
 * a delete of la:
 * each either succeeds or answers 5000, and a failed write leaves
 * nothing behind (its savepoint rolled back). */
static void test_alloc_failure(void **state)
{
	struct fx *f = *state;
	unsigned long n;
	int rsc = 0;

	pz_log_open("/dev/null");
	for (n = 1; n < 5000; n++) {
		rsc = run_failing(f, n, PZ_OP_CREATE, "plaza/Cae1/c1", NULL,
				  PZ_TY_CIN, "{\"m2m:cin\":{\"rn\":\"fi\","
				  "\"con\":\"x\",\"lbl\":[\"a\"]}}");
		if (rsc == PZ_RSC_CREATED)
			break;
		if (rsc != PZ_RSC_INTERNAL_SERVER_ERROR)
			fail_msg("create, n=%lu: rsc %d", n, rsc);
		if (run(f, PZ_OP_RETRIEVE, "plaza/Cae1/c1/fi", "Cae1", 0, NULL,
			NULL) != PZ_RSC_NOT_FOUND)
			fail_msg("create failed at n=%lu but left a resource",
				 n);
	}
	assert_int_equal(rsc, PZ_RSC_CREATED);
	assert_true(n > 1);
	for (n = 1; n < 5000; n++) {
		rsc = run_failing(f, n, PZ_OP_UPDATE, "plaza/Cae1/c1", NULL, 0,
				  "{\"m2m:cnt\":{\"lbl\":[\"x\",\"y\"]}}");
		if (rsc == PZ_RSC_UPDATED)
			break;
		if (rsc != PZ_RSC_INTERNAL_SERVER_ERROR)
			fail_msg("update, n=%lu: rsc %d", n, rsc);
	}
	assert_int_equal(rsc, PZ_RSC_UPDATED);
	for (n = 1; n < 5000; n++) {
		rsc = run_failing(f, n, PZ_OP_RETRIEVE, "plaza/Cae1",
				  "fu=1&lbl=a", 0, NULL);
		if (rsc == PZ_RSC_OK)
			break;
		if (rsc != PZ_RSC_INTERNAL_SERVER_ERROR)
			fail_msg("discovery, n=%lu: rsc %d", n, rsc);
	}
	assert_int_equal(rsc, PZ_RSC_OK);
	for (n = 1; n < 5000; n++) {
		rsc = run_failing(f, n, PZ_OP_DELETE, "plaza/Cae1/c1/la", NULL,
				  0, NULL);
		if (rsc == PZ_RSC_DELETED)
			break;
		if (rsc != PZ_RSC_INTERNAL_SERVER_ERROR)
			fail_msg("delete la, n=%lu: rsc %d", n, rsc);
		expect_con(f, "plaza/Cae1/c1/la", "x");
	}
	assert_int_equal(rsc, PZ_RSC_DELETED);
	pz_log_open("-");
	/* The core still works. */
	expect_con(f, "plaza/Cae1/c1/la", "three");
}

/* --- access control ------------------------------------------------------ */

enum { RI_ACP = 5, RI_C1, RI_I1, RI_I2, RI_I3 };

/* Cae1 owns c1 (two admin-made instances) governed by acp1, whose
 * self-privileges give Cae1 everything; Cae2 is registered too. */
static int setup_acp(void **state)
{
	struct fx *f = fx_new();
	char pc[256];

	*state = f;
	if (!f)
		return -1;
	register_ae(f, "Cae1");
	register_ae(f, "Cae2");
	create(f, RI_C1, "plaza/Cae1", "Cae1", PZ_TY_CNT,
	       "{\"m2m:cnt\":{\"rn\":\"c1\"}}");
	create(f, RI_I1, "plaza/Cae1/c1", ADMIN, PZ_TY_CIN,
	       "{\"m2m:cin\":{\"rn\":\"i1\",\"con\":\"x\"}}");
	create(f, RI_I2, "plaza/Cae1/c1", ADMIN, PZ_TY_CIN,
	       "{\"m2m:cin\":{\"rn\":\"i2\",\"con\":\"y\"}}");
	create(f, RI_ACP, "plaza/Cae1", "Cae1", PZ_TY_ACP,
	       "{\"m2m:acp\":{\"rn\":\"acp1\",\"pv\":{\"acr\":[]},"
	       "\"pvs\":{\"acr\":[{\"acor\":[\"Cae1\"],\"acop\":63}]}}}");
	snprintf(pc, sizeof(pc), "{\"m2m:cnt\":{\"acpi\":[\"%s\"]}}",
		 f->ri[RI_ACP]);
	expect(f, PZ_RSC_UPDATED, PZ_OP_UPDATE, "plaza/Cae1/c1", "Cae1", 0,
	       pc);
	return 0;
}

/* Set acp1's privileges to one rule. */
static void set_rule(struct fx *f, const char *acor, int acop,
		     const char *acco)
{
	char pc[512];

	snprintf(pc, sizeof(pc), "{\"m2m:acp\":{\"pv\":{\"acr\":[{\"acor\":%s,"
		 "\"acop\":%d%s%s}]}}}", acor, acop, acco ? ",\"acco\":" : "",
		 acco ? acco : "");
	expect(f, PZ_RSC_UPDATED, PZ_OP_UPDATE, "plaza/Cae1/acp1", "Cae1", 0,
	       pc);
}

/* Number of results a discovery below target gives fr. */
static size_t discovered(struct fx *f, const char *target, const char *fr)
{
	char t[256];
	json_t *pc = NULL;
	size_t n;

	snprintf(t, sizeof(t), "%s?fu=1", target);
	assert_int_equal(run(f, PZ_OP_RETRIEVE, t, fr, 0, NULL, &pc),
			 PZ_RSC_OK);
	n = json_array_size(json_object_get(pc, "m2m:uril"));
	json_decref(pc);
	return n;
}

static void test_acp_default_creator(void **state)
{
	struct fx *f = *state;

	/* Without acpi only the creator (and the admin) may act. */
	create(f, 15, "plaza/Cae1", "Cae1", PZ_TY_CNT,
	       "{\"m2m:cnt\":{\"rn\":\"own\"}}");
	expect(f, PZ_RSC_OK, PZ_OP_RETRIEVE, "plaza/Cae1/own", "Cae1", 0,
	       NULL);
	expect(f, PZ_RSC_OK, PZ_OP_RETRIEVE, "plaza/Cae1/own", ADMIN, 0,
	       NULL);
	expect(f, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, PZ_OP_RETRIEVE,
	       "plaza/Cae1/own", "Cae2", 0, NULL);
	expect(f, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, PZ_OP_UPDATE,
	       "plaza/Cae1/own", "Cae2", 0, "{\"m2m:cnt\":{\"mni\":1}}");
	expect(f, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, PZ_OP_CREATE,
	       "plaza/Cae1/own", "Cae2", PZ_TY_CIN,
	       "{\"m2m:cin\":{\"con\":\"x\"}}");
	expect(f, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, PZ_OP_DELETE,
	       "plaza/Cae1/own", "Cae2", 0, NULL);
	expect(f, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, PZ_OP_CREATE,
	       "plaza/Cae1", "Cae2", PZ_TY_CNT, CNT_PC);
	assert_int_equal(discovered(f, "plaza/Cae1", "Cae2"), 0);
	/* With acpi set the creator has only what the policy gives. */
	expect(f, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, PZ_OP_RETRIEVE,
	       "plaza/Cae1/c1", "Cae1", 0, NULL);
	expect(f, PZ_RSC_OK, PZ_OP_RETRIEVE, "plaza/Cae1/c1", ADMIN, 0, NULL);
}

/* Each acop bit grants its operation and nothing else. */
static void test_acp_bits(void **state)
{
	static const int bits[] = { 1, 2, 4, 8, 16, 32, 63 };
	struct fx *f = *state;
	int k = 0;

	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		int b = bits[i];
		char cin[64], rn[16];

		set_rule(f, "[\"Cae2\"]", b, NULL);
		/* create (1) */
		snprintf(rn, sizeof(rn), "n%d", k++);
		snprintf(cin, sizeof(cin),
			 "{\"m2m:cin\":{\"rn\":\"%s\",\"con\":\"z\"}}", rn);
		expect(f, b & 1 ? PZ_RSC_CREATED :
		       PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, PZ_OP_CREATE,
		       "plaza/Cae1/c1", "Cae2", PZ_TY_CIN, cin);
		/* retrieve (2), also of an instance and of la */
		expect(f, b & 2 ? PZ_RSC_OK :
		       PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, PZ_OP_RETRIEVE,
		       "plaza/Cae1/c1", "Cae2", 0, NULL);
		expect(f, b & 2 ? PZ_RSC_OK :
		       PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, PZ_OP_RETRIEVE,
		       "plaza/Cae1/c1/i1", "Cae2", 0, NULL);
		expect(f, b & 2 ? PZ_RSC_OK :
		       PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, PZ_OP_RETRIEVE,
		       "plaza/Cae1/c1/la", "Cae2", 0, NULL);
		/* update (4) */
		expect(f, b & 4 ? PZ_RSC_UPDATED :
		       PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, PZ_OP_UPDATE,
		       "plaza/Cae1/c1", "Cae2", 0,
		       "{\"m2m:cnt\":{\"lbl\":[\"u\"]}}");
		/* discover (32): the instances below c1 */
		if (b & 32)
			assert_true(discovered(f, "plaza/Cae1/c1", "Cae2") >=
				    2);
		else
			assert_int_equal(discovered(f, "plaza/Cae1/c1", "Cae2"),
					 0);
		/* delete (8): an instance the admin made */
		expect(f, b & 8 ? PZ_RSC_DELETED :
		       PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, PZ_OP_DELETE,
		       "plaza/Cae1/c1/i1", "Cae2", 0, NULL);
		if (b & 8)
			create(f, RI_I1, "plaza/Cae1/c1", ADMIN, PZ_TY_CIN,
			       "{\"m2m:cin\":{\"rn\":\"i1\",\"con\":\"x\"}}");
		/* The policy is not the target's: nothing on acp1 itself. */
		expect(f, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, PZ_OP_RETRIEVE,
		       "plaza/Cae1/acp1", "Cae2", 0, NULL);
	}
}

/* Whether an acor list lets Cae2 retrieve c1. */
static void expect_acor(struct fx *f, const char *acor, const char *fr,
			bool allowed)
{
	int rsc;

	set_rule(f, acor, 2, NULL);
	rsc = run(f, PZ_OP_RETRIEVE, "plaza/Cae1/c1", fr, 0, NULL, NULL);
	if (rsc != (allowed ? PZ_RSC_OK : PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE))
		fail_msg("acor %s, originator %s: rsc %d (%s), want %s", acor,
			 fr, rsc, f->msg, allowed ? "allowed" : "denied");
}

static void test_acor_forms(void **state)
{
	struct fx *f = *state;

	expect_acor(f, "[\"all\"]", "Cae2", true);
	expect_acor(f, "[\"all\"]", "Cnobody", true);
	expect_acor(f, "[\"Cae2\"]", "Cae2", true);
	expect_acor(f, "[\"Cae2\"]", "/plaza-in/Cae2", true);
	expect_acor(f, "[\"/plaza-in/Cae2\"]", "Cae2", true);
	expect_acor(f, "[\"Cx\",\"Cae2\"]", "Cae2", true);
	expect_acor(f, "[\"C*\"]", "Cae2", true);
	expect_acor(f, "[\"*ae2\"]", "Cae2", true);
	expect_acor(f, "[\"C*2\"]", "Cae2", true);
	expect_acor(f, "[\"C*3\"]", "Cae2", false);
	expect_acor(f, "[\"Cae2\"]", "Cae3", false);
	expect_acor(f, "[\"Cae2x\"]", "Cae2", false);
	expect_acor(f, "[\"cae2\"]", "Cae2", false);
	expect_acor(f, "[\"S*\"]", "Cae2", false);
	expect_acor(f, "[]", "Cae2", false);
	expect_acor(f, "[\"/other-in/Cae2\"]", "Cae2", false);
}

/* "the exact ID in any scope" (acp.c): the absolute form too. */
static void test_acor_absolute(void **state)
{
	struct fx *f = *state;

	expect_acor(f, "[\"//plaza.example/plaza-in/Cae2\"]", "Cae2", true);
	expect_acor(f, "[\"//other.example/plaza-in/Cae2\"]", "Cae2", false);
}

static void test_acp_self_privileges(void **state)
{
	struct fx *f = *state;
	const char *upd = "{\"m2m:acp\":{\"lbl\":[\"x\"]}}";

	set_rule(f, "[\"Cae2\"]", 63, NULL);
	/* pv does not govern the policy itself; pvs does. */
	expect(f, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, PZ_OP_RETRIEVE,
	       "plaza/Cae1/acp1", "Cae2", 0, NULL);
	expect(f, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, PZ_OP_UPDATE,
	       "plaza/Cae1/acp1", "Cae2", 0, upd);
	expect(f, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, PZ_OP_DELETE,
	       "plaza/Cae1/acp1", "Cae2", 0, NULL);
	expect(f, PZ_RSC_OK, PZ_OP_RETRIEVE, "plaza/Cae1/acp1", "Cae1", 0,
	       NULL);
	expect(f, PZ_RSC_UPDATED, PZ_OP_UPDATE, "plaza/Cae1/acp1", "Cae1", 0,
	       upd);
	expect(f, PZ_RSC_OK, PZ_OP_RETRIEVE, f->ri[RI_ACP], ADMIN, 0, NULL);
	/* Hand the policy to Cae2 (retrieve only): Cae1 loses it. */
	expect(f, PZ_RSC_UPDATED, PZ_OP_UPDATE, "plaza/Cae1/acp1", "Cae1", 0,
	       "{\"m2m:acp\":{\"pvs\":{\"acr\":[{\"acor\":[\"Cae2\"],"
	       "\"acop\":2}]}}}");
	expect(f, PZ_RSC_OK, PZ_OP_RETRIEVE, "plaza/Cae1/acp1", "Cae2", 0,
	       NULL);
	expect(f, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, PZ_OP_UPDATE,
	       "plaza/Cae1/acp1", "Cae2", 0, upd);
	expect(f, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, PZ_OP_RETRIEVE,
	       "plaza/Cae1/acp1", "Cae1", 0, NULL);
}

static void test_acco_time(void **state)
{
	struct fx *f = *state;

	set_rule(f, "[\"Cae2\"]", 2, "[{\"actw\":[\"* * * * * *\"]}]");
	expect(f, PZ_RSC_OK, PZ_OP_RETRIEVE, "plaza/Cae1/c1", "Cae2", 0, NULL);
	/* 31 February never comes. */
	set_rule(f, "[\"Cae2\"]", 2, "[{\"actw\":[\"0 0 0 31 2 *\"]}]");
	expect(f, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, PZ_OP_RETRIEVE,
	       "plaza/Cae1/c1", "Cae2", 0, NULL);
	/* Any window of a context, any context of a rule. */
	set_rule(f, "[\"Cae2\"]", 2,
		 "[{\"actw\":[\"0 0 0 31 2 *\",\"* * * * 1-12 0-6\"]}]");
	expect(f, PZ_RSC_OK, PZ_OP_RETRIEVE, "plaza/Cae1/c1", "Cae2", 0, NULL);
	set_rule(f, "[\"Cae2\"]", 2,
		 "[{\"actw\":[\"0 0 0 31 2 *\"]},"
		 "{\"actw\":[\"*/1 * * * * *\"]}]");
	expect(f, PZ_RSC_OK, PZ_OP_RETRIEVE, "plaza/Cae1/c1", "Cae2", 0, NULL);
	/* Malformed windows never hold. */
	set_rule(f, "[\"Cae2\"]", 2, "[{\"actw\":[\"* * *\"]}]");
	expect(f, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, PZ_OP_RETRIEVE,
	       "plaza/Cae1/c1", "Cae2", 0, NULL);
	set_rule(f, "[\"Cae2\"]", 2, "[{\"actw\":[\"* * * * * * *\"]}]");
	expect(f, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, PZ_OP_RETRIEVE,
	       "plaza/Cae1/c1", "Cae2", 0, NULL);
	/* Location (aclr) is never known, so never holds. */
	set_rule(f, "[\"Cae2\"]", 2, "[{\"aclr\":{}}]");
	expect(f, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, PZ_OP_RETRIEVE,
	       "plaza/Cae1/c1", "Cae2", 0, NULL);
	/* An empty acco is no condition. */
	set_rule(f, "[\"Cae2\"]", 2, "[]");
	expect(f, PZ_RSC_OK, PZ_OP_RETRIEVE, "plaza/Cae1/c1", "Cae2", 0, NULL);
}

static void test_acco_address(void **state)
{
	struct fx *f = *state;

	set_rule(f, "[\"Cae2\"]", 2,
		 "[{\"acip\":{\"ipv4\":[\"127.0.0.0/8\"],"
		 "\"ipv6\":[\"::1/128\"]}}]");
	f->peer = "127.0.0.1:5555";
	expect(f, PZ_RSC_OK, PZ_OP_RETRIEVE, "plaza/Cae1/c1", "Cae2", 0, NULL);
	f->peer = "[::1]:80";
	expect(f, PZ_RSC_OK, PZ_OP_RETRIEVE, "plaza/Cae1/c1", "Cae2", 0, NULL);
	f->peer = "10.1.2.3:5555";
	expect(f, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, PZ_OP_RETRIEVE,
	       "plaza/Cae1/c1", "Cae2", 0, NULL);
	f->peer = "[2001:db8::1]:80";
	expect(f, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, PZ_OP_RETRIEVE,
	       "plaza/Cae1/c1", "Cae2", 0, NULL);
	f->peer = NULL;
	expect(f, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, PZ_OP_RETRIEVE,
	       "plaza/Cae1/c1", "Cae2", 0, NULL);
	/* Prefix lengths that are not multiples of 8; a plain address. */
	set_rule(f, "[\"Cae2\"]", 2,
		 "[{\"acip\":{\"ipv4\":[\"10.1.2.0/23\",\"192.0.2.7\"]}}]");
	f->peer = "10.1.3.200:1";
	expect(f, PZ_RSC_OK, PZ_OP_RETRIEVE, "plaza/Cae1/c1", "Cae2", 0, NULL);
	f->peer = "10.1.4.1:1";
	expect(f, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, PZ_OP_RETRIEVE,
	       "plaza/Cae1/c1", "Cae2", 0, NULL);
	f->peer = "192.0.2.7:1";
	expect(f, PZ_RSC_OK, PZ_OP_RETRIEVE, "plaza/Cae1/c1", "Cae2", 0, NULL);
	f->peer = "192.0.2.8:1";
	expect(f, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, PZ_OP_RETRIEVE,
	       "plaza/Cae1/c1", "Cae2", 0, NULL);
	/* Both parts of a context must hold. */
	set_rule(f, "[\"Cae2\"]", 2,
		 "[{\"acip\":{\"ipv4\":[\"192.0.2.0/24\"]},"
		 "\"actw\":[\"0 0 0 31 2 *\"]}]");
	f->peer = "192.0.2.7:1";
	expect(f, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, PZ_OP_RETRIEVE,
	       "plaza/Cae1/c1", "Cae2", 0, NULL);
	f->peer = NULL;
}

static void test_acp_validation(void **state)
{
	static const char *const bad_pv[] = {
		"{\"acr\":[{\"acor\":[\"Cae2\"],\"acop\":0}]}",
		"{\"acr\":[{\"acor\":[\"Cae2\"],\"acop\":64}]}",
		"{\"acr\":[{\"acor\":[\"Cae2\"],\"acop\":\"2\"}]}",
		"{\"acr\":[{\"acor\":[\"Cae2\"]}]}",
		"{\"acr\":[{\"acor\":\"Cae2\",\"acop\":2}]}",
		"{\"acr\":[{\"acor\":[\"\"],\"acop\":2}]}",
		"{\"acr\":[{\"acor\":[1],\"acop\":2}]}",
		"{\"acr\":[{\"acor\":[\"Cae2\"],\"acop\":2,\"x\":1}]}",
		"{\"acr\":[{\"acor\":[\"Cae2\"],\"acop\":2,\"acco\":{}}]}",
		"{\"acr\":[{\"acor\":[\"Cae2\"],\"acop\":2,"
		"\"acco\":[{\"zz\":1}]}]}",
		"{\"acr\":[{\"acor\":[\"Cae2\"],\"acop\":2,"
		"\"acco\":[{\"actw\":\"* * * * * *\"}]}]}",
		"{\"acr\":[{\"acor\":[\"Cae2\"],\"acop\":2,"
		"\"acco\":[{\"acip\":{\"ipv5\":[]}}]}]}",
		"{\"acr\":{}}", "{\"acr\":[1]}", "{}", "{\"x\":[]}", "[]",
	};
	struct fx *f = *state;
	char pc[512];

	for (size_t i = 0; i < sizeof(bad_pv) / sizeof(bad_pv[0]); i++) {
		snprintf(pc, sizeof(pc), "{\"m2m:acp\":{\"pv\":%s}}",
			 bad_pv[i]);
		expect(f, PZ_RSC_BAD_REQUEST, PZ_OP_UPDATE, "plaza/Cae1/acp1",
		       "Cae1", 0, pc);
	}
	/* Self-privileges need at least one rule. */
	expect(f, PZ_RSC_BAD_REQUEST, PZ_OP_UPDATE, "plaza/Cae1/acp1", "Cae1",
	       0, "{\"m2m:acp\":{\"pvs\":{\"acr\":[]}}}");
	expect(f, PZ_RSC_BAD_REQUEST, PZ_OP_CREATE, "plaza/Cae1", "Cae1",
	       PZ_TY_ACP, "{\"m2m:acp\":{\"pv\":{\"acr\":[]}}}");
	/* acpi must name policies. */
	snprintf(pc, sizeof(pc), "{\"m2m:cnt\":{\"acpi\":[\"%s\"]}}",
		 f->ri[RI_I2]);
	expect(f, PZ_RSC_BAD_REQUEST, PZ_OP_CREATE, "plaza/Cae1", "Cae1",
	       PZ_TY_CNT, pc);
	expect(f, PZ_RSC_BAD_REQUEST, PZ_OP_CREATE, "plaza/Cae1", "Cae1",
	       PZ_TY_CNT, "{\"m2m:cnt\":{\"acpi\":[\"acp999999\"]}}");
	expect(f, PZ_RSC_BAD_REQUEST, PZ_OP_CREATE, "plaza/Cae1", "Cae1",
	       PZ_TY_CNT, "{\"m2m:cnt\":{\"acpi\":[1]}}");
	expect(f, PZ_RSC_BAD_REQUEST, PZ_OP_CREATE, "plaza/Cae1", "Cae1",
	       PZ_TY_CNT, "{\"m2m:cnt\":{\"acpi\":\"x\"}}");
	/* The SP-relative form of a policy id is fine. */
	snprintf(pc, sizeof(pc), "{\"m2m:cnt\":{\"rn\":\"sp\",\"acpi\":"
		 "[\"/plaza-in/%s\"]}}", f->ri[RI_ACP]);
	expect(f, PZ_RSC_CREATED, PZ_OP_CREATE, "plaza/Cae1", "Cae1",
	       PZ_TY_CNT, pc);
	set_rule(f, "[\"Cae2\"]", 2, NULL);
	expect(f, PZ_RSC_OK, PZ_OP_RETRIEVE, "plaza/Cae1/sp", "Cae2", 0, NULL);
}

/* A policy that is gone grants nothing (and does not break access). */
static void test_acp_dangling(void **state)
{
	struct fx *f = *state;

	set_rule(f, "[\"Cae2\"]", 63, NULL);
	expect(f, PZ_RSC_OK, PZ_OP_RETRIEVE, "plaza/Cae1/c1", "Cae2", 0, NULL);
	expect(f, PZ_RSC_DELETED, PZ_OP_DELETE, "plaza/Cae1/acp1", "Cae1", 0,
	       NULL);
	expect(f, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, PZ_OP_RETRIEVE,
	       "plaza/Cae1/c1", "Cae2", 0, NULL);
	expect(f, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, PZ_OP_RETRIEVE,
	       "plaza/Cae1/c1", "Cae1", 0, NULL);
	expect(f, PZ_RSC_OK, PZ_OP_RETRIEVE, "plaza/Cae1/c1", ADMIN, 0, NULL);
	/* The admin repairs it: removing acpi restores the creator. */
	expect(f, PZ_RSC_UPDATED, PZ_OP_UPDATE, "plaza/Cae1/c1", ADMIN, 0,
	       "{\"m2m:cnt\":{\"acpi\":null}}");
	expect(f, PZ_RSC_OK, PZ_OP_RETRIEVE, "plaza/Cae1/c1", "Cae1", 0, NULL);
}

/* The CSEBase: registered AEs may retrieve and discover it; only the
 * admin creates below it (registration aside). */
static void test_acp_cse_base(void **state)
{
	struct fx *f = *state;

	expect(f, PZ_RSC_OK, PZ_OP_RETRIEVE, "plaza", "Cae2", 0, NULL);
	expect(f, PZ_RSC_OK, PZ_OP_RETRIEVE, "/plaza-in", "Cae1", 0, NULL);
	expect(f, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, PZ_OP_RETRIEVE, "plaza",
	       "Cnobody", 0, NULL);
	expect(f, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, PZ_OP_CREATE, "plaza",
	       "Cae1", PZ_TY_CNT, CNT_PC);
	expect(f, PZ_RSC_CREATED, PZ_OP_CREATE, "plaza", ADMIN, PZ_TY_CNT,
	       CNT_PC);
	/* Cae2 sees its own AE in a discovery from the CSEBase, not
	 * Cae1's. */
	{
		json_t *pc = NULL, *l;
		size_t i;
		json_t *v;
		bool own = false;

		assert_int_equal(run(f, PZ_OP_RETRIEVE, "plaza?fu=1&ty=2",
				     "Cae2", 0, NULL, &pc), PZ_RSC_OK);
		l = json_object_get(pc, "m2m:uril");
		json_array_foreach(l, i, v) {
			assert_string_not_equal(json_string_value(v),
						"plaza/Cae1");
			own |= !strcmp(json_string_value(v), "plaza/Cae2");
		}
		assert_true(own);
		json_decref(pc);
	}
}

/* --- filter criteria ----------------------------------------------------- */

/*
 * Below Cae1 (all made by the admin, depth-first order):
 *   cA  cnt  lbl red,big  et 2090        st 2
 *     i1  cin  lbl red  cnf text/plain:0       con "aa"    st 1
 *     i2  cin  cnf application/json:0          con "bbbb"  st 2
 *   cB  cnt  lbl blue  et 2095            st 1
 *     i3  cin                                  con "c"     st 1
 *     cB2 cnt                                               st 0
 */
static int setup_filter(void **state)
{
	struct fx *f = fx_new();

	*state = f;
	if (!f)
		return -1;
	register_ae(f, "Cae1");
	register_ae(f, "Cae2");
	create(f, 0, "plaza/Cae1", ADMIN, PZ_TY_CNT,
	       "{\"m2m:cnt\":{\"rn\":\"cA\",\"lbl\":[\"red\",\"big\"],"
	       "\"et\":\"20900101T000000\"}}");
	create(f, 1, "plaza/Cae1/cA", ADMIN, PZ_TY_CIN,
	       "{\"m2m:cin\":{\"rn\":\"i1\",\"lbl\":[\"red\"],"
	       "\"cnf\":\"text/plain:0\",\"con\":\"aa\"}}");
	create(f, 2, "plaza/Cae1/cA", ADMIN, PZ_TY_CIN,
	       "{\"m2m:cin\":{\"rn\":\"i2\",\"cnf\":\"application/json:0\","
	       "\"con\":\"bbbb\"}}");
	create(f, 3, "plaza/Cae1", ADMIN, PZ_TY_CNT,
	       "{\"m2m:cnt\":{\"rn\":\"cB\",\"lbl\":[\"blue\"],"
	       "\"et\":\"20950101T000000\"}}");
	create(f, 4, "plaza/Cae1/cB", ADMIN, PZ_TY_CIN,
	       "{\"m2m:cin\":{\"rn\":\"i3\",\"con\":\"c\"}}");
	create(f, 5, "plaza/Cae1/cB", ADMIN, PZ_TY_CNT,
	       "{\"m2m:cnt\":{\"rn\":\"cB2\"}}");
	return 0;
}

/* The last path segments of a discovery below Cae1, space-separated. */
static const char *disc(struct fx *f, const char *query, char *out,
			size_t len)
{
	char t[512];
	json_t *pc = NULL, *v;
	size_t i, o = 0;
	int rsc;

	snprintf(t, sizeof(t), "plaza/Cae1?fu=1%s%s", *query ? "&" : "",
		 query);
	rsc = run(f, PZ_OP_RETRIEVE, t, ADMIN, 0, NULL, &pc);
	if (rsc != PZ_RSC_OK)
		fail_msg("discovery %s: rsc %d (%s)", query, rsc, f->msg);
	out[0] = '\0';
	json_array_foreach(json_object_get(pc, "m2m:uril"), i, v) {
		const char *s = json_string_value(v), *slash = strrchr(s, '/');

		o += (size_t)snprintf(out + o, len - o, "%s%s", o ? " " : "",
				      slash ? slash + 1 : s);
	}
	json_decref(pc);
	return out;
}

static void expect_disc(struct fx *f, const char *query, const char *want)
{
	char got[512];

	disc(f, query, got, sizeof(got));
	if (strcmp(got, want))
		fail_msg("discovery '%s': got '%s', want '%s'", query, got,
			 want);
}

#define ALL "cA i1 i2 cB i3 cB2"

static void test_filter_type_label(void **state)
{
	struct fx *f = *state;

	expect_disc(f, "", ALL);
	expect_disc(f, "ty=3", "cA cB cB2");
	expect_disc(f, "ty=4", "i1 i2 i3");
	expect_disc(f, "ty=3+4", ALL);
	expect_disc(f, "ty=3&ty=4", ALL);
	expect_disc(f, "ty=2", "");
	expect_disc(f, "ty=23", "");
	expect_disc(f, "lbl=red", "cA i1");
	expect_disc(f, "lbl=big", "cA");
	expect_disc(f, "lbl=red+blue", "cA i1 cB");
	expect_disc(f, "lbl=nope", "");
	expect_disc(f, "cty=text/plain:0", "i1");
	expect_disc(f, "cty=text/plain:0+application/json:0", "i1 i2");
	expect_disc(f, "cty=text/plain", "");
}

static void test_filter_size_state(void **state)
{
	struct fx *f = *state;

	expect_disc(f, "sza=3", "i2");
	expect_disc(f, "sza=2", "i1 i2");
	expect_disc(f, "sza=0", "i1 i2 i3");
	expect_disc(f, "szb=2", "i3");
	expect_disc(f, "szb=1", "");
	expect_disc(f, "sza=2&szb=3", "i1");
	expect_disc(f, "stb=1", "cA i2");
	expect_disc(f, "stb=0", "cA i1 i2 cB i3");
	expect_disc(f, "sts=1", "cB2");
	expect_disc(f, "sts=2", "i1 cB i3 cB2");
	expect_disc(f, "stb=0&sts=2", "i1 cB i3");
}

static void test_filter_times(void **state)
{
	struct fx *f = *state;

	expect_disc(f, "crb=20000101T000000", "");
	expect_disc(f, "crb=21000101T000000", ALL);
	expect_disc(f, "cra=20000101T000000", ALL);
	expect_disc(f, "cra=21000101T000000", "");
	expect_disc(f, "ms=20000101T000000", ALL);
	expect_disc(f, "ms=21000101T000000", "");
	expect_disc(f, "us=21000101T000000", ALL);
	expect_disc(f, "us=20000101T000000", "");
	expect_disc(f, "exb=20920101T000000", "cA");
	expect_disc(f, "exb=20000101T000000", "");
	expect_disc(f, "crb=21000101T000000&cra=20000101T000000", ALL);
	/* exa: cB expires after 2092, cA before. */
	{
		char got[512];

		disc(f, "exa=20920101T000000", got, sizeof(got));
		assert_non_null(strstr(got, "cB"));
		assert_null(strstr(got, "cA"));
	}
}

/* A bound before 1970 is still a bound: "created before 1965" matches
 * nothing here, "created after 1965" everything.  (Refusing such a bound
 * as a bad parameter would be consistent too; ignoring it is not.) */
static void expect_disc_or_refused(struct fx *f, const char *query,
				   const char *want)
{
	const char *eq = strchr(query, '=');
	char name[16], err[256];
	struct pz_req req;
	int rc;

	snprintf(name, sizeof(name), "%.*s", (int)(eq - query), query);
	pz_req_init(&req);
	rc = pz_req_param(&req, name, eq + 1, err, sizeof(err));
	pz_req_clear(&req);
	if (rc == PZ_EINVAL)
		return;
	expect_disc(f, query, want);
}

static void test_filter_pre_epoch(void **state)
{
	struct fx *f = *state;

	expect_disc_or_refused(f, "crb=19650101T000000", "");
	expect_disc_or_refused(f, "us=19650101T000000", "");
	expect_disc_or_refused(f, "exb=19650101T000000", "");
	expect_disc_or_refused(f, "cra=19650101T000000", ALL);
}

static void test_filter_attributes(void **state)
{
	struct fx *f = *state;

	expect_disc(f, "rn=cA", "cA");
	expect_disc(f, "rn=cB*", "cB cB2");
	expect_disc(f, "rn=i?", "i1 i2 i3");
	expect_disc(f, "cnf=text/plain:0", "i1");
	expect_disc(f, "con=bbbb", "i2");
	expect_disc(f, "cs=4", "i2");
	expect_disc(f, "cni=2", "cA");
	expect_disc(f, "st=0", "cB2");
	expect_disc(f, "pi=Cae1", "cA cB");
	expect_disc(f, "rn=nope", "");
	expect_disc(f, "rn=cA&lbl=red", "cA");
}

static void test_filter_operation(void **state)
{
	struct fx *f = *state;

	expect_disc(f, "ty=3&lbl=red", "cA");
	expect_disc(f, "ty=3&lbl=red&fo=1", "cA");
	expect_disc(f, "ty=3&lbl=red&fo=2", "cA i1 cB cB2");
	expect_disc(f, "lbl=blue&cty=text/plain:0&fo=2", "i1 cB");
	expect_disc(f, "sza=3&sts=1&fo=2", "i2 cB2");
	expect_disc(f, "fo=2", ALL);
}

static void test_filter_paging(void **state)
{
	struct fx *f = *state;

	expect_disc(f, "lim=2", "cA i1");
	expect_disc(f, "lim=0", "");
	expect_disc(f, "lim=100", ALL);
	expect_disc(f, "ofst=1", ALL);
	expect_disc(f, "ofst=2", "i1 i2 cB i3 cB2");
	expect_disc(f, "ofst=2&lim=2", "i1 i2");
	expect_disc(f, "ofst=6", "cB2");
	expect_disc(f, "ofst=7", "");
	expect_disc(f, "ty=4&ofst=2&lim=1", "i2");
	expect_disc(f, "lvl=1", "cA cB");
	expect_disc(f, "lvl=2", ALL);
	expect_disc(f, "lvl=1&ty=4", "");
	expect_disc(f, "lvl=1&lim=1", "cA");
}

static void test_filter_result_forms(void **state)
{
	struct fx *f = *state;
	json_t *pc = NULL, *l, *ae;
	char want[128];

	/* Structured (default) addresses are CSE-relative paths. */
	assert_int_equal(run(f, PZ_OP_RETRIEVE, "plaza/Cae1?fu=1&ty=4&lim=1",
			     ADMIN, 0, NULL, &pc), PZ_RSC_OK);
	assert_string_equal(json_string_value(json_array_get(json_object_get(
		pc, "m2m:uril"), 0)), "plaza/Cae1/cA/i1");
	json_decref(pc);
	/* drt=2: SP-relative resource ids. */
	assert_int_equal(run(f, PZ_OP_RETRIEVE,
			     "plaza/Cae1?fu=1&ty=3&lim=1&drt=2", ADMIN, 0,
			     NULL, &pc), PZ_RSC_OK);
	snprintf(want, sizeof(want), "/plaza-in/%s", f->ri[0]);
	assert_string_equal(json_string_value(json_array_get(json_object_get(
		pc, "m2m:uril"), 0)), want);
	json_decref(pc);
	/* Discovery from the other scopes of the same target. */
	assert_int_equal(run(f, PZ_OP_RETRIEVE,
			     "//plaza.example/plaza-in/Cae1?fu=1&ty=4", ADMIN,
			     0, NULL, &pc), PZ_RSC_OK);
	assert_int_equal(json_array_size(json_object_get(pc, "m2m:uril")), 3);
	json_decref(pc);

	/* rcn=6: child references with name, type and address. */
	assert_int_equal(run(f, PZ_OP_RETRIEVE, "plaza/Cae1/cA?rcn=6", ADMIN,
			     0, NULL, &pc), PZ_RSC_OK);
	l = json_object_get(json_object_get(pc, "m2m:rrl"), "rrf");
	assert_int_equal(json_array_size(l), 2);
	assert_string_equal(json_string_value(json_object_get(
		json_array_get(l, 0), "nm")), "i1");
	assert_int_equal(json_integer_value(json_object_get(
		json_array_get(l, 0), "typ")), 4);
	assert_string_equal(json_string_value(json_object_get(
		json_array_get(l, 1), "val")), "/plaza-in/plaza/Cae1/cA/i2");
	json_decref(pc);
	/* rcn=4 with a filter: the attributes and the matching children,
	 * nested. */
	assert_int_equal(run(f, PZ_OP_RETRIEVE, "plaza/Cae1?rcn=4&ty=3", ADMIN,
			     0, NULL, &pc), PZ_RSC_OK);
	ae = json_object_get(pc, "m2m:ae");
	assert_string_equal(json_string_value(json_object_get(ae, "ri")),
			    "Cae1");
	l = json_object_get(ae, "m2m:cnt");
	assert_int_equal(json_array_size(l), 2);
	assert_int_equal(json_array_size(json_object_get(json_array_get(l, 1),
							 "m2m:cnt")), 1);
	assert_null(json_object_get(json_array_get(l, 0), "m2m:cin"));
	json_decref(pc);
	/* rcn=5: attributes and child references. */
	assert_int_equal(run(f, PZ_OP_RETRIEVE, "plaza/Cae1/cB?rcn=5", ADMIN,
			     0, NULL, &pc), PZ_RSC_OK);
	assert_int_equal(json_array_size(json_object_get(json_object_get(
		pc, "m2m:cnt"), "ch")), 2);
	json_decref(pc);
	/* rcn=8: the children only. */
	assert_int_equal(run(f, PZ_OP_RETRIEVE, "plaza/Cae1/cA?rcn=8&lvl=1",
			     ADMIN, 0, NULL, &pc), PZ_RSC_OK);
	assert_int_equal(json_array_size(json_object_get(json_object_get(
		pc, "m2m:cnt"), "m2m:cin")), 2);
	assert_null(json_object_get(json_object_get(pc, "m2m:cnt"), "ri"));
	json_decref(pc);
}

/* Discovery shows only what the originator may discover. */
static void test_filter_access(void **state)
{
	struct fx *f = *state;
	char got[512], pc[256];
	json_t *out = NULL;

	assert_int_equal(run(f, PZ_OP_RETRIEVE, "plaza/Cae1?fu=1", "Cae2", 0,
			     NULL, &out), PZ_RSC_OK);
	assert_int_equal(json_array_size(json_object_get(out, "m2m:uril")), 0);
	json_decref(out);
	/* A policy giving Cae2 discovery on cB only. */
	create(f, 6, "plaza/Cae1", ADMIN, PZ_TY_ACP,
	       "{\"m2m:acp\":{\"rn\":\"p\",\"pv\":{\"acr\":[{\"acor\":"
	       "[\"Cae2\"],\"acop\":32}]},\"pvs\":{\"acr\":[{\"acor\":"
	       "[\"CAdmin\"],\"acop\":63}]}}}");
	snprintf(pc, sizeof(pc), "{\"m2m:cnt\":{\"acpi\":[\"%s\"]}}",
		 f->ri[6]);
	expect(f, PZ_RSC_UPDATED, PZ_OP_UPDATE, "plaza/Cae1/cB", ADMIN, 0, pc);
	assert_int_equal(run(f, PZ_OP_RETRIEVE, "plaza/Cae1?fu=1", "Cae2", 0,
			     NULL, &out), PZ_RSC_OK);
	got[0] = '\0';
	{
		size_t i, o = 0;
		json_t *v;

		json_array_foreach(json_object_get(out, "m2m:uril"), i, v) {
			const char *s = strrchr(json_string_value(v), '/');

			o += (size_t)snprintf(got + o, sizeof(got) - o, "%s%s",
					      o ? " " : "", s + 1);
		}
	}
	json_decref(out);
	/* cB and its instance (which defers to it); not cB2 (no acpi, not
	 * Cae2's), not cA's subtree. */
	assert_string_equal(got, "cB i3");
	/* Discovery is not retrieval. */
	expect(f, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE, PZ_OP_RETRIEVE,
	       "plaza/Cae1/cB", "Cae2", 0, NULL);
}

int main(void)
{
#define A(t) cmocka_unit_test_setup_teardown(t, setup_addr, teardown)
#define P(t) cmocka_unit_test_setup_teardown(t, setup_acp, teardown)
#define F(t) cmocka_unit_test_setup_teardown(t, setup_filter, teardown)
	const struct CMUnitTest tests[] = {
		A(test_addr_structured),
		A(test_addr_unstructured),
		A(test_addr_hybrid),
		A(test_addr_sp_relative),
		A(test_addr_absolute),
		A(test_addr_not_found),
		A(test_la_ol),
		A(test_originator_scopes),
		A(test_result_content),
		A(test_request_checks),
		A(test_update_delete),
		A(test_registration),
		A(test_alloc_failure),
		P(test_acp_default_creator),
		P(test_acp_bits),
		P(test_acor_forms),
		P(test_acor_absolute),
		P(test_acp_self_privileges),
		P(test_acco_time),
		P(test_acco_address),
		P(test_acp_validation),
		P(test_acp_dangling),
		P(test_acp_cse_base),
		F(test_filter_type_label),
		F(test_filter_size_state),
		F(test_filter_times),
		F(test_filter_pre_epoch),
		F(test_filter_attributes),
		F(test_filter_operation),
		F(test_filter_paging),
		F(test_filter_result_forms),
		F(test_filter_access),
	};

	/* PZ_TEST=pattern runs only the matching tests (docs/testing.md). */
	if (getenv("PZ_TEST"))
		cmocka_set_test_filter(getenv("PZ_TEST"));
	json_set_alloc_funcs(pz_malloc, pz_free);
	pz_log_set_level("error");
	return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
