/*
 * http.c - plaza's requests to plazad: the oneM2M HTTP binding (TS-0009)
 * on one reused, blocking libcurl handle; the request URL for any address
 * form, the oneM2M headers, the credential, and turning plazad's answer
 * (or its absence) into a pz_err with one message on stderr.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "plaza/pz_err.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_req.h"
#include "cli_int.h"

#define CLI_CONNECT_S 5L                 /* connect timeout */
#define CLI_TOTAL_S 30L                  /* whole-request timeout */

int cli__http_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? PZ_OK :
	       PZ_ENOMEM;
}

void cli__http_cleanup(struct cli *c)
{
	if (c && c->curl) {
		curl_easy_cleanup(c->curl);
		c->curl = NULL;
	}
	curl_global_cleanup();
}

void cli__reply_init(struct reply *r)
{
	memset(r, 0, sizeof(*r));
	pz_buf_init(&r->body, CLI_MAX_BODY);
}

void cli__reply_clear(struct reply *r)
{
	pz_buf_free(&r->body);
	json_decref(r->doc);
	cli__reply_init(r);
}

/* --- addresses and queries ---------------------------------------------- */

/* Append s to b, percent-encoding all but RFC 3986 unreserved characters
 * and those in keep. */
static int pct_add(struct pz_buf *b, const char *s, const char *keep)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = PZ_OK;

	for (const unsigned char *p = (const unsigned char *)s;
	     *p && rc == PZ_OK; p++) {
		char enc[3] = { '%', hex[*p >> 4], hex[*p & 15] };

		if (isalnum(*p) || strchr("-._~", *p) || strchr(keep, *p))
			rc = pz_buf_add(b, p, 1);
		else
			rc = pz_buf_add(b, enc, 3);
	}
	return rc;
}

int cli__seg_add(struct pz_buf *b, const char *seg)
{
	return pct_add(b, seg, "");
}

int cli__query_add(struct pz_buf *q, const char *name, const char *value)
{
	int rc = q->len ? pz_buf_adds(q, "&") : PZ_OK;

	if (rc == PZ_OK)
		rc = pct_add(q, name, "");
	if (rc == PZ_OK)
		rc = pz_buf_adds(q, "=");
	if (rc == PZ_OK)
		rc = pct_add(q, value, "");
	return rc;
}

int cli__query_kv(struct pz_buf *q, const char *opt, const char *kv)
{
	const char *eq = strchr(kv, '=');
	char *name;
	int rc;

	if (!eq || eq == kv)
		return cli__usage_error("%s needs NAME=VALUE, not '%s'", opt,
					kv);
	name = pz_strndup(kv, (size_t)(eq - kv));
	if (!name)
		return cli__say(PZ_ENOMEM, "out of memory");
	rc = cli__query_add(q, name, eq + 1);
	pz_free(name);
	return rc;
}

/*
 * cli_url - the request URL for a oneM2M address (TS-0009 path forms):
 * "//sp/csi/x" -> /_/sp/csi/x, "/csi/x" -> /~/csi/x, "x" -> /x.  Each
 * segment is percent-encoded.  PZ_OK, PZ_EINVAL (reported), PZ_ETOOBIG.
 */
static int cli_url(const struct cli *c, const char *path, const char *query,
		   bool mgmt, struct pz_buf *out)
{
	size_t n = strlen(c->url);
	const char *prefix = "/";
	int rc;

	if (strncasecmp(c->url, "http://", 7) &&
	    strncasecmp(c->url, "https://", 8))
		return cli__usage_error("--url must start with http:// or "
					"https://, not '%s'", c->url);
	if (mgmt) {
		prefix = "/";
		path += path[0] == '/';
	} else if (!strncmp(path, "//", 2)) {
		prefix = "/_/";
		path += 2;
	} else if (path[0] == '/') {
		prefix = "/~/";
		path += 1;
	}
	if (!path[0] || path[0] == '/')
		return cli__usage_error("incomplete address");
	while (n && c->url[n - 1] == '/')
		n--;
	rc = pz_buf_add(out, c->url, n);
	if (rc == PZ_OK)
		rc = pz_buf_adds(out, prefix);
	if (rc == PZ_OK)
		rc = pct_add(out, path, mgmt ? "/%" : "/");
	if (rc == PZ_OK && query && *query)
		rc = pz_buf_addf(out, "?%s", query);
	if (rc == PZ_ETOOBIG)
		return cli__say(rc, "request URL longer than %d bytes",
				CLI_MAX_URL);
	return rc;
}

/* --- the request -------------------------------------------------------- */

/* The credential: --token, $PLAZA_TOKEN or DATA/admin.token; NULL if none. */
const char *cli__token(struct cli *c)
{
	char path[4096];
	FILE *f;

	if (c->token_done)
		return c->token;
	c->token_done = true;
	snprintf(path, sizeof(path), "%s/admin.token", c->data);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	if (fgets(c->token_buf, sizeof(c->token_buf), f)) {
		c->token_buf[strcspn(c->token_buf, "\r\n")] = '\0';
		if (c->token_buf[0])
			c->token = c->token_buf;
	}
	fclose(f);
	return c->token;
}

/* Header values must not smuggle in further header lines. */
static bool header_safe(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static int header_add(struct curl_slist **l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int header_add(struct curl_slist **l, const char *fmt, ...)
{
	char line[1024];
	struct curl_slist *n;
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= sizeof(line))
		return cli__usage_error("header value too long");
	n = curl_slist_append(*l, line);
	if (!n)
		return cli__say(PZ_ENOMEM, "out of memory");
	*l = n;
	return PZ_OK;
}

/* The oneM2M request headers of call.  PZ_OK, PZ_EINVAL, PZ_ENOMEM. */
static int cli_headers(struct cli *c, const struct call *call,
		       struct curl_slist **l)
{
	const char *orig = call->origin ? call->origin : c->origin;
	const char *tok = call->anonymous ? NULL : cli__token(c);
	int rc;

	if (!header_safe(orig) || (tok && !header_safe(tok)))
		return cli__usage_error("control characters in originator "
					"or token");
	rc = header_add(l, "X-M2M-Origin: %s", orig);
	if (rc == PZ_OK)
		rc = header_add(l, "X-M2M-RI: plaza-%ld-%lu", (long)getpid(),
				++c->rqn);
	if (rc == PZ_OK)
		rc = header_add(l, "X-M2M-RVI: 4");
	if (rc == PZ_OK)
		rc = header_add(l, "Accept: application/json");
	if (rc == PZ_OK)
		rc = header_add(l, "Expect:");
	if (rc == PZ_OK && tok)
		rc = header_add(l, "Authorization: Bearer %s", tok);
	if (rc == PZ_OK && call->pc && call->ty)
		rc = header_add(l, "Content-Type: application/json;ty=%d",
				call->ty);
	else if (rc == PZ_OK && call->pc)
		rc = header_add(l, "Content-Type: application/json");
	return rc;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct reply *r = ud;

	if (pz_buf_add(&r->body, p, size * n) != PZ_OK) {
		r->too_big = true;
		return 0;
	}
	return size * n;
}

/* If line (len bytes, CRLF-terminated) is header name, copy its trimmed
 * value to out (truncated to outlen - 1). */
static bool header_take(const char *line, size_t len, const char *name,
			char *out, size_t outlen)
{
	size_t n = strlen(name);

	if (len <= n || strncasecmp(line, name, n) || line[n] != ':')
		return false;
	line += n + 1;
	len -= n + 1;
	while (len && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	while (len && isspace((unsigned char)line[len - 1]))
		len--;
	if (len >= outlen)
		len = outlen - 1;
	memcpy(out, line, len);
	out[len] = '\0';
	return true;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct reply *r = ud;
	size_t len = size * n;
	char rsc[16];

	if (len >= 5 && !strncmp(p, "HTTP/", 5)) {
		/* A new response (after 1xx): forget the last one's. */
		r->rsc = 0;
		r->token[0] = r->location[0] = '\0';
	} else if (header_take(p, len, "X-M2M-RSC", rsc, sizeof(rsc))) {
		r->rsc = (int)strtol(rsc, NULL, 10);
	} else if (!header_take(p, len, "X-Plaza-Token", r->token,
				sizeof(r->token))) {
		header_take(p, len, "Content-Location", r->location,
			    sizeof(r->location));
	}
	return len;
}

/* Set the handle up for one request (options from earlier ones cleared). */
static int cli_setup(struct cli *c, const struct call *call, const char *url,
		     struct curl_slist *hdrs, const char *body,
		     struct reply *r, char *errbuf)
{
	CURL *h;

	if (!c->curl)
		c->curl = curl_easy_init();
	if (!c->curl)
		return cli__say(PZ_ENOMEM, "cannot start libcurl");
	h = c->curl;
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CLI_CONNECT_S);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, CLI_TOTAL_S);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	if (strcmp(call->method, "GET") && strcmp(call->method, "POST"))
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, call->method);
	return PZ_OK;
}

/* --- the answer --------------------------------------------------------- */

/* A libcurl failure as a pz_err, reported. */
static int cli_transport(const struct cli *c, CURLcode cc,
			 const struct reply *r, const char *errbuf)
{
	const char *why = errbuf[0] ? errbuf : curl_easy_strerror(cc);

	if (r->too_big)
		return cli__say(PZ_ETOOBIG, "the answer is larger than %zu "
				"bytes", CLI_MAX_BODY);
	if (cc == CURLE_URL_MALFORMAT || cc == CURLE_UNSUPPORTED_PROTOCOL)
		return cli__usage_error("bad --url '%s': %s", c->url, why);
	return cli__say(PZ_EAGAIN, "cannot reach plazad at %s: %s", c->url,
			why);
}

/* Check plazad's answer: parse the body, report a oneM2M error.  PZ_OK for
 * a 1xxx/2xxx rsc, PZ_EREQ (reported) for an error rsc, PZ_EIO when the
 * answer is not oneM2M (no rsc, or a success with a malformed body). */
int cli__outcome(const struct cli *c, const struct call *call,
		 struct reply *r)
{
	bool success = r->rsc >= 1000 && r->rsc < 3000;
	struct pz_buf why;
	json_error_t je;
	const char *dbg;

	if (!r->rsc)
		return cli__say(PZ_EIO, "HTTP %ld without a oneM2M result "
				"code from %s: is it plazad?", r->http, c->url);
	if (r->body.len) {
		r->doc = json_loadb(r->body.data, r->body.len,
				    JSON_REJECT_DUPLICATES, &je);
		if (!r->doc && success)
			return cli__say(PZ_EIO, "malformed JSON answer (rsc "
					"%d): %s", r->rsc, je.text);
	}
	if (success)
		return PZ_OK;
	dbg = json_string_value(json_object_get(r->doc, "m2m:dbg"));
	pz_buf_init(&why, 1024);
	if (cli__safe_add(&why, dbg ? dbg : "no reason given") != PZ_OK)
		pz_buf_adds(&why, "...");  /* cut at the ceiling */
	cli__say(PZ_EREQ, "%s (%d): %s", pz_rsc_name(r->rsc), r->rsc,
		 why.data ? why.data : "");
	pz_buf_free(&why);
	if ((r->rsc == 4107 || r->rsc == 4103) && !c->token &&
	    !call->anonymous)
		cli__say(PZ_EREQ, "no credential was sent: give --token, set "
			 "PLAZA_TOKEN or point --data at plazad's data "
			 "directory");
	return PZ_EREQ;
}

/* A management answer: JSON; an HTTP error carries {"error": reason}. */
static int cli_mgmt_outcome(struct reply *r)
{
	json_error_t je;
	const char *why;

	je.text[0] = '\0';
	if (r->body.len)
		r->doc = json_loadb(r->body.data, r->body.len, 0, &je);
	/* A text answer (the trust log's PEM key) stays in r->body. */
	if (r->http >= 200 && r->http < 300)
		return r->doc || (r->body.len && r->body.data[0] != '{') ?
		       PZ_OK : cli__say(PZ_EIO, "malformed answer: %s",
					je.text);
	why = json_string_value(json_object_get(r->doc, "error"));
	return cli__say(PZ_EREQ, "HTTP %ld: %s", r->http,
			why ? why : "no reason given");
}

int cli__call(struct cli *c, const struct call *call, struct reply *r)
{
	struct curl_slist *hdrs = NULL;
	struct pz_buf url;
	char errbuf[CURL_ERROR_SIZE] = "";
	char *body = NULL;
	CURLcode cc;
	int rc;

	if (c->via)
		return cli__mqtt_call(c, call, r);
	pz_buf_init(&url, CLI_MAX_URL);
	rc = cli_url(c, call->path, call->query, call->mgmt, &url);
	if (rc != PZ_OK)
		goto out;
	rc = cli_headers(c, call, &hdrs);
	if (rc != PZ_OK)
		goto out;
	if (call->pc) {
		body = json_dumps(call->pc, JSON_COMPACT);
		if (!body) {
			rc = cli__say(PZ_ENOMEM, "out of memory");
			goto out;
		}
	}
	rc = cli_setup(c, call, url.data, hdrs, body, r, errbuf);
	if (rc != PZ_OK)
		goto out;
	cc = curl_easy_perform(c->curl);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &r->http);
	if (cc != CURLE_OK)
		rc = cli_transport(c, cc, r, errbuf);
	else
		rc = call->mgmt ? cli_mgmt_outcome(r) : cli__outcome(c, call, r);
out:
	pz_free(body);
	curl_slist_free_all(hdrs);
	pz_buf_free(&url);
	return rc;
}

int cli__mgmt_delete(struct cli *c, const char *prefix, const char *name,
		     const char *what, const char *done)
{
	struct pz_buf path;
	struct reply r;
	int rc;

	pz_buf_init(&path, 2048);
	rc = pz_buf_adds(&path, prefix);
	if (rc == PZ_OK)
		rc = cli__seg_add(&path, name);
	if (rc != PZ_OK) {
		pz_buf_free(&path);
		return cli__usage_error("%s too long", what);
	}
	cli__reply_init(&r);
	rc = cli__call(c, &(struct call){ .method = "DELETE",
			.path = path.data, .mgmt = true }, &r);
	if (rc == PZ_OK)
		rc = c->json ? cli__print_json(r.doc) :
		     (printf("%s %s %s\n", what, name, done), PZ_OK);
	cli__reply_clear(&r);
	pz_buf_free(&path);
	return rc;
}

int cli__get(struct cli *c, const char *path, const char *query,
	     struct reply *r)
{
	struct call call = { .method = "GET", .path = path, .query = query };

	return cli__call(c, &call, r);
}
