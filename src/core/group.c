/*
 * group.c - the <group> resource type (9) and its fanOutPoint.
 *
 * Members are validated when the group is created or its member list
 * changes: each must exist here and be retrievable by the originator
 * (5105 otherwise); duplicates are dropped; a member of the wrong type is
 * dropped, fails the request or makes the group mixed, per the consistency
 * strategy (csy 1, 2, 3).  A request to <group>/fopt[/path] runs once per
 * member (with the path appended), inside the same transaction, and the
 * answers come back aggregated in m2m:agr.
 */
#include <string.h>

#include "plaza/pz_buf.h"
#include "plaza/pz_err.h"
#include "plaza/pz_mem.h"
#include "core_int.h"

#define GRP_MIXED 24

static const struct core_attr grp_attrs[] = {
	{ "rn", AK_NESTR, AP_O, AP_NP },
	{ "et", AK_TS, AP_O, AP_O },
	{ "lbl", AK_STRLIST, AP_O, AP_O },
	{ "acpi", AK_ACPI, AP_O, AP_O },
	{ "cr", AK_ANY, AP_O, AP_NP },
	{ "mt", AK_UINT, AP_M, AP_NP },
	{ "mnm", AK_PINT, AP_M, AP_O },
	{ "mid", AK_STRLIST, AP_M, AP_O },
	{ "macp", AK_ACPI, AP_O, AP_O },
	{ "csy", AK_PINT, AP_O, AP_NP },
	{ "gn", AK_STR, AP_O, AP_O },
	{ NULL, AK_ANY, AP_NP, AP_NP }
};

static const int grp_children[] = { PZ_TY_SUB, 0 };

/* Resolve addr into out without touching the request's response. */
static int grp_lookup(struct core_ctx *c, const char *addr,
		      struct core_target *out, int *rsc)
{
	struct core_ctx tmp = *c;
	struct pz_rsp rsp;
	int rc;

	pz_rsp_init(&rsp);
	tmp.rsp = &rsp;
	pz_core__target_init(&tmp.t);
	rc = pz_core__resolve(&tmp, addr);
	*rsc = rsp.rsc;
	pz_rsp_clear(&rsp);
	if (rc != PZ_OK) {
		pz_core__target_clear(&tmp.t);
		return rc;
	}
	*out = tmp.t;
	return PZ_OK;
}

/* Validate doc's members; rewrite mid as resource ids, set cnm, mtv, mt. */
static int grp_members(struct core_ctx *c, json_t *doc)
{
	json_int_t mt = json_integer_value(json_object_get(doc, "mt"));
	json_int_t csy = json_integer_value(json_object_get(doc, "csy"));
	json_int_t mnm = json_integer_value(json_object_get(doc, "mnm"));
	json_t *mid = json_object_get(doc, "mid"), *out, *v, *o;
	struct core_target t;
	char ri[CORE_RI_MAX + 8];
	size_t i, k;
	int rc = PZ_OK, rsc;

	if (csy < 0 || csy > 3)
		return pz_core__fail(c, PZ_RSC_BAD_REQUEST,
				     "consistencyStrategy (csy) is 1, 2 or 3");
	if (mnm > 0 && (json_int_t)json_array_size(mid) > mnm)
		return pz_core__fail(c, PZ_RSC_MAX_NUMBER_OF_MEMBER_EXCEEDED,
				     "%zu members exceed maxNrOfMembers %lld",
				     json_array_size(mid), (long long)mnm);
	out = json_array();
	if (!out)
		return pz_core__internal(c, PZ_ENOMEM, "checking members");
	json_array_foreach(mid, i, v) {
		const char *addr = json_string_value(v);
		bool dup = false;
		int ty;

		pz_core__target_init(&t);
		rc = grp_lookup(c, addr, &t, &rsc);
		if (rc != PZ_OK) {
			rc = pz_core__fail(c, rsc == PZ_RSC_NOT_FOUND ?
					   PZ_RSC_NOT_FOUND : rsc,
					   "group member '%.100s' not found",
					   addr);
			break;
		}
		if (!pz_core__allowed(c, &t, PZ_ACOP_RETRIEVE, 0)) {
			pz_core__target_clear(&t);
			rc = pz_core__fail(c, PZ_RSC_RECEIVER_HAS_NO_PRIVILEGES,
					   "originator may not retrieve member "
					   "'%.100s'", addr);
			break;
		}
		pz_core__res_ri(&t.chain[t.n - 1], ri, CORE_RI_MAX);
		ty = t.chain[t.n - 1].ty;
		if (t.virt == CORE_VIRT_FOPT) {
			/* A nested group's fan-out point stands for its
			 * members. */
			strcat(ri, "/fopt");
			ty = (int)json_integer_value(json_object_get(
				pz_res_doc(&t.chain[t.n - 1]), "mt"));
		}
		pz_core__target_clear(&t);
		json_array_foreach(out, k, o)
			dup |= !strcmp(json_string_value(o), ri);
		if (dup)
			continue;
		if (mt != GRP_MIXED && ty != mt) {
			if (csy == 2) {
				rc = pz_core__fail(c,
					PZ_RSC_GROUP_MEMBER_TYPE_INCONSISTENT,
					"member '%.100s' has type %d, the group "
					"holds type %lld", addr, ty,
					(long long)mt);
				break;
			}
			if (csy == 3) {
				mt = GRP_MIXED;
			} else {
				continue;  /* abandon the member */
			}
		}
		if (json_array_append_new(out, json_string(ri))) {
			rc = pz_core__internal(c, PZ_ENOMEM, "checking members");
			break;
		}
	}
	if (rc == PZ_OK &&
	    (json_object_set(doc, "mid", out) ||
	     json_object_set_new(doc, "cnm",
				 json_integer((json_int_t)json_array_size(out))) ||
	     json_object_set_new(doc, "mt", json_integer(mt)) ||
	     json_object_set_new(doc, "mtv", json_true())))
		rc = pz_core__internal(c, PZ_ENOMEM, "checking members");
	json_decref(out);
	return rc;
}

static int grp_create(struct core_ctx *c, struct pz_res *parent,
		      struct pz_res *res)
{
	(void)parent;
	if (!json_object_get(res->doc, "csy"))
		json_object_set_new(res->doc, "csy", json_integer(1));
	return grp_members(c, res->doc);
}

static int grp_update(struct core_ctx *c, struct pz_res *res, json_t *changes)
{
	json_t *doc = pz_res_doc(res), *next;
	int rc;

	if (!json_object_get(changes, "mid") && !json_object_get(changes,
								 "mnm"))
		return PZ_OK;
	/* Validate the member list as it will be after the update. */
	next = json_deep_copy(doc);
	if (!next || json_object_update(next, changes)) {
		json_decref(next);
		return pz_core__internal(c, PZ_ENOMEM, "updating");
	}
	rc = grp_members(c, next);
	if (rc == PZ_OK) {
		json_object_set(changes, "mid", json_object_get(next, "mid"));
		json_object_set(doc, "cnm", json_object_get(next, "cnm"));
		json_object_set(doc, "mt", json_object_get(next, "mt"));
	}
	json_decref(next);
	return rc;
}

const struct core_type pz_core__grp_type = {
	.ty = PZ_TY_GRP,
	.root = "m2m:grp",
	.prefix = "grp",
	.attrs = grp_attrs,
	.children = grp_children,
	.has_acpi = true,
	.subscribable = true,
	.updatable = true,
	.deletable = true,
	.create = grp_create,
	.update = grp_update,
};

/* --- fanOutPoint -------------------------------------------------------- */

static int grp_acop(int op)
{
	switch (op) {
	case PZ_OP_CREATE: return PZ_ACOP_CREATE;
	case PZ_OP_UPDATE: return PZ_ACOP_UPDATE;
	case PZ_OP_DELETE: return PZ_ACOP_DELETE;
	default: return PZ_ACOP_RETRIEVE;
	}
}

/* One member's request, run nested; its answer appended to items. */
static int grp_member_req(struct core_ctx *c, const char *member,
			  json_t *items)
{
	struct pz_req *in = c->req, sub;
	struct pz_rsp rsp;
	json_t *item;
	int rc = PZ_OK;

	pz_req_init(&sub);
	pz_rsp_init(&rsp);
	sub.op = in->op;
	sub.to = *c->t.rest ? pz_arena_printf(&sub.arena, "%s/%s", member,
					      c->t.rest) :
		 pz_arena_strdup(&sub.arena, member);
	sub.fr = c->orig;
	sub.rqi = in->rqi;
	sub.rvi = in->rvi;
	sub.ty = in->ty;
	/* Each member request owns its content (a create keeps it). */
	sub.pc = in->pc ? json_deep_copy(in->pc) : NULL;
	sub.rcn = in->rcn;
	sub.drt = in->drt;
	sub.fc = in->fc;
	sub.auth = PZ_AUTH_PEER;   /* already authenticated as c->orig */
	sub.auth_id = c->orig;
	sub.binding = in->binding;
	sub.peer = in->peer;
	if (!sub.to || (in->pc && !sub.pc)) {
		rc = PZ_ENOMEM;
		goto out;
	}
	pz_core__run_nested(c, &sub, &rsp);
	item = json_pack("{s:i,s:s,s:s,s:s}", "rsc", rsp.rsc, "rqi",
			 in->rqi ? in->rqi : "", "rvi", rsp.rvi, "to", sub.to);
	if (item && rsp.pc)
		json_object_set(item, "pc", rsp.pc);
	if (!item || json_array_append_new(items, item))
		rc = PZ_ENOMEM;
out:
	pz_rsp_clear(&rsp);
	pz_req_clear(&sub);
	return rc;
}

int pz_core__fanout(struct core_ctx *c)
{
	struct pz_res *grp = &c->t.chain[c->t.n - 1];
	json_t *doc = pz_res_doc(grp), *macp, *items, *v;
	int op = grp_acop(c->req->op);
	bool ok;
	size_t i;
	int rc = PZ_OK;

	if (!doc)
		return pz_core__internal(c, PZ_ESTORE, "reading the group");
	if (c->core->nesting > 4)
		return pz_core__fail(c, PZ_RSC_BAD_REQUEST,
				     "groups nested deeper than 4 levels");
	macp = json_object_get(doc, "macp");
	if (json_array_size(macp) > 0 && !c->admin)
		ok = pz_core__acpi_grants(c, macp, op);
	else
		ok = pz_core__allowed(c, &c->t, op, c->req->ty);
	if (!ok)
		return pz_core__fail(c, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE,
				     "originator '%s' may not use this group's "
				     "fan-out point", c->orig ? c->orig :
				     "(none)");
	items = json_array();
	if (!items)
		return pz_core__internal(c, PZ_ENOMEM, "fanning out");
	json_array_foreach(json_object_get(doc, "mid"), i, v) {
		rc = grp_member_req(c, json_string_value(v), items);
		if (rc != PZ_OK)
			break;
	}
	if (rc != PZ_OK) {
		json_decref(items);
		return pz_core__internal(c, rc, "fanning out");
	}
	return pz_core__ok(c, PZ_RSC_OK, json_pack("{s:{s:o}}", "m2m:agr",
						   "m2m:rsp", items));
}
