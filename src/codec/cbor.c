/*
 * cbor.c - the CBOR serialisation (RFC 8949) over the document model.
 *
 * Decoding runs libcbor's streaming decoder (cbor_stream_decode), which
 * reports one item head per call and keeps no state, so the nesting lives
 * in an explicit stack here: depth, value count and input size are
 * checked as each item arrives and nothing recurses, whatever the input
 * (cbor_load would recurse once per level and has no depth limit).  The
 * mapping onto jansson values is described in pz_codec.h and
 * docs/senml-cbor.md.
 *
 * Encoding uses preferred serialisation (RFC 8949 section 4.2.2): shortest
 * heads from libcbor's cbor_encode_* primitives, definite lengths, and each
 * real in the shortest of half, single and double that holds it exactly.
 * The half-precision writer is our own: libcbor 0.8's cbor_encode_half
 * truncates subnormal halves.
 */
#include <cbor.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>   /* isfinite, signbit: macros, no libm */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_int.h"
#include "plaza/pz_b64.h"
#include "plaza/pz_err.h"
#include "plaza/pz_mem.h"

/* What an open frame of the decoder stack is collecting. */
enum fr_kind {
	FR_ARRAY,    /* array elements */
	FR_MAP,      /* map keys and values */
	FR_TAG,      /* the one item a tag wraps */
	FR_DECFRAC,  /* [exponent, mantissa] of a tag 4 decimal fraction */
	FR_TEXT,     /* chunks of an indefinite-length text string */
	FR_BYTES     /* chunks of an indefinite-length byte string */
};

struct frame {
	enum fr_kind kind;
	json_t *v;         /* FR_ARRAY, FR_MAP: the container, borrowed (the
			      tree under the root owns it) */
	uint64_t left;     /* definite length: items still to come (a map
			      counts keys and values) */
	int indef;         /* indefinite length: ends at a break */
	int expect_key;    /* FR_MAP: the next item is a key */
	uint64_t tag;      /* FR_TAG: the tag number */
	int nints;         /* FR_DECFRAC: integers seen so far */
	int64_t ints[2];   /* FR_DECFRAC: exponent, mantissa */
};

/* The decoder's whole state; the libcbor callbacks get it as context. */
struct dec {
	const struct pz_codec_limits *lim;
	const struct pz_codec__cbor_opt *opt;
	size_t len;          /* input length */
	size_t pos;          /* offset of the item being decoded */
	struct frame *st;    /* the stack, owned */
	size_t nst;          /* frames in use */
	size_t cap;          /* frames allocated */
	int depth;           /* open FR_ARRAY and FR_MAP frames */
	size_t nodes;        /* values so far (keys do not count) */
	json_t *root;        /* the document, owned until handed out */
	struct pz_buf key;   /* the pending map key (one at a time: a key is
				consumed as soon as its value starts) */
	struct pz_buf str;   /* an indefinite-length string being joined */
	int done;            /* the top-level item is complete */
	int rc;              /* first failure, PZ_OK until then */
	char *err;           /* the caller's reason buffer */
	size_t errlen;
};

/* Item classes, for the checks every item start goes through. */
enum item {
	IT_UINT, IT_NEGINT, IT_BYTES, IT_TEXT, IT_ARRAY, IT_MAP, IT_TAG,
	IT_FLOAT, IT_SIMPLE
};

/* --- failures, stack and strings ----------------------------------------- */

static void fail(struct dec *d, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Record the first failure with its reason and the byte offset. */
static void fail(struct dec *d, int rc, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (d->rc != PZ_OK)
		return;
	d->rc = rc;
	if (!d->errlen)
		return;
	va_start(ap, fmt);
	n = vsnprintf(d->err, d->errlen, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < d->errlen)
		snprintf(d->err + n, d->errlen - (size_t)n, " at byte %zu",
			 d->pos);
}

static struct frame *top(struct dec *d)
{
	return d->nst ? &d->st[d->nst - 1] : NULL;
}

/* Push a zeroed frame of kind; NULL (and d->rc set) on ENOMEM.  The
 * depth check before every container push bounds the stack at
 * max_depth + 2 (a tag or decimal fraction, and a string). */
static struct frame *push(struct dec *d, enum fr_kind kind)
{
	struct frame *f;

	if (d->nst == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;

		f = pz_realloc(d->st, cap * sizeof(*f));
		if (!f) {
			fail(d, PZ_ENOMEM, "out of memory");
			return NULL;
		}
		d->st = f;
		d->cap = cap;
	}
	f = &d->st[d->nst++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	return f;
}

static void pop(struct dec *d)
{
	enum fr_kind kind = d->st[--d->nst].kind;

	if (kind == FR_ARRAY || kind == FR_MAP)
		d->depth--;
}

/* Strict UTF-8 (no overlong forms, surrogates or code points above
 * U+10FFFF) without NUL, which jansson keys and plaza's JSON refuse. */
static int utf8_ok(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint32_t cp, min;
		size_t k;

		if (s[i] && s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0)
			k = 1, cp = s[i] & 0x1f, min = 0x80;
		else if ((s[i] & 0xf0) == 0xe0)
			k = 2, cp = s[i] & 0x0f, min = 0x800;
		else if ((s[i] & 0xf8) == 0xf0)
			k = 3, cp = s[i] & 0x07, min = 0x10000;
		else
			return 0;  /* NUL, continuation byte, 0xf8.. */
		if (n - i <= k)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += k + 1;
	}
	return 1;
}

/* --- checks at the start of every item ----------------------------------- */

static int in_list(const char *const *list, const char *s)
{
	for (; list && *list; list++) {
		if (!strcmp(*list, s))
			return 1;
	}
	return 0;
}

/* What the tag in f accepts: 0 a date string, 1 an epoch number, 4 a
 * [exponent, mantissa] array. */
static int tag_accepts(const struct frame *f, enum item it)
{
	switch (f->tag) {
	case 0:
		return it == IT_TEXT;
	case 1:
		return it == IT_UINT || it == IT_NEGINT || it == IT_FLOAT;
	default:
		return it == IT_ARRAY;
	}
}

/* The rules of the SenML-style options for a member value starting. */
static int member_ok(struct dec *d, enum item it)
{
	const struct pz_codec__cbor_opt *o = d->opt;
	const char *k = d->key.data;

	if (o->rules_depth && d->depth != o->rules_depth)
		return 1;
	if (o->bytes_key && !strcmp(k, o->bytes_key) && it != IT_BYTES) {
		fail(d, PZ_EINVAL, "'%s' must hold a byte string", k);
		return 0;
	}
	if (it == IT_BYTES && in_list(o->text_keys, k)) {
		fail(d, PZ_EINVAL, "'%s' must hold a text string", k);
		return 0;
	}
	return 1;
}

/*
 * An item of class it starts: is it allowed where it stands?  Chunks of
 * indefinite strings are handled by their callbacks before this.  Returns
 * 1, or 0 with d->rc set.
 */
static int item_ok(struct dec *d, enum item it)
{
	struct frame *f = top(d);

	if (!f)
		return 1;
	switch (f->kind) {
	case FR_TEXT:
	case FR_BYTES:
		fail(d, PZ_EINVAL, "an indefinite-length string holds only "
		     "definite strings of its own type");
		return 0;
	case FR_DECFRAC:
		if (it == IT_UINT || it == IT_NEGINT)
			return 1;
		fail(d, PZ_EINVAL, "a decimal fraction (tag 4) holds two "
		     "integers");
		return 0;
	case FR_TAG:
		if (tag_accepts(f, it))
			return 1;
		fail(d, PZ_EINVAL, "tag %" PRIu64 " must wrap %s", f->tag,
		     f->tag == 0 ? "a text string" : f->tag == 1 ?
		     "a number" : "an array of two integers");
		return 0;
	case FR_MAP:
		if (!f->expect_key)
			return member_ok(d, it);
		if (it == IT_TEXT)
			return 1;
		if ((it == IT_UINT || it == IT_NEGINT) &&
		    (d->opt->key_name || (d->opt->flags & PZ_CODEC_INT_KEYS)))
			return 1;
		fail(d, PZ_EINVAL, "map keys must be text strings");
		return 0;
	default:
		return 1;
	}
}

/* --- completing items ---------------------------------------------------- */

/*
 * An item (key or value) of the top container is complete: count it, and
 * close every definite container this completes, outwards.  With no
 * frame left the top-level item is done.
 */
static void item_done(struct dec *d)
{
	for (;;) {
		struct frame *f = top(d);

		if (!f) {
			d->done = 1;
			return;
		}
		if (f->kind == FR_MAP)
			f->expect_key = !f->expect_key;
		if (f->indef || --f->left)
			return;
		pop(d);
	}
}

/* Hang v (a new reference, consumed) into the open container, or make it
 * the document; a tag frame that wrapped it is closed first.  Returns 1,
 * or 0 with d->rc set. */
static int attach(struct dec *d, json_t *v)
{
	struct frame *f = top(d);
	int r = 0;

	if (!v) {
		fail(d, PZ_ENOMEM, "out of memory");
		return 0;
	}
	if (++d->nodes > d->lim->max_nodes) {
		json_decref(v);
		fail(d, PZ_ETOOBIG, "content holds more than %zu values",
		     d->lim->max_nodes);
		return 0;
	}
	if (f && f->kind == FR_TAG) {
		pop(d);
		f = top(d);
	}
	if (!f)
		d->root = v;
	else if (f->kind == FR_ARRAY)
		r = json_array_append_new(f->v, v);
	else
		r = json_object_set_new_nocheck(f->v, d->key.data, v);
	if (r) {
		fail(d, PZ_ENOMEM, "out of memory");
		return 0;
	}
	return 1;
}

static void put_scalar(struct dec *d, json_t *v)
{
	if (attach(d, v))
		item_done(d);
}

/* A complete map key of n bytes (valid UTF-8) for the top map. */
static void put_key(struct dec *d, const char *s, size_t n)
{
	struct frame *f = top(d);

	pz_buf_reset(&d->key);
	if (pz_buf_add(&d->key, s, n) != PZ_OK) {
		fail(d, PZ_ENOMEM, "out of memory");
		return;
	}
	if (json_object_get(f->v, d->key.data)) {
		fail(d, PZ_EINVAL, "duplicate map key '%.40s'", d->key.data);
		return;
	}
	item_done(d);
}

/* A complete text string, checked: a key or a value. */
static void put_text(struct dec *d, const char *s, size_t n)
{
	struct frame *f = top(d);

	if (f && f->kind == FR_MAP && f->expect_key)
		put_key(d, s, n);
	else
		put_scalar(d, json_stringn_nocheck(s, n));
}

/* A complete byte string: base64url text if the options allow it. */
static void put_bytes(struct dec *d, const uint8_t *p, size_t n)
{
	char *s;

	if (!(d->opt->flags & PZ_CODEC_BYTES_B64) && !d->opt->bytes_key) {
		fail(d, PZ_EINVAL, "byte strings are not supported");
		return;
	}
	s = pz_malloc(n / 3 * 4 + 5);
	if (!s) {
		fail(d, PZ_ENOMEM, "out of memory");
		return;
	}
	n = pz_b64_encode(p, n, s, 1);
	put_scalar(d, json_stringn_nocheck(s, n));
	pz_free(s);
}

/* The [exponent, mantissa] of a decimal fraction are in: m * 10^e as the
 * nearest double (strtod rounds correctly), which must be finite. */
static void decfrac_done(struct dec *d)
{
	struct frame *f = top(d);
	char tmp[48];
	double x;

	if (f->nints != 2) {
		fail(d, PZ_EINVAL, "a decimal fraction (tag 4) holds two "
		     "integers");
		return;
	}
	snprintf(tmp, sizeof(tmp), "%" PRId64 "e%" PRId64, f->ints[1],
		 f->ints[0]);
	x = strtod(tmp, NULL);
	pop(d);
	if (!isfinite(x)) {
		fail(d, PZ_EINVAL, "decimal fraction %s is out of range", tmp);
		return;
	}
	put_scalar(d, json_real(x));
}

/* A complete integer: half of a decimal fraction, a map key or a value. */
static void put_int(struct dec *d, int64_t v)
{
	struct frame *f = top(d);
	const char *name;
	char tmp[24];

	if (f && f->kind == FR_DECFRAC) {
		if (f->nints == 2) {
			fail(d, PZ_EINVAL, "a decimal fraction (tag 4) holds "
			     "two integers");
			return;
		}
		f->ints[f->nints++] = v;
		if (!f->indef && !--f->left)
			decfrac_done(d);
		return;
	}
	if (!f || f->kind != FR_MAP || !f->expect_key) {
		put_scalar(d, json_integer(v));
		return;
	}
	if (d->opt->key_name) {
		name = d->opt->key_name(v);
		if (!name) {
			fail(d, PZ_EINVAL, "unknown integer map key %" PRId64,
			     v);
			return;
		}
	} else {
		snprintf(tmp, sizeof(tmp), "%" PRId64, v);
		name = tmp;
	}
	put_key(d, name, strlen(name));
}

/* Open an array or map of n items (or indefinite) under the current
 * position: the depth limit is checked before anything is allocated, and
 * a definite length the remaining input cannot hold is refused at once. */
static void open_container(struct dec *d, enum fr_kind kind, uint64_t n,
			   int indef)
{
	uint64_t room = d->len - d->pos - 1;
	struct frame *f;
	json_t *v;

	if (d->depth >= d->lim->max_depth) {
		fail(d, PZ_ETOOBIG, "content nests deeper than %d levels",
		     d->lim->max_depth);
		return;
	}
	if (!indef && n > (kind == FR_MAP ? room / 2 : room)) {
		fail(d, PZ_EINVAL, "truncated CBOR: %s of %" PRIu64 " items "
		     "is longer than the input", kind == FR_MAP ? "map" :
		     "array", n);
		return;
	}
	v = kind == FR_MAP ? json_object() : json_array();
	if (!attach(d, v))
		return;
	if (!indef && !n) {
		item_done(d);
		return;
	}
	f = push(d, kind);
	if (!f)
		return;
	f->v = v;
	f->left = kind == FR_MAP ? 2 * n : n;
	f->indef = indef;
	f->expect_key = kind == FR_MAP;
	d->depth++;
}

/* --- libcbor callbacks --------------------------------------------------- */

static void on_uint(void *ctx, uint64_t v)
{
	struct dec *d = ctx;

	if (!item_ok(d, IT_UINT))
		return;
	if (v > INT64_MAX) {
		fail(d, PZ_EINVAL, "integer %" PRIu64 " does not fit in 64 "
		     "bits", v);
		return;
	}
	put_int(d, (int64_t)v);
}

/* v encodes the integer -1 - v. */
static void on_negint(void *ctx, uint64_t v)
{
	struct dec *d = ctx;

	if (!item_ok(d, IT_NEGINT))
		return;
	if (v > INT64_MAX) {
		fail(d, PZ_EINVAL, "integer -1-%" PRIu64 " does not fit in "
		     "64 bits", v);
		return;
	}
	put_int(d, -1 - (int64_t)v);
}

static void on_u8(void *c, uint8_t v) { on_uint(c, v); }
static void on_u16(void *c, uint16_t v) { on_uint(c, v); }
static void on_u32(void *c, uint32_t v) { on_uint(c, v); }
static void on_n8(void *c, uint8_t v) { on_negint(c, v); }
static void on_n16(void *c, uint16_t v) { on_negint(c, v); }
static void on_n32(void *c, uint32_t v) { on_negint(c, v); }

/* A definite text string: a whole one, or a chunk of an indefinite one. */
static void on_text(void *ctx, cbor_data p, size_t n)
{
	struct dec *d = ctx;
	struct frame *f = top(d);

	if (!utf8_ok(p, n)) {
		fail(d, PZ_EINVAL, "text string is not UTF-8 or holds NUL");
		return;
	}
	if (f && f->kind == FR_TEXT) {
		if (pz_buf_add(&d->str, p, n) != PZ_OK)
			fail(d, PZ_ENOMEM, "out of memory");
		return;
	}
	if (item_ok(d, IT_TEXT))
		put_text(d, (const char *)p, n);
}

static void on_bytes(void *ctx, cbor_data p, size_t n)
{
	struct dec *d = ctx;
	struct frame *f = top(d);

	if (f && f->kind == FR_BYTES) {
		if (pz_buf_add(&d->str, p, n) != PZ_OK)
			fail(d, PZ_ENOMEM, "out of memory");
		return;
	}
	if (item_ok(d, IT_BYTES))
		put_bytes(d, p, n);
}

/* The start of an indefinite-length string of kind FR_TEXT/FR_BYTES. */
static void indef_string(struct dec *d, enum fr_kind kind)
{
	struct frame *f;

	if (d->opt->definite_strings) {
		fail(d, PZ_EINVAL, "indefinite-length strings are not "
		     "allowed");
		return;
	}
	if (!item_ok(d, kind == FR_TEXT ? IT_TEXT : IT_BYTES))
		return;
	f = push(d, kind);
	if (!f)
		return;
	f->indef = 1;
	pz_buf_reset(&d->str);
}

static void on_text_start(void *ctx) { indef_string(ctx, FR_TEXT); }
static void on_bytes_start(void *ctx) { indef_string(ctx, FR_BYTES); }

/* An array head (indef: indefinite length); under tag 4 it is the
 * decimal fraction's pair. */
static void array_head(struct dec *d, uint64_t n, int indef)
{
	struct frame *f;

	if (!item_ok(d, IT_ARRAY))
		return;
	f = top(d);
	if (f && f->kind == FR_TAG) {
		if (!indef && n != 2) {
			fail(d, PZ_EINVAL, "a decimal fraction (tag 4) holds "
			     "two integers");
			return;
		}
		f->kind = FR_DECFRAC;
		f->left = 2;
		f->indef = indef;
		return;
	}
	open_container(d, FR_ARRAY, n, indef);
}

static void on_array(void *ctx, size_t n) { array_head(ctx, n, 0); }
static void on_indef_array(void *ctx) { array_head(ctx, 0, 1); }

static void on_map(void *ctx, size_t n)
{
	if (item_ok(ctx, IT_MAP))
		open_container(ctx, FR_MAP, n, 0);
}

static void on_indef_map(void *ctx)
{
	if (item_ok(ctx, IT_MAP))
		open_container(ctx, FR_MAP, 0, 1);
}

static void on_tag(void *ctx, uint64_t tag)
{
	struct dec *d = ctx;
	struct frame *f;

	if (!item_ok(d, IT_TAG))
		return;
	if (tag != 0 && tag != 1 && tag != 4) {
		fail(d, PZ_EINVAL, "tag %" PRIu64 " is not supported", tag);
		return;
	}
	f = push(d, FR_TAG);
	if (f)
		f->tag = tag;
}

static void put_float(struct dec *d, double x)
{
	if (!item_ok(d, IT_FLOAT))
		return;
	if (!isfinite(x)) {
		fail(d, PZ_EINVAL, "NaN and infinity are not supported");
		return;
	}
	put_scalar(d, json_real(x));
}

static void on_f4(void *ctx, float x) { put_float(ctx, x); }
static void on_f8(void *ctx, double x) { put_float(ctx, x); }

static void on_null(void *ctx)
{
	if (item_ok(ctx, IT_SIMPLE))
		put_scalar(ctx, json_null());
}

static void on_bool(void *ctx, bool b)
{
	if (item_ok(ctx, IT_SIMPLE))
		put_scalar(ctx, json_boolean(b));
}

static void on_break(void *ctx)
{
	struct dec *d = ctx;
	struct frame *f = top(d);

	if (!f || !f->indef) {
		fail(d, PZ_EINVAL, "unexpected break");
		return;
	}
	switch (f->kind) {
	case FR_TEXT:
		pop(d);
		put_text(d, d->str.data ? d->str.data : "", d->str.len);
		break;
	case FR_BYTES:
		pop(d);
		put_bytes(d, (const uint8_t *)(d->str.data ? d->str.data : ""),
			  d->str.len);
		break;
	case FR_DECFRAC:
		decfrac_done(d);
		break;
	default:
		if (f->kind == FR_MAP && !f->expect_key) {
			fail(d, PZ_EINVAL, "map ends between a key and its "
			     "value");
			return;
		}
		pop(d);
		item_done(d);
		break;
	}
}

/* libcbor's field names and comments swap definite and indefinite for
 * strings: byte_string/string get definite strings (and chunks),
 * byte_string_start/string_start the indefinite heads. */
static const struct cbor_callbacks dec_callbacks = {
	.uint8 = on_u8,
	.uint16 = on_u16,
	.uint32 = on_u32,
	.uint64 = on_uint,
	.negint8 = on_n8,
	.negint16 = on_n16,
	.negint32 = on_n32,
	.negint64 = on_negint,
	.byte_string_start = on_bytes_start,
	.byte_string = on_bytes,
	.string = on_text,
	.string_start = on_text_start,
	.indef_array_start = on_indef_array,
	.array_start = on_array,
	.indef_map_start = on_indef_map,
	.map_start = on_map,
	.tag = on_tag,
	.float2 = on_f4,
	.float4 = on_f4,
	.float8 = on_f8,
	.undefined = on_null,
	.null = on_null,
	.boolean = on_bool,
	.indef_break = on_break,
};

/* Feed the input to libcbor one item head at a time until the top-level
 * item is complete or something fails. */
static void decode_all(struct dec *d, const uint8_t *buf)
{
	while (d->rc == PZ_OK && !d->done && d->pos < d->len) {
		struct cbor_decoder_result r;

		r = cbor_stream_decode(buf + d->pos, d->len - d->pos,
				       &dec_callbacks, d);
		if (r.status == CBOR_DECODER_NEDATA)
			fail(d, PZ_EINVAL, "truncated CBOR");
		else if (r.status != CBOR_DECODER_FINISHED)
			fail(d, PZ_EINVAL, "malformed or unsupported CBOR "
			     "item 0x%02x", buf[d->pos]);
		else
			d->pos += r.read;
	}
	if (d->rc == PZ_OK && !d->done)
		fail(d, PZ_EINVAL, "truncated CBOR: the input ends inside "
		     "an item");
	if (d->rc == PZ_OK && d->pos < d->len)
		fail(d, PZ_EINVAL, "trailing bytes after the CBOR item");
}

int pz_codec__cbor_parse(const uint8_t *buf, size_t len,
			 const struct pz_codec_limits *lim,
			 const struct pz_codec__cbor_opt *opt, json_t **out,
			 char *err, size_t errlen)
{
	struct dec d = {
		.lim = lim, .opt = opt, .len = len, .err = err,
		.errlen = errlen,
	};
	int rc = PZ_OK;

	*out = NULL;
	pz_buf_init(&d.key, 0);
	pz_buf_init(&d.str, 0);
	if (len > lim->max_bytes) {
		snprintf(err, errlen, "content of %zu bytes exceeds the limit "
			 "of %zu", len, lim->max_bytes);
		rc = PZ_ETOOBIG;
		goto out;
	}
	if (!buf || !len) {
		snprintf(err, errlen, "empty CBOR content");
		rc = PZ_EINVAL;
		goto out;
	}
	decode_all(&d, buf);
	if (d.rc == PZ_OK && !(opt->flags & PZ_CODEC_ANY_TOP) &&
	    !json_is_object(d.root))
		fail(&d, PZ_EINVAL, "content must be a CBOR map");
	rc = d.rc;
	if (rc == PZ_OK) {
		*out = d.root;
		d.root = NULL;
	}
out:
	json_decref(d.root);
	pz_free(d.st);
	pz_buf_free(&d.key);
	pz_buf_free(&d.str);
	return rc;
}

/* --- encoding ------------------------------------------------------------ */

int pz_codec__cbor_head(struct pz_buf *b, unsigned major, uint64_t v)
{
	unsigned char tmp[9];
	size_t n;

	switch (major) {
	case 0: n = cbor_encode_uint(v, tmp, sizeof(tmp)); break;
	case 1: n = cbor_encode_negint(v, tmp, sizeof(tmp)); break;
	case 2: n = cbor_encode_bytestring_start(v, tmp, sizeof(tmp)); break;
	case 3: n = cbor_encode_string_start(v, tmp, sizeof(tmp)); break;
	case 4: n = cbor_encode_array_start(v, tmp, sizeof(tmp)); break;
	case 5: n = cbor_encode_map_start(v, tmp, sizeof(tmp)); break;
	default: return PZ_EINVAL;
	}
	return pz_buf_add(b, tmp, n);
}

/*
 * x as an IEEE half if that holds it exactly: 1 and *h set, else 0.  Done
 * on the bits of the single (anything a half holds, a single holds), so
 * the codec needs no libm.
 */
static int half_of(double x, uint16_t *h)
{
	uint32_t u, m, sign;
	int e, shift;
	float f;

	if (x > 65504.0 || x < -65504.0)
		return 0;
	f = (float)x;
	if ((double)f != x)
		return 0;
	memcpy(&u, &f, sizeof(u));
	sign = u >> 16 & 0x8000;
	e = (int)(u >> 23 & 0xff) - 127;
	m = u & 0x7fffff;
	if (e == -127) {            /* zero, or a single subnormal */
		*h = (uint16_t)sign;
		return m == 0;
	}
	if (e >= -14) {             /* a normal half: 10 fraction bits */
		*h = (uint16_t)(sign | (uint32_t)(e + 15) << 10 | m >> 13);
		return (m & 0x1fff) == 0;
	}
	if (e < -24)
		return 0;
	m |= 0x800000;              /* a subnormal half: m * 2^(e-23) */
	shift = -1 - e;             /* as a multiple of 2^-24 */
	*h = (uint16_t)(sign | m >> shift);
	return (m & ((1u << shift) - 1)) == 0;
}

/* The shortest of half, single and double that holds x exactly. */
static int enc_real(struct pz_buf *b, double x)
{
	unsigned char tmp[9];
	uint16_t h;
	size_t n;

	if (!isfinite(x))
		return PZ_EINVAL;
	if (half_of(x, &h)) {
		tmp[0] = 0xf9;
		tmp[1] = (unsigned char)(h >> 8);
		tmp[2] = (unsigned char)h;
		n = 3;
	} else if (x <= FLT_MAX && x >= -FLT_MAX && (double)(float)x == x) {
		n = cbor_encode_single((float)x, tmp, sizeof(tmp));
	} else {
		n = cbor_encode_double(x, tmp, sizeof(tmp));
	}
	return pz_buf_add(b, tmp, n);
}

static int enc_int(struct pz_buf *b, json_int_t v)
{
	if (v >= 0)
		return pz_codec__cbor_head(b, 0, (uint64_t)v);
	return pz_codec__cbor_head(b, 1, (uint64_t)(-(v + 1)));
}

static int enc_text(struct pz_buf *b, const char *s, size_t n)
{
	int rc = pz_codec__cbor_head(b, 3, n);

	return rc == PZ_OK ? pz_buf_add(b, s, n) : rc;
}

static int enc_value(struct pz_buf *b, const json_t *v, int depth,
		     unsigned flags);

/* Deterministic order (RFC 8949 4.2.1): the bytewise order of the keys'
 * encodings, which for text keys is shorter first, then memcmp. */
static int key_order(const void *pa, const void *pb)
{
	const char *a = *(const char *const *)pa, *b = *(const char *const *)pb;
	size_t la = strlen(a), lb = strlen(b);

	if (la != lb)
		return la < lb ? -1 : 1;
	return memcmp(a, b, la);
}

static int enc_object(struct pz_buf *b, const json_t *v, int depth,
		      unsigned flags)
{
	size_t n = json_object_size(v), i = 0;
	int rc = pz_codec__cbor_head(b, 5, n);
	const char **keys;
	const char *k;
	json_t *e;

	if (!(flags & PZ_CODEC_DETERMINISTIC) || n < 2 || rc != PZ_OK) {
		json_object_foreach((json_t *)v, k, e) {
			if (rc == PZ_OK)
				rc = enc_text(b, k, strlen(k));
			if (rc == PZ_OK)
				rc = enc_value(b, e, depth + 1, flags);
		}
		return rc;
	}
	keys = pz_malloc(n * sizeof(*keys));
	if (!keys)
		return PZ_ENOMEM;
	json_object_foreach((json_t *)v, k, e)
		keys[i++] = k;
	qsort(keys, n, sizeof(*keys), key_order);
	for (i = 0; i < n && rc == PZ_OK; i++) {
		rc = enc_text(b, keys[i], strlen(keys[i]));
		if (rc == PZ_OK)
			rc = enc_value(b, json_object_get(v, keys[i]),
				       depth + 1, flags);
	}
	pz_free(keys);
	return rc;
}

static int enc_array(struct pz_buf *b, const json_t *v, int depth,
		     unsigned flags)
{
	int rc = pz_codec__cbor_head(b, 4, json_array_size(v));
	json_t *e;
	size_t i;

	json_array_foreach((json_t *)v, i, e) {
		if (rc == PZ_OK)
			rc = enc_value(b, e, depth + 1, flags);
	}
	return rc;
}

static int enc_value(struct pz_buf *b, const json_t *v, int depth,
		     unsigned flags)
{
	static const unsigned char f4 = 0xf4, f5 = 0xf5, f6 = 0xf6;

	if (depth > 1000)
		return PZ_EINVAL;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return enc_object(b, v, depth, flags);
	case JSON_ARRAY:
		return enc_array(b, v, depth, flags);
	case JSON_STRING:
		return enc_text(b, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		return enc_int(b, json_integer_value(v));
	case JSON_REAL:
		return enc_real(b, json_real_value(v));
	case JSON_TRUE:
		return pz_buf_add(b, &f5, 1);
	case JSON_FALSE:
		return pz_buf_add(b, &f4, 1);
	default:
		return pz_buf_add(b, &f6, 1);
	}
}

int pz_codec__cbor_value(struct pz_buf *b, const json_t *v, int depth)
{
	return enc_value(b, v, depth, 0);
}

int pz_codec__cbor_encode(const json_t *doc, unsigned flags,
			  struct pz_buf *out)
{
	size_t before = out->len;
	int rc = enc_value(out, doc, 0, flags);

	if (rc != PZ_OK) {
		out->len = before;
		if (out->data)
			out->data[before] = '\0';
	}
	return rc;
}
