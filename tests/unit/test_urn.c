/*
 * test_urn.c - RFC 9039 device URNs (pz_urn_parse, pz_urn_equal): every
 * example of RFC 9039 section 5, valid and invalid forms of every subtype,
 * the normalisation rules of pz_urn.h and the collisions they produce,
 * limits, and the exact reason of each refusal.
 *
 * Every input is handed over in a heap buffer of exactly its length with
 * no NUL after it, so a read past len shows up under AddressSanitizer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "plaza/pz_err.h"
#include "plaza/pz_urn.h"

/* A span as text, for comparisons. */
#define SPAN(norm, sp) (int)(sp).len, (norm) + (sp).off

static char *exact(const char *s, size_t n)
{
	char *p = malloc(n ? n : 1);

	assert_non_null(p);
	memcpy(p, s, n);
	return p;
}

static int parse_n(const char *s, size_t n, char *norm, size_t normlen,
		   struct pz_urn *u, char *err, size_t errlen)
{
	char *p = exact(s, n);
	int rc = pz_urn_parse(p, n, norm, normlen, u, err, errlen);

	free(p);
	return rc;
}

static void span_is(const char *what, const char *in, const char *norm,
		    struct pz_urn_span sp, const char *want)
{
	size_t n = want ? strlen(want) : 0;

	if (sp.len != n || (n && memcmp(norm + sp.off, want, n)) ||
	    (!n && sp.off))
		fail_msg("'%s': %s is '%.*s' (off %zu), want '%s'", in, what,
			 SPAN(norm, sp), sp.off, want ? want : "");
}

/* in is accepted as kind with normalised form want; returns the parse. */
static struct pz_urn expect_ok(const char *in, const char *want,
			       enum pz_urn_kind kind)
{
	char norm[PZ_URN_MAX + 1], err[256] = "";
	struct pz_urn u;
	int rc;

	memset(&u, 0xa5, sizeof(u));
	rc = parse_n(in, strlen(in), norm, sizeof(norm), &u, err, sizeof(err));
	if (rc != PZ_OK)
		fail_msg("'%s' refused (%d): %s", in, rc, err);
	if (strcmp(norm, want))
		fail_msg("'%s' -> '%s', want '%s'", in, norm, want);
	assert_string_equal(err, "");
	assert_int_equal(u.kind, kind);
	assert_int_equal(u.len, strlen(in));
	assert_int_equal(u.changed, strcmp(in, want) != 0);
	return u;
}

/* Full description of an accepted URN: spans as text, NULL = absent. */
struct want_urn {
	const char *in, *norm;
	enum pz_urn_kind kind;
	uint32_t pen;
	const char *subtype, *body, *id, *product, *ext, *comp;
};

static void expect_urn(const struct want_urn *w)
{
	char norm[PZ_URN_MAX + 1];
	struct pz_urn u = expect_ok(w->in, w->norm, w->kind), again;

	assert_int_equal(u.pen, w->pen);
	strcpy(norm, w->norm);
	span_is("subtype", w->in, norm, u.subtype, w->subtype);
	span_is("body", w->in, norm, u.body, w->body);
	span_is("id", w->in, norm, u.id, w->id);
	span_is("product", w->in, norm, u.product, w->product);
	span_is("ext", w->in, norm, u.ext, w->ext);
	span_is("comp", w->in, norm, u.comp, w->comp);
	/* The normalised form is a fixed point with the same description. */
	again = expect_ok(w->norm, w->norm, w->kind);
	u.changed = false;
	assert_memory_equal(&u, &again, sizeof(u));
}

/* in (n bytes) is refused with rc and exactly this reason; nothing else
 * is written. */
static void expect_bad_n(const char *in, size_t n, int want_rc,
			 const char *reason)
{
	char norm[PZ_URN_MAX + 1], err[256];
	struct pz_urn u, before;
	int rc;

	memset(&u, 0x5a, sizeof(u));
	before = u;
	memset(norm, 'X', sizeof(norm));
	rc = parse_n(in, n, norm, sizeof(norm), &u, err, sizeof(err));
	if (rc != want_rc)
		fail_msg("'%.*s': rc %d, want %d (%s)", (int)n, in, rc,
			 want_rc, rc ? err : "accepted");
	if (strcmp(err, reason))
		fail_msg("'%.*s':\n  reason '%s'\n  want   '%s'", (int)n, in,
			 err, reason);
	assert_memory_equal(&u, &before, sizeof(u));
	for (size_t i = 0; i < sizeof(norm); i++)
		assert_int_equal(norm[i], 'X');
}

static void expect_bad(const char *in, const char *reason)
{
	expect_bad_n(in, strlen(in), PZ_EINVAL, reason);
}

/* RFC 9039 section 5, every example, and the SenML one after it. */
static void test_rfc_examples(void **state)
{
	static const struct want_urn ex[] = {
		/* MAC-48 0024be804ff1 as EUI-64 (ffff inserted) */
		{ "urn:dev:mac:0024beffff804ff1",
		  "urn:dev:mac:0024beffff804ff1",
		  PZ_URN_MAC, 0, "mac", "mac:0024beffff804ff1",
		  "0024beffff804ff1", NULL, NULL, NULL },
		/* EUI-48 0024be804ff1 as EUI-64 (fffe inserted) */
		{ "urn:dev:mac:0024befffe804ff1",
		  "urn:dev:mac:0024befffe804ff1",
		  PZ_URN_MAC, 0, "mac", "mac:0024befffe804ff1",
		  "0024befffe804ff1", NULL, NULL, NULL },
		{ "urn:dev:mac:acde48234567019f",
		  "urn:dev:mac:acde48234567019f",
		  PZ_URN_MAC, 0, "mac", "mac:acde48234567019f",
		  "acde48234567019f", NULL, NULL, NULL },
		/* a 1-Wire temperature sensor (also the SenML example) */
		{ "urn:dev:ow:10e2073a01080063", "urn:dev:ow:10e2073a01080063",
		  PZ_URN_OW, 0, "ow", "ow:10e2073a01080063",
		  "10e2073a01080063", NULL, NULL, NULL },
		{ "urn:dev:ow:264437f5000000ed_humidity",
		  "urn:dev:ow:264437f5000000ed_humidity", PZ_URN_OW, 0, "ow",
		  "ow:264437f5000000ed", "264437f5000000ed", NULL, NULL,
		  "humidity" },
		{ "urn:dev:ow:264437f5000000ed_temperature",
		  "urn:dev:ow:264437f5000000ed_temperature", PZ_URN_OW, 0,
		  "ow", "ow:264437f5000000ed", "264437f5000000ed", NULL, NULL,
		  "temperature" },
		{ "urn:dev:org:32473-foo", "urn:dev:org:32473-foo", PZ_URN_ORG,
		  32473, "org", "org:32473-foo", "foo", NULL, NULL, NULL },
		{ "urn:dev:os:32473-123456", "urn:dev:os:32473-123456",
		  PZ_URN_OS, 32473, "os", "os:32473-123456", "123456", NULL,
		  NULL, NULL },
		/* a serial number with dashes in it */
		{ "urn:dev:os:32473-12-34-56", "urn:dev:os:32473-12-34-56",
		  PZ_URN_OS, 32473, "os", "os:32473-12-34-56", "12-34-56",
		  NULL, NULL, NULL },
		/* case is not significant in a defined subtype: folded */
		{ "urn:dev:ops:32473-Refrigerator-5002",
		  "urn:dev:ops:32473-refrigerator-5002", PZ_URN_OPS, 32473,
		  "ops", "ops:32473-refrigerator-5002", "5002", "refrigerator",
		  NULL, NULL },
		{ "urn:dev:example:new-1-2-3_comp",
		  "urn:dev:example:new-1-2-3_comp", PZ_URN_OTHER, 0, "example",
		  "example:new-1-2-3", "new-1-2-3", NULL, NULL, "comp" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++)
		expect_urn(&ex[i]);
}

static void test_mac(void **state)
{
	static const struct want_urn ok[] = {
		/* ABNF strings are case-insensitive: upper-case hex */
		{ "urn:dev:mac:0024BEFFFF804FF1",
		  "urn:dev:mac:0024beffff804ff1",
		  PZ_URN_MAC, 0, "mac", "mac:0024beffff804ff1",
		  "0024beffff804ff1", NULL, NULL, NULL },
		{ "URN:Dev:mac:AcDe48234567019F_eth0_Port.1-a",
		  "urn:dev:mac:acde48234567019f_eth0_port.1-a", PZ_URN_MAC, 0,
		  "mac", "mac:acde48234567019f", "acde48234567019f", NULL,
		  NULL, "eth0_port.1-a" },
		{ "urn:dev:mac:0000000000000000",
		  "urn:dev:mac:0000000000000000",
		  PZ_URN_MAC, 0, "mac", "mac:0000000000000000",
		  "0000000000000000", NULL, NULL, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		expect_urn(&ok[i]);
	expect_bad("urn:dev:mac:0024be804ff1",
		   "urn:dev:mac: a 48-bit address must be written as its "
		   "EUI-64: insert ffff (MAC-48) or fffe (EUI-48) after the "
		   "third octet, 16 hex digits (got 12)");
	expect_bad("urn:dev:mac:0024beffff804ff",
		   "urn:dev:mac: hex string must have an even number of "
		   "digits (got 15)");
	expect_bad("urn:dev:mac:0",
		   "urn:dev:mac: hex string must have an even number of "
		   "digits (got 1)");
	expect_bad("urn:dev:mac:0024beffff80",
		   "urn:dev:mac: a 48-bit address must be written as its "
		   "EUI-64: insert ffff (MAC-48) or fffe (EUI-48) after the "
		   "third octet, 16 hex digits (got 12)");
	expect_bad("urn:dev:mac:0024beffff804ff100",
		   "urn:dev:mac: the EUI-64 must be exactly 16 hex digits "
		   "(got 18)");
	expect_bad("urn:dev:mac:0024beff",
		   "urn:dev:mac: the EUI-64 must be exactly 16 hex digits "
		   "(got 8)");
	expect_bad("urn:dev:mac:0024beffff804fg1",
		   "urn:dev:mac: 'g' at offset 26, expected a hex digit");
	expect_bad("urn:dev:mac:00-24-be-ff-ff-80-4f-f1",
		   "urn:dev:mac: '-' at offset 14, expected a hex digit");
	expect_bad("urn:dev:mac:00:24:be:ff:ff:80:4f:f1",
		   "urn:dev:mac: ':' at offset 14: mac takes no ':' "
		   "identifiers; write the EUI-64 as 16 hex digits without "
		   "separators");
	expect_bad("urn:dev:mac:0024beffff804ff1:x",
		   "urn:dev:mac: ':' at offset 28: mac takes no ':' "
		   "identifiers; write the EUI-64 as 16 hex digits without "
		   "separators");
	expect_bad("urn:dev:mac:", "urn:dev:mac: missing hex string at "
		   "offset 12");
	expect_bad("urn:dev:mac:_eth0", "urn:dev:mac: missing hex string at "
		   "offset 12");
	expect_bad("urn:dev:mac:0x0024beffff804ff1",
		   "urn:dev:mac: 'x' at offset 13, expected a hex digit");
	expect_bad("urn:dev:mac:0024beffff804ff1_",
		   "urn:dev:mac: empty component after '_' at offset 29");
	expect_bad("urn:dev:mac", "urn:dev: ends at offset 11, expected ':' "
		   "after the subtype");
}

static void test_ow(void **state)
{
	(void)state;
	expect_ok("urn:dev:ow:10E2073A01080063", "urn:dev:ow:10e2073a01080063",
		  PZ_URN_OW);
	expect_ok("urn:dev:ow:0000000000000000", "urn:dev:ow:0000000000000000",
		  PZ_URN_OW);
	/* family 28 (DS18B20); CRC-8 of 28 ff 64 1e 0f 00 00 is 34 */
	expect_ok("urn:dev:ow:28FF641E0F000034", "urn:dev:ow:28ff641e0f000034",
		  PZ_URN_OW);
	expect_bad("urn:dev:ow:10e2073a01080064",
		   "urn:dev:ow: CRC byte is 64, but the 1-Wire CRC-8 of the "
		   "first 7 bytes is 63 (family code first, CRC last)");
	/* the RFC's example in reversed byte order (CRC first) */
	expect_bad("urn:dev:ow:630008013a07e210",
		   "urn:dev:ow: CRC byte is 10, but the 1-Wire CRC-8 of the "
		   "first 7 bytes is 51 (family code first, CRC last)");
	expect_bad("urn:dev:ow:10e2073a010800",
		   "urn:dev:ow: the 1-Wire ROM id must be exactly 16 hex "
		   "digits (got 14)");
	expect_bad("urn:dev:ow:10e2073a0108006",
		   "urn:dev:ow: hex string must have an even number of digits "
		   "(got 15)");
	expect_bad("urn:dev:ow:10e2073a01080063:x",
		   "urn:dev:ow: ':' at offset 27: ow takes no ':' identifiers; "
		   "write the ROM id as 16 hex digits without separators");
	expect_bad("urn:dev:ow:", "urn:dev:ow: missing hex string at offset "
		   "11");
	expect_bad("urn:dev:ow:10e2073a01080063__a",
		   "urn:dev:ow: empty component after '_' at offset 28");
}

static void test_org(void **state)
{
	static const struct want_urn ok[] = {
		{ "urn:dev:org:1-a", "urn:dev:org:1-a", PZ_URN_ORG, 1, "org",
		  "org:1-a", "a", NULL, NULL, NULL },
		{ "urn:dev:org:4294967295-x", "urn:dev:org:4294967295-x",
		  PZ_URN_ORG, 4294967295u, "org", "org:4294967295-x", "x",
		  NULL, NULL, NULL },
		/* the identifier may hold dashes; extra ':' identifiers */
		{ "urn:dev:org:32473-Foo-Bar.1:A:b-2_C_d",
		  "urn:dev:org:32473-foo-bar.1:a:b-2_c_d", PZ_URN_ORG, 32473,
		  "org", "org:32473-foo-bar.1:a:b-2", "foo-bar.1", NULL,
		  "a:b-2", "c_d" },
		{ "urn:dev:org:32473--", "urn:dev:org:32473--", PZ_URN_ORG,
		  32473, "org", "org:32473--", "-", NULL, NULL, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		expect_urn(&ok[i]);
	expect_bad("urn:dev:org:32473", "urn:dev:org: ends at offset 17, "
		   "expected '-' after the enterprise number");
	expect_bad("urn:dev:org:32473-", "urn:dev:org: empty identifier at "
		   "offset 18");
	expect_bad("urn:dev:org:32473-foo:", "urn:dev:org: empty identifier "
		   "after ':' at offset 22");
	expect_bad("urn:dev:org:32473-foo::a", "urn:dev:org: empty "
		   "identifier after ':' at offset 22");
	expect_bad("urn:dev:org:32473-:a", "urn:dev:org: empty identifier at "
		   "offset 18");
	expect_bad("urn:dev:org:32473fail-foo", "urn:dev:org: 'f' at offset "
		   "17, expected '-' after the enterprise number");
	expect_bad("urn:dev:org:032473-foo", "urn:dev:org: enterprise number "
		   "at offset 12 must not be 0 or start with 0");
	expect_bad("urn:dev:org:0-foo", "urn:dev:org: enterprise number at "
		   "offset 12 must not be 0 or start with 0");
	expect_bad("urn:dev:org:4294967296-x", "urn:dev:org: enterprise "
		   "number at offset 12 exceeds 4294967295");
	expect_bad("urn:dev:org:99999999999999999999999-x", "urn:dev:org: "
		   "enterprise number at offset 12 exceeds 4294967295");
	expect_bad("urn:dev:org:-foo", "urn:dev:org: missing enterprise "
		   "number (PEN) at offset 12");
	expect_bad("urn:dev:org:", "urn:dev:org: missing enterprise number "
		   "(PEN) at offset 12");
	expect_bad("urn:dev:org:+1-foo", "urn:dev:org: '+' at offset 12, "
		   "expected the enterprise number (PEN)");
	expect_bad("urn:dev:org:32473-foo bar", "urn:dev:org: byte 0x20 at "
		   "offset 21, expected A-Z a-z 0-9 . - in an identifier, or "
		   "':' or '_' between parts");
	expect_bad("urn:dev:org:32473-/x", "urn:dev:org: '/' at offset 18, "
		   "expected the identifier (A-Z a-z 0-9 . -)");
}

static void test_os(void **state)
{
	static const struct want_urn ok[] = {
		{ "urn:dev:os:32473-SN.42:rev-B_Fan",
		  "urn:dev:os:32473-sn.42:rev-b_fan", PZ_URN_OS, 32473, "os",
		  "os:32473-sn.42:rev-b", "sn.42", NULL, "rev-b", "fan" },
		/* leading zeros of a serial are the organisation's business */
		{ "urn:dev:os:32473-000123", "urn:dev:os:32473-000123",
		  PZ_URN_OS, 32473, "os", "os:32473-000123", "000123", NULL,
		  NULL, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		expect_urn(&ok[i]);
	expect_bad("urn:dev:os:32473-", "urn:dev:os: empty serial number at "
		   "offset 17");
	expect_bad("urn:dev:os:32473_x", "urn:dev:os: '_' at offset 16, "
		   "expected '-' after the enterprise number");
	expect_bad("urn:dev:os:32473-_x", "urn:dev:os: empty serial number "
		   "at offset 17");
	expect_bad("urn:dev:os:00-1", "urn:dev:os: enterprise number at "
		   "offset 11 must not be 0 or start with 0");
	expect_bad("urn:dev:os:32473-1%2D2", "urn:dev:os: '%' at offset 18: "
		   "percent-encoding is not part of the DEV URN syntax");
}

static void test_ops(void **state)
{
	static const struct want_urn ok[] = {
		/* the product has no dash; the serial takes the rest */
		{ "urn:dev:ops:32473-a-b-c", "urn:dev:ops:32473-a-b-c",
		  PZ_URN_OPS, 32473, "ops", "ops:32473-a-b-c", "b-c", "a",
		  NULL, NULL },
		{ "urn:dev:ops:32473-v1.2-7:x:y_z",
		  "urn:dev:ops:32473-v1.2-7:x:y_z", PZ_URN_OPS, 32473, "ops",
		  "ops:32473-v1.2-7:x:y", "7", "v1.2", "x:y", "z" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		expect_urn(&ok[i]);
	expect_bad("urn:dev:ops:32473-Refrigerator", "urn:dev:ops: ends at "
		   "offset 30, expected '-' and a serial number after the "
		   "product class");
	expect_bad("urn:dev:ops:32473-Refrigerator:5002", "urn:dev:ops: ':' "
		   "at offset 30, expected '-' and a serial number after the "
		   "product class");
	expect_bad("urn:dev:ops:32473--5002", "urn:dev:ops: empty product "
		   "class at offset 18");
	expect_bad("urn:dev:ops:32473-Refrigerator-", "urn:dev:ops: empty "
		   "serial number at offset 31");
	expect_bad("urn:dev:ops:32473-", "urn:dev:ops: empty product class "
		   "at offset 18");
	expect_bad("urn:dev:ops:32473-a/b-1", "urn:dev:ops: '/' at offset "
		   "19, expected '-' and a serial number after the product "
		   "class");
	expect_bad("urn:dev:ops:32473-/-1", "urn:dev:ops: '/' at offset 18, "
		   "expected the product class (A-Z a-z 0-9 .)");
	/* common in the wild (WebThings), but no PEN: not RFC 9039 */
	expect_bad("urn:dev:ops:my-lamp-1234", "urn:dev:ops: 'm' at offset "
		   "12, expected the enterprise number (PEN)");
}

static void test_other(void **state)
{
	static const struct want_urn ok[] = {
		/* only the prefix is folded: case may matter in a subtype
		 * RFC 9039 does not define */
		{ "URN:DEV:example:New-1_Comp", "urn:dev:example:New-1_Comp",
		  PZ_URN_OTHER, 0, "example", "example:New-1", "New-1", NULL,
		  NULL, "Comp" },
		{ "urn:dev:x1:aGVsbG8.:Zm9v_A_b",
		  "urn:dev:x1:aGVsbG8.:Zm9v_A_b",
		  PZ_URN_OTHER, 0, "x1", "x1:aGVsbG8.:Zm9v", "aGVsbG8.", NULL,
		  "Zm9v", "A_b" },
		/* close to a defined name, but another subtype */
		{ "urn:dev:macs:zz", "urn:dev:macs:zz", PZ_URN_OTHER, 0, "macs",
		  "macs:zz", "zz", NULL, NULL, NULL },
		{ "urn:dev:o:-", "urn:dev:o:-", PZ_URN_OTHER, 0, "o", "o:-",
		  "-", NULL, NULL, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		expect_urn(&ok[i]);
	expect_bad("urn:dev:MAC:0024beffff804ff1", "urn:dev: subtype 'MAC' "
		   "must be lower case ('mac'; subtype names are "
		   "case-sensitive, offset 8)");
	expect_bad("urn:dev:Example:x", "urn:dev: subtype 'Example' must be "
		   "lower case ('example'; subtype names are case-sensitive, "
		   "offset 8)");
	expect_bad("urn:dev:exAmple:x", "urn:dev: subtype 'exAmple' must be "
		   "lower case ('example'; subtype names are case-sensitive, "
		   "offset 10)");
	expect_bad("urn:dev:1x:a", "urn:dev: subtype '1x' must begin with a "
		   "letter (offset 8)");
	expect_bad("urn:dev::a", "urn:dev: empty subtype at offset 8");
	expect_bad("urn:dev:", "urn:dev: missing subtype (mac, ow, org, os, "
		   "ops, ...) at offset 8");
	expect_bad("urn:dev:ex-1:a", "urn:dev: '-' at offset 10, expected "
		   "':' after the subtype");
	expect_bad("urn:dev:example", "urn:dev: ends at offset 15, expected "
		   "':' after the subtype");
	expect_bad("urn:dev:example:", "urn:dev:example: empty identifier at "
		   "offset 16");
	expect_bad("urn:dev:example:_c", "urn:dev:example: empty identifier "
		   "at offset 16");
	expect_bad("urn:dev:example:a_b:c", "urn:dev:example: ':' at offset "
		   "19: the component part ('_...') must come last");
	expect_bad("urn:dev:_x:a", "urn:dev: '_' at offset 8, expected a "
		   "subtype (mac, ow, org, os, ops, ...)");
	/* the defined names keep their own rules */
	expect_bad("urn:dev:mac:zz", "urn:dev:mac: 'z' at offset 12, "
		   "expected a hex digit");
	expect_bad("urn:dev:org:foo", "urn:dev:org: 'f' at offset 12, "
		   "expected the enterprise number (PEN)");
}

static void test_prefix(void **state)
{
	(void)state;
	expect_ok("URN:DEV:org:32473-foo", "urn:dev:org:32473-foo",
		  PZ_URN_ORG);
	expect_ok("uRn:dEv:os:32473-1", "urn:dev:os:32473-1", PZ_URN_OS);
	expect_bad("", "not a URN: expected \"urn:dev:\" at offset 0");
	expect_bad("urn", "not a URN: expected \"urn:dev:\" at offset 0");
	expect_bad("urx:dev:mac:0024beffff804ff1", "not a URN: expected "
		   "\"urn:dev:\" at offset 0");
	expect_bad(" urn:dev:mac:0024beffff804ff1", "not a URN: expected "
		   "\"urn:dev:\" at offset 0");
	expect_bad("dev:mac:0024beffff804ff1", "not a URN: expected "
		   "\"urn:dev:\" at offset 0");
	expect_bad("urn:", "not a device URN: the namespace after \"urn:\" "
		   "(offset 4) must be \"dev\" (RFC 9039)");
	expect_bad("urn:dev", "not a device URN: the namespace after "
		   "\"urn:\" (offset 4) must be \"dev\" (RFC 9039)");
	expect_bad("urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
		   "not a device URN: the namespace after \"urn:\" (offset 4) "
		   "must be \"dev\" (RFC 9039)");
	expect_bad("urn:devs:mac:0024beffff804ff1", "not a device URN: the "
		   "namespace after \"urn:\" (offset 4) must be \"dev\" "
		   "(RFC 9039)");
	expect_bad("urn:dev:mac:0024beffff804ff1 ", "urn:dev:mac: byte 0x20 "
		   "at offset 28, expected a hex digit");
}

static void test_bad_bytes(void **state)
{
	(void)state;
	expect_bad("urn:dev:os:32473-1?+r", "urn:dev:os: '?' at offset 18: "
		   "DEV URNs have no r-, q- or f-components");
	expect_bad("urn:dev:os:32473-1?=q", "urn:dev:os: '?' at offset 18: "
		   "DEV URNs have no r-, q- or f-components");
	expect_bad("urn:dev:os:32473-1#f", "urn:dev:os: '#' at offset 18: "
		   "DEV URNs have no r-, q- or f-components");
	expect_bad("urn:dev:mac:0024beffff804ff1%5Fx", "urn:dev:mac: '%' at "
		   "offset 28: percent-encoding is not part of the DEV URN "
		   "syntax");
	expect_bad("urn:dev:os:%33", "urn:dev:os: '%' at offset 11: "
		   "percent-encoding is not part of the DEV URN syntax");
	expect_bad("urn:dev:os:32473-a/b", "urn:dev:os: '/' at offset 18, "
		   "expected A-Z a-z 0-9 . - in an identifier, or ':' or '_' "
		   "between parts");
	expect_bad("urn:dev:os:32473-caf\xc3\xa9", "urn:dev:os: byte 0xc3 "
		   "at offset 20, expected A-Z a-z 0-9 . - in an identifier, "
		   "or ':' or '_' between parts");
	expect_bad("urn:dev:os:32473-a\tb", "urn:dev:os: byte 0x09 at offset "
		   "18, expected A-Z a-z 0-9 . - in an identifier, or ':' or "
		   "'_' between parts");
	expect_bad("urn:dev:os:32473-1_a:b", "urn:dev:os: ':' at offset 20: "
		   "the component part ('_...') must come last");
	expect_bad("urn:dev:os:32473-1_a__b", "urn:dev:os: empty component "
		   "after '_' at offset 21");
	expect_bad("urn:dev:os:32473-1:_a", "urn:dev:os: empty identifier "
		   "after ':' at offset 19");
	/* NUL bytes inside len: refused where they stand */
	expect_bad_n("urn:dev:os:32473-1\0", 19, PZ_EINVAL, "urn:dev:os: byte "
		     "0x00 at offset 18, expected A-Z a-z 0-9 . - in an "
		     "identifier, or ':' or '_' between parts");
	expect_bad_n("urn:dev:mac:0024\0effff804ff1", 28, PZ_EINVAL,
		     "urn:dev:mac: byte 0x00 at offset 16, expected a hex "
		     "digit");
	expect_bad_n("urn\0dev:mac:0024beffff804ff1", 28, PZ_EINVAL,
		     "not a URN: expected \"urn:dev:\" at offset 0");
	expect_bad_n("urn:dev:\0", 9, PZ_EINVAL, "urn:dev: byte 0x00 at "
		     "offset 8, expected a subtype (mac, ow, org, os, ops, "
		     "...)");
}

/* PZ_URN_MAX exactly and one over; the output buffer's size. */
static void test_limits(void **state)
{
	char in[PZ_URN_MAX + 2], norm[PZ_URN_MAX + 1], err[128];
	const char *head = "urn:dev:os:32473-";
	struct pz_urn u;

	(void)state;
	memset(in, 'A', sizeof(in));
	memcpy(in, head, strlen(head));
	assert_int_equal(parse_n(in, PZ_URN_MAX, norm, sizeof(norm), &u,
				 err, sizeof(err)), PZ_OK);
	assert_int_equal(u.len, PZ_URN_MAX);
	assert_int_equal(strlen(norm), PZ_URN_MAX);
	assert_int_equal(norm[PZ_URN_MAX - 1], 'a');
	assert_int_equal(u.id.len, PZ_URN_MAX - strlen(head));
	expect_bad_n(in, PZ_URN_MAX + 1, PZ_ETOOBIG, "device URN of 256 "
		     "bytes exceeds the limit of 255");
	/* The ceiling is checked before anything else. */
	memset(in, '%', sizeof(in));
	expect_bad_n(in, PZ_URN_MAX + 1, PZ_ETOOBIG, "device URN of 256 "
		     "bytes exceeds the limit of 255");
	assert_int_equal(pz_urn_parse(in, SIZE_MAX, NULL, 0, &u, err,
				      sizeof(err)), PZ_ETOOBIG);

	/* norm needs len + 1 bytes; NULL only validates. */
	memset(norm, 'X', sizeof(norm));
	assert_int_equal(parse_n("urn:dev:org:1-a", 15, norm, 15, &u, err,
				 sizeof(err)), PZ_ETOOBIG);
	assert_string_equal(err, "output buffer of 15 bytes cannot hold the "
			    "15-byte URN and its NUL");
	assert_int_equal(norm[0], 'X');
	assert_int_equal(parse_n("urn:dev:org:1-A", 15, norm, 16, &u, err,
				 sizeof(err)), PZ_OK);
	assert_string_equal(norm, "urn:dev:org:1-a");
	memset(&u, 0, sizeof(u));
	assert_int_equal(parse_n("urn:dev:ORG:1-a", 15, NULL, 0, &u, err,
				 sizeof(err)), PZ_EINVAL);
	assert_int_equal(parse_n("urn:dev:org:1-A", 15, NULL, 0, &u, err,
				 sizeof(err)), PZ_OK);
	assert_int_equal(u.kind, PZ_URN_ORG);
	assert_true(u.changed);
}

/* A prefix of a valid URN is read as exactly that: nothing past len. */
static void test_no_overread(void **state)
{
	const char *full = "urn:dev:ops:32473-Refrigerator-5002_door";
	char norm[PZ_URN_MAX + 1];
	struct pz_urn u;

	(void)state;
	for (size_t n = 0; n <= strlen(full); n++) {
		int rc = parse_n(full, n, norm, sizeof(norm), &u, NULL, 0);

		/* valid from "...-5" on, except when it ends in '_' */
		if (n >= 32 && n != 36)
			assert_int_equal(rc, PZ_OK);
		else
			assert_int_equal(rc, PZ_EINVAL);
		if (rc == PZ_OK)
			assert_int_equal(strlen(norm), n);
	}
}

static void test_arguments(void **state)
{
	char err[64] = "", norm[64];
	struct pz_urn u;

	(void)state;
	assert_int_equal(pz_urn_parse(NULL, 0, norm, sizeof(norm), &u, err,
				      sizeof(err)), PZ_EINVAL);
	assert_string_equal(err, "no identifier given");
	assert_int_equal(pz_urn_parse("urn:dev:org:1-a", 15, norm,
				      sizeof(norm), NULL, err, sizeof(err)),
			 PZ_EINVAL);
	/* err may be NULL, or too short for the whole reason. */
	assert_int_equal(pz_urn_parse("urn:dev:org:1-", 14, norm,
				      sizeof(norm), &u, NULL, 0), PZ_EINVAL);
	assert_int_equal(pz_urn_parse("urn:dev:org:1-", 14, norm,
				      sizeof(norm), &u, err, 1), PZ_EINVAL);
	assert_string_equal(err, "");
	assert_int_equal(pz_urn_parse("urn:dev:org:1-", 14, norm,
				      sizeof(norm), &u, err, 12), PZ_EINVAL);
	assert_string_equal(err, "urn:dev:org");
	assert_int_equal(pz_urn_parse("urn:dev:org:1-", 14, norm,
				      sizeof(norm), &u, err, 20), PZ_EINVAL);
	assert_string_equal(err, "urn:dev:org: empty ");
	assert_int_equal(pz_urn_parse("x", 1, norm, sizeof(norm), &u, err,
				      10), PZ_EINVAL);
	assert_string_equal(err, "not a URN");
	/* err is left alone on success. */
	strcpy(err, "untouched");
	assert_int_equal(pz_urn_parse("urn:dev:org:1-a", 15, norm,
				      sizeof(norm), &u, err, sizeof(err)),
			 PZ_OK);
	assert_string_equal(err, "untouched");
}

/* Identifiers that name one device collide; others do not. */
static void test_collisions(void **state)
{
	static const char *const same[][2] = {
		{ "urn:dev:mac:0024beffff804ff1",
		  "URN:DEV:mac:0024BEFFFF804FF1" },
		{ "urn:dev:ow:10e2073a01080063",
		  "Urn:Dev:ow:10E2073A01080063" },
		{ "urn:dev:org:32473-foo", "urn:dev:org:32473-FOO" },
		{ "urn:dev:os:32473-ab12", "urn:DEV:os:32473-AB12" },
		{ "urn:dev:ops:32473-Refrigerator-5002",
		  "urn:dev:ops:32473-refrigerator-5002" },
		{ "urn:dev:ops:32473-Refrigerator-5002_Door",
		  "urn:dev:ops:32473-REFRIGERATOR-5002_door" },
		{ "urn:dev:example:AbC", "URN:dev:example:AbC" },
	};
	static const char *const differ[][2] = {
		/* MAC-48 and EUI-48 of the same 48 bits: not one device */
		{ "urn:dev:mac:0024beffff804ff1",
		  "urn:dev:mac:0024befffe804ff1" },
		{ "urn:dev:example:AbC", "urn:dev:example:abc" },
		{ "urn:dev:ow:264437f5000000ed_humidity",
		  "urn:dev:ow:264437f5000000ed_temperature" },
		{ "urn:dev:ow:264437f5000000ed",
		  "urn:dev:ow:264437f5000000ed_humidity" },
		{ "urn:dev:org:32473-foo", "urn:dev:org:32474-foo" },
		{ "urn:dev:org:32473-foo", "urn:dev:os:32473-foo" },
		{ "urn:dev:os:32473-1-2", "urn:dev:os:32473-1:2" },
		{ "urn:dev:ops:32473-a-b-c", "urn:dev:ops:32473-a-b:c" },
		/* invalid never equals anything, not even itself */
		{ "urn:dev:mac:0024be804ff1", "urn:dev:mac:0024be804ff1" },
		{ "urn:dev:MAC:0024beffff804ff1",
		  "urn:dev:MAC:0024beffff804ff1" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		const char *a = same[i][0], *b = same[i][1];

		if (!pz_urn_equal(a, strlen(a), b, strlen(b)) ||
		    !pz_urn_equal(b, strlen(b), a, strlen(a)))
			fail_msg("'%s' and '%s' should collide", a, b);
		assert_true(pz_urn_equal(a, strlen(a), a, strlen(a)));
	}
	for (size_t i = 0; i < sizeof(differ) / sizeof(differ[0]); i++) {
		const char *a = differ[i][0], *b = differ[i][1];

		if (pz_urn_equal(a, strlen(a), b, strlen(b)) ||
		    pz_urn_equal(b, strlen(b), a, strlen(a)))
			fail_msg("'%s' and '%s' should not collide", a, b);
	}
	/* Equality is on the exact len bytes, not up to a NUL. */
	assert_false(pz_urn_equal("urn:dev:org:1-ab", 16, "urn:dev:org:1-ab",
				  15));
	assert_true(pz_urn_equal("urn:dev:org:1-ab", 15, "urn:dev:org:1-a",
				 15));
	assert_false(pz_urn_equal(NULL, 0, "urn:dev:org:1-a", 15));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_examples),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_ow),
		cmocka_unit_test(test_org),
		cmocka_unit_test(test_os),
		cmocka_unit_test(test_ops),
		cmocka_unit_test(test_other),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_bad_bytes),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_no_overread),
		cmocka_unit_test(test_arguments),
		cmocka_unit_test(test_collisions),
	};

	/* PZ_TEST=pattern runs only the matching tests (docs/testing.md). */
	if (getenv("PZ_TEST"))
		cmocka_set_test_filter(getenv("PZ_TEST"));
	return cmocka_run_group_tests_name("urn", tests, NULL, NULL);
}
