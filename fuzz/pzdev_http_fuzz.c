/*
 * pzdev_http_fuzz.c - libFuzzer target for the device client's HTTP
 * response parser (pzdev_http_parse in device/pzdev_http.h).
 *
 * The input is what a BSF might send.  Checked:
 * - an accepted response lies inside the input: its length, its body and
 *   every kept field (name and value) are within the octets given, at
 *   most PZDEV_HTTP_HDRS_MAX fields are kept, the status is 3 digits;
 * - framing is stable: a response complete without eof is complete, with
 *   the same length and body, when given exactly its own octets, and one
 *   octet less is "incomplete" (PZDEV_EAGAIN), never a misparse;
 * - with eof nothing is incomplete: every answer is OK or EPARSE.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pzdev.h"
#include "pzdev_http.h"

#define FZ_CHECK(c)                                                       \
	do {                                                              \
		if (!(c)) {                                               \
			fprintf(stderr, "%s:%d: check failed: %s\n",      \
				__FILE__, __LINE__, #c);                  \
			abort();                                          \
		}                                                         \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* p (n octets) lies inside [data, data + size). */
static int fz_inside(const void *p, size_t n, const uint8_t *data,
		     size_t size)
{
	const uint8_t *q = p;

	return q >= data && n <= size && q - data <= (ptrdiff_t)(size - n);
}

static void fz_check(const struct pzdev_http_rsp *r, const uint8_t *data,
		     size_t size)
{
	FZ_CHECK(r->len <= size);
	FZ_CHECK(r->status >= 100 && r->status <= 999);
	FZ_CHECK(r->nhdr <= PZDEV_HTTP_HDRS_MAX);
	FZ_CHECK(fz_inside(r->body, r->blen, data, r->len));
	FZ_CHECK(r->body + r->blen == data + r->len);
	for (unsigned i = 0; i < r->nhdr; i++) {
		FZ_CHECK(r->hdr[i].nlen > 0);
		FZ_CHECK(fz_inside(r->hdr[i].name, r->hdr[i].nlen, data,
				   size));
		FZ_CHECK(fz_inside(r->hdr[i].val, r->hdr[i].vlen, data,
				   size));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pzdev_http_rsp r, again;
	int rc;

	rc = pzdev_http_parse(data, size, true, &r);
	FZ_CHECK(rc == PZDEV_OK || rc == PZDEV_EPARSE);
	if (rc == PZDEV_OK)
		fz_check(&r, data, size);
	rc = pzdev_http_parse(data, size, false, &r);
	FZ_CHECK(rc == PZDEV_OK || rc == PZDEV_EPARSE || rc == PZDEV_EAGAIN);
	if (rc != PZDEV_OK)
		return 0;
	fz_check(&r, data, size);
	FZ_CHECK(pzdev_http_parse(data, r.len, false, &again) == PZDEV_OK);
	FZ_CHECK(again.len == r.len && again.blen == r.blen &&
		 again.status == r.status && again.nhdr == r.nhdr);
	FZ_CHECK(pzdev_http_parse(data, r.len - 1, false, &again) ==
		 PZDEV_EAGAIN);
	return 0;
}
