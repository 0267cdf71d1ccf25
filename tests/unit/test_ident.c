/*
 * test_ident.c - identity records (pz_ident.h) on an in-memory SQLite
 * store with a real trust log: canonical identifiers and fingerprints,
 * resolving by id and alias, every entry type folded into the record,
 * and every refusal with its code and reason, nothing appended.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "plaza/pz_err.h"
#include "plaza/pz_ident.h"
#include "plaza/pz_log.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_store.h"
#include "plaza/pz_tlog.h"

#define NOW 1795568400123LL
#define FP1 "sha256:0101010101010101010101010101010101010101010101010101010101010101"
#define FP2 "sha256:0202020202020202020202020202020202020202020202020202020202020202"
#define DEV "urn:dev:mac:0024befffe804ff1"

struct fx {
	char dir[64];
	char key[96];
	pz_store *st;
	pz_tlog *t;
	char err[300];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/pz-ident-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->key, sizeof(f->key), "%s/log.key", f->dir);
	if (pz_store_open("sqlite::memory:", NULL, &f->st) != PZ_OK ||
	    pz_tlog_open(f->st, f->key, &f->t, f->err, sizeof(f->err)) !=
	    PZ_OK || pz_store_begin(f->st) != PZ_OK)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char pub[128];

	pz_store_rollback(f->st);
	pz_tlog_free(f->t);
	pz_store_close(f->st);
	snprintf(pub, sizeof(pub), "%s.pub", f->key);
	unlink(f->key);
	unlink(pub);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Apply the JSON text entry: its result code; *rec (may be NULL) the
 * record on success. */
static int apply(struct fx *f, const char *text, json_t **rec)
{
	json_t *e = json_loads(text, 0, NULL), *r = NULL;
	uint64_t before = pz_tlog_size(f->t), seq = 0;
	int rc;

	assert_non_null(e);
	f->err[0] = '\0';
	rc = pz_ident_apply(f->t, f->st, e, NOW, &r, &seq, f->err,
			    sizeof(f->err));
	json_decref(e);
	if (rc == PZ_OK) {
		assert_int_equal(seq, before);
		assert_int_equal(pz_tlog_size(f->t), before + 1);
	} else {
		/* a refusal appends nothing and says why */
		assert_int_equal(pz_tlog_size(f->t), before);
		assert_true(f->err[0] != '\0');
	}
	if (rec)
		*rec = r;
	else
		json_decref(r);
	return rc;
}

static void expect_refused(struct fx *f, const char *text, int code,
			   const char *why)
{
	int rc = apply(f, text, NULL);

	if (rc != code || !strstr(f->err, why))
		fail_msg("%s: got %s '%s', want %s '%s'", text,
			 pz_strerror(rc), f->err, pz_strerror(code), why);
}

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static void register_device(struct fx *f)
{
	assert_int_equal(apply(f, "{\"type\":\"register\",\"id\":\"" DEV
			       "\",\"kind\":\"device\",\"aliases\":"
			       "[\"Clamp7\",\"lamp-node-7\"],\"ae_id\":"
			       "\"Clamp7\",\"node_id\":\"lamp-node-7\"}", NULL),
			 PZ_OK);
}

/* --- identifiers ------------------------------------------------------------ */

static void test_canon(void **state)
{
	char out[PZ_IDENT_MAX + 1], err[200], big[PZ_IDENT_MAX + 2];

	(void)state;
	assert_int_equal(pz_ident_canon("URN:DEV:mac:0024BEFFFE804FF1", out,
					err, sizeof(err)), PZ_OK);
	assert_string_equal(out, DEV);
	assert_int_equal(pz_ident_canon("//sp/cse/Cx", out, err, sizeof(err)),
			 PZ_OK);
	assert_string_equal(out, "//sp/cse/Cx");
	assert_int_equal(pz_ident_canon("urn:dev:mac:0024", out, err,
					sizeof(err)), PZ_EINVAL);
	assert_non_null(strstr(err, "16 hex digits"));
	assert_int_equal(pz_ident_canon("", out, err, sizeof(err)),
			 PZ_EINVAL);
	assert_int_equal(pz_ident_canon(NULL, out, err, sizeof(err)),
			 PZ_EINVAL);
	assert_int_equal(pz_ident_canon("a b", out, err, sizeof(err)),
			 PZ_EINVAL);
	assert_non_null(strstr(err, "at 1"));
	assert_int_equal(pz_ident_canon("caf\xc3\xa9", out, err, sizeof(err)),
			 PZ_EINVAL);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(pz_ident_canon(big, out, err, sizeof(err)),
			 PZ_EINVAL);
	big[PZ_IDENT_MAX] = '\0';
	assert_int_equal(pz_ident_canon(big, out, err, sizeof(err)), PZ_OK);
}

static void test_fingerprint(void **state)
{
	char fp[PZ_IDENT_FP_LEN];

	(void)state;
	/* SHA-256("abc"), FIPS 180-2 */
	pz_ident_fp("abc", 3, fp);
	assert_string_equal(fp, "sha256:ba7816bf8f01cfea414140de5dae2223"
			    "b00361a396177a9cb410ff61f20015ad");
	assert_true(pz_ident_fp_ok(fp));
	assert_false(pz_ident_fp_ok(NULL));
	assert_false(pz_ident_fp_ok("sha256:BA7816BF8F01CFEA414140DE5DAE2223"
				    "B00361A396177A9CB410FF61F20015AD"));
	assert_false(pz_ident_fp_ok("sha256:ba78"));
	assert_false(pz_ident_fp_ok("md5:ba7816bf8f01cfea414140de5dae2223"
				    "b00361a396177a9cb410ff61f20015ad"));
}

/* --- records ----------------------------------------------------------------- */

static void test_register_and_resolve(void **state)
{
	struct fx *f = *state;
	json_t *rec = NULL;
	char *id = NULL;

	register_device(f);
	assert_int_equal(pz_ident_resolve(f->st, "lamp-node-7", &id, &rec),
			 PZ_OK);
	assert_string_equal(id, DEV);
	assert_string_equal(str(rec, "kind"), "device");
	assert_string_equal(str(rec, "status"), "active");
	assert_int_equal(json_array_size(json_object_get(rec, "history")), 1);
	pz_free(id);
	json_decref(rec);
	/* by any spelling of the URN */
	assert_int_equal(pz_ident_resolve(f->st, "URN:DEV:mac:0024BEFFFE804FF1",
					  &id, NULL), PZ_OK);
	assert_string_equal(id, DEV);
	pz_free(id);
	assert_int_equal(pz_ident_resolve(f->st, "Cnobody", NULL, NULL),
			 PZ_ENOTFOUND);
	assert_int_equal(pz_ident_resolve(f->st, "a b", NULL, NULL),
			 PZ_EINVAL);
}

static void test_register_refused(void **state)
{
	struct fx *f = *state;

	register_device(f);
	expect_refused(f, "{\"type\":\"register\",\"id\":\"" DEV "\",\"kind\":"
		       "\"device\"}", PZ_EEXIST, "already registered");
	expect_refused(f, "{\"type\":\"register\",\"id\":\"urn:dev:mac:"
		       "0000000000000001\",\"kind\":\"device\",\"aliases\":"
		       "[\"Clamp7\"]}", PZ_EEXIST, "already names " DEV);
	expect_refused(f, "{\"type\":\"register\",\"id\":\"urn:dev:mac:"
		       "0000000000000001\",\"kind\":\"device\",\"aliases\":"
		       "[\"" DEV "\"]}", PZ_EEXIST, "identifier of another");
	expect_refused(f, "{\"type\":\"register\",\"id\":\"Clamp7x\","
		       "\"kind\":\"device\"}", PZ_EINVAL, "urn:dev: URN");
	expect_refused(f, "{\"type\":\"register\",\"id\":\"urn:dev:mac:"
		       "0000000000000001\",\"kind\":\"application\"}",
		       PZ_EINVAL, "absolute oneM2M identifier");
	expect_refused(f, "{\"type\":\"register\",\"id\":\"//sp/cse/Cx\","
		       "\"kind\":\"robot\"}", PZ_EINVAL, "kind must be");
	expect_refused(f, "{\"type\":\"register\",\"id\":\"URN:DEV:mac:"
		       "0000000000000001\",\"kind\":\"device\"}", PZ_EINVAL,
		       "canonical form");
	expect_refused(f, "{\"type\":\"register\",\"id\":\"//sp/cse/Cx\","
		       "\"kind\":\"application\",\"aliases\":\"Cx\"}",
		       PZ_EINVAL, "aliases must be an array");
	expect_refused(f, "{\"type\":\"register\",\"id\":\"//sp/cse/Cx\","
		       "\"kind\":\"application\",\"aliases\":[\"a b\"]}",
		       PZ_EINVAL, "alias");
	expect_refused(f, "{\"type\":\"register\",\"id\":\"//sp/cse/Cx\","
		       "\"kind\":\"application\",\"owner\":7}", PZ_EINVAL,
		       "owner must be a string");
	expect_refused(f, "{\"type\":\"launch\",\"id\":\"" DEV "\"}",
		       PZ_EINVAL, "unknown entry type");
	expect_refused(f, "{\"id\":\"" DEV "\"}", PZ_EINVAL, "with a type");
	expect_refused(f, "{\"type\":\"revoke\",\"id\":\"//sp/cse/Cnone\"}",
		       PZ_ENOTFOUND, "no identity");
}

static void test_keys(void **state)
{
	struct fx *f = *state;
	json_t *rec = NULL;

	register_device(f);
	assert_int_equal(apply(f, "{\"type\":\"bind-key\",\"id\":\"" DEV
			       "\",\"key\":{\"type\":\"psk\",\"fp\":\"" FP1
			       "\",\"name\":\"lamp-7\"}}", NULL), PZ_OK);
	/* the key's name is an alias now */
	assert_int_equal(pz_ident_resolve(f->st, "lamp-7", NULL, NULL),
			 PZ_OK);
	expect_refused(f, "{\"type\":\"bind-key\",\"id\":\"" DEV "\",\"key\":"
		       "{\"type\":\"psk\",\"fp\":\"" FP2 "\",\"name\":"
		       "\"lamp-7\"}}", PZ_ESTATE, "rotate it");
	expect_refused(f, "{\"type\":\"bind-key\",\"id\":\"" DEV "\",\"key\":"
		       "{\"type\":\"psk\",\"fp\":\"" FP1 "\"}}", PZ_ESTATE,
		       "already bound");
	expect_refused(f, "{\"type\":\"bind-key\",\"id\":\"" DEV "\",\"key\":"
		       "{\"type\":\"psk\",\"fp\":\"sha256:12\"}}", PZ_EINVAL,
		       "sha256:<64 hex digits>");
	expect_refused(f, "{\"type\":\"rotate-key\",\"id\":\"" DEV "\","
		       "\"key\":{\"type\":\"psk\",\"fp\":\"" FP2 "\",\"name\":"
		       "\"lamp-7\"},\"old\":\"" FP2 "\"}", PZ_ESTATE,
		       "must name the bound");
	assert_int_equal(apply(f, "{\"type\":\"rotate-key\",\"id\":\"" DEV
			       "\",\"key\":{\"type\":\"psk\",\"fp\":\"" FP2
			       "\",\"name\":\"lamp-7\"},\"old\":\"" FP1 "\"}",
			       &rec), PZ_OK);
	assert_int_equal(json_array_size(json_object_get(rec, "keys")), 1);
	assert_string_equal(str(json_array_get(json_object_get(rec, "keys"), 0),
				"fp"), FP2);
	json_decref(rec);
	expect_refused(f, "{\"type\":\"revoke\",\"id\":\"" DEV "\",\"key\":\""
		       FP1 "\"}", PZ_ENOTFOUND, "no such key");
	assert_int_equal(apply(f, "{\"type\":\"revoke\",\"id\":\"" DEV
			       "\",\"key\":\"" FP2 "\"}", &rec), PZ_OK);
	assert_int_equal(json_array_size(json_object_get(rec, "keys")), 0);
	assert_string_equal(str(rec, "status"), "active");
	json_decref(rec);
	assert_int_equal(pz_ident_resolve(f->st, "lamp-7", NULL, NULL),
			 PZ_ENOTFOUND);
	/* a key named like the AE-ID keeps that alias when it goes */
	assert_int_equal(apply(f, "{\"type\":\"bind-key\",\"id\":\"" DEV
			       "\",\"key\":{\"type\":\"psk\",\"fp\":\"" FP1
			       "\",\"name\":\"Clamp7\"}}", NULL), PZ_OK);
	assert_int_equal(apply(f, "{\"type\":\"revoke\",\"id\":\"" DEV
			       "\",\"key\":\"" FP1 "\"}", NULL), PZ_OK);
	assert_int_equal(pz_ident_resolve(f->st, "Clamp7", NULL, NULL),
			 PZ_OK);
}

static void test_certify(void **state)
{
	struct fx *f = *state;
	json_t *rec = NULL, *cert;

	register_device(f);
	expect_refused(f, "{\"type\":\"certify\",\"id\":\"" DEV "\"}",
		       PZ_EINVAL, "needs a result");
	assert_int_equal(apply(f, "{\"type\":\"certify\",\"id\":\"" DEV
			       "\",\"result\":\"PASS\",\"profile\":\"EN 303 "
			       "645\"}", &rec), PZ_OK);
	cert = json_object_get(rec, "cert");
	assert_string_equal(str(cert, "result"), "PASS");
	assert_string_equal(str(cert, "profile"), "EN 303 645");
	assert_int_equal(json_integer_value(json_object_get(cert, "seq")), 1);
	json_decref(rec);
}

static void test_revoke_and_decommission(void **state)
{
	struct fx *f = *state;
	json_t *rec = NULL;

	register_device(f);
	assert_int_equal(apply(f, "{\"type\":\"bind-key\",\"id\":\"" DEV
			       "\",\"key\":{\"type\":\"token\",\"fp\":\"" FP1
			       "\"}}", NULL), PZ_OK);
	expect_refused(f, "{\"type\":\"revoke\",\"id\":\"" DEV "\",\"reason\":"
		       "7}", PZ_EINVAL, "reason must be");
	assert_int_equal(apply(f, "{\"type\":\"revoke\",\"id\":\"" DEV
			       "\",\"reason\":\"stolen\"}", &rec), PZ_OK);
	assert_string_equal(str(rec, "status"), "revoked");
	assert_int_equal(json_array_size(json_object_get(rec, "keys")), 0);
	assert_int_equal(json_array_size(json_object_get(rec, "aliases")), 2);
	json_decref(rec);
	/* nothing more happens to a revoked identity but its end */
	expect_refused(f, "{\"type\":\"bind-key\",\"id\":\"" DEV "\",\"key\":"
		       "{\"type\":\"psk\",\"fp\":\"" FP2 "\"}}", PZ_ESTATE,
		       "is revoked");
	expect_refused(f, "{\"type\":\"revoke\",\"id\":\"" DEV "\"}",
		       PZ_ESTATE, "is revoked");
	assert_int_equal(apply(f, "{\"type\":\"decommission\",\"id\":\"" DEV
			       "\"}", NULL), PZ_ESTATE);
	/* a device is never registered again */
	expect_refused(f, "{\"type\":\"register\",\"id\":\"" DEV "\",\"kind\":"
		       "\"device\"}", PZ_EEXIST, "already registered");
}

static void test_application_comes_back(void **state)
{
	struct fx *f = *state;
	json_t *rec = NULL;

	assert_int_equal(apply(f, "{\"type\":\"register\",\"id\":\"//sp/cse/Cx"
			       "\",\"kind\":\"application\",\"aliases\":[\"Cx\","
			       "\"/cse/Cx\"]}", NULL), PZ_OK);
	assert_int_equal(apply(f, "{\"type\":\"decommission\",\"id\":"
			       "\"//sp/cse/Cx\"}", &rec), PZ_OK);
	assert_string_equal(str(rec, "status"), "decommissioned");
	assert_int_equal(json_array_size(json_object_get(rec, "aliases")), 0);
	json_decref(rec);
	assert_int_equal(pz_ident_resolve(f->st, "Cx", NULL, NULL),
			 PZ_ENOTFOUND);
	/* a device may take the released AE-ID ... */
	assert_int_equal(apply(f, "{\"type\":\"register\",\"id\":\"urn:dev:"
			       "os:32473-1\",\"kind\":\"device\",\"aliases\":"
			       "[\"Cy\"]}", NULL), PZ_OK);
	/* ... and the application registers again, its history kept */
	assert_int_equal(apply(f, "{\"type\":\"register\",\"id\":\"//sp/cse/Cx"
			       "\",\"kind\":\"application\",\"aliases\":"
			       "[\"Cx\"]}", &rec), PZ_OK);
	assert_string_equal(str(rec, "status"), "active");
	assert_int_equal(json_array_size(json_object_get(rec, "history")), 3);
	json_decref(rec);
	/* not as another kind */
	assert_int_equal(apply(f, "{\"type\":\"decommission\",\"id\":"
			       "\"//sp/cse/Cx\"}", NULL), PZ_OK);
	expect_refused(f, "{\"type\":\"register\",\"id\":\"//sp/cse/Cx\","
		       "\"kind\":\"platform\"}", PZ_EEXIST,
		       "already registered");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canon),
		cmocka_unit_test(test_fingerprint),
		T(test_register_and_resolve),
		T(test_register_refused),
		T(test_keys),
		T(test_certify),
		T(test_revoke_and_decommission),
		T(test_application_comes_back),
	};

	if (getenv("PZ_TEST"))
		cmocka_set_test_filter(getenv("PZ_TEST"));
	json_set_alloc_funcs(pz_malloc, pz_free);
	pz_log_set_level("error");
	pz_log_open("/dev/null");
	return cmocka_run_group_tests_name("ident", tests, NULL, NULL);
}
