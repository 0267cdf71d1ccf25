"""plaza-verify, the auditor's tool (docs/trust.md, "Auditing with
plaza-verify").

The documents are made here, independently of plaza's C code, from the
contract alone: a deterministic CBOR encoder (RFC 8949 section 4.2.1), the
RFC 9162 Merkle tree (hashlib), and Ed25519 heads over the 98 signed bytes
of pz_tlog.h ("plaza tree head v1" || log_id || timestamp BE64 || size
BE64 || root) with the `cryptography` module.  We check that genuine
heads, bundles and consistency proofs verify (exit 0), that every tamper
is refused with exit 1 and a reason, and that malformed input exits 2
without crashing.  A small HTTP server in this file plays the operator
for the URL, --log, --since and --save-head paths.

The end-to-end tests at the bottom run the same checks against a real
plazad (the conftest fixtures).

`python3 tests/it/test_verify.py --seeds DIR` writes the seed corpus of
fuzz/verify_fuzz.c.
"""
import base64
import copy
import hashlib
import http.server
import json
import os
import struct
import subprocess
import sys
import threading

import pytest

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("PLAZA_BUILD", os.path.join(ROOT, "build"))
VERIFY = os.path.join(BUILD, "plaza-verify")

# --- deterministic CBOR (RFC 8949 section 4.2.1) -----------------------------


def _head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for ai, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
        if n < 1 << (8 * struct.calcsize(fmt)):
            return bytes([major << 5 | ai]) + struct.pack(fmt, n)
    raise ValueError(n)


def cbor(v):
    if v is None:
        return b"\xf6"
    if v is True:
        return b"\xf5"
    if v is False:
        return b"\xf4"
    if isinstance(v, int):
        return _head(0, v) if v >= 0 else _head(1, -1 - v)
    if isinstance(v, float):
        return b"\xfb" + struct.pack(">d", v)
    if isinstance(v, bytes):
        return _head(2, len(v)) + v
    if isinstance(v, str):
        b = v.encode()
        return _head(3, len(b)) + b
    if isinstance(v, list):
        return _head(4, len(v)) + b"".join(cbor(x) for x in v)
    if isinstance(v, dict):
        items = sorted((cbor(k), cbor(x)) for k, x in v.items())
        return _head(5, len(v)) + b"".join(k + x for k, x in items)
    raise TypeError(v)


# --- RFC 9162 section 2.1 ----------------------------------------------------


def sha256(b):
    return hashlib.sha256(b).digest()


def leaf_hash(d):
    return sha256(b"\x00" + d)


def split(n):
    k = 1
    while k << 1 < n:
        k <<= 1
    return k


def mth(leaves):
    if not leaves:
        return sha256(b"")
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = split(len(leaves))
    return sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def path(m, leaves):
    if len(leaves) <= 1:
        return []
    k = split(len(leaves))
    if m < k:
        return path(m, leaves[:k]) + [mth(leaves[k:])]
    return path(m - k, leaves[k:]) + [mth(leaves[:k])]


def subproof(m, leaves, b):
    n = len(leaves)
    if m == n:
        return [] if b else [mth(leaves)]
    k = split(n)
    if m <= k:
        return subproof(m, leaves[:k], b) + [mth(leaves[k:])]
    return subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]


def b64(b):
    return base64.b64encode(b).decode()


def unb64(s):
    return base64.b64decode(s)


# --- a log of our own ---------------------------------------------------------

T0 = 1795568400123


class Log:
    """An append-only log signed like plaza's, from the contract alone."""

    def __init__(self, key=None):
        self.key = key or Ed25519PrivateKey.generate()
        self.pub = self.key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.log_id = sha256(self.pub)
        self.leaves = []

    def pem(self):
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo)

    def append(self, fields, seq=None):
        e = dict(fields)
        e.update(v=1, seq=len(self.leaves) if seq is None else seq,
                 time=T0 + len(self.leaves))
        self.leaves.append(cbor(e))
        return len(self.leaves) - 1

    def append_raw(self, leaf):
        self.leaves.append(leaf)

    def head(self, size=None, ts=None, root=None):
        size = len(self.leaves) if size is None else size
        ts = T0 + 1000 * (size % 10 ** 6) if ts is None else ts
        root = mth(self.leaves[:size]) if root is None else root
        tbs = (b"plaza tree head v1" + self.log_id +
               struct.pack(">QQ", ts, size) + root)
        return {"log_id": b64(self.log_id), "tree_size": size,
                "timestamp": ts, "root_hash": b64(root),
                "signature": b64(self.key.sign(tbs))}

    def bundle(self, seqs, size=None, record=None):
        size = len(self.leaves) if size is None else size
        b = {"head": self.head(size),
             "entries": [{"seq": s, "leaf_input": b64(self.leaves[s]),
                          "path": [b64(h) for h in
                                   path(s, self.leaves[:size])]}
                         for s in seqs]}
        if record is not None:
            b["record"] = record
        return b

    def consistency(self, m, n=None):
        n = len(self.leaves) if n is None else n
        return {"from": m, "to": n,
                "proof": [b64(h) for h in
                          subproof(m, self.leaves[:n], True)],
                "head": self.head(n)}


def device_log(n=13, key=None):
    """A log of n entries; entries 2, 5, 9 (and 12) are about one device."""
    log = Log(key)
    dev = "urn:dev:mac:0024befffe804ff1"
    for i in range(n):
        if i in (2, 5, 9, 12):
            typ = {2: "register", 5: "bind-key", 9: "rotate-key",
                   12: "revoke"}[i]
            f = {"type": typ, "id": dev}
            if typ == "register":
                f.update(kind="device", aliases=["Clamp-7"], owner="CAdmin")
            else:
                f["key"] = {"type": "psk", "fp": "sha256:" + "ab" * 32}
            log.append(f)
        else:
            log.append({"type": "register", "id": "Cae%d" % i,
                        "kind": "application", "aliases": [],
                        "owner": "CAdmin"})
    return log, dev


def record_of(log, dev, seqs):
    return {"id": dev, "kind": "device", "status": "active",
            "history": [{"seq": s, "type": "x", "time": T0} for s in seqs]}


# --- running the tool ----------------------------------------------------------


class Run:
    def __init__(self, p):
        self.rc, self.out, self.err = p.returncode, p.stdout, p.stderr

    def __repr__(self):
        return "rc=%d\nstdout:\n%s\nstderr:\n%s" % (self.rc, self.out,
                                                    self.err)


def run(*args, stdin=None, timeout=60):
    p = subprocess.run([VERIFY] + [str(a) for a in args], input=stdin,
                       capture_output=True, text=True, timeout=timeout)
    r = Run(p)
    # never a crash, a sanitizer finding or a leak, whatever the input
    assert r.rc in (0, 1, 2), r
    for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error"):
        assert bad not in r.err, r
    return r


def ok(*args, **kw):
    r = run(*args, **kw)
    assert r.rc == 0, r
    return r


def fails(reason, *args, **kw):
    r = run(*args, **kw)
    assert r.rc == 1, r
    assert "verification failed" in r.err and reason in r.err, r
    assert r.err.count("\n") == 1, r        # one line
    return r


def error(reason, *args, **kw):
    r = run(*args, **kw)
    assert r.rc == 2, r
    assert reason in r.err, r
    return r


@pytest.fixture
def files(tmp_path):
    """files(name=obj, ...) writes JSON (or bytes) and returns paths."""
    def write(**kw):
        out = []
        for name, obj in kw.items():
            p = tmp_path / name
            if isinstance(obj, bytes):
                p.write_bytes(obj)
            elif isinstance(obj, str):
                p.write_text(obj)
            else:
                p.write_text(json.dumps(obj))
            out.append(str(p))
        return out[0] if len(out) == 1 else out
    return write


@pytest.fixture(scope="module")
def dlog():
    return device_log()


@pytest.fixture
def keyfile(dlog, files):
    return files(**{"log.pem": dlog[0].pem()})


# --- genuine documents verify -------------------------------------------------


def test_help_and_usage():
    r = ok("--help")
    assert "plaza-verify" in r.out and "consistency OLD" in r.out
    assert "Exit status" in r.out
    error("no command", )
    error("unknown command", "--key", "x", "frobnicate")
    error("unknown option", "--bogus")


def test_head(dlog, keyfile, files):
    log, _ = dlog
    h = log.head()
    r = ok("--key", keyfile, "head", files(**{"h.json": h}))
    assert "tree_size 13" in r.out and h["root_hash"] in r.out
    assert "timestamp %d" % h["timestamp"] in r.out
    assert b64(log.log_id) in r.out
    # from stdin, pinned by log id, as JSON
    r = ok("--key", keyfile, "--log-id", b64(log.log_id), "--json",
           "head", "-", stdin=json.dumps(h))
    j = json.loads(r.out)
    assert j["verified"] is True and j["head"] == h
    # a document carrying a head is a head too
    ok("--key", keyfile, "head", files(**{"b.json": log.bundle([1])}))


def test_bundle(dlog, keyfile, files):
    log, dev = dlog
    b = log.bundle([2, 5, 9, 12], record=record_of(log, dev, [2, 5, 9, 12]))
    r = ok("--key", keyfile, "proof", files(**{"b.json": b}))
    lines = [l for l in r.out.splitlines() if l.startswith("entry ")]
    assert len(lines) == 4
    e = json.loads(lines[1].split(": ", 1)[1])
    assert e["seq"] == 5 and e["id"] == dev and e["type"] == "bind-key"
    assert "4 entries of %s included" % dev in r.out
    # every entry of every size, on its own
    for size in (1, 2, 3, 7, 8, 13):
        for s in range(size):
            ok("--key", keyfile, "-q", "proof",
               files(**{"b.json": log.bundle([s], size)}))
    j = json.loads(ok("--key", keyfile, "--json", "proof",
                      files(**{"b.json": b})).out)
    assert [e["seq"] for e in j["entries"]] == [2, 5, 9, 12]


def test_consistency(dlog, keyfile, files):
    log, _ = dlog
    for m in (1, 2, 3, 4, 5, 8, 12, 13):
        old = files(**{"old.json": log.head(m)})
        doc = log.consistency(m)
        # NEW as a consistency document carrying the head
        ok("--key", keyfile, "consistency", old, files(**{"c.json": doc}))
        # NEW as a head, PROOF as the document or as a bare array
        new = files(**{"new.json": log.head()})
        ok("--key", keyfile, "consistency", old, new,
           files(**{"p.json": doc}))
        ok("--key", keyfile, "consistency", old, new,
           files(**{"p.json": doc["proof"]}))
    # equal heads need no proof; nor does an old empty log
    h = files(**{"h.json": log.head()})
    ok("--key", keyfile, "consistency", h, h)
    ok("--key", keyfile, "consistency", files(**{"e.json": log.head(0)}), h)


# --- every tamper fails with exit 1 and a reason ------------------------------


def flip(s, i=0):
    b = bytearray(unb64(s))
    b[i % len(b)] ^= 1
    return b64(bytes(b))


def tamper_cases(log, dev):
    seqs = [2, 5, 9, 12]
    base = log.bundle(seqs, record=record_of(log, dev, seqs))

    def t(fn):
        b = copy.deepcopy(base)
        fn(b)
        return b

    def resign(b, **kw):
        b["head"] = log.head(**kw)

    cases = {
        "leaf_input": (t(lambda b: b["entries"][1].update(
            leaf_input=flip(b["entries"][1]["leaf_input"], 7))),
            "entry 5: audit path does not lead to the signed root"),
        "path": (t(lambda b: b["entries"][2]["path"].__setitem__(
            1, flip(b["entries"][2]["path"][1]))),
            "entry 9: audit path does not lead to the signed root"),
        "root": (t(lambda b: b["head"].update(
            root_hash=flip(b["head"]["root_hash"]))),
            "head signature invalid"),
        "signature": (t(lambda b: b["head"].update(
            signature=flip(b["head"]["signature"], 40))),
            "head signature invalid"),
        "size": (t(lambda b: b["head"].update(tree_size=14)),
                 "head signature invalid"),
        "timestamp": (t(lambda b: b["head"].update(timestamp=T0)),
                      "head signature invalid"),
        "log_id": (t(lambda b: b["head"].update(log_id=b64(b"\1" * 32))),
                   "log_id is not the key's"),
        "truncated path": (t(lambda b: b["entries"][0]["path"].pop()),
                           "entry 2: audit path has 3 hashes"),
        "extended path": (t(lambda b: b["entries"][0]["path"].append(
            b64(b"\0" * 32))), "entry 2: audit path has 5 hashes"),
        "swapped entries": (t(lambda b: b["entries"].reverse()),
                            "out of order"),
        "swapped leaves": (t(lambda b: [b["entries"][0].update(
            leaf_input=base["entries"][1]["leaf_input"]),
            b["entries"][1].update(
                leaf_input=base["entries"][0]["leaf_input"])]),
            "entry 2: audit path does not lead"),
        "moved entry": (t(lambda b: b["entries"][0].update(seq=3)),
                        "entry 3: audit path does not lead"),
        "seq past size": (t(lambda b: b["entries"][3].update(seq=13)),
                          "entry 13: not in a tree of 13"),
        "hidden history": (t(lambda b: b["entries"].pop(2)),
                           "history names entry 9"),
        "other identity": (t(lambda b: b["record"].update(
            id="urn:dev:mac:0000000000000001")),
            "is not about urn:dev:mac:0000000000000001"),
    }
    # a proof for a smaller tree, under the newest head
    cases["older proof"] = (t(lambda b: b["entries"][0].update(
        path=[b64(h) for h in path(2, log.leaves[:8])])),
        "entry 2: audit path")
    return cases


@pytest.mark.parametrize("case", [
    "leaf_input", "path", "root", "signature", "size", "timestamp",
    "log_id", "truncated path", "extended path", "swapped entries",
    "swapped leaves", "moved entry", "seq past size", "hidden history",
    "other identity", "older proof"])
def test_bundle_tamper(dlog, keyfile, files, case):
    log, dev = dlog
    doc, reason = tamper_cases(log, dev)[case]
    fails(reason, "--key", keyfile, "proof", files(**{"b.json": doc}))


def test_entry_contents_checked(keyfile, files):
    """Entries the log proves but that are not what plaza writes."""
    log = Log()
    log.append({"type": "register", "id": "Ca"})
    log.append({"type": "register", "id": "Cb"}, seq=7)     # wrong seq
    log.append_raw(cbor({"seq": 2, "v": 1})[:-1] + b"\x02")  # fine: seq 2
    log.append_raw(b"\xbf\x61a\x01\xff")                     # indefinite
    log.append_raw(b"\xa2\x61b\x01\x61a\x02")                # key order
    log.append_raw(b"\x18\x05")                              # long form
    log.append_raw(cbor([1, 2]))                             # not a map
    log.append_raw(cbor({"seq": 7, "v": 1}) + b"\x00")       # trailing
    log.append_raw(cbor({"seq": 8, "v": 2}))                 # version 2
    kf = files(**{"k.pem": log.pem()})
    ok("--key", kf, "proof", files(**{"b.json": log.bundle([0, 2])}))
    for seq, reason in ((1, "entry 1: its \"seq\" field is not 1"),
                        (3, "entry 3: leaf_input is not plaza's "
                            "deterministic CBOR: indefinite length"),
                        (4, "map keys out of order"),
                        (5, "not the shortest encoding"),
                        (6, "entry 6: not a CBOR map"),
                        (7, "bytes after the item")):
        fails(reason, "--key", kf, "proof",
              files(**{"b.json": log.bundle([seq])}))
    error("version 2 is unknown", "--key", kf, "proof",
          files(**{"b.json": log.bundle([8])}))


def test_keys(dlog, keyfile, files):
    log, _ = dlog
    h = files(**{"h.json": log.head()})
    other = files(**{"other.pem": Log().pem()})
    fails("log_id is not the key's", "--key", other, "head", h)
    fails("is not the pinned", "--key", keyfile, "--log-id",
          b64(b"\7" * 32), "head", h)
    error("--log-id must be base64 of 32 bytes", "--key", keyfile,
          "--log-id", "abc", "head", h)
    error("not an Ed25519 public key", "--key", h, "head", h)
    rsa = subprocess.run(["openssl", "genpkey", "-algorithm", "EC",
                          "-pkeyopt", "ec_paramgen_curve:P-256"],
                         capture_output=True, check=True).stdout
    ec = subprocess.run(["openssl", "pkey", "-pubout"], input=rsa,
                        capture_output=True, check=True).stdout
    error("not an Ed25519 public key", "--key",
          files(**{"ec.pem": ec}), "head", h)
    error("No such file", "--key", "/nonexistent.pem", "head", h)
    error("the log's key is needed", "head", h)
    # a head signed by another key but claiming this log's id
    evil = Log()
    evil.log_id = log.log_id
    evil.leaves = log.leaves
    fails("head signature invalid", "--key", keyfile, "head",
          files(**{"e.json": evil.head()}))


def test_consistency_tamper(dlog, keyfile, files):
    log, _ = dlog
    old = files(**{"old.json": log.head(5)})
    doc = log.consistency(5)
    bad = copy.deepcopy(doc)
    bad["proof"][1] = flip(bad["proof"][1])
    fails("not consistent: the proof does not link", "--key", keyfile,
          "consistency", old, files(**{"c.json": bad}))
    short = copy.deepcopy(doc)
    short["proof"].pop()
    fails("not consistent", "--key", keyfile, "consistency", old,
          files(**{"c.json": short}))
    # the log shrank
    fails("log shrank: old head has 13 entries, new 5", "--key", keyfile,
          "consistency", files(**{"o.json": log.head()}),
          files(**{"n.json": log.head(5)}))
    # a fork: another history of the first 5 entries, signed by the key
    fork = Log(key=log.key)
    fork.leaves = list(log.leaves[:4]) + [cbor({"v": 1, "seq": 4})]
    fork.leaves += log.leaves[5:]
    fails("two different roots signed for 5 entries", "--key", keyfile,
          "consistency", old, files(**{"f.json": fork.head(5)}))
    fails("not consistent", "--key", keyfile, "consistency", old,
          files(**{"f.json": fork.consistency(5)}))
    # proof and heads disagree about the range
    error("a proof from 4 to 13 entries, not from 5", "--key", keyfile,
          "consistency", old, files(**{"c.json": log.consistency(4)}))
    error("a consistency proof is needed", "--key", keyfile,
          "consistency", old, files(**{"n.json": log.head()}))
    # a bad signature on the new head
    doc2 = copy.deepcopy(doc)
    doc2["head"]["signature"] = flip(doc2["head"]["signature"])
    fails("head of size 13: head signature invalid", "--key", keyfile,
          "consistency", old, files(**{"c.json": doc2}))


# --- malformed input exits 2 ---------------------------------------------------


def malformed_cases(log):
    b = log.bundle([3])
    h = log.head()

    def mod(doc, fn):
        d = copy.deepcopy(doc)
        fn(d)
        return d
    return [
        ("not JSON", "not JSON", "{"),
        ("empty", "not JSON", ""),
        ("array", "a proof bundle is an object", []),
        ("no head", "a proof bundle is an object", {"entries": []}),
        ("short root", "'root_hash' must be base64 of 32 bytes",
         mod(b, lambda d: d["head"].update(root_hash=b64(b"x" * 31)))),
        ("long sig", "'signature' must be base64 of 64 bytes",
         mod(b, lambda d: d["head"].update(signature=b64(b"x" * 65)))),
        ("huge sig", "'signature' must be base64 of 64 bytes",
         mod(b, lambda d: d["head"].update(signature="A" * 100000))),
        ("not base64", "'log_id' must be base64",
         mod(b, lambda d: d["head"].update(log_id="!!" * 22))),
        ("negative size", "'tree_size' must be a non-negative integer",
         mod(b, lambda d: d["head"].update(tree_size=-1))),
        ("string size", "'tree_size' must be a non-negative integer",
         mod(b, lambda d: d["head"].update(tree_size="13"))),
        ("huge path", "more than any tree needs",
         mod(b, lambda d: d["entries"][0].update(
             path=[b64(b"\0" * 32)] * 100000))),
        ("path hash size", "entry 3: path[0]: not base64 of a 32-byte",
         mod(b, lambda d: d["entries"][0]["path"].__setitem__(
             0, b64(b"\0" * 33)))),
        ("path not array", "entry 3: path: not an array",
         mod(b, lambda d: d["entries"][0].update(path="x"))),
        ("negative seq", "entries[0]: needs \"seq\"",
         mod(b, lambda d: d["entries"][0].update(seq=-3))),
        ("huge leaf", "leaf_input is not base64 of at most 16384",
         mod(b, lambda d: d["entries"][0].update(
             leaf_input=b64(b"\0" * 20000)))),
        ("bad leaf", "leaf_input is not base64",
         mod(b, lambda d: d["entries"][0].update(leaf_input="@@@@"))),
        ("record", "\"record\" is not an object",
         mod(b, lambda d: d.update(record=[1]))),
        ("duplicate key", "duplicate object key",
         '{"head": %s, "head": 1, "entries": []}' % json.dumps(h)),
    ]


@pytest.mark.parametrize("i", range(18))
def test_bundle_malformed(dlog, keyfile, files, i):
    name, reason, doc = malformed_cases(dlog[0])[i]
    error(reason, "--key", keyfile, "proof", files(**{"b.json": doc}))


def test_absurd_sizes(dlog, keyfile, files):
    """Sizes up to 2^63 - 1 are parsed and refused by the checks."""
    log, _ = dlog
    big = (1 << 63) - 1
    h = log.head(size=big, root=sha256(b"x"))
    ok("--key", keyfile, "head", files(**{"h.json": h}))
    b = {"head": h, "entries": [{"seq": big - 1, "leaf_input": "",
                                 "path": [b64(b"\0" * 32)] * 64}]}
    fails("entry 9223372036854775806: audit path has 64 hashes, a tree "
          "of 9223372036854775807 entries needs 62",
          "--key", keyfile, "proof", files(**{"b.json": b}))
    del b["entries"][0]["path"][62:]
    fails("audit path does not lead", "--key", keyfile, "proof",
          files(**{"b.json": b}))
    error("too big integer", "--key", keyfile,
          "head", '-', stdin=json.dumps(h).replace(str(big), "1" * 30))
    error("'tree_size' must be a non-negative integer", "--key", keyfile,
          "head", '-', stdin=json.dumps(h).replace(str(big), "1e30"))
    old = files(**{"o.json": log.head(5)})
    c = {"from": 5, "to": big, "proof": [b64(b"\0" * 32)] * 65,
         "head": h}
    fails("not consistent", "--key", keyfile, "consistency", old,
          files(**{"c.json": c}))
    c["proof"] = [b64(b"\0" * 32)] * 66
    error("more than any tree needs", "--key", keyfile, "consistency", old,
          files(**{"c.json": c}))


def test_io_errors(keyfile, files):
    error("No such file", "--key", keyfile, "proof", "/nonexistent.json")
    error("proof takes one BUNDLE", "--key", keyfile, "proof")
    error("device takes one ID and needs --log", "--key", keyfile,
          "device", "x")
    error("--since needs --log", "--key", keyfile, "--since", "x", "head",
          "y")
    error("--log must be an http(s) URL", "--log", "ftp://x", "head")
    error("SEQ must be a number", "--key", keyfile, "--log",
          "http://127.0.0.1:9", "entry", "-1")
    error("GET http://127.0.0.1:9/.plaza/log/head", "--key", keyfile,
          "--log", "http://127.0.0.1:9", "head")


# --- URLs: a Python operator -------------------------------------------------


class Operator:
    """Serves the documented /.plaza/log/ endpoints from a Log."""

    def __init__(self, log, dev):
        self.log, self.dev = log, dev
        self.hist = [2, 5, 9, 12]
        self.heads = {}
        self.hits = []
        op = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                op.hits.append(self.path)
                code, body, ctype = op.answer(self.path)
                data = body if isinstance(body, bytes) else \
                    json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d" % self.srv.server_port
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def size(self):
        return len(self.log.leaves)

    def answer(self, p):
        from urllib.parse import parse_qs, urlsplit
        u = urlsplit(p)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        js = "application/json"
        if u.path == "/.plaza/log/key":
            return 200, self.log.pem(), "application/x-pem-file"
        if u.path == "/.plaza/log/head":
            return 200, self.log.head(), js
        if u.path == "/.plaza/log/proof" and q.get("id") == self.dev:
            seqs = [s for s in self.hist if s < self.size()]
            return 200, self.log.bundle(
                seqs, record=record_of(self.log, self.dev, seqs)), js
        if u.path == "/.plaza/log/proof" and "seq" in q:
            return 200, self.log.bundle([int(q["seq"])]), js
        if u.path == "/.plaza/log/proof":
            return 404, {"error": "unknown identifier"}, js
        if u.path == "/.plaza/log/consistency":
            m = int(q["from"])
            n = int(q.get("to", self.size()))
            if m == 0 or m > n:
                return 422, {"error": "no such proof"}, js
            return 200, self.log.consistency(m, n), js
        return 404, {"error": "not found"}, js

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


@pytest.fixture
def operator():
    log, dev = device_log(10)
    op = Operator(log, dev)
    yield op
    op.close()


def test_urls(operator, files, tmp_path):
    op = operator
    kf = files(**{"k.pem": op.log.pem()})
    # the key by URL: a warning and the log id to compare
    r = ok("--key", op.url + "/.plaza/log/key", "head",
           op.url + "/.plaza/log/head")
    assert "warning" in r.err and b64(op.log.log_id) in r.err
    # ... pinned: no warning; --log alone finds the key
    r = ok("--log", op.url + "/", "--log-id", b64(op.log.log_id), "head")
    assert "warning" not in r.err
    fails("is not the pinned", "--log", op.url, "--log-id",
          b64(b"\0" * 32), "head")
    # device: every entry of its history, with the record cross-checked
    saved = str(tmp_path / "saved.json")
    r = ok("--key", kf, "--log", op.url, "--save-head", saved, "device",
           op.dev)
    assert "3 entries of %s" % op.dev in r.out
    assert json.load(open(saved))["tree_size"] == 10
    assert "/.plaza/log/proof?id=urn%3Adev%3Amac%3A0024befffe804ff1" in \
        op.hits
    ok("--key", kf, "--log", op.url, "entry", "4")
    error("HTTP 404: unknown identifier", "--key", kf, "--log", op.url,
          "device", "urn:dev:mac:0000000000000001")
    # the log grows: --since checks it extends the saved head
    for i in range(10, 13):
        op.log.append({"type": "revoke" if i == 12 else "register",
                       "id": op.dev if i == 12 else "Cx%d" % i})
    op.hits.clear()
    r = ok("--key", kf, "--log", op.url, "--since", saved, "--save-head",
           saved, "device", op.dev)
    assert "4 entries" in r.out
    assert "/.plaza/log/consistency?from=10&to=13" in op.hits
    assert json.load(open(saved))["tree_size"] == 13
    # consistency with --log: NEW and the proof fetched
    old = files(**{"o.json": op.log.head(4)})
    ok("--key", kf, "--log", op.url, "consistency", old)
    ok("--key", kf, "--log", op.url, "consistency", old,
       op.url + "/.plaza/log/head")
    # the operator rewrites history: the saved head catches it
    op.log.leaves[3] = cbor({"v": 1, "seq": 3, "type": "register",
                             "id": "Cforged"})
    fails("not consistent", "--key", kf, "--log", op.url, "--since", saved,
          "device", op.dev)
    fails("two different roots signed for 13 entries", "--key", kf,
          "--log", op.url, "--since", saved, "head")
    # ... or forgets the newest entries
    del op.log.leaves[11:]
    fails("log shrank: old head has 13 entries, new 11", "--key", kf,
          "--log", op.url, "--since", saved, "head")
    assert json.load(open(saved))["tree_size"] == 13   # untouched


# --- end to end: a real plazad ------------------------------------------------

DEV = "urn:dev:mac:0024befffe804ff1"


def register_device(d, urn, **kw):
    body = {"id": urn, "owner": "CAdmin"}
    body.update(kw)
    r = d.request("POST", "/.plaza/ids", body=body)
    assert r.status_code == 201, r.text
    return r.json()


def fetch_key(d, tmp_path):
    """The auditor's copy of the key, checked against the one on disk."""
    r = d.session.get(d.url + "/.plaza/log/key", timeout=30)
    assert r.status_code == 200
    path = tmp_path / "log.pem"
    path.write_bytes(r.content)
    with open(os.path.join(d.data, "log.key.pub"), "rb") as f:
        assert f.read().strip() == r.content.strip()
    return str(path)


def grow(d, n, tag):
    """n more AE registrations (two log entries each, it seems)."""
    return [d.register(rn="%s%d" % (tag, i))[0] for i in range(n)]


def test_e2e_inclusion_and_consistency(plazad, tmp_path):
    d = plazad
    key = fetch_key(d, tmp_path)
    rec = register_device(d, DEV, key={"type": "psk",
                                       "fp": "sha256:" + "ab" * 32})
    aeis = grow(d, 3, "verify-e2e-a")
    saved = str(tmp_path / "head.json")
    r = ok("--key", key, "--log", d.url, "--save-head", saved, "device",
           DEV)
    ents = [json.loads(l.split(": ", 1)[1]) for l in r.out.splitlines()
            if l.startswith("entry ")]
    assert [e["seq"] for e in ents] == [h["seq"] for h in rec["history"]]
    assert all(e["id"] == DEV for e in ents)
    assert ents[0]["type"] == "register"
    size0 = json.load(open(saved))["tree_size"]
    # a device by another spelling, an AE by its AE-ID, a single entry
    ok("--key", key, "--log", d.url, "device", DEV.upper().replace(
        "URN:DEV:MAC", "urn:dev:mac"))
    r = ok("--key", key, "--log", d.url, "--json", "device", aeis[0])
    assert json.loads(r.out)["entries"]
    for seq in range(size0):
        ok("--key", key, "--log", d.url, "-q", "entry", seq)
    error("HTTP 404", "--key", key, "--log", d.url, "device",
          "urn:dev:mac:0000000000000009")
    error("HTTP 4", "--key", key, "--log", d.url, "entry", size0 + 100)
    # the same checks on documents saved by hand (curl, files, stdin)
    docs = {}
    for name, q in (("head", "head"), ("bundle", "proof?id=" + DEV),
                    ("cons", "consistency?from=1")):
        rr = d.session.get(d.url + "/.plaza/log/" + q, timeout=30)
        assert rr.status_code == 200, rr.text
        docs[name] = tmp_path / (name + ".json")
        docs[name].write_bytes(rr.content)
    ok("--key", key, "head", docs["head"])
    ok("--key", key, "proof", "-", stdin=docs["bundle"].read_text())
    # the log grows: every later head extends the saved one
    grow(d, 5, "verify-e2e-b")
    d.request("POST", "/.plaza/ids/%s/revoke" % DEV,
              body={"reason": "test"})
    for _ in range(2):
        r = ok("--key", key, "--log", d.url, "--since", saved,
               "--save-head", saved, "device", DEV)
        assert "since: tree_size %d" % size0 in r.out
        size1 = json.load(open(saved))["tree_size"]
        assert size1 > size0
        size0 = size1
        grow(d, 1, "verify-e2e-c%d" % size1)
    old = tmp_path / "old.json"
    old.write_text(docs["head"].read_text())
    ok("--key", key, "--log", d.url, "consistency", old)
    ok("--key", key, "consistency", old,
       d.url + "/.plaza/log/consistency?from=%d" %
       json.loads(docs["head"].read_text())["tree_size"])
    ok("--key", key, "--log", d.url, "--since", old, "head")
    # a key of another log proves nothing here
    fails("log_id is not the key's", "--key",
          files_write(tmp_path, "other.pem", Log().pem()), "--log", d.url,
          "head")


def files_write(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data)
    return str(p)


def _tree_nodes(leaves):
    """The nodes blob of every append, as plaza stores them: node (level,
    index) is kept with leaf ((index + 1) << level) - 1, 32 bytes a level,
    level 0 first."""
    out, stack = [], []
    for i, leaf in enumerate(leaves):
        h = leaf_hash(leaf)
        blob = [h]
        stack.append(h)
        level = 0
        while (i >> level) & 1:
            right = stack.pop()
            left = stack.pop()
            h = sha256(b"\x01" + left + right)
            stack.append(h)
            blob.append(h)
            level += 1
        out.append(b"".join(blob))
    return out


def _resign(db, data, size):
    """What an operator holding the key could do: rebuild every node from
    the (rewritten) entries and sign one head over them."""
    import sqlite3
    with open(os.path.join(data, "log.key"), "rb") as f:
        sk = serialization.load_pem_private_key(f.read(), password=None)
    log = Log(key=sk)
    con = sqlite3.connect(db)
    log.leaves = [bytes(r[0]) for r in con.execute(
        "SELECT entry FROM tlog ORDER BY seq")]
    for seq, blob in enumerate(_tree_nodes(log.leaves)):
        con.execute("UPDATE tlog SET nodes=? WHERE seq=?", (blob, seq))
    h = log.head(size)
    con.execute("DELETE FROM tlog_head")
    con.execute("INSERT INTO tlog_head(size, ts, root, sig) "
                "VALUES(?, ?, ?, ?)", (size, h["timestamp"],
                                       unb64(h["root_hash"]),
                                       unb64(h["signature"])))
    con.execute("UPDATE meta SET v=? WHERE k='tlog.heads'",
                ("1 %d" % size,))
    con.commit()
    con.close()


def _tamper(kind, data):
    import sqlite3
    db = os.path.join(data, "plaza.db")
    con = sqlite3.connect(db)
    rows = {seq: bytes(e) for seq, e in con.execute(
        "SELECT seq, entry FROM tlog") if DEV.encode() in bytes(e)}
    n = con.execute("SELECT count(*) FROM tlog").fetchone()[0]
    a, b = sorted(rows)[:2]
    if kind == "flip":
        e = bytearray(rows[a])
        i = e.index(DEV.encode()) + len(DEV) - 1
        e[i] ^= 0x01                       # still valid CBOR, another id
        con.execute("UPDATE tlog SET entry=? WHERE seq=?", (bytes(e), a))
    elif kind == "rewrite":
        # the platform's own first entry: not in the device's history
        e = bytearray(con.execute(
            "SELECT entry FROM tlog WHERE seq=0").fetchone()[0])
        i = e.index(b"plaza.example")
        e[i] ^= 0x01
        con.execute("UPDATE tlog SET entry=? WHERE seq=0", (bytes(e),))
    elif kind == "swap":
        ea, eb = [bytes(con.execute("SELECT entry FROM tlog WHERE seq=?",
                                    (s,)).fetchone()[0]) for s in (a, b)]
        con.execute("UPDATE tlog SET entry=? WHERE seq=?", (eb, a))
        con.execute("UPDATE tlog SET entry=? WHERE seq=?", (ea, b))
    con.commit()
    con.close()
    if kind == "rewrite":
        _resign(db, data, n)
    elif kind == "truncate":
        con = sqlite3.connect(db)
        con.execute("DELETE FROM tlog WHERE seq>=?", (n - 3,))
        con.commit()
        con.close()
        _resign(db, data, n - 3)
    return a


@pytest.mark.parametrize("kind,reason", [
    ("flip", "audit path does not lead to the signed root"),
    ("swap", "audit path does not lead to the signed root"),
    ("rewrite", "not consistent"),
    ("truncate", "log shrank"),
])
def test_e2e_tampered_database(plazad_factory, tmp_path, kind, reason):
    d = plazad_factory()
    key = fetch_key(d, tmp_path)
    register_device(d, DEV)
    grow(d, 2, "verify-t")
    d.request("POST", "/.plaza/ids/%s/revoke" % DEV, body={})
    grow(d, 1, "verify-u")
    saved = str(tmp_path / "head.json")
    ok("--key", key, "--log", d.url, "--save-head", saved, "device", DEV)
    before = open(saved).read()
    data = d.data
    d.stop()
    _tamper(kind, data)
    d2 = plazad_factory(data=data)
    # the auditor, with its saved head
    fails(reason, "--key", key, "--log", d2.url, "--since", saved,
          "device", DEV)
    assert open(saved).read() == before
    if kind == "rewrite":
        # the operator's new story is consistent with itself...
        ok("--key", key, "--log", d2.url, "device", DEV)
        ok("--key", key, "--log", d2.url, "entry", 0)
        # ...but not with what the auditor saw
        fails(reason, "--key", key, "--log", d2.url, "--since", saved,
              "head")
        fails(reason, "--key", key, "--log", d2.url, "consistency", saved)
    if kind == "truncate":
        fails(reason, "--key", key, "--log", d2.url, "consistency", saved)


# --- the fuzz seed corpus --------------------------------------------------------


def fuzz_seeds():
    """Inputs for fuzz/verify_fuzz.c: a mode byte, then the document,
    signed with the target's fixed key (private key bytes 1..32)."""
    log, dev = device_log(
        key=Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33))))
    seqs = [2, 5, 9, 12]
    seeds = {
        "bundle": b"\0" + json.dumps(
            log.bundle(seqs, record=record_of(log, dev, seqs))).encode(),
        "bundle1": b"\0" + json.dumps(log.bundle([0], 1)).encode(),
        "cons": b"\1" + json.dumps(log.consistency(5)).encode(),
        "cons_array": b"\1" + json.dumps(log.consistency(3)["proof"]).encode(),
        "cbor": b"\2" + log.leaves[2],
        "cbor_all": b"\2" + cbor({"a": [1, -2, 3.5, True, False, None,
                                        b"\1\2", "x" * 30, 70000, -2 ** 40],
                                  "bb": {"c": {}}}),
        "head": b"\3" + json.dumps(log.head()).encode(),
    }
    for i, (name, reason, doc) in enumerate(malformed_cases(log)[:8]):
        seeds["bad%d" % i] = b"\0" + (doc if isinstance(doc, str)
                                      else json.dumps(doc)).encode()
    return seeds


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--seeds":
        os.makedirs(sys.argv[2], exist_ok=True)
        for name, data in fuzz_seeds().items():
            with open(os.path.join(sys.argv[2], name), "wb") as f:
                f.write(data)
    else:
        sys.exit("usage: test_verify.py --seeds DIR")
