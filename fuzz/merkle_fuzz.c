/*
 * merkle_fuzz.c - libFuzzer target for the RFC 9162 Merkle module
 * (pz_merkle.h): proof generation and the two verifiers.
 *
 * A deterministic log of 300 entries ("entry-<i>") is built once through
 * pz_merkle_leaf/pz_merkle_append, its emitted nodes stored.  The input is
 * read as little-endian numbers (missing bytes read as zero):
 *
 *   mode 0/1  a tree size n <= 300, a leaf index (0) or old size (1), and
 *             a perturbation.  The module's proof must equal the one
 *             built here by the RFC's recursive definition, and verify.
 *             A flipped bit (in the proof, leaf or roots), a truncation,
 *             an extension, a prepended hash or two hashes swapped must be
 *             refused; another index or size must get the verdict of the
 *             reference verifier (below).
 *   mode 2/3  arbitrary numbers and proof bytes for the inclusion (2) or
 *             consistency (3) verifier: no crash, and the reference's
 *             verdict (false, short of a SHA-256 collision).
 *
 * The reference verifiers rebuild the root(s) along the RFC's recursive
 * PATH and SUBPROOF and accept iff every hash is used and the roots match;
 * the module runs the RFC's iterative algorithms, so each checks the
 * other.  Proofs are passed in heap buffers of exactly their size, so an
 * overread is caught by AddressSanitizer.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plaza/pz_err.h"
#include "plaza/pz_merkle.h"

#define FZ_CHECK(c)                                                       \
	do {                                                              \
		if (!(c)) {                                               \
			fprintf(stderr, "%s:%d: check failed: %s\n",      \
				__FILE__, __LINE__, #c);                  \
			abort();                                          \
		}                                                         \
	} while (0)

#define HL PZ_MERKLE_HASH_LEN
#define FZ_N 300u             /* entries in the log */
#define FZ_LEVELS 9           /* 2^8 <= 300 < 2^9 */
#define FZ_MAXH (PZ_MERKLE_MAX_PROOF + 4)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t fz_node[FZ_LEVELS][FZ_N][HL];   /* emitted nodes */
static uint8_t fz_root[FZ_N + 1][HL];          /* frontier roots */
static uint8_t fz_mth[FZ_N + 1][FZ_N + 1][HL]; /* reference MTH cache */
static uint8_t fz_have[FZ_N + 1][FZ_N + 1];
static uint64_t fz_size;                       /* tree get() serves */

static void fz_hash(const uint8_t *l, const uint8_t *r, uint8_t *out)
{
	FZ_CHECK(pz_merkle_node(l, r, out) == PZ_OK);
}

static int fz_emit(void *arg, unsigned level, uint64_t index,
		   const uint8_t hash[HL])
{
	(void)arg;
	FZ_CHECK(level < FZ_LEVELS && index < (FZ_N >> level));
	memcpy(fz_node[level][index], hash, HL);
	return PZ_OK;
}

static int fz_get(void *arg, unsigned level, uint64_t index, uint8_t out[HL])
{
	(void)arg;
	/* The module asks only for nodes of the tree it works on. */
	FZ_CHECK(level < FZ_LEVELS && index < (fz_size >> level));
	memcpy(out, fz_node[level][index], HL);
	return PZ_OK;
}

static void fz_init(void)
{
	struct pz_merkle_frontier f;
	uint8_t leaf[HL];
	char text[32];

	pz_merkle_frontier_init(&f);
	pz_merkle_empty(fz_root[0]);
	for (unsigned i = 0; i < FZ_N; i++) {
		int len = snprintf(text, sizeof(text), "entry-%u", i);

		FZ_CHECK(pz_merkle_leaf(text, (size_t)len, leaf) == PZ_OK);
		FZ_CHECK(pz_merkle_append(&f, leaf, fz_emit, NULL) == PZ_OK);
		FZ_CHECK(pz_merkle_frontier_root(&f, fz_root[i + 1]) == PZ_OK);
	}
}

/* The RFC's k, by doubling. */
static uint64_t fz_split(uint64_t s)
{
	uint64_t k = 1;

	while (k < s - k)
		k <<= 1;
	return k;
}

/* MTH(D[lo:hi]) by the recursive definition, from the leaf hashes. */
static const uint8_t *fz_ref_mth(unsigned lo, unsigned hi)
{
	if (!fz_have[lo][hi]) {
		if (hi == lo) {
			pz_merkle_empty(fz_mth[lo][hi]);
		} else if (hi - lo == 1) {
			memcpy(fz_mth[lo][hi], fz_node[0][lo], HL);
		} else {
			unsigned k = (unsigned)fz_split(hi - lo);

			fz_hash(fz_ref_mth(lo, lo + k), fz_ref_mth(lo + k, hi),
				fz_mth[lo][hi]);
		}
		fz_have[lo][hi] = 1;
	}
	return fz_mth[lo][hi];
}

/* PATH(i, D[lo:hi]) and SUBPROOF(m, D[lo:hi], b), m absolute. */
static void fz_ref_path(unsigned i, unsigned lo, unsigned hi, uint8_t *p,
			size_t *len)
{
	unsigned k;

	if (hi - lo == 1)
		return;
	k = (unsigned)fz_split(hi - lo);
	if (i < lo + k) {
		fz_ref_path(i, lo, lo + k, p, len);
		memcpy(p + HL * (*len)++, fz_ref_mth(lo + k, hi), HL);
	} else {
		fz_ref_path(i, lo + k, hi, p, len);
		memcpy(p + HL * (*len)++, fz_ref_mth(lo, lo + k), HL);
	}
}

static void fz_ref_subproof(unsigned m, unsigned lo, unsigned hi, bool b,
			    uint8_t *p, size_t *len)
{
	unsigned k;

	if (m == hi) {
		if (!b)
			memcpy(p + HL * (*len)++, fz_ref_mth(lo, hi), HL);
		return;
	}
	k = (unsigned)fz_split(hi - lo);
	if (m <= lo + k) {
		fz_ref_subproof(m, lo, lo + k, b, p, len);
		memcpy(p + HL * (*len)++, fz_ref_mth(lo + k, hi), HL);
	} else {
		fz_ref_subproof(m, lo + k, hi, false, p, len);
		memcpy(p + HL * (*len)++, fz_ref_mth(lo, lo + k), HL);
	}
}

/* --- reference verifiers --------------------------------------------- */

struct fz_cur {
	const uint8_t *p;
	size_t len, pos;
	bool out;           /* asked for more than len */
};

static const uint8_t *fz_next(struct fz_cur *c)
{
	static const uint8_t zero[HL];

	if (c->pos == c->len) {
		c->out = true;
		return zero;
	}
	return c->p + HL * c->pos++;
}

static void fz_vinc(uint64_t i, uint64_t lo, uint64_t hi, const uint8_t *leaf,
		    struct fz_cur *c, uint8_t *out)
{
	uint8_t x[HL];
	uint64_t k;

	if (hi - lo == 1) {
		memcpy(out, leaf, HL);
		return;
	}
	k = fz_split(hi - lo);
	if (i < lo + k) {
		fz_vinc(i, lo, lo + k, leaf, c, x);
		fz_hash(x, fz_next(c), out);
	} else {
		fz_vinc(i, lo + k, hi, leaf, c, x);
		fz_hash(fz_next(c), x, out);
	}
}

static bool fz_ref_vinc(uint64_t i, uint64_t n, const uint8_t *leaf,
			const uint8_t *p, size_t len, const uint8_t *root)
{
	struct fz_cur c = { p, len, 0, false };
	uint8_t r[HL];

	if (i >= n)
		return false;
	fz_vinc(i, 0, n, leaf, &c, r);
	return !c.out && c.pos == len && !memcmp(r, root, HL);
}

static void fz_vcon(uint64_t m, uint64_t lo, uint64_t hi, bool b,
		    const uint8_t *r1, struct fz_cur *c, uint8_t *fr,
		    uint8_t *sr)
{
	const uint8_t *x;
	uint64_t k;

	if (m == hi) {
		x = b ? r1 : fz_next(c);
		memcpy(fr, x, HL);
		memcpy(sr, x, HL);
		return;
	}
	k = fz_split(hi - lo);
	if (m <= lo + k) {
		fz_vcon(m, lo, lo + k, b, r1, c, fr, sr);
		fz_hash(sr, fz_next(c), sr);
	} else {
		fz_vcon(m, lo + k, hi, false, r1, c, fr, sr);
		x = fz_next(c);
		fz_hash(x, fr, fr);
		fz_hash(x, sr, sr);
	}
}

static bool fz_ref_vcon(uint64_t m, uint64_t n, const uint8_t *r1,
			const uint8_t *r2, const uint8_t *p, size_t len)
{
	struct fz_cur c = { p, len, 0, false };
	uint8_t fr[HL], sr[HL];

	if (m == 0 || m > n)
		return false;
	if (m == n)
		return len == 0 && !memcmp(r1, r2, HL);
	fz_vcon(m, 0, n, true, r1, &c, fr, sr);
	return !c.out && c.pos == len && !memcmp(fr, r1, HL) &&
	       !memcmp(sr, r2, HL);
}

/* --- input -------------------------------------------------------------- */

struct fz_in {
	const uint8_t *d;
	size_t n, pos;
};

/* The next k bytes (k <= 8) as a little-endian number; zeros past the
 * end. */
static uint64_t fz_take(struct fz_in *in, unsigned k)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < k; i++, in->pos++)
		if (in->pos < in->n)
			v |= (uint64_t)in->d[in->pos] << (8 * i);
	return v;
}

static void fz_bytes(struct fz_in *in, uint8_t *out, size_t k)
{
	for (size_t i = 0; i < k; i++)
		out[i] = (uint8_t)fz_take(in, 1);
}

/* Both verifiers on a proof of exactly len hashes on the heap. */
static bool fz_verify(bool incl, uint64_t a, uint64_t n, const uint8_t *x,
		      const uint8_t *y, const uint8_t *proof, size_t len)
{
	uint8_t *p = malloc(len ? len * HL : 1);
	bool got, want;

	FZ_CHECK(p != NULL);
	if (len)
		memcpy(p, proof, len * HL);
	if (incl) {
		got = pz_merkle_verify_inclusion(a, n, x, p, len, y);
		want = fz_ref_vinc(a, n, x, p, len, y);
	} else {
		got = pz_merkle_verify_consistency(a, n, x, y, p, len);
		want = fz_ref_vcon(a, n, x, y, p, len);
	}
	if (got != want) {
		fprintf(stderr, "%s(%" PRIu64 ", %" PRIu64 ", %zu hashes): "
			"module %d, reference %d\n",
			incl ? "inclusion" : "consistency", a, n, len, got,
			want);
		abort();
	}
	free(p);
	return got;
}

/* Mode 0/1: a genuine proof and one perturbation of it. */
static void fz_genuine(bool incl, struct fz_in *in)
{
	uint8_t p[FZ_MAXH * HL], want[FZ_MAXH * HL], x[HL], y[HL], t[HL];
	unsigned n = 1 + (unsigned)(fz_take(in, 2) % FZ_N);
	unsigned a = (unsigned)(fz_take(in, 2) % n);
	unsigned kind = (unsigned)fz_take(in, 1) % 8;
	size_t len = 0, wlen = 0, j, k;
	uint64_t pos;

	fz_size = n;
	if (incl) {
		FZ_CHECK(pz_merkle_inclusion(a, n, fz_get, NULL, p, &len) ==
			 PZ_OK);
		fz_ref_path(a, 0, n, want, &wlen);
		memcpy(x, fz_node[0][a], HL);
	} else {
		a++;    /* old size 1..n */
		FZ_CHECK(pz_merkle_consistency(a, n, fz_get, NULL, p, &len) ==
			 PZ_OK);
		fz_ref_subproof(a, 0, n, true, want, &wlen);
		memcpy(x, fz_root[a], HL);
	}
	memcpy(y, fz_root[n], HL);
	FZ_CHECK(!memcmp(fz_ref_mth(0, n), y, HL));
	FZ_CHECK(len == wlen && !memcmp(p, want, len * HL));
	FZ_CHECK(fz_verify(incl, a, n, x, y, p, len));

	switch (kind) {
	case 0:     /* one bit, in the proof, the leaf or old root, or root */
		pos = fz_take(in, 2) % (len * HL * 8 + 2 * HL * 8);
		if (pos < len * HL * 8)
			p[pos / 8] ^= (uint8_t)(1u << (pos % 8));
		else if ((pos -= len * HL * 8) < HL * 8)
			x[pos / 8] ^= (uint8_t)(1u << (pos % 8));
		else
			y[pos / 8 - HL] ^= (uint8_t)(1u << (pos % 8));
		FZ_CHECK(!fz_verify(incl, a, n, x, y, p, len));
		break;
	case 1:     /* truncated */
		if (len)
			FZ_CHECK(!fz_verify(incl, a, n, x, y, p,
					    fz_take(in, 1) % len));
		break;
	case 2:     /* extended by input bytes or a copy of a proof hash */
		k = 1 + fz_take(in, 1) % 3;
		for (j = 0; j < k; j++) {
			if (len && fz_take(in, 1) & 1)
				memcpy(p + HL * (len + j), p, HL);
			else
				fz_bytes(in, p + HL * (len + j), HL);
		}
		FZ_CHECK(!fz_verify(incl, a, n, x, y, p, len + k));
		break;
	case 3:     /* a hash in front */
		memmove(p + HL, p, len * HL);
		fz_bytes(in, p, HL);
		if (fz_take(in, 1) & 1)
			memcpy(p, x, HL);
		FZ_CHECK(!fz_verify(incl, a, n, x, y, p, len + 1));
		break;
	case 4:     /* two hashes swapped */
		if (len >= 2) {
			j = fz_take(in, 1) % len;
			k = (j + 1 + fz_take(in, 1) % (len - 1)) % len;
			memcpy(t, p + HL * j, HL);
			memcpy(p + HL * j, p + HL * k, HL);
			memcpy(p + HL * k, t, HL);
			FZ_CHECK(!fz_verify(incl, a, n, x, y, p, len));
		}
		break;
	case 5:     /* another index or old size: the reference decides */
		fz_verify(incl, fz_take(in, 2) % (n + 3), n, x, y, p, len);
		break;
	case 6:     /* another tree size */
		fz_verify(incl, a, fz_take(in, 2) % (2 * FZ_N), x, y, p, len);
		break;
	default:    /* any numbers at all */
		fz_verify(incl, fz_take(in, 8), fz_take(in, 8), x, y, p, len);
		break;
	}
}

/* Mode 2/3: everything from the input. */
static void fz_raw(bool incl, struct fz_in *in)
{
	uint8_t p[FZ_MAXH * HL], x[HL], y[HL];
	uint64_t a = fz_take(in, 8), n = fz_take(in, 8);
	size_t len = (size_t)(fz_take(in, 1) % FZ_MAXH);

	/* Small numbers are the interesting ones; keep them likely. */
	if (fz_take(in, 1) & 1) {
		n %= 2 * FZ_N;
		a %= n + 2;
	}
	fz_bytes(in, x, HL);
	fz_bytes(in, y, HL);
	fz_bytes(in, p, len * HL);
	fz_verify(incl, a, n, x, y, p, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct fz_in in = { data, size, 0 };
	unsigned mode;

	if (!init) {
		fz_init();
		init = 1;
	}
	mode = (unsigned)fz_take(&in, 1) % 4;
	if (mode < 2)
		fz_genuine(mode == 0, &in);
	else
		fz_raw(mode == 2, &in);
	return 0;
}
