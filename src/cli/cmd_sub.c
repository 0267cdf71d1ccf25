/*
 * cmd_sub.c - the BSF's subscribers through plazad's management interface
 * (admin only): subscriber add, subscriber list, subscriber remove.  K and
 * OPc go to plazad once, when the subscriber is added; plazad never gives
 * them back, and nothing here prints them.
 */
#include <stdio.h>
#include <string.h>

#include "plaza/pz_buf.h"
#include "plaza/pz_err.h"
#include "cli_int.h"

enum { SUB_K = 1, SUB_OPC, SUB_SQN, SUB_AMF, SUB_DEVICE };

static const char *sub_str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static const struct copt sub_add_opts[] = {
	{ "--k", true, SUB_K },
	{ "--opc", true, SUB_OPC },
	{ "--sqn", true, SUB_SQN },
	{ "--amf", true, SUB_AMF },
	{ "--device", true, SUB_DEVICE },
	{ NULL, false, 0 }
};

struct sub_add_args {
	const char *impi;
	const char *k, *opc, *sqn, *amf, *device;
};

static int sub_add_arg(void *ud, int id, const char *val)
{
	struct sub_add_args *a = ud;

	switch (id) {
	case 0: return cli__one_arg(&a->impi, 0, val);
	case SUB_K: a->k = val; return PZ_OK;
	case SUB_OPC: a->opc = val; return PZ_OK;
	case SUB_SQN: a->sqn = val; return PZ_OK;
	case SUB_AMF: a->amf = val; return PZ_OK;
	default: a->device = val; return PZ_OK;
	}
}

/* A decimal SQN of at most 15 digits (2^48 has 15) into *v. */
static bool sub_sqn(const char *s, json_int_t *v)
{
	size_t n = strlen(s);

	if (n == 0 || n > 15 || strspn(s, "0123456789") != n)
		return false;
	*v = 0;
	for (; *s; s++)
		*v = *v * 10 + (*s - '0');
	return true;
}

static int sub_add(struct cli *c)
{
	struct sub_add_args a = { 0 };
	struct call call = { .method = "POST", .path = "/.plaza/subscribers",
			     .mgmt = true };
	struct reply r;
	json_int_t sqn = 0;
	json_t *body;
	int rc;

	rc = cli__args(c, 2, sub_add_opts, sub_add_arg, &a);
	if (rc != PZ_OK)
		return rc;
	if (!a.impi || !a.k || !a.opc)
		return cli__usage_error("subscriber add needs an IMPI, --k HEX "
					"and --opc HEX");
	if (a.sqn && !sub_sqn(a.sqn, &sqn))
		return cli__usage_error("--sqn takes a decimal number");
	body = json_pack("{s:s,s:s,s:s}", "impi", a.impi, "k", a.k, "opc",
			 a.opc);
	if (body && a.sqn)
		json_object_set_new(body, "sqn", json_integer(sqn));
	if (body && a.amf)
		json_object_set_new(body, "amf", json_string(a.amf));
	if (body && a.device)
		json_object_set_new(body, "device", json_string(a.device));
	if (!body)
		return cli__say(PZ_ENOMEM, "out of memory");
	call.pc = body;
	cli__reply_init(&r);
	rc = cli__call(c, &call, &r);
	json_decref(body);
	if (rc == PZ_OK)
		rc = c->json ? cli__print_json(r.doc) :
		     (printf("subscriber %s added\n", a.impi), PZ_OK);
	cli__reply_clear(&r);
	return rc;
}

static int sub_list(struct cli *c)
{
	struct reply r;
	json_t *list, *v;
	size_t i;
	int rc, w = 6;

	rc = cli__args(c, 2, NULL, cli__no_arg, NULL);
	if (rc != PZ_OK)
		return rc;
	cli__reply_init(&r);
	rc = cli__call(c, &(struct call){ .method = "GET",
			.path = "/.plaza/subscribers", .mgmt = true }, &r);
	if (rc != PZ_OK || c->json) {
		if (rc == PZ_OK)
			rc = cli__print_json(r.doc);
		cli__reply_clear(&r);
		return rc;
	}
	list = json_object_get(r.doc, "subscribers");
	json_array_foreach(list, i, v) {
		int n = cli__safe_width(sub_str(v, "impi"));

		if (n > w)
			w = n;
	}
	cli__put_safe("IMPI", w + 2);
	printf("%-16s %-5s %-16s %s\n", "SQN", "AMF", "CREATED", "DEVICE");
	json_array_foreach(list, i, v) {
		cli__put_safe(sub_str(v, "impi"), w + 2);
		printf("%-16lld ", (long long)json_integer_value(
		       json_object_get(v, "sqn")));
		cli__put_safe(sub_str(v, "amf"), 6);
		cli__put_safe(sub_str(v, "created"), 17);
		cli__put_safe(sub_str(v, "device"), 0);
		putchar('\n');
	}
	cli__reply_clear(&r);
	return PZ_OK;
}

static int sub_remove(struct cli *c)
{
	const char *impi = NULL;
	int rc;

	rc = cli__args(c, 2, NULL, cli__one_arg, &impi);
	if (rc != PZ_OK)
		return rc;
	if (!impi)
		return cli__usage_error("subscriber remove needs an IMPI");
	return cli__mgmt_delete(c, "/.plaza/subscribers/", impi,
				"subscriber", "removed");
}

int cli__cmd_sub(struct cli *c)
{
	const char *sub = c->argc > 1 ? c->argv[1] : "";

	if (!strcmp(sub, "add"))
		return sub_add(c);
	if (!strcmp(sub, "list"))
		return sub_list(c);
	if (!strcmp(sub, "remove"))
		return sub_remove(c);
	return cli__usage_error("subscriber needs add, list or remove");
}
