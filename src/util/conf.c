/*
 * conf.c - the configuration table and its parser (see pz_conf.h).
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plaza/pz_conf.h"
#include "plaza/pz_err.h"
#include "plaza/pz_mem.h"

#define F(x) offsetof(struct pz_conf, x)
#define MIB (1024 * 1024)

static const struct pz_conf_row conf_rows[] = {
	{ "data", PZ_CONF_STR, 0, 0, "plaza-data", NULL, false, F(data),
	  "data directory; created on first start" },
	{ "store", PZ_CONF_STR, 0, 0, "", NULL, false, F(store),
	  "store URL; empty means sqlite:<data>/plaza.db" },
	{ "store.sync", PZ_CONF_ENUM, 0, 0, "normal", "normal|full", false,
	  F(store_sync), "normal: a commit survives a crash of plazad; "
	  "full: also a power loss (fsync per commit)" },
	{ "store.commit_interval_us", PZ_CONF_INT, 0, 100000, "1000", NULL,
	  false, F(commit_interval_us), "group commit: under load, least "
	  "microseconds between two commits (writes wait at most this long "
	  "for company); 0 commits every loop turn" },
	{ "store.cache_kb", PZ_CONF_INT, 256, 16 * MIB, "32768", NULL, false,
	  F(store_cache_kb), "SQLite page cache in KiB (grows as used)" },
	{ "cse.id", PZ_CONF_STR, 0, 0, "plaza-in", NULL, false, F(cse_id),
	  "CSE-ID of this IN-CSE, without the leading '/'" },
	{ "cse.name", PZ_CONF_STR, 0, 0, "plaza", NULL, false, F(cse_name),
	  "resource name of the CSEBase (fixed at first start)" },
	{ "sp.id", PZ_CONF_STR, 0, 0, "plaza.example", NULL, false, F(sp_id),
	  "service provider ID (a domain name), without the leading '//'" },
	{ "admin", PZ_CONF_STR, 0, 0, "CAdmin", NULL, false, F(admin),
	  "originator with full access; its credential is <data>/admin.token" },
	{ "http.listen", PZ_CONF_STR, 0, 0, "127.0.0.1:8080", NULL, false,
	  F(http_listen), "HTTP addresses (host:port, [v6]:port), space "
	  "separated; port 0 picks a free port" },
	{ "http.max_body", PZ_CONF_INT, 1024, 64 * MIB, "1048576", NULL,
	  false, F(http_max_body), "largest request body in bytes" },
	{ "http.max_connections", PZ_CONF_INT, 1, 100000, "1024", NULL, false,
	  F(http_max_conns), "concurrent HTTP connections per listener" },
	{ "http.timeout", PZ_CONF_INT, 1, 3600, "60", NULL, false,
	  F(http_timeout), "seconds before an idle connection is closed" },
	{ "coap.listen", PZ_CONF_STR, 0, 0, "", NULL, false, F(coap_listen),
	  "plain CoAP (UDP) addresses, space separated; empty: off" },
	{ "coaps.listen", PZ_CONF_STR, 0, 0, "127.0.0.1:5684", NULL, false,
	  F(coaps_listen), "CoAP over DTLS addresses (pre-shared keys); "
	  "empty: off" },
	{ "coap.plain_allowed", PZ_CONF_STR, 0, 0, "", NULL, false,
	  F(coap_plain_allowed), "patterns ('*' glob) of the originators "
	  "plain CoAP may claim; empty: none" },
	{ "coap.max_body", PZ_CONF_INT, 1024, 64 * MIB, "1048576", NULL, false,
	  F(coap_max_body), "largest CoAP body, block-wise transfers "
	  "reassembled" },
	{ "coap.session_timeout", PZ_CONF_INT, 30, 86400, "60", NULL, false,
	  F(coap_session_timeout), "seconds an idle CoAP or DTLS session is "
	  "kept; a device rebooted behind the same address and port waits "
	  "this long for a new DTLS handshake; at least 30, as a client's "
	  "retransmissions come up to 24 s apart and the session keeps what "
	  "recognises them" },
	{ "mqtt.broker", PZ_CONF_STR, 0, 0, "", NULL, false, F(mqtt_broker),
	  "MQTT broker (host:port) plazad connects to for the oneM2M MQTT "
	  "binding; empty: off" },
	{ "mqtt.client_id", PZ_CONF_STR, 0, 0, "", NULL, false,
	  F(mqtt_client_id), "MQTT client ID; empty: plaza-<cse.id>" },
	{ "mqtt.topic_prefix", PZ_CONF_STR, 0, 0, "", NULL, false,
	  F(mqtt_prefix), "prefix before /oneM2M/... in every topic" },
	{ "mqtt.username", PZ_CONF_STR, 0, 0, "", NULL, false,
	  F(mqtt_username), "user name for the broker; empty: none" },
	{ "mqtt.password", PZ_CONF_STR, 0, 0, "", NULL, false,
	  F(mqtt_password), "password for the broker (never logged)" },
	{ "mqtt.tls_ca", PZ_CONF_STR, 0, 0, "", NULL, false, F(mqtt_tls_ca),
	  "CA file (PEM): TLS to the broker when set" },
	{ "mqtt.tls_cert", PZ_CONF_STR, 0, 0, "", NULL, false,
	  F(mqtt_tls_cert), "client certificate (PEM) for the broker" },
	{ "mqtt.tls_key", PZ_CONF_STR, 0, 0, "", NULL, false, F(mqtt_tls_key),
	  "the client certificate's key (PEM)" },
	{ "mqtt.keepalive", PZ_CONF_INT, 5, 3600, "60", NULL, false,
	  F(mqtt_keepalive), "MQTT keepalive in seconds" },
	{ "mqtt.trust_topic", PZ_CONF_BOOL, 0, 0, "true", NULL, false,
	  F(mqtt_trust_topic), "believe the originator a request topic names "
	  "(the broker's ACL must restrict each client to its own topics); "
	  "false: every request carries its credential in 'token'" },
	{ "mqtt.max_payload", PZ_CONF_INT, 1024, 64 * MIB, "1048576", NULL,
	  false, F(mqtt_max_payload), "largest request primitive in bytes" },
	{ "mqtt.dedup_seconds", PZ_CONF_INT, 0, 86400, "300", NULL, false,
	  F(mqtt_dedup_s), "how long answers are kept by (originator, rqi) so "
	  "a repeated request is answered again, not run again" },
	{ "mqtt.dedup_max", PZ_CONF_INT, 0, 10000000, "200000", NULL, false,
	  F(mqtt_dedup_max), "most answers kept for repeated requests; 0: "
	  "no duplicate suppression" },
	{ "auth.trust_origin", PZ_CONF_BOOL, 0, 0, "false", NULL, false,
	  F(trust_origin), "compatibility mode: believe X-M2M-Origin without "
	  "a credential (test tools, labs); never in production" },
	{ "registration.open", PZ_CONF_BOOL, 0, 0, "true", NULL, false,
	  F(reg_open), "AEs may register without a credential (each gets "
	  "one at registration)" },
	{ "registration.allowed", PZ_CONF_STR, 0, 0, "C* S*", NULL, false,
	  F(reg_allowed), "patterns of AE-IDs an AE may ask for" },
	{ "limits.results", PZ_CONF_INT, 1, 1000000, "10000", NULL, false,
	  F(max_results), "most resources in one discovery answer" },
	{ "limits.depth", PZ_CONF_INT, 2, 64, "16", NULL, false,
	  F(max_depth), "deepest resource tree (CSEBase = 1)" },
	{ "limits.json_depth", PZ_CONF_INT, 4, 256, "32", NULL, false,
	  F(json_depth), "deepest nesting accepted in request content" },
	{ "resource.lifetime", PZ_CONF_INT, 0, 100LL * 365 * 86400, "0", NULL,
	  false, F(lifetime), "default expirationTime in seconds from "
	  "creation; 0 means resources do not expire" },
	{ "notify.timeout", PZ_CONF_INT, 100, 600000, "5000", NULL, false,
	  F(notify_timeout), "milliseconds to wait for a notification target" },
	{ "notify.queue", PZ_CONF_INT, 1, 10000000, "100000", NULL, false,
	  F(notify_queue), "notifications in flight before new ones are "
	  "dropped" },
	{ "log.file", PZ_CONF_STR, 0, 0, "-", NULL, false, F(log_file),
	  "log file, '-' for standard error" },
	{ "log.level", PZ_CONF_ENUM, 0, 0, "info", "error|warn|info|debug",
	  true, F(log_level), "least severe level logged" },
	{ "trust.key", PZ_CONF_STR, 0, 0, "", NULL, false, F(trust_key),
	  "the trust log's Ed25519 signing key (PEM, created if missing; "
	  "the public key is written beside it as .pub); empty means "
	  "<data>/log.key" },
	{ "trust.public", PZ_CONF_BOOL, 0, 0, "true", NULL, false,
	  F(trust_public), "anyone may read the trust log and resolve "
	  "identities (/.plaza/log, /.plaza/ids); false: the admin only" },
	{ "boot.bsf", PZ_CONF_BOOL, 0, 0, "false", NULL, false, F(boot_bsf),
	  "serve the BSF of GBA bootstrapping: Ub (HTTP Digest AKA) on "
	  "/.plaza/bsf/ub and the key request on /.plaza/bsf/zn "
	  "(docs/bootstrap.md)" },
	{ "boot.bsf_name", PZ_CONF_STR, 0, 0, "", NULL, false,
	  F(boot_bsf_name), "the BSF's name: the Digest realm and the domain "
	  "of its B-TIDs; empty means sp.id" },
	{ "boot.lifetime", PZ_CONF_INT, 1, 2592000, "86400", NULL, false,
	  F(boot_lifetime), "seconds a B-TID (and the Ks under it) is valid" },
	{ "boot.naf_fqdn", PZ_CONF_STR, 0, 0, "", NULL, false,
	  F(boot_naf_fqdn), "the NAF's FQDN: with boot.bsf, DTLS-PSK "
	  "identities \"3GPP-bootstrapping\" B-TID get Ks_NAF for NAF_Id = "
	  "this name and the Ua id 01 00 01 C0 A8 (docs/bootstrap.md); "
	  "empty means sp.id" },
	{ "portfile", PZ_CONF_STR, 0, 0, "", NULL, false, F(portfile),
	  "file to write 'http <port>' lines to after binding" },
};

#define CONF_N (sizeof(conf_rows) / sizeof(conf_rows[0]))

const struct pz_conf_row *pz_conf_table(size_t *n)
{
	*n = CONF_N;
	return conf_rows;
}

static const struct pz_conf_row *conf_find(const char *key)
{
	for (size_t i = 0; i < CONF_N; i++)
		if (!strcmp(conf_rows[i].name, key))
			return &conf_rows[i];
	return NULL;
}

static bool conf_choice(const char *choices, const char *v)
{
	size_t n = strlen(v);
	const char *p = choices;

	while (*p) {
		size_t m = strcspn(p, "|");

		if (m == n && !strncmp(p, v, n))
			return true;
		p += m + (p[m] == '|');
	}
	return false;
}

static int conf_apply(struct pz_conf *c, const struct pz_conf_row *r,
		      const char *v, char *err, size_t errlen)
{
	void *field = (char *)c + r->off;
	long long n;
	char *end, *s;

	switch (r->type) {
	case PZ_CONF_INT:
		errno = 0;
		n = strtoll(v, &end, 10);
		if (!*v || *end || errno) {
			snprintf(err, errlen, "%s: '%s' is not an integer",
				 r->name, v);
			return PZ_EINVAL;
		}
		if (n < r->min || n > r->max) {
			snprintf(err, errlen, "%s: %lld is outside %lld..%lld",
				 r->name, n, (long long)r->min,
				 (long long)r->max);
			return PZ_EINVAL;
		}
		*(int64_t *)field = n;
		return PZ_OK;
	case PZ_CONF_BOOL:
		if (!strcmp(v, "true") || !strcmp(v, "yes") ||
		    !strcmp(v, "on") || !strcmp(v, "1")) {
			*(bool *)field = true;
		} else if (!strcmp(v, "false") || !strcmp(v, "no") ||
			   !strcmp(v, "off") || !strcmp(v, "0")) {
			*(bool *)field = false;
		} else {
			snprintf(err, errlen, "%s: '%s' is not true or false",
				 r->name, v);
			return PZ_EINVAL;
		}
		return PZ_OK;
	case PZ_CONF_ENUM:
		if (!conf_choice(r->choices, v)) {
			snprintf(err, errlen, "%s: '%s' is not one of %s",
				 r->name, v, r->choices);
			return PZ_EINVAL;
		}
		/* fall through */
	case PZ_CONF_STR:
		s = pz_strdup(v);
		if (!s)
			return PZ_ENOMEM;
		pz_free(*(char **)field);
		*(char **)field = s;
		return PZ_OK;
	}
	return PZ_EINVAL;
}

int pz_conf_set(struct pz_conf *c, const char *key, const char *value,
		char *err, size_t errlen)
{
	const struct pz_conf_row *r = conf_find(key);

	if (!r) {
		snprintf(err, errlen, "unknown setting '%s'", key);
		return PZ_ENOTFOUND;
	}
	return conf_apply(c, r, value, err, errlen);
}

int pz_conf_init(struct pz_conf *c)
{
	char err[200];

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < CONF_N; i++) {
		int rc = conf_apply(c, &conf_rows[i], conf_rows[i].def, err,
				    sizeof(err));

		if (rc != PZ_OK) {
			pz_conf_free(c);
			return rc;
		}
	}
	return PZ_OK;
}

void pz_conf_free(struct pz_conf *c)
{
	for (size_t i = 0; i < CONF_N; i++) {
		const struct pz_conf_row *r = &conf_rows[i];

		if (r->type == PZ_CONF_STR || r->type == PZ_CONF_ENUM) {
			char **f = (char **)((char *)c + r->off);

			pz_free(*f);
			*f = NULL;
		}
	}
}

static char *conf_trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Parse one line; PZ_OK also for blank and comment lines. */
static int conf_line(struct pz_conf *c, char *line, bool *seen, char *err,
		     size_t errlen)
{
	char *eq, *key, *val, *hash;
	const struct pz_conf_row *r;

	line = conf_trim(line);
	if (!*line || *line == '#')
		return PZ_OK;
	eq = strchr(line, '=');
	if (!eq) {
		snprintf(err, errlen, "expected 'key = value'");
		return PZ_ECONFIG;
	}
	*eq = '\0';
	key = conf_trim(line);
	val = conf_trim(eq + 1);
	if (*val == '"') {
		char *close = strchr(val + 1, '"');
		char *after = close ? conf_trim(close + 1) : NULL;

		if (!close || (*after != '\0' && *after != '#')) {
			snprintf(err, errlen, "unterminated quoted value");
			return PZ_ECONFIG;
		}
		*close = '\0';
		val++;
	} else if ((hash = strstr(val, " #")) != NULL) {
		*hash = '\0';
		val = conf_trim(val);
	}
	r = conf_find(key);
	if (!r) {
		snprintf(err, errlen, "unknown setting '%.60s'", key);
		return PZ_ECONFIG;
	}
	if (seen[r - conf_rows]) {
		snprintf(err, errlen, "'%s' is set twice", key);
		return PZ_ECONFIG;
	}
	seen[r - conf_rows] = true;
	switch (conf_apply(c, r, val, err, errlen)) {
	case PZ_OK:
		return PZ_OK;
	case PZ_ENOMEM:
		snprintf(err, errlen, "out of memory");
		return PZ_ENOMEM;
	default:
		return PZ_ECONFIG;
	}
}

int pz_conf_load(struct pz_conf *c, const char *path, char *err,
		 size_t errlen)
{
	bool seen[CONF_N] = { false };
	char line[4096], why[300];
	int lineno = 0, rc = PZ_OK;
	FILE *f = fopen(path, "r");

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return PZ_EIO;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, errlen, "%s:%d: line too long", path,
				 lineno);
			rc = PZ_ECONFIG;
			break;
		}
		rc = conf_line(c, line, seen, why, sizeof(why));
		if (rc != PZ_OK) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
			break;
		}
	}
	fclose(f);
	return rc;
}

static bool conf_id_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("-._~", *s))
			return false;
	return true;
}

/* Does a pattern of the space-separated list match s? */
static bool conf_pattern_hits(const char *list, const char *s)
{
	char pat[128];

	while (list && *list) {
		size_t n = strcspn(list, " ,");

		if (n && n < sizeof(pat)) {
			memcpy(pat, list, n);
			pat[n] = '\0';
			if (fnmatch(pat, s, 0) == 0)
				return true;
		}
		list += n;
		while (*list == ' ' || *list == ',')
			list++;
	}
	return false;
}

int pz_conf_finish(struct pz_conf *c, char *err, size_t errlen)
{
	char *s;
	size_t n;

	if (!conf_id_ok(c->cse_id) || !conf_id_ok(c->cse_name) ||
	    !conf_id_ok(c->admin)) {
		snprintf(err, errlen, "cse.id, cse.name and admin must be "
			 "non-empty and use only A-Z a-z 0-9 - . _ ~");
		return PZ_ECONFIG;
	}
	if (!conf_id_ok(c->sp_id)) {
		snprintf(err, errlen, "sp.id must be a domain name");
		return PZ_ECONFIG;
	}
	if (c->admin[0] != 'C' && c->admin[0] != 'S') {
		snprintf(err, errlen, "admin must be an AE-ID style originator "
			 "starting with C or S");
		return PZ_ECONFIG;
	}
	if (conf_pattern_hits(c->coap_plain_allowed, c->admin)) {
		snprintf(err, errlen, "coap.plain_allowed must not let plain "
			 "CoAP claim the admin originator '%s'", c->admin);
		return PZ_ECONFIG;
	}
	if (!*c->http_listen) {
		snprintf(err, errlen, "http.listen needs at least one address");
		return PZ_ECONFIG;
	}
	if (!*c->store) {
		n = strlen(c->data) + 32;
		s = pz_malloc(n);
		if (!s)
			return PZ_ENOMEM;
		snprintf(s, n, "sqlite:%s/plaza.db", c->data);
		pz_free(c->store);
		c->store = s;
	}
	if (!*c->trust_key) {
		n = strlen(c->data) + 16;
		s = pz_malloc(n);
		if (!s)
			return PZ_ENOMEM;
		snprintf(s, n, "%s/log.key", c->data);
		pz_free(c->trust_key);
		c->trust_key = s;
	}
	return PZ_OK;
}

static void conf_value(const struct pz_conf *c, const struct pz_conf_row *r,
		       char *out, size_t len)
{
	const void *field = (const char *)c + r->off;

	switch (r->type) {
	case PZ_CONF_INT:
		snprintf(out, len, "%lld", (long long)*(const int64_t *)field);
		break;
	case PZ_CONF_BOOL:
		snprintf(out, len, "%s", *(const bool *)field ? "true" :
			 "false");
		break;
	default:
		snprintf(out, len, "%s", *(char *const *)field ?
			 *(char *const *)field : "");
		break;
	}
}

void pz_conf_template(FILE *f)
{
	fprintf(f, "# plazad configuration.  Every setting is shown with its "
		"default, commented out.\n# Uncomment and change what you "
		"need; `plazad --test-config FILE` checks a file.\n");
	for (size_t i = 0; i < CONF_N; i++) {
		const struct pz_conf_row *r = &conf_rows[i];

		fprintf(f, "\n# %s", r->doc);
		if (r->type == PZ_CONF_INT)
			fprintf(f, " (%lld..%lld)", (long long)r->min,
				(long long)r->max);
		else if (r->type == PZ_CONF_ENUM)
			fprintf(f, " (%s)", r->choices);
		else if (r->type == PZ_CONF_BOOL)
			fprintf(f, " (true|false)");
		fprintf(f, "\n#%s = %s%s%s\n", r->name,
			strchr(r->def, ' ') || !*r->def ? "\"" : "", r->def,
			strchr(r->def, ' ') || !*r->def ? "\"" : "");
	}
}

void pz_conf_show(const struct pz_conf *c, FILE *f)
{
	char v[512];

	for (size_t i = 0; i < CONF_N; i++) {
		conf_value(c, &conf_rows[i], v, sizeof(v));
		/* Secrets never leave: only whether one is set. */
		if (!strcmp(conf_rows[i].name, "mqtt.password") && v[0])
			snprintf(v, sizeof(v), "(set)");
		fprintf(f, "%-22s = %s\n", conf_rows[i].name, v);
	}
}

void pz_conf_markdown(FILE *f)
{
	static const char *const types[] = { "string", "integer", "boolean",
					     "choice" };

	fprintf(f, "# plazad configuration reference\n\n"
		"Generated from the configuration table in src/util/conf.c by "
		"`plazad --config-doc`; do not edit by hand.\n\n"
		"A configuration file holds `key = value` lines; `#` starts a "
		"comment and values may be double-quoted.  Every key can also "
		"be given on the command line as `--set key=value`.  "
		"`plazad --test-config FILE` checks a file; `plaza init DIR` "
		"writes a commented one.\n\n"
		"| key | type | default | bounds / choices | reload | meaning |\n"
		"| --- | --- | --- | --- | --- | --- |\n");
	for (size_t i = 0; i < CONF_N; i++) {
		const struct pz_conf_row *r = &conf_rows[i];
		char bounds[64] = "";

		if (r->type == PZ_CONF_INT) {
			snprintf(bounds, sizeof(bounds), "%lld .. %lld",
				 (long long)r->min, (long long)r->max);
		} else if (r->type == PZ_CONF_ENUM) {
			/* '|' would split the markdown cell. */
			size_t o = 0;

			for (const char *p = r->choices;
			     *p && o < sizeof(bounds) - 3; p++) {
				if (*p == '|') {
					bounds[o++] = ',';
					bounds[o++] = ' ';
				} else {
					bounds[o++] = *p;
				}
			}
			bounds[o] = '\0';
		}
		fprintf(f, "| `%s` | %s | %s%s%s | %s | %s | %s |\n", r->name,
			types[r->type], *r->def ? "`" : "", *r->def ? r->def :
			"(empty)", *r->def ? "`" : "", bounds,
			r->reloadable ? "SIGHUP" : "restart", r->doc);
	}
}
