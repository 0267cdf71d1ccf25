/*
 * pz_conf.h - plazad's configuration: one table of settings (name, type,
 * bounds, default, documentation) that drives parsing, validation, the
 * commented template written by `plaza init`, `plaza config show` and the
 * reference in docs/configuration.md.
 *
 * File format: one "key = value" per line; '#' starts a comment; values
 * may be double-quoted.  A file is parsed whole, then validated; every
 * error is reported with its line.
 */
#ifndef PZ_CONF_H
#define PZ_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum pz_conf_type {
	PZ_CONF_STR,
	PZ_CONF_INT,
	PZ_CONF_BOOL,
	PZ_CONF_ENUM
};

/* Every setting; strings are owned (pz_conf_free). */
struct pz_conf {
	char *data;              /* data directory */
	char *store;             /* store URL */
	char *store_sync;        /* normal | full */
	int64_t store_cache_kb;
	int64_t commit_interval_us;
	char *cse_id;
	char *cse_name;
	char *sp_id;
	char *admin;
	char *http_listen;       /* space/comma separated addresses */
	int64_t http_max_body;
	int64_t http_max_conns;
	int64_t http_timeout;
	char *coap_listen;       /* plain CoAP addresses */
	char *coaps_listen;      /* CoAP over DTLS addresses */
	char *coap_plain_allowed;
	int64_t coap_max_body;
	int64_t coap_session_timeout;  /* seconds */
	char *mqtt_broker;       /* host:port; empty: no MQTT binding */
	char *mqtt_client_id;
	char *mqtt_prefix;
	char *mqtt_username;
	char *mqtt_password;     /* never logged */
	char *mqtt_tls_ca;
	char *mqtt_tls_cert;
	char *mqtt_tls_key;
	int64_t mqtt_keepalive;
	bool mqtt_trust_topic;
	int64_t mqtt_max_payload;
	int64_t mqtt_dedup_s;
	int64_t mqtt_dedup_max;
	bool trust_origin;
	bool reg_open;
	char *reg_allowed;
	int64_t max_results;
	int64_t max_depth;
	int64_t json_depth;
	int64_t lifetime;
	int64_t notify_timeout;
	int64_t notify_queue;
	char *log_file;
	char *log_level;
	char *trust_key;         /* the trust log's signing key file */
	bool trust_public;       /* the trust log is readable by anyone */
	bool boot_bsf;           /* serve the BSF (Ub, Zn) */
	char *boot_bsf_name;     /* BSF name; empty: sp.id */
	int64_t boot_lifetime;   /* B-TID lifetime, seconds */
	char *boot_naf_fqdn;     /* the NAF's FQDN in NAF_Id; empty: sp.id */
	char *portfile;
};

struct pz_conf_row {
	const char *name;        /* key in the file */
	enum pz_conf_type type;
	int64_t min, max;        /* bounds of an INT */
	const char *def;         /* default, as text */
	const char *choices;     /* ENUM: "a|b|c" */
	bool reloadable;         /* applied again on SIGHUP */
	size_t off;              /* field in struct pz_conf */
	const char *doc;         /* one line of documentation */
};

/* pz_conf_table - the rows, *n set to their count. */
const struct pz_conf_row *pz_conf_table(size_t *n);

/* pz_conf_init - every setting at its default.  PZ_OK or PZ_ENOMEM. */
int pz_conf_init(struct pz_conf *c);

/* pz_conf_free - release the strings (c can be re-initialised). */
void pz_conf_free(struct pz_conf *c);

/*
 * pz_conf_set - set key from text.  PZ_OK, PZ_ENOTFOUND (unknown key),
 * PZ_EINVAL (bad value; err says why), PZ_ENOMEM.
 */
int pz_conf_set(struct pz_conf *c, const char *key, const char *value,
		char *err, size_t errlen);

/*
 * pz_conf_load - read path into c.  Unknown keys, bad values and repeated
 * keys are errors; err gets "path:line: reason" of the first.  PZ_OK,
 * PZ_EIO (cannot read), PZ_ECONFIG.
 */
int pz_conf_load(struct pz_conf *c, const char *path, char *err,
		 size_t errlen);

/* pz_conf_finish - derive dependent settings (the store from the data
 * directory) and check cross-setting rules.  PZ_OK or PZ_ECONFIG. */
int pz_conf_finish(struct pz_conf *c, char *err, size_t errlen);

/* pz_conf_template - write a commented configuration file to f. */
void pz_conf_template(FILE *f);

/* pz_conf_markdown - write the reference table (docs/configuration.md). */
void pz_conf_markdown(FILE *f);

/* pz_conf_show - write the effective value of every setting to f. */
void pz_conf_show(const struct pz_conf *c, FILE *f);

#endif
