/*
 * codec_int.h - what the codec files share: the per-format parsers and
 * encoders behind pz_codec_parse_ex / pz_codec_encode (codec.c
 * dispatches), and the CBOR pieces SenML (senml.c) builds on.
 */
#ifndef PZ_CODEC_INT_H
#define PZ_CODEC_INT_H

#include <stdint.h>

#include "plaza/pz_buf.h"
#include "plaza/pz_codec.h"

/* Every PZ_CODEC_* flag pz_codec_parse_ex knows. */
#define PZ_CODEC__FLAGS (PZ_CODEC_ANY_TOP | PZ_CODEC_INT_KEYS | \
			 PZ_CODEC_BYTES_B64)

/*
 * How the CBOR decoder maps what the document model has no place for.
 * pz_codec_parse_ex fills only flags; SenML adds the rest, so its labels
 * and its byte-string rule are enforced while decoding.
 */
struct pz_codec__cbor_opt {
	unsigned flags;                    /* PZ_CODEC_* */
	const char *(*key_name)(int64_t);  /* integer map key -> text key;
					      NULL refuses that key.  Set,
					      it replaces PZ_CODEC_INT_KEYS */
	const char *bytes_key;             /* members of this name must hold
					      a byte string; set, it lets
					      byte strings in as base64url
					      like PZ_CODEC_BYTES_B64 */
	const char *const *text_keys;      /* NULL-terminated: members that
					      must not hold a byte string */
	int definite_strings;              /* refuse indefinite-length text
					      and byte strings */
	int rules_depth;                   /* bytes_key and text_keys apply
					      to maps at this depth only
					      (1: the top level); 0: all */
};

/*
 * pz_codec__json_parse / pz_codec__cbor_parse - the parsers, with the
 * contract of pz_codec_parse_ex (limits checked here, lim not NULL).
 */
int pz_codec__json_parse(const uint8_t *buf, size_t len,
			 const struct pz_codec_limits *lim, unsigned flags,
			 json_t **out, char *err, size_t errlen);
int pz_codec__cbor_parse(const uint8_t *buf, size_t len,
			 const struct pz_codec_limits *lim,
			 const struct pz_codec__cbor_opt *opt, json_t **out,
			 char *err, size_t errlen);

/*
 * pz_codec__json_encode / pz_codec__cbor_encode - the encoders, with the
 * contract of pz_codec_encode (out is left as it was on failure).
 */
int pz_codec__json_encode(const json_t *doc, unsigned flags,
			  struct pz_buf *out);
int pz_codec__cbor_encode(const json_t *doc, unsigned flags,
			  struct pz_buf *out);

/*
 * pz_codec__cbor_head - append the head of a CBOR item of major type
 * major (0..5) with argument v in its shortest form.  pz_codec__cbor_value
 * appends v in preferred serialisation (depth counts the containers
 * around it).  Both may leave a partial item in b on failure; callers
 * roll back.  PZ_OK, PZ_ENOMEM, PZ_ETOOBIG, PZ_EINVAL (NaN, infinity,
 * nesting beyond 1000).
 */
int pz_codec__cbor_head(struct pz_buf *b, unsigned major, uint64_t v);
int pz_codec__cbor_value(struct pz_buf *b, const json_t *v, int depth);

#endif
