/*
 * cbor_json.c - a small reader of deterministic CBOR (RFC 8949 section
 * 4.2.1) into JSON, for plaza-verify: a trust-log entry is the
 * deterministic encoding of a JSON object, and the tool prints it back as
 * JSON without linking plaza's codec (which needs libcbor and the
 * allocator of the daemon).
 *
 * The reader is strict on purpose: an entry the log proved but that is
 * not what plaza's encoder writes (an indefinite length, a long form of a
 * short number, map keys out of order or repeated, a tag, trailing bytes)
 * is reported, not repaired.  Floats are accepted in any width.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plaza/pz_b64.h"
#include "plaza/pz_err.h"
#include "verify_int.h"

struct rd {
	const uint8_t *p;       /* the item's bytes */
	size_t n;               /* their number */
	size_t off;             /* next byte to read */
	char *err;              /* reason on error */
	size_t errlen;
};

static int fail(struct rd *r, size_t at, const char *what)
{
	snprintf(r->err, r->errlen, "%s at byte %zu", what, at);
	return PZ_EINVAL;
}

/*
 * The head of an item: its major type, its additional information and the
 * argument that follows (for major type 7, the raw float bits).  Long
 * forms of small arguments are refused, except for floats.
 */
static int head(struct rd *r, unsigned *major, unsigned *ai, uint64_t *arg)
{
	size_t at = r->off, len;
	uint64_t v = 0;

	if (r->off >= r->n)
		return fail(r, at, "truncated item");
	*major = r->p[r->off] >> 5;
	*ai = r->p[r->off] & 31;
	r->off++;
	if (*ai < 24) {
		*arg = *ai;
		return PZ_OK;
	}
	if (*ai > 27)
		return fail(r, at, *ai == 31 ? "indefinite length" :
			    "reserved additional information");
	len = (size_t)1 << (*ai - 24);
	if (r->n - r->off < len)
		return fail(r, at, "truncated item");
	for (size_t i = 0; i < len; i++)
		v = v << 8 | r->p[r->off + i];
	r->off += len;
	*arg = v;
	if (*major == 7 && *ai > 24)
		return PZ_OK;   /* a float: its bits */
	if ((*ai == 24 && v < (*major == 7 ? 32 : 24)) ||
	    (*ai == 25 && v <= 0xff) || (*ai == 26 && v <= 0xffff) ||
	    (*ai == 27 && v <= 0xffffffffu))
		return fail(r, at, "not the shortest encoding");
	return PZ_OK;
}

/* IEEE half, single or double bits to a double. */
static double float_of(unsigned ai, uint64_t bits)
{
	if (ai == 25) {
		int e = (int)(bits >> 10) & 31;
		double m = (double)(bits & 0x3ff);
		double x = e == 0 ? ldexp(m, -24) :
			   e == 31 ? (m ? NAN : INFINITY) :
			   ldexp(m + 1024, e - 25);

		return bits & 0x8000 ? -x : x;
	}
	if (ai == 26) {
		uint32_t b = (uint32_t)bits;
		float f;

		memcpy(&f, &b, sizeof(f));
		return f;
	}
	double d;

	memcpy(&d, &bits, sizeof(d));
	return d;
}

static int item(struct rd *r, int depth, json_t **out);

/* A string's bytes: arg bytes at the current offset. */
static int string_at(struct rd *r, size_t at, uint64_t arg,
		     const uint8_t **s)
{
	if (arg > r->n - r->off)
		return fail(r, at, "truncated string");
	*s = r->p + r->off;
	r->off += (size_t)arg;
	return PZ_OK;
}

static int text(struct rd *r, size_t at, uint64_t arg, json_t **out)
{
	const uint8_t *s;
	int rc = string_at(r, at, arg, &s);

	if (rc != PZ_OK)
		return rc;
	*out = json_stringn((const char *)s, (size_t)arg);
	return *out ? PZ_OK : fail(r, at, "text that is not UTF-8");
}

static int bytes(struct rd *r, size_t at, uint64_t arg, json_t **out)
{
	const uint8_t *s;
	char *b64;
	int rc = string_at(r, at, arg, &s);

	if (rc != PZ_OK)
		return rc;
	b64 = malloc(((size_t)arg + 2) / 3 * 4 + 1);
	if (!b64)
		return PZ_ENOMEM;
	pz_b64_encode(s, (size_t)arg, b64, 0);
	*out = json_string(b64);
	free(b64);
	return *out ? PZ_OK : PZ_ENOMEM;
}

static int array(struct rd *r, size_t at, uint64_t count, int depth,
		 json_t **out)
{
	int rc = PZ_OK;

	/* Every element takes a byte at least: a bound before any work. */
	if (count > r->n - r->off)
		return fail(r, at, "truncated array");
	*out = json_array();
	if (!*out)
		return PZ_ENOMEM;
	for (uint64_t i = 0; i < count && rc == PZ_OK; i++) {
		json_t *v = NULL;

		rc = item(r, depth + 1, &v);
		if (rc == PZ_OK && json_array_append_new(*out, v))
			rc = PZ_ENOMEM;
	}
	return rc;
}

/* Deterministic order: the keys' encodings compare bytewise. */
static bool key_after(const uint8_t *a, size_t alen, const uint8_t *b,
		      size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	return c > 0 || (c == 0 && alen > blen);
}

static int map(struct rd *r, size_t at, uint64_t count, int depth,
	       json_t **out)
{
	const uint8_t *prev = NULL;
	size_t prevlen = 0;
	int rc = PZ_OK;

	if (count > (r->n - r->off) / 2)
		return fail(r, at, "truncated map");
	*out = json_object();
	if (!*out)
		return PZ_ENOMEM;
	for (uint64_t i = 0; i < count && rc == PZ_OK; i++) {
		size_t kat = r->off;
		json_t *k = NULL, *v = NULL;

		rc = item(r, depth + 1, &k);
		if (rc == PZ_OK && !json_is_string(k))
			rc = fail(r, kat, "a map key that is not text");
		/* jansson loads no key with a NUL, nor does any field name */
		if (rc == PZ_OK && memchr(json_string_value(k), '\0',
					  json_string_length(k)))
			rc = fail(r, kat, "a map key with a NUL byte");
		if (rc == PZ_OK && prev &&
		    !key_after(r->p + kat, r->off - kat, prev, prevlen))
			rc = fail(r, kat, "map keys out of order or repeated");
		prev = r->p + kat;
		prevlen = r->off - kat;
		if (rc == PZ_OK)
			rc = item(r, depth + 1, &v);
		/* jansson takes v even when it fails */
		if (rc == PZ_OK &&
		    json_object_setn_new_nocheck(*out, json_string_value(k),
						 json_string_length(k), v))
			rc = PZ_ENOMEM;
		json_decref(k);
	}
	return rc;
}

static int simple(struct rd *r, size_t at, unsigned ai, uint64_t arg,
		  json_t **out)
{
	double x;

	if (ai >= 25) {
		x = float_of(ai, arg);
		if (!isfinite(x))
			return fail(r, at, "a float that is not finite");
		*out = json_real(x);
	} else if (arg == 20 || arg == 21) {
		*out = json_boolean(arg == 21);
	} else if (arg == 22) {
		*out = json_null();
	} else {
		return fail(r, at, "a simple value that JSON does not have");
	}
	return *out ? PZ_OK : PZ_ENOMEM;
}

/* One item into *out; on error *out is NULL and nothing is kept. */
static int item(struct rd *r, int depth, json_t **out)
{
	size_t at = r->off;
	unsigned major, ai;
	uint64_t arg;
	int rc;

	*out = NULL;
	if (depth > PZ_VERIFY_CBOR_DEPTH)
		return fail(r, at, "nesting too deep");
	rc = head(r, &major, &ai, &arg);
	if (rc != PZ_OK)
		return rc;
	switch (major) {
	case 0:
	case 1:
		if (arg > INT64_MAX)
			return fail(r, at, "an integer beyond 64-bit range");
		*out = json_integer(major ? -1 - (json_int_t)arg :
				    (json_int_t)arg);
		rc = *out ? PZ_OK : PZ_ENOMEM;
		break;
	case 2:
		rc = bytes(r, at, arg, out);
		break;
	case 3:
		rc = text(r, at, arg, out);
		break;
	case 4:
		rc = array(r, at, arg, depth, out);
		break;
	case 5:
		rc = map(r, at, arg, depth, out);
		break;
	case 6:
		rc = fail(r, at, "a tag");
		break;
	default:
		rc = simple(r, at, ai, arg, out);
		break;
	}
	if (rc != PZ_OK) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

int pz_verify__cbor_json(const uint8_t *p, size_t n, json_t **out,
			 char *err, size_t errlen)
{
	struct rd r = { p, n, 0, err, errlen };
	int rc = item(&r, 0, out);

	if (rc == PZ_OK && r.off != n)
		rc = fail(&r, r.off, "bytes after the item");
	if (rc == PZ_ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (rc != PZ_OK) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}
