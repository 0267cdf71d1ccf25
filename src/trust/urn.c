/*
 * urn.c - RFC 9039 device URNs: validation and normalisation (see
 * pz_urn.h for the accepted forms and the normalisation rules).
 *
 * One left-to-right pass validates the input and records where its parts
 * are; only then is the normalised form written, so norm is untouched on
 * failure and no byte past len is ever read.  Each refusal names the
 * subtype, the part and the offset of the byte that broke the rule.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "plaza/pz_err.h"
#include "plaza/pz_urn.h"

#define URN_PREFIX_LEN 8     /* "urn:dev:" */
#define URN_HEX_DIGITS 16    /* EUI-64 and 1-Wire ids: 64 bits */

/* Parsing state; the subtype is kept for the messages. */
struct urn_cur {
	const char *s;       /* the input, len bytes */
	size_t len;
	size_t pos;          /* next byte to look at */
	int prefixed;        /* "urn:dev:" has been read */
	const char *sub;     /* the subtype once read (in s), else NULL */
	size_t sublen;
	char *err;           /* the caller's reason buffer, may be NULL */
	size_t errlen;
};

static const struct {
	const char *name;
	enum pz_urn_kind kind;
} urn_subtypes[] = {
	{ "mac", PZ_URN_MAC }, { "ow", PZ_URN_OW }, { "org", PZ_URN_ORG },
	{ "os", PZ_URN_OS }, { "ops", PZ_URN_OPS },
};

/* ASCII only: the C library's tolower() follows the locale. */
static char urn_lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

static int urn_is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static int urn_is_alnum(char ch)
{
	char l = urn_lower(ch);

	return urn_is_digit(ch) || (l >= 'a' && l <= 'z');
}

/* ABNF hexdigit: "a".."f" are case-insensitive strings (RFC 5234 2.3). */
static int urn_is_hex(char ch)
{
	char l = urn_lower(ch);

	return urn_is_digit(ch) || (l >= 'a' && l <= 'f');
}

/* devunreserved (dash) or devunreservednodash. */
static int urn_is_unres(char ch, int dash)
{
	return urn_is_alnum(ch) || ch == '.' || (dash && ch == '-');
}

static int urn_hexval(char ch)
{
	return urn_is_digit(ch) ? ch - '0' : urn_lower(ch) - 'a' + 10;
}

/* Whether the n bytes at s are lit, ignoring ASCII case. */
static int urn_ieq(const char *s, const char *lit, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (urn_lower(s[i]) != lit[i])
			return 0;
	return 1;
}

/* Write "urn:dev:<subtype>: <message>" to the reason buffer (with as
 * much of the prefix as has been read). */
__attribute__((format(printf, 2, 3)))
static int urn_fail(struct urn_cur *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!c->err || !c->errlen)
		return PZ_EINVAL;
	if (c->sub)
		n = snprintf(c->err, c->errlen, "urn:dev:%.*s: ",
			     (int)c->sublen, c->sub);
	else
		n = snprintf(c->err, c->errlen, "%s",
			     c->prefixed ? "urn:dev: " : "");
	if (n < 0 || (size_t)n >= c->errlen)
		return PZ_EINVAL;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return PZ_EINVAL;
}

/*
 * The byte at c->pos does not fit: say what it is and what was expected.
 * Percent-encoding and r-/q-/f-components get their own reason, as they
 * are valid in other URNs and a user may expect them here.
 */
static int urn_bad(struct urn_cur *c, const char *expected)
{
	unsigned char ch;

	if (c->pos >= c->len)
		return urn_fail(c, "ends at offset %zu, expected %s", c->pos,
				expected);
	ch = (unsigned char)c->s[c->pos];
	if (ch == '%')
		return urn_fail(c, "'%%' at offset %zu: percent-encoding is "
				"not part of the DEV URN syntax", c->pos);
	if (ch == '?' || ch == '#')
		return urn_fail(c, "'%c' at offset %zu: DEV URNs have no r-, "
				"q- or f-components", ch, c->pos);
	if (ch > 0x20 && ch < 0x7f)
		return urn_fail(c, "'%c' at offset %zu, expected %s", ch,
				c->pos, expected);
	return urn_fail(c, "byte 0x%02x at offset %zu, expected %s", ch,
			c->pos, expected);
}

/*
 * identifier (dash) or identifiernodash: one or more devunreserved bytes.
 * what names the part for the reason; *sp receives where it is.
 */
static int urn_ident(struct urn_cur *c, const char *what, int dash,
		     struct pz_urn_span *sp)
{
	size_t start = c->pos;
	char expected[64];
	char ch;

	while (c->pos < c->len && urn_is_unres(c->s[c->pos], dash))
		c->pos++;
	if (c->pos == start) {
		ch = c->pos < c->len ? c->s[c->pos] : '\0';
		if (c->pos == c->len || ch == ':' || ch == '_' || ch == '-')
			return urn_fail(c, "empty %s at offset %zu", what,
					c->pos);
		snprintf(expected, sizeof(expected), "the %s (A-Z a-z 0-9 .%s)",
			 what, dash ? " -" : "");
		return urn_bad(c, expected);
	}
	sp->off = start;
	sp->len = c->pos - start;
	return PZ_OK;
}

/* "urn:" and "dev:", case-insensitive (RFC 8141, RFC 9039 3.2.1). */
static int urn_prefix(struct urn_cur *c)
{
	if (c->len < 4 || !urn_ieq(c->s, "urn:", 4))
		return urn_fail(c, "not a URN: expected \"urn:dev:\" at "
				"offset 0");
	if (c->len < URN_PREFIX_LEN || !urn_ieq(c->s + 4, "dev:", 4))
		return urn_fail(c, "not a device URN: the namespace after "
				"\"urn:\" (offset 4) must be \"dev\" "
				"(RFC 9039)");
	c->pos = URN_PREFIX_LEN;
	c->prefixed = 1;
	return PZ_OK;
}

/* An upper-case subtype: RFC 9039 names are case-sensitive (%s"mac:"),
 * so "MAC" is not "mac"; the reason spells the lower-case name. */
static int urn_subtype_case(struct urn_cur *c, size_t start, size_t at)
{
	char low[PZ_URN_MAX + 1];
	size_t n = c->pos - start;

	for (size_t i = 0; i < n; i++)
		low[i] = urn_lower(c->s[start + i]);
	return urn_fail(c, "subtype '%.*s' must be lower case ('%.*s'; "
			"subtype names are case-sensitive, offset %zu)",
			(int)n, c->s + start, (int)n, low, at);
}

/* subtype ":" - a lower-case letter, then lower-case letters and digits. */
static int urn_subtype(struct urn_cur *c, struct pz_urn *u)
{
	size_t start = c->pos;

	while (c->pos < c->len && urn_is_alnum(c->s[c->pos]))
		c->pos++;
	if (c->pos == start) {
		if (c->pos == c->len)
			return urn_fail(c, "missing subtype (mac, ow, org, "
					"os, ops, ...) at offset %zu", c->pos);
		if (c->s[c->pos] == ':')
			return urn_fail(c, "empty subtype at offset %zu",
					c->pos);
		return urn_bad(c, "a subtype (mac, ow, org, os, ops, ...)");
	}
	if (urn_is_digit(c->s[start]))
		return urn_fail(c, "subtype '%.*s' must begin with a letter "
				"(offset %zu)", (int)(c->pos - start),
				c->s + start, start);
	for (size_t i = start; i < c->pos; i++)
		if (urn_lower(c->s[i]) != c->s[i])
			return urn_subtype_case(c, start, i);
	if (c->pos == c->len || c->s[c->pos] != ':')
		return urn_bad(c, "':' after the subtype");
	c->sub = c->s + start;
	c->sublen = c->pos - start;
	u->subtype.off = start;
	u->subtype.len = c->sublen;
	u->kind = PZ_URN_OTHER;
	for (size_t i = 0; i < sizeof(urn_subtypes) / sizeof(urn_subtypes[0]);
	     i++)
		if (strlen(urn_subtypes[i].name) == c->sublen &&
		    !memcmp(urn_subtypes[i].name, c->sub, c->sublen))
			u->kind = urn_subtypes[i].kind;
	c->pos++;
	return PZ_OK;
}

/* Dallas/Maxim 1-Wire CRC-8 (x^8 + x^5 + x^4 + 1, reflected). */
static unsigned urn_ow_crc(const unsigned char *b, size_t n)
{
	unsigned crc = 0;

	for (size_t i = 0; i < n; i++) {
		crc ^= b[i];
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x8c : crc >> 1;
	}
	return crc;
}

/* mac and ow: exactly 16 hex digits; ow's last byte is its CRC. */
static int urn_hex(struct urn_cur *c, struct pz_urn *u)
{
	size_t start = c->pos, n;
	unsigned char b[URN_HEX_DIGITS / 2];
	unsigned crc;

	while (c->pos < c->len && urn_is_hex(c->s[c->pos]))
		c->pos++;
	n = c->pos - start;
	if (c->pos < c->len && c->s[c->pos] == ':')
		return urn_fail(c, "':' at offset %zu: %s takes no ':' "
				"identifiers; write the %s as 16 hex digits "
				"without separators", c->pos,
				u->kind == PZ_URN_MAC ? "mac" : "ow",
				u->kind == PZ_URN_MAC ? "EUI-64" : "ROM id");
	if (c->pos < c->len && c->s[c->pos] != '_')
		return urn_bad(c, "a hex digit");
	if (n == 0)
		return urn_fail(c, "missing hex string at offset %zu", start);
	if (n % 2)
		return urn_fail(c, "hex string must have an even number of "
				"digits (got %zu)", n);
	if (n == 12 && u->kind == PZ_URN_MAC)
		return urn_fail(c, "a 48-bit address must be written as its "
				"EUI-64: insert ffff (MAC-48) or fffe (EUI-48) "
				"after the third octet, 16 hex digits (got "
				"12)");
	if (n != URN_HEX_DIGITS)
		return urn_fail(c, "the %s must be exactly 16 hex digits "
				"(got %zu)", u->kind == PZ_URN_MAC ?
				"EUI-64" : "1-Wire ROM id", n);
	u->id.off = start;
	u->id.len = n;
	if (u->kind != PZ_URN_OW)
		return PZ_OK;
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (unsigned char)(urn_hexval(c->s[start + 2 * i]) << 4 |
				       urn_hexval(c->s[start + 2 * i + 1]));
	crc = urn_ow_crc(b, sizeof(b) - 1);
	if (crc != b[sizeof(b) - 1])
		return urn_fail(c, "CRC byte is %02x, but the 1-Wire CRC-8 "
				"of the first 7 bytes is %02x (family code "
				"first, CRC last)", b[sizeof(b) - 1], crc);
	return PZ_OK;
}

/* posnumber "-": an IANA PEN (an SMIv2 sub-identifier, RFC 2578 3.5). */
static int urn_pen(struct urn_cur *c, struct pz_urn *u)
{
	size_t start = c->pos;
	uint64_t v = 0;

	if (c->pos < c->len && c->s[c->pos] == '0')
		return urn_fail(c, "enterprise number at offset %zu must not "
				"be 0 or start with 0", start);
	while (c->pos < c->len && urn_is_digit(c->s[c->pos])) {
		v = v * 10 + (uint64_t)(c->s[c->pos] - '0');
		if (v > UINT32_MAX)
			return urn_fail(c, "enterprise number at offset %zu "
					"exceeds 4294967295", start);
		c->pos++;
	}
	if (c->pos == start) {
		if (c->pos == c->len || c->s[c->pos] == '-' ||
		    c->s[c->pos] == ':' || c->s[c->pos] == '_')
			return urn_fail(c, "missing enterprise number (PEN) "
					"at offset %zu", start);
		return urn_bad(c, "the enterprise number (PEN)");
	}
	if (c->pos == c->len || c->s[c->pos] != '-')
		return urn_bad(c, "'-' after the enterprise number");
	c->pos++;
	u->pen = (uint32_t)v;
	return PZ_OK;
}

/* org, os, ops: "<PEN>-" then the subtype's identifiers. */
static int urn_org(struct urn_cur *c, struct pz_urn *u)
{
	int rc = urn_pen(c, u);

	if (rc != PZ_OK)
		return rc;
	if (u->kind == PZ_URN_ORG)
		return urn_ident(c, "identifier", 1, &u->id);
	if (u->kind == PZ_URN_OS)
		return urn_ident(c, "serial number", 1, &u->id);
	rc = urn_ident(c, "product class", 0, &u->product);
	if (rc != PZ_OK)
		return rc;
	if (c->pos == c->len || c->s[c->pos] != '-')
		return urn_bad(c, "'-' and a serial number after the product "
			       "class");
	c->pos++;
	return urn_ident(c, "serial number", 1, &u->id);
}

/*
 * *( ":" identifier ) where the subtype allows it, then the component
 * part *( "_" identifier ), then the end.
 */
static int urn_tail(struct urn_cur *c, struct pz_urn *u)
{
	struct pz_urn_span sp;
	size_t ext = 0, comp = 0;
	int rc;

	while (c->pos < c->len && c->s[c->pos] == ':') {
		c->pos++;
		ext = ext ? ext : c->pos;
		rc = urn_ident(c, "identifier after ':'", 1, &sp);
		if (rc != PZ_OK)
			return rc;
	}
	if (ext) {
		u->ext.off = ext;
		u->ext.len = c->pos - ext;
	}
	u->body.off = URN_PREFIX_LEN;
	u->body.len = c->pos - URN_PREFIX_LEN;
	while (c->pos < c->len && c->s[c->pos] == '_') {
		c->pos++;
		comp = comp ? comp : c->pos;
		rc = urn_ident(c, "component after '_'", 1, &sp);
		if (rc != PZ_OK)
			return rc;
	}
	if (comp) {
		u->comp.off = comp;
		u->comp.len = c->pos - comp;
	}
	if (c->pos == c->len)
		return PZ_OK;
	if (comp && c->s[c->pos] == ':')
		return urn_fail(c, "':' at offset %zu: the component part "
				"('_...') must come last", c->pos);
	return urn_bad(c, "A-Z a-z 0-9 . - in an identifier, or ':' or "
		       "'_' between parts");
}

static int urn_check(struct urn_cur *c, struct pz_urn *u)
{
	int rc = urn_prefix(c);

	if (rc == PZ_OK)
		rc = urn_subtype(c, u);
	if (rc != PZ_OK)
		return rc;
	switch (u->kind) {
	case PZ_URN_MAC:
	case PZ_URN_OW:
		rc = urn_hex(c, u);
		break;
	case PZ_URN_ORG:
	case PZ_URN_OS:
	case PZ_URN_OPS:
		rc = urn_org(c, u);
		break;
	default:
		rc = urn_ident(c, "identifier", 1, &u->id);
		break;
	}
	if (rc == PZ_OK)
		rc = urn_tail(c, u);
	return rc;
}

int pz_urn_parse(const char *in, size_t len, char *norm, size_t normlen,
		 struct pz_urn *out, char *err, size_t errlen)
{
	struct urn_cur c = { .s = in, .len = len, .err = err,
			     .errlen = errlen };
	struct pz_urn u = { 0 };
	int rc = PZ_OK;

	if (!in || !out) {
		rc = PZ_EINVAL;
		if (err && errlen)
			snprintf(err, errlen, "no identifier given");
		goto out;
	}
	if (len > PZ_URN_MAX) {
		rc = PZ_ETOOBIG;
		if (err && errlen)
			snprintf(err, errlen, "device URN of %zu bytes exceeds "
				 "the limit of %d", len, PZ_URN_MAX);
		goto out;
	}
	if (norm && normlen <= len) {
		rc = PZ_ETOOBIG;
		if (err && errlen)
			snprintf(err, errlen, "output buffer of %zu bytes "
				 "cannot hold the %zu-byte URN and its NUL",
				 normlen, len);
		goto out;
	}
	rc = urn_check(&c, &u);
	if (rc != PZ_OK)
		goto out;
	u.len = len;
	/* Only the prefix keeps its case rule in a subtype plaza does not
	 * know; the defined subtypes are case-insensitive throughout. */
	for (size_t i = 0; i < len; i++) {
		char ch = i < URN_PREFIX_LEN || u.kind != PZ_URN_OTHER ?
			  urn_lower(in[i]) : in[i];

		if (ch != in[i])
			u.changed = true;
		if (norm)
			norm[i] = ch;
	}
	if (norm)
		norm[len] = '\0';
	*out = u;
out:
	return rc;
}

bool pz_urn_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	char na[PZ_URN_MAX + 1], nb[PZ_URN_MAX + 1];
	struct pz_urn ua, ub;

	if (pz_urn_parse(a, alen, na, sizeof(na), &ua, NULL, 0) != PZ_OK ||
	    pz_urn_parse(b, blen, nb, sizeof(nb), &ub, NULL, 0) != PZ_OK)
		return false;
	return ua.len == ub.len && !memcmp(na, nb, ua.len);
}
