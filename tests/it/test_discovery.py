"""Discovery (Retrieve with fu=1, TS-0001 10.2.6 / TS-0004 7.3.3.17):
every filter criterion, lim/ofst/lvl, fo=2, drt, and access: an originator
only finds what it may discover, and never the target itself.
"""
import datetime
import time
import uuid

import pytest

from conftest import rsc

CSI = "plaza-in"


def uniq(prefix):
    return prefix + uuid.uuid4().hex[:10]


def expect(r, status, code):
    assert (r.status_code, rsc(r)) == (status, code), \
        "expected %d/%d, got %d/%d: %s" % (status, code, r.status_code,
                                           rsc(r), r.text[:500])
    if code >= 4000:
        dbg = r.json().get("m2m:dbg")
        assert isinstance(dbg, str) and dbg.strip(), r.text
    return r


def disc(d, target, origin, **params):
    """Discover below target; the list of addresses (m2m:uril)."""
    p = [("fu", "1")]
    for k, v in params.items():
        if isinstance(v, (list, tuple)):
            p.extend((k, str(x)) for x in v)
        else:
            p.append((k, str(v)))
    r = d.get(target, origin, params=p)
    expect(r, 200, 2000)
    body = r.json()
    assert list(body) == ["m2m:uril"], body
    uril = body["m2m:uril"]
    assert isinstance(uril, list)
    assert len(uril) == len(set(uril)), "duplicates in %r" % uril
    return uril


def ctm(d):
    return d.get("plaza").json()["m2m:cb"]["ctm"]


def shift(ts, seconds):
    dt = datetime.datetime.strptime(ts[:15], "%Y%m%dT%H%M%S")
    return (dt + datetime.timedelta(seconds=seconds)).strftime(
        "%Y%m%dT%H%M%S")


def wait_server_at(d, ts, deadline=10.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if ctm(d) >= ts:
            return
        time.sleep(0.05)
    raise AssertionError("the CSE clock did not reach %s" % ts)


@pytest.fixture(scope="module")
def world(plazad):
    """AE A with:
         temp (lbl city/room1, kind/temp)  cins t1 "1", t2 "22", t3 "333"
                                           (text/plain:0), tj (application/json)
           sub (lbl kind/sub)
         hum (lbl kind/hum)
       AE B with secret (lbl kind/temp) and a cin in it."""
    d = plazad
    w = {}
    a_rn, b_rn = uniq("discA"), uniq("discB")
    a, _ = d.register(a_rn, origin=uniq("CdiscA"))
    b, _ = d.register(b_rn, origin=uniq("CdiscB"))
    w.update(a=a, b=b, a_rn=a_rn, b_rn=b_rn)

    def mk(path, ty, body, origin):
        r = d.create(path, ty, body, origin=origin)
        expect(r, 201, 2001)
        return list(r.json().values())[0]

    A = "plaza/" + a_rn
    w["temp"] = mk(A, 3, {"m2m:cnt": {"rn": "temp", "lbl": [
        "city/room1", "kind/temp"]}}, a)
    w["t1"] = mk(A + "/temp", 4, {"m2m:cin": {"rn": "t1", "con": "1",
                                              "cnf": "text/plain:0"}}, a)
    w["t2"] = mk(A + "/temp", 4, {"m2m:cin": {"rn": "t2", "con": "22",
                                              "cnf": "text/plain:0"}}, a)
    w["t3"] = mk(A + "/temp", 4, {"m2m:cin": {"rn": "t3", "con": "333",
                                              "cnf": "text/plain:0"}}, a)
    w["tj"] = mk(A + "/temp", 4, {"m2m:cin": {
        "rn": "tj", "con": {"v": 1}, "cnf": "application/json"}}, a)
    w["sub"] = mk(A + "/temp", 3, {"m2m:cnt": {"rn": "sub",
                                               "lbl": ["kind/sub"]}}, a)
    w["hum"] = mk(A, 3, {"m2m:cnt": {"rn": "hum", "lbl": ["kind/hum"]}}, a)
    B = "plaza/" + b_rn
    w["secret"] = mk(B, 3, {"m2m:cnt": {"rn": "secret",
                                        "lbl": ["kind/temp"]}}, b)
    w["s1"] = mk(B + "/secret", 4, {"m2m:cin": {"rn": "s1", "con": "x",
                                                "cnf": "text/plain:0"}}, b)
    # Structured CSE-relative addresses, as drt=1 answers them.
    p = {
        "A": A, "temp": A + "/temp", "t1": A + "/temp/t1",
        "t2": A + "/temp/t2", "t3": A + "/temp/t3", "tj": A + "/temp/tj",
        "sub": A + "/temp/sub", "hum": A + "/hum", "B": B,
        "secret": B + "/secret", "s1": B + "/secret/s1"}
    w["p"] = p
    return w


def paths(w, *names):
    return {w["p"][n] for n in names}


# --- type, labels -----------------------------------------------------------

def test_ty(plazad, world):
    w = world
    got = disc(plazad, w["p"]["A"], w["a"], ty=3)
    assert set(got) == paths(w, "temp", "sub", "hum")
    got = disc(plazad, w["p"]["A"], w["a"], ty=4)
    assert set(got) == paths(w, "t1", "t2", "t3", "tj")
    # Creation order, depth first.
    assert got == [w["p"][n] for n in ("t1", "t2", "t3", "tj")]


def test_ty_several(plazad, world):
    w = world
    want = paths(w, "temp", "sub", "hum", "t1", "t2", "t3", "tj")
    assert set(disc(plazad, w["p"]["A"], w["a"], ty=[3, 4])) == want
    assert set(disc(plazad, w["p"]["A"], w["a"], ty="3 4")) == want
    assert disc(plazad, w["p"]["A"], w["a"], ty=23) == []


def test_no_filter_lists_everything_below(plazad, world):
    w = world
    got = disc(plazad, w["p"]["A"], w["a"])
    assert set(got) == paths(w, "temp", "t1", "t2", "t3", "tj", "sub",
                             "hum")


def test_lbl(plazad, world):
    w = world
    assert set(disc(plazad, w["p"]["A"], w["a"], lbl="kind/temp")) == \
        paths(w, "temp")
    assert set(disc(plazad, w["p"]["A"], w["a"], lbl="city/room1")) == \
        paths(w, "temp")
    assert disc(plazad, w["p"]["A"], w["a"], lbl="kind/none") == []


def test_lbl_several(plazad, world):
    w = world
    want = paths(w, "temp", "hum")
    assert set(disc(plazad, w["p"]["A"], w["a"],
                    lbl=["kind/temp", "kind/hum"])) == want
    assert set(disc(plazad, w["p"]["A"], w["a"],
                    lbl="kind/temp kind/hum")) == want
    assert set(disc(plazad, w["p"]["A"], w["a"],
                    lbl=["kind/sub", "kind/hum", "nope"])) == \
        paths(w, "sub", "hum")


# --- times ------------------------------------------------------------------

def test_created_and_modified_times(plazad):
    """Two containers created two clock seconds apart; a bound between
    them separates them for cra/crb/ms/us."""
    d = plazad
    rn = uniq("times")
    aei, _ = d.register(rn)
    base = "plaza/" + rn
    r = d.create(base, 3, {"m2m:cnt": {"rn": "early"}}, origin=aei)
    expect(r, 201, 2001)
    early = r.json()["m2m:cnt"]
    wait_server_at(d, shift(early["ct"], 2))
    r = d.create(base, 3, {"m2m:cnt": {"rn": "late"}}, origin=aei)
    expect(r, 201, 2001)
    late = r.json()["m2m:cnt"]
    assert late["ct"] >= shift(early["ct"], 2)
    mid = shift(early["ct"], 1)
    e, l_ = base + "/early", base + "/late"
    assert set(disc(d, base, aei, cra=mid)) == {l_}
    assert set(disc(d, base, aei, crb=mid)) == {e}
    assert set(disc(d, base, aei, ms=mid)) == {l_}
    assert set(disc(d, base, aei, us=mid)) == {e}
    far_past, far_future = "20000101T000000", "29990101T000000"
    assert set(disc(d, base, aei, cra=far_past)) == {e, l_}
    assert disc(d, base, aei, cra=far_future) == []
    assert set(disc(d, base, aei, crb=far_future)) == {e, l_}
    assert disc(d, base, aei, crb=far_past) == []
    assert disc(d, base, aei, cra=mid, crb=mid) == []
    assert set(disc(d, base, aei, cra=mid, crb=mid, fo=2)) == {e, l_}
    # Modifying the early one moves its lt past mid, not its ct.
    r = d.update(e, {"m2m:cnt": {"lbl": ["touched"]}}, origin=aei)
    expect(r, 200, 2004)
    assert set(disc(d, base, aei, ms=mid)) == {e, l_}
    assert disc(d, base, aei, us=mid) == []
    assert set(disc(d, base, aei, crb=mid)) == {e}


def test_expiration_filters(plazad):
    d = plazad
    rn = uniq("exp")
    aei, _ = d.register(rn)
    base = "plaza/" + rn
    soon = shift(ctm(d), 3600)
    later = shift(ctm(d), 7200)
    expect(d.create(base, 3, {"m2m:cnt": {"rn": "soon", "et": soon}},
                    origin=aei), 201, 2001)
    expect(d.create(base, 3, {"m2m:cnt": {"rn": "later", "et": later}},
                    origin=aei), 201, 2001)
    mid = shift(soon, 60)
    assert set(disc(d, base, aei, exb=mid)) == {base + "/soon"}
    assert set(disc(d, base, aei, exa=mid)) == {base + "/later"}


# --- stateTag, size, content type -------------------------------------------

def test_state_tag(plazad, world):
    w = world
    A = w["p"]["A"]
    # Instances t1..tj have st 1..4; temp has st 4; sub and hum 0.
    assert [world[n]["st"] for n in ("t1", "t2", "t3", "tj")] == [1, 2, 3, 4]
    assert set(disc(plazad, A, w["a"], ty=4, stb=2)) == paths(w, "t3", "tj")
    assert set(disc(plazad, A, w["a"], ty=4, sts=2)) == paths(w, "t1")
    assert set(disc(plazad, A, w["a"], sts=1)) == paths(w, "sub", "hum")
    assert set(disc(plazad, A, w["a"], ty=3, stb=3)) == paths(w, "temp")
    assert set(disc(plazad, A, w["a"], stb=1, sts=4)) == paths(w, "t2", "t3")


def test_size(plazad, world):
    w = world
    A = w["p"]["A"]
    # t1 1 byte, t2 2, t3 3, tj '{"v":1}' 7.
    assert set(disc(plazad, A, w["a"], sza=2)) == paths(w, "t2", "t3", "tj")
    assert set(disc(plazad, A, w["a"], szb=2)) == paths(w, "t1")
    assert set(disc(plazad, A, w["a"], sza=2, szb=4)) == paths(w, "t2", "t3")
    assert set(disc(plazad, A, w["a"], sza=7)) == paths(w, "tj")
    assert disc(plazad, A, w["a"], sza=8) == []


def test_content_type(plazad, world):
    w = world
    A = w["p"]["A"]
    assert set(disc(plazad, A, w["a"], cty="application/json")) == \
        paths(w, "tj")
    assert set(disc(plazad, A, w["a"], cty="text/plain:0")) == \
        paths(w, "t1", "t2", "t3")
    assert set(disc(plazad, A, w["a"], cty=["text/plain:0",
                                            "application/json"])) == \
        paths(w, "t1", "t2", "t3", "tj")
    assert disc(plazad, A, w["a"], cty="image/png") == []


# --- lim, ofst, lvl ---------------------------------------------------------

def test_lim_ofst(plazad, world):
    w = world
    A = w["p"]["A"]
    full = disc(plazad, A, w["a"], ty=4)
    assert len(full) == 4
    assert disc(plazad, A, w["a"], ty=4, lim=2) == full[:2]
    assert disc(plazad, A, w["a"], ty=4, lim=1) == full[:1]
    assert disc(plazad, A, w["a"], ty=4, lim=10) == full
    assert disc(plazad, A, w["a"], ty=4, ofst=1) == full
    assert disc(plazad, A, w["a"], ty=4, ofst=2) == full[1:]
    assert disc(plazad, A, w["a"], ty=4, ofst=2, lim=2) == full[1:3]
    assert disc(plazad, A, w["a"], ty=4, ofst=4, lim=2) == full[3:]
    assert disc(plazad, A, w["a"], ty=4, ofst=5) == []
    # Paging through everything visits every result once.
    seen = []
    for o in range(1, 5, 2):
        seen += disc(plazad, A, w["a"], ty=4, ofst=o, lim=2)
    assert seen == full


def test_lvl(plazad, world):
    w = world
    A = w["p"]["A"]
    assert set(disc(plazad, A, w["a"], lvl=1)) == paths(w, "temp", "hum")
    assert set(disc(plazad, A, w["a"], lvl=2)) == paths(
        w, "temp", "hum", "t1", "t2", "t3", "tj", "sub")
    assert set(disc(plazad, A, w["a"], lvl=1, ty=4)) == set()
    assert set(disc(plazad, w["p"]["temp"], w["a"], lvl=1, ty=3)) == \
        paths(w, "sub")


# --- fo, attributes ----------------------------------------------------------

def test_filter_operation_or(plazad, world):
    w = world
    A = w["p"]["A"]
    assert disc(plazad, A, w["a"], ty=4, lbl="kind/hum") == []
    assert disc(plazad, A, w["a"], ty=4, lbl="kind/hum", fo=1) == []
    assert set(disc(plazad, A, w["a"], ty=4, lbl="kind/hum", fo=2)) == \
        paths(w, "t1", "t2", "t3", "tj", "hum")
    assert set(disc(plazad, A, w["a"], sza=3, lbl="kind/sub", fo=2)) == \
        paths(w, "t3", "tj", "sub")


def test_attribute_filters(plazad, world):
    w = world
    A = w["p"]["A"]
    assert disc(plazad, A, w["a"], rn="temp") == [w["p"]["temp"]]
    assert disc(plazad, A, w["a"], rn="t2") == [w["p"]["t2"]]
    assert disc(plazad, A, w["a"], rn="nosuch") == []
    assert disc(plazad, A, w["a"], con="333") == [w["p"]["t3"]]
    assert disc(plazad, A, w["a"], ri=w["sub"]["ri"]) == [w["p"]["sub"]]
    assert set(disc(plazad, A, w["a"], cnf="text/plain:0")) == \
        paths(w, "t1", "t2", "t3")
    assert set(disc(plazad, A, w["a"], cni=4)) == paths(w, "temp")
    assert set(disc(plazad, A, w["a"], cs=2)) == paths(w, "t2")
    assert set(disc(plazad, A, w["a"], ty=3, rn="hum")) == paths(w, "hum")
    assert disc(plazad, A, w["a"], ty=4, rn="hum") == []


# --- result forms -------------------------------------------------------------

def test_drt_structured(plazad, world):
    w = world
    got = disc(plazad, w["p"]["A"], w["a"], ty=3, drt=1)
    assert set(got) == paths(w, "temp", "sub", "hum")
    for p in got:
        r = plazad.get("/" + p, w["a"])
        expect(r, 200, 2000)


def test_drt_unstructured(plazad, world):
    w = world
    got = disc(plazad, w["p"]["A"], w["a"], ty=3, drt=2)
    assert set(got) == {"/%s/%s" % (CSI, w[n]["ri"]) for n in
                        ("temp", "sub", "hum")}
    for p in got:
        r = plazad.get("/~" + p, w["a"])
        expect(r, 200, 2000)
    got = disc(plazad, w["p"]["A"], w["a"], ty=4, drt=2)
    assert got == ["/%s/%s" % (CSI, w[n]["ri"]) for n in
                   ("t1", "t2", "t3", "tj")]


def test_rcn_forms(plazad, world):
    w = world
    A = w["p"]["A"]
    base = disc(plazad, A, w["a"], ty=3)
    for rcn in ("1", "11"):
        r = plazad.get(A, w["a"], params={"fu": "1", "ty": "3",
                                          "rcn": rcn})
        expect(r, 200, 2000)
        assert r.json() == {"m2m:uril": base}
    for rcn in ("0", "2", "3", "7", "9"):
        r = plazad.get(A, w["a"], params={"fu": "1", "rcn": rcn})
        expect(r, 400, 4000)


# --- access -------------------------------------------------------------------

def test_other_ae_resources_not_listed(plazad, world):
    w = world
    got = disc(plazad, "plaza", w["a"], lbl="kind/temp")
    assert set(got) == paths(w, "temp")
    got = disc(plazad, "plaza", w["b"], lbl="kind/temp")
    assert set(got) == paths(w, "secret")
    everything_a = set(disc(plazad, "plaza", w["a"]))
    assert paths(w, "temp", "t1", "hum") <= everything_a
    for other in ("B", "secret", "s1"):
        assert w["p"][other] not in everything_a
    assert not any(p.startswith(w["p"]["B"]) for p in everything_a)
    everything_b = set(disc(plazad, "plaza", w["b"]))
    assert not any(p.startswith(w["p"]["A"]) for p in everything_b)
    got = disc(plazad, "plaza", w["a"], ty=4, drt=2)
    assert "/%s/%s" % (CSI, w["s1"]["ri"]) not in got


def test_admin_sees_everyone(plazad, world):
    w = world
    got = set(disc(plazad, "plaza", "CAdmin", lbl="kind/temp"))
    assert paths(w, "temp", "secret") <= got


def test_discovery_under_another_ae(plazad, world):
    """B discovering below A's AE learns nothing about A's resources."""
    w = world
    for target in (w["p"]["A"], w["p"]["temp"]):
        r = plazad.get(target, w["b"], params={"fu": "1"})
        assert rsc(r) in (2000, 4103), r.text
        if rsc(r) == 2000:
            assert r.json() == {"m2m:uril": []}
        else:
            assert r.status_code == 403


def test_target_not_in_result(plazad, world):
    w = world
    assert w["p"]["A"] not in disc(plazad, w["p"]["A"], w["a"])
    assert w["p"]["A"] not in disc(plazad, w["p"]["A"], w["a"], ty=2)
    assert disc(plazad, w["p"]["A"], w["a"], ty=2) == []
    got = disc(plazad, w["p"]["temp"], w["a"], ty=3)
    assert got == [w["p"]["sub"]]
    assert disc(plazad, w["p"]["t1"], w["a"]) == []
    assert disc(plazad, w["p"]["sub"], w["a"]) == []


def test_discovery_from_csebase_forms(plazad, world):
    w = world
    want = paths(w, "temp")
    for target in ("plaza", "-", "/~/plaza-in", "/_/plaza.example/plaza-in"):
        assert set(disc(plazad, target, w["a"], lbl="city/room1")) == want


def test_discovery_bad_parameters(plazad, world):
    w = world
    A = w["p"]["A"]
    for bad in ({"lim": "-1"}, {"lim": "x"}, {"ofst": "-1"}, {"lvl": "0"},
                {"lvl": "x"}, {"ty": "x"}, {"cra": "yesterday"},
                {"crb": "2020"}, {"fo": "3"}, {"drt": "3"}, {"fu": "3"},
                {"sza": "-1"}, {"stb": "x"}, {"nosuchfilter": "1"}):
        p = {"fu": "1"}
        p.update(bad)
        r = plazad.get(A, w["a"], params=p)
        expect(r, 400, 4000)
    assert plazad.alive()
