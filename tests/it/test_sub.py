"""Subscriptions and notifications, received by a real HTTP receiver:
verification, event types and content types, filtering, expiration
counter, batching, latest-only, AE-ID targets, and notifications that never
hold up requests."""
import itertools
import time

import pytest
import requests

from conftest import rsc
from receiver import Receiver, closed_port_url

AE = "CsubOwner"
_n = itertools.count(1)
QUIET = 0.5     # how long "nothing more arrives" is watched
# instance creations only (see test_subscription_not_notified_of_its_own_
# creation for what a new subscription hears without chty)
CIN = {"net": [3], "chty": [4]}


@pytest.fixture(scope="module")
def d(plazad):
    plazad.register("subOwner", origin=AE)
    return plazad


@pytest.fixture
def rcv():
    r = Receiver()
    yield r
    r.stop()


def make_cnt(d, parent="plaza/subOwner", origin=AE, **attrs):
    name = "c%d" % next(_n)
    body = {"rn": name}
    body.update(attrs)
    r = d.create(parent, 3, {"m2m:cnt": body}, origin=origin)
    assert r.status_code == 201, r.text
    return parent + "/" + name, r.json()["m2m:cnt"]["ri"]


def make_sub(d, path, origin=AE, want=2001, **attrs):
    body = {"rn": "s%d" % next(_n)}
    body.update(attrs)
    r = d.create(path, 23, {"m2m:sub": body}, origin=origin)
    assert rsc(r) == want, r.text
    if want != 2001:
        return None
    sub = r.json()["m2m:sub"]
    sub["_path"] = path + "/" + body["rn"]
    return sub


def add_cin(d, path, con, origin=AE):
    r = d.create(path, 4, {"m2m:cin": {"con": con}}, origin=origin)
    assert r.status_code == 201, r.text
    return r.json()["m2m:cin"]


def sur_of(sub):
    return "/plaza-in/" + sub["ri"]


def check_headers(note):
    h = note.headers
    assert note.method == "POST"
    assert h.get("x-m2m-origin") == "/plaza-in"
    assert h.get("x-m2m-ri")
    assert h.get("x-m2m-rvi")
    ct = h.get("content-type", "")
    assert ct.startswith("application/json") or \
        ct.startswith("application/vnd.onem2m-ntfy+json"), ct
    assert "ty=" not in ct   # a notification is not a create


def only(notes, n=1):
    assert len(notes) == n, notes
    return notes[0] if n == 1 else notes


def no_more(rcv, n, pred=None):
    """Nothing beyond n requests (matching pred) arrives within QUIET."""
    got = rcv.wait(n + 1, QUIET, pred)
    assert len(got) == n, got
    return got


def notif(x):
    return not x.is_verification


# --- verification -------------------------------------------------------

def test_verification_request(d, rcv):
    path, ri = make_cnt(d)
    sub = make_sub(d, path, nu=[rcv.url], enc=CIN)
    # verification is done before the subscription is created
    v = only(rcv.snapshot())
    check_headers(v)
    assert v.path == "/notify"
    assert v.body == {"m2m:sgn": {"vrq": True, "sur": sur_of(sub),
                                  "cr": AE}}
    # the subscription is stored as asked, with the defaults filled in
    r = d.get(sub["_path"], AE)
    assert r.status_code == 200, r.text
    s = r.json()["m2m:sub"]
    assert s["ri"] == sub["ri"]
    assert s["pi"] == ri
    assert s["nu"] == [rcv.url]
    assert s["enc"] == CIN
    assert s["nct"] == 1
    assert s["ty"] == 23


def test_verification_refused_is_5204(d, rcv):
    rcv.rsc = 4103
    path, _ = make_cnt(d)
    r = d.create(path, 23, {"m2m:sub": {"rn": "refused", "nu": [rcv.url]}},
                 origin=AE)
    assert rsc(r) == 5204, r.text
    assert r.status_code == 500
    assert len(rcv.verifications()) == 1
    assert d.get(path + "/refused").status_code == 404
    # no trace of it: an event on the container notifies nobody
    rcv.rsc = 2000
    d.update(path, {"m2m:cnt": {"lbl": ["x"]}}, AE)
    no_more(rcv, 1)


def test_verification_unreachable_is_5204(d):
    path, _ = make_cnt(d)
    r = d.create(path, 23, {"m2m:sub": {"rn": "nobody",
                                        "nu": [closed_port_url()]}},
                 origin=AE)
    assert rsc(r) == 5204, r.text
    assert r.status_code == 500
    assert d.get(path + "/nobody").status_code == 404


def test_verification_one_bad_target_fails_all(d, rcv):
    path, _ = make_cnt(d)
    r = d.create(path, 23, {"m2m:sub": {
        "rn": "mixed", "nu": [rcv.url, closed_port_url()]}}, origin=AE)
    assert rsc(r) == 5204, r.text
    assert d.get(path + "/mixed").status_code == 404


def test_verification_unanswered_is_5204(plazad_factory):
    d = plazad_factory(args=["--set", "notify.timeout=1000"])
    d.register("slowpoke", origin="Cslowpoke")
    r = d.create("plaza/slowpoke", 3, {"m2m:cnt": {"rn": "c"}},
                 origin="Cslowpoke")
    assert r.status_code == 201
    with Receiver(answer=False) as mute:
        t0 = time.monotonic()
        r = d.create("plaza/slowpoke/c", 23, {"m2m:sub": {
            "rn": "s", "nu": [mute.url]}}, origin="Cslowpoke")
        took = time.monotonic() - t0
        assert rsc(r) == 5204, r.text
        assert took < 5, took
        assert len(mute.snapshot()) == 1
    assert d.get("plaza/slowpoke/c/s").status_code == 404
    # the daemon served others meanwhile and still does
    assert d.alive()


def test_verification_ae_without_poa_is_5204(d):
    d.register("nopoa", origin="Cnopoa")
    path, _ = make_cnt(d)
    r = d.create(path, 23, {"m2m:sub": {"rn": "x", "nu": ["Cnopoa"]}},
                 origin=AE)
    assert rsc(r) == 5204, r.text


def test_nu_is_creator_skips_verification(d, rcv):
    aei = "Cself%d" % next(_n)
    d.register(aei[1:], origin=aei, poa=[rcv.url])
    path, _ = make_cnt(d, parent="plaza/" + aei[1:], origin=aei)
    sub = make_sub(d, path, origin=aei, nu=[aei],
                   enc={"net": [3], "chty": [4]})
    sub2 = make_sub(d, path, origin=aei, nu=["/plaza-in/" + aei],
                    enc={"net": [3], "chty": [4]})
    assert rcv.snapshot() == []
    cin = add_cin(d, path, "hello", origin=aei)
    got = rcv.wait(2)
    assert all(not x.is_verification for x in got), got
    assert sorted(x.sgn["sur"] for x in got) == \
        sorted([sur_of(sub), sur_of(sub2)])
    for x in got:
        assert x.path == "/notify"
        assert x.sgn["nev"]["rep"]["m2m:cin"]["ri"] == cin["ri"]
    no_more(rcv, 2)


def test_nu_is_other_ae_resolved_through_poa(d, rcv):
    target = "Cpoa%d" % next(_n)
    d.register(target[1:], origin=target, poa=[rcv.url + "/ae"])
    path, _ = make_cnt(d)
    sub = make_sub(d, path, nu=[target], enc=CIN)
    v = only(rcv.verifications())
    assert v.path == "/notify/ae"
    assert v.sgn["sur"] == sur_of(sub)
    assert v.sgn["cr"] == AE
    cin = add_cin(d, path, 7)
    n = only(rcv.wait_notifications(1))
    check_headers(n)
    assert n.path == "/notify/ae"
    assert n.sgn["nev"]["rep"]["m2m:cin"]["con"] == 7
    assert n.sgn["nev"]["rep"]["m2m:cin"]["ri"] == cin["ri"]


def test_adding_targets_verifies_only_new_ones(d, rcv):
    path, _ = make_cnt(d)
    sub = make_sub(d, path, nu=[rcv.url], enc=CIN)
    assert len(rcv.verifications()) == 1
    with Receiver() as two:
        r = d.update(sub["_path"], {"m2m:sub": {"nu": [rcv.url, two.url]}},
                     AE)
        assert rsc(r) == 2004, r.text
        assert len(rcv.verifications()) == 1
        assert len(two.verifications()) == 1
        assert two.verifications()[0].sgn["sur"] == sur_of(sub)
        # a target that refuses is not added
        r = d.update(sub["_path"], {"m2m:sub": {
            "nu": [rcv.url, closed_port_url()]}}, AE)
        assert rsc(r) == 5204, r.text
        assert d.get(sub["_path"]).json()["m2m:sub"]["nu"] == \
            [rcv.url, two.url]
        add_cin(d, path, "both")
        assert len(rcv.wait_notifications(1)) == 1
        assert len(two.wait_notifications(1)) == 1


def test_cannot_subscribe_to_content_instance(d, rcv):
    path, _ = make_cnt(d)
    cin = add_cin(d, path, "x")
    r = d.create(cin["ri"], 23, {"m2m:sub": {"nu": [rcv.url]}}, origin=AE)
    assert rsc(r) == 5203, r.text
    assert r.status_code == 403
    r = d.create(path + "/la", 23, {"m2m:sub": {"nu": [rcv.url]}},
                 origin=AE)
    assert rsc(r) in (5203, 4005), r.text
    assert rcv.snapshot() == []


def test_invalid_subscriptions_are_4000(d, rcv):
    path, _ = make_cnt(d)
    for attrs in ({"nu": []},
                  {"nu": [rcv.url], "enc": {"net": [0]}},
                  {"nu": [rcv.url], "enc": {"net": []}},
                  {"nu": [rcv.url], "nct": 9},
                  {"nu": [rcv.url], "exc": 0},
                  {"nu": [rcv.url], "bn": {}},
                  {"nu": [rcv.url], "bn": {"num": 0}}):
        r = d.create(path, 23, {"m2m:sub": attrs}, origin=AE)
        assert rsc(r) == 4000, (attrs, r.text)
    r = d.create(path, 23, {}, origin=AE)
    assert rsc(r) == 4000, r.text
    assert rcv.snapshot() == []


# --- create child (net 3) and the content types -------------------------

def test_create_child_nct1_full_resource(d, rcv):
    path, ri = make_cnt(d)
    sub = make_sub(d, path, nu=[rcv.url], enc=CIN, nct=1)
    cin = add_cin(d, path, {"t": 21.5})
    n = only(rcv.wait_notifications(1))
    check_headers(n)
    sgn = n.sgn
    assert sgn["sur"] == sur_of(sub)
    assert sgn["nev"]["net"] == 3
    assert sgn["nev"]["rep"] == {"m2m:cin": cin}
    assert cin["pi"] == ri and cin["con"] == {"t": 21.5} and cin["ty"] == 4
    assert "vrq" not in sgn and "sud" not in sgn
    no_more(rcv, 1, notif)


def test_create_child_nct2(d, rcv):
    path, _ = make_cnt(d)
    make_sub(d, path, nu=[rcv.url], enc=CIN, nct=2)
    cin = add_cin(d, path, "modified?")
    n = only(rcv.wait_notifications(1))
    assert n.sgn["nev"]["net"] == 3
    rep = n.sgn["nev"]["rep"]["m2m:cin"]
    # for a new child every attribute is new
    assert rep["con"] == "modified?"
    assert rep["ri"] == cin["ri"]


def test_create_child_nct3_resource_id(d, rcv):
    path, _ = make_cnt(d)
    make_sub(d, path, nu=[rcv.url], enc=CIN, nct=3)
    cin = add_cin(d, path, "id only")
    n = only(rcv.wait_notifications(1))
    assert n.sgn["nev"]["net"] == 3
    assert n.sgn["nev"]["rep"] in ({"m2m:uri": cin["ri"]},
                                   {"m2m:uri": "/plaza-in/" + cin["ri"]})
    assert "id only" not in n.raw.decode()


def test_subscription_not_notified_of_its_own_creation(d, rcv):
    path, _ = make_cnt(d)
    first = make_sub(d, path, nu=[rcv.url], enc={"net": [3]}, nct=3)
    no_more(rcv, 0, notif)
    # the first hears of the second (a new child); the second of nothing
    second = make_sub(d, path, nu=[rcv.url], enc={"net": [3]}, nct=3)
    n = only(rcv.wait_notifications(1))
    assert n.sgn["sur"] == sur_of(first)
    assert n.sgn["nev"]["rep"] in ({"m2m:uri": second["ri"]},
                                   {"m2m:uri": "/plaza-in/" + second["ri"]})
    no_more(rcv, 1, notif)


def test_notifications_in_order(d, rcv):
    path, _ = make_cnt(d)
    make_sub(d, path, nu=[rcv.url], enc=CIN, nct=3)
    ris = [add_cin(d, path, i)["ri"] for i in range(5)]
    got = rcv.wait_notifications(5)
    assert len(got) == 5
    assert sorted(x.sgn["nev"]["rep"]["m2m:uri"].split("/")[-1]
                  for x in got) == sorted(ris)
    # every notification is its own request
    assert len({x.headers["x-m2m-ri"] for x in got}) == 5
    no_more(rcv, 5, notif)


# --- update (net 1) --------------------------------------------------------

def test_update_nct2_modified_attributes_only(d, rcv):
    path, ri = make_cnt(d, mni=100)
    sub = make_sub(d, path, nu=[rcv.url], enc={"net": [1]}, nct=2)
    r = d.update(path, {"m2m:cnt": {"lbl": ["hot"], "mni": 50}}, AE)
    assert rsc(r) == 2004, r.text
    n = only(rcv.wait_notifications(1))
    assert n.sgn["sur"] == sur_of(sub)
    assert n.sgn["nev"]["net"] == 1
    rep = n.sgn["nev"]["rep"]
    assert list(rep) == ["m2m:cnt"]
    cnt = rep["m2m:cnt"]
    assert cnt["lbl"] == ["hot"]
    assert cnt["mni"] == 50
    for unchanged in ("rn", "ri", "pi", "ty", "ct", "cni", "cbs", "acpi"):
        assert unchanged not in cnt, cnt


def test_update_nct1_whole_resource(d, rcv):
    path, ri = make_cnt(d, mni=100)
    make_sub(d, path, nu=[rcv.url], nct=1)     # default enc: update
    r = d.update(path, {"m2m:cnt": {"lbl": ["warm"]}}, AE)
    assert rsc(r) == 2004, r.text
    n = only(rcv.wait_notifications(1))
    cnt = n.sgn["nev"]["rep"]["m2m:cnt"]
    assert cnt["ri"] == ri
    assert cnt["lbl"] == ["warm"]
    assert cnt["mni"] == 100
    assert cnt["rn"] == path.split("/")[-1]


def test_default_enc_is_update_only(d, rcv):
    path, _ = make_cnt(d)
    sub = make_sub(d, path, nu=[rcv.url])
    s = d.get(sub["_path"]).json()["m2m:sub"]
    assert s["enc"]["net"] == [1]
    assert s["nct"] == 1
    add_cin(d, path, "not an update")
    r = d.update(path, {"m2m:cnt": {"lbl": ["u"]}}, AE)
    assert rsc(r) == 2004
    n = only(rcv.wait_notifications(1))
    assert n.sgn["nev"]["net"] == 1
    no_more(rcv, 1, notif)


def test_enc_atr_filters_updates(d, rcv):
    path, _ = make_cnt(d, mni=10)
    make_sub(d, path, nu=[rcv.url], enc={"net": [1], "atr": ["lbl"]},
             nct=2)
    assert rsc(d.update(path, {"m2m:cnt": {"mni": 20}}, AE)) == 2004
    assert rsc(d.update(path, {"m2m:cnt": {"mbs": 2000}}, AE)) == 2004
    assert rsc(d.update(path, {"m2m:cnt": {"lbl": ["a"], "mni": 30}},
                        AE)) == 2004
    n = only(rcv.wait_notifications(1))
    assert n.sgn["nev"]["rep"]["m2m:cnt"]["lbl"] == ["a"]
    no_more(rcv, 1, notif)


def test_enc_chty_filters_children(d, rcv):
    path, _ = make_cnt(d)
    make_sub(d, path, nu=[rcv.url], enc={"net": [3], "chty": [4]})
    make_cnt(d, parent=path)                  # a container: filtered
    cin = add_cin(d, path, "instance")
    n = only(rcv.wait_notifications(1))
    assert n.sgn["nev"]["rep"]["m2m:cin"]["ri"] == cin["ri"]
    no_more(rcv, 1, notif)


def test_enc_chty_container_only(d, rcv):
    path, _ = make_cnt(d)
    make_sub(d, path, nu=[rcv.url], enc={"net": [3], "chty": [3]})
    add_cin(d, path, "filtered")
    sub_path, sub_ri = make_cnt(d, parent=path)
    n = only(rcv.wait_notifications(1))
    assert n.sgn["nev"]["rep"]["m2m:cnt"]["ri"] == sub_ri
    no_more(rcv, 1, notif)


# --- delete (net 2) and delete child (net 4) ------------------------------

def test_delete_of_subscribed_resource(d, rcv):
    path, ri = make_cnt(d)
    sub = make_sub(d, path, nu=[rcv.url], enc={"net": [2]})
    r = d.delete(path, AE)
    assert rsc(r) == 2002, r.text
    n = only(rcv.wait_notifications(1))
    check_headers(n)
    assert n.sgn["sur"] == sur_of(sub)
    assert n.sgn["nev"]["net"] == 2
    assert n.sgn["nev"]["rep"]["m2m:cnt"]["ri"] == ri
    # the subscription went with its resource
    assert d.get(sub["ri"]).status_code == 404
    no_more(rcv, 1, notif)


def test_delete_child(d, rcv):
    path, _ = make_cnt(d)
    keep = add_cin(d, path, "stays")
    gone = add_cin(d, path, "goes")
    sub = make_sub(d, path, nu=[rcv.url], enc={"net": [4]})
    add_cin(d, path, "created: not a delete")
    r = d.delete(gone["ri"], AE)
    assert rsc(r) == 2002, r.text
    n = only(rcv.wait_notifications(1))
    assert n.sgn["sur"] == sur_of(sub)
    assert n.sgn["nev"]["net"] == 4
    rep = n.sgn["nev"]["rep"]["m2m:cin"]
    assert rep["ri"] == gone["ri"]
    assert rep["con"] == "goes"
    assert d.get(keep["ri"]).status_code == 200
    no_more(rcv, 1, notif)


def test_several_event_types(d, rcv):
    path, _ = make_cnt(d)
    make_sub(d, path, nu=[rcv.url], enc={"net": [1, 3, 4], "chty": [4]}, nct=3)
    cin = add_cin(d, path, "x")
    d.update(path, {"m2m:cnt": {"lbl": ["y"]}}, AE)
    d.delete(cin["ri"], AE)
    got = rcv.wait_notifications(3)
    assert sorted(x.sgn["nev"]["net"] for x in got) == [1, 3, 4]


def test_every_target_is_notified(d, rcv):
    path, _ = make_cnt(d)
    with Receiver() as two:
        make_sub(d, path, nu=[rcv.url, two.url], enc=CIN)
        cin = add_cin(d, path, "to both")
        for r in (rcv, two):
            n = only(r.wait_notifications(1))
            assert n.sgn["nev"]["rep"]["m2m:cin"]["ri"] == cin["ri"]


def test_subscription_update_changes_what_is_heard(d, rcv):
    path, _ = make_cnt(d)
    sub = make_sub(d, path, nu=[rcv.url], enc=CIN)
    r = d.update(sub["_path"], {"m2m:sub": {"enc": {"net": [1]}}}, AE)
    assert rsc(r) == 2004, r.text
    add_cin(d, path, "no longer heard")
    assert rsc(d.update(path, {"m2m:cnt": {"lbl": ["heard"]}}, AE)) == 2004
    n = only(rcv.wait_notifications(1))
    assert n.sgn["nev"]["net"] == 1
    # a deleted subscription is silent
    assert rsc(d.delete(sub["_path"], AE)) == 2002
    assert rsc(d.update(path, {"m2m:cnt": {"lbl": ["unheard"]}}, AE)) == 2004
    no_more(rcv, 1, notif)


def test_notification_sent_after_commit(d):
    seen = []

    def look(note):
        s = note.sgn or {}
        if "nev" in s:
            ri = s["nev"]["rep"]["m2m:cin"]["ri"]
            r = requests.get(d.url + "/" + ri, headers=d.headers("CAdmin"),
                             timeout=5)
            seen.append(r.status_code)

    with Receiver(on_note=look) as rcv:
        path, _ = make_cnt(d)
        make_sub(d, path, nu=[rcv.url], enc=CIN)
        for i in range(3):
            add_cin(d, path, i)
        assert len(rcv.wait_notifications(3)) == 3
    assert seen == [200, 200, 200]


def test_poa_change_redirects_notifications(d):
    target = "Cmove%d" % next(_n)
    with Receiver() as r1, Receiver() as r2:
        d.register(target[1:], origin=target, poa=[r1.url])
        path, _ = make_cnt(d)
        make_sub(d, path, nu=[target], enc=CIN)
        add_cin(d, path, "to r1")
        assert len(r1.wait_notifications(1)) == 1
        r = d.update("plaza/" + target[1:], {"m2m:ae": {"poa": [r2.url]}},
                     target)
        assert rsc(r) == 2004, r.text
        add_cin(d, path, "to r2")
        n = only(r2.wait_notifications(1))
        assert n.sgn["nev"]["rep"]["m2m:cin"]["con"] == "to r2"
        no_more(r1, 2)      # the verification and the first notification


def test_instance_pushed_out_by_mni_is_delete_child(d, rcv):
    path, _ = make_cnt(d, mni=1)
    first = add_cin(d, path, "first")
    sub = make_sub(d, path, nu=[rcv.url], enc={"net": [4]})
    add_cin(d, path, "second")
    assert d.get(first["ri"]).status_code == 404
    n = only(rcv.wait_notifications(1))
    assert n.sgn["sur"] == sur_of(sub)
    assert n.sgn["nev"]["net"] == 4
    assert n.sgn["nev"]["rep"]["m2m:cin"]["ri"] == first["ri"]


# --- expiration counter and subscriber URI ------------------------------

def test_exc_counts_down_and_su_hears_of_the_end(d, rcv):
    su = rcv.url.replace("/notify", "/subscriber")
    path, _ = make_cnt(d)
    sub = make_sub(d, path, nu=[rcv.url], enc=CIN, exc=2, su=su)
    add_cin(d, path, "one")
    assert d.get(sub["_path"]).status_code == 200
    add_cin(d, path, "two")
    third = d.create(path, 4, {"m2m:cin": {"con": "three"}}, origin=AE)
    assert rsc(third) == 2001, third.text
    events = rcv.wait(2, pred=lambda x: x.path == "/notify" and notif(x))
    assert sorted(x.sgn["nev"]["rep"]["m2m:cin"]["con"] for x in events) \
        == ["one", "two"]
    end = only(rcv.wait(1, pred=lambda x: x.path == "/subscriber"))
    check_headers(end)
    assert end.sgn["sud"] is True
    assert end.sgn["sur"] == sur_of(sub)
    assert "nev" not in end.sgn
    assert d.get(sub["_path"]).status_code == 404
    add_cin(d, path, "four")
    no_more(rcv, 3, notif)


def test_su_notified_when_subscription_deleted(d, rcv):
    su = rcv.url.replace("/notify", "/subscriber")
    path, _ = make_cnt(d)
    sub = make_sub(d, path, nu=[rcv.url], enc=CIN, su=su)
    r = d.delete(sub["_path"], AE)
    assert rsc(r) == 2002, r.text
    end = only(rcv.wait(1, pred=lambda x: x.path == "/subscriber"))
    assert end.sgn["sud"] is True
    assert end.sgn["sur"] == sur_of(sub)
    # a subscription without su ends silently
    sub2 = make_sub(d, path, nu=[rcv.url], enc=CIN)
    assert rsc(d.delete(sub2["_path"], AE)) == 2002
    no_more(rcv, 1, notif)


def test_su_notified_when_parent_deleted(d, rcv):
    su = rcv.url.replace("/notify", "/subscriber")
    path, _ = make_cnt(d)
    sub = make_sub(d, path, nu=[rcv.url], enc=CIN, su=su)
    assert rsc(d.delete(path, AE)) == 2002
    end = only(rcv.wait(1, pred=lambda x: x.path == "/subscriber"))
    assert end.sgn["sud"] is True
    assert end.sgn["sur"] == sur_of(sub)


# --- batching and latest-only --------------------------------------------

def test_bn_num_batches(d, rcv):
    path, _ = make_cnt(d)
    sub = make_sub(d, path, nu=[rcv.url], enc=CIN,
                   bn={"num": 3})
    for i in range(2):
        add_cin(d, path, "a%d" % i)
    no_more(rcv, 0, notif)
    add_cin(d, path, "a2")
    n = only(rcv.wait_notifications(1))
    check_headers(n)
    assert n.is_aggregate, n.body
    assert list(n.body) == ["m2m:agn"]
    sgns = n.sgns()
    assert len(sgns) == 3
    assert [s["nev"]["rep"]["m2m:cin"]["con"] for s in sgns] == \
        ["a0", "a1", "a2"]
    assert all(s["sur"] == sur_of(sub) and s["nev"]["net"] == 3
               for s in sgns)
    for i in range(3, 6):
        add_cin(d, path, "a%d" % i)
    got = rcv.wait_notifications(2)
    assert len(got) == 2
    assert [s["nev"]["rep"]["m2m:cin"]["con"] for s in got[1].sgns()] == \
        ["a3", "a4", "a5"]


def test_bn_dur_flushes_after_duration(d, rcv):
    path, _ = make_cnt(d)
    make_sub(d, path, nu=[rcv.url], enc=CIN,
             bn={"num": 100, "dur": "PT1S"})
    t0 = time.monotonic()
    add_cin(d, path, "d0")
    add_cin(d, path, "d1")
    assert rcv.notifications() == []
    n = only(rcv.wait_notifications(1, timeout=5))
    assert n.when - t0 >= 0.8, n.when - t0
    assert n.when - t0 < 3, n.when - t0
    assert [s["nev"]["rep"]["m2m:cin"]["con"] for s in n.sgns()] == \
        ["d0", "d1"]


def test_bn_dur_alone(d, rcv):
    path, _ = make_cnt(d)
    make_sub(d, path, nu=[rcv.url], enc=CIN, bn={"dur": "PT1S"})
    for i in range(4):
        add_cin(d, path, "e%d" % i)
    n = only(rcv.wait_notifications(1, timeout=5))
    assert len(n.sgns()) == 4


def test_ln_keeps_only_latest(d, rcv):
    path, _ = make_cnt(d)
    sub = make_sub(d, path, nu=[rcv.url], enc=CIN,
                   bn={"num": 3}, ln=True)
    for i in range(3):
        add_cin(d, path, "l%d" % i)
    n = only(rcv.wait_notifications(1))
    sgns = n.sgns()
    assert len(sgns) == 1, n.body
    assert sgns[0]["nev"]["rep"]["m2m:cin"]["con"] == "l2"
    assert sgns[0]["sur"] == sur_of(sub)
    no_more(rcv, 1, notif)


def test_batch_flushed_before_deletion_notice(d, rcv):
    su = rcv.url.replace("/notify", "/subscriber")
    path, _ = make_cnt(d)
    sub = make_sub(d, path, nu=[rcv.url], enc=CIN,
                   bn={"num": 10}, su=su)
    add_cin(d, path, "p0")
    add_cin(d, path, "p1")
    assert rsc(d.delete(sub["_path"], AE)) == 2002
    got = rcv.wait(2, pred=notif)
    batch = [x for x in got if x.path == "/notify"]
    assert len(batch) == 1, got
    assert [s["nev"]["rep"]["m2m:cin"]["con"] for s in batch[0].sgns()] \
        == ["p0", "p1"]
    ends = [x for x in got if x.path == "/subscriber"]
    assert len(ends) == 1 and ends[0].sgn["sud"] is True


# --- delivery never holds up requests ------------------------------------

def test_slow_receiver_does_not_slow_requests(d, rcv):
    path, _ = make_cnt(d)
    make_sub(d, path, nu=[rcv.url], enc=CIN)
    rcv.delay = 2.0
    t0 = time.monotonic()
    for i in range(50):
        r = d.create(path, 4, {"m2m:cin": {"con": i}}, origin=AE)
        assert rsc(r) == 2001, r.text
    took = time.monotonic() - t0
    assert took < 10, "50 creates took %.1fs behind a 2 s receiver" % took
    # reads are not held up either
    t1 = time.monotonic()
    assert d.get(path, AE).json()["m2m:cnt"]["cni"] == 50
    assert time.monotonic() - t1 < 1
    # and the notifications do go out
    assert len(rcv.wait_notifications(1, timeout=5)) >= 1


def test_failing_target_does_not_affect_create(d, rcv):
    path, _ = make_cnt(d)
    make_sub(d, path, nu=[rcv.url], enc=CIN)
    rcv.rsc = 5000
    r = d.create(path, 4, {"m2m:cin": {"con": "x"}}, origin=AE)
    assert r.status_code == 201, r.text
    assert rsc(r) == 2001
    assert len(rcv.wait_notifications(1)) == 1
    rcv.stop()                       # now nobody listens at all
    r = d.create(path, 4, {"m2m:cin": {"con": "y"}}, origin=AE)
    assert r.status_code == 201, r.text
    assert d.get(path, AE).json()["m2m:cnt"]["cni"] == 2
    assert d.get(path + "/la", AE).json()["m2m:cin"]["con"] == "y"
    assert d.alive()


def test_rolled_back_request_notifies_nobody(d, rcv):
    path, _ = make_cnt(d, mbs=4)
    make_sub(d, path, nu=[rcv.url], enc=CIN)
    r = d.create(path, 4, {"m2m:cin": {"con": "too large"}}, origin=AE)
    assert rsc(r) == 5207, r.text
    r = d.create(path, 4, {"m2m:cin": {"con": "ok"}}, origin=AE)
    assert rsc(r) == 2001, r.text
    n = only(rcv.wait_notifications(1))
    assert n.sgn["nev"]["rep"]["m2m:cin"]["con"] == "ok"
    no_more(rcv, 1, notif)
