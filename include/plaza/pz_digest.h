/*
 * pz_digest.h - HTTP Digest headers as used on GBA's Ub interface (3GPP
 * TS 24.109 with RFC 3310 "Digest AKA" over RFC 2617): a strict parser and
 * writer of the WWW-Authenticate challenge, the Authorization answer and
 * Authentication-Info, and the RFC 2617 response computation with qop
 * "auth-int" and AKAv1-MD5 (password = RES as octets).
 *
 * Grammar accepted (RFC 2617 section 1.2 / 3.2, RFC 7235):
 *
 *   header  = [ "Digest" 1*SP ] param *( OWS "," OWS param )
 *   param   = token OWS "=" OWS ( token / quoted-string )
 *
 * The scheme is required for WWW-Authenticate and Authorization
 * (PZ_DIGEST_CHALLENGE, PZ_DIGEST_AUTH) and absent for
 * Authentication-Info (PZ_DIGEST_INFO).  Parameter names are matched
 * without regard to case; a parameter given twice, a value over its
 * ceiling, a control character, a non-ASCII octet or an unterminated
 * quoted-string is refused.  Unknown parameters are skipped (RFC 2617),
 * at most PZ_DIGEST_MAX_PARAMS parameters in all, and a header is at most
 * PZ_DIGEST_MAX octets.  Every value is copied, unescaped, into the fixed
 * buffers of struct pz_digest; nothing is allocated.
 *
 * The MD5 of the response computation comes from libcrypto's EVP.
 *
 * Threads: no global state; any thread.
 */
#ifndef PZ_DIGEST_H
#define PZ_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PZ_DIGEST_MAX        4096 /* octets of one header */
#define PZ_DIGEST_MAX_PARAMS 24
#define PZ_DIGEST_USER_MAX   255  /* IMPI (RFC 4279 asks for 128) */
#define PZ_DIGEST_REALM_MAX  253
#define PZ_DIGEST_NONCE_MAX  128
#define PZ_DIGEST_URI_MAX    255
#define PZ_DIGEST_CNONCE_MAX 128
#define PZ_DIGEST_OPAQUE_MAX 128
#define PZ_DIGEST_TOKEN_MAX  31   /* qop, algorithm, nc, stale */
#define PZ_DIGEST_HEX_LEN    32   /* response, rspauth: hex MD5 */
#define PZ_DIGEST_AUTS_MAX   32   /* base64 of the 14-octet AUTS */

/* Which header a text is. */
enum pz_digest_kind {
	PZ_DIGEST_CHALLENGE = 1,  /* WWW-Authenticate */
	PZ_DIGEST_AUTH,           /* Authorization */
	PZ_DIGEST_INFO            /* Authentication-Info */
};

/* The fields, one bit each in struct pz_digest.have. */
enum pz_digest_field {
	PZ_DF_USERNAME = 1u << 0,
	PZ_DF_REALM = 1u << 1,
	PZ_DF_NONCE = 1u << 2,
	PZ_DF_URI = 1u << 3,
	PZ_DF_RESPONSE = 1u << 4,
	PZ_DF_QOP = 1u << 5,
	PZ_DF_NC = 1u << 6,
	PZ_DF_CNONCE = 1u << 7,
	PZ_DF_OPAQUE = 1u << 8,
	PZ_DF_ALGORITHM = 1u << 9,
	PZ_DF_AUTS = 1u << 10,
	PZ_DF_RSPAUTH = 1u << 11,
	PZ_DF_STALE = 1u << 12
};

/* One parsed header: every value NUL-terminated, "" when absent. */
struct pz_digest {
	unsigned have;                                /* PZ_DF_* present */
	char username[PZ_DIGEST_USER_MAX + 1];        /* the IMPI */
	char realm[PZ_DIGEST_REALM_MAX + 1];
	char nonce[PZ_DIGEST_NONCE_MAX + 1];          /* base64 */
	char uri[PZ_DIGEST_URI_MAX + 1];              /* digest-uri */
	char response[PZ_DIGEST_HEX_LEN + 1];         /* 32 hex or "" */
	char qop[PZ_DIGEST_TOKEN_MAX + 1];            /* "auth-int" */
	char nc[PZ_DIGEST_TOKEN_MAX + 1];             /* 8 hex digits */
	char cnonce[PZ_DIGEST_CNONCE_MAX + 1];
	char opaque[PZ_DIGEST_OPAQUE_MAX + 1];
	char algorithm[PZ_DIGEST_TOKEN_MAX + 1];      /* "AKAv1-MD5" */
	char auts[PZ_DIGEST_AUTS_MAX + 1];            /* base64 AUTS */
	char rspauth[PZ_DIGEST_HEX_LEN + 1];
	char stale[PZ_DIGEST_TOKEN_MAX + 1];          /* "true"/"false" */
};

/*
 * pz_digest_parse - parse the len octets at s (no NUL needed; borrowed)
 * as a header of kind into *out (zeroed first).
 * why: OUT, may be NULL; on failure a static reason ("Digest: ...") that
 *      quotes no input, fit for a 400 body and a log line.
 * PZ_OK; PZ_EINVAL (malformed; *out zeroed); PZ_ETOOBIG (len over
 * PZ_DIGEST_MAX or a value over its ceiling; *out zeroed).
 */
int pz_digest_parse(enum pz_digest_kind kind, const char *s, size_t len,
		    struct pz_digest *out, const char **why);

/*
 * pz_digest_write - the header of kind with the fields of d that are in
 * d->have (in a fixed order; nc, algorithm, stale and, outside a
 * challenge, qop as tokens, the rest quoted with '"' and '\' escaped),
 * NUL-terminated into out
 * (out_size octets), its length into *len when not NULL.  What it writes
 * parses back to the same fields.
 * PZ_OK; PZ_EINVAL (NULL, no field, or a token field that is not a
 * token);
 * PZ_ETOOBIG (out_size too small; out holds "" if out_size > 0).
 */
int pz_digest_write(enum pz_digest_kind kind, const struct pz_digest *d,
		    char *out, size_t out_size, size_t *len);

/*
 * pz_digest_response - the RFC 2617 request-digest of a (its username,
 * realm, nonce, nc, cnonce, qop and uri fields) with the password pw
 * (pw_len octets: for AKAv1-MD5 the RES, RFC 3310 section 3.3), the
 * method and, for qop "auth-int", the entity body (body_len octets; may
 * be NULL when 0).  qop must be "auth-int" or "auth" (the legacy form
 * without qop is not supported).  Lower-case hex, NUL-terminated, into
 * out.  With method "" this is Authentication-Info's rspauth over the
 * response body (RFC 2617 3.2.3).
 * PZ_OK; PZ_EINVAL (NULL, unsupported qop); PZ_ENOMEM (libcrypto).
 */
int pz_digest_response(const struct pz_digest *a, const uint8_t *pw,
		       size_t pw_len, const char *method, const uint8_t *body,
		       size_t body_len, char out[PZ_DIGEST_HEX_LEN + 1]);

/* pz_digest_equal - constant-time comparison of two NUL-terminated hex
 * digests (false unless both are PZ_DIGEST_HEX_LEN long and equal). */
bool pz_digest_equal(const char *a, const char *b);

#endif
