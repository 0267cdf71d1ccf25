/*
 * coap_map_fuzz.c - libFuzzer target for pz_coap_map, the CoAP to
 * request-primitive mapping, fed the way plazad feeds it: the input is one
 * raw CoAP datagram (RFC 7252 3), parsed by libcoap's coap_pdu_parse; its
 * options, in message order, and its payload go to the mapping.
 *
 * Checks: PZ_OK or PZ_EREQ; a refusal has a 4.xx/5.xx code, an rsc and a
 * reason; an accepted request has a target and an operation, Create iff a
 * type.  Round trip: the mapped request is written back as CoAP options
 * (Uri-Path in its scope form, the oneM2M options, Uri-Query from
 * fz_req_params, Accept, Observe, the content re-encoded as JSON) and
 * mapped again; both requests must be equal.  Every outcome is also turned
 * into an answer (pz_coap_answer), whose options must be in order.
 */
#include <coap3/coap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plaza/pz_coap.h"
#include "plaza/pz_err.h"
#include "plaza/pz_mem.h"

#define FZ_CHECK(c)                                                       \
	do {                                                              \
		if (!(c)) {                                               \
			fprintf(stderr, "%s:%d: check failed: %s\n",      \
				__FILE__, __LINE__, #c);                  \
			abort();                                          \
		}                                                         \
	} while (0)

#define FZ_MAX_OPTS 256
#define FZ_MAX_RE (4 * PZ_FC_MAX_LIST + 128)

typedef void (*fz_emit_fn)(void *ud, const char *name, const char *value);
void fz_ts(int64_t t, char out[48]);
void fz_req_params(const struct pz_req *req, fz_emit_fn emit, void *ud);
const char *fz_req_diff(const struct pz_req *a, const struct pz_req *b);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The rebuilt request: options whose values live in arena. */
struct fz_coap {
	struct pz_arena arena;
	struct pz_coap_opt o[FZ_MAX_RE];
	size_t n;
	struct pz_buf body;
};

static void fz_opt(struct fz_coap *x, uint16_t num, const void *val,
		   size_t len)
{
	FZ_CHECK(x->n < FZ_MAX_RE && len <= UINT16_MAX);
	x->o[x->n].num = num;
	x->o[x->n].len = (uint16_t)len;
	x->o[x->n].val = val;
	x->n++;
}

static void fz_sopt(struct fz_coap *x, uint16_t num, const char *s)
{
	if (s)
		fz_opt(x, num, s, strlen(s));
}

static void fz_uopt(struct fz_coap *x, uint16_t num, uint32_t v)
{
	uint8_t *p = pz_arena_alloc(&x->arena, 4);
	size_t n = 0;

	FZ_CHECK(p);
	for (int shift = 24; shift >= 0; shift -= 8)
		if (n || (v >> shift) & 0xff)
			p[n++] = (uint8_t)(v >> shift);
	fz_opt(x, num, p, n);
}

static void fz_query(void *ud, const char *name, const char *value)
{
	struct fz_coap *x = ud;

	fz_sopt(x, 15, pz_arena_printf(&x->arena, "%s=%s", name, value));
}

static void fz_topt(struct fz_coap *x, uint16_t num, int64_t t)
{
	char ts[48];

	if (!t)
		return;
	fz_ts(t, ts);
	fz_sopt(x, num, pz_arena_strdup(&x->arena, ts));
}

/* Write req (and the negotiated answer format) back as CoAP options. */
static void fz_rebuild(const struct pz_req *req, const struct pz_coap_out *o,
		       struct fz_coap *x, struct pz_coap_in *in)
{
	const char *p = req->to;
	bool senml = req->pc_kind == PZ_PC_SENML;

	if (p[0] == '/' && p[1] == '/') {
		fz_sopt(x, 11, "_");
		p += 2;
	} else if (p[0] == '/') {
		fz_sopt(x, 11, "~");
		p++;
	}
	while (*p) {
		size_t n = strcspn(p, "/");

		fz_opt(x, 11, p, n);
		p += n;
		if (*p == '/')
			p++;
	}
	fz_sopt(x, PZ_COAP_OPT_FR, req->fr);
	fz_sopt(x, PZ_COAP_OPT_RQI, req->rqi);
	fz_sopt(x, PZ_COAP_OPT_RVI, req->rvi);
	fz_sopt(x, PZ_COAP_OPT_RTURI, req->rtu);
	fz_sopt(x, PZ_COAP_OPT_OT, req->ot);
	fz_sopt(x, PZ_COAP_OPT_GID, req->gid);
	fz_sopt(x, PZ_COAP_OPT_VSI, req->vsi);
	fz_topt(x, PZ_COAP_OPT_RQET, req->rqet);
	fz_topt(x, PZ_COAP_OPT_RSET, req->rset);
	fz_topt(x, PZ_COAP_OPT_OET, req->oet);
	if (req->ec)
		fz_uopt(x, PZ_COAP_OPT_EC, (uint32_t)req->ec);
	if (req->op == PZ_OP_CREATE && !senml)
		fz_uopt(x, PZ_COAP_OPT_TY, (uint32_t)req->ty);
	if (req->op == PZ_OP_CREATE || req->op == PZ_OP_UPDATE ||
	    req->op == PZ_OP_NOTIFY)
		fz_uopt(x, 12, senml ? PZ_COAP_CF_SENML_JSON :
			PZ_COAP_CF_JSON);
	fz_uopt(x, 17, o->cf);
	if (o->observe >= 0)
		fz_uopt(x, 6, (uint32_t)o->observe);
	fz_req_params(req, fz_query, x);
	if (req->pc)
		FZ_CHECK(pz_codec_encode(PZ_FMT_JSON, req->pc, &x->body) ==
			 PZ_OK);
	memset(in, 0, sizeof(*in));
	in->code = req->op == PZ_OP_RETRIEVE ? 1 :
		   req->op == PZ_OP_UPDATE ? 3 : req->op == PZ_OP_DELETE ? 4 :
		   2;
	in->opts = x->o;
	in->nopts = x->n;
	in->body = (const uint8_t *)x->body.data;
	in->len = x->body.len;
}

/* Any outcome becomes a well-formed answer. */
static void fz_answer(const struct pz_req *req, const struct pz_coap_out *o,
		      int rsc)
{
	struct pz_rsp rsp;
	struct pz_coap_answer a;

	pz_rsp_init(&rsp);
	rsp.rsc = rsc;
	rsp.pc = rsc == PZ_RSC_OK && req->pc ? json_incref(req->pc) :
		 json_pack("{s:s}", "m2m:dbg", o->msg);
	if (rsc == PZ_RSC_OK && req->to)
		rsp.location = pz_strdup(req->to);
	FZ_CHECK(pz_coap_answer(&rsp, req->rqi, o->cf, o->fmt, &a) == PZ_OK);
	FZ_CHECK(a.code >= PZ_COAP_CODE(2, 0) && a.code < PZ_COAP_CODE(6, 0));
	for (size_t i = 1; i < a.nopts; i++)
		FZ_CHECK(a.opts[i - 1].num <= a.opts[i].num);
	pz_coap_answer_clear(&a);
	pz_rsp_clear(&rsp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int started;
	struct pz_coap_opt *opts = calloc(FZ_MAX_OPTS, sizeof(*opts));
	struct fz_coap *y = calloc(1, sizeof(*y));
	struct pz_coap_in in, in2;
	struct pz_coap_out out, out2;
	struct pz_req req, req2;
	coap_opt_iterator_t it;
	coap_opt_t *opt;
	coap_pdu_t *pdu;
	const uint8_t *body = NULL;
	size_t n = 0, blen = 0;
	const char *diff;
	int rc;

	if (!opts || !y)
		abort();
	if (!started) {
		coap_startup();
		coap_set_log_level(LOG_EMERG);
		started = 1;
	}
	pdu = coap_pdu_init(0, 0, 0, size);
	/* Requests only: codes 0.01 to 0.31. */
	if (!pdu || !coap_pdu_parse(COAP_PROTO_UDP, data, size, pdu) ||
	    coap_pdu_get_code(pdu) == 0 || coap_pdu_get_code(pdu) >= 32)
		goto out;
	coap_option_iterator_init(pdu, &it, COAP_OPT_ALL);
	while ((opt = coap_option_next(&it)) && n < FZ_MAX_OPTS) {
		opts[n].num = it.number;
		opts[n].len = (uint16_t)coap_opt_length(opt);
		opts[n].val = coap_opt_value(opt);
		n++;
	}
	coap_get_data(pdu, &blen, &body);
	memset(&in, 0, sizeof(in));
	in.code = (uint8_t)coap_pdu_get_code(pdu);
	in.opts = opts;
	in.nopts = n;
	in.body = body;
	in.len = blen;
	in.max_body = 1 << 16;
	pz_req_init(&req);
	rc = pz_coap_map(&in, &req, &out);
	FZ_CHECK(rc == PZ_OK || rc == PZ_EREQ);
	FZ_CHECK(out.cf && (out.fmt == PZ_FMT_JSON || out.fmt == PZ_FMT_CBOR));
	if (rc == PZ_EREQ) {
		FZ_CHECK(out.code >= PZ_COAP_CODE(4, 0) &&
			 out.code < PZ_COAP_CODE(6, 0));
		FZ_CHECK(out.rsc >= 4000 && out.rsc <= 6999);
		FZ_CHECK(memchr(out.msg, '\0', sizeof(out.msg)) != NULL);
		FZ_CHECK(out.msg[0] != '\0');
		fz_answer(&req, &out, out.rsc);
		goto done;
	}
	FZ_CHECK(req.to != NULL);
	FZ_CHECK(req.op >= PZ_OP_CREATE && req.op <= PZ_OP_NOTIFY);
	FZ_CHECK((req.op == PZ_OP_CREATE) == (req.ty > 0));
	FZ_CHECK(req.pc_kind != PZ_PC_SENML ||
		 (req.ty == PZ_TY_CIN && json_is_array(req.pc)));
	fz_answer(&req, &out, PZ_RSC_OK);

	pz_arena_init(&y->arena);
	pz_buf_init(&y->body, 0);
	fz_rebuild(&req, &out, y, &in2);
	pz_req_init(&req2);
	rc = pz_coap_map(&in2, &req2, &out2);
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
	FZ_CHECK(req.pc_kind == req2.pc_kind);
	FZ_CHECK(out.cf == out2.cf && out.observe == out2.observe);
	FZ_CHECK((!req.pc && !req2.pc) || json_equal(req.pc, req2.pc));
	pz_req_clear(&req2);
	pz_buf_free(&y->body);
	pz_arena_free(&y->arena);
done:
	pz_req_clear(&req);
out:
	coap_delete_pdu(pdu);
	free(opts);
	free(y);
	return 0;
}
