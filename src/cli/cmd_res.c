/*
 * cmd_res.c - the resource commands: get, create, update, delete and
 * discover, and the content create and update send (NAME=VALUE arguments,
 * a JSON document from a file or stdin, or both).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "plaza/pz_err.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_time.h"
#include "cli_int.h"

#define CLI_MAX_DOC ((size_t)16 << 20)   /* largest --file document */

/* --- content ------------------------------------------------------------ */

/* doc_read - the JSON document in file src ("-" = stdin) into *out
 * (caller decrefs).  PZ_OK, PZ_EINVAL (unreadable or malformed, reported),
 * PZ_ENOMEM. */
static int doc_read(const char *src, json_t **out)
{
	FILE *f = strcmp(src, "-") ? fopen(src, "r") : stdin;
	struct pz_buf b;
	json_error_t je;
	char chunk[8192];
	size_t n;
	int rc = PZ_OK;

	pz_buf_init(&b, CLI_MAX_DOC);
	if (!f)
		return cli__usage_error("cannot read %s: %s", src,
					strerror(errno));
	while (rc == PZ_OK && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = pz_buf_add(&b, chunk, n);
	if (rc != PZ_OK || ferror(f)) {
		rc = cli__usage_error("cannot read %s: %s", src,
				      rc == PZ_ETOOBIG ? "larger than 16 MiB" :
				      "read error");
		goto out;
	}
	*out = json_loadb(b.data ? b.data : "", b.len,
			  JSON_REJECT_DUPLICATES, &je);
	if (!*out)
		rc = cli__usage_error("%s:%d:%d: %s", strcmp(src, "-") ? src :
				      "stdin", je.line, je.column, je.text);
out:
	if (f != stdin)
		fclose(f);
	pz_buf_free(&b);
	return rc;
}

/* attr_set - apply "name=value" to obj: value as JSON if it parses, else
 * as a string.  PZ_OK, PZ_EINVAL (reported), PZ_ENOMEM. */
static int attr_set(json_t *obj, const char *kv)
{
	const char *eq = strchr(kv, '=');
	json_t *v;
	char *name;
	int rc = PZ_OK;

	if (!eq || eq == kv)
		return cli__usage_error("expected NAME=VALUE, not '%s'", kv);
	v = json_loads(eq + 1, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
	if (!v)
		v = json_string(eq + 1);
	if (!v)
		return cli__usage_error("the value of '%s' is not UTF-8", kv);
	name = pz_strndup(kv, (size_t)(eq - kv));
	if (!name || json_object_set_new(obj, name, v))
		rc = cli__say(PZ_ENOMEM, "out of memory");
	pz_free(name);
	return rc;
}

/* What create and update were given: a document, attributes, or both. */
struct content_in {
	const char *file;         /* --file F or "-" */
	const char **kv;          /* NAME=VALUE arguments (borrowed) */
	int nkv;
};

/*
 * content_build - the content {"root": {...}}: the document (wrapped in
 * root unless it already has a single "ns:name" member) with the
 * NAME=VALUE attributes applied on top.  root may be NULL when the
 * document brings its own.  *out is the caller's (decref).  PZ_OK,
 * PZ_EINVAL (reported), PZ_ENOMEM.
 */
static int content_build(const struct content_in *in, const char *root,
			 json_t *doc, json_t **out)
{
	const char *own = NULL;
	json_t *attrs;
	int rc = PZ_OK;

	attrs = cli__doc_root(doc, &own);
	if (attrs && strchr(own, ':'))
		root = own;
	else
		attrs = doc;
	if (attrs && !json_is_object(attrs))
		return cli__usage_error("the content must be a JSON object");
	if (!root)
		return cli__usage_error("cannot tell the resource's type: wrap "
					"the document in its root, e.g. "
					"{\"m2m:cnt\": {...}}");
	/* The content shares attrs with doc (both the caller's to drop). */
	*out = attrs ? json_pack("{s:O}", root, attrs) :
	       json_pack("{s:{}}", root);
	if (!*out)
		return cli__say(PZ_ENOMEM, "out of memory");
	for (int i = 0; i < in->nkv && rc == PZ_OK; i++)
		rc = attr_set(json_object_get(*out, root), in->kv[i]);
	return rc;
}

/* content_doc - the --file document, NULL when none.  Its root, when it
 * has one, in *root.  PZ_OK, PZ_EINVAL, PZ_ENOMEM. */
static int content_doc(const struct content_in *in, json_t **doc,
		       const char **root)
{
	const json_t *attrs;
	const char *own = NULL;
	int rc;

	*doc = NULL;
	*root = NULL;
	if (!in->file)
		return PZ_OK;
	rc = doc_read(in->file, doc);
	if (rc != PZ_OK)
		return rc;
	if (!json_is_object(*doc))
		return cli__usage_error("the content must be a JSON object");
	attrs = cli__doc_root(*doc, &own);
	if (attrs && strchr(own, ':'))
		*root = own;
	return PZ_OK;
}

/* Positional arguments and options shared by create and update. */
struct write_args {
	const char *pos[2];       /* PATH, TYPE (create) */
	int npos, maxpos;
	struct content_in in;
};

enum { OPT_FILE = 1 };

static const struct copt write_opts[] = {
	{ "--file", true, OPT_FILE },
	{ NULL, false, 0 },
};

static int write_arg(void *ud, int id, const char *val)
{
	struct write_args *w = ud;

	/* "-" is stdin once the addresses are in ("create - ae" creates
	 * below the CSEBase). */
	if (id == OPT_FILE || (w->npos == w->maxpos && !strcmp(val, "-"))) {
		if (w->in.file)
			return cli__usage_error("give one document (--file "
						"or -)");
		w->in.file = val;
	} else if (w->npos < w->maxpos) {
		w->pos[w->npos++] = val;
	} else {
		w->in.kv[w->in.nkv++] = val;
	}
	return PZ_OK;
}

/* Parse create/update arguments; w->in.kv is allocated (pz_free). */
static int write_parse(const struct cli *c, struct write_args *w, int maxpos)
{
	memset(w, 0, sizeof(*w));
	w->maxpos = maxpos;
	w->in.kv = pz_calloc((size_t)c->argc + 1, sizeof(*w->in.kv));
	if (!w->in.kv)
		return cli__say(PZ_ENOMEM, "out of memory");
	return cli__args(c, 1, write_opts, write_arg, w);
}

/* --- create, update, get, delete ---------------------------------------- */

/* create PATH TYPE [K=V]... [--file F|-] */
int cli__cmd_create(struct cli *c)
{
	struct write_args w;
	struct reply r;
	struct call call = { .method = "POST" };
	const struct ty_row *row = NULL;
	const char *root;
	json_t *doc = NULL, *pc = NULL;
	int rc;

	cli__reply_init(&r);
	rc = write_parse(c, &w, 2);
	if (rc == PZ_OK && w.npos < 2)
		rc = cli__usage_error("create needs PATH and TYPE");
	if (rc == PZ_OK)
		rc = cli__ty_parse(w.pos[1], &call.ty, &row);
	if (rc == PZ_OK)
		rc = content_doc(&w.in, &doc, &root);
	if (rc == PZ_OK)
		rc = content_build(&w.in, row ? row->root : NULL, doc, &pc);
	if (rc != PZ_OK)
		goto out;
	call.path = w.pos[0];
	call.pc = pc;
	rc = cli__call(c, &call, &r);
	if (rc != PZ_OK)
		goto out;
	rc = cli__print_created(c, "created", &r);
out:
	json_decref(pc);
	json_decref(doc);
	pz_free(w.in.kv);
	cli__reply_clear(&r);
	return rc;
}

/* The root of the resource at path, for an update without one: retrieved.
 * *root points into *held (caller decrefs). */
static int update_root(struct cli *c, const char *path, json_t **held,
		       const char **root)
{
	struct reply r;
	int rc;

	cli__reply_init(&r);
	rc = cli__get(c, path, NULL, &r);
	if (rc == PZ_OK && !cli__doc_root(r.doc, root))
		rc = cli__say(PZ_EIO, "cannot tell the type of %s", path);
	if (rc == PZ_OK)
		*held = json_incref(r.doc);
	cli__reply_clear(&r);
	return rc;
}

/* update PATH [K=V]... [--file F|-] */
int cli__cmd_update(struct cli *c)
{
	struct write_args w;
	struct reply r;
	struct call call = { .method = "PUT" };
	const char *root = NULL;
	json_t *doc = NULL, *pc = NULL, *held = NULL;
	int rc;

	cli__reply_init(&r);
	rc = write_parse(c, &w, 1);
	if (rc == PZ_OK && w.npos < 1)
		rc = cli__usage_error("update needs PATH");
	if (rc == PZ_OK && !w.in.file && !w.in.nkv)
		rc = cli__usage_error("update needs NAME=VALUE or a document");
	if (rc == PZ_OK)
		rc = content_doc(&w.in, &doc, &root);
	if (rc == PZ_OK && !root)
		rc = update_root(c, w.pos[0], &held, &root);
	if (rc == PZ_OK)
		rc = content_build(&w.in, root, doc, &pc);
	if (rc != PZ_OK)
		goto out;
	call.path = w.pos[0];
	call.pc = pc;
	rc = cli__call(c, &call, &r);
	if (rc == PZ_OK)
		rc = cli__print_result(c, r.doc);
out:
	json_decref(pc);
	json_decref(doc);
	json_decref(held);
	pz_free(w.in.kv);
	cli__reply_clear(&r);
	return rc;
}

/* get PATH [--rcn N] [--param K=V]... */
struct get_args {
	const char *path;
	struct pz_buf query;
};

enum { OPT_RCN = 1, OPT_PARAM };

static const struct copt get_opts[] = {
	{ "--rcn", true, OPT_RCN },
	{ "--param", true, OPT_PARAM },
	{ NULL, false, 0 },
};

static int get_arg(void *ud, int id, const char *val)
{
	struct get_args *g = ud;
	long long n;
	int rc;

	switch (id) {
	case 0:
		if (g->path)
			return cli__usage_error("unexpected argument '%s'",
						val);
		g->path = val;
		return PZ_OK;
	case OPT_RCN:
		rc = cli__arg_int("--rcn", val, 0, 12, &n);
		return rc == PZ_OK ? cli__query_add(&g->query, "rcn", val) :
		       rc;
	default:
		return cli__query_kv(&g->query, "--param", val);
	}
}

int cli__cmd_get(struct cli *c)
{
	struct get_args g = { NULL, { 0 } };
	struct reply r;
	int rc;

	cli__reply_init(&r);
	pz_buf_init(&g.query, CLI_MAX_URL);
	rc = cli__args(c, 1, get_opts, get_arg, &g);
	if (rc == PZ_OK && !g.path)
		rc = cli__usage_error("get needs PATH");
	if (rc == PZ_OK)
		rc = cli__get(c, g.path, g.query.data, &r);
	if (rc == PZ_OK)
		rc = cli__print_result(c, r.doc);
	pz_buf_free(&g.query);
	cli__reply_clear(&r);
	return rc;
}

/* delete PATH */
int cli__cmd_delete(struct cli *c)
{
	struct call call = { .method = "DELETE" };
	struct reply r;
	int rc;

	cli__reply_init(&r);
	rc = cli__args(c, 1, NULL, cli__one_arg, &call.path);
	if (rc == PZ_OK && !call.path)
		rc = cli__usage_error("delete needs PATH");
	if (rc == PZ_OK)
		rc = cli__call(c, &call, &r);
	if (rc == PZ_OK && c->json)
		rc = cli__print_json(r.doc);
	else if (rc == PZ_OK)
		printf("deleted %s\n", call.path);
	cli__reply_clear(&r);
	return rc;
}

/* --- discover ----------------------------------------------------------- */

enum { D_TYPE = 1, D_LABEL, D_LIMIT, D_OFFSET, D_LEVEL, D_OR, D_CRA, D_CRB,
       D_MS, D_US, D_EXA, D_EXB, D_CTY, D_ATTR, D_UNSTRUCT, D_PARAM };

static const struct copt disc_opts[] = {
	{ "--type", true, D_TYPE }, { "--label", true, D_LABEL },
	{ "--limit", true, D_LIMIT }, { "--offset", true, D_OFFSET },
	{ "--level", true, D_LEVEL }, { "--or", false, D_OR },
	{ "--created-after", true, D_CRA }, { "--created-before", true, D_CRB },
	{ "--modified-since", true, D_MS },
	{ "--unmodified-since", true, D_US },
	{ "--expires-after", true, D_EXA }, { "--expires-before", true, D_EXB },
	{ "--content-type", true, D_CTY }, { "--attr", true, D_ATTR },
	{ "--unstructured", false, D_UNSTRUCT }, { "--param", true, D_PARAM },
	{ NULL, false, 0 },
};

/* Query parameter names by option id; NULL for the special ones. */
static const char *const disc_param[] = {
	[D_LABEL] = "lbl", [D_LIMIT] = "lim", [D_OFFSET] = "ofst",
	[D_LEVEL] = "lvl", [D_CRA] = "cra", [D_CRB] = "crb", [D_MS] = "ms",
	[D_US] = "us", [D_EXA] = "exa", [D_EXB] = "exb", [D_CTY] = "cty",
};

static int disc_arg(void *ud, int id, const char *val)
{
	struct get_args *g = ud;
	const struct ty_row *row;
	char num[16];
	long long n;
	int64_t t;
	int ty;

	switch (id) {
	case 0:
		return get_arg(ud, 0, val);
	case D_TYPE:
		if (cli__ty_parse(val, &ty, &row) != PZ_OK)
			return PZ_EINVAL;
		snprintf(num, sizeof(num), "%d", ty);
		return cli__query_add(&g->query, "ty", num);
	case D_LIMIT: case D_OFFSET: case D_LEVEL:
		if (cli__arg_int(id == D_LIMIT ? "--limit" : id == D_OFFSET ?
				 "--offset" : "--level", val, id == D_LEVEL,
				 1000000000, &n) != PZ_OK)
			return PZ_EINVAL;
		break;
	case D_CRA: case D_CRB: case D_MS: case D_US: case D_EXA: case D_EXB:
		if (pz_time_parse(val, &t) != PZ_OK)
			return cli__usage_error("'%s' is not a timestamp "
						"(YYYYMMDDTHHMMSS)", val);
		break;
	case D_OR:
		return cli__query_add(&g->query, "fo", "2");
	case D_UNSTRUCT:
		return cli__query_add(&g->query, "drt", "2");
	case D_ATTR:
		return cli__query_kv(&g->query, "--attr", val);
	case D_PARAM:
		return cli__query_kv(&g->query, "--param", val);
	}
	return cli__query_add(&g->query, disc_param[id], val);
}

/* discover PATH [filters] */
int cli__cmd_discover(struct cli *c)
{
	struct get_args g = { NULL, { 0 } };
	struct reply r;
	const json_t *v;
	size_t i;
	int rc;

	cli__reply_init(&r);
	pz_buf_init(&g.query, CLI_MAX_URL);
	rc = cli__query_add(&g.query, "fu", "1");
	if (rc == PZ_OK)
		rc = cli__args(c, 1, disc_opts, disc_arg, &g);
	if (rc == PZ_OK && !g.path)
		rc = cli__usage_error("discover needs PATH");
	if (rc == PZ_OK)
		rc = cli__get(c, g.path, g.query.data, &r);
	if (rc == PZ_OK && c->json) {
		rc = cli__print_json(r.doc);
	} else if (rc == PZ_OK) {
		json_array_foreach(json_object_get(r.doc, "m2m:uril"), i, v) {
			cli__put_safe(json_string_value(v) ?
				      json_string_value(v) : "", 0);
			putchar('\n');
		}
	}
	pz_buf_free(&g.query);
	cli__reply_clear(&r);
	return rc;
}
