/*
 * cb.c - the <CSEBase> resource type (5): the root of the tree, created at
 * first start, never created, updated or deleted through the API.
 */
#include "plaza/pz_time.h"
#include "core_int.h"

static const struct core_attr cb_attrs[] = {
	{ NULL, AK_ANY, AP_NP, AP_NP }
};

static const int cb_children[] = {
	PZ_TY_ACP, PZ_TY_AE, PZ_TY_CNT, PZ_TY_GRP, PZ_TY_SUB, 0
};

/* currentTime (ctm) is live. */
static void cb_present(struct pz_res *res, json_t *obj)
{
	char ts[PZ_TS_LEN];

	(void)res;
	json_object_set_new(obj, "ctm",
			    json_string(pz_time_format(pz_time_now(), ts)));
}

const struct core_type pz_core__cb_type = {
	.ty = PZ_TY_CB,
	.root = "m2m:cb",
	.prefix = "cb",
	.attrs = cb_attrs,
	.children = cb_children,
	.has_acpi = true,
	.subscribable = true,
	.updatable = false,
	.deletable = false,
	.present = cb_present,
};
