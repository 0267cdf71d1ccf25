/*
 * codec.c - the serialisation-neutral part of the codec: default limits,
 * the limit walk over a built document, and the dispatch of
 * pz_codec_parse / pz_codec_parse_ex / pz_codec_encode to json.c and
 * cbor.c.
 */
#include <stdio.h>

#include "codec_int.h"
#include "plaza/pz_codec.h"
#include "plaza/pz_err.h"

const struct pz_codec_limits pz_codec_default_limits = {
	.max_bytes = 1 << 20,
	.max_depth = 32,
	.max_nodes = 100000,
};

struct walk_state {
	const struct pz_codec_limits *lim;
	size_t nodes;
};

/* Count v and everything under it; depth is the number of containers
 * around v.  The CBOR decoder counts the same way while it reads. */
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

int pz_codec_parse(enum pz_fmt fmt, const uint8_t *buf, size_t len,
		   const struct pz_codec_limits *lim, json_t **out, char *err,
		   size_t errlen)
{
	return pz_codec_parse_ex(fmt, buf, len, lim, 0, out, err, errlen);
}

int pz_codec_parse_ex(enum pz_fmt fmt, const uint8_t *buf, size_t len,
		      const struct pz_codec_limits *lim, unsigned flags,
		      json_t **out, char *err, size_t errlen)
{
	struct pz_codec__cbor_opt opt = { .flags = flags };

	if (!lim)
		lim = &pz_codec_default_limits;
	*out = NULL;
	if (flags & ~(unsigned)PZ_CODEC__FLAGS) {
		snprintf(err, errlen, "unknown parse flags 0x%x", flags);
		return PZ_EINVAL;
	}
	if (!buf && len) {
		snprintf(err, errlen, "no content buffer");
		return PZ_EINVAL;
	}
	switch (fmt) {
	case PZ_FMT_JSON:
		return pz_codec__json_parse(buf, len, lim, flags, out, err,
					    errlen);
	case PZ_FMT_CBOR:
		return pz_codec__cbor_parse(buf, len, lim, &opt, out, err,
					    errlen);
	default:
		snprintf(err, errlen, "unsupported serialization");
		return PZ_EINVAL;
	}
}

int pz_codec_encode(enum pz_fmt fmt, const json_t *doc, struct pz_buf *out)
{
	return pz_codec_encode_ex(fmt, doc, 0, out);
}

int pz_codec_encode_ex(enum pz_fmt fmt, const json_t *doc, unsigned flags,
		       struct pz_buf *out)
{
	if (!doc || !out || (flags & ~(unsigned)PZ_CODEC_DETERMINISTIC))
		return PZ_EINVAL;
	switch (fmt) {
	case PZ_FMT_JSON:
		return pz_codec__json_encode(doc, flags, out);
	case PZ_FMT_CBOR:
		return pz_codec__cbor_encode(doc, flags, out);
	default:
		return PZ_EINVAL;
	}
}
