"""The reference device client's GBA bootstrap (device/pzdev_ub.c,
pzdev_gba_bootstrap) against plaza's own BSF: pzdev-example runs as a
separate process with --bsf ... --bootstrap-only, does the Ub exchange of
TS 24.109 (HTTP Digest AKA, RFC 3310) over its own small HTTP client with
a simulated SIM, and prints the B-TID and Ks_NAF it derived.  Zn must give
the same Ks_NAF for that B-TID and NAF_Id.  A wrong K and a forged AUTN
(the device holding another OPc than the BSF) are refused by the device
(MAC-A), exit 1 with a clear message, and nothing is stored; an SQN the
SIM has already seen is resynchronised with AUTS.  Against a fake BSF in
Python: the device's answer is the RFC 2617 digest with RES, its Ks_NAF
equals Python's, and a wrong or missing rspauth, a refused answer, a body
without a B-TID and an over-long answer fail with clear messages.  (The DTLS step with
the bootstrapped identity needs plazad's NAF role, which is not here yet.)
"""
import base64
import os
import re
import subprocess

import pytest

from conftest import BUILD, Plazad
from test_boot_vectors import ks_naf as ks_naf_py, milenage, xor
from test_bsf import (NAF_ID, REALM, add_sub, admin, gba_keys, md5,
                      parse_digest, zn)

EXAMPLE = os.path.join(BUILD, "pzdev-example")
NAF = NAF_ID[:-5].decode()       # naf.example.org


@pytest.fixture(scope="module")
def bsf():
    d = Plazad(args=["--set", "boot.bsf=true", "--set",
                     "boot.bsf_name=" + REALM]).start()
    yield d
    d.cleanup()


def hostport(d):
    return d.url.split("//", 1)[1].rstrip("/")


def boot(d, impi, k, opc, *extra, timeout=30):
    return subprocess.run([EXAMPLE, "--bsf", hostport(d), "--impi", impi,
                           "--gba-k", k.hex(), "--gba-opc", opc.hex(),
                           "--naf-fqdn", NAF, "--bootstrap-only",
                           "--timeout", "5000"] + list(extra),
                          capture_output=True, text=True, timeout=timeout)


def subscriber(d, name, device=None, **kw):
    k, opc = os.urandom(16), os.urandom(16)
    impi = "%s@ims.mnc001.mcc001.3gppnetwork.org" % name
    if device:
        r = admin(d, "POST", "/.plaza/ids", {"id": device})
        assert r.status_code == 201, r.text
        kw["device"] = device
    add_sub(d, impi, k, opc, **kw)
    return impi, k, opc


def sqn_of(d, impi):
    subs = admin(d, "GET", "/.plaza/subscribers").json()["subscribers"]
    return [s["sqn"] for s in subs if s["impi"] == impi][0]


def parsed(out):
    btid = re.search(r"B-TID (\S+) lifetime (\S+) sqn (\d+)", out)
    key = re.search(r"^Ks_NAF ([0-9a-f]{64})$", out, re.M)
    ident = re.search(r"identity (\S+)$", out, re.M)
    assert btid and key and ident, out
    return btid.group(1), key.group(1), ident.group(1), int(btid.group(3))


def test_bootstrap_ks_naf_equals_zn(bsf):
    dev = "urn:dev:os:32473-ub1"
    impi, k, opc = subscriber(bsf, "ub1", device=dev)
    p = boot(bsf, impi, k, opc)
    assert p.returncode == 0, p.stderr
    btid, ks_naf, ident, sqn = parsed(p.stdout)
    assert re.fullmatch(r"[A-Za-z0-9+/]{22}==@" + re.escape(REALM), btid)
    assert ident == "3GPP-bootstrapping" + btid
    assert sqn == 1 and sqn_of(bsf, impi) == 1
    z = zn(bsf, btid)
    assert z.status_code == 200, z.text
    assert z.json()["ks_naf"] == ks_naf and z.json()["impi"] == impi
    keys = gba_keys(bsf, dev)
    assert len(keys) == 1 and keys[0]["name"] == btid
    # A second run is a new bootstrap: new B-TID, new key, SQN 2.
    p = boot(bsf, impi, k, opc, "--gba-sqn", "1")
    assert p.returncode == 0, p.stderr
    btid2, ks2, _, sqn2 = parsed(p.stdout)
    assert btid2 != btid and ks2 != ks_naf and sqn2 == 2
    assert zn(bsf, btid2).json()["ks_naf"] == ks2


def test_wrong_k_fails_nothing_stored(bsf):
    dev = "urn:dev:os:32473-ub2"
    impi, k, opc = subscriber(bsf, "ub2", device=dev)
    p = boot(bsf, impi, os.urandom(16), opc)
    assert p.returncode == 1
    assert "GBA bootstrap" in p.stderr and "AUTN does not verify" in \
        p.stderr and "K or OPc is wrong" in p.stderr, p.stderr
    assert "Ks_NAF" not in p.stdout
    assert not gba_keys(bsf, dev) and sqn_of(bsf, impi) == 0
    # The right K still bootstraps afterwards.
    assert boot(bsf, impi, k, opc).returncode == 0


def test_forged_autn_detected_by_device(bsf):
    # The BSF computes AUTN with the subscriber's OPc; a device holding
    # another OPc sees a MAC-A that is not its network's.
    impi, k, opc = subscriber(bsf, "ub3")
    p = boot(bsf, impi, k, os.urandom(16))
    assert p.returncode == 1
    assert "MAC-A" in p.stderr and "not from our network" in p.stderr
    assert sqn_of(bsf, impi) == 0


def test_sqn_resynchronisation(bsf):
    # The SIM has accepted SQN 5000 already; the BSF's next is 1: AUTS,
    # then a fresh challenge above 5000.
    impi, k, opc = subscriber(bsf, "ub4")
    p = boot(bsf, impi, k, opc, "--gba-sqn", "5000")
    assert p.returncode == 0, p.stderr
    btid, ks_naf, _, sqn = parsed(p.stdout)
    assert "(resynchronised)" in p.stdout and sqn == 5001
    assert sqn_of(bsf, impi) == 5001
    assert zn(bsf, btid).json()["ks_naf"] == ks_naf


def test_unknown_impi_and_no_bsf(bsf):
    # An unknown IMPI is challenged like a subscriber: the AUTN never
    # verifies for the device.
    p = boot(bsf, "nobody@ims.example", os.urandom(16), os.urandom(16))
    assert p.returncode == 1 and "AUTN does not verify" in p.stderr
    # A port with nothing listening: a clear network error, at once.
    s = __import__("socket").socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    p = subprocess.run([EXAMPLE, "--bsf", "127.0.0.1:%d" % port, "--impi",
                        "x@y", "--gba-k", "00" * 16, "--gba-opc", "00" * 16,
                        "--naf-fqdn", NAF, "--bootstrap-only"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "cannot reach the BSF" in p.stderr
    assert bsf.alive()


def test_bsf_off_gives_a_clear_error(plazad):
    impi = "off@ims.example"
    p = boot(plazad, impi, os.urandom(16), os.urandom(16))
    assert p.returncode == 1
    assert "did not answer with a Digest challenge" in p.stderr


def test_bad_usage():
    for args in (["--bootstrap-only"],
                 ["--bsf", "127.0.0.1:1", "--bootstrap-only"],
                 ["--bsf", "127.0.0.1:1", "--impi", "x", "--gba-k",
                  "00" * 16, "--gba-opc", "00" * 16, "--bootstrap-only"]):
        p = subprocess.run([EXAMPLE] + args, capture_output=True, text=True,
                           timeout=10)
        assert p.returncode == 2 and "usage" in p.stderr
    p = subprocess.run([EXAMPLE, "--bsf", "localhost:80", "--impi", "x",
                        "--gba-k", "00" * 16, "--gba-opc", "00" * 16,
                        "--naf-fqdn", NAF, "--bootstrap-only"],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 1 and "numeric IPv4" in p.stderr


def test_255_octet_impi(bsf):
    # IMPIs up to 255 octets (RFC 4279 asks for 128): the request, with
    # the IMPI and its domain as the first realm, still fits.
    dom = "@" + "d" * 60 + "." + "e" * 60 + "." + "f" * 60 + ".example"
    impi = "u" * (255 - len(dom)) + dom
    k, opc = os.urandom(16), os.urandom(16)
    add_sub(bsf, impi, k, opc)
    assert len(impi) == 255
    p = boot(bsf, impi, k, opc)
    assert p.returncode == 0, p.stderr
    btid, ks_naf, _, _ = parsed(p.stdout)
    assert zn(bsf, btid).json()["ks_naf"] == ks_naf


# --- against a fake BSF: what plazad never sends ----------------------------

class FakeBsf:
    """A one-thread HTTP server playing the BSF with Python's Milenage: it
    challenges with a genuine AUTN for (k, opc), records the device's
    answer, and replies to it as the test says (final(answer) ->
    (status, headers, body))."""

    def __init__(self, k, opc, final, sqn=1):
        import http.server
        import threading
        fake = self
        self.k, self.opc, self.final, self.sqn = k, opc, final, sqn
        self.answers, self.auts = [], []

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                f = parse_digest(self.headers.get("Authorization", ""))
                if f.get("auts"):
                    fake.auts.append((fake.rand, f["auts"]))
                if not f.get("response"):
                    status, hdrs, body = fake.challenge()
                else:
                    fake.answers.append(f)
                    status, hdrs, body = fake.final(f)
                self.send_response(status)
                for k, v in hdrs.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.srv = http.server.HTTPServer(("127.0.0.1", 0), H)
        self.port = self.srv.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def challenge(self):
        self.rand = os.urandom(16)
        sqn = self.sqn.to_bytes(6, "big")
        m = milenage(self.k, self.opc, self.rand, sqn, b"\x80\x00")
        autn = xor(sqn, m["f5"]) + b"\x80\x00" + m["f1"]
        self.res = m["f2"]
        self.nonce = base64.b64encode(self.rand + autn + bytes(8)).decode()
        return 401, {"WWW-Authenticate": 'Digest realm="%s", nonce="%s", '
                     'qop="auth-int", algorithm=AKAv1-MD5' % (REALM,
                                                              self.nonce)
                     }, b""

    def expected(self, f):
        """The response a device with RES must send (RFC 2617 auth-int)."""
        ha1 = md5(("%s:%s:" % (f["username"], REALM)).encode() + self.res)
        ha2 = md5(("GET:%s:%s" % (f["uri"], md5(b""))).encode())
        return ha1, md5(("%s:%s:%s:%s:auth-int:%s" % (
            ha1, self.nonce, f["nc"], f["cnonce"], ha2)).encode())

    def ok(self, f, body, rspauth=None):
        ha1, _ = self.expected(f)
        ha2 = md5((":%s:%s" % (f["uri"], md5(body))).encode())
        good = md5(("%s:%s:%s:%s:auth-int:%s" % (
            ha1, self.nonce, f["nc"], f["cnonce"], ha2)).encode())
        return 200, {"Authentication-Info": 'qop=auth-int, rspauth="%s", '
                     'cnonce="%s", nc=%s' % (rspauth or good, f["cnonce"],
                                             f["nc"])}, body

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


BODY = (b'<?xml version="1.0" encoding="UTF-8"?><BootstrappingInfo '
        b'xmlns="uri:3gpp-gba"><btid>AAAAAAAAAAAAAAAAAAAAAA==@' +
        REALM.encode() + b'</btid><lifetime>2026-12-31T00:00:00Z'
        b'</lifetime></BootstrappingInfo>')


def fake_boot(fake, k, opc, *extra):
    return subprocess.run([EXAMPLE, "--bsf", "127.0.0.1:%d" % fake.port,
                           "--impi", "fake@ims.example", "--gba-k", k.hex(),
                           "--gba-opc", opc.hex(), "--naf-fqdn", NAF,
                           "--bootstrap-only", "--timeout", "5000"] +
                          list(extra), capture_output=True, text=True,
                          timeout=30)


def test_auts_and_a_bsf_that_does_not_resynchronise():
    # The fake BSF ignores AUTS and challenges with SQN 1 again: the
    # device sends one AUTS, correct for its SQN_MS, then gives up.
    k, opc = os.urandom(16), os.urandom(16)
    fake = FakeBsf(k, opc, lambda f: (500, {}, b""))
    try:
        p = fake_boot(fake, k, opc, "--gba-sqn", "77")
    finally:
        fake.close()
    assert p.returncode == 1 and not fake.answers
    assert "SQN still out of range after AUTS" in p.stderr, p.stderr
    assert len(fake.auts) == 1
    rand, auts = fake.auts[0]
    raw = base64.b64decode(auts)
    assert len(raw) == 14
    m = milenage(k, opc, rand, bytes(6), bytes(2))
    sqn_ms = xor(raw[:6], m["f5s"])
    assert int.from_bytes(sqn_ms, "big") == 77
    assert milenage(k, opc, rand, sqn_ms, bytes(2))["f1s"] == raw[6:]


@pytest.mark.parametrize("case", ["good", "bad-rspauth", "no-rspauth",
                                  "refused", "no-btid", "huge"])
def test_against_fake_bsf(case):
    k, opc = os.urandom(16), os.urandom(16)
    finals = {
        "good": lambda f: fake.ok(f, BODY),
        "bad-rspauth": lambda f: fake.ok(f, BODY, rspauth="0" * 32),
        "no-rspauth": lambda f: (200, {}, BODY),
        "refused": lambda f: (401, {"WWW-Authenticate": 'Digest realm='
                                    '"%s", nonce="AAAA", qop="auth-int", '
                                    'algorithm=AKAv1-MD5' % REALM}, b""),
        "no-btid": lambda f: fake.ok(f, b"<BootstrappingInfo/>"),
        "huge": lambda f: fake.ok(f, BODY + b" " * 4000),
    }
    fake = FakeBsf(k, opc, finals[case])
    try:
        p = fake_boot(fake, k, opc)
    finally:
        fake.close()
    # The device's answer is the RFC 2617 auth-int digest with RES.
    assert len(fake.answers) == 1, p.stderr
    f = fake.answers[0]
    assert f["response"] == fake.expected(f)[1]
    assert f["qop"] == "auth-int" and f["nc"] == "00000001"
    assert f["realm"] == REALM and f["uri"] == "/.plaza/bsf/ub"
    assert f["algorithm"] == "AKAv1-MD5" and len(f["cnonce"]) == 16
    if case == "good":
        assert p.returncode == 0, p.stderr
        btid, ks_naf, _, _ = parsed(p.stdout)
        assert btid == "AAAAAAAAAAAAAAAAAAAAAA==@" + REALM
        m = milenage(k, opc, fake.rand, bytes(6), bytes(2))
        assert ks_naf == ks_naf_py(m["f3"] + m["f4"], fake.rand,
                                   b"fake@ims.example", NAF_ID).hex()
        return
    assert p.returncode == 1 and "Ks_NAF" not in p.stdout
    want = {"bad-rspauth": "rspauth does not verify",
            "no-rspauth": "rspauth does not verify",
            "refused": "refused the answer (401)",
            "no-btid": "no <btid> and <lifetime>",
            "huge": "answer is too long"}[case]
    assert want in p.stderr, p.stderr
