/*
 * fuzz_reqtext.c - shared by req_param_fuzz.c and http_map_fuzz.c: the
 * "encode" half of their parse -> encode -> parse round trip.  It writes a
 * request's parameters back as text (fz_req_params, the query-string form
 * pz_req_param reads), writes timestamps with their microseconds and
 * before 1970 (fz_ts), and compares two requests field by field
 * (fz_req_diff).  No plaza code is used to encode, so a round trip checks
 * the parser against an independent writer.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "plaza/pz_req.h"
#include "plaza/pz_time.h"

typedef void (*fz_emit_fn)(void *ud, const char *name, const char *value);

void fz_ts(int64_t t, char out[48]);
void fz_req_params(const struct pz_req *req, fz_emit_fn emit, void *ud);
const char *fz_req_diff(const struct pz_req *a, const struct pz_req *b);

/* Civil date of a day count since 1970-01-01 (H. Hinnant's algorithm). */
static void fz_civil(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* t as "YYYYMMDDTHHMMSS,ffffff" (any year 0..9999), or the "never"
 * timestamp for PZ_TIME_NEVER. */
void fz_ts(int64_t t, char out[48])
{
	int64_t sec, us, days, rem, y;
	int m, d;

	if (t == PZ_TIME_NEVER) {
		strcpy(out, "99991231T235959");
		return;
	}
	sec = t / 1000000;
	us = t % 1000000;
	if (us < 0) {
		us += 1000000;
		sec--;
	}
	days = sec / 86400;
	rem = sec % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	fz_civil(days, &y, &m, &d);
	snprintf(out, 48, "%04" PRId64 "%02d%02dT%02d%02d%02d,%06d", y, m, d,
		 (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60),
		 (int)us);
}

static void fz_emit_int(fz_emit_fn emit, void *ud, const char *name,
			long long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", v);
	emit(ud, name, buf);
}

static void fz_emit_time(fz_emit_fn emit, void *ud, const char *name,
			 int64_t t)
{
	char buf[48];

	if (t == PZ_FC_UNSET)
		return;  /* not given */
	fz_ts(t, buf);
	emit(ud, name, buf);
}

/* Every parameter pz_req_param can set, as name/value text pairs. */
void fz_req_params(const struct pz_req *req, fz_emit_fn emit, void *ud)
{
	const struct pz_fc *fc = &req->fc;

	if (req->rcn != PZ_RCN_DEFAULT)
		fz_emit_int(emit, ud, "rcn", req->rcn);
	if (req->rt)
		fz_emit_int(emit, ud, "rt", req->rt);
	if (req->drt)
		fz_emit_int(emit, ud, "drt", req->drt);
	if (fc->fu)
		fz_emit_int(emit, ud, "fu", fc->fu);
	if (fc->fo)
		fz_emit_int(emit, ud, "fo", fc->fo);
	if (fc->lim >= 0)
		fz_emit_int(emit, ud, "lim", fc->lim);
	if (fc->ofst >= 0)
		fz_emit_int(emit, ud, "ofst", fc->ofst);
	if (fc->lvl >= 0)
		fz_emit_int(emit, ud, "lvl", fc->lvl);
	if (fc->sts >= 0)
		fz_emit_int(emit, ud, "sts", fc->sts);
	if (fc->stb >= 0)
		fz_emit_int(emit, ud, "stb", fc->stb);
	if (fc->sza >= 0)
		fz_emit_int(emit, ud, "sza", fc->sza);
	if (fc->szb >= 0)
		fz_emit_int(emit, ud, "szb", fc->szb);
	fz_emit_time(emit, ud, "crb", fc->crb);
	fz_emit_time(emit, ud, "cra", fc->cra);
	fz_emit_time(emit, ud, "ms", fc->ms);
	fz_emit_time(emit, ud, "us", fc->us);
	fz_emit_time(emit, ud, "exb", fc->exb);
	fz_emit_time(emit, ud, "exa", fc->exa);
	for (int i = 0; i < fc->nlbl; i++)
		emit(ud, "lbl", fc->lbl[i]);
	for (int i = 0; i < fc->ncty; i++)
		emit(ud, "cty", fc->cty[i]);
	for (int i = 0; i < fc->nty; i++)
		fz_emit_int(emit, ud, "ty", fc->ty[i]);
	for (int i = 0; i < fc->natr; i++)
		emit(ud, fc->atr_name[i], fc->atr_val[i]);
}

static bool fz_str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* NULL when a and b carry the same request, else the first field that
 * differs.  fc.present is not compared: an empty list sets it without
 * leaving anything to write back. */
const char *fz_req_diff(const struct pz_req *a, const struct pz_req *b)
{
	const struct pz_fc *x = &a->fc, *y = &b->fc;

#define FZ_SAME(f) do { if (a->f != b->f) return #f; } while (0)
#define FZ_SAME_FC(f) do { if (x->f != y->f) return "fc." #f; } while (0)
#define FZ_SAME_STR(f) do { if (!fz_str_eq(a->f, b->f)) return #f; } while (0)
	FZ_SAME(op);
	FZ_SAME(ty);
	FZ_SAME_STR(to);
	FZ_SAME_STR(fr);
	FZ_SAME_STR(rqi);
	FZ_SAME_STR(rvi);
	FZ_SAME_STR(rtu);
	FZ_SAME_STR(ot);
	FZ_SAME_STR(gid);
	FZ_SAME_STR(vsi);
	FZ_SAME(rqet);
	FZ_SAME(rset);
	FZ_SAME(oet);
	FZ_SAME(ec);
	FZ_SAME(rcn);
	FZ_SAME(rt);
	FZ_SAME(drt);
	FZ_SAME(auth);
	FZ_SAME_STR(auth_id);
	FZ_SAME_STR(secret);
	FZ_SAME_FC(fu);
	FZ_SAME_FC(fo);
	FZ_SAME_FC(crb);
	FZ_SAME_FC(cra);
	FZ_SAME_FC(ms);
	FZ_SAME_FC(us);
	FZ_SAME_FC(exb);
	FZ_SAME_FC(exa);
	FZ_SAME_FC(stb);
	FZ_SAME_FC(sts);
	FZ_SAME_FC(sza);
	FZ_SAME_FC(szb);
	FZ_SAME_FC(lim);
	FZ_SAME_FC(ofst);
	FZ_SAME_FC(lvl);
	FZ_SAME_FC(nlbl);
	FZ_SAME_FC(nty);
	FZ_SAME_FC(ncty);
	FZ_SAME_FC(natr);
	for (int i = 0; i < x->nlbl; i++)
		if (strcmp(x->lbl[i], y->lbl[i]))
			return "fc.lbl[]";
	for (int i = 0; i < x->ncty; i++)
		if (strcmp(x->cty[i], y->cty[i]))
			return "fc.cty[]";
	for (int i = 0; i < x->nty; i++)
		if (x->ty[i] != y->ty[i])
			return "fc.ty[]";
	for (int i = 0; i < x->natr; i++)
		if (strcmp(x->atr_name[i], y->atr_name[i]) ||
		    strcmp(x->atr_val[i], y->atr_val[i]))
			return "fc.atr[]";
#undef FZ_SAME
#undef FZ_SAME_FC
#undef FZ_SAME_STR
	return NULL;
}
