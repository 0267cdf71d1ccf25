"""Addressing (TS-0001 7.2, TS-0009 6.2): every scope (CSE-relative,
SP-relative /~/, absolute /_/) and every form (structured, unstructured,
hybrid, "-" for the CSEBase name) for retrieve, create, update and delete;
unknown CSEs and SPs; not-found answers.
"""
import uuid

import pytest

from conftest import rsc

CSI = "plaza-in"
SP = "plaza.example"


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


def forms(aei, aern, cri, tail):
    """Every address of the resource <aern>/<tail> (tail below the AE,
    e.g. "cnt" or "cnt/la"); cri is the resource id of the first segment of
    tail (for the unstructured and hybrid forms)."""
    rest = tail.split("/", 1)
    below = "/" + rest[1] if len(rest) > 1 else ""
    return {
        "cse-structured": "plaza/%s/%s" % (aern, tail),
        "cse-structured-slash": "plaza/%s/%s/" % (aern, tail),
        "cse-dash": "-/%s/%s" % (aern, tail),
        "cse-unstructured": cri + below,
        "cse-hybrid": "%s/%s" % (aei, tail),
        "sp-structured": "/~/%s/plaza/%s/%s" % (CSI, aern, tail),
        "sp-structured-slash": "/~/%s/plaza/%s/%s/" % (CSI, aern, tail),
        "sp-dash": "/~/%s/-/%s/%s" % (CSI, aern, tail),
        "sp-unstructured": "/~/%s/%s%s" % (CSI, cri, below),
        "sp-hybrid": "/~/%s/%s/%s" % (CSI, aei, tail),
        "abs-structured": "/_/%s/%s/plaza/%s/%s" % (SP, CSI, aern, tail),
        "abs-dash": "/_/%s/%s/-/%s/%s" % (SP, CSI, aern, tail),
        "abs-unstructured": "/_/%s/%s/%s%s" % (SP, CSI, cri, below),
        "abs-hybrid": "/_/%s/%s/%s/%s" % (SP, CSI, aei, tail),
    }


FORM_NAMES = list(forms("A", "a", "r", "c").keys())


@pytest.fixture(scope="module")
def tree(plazad):
    """An AE with a requested AE-ID and a container with two instances."""
    aei = uniq("Caddr")
    aern = uniq("addr")
    plazad.register(aern, origin=aei)
    r = plazad.create("plaza/" + aern, 3, {"m2m:cnt": {"rn": "cnt"}},
                      origin=aei)
    expect(r, 201, 2001)
    cnt = r.json()["m2m:cnt"]
    cins = []
    for con in ("first", "second"):
        r = plazad.create("plaza/%s/cnt" % aern, 4,
                          {"m2m:cin": {"con": con}}, origin=aei)
        expect(r, 201, 2001)
        cins.append(r.json()["m2m:cin"])
    return {"aei": aei, "aern": aern, "cnt": cnt, "cins": cins}


# --- retrieve -----------------------------------------------------------

@pytest.mark.parametrize("form", FORM_NAMES)
def test_retrieve_container(plazad, tree, form):
    path = forms(tree["aei"], tree["aern"], tree["cnt"]["ri"], "cnt")[form]
    r = plazad.get(path, tree["aei"])
    expect(r, 200, 2000)
    assert r.json()["m2m:cnt"]["ri"] == tree["cnt"]["ri"]
    assert r.headers.get("X-M2M-RI")


@pytest.mark.parametrize("form", FORM_NAMES)
def test_retrieve_latest(plazad, tree, form):
    path = forms(tree["aei"], tree["aern"], tree["cnt"]["ri"],
                 "cnt/la")[form]
    r = plazad.get(path, tree["aei"])
    expect(r, 200, 2000)
    assert r.json()["m2m:cin"]["ri"] == tree["cins"][-1]["ri"]


@pytest.mark.parametrize("form", FORM_NAMES)
def test_retrieve_oldest(plazad, tree, form):
    path = forms(tree["aei"], tree["aern"], tree["cnt"]["ri"],
                 "cnt/ol")[form]
    r = plazad.get(path, tree["aei"])
    expect(r, 200, 2000)
    assert r.json()["m2m:cin"]["ri"] == tree["cins"][0]["ri"]


@pytest.mark.parametrize("path", [
    "plaza", "plaza/", "-", "-/", CSI, "/~/" + CSI, "/~/%s/" % CSI,
    "/~/%s/plaza" % CSI, "/~/%s/-" % CSI, "/~/%s/%s" % (CSI, CSI),
    "/_/%s/%s" % (SP, CSI), "/_/%s/%s/" % (SP, CSI),
    "/_/%s/%s/plaza" % (SP, CSI), "/_/%s/%s/-" % (SP, CSI)])
def test_retrieve_csebase(plazad, path):
    r = plazad.get(path)
    expect(r, 200, 2000)
    cb = r.json()["m2m:cb"]
    assert cb["ri"] == CSI and cb["rn"] == "plaza"


@pytest.mark.parametrize("form", ["unstructured", "sp", "abs", "structured",
                                  "sp-structured"])
def test_retrieve_ae(plazad, tree, form):
    aei, aern = tree["aei"], tree["aern"]
    path = {"unstructured": aei, "sp": "/~/%s/%s" % (CSI, aei),
            "abs": "/_/%s/%s/%s" % (SP, CSI, aei),
            "structured": "plaza/" + aern,
            "sp-structured": "/~/%s/plaza/%s" % (CSI, aern)}[form]
    r = plazad.get(path, aei)
    expect(r, 200, 2000)
    assert r.json()["m2m:ae"]["aei"] == aei


@pytest.mark.parametrize("form", ["cse", "sp", "abs", "hybrid"])
def test_retrieve_instance_by_id(plazad, tree, form):
    cin = tree["cins"][0]
    path = {"cse": cin["ri"], "sp": "/~/%s/%s" % (CSI, cin["ri"]),
            "abs": "/_/%s/%s/%s" % (SP, CSI, cin["ri"]),
            "hybrid": "%s/%s" % (tree["cnt"]["ri"], cin["rn"])}[form]
    r = plazad.get(path, tree["aei"])
    expect(r, 200, 2000)
    assert r.json()["m2m:cin"] == cin


# --- create, update, delete ----------------------------------------------

@pytest.mark.parametrize("form", FORM_NAMES)
def test_create_in_every_form(plazad, tree, form):
    aei, aern = tree["aei"], tree["aern"]
    rn = uniq("f")
    r = plazad.create("plaza/" + aern, 3, {"m2m:cnt": {"rn": rn}},
                      origin=aei)
    expect(r, 201, 2001)
    ri = r.json()["m2m:cnt"]["ri"]
    path = forms(aei, aern, ri, rn)[form]
    r = plazad.create(path, 4, {"m2m:cin": {"con": form, "rn": "x"}},
                      origin=aei)
    expect(r, 201, 2001)
    cin = r.json()["m2m:cin"]
    assert cin["pi"] == ri
    # Content-Location names the new instance.
    loc = r.headers.get("Content-Location")
    assert loc
    g = plazad.get(loc if loc.startswith("/") else "/" + loc, aei)
    expect(g, 200, 2000)
    assert g.json()["m2m:cin"]["ri"] == cin["ri"]
    g = plazad.get("plaza/%s/%s/x" % (aern, rn), aei)
    assert g.json()["m2m:cin"]["con"] == form
    c = plazad.get("plaza/%s/%s" % (aern, rn), aei).json()["m2m:cnt"]
    assert (c["cni"], c["cbs"], c["st"]) == (1, len(form), 1)


@pytest.mark.parametrize("form", FORM_NAMES)
def test_update_in_every_form(plazad, tree, form):
    aei, aern = tree["aei"], tree["aern"]
    rn = uniq("u")
    r = plazad.create("plaza/" + aern, 3, {"m2m:cnt": {"rn": rn}},
                      origin=aei)
    ri = r.json()["m2m:cnt"]["ri"]
    path = forms(aei, aern, ri, rn)[form]
    r = plazad.update(path, {"m2m:cnt": {"lbl": [form]}}, origin=aei)
    expect(r, 200, 2004)
    assert r.json()["m2m:cnt"]["ri"] == ri
    c = plazad.get(ri, aei).json()["m2m:cnt"]
    assert c["lbl"] == [form] and c["st"] == 1


@pytest.mark.parametrize("form", FORM_NAMES)
def test_delete_in_every_form(plazad, tree, form):
    aei, aern = tree["aei"], tree["aern"]
    rn = uniq("d")
    r = plazad.create("plaza/" + aern, 3, {"m2m:cnt": {"rn": rn}},
                      origin=aei)
    ri = r.json()["m2m:cnt"]["ri"]
    path = forms(aei, aern, ri, rn)[form]
    r = plazad.delete(path, aei)
    expect(r, 200, 2002)
    expect(plazad.get(ri, aei), 404, 4004)
    # The neighbours are untouched.
    expect(plazad.get(tree["cnt"]["ri"], aei), 200, 2000)


@pytest.mark.parametrize("form", FORM_NAMES)
def test_delete_latest_in_every_form(plazad, tree, form):
    aei, aern = tree["aei"], tree["aern"]
    rn = uniq("dl")
    r = plazad.create("plaza/" + aern, 3, {"m2m:cnt": {"rn": rn}},
                      origin=aei)
    ri = r.json()["m2m:cnt"]["ri"]
    made = []
    for con in ("a", "bb"):
        r = plazad.create(ri, 4, {"m2m:cin": {"con": con}}, origin=aei)
        expect(r, 201, 2001)
        made.append(r.json()["m2m:cin"])
    path = forms(aei, aern, ri, rn + "/la")[form]
    expect(plazad.delete(path, aei), 200, 2002)
    expect(plazad.get(made[1]["ri"], aei), 404, 4004)
    expect(plazad.get(made[0]["ri"], aei), 200, 2000)
    c = plazad.get(ri, aei).json()["m2m:cnt"]
    assert (c["cni"], c["cbs"]) == (1, 1)


def test_register_in_every_csebase_form(plazad):
    for path in ("plaza", "-", "/~/%s" % CSI, "/~/%s/plaza" % CSI,
                 "/_/%s/%s" % (SP, CSI), "/_/%s/%s/-" % (SP, CSI), CSI):
        rn = uniq("reg")
        r = plazad.create(path, 2, {"m2m:ae": {"api": "Nx", "rr": False,
                                               "srv": ["4"], "rn": rn}},
                          origin="C", token=False)
        expect(r, 201, 2001)
        aei = r.json()["m2m:ae"]["aei"]
        plazad.tokens[aei] = r.headers["X-Plaza-Token"]
        expect(plazad.get("plaza/" + rn, aei), 200, 2000)


# --- originator in every scope --------------------------------------------

@pytest.mark.parametrize("scope", ["plain", "sp", "abs"])
def test_originator_scopes(plazad, tree, scope):
    aei = tree["aei"]
    orig = {"plain": aei, "sp": "/%s/%s" % (CSI, aei),
            "abs": "//%s/%s/%s" % (SP, CSI, aei)}[scope]
    r = plazad.get("plaza/%s/cnt" % tree["aern"], origin=None, headers={
        "X-M2M-Origin": orig,
        "Authorization": "Bearer " + plazad.tokens[aei]})
    expect(r, 200, 2000)


# --- unreachable and not found ---------------------------------------------

@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
@pytest.mark.parametrize("path", [
    "/~/other-in/plaza", "/~/other-in/plaza/x", "/~/plaza-inx/plaza",
    "/~/plaza/plaza", "/_/other.example/plaza-in/plaza",
    "/_/other.example/plaza-in", "/_/plaza.example/other-in/plaza",
    "/_/plaza.examplex/plaza-in/plaza"])
def test_unknown_cse_or_sp(plazad, path, method):
    body = None
    ty = None
    if method == "POST":
        body, ty = {"m2m:cnt": {"rn": "x"}}, 3
    elif method == "PUT":
        body = {"m2m:cnt": {"lbl": ["x"]}}
    r = plazad.request(method, path, body=body, ty=ty)
    expect(r, 404, 5103)
    assert plazad.alive()


@pytest.mark.parametrize("path", [
    "plaza/nosuchthing", "plaza/{aern}/nosuchthing",
    "plaza/{aern}/cnt/nosuchthing", "cnt999999999", "nosuchthing",
    "/~/plaza-in/nosuchthing", "/~/plaza-in/plaza/nosuchthing",
    "/_/plaza.example/plaza-in/nosuchthing", "{aei}/nosuchthing",
    "Cnosuchthing/cnt", "plaza/{aern}//cnt", "plaza/{aern}/cnt/la/x",
    "plaza/{aern}/la", "plaza/{aern}/cnt/{cin_rn}/la", "plaza/plaza",
    "cin0", "cnt", "{cin_ri}x"])
def test_not_found(plazad, tree, path):
    path = path.format(aern=tree["aern"], aei=tree["aei"],
                       cin_rn=tree["cins"][0]["rn"],
                       cin_ri=tree["cins"][0]["ri"])
    for method in ("GET", "PUT", "DELETE"):
        body = {"m2m:cnt": {"lbl": ["x"]}} if method == "PUT" else None
        r = plazad.request(method, path, body=body)
        expect(r, 404, 4004)
        dbg = r.json()["m2m:dbg"]
        assert "nosuchthing" in dbg or path.strip("/").split("/")[-1] in \
            dbg or "not" in dbg.lower(), dbg
    assert plazad.get(tree["cnt"]["ri"], tree["aei"]).json()["m2m:cnt"][
        "cni"] == 2


def test_not_found_names_the_target(plazad, tree):
    r = plazad.get("plaza/%s/cnt/nosuchthing" % tree["aern"], tree["aei"])
    expect(r, 404, 4004)
    assert "nosuchthing" in r.json()["m2m:dbg"]


def test_create_under_missing_parent(plazad, tree):
    r = plazad.create("plaza/%s/nosuchparent" % tree["aern"], 3,
                      {"m2m:cnt": {"rn": "x"}}, origin=tree["aei"])
    expect(r, 404, 4004)
    r = plazad.create("/~/plaza-in/cnt999999999", 4,
                      {"m2m:cin": {"con": "x"}}, origin=tree["aei"])
    expect(r, 404, 4004)


def test_same_name_different_parents(plazad, tree):
    """Structured names are per parent; ids are global."""
    aei, aern = tree["aei"], tree["aern"]
    a = plazad.create("plaza/" + aern, 3, {"m2m:cnt": {"rn": uniq("p")}},
                      origin=aei).json()["m2m:cnt"]
    b = plazad.create("plaza/" + aern, 3, {"m2m:cnt": {"rn": uniq("p")}},
                      origin=aei).json()["m2m:cnt"]
    ra = plazad.create(a["ri"], 3, {"m2m:cnt": {"rn": "same"}}, origin=aei)
    rb = plazad.create(b["ri"], 3, {"m2m:cnt": {"rn": "same"}}, origin=aei)
    expect(ra, 201, 2001)
    expect(rb, 201, 2001)
    assert ra.json()["m2m:cnt"]["ri"] != rb.json()["m2m:cnt"]["ri"]
    ga = plazad.get("%s/same" % a["ri"], aei).json()["m2m:cnt"]
    gb = plazad.get("plaza/%s/%s/same" % (aern, b["rn"]), aei).json()[
        "m2m:cnt"]
    assert ga["ri"] == ra.json()["m2m:cnt"]["ri"]
    assert gb["ri"] == rb.json()["m2m:cnt"]["ri"]


def test_name_looking_like_an_id(plazad, tree):
    """A resource named like another's id is addressed by name only in the
    structured form; the unstructured form still finds the id's owner."""
    aei, aern = tree["aei"], tree["aern"]
    victim = tree["cnt"]["ri"]
    r = plazad.create("plaza/" + aern, 3, {"m2m:cnt": {"rn": victim}},
                      origin=aei)
    if r.status_code == 409:  # the name happens to be taken already
        return
    expect(r, 201, 2001)
    named = r.json()["m2m:cnt"]
    assert named["ri"] != victim
    assert plazad.get(victim, aei).json()["m2m:cnt"]["rn"] == "cnt"
    assert plazad.get("plaza/%s/%s" % (aern, victim), aei).json()[
        "m2m:cnt"]["ri"] == named["ri"]
