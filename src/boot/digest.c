/*
 * digest.c - HTTP Digest headers of the Ub interface (RFC 2617 with RFC
 * 3310 AKAv1-MD5): strict parser, writer and response computation.  See
 * pz_digest.h for the grammar and the limits.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "plaza/pz_digest.h"
#include "plaza/pz_err.h"

#define DF(x) offsetof(struct pz_digest, x), sizeof(((struct pz_digest *)0)->x)

/* One known parameter: its name, bit, where it goes, and whether the
 * writer puts it as a token (unquoted). */
struct digest_field {
	const char *name;
	unsigned bit;
	size_t off;
	size_t size;      /* buffer, with the NUL */
	bool token;
};

/* The writer's order. */
static const struct digest_field digest_fields[] = {
	{ "username", PZ_DF_USERNAME, DF(username), false },
	{ "realm", PZ_DF_REALM, DF(realm), false },
	{ "nonce", PZ_DF_NONCE, DF(nonce), false },
	{ "uri", PZ_DF_URI, DF(uri), false },
	{ "response", PZ_DF_RESPONSE, DF(response), false },
	{ "rspauth", PZ_DF_RSPAUTH, DF(rspauth), false },
	{ "qop", PZ_DF_QOP, DF(qop), true },
	{ "nc", PZ_DF_NC, DF(nc), true },
	{ "cnonce", PZ_DF_CNONCE, DF(cnonce), false },
	{ "opaque", PZ_DF_OPAQUE, DF(opaque), false },
	{ "algorithm", PZ_DF_ALGORITHM, DF(algorithm), true },
	{ "auts", PZ_DF_AUTS, DF(auts), false },
	{ "stale", PZ_DF_STALE, DF(stale), true },
};

#define DIGEST_NFIELDS (sizeof(digest_fields) / sizeof(digest_fields[0]))

/* RFC 7230 tchar. */
static bool digest_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static size_t digest_ows(const char *s, size_t len, size_t i)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

/* A parse step's failure: the code and the static reason. */
struct digest_err {
	int rc;
	const char *why;
};

/*
 * Read one value (token or quoted-string) at s[*i], unescaped into buf
 * (size octets with the NUL; buf NULL: skip an unknown parameter, same
 * checks with the PZ_DIGEST_MAX bound).
 */
static bool digest_value(const char *s, size_t len, size_t *i, char *buf,
			 size_t size, struct digest_err *e)
{
	size_t n = 0, j = *i;
	bool quoted = j < len && s[j] == '"';
	char c;

	if (quoted)
		j++;
	for (;; j++) {
		if (j >= len) {
			if (quoted) {
				e->why = "Digest: unterminated quoted-string";
				return false;
			}
			break;
		}
		c = s[j];
		if (quoted && c == '"') {
			j++;
			break;
		}
		if (!quoted && !digest_tchar((unsigned char)c))
			break;
		if (quoted && c == '\\') {
			if (++j >= len) {
				e->why = "Digest: unterminated quoted-string";
				return false;
			}
			c = s[j];
		}
		if ((unsigned char)c < 0x20 || (unsigned char)c > 0x7e) {
			if (c != '\t') {
				e->why = "Digest: control or non-ASCII octet "
					 "in a value";
				return false;
			}
		}
		if (buf && n + 1 >= size) {
			e->rc = PZ_ETOOBIG;
			e->why = "Digest: a parameter value is too long";
			return false;
		}
		if (buf)
			buf[n] = c;
		n++;
	}
	if (!quoted && n == 0) {
		e->why = "Digest: a parameter has no value";
		return false;
	}
	if (buf)
		buf[n] = '\0';
	*i = j;
	return true;
}

static const struct digest_field *digest_find(const char *name, size_t n)
{
	for (size_t k = 0; k < DIGEST_NFIELDS; k++)
		if (strlen(digest_fields[k].name) == n &&
		    !strncasecmp(digest_fields[k].name, name, n))
			return &digest_fields[k];
	return NULL;
}

/* One "name = value" at s[*i] into out. */
static bool digest_param(const char *s, size_t len, size_t *i,
			 struct pz_digest *out, struct digest_err *e)
{
	size_t j = *i, start = j;
	const struct digest_field *f;

	while (j < len && digest_tchar((unsigned char)s[j]))
		j++;
	if (j == start) {
		e->why = "Digest: expected a parameter name";
		return false;
	}
	f = digest_find(s + start, j - start);
	j = digest_ows(s, len, j);
	if (j >= len || s[j] != '=') {
		e->why = "Digest: expected '=' after a parameter name";
		return false;
	}
	j = digest_ows(s, len, j + 1);
	if (f && (out->have & f->bit)) {
		e->why = "Digest: a parameter is given twice";
		return false;
	}
	if (!digest_value(s, len, &j, f ? (char *)out + f->off : NULL,
			  f ? f->size : 0, e))
		return false;
	if (f)
		out->have |= f->bit;
	*i = j;
	return true;
}

int pz_digest_parse(enum pz_digest_kind kind, const char *s, size_t len,
		    struct pz_digest *out, const char **why)
{
	struct digest_err e = { PZ_EINVAL, NULL };
	size_t i = 0;
	int nparams = 0;

	if (!out)
		return PZ_EINVAL;
	memset(out, 0, sizeof(*out));
	if (!s || kind < PZ_DIGEST_CHALLENGE || kind > PZ_DIGEST_INFO) {
		e.why = "Digest: no header";
		goto fail;
	}
	if (len > PZ_DIGEST_MAX) {
		e.rc = PZ_ETOOBIG;
		e.why = "Digest: header too long";
		goto fail;
	}
	i = digest_ows(s, len, 0);
	if (kind != PZ_DIGEST_INFO) {
		if (len - i < 7 || strncasecmp(s + i, "Digest", 6) ||
		    (s[i + 6] != ' ' && s[i + 6] != '\t')) {
			e.why = "Digest: the scheme is not Digest";
			goto fail;
		}
		i = digest_ows(s, len, i + 6);
	}
	for (;;) {
		if (++nparams > PZ_DIGEST_MAX_PARAMS) {
			e.rc = PZ_ETOOBIG;
			e.why = "Digest: too many parameters";
			goto fail;
		}
		if (!digest_param(s, len, &i, out, &e))
			goto fail;
		i = digest_ows(s, len, i);
		if (i == len)
			break;
		if (s[i] != ',') {
			e.why = "Digest: expected ',' between parameters";
			goto fail;
		}
		i = digest_ows(s, len, i + 1);
	}
	return PZ_OK;
fail:
	memset(out, 0, sizeof(*out));
	if (why)
		*why = e.why;
	return e.rc;
}

int pz_digest_write(enum pz_digest_kind kind, const struct pz_digest *d,
		    char *out, size_t out_size, size_t *len)
{
	size_t n = 0;
	bool first = true;

	if (!d || !out || !(d->have & ((1u << DIGEST_NFIELDS) - 1)))
		return PZ_EINVAL;
	if (kind != PZ_DIGEST_INFO) {
		if (out_size < 8)
			goto toobig;
		memcpy(out, "Digest ", 7);
		n = 7;
	}
	for (size_t k = 0; k < DIGEST_NFIELDS; k++) {
		const struct digest_field *f = &digest_fields[k];
		const char *v = (const char *)d + f->off;
		size_t vl = strnlen(v, f->size);
		/* RFC 2617: a challenge's qop-options are quoted. */
		bool token = f->token && !(f->bit == PZ_DF_QOP &&
					   kind == PZ_DIGEST_CHALLENGE);

		if (!(d->have & f->bit))
			continue;
		if (vl == f->size)
			return PZ_EINVAL;
		if (token) {
			for (size_t j = 0; j < vl; j++)
				if (!digest_tchar((unsigned char)v[j]))
					return PZ_EINVAL;
			if (!vl)
				return PZ_EINVAL;
		}
		/* ", " name "=" quote value-escaped quote */
		if (n + (first ? 0 : 2) + strlen(f->name) + 3 + 2 * vl >=
		    out_size)
			goto toobig;
		if (!first) {
			out[n++] = ',';
			out[n++] = ' ';
		}
		first = false;
		n += (size_t)sprintf(out + n, "%s=", f->name);
		if (!token)
			out[n++] = '"';
		for (size_t j = 0; j < vl; j++) {
			if (!token && (v[j] == '"' || v[j] == '\\'))
				out[n++] = '\\';
			out[n++] = v[j];
		}
		if (!token)
			out[n++] = '"';
	}
	out[n] = '\0';
	if (len)
		*len = n;
	return PZ_OK;
toobig:
	if (out_size)
		out[0] = '\0';
	return PZ_ETOOBIG;
}

/* MD5 of the parts (count of them) as lower-case hex into hex. */
static int digest_md5(const void *const *parts, const size_t *lens,
		      size_t count, char hex[PZ_DIGEST_HEX_LEN + 1])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned char md[16];
	unsigned mdlen = 0;
	int rc = PZ_ENOMEM;

	if (!c || !EVP_DigestInit_ex(c, EVP_md5(), NULL))
		goto out;
	for (size_t i = 0; i < count; i++)
		if (lens[i] && !EVP_DigestUpdate(c, parts[i], lens[i]))
			goto out;
	if (!EVP_DigestFinal_ex(c, md, &mdlen) || mdlen != 16)
		goto out;
	for (size_t i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	rc = PZ_OK;
out:
	EVP_MD_CTX_free(c);
	OPENSSL_cleanse(md, sizeof(md));
	return rc;
}

int pz_digest_response(const struct pz_digest *a, const uint8_t *pw,
		       size_t pw_len, const char *method, const uint8_t *body,
		       size_t body_len, char out[PZ_DIGEST_HEX_LEN + 1])
{
	char ha1[PZ_DIGEST_HEX_LEN + 1], ha2[PZ_DIGEST_HEX_LEN + 1];
	char hbody[PZ_DIGEST_HEX_LEN + 1];
	bool integrity;
	int rc;

	if (!a || !pw || !method || !out || (!body && body_len))
		return PZ_EINVAL;
	integrity = !strcmp(a->qop, "auth-int");
	if (!integrity && strcmp(a->qop, "auth"))
		return PZ_EINVAL;
	{
		const void *p[] = { a->username, ":", a->realm, ":", pw };
		size_t l[] = { strlen(a->username), 1, strlen(a->realm), 1,
			       pw_len };

		rc = digest_md5(p, l, 5, ha1);
	}
	if (rc == PZ_OK && integrity) {
		const void *p[] = { body };
		size_t l[] = { body_len };

		rc = digest_md5(p, l, 1, hbody);
	}
	if (rc == PZ_OK) {
		const void *p[] = { method, ":", a->uri, ":", hbody };
		size_t l[] = { strlen(method), 1, strlen(a->uri), 1,
			       PZ_DIGEST_HEX_LEN };

		rc = digest_md5(p, l, integrity ? 5 : 3, ha2);
	}
	if (rc == PZ_OK) {
		const void *p[] = { ha1, ":", a->nonce, ":", a->nc, ":",
				    a->cnonce, ":", a->qop, ":", ha2 };
		size_t l[] = { PZ_DIGEST_HEX_LEN, 1, strlen(a->nonce), 1,
			       strlen(a->nc), 1, strlen(a->cnonce), 1,
			       strlen(a->qop), 1, PZ_DIGEST_HEX_LEN };

		rc = digest_md5(p, l, 11, out);
	}
	OPENSSL_cleanse(ha1, sizeof(ha1));
	if (rc != PZ_OK)
		memset(out, 0, PZ_DIGEST_HEX_LEN + 1);
	return rc;
}

bool pz_digest_equal(const char *a, const char *b)
{
	if (!a || !b || strnlen(a, PZ_DIGEST_HEX_LEN + 1) != PZ_DIGEST_HEX_LEN
	    || strnlen(b, PZ_DIGEST_HEX_LEN + 1) != PZ_DIGEST_HEX_LEN)
		return false;
	return CRYPTO_memcmp(a, b, PZ_DIGEST_HEX_LEN) == 0;
}
