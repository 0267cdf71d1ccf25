/*
 * acp.c - access control: accessControlPolicy evaluation and the default
 * rules for resources without policies.
 *
 * The decision for an operation on the end of a target chain:
 *   1. the admin originator may do everything;
 *   2. an <ACP> is governed by its own self-privileges (pvs);
 *   3. registered AEs may retrieve and discover the CSEBase;
 *   4. otherwise the nearest resource in the chain that can carry
 *      accessControlPolicyIDs decides (a contentInstance defers to its
 *      container): with acpi set, any referenced policy granting the
 *      operation allows it; without, only the resource's creator may act.
 * A policy rule grants when an acor entry names the originator ("all", the
 * exact ID in any scope, or a '*' pattern), acop has the operation's bit,
 * and, if acco is given, one of its contexts (time windows actw, client
 * addresses acip) holds.  Unsupported contexts (location) never hold.
 */
#include <arpa/inet.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plaza/pz_err.h"
#include "plaza/pz_log.h"
#include "plaza/pz_time.h"
#include "core_int.h"

/* --- acco: time windows (actw) ----------------------------------------- */

/* Does value v match one cron field ("*", "5", "1-5", "*\/15", "1,3")? */
static bool cron_field(const char *f, size_t n, int v)
{
	const char *p = f, *end = f + n;

	while (p < end) {
		const char *item_end = memchr(p, ',', (size_t)(end - p));
		int lo, hi, step = 1;
		char item[32];
		size_t len;

		if (!item_end)
			item_end = end;
		len = (size_t)(item_end - p);
		if (len == 0 || len >= sizeof(item))
			return false;
		memcpy(item, p, len);
		item[len] = '\0';
		char *slash = strchr(item, '/');

		if (slash) {
			*slash = '\0';
			step = atoi(slash + 1);
			if (step <= 0)
				return false;
		}
		if (!strcmp(item, "*")) {
			lo = 0;
			hi = 1 << 20;
		} else if (sscanf(item, "%d-%d", &lo, &hi) != 2) {
			if (sscanf(item, "%d", &lo) != 1)
				return false;
			hi = slash ? 1 << 20 : lo;
		}
		if (v >= lo && v <= hi && (v - lo) % step == 0)
			return true;
		p = item_end + (item_end < end);
	}
	return false;
}

/* actw: "sec min hour day-of-month month day-of-week" (day 0 = Sunday). */
static bool actw_matches(const char *cron, int64_t now)
{
	time_t sec = (time_t)(now / 1000000);
	struct tm tm;
	int vals[6];
	const char *p = cron;

	gmtime_r(&sec, &tm);
	vals[0] = tm.tm_sec;
	vals[1] = tm.tm_min;
	vals[2] = tm.tm_hour;
	vals[3] = tm.tm_mday;
	vals[4] = tm.tm_mon + 1;
	vals[5] = tm.tm_wday;
	for (int i = 0; i < 6; i++) {
		size_t n;

		while (*p == ' ')
			p++;
		n = strcspn(p, " ");
		if (n == 0 || !cron_field(p, n, vals[i]))
			return false;
		p += n;
	}
	while (*p == ' ')
		p++;
	return *p == '\0';
}

/* --- acco: client addresses (acip) ------------------------------------- */

/* The peer's address without port: "1.2.3.4:80" or "[::1]:80". */
static bool peer_addr(const char *peer, char *out, size_t len)
{
	const char *end;
	size_t n;

	if (!peer)
		return false;
	if (*peer == '[') {
		end = strchr(peer, ']');
		if (!end)
			return false;
		peer++;
	} else {
		end = strrchr(peer, ':');
		if (!end)
			end = peer + strlen(peer);
	}
	n = (size_t)(end - peer);
	if (n == 0 || n >= len)
		return false;
	memcpy(out, peer, n);
	out[n] = '\0';
	return true;
}

/* Is addr inside "net/bits" (or equal to a plain address)? */
static bool cidr_contains(int af, const char *cidr, const char *addr)
{
	unsigned char a[16], n[16];
	char net[64];
	const char *slash = strchr(cidr, '/');
	int bits = af == AF_INET ? 32 : 128, len = af == AF_INET ? 4 : 16;
	size_t nl = slash ? (size_t)(slash - cidr) : strlen(cidr);

	if (nl >= sizeof(net))
		return false;
	memcpy(net, cidr, nl);
	net[nl] = '\0';
	if (slash)
		bits = atoi(slash + 1);
	if (bits < 0 || bits > len * 8 || inet_pton(af, net, n) != 1 ||
	    inet_pton(af, addr, a) != 1)
		return false;
	for (int i = 0; i < len && bits > 0; i++, bits -= 8) {
		unsigned char mask = bits >= 8 ? 0xff :
				     (unsigned char)(0xff << (8 - bits));

		if ((a[i] & mask) != (n[i] & mask))
			return false;
	}
	return true;
}

static bool acip_matches(struct core_ctx *c, json_t *acip)
{
	char addr[64];
	json_t *list, *v;
	size_t i;
	int af;

	if (!peer_addr(c->req->peer, addr, sizeof(addr)))
		return false;
	af = strchr(addr, ':') ? AF_INET6 : AF_INET;
	list = json_object_get(acip, af == AF_INET ? "ipv4" : "ipv6");
	json_array_foreach(list, i, v) {
		const char *s = json_string_value(v);

		if (s && cidr_contains(af, s, addr))
			return true;
	}
	return false;
}

/* One acco context holds when each of its parts holds. */
static bool context_holds(struct core_ctx *c, json_t *ctx)
{
	json_t *actw = json_object_get(ctx, "actw");
	json_t *acip = json_object_get(ctx, "acip");
	json_t *v;
	size_t i;
	bool any;

	if (!json_is_object(ctx) || json_object_get(ctx, "aclr"))
		return false;
	if (actw) {
		any = false;
		json_array_foreach(actw, i, v)
			any |= json_is_string(v) &&
			       actw_matches(json_string_value(v), c->now);
		if (!any)
			return false;
	}
	if (acip && !acip_matches(c, acip))
		return false;
	return true;
}

/* --- rules ------------------------------------------------------------- */

static bool acor_matches(struct core_ctx *c, json_t *acor)
{
	const char *orig = c->orig;
	size_t i;
	json_t *v;

	json_array_foreach(acor, i, v) {
		const char *s = json_string_value(v);

		if (!s)
			continue;
		if (!strcmp(s, "all"))
			return true;
		if (!orig)
			continue;
		/* "/plaza-in/Cae1" and "//sp/plaza-in/Cae1" name "Cae1". */
		s = pz_core__local(c->core, s);
		if (!strcmp(s, orig))
			return true;
		if (strchr(s, '*') && fnmatch(s, orig, 0) == 0)
			return true;
	}
	return false;
}

static bool pv_grants(struct core_ctx *c, json_t *pv, int op)
{
	json_t *acr = json_object_get(pv, "acr"), *rule, *acco, *ctx;
	size_t i, k;
	bool held;

	json_array_foreach(acr, i, rule) {
		json_int_t acop = json_integer_value(
			json_object_get(rule, "acop"));

		if (!(acop & op) ||
		    !acor_matches(c, json_object_get(rule, "acor")))
			continue;
		acco = json_object_get(rule, "acco");
		if (!acco || json_array_size(acco) == 0)
			return true;
		held = false;
		json_array_foreach(acco, k, ctx)
			held |= context_holds(c, ctx);
		if (held)
			return true;
	}
	return false;
}

bool pz_core__acpi_grants(struct core_ctx *c, json_t *acpi, int op)
{
	struct pz_res acp;
	json_t *v, *doc;
	size_t i;
	bool ok = false;

	pz_res_init(&acp);
	json_array_foreach(acpi, i, v) {
		const char *ri = json_string_value(v);

		if (!ri)
			continue;
		ri = pz_core__local(c->core, ri);
		if (pz_core__find_ri(c->core, ri, &acp) != PZ_OK)
			continue;  /* a dangling reference grants nothing */
		doc = acp.ty == PZ_TY_ACP ? pz_res_doc(&acp) : NULL;
		ok = doc && pv_grants(c, json_object_get(doc, "pv"), op);
		pz_res_clear(&acp);
		if (ok)
			break;
	}
	return ok;
}

static bool acp_is_registered_ae(struct core_ctx *c)
{
	struct pz_res ae;
	bool ok;

	if (!c->orig)
		return false;
	pz_res_init(&ae);
	ok = pz_store_get_ri(c->core->store, c->orig, &ae) == PZ_OK &&
	     ae.ty == PZ_TY_AE;
	pz_res_clear(&ae);
	return ok;
}

bool pz_core__allowed(struct core_ctx *c, struct core_target *t, int op,
		      int child_ty)
{
	struct pz_res *r = &t->chain[t->n - 1];
	json_t *doc, *acpi;

	if (c->admin || c->req->internal)
		return true;
	if (op == PZ_ACOP_CREATE && child_ty == PZ_TY_AE && r->ty == PZ_TY_CB)
		return true;  /* registration has its own rules (ae.c) */
	if (r->ty == PZ_TY_ACP) {
		doc = pz_res_doc(r);
		return doc && pv_grants(c, json_object_get(doc, "pvs"), op);
	}
	if (r->ty == PZ_TY_CB &&
	    (op == PZ_ACOP_RETRIEVE || op == PZ_ACOP_DISCOVER) &&
	    acp_is_registered_ae(c))
		return true;
	for (int i = t->n - 1; i >= 0; i--) {
		struct pz_res *g = &t->chain[i];
		const struct core_type *type = pz_core__type(g->ty);

		if (type && !type->has_acpi)
			continue;
		doc = pz_res_doc(g);
		acpi = doc ? json_object_get(doc, "acpi") : NULL;
		if (json_array_size(acpi) > 0)
			return pz_core__acpi_grants(c, acpi, op);
		return g->org && c->orig && !strcmp(g->org, c->orig);
	}
	return false;
}

/* --- validation of policies -------------------------------------------- */

static int acp_bad(struct core_ctx *c, const char *name, const char *why)
{
	return pz_core__fail(c, PZ_RSC_BAD_REQUEST, "invalid %s: %s", name,
			     why);
}

static int check_context(struct core_ctx *c, const char *name, json_t *ctx)
{
	json_t *v, *list;
	const char *k;
	size_t i;

	if (!json_is_object(ctx))
		return acp_bad(c, name, "each acco entry must be an object");
	json_object_foreach(ctx, k, v) {
		if (!strcmp(k, "actw")) {
			if (!json_is_array(v))
				return acp_bad(c, name, "actw must be a list");
			json_array_foreach(v, i, list) {
				if (!json_is_string(list))
					return acp_bad(c, name,
						"actw entries are strings");
			}
		} else if (!strcmp(k, "acip")) {
			if (!json_is_object(v))
				return acp_bad(c, name, "acip must be an object");
			json_object_foreach(v, k, list) {
				if ((strcmp(k, "ipv4") && strcmp(k, "ipv6")) ||
				    !json_is_array(list))
					return acp_bad(c, name,
						"acip has lists ipv4 and ipv6");
			}
		} else if (!strcmp(k, "aclr")) {
			continue;  /* accepted; never holds (no location) */
		} else {
			return acp_bad(c, name, "unknown acco context");
		}
	}
	return PZ_OK;
}

int pz_core__check_pv(struct core_ctx *c, json_t *pv, const char *name)
{
	json_t *acr, *rule, *acor, *acop, *acco, *v;
	const char *k;
	size_t i, j;

	if (!json_is_object(pv))
		return acp_bad(c, name, "must be an object with 'acr'");
	json_object_foreach(pv, k, v) {
		if (strcmp(k, "acr"))
			return acp_bad(c, name, "only 'acr' is allowed");
	}
	acr = json_object_get(pv, "acr");
	if (!json_is_array(acr))
		return acp_bad(c, name, "'acr' must be a list of rules");
	json_array_foreach(acr, i, rule) {
		if (!json_is_object(rule))
			return acp_bad(c, name, "each rule is an object");
		json_object_foreach(rule, k, v) {
			if (strcmp(k, "acor") && strcmp(k, "acop") &&
			    strcmp(k, "acco") && strcmp(k, "acod"))
				return acp_bad(c, name, "unknown rule field");
		}
		acor = json_object_get(rule, "acor");
		acop = json_object_get(rule, "acop");
		acco = json_object_get(rule, "acco");
		if (!json_is_array(acor))
			return acp_bad(c, name, "acor must be a list");
		json_array_foreach(acor, j, v) {
			if (!json_is_string(v) || !*json_string_value(v))
				return acp_bad(c, name,
					"acor entries are non-empty strings");
		}
		if (!json_is_integer(acop) || json_integer_value(acop) < 1 ||
		    json_integer_value(acop) > 63)
			return acp_bad(c, name, "acop must be 1..63");
		if (acco && !json_is_array(acco))
			return acp_bad(c, name, "acco must be a list");
		json_array_foreach(acco, j, v) {
			int rc = check_context(c, name, v);

			if (rc != PZ_OK)
				return rc;
		}
	}
	return PZ_OK;
}

int pz_core__check_acpi(struct core_ctx *c, json_t *acpi)
{
	struct pz_res acp;
	json_t *v;
	size_t i;

	pz_res_init(&acp);
	json_array_foreach(acpi, i, v) {
		const char *ri = pz_core__local(c->core, json_string_value(v));
		int rc;

		rc = pz_core__find_ri(c->core, ri, &acp);
		if (rc == PZ_OK && acp.ty != PZ_TY_ACP)
			rc = PZ_ENOTFOUND;
		pz_res_clear(&acp);
		if (rc == PZ_ENOTFOUND)
			return pz_core__fail(c, PZ_RSC_BAD_REQUEST,
					     "acpi names '%.64s', which is not "
					     "an accessControlPolicy",
					     json_string_value(v));
		if (rc != PZ_OK)
			return pz_core__internal(c, rc, "checking acpi");
	}
	return PZ_OK;
}
