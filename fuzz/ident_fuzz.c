/*
 * ident_fuzz.c - libFuzzer target for identity records (pz_ident.h): the
 * checks pz_ident_apply makes of a trust-log entry against the stored
 * records, and pz_ident_canon / pz_ident_resolve on any identifier.
 *
 * Input: lines.  "?<text>" resolves text; any other line is parsed as a
 * JSON entry and applied in a savepoint of its own (rolled back when
 * refused, as the core does).  One SQLite store in memory and one log key
 * serve every run; each run is one batch, rolled back at its end, so runs
 * do not see each other.
 *
 * Checks:
 *  - a refusal is PZ_EINVAL, PZ_EEXIST, PZ_ENOTFOUND or PZ_ESTATE with a
 *    reason, and appends nothing;
 *  - an accepted entry appends exactly one entry, stored, with the next
 *    number; the record of its id ends its history with that number, has
 *    a known kind and status, and every alias it lists resolves back to
 *    it; its keys carry valid fingerprints;
 *  - resolving never fails but with PZ_EINVAL or PZ_ENOTFOUND, and what
 *    it finds is the record of the primary id it names.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plaza/pz_err.h"
#include "plaza/pz_ident.h"
#include "plaza/pz_log.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_store.h"
#include "plaza/pz_tlog.h"

#define FZ_CHECK(c)                                                       \
	do {                                                              \
		if (!(c)) {                                               \
			fprintf(stderr, "%s:%d: check failed: %s\n",      \
				__FILE__, __LINE__, #c);                  \
			abort();                                          \
		}                                                         \
	} while (0)

#define FZ_MAX_LINES 24

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static pz_store *fz_st;
static pz_tlog *fz_log;

static void fz_setup(void)
{
	struct pz_store_opts o = { 0 };
	char dir[] = "/tmp/ident-fuzz-XXXXXX", key[64], err[200];

	pz_log_set_level("error");
	FZ_CHECK(mkdtemp(dir));
	snprintf(key, sizeof(key), "%s/log.key", dir);
	FZ_CHECK(pz_store_open("sqlite::memory:", &o, &fz_st) == PZ_OK);
	FZ_CHECK(pz_tlog_open(fz_st, key, &fz_log, err, sizeof(err)) ==
		 PZ_OK);
	unlink(key);
	strcat(key, ".pub");
	unlink(key);
	rmdir(dir);
}

/* Every alias of rec resolves to its id; keys are well formed. */
static void fz_check_record(const json_t *rec, const char *id)
{
	const char *kind = json_string_value(json_object_get(rec, "kind"));
	const char *status = json_string_value(json_object_get(rec, "status"));
	const json_t *v;
	size_t i;

	FZ_CHECK(!strcmp(json_string_value(json_object_get(rec, "id")), id));
	FZ_CHECK(kind && (!strcmp(kind, "platform") ||
			  !strcmp(kind, "device") ||
			  !strcmp(kind, "application")));
	FZ_CHECK(status && (!strcmp(status, "active") ||
			    !strcmp(status, "revoked") ||
			    !strcmp(status, "decommissioned")));
	json_array_foreach(json_object_get(rec, "aliases"), i, v) {
		char *got = NULL;

		FZ_CHECK(pz_ident_resolve(fz_st, json_string_value(v), &got,
					  NULL) == PZ_OK);
		FZ_CHECK(!strcmp(got, id));
		pz_free(got);
	}
	json_array_foreach(json_object_get(rec, "keys"), i, v)
		FZ_CHECK(pz_ident_fp_ok(json_string_value(json_object_get(v,
								"fp"))));
	if (strcmp(status, "active"))
		FZ_CHECK(json_array_size(json_object_get(rec, "keys")) == 0);
}

static void fz_resolve(const char *text)
{
	char *id = NULL, *again = NULL;
	json_t *rec = NULL;
	int rc = pz_ident_resolve(fz_st, text, &id, &rec);

	FZ_CHECK(rc == PZ_OK || rc == PZ_EINVAL || rc == PZ_ENOTFOUND);
	if (rc == PZ_OK) {
		fz_check_record(rec, id);
		FZ_CHECK(pz_ident_resolve(fz_st, id, &again, NULL) == PZ_OK);
		FZ_CHECK(!strcmp(again, id));
	}
	pz_free(again);
	pz_free(id);
	json_decref(rec);
}

static void fz_apply(const char *text)
{
	json_error_t je;
	json_t *e = json_loads(text, JSON_DECODE_ANY, &je), *rec = NULL;
	uint64_t before = pz_tlog_size(fz_log), seq = 0;
	uint8_t *raw = NULL;
	size_t len = 0;
	char err[300] = "";
	const json_t *last;
	int rc;

	if (!e)
		return;
	FZ_CHECK(pz_store_savepoint(fz_st) == PZ_OK);
	rc = pz_ident_apply(fz_log, fz_st, e, 1764000000000, &rec, &seq, err,
			    sizeof(err));
	if (rc != PZ_OK) {
		FZ_CHECK(rc == PZ_EINVAL || rc == PZ_EEXIST ||
			 rc == PZ_ENOTFOUND || rc == PZ_ESTATE);
		FZ_CHECK(err[0]);
		FZ_CHECK(pz_tlog_size(fz_log) == before);
		FZ_CHECK(pz_store_rollback_to(fz_st) == PZ_OK);
		FZ_CHECK(pz_tlog_rollback(fz_log, before) == PZ_OK);
		json_decref(e);
		return;
	}
	FZ_CHECK(pz_store_release(fz_st) == PZ_OK);
	FZ_CHECK(seq == before && pz_tlog_size(fz_log) == before + 1);
	FZ_CHECK(pz_store_tlog_get(fz_st, seq, &raw, &len, NULL, NULL) ==
		 PZ_OK);
	pz_free(raw);
	last = json_array_get(json_object_get(rec, "history"),
			      json_array_size(json_object_get(rec,
							      "history")) - 1);
	FZ_CHECK(json_integer_value(json_object_get(last, "seq")) ==
		 (json_int_t)seq);
	fz_check_record(rec, json_string_value(json_object_get(e, "id")));
	json_decref(rec);
	json_decref(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *line, *next;
	int n = 0;

	if (!text)
		return 0;
	if (!fz_st)
		fz_setup();
	memcpy(text, data, size);
	text[size] = '\0';
	FZ_CHECK(pz_store_begin(fz_st) == PZ_OK);
	for (line = text; line && n < FZ_MAX_LINES; line = next, n++) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (line[0] == '?')
			fz_resolve(line + 1);
		else
			fz_apply(line);
	}
	FZ_CHECK(pz_store_rollback(fz_st) == PZ_OK);
	FZ_CHECK(pz_tlog_aborted(fz_log) == PZ_OK);
	FZ_CHECK(pz_tlog_size(fz_log) == 0);
	free(text);
	return 0;
}
