"""Resource lifecycle against the real plazad: AE registration, container
and contentInstance, limits, latest/oldest, result content (rcn) of every
operation, expiration and the CSEBase's immutability.

Every check asserts exact values (status, X-M2M-RSC, attributes, counters)
as oneM2M TS-0001/TS-0004/TS-0009 and a demanding client expect them.
"""
import datetime
import json
import re
import time
import uuid

import pytest

from conftest import rsc

TS = re.compile(r"^\d{8}T\d{6}(,\d{1,6})?$")


# --- helpers -------------------------------------------------------------

def uniq(prefix):
    return prefix + uuid.uuid4().hex[:10]


def expect(r, status, code):
    """The answer has this HTTP status and oneM2M rsc, echoes X-M2M-RI and,
    for errors, carries a readable m2m:dbg."""
    assert (r.status_code, rsc(r)) == (status, code), \
        "expected %d/%d, got %d/%d: %s" % (status, code, r.status_code,
                                           rsc(r), r.text[:500])
    assert r.headers.get("X-M2M-RI"), "no X-M2M-RI in the answer"
    if code >= 4000:
        dbg = r.json().get("m2m:dbg")
        assert isinstance(dbg, str) and dbg.strip(), r.text
    return r


def ctm(d):
    """The CSE's current time (the CSEBase's ctm)."""
    r = d.get("plaza")
    expect(r, 200, 2000)
    return r.json()["m2m:cb"]["ctm"]


def ts_to_dt(ts):
    return datetime.datetime.strptime(ts[:15], "%Y%m%dT%H%M%S")


def dt_to_ts(dt):
    return dt.strftime("%Y%m%dT%H%M%S")


def wait_server_after(d, ts, seconds=1, deadline=10.0):
    """Poll until the CSE's clock is at least `seconds` past ts."""
    want = dt_to_ts(ts_to_dt(ts) + datetime.timedelta(seconds=seconds))
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if ctm(d) >= want:
            return
        time.sleep(0.05)
    raise AssertionError("the CSE clock did not pass %s" % want)


def new_ae(d, origin="C", **kw):
    rn = kw.pop("rn", None) or uniq("ae")
    aei, body = d.register(rn, origin=origin, **kw)
    return aei, rn


def new_cnt(d, aei, aern, **attrs):
    rn = attrs.pop("rn", None) or uniq("cnt")
    attrs["rn"] = rn
    r = d.create("plaza/%s" % aern, 3, {"m2m:cnt": attrs}, origin=aei)
    expect(r, 201, 2001)
    return "plaza/%s/%s" % (aern, rn), r.json()["m2m:cnt"]


def new_cin(d, aei, path, con, **attrs):
    attrs["con"] = con
    r = d.create(path, 4, {"m2m:cin": attrs}, origin=aei)
    expect(r, 201, 2001)
    return r.json()["m2m:cin"]


def cnt_state(d, path, origin="CAdmin"):
    r = d.get(path, origin)
    expect(r, 200, 2000)
    return r.json()["m2m:cnt"]


def csize(con):
    """contentSize: bytes of a string content, of the compact JSON text
    otherwise."""
    if isinstance(con, str):
        return len(con.encode("utf-8"))
    return len(json.dumps(con, separators=(",", ":"),
                          ensure_ascii=False).encode("utf-8"))


def ae_body(**kw):
    ae = {"api": "Nplaza.test", "rr": True, "srv": ["4"]}
    ae.update(kw)
    return {"m2m:ae": ae}


@pytest.fixture(scope="module")
def ae(plazad):
    """One AE with a container area for the tests that need no special
    AE: (aei, rn)."""
    return new_ae(plazad)


# --- AE registration -----------------------------------------------------

def test_register_cse_assigned_c(plazad):
    rn = uniq("regc")
    r = plazad.create("plaza", 2, ae_body(rn=rn), origin="C", token=False)
    expect(r, 201, 2001)
    ae = r.json()["m2m:ae"]
    assert re.match(r"^C[A-Za-z0-9._~-]+$", ae["aei"]), ae
    assert ae["ri"] == ae["aei"]
    assert ae["rn"] == rn
    assert ae["ty"] == 2
    assert ae["pi"] == "plaza-in"
    assert ae["api"] == "Nplaza.test"
    assert ae["rr"] is True
    assert ae["srv"] == ["4"]
    for k in ("ct", "lt", "et"):
        assert TS.match(ae[k]), (k, ae[k])
    assert ae["ct"] == ae["lt"]
    tok = r.headers.get("X-Plaza-Token")
    assert tok and len(tok) >= 20
    # The credential works, and the AE can read itself.
    plazad.tokens[ae["aei"]] = tok
    g = plazad.get("plaza/" + rn, ae["aei"])
    expect(g, 200, 2000)
    assert g.json()["m2m:ae"]["ri"] == ae["ri"]
    # Content-Location names the new AE.
    loc = r.headers.get("Content-Location")
    assert loc
    g = plazad.get(loc if loc.startswith("/") else "/" + loc, ae["aei"])
    expect(g, 200, 2000)
    assert g.json()["m2m:ae"]["ri"] == ae["ri"]


def test_register_cse_assigned_s(plazad):
    r = plazad.create("plaza", 2, ae_body(rn=uniq("regs")), origin="S",
                      token=False)
    expect(r, 201, 2001)
    ae = r.json()["m2m:ae"]
    assert ae["aei"].startswith("S") and len(ae["aei"]) > 1, ae
    assert ae["ri"] == ae["aei"]


def test_register_requested_id(plazad):
    want = uniq("Creq")
    r = plazad.create("plaza", 2, ae_body(), origin=want, token=False)
    expect(r, 201, 2001)
    ae = r.json()["m2m:ae"]
    assert ae["aei"] == want
    assert ae["ri"] == want
    assert ae["rn"] == want  # no rn given: the AE-ID names it
    assert r.headers.get("X-Plaza-Token")


def test_register_empty_originator(plazad):
    r = plazad.create("plaza", 2, ae_body(rn=uniq("rege")), origin="",
                      token=False)
    expect(r, 201, 2001)
    assert r.json()["m2m:ae"]["aei"].startswith("C")


@pytest.mark.parametrize("origin", ["Xbad", "bad", "C#x", "C x", "S/x",
                                    "Cé"])
def test_register_invalid_originator(plazad, origin):
    r = plazad.request("POST", "plaza", origin=None, raw=json.dumps(
        ae_body(rn=uniq("regi"))), headers={
            "X-M2M-Origin": origin.encode("utf-8"),
            "Content-Type": "application/json;ty=2"}, token=False)
    expect(r, 403, 4107)


@pytest.mark.parametrize("missing", ["api", "rr", "srv"])
def test_register_missing_mandatory(plazad, missing):
    body = ae_body(rn=uniq("regm"))
    del body["m2m:ae"][missing]
    r = plazad.create("plaza", 2, body, origin="C", token=False)
    expect(r, 400, 4000)


@pytest.mark.parametrize("api", ["Xapp", "app", "1app", "", "rapp", "napp"])
def test_register_bad_api(plazad, api):
    r = plazad.create("plaza", 2, ae_body(api=api, rn=uniq("rega")),
                      origin="C", token=False)
    expect(r, 400, 4000)


@pytest.mark.parametrize("attrs", [{"rr": "true"}, {"srv": "4"}, {"srv": []},
                                   {"srv": ["99"]}, {"api": 5},
                                   {"poa": "http://x"}, {"poa": ["nourl"]},
                                   {"aei": "Cmine"}, {"ri": "Cmine"},
                                   {"csz": ["text/html"]}])
def test_register_bad_attribute_values(plazad, attrs):
    r = plazad.create("plaza", 2, ae_body(rn=uniq("regv"), **attrs),
                      origin="C", token=False)
    expect(r, 400, 4000)


def test_register_same_rn_conflict(plazad):
    rn = uniq("dup")
    aei, _ = plazad.register(rn, origin="C")
    r = plazad.create("plaza", 2, ae_body(rn=rn), origin="C", token=False)
    expect(r, 409, 4105)
    # The first registration is untouched.
    g = plazad.get("plaza/" + rn, aei)
    expect(g, 200, 2000)
    assert g.json()["m2m:ae"]["aei"] == aei


def test_register_same_aeid_again(plazad):
    want = uniq("Cagain")
    plazad.register(uniq("first"), origin=want)
    r = plazad.create("plaza", 2, ae_body(rn=uniq("second")), origin=want,
                      token=False)
    expect(r, 403, 4117)
    # Without an rn (the AE-ID would be the name as well) it is 4117 too.
    r = plazad.create("plaza", 2, ae_body(), origin=want, token=False)
    expect(r, 403, 4117)
    # No credential was handed out for the refused registration.
    assert not r.headers.get("X-Plaza-Token")


def test_ae_under_ae(plazad, ae):
    aei, rn = ae
    r = plazad.create("plaza/" + rn, 2, ae_body(rn=uniq("inner")),
                      origin="C", token=False)
    expect(r, 403, 4108)
    r = plazad.create("plaza/" + rn, 2, ae_body(rn=uniq("inner")),
                      origin=aei)
    expect(r, 403, 4108)


@pytest.mark.parametrize("change", [{"ty": 3}, {"pi": "plaza-in"},
                                    {"ri": "Cother"}, {"rn": "renamed"},
                                    {"aei": "Cother"}, {"api": "Nother"},
                                    {"ct": "20200101T000000"},
                                    {"unknownAttr": 1}])
def test_ae_update_forbidden_attributes(plazad, change):
    aei, rn = new_ae(plazad)
    before = plazad.get("plaza/" + rn, aei).json()["m2m:ae"]
    r = plazad.update("plaza/" + rn, {"m2m:ae": change}, origin=aei)
    expect(r, 400, 4000)
    after = plazad.get("plaza/" + rn, aei).json()["m2m:ae"]
    assert after == before


def test_ae_create_unknown_attribute(plazad):
    r = plazad.create("plaza", 2, ae_body(rn=uniq("unk"), foo=1),
                      origin="C", token=False)
    expect(r, 400, 4000)


def test_ae_update_ok(plazad):
    aei, rn = new_ae(plazad)
    r = plazad.update("plaza/" + rn, {"m2m:ae": {"lbl": ["a", "b"],
                                                 "apn": "app name"}},
                      origin=aei)
    expect(r, 200, 2004)
    ae = r.json()["m2m:ae"]
    assert ae["lbl"] == ["a", "b"]
    assert ae["apn"] == "app name"
    assert ae["aei"] == aei and ae["ri"] == aei
    g = plazad.get("plaza/" + rn, aei).json()["m2m:ae"]
    assert g["lbl"] == ["a", "b"] and g["apn"] == "app name"


def test_deregistration(plazad):
    want = uniq("Cdereg")
    aei, _ = plazad.register(uniq("dereg"), origin=want)
    ae = plazad.get(want, aei)  # unstructured: the ri is the AE-ID
    expect(ae, 200, 2000)
    rn = ae.json()["m2m:ae"]["rn"]
    _, cnt = new_cnt(plazad, aei, rn)
    r = plazad.delete("plaza/" + rn, aei)
    expect(r, 200, 2002)
    assert r.content == b""  # rcn defaults to 0 (nothing) for delete
    expect(plazad.get("plaza/" + rn), 404, 4004)
    expect(plazad.get(want), 404, 4004)
    expect(plazad.get(cnt["ri"]), 404, 4004)  # its children went too
    # The credential ended with the registration.
    r = plazad.get("plaza", aei)
    assert r.status_code == 403 and rsc(r) in (4103, 4107), r.text
    # The AE-ID is free again.
    r = plazad.create("plaza", 2, ae_body(rn=rn), origin=want, token=False)
    expect(r, 201, 2001)
    assert r.json()["m2m:ae"]["aei"] == want


def test_other_ae_cannot_delete_or_update(plazad):
    a, arn = new_ae(plazad)
    b, _ = new_ae(plazad)
    expect(plazad.delete("plaza/" + arn, b), 403, 4103)
    expect(plazad.update("plaza/" + arn, {"m2m:ae": {"lbl": ["x"]}}, b),
           403, 4103)
    expect(plazad.get("plaza/" + arn, a), 200, 2000)


# --- container and contentInstance ----------------------------------------

def test_container_create_attributes(plazad, ae):
    aei, aern = ae
    rn = uniq("c")
    r = plazad.create("plaza/" + aern, 3, {"m2m:cnt": {"rn": rn,
                                                       "lbl": ["x/y"],
                                                       "mni": 10}},
                      origin=aei)
    expect(r, 201, 2001)
    c = r.json()["m2m:cnt"]
    assert c["ty"] == 3
    assert c["rn"] == rn
    assert isinstance(c["ri"], str) and c["ri"]
    assert c["pi"] == aei
    assert TS.match(c["ct"]) and TS.match(c["lt"]) and TS.match(c["et"])
    assert c["ct"] == c["lt"]
    assert (c["cni"], c["cbs"], c["st"]) == (0, 0, 0)
    assert c["mni"] == 10
    assert c["lbl"] == ["x/y"]
    loc = r.headers["Content-Location"]
    g = plazad.get("/" + loc.lstrip("/"), aei)
    expect(g, 200, 2000)
    assert g.json()["m2m:cnt"] == plazad.get(
        "plaza/%s/%s" % (aern, rn), aei).json()["m2m:cnt"]
    assert g.json()["m2m:cnt"]["ri"] == c["ri"]


def test_container_without_rn_gets_unique_name(plazad, ae):
    aei, aern = ae
    names = set()
    for _ in range(3):
        r = plazad.create("plaza/" + aern, 3, {"m2m:cnt": {}}, origin=aei)
        expect(r, 201, 2001)
        c = r.json()["m2m:cnt"]
        assert c["rn"]
        names.add(c["rn"])
        expect(plazad.get("plaza/%s/%s" % (aern, c["rn"]), aei), 200, 2000)
    assert len(names) == 3


def test_container_same_name_conflict(plazad, ae):
    aei, aern = ae
    path, c = new_cnt(plazad, aei, aern)
    r = plazad.create("plaza/" + aern, 3, {"m2m:cnt": {"rn": c["rn"]}},
                      origin=aei)
    expect(r, 409, 4105)


def test_cin_lifecycle_counters(plazad, ae):
    aei, aern = ae
    path, c = new_cnt(plazad, aei, aern)
    contents = ["abc", "héllo", {"t": 21, "u": "x"}, ["a", 1, True], "", 7]
    made = []
    cbs = 0
    for i, con in enumerate(contents):
        cin = new_cin(plazad, aei, path, con, cnf="text/plain:0")
        cbs += csize(con)
        assert cin["ty"] == 4
        assert cin["pi"] == c["ri"]
        assert cin["con"] == con
        assert cin["cnf"] == "text/plain:0"
        assert cin["cs"] == csize(con), (con, cin["cs"])
        assert cin["st"] == i + 1
        assert TS.match(cin["ct"]) and TS.match(cin["et"])
        assert cin["ct"] == cin["lt"]
        state = cnt_state(plazad, path, aei)
        assert (state["cni"], state["cbs"], state["st"]) == (i + 1, cbs,
                                                             i + 1)
        assert state["lt"] == cin["ct"]
        made.append(cin)
    # Retrieve each instance by path and by its resource id.
    for cin in made:
        g = plazad.get("%s/%s" % (path, cin["rn"]), aei)
        expect(g, 200, 2000)
        assert g.json()["m2m:cin"] == cin
        expect(plazad.get(cin["ri"], aei), 200, 2000)
    # Delete the second one: counters follow exactly, st does not go back.
    gone = made.pop(1)
    r = plazad.delete("%s/%s" % (path, gone["rn"]), aei)
    expect(r, 200, 2002)
    cbs -= gone["cs"]
    state = cnt_state(plazad, path, aei)
    assert (state["cni"], state["cbs"]) == (len(made), cbs)
    assert state["st"] == len(contents)
    expect(plazad.get(gone["ri"], aei), 404, 4004)
    # A new instance after the delete continues the stateTag.
    cin = new_cin(plazad, aei, path, "zz")
    assert cin["st"] == len(contents) + 1
    state = cnt_state(plazad, path, aei)
    assert (state["cni"], state["cbs"], state["st"]) == (
        len(made) + 1, cbs + 2, len(contents) + 1)


def test_cin_missing_con(plazad, ae):
    aei, aern = ae
    path, _ = new_cnt(plazad, aei, aern)
    expect(plazad.create(path, 4, {"m2m:cin": {"cnf": "text/plain:0"}},
                         origin=aei), 400, 4000)
    expect(plazad.create(path, 4, {"m2m:cin": {"con": "x", "cnf": "plain"}},
                         origin=aei), 400, 4000)
    s = cnt_state(plazad, path, aei)
    assert (s["cni"], s["cbs"], s["st"]) == (0, 0, 0)


def test_cin_under_ae_not_allowed(plazad, ae):
    aei, aern = ae
    expect(plazad.create("plaza/" + aern, 4, {"m2m:cin": {"con": "x"}},
                         origin=aei), 403, 4108)


def test_mni_enforced(plazad, ae):
    aei, aern = ae
    path, _ = new_cnt(plazad, aei, aern, mni=3)
    cins = [new_cin(plazad, aei, path, "v%d" % i) for i in range(5)]
    s = cnt_state(plazad, path, aei)
    assert (s["cni"], s["cbs"], s["st"]) == (3, 6, 5)
    for old in cins[:2]:
        expect(plazad.get(old["ri"], aei), 404, 4004)
    for kept in cins[2:]:
        expect(plazad.get(kept["ri"], aei), 200, 2000)
    assert plazad.get(path + "/ol", aei).json()["m2m:cin"]["ri"] == \
        cins[2]["ri"]
    assert plazad.get(path + "/la", aei).json()["m2m:cin"]["ri"] == \
        cins[4]["ri"]
    # Lowering mni removes the oldest at once.
    r = plazad.update(path, {"m2m:cnt": {"mni": 1}}, origin=aei)
    expect(r, 200, 2004)
    s = cnt_state(plazad, path, aei)
    assert (s["cni"], s["cbs"]) == (1, 2)
    assert s["mni"] == 1
    expect(plazad.get(cins[3]["ri"], aei), 404, 4004)
    expect(plazad.get(cins[4]["ri"], aei), 200, 2000)


def test_mni_zero_keeps_nothing(plazad, ae):
    aei, aern = ae
    path, _ = new_cnt(plazad, aei, aern, mni=0)
    r = plazad.create(path, 4, {"m2m:cin": {"con": "x"}}, origin=aei)
    # Either refused or accepted and removed at once: never kept.
    assert rsc(r) in (2001, 5207), r.text
    s = cnt_state(plazad, path, aei)
    assert (s["cni"], s["cbs"]) == (0, 0)
    expect(plazad.get(path + "/la", aei), 404, 4004)


def test_mbs_enforced(plazad, ae):
    aei, aern = ae
    path, _ = new_cnt(plazad, aei, aern, mbs=10)
    a = new_cin(plazad, aei, path, "aaaa")
    b = new_cin(plazad, aei, path, "bbbb")
    s = cnt_state(plazad, path, aei)
    assert (s["cni"], s["cbs"]) == (2, 8)
    c = new_cin(plazad, aei, path, "cccc")
    s = cnt_state(plazad, path, aei)
    assert (s["cni"], s["cbs"], s["st"]) == (2, 8, 3)
    expect(plazad.get(a["ri"], aei), 404, 4004)
    assert plazad.get(path + "/ol", aei).json()["m2m:cin"]["ri"] == b["ri"]
    # One instance of exactly mbs bytes evicts everything else.
    d = new_cin(plazad, aei, path, "0123456789")
    s = cnt_state(plazad, path, aei)
    assert (s["cni"], s["cbs"]) == (1, 10)
    expect(plazad.get(c["ri"], aei), 404, 4004)
    assert plazad.get(path + "/la", aei).json()["m2m:cin"]["ri"] == d["ri"]
    # Lowering mbs applies at once.
    expect(plazad.update(path, {"m2m:cnt": {"mbs": 5}}, origin=aei), 200,
           2004)
    s = cnt_state(plazad, path, aei)
    assert (s["cni"], s["cbs"]) == (0, 0)


def test_mbs_smaller_than_content(plazad, ae):
    aei, aern = ae
    path, _ = new_cnt(plazad, aei, aern, mbs=5)
    keep = new_cin(plazad, aei, path, "12345")
    before = cnt_state(plazad, path, aei)
    r = plazad.create(path, 4, {"m2m:cin": {"con": "123456"}}, origin=aei)
    expect(r, 406, 5207)
    after = cnt_state(plazad, path, aei)
    assert after == before
    expect(plazad.get(keep["ri"], aei), 200, 2000)


def test_cin_cannot_be_updated(plazad, ae):
    aei, aern = ae
    path, _ = new_cnt(plazad, aei, aern)
    cin = new_cin(plazad, aei, path, "orig")
    for target in ("%s/%s" % (path, cin["rn"]), cin["ri"], path + "/la",
                   path + "/ol"):
        r = plazad.update(target, {"m2m:cin": {"con": "changed"}},
                          origin=aei)
        expect(r, 405, 4005)
    g = plazad.get(cin["ri"], aei).json()["m2m:cin"]
    assert g == cin
    s = cnt_state(plazad, path, aei)
    assert (s["cni"], s["cbs"], s["st"]) == (1, 4, 1)


def test_latest_oldest(plazad, ae):
    aei, aern = ae
    path, _ = new_cnt(plazad, aei, aern)
    cins = [new_cin(plazad, aei, path, "x" * (i + 1)) for i in range(4)]
    la = plazad.get(path + "/la", aei)
    expect(la, 200, 2000)
    assert la.json()["m2m:cin"] == cins[3]
    ol = plazad.get(path + "/ol", aei)
    expect(ol, 200, 2000)
    assert ol.json()["m2m:cin"] == cins[0]
    # Deleting la/ol deletes that instance.
    r = plazad.delete(path + "/la", aei, params={"rcn": "1"})
    expect(r, 200, 2002)
    assert r.json()["m2m:cin"]["ri"] == cins[3]["ri"]
    r = plazad.delete(path + "/ol", aei)
    expect(r, 200, 2002)
    expect(plazad.get(cins[3]["ri"], aei), 404, 4004)
    expect(plazad.get(cins[0]["ri"], aei), 404, 4004)
    s = cnt_state(plazad, path, aei)
    assert (s["cni"], s["cbs"], s["st"]) == (2, 5, 4)
    assert plazad.get(path + "/la", aei).json()["m2m:cin"]["ri"] == \
        cins[2]["ri"]
    assert plazad.get(path + "/ol", aei).json()["m2m:cin"]["ri"] == \
        cins[1]["ri"]
    # la/ol are not children one could create under.
    expect(plazad.create(path + "/la", 4, {"m2m:cin": {"con": "x"}},
                         origin=aei), 405, 4005)


def test_latest_ignores_subcontainers(plazad, ae):
    aei, aern = ae
    path, _ = new_cnt(plazad, aei, aern)
    first = new_cin(plazad, aei, path, "only")
    r = plazad.create(path, 3, {"m2m:cnt": {"rn": "inner"}}, origin=aei)
    expect(r, 201, 2001)
    assert plazad.get(path + "/la", aei).json()["m2m:cin"]["ri"] == \
        first["ri"]
    s = cnt_state(plazad, path, aei)
    assert (s["cni"], s["cbs"]) == (1, 4)


def test_empty_container_latest_oldest(plazad, ae):
    aei, aern = ae
    path, _ = new_cnt(plazad, aei, aern)
    for v in ("la", "ol"):
        expect(plazad.get("%s/%s" % (path, v), aei), 404, 4004)
        expect(plazad.delete("%s/%s" % (path, v), aei), 404, 4004)
    s = cnt_state(plazad, path, aei)
    assert (s["cni"], s["cbs"], s["st"]) == (0, 0, 0)


def test_container_update_st_lt(plazad, ae):
    aei, aern = ae
    path, c = new_cnt(plazad, aei, aern)
    wait_server_after(plazad, c["ct"], 1)
    r = plazad.update(path, {"m2m:cnt": {"lbl": ["u1"]}}, origin=aei)
    expect(r, 200, 2004)
    u = r.json()["m2m:cnt"]
    assert u["st"] == 1
    assert u["lt"] > c["lt"]
    assert u["ct"] == c["ct"]
    assert u["lbl"] == ["u1"]
    r = plazad.update(path, {"m2m:cnt": {"mni": 50}}, origin=aei)
    expect(r, 200, 2004)
    assert r.json()["m2m:cnt"]["st"] == 2
    s = cnt_state(plazad, path, aei)
    assert (s["st"], s["mni"], s["lbl"]) == (2, 50, ["u1"])
    # Removing an optional attribute with null.
    r = plazad.update(path, {"m2m:cnt": {"lbl": None}}, origin=aei)
    expect(r, 200, 2004)
    s = cnt_state(plazad, path, aei)
    assert "lbl" not in s
    assert s["st"] == 3


def test_container_delete_removes_subtree(plazad, ae):
    aei, aern = ae
    path, c = new_cnt(plazad, aei, aern)
    cin = new_cin(plazad, aei, path, "x")
    r = plazad.create(path, 3, {"m2m:cnt": {"rn": "sub"}}, origin=aei)
    expect(r, 201, 2001)
    sub = r.json()["m2m:cnt"]
    sub_cin = new_cin(plazad, aei, path + "/sub", "y")
    expect(plazad.delete(path, aei), 200, 2002)
    for ri in (c["ri"], cin["ri"], sub["ri"], sub_cin["ri"]):
        expect(plazad.get(ri, aei), 404, 4004)
    expect(plazad.get(path, aei), 404, 4004)


# --- result content (rcn) -------------------------------------------------

def _populated(d, aei, aern):
    """A container with two instances and a sub-container holding one."""
    path, c = new_cnt(d, aei, aern)
    i1 = new_cin(d, aei, path, "one", rn="i1")
    i2 = new_cin(d, aei, path, "two", rn="i2")
    r = d.create(path, 3, {"m2m:cnt": {"rn": "sub"}}, origin=aei)
    expect(r, 201, 2001)
    sub = r.json()["m2m:cnt"]
    i3 = new_cin(d, aei, path + "/sub", "three", rn="i3")
    return path, c, (i1, i2, sub, i3)


@pytest.mark.parametrize("rcn", [None, 0, 1, 2, 3])
def test_create_rcn(plazad, ae, rcn):
    aei, aern = ae
    path, _ = new_cnt(plazad, aei, aern)
    params = {"rcn": str(rcn)} if rcn is not None else None
    r = plazad.create(path, 4, {"m2m:cin": {"con": "abc", "rn": "x"}},
                      origin=aei, params=params)
    expect(r, 201, 2001)
    stored = plazad.get(path + "/x", aei).json()["m2m:cin"]
    if rcn == 0:
        assert r.content == b""
    elif rcn in (None, 1):
        assert r.json() == {"m2m:cin": stored}
    elif rcn == 2:
        uri = r.json()["m2m:uri"]
        g = plazad.get("/" + uri.lstrip("/"), aei)
        expect(g, 200, 2000)
        assert g.json()["m2m:cin"]["ri"] == stored["ri"]
        assert list(r.json()) == ["m2m:uri"]
    else:
        rce = r.json()["m2m:rce"]
        assert rce["cin"] == stored
        g = plazad.get("/" + rce["uri"].lstrip("/"), aei)
        assert g.json()["m2m:cin"]["ri"] == stored["ri"]
    s = cnt_state(plazad, path, aei)
    assert (s["cni"], s["cbs"]) == (1, 3)


@pytest.mark.parametrize("rcn", [4, 5, 6, 7, 8, 9, 10, 11, 12])
def test_create_rcn_not_allowed(plazad, ae, rcn):
    aei, aern = ae
    path, _ = new_cnt(plazad, aei, aern)
    r = plazad.create(path, 4, {"m2m:cin": {"con": "abc", "rn": "x"}},
                      origin=aei, params={"rcn": str(rcn)})
    expect(r, 400, 4000)
    expect(plazad.get(path + "/x", aei), 404, 4004)
    s = cnt_state(plazad, path, aei)
    assert (s["cni"], s["cbs"], s["st"]) == (0, 0, 0)


def test_retrieve_rcn_1_and_default(plazad, ae):
    aei, aern = ae
    path, c, _ = _populated(plazad, aei, aern)
    a = plazad.get(path, aei)
    b = plazad.get(path, aei, params={"rcn": "1"})
    expect(a, 200, 2000)
    expect(b, 200, 2000)
    assert a.json() == b.json()
    assert list(a.json()) == ["m2m:cnt"]
    assert "m2m:cin" not in a.json()["m2m:cnt"]
    assert a.json()["m2m:cnt"]["ri"] == c["ri"]


def test_retrieve_rcn_4(plazad, ae):
    aei, aern = ae
    path, c, (i1, i2, sub, i3) = _populated(plazad, aei, aern)
    r = plazad.get(path, aei, params={"rcn": "4"})
    expect(r, 200, 2000)
    top = r.json()["m2m:cnt"]
    assert top["ri"] == c["ri"] and top["cni"] == 2 and top["rn"] == c["rn"]
    assert [x["ri"] for x in top["m2m:cin"]] == [i1["ri"], i2["ri"]]
    assert top["m2m:cin"][0]["con"] == "one"
    assert [x["ri"] for x in top["m2m:cnt"]] == [sub["ri"]]
    nested = top["m2m:cnt"][0]
    assert [x["ri"] for x in nested["m2m:cin"]] == [i3["ri"]]
    # lvl=1 keeps it to the direct children.
    r = plazad.get(path, aei, params={"rcn": "4", "lvl": "1"})
    expect(r, 200, 2000)
    top = r.json()["m2m:cnt"]
    assert "m2m:cin" not in top["m2m:cnt"][0]


def test_retrieve_rcn_8(plazad, ae):
    aei, aern = ae
    path, c, (i1, i2, sub, i3) = _populated(plazad, aei, aern)
    r = plazad.get(path, aei, params={"rcn": "8", "lvl": "1"})
    expect(r, 200, 2000)
    top = r.json()["m2m:cnt"]
    # Only the children, none of the container's own attributes.
    assert set(top) == {"m2m:cin", "m2m:cnt"}, top.keys()
    assert [x["ri"] for x in top["m2m:cin"]] == [i1["ri"], i2["ri"]]
    assert [x["ri"] for x in top["m2m:cnt"]] == [sub["ri"]]
    assert top["m2m:cin"][1] == i2


def _ref_ok(d, aei, ref, want):
    assert ref["nm"] == want["rn"]
    assert ref["typ"] == want["ty"]
    g = d.get("/~" + ref["val"] if ref["val"].startswith("/")
              else ref["val"], aei)
    expect(g, 200, 2000)
    assert list(g.json().values())[0]["ri"] == want["ri"]


def test_retrieve_rcn_5(plazad, ae):
    aei, aern = ae
    path, c, (i1, i2, sub, i3) = _populated(plazad, aei, aern)
    r = plazad.get(path, aei, params={"rcn": "5", "lvl": "1"})
    expect(r, 200, 2000)
    top = r.json()["m2m:cnt"]
    assert top["ri"] == c["ri"] and top["cni"] == 2
    assert "m2m:cin" not in top
    refs = top["ch"]
    assert len(refs) == 3, refs
    for ref, want in zip(refs, (i1, i2, sub)):
        _ref_ok(plazad, aei, ref, want)
    # Without lvl the direct children are there all the same.
    r = plazad.get(path, aei, params={"rcn": "5"})
    names = [x["nm"] for x in r.json()["m2m:cnt"]["ch"]]
    assert {"i1", "i2", "sub"} <= set(names)


def test_retrieve_rcn_6(plazad, ae):
    aei, aern = ae
    path, c, (i1, i2, sub, i3) = _populated(plazad, aei, aern)
    r = plazad.get(path, aei, params={"rcn": "6", "lvl": "1"})
    expect(r, 200, 2000)
    assert list(r.json()) == ["m2m:rrl"]
    refs = r.json()["m2m:rrl"]["rrf"]
    assert len(refs) == 3, refs
    for ref, want in zip(refs, (i1, i2, sub)):
        _ref_ok(plazad, aei, ref, want)


def test_retrieve_rcn_children_only_own(plazad):
    """Children another AE created under an AE's container (it may not) or
    the children of another AE are never listed."""
    a, arn = new_ae(plazad)
    b, brn = new_ae(plazad)
    path, _ = new_cnt(plazad, a, arn)
    new_cin(plazad, a, path, "mine")
    expect(plazad.get(path, b, params={"rcn": "4"}), 403, 4103)
    expect(plazad.get(path, b, params={"rcn": "6"}), 403, 4103)
    expect(plazad.get(path + "/la", b), 403, 4103)


@pytest.mark.parametrize("rcn", [0, 2, 3, 7, 9, 10, 11, 12])
def test_retrieve_rcn_not_allowed(plazad, ae, rcn):
    aei, aern = ae
    path, _ = new_cnt(plazad, aei, aern)
    expect(plazad.get(path, aei, params={"rcn": str(rcn)}), 400, 4000)


@pytest.mark.parametrize("rcn", [None, 0, 1, 9])
def test_update_rcn(plazad, ae, rcn):
    aei, aern = ae
    path, c = new_cnt(plazad, aei, aern, mni=5)
    params = {"rcn": str(rcn)} if rcn is not None else None
    r = plazad.update(path, {"m2m:cnt": {"lbl": ["new"]}}, origin=aei,
                      params=params)
    expect(r, 200, 2004)
    stored = cnt_state(plazad, path, aei)
    assert stored["lbl"] == ["new"] and stored["st"] == 1
    if rcn == 0:
        assert r.content == b""
    elif rcn in (None, 1):
        assert r.json() == {"m2m:cnt": stored}
    else:
        mod = r.json()["m2m:cnt"]
        assert mod["lbl"] == ["new"]
        for k in ("ri", "rn", "pi", "ct", "ty", "mni", "cni", "cbs"):
            assert k not in mod, (k, mod)


@pytest.mark.parametrize("rcn", [2, 3, 4, 5, 6, 7, 8, 10, 11])
def test_update_rcn_not_allowed(plazad, ae, rcn):
    aei, aern = ae
    path, c = new_cnt(plazad, aei, aern)
    r = plazad.update(path, {"m2m:cnt": {"lbl": ["new"]}}, origin=aei,
                      params={"rcn": str(rcn)})
    expect(r, 400, 4000)
    s = cnt_state(plazad, path, aei)
    assert "lbl" not in s and s["st"] == 0 and s["lt"] == c["lt"]


@pytest.mark.parametrize("rcn", [None, 0, 1])
def test_delete_rcn(plazad, ae, rcn):
    aei, aern = ae
    path, c = new_cnt(plazad, aei, aern)
    before = cnt_state(plazad, path, aei)
    params = {"rcn": str(rcn)} if rcn is not None else None
    r = plazad.delete(path, aei, params=params)
    expect(r, 200, 2002)
    if rcn == 1:
        assert r.json() == {"m2m:cnt": before}
    else:
        assert r.content == b""
    expect(plazad.get(path, aei), 404, 4004)


@pytest.mark.parametrize("rcn", [2, 3, 4, 5, 6, 7, 8, 9, 11])
def test_delete_rcn_not_allowed(plazad, ae, rcn):
    aei, aern = ae
    path, c = new_cnt(plazad, aei, aern)
    expect(plazad.delete(path, aei, params={"rcn": str(rcn)}), 400, 4000)
    expect(plazad.get(path, aei), 200, 2000)


# --- expirationTime --------------------------------------------------------

def test_expiration_time_given_and_enforced(plazad, ae):
    aei, aern = ae
    now = ts_to_dt(ctm(plazad))
    et = dt_to_ts(now + datetime.timedelta(seconds=2))
    rn = uniq("exp")
    r = plazad.create("plaza/" + aern, 3, {"m2m:cnt": {"rn": rn, "et": et}},
                      origin=aei)
    expect(r, 201, 2001)
    c = r.json()["m2m:cnt"]
    assert c["et"] == et
    cin = new_cin(plazad, aei, "plaza/%s/%s" % (aern, rn), "x")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        g = plazad.get("plaza/%s/%s" % (aern, rn), aei)
        if g.status_code == 404:
            break
        expect(g, 200, 2000)
        time.sleep(0.1)
    expect(plazad.get("plaza/%s/%s" % (aern, rn), aei), 404, 4004)
    expect(plazad.get(c["ri"], aei), 404, 4004)
    expect(plazad.get(cin["ri"], aei), 404, 4004)


def test_expiration_time_update(plazad, ae):
    aei, aern = ae
    path, c = new_cnt(plazad, aei, aern)
    now = ts_to_dt(ctm(plazad))
    et = dt_to_ts(now + datetime.timedelta(days=2))
    r = plazad.update(path, {"m2m:cnt": {"et": et}}, origin=aei)
    expect(r, 200, 2004)
    assert r.json()["m2m:cnt"]["et"] == et
    assert cnt_state(plazad, path, aei)["et"] == et


@pytest.mark.parametrize("et", ["notatime", "20231301T000000",
                                "20230230T000000", "2023-01-01T00:00:00",
                                "20230101", "", 20300101, None])
def test_expiration_time_invalid(plazad, ae, et):
    aei, aern = ae
    rn = uniq("badet")
    r = plazad.create("plaza/" + aern, 3, {"m2m:cnt": {"rn": rn, "et": et}},
                      origin=aei)
    expect(r, 400, 4000)
    expect(plazad.get("plaza/%s/%s" % (aern, rn), aei), 404, 4004)


def test_expiration_time_past(plazad, ae):
    aei, aern = ae
    past = dt_to_ts(ts_to_dt(ctm(plazad)) - datetime.timedelta(hours=1))
    rn = uniq("pastet")
    r = plazad.create("plaza/" + aern, 3, {"m2m:cnt": {"rn": rn,
                                                       "et": past}},
                      origin=aei)
    expect(r, 400, 4000)
    expect(plazad.get("plaza/%s/%s" % (aern, rn), aei), 404, 4004)
    path, c = new_cnt(plazad, aei, aern)
    expect(plazad.update(path, {"m2m:cnt": {"et": past}}, origin=aei), 400,
           4000)
    assert cnt_state(plazad, path, aei) == c
    expect(plazad.create(path, 4, {"m2m:cin": {"con": "x", "et": past}},
                         origin=aei), 400, 4000)
    s = cnt_state(plazad, path, aei)
    assert (s["cni"], s["st"]) == (0, 0)


# --- the CSEBase -----------------------------------------------------------

def test_csebase_attributes(plazad):
    r = plazad.get("plaza")
    expect(r, 200, 2000)
    cb = r.json()["m2m:cb"]
    assert cb["ty"] == 5
    assert cb["ri"] == "plaza-in"
    assert cb["rn"] == "plaza"
    assert cb["csi"] == "/plaza-in"
    assert cb["cst"] == 1
    assert TS.match(cb["ct"]) and TS.match(cb["ctm"])
    assert {1, 2, 3, 4, 5, 23} <= set(cb["srt"])
    assert "4" in cb["srv"]
    assert "pi" not in cb or cb["pi"] == ""


def test_csebase_cannot_be_updated_or_deleted(plazad):
    before = plazad.get("plaza").json()["m2m:cb"]
    expect(plazad.update("plaza", {"m2m:cb": {"lbl": ["x"]}}), 405, 4005)
    expect(plazad.delete("plaza"), 405, 4005)
    expect(plazad.delete("/~/plaza-in"), 405, 4005)
    expect(plazad.delete("-"), 405, 4005)
    aei, _ = new_ae(plazad)
    r = plazad.delete("plaza", aei)
    assert r.status_code in (403, 405) and rsc(r) in (4103, 4005), r.text
    after = plazad.get("plaza").json()["m2m:cb"]
    before.pop("ctm")
    after.pop("ctm")
    assert after == before
    assert plazad.alive()


# --- response headers --------------------------------------------------------

def test_response_headers(plazad, ae):
    """X-M2M-RSC on every answer, X-M2M-RI echoed exactly, X-M2M-RVI,
    JSON content type; for successes and for refusals."""
    aei, aern = ae
    path, _ = new_cnt(plazad, aei, aern)
    rqi = "rqi-" + uuid.uuid4().hex
    cases = [
        plazad.get(path, aei, headers={"X-M2M-RI": rqi}),
        plazad.create(path, 4, {"m2m:cin": {"con": "x"}}, origin=aei,
                      headers={"X-M2M-RI": rqi}),
        plazad.update(path, {"m2m:cnt": {"lbl": ["h"]}}, origin=aei,
                      headers={"X-M2M-RI": rqi}),
        plazad.get(path + "/nosuch", aei, headers={"X-M2M-RI": rqi}),
        plazad.create(path, 4, {"m2m:cin": {}}, origin=aei,
                      headers={"X-M2M-RI": rqi}),
        plazad.get(path, aei, headers={"X-M2M-RI": rqi,
                                       "Accept": "application/xml"}),
        plazad.get(path, aei, headers={"X-M2M-RI": rqi},
                   params={"rcn": "x"}),
    ]
    for r in cases:
        assert r.headers.get("X-M2M-RI") == rqi, (r.status_code, r.headers)
        assert r.headers.get("X-M2M-RSC", "").isdigit(), r.headers
        assert r.headers.get("X-M2M-RVI") == "4", r.headers
        if r.content:
            assert r.headers["Content-Type"].startswith("application/") \
                and "json" in r.headers["Content-Type"], r.headers
            r.json()
    assert [rsc(r) for r in cases] == [2000, 2001, 2004, 4004, 4000, 5207,
                                       4000]
    assert [r.status_code for r in cases] == [200, 201, 200, 404, 400, 406,
                                              400]
    assert "Content-Location" in cases[1].headers
    for r in cases:
        if r is not cases[1]:
            assert "Content-Location" not in r.headers
