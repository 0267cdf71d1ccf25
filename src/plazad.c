/*
 * plazad.c - the plaza daemon: configuration, data directory, the event
 * loop, and the modules wired together on it.
 *
 *   plazad [--config FILE] [--data DIR] [--listen ADDR:PORT]... [options]
 *   plazad --test-config FILE
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "plaza/pz_bsf.h"
#include "plaza/pz_buf.h"
#include "plaza/pz_coap.h"
#include "plaza/pz_naf.h"
#include "plaza/pz_conf.h"
#include "plaza/pz_core.h"
#include "plaza/pz_err.h"
#include "plaza/pz_fs.h"
#include "plaza/pz_http.h"
#include "plaza/pz_httpc.h"
#include "plaza/pz_mqtt.h"
#include "plaza/pz_log.h"
#include "plaza/pz_loop.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_store.h"
#include "plaza/pz_time.h"
#include "plaza/pz_tlog.h"
#include "plaza/pz_version.h"

struct daemon {
	struct pz_conf conf;
	const char *conf_path;   /* the configuration file, if any */
	pz_loop *loop;
	pz_store *store;
	pz_tlog *tlog;
	struct pz_timer warm;    /* fills the trust log's node cache */
	int64_t warm_start;      /* monotonic ms */
	pz_core *core;
	pz_http *http;
	pz_coap *coap;
	pz_httpc *httpc;
	pz_mqtt *mqtt;
	pz_bsf *bsf;             /* the BSF (boot.bsf), or NULL */
	pz_naf *naf;             /* its NAF for DTLS-PSK, or NULL */
	int sigfd;
	struct pz_buf ports;     /* portfile contents */
	struct pz_buf poa;       /* the CSE's points of access */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: plazad [options]\n"
		"  -c, --config FILE       read settings from FILE\n"
		"  -d, --data DIR          data directory (default plaza-data)\n"
		"  -l, --listen ADDR:PORT  HTTP address; repeat for more "
		"(port 0 = any free port)\n"
		"  -p, --portfile FILE     write 'http <port>' lines after "
		"binding\n"
		"      --cse-id ID         CSE-ID (default plaza-in)\n"
		"      --cse-name NAME     CSEBase name (default plaza)\n"
		"      --sp-id ID          SP-ID (default plaza.example)\n"
		"      --admin ORIGINATOR  admin originator (default CAdmin)\n"
		"      --trust-origin      compatibility mode: believe "
		"X-M2M-Origin (labs only)\n"
		"  -s, --set KEY=VALUE     any setting of the configuration file\n"
		"      --log-level LEVEL   error, warn, info or debug\n"
		"  -t, --test-config FILE  check FILE and exit\n"
		"      --verify-log        check the whole trust log against "
		"its signed heads and exit\n"
		"                          (0: intact, 1: it is not, or "
		"cannot be read)\n"
		"      --config-doc        print the configuration reference\n"
		"  -V, --version           print the version\n"
		"  -h, --help              this text\n");
}

enum { OPT_CSE_ID = 256, OPT_CSE_NAME, OPT_SP_ID, OPT_ADMIN, OPT_TRUST,
       OPT_LOG_LEVEL, OPT_CONFIG_DOC, OPT_VERIFY_LOG };

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "data", required_argument, NULL, 'd' },
	{ "listen", required_argument, NULL, 'l' },
	{ "portfile", required_argument, NULL, 'p' },
	{ "set", required_argument, NULL, 's' },
	{ "test-config", required_argument, NULL, 't' },
	{ "cse-id", required_argument, NULL, OPT_CSE_ID },
	{ "cse-name", required_argument, NULL, OPT_CSE_NAME },
	{ "sp-id", required_argument, NULL, OPT_SP_ID },
	{ "admin", required_argument, NULL, OPT_ADMIN },
	{ "trust-origin", no_argument, NULL, OPT_TRUST },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "config-doc", no_argument, NULL, OPT_CONFIG_DOC },
	{ "verify-log", no_argument, NULL, OPT_VERIFY_LOG },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static const char short_opts[] = "c:d:l:p:s:t:Vh";

/* Settings from the command line override the file. */
static int apply_args(struct daemon *d, int argc, char **argv)
{
	struct pz_buf listen;
	char err[300];
	const char *key;
	char *eq;
	int opt, rc = PZ_OK;

	pz_buf_init(&listen, 0);
	optind = 1;
	while (rc == PZ_OK &&
	       (opt = getopt_long(argc, argv, short_opts, long_opts, NULL)) !=
	       -1) {
		key = NULL;
		switch (opt) {
		case 'd': key = "data"; break;
		case 'p': key = "portfile"; break;
		case OPT_CSE_ID: key = "cse.id"; break;
		case OPT_CSE_NAME: key = "cse.name"; break;
		case OPT_SP_ID: key = "sp.id"; break;
		case OPT_ADMIN: key = "admin"; break;
		case OPT_LOG_LEVEL: key = "log.level"; break;
		case OPT_TRUST:
			rc = pz_conf_set(&d->conf, "auth.trust_origin", "true",
					 err, sizeof(err));
			break;
		case 'l':
			rc = pz_buf_addf(&listen, "%s%s", listen.len ? " " : "",
					 optarg);
			break;
		case 's':
			eq = strchr(optarg, '=');
			if (!eq) {
				snprintf(err, sizeof(err), "--set needs "
					 "KEY=VALUE");
				rc = PZ_EINVAL;
				break;
			}
			*eq = '\0';
			rc = pz_conf_set(&d->conf, optarg, eq + 1, err,
					 sizeof(err));
			*eq = '=';
			break;
		default:
			break;
		}
		if (key && rc == PZ_OK)
			rc = pz_conf_set(&d->conf, key, optarg, err,
					 sizeof(err));
	}
	if (rc == PZ_OK && listen.len)
		rc = pz_conf_set(&d->conf, "http.listen", listen.data, err,
				 sizeof(err));
	pz_buf_free(&listen);
	if (rc != PZ_OK)
		fprintf(stderr, "plazad: %s\n", err);
	return rc;
}

static int load_config(struct daemon *d, int argc, char **argv,
		       const char **test_path, bool *verify_log)
{
	const char *path = NULL;
	char err[512];
	int opt, rc;

	*test_path = NULL;
	*verify_log = false;
	opterr = 1;
	while ((opt = getopt_long(argc, argv, short_opts, long_opts, NULL)) !=
	       -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 't': *test_path = optarg; break;
		case 'V':
			printf("plazad %s\n", PZ_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		case OPT_CONFIG_DOC:
			pz_conf_markdown(stdout);
			exit(0);
		case OPT_VERIFY_LOG:
			*verify_log = true;
			break;
		case '?':
			usage(stderr);
			return PZ_EINVAL;
		default:
			break;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "plazad: unexpected argument '%s'\n",
			argv[optind]);
		return PZ_EINVAL;
	}
	if (*test_path)
		path = *test_path;
	d->conf_path = path;
	rc = pz_conf_init(&d->conf);
	if (rc == PZ_OK && path) {
		rc = pz_conf_load(&d->conf, path, err, sizeof(err));
		if (rc != PZ_OK)
			fprintf(stderr, "plazad: %s\n", err);
	}
	if (rc == PZ_OK)
		rc = apply_args(d, argc, argv);
	if (rc == PZ_OK) {
		rc = pz_conf_finish(&d->conf, err, sizeof(err));
		if (rc != PZ_OK)
			fprintf(stderr, "plazad: %s\n", err);
	}
	return rc;
}

/* The admin's credential: <data>/admin.token is its source of truth; a
 * missing file gets a fresh secret. */
static int setup_admin(struct daemon *d)
{
	char path[4096], token[128] = "", *fresh = NULL;
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/admin.token", d->conf.data);
	f = fopen(path, "r");
	if (f) {
		if (!fgets(token, sizeof(token), f))
			token[0] = '\0';
		fclose(f);
		token[strcspn(token, "\r\n")] = '\0';
	}
	if (!token[0]) {
		fresh = pz_core_new_secret();
		if (!fresh)
			return PZ_ENOMEM;
		snprintf(token, sizeof(token), "%s\n", fresh);
		rc = pz_fs_write_atomic(path, token, 0600);
		if (rc != PZ_OK) {
			pz_log(PZ_ERROR, "plazad", "cannot write %s", path);
			pz_free(fresh);
			return rc;
		}
		token[strcspn(token, "\n")] = '\0';
		pz_log(PZ_INFO, "plazad", "new admin credential in %s", path);
	}
	rc = pz_core_set_admin_secret(d->core, token);
	explicit_bzero(token, sizeof(token));
	if (fresh) {
		explicit_bzero(fresh, strlen(fresh));
		pz_free(fresh);
	}
	return rc;
}

/* SIGHUP: reopen the log (for rotation) and apply the reloadable
 * settings of the configuration file again. */
static void reload(struct daemon *d)
{
	struct pz_conf fresh;
	char err[512];

	pz_log_open(d->conf.log_file);
	if (!d->conf_path)
		return;
	if (pz_conf_init(&fresh) != PZ_OK)
		return;
	if (pz_conf_load(&fresh, d->conf_path, err, sizeof(err)) != PZ_OK) {
		pz_log(PZ_WARN, "plazad", "SIGHUP: %s; keeping the running "
		       "settings", err);
	} else {
		/* Said before the change, at a level the new one may hide. */
		pz_log(PZ_WARN, "plazad", "SIGHUP: log.level is %s",
		       fresh.log_level);
		pz_log_set_level(fresh.log_level);
	}
	pz_conf_free(&fresh);
}

static void on_signal(void *ud, int fd, unsigned ev)
{
	struct daemon *d = ud;
	struct signalfd_siginfo si;

	(void)ev;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			reload(d);
			continue;
		}
		pz_log(PZ_INFO, "plazad", "signal %u: shutting down",
		       si.ssi_signo);
		pz_loop_stop(d->loop);
	}
}

static int setup_signals(struct daemon *d)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	d->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sigfd < 0)
		return PZ_EIO;
	return pz_loop_io_add(d->loop, d->sigfd, PZ_IO_READ, on_signal, d);
}

/* "http://host:port" with the bound port; wildcard hosts become the
 * loopback address (the operator configures the public name later). */
static int http_poa(struct daemon *d, const char *addr, int port)
{
	const char *colon = addr[0] == '[' ? strchr(addr, ']') :
			    strrchr(addr, ':');
	int n = colon ? (int)(colon - addr) + (addr[0] == '[') : 0;

	if (n == 0 || !strncmp(addr, "0.0.0.0", 7))
		return pz_buf_addf(&d->poa, "%shttp://127.0.0.1:%d",
				   d->poa.len ? " " : "", port);
	if (!strncmp(addr, "[::]", 4))
		return pz_buf_addf(&d->poa, "%shttp://[::1]:%d",
				   d->poa.len ? " " : "", port);
	return pz_buf_addf(&d->poa, "%shttp://%.*s:%d", d->poa.len ? " " : "",
			   n, addr, port);
}

/* The BSF (docs/bootstrap.md) when boot.bsf is on; its name defaults to
 * the SP-ID. */
static int start_bsf(struct daemon *d)
{
	struct pz_bsf_conf bc = { 0 };
	const char *naf;
	int rc;

	if (!d->conf.boot_bsf)
		return PZ_OK;
	bc.name = *d->conf.boot_bsf_name ? d->conf.boot_bsf_name :
		  d->conf.sp_id;
	bc.lifetime_s = d->conf.boot_lifetime;
	bc.challenge_s = 300;
	bc.max_pending = 4096;
	rc = pz_bsf_new(&bc, d->core, &d->bsf);
	if (rc == PZ_EINVAL)
		fprintf(stderr, "plazad: boot.bsf_name '%s' is not a host "
			"name\n", bc.name);
	else if (rc == PZ_OK)
		pz_log(PZ_INFO, "plazad", "BSF %s on /.plaza/bsf/ub", bc.name);
	if (rc != PZ_OK)
		return rc;
	naf = *d->conf.boot_naf_fqdn ? d->conf.boot_naf_fqdn : d->conf.sp_id;
	rc = pz_naf_new(naf, d->bsf, d->core, &d->naf);
	if (rc == PZ_EINVAL)
		fprintf(stderr, "plazad: boot.naf_fqdn '%s' is not usable in "
			"a NAF_Id\n", naf);
	else if (rc == PZ_OK)
		pz_log(PZ_INFO, "plazad", "NAF %s: DTLS-PSK identities "
		       PZ_NAF_PREFIX "<B-TID>", naf);
	return rc;
}

static int start_http(struct daemon *d)
{
	struct pz_http_opts o = { 0 };
	const char *p = d->conf.http_listen;
	char addr[128];
	int rc, port;

	o.max_body = (size_t)d->conf.http_max_body;
	o.max_conns = (unsigned)d->conf.http_max_conns;
	o.timeout_s = (unsigned)d->conf.http_timeout;
	o.log_public = d->conf.trust_public;
	o.bsf = d->bsf;
	o.limits = pz_codec_default_limits;
	o.limits.max_bytes = (size_t)d->conf.http_max_body;
	o.limits.max_depth = (int)d->conf.json_depth;
	rc = pz_http_new(d->loop, d->core, &o, &d->http);
	while (rc == PZ_OK && *p) {
		size_t n = strcspn(p, " ,");

		if (n && n < sizeof(addr)) {
			memcpy(addr, p, n);
			addr[n] = '\0';
			rc = pz_http_listen(d->http, addr, &port);
			if (rc == PZ_EINVAL)
				fprintf(stderr, "plazad: bad listen address "
					"'%s'\n", addr);
			if (rc == PZ_OK)
				rc = http_poa(d, addr, port);
			if (rc == PZ_OK) {
				rc = pz_buf_addf(&d->ports, "http %d\n", port);
				printf("plazad: oneM2M HTTP API on %s port %d "
				       "(CSE /%s, CSEBase '%s')\n", addr, port,
				       d->conf.cse_id, d->conf.cse_name);
			}
		}
		p += n;
		while (*p == ' ' || *p == ',')
			p++;
	}
	if (rc == PZ_OK)
		rc = pz_core_set_poa(d->core, d->poa.data ? d->poa.data : "");
	return rc;
}

/* Each address of the space-separated list, in order. */
static int each_addr(const char *list, int (*fn)(struct daemon *d,
						  const char *addr, bool dtls),
		     struct daemon *d, bool dtls)
{
	char addr[128];
	int rc = PZ_OK;

	while (rc == PZ_OK && *list) {
		size_t n = strcspn(list, " ,");

		if (n >= sizeof(addr)) {
			fprintf(stderr, "plazad: address too long\n");
			return PZ_EINVAL;
		}
		if (n) {
			memcpy(addr, list, n);
			addr[n] = '\0';
			rc = fn(d, addr, dtls);
		}
		list += n;
		while (*list == ' ' || *list == ',')
			list++;
	}
	return rc;
}

static int coap_listen_one(struct daemon *d, const char *addr, bool dtls)
{
	int port, rc = pz_coap_listen(d->coap, addr, dtls, &port);

	if (rc == PZ_EINVAL)
		fprintf(stderr, "plazad: bad CoAP address '%s'\n", addr);
	if (rc != PZ_OK)
		return rc;
	printf("plazad: oneM2M %s API on %s port %d\n", dtls ? "CoAP/DTLS" :
	       "CoAP", addr, port);
	return pz_buf_addf(&d->ports, "%s %d\n", dtls ? "coaps" : "coap",
			   port);
}

static int start_coap(struct daemon *d)
{
	struct pz_coap_opts o = { 0 };
	int rc;

	if (!*d->conf.coap_listen && !*d->conf.coaps_listen)
		return PZ_OK;
	o.plain_allowed = d->conf.coap_plain_allowed;
	o.max_body = (size_t)d->conf.coap_max_body;
	o.session_timeout = (unsigned)d->conf.coap_session_timeout;
	o.naf = d->naf;
	o.limits = pz_codec_default_limits;
	o.limits.max_bytes = (size_t)d->conf.coap_max_body;
	o.limits.max_depth = (int)d->conf.json_depth;
	rc = pz_coap_new(d->loop, d->core, &o, &d->coap);
	if (rc == PZ_OK)
		rc = each_addr(d->conf.coap_listen, coap_listen_one, d, false);
	if (rc == PZ_OK)
		rc = each_addr(d->conf.coaps_listen, coap_listen_one, d, true);
	return rc;
}

/* The MQTT binding, when a broker is configured; it connects in the
 * background (a broker that is down does not stop plazad). */
static int start_mqtt(struct daemon *d)
{
	struct pz_mqtt_opts o = { 0 };
	int rc;

	if (!*d->conf.mqtt_broker)
		return PZ_OK;
	o.broker = d->conf.mqtt_broker;
	o.cse_id = d->conf.cse_id;
	o.client_id = d->conf.mqtt_client_id;
	o.prefix = d->conf.mqtt_prefix;
	o.username = d->conf.mqtt_username;
	o.password = d->conf.mqtt_password;
	o.tls_ca = d->conf.mqtt_tls_ca;
	o.tls_cert = d->conf.mqtt_tls_cert;
	o.tls_key = d->conf.mqtt_tls_key;
	o.keepalive = (int)d->conf.mqtt_keepalive;
	o.trust_topic = d->conf.mqtt_trust_topic;
	o.max_payload = (size_t)d->conf.mqtt_max_payload;
	o.dedup_ms = d->conf.mqtt_dedup_s * 1000;
	o.dedup_max = (size_t)d->conf.mqtt_dedup_max;
	o.notify_timeout_ms = (long)d->conf.notify_timeout;
	o.limits = pz_codec_default_limits;
	o.limits.max_bytes = (size_t)d->conf.mqtt_max_payload;
	o.limits.max_depth = (int)d->conf.json_depth;
	rc = pz_mqtt_new(d->loop, d->core, &o, &d->mqtt);
	if (rc == PZ_OK)
		rc = pz_core_add_sender(d->core, "mqtt", pz_mqtt_send, d->mqtt);
	if (rc == PZ_OK)
		printf("plazad: oneM2M MQTT binding via broker %s\n",
		       d->conf.mqtt_broker);
	return rc;
}

/* The trust log on the open store; a log that does not match its
 * signed heads stops plazad here, loudly. */
static int open_tlog(struct daemon *d)
{
	char err[512];
	int rc = pz_tlog_open(d->store, d->conf.trust_key, &d->tlog, err,
			      sizeof(err));

	if (rc == PZ_ECORRUPT)
		pz_log(PZ_ERROR, "plazad", "THE TRUST LOG DOES NOT MATCH ITS "
		       "SIGNED HEADS: %s; run plazad --verify-log, restore the "
		       "store from a backup, and tell everyone who relies on "
		       "the log", err);
	else if (rc != PZ_OK)
		pz_log(PZ_ERROR, "plazad", "cannot open the trust log (key %s):"
		       " %s", d->conf.trust_key, err[0] ? err :
		       pz_strerror(rc));
	return rc;
}

/* A slice of the trust log's cache warm-up, between other work: 512
 * lookups take a few milliseconds. */
static void warm_tick(void *ud)
{
	struct daemon *d = ud;
	bool done = false;
	int rc = pz_tlog_warm(d->tlog, 512, &done);

	if (rc != PZ_OK)
		pz_log(PZ_WARN, "plazad", "trust log cache warm-up stopped: %s",
		       pz_strerror(rc));
	else if (!done)
		pz_loop_timer_start(d->loop, &d->warm, 0);
	else
		pz_log(PZ_DEBUG, "plazad", "trust log cache warm in %lld ms",
		       (long long)(pz_time_mono_ms() - d->warm_start));
}

static void verify_progress(void *ud, uint64_t done, uint64_t total)
{
	(void)ud;
	fprintf(stderr, "plazad: verified %llu of %llu entries\n",
		(unsigned long long)done, (unsigned long long)total);
}

/* plazad --verify-log: check everything, say what, exit 0 or 1. */
static int verify_log(struct daemon *d)
{
	struct pz_store_opts so = { 0 };
	struct pz_store_head h;
	char err[512] = "";
	int rc;

	const char *db = strncmp(d->conf.store, "sqlite:", 7) ? d->conf.store :
			 d->conf.store + 7;

	if (pz_log_open("-") != PZ_OK)
		return 1;
	pz_log_set_level("warn");
	/* Checking must not create: no store or key means nothing to check. */
	if (access(db, F_OK) != 0 || access(d->conf.trust_key, F_OK) != 0) {
		fprintf(stderr, "plazad: no trust log to verify: %s: %s\n",
			access(db, F_OK) ? db : d->conf.trust_key,
			strerror(errno));
		pz_log_close();
		return 1;
	}
	rc = pz_store_open(d->conf.store, &so, &d->store);
	if (rc != PZ_OK) {
		fprintf(stderr, "plazad: cannot open the store %s: %s\n",
			d->conf.store, pz_strerror(rc));
		return 1;
	}
	rc = pz_tlog_open(d->store, d->conf.trust_key, &d->tlog, err,
			  sizeof(err));
	if (rc == PZ_OK)
		rc = pz_tlog_verify(d->tlog, verify_progress, NULL, err,
				    sizeof(err));
	if (rc == PZ_OK) {
		if (pz_tlog_head(d->tlog, false, &h) != PZ_OK)
			h.size = 0;
		printf("trust log intact: %llu entries, %llu covered by the "
		       "newest signed head\n",
		       (unsigned long long)pz_tlog_size(d->tlog),
		       (unsigned long long)h.size);
	} else {
		printf("TRUST LOG CHECK FAILED: %s\n", err[0] ? err :
		       pz_strerror(rc));
	}
	pz_tlog_free(d->tlog);
	pz_store_close(d->store);
	pz_log_close();
	return rc == PZ_OK ? 0 : 1;
}

static int start(struct daemon *d)
{
	struct pz_core_conf cc = { 0 };
	struct pz_store_opts so = { 0 };
	int rc;

	if (pz_log_open(d->conf.log_file) != PZ_OK) {
		fprintf(stderr, "plazad: cannot open log %s\n",
			d->conf.log_file);
		return PZ_EIO;
	}
	pz_log_set_level(d->conf.log_level);
	if (pz_fs_mkdir_p(d->conf.data, 0700) != PZ_OK) {
		fprintf(stderr, "plazad: cannot create data directory %s: %s\n",
			d->conf.data, strerror(errno));
		return PZ_EIO;
	}
	rc = pz_loop_new(&d->loop);
	if (rc == PZ_OK)
		rc = setup_signals(d);
	so.sync_full = !strcmp(d->conf.store_sync, "full");
	so.cache_kb = d->conf.store_cache_kb;
	if (rc == PZ_OK)
		rc = pz_store_open(d->conf.store, &so, &d->store);
	if (rc == PZ_OK)
		rc = open_tlog(d);
	if (rc == PZ_OK) {
		pz_loop_timer_init(&d->warm, warm_tick, d);
		d->warm_start = pz_time_mono_ms();
		rc = pz_loop_timer_start(d->loop, &d->warm, 0);
	}
	cc.tlog = d->tlog;
	cc.cse_id = d->conf.cse_id;
	cc.cse_name = d->conf.cse_name;
	cc.sp_id = d->conf.sp_id;
	cc.admin = d->conf.admin;
	cc.trust_origin = d->conf.trust_origin;
	cc.open_registration = d->conf.reg_open;
	cc.allowed_aes = d->conf.reg_allowed;
	cc.max_results = d->conf.max_results;
	cc.max_depth = d->conf.max_depth;
	cc.default_lifetime_s = d->conf.lifetime;
	cc.verify_timeout_ms = d->conf.notify_timeout;
	cc.notify_queue_max = d->conf.notify_queue;
	cc.commit_interval_us = d->conf.commit_interval_us;
	if (rc == PZ_OK)
		rc = pz_core_new(&cc, d->store, d->loop, &d->core);
	if (rc == PZ_OK)
		rc = setup_admin(d);
	if (rc == PZ_OK)
		rc = pz_httpc_new(d->loop, (long)d->conf.notify_timeout,
				  &d->httpc);
	if (rc == PZ_OK)
		rc = pz_core_add_sender(d->core, "http", pz_httpc_send,
					d->httpc);
	if (rc == PZ_OK)
		rc = pz_core_add_sender(d->core, "https", pz_httpc_send,
					d->httpc);
	if (rc == PZ_OK)
		rc = start_bsf(d);
	if (rc == PZ_OK)
		rc = start_http(d);
	if (rc == PZ_OK)
		rc = start_coap(d);
	if (rc == PZ_OK)
		rc = start_mqtt(d);
	/* The portfile is written once every listener is bound. */
	if (rc == PZ_OK && *d->conf.portfile)
		rc = pz_fs_write_atomic(d->conf.portfile, d->ports.data ?
					d->ports.data : "", 0644);
	fflush(stdout);
	if (rc == PZ_OK) {
		if (d->conf.trust_origin)
			pz_log(PZ_WARN, "plazad", "auth.trust_origin is on: "
			       "X-M2M-Origin is believed without a credential; "
			       "never use this in production");
		pz_log(PZ_INFO, "plazad", "plazad %s ready: CSE /%s, store %s, "
		       "admin token in %s/admin.token", PZ_VERSION,
		       d->conf.cse_id, d->conf.store, d->conf.data);
	}
	return rc;
}

static void stop(struct daemon *d)
{
	struct pz_core_stats st;

	if (d->core) {
		pz_core_stats(d->core, &st);
		pz_log(PZ_INFO, "plazad", "served %llu requests in %llu write "
		       "batches; notifications: %llu sent, %llu failed, %llu "
		       "dropped", (unsigned long long)st.requests,
		       (unsigned long long)st.batches,
		       (unsigned long long)st.notify_sent,
		       (unsigned long long)st.notify_failed,
		       (unsigned long long)st.notify_dropped);
	}
	/* Commit and answer what is in flight, then take things down. */
	if (d->core)
		pz_core_flush(d->core);
	if (d->http)
		pz_http_drain(d->http);
	if (d->coap)
		pz_coap_drain(d->coap);
	if (d->mqtt)
		pz_mqtt_drain(d->mqtt);
	pz_core_free(d->core);
	if (d->tlog)
		pz_loop_timer_stop(d->loop, &d->warm);
	pz_tlog_free(d->tlog);
	pz_httpc_free(d->httpc);
	pz_coap_free(d->coap);
	pz_mqtt_free(d->mqtt);
	pz_http_free(d->http);
	pz_naf_free(d->naf);
	pz_bsf_free(d->bsf);
	pz_store_close(d->store);
	if (d->sigfd >= 0) {
		pz_loop_io_del(d->loop, d->sigfd);
		close(d->sigfd);
	}
	pz_loop_free(d->loop);
	pz_buf_free(&d->ports);
	pz_buf_free(&d->poa);
	pz_conf_free(&d->conf);
	pz_log_close();
}

int main(int argc, char **argv)
{
	struct daemon d;
	const char *test_path;
	bool verify;
	int rc;

	memset(&d, 0, sizeof(d));
	d.sigfd = -1;
	pz_buf_init(&d.ports, 0);
	pz_buf_init(&d.poa, 0);
	json_set_alloc_funcs(pz_malloc, pz_free);
	rc = load_config(&d, argc, argv, &test_path, &verify);
	if (test_path) {
		if (rc == PZ_OK)
			printf("%s: configuration OK\n", test_path);
		pz_conf_free(&d.conf);
		return rc == PZ_OK ? 0 : 1;
	}
	if (rc != PZ_OK) {
		pz_conf_free(&d.conf);
		return 2;
	}
	if (verify) {
		rc = verify_log(&d);
		pz_conf_free(&d.conf);
		return rc;
	}
	rc = start(&d);
	if (rc == PZ_OK)
		rc = pz_loop_run(d.loop);
	else
		fprintf(stderr, "plazad: could not start: %s\n",
			pz_strerror(rc));
	stop(&d);
	return rc == PZ_OK ? 0 : 1;
}
