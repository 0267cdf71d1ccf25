/*
 * json.c - the JSON serialisation over jansson, with plaza's limits:
 * input size, nesting depth and value count are bounded before a document
 * reaches the core; duplicate keys and NUL characters are rejected.
 */
#include <stdio.h>
#include <string.h>

#include "plaza/pz_codec.h"
#include "plaza/pz_err.h"
#include "plaza/pz_mem.h"

const struct pz_codec_limits pz_codec_default_limits = {
	.max_bytes = 1 << 20,
	.max_depth = 32,
	.max_nodes = 100000,
};

struct walk_state {
	const struct pz_codec_limits *lim;
	size_t nodes;
};

static int codec_walk(const json_t *v, int depth, struct walk_state *ws)
{
	const char *k;
	json_t *e;
	size_t i;

	if (++ws->nodes > ws->lim->max_nodes)
		return PZ_ETOOBIG;
	if (json_is_object(v) || json_is_array(v)) {
		if (depth >= ws->lim->max_depth)
			return PZ_ETOOBIG;
	}
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, e) {
			if (codec_walk(e, depth + 1, ws) != PZ_OK)
				return PZ_ETOOBIG;
		}
	} else if (json_is_array(v)) {
		json_array_foreach((json_t *)v, i, e) {
			if (codec_walk(e, depth + 1, ws) != PZ_OK)
				return PZ_ETOOBIG;
		}
	}
	return PZ_OK;
}

int pz_codec_check(const json_t *doc, const struct pz_codec_limits *lim,
		   char *err, size_t errlen)
{
	struct walk_state ws = { lim, 0 };

	if (codec_walk(doc, 0, &ws) != PZ_OK) {
		snprintf(err, errlen, "content nests deeper than %d levels or "
			 "holds more than %zu values", lim->max_depth,
			 lim->max_nodes);
		return PZ_ETOOBIG;
	}
	return PZ_OK;
}

static int json_parse(const uint8_t *buf, size_t len,
		      const struct pz_codec_limits *lim, json_t **out,
		      char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *doc;
	int rc;

	doc = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		if (json_error_code(&jerr) == json_error_out_of_memory) {
			snprintf(err, errlen, "out of memory parsing content");
			return PZ_ENOMEM;
		}
		snprintf(err, errlen, "malformed JSON at line %d column %d: %s",
			 jerr.line, jerr.column, jerr.text);
		return PZ_EINVAL;
	}
	if (!json_is_object(doc)) {
		json_decref(doc);
		snprintf(err, errlen, "content must be a JSON object");
		return PZ_EINVAL;
	}
	rc = pz_codec_check(doc, lim, err, errlen);
	if (rc != PZ_OK) {
		json_decref(doc);
		return rc;
	}
	*out = doc;
	return PZ_OK;
}

int pz_codec_parse(enum pz_fmt fmt, const uint8_t *buf, size_t len,
		   const struct pz_codec_limits *lim, json_t **out, char *err,
		   size_t errlen)
{
	if (!lim)
		lim = &pz_codec_default_limits;
	*out = NULL;
	if (len > lim->max_bytes) {
		snprintf(err, errlen, "content of %zu bytes exceeds the limit "
			 "of %zu", len, lim->max_bytes);
		return PZ_ETOOBIG;
	}
	switch (fmt) {
	case PZ_FMT_JSON:
		return json_parse(buf, len, lim, out, err, errlen);
	default:
		snprintf(err, errlen, "unsupported serialization");
		return PZ_EINVAL;
	}
}

static int codec_buf_dump(const char *p, size_t n, void *ud)
{
	return pz_buf_add(ud, p, n) == PZ_OK ? 0 : -1;
}

int pz_codec_encode(enum pz_fmt fmt, const json_t *doc, struct pz_buf *out)
{
	size_t before = out->len;

	if (fmt != PZ_FMT_JSON)
		return PZ_EINVAL;
	if (json_dump_callback(doc, codec_buf_dump, out,
			       JSON_COMPACT | JSON_ENCODE_ANY) != 0) {
		out->len = before;
		if (out->data)
			out->data[before] = '\0';
		return out->max && out->len >= out->max ? PZ_ETOOBIG :
		       PZ_ENOMEM;
	}
	return PZ_OK;
}
