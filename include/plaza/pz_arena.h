/*
 * pz_arena.h - a region allocator for things that live as long as one
 * request.  Allocations are freed all at once by pz_arena_free; individual
 * frees do not exist.  Not thread-safe (nothing in plazad's loop needs it).
 */
#ifndef PZ_ARENA_H
#define PZ_ARENA_H

#include <stddef.h>

struct pz_arena_chunk;

struct pz_arena {
	struct pz_arena_chunk *head;  /* newest chunk, owned */
	size_t used;                  /* bytes used in head */
	size_t total;                 /* bytes handed out, for limits */
};

/* pz_arena_init - empty arena; allocates nothing until first use. */
void pz_arena_init(struct pz_arena *a);

/* pz_arena_free - release everything allocated from a; a is empty after. */
void pz_arena_free(struct pz_arena *a);

/* pz_arena_alloc - n bytes aligned for any type, NULL on ENOMEM. */
void *pz_arena_alloc(struct pz_arena *a, size_t n);

/* pz_arena_strdup / strndup - copies living in the arena; NULL input gives
 * NULL, ENOMEM gives NULL. */
char *pz_arena_strdup(struct pz_arena *a, const char *s);
char *pz_arena_strndup(struct pz_arena *a, const char *s, size_t n);

/* pz_arena_printf - formatted string in the arena, NULL on ENOMEM. */
char *pz_arena_printf(struct pz_arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
