/*
 * pz_merkle.h - RFC 9162 (Certificate Transparency 2.0) Merkle trees, the
 * hash structure of the trust log (issue 5).
 *
 * Section 2.1 of the RFC with SHA-256:
 *
 *   MTH({})      = SHA-256()
 *   MTH({d(0)})  = SHA-256(0x00 || d(0))                        leaf hash
 *   MTH(D[n])    = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))  n > 1,
 *                  k the largest power of two smaller than n
 *
 * Proofs are generated without holding the tree: the caller stores the
 * hashes of the *perfect* subtrees (2^level leaves starting at a multiple
 * of 2^level, "node (level, index)"; level 0 are the leaf hashes) and
 * hands a pz_merkle_get_fn that looks one up.  There are fewer than two
 * per leaf, and they never change once complete.  Every other node of the
 * tree lies on its right edge and is recomputed from perfect ones.
 *
 * The writer keeps a pz_merkle_frontier (the perfect subtrees of the
 * current size, at most 64 hashes): pz_merkle_append adds a leaf, reports
 * each perfect node the leaf completes, and yields the root in O(log n).
 * Node (level, index) is completed by the append of leaf
 * ((index + 1) << level) - 1, so a store that keeps the nodes of one
 * append with that leaf (as pz_store_tlog_append does, 32 bytes per level)
 * finds every node with one lookup.
 *
 * Hashes are PZ_MERKLE_HASH_LEN bytes; a proof is a flat array of len
 * hashes, 32 * len bytes, in the RFC's order (the level nearest the leaf
 * first).  SHA-256 comes from OpenSSL's libcrypto (EVP), which allocates,
 * so even hashing can fail with PZ_ENOMEM.
 *
 * Threads: no global state; every function may run in any thread, on
 * distinct frontiers.
 */
#ifndef PZ_MERKLE_H
#define PZ_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PZ_MERKLE_HASH_LEN 32

/*
 * Longest inclusion proof: one hash per level, ceil(log2 n) <= 64 for any
 * n < 2^64.
 */
#define PZ_MERKLE_MAX_PATH 64

/*
 * Longest consistency proof: ceil(log2 n) + 1 <= 65.  The extra hash is
 * MTH of the subtree where the old tree ends when that subtree is not the
 * old tree itself; 65 is reached, for example, by m = 2^63 + 1 and
 * n = 2^64 - 1.  It is at most 64 for n <= 2^63.
 */
#define PZ_MERKLE_MAX_PROOF 65

/* Levels of a frontier: a tree of n < 2^64 leaves has perfect subtrees of
 * 2^0 ... 2^63 leaves. */
#define PZ_MERKLE_MAX_LEVELS 64

/*
 * pz_merkle_get_fn - write into out the stored hash of node (level,
 * index), the perfect subtree of leaves [index * 2^level,
 * (index + 1) * 2^level).  The module only asks for nodes that exist in
 * the tree it works on: (index + 1) * 2^level <= n.  Return PZ_OK, or
 * any other value (a pz_err such as PZ_ESTORE or PZ_ENOTFOUND), which the
 * calling function returns unchanged.  Called synchronously, in the
 * caller's thread.
 */
typedef int (*pz_merkle_get_fn)(void *arg, unsigned level, uint64_t index,
				uint8_t out[PZ_MERKLE_HASH_LEN]);

/*
 * pz_merkle_emit_fn - node (level, index) has just been completed, with
 * this hash (borrowed for the call).  Return PZ_OK, or any other value,
 * which pz_merkle_append returns unchanged.
 */
typedef int (*pz_merkle_emit_fn)(void *arg, unsigned level, uint64_t index,
				 const uint8_t hash[PZ_MERKLE_HASH_LEN]);

/* --- hashes ------------------------------------------------------------ */

/*
 * pz_merkle_leaf - the leaf hash SHA-256(0x00 || entry) of the len bytes
 * at entry (borrowed; may be NULL when len is 0) into out.
 * PZ_OK, PZ_ENOMEM (libcrypto failed; out is then unspecified).
 */
int pz_merkle_leaf(const void *entry, size_t len,
		   uint8_t out[PZ_MERKLE_HASH_LEN]);

/*
 * pz_merkle_node - the interior hash SHA-256(0x01 || l || r) into out,
 * which may be the same memory as l or r.  PZ_OK, PZ_ENOMEM.
 */
int pz_merkle_node(const uint8_t l[PZ_MERKLE_HASH_LEN],
		   const uint8_t r[PZ_MERKLE_HASH_LEN],
		   uint8_t out[PZ_MERKLE_HASH_LEN]);

/* pz_merkle_empty - MTH({}), the SHA-256 of no bytes, into out.  Cannot
 * fail. */
void pz_merkle_empty(uint8_t out[PZ_MERKLE_HASH_LEN]);

/* --- proofs from stored perfect subtrees -------------------------------- */

/*
 * pz_merkle_root - MTH(D[n]) into out: one get per set bit of n (at most
 * 64); n = 0 gives MTH({}) without any.  get must not be NULL.
 * PZ_OK, PZ_EINVAL (get or out NULL), PZ_ENOMEM, or get's error.
 */
int pz_merkle_root(uint64_t n, pz_merkle_get_fn get, void *arg,
		   uint8_t out[PZ_MERKLE_HASH_LEN]);

/*
 * pz_merkle_inclusion - the inclusion proof PATH(index, D[n]) of RFC 9162
 * section 2.1.3.1 into path (room for PZ_MERKLE_MAX_PATH hashes) and its
 * number of hashes into *len (0 for n = 1).
 *
 * Cost: one get per hash of the path, except that the one sibling which
 * lies on the tree's right edge (if any) costs one get per perfect subtree
 * it is made of; at most ceil(log2 n) + popcount(n) - 1 gets in all.
 *
 * PZ_OK; PZ_EINVAL when index >= n or a pointer is NULL; PZ_ENOMEM; or
 * get's error.  On an error path and *len are unspecified.
 */
int pz_merkle_inclusion(uint64_t index, uint64_t n, pz_merkle_get_fn get,
			void *arg, uint8_t *path, size_t *len);

/*
 * pz_merkle_consistency - the consistency proof PROOF(m, D[n]) of RFC 9162
 * section 2.1.4.1 between the trees of the first m and of all n leaves,
 * into proof (room for PZ_MERKLE_MAX_PROOF hashes), its number of hashes
 * into *len.  m == n gives the empty proof (SUBPROOF(m, D[m], true) = {}).
 *
 * Cost as for pz_merkle_inclusion, plus at most one get.
 *
 * PZ_OK; PZ_EINVAL when m == 0 (the RFC defines no proof from the empty
 * tree), m > n, or a pointer is NULL; PZ_ENOMEM; or get's error.  On an
 * error proof and *len are unspecified.
 */
int pz_merkle_consistency(uint64_t m, uint64_t n, pz_merkle_get_fn get,
			  void *arg, uint8_t *proof, size_t *len);

/* --- verification (RFC 9162 sections 2.1.3.2 and 2.1.4.2) --------------- */

/*
 * pz_merkle_verify_inclusion - whether path (len hashes, borrowed) proves
 * that the leaf with hash leaf_hash is leaf number index of the tree of
 * size n whose MTH is root.  The RFC's iterative algorithm, exactly.
 *
 * False for index >= n, for a path of the wrong length, for NULL pointers
 * (path may be NULL when len is 0), and when hashing fails (libcrypto out
 * of memory): only a proof that checks out gives true.  Any input is safe;
 * the work is bounded by 64 hashes whatever len says.
 *
 * Note that the RFC's proof commits to the shape of the path, not to n
 * itself: a proof for (index, n) is also accepted for another size whose
 * path has the same length and the same left/right turns (leaf 0 of 3
 * and of 4 leaves, say), with the same root.  Such a root cannot belong to
 * a tree of that other size unless SHA-256 collides.
 */
bool pz_merkle_verify_inclusion(uint64_t index, uint64_t n,
				const uint8_t leaf_hash[PZ_MERKLE_HASH_LEN],
				const uint8_t *path, size_t len,
				const uint8_t root[PZ_MERKLE_HASH_LEN]);

/*
 * pz_merkle_verify_consistency - whether proof (len hashes, borrowed)
 * proves that the tree of m leaves with MTH root_m is a prefix of the tree
 * of n leaves with MTH root_n.
 *
 * For 0 < m < n, the RFC's iterative algorithm exactly (an empty proof
 * fails).  The RFC defines the algorithm only for 0 < m < n; the edges
 * are decided as the generator above produces them:
 *
 *   m == n        true iff len == 0 and root_m equals root_n;
 *   m == 0        false (no proof exists; any tree extends the empty one,
 *                 so a client that saw size 0 has nothing to verify);
 *   m > n         false.
 *
 * Also false for NULL pointers (proof may be NULL when len is 0) and when
 * hashing fails.  Any input is safe; the work is bounded by 65 hashes.
 */
bool pz_merkle_verify_consistency(uint64_t m, uint64_t n,
				  const uint8_t root_m[PZ_MERKLE_HASH_LEN],
				  const uint8_t root_n[PZ_MERKLE_HASH_LEN],
				  const uint8_t *proof, size_t len);

/* --- the writer's incremental tree -------------------------------------- */

/*
 * The perfect subtrees that make up a tree of n leaves: one per set bit of
 * n, the largest first.  Plain data, about 2 KiB, no allocation; copy it
 * freely.  Initialise with pz_merkle_frontier_init or _load.
 */
struct pz_merkle_frontier {
	uint64_t n;     /* leaves appended */
	uint8_t hash[PZ_MERKLE_MAX_LEVELS][PZ_MERKLE_HASH_LEN];
			/* hash[l]: node (l, (n >> l) - 1) when bit l of n is
			 * set; meaningless otherwise */
};

/* pz_merkle_frontier_init - the empty tree. */
void pz_merkle_frontier_init(struct pz_merkle_frontier *f);

/*
 * pz_merkle_frontier_load - rebuild the frontier of a stored tree of n
 * leaves (at start-up): one get per set bit of n.  PZ_OK, PZ_EINVAL (a
 * NULL pointer), or get's error; on an error *f is left as it was.
 */
int pz_merkle_frontier_load(struct pz_merkle_frontier *f, uint64_t n,
			    pz_merkle_get_fn get, void *arg);

/*
 * pz_merkle_append - add the leaf whose hash is leaf_hash (see
 * pz_merkle_leaf) as leaf number f->n.  emit (may be NULL) is called for
 * every node this completes, bottom-up: (0, f->n) with leaf_hash itself,
 * then (1, f->n >> 1) if the leaf closes a pair, and so on; about two
 * calls per append on average, at most 64.
 *
 * PZ_OK; PZ_EINVAL (f or leaf_hash NULL); PZ_ETOOBIG when the tree
 * already has 2^64 - 1 leaves; PZ_ENOMEM; or emit's error.  On any error *f is left as it was (emit may have been
 * called for some of the nodes already, so whatever emit stores must
 * tolerate seeing them again when the append is retried).
 */
int pz_merkle_append(struct pz_merkle_frontier *f,
		     const uint8_t leaf_hash[PZ_MERKLE_HASH_LEN],
		     pz_merkle_emit_fn emit, void *arg);

/*
 * pz_merkle_frontier_root - MTH of the frontier's tree into out, from its
 * popcount(n) hashes.  PZ_OK, PZ_EINVAL (a NULL pointer), PZ_ENOMEM (out
 * is then unspecified).
 */
int pz_merkle_frontier_root(const struct pz_merkle_frontier *f,
			    uint8_t out[PZ_MERKLE_HASH_LEN]);

#endif
