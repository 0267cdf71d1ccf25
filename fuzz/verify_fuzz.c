/*
 * verify_fuzz.c - libFuzzer target for plaza-verify's parsers and
 * verifiers (src/verify/check.c, cbor_json.c): what a regulator's tool
 * reads from an operator it does not trust.
 *
 * The first byte picks the mode, the rest is the document:
 *
 *   0  a proof bundle: parsed, its head checked against a fixed key and
 *      every entry checked (whatever the signature said), the decoded
 *      entries printed back; a parsed head must survive a JSON round trip
 *   1  a consistency document (or a bare array of hashes): parsed, and its
 *      proof checked from a head of size "from" whose root is the first
 *      hash to the document's head
 *   2  raw CBOR: decoded to JSON; what decodes must dump to JSON text and
 *      load back equal
 *   3  a signed head: parsed, checked, round-tripped
 *
 * The seed corpus (fuzz/corpus/verify/) is signed with the key below
 * (private key bytes 1..32; tests/it/test_verify.py --seeds), so seeds
 * get past the signature.  Verdicts are not asserted: no input may crash,
 * leak or read out of bounds, and a check may only answer PZ_OK,
 * PZ_ECORRUPT, PZ_EINVAL or PZ_ENOMEM.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plaza/pz_err.h"
#include "../src/verify/verify_int.h"

#define FZ_CHECK(c)                                                       \
	do {                                                              \
		if (!(c)) {                                               \
			fprintf(stderr, "%s:%d: check failed: %s\n",      \
				__FILE__, __LINE__, #c);                  \
			abort();                                          \
		}                                                         \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t fz_pub[32] = {
	0x79, 0xb5, 0x56, 0x2e, 0x8f, 0xe6, 0x54, 0xf9, 0x40, 0x78, 0xb1,
	0x12, 0xe8, 0xa9, 0x8b, 0xa7, 0x90, 0x1f, 0x85, 0x3a, 0xe6, 0x95,
	0xbe, 0xd7, 0xe0, 0xe3, 0x91, 0x0b, 0xad, 0x04, 0x96, 0x64,
};

static void fz_verdict(int rc)
{
	FZ_CHECK(rc == PZ_OK || rc == PZ_ECORRUPT || rc == PZ_EINVAL ||
		 rc == PZ_ENOMEM);
}

/* A parsed head back to JSON and parsed again: the same head. */
static void fz_head_round_trip(const struct pz_verify_head *h)
{
	struct pz_verify_head again;
	char err[256];
	json_t *j;

	if ((int64_t)h->h.size < 0 || h->h.ts < 0)
		return;         /* JSON integers are signed 64-bit */
	j = pz_tlog_head_json(h->log_id, &h->h);
	if (!j)
		return;
	FZ_CHECK(pz_verify__head_parse(j, &again, err, sizeof(err)) ==
		 PZ_OK);
	FZ_CHECK(memcmp(&again, h, sizeof(again)) == 0);
	json_decref(j);
}

static void fz_bundle(const json_t *j)
{
	struct pz_verify_bundle b;
	json_t *entries = NULL;
	char err[512];
	int rc;

	rc = pz_verify__bundle_parse(j, &b, err, sizeof(err));
	fz_verdict(rc);
	if (rc == PZ_OK) {
		fz_head_round_trip(&b.head);
		fz_verdict(pz_verify__head_check(fz_pub, &b.head, err,
						 sizeof(err)));
		rc = pz_verify__bundle_check(&b, &entries, err, sizeof(err));
		fz_verdict(rc);
		FZ_CHECK(rc != PZ_OK || json_array_size(entries) == b.n);
		json_decref(entries);
	}
	pz_verify__bundle_free(&b);
}

static void fz_cons(const json_t *j)
{
	struct pz_verify_cons c;
	struct pz_verify_head old;
	char err[512];
	int rc = pz_verify__cons_parse(j, &c, err, sizeof(err));

	fz_verdict(rc);
	if (rc != PZ_OK)
		return;
	memset(&old, 0, sizeof(old));
	old.h.size = c.from;
	if (c.nproof)
		memcpy(old.h.root, c.proof, PZ_MERKLE_HASH_LEN);
	if (c.has_head)
		fz_verdict(pz_verify__head_check(fz_pub, &c.head, err,
						 sizeof(err)));
	fz_verdict(pz_verify__consistency(&old, &c.head, c.proof, c.nproof,
					  err, sizeof(err)));
}

static void fz_cbor(const uint8_t *p, size_t n)
{
	char err[256];
	json_t *j = NULL, *back;
	char *text;
	int rc = pz_verify__cbor_json(p, n, &j, err, sizeof(err));

	FZ_CHECK(rc == PZ_OK || rc == PZ_EINVAL || rc == PZ_ENOMEM);
	FZ_CHECK((rc == PZ_OK) == (j != NULL));
	if (!j)
		return;
	text = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
	if (text) {
		back = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL,
				  NULL);
		FZ_CHECK(back && json_equal(j, back));
		json_decref(back);
		free(text);
	}
	json_decref(j);
}

static void fz_head(const json_t *j)
{
	struct pz_verify_head h;
	char err[256];
	int rc = pz_verify__head_parse(pz_verify__head_of(j), &h, err,
				       sizeof(err));

	fz_verdict(rc);
	if (rc != PZ_OK)
		return;
	fz_head_round_trip(&h);
	fz_verdict(pz_verify__head_check(fz_pub, &h, err, sizeof(err)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j;

	if (size < 1)
		return 0;
	if (data[0] % 4 == 2) {
		fz_cbor(data + 1, size - 1);
		return 0;
	}
	j = json_loadb((const char *)data + 1, size - 1,
		       JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
	if (!j)
		return 0;
	if (data[0] % 4 == 0)
		fz_bundle(j);
	else if (data[0] % 4 == 1)
		fz_cons(j);
	else
		fz_head(j);
	json_decref(j);
	return 0;
}
