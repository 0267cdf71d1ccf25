/*
 * mqtt_map_fuzz.c - libFuzzer target for pz_mqtt_map, the MQTT request
 * primitive decoder (TS-0010), fed the way mqtt.c feeds it.  The first
 * input byte chooses the topic: bit 0 CBOR (else JSON), bit 1 reg_req,
 * bit 2 the originator "plaza-in:Cae1" (else "Cae1"); the rest is the
 * payload.
 *
 * Checks: PZ_OK or PZ_EREQ; a refusal has a 4xxx rsc and a reason; an
 * accepted request has an operation, a target, an rqi, a type iff it is a
 * Create, and an fr whose topic form is the topic's originator (or empty).
 * Round trip: the mapped request is written back as a primitive by an
 * independent writer (parameters through fz_req_params, times through
 * fz_ts), encoded in the same format and mapped again: both requests must
 * be equal, content included.  Every outcome is also answered
 * (pz_mqtt_answer), and the answer must read back with its rsc and rqi.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plaza/pz_err.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_mqtt.h"

#define FZ_CHECK(c)                                                       \
	do {                                                              \
		if (!(c)) {                                               \
			fprintf(stderr, "%s:%d: check failed: %s\n",      \
				__FILE__, __LINE__, #c);                  \
			abort();                                          \
		}                                                         \
	} while (0)

typedef void (*fz_emit_fn)(void *ud, const char *name, const char *value);
void fz_ts(int64_t t, char out[48]);
void fz_req_params(const struct pz_req *req, fz_emit_fn emit, void *ud);
const char *fz_req_diff(const struct pz_req *a, const struct pz_req *b);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz_prim {
	const struct pz_req *req;
	json_t *prim;               /* the primitive being rebuilt */
	json_t *fc;                 /* its fc */
	json_t *atr;                /* fc.atr */
};

static void fz_set(json_t *o, const char *k, json_t *v)
{
	FZ_CHECK(v && !json_object_set_new(o, k, v));
}

static bool fz_is_atr(const struct pz_req *req, const char *name)
{
	for (int i = 0; i < req->fc.natr; i++)
		if (!strcmp(req->fc.atr_name[i], name))
			return true;
	return false;
}

/* One parameter from fz_req_params: rcn and drt at the top, rt as rtv,
 * attribute filters in fc.atr, the rest in fc (repeats as a list). */
static void fz_emit(void *ud, const char *name, const char *value)
{
	struct fz_prim *p = ud;
	json_t *old;

	if (!strcmp(name, "rcn") || !strcmp(name, "drt")) {
		fz_set(p->prim, name, json_integer(atoll(value)));
		return;
	}
	if (!strcmp(name, "rt"))
		return;  /* written with rtu below */
	if (fz_is_atr(p->req, name)) {
		FZ_CHECK(!json_array_append_new(p->atr, json_pack(
			"{s:s,s:s}", "nm", name, "val", value)));
		return;
	}
	old = json_object_get(p->fc, name);
	if (!old) {
		fz_set(p->fc, name, json_string(value));
	} else if (json_is_array(old)) {
		FZ_CHECK(!json_array_append_new(old, json_string(value)));
	} else {
		json_t *list = json_pack("[O,s]", old, value);

		fz_set(p->fc, name, list);
	}
}

static void fz_str(json_t *o, const char *k, const char *v)
{
	if (v)
		fz_set(o, k, json_string(v));
}

static void fz_time(json_t *o, const char *k, int64_t t)
{
	char ts[48];

	if (!t)
		return;
	fz_ts(t, ts);
	fz_set(o, k, json_string(ts));
}

/* The request as a primitive, written without plaza's writer. */
static json_t *fz_rebuild(const struct pz_req *req)
{
	struct fz_prim p = { req, json_object(), json_object(), json_array() };

	FZ_CHECK(p.prim && p.fc && p.atr);
	fz_set(p.prim, "op", json_integer(req->op));
	fz_str(p.prim, "to", req->to);
	fz_str(p.prim, "fr", req->fr);
	fz_str(p.prim, "rqi", req->rqi);
	fz_str(p.prim, "rvi", req->rvi);
	fz_str(p.prim, "ot", req->ot);
	fz_str(p.prim, "gid", req->gid);
	fz_str(p.prim, "vsi", req->vsi);
	fz_str(p.prim, "token", req->secret);
	if (req->ty)
		fz_set(p.prim, "ty", json_integer(req->ty));
	if (req->ec)
		fz_set(p.prim, "ec", json_integer(req->ec));
	fz_time(p.prim, "rqet", req->rqet);
	fz_time(p.prim, "rset", req->rset);
	fz_time(p.prim, "oet", req->oet);
	if (req->rt || req->rtu) {
		json_t *rt = json_object();

		FZ_CHECK(rt);
		if (req->rt)
			fz_set(rt, "rtv", json_integer(req->rt));
		if (req->rtu)
			fz_set(rt, "nu", json_pack("[s]", req->rtu));
		fz_set(p.prim, "rt", rt);
	}
	fz_req_params(req, fz_emit, &p);
	if (json_array_size(p.atr))
		fz_set(p.fc, "atr", p.atr);
	else
		json_decref(p.atr);
	if (json_object_size(p.fc))
		fz_set(p.prim, "fc", p.fc);
	else
		json_decref(p.fc);
	if (req->pc)
		FZ_CHECK(!json_object_set(p.prim, "pc", req->pc));
	return p.prim;
}

/* Every outcome gets an answer that reads back. */
static void fz_answer(int rsc, const char *rqi, enum pz_fmt fmt)
{
	struct pz_rsp rsp, back;
	struct pz_buf b;

	pz_rsp_init(&rsp);
	pz_rsp_init(&back);
	pz_buf_init(&b, 0);
	rsp.rsc = rsc;
	rsp.pc = json_pack("{s:s}", "m2m:dbg", "x");
	FZ_CHECK(pz_mqtt_answer(&rsp, rqi, "Cae1", "/plaza-in", fmt, &b) ==
		 PZ_OK);
	FZ_CHECK(pz_mqtt_response_parse((const uint8_t *)b.data, b.len, fmt,
					&back) == PZ_OK);
	FZ_CHECK(back.rsc == rsc);
	FZ_CHECK(rqi && *rqi ? back.rqi && !strcmp(back.rqi, rqi) : !back.rqi);
	pz_rsp_clear(&rsp);
	pz_rsp_clear(&back);
	pz_buf_free(&b);
}

static void fz_roundtrip(const struct pz_mqtt_in *in, const struct pz_req *a)
{
	struct pz_mqtt_in in2 = *in;
	struct pz_mqtt_out out;
	struct pz_req b;
	struct pz_buf buf;
	json_t *prim = fz_rebuild(a);
	const char *diff;
	int rc;

	pz_buf_init(&buf, 0);
	FZ_CHECK(pz_codec_encode(in->fmt, prim, &buf) == PZ_OK);
	json_decref(prim);
	in2.payload = (const uint8_t *)buf.data;
	in2.len = buf.len;
	in2.max_len = 0;
	pz_req_init(&b);
	rc = pz_mqtt_map(&in2, &b, &out);
	if (rc != PZ_OK)
		fprintf(stderr, "re-map refused: %d %s\n", out.rsc, out.msg);
	FZ_CHECK(rc == PZ_OK);
	diff = fz_req_diff(a, &b);
	if (diff)
		fprintf(stderr, "round trip differs in %s\n", diff);
	FZ_CHECK(!diff);
	FZ_CHECK(a->pc ? b.pc && json_equal(a->pc, b.pc) : !b.pc);
	pz_req_clear(&b);
	pz_buf_free(&buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pz_mqtt_in in;
	struct pz_mqtt_out out;
	struct pz_req req;
	char form[PZ_MQTT_ID_MAX];
	int rc;

	if (!size)
		return 0;
	memset(&in, 0, sizeof(in));
	in.fmt = data[0] & 1 ? PZ_FMT_CBOR : PZ_FMT_JSON;
	in.reg = data[0] & 2;
	in.orig = data[0] & 4 ? "plaza-in:Cae1" : "Cae1";
	in.payload = data + 1;
	in.len = size - 1;
	in.max_len = 65536;
	pz_req_init(&req);
	rc = pz_mqtt_map(&in, &req, &out);
	FZ_CHECK(rc == PZ_OK || rc == PZ_EREQ);
	if (rc == PZ_EREQ) {
		FZ_CHECK(out.rsc >= 4000 && out.rsc < 5000 && out.msg[0]);
		fz_answer(out.rsc, req.rqi, in.fmt);
		goto out;
	}
	FZ_CHECK(req.op >= PZ_OP_CREATE && req.op <= PZ_OP_NOTIFY);
	FZ_CHECK(req.to && *req.to && req.rqi && *req.rqi && req.fr);
	FZ_CHECK((req.op == PZ_OP_CREATE) == (req.ty != 0));
	FZ_CHECK(!*req.fr || (pz_mqtt_topic_id(req.fr, form, sizeof(form)) ==
			      PZ_OK && !strcmp(form, in.orig)));
	fz_answer(2000, req.rqi, in.fmt);
	fz_roundtrip(&in, &req);
out:
	pz_req_clear(&req);
	return 0;
}
