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
 * top level must be an object.  Returns PZ_OK, PZ_ETOOBIG (over a limit),
 * PZ_EINVAL (malformed or not representable) or PZ_ENOMEM; err gets a
 * readable reason either way.
 *
 * CBOR (RFC 8949) maps onto the document model losslessly for what oneM2M
 * content holds: text-keyed maps, arrays, text strings, integers that fit
 * int64, floats (half, single, double: all become reals), true, false,
 * null (undefined too); definite and indefinite lengths; tags 0 and 1
 * (dates) and 4 (decimal fraction, becomes a real) are understood, other
 * tags are refused.  Byte strings and non-text map keys are refused unless
 * the flags below allow them.
 *
 * As for JSON, text must be UTF-8 without NUL and duplicate keys are
 * refused; so are integers beyond int64, NaN and infinities, bignums,
 * simple values other than false/true/null/undefined, a tag on a tag or
 * on a map key, and bytes after the top-level item.  Limits are checked
 * while decoding (a nesting bomb stops at max_depth + 1 containers) and
 * count as pz_codec_check does: every value once, keys not, tags and
 * decimal fractions no container.  docs/senml-cbor.md has the mapping.
 */
int pz_codec_parse(enum pz_fmt fmt, const uint8_t *buf, size_t len,
		   const struct pz_codec_limits *lim, json_t **out, char *err,
		   size_t errlen);

/* Flags for pz_codec_parse_ex. */
enum {
	PZ_CODEC_ANY_TOP = 1,    /* the top level may be any value */
	PZ_CODEC_INT_KEYS = 2,   /* CBOR: integer map keys become their
				    decimal text ("-2") */
	PZ_CODEC_BYTES_B64 = 4   /* CBOR: byte strings become base64url text
				    without padding */
};

/* pz_codec_parse_ex - pz_codec_parse with the flags above (0 for none;
 * unknown bits are PZ_EINVAL).  The CBOR-only flags change nothing for
 * JSON.  With PZ_CODEC_INT_KEYS the text and integer forms of a key are
 * the same key (a map holding both is a duplicate). */
int pz_codec_parse_ex(enum pz_fmt fmt, const uint8_t *buf, size_t len,
		      const struct pz_codec_limits *lim, unsigned flags,
		      json_t **out, char *err, size_t errlen);

/*
 * pz_codec_encode - append doc in fmt to out.  PZ_OK, PZ_ENOMEM,
 * PZ_ETOOBIG (out's ceiling, out unchanged), PZ_EINVAL (not encodable).
 * CBOR uses preferred serialisation: shortest integer heads, definite
 * lengths, and each real in the shortest float (half, single, double)
 * that holds it exactly.
 */
int pz_codec_encode(enum pz_fmt fmt, const json_t *doc, struct pz_buf *out);

/* Flags for pz_codec_encode_ex. */
enum {
	/* Deterministic encoding: CBOR as RFC 8949 section 4.2.1 has it
	 * (preferred serialisation, map keys in the bytewise order of their
	 * encodings, i.e. shorter keys first); JSON with members in bytewise
	 * key order.  Equal documents encode to equal bytes. */
	PZ_CODEC_DETERMINISTIC = 8
};

/* pz_codec_encode_ex - pz_codec_encode with the flags above (unknown bits
 * are PZ_EINVAL). */
int pz_codec_encode_ex(enum pz_fmt fmt, const json_t *doc, unsigned flags,
		       struct pz_buf *out);

/* pz_codec_check - walk doc and enforce depth and node limits. */
int pz_codec_check(const json_t *doc, const struct pz_codec_limits *lim,
		   char *err, size_t errlen);

#endif
