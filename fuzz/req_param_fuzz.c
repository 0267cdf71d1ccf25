/*
 * req_param_fuzz.c - libFuzzer target for pz_req_param.
 *
 * Input: lines "name=value" (split at the first '='; a line without one
 * passes a NULL value), applied in order to one request.  Checks: the
 * result is PZ_OK, PZ_EINVAL or PZ_ENOTFOUND, every refusal carries a
 * NUL-terminated reason, and the round trip: the request's parameters
 * written back as text (fz_req_params) and applied to a fresh request
 * are all accepted and give the same request (fz_req_diff).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plaza/pz_err.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_req.h"

#define FZ_CHECK(c)                                                       \
	do {                                                              \
		if (!(c)) {                                               \
			fprintf(stderr, "%s:%d: check failed: %s\n",      \
				__FILE__, __LINE__, #c);                  \
			abort();                                          \
		}                                                         \
	} while (0)

typedef void (*fz_emit_fn)(void *ud, const char *name, const char *value);
void fz_req_params(const struct pz_req *req, fz_emit_fn emit, void *ud);
const char *fz_req_diff(const struct pz_req *a, const struct pz_req *b);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Apply one parameter and check the contract of the answer. */
static int fz_apply(struct pz_req *req, const char *name, const char *value)
{
	char err[128];
	int rc;

	memset(err, 'x', sizeof(err));
	err[0] = '\0';
	rc = pz_req_param(req, name, value, err, sizeof(err));
	FZ_CHECK(rc == PZ_OK || rc == PZ_EINVAL || rc == PZ_ENOTFOUND);
	if (rc != PZ_OK) {
		FZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		FZ_CHECK(err[0] != '\0');
	}
	return rc;
}

static void fz_reapply(void *ud, const char *name, const char *value)
{
	int rc = fz_apply(ud, name, value);

	if (rc != PZ_OK) {
		fprintf(stderr, "written back '%s=%s' refused (%d)\n", name,
			value, rc);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pz_req a, b;
	char *text = malloc(size + 1), *line, *next;
	const char *diff;
	int lines = 0;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	pz_req_init(&a);
	for (line = text; line && lines < 256; line = next, lines++) {
		char *eq;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		eq = strchr(line, '=');
		if (eq)
			*eq++ = '\0';
		fz_apply(&a, line, eq);
	}
	pz_req_init(&b);
	fz_req_params(&a, fz_reapply, &b);
	diff = fz_req_diff(&a, &b);
	if (diff) {
		fprintf(stderr, "round trip changed %s\n", diff);
		abort();
	}
	pz_req_clear(&a);
	pz_req_clear(&b);
	free(text);
	return 0;
}
