/*
 * store.c - backend selection and the thin wrappers every caller uses
 * (see pz_store.h).  Batch/savepoint state is tracked here so that misuse is
 * caught the same way for every backend.
 */
#include <string.h>

#include "plaza/pz_err.h"
#include "plaza/pz_log.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_store.h"
#include "plaza/pz_time.h"
#include "store_int.h"

static const struct pz_store_ops *const store_backends[] = {
	&pz_store__sqlite_ops,
	NULL
};

int pz_store_open(const char *url, const struct pz_store_opts *opts,
		  pz_store **out)
{
	const char *colon = strchr(url, ':');
	const struct pz_store_ops *ops = NULL;
	const char *loc = url;
	int rc;

	if (colon && colon != url) {
		size_t n = (size_t)(colon - url);

		for (int i = 0; store_backends[i]; i++) {
			if (strlen(store_backends[i]->scheme) == n &&
			    !strncmp(url, store_backends[i]->scheme, n))
				ops = store_backends[i];
		}
		if (!ops) {
			pz_log(PZ_ERROR, "store", "unknown store scheme in '%s'",
			       url);
			return PZ_EINVAL;
		}
		loc = colon + 1;
	} else {
		ops = &pz_store__sqlite_ops;
	}
	rc = ops->open(loc, opts, out);
	if (rc == PZ_OK) {
		(*out)->ops = ops;
		(*out)->depth = 0;
	}
	return rc;
}

void pz_store_close(pz_store *st)
{
	if (!st)
		return;
	if (st->depth > 0)
		st->ops->rollback(st);
	st->ops->close(st);
}

int pz_store_begin(pz_store *st)
{
	int rc;

	if (st->depth != 0)
		return PZ_ESTATE;
	rc = st->ops->begin(st);
	if (rc == PZ_OK)
		st->depth = 1;
	return rc;
}

int pz_store_commit(pz_store *st)
{
	int rc;

	if (st->depth != 1)
		return PZ_ESTATE;
	rc = st->ops->commit(st);
	if (rc != PZ_OK)
		st->ops->rollback(st);
	st->depth = 0;
	return rc;
}

int pz_store_rollback(pz_store *st)
{
	if (st->depth == 0)
		return PZ_ESTATE;
	st->depth = 0;
	return st->ops->rollback(st);
}

int pz_store_savepoint(pz_store *st)
{
	int rc;

	if (st->depth < 1)
		return PZ_ESTATE;
	rc = st->ops->savepoint(st);
	if (rc == PZ_OK)
		st->depth++;
	return rc;
}

int pz_store_release(pz_store *st)
{
	if (st->depth < 2)
		return PZ_ESTATE;
	st->depth--;
	return st->ops->release(st);
}

int pz_store_rollback_to(pz_store *st)
{
	if (st->depth < 2)
		return PZ_ESTATE;
	st->depth--;
	return st->ops->rollback_to(st);
}

bool pz_store_in_batch(const pz_store *st)
{
	return st->depth > 0;
}

int pz_store_get(pz_store *st, int64_t id, struct pz_res *out)
{
	return st->ops->get(st, id, out);
}

int pz_store_get_ri(pz_store *st, const char *ri, struct pz_res *out)
{
	return st->ops->get_ri(st, ri, out);
}

int pz_store_get_child(pz_store *st, int64_t pid, const char *rn,
		       struct pz_res *out)
{
	return st->ops->get_child(st, pid, rn, out);
}

int pz_store_edge(pz_store *st, int64_t pid, int ty, bool newest,
		  struct pz_res *out)
{
	return st->ops->edge(st, pid, ty, newest, out);
}

int64_t pz_store_next_id(pz_store *st)
{
	return ++st->last_id;
}

int pz_store_insert(pz_store *st, struct pz_res *res)
{
	return st->ops->insert(st, res);
}

int pz_store_update(pz_store *st, struct pz_res *res)
{
	return st->ops->update(st, res);
}

int pz_store_adjust(pz_store *st, int64_t id, int64_t dcni, int64_t dcbs,
		    int64_t dst, int64_t lt, int64_t latest)
{
	return st->ops->adjust(st, id, dcni, dcbs, dst, lt, latest);
}

int pz_store_remove(pz_store *st, int64_t id)
{
	return st->ops->remove(st, id);
}

int pz_store_find(pz_store *st, const struct pz_store_q *q,
		  pz_store_each_cb cb, void *ud)
{
	return st->ops->find(st, q, cb, ud);
}

int pz_store_count(pz_store *st, int64_t pid, int ty, int64_t *n)
{
	return st->ops->count(st, pid, ty, n);
}

int pz_store_expired(pz_store *st, int64_t now, int64_t limit,
		     pz_store_each_cb cb, void *ud)
{
	return st->ops->expired(st, now, limit, cb, ud);
}

int pz_store_next_expiry(pz_store *st, int64_t *et)
{
	return st->ops->next_expiry(st, et);
}

int pz_store_cred_put(pz_store *st, const char *orig, const uint8_t *hash,
		      size_t len)
{
	return st->ops->cred_put(st, orig, hash, len);
}

int pz_store_cred_get(pz_store *st, const char *orig, uint8_t *hash,
		      size_t *len)
{
	return st->ops->cred_get(st, orig, hash, len);
}

int pz_store_cred_del(pz_store *st, const char *orig)
{
	return st->ops->cred_del(st, orig);
}

int pz_store_psk_put(pz_store *st, const char *identity, const char *orig,
		     const uint8_t *key, size_t len)
{
	return st->ops->psk_put(st, identity, orig, key, len);
}

int pz_store_psk_get(pz_store *st, const char *identity, uint8_t *key,
		     size_t *len, char **orig)
{
	return st->ops->psk_get(st, identity, key, len, orig);
}

int pz_store_psk_del(pz_store *st, const char *identity)
{
	return st->ops->psk_del(st, identity);
}

int pz_store_psk_list(pz_store *st,
		      int (*cb)(void *ud, const char *identity,
				const char *orig, int64_t created),
		      void *ud)
{
	return st->ops->psk_list(st, cb, ud);
}

int pz_store_meta_get(pz_store *st, const char *key, char **val)
{
	return st->ops->meta_get(st, key, val);
}

int pz_store_meta_put(pz_store *st, const char *key, const char *val)
{
	return st->ops->meta_put(st, key, val);
}

/* --- trust log and identities ----------------------------------------- */

int pz_store_tlog_append(pz_store *st, uint64_t seq, const uint8_t *entry,
			 size_t len, const uint8_t *nodes, size_t nlen)
{
	return st->ops->tlog_append(st, seq, entry, len, nodes, nlen);
}

int pz_store_tlog_get(pz_store *st, uint64_t seq, uint8_t **entry,
		      size_t *len, uint8_t *nodes, size_t *nlen)
{
	return st->ops->tlog_get(st, seq, entry, len, nodes, nlen);
}

int pz_store_tlog_size(pz_store *st, uint64_t *n)
{
	return st->ops->tlog_size(st, n);
}

int pz_store_tlog_scan(pz_store *st, uint64_t from, pz_store_tlog_cb cb,
		       void *ud)
{
	return st->ops->tlog_scan(st, from, cb, ud);
}

int pz_store_head_put(pz_store *st, const struct pz_store_head *h)
{
	return st->ops->head_put(st, h);
}

int pz_store_head_get(pz_store *st, uint64_t size, struct pz_store_head *h)
{
	return st->ops->head_get(st, size, h);
}

int pz_store_head_scan(pz_store *st, pz_store_head_cb cb, void *ud)
{
	return st->ops->head_scan(st, cb, ud);
}

int pz_store_ident_put(pz_store *st, const char *id, const char *rec)
{
	return st->ops->ident_put(st, id, rec);
}

int pz_store_ident_get(pz_store *st, const char *id, char **rec)
{
	return st->ops->ident_get(st, id, rec);
}

int pz_store_alias_put(pz_store *st, const char *alias, const char *id)
{
	return st->ops->alias_put(st, alias, id);
}

int pz_store_ident_scan(pz_store *st, const char *after, unsigned limit,
			pz_store_ident_cb cb, void *ud)
{
	return st->ops->ident_scan(st, after, limit, cb, ud);
}

int pz_store_alias_get(pz_store *st, const char *alias, char **id)
{
	return st->ops->alias_get(st, alias, id);
}

int pz_store_alias_del(pz_store *st, const char *alias)
{
	return st->ops->alias_del(st, alias);
}

/* --- records ------------------------------------------------------------ */

void pz_res_init(struct pz_res *res)
{
	memset(res, 0, sizeof(*res));
	res->et = PZ_TIME_NEVER;
}

void pz_res_clear(struct pz_res *res)
{
	pz_free(res->ri);
	pz_free(res->rn);
	pz_free(res->org);
	pz_free(res->doc_text);
	json_decref(res->doc);
	pz_res_init(res);
}

int pz_res_copy(struct pz_res *dst, const struct pz_res *src)
{
	pz_res_clear(dst);
	*dst = *src;
	dst->ri = src->ri ? pz_strdup(src->ri) : NULL;
	dst->rn = src->rn ? pz_strdup(src->rn) : NULL;
	dst->org = src->org ? pz_strdup(src->org) : NULL;
	dst->doc_text = src->doc_text ? pz_strdup(src->doc_text) : NULL;
	dst->doc = src->doc ? json_deep_copy(src->doc) : NULL;
	if ((src->ri && !dst->ri) || (src->rn && !dst->rn) ||
	    (src->org && !dst->org) || (src->doc_text && !dst->doc_text) ||
	    (src->doc && !dst->doc)) {
		pz_res_clear(dst);
		return PZ_ENOMEM;
	}
	return PZ_OK;
}

void pz_res_move(struct pz_res *dst, struct pz_res *src)
{
	pz_res_clear(dst);
	*dst = *src;
	pz_res_init(src);
}

json_t *pz_res_doc(struct pz_res *res)
{
	json_error_t jerr;

	if (res->doc)
		return res->doc;
	if (!res->doc_text) {
		res->doc = json_object();
		return res->doc;
	}
	res->doc = json_loads(res->doc_text, JSON_REJECT_DUPLICATES, &jerr);
	if (!res->doc)
		pz_log(PZ_ERROR, "store", "resource %lld: stored document "
		       "unreadable: %s", (long long)res->id, jerr.text);
	return res->doc;
}

int pz_store_sub_put(pz_store *st, const struct pz_store_sub *sub)
{
	if (!sub->impi[0] || sub->sqn > PZ_STORE_SQN_MAX)
		return PZ_EINVAL;
	return st->ops->sub_put(st, sub);
}

int pz_store_sub_get(pz_store *st, const char *impi, struct pz_store_sub *out)
{
	return st->ops->sub_get(st, impi, out);
}

int pz_store_sub_sqn(pz_store *st, const char *impi, uint64_t sqn)
{
	if (sqn > PZ_STORE_SQN_MAX)
		return PZ_EINVAL;
	return st->ops->sub_sqn(st, impi, sqn);
}

int pz_store_sub_del(pz_store *st, const char *impi)
{
	return st->ops->sub_del(st, impi);
}

int pz_store_sub_list(pz_store *st, pz_store_sub_cb cb, void *ud)
{
	return st->ops->sub_list(st, cb, ud);
}

int pz_store_boot_put(pz_store *st, const struct pz_store_boot *b)
{
	return st->ops->boot_put(st, b);
}

int pz_store_boot_get(pz_store *st, const char *btid,
		      struct pz_store_boot *out)
{
	return st->ops->boot_get(st, btid, out);
}

int pz_store_boot_purge(pz_store *st, int64_t now, int64_t *n)
{
	return st->ops->boot_purge(st, now, n);
}
