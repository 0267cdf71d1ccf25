"""Expiration: resources whose expirationTime passes are deleted with their
subtree, subscribers hear of it, maxInstanceAge removes old instances, and
expirationTime can be updated (but never into the past)."""
import datetime
import itertools
import time

import pytest

from conftest import rsc
from receiver import Receiver

AE = "CexpOwner"
BASE = "plaza/expOwner"
_n = itertools.count(1)
DEADLINE = 10.0


@pytest.fixture(scope="module")
def d(plazad):
    plazad.register("expOwner", origin=AE)
    return plazad


@pytest.fixture
def rcv():
    r = Receiver()
    yield r
    r.stop()


def et_in(seconds):
    t = datetime.datetime.now(datetime.timezone.utc) + \
        datetime.timedelta(seconds=seconds)
    return t.strftime("%Y%m%dT%H%M%S,%f")


def parse_ts(s):
    s = s.rstrip("Z")
    main, _, frac = s.replace(".", ",").partition(",")
    t = datetime.datetime.strptime(main, "%Y%m%dT%H%M%S").replace(
        tzinfo=datetime.timezone.utc)
    if frac:
        t += datetime.timedelta(microseconds=int(frac.ljust(6, "0")[:6]))
    return t


def gone_within(d, addrs, deadline=DEADLINE):
    """Poll until every address answers 4004; return the seconds it took."""
    t0 = time.monotonic()
    left = list(addrs)
    while left and time.monotonic() - t0 < deadline:
        left = [a for a in left if d.get(a).status_code != 404]
        if left:
            time.sleep(0.1)
    assert not left, "still there after %.0fs: %s" % (deadline, left)
    return time.monotonic() - t0


def make_cnt(d, parent=BASE, **attrs):
    name = "x%d" % next(_n)
    body = {"rn": name}
    body.update(attrs)
    r = d.create(parent, 3, {"m2m:cnt": body}, origin=AE)
    assert r.status_code == 201, r.text
    return parent + "/" + name, r.json()["m2m:cnt"]


def add_cin(d, path, con, **attrs):
    body = {"con": con}
    body.update(attrs)
    r = d.create(path, 4, {"m2m:cin": body}, origin=AE)
    assert r.status_code == 201, r.text
    return r.json()["m2m:cin"]


# --- expirationTime on create ------------------------------------------

def test_et_is_reported_as_given(d):
    et = et_in(3600)
    path, cnt = make_cnt(d, et=et)
    got = parse_ts(d.get(path).json()["m2m:cnt"]["et"])
    assert abs((got - parse_ts(et)).total_seconds()) < 1.0


def test_et_in_the_past_is_4000(d):
    r = d.create(BASE, 3, {"m2m:cnt": {"rn": "past", "et": et_in(-60)}},
                 origin=AE)
    assert rsc(r) == 4000, r.text
    assert r.status_code == 400
    assert d.get(BASE + "/past").status_code == 404
    r = d.create(BASE, 3, {"m2m:cnt": {"rn": "bad", "et": "tomorrow"}},
                 origin=AE)
    assert rsc(r) == 4000, r.text
    path, _ = make_cnt(d)
    r = d.create(path, 4, {"m2m:cin": {"con": "x", "et": et_in(-1)}},
                 origin=AE)
    assert rsc(r) == 4000, r.text
    assert d.get(path).json()["m2m:cnt"]["cni"] == 0


def test_container_expires_with_its_instances(d):
    t0 = time.monotonic()
    path, cnt = make_cnt(d, et=et_in(2))
    kid, kidcnt = make_cnt(d, parent=path)
    cins = [add_cin(d, path, "v%d" % i) for i in range(3)]
    deep = add_cin(d, kid, "deep")
    # still there right after creation, instances readable
    assert d.get(path).status_code == 200
    assert d.get(path + "/la").json()["m2m:cin"]["con"] == "v2"
    addrs = [path, cnt["ri"], kid, kidcnt["ri"], deep["ri"]] + \
        [c["ri"] for c in cins]
    gone_within(d, addrs)
    took = time.monotonic() - t0
    assert took >= 1.0, "deleted %.2fs after creation, et was 2s" % took
    assert d.alive()
    # the name is free again
    r = d.create(BASE, 3, {"m2m:cnt": {"rn": path.split("/")[-1]}},
                 origin=AE)
    assert r.status_code == 201, r.text
    assert r.json()["m2m:cnt"]["cni"] == 0


def test_instance_et_expires_alone(d):
    path, _ = make_cnt(d)
    keep = add_cin(d, path, "keep")
    short = add_cin(d, path, "short", et=et_in(1))
    assert d.get(path).json()["m2m:cnt"]["cni"] == 2
    gone_within(d, [short["ri"]])
    cnt = d.get(path).json()["m2m:cnt"]
    assert cnt["cni"] == 1
    assert cnt["cbs"] == len("keep")
    assert d.get(path + "/la").json()["m2m:cin"]["ri"] == keep["ri"]


def test_expired_instance_is_not_served(d):
    """Past its expirationTime a resource is gone for every reader, not
    only for latest (which already hides an expired instance): the sweep
    runs once a second, a reader must not see the lag."""
    path, _ = make_cnt(d)
    ets = [et_in(1.0 + 0.2 * i) for i in range(5)]
    cins = [add_cin(d, path, "p%d" % i, et=et) for i, et in enumerate(ets)]
    stale = []
    for c, et in zip(cins, ets):
        until = parse_ts(et) + datetime.timedelta(milliseconds=50)
        while datetime.datetime.now(datetime.timezone.utc) < until:
            time.sleep(0.01)
        r = d.get(c["ri"])
        if r.status_code != 404:
            stale.append((c["ri"], et, rsc(r)))
    assert stale == [], "served after their et: %s" % stale
    assert d.get(path + "/la").status_code == 404


# --- subscribers hear of expiry ---------------------------------------------

def test_subscribers_notified_of_expiry(d, rcv):
    su = rcv.url.replace("/notify", "/subscriber")
    parent, parentcnt = make_cnt(d)
    path, cnt = make_cnt(d, parent=parent, et=et_in(2))
    r = d.create(path, 23, {"m2m:sub": {"rn": "watch", "nu": [rcv.url],
                                        "enc": {"net": [2]}, "su": su}},
                 origin=AE)
    assert r.status_code == 201, r.text
    sub = r.json()["m2m:sub"]
    r = d.create(parent, 23, {"m2m:sub": {"rn": "kids", "nu": [rcv.url],
                                          "enc": {"net": [4]}}}, origin=AE)
    assert r.status_code == 201, r.text
    psub = r.json()["m2m:sub"]
    rcv.clear()
    got = rcv.wait(3, timeout=DEADLINE, pred=lambda x: not x.is_verification)
    assert d.get(path).status_code == 404
    by = {}
    for x in got:
        s = x.sgn
        key = "sud" if s.get("sud") else s["nev"]["net"]
        by[key] = x
    assert set(by) == {2, 4, "sud"}, got
    n2 = by[2].sgn
    assert n2["sur"] == "/plaza-in/" + sub["ri"]
    assert n2["nev"]["rep"]["m2m:cnt"]["ri"] == cnt["ri"]
    n4 = by[4].sgn
    assert n4["sur"] == "/plaza-in/" + psub["ri"]
    assert n4["nev"]["rep"]["m2m:cnt"]["ri"] == cnt["ri"]
    end = by["sud"]
    assert end.path == "/subscriber"
    assert end.sgn["sur"] == "/plaza-in/" + sub["ri"]
    assert end.headers.get("x-m2m-origin") == "/plaza-in"
    # the subscription went with its resource
    assert d.get(sub["ri"]).status_code == 404
    assert d.get(psub["ri"]).status_code == 200


def test_subscription_expires(d, rcv):
    su = rcv.url.replace("/notify", "/subscriber")
    path, _ = make_cnt(d)
    r = d.create(path, 23, {"m2m:sub": {"rn": "brief", "nu": [rcv.url],
                                        "enc": {"net": [3], "chty": [4]},
                                        "su": su,
                                        "et": et_in(1)}}, origin=AE)
    assert r.status_code == 201, r.text
    sub = r.json()["m2m:sub"]
    end = rcv.wait(1, timeout=DEADLINE, pred=lambda x: x.path == "/subscriber")
    assert len(end) == 1
    assert end[0].sgn["sud"] is True
    assert end[0].sgn["sur"] == "/plaza-in/" + sub["ri"]
    assert d.get(path + "/brief").status_code == 404
    add_cin(d, path, "nobody hears")
    assert rcv.wait(1, timeout=0.5, pred=lambda x: x.path == "/notify"
                    and not x.is_verification) == []


def test_expired_ae_takes_its_credential(d):
    aei, _ = d.register("shortlived", origin="Cshortlived", et=et_in(2))
    assert d.get("plaza/shortlived", aei).status_code == 200
    gone_within(d, ["plaza/shortlived"])
    r = d.get("plaza", aei)
    assert rsc(r) == 4103, r.text


# --- maxInstanceAge -----------------------------------------------------

def test_mia_caps_instance_et(d):
    path, _ = make_cnt(d, mia=100)
    cin = add_cin(d, path, "aging")
    ct, et = parse_ts(cin["ct"]), parse_ts(cin["et"])
    assert 99 <= (et - ct).total_seconds() <= 101
    # an explicit et beyond the cap is capped, a nearer one is kept
    cin = add_cin(d, path, "far", et=et_in(3600))
    assert (parse_ts(cin["et"]) - parse_ts(cin["ct"])).total_seconds() <= 101
    cin = add_cin(d, path, "near", et=et_in(50))
    assert 48 <= (parse_ts(cin["et"]) - parse_ts(cin["ct"])).total_seconds() \
        <= 51


def test_mia_removes_old_instances(d):
    path, _ = make_cnt(d, mia=2)
    old = [add_cin(d, path, "old%d" % i) for i in range(3)]
    assert d.get(path).json()["m2m:cnt"]["cni"] == 3
    gone_within(d, [c["ri"] for c in old])
    cnt = d.get(path).json()["m2m:cnt"]
    assert cnt["cni"] == 0
    assert cnt["cbs"] == 0
    assert d.get(path + "/la").status_code == 404
    # the container itself stays, and takes new instances
    fresh = add_cin(d, path, "fresh")
    assert d.get(path + "/la").json()["m2m:cin"]["ri"] == fresh["ri"]


def test_mia_removal_notifies_delete_child(d, rcv):
    path, _ = make_cnt(d, mia=1)
    r = d.create(path, 23, {"m2m:sub": {"rn": "aging", "nu": [rcv.url],
                                        "enc": {"net": [4]}}}, origin=AE)
    assert r.status_code == 201, r.text
    sub = r.json()["m2m:sub"]
    cin = add_cin(d, path, "brief")
    got = rcv.wait_notifications(1, timeout=DEADLINE)
    assert len(got) == 1, got
    s = got[0].sgn
    assert s["sur"] == "/plaza-in/" + sub["ri"]
    assert s["nev"]["net"] == 4
    assert s["nev"]["rep"]["m2m:cin"]["ri"] == cin["ri"]
    assert d.get(cin["ri"]).status_code == 404


def test_mia_set_later_applies_to_existing_instances(d):
    path, _ = make_cnt(d)
    old = add_cin(d, path, "was forever")
    r = d.update(path, {"m2m:cnt": {"mia": 1}}, AE)
    assert rsc(r) == 2004, r.text
    gone_within(d, [old["ri"]])
    assert d.get(path).json()["m2m:cnt"]["cni"] == 0


# --- updating expirationTime --------------------------------------------

def test_et_update_brings_expiry_forward(d):
    path, cnt = make_cnt(d, et=et_in(3600))
    r = d.update(path, {"m2m:cnt": {"et": et_in(1)}}, AE)
    assert rsc(r) == 2004, r.text
    gone_within(d, [path])


def test_et_update_postpones_expiry(d):
    keep, _ = make_cnt(d, et=et_in(2))
    control, _ = make_cnt(d, et=et_in(2))
    new_et = et_in(3600)
    r = d.update(keep, {"m2m:cnt": {"et": new_et}}, AE)
    assert rsc(r) == 2004, r.text
    assert abs((parse_ts(r.json()["m2m:cnt"]["et"]) -
                parse_ts(new_et)).total_seconds()) < 1
    # keep's old et was no later than control's: the sweep that took
    # control would have taken keep too
    gone_within(d, [control])
    assert d.get(keep).status_code == 200


def test_et_update_into_the_past_is_4000(d):
    path, cnt = make_cnt(d, et=et_in(3600))
    r = d.update(path, {"m2m:cnt": {"et": et_in(-10)}}, AE)
    assert rsc(r) == 4000, r.text
    got = d.get(path).json()["m2m:cnt"]["et"]
    assert got == cnt["et"]
    assert d.get(path).status_code == 200


def test_instances_cannot_change_et(d):
    path, _ = make_cnt(d)
    cin = add_cin(d, path, "immutable")
    r = d.update(cin["ri"], {"m2m:cin": {"et": et_in(100)}}, AE)
    assert rsc(r) in (4005, 4000), r.text
