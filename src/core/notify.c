/*
 * notify.c - subscriptions at work: matching events, building
 * notifications, staging them until the batch commits, batching (bn),
 * sending through the bindings' senders, and verification requests.
 *
 * A notification is staged in the open batch, never sent from inside a
 * request: if the batch rolls back, nobody hears of data that does not
 * exist, and request handling never waits for a subscriber.  Sending is
 * asynchronous; at most notify_queue_max notifications are in flight, the
 * rest are dropped and counted (a slow subscriber cannot exhaust memory).
 * Batched notifications live in memory and are lost if plazad crashes.
 */
#include <stdio.h>
#include <string.h>

#include "plaza/pz_err.h"
#include "plaza/pz_log.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_time.h"
#include "core_int.h"

#define NOTIFY_MAX_SUBS 1000   /* subscriptions considered per event */

/* A batch of notifications for one (subscription, target). */
struct batch {
	struct batch *next;
	pz_core *core;
	int64_t sub_id;
	char *target;            /* owned */
	json_t *sgns;            /* array of m2m:sgn bodies, owned */
	int64_t num;             /* send when this many are held (0: no cap) */
	bool ln;                 /* latest only */
	struct pz_timer timer;   /* dur */
};

struct core_batchq {
	struct batch *head;
};

struct core_outq {
	int64_t in_flight;       /* sent, not yet answered */
	uint64_t seq;            /* request id counter */
	int64_t dropped_logged;  /* last time a drop was logged (ms) */
};

/* An outbound request and its continuation. */
struct out_req {
	pz_core *core;
	struct pz_req req;
	struct pz_rsp rsp;
	pz_core_done_cb cb;      /* may be NULL */
	void *ud;
	char *url;               /* owned */
};

int pz_core__notify_init(pz_core *core)
{
	core->batchq = pz_calloc(1, sizeof(*core->batchq));
	core->outq = pz_calloc(1, sizeof(*core->outq));
	return core->batchq && core->outq ? PZ_OK : PZ_ENOMEM;
}

static void batch_free(pz_core *core, struct batch *b)
{
	if (core->loop)
		pz_loop_timer_stop(core->loop, &b->timer);
	pz_free(b->target);
	json_decref(b->sgns);
	pz_free(b);
}

void pz_core__notify_free(pz_core *core)
{
	struct batch *b, *next;

	if (core->batchq) {
		for (b = core->batchq->head; b; b = next) {
			next = b->next;
			batch_free(core, b);
		}
	}
	pz_core__notes_drop(core, NULL);
	pz_free(core->batchq);
	pz_free(core->outq);
	core->batchq = NULL;
	core->outq = NULL;
}

/* --- sending ------------------------------------------------------------ */

static void out_free(struct out_req *o)
{
	pz_req_clear(&o->req);
	pz_rsp_clear(&o->rsp);
	pz_free(o->url);
	pz_free(o);
}

static void out_done(void *ud, struct pz_rsp *rsp)
{
	struct out_req *o = ud;
	pz_core *core = o->core;

	if (core->outq)
		core->outq->in_flight--;
	if (rsp->rsc >= 2000 && rsp->rsc < 3000) {
		core->stats.notify_sent++;
	} else {
		core->stats.notify_failed++;
		pz_log(PZ_WARN, "notify", "notification to %s failed: rsc %d",
		       o->url, rsp->rsc);
	}
	if (o->cb)
		o->cb(o->ud, rsp);
	out_free(o);
}

/* URL of a target: itself if it has a scheme, else the first point of
 * access of the AE it names.  Caller frees. */
static char *notify_url(pz_core *core, const char *target)
{
	struct pz_res ae;
	json_t *poa, *v;
	char *url = NULL;
	size_t i;

	if (strstr(target, "://"))
		return pz_strdup(target);
	target = pz_core__local(core, target);
	pz_res_init(&ae);
	if (pz_core__find_ri(core, target, &ae) == PZ_OK &&
	    ae.ty == PZ_TY_AE) {
		poa = json_object_get(pz_res_doc(&ae), "poa");
		json_array_foreach(poa, i, v) {
			const char *s = json_string_value(v);

			for (int k = 0; s && k < core->nsenders; k++) {
				size_t m = strlen(core->senders[k].scheme);

				if (!strncmp(s, core->senders[k].scheme, m) &&
				    !strncmp(s + m, "://", 3)) {
					url = pz_strdup(s);
					goto out;
				}
			}
		}
	}
out:
	pz_res_clear(&ae);
	return url;
}

static const struct core_sender *notify_sender(pz_core *core, const char *url)
{
	for (int i = 0; i < core->nsenders; i++) {
		size_t m = strlen(core->senders[i].scheme);

		if (!strncmp(url, core->senders[i].scheme, m) &&
		    !strncmp(url + m, "://", 3))
			return &core->senders[i];
	}
	return NULL;
}

/*
 * Send pc as a Notify to target.  PZ_OK: cb (if any) will be called later,
 * never from inside this call.  Otherwise nothing was sent and cb is not
 * called: PZ_ENOTFOUND (no URL or no sender), PZ_EAGAIN (queue full).
 */
int pz_core__send(pz_core *core, const char *target, json_t *pc,
		  pz_core_done_cb cb, void *ud)
{
	const struct core_sender *s;
	struct out_req *o;
	char rqi[32];
	int rc;

	if (core->outq->in_flight >= core->conf.notify_queue_max) {
		core->stats.notify_dropped++;
		return PZ_EAGAIN;
	}
	o = pz_calloc(1, sizeof(*o));
	if (!o)
		return PZ_ENOMEM;
	o->core = core;
	o->cb = cb;
	o->ud = ud;
	pz_req_init(&o->req);
	pz_rsp_init(&o->rsp);
	o->url = notify_url(core, target);
	s = o->url ? notify_sender(core, o->url) : NULL;
	if (!s) {
		pz_log(PZ_WARN, "notify", "no way to reach '%.100s'", target);
		core->stats.notify_failed++;
		out_free(o);
		return PZ_ENOTFOUND;
	}
	snprintf(rqi, sizeof(rqi), "n%llu",
		 (unsigned long long)++core->outq->seq);
	o->req.op = PZ_OP_NOTIFY;
	o->req.to = pz_arena_strdup(&o->req.arena, target);
	o->req.fr = core->csi;
	o->req.rqi = pz_arena_strdup(&o->req.arena, rqi);
	o->req.rvi = "4";
	o->req.pc = json_incref(pc);
	if (!o->req.to || !o->req.rqi) {
		out_free(o);
		return PZ_ENOMEM;
	}
	core->outq->in_flight++;
	rc = s->fn(s->ctx, o->url, &o->req, &o->rsp, out_done, o);
	if (rc != PZ_OK) {
		core->outq->in_flight--;
		core->stats.notify_failed++;
		out_free(o);
	}
	return rc;
}

static void notify_send_logged(pz_core *core, const char *target, json_t *pc)
{
	int rc = pz_core__send(core, target, pc, NULL, NULL);
	int64_t now = pz_time_mono_ms();

	if (rc == PZ_EAGAIN && now - core->outq->dropped_logged > 10000) {
		core->outq->dropped_logged = now;
		pz_log(PZ_WARN, "notify", "notification queue full (%lld in "
		       "flight): dropping; %llu dropped so far",
		       (long long)core->outq->in_flight,
		       (unsigned long long)core->stats.notify_dropped);
	}
}

/* --- batches ------------------------------------------------------------ */

static void batch_send(pz_core *core, struct batch *b)
{
	struct batch **pp;
	json_t *list = b->sgns, *pc;

	for (pp = &core->batchq->head; *pp && *pp != b; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = b->next;
	if (b->ln && json_array_size(list) > 1) {
		list = json_pack("[O]", json_array_get(list,
						       json_array_size(list) - 1));
	} else {
		json_incref(list);
	}
	pc = json_pack("{s:{s:o}}", "m2m:agn", "m2m:sgn", list);
	if (pc && json_array_size(b->sgns))
		notify_send_logged(core, b->target, pc);
	json_decref(pc);
	batch_free(core, b);
}

static void batch_timeout(void *ud)
{
	struct batch *b = ud;

	batch_send(b->core, b);
}

static void batch_flush_sub(pz_core *core, int64_t sub_id)
{
	struct batch *b = core->batchq->head, *next;

	for (; b; b = next) {
		next = b->next;
		if (b->sub_id == sub_id)
			batch_send(core, b);
	}
}

static void batch_add(pz_core *core, struct core_note *n)
{
	struct batch *b;
	json_t *sgn = json_object_get(n->pc, "m2m:sgn");

	for (b = core->batchq->head; b; b = b->next)
		if (b->sub_id == n->sub_id && !strcmp(b->target, n->target))
			break;
	if (!b) {
		b = pz_calloc(1, sizeof(*b));
		if (!b)
			return;
		b->core = core;
		b->sub_id = n->sub_id;
		b->target = pz_strdup(n->target);
		b->sgns = json_array();
		b->num = n->bn_num;
		b->ln = n->ln;
		pz_loop_timer_init(&b->timer, batch_timeout, b);
		if (!b->target || !b->sgns) {
			batch_free(core, b);
			return;
		}
		b->next = core->batchq->head;
		core->batchq->head = b;
		if (n->bn_dur_ms > 0 && core->loop)
			pz_loop_timer_start(core->loop, &b->timer,
					    n->bn_dur_ms);
	}
	json_array_append(b->sgns, sgn);
	if (b->num > 0 && (int64_t)json_array_size(b->sgns) >= b->num)
		batch_send(core, b);
}

/* --- staging ------------------------------------------------------------ */

static void note_free(struct core_note *n)
{
	pz_free(n->target);
	json_decref(n->pc);
	pz_free(n);
}

void pz_core__notes_drop(pz_core *core, struct core_note *upto)
{
	while (core->notes && core->notes != upto) {
		struct core_note *n = core->notes;

		core->notes = n->next;
		note_free(n);
	}
}

void pz_core__notes_commit(pz_core *core)
{
	struct core_note *n = core->notes, *rev = NULL, *next;

	core->notes = NULL;
	for (; n; n = next) {   /* staged newest first: restore order */
		next = n->next;
		n->next = rev;
		rev = n;
	}
	for (n = rev; n; n = next) {
		next = n->next;
		if (n->bn_num > 0 || n->bn_dur_ms > 0) {
			batch_add(core, n);
		} else {
			/* A deletion notice goes after what the subscription
			 * still had batched. */
			if (json_object_get(json_object_get(n->pc, "m2m:sgn"),
					    "sud"))
				batch_flush_sub(core, n->sub_id);
			if (*n->target)
				notify_send_logged(core, n->target, n->pc);
		}
		note_free(n);
	}
}

static int stage(struct core_ctx *c, struct pz_res *sub, const char *target,
		 json_t *pc, bool batchable)
{
	pz_core *core = c->core;
	struct core_note *n = pz_calloc(1, sizeof(*n));
	json_t *bn = batchable ? json_object_get(pz_res_doc(sub), "bn") : NULL;
	json_t *dur;

	if (!n)
		return PZ_ENOMEM;
	n->sub_id = sub->id;
	n->target = pz_strdup(target);
	n->pc = json_incref(pc);
	if (!n->target) {
		note_free(n);
		return PZ_ENOMEM;
	}
	if (bn) {
		n->bn_num = json_integer_value(json_object_get(bn, "num"));
		dur = json_object_get(bn, "dur");
		if (json_is_integer(dur))
			n->bn_dur_ms = json_integer_value(dur);
		else if (json_is_string(dur))
			pz_duration_parse(json_string_value(dur), &n->bn_dur_ms);
		n->ln = json_is_true(json_object_get(pz_res_doc(sub), "ln"));
	}
	n->next = core->notes;
	core->notes = n;
	return PZ_OK;
}

/* Stage pc to every nu of sub. */
static int stage_all(struct core_ctx *c, struct pz_res *sub, json_t *pc,
		     bool batchable)
{
	json_t *nu = json_object_get(pz_res_doc(sub), "nu"), *v;
	size_t i;
	int rc = PZ_OK;

	json_array_foreach(nu, i, v) {
		if (json_is_string(v))
			rc = stage(c, sub, json_string_value(v), pc, batchable);
		if (rc != PZ_OK)
			break;
	}
	return rc;
}

/* --- events ------------------------------------------------------------- */

static bool int_in(json_t *arr, json_int_t x)
{
	json_t *v;
	size_t i;

	json_array_foreach(arr, i, v)
		if (json_integer_value(v) == x)
			return true;
	return false;
}

/* Should sub hear of this event? */
static bool sub_wants(struct pz_res *sub, int net, struct pz_res *child,
		      json_t *modified)
{
	json_t *doc = pz_res_doc(sub), *enc, *nets, *chty, *atr, *v;
	size_t i;

	if (!doc)
		return false;
	enc = json_object_get(doc, "enc");
	nets = json_object_get(enc, "net");
	if (nets ? !int_in(nets, net) : net != PZ_NET_UPDATE)
		return false;
	chty = json_object_get(enc, "chty");
	if (child && json_array_size(chty) && !int_in(chty, child->ty))
		return false;
	atr = json_object_get(enc, "atr");
	if (net == PZ_NET_UPDATE && modified && json_array_size(atr)) {
		json_array_foreach(atr, i, v) {
			if (json_is_string(v) &&
			    json_object_get(modified, json_string_value(v)))
				return true;
		}
		return false;
	}
	return true;
}

static json_t *notify_body(struct core_ctx *c, struct pz_res *sub, int net,
			   struct pz_res *about, json_t *modified)
{
	json_t *doc = pz_res_doc(sub), *rep = NULL, *sgn, *cr;
	json_int_t nct = json_integer_value(json_object_get(doc, "nct"));
	char ri[CORE_RI_MAX], sur[CORE_RI_MAX + 64];

	pz_core__res_ri(about, ri, sizeof(ri));
	if (nct == 3)
		rep = json_pack("{s:s}", "m2m:uri", ri);
	else if (nct == 2 && modified && net == PZ_NET_UPDATE)
		rep = pz_core__wrap(about->ty, json_deep_copy(modified));
	else
		rep = pz_core__wrap(about->ty, pz_core__repr(c, about));
	pz_core__res_ri(sub, ri, sizeof(ri));
	snprintf(sur, sizeof(sur), "%s/%s", c->core->csi, ri);
	sgn = json_pack("{s:{s:o,s:i},s:s}", "nev", "rep", rep, "net", net,
			"sur", sur);
	cr = json_object_get(doc, "cr");
	if (sgn && json_is_string(cr))
		json_object_set(sgn, "cr", cr);
	return sgn ? json_pack("{s:o}", "m2m:sgn", sgn) : NULL;
}

struct sub_list {
	struct pz_res rows[16];
	int n;
	struct pz_res *more;     /* overflow, owned */
	int nmore, capmore;
};

static int sub_collect(void *ud, struct pz_res *res)
{
	struct sub_list *l = ud;

	if (l->n < 16) {
		pz_res_init(&l->rows[l->n]);
		pz_res_move(&l->rows[l->n++], res);
		return 0;
	}
	if (l->nmore == l->capmore) {
		int cap = l->capmore ? l->capmore * 2 : 64;
		struct pz_res *m = pz_realloc(l->more, (size_t)cap * sizeof(*m));

		if (!m)
			return 1;
		l->more = m;
		l->capmore = cap;
	}
	pz_res_init(&l->more[l->nmore]);
	pz_res_move(&l->more[l->nmore++], res);
	return l->n + l->nmore >= NOTIFY_MAX_SUBS;
}

static struct pz_res *sub_at(struct sub_list *l, int i)
{
	return i < 16 ? &l->rows[i] : &l->more[i - 16];
}

/* expirationCounter: one less per notified event; at zero the
 * subscription ends. */
static int sub_count_down(struct core_ctx *c, struct pz_res *sub)
{
	json_t *doc = pz_res_doc(sub), *exc = json_object_get(doc, "exc");
	json_int_t n;
	int rc;

	if (!json_is_integer(exc))
		return PZ_OK;
	n = json_integer_value(exc) - 1;
	if (n <= 0) {
		rc = pz_core__sub_deleted(c, sub);
		if (rc == PZ_OK)
			rc = pz_store_remove(c->core->store, sub->id);
		return rc;
	}
	json_object_set_new(doc, "exc", json_integer(n));
	pz_core__touch(c->core, sub->id);
	return pz_store_update(c->core->store, sub);
}

int pz_core__event(struct core_ctx *c, struct pz_res *res, int net,
		   struct pz_res *child, json_t *modified)
{
	const struct core_type *type = pz_core__type(res->ty);
	struct pz_store_q q = { 0 };
	const int ty_sub = PZ_TY_SUB;
	struct sub_list l;
	int rc, total;

	if (!type || !type->subscribable)
		return PZ_OK;
	memset(&l, 0, sizeof(l));
	q.root = res->id;
	q.lvl = 1;
	q.ty = &ty_sub;
	q.nty = 1;
	q.with_doc = true;
	rc = pz_store_find(c->core->store, &q, sub_collect, &l);
	total = l.n + l.nmore;
	for (int i = 0; rc == PZ_OK && i < total; i++) {
		struct pz_res *sub = sub_at(&l, i);
		json_t *pc;

		if ((child && sub->id == child->id) ||
		    !sub_wants(sub, net, child, modified))
			continue;  /* a new subscription is not its own event */
		pc = notify_body(c, sub, net, child ? child : res, modified);
		rc = pc ? stage_all(c, sub, pc, true) : PZ_ENOMEM;
		json_decref(pc);
		if (rc == PZ_OK)
			rc = sub_count_down(c, sub);
	}
	for (int i = 0; i < total; i++)
		pz_res_clear(sub_at(&l, i));
	pz_free(l.more);
	return rc == PZ_OK ? PZ_OK :
	       pz_core__internal(c, rc, "notifying subscribers");
}

int pz_core__sub_deleted(struct core_ctx *c, struct pz_res *sub)
{
	json_t *doc = pz_res_doc(sub), *su, *pc, *cr;
	char ri[CORE_RI_MAX], sur[CORE_RI_MAX + 64];
	int rc;

	su = doc ? json_object_get(doc, "su") : NULL;
	if (!json_is_string(su) || !*json_string_value(su)) {
		/* Still flush what the subscription had batched. */
		pc = json_pack("{s:{s:b}}", "m2m:sgn", "sud", 1);
		rc = pc ? stage(c, sub, "", pc, false) : PZ_ENOMEM;
		json_decref(pc);
		return rc;
	}
	pz_core__res_ri(sub, ri, sizeof(ri));
	snprintf(sur, sizeof(sur), "%s/%s", c->core->csi, ri);
	pc = json_pack("{s:{s:b,s:s}}", "m2m:sgn", "sud", 1, "sur", sur);
	cr = json_object_get(doc, "cr");
	if (pc && json_is_string(cr))
		json_object_set(json_object_get(pc, "m2m:sgn"), "cr", cr);
	rc = pc ? stage(c, sub, json_string_value(su), pc, false) : PZ_ENOMEM;
	json_decref(pc);
	return rc;
}

/* --- verification ------------------------------------------------------- */

static void verify_done(void *ud, struct pz_rsp *rsp)
{
	struct core_job *job = ud;

	if (rsp->rsc != PZ_RSC_OK && !job->verify_rsc)
		job->verify_rsc = rsp->rsc ? rsp->rsc :
				  PZ_RSC_TARGET_NOT_REACHABLE;
	if (--job->waiting > 0)
		return;
	job->verified = true;
	pz_core__run(job->core, job);
}

int pz_core__verify(struct core_ctx *c, json_t *nus, const char *sub_ri)
{
	pz_core *core = c->core;
	struct core_job *job = c->job;
	json_t *v, *pc;
	char sur[CORE_RI_MAX + 64];
	size_t i;
	int rc = PZ_OK, failed = 0;

	snprintf(sur, sizeof(sur), "%s/%s", core->csi, sub_ri);
	json_array_foreach(nus, i, v) {
		const char *nu = pz_core__local(core, json_string_value(v));

		if (c->orig && !strcmp(nu, c->orig))
			continue;  /* the creator needs no verification */
		if (!job)
			return PZ_EPENDING;  /* cannot wait here (fan-out) */
		pc = json_pack("{s:{s:b,s:s}}", "m2m:sgn", "vrq", 1, "sur",
			       sur);
		if (pc && c->orig)
			json_object_set_new(json_object_get(pc, "m2m:sgn"),
					    "cr", json_string(c->orig));
		rc = pc ? pz_core__send(core, json_string_value(v), pc,
					verify_done, job) : PZ_ENOMEM;
		json_decref(pc);
		if (rc == PZ_OK) {
			job->waiting++;
		} else {
			failed = 1;
			break;
		}
	}
	if (job && job->waiting > 0) {
		/* Answer with 5204 after the outstanding ones if one target
		 * could not even be tried. */
		if (failed && !job->verify_rsc)
			job->verify_rsc = PZ_RSC_TARGET_NOT_REACHABLE;
		job->core = core;
		return PZ_EPENDING;
	}
	if (failed)
		return pz_core__fail(c,
			PZ_RSC_SUBSCRIPTION_VERIFICATION_INITIATION_FAILED,
			"notification target '%.100s' cannot be reached",
			json_string_value(v));
	return PZ_OK;
}
