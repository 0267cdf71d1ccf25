/*
 * senml_fuzz.c - libFuzzer target for SenML (pz_senml_parse,
 * pz_senml_resolve, pz_senml_record_json, pz_senml_encode).
 *
 * The input is parsed as a SenML JSON pack and as a SenML CBOR pack.  A
 * refusal must be PZ_EINVAL or PZ_ETOOBIG with a reason and no document.
 * An accepted pack must be a non-empty array of objects that encodes to
 * CBOR and parses back equal whenever it resolves (and whenever the
 * encoder takes it), with a second encoding identical.  A pack that
 * resolves must give full, valid names, absolute times in order, and
 * records whose pz_senml_record_json form, gathered into a pack, resolves
 * to the same records again.  A refused resolution names its record.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plaza/pz_err.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_senml.h"

#define FZ_CHECK(c)                                                       \
	do {                                                              \
		if (!(c)) {                                               \
			fprintf(stderr, "%s:%d: check failed: %s\n",      \
				__FILE__, __LINE__, #c);                  \
			abort();                                          \
		}                                                         \
	} while (0)

#define FZ_NOW_US INT64_C(1700000000123456)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct pz_codec_limits fz_lim = {
	.max_bytes = 64 * 1024,
	.max_depth = 16,
	.max_nodes = 4096,
};

static json_t *fz_parse(enum pz_fmt fmt, const uint8_t *data, size_t size,
			const struct pz_codec_limits *lim)
{
	json_t *doc = (json_t *)1;
	char err[256];
	int rc;

	memset(err, 'x', sizeof(err));
	rc = pz_senml_parse(fmt, data, size, lim, &doc, err, sizeof(err));
	if (rc != PZ_OK) {
		FZ_CHECK(rc == PZ_EINVAL || rc == PZ_ETOOBIG);
		FZ_CHECK(doc == NULL);
		FZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		FZ_CHECK(err[0] != '\0');
		return NULL;
	}
	FZ_CHECK(json_is_array(doc) && json_array_size(doc) > 0);
	for (size_t i = 0; i < json_array_size(doc); i++)
		FZ_CHECK(json_is_object(json_array_get(doc, i)));
	return doc;
}

static int str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static void fz_same_rec(const struct pz_senml_rec *a,
			const struct pz_senml_rec *b)
{
	FZ_CHECK(str_eq(a->name, b->name));
	FZ_CHECK(str_eq(a->unit, b->unit));
	FZ_CHECK(a->kind == b->kind);
	FZ_CHECK(a->kind != PZ_SENML_NUM || a->v == b->v);
	FZ_CHECK(a->kind != PZ_SENML_BOOL || !a->vb == !b->vb);
	FZ_CHECK((a->kind != PZ_SENML_STR && a->kind != PZ_SENML_DATA) ||
		 str_eq(a->vs, b->vs));
	FZ_CHECK(a->has_sum == b->has_sum && (!a->has_sum || a->sum == b->sum));
	FZ_CHECK(a->t == b->t);
	FZ_CHECK(a->has_ut == b->has_ut && (!a->has_ut || a->ut == b->ut));
	FZ_CHECK(a->bver == b->bver);
}

/* Resolved records are self-contained: written out one by one and read
 * back as a pack they resolve to themselves, at any other "now". */
static void fz_records(const struct pz_senml_pack *p)
{
	struct pz_senml_pack again;
	json_t *pack = json_array();
	char err[256];

	FZ_CHECK(pack != NULL);
	for (size_t i = 0; i < p->n; i++) {
		const struct pz_senml_rec *r = &p->recs[i];
		json_t *o = pz_senml_record_json(r);

		FZ_CHECK(r->name && r->name[0]);
		FZ_CHECK(r->t >= 268435456.0 && isfinite(r->t));
		FZ_CHECK(i == 0 || p->recs[i - 1].t <= r->t);
		FZ_CHECK((r->bver >= 1 && r->bver <= 10) || r->bver == 26);
		FZ_CHECK(o != NULL);
		FZ_CHECK(json_object_get(o, "bn") == NULL);
		FZ_CHECK(json_array_append_new(pack, o) == 0);
	}
	if (pz_senml_resolve(pack, FZ_NOW_US + 3600000000, &again, err,
			     sizeof(err)) != PZ_OK) {
		fprintf(stderr, "re-resolve failed: %s\n", err);
		abort();
	}
	FZ_CHECK(again.n == p->n);
	for (size_t i = 0; i < p->n; i++)
		fz_same_rec(&p->recs[i], &again.recs[i]);
	pz_senml_pack_free(&again);
	json_decref(pack);
}

/* The pack in CBOR reads back equal; the encoding is canonical. */
static void fz_cbor(const json_t *doc, int must)
{
	struct pz_codec_limits relim = fz_lim;
	struct pz_buf one, two;
	json_t *back;
	int rc;

	pz_buf_init(&one, 0);
	rc = pz_senml_encode(PZ_FMT_CBOR, doc, &one);
	FZ_CHECK(rc == PZ_OK || (!must && rc == PZ_EINVAL));
	if (rc != PZ_OK) {
		FZ_CHECK(one.len == 0);
		pz_buf_free(&one);
		return;
	}
	relim.max_bytes = one.len;
	back = fz_parse(PZ_FMT_CBOR, (const uint8_t *)one.data, one.len,
			&relim);
	FZ_CHECK(back != NULL);
	FZ_CHECK(json_equal(doc, back));
	pz_buf_init(&two, 0);
	FZ_CHECK(pz_senml_encode(PZ_FMT_CBOR, back, &two) == PZ_OK);
	FZ_CHECK(one.len == two.len && !memcmp(one.data, two.data, one.len));
	pz_buf_free(&one);
	pz_buf_free(&two);
	json_decref(back);
}

static void fz_pack(const json_t *doc)
{
	struct pz_senml_pack p = { (struct pz_senml_rec *)1, 99 };
	char err[256] = "";
	int rc = pz_senml_resolve(doc, FZ_NOW_US, &p, err, sizeof(err));

	if (rc != PZ_OK) {
		FZ_CHECK(rc == PZ_EINVAL);
		FZ_CHECK(p.recs == NULL && p.n == 0);
		FZ_CHECK(!strncmp(err, "record ", 7));
		fz_cbor(doc, 0);
		return;
	}
	FZ_CHECK(p.n == json_array_size(doc));
	fz_records(&p);
	fz_cbor(doc, 1);
	pz_senml_pack_free(&p);
	pz_senml_pack_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	json_t *doc;

	if (!init) {
		/* As plazad: jansson allocates through pz_malloc. */
		json_set_alloc_funcs(pz_malloc, pz_free);
		json_object_seed(1);
		init = 1;
	}
	doc = fz_parse(PZ_FMT_JSON, data, size, &fz_lim);
	if (doc)
		fz_pack(doc);
	json_decref(doc);
	doc = fz_parse(PZ_FMT_CBOR, data, size, &fz_lim);
	if (doc)
		fz_pack(doc);
	json_decref(doc);
	return 0;
}
