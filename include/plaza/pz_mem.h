/*
 * pz_mem.h - allocation wrappers with fault injection.
 *
 * All plaza code allocates through these functions.  In builds with
 * PZ_FAULT_INJECTION defined, the environment variable PZ_FAIL_ALLOC=N makes
 * the Nth allocation (counting from 1) and every later one fail, so tests can
 * walk N = 1, 2, ... and check that every failure path is clean.
 */
#ifndef PZ_MEM_H
#define PZ_MEM_H

#include <stddef.h>

/* Like malloc/calloc/realloc; NULL on failure.  pz_free(NULL) is a no-op. */
void *pz_malloc(size_t n);
void *pz_calloc(size_t nmemb, size_t size);
void *pz_realloc(void *p, size_t n);
void pz_free(void *p);

/* Copy of a NUL-terminated string / of n bytes plus a NUL; caller frees. */
char *pz_strdup(const char *s);
char *pz_strndup(const char *s, size_t n);

/*
 * pz_mem_fail_after - fail allocation number n (1-based) and all later ones;
 * 0 disables.  Only effective with PZ_FAULT_INJECTION; used by unit tests.
 */
void pz_mem_fail_after(unsigned long n);

/* pz_mem_count - allocations made so far (fault-injection builds only). */
unsigned long pz_mem_count(void);

#endif
