"""Groups over HTTP: member validation (existence, access, type
consistency, maximum), duplicates, currentNrOfMembers, and the fan-out
point: requests run on every member, answers aggregated per member."""
import itertools

import pytest

from conftest import rsc

OWNER = "CgrpOwner"
OTHER = "CgrpOther"
BASE = "plaza/grpOwner"
_n = itertools.count(1)


@pytest.fixture(scope="module")
def d(plazad):
    plazad.register("grpOwner", origin=OWNER)
    plazad.register("grpOther", origin=OTHER)
    return plazad


def make_cnt(d, con=None, origin=OWNER, parent=BASE, **attrs):
    name = "m%d" % next(_n)
    body = {"rn": name}
    body.update(attrs)
    r = d.create(parent, 3, {"m2m:cnt": body}, origin=origin)
    assert r.status_code == 201, r.text
    path = parent + "/" + name
    if con is not None:
        r = d.create(path, 4, {"m2m:cin": {"con": con}}, origin=origin)
        assert r.status_code == 201, r.text
    return path, d.get(path).json()["m2m:cnt"]["ri"]


def grp_body(mid, mt=3, mnm=10, **kw):
    body = {"rn": "g%d" % next(_n), "mt": mt, "mnm": mnm, "mid": mid}
    body.update(kw)
    return {"m2m:grp": body}


def make_grp(d, mid, origin=OWNER, parent=BASE, want=2001, **kw):
    body = grp_body(mid, **kw)
    r = d.create(parent, 9, body, origin=origin)
    assert rsc(r) == want, r.text
    path = parent + "/" + body["m2m:grp"]["rn"]
    if want != 2001:
        assert d.get(path).status_code == 404
        return None, r
    return path, r.json()["m2m:grp"]


def ri_of(d, addr):
    """The resource id an address (any form) names, asked as the admin."""
    r = d.get(addr)
    assert r.status_code == 200, (addr, r.text)
    (res,) = r.json().values()
    return res["ri"]


def member_ris(d, grp):
    return [ri_of(d, m) for m in grp["mid"]]


def rsps(r):
    assert r.status_code == 200, r.text
    assert rsc(r) == 2000, r.text
    body = r.json()
    assert list(body) == ["m2m:agr"], body
    items = body["m2m:agr"]["m2m:rsp"]
    assert isinstance(items, list)
    return items


def pc_res(item):
    """The single resource in a member response's content."""
    (res,) = item["pc"].values()
    return res


# --- creation and validation --------------------------------------------

def test_create_group_with_valid_members(d):
    (p1, r1), (p2, r2) = make_cnt(d, "a"), make_cnt(d, "b")
    path, grp = make_grp(d, [p1, p2])
    assert grp["ty"] == 9
    assert grp["mt"] == 3
    assert grp["mnm"] == 10
    assert grp["cnm"] == 2
    assert len(grp["mid"]) == 2
    assert member_ris(d, grp) == [r1, r2]
    got = d.get(path, OWNER).json()["m2m:grp"]
    assert got["cnm"] == 2
    assert member_ris(d, got) == [r1, r2]


def test_members_in_every_address_form(d):
    (p1, r1), (p2, r2), (p3, r3) = make_cnt(d), make_cnt(d), make_cnt(d)
    path, grp = make_grp(d, [r1, "/plaza-in/" + p2, "/plaza-in/" + r3])
    assert grp["cnm"] == 3
    assert member_ris(d, grp) == [r1, r2, r3]


def test_nonexistent_member_is_4004(d):
    p1, _ = make_cnt(d)
    path, r = make_grp(d, [p1, BASE + "/nosuchmember"], want=4004)
    assert r.status_code == 404
    make_grp(d, [p1, "cnt99999999"], want=4004)


def test_member_type_mismatch_abandon_member(d):
    p1, r1 = make_cnt(d)
    for kw in ({"csy": 1}, {}):
        path, grp = make_grp(d, [p1, BASE], **kw)   # BASE is an AE
        assert grp["cnm"] == 1
        assert member_ris(d, grp) == [r1]
        assert grp["mt"] == 3


def test_member_type_mismatch_abandon_group(d):
    p1, _ = make_cnt(d)
    path, r = make_grp(d, [p1, BASE], csy=2, want=4110)
    assert r.status_code == 400


def test_member_type_mismatch_set_mixed(d):
    p1, r1 = make_cnt(d)
    path, grp = make_grp(d, [p1, BASE], csy=3)
    assert grp["mt"] == 24
    assert grp["cnm"] == 2
    assert member_ris(d, grp) == [r1, OWNER]
    assert d.get(path).json()["m2m:grp"]["mt"] == 24


def test_consistent_members_keep_type_under_every_csy(d):
    (p1, r1), (p2, r2) = make_cnt(d), make_cnt(d)
    for csy in (1, 2, 3):
        path, grp = make_grp(d, [p1, p2], csy=csy)
        assert grp["mt"] == 3 and grp["cnm"] == 2


def test_max_number_of_members(d):
    ms = [make_cnt(d) for _ in range(3)]
    paths = [p for p, _ in ms]
    path, r = make_grp(d, paths, mnm=2, want=6010)
    assert r.status_code == 400
    path, grp = make_grp(d, paths[:2], mnm=2)
    assert grp["cnm"] == 2
    r = d.update(path, {"m2m:grp": {"mid": paths}}, OWNER)
    assert rsc(r) == 6010, r.text
    r = d.update(path, {"m2m:grp": {"mnm": 1}}, OWNER)
    assert rsc(r) == 6010, r.text
    got = d.get(path).json()["m2m:grp"]
    assert got["mnm"] == 2 and got["cnm"] == 2
    assert len(got["mid"]) == 2
    r = d.update(path, {"m2m:grp": {"mnm": 3, "mid": paths}}, OWNER)
    assert rsc(r) == 2004, r.text
    assert r.json()["m2m:grp"]["cnm"] == 3


def test_duplicate_members_removed(d):
    (p1, r1), (p2, r2) = make_cnt(d), make_cnt(d)
    path, grp = make_grp(d, [p1, p1, r1, "/plaza-in/" + r1, p2, r2],
                         mnm=6)
    assert grp["cnm"] == 2
    assert member_ris(d, grp) == [r1, r2]


def test_cnm_follows_member_updates(d):
    ms = [make_cnt(d) for _ in range(3)]
    path, grp = make_grp(d, [ms[0][0]])
    assert grp["cnm"] == 1
    r = d.update(path, {"m2m:grp": {"mid": [p for p, _ in ms]}}, OWNER)
    assert rsc(r) == 2004, r.text
    assert r.json()["m2m:grp"]["cnm"] == 3
    got = d.get(path).json()["m2m:grp"]
    assert got["cnm"] == 3
    assert member_ris(d, got) == [ri for _, ri in ms]
    r = d.update(path, {"m2m:grp": {"mid": [ms[2][0]]}}, OWNER)
    assert rsc(r) == 2004, r.text
    got = d.get(path).json()["m2m:grp"]
    assert got["cnm"] == 1 and member_ris(d, got) == [ms[2][1]]
    # a bad member in an update changes nothing
    r = d.update(path, {"m2m:grp": {"mid": [ms[0][0], BASE + "/nope"]}},
                 OWNER)
    assert rsc(r) == 4004, r.text
    assert d.get(path).json()["m2m:grp"]["cnm"] == 1


def test_cnm_is_not_writable(d):
    p1, _ = make_cnt(d)
    r = d.create(BASE, 9, grp_body([p1], cnm=5), origin=OWNER)
    assert rsc(r) == 4000, r.text


def test_member_not_retrievable_is_5105(d):
    p1, _ = make_cnt(d)                         # OWNER's, no acpi
    theirs, _ = make_cnt(d, origin=OTHER, parent="plaza/grpOther")
    path, r = make_grp(d, [theirs, p1], origin=OTHER,
                       parent="plaza/grpOther", want=5105)
    assert r.status_code == 403


# --- fan-out point ---------------------------------------------------------

def test_fopt_retrieve(d):
    (p1, r1), (p2, r2) = make_cnt(d, "x1"), make_cnt(d, "x2")
    path, _ = make_grp(d, [p1, p2])
    items = rsps(d.get(path + "/fopt", OWNER))
    assert len(items) == 2
    assert [i["rsc"] for i in items] == [2000, 2000]
    assert sorted(pc_res(i)["ri"] for i in items) == sorted([r1, r2])
    assert all("m2m:cnt" in i["pc"] for i in items)


def test_fopt_create(d):
    (p1, r1), (p2, r2) = make_cnt(d), make_cnt(d)
    path, _ = make_grp(d, [p1, p2])
    r = d.create(path + "/fopt", 4, {"m2m:cin": {"con": "fan"}},
                 origin=OWNER)
    items = rsps(r)
    assert [i["rsc"] for i in items] == [2001, 2001]
    assert sorted(pc_res(i)["pi"] for i in items) == sorted([r1, r2])
    for p in (p1, p2):
        cnt = d.get(p).json()["m2m:cnt"]
        assert cnt["cni"] == 1
        assert d.get(p + "/la").json()["m2m:cin"]["con"] == "fan"


def test_fopt_update(d):
    (p1, _), (p2, _) = make_cnt(d), make_cnt(d)
    path, _ = make_grp(d, [p1, p2])
    r = d.update(path + "/fopt", {"m2m:cnt": {"lbl": ["fanned"]}}, OWNER)
    items = rsps(r)
    assert [i["rsc"] for i in items] == [2004, 2004]
    for p in (p1, p2):
        assert d.get(p).json()["m2m:cnt"]["lbl"] == ["fanned"]
    # the group itself is untouched
    assert "lbl" not in d.get(path).json()["m2m:grp"]


def test_fopt_sub_path(d):
    (p1, r1), (p2, r2) = make_cnt(d, "old1"), make_cnt(d, "old2")
    d.create(p1, 4, {"m2m:cin": {"con": "new1"}}, origin=OWNER)
    d.create(p2, 4, {"m2m:cin": {"con": "new2"}}, origin=OWNER)
    path, _ = make_grp(d, [p1, p2])
    items = rsps(d.get(path + "/fopt/la", OWNER))
    assert [i["rsc"] for i in items] == [2000, 2000]
    got = {pc_res(i)["pi"]: pc_res(i)["con"] for i in items}
    assert got == {r1: "new1", r2: "new2"}
    items = rsps(d.get(path + "/fopt/ol", OWNER))
    got = {pc_res(i)["pi"]: pc_res(i)["con"] for i in items}
    assert got == {r1: "old1", r2: "old2"}


def test_fopt_rsc_per_member(d):
    (p1, r1), (p2, r2) = make_cnt(d), make_cnt(d)
    kid, kid_ri = make_cnt(d, "deep", parent=p1)
    kid_name = kid.split("/")[-1]
    path, _ = make_grp(d, [p1, p2])
    items = rsps(d.get(path + "/fopt/" + kid_name, OWNER))
    assert len(items) == 2
    codes = sorted(i["rsc"] for i in items)
    assert codes == [2000, 4004]
    ok = [i for i in items if i["rsc"] == 2000][0]
    assert pc_res(ok)["ri"] == kid_ri
    # create through the fan-out: one member already has that name
    r = d.create(path + "/fopt", 3, {"m2m:cnt": {"rn": kid_name}},
                 origin=OWNER)
    codes = sorted(i["rsc"] for i in rsps(r))
    assert codes == [2001, 4105]
    assert d.get(p2 + "/" + kid_name).status_code == 200


def test_fopt_delete(d):
    (p1, _), (p2, _) = make_cnt(d, "a"), make_cnt(d, "b")
    d.create(p1, 4, {"m2m:cin": {"con": "a2"}}, origin=OWNER)
    d.create(p2, 4, {"m2m:cin": {"con": "b2"}}, origin=OWNER)
    path, _ = make_grp(d, [p1, p2])
    items = rsps(d.delete(path + "/fopt/la", OWNER))
    assert [i["rsc"] for i in items] == [2002, 2002]
    assert d.get(p1 + "/la").json()["m2m:cin"]["con"] == "a"
    assert d.get(p2 + "/la").json()["m2m:cin"]["con"] == "b"
    assert d.get(p1).json()["m2m:cnt"]["cni"] == 1
    items = rsps(d.delete(path + "/fopt", OWNER))
    assert [i["rsc"] for i in items] == [2002, 2002]
    assert d.get(p1).status_code == 404
    assert d.get(p2).status_code == 404
    # the group stays; its members are gone
    assert d.get(path).status_code == 200
    items = rsps(d.get(path + "/fopt", OWNER))
    assert [i["rsc"] for i in items] in ([4004, 4004], [])


def test_fopt_denied_without_privileges(d):
    (p1, _), (p2, _) = make_cnt(d, "keep"), make_cnt(d, "keep")
    path, _ = make_grp(d, [p1, p2])
    r = d.get(path + "/fopt", OTHER)
    assert rsc(r) == 4103, r.text
    assert r.status_code == 403
    r = d.get(path + "/fopt/la", OTHER)
    assert rsc(r) == 4103, r.text
    r = d.create(path + "/fopt", 4, {"m2m:cin": {"con": "evil"}},
                 origin=OTHER)
    assert rsc(r) == 4103, r.text
    r = d.update(path + "/fopt", {"m2m:cnt": {"lbl": ["evil"]}}, OTHER)
    assert rsc(r) == 4103, r.text
    r = d.delete(path + "/fopt", OTHER)
    assert rsc(r) == 4103, r.text
    for p in (p1, p2):
        cnt = d.get(p).json()["m2m:cnt"]
        assert cnt["cni"] == 1 and "lbl" not in cnt
    # the group itself is private too
    assert rsc(d.get(path, OTHER)) == 4103


def test_fopt_checks_each_member(d):
    # OTHER may use the group, but not its members: every member answers
    # 4103 and nothing changes
    (p1, _), (p2, _) = make_cnt(d, "keep"), make_cnt(d, "keep")
    r = d.create(BASE, 1, {"m2m:acp": {
        "pv": {"acr": [{"acor": [OTHER], "acop": 63}]},
        "pvs": {"acr": [{"acor": [OWNER], "acop": 63}]}}}, origin=OWNER)
    assert r.status_code == 201, r.text
    acp = r.json()["m2m:acp"]["ri"]
    path, _ = make_grp(d, [p1, p2], acpi=[acp])
    assert rsc(d.get(path, OTHER)) == 2000
    items = rsps(d.get(path + "/fopt", OTHER))
    assert [i["rsc"] for i in items] == [4103, 4103]
    assert all("m2m:cnt" not in (i.get("pc") or {}) for i in items)
    items = rsps(d.create(path + "/fopt", 4, {"m2m:cin": {"con": "evil"}},
                          origin=OTHER))
    assert [i["rsc"] for i in items] == [4103, 4103]
    items = rsps(d.delete(path + "/fopt", OTHER))
    assert [i["rsc"] for i in items] == [4103, 4103]
    for p in (p1, p2):
        assert d.get(p).json()["m2m:cnt"]["cni"] == 1


def test_fopt_member_granted_to_other(d):
    # one member shared with OTHER through an ACP, one not
    r = d.create(BASE, 1, {"m2m:acp": {
        "pv": {"acr": [{"acor": [OTHER], "acop": 2},
                       {"acor": [OWNER], "acop": 63}]},
        "pvs": {"acr": [{"acor": [OWNER], "acop": 63}]}}}, origin=OWNER)
    acp = r.json()["m2m:acp"]["ri"]
    r = d.create(BASE, 1, {"m2m:acp": {
        "pv": {"acr": [{"acor": [OTHER, OWNER], "acop": 63}]},
        "pvs": {"acr": [{"acor": [OWNER], "acop": 63}]}}}, origin=OWNER)
    gacp = r.json()["m2m:acp"]["ri"]
    shared, shared_ri = make_cnt(d, "s", acpi=[acp])
    private, _ = make_cnt(d, "p")
    path, _ = make_grp(d, [shared, private], acpi=[gacp])
    items = rsps(d.get(path + "/fopt", OTHER))
    by = {i["rsc"]: i for i in items}
    assert sorted(by) == [2000, 4103]
    assert pc_res(by[2000])["ri"] == shared_ri


def test_group_of_the_admin_across_aes(d):
    p1, r1 = make_cnt(d, "owner's")
    p2, r2 = make_cnt(d, "other's", origin=OTHER, parent="plaza/grpOther")
    path, grp = make_grp(d, [p1, p2], origin="CAdmin", parent="plaza")
    assert grp["cnm"] == 2
    items = rsps(d.get(path + "/fopt/la"))
    assert sorted(pc_res(i)["con"] for i in items) == ["other's", "owner's"]


def test_fopt_of_ae_group(d):
    path, grp = make_grp(d, [BASE, "plaza/grpOther"], mt=2,
                         origin="CAdmin", parent="plaza")
    assert grp["cnm"] == 2
    items = rsps(d.get(path + "/fopt"))
    assert sorted(pc_res(i)["aei"] for i in items) == sorted([OWNER, OTHER])


def _acp(d, rules):
    r = d.create(BASE, 1, {"m2m:acp": {
        "pv": {"acr": rules},
        "pvs": {"acr": [{"acor": [OWNER], "acop": 63}]}}}, origin=OWNER)
    assert r.status_code == 201, r.text
    return r.json()["m2m:acp"]["ri"]


def test_macp_governs_the_fan_out_point(d):
    both = _acp(d, [{"acor": [OTHER, OWNER], "acop": 63}])
    owner_only = _acp(d, [{"acor": [OWNER], "acop": 63}])
    (p1, _), (p2, _) = make_cnt(d, "a", acpi=[both]), \
        make_cnt(d, "b", acpi=[both])
    # the group is OTHER's to read, but its members' policy is not
    path, _ = make_grp(d, [p1, p2], acpi=[both], macp=[owner_only])
    assert rsc(d.get(path, OTHER)) == 2000
    r = d.get(path + "/fopt", OTHER)
    assert rsc(r) == 4103, r.text
    items = rsps(d.get(path + "/fopt", OWNER))
    assert [i["rsc"] for i in items] == [2000, 2000]
    # and the other way round
    path, _ = make_grp(d, [p1, p2], acpi=[owner_only], macp=[both])
    assert rsc(d.get(path, OTHER)) == 4103
    items = rsps(d.get(path + "/fopt", OTHER))
    assert [i["rsc"] for i in items] == [2000, 2000]
