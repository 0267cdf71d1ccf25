"""The reference device client (device/, docs/device.md) against the real
plazad: pzdev-example runs as a separate process over CoAP and DTLS-PSK
(mbedTLS on its side, libcoap/OpenSSL on plazad's), registers an AE,
creates a container, posts SenML CBOR packs and reads the latest back; an
application on HTTP then sees every reading.  The packs' octets are
checked against Python's cbor2.  A wrong key, an unknown identity, a
closed port and a silent one fail cleanly (exit 1, a clear message) within
the documented bound.  The GBA path is checked only as far as it can be
without a BSF: the device derives Ks_NAF and the B-TID identity from the
simulated SIM of vector G1 (shared/spec/security.md 1.4), and plazad holds
that vector's Ks_NAF as a plain PSK."""
import json
import os
import select
import socket
import subprocess
import time
import uuid

import cbor2
import pytest
import requests

import coapmsg as cm
from conftest import BUILD
from coapd import CoapPlazad

EXAMPLE = os.path.join(BUILD, "pzdev-example")


def uniq(prefix):
    return prefix + uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def d():
    p = CoapPlazad().start()
    yield p
    p.cleanup()


def psk_add_hex(d, identity, key_hex, originator):
    r = requests.post(d.url + "/.plaza/psk", timeout=10, headers={
        "Authorization": "Bearer " + d.tokens["CAdmin"]},
        data=json.dumps({"identity": identity, "originator": originator,
                         "key": key_hex}))
    assert r.status_code == 201, r.text


def run(port, *args, timeout=60):
    p = subprocess.run([EXAMPLE, "--host", "127.0.0.1", "--port", str(port)]
                       + list(args), capture_output=True, text=True,
                       timeout=timeout)
    return p


def readings(d, orig, cnt="data"):
    r = d.get("plaza/%s/%s?rcn=4" % (orig, cnt))
    assert r.status_code == 200, r.text
    return r.json()["m2m:cnt"]


def expected_pack(orig, i):
    rec = {0: "temp", 1: "Cel", 2: 21.5 + 0.25 * (i % 16),
           -2: "urn:dev:plaza:%s:" % orig}
    return cbor2.dumps([rec], canonical=True)


def test_register_post_read_back(d):
    orig = uniq("Cpzdev")
    ident, key = uniq("id-"), uniq("key-")
    d.psk_add(ident, key, orig)
    p = run(d.coaps_port, "--identity", ident, "--key", key.encode().hex(),
            "--originator", orig, "--count", "4")
    assert p.returncode == 0, p.stdout + p.stderr
    out = p.stdout
    assert "DTLS 1.2 session up: TLS-PSK-WITH-AES-128-CCM-8" in out
    assert "register AE: 2.01 rsc 2001" in out
    assert "create container: 2.01 rsc 2001" in out
    assert out.count("post SenML: 2.01 rsc 2001") == 4
    assert "retrieve la: 2.05 rsc 2000" in out
    # The packs' octets are cbor2's canonical encoding of the same records.
    packs = [line.rsplit(" ", 1)[1] for line in out.splitlines()
             if line.startswith("reading ")]
    assert packs == [expected_pack(orig, i).hex() for i in range(4)]
    # HTTP sees the four readings, in order, with their values.
    cnt = readings(d, orig)
    assert cnt["cni"] == 4
    got = [json.loads(c["con"]) for c in cnt["m2m:cin"]]
    assert [g[0]["v"] for g in got] == [21.5, 21.75, 22.0, 22.25]
    assert {g[0]["n"] for g in got} == {"urn:dev:plaza:%s:temp" % orig}
    assert {g[0]["u"] for g in got} == {"Cel"}
    # The device printed the same latest instance.
    la = json.loads(out.split("\nla: ", 1)[1].splitlines()[0])["m2m:cin"]
    assert la["ri"] == cnt["m2m:cin"][-1]["ri"]
    # A second run of the same device: registered already (4117 is fine),
    # its readings are added.
    p = run(d.coaps_port, "--identity", ident, "--key", key.encode().hex(),
            "--originator", orig, "--count", "2")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "register AE: 4.03 rsc 4117" in p.stdout
    assert "create container: 4.03 rsc 4105" in p.stdout
    assert readings(d, orig)["cni"] == 6


@pytest.mark.parametrize("which", ["wrong key", "unknown identity"])
def test_bad_credentials_fail_cleanly(d, which):
    orig = uniq("Cpzbad")
    ident, key = uniq("id-"), uniq("key-")
    d.psk_add(ident, key, orig)
    if which == "wrong key":
        args = ["--identity", ident, "--key", b"not-the-key".hex()]
    else:
        args = ["--identity", uniq("nobody-"), "--key", key.encode().hex()]
    t0 = time.monotonic()
    p = run(d.coaps_port, *args, "--originator", orig, "--timeout", "3000")
    took = time.monotonic() - t0
    assert p.returncode == 1, p.stdout + p.stderr
    assert "DTLS handshake with 127.0.0.1:%d failed" % d.coaps_port \
        in p.stderr
    assert "wrong identity or key" in p.stderr
    assert took < 3 + 2, took
    assert "register AE" not in p.stdout
    assert d.get("plaza/" + orig).status_code == 404
    assert d.alive()


def test_closed_port_fails_at_once():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    t0 = time.monotonic()
    p = run(port, "--identity", "x", "--key", "00", "--originator", "Cx",
            "--timeout", "5000")
    assert p.returncode == 1, p.stdout + p.stderr
    assert "nothing listening there" in p.stderr
    assert time.monotonic() - t0 < 5


def test_silent_port_times_out_within_the_bound():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    try:
        t0 = time.monotonic()
        p = run(s.getsockname()[1], "--identity", "x", "--key", "00",
                "--originator", "Cx", "--timeout", "2000")
        took = time.monotonic() - t0
        # The ClientHello arrived and was retransmitted.
        hellos = 0
        s.setblocking(False)
        while True:
            try:
                data = s.recv(2048)
            except BlockingIOError:
                break
            hellos += data[0] == 22   # a handshake record
    finally:
        s.close()
    assert p.returncode == 1, p.stdout + p.stderr
    assert "timed out (no handshake within 2000 ms" in p.stderr
    assert 2.0 <= took < 2.0 + 1.5, took
    assert hellos >= 2


def test_bad_usage():
    p = subprocess.run([EXAMPLE, "--host", "127.0.0.1"], capture_output=True,
                       text=True, timeout=10)
    assert p.returncode == 2 and "usage:" in p.stderr
    p = run(9, "--identity", "x", "--key", "0g", "--originator", "Cx")
    assert p.returncode == 1 and "bad --key" in p.stderr
    p = subprocess.run([EXAMPLE, "--host", "localhost", "--port", "9",
                        "--identity", "x", "--key", "00", "--originator",
                        "Cx"], capture_output=True, text=True, timeout=10)
    assert p.returncode == 1 and "numeric IPv4 or IPv6" in p.stderr


# Vector G1 of shared/spec/security.md 1.4 (TS 35.208 Test Set 1 SIM).
G1 = {"k": "465b5ce8b199b49faa5f0a2ee238a6bc",
      "opc": "cd63cb71954a9f4e48a5994e37a02baf",
      "rand": "23553cbe9637a89d218ae64dae47bf35",
      "impi": "001010000000001@ims.mnc001.mcc001.3gppnetwork.org",
      "naf": "naf.example.org",
      "ks_naf": "4b0dd9165c64ad093878411c60e2189f"
                "fa556ec29715ca75a8de98e0c1abf273",
      "btid": "I1U8vpY3qJ0hiuZNrke/NQ==@bsf.example.org"}


def test_gba_derived_psk_is_used(d):
    """Not a bootstrap (no BSF here): plazad is given G1's Ks_NAF as a
    plain PSK under the GBA identity, and the device, holding only the
    SIM's K and OPc and the bootstrap's RAND, derives the same key."""
    orig = uniq("Cgba")
    ident = "3GPP-bootstrapping" + G1["btid"]
    psk_add_hex(d, ident, G1["ks_naf"], orig)
    gba = ["--gba-k", G1["k"], "--gba-opc", G1["opc"], "--gba-rand",
           G1["rand"], "--gba-impi", G1["impi"], "--naf-fqdn", G1["naf"],
           "--originator", orig, "--count", "1"]
    p = run(d.coaps_port, *gba)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "identity " + ident in p.stdout
    assert readings(d, orig)["cni"] == 1
    # Another SIM (K changed) derives another key: no session.
    bad = list(gba)
    bad[1] = "565b5ce8b199b49faa5f0a2ee238a6bc"
    p = run(d.coaps_port, *bad, "--timeout", "2000")
    assert p.returncode == 1 and "wrong identity or key" in p.stderr


# --- against a fake server: openssl s_server as the DTLS peer --------------

class FakeServer:
    """openssl s_server -dtls1_2 with a PSK: each record the device sends
    comes out on stdout, each datagram written to stdin goes back as one
    record.  The test plays the CoAP server by hand."""

    def __init__(self, ident, key):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.p = subprocess.Popen(
            ["openssl", "s_server", "-dtls1_2", "-accept", str(self.port),
             "-nocert", "-psk", key.hex(), "-psk_identity", ident,
             "-cipher", "PSK-AES128-CCM8", "-quiet"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        self.pending = []
        self.wait_listening()

    def wait_listening(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = subprocess.run(["ss", "-uln"], capture_output=True,
                                 text=True).stdout
            if ":%d " % self.port in out:
                return
            time.sleep(0.05)
        raise RuntimeError("s_server did not bind")

    def recv(self, timeout=10.0):
        """(arrival time, decoded message) or None.  An empty message is
        exactly 4 octets, so one that arrived glued to the next datagram
        is split off."""
        if self.pending:
            return self.pending.pop(0)
        r, _, _ = select.select([self.p.stdout], [], [], timeout)
        if not r:
            return None
        data = os.read(self.p.stdout.fileno(), 65536)
        now = time.monotonic()
        while len(data) > 4 and data[1] == 0 and data[0] & 0x0f == 0:
            self.pending.append((now, cm.decode(data[:4])))
            data = data[4:]
        self.pending.append((now, cm.decode(data)))
        return self.pending.pop(0)

    def send(self, datagram):
        self.p.stdin.write(datagram)
        self.p.stdin.flush()

    def answer(self, req, code, rsc, payload=b"", mtype=cm.ACK, mid=None):
        opts = [(cm.RSC, rsc)]
        if payload:
            opts.append((cm.CONTENT_FORMAT, cm.CF_JSON))
        self.send(cm.encode(code, opts, payload, mtype=mtype,
                            mid=req[2] if mid is None else mid,
                            token=req[3]))

    def close(self):
        self.p.kill()
        self.p.wait()


def test_retransmission_and_separate_response():
    key = b"fake-key"
    srv = FakeServer("id-fake", key)
    dev = subprocess.Popen([EXAMPLE, "--host", "127.0.0.1", "--port",
                            str(srv.port), "--identity", "id-fake", "--key",
                            key.hex(), "--originator", "Cfake", "--count",
                            "1", "--timeout", "30000"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    try:
        # Unanswered, the registration is sent three times: after 2-3 s
        # (ACK_TIMEOUT times the random factor), then after twice that.
        sends = [srv.recv() for _ in range(3)]
        assert None not in sends
        times = [t for t, _ in sends]
        reqs = [m for _, m in sends]
        assert all(m == reqs[0] for m in reqs), reqs
        assert reqs[0][0] == cm.CON and reqs[0][1] == "0.02"
        first, second = times[1] - times[0], times[2] - times[1]
        assert 1.9 <= first <= 3.3, times
        assert 2 * first - 0.4 <= second <= 2 * first + 0.4, times
        # An empty ACK stops the retransmissions; the separate CON
        # response that follows is acknowledged with its message ID.
        srv.send(cm.encode(0, mtype=cm.ACK, mid=reqs[0][2], token=b""))
        assert srv.recv(timeout=first + 0.5) is None
        srv.answer(reqs[0], 0x41, 2001, mtype=cm.CON, mid=0x4242)
        got = srv.recv()
        assert got is not None
        assert got[1][:3] == (cm.ACK, "0.00", 0x4242), got
        # The rest, piggybacked: container, one SenML post, la.
        for code, rsc, body in ((0x41, 2001, b""), (0x41, 2001, b""),
                                (0x45, 2000, b'{"m2m:cin":{"con":"x"}}')):
            got = srv.recv()
            assert got is not None and got[1][0] == cm.CON
            srv.answer(got[1], code, rsc, body)
        out, err = dev.communicate(timeout=10)
        assert dev.returncode == 0, out + err
        assert "register AE: 2.01 rsc 2001" in out
        assert 'la: {"m2m:cin":{"con":"x"}}' in out
    finally:
        dev.kill()
        srv.close()


def test_unanswered_request_times_out_within_the_bound():
    key = b"fake-key"
    srv = FakeServer("id-fake", key)
    try:
        t0 = time.monotonic()
        p = run(srv.port, "--identity", "id-fake", "--key", key.hex(),
                "--originator", "Cfake", "--timeout", "3000")
        took = time.monotonic() - t0
        assert p.returncode == 1, p.stdout + p.stderr
        assert "register AE: timed out" in p.stderr
        assert took < 3 + 3 + 1.5, took   # handshake, then the request
    finally:
        srv.close()


def test_oversized_answer_is_refused():
    """An answer longer than PZDEV_MSG_MAX (1,024) fails its request
    with a clear error instead of being cut short."""
    key = b"fake-key"
    srv = FakeServer("id-fake", key)
    try:
        dev = subprocess.Popen([EXAMPLE, "--host", "127.0.0.1", "--port",
                                str(srv.port), "--identity", "id-fake",
                                "--key", key.hex(), "--originator", "Cfake",
                                "--timeout", "10000"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
        got = srv.recv()
        assert got is not None and got[1][1] == "0.02"
        srv.answer(got[1], 0x41, 2001, b"{" + b" " * 1100 + b"}")
        out, err = dev.communicate(timeout=10)
        assert dev.returncode == 1, out + err
        assert "register AE: too big for the buffer" in err
    finally:
        dev.kill()
        srv.close()
