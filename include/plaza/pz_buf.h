/*
 * pz_buf.h - growable byte buffer with a hard ceiling.
 *
 * Every buffer that grows from outside input has a maximum size; appending
 * past it fails with PZ_ETOOBIG and leaves the buffer as it was.  The data is
 * always NUL-terminated (the NUL is not counted in len) so text can be used
 * in place.
 */
#ifndef PZ_BUF_H
#define PZ_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct pz_buf {
	char *data;    /* owned; NULL until the first append */
	size_t len;    /* bytes used, excluding the trailing NUL */
	size_t cap;    /* bytes allocated */
	size_t max;    /* ceiling for len; 0 means unlimited */
};

/* pz_buf_init - empty buffer with ceiling max (0 = unlimited). */
void pz_buf_init(struct pz_buf *b, size_t max);

/* pz_buf_free - release the data; the buffer is empty again afterwards. */
void pz_buf_free(struct pz_buf *b);

/* pz_buf_reset - keep the allocation, set len to 0. */
void pz_buf_reset(struct pz_buf *b);

/* pz_buf_reserve - room for n more bytes (and the NUL) without changing
 * len.  PZ_OK, PZ_ENOMEM, PZ_ETOOBIG. */
int pz_buf_reserve(struct pz_buf *b, size_t n);

/* Append bytes / a string / formatted text.  PZ_OK, PZ_ENOMEM, PZ_ETOOBIG. */
int pz_buf_add(struct pz_buf *b, const void *p, size_t n);
int pz_buf_adds(struct pz_buf *b, const char *s);
int pz_buf_addf(struct pz_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int pz_buf_vaddf(struct pz_buf *b, const char *fmt, va_list ap);

/* pz_buf_take - hand the data to the caller (frees with pz_free) and
 * reset the buffer; returns "" copy for an empty buffer, NULL on ENOMEM. */
char *pz_buf_take(struct pz_buf *b);

#endif
