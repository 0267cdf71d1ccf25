/*
 * plaza.c - plaza, the operator's command-line tool.
 *
 * plaza talks to plazad over the oneM2M HTTP binding (TS-0009): one
 * blocking libcurl request at a time on one reused handle, every request
 * authenticated as an originator with a bearer token.  Besides the API
 * commands (status, ae, get, create, update, delete, discover) it writes
 * and shows plazad's configuration (init, config show) from the table in
 * pz_conf.h, without talking to plazad.
 *
 * Errors are pz_err inside; main turns them into the exit status:
 *   0 success, 1 a oneM2M error or another failure (PZ_EREQ and the rest),
 *   2 a usage error or bad configuration (PZ_EINVAL, PZ_ECONFIG),
 *   3 plazad cannot be reached (PZ_EAGAIN: "try again later").
 * Whoever detects an error prints it to stderr once, prefixed "plaza: ".
 */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plaza/pz_buf.h"
#include "plaza/pz_conf.h"
#include "plaza/pz_err.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_time.h"
#include "plaza/pz_version.h"

#define CLI_DEFAULT_URL "http://127.0.0.1:8080"
#define CLI_DEFAULT_ORIGIN "CAdmin"
#define CLI_DEFAULT_DATA "plaza-data"
#define CLI_MAX_BODY ((size_t)16 << 20)  /* largest answer accepted */
#define CLI_MAX_DOC ((size_t)16 << 20)   /* largest --file document */
#define CLI_MAX_URL 8192                 /* longest request URL */
#define CLI_MAX_HDR 512                  /* longest header value kept */
#define CLI_CONNECT_S 5L                 /* connect timeout */
#define CLI_TOTAL_S 30L                  /* whole-request timeout */

/* The run: global settings, the HTTP handle, the command's arguments. */
struct cli {
	const char *url;          /* plazad base URL (argv or environment) */
	const char *origin;       /* X-M2M-Origin */
	const char *token;        /* credential; NULL until looked up */
	const char *data;         /* data directory holding admin.token */
	bool json;                /* --json: raw JSON on stdout */
	bool help, version;       /* --help / --version seen */
	bool token_done;          /* token looked up (maybe not found) */
	char token_buf[256];      /* token read from admin.token */
	CURL *curl;               /* reused handle, owned; NULL until needed */
	unsigned long rqn;        /* request counter for X-M2M-RI */
	int argc;                 /* command and its arguments ... */
	char **argv;              /* ... global options removed; owned array,
				     borrowed strings */
};

/* One request to plazad. */
struct call {
	const char *method;       /* GET, POST, PUT, DELETE */
	const char *path;         /* oneM2M address in any scope */
	const char *query;        /* encoded "k=v&k=v" or NULL */
	int ty;                   /* Create: resource type, else 0 */
	const json_t *pc;         /* content or NULL; borrowed */
	const char *origin;       /* overrides cli->origin when set */
	bool anonymous;           /* send no credential (registration) */
};

/* plazad's answer. */
struct reply {
	long http;                /* HTTP status */
	int rsc;                  /* X-M2M-RSC, 0 when absent */
	char token[CLI_MAX_HDR];  /* X-Plaza-Token (AE registration) */
	char location[CLI_MAX_HDR];  /* Content-Location */
	bool too_big;             /* the body passed CLI_MAX_BODY */
	struct pz_buf body;       /* raw body, ceiling CLI_MAX_BODY */
	json_t *doc;              /* parsed body, owned; NULL if empty */
};

static void reply_init(struct reply *r)
{
	memset(r, 0, sizeof(*r));
	pz_buf_init(&r->body, CLI_MAX_BODY);
}

static void reply_clear(struct reply *r)
{
	pz_buf_free(&r->body);
	json_decref(r->doc);
	reply_init(r);
}

/* --- messages ------------------------------------------------------------ */

static int say(int rc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Print "plaza: message" on stderr and return rc, for `return say(...)`. */
static int say(int rc, const char *fmt, ...)
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
"  init DIR [--force]             write DIR/plazad.conf\n"
"  config show [FILE]             plazad's effective settings\n"
"\n"
"global options:\n"
"  --url URL      plazad's address ($PLAZA_URL, " CLI_DEFAULT_URL ")\n"
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

/* A usage error: the reason, a pointer to --help, PZ_EINVAL. */
static int usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("plaza: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see plaza --help)\n", stderr);
	return PZ_EINVAL;
}

/* --- tables -------------------------------------------------------------- */

/* Resource types: number, JSON root, short name, long name. */
static const struct ty_row {
	int ty;
	const char *root;
	const char *name;
	const char *long_name;
} ty_table[] = {
	{ 1, "m2m:acp", "acp", "accessControlPolicy" },
	{ 2, "m2m:ae", "ae", "AE" },
	{ 3, "m2m:cnt", "cnt", "container" },
	{ 4, "m2m:cin", "cin", "contentInstance" },
	{ 5, "m2m:cb", "cb", "CSEBase" },
	{ 9, "m2m:grp", "grp", "group" },
	{ 23, "m2m:sub", "sub", "subscription" },
};

#define TY_N (sizeof(ty_table) / sizeof(ty_table[0]))

static const struct ty_row *ty_by_num(long ty)
{
	for (size_t i = 0; i < TY_N; i++)
		if (ty_table[i].ty == ty)
			return &ty_table[i];
	return NULL;
}

/*
 * ty_parse - a type given as a name ("cnt", "container", case ignored) or a
 * number (1..65535) into *ty and, when plaza knows the type, *row (else
 * NULL).  PZ_OK or PZ_EINVAL (reported).
 */
static int ty_parse(const char *s, int *ty, const struct ty_row **row)
{
	char *end;
	long n;

	for (size_t i = 0; i < TY_N; i++) {
		if (!strcasecmp(s, ty_table[i].name) ||
		    !strcasecmp(s, ty_table[i].long_name)) {
			*ty = ty_table[i].ty;
			*row = &ty_table[i];
			return PZ_OK;
		}
	}
	errno = 0;
	n = strtol(s, &end, 10);
	if (!isdigit((unsigned char)*s) || *end || errno || n < 1 ||
	    n > 65535)
		return usage_error("unknown resource type '%s'", s);
	*ty = (int)n;
	*row = ty_by_num(n);
	return PZ_OK;
}

/* oneM2M response status codes (TS-0004) by name.  A copy of the table in
 * src/core/req.c, which lives in plaza_core; plaza links plaza_util only. */
static const struct {
	int rsc;
	const char *name;
} rsc_table[] = {
	{ 1000, "ACCEPTED" },
	{ 1001, "ACCEPTED_NON_BLOCKING_REQUEST_SYNC" },
	{ 1002, "ACCEPTED_NON_BLOCKING_REQUEST_ASYNC" },
	{ 2000, "OK" }, { 2001, "CREATED" }, { 2002, "DELETED" },
	{ 2004, "UPDATED" },
	{ 4000, "BAD_REQUEST" }, { 4001, "RELEASE_VERSION_NOT_SUPPORTED" },
	{ 4004, "NOT_FOUND" }, { 4005, "OPERATION_NOT_ALLOWED" },
	{ 4008, "REQUEST_TIMEOUT" }, { 4015, "UNSUPPORTED_MEDIA_TYPE" },
	{ 4101, "SUBSCRIPTION_CREATOR_HAS_NO_PRIVILEGE" },
	{ 4102, "CONTENTS_UNACCEPTABLE" },
	{ 4103, "ORIGINATOR_HAS_NO_PRIVILEGE" }, { 4105, "CONFLICT" },
	{ 4107, "SECURITY_ASSOCIATION_REQUIRED" },
	{ 4108, "INVALID_CHILD_RESOURCE_TYPE" },
	{ 4110, "GROUP_MEMBER_TYPE_INCONSISTENT" },
	{ 4117, "ORIGINATOR_HAS_ALREADY_REGISTERED" },
	{ 5000, "INTERNAL_SERVER_ERROR" }, { 5001, "NOT_IMPLEMENTED" },
	{ 5103, "TARGET_NOT_REACHABLE" }, { 5105, "RECEIVER_HAS_NO_PRIVILEGES" },
	{ 5106, "ALREADY_EXISTS" }, { 5203, "TARGET_NOT_SUBSCRIBABLE" },
	{ 5204, "SUBSCRIPTION_VERIFICATION_INITIATION_FAILED" },
	{ 5207, "NOT_ACCEPTABLE" }, { 6010, "MAX_NUMBER_OF_MEMBER_EXCEEDED" },
	{ 6023, "INVALID_ARGUMENTS" }, { 6024, "INSUFFICIENT_ARGUMENTS" },
};

static const char *rsc_name(int rsc)
{
	for (size_t i = 0; i < sizeof(rsc_table) / sizeof(rsc_table[0]); i++)
		if (rsc_table[i].rsc == rsc)
			return rsc_table[i].name;
	return "UNKNOWN";
}

/* Long names of the attributes plaza serves (TS-0004 short names). */
static const struct {
	const char *sn, *ln;
} attr_names[] = {
	{ "ty", "resourceType" }, { "ri", "resourceID" },
	{ "rn", "resourceName" }, { "pi", "parentID" },
	{ "ct", "creationTime" }, { "lt", "lastModifiedTime" },
	{ "et", "expirationTime" }, { "lbl", "labels" },
	{ "acpi", "accessControlPolicyIDs" }, { "at", "announceTo" },
	{ "aa", "announcedAttribute" }, { "st", "stateTag" },
	{ "cr", "creator" }, { "csi", "CSE-ID" }, { "cst", "cseType" },
	{ "srt", "supportedResourceType" },
	{ "srv", "supportedReleaseVersions" }, { "poa", "pointOfAccess" },
	{ "csz", "contentSerialization" }, { "nl", "nodeLink" },
	{ "ctm", "currentTime" }, { "api", "App-ID" }, { "aei", "AE-ID" },
	{ "apn", "appName" }, { "rr", "requestReachability" },
	{ "or", "ontologyRef" }, { "mni", "maxNrOfInstances" },
	{ "mbs", "maxByteSize" }, { "mia", "maxInstanceAge" },
	{ "cni", "currentNrOfInstances" }, { "cbs", "currentByteSize" },
	{ "li", "locationID" }, { "disr", "disableRetrieval" },
	{ "con", "content" }, { "cnf", "contentInfo" },
	{ "cs", "contentSize" }, { "conr", "contentRef" },
	{ "dgt", "dataGenerationTime" }, { "nu", "notificationURI" },
	{ "enc", "eventNotificationCriteria" },
	{ "nct", "notificationContentType" }, { "exc", "expirationCounter" },
	{ "bn", "batchNotify" }, { "ln", "latestNotify" },
	{ "su", "subscriberURI" }, { "nfu", "notificationForwardingURI" },
	{ "pn", "pendingNotification" }, { "nsp", "notificationStoragePriority" },
	{ "pv", "privileges" }, { "pvs", "selfPrivileges" },
	{ "mt", "memberType" }, { "mid", "memberIDs" },
	{ "mnm", "maxNrOfMembers" }, { "cnm", "currentNrOfMembers" },
	{ "mtv", "memberTypeValidated" }, { "csy", "consistencyStrategy" },
	{ "gn", "groupName" }, { "ch", "childResource" },
	{ "rrf", "resourceRef" },
};

static const char *attr_long(const char *sn)
{
	for (size_t i = 0; i < sizeof(attr_names) / sizeof(attr_names[0]); i++)
		if (!strcmp(attr_names[i].sn, sn))
			return attr_names[i].ln;
	return "";
}

/* --- output -------------------------------------------------------------- */

/*
 * safe_unit - the next character of s as it may reach a terminal: itself,
 * or an escape for a control character (C0, DEL, C1).  Values come from
 * devices; they must not drive the operator's terminal.  Writes the text
 * to out and returns the bytes of s consumed (0 at the end of s).
 */
static size_t safe_unit(const char *s, char out[8])
{
	const unsigned char *p = (const unsigned char *)s;

	out[0] = (char)*p;
	out[1] = '\0';
	if (!*p)
		return 0;
	if (*p == '\n' || *p == '\t') {
		snprintf(out, 8, "\\%c", *p == '\n' ? 'n' : 't');
	} else if (*p < 0x20 || *p == 0x7f) {
		snprintf(out, 8, "\\x%02x", *p);
	} else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
		snprintf(out, 8, "\\u%04x", p[1]);
		return 2;
	}
	return 1;
}

/* safe_add - append s to b with control characters escaped. */
static int safe_add(struct pz_buf *b, const char *s)
{
	char u[8];
	size_t n;
	int rc = PZ_OK;

	while (rc == PZ_OK && (n = safe_unit(s, u)) > 0) {
		rc = pz_buf_adds(b, u);
		s += n;
	}
	return rc;
}

/* safe_width - the columns s takes once escaped (UTF-8 aware enough for
 * aligning tables). */
static int safe_width(const char *s)
{
	char u[8];
	size_t n;
	int w = 0;

	while ((n = safe_unit(s, u)) > 0) {
		for (const char *q = u; *q; q++)
			w += ((unsigned char)*q & 0xc0) != 0x80;
		s += n;
	}
	return w;
}

/* put_safe - print s escaped, padded with spaces to width columns. */
static void put_safe(const char *s, int width)
{
	int pad = width - safe_width(s);
	char u[8];
	size_t n;

	while ((n = safe_unit(s, u)) > 0) {
		fputs(u, stdout);
		s += n;
	}
	printf("%*s", pad > 0 ? pad : 0, "");
}

/* print_json - doc (NULL prints nothing) on stdout, indented, members in
 * the order received.  PZ_OK or PZ_ENOMEM (reported). */
static int print_json(const json_t *doc)
{
	if (!doc)
		return PZ_OK;
	if (json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER))
		return say(PZ_ENOMEM, "cannot print the JSON document");
	fputc('\n', stdout);
	return PZ_OK;
}

/* real_text - d with the fewest digits (up to 17) that read back as d:
 * 21.7, not 21.699999999999999. */
static int real_text(double d, struct pz_buf *out)
{
	char num[40];

	for (int prec = 15; prec <= 17; prec++) {
		snprintf(num, sizeof(num), "%.*g", prec, d);
		if (strtod(num, NULL) == d)
			break;
	}
	return pz_buf_adds(out, num);
}

/*
 * value_text - one value as readable text in out: strings bare, lists of
 * scalars comma-separated, anything else compact JSON.  PZ_OK, PZ_ENOMEM,
 * PZ_ETOOBIG (out's ceiling).
 */
static int value_text(const json_t *v, struct pz_buf *out)
{
	const json_t *item;
	char *s;
	size_t i;
	int rc = PZ_OK;

	if (json_is_string(v))
		return safe_add(out, json_string_value(v));
	if (json_is_real(v))
		return real_text(json_real_value(v), out);
	if (json_is_array(v) && json_array_size(v) > 0) {
		json_array_foreach(v, i, item) {
			if (json_is_object(item) || json_is_array(item))
				goto as_json;
		}
		json_array_foreach(v, i, item) {
			if (rc == PZ_OK && i > 0)
				rc = pz_buf_adds(out, ", ");
			if (rc == PZ_OK)
				rc = value_text(item, out);
		}
		return rc;
	}
as_json:
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
		       JSON_PRESERVE_ORDER);
	if (!s)
		return PZ_ENOMEM;
	rc = pz_buf_adds(out, s);
	pz_free(s);
	return rc;
}

/* print_attrs - the members of one resource, one a line, aligned:
 * short name, long name, value.  The type number gets its name. */
static int print_attrs(const json_t *attrs)
{
	const char *key;
	const json_t *v;
	const struct ty_row *row;
	struct pz_buf text;
	int wk = 0, wl = 0, rc = PZ_OK;

	json_object_foreach((json_t *)attrs, key, v) {
		if ((int)strlen(key) > wk)
			wk = (int)strlen(key);
		if ((int)strlen(attr_long(key)) > wl)
			wl = (int)strlen(attr_long(key));
	}
	pz_buf_init(&text, CLI_MAX_BODY);
	json_object_foreach((json_t *)attrs, key, v) {
		pz_buf_reset(&text);
		rc = value_text(v, &text);
		row = !strcmp(key, "ty") ? ty_by_num(json_integer_value(v)) :
		      NULL;
		if (rc == PZ_OK && row)
			rc = pz_buf_addf(&text, " (%s)", row->long_name);
		if (rc != PZ_OK)
			break;
		printf("%-*s  %-*s  %s\n", wk, key, wl, attr_long(key),
		       text.data ? text.data : "");
	}
	pz_buf_free(&text);
	return rc;
}

/* print_doc - a response document for people: each root's attributes, a
 * list one item a line, a scalar as text. */
static int print_doc(const json_t *doc)
{
	const char *root;
	const json_t *v, *item;
	struct pz_buf text;
	size_t i;
	int rc = PZ_OK;

	pz_buf_init(&text, CLI_MAX_BODY);
	json_object_foreach((json_t *)doc, root, v) {
		if (json_is_object(v)) {
			rc = print_attrs(v);
		} else if (json_is_array(v)) {
			json_array_foreach(v, i, item) {
				pz_buf_reset(&text);
				rc = value_text(item, &text);
				if (rc != PZ_OK)
					break;
				printf("%s\n", text.data ? text.data : "");
			}
		} else {
			pz_buf_reset(&text);
			rc = value_text(v, &text);
			if (rc == PZ_OK)
				printf("%s: %s\n", root, text.data);
		}
		if (rc != PZ_OK)
			break;
	}
	pz_buf_free(&text);
	return rc;
}

/* print_result - a resource answer: JSON with --json, else attributes. */
static int print_result(const struct cli *c, const json_t *doc)
{
	if (!doc)
		return PZ_OK;
	return c->json ? print_json(doc) : print_doc(doc);
}

/* doc_root - the only member of a {"m2m:xxx": {...}} document, or NULL. */
static json_t *doc_root(const json_t *doc, const char **name)
{
	const char *key;
	json_t *v;

	if (!json_is_object(doc) || json_object_size(doc) != 1)
		return NULL;
	json_object_foreach((json_t *)doc, key, v) {
		if (name)
			*name = key;
		return v;
	}
	return NULL;
}

/* The string attribute k of the resource in doc, "" when absent. */
static const char *doc_str(const json_t *doc, const char *k)
{
	const char *s = json_string_value(json_object_get(doc_root(doc, NULL),
							  k));

	return s ? s : "";
}

/* --- arguments ----------------------------------------------------------- */

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
		usage_error("%s needs a value", opt);
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
		return say(PZ_ENOMEM, "out of memory");
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
	if (c->curl)
		curl_easy_cleanup(c->curl);
	pz_free(c->argv);
	memset(c, 0, sizeof(*c));
}

/* A command's own option: its name, whether it takes a value, its id. */
struct copt {
	const char *name;
	bool arg;
	int id;
};

/* Called per option (id > 0, val "" for a flag) and per positional
 * argument (id 0); val is never NULL.  Returns PZ_OK or an error
 * (reported). */
typedef int (*copt_fn)(void *ud, int id, const char *val);

/*
 * cmd_args - walk a command's arguments argv[from..argc) against opts,
 * handing each to fn.  Options start with "--"; anything else ("-", the
 * CSEBase address "-/ae1") is a positional argument, and so is everything
 * after "--".  PZ_OK, PZ_EINVAL (reported) or fn's error.
 */
static int cmd_args(const struct cli *c, int from, const struct copt *opts,
		    copt_fn fn, void *ud)
{
	const char *val;
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
		m = 0;
		for (const struct copt *o = opts; o && o->name && !m; o++) {
			if (!o->arg && !strcmp(a, o->name)) {
				m = 1;
				rc = fn(ud, o->id, "");
			} else if (o->arg) {
				m = opt_value(c->argc, c->argv, &i, o->name,
					      &val);
				if (m == 1)
					rc = fn(ud, o->id, val);
			}
		}
		if (m < 0)
			rc = PZ_EINVAL;
		else if (m == 0)
			rc = usage_error("unknown option '%s'", a);
	}
	return rc;
}

/* A whole decimal number in [lo, hi] for option opt.  PZ_EINVAL reported. */
static int arg_int(const char *opt, const char *v, long long lo,
		   long long hi, long long *out)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (!isdigit((unsigned char)*v) || *end || errno || n < lo ||
	    n > hi)
		return usage_error("%s needs a number from %lld to %lld, not "
				   "'%s'", opt, lo, hi, v);
	*out = n;
	return PZ_OK;
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

/* query_add - append "&name=value" (encoded) to the query q. */
static int query_add(struct pz_buf *q, const char *name, const char *value)
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

/* query_kv - append a "name=value" argument of --param/--attr. */
static int query_kv(struct pz_buf *q, const char *opt, const char *kv)
{
	const char *eq = strchr(kv, '=');
	char *name;
	int rc;

	if (!eq || eq == kv)
		return usage_error("%s needs NAME=VALUE, not '%s'", opt, kv);
	name = pz_strndup(kv, (size_t)(eq - kv));
	if (!name)
		return say(PZ_ENOMEM, "out of memory");
	rc = query_add(q, name, eq + 1);
	pz_free(name);
	return rc;
}

/*
 * cli_url - the request URL for a oneM2M address (TS-0009 path forms):
 * "//sp/csi/x" -> /_/sp/csi/x, "/csi/x" -> /~/csi/x, "x" -> /x.  Each
 * segment is percent-encoded.  PZ_OK, PZ_EINVAL (reported), PZ_ETOOBIG.
 */
static int cli_url(const struct cli *c, const char *path, const char *query,
		   struct pz_buf *out)
{
	size_t n = strlen(c->url);
	const char *prefix = "/";
	int rc;

	if (strncasecmp(c->url, "http://", 7) &&
	    strncasecmp(c->url, "https://", 8))
		return usage_error("--url must start with http:// or "
				   "https://, not '%s'", c->url);
	if (!strncmp(path, "//", 2)) {
		prefix = "/_/";
		path += 2;
	} else if (path[0] == '/') {
		prefix = "/~/";
		path += 1;
	}
	if (!path[0] || path[0] == '/')
		return usage_error("incomplete address");
	while (n && c->url[n - 1] == '/')
		n--;
	rc = pz_buf_add(out, c->url, n);
	if (rc == PZ_OK)
		rc = pz_buf_adds(out, prefix);
	if (rc == PZ_OK)
		rc = pct_add(out, path, "/");
	if (rc == PZ_OK && query && *query)
		rc = pz_buf_addf(out, "?%s", query);
	if (rc == PZ_ETOOBIG)
		return say(rc, "request URL longer than %d bytes",
			   CLI_MAX_URL);
	return rc;
}

/* --- HTTP ---------------------------------------------------------------- */

/* The credential: --token, $PLAZA_TOKEN or DATA/admin.token; NULL if none. */
static const char *cli_token(struct cli *c)
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
		return usage_error("header value too long");
	n = curl_slist_append(*l, line);
	if (!n)
		return say(PZ_ENOMEM, "out of memory");
	*l = n;
	return PZ_OK;
}

/* The oneM2M request headers of call.  PZ_OK, PZ_EINVAL, PZ_ENOMEM. */
static int cli_headers(struct cli *c, const struct call *call,
		       struct curl_slist **l)
{
	const char *orig = call->origin ? call->origin : c->origin;
	const char *tok = call->anonymous ? NULL : cli_token(c);
	int rc;

	if (!header_safe(orig) || (tok && !header_safe(tok)))
		return usage_error("control characters in originator or "
				   "token");
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
		return say(PZ_ENOMEM, "cannot start libcurl");
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

/* A libcurl failure as a pz_err, reported. */
static int cli_transport(const struct cli *c, CURLcode cc,
			 const struct reply *r, const char *errbuf)
{
	const char *why = errbuf[0] ? errbuf : curl_easy_strerror(cc);

	if (r->too_big)
		return say(PZ_ETOOBIG, "the answer is larger than %zu bytes",
			   CLI_MAX_BODY);
	if (cc == CURLE_URL_MALFORMAT || cc == CURLE_UNSUPPORTED_PROTOCOL)
		return usage_error("bad --url '%s': %s", c->url, why);
	return say(PZ_EAGAIN, "cannot reach plazad at %s: %s", c->url, why);
}

/* Check plazad's answer: parse the body, report a oneM2M error.  PZ_OK for
 * a 1xxx/2xxx rsc, PZ_EREQ (reported) for an error rsc, PZ_EIO when the
 * answer is not oneM2M (no rsc, or a success with a malformed body). */
static int cli_outcome(const struct cli *c, const struct call *call,
		       struct reply *r)
{
	bool success = r->rsc >= 1000 && r->rsc < 3000;
	struct pz_buf why;
	json_error_t je;
	const char *dbg;

	if (!r->rsc)
		return say(PZ_EIO, "HTTP %ld without a oneM2M result code "
			   "from %s: is it plazad?", r->http, c->url);
	if (r->body.len) {
		r->doc = json_loadb(r->body.data, r->body.len,
				    JSON_REJECT_DUPLICATES, &je);
		if (!r->doc && success)
			return say(PZ_EIO, "malformed JSON answer (rsc %d): "
				   "%s", r->rsc, je.text);
	}
	if (success)
		return PZ_OK;
	dbg = json_string_value(json_object_get(r->doc, "m2m:dbg"));
	pz_buf_init(&why, 1024);
	if (safe_add(&why, dbg ? dbg : "no reason given") != PZ_OK)
		pz_buf_adds(&why, "...");  /* cut at the ceiling */
	say(PZ_EREQ, "%s (%d): %s", rsc_name(r->rsc), r->rsc,
	    why.data ? why.data : "");
	pz_buf_free(&why);
	if ((r->rsc == 4107 || r->rsc == 4103) && !c->token &&
	    !call->anonymous)
		say(PZ_EREQ, "no credential was sent: give --token, set "
		    "PLAZA_TOKEN or point --data at plazad's data directory");
	return PZ_EREQ;
}

/*
 * cli_call - send call to plazad and wait for the answer in r (initialised
 * by the caller, cleared by the caller with reply_clear).  Reports every
 * failure itself.  PZ_OK (a success rsc; r->doc is the content or NULL),
 * PZ_EREQ (an error rsc), PZ_EAGAIN (unreachable), PZ_EINVAL, PZ_ENOMEM,
 * PZ_ETOOBIG, PZ_EIO.
 */
static int cli_call(struct cli *c, const struct call *call, struct reply *r)
{
	struct curl_slist *hdrs = NULL;
	struct pz_buf url;
	char errbuf[CURL_ERROR_SIZE] = "";
	char *body = NULL;
	CURLcode cc;
	int rc;

	pz_buf_init(&url, CLI_MAX_URL);
	rc = cli_url(c, call->path, call->query, &url);
	if (rc != PZ_OK)
		goto out;
	rc = cli_headers(c, call, &hdrs);
	if (rc != PZ_OK)
		goto out;
	if (call->pc) {
		body = json_dumps(call->pc, JSON_COMPACT);
		if (!body) {
			rc = say(PZ_ENOMEM, "out of memory");
			goto out;
		}
	}
	rc = cli_setup(c, call, url.data, hdrs, body, r, errbuf);
	if (rc != PZ_OK)
		goto out;
	cc = curl_easy_perform(c->curl);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &r->http);
	rc = cc == CURLE_OK ? cli_outcome(c, call, r) :
	     cli_transport(c, cc, r, errbuf);
out:
	pz_free(body);
	curl_slist_free_all(hdrs);
	pz_buf_free(&url);
	return rc;
}

/* cli_get - Retrieve path (query optional) into r. */
static int cli_get(struct cli *c, const char *path, const char *query,
		   struct reply *r)
{
	struct call call = { .method = "GET", .path = path, .query = query };

	return cli_call(c, &call, r);
}

/* --- content ------------------------------------------------------------- */

/* doc_read - the JSON document in file src ("-" = stdin) into *out
 * (caller decrefs).  PZ_OK, PZ_EINVAL (unreadable or malformed, reported),
 * PZ_ENOMEM. */
static int doc_read(const char *src, json_t **out)
{
	FILE *f = strcmp(src, "-") ? fopen(src, "r") : stdin;
	struct pz_buf b;
	json_error_t je;
	char chunk[8192];
	size_t n;
	int rc = PZ_OK;

	pz_buf_init(&b, CLI_MAX_DOC);
	if (!f)
		return usage_error("cannot read %s: %s", src, strerror(errno));
	while (rc == PZ_OK && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = pz_buf_add(&b, chunk, n);
	if (rc != PZ_OK || ferror(f)) {
		rc = usage_error("cannot read %s: %s", src, rc == PZ_ETOOBIG ?
				 "larger than 16 MiB" : "read error");
		goto out;
	}
	*out = json_loadb(b.data ? b.data : "", b.len,
			  JSON_REJECT_DUPLICATES, &je);
	if (!*out)
		rc = usage_error("%s:%d:%d: %s", strcmp(src, "-") ? src :
				 "stdin", je.line, je.column, je.text);
out:
	if (f != stdin)
		fclose(f);
	pz_buf_free(&b);
	return rc;
}

/* attr_set - apply "name=value" to obj: value as JSON if it parses, else
 * as a string.  PZ_OK, PZ_EINVAL (reported), PZ_ENOMEM. */
static int attr_set(json_t *obj, const char *kv)
{
	const char *eq = strchr(kv, '=');
	json_t *v;
	char *name;
	int rc = PZ_OK;

	if (!eq || eq == kv)
		return usage_error("expected NAME=VALUE, not '%s'", kv);
	v = json_loads(eq + 1, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
	if (!v)
		v = json_string(eq + 1);
	if (!v)
		return usage_error("the value of '%s' is not UTF-8", kv);
	name = pz_strndup(kv, (size_t)(eq - kv));
	if (!name || json_object_set_new(obj, name, v))
		rc = say(PZ_ENOMEM, "out of memory");
	pz_free(name);
	return rc;
}

/* What create and update were given: a document, attributes, or both. */
struct content_in {
	const char *file;         /* --file F or "-" */
	const char **kv;          /* NAME=VALUE arguments (borrowed) */
	int nkv;
};

/*
 * content_build - the content {"root": {...}}: the document (wrapped in
 * root unless it already has a single "ns:name" member) with the
 * NAME=VALUE attributes applied on top.  root may be NULL when the
 * document brings its own.  *out is the caller's (decref).  PZ_OK,
 * PZ_EINVAL (reported), PZ_ENOMEM.
 */
static int content_build(const struct content_in *in, const char *root,
			 json_t *doc, json_t **out)
{
	const char *own = NULL;
	json_t *attrs;
	int rc = PZ_OK;

	attrs = doc_root(doc, &own);
	if (attrs && strchr(own, ':'))
		root = own;
	else
		attrs = doc;
	if (attrs && !json_is_object(attrs))
		return usage_error("the content must be a JSON object");
	if (!root)
		return usage_error("cannot tell the resource's type: wrap the "
				   "document in its root, e.g. {\"m2m:cnt\": "
				   "{...}}");
	/* The content shares attrs with doc (both the caller's to drop). */
	*out = attrs ? json_pack("{s:O}", root, attrs) :
	       json_pack("{s:{}}", root);
	if (!*out)
		return say(PZ_ENOMEM, "out of memory");
	for (int i = 0; i < in->nkv && rc == PZ_OK; i++)
		rc = attr_set(json_object_get(*out, root), in->kv[i]);
	return rc;
}

/* content_doc - the --file document, NULL when none.  Its root, when it
 * has one, in *root.  PZ_OK, PZ_EINVAL, PZ_ENOMEM. */
static int content_doc(const struct content_in *in, json_t **doc,
		       const char **root)
{
	const json_t *attrs;
	const char *own = NULL;
	int rc;

	*doc = NULL;
	*root = NULL;
	if (!in->file)
		return PZ_OK;
	rc = doc_read(in->file, doc);
	if (rc != PZ_OK)
		return rc;
	if (!json_is_object(*doc))
		return usage_error("the content must be a JSON object");
	attrs = doc_root(*doc, &own);
	if (attrs && strchr(own, ':'))
		*root = own;
	return PZ_OK;
}

/* Positional arguments and options shared by create and update. */
struct write_args {
	const char *pos[2];       /* PATH, TYPE (create) */
	int npos, maxpos;
	struct content_in in;
};

enum { OPT_FILE = 1 };

static const struct copt write_opts[] = {
	{ "--file", true, OPT_FILE },
	{ NULL, false, 0 },
};

static int write_arg(void *ud, int id, const char *val)
{
	struct write_args *w = ud;

	/* "-" is stdin once the addresses are in ("create - ae" creates
	 * below the CSEBase). */
	if (id == OPT_FILE || (w->npos == w->maxpos && !strcmp(val, "-"))) {
		if (w->in.file)
			return usage_error("give one document (--file or -)");
		w->in.file = val;
	} else if (w->npos < w->maxpos) {
		w->pos[w->npos++] = val;
	} else {
		w->in.kv[w->in.nkv++] = val;
	}
	return PZ_OK;
}

/* Parse create/update arguments; w->in.kv is allocated (pz_free). */
static int write_parse(const struct cli *c, struct write_args *w, int maxpos)
{
	memset(w, 0, sizeof(*w));
	w->maxpos = maxpos;
	w->in.kv = pz_calloc((size_t)c->argc + 1, sizeof(*w->in.kv));
	if (!w->in.kv)
		return say(PZ_ENOMEM, "out of memory");
	return cmd_args(c, 1, write_opts, write_arg, w);
}

/* --- commands: resources -------------------------------------------------- */

/* The token of a new AE: shown once, with the advice to keep it (on
 * stderr with --json, where stdout is the document). */
static void print_token(const struct cli *c, const char *aei,
			const char *token)
{
	FILE *f = c->json ? stderr : stdout;

	if (!c->json)
		printf("\nAE-ID: %s\ntoken: %s\n", aei, token);
	fprintf(f, "Keep this token now: plazad stores only its hash and "
		"will not show it again.\nUse it as: plaza --origin %s "
		"--token TOKEN ...\n", aei);
}

/* A created resource: where it is, then its attributes (or JSON, with
 * the token of a new AE as member "token"), then a new AE's token. */
static int print_created(const struct cli *c, const char *verb,
			 struct reply *r)
{
	int rc;

	if (c->json && r->token[0] && json_is_object(r->doc))
		json_object_set_new(r->doc, "token", json_string(r->token));
	if (!c->json && r->location[0]) {
		printf("%s ", verb);
		put_safe(r->location, 0);
		putchar('\n');
	}
	rc = print_result(c, r->doc);
	if (rc == PZ_OK && r->token[0])
		print_token(c, doc_str(r->doc, "aei"), r->token);
	return rc;
}

/* create PATH TYPE [K=V]... [--file F|-] */
static int cmd_create(struct cli *c)
{
	struct write_args w;
	struct reply r;
	struct call call = { .method = "POST" };
	const struct ty_row *row = NULL;
	const char *root;
	json_t *doc = NULL, *pc = NULL;
	int rc;

	reply_init(&r);
	rc = write_parse(c, &w, 2);
	if (rc == PZ_OK && w.npos < 2)
		rc = usage_error("create needs PATH and TYPE");
	if (rc == PZ_OK)
		rc = ty_parse(w.pos[1], &call.ty, &row);
	if (rc == PZ_OK)
		rc = content_doc(&w.in, &doc, &root);
	if (rc == PZ_OK)
		rc = content_build(&w.in, row ? row->root : NULL, doc, &pc);
	if (rc != PZ_OK)
		goto out;
	call.path = w.pos[0];
	call.pc = pc;
	rc = cli_call(c, &call, &r);
	if (rc != PZ_OK)
		goto out;
	rc = print_created(c, "created", &r);
out:
	json_decref(pc);
	json_decref(doc);
	pz_free(w.in.kv);
	reply_clear(&r);
	return rc;
}

/* The root of the resource at path, for an update without one: retrieved.
 * *root points into *held (caller decrefs). */
static int update_root(struct cli *c, const char *path, json_t **held,
		       const char **root)
{
	struct reply r;
	int rc;

	reply_init(&r);
	rc = cli_get(c, path, NULL, &r);
	if (rc == PZ_OK && !doc_root(r.doc, root))
		rc = say(PZ_EIO, "cannot tell the type of %s", path);
	if (rc == PZ_OK)
		*held = json_incref(r.doc);
	reply_clear(&r);
	return rc;
}

/* update PATH [K=V]... [--file F|-] */
static int cmd_update(struct cli *c)
{
	struct write_args w;
	struct reply r;
	struct call call = { .method = "PUT" };
	const char *root = NULL;
	json_t *doc = NULL, *pc = NULL, *held = NULL;
	int rc;

	reply_init(&r);
	rc = write_parse(c, &w, 1);
	if (rc == PZ_OK && w.npos < 1)
		rc = usage_error("update needs PATH");
	if (rc == PZ_OK && !w.in.file && !w.in.nkv)
		rc = usage_error("update needs NAME=VALUE or a document");
	if (rc == PZ_OK)
		rc = content_doc(&w.in, &doc, &root);
	if (rc == PZ_OK && !root)
		rc = update_root(c, w.pos[0], &held, &root);
	if (rc == PZ_OK)
		rc = content_build(&w.in, root, doc, &pc);
	if (rc != PZ_OK)
		goto out;
	call.path = w.pos[0];
	call.pc = pc;
	rc = cli_call(c, &call, &r);
	if (rc == PZ_OK)
		rc = print_result(c, r.doc);
out:
	json_decref(pc);
	json_decref(doc);
	json_decref(held);
	pz_free(w.in.kv);
	reply_clear(&r);
	return rc;
}

/* get PATH [--rcn N] [--param K=V]... */
struct get_args {
	const char *path;
	struct pz_buf query;
};

enum { OPT_RCN = 1, OPT_PARAM };

static const struct copt get_opts[] = {
	{ "--rcn", true, OPT_RCN },
	{ "--param", true, OPT_PARAM },
	{ NULL, false, 0 },
};

static int get_arg(void *ud, int id, const char *val)
{
	struct get_args *g = ud;
	long long n;
	int rc;

	switch (id) {
	case 0:
		if (g->path)
			return usage_error("unexpected argument '%s'", val);
		g->path = val;
		return PZ_OK;
	case OPT_RCN:
		rc = arg_int("--rcn", val, 0, 12, &n);
		return rc == PZ_OK ? query_add(&g->query, "rcn", val) : rc;
	default:
		return query_kv(&g->query, "--param", val);
	}
}

static int cmd_get(struct cli *c)
{
	struct get_args g = { NULL, { 0 } };
	struct reply r;
	int rc;

	reply_init(&r);
	pz_buf_init(&g.query, CLI_MAX_URL);
	rc = cmd_args(c, 1, get_opts, get_arg, &g);
	if (rc == PZ_OK && !g.path)
		rc = usage_error("get needs PATH");
	if (rc == PZ_OK)
		rc = cli_get(c, g.path, g.query.data, &r);
	if (rc == PZ_OK)
		rc = print_result(c, r.doc);
	pz_buf_free(&g.query);
	reply_clear(&r);
	return rc;
}

/* One positional argument only (delete PATH, ae show X, ...). */
static int one_arg(void *ud, int id, const char *val)
{
	const char **out = ud;

	(void)id;
	if (*out)
		return usage_error("unexpected argument '%s'", val);
	*out = val;
	return PZ_OK;
}

/* delete PATH */
static int cmd_delete(struct cli *c)
{
	struct call call = { .method = "DELETE" };
	struct reply r;
	int rc;

	reply_init(&r);
	rc = cmd_args(c, 1, NULL, one_arg, &call.path);
	if (rc == PZ_OK && !call.path)
		rc = usage_error("delete needs PATH");
	if (rc == PZ_OK)
		rc = cli_call(c, &call, &r);
	if (rc == PZ_OK && c->json)
		rc = print_json(r.doc);
	else if (rc == PZ_OK)
		printf("deleted %s\n", call.path);
	reply_clear(&r);
	return rc;
}

/* --- commands: discovery -------------------------------------------------- */

enum { D_TYPE = 1, D_LABEL, D_LIMIT, D_OFFSET, D_LEVEL, D_OR, D_CRA, D_CRB,
       D_MS, D_US, D_EXA, D_EXB, D_CTY, D_ATTR, D_UNSTRUCT, D_PARAM };

static const struct copt disc_opts[] = {
	{ "--type", true, D_TYPE }, { "--label", true, D_LABEL },
	{ "--limit", true, D_LIMIT }, { "--offset", true, D_OFFSET },
	{ "--level", true, D_LEVEL }, { "--or", false, D_OR },
	{ "--created-after", true, D_CRA }, { "--created-before", true, D_CRB },
	{ "--modified-since", true, D_MS }, { "--unmodified-since", true, D_US },
	{ "--expires-after", true, D_EXA }, { "--expires-before", true, D_EXB },
	{ "--content-type", true, D_CTY }, { "--attr", true, D_ATTR },
	{ "--unstructured", false, D_UNSTRUCT }, { "--param", true, D_PARAM },
	{ NULL, false, 0 },
};

/* Query parameter names by option id; NULL for the special ones. */
static const char *const disc_param[] = {
	[D_LABEL] = "lbl", [D_LIMIT] = "lim", [D_OFFSET] = "ofst",
	[D_LEVEL] = "lvl", [D_CRA] = "cra", [D_CRB] = "crb", [D_MS] = "ms",
	[D_US] = "us", [D_EXA] = "exa", [D_EXB] = "exb", [D_CTY] = "cty",
};

static int disc_arg(void *ud, int id, const char *val)
{
	struct get_args *g = ud;
	const struct ty_row *row;
	char num[16];
	long long n;
	int64_t t;
	int ty;

	switch (id) {
	case 0:
		return get_arg(ud, 0, val);
	case D_TYPE:
		if (ty_parse(val, &ty, &row) != PZ_OK)
			return PZ_EINVAL;
		snprintf(num, sizeof(num), "%d", ty);
		return query_add(&g->query, "ty", num);
	case D_LIMIT: case D_OFFSET: case D_LEVEL:
		if (arg_int(id == D_LIMIT ? "--limit" : id == D_OFFSET ?
			    "--offset" : "--level", val, id == D_LEVEL, 1000000000,
			    &n) != PZ_OK)
			return PZ_EINVAL;
		break;
	case D_CRA: case D_CRB: case D_MS: case D_US: case D_EXA: case D_EXB:
		if (pz_time_parse(val, &t) != PZ_OK)
			return usage_error("'%s' is not a timestamp "
					   "(YYYYMMDDTHHMMSS)", val);
		break;
	case D_OR:
		return query_add(&g->query, "fo", "2");
	case D_UNSTRUCT:
		return query_add(&g->query, "drt", "2");
	case D_ATTR:
		return query_kv(&g->query, "--attr", val);
	case D_PARAM:
		return query_kv(&g->query, "--param", val);
	}
	return query_add(&g->query, disc_param[id], val);
}

/* discover PATH [filters] */
static int cmd_discover(struct cli *c)
{
	struct get_args g = { NULL, { 0 } };
	struct reply r;
	const json_t *v;
	size_t i;
	int rc;

	reply_init(&r);
	pz_buf_init(&g.query, CLI_MAX_URL);
	rc = query_add(&g.query, "fu", "1");
	if (rc == PZ_OK)
		rc = cmd_args(c, 1, disc_opts, disc_arg, &g);
	if (rc == PZ_OK && !g.path)
		rc = usage_error("discover needs PATH");
	if (rc == PZ_OK)
		rc = cli_get(c, g.path, g.query.data, &r);
	if (rc == PZ_OK && c->json) {
		rc = print_json(r.doc);
	} else if (rc == PZ_OK) {
		json_array_foreach(json_object_get(r.doc, "m2m:uril"), i, v) {
			put_safe(json_string_value(v) ? json_string_value(v) :
				 "", 0);
			putchar('\n');
		}
	}
	pz_buf_free(&g.query);
	reply_clear(&r);
	return rc;
}

/* --- commands: status and AEs --------------------------------------------- */

/* One "label  value[/more]" line of status. */
static void status_line(const char *label, const char *value,
			const char *more)
{
	printf("%-16s  ", label);
	put_safe(value, 0);
	if (more) {
		putchar('/');
		put_safe(more, 0);
	}
	putchar('\n');
}

/* status: the CSEBase, and whether plazad answered at all. */
static int cmd_status(struct cli *c)
{
	struct reply r;
	const json_t *cb, *v;
	struct pz_buf types;
	size_t i;
	int rc;

	reply_init(&r);
	pz_buf_init(&types, 4096);
	rc = c->argc > 1 ? usage_error("status takes no arguments") :
	     cli_get(c, "-", NULL, &r);
	if (rc == PZ_EAGAIN && !c->json)
		printf("%-16s  %s\n%-16s  no\n", "url", c->url, "reachable");
	if (rc != PZ_OK || c->json) {
		if (rc == PZ_OK)
			rc = print_json(r.doc);
		goto out;
	}
	cb = json_object_get(r.doc, "m2m:cb");
	json_array_foreach(json_object_get(cb, "srt"), i, v) {
		const struct ty_row *row = ty_by_num(json_integer_value(v));

		pz_buf_addf(&types, "%s%lld %s", i ? ", " : "",
			    (long long)json_integer_value(v),
			    row ? row->name : "?");
	}
	status_line("url", c->url, NULL);
	status_line("reachable", "yes", NULL);
	status_line("CSE-ID", doc_str(r.doc, "csi"), NULL);
	status_line("name", doc_str(r.doc, "rn"), NULL);
	status_line("SP-relative", doc_str(r.doc, "csi"), doc_str(r.doc, "rn"));
	status_line("current time", doc_str(r.doc, "ctm"), NULL);
	status_line("resource types", types.data ? types.data : "", NULL);
	pz_buf_reset(&types);
	rc = value_text(json_object_get(cb, "poa"), &types);
	status_line("points of access", types.data ? types.data : "", NULL);
out:
	pz_buf_free(&types);
	reply_clear(&r);
	return rc;
}

/* The AE at arg (an AE-ID or a path) into r; PZ_EREQ if it is no AE. */
static int ae_fetch(struct cli *c, const char *arg, struct reply *r)
{
	const char *root = NULL;
	int rc = cli_get(c, arg, NULL, r);

	if (rc == PZ_OK && (!doc_root(r->doc, &root) ||
			    strcmp(root, "m2m:ae")))
		rc = say(PZ_EREQ, "%s is not an AE", arg);
	return rc;
}

static int cmd_ae_show(struct cli *c)
{
	const char *arg = NULL;
	struct reply r;
	int rc;

	reply_init(&r);
	rc = cmd_args(c, 2, NULL, one_arg, &arg);
	if (rc == PZ_OK && !arg)
		rc = usage_error("ae show needs an AE-ID or PATH");
	if (rc == PZ_OK)
		rc = ae_fetch(c, arg, &r);
	if (rc == PZ_OK)
		rc = print_result(c, r.doc);
	reply_clear(&r);
	return rc;
}

static int cmd_ae_delete(struct cli *c)
{
	struct call call = { .method = "DELETE" };
	struct reply r;
	int rc;

	reply_init(&r);
	rc = cmd_args(c, 2, NULL, one_arg, &call.path);
	if (rc == PZ_OK && !call.path)
		rc = usage_error("ae delete needs an AE-ID or PATH");
	if (rc == PZ_OK)
		rc = ae_fetch(c, call.path, &r);  /* never delete a non-AE */
	reply_clear(&r);
	if (rc == PZ_OK)
		rc = cli_call(c, &call, &r);
	if (rc == PZ_OK && !c->json)
		printf("deregistered %s\n", call.path);
	reply_clear(&r);
	return rc;
}

/* Print the AE table (AE-ID, name, App-ID, created) of the list. */
static void ae_table(const json_t *aes)
{
	static const char *const cols[] = { "aei", "rn", "api", "ct" };
	int w[4] = { 5, 4, 6, 7 };  /* the headings' widths */
	const json_t *ae;
	size_t i;

	json_array_foreach(aes, i, ae) {
		for (int k = 0; k < 4; k++) {
			const char *s = json_string_value(json_object_get(
							  ae, cols[k]));
			int n = s ? safe_width(s) : 0;

			w[k] = n > w[k] ? n : w[k];
		}
	}
	printf("%-*s  %-*s  %-*s  %s\n", w[0], "AE-ID", w[1], "NAME", w[2],
	       "APP-ID", "CREATED");
	json_array_foreach(aes, i, ae) {
		for (int k = 0; k < 4; k++) {
			const char *s = json_string_value(json_object_get(
							  ae, cols[k]));

			put_safe(s ? s : "-", k < 3 ? w[k] : 0);
			fputs(k < 3 ? "  " : "\n", stdout);
		}
	}
}

/* Retrieve every discovered AE into aes (an array of their attributes). */
static int ae_collect(struct cli *c, const json_t *uril, json_t *aes)
{
	struct reply r;
	const json_t *v;
	size_t i;
	int rc = PZ_OK;

	json_array_foreach(uril, i, v) {
		reply_init(&r);
		if (json_is_string(v))
			rc = ae_fetch(c, json_string_value(v), &r);
		if (rc == PZ_OK && json_is_string(v) &&
		    json_array_append(aes, doc_root(r.doc, NULL)))
			rc = say(PZ_ENOMEM, "out of memory");
		reply_clear(&r);
		if (rc != PZ_OK)
			break;
	}
	return rc;
}

/* ae list: discover ty=2 below the CSEBase, then retrieve each AE. */
static int cmd_ae_list(struct cli *c)
{
	struct reply r;
	json_t *aes = json_array();
	int rc;

	reply_init(&r);
	rc = !aes ? say(PZ_ENOMEM, "out of memory") :
	     c->argc > 2 ? usage_error("ae list takes no arguments") :
	     cli_get(c, "-", "fu=1&ty=2", &r);
	if (rc == PZ_OK)
		rc = ae_collect(c, json_object_get(r.doc, "m2m:uril"), aes);
	if (rc == PZ_OK && c->json)
		rc = print_json(aes);
	else if (rc == PZ_OK)
		ae_table(aes);
	json_decref(aes);
	reply_clear(&r);
	return rc;
}

/* ae register NAME --api APP-ID [--poa URL]... [--ae-id ID] */
struct reg_args {
	const char *name;
	const char *api;
	const char *aei;          /* requested AE-ID, NULL = plazad picks */
	json_t *poa;              /* array, owned */
};

enum { R_API = 1, R_POA, R_AEI };

static const struct copt reg_opts[] = {
	{ "--api", true, R_API }, { "--poa", true, R_POA },
	{ "--ae-id", true, R_AEI }, { NULL, false, 0 },
};

static int reg_arg(void *ud, int id, const char *val)
{
	struct reg_args *a = ud;

	switch (id) {
	case 0:
		return one_arg(&a->name, 0, val);
	case R_API:
		a->api = val;
		return PZ_OK;
	case R_AEI:
		a->aei = val;
		return PZ_OK;
	default:
		if (json_array_append_new(a->poa, json_string(val)))
			return usage_error("--poa '%s' is not UTF-8", val);
		return PZ_OK;
	}
}

static int cmd_ae_register(struct cli *c)
{
	struct reg_args a = { .poa = json_array() };
	struct call call = { .method = "POST", .path = "-", .ty = 2,
			     .anonymous = true };
	struct reply r;
	json_t *pc = NULL;
	int rc;

	reply_init(&r);
	rc = a.poa ? cmd_args(c, 2, reg_opts, reg_arg, &a) :
	     say(PZ_ENOMEM, "out of memory");
	if (rc == PZ_OK && (!a.name || !a.api))
		rc = usage_error("ae register needs NAME and --api APP-ID");
	if (rc != PZ_OK)
		goto out;
	pc = json_pack("{s:{s:s,s:s,s:b,s:[s],s:O}}", "m2m:ae", "rn", a.name,
		       "api", a.api, "rr", json_array_size(a.poa) > 0, "srv",
		       "4", "poa", a.poa);
	if (!pc) {
		rc = usage_error("NAME and APP-ID must be UTF-8");
		goto out;
	}
	if (!json_array_size(a.poa))
		json_object_del(json_object_get(pc, "m2m:ae"), "poa");
	call.pc = pc;
	call.origin = a.aei ? a.aei : "C";
	rc = cli_call(c, &call, &r);
	if (rc == PZ_OK)
		rc = print_created(c, "registered", &r);
	if (rc == PZ_OK && !r.token[0] && !c->json)
		printf("\nplazad issued no token (it trusts X-M2M-Origin).\n");
out:
	json_decref(pc);
	json_decref(a.poa);
	reply_clear(&r);
	return rc;
}

static int cmd_ae(struct cli *c)
{
	const char *sub = c->argc > 1 ? c->argv[1] : "";

	if (!strcmp(sub, "list"))
		return cmd_ae_list(c);
	if (!strcmp(sub, "show"))
		return cmd_ae_show(c);
	if (!strcmp(sub, "delete"))
		return cmd_ae_delete(c);
	if (!strcmp(sub, "register"))
		return cmd_ae_register(c);
	return usage_error("ae needs list, show, register or delete");
}

/* --- commands: configuration ---------------------------------------------- */

static int mkdir_p(const char *dir)
{
	char p[4096];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(p))
		return PZ_EINVAL;
	memcpy(p, dir, n + 1);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return PZ_EIO;
		*s = '/';
	}
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return PZ_EIO;
	return PZ_OK;
}

/* Write the template to tmp and flush it to disk.  PZ_OK or PZ_EIO. */
static int init_write(const char *tmp)
{
	FILE *f = fopen(tmp, "w");
	int rc = PZ_OK;

	if (!f)
		return PZ_EIO;
	pz_conf_template(f);
	if (fflush(f) || ferror(f) || fsync(fileno(f)))
		rc = PZ_EIO;
	if (fclose(f))
		rc = PZ_EIO;
	return rc;
}

struct init_args {
	const char *dir;
	bool force;
};

static int init_arg(void *ud, int id, const char *val)
{
	struct init_args *a = ud;

	if (id == 0)
		return one_arg(&a->dir, 0, val);
	a->force = true;
	return PZ_OK;
}

/* init DIR [--force]: DIR/plazad.conf from the settings table; never
 * replaces a file without --force (link fails if the name is taken). */
static int cmd_init(struct cli *c)
{
	static const struct copt opts[] = { { "--force", false, 1 },
					    { NULL, false, 0 } };
	struct init_args a = { NULL, false };
	char path[4096], tmp[4200];
	int rc;

	rc = cmd_args(c, 1, opts, init_arg, &a);
	if (rc == PZ_OK && !a.dir)
		rc = usage_error("init needs DIR");
	if (rc == PZ_OK && strlen(a.dir) > 4000)
		rc = usage_error("DIR is too long");
	if (rc != PZ_OK)
		return rc;
	snprintf(path, sizeof(path), "%s/plazad.conf", a.dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (mkdir_p(a.dir) != PZ_OK)
		return say(PZ_EIO, "cannot create %s: %s", a.dir,
			   strerror(errno));
	if (init_write(tmp) != PZ_OK) {
		rc = say(PZ_EIO, "cannot write %s: %s", tmp, strerror(errno));
	} else if (a.force ? rename(tmp, path) : link(tmp, path)) {
		rc = errno == EEXIST ?
		     say(PZ_EEXIST, "%s exists; use --force to replace it",
			 path) :
		     say(PZ_EIO, "cannot write %s: %s", path, strerror(errno));
	}
	unlink(tmp);
	if (rc == PZ_OK)
		printf("wrote %s\n\nstart plazad with:\n  plazad --config %s "
		       "--data %s/data\nthen talk to it with:\n  plaza --data "
		       "%s/data status\n", path, path, a.dir, a.dir);
	return rc;
}

/* The settings as one JSON object, typed as in the table. */
static json_t *conf_json(const struct pz_conf *conf)
{
	const struct pz_conf_row *rows;
	json_t *o = json_object();
	size_t n;

	rows = pz_conf_table(&n);
	for (size_t i = 0; o && i < n; i++) {
		const void *f = (const char *)conf + rows[i].off;
		json_t *v = NULL;  /* stays NULL only for a type not handled */

		switch (rows[i].type) {
		case PZ_CONF_INT:
			v = json_integer(*(const int64_t *)f);
			break;
		case PZ_CONF_BOOL:
			v = json_boolean(*(const bool *)f);
			break;
		case PZ_CONF_STR:
		case PZ_CONF_ENUM:
			v = json_string(*(char *const *)f ?
					*(char *const *)f : "");
			break;
		}
		if (json_object_set_new(o, rows[i].name, v)) {
			json_decref(o);
			o = NULL;
		}
	}
	return o;
}

/* config show [FILE]: defaults, overlaid with FILE, as plazad sees them. */
static int cmd_config(struct cli *c)
{
	struct pz_conf conf;
	const char *file = NULL;
	char err[512];
	json_t *o;
	int rc;

	if (c->argc < 2 || strcmp(c->argv[1], "show"))
		return usage_error("config needs show");
	rc = cmd_args(c, 2, NULL, one_arg, &file);
	if (rc != PZ_OK)
		return rc;
	rc = pz_conf_init(&conf);
	if (rc != PZ_OK)
		return say(rc, "out of memory");
	if (file)
		rc = pz_conf_load(&conf, file, err, sizeof(err));
	if (rc == PZ_OK)
		rc = pz_conf_finish(&conf, err, sizeof(err));
	if (rc != PZ_OK) {
		rc = say(rc == PZ_ENOMEM ? rc : PZ_ECONFIG, "%s",
			 rc == PZ_ENOMEM ? "out of memory" : err);
		goto out;
	}
	if (!c->json) {
		pz_conf_show(&conf, stdout);
		goto out;
	}
	o = conf_json(&conf);
	rc = o ? print_json(o) : say(PZ_ENOMEM, "out of memory");
	json_decref(o);
out:
	pz_conf_free(&conf);
	return rc;
}

/* --- main ---------------------------------------------------------------- */

static const struct {
	const char *name;
	int (*run)(struct cli *c);
} commands[] = {
	{ "status", cmd_status }, { "ae", cmd_ae }, { "get", cmd_get },
	{ "create", cmd_create }, { "update", cmd_update },
	{ "delete", cmd_delete }, { "discover", cmd_discover },
	{ "init", cmd_init }, { "config", cmd_config },
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
	return usage_error("unknown command '%s'", c->argv[0]);
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
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return cli_exit(say(PZ_ENOMEM, "cannot initialise libcurl"));
	rc = cli_init(&c, argc, argv);
	if (rc == PZ_OK)
		rc = cli_run(&c);
	cli_free(&c);
	curl_global_cleanup();
	if (fflush(stdout) && rc == PZ_OK)
		rc = PZ_EIO;
	return cli_exit(rc);
}
