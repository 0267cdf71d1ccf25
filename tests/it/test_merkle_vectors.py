"""Cross-check of plaza's RFC 9162 Merkle module against an independent
implementation.

The reference below is written from the RFC's text alone (section 2.1:
MTH, PATH, PROOF/SUBPROOF) with Python's hashlib, and shares no code with
src/trust/merkle.c.  tests/unit/merkle_tool (built with the unit tests)
builds a log of N entries the way the trust log does -- entry i is the
ASCII text "entry-<i>", hashed with pz_merkle_leaf and appended with
pz_merkle_append, every emitted node stored -- and answers queries on
stdin with JSON lines (see tests/unit/merkle_tool.c).  We compare:

- the root of every size 0..1000;
- every inclusion path and consistency proof of trees up to 8 leaves, and
  a deterministic sample of them up to 1,000;
- the module's verifiers on the reference's proofs, genuine (accepted)
  and perturbed: a flipped bit, truncated, extended, wrong roots (refused).

The reference is itself checked against the published certificate-
transparency test vectors first.
"""
import hashlib
import json
import os
import random
import subprocess
from functools import lru_cache

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("PLAZA_BUILD", os.path.join(ROOT, "build"))
TOOL = os.path.join(BUILD, "tests", "unit", "merkle_tool")
N = 1000

# --- the reference: RFC 9162 section 2.1, literally --------------------------


def sha256(b):
    return hashlib.sha256(b).digest()


def leaf_hash(d):
    return sha256(b"\x00" + d)


def node_hash(left, right):
    return sha256(b"\x01" + left + right)


def split(n):
    """k: the largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


class Tree:
    """D[0:n] for the given entries, with MTH of every range cached."""

    def __init__(self, entries):
        self.leaves = [leaf_hash(e) for e in entries]
        self.mth = lru_cache(maxsize=None)(self._mth)

    def _mth(self, lo, hi):
        """MTH(D[lo:hi])"""
        n = hi - lo
        if n == 0:
            return sha256(b"")
        if n == 1:
            return self.leaves[lo]
        k = split(n)
        return node_hash(self.mth(lo, lo + k), self.mth(lo + k, hi))

    def path(self, m, lo, hi):
        """PATH(m, D[lo:hi]), m relative to lo (section 2.1.3.1)."""
        n = hi - lo
        if n == 1:
            return []
        k = split(n)
        if m < k:
            return self.path(m, lo, lo + k) + [self.mth(lo + k, hi)]
        return self.path(m - k, lo + k, hi) + [self.mth(lo, lo + k)]

    def subproof(self, m, lo, hi, b):
        """SUBPROOF(m, D[lo:hi], b), m relative to lo (section 2.1.4.1)."""
        n = hi - lo
        if m == n:
            return [] if b else [self.mth(lo, hi)]
        k = split(n)
        if m <= k:
            return self.subproof(m, lo, lo + k, b) + [self.mth(lo + k, hi)]
        return (self.subproof(m - k, lo + k, hi, False) +
                [self.mth(lo, lo + k)])

    def proof(self, m, n):
        """PROOF(m, D[n])"""
        return self.subproof(m, 0, n, True)


def entry(i):
    return b"entry-%d" % i


# --- the tool ---------------------------------------------------------------


class Tool:
    def __init__(self, n):
        if not os.access(TOOL, os.X_OK):
            pytest.fail("%s is missing: build the unit tests (PZ_TESTS=ON) "
                        "in PLAZA_BUILD=%s" % (TOOL, BUILD), pytrace=False)
        self.proc = subprocess.Popen([TOOL, str(n)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)

    def ask(self, *words):
        self.proc.stdin.write(" ".join(str(w) for w in words) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, "merkle_tool exited (%s)" % self.proc.poll()
        return json.loads(line)

    def hashes(self, *words):
        ans = self.ask(*words)
        assert "error" not in ans, (words, ans)
        (value,) = ans.values()
        return [bytes.fromhex(h) for h in value] if isinstance(value, list) \
            else bytes.fromhex(value)

    def verify(self, op, a, n, x, y, hashes):
        ans = self.ask(op, a, n, x.hex(), y.hex(), *[h.hex() for h in hashes])
        assert "ok" in ans, ans
        return ans["ok"]

    def close(self):
        self.proc.stdin.close()
        assert self.proc.wait(10) == 0


@pytest.fixture(scope="module")
def tool():
    t = Tool(N)
    yield t
    t.close()


@pytest.fixture(scope="module")
def ref():
    return Tree([entry(i) for i in range(N)])


def sample_sizes():
    rnd = random.Random(9162)
    sizes = set(range(1, 9))
    sizes |= {15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256,
              257, 511, 512, 513, 640, 999, 1000}
    sizes |= {rnd.randrange(9, N + 1) for _ in range(25)}
    return sorted(sizes)


def sample_points(n, rnd):
    """Every point for small trees, else the edges and a few others."""
    if n <= 8:
        return list(range(n))
    pts = {0, 1, n // 2, n - 2, n - 1}
    pts |= {rnd.randrange(n) for _ in range(6)}
    return sorted(pts)


# --- tests --------------------------------------------------------------------

CT_INPUTS = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
             "606162636465666768696a6b6c6d6e6f"]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def test_reference_matches_published_vectors():
    """The reference against certificate-transparency's merkle_tree_test.cc
    (roots of 0..8 leaves, PATH(5, D[8]), PROOF(6, D[8]))."""
    t = Tree([bytes.fromhex(x) for x in CT_INPUTS])
    for n in range(9):
        assert t.mth(0, n).hex() == CT_ROOTS[n]
    assert [h.hex() for h in t.path(5, 0, 8)] == [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]
    assert [h.hex() for h in t.proof(6, 8)] == [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]


def test_roots(tool, ref):
    for n in range(N + 1):
        assert tool.hashes("root", n) == ref.mth(0, n), n
    # The constant test_merkle.c's test_root_1000 checks.
    assert ref.mth(0, N).hex() == \
        "d03d63b772af99019817ee3e018286d36a26161bdb5bfe8228e92c02abe9115d"


def test_leaves(tool, ref):
    for i in (0, 1, 9, 10, 999):
        assert tool.hashes("leaf", i) == ref.leaves[i]


def test_inclusion_paths(tool, ref):
    rnd = random.Random(1)
    count = 0
    for n in sample_sizes():
        for i in sample_points(n, rnd):
            want = ref.path(i, 0, n)
            assert tool.hashes("path", i, n) == want, (i, n)
            count += 1
    assert count > 250


def test_consistency_proofs(tool, ref):
    rnd = random.Random(2)
    count = 0
    for n in sample_sizes():
        for m in sorted(set(p + 1 for p in sample_points(n, rnd)) | {n}):
            want = ref.proof(m, n)
            assert tool.hashes("proof", m, n) == want, (m, n)
            count += 1
    assert count > 250


def flips(hashes, rnd, count):
    """Copies of hashes with one bit flipped, at random places."""
    out = []
    for _ in range(count if hashes else 0):
        j = rnd.randrange(len(hashes))
        b = bytearray(hashes[j])
        b[rnd.randrange(32)] ^= 1 << rnd.randrange(8)
        out.append(hashes[:j] + [bytes(b)] + hashes[j + 1:])
    return out


def test_verify_reference_paths(tool, ref):
    """The module's verifier accepts the reference's paths, and refuses
    them changed."""
    rnd = random.Random(3)
    for n in sample_sizes():
        root = ref.mth(0, n)
        for i in sample_points(n, rnd)[:4]:
            leaf, path = ref.leaves[i], ref.path(i, 0, n)
            assert tool.verify("vpath", i, n, leaf, root, path)
            bad = flips(path, rnd, 3)
            bad += [path[:-1], path + [root], [bytes(32)] + path] if path \
                else [[root]]
            for p in bad:
                assert not tool.verify("vpath", i, n, leaf, root, p)
            flipped = bytes([leaf[0] ^ 0x80]) + leaf[1:]
            assert not tool.verify("vpath", i, n, flipped, root, path)
            assert not tool.verify("vpath", i, n, leaf, ref.mth(0, n - 1),
                                   path)
            assert not tool.verify("vpath", n, n, leaf, root, path)


def test_verify_reference_proofs(tool, ref):
    rnd = random.Random(4)
    for n in sample_sizes():
        root = ref.mth(0, n)
        for m in sample_points(n, rnd)[:4]:
            m += 1
            old, proof = ref.mth(0, m), ref.proof(m, n)
            assert tool.verify("vproof", m, n, old, root, proof)
            if m == n:
                assert proof == []
                assert not tool.verify("vproof", m, n, old, root, [root])
                continue
            bad = flips(proof, rnd, 3)
            bad += [[], proof[:-1], proof + [proof[-1]], [old] + proof]
            for p in bad:
                assert not tool.verify("vproof", m, n, old, root, p)
            assert not tool.verify("vproof", m, n, root, old, proof)
            assert not tool.verify("vproof", 0, n, sha256(b""), root, [])
