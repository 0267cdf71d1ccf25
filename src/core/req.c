/*
 * req.c - request/response primitive helpers: initialisation, the text form
 * of request parameters (query strings, binding options) and the rsc tables.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plaza/pz_err.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_req.h"
#include "plaza/pz_time.h"

void pz_fc_init(struct pz_fc *fc)
{
	memset(fc, 0, sizeof(*fc));
	fc->crb = fc->cra = fc->ms = fc->us = fc->exb = fc->exa = PZ_FC_UNSET;
	fc->stb = fc->sts = -1;
	fc->sza = fc->szb = -1;
	fc->lim = fc->ofst = fc->lvl = -1;
}

void pz_req_init(struct pz_req *req)
{
	memset(req, 0, sizeof(*req));
	pz_arena_init(&req->arena);
	req->rcn = PZ_RCN_DEFAULT;
	pz_fc_init(&req->fc);
}

void pz_req_clear(struct pz_req *req)
{
	json_decref(req->pc);
	req->pc = NULL;
	pz_arena_free(&req->arena);
}

void pz_rsp_init(struct pz_rsp *rsp)
{
	memset(rsp, 0, sizeof(*rsp));
}

void pz_rsp_clear(struct pz_rsp *rsp)
{
	json_decref(rsp->pc);
	pz_free(rsp->rqi);
	pz_free(rsp->location);
	pz_free(rsp->credential);
	pz_free(rsp->ot);
	memset(rsp, 0, sizeof(*rsp));
}

const char *pz_op_name(int op)
{
	static const char *const names[] = { "none", "create", "retrieve",
					      "update", "delete", "notify" };

	if (op < 0 || op > 5)
		return "unknown";
	return names[op];
}

/* --- request parameters in text form ------------------------------------ */

/* Parse a whole decimal integer in [lo, hi]. */
static int param_int(const char *v, long long lo, long long hi,
		     long long *out)
{
	char *end;
	long long n;

	if (!v || !*v || isspace((unsigned char)*v))
		return PZ_EINVAL;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || *end || n < lo || n > hi)
		return PZ_EINVAL;
	*out = n;
	return PZ_OK;
}

/* Split v on '+' and spaces (TS-0009 list form) and hand each item to add. */
static int param_list(struct pz_req *req, const char *v,
		      int (*add)(struct pz_req *, const char *, char *, size_t),
		      char *err, size_t errlen)
{
	const char *p = v;

	while (*p) {
		size_t n = strcspn(p, "+ ");
		char *item;
		int rc;

		if (n) {
			item = pz_arena_strndup(&req->arena, p, n);
			if (!item)
				return PZ_ENOMEM;
			rc = add(req, item, err, errlen);
			if (rc != PZ_OK)
				return rc;
		}
		p += n;
		while (*p == '+' || *p == ' ')
			p++;
	}
	return PZ_OK;
}

static int add_lbl(struct pz_req *req, const char *item, char *err,
		   size_t errlen)
{
	if (req->fc.nlbl == PZ_FC_MAX_LIST) {
		snprintf(err, errlen, "too many labels in filter (max %d)",
			 PZ_FC_MAX_LIST);
		return PZ_EINVAL;
	}
	req->fc.lbl[req->fc.nlbl++] = item;
	return PZ_OK;
}

static int add_cty(struct pz_req *req, const char *item, char *err,
		   size_t errlen)
{
	if (req->fc.ncty == PZ_FC_MAX_LIST) {
		snprintf(err, errlen, "too many content types in filter");
		return PZ_EINVAL;
	}
	req->fc.cty[req->fc.ncty++] = item;
	return PZ_OK;
}

static int add_ty(struct pz_req *req, const char *item, char *err,
		  size_t errlen)
{
	long long n;

	if (param_int(item, 1, 65535, &n) != PZ_OK) {
		snprintf(err, errlen, "invalid resource type '%.32s' in filter",
			 item);
		return PZ_EINVAL;
	}
	if (req->fc.nty == PZ_FC_MAX_LIST) {
		snprintf(err, errlen, "too many resource types in filter");
		return PZ_EINVAL;
	}
	req->fc.ty[req->fc.nty++] = (int)n;
	return PZ_OK;
}

/* Integer parameters: name, bounds, where the value goes. */
enum { P_RCN, P_RT, P_DRT, P_FU, P_FO, P_LIM, P_OFST, P_LVL, P_STS, P_STB,
       P_SZA, P_SZB };

static const struct {
	const char *name;
	int which;
	long long lo, hi;
} int_params[] = {
	{ "rcn", P_RCN, 0, 12 },
	{ "rt", P_RT, 1, 5 },
	{ "drt", P_DRT, 1, 2 },
	{ "fu", P_FU, 1, 2 },
	{ "fo", P_FO, 1, 2 },
	{ "lim", P_LIM, 0, 1000000000 },
	{ "ofst", P_OFST, 0, 1000000000 },
	{ "lvl", P_LVL, 1, 1000000 },
	{ "sts", P_STS, 0, INT64_MAX / 2 },
	{ "stb", P_STB, 0, INT64_MAX / 2 },
	{ "sza", P_SZA, 0, INT64_MAX / 2 },
	{ "szb", P_SZB, 0, INT64_MAX / 2 },
};

static void param_set_int(struct pz_req *req, int which, long long n)
{
	struct pz_fc *fc = &req->fc;

	switch (which) {
	case P_RCN: req->rcn = (int)n; return;
	case P_RT: req->rt = (int)n; return;
	case P_DRT: req->drt = (int)n; return;
	case P_FU: fc->fu = (int)n; break;
	case P_FO: fc->fo = (int)n; break;
	case P_LIM: fc->lim = n; break;
	case P_OFST: fc->ofst = n; break;
	case P_LVL: fc->lvl = n; break;
	case P_STS: fc->sts = n; break;
	case P_STB: fc->stb = n; break;
	case P_SZA: fc->sza = n; break;
	case P_SZB: fc->szb = n; break;
	}
	fc->present = true;
}

static const struct {
	const char *name;
	size_t off;
} time_params[] = {
	{ "crb", offsetof(struct pz_fc, crb) },
	{ "cra", offsetof(struct pz_fc, cra) },
	{ "ms", offsetof(struct pz_fc, ms) },
	{ "us", offsetof(struct pz_fc, us) },
	{ "exb", offsetof(struct pz_fc, exb) },
	{ "exa", offsetof(struct pz_fc, exa) },
};

/* Attribute names usable as attribute filters (atr) in the query string. */
static const char *const atr_names[] = {
	"rn", "ri", "pi", "ct", "lt", "et", "cr", "st", "cs", "cnf", "con",
	"mni", "mbs", "mia", "cni", "cbs", "api", "aei", "rr", "apn", "nu",
	"nct", "mt", "cnm", "mnm", "acpi", "or", "li", "csi", "cst", NULL
};

static int param_atr(struct pz_req *req, const char *name, const char *value,
		     char *err, size_t errlen)
{
	struct pz_fc *fc = &req->fc;

	for (int i = 0; atr_names[i]; i++) {
		if (strcmp(name, atr_names[i]))
			continue;
		if (fc->natr == PZ_FC_MAX_LIST) {
			snprintf(err, errlen, "too many attribute filters");
			return PZ_EINVAL;
		}
		fc->atr_name[fc->natr] = atr_names[i];
		fc->atr_val[fc->natr] = pz_arena_strdup(&req->arena, value);
		if (!fc->atr_val[fc->natr])
			return PZ_ENOMEM;
		fc->natr++;
		fc->present = true;
		return PZ_OK;
	}
	snprintf(err, errlen, "unknown request parameter '%.32s'", name);
	return PZ_ENOTFOUND;
}

int pz_req_param(struct pz_req *req, const char *name, const char *value,
		 char *err, size_t errlen)
{
	long long n;
	size_t i;

	if (!value)
		value = "";
	for (i = 0; i < sizeof(int_params) / sizeof(int_params[0]); i++) {
		if (strcmp(name, int_params[i].name))
			continue;
		if (param_int(value, int_params[i].lo, int_params[i].hi,
			      &n) != PZ_OK) {
			snprintf(err, errlen,
				 "invalid value '%.32s' for '%s' (expected an "
				 "integer from %lld to %lld)", value, name,
				 int_params[i].lo, int_params[i].hi);
			return PZ_EINVAL;
		}
		param_set_int(req, int_params[i].which, n);
		return PZ_OK;
	}
	for (i = 0; i < sizeof(time_params) / sizeof(time_params[0]); i++) {
		int64_t t;

		if (strcmp(name, time_params[i].name))
			continue;
		if (pz_time_parse(value, &t) != PZ_OK) {
			snprintf(err, errlen,
				 "invalid timestamp '%.32s' for '%s' (expected "
				 "YYYYMMDDTHHMMSS)", value, name);
			return PZ_EINVAL;
		}
		*(int64_t *)((char *)&req->fc + time_params[i].off) = t;
		req->fc.present = true;
		return PZ_OK;
	}
	if (!strcmp(name, "lbl")) {
		req->fc.present = true;
		return param_list(req, value, add_lbl, err, errlen);
	}
	if (!strcmp(name, "cty")) {
		req->fc.present = true;
		return param_list(req, value, add_cty, err, errlen);
	}
	if (!strcmp(name, "ty")) {
		req->fc.present = true;
		return param_list(req, value, add_ty, err, errlen);
	}
	/* Accepted and without effect here: plaza keeps no result persistence
	 * (rp) and does no delivery aggregation (da). */
	if (!strcmp(name, "rp") || !strcmp(name, "da"))
		return PZ_OK;
	if (!strcmp(name, "gmty") || !strcmp(name, "geom") ||
	    !strcmp(name, "gsf") || !strcmp(name, "smf") ||
	    !strcmp(name, "sqi") || !strcmp(name, "arp")) {
		snprintf(err, errlen, "filter '%s' (geo/semantic query) is not "
			 "supported", name);
		return PZ_EINVAL;
	}
	return param_atr(req, name, value, err, errlen);
}
