/*
 * json.c - the JSON serialisation over jansson, with plaza's limits:
 * input size, nesting depth and value count are bounded before a document
 * reaches the core; duplicate keys and NUL characters are rejected.
 * codec.c dispatches here (pz_codec__json_parse, pz_codec__json_encode).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_int.h"
#include "plaza/pz_codec.h"
#include "plaza/pz_err.h"
#include "plaza/pz_mem.h"

int pz_codec__json_parse(const uint8_t *buf, size_t len,
			 const struct pz_codec_limits *lim, unsigned flags,
			 json_t **out, char *err, size_t errlen)
{
	size_t jflags = JSON_REJECT_DUPLICATES;
	json_error_t jerr;
	json_t *doc;
	int rc;

	*out = NULL;
	if (len > lim->max_bytes) {
		snprintf(err, errlen, "content of %zu bytes exceeds the limit "
			 "of %zu", len, lim->max_bytes);
		return PZ_ETOOBIG;
	}
	if (flags & PZ_CODEC_ANY_TOP)
		jflags |= JSON_DECODE_ANY;
	doc = json_loadb((const char *)buf, len, jflags, &jerr);
	if (!doc) {
		if (json_error_code(&jerr) == json_error_out_of_memory) {
			snprintf(err, errlen, "out of memory parsing content");
			return PZ_ENOMEM;
		}
		if (json_error_code(&jerr) == json_error_stack_overflow) {
			snprintf(err, errlen, "content nests deeper than %d "
				 "levels", lim->max_depth);
			return PZ_ETOOBIG;
		}
		snprintf(err, errlen, "malformed JSON at line %d column %d: %s",
			 jerr.line, jerr.column, jerr.text);
		return PZ_EINVAL;
	}
	if (!(flags & PZ_CODEC_ANY_TOP) && !json_is_object(doc)) {
		json_decref(doc);
		snprintf(err, errlen, "content must be a JSON object");
		return PZ_EINVAL;
	}
	rc = pz_codec_check(doc, lim, err, errlen);
	if (rc != PZ_OK) {
		json_decref(doc);
		return rc;
	}
	*out = doc;
	return PZ_OK;
}

/* --- encoding ------------------------------------------------------------ */

/*
 * A compact JSON writer over the document model.  jansson's own dumper
 * goes through a callback per token; responses are encoded on every
 * request, so this writes straight into the buffer.  Output is identical
 * to json_dumps(JSON_COMPACT) except for reals, written with the shortest
 * of %.15g/%.16g/%.17g that reads back to the same double.
 */
static int enc_str(struct pz_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = 0;
	int rc = pz_buf_add(b, "\"", 1);

	for (size_t i = 0; rc == PZ_OK && i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7];
		size_t elen = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		rc = pz_buf_add(b, s + start, i - start);
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			elen = 6;
			break;
		}
		if (rc == PZ_OK)
			rc = pz_buf_add(b, esc, elen);
		start = i + 1;
	}
	if (rc == PZ_OK)
		rc = pz_buf_add(b, s + start, n - start);
	return rc == PZ_OK ? pz_buf_add(b, "\"", 1) : rc;
}

static int enc_real(struct pz_buf *b, double d)
{
	char tmp[40];
	int n = 0;

	if (d != d || d - d != 0)
		return PZ_EINVAL;  /* NaN and infinities are not JSON */
	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	/* Keep it a real on the way back in: "2" would come back an int. */
	if (!strpbrk(tmp, ".eEn"))
		tmp[n++] = '.', tmp[n++] = '0', tmp[n] = '\0';
	return pz_buf_add(b, tmp, (size_t)n);
}

static int enc_int(struct pz_buf *b, json_int_t v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v :
				       (unsigned long long)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	return pz_buf_add(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

static int enc_value(struct pz_buf *b, const json_t *v, int depth,
		     unsigned flags);

static int enc_member(struct pz_buf *b, const char *k, const json_t *e,
		      bool first, int depth, unsigned flags)
{
	int rc = first ? PZ_OK : pz_buf_add(b, ",", 1);

	if (rc == PZ_OK)
		rc = enc_str(b, k, strlen(k));
	if (rc == PZ_OK)
		rc = pz_buf_add(b, ":", 1);
	return rc == PZ_OK ? enc_value(b, e, depth + 1, flags) : rc;
}

static int key_cmp(const void *pa, const void *pb)
{
	return strcmp(*(const char *const *)pa, *(const char *const *)pb);
}

/* With PZ_CODEC_DETERMINISTIC the members go in bytewise key order. */
static int enc_object(struct pz_buf *b, const json_t *v, int depth,
		      unsigned flags)
{
	size_t n = json_object_size(v), i = 0;
	int rc = pz_buf_add(b, "{", 1);
	const char **keys;
	const char *k;
	json_t *e;

	if (!(flags & PZ_CODEC_DETERMINISTIC) || n < 2) {
		json_object_foreach((json_t *)v, k, e) {
			if (rc == PZ_OK)
				rc = enc_member(b, k, e, i++ == 0, depth,
						flags);
		}
	} else if (rc == PZ_OK) {
		keys = pz_malloc(n * sizeof(*keys));
		if (!keys)
			return PZ_ENOMEM;
		json_object_foreach((json_t *)v, k, e)
			keys[i++] = k;
		qsort(keys, n, sizeof(*keys), key_cmp);
		for (i = 0; i < n && rc == PZ_OK; i++)
			rc = enc_member(b, keys[i], json_object_get(v, keys[i]),
					i == 0, depth, flags);
		pz_free(keys);
	}
	return rc == PZ_OK ? pz_buf_add(b, "}", 1) : rc;
}

static int enc_value(struct pz_buf *b, const json_t *v, int depth,
		     unsigned flags)
{
	json_t *e;
	size_t i;
	int rc = PZ_OK;

	if (depth > 1000)
		return PZ_EINVAL;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return enc_object(b, v, depth, flags);
	case JSON_ARRAY:
		rc = pz_buf_add(b, "[", 1);
		json_array_foreach((json_t *)v, i, e) {
			if (rc == PZ_OK && i)
				rc = pz_buf_add(b, ",", 1);
			if (rc == PZ_OK)
				rc = enc_value(b, e, depth + 1, flags);
		}
		return rc == PZ_OK ? pz_buf_add(b, "]", 1) : rc;
	case JSON_STRING:
		return enc_str(b, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		return enc_int(b, json_integer_value(v));
	case JSON_REAL:
		return enc_real(b, json_real_value(v));
	case JSON_TRUE:
		return pz_buf_add(b, "true", 4);
	case JSON_FALSE:
		return pz_buf_add(b, "false", 5);
	default:
		return pz_buf_add(b, "null", 4);
	}
}

int pz_codec__json_encode(const json_t *doc, unsigned flags,
			  struct pz_buf *out)
{
	size_t before = out->len;
	int rc;

	rc = enc_value(out, doc, 0, flags);
	if (rc != PZ_OK) {
		out->len = before;
		if (out->data)
			out->data[before] = '\0';
	}
	return rc;
}
