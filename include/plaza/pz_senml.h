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

/* SenML versions (bver) plaza understands: 10, or 26 with secondary units
 * (RFC 9100 feature bit 4); anything else is refused. */

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
 * forbids (an upper-case exponent 'E').  *out is the caller's (decref).
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
 */
int pz_senml_resolve(const json_t *pack, int64_t now_us,
		     struct pz_senml_pack *out, char *err, size_t errlen);

/* pz_senml_pack_free - release what out holds (NULL members are fine). */
void pz_senml_pack_free(struct pz_senml_pack *pack);

/*
 * pz_senml_record_json - one resolved record as a SenML JSON object (text
 * labels, n u v|vs|vb|vd s t ut, bver only when not 10), for storing as
 * contentInstance content.  New reference, NULL on ENOMEM.
 */
json_t *pz_senml_record_json(const struct pz_senml_rec *rec);

#endif
