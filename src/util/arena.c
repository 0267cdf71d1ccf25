/*
 * arena.c - region allocator for request-lifetime data (see pz_arena.h).
 */
#include <stdalign.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "plaza/pz_arena.h"
#include "plaza/pz_mem.h"

#define ARENA_CHUNK 4096
#define ARENA_CACHE 64   /* standard chunks kept for reuse */

struct pz_arena_chunk {
	struct pz_arena_chunk *next;  /* older chunk */
	size_t size;                  /* usable bytes in mem */
	alignas(max_align_t) unsigned char mem[];
};

/*
 * Most requests need one standard chunk; keeping a few freed ones spares
 * the allocator a 4 KiB malloc/free per request.  The cache is
 * process-global and not thread-safe: arenas belong to the loop thread.
 */
static struct pz_arena_chunk *arena_cache[ARENA_CACHE];
static int arena_ncache;

static void arena_release(struct pz_arena_chunk *c)
{
	if (c->size == ARENA_CHUNK && arena_ncache < ARENA_CACHE)
		arena_cache[arena_ncache++] = c;
	else
		pz_free(c);
}

static struct pz_arena_chunk *arena_get(size_t size)
{
	struct pz_arena_chunk *c;

	if (size == ARENA_CHUNK && arena_ncache > 0)
		return arena_cache[--arena_ncache];
	c = pz_malloc(sizeof(*c) + size);
	if (c)
		c->size = size;
	return c;
}

void pz_arena_init(struct pz_arena *a)
{
	a->head = NULL;
	a->used = 0;
	a->total = 0;
}

void pz_arena_free(struct pz_arena *a)
{
	struct pz_arena_chunk *c = a->head, *next;

	while (c) {
		next = c->next;
		arena_release(c);
		c = next;
	}
	pz_arena_init(a);
}

void *pz_arena_alloc(struct pz_arena *a, size_t n)
{
	const size_t al = alignof(max_align_t);
	struct pz_arena_chunk *c;
	size_t off, size;

	if (n > SIZE_MAX / 2)
		return NULL;
	off = (a->used + al - 1) & ~(al - 1);
	if (!a->head || off + n > a->head->size) {
		size = n > ARENA_CHUNK ? n : ARENA_CHUNK;
		c = arena_get(size);
		if (!c)
			return NULL;
		c->next = a->head;
		a->head = c;
		off = 0;
	}
	a->used = off + n;
	a->total += n;
	return a->head->mem + off;
}

char *pz_arena_strndup(struct pz_arena *a, const char *s, size_t n)
{
	char *d;

	if (!s)
		return NULL;
	d = pz_arena_alloc(a, n + 1);
	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *pz_arena_strdup(struct pz_arena *a, const char *s)
{
	return s ? pz_arena_strndup(a, s, strlen(s)) : NULL;
}

char *pz_arena_printf(struct pz_arena *a, const char *fmt, ...)
{
	va_list ap;
	char *d;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	d = pz_arena_alloc(a, (size_t)n + 1);
	if (!d)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(d, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return d;
}
