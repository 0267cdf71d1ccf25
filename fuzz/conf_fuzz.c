/*
 * conf_fuzz.c - libFuzzer target for the configuration file parser
 * (pz_conf_load, pz_conf_finish).
 *
 * The input is written to a memfd and loaded through /proc/self/fd/N, so
 * the real file path of pz_conf_load runs without touching the disk.  A
 * refusal must be PZ_ECONFIG with "path:line: reason".  An accepted file
 * is written back, one "key=value" line per setting (quoted only where
 * the value needs it), loaded again, and must give the same settings.
 * pz_conf_finish must then pass or refuse with a reason.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "plaza/pz_conf.h"
#include "plaza/pz_err.h"

#define FZ_CHECK(c)                                                       \
	do {                                                              \
		if (!(c)) {                                               \
			fprintf(stderr, "%s:%d: check failed: %s\n",      \
				__FILE__, __LINE__, #c);                  \
			abort();                                          \
		}                                                         \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A memfd holding data; its path in *path. */
static int fz_memfd(const void *data, size_t size, char path[64])
{
	int fd = memfd_create("plaza-conf", MFD_CLOEXEC);
	const char *p = data;

	FZ_CHECK(fd >= 0);
	while (size) {
		ssize_t n = write(fd, p, size);

		FZ_CHECK(n > 0);
		p += n;
		size -= (size_t)n;
	}
	snprintf(path, 64, "/proc/self/fd/%d", fd);
	return fd;
}

/* Does v need quotes to come back unchanged? */
static bool fz_needs_quotes(const char *v)
{
	size_t n = strlen(v);

	return n && (v[0] == '"' || isspace((unsigned char)v[0]) ||
		     isspace((unsigned char)v[n - 1]) || strstr(v, " #"));
}

/* c as a configuration file. */
static char *fz_write_back(const struct pz_conf *c, size_t *len)
{
	const struct pz_conf_row *rows;
	char *text = NULL;
	size_t n;
	FILE *f = open_memstream(&text, len);

	FZ_CHECK(f);
	rows = pz_conf_table(&n);
	for (size_t i = 0; i < n; i++) {
		const char *field = (const char *)c + rows[i].off;
		const char *v;

		switch (rows[i].type) {
		case PZ_CONF_INT:
			fprintf(f, "%s=%lld\n", rows[i].name,
				(long long)*(const int64_t *)field);
			break;
		case PZ_CONF_BOOL:
			fprintf(f, "%s=%s\n", rows[i].name,
				*(const bool *)field ? "true" : "false");
			break;
		default:
			v = *(char *const *)field;
			/* A loaded value never holds both a quote and a
			 * reason to be quoted. */
			FZ_CHECK(!fz_needs_quotes(v) || !strchr(v, '"'));
			fprintf(f, fz_needs_quotes(v) ? "%s=\"%s\"\n" :
				"%s=%s\n", rows[i].name, v);
			break;
		}
	}
	fclose(f);
	return text;
}

static void fz_same(const struct pz_conf *a, const struct pz_conf *b)
{
	const struct pz_conf_row *rows;
	size_t n;

	rows = pz_conf_table(&n);
	for (size_t i = 0; i < n; i++) {
		const char *pa = (const char *)a + rows[i].off;
		const char *pb = (const char *)b + rows[i].off;
		bool same;

		switch (rows[i].type) {
		case PZ_CONF_INT:
			same = *(const int64_t *)pa == *(const int64_t *)pb;
			break;
		case PZ_CONF_BOOL:
			same = *(const bool *)pa == *(const bool *)pb;
			break;
		default:
			same = !strcmp(*(char *const *)pa, *(char *const *)pb);
			break;
		}
		if (!same) {
			fprintf(stderr, "round trip changed %s\n",
				rows[i].name);
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pz_conf a, b;
	char path[64], err[512], *back;
	size_t len;
	int fd, rc;

	FZ_CHECK(pz_conf_init(&a) == PZ_OK);
	fd = fz_memfd(data, size, path);
	memset(err, 'x', sizeof(err));
	rc = pz_conf_load(&a, path, err, sizeof(err));
	close(fd);
	FZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL || rc == PZ_OK);
	if (rc != PZ_OK) {
		size_t n = strlen(path);

		FZ_CHECK(rc == PZ_ECONFIG);
		FZ_CHECK(!strncmp(err, path, n) && err[n] == ':');
		FZ_CHECK(isdigit((unsigned char)err[n + 1]));
		FZ_CHECK(strstr(err + n + 1, ": ") != NULL);
		pz_conf_free(&a);
		return 0;
	}
	back = fz_write_back(&a, &len);
	FZ_CHECK(pz_conf_init(&b) == PZ_OK);
	fd = fz_memfd(back, len, path);
	rc = pz_conf_load(&b, path, err, sizeof(err));
	close(fd);
	if (rc != PZ_OK) {
		fprintf(stderr, "written-back file refused: %s\n---\n%s---\n",
			err, back);
		abort();
	}
	fz_same(&a, &b);
	memset(err, 'x', sizeof(err));
	rc = pz_conf_finish(&a, err, sizeof(err));
	FZ_CHECK(rc == PZ_OK || rc == PZ_ECONFIG);
	if (rc != PZ_OK)
		FZ_CHECK(memchr(err, '\0', sizeof(err)) && err[0]);
	else
		FZ_CHECK(a.store[0] != '\0');
	free(back);
	pz_conf_free(&a);
	pz_conf_free(&b);
	return 0;
}
