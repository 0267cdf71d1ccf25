/*
 * cbor_fuzz.c - libFuzzer target for the CBOR codec (pz_codec_parse_ex,
 * pz_codec_encode with PZ_FMT_CBOR, pz_codec_check).
 *
 * The input is parsed under tight limits twice: with no flags and with
 * every flag (any top level, integer keys, byte strings as base64url).  A
 * refusal must be PZ_EINVAL or PZ_ETOOBIG with a reason and no document;
 * whatever the strict parse accepts the lenient one must accept equal.
 * An accepted document must be within the limits and survive parse ->
 * encode -> parse equal (json_equal), with a second encoding identical to
 * the first (preferred serialisation is canonical), an encoding into a
 * buffer of exactly its size succeeding and into one a byte smaller
 * failing untouched, and the JSON encoding reading back equal too.  The
 * deterministic encoding (PZ_CODEC_DETERMINISTIC) must not depend on key
 * order and must read back equal.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plaza/pz_codec.h"
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

#define FZ_ALL (PZ_CODEC_ANY_TOP | PZ_CODEC_INT_KEYS | PZ_CODEC_BYTES_B64)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct pz_codec_limits fz_lim = {
	.max_bytes = 64 * 1024,
	.max_depth = 16,
	.max_nodes = 4096,
};

/* Parse with flags; a refusal must be clean.  Returns the document or
 * NULL. */
static json_t *fz_parse(const uint8_t *data, size_t size,
			const struct pz_codec_limits *lim, unsigned flags)
{
	json_t *doc = (json_t *)1;
	char err[256];
	int rc;

	memset(err, 'x', sizeof(err));
	rc = pz_codec_parse_ex(PZ_FMT_CBOR, data, size, lim, flags, &doc,
			       err, sizeof(err));
	if (rc != PZ_OK) {
		FZ_CHECK(rc == PZ_EINVAL || rc == PZ_ETOOBIG);
		FZ_CHECK(doc == NULL);
		FZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		FZ_CHECK(err[0] != '\0');
		return NULL;
	}
	FZ_CHECK(doc != NULL);
	FZ_CHECK((flags & PZ_CODEC_ANY_TOP) || json_is_object(doc));
	FZ_CHECK(pz_codec_check(doc, lim, err, sizeof(err)) == PZ_OK);
	return doc;
}

/* The encodings must be exact fits: the same bytes with no room to
 * spare, and a refusal one byte short that leaves the buffer alone. */
static void fz_ceiling(const json_t *a, const struct pz_buf *one)
{
	struct pz_buf small;

	pz_buf_init(&small, one->len);
	FZ_CHECK(pz_codec_encode(PZ_FMT_CBOR, a, &small) == PZ_OK);
	FZ_CHECK(small.len == one->len &&
		 !memcmp(small.data, one->data, one->len));
	pz_buf_free(&small);
	pz_buf_init(&small, one->len);
	FZ_CHECK(pz_buf_adds(&small, "#") == PZ_OK);
	FZ_CHECK(pz_codec_encode(PZ_FMT_CBOR, a, &small) == PZ_ETOOBIG);
	FZ_CHECK(small.len == 1 && !strcmp(small.data, "#"));
	pz_buf_free(&small);
}

/* JSON holds whatever the CBOR parse produced. */
static void fz_via_json(const json_t *a)
{
	struct pz_codec_limits relim = fz_lim;
	struct pz_buf j;
	json_t *b = NULL;
	char err[256];
	int rc;

	pz_buf_init(&j, 0);
	FZ_CHECK(pz_codec_encode(PZ_FMT_JSON, a, &j) == PZ_OK);
	relim.max_bytes = j.len;
	rc = pz_codec_parse_ex(PZ_FMT_JSON, (const uint8_t *)j.data, j.len,
			       &relim, PZ_CODEC_ANY_TOP, &b, err, sizeof(err));
	if (rc != PZ_OK) {
		fprintf(stderr, "JSON re-parse of '%s' failed: %s\n", j.data,
			err);
		abort();
	}
	FZ_CHECK(json_equal(a, b));
	json_decref(b);
	pz_buf_free(&j);
}

/* The deterministic encoding depends on the document only: a copy built
 * in reverse key order encodes to the same bytes, which parse back equal
 * and are the same length as the preferred serialisation. */
static json_t *fz_reversed(const json_t *a)
{
	json_t *r, *e;
	const char *k;
	size_t i, n;

	if (json_is_array(a)) {
		r = json_array();
		json_array_foreach((json_t *)a, i, e)
			FZ_CHECK(json_array_append_new(r, fz_reversed(e)) == 0);
		return r;
	}
	if (!json_is_object(a))
		return json_deep_copy(a);
	r = json_object();
	n = json_object_size(a);
	{
		const char **keys = malloc((n ? n : 1) * sizeof(*keys));

		FZ_CHECK(keys != NULL);
		i = 0;
		json_object_foreach((json_t *)a, k, e)
			keys[i++] = k;
		while (i--)
			FZ_CHECK(json_object_set_new(r, keys[i], fz_reversed(
				json_object_get(a, keys[i]))) == 0);
		free(keys);
	}
	return r;
}

static void fz_deterministic(const json_t *a, unsigned flags, size_t plen)
{
	struct pz_codec_limits relim = fz_lim;
	struct pz_buf one, two;
	json_t *r = fz_reversed(a), *b;

	pz_buf_init(&one, 0);
	pz_buf_init(&two, 0);
	FZ_CHECK(pz_codec_encode_ex(PZ_FMT_CBOR, a, PZ_CODEC_DETERMINISTIC,
				    &one) == PZ_OK);
	FZ_CHECK(pz_codec_encode_ex(PZ_FMT_CBOR, r, PZ_CODEC_DETERMINISTIC,
				    &two) == PZ_OK);
	FZ_CHECK(one.len == plen);
	FZ_CHECK(one.len == two.len && !memcmp(one.data, two.data, one.len));
	relim.max_bytes = one.len;
	b = fz_parse((const uint8_t *)one.data, one.len, &relim, flags);
	FZ_CHECK(b != NULL && json_equal(a, b));
	json_decref(b);
	json_decref(r);
	pz_buf_free(&one);
	pz_buf_free(&two);
}

static void fz_round_trip(const json_t *a, unsigned flags)
{
	struct pz_codec_limits relim = fz_lim;
	struct pz_buf one, two;
	json_t *b;

	pz_buf_init(&one, 0);
	FZ_CHECK(pz_codec_encode(PZ_FMT_CBOR, a, &one) == PZ_OK);
	/* Base64url text and doubles for decimal fractions may be longer
	 * than what they came from; the other limits hold as they are. */
	relim.max_bytes = one.len;
	b = fz_parse((const uint8_t *)one.data, one.len, &relim, flags);
	FZ_CHECK(b != NULL);
	FZ_CHECK(json_equal(a, b));
	pz_buf_init(&two, 0);
	FZ_CHECK(pz_codec_encode(PZ_FMT_CBOR, b, &two) == PZ_OK);
	FZ_CHECK(one.len == two.len && !memcmp(one.data, two.data, one.len));
	fz_ceiling(a, &one);
	fz_via_json(a);
	fz_deterministic(a, flags, one.len);
	pz_buf_free(&one);
	pz_buf_free(&two);
	json_decref(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	json_t *strict, *lenient;

	if (!init) {
		/* As plazad: jansson allocates through pz_malloc. */
		json_set_alloc_funcs(pz_malloc, pz_free);
		json_object_seed(1);
		init = 1;
	}
	strict = fz_parse(data, size, &fz_lim, 0);
	lenient = fz_parse(data, size, &fz_lim, FZ_ALL);
	if (strict) {
		FZ_CHECK(lenient && json_equal(strict, lenient));
		fz_round_trip(strict, 0);
	}
	if (lenient)
		fz_round_trip(lenient, FZ_ALL);
	json_decref(strict);
	json_decref(lenient);
	return 0;
}
