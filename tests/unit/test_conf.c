/*
 * test_conf.c - the configuration table and file parser: defaults,
 * pz_conf_set bounds and types, pz_conf_load on temporary files (comments,
 * quotes, unknown and repeated keys, bad values with their line numbers,
 * the line limit), pz_conf_finish, the template and show output, and
 * allocation failure.
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

#include "plaza/pz_conf.h"
#include "plaza/pz_err.h"
#include "plaza/pz_mem.h"

/* Per test: a temporary file name and a configuration. */
struct fx {
	char path[64];
	struct pz_conf c;
	char err[512];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int fd;

	if (!f)
		return -1;
	snprintf(f->path, sizeof(f->path), "/tmp/pz-conf-XXXXXX");
	fd = mkstemp(f->path);
	if (fd < 0 || pz_conf_init(&f->c) != PZ_OK) {
		free(f);
		return -1;
	}
	close(fd);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	pz_conf_free(&f->c);
	unlink(f->path);
	free(f);
	return 0;
}

static void write_file(struct fx *f, const char *text, size_t len)
{
	FILE *fp = fopen(f->path, "w");

	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	fclose(fp);
}

static int load(struct fx *f, const char *text)
{
	write_file(f, text, strlen(text));
	f->err[0] = '\0';
	return pz_conf_load(&f->c, f->path, f->err, sizeof(f->err));
}

/* Loading text must fail with ECONFIG at line, with a reason saying why. */
static void expect_load_error(struct fx *f, const char *text, int line,
			      const char *why)
{
	char want[128];
	int rc = load(f, text);

	if (rc != PZ_ECONFIG)
		fail_msg("'%s': rc %d, want PZ_ECONFIG", text, rc);
	snprintf(want, sizeof(want), "%s:%d: ", f->path, line);
	if (strncmp(f->err, want, strlen(want)))
		fail_msg("'%s': error '%s' does not start with '%s'", text,
			 f->err, want);
	if (!strstr(f->err, why))
		fail_msg("'%s': error '%s' does not say '%s'", text, f->err,
			 why);
}

static void test_defaults(void **state)
{
	struct fx *f = *state;
	const struct pz_conf_row *rows;
	size_t n;

	assert_string_equal(f->c.data, "plaza-data");
	assert_string_equal(f->c.store, "");
	assert_string_equal(f->c.store_sync, "normal");
	assert_int_equal(f->c.store_cache_kb, 32768);
	assert_string_equal(f->c.cse_id, "plaza-in");
	assert_string_equal(f->c.cse_name, "plaza");
	assert_string_equal(f->c.sp_id, "plaza.example");
	assert_string_equal(f->c.admin, "CAdmin");
	assert_string_equal(f->c.http_listen, "127.0.0.1:8080");
	assert_int_equal(f->c.http_max_body, 1048576);
	assert_int_equal(f->c.http_max_conns, 1024);
	assert_int_equal(f->c.http_timeout, 60);
	assert_int_equal(f->c.coap_session_timeout, 60);
	assert_false(f->c.trust_origin);
	assert_true(f->c.reg_open);
	assert_string_equal(f->c.reg_allowed, "C* S*");
	assert_int_equal(f->c.max_results, 10000);
	assert_int_equal(f->c.max_depth, 16);
	assert_int_equal(f->c.json_depth, 32);
	assert_int_equal(f->c.lifetime, 0);
	assert_int_equal(f->c.notify_timeout, 5000);
	assert_int_equal(f->c.notify_queue, 100000);
	assert_string_equal(f->c.log_file, "-");
	assert_string_equal(f->c.log_level, "info");
	assert_string_equal(f->c.portfile, "");

	/* The table is consistent: unique names, defaults within bounds,
	 * documentation on every row. */
	rows = pz_conf_table(&n);
	assert_true(n >= 24);
	for (size_t i = 0; i < n; i++) {
		assert_non_null(rows[i].name);
		assert_non_null(rows[i].def);
		assert_true(rows[i].doc && *rows[i].doc);
		for (size_t k = i + 1; k < n; k++)
			assert_string_not_equal(rows[i].name, rows[k].name);
		if (rows[i].type == PZ_CONF_INT) {
			long long d = atoll(rows[i].def);

			assert_true(rows[i].min <= rows[i].max);
			assert_true(d >= rows[i].min && d <= rows[i].max);
		}
		if (rows[i].type == PZ_CONF_ENUM)
			assert_non_null(rows[i].choices);
	}
}

static void test_set_int(void **state)
{
	struct fx *f = *state;
	char err[256];

	assert_int_equal(pz_conf_set(&f->c, "http.max_body", "1024", err,
				     sizeof(err)), PZ_OK);
	assert_int_equal(f->c.http_max_body, 1024);
	assert_int_equal(pz_conf_set(&f->c, "http.max_body", "67108864", err,
				     sizeof(err)), PZ_OK);
	assert_int_equal(f->c.http_max_body, 67108864);
	assert_int_equal(pz_conf_set(&f->c, "http.max_body", "1023", err,
				     sizeof(err)), PZ_EINVAL);
	assert_non_null(strstr(err, "outside 1024..67108864"));
	assert_int_equal(pz_conf_set(&f->c, "http.max_body", "67108865", err,
				     sizeof(err)), PZ_EINVAL);
	assert_int_equal(f->c.http_max_body, 67108864);
	assert_int_equal(pz_conf_set(&f->c, "coap.session_timeout", "30", err,
				     sizeof(err)), PZ_OK);
	assert_int_equal(f->c.coap_session_timeout, 30);
	assert_int_equal(pz_conf_set(&f->c, "coap.session_timeout", "29", err,
				     sizeof(err)), PZ_EINVAL);
	assert_int_equal(pz_conf_set(&f->c, "coap.session_timeout", "86401",
				     err, sizeof(err)), PZ_EINVAL);
	assert_int_equal(f->c.coap_session_timeout, 30);
	assert_int_equal(pz_conf_set(&f->c, "resource.lifetime", "0", err,
				     sizeof(err)), PZ_OK);
	assert_int_equal(pz_conf_set(&f->c, "resource.lifetime", "-1", err,
				     sizeof(err)), PZ_EINVAL);
	static const char *const bad[] = { "", "x", "12abc", "1.5", "0x10",
					   "99999999999999999999", "1e3" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (pz_conf_set(&f->c, "http.timeout", bad[i], err,
				sizeof(err)) != PZ_EINVAL)
			fail_msg("http.timeout=%s accepted", bad[i]);
		assert_non_null(strstr(err, "http.timeout"));
	}
	assert_int_equal(f->c.http_timeout, 60);
}

static void test_set_bool_enum_str(void **state)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	static const char *const bad[] = { "", "TRUE", "y", "2", "maybe" };
	struct fx *f = *state;
	char err[256];

	for (int i = 0; i < 4; i++) {
		assert_int_equal(pz_conf_set(&f->c, "auth.trust_origin", yes[i],
					     err, sizeof(err)), PZ_OK);
		assert_true(f->c.trust_origin);
		assert_int_equal(pz_conf_set(&f->c, "auth.trust_origin", no[i],
					     err, sizeof(err)), PZ_OK);
		assert_false(f->c.trust_origin);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(pz_conf_set(&f->c, "auth.trust_origin", bad[i],
					     err, sizeof(err)), PZ_EINVAL);

	assert_int_equal(pz_conf_set(&f->c, "store.sync", "full", err,
				     sizeof(err)), PZ_OK);
	assert_string_equal(f->c.store_sync, "full");
	static const char *const bad_enum[] = { "", "FULL", "ful", "fulll",
						"normal|full", "|", "full " };
	for (size_t i = 0; i < sizeof(bad_enum) / sizeof(bad_enum[0]); i++) {
		if (pz_conf_set(&f->c, "store.sync", bad_enum[i], err,
				sizeof(err)) != PZ_EINVAL)
			fail_msg("store.sync='%s' accepted", bad_enum[i]);
		assert_non_null(strstr(err, "normal|full"));
	}
	assert_string_equal(f->c.store_sync, "full");
	assert_int_equal(pz_conf_set(&f->c, "log.level", "debug", err,
				     sizeof(err)), PZ_OK);
	assert_int_equal(pz_conf_set(&f->c, "log.level", "trace", err,
				     sizeof(err)), PZ_EINVAL);

	assert_int_equal(pz_conf_set(&f->c, "cse.name", "", err, sizeof(err)),
			 PZ_OK);
	assert_string_equal(f->c.cse_name, "");
	assert_int_equal(pz_conf_set(&f->c, "nope", "1", err, sizeof(err)),
			 PZ_ENOTFOUND);
	assert_non_null(strstr(err, "nope"));
	assert_int_equal(pz_conf_set(&f->c, "", "1", err, sizeof(err)),
			 PZ_ENOTFOUND);
}

static void test_load(void **state)
{
	struct fx *f = *state;

	assert_int_equal(load(f,
		"# a comment\n"
		"\n"
		"   # an indented comment\n"
		"cse.id = my-in\n"
		"cse.name=base   # trailing comment\n"
		"  sp.id\t=\tcity.example  \n"
		"registration.allowed = \"Cfoo* Sbar\"\n"
		"log.file = \"/var/log/plaza #1.log\"  # quoted '#'\n"
		"data = \"  spaced  \"\n"
		"portfile = \"\"\n"
		"admin = C#x\n"
		"http.timeout = 5\n"
		"auth.trust_origin = yes\n"
		"store.sync = full\r\n"), PZ_OK);
	assert_string_equal(f->c.cse_id, "my-in");
	assert_string_equal(f->c.cse_name, "base");
	assert_string_equal(f->c.sp_id, "city.example");
	assert_string_equal(f->c.reg_allowed, "Cfoo* Sbar");
	assert_string_equal(f->c.log_file, "/var/log/plaza #1.log");
	assert_string_equal(f->c.data, "  spaced  ");
	assert_string_equal(f->c.portfile, "");
	assert_string_equal(f->c.admin, "C#x");
	assert_int_equal(f->c.http_timeout, 5);
	assert_true(f->c.trust_origin);
	assert_string_equal(f->c.store_sync, "full");
	/* Untouched settings keep their defaults. */
	assert_int_equal(f->c.http_max_body, 1048576);
}

static void test_load_empty(void **state)
{
	struct fx *f = *state;

	assert_int_equal(load(f, ""), PZ_OK);
	assert_int_equal(load(f, "\n\n# only comments\n"), PZ_OK);
	assert_int_equal(load(f, "http.timeout = 7"), PZ_OK);  /* no '\n' */
	assert_int_equal(f->c.http_timeout, 7);
}

static void test_load_errors(void **state)
{
	struct fx *f = *state;

	expect_load_error(f, "# ok\nnope = 1\n", 2, "unknown setting 'nope'");
	expect_load_error(f, "cse.id = a\n\ncse.id = b\n", 3, "set twice");
	expect_load_error(f, "\n\n\nhttp.timeout = 0\n", 4,
			  "http.timeout: 0 is outside 1..3600");
	expect_load_error(f, "http.timeout = ten\n", 1, "not an integer");
	expect_load_error(f, "auth.trust_origin = sure\n", 1,
			  "not true or false");
	expect_load_error(f, "log.level = loud\n", 1,
			  "not one of error|warn|info|debug");
	expect_load_error(f, "cse.id\n", 1, "expected 'key = value'");
	expect_load_error(f, "data = \"unterminated\n", 1,
			  "unterminated quoted value");
	expect_load_error(f, "data = \"a\" b\n", 1,
			  "unterminated quoted value");
	expect_load_error(f, "= value\n", 1, "unknown setting ''");
	expect_load_error(f, "Cse.id = x\n", 1, "unknown setting");
	/* The first error is the one reported. */
	expect_load_error(f, "a = 1\nb = 2\n", 1, "'a'");
}

static void test_load_missing(void **state)
{
	struct fx *f = *state;
	char err[256];

	assert_int_equal(pz_conf_load(&f->c, "/nonexistent/plaza.conf", err,
				      sizeof(err)), PZ_EIO);
	assert_non_null(strstr(err, "/nonexistent/plaza.conf"));
}

/* Lines up to 4094 characters (plus the newline) are read whole, the
 * last one with or without a newline; longer ones are an error, not a
 * silent split into two lines. */
static void test_load_long_lines(void **state)
{
	struct fx *f = *state;
	char *text = malloc(8192);
	size_t n;

	assert_non_null(text);
	/* "data = " + value: 4094 characters before the newline */
	n = (size_t)snprintf(text, 8192, "data = ");
	memset(text + n, 'x', 4094 - n);
	text[4094] = '\n';
	text[4095] = '\0';
	if (load(f, text) != PZ_OK)
		fail_msg("4094-character line: %s", f->err);
	assert_int_equal(strlen(f->c.data), 4094 - 7);
	text[4094] = '\0';
	if (load(f, text) != PZ_OK)
		fail_msg("4094-character last line without a newline: %s",
			 f->err);
	/* One more character is too long, with or without the newline. */
	memset(text + 7, 'y', 4095 - 7);
	text[4095] = '\n';
	text[4096] = '\0';
	expect_load_error(f, text, 1, "line too long");
	text[4095] = '\0';
	expect_load_error(f, text, 1, "line too long");
	/* A long line after good ones reports its own number. */
	memmove(text + 16, text, 4096);
	memcpy(text, "http.timeout=9\n\n", 16);
	expect_load_error(f, text, 3, "line too long");
	free(text);
}

static void test_finish(void **state)
{
	struct fx *f = *state;
	char err[256];

	assert_int_equal(pz_conf_set(&f->c, "data", "/srv/plaza", err,
				     sizeof(err)), PZ_OK);
	assert_int_equal(pz_conf_finish(&f->c, err, sizeof(err)), PZ_OK);
	assert_string_equal(f->c.store, "sqlite:/srv/plaza/plaza.db");
	/* An explicit store is kept. */
	assert_int_equal(pz_conf_set(&f->c, "store", "sqlite:/x.db", err,
				     sizeof(err)), PZ_OK);
	assert_int_equal(pz_conf_finish(&f->c, err, sizeof(err)), PZ_OK);
	assert_string_equal(f->c.store, "sqlite:/x.db");
}

static void test_finish_rules(void **state)
{
	static const struct { const char *key, *value; } bad[] = {
		{ "cse.id", "" }, { "cse.id", "a/b" }, { "cse.id", "a b" },
		{ "cse.name", "" }, { "cse.name", "x?" },
		{ "admin", "" }, { "admin", "Admin" }, { "admin", "C/x" },
		{ "sp.id", "" }, { "sp.id", "//sp" },
		{ "http.listen", "" },
	};
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pz_conf c;
		char err[256] = "";

		assert_int_equal(pz_conf_init(&c), PZ_OK);
		assert_int_equal(pz_conf_set(&c, bad[i].key, bad[i].value, err,
					     sizeof(err)), PZ_OK);
		if (pz_conf_finish(&c, err, sizeof(err)) != PZ_ECONFIG)
			fail_msg("%s='%s' passed pz_conf_finish", bad[i].key,
				 bad[i].value);
		assert_true(strlen(err) > 0);
		pz_conf_free(&c);
	}
	(void)f;
}

/* Values equal setting by setting. */
static void expect_same(const struct pz_conf *a, const struct pz_conf *b)
{
	const struct pz_conf_row *rows;
	size_t n;

	rows = pz_conf_table(&n);
	for (size_t i = 0; i < n; i++) {
		const char *pa = (const char *)a + rows[i].off;
		const char *pb = (const char *)b + rows[i].off;

		switch (rows[i].type) {
		case PZ_CONF_INT:
			assert_int_equal(*(const int64_t *)pa,
					 *(const int64_t *)pb);
			break;
		case PZ_CONF_BOOL:
			assert_int_equal(*(const bool *)pa, *(const bool *)pb);
			break;
		default:
			assert_string_equal(*(char *const *)pa,
					    *(char *const *)pb);
		}
	}
}

/* The template loads as it is (all commented out) and, uncommented, gives
 * the defaults back: it documents exactly the table. */
static void test_template(void **state)
{
	struct fx *f = *state;
	struct pz_conf def;
	char *text = NULL, *un, line[1024];
	size_t len = 0, o = 0;
	FILE *mem = open_memstream(&text, &len);
	const struct pz_conf_row *rows;
	size_t n;

	assert_non_null(mem);
	pz_conf_template(mem);
	fclose(mem);
	rows = pz_conf_table(&n);
	for (size_t i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "\n#%s = ", rows[i].name);
		if (!strstr(text, line))
			fail_msg("template lacks %s", rows[i].name);
	}
	assert_int_equal(load(f, text), PZ_OK);
	un = malloc(len + 1);
	assert_non_null(un);
	for (const char *p = text; *p; ) {
		size_t l = strcspn(p, "\n");

		/* "#key = value" lines become settings. */
		if (p[0] == '#' && p[1] != ' ' && l > 1 &&
		    memchr(p, '=', l)) {
			memcpy(un + o, p + 1, l - 1);
			o += l - 1;
		}
		un[o++] = '\n';
		p += l + (p[l] == '\n');
	}
	un[o] = '\0';
	pz_conf_free(&f->c);
	assert_int_equal(pz_conf_init(&f->c), PZ_OK);
	if (load(f, un) != PZ_OK)
		fail_msg("uncommented template: %s", f->err);
	assert_int_equal(pz_conf_init(&def), PZ_OK);
	expect_same(&f->c, &def);
	pz_conf_free(&def);
	free(un);
	free(text);
}

static void test_show(void **state)
{
	struct fx *f = *state;
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	assert_non_null(mem);
	pz_conf_show(&f->c, mem);
	fclose(mem);
	assert_non_null(strstr(text, "http.max_body          = 1048576\n"));
	assert_non_null(strstr(text, "auth.trust_origin      = false\n"));
	assert_non_null(strstr(text, "registration.allowed   = C* S*\n"));
	free(text);

	mem = open_memstream(&text, &len);
	assert_non_null(mem);
	pz_conf_markdown(mem);
	fclose(mem);
	assert_non_null(strstr(text, "| `store.sync` |"));
	assert_non_null(strstr(text, "normal, full"));
	free(text);
}

/* Allocation failures in init and load: PZ_ENOMEM (or success), and a
 * loaded configuration equal to the one loaded without failures. */
static void test_alloc_failure(void **state)
{
	struct fx *f = *state;
	const char *text = "cse.id = x-in\ndata = \"/d\"\nlog.level = warn\n"
			   "http.timeout = 3\n";
	struct pz_conf want;
	unsigned long n;
	int rc = PZ_ENOMEM;

	assert_int_equal(pz_conf_init(&want), PZ_OK);
	write_file(f, text, strlen(text));
	assert_int_equal(pz_conf_load(&want, f->path, f->err, sizeof(f->err)),
			 PZ_OK);
	for (n = 1; n < 1000; n++) {
		struct pz_conf c;

		pz_mem_fail_after(n);
		rc = pz_conf_init(&c);
		if (rc == PZ_OK) {
			memset(f->err, 0, sizeof(f->err));
			rc = pz_conf_load(&c, f->path, f->err,
					  sizeof(f->err));
			pz_mem_fail_after(0);
			if (rc == PZ_OK)
				expect_same(&c, &want);
			else if (rc != PZ_ENOMEM)
				fail_msg("n=%lu: load rc %d (%s)", n, rc,
					 f->err);
			pz_conf_free(&c);
		}
		pz_mem_fail_after(0);
		if (rc == PZ_OK)
			break;
		assert_int_equal(rc, PZ_ENOMEM);
	}
	assert_int_equal(rc, PZ_OK);
	pz_conf_free(&want);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_defaults),
		T(test_set_int),
		T(test_set_bool_enum_str),
		T(test_load),
		T(test_load_empty),
		T(test_load_errors),
		T(test_load_missing),
		T(test_load_long_lines),
		T(test_finish),
		T(test_finish_rules),
		T(test_template),
		T(test_show),
		T(test_alloc_failure),
	};

	/* PZ_TEST=pattern runs only the matching tests (docs/testing.md). */
	if (getenv("PZ_TEST"))
		cmocka_set_test_filter(getenv("PZ_TEST"));
	return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
}
