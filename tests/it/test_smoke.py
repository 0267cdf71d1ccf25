"""The smallest end-to-end walk: the daemon starts, answers, registers."""
from conftest import rsc


def test_cse_base(plazad):
    r = plazad.get("plaza")
    assert r.status_code == 200
    assert rsc(r) == 2000
    cb = r.json()["m2m:cb"]
    assert cb["csi"] == "/plaza-in"
    assert cb["rn"] == "plaza"


def test_register_and_post(plazad):
    aei, _ = plazad.register("smoke")
    r = plazad.create("plaza/smoke", 3, {"m2m:cnt": {"rn": "t"}}, origin=aei)
    assert r.status_code == 201, r.text
    r = plazad.create("plaza/smoke/t", 4, {"m2m:cin": {"con": "21.5"}},
                      origin=aei)
    assert r.status_code == 201, r.text
    r = plazad.get("plaza/smoke/t/la", origin=aei)
    assert r.status_code == 200
    assert r.json()["m2m:cin"]["con"] == "21.5"
