/*
 * http_mgmt.c - plazad's management interface over HTTP, beside the
 * oneM2M API: paths under /.plaza/ (a name no oneM2M resource can have),
 * for the admin only (Authorization: Bearer <admin secret>).
 *
 *   GET    /.plaza/stats            counters of the running plazad
 *   GET    /.plaza/psk              DTLS identities (never their keys)
 *   POST   /.plaza/psk              {"identity", "originator"?, "key"?}
 *                                   (hex key; without one plazad makes a
 *                                   16-byte key and answers it, once)
 *   DELETE /.plaza/psk/<identity>   forget an identity
 *
 * and the trust repository under /.plaza/log/ and /.plaza/ids
 * (http_trust.c), the BSF under /.plaza/bsf/ and its subscribers under
 * /.plaza/subscribers (http_bsf.c).
 * Answers are JSON; errors {"error": reason} with an HTTP status.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "plaza/pz_codec.h"
#include "plaza/pz_err.h"
#include "plaza/pz_http.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_time.h"

static int mgmt_fail(json_t **out, int status, const char *why)
{
	*out = json_pack("{s:s}", "error", why);
	return status;
}

static int mgmt_hex(const char *s, uint8_t *out, size_t max, size_t *len)
{
	size_t n = strlen(s);

	if (n == 0 || n % 2 || n / 2 > max)
		return PZ_EINVAL;
	for (size_t i = 0; i < n; i += 2) {
		unsigned v;

		if (sscanf(s + i, "%2x", &v) != 1 ||
		    !strchr("0123456789abcdefABCDEF", s[i]) ||
		    !strchr("0123456789abcdefABCDEF", s[i + 1]))
			return PZ_EINVAL;
		out[i / 2] = (uint8_t)v;
	}
	*len = n / 2;
	return PZ_OK;
}

static int mgmt_list_one(void *ud, const char *identity, const char *orig,
			 int64_t created)
{
	char ts[PZ_TS_LEN];

	return json_array_append_new(ud, json_pack("{s:s,s:s,s:s}",
		"identity", identity, "originator", orig, "created",
		pz_time_format(created, ts))) != 0;
}

static int mgmt_psk_add(pz_core *core, const json_t *body, json_t **out)
{
	const char *id = json_string_value(json_object_get(body, "identity"));
	const char *orig = json_string_value(json_object_get(body,
							      "originator"));
	const char *hex = json_string_value(json_object_get(body, "key"));
	uint8_t key[64];
	char made[2 * sizeof(key) + 1] = "", err[300];
	size_t len = 16;
	int rc;

	if (!id)
		return mgmt_fail(out, 400, "'identity' is required");
	if (json_object_get(body, "key") && !hex)
		return mgmt_fail(out, 400, "'key' is a hex string");
	if (hex && mgmt_hex(hex, key, sizeof(key), &len) != PZ_OK)
		return mgmt_fail(out, 400, "'key' must be 1-64 bytes of hex");
	if (!hex) {
		if (pz_core_random(key, len) != PZ_OK)
			return mgmt_fail(out, 500, "no randomness");
		for (size_t i = 0; i < len; i++)
			snprintf(made + 2 * i, 3, "%02x", key[i]);
	}
	rc = pz_core_psk_put(core, id, orig, key, len, err, sizeof(err));
	memset(key, 0, sizeof(key));
	switch (rc) {
	case PZ_OK:
		break;
	case PZ_EINVAL:
		return mgmt_fail(out, 400, err);
	case PZ_ENOTFOUND:
		return mgmt_fail(out, 404, err);
	case PZ_EEXIST:
	case PZ_ESTATE:
		return mgmt_fail(out, 409, err);
	default:
		return mgmt_fail(out, 500, err[0] ? err : pz_strerror(rc));
	}
	*out = json_pack("{s:s,s:s}", "identity", id, "originator",
			 orig ? orig : id);
	if (*out && made[0])
		json_object_set_new(*out, "key", json_string(made));
	return 201;
}

static int mgmt_admin(pz_core *core, const char *auth)
{
	return auth && !strncasecmp(auth, "Bearer ", 7) &&
	       pz_core_admin_check(core, auth + 7);
}

static bool mgmt_under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	return !strncmp(path, prefix, n) && (path[n] == '/' || !path[n]);
}

int pz_http_mgmt(pz_core *core, const struct pz_http_mgmt_in *in,
		 struct pz_http_mgmt_out *out)
{
	const char *method = in->method, *path = in->path;
	json_t *doc = NULL;
	char err[200];
	bool admin = mgmt_admin(core, in->auth);

	memset(out, 0, sizeof(*out));
	if (mgmt_under(path, "/.plaza/log") || mgmt_under(path, "/.plaza/ids")) {
		if (!admin && !in->log_public && !strcmp(method, "GET"))
			return out->status = mgmt_fail(&out->doc, 401, "the "
				"trust log is not public here: the admin "
				"credential is required");
		return pz_http__trust(core, in, admin, out);
	}
	if (mgmt_under(path, "/.plaza/bsf") ||
	    mgmt_under(path, "/.plaza/subscribers"))
		return pz_http__bsf(core, in, admin, out);
	if (!admin)
		return out->status = mgmt_fail(&out->doc, 401, "the admin "
					       "credential is required");
	if (!strcmp(path, "/.plaza/stats") && !strcmp(method, "GET")) {
		struct pz_core_stats st;
		char ts[PZ_TS_LEN];

		pz_core_stats(core, &st);
		out->doc = json_pack("{s:I,s:I,s:I,s:I,s:I,s:s}",
				 "requests", (json_int_t)st.requests,
				 "batches", (json_int_t)st.batches,
				 "notify_sent", (json_int_t)st.notify_sent,
				 "notify_failed", (json_int_t)st.notify_failed,
				 "notify_dropped", (json_int_t)st.notify_dropped,
				 "started", pz_time_format(st.started, ts));
		return out->status = 200;
	}
	if (!strcmp(path, "/.plaza/psk") && !strcmp(method, "GET")) {
		json_t *list = json_array();

		if (!list || pz_core_psk_list(core, mgmt_list_one, list)) {
			json_decref(list);
			return out->status = mgmt_fail(&out->doc, 500,
				"cannot list identities");
		}
		out->doc = json_pack("{s:o}", "psk", list);
		return out->status = 200;
	}
	if (!strcmp(path, "/.plaza/psk") && !strcmp(method, "POST")) {
		if (pz_codec_parse(PZ_FMT_JSON, in->body, in->len, NULL, &doc,
				   err, sizeof(err)) != PZ_OK)
			return out->status = mgmt_fail(&out->doc, 400, err);
		out->status = mgmt_psk_add(core, doc, &out->doc);
		json_decref(doc);
		return out->status;
	}
	if (!strncmp(path, "/.plaza/psk/", 12) && !strcmp(method, "DELETE")) {
		switch (pz_core_psk_del(core, path + 12)) {
		case PZ_OK:
			out->doc = json_pack("{s:s}", "deleted", path + 12);
			return out->status = 200;
		case PZ_ENOTFOUND:
			return out->status = mgmt_fail(&out->doc, 404,
						       "no such identity");
		default:
			return out->status = mgmt_fail(&out->doc, 500,
						       "cannot delete");
		}
	}
	return out->status = mgmt_fail(&out->doc, 404, "no such management "
				       "resource");
}
