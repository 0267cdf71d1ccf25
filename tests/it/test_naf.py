"""The NAF role inside plazad (docs/bootstrap.md, "The NAF"): a device
bootstraps over Ub with plaza's own BSF, derives Ks_NAF itself, and opens
DTLS-PSK to plazad's CoAP endpoint with the identity "3GPP-bootstrapping"
|| B-TID; plazad resolves it through its BSF to the same Ks_NAF (NAF_Id =
boot.naf_fqdn || 01 00 01 C0 A8) and authenticates the AE-ID of the
subscriber's device.  The UE is test_bsf.py's (independent Milenage and
KDF in Python); the DTLS client is pzdev-example from the build.  A wrong
key, an unknown or expired B-TID, a subscriber without a device, a device
without an AE-ID and a revoked device are refused at the handshake and
register nothing."""
import os
import time
import uuid
import xml.etree.ElementTree as ET

import pytest

from coapd import CoapPlazad
from test_boot_vectors import ks_naf
from test_bsf import REALM, UE, add_sub, admin
from test_device import readings, run

NAF = "naf.plaza.example"
NAF_ID = NAF.encode() + bytes.fromhex("010001c0a8")
PREFIX = "3GPP-bootstrapping"


def uniq(prefix):
    return prefix + uuid.uuid4().hex[:8]


def start(lifetime=None):
    args = ["--set", "boot.bsf=true", "--set", "boot.bsf_name=" + REALM,
            "--set", "boot.naf_fqdn=" + NAF]
    if lifetime:
        args += ["--set", "boot.lifetime=%d" % lifetime]
    return CoapPlazad(args=args).start()


@pytest.fixture(scope="module")
def d():
    p = start()
    yield p
    p.cleanup()


def device_ue(d, aei=True):
    """A subscriber bound to a registered device (with an AE-ID unless
    aei is False); returns the UE, the device URN and the AE-ID."""
    orig = uniq("Cnaf")
    dev = "urn:dev:os:32473-" + uniq("naf")
    body = {"id": dev}
    if aei:
        body["ae_id"] = orig
    r = admin(d, "POST", "/.plaza/ids", body)
    assert r.status_code == 201, r.text
    k, opc = os.urandom(16), os.urandom(16)
    impi = "%s@ims.mnc001.mcc001.3gppnetwork.org" % uniq("naf")
    add_sub(d, impi, k, opc, device=dev)
    return UE(impi, k, opc), dev, orig


def bootstrap(d, ue):
    """Ub, then the B-TID and the UE's own Ks_NAF."""
    r = ue.bootstrap(d)
    assert r.status_code == 200, r.text
    btid = ET.fromstring(r.content).find("{uri:3gpp-gba}btid").text
    key = ks_naf(ue.last["ks"], ue.last["rand"], ue.impi.encode(), NAF_ID)
    return btid, key


def connect(d, ident, key, orig, count=2, timeout=None):
    args = ["--identity", ident, "--key", key.hex(), "--originator", orig,
            "--count", str(count)]
    if timeout:
        args += ["--timeout", str(timeout)]
    return run(d.coaps_port, *args)


def refused(d, p, orig, why):
    assert p.returncode == 1, p.stdout + p.stderr
    assert "wrong identity or key" in p.stderr
    assert "register AE" not in p.stdout
    assert d.get("plaza/" + orig).status_code == 404
    if why:
        assert why in d.log(), d.log()[-2000:]
    assert d.alive()


def test_bootstrapped_device_registers_and_posts(d):
    ue, dev, orig = device_ue(d)
    btid, key = bootstrap(d, ue)
    p = connect(d, PREFIX + btid, key, orig, count=3)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "DTLS 1.2 session up: TLS-PSK-WITH-AES-128-CCM-8" in p.stdout
    assert "register AE: 2.01 rsc 2001" in p.stdout
    assert p.stdout.count("post SenML: 2.01 rsc 2001") == 3
    # HTTP sees the AE and its readings.
    ae = d.get("plaza/" + orig)
    assert ae.status_code == 200, ae.text
    assert ae.json()["m2m:ae"]["aei"].endswith(orig)
    assert readings(d, orig)["cni"] == 3


def test_zero_touch_device(d):
    """The whole flow with nothing but the device's network credential:
    pzdev-example bootstraps over Ub itself (its own HTTP client and
    simulated SIM), then opens DTLS-PSK with the identity and key it
    derived, registers and posts; plazad authenticated the device's
    AE-ID through its NAF, and the bootstrap is in the trust log."""
    ue, dev, orig = device_ue(d)
    http = d.url.split("//", 1)[1].rstrip("/")
    p = run(d.coaps_port, "--bsf", http, "--impi", ue.impi,
            "--gba-k", ue.k.hex(), "--gba-opc", ue.opc.hex(),
            "--naf-fqdn", NAF, "--originator", orig, "--count", "2",
            "--timeout", "5000")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "register AE: 2.01 rsc 2001" in p.stdout
    assert p.stdout.count("post SenML: 2.01 rsc 2001") == 2
    assert readings(d, orig)["cni"] == 2
    rec = admin(d, "GET", "/.plaza/ids/" + dev).json()
    assert "gba-ks" in {k["type"] for k in rec["keys"]}


def test_device_derives_the_same_key(d):
    """pzdev-example's own GBA derivation (--gba-*) agrees with plazad's."""
    ue, dev, orig = device_ue(d)
    btid, _ = bootstrap(d, ue)
    p = run(d.coaps_port, "--gba-k", ue.k.hex(), "--gba-opc", ue.opc.hex(),
            "--gba-rand", ue.last["rand"].hex(), "--gba-impi", ue.impi,
            "--naf-fqdn", NAF, "--gba-bsf", REALM, "--originator", orig,
            "--count", "1")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "identity " + PREFIX + btid in p.stdout
    assert readings(d, orig)["cni"] == 1


def test_claiming_another_originator_is_refused(d):
    """The session authenticates the device's AE-ID, not what it says."""
    ue, dev, orig = device_ue(d)
    btid, key = bootstrap(d, ue)
    other = uniq("Cother")
    p = connect(d, PREFIX + btid, key, other, count=1)
    # The AE is registered (rn as asked) but its AE-ID is the device's,
    # and a request in the other name is refused.
    assert "register AE: 2.01 rsc 2001" in p.stdout
    assert "create container: 4.03 rsc 4103" in p.stdout
    assert p.returncode != 0
    assert d.get("plaza/" + other).json()["m2m:ae"]["aei"] == orig


def test_wrong_key_refused(d):
    ue, dev, orig = device_ue(d)
    btid, key = bootstrap(d, ue)
    bad = bytes([key[0] ^ 1]) + key[1:]
    # plazad hands libcoap the right Ks_NAF; the Finished check fails.
    refused(d, connect(d, PREFIX + btid, bad, orig, timeout=3000), orig,
            None)


def test_unknown_btid_refused(d):
    ue, dev, orig = device_ue(d)
    btid, key = bootstrap(d, ue)
    unknown = "AAAAAAAAAAAAAAAAAAAAAA==@" + REALM
    refused(d, connect(d, PREFIX + unknown, key, orig, timeout=3000), orig,
            "unknown or expired B-TID")


def test_malformed_and_unsupported_identities_refused(d):
    ue, dev, orig = device_ue(d)
    btid, key = bootstrap(d, ue)
    refused(d, connect(d, PREFIX + "not-a-btid", key, orig, timeout=3000),
            orig, "B-TID")
    refused(d, connect(d, PREFIX + "-uicc" + btid, key, orig,
                       timeout=3000), orig, "GBA_ME only")


def test_subscriber_without_device_refused(d):
    k, opc = os.urandom(16), os.urandom(16)
    impi = "%s@ims.mnc001.mcc001.3gppnetwork.org" % uniq("nodev")
    add_sub(d, impi, k, opc)
    ue = UE(impi, k, opc)
    btid, key = bootstrap(d, ue)
    orig = uniq("Cnodev")
    refused(d, connect(d, PREFIX + btid, key, orig, timeout=3000), orig,
            "the subscriber has no device")


def test_device_without_ae_id_refused(d):
    ue, dev, orig = device_ue(d, aei=False)
    btid, key = bootstrap(d, ue)
    refused(d, connect(d, PREFIX + btid, key, orig, timeout=3000), orig,
            "device has no AE-ID")


def test_revoked_device_refused(d):
    ue, dev, orig = device_ue(d)
    btid, key = bootstrap(d, ue)
    r = admin(d, "POST", "/.plaza/ids/%s/revoke" % dev, {"reason": "lost"})
    assert r.status_code == 200, r.text
    refused(d, connect(d, PREFIX + btid, key, orig, timeout=3000), orig,
            "device is not active")


def test_expired_btid_refused():
    d = start(lifetime=1)
    try:
        ue, dev, orig = device_ue(d)
        btid, key = bootstrap(d, ue)
        time.sleep(1.3)
        refused(d, connect(d, PREFIX + btid, key, orig, timeout=3000),
                orig, "unknown or expired B-TID")
    finally:
        d.cleanup()
