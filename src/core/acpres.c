/*
 * acpres.c - the <accessControlPolicy> resource type (1).  The policy
 * logic itself is in acp.c; here are the attributes and their checks.
 */
#include "plaza/pz_err.h"
#include "core_int.h"

static const struct core_attr acp_attrs[] = {
	{ "rn", AK_NESTR, AP_O, AP_NP },
	{ "et", AK_TS, AP_O, AP_O },
	{ "lbl", AK_STRLIST, AP_O, AP_O },
	{ "cr", AK_ANY, AP_O, AP_NP },
	{ "pv", AK_OBJ, AP_M, AP_O },
	{ "pvs", AK_OBJ, AP_M, AP_O },
	{ NULL, AK_ANY, AP_NP, AP_NP }
};

static const int acp_children[] = { PZ_TY_SUB, 0 };

static int acp_check(struct core_ctx *c, json_t *attrs)
{
	json_t *v;
	int rc = PZ_OK;

	if ((v = json_object_get(attrs, "pv")) && !json_is_null(v))
		rc = pz_core__check_pv(c, v, "privileges (pv)");
	if (rc == PZ_OK && (v = json_object_get(attrs, "pvs")) &&
	    !json_is_null(v)) {
		rc = pz_core__check_pv(c, v, "self-privileges (pvs)");
		if (rc == PZ_OK && !json_array_size(json_object_get(v, "acr")))
			rc = pz_core__fail(c, PZ_RSC_BAD_REQUEST,
					   "self-privileges (pvs) need at least "
					   "one rule, or nobody could manage "
					   "the policy");
	}
	return rc;
}

static int acp_create(struct core_ctx *c, struct pz_res *parent,
		      struct pz_res *res)
{
	(void)parent;
	return acp_check(c, res->doc);
}

static int acp_update(struct core_ctx *c, struct pz_res *res, json_t *changes)
{
	(void)res;
	return acp_check(c, changes);
}

const struct core_type pz_core__acp_type = {
	.ty = PZ_TY_ACP,
	.root = "m2m:acp",
	.prefix = "acp",
	.attrs = acp_attrs,
	.children = acp_children,
	.has_acpi = false,
	.subscribable = true,
	.updatable = true,
	.deletable = true,
	.create = acp_create,
	.update = acp_update,
};
