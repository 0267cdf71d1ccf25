/*
 * filter.c - filter criteria, discovery (fu=1) and the child-resource
 * result contents (rcn 4, 5, 6, 8).
 *
 * The walk is depth first below the target, one page of children at a
 * time, so the ancestor chain of every candidate is at hand for access
 * control and its hierarchical address, and no store query is open while
 * we recurse.  Results stop at lim (after ofst) and at the configured cap.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "plaza/pz_buf.h"
#include "plaza/pz_err.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_time.h"
#include "core_int.h"

#define FILTER_PAGE 256

/* --- matching ---------------------------------------------------------- */

static bool match_str_list(json_t *arr, const char *const *want, int n)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(v);

		for (int k = 0; s && k < n; k++)
			if (!strcmp(s, want[k]))
				return true;
	}
	return false;
}

/* Compare an attribute with a filter value; '*' and '?' glob. */
static bool match_attr(json_t *v, const char *want)
{
	char buf[64];
	const char *s = buf;

	if (!v)
		return false;
	if (json_is_string(v))
		s = json_string_value(v);
	else if (json_is_integer(v))
		snprintf(buf, sizeof(buf), "%lld",
			 (long long)json_integer_value(v));
	else if (json_is_true(v))
		s = "true";
	else if (json_is_false(v))
		s = "false";
	else
		return false;
	if (strpbrk(want, "*?"))
		return fnmatch(want, s, 0) == 0;
	return strcmp(want, s) == 0;
}

static json_t *match_get(struct pz_res *res, const char *name)
{
	json_t *doc = pz_res_doc(res);

	return doc ? json_object_get(doc, name) : NULL;
}

/* One criterion's verdict: counts toward AND (all) or OR (any). */
struct match_tally {
	int asked;
	int met;
};

static void tally(struct match_tally *t, bool met)
{
	t->asked++;
	t->met += met;
}

bool pz_core__match(struct core_ctx *c, struct pz_res *res)
{
	const struct pz_fc *fc = &c->req->fc;
	struct match_tally t = { 0, 0 };
	bool has_st = res->ty == PZ_TY_CNT || res->ty == PZ_TY_CIN;
	bool inst = res->ty == PZ_TY_CIN;
	json_t *v;

	if (fc->nty) {
		bool any = false;

		for (int i = 0; i < fc->nty; i++)
			any |= fc->ty[i] == res->ty;
		tally(&t, any);
	}
	if (fc->crb != PZ_FC_UNSET)
		tally(&t, res->ct < fc->crb);
	if (fc->cra != PZ_FC_UNSET)
		tally(&t, res->ct > fc->cra);
	if (fc->ms != PZ_FC_UNSET)
		tally(&t, res->lt > fc->ms);
	if (fc->us != PZ_FC_UNSET)
		tally(&t, res->lt < fc->us);
	if (fc->sts >= 0)
		tally(&t, has_st && res->st < fc->sts);
	if (fc->stb >= 0)
		tally(&t, has_st && res->st > fc->stb);
	if (fc->exb != PZ_FC_UNSET)
		tally(&t, res->et < fc->exb);
	if (fc->exa != PZ_FC_UNSET)
		tally(&t, res->et > fc->exa && res->et != PZ_TIME_NEVER);
	if (fc->sza >= 0)
		tally(&t, inst && res->cs >= fc->sza);
	if (fc->szb >= 0)
		tally(&t, inst && res->cs < fc->szb);
	if (fc->nlbl)
		tally(&t, match_str_list(match_get(res, "lbl"), fc->lbl,
					 fc->nlbl));
	if (fc->ncty) {
		const char *cnf = json_string_value(match_get(res, "cnf"));
		bool any = false;

		for (int i = 0; inst && cnf && i < fc->ncty; i++)
			any |= !strcmp(cnf, fc->cty[i]);
		tally(&t, any);
	}
	for (int i = 0; i < fc->natr; i++) {
		const char *name = fc->atr_name[i];
		char tmp[CORE_RI_MAX];

		if (!strcmp(name, "rn")) {
			v = json_string(res->rn);
		} else if (!strcmp(name, "ri")) {
			pz_core__res_ri(res, tmp, sizeof(tmp));
			v = json_string(tmp);
		} else if (!strcmp(name, "cs")) {
			v = inst ? json_integer(res->cs) : NULL;
		} else if (!strcmp(name, "st")) {
			v = has_st ? json_integer(res->st) : NULL;
		} else if (!strcmp(name, "cni")) {
			v = res->ty == PZ_TY_CNT ? json_integer(res->cni) : NULL;
		} else if (!strcmp(name, "cbs")) {
			v = res->ty == PZ_TY_CNT ? json_integer(res->cbs) : NULL;
		} else {
			v = json_incref(match_get(res, name));
		}
		tally(&t, match_attr(v, fc->atr_val[i]));
		json_decref(v);
	}
	if (t.asked == 0)
		return true;
	return fc->fo == 2 ? t.met > 0 : t.met == t.asked;
}

/* --- the walk ---------------------------------------------------------- */

struct walk {
	struct core_ctx *c;
	struct core_target chain;  /* target .. current node */
	int acop;                  /* DISCOVER or RETRIEVE */
	int64_t lvl;               /* depth limit, 0 = none */
	int64_t skip;              /* ofst: matches still to skip */
	int64_t room;              /* results still wanted */
	int rcn;                   /* 11 = address list */
	int drt;                   /* 1 structured, 2 unstructured */
	json_t *list;              /* uril / references */
	struct pz_res page[FILTER_PAGE];
	int npage;
};

static int walk_take(void *ud, struct pz_res *res)
{
	struct walk *w = ud;

	pz_res_init(&w->page[w->npage]);
	pz_res_move(&w->page[w->npage], res);
	w->npage++;
	return w->npage == FILTER_PAGE;
}

static bool walk_is_leaf(int ty)
{
	return ty == PZ_TY_CIN || ty == PZ_TY_SUB || ty == PZ_TY_ACP;
}

/* The address of the chain's end: structured "plaza/ae/cnt" or the
 * SP-relative unstructured "/plaza-in/cnt12". */
static json_t *walk_addr(struct walk *w, bool sp_relative)
{
	struct pz_res *r = &w->chain.chain[w->chain.n - 1];
	struct pz_buf b;
	char ri[CORE_RI_MAX];
	json_t *s = NULL;
	int rc;

	pz_buf_init(&b, 0);
	if (w->drt == 2) {
		pz_core__res_ri(r, ri, sizeof(ri));
		rc = pz_buf_addf(&b, "%s/%s", w->c->core->csi, ri);
	} else {
		rc = sp_relative ? pz_buf_addf(&b, "%s/", w->c->core->csi) :
		     PZ_OK;
		if (rc == PZ_OK)
			rc = pz_core__path(&w->chain, w->chain.n, &b);
	}
	if (rc == PZ_OK)
		s = json_string(b.data);
	pz_buf_free(&b);
	return s;
}

/* Add the chain's end to the result.  For rcn 4/8 it is nested in parent
 * and *here becomes its own object (where its children nest); for the
 * list forms *here stays parent. */
static int walk_emit(struct walk *w, json_t *parent, json_t **here)
{
	struct pz_res *r = &w->chain.chain[w->chain.n - 1];
	const struct core_type *type = pz_core__type(r->ty);
	json_t *obj, *arr, *ref;

	*here = parent;
	switch (w->rcn) {
	case PZ_RCN_ATTRS_CHILDREN:
	case PZ_RCN_CHILDREN:
		obj = pz_core__repr(w->c, r);
		if (!obj || !type)
			goto nomem;
		arr = json_object_get(parent, type->root);
		if (!arr) {
			arr = json_array();
			if (json_object_set_new(parent, type->root, arr))
				arr = NULL;
		}
		if (!arr || json_array_append_new(arr, obj))
			goto nomem;
		*here = obj;  /* alive as long as the array holds it */
		return PZ_OK;
	case PZ_RCN_ATTRS_CHILDREFS:
	case PZ_RCN_CHILDREFS:
		ref = json_pack("{s:s,s:i,s:o}", "nm", r->rn, "typ", r->ty,
				"val", walk_addr(w, true));
		break;
	default:
		ref = walk_addr(w, false);
		break;
	}
	if (ref && !json_array_append_new(w->list, ref))
		return PZ_OK;
nomem:
	return PZ_ENOMEM;
}

static int walk_node(struct walk *w, json_t *parent, int64_t depth);

/* Visit one child (already pushed on the chain). */
static int walk_visit(struct walk *w, json_t *parent, int64_t depth)
{
	struct pz_res *r = &w->chain.chain[w->chain.n - 1];
	json_t *here = parent;

	if (r->et <= w->c->now)
		return PZ_OK;  /* expired: gone, whatever the sweep's pace */
	if (pz_core__match(w->c, r) &&
	    pz_core__allowed(w->c, &w->chain, w->acop, 0)) {
		if (w->skip > 0) {
			w->skip--;
		} else {
			int rc = walk_emit(w, parent, &here);

			if (rc != PZ_OK)
				return rc;
			w->room--;
		}
	}
	if (w->room > 0 && !walk_is_leaf(r->ty) &&
	    (w->lvl == 0 || depth < w->lvl))
		return walk_node(w, here, depth + 1);
	return PZ_OK;
}

/* Visit the children of the chain's end, depth first. */
static int walk_node(struct walk *w, json_t *parent, int64_t depth)
{
	struct pz_store_q q = { 0 };
	struct pz_res *kids;
	int64_t after = 0;
	int n, rc = PZ_OK;

	q.root = w->chain.chain[w->chain.n - 1].id;
	q.lvl = 1;
	q.with_doc = true;
	kids = pz_calloc(FILTER_PAGE, sizeof(*kids));
	if (!kids)
		return PZ_ENOMEM;
	do {
		q.after_id = after;
		w->npage = 0;
		rc = pz_store_find(w->c->core->store, &q, walk_take, w);
		n = w->npage;
		for (int i = 0; i < n; i++) {
			pz_res_init(&kids[i]);
			pz_res_move(&kids[i], &w->page[i]);
		}
		if (n)
			after = kids[n - 1].id;
		for (int i = 0; rc == PZ_OK && i < n && w->room > 0; i++) {
			rc = pz_core__push(&w->chain, &kids[i]);
			if (rc != PZ_OK)
				break;
			rc = walk_visit(w, parent, depth);
			w->chain.n--;
			pz_res_clear(&w->chain.chain[w->chain.n]);
		}
		for (int i = 0; i < n; i++)
			pz_res_clear(&kids[i]);
	} while (rc == PZ_OK && n == FILTER_PAGE && w->room > 0);
	pz_free(kids);
	return rc;
}

/* Run the walk below the request's target.  On success the results are in
 * w->list (address forms) or nested in top (rcn 4/8). */
static int walk_run(struct walk *w, json_t *top)
{
	struct core_ctx *c = w->c;
	const struct pz_fc *fc = &c->req->fc;
	struct pz_res copy;
	int rc = PZ_OK;

	pz_core__target_init(&w->chain);
	/* The walk's chain starts as a copy of the target chain. */
	for (int i = 0; i < c->t.n && rc == PZ_OK; i++) {
		pz_res_init(&copy);
		rc = pz_res_copy(&copy, &c->t.chain[i]);
		if (rc == PZ_OK)
			rc = pz_core__push(&w->chain, &copy);
		pz_res_clear(&copy);  /* empty unless the push failed */
	}
	w->lvl = fc->lvl > 0 ? fc->lvl : 0;
	w->skip = fc->ofst > 1 ? fc->ofst - 1 : 0;
	w->room = c->core->conf.max_results;
	if (fc->lim >= 0 && fc->lim < w->room)
		w->room = fc->lim;
	w->drt = c->req->drt ? c->req->drt : 1;
	if (rc == PZ_OK && w->room > 0)
		rc = walk_node(w, top, 1);
	pz_core__target_clear(&w->chain);
	return rc;
}

static int walk_answer(struct core_ctx *c, int rcn, int acop)
{
	struct pz_res *tr = &c->t.chain[c->t.n - 1];
	struct walk *w;
	json_t *top = NULL, *pc = NULL;
	int rc;

	w = pz_calloc(1, sizeof(*w));
	if (!w)
		return pz_core__internal(c, PZ_ENOMEM, "searching");
	w->c = c;
	w->acop = acop;
	w->rcn = rcn;
	w->list = json_array();
	if (rcn == PZ_RCN_ATTRS_CHILDREN || rcn == PZ_RCN_ATTRS_CHILDREFS)
		top = pz_core__repr(c, tr);
	else if (rcn == PZ_RCN_CHILDREN)
		top = json_object();
	rc = (!w->list || (rcn != 11 && rcn != PZ_RCN_CHILDREFS && !top)) ?
	     PZ_ENOMEM : walk_run(w, top);
	if (rc != PZ_OK) {
		json_decref(top);
		json_decref(w->list);
		pz_free(w);
		return pz_core__internal(c, rc, "searching");
	}
	switch (rcn) {
	case PZ_RCN_ATTRS_CHILDREFS:
		json_object_set(top, "ch", w->list);
		pc = pz_core__wrap(tr->ty, top);
		break;
	case PZ_RCN_CHILDREFS:
		pc = json_pack("{s:{s:O}}", "m2m:rrl", "rrf", w->list);
		break;
	case PZ_RCN_ATTRS_CHILDREN:
	case PZ_RCN_CHILDREN:
		pc = pz_core__wrap(tr->ty, top);
		break;
	default:
		pc = json_pack("{s:O}", "m2m:uril", w->list);
		break;
	}
	json_decref(w->list);
	pz_free(w);
	if (!pc)
		return pz_core__internal(c, PZ_ENOMEM, "searching");
	return pz_core__ok(c, PZ_RSC_OK, pc);
}

int pz_core__discover(struct core_ctx *c)
{
	int rcn = c->req->rcn;

	if (rcn == PZ_RCN_DEFAULT || rcn == PZ_RCN_ATTRS)
		rcn = 11;
	return walk_answer(c, rcn, PZ_ACOP_DISCOVER);
}

int pz_core__children(struct core_ctx *c, json_t *obj, int rcn)
{
	(void)obj;
	return walk_answer(c, rcn, PZ_ACOP_RETRIEVE);
}
