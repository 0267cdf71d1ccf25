/*
 * cmd_psk.c - DTLS pre-shared keys through plazad's management interface
 * (admin only): psk add, psk list, psk revoke.  A key plazad generates is
 * printed once, when it is made; plazad never gives a key back later.
 */
#include <stdio.h>
#include <string.h>

#include "plaza/pz_buf.h"
#include "plaza/pz_err.h"
#include "cli_int.h"

enum { PSK_ORIG = 1, PSK_KEY };

/* Member k of object o as a string, "" when absent. */
static const char *obj_str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static const struct copt psk_add_opts[] = {
	{ "--originator", true, PSK_ORIG },
	{ "--key", true, PSK_KEY },
	{ NULL, false, 0 }
};

struct psk_add_args {
	const char *identity;
	const char *orig;
	const char *key;
};

static int psk_add_arg(void *ud, int id, const char *val)
{
	struct psk_add_args *a = ud;

	switch (id) {
	case 0: return cli__one_arg(&a->identity, 0, val);
	case PSK_ORIG: a->orig = val; return PZ_OK;
	default: a->key = val; return PZ_OK;
	}
}

static int psk_add(struct cli *c)
{
	struct psk_add_args a = { NULL, NULL, NULL };
	struct call call = { .method = "POST", .path = "/.plaza/psk",
			     .mgmt = true };
	struct reply r;
	json_t *body;
	const char *key;
	int rc;

	rc = cli__args(c, 2, psk_add_opts, psk_add_arg, &a);
	if (rc != PZ_OK)
		return rc;
	if (!a.identity)
		return cli__usage_error("psk add needs an IDENTITY");
	body = json_pack("{s:s}", "identity", a.identity);
	if (body && a.orig)
		json_object_set_new(body, "originator", json_string(a.orig));
	if (body && a.key)
		json_object_set_new(body, "key", json_string(a.key));
	if (!body)
		return cli__say(PZ_ENOMEM, "out of memory");
	call.pc = body;
	cli__reply_init(&r);
	rc = cli__call(c, &call, &r);
	json_decref(body);
	if (rc == PZ_OK && c->json) {
		rc = cli__print_json(r.doc);
	} else if (rc == PZ_OK) {
		printf("identity %s added for originator %s\n", a.identity,
		       obj_str(r.doc, "originator"));
		key = obj_str(r.doc, "key");
		if (*key)
			printf("key %s\n(shown once: give it to the device "
			       "now; plazad will not show it again)\n", key);
	}
	cli__reply_clear(&r);
	return rc;
}

static int psk_list(struct cli *c)
{
	struct reply r;
	json_t *list, *v;
	size_t i;
	int rc, w = 8;

	rc = cli__args(c, 2, NULL, cli__no_arg, NULL);
	if (rc != PZ_OK)
		return rc;
	cli__reply_init(&r);
	rc = cli__call(c, &(struct call){ .method = "GET",
			.path = "/.plaza/psk", .mgmt = true }, &r);
	if (rc != PZ_OK || c->json) {
		if (rc == PZ_OK)
			rc = cli__print_json(r.doc);
		cli__reply_clear(&r);
		return rc;
	}
	list = json_object_get(r.doc, "psk");
	json_array_foreach(list, i, v) {
		int n = cli__safe_width(obj_str(v, "identity"));

		if (n > w)
			w = n;
	}
	cli__put_safe("IDENTITY", w + 2);
	printf("%-16s %s\n", "ORIGINATOR", "CREATED");
	json_array_foreach(list, i, v) {
		cli__put_safe(obj_str(v, "identity"), w + 2);
		cli__put_safe(obj_str(v, "originator"), 17);
		cli__put_safe(obj_str(v, "created"), 0);
		putchar('\n');
	}
	cli__reply_clear(&r);
	return PZ_OK;
}

static int psk_revoke(struct cli *c)
{
	const char *identity = NULL;
	int rc;

	rc = cli__args(c, 2, NULL, cli__one_arg, &identity);
	if (rc != PZ_OK)
		return rc;
	if (!identity)
		return cli__usage_error("psk revoke needs an IDENTITY");
	return cli__mgmt_delete(c, "/.plaza/psk/", identity, "identity",
				"revoked");
}

int cli__cmd_psk(struct cli *c)
{
	const char *sub = c->argc > 1 ? c->argv[1] : "";

	if (!strcmp(sub, "add"))
		return psk_add(c);
	if (!strcmp(sub, "list"))
		return psk_list(c);
	if (!strcmp(sub, "revoke"))
		return psk_revoke(c);
	return cli__usage_error("psk needs add, list or revoke");
}
