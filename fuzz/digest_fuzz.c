/*
 * digest_fuzz.c - libFuzzer target for the HTTP Digest header parser and
 * writer of the Ub interface (pz_digest_parse, pz_digest_write).
 *
 * The first octet picks the kind (challenge, authorization,
 * authentication-info); the rest is parsed from a buffer of exactly its
 * length.  Properties:
 *
 * - A refusal comes with a reason and leaves the output zeroed; an input
 *   over PZ_DIGEST_MAX is PZ_ETOOBIG.
 * - Every accepted field is NUL-terminated within its buffer and holds
 *   printable ASCII (or tab) only.
 * - Round trip: what was accepted is written back (unless a token field
 *   came quoted with a non-token character, which the writer refuses
 *   with PZ_EINVAL), and the written text parses to the same fields.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plaza/pz_digest.h"
#include "plaza/pz_err.h"

#define FZ_CHECK(c)                                                       \
	do {                                                              \
		if (!(c)) {                                               \
			fprintf(stderr, "%s:%d: check failed: %s\n",      \
				__FILE__, __LINE__, #c);                  \
			abort();                                          \
		}                                                         \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_field_ok(const char *f, size_t size)
{
	size_t n = strnlen(f, size);

	FZ_CHECK(n < size);
	for (size_t i = 0; i < n; i++)
		FZ_CHECK(f[i] == '\t' || (f[i] >= 0x20 && f[i] <= 0x7e));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pz_digest d, e, zero;
	static char out[4 * PZ_DIGEST_MAX];
	enum pz_digest_kind kind;
	const char *why = NULL, *s;
	size_t len, n;
	char *copy;
	int rc;

	if (size < 1)
		return 0;
	kind = (enum pz_digest_kind)(1 + data[0] % 3);
	len = size - 1;
	/* An exact-size heap copy, so reading past the end is caught. */
	copy = malloc(len ? len : 1);
	FZ_CHECK(copy);
	memcpy(copy, data + 1, len);
	s = copy;
	rc = pz_digest_parse(kind, s, len, &d, &why);
	if (rc != PZ_OK) {
		FZ_CHECK(rc == PZ_EINVAL || rc == PZ_ETOOBIG);
		FZ_CHECK(why && !strncmp(why, "Digest: ", 8));
		FZ_CHECK(!memcmp(&d, &zero, sizeof(d)));
		if (len > PZ_DIGEST_MAX)
			FZ_CHECK(rc == PZ_ETOOBIG);
		goto out;
	}
	FZ_CHECK(len <= PZ_DIGEST_MAX);
	fz_field_ok(d.username, sizeof(d.username));
	fz_field_ok(d.realm, sizeof(d.realm));
	fz_field_ok(d.nonce, sizeof(d.nonce));
	fz_field_ok(d.uri, sizeof(d.uri));
	fz_field_ok(d.response, sizeof(d.response));
	fz_field_ok(d.qop, sizeof(d.qop));
	fz_field_ok(d.nc, sizeof(d.nc));
	fz_field_ok(d.cnonce, sizeof(d.cnonce));
	fz_field_ok(d.opaque, sizeof(d.opaque));
	fz_field_ok(d.algorithm, sizeof(d.algorithm));
	fz_field_ok(d.auts, sizeof(d.auts));
	fz_field_ok(d.rspauth, sizeof(d.rspauth));
	fz_field_ok(d.stale, sizeof(d.stale));
	rc = pz_digest_write(kind, &d, out, sizeof(out), &n);
	if (rc == PZ_EINVAL)
		goto out;
	FZ_CHECK(rc == PZ_OK && n == strlen(out));
	rc = pz_digest_parse(kind, out, n, &e, &why);
	/* Escaping can push a written header over the ceiling. */
	if (n > PZ_DIGEST_MAX) {
		FZ_CHECK(rc == PZ_ETOOBIG);
		goto out;
	}
	FZ_CHECK(rc == PZ_OK);
	FZ_CHECK(!memcmp(&d, &e, sizeof(d)));
out:
	free(copy);
	return 0;
}
