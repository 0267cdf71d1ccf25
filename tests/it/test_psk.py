"""DTLS pre-shared keys: plazad's management interface and `plaza psk`."""
import json
import subprocess

import requests

from conftest import PLAZA


def mgmt(d, method, path, body=None, token=None):
    h = {"Authorization": "Bearer " + (token or d.tokens["CAdmin"])}
    return requests.request(method, d.url + path, headers=h,
                            data=json.dumps(body) if body is not None
                            else None, timeout=10)


def plaza(d, *args):
    return subprocess.run([PLAZA, "--url", d.url, "--data", d.data] +
                          list(args), capture_output=True, text=True,
                          timeout=20)


def test_add_list_delete(plazad):
    r = mgmt(plazad, "POST", "/.plaza/psk",
             {"identity": "dev-aa01", "originator": "Caa01",
              "key": "00112233445566778899aabbccddeeff"})
    assert r.status_code == 201, r.text
    assert r.json() == {"identity": "dev-aa01", "originator": "Caa01"}
    listed = mgmt(plazad, "GET", "/.plaza/psk").json()["psk"]
    row = [x for x in listed if x["identity"] == "dev-aa01"]
    assert row and row[0]["originator"] == "Caa01"
    assert "key" not in row[0]
    assert "00112233" not in json.dumps(listed)
    assert mgmt(plazad, "DELETE", "/.plaza/psk/dev-aa01").status_code == 200
    assert mgmt(plazad, "DELETE", "/.plaza/psk/dev-aa01").status_code == 404


def test_generated_key_is_shown_once(plazad):
    r = mgmt(plazad, "POST", "/.plaza/psk", {"identity": "Cgen1"})
    assert r.status_code == 201
    key = r.json()["key"]
    assert len(key) == 32 and int(key, 16) >= 0
    assert r.json()["originator"] == "Cgen1"
    assert key not in mgmt(plazad, "GET", "/.plaza/psk").text


def test_replacing_a_key(plazad):
    for k in ("aa" * 16, "bb" * 32):
        r = mgmt(plazad, "POST", "/.plaza/psk",
                 {"identity": "Crepl", "key": k})
        assert r.status_code == 201
    rows = [x for x in mgmt(plazad, "GET", "/.plaza/psk").json()["psk"]
            if x["identity"] == "Crepl"]
    assert len(rows) == 1


def test_only_the_admin(plazad):
    aei, _ = plazad.register("pskae")
    for tok in (None, "wrong", plazad.tokens[aei]):
        h = {"Authorization": "Bearer " + tok} if tok else {}
        r = requests.get(plazad.url + "/.plaza/psk", headers=h, timeout=10)
        assert r.status_code == 401
        assert "admin" in r.json()["error"]


def test_bad_requests(plazad):
    cases = [
        ({"identity": "has space", "key": "00"}, 400),
        ({"identity": "x" * 129, "key": "00"}, 400),
        ({"identity": "ok1", "key": "0"}, 400),
        ({"identity": "ok1", "key": "zz"}, 400),
        ({"identity": "ok1", "key": "00" * 65}, 400),
        ({"identity": "ok1", "key": 12}, 400),
        ({"key": "00"}, 400),
        ({"identity": "ok1", "originator": "bad orig"}, 400),
    ]
    for body, status in cases:
        r = mgmt(plazad, "POST", "/.plaza/psk", body)
        assert r.status_code == status, (body, r.text)
        assert r.json()["error"]
    r = requests.post(plazad.url + "/.plaza/psk", data="{not json",
                      headers={"Authorization": "Bearer " +
                               plazad.tokens["CAdmin"]}, timeout=10)
    assert r.status_code == 400
    assert mgmt(plazad, "GET", "/.plaza/nothing").status_code == 404
    assert mgmt(plazad, "PUT", "/.plaza/psk").status_code == 404
    assert plazad.alive()


def test_stats(plazad):
    r = mgmt(plazad, "GET", "/.plaza/stats")
    assert r.status_code == 200
    st = r.json()
    assert st["requests"] >= 1 and "batches" in st and "started" in st


def test_cli(plazad):
    out = plaza(plazad, "psk", "add", "Ccli1")
    assert out.returncode == 0, out.stderr
    key = [l.split()[1] for l in out.stdout.splitlines()
           if l.startswith("key ")]
    assert len(key) == 1 and len(key[0]) == 32
    out = plaza(plazad, "psk", "add", "gba-cli", "--originator", "Ccli2",
                "--key", "ab" * 16)
    assert out.returncode == 0 and "key " not in out.stdout
    out = plaza(plazad, "psk", "list")
    assert out.returncode == 0
    assert "Ccli1" in out.stdout and "gba-cli" in out.stdout
    assert key[0] not in out.stdout and "ab" * 16 not in out.stdout
    out = plaza(plazad, "--json", "psk", "list")
    ids = [x["identity"] for x in json.loads(out.stdout)["psk"]]
    assert "gba-cli" in ids
    out = plaza(plazad, "psk", "revoke", "gba-cli")
    assert out.returncode == 0
    out = plaza(plazad, "psk", "revoke", "gba-cli")
    assert out.returncode == 1 and "no such identity" in out.stderr
    assert plaza(plazad, "psk").returncode == 2
    assert plaza(plazad, "psk", "add").returncode == 2
    out = plaza(plazad, "--token", "nope", "psk", "list")
    assert out.returncode == 1 and "admin" in out.stderr


def test_cli_identity_with_reserved_characters(plazad):
    """An identity with '/', '+', '%' and '@' goes through plaza psk
    revoke as one path segment, encoded once."""
    ident = "dev/7+x%y@z"
    p = plaza(plazad, "psk", "add", ident, "--originator", "Cres7")
    assert p.returncode == 0, p.stderr
    assert ident in plaza(plazad, "psk", "list").stdout
    p = plaza(plazad, "psk", "revoke", ident)
    assert p.returncode == 0, p.stderr
    assert ident not in plaza(plazad, "psk", "list").stdout
    p = plaza(plazad, "psk", "revoke", ident)
    assert p.returncode == 1 and "no such identity" in p.stderr
