/*
 * ae.c - the <AE> resource type (2): application registration.
 *
 * The registrant's originator decides the AE-ID: "C" or empty asks the CSE
 * to assign a C-type ID, "S" an S-type one; "C..." / "S..." request that
 * ID.  The AE-ID is also the AE's resource ID.  Unless plaza trusts the
 * X-M2M-Origin header (compatibility mode), registration issues the AE's
 * credential, which the binding hands back once; only its hash is stored.
 */
#include <ctype.h>
#include <fnmatch.h>
#include <string.h>

#include "plaza/pz_err.h"
#include "plaza/pz_mem.h"
#include "core_int.h"

static const struct core_attr ae_attrs[] = {
	{ "rn", AK_NESTR, AP_O, AP_NP },
	{ "et", AK_TS, AP_O, AP_O },
	{ "lbl", AK_STRLIST, AP_O, AP_O },
	{ "acpi", AK_ACPI, AP_O, AP_O },
	{ "cr", AK_ANY, AP_O, AP_NP },
	{ "api", AK_NESTR, AP_M, AP_NP },
	{ "apn", AK_STR, AP_O, AP_O },
	{ "poa", AK_STRLIST, AP_O, AP_O },
	{ "or", AK_STR, AP_O, AP_O },
	{ "nl", AK_STR, AP_O, AP_O },
	{ "rr", AK_BOOL, AP_M, AP_O },
	{ "csz", AK_STRLIST, AP_O, AP_O },
	{ "srv", AK_NESTRLIST, AP_M, AP_O },
	{ "regs", AK_STR, AP_O, AP_O },
	{ "trps", AK_BOOL, AP_O, AP_O },
	{ "ph", AK_STR, AP_O, AP_O },
	{ NULL, AK_ANY, AP_NP, AP_NP }
};

static const int ae_children[] = {
	PZ_TY_ACP, PZ_TY_CNT, PZ_TY_GRP, PZ_TY_SUB, 0
};

static const char *const ae_versions[] = { "1", "2", "2a", "3", "4", "5",
					   NULL };
static const char *const ae_formats[] = {
	"application/json", "application/cbor", "application/xml", NULL
};

static bool ae_in(const char *s, const char *const *set)
{
	for (int i = 0; s && set[i]; i++)
		if (!strcmp(s, set[i]))
			return true;
	return false;
}

/* Point of access: "scheme://..." with a plausible scheme. */
static bool ae_poa_ok(const char *s)
{
	const char *p = s;

	if (!isalpha((unsigned char)*p))
		return false;
	while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' ||
	       *p == '.')
		p++;
	return p[0] == ':' && p[1] == '/' && p[2] == '/' && p[3];
}

static int ae_check(struct core_ctx *c, json_t *attrs)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(attrs, "srv"), i, v) {
		if (!ae_in(json_string_value(v), ae_versions))
			return pz_core__fail(c, PZ_RSC_BAD_REQUEST,
					     "unknown release version '%.16s' "
					     "in srv", json_string_value(v));
	}
	json_array_foreach(json_object_get(attrs, "csz"), i, v) {
		if (!ae_in(json_string_value(v), ae_formats))
			return pz_core__fail(c, PZ_RSC_BAD_REQUEST,
					     "unknown serialization '%.40s' in "
					     "csz", json_string_value(v));
	}
	json_array_foreach(json_object_get(attrs, "poa"), i, v) {
		if (!ae_poa_ok(json_string_value(v)))
			return pz_core__fail(c, PZ_RSC_BAD_REQUEST,
					     "point of access '%.64s' is not a "
					     "URL", json_string_value(v));
	}
	return PZ_OK;
}

static bool ae_id_chars_ok(const char *id)
{
	size_t n = strlen(id);

	if (n < 2 || n > 64)
		return false;
	for (const char *p = id; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-._~", *p))
			return false;
	return true;
}

static bool ae_allowed_id(pz_core *core, const char *id)
{
	const char *p = core->allowed_aes;
	char pat[65];

	if (!p)
		return true;
	while (*p) {
		size_t n = strcspn(p, " ,");

		if (n && n < sizeof(pat)) {
			memcpy(pat, p, n);
			pat[n] = '\0';
			if (fnmatch(pat, id, 0) == 0)
				return true;
		}
		p += n;
		while (*p == ' ' || *p == ',')
			p++;
	}
	return false;
}

/* kind 'C' or 'S' followed by 12 random lowercase letters/digits. */
static int ae_new_id(char kind, char out[16])
{
	static const char set[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char r[12];

	if (pz_core_random(r, sizeof(r)) != PZ_OK)
		return PZ_EIO;
	out[0] = kind;
	for (int i = 0; i < 12; i++)
		out[i + 1] = set[r[i] % 36];
	out[13] = '\0';
	return PZ_OK;
}

static int ae_create(struct core_ctx *c, struct pz_res *parent,
		     struct pz_res *res)
{
	const char *fr = c->orig;
	json_t *doc = res->doc;
	const char *api = json_string_value(json_object_get(doc, "api"));
	struct pz_res other;
	char id[16];
	const char *aei;
	int rc;

	(void)parent;
	rc = ae_check(c, doc);
	if (rc != PZ_OK)
		return rc;
	if (api[0] != 'R' && api[0] != 'N' &&
	    !((api[0] == 'r' || api[0] == 'n') && c->req->rvi &&
	      !strcmp(c->req->rvi, "3")))
		return pz_core__fail(c, PZ_RSC_BAD_REQUEST,
				     "App-ID (api) must start with 'R' "
				     "(registered) or 'N' (non-registered)");
	if (c->admin || !fr || !strcmp(fr, "C") || !strcmp(fr, "S")) {
		rc = ae_new_id(fr && fr[0] == 'S' && !c->admin ? 'S' : 'C', id);
		if (rc != PZ_OK)
			return pz_core__internal(c, rc, "assigning an AE-ID");
		aei = id;
	} else if ((fr[0] == 'C' || fr[0] == 'S') && ae_id_chars_ok(fr)) {
		if (!ae_allowed_id(c->core, fr))
			return pz_core__fail(c,
				PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE,
				"AE-ID '%s' is not allowed to register", fr);
		aei = fr;
	} else {
		return pz_core__fail(c, PZ_RSC_SECURITY_ASSOCIATION_REQUIRED,
				     "originator '%.64s' cannot register an "
				     "AE: use C, S or an AE-ID starting with "
				     "C or S", fr);
	}
	pz_res_init(&other);
	rc = pz_store_get_ri(c->core->store, aei, &other);
	pz_res_clear(&other);
	if (rc == PZ_OK)
		return pz_core__fail(c,
				     PZ_RSC_ORIGINATOR_HAS_ALREADY_REGISTERED,
				     "AE-ID '%s' is already registered", aei);
	if (rc != PZ_ENOTFOUND)
		return pz_core__internal(c, rc, "registering");
	res->ri = pz_strdup(aei);
	pz_free(res->org);
	res->org = pz_strdup(aei);
	if (!res->ri || !res->org ||
	    json_object_set_new(doc, "aei", json_string(aei)))
		return pz_core__internal(c, PZ_ENOMEM, "registering");
	if (!res->rn) {
		res->rn = pz_strdup(aei);
		if (!res->rn)
			return pz_core__internal(c, PZ_ENOMEM, "registering");
	}
	if (!c->core->conf.trust_origin) {
		rc = pz_core__issue_credential(c, aei);
		if (rc != PZ_OK)
			return pz_core__internal(c, rc, "issuing a credential");
	}
	return pz_core__trust_ae_registered(c, aei, api);
}

static int ae_update(struct core_ctx *c, struct pz_res *res, json_t *changes)
{
	(void)res;
	return ae_check(c, changes);
}

/* Deregistration ends the AE's credential, and its identity (trust.c). */
static int ae_removing(struct core_ctx *c, struct pz_res *res)
{
	int rc = pz_store_cred_del(c->core->store, res->ri);

	if (rc != PZ_OK && rc != PZ_ENOTFOUND)
		return pz_core__internal(c, rc, "removing the credential");
	return pz_core__trust_ae_removed(c, res->ri);
}

const struct core_type pz_core__ae_type = {
	.ty = PZ_TY_AE,
	.root = "m2m:ae",
	.prefix = "ae",
	.attrs = ae_attrs,
	.children = ae_children,
	.has_acpi = true,
	.subscribable = true,
	.updatable = true,
	.deletable = true,
	.create = ae_create,
	.update = ae_update,
	.removing = ae_removing,
};
