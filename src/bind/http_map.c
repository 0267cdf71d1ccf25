/*
 * http_map.c - the oneM2M HTTP binding's request mapping (TS-0009), as a
 * pure function from method, path, headers and query parameters to a
 * pz_req.  No I/O: http.c feeds it from libmicrohttpd, the fuzz target and
 * the unit tests from memory.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plaza/pz_b64.h"
#include "plaza/pz_err.h"
#include "plaza/pz_http.h"
#include "plaza/pz_time.h"

static int map_fail(struct pz_http_out *out, int status, int rsc,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int map_fail(struct pz_http_out *out, int status, int rsc,
		    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out->msg, sizeof(out->msg), fmt, ap);
	va_end(ap);
	out->status = status ? status : pz_rsc_http(rsc);
	out->rsc = rsc;
	return PZ_EREQ;
}

/*
 * The headers the binding reads, found in one pass over the request's
 * headers (a lookup per name would compare every header a dozen times).
 */
static const char *const map_names[] = {
	"X-M2M-Origin", "X-M2M-RI", "X-M2M-RVI", "X-M2M-RTU", "X-M2M-OT",
	"X-M2M-GID", "X-M2M-VSI", "X-M2M-RET", "X-M2M-RST", "X-M2M-OET",
	"X-M2M-EC", "Authorization", "Accept", "Content-Type", NULL
};

#define MAP_NHDR (sizeof(map_names) / sizeof(map_names[0]) - 1)

struct map_hdrs {
	const char *v[MAP_NHDR];   /* value of map_names[i], or NULL */
};

static void map_index(const struct pz_http_in *in, struct map_hdrs *h)
{
	memset(h, 0, sizeof(*h));
	for (size_t i = 0; i < in->nheaders; i++) {
		const char *n = in->headers[i].name;

		if (!n)
			continue;
		for (size_t k = 0; k < MAP_NHDR; k++) {
			/* The first letter rules out most names cheaply. */
			if ((n[0] | 0x20) != (map_names[k][0] | 0x20) ||
			    strcasecmp(n, map_names[k]))
				continue;
			if (!h->v[k])
				h->v[k] = in->headers[i].value;
			break;
		}
	}
}

static const char *map_header(const struct map_hdrs *h, const char *name)
{
	for (size_t k = 0; k < MAP_NHDR; k++)
		if (map_names[k] == name || !strcmp(map_names[k], name))
			return h->v[k];
	return NULL;
}

/* The media types plaza reads and writes. */
static const struct map_type {
	const char *name;
	enum pz_fmt fmt;
	bool senml;           /* a SenML pack (request content only) */
} map_types[] = {
	{ "application/json", PZ_FMT_JSON, false },
	{ "application/vnd.onem2m-res+json", PZ_FMT_JSON, false },
	{ "application/vnd.onem2m-ntfy+json", PZ_FMT_JSON, false },
	{ "application/cbor", PZ_FMT_CBOR, false },
	{ "application/vnd.onem2m-res+cbor", PZ_FMT_CBOR, false },
	{ "application/vnd.onem2m-ntfy+cbor", PZ_FMT_CBOR, false },
	{ "application/senml+json", PZ_FMT_JSON, true },
	{ "application/senml+cbor", PZ_FMT_CBOR, true },
	{ NULL, PZ_FMT_JSON, false }
};

/* The entry for the type at s (n bytes, parameters cut off), or NULL. */
static const struct map_type *map_type_of(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	for (const struct map_type *t = map_types; t->name; t++)
		if (strlen(t->name) == n && !strncasecmp(s, t->name, n))
			return t;
	return NULL;
}

/* "application/json; ty=4" -> its entry (NULL if unsupported), *ty = 4. */
static const struct map_type *map_media(const char *ct, int *ty,
					bool *bad_ty)
{
	size_t n = strcspn(ct, ";");
	const char *p = ct + n;

	*ty = 0;
	*bad_ty = false;
	while (*p == ';') {
		p++;
		while (isspace((unsigned char)*p))
			p++;
		if (!strncasecmp(p, "ty=", 3)) {
			char *end;
			long v = strtol(p + 3, &end, 10);

			if (end == p + 3 || v < 1 || v > 65535 ||
			    (*end && *end != ';' &&
			     !isspace((unsigned char)*end)))
				*bad_ty = true;
			else
				*ty = (int)v;
		}
		p += strcspn(p, ";");
	}
	return map_type_of(ct, n);
}

/*
 * The answer's serialisation from Accept: the first listed type plaza
 * writes (SenML is not an answer format); a wildcard, or no Accept, means
 * the request's own format (JSON when it had none).  False when nothing
 * listed can be served.
 */
static bool map_accept(const char *accept, const struct map_type *req_type,
		       struct pz_http_out *out)
{
	const char *p = accept;

	out->accept = req_type ? req_type->fmt : PZ_FMT_JSON;
	out->ctype = out->accept == PZ_FMT_CBOR ? "application/cbor" :
		     "application/json";
	if (req_type && !req_type->senml)
		out->ctype = req_type->name;
	if (!accept || !*accept)
		return true;
	while (*p) {
		size_t n = strcspn(p, ",");
		size_t m = strcspn(p, ";,");
		const char *q = memchr(p, ';', n);
		const struct map_type *t = map_type_of(p, m);
		bool zero = q && strstr(q, "q=0") && !strstr(q, "q=0.");

		if (!zero && t && !t->senml) {
			out->accept = t->fmt;
			out->ctype = t->name;
			return true;
		}
		while (m && isspace((unsigned char)*p)) {
			p++;
			m--;
			n--;
		}
		if (!zero && ((m == 3 && !strncmp(p, "*/*", 3)) ||
			      (m == 13 && !strncasecmp(p, "application/*",
						       13))))
			return true;
		p += n + (p[n] == ',');
	}
	return false;
}

static const struct {
	const char *name;
	size_t off;
} map_strings[] = {
	{ "X-M2M-Origin", offsetof(struct pz_req, fr) },
	{ "X-M2M-RI", offsetof(struct pz_req, rqi) },
	{ "X-M2M-RVI", offsetof(struct pz_req, rvi) },
	{ "X-M2M-RTU", offsetof(struct pz_req, rtu) },
	{ "X-M2M-OT", offsetof(struct pz_req, ot) },
	{ "X-M2M-GID", offsetof(struct pz_req, gid) },
	{ "X-M2M-VSI", offsetof(struct pz_req, vsi) },
};

static const struct {
	const char *name;
	size_t off;
} map_times[] = {
	{ "X-M2M-RET", offsetof(struct pz_req, rqet) },
	{ "X-M2M-RST", offsetof(struct pz_req, rset) },
	{ "X-M2M-OET", offsetof(struct pz_req, oet) },
};

/* A time header: an absolute timestamp or a relative duration. */
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

static int map_auth(struct pz_req *req, const char *v)
{
	unsigned char dec[384];
	char *colon;
	long n;

	if (!strncasecmp(v, "Bearer ", 7)) {
		v += 7;
		while (*v == ' ')
			v++;
		if (!*v)
			return PZ_EINVAL;
		req->auth = PZ_AUTH_SECRET;
		req->secret = pz_arena_strdup(&req->arena, v);
		return req->secret ? PZ_OK : PZ_ENOMEM;
	}
	if (!strncasecmp(v, "Basic ", 6)) {
		v += 6;
		while (*v == ' ')
			v++;
		n = pz_b64_decode(v, dec, sizeof(dec) - 1);
		if (n <= 0)
			return PZ_EINVAL;
		dec[n] = '\0';
		if (memchr(dec, '\0', (size_t)n))
			return PZ_EINVAL;
		colon = strchr((char *)dec, ':');
		if (!colon || colon == (char *)dec || !colon[1])
			return PZ_EINVAL;
		*colon = '\0';
		req->auth = PZ_AUTH_SECRET;
		req->auth_id = pz_arena_strdup(&req->arena, (char *)dec);
		req->secret = pz_arena_strdup(&req->arena, colon + 1);
		return req->auth_id && req->secret ? PZ_OK : PZ_ENOMEM;
	}
	return PZ_EINVAL;
}

/* The oneM2M "to" for an HTTP path. */
static const char *map_to(struct pz_req *req, const char *path)
{
	struct pz_arena *ar = &req->arena;

	if (!strncmp(path, "/~/", 3))
		return pz_arena_printf(ar, "/%s", path + 3);
	if (!strncmp(path, "/_/", 3))
		return pz_arena_printf(ar, "//%s", path + 3);
	return pz_arena_strdup(ar, path[0] == '/' ? path + 1 : path);
}

static int map_op(const struct pz_http_in *in, struct pz_req *req, int ty,
		  struct pz_http_out *out)
{
	const char *m = in->method ? in->method : "";

	if (!strcmp(m, "GET")) {
		req->op = PZ_OP_RETRIEVE;
	} else if (!strcmp(m, "POST")) {
		req->op = ty ? PZ_OP_CREATE : PZ_OP_NOTIFY;
		req->ty = ty;
	} else if (!strcmp(m, "PUT")) {
		req->op = PZ_OP_UPDATE;
	} else if (!strcmp(m, "DELETE")) {
		req->op = PZ_OP_DELETE;
	} else {
		return map_fail(out, 405, 4005, "method %.16s is not part of "
				"the oneM2M HTTP binding", m);
	}
	return PZ_OK;
}

/* Ambiguous framing is how requests are smuggled past proxies: differing
 * Content-Length values, or Content-Length with Transfer-Encoding, are
 * refused (RFC 9112 6.1, 6.3). */
static int map_framing(const struct pz_http_in *in, struct pz_http_out *out)
{
	const char *cl = NULL;
	bool te = false;

	for (size_t i = 0; i < in->nheaders; i++) {
		const char *n = in->headers[i].name, *v = in->headers[i].value;

		if (!n)
			continue;
		if (!strcasecmp(n, "Transfer-Encoding"))
			te = true;
		if (strcasecmp(n, "Content-Length"))
			continue;
		if (cl && strcmp(cl, v ? v : ""))
			return map_fail(out, 400, 4000, "conflicting "
					"Content-Length headers");
		cl = v ? v : "";
	}
	if (cl && te)
		return map_fail(out, 400, 4000, "Content-Length together with "
				"Transfer-Encoding");
	return PZ_OK;
}

int pz_http_map(const struct pz_http_in *in, struct pz_req *req,
		struct pz_http_out *out)
{
	struct map_hdrs hdrs;
	const struct map_type *type = NULL;
	const char *ct, *v;
	char err[200];
	bool bad_ty = false;
	int ty = 0, rc;
	size_t i;

	map_index(in, &hdrs);
	out->accept = PZ_FMT_JSON;
	out->body_fmt = PZ_FMT_JSON;
	out->ctype = "application/json";
	out->status = 0;
	out->rsc = 0;
	out->msg[0] = '\0';
	for (i = 0; i < sizeof(map_strings) / sizeof(map_strings[0]); i++) {
		v = map_header(&hdrs, map_strings[i].name);
		if (!v)
			continue;
		v = pz_arena_strdup(&req->arena, v);
		if (!v)
			return PZ_ENOMEM;
		*(const char **)((char *)req + map_strings[i].off) = v;
	}
	rc = map_framing(in, out);
	if (rc != PZ_OK)
		return rc;
	for (const char *p = in->path ? in->path : ""; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return map_fail(out, 0, 4000, "control character in the "
					"path");
	req->to = map_to(req, in->path ? in->path : "/");
	if (!req->to)
		return PZ_ENOMEM;
	for (i = 0; i < sizeof(map_times) / sizeof(map_times[0]); i++) {
		v = map_header(&hdrs, map_times[i].name);
		if (v && map_time(v, (int64_t *)((char *)req +
						 map_times[i].off)) != PZ_OK)
			return map_fail(out, 0, 4000, "invalid %s '%.40s'",
					map_times[i].name, v);
	}
	if ((v = map_header(&hdrs, "X-M2M-EC"))) {
		char *end;
		long ec = strtol(v, &end, 10);

		req->ec = end != v && !*end ? (int)ec : 0;
		if (ec < 1 || ec > 255 || end == v || *end)
			return map_fail(out, 0, 4000,
					"invalid X-M2M-EC '%.20s'", v);
	}
	v = map_header(&hdrs, "Authorization");
	if (v) {
		rc = map_auth(req, v);
		if (rc == PZ_ENOMEM)
			return rc;
		if (rc != PZ_OK)
			return map_fail(out, 0, 4103, "malformed Authorization "
					"header (use Bearer or Basic)");
	}
	ct = map_header(&hdrs, "Content-Type");
	if (ct)
		type = map_media(ct, &ty, &bad_ty);
	v = map_header(&hdrs, "Accept");
	if (!map_accept(v, type, out))
		return map_fail(out, 406, 5207, "cannot answer in '%.60s'; "
				"plaza writes JSON and CBOR", v);
	for (i = 0; i < in->nargs; i++) {
		rc = pz_req_param(req, in->args[i].name ? in->args[i].name : "",
				  in->args[i].value, err, sizeof(err));
		if (rc == PZ_ENOMEM)
			return rc;
		if (rc != PZ_OK)
			return map_fail(out, 0, 4000, "%s", err);
	}
	if (bad_ty)
		return map_fail(out, 0, 4000, "invalid resource type in "
				"Content-Type '%.60s'", ct);
	if (ct && !type)
		return map_fail(out, 0, 4015, "unsupported Content-Type "
				"'%.60s'", ct);
	/* A SenML pack posted to a container creates its instances. */
	if (type && type->senml && ty == 0)
		ty = PZ_TY_CIN;
	rc = map_op(in, req, ty, out);
	if (rc != PZ_OK)
		return rc;
	if ((req->op == PZ_OP_CREATE || req->op == PZ_OP_UPDATE ||
	     req->op == PZ_OP_NOTIFY) && !ct)
		return map_fail(out, 0, 4015, "missing Content-Type");
	if (type && type->senml) {
		if (req->op != PZ_OP_CREATE || req->ty != PZ_TY_CIN)
			return map_fail(out, 0, 4015, "SenML is posted to a "
					"container to create instances");
		req->pc_kind = PZ_PC_SENML;
	}
	out->body_fmt = type ? type->fmt : PZ_FMT_JSON;
	return PZ_OK;
}
