/*
 * http_trust.c - the trust repository over HTTP (docs/trust.md), beside
 * the management interface:
 *
 *   GET  /.plaza/log/key                     the log's public key (PEM)
 *   GET  /.plaza/log/head                    the newest signed head
 *   GET  /.plaza/log/entries/<seq>           one entry
 *   GET  /.plaza/log/entries?start=&end=     entries start .. end - 1
 *   GET  /.plaza/log/proof?seq=|id=[&size=]  a proof bundle
 *   GET  /.plaza/log/consistency?from=[&to=] a consistency proof
 *   GET  /.plaza/ids?after=&limit=          identities, a page at a time
 *   GET  /.plaza/ids/<identifier>            the record
 *   POST /.plaza/ids                         register a device (admin)
 *   POST /.plaza/ids/<identifier>/revoke     (admin)
 *   POST /.plaza/ids/<identifier>/decommission (admin)
 *
 * Reading is public unless the configuration says otherwise (then the
 * admin credential is needed for everything).  Errors are
 * {"error": reason} with 400, 401, 404, 409 or 422.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plaza/pz_b64.h"
#include "plaza/pz_codec.h"
#include "plaza/pz_err.h"
#include "plaza/pz_http.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_tlog.h"

#define TRUST_MAX_RANGE 1000     /* entries in one page */
#define TRUST_MAX_BUNDLE 1000    /* entries in one identity's bundle */
#define TRUST_PAGE 100           /* identities listed by default */

static int trust_fail(struct pz_http_mgmt_out *out, int status,
		      const char *fmt, ...)
{
	char why[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	out->doc = json_pack("{s:s}", "error", why);
	return out->status = status;
}

static const char *trust_arg(const struct pz_http_mgmt_in *in,
			     const char *name)
{
	for (size_t i = 0; i < in->nargs; i++)
		if (!strcmp(in->args[i].name, name))
			return in->args[i].value ? in->args[i].value : "";
	return NULL;
}

/* A decimal number argument: PZ_OK (absent: *v untouched), PZ_EINVAL. */
static int trust_num(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long n;

	if (!s)
		return PZ_OK;
	if (!*s || *s < '0' || *s > '9')
		return PZ_EINVAL;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || *end)
		return PZ_EINVAL;
	*v = n;
	return PZ_OK;
}

static json_t *trust_b64(const uint8_t *p, size_t n)
{
	char *s = pz_malloc(4 * (n / 3 + 1) + 1);
	json_t *j;

	if (!s)
		return NULL;
	pz_b64_encode(p, n, s, 0);
	j = json_string(s);
	pz_free(s);
	return j;
}

/* {"seq", "entry", "leaf_input"} of committed entry seq, or NULL with the
 * failure in *rc. */
static json_t *trust_entry(pz_tlog *t, uint64_t seq, int *rc)
{
	uint8_t *raw = NULL;
	size_t len = 0;
	json_t *doc = NULL, *j;

	*rc = pz_tlog_entry(t, seq, &raw, &len, &doc);
	if (*rc != PZ_OK)
		return NULL;
	j = json_pack("{s:I,s:o,s:o}", "seq", (json_int_t)seq, "entry", doc,
		      "leaf_input", trust_b64(raw, len));
	pz_free(raw);
	if (!j)
		*rc = PZ_ENOMEM;
	return j;
}

static json_t *trust_path(const uint8_t *path, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, trust_b64(path + i * PZ_TLOG_HASH,
						       PZ_TLOG_HASH))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* The head a proof is given against: of size *size, or (0) the newest,
 * signed now if needed, after committing the open batch. */
static int trust_head(pz_core *core, uint64_t *size,
		      struct pz_store_head *h, struct pz_http_mgmt_out *out)
{
	pz_tlog *t = pz_core_tlog(core);
	int rc;

	if (*size) {
		rc = pz_tlog_head_at(t, *size, h);
		if (rc == PZ_ENOTFOUND)
			return trust_fail(out, 404, "no signed head of %" PRIu64
					  " entries (heads are signed when "
					  "/.plaza/log/head is read)", *size);
	} else {
		pz_core_flush(core);
		rc = pz_tlog_head(t, true, h);
	}
	if (rc != PZ_OK)
		return trust_fail(out, 500, "cannot read the signed head: %s",
				  pz_strerror(rc));
	*size = h->size;
	return 0;
}

static int trust_get_head(pz_core *core, struct pz_http_mgmt_out *out)
{
	struct pz_store_head h;
	uint64_t size = 0;

	if (trust_head(core, &size, &h, out))
		return out->status;
	out->doc = pz_tlog_head_json(pz_tlog_log_id(pz_core_tlog(core)), &h);
	return out->status = 200;
}

static int trust_get_entries(pz_core *core, const struct pz_http_mgmt_in *in,
			     const char *rest, struct pz_http_mgmt_out *out)
{
	pz_tlog *t = pz_core_tlog(core);
	uint64_t seq = 0, start = 0, end = 0, n = pz_tlog_committed_size(t);
	json_t *list, *e;
	int rc;

	if (*rest == '/') {
		if (trust_num(rest + 1, &seq) != PZ_OK)
			return trust_fail(out, 400, "entry number expected "
					  "after /.plaza/log/entries/");
		out->doc = trust_entry(t, seq, &rc);
		if (rc == PZ_ENOTFOUND || rc == PZ_EINVAL)
			return trust_fail(out, 404, "no entry %" PRIu64 " (the "
					  "log has %" PRIu64 ")", seq, n);
		if (rc != PZ_OK)
			return trust_fail(out, 500, "cannot read entry %" PRIu64
					  ": %s", seq, pz_strerror(rc));
		return out->status = 200;
	}
	if (*rest)
		return trust_fail(out, 404, "no such log resource");
	end = n;
	if (trust_num(trust_arg(in, "start"), &start) != PZ_OK ||
	    trust_num(trust_arg(in, "end"), &end) != PZ_OK)
		return trust_fail(out, 400, "start and end are entry numbers");
	if (end > n)
		end = n;
	if (start > end)
		return trust_fail(out, 422, "start %" PRIu64 " is past end %"
				  PRIu64, start, end);
	if (end - start > TRUST_MAX_RANGE)
		end = start + TRUST_MAX_RANGE;
	list = json_array();
	for (seq = start; list && seq < end; seq++) {
		e = trust_entry(t, seq, &rc);
		if (!e || json_array_append_new(list, e)) {
			json_decref(list);
			return trust_fail(out, 500, "cannot read entry %" PRIu64,
					  seq);
		}
	}
	out->doc = json_pack("{s:o,s:I}", "entries", list, "tree_size",
			     (json_int_t)n);
	return out->status = out->doc ? 200 : 500;
}

/* One {"seq", "leaf_input", "path"} of a bundle against size. */
static json_t *trust_bundle_entry(pz_tlog *t, uint64_t seq, uint64_t size,
				  int *rc)
{
	uint8_t path[PZ_TLOG_MAX_PROOF * PZ_TLOG_HASH], *raw = NULL;
	size_t n = 0, len = 0;
	json_t *j;

	*rc = pz_tlog_prove(t, seq, size, path, &n, NULL);
	if (*rc == PZ_OK)
		*rc = pz_tlog_entry(t, seq, &raw, &len, NULL);
	if (*rc != PZ_OK)
		return NULL;
	j = json_pack("{s:I,s:o,s:o}", "seq", (json_int_t)seq, "leaf_input",
		      trust_b64(raw, len), "path", trust_path(path, n));
	pz_free(raw);
	if (!j)
		*rc = PZ_ENOMEM;
	return j;
}

static int trust_get_proof(pz_core *core, const struct pz_http_mgmt_in *in,
			   struct pz_http_mgmt_out *out)
{
	pz_tlog *t = pz_core_tlog(core);
	const char *id = trust_arg(in, "id");
	const char *s = trust_arg(in, "seq");
	struct pz_store_head h;
	uint64_t seq = 0, size = 0;
	json_t *rec = NULL, *list, *e, *hist;
	const json_t *v;
	size_t i;
	int rc;

	if (!id == !s)
		return trust_fail(out, 400, "give seq=<entry> or "
				  "id=<identifier>");
	if (trust_num(s, &seq) != PZ_OK || trust_num(trust_arg(in, "size"),
						     &size) != PZ_OK)
		return trust_fail(out, 400, "seq and size are entry numbers");
	if (trust_arg(in, "size") && size == 0)
		return trust_fail(out, 422, "no proof exists in the empty "
				  "tree");
	if (id) {
		rc = pz_core_ident_get(core, id, &rec);
		if (rc == PZ_ENOTFOUND || rc == PZ_EINVAL)
			return trust_fail(out, rc == PZ_EINVAL ? 400 : 404,
					  "no identity '%.100s'", id);
		if (rc != PZ_OK)
			return trust_fail(out, 500, "cannot resolve: %s",
					  pz_strerror(rc));
	}
	if (trust_head(core, &size, &h, out)) {
		json_decref(rec);
		return out->status;
	}
	if (!id && seq >= size)
		return trust_fail(out, seq < pz_tlog_committed_size(t) ? 422 :
				  404, "no entry %" PRIu64 " in the tree of %"
				  PRIu64 " entries", seq, size);
	list = json_array();
	hist = json_object_get(rec, "history");
	if (json_array_size(hist) > TRUST_MAX_BUNDLE) {
		json_decref(rec);
		json_decref(list);
		return trust_fail(out, 422, "the identity has more than %d "
				  "entries: ask for them by seq",
				  TRUST_MAX_BUNDLE);
	}
	rc = PZ_OK;
	if (!id) {
		e = trust_bundle_entry(t, seq, size, &rc);
		if (!e || json_array_append_new(list, e))
			rc = rc == PZ_OK ? PZ_ENOMEM : rc;
	}
	json_array_foreach(hist, i, v) {
		json_int_t n = json_integer_value(json_object_get(v, "seq"));

		if (n < 0 || (uint64_t)n >= size)
			continue;   /* after the head: not provable yet */
		e = trust_bundle_entry(t, (uint64_t)n, size, &rc);
		if (!e || json_array_append_new(list, e)) {
			rc = rc == PZ_OK ? PZ_ENOMEM : rc;
			break;
		}
	}
	if (rc != PZ_OK || !list) {
		json_decref(rec);
		json_decref(list);
		return trust_fail(out, 500, "cannot build the proof: %s",
				  pz_strerror(rc));
	}
	out->doc = json_pack("{s:o,s:o}", "head",
			     pz_tlog_head_json(pz_tlog_log_id(t), &h),
			     "entries", list);
	if (out->doc && rec)
		json_object_set_new(out->doc, "record", rec);
	else
		json_decref(rec);
	return out->status = out->doc ? 200 : 500;
}

static int trust_get_consistency(pz_core *core,
				 const struct pz_http_mgmt_in *in,
				 struct pz_http_mgmt_out *out)
{
	pz_tlog *t = pz_core_tlog(core);
	uint8_t proof[PZ_TLOG_MAX_PROOF * PZ_TLOG_HASH];
	struct pz_store_head h;
	uint64_t from = 0, to = 0;
	size_t n = 0;
	int rc;

	if (!trust_arg(in, "from") || trust_num(trust_arg(in, "from"),
						&from) != PZ_OK ||
	    trust_num(trust_arg(in, "to"), &to) != PZ_OK)
		return trust_fail(out, 400, "from=<size> is required; from and "
				  "to are tree sizes");
	if (from == 0)
		return trust_fail(out, 422, "every tree extends the empty one: "
				  "no proof for from=0");
	if (trust_arg(in, "to") && to == 0)
		return trust_fail(out, 422, "from %" PRIu64 " is past to 0",
				  from);
	if (trust_head(core, &to, &h, out))
		return out->status;
	if (from > to)
		return trust_fail(out, 422, "from %" PRIu64 " is past to %"
				  PRIu64, from, to);
	rc = pz_tlog_consistency(t, from, to, proof, &n);
	if (rc != PZ_OK)
		return trust_fail(out, 500, "cannot build the proof: %s",
				  pz_strerror(rc));
	out->doc = json_pack("{s:I,s:I,s:o,s:o}", "from", (json_int_t)from,
			     "to", (json_int_t)to, "proof", trust_path(proof, n),
			     "head", pz_tlog_head_json(pz_tlog_log_id(t), &h));
	return out->status = out->doc ? 200 : 500;
}

/* --- identities -------------------------------------------------------- */

static int trust_ident_status(int rc)
{
	switch (rc) {
	case PZ_EINVAL: return 400;
	case PZ_ENOTFOUND: return 404;
	case PZ_EEXIST: return 409;
	case PZ_ESTATE: return 409;
	default: return 500;
	}
}

/* GET /.plaza/ids?after=&limit=: a page of identities. */
static int trust_list(pz_core *core, const struct pz_http_mgmt_in *in,
		      struct pz_http_mgmt_out *out)
{
	const char *after = trust_arg(in, "after");
	uint64_t limit = TRUST_PAGE;
	json_t *list = NULL, *last;
	int rc;

	if (trust_num(trust_arg(in, "limit"), &limit) != PZ_OK || limit == 0 ||
	    limit > TRUST_MAX_RANGE)
		return trust_fail(out, 400, "limit is 1 to %d", TRUST_MAX_RANGE);
	rc = pz_core_ident_list(core, after, (unsigned)limit, &list);
	if (rc != PZ_OK)
		return trust_fail(out, 500, "cannot list identities: %s",
				  pz_strerror(rc));
	last = json_array_get(list, json_array_size(list) - 1);
	out->doc = json_pack("{s:o}", "ids", list);
	if (out->doc && json_array_size(list) == limit)
		json_object_set(out->doc, "next", json_object_get(last, "id"));
	return out->status = out->doc ? 200 : 500;
}

static int trust_ids(pz_core *core, const struct pz_http_mgmt_in *in,
		     const char *rest, bool admin,
		     struct pz_http_mgmt_out *out)
{
	char err[300];
	json_t *body = NULL, *rec = NULL;
	size_t n = strlen(rest);
	bool decom = n > 13 && !strcmp(rest + n - 13, "/decommission");
	bool revoke = n > 7 && !strcmp(rest + n - 7, "/revoke");
	char *id;
	int rc;

	if (!strcmp(in->method, "GET") && !*rest)
		return trust_list(core, in, out);
	if (!strcmp(in->method, "GET")) {
		rc = pz_core_ident_get(core, rest, &out->doc);
		if (rc == PZ_EINVAL || rc == PZ_ENOTFOUND)
			return trust_fail(out, rc == PZ_EINVAL ? 400 : 404,
					  "no identity '%.100s'", rest);
		if (rc != PZ_OK)
			return trust_fail(out, 500, "cannot resolve: %s",
					  pz_strerror(rc));
		return out->status = 200;
	}
	if (strcmp(in->method, "POST"))
		return trust_fail(out, 405, "identities are read with GET and "
				  "changed with POST");
	if (!admin)
		return trust_fail(out, 401, "the admin credential is required");
	if (in->len && pz_codec_parse(PZ_FMT_JSON, in->body, in->len, NULL,
				      &body, err, sizeof(err)) != PZ_OK)
		return trust_fail(out, 400, "%s", err);
	if (!*rest) {
		rc = body ? pz_core_ident_register(core, body, &rec, err,
						   sizeof(err)) : PZ_EINVAL;
		if (!body)
			snprintf(err, sizeof(err), "a JSON body is required");
		json_decref(body);
		if (rc != PZ_OK)
			return trust_fail(out, trust_ident_status(rc), "%s",
					  err);
		out->doc = rec;
		return out->status = 201;
	}
	if (!decom && !revoke) {
		json_decref(body);
		return trust_fail(out, 404, "POST /.plaza/ids/<identifier>/"
				  "revoke or /decommission");
	}
	if (body && (!json_is_object(body) ||
		     (json_object_get(body, "reason") &&
		      !json_is_string(json_object_get(body, "reason"))))) {
		json_decref(body);
		return trust_fail(out, 400, "the body is {\"reason\": text}");
	}
	id = pz_strndup(rest, n - (decom ? 13 : 7));
	if (!id) {
		json_decref(body);
		return trust_fail(out, 500, "out of memory");
	}
	rc = pz_core_ident_end(core, id, decom, json_string_value(
		json_object_get(body, "reason")), &rec, err, sizeof(err));
	pz_free(id);
	json_decref(body);
	if (rc != PZ_OK)
		return trust_fail(out, trust_ident_status(rc), "%s", err);
	out->doc = rec;
	return out->status = 200;
}

int pz_http__trust(pz_core *core, const struct pz_http_mgmt_in *in,
		   bool admin, struct pz_http_mgmt_out *out)
{
	const char *p = in->path;

	if (!pz_core_tlog(core))
		return trust_fail(out, 404, "this plazad keeps no trust log");
	if (!strncmp(p, "/.plaza/ids", 11) && (p[11] == '/' || !p[11]))
		return trust_ids(core, in, p[11] ? p + 12 : "", admin, out);
	if (strcmp(in->method, "GET"))
		return trust_fail(out, 405, "the log is read with GET");
	p += 11;    /* after "/.plaza/log" */
	if (!strcmp(p, "/key")) {
		out->text = pz_strdup(pz_tlog_public_pem(pz_core_tlog(core)));
		out->ctype = "application/x-pem-file";
		return out->status = out->text ? 200 : 500;
	}
	if (!strcmp(p, "/head"))
		return trust_get_head(core, out);
	if (!strncmp(p, "/entries", 8))
		return trust_get_entries(core, in, p + 8, out);
	if (!strcmp(p, "/proof"))
		return trust_get_proof(core, in, out);
	if (!strcmp(p, "/consistency"))
		return trust_get_consistency(core, in, out);
	return trust_fail(out, 404, "no such log resource");
}
