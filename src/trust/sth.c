/*
 * sth.c - signed tree heads as bytes and as JSON, and their signatures
 * (pz_tlog.h).  No store here: plaza-verify links this file alone.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "plaza/pz_b64.h"
#include "plaza/pz_err.h"
#include "plaza/pz_tlog.h"

static const char sth_label[] = "plaza tree head v1";

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

void pz_tlog_head_tbs(const uint8_t log_id[PZ_TLOG_HASH],
		      const struct pz_store_head *h,
		      uint8_t out[PZ_TLOG_TBS_LEN])
{
	size_t l = sizeof(sth_label) - 1;

	memcpy(out, sth_label, l);
	memcpy(out + l, log_id, PZ_TLOG_HASH);
	put_be64(out + l + 32, (uint64_t)h->ts);
	put_be64(out + l + 40, h->size);
	memcpy(out + l + 48, h->root, PZ_TLOG_HASH);
}

bool pz_tlog_head_verify(const uint8_t pub[32], const struct pz_store_head *h)
{
	uint8_t tbs[PZ_TLOG_TBS_LEN], id[PZ_TLOG_HASH];
	EVP_PKEY *key;
	EVP_MD_CTX *ctx;
	bool ok = false;

	if (!EVP_Digest(pub, 32, id, NULL, EVP_sha256(), NULL))
		return false;
	pz_tlog_head_tbs(id, h, tbs);
	key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	ctx = EVP_MD_CTX_new();
	if (key && ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1)
		ok = EVP_DigestVerify(ctx, h->sig, PZ_TLOG_SIG, tbs,
				      sizeof(tbs)) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	return ok;
}

json_t *pz_tlog_head_json(const uint8_t log_id[PZ_TLOG_HASH],
			  const struct pz_store_head *h)
{
	char id[48], root[48], sig[96];

	pz_b64_encode(log_id, PZ_TLOG_HASH, id, 0);
	pz_b64_encode(h->root, PZ_TLOG_HASH, root, 0);
	pz_b64_encode(h->sig, PZ_TLOG_SIG, sig, 0);
	return json_pack("{s:s, s:I, s:I, s:s, s:s}", "log_id", id,
			 "tree_size", (json_int_t)h->size,
			 "timestamp", (json_int_t)h->ts, "root_hash", root,
			 "signature", sig);
}

/* A base64 member of exactly n bytes. */
static int get_b64(const json_t *j, const char *name, uint8_t *out,
		   size_t n, char *err, size_t errlen)
{
	const char *s = json_string_value(json_object_get(j, name));
	uint8_t tmp[128];
	long got;

	if (!s) {
		snprintf(err, errlen, "'%s' is missing or not a string", name);
		return PZ_EINVAL;
	}
	got = strlen(s) <= 4 * sizeof(tmp) / 3 ?
	      pz_b64_decode(s, tmp, sizeof(tmp)) : -1;
	if (got != (long)n) {
		snprintf(err, errlen, "'%s' must be base64 of %zu bytes", name,
			 n);
		return PZ_EINVAL;
	}
	memcpy(out, tmp, n);
	return PZ_OK;
}

/* A non-negative integer member. */
static int get_uint(const json_t *j, const char *name, uint64_t *out,
		    char *err, size_t errlen)
{
	const json_t *v = json_object_get(j, name);

	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		snprintf(err, errlen, "'%s' must be a non-negative integer",
			 name);
		return PZ_EINVAL;
	}
	*out = (uint64_t)json_integer_value(v);
	return PZ_OK;
}

int pz_tlog_head_parse(const json_t *j, uint8_t log_id[PZ_TLOG_HASH],
		       struct pz_store_head *h, char *err, size_t errlen)
{
	uint64_t ts = 0;
	int rc;

	if (!json_is_object(j)) {
		snprintf(err, errlen, "a tree head must be a JSON object");
		return PZ_EINVAL;
	}
	rc = get_b64(j, "log_id", log_id, PZ_TLOG_HASH, err, errlen);
	if (rc == PZ_OK)
		rc = get_uint(j, "tree_size", &h->size, err, errlen);
	if (rc == PZ_OK)
		rc = get_uint(j, "timestamp", &ts, err, errlen);
	if (rc == PZ_OK)
		rc = get_b64(j, "root_hash", h->root, PZ_TLOG_HASH, err,
			     errlen);
	if (rc == PZ_OK)
		rc = get_b64(j, "signature", h->sig, PZ_TLOG_SIG, err, errlen);
	h->ts = (int64_t)ts;
	return rc;
}
