"""plaza's BSF: Ub (HTTP Digest AKA, RFC 3310) and the Zn-style key request.

A simulated UE written here, independent of the C code, runs the device
side: Milenage in Python (cryptography's AES, from test_boot_vectors.py),
AUTN verification, SQN checking with resynchronisation (AUTS), and the
RFC 2617 auth-int digest with RES as the password (hashlib's MD5).  It
bootstraps against a real plazad, gets a B-TID, and derives Ks_NAF itself;
Zn must give the same key.
"""
import base64
import hashlib
import json
import os
import re
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest
import requests

from conftest import PLAZA, Plazad
from test_boot_vectors import ks_naf, milenage, xor

UB = "/.plaza/bsf/ub"
REALM = "bsf.plaza.example"
NAF_ID = b"naf.example.org" + bytes.fromhex("010001c0a8")


def md5(b):
    return hashlib.md5(b).hexdigest()


def parse_digest(value):
    """name -> value of a Digest header (quoted strings unescaped)."""
    if value.startswith("Digest "):
        value = value[7:]
    out = {}
    for m in re.finditer(r'\s*([A-Za-z-]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))\s*,?',
                         value):
        out[m.group(1).lower()] = (re.sub(r"\\(.)", r"\1", m.group(2))
                                   if m.group(2) is not None else m.group(3))
    return out


def auth_header(**f):
    parts = []
    for k in ("username", "realm", "nonce", "uri", "response", "qop", "nc",
              "cnonce", "algorithm", "auts"):
        if k in f:
            if k in ("qop", "nc", "algorithm"):
                parts.append("%s=%s" % (k, f[k]))
            else:
                parts.append('%s="%s"' % (k, f[k]))
    return "Digest " + ", ".join(parts)


class UE:
    """A device with a simulated USIM (K, OPc, highest accepted SQN)."""

    def __init__(self, impi, k, opc, sqn_ms=0, check_mac=True):
        self.impi, self.k, self.opc = impi, k, opc
        self.sqn_ms = sqn_ms
        self.check_mac = check_mac
        self.last = None

    def first(self, d, method="GET"):
        return requests.request(method, d.url + UB, headers={
            "Authorization": auth_header(username=self.impi, realm=REALM,
                                         nonce="", uri=UB, response="")},
            timeout=10)

    def answer(self, d, r, method="GET", cnonce="c0ffee", nc="00000001"):
        """Answer the 401 r: a digest from RES, or AUTS when SQN is old.
        Returns the response and what the USIM computed."""
        ch = parse_digest(r.headers["WWW-Authenticate"])
        assert ch["qop"] == "auth-int" and ch["algorithm"] == "AKAv1-MD5"
        raw = base64.b64decode(ch["nonce"])
        rand, autn = raw[:16], raw[16:32]
        m = milenage(self.k, self.opc, rand, bytes(6), bytes(2))  # f5
        sqn = xor(autn[:6], m["f5"])
        amf = autn[6:8]
        m = milenage(self.k, self.opc, rand, sqn, amf)
        if self.check_mac:
            assert m["f1"] == autn[8:16], "AUTN MAC-A does not verify"
        f = dict(username=self.impi, realm=ch["realm"], nonce=ch["nonce"],
                 uri=UB, qop="auth-int", nc=nc, cnonce=cnonce,
                 algorithm="AKAv1-MD5")
        if int.from_bytes(sqn, "big") <= self.sqn_ms:
            ms = self.sqn_ms.to_bytes(6, "big")
            mr = milenage(self.k, self.opc, rand, ms, bytes(2))
            f["auts"] = base64.b64encode(xor(ms, mr["f5s"]) +
                                         mr["f1s"]).decode()
            f["response"] = ""
            self.last = None
        else:
            self.sqn_ms = int.from_bytes(sqn, "big")
            ha1 = md5(("%s:%s:" % (self.impi, ch["realm"])).encode() +
                      m["f2"])
            ha2 = md5(("%s:%s:%s" % (method, UB, md5(b""))).encode())
            f["response"] = md5(("%s:%s:%s:%s:%s:%s" % (
                ha1, ch["nonce"], nc, cnonce, "auth-int", ha2)).encode())
            self.last = {"rand": rand, "ks": m["f3"] + m["f4"], "ha1": ha1,
                         "nonce": ch["nonce"], "sqn": self.sqn_ms,
                         "auth": auth_header(**f)}
        return requests.request(method, d.url + UB, headers={
            "Authorization": auth_header(**f)}, timeout=10)

    def bootstrap(self, d, method="GET"):
        r = self.first(d, method)
        assert r.status_code == 401, r.text
        for _ in range(2):          # at most one resynchronisation
            r = self.answer(d, r, method)
            if r.status_code != 401 or self.last:
                break
        return r


def admin(d, method, path, body=None, token=None):
    h = {"Authorization": "Bearer " + (token or d.tokens["CAdmin"])}
    return requests.request(method, d.url + path, headers=h,
                            data=json.dumps(body) if body is not None
                            else None, timeout=10)


def add_sub(d, impi, k, opc, **kw):
    body = {"impi": impi, "k": k.hex(), "opc": opc.hex()}
    body.update(kw)
    r = admin(d, "POST", "/.plaza/subscribers", body)
    assert r.status_code == 201, r.text


def zn(d, btid, naf_id=NAF_ID, token=None):
    return admin(d, "POST", "/.plaza/bsf/zn",
                 {"btid": btid, "naf_id": naf_id.hex()}, token=token)


def new_ue(d, name, device=None, **kw):
    k, opc = os.urandom(16), os.urandom(16)
    impi = "%s@ims.mnc001.mcc001.3gppnetwork.org" % name
    if device:
        r = admin(d, "POST", "/.plaza/ids", {"id": device})
        assert r.status_code == 201, r.text
        add_sub(d, impi, k, opc, device=device)
    else:
        add_sub(d, impi, k, opc)
    return UE(impi, k, opc, **kw)


def gba_keys(d, device):
    rec = admin(d, "GET", "/.plaza/ids/" + device).json()
    return [k for k in rec.get("keys", []) if k["type"] == "gba-ks"]


@pytest.fixture(scope="module")
def bsf():
    d = Plazad(args=["--set", "boot.bsf=true", "--set",
                     "boot.bsf_name=" + REALM]).start()
    yield d
    d.cleanup()


def check_rspauth(ue, r):
    info = parse_digest(r.headers["Authentication-Info"])
    assert info["qop"] == "auth-int" and info["nc"] == "00000001"
    assert info["cnonce"] == "c0ffee"
    ha2 = md5((":%s:%s" % (UB, md5(r.content))).encode())
    want = md5(("%s:%s:%s:%s:%s:%s" % (ue.last["ha1"], ue.last["nonce"],
                                       "00000001", "c0ffee", "auth-int",
                                       ha2)).encode())
    assert info["rspauth"] == want


def test_bootstrap_then_zn(bsf):
    dev = "urn:dev:os:32473-bsf1"
    ue = new_ue(bsf, "001010000000001", device=dev)
    r = ue.bootstrap(bsf)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/vnd.3gpp.bsf+xml"
    check_rspauth(ue, r)
    doc = ET.fromstring(r.content)
    ns = "{uri:3gpp-gba}"
    assert doc.tag == ns + "BootstrappingInfo"
    btid = doc.find(ns + "btid").text
    lifetime = doc.find(ns + "lifetime").text
    assert btid == base64.b64encode(ue.last["rand"]).decode() + "@" + REALM
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", lifetime)
    z = zn(bsf, btid)
    assert z.status_code == 200, z.text
    mine = ks_naf(ue.last["ks"], ue.last["rand"], ue.impi.encode(), NAF_ID)
    assert z.json()["ks_naf"] == mine.hex()
    assert z.json()["impi"] == ue.impi
    assert z.json()["btid"] == btid
    # Another NAF gets another key.
    other = zn(bsf, btid, b"other.example.org" + NAF_ID[-5:]).json()
    assert other["ks_naf"] != mine.hex()
    # The bootstrap is in the trust log: the device's gba-ks key by B-TID.
    keys = gba_keys(bsf, dev)
    assert len(keys) == 1 and keys[0]["name"] == btid
    ks_fp = "sha256:" + hashlib.sha256(ue.last["ks"]).hexdigest()
    assert keys[0]["fp"] == ks_fp
    # A second bootstrap replaces it: still one gba-ks key.
    r = ue.bootstrap(bsf)
    assert r.status_code == 200
    keys = gba_keys(bsf, dev)
    assert len(keys) == 1 and keys[0]["name"] != btid
    # POST works as GET does (auth-int over an empty body).
    assert ue.bootstrap(bsf, "POST").status_code == 200


def test_zn_needs_admin_and_known_btid(bsf):
    assert zn(bsf, "AAAAAAAAAAAAAAAAAAAAAA==@" + REALM,
              token="wrong").status_code == 401
    r = zn(bsf, "AAAAAAAAAAAAAAAAAAAAAA==@" + REALM)
    assert r.status_code == 404 and "B-TID" in r.json()["error"]
    assert zn(bsf, "x", naf_id=b"\x01\x00").status_code == 400
    # Not a B-TID of this form (RFC 4648 base64 of 16 octets "@" host).
    for bad in ("x", "not base64!!!!!!!!!!!!!!@" + REALM,
                "AAAAAAAAAAAAAAAAAAAAAB==@" + REALM, "A" * 300):
        r = zn(bsf, bad)
        assert r.status_code == 400 and r.json()["error"].startswith(
            "B-TID"), (bad, r.text)
    r = admin(bsf, "POST", "/.plaza/bsf/zn", {"naf_id": NAF_ID.hex()})
    assert r.status_code == 400


def test_wrong_k_nothing_stored(bsf):
    good = new_ue(bsf, "wrongk", device="urn:dev:os:32473-bsf2")
    bad = UE(good.impi, os.urandom(16), good.opc, check_mac=False)
    r = bad.bootstrap(bsf)
    assert r.status_code == 401
    assert "WWW-Authenticate" in r.headers
    btid = base64.b64encode(bad.last["rand"]).decode() + "@" + REALM
    assert zn(bsf, btid).status_code == 404
    assert not gba_keys(bsf, "urn:dev:os:32473-bsf2")
    # The right K still works afterwards.
    assert good.bootstrap(bsf).status_code == 200


def test_replayed_nonce_refused(bsf):
    ue = new_ue(bsf, "replay")
    assert ue.bootstrap(bsf).status_code == 200
    again = requests.get(bsf.url + UB, headers={
        "Authorization": ue.last["auth"]}, timeout=10)
    assert again.status_code == 401
    assert "Authentication-Info" not in again.headers
    # A wrong answer uses up the nonce: the right one after it fails.
    r = ue.first(bsf)
    nonce = parse_digest(r.headers["WWW-Authenticate"])["nonce"]
    bad = auth_header(username=ue.impi, realm=REALM, nonce=nonce, uri=UB,
                      response="0" * 32, qop="auth-int", nc="00000001",
                      cnonce="x")
    assert requests.get(bsf.url + UB, headers={"Authorization": bad},
                        timeout=10).status_code == 401
    assert ue.answer(bsf, r).status_code == 401


def test_sqn_resynchronisation(bsf):
    ue = new_ue(bsf, "resync", sqn_ms=5000)
    r = ue.first(bsf)
    r = ue.answer(bsf, r)            # SQN 1 is old for the USIM: AUTS
    assert ue.last is None and r.status_code == 401
    r = ue.answer(bsf, r)            # the new challenge exceeds 5000
    assert r.status_code == 200, r.text
    assert ue.sqn_ms == 5001
    subs = admin(bsf, "GET", "/.plaza/subscribers").json()["subscribers"]
    assert [s["sqn"] for s in subs if s["impi"] == ue.impi] == [5001]
    # A forged AUTS changes nothing.
    r = ue.first(bsf)
    ch = parse_digest(r.headers["WWW-Authenticate"])
    forged = auth_header(username=ue.impi, realm=REALM, nonce=ch["nonce"],
                         uri=UB, response="", auts=base64.b64encode(
                             os.urandom(14)).decode())
    r = requests.get(bsf.url + UB, headers={"Authorization": forged},
                     timeout=10)
    assert r.status_code == 401
    subs = admin(bsf, "GET", "/.plaza/subscribers").json()["subscribers"]
    assert [s["sqn"] for s in subs if s["impi"] == ue.impi] == [5001]


def shape(r):
    """What an observer sees of a 401, the nonce's value aside."""
    ch = parse_digest(r.headers["WWW-Authenticate"])
    return (r.status_code, sorted(h for h in r.headers if h != "Date"),
            re.sub(r'nonce="[^"]*"', "nonce", r.headers["WWW-Authenticate"]),
            len(ch["nonce"]), r.content)


def test_unknown_impi_indistinguishable(bsf):
    known = new_ue(bsf, "known")
    ghost = UE("ghost@ims.mnc001.mcc001.3gppnetwork.org", os.urandom(16),
               os.urandom(16), check_mac=False)
    a, b = known.first(bsf), ghost.first(bsf)
    assert shape(a) == shape(b)
    # Answering: a wrong answer of a subscriber and any answer for an
    # unknown IMPI look the same.
    wrong = UE(known.impi, os.urandom(16), known.opc, check_mac=False)
    assert shape(wrong.answer(bsf, a)) == shape(ghost.answer(bsf, b))


def test_malformed_headers(bsf):
    def ub(auth):
        h = {"Authorization": auth} if auth is not None else {}
        return requests.get(bsf.url + UB, headers=h, timeout=10)

    cases = [None, "Basic dXNlcjpwdw==", 'Digest username="a',
             "Digest username=a, username=b", 'Digest realm="r"',
             'Digest username="x", nonce="abc", uri="/", response="1"',
             "Digest username=a,,realm=b",
             'Digest username="%s"' % ("u" * 256)]
    for auth in cases:
        r = ub(auth)
        assert r.status_code == 400, (auth, r.text)
        assert r.json()["error"]
        assert "WWW-Authenticate" not in r.headers
    # Not 400 for a stale nonce: that is a fresh challenge.
    r = ub('Digest username="x", realm="r", nonce="abc", uri="/", '
           'response="%s", qop=auth-int, nc=00000001, cnonce="c"' % ("1" * 32))
    assert r.status_code == 401
    assert requests.put(bsf.url + UB, timeout=10).status_code == 405
    assert bsf.alive()


def test_long_identities(bsf):
    # RFC 4279 asks for 128-octet identities; IMPIs up to 255 work.
    for n in (128, 255):
        ue = new_ue(bsf, "a" * (n - len("@ims.mnc001.mcc001.3gppnetwork.org")))
        assert len(ue.impi) == n
        assert ue.bootstrap(bsf).status_code == 200
    r = admin(bsf, "POST", "/.plaza/subscribers",
              {"impi": "a" * 256, "k": "00" * 16, "opc": "00" * 16})
    assert r.status_code == 400


def test_subscribers_admin(bsf):
    impi = "adm@ims.example"
    k = "465b5ce8b199b49faa5f0a2ee238a6bc"
    r = admin(bsf, "POST", "/.plaza/subscribers",
              {"impi": impi, "k": k, "opc": "cd63cb71954a9f4e48a5994e37a02baf",
               "sqn": 32, "amf": "b9b9"})
    assert r.status_code == 201
    assert admin(bsf, "POST", "/.plaza/subscribers",
                 {"impi": impi, "k": k, "opc": k}).status_code == 409
    for bad in ({"impi": "x"}, {"impi": "x y", "k": k, "opc": k},
                {"impi": "x", "k": k[:-2], "opc": k},
                {"impi": "x", "k": k, "opc": k, "sqn": 2 ** 48}):
        assert admin(bsf, "POST", "/.plaza/subscribers",
                     bad).status_code == 400, bad
    r = admin(bsf, "POST", "/.plaza/subscribers",
              {"impi": "x@y", "k": k, "opc": k,
               "device": "urn:dev:os:32473-unregistered"})
    assert r.status_code == 404 and "register" in r.json()["error"]
    listed = admin(bsf, "GET", "/.plaza/subscribers")
    assert k not in listed.text and "cd63cb71" not in listed.text
    row = [s for s in listed.json()["subscribers"] if s["impi"] == impi]
    assert row[0]["sqn"] == 32 and row[0]["amf"] == "b9b9"
    assert admin(bsf, "GET", "/.plaza/subscribers",
                 token="nope").status_code == 401
    assert admin(bsf, "DELETE", "/.plaza/subscribers/" +
                 impi).status_code == 200
    assert admin(bsf, "DELETE", "/.plaza/subscribers/" +
                 impi).status_code == 404


def test_removed_subscriber_loses_btid(bsf):
    ue = new_ue(bsf, "gone", device="urn:dev:os:32473-bsf3")
    r = ue.bootstrap(bsf)
    btid = ET.fromstring(r.content).find("{uri:3gpp-gba}btid").text
    assert zn(bsf, btid).status_code == 200
    assert admin(bsf, "DELETE", "/.plaza/subscribers/" +
                 ue.impi).status_code == 200
    assert zn(bsf, btid).status_code == 404
    assert not gba_keys(bsf, "urn:dev:os:32473-bsf3")
    # Removed while a challenge waits: the answer gets a 401, not an error.
    ue2 = new_ue(bsf, "gone2")
    r = ue2.first(bsf)
    assert admin(bsf, "DELETE", "/.plaza/subscribers/" +
                 ue2.impi).status_code == 200
    r = ue2.answer(bsf, r)
    assert r.status_code == 401 and "WWW-Authenticate" in r.headers


def test_revoked_device_gets_no_btid(bsf):
    dev = "urn:dev:os:32473-bsf4"
    ue = new_ue(bsf, "revoked", device=dev)
    assert ue.bootstrap(bsf).status_code == 200
    r = admin(bsf, "POST", "/.plaza/ids/%s/revoke" % dev,
              {"reason": "stolen"})
    assert r.status_code == 200, r.text
    r = ue.bootstrap(bsf)
    assert r.status_code == 403 and "revoked" in r.json()["error"]
    btid = base64.b64encode(ue.last["rand"]).decode() + "@" + REALM
    assert zn(bsf, btid).status_code == 404


def test_expired_btid_refused(plazad_factory):
    d = plazad_factory(args=["--set", "boot.bsf=true", "--set",
                             "boot.bsf_name=" + REALM, "--set",
                             "boot.lifetime=1"])
    ue = new_ue(d, "short")
    r = ue.bootstrap(d)
    btid = ET.fromstring(r.content).find("{uri:3gpp-gba}btid").text
    assert zn(d, btid).status_code == 200
    time.sleep(1.2)
    assert zn(d, btid).status_code == 404


def test_bsf_off_by_default(plazad):
    r = requests.get(plazad.url + UB, timeout=10)
    assert r.status_code == 404
    assert zn(plazad, "x@y").status_code == 404


def plaza(d, *args):
    return subprocess.run([PLAZA, "--url", d.url, "--data", d.data] +
                          list(args), capture_output=True, text=True,
                          timeout=20)


def test_cli_subscriber(bsf):
    k, opc = os.urandom(16), os.urandom(16)
    impi = "cli@ims.mnc001.mcc001.3gppnetwork.org"
    r = plaza(bsf, "subscriber", "add", impi, "--k", k.hex(), "--opc",
              opc.hex(), "--sqn", "7", "--amf", "8000")
    assert r.returncode == 0, r.stderr
    assert "added" in r.stdout and k.hex() not in r.stdout
    r = plaza(bsf, "subscriber", "list")
    assert r.returncode == 0 and impi in r.stdout
    assert k.hex() not in r.stdout and opc.hex() not in r.stdout
    line = [l for l in r.stdout.splitlines() if l.startswith(impi)][0]
    assert line.split()[1] == "7"
    r = plaza(bsf, "--json", "subscriber", "list")
    assert r.returncode == 0
    assert k.hex() not in r.stdout and opc.hex() not in r.stdout
    # The added subscriber bootstraps.
    ue = UE(impi, k, opc, sqn_ms=7)
    assert ue.bootstrap(bsf).status_code == 200
    r = plaza(bsf, "subscriber", "add", impi, "--k", k.hex(), "--opc",
              opc.hex())
    assert r.returncode != 0
    r = plaza(bsf, "subscriber", "add", "x@y", "--k", k.hex(), "--opc",
              opc.hex(), "--sqn", "-1")
    assert r.returncode != 0
    assert plaza(bsf, "subscriber", "add", "x@y").returncode != 0
    r = plaza(bsf, "subscriber", "remove", impi)
    assert r.returncode == 0 and "removed" in r.stdout
    assert plaza(bsf, "subscriber", "remove", impi).returncode != 0
    assert plaza(bsf, "subscriber", "frobnicate").returncode != 0
