/*
 * senml.c - SenML packs (RFC 8428, versions as RFC 9100 reads them):
 * JSON (CoAP 110) and CBOR (112) into the document form, resolution
 * (RFC 8428 section 4.6) into self-contained records, and back out as
 * record JSON or as a pack in either serialisation.
 *
 * The document form is the JSON one: an array of objects with the text
 * labels.  CBOR's integer labels are mapped while decoding (cbor.c with
 * SenML's options), so a pack that says -2 and "bn" in one record is a
 * duplicate key like any other.  docs/senml-cbor.md has the details.
 */
#include <math.h>   /* isfinite: a macro, no libm */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_int.h"
#include "plaza/pz_b64.h"
#include "plaza/pz_err.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_senml.h"

#define SENML_ABS_TIME 268435456.0     /* 2^28: smaller times are relative */
#define SENML_EXACT_INT 9007199254740992.0  /* 2^53 */
#define SENML_DEFAULT_VER 10

/* What a label's value must be. */
enum ltype {
	LT_STR,   /* text */
	LT_NUM,   /* number */
	LT_BOOL,  /* true or false */
	LT_VER,   /* positive integer */
	LT_DATA   /* base64url text without padding */
};

/* The labels of one record, borrowed from the document. */
struct fields {
	const json_t *bn, *bt, *bu, *bv, *bs, *bver;
	const json_t *n, *u, *v, *vs, *vb, *vd, *s, *t, *ut;
};

/* RFC 8428 Table 1 (and Table 4's closed set of CBOR labels). */
static const struct label {
	const char *name;
	int key;         /* CBOR label */
	enum ltype type;
	size_t off;      /* its member of struct fields */
} senml_labels[] = {
	{ "bver", -1, LT_VER, offsetof(struct fields, bver) },
	{ "bn", -2, LT_STR, offsetof(struct fields, bn) },
	{ "bt", -3, LT_NUM, offsetof(struct fields, bt) },
	{ "bu", -4, LT_STR, offsetof(struct fields, bu) },
	{ "bv", -5, LT_NUM, offsetof(struct fields, bv) },
	{ "bs", -6, LT_NUM, offsetof(struct fields, bs) },
	{ "n", 0, LT_STR, offsetof(struct fields, n) },
	{ "u", 1, LT_STR, offsetof(struct fields, u) },
	{ "v", 2, LT_NUM, offsetof(struct fields, v) },
	{ "vs", 3, LT_STR, offsetof(struct fields, vs) },
	{ "vb", 4, LT_BOOL, offsetof(struct fields, vb) },
	{ "s", 5, LT_NUM, offsetof(struct fields, s) },
	{ "t", 6, LT_NUM, offsetof(struct fields, t) },
	{ "ut", 7, LT_NUM, offsetof(struct fields, ut) },
	{ "vd", 8, LT_DATA, offsetof(struct fields, vd) },
};

#define N_LABELS (sizeof(senml_labels) / sizeof(senml_labels[0]))

/* Labels whose CBOR value is a text string, never a byte string. */
static const char *const senml_text_labels[] = {
	"bn", "bu", "n", "u", "vs", NULL
};

static const struct label *label_by_name(const char *name)
{
	for (size_t i = 0; i < N_LABELS; i++) {
		if (!strcmp(senml_labels[i].name, name))
			return &senml_labels[i];
	}
	return NULL;
}

/* The decoder's integer-key hook: the table is closed, others refused. */
static const char *label_by_key(int64_t key)
{
	for (size_t i = 0; i < N_LABELS; i++) {
		if (senml_labels[i].key == key)
			return senml_labels[i].name;
	}
	return NULL;
}

/* Base64url without padding, in its canonical form (the unused low bits
 * of the last character zero), so a round trip through bytes is exact. */
static int b64url_ok(const char *s, size_t n)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789-_";
	const char *last;

	if (n % 4 == 1 || strspn(s, set) != n)
		return 0;
	if (n % 4 == 0)
		return 1;
	last = strchr(set, s[n - 1]);
	return ((last - set) & (n % 4 == 2 ? 0x0f : 0x03)) == 0;
}

/* --- parsing ------------------------------------------------------------- */

/*
 * jansson reads "1E5" as a number; SenML JSON says the exponent MUST be a
 * lower-case 'e' (RFC 8428 section 5).  Outside strings an 'E' after a
 * digit can only be such an exponent; anything else odd is left to the
 * JSON parser.
 */
static int json_exponent_ok(const uint8_t *buf, size_t len, char *err,
			    size_t errlen)
{
	int in_str = 0, esc = 0;

	for (size_t i = 0; i < len; i++) {
		if (in_str) {
			if (esc)
				esc = 0;
			else if (buf[i] == '\\')
				esc = 1;
			else if (buf[i] == '"')
				in_str = 0;
		} else if (buf[i] == '"') {
			in_str = 1;
		} else if (buf[i] == 'E' && i && buf[i - 1] >= '0' &&
			   buf[i - 1] <= '9') {
			snprintf(err, errlen, "number at byte %zu has an "
				 "upper-case exponent 'E'; SenML requires "
				 "'e' (RFC 8428 section 5)", i);
			return PZ_EINVAL;
		}
	}
	return PZ_OK;
}

/* A pack is a non-empty array of records, each an object. */
static int pack_shape_ok(const json_t *doc, char *err, size_t errlen)
{
	const json_t *rec;
	size_t i;

	if (!json_is_array(doc) || !json_array_size(doc)) {
		snprintf(err, errlen, "a SenML pack is a non-empty array of "
			 "records");
		return PZ_EINVAL;
	}
	json_array_foreach(doc, i, rec) {
		if (!json_is_object(rec)) {
			snprintf(err, errlen, "record %zu is not an object",
				 i + 1);
			return PZ_EINVAL;
		}
	}
	return PZ_OK;
}

static int parse_cbor(const uint8_t *buf, size_t len,
		      const struct pz_codec_limits *lim, json_t **out,
		      char *err, size_t errlen)
{
	const struct pz_codec__cbor_opt opt = {
		.flags = PZ_CODEC_ANY_TOP,
		.key_name = label_by_key,
		.bytes_key = "vd",
		.text_keys = senml_text_labels,
		.definite_strings = 1,
		.rules_depth = 2,   /* the records, inside the pack */
	};

	if (len && buf && buf[0] == 0x9f) {
		snprintf(err, errlen, "a SenML CBOR pack is a definite-length "
			 "array (an indefinite one is a SensML stream)");
		return PZ_EINVAL;
	}
	return pz_codec__cbor_parse(buf, len, lim, &opt, out, err, errlen);
}

int pz_senml_parse(enum pz_fmt fmt, const uint8_t *buf, size_t len,
		   const struct pz_codec_limits *lim, json_t **out, char *err,
		   size_t errlen)
{
	json_t *doc = NULL;
	int rc;

	if (!lim)
		lim = &pz_codec_default_limits;
	*out = NULL;
	if (len > lim->max_bytes) {
		snprintf(err, errlen, "content of %zu bytes exceeds the limit "
			 "of %zu", len, lim->max_bytes);
		return PZ_ETOOBIG;
	}
	switch (fmt) {
	case PZ_FMT_JSON:
		rc = json_exponent_ok(buf, buf ? len : 0, err, errlen);
		if (rc == PZ_OK)
			rc = pz_codec_parse_ex(PZ_FMT_JSON, buf, len, lim,
					       PZ_CODEC_ANY_TOP, &doc, err,
					       errlen);
		break;
	case PZ_FMT_CBOR:
		rc = parse_cbor(buf, len, lim, &doc, err, errlen);
		break;
	default:
		snprintf(err, errlen, "unsupported serialization");
		return PZ_EINVAL;
	}
	if (rc == PZ_OK)
		rc = pack_shape_ok(doc, err, errlen);
	if (rc == PZ_OK) {
		*out = doc;
		doc = NULL;
	}
	json_decref(doc);
	return rc;
}

/* --- resolution ---------------------------------------------------------- */

/* The base fields in force, borrowed from the document. */
struct base {
	const char *bn;  /* "" until a bn */
	double bt;
	const char *bu;  /* NULL until a bu */
	double bv;
	int has_bs;
	double bs;
	int ver;         /* the pack's version, from record 1 */
};

static int type_ok(enum ltype type, const json_t *v)
{
	switch (type) {
	case LT_STR:
		return json_is_string(v);
	case LT_NUM:
		return json_is_number(v);
	case LT_BOOL:
		return json_is_boolean(v);
	case LT_VER:
		return json_is_integer(v) && json_integer_value(v) > 0;
	default:
		return json_is_string(v) &&
		       b64url_ok(json_string_value(v), json_string_length(v));
	}
}

static const char *type_name(enum ltype type)
{
	static const char *const names[] = {
		"a string", "a number", "true or false", "a positive integer",
		"base64url text without padding",
	};

	return names[type];
}

/* Sort rec's labels into f, checking each value's type; unknown labels
 * are ignored unless they end in '_' (must be understood). */
static int read_fields(const json_t *rec, size_t no, struct fields *f,
		       char *err, size_t errlen)
{
	const struct label *lab;
	const char *k;
	json_t *v;

	memset(f, 0, sizeof(*f));
	json_object_foreach((json_t *)rec, k, v) {
		lab = label_by_name(k);
		if (!lab && *k && k[strlen(k) - 1] == '_') {
			snprintf(err, errlen, "record %zu: label '%.40s' ends "
				 "in '_' and must be understood, but is "
				 "unknown", no, k);
			return PZ_EINVAL;
		}
		if (!lab)
			continue;
		if (!type_ok(lab->type, v)) {
			snprintf(err, errlen, "record %zu: '%s' must be %s",
				 no, lab->name, type_name(lab->type));
			return PZ_EINVAL;
		}
		*(const json_t **)((char *)f + lab->off) = v;
	}
	return PZ_OK;
}

/* One version per pack (RFC 8428 section 4.4), and one plaza reads. */
static int check_version(const struct fields *f, size_t no, struct base *b,
			 char *err, size_t errlen)
{
	json_int_t ver = f->bver ? json_integer_value(f->bver) : b->ver;

	if (no > 1 && ver != b->ver) {
		snprintf(err, errlen, "record %zu: bver %lld differs from "
			 "the pack's version %d (one version per pack)", no,
			 (long long)ver, b->ver);
		return PZ_EINVAL;
	}
	/* RFC 8428: a receiver must not use a pack of a version higher than
	 * it understands; lower ones (the RFC's own examples use 5) are
	 * fine.  26 is 10 plus RFC 9100's secondary units. */
	if (ver < 1 || (ver > 10 && ver != 26)) {
		snprintf(err, errlen, "record %zu: bver %lld is not "
			 "supported (plaza reads up to 10, and 26 with "
			 "secondary units)", no, (long long)ver);
		return PZ_EINVAL;
	}
	b->ver = (int)ver;
	return PZ_OK;
}

static void apply_base(const struct fields *f, struct base *b)
{
	if (f->bn)
		b->bn = json_string_value(f->bn);
	if (f->bt)
		b->bt = json_number_value(f->bt);
	if (f->bu)
		b->bu = json_string_value(f->bu);
	if (f->bv)
		b->bv = json_number_value(f->bv);
	if (f->bs) {
		b->has_bs = 1;
		b->bs = json_number_value(f->bs);
	}
}

static int name_char_ok(char c, int first)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return !first && c && strchr("-:./_", c);
}

/* Name = bn + n, of A-Z a-z 0-9 - : . / _, starting alphanumeric
 * (RFC 8428 section 4.5.1). */
static int resolve_name(const struct fields *f, const struct base *b,
			size_t no, struct pz_senml_rec *r, char *err,
			size_t errlen)
{
	const char *n = f->n ? json_string_value(f->n) : "";
	size_t lb = strlen(b->bn), ln = strlen(n);

	r->name = pz_malloc(lb + ln + 1);
	if (!r->name) {
		snprintf(err, errlen, "out of memory");
		return PZ_ENOMEM;
	}
	memcpy(r->name, b->bn, lb);
	memcpy(r->name + lb, n, ln + 1);
	if (!r->name[0]) {
		snprintf(err, errlen, "record %zu has no name (neither bn "
			 "nor n)", no);
		return PZ_EINVAL;
	}
	for (size_t i = 0; r->name[i]; i++) {
		if (!name_char_ok(r->name[i], i == 0)) {
			snprintf(err, errlen, "record %zu: name '%.60s' %s "
				 "(position %zu): names use A-Z a-z 0-9 - : "
				 ". / _ and start with a letter or digit", no,
				 r->name, i ? "has a character not allowed" :
				 "starts with a character not allowed", i + 1);
			return PZ_EINVAL;
		}
	}
	return PZ_OK;
}

/*
 * Time = bt + t (RFC 8428 section 4.5.3): below 2^28 relative to now.  A
 * base time on one side of 2^28 and a sum on the other is refused as the
 * accident the RFC warns of (bt 0 is neutral), and so is a result before
 * 2^28, which a resolved record could not express.
 */
static int resolve_time(const struct fields *f, const struct base *b,
			size_t no, double now, struct pz_senml_rec *r,
			char *err, size_t errlen)
{
	double t = f->t ? json_number_value(f->t) : 0, sum = b->bt + t;

	if (!isfinite(sum)) {
		snprintf(err, errlen, "record %zu: bt + t is not a finite "
			 "number", no);
		return PZ_EINVAL;
	}
	if (b->bt != 0 && (b->bt >= SENML_ABS_TIME) != (sum >= SENML_ABS_TIME)) {
		snprintf(err, errlen, "record %zu: bt %.17g + t %.17g "
			 "crosses 2^28, mixing relative and absolute time",
			 no, b->bt, t);
		return PZ_EINVAL;
	}
	r->t = sum >= SENML_ABS_TIME ? sum : now + sum;
	if (r->t < SENML_ABS_TIME) {
		snprintf(err, errlen, "record %zu: time resolves to %.17g, "
			 "before 2^28 (1978-07-04T21:24:16Z)", no, r->t);
		return PZ_EINVAL;
	}
	r->has_ut = f->ut != NULL;
	r->ut = f->ut ? json_number_value(f->ut) : 0;
	return PZ_OK;
}

/* Exactly one of v vs vb vd unless there is a sum (section 4.2). */
static int count_values(const struct fields *f, const struct base *b,
			size_t no, char *err, size_t errlen)
{
	const json_t *val[] = { f->v, f->vs, f->vb, f->vd };
	static const char *const lab[] = { "v", "vs", "vb", "vd" };
	char list[16] = "";
	int count = 0;

	for (int i = 0; i < 4; i++) {
		if (!val[i])
			continue;
		if (count++)
			strcat(list, ", ");
		strcat(list, lab[i]);
	}
	if (count > 1) {
		snprintf(err, errlen, "record %zu has more than one value "
			 "(%s)", no, list);
		return PZ_EINVAL;
	}
	if (!count && !f->s && !b->has_bs) {
		snprintf(err, errlen, "record %zu has no value (v, vs, vb or "
			 "vd) and no sum", no);
		return PZ_EINVAL;
	}
	return PZ_OK;
}

/* Value = bv + v, sum = bs + s (section 4.5.4), unit = u else bu. */
static int resolve_value(const struct fields *f, const struct base *b,
			 size_t no, struct pz_senml_rec *r, char *err,
			 size_t errlen)
{
	const char *unit = f->u ? json_string_value(f->u) : b->bu;
	const json_t *str = f->vs ? f->vs : f->vd;
	int rc = count_values(f, b, no, err, errlen);

	if (rc != PZ_OK)
		return rc;
	r->kind = f->v ? PZ_SENML_NUM : f->vs ? PZ_SENML_STR :
		  f->vb ? PZ_SENML_BOOL : f->vd ? PZ_SENML_DATA : PZ_SENML_NONE;
	r->v = f->v ? b->bv + json_number_value(f->v) : 0;
	r->vb = f->vb ? json_is_true(f->vb) : 0;
	r->has_sum = f->s || b->has_bs;
	r->sum = r->has_sum ? (b->has_bs ? b->bs : 0) +
		 (f->s ? json_number_value(f->s) : 0) : 0;
	if (!isfinite(r->v) || !isfinite(r->sum)) {
		snprintf(err, errlen, "record %zu: %s is not a finite number",
			 no, isfinite(r->v) ? "bs + s" : "bv + v");
		return PZ_EINVAL;
	}
	if (str)
		r->vs = pz_strdup(json_string_value(str));
	if (unit)
		r->unit = pz_strdup(unit);
	if ((str && !r->vs) || (unit && !r->unit)) {
		snprintf(err, errlen, "out of memory");
		return PZ_ENOMEM;
	}
	return PZ_OK;
}

static int resolve_record(const json_t *rec, size_t no, struct base *b,
			  double now, struct pz_senml_rec *r, char *err,
			  size_t errlen)
{
	struct fields f;
	int rc;

	if (!json_is_object(rec)) {
		snprintf(err, errlen, "record %zu is not an object", no);
		return PZ_EINVAL;
	}
	rc = read_fields(rec, no, &f, err, errlen);
	if (rc == PZ_OK)
		rc = check_version(&f, no, b, err, errlen);
	if (rc != PZ_OK)
		return rc;
	apply_base(&f, b);
	r->bver = b->ver;
	rc = resolve_name(&f, b, no, r, err, errlen);
	if (rc == PZ_OK)
		rc = resolve_time(&f, b, no, now, r, err, errlen);
	if (rc == PZ_OK)
		rc = resolve_value(&f, b, no, r, err, errlen);
	return rc;
}

struct order {
	double t;  /* the record's time */
	size_t i;  /* its place in the pack: ties keep it */
};

static int order_cmp(const void *pa, const void *pb)
{
	const struct order *a = pa, *b = pb;

	if (a->t != b->t)
		return a->t < b->t ? -1 : 1;
	return (a->i > b->i) - (a->i < b->i);
}

/* Chronological order, stable; packs are usually in order already. */
static int sort_records(struct pz_senml_pack *p, char *err, size_t errlen)
{
	struct pz_senml_rec *recs = NULL;
	struct order *ord = NULL;
	size_t i;
	int rc = PZ_OK;

	for (i = 1; i < p->n && p->recs[i - 1].t <= p->recs[i].t; i++)
		;
	if (i >= p->n)
		goto out;
	ord = pz_malloc(p->n * sizeof(*ord));
	recs = pz_malloc(p->n * sizeof(*recs));
	if (!ord || !recs) {
		snprintf(err, errlen, "out of memory");
		rc = PZ_ENOMEM;
		goto out;
	}
	for (i = 0; i < p->n; i++)
		ord[i] = (struct order){ p->recs[i].t, i };
	qsort(ord, p->n, sizeof(*ord), order_cmp);
	for (i = 0; i < p->n; i++)
		recs[i] = p->recs[ord[i].i];
	pz_free(p->recs);
	p->recs = recs;
	recs = NULL;
out:
	pz_free(ord);
	pz_free(recs);
	return rc;
}

int pz_senml_resolve(const json_t *pack, int64_t now_us,
		     struct pz_senml_pack *out, char *err, size_t errlen)
{
	struct base b = { .bn = "", .ver = SENML_DEFAULT_VER };
	double now = (double)now_us / 1e6;
	size_t n = json_array_size(pack);
	int rc = PZ_OK;

	out->recs = NULL;
	out->n = 0;
	if (!json_is_array(pack) || !n) {
		snprintf(err, errlen, "a SenML pack is a non-empty array of "
			 "records");
		return PZ_EINVAL;
	}
	out->recs = pz_calloc(n, sizeof(*out->recs));
	if (!out->recs) {
		snprintf(err, errlen, "out of memory");
		return PZ_ENOMEM;
	}
	for (size_t i = 0; i < n && rc == PZ_OK; i++) {
		out->n = i + 1;
		rc = resolve_record(json_array_get(pack, i), i + 1, &b, now,
				    &out->recs[i], err, errlen);
	}
	if (rc == PZ_OK)
		rc = sort_records(out, err, errlen);
	if (rc != PZ_OK)
		pz_senml_pack_free(out);
	return rc;
}

void pz_senml_pack_free(struct pz_senml_pack *pack)
{
	if (!pack)
		return;
	for (size_t i = 0; pack->recs && i < pack->n; i++) {
		pz_free(pack->recs[i].name);
		pz_free(pack->recs[i].unit);
		pz_free(pack->recs[i].vs);
	}
	pz_free(pack->recs);
	pack->recs = NULL;
	pack->n = 0;
}

/* --- output -------------------------------------------------------------- */

/* A SenML Number: whole values that a double holds exactly are written
 * as integers ("t":1700000000, not 1700000000.0). */
static json_t *number(double x)
{
	if (x >= -SENML_EXACT_INT && x <= SENML_EXACT_INT &&
	    (double)(json_int_t)x == x)
		return json_integer((json_int_t)x);
	return json_real(x);
}

static json_t *record_value(const struct pz_senml_rec *rec)
{
	switch (rec->kind) {
	case PZ_SENML_NUM:
		return number(rec->v);
	case PZ_SENML_BOOL:
		return json_boolean(rec->vb);
	default:
		return json_string(rec->vs);
	}
}

json_t *pz_senml_record_json(const struct pz_senml_rec *rec)
{
	static const char *const vlab[] = {
		[PZ_SENML_NUM] = "v", [PZ_SENML_STR] = "vs",
		[PZ_SENML_BOOL] = "vb", [PZ_SENML_DATA] = "vd",
	};
	json_t *o = json_object();
	int r = 0;

	if (!o || !rec->name)
		goto fail;
	r |= json_object_set_new(o, "n", json_string(rec->name));
	if (rec->unit)
		r |= json_object_set_new(o, "u", json_string(rec->unit));
	if (rec->kind != PZ_SENML_NONE)
		r |= json_object_set_new(o, vlab[rec->kind],
					 record_value(rec));
	if (rec->has_sum)
		r |= json_object_set_new(o, "s", number(rec->sum));
	r |= json_object_set_new(o, "t", number(rec->t));
	if (rec->has_ut)
		r |= json_object_set_new(o, "ut", number(rec->ut));
	if (rec->bver != SENML_DEFAULT_VER)
		r |= json_object_set_new(o, "bver", json_integer(rec->bver));
	if (!r)
		return o;
fail:
	json_decref(o);
	return NULL;
}

/* A label: its CBOR integer if it has one, else its text. */
static int enc_label(struct pz_buf *b, const char *k)
{
	const struct label *lab = label_by_name(k);
	size_t n = strlen(k);
	int rc;

	if (lab && lab->key >= 0)
		return pz_codec__cbor_head(b, 0, (uint64_t)lab->key);
	if (lab)
		return pz_codec__cbor_head(b, 1, (uint64_t)(-1 - lab->key));
	rc = pz_codec__cbor_head(b, 3, n);
	return rc == PZ_OK ? pz_buf_add(b, k, n) : rc;
}

/* vd: the bytes its base64url text holds, as a byte string. */
static int enc_data(struct pz_buf *b, const json_t *v)
{
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	uint8_t *bytes;
	long len;
	int rc;

	if (!s || !b64url_ok(s, n))
		return PZ_EINVAL;
	bytes = pz_malloc(n / 4 * 3 + 3);
	if (!bytes)
		return PZ_ENOMEM;
	len = pz_b64_decode(s, bytes, n / 4 * 3 + 3);
	rc = len < 0 ? PZ_EINVAL : pz_codec__cbor_head(b, 2, (uint64_t)len);
	if (rc == PZ_OK)
		rc = pz_buf_add(b, bytes, (size_t)len);
	pz_free(bytes);
	return rc;
}

static int enc_record(struct pz_buf *b, const json_t *rec)
{
	const char *k;
	json_t *v;
	int rc;

	if (!json_is_object(rec))
		return PZ_EINVAL;
	rc = pz_codec__cbor_head(b, 5, json_object_size(rec));
	json_object_foreach((json_t *)rec, k, v) {
		if (rc == PZ_OK)
			rc = enc_label(b, k);
		if (rc == PZ_OK)
			rc = strcmp(k, "vd") ? pz_codec__cbor_value(b, v, 2) :
			     enc_data(b, v);
	}
	return rc;
}

int pz_senml_encode(enum pz_fmt fmt, const json_t *pack, struct pz_buf *out)
{
	size_t before;
	const json_t *rec;
	size_t i;
	int rc;

	if (!pack || !out)
		return PZ_EINVAL;
	if (fmt == PZ_FMT_JSON)
		return json_is_array(pack) ?
		       pz_codec_encode(PZ_FMT_JSON, pack, out) : PZ_EINVAL;
	if (fmt != PZ_FMT_CBOR || !json_is_array(pack))
		return PZ_EINVAL;
	before = out->len;
	rc = pz_codec__cbor_head(out, 4, json_array_size(pack));
	json_array_foreach(pack, i, rec) {
		if (rc == PZ_OK)
			rc = enc_record(out, rec);
	}
	if (rc != PZ_OK) {
		out->len = before;
		if (out->data)
			out->data[before] = '\0';
	}
	return rc;
}
