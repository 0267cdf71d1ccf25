/*
 * cmd_log.c - the trust repository (docs/trust.md): log head, log get,
 * log prove, log verify; id add, id show, id list, id revoke, id
 * decommission.
 *
 * "log verify" is an audit from the outside: it fetches the newest signed
 * head and every entry, recomputes the Merkle tree here (merkle.c), and
 * checks the head's signature with the log's public key (sth.c), so it
 * trusts nothing plazad says about itself.  With --since it also checks
 * that an older head (saved with --save-head, or by anyone) is a prefix
 * of today's log.  The key should come from a file obtained out of band
 * (--key); fetched from plazad it proves only that the log agrees with
 * itself.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "plaza/pz_b64.h"
#include "plaza/pz_buf.h"
#include "plaza/pz_err.h"
#include "plaza/pz_merkle.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_tlog.h"
#include "cli_int.h"

#define LOG_PAGE 1000    /* entries per request, plazad's own limit */

enum { OPT_KEY = 1, OPT_SINCE, OPT_SAVE, OPT_SIZE, OPT_AE, OPT_NODE,
       OPT_APP, OPT_OWNER, OPT_KEYFP, OPT_REASON };

static const char *str_of(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/* "/.plaza/ids/<id>[suffix]", the id percent-encoded as one segment. */
static int ids_path(struct pz_buf *p, const char *id, const char *suffix)
{
	int rc = pz_buf_adds(p, "/.plaza/ids/");

	if (rc == PZ_OK)
		rc = cli__seg_add(p, id);
	if (rc == PZ_OK)
		rc = pz_buf_adds(p, suffix);

	return rc == PZ_OK ? PZ_OK : cli__usage_error("identifier too long");
}

/* --- keys and heads ------------------------------------------------------- */

/* The raw Ed25519 public key from PEM text. */
static int log_key_parse(const char *pem, size_t len, uint8_t pub[32],
			 const char *from)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *k = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
	size_t n = 32;
	bool ok = k && EVP_PKEY_get_raw_public_key(k, pub, &n) == 1 &&
		  n == 32;

	EVP_PKEY_free(k);
	BIO_free(bio);
	return ok ? PZ_OK : cli__say(PZ_EINVAL, "%s holds no Ed25519 public "
				     "key (PEM)", from);
}

static int log_key_file(const char *path, uint8_t pub[32])
{
	char buf[4096];
	size_t n;
	FILE *f = fopen(path, "r");

	if (!f)
		return cli__say(PZ_EINVAL, "cannot read %s: %s", path,
				strerror(errno));
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return log_key_parse(buf, n, pub, path);
}

static int log_key_fetch(struct cli *c, uint8_t pub[32])
{
	struct reply r;
	int rc;

	cli__reply_init(&r);
	rc = cli__call(c, &(struct call){ .method = "GET",
			.path = "/.plaza/log/key", .mgmt = true }, &r);
	if (rc == PZ_OK)
		rc = log_key_parse(r.body.data ? r.body.data : "", r.body.len,
				   pub, "plazad's answer");
	cli__reply_clear(&r);
	if (rc == PZ_OK)
		fprintf(stderr, "plaza: warning: the log key was fetched from "
			"plazad itself; compare its log id with one obtained "
			"out of band, or pass --key\n");
	return rc;
}

/* A head document into h, its signature checked with pub. */
static int log_head_check(const json_t *doc, const uint8_t pub[32],
			  struct pz_store_head *h, const char *what)
{
	uint8_t id[PZ_TLOG_HASH], want[PZ_TLOG_HASH];
	char err[200];

	if (pz_tlog_head_parse(doc, id, h, err, sizeof(err)) != PZ_OK)
		return cli__say(PZ_EIO, "%s: %s", what, err);
	if (!EVP_Digest(pub, 32, want, NULL, EVP_sha256(), NULL) ||
	    memcmp(id, want, sizeof(id)))
		return cli__say(PZ_EREQ, "%s: signed by another log (log id "
				"differs from the key's)", what);
	if (!pz_tlog_head_verify(pub, h))
		return cli__say(PZ_EREQ, "%s: the signature does not verify",
				what);
	return PZ_OK;
}

static void log_print_head(const struct pz_store_head *h)
{
	char root[64], ts[40];
	time_t s = (time_t)(h->ts / 1000);
	struct tm tm;

	pz_b64_encode(h->root, PZ_TLOG_HASH, root, 0);
	gmtime_r(&s, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	printf("tree size  %" PRIu64 "\n", h->size);
	printf("signed at  %s.%03dZ\n", ts, (int)(h->ts % 1000));
	printf("root hash  %s\n", root);
}

/* --- log head / get / prove -------------------------------------------- */

static int log_head(struct cli *c)
{
	const char *key = NULL;
	static const struct copt opts[] = {
		{ "--key", true, OPT_KEY }, { NULL, false, 0 }
	};
	struct pz_store_head h;
	uint8_t pub[32];
	struct reply r;
	int rc;

	rc = cli__args(c, 2, opts, cli__one_arg, &key);
	if (rc != PZ_OK)
		return rc;
	cli__reply_init(&r);
	rc = cli__call(c, &(struct call){ .method = "GET",
			.path = "/.plaza/log/head", .mgmt = true }, &r);
	if (rc == PZ_OK && c->json) {
		rc = cli__print_json(r.doc);
	} else if (rc == PZ_OK) {
		rc = key ? log_key_file(key, pub) : log_key_fetch(c, pub);
		if (rc == PZ_OK)
			rc = log_head_check(r.doc, pub, &h, "the head");
		if (rc == PZ_OK) {
			log_print_head(&h);
			printf("log id     %s\n", str_of(r.doc, "log_id"));
			printf("signature  valid\n");
		}
	}
	cli__reply_clear(&r);
	return rc;
}

static int log_get(struct cli *c)
{
	const char *n = NULL;
	struct pz_buf p;
	struct reply r;
	long long seq;
	int rc;

	rc = cli__args(c, 2, NULL, cli__one_arg, &n);
	if (rc == PZ_OK && !n)
		rc = cli__usage_error("log get needs an entry number");
	if (rc == PZ_OK)
		rc = cli__arg_int("entry", n, 0, INT64_MAX, &seq);
	if (rc != PZ_OK)
		return rc;
	pz_buf_init(&p, 256);
	pz_buf_addf(&p, "/.plaza/log/entries/%lld", seq);
	cli__reply_init(&r);
	rc = cli__call(c, &(struct call){ .method = "GET", .path = p.data,
			.mgmt = true }, &r);
	if (rc == PZ_OK)
		rc = cli__print_json(c->json ? r.doc :
				     json_object_get(r.doc, "entry"));
	cli__reply_clear(&r);
	pz_buf_free(&p);
	return rc;
}

struct prove_args {
	const char *what;
	const char *size;
};

static int prove_arg(void *ud, int id, const char *val)
{
	struct prove_args *a = ud;

	if (id == OPT_SIZE) {
		a->size = val;
		return PZ_OK;
	}
	return cli__one_arg(&a->what, 0, val);
}

static int log_prove(struct cli *c)
{
	static const struct copt opts[] = {
		{ "--size", true, OPT_SIZE }, { NULL, false, 0 }
	};
	struct prove_args a = { NULL, NULL };
	struct pz_buf q;
	struct reply r;
	long long v;
	int rc;

	rc = cli__args(c, 2, opts, prove_arg, &a);
	if (rc == PZ_OK && !a.what)
		rc = cli__usage_error("log prove needs an identifier or an "
				      "entry number");
	if (rc != PZ_OK)
		return rc;
	pz_buf_init(&q, CLI_MAX_URL);
	if (a.what[0] >= '0' && a.what[0] <= '9' &&
	    cli__arg_int("entry", a.what, 0, INT64_MAX, &v) == PZ_OK)
		rc = cli__query_add(&q, "seq", a.what);
	else
		rc = cli__query_add(&q, "id", a.what);
	if (rc == PZ_OK && a.size)
		rc = cli__query_add(&q, "size", a.size);
	cli__reply_init(&r);
	if (rc == PZ_OK)
		rc = cli__call(c, &(struct call){ .method = "GET",
				.path = "/.plaza/log/proof", .query = q.data,
				.mgmt = true }, &r);
	/* The bundle is for plaza-verify: JSON either way. */
	if (rc == PZ_OK)
		rc = cli__print_json(r.doc);
	cli__reply_clear(&r);
	pz_buf_free(&q);
	return rc;
}

/* --- log verify ------------------------------------------------------------ */

struct verify_args {
	const char *key;
	const char *since;
	const char *save;
};

static int verify_arg(void *ud, int id, const char *val)
{
	struct verify_args *a = ud;

	switch (id) {
	case OPT_KEY: a->key = val; return PZ_OK;
	case OPT_SINCE: a->since = val; return PZ_OK;
	case OPT_SAVE: a->save = val; return PZ_OK;
	default: return cli__usage_error("unexpected argument '%s'", val);
	}
}

/* One page of entries into the tree f; old (size, root) checked when the
 * tree passes that size. */
static int verify_page(struct cli *c, struct pz_merkle_frontier *f,
		       uint64_t end, const struct pz_store_head *old,
		       bool *old_ok)
{
	struct pz_buf q;
	struct reply r;
	uint8_t leaf[PZ_TLOG_HASH], root[PZ_TLOG_HASH], *raw;
	const json_t *e;
	size_t i;
	long n;
	int rc;

	pz_buf_init(&q, 256);
	pz_buf_addf(&q, "start=%" PRIu64 "&end=%" PRIu64, f->n, end);
	cli__reply_init(&r);
	rc = cli__call(c, &(struct call){ .method = "GET",
			.path = "/.plaza/log/entries", .query = q.data,
			.mgmt = true }, &r);
	pz_buf_free(&q);
	if (rc == PZ_OK && !json_array_size(json_object_get(r.doc, "entries")))
		rc = cli__say(PZ_EREQ, "plazad gave no entries from %" PRIu64,
			      f->n);
	json_array_foreach(json_object_get(r.doc, "entries"), i, e) {
		const char *b64 = str_of(e, "leaf_input");

		if (rc != PZ_OK || f->n >= end)
			break;
		if (json_integer_value(json_object_get(e, "seq")) !=
		    (json_int_t)f->n || json_integer_value(json_object_get(
		    json_object_get(e, "entry"), "seq")) != (json_int_t)f->n) {
			rc = cli__say(PZ_EREQ, "entry %" PRIu64 " does not "
				      "carry its own number", f->n);
			break;
		}
		raw = pz_malloc(strlen(b64) + 3);
		n = raw ? pz_b64_decode(b64, raw, strlen(b64) + 3) : -1;
		rc = n < 0 ? cli__say(PZ_EREQ, "entry %" PRIu64 ": leaf_input "
				      "is not base64", f->n) :
		     pz_merkle_leaf(raw, (size_t)n, leaf);
		pz_free(raw);
		if (rc == PZ_OK)
			rc = pz_merkle_append(f, leaf, NULL, NULL);
		if (rc == PZ_OK && old && f->n == old->size) {
			pz_merkle_frontier_root(f, root);
			*old_ok = !memcmp(root, old->root, sizeof(root));
		}
	}
	cli__reply_clear(&r);
	return rc;
}

static int log_verify(struct cli *c)
{
	static const struct copt opts[] = {
		{ "--key", true, OPT_KEY }, { "--since", true, OPT_SINCE },
		{ "--save-head", true, OPT_SAVE }, { NULL, false, 0 }
	};
	struct verify_args a = { NULL, NULL, NULL };
	struct pz_merkle_frontier f;
	struct pz_store_head h, old;
	uint8_t pub[32], root[PZ_TLOG_HASH];
	bool old_ok = false;
	json_t *olddoc = NULL;
	json_error_t je;
	struct reply r;
	int rc;

	rc = cli__args(c, 2, opts, verify_arg, &a);
	if (rc != PZ_OK)
		return rc;
	rc = a.key ? log_key_file(a.key, pub) : log_key_fetch(c, pub);
	if (rc == PZ_OK && a.since) {
		olddoc = json_load_file(a.since, 0, &je);
		rc = olddoc ? log_head_check(olddoc, pub, &old, a.since) :
		     cli__say(PZ_EINVAL, "%s: %s", a.since, je.text);
	}
	if (rc != PZ_OK) {
		json_decref(olddoc);
		return rc;
	}
	cli__reply_init(&r);
	rc = cli__call(c, &(struct call){ .method = "GET",
			.path = "/.plaza/log/head", .mgmt = true }, &r);
	if (rc == PZ_OK)
		rc = log_head_check(r.doc, pub, &h, "the newest head");
	if (rc == PZ_OK && a.since && old.size > h.size)
		rc = cli__say(PZ_EREQ, "THE LOG SHRANK: %s has %" PRIu64
			      " entries, today's head %" PRIu64, a.since,
			      old.size, h.size);
	pz_merkle_frontier_init(&f);
	while (rc == PZ_OK && f.n < h.size)
		rc = verify_page(c, &f, h.size, a.since ? &old : NULL,
				 &old_ok);
	if (rc == PZ_OK) {
		pz_merkle_frontier_root(&f, root);
		if (memcmp(root, h.root, sizeof(root)))
			rc = cli__say(PZ_EREQ, "THE ENTRIES DO NOT MAKE THE "
				      "SIGNED ROOT of %" PRIu64 " entries",
				      h.size);
	}
	if (rc == PZ_OK && a.since && !old_ok && old.size > 0)
		rc = cli__say(PZ_EREQ, "THE LOG WAS REWRITTEN: today's first "
			      "%" PRIu64 " entries do not make the root of %s",
			      old.size, a.since);
	if (rc == PZ_OK && a.save && json_dump_file(r.doc, a.save,
						    JSON_INDENT(2)))
		rc = cli__say(PZ_EIO, "cannot write %s", a.save);
	if (rc == PZ_OK) {
		printf("log verified: %" PRIu64 " entries make the signed root",
		       h.size);
		if (a.since)
			printf("; it extends %s (%" PRIu64 " entries)",
			       a.since, old.size);
		printf("\n");
		log_print_head(&h);
	}
	cli__reply_clear(&r);
	json_decref(olddoc);
	return rc;
}

int cli__cmd_log(struct cli *c)
{
	const char *sub = c->argc > 1 ? c->argv[1] : "";

	if (!strcmp(sub, "head"))
		return log_head(c);
	if (!strcmp(sub, "get"))
		return log_get(c);
	if (!strcmp(sub, "prove"))
		return log_prove(c);
	if (!strcmp(sub, "verify"))
		return log_verify(c);
	return cli__usage_error("log needs head, get, prove or verify");
}

/* --- id ---------------------------------------------------------------- */

static void id_print(const json_t *rec)
{
	static const char *const fields[] = {
		"id", "kind", "status", "ae_id", "app_id", "node_id", "owner",
		NULL
	};
	const json_t *v;
	size_t i;

	for (i = 0; fields[i]; i++)
		if (*str_of(rec, fields[i])) {
			printf("%-10s ", fields[i]);
			cli__put_safe(str_of(rec, fields[i]), 0);
			putchar('\n');
		}
	json_array_foreach(json_object_get(rec, "aliases"), i, v) {
		printf("%-10s ", i ? "" : "aliases");
		cli__put_safe(json_string_value(v), 0);
		putchar('\n');
	}
	json_array_foreach(json_object_get(rec, "keys"), i, v) {
		printf("%-10s %s %s", i ? "" : "keys", str_of(v, "type"),
		       str_of(v, "fp"));
		if (*str_of(v, "name"))
			printf(" (%s)", str_of(v, "name"));
		printf(" since entry %" JSON_INTEGER_FORMAT "\n",
		       json_integer_value(json_object_get(v, "since")));
	}
	v = json_object_get(rec, "cert");
	if (json_is_object(v))
		printf("%-10s %s (entry %" JSON_INTEGER_FORMAT ")\n", "cert",
		       str_of(v, "result"),
		       json_integer_value(json_object_get(v, "seq")));
	json_array_foreach(json_object_get(rec, "history"), i, v)
		printf("%-10s %" JSON_INTEGER_FORMAT " %s\n",
		       i ? "" : "history",
		       json_integer_value(json_object_get(v, "seq")),
		       str_of(v, "type"));
}

/* id list: every identity, a page at a time. */
static int id_list(struct cli *c)
{
	json_t *all = json_array(), *page, *v;
	char *next = NULL;
	struct pz_buf q;
	struct reply r;
	size_t i;
	int rc;

	rc = cli__args(c, 2, NULL, cli__no_arg, NULL);
	if (rc == PZ_OK && !all)
		rc = cli__say(PZ_ENOMEM, "out of memory");
	while (rc == PZ_OK) {
		pz_buf_init(&q, CLI_MAX_URL);
		rc = cli__query_add(&q, "limit", "1000");
		if (rc == PZ_OK && next)
			rc = cli__query_add(&q, "after", next);
		cli__reply_init(&r);
		if (rc == PZ_OK)
			rc = cli__call(c, &(struct call){ .method = "GET",
					.path = "/.plaza/ids", .query = q.data,
					.mgmt = true }, &r);
		pz_buf_free(&q);
		page = json_object_get(r.doc, "ids");
		json_array_foreach(page, i, v)
			json_array_append(all, v);
		pz_free(next);
		next = json_string_value(json_object_get(r.doc, "next")) ?
		       pz_strdup(str_of(r.doc, "next")) : NULL;
		cli__reply_clear(&r);
		if (!next)
			break;
	}
	pz_free(next);
	if (rc == PZ_OK && c->json) {
		rc = cli__print_json(all);
	} else if (rc == PZ_OK) {
		printf("%-40s %-12s %s\n", "ID", "KIND", "STATUS");
		json_array_foreach(all, i, v) {
			cli__put_safe(str_of(v, "id"), 41);
			printf("%-12s %s\n", str_of(v, "kind"),
			       str_of(v, "status"));
		}
	}
	json_decref(all);
	return rc;
}

struct id_args {
	const char *id;
	json_t *body;
	const char *reason;
	const char *keyfp;
};

static int id_arg(void *ud, int id, const char *val)
{
	static const char *const names[] = {
		[OPT_AE] = "ae_id", [OPT_NODE] = "node_id",
		[OPT_APP] = "app_id", [OPT_OWNER] = "owner"
	};
	struct id_args *a = ud;

	switch (id) {
	case 0:
		return cli__one_arg(&a->id, 0, val);
	case OPT_REASON:
		a->reason = val;
		return PZ_OK;
	case OPT_KEYFP:
		a->keyfp = val;
		return PZ_OK;
	default:
		return json_object_set_new(a->body, names[id],
					   json_string(val)) ?
		       cli__say(PZ_ENOMEM, "out of memory") : PZ_OK;
	}
}

static int id_call(struct cli *c, const char *method, const char *path,
		   const json_t *body, const char *done)
{
	struct reply r;
	int rc;

	cli__reply_init(&r);
	rc = cli__call(c, &(struct call){ .method = method, .path = path,
			.pc = body, .mgmt = true }, &r);
	if (rc == PZ_OK && c->json) {
		rc = cli__print_json(r.doc);
	} else if (rc == PZ_OK) {
		if (done)
			printf("%s %s\n", str_of(r.doc, "id"), done);
		id_print(r.doc);
	}
	cli__reply_clear(&r);
	return rc;
}

int cli__cmd_id(struct cli *c)
{
	static const struct copt add_opts[] = {
		{ "--ae-id", true, OPT_AE }, { "--node-id", true, OPT_NODE },
		{ "--app-id", true, OPT_APP }, { "--owner", true, OPT_OWNER },
		{ "--key-fp", true, OPT_KEYFP }, { NULL, false, 0 }
	};
	static const struct copt end_opts[] = {
		{ "--reason", true, OPT_REASON }, { NULL, false, 0 }
	};
	const char *sub = c->argc > 1 ? c->argv[1] : "";
	struct id_args a = { NULL, json_object(), NULL, NULL };
	bool add = !strcmp(sub, "add"), show = !strcmp(sub, "show");
	bool end = !strcmp(sub, "revoke") || !strcmp(sub, "decommission");
	struct pz_buf p;
	int rc;

	if (!a.body)
		return cli__say(PZ_ENOMEM, "out of memory");
	if (!strcmp(sub, "list")) {
		json_decref(a.body);
		return id_list(c);
	}
	if (!add && !show && !end) {
		json_decref(a.body);
		return cli__usage_error("id needs add, show, list, revoke or "
					"decommission");
	}
	rc = cli__args(c, 2, add ? add_opts : end ? end_opts : NULL, id_arg,
		       &a);
	if (rc == PZ_OK && !a.id)
		rc = cli__usage_error("id %s needs an identifier", sub);
	pz_buf_init(&p, CLI_MAX_URL);
	if (rc == PZ_OK && add) {
		const char *colon = a.keyfp ? strchr(a.keyfp, ':') : NULL;

		json_object_set_new(a.body, "id", json_string(a.id));
		if (a.keyfp && !colon)
			rc = cli__usage_error("--key-fp needs TYPE:sha256:HEX");
		else if (a.keyfp)
			json_object_set_new(a.body, "key", json_pack("{s:s%,s:s}",
				"type", a.keyfp, (size_t)(colon - a.keyfp),
				"fp", colon + 1));
		if (rc == PZ_OK)
			rc = id_call(c, "POST", "/.plaza/ids", a.body,
				     "registered");
	} else if (rc == PZ_OK && show) {
		rc = ids_path(&p, a.id, "");
		if (rc == PZ_OK)
			rc = id_call(c, "GET", p.data, NULL, NULL);
	} else if (rc == PZ_OK) {
		json_t *body = a.reason ? json_pack("{s:s}", "reason",
						    a.reason) : NULL;

		rc = ids_path(&p, a.id, sub[0] == 'r' ? "/revoke" :
			      "/decommission");
		if (rc == PZ_OK)
			rc = id_call(c, "POST", p.data, body, sub[0] == 'r' ?
				     "revoked" : "decommissioned");
		json_decref(body);
	}
	pz_buf_free(&p);
	json_decref(a.body);
	return rc;
}
