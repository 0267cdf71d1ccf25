/*
 * http_bsf.c - the BSF on plazad's HTTP listener (docs/bootstrap.md):
 *
 *   GET|POST /.plaza/bsf/ub          Ub, HTTP Digest AKA (no admin: the
 *                                    device authenticates itself)
 *   POST     /.plaza/bsf/zn          {"btid", "naf_id" (hex)} ->
 *                                    {"btid", "ks_naf" (hex), "impi",
 *                                     "expires"}; admin
 *   GET      /.plaza/subscribers     the subscribers, never K or OPc
 *   POST     /.plaza/subscribers     {"impi", "k", "opc" (hex, 16
 *                                    octets), "sqn"?, "amf"? (hex),
 *                                    "device"? (its urn:dev: identity)}
 *   DELETE   /.plaza/subscribers/<impi>
 *
 * Errors are {"error": reason} with an HTTP status.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "plaza/pz_bsf.h"
#include "plaza/pz_codec.h"
#include "plaza/pz_err.h"
#include "plaza/pz_gba.h"
#include "plaza/pz_http.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_time.h"

static int bsf_fail(struct pz_http_mgmt_out *out, int status, const char *why)
{
	out->doc = json_pack("{s:s}", "error", why);
	return out->status = status;
}

/* Exactly want octets of hex (want 0: 1 to max) into out; PZ_EINVAL. */
static int bsf_hex(const char *s, uint8_t *out, size_t want, size_t max,
		   size_t *len)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n % 2 || (want && n / 2 != want) || n / 2 > max)
		return PZ_EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int v = c >= '0' && c <= '9' ? c - '0' :
			c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (v < 0)
			return PZ_EINVAL;
		if (i % 2)
			out[i / 2] = (uint8_t)(out[i / 2] << 4 | v);
		else
			out[i / 2] = (uint8_t)v;
	}
	if (len)
		*len = n / 2;
	return PZ_OK;
}

static void bsf_tohex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static int bsf_ub(const struct pz_http_mgmt_in *in,
		  struct pz_http_mgmt_out *out)
{
	struct pz_bsf_ub_in ui = { in->method, in->path, in->auth, in->body,
				   in->len };
	struct pz_bsf_ub_out uo;

	pz_bsf_ub(in->bsf, &ui, &uo);
	out->status = uo.status;
	out->text = uo.body;
	out->ctype = uo.ctype;
	out->hname = uo.hname;
	out->hvalue = uo.hvalue;
	uo.body = NULL;
	uo.hvalue = NULL;
	pz_bsf_ub_out_free(&uo);
	if (!out->text)
		return bsf_fail(out, 500, "out of memory");
	return out->status;
}

static int bsf_zn(const struct pz_http_mgmt_in *in, const json_t *body,
		  struct pz_http_mgmt_out *out)
{
	const char *btid = json_string_value(json_object_get(body, "btid"));
	const char *hex = json_string_value(json_object_get(body, "naf_id"));
	uint8_t naf[PZ_GBA_NAF_ID_MAX];
	char ks[2 * 32 + 1], ts[PZ_TS_LEN];
	struct pz_bsf_zn z;
	struct pz_gba_btid parsed;
	const char *why = NULL;
	size_t nlen = 0;
	int rc;

	if (!btid || !*btid)
		return bsf_fail(out, 400, "'btid' is required");
	/* This BSF's B-TIDs have one form; anything else is malformed. */
	if (pz_gba_btid_parse(btid, strlen(btid), &parsed, &why) != PZ_OK)
		return bsf_fail(out, 400, why ? why : "malformed B-TID");
	if (bsf_hex(hex, naf, 0, sizeof(naf), &nlen) != PZ_OK ||
	    nlen <= PZ_GBA_UA_ID_LEN)
		return bsf_fail(out, 400, "'naf_id' must be hex of the NAF "
				"FQDN and its 5-octet Ua protocol id");
	rc = pz_bsf_zn(in->bsf, btid, naf, nlen, &z);
	if (rc == PZ_ENOTFOUND)
		return bsf_fail(out, 404, "unknown or expired B-TID");
	if (rc == PZ_EINVAL)
		return bsf_fail(out, 400, "bad NAF_Id");
	if (rc != PZ_OK)
		return bsf_fail(out, 500, pz_strerror(rc));
	bsf_tohex(z.ks_naf, sizeof(z.ks_naf), ks);
	out->doc = json_pack("{s:s,s:s,s:s,s:s}", "btid", btid, "ks_naf", ks,
			     "impi", z.impi, "expires",
			     pz_time_format(z.expires, ts));
	OPENSSL_cleanse(&z, sizeof(z));
	OPENSSL_cleanse(ks, sizeof(ks));
	return out->status = out->doc ? 200 : 500;
}

static int bsf_list_one(void *ud, const char *impi, uint64_t sqn,
			const uint8_t amf[2], const char *device,
			int64_t created)
{
	char ts[PZ_TS_LEN], a[5];
	json_t *o;

	bsf_tohex(amf, 2, a);
	o = json_pack("{s:s,s:I,s:s,s:s}", "impi", impi, "sqn",
		      (json_int_t)sqn, "amf", a, "created",
		      pz_time_format(created, ts));
	if (o && device && *device)
		json_object_set_new(o, "device", json_string(device));
	return json_array_append_new(ud, o) != 0;
}

static int bsf_sub_add(pz_core *core, const json_t *body,
		       struct pz_http_mgmt_out *out)
{
	const char *impi = json_string_value(json_object_get(body, "impi"));
	const json_t *sqn = json_object_get(body, "sqn");
	const char *amf = json_string_value(json_object_get(body, "amf"));
	const char *dev = json_string_value(json_object_get(body, "device"));
	struct pz_store_sub sub;
	char err[300];
	int rc;

	memset(&sub, 0, sizeof(sub));
	if (!impi || !*impi || strlen(impi) > PZ_STORE_IMPI_MAX)
		return bsf_fail(out, 400, "'impi' is 1-255 characters");
	for (const char *c = impi; *c; c++)
		if ((unsigned char)*c < 0x21 || (unsigned char)*c > 0x7e)
			return bsf_fail(out, 400, "'impi' is printable ASCII "
					"without spaces");
	snprintf(sub.impi, sizeof(sub.impi), "%s", impi);
	if ((json_object_get(body, "device") && !dev) ||
	    (dev && (!*dev || strlen(dev) >= sizeof(sub.device))))
		return bsf_fail(out, 400, "'device' is the device's identifier "
				"(urn:dev:...)");
	if (dev)
		snprintf(sub.device, sizeof(sub.device), "%s", dev);
	sub.amf[0] = 0x80;   /* the separation bit (TS 33.401 6.1.1) */
	if (bsf_hex(json_string_value(json_object_get(body, "k")), sub.k, 16,
		    16, NULL) ||
	    bsf_hex(json_string_value(json_object_get(body, "opc")), sub.opc,
		    16, 16, NULL)) {
		OPENSSL_cleanse(&sub, sizeof(sub));
		return bsf_fail(out, 400, "'k' and 'opc' are 16 octets of hex");
	}
	if ((sqn && (!json_is_integer(sqn) || json_integer_value(sqn) < 0 ||
		     (uint64_t)json_integer_value(sqn) > PZ_STORE_SQN_MAX)) ||
	    (json_object_get(body, "amf") &&
	     bsf_hex(amf, sub.amf, 2, 2, NULL))) {
		OPENSSL_cleanse(&sub, sizeof(sub));
		return bsf_fail(out, 400, "'sqn' is 0 to 2^48-1, 'amf' 2 "
				"octets of hex");
	}
	sub.sqn = sqn ? (uint64_t)json_integer_value(sqn) : 0;
	rc = pz_core_sub_add(core, &sub, err, sizeof(err));
	OPENSSL_cleanse(&sub, sizeof(sub));
	switch (rc) {
	case PZ_OK:
		out->doc = json_pack("{s:s}", "impi", impi);
		return out->status = 201;
	case PZ_EINVAL:
		return bsf_fail(out, 400, err);
	case PZ_ENOTFOUND:
		return bsf_fail(out, 404, err);
	case PZ_EEXIST:
	case PZ_ESTATE:
		return bsf_fail(out, 409, err);
	default:
		return bsf_fail(out, 500, err[0] ? err : pz_strerror(rc));
	}
}

static int bsf_subscribers(pz_core *core, const struct pz_http_mgmt_in *in,
			   const json_t *body, struct pz_http_mgmt_out *out)
{
	const char *m = in->method;

	if (!strcmp(in->path, "/.plaza/subscribers") && !strcmp(m, "GET")) {
		json_t *list = json_array();

		if (!list || pz_core_sub_list(core, bsf_list_one, list)) {
			json_decref(list);
			return bsf_fail(out, 500, "cannot list subscribers");
		}
		out->doc = json_pack("{s:o}", "subscribers", list);
		return out->status = out->doc ? 200 : 500;
	}
	if (!strcmp(in->path, "/.plaza/subscribers") && !strcmp(m, "POST"))
		return bsf_sub_add(core, body, out);
	if (!strncmp(in->path, "/.plaza/subscribers/", 20) &&
	    !strcmp(m, "DELETE")) {
		switch (pz_core_sub_del(core, in->path + 20)) {
		case PZ_OK:
			out->doc = json_pack("{s:s}", "deleted",
					     in->path + 20);
			return out->status = 200;
		case PZ_ENOTFOUND:
			return bsf_fail(out, 404, "no such subscriber");
		default:
			return bsf_fail(out, 500, "cannot delete");
		}
	}
	return bsf_fail(out, 404, "no such management resource");
}

int pz_http__bsf(pz_core *core, const struct pz_http_mgmt_in *in,
		 bool admin, struct pz_http_mgmt_out *out)
{
	json_t *body = NULL;
	char err[200];
	int rc;

	if (!strcmp(in->path, "/.plaza/bsf/ub")) {
		if (!in->bsf)
			return bsf_fail(out, 404, "the BSF is off here "
					"(boot.bsf)");
		return bsf_ub(in, out);
	}
	if (!admin)
		return bsf_fail(out, 401, "the admin credential is required");
	if (!strcmp(in->method, "POST")) {
		if (pz_codec_parse(PZ_FMT_JSON, in->body, in->len, NULL, &body,
				   err, sizeof(err)) != PZ_OK)
			return bsf_fail(out, 400, err);
		if (!json_is_object(body)) {
			json_decref(body);
			return bsf_fail(out, 400, "the body is a JSON object");
		}
	}
	if (!strcmp(in->path, "/.plaza/bsf/zn") && !strcmp(in->method, "POST"))
		rc = in->bsf ? bsf_zn(in, body, out) :
		     bsf_fail(out, 404, "the BSF is off here (boot.bsf)");
	else
		rc = bsf_subscribers(core, in, body, out);
	json_decref(body);
	return rc;
}
