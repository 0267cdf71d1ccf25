/*
 * attr.c - validation of request attributes against a type's table: every
 * attribute must be known for the type, permitted for the operation and of
 * the right kind; mandatory ones must be present on create.  An attribute
 * set to null in an update is removed (only optional ones may be).
 */
#include <string.h>

#include "plaza/pz_err.h"
#include "plaza/pz_time.h"
#include "core_int.h"

static const struct core_attr *attr_find(const struct core_type *type,
					 const char *name)
{
	for (const struct core_attr *a = type->attrs; a->name; a++)
		if (!strcmp(a->name, name))
			return a;
	return NULL;
}

static bool attr_str_list(json_t *v, bool nonempty)
{
	json_t *e;
	size_t i;

	if (!json_is_array(v) || (nonempty && json_array_size(v) == 0))
		return false;
	json_array_foreach(v, i, e) {
		if (!json_is_string(e) ||
		    (nonempty && !*json_string_value(e)))
			return false;
	}
	return true;
}

static bool attr_kind_ok(enum core_akind kind, json_t *v)
{
	json_t *e;
	size_t i;
	int64_t t;

	switch (kind) {
	case AK_STR:
		return json_is_string(v);
	case AK_NESTR:
		return json_is_string(v) && *json_string_value(v);
	case AK_UINT:
		return json_is_integer(v) && json_integer_value(v) >= 0;
	case AK_PINT:
		return json_is_integer(v) && json_integer_value(v) > 0;
	case AK_BOOL:
		return json_is_boolean(v);
	case AK_TS:
		return json_is_string(v) &&
		       pz_time_parse(json_string_value(v), &t) == PZ_OK;
	case AK_STRLIST:
	case AK_ACPI:
		return attr_str_list(v, false);
	case AK_NESTRLIST:
		return attr_str_list(v, true);
	case AK_INTLIST:
		if (!json_is_array(v))
			return false;
		json_array_foreach(v, i, e) {
			if (!json_is_integer(e) || json_integer_value(e) < 0)
				return false;
		}
		return true;
	case AK_OBJ:
		return json_is_object(v);
	case AK_ANY:
		return true;
	}
	return false;
}

static const char *attr_kind_name(enum core_akind kind)
{
	switch (kind) {
	case AK_STR: return "a string";
	case AK_NESTR: return "a non-empty string";
	case AK_UINT: return "a non-negative integer";
	case AK_PINT: return "a positive integer";
	case AK_BOOL: return "a boolean";
	case AK_TS: return "a timestamp YYYYMMDDTHHMMSS";
	case AK_STRLIST: return "a list of strings";
	case AK_NESTRLIST: return "a non-empty list of non-empty strings";
	case AK_INTLIST: return "a list of non-negative integers";
	case AK_OBJ: return "an object";
	case AK_ACPI: return "a list of resource ids";
	default: return "a value";
	}
}

int pz_core__validate(struct core_ctx *c, const struct core_type *type,
		      json_t *attrs, bool create)
{
	const char *op = create ? "create" : "update";
	const struct core_attr *a;
	const char *k;
	json_t *v;
	int rc;

	json_object_foreach(attrs, k, v) {
		a = attr_find(type, k);
		if (!a)
			return pz_core__fail(c, PZ_RSC_BAD_REQUEST,
					     "unknown attribute '%.40s' for %s",
					     k, type->root);
		if ((create ? a->create : a->update) == AP_NP)
			return pz_core__fail(c, PZ_RSC_BAD_REQUEST,
					     "attribute '%s' cannot be set in "
					     "%s", k, op);
		if (json_is_null(v)) {
			/* create: only "cr": null (record the creator);
			 * update: removes an optional attribute. */
			if (create ? !strcmp(k, "cr") : a->create != AP_M)
				continue;
			return pz_core__fail(c, PZ_RSC_BAD_REQUEST,
					     "attribute '%s' cannot be null", k);
		}
		if (!strcmp(k, "cr"))
			return pz_core__fail(c, PZ_RSC_BAD_REQUEST,
					     "creator (cr) can only be null; the "
					     "CSE fills it in");
		if (!attr_kind_ok(a->kind, v))
			return pz_core__fail(c, PZ_RSC_BAD_REQUEST,
					     "attribute '%s' must be %s", k,
					     attr_kind_name(a->kind));
		if (a->kind == AK_ACPI) {
			rc = pz_core__check_acpi(c, v);
			if (rc != PZ_OK)
				return rc;
		}
	}
	if (!create)
		return json_object_size(attrs) ? PZ_OK :
		       pz_core__fail(c, PZ_RSC_BAD_REQUEST,
				     "an update needs at least one attribute");
	for (a = type->attrs; a->name; a++) {
		if (a->create == AP_M && !json_object_get(attrs, a->name))
			return pz_core__fail(c, PZ_RSC_BAD_REQUEST,
					     "missing mandatory attribute '%s' "
					     "for %s", a->name, type->root);
	}
	return PZ_OK;
}
