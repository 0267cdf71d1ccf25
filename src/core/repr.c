/*
 * repr.c - resource representations and the result content (rcn) of
 * responses.
 *
 * A stored resource is a row (ids, times, counters) plus a document of the
 * other attributes.  The representation puts the row's attributes first in
 * the usual order (ty ri rn pi ct lt et), then the document, then the live
 * values a type adds (container counters, CSEBase current time).
 */
#include <string.h>

#include "plaza/pz_err.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_time.h"
#include "core_int.h"

json_t *pz_core__wrap(int ty, json_t *obj)
{
	const struct core_type *type = pz_core__type(ty);

	if (!obj)
		return NULL;
	return json_pack("{s:o}", type ? type->root : "m2m:res", obj);
}

static int repr_set_time(json_t *obj, const char *k, int64_t t)
{
	char ts[PZ_TS_LEN];

	return json_object_set_new(obj, k, json_string(pz_time_format(t, ts)));
}

json_t *pz_core__repr(struct core_ctx *c, struct pz_res *res)
{
	const struct core_type *type = pz_core__type(res->ty);
	json_t *doc = pz_res_doc(res), *obj, *v;
	char ri[CORE_RI_MAX];
	const char *k;
	int bad = 0;

	(void)c;
	if (!doc)
		return NULL;
	obj = json_object();
	if (!obj)
		return NULL;
	pz_core__res_ri(res, ri, sizeof(ri));
	bad |= json_object_set_new(obj, "ty", json_integer(res->ty));
	bad |= json_object_set_new(obj, "ri", json_string(ri));
	bad |= json_object_set_new(obj, "rn", json_string(res->rn));
	if ((v = json_object_get(doc, "pi")))
		bad |= json_object_set(obj, "pi", v);
	bad |= repr_set_time(obj, "ct", res->ct);
	bad |= repr_set_time(obj, "lt", res->lt);
	if (res->ty != PZ_TY_CB)
		bad |= repr_set_time(obj, "et", res->et);
	json_object_foreach(doc, k, v) {
		if (strcmp(k, "pi"))
			bad |= json_object_set(obj, k, v);
	}
	if (type && type->present)
		type->present(res, obj);
	if (bad) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

/* {"m2m:rce": {"cnt": {...}, "uri": "..."}} for rcn=3. */
static json_t *repr_rce(int ty, json_t *obj, const char *addr)
{
	const struct core_type *type = pz_core__type(ty);
	const char *root = type ? type->root : "m2m:res";
	const char *colon = strchr(root, ':');

	return json_pack("{s:{s:o,s:s}}", "m2m:rce", colon ? colon + 1 : root,
			 obj, "uri", addr ? addr : "");
}

int pz_core__result(struct core_ctx *c, int rsc, struct pz_res *res,
		    const char *addr, json_t *modified)
{
	int rcn = c->req->rcn, op = c->req->op;
	json_t *obj, *pc = NULL;

	if (rcn == PZ_RCN_DEFAULT)
		rcn = op == PZ_OP_DELETE ? PZ_RCN_NOTHING : PZ_RCN_ATTRS;
	switch (rcn) {
	case PZ_RCN_NOTHING:
		return pz_core__ok(c, rsc, NULL);
	case PZ_RCN_HIER:
		pc = json_pack("{s:s}", "m2m:uri", addr ? addr : "");
		break;
	case PZ_RCN_MODIFIED:
		pc = pz_core__wrap(res->ty, json_deep_copy(modified));
		break;
	case PZ_RCN_ATTRS_CHILDREN:
	case PZ_RCN_ATTRS_CHILDREFS:
	case PZ_RCN_CHILDREFS:
	case PZ_RCN_CHILDREN:
		return pz_core__children(c, NULL, rcn);
	default:
		obj = pz_core__repr(c, res);
		if (obj && rcn == PZ_RCN_HIER_ATTRS)
			pc = repr_rce(res->ty, obj, addr);
		else
			pc = pz_core__wrap(res->ty, obj);
		break;
	}
	if (!pc)
		return pz_core__internal(c, PZ_ENOMEM, "building the response");
	return pz_core__ok(c, rsc, pc);
}
