/*
 * sub.c - the <subscription> resource type (23).
 *
 * Creating a subscription (or adding notification targets) verifies each
 * new target that is not the creator itself: the CSE sends it a
 * verification request and creates the subscription only when every one
 * answers 2000; otherwise 5204.  The request waits for those answers
 * without blocking the loop (see pz_core__verify).
 */
#include <string.h>

#include "plaza/pz_err.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_time.h"
#include "core_int.h"

static const struct core_attr sub_attrs[] = {
	{ "rn", AK_NESTR, AP_O, AP_NP },
	{ "et", AK_TS, AP_O, AP_O },
	{ "lbl", AK_STRLIST, AP_O, AP_O },
	{ "acpi", AK_ACPI, AP_O, AP_O },
	{ "cr", AK_ANY, AP_O, AP_NP },
	{ "enc", AK_OBJ, AP_O, AP_O },
	{ "exc", AK_PINT, AP_O, AP_O },
	{ "nu", AK_NESTRLIST, AP_M, AP_O },
	{ "gpi", AK_STR, AP_O, AP_O },
	{ "nfu", AK_STR, AP_O, AP_O },
	{ "bn", AK_OBJ, AP_O, AP_O },
	{ "pn", AK_UINT, AP_O, AP_O },
	{ "nsp", AK_UINT, AP_O, AP_O },
	{ "ln", AK_BOOL, AP_O, AP_O },
	{ "nct", AK_PINT, AP_O, AP_O },
	{ "nec", AK_STR, AP_O, AP_O },
	{ "su", AK_STR, AP_O, AP_NP },
	{ NULL, AK_ANY, AP_NP, AP_NP }
};

static const int sub_children[] = { 0 };

static int sub_bad(struct core_ctx *c, const char *what)
{
	return pz_core__fail(c, PZ_RSC_BAD_REQUEST, "invalid subscription: %s",
			     what);
}

static int sub_check_enc(struct core_ctx *c, json_t *enc)
{
	json_t *v, *e;
	const char *k;
	size_t i;

	json_object_foreach(enc, k, v) {
		if (!strcmp(k, "net")) {
			if (!json_is_array(v) || !json_array_size(v))
				return sub_bad(c, "enc.net must be a non-empty "
					       "list");
			json_array_foreach(v, i, e) {
				json_int_t n = json_integer_value(e);

				if (!json_is_integer(e) || n < 1 || n > 4)
					return pz_core__fail(c,
						PZ_RSC_BAD_REQUEST,
						"notification event type %lld "
						"is not supported (1-4)",
						(long long)n);
			}
		} else if (!strcmp(k, "chty")) {
			if (!json_is_array(v))
				return sub_bad(c, "enc.chty must be a list");
			json_array_foreach(v, i, e) {
				if (!json_is_integer(e))
					return sub_bad(c, "enc.chty holds "
						       "resource types");
			}
		} else if (!strcmp(k, "atr")) {
			if (!json_is_array(v))
				return sub_bad(c, "enc.atr must be a list");
			json_array_foreach(v, i, e) {
				if (!json_is_string(e))
					return sub_bad(c, "enc.atr holds "
						       "attribute names");
			}
		} else {
			return pz_core__fail(c, PZ_RSC_BAD_REQUEST,
					     "eventNotificationCriteria '%.32s' "
					     "is not supported", k);
		}
	}
	return PZ_OK;
}

static int sub_check_bn(struct core_ctx *c, json_t *bn)
{
	json_t *num = json_object_get(bn, "num"), *dur = json_object_get(bn,
								       "dur");
	const char *k;
	json_t *v;
	int64_t ms;

	json_object_foreach(bn, k, v) {
		if (strcmp(k, "num") && strcmp(k, "dur"))
			return sub_bad(c, "bn has only num and dur");
	}
	if (!num && !dur)
		return sub_bad(c, "bn needs num or dur");
	if (num && (!json_is_integer(num) || json_integer_value(num) < 1))
		return sub_bad(c, "bn.num must be a positive integer");
	if (dur && !(json_is_integer(dur) && json_integer_value(dur) > 0) &&
	    !(json_is_string(dur) &&
	      pz_duration_parse(json_string_value(dur), &ms) == PZ_OK &&
	      ms > 0))
		return sub_bad(c, "bn.dur must be a duration such as PT10S");
	return PZ_OK;
}

static int sub_check(struct core_ctx *c, json_t *attrs)
{
	json_t *v;
	int rc = PZ_OK;

	if ((v = json_object_get(attrs, "enc")) && json_is_object(v))
		rc = sub_check_enc(c, v);
	if (rc == PZ_OK && (v = json_object_get(attrs, "bn")) &&
	    json_is_object(v))
		rc = sub_check_bn(c, v);
	if (rc == PZ_OK && (v = json_object_get(attrs, "nct")) &&
	    json_is_integer(v) && json_integer_value(v) > 3)
		return pz_core__fail(c, PZ_RSC_BAD_REQUEST,
				     "notificationContentType %lld is not "
				     "supported (1 all attributes, 2 modified "
				     "attributes, 3 resource id)",
				     (long long)json_integer_value(v));
	if (rc == PZ_OK && (v = json_object_get(attrs, "pn")) &&
	    json_is_integer(v) &&
	    (json_integer_value(v) < 1 || json_integer_value(v) > 2))
		return sub_bad(c, "pendingNotification is 1 or 2");
	return rc;
}

static int sub_create(struct core_ctx *c, struct pz_res *parent,
		      struct pz_res *res)
{
	char ri[CORE_RI_MAX];
	int rc;

	(void)parent;
	rc = sub_check(c, res->doc);
	if (rc != PZ_OK)
		return rc;
	if (!pz_core__allowed(c, &c->t, PZ_ACOP_RETRIEVE, 0))
		return pz_core__fail(c,
			PZ_RSC_SUBSCRIPTION_CREATOR_HAS_NO_PRIVILEGE,
			"originator '%s' may not retrieve the subscribed-to "
			"resource", c->orig ? c->orig : "(none)");
	if (!json_object_get(res->doc, "nct"))
		json_object_set_new(res->doc, "nct", json_integer(1));
	if (!json_object_get(res->doc, "enc"))
		json_object_set_new(res->doc, "enc",
				    json_pack("{s:[i]}", "net", PZ_NET_UPDATE));
	if (c->job && c->job->verified)
		return c->job->verify_rsc ?
		       pz_core__fail(c,
			PZ_RSC_SUBSCRIPTION_VERIFICATION_INITIATION_FAILED,
			"verification of a notification target failed "
			"(rsc %d)", c->job->verify_rsc) : PZ_OK;
	pz_core__res_ri(res, ri, sizeof(ri));
	return pz_core__verify(c, json_object_get(res->doc, "nu"), ri);
}

static int sub_update(struct core_ctx *c, struct pz_res *res, json_t *changes)
{
	json_t *nu = json_object_get(changes, "nu"), *old, *fresh, *v;
	char ri[CORE_RI_MAX];
	size_t i, k;
	int rc = sub_check(c, changes);

	if (rc != PZ_OK || !json_is_array(nu))
		return rc;
	if (c->job && c->job->verified)
		return c->job->verify_rsc ?
		       pz_core__fail(c,
			PZ_RSC_SUBSCRIPTION_VERIFICATION_INITIATION_FAILED,
			"verification of a notification target failed "
			"(rsc %d)", c->job->verify_rsc) : PZ_OK;
	/* Only targets that were not there before are verified. */
	old = json_object_get(pz_res_doc(res), "nu");
	fresh = json_array();
	if (!fresh)
		return pz_core__internal(c, PZ_ENOMEM, "updating");
	json_array_foreach(nu, i, v) {
		bool known = false;
		json_t *o;

		json_array_foreach(old, k, o)
			known |= json_equal(o, v);
		if (!known)
			json_array_append(fresh, v);
	}
	pz_core__res_ri(res, ri, sizeof(ri));
	rc = pz_core__verify(c, fresh, ri);
	json_decref(fresh);
	return rc;
}

static int sub_removing(struct core_ctx *c, struct pz_res *res)
{
	return pz_core__sub_deleted(c, res);
}

const struct core_type pz_core__sub_type = {
	.ty = PZ_TY_SUB,
	.root = "m2m:sub",
	.prefix = "sub",
	.attrs = sub_attrs,
	.children = sub_children,
	.has_acpi = true,
	.subscribable = false,
	.updatable = true,
	.deletable = true,
	.create = sub_create,
	.update = sub_update,
	.removing = sub_removing,
};
