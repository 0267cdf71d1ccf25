/*
 * buf.c - growable byte buffer with a ceiling (see pz_buf.h).
 */
#include <stdio.h>
#include <string.h>

#include "plaza/pz_buf.h"
#include "plaza/pz_err.h"
#include "plaza/pz_mem.h"

void pz_buf_init(struct pz_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void pz_buf_free(struct pz_buf *b)
{
	pz_free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void pz_buf_reset(struct pz_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

/* Make room for n more bytes plus the NUL. */
int pz_buf_reserve(struct pz_buf *b, size_t n)
{
	size_t need, cap;
	char *p;

	if (n > (size_t)-1 / 2 - b->len)
		return PZ_ETOOBIG;
	if (b->max && b->len + n > b->max)
		return PZ_ETOOBIG;
	need = b->len + n + 1;
	if (need <= b->cap)
		return PZ_OK;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	p = pz_realloc(b->data, cap);
	if (!p)
		return PZ_ENOMEM;
	b->data = p;
	b->cap = cap;
	return PZ_OK;
}

int pz_buf_add(struct pz_buf *b, const void *p, size_t n)
{
	int rc = pz_buf_reserve(b, n);

	if (rc != PZ_OK)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return PZ_OK;
}

int pz_buf_adds(struct pz_buf *b, const char *s)
{
	return pz_buf_add(b, s, strlen(s));
}

int pz_buf_vaddf(struct pz_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n, rc;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return PZ_EINVAL;
	rc = pz_buf_reserve(b, (size_t)n);
	if (rc != PZ_OK)
		return rc;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return PZ_OK;
}

int pz_buf_addf(struct pz_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = pz_buf_vaddf(b, fmt, ap);
	va_end(ap);
	return rc;
}

char *pz_buf_take(struct pz_buf *b)
{
	char *p = b->data;

	if (!p)
		return pz_strdup("");
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}
