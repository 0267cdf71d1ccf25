/*
 * pz_codec.h - content serialisations: wire bytes <-> the document model
 * (jansson values).  Parsing is pure: no I/O, no globals, bounded by the
 * limits given.
 */
#ifndef PZ_CODEC_H
#define PZ_CODEC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "plaza/pz_buf.h"
#include "plaza/pz_req.h"

struct pz_codec_limits {
	size_t max_bytes;    /* longest input accepted */
	int max_depth;       /* deepest nesting of arrays/objects */
	size_t max_nodes;    /* most values in one document */
};

/* The limits plazad uses unless configured otherwise. */
extern const struct pz_codec_limits pz_codec_default_limits;

/*
 * pz_codec_parse - parse len bytes of fmt into *out (caller decrefs).  The
 * top level must be an object.  Returns PZ_OK, PZ_ETOOBIG (over a limit) or
 * PZ_EINVAL (malformed); err gets a readable reason either way.
 */
int pz_codec_parse(enum pz_fmt fmt, const uint8_t *buf, size_t len,
		   const struct pz_codec_limits *lim, json_t **out, char *err,
		   size_t errlen);

/* pz_codec_encode - append doc in fmt to out.  PZ_OK, PZ_ENOMEM,
 * PZ_ETOOBIG (out's ceiling), PZ_EINVAL (not encodable). */
int pz_codec_encode(enum pz_fmt fmt, const json_t *doc, struct pz_buf *out);

/* pz_codec_check - walk doc and enforce depth and node limits. */
int pz_codec_check(const json_t *doc, const struct pz_codec_limits *lim,
		   char *err, size_t errlen);

#endif
