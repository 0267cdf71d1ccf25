/*
 * mqtt_map.c - the oneM2M MQTT binding's mapping (TS-0010), as pure
 * functions: topics to their parts, a request primitive (JSON or CBOR) to
 * a pz_req, a pz_rsp to a response primitive, and the reverse pair for the
 * requests plaza sends (notifications, the CLI).  No I/O and no
 * libmosquitto types: mqtt.c feeds it from libmosquitto, the fuzz target
 * and the unit tests from memory.
 *
 * Request parameters reuse pz_req_param (core/req.c) in their text form,
 * so a filter criterion means the same over HTTP, CoAP and MQTT.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plaza/pz_err.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_mqtt.h"
#include "plaza/pz_time.h"

#define MAP_TEXT_MAX 4096   /* longest text parameter (to, fr, rqi...) */

static int map_fail(struct pz_mqtt_out *out, int rsc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int map_fail(struct pz_mqtt_out *out, int rsc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out->msg, sizeof(out->msg), fmt, ap);
	va_end(ap);
	out->rsc = rsc;
	return PZ_EREQ;
}

/* --- topics ---------------------------------------------------------------- */

/* Copy one topic level (up to '/' or the end) into out; false when empty,
 * too long or holding a wildcard. */
static bool topic_level(const char **p, char *out, size_t len)
{
	size_t n = strcspn(*p, "/");

	if (!n || n >= len || memchr(*p, '+', n) || memchr(*p, '#', n))
		return false;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p += n;
	return true;
}

int pz_mqtt_topic_parse(const char *topic, const char *prefix,
			struct pz_mqtt_topic *t)
{
	static const struct {
		const char *name;
		enum pz_mqtt_kind kind;
	} kinds[] = {
		{ "req/", PZ_MQTT_REQ }, { "reg_req/", PZ_MQTT_REG_REQ },
		{ "resp/", PZ_MQTT_RESP }, { "reg_resp/", PZ_MQTT_REG_RESP },
	};
	size_t n = prefix ? strlen(prefix) : 0;
	const char *p = topic;
	size_t i;

	if (!p || (n && strncmp(p, prefix, n)))
		return PZ_EINVAL;
	p += n;
	if (strncmp(p, "/oneM2M/", 8))
		return PZ_EINVAL;
	p += 8;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strncmp(p, kinds[i].name, strlen(kinds[i].name)))
			break;
	if (i == sizeof(kinds) / sizeof(kinds[0]))
		return PZ_EINVAL;
	t->kind = kinds[i].kind;
	p += strlen(kinds[i].name);
	if (!topic_level(&p, t->from, sizeof(t->from)) || *p++ != '/' ||
	    !topic_level(&p, t->to, sizeof(t->to)) || *p++ != '/')
		return PZ_EINVAL;
	if (!strcmp(p, "json"))
		t->fmt = PZ_FMT_JSON;
	else if (!strcmp(p, "cbor"))
		t->fmt = PZ_FMT_CBOR;
	else
		return PZ_EINVAL;
	return PZ_OK;
}

int pz_mqtt_topic_id(const char *id, char *out, size_t len)
{
	size_t n = 0;

	if (!id)
		return PZ_EINVAL;
	while (*id == '/')
		id++;
	if (!*id)
		return PZ_EINVAL;
	for (; *id; id++) {
		unsigned char c = (unsigned char)*id;

		if (c < 0x20 || c == 0x7f || c == '+' || c == '#')
			return PZ_EINVAL;
		if (n + 1 >= len)
			return PZ_ETOOBIG;
		out[n++] = c == '/' ? ':' : (char)c;
	}
	out[n] = '\0';
	return PZ_OK;
}

/* --- request primitives -------------------------------------------------- */

/* Text plaza carries in a parameter: no control characters. */
static bool map_text_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* A string value v of parameter name into *dst (arena copy). */
static int map_text(const json_t *v, const char *name, struct pz_req *req,
		    const char **dst, struct pz_mqtt_out *out)
{
	const char *s;

	if (!json_is_string(v))
		return map_fail(out, PZ_RSC_BAD_REQUEST, "'%s' must be a "
				"string", name);
	s = json_string_value(v);
	if (strlen(s) > MAP_TEXT_MAX || !map_text_ok(s))
		return map_fail(out, PZ_RSC_BAD_REQUEST, "'%s' is longer than "
				"%d bytes or holds a control character", name,
				MAP_TEXT_MAX);
	*dst = pz_arena_strdup(&req->arena, s);
	return *dst ? PZ_OK : PZ_ENOMEM;
}

/* A string member into *dst; absent leaves *dst alone. */
static int map_str(const json_t *prim, const char *name, struct pz_req *req,
		   const char **dst, struct pz_mqtt_out *out)
{
	json_t *v = json_object_get(prim, name);

	return v ? map_text(v, name, req, dst, out) : PZ_OK;
}

/* An integer member in [lo, hi]; *set false when absent. */
static int map_int(const json_t *prim, const char *name, long long lo,
		   long long hi, long long *v, bool *set,
		   struct pz_mqtt_out *out)
{
	json_t *j = json_object_get(prim, name);

	*set = false;
	if (!j)
		return PZ_OK;
	if (!json_is_integer(j) || json_integer_value(j) < lo ||
	    json_integer_value(j) > hi)
		return map_fail(out, PZ_RSC_BAD_REQUEST, "'%s' must be an "
				"integer from %lld to %lld", name, lo, hi);
	*v = json_integer_value(j);
	*set = true;
	return PZ_OK;
}

/* Hand name=value to pz_req_param, refusing what it refuses. */
static int map_param(struct pz_req *req, const char *name, const char *value,
		     struct pz_mqtt_out *out)
{
	char err[200];
	int rc = pz_req_param(req, name, value, err, sizeof(err));

	if (rc == PZ_ENOMEM)
		return rc;
	if (rc != PZ_OK)
		return map_fail(out, PZ_RSC_BAD_REQUEST, "%s", err);
	return PZ_OK;
}

/* One value of a parameter in pz_req_param's text form. */
static int map_scalar(const json_t *v, char *buf, size_t len,
		      const char **text)
{
	if (json_is_string(v)) {
		*text = json_string_value(v);
		return map_text_ok(*text) ? PZ_OK : PZ_EINVAL;
	}
	if (json_is_integer(v)) {
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
		*text = buf;
		return PZ_OK;
	}
	return PZ_EINVAL;
}

/* A parameter given as a scalar or an array of scalars (lists). */
static int map_param_json(struct pz_req *req, const char *name,
			  const json_t *v, struct pz_mqtt_out *out)
{
	char buf[32];
	const char *text;
	size_t i;
	json_t *item;
	int rc;

	if (!json_is_array(v)) {
		if (map_scalar(v, buf, sizeof(buf), &text) != PZ_OK)
			return map_fail(out, PZ_RSC_BAD_REQUEST, "'%.32s' must be "
					"an integer, a string or a list", name);
		return map_param(req, name, text, out);
	}
	json_array_foreach(v, i, item) {
		if (map_scalar(item, buf, sizeof(buf), &text) != PZ_OK)
			return map_fail(out, PZ_RSC_BAD_REQUEST, "'%.32s' items "
					"must be integers or strings", name);
		rc = map_param(req, name, text, out);
		if (rc != PZ_OK)
			return rc;
	}
	return PZ_OK;
}

/* fc: each member by pz_req_param's name; "atr" as [{nm, val}]. */
static int map_fc(const json_t *prim, struct pz_req *req,
		  struct pz_mqtt_out *out)
{
	json_t *fc = json_object_get(prim, "fc"), *v;
	const char *name;
	int rc;

	if (!fc)
		return PZ_OK;
	if (!json_is_object(fc))
		return map_fail(out, PZ_RSC_BAD_REQUEST, "'fc' must be an "
				"object");
	req->fc.present = true;
	json_object_foreach(fc, name, v) {
		if (!strcmp(name, "rcn") || !strcmp(name, "rt") ||
		    !strcmp(name, "drt"))
			return map_fail(out, PZ_RSC_BAD_REQUEST, "'%s' is a "
					"request parameter, not a filter "
					"criterion", name);
		if (!strcmp(name, "atr")) {
			size_t i;
			json_t *a;

			if (!json_is_array(v))
				return map_fail(out, PZ_RSC_BAD_REQUEST, "'fc.atr' "
						"must be a list of {nm, val}");
			json_array_foreach(v, i, a) {
				json_t *nm = json_object_get(a, "nm");
				json_t *val = json_object_get(a, "val");

				if (!json_is_string(nm) || !val)
					return map_fail(out,
						PZ_RSC_BAD_REQUEST, "'fc.atr' "
						"items are {nm, val}");
				rc = map_param_json(req, json_string_value(nm),
						    val, out);
				if (rc != PZ_OK)
					return rc;
			}
			continue;
		}
		rc = map_param_json(req, name, v, out);
		if (rc != PZ_OK)
			return rc;
	}
	return PZ_OK;
}

/* A time parameter: an absolute timestamp or a duration from now. */
static int map_time(const json_t *prim, const char *name, int64_t *dst,
		    struct pz_req *req, struct pz_mqtt_out *out)
{
	const char *s = NULL;
	int64_t ms;
	int rc = map_str(prim, name, req, &s, out);

	if (rc != PZ_OK || !s)
		return rc;
	if (pz_time_parse(s, dst) == PZ_OK)
		return PZ_OK;
	if (pz_duration_parse(s, &ms) == PZ_OK) {
		*dst = pz_time_now() + ms * 1000;
		return PZ_OK;
	}
	return map_fail(out, PZ_RSC_BAD_REQUEST, "invalid '%s' '%.40s' "
			"(a timestamp or a duration)", name, s);
}

/* rt: {"rtv": n, "nu": [uri...]} (an integer alone is read as rtv). */
static int map_rt(const json_t *prim, struct pz_req *req,
		  struct pz_mqtt_out *out)
{
	json_t *rt = json_object_get(prim, "rt"), *rtv, *nu;
	char buf[32];

	if (!rt)
		return PZ_OK;
	rtv = json_is_object(rt) ? json_object_get(rt, "rtv") : rt;
	if (rtv && !json_is_integer(rtv))
		return map_fail(out, PZ_RSC_BAD_REQUEST, "'rt' must be "
				"{\"rtv\": n, \"nu\": [...]}");
	if (rtv) {
		int rc;

		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(rtv));
		rc = map_param(req, "rt", buf, out);
		if (rc != PZ_OK)
			return rc;
	}
	nu = json_is_object(rt) ? json_object_get(rt, "nu") : NULL;
	if (!nu)
		return PZ_OK;
	if (!json_is_array(nu) || json_array_size(nu) != 1 ||
	    !json_is_string(json_array_get(nu, 0)))
		return map_fail(out, PZ_RSC_BAD_REQUEST, "'rt.nu' must be a "
				"list of one URI");
	return map_text(json_array_get(nu, 0), "rt.nu", req, &req->rtu, out);
}

/* fr: given, it must name the topic's originator; absent, it is that. */
static int map_fr(const json_t *prim, const struct pz_mqtt_in *in,
		  struct pz_req *req, struct pz_mqtt_out *out)
{
	char topic_form[PZ_MQTT_ID_MAX];
	int rc = map_str(prim, "fr", req, &req->fr, out);

	if (rc != PZ_OK)
		return rc;
	if (!req->fr) {
		req->fr = in->orig ? pz_arena_strdup(&req->arena, in->orig) :
			  NULL;
		return in->orig && !req->fr ? PZ_ENOMEM : PZ_OK;
	}
	if (!*req->fr || !in->orig)
		return PZ_OK;
	if (pz_mqtt_topic_id(req->fr, topic_form, sizeof(topic_form)) !=
	    PZ_OK || strcmp(topic_form, in->orig))
		return map_fail(out, PZ_RSC_ORIGINATOR_HAS_NO_PRIVILEGE,
				"'fr' '%.64s' is not the topic's originator "
				"'%.64s'", req->fr, in->orig);
	return PZ_OK;
}

/* The parameters every operation carries: op, to, rqi, rvi. */
static int map_head(const json_t *prim, struct pz_req *req,
		    struct pz_mqtt_out *out)
{
	long long v;
	bool set;
	int rc;

	rc = map_str(prim, "rqi", req, &req->rqi, out);
	if (rc != PZ_OK)
		return rc;
	if (!req->rqi || !*req->rqi)
		return map_fail(out, PZ_RSC_BAD_REQUEST, "missing 'rqi'");
	rc = map_int(prim, "op", 1, 5, &v, &set, out);
	if (rc != PZ_OK)
		return rc;
	if (!set)
		return map_fail(out, PZ_RSC_BAD_REQUEST, "missing 'op'");
	req->op = (enum pz_op)v;
	rc = map_str(prim, "to", req, &req->to, out);
	if (rc != PZ_OK)
		return rc;
	if (!req->to || !*req->to)
		return map_fail(out, PZ_RSC_BAD_REQUEST, "missing 'to'");
	return map_str(prim, "rvi", req, &req->rvi, out);
}

static int map_ty(const json_t *prim, struct pz_req *req,
		  struct pz_mqtt_out *out)
{
	long long v;
	bool set;
	int rc = map_int(prim, "ty", 1, 65535, &v, &set, out);

	if (rc != PZ_OK)
		return rc;
	if (req->op == PZ_OP_CREATE && !set)
		return map_fail(out, PZ_RSC_BAD_REQUEST, "a Create needs 'ty'");
	if (set && req->op != PZ_OP_CREATE)
		return map_fail(out, PZ_RSC_BAD_REQUEST, "'ty' is for Create "
				"only (filter on types with fc.ty)");
	req->ty = set ? (int)v : 0;
	return PZ_OK;
}

/* rcn, drt, ec, the times, ot, gid, vsi, token. */
static int map_rest(const json_t *prim, struct pz_req *req,
		    struct pz_mqtt_out *out)
{
	static const char *const ints[] = { "rcn", "drt" };
	static const struct {
		const char *name;
		size_t off;
	} times[] = {
		{ "rqet", offsetof(struct pz_req, rqet) },
		{ "rset", offsetof(struct pz_req, rset) },
		{ "oet", offsetof(struct pz_req, oet) },
	};
	const char *tok = NULL;
	long long v;
	bool set;
	int rc = PZ_OK;

	for (size_t i = 0; i < 2 && rc == PZ_OK; i++) {
		json_t *j = json_object_get(prim, ints[i]);

		if (!j)
			continue;
		if (!json_is_integer(j))
			return map_fail(out, PZ_RSC_BAD_REQUEST, "'%s' must be "
					"an integer", ints[i]);
		rc = map_param_json(req, ints[i], j, out);
	}
	for (size_t i = 0; i < 3 && rc == PZ_OK; i++)
		rc = map_time(prim, times[i].name,
			      (int64_t *)((char *)req + times[i].off), req, out);
	if (rc == PZ_OK)
		rc = map_int(prim, "ec", 1, 255, &v, &set, out);
	if (rc != PZ_OK)
		return rc;
	req->ec = set ? (int)v : 0;
	rc = map_str(prim, "ot", req, &req->ot, out);
	if (rc == PZ_OK)
		rc = map_str(prim, "gid", req, &req->gid, out);
	if (rc == PZ_OK)
		rc = map_str(prim, "vsi", req, &req->vsi, out);
	if (rc == PZ_OK)
		rc = map_str(prim, "token", req, &tok, out);
	if (rc != PZ_OK || !tok)
		return rc;
	if (!*tok)
		return map_fail(out, PZ_RSC_BAD_REQUEST, "empty 'token'");
	req->auth = PZ_AUTH_SECRET;
	req->secret = tok;
	return PZ_OK;
}

/* pc: an object for Create, Update and Notify; nothing otherwise. */
static int map_pc(json_t *prim, struct pz_req *req, struct pz_mqtt_out *out)
{
	json_t *pc = json_object_get(prim, "pc");

	if (!pc)
		return PZ_OK;
	if (req->op == PZ_OP_RETRIEVE || req->op == PZ_OP_DELETE)
		return map_fail(out, PZ_RSC_BAD_REQUEST, "a %s carries no "
				"'pc'", pz_op_name(req->op));
	if (!json_is_object(pc))
		return map_fail(out, PZ_RSC_BAD_REQUEST, "'pc' must be an "
				"object");
	req->pc = json_incref(pc);
	return PZ_OK;
}

int pz_mqtt_map(const struct pz_mqtt_in *in, struct pz_req *req,
		struct pz_mqtt_out *out)
{
	struct pz_codec_limits lim = in->limits ? *in->limits :
				     pz_codec_default_limits;
	json_t *prim = NULL;
	char err[240];
	int rc;

	out->rsc = 0;
	out->msg[0] = '\0';
	if (in->max_len && in->len > in->max_len)
		return map_fail(out, PZ_RSC_BAD_REQUEST, "primitive exceeds "
				"%zu bytes", in->max_len);
	/* The primitive wraps the content: one level and a dozen values
	 * more than content alone may use. */
	lim.max_depth += 1;
	lim.max_nodes += 64;
	if (in->len > lim.max_bytes)
		lim.max_bytes = in->len;
	rc = pz_codec_parse(in->fmt, in->payload, in->len, &lim, &prim, err,
			    sizeof(err));
	if (rc == PZ_ENOMEM)
		return rc;
	if (rc != PZ_OK)
		return map_fail(out, PZ_RSC_BAD_REQUEST, "%s primitive: %s",
				in->fmt == PZ_FMT_CBOR ? "CBOR" : "JSON", err);
	rc = map_head(prim, req, out);
	if (rc == PZ_OK)
		rc = map_fr(prim, in, req, out);
	if (rc == PZ_OK)
		rc = map_ty(prim, req, out);
	if (rc == PZ_OK)
		rc = map_rest(prim, req, out);
	if (rc == PZ_OK)
		rc = map_rt(prim, req, out);
	if (rc == PZ_OK)
		rc = map_fc(prim, req, out);
	if (rc == PZ_OK)
		rc = map_pc(prim, req, out);
	json_decref(prim);
	return rc;
}

/* --- response primitives ------------------------------------------------- */

/* Set key to a string copy when s is non-empty. */
static int put_str(json_t *o, const char *key, const char *s)
{
	if (!s || !*s)
		return PZ_OK;
	return json_object_set_new(o, key, json_string(s)) ? PZ_ENOMEM :
	       PZ_OK;
}

int pz_mqtt_answer(const struct pz_rsp *rsp, const char *req_rqi,
		   const char *to, const char *fr, enum pz_fmt fmt,
		   struct pz_buf *buf)
{
	const char *rqi = rsp->rqi ? rsp->rqi : req_rqi;
	size_t mark = buf->len;
	json_t *prim = json_object();
	int rc = PZ_ENOMEM;

	if (!prim)
		return PZ_ENOMEM;
	if (json_object_set_new(prim, "rsc", json_integer(rsp->rsc)) ||
	    put_str(prim, "rqi", rqi) ||
	    put_str(prim, "rvi", rsp->rvi[0] ? rsp->rvi : "4") ||
	    put_str(prim, "ot", rsp->ot) || put_str(prim, "to", to) ||
	    put_str(prim, "fr", fr) ||
	    put_str(prim, "token", rsp->credential) ||
	    (rsp->pc && json_object_set(prim, "pc", rsp->pc)))
		goto out;
	rc = pz_codec_encode(fmt, prim, buf);
	if (rc == PZ_ENOMEM || rc == PZ_OK)
		goto out;
	/* The content cannot be written in fmt: say so instead. */
	buf->len = mark;
	rc = PZ_ENOMEM;
	if (json_object_set_new(prim, "rsc",
				json_integer(PZ_RSC_INTERNAL_SERVER_ERROR)) ||
	    json_object_set_new(prim, "pc", json_pack("{s:s}", "m2m:dbg",
			"the answer cannot be encoded")))
		goto out;
	json_object_del(prim, "token");  /* absent is fine */
	rc = pz_codec_encode(fmt, prim, buf);
out:
	json_decref(prim);
	return rc;
}

int pz_mqtt_request(const struct pz_req *req, enum pz_fmt fmt,
		    struct pz_buf *buf)
{
	json_t *prim = json_object();
	int rc = PZ_ENOMEM;

	if (!prim)
		return PZ_ENOMEM;
	if (json_object_set_new(prim, "op", json_integer(req->op)) ||
	    put_str(prim, "to", req->to) || put_str(prim, "fr", req->fr) ||
	    put_str(prim, "rqi", req->rqi) ||
	    put_str(prim, "rvi", req->rvi ? req->rvi : "4") ||
	    put_str(prim, "ot", req->ot) ||
	    (req->ty && json_object_set_new(prim, "ty",
					    json_integer(req->ty))) ||
	    (req->rcn != PZ_RCN_DEFAULT &&
	     json_object_set_new(prim, "rcn", json_integer(req->rcn))) ||
	    (req->ec && json_object_set_new(prim, "ec",
					    json_integer(req->ec))) ||
	    (req->pc && json_object_set(prim, "pc", req->pc)))
		goto out;
	rc = pz_codec_encode(fmt, prim, buf);
out:
	json_decref(prim);
	return rc;
}

int pz_mqtt_response_parse(const uint8_t *buf, size_t len, enum pz_fmt fmt,
			   struct pz_rsp *rsp)
{
	json_t *prim = NULL, *rsc, *rqi, *rvi, *pc;
	char err[200];
	int rc;

	rc = pz_codec_parse(fmt, buf, len, &pz_codec_default_limits, &prim,
			    err, sizeof(err));
	if (rc != PZ_OK)
		return rc == PZ_ENOMEM ? rc : PZ_EINVAL;
	rsc = json_object_get(prim, "rsc");
	rc = PZ_EINVAL;
	if (!json_is_integer(rsc) || json_integer_value(rsc) < 0 ||
	    json_integer_value(rsc) > 9999)
		goto out;
	rsp->rsc = (int)json_integer_value(rsc);
	rqi = json_object_get(prim, "rqi");
	rvi = json_object_get(prim, "rvi");
	pc = json_object_get(prim, "pc");
	rc = PZ_ENOMEM;
	if (json_is_string(rqi)) {
		pz_free(rsp->rqi);
		rsp->rqi = pz_strdup(json_string_value(rqi));
		if (!rsp->rqi)
			goto out;
	}
	if (json_is_string(rvi))
		snprintf(rsp->rvi, sizeof(rsp->rvi), "%s",
			 json_string_value(rvi));
	if (pc) {
		json_decref(rsp->pc);
		rsp->pc = json_incref(pc);
	}
	rc = PZ_OK;
out:
	json_decref(prim);
	return rc;
}
