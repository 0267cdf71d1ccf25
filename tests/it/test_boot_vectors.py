"""Cross-check of plaza's bootstrap crypto (src/boot/: Milenage, the TS 33.220
KDF, GBA, AKMA, oneM2M RSPF) against an independent implementation.

The reference below is written from the specifications alone (TS 35.206
section 4.1 for Milenage, TS 33.220 Annex B.2 for the KDF, the spec sheet
shared/spec/security.md sections 1 and 3 for the derivations) with
cryptography's AES (Debian's python3-cryptography) and Python's hmac and
hashlib; it shares no code with src/boot/.  tests/unit/boot_tool (built
with the unit tests) answers queries on stdin with the module's outputs
(see tests/unit/boot_tool.c).  We check:

- the reference against every vector the C unit tests assert: the TS 35.208
  test sets are read out of tests/unit/test_milenage.c and the GBA/AKMA
  constants out of tests/unit/test_gba.c, so a mistyped digit in either is
  caught here, and the spec sheet's vectors (P1-P3b, G1, G2, A1-A4, B-TID);
- the module against the reference on 1,000 random inputs of each kind:
  Milenage (all seven outputs and OPc), the KDF (random keys, FCs and
  parameter lists, 256- and 128-bit outputs), Ks_NAF/Ks_int_NAF, K_AKMA,
  A-TID and K_AF, the RSPF derivations, B-TID formatting;
- the B-TID parser against a regular-expression model on valid B-TIDs and
  on mutations of them.
"""
import base64
import hashlib
import hmac
import os
import random
import re
import subprocess

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("PLAZA_BUILD", os.path.join(ROOT, "build"))
TOOL = os.path.join(BUILD, "tests", "unit", "boot_tool")
N = 1000
H = bytes.fromhex

# --- the reference ------------------------------------------------------------


def aes(k, block):
    e = Cipher(algorithms.AES(k), modes.ECB()).encryptor()
    return e.update(block) + e.finalize()


def xor(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


def rot(x, bits):
    """Cyclic left rotation of a 128-bit block by bits (a multiple of 8)."""
    n = bits // 8
    return x[n:] + x[:n]


def opc_of(k, op):
    return xor(op, aes(k, op))


def milenage(k, opc, rand, sqn, amf):
    """TS 35.206 4.1: f1, f1*, f2, f3, f4, f5, f5*."""
    c = [bytes(15) + bytes([v]) for v in (0, 1, 2, 4, 8)]
    r = [64, 0, 32, 64, 96]
    temp = aes(k, xor(rand, opc))
    in1 = sqn + amf + sqn + amf
    out1 = xor(aes(k, xor(xor(temp, rot(xor(in1, opc), r[0])), c[0])), opc)
    outs = [xor(aes(k, xor(rot(xor(temp, opc), r[i]), c[i])), opc)
            for i in range(1, 5)]
    return {"f1": out1[:8], "f1s": out1[8:], "f2": outs[0][8:],
            "f5": outs[0][:6], "f3": outs[1], "f4": outs[2],
            "f5s": outs[3][:6]}


def kdf(key, fc, *params):
    s = bytes([fc])
    for p in params:
        s += p + len(p).to_bytes(2, "big")
    return hmac.new(key, s, hashlib.sha256).digest()


def ks_naf(ks, rand, impi, naf_id, p0=b"gba-me"):
    return kdf(ks, 0x01, p0, rand, impi, naf_id)


def btid(rand, host):
    return base64.b64encode(rand).decode() + "@" + host


LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
BTID_RE = re.compile(r"[A-Za-z0-9+/]{21}[AQgw]==@(" + LABEL + r"(?:\." + LABEL + r")*)")


def btid_model(text):
    """(rand, host) if text is a B-TID plaza accepts, else None."""
    try:
        s = text.decode("ascii")
    except UnicodeDecodeError:
        return None
    m = BTID_RE.fullmatch(s)
    if not m or len(m.group(1)) > 253:
        return None
    return base64.b64decode(s[:24], validate=True), m.group(1)


RSPF = {
    "km": b"oneM2M Enrolment Key to Master Credential derivation",
    "kpsa": b"oneM2M Enrolment Key to Provisioned Secure Connection Key derivation",
    "kuc": b"oneM2M Enrolment Key to Usage-Constrained Symmetric Key derivation",
}


def rspf(exported, mef, enrolee, maf, suid, target):
    rel, ke = exported[:16], exported[16:]
    return {"ke": ke, "rel": rel, "keid": rel.hex().encode() + b"@" + mef,
            "kpsa": hmac.new(ke, RSPF["kpsa"] + enrolee, hashlib.sha256).digest(),
            "km": hmac.new(ke, RSPF["km"] + maf, hashlib.sha256).digest(),
            "kuc": hmac.new(ke, RSPF["kuc"] + suid + target, hashlib.sha256).digest()}


# --- the tool -------------------------------------------------------------------


def hx(b):
    return b.hex() if b else "-"


@pytest.fixture(scope="module")
def tool():
    if not os.path.exists(TOOL):
        pytest.fail(f"{TOOL} not built (PLAZA_BUILD={BUILD})")

    def run(lines):
        out = subprocess.run([TOOL], input="\n".join(lines) + "\n",
                             capture_output=True, text=True, check=True,
                             timeout=120).stdout.splitlines()
        assert len(out) == len(lines)
        return [o.split(" ") for o in out]
    return run


# --- the vectors of the C tests -------------------------------------------------


def c_strings(path):
    """Every string literal (adjacent ones joined) of a C file, in order."""
    src = open(os.path.join(ROOT, path)).read()
    src = re.sub(r"/\*.*?\*/", "", src, flags=re.S)
    out = []
    for m in re.finditer(r'"(?:[^"\\]|\\.)*"(?:\s*"(?:[^"\\]|\\.)*")*', src):
        out.append("".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(0))))
    return out


def test_ts35208_sets_of_the_unit_test():
    src = open(os.path.join(ROOT, "tests/unit/test_milenage.c")).read()
    table = src[src.index("static const struct tset sets[]"):]
    table = table[:table.index("};")]
    hexes = re.findall(r'"([0-9a-f]+)"', table)
    assert len(hexes) == 6 * 13, "six sets of 13 fields"
    names = ["k", "rand", "sqn", "amf", "op", "opc",
             "f1", "f1s", "f2", "f5", "f3", "f4", "f5s"]
    for i in range(6):
        v = dict(zip(names, (H(x) for x in hexes[13 * i:13 * i + 13])))
        assert opc_of(v["k"], v["op"]) == v["opc"], f"set {i + 1} OPc"
        got = milenage(v["k"], v["opc"], v["rand"], v["sqn"], v["amf"])
        for f in names[6:]:
            assert got[f] == v[f], f"set {i + 1} {f}"


SET1 = dict(k=H("465b5ce8b199b49faa5f0a2ee238a6bc"),
            op=H("cdc202d5123e20f62b6d676ac72cb318"),
            rand=H("23553cbe9637a89d218ae64dae47bf35"),
            sqn=H("ff9bb4d0b607"), amf=H("b9b9"))
IMPI = b"001010000000001@ims.mnc001.mcc001.3gppnetwork.org"
SUPI = b"001010000000001"
CCM8 = H("010001c0a8")


def spec_sheet_vectors():
    """Every vector of shared/spec/security.md 1.4, from the reference."""
    v = {}
    m = milenage(SET1["k"], opc_of(SET1["k"], SET1["op"]), SET1["rand"],
                 SET1["sqn"], SET1["amf"])
    ks = m["f3"] + m["f4"]
    v["P1"] = kdf(H("5349fbe098649f948f5d2e973a81c00f9744871ad32bf9bbd1dd5ce54e3e2e5a"),
                  0x20, b"WLAN", H("bb52e91c747a"))
    v["P2"] = kdf(ks, 0x10, H("024830"), xor(H("fd8eef40df7d"), m["f5"]))
    v["P3"] = kdf(v["P2"], 0x11, H("db1a3569"))
    v["P3b"] = kdf(H("564cb4d2007e4f293b67d9b29392a64add4c776b133d895af6499aa6882aab62"),
                   0x11, H("001fb39c"))
    naf_id = b"naf.example.org" + CCM8
    v["G1"] = ks_naf(ks, SET1["rand"], IMPI, naf_id)
    v["G2"] = ks_naf(ks, SET1["rand"], IMPI, naf_id, b"gba-u")
    v["A1"] = kdf(ks, 0x6A, b"5G:mnc001.mcc001.3gppnetwork.org",
                  xor(SET1["sqn"], m["f5"]))
    v["A2"] = kdf(v["A1"], 0x80, b"AKMA", SUPI)
    v["A3"] = kdf(v["A1"], 0x81, b"A-TID", SUPI)
    v["A4"] = kdf(v["A2"], 0x82, b"af.example.org" + CCM8)
    v["BTID"] = btid(SET1["rand"], "bsf.example.org")
    return v


def test_spec_sheet_vectors():
    v = spec_sheet_vectors()
    want = {
        "P1": "0093962d0dd84aa5684b045c9edffa04ccfc230ca74fcc96c0a5d61164f5a76c",
        "P2": "238e457e0f758badbca8d34bb2612c10428d426757cb5553b2b184fa64bfc549",
        "P3": "8eb1bf0083bd79281ef7034bf677e9ec529f196e15287514a2d122acf713b8e8",
        "P3b": "009010688f85855e218339de6c5bd7b6394958da12ddfbf7559e978ce43408f1",
        "G1": "4b0dd9165c64ad093878411c60e2189ffa556ec29715ca75a8de98e0c1abf273",
        "G2": "1d1c4d3d98856cce4ad06489c25feb2269db6b036667abb4f1d84a010df48bb4",
        "A1": "474698caf02cc715db2ec0726510cfee6caa5bb1a649cb01224f2e23af94de1b",
        "A2": "176cdc89b8bc8634d912bf84cb7ed7b85afe1b8802afa110d1100a881df659a3",
        "A3": "a4763ff6a5427c58fa51f62e036c2aa33c88343cdda5f17db86cf1ab7b5661b6",
        "A4": "3a9bde4fefa5b087d5cd0561c0489fef53667efa004f808d1a4c0a7f7a3c1a4c",
    }
    for name, h in want.items():
        assert v[name].hex() == h, name
    assert v["BTID"] == "I1U8vpY3qJ0hiuZNrke/NQ==@bsf.example.org"


def test_gba_constants_of_the_unit_test():
    """Every 64-digit constant of test_gba.c is one the reference derives
    (or a published input), and its S strings are the reference's S."""
    v = spec_sheet_vectors()
    derived = {x.hex() for x in v.values() if isinstance(x, bytes)}
    inputs = {"5349fbe098649f948f5d2e973a81c00f9744871ad32bf9bbd1dd5ce54e3e2e5a",
              "564cb4d2007e4f293b67d9b29392a64add4c776b133d895af6499aa6882aab62"}
    strings = c_strings("tests/unit/test_gba.c")
    long_hex = [s for s in strings if re.fullmatch(r"[0-9a-f]{64}", s)]
    assert len(long_hex) >= 8
    for s in long_hex:
        assert s in derived | inputs, s
    # The split 32-digit halves of P1, P3 and P3b's outputs.
    halves = [s for s in strings if re.fullmatch(r"[0-9a-f]{32}", s)]
    for s in halves:
        assert any(s in d for d in derived) or s in (
            "b40ba9a3c58b2a05bbf0d987b21bf8cb", "f769bcd751044604127672711c6d3441",
            "465b5ce8b199b49faa5f0a2ee238a6bc", "cdc202d5123e20f62b6d676ac72cb318",
            "23553cbe9637a89d218ae64dae47bf35"), s
    # The S strings: FC || P0 || L0 ... rebuilt by the reference.
    m = milenage(SET1["k"], opc_of(SET1["k"], SET1["op"]), SET1["rand"],
                 SET1["sqn"], SET1["amf"])
    s_g1 = (b"\x01" + b"gba-me" + b"\x00\x06" + SET1["rand"] + b"\x00\x10" + IMPI
            + bytes([0, len(IMPI)]) + b"naf.example.org" + CCM8 + b"\x00\x14")
    assert s_g1.hex() in strings
    assert (b"\x80AKMA\x00\x04" + SUPI + b"\x00\x0f").hex() in strings
    assert (b"\x81A-TID\x00\x05" + SUPI + b"\x00\x0f").hex() in strings
    assert (b"\x82af.example.org" + CCM8 + b"\x00\x13").hex() in strings
    assert m["f3"].hex() in strings and m["f4"].hex() in strings


# --- random inputs against the module ---------------------------------------------


def test_milenage_random(tool):
    rng = random.Random(6)
    cases = [tuple(rng.randbytes(n) for n in (16, 16, 16, 6, 2)) for _ in range(N)]
    out = tool([f"opc {k.hex()} {op.hex()}" for k, op, _, _, _ in cases])
    opcs = []
    for (k, op, _, _, _), o in zip(cases, out):
        assert o == ["ok", opc_of(k, op).hex()]
        opcs.append(H(o[1]))
    out = tool([f"mil {c[0].hex()} {opc.hex()} {c[2].hex()} {c[3].hex()} {c[4].hex()}"
                for c, opc in zip(cases, opcs)])
    for (k, _, rand, sqn, amf), opc, o in zip(cases, opcs, out):
        m = milenage(k, opc, rand, sqn, amf)
        assert o == ["ok"] + [m[f].hex() for f in
                              ("f1", "f1s", "f2", "f3", "f4", "f5", "f5s")]


def test_kdf_random(tool):
    rng = random.Random(33220)
    cases = []
    for i in range(N):
        key = rng.randbytes(rng.choice([1, 16, 32, 32, 33, 64, 65, 200, 256]))
        fc = rng.randrange(256)
        params = [rng.randbytes(rng.choice([0, 1, 2, 6, 16, 49, 255, 256, 300,
                                            rng.randrange(1000)]))
                  for _ in range(rng.randrange(0, 17))]
        if i == 0:
            params = [rng.randbytes(65535)]
        cases.append((key, fc, params))
    out = tool([f"kdf {k.hex()} {fc:02x} " + " ".join(hx(p) for p in ps)
                for k, fc, ps in cases])
    for (k, fc, ps), o in zip(cases, out):
        want = kdf(k, fc, *ps)
        assert o == ["ok", want.hex(), want[16:].hex()]


def test_gba_akma_random(tool):
    rng = random.Random(33535)
    naf, akma = [], []
    for _ in range(N):
        impi = rng.randbytes(rng.randrange(1, 256))
        naf_id = rng.randbytes(rng.randrange(1, 254)) + rng.randbytes(5)
        naf.append((rng.randbytes(32), rng.randbytes(16), impi, naf_id))
        supi = str(rng.randrange(10 ** 14, 10 ** 15)).encode()
        if rng.random() < 0.5:
            supi = rng.randbytes(rng.randrange(1, 256))
        akma.append((rng.randbytes(32), supi,
                     rng.randbytes(rng.randrange(1, 254)) + rng.randbytes(5)))
    out = tool([f"naf {a.hex()} {b.hex()} {c.hex()} {d.hex()}" for a, b, c, d in naf])
    for (ks, rand, impi, naf_id), o in zip(naf, out):
        assert o == ["ok", ks_naf(ks, rand, impi, naf_id).hex(),
                     ks_naf(ks, rand, impi, naf_id, b"gba-u").hex()]
    out = tool([f"akma {a.hex()} {b.hex()} {c.hex()}" for a, b, c in akma])
    for (kausf, supi, af_id), o in zip(akma, out):
        kakma = kdf(kausf, 0x80, b"AKMA", supi)
        assert o == ["ok", kakma.hex(), kdf(kausf, 0x81, b"A-TID", supi).hex(),
                     kdf(kakma, 0x82, af_id).hex()]


def random_host(rng):
    alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    labels = []
    for _ in range(rng.randrange(1, 6)):
        n = rng.choice([1, 2, 3, 8, 20, 63])
        lab = "".join(rng.choice(alnum + "-") for _ in range(n))
        lab = rng.choice(alnum) + lab[1:-1] + rng.choice(alnum) if n > 1 else rng.choice(alnum)
        labels.append(lab)
    return ".".join(labels)[:253].rstrip(".-") or "a"


def test_rspf_random(tool):
    rng = random.Random(3)
    cases = []
    for _ in range(N):
        ids = [rng.randbytes(rng.randrange(1, 256)) for _ in range(4)]
        cases.append((rng.randbytes(48), random_host(rng).encode(), *ids))
    out = tool(["rspf " + " ".join(x.hex() for x in c) for c in cases])
    for c, o in zip(cases, out):
        r = rspf(*c)
        assert o == ["ok"] + [r[f].hex() for f in ("ke", "rel", "keid", "kpsa", "km", "kuc")]


def test_btid_random(tool):
    rng = random.Random(4552)
    cases = [(rng.randbytes(16), random_host(rng)) for _ in range(N)]
    cases = [(r, h) for r, h in cases if btid_model(btid(r, h).encode())]
    assert len(cases) > N * 0.9
    out = tool([f"btid {r.hex()} {h.encode().hex()}" for r, h in cases])
    for (r, h), o in zip(cases, out):
        assert o == ["ok", btid(r, h)]
    out = tool([f"parse {btid(r, h).encode().hex()}" for r, h in cases])
    for (r, h), o in zip(cases, out):
        assert o == ["ok", r.hex(), h.encode().hex()]


def mutate(rng, b):
    b = bytearray(b)
    for _ in range(rng.randrange(1, 4)):
        k = rng.randrange(4)
        i = rng.randrange(len(b) + 1)
        if k == 0 and b:
            b[min(i, len(b) - 1)] = rng.choice(b"AQgwB=@.-_+/ \x00\xff9")
        elif k == 1:
            b[i:i] = bytes([rng.choice(b"aZ0-.@=/")])
        elif k == 2 and b:
            del b[min(i, len(b) - 1)]
        else:
            b = b[:i]
    return bytes(b)


def test_btid_parse_model(tool):
    rng = random.Random(24)
    texts = []
    for _ in range(N):
        t = btid(rng.randbytes(16), random_host(rng)).encode()
        texts.append(t)
        texts.append(mutate(rng, t))
    texts = [t for t in texts if t]
    out = tool([f"parse {t.hex()}" for t in texts])
    accepted = 0
    for t, o in zip(texts, out):
        m = btid_model(t)
        if m is None:
            assert o[0] == "error" and not o[1].endswith("-noreason"), t
        else:
            accepted += 1
            assert o == ["ok", m[0].hex(), m[1].encode().hex()], t
    assert N * 0.9 < accepted < len(texts)
