/*
 * fetch.c - plaza-verify's inputs: a file, stdin ("-") or an http(s) URL
 * fetched with libcurl, each bounded by PZ_VERIFY_MAX_DOC bytes.
 *
 * Nothing fetched is trusted: the bytes only become evidence once the
 * checks of check.c pass with a key the auditor holds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "plaza/pz_err.h"
#include "verify_int.h"

struct body {
	char *p;        /* bytes so far, NUL-terminated */
	size_t n;       /* their number */
	bool over;      /* more than PZ_VERIFY_MAX_DOC arrived */
};

static int append(struct body *b, const void *data, size_t n)
{
	char *p;

	if (n > PZ_VERIFY_MAX_DOC - b->n) {
		b->over = true;
		return PZ_ETOOBIG;
	}
	p = realloc(b->p, b->n + n + 1);
	if (!p)
		return PZ_ENOMEM;
	memcpy(p + b->n, data, n);
	b->p = p;
	b->n += n;
	b->p[b->n] = '\0';
	return PZ_OK;
}

bool pz_verify__is_url(const char *src)
{
	return strncmp(src, "http://", 7) == 0 ||
	       strncmp(src, "https://", 8) == 0;
}

static int read_file(const char *path, struct body *b, char *err,
		     size_t errlen)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char buf[65536];
	size_t got;
	int rc = PZ_OK;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return PZ_EIO;
	}
	do {
		got = fread(buf, 1, sizeof(buf), f);
		rc = append(b, buf, got);
	} while (rc == PZ_OK && got == sizeof(buf));
	if (rc == PZ_OK && ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		rc = PZ_EIO;
	}
	if (f != stdin)
		fclose(f);
	return rc;
}

static size_t on_data(char *data, size_t size, size_t n, void *ud)
{
	return append(ud, data, size * n) == PZ_OK ? size * n : 0;
}

/* "HTTP 404" plus the server's {"error": ...} when it sent one. */
static void http_error(const char *url, long status, const struct body *b,
		       char *err, size_t errlen)
{
	json_t *j = b->p ? json_loadb(b->p, b->n, 0, NULL) : NULL;
	const char *why = json_string_value(json_object_get(j, "error"));

	snprintf(err, errlen, "GET %s: HTTP %ld%s%s", url, status,
		 why ? ": " : "", why ? why : "");
	json_decref(j);
}

static int read_url(const char *url, struct body *b, char *err,
		    size_t errlen)
{
	CURL *c = curl_easy_init();
	char cerr[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode cc;
	int rc = PZ_OK;

	if (!c)
		return PZ_ENOMEM;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "plaza-verify");
#if CURL_AT_LEAST_VERSION(7, 85, 0)
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		snprintf(err, errlen, "GET %s: %s", url,
			 b->over ? "answer over the size limit" :
			 cerr[0] ? cerr : curl_easy_strerror(cc));
		rc = b->over ? PZ_ETOOBIG : PZ_EIO;
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		http_error(url, status, b, err, errlen);
		rc = PZ_EIO;
	}
out:
	curl_easy_cleanup(c);
	return rc;
}

int pz_verify__read(const char *src, char **out, size_t *len, char *err,
		    size_t errlen)
{
	struct body b = { NULL, 0, false };
	int rc;

	rc = pz_verify__is_url(src) ? read_url(src, &b, err, errlen) :
	     read_file(src, &b, err, errlen);
	if (rc == PZ_OK && !b.p)
		rc = append(&b, "", 0);
	if (rc == PZ_ETOOBIG && !pz_verify__is_url(src))
		snprintf(err, errlen, "%s: over %u bytes", src,
			 PZ_VERIFY_MAX_DOC);
	if (rc == PZ_ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (rc != PZ_OK) {
		free(b.p);
		return rc;
	}
	*out = b.p;
	*len = b.n;
	return PZ_OK;
}

char *pz_verify__escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0);
	char *copy = e ? strdup(e) : NULL;

	curl_free(e);
	return copy;
}
