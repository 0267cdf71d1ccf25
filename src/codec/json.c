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

int pz_codec_encode(enum pz_fmt fmt, const json_t *doc, struct pz_buf *out)
{
	size_t flags = JSON_COMPACT | JSON_ENCODE_ANY, need, room;
	int rc;

	if (fmt != PZ_FMT_JSON)
		return PZ_EINVAL;
	/* One pass into spare room, a second only if that was too small. */
	room = out->cap > out->len + 1 ? out->cap - out->len - 1 : 0;
	if (room < 1024) {
		rc = pz_buf_reserve(out, 1024);
		if (rc != PZ_OK)
			return rc;
		room = out->cap - out->len - 1;
	}
	need = json_dumpb(doc, out->data + out->len, room, flags);
	if (need == 0)
		return PZ_EINVAL;
	if (need > room) {
		rc = pz_buf_reserve(out, need);
		if (rc != PZ_OK)
			return rc;
		need = json_dumpb(doc, out->data + out->len, need, flags);
	}
	out->len += need;
	out->data[out->len] = '\0';
	return PZ_OK;
}
