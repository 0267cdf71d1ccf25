/*
 * pz_senml.h - SenML (RFC 8428, RFC 9100 versions) packs: parsing from
 * JSON (application/senml+json, CoAP 110) and CBOR (application/senml+cbor,
 * 112), and resolution into self-contained records.  Pure: no I/O, no
 * globals.
 */
#ifndef PZ_SENML_H
#define PZ_SENML_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "plaza/pz_codec.h"

/* SenML versions (bver) plaza understands: up to 10 (RFC 8428), and 26
 * (10 with RFC 9100's secondary units); a higher one is refused. */

/* A resolved record: no base fields, absolute time, full name. */
struct pz_senml_rec {
	char *name;         /* bn + n, owned */
	char *unit;         /* u, else bu; NULL if none; owned */
	enum { PZ_SENML_NONE, PZ_SENML_NUM, PZ_SENML_STR, PZ_SENML_BOOL,
	       PZ_SENML_DATA } kind;
	double v;           /* PZ_SENML_NUM: bv + v */
	char *vs;           /* PZ_SENML_STR or PZ_SENML_DATA (base64url) */
	int vb;             /* PZ_SENML_BOOL */
	int has_sum;        /* s or bs present */
	double sum;         /* bs + s */
	double t;           /* absolute time, seconds since the epoch */
	int has_ut;
	double ut;          /* update time, seconds */
	int bver;           /* 10 unless the pack said otherwise */
};

struct pz_senml_pack {
	struct pz_senml_rec *recs;  /* owned array */
	size_t n;
};

/*
 * pz_senml_parse - decode a pack from fmt (PZ_FMT_JSON or PZ_FMT_CBOR)
 * into its document form: an array of objects with the RFC's text labels
 * (CBOR integer labels are mapped to them, vd bytes become base64url).
 * JSON input is also checked for what jansson would let through but SenML
 * forbids (an upper-case exponent 'E').  CBOR input must be a definite-
 * length array (RFC 8428 section 6) with definite-length strings, use
 * integer labels from the RFC's closed table only, and hold vd as a byte
 * string and bn bu n u vs as text; byte strings under other labels become
 * base64url text.  The pack must be a non-empty array of objects; the
 * labels themselves are checked by pz_senml_resolve.  Limits as
 * pz_codec_parse (lim NULL: the defaults).  *out is the caller's (decref).
 * PZ_OK, PZ_EINVAL, PZ_ETOOBIG, PZ_ENOMEM; err says why.
 */
int pz_senml_parse(enum pz_fmt fmt, const uint8_t *buf, size_t len,
		   const struct pz_codec_limits *lim, json_t **out, char *err,
		   size_t errlen);

/*
 * pz_senml_resolve - resolve a pack (the document form above) against the
 * receive time now_us (microseconds since the epoch): base fields applied,
 * names concatenated and checked (first character alphanumeric, then
 * A-Z a-z 0-9 - : . / _), times made absolute (below 2^28 is relative to
 * now), exactly one value field per record unless a sum is present,
 * versions checked (one per pack, supported), unknown labels ending in '_'
 * refused, records sorted by time (stable).  Fills *out (free with
 * pz_senml_pack_free).  PZ_OK, PZ_EINVAL (err says which record, 1-based,
 * and why), PZ_ENOMEM.
 *
 * Also refused: a pack that is not a non-empty array of objects; labels
 * of the wrong type (bver must be a positive integer, vd canonical
 * base64url without padding); a base time on one side of 2^28 with
 * bt + t on the other (the accident RFC 8428 section 4.5.3 warns of; bt 0
 * is neutral); a time that resolves before 2^28 (1978), which a resolved
 * record could not state; sums that overflow to infinity.  now_us is a
 * real clock: relative times are now + bt + t.
 */
int pz_senml_resolve(const json_t *pack, int64_t now_us,
		     struct pz_senml_pack *out, char *err, size_t errlen);

/*
 * pz_senml_encode - append pack (the document form above) to out in fmt.
 * JSON is pz_codec_encode's; CBOR uses the RFC's integer labels (other
 * labels stay text), vd as the byte string its base64url text holds,
 * and preferred serialisation otherwise (pz_codec.h), so the RFC's own
 * CBOR dump is reproduced byte for byte.  The pack must be an array of
 * objects and every vd base64url without padding.  PZ_OK, PZ_EINVAL,
 * PZ_ENOMEM, PZ_ETOOBIG (out's ceiling); out is as it was on failure.
 * (Added with the implementation: the JSON<->CBOR test vectors need an
 * encoder that knows the labels.)
 */
int pz_senml_encode(enum pz_fmt fmt, const json_t *pack, struct pz_buf *out);

/* pz_senml_pack_free - release what out holds (NULL members are fine). */
void pz_senml_pack_free(struct pz_senml_pack *pack);

/*
 * pz_senml_record_json - one resolved record as a SenML JSON object (text
 * labels, n u v|vs|vb|vd s t ut, bver only when not 10), for storing as
 * contentInstance content.  Whole numbers up to 2^53 are written as
 * integers ("t":1700000000).  New reference, NULL on ENOMEM (or a record
 * without a name).
 */
json_t *pz_senml_record_json(const struct pz_senml_rec *rec);

#endif
