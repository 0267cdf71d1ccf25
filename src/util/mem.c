/*
 * mem.c - allocation wrappers; fault injection in PZ_FAULT_INJECTION builds.
 *
 * The failure counter is process-global and not thread-safe: plaza's loop is
 * single-threaded and libcurl's resolver threads do not allocate through us.
 */
#include <stdlib.h>
#include <string.h>

#include "plaza/pz_mem.h"

#ifdef PZ_FAULT_INJECTION
static unsigned long mem_count;      /* allocations attempted so far */
static unsigned long mem_fail_at;    /* 0 = never fail */
static int mem_env_read;             /* PZ_FAIL_ALLOC consulted */

static int mem_should_fail(void)
{
	if (!mem_env_read) {
		const char *s = getenv("PZ_FAIL_ALLOC");

		mem_env_read = 1;
		if (s && *s)
			mem_fail_at = strtoul(s, NULL, 10);
	}
	mem_count++;
	return mem_fail_at && mem_count >= mem_fail_at;
}

void pz_mem_fail_after(unsigned long n)
{
	mem_env_read = 1;
	mem_count = 0;
	mem_fail_at = n;
}

unsigned long pz_mem_count(void)
{
	return mem_count;
}
#else
static int mem_should_fail(void)
{
	return 0;
}

void pz_mem_fail_after(unsigned long n)
{
	(void)n;
}

unsigned long pz_mem_count(void)
{
	return 0;
}
#endif

void *pz_malloc(size_t n)
{
	if (mem_should_fail())
		return NULL;
	return malloc(n ? n : 1);
}

void *pz_calloc(size_t nmemb, size_t size)
{
	if (mem_should_fail())
		return NULL;
	return calloc(nmemb ? nmemb : 1, size ? size : 1);
}

void *pz_realloc(void *p, size_t n)
{
	if (mem_should_fail())
		return NULL;
	return realloc(p, n ? n : 1);
}

void pz_free(void *p)
{
	free(p);
}

char *pz_strndup(const char *s, size_t n)
{
	char *d = pz_malloc(n + 1);

	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *pz_strdup(const char *s)
{
	return s ? pz_strndup(s, strlen(s)) : NULL;
}
