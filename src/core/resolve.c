/*
 * resolve.c - from a target address to a resource and its ancestors.
 *
 * Addresses come in three scopes (CSE-relative "plaza/ae1", SP-relative
 * "/plaza-in/plaza/ae1", absolute "//sp.example/plaza-in/plaza/ae1") and
 * each may be structured (names from the CSEBase; "-" stands for its name),
 * unstructured (a resource id) or hybrid (a resource id followed by names).
 * The result is always the full chain from the CSEBase down, so access
 * control and hierarchical addresses never need another lookup.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "plaza/pz_buf.h"
#include "plaza/pz_err.h"
#include "plaza/pz_mem.h"
#include "core_int.h"

#define RESOLVE_MAX_CHAIN 64   /* guards against a corrupt parent loop */

void pz_core__target_init(struct core_target *t)
{
	memset(t, 0, sizeof(*t));
}

void pz_core__target_clear(struct core_target *t)
{
	for (int i = 0; i < t->n; i++)
		pz_res_clear(&t->chain[i]);
	pz_free(t->chain);
	pz_free(t->rest);
	pz_core__target_init(t);
}

/* Append res to the chain, taking its contents (res is left empty). */
int pz_core__push(struct core_target *t, struct pz_res *res)
{
	if (t->n == RESOLVE_MAX_CHAIN)
		return PZ_ETOOBIG;
	if (t->n == t->cap) {
		int cap = t->cap ? t->cap * 2 : 8;
		struct pz_res *c = pz_realloc(t->chain,
					      (size_t)cap * sizeof(*c));

		if (!c)
			return PZ_ENOMEM;
		t->chain = c;
		t->cap = cap;
	}
	pz_res_init(&t->chain[t->n]);
	pz_res_move(&t->chain[t->n], res);
	t->n++;
	return PZ_OK;
}

/* A row by id; the CSEBase comes from the core's copy. */
int pz_core__get(pz_core *core, int64_t id, struct pz_res *out)
{
	if (id == core->cb_id && core->cb.id == id)
		return pz_res_copy(out, &core->cb);
	return pz_store_get(core->store, id, out);
}

int pz_core__res_ri(const struct pz_res *res, char *out, size_t len)
{
	const struct core_type *type;
	int n;

	if (res->ri) {
		n = snprintf(out, len, "%s", res->ri);
	} else {
		type = pz_core__type(res->ty);
		n = snprintf(out, len, "%s%lld", type ? type->prefix : "res",
			     (long long)res->id);
	}
	return n < 0 || (size_t)n >= len ? PZ_ETOOBIG : PZ_OK;
}

/* A generated id is a type prefix and the row id: "cin42". */
static int resolve_derived(pz_core *core, const char *ri, struct pz_res *out)
{
	const struct core_type *type;
	const char *p = ri;
	char prefix[8];
	size_t n;
	char *end;
	long long id;

	while (*p >= 'a' && *p <= 'z')
		p++;
	n = (size_t)(p - ri);
	if (n == 0 || n >= sizeof(prefix) || !isdigit((unsigned char)*p) ||
	    *p == '0')
		return PZ_ENOTFOUND;
	id = strtoll(p, &end, 10);
	if (*end || id <= 0)
		return PZ_ENOTFOUND;
	memcpy(prefix, ri, n);
	prefix[n] = '\0';
	if (pz_store_get(core->store, id, out) != PZ_OK)
		return PZ_ENOTFOUND;
	type = pz_core__type(out->ty);
	if (out->ri || !type || strcmp(type->prefix, prefix)) {
		pz_res_clear(out);
		return PZ_ENOTFOUND;
	}
	return PZ_OK;
}

int pz_core__find_ri(pz_core *core, const char *ri, struct pz_res *out)
{
	int rc = resolve_derived(core, ri, out);

	if (rc == PZ_OK)
		return PZ_OK;
	return pz_store_get_ri(core->store, ri, out);
}

int pz_core__chain_of(struct core_ctx *c, struct pz_res *res,
		      struct core_target *out)
{
	struct pz_res cur, *tmp;
	int rc = PZ_OK;

	/* Collect upwards, then reverse into CSEBase-first order. */
	pz_res_init(&cur);
	rc = pz_core__push(out, res);
	while (rc == PZ_OK && out->chain[out->n - 1].pid != 0) {
		rc = pz_core__get(c->core, out->chain[out->n - 1].pid, &cur);
		if (rc == PZ_ENOTFOUND)
			rc = PZ_ESTORE;  /* an orphan: the store is damaged */
		if (rc == PZ_OK)
			rc = pz_core__push(out, &cur);
	}
	pz_res_clear(&cur);
	if (rc != PZ_OK)
		return rc;
	tmp = out->chain;
	for (int i = 0, j = out->n - 1; i < j; i++, j--) {
		struct pz_res x = tmp[i];

		tmp[i] = tmp[j];
		tmp[j] = x;
	}
	return PZ_OK;
}

bool pz_core__rn_valid(const char *rn)
{
	size_t n;

	if (!rn)
		return false;
	n = strlen(rn);
	if (n == 0 || n > 64 || !strcmp(rn, ".") || !strcmp(rn, "..") ||
	    !strcmp(rn, "la") || !strcmp(rn, "ol") || !strcmp(rn, "fopt") ||
	    !strcmp(rn, "-"))
		return false;
	for (const char *p = rn; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-._~", *p))
			return false;
	return true;
}

int pz_core__path(const struct core_target *t, int upto, struct pz_buf *out)
{
	int rc = PZ_OK;

	for (int i = 0; i < upto && i < t->n && rc == PZ_OK; i++)
		rc = pz_buf_addf(out, "%s%s", i ? "/" : "", t->chain[i].rn);
	return rc;
}

static int resolve_not_found(struct core_ctx *c)
{
	return pz_core__fail(c, PZ_RSC_NOT_FOUND, "no resource at '%.200s'",
			     c->req->to);
}

/* Walk the named segments of p below the current end of the chain. */
static int resolve_walk(struct core_ctx *c, const char *p)
{
	struct core_target *t = &c->t;
	struct pz_res child;
	char seg[80];
	int rc;

	pz_res_init(&child);
	while (*p) {
		size_t n = strcspn(p, "/");
		const char *next = p + n + (p[n] == '/');
		struct pz_res *cur = &t->chain[t->n - 1];

		if (n == 0)
			return resolve_not_found(c);  /* "a//b" */
		if (n >= sizeof(seg))
			return resolve_not_found(c);
		memcpy(seg, p, n);
		seg[n] = '\0';
		if (cur->ty == PZ_TY_CNT && !*next &&
		    (!strcmp(seg, "la") || !strcmp(seg, "ol"))) {
			t->virt = seg[0] == 'l' ? CORE_VIRT_LA : CORE_VIRT_OL;
			return PZ_OK;
		}
		if (cur->ty == PZ_TY_GRP && !strcmp(seg, "fopt")) {
			t->virt = CORE_VIRT_FOPT;
			t->rest = pz_strdup(next);
			return t->rest ? PZ_OK :
			       pz_core__internal(c, PZ_ENOMEM, "resolving");
		}
		rc = pz_store_get_child(c->core->store, cur->id, seg, &child);
		if (rc == PZ_ENOTFOUND)
			return resolve_not_found(c);
		if (rc == PZ_OK)
			rc = pz_core__push(t, &child);
		if (rc != PZ_OK) {
			pz_res_clear(&child);
			return rc == PZ_ETOOBIG ? resolve_not_found(c) :
			       pz_core__internal(c, rc, "resolving");
		}
		p = next;
	}
	return PZ_OK;
}

/* CSE-relative part: structured, unstructured or hybrid. */
static int resolve_local(struct core_ctx *c, const char *p)
{
	pz_core *core = c->core;
	struct pz_res res;
	size_t n = strcspn(p, "/");
	const char *rest = p + n + (p[n] == '/');
	char first[CORE_RI_MAX];
	int rc;

	if (n == 0 || n >= sizeof(first))
		return resolve_not_found(c);
	memcpy(first, p, n);
	first[n] = '\0';
	pz_res_init(&res);
	if (!strcmp(first, core->cse_name) || !strcmp(first, "-") ||
	    !strcmp(first, core->cse_id))
		rc = pz_core__get(core, core->cb_id, &res);
	else
		rc = pz_core__find_ri(core, first, &res);
	if (rc == PZ_ENOTFOUND)
		return resolve_not_found(c);
	if (rc == PZ_OK)
		rc = pz_core__chain_of(c, &res, &c->t);
	pz_res_clear(&res);
	if (rc != PZ_OK)
		return pz_core__internal(c, rc, "resolving the target");
	return resolve_walk(c, rest);
}

int pz_core__resolve(struct core_ctx *c, const char *to)
{
	pz_core *core = c->core;
	const char *p = to;
	size_t n;
	int rc;

	if (p[0] == '/' && p[1] == '/') {
		p += 2;
		n = strcspn(p, "/");
		if (n != strlen(core->sp_id) || strncmp(p, core->sp_id, n))
			return pz_core__fail(c, PZ_RSC_TARGET_NOT_REACHABLE,
					     "service provider '%.*s' is not "
					     "reachable from here", (int)(n > 64 ?
					     64 : n), p);
		p += n;
		if (*p != '/')
			return resolve_not_found(c);
	}
	if (p[0] == '/') {
		p++;
		n = strcspn(p, "/");
		if (n != strlen(core->cse_id) || strncmp(p, core->cse_id, n))
			return pz_core__fail(c, PZ_RSC_TARGET_NOT_REACHABLE,
					     "CSE '/%.*s' is not reachable from "
					     "here", (int)(n > 64 ? 64 : n), p);
		p += n;
		if (*p == '/')
			p++;
		if (!*p)
			p = core->cse_id;  /* "/csi" alone names the CSEBase */
	}
	rc = resolve_local(c, p);
	if (rc != PZ_OK)
		return rc;
	/* A resource whose expirationTime has passed is gone (with its
	 * subtree), even if the sweep has not reached it yet. */
	for (int i = 0; i < c->t.n; i++)
		if (c->t.chain[i].et <= c->now)
			return resolve_not_found(c);
	return PZ_OK;
}
