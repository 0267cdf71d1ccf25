/*
 * merkle.c - RFC 9162 Merkle trees over stored perfect subtrees (see
 * pz_merkle.h).
 *
 * The shape that everything here relies on: in the RFC's tree of n leaves
 * (split at the largest power of two below the size), every node is either
 * a perfect subtree aligned on its size, which the caller stores, or a
 * right-edge node [lo, n) whose size n - lo is a suffix of n's binary
 * digits.  Such a node is the RFC fold of the perfect subtrees those digits
 * stand for, each aligned on its size; range_hash recomputes it, and also
 * the root, which is the right-edge node [0, n).
 *
 * A proof walks from the root to the leaf (or to where the old tree ends),
 * noting the sibling range at each level, then resolves the ranges in
 * reverse, giving the RFC's leaf-first order.  Only the first left turn
 * taken from the right edge can leave a right-edge sibling behind, so a
 * proof costs one get per hash plus the digits of that one sibling.
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "plaza/pz_err.h"
#include "plaza/pz_merkle.h"

#define HLEN PZ_MERKLE_HASH_LEN

/*
 * SHA-256 through one EVP context per public call, created at the first
 * hash (a proof made of stored hashes only needs none) and re-initialised
 * for each further hash, which costs a third of a fresh context.
 */
struct mk_sha {
	EVP_MD_CTX *ctx;   /* owned; NULL until the first hash */
	int ready;         /* ctx holds SHA-256 and can be re-initialised */
};

static void mk_sha_done(struct mk_sha *s)
{
	EVP_MD_CTX_free(s->ctx);
	s->ctx = NULL;
	s->ready = 0;
}

/*
 * SHA-256(prefix || a || b) into out, which may alias a or b (both are
 * consumed before out is written).  libcrypto fails only when it cannot
 * allocate; its error queue is cleared then, so that a later SSL_get_error
 * in the same thread (the DTLS binding) does not see our failure.
 */
static int mk_sha(struct mk_sha *s, uint8_t prefix, const void *a,
		  size_t alen, const void *b, size_t blen, uint8_t out[HLEN])
{
	unsigned int olen = 0;

	if (!s->ready) {
		if (!s->ctx)
			s->ctx = EVP_MD_CTX_new();
		if (!s->ctx || !EVP_DigestInit_ex(s->ctx, EVP_sha256(), NULL))
			goto fail;
		s->ready = 1;
	} else if (!EVP_DigestInit_ex(s->ctx, NULL, NULL)) {
		goto fail;
	}
	if (!EVP_DigestUpdate(s->ctx, &prefix, 1) ||
	    (alen && !EVP_DigestUpdate(s->ctx, a, alen)) ||
	    (blen && !EVP_DigestUpdate(s->ctx, b, blen)) ||
	    !EVP_DigestFinal_ex(s->ctx, out, &olen) || olen != HLEN)
		goto fail;
	return PZ_OK;
fail:
	ERR_clear_error();
	return PZ_ENOMEM;
}

static int mk_node(struct mk_sha *s, const uint8_t l[HLEN],
		   const uint8_t r[HLEN], uint8_t out[HLEN])
{
	return mk_sha(s, 0x01, l, HLEN, r, HLEN, out);
}

/* The largest power of two below s, for s >= 2: the RFC's k. */
static uint64_t split_of(uint64_t s)
{
	return (uint64_t)1 << (63 - __builtin_clzll(s - 1));
}

/*
 * MTH of the leaves [lo, hi), hi > lo, a node of the tree: perfect, or on
 * the right edge of the tree of hi leaves.  Its perfect parts are fetched
 * smallest (rightmost) first and folded leftwards, one get per set bit of
 * hi - lo.
 */
static int range_hash(struct mk_sha *s, uint64_t lo, uint64_t hi,
		      pz_merkle_get_fn get, void *arg, uint8_t out[HLEN])
{
	uint64_t rest = hi - lo, pos = hi;
	uint8_t part[HLEN];
	int rc = PZ_OK, first = 1;

	while (rest) {
		unsigned level = (unsigned)__builtin_ctzll(rest);

		pos -= (uint64_t)1 << level;
		rc = get(arg, level, pos >> level, first ? out : part);
		if (rc != PZ_OK)
			goto out;
		if (!first) {
			rc = mk_node(s, part, out, out);
			if (rc != PZ_OK)
				goto out;
		}
		first = 0;
		rest &= rest - 1;
	}
out:
	return rc;
}

/* A sibling noted on the way down, resolved on the way back. */
struct mk_range {
	uint64_t lo, hi;   /* leaves [lo, hi) */
};

/* Resolve the k noted ranges into out, deepest first (the RFC's order). */
static int resolve(const struct mk_range *r, size_t k, pz_merkle_get_fn get,
		   void *arg, uint8_t *out)
{
	struct mk_sha s = { 0 };
	int rc = PZ_OK;

	for (size_t i = 0; i < k; i++) {
		rc = range_hash(&s, r[k - 1 - i].lo, r[k - 1 - i].hi, get, arg,
				out + i * HLEN);
		if (rc != PZ_OK)
			break;
	}
	mk_sha_done(&s);
	return rc;
}

int pz_merkle_leaf(const void *entry, size_t len, uint8_t out[HLEN])
{
	struct mk_sha s = { 0 };
	int rc;

	rc = mk_sha(&s, 0x00, entry, len, NULL, 0, out);
	mk_sha_done(&s);
	return rc;
}

int pz_merkle_node(const uint8_t l[HLEN], const uint8_t r[HLEN],
		   uint8_t out[HLEN])
{
	struct mk_sha s = { 0 };
	int rc;

	rc = mk_node(&s, l, r, out);
	mk_sha_done(&s);
	return rc;
}

void pz_merkle_empty(uint8_t out[HLEN])
{
	/* SHA-256 of no bytes (FIPS 180-4; RFC 9162 section 2.1.1). */
	static const uint8_t empty[HLEN] = {
		0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14,
		0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
		0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c,
		0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
	};

	memcpy(out, empty, HLEN);
}

int pz_merkle_root(uint64_t n, pz_merkle_get_fn get, void *arg,
		   uint8_t out[HLEN])
{
	struct mk_sha s = { 0 };
	int rc = PZ_OK;

	if (!get || !out)
		return PZ_EINVAL;
	if (n == 0) {
		pz_merkle_empty(out);
		return PZ_OK;
	}
	rc = range_hash(&s, 0, n, get, arg, out);
	mk_sha_done(&s);
	return rc;
}

int pz_merkle_inclusion(uint64_t index, uint64_t n, pz_merkle_get_fn get,
			void *arg, uint8_t *path, size_t *len)
{
	struct mk_range sib[PZ_MERKLE_MAX_PATH];
	uint64_t lo = 0, hi = n;
	size_t k = 0;
	int rc;

	if (!get || !path || !len || index >= n)
		return PZ_EINVAL;
	/* PATH(m, D[n]): the sibling of the half holding the leaf, from the
	 * root down; at most 64 levels below a root of fewer than 2^64
	 * leaves. */
	while (hi - lo > 1) {
		uint64_t mid = lo + split_of(hi - lo);

		if (index < mid) {
			sib[k] = (struct mk_range){ mid, hi };
			hi = mid;
		} else {
			sib[k] = (struct mk_range){ lo, mid };
			lo = mid;
		}
		k++;
	}
	rc = resolve(sib, k, get, arg, path);
	if (rc == PZ_OK)
		*len = k;
	return rc;
}

int pz_merkle_consistency(uint64_t m, uint64_t n, pz_merkle_get_fn get,
			  void *arg, uint8_t *proof, size_t *len)
{
	struct mk_range sib[PZ_MERKLE_MAX_PROOF];
	uint64_t lo = 0, hi = n;
	size_t k = 0;
	int whole = 1, rc;

	if (!get || !proof || !len || m == 0 || m > n)
		return PZ_EINVAL;
	/*
	 * SUBPROOF(m, D[n], b) from the root down; whole is b, "the node is
	 * the old tree itself".  m is absolute here, in (lo, hi] throughout,
	 * so the walk ends at the latest on a single leaf.
	 */
	while (m != hi) {
		uint64_t mid = lo + split_of(hi - lo);

		if (m <= mid) {
			sib[k++] = (struct mk_range){ mid, hi };
			hi = mid;
		} else {
			sib[k++] = (struct mk_range){ lo, mid };
			lo = mid;
			whole = 0;
		}
	}
	/* SUBPROOF(m, D[m], false) = {MTH(D[m])}: where the old tree ends
	 * inside a larger subtree, its last perfect part is needed too. */
	if (!whole)
		sib[k++] = (struct mk_range){ lo, hi };
	rc = resolve(sib, k, get, arg, proof);
	if (rc == PZ_OK)
		*len = k;
	return rc;
}

bool pz_merkle_verify_inclusion(uint64_t index, uint64_t n,
				const uint8_t leaf_hash[HLEN],
				const uint8_t *path, size_t len,
				const uint8_t root[HLEN])
{
	struct mk_sha s = { 0 };
	uint8_t r[HLEN];
	uint64_t fn, sn;
	bool ok = false;

	if (!leaf_hash || !root || (len && !path))
		return false;
	/* 1. */
	if (index >= n || len > PZ_MERKLE_MAX_PATH)
		goto out;
	/* 2., 3. */
	fn = index;
	sn = n - 1;
	memcpy(r, leaf_hash, HLEN);
	/* 4. */
	for (size_t i = 0; i < len; i++) {
		const uint8_t *p = path + i * HLEN;

		/* a. */
		if (sn == 0)
			goto out;
		/* b. */
		if ((fn & 1) || fn == sn) {
			if (mk_node(&s, p, r, r) != PZ_OK)
				goto out;
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			if (mk_node(&s, r, p, r) != PZ_OK)
				goto out;
		}
		/* c. */
		fn >>= 1;
		sn >>= 1;
	}
	/* 5. */
	ok = sn == 0 && memcmp(r, root, HLEN) == 0;
out:
	mk_sha_done(&s);
	return ok;
}

bool pz_merkle_verify_consistency(uint64_t m, uint64_t n,
				  const uint8_t root_m[HLEN],
				  const uint8_t root_n[HLEN],
				  const uint8_t *proof, size_t len)
{
	struct mk_sha s = { 0 };
	uint8_t fr[HLEN], sr[HLEN];
	const uint8_t *c;
	uint64_t fn, sn;
	size_t i;
	bool ok = false;
	int pre;

	if (!root_m || !root_n || (len && !proof))
		return false;
	/* The edges the RFC leaves out (see the header). */
	if (m == 0 || m > n)
		return false;
	if (m == n)
		return len == 0 && memcmp(root_m, root_n, HLEN) == 0;
	/* 1.  Longer proofs fail in step 6a anyway; stop before hashing. */
	if (len == 0 || len > PZ_MERKLE_MAX_PROOF)
		goto out;
	/* 2.  Prepending root_m is done by indexing: element 0 is root_m
	 * and element i is proof[i - 1]. */
	pre = (m & (m - 1)) == 0;
	/* 3. */
	fn = m - 1;
	sn = n - 1;
	/* 4. */
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	/* 5. */
	memcpy(fr, pre ? root_m : proof, HLEN);
	memcpy(sr, fr, HLEN);
	/* 6. */
	for (i = pre ? 0 : 1; i < len; i++) {
		c = proof + i * HLEN;
		/* a. */
		if (sn == 0)
			goto out;
		/* b. */
		if ((fn & 1) || fn == sn) {
			if (mk_node(&s, c, fr, fr) != PZ_OK ||
			    mk_node(&s, c, sr, sr) != PZ_OK)
				goto out;
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			if (mk_node(&s, sr, c, sr) != PZ_OK)
				goto out;
		}
		/* c. */
		fn >>= 1;
		sn >>= 1;
	}
	/* 7. */
	ok = sn == 0 && memcmp(fr, root_m, HLEN) == 0 &&
	     memcmp(sr, root_n, HLEN) == 0;
out:
	mk_sha_done(&s);
	return ok;
}

void pz_merkle_frontier_init(struct pz_merkle_frontier *f)
{
	memset(f, 0, sizeof(*f));
}

int pz_merkle_frontier_load(struct pz_merkle_frontier *f, uint64_t n,
			    pz_merkle_get_fn get, void *arg)
{
	struct pz_merkle_frontier t;
	uint64_t pos = 0;
	int rc = PZ_OK;

	if (!f || !get)
		return PZ_EINVAL;
	memset(&t, 0, sizeof(t));
	t.n = n;
	/* The perfect parts of [0, n), largest (leftmost) first. */
	for (unsigned l = PZ_MERKLE_MAX_LEVELS; l-- > 0;) {
		if (!(n >> l & 1))
			continue;
		rc = get(arg, l, pos >> l, t.hash[l]);
		if (rc != PZ_OK)
			return rc;
		pos += (uint64_t)1 << l;
	}
	*f = t;
	return PZ_OK;
}

int pz_merkle_append(struct pz_merkle_frontier *f,
		     const uint8_t leaf_hash[HLEN], pz_merkle_emit_fn emit,
		     void *arg)
{
	struct mk_sha s = { 0 };
	uint8_t carry[HLEN];
	uint64_t n;
	unsigned l = 0;
	int rc = PZ_OK;

	if (!f || !leaf_hash)
		return PZ_EINVAL;
	n = f->n;
	if (n == UINT64_MAX)
		return PZ_ETOOBIG;
	memcpy(carry, leaf_hash, HLEN);
	if (emit) {
		rc = emit(arg, 0, n, carry);
		if (rc != PZ_OK)
			goto out;
	}
	/* Like incrementing n in binary: each set low bit is a perfect
	 * subtree that the new one of its size completes.  n < 2^64 - 1 has
	 * a clear bit, so l stays below 64. */
	while (n >> l & 1) {
		rc = mk_node(&s, f->hash[l], carry, carry);
		if (rc != PZ_OK)
			goto out;
		l++;
		if (emit) {
			rc = emit(arg, l, n >> l, carry);
			if (rc != PZ_OK)
				goto out;
		}
	}
	memcpy(f->hash[l], carry, HLEN);
	f->n = n + 1;
out:
	mk_sha_done(&s);
	return rc;
}

int pz_merkle_frontier_root(const struct pz_merkle_frontier *f,
			    uint8_t out[HLEN])
{
	struct mk_sha s = { 0 };
	uint64_t n;
	unsigned l;
	int rc = PZ_OK;

	if (!f || !out)
		return PZ_EINVAL;
	n = f->n;
	if (n == 0) {
		pz_merkle_empty(out);
		return PZ_OK;
	}
	/* The RFC fold of the perfect parts, smallest (rightmost) first. */
	l = (unsigned)__builtin_ctzll(n);
	memcpy(out, f->hash[l], HLEN);
	for (n &= n - 1; n; n &= n - 1) {
		l = (unsigned)__builtin_ctzll(n);
		rc = mk_node(&s, f->hash[l], out, out);
		if (rc != PZ_OK)
			break;
	}
	mk_sha_done(&s);
	return rc;
}
