/*
 * urn_fuzz.c - libFuzzer target for the RFC 9039 device URN parser
 * (pz_urn_parse, pz_urn_equal).
 *
 * The input is one URN, or two separated by the first '\n'.  Each is
 * parsed from a buffer of exactly its length (no NUL after it) and the
 * result is held against an independent model: POSIX regular expressions
 * of the RFC 9039 ABNF plus the rules pz_urn.h adds (16 hex digits and
 * the 1-Wire CRC, PEN range, lower-case subtype, the length ceiling).
 *
 * - The parser accepts exactly what the model accepts; a refusal is
 *   PZ_EINVAL or PZ_ETOOBIG (the latter exactly when over PZ_URN_MAX)
 *   and carries a reason.
 * - An accepted URN's normalised form has its length, differs only in
 *   the case the rules allow, matches the grammar of normalised forms,
 *   and re-parses to itself with the same description (idempotence).
 * - The kind, PEN and every span agree with a split of the normalised
 *   form on ':', '-' and '_' done here.
 * - pz_urn_equal of the two inputs is true exactly when both are valid
 *   with byte-identical normalised forms, and is symmetric.
 */
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plaza/pz_err.h"
#include "plaza/pz_urn.h"

#define FZ_CHECK(c)                                                       \
	do {                                                              \
		if (!(c)) {                                               \
			fprintf(stderr, "%s:%d: check failed: %s\n",      \
				__FILE__, __LINE__, #c);                  \
			abort();                                          \
		}                                                         \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_ID "[A-Za-z0-9.-]+"
#define FZ_LID "[a-z0-9.-]+"
#define FZ_PEN "[1-9][0-9]*"
#define FZ_ANY "^[Uu][Rr][Nn]:[Dd][Ee][Vv]:"

/* What the parser must accept (before the checks regexes cannot do). */
static const char *const fz_accept_re[] = {
	FZ_ANY "(mac|ow):[0-9A-Fa-f]{16}(_" FZ_ID ")*$",
	FZ_ANY "(org|os):" FZ_PEN "-" FZ_ID "(:" FZ_ID ")*(_" FZ_ID ")*$",
	FZ_ANY "ops:" FZ_PEN "-[A-Za-z0-9.]+-" FZ_ID "(:" FZ_ID ")*(_" FZ_ID
	")*$",
	FZ_ANY "[a-z][a-z0-9]*:" FZ_ID "(:" FZ_ID ")*(_" FZ_ID ")*$",
};

/* What a normalised form must look like, per kind (other last). */
static const char *const fz_norm_re[] = {
	"^urn:dev:(mac|ow):[0-9a-f]{16}(_" FZ_LID ")*$",
	"^urn:dev:(org|os):" FZ_PEN "-" FZ_LID "(:" FZ_LID ")*(_" FZ_LID ")*$",
	"^urn:dev:ops:" FZ_PEN "-[a-z0-9.]+-" FZ_LID "(:" FZ_LID ")*(_" FZ_LID
	")*$",
	"^urn:dev:[a-z][a-z0-9]*:" FZ_ID "(:" FZ_ID ")*(_" FZ_ID ")*$",
};

#define FZ_NRE (sizeof(fz_accept_re) / sizeof(fz_accept_re[0]))

static regex_t fz_accept[FZ_NRE], fz_norm[FZ_NRE];

static void fz_compile(void)
{
	static int done;

	if (done)
		return;
	for (size_t i = 0; i < FZ_NRE; i++) {
		FZ_CHECK(!regcomp(&fz_accept[i], fz_accept_re[i],
				  REG_EXTENDED | REG_NOSUB));
		FZ_CHECK(!regcomp(&fz_norm[i], fz_norm_re[i],
				  REG_EXTENDED | REG_NOSUB));
	}
	done = 1;
}

static char fz_lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
}

/* The 1-Wire CRC as Maxim's application note 27 states it: one input
 * bit at a time through the feedback taps. */
static unsigned fz_crc(const unsigned char *b, size_t n)
{
	unsigned crc = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned byte = b[i];

		for (int k = 0; k < 8; k++) {
			unsigned mix = (crc ^ byte) & 1;

			crc >>= 1;
			if (mix)
				crc ^= 0x8c;
			byte >>= 1;
		}
	}
	return crc;
}

static int fz_is_defined(const char *sub, size_t n)
{
	static const char *const names[] = { "mac", "ow", "org", "os",
					     "ops" };

	for (size_t i = 0; i < 5; i++)
		if (strlen(names[i]) == n && !memcmp(names[i], sub, n))
			return (int)i + 1;
	return 0;
}

/* The model: whether s (a C string of n bytes, n < 4096) is valid. */
static int fz_valid(const char *s, size_t n)
{
	const char *sub = s + 8, *p;
	size_t sublen;
	int kind;

	if (n > PZ_URN_MAX || strlen(s) != n)
		return 0;
	if (regexec(&fz_accept[3], s, 0, NULL, 0) &&
	    regexec(&fz_accept[0], s, 0, NULL, 0) &&
	    regexec(&fz_accept[1], s, 0, NULL, 0) &&
	    regexec(&fz_accept[2], s, 0, NULL, 0))
		return 0;
	sublen = strcspn(sub, ":");
	kind = fz_is_defined(sub, sublen);
	p = sub + sublen + 1;
	if (kind == 0)
		return !regexec(&fz_accept[3], s, 0, NULL, 0);
	if (kind <= 2) {
		unsigned char b[8];

		if (regexec(&fz_accept[0], s, 0, NULL, 0))
			return 0;
		for (int i = 0; i < 8; i++) {
			char hex[3] = { p[2 * i], p[2 * i + 1], 0 };

			b[i] = (unsigned char)strtoul(hex, NULL, 16);
		}
		return kind == 1 || fz_crc(b, 7) == b[7];
	}
	if (regexec(&fz_accept[kind == 5 ? 2 : 1], s, 0, NULL, 0))
		return 0;
	/* PEN within 32 bits: at most 10 digits, then compare as text. */
	sublen = strspn(p, "0123456789");
	return sublen < 10 ||
	       (sublen == 10 && memcmp(p, "4294967295", 10) <= 0);
}

static void fz_span_is(const char *norm, struct pz_urn_span sp,
		       size_t off, size_t len)
{
	if (sp.off != (len ? off : 0) || sp.len != len) {
		fprintf(stderr, "'%s': span %zu+%zu, want %zu+%zu\n", norm,
			sp.off, sp.len, off, len);
		abort();
	}
}

/* Re-derive the description from the normalised form by splitting. */
static void fz_describe(const char *norm, const struct pz_urn *u)
{
	size_t n = strlen(norm), sub = 8, sublen = strcspn(norm + 8, ":");
	size_t body_end = strcspn(norm, "_"), p = sub + sublen + 1;
	size_t id, idlen, ext;
	int kind = fz_is_defined(norm + sub, sublen);
	unsigned long long pen = 0;

	FZ_CHECK(u->kind == (kind ? (enum pz_urn_kind)kind : PZ_URN_OTHER));
	fz_span_is(norm, u->subtype, sub, sublen);
	fz_span_is(norm, u->body, sub, body_end - sub);
	fz_span_is(norm, u->comp, body_end + 1,
		   body_end < n ? n - body_end - 1 : 0);
	if (kind >= 3) {
		pen = strtoull(norm + p, NULL, 10);
		p += strspn(norm + p, "0123456789") + 1;
	}
	FZ_CHECK(u->pen == pen);
	if (kind == 5) {
		size_t plen = strcspn(norm + p, "-");

		fz_span_is(norm, u->product, p, plen);
		p += plen + 1;
	} else {
		fz_span_is(norm, u->product, 0, 0);
	}
	id = p;
	idlen = strcspn(norm + p, ":_");
	fz_span_is(norm, u->id, id, idlen);
	if (kind == 1 || kind == 2)
		FZ_CHECK(idlen == 16);
	ext = id + idlen;
	fz_span_is(norm, u->ext, ext + 1,
		   ext < body_end ? body_end - ext - 1 : 0);
}

/* Parse s (n bytes, exact buffer); returns whether it was accepted and
 * leaves the normalised form in norm. */
static int fz_one(const char *s, size_t n, char norm[PZ_URN_MAX + 1])
{
	char *exact = malloc(n ? n : 1), *cstr = malloc(n + 1);
	char err[256], again[PZ_URN_MAX + 1];
	struct pz_urn u, v;
	int rc, model;

	FZ_CHECK(exact && cstr);
	memcpy(exact, s, n);
	memcpy(cstr, s, n);
	cstr[n] = '\0';
	model = fz_valid(cstr, n);
	err[0] = '\0';
	rc = pz_urn_parse(exact, n, norm, PZ_URN_MAX + 1, &u, err,
			  sizeof(err));
	if ((rc == PZ_OK) != model) {
		fprintf(stderr, "'%s': parser %s (%s), model %s\n", cstr,
			rc ? "refuses" : "accepts", rc ? err : norm,
			model ? "accepts" : "refuses");
		abort();
	}
	if (rc != PZ_OK) {
		FZ_CHECK(rc == PZ_EINVAL || rc == PZ_ETOOBIG);
		FZ_CHECK((rc == PZ_ETOOBIG) == (n > PZ_URN_MAX));
		FZ_CHECK(err[0] != '\0');
		FZ_CHECK(!pz_urn_equal(exact, n, exact, n));
		goto out;
	}
	FZ_CHECK(u.len == n && strlen(norm) == n);
	for (size_t i = 0; i < n; i++)
		FZ_CHECK(norm[i] == fz_lower(cstr[i]) ||
			 (u.kind == PZ_URN_OTHER && i >= 8 &&
			  norm[i] == cstr[i]));
	FZ_CHECK(u.changed == (memcmp(norm, cstr, n) != 0));
	FZ_CHECK(!regexec(&fz_norm[u.kind == PZ_URN_OTHER ? 3 :
				   u.kind <= PZ_URN_OW ? 0 :
				   u.kind == PZ_URN_OPS ? 2 : 1],
			  norm, 0, NULL, 0));
	fz_describe(norm, &u);
	/* Idempotent: the normalised form is a fixed point. */
	FZ_CHECK(pz_urn_parse(norm, n, again, sizeof(again), &v, err,
			      sizeof(err)) == PZ_OK);
	FZ_CHECK(!strcmp(again, norm) && !v.changed);
	v.changed = u.changed;
	FZ_CHECK(!memcmp(&u, &v, sizeof(u)));
	/* Validation alone gives the same; a short buffer is refused. */
	FZ_CHECK(pz_urn_parse(exact, n, NULL, 0, &v, NULL, 0) == PZ_OK);
	FZ_CHECK(!memcmp(&u, &v, sizeof(u)));
	FZ_CHECK(pz_urn_parse(exact, n, again, n, &v, err, sizeof(err)) ==
		 PZ_ETOOBIG);
	FZ_CHECK(pz_urn_equal(exact, n, norm, n));
out:
	free(exact);
	free(cstr);
	return rc == PZ_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	const char *nl = memchr(s, '\n', size);
	char na[PZ_URN_MAX + 1], nb[PZ_URN_MAX + 1];
	size_t alen, blen;
	int a, b, eq;

	fz_compile();
	if (!nl) {
		fz_one(s, size, na);
		return 0;
	}
	alen = (size_t)(nl - s);
	blen = size - alen - 1;
	a = fz_one(s, alen, na);
	b = fz_one(nl + 1, blen, nb);
	eq = pz_urn_equal(s, alen, nl + 1, blen);
	FZ_CHECK(eq == pz_urn_equal(nl + 1, blen, s, alen));
	FZ_CHECK(eq == (a && b && !strcmp(na, nb)));
	return 0;
}
