/*
 * pz_urn.h - RFC 9039 device identifiers ("urn:dev:" URNs) for the trust
 * repository: validation against the RFC's ABNF (section 3.2) and its
 * per-subtype text (section 4), and one normalised form per device, so
 * that two spellings of one identifier are recognised as the same device.
 * Pure: no I/O, no globals, no allocation; safe from any thread.
 *
 * Accepted (RFC 9039 section 3.2, "devurn = "urn:dev:" body componentpart"):
 *
 *   urn:dev:mac:<16 hex digits>             EUI-64 (4.1)
 *   urn:dev:ow:<16 hex digits>              1-Wire ROM id (4.2)
 *   urn:dev:org:<PEN>-<id>[:<id>...]        organisation-defined (4.3)
 *   urn:dev:os:<PEN>-<serial>[:<id>...]     organisation serial (4.4)
 *   urn:dev:ops:<PEN>-<product>-<serial>[:<id>...]            (4.5)
 *   urn:dev:<subtype>:<id>[:<id>...]        any other subtype (4.6, 7)
 *
 * each optionally followed by components "_<id>[_<id>...]" (3.2).  An
 * <id> is one or more of A-Z a-z 0-9 '.' '-'; a <product> the same
 * without '-'; a <subtype> a lower-case letter, then lower-case letters
 * and digits; <PEN> an IANA Private Enterprise Number, 1 to 4294967295,
 * without leading zeros.  Deliberate readings of the RFC:
 *
 * - "mac" and "ow" take exactly 16 hex digits (4.1, 4.2: "always exactly
 *   16 characters"; the ABNF alone allows any even count).  A 12-digit
 *   MAC-48/EUI-48 is refused, not converted: the RFC inserts ffff for a
 *   MAC-48 and fffe for an EUI-48, and the digits cannot say which.
 * - "ow": the last byte must be the 1-Wire CRC-8 of the first seven, in
 *   the RFC's order (family code first, CRC last).  4.2 lets an
 *   implementation check it; a trust repository should, since a wrong CRC
 *   is a typo or a reversed byte order, and either names another device.
 * - A subtype name is case-sensitive (RFC 7405 %s"mac:" in the ABNF):
 *   "urn:dev:MAC:..." is refused, not folded.  The ABNF's LALPHA reads
 *   %x41-5A (upper case), which contradicts its name, the RFC's own
 *   example "urn:dev:example:new-1-2-3_comp" and the draft history
 *   ("restricted ... any subtype to lower case"); plaza takes the intent.
 * - The defined subtypes (mac ow org os ops) must follow their own rule;
 *   "urn:dev:mac:zz" is not accepted as some other subtype "mac".
 * - Other syntactically valid subtypes ("example" included) are accepted
 *   as PZ_URN_OTHER: section 7 registers new subtypes over time, and a
 *   device built to a later RFC should not be locked out by this parser.
 *   Their meaning and case rules are unknown here, so a caller that must
 *   understand an identifier refuses PZ_URN_OTHER itself.
 * - Not part of the DEV grammar, so refused with a reason: percent-
 *   encoding ('%'; 3.2 says DEV URNs do not benefit from it and the ABNF
 *   has none), r-, q- and f-components ('?', '#'; 3.2), empty parts
 *   (trailing ':' or '_', "::", "__"), a PEN of 0 or with leading zeros,
 *   any other byte (NUL, space, '/', non-ASCII ...).
 *
 * Normalisation (the form written to norm), and why:
 * - "urn" and "dev" are lower-cased: RFC 8141 makes the scheme and the
 *   namespace identifier case-insensitive (RFC 9039 3.2.1).
 * - For mac, ow, org, os and ops the whole URN is lower-cased, hex digits,
 *   identifiers, product, serial and components alike: 3.2.1 says
 *   character case is not significant for the subtypes the RFC defines,
 *   ABNF strings such as hexdigit "a" match "A" too, and implementations
 *   are RECOMMENDED to use lower case where they have the choice.  So
 *   "urn:dev:ops:32473-Refrigerator-5002" is stored as
 *   "urn:dev:ops:32473-refrigerator-5002", and "...-refrigerator-5002"
 *   registered later collides with it.
 * - For other subtypes only "urn:dev:" changes; the rest is kept byte for
 *   byte (RFC 8141 URN-equivalence), as a future subtype may carry
 *   case-sensitive data such as base64 (3.2.1).
 * Nothing else changes: normalisation never adds, removes or moves a byte,
 * so the normalised form has the input's length and every offset below
 * is valid for the input too.  Normalising a normalised form changes
 * nothing.
 */
#ifndef PZ_URN_H
#define PZ_URN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Longest identifier accepted, in bytes.  RFC 9039 sets no limit; its
 * longest example is 39 bytes and an EUI-64 URN is 28.  255 leaves room
 * for long organisation serials and components, keeps a stored key and a
 * log line bounded, and lets the identifier travel as one CoAP Uri-Path
 * or Uri-Query option (at most 255 bytes, RFC 7252 5.10).  A buffer of
 * PZ_URN_MAX + 1 bytes holds any normalised form and its NUL.
 */
#define PZ_URN_MAX 255

enum pz_urn_kind {
	PZ_URN_MAC = 1,    /* urn:dev:mac: EUI-64 (MAC-48, EUI-48 as EUI-64) */
	PZ_URN_OW,         /* urn:dev:ow: 1-Wire 64-bit ROM id */
	PZ_URN_ORG,        /* urn:dev:org: organisation-defined identifier */
	PZ_URN_OS,         /* urn:dev:os: organisation serial number */
	PZ_URN_OPS,        /* urn:dev:ops: organisation product and serial */
	PZ_URN_OTHER       /* a valid subtype RFC 9039 does not define */
};

/* A part of the normalised form: norm[off] .. norm[off + len - 1].  An
 * absent part is { 0, 0 }. */
struct pz_urn_span {
	size_t off;        /* offset from the start of the URN */
	size_t len;        /* length in bytes; 0 = absent */
};

/* A parsed identifier; every span points into the normalised form (and,
 * as normalisation keeps positions, into the input). */
struct pz_urn {
	enum pz_urn_kind kind;
	uint32_t pen;                /* org, os, ops: the enterprise number;
				      * 0 otherwise */
	size_t len;                  /* length of the URN (input and norm) */
	struct pz_urn_span body;     /* the ABNF body: "<subtype>:..." up to,
				      * not including, the component part */
	struct pz_urn_span subtype;  /* "mac", "ow", ..., or the other name */
	struct pz_urn_span id;       /* mac, ow: the 16 hex digits; org: the
				      * identifier after "<PEN>-"; os, ops:
				      * the serial number; other: the first
				      * identifier */
	struct pz_urn_span product;  /* ops: the product class; else absent */
	struct pz_urn_span ext;      /* org, os, ops, other: the
				      * ':'-separated identifiers after the
				      * first, without the leading ':'
				      * ("a:b"); absent if none */
	struct pz_urn_span comp;     /* the component part without its
				      * leading '_' ("humidity", "a_b");
				      * absent if none */
	bool changed;                /* the normalised form differs from the
				      * input (only in letter case) */
};

/*
 * pz_urn_parse - validate the len bytes at in (no NUL needed; bytes past
 * len are never read) as an RFC 9039 device URN, write its normalised
 * form (rules above) and a NUL to norm, and describe it in *out.
 *
 * in:     borrowed, len bytes; may hold any bytes (a NUL is refused).
 * norm:   OUT, normlen bytes, at least len + 1 (PZ_URN_MAX + 1 always
 *         suffices); NULL (normlen ignored) to validate only.  Written
 *         only on success.
 * out:    OUT, filled on success; untouched on failure.
 * err:    OUT, errlen bytes: on failure a NUL-terminated English reason
 *         naming the subtype, the part and the byte offset (0-based), e.g.
 *         "urn:dev:mac: hex string must have an even number of digits
 *         (got 15)".  May be NULL (errlen 0).  Untouched on success.
 *
 * Returns PZ_OK; PZ_EINVAL for malformed input (or in or out NULL);
 * PZ_ETOOBIG when len exceeds PZ_URN_MAX (before any byte is read) or
 * norm cannot hold len + 1 bytes.
 */
int pz_urn_parse(const char *in, size_t len, char *norm, size_t normlen,
		 struct pz_urn *out, char *err, size_t errlen);

/*
 * pz_urn_equal - whether a (alen bytes) and b (blen bytes) are both valid
 * device URNs with the same normalised form, i.e. name the same device
 * and would collide as keys of the trust repository.  For the subtypes
 * RFC 9039 defines this is wider than RFC 8141 URN-equivalence
 * ("urn:dev:mac:0024BEFFFF804FF1" equals "urn:dev:mac:0024beffff804ff1",
 * as 3.2.1 allows); for other subtypes it is exactly that.  An invalid
 * identifier equals nothing, itself included (pz_urn_parse says why).
 * Both borrowed; no allocation.
 */
bool pz_urn_equal(const char *a, size_t alen, const char *b, size_t blen);

#endif
