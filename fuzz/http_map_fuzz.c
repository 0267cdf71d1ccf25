/*
 * http_map_fuzz.c - libFuzzer target for pz_http_map, the HTTP to
 * request-primitive mapping.
 *
 * Input, one field per line:
 *   method
 *   path                 ('/' is prepended when missing: paths arrive
 *                         decoded and rooted, pz_http.h)
 *   Name: value          headers, up to an empty line
 *   name=value           query parameters (no '=': NULL value)
 * Checks: PZ_OK or PZ_EREQ; a refusal has a 4xx/5xx status that is the
 * rsc's own HTTP status and a reason; an accepted request has a target and
 * an operation.  Round trip: the mapped request is written back as an
 * HTTP request (method, Content-Type with ty, path in its scope form,
 * X-M2M-* headers, Authorization, Accept, query) and mapped again; both
 * requests and negotiated types must be equal.  pz_req_clear after each.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plaza/pz_b64.h"
#include "plaza/pz_err.h"
#include "plaza/pz_http.h"
#include "plaza/pz_mem.h"

#define FZ_CHECK(c)                                                       \
	do {                                                              \
		if (!(c)) {                                               \
			fprintf(stderr, "%s:%d: check failed: %s\n",      \
				__FILE__, __LINE__, #c);                  \
			abort();                                          \
		}                                                         \
	} while (0)

#define FZ_MAX_KV 64
/* Room for every parameter a request can hold written back: four lists
 * of PZ_FC_MAX_LIST plus the single-valued ones. */
#define FZ_MAX_ARGS (4 * PZ_FC_MAX_LIST + 32)

typedef void (*fz_emit_fn)(void *ud, const char *name, const char *value);
void fz_ts(int64_t t, char out[48]);
void fz_req_params(const struct pz_req *req, fz_emit_fn emit, void *ud);
const char *fz_req_diff(const struct pz_req *a, const struct pz_req *b);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The rebuilt HTTP request; strings live in arena. */
struct fz_http {
	struct pz_arena arena;
	struct pz_http_kv h[FZ_MAX_KV], a[FZ_MAX_ARGS];
	struct pz_http_in in;
};

static void fz_hdr(struct fz_http *x, const char *name, const char *value)
{
	if (!value || x->in.nheaders == FZ_MAX_KV)
		return;
	x->h[x->in.nheaders].name = name;
	x->h[x->in.nheaders++].value = value;
}

static void fz_arg(void *ud, const char *name, const char *value)
{
	struct fz_http *x = ud;

	FZ_CHECK(x->in.nargs < FZ_MAX_ARGS);
	x->a[x->in.nargs].name = pz_arena_strdup(&x->arena, name);
	x->a[x->in.nargs++].value = pz_arena_strdup(&x->arena, value);
}

/* Write req (and the negotiated type) back as an HTTP request. */
static void fz_rebuild(const struct pz_req *req, const struct pz_http_out *o,
		       struct fz_http *x)
{
	struct pz_arena *ar = &x->arena;
	char ts[48], *cred, *auth;
	const char *body;

	x->in.headers = x->h;
	x->in.args = x->a;
	body = o->body_fmt == PZ_FMT_CBOR ? "application/cbor" :
	       "application/json";
	switch (req->op) {
	case PZ_OP_CREATE:
		x->in.method = "POST";
		if (req->pc_kind == PZ_PC_SENML)
			fz_hdr(x, "Content-Type", o->body_fmt == PZ_FMT_CBOR ?
			       "application/senml+cbor" :
			       "application/senml+json");
		else
			fz_hdr(x, "Content-Type", pz_arena_printf(ar,
				"%s;ty=%d", body, req->ty));
		break;
	case PZ_OP_NOTIFY:
		x->in.method = "POST";
		fz_hdr(x, "Content-Type", body);
		break;
	case PZ_OP_UPDATE:
		x->in.method = "PUT";
		fz_hdr(x, "Content-Type", body);
		break;
	case PZ_OP_DELETE:
		x->in.method = "DELETE";
		break;
	default:
		x->in.method = "GET";
		break;
	}
	/* A retrieve or delete has no body, but a Content-Type it carries
	 * still decides the answer's format when Accept is absent and is
	 * kept in body_fmt: write it back. */
	if ((req->op == PZ_OP_RETRIEVE || req->op == PZ_OP_DELETE) &&
	    o->body_fmt == PZ_FMT_CBOR)
		fz_hdr(x, "Content-Type", body);
	if (req->to[0] == '/' && req->to[1] == '/')
		x->in.path = pz_arena_printf(ar, "/_/%s", req->to + 2);
	else if (req->to[0] == '/')
		x->in.path = pz_arena_printf(ar, "/~/%s", req->to + 1);
	else
		x->in.path = pz_arena_printf(ar, "/%s", req->to);
	fz_hdr(x, "X-M2M-Origin", req->fr);
	fz_hdr(x, "X-M2M-RI", req->rqi);
	fz_hdr(x, "X-M2M-RVI", req->rvi);
	fz_hdr(x, "X-M2M-RTU", req->rtu);
	fz_hdr(x, "X-M2M-OT", req->ot);
	fz_hdr(x, "X-M2M-GID", req->gid);
	fz_hdr(x, "X-M2M-VSI", req->vsi);
	if (req->rqet) {
		fz_ts(req->rqet, ts);
		fz_hdr(x, "X-M2M-RET", pz_arena_strdup(ar, ts));
	}
	if (req->rset) {
		fz_ts(req->rset, ts);
		fz_hdr(x, "X-M2M-RST", pz_arena_strdup(ar, ts));
	}
	if (req->oet) {
		fz_ts(req->oet, ts);
		fz_hdr(x, "X-M2M-OET", pz_arena_strdup(ar, ts));
	}
	if (req->ec)
		fz_hdr(x, "X-M2M-EC", pz_arena_printf(ar, "%d", req->ec));
	if (req->auth == PZ_AUTH_SECRET && req->auth_id) {
		cred = pz_arena_printf(ar, "%s:%s", req->auth_id, req->secret);
		auth = pz_arena_alloc(ar, 6 + 4 * (strlen(cred) / 3 + 1) + 1);
		FZ_CHECK(cred && auth);
		memcpy(auth, "Basic ", 6);
		pz_b64_encode((const uint8_t *)cred, strlen(cred), auth + 6, 0);
		fz_hdr(x, "Authorization", auth);
	} else if (req->auth == PZ_AUTH_SECRET) {
		fz_hdr(x, "Authorization", pz_arena_printf(ar, "Bearer %s",
							   req->secret));
	}
	/* The answer's type, asked for explicitly. */
	fz_hdr(x, "Accept", o->ctype);
	fz_req_params(req, fz_arg, x);
}

/* Split the input into an HTTP request; strings are cut in place. */
static void fz_split(char *text, struct fz_http *x)
{
	char *line = text, *next;
	int field = 0;
	bool headers = true;

	x->in.headers = x->h;
	x->in.args = x->a;
	for (; line; line = next, field++) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (field == 0) {
			x->in.method = line;
		} else if (field == 1) {
			x->in.path = line[0] == '/' ? line :
				     pz_arena_printf(&x->arena, "/%s", line);
		} else if (headers && !*line) {
			headers = false;
		} else if (headers) {
			char *colon = strchr(line, ':');

			if (colon) {
				*colon++ = '\0';
				while (*colon == ' ')
					colon++;
			}
			fz_hdr(x, line, colon ? colon : "");
		} else if (x->in.nargs < FZ_MAX_ARGS) {
			char *eq = strchr(line, '=');

			if (eq)
				*eq++ = '\0';
			x->a[x->in.nargs].name = line;
			x->a[x->in.nargs++].value = eq;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_http *x = calloc(2, sizeof(*x)), *y;
	struct pz_http_out out, out2;
	struct pz_req req, req2;
	char *text = malloc(size + 1);
	const char *diff;
	int rc;

	if (!x || !text)
		abort();
	y = x + 1;
	memcpy(text, data, size);
	text[size] = '\0';
	pz_arena_init(&x->arena);
	pz_arena_init(&y->arena);
	fz_split(text, x);
	pz_req_init(&req);
	rc = pz_http_map(&x->in, &req, &out);
	FZ_CHECK(rc == PZ_OK || rc == PZ_EREQ);
	if (rc == PZ_EREQ) {
		FZ_CHECK(out.status >= 400 && out.status <= 599);
		FZ_CHECK(out.rsc >= 4000 && out.rsc <= 6999);
		FZ_CHECK(out.status == pz_rsc_http(out.rsc));
		FZ_CHECK(memchr(out.msg, '\0', sizeof(out.msg)) != NULL);
		FZ_CHECK(out.msg[0] != '\0');
		goto done;
	}
	FZ_CHECK(req.to != NULL);
	FZ_CHECK(req.op >= PZ_OP_CREATE && req.op <= PZ_OP_NOTIFY);
	FZ_CHECK((req.op == PZ_OP_CREATE) == (req.ty > 0));
	FZ_CHECK((out.accept == PZ_FMT_JSON || out.accept == PZ_FMT_CBOR) &&
		 out.ctype != NULL);
	FZ_CHECK(req.pc_kind != PZ_PC_SENML ||
		 (req.op == PZ_OP_CREATE && req.ty == PZ_TY_CIN));

	fz_rebuild(&req, &out, y);
	pz_req_init(&req2);
	rc = pz_http_map(&y->in, &req2, &out2);
	if (rc != PZ_OK) {
		fprintf(stderr, "rebuilt request refused: %d %s\n", rc,
			out2.msg);
		abort();
	}
	diff = fz_req_diff(&req, &req2);
	if (diff) {
		fprintf(stderr, "round trip changed %s\n", diff);
		abort();
	}
	FZ_CHECK(!strcmp(out.ctype, out2.ctype));
	FZ_CHECK(out.accept == out2.accept && out.body_fmt == out2.body_fmt);
	FZ_CHECK(req.pc_kind == req2.pc_kind);
	pz_req_clear(&req2);
done:
	pz_req_clear(&req);
	pz_arena_free(&x->arena);
	pz_arena_free(&y->arena);
	free(text);
	free(x);
	return 0;
}
