/*
 * btid_fuzz.c - libFuzzer target for the B-TID parser and formatter
 * (pz_gba_btid_parse, pz_gba_btid_format).
 *
 * The input is parsed as a B-TID from a buffer of exactly its length (no
 * NUL after it) and the result is held against an independent model: a
 * POSIX regular expression of the accepted form (canonical base64 of 16
 * octets, "@", LDH labels of 1 to 63 with no hyphen at either end) plus
 * the 253-octet host ceiling.
 *
 * - The parser accepts exactly what the model accepts; a refusal is
 *   PZ_ETOOBIG exactly when the input is over PZ_GBA_BTID_MAX, PZ_EINVAL
 *   otherwise, and leaves the output zeroed.
 * - An accepted B-TID's server span is the text after the '@', and
 *   formatting its RAND with that server gives back the input byte for
 *   byte (the round trip parse, format, parse).
 * - The first 16 octets as a RAND and the rest as a server name: the
 *   formatter accepts exactly the names the model's host part accepts,
 *   and what it writes parses back to the same RAND and name.
 */
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plaza/pz_err.h"
#include "plaza/pz_gba.h"

#define FZ_CHECK(c)                                                       \
	do {                                                              \
		if (!(c)) {                                               \
			fprintf(stderr, "%s:%d: check failed: %s\n",      \
				__FILE__, __LINE__, #c);                  \
			abort();                                          \
		}                                                         \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_LABEL "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
#define FZ_HOST FZ_LABEL "(\\." FZ_LABEL ")*"

static regex_t fz_btid, fz_host;

static void fz_init(void)
{
	static int done;

	if (done)
		return;
	FZ_CHECK(!regcomp(&fz_btid, "^[A-Za-z0-9+/]{21}[AQgw]==@" FZ_HOST "$",
			  REG_EXTENDED | REG_NOSUB));
	FZ_CHECK(!regcomp(&fz_host, "^" FZ_HOST "$", REG_EXTENDED | REG_NOSUB));
	done = 1;
}

/* A NUL-terminated copy of data, or NULL when data holds a NUL (which
 * no accepted form contains). */
static char *fz_str(const uint8_t *data, size_t size)
{
	char *s;

	if (memchr(data, 0, size))
		return NULL;
	s = malloc(size + 1);
	FZ_CHECK(s);
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

static int fz_model_btid(const uint8_t *data, size_t size)
{
	char *s = fz_str(data, size);
	int ok = s && size <= PZ_GBA_BTID_MAX &&
		 !regexec(&fz_btid, s, 0, NULL, 0);

	free(s);
	return ok;
}

static int fz_model_host(const uint8_t *data, size_t size)
{
	char *s = fz_str(data, size);
	int ok = s && size >= 1 && size <= PZ_GBA_FQDN_MAX &&
		 !regexec(&fz_host, s, 0, NULL, 0);

	free(s);
	return ok;
}

static void fz_parse(const uint8_t *data, size_t size)
{
	static const struct pz_gba_btid zero;
	struct pz_gba_btid t, t2;
	const char *why = NULL;
	char out[PZ_GBA_BTID_SIZE];
	size_t len = 0;
	int rc;

	memset(&t, 0x5a, sizeof t);
	rc = pz_gba_btid_parse((const char *)data, size, &t, &why);
	if (!fz_model_btid(data, size)) {
		FZ_CHECK(rc == (size > PZ_GBA_BTID_MAX ? PZ_ETOOBIG
						       : PZ_EINVAL));
		FZ_CHECK(!memcmp(&t, &zero, sizeof t));
		FZ_CHECK(why && !strncmp(why, "B-TID: ", 7));
		return;
	}
	FZ_CHECK(rc == PZ_OK && why == NULL);
	FZ_CHECK(t.server == (const char *)data + PZ_GBA_BTID_B64_LEN + 1);
	FZ_CHECK(t.server_len == size - PZ_GBA_BTID_B64_LEN - 1);
	FZ_CHECK(pz_gba_btid_format(t.rand, t.server, t.server_len, out,
				    sizeof out, &len) == PZ_OK);
	FZ_CHECK(len == size && !memcmp(out, data, size));
	FZ_CHECK(pz_gba_btid_parse(out, len, &t2, NULL) == PZ_OK);
	FZ_CHECK(!memcmp(t2.rand, t.rand, sizeof t.rand));
}

static void fz_format(const uint8_t *data, size_t size)
{
	struct pz_gba_btid t;
	char out[PZ_GBA_BTID_SIZE];
	const char *host = (const char *)data + PZ_GBA_RAND_LEN;
	size_t hlen = size - PZ_GBA_RAND_LEN, len = 0;
	int rc;

	rc = pz_gba_btid_format(data, host, hlen, out, sizeof out, &len);
	if (!fz_model_host((const uint8_t *)host, hlen)) {
		FZ_CHECK(rc == PZ_EINVAL);
		return;
	}
	FZ_CHECK(rc == PZ_OK);
	FZ_CHECK(len == PZ_GBA_BTID_B64_LEN + 1 + hlen && strlen(out) == len);
	FZ_CHECK(pz_gba_btid_parse(out, len, &t, NULL) == PZ_OK);
	FZ_CHECK(!memcmp(t.rand, data, PZ_GBA_RAND_LEN));
	FZ_CHECK(t.server_len == hlen && !memcmp(t.server, host, hlen));
	/* One octet too small a buffer is refused. */
	FZ_CHECK(pz_gba_btid_format(data, host, hlen, out, len, NULL) ==
		 PZ_ETOOBIG);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_init();
	fz_parse(data, size);
	if (size >= PZ_GBA_RAND_LEN)
		fz_format(data, size);
	return 0;
}
