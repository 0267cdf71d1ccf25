/*
 * expire.c - deleting resources (with everything that goes with it) and
 * the expiry sweep that deletes resources whose expirationTime passed.
 */
#include <string.h>

#include "plaza/pz_err.h"
#include "plaza/pz_log.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_time.h"
#include "core_int.h"

#define EXPIRE_PERIOD_MS 1000
#define EXPIRE_BATCH 256

struct sub_page {
	struct pz_res rows[64];
	int n;
};

static int take_sub(void *ud, struct pz_res *res)
{
	struct sub_page *p = ud;

	pz_res_init(&p->rows[p->n]);
	pz_res_move(&p->rows[p->n++], res);
	return p->n == 64;
}

/* Every subscription below res ends with it: tell their subscribers. */
static int expire_subtree_subs(struct core_ctx *c, struct pz_res *res)
{
	const int ty_sub = PZ_TY_SUB;
	struct pz_store_q q = { 0 };
	struct sub_page *p;
	int rc = PZ_OK, n;

	if (res->ty == PZ_TY_CIN || res->ty == PZ_TY_SUB)
		return PZ_OK;
	p = pz_calloc(1, sizeof(*p));
	if (!p)
		return PZ_ENOMEM;
	q.root = res->id;
	q.ty = &ty_sub;
	q.nty = 1;
	q.with_doc = true;
	q.lvl = 0;
	/* Pages of 64; rows are not deleted until the subtree goes, so page
	 * by skipping what was seen (ids ascend within each level). */
	do {
		p->n = 0;
		rc = pz_store_find(c->core->store, &q, take_sub, p);
		n = p->n;
		for (int i = 0; i < n; i++) {
			if (rc == PZ_OK)
				rc = pz_core__sub_deleted(c, &p->rows[i]);
			if (rc == PZ_OK)
				rc = pz_store_remove(c->core->store,
						     p->rows[i].id);
			pz_res_clear(&p->rows[i]);
		}
	} while (rc == PZ_OK && n == 64);
	pz_free(p);
	return rc;
}

int pz_core__delete_res(struct core_ctx *c, struct pz_res *parent,
			struct pz_res *res)
{
	const struct core_type *type = pz_core__type(res->ty);
	int rc;

	pz_core__touch(c->core, res->id);
	if (parent)
		pz_core__touch(c->core, parent->id);
	rc = pz_core__event(c, res, PZ_NET_DELETE, NULL, NULL);
	if (rc == PZ_OK && parent)
		rc = pz_core__event(c, parent, PZ_NET_DELETE_CHILD, res, NULL);
	if (rc != PZ_OK)
		return rc;
	rc = expire_subtree_subs(c, res);
	if (rc == PZ_OK && type && type->removing)
		rc = type->removing(c, res);
	if (rc == PZ_OK)
		rc = pz_store_remove(c->core->store, res->id);
	if (rc == PZ_OK || rc == PZ_EREQ)
		return rc;
	return pz_core__internal(c, rc, "deleting");
}

struct expire_page {
	struct pz_res rows[EXPIRE_BATCH];
	int n;
};

static int take_expired(void *ud, struct pz_res *res)
{
	struct expire_page *p = ud;

	pz_res_init(&p->rows[p->n]);
	pz_res_move(&p->rows[p->n++], res);
	return p->n == EXPIRE_BATCH;
}

/* Delete one expired resource in its own savepoint. */
static void expire_one(pz_core *core, struct pz_res *res, int64_t now)
{
	struct pz_req req;
	struct pz_rsp rsp;
	struct core_ctx c;
	struct pz_res parent, cur;
	int rc;

	pz_req_init(&req);
	pz_rsp_init(&rsp);
	req.op = PZ_OP_DELETE;
	req.internal = true;
	req.fr = core->admin;
	req.rqi = "expiry";
	req.binding = "expiry";
	memset(&c, 0, sizeof(c));
	c.core = core;
	c.req = &req;
	c.rsp = &rsp;
	c.orig = core->admin;
	c.admin = true;
	c.now = now;
	pz_res_init(&parent);
	pz_res_init(&cur);
	/* Re-read: an earlier deletion in this sweep may have taken it. */
	rc = pz_store_get(core->store, res->id, &cur);
	if (rc == PZ_OK && res->pid)
		rc = pz_store_get(core->store, res->pid, &parent);
	if (rc == PZ_OK)
		rc = pz_store_savepoint(core->store);
	if (rc == PZ_OK) {
		uint64_t lmark = core->tlog ? pz_tlog_size(core->tlog) : 0;

		rc = pz_core__delete_res(&c, res->pid ? &parent : NULL, &cur);
		if (rc != PZ_OK && core->tlog)
			pz_tlog_rollback(core->tlog, lmark);
		if (rc == PZ_OK) {
			pz_store_release(core->store);
			core->dirty = true;
			pz_log(PZ_INFO, "expiry", "deleted expired resource "
			       "%s (type %d)", cur.rn, cur.ty);
		} else {
			pz_store_rollback_to(core->store);
			pz_log(PZ_ERROR, "expiry", "could not delete expired "
			       "resource %lld: rsc %d", (long long)res->id,
			       rsp.rsc);
		}
	}
	pz_res_clear(&cur);
	pz_res_clear(&parent);
	pz_rsp_clear(&rsp);
	pz_req_clear(&req);
}

/* Run one sweep of everything due at now; returns how many expired
 * resources it found (EXPIRE_BATCH means there may be more). */
static int expire_sweep(pz_core *core, int64_t now)
{
	struct expire_page *p = pz_calloc(1, sizeof(*p));
	int n = 0, rc;

	if (!p)
		return 0;
	if (!pz_store_in_batch(core->store) &&
	    pz_store_begin(core->store) != PZ_OK) {
		pz_free(p);
		return 0;
	}
	rc = pz_store_expired(core->store, now, EXPIRE_BATCH, take_expired, p);
	n = p->n;
	for (int i = 0; i < n; i++) {
		if (rc == PZ_OK)
			expire_one(core, &p->rows[i], now);
		pz_res_clear(&p->rows[i]);
	}
	pz_free(p);
	return rc == PZ_OK ? n : 0;
}

/* Arm the sweep timer for next_expiry. */
static void expire_arm(pz_core *core)
{
	int64_t now, ms;

	if (!core->loop)
		return;
	if (core->next_expiry == PZ_TIME_NEVER) {
		pz_loop_timer_stop(core->loop, &core->expire_timer);
		return;
	}
	now = pz_time_now();
	ms = core->next_expiry > now ?
	     (core->next_expiry - now + 999) / 1000 : 0;
	if (ms > EXPIRE_PERIOD_MS)
		ms = EXPIRE_PERIOD_MS;  /* wall clock may jump: look again */
	pz_loop_timer_start(core->loop, &core->expire_timer, ms);
}

/*
 * Everything due at now goes, then next_expiry is read back from the
 * store.  Called by the timer and, so that no request ever sees a
 * resource past its expirationTime, before any request once next_expiry
 * has passed.
 */
void pz_core__expire_due(pz_core *core, int64_t now)
{
	int n;

	if (now < core->next_expiry)
		return;
	do {
		n = expire_sweep(core, now);
	} while (n == EXPIRE_BATCH);
	if (pz_store_next_expiry(core->store, &core->next_expiry) != PZ_OK)
		core->next_expiry = now + EXPIRE_PERIOD_MS * 1000;
	/* Rows deleted in this batch are not visible to the query above
	 * only if they were skipped; anything still due is retried by the
	 * timer. */
	if (core->next_expiry <= now)
		core->next_expiry = now + EXPIRE_PERIOD_MS * 1000;
	expire_arm(core);
}

/* A resource with expirationTime et was stored. */
void pz_core__expiry_note(pz_core *core, int64_t et)
{
	if (et >= core->next_expiry)
		return;
	core->next_expiry = et;
	expire_arm(core);
}

static void expire_tick(void *ud)
{
	pz_core *core = ud;

	if (pz_time_now() < core->next_expiry) {
		expire_arm(core);
		return;
	}
	pz_core__expire_due(core, pz_time_now());
}

int pz_core__expire_init(pz_core *core)
{
	pz_loop_timer_init(&core->expire_timer, expire_tick, core);
	if (pz_store_next_expiry(core->store, &core->next_expiry) != PZ_OK)
		core->next_expiry = pz_time_now();
	expire_arm(core);
	return PZ_OK;
}
