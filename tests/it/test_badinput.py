"""Bad input never costs data (DESIGN principle 6): every malformed or
hostile request is refused with the right status and rsc and a readable
m2m:dbg, the daemon keeps answering, and the stored data are exactly as
before (a container's cni/cbs/st/lt and its children, the AE and the list
of registered AEs are compared before and after every bad request).
"""
import json
import socket
import time
import uuid

import pytest

from conftest import rsc

MIB = 1 << 20


def uniq(prefix):
    return prefix + uuid.uuid4().hex[:10]


def expect(r, status, code):
    assert (r.status_code, rsc(r)) == (status, code), \
        "expected %d/%d, got %d/%d: %s" % (status, code, r.status_code,
                                           rsc(r), r.text[:500])
    body = r.json()
    dbg = body.get("m2m:dbg")
    assert isinstance(dbg, str) and dbg.strip(), r.text
    return r


@pytest.fixture(scope="module")
def w(plazad):
    """An AE with container c holding two instances and a sub-container."""
    d = plazad
    rn = uniq("bad")
    aei, _ = d.register(rn)
    ae = "plaza/" + rn
    c = ae + "/c"
    r = d.create(ae, 3, {"m2m:cnt": {"rn": "c", "mbs": 10000}}, origin=aei)
    assert r.status_code == 201, r.text
    for con in ("one", {"two": 2}):
        r = d.create(c, 4, {"m2m:cin": {"con": con}}, origin=aei)
        assert r.status_code == 201, r.text
    r = d.create(c, 3, {"m2m:cnt": {"rn": "sub"}}, origin=aei)
    assert r.status_code == 201, r.text
    return {"aei": aei, "rn": rn, "ae": ae, "c": c,
            "c_ri": d.get(c).json()["m2m:cnt"]["ri"]}


@pytest.fixture(scope="module")
def victim(plazad):
    """A second AE, outside the snapshot, whose containers the tests that
    could destroy data aim at."""
    rn = uniq("victim")
    aei, _ = plazad.register(rn)
    return {"aei": aei, "rn": rn, "ae": "plaza/" + rn}


def scratch(d, v):
    """A fresh container (with one instance) under the victim AE."""
    rn = uniq("v")
    r = d.create(v["ae"], 3, {"m2m:cnt": {"rn": rn}}, origin=v["aei"])
    assert r.status_code == 201, r.text
    r = d.create(v["ae"] + "/" + rn, 4, {"m2m:cin": {"con": "keep"}},
                 origin=v["aei"])
    assert r.status_code == 201, r.text
    return rn


def intact(d, v, rn):
    """The victim AE and its container rn are still there, unchanged."""
    assert d.get(v["ae"], v["aei"]).status_code == 200
    c = d.get("%s/%s" % (v["ae"], rn), v["aei"])
    assert c.status_code == 200, "the container was destroyed: " + c.text
    c = c.json()["m2m:cnt"]
    assert (c["cni"], c["cbs"], c["st"]) == (1, 4, 1), c


def snapshot(d, w):
    """Everything a bad request could have touched."""
    c = d.get(w["c"], "CAdmin", params={"rcn": "4"})
    assert c.status_code == 200, c.text
    ae = d.get(w["ae"], "CAdmin", params={"rcn": "4"})
    assert ae.status_code == 200, ae.text
    aes = d.get("plaza", "CAdmin", params={"rcn": "8", "lvl": "1"})
    assert aes.status_code == 200, aes.text
    return {"c": c.json(), "ae": ae.json(), "aes": aes.json()}


@pytest.fixture
def changes_data():
    """Requested by the tests that are meant to store something."""
    return True


@pytest.fixture(autouse=True)
def unchanged(request, plazad, w):
    """After each bad input: the daemon answers and nothing changed."""
    mutating = "changes_data" in request.fixturenames
    before = None if mutating else snapshot(plazad, w)
    yield
    assert plazad.alive(), "plazad stopped answering:\n" + \
        plazad.log()[-3000:]
    if before is not None:
        after = snapshot(plazad, w)
        cb, ca = before["c"]["m2m:cnt"], after["c"]["m2m:cnt"]
        for k in ("cni", "cbs", "st", "lt"):
            assert ca[k] == cb[k], (k, cb[k], ca[k])
        assert after == before


def post(d, w, raw, ty=4, path=None, headers=None, **kw):
    h = {"Content-Type": "application/json;ty=%d" % ty}
    if headers:
        h.update(headers)
    return d.request("POST", path or w["c"], origin=w["aei"], raw=raw,
                     headers=h, **kw)


# --- the body -----------------------------------------------------------

MALFORMED = [
    '{"m2m:cin": {"con": "x"',
    '{"m2m:cin": {"con": "x"}} trailing',
    '{"m2m:cin": {"con": "x"}}{"m2m:cin": {"con": "y"}}',
    "{'m2m:cin': {'con': 'x'}}",
    '{"m2m:cin": {"con": x}}',
    '{"m2m:cin": {"con": "x",}}',
    '{"m2m:cin": {"con": NaN}}',
    '{"m2m:cin": {"con": "\\x"}}',
    '{"m2m:cin": {"con": "a\\u0000b"}}',
    '{"m2m:cin": {"con": "\\ud800"}}',
    "",
    "   ",
    "\x00",
]


@pytest.mark.parametrize("raw", MALFORMED)
def test_malformed_json(plazad, w, raw):
    expect(post(plazad, w, raw), 400, 4000)


def test_invalid_utf8(plazad, w):
    raw = b'{"m2m:cin": {"con": "\xff\xfe\xc3("}}'
    expect(post(plazad, w, raw), 400, 4000)


@pytest.mark.parametrize("raw", ["[1, 2]", '"str"', "42", "null", "true",
                                 "[]", '[{"m2m:cin": {"con": "x"}}]'])
def test_json_not_an_object(plazad, w, raw):
    expect(post(plazad, w, raw), 400, 4000)
    expect(plazad.request("PUT", w["c"], origin=w["aei"], raw=raw), 400,
           4000)


@pytest.mark.parametrize("body", [
    {"m2m:cnt": {"con": "x"}},
    {"m2m:foo": {"con": "x"}},
    {"cin": {"con": "x"}},
    {"m2m:cin": {"con": "x"}, "m2m:cnt": {}},
    {"m2m:cin": "x"},
    {"m2m:cin": ["con", "x"]},
    {"m2m:cin": None},
    {"m2m:cin": 4},
    {},
])
def test_wrong_root(plazad, w, body):
    expect(post(plazad, w, json.dumps(body)), 400, 4000)


@pytest.mark.parametrize("target,body", [
    ("c", {"m2m:cin": {"con": "x"}}), ("c", {"m2m:ae": {"lbl": ["x"]}}),
    ("c", {"m2m:cnt": {"lbl": ["x"]}, "m2m:cin": {}}),
    ("c", {"m2m:cnt": "x"}), ("c", {"m2m:cnt": None}),
    ("ae", {"m2m:cnt": {"lbl": ["x"]}}), ("ae", {"m2m:cb": {"lbl": ["x"]}})])
def test_wrong_root_update(plazad, w, target, body):
    expect(plazad.update(w[target], body, origin=w["aei"]), 400, 4000)


@pytest.mark.parametrize("attrs", [
    {"con": "x", "lbl": "a"}, {"con": "x", "lbl": [1]},
    {"con": "x", "lbl": [None]}, {"con": "x", "cnf": 5},
    {"con": "x", "cnf": "plain"}, {"con": "x", "cnf": "text/plain:9"},
    {"con": "x", "rn": 5}, {"con": "x", "rn": ["a"]},
    {"con": "x", "et": 5}, {"con": "x", "et": "tomorrow"},
    {"con": "x", "cr": "Cfoo"}, {"con": "x", "cr": 1}, {"con": None},
])
def test_wrong_attribute_types(plazad, w, attrs):
    expect(post(plazad, w, json.dumps({"m2m:cin": attrs})), 400, 4000)


@pytest.mark.parametrize("attrs", [
    {"mni": "5"}, {"mni": -1}, {"mni": 1.5}, {"mni": True}, {"mni": [5]},
    {"mbs": {"v": 1}}, {"mia": -3}, {"lbl": "x"}, {"lbl": [["x"]]},
    {"et": 20300101}, {"disr": "yes"}, {"li": 5}, {"acpi": "x"},
])
def test_wrong_attribute_types_update(plazad, w, attrs):
    expect(plazad.update(w["c"], {"m2m:cnt": attrs}, origin=w["aei"]), 400,
           4000)


@pytest.mark.parametrize("raw", ['{"m2m:cnt": {"mni": 1e400}}',
                                 '{"m2m:cnt": {"mni": 99999999999999999999999}}',
                                 '{"m2m:cnt": {"mni": -99999999999999999999}}',
                                 '{"m2m:cnt": {"mni": 1e3}}'])
def test_numbers_out_of_range(plazad, w, raw):
    expect(plazad.request("PUT", w["c"], origin=w["aei"], raw=raw), 400,
           4000)


@pytest.mark.parametrize("attrs", [
    {"con": "x", "foo": 1}, {"con": "x", "ty": 4}, {"con": "x", "ri": "r"},
    {"con": "x", "pi": "p"}, {"con": "x", "cs": 1}, {"con": "x", "st": 1},
    {"con": "x", "ct": "20200101T000000"}, {"con": "x", "m2m:con": "y"},
    {"con": "x", "": 1}])
def test_unknown_or_readonly_attributes_create(plazad, w, attrs):
    expect(post(plazad, w, json.dumps({"m2m:cin": attrs})), 400, 4000)


@pytest.mark.parametrize("attrs", [
    {"foo": 1}, {"cni": 0}, {"cbs": 0}, {"st": 0}, {"ri": "x"}, {"rn": "x"},
    {"ty": 4}, {"pi": "x"}, {"ct": "20200101T000000"},
    {"lt": "20200101T000000"}, {"lbl": ["ok"], "foo": 1}])
def test_unknown_or_readonly_attributes_update(plazad, w, attrs):
    expect(plazad.update(w["c"], {"m2m:cnt": attrs}, origin=w["aei"]), 400,
           4000)


def test_empty_update(plazad, w):
    expect(plazad.update(w["c"], {"m2m:cnt": {}}, origin=w["aei"]), 400,
           4000)


@pytest.mark.parametrize("raw", [
    '{"m2m:cin": {"con": "a", "con": "b"}}',
    '{"m2m:cin": {"con": "a"}, "m2m:cin": {"con": "b"}}',
    '{"m2m:cin": {"con": {"k": 1, "k": 2}}}'])
def test_duplicate_keys(plazad, w, raw):
    expect(post(plazad, w, raw), 400, 4000)


def test_oversized_body(plazad, w):
    raw = json.dumps({"m2m:cin": {"con": "x" * (MIB + 10)}})
    r = post(plazad, w, raw)
    assert (r.status_code, rsc(r)) == (413, 4000), (r.status_code, rsc(r),
                                                    r.text[:300])


def test_oversized_body_chunked(plazad, w):
    """No Content-Length to go by: the limit holds all the same."""
    def gen():
        yield b'{"m2m:cin": {"con": "'
        for _ in range(2 * 1024):
            yield b"y" * 1024
        yield b'"}}'
    r = plazad.request("POST", w["c"], origin=w["aei"], raw=gen(),
                       headers={"Content-Type": "application/json;ty=4"})
    assert (r.status_code, rsc(r)) == (413, 4000), (r.status_code, rsc(r),
                                                    r.text[:300])


def test_body_at_the_limit_is_accepted(plazad, w, changes_data):
    path = w["ae"] + "/" + uniq("big")
    r = plazad.create(w["ae"], 3, {"m2m:cnt": {"rn": path.split("/")[-1]}},
                      origin=w["aei"])
    assert r.status_code == 201
    head = '{"m2m:cin":{"con":"'
    tail = '"}}'
    raw = head + "z" * (MIB - len(head) - len(tail)) + tail
    assert len(raw) == MIB
    r = post(plazad, w, raw, path=path)
    assert (r.status_code, rsc(r)) == (201, 2001), r.text[:300]
    c = plazad.get(path, w["aei"]).json()["m2m:cnt"]
    assert (c["cni"], c["cbs"]) == (1, MIB - len(head) - len(tail))
    r = post(plazad, w, raw[:-3] + 'z"}}', path=path)
    assert (r.status_code, rsc(r)) == (413, 4000)
    c = plazad.get(path, w["aei"]).json()["m2m:cnt"]
    assert c["cni"] == 1


def nested(depth):
    v = "x"
    for _ in range(depth):
        v = [v]
    return {"m2m:cin": {"con": v}}


@pytest.mark.parametrize("depth", [40, 200, 5000, 100000])
def test_deeply_nested(plazad, w, depth):
    raw = '{"m2m:cin": {"con": ' + "[" * depth + '"x"' + "]" * depth + "}}"
    expect(post(plazad, w, raw), 400, 4000)
    raw = '{"m2m:cin": {"con": ' + '{"a":' * depth + '"x"' + "}" * depth + \
        "}}"
    expect(post(plazad, w, raw), 400, 4000)


def test_too_many_values(plazad, w):
    raw = json.dumps({"m2m:cin": {"con": [0] * 150000}})
    assert len(raw) < MIB
    expect(post(plazad, w, raw), 400, 4000)


def test_moderate_nesting_is_fine(plazad, w, changes_data):
    path = w["ae"] + "/" + uniq("nest")
    plazad.create(w["ae"], 3, {"m2m:cnt": {"rn": path.split("/")[-1]}},
                  origin=w["aei"])
    r = post(plazad, w, json.dumps(nested(20)), path=path)
    assert r.status_code == 201, r.text
    assert plazad.get(path + "/la", w["aei"]).json()["m2m:cin"]["con"] == \
        nested(20)["m2m:cin"]["con"]


def test_retrieve_with_body(plazad, w):
    r = plazad.request("GET", w["c"], origin=w["aei"],
                       raw='{"m2m:cnt": {"lbl": ["x"]}}')
    expect(r, 400, 4000)


# --- headers --------------------------------------------------------------

CIN = json.dumps({"m2m:cin": {"con": "new"}})


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
def test_missing_request_id(plazad, w, method):
    raw = {"POST": CIN, "PUT": '{"m2m:cnt": {"lbl": ["x"]}}'}.get(method)
    h = {"X-M2M-RI": None}
    if method == "POST":
        h["Content-Type"] = "application/json;ty=4"
    r = plazad.request(method, w["c"], origin=w["aei"], raw=raw, headers=h)
    expect(r, 400, 4000)
    r = plazad.request(method, w["c"], origin=w["aei"], raw=raw,
                       headers=dict(h, **{"X-M2M-RI": ""}))
    expect(r, 400, 4000)


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
def test_missing_originator(plazad, w, method):
    raw = {"POST": CIN, "PUT": '{"m2m:cnt": {"lbl": ["x"]}}'}.get(method)
    h = {"Content-Type": "application/json;ty=4"} if method == "POST" \
        else {}
    r = plazad.request(method, w["c"], origin=None, raw=raw, headers=h)
    expect(r, 400, 4000)
    # With a valid credential but no X-M2M-Origin.
    h["Authorization"] = "Bearer " + plazad.tokens[w["aei"]]
    r = plazad.request(method, w["c"], origin=None, raw=raw, headers=h)
    expect(r, 400, 4000)


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_missing_content_type(plazad, w, method):
    raw = CIN if method == "POST" else '{"m2m:cnt": {"lbl": ["x"]}}'
    r = plazad.request(method, w["c"], origin=w["aei"], raw=raw,
                       headers={"Content-Type": None})
    expect(r, 415, 4015)


@pytest.mark.parametrize("ctype", [
    "text/plain;ty=4", "application/xml;ty=4", "text/json;ty=4",
    "application/jsonx;ty=4", "application/vnd.onem2m-res+xml;ty=4",
    "multipart/form-data;ty=4", "json;ty=4", ";ty=4"])
def test_unsupported_content_type(plazad, w, ctype):
    expect(post(plazad, w, CIN, headers={"Content-Type": ctype}), 415, 4015)


@pytest.mark.parametrize("ctype", [
    "application/json-patch+json", "text/plain", "application/xml"])
def test_unsupported_content_type_update(plazad, w, ctype):
    r = plazad.request("PUT", w["c"], origin=w["aei"],
                       raw='{"m2m:cnt": {"lbl": ["x"]}}',
                       headers={"Content-Type": ctype})
    expect(r, 415, 4015)


@pytest.mark.parametrize("ty", ["abc", "", "0", "-4", "4x", "4.0",
                                "99999999999", "0x4", " "])
def test_bad_ty_in_content_type(plazad, w, ty):
    r = post(plazad, w, CIN,
             headers={"Content-Type": "application/json;ty=" + ty})
    expect(r, 400, 4000)


@pytest.mark.parametrize("ty", [999, 65535, 6, 7, 8, 11, 12])
def test_unknown_resource_type(plazad, w, ty):
    expect(post(plazad, w, CIN, ty=ty), 400, 4000)


@pytest.mark.parametrize("rvi", ["9", "abc", "0", "4.0", "44", "2b"])
def test_unsupported_release_version(plazad, w, rvi):
    r = plazad.get(w["c"], w["aei"], headers={"X-M2M-RVI": rvi})
    expect(r, 501, 4001)
    r = post(plazad, w, CIN, headers={"X-M2M-RVI": rvi})
    expect(r, 501, 4001)


@pytest.mark.parametrize("accept", ["application/xml", "text/html",
                                    "image/png", "text/plain"])
def test_unacceptable_accept(plazad, w, accept):
    r = plazad.get(w["c"], w["aei"], headers={"Accept": accept})
    expect(r, 406, 5207)
    r = post(plazad, w, CIN, headers={"Accept": accept})
    expect(r, 406, 5207)


@pytest.mark.parametrize("accept", ["application/xml, application/json",
                                    "*/*", "application/*",
                                    "application/vnd.onem2m-res+json"])
def test_acceptable_accept(plazad, w, accept):
    r = plazad.get(w["c"], w["aei"], headers={"Accept": accept})
    assert (r.status_code, rsc(r)) == (200, 2000), r.text
    assert r.json()["m2m:cnt"]["ri"] == w["c_ri"]


@pytest.mark.parametrize("auth", ["Bearer", "Bearer ", "Basic !!!",
                                  "Token abc", "Bearer wrongtoken",
                                  "Basic " + "Q0FkbWluOng=", "bearer"])
def test_bad_credentials(plazad, w, auth):
    r = plazad.get(w["c"], origin=None, headers={
        "X-M2M-Origin": w["aei"], "Authorization": auth})
    expect(r, 403, 4103)
    r = plazad.request("DELETE", w["c"], origin=None, headers={
        "X-M2M-Origin": w["aei"], "Authorization": auth})
    expect(r, 403, 4103)


def test_someone_elses_credential(plazad, w, changes_data, before):
    other, _ = plazad.register(uniq("other"))
    r = plazad.request("DELETE", w["c"], origin=None, headers={
        "X-M2M-Origin": w["aei"],
        "Authorization": "Bearer " + plazad.tokens[other]})
    expect(r, 403, 4103)
    r = plazad.request("DELETE", w["c"], origin=other)
    expect(r, 403, 4103)
    assert snapshot(plazad, w)["c"] == before


@pytest.fixture
def before(plazad, w):
    return snapshot(plazad, w)["c"]


def test_no_credential(plazad, w):
    r = plazad.request("DELETE", w["c"], origin=w["aei"], token=False)
    assert r.status_code == 403 and rsc(r) in (4103, 4107), r.text


@pytest.mark.parametrize("hdr,value,status,code", [
    ("X-M2M-RET", "yesterday", 400, 4000),
    ("X-M2M-RST", "not-a-time", 400, 4000),
    ("X-M2M-OET", "P", 400, 4000),
    ("X-M2M-EC", "999", 400, 4000),
    ("X-M2M-EC", "x", 400, 4000),
    ("X-M2M-RET", "20000101T000000", 504, 4008)])
def test_bad_time_and_category_headers(plazad, w, hdr, value, status, code):
    expect(post(plazad, w, CIN, headers={hdr: value}), status, code)


# --- the query string -------------------------------------------------------

@pytest.mark.parametrize("params", [
    {"foo": "bar"}, {"rcn": "abc"}, {"rcn": "-1"}, {"rcn": "99"},
    {"rcn": ""}, {"rcn": "1.5"}, {"rcn": "1x"}, {"lim": "-1"},
    {"lim": "abc"}, {"lim": "1e3"}, {"ofst": "x"}, {"lvl": "0"},
    {"fu": "3"}, {"fu": "0"}, {"drt": "0"}, {"rt": "9"}, {"ty": "x"},
    {"crb": "20201301T000000"}, {"m2m:rcn": "1"}, {"RCN": "1"}])
def test_bad_query_parameters(plazad, w, params):
    expect(plazad.get(w["c"], w["aei"], params=params), 400, 4000)
    expect(post(plazad, w, CIN, params=params), 400, 4000)
    expect(plazad.request("DELETE", w["c"], origin=w["aei"], params=params),
           400, 4000)


def test_too_many_query_parameters(plazad, w):
    params = [("lbl", "l%d" % i) for i in range(200)]
    r = plazad.get(w["c"], w["aei"], params=params + [("fu", "1")])
    assert rsc(r) == 4000 and r.status_code in (400, 414, 431), r.text


@pytest.mark.parametrize("query", ["rcn=1%00garbage", "rcn=%001",
                                   "lim=1%00", "foo%00=1"])
@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_nul_in_query(plazad, victim, query, method):
    rn = scratch(plazad, victim)
    r = plazad.request(method, "%s/%s?%s" % (victim["ae"], rn, query),
                       origin=victim["aei"])
    expect(r, 400, 4000)
    intact(plazad, victim, rn)


# --- methods ------------------------------------------------------------------

@pytest.mark.parametrize("method", ["PATCH", "PROPFIND", "CONNECT-ish"])
def test_unsupported_method(plazad, w, method):
    if method == "CONNECT-ish":
        method = "FOO"
    r = plazad.request(method, w["c"], origin=w["aei"],
                       raw='{"m2m:cnt": {"lbl": ["x"]}}')
    expect(r, 405, 4005)


# --- names and paths -----------------------------------------------------------

BAD_NAMES = ["../x", "a/b", "..", ".", "a b", "ü", "名前", "la", "ol", "",
             "x" * 65, "a?b", "a#b", "a%2Fb", "a\\b", "\t", "-", "a\nb",
             "/abs", "a:b", "a*b", " x", "x "]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_resource_names(plazad, w, name):
    expect(plazad.create(w["c"], 3, {"m2m:cnt": {"rn": name}},
                         origin=w["aei"]), 400, 4000)
    expect(plazad.create(w["c"], 4, {"m2m:cin": {"rn": name, "con": "x"}},
                         origin=w["aei"]), 400, 4000)


@pytest.mark.parametrize("name", ["../x", "a/b", "..", "a b", "ü", "la"])
def test_bad_ae_names(plazad, w, name):
    r = plazad.create("plaza", 2, {"m2m:ae": {"api": "Nx", "rr": True,
                                              "srv": ["4"], "rn": name}},
                      origin="C", token=False)
    expect(r, 400, 4000)
    assert not r.headers.get("X-Plaza-Token")


def test_good_unusual_names(plazad, w, changes_data):
    for name in ("a-b_c.d~e", "x" * 64, "UPPER", "0"):
        r = plazad.create(w["ae"], 3, {"m2m:cnt": {"rn": name}},
                          origin=w["aei"])
        assert r.status_code == 201, (name, r.text)
        g = plazad.get("%s/%s" % (w["ae"], name), w["aei"])
        assert g.json()["m2m:cnt"]["rn"] == name
        plazad.delete("%s/%s" % (w["ae"], name), w["aei"])


# --- raw HTTP -------------------------------------------------------------------

def raw_http(d, data, timeout=5.0, shut=True):
    """Send bytes, read until the server closes (or the timeout); the
    status code of the first response, or None if there was none."""
    s = socket.create_connection(("127.0.0.1", d.port), timeout=timeout)
    out = b""
    try:
        try:
            s.sendall(data)
            if shut:
                s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server closed before taking everything: read on
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
    except OSError:
        pass  # timeout or reset
    finally:
        s.close()
    if not out.startswith(b"HTTP/"):
        return None, out
    return int(out.split(b" ", 2)[1]), out


def req_bytes(d, method, path, origin="CAdmin", extra=b"", body=b""):
    tok = d.tokens[origin].encode()
    head = (method + b" " + path + b" HTTP/1.1\r\nHost: x\r\n"
            b"X-M2M-Origin: " + origin.encode() + b"\r\nX-M2M-RI: raw1\r\n"
            b"X-M2M-RVI: 4\r\nAuthorization: Bearer " + tok + b"\r\n"
            b"Connection: close\r\n" + extra)
    if body:
        head += b"Content-Length: %d\r\n" % len(body)
    return head + b"\r\n" + body


def rsc_of(out):
    for line in out.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"x-m2m-rsc:"):
            return int(line.split(b":", 1)[1])
    return None


@pytest.mark.parametrize("path", [
    b"/plaza/{ae}/../{ae}/{c}", b"/plaza/{ae}/{c}/..", b"/plaza/{ae}/{c}/.",
    b"/plaza/{ae}/./{c}", b"/plaza/{ae}/{c}/../../../etc/passwd",
    b"/plaza/{ae}/%2e%2e/{ae}/{c}", b"/plaza/{ae}/{c}/%2E%2E",
    b"/~/plaza-in/../plaza-in/plaza/{ae}/{c}", b"/plaza/{ae}/{c}/..%2f..",
    b"/..", b"/../plaza", b"/plaza/{ae}/{c}/la/..", b"/plaza/{ae}/{c}/la/.",
    b"/plaza/{ae}/{c}%00", b"/plaza/{ae}/{c}%00junk",
    b"/plaza/{ae}/{c}%00/la", b"/plaza%00/{ae}/{c}",
    b"/plaza/{ae}/{c}/la%00"])
@pytest.mark.parametrize("method", [b"GET", b"DELETE", b"PUT"])
def test_path_traversal(plazad, victim, path, method):
    rn = scratch(plazad, victim)
    path = path.replace(b"{ae}", victim["rn"].encode()).replace(
        b"{c}", rn.encode())
    body = b'{"m2m:cnt": {"lbl": ["hacked"]}}' if method == b"PUT" else b""
    extra = b"Content-Type: application/json\r\n" if body else b""
    status, out = raw_http(plazad, req_bytes(plazad, method, path,
                                             origin=victim["aei"],
                                             extra=extra, body=body),
                           shut=False)
    assert status in (400, 404), out[:400]
    assert rsc_of(out) in (4000, 4004), out[:400]
    intact(plazad, victim, rn)
    c = plazad.get("%s/%s" % (victim["ae"], rn), victim["aei"]).json()
    assert "lbl" not in c["m2m:cnt"]


@pytest.mark.parametrize("data", [
    b"HELLO\r\n\r\n",
    b"GET\r\n\r\n",
    b"GET /plaza HTTP/9.9\r\nHost: x\r\n\r\n",
    b"GET /plaza HTTP/1.1\r\nHost: x\r\nbadheader\r\n\r\n",
    b"GET /plaza HTTP/1.1\r\nHost: x\r\n: novalue\r\n\r\n",
    b"GET /plaza HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    b"GET /plaza HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    b"POST /plaza HTTP/1.1\r\nHost: x\r\n"
    b"Content-Length: 99999999999999999999999\r\n\r\nabc",
    b"POST /plaza HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
    b"Content-Type: application/json;ty=3\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)) * 4,
    bytes(range(256)) * 8,
    b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /plaza HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 +
    b"\r\n\r\n",
    b"GET /plaza HTTP/1.1\r\nHost: x\r\n" +
    b"".join(b"X-H%d: v\r\n" % i for i in range(3000)) + b"\r\n",
    b"GET /plaza HTTP/1.1\r\n" + b"Host: x\r\n" * 50 + b"\r\n",
    b"GET /plaza HTTP/1.1\nHost: x\n\n",
    b"GET /plaza HTTP/1.1\r\nHost: x\r\n\r\n" * 50,
    b"\r\n" * 1000,
])
def test_raw_malformed_http(plazad, w, data):
    """Garbage gets a 4xx/5xx or a closed connection, never a 2xx (none of
    these requests carries a credential)."""
    status, out = raw_http(plazad, data)
    assert status is None or status >= 400, out[:300]


def test_raw_request_smuggling_content_length(plazad, victim):
    """Two differing Content-Length values are an unrecoverable framing
    error (RFC 9112 6.3): refuse with 400, never create anything."""
    body = b'{"m2m:cin":{"con":"smuggled"}}'
    rn = scratch(plazad, victim)
    path = ("/%s/%s" % (victim["ae"], rn)).encode()
    for first, second in ((len(body), 3), (3, len(body))):
        data = req_bytes(plazad, b"POST", path, origin=victim["aei"],
                         extra=b"Content-Type: application/json;ty=4\r\n"
                               b"Content-Length: %d\r\n"
                               b"Content-Length: %d\r\n" % (first, second))
        status, out = raw_http(plazad, data + body, shut=False)
        assert status == 400, out[:400]
        intact(plazad, victim, rn)


def test_raw_partial_request_does_not_block(plazad, w):
    """Connections that never finish their request (slowloris) leave the
    daemon answering everyone else."""
    socks = []
    try:
        for i in range(30):
            s = socket.create_connection(("127.0.0.1", plazad.port),
                                         timeout=5)
            if i % 3 == 0:
                s.sendall(b"GET /plaza HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            elif i % 3 == 1:
                s.sendall(req_bytes(plazad, b"POST", w["c"].encode(),
                                    origin="CAdmin",
                                    extra=b"Content-Type: application/json;"
                                          b"ty=4\r\nContent-Length: 1000\r\n")
                          + b'{"m2m:cin":{"con":"')
            socks.append(s)
        t0 = time.monotonic()
        for _ in range(10):
            assert plazad.alive()
        assert time.monotonic() - t0 < 5
    finally:
        for s in socks:
            s.close()
    assert plazad.alive()


def test_raw_body_cut_short(plazad, w):
    body = json.dumps({"m2m:cin": {"con": "cut"}}).encode()
    data = req_bytes(plazad, b"POST", w["c"].encode(),
                     extra=b"Content-Type: application/json;ty=4\r\n",
                     body=body)
    data = data.replace(b"Content-Length: %d" % len(body),
                        b"Content-Length: %d" % (len(body) + 50))
    status, out = raw_http(plazad, data, timeout=3)
    assert status is None or status >= 400, out[:300]


def test_raw_pipelined_bad_then_good(plazad, w):
    """A refused request does not poison the next one on the connection."""
    bad = req_bytes(plazad, b"POST", w["c"].encode(),
                    extra=b"Content-Type: application/json;ty=4\r\n",
                    body=b'{"m2m:cin": {"con": ').replace(
                        b"Connection: close\r\n", b"")
    good = req_bytes(plazad, b"GET", w["c"].encode())
    status, out = raw_http(plazad, bad + good, shut=False)
    assert status == 400, out[:300]
    assert out.count(b"HTTP/1.1 ") == 2, out[:600]
    second = out.split(b"HTTP/1.1 ")[2]
    assert second.startswith(b"200"), out[:600]
    assert w["c_ri"].encode() in second


def test_raw_half_closed_write_is_answered(plazad, victim, changes_data):
    """A client may shut down its sending side once the request is out
    (shutdown(SHUT_WR), as nc -N and some embedded stacks do).  A write it
    sent must be acknowledged like any other: a committed write whose 201
    never arrives makes the client retry and store duplicates."""
    rn = scratch(plazad, victim)
    path = ("/%s/%s" % (victim["ae"], rn)).encode()
    body = b'{"m2m:cin":{"con":"half"}}'
    answered = 0
    for i in range(10):
        data = req_bytes(plazad, b"POST", path, origin=victim["aei"],
                         extra=b"Content-Type: application/json;ty=4\r\n",
                         body=body)
        status, out = raw_http(plazad, data, timeout=3, shut=True)
        answered += status == 201
    c = plazad.get("%s/%s" % (victim["ae"], rn), victim["aei"]).json()
    assert answered == 10, "%d of 10 creates were not acknowledged, yet " \
        "cni went from 1 to %d" % (10 - answered, c["m2m:cnt"]["cni"])
    assert c["m2m:cnt"]["cni"] == 11
