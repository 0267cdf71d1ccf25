"""DTLS 1.2 with pre-shared keys as a second, independent DTLS stack sees
it: OpenSSL's own `openssl s_client -dtls1_2`, carrying raw CoAP
datagrams.  RFC 7925's mandatory cipher suite TLS_PSK_WITH_AES_128_CCM_8
is offered and a full oneM2M exchange runs over it; suites plazad does not
offer, old protocol versions, unknown identities and wrong keys get no
session."""
import os
import select
import subprocess
import time
import uuid

import pytest

import coapmsg as cm
from coapd import CoapPlazad


def uniq(prefix):
    return prefix + uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def d():
    p = CoapPlazad().start()
    yield p
    p.cleanup()


@pytest.fixture(scope="module")
def dev(d):
    orig = uniq("Cdtls")
    ident, key = uniq("id-"), uniq("key-")
    d.psk_add(ident, key, orig)
    return {"orig": orig, "ident": ident, "key": key}


class SClient:
    """openssl s_client in DTLS 1.2 PSK mode; datagrams go in on stdin and
    come back on stdout (s_client writes each record it reads)."""

    def __init__(self, port, ident, key, cipher="PSK-AES128-CCM8",
                 proto="-dtls1_2"):
        self.p = subprocess.Popen(
            ["openssl", "s_client", proto, "-connect",
             "127.0.0.1:%d" % port, "-psk_identity", ident,
             "-psk", key.encode().hex(), "-cipher", cipher,
             "-quiet", "-nocommands"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)

    def request(self, datagram, timeout=5.0):
        """Send one datagram; the decoded answer, or None."""
        # s_client writes each read() of stdin as one record (no line
        # handling without -crlf); a datagram is written in one go.
        self.p.stdin.write(datagram)
        self.p.stdin.flush()
        deadline = time.monotonic() + timeout
        data = b""
        while True:
            # An empty ACK (4 bytes, no token) may come first, when the
            # answer follows separately; the pipe may join the two.
            while len(data) >= 4 and data[0] == 0x60 and data[1] == 0:
                data = data[4:]
            if data:
                return cm.Reply(data)
            left = deadline - time.monotonic()
            r, _, _ = select.select([self.p.stdout], [], [], max(left, 0))
            if not r:
                return None
            more = os.read(self.p.stdout.fileno(), 65536)
            if not more:
                return None
            data += more

    def close(self):
        self.p.kill()
        self.p.wait()
        err = self.p.stderr.read().decode(errors="replace")
        self.p.stdin.close()
        self.p.stdout.close()
        self.p.stderr.close()
        return err


def test_ccm8_carries_a_oneM2M_registration(d, dev):
    s = SClient(d.coaps_port, dev["ident"], dev["key"])
    try:
        body = ('{"m2m:ae":{"rn":"%s","api":"Ndtls","rr":false,'
                '"srv":["4"]}}' % dev["orig"])
        r = s.request(cm.encode(
            cm.POST, cm.path_opts("plaza") +
            [(cm.TY, 2), (cm.FR, dev["orig"]), (cm.RQI, "ccm8"),
             (cm.RVI, "4"), (cm.CONTENT_FORMAT, cm.CF_JSON)],
            body, mid=0x1201, token=b"c8"))
        assert r is not None, "no answer over PSK-AES128-CCM8"
        assert (r.code, r.rsc, r.token) == ("2.01", 2001, b"c8"), r
        assert r.body()["m2m:ae"]["aei"] == dev["orig"]
        # The same session, another originator: refused by identity.
        r = s.request(cm.encode(
            cm.GET, cm.path_opts("plaza/" + dev["orig"]) +
            [(cm.FR, "Cnotme"), (cm.RQI, "ccm8-2")], mid=0x1202,
            token=b"c9"))
        assert (r.code, r.rsc) == ("4.03", 4103), r
    finally:
        s.close()
    # HTTP sees the AE the device registered over DTLS.
    r = d.get("plaza/" + dev["orig"])
    assert r.status_code == 200 and r.json()["m2m:ae"]["api"] == "Ndtls"


@pytest.mark.parametrize("cipher", ["PSK-AES128-CCM", "PSK-AES128-GCM-SHA256",
                                    "PSK-CHACHA20-POLY1305"])
def test_other_aead_psk_suites(d, dev, cipher):
    s = SClient(d.coaps_port, dev["ident"], dev["key"], cipher=cipher)
    try:
        r = s.request(cm.encode(cm.GET, cm.path_opts("plaza") +
                                [(cm.FR, dev["orig"]), (cm.RQI, "aead")],
                                token=b"ae"))
    finally:
        s.close()
    assert r is not None and r.code == "2.05", (cipher, r)


def refused(d, ident, key, **kw):
    """No answer and no session: the handshake fails."""
    s = SClient(d.coaps_port, ident, key, **kw)
    start = time.monotonic()
    try:
        r = s.request(cm.encode(cm.GET, cm.path_opts("plaza") +
                                [(cm.FR, "Cx"), (cm.RQI, "no")]),
                      timeout=4)
    finally:
        s.close()
    assert r is None, r
    return time.monotonic() - start


def test_unknown_identity_is_refused_and_logged(d):
    ident = uniq("ghost-")
    refused(d, ident, "whatever")
    assert ("PSK identity '%s' unknown" % ident) in d.log()


def test_wrong_key_gets_no_session(d, dev):
    refused(d, dev["ident"], "not-" + dev["key"])


def test_cbc_suite_is_not_offered(d, dev):
    # RFC 7925 asks for AEAD suites; CBC with HMAC is refused.
    refused(d, dev["ident"], dev["key"], cipher="PSK-AES128-CBC-SHA256")


def test_dtls_1_0_is_refused(d, dev):
    refused(d, dev["ident"], dev["key"], cipher="PSK-AES128-CBC-SHA",
            proto="-dtls1")
