/*
 * cmd_ae.c - status (the CSEBase, and whether plazad answers) and the AE
 * commands: ae list, show, register and delete.
 */
#include <stdio.h>
#include <string.h>

#include "plaza/pz_err.h"
#include "cli_int.h"

/* --- status ------------------------------------------------------------- */

/* One "label  value[/more]" line of status. */
static void status_line(const char *label, const char *value,
			const char *more)
{
	printf("%-16s  ", label);
	cli__put_safe(value, 0);
	if (more) {
		putchar('/');
		cli__put_safe(more, 0);
	}
	putchar('\n');
}

/* status: the CSEBase, and whether plazad answered at all. */
int cli__cmd_status(struct cli *c)
{
	struct reply r;
	const json_t *cb, *v;
	struct pz_buf types;
	size_t i;
	int rc;

	cli__reply_init(&r);
	pz_buf_init(&types, 4096);
	rc = c->argc > 1 ? cli__usage_error("status takes no arguments") :
	     cli__get(c, "-", NULL, &r);
	if (rc == PZ_EAGAIN && !c->json)
		printf("%-16s  %s\n%-16s  no\n", "url",
		       c->via ? c->via : c->url, "reachable");
	if (rc != PZ_OK || c->json) {
		if (rc == PZ_OK)
			rc = cli__print_json(r.doc);
		goto out;
	}
	cb = json_object_get(r.doc, "m2m:cb");
	json_array_foreach(json_object_get(cb, "srt"), i, v) {
		const struct ty_row *row =
			cli__ty_by_num(json_integer_value(v));

		pz_buf_addf(&types, "%s%lld %s", i ? ", " : "",
			    (long long)json_integer_value(v),
			    row ? row->name : "?");
	}
	status_line("url", c->via ? c->via : c->url, NULL);
	status_line("reachable", "yes", NULL);
	status_line("CSE-ID", cli__doc_str(r.doc, "csi"), NULL);
	status_line("name", cli__doc_str(r.doc, "rn"), NULL);
	status_line("SP-relative", cli__doc_str(r.doc, "csi"),
		    cli__doc_str(r.doc, "rn"));
	status_line("current time", cli__doc_str(r.doc, "ctm"), NULL);
	status_line("resource types", types.data ? types.data : "", NULL);
	pz_buf_reset(&types);
	rc = cli__value_text(json_object_get(cb, "poa"), &types);
	status_line("points of access", types.data ? types.data : "", NULL);
out:
	pz_buf_free(&types);
	cli__reply_clear(&r);
	return rc;
}

/* --- ae show, delete, list ---------------------------------------------- */

/* The AE at arg (an AE-ID or a path) into r; PZ_EREQ if it is no AE. */
static int ae_fetch(struct cli *c, const char *arg, struct reply *r)
{
	const char *root = NULL;
	int rc = cli__get(c, arg, NULL, r);

	if (rc == PZ_OK && (!cli__doc_root(r->doc, &root) ||
			    strcmp(root, "m2m:ae")))
		rc = cli__say(PZ_EREQ, "%s is not an AE", arg);
	return rc;
}

static int cmd_ae_show(struct cli *c)
{
	const char *arg = NULL;
	struct reply r;
	int rc;

	cli__reply_init(&r);
	rc = cli__args(c, 2, NULL, cli__one_arg, &arg);
	if (rc == PZ_OK && !arg)
		rc = cli__usage_error("ae show needs an AE-ID or PATH");
	if (rc == PZ_OK)
		rc = ae_fetch(c, arg, &r);
	if (rc == PZ_OK)
		rc = cli__print_result(c, r.doc);
	cli__reply_clear(&r);
	return rc;
}

static int cmd_ae_delete(struct cli *c)
{
	struct call call = { .method = "DELETE" };
	struct reply r;
	int rc;

	cli__reply_init(&r);
	rc = cli__args(c, 2, NULL, cli__one_arg, &call.path);
	if (rc == PZ_OK && !call.path)
		rc = cli__usage_error("ae delete needs an AE-ID or PATH");
	if (rc == PZ_OK)
		rc = ae_fetch(c, call.path, &r);  /* never delete a non-AE */
	cli__reply_clear(&r);
	if (rc == PZ_OK)
		rc = cli__call(c, &call, &r);
	if (rc == PZ_OK && !c->json)
		printf("deregistered %s\n", call.path);
	cli__reply_clear(&r);
	return rc;
}

/* Print the AE table (AE-ID, name, App-ID, created) of the list. */
static void ae_table(const json_t *aes)
{
	static const char *const cols[] = { "aei", "rn", "api", "ct" };
	int w[4] = { 5, 4, 6, 7 };  /* the headings' widths */
	const json_t *ae;
	size_t i;

	json_array_foreach(aes, i, ae) {
		for (int k = 0; k < 4; k++) {
			const char *s = json_string_value(json_object_get(
							  ae, cols[k]));
			int n = s ? cli__safe_width(s) : 0;

			w[k] = n > w[k] ? n : w[k];
		}
	}
	printf("%-*s  %-*s  %-*s  %s\n", w[0], "AE-ID", w[1], "NAME", w[2],
	       "APP-ID", "CREATED");
	json_array_foreach(aes, i, ae) {
		for (int k = 0; k < 4; k++) {
			const char *s = json_string_value(json_object_get(
							  ae, cols[k]));

			cli__put_safe(s ? s : "-", k < 3 ? w[k] : 0);
			fputs(k < 3 ? "  " : "\n", stdout);
		}
	}
}

/* Retrieve every discovered AE into aes (an array of their attributes). */
static int ae_collect(struct cli *c, const json_t *uril, json_t *aes)
{
	struct reply r;
	const json_t *v;
	size_t i;
	int rc = PZ_OK;

	json_array_foreach(uril, i, v) {
		cli__reply_init(&r);
		if (json_is_string(v))
			rc = ae_fetch(c, json_string_value(v), &r);
		if (rc == PZ_OK && json_is_string(v) &&
		    json_array_append(aes, cli__doc_root(r.doc, NULL)))
			rc = cli__say(PZ_ENOMEM, "out of memory");
		cli__reply_clear(&r);
		if (rc != PZ_OK)
			break;
	}
	return rc;
}

/* ae list: discover ty=2 below the CSEBase, then retrieve each AE. */
static int cmd_ae_list(struct cli *c)
{
	struct reply r;
	json_t *aes = json_array();
	int rc;

	cli__reply_init(&r);
	rc = !aes ? cli__say(PZ_ENOMEM, "out of memory") :
	     c->argc > 2 ? cli__usage_error("ae list takes no arguments") :
	     cli__get(c, "-", "fu=1&ty=2", &r);
	if (rc == PZ_OK)
		rc = ae_collect(c, json_object_get(r.doc, "m2m:uril"), aes);
	if (rc == PZ_OK && c->json)
		rc = cli__print_json(aes);
	else if (rc == PZ_OK)
		ae_table(aes);
	json_decref(aes);
	cli__reply_clear(&r);
	return rc;
}

/* --- ae register -------------------------------------------------------- */

/* ae register NAME --api APP-ID [--poa URL]... [--ae-id ID] */
struct reg_args {
	const char *name;
	const char *api;
	const char *aei;          /* requested AE-ID, NULL = plazad picks */
	json_t *poa;              /* array, owned */
};

enum { R_API = 1, R_POA, R_AEI };

static const struct copt reg_opts[] = {
	{ "--api", true, R_API }, { "--poa", true, R_POA },
	{ "--ae-id", true, R_AEI }, { NULL, false, 0 },
};

static int reg_arg(void *ud, int id, const char *val)
{
	struct reg_args *a = ud;

	switch (id) {
	case 0:
		return cli__one_arg(&a->name, 0, val);
	case R_API:
		a->api = val;
		return PZ_OK;
	case R_AEI:
		a->aei = val;
		return PZ_OK;
	default:
		if (json_array_append_new(a->poa, json_string(val)))
			return cli__usage_error("--poa '%s' is not UTF-8",
						val);
		return PZ_OK;
	}
}

static int cmd_ae_register(struct cli *c)
{
	struct reg_args a = { .poa = json_array() };
	struct call call = { .method = "POST", .path = "-", .ty = 2,
			     .anonymous = true };
	struct reply r;
	json_t *pc = NULL;
	int rc;

	cli__reply_init(&r);
	rc = a.poa ? cli__args(c, 2, reg_opts, reg_arg, &a) :
	     cli__say(PZ_ENOMEM, "out of memory");
	if (rc == PZ_OK && (!a.name || !a.api))
		rc = cli__usage_error("ae register needs NAME and --api "
				      "APP-ID");
	if (rc != PZ_OK)
		goto out;
	pc = json_pack("{s:{s:s,s:s,s:b,s:[s],s:O}}", "m2m:ae", "rn", a.name,
		       "api", a.api, "rr", json_array_size(a.poa) > 0, "srv",
		       "4", "poa", a.poa);
	if (!pc) {
		rc = cli__usage_error("NAME and APP-ID must be UTF-8");
		goto out;
	}
	if (!json_array_size(a.poa))
		json_object_del(json_object_get(pc, "m2m:ae"), "poa");
	call.pc = pc;
	call.origin = a.aei ? a.aei : "C";
	rc = cli__call(c, &call, &r);
	if (rc == PZ_OK)
		rc = cli__print_created(c, "registered", &r);
	if (rc == PZ_OK && !r.token[0] && !c->json)
		printf("\nplazad issued no token (it trusts X-M2M-Origin).\n");
out:
	json_decref(pc);
	json_decref(a.poa);
	cli__reply_clear(&r);
	return rc;
}

int cli__cmd_ae(struct cli *c)
{
	const char *sub = c->argc > 1 ? c->argv[1] : "";

	if (!strcmp(sub, "list"))
		return cmd_ae_list(c);
	if (!strcmp(sub, "show"))
		return cmd_ae_show(c);
	if (!strcmp(sub, "delete"))
		return cmd_ae_delete(c);
	if (!strcmp(sub, "register"))
		return cmd_ae_register(c);
	return cli__usage_error("ae needs list, show, register or delete");
}
