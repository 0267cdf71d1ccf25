"""Authentication of originators over HTTP: credentials issued at
registration (Bearer and Basic), refusal without or with a wrong credential
(4107 / 4103), originator spoofing, credential lifetime, the compatibility
mode that believes X-M2M-Origin, and the registration settings."""
import base64
import os
import stat

import pytest

from conftest import rsc


def ae_body(**kw):
    ae = {"api": "Nauth.test", "rr": True, "srv": ["4"]}
    ae.update(kw)
    return {"m2m:ae": ae}


def raw(d, method, path, origin, body=None, ty=None, auth=None,
        params=None):
    """A request with exactly the credential given (none if auth is None)."""
    h = {"Authorization": auth}
    return d.request(method, path, origin, body=body, ty=ty, token=False,
                     headers=h, params=params)


def basic(aei, token):
    return "Basic " + base64.b64encode(
        ("%s:%s" % (aei, token)).encode()).decode()


@pytest.fixture(scope="module")
def world(plazad):
    """Two AEs; A owns a container with an instance."""
    a, _ = plazad.register("authA", origin="CauthA")
    b, _ = plazad.register("authB", origin="CauthB")
    r = plazad.create("plaza/authA", 3, {"m2m:cnt": {"rn": "box"}}, origin=a)
    assert r.status_code == 201, r.text
    r = plazad.create("plaza/authA/box", 4, {"m2m:cin": {"con": "x"}},
                      origin=a)
    assert r.status_code == 201, r.text
    return a, b


# --- registration hands out a credential ----------------------------------

def test_registration_issues_token_once(plazad):
    r = plazad.create("plaza", 2, ae_body(rn="tok1"), origin="Ctok1",
                      token=False)
    assert r.status_code == 201, r.text
    assert rsc(r) == 2001
    assert r.json()["m2m:ae"]["aei"] == "Ctok1"
    tok = r.headers.get("X-Plaza-Token")
    assert tok and len(tok) >= 32
    # the secret is never shown again, not even to its owner
    r = raw(plazad, "GET", "plaza/tok1", "Ctok1", auth="Bearer " + tok)
    assert r.status_code == 200, r.text
    assert "X-Plaza-Token" not in r.headers
    assert tok not in r.text


def test_c_registration_gets_assigned_id(plazad):
    r = plazad.create("plaza", 2, ae_body(), origin="C", token=False)
    assert r.status_code == 201, r.text
    aei = r.json()["m2m:ae"]["aei"]
    assert aei.startswith("C") and len(aei) > 1
    tok = r.headers["X-Plaza-Token"]
    r = raw(plazad, "GET", "plaza/" + aei, aei, auth="Bearer " + tok)
    assert r.status_code == 200, r.text
    assert r.json()["m2m:ae"]["aei"] == aei


def test_s_registration_gets_s_id(plazad):
    r = plazad.create("plaza", 2, ae_body(), origin="S", token=False)
    assert r.status_code == 201, r.text
    aei = r.json()["m2m:ae"]["aei"]
    assert aei.startswith("S") and len(aei) > 1
    assert r.headers.get("X-Plaza-Token")


def test_admin_token_file_is_private(plazad):
    st = os.stat(os.path.join(plazad.data, "admin.token"))
    assert stat.S_IMODE(st.st_mode) & 0o077 == 0, oct(st.st_mode)


def test_registering_a_taken_ae_id_is_refused(plazad):
    plazad.register("taken", origin="Ctaken")
    r = plazad.create("plaza", 2, ae_body(rn="taken2"), origin="Ctaken",
                      token=False)
    assert rsc(r) == 4117, r.text
    assert r.status_code == 403
    assert "X-Plaza-Token" not in r.headers


# --- no credential: 4107 for every operation -------------------------------

@pytest.mark.parametrize("method,path,ty,body", [
    ("GET", "plaza", None, None),
    ("GET", "plaza/authA/box", None, None),
    ("GET", "plaza/authA/box/la", None, None),
    ("POST", "plaza/authA", 3, {"m2m:cnt": {"rn": "nocred"}}),
    ("POST", "plaza/authA/box", 4, {"m2m:cin": {"con": "nocred"}}),
    ("PUT", "plaza/authA/box", None, {"m2m:cnt": {"lbl": ["nocred"]}}),
    ("DELETE", "plaza/authA/box", None, None),
])
def test_no_credential_is_4107(plazad, world, method, path, ty, body):
    a, _ = world
    before = plazad.get("plaza/authA/box").json()["m2m:cnt"]
    r = raw(plazad, method, path, a, body=body, ty=ty)
    assert rsc(r) == 4107, r.text
    assert r.status_code == 403
    assert "m2m:dbg" in r.json()
    # nothing happened
    r = plazad.get("plaza/authA/box")
    assert r.status_code == 200
    after = r.json()["m2m:cnt"]
    assert after.get("lbl") == before.get("lbl")
    assert after["cni"] == before["cni"]
    assert after["st"] == before["st"]
    assert plazad.get("plaza/authA/nocred").status_code == 404


def test_discovery_without_credential_is_4107(plazad, world):
    a, _ = world
    r = raw(plazad, "GET", "plaza", a, params={"fu": "1"})
    assert rsc(r) == 4107, r.text


def test_admin_without_credential_is_4107(plazad):
    r = raw(plazad, "GET", "plaza", "CAdmin")
    assert rsc(r) == 4107, r.text


# --- wrong credentials -----------------------------------------------------

def test_wrong_token_is_4103(plazad, world):
    a, _ = world
    good = plazad.tokens[a]
    bad = good[:-1] + ("A" if good[-1] != "A" else "B")
    for auth in ("Bearer " + bad, "Bearer x", basic(a, bad)):
        r = raw(plazad, "GET", "plaza/authA/box", a, auth=auth)
        assert rsc(r) == 4103, (auth, r.text)
        assert r.status_code == 403


def test_wrong_token_cannot_write(plazad, world):
    a, _ = world
    r = raw(plazad, "POST", "plaza/authA/box", a, ty=4,
            body={"m2m:cin": {"con": "forged"}}, auth="Bearer nottheone")
    assert rsc(r) == 4103, r.text
    assert plazad.get("plaza/authA/box").json()["m2m:cnt"]["cni"] == 1


def test_malformed_authorization_is_refused(plazad, world):
    a, _ = world
    for auth in ("Token abc", "Basic !!!notbase64", "Bearer ",
                 basic(a, "")[:-2]):
        r = raw(plazad, "GET", "plaza/authA/box", a, auth=auth)
        assert rsc(r) in (4103, 4000), (auth, r.text)
        assert r.status_code in (400, 403)


def test_admin_token_does_not_work_for_other_originators(plazad, world):
    a, _ = world
    r = raw(plazad, "GET", "plaza/authA/box", a,
            auth="Bearer " + plazad.tokens["CAdmin"])
    assert rsc(r) == 4103, r.text


# --- Basic ---------------------------------------------------------------

def test_basic_auth_works(plazad, world):
    a, _ = world
    tok = plazad.tokens[a]
    r = raw(plazad, "GET", "plaza/authA/box", a, auth=basic(a, tok))
    assert r.status_code == 200, r.text
    assert rsc(r) == 2000
    assert r.json()["m2m:cnt"]["rn"] == "box"
    # X-M2M-Origin stays mandatory (TS-0009), even with Basic
    r = plazad.request("GET", "plaza/authA/box", None, token=False,
                       headers={"Authorization": basic(a, tok)})
    assert rsc(r) == 4000, r.text
    # Basic can write too, and the creator is the credential's AE
    r = raw(plazad, "POST", "plaza/authA/box", a, ty=4,
            body={"m2m:cin": {"con": "basic", "cr": None}},
            auth=basic(a, tok))
    assert r.status_code == 201, r.text
    assert r.json()["m2m:cin"]["cr"] == a


def test_basic_auth_for_other_identity_with_origin_mismatch(plazad, world):
    a, b = world
    # B's valid Basic credential, but claiming to be A
    r = raw(plazad, "GET", "plaza/authB", a, auth=basic(b, plazad.tokens[b]))
    assert rsc(r) == 4103, r.text


def test_basic_with_someone_elses_token_is_4103(plazad, world):
    a, b = world
    r = raw(plazad, "GET", "plaza/authA/box", a,
            auth=basic(a, plazad.tokens[b]))
    assert rsc(r) == 4103, r.text


# --- originator must match the credential ----------------------------------

def test_origin_mismatch_is_4103(plazad, world):
    a, b = world
    # B presents its own valid token but claims to be A
    r = raw(plazad, "GET", "plaza/authA/box", a,
            auth="Bearer " + plazad.tokens[b])
    assert rsc(r) == 4103, r.text
    assert r.status_code == 403
    r = raw(plazad, "DELETE", "plaza/authA/box", a,
            auth="Bearer " + plazad.tokens[b])
    assert rsc(r) == 4103, r.text
    assert plazad.get("plaza/authA/box").status_code == 200
    # claiming to be the admin does not help either
    r = raw(plazad, "GET", "plaza/authA/box", "CAdmin",
            auth="Bearer " + plazad.tokens[b])
    assert rsc(r) == 4103, r.text


def test_sp_relative_origin_names_the_same_ae(plazad, world):
    a, _ = world
    r = raw(plazad, "GET", "plaza/authA/box", "/plaza-in/" + a,
            auth="Bearer " + plazad.tokens[a])
    assert r.status_code == 200, r.text


# --- credential lifetime ----------------------------------------------------

def test_credential_dies_with_the_ae(plazad):
    aei, _ = plazad.register("mortal", origin="Cmortal")
    tok = plazad.tokens[aei]
    assert plazad.get("plaza/mortal", aei).status_code == 200
    r = plazad.delete("plaza/mortal", aei)
    assert r.status_code == 200, r.text
    assert rsc(r) == 2002
    for auth in ("Bearer " + tok, basic(aei, tok)):
        r = raw(plazad, "GET", "plaza", aei, auth=auth)
        assert rsc(r) == 4103, r.text
        r = raw(plazad, "POST", "plaza", aei, ty=3, auth=auth,
                body={"m2m:cnt": {"rn": "ghost"}})
        assert rsc(r) == 4103, r.text
    # registering again yields a new credential; the old one stays dead
    r = plazad.create("plaza", 2, ae_body(rn="mortal"), origin="Cmortal",
                      token=False)
    assert r.status_code == 201, r.text
    new = r.headers["X-Plaza-Token"]
    assert new != tok
    r = raw(plazad, "GET", "plaza/mortal", aei, auth="Bearer " + tok)
    assert rsc(r) == 4103, r.text
    r = raw(plazad, "GET", "plaza/mortal", aei, auth="Bearer " + new)
    assert r.status_code == 200, r.text


def test_admin_deleting_ae_ends_its_credential(plazad):
    aei, _ = plazad.register("evicted", origin="Cevicted")
    r = plazad.delete("plaza/evicted")
    assert r.status_code == 200, r.text
    r = raw(plazad, "GET", "plaza", aei,
            auth="Bearer " + plazad.tokens[aei])
    assert rsc(r) == 4103, r.text


# --- one AE cannot use another's resources ------------------------------

def test_other_ae_cannot_touch_resources_without_acp(plazad, world):
    a, b = world
    cases = [
        ("GET", "plaza/authA", None, None),
        ("GET", "plaza/authA/box", None, None),
        ("GET", "plaza/authA/box/la", None, None),
        ("GET", "plaza/authA/box/ol", None, None),
        ("POST", "plaza/authA", 3, {"m2m:cnt": {"rn": "intruder"}}),
        ("POST", "plaza/authA/box", 4, {"m2m:cin": {"con": "intruder"}}),
        ("POST", "plaza/authA/box", 23,
         {"m2m:sub": {"nu": [b], "enc": {"net": [3]}}}),
        ("PUT", "plaza/authA", None, {"m2m:ae": {"lbl": ["owned"]}}),
        ("PUT", "plaza/authA/box", None, {"m2m:cnt": {"lbl": ["owned"]}}),
        ("DELETE", "plaza/authA/box/la", None, None),
        ("DELETE", "plaza/authA/box", None, None),
        ("DELETE", "plaza/authA", None, None),
    ]
    for method, path, ty, body in cases:
        r = plazad.request(method, path, b, body=body, ty=ty)
        want = 4103
        assert rsc(r) == want, (method, path, r.text)
        assert r.status_code == 403
    box = plazad.get("plaza/authA/box").json()["m2m:cnt"]
    assert box["cni"] >= 1 and "lbl" not in box
    assert plazad.get("plaza/authA/intruder").status_code == 404
    assert "lbl" not in plazad.get("plaza/authA").json()["m2m:ae"]


def test_other_ae_cannot_read_instance_by_id(plazad, world):
    a, b = world
    cin = plazad.get("plaza/authA/box/la", a).json()["m2m:cin"]
    r = plazad.get(cin["ri"], b)
    assert rsc(r) == 4103, r.text
    r = plazad.get("/~/plaza-in/" + cin["ri"], b)
    assert rsc(r) == 4103, r.text
    assert plazad.get(cin["ri"], a).status_code == 200


def test_registered_ae_may_retrieve_cse_base(plazad, world):
    _, b = world
    r = plazad.get("plaza", b)
    assert r.status_code == 200, r.text
    assert r.json()["m2m:cb"]["csi"] == "/plaza-in"
    # ... but not update or delete it
    r = plazad.delete("plaza", b)
    assert rsc(r) in (4103, 4005), r.text
    assert plazad.get("plaza").status_code == 200


def test_admin_may_do_everything(plazad, world):
    r = plazad.get("plaza/authA/box")
    assert r.status_code == 200
    r = plazad.create("plaza/authA", 3, {"m2m:cnt": {"rn": "byadmin"}})
    assert r.status_code == 201, r.text
    r = plazad.update("plaza/authA/byadmin", {"m2m:cnt": {"lbl": ["a"]}})
    assert r.status_code == 200 and rsc(r) == 2004, r.text
    r = plazad.delete("plaza/authA/byadmin")
    assert rsc(r) == 2002, r.text


# --- compatibility mode ----------------------------------------------------

def test_trust_origin_believes_x_m2m_origin(plazad_factory):
    d = plazad_factory(trust_origin=True)
    r = d.create("plaza", 2, ae_body(rn="trusty"), origin="Ctrusty",
                 token=False)
    assert r.status_code == 201, r.text
    assert r.json()["m2m:ae"]["aei"] == "Ctrusty"
    assert "X-Plaza-Token" not in r.headers
    r = d.create("plaza/trusty", 3, {"m2m:cnt": {"rn": "c"}},
                 origin="Ctrusty", token=False)
    assert r.status_code == 201, r.text
    r = d.get("plaza/trusty/c", "Ctrusty", token=False)
    assert r.status_code == 200, r.text
    # X-M2M-Origin alone decides: another originator is another AE ...
    r = d.get("plaza/trusty/c", "Cstranger", token=False)
    assert rsc(r) == 4103, r.text
    # ... and the admin originator is the admin
    r = d.get("plaza/trusty/c", "CAdmin", token=False)
    assert r.status_code == 200, r.text
    # a missing originator is still a bad request
    r = d.request("GET", "plaza/trusty/c", None, token=False)
    assert rsc(r) == 4000, r.text


# --- registration settings ----------------------------------------------

def test_closed_registration(plazad_factory):
    d = plazad_factory(args=["--set", "registration.open=false"])
    for origin in ("C", "Cclosed", "S"):
        r = d.create("plaza", 2, ae_body(), origin=origin, token=False)
        assert rsc(r) == 4107, (origin, r.text)
        assert r.status_code == 403
        assert "X-Plaza-Token" not in r.headers
    # nothing was registered
    r = d.get("plaza", params={"fu": "1", "ty": "2"})
    assert r.status_code == 200, r.text
    assert r.json().get("m2m:uril", []) == []
    # the admin can still create AEs, which get their own credential
    r = d.create("plaza", 2, ae_body(rn="provisioned"))
    assert r.status_code == 201, r.text
    aei = r.json()["m2m:ae"]["aei"]
    tok = r.headers.get("X-Plaza-Token")
    assert tok, "an AE created by the admin needs a credential to act"
    r = raw(d, "GET", "plaza/provisioned", aei, auth="Bearer " + tok)
    assert r.status_code == 200, r.text
    r = raw(d, "POST", "plaza/provisioned", aei, ty=3,
            body={"m2m:cnt": {"rn": "c"}}, auth="Bearer " + tok)
    assert r.status_code == 201, r.text


def test_registration_allowed_patterns(plazad_factory):
    d = plazad_factory(args=["--set", "registration.allowed=Cgood* Sfab?"])
    r = d.create("plaza", 2, ae_body(), origin="Cgood1", token=False)
    assert r.status_code == 201, r.text
    assert r.json()["m2m:ae"]["aei"] == "Cgood1"
    r = d.create("plaza", 2, ae_body(), origin="Sfab1", token=False)
    assert r.status_code == 201, r.text
    assert r.json()["m2m:ae"]["aei"] == "Sfab1"
    for origin in ("Cbad1", "Sfab12", "Cgoo"):
        r = d.create("plaza", 2, ae_body(), origin=origin, token=False)
        assert rsc(r) == 4103, (origin, r.text)
        assert "X-Plaza-Token" not in r.headers
        assert d.get("plaza/" + origin).status_code == 404
