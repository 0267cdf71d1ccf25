/*
 * json_fuzz.c - libFuzzer target for the JSON codec (pz_codec_parse,
 * pz_codec_encode, pz_codec_check).
 *
 * The input is parsed under tight limits.  A refusal must be PZ_EINVAL or
 * PZ_ETOOBIG with a reason and no document.  An accepted document must be
 * an object within the limits, and survive parse -> encode -> parse equal
 * (json_equal), with a second encode byte-identical to the first (the
 * encoding is canonical).  An encode into a buffer with exactly the room
 * it needs must succeed; into one a byte smaller it must fail and leave
 * the buffer as it was.
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct pz_codec_limits fz_lim = {
	.max_bytes = 64 * 1024,
	.max_depth = 16,
	.max_nodes = 4096,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct pz_codec_limits relim = fz_lim;
	struct pz_buf one, two, small;
	json_t *a = NULL, *b = NULL;
	char err[256];
	int rc;

	if (!init) {
		/* As plazad: jansson allocates through pz_malloc. */
		json_set_alloc_funcs(pz_malloc, pz_free);
		json_object_seed(1);
		init = 1;
	}
	memset(err, 'x', sizeof(err));
	rc = pz_codec_parse(PZ_FMT_JSON, data, size, &fz_lim, &a, err,
			    sizeof(err));
	if (rc != PZ_OK) {
		FZ_CHECK(rc == PZ_EINVAL || rc == PZ_ETOOBIG);
		FZ_CHECK(a == NULL);
		FZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		FZ_CHECK(err[0] != '\0');
		FZ_CHECK(rc != PZ_ETOOBIG || size > 0);
		return 0;
	}
	FZ_CHECK(json_is_object(a));
	FZ_CHECK(pz_codec_check(a, &fz_lim, err, sizeof(err)) == PZ_OK);

	pz_buf_init(&one, 0);
	FZ_CHECK(pz_codec_encode(PZ_FMT_JSON, a, &one) == PZ_OK);
	/* Numbers may grow when written back ("1e9"); the other limits
	 * hold for the same document. */
	relim.max_bytes = one.len;
	rc = pz_codec_parse(PZ_FMT_JSON, (const uint8_t *)one.data, one.len,
			    &relim, &b, err, sizeof(err));
	if (rc != PZ_OK) {
		fprintf(stderr, "re-parse of '%s' failed: %s\n", one.data, err);
		abort();
	}
	FZ_CHECK(json_equal(a, b));
	pz_buf_init(&two, 0);
	FZ_CHECK(pz_codec_encode(PZ_FMT_JSON, b, &two) == PZ_OK);
	FZ_CHECK(one.len == two.len && !memcmp(one.data, two.data, one.len));

	/* Exactly the room needed: fits, same bytes. */
	pz_buf_init(&small, one.len);
	FZ_CHECK(pz_codec_encode(PZ_FMT_JSON, a, &small) == PZ_OK);
	FZ_CHECK(small.len == one.len &&
		 !memcmp(small.data, one.data, one.len));
	pz_buf_free(&small);
	/* One byte short of room: refused, buffer untouched. */
	pz_buf_init(&small, one.len);
	FZ_CHECK(pz_buf_adds(&small, "#") == PZ_OK);
	FZ_CHECK(pz_codec_encode(PZ_FMT_JSON, a, &small) != PZ_OK);
	FZ_CHECK(small.len == 1 && !strcmp(small.data, "#"));

	pz_buf_free(&one);
	pz_buf_free(&two);
	pz_buf_free(&small);
	json_decref(a);
	json_decref(b);
	return 0;
}
