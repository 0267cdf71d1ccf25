/*
 * coap_map.c - the oneM2M CoAP binding's mapping (TS-0008), as pure
 * functions: CoAP code, options and payload to a pz_req (pz_coap_map), and
 * a pz_rsp to CoAP code, options and payload (pz_coap_answer).  No I/O and
 * no libcoap types: coap.c feeds it from libcoap, the fuzz target from a
 * datagram parsed by coap_pdu_parse, the unit tests from memory.
 *
 * Every option is checked here, including the critical ones libcoap lets
 * through (see coap.c: libcoap 4.3.1 can only be told about two options
 * above 255, so it is told to pass every option and this file answers
 * 4.02 for the ones plaza does not understand).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plaza/pz_coap.h"
#include "plaza/pz_err.h"
#include "plaza/pz_senml.h"
#include "plaza/pz_time.h"

/* RFC 7252 option numbers the mapping reads or accepts. */
enum {
	OPT_IF_MATCH = 1,
	OPT_URI_HOST = 3,
	OPT_ETAG = 4,
	OPT_IF_NONE_MATCH = 5,
	OPT_OBSERVE = 6,
	OPT_URI_PORT = 7,
	OPT_LOCATION_PATH = 8,
	OPT_URI_PATH = 11,
	OPT_CONTENT_FORMAT = 12,
	OPT_MAX_AGE = 14,
	OPT_URI_QUERY = 15,
	OPT_ACCEPT = 17,
	OPT_BLOCK2 = 23,
	OPT_BLOCK1 = 27,
	OPT_SIZE2 = 28,
	OPT_PROXY_URI = 35,
	OPT_PROXY_SCHEME = 39,
	OPT_SIZE1 = 60
};

#define MAP_MAX_SEGS 64       /* Uri-Path segments */

static int map_fail(struct pz_coap_out *out, uint8_t code, int rsc,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int map_fail(struct pz_coap_out *out, uint8_t code, int rsc,
		    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out->msg, sizeof(out->msg), fmt, ap);
	va_end(ap);
	out->code = code ? code : pz_coap_code(rsc);
	out->rsc = rsc;
	return PZ_EREQ;
}

/* --- response codes ------------------------------------------------------ */

static const struct {
	int rsc;
	uint8_t code;
} map_codes[] = {
	{ 1000, PZ_COAP_CODE(2, 3) },  /* ACCEPTED: 2.03 Valid (ACME) */
	{ 1001, PZ_COAP_CODE(2, 1) },
	{ 1002, PZ_COAP_CODE(2, 1) },
	{ 2000, PZ_COAP_CODE(2, 5) },
	{ 2001, PZ_COAP_CODE(2, 1) },
	{ 2002, PZ_COAP_CODE(2, 2) },
	{ 2004, PZ_COAP_CODE(2, 4) },
	{ 4000, PZ_COAP_CODE(4, 0) },
	{ 4001, PZ_COAP_CODE(5, 1) },
	{ 4004, PZ_COAP_CODE(4, 4) },
	{ 4005, PZ_COAP_CODE(4, 5) },
	{ 4008, PZ_COAP_CODE(5, 4) },
	{ 4015, PZ_COAP_CODE(4, 15) },
	{ 4101, PZ_COAP_CODE(4, 3) },
	{ 4102, PZ_COAP_CODE(4, 6) },
	{ 4103, PZ_COAP_CODE(4, 3) },
	{ 4105, PZ_COAP_CODE(4, 3) },
	{ 4107, PZ_COAP_CODE(4, 3) },
	{ 4108, PZ_COAP_CODE(4, 3) },
	{ 4110, PZ_COAP_CODE(4, 0) },
	{ 4117, PZ_COAP_CODE(4, 3) },
	{ 4126, PZ_COAP_CODE(4, 3) },
	{ 4127, PZ_COAP_CODE(4, 3) },
	{ 4128, PZ_COAP_CODE(4, 3) },
	{ 4142, PZ_COAP_CODE(4, 0) },
	{ 4143, PZ_COAP_CODE(4, 0) },
	{ 5000, PZ_COAP_CODE(5, 0) },
	{ 5001, PZ_COAP_CODE(5, 1) },
	{ 5103, PZ_COAP_CODE(4, 4) },
	{ 5105, PZ_COAP_CODE(4, 3) },
	{ 5106, PZ_COAP_CODE(4, 0) },
	{ 5107, PZ_COAP_CODE(4, 4) },
	{ 5203, PZ_COAP_CODE(4, 3) },
	{ 5204, PZ_COAP_CODE(5, 0) },
	{ 5205, PZ_COAP_CODE(4, 3) },
	{ 5207, PZ_COAP_CODE(4, 6) },
	{ 5220, PZ_COAP_CODE(5, 3) },
	{ 5221, PZ_COAP_CODE(5, 0) },
	{ 6010, PZ_COAP_CODE(4, 0) },
	{ 6023, PZ_COAP_CODE(4, 0) },
	{ 6024, PZ_COAP_CODE(4, 0) },
};

uint8_t pz_coap_code(int rsc)
{
	for (size_t i = 0; i < sizeof(map_codes) / sizeof(map_codes[0]); i++)
		if (map_codes[i].rsc == rsc)
			return map_codes[i].code;
	if (rsc >= 2000 && rsc < 3000)
		return PZ_COAP_CODE(2, 5);
	if (rsc >= 4000 && rsc < 5000)
		return PZ_COAP_CODE(4, 0);
	return PZ_COAP_CODE(5, 0);
}

/* --- content formats ----------------------------------------------------- */

static bool map_cf_known(unsigned cf)
{
	switch (cf) {
	case PZ_COAP_CF_JSON: case PZ_COAP_CF_CBOR:
	case PZ_COAP_CF_SENML_JSON: case PZ_COAP_CF_SENML_CBOR:
	case PZ_COAP_CF_RES_JSON: case PZ_COAP_CF_NTFY_JSON:
	case PZ_COAP_CF_RES_CBOR: case PZ_COAP_CF_NTFY_CBOR:
		return true;
	default:
		return false;
	}
}

static enum pz_fmt map_cf_fmt(unsigned cf)
{
	return cf == PZ_COAP_CF_CBOR || cf == PZ_COAP_CF_SENML_CBOR ||
	       cf == PZ_COAP_CF_RES_CBOR || cf == PZ_COAP_CF_NTFY_CBOR ?
	       PZ_FMT_CBOR : PZ_FMT_JSON;
}

static bool map_cf_senml(unsigned cf)
{
	return cf == PZ_COAP_CF_SENML_JSON || cf == PZ_COAP_CF_SENML_CBOR;
}

/* The answer's format when the request has no Accept: the request's own
 * serialisation (a SenML or notification format answers in the plain
 * or resource one of its family), else JSON. */
static unsigned map_cf_answer(int req_cf)
{
	switch (req_cf) {
	case PZ_COAP_CF_CBOR: case PZ_COAP_CF_SENML_CBOR:
		return PZ_COAP_CF_CBOR;
	case PZ_COAP_CF_RES_CBOR: case PZ_COAP_CF_NTFY_CBOR:
		return PZ_COAP_CF_RES_CBOR;
	case PZ_COAP_CF_RES_JSON: case PZ_COAP_CF_NTFY_JSON:
		return PZ_COAP_CF_RES_JSON;
	default:
		return PZ_COAP_CF_JSON;
	}
}

/* --- option values ------------------------------------------------------- */

/* A uint option (RFC 7252 3.2): big-endian, at most max bytes. */
static bool map_uint(const struct pz_coap_opt *o, unsigned max, uint32_t *v)
{
	*v = 0;
	if (o->len > max)
		return false;
	for (unsigned i = 0; i < o->len; i++)
		*v = *v << 8 | o->val[i];
	return true;
}

/* Text plaza can carry: UTF-8 without control characters. */
static bool map_text_ok(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = s[i];
		size_t k;
		uint32_t cp;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return false;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i <= k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if ((k == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (k == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		i += k + 1;
	}
	return true;
}

static const struct {
	uint16_t num;
	const char *name;
	size_t off;
} map_strings[] = {
	{ PZ_COAP_OPT_OT, "oneM2M-OT", offsetof(struct pz_req, ot) },
	{ PZ_COAP_OPT_RTURI, "oneM2M-RTURI", offsetof(struct pz_req, rtu) },
	{ PZ_COAP_OPT_RVI, "oneM2M-RVI", offsetof(struct pz_req, rvi) },
	{ PZ_COAP_OPT_FR, "oneM2M-FR", offsetof(struct pz_req, fr) },
	{ PZ_COAP_OPT_RQI, "oneM2M-RQI", offsetof(struct pz_req, rqi) },
	{ PZ_COAP_OPT_GID, "oneM2M-GID", offsetof(struct pz_req, gid) },
	{ PZ_COAP_OPT_VSI, "oneM2M-VSI", offsetof(struct pz_req, vsi) },
};

static const struct {
	uint16_t num;
	const char *name;
	size_t off;
} map_times[] = {
	{ PZ_COAP_OPT_RQET, "oneM2M-RQET", offsetof(struct pz_req, rqet) },
	{ PZ_COAP_OPT_RSET, "oneM2M-RSET", offsetof(struct pz_req, rset) },
	{ PZ_COAP_OPT_OET, "oneM2M-OET", offsetof(struct pz_req, oet) },
};

/* A time option: an absolute timestamp or a duration from now. */
static int map_time(const char *v, int64_t *out)
{
	int64_t ms;

	if (pz_time_parse(v, out) == PZ_OK)
		return PZ_OK;
	if (pz_duration_parse(v, &ms) == PZ_OK) {
		*out = pz_time_now() + ms * 1000;
		return PZ_OK;
	}
	return PZ_EINVAL;
}

/* Is number an option that may appear more than once (RFC 7252 5.10)? */
static bool map_repeatable(unsigned num)
{
	return num == OPT_IF_MATCH || num == OPT_ETAG ||
	       num == OPT_LOCATION_PATH || num == OPT_URI_PATH ||
	       num == OPT_URI_QUERY || num == 20;
}

/* Options plaza accepts and leaves to libcoap or ignores. */
static bool map_passive(unsigned num)
{
	switch (num) {
	case OPT_URI_HOST: case OPT_URI_PORT: case OPT_BLOCK1:
	case OPT_BLOCK2: case PZ_COAP_OPT_ASRI: case PZ_COAP_OPT_RSC:
	case PZ_COAP_OPT_CTO: case PZ_COAP_OPT_CTS: case PZ_COAP_OPT_ATI:
		return true;
	default:
		return false;
	}
}

/* Everything the option pass collects before the request is built. */
struct map_state {
	const struct pz_coap_opt *segs[MAP_MAX_SEGS];
	size_t nsegs;
	int cf;                   /* Content-Format, -1 absent */
	int accept;               /* Accept, -1 absent */
	uint32_t ty;
	bool has_ty;
};

/* A string option into the request (arena copy). */
static int map_string_opt(const struct pz_coap_opt *o, const char *name,
			  struct pz_req *req, const char **dst,
			  struct pz_coap_out *out)
{
	char *s;

	if (!map_text_ok(o->val, o->len))
		return map_fail(out, 0, PZ_RSC_BAD_REQUEST,
				"%s is not printable UTF-8", name);
	s = pz_arena_strndup(&req->arena, (const char *)o->val, o->len);
	if (!s)
		return PZ_ENOMEM;
	*dst = s;
	return PZ_OK;
}

static int map_query(const struct pz_coap_opt *o, struct pz_req *req,
		     struct pz_coap_out *out)
{
	char *q, *eq, err[200];
	int rc;

	if (!map_text_ok(o->val, o->len))
		return map_fail(out, 0, PZ_RSC_BAD_REQUEST, "Uri-Query is not "
				"printable UTF-8");
	q = pz_arena_strndup(&req->arena, (const char *)o->val, o->len);
	if (!q)
		return PZ_ENOMEM;
	eq = strchr(q, '=');
	if (eq)
		*eq++ = '\0';
	rc = pz_req_param(req, q, eq ? eq : "", err, sizeof(err));
	if (rc == PZ_ENOMEM)
		return rc;
	if (rc != PZ_OK)
		return map_fail(out, 0, PZ_RSC_BAD_REQUEST, "%s", err);
	return PZ_OK;
}

/* One oneM2M or RFC 7252 option; unknown critical ones are refused. */
static int map_option(const struct pz_coap_opt *o, struct pz_req *req,
		      struct map_state *st, struct pz_coap_out *out)
{
	uint32_t v;
	size_t i;

	for (i = 0; i < sizeof(map_strings) / sizeof(map_strings[0]); i++)
		if (map_strings[i].num == o->num)
			return map_string_opt(o, map_strings[i].name, req,
				(const char **)((char *)req +
						map_strings[i].off), out);
	for (i = 0; i < sizeof(map_times) / sizeof(map_times[0]); i++) {
		const char *s = NULL;
		int rc;

		if (map_times[i].num != o->num)
			continue;
		rc = map_string_opt(o, map_times[i].name, req, &s, out);
		if (rc != PZ_OK)
			return rc;
		if (map_time(s, (int64_t *)((char *)req + map_times[i].off)))
			return map_fail(out, 0, PZ_RSC_BAD_REQUEST,
					"invalid %s '%.40s'", map_times[i].name,
					s);
		return PZ_OK;
	}
	switch (o->num) {
	case OPT_URI_PATH:
		if (st->nsegs == MAP_MAX_SEGS)
			return map_fail(out, 0, PZ_RSC_BAD_REQUEST, "more than "
					"%d Uri-Path segments", MAP_MAX_SEGS);
		st->segs[st->nsegs++] = o;
		return PZ_OK;
	case OPT_URI_QUERY:
		return map_query(o, req, out);
	case OPT_CONTENT_FORMAT:
		/* Longer than 2 bytes is outside the option's range: an
		 * unrecognised elective option, ignored (RFC 7252 5.4.3). */
		if (map_uint(o, 2, &v))
			st->cf = (int)v;
		return PZ_OK;
	case OPT_ACCEPT:
		if (!map_uint(o, 2, &v))
			return map_fail(out, PZ_COAP_CODE(4, 2),
					PZ_RSC_BAD_REQUEST, "Accept longer "
					"than 2 bytes");
		st->accept = (int)v;
		return PZ_OK;
	case OPT_OBSERVE:
		if (map_uint(o, 3, &v) && v <= 1)
			out->observe = (int)v;
		return PZ_OK;
	case PZ_COAP_OPT_TY:
		if (!map_uint(o, 4, &v) || v < 1 || v > 65535)
			return map_fail(out, 0, PZ_RSC_BAD_REQUEST,
					"invalid oneM2M-TY");
		st->ty = v;
		st->has_ty = true;
		return PZ_OK;
	case PZ_COAP_OPT_EC:
		if (!map_uint(o, 4, &v) || v < 1 || v > 255)
			return map_fail(out, 0, PZ_RSC_BAD_REQUEST,
					"invalid oneM2M-EC");
		req->ec = (int)v;
		return PZ_OK;
	case OPT_PROXY_URI:
	case OPT_PROXY_SCHEME:
		return map_fail(out, PZ_COAP_CODE(5, 5),
				PZ_RSC_NOT_IMPLEMENTED,
				"plaza is not a CoAP proxy");
	default:
		break;
	}
	if (map_passive(o->num) || !(o->num & 1))
		return PZ_OK;  /* handled by libcoap, or elective: ignored */
	return map_fail(out, PZ_COAP_CODE(4, 2), PZ_RSC_BAD_REQUEST,
			"unsupported critical option %u", o->num);
}

/* Walk the options in order; repeats of a non-repeatable option count
 * as unrecognised (RFC 7252 5.4.5). */
static int map_options(const struct pz_coap_in *in, struct pz_req *req,
		       struct map_state *st, struct pz_coap_out *out)
{
	for (size_t i = 0; i < in->nopts; i++) {
		const struct pz_coap_opt *o = &in->opts[i];
		bool repeat = false;
		int rc;

		if (!map_repeatable(o->num))
			for (size_t k = 0; k < i && !repeat; k++)
				repeat = in->opts[k].num == o->num;
		if (repeat && (o->num & 1))
			return map_fail(out, PZ_COAP_CODE(4, 2),
					PZ_RSC_BAD_REQUEST, "option %u "
					"repeated", o->num);
		if (repeat)
			continue;
		rc = map_option(o, req, st, out);
		if (rc != PZ_OK)
			return rc;
	}
	return PZ_OK;
}

/* The oneM2M "to" from the Uri-Path: "~" first is SP-relative, "_" first
 * is absolute, as in the HTTP binding. */
static int map_to(const struct map_state *st, struct pz_req *req,
		  struct pz_coap_out *out)
{
	size_t len = 3, first = 0;
	const char *prefix = "";
	char *to, *p;

	for (size_t i = 0; i < st->nsegs; i++) {
		const struct pz_coap_opt *s = st->segs[i];

		if (!s->len)
			return map_fail(out, 0, PZ_RSC_BAD_REQUEST,
					"empty Uri-Path segment");
		if (!map_text_ok(s->val, s->len) || memchr(s->val, '/', s->len))
			return map_fail(out, 0, PZ_RSC_BAD_REQUEST,
					"Uri-Path segment %zu holds '/' or a "
					"control character", i + 1);
		len += s->len + 1;
	}
	if (st->nsegs && st->segs[0]->len == 1) {
		if (st->segs[0]->val[0] == '~') {
			prefix = "/";
			first = 1;
		} else if (st->segs[0]->val[0] == '_') {
			prefix = "//";
			first = 1;
		}
	}
	to = pz_arena_alloc(&req->arena, len);
	if (!to)
		return PZ_ENOMEM;
	p = to + strlen(strcpy(to, prefix));
	for (size_t i = first; i < st->nsegs; i++) {
		if (i > first)
			*p++ = '/';
		memcpy(p, st->segs[i]->val, st->segs[i]->len);
		p += st->segs[i]->len;
	}
	*p = '\0';
	req->to = to;
	return PZ_OK;
}

static int map_op(const struct pz_coap_in *in, struct pz_req *req,
		  const struct map_state *st, struct pz_coap_out *out)
{
	bool senml = st->cf >= 0 && map_cf_senml((unsigned)st->cf);

	switch (in->code) {
	case 1:
		req->op = PZ_OP_RETRIEVE;
		return PZ_OK;
	case 2:
		if (senml) {
			if (st->has_ty && st->ty != PZ_TY_CIN)
				return map_fail(out, 0, PZ_RSC_BAD_REQUEST,
						"a SenML pack creates "
						"contentInstances (ty 4), "
						"not ty %u", st->ty);
			req->op = PZ_OP_CREATE;
			req->ty = PZ_TY_CIN;
			req->pc_kind = PZ_PC_SENML;
		} else {
			req->op = st->has_ty ? PZ_OP_CREATE : PZ_OP_NOTIFY;
			req->ty = st->has_ty ? (int)st->ty : 0;
		}
		return PZ_OK;
	case 3:
		if (senml)
			return map_fail(out, 0, PZ_RSC_UNSUPPORTED_MEDIA_TYPE,
					"SenML is accepted only in a POST to "
					"a container");
		req->op = PZ_OP_UPDATE;
		return PZ_OK;
	case 4:
		req->op = PZ_OP_DELETE;
		return PZ_OK;
	default:
		return map_fail(out, 0, PZ_RSC_OPERATION_NOT_ALLOWED,
				"method %u.%02u is not part of the oneM2M CoAP "
				"binding", in->code >> 5, in->code & 0x1f);
	}
}

/* Parse the payload for a Create, Update or Notify. */
static int map_body(const struct pz_coap_in *in, struct pz_req *req,
		    const struct map_state *st, struct pz_coap_out *out)
{
	const struct pz_codec_limits *lim = in->limits ? in->limits :
					    &pz_codec_default_limits;
	enum pz_fmt fmt;
	char err[240];
	int rc;

	if (req->op == PZ_OP_RETRIEVE || req->op == PZ_OP_DELETE)
		return PZ_OK;
	if (st->cf < 0)
		return map_fail(out, 0, PZ_RSC_UNSUPPORTED_MEDIA_TYPE,
				"missing Content-Format");
	if (!in->len) {
		if (req->pc_kind == PZ_PC_SENML)
			return map_fail(out, 0, PZ_RSC_BAD_REQUEST,
					"empty SenML pack");
		return PZ_OK;
	}
	fmt = map_cf_fmt((unsigned)st->cf);
	if (req->pc_kind == PZ_PC_SENML)
		rc = pz_senml_parse(fmt, in->body, in->len, lim, &req->pc, err,
				    sizeof(err));
	else
		rc = pz_codec_parse(fmt, in->body, in->len, lim, &req->pc, err,
				    sizeof(err));
	if (rc == PZ_ENOMEM)
		return rc;
	if (rc != PZ_OK)
		return map_fail(out, 0, PZ_RSC_BAD_REQUEST, "%s content: %s",
				req->pc_kind == PZ_PC_SENML ? "SenML" :
				fmt == PZ_FMT_CBOR ? "CBOR" : "JSON", err);
	return PZ_OK;
}

static bool map_accept_ok(int a)
{
	return a >= 0 && map_cf_known((unsigned)a) &&
	       !map_cf_senml((unsigned)a);
}

/* The answer's format: Accept when plaza can answer in it, else the
 * request's family (map_cf_answer). */
static void map_answer_fmt(const struct map_state *st,
			   struct pz_coap_out *out)
{
	out->cf = map_accept_ok(st->accept) ? (uint16_t)st->accept :
		  (uint16_t)map_cf_answer(st->cf);
	out->fmt = map_cf_fmt(out->cf);
}

int pz_coap_map(const struct pz_coap_in *in, struct pz_req *req,
		struct pz_coap_out *out)
{
	struct map_state st;
	int rc;

	memset(&st, 0, sizeof(st));
	st.cf = st.accept = -1;
	out->cf = PZ_COAP_CF_JSON;
	out->fmt = PZ_FMT_JSON;
	out->observe = -1;
	out->code = 0;
	out->rsc = 0;
	out->msg[0] = '\0';
	rc = map_options(in, req, &st, out);
	map_answer_fmt(&st, out);  /* refusals too are answered in it */
	if (rc != PZ_OK)
		return rc;
	if (st.accept >= 0 && !map_accept_ok(st.accept))
		return map_fail(out, 0, PZ_RSC_NOT_ACCEPTABLE, "cannot answer "
				"in Content-Format %d; plaza answers in 50, 60, "
				"10001, 10003, 10010 or 10011", st.accept);
	if (st.cf >= 0 && !map_cf_known((unsigned)st.cf))
		return map_fail(out, 0, PZ_RSC_UNSUPPORTED_MEDIA_TYPE,
				"unsupported Content-Format %d", st.cf);
	rc = map_to(&st, req, out);
	if (rc == PZ_OK)
		rc = map_op(in, req, &st, out);
	if (rc != PZ_OK)
		return rc;
	if (in->code != 1)
		out->observe = -1;
	if (in->max_body && in->len > in->max_body)
		return map_fail(out, PZ_COAP_CODE(4, 13), PZ_RSC_BAD_REQUEST,
				"request body exceeds %zu bytes",
				in->max_body);
	return map_body(in, req, &st, out);
}

/* --- answers ------------------------------------------------------------- */

static void answer_opt(struct pz_coap_answer *a, uint16_t num,
		       const void *val, size_t len)
{
	if (a->nopts == PZ_COAP_ANSWER_MAXOPT || len > UINT16_MAX)
		return;
	a->opts[a->nopts].num = num;
	a->opts[a->nopts].len = (uint16_t)len;
	a->opts[a->nopts].val = val;
	a->nopts++;
}

/* A uint option, shortest form (RFC 7252 3.2), its bytes in scratch. */
static void answer_uint(struct pz_coap_answer *a, uint16_t num, uint32_t v)
{
	uint8_t *p = a->scratch + a->used;
	size_t n = 0;

	if (a->used + 4 > sizeof(a->scratch))
		return;
	for (int shift = 24; shift >= 0; shift -= 8)
		if (n || (v >> shift) & 0xff)
			p[n++] = (uint8_t)(v >> shift);
	a->used += n;
	answer_opt(a, num, p, n);
}

/* Location-Path segments of a created resource's address (at most 16;
 * longer addresses go without). */
static void answer_location(struct pz_coap_answer *a, const char *loc)
{
	const char *segs[16];
	size_t lens[16], n = 0;
	const char *p = loc;

	if (!strncmp(p, "//", 2)) {
		segs[n] = "_";
		lens[n++] = 1;
		p += 2;
	} else if (*p == '/') {
		segs[n] = "~";
		lens[n++] = 1;
		p++;
	}
	while (*p) {
		size_t len = strcspn(p, "/");

		if (n == 16)
			return;
		if (len) {
			segs[n] = p;
			lens[n++] = len;
		}
		p += len;
		if (*p == '/')
			p++;
	}
	for (size_t i = 0; i < n; i++)
		answer_opt(a, OPT_LOCATION_PATH, segs[i], lens[i]);
}

int pz_coap_answer(const struct pz_rsp *rsp, const char *req_rqi,
		   uint16_t cf, enum pz_fmt fmt, struct pz_coap_answer *a)
{
	int rsc = rsp->rsc;
	const char *rqi = rsp->rqi ? rsp->rqi : req_rqi;
	int rc;

	a->nopts = 0;
	a->used = 0;
	pz_buf_init(&a->body, 0);
	if (rsp->pc) {
		rc = pz_codec_encode(fmt, rsp->pc, &a->body);
		if (rc == PZ_ENOMEM)
			return rc;
		if (rc != PZ_OK) {
			json_t *dbg = json_pack("{s:s}", "m2m:dbg", "the answer "
						"cannot be encoded");

			pz_buf_free(&a->body);
			rsc = PZ_RSC_INTERNAL_SERVER_ERROR;
			if (!dbg)
				return PZ_ENOMEM;
			rc = pz_codec_encode(fmt, dbg, &a->body);
			json_decref(dbg);
			if (rc != PZ_OK)
				pz_buf_free(&a->body);
		}
	}
	a->code = pz_coap_code(rsc);
	if (rsc == PZ_RSC_CREATED && rsp->location && rsp->location[0])
		answer_location(a, rsp->location);
	if (a->body.len)
		answer_uint(a, OPT_CONTENT_FORMAT, cf);
	if (rsp->ot && rsp->ot[0])
		answer_opt(a, PZ_COAP_OPT_OT, rsp->ot, strlen(rsp->ot));
	answer_opt(a, PZ_COAP_OPT_RVI, rsp->rvi[0] ? rsp->rvi : "4",
		   strlen(rsp->rvi[0] ? rsp->rvi : "4"));
	if (rqi && rqi[0])
		answer_opt(a, PZ_COAP_OPT_RQI, rqi, strlen(rqi));
	answer_uint(a, PZ_COAP_OPT_RSC, (uint32_t)rsc);
	return PZ_OK;
}

void pz_coap_answer_clear(struct pz_coap_answer *a)
{
	pz_buf_free(&a->body);
	a->nopts = 0;
	a->used = 0;
}

/* --- plain CoAP originators ---------------------------------------------- */

/* Does s[0..n) match the glob p[0..m) where only '*' is special? */
static bool map_glob(const char *p, size_t m, const char *s)
{
	const char *star = NULL, *resume = NULL;
	size_t i = 0;

	while (*s) {
		if (i < m && p[i] == '*') {
			star = p + ++i;
			resume = s;
		} else if (i < m && p[i] == *s) {
			i++;
			s++;
		} else if (star) {
			i = (size_t)(star - p);
			s = ++resume;
		} else {
			return false;
		}
	}
	while (i < m && p[i] == '*')
		i++;
	return i == m;
}

bool pz_coap_plain_allowed(const char *patterns, const char *fr)
{
	const char *p = patterns;

	if (!p || !fr || !*fr)
		return false;
	while (*p) {
		size_t n;

		p += strspn(p, " \t,");
		n = strcspn(p, " \t,");
		if (n && map_glob(p, n, fr))
			return true;
		p += n;
	}
	return false;
}
