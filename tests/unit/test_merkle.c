/*
 * test_merkle.c - RFC 9162 Merkle trees (pz_merkle.h): hashes, roots,
 * inclusion and consistency proofs from stored perfect subtrees, the two
 * verifiers, the writer's frontier.
 *
 * Where expected values come from:
 *
 *  - Literal hashes are the published test vectors of Google's
 *    certificate-transparency (cpp/merkletree/merkle_tree_test.cc and
 *    python/ct/crypto/merkle_test.py, the same values as RFC 6962
 *    implementations since): the eight inputs "" 00 10 2021 3031 40414243
 *    5051525354555657 606162..6f, their roots for 1..8 leaves, four paths,
 *    three consistency proofs, and one real log's path (leaf 848049 of
 *    3630887).  The 1,000-leaf root was computed by the independent Python
 *    implementation in tests/it/test_merkle_vectors.py (hashlib).
 *  - Everything else is computed here without the module: t_sha() is
 *    libcrypto's one-shot EVP_Digest over an explicitly built buffer, and
 *    the ref_* functions transcribe the RFC's recursive definitions (MTH,
 *    PATH, PROOF/SUBPROOF) and check a proof by rebuilding the root(s)
 *    along that recursion.  The module's verifiers are the RFC's iterative
 *    algorithms, so comparing the two on every perturbed proof checks one
 *    against the other.
 *
 * Two kinds of model tree feed the module's get callback: a dense one
 * holding every perfect subtree (built here with t_sha), and a sparse one
 * for 10,000,000 and 2^64 - 1 leaves where all leaves are equal except a
 * few, so any subtree hash is computed lazily in O(log n).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "plaza/pz_err.h"
#include "plaza/pz_mem.h"
#include "plaza/pz_merkle.h"

#define HL PZ_MERKLE_HASH_LEN
#define MAXP PZ_MERKLE_MAX_PROOF

typedef uint8_t hash_t[HL];

/* --- independent hashing ---------------------------------------------- */

static EVP_MD *t_md;   /* SHA-256, fetched once in main */

static void t_sha(const void *buf, size_t n, uint8_t out[HL])
{
	unsigned int olen = 0;

	assert_int_equal(EVP_Digest(buf, n, out, &olen, t_md, NULL), 1);
	assert_int_equal(olen, HL);
}

/* SHA-256(0x00 || d) */
static void t_leaf(const void *d, size_t len, uint8_t out[HL])
{
	uint8_t *b = malloc(len + 1);

	assert_non_null(b);
	b[0] = 0x00;
	if (len)
		memcpy(b + 1, d, len);
	t_sha(b, len + 1, out);
	free(b);
}

/* SHA-256(0x01 || l || r) */
static void t_node(const uint8_t l[HL], const uint8_t r[HL], uint8_t out[HL])
{
	uint8_t b[1 + 2 * HL];

	b[0] = 0x01;
	memcpy(b + 1, l, HL);
	memcpy(b + 1 + HL, r, HL);
	t_sha(b, sizeof(b), out);
}

static void unhex(const char *s, uint8_t *out, size_t n)
{
	assert_int_equal(strlen(s), 2 * n);
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void expect_hex(const uint8_t *h, const char *want)
{
	char got[2 * HL + 1];

	for (int i = 0; i < HL; i++)
		snprintf(got + 2 * i, 3, "%02x", h[i]);
	assert_string_equal(got, want);
}

/* The RFC's k for a size s >= 2, found by doubling (the module uses a
 * bit count). */
static uint64_t t_split(uint64_t s)
{
	uint64_t k = 1;

	while (k < s - k)
		k <<= 1;
	return k;
}

static unsigned ceil_log2(uint64_t n)
{
	unsigned l = 0;

	while (l < 64 && ((uint64_t)1 << l) < n)
		l++;
	return l;
}

/* splitmix64: deterministic test inputs. */
static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* --- model trees -------------------------------------------------------- */

/* The CT test inputs (merkle_tree_test.cc kInputs). */
static const char *const ct_in[8] = {
	"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
	"606162636465666768696a6b6c6d6e6f",
};

static const char *const ct_root[9] = {
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

static void ct_leaf(unsigned i, uint8_t out[HL])
{
	uint8_t d[16];
	size_t len = strlen(ct_in[i]) / 2;

	unhex(ct_in[i], d, len);
	t_leaf(d, len, out);
}

/* Entry i of the generated trees, as in merkle_tool.c and the Python
 * cross-check: the ASCII text "entry-<i>". */
static void entry_leaf(uint64_t i, uint8_t out[HL])
{
	char d[32];
	int len = snprintf(d, sizeof(d), "entry-%" PRIu64, i);

	t_leaf(d, (size_t)len, out);
}

enum { DENSE_CT, DENSE_ENTRY, SPARSE };

struct model {
	int kind;
	uint64_t cap;              /* dense: leaves stored */
	uint64_t n;                /* the tree get() answers for */
	hash_t *lv[64];            /* dense: node (l, i) is lv[l][i] */
	uint64_t special[8];       /* sparse: the leaves that are entries */
	size_t nspecial;
	hash_t uni[64];            /* sparse: 2^l plain leaves */
	unsigned long calls;       /* get() calls */
	unsigned long fail_at;     /* failing call number, 0 = never */
	int fail_rc;               /* what that call returns */
	unsigned long bad;         /* requests for nodes not in the tree */
};

/* A dense model of cap leaves, every perfect subtree computed here. */
static struct model *model_dense(int kind, uint64_t cap)
{
	struct model *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	m->kind = kind;
	m->cap = m->n = cap;
	for (unsigned l = 0; l < 64 && (cap >> l); l++) {
		m->lv[l] = calloc(cap >> l, HL);
		assert_non_null(m->lv[l]);
		for (uint64_t i = 0; i < cap >> l; i++) {
			if (l > 0)
				t_node(m->lv[l - 1][2 * i],
				       m->lv[l - 1][2 * i + 1], m->lv[l][i]);
			else if (kind == DENSE_CT)
				ct_leaf((unsigned)i, m->lv[0][i]);
			else
				entry_leaf(i, m->lv[0][i]);
		}
	}
	return m;
}

/* A sparse model of n leaves: "plain" everywhere but at special[]. */
static struct model *model_sparse(uint64_t n, const uint64_t *special,
				  size_t nspecial)
{
	struct model *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	assert_true(nspecial <= 8);
	m->kind = SPARSE;
	m->n = n;
	memcpy(m->special, special, nspecial * sizeof(*special));
	m->nspecial = nspecial;
	t_leaf("plain", 5, m->uni[0]);
	for (unsigned l = 1; l < 64; l++)
		t_node(m->uni[l - 1], m->uni[l - 1], m->uni[l]);
	return m;
}

static void model_free(struct model *m)
{
	if (!m)
		return;
	for (unsigned l = 0; l < 64; l++)
		free(m->lv[l]);
	free(m);
}

static void leaf_of(const struct model *m, uint64_t i, uint8_t out[HL])
{
	if (m->kind != SPARSE) {
		memcpy(out, m->lv[0][i], HL);
		return;
	}
	for (size_t j = 0; j < m->nspecial; j++) {
		if (m->special[j] == i) {
			entry_leaf(i, out);
			return;
		}
	}
	memcpy(out, m->uni[0], HL);
}

static bool has_special(const struct model *m, uint64_t lo, uint64_t hi)
{
	for (size_t j = 0; j < m->nspecial; j++)
		if (m->special[j] >= lo && m->special[j] < hi)
			return true;
	return false;
}

/* MTH of s plain leaves, by the RFC recursion. */
static void uniform(const struct model *m, uint64_t s, uint8_t out[HL])
{
	uint64_t k;
	hash_t r;

	if ((s & (s - 1)) == 0) {
		memcpy(out, m->uni[ceil_log2(s)], HL);
		return;
	}
	k = t_split(s);
	uniform(m, s - k, r);
	t_node(m->uni[ceil_log2(k)], r, out);
}

/* ref_mth - MTH(D[lo:hi]), RFC 9162 section 2.1.1, recursively. */
static void ref_mth(const struct model *m, uint64_t lo, uint64_t hi,
		    uint8_t out[HL])
{
	hash_t a, b;
	uint64_t k;

	if (hi == lo) {
		t_sha("", 0, out);
		return;
	}
	if (hi - lo == 1) {
		leaf_of(m, lo, out);
		return;
	}
	if (m->kind == SPARSE && !has_special(m, lo, hi)) {
		uniform(m, hi - lo, out);
		return;
	}
	k = t_split(hi - lo);
	ref_mth(m, lo, lo + k, a);
	ref_mth(m, lo + k, hi, b);
	t_node(a, b, out);
}

/* The module's view of a model: node (level, index) of the tree of m->n
 * leaves, with call counting and injected failures. */
static int model_get(void *arg, unsigned level, uint64_t index,
		     uint8_t out[HL])
{
	struct model *m = arg;

	m->calls++;
	if (level >= 64 || index >= (m->n >> level)) {
		m->bad++;
		return PZ_EINVAL;
	}
	if (m->fail_at && m->calls == m->fail_at)
		return m->fail_rc;
	if (m->kind == SPARSE)
		ref_mth(m, index << level, (index + 1) << level, out);
	else
		memcpy(out, m->lv[level][index], HL);
	return PZ_OK;
}

/* PATH(index, D[lo:hi]), RFC 9162 section 2.1.3.1, appended to p. */
static void ref_path(const struct model *m, uint64_t index, uint64_t lo,
		     uint64_t hi, hash_t *p, size_t *len)
{
	uint64_t k;

	if (hi - lo == 1)
		return;
	k = t_split(hi - lo);
	if (index < lo + k) {
		ref_path(m, index, lo, lo + k, p, len);
		ref_mth(m, lo + k, hi, p[(*len)++]);
	} else {
		ref_path(m, index, lo + k, hi, p, len);
		ref_mth(m, lo, lo + k, p[(*len)++]);
	}
}

/* SUBPROOF(m, D[lo:hi], b), RFC 9162 section 2.1.4.1, with m absolute. */
static void ref_subproof(const struct model *t, uint64_t m, uint64_t lo,
			 uint64_t hi, bool b, hash_t *p, size_t *len)
{
	uint64_t k;

	if (m == hi) {
		if (!b)
			ref_mth(t, lo, hi, p[(*len)++]);
		return;
	}
	k = t_split(hi - lo);
	if (m <= lo + k) {
		ref_subproof(t, m, lo, lo + k, b, p, len);
		ref_mth(t, lo + k, hi, p[(*len)++]);
	} else {
		ref_subproof(t, m, lo + k, hi, false, p, len);
		ref_mth(t, lo, lo + k, p[(*len)++]);
	}
}

/* --- reference verifiers: rebuild along the recursive definitions ------ */

struct cursor {
	const uint8_t *p;   /* the proof */
	size_t len, pos;    /* hashes, hashes consumed */
	bool short_;        /* ran out */
};

static const uint8_t *next(struct cursor *c)
{
	static const uint8_t zero[HL];

	if (c->pos == c->len) {
		c->short_ = true;
		return zero;
	}
	return c->p + HL * c->pos++;
}

static void vinc_rec(uint64_t index, uint64_t lo, uint64_t hi,
		     const uint8_t *leaf, struct cursor *c, uint8_t out[HL])
{
	uint64_t k;
	hash_t x;

	if (hi - lo == 1) {
		memcpy(out, leaf, HL);
		return;
	}
	k = t_split(hi - lo);
	if (index < lo + k) {
		vinc_rec(index, lo, lo + k, leaf, c, x);
		t_node(x, next(c), out);
	} else {
		vinc_rec(index, lo + k, hi, leaf, c, x);
		t_node(next(c), x, out);
	}
}

/* Accept iff the path has exactly PATH(index, D[n])'s length and folds to
 * root along its recursion. */
static bool ref_vinc(uint64_t index, uint64_t n, const uint8_t *leaf,
		     const uint8_t *path, size_t len, const uint8_t *root)
{
	struct cursor c = { path, len, 0, false };
	hash_t r;

	if (index >= n)
		return false;
	vinc_rec(index, 0, n, leaf, &c, r);
	return !c.short_ && c.pos == len && !memcmp(r, root, HL);
}

static void vcon_rec(uint64_t m, uint64_t lo, uint64_t hi, bool b,
		     const uint8_t *root_m, struct cursor *c, uint8_t fr[HL],
		     uint8_t sr[HL])
{
	const uint8_t *x;
	uint64_t k;

	if (m == hi) {
		x = b ? root_m : next(c);
		memcpy(fr, x, HL);
		memcpy(sr, x, HL);
		return;
	}
	k = t_split(hi - lo);
	if (m <= lo + k) {
		/* The old tree lies in the left half: the right half is new. */
		vcon_rec(m, lo, lo + k, b, root_m, c, fr, sr);
		t_node(sr, next(c), sr);
	} else {
		/* The left half is shared by both trees. */
		vcon_rec(m, lo + k, hi, false, root_m, c, fr, sr);
		x = next(c);
		t_node(x, fr, fr);
		t_node(x, sr, sr);
	}
}

/* Accept iff the proof has exactly PROOF(m, D[n])'s length and rebuilds
 * both roots along SUBPROOF's recursion; the edges as in pz_merkle.h. */
static bool ref_vcon(uint64_t m, uint64_t n, const uint8_t *root_m,
		     const uint8_t *root_n, const uint8_t *proof, size_t len)
{
	struct cursor c = { proof, len, 0, false };
	hash_t fr, sr;

	if (m == 0 || m > n)
		return false;
	if (m == n)
		return len == 0 && !memcmp(root_m, root_n, HL);
	vcon_rec(m, 0, n, true, root_m, &c, fr, sr);
	return !c.short_ && c.pos == len && !memcmp(fr, root_m, HL) &&
	       !memcmp(sr, root_n, HL);
}

/* --- fixture ------------------------------------------------------------ */

struct fx {
	struct model *m[4];   /* freed by the teardown */
};

static int setup(void **state)
{
	*state = calloc(1, sizeof(struct fx));
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < 4; i++)
		model_free(f->m[i]);
	free(f);
	return 0;
}

/* Generated proofs, checked against the reference. */
static size_t gen_path(struct model *m, uint64_t index, uint64_t n,
		       hash_t *p)
{
	hash_t want[MAXP];
	size_t len = 999, wlen = 0;

	m->n = n;
	m->bad = 0;
	assert_int_equal(pz_merkle_inclusion(index, n, model_get, m,
					     (uint8_t *)p, &len), PZ_OK);
	assert_int_equal(m->bad, 0);
	ref_path(m, index, 0, n, want, &wlen);
	assert_int_equal(len, wlen);
	if (len)
		assert_memory_equal(p, want, len * HL);
	return len;
}

static size_t gen_proof(struct model *t, uint64_t m, uint64_t n, hash_t *p)
{
	hash_t want[MAXP];
	size_t len = 999, wlen = 0;

	t->n = n;
	t->bad = 0;
	assert_int_equal(pz_merkle_consistency(m, n, model_get, t,
					       (uint8_t *)p, &len), PZ_OK);
	assert_int_equal(t->bad, 0);
	ref_subproof(t, m, 0, n, true, want, &wlen);
	assert_int_equal(len, wlen);
	if (len)
		assert_memory_equal(p, want, len * HL);
	return len;
}

static void module_root(struct model *m, uint64_t n, uint8_t out[HL])
{
	m->n = n;
	m->bad = 0;
	assert_int_equal(pz_merkle_root(n, model_get, m, out), PZ_OK);
	assert_int_equal(m->bad, 0);
}

/* --- tests -------------------------------------------------------------- */

static void test_hashes(void **state)
{
	static const uint8_t nums[32] = {
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
		18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
	};
	uint8_t buf[1000], cat[2 * HL];
	hash_t h, w, l, r;

	(void)state;
	/* MTH({}) = SHA-256(""). */
	pz_merkle_empty(h);
	t_sha("", 0, w);
	assert_memory_equal(h, w, HL);
	expect_hex(h, ct_root[0]);
	/* merkle_test.py sha256_leaves and sha256_nodes. */
	assert_int_equal(pz_merkle_leaf(NULL, 0, h), PZ_OK);
	expect_hex(h, "6e340b9cffb37a989ca544e6bb780a2c"
		      "78901d3fb33738768511a30617afa01d");
	assert_int_equal(pz_merkle_leaf(nums + 16, 16, h), PZ_OK);
	expect_hex(h, "3bfb960453ebaebf33727da7a1f4db38"
		      "acc051d381b6da20d6d4e88f0eabfd7a");
	unhex("000102030405060708090a0b0c0d0e0f"
	      "101112131415161718191a1b1c1d1e1f", l, HL);
	unhex("202122232425262728292a2b2c2d2e2f"
	      "303132333435363738393a3b3c3d3e3f", r, HL);
	assert_int_equal(pz_merkle_node(l, r, h), PZ_OK);
	expect_hex(h, "1a378704c17da31e2d05b6d121c2bb2c"
		      "7d76f6ee6fa8f983e596c2d034963c57");
	/* Output aliasing either input. */
	memcpy(w, l, HL);
	assert_int_equal(pz_merkle_node(w, r, w), PZ_OK);
	expect_hex(w, "1a378704c17da31e2d05b6d121c2bb2c"
		      "7d76f6ee6fa8f983e596c2d034963c57");
	memcpy(w, r, HL);
	assert_int_equal(pz_merkle_node(l, w, w), PZ_OK);
	assert_memory_equal(w, h, HL);
	/* Leaves of every length around SHA-256's 64-byte blocks. */
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	for (size_t len = 0; len <= 200; len++) {
		assert_int_equal(pz_merkle_leaf(buf, len, h), PZ_OK);
		t_leaf(buf, len, w);
		assert_memory_equal(h, w, HL);
	}
	assert_int_equal(pz_merkle_leaf(buf, sizeof(buf), h), PZ_OK);
	t_leaf(buf, sizeof(buf), w);
	assert_memory_equal(h, w, HL);
	/* Domain separation: a leaf holding l || r is not node(l, r). */
	memcpy(cat, l, HL);
	memcpy(cat + HL, r, HL);
	assert_int_equal(pz_merkle_leaf(cat, sizeof(cat), w), PZ_OK);
	assert_memory_not_equal(w, h, HL);
}

/* Roots of 0, 1, 2, 3, 7 and 8 leaves composed by hand, all of 0..8
 * against the published table, by get and by the frontier. */
static void test_small_roots(void **state)
{
	struct fx *f = *state;
	struct model *m = f->m[0] = model_dense(DENSE_CT, 8);
	struct pz_merkle_frontier fr;
	hash_t h[8], want, got, a, b, c, d;

	for (unsigned i = 0; i < 8; i++)
		ct_leaf(i, h[i]);
	/* 0 leaves: SHA-256 of nothing. */
	t_sha("", 0, want);
	module_root(m, 0, got);
	assert_memory_equal(got, want, HL);
	assert_int_equal(m->calls, 0);
	/* 1 leaf: its leaf hash. */
	module_root(m, 1, got);
	assert_memory_equal(got, h[0], HL);
	/* 2: node(h0, h1). */
	t_node(h[0], h[1], want);
	module_root(m, 2, got);
	assert_memory_equal(got, want, HL);
	/* 3: k = 2, node(node(h0, h1), h2). */
	t_node(h[0], h[1], a);
	t_node(a, h[2], want);
	module_root(m, 3, got);
	assert_memory_equal(got, want, HL);
	/* 7: k = 4, node(node(h01, h23), MTH(D[4:7])), and in D[4:7] k = 2:
	 * node(h45, h6). */
	t_node(h[2], h[3], b);
	t_node(a, b, c);              /* MTH(D[0:4]) */
	t_node(h[4], h[5], d);
	t_node(d, h[6], a);           /* MTH(D[4:7]) */
	t_node(c, a, want);
	module_root(m, 7, got);
	assert_memory_equal(got, want, HL);
	/* 8: node(MTH(D[0:4]), node(h45, h67)). */
	t_node(h[6], h[7], a);
	t_node(d, a, b);
	t_node(c, b, want);
	module_root(m, 8, got);
	assert_memory_equal(got, want, HL);

	pz_merkle_frontier_init(&fr);
	for (unsigned n = 0; n <= 8; n++) {
		if (n > 0)
			assert_int_equal(pz_merkle_append(&fr, h[n - 1], NULL,
							  NULL), PZ_OK);
		module_root(m, n, got);
		expect_hex(got, ct_root[n]);
		assert_int_equal(pz_merkle_frontier_root(&fr, got), PZ_OK);
		expect_hex(got, ct_root[n]);
		ref_mth(m, 0, n, got);
		expect_hex(got, ct_root[n]);
	}
}

struct ct_vec {
	uint64_t a, n;         /* leaf index or old size, tree size */
	size_t len;
	const char *h[3];
};

/* Paths and proofs from merkle_tree_test.cc (kSHA256Paths, whose leaf
 * numbers count from 1, and kSHA256Proofs). */
static void test_ct_proofs(void **state)
{
	static const struct ct_vec paths[] = {
		{ 0, 1, 0, { NULL } },
		{ 0, 8, 3, {
		  "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		  "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		  "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4" } },
		{ 5, 8, 3, {
		  "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
		  "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" } },
		{ 2, 3, 1, {
		  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125" } },
		{ 1, 5, 3, {
		  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		  "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		  "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b" } },
	};
	static const struct ct_vec proofs[] = {
		{ 1, 1, 0, { NULL } },
		{ 1, 8, 3, {
		  "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		  "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		  "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4" } },
		{ 6, 8, 3, {
		  "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
		  "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" } },
		{ 2, 5, 2, {
		  "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		  "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b" } },
	};
	struct fx *f = *state;
	struct model *m = f->m[0] = model_dense(DENSE_CT, 8);
	hash_t p[MAXP], root, old, leaf;

	for (size_t v = 0; v < sizeof(paths) / sizeof(paths[0]); v++) {
		size_t len = gen_path(m, paths[v].a, paths[v].n, p);

		assert_int_equal(len, paths[v].len);
		for (size_t i = 0; i < len; i++)
			expect_hex(p[i], paths[v].h[i]);
		unhex(ct_root[paths[v].n], root, HL);
		ct_leaf((unsigned)paths[v].a, leaf);
		assert_true(pz_merkle_verify_inclusion(paths[v].a, paths[v].n,
						       leaf, p[0], len, root));
	}
	for (size_t v = 0; v < sizeof(proofs) / sizeof(proofs[0]); v++) {
		size_t len = gen_proof(m, proofs[v].a, proofs[v].n, p);

		assert_int_equal(len, proofs[v].len);
		for (size_t i = 0; i < len; i++)
			expect_hex(p[i], proofs[v].h[i]);
		unhex(ct_root[proofs[v].a], old, HL);
		unhex(ct_root[proofs[v].n], root, HL);
		assert_true(pz_merkle_verify_consistency(proofs[v].a,
			    proofs[v].n, old, root, p[0], len));
	}
}

/* merkle_test.py's path from a real log: leaf 848049 of 3630887. */
static void test_ct_real_log(void **state)
{
	static const char *const path[22] = {
		"1a208aeebcd1b39fe2de247ee8db9454e1e93a312d206b87f6ca9cc6ec6f1ddd",
		"0a1b78b383f580856f433c01a5741e160d451c185910027f6cc9f828687a40c4",
		"3d1745789bc63f2da15850de1c12a5bf46ed81e1cc90f086148b1662e79aab3d",
		"9095b61e14d8990acf390905621e62b1714fb8e399fbb71de5510e0aef45affe",
		"0a332b91b8fab564e6afd1dd452449e04619b18accc0ff9aa8393cd4928451f2",
		"2336f0181d264aed6d8f3a6507ca14a8d3b3c3a23791ac263e845d208c1ee330",
		"b4ce56e300590500360c146c6452edbede25d4ed83919278749ee5dbe178e048",
		"933f6ddc848ea562e4f9c5cfb5f176941301dad0c6fdb9d1fbbe34fac1be6966",
		"b95a6222958a86f74c030be27c44f57dbe313e5e7c7f4ffb98bcbd3a03bb52f2",
		"daeeb3ce5923defd0faeb8e0c210b753b85b809445d7d3d3cd537a9aabaa9c45",
		"7fadd0a13e9138a2aa6c3fdec4e2275af233b94812784f66bcca9aa8e989f2bc",
		"1864e6ba3e32878610546539734fb5eeae2529991f130c575c73a7e25a2a7c56",
		"12842d1202b1dc6828a17ab253c02e7ce9409b5192430feba44189f39cc02d66",
		"29af64b16fa3053c13d02ac63aa75b23aa468506e44c3a2315edc85d2dc22b11",
		"b527b99934a0bd9edd154e449b0502e2c499bba783f3bc3dfe23364b6b532009",
		"4584db8ae8e351ace08e01f306378a92bfd43611714814f3d834a2842d69faa8",
		"86a9a41573b0d6e4292f01e93243d6cc65b30f06606fc6fa57390e7e90ed580f",
		"a88b98fbe84d4c6aae8db9d1605dfac059d9f03fe0fcb0d5dff1295dacba09e6",
		"06326dc617a6d1f7021dc536026dbfd5fffc6f7c5531d48ef6ccd1ed1569f2a1",
		"f41fe8fdc3a2e4e8345e30216e7ebecffee26ff266eeced208a6c2a3cf08f960",
		"40cf5bde8abb76983f3e98ba97aa36240402975674e120f234b3448911090f8d",
		"b3222dc8658538079883d980d7fdc2bef9285344ea34338968f736b04aeb387a",
	};
	hash_t p[22], leaf, root;

	(void)state;
	for (int i = 0; i < 22; i++)
		unhex(path[i], p[i], HL);
	unhex("7a395c866d5ecdb0cccb623e011dbc392cd348d1d1d72776174e127a24b09c78",
	      leaf, HL);
	unhex("78316a05c9bcf14a3a4548f5b854a9adfcd46a4c034401b3ce7eb7ac2f1d0ecb",
	      root, HL);
	assert_true(pz_merkle_verify_inclusion(848049, 3630887, leaf, p[0], 22,
					       root));
	assert_true(ref_vinc(848049, 3630887, leaf, p[0], 22, root));
	assert_false(pz_merkle_verify_inclusion(848048, 3630887, leaf, p[0],
						22, root));
	assert_false(pz_merkle_verify_inclusion(848049, 3630887, leaf, p[0],
						21, root));
	p[21][31] ^= 1;
	assert_false(pz_merkle_verify_inclusion(848049, 3630887, leaf, p[0],
						22, root));
}

/* 1,000 = 512 + 256 + 128 + 64 + 32 + 8: the root folds the six perfect
 * subtrees, each computed here from its leaves. */
static void test_root_1000(void **state)
{
	struct fx *f = *state;
	struct model *m = f->m[0] = model_dense(DENSE_ENTRY, 1000);
	hash_t want, got, t;

	t_node(m->lv[5][30], m->lv[3][124], t);   /* [960,992) [992,1000) */
	t_node(m->lv[6][14], t, t);               /* [896,960) */
	t_node(m->lv[7][6], t, t);                /* [768,896) */
	t_node(m->lv[8][2], t, t);                /* [512,768) */
	t_node(m->lv[9][0], t, want);             /* [0,512) */
	module_root(m, 1000, got);
	assert_memory_equal(got, want, HL);
	assert_int_equal(m->calls, 6);
	ref_mth(m, 0, 1000, got);
	assert_memory_equal(got, want, HL);
	/* From tests/it/test_merkle_vectors.py (Python hashlib). */
	expect_hex(want, "d03d63b772af99019817ee3e018286d3"
			 "6a26161bdb5bfe8228e92c02abe9115d");
}

/* Which wrong indices or sizes v to try against the true one, at: all
 * for trees up to 16 leaves, else the neighbours of at, the ends and every
 * 7th. */
static bool swept(uint64_t v, uint64_t at, uint64_t n)
{
	return n <= 16 || v % 7 == 0 || v < 2 || v + 2 >= n ||
	       (v + 2 >= at && v <= at + 2) || v == 2 * n;
}

/* Every genuine path of trees up to 40 leaves verifies, equals PATH, and
 * every perturbation is refused exactly as the reference decides. */
static void test_inclusion_all(void **state)
{
	struct fx *f = *state;
	struct model *m = f->m[0] = model_dense(DENSE_ENTRY, 40);
	hash_t p[MAXP + 2], q[MAXP + 2], root, leaf, bad;

	for (uint64_t n = 1; n <= 40; n++) {
		module_root(m, n, root);
		for (uint64_t i = 0; i < n; i++) {
			size_t len = gen_path(m, i, n, p);
			size_t step = n <= 8 ? 1 : 37;

			memcpy(leaf, m->lv[0][i], HL);
			assert_true(len <= ceil_log2(n));
			if (i == 0)
				assert_int_equal(len, ceil_log2(n));
			assert_true(pz_merkle_verify_inclusion(i, n, leaf, p[0],
							       len, root));
			assert_true(ref_vinc(i, n, leaf, p[0], len, root));
			/* One bit flipped anywhere: in the path, the leaf,
			 * the root (every bit up to 8 leaves, else every
			 * 37th, which visits every byte position). */
			for (size_t b = 0; b < len * HL * 8; b += step) {
				memcpy(q, p, len * HL);
				q[b / (HL * 8)][b / 8 % HL] ^=
					(uint8_t)(1u << (b % 8));
				assert_false(pz_merkle_verify_inclusion(i, n,
					     leaf, q[0], len, root));
			}
			for (size_t b = 0; b < HL * 8; b += step) {
				memcpy(bad, leaf, HL);
				bad[b / 8] ^= (uint8_t)(1u << (b % 8));
				assert_false(pz_merkle_verify_inclusion(i, n,
					     bad, p[0], len, root));
				memcpy(bad, root, HL);
				bad[b / 8] ^= (uint8_t)(1u << (b % 8));
				assert_false(pz_merkle_verify_inclusion(i, n,
					     leaf, p[0], len, bad));
			}
			/* Truncated: every shorter prefix, and without the
			 * first hash. */
			for (size_t k = 0; k < len; k++)
				assert_false(pz_merkle_verify_inclusion(i, n,
					     leaf, p[0], k, root));
			if (len)
				assert_false(pz_merkle_verify_inclusion(i, n,
					     leaf, p[1], len - 1, root));
			/* Extended: at the end by zeros, the root, the leaf,
			 * the last hash again; at the front by zeros. */
			memcpy(q, p, len * HL);
			memset(q[len], 0, HL);
			assert_false(pz_merkle_verify_inclusion(i, n, leaf,
				     q[0], len + 1, root));
			memcpy(q[len], root, HL);
			assert_false(pz_merkle_verify_inclusion(i, n, leaf,
				     q[0], len + 1, root));
			memcpy(q[len], leaf, HL);
			assert_false(pz_merkle_verify_inclusion(i, n, leaf,
				     q[0], len + 1, root));
			if (len) {
				memcpy(q[len], p[len - 1], HL);
				assert_false(pz_merkle_verify_inclusion(i, n,
					     leaf, q[0], len + 1, root));
			}
			memset(q[0], 0, HL);
			memcpy(q[1], p, len * HL);
			assert_false(pz_merkle_verify_inclusion(i, n, leaf,
				     q[0], len + 1, root));
			/* Another index or size: accepted exactly when the
			 * RFC recursion of that (index, size) rebuilds the
			 * same root from this path. */
			for (uint64_t j = 0; j <= n + 2; j++)
				if (swept(j, i, n))
					assert_int_equal(
					  pz_merkle_verify_inclusion(j, n, leaf,
						p[0], len, root),
					  ref_vinc(j, n, leaf, p[0], len,
						   root));
			for (uint64_t s = 0; s <= 2 * n + 2; s++)
				if (swept(s, n, n))
					assert_int_equal(
					  pz_merkle_verify_inclusion(i, s, leaf,
						p[0], len, root),
					  ref_vinc(i, s, leaf, p[0], len,
						   root));
			assert_false(pz_merkle_verify_inclusion(i, UINT64_MAX,
				     leaf, p[0], len, root));
			assert_false(pz_merkle_verify_inclusion(UINT64_MAX, n,
				     leaf, p[0], len, root));
		}
	}
}

/* Every consistency proof between trees of up to 40 leaves, likewise. */
static void test_consistency_all(void **state)
{
	struct fx *f = *state;
	struct model *t = f->m[0] = model_dense(DENSE_ENTRY, 40);
	hash_t p[MAXP + 2], q[MAXP + 2], r1, r2, bad;

	for (uint64_t n = 1; n <= 40; n++) {
		module_root(t, n, r2);
		for (uint64_t m = 1; m <= n; m++) {
			size_t len = gen_proof(t, m, n, p);
			size_t step = n <= 8 ? 1 : 37;

			module_root(t, m, r1);
			assert_true(len <= ceil_log2(n) + 1);
			assert_true(m < n || len == 0);
			assert_true(pz_merkle_verify_consistency(m, n, r1, r2,
								 p[0], len));
			assert_true(ref_vcon(m, n, r1, r2, p[0], len));
			for (size_t b = 0; b < len * HL * 8; b += step) {
				memcpy(q, p, len * HL);
				q[b / (HL * 8)][b / 8 % HL] ^=
					(uint8_t)(1u << (b % 8));
				assert_false(pz_merkle_verify_consistency(m, n,
					     r1, r2, q[0], len));
			}
			for (size_t b = 0; b < HL * 8; b += step) {
				memcpy(bad, r1, HL);
				bad[b / 8] ^= (uint8_t)(1u << (b % 8));
				assert_false(pz_merkle_verify_consistency(m, n,
					     bad, r2, p[0], len));
				memcpy(bad, r2, HL);
				bad[b / 8] ^= (uint8_t)(1u << (b % 8));
				assert_false(pz_merkle_verify_consistency(m, n,
					     r1, bad, p[0], len));
			}
			for (size_t k = 0; k < len; k++)
				assert_false(pz_merkle_verify_consistency(m, n,
					     r1, r2, p[0], k));
			if (len)
				assert_false(pz_merkle_verify_consistency(m, n,
					     r1, r2, p[1], len - 1));
			memcpy(q, p, len * HL);
			memset(q[len], 0, HL);
			assert_false(pz_merkle_verify_consistency(m, n, r1, r2,
				     q[0], len + 1));
			memcpy(q[len], r1, HL);
			assert_false(pz_merkle_verify_consistency(m, n, r1, r2,
				     q[0], len + 1));
			memcpy(q[len], r2, HL);
			assert_false(pz_merkle_verify_consistency(m, n, r1, r2,
				     q[0], len + 1));
			if (len) {
				memcpy(q[len], p[len - 1], HL);
				assert_false(pz_merkle_verify_consistency(m, n,
					     r1, r2, q[0], len + 1));
			}
			/* root_m in front: what step 2 adds for a power of
			 * two must not be sent. */
			memcpy(q[0], r1, HL);
			memcpy(q[1], p, len * HL);
			assert_false(pz_merkle_verify_consistency(m, n, r1, r2,
				     q[0], len + 1));
			if (m < n) {
				assert_false(pz_merkle_verify_consistency(m, n,
					     r2, r1, p[0], len));
				assert_false(pz_merkle_verify_consistency(m, n,
					     r1, r2, NULL, 0));
			}
			for (uint64_t j = 0; j <= n + 2; j++)
				if (swept(j, m, n))
					assert_int_equal(
					  pz_merkle_verify_consistency(j, n,
						r1, r2, p[0], len),
					  ref_vcon(j, n, r1, r2, p[0], len));
			for (uint64_t s = 0; s <= 2 * n + 2; s++)
				if (swept(s, n, n))
					assert_int_equal(
					  pz_merkle_verify_consistency(m, s,
						r1, r2, p[0], len),
					  ref_vcon(m, s, r1, r2, p[0], len));
			assert_false(pz_merkle_verify_consistency(m,
				     UINT64_MAX, r1, r2, p[0], len));
		}
	}
}

/*
 * What the RFC's verifiers accept beyond the generated proofs, pinned so
 * that nobody "fixes" it by accident: a path binds the turns it takes,
 * not the size; leaf 0's path in 3 leaves ([h1, h2]) also checks out as
 * leaf 0 of 4 against the same root.  No tree of 4 leaves has that root
 * (its right half would be a leaf hash equal to a node hash).
 */
static void test_shape_not_size(void **state)
{
	struct fx *f = *state;
	struct model *m = f->m[0] = model_dense(DENSE_CT, 8);
	hash_t p[MAXP], root3, root4;
	size_t len = gen_path(m, 0, 3, p);

	module_root(m, 3, root3);
	module_root(m, 4, root4);
	assert_true(pz_merkle_verify_inclusion(0, 4, m->lv[0][0], p[0], len,
					       root3));
	assert_false(pz_merkle_verify_inclusion(0, 4, m->lv[0][0], p[0], len,
						root4));
	/* The same for PROOF(2, D[3]) = [h2] read as PROOF(2, D[4]). */
	len = gen_proof(m, 2, 3, p);
	assert_int_equal(len, 1);
	assert_true(pz_merkle_verify_consistency(2, 4, m->lv[1][0], root3,
						 p[0], len));
}

struct emits {
	const struct model *m;
	uint64_t n;               /* the leaf being appended */
	unsigned next_level;      /* emits come bottom-up */
	unsigned long count, fail_at;
};

static int check_emit(void *arg, unsigned level, uint64_t index,
		      const uint8_t hash[HL])
{
	struct emits *e = arg;

	e->count++;
	if (e->fail_at && e->count == e->fail_at)
		return PZ_ESTORE;
	assert_int_equal(level, e->next_level);
	assert_int_equal(index, e->n >> level);
	/* Node (level, index) is completed by leaf (index+1)*2^level - 1. */
	assert_int_equal(((index + 1) << level) - 1, e->n);
	assert_memory_equal(hash, e->m->lv[level][index], HL);
	e->next_level++;
	return PZ_OK;
}

/* The frontier against the stored tree for every size up to 1,000. */
static void test_frontier(void **state)
{
	struct fx *f = *state;
	struct model *m = f->m[0] = model_dense(DENSE_ENTRY, 1000);
	struct pz_merkle_frontier fr, ld;
	struct emits e = { .m = m };
	unsigned long emitted = 0;
	hash_t a, b, c;

	pz_merkle_frontier_init(&fr);
	for (uint64_t n = 0; n <= 1000; n++) {
		if (n > 0) {
			e.n = n - 1;
			e.next_level = 0;
			assert_int_equal(pz_merkle_append(&fr, m->lv[0][n - 1],
							  check_emit, &e),
					 PZ_OK);
			/* Exactly the nodes completed: trailing ones + 1. */
			assert_int_equal(e.next_level,
					 __builtin_ctzll(n) + 1);
			emitted += e.next_level;
		}
		assert_int_equal(fr.n, n);
		assert_int_equal(pz_merkle_frontier_root(&fr, a), PZ_OK);
		module_root(m, n, b);
		ref_mth(m, 0, n, c);
		assert_memory_equal(a, c, HL);
		assert_memory_equal(b, c, HL);
		/* Rebuilt from storage: same parts, popcount(n) gets. */
		m->calls = 0;
		assert_int_equal(pz_merkle_frontier_load(&ld, n, model_get, m),
				 PZ_OK);
		assert_int_equal(m->calls, __builtin_popcountll(n));
		assert_int_equal(m->bad, 0);
		assert_int_equal(ld.n, n);
		for (unsigned l = 0; l < 64; l++)
			if (n >> l & 1)
				assert_memory_equal(ld.hash[l], fr.hash[l], HL);
		/* ... and it carries on like the original. */
		if (n < 1000) {
			assert_int_equal(pz_merkle_append(&ld, m->lv[0][n],
							  NULL, NULL), PZ_OK);
			assert_int_equal(pz_merkle_frontier_root(&ld, a),
					 PZ_OK);
			m->n = n + 1;
			ref_mth(m, 0, n + 1, c);
			assert_memory_equal(a, c, HL);
		}
	}
	/* Every perfect subtree emitted once: 2n - popcount(n) of them. */
	assert_int_equal(emitted, 2 * 1000 - __builtin_popcountll(1000));
}

/* Count get() calls and check proofs in a lazily computed tree. */
static void big_inclusion(struct model *m, uint64_t i, hash_t *p,
			  const uint8_t *root)
{
	uint64_t n = m->n;
	unsigned long bound = ceil_log2(n) + __builtin_popcountll(n) - 1;
	hash_t leaf;
	size_t len;

	m->calls = 0;
	len = gen_path(m, i, n, p);
	if (m->calls > bound || m->calls < len)
		fail_msg("inclusion(%" PRIu64 ", %" PRIu64 "): %lu get calls "
			 "for %zu hashes, bound %lu", i, n, m->calls, len,
			 bound);
	leaf_of(m, i, leaf);
	assert_true(pz_merkle_verify_inclusion(i, n, leaf, p[0], len, root));
}

static void big_consistency(struct model *t, uint64_t m, hash_t *p,
			    const uint8_t *root)
{
	uint64_t n = t->n;
	unsigned long bound = ceil_log2(n) + __builtin_popcountll(n);
	hash_t old;
	size_t len;

	t->calls = 0;
	len = gen_proof(t, m, n, p);
	if (t->calls > bound || t->calls < len)
		fail_msg("consistency(%" PRIu64 ", %" PRIu64 "): %lu get calls"
			 " for %zu hashes, bound %lu", m, n, t->calls, len,
			 bound);
	ref_mth(t, 0, m, old);
	assert_true(pz_merkle_verify_consistency(m, n, old, root, p[0], len));
	t->n = n;
}

/* At 10,000,000 leaves: O(log n) gets (at most ceil(log2 n) +
 * popcount(n) - 1 = 24 + 8 - 1 per path), proofs equal to the RFC's. */
static void test_get_calls_10m(void **state)
{
	struct fx *f = *state;
	const uint64_t n = 10000000;
	uint64_t seed = 5, sp[8];
	hash_t p[MAXP], root;

	for (int round = 0; round < 60; round++) {
		uint64_t i = round < 4 ? (uint64_t[]){ 0, 1, n / 2, n - 1 }[round]
				       : rnd(&seed) % n;
		uint64_t m = 1 + rnd(&seed) % n;
		struct model *t;

		sp[0] = i;
		sp[1] = i ^ 1;
		sp[2] = m - 1;
		sp[3] = m;
		sp[4] = 0;
		sp[5] = n - 1;
		sp[6] = rnd(&seed) % n;
		sp[7] = n / 3;
		model_free(f->m[1]);
		t = f->m[1] = model_sparse(n, sp, 8);
		ref_mth(t, 0, n, root);
		t->calls = 0;
		module_root(t, n, p[0]);
		assert_memory_equal(p[0], root, HL);
		assert_int_equal(t->calls, __builtin_popcountll(n));
		big_inclusion(t, i, p, root);
		big_consistency(t, m, p, root);
	}
}

/* The largest trees: 2^64 - 1 leaves needs a 64-hash path and a 65-hash
 * consistency proof (PZ_MERKLE_MAX_PROOF). */
static void test_huge_trees(void **state)
{
	struct fx *f = *state;
	const uint64_t n = UINT64_MAX, m = ((uint64_t)1 << 63) + 1;
	uint64_t sp[4] = { 0, m - 1, m, n - 1 };
	struct model *t = f->m[1] = model_sparse(n, sp, 4);
	struct pz_merkle_frontier fr;
	hash_t p[MAXP], root, old, got;
	size_t len;

	ref_mth(t, 0, n, root);
	module_root(t, n, got);
	assert_memory_equal(got, root, HL);
	len = gen_path(t, n - 1, n, p);
	assert_int_equal(len, 63);
	len = gen_path(t, m - 1, n, p);
	assert_int_equal(len, PZ_MERKLE_MAX_PATH);
	/* With a plain leaf's hash instead of entry m - 1's. */
	assert_false(pz_merkle_verify_inclusion(m - 1, n, t->uni[0], p[0], len,
						root));
	big_inclusion(t, m - 1, p, root);
	len = gen_proof(t, m, n, p);
	assert_int_equal(len, PZ_MERKLE_MAX_PROOF);
	ref_mth(t, 0, m, old);
	assert_true(pz_merkle_verify_consistency(m, n, old, root, p[0], len));
	assert_false(pz_merkle_verify_consistency(m, n, old, root, p[1],
						  len - 1));
	/* A frontier loaded at 2^64 - 1 is full. */
	t->n = n;
	assert_int_equal(pz_merkle_frontier_load(&fr, n, model_get, t), PZ_OK);
	assert_int_equal(pz_merkle_frontier_root(&fr, got), PZ_OK);
	assert_memory_equal(got, root, HL);
	assert_int_equal(pz_merkle_append(&fr, root, NULL, NULL), PZ_ETOOBIG);
	assert_int_equal(fr.n, n);
	/* 2^63 leaves: the proofs' longest for n <= 2^63 is 64. */
	model_free(f->m[1]);
	sp[1] = 3;
	t = f->m[1] = model_sparse((uint64_t)1 << 63, sp, 2);
	ref_mth(t, 0, t->n, root);
	len = gen_proof(t, 3, t->n, p);
	assert_int_equal(len, 64);
}

static void test_bad_args(void **state)
{
	struct fx *f = *state;
	struct model *m = f->m[0] = model_dense(DENSE_CT, 8);
	struct pz_merkle_frontier fr;
	hash_t p[MAXP], h;
	size_t len = 7;

	m->n = 8;
	m->calls = 0;
	assert_int_equal(pz_merkle_inclusion(8, 8, model_get, m, p[0], &len),
			 PZ_EINVAL);
	assert_int_equal(pz_merkle_inclusion(0, 0, model_get, m, p[0], &len),
			 PZ_EINVAL);
	assert_int_equal(pz_merkle_inclusion(UINT64_MAX, 8, model_get, m, p[0],
					     &len), PZ_EINVAL);
	assert_int_equal(pz_merkle_inclusion(0, 8, NULL, m, p[0], &len),
			 PZ_EINVAL);
	assert_int_equal(pz_merkle_inclusion(0, 8, model_get, m, NULL, &len),
			 PZ_EINVAL);
	assert_int_equal(pz_merkle_inclusion(0, 8, model_get, m, p[0], NULL),
			 PZ_EINVAL);
	assert_int_equal(pz_merkle_consistency(0, 8, model_get, m, p[0],
					       &len), PZ_EINVAL);
	assert_int_equal(pz_merkle_consistency(0, 0, model_get, m, p[0],
					       &len), PZ_EINVAL);
	assert_int_equal(pz_merkle_consistency(9, 8, model_get, m, p[0],
					       &len), PZ_EINVAL);
	assert_int_equal(pz_merkle_consistency(1, 8, NULL, m, p[0], &len),
			 PZ_EINVAL);
	assert_int_equal(pz_merkle_root(8, NULL, m, h), PZ_EINVAL);
	assert_int_equal(pz_merkle_root(8, model_get, m, NULL), PZ_EINVAL);
	assert_int_equal(pz_merkle_frontier_load(NULL, 8, model_get, m),
			 PZ_EINVAL);
	assert_int_equal(pz_merkle_frontier_load(&fr, 8, NULL, m), PZ_EINVAL);
	assert_int_equal(pz_merkle_append(NULL, h, NULL, NULL), PZ_EINVAL);
	assert_int_equal(pz_merkle_frontier_root(NULL, h), PZ_EINVAL);
	assert_int_equal(m->calls, 0);
	assert_int_equal(len, 7);
	/* m == n: the empty proof, without touching the store. */
	assert_int_equal(pz_merkle_consistency(8, 8, model_get, m, p[0], &len),
			 PZ_OK);
	assert_int_equal(len, 0);
	assert_int_equal(m->calls, 0);
	/* The empty tree. */
	assert_int_equal(pz_merkle_root(0, model_get, m, h), PZ_OK);
	expect_hex(h, ct_root[0]);
	assert_int_equal(pz_merkle_frontier_load(&fr, 0, model_get, m), PZ_OK);
	assert_int_equal(pz_merkle_frontier_root(&fr, h), PZ_OK);
	expect_hex(h, ct_root[0]);
	assert_int_equal(m->calls, 0);
	/* Verifiers: NULLs, sizes, the empty tree. */
	pz_merkle_empty(h);
	assert_false(pz_merkle_verify_inclusion(0, 1, NULL, NULL, 0, h));
	assert_false(pz_merkle_verify_inclusion(0, 1, h, NULL, 0, NULL));
	assert_true(pz_merkle_verify_inclusion(0, 1, h, NULL, 0, h));
	assert_false(pz_merkle_verify_inclusion(0, 1, h, NULL, 1, h));
	assert_false(pz_merkle_verify_inclusion(0, 2, h, NULL, SIZE_MAX, h));
	assert_false(pz_merkle_verify_inclusion(0, 0, h, NULL, 0, h));
	assert_false(pz_merkle_verify_inclusion(1, 1, h, NULL, 0, h));
	assert_false(pz_merkle_verify_consistency(0, 0, h, h, NULL, 0));
	assert_false(pz_merkle_verify_consistency(0, 5, h, h, NULL, 0));
	assert_false(pz_merkle_verify_consistency(5, 4, h, h, NULL, 0));
	assert_false(pz_merkle_verify_consistency(1, 2, h, h, NULL, 0));
	assert_false(pz_merkle_verify_consistency(1, 2, h, h, NULL, 1));
	assert_false(pz_merkle_verify_consistency(1, 2, h, h, p[0], SIZE_MAX));
	assert_false(pz_merkle_verify_consistency(1, 2, NULL, h, p[0], 1));
	assert_false(pz_merkle_verify_consistency(1, 2, h, NULL, p[0], 1));
	assert_true(pz_merkle_verify_consistency(3, 3, h, h, NULL, 0));
	assert_false(pz_merkle_verify_consistency(3, 3, h, h, p[0], 1));
	assert_false(pz_merkle_verify_consistency(3, 3, h, m->lv[0][0], NULL,
						  0));
}

/* One of the get-driven operations on 999 leaves of m. */
static int get_op(unsigned op, struct model *m, struct pz_merkle_frontier *fr)
{
	hash_t p[MAXP];
	size_t len;

	m->n = 999;
	m->calls = 0;
	switch (op) {
	case 0:
		return pz_merkle_root(999, model_get, m, p[0]);
	case 1:
		return pz_merkle_inclusion(900, 999, model_get, m, p[0], &len);
	case 2:
		return pz_merkle_consistency(37, 999, model_get, m, p[0], &len);
	default:
		return pz_merkle_frontier_load(fr, 999, model_get, m);
	}
}

/* A failing get() is returned unchanged from wherever it happens. */
static void test_get_errors(void **state)
{
	static const int codes[] = { PZ_ESTORE, PZ_ENOTFOUND, -7 };
	struct fx *f = *state;
	struct model *m = f->m[0] = model_dense(DENSE_ENTRY, 1000);
	struct pz_merkle_frontier fr, keep;

	pz_merkle_frontier_init(&fr);
	for (size_t c = 0; c < sizeof(codes) / sizeof(codes[0]); c++) {
		m->fail_rc = codes[c];
		for (unsigned op = 0; op < 4; op++) {
			unsigned long total;

			/* The calls of a clean run, then each one failing
			 * in turn. */
			m->fail_at = 0;
			assert_int_equal(get_op(op, m, &fr), PZ_OK);
			total = m->calls;
			assert_true(total > 3);
			for (unsigned long k = 1; k <= total; k++) {
				m->fail_at = k;
				memcpy(&keep, &fr, sizeof(fr));
				assert_int_equal(get_op(op, m, &fr), codes[c]);
				assert_int_equal(m->calls, k);
				assert_memory_equal(&keep, &fr, sizeof(fr));
			}
		}
	}
	assert_int_equal(m->bad, 0);
}

/* A failing emit leaves the frontier as it was; a retry completes it. */
static void test_emit_errors(void **state)
{
	struct fx *f = *state;
	struct model *m = f->m[0] = model_dense(DENSE_ENTRY, 64);
	struct pz_merkle_frontier fr, keep;
	struct emits e = { .m = m };
	hash_t got, want;

	pz_merkle_frontier_init(&fr);
	for (uint64_t n = 0; n < 64; n++) {
		unsigned long need = (unsigned long)__builtin_ctzll(n + 1) + 1;

		for (unsigned long k = 1; k <= need; k++) {
			memcpy(&keep, &fr, sizeof(fr));
			e.n = n;
			e.next_level = 0;
			e.count = 0;
			e.fail_at = k;
			assert_int_equal(pz_merkle_append(&fr, m->lv[0][n],
							  check_emit, &e),
					 PZ_ESTORE);
			assert_memory_equal(&keep, &fr, sizeof(fr));
		}
		e.next_level = 0;
		e.count = 0;
		e.fail_at = 0;
		assert_int_equal(pz_merkle_append(&fr, m->lv[0][n], check_emit,
						  &e), PZ_OK);
		assert_int_equal(e.count, need);
		assert_int_equal(pz_merkle_frontier_root(&fr, got), PZ_OK);
		ref_mth(m, 0, n + 1, want);
		assert_memory_equal(got, want, HL);
	}
}

/* Arbitrary bytes as proofs: never a crash, and the same verdict as the
 * reference (false, short of a SHA-256 collision). */
static void test_verify_garbage(void **state)
{
	uint8_t buf[(MAXP + 4) * HL], a[HL], b[HL];
	uint64_t seed = 42;

	(void)state;
	for (int round = 0; round < 5000; round++) {
		uint64_t n = rnd(&seed) >> (rnd(&seed) % 64);
		uint64_t i = rnd(&seed) % 4 && n < UINT64_MAX ?
			     rnd(&seed) % (n + 1) : rnd(&seed);
		size_t len = rnd(&seed) % (MAXP + 4);

		for (size_t k = 0; k < sizeof(buf); k++)
			buf[k] = (uint8_t)rnd(&seed);
		memcpy(a, buf + HL, HL);
		memcpy(b, buf + 2 * HL, HL);
		assert_int_equal(pz_merkle_verify_inclusion(i, n, a, buf, len,
							    b),
				 ref_vinc(i, n, a, buf, len, b));
		assert_int_equal(pz_merkle_verify_consistency(i, n, a, b, buf,
							      len),
				 ref_vcon(i, n, a, b, buf, len));
	}
}

/* Operation op of test_alloc_failure under the current failure setting;
 * a verifier's false counts as PZ_ENOMEM. */
static int alloc_op(unsigned op, struct model *m, struct pz_merkle_frontier *fr,
		    const uint8_t *r1, const uint8_t *r2, const hash_t *path,
		    size_t plen, uint8_t *got)
{
	hash_t p[MAXP];
	size_t len;
	int rc;

	m->n = 45;
	switch (op) {
	case 0:
		return pz_merkle_leaf("abc", 3, got);
	case 1:
		return pz_merkle_node(r1, r2, got);
	case 2:
		return pz_merkle_root(45, model_get, m, got);
	case 3:
		return pz_merkle_frontier_root(fr, got);
	case 4:
		return pz_merkle_append(fr, m->lv[0][63], NULL, NULL);
	case 5:
		return pz_merkle_verify_inclusion(44, 45, m->lv[0][44],
						  path[0], plen, r2) ?
		       PZ_OK : PZ_ENOMEM;
	default:
		/* 13 of 45 has a right-edge sibling to hash. */
		rc = pz_merkle_consistency(13, 45, model_get, m, p[0], &len);
		if (rc == PZ_OK && !pz_merkle_verify_consistency(13, 45, r1, r2,
								 p[0], len))
			rc = PZ_ENOMEM;
		return rc;
	}
}

/* libcrypto allocates through pz_malloc here (see main), so the walk
 * N = 1, 2, ... fails every allocation of every hash in turn. */
static void test_alloc_failure(void **state)
{
	struct fx *f = *state;
	struct model *m = f->m[0] = model_dense(DENSE_ENTRY, 64);
	struct pz_merkle_frontier fr, keep;
	hash_t path[MAXP], want, got, r1, r2;
	size_t plen;

	module_root(m, 45, r2);
	module_root(m, 13, r1);
	plen = gen_path(m, 44, 45, path);
	/* 63 leaves: six perfect parts to fold, five to merge. */
	pz_merkle_frontier_init(&fr);
	for (uint64_t i = 0; i < 63; i++)
		assert_int_equal(pz_merkle_append(&fr, m->lv[0][i], NULL,
						  NULL), PZ_OK);
	for (unsigned op = 0; op < 7; op++) {
		unsigned long n;
		int rc = PZ_ENOMEM;

		for (n = 1; n < 1000; n++) {
			memcpy(&keep, &fr, sizeof(fr));
			pz_mem_fail_after(n);
			rc = alloc_op(op, m, &fr, r1, r2, path, plen, got);
			pz_mem_fail_after(0);
			if (rc == PZ_OK)
				break;
			assert_int_equal(rc, PZ_ENOMEM);
			assert_memory_equal(&keep, &fr, sizeof(fr));
		}
		if (rc != PZ_OK)
			fail_msg("op %u never succeeded", op);
		/* Each of them hashes, so the first allocation failed. */
		if (n < 2)
			fail_msg("op %u: no allocation to fail", op);
		if (op == 0)
			t_leaf("abc", 3, want);
		else if (op == 1)
			t_node(r1, r2, want);
		else if (op == 2)
			memcpy(want, r2, HL);
		else if (op == 3)
			ref_mth(m, 0, 63, want);
		if (op <= 3)
			assert_memory_equal(got, want, HL);
		if (op == 4)
			assert_int_equal(fr.n, 64);
	}
}

/* libcrypto's allocations through pz_malloc, so fault injection reaches
 * them (as jansson's do in the other tests). */
static void *t_crypto_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return pz_malloc(n);
}

static void *t_crypto_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return pz_realloc(p, n);
}

static void t_crypto_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	pz_free(p);
}

int main(void)
{
	int rc;

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_hashes),
		T(test_small_roots),
		T(test_ct_proofs),
		T(test_ct_real_log),
		T(test_root_1000),
		T(test_inclusion_all),
		T(test_consistency_all),
		T(test_shape_not_size),
		T(test_frontier),
		T(test_get_calls_10m),
		T(test_huge_trees),
		T(test_bad_args),
		T(test_get_errors),
		T(test_emit_errors),
		T(test_verify_garbage),
		T(test_alloc_failure),
	};

	if (!CRYPTO_set_mem_functions(t_crypto_malloc, t_crypto_realloc,
				      t_crypto_free)) {
		fprintf(stderr, "CRYPTO_set_mem_functions refused\n");
		return 1;
	}
	t_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!t_md) {
		fprintf(stderr, "no SHA-256 in libcrypto\n");
		return 1;
	}
	/* PZ_TEST=pattern runs only the matching tests (docs/testing.md). */
	if (getenv("PZ_TEST"))
		cmocka_set_test_filter(getenv("PZ_TEST"));
	rc = cmocka_run_group_tests_name("merkle", tests, NULL, NULL);
	EVP_MD_free(t_md);
	return rc;
}
