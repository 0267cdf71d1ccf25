/*
 * out.c - what plaza prints: resource types by name, attribute lists with
 * long names, values as readable text, and the escaping that keeps device
 * data from driving the operator's terminal.  --json output is exact and
 * bypasses all of this except cli__print_json.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plaza/pz_err.h"
#include "plaza/pz_mem.h"
#include "cli_int.h"

/* --- tables ------------------------------------------------------------- */

/* Resource types: number, JSON root, short name, long name. */
static const struct ty_row ty_table[] = {
	{ 1, "m2m:acp", "acp", "accessControlPolicy" },
	{ 2, "m2m:ae", "ae", "AE" },
	{ 3, "m2m:cnt", "cnt", "container" },
	{ 4, "m2m:cin", "cin", "contentInstance" },
	{ 5, "m2m:cb", "cb", "CSEBase" },
	{ 9, "m2m:grp", "grp", "group" },
	{ 23, "m2m:sub", "sub", "subscription" },
};

#define TY_N (sizeof(ty_table) / sizeof(ty_table[0]))

const struct ty_row *cli__ty_by_num(long ty)
{
	for (size_t i = 0; i < TY_N; i++)
		if (ty_table[i].ty == ty)
			return &ty_table[i];
	return NULL;
}

int cli__ty_parse(const char *s, int *ty, const struct ty_row **row)
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
		return cli__usage_error("unknown resource type '%s'", s);
	*ty = (int)n;
	*row = cli__ty_by_num(n);
	return PZ_OK;
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
	{ "pn", "pendingNotification" },
	{ "nsp", "notificationStoragePriority" },
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

/* --- escaping ----------------------------------------------------------- */

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

int cli__safe_add(struct pz_buf *b, const char *s)
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

/* UTF-8 aware enough for aligning tables: continuation bytes take no
 * column. */
int cli__safe_width(const char *s)
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

void cli__put_safe(const char *s, int width)
{
	int pad = width - cli__safe_width(s);
	char u[8];
	size_t n;

	while ((n = safe_unit(s, u)) > 0) {
		fputs(u, stdout);
		s += n;
	}
	printf("%*s", pad > 0 ? pad : 0, "");
}

/* --- values and resources ----------------------------------------------- */

int cli__print_json(const json_t *doc)
{
	if (!doc)
		return PZ_OK;
	if (json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER))
		return cli__say(PZ_ENOMEM, "cannot print the JSON document");
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

int cli__value_text(const json_t *v, struct pz_buf *out)
{
	const json_t *item;
	char *s;
	size_t i;
	int rc = PZ_OK;

	if (json_is_string(v))
		return cli__safe_add(out, json_string_value(v));
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
				rc = cli__value_text(item, out);
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
		rc = cli__value_text(v, &text);
		row = !strcmp(key, "ty") ?
		      cli__ty_by_num(json_integer_value(v)) : NULL;
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
				rc = cli__value_text(item, &text);
				if (rc != PZ_OK)
					break;
				printf("%s\n", text.data ? text.data : "");
			}
		} else {
			pz_buf_reset(&text);
			rc = cli__value_text(v, &text);
			if (rc == PZ_OK)
				printf("%s: %s\n", root, text.data);
		}
		if (rc != PZ_OK)
			break;
	}
	pz_buf_free(&text);
	return rc;
}

int cli__print_result(const struct cli *c, const json_t *doc)
{
	if (!doc)
		return PZ_OK;
	return c->json ? cli__print_json(doc) : print_doc(doc);
}

json_t *cli__doc_root(const json_t *doc, const char **name)
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

const char *cli__doc_str(const json_t *doc, const char *k)
{
	const char *s = json_string_value(json_object_get(
						  cli__doc_root(doc, NULL), k));

	return s ? s : "";
}

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

int cli__print_created(const struct cli *c, const char *verb,
		       struct reply *r)
{
	int rc;

	if (c->json && r->token[0] && json_is_object(r->doc))
		json_object_set_new(r->doc, "token", json_string(r->token));
	if (!c->json && r->location[0]) {
		printf("%s ", verb);
		cli__put_safe(r->location, 0);
		putchar('\n');
	}
	rc = cli__print_result(c, r->doc);
	if (rc == PZ_OK && r->token[0])
		print_token(c, cli__doc_str(r->doc, "aei"), r->token);
	return rc;
}
