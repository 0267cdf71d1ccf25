"""The trust repository through a real plazad (docs/trust.md): identity
records made by registrations, pre-shared keys and the operator; the
public log API; proofs checked here with an independent RFC 9162
implementation (hashlib), Ed25519 signatures with python3-cryptography and
leaf encodings with cbor2; bad input; enforcement of revocations; the CLI
(plaza id, plaza log); plazad --verify-log and tampering with a stopped
plazad's database.

plaza-verify, the standalone auditor, has its own tests (test_verify.py).
"""
import base64
import hashlib
import json
import os
import sqlite3
import subprocess
import time

import cbor2
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import (
    Encoding, PublicFormat, load_pem_public_key)

from conftest import PLAZA, PLAZAD, Plazad, rsc

DEV = "urn:dev:mac:0024befffe804ff1"


# --- an independent RFC 9162 verifier -------------------------------------------

def sha(b):
    return hashlib.sha256(b).digest()


def leaf_hash(b):
    return sha(b"\x00" + b)


def node(a, b):
    return sha(b"\x01" + a + b)


def root_of(leaves):
    """MTH (RFC 9162 2.1.1) of a list of leaf hashes."""
    n = len(leaves)
    if n == 0:
        return sha(b"")
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node(root_of(leaves[:k]), root_of(leaves[k:]))


def verify_inclusion(index, size, leaf, path, root):
    """RFC 9162 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(m, n, proof, old, new):
    """RFC 9162 2.1.4.2."""
    if m == n:
        return not proof and old == new
    if m == 0 or m > n or not proof:
        return False
    if m & (m - 1) == 0:
        proof = [old] + proof
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node(c, fr)
            sr = node(c, sr)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old and sr == new


def b64(s):
    return base64.b64decode(s)


class Log:
    """What a third party holds: the public key, and heads it has seen."""

    def __init__(self, d):
        r = d.session.get(d.url + "/.plaza/log/key")
        assert r.status_code == 200
        assert r.headers["Content-Type"] == "application/x-pem-file"
        self.pem = r.content
        self.key = load_pem_public_key(self.pem)
        self.raw = self.key.public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.log_id = sha(self.raw)

    def check_head(self, h):
        assert b64(h["log_id"]) == self.log_id
        tbs = (b"plaza tree head v1" + self.log_id +
               h["timestamp"].to_bytes(8, "big") +
               h["tree_size"].to_bytes(8, "big") + b64(h["root_hash"]))
        self.key.verify(b64(h["signature"]), tbs)   # raises if invalid
        return h


def get(d, path, **params):
    return d.session.get(d.url + path, params=params, timeout=30)


def admin_post(d, path, body=None):
    return d.session.post(d.url + path, timeout=30,
                          headers={"Authorization": "Bearer " +
                                   d.tokens["CAdmin"]},
                          data=json.dumps(body) if body is not None else None)


def all_entries(d):
    out, start = [], 0
    while True:
        r = get(d, "/.plaza/log/entries", start=start)
        assert r.status_code == 200, r.text
        page = r.json()["entries"]
        if not page:
            return out
        out += page
        start += len(page)


# --- records --------------------------------------------------------------------

def test_genesis_names_the_platform_and_its_log_key(plazad):
    log = Log(plazad)
    rec = get(plazad, "/.plaza/ids/%2F%2Fplaza.example%2Fplaza-in").json()
    assert rec["kind"] == "platform" and rec["status"] == "active"
    assert rec["sp_id"] == "plaza.example" and rec["cse_id"] == "plaza-in"
    assert get(plazad, "/.plaza/ids/%2Fplaza-in").json()["id"] == rec["id"]
    fp = "sha256:" + hashlib.sha256(log.raw).hexdigest()
    assert rec["keys"] == [{"type": "ed25519-log", "fp": fp, "since": 1}]
    e0 = get(plazad, "/.plaza/log/entries/0").json()["entry"]
    assert e0["type"] == "register" and e0["seq"] == 0 and e0["v"] == 1


def test_ae_registration_is_logged_with_its_token_fingerprint(plazad):
    aei, _ = plazad.register(api="Nlamp")
    rec = get(plazad, "/.plaza/ids/" + aei).json()
    assert rec["id"] == "//plaza.example/plaza-in/" + aei
    assert rec["kind"] == "application" and rec["app_id"] == "Nlamp"
    assert set(rec["aliases"]) == {aei, "/plaza-in/" + aei}
    tok = plazad.tokens[aei]
    assert rec["keys"][0]["type"] == "token"
    assert rec["keys"][0]["fp"] == \
        "sha256:" + hashlib.sha256(tok.encode()).hexdigest()
    assert [h["type"] for h in rec["history"]] == ["register", "bind-key"]
    # Every alias resolves to the same record.
    for a in rec["aliases"] + [rec["id"]]:
        assert get(plazad, "/.plaza/ids/" + a.replace("/", "%2F")
                   ).json()["id"] == rec["id"]
    # Deregistration decommissions the application.
    assert plazad.delete("plaza/" + aei).status_code == 200
    rec = get(plazad, "/.plaza/ids/%2F%2Fplaza.example%2Fplaza-in%2F" +
              aei).json()
    assert rec["status"] == "decommissioned" and rec["keys"] == []
    assert rec["history"][-1]["type"] == "decommission"
    assert get(plazad, "/.plaza/ids/" + aei).status_code == 404


def test_device_bound_to_its_ae_psk_and_node(plazad):
    r = admin_post(plazad, "/.plaza/ids", {
        "id": "urn:dev:mac:0024BEFFFE804FF1", "ae_id": "Clamp7",
        "node_id": "lamp-node-7", "app_id": "Nlamp"})
    assert r.status_code == 201, r.text
    rec = r.json()
    assert rec["id"] == DEV and rec["kind"] == "device"   # normalised
    assert set(rec["aliases"]) >= {"Clamp7", "/plaza-in/Clamp7",
                                   "//plaza.example/plaza-in/Clamp7",
                                   "lamp-node-7"}
    # A PSK for the device's AE binds to the device.
    r = admin_post(plazad, "/.plaza/psk", {"identity": "lamp-7",
                                           "originator": "Clamp7",
                                           "key": "00112233445566778899"})
    assert r.status_code == 201, r.text
    rec = get(plazad, "/.plaza/ids/lamp-7").json()
    assert rec["id"] == DEV
    fp = "sha256:" + hashlib.sha256(bytes.fromhex("00112233445566778899")
                                    ).hexdigest()
    assert rec["keys"] == [{"type": "psk", "fp": fp, "name": "lamp-7",
                            "since": rec["history"][-1]["seq"]}]
    # The same key again changes nothing; a new one is a rotation.
    n = len(rec["history"])
    admin_post(plazad, "/.plaza/psk", {"identity": "lamp-7",
                                       "originator": "Clamp7",
                                       "key": "00112233445566778899"})
    assert len(get(plazad, "/.plaza/ids/" + DEV).json()["history"]) == n
    admin_post(plazad, "/.plaza/psk", {"identity": "lamp-7",
                                       "originator": "Clamp7",
                                       "key": "aabbccddeeff"})
    rec = get(plazad, "/.plaza/ids/" + DEV).json()
    assert rec["history"][-1]["type"] == "rotate-key"
    e = get(plazad, "/.plaza/log/entries/%d" %
            rec["history"][-1]["seq"]).json()["entry"]
    assert e["old"] == fp and e["key"]["name"] == "lamp-7"
    # The AE registers with the device's AE-ID: bound to the device.
    aei, _ = plazad.register(origin="Clamp7", api="Nlamp")
    assert aei == "Clamp7"
    rec = get(plazad, "/.plaza/ids/Clamp7").json()
    assert rec["id"] == DEV
    assert {k["type"] for k in rec["keys"]} == {"psk", "token"}
    # Deleting the PSK identity revokes that key only.
    r = plazad.session.delete(plazad.url + "/.plaza/psk/lamp-7",
                              headers={"Authorization": "Bearer " +
                                       plazad.tokens["CAdmin"]})
    assert r.status_code == 200
    rec = get(plazad, "/.plaza/ids/" + DEV).json()
    assert [k["type"] for k in rec["keys"]] == ["token"]
    assert rec["history"][-1]["type"] == "revoke"
    assert get(plazad, "/.plaza/ids/lamp-7").status_code == 404
    assert rec["status"] == "active"


def test_psk_identity_that_is_its_own_originator(plazad):
    """plaza psk add X without --originator: X is both the AE-ID the
    record starts with and the key's name; deleting the key keeps the
    AE-ID resolvable."""
    assert admin_post(plazad, "/.plaza/psk", {"identity": "Cself1",
                                              "key": "a1b2"}).status_code \
        == 201
    rec = get(plazad, "/.plaza/ids/Cself1").json()
    assert rec["id"] == "//plaza.example/plaza-in/Cself1"
    assert rec["keys"][0]["name"] == "Cself1"
    r = plazad.session.delete(plazad.url + "/.plaza/psk/Cself1",
                              headers={"Authorization": "Bearer " +
                                       plazad.tokens["CAdmin"]})
    assert r.status_code == 200
    rec = get(plazad, "/.plaza/ids/Cself1").json()
    assert rec["keys"] == [] and "Cself1" in rec["aliases"]
    assert rec["history"][-1]["type"] == "revoke"


def test_revocation_is_enforced(fresh_plazad):
    d = fresh_plazad
    assert admin_post(d, "/.plaza/ids", {"id": "urn:dev:ow:10e2073a01080063",
                                         "ae_id": "Cthermo"}).status_code \
        == 201
    aei, _ = d.register(origin="Cthermo", api="Nthermo")
    assert d.get("plaza/" + aei, aei).status_code == 200
    r = admin_post(d, "/.plaza/ids/Cthermo/revoke", {"reason": "stolen"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "revoked" and r.json()["keys"] == []
    e = get(d, "/.plaza/log/entries/%d" %
            r.json()["history"][-1]["seq"]).json()["entry"]
    assert e["type"] == "revoke" and e["reason"] == "stolen"
    # Its credential stopped working at once ...
    assert d.get("plaza/" + aei, aei).status_code in (401, 403)
    # ... it cannot register again ...
    d.delete("plaza/" + aei)
    r = d.create("plaza", 2, {"m2m:ae": {"api": "Nthermo", "rr": False,
                                         "srv": ["4"]}},
                 origin="Cthermo", token=False)
    assert r.status_code == 403 and rsc(r) == 4103
    assert "revoked" in r.text
    # ... nor get a key, and it cannot be revoked twice.
    r = admin_post(d, "/.plaza/psk", {"identity": "thermo",
                                      "originator": "Cthermo"})
    assert r.status_code == 409 and "revoked" in r.text
    assert admin_post(d, "/.plaza/ids/Cthermo/revoke").status_code == 409
    # The platform cannot end itself.
    r = admin_post(d, "/.plaza/ids/%2Fplaza-in/decommission")
    assert r.status_code == 409


def test_decommissioned_device_gives_up_its_aliases(fresh_plazad):
    d = fresh_plazad
    admin_post(d, "/.plaza/ids", {"id": "urn:dev:os:32473-123456",
                                  "ae_id": "Cmeter"})
    r = admin_post(d, "/.plaza/ids/urn:dev:os:32473-123456/decommission",
                   {"reason": "replaced"})
    assert r.status_code == 200 and r.json()["aliases"] == []
    assert get(d, "/.plaza/ids/Cmeter").status_code == 404
    # Gone for good: its URN is not registered again ...
    r = admin_post(d, "/.plaza/ids", {"id": "urn:dev:os:32473-123456"})
    assert r.status_code == 409
    # ... but its AE-ID is free for another device.
    r = admin_post(d, "/.plaza/ids", {"id": "urn:dev:os:32473-654321",
                                      "ae_id": "Cmeter"})
    assert r.status_code == 201, r.text


def test_identities_are_listed_a_page_at_a_time(fresh_plazad):
    d = fresh_plazad
    for i in range(7):
        assert admin_post(d, "/.plaza/ids", {
            "id": "urn:dev:os:32473-%d" % i}).status_code == 201
    d.register(api="Nlist")
    ids, after = [], None
    while True:
        params = {"limit": 3}
        if after:
            params["after"] = after
        r = get(d, "/.plaza/ids", **params)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["ids"]) <= 3
        ids += page["ids"]
        after = page.get("next")
        if not after:
            break
        assert after == page["ids"][-1]["id"]
    names = [x["id"] for x in ids]
    assert names == sorted(names) and len(names) == len(set(names)) == 9
    assert {"id": "urn:dev:os:32473-3", "kind": "device",
            "status": "active"} in ids
    assert sum(x["kind"] == "platform" for x in ids) == 1
    assert get(d, "/.plaza/ids", limit=0).status_code == 400
    assert get(d, "/.plaza/ids", limit=1001).status_code == 400
    out = cli(d, "id", "list").stdout.splitlines()
    assert out[0].split() == ["ID", "KIND", "STATUS"] and len(out) == 10
    assert json.loads(cli(d, "--json", "id", "list").stdout) == ids


def test_concurrent_registrations_are_logged_exactly(fresh_plazad, tmp_path):
    """8 clients register AEs at once, half of them asking for AE-IDs that
    another client also asks for (one wins, the other is refused and
    rolled back inside the same write batch): every registration that
    succeeded has exactly its two entries, no refused one left any, and
    the whole log verifies."""
    import threading
    d = fresh_plazad
    won, lost, errors = [], [], []

    def client(k):
        s = __import__("requests").Session()
        for i in range(25):
            orig = "Crace%d" % (i if k % 2 else 1000 * (k + 1) + i)
            ae = {"api": "Nrace", "rr": False, "srv": ["4"]}
            if k % 2 == 0 and i % 5 == 0:
                # A name the others want too: refused after the trust
                # entries were appended, so they are rolled back.
                ae["rn"] = "race-shared-%d" % i
            r = s.post(d.url + "/plaza", timeout=30, headers={
                "X-M2M-Origin": orig, "X-M2M-RI": "r%d-%d" % (k, i),
                "X-M2M-RVI": "4",
                "Content-Type": "application/json;ty=2"},
                data=json.dumps({"m2m:ae": ae}))
            if r.status_code == 201:
                won.append(orig)
            elif rsc(r) in (4117, 4105):   # AE-ID or name taken
                lost.append(orig)
            else:
                errors.append(r.text)
    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    # 25 AE-IDs the odd clients share, 100 of the even clients' own, of
    # which 4 x 5 share 5 names: 15 of those lose.
    assert len(won) == len(set(won)) == 25 + 100 - 15
    assert len(won) + len(lost) == 200
    entries = all_entries(d)
    assert len(entries) == 2 + 2 * len(won)
    assert [e["seq"] for e in entries] == list(range(len(entries)))
    for orig in won:
        rec = get(d, "/.plaza/ids/" + orig).json()
        assert [h["type"] for h in rec["history"]] == ["register",
                                                       "bind-key"]
    key = os.path.join(d.data, "log.key.pub")
    assert "log verified" in cli(d, "log", "verify", "--key", key).stdout
    d.stop()
    assert verify_log(d).returncode == 0


# --- bad input -----------------------------------------------------------------

@pytest.mark.parametrize("body,status,why", [
    ({"id": "urn:dev:mac:0024"}, 400, "16 hex digits"),
    ({"id": "urn:dev:ow:10e2073a01080064"}, 400, "CRC"),
    ({"id": "urn:dev:org:0-abc"}, 400, ""),
    ({"id": "lamp-7"}, 400, "urn:dev"),
    ({"id": 7}, 400, "string"),
    ({"id": DEV, "colour": "red"}, 400, "unknown field"),
    ({"id": DEV, "ae_id": "has space"}, 400, "AE-ID"),
    ({"id": "urn:dev:mac:0024befffe80ffff", "key": {"type": "psk",
                                                   "fp": "md5:abc"}},
     400, "fp"),
    ({"id": "urn:dev:mac:0024befffe80ffff", "key": "psk"}, 400, "key"),
    ([1, 2], 400, ""),
])
def test_bad_registrations_append_nothing(plazad, body, status, why):
    before = get(plazad, "/.plaza/log/head").json()["tree_size"]
    r = admin_post(plazad, "/.plaza/ids", body)
    assert r.status_code == status, r.text
    assert why in r.json()["error"]
    assert get(plazad, "/.plaza/log/head").json()["tree_size"] == before


def test_duplicates_and_collisions_are_refused(fresh_plazad):
    d = fresh_plazad
    assert admin_post(d, "/.plaza/ids", {
        "id": "urn:dev:ops:32473-Refrigerator-5002",
        "ae_id": "Cfridge"}).status_code == 201
    head = get(d, "/.plaza/log/head").json()["tree_size"]
    for body in ({"id": "urn:dev:ops:32473-refrigerator-5002"},
                 {"id": "URN:DEV:ops:32473-REFRIGERATOR-5002"},
                 {"id": "urn:dev:mac:0000000000000001", "ae_id": "Cfridge"},
                 {"id": "urn:dev:mac:0000000000000002",
                  "node_id": "//plaza.example/plaza-in"}):
        r = admin_post(d, "/.plaza/ids", body)
        assert r.status_code == 409, (body, r.text)
    assert get(d, "/.plaza/log/head").json()["tree_size"] == head
    # An AE that is already registered as an application cannot become
    # a device's AE-ID.
    aei, _ = d.register(api="Nx")
    r = admin_post(d, "/.plaza/ids", {"id": "urn:dev:mac:0000000000000003",
                                      "ae_id": aei})
    assert r.status_code == 409 and "already names" in r.text


def test_identity_changes_need_the_admin(plazad):
    r = plazad.session.post(plazad.url + "/.plaza/ids",
                            data=json.dumps({"id": DEV}))
    assert r.status_code == 401
    aei, _ = plazad.register(api="Ny")
    r = plazad.session.post(plazad.url + "/.plaza/ids/%s/revoke" % aei,
                            headers={"Authorization": "Bearer " +
                                     plazad.tokens[aei]})
    assert r.status_code == 401


@pytest.mark.parametrize("path,params,status", [
    ("/.plaza/log/proof", {}, 400),
    ("/.plaza/log/proof", {"seq": "x"}, 400),
    ("/.plaza/log/proof", {"seq": "-1"}, 400),
    ("/.plaza/log/proof", {"seq": "1", "id": "Cx"}, 400),
    ("/.plaza/log/proof", {"seq": "99999"}, 404),
    ("/.plaza/log/proof", {"seq": "0", "size": "0"}, 422),
    ("/.plaza/log/proof", {"seq": "0", "size": "99999"}, 404),
    ("/.plaza/log/proof", {"id": "urn:dev:mac:00"}, 400),
    ("/.plaza/log/proof", {"id": "Cnobody"}, 404),
    ("/.plaza/log/consistency", {}, 400),
    ("/.plaza/log/consistency", {"from": "0"}, 422),
    ("/.plaza/log/consistency", {"from": "99999"}, 422),
    ("/.plaza/log/consistency", {"from": "1", "to": "99999"}, 404),
    ("/.plaza/log/entries/99999", {}, 404),
    ("/.plaza/log/entries/abc", {}, 400),
    ("/.plaza/log/entries", {"start": "5", "end": "2"}, 422),
    ("/.plaza/log/nothing", {}, 404),
    ("/.plaza/ids/urn:dev:mac:zz", {}, 400),
    ("/.plaza/ids/Cnobody", {}, 404),
])
def test_bad_log_requests(plazad, path, params, status):
    r = get(plazad, path, **params)
    assert r.status_code == status, r.text
    assert r.json()["error"]


def test_the_log_can_be_private(plazad_factory):
    d = plazad_factory(args=["--set", "trust.public=false"])
    assert get(d, "/.plaza/log/head").status_code == 401
    assert get(d, "/.plaza/ids/%2Fplaza-in").status_code == 401
    r = d.session.get(d.url + "/.plaza/log/head", headers={
        "Authorization": "Bearer " + d.tokens["CAdmin"]})
    assert r.status_code == 200


# --- proofs, checked here -----------------------------------------------------

def test_every_proof_verifies_independently(fresh_plazad):
    d = fresh_plazad
    log = Log(d)
    heads = []
    for i in range(12):
        d.register(api="Nz%d" % i)
        heads.append(log.check_head(get(d, "/.plaza/log/head").json()))
    entries = all_entries(d)
    leaves = [leaf_hash(b64(e["leaf_input"])) for e in entries]
    for e in entries:
        # The leaf input is the entry's deterministic CBOR encoding.
        raw = b64(e["leaf_input"])
        assert cbor2.loads(raw) == e["entry"]
        assert cbor2.dumps(e["entry"], canonical=True) == raw
    # Every signed head's root is the tree of its size.
    for h in heads:
        assert b64(h["root_hash"]) == root_of(leaves[:h["tree_size"]])
    # Inclusion of every entry in the newest head, and in older ones.
    for h in (heads[-1], heads[3]):
        size = h["tree_size"]
        for seq in range(size):
            b = get(d, "/.plaza/log/proof", seq=seq, size=size).json()
            assert b["head"] == h
            (ent,) = b["entries"]
            assert ent["seq"] == seq
            assert verify_inclusion(seq, size,
                                    leaf_hash(b64(ent["leaf_input"])),
                                    [b64(p) for p in ent["path"]],
                                    b64(h["root_hash"]))
    # Consistency between every pair of heads seen.
    for i, old in enumerate(heads):
        for new in heads[i:]:
            c = get(d, "/.plaza/log/consistency", **{
                "from": old["tree_size"], "to": new["tree_size"]}).json()
            assert c["head"] == new
            assert verify_consistency(old["tree_size"], new["tree_size"],
                                      [b64(p) for p in c["proof"]],
                                      b64(old["root_hash"]),
                                      b64(new["root_hash"]))
    # A forged signature is caught by this verifier.
    bad = dict(heads[-1], tree_size=heads[-1]["tree_size"] + 1)
    with pytest.raises(InvalidSignature):
        log.check_head(bad)


def test_identity_bundle_proves_its_whole_history(fresh_plazad):
    d = fresh_plazad
    log = Log(d)
    admin_post(d, "/.plaza/ids", {"id": DEV, "ae_id": "Clamp9"})
    admin_post(d, "/.plaza/psk", {"identity": "lamp-9",
                                  "originator": "Clamp9", "key": "0102"})
    d.register(origin="Clamp9", api="Nlamp")
    b = get(d, "/.plaza/log/proof", id="lamp-9").json()
    h = log.check_head(b["head"])
    assert b["record"]["id"] == DEV
    assert [e["seq"] for e in b["entries"]] == \
        [x["seq"] for x in b["record"]["history"]]
    for e in b["entries"]:
        entry = cbor2.loads(b64(e["leaf_input"]))
        assert entry["id"] == DEV and entry["seq"] == e["seq"]
        assert verify_inclusion(e["seq"], h["tree_size"],
                                leaf_hash(b64(e["leaf_input"])),
                                [b64(p) for p in e["path"]],
                                b64(h["root_hash"]))
    assert [cbor2.loads(b64(e["leaf_input"]))["type"]
            for e in b["entries"]] == ["register", "bind-key", "bind-key"]


def test_an_acknowledged_registration_survives_kill9(fresh_plazad):
    d = fresh_plazad
    admin_post(d, "/.plaza/ids", {"id": DEV, "ae_id": "Clamp5"})
    aei, _ = d.register(origin="Clamp5", api="Nlamp")
    size = len(all_entries(d))
    d.kill9()
    d.start()
    rec = get(d, "/.plaza/ids/" + DEV).json()
    assert [h["type"] for h in rec["history"]] == ["register", "bind-key"]
    assert len(all_entries(d)) == size
    assert subprocess.run([PLAZAD, "--data", d.data, "--verify-log"],
                          capture_output=True).returncode == 0


def test_verify_log_without_a_log_creates_nothing(tmp_path):
    data = tmp_path / "none"
    p = subprocess.run([PLAZAD, "--data", str(data), "--verify-log"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "no trust log to verify" in p.stderr
    assert not data.exists()


# --- the CLI ------------------------------------------------------------------

def cli(d, *args, check=True):
    env = dict(os.environ, PLAZA_URL=d.url, PLAZA_DATA=d.data)
    p = subprocess.run([PLAZA] + list(args), capture_output=True, text=True,
                       env=env, timeout=60)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def test_cli_id_and_log(fresh_plazad, tmp_path):
    d = fresh_plazad
    key = os.path.join(d.data, "log.key.pub")
    out = cli(d, "id", "add", "urn:dev:mac:0024BEFFFE804FF2", "--ae-id",
              "Clamp2", "--node-id", "n2").stdout
    assert "urn:dev:mac:0024befffe804ff2 registered" in out
    assert "Clamp2" in cli(d, "id", "show", "n2").stdout
    rec = json.loads(cli(d, "--json", "id", "show", "Clamp2").stdout)
    assert rec["kind"] == "device"
    head = tmp_path / "head.json"
    out = cli(d, "log", "verify", "--key", key, "--save-head",
              str(head)).stdout
    assert "log verified: 3 entries" in out
    cli(d, "id", "revoke", "Clamp2", "--reason", "lost")
    out = cli(d, "log", "verify", "--key", key, "--since", str(head)).stdout
    assert "log verified: 4 entries" in out and "extends" in out
    out = cli(d, "log", "head", "--key", key).stdout
    assert "tree size  4" in out and "signature  valid" in out
    entry = json.loads(cli(d, "log", "get", "3").stdout)
    assert entry["type"] == "revoke" and entry["reason"] == "lost"
    bundle = json.loads(cli(d, "log", "prove", "Clamp2").stdout)
    assert [e["seq"] for e in bundle["entries"]] == [2, 3]
    p = cli(d, "id", "show", "urn:dev:mac:00", check=False)
    assert p.returncode == 1 and "HTTP 400" in p.stderr
    p = cli(d, "log", "get", "77", check=False)
    assert p.returncode == 1 and "HTTP 404" in p.stderr
    # Without --key the key comes from plazad, with a warning.
    p = cli(d, "log", "verify")
    assert "warning" in p.stderr
    # A head from another log is refused.
    other = Plazad().start()
    try:
        p = cli(other, "log", "verify", "--key", key, check=False)
        assert p.returncode == 1 and "another log" in p.stderr
    finally:
        other.cleanup()


# --- tampering with a stopped plazad's database ----------------------------------

def tamper(d, sql, *args):
    d.stop()
    db = sqlite3.connect(os.path.join(d.data, "plaza.db"))
    db.execute(sql, args)
    db.commit()
    db.close()


def verify_log(d):
    return subprocess.run([PLAZAD, "--data", d.data, "--verify-log"],
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def busy_log(fresh_plazad, tmp_path):
    """A log of a dozen entries, a saved head, and the CLI's view."""
    d = fresh_plazad
    for i in range(5):
        d.register(api="Nt%d" % i)
    head = tmp_path / "head.json"
    cli(d, "log", "verify", "--key", os.path.join(d.data, "log.key.pub"),
        "--save-head", str(head))
    assert verify_log(d).returncode == 0
    return d, head


def flip_entry(d, seq):
    db = sqlite3.connect(os.path.join(d.data, "plaza.db"))
    (e,) = db.execute("SELECT entry FROM tlog WHERE seq = ?", (seq,)
                      ).fetchone()
    e = bytearray(e)
    e[len(e) // 2] ^= 1
    db.close()
    tamper(d, "UPDATE tlog SET entry = ? WHERE seq = ?", bytes(e), seq)


def test_tamper_flipped_entry(busy_log):
    d, head = busy_log
    flip_entry(d, 4)
    p = verify_log(d)
    assert p.returncode == 1 and "entry 4" in p.stdout, p.stdout
    # plazad serves it if it starts (the cheap check at start does not
    # read every entry); an auditor catches it.
    d.start()
    p = cli(d, "log", "verify", "--key", os.path.join(d.data,
            "log.key.pub"), "--since", str(head), check=False)
    assert p.returncode == 1 and "entry 4" in p.stderr or \
        "ROOT" in p.stderr, p.stderr


def test_tamper_truncated_log(busy_log):
    d, head = busy_log
    tamper(d, "DELETE FROM tlog WHERE seq >= 9")
    p = verify_log(d)
    assert p.returncode == 1 and "TRUST LOG CHECK FAILED" in p.stdout
    # plazad refuses to start on it, loudly.
    with pytest.raises(RuntimeError) as e:
        d.start()
    assert "DOES NOT MATCH ITS SIGNED HEADS" in str(e.value)
    d.proc = None   # it exited, as it should


def test_tamper_truncated_and_heads_rewritten(busy_log):
    """An operator who truncates the log and drops the heads that cover
    it gets a log consistent with itself; the saved head catches it."""
    d, head = busy_log
    tamper(d, "DELETE FROM tlog WHERE seq >= 9")
    db = sqlite3.connect(os.path.join(d.data, "plaza.db"))
    db.execute("DELETE FROM tlog_head WHERE size > 9")
    (n,) = db.execute("SELECT count(*) FROM tlog_head").fetchone()
    if n:
        (top,) = db.execute("SELECT max(size) FROM tlog_head").fetchone()
        db.execute("UPDATE meta SET v = ? WHERE k = 'tlog.heads'",
                   ("%d %d" % (n, top),))
    else:
        db.execute("DELETE FROM meta WHERE k = 'tlog.heads'")
    db.commit()
    db.close()
    assert verify_log(d).returncode == 0   # self-consistent now
    d.start()
    p = cli(d, "log", "verify", "--key", os.path.join(d.data,
            "log.key.pub"), "--since", str(head), check=False)
    assert p.returncode == 1 and "SHRANK" in p.stderr, p.stderr
    # Appending more does not hide it: the old head is not a prefix.
    for i in range(4):
        d.register(api="Nu%d" % i)
    p = cli(d, "log", "verify", "--key", os.path.join(d.data,
            "log.key.pub"), "--since", str(head), check=False)
    assert p.returncode == 1 and "REWRITTEN" in p.stderr, p.stderr


def test_tamper_reordered_entries(busy_log):
    d, head = busy_log
    db = sqlite3.connect(os.path.join(d.data, "plaza.db"))
    a = db.execute("SELECT entry FROM tlog WHERE seq = 5").fetchone()[0]
    b = db.execute("SELECT entry FROM tlog WHERE seq = 6").fetchone()[0]
    db.close()
    d.stop()
    db = sqlite3.connect(os.path.join(d.data, "plaza.db"))
    db.execute("UPDATE tlog SET entry = ? WHERE seq = 5", (b,))
    db.execute("UPDATE tlog SET entry = ? WHERE seq = 6", (a,))
    db.commit()
    db.close()
    p = verify_log(d)
    assert p.returncode == 1 and "entry 5" in p.stdout, p.stdout
    d.start()
    p = cli(d, "log", "verify", "--key", os.path.join(d.data,
            "log.key.pub"), check=False)
    assert p.returncode == 1 and "own number" in p.stderr, p.stderr
