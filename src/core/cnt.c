/*
 * cnt.c - <container> (3) and <contentInstance> (4).
 *
 * A container's currentNrOfInstances (cni), currentByteSize (cbs) and
 * stateTag (st) are row counters changed in the same transaction as the
 * instance that changes them, so they are exact under any load.  Limits
 * (mni, mbs) are enforced on every create by removing the oldest instances;
 * maxInstanceAge (mia) caps each instance's expirationTime, so the expiry
 * sweep removes aged instances.  Instances are immutable.
 */
#include <string.h>

#include "plaza/pz_err.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_time.h"
#include "core_int.h"

#define CNT_PAGE 256

static const struct core_attr cnt_attrs[] = {
	{ "rn", AK_NESTR, AP_O, AP_NP },
	{ "et", AK_TS, AP_O, AP_O },
	{ "lbl", AK_STRLIST, AP_O, AP_O },
	{ "acpi", AK_ACPI, AP_O, AP_O },
	{ "cr", AK_ANY, AP_O, AP_NP },
	{ "mni", AK_UINT, AP_O, AP_O },
	{ "mbs", AK_UINT, AP_O, AP_O },
	{ "mia", AK_UINT, AP_O, AP_O },
	{ "li", AK_STR, AP_O, AP_O },
	{ "or", AK_STR, AP_O, AP_O },
	{ "disr", AK_BOOL, AP_O, AP_O },
	{ NULL, AK_ANY, AP_NP, AP_NP }
};

static const struct core_attr cin_attrs[] = {
	{ "rn", AK_NESTR, AP_O, AP_NP },
	{ "et", AK_TS, AP_O, AP_NP },
	{ "lbl", AK_STRLIST, AP_O, AP_NP },
	{ "cr", AK_ANY, AP_O, AP_NP },
	{ "cnf", AK_STR, AP_O, AP_NP },
	{ "con", AK_ANY, AP_M, AP_NP },
	{ "conr", AK_STR, AP_O, AP_NP },
	{ "or", AK_STR, AP_O, AP_NP },
	{ "dcnt", AK_UINT, AP_O, AP_NP },
	{ NULL, AK_ANY, AP_NP, AP_NP }
};

static const int cnt_children[] = { PZ_TY_CNT, PZ_TY_CIN, PZ_TY_SUB, 0 };
static const int cin_children[] = { 0 };

/* A container limit, or -1 when unset. */
static int64_t cnt_limit(struct pz_res *cnt, const char *name)
{
	json_t *doc = pz_res_doc(cnt);
	json_t *v = doc ? json_object_get(doc, name) : NULL;

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
}

/* Remove the oldest instances until cni <= mni and cbs <= mbs.  cnt is the
 * container's row in the request's chain and is kept current. */
static int cnt_enforce(struct core_ctx *c, struct pz_res *cnt)
{
	int64_t mni = cnt_limit(cnt, "mni"), mbs = cnt_limit(cnt, "mbs");
	struct pz_res old;
	int rc = PZ_OK;

	pz_res_init(&old);
	while (rc == PZ_OK && ((mni >= 0 && cnt->cni > mni) ||
			       (mbs >= 0 && cnt->cbs > mbs))) {
		rc = pz_store_edge(c->core->store, cnt->id, PZ_TY_CIN, false,
				   &old);
		if (rc == PZ_ENOTFOUND) {
			/* The counters say there are instances, the rows
			 * say none: trust the rows. */
			rc = pz_store_adjust(c->core->store, cnt->id,
					     -cnt->cni, -cnt->cbs, 0, 0, 0);
			cnt->cni = cnt->cbs = 0;
			break;
		}
		if (rc != PZ_OK)
			break;
		rc = pz_core__delete_res(c, cnt, &old);
		cnt->cni--;
		cnt->cbs -= old.cs;
		pz_res_clear(&old);
	}
	pz_res_clear(&old);
	return rc == PZ_OK || rc == PZ_EREQ ? rc :
	       pz_core__internal(c, rc, "enforcing container limits");
}

static int cnt_updated(struct core_ctx *c, struct pz_res *res, json_t *mod)
{
	int rc = cnt_enforce(c, res);

	/* A new maxInstanceAge applies to the instances already stored:
	 * the sweep picks them up by their capped expirationTime. */
	if (rc == PZ_OK && json_object_get(mod, "mia"))
		rc = pz_core__cap_instances(c, res);
	return rc;
}

/* Live counters of a container. */
static void cnt_present(struct pz_res *res, json_t *obj)
{
	json_object_set_new(obj, "cni", json_integer(res->cni));
	json_object_set_new(obj, "cbs", json_integer(res->cbs));
	json_object_set_new(obj, "st", json_integer(res->st));
}

const struct core_type pz_core__cnt_type = {
	.ty = PZ_TY_CNT,
	.root = "m2m:cnt",
	.prefix = "cnt",
	.attrs = cnt_attrs,
	.children = cnt_children,
	.has_acpi = true,
	.subscribable = true,
	.updatable = true,
	.deletable = true,
	.updated = cnt_updated,
	.present = cnt_present,
};

/* --- contentInstance --------------------------------------------------- */

/* contentInfo: "type/subtype" optionally followed by ":0|1|2". */
static bool cin_cnf_ok(const char *s)
{
	const char *slash = strchr(s, '/'), *colon = strrchr(s, ':');

	if (!slash || slash == s || !slash[1])
		return false;
	if (colon && colon > slash)
		return (colon[1] == '0' || colon[1] == '1' ||
			colon[1] == '2') && !colon[2];
	return true;
}

static int64_t cin_size(json_t *con)
{
	char *s;
	int64_t n;

	if (json_is_string(con))
		return (int64_t)json_string_length(con);
	s = json_dumps(con, JSON_COMPACT | JSON_ENCODE_ANY);
	n = s ? (int64_t)strlen(s) : -1;
	pz_free(s);
	return n;
}

static int cin_create(struct core_ctx *c, struct pz_res *parent,
		      struct pz_res *res)
{
	json_t *cnf = json_object_get(res->doc, "cnf");
	int64_t mbs = cnt_limit(parent, "mbs");
	int64_t mia = cnt_limit(parent, "mia");

	if (cnf && !cin_cnf_ok(json_string_value(cnf)))
		return pz_core__fail(c, PZ_RSC_BAD_REQUEST,
				     "contentInfo (cnf) must look like "
				     "'text/plain:0'");
	res->cs = cin_size(json_object_get(res->doc, "con"));
	if (res->cs < 0)
		return pz_core__internal(c, PZ_ENOMEM, "measuring content");
	if (mbs >= 0 && res->cs > mbs)
		return pz_core__fail(c, PZ_RSC_NOT_ACCEPTABLE,
				     "content size %lld exceeds the container's "
				     "maxByteSize %lld", (long long)res->cs,
				     (long long)mbs);
	res->st = parent->st + 1;
	if (mia >= 0 && res->ct + mia * 1000000 < res->et)
		res->et = res->ct + mia * 1000000;
	return PZ_OK;
}

static int cin_created(struct core_ctx *c, struct pz_res *parent,
		       struct pz_res *res)
{
	int rc = pz_store_adjust(c->core->store, parent->id, 1, res->cs, 1,
				 c->now, res->id);

	if (rc != PZ_OK)
		return pz_core__internal(c, rc, "counting the instance");
	parent->cni++;
	parent->cbs += res->cs;
	parent->st++;
	parent->lt = c->now;
	parent->lid = res->id;
	return cnt_enforce(c, parent);
}

/* Deleting an instance takes it off its container's counters. */
static int cin_removing(struct core_ctx *c, struct pz_res *res)
{
	int rc = pz_store_adjust(c->core->store, res->pid, -1, -res->cs, 0, 0,
				 -res->id);

	return rc == PZ_OK ? PZ_OK :
	       pz_core__internal(c, rc, "counting the instance");
}

static void cin_present(struct pz_res *res, json_t *obj)
{
	json_object_set_new(obj, "cs", json_integer(res->cs));
	json_object_set_new(obj, "st", json_integer(res->st));
}

const struct core_type pz_core__cin_type = {
	.ty = PZ_TY_CIN,
	.root = "m2m:cin",
	.prefix = "cin",
	.attrs = cin_attrs,
	.children = cin_children,
	.has_acpi = false,
	.subscribable = false,
	.updatable = false,
	.deletable = true,
	.create = cin_create,
	.created = cin_created,
	.removing = cin_removing,
	.present = cin_present,
};

/* --- maxInstanceAge on existing instances ------------------------------ */

struct cap_page {
	struct pz_res rows[CNT_PAGE];
	int n;
};

static int cap_take(void *ud, struct pz_res *res)
{
	struct cap_page *p = ud;

	pz_res_init(&p->rows[p->n]);
	pz_res_move(&p->rows[p->n], res);
	p->n++;
	return p->n == CNT_PAGE;
}

int pz_core__cap_instances(struct core_ctx *c, struct pz_res *cnt)
{
	int64_t mia = cnt_limit(cnt, "mia");
	struct pz_store_q q = { 0 };
	struct cap_page *p;
	int64_t after = 0;
	int rc = PZ_OK, n;

	if (mia < 0)
		return PZ_OK;
	p = pz_calloc(1, sizeof(*p));
	if (!p)
		return pz_core__internal(c, PZ_ENOMEM, "applying mia");
	q.root = cnt->id;
	q.lvl = 1;
	q.with_doc = true;
	do {
		p->n = 0;
		q.after_id = after;
		rc = pz_store_find(c->core->store, &q, cap_take, p);
		n = p->n;
		for (int i = 0; i < n; i++) {
			struct pz_res *r = &p->rows[i];
			int64_t cap = r->ct + mia * 1000000;

			after = r->id;
			if (rc == PZ_OK && r->ty == PZ_TY_CIN && cap < r->et) {
				r->et = cap;
				rc = pz_store_update(c->core->store, r);
				pz_core__expiry_note(c->core, cap);
			}
			pz_res_clear(r);
		}
	} while (rc == PZ_OK && n == CNT_PAGE);
	pz_free(p);
	return rc == PZ_OK ? PZ_OK : pz_core__internal(c, rc, "applying mia");
}

/*
 * The latest (newest) or oldest instance of a container.  The latest is
 * found through the id the container keeps, so reading it costs the same
 * whatever the container's size; the index is the fallback when that id
 * was forgotten (the latest was deleted).  PZ_OK, PZ_ENOTFOUND, PZ_ESTORE.
 */
int pz_core__instance(struct core_ctx *c, struct pz_res *cnt, bool newest,
		      struct pz_res *out)
{
	int rc;

	if (newest && cnt->lid > 0) {
		rc = pz_store_get(c->core->store, cnt->lid, out);
		if (rc == PZ_OK && out->pid == cnt->id && out->ty == PZ_TY_CIN)
			return PZ_OK;
		if (rc != PZ_OK && rc != PZ_ENOTFOUND)
			return rc;
		pz_res_clear(out);
	}
	return pz_store_edge(c->core->store, cnt->id, PZ_TY_CIN, newest, out);
}
