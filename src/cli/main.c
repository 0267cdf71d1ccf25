/*
 * main.c - plaza, the operator's command-line tool: global options, the
 * option walker the commands share, dispatch, usage and exit status.
 *
 * plaza talks to plazad over the oneM2M HTTP binding (TS-0009): one
 * blocking libcurl request at a time on one reused handle, every request
 * authenticated as an originator with a bearer token (http.c).  Besides the
 * API commands (status, ae, get, create, update, delete, discover) it
 * writes and shows plazad's configuration (init, config show) from the
 * table in pz_conf.h, without talking to plazad, and receives
 * notifications (listen) for trying subscriptions out.
 *
 * Errors are pz_err inside; main turns them into the exit status:
 *   0 success, 1 a oneM2M error or another failure (PZ_EREQ and the rest),
 *   2 a usage error or bad configuration (PZ_EINVAL, PZ_ECONFIG),
 *   3 plazad cannot be reached (PZ_EAGAIN: "try again later").
 * Whoever detects an error prints it to stderr once, prefixed "plaza: ".
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plaza/pz_err.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_version.h"
#include "cli_int.h"

#define CLI_DEFAULT_URL "http://127.0.0.1:8080"
#define CLI_DEFAULT_ORIGIN "CAdmin"
#define CLI_DEFAULT_DATA "plaza-data"

/* --- messages ----------------------------------------------------------- */

int cli__say(int rc, const char *fmt, ...)
{
	va_list ap;

	fputs("plaza: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return rc;
}

static const char cli_usage_text[] =
"usage: plaza [global options] COMMAND [arguments]\n"
"\n"
"commands:\n"
"  status                         the CSE, and whether plazad answers\n"
"  ae list                        registered AEs\n"
"  ae show AEID|PATH              one AE\n"
"  ae register NAME --api APP-ID [--poa URL]... [--ae-id ID]\n"
"                                 register an AE; prints its token once\n"
"  ae delete AEID|PATH            deregister an AE\n"
"  get PATH [--rcn N] [--param K=V]...\n"
"                                 retrieve a resource\n"
"  create PATH TYPE [K=V]... [--file F | -]\n"
"                                 create a resource below PATH\n"
"  update PATH [K=V]... [--file F | -]\n"
"                                 change attributes of a resource\n"
"  delete PATH                    delete a resource and its children\n"
"  discover PATH [filters]        addresses below PATH, one per line\n"
"      --type T  --label L  --limit N  --offset N  --level N  --or\n"
"      --created-after TS  --created-before TS  --modified-since TS\n"
"      --unmodified-since TS  --expires-after TS  --expires-before TS\n"
"      --content-type CTY  --attr K=V  --unstructured  --param K=V\n"
"  listen [ADDR:]PORT [--answer RSC] [--count N]\n"
"                                 receive notifications on ADDR:PORT\n"
"                                 (127.0.0.1 unless given; 0: any port)\n"
"                                 and print them, one a line\n"
"  psk add IDENTITY [--originator ORIG] [--key HEX]\n"
"                                 a DTLS pre-shared key (admin); without\n"
"                                 --key plazad makes one, shown once\n"
"  psk list                       DTLS identities (never their keys)\n"
"  psk revoke IDENTITY            forget an identity\n"
"  subscriber add IMPI --k HEX --opc HEX [--sqn N] [--amf HEX]\n"
"                 [--device URN]  a BSF subscriber (admin); K and OPc\n"
"                                 are never shown back\n"
"  subscriber list                the BSF's subscribers (no secrets)\n"
"  subscriber remove IMPI         remove one, and its B-TIDs\n"
"  id add URN [--ae-id ID] [--node-id ID] [--app-id ID] [--owner ORIG]\n"
"         [--key-fp TYPE:sha256:HEX]\n"
"                                 register a device in the trust\n"
"                                 repository (admin)\n"
"  id show ID                     the record of any identifier or alias\n"
"  id list                        every identity: id, kind, status\n"
"  id revoke ID [--reason TEXT]   its keys stop working (admin)\n"
"  id decommission ID [--reason TEXT]\n"
"                                 retire it for good (admin)\n"
"  log head [--key FILE]          the newest signed tree head, checked\n"
"  log get N                      trust-log entry N\n"
"  log prove ID|N [--size N]      a proof bundle (JSON, for plaza-verify)\n"
"  log verify [--key FILE] [--since HEAD.json] [--save-head FILE]\n"
"                                 recompute the whole log here and check\n"
"                                 it against the signed head (and an\n"
"                                 older head it must extend)\n"
"  init DIR [--force]             write DIR/plazad.conf\n"
"  config show [FILE]             plazad's effective settings\n"
"\n"
"global options:\n"
"  --url URL      plazad's address ($PLAZA_URL, " CLI_DEFAULT_URL ")\n"
"  --via mqtt://HOST:PORT[/CSE-ID]  send oneM2M requests through an\n"
"                 MQTT broker instead ($PLAZA_VIA; CSE-ID plaza-in)\n"
"  --origin ORIG  originator ($PLAZA_ORIGIN, " CLI_DEFAULT_ORIGIN ")\n"
"  --token TOKEN  credential ($PLAZA_TOKEN, else the first line of\n"
"                 DATA/admin.token)\n"
"  --data DIR     plazad's data directory ($PLAZA_DATA, ./"
CLI_DEFAULT_DATA ")\n"
"  --json         print JSON instead of tables\n"
"  -h, --help     this text\n"
"  -V, --version  plaza's version\n"
"\n"
"PATH  plaza/ae1/cnt (CSE-relative), /plaza-in/plaza/ae1 (SP-relative),\n"
"      //sp.example/plaza-in/plaza/ae1 (absolute) or a resource ID\n"
"TYPE  ae, cnt|container, cin|contentInstance, sub|subscription, acp,\n"
"      grp|group, or a number\n"
"K=V   V is taken as JSON when it is valid JSON (5, true, [\"a\"],\n"
"      {\"x\":1}), otherwise as a string\n"
"exit  0 success, 1 oneM2M error or other failure, 2 usage error,\n"
"      3 plazad not reachable\n";

int cli__usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("plaza: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see plaza --help)\n", stderr);
	return PZ_EINVAL;
}

/* --- arguments ---------------------------------------------------------- */

/*
 * opt_value - does argv[*i] name option opt ("--x VALUE" or "--x=VALUE")?
 * Returns 1 and sets *val (advancing *i past a separate value), 0 if it is
 * another argument, -1 if the value is missing (reported).
 */
static int opt_value(int argc, char **argv, int *i, const char *opt,
		     const char **val)
{
	const char *a = argv[*i];
	size_t n = strlen(opt);

	if (strncmp(a, opt, n))
		return 0;
	if (a[n] == '=') {
		*val = a + n + 1;
		return 1;
	}
	if (a[n])
		return 0;
	if (*i + 1 >= argc) {
		cli__usage_error("%s needs a value", opt);
		return -1;
	}
	*val = argv[++*i];
	return 1;
}

/* The global options that take a value, and where they go. */
static const struct {
	const char *name;
	size_t off;
} global_opts[] = {
	{ "--url", offsetof(struct cli, url) },
	{ "--via", offsetof(struct cli, via) },
	{ "--origin", offsetof(struct cli, origin) },
	{ "--token", offsetof(struct cli, token) },
	{ "--data", offsetof(struct cli, data) },
};

/* One global option at argv[*i]: 1 taken, 0 not global, -1 error. */
static int cli_global(struct cli *c, int argc, char **argv, int *i)
{
	const char *a = argv[*i], *val;
	int m;

	if (!strcmp(a, "--json")) {
		c->json = true;
		return 1;
	}
	if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
		c->help = true;
		return 1;
	}
	if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
		c->version = true;
		return 1;
	}
	for (size_t k = 0; k < sizeof(global_opts) / sizeof(global_opts[0]);
	     k++) {
		m = opt_value(argc, argv, i, global_opts[k].name, &val);
		if (m == 1)
			*(const char **)((char *)c + global_opts[k].off) = val;
		if (m != 0)
			return m;
	}
	return 0;
}

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

/*
 * cli_init - read the global options (anywhere before "--") and the
 * environment; the rest of argv becomes c->argc/argv.  PZ_OK, PZ_EINVAL
 * (reported), PZ_ENOMEM.  Free with cli_free even on failure.
 */
static int cli_init(struct cli *c, int argc, char **argv)
{
	bool ended = false;
	int rc = PZ_OK, m;

	memset(c, 0, sizeof(*c));
	c->argv = pz_calloc((size_t)argc + 1, sizeof(*c->argv));
	if (!c->argv)
		return cli__say(PZ_ENOMEM, "out of memory");
	for (int i = 1; i < argc; i++) {
		m = ended ? 0 : cli_global(c, argc, argv, &i);
		if (m < 0) {
			rc = PZ_EINVAL;
			goto out;
		}
		if (m == 0) {
			ended = ended || !strcmp(argv[i], "--");
			c->argv[c->argc++] = argv[i];
		}
	}
	c->url = c->url ? c->url : env_or("PLAZA_URL", CLI_DEFAULT_URL);
	c->via = c->via ? c->via : env_or("PLAZA_VIA", NULL);
	c->origin = c->origin ? c->origin :
		    env_or("PLAZA_ORIGIN", CLI_DEFAULT_ORIGIN);
	c->data = c->data ? c->data : env_or("PLAZA_DATA", CLI_DEFAULT_DATA);
	if (!c->token)
		c->token = env_or("PLAZA_TOKEN", NULL);
	c->token_done = c->token != NULL;
	if (c->token && !*c->token)
		c->token = NULL;  /* --token "": send no credential */
out:
	return rc;
}

static void cli_free(struct cli *c)
{
	pz_free(c->argv);
	memset(c, 0, sizeof(*c));
}

/* One "--name" argument at argv[*i] against opts: 1 taken (fn called),
 * 0 unknown, -1 missing value (reported); *rc gets fn's result. */
static int args_option(const struct cli *c, int *i, const struct copt *opts,
		       copt_fn fn, void *ud, int *rc)
{
	const char *a = c->argv[*i], *val;
	int m = 0;

	for (const struct copt *o = opts; o && o->name && !m; o++) {
		if (!o->arg && !strcmp(a, o->name)) {
			m = 1;
			*rc = fn(ud, o->id, "");
		} else if (o->arg) {
			m = opt_value(c->argc, c->argv, i, o->name, &val);
			if (m == 1)
				*rc = fn(ud, o->id, val);
		}
	}
	return m;
}

int cli__args(const struct cli *c, int from, const struct copt *opts,
	      copt_fn fn, void *ud)
{
	bool ended = false;
	int rc = PZ_OK, m;

	for (int i = from; i < c->argc && rc == PZ_OK; i++) {
		const char *a = c->argv[i];

		if (!ended && !strcmp(a, "--")) {
			ended = true;
			continue;
		}
		if (ended || strncmp(a, "--", 2)) {
			rc = fn(ud, 0, a);
			continue;
		}
		m = args_option(c, &i, opts, fn, ud, &rc);
		if (m < 0)
			rc = PZ_EINVAL;
		else if (m == 0)
			rc = cli__usage_error("unknown option '%s'", a);
	}
	return rc;
}

int cli__arg_int(const char *opt, const char *v, long long lo, long long hi,
		 long long *out)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (!isdigit((unsigned char)*v) || *end || errno || n < lo ||
	    n > hi)
		return cli__usage_error("%s needs a number from %lld to %lld, "
					"not '%s'", opt, lo, hi, v);
	*out = n;
	return PZ_OK;
}

int cli__one_arg(void *ud, int id, const char *val)
{
	const char **out = ud;

	(void)id;
	if (*out)
		return cli__usage_error("unexpected argument '%s'", val);
	*out = val;
	return PZ_OK;
}

int cli__no_arg(void *ud, int id, const char *val)
{
	(void)ud;
	(void)id;
	return cli__usage_error("unexpected argument '%s'", val);
}

/* --- main --------------------------------------------------------------- */

static const struct {
	const char *name;
	int (*run)(struct cli *c);
} commands[] = {
	{ "status", cli__cmd_status }, { "ae", cli__cmd_ae },
	{ "get", cli__cmd_get }, { "create", cli__cmd_create },
	{ "update", cli__cmd_update }, { "delete", cli__cmd_delete },
	{ "discover", cli__cmd_discover }, { "listen", cli__cmd_listen },
	{ "init", cli__cmd_init }, { "config", cli__cmd_config },
	{ "psk", cli__cmd_psk }, { "log", cli__cmd_log },
	{ "id", cli__cmd_id }, { "subscriber", cli__cmd_sub },
};

static int cli_run(struct cli *c)
{
	if (c->help) {
		fputs(cli_usage_text, stdout);
		return PZ_OK;
	}
	if (c->version) {
		printf("plaza %s\n", PZ_VERSION);
		return PZ_OK;
	}
	if (c->argc == 0) {
		fputs(cli_usage_text, stderr);
		return PZ_EINVAL;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(c->argv[0], commands[i].name))
			return commands[i].run(c);
	return cli__usage_error("unknown command '%s'", c->argv[0]);
}

/* The exit status for a command's pz_err (see the top of the file). */
static int cli_exit(int rc)
{
	switch (rc) {
	case PZ_OK:
		return 0;
	case PZ_EINVAL:
	case PZ_ECONFIG:
		return 2;
	case PZ_EAGAIN:
		return 3;
	default:
		return 1;
	}
}

int main(int argc, char **argv)
{
	struct cli c;
	int rc;

	json_set_alloc_funcs(pz_malloc, pz_free);
	if (cli__http_init() != PZ_OK)
		return cli_exit(cli__say(PZ_ENOMEM, "cannot initialise "
					 "libcurl"));
	rc = cli_init(&c, argc, argv);
	if (rc == PZ_OK)
		rc = cli_run(&c);
	cli__http_cleanup(&c);
	cli_free(&c);
	if (fflush(stdout) && rc == PZ_OK)
		rc = PZ_EIO;
	return cli_exit(rc);
}
