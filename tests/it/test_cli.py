"""The operator CLI `plaza`, run as a real binary against a real plazad.

Every test runs $PLAZA_BUILD/plaza in a subprocess with --url and --data
pointing at the fixture's daemon and checks exit status, stdout and stderr.
Exit statuses: 0 success, 1 oneM2M error, 2 usage, 3 plazad unreachable.
"""
import http.server
import itertools
import json
import os
import queue
import re
import signal
import socket
import subprocess
import threading

import pytest

from conftest import PLAZA, PLAZAD, ROOT

_names = itertools.count(1)



def name(prefix):
    """A resource name not used before in this module's plazad."""
    return "%s%d" % (prefix, next(_names))


def clean_env(**extra):
    """The environment without PLAZA_* settings or proxies, plus extra."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PLAZA_") and "proxy" not in k.lower()}
    env.update(extra)
    return env


def plaza(d, *args, stdin=None, env=None, target=True):
    """Run plaza (against d unless target is False); CompletedProcess."""
    cmd = [PLAZA]
    if target and d is not None:
        cmd += ["--url", d.url, "--data", d.data]
    cmd += [str(a) for a in args]
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True,
                          env=env if env is not None else clean_env(),
                          timeout=30)


def ok(res):
    assert res.returncode == 0, "exit %d\nstdout:\n%s\nstderr:\n%s" % (
        res.returncode, res.stdout, res.stderr)
    return res.stdout


def as_json(res):
    return json.loads(ok(res))


def fields(text):
    """'key   value' lines of plaza's text output as a dict (first word of
    each line is the key; for attribute lists the value is after the long
    name, so use attrs() for those)."""
    out = {}
    for line in text.splitlines():
        parts = re.split(r"\s{2,}", line.strip(), maxsplit=1)
        if len(parts) == 2:
            out[parts[0]] = parts[1]
    return out


def attrs(text):
    """An attribute list (short name, long name, value) as {short: value}."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"^(\S+)\s+(\S+)\s{2,}(.*)$", line)
        if m:
            out[m.group(1)] = m.group(3)
    return out


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="module")
def ae(plazad):
    """An AE with a container 'data' for resource tests: (rn, aei)."""
    rn = name("cliae")
    aei, _ = plazad.register(rn)
    r = plazad.create("plaza/" + rn, 3, {"m2m:cnt": {"rn": "data"}},
                      origin=aei)
    assert r.status_code == 201, r.text
    return rn, aei


# --- basics -------------------------------------------------------------

def test_version():
    with open(os.path.join(ROOT, "include", "plaza", "pz_version.h")) as f:
        version = re.search(r'PZ_VERSION "([^"]+)"', f.read()).group(1)
    assert ok(plaza(None, "--version")).strip() == "plaza " + version


def test_help_lists_every_command():
    out = ok(plaza(None, "--help"))
    for cmd in ("status", "ae list", "ae show", "ae register", "ae delete",
                "get PATH", "create PATH TYPE", "update PATH", "delete PATH",
                "discover PATH", "listen [ADDR:]PORT", "init DIR",
                "config show", "--url",
                "--origin", "--token", "--data", "--json"):
        assert cmd in out


def test_no_command_is_a_usage_error():
    res = plaza(None)
    assert res.returncode == 2
    assert "usage: plaza" in res.stderr
    assert res.stdout == ""


@pytest.mark.parametrize("args, why", [
    (["bogus"], "unknown command 'bogus'"),
    (["get"], "get needs PATH"),
    (["get", "plaza", "extra"], "unexpected argument 'extra'"),
    (["get", "plaza", "--rcn", "13"], "--rcn needs a number from 0 to 12"),
    (["get", "plaza", "--rcn"], "--rcn needs a value"),
    (["get", "plaza", "--param", "novalue"], "--param needs NAME=VALUE"),
    (["get", "plaza", "--bogus"], "unknown option '--bogus'"),
    (["create", "plaza"], "create needs PATH and TYPE"),
    (["create", "plaza", "nosuchtype"], "unknown resource type"),
    (["create", "plaza", "99", "a=1"], "cannot tell the resource's type"),
    (["create", "plaza", "cnt", "=1"], "expected NAME=VALUE"),
    (["create", "plaza", "cnt", "--file", "/nonexistent/x.json"],
     "cannot read /nonexistent/x.json"),
    (["update", "plaza/x"], "update needs NAME=VALUE or a document"),
    (["delete"], "delete needs PATH"),
    (["discover"], "discover needs PATH"),
    (["discover", "plaza", "--limit", "x"], "--limit needs a number"),
    (["discover", "plaza", "--created-after", "yesterday"],
     "'yesterday' is not a timestamp"),
    (["discover", "plaza", "--type", "nosuch"], "unknown resource type"),
    (["ae"], "ae needs list, show, register or delete"),
    (["ae", "show"], "ae show needs an AE-ID or PATH"),
    (["ae", "register", "x"], "ae register needs NAME and --api"),
    (["config"], "config needs show"),
    (["init"], "init needs DIR"),
    (["listen"], "listen needs [ADDR:]PORT"),
    (["listen", "70000"], "PORT needs a number from 0 to 65535, not '70000'"),
    (["listen", "localhost:x"], "PORT needs a number from 0 to 65535"),
    (["listen", "::1:9000"], "write an IPv6 address in brackets"),
    (["listen", "0", "1"], "unexpected argument '1'"),
    (["listen", "0", "--answer", "ok"], "--answer needs a number from 1000"),
    (["listen", "0", "--count", "0"], "--count needs a number from 1 to"),
    (["--url", "ftp://example.com", "get", "plaza"],
     "--url must start with http://"),
    (["get", "//"], "incomplete address"),
])
def test_usage_errors(plazad, args, why):
    res = plaza(plazad, *args)
    assert res.returncode == 2, res.stderr
    assert why in res.stderr
    assert res.stderr.startswith("plaza: ")
    assert res.stdout == ""


def test_global_options_after_the_command(plazad):
    res = plaza(None, "status", "--url", plazad.url, "--json",
                "--data=" + plazad.data)
    assert as_json(res)["m2m:cb"]["csi"] == "/plaza-in"


# --- status and reachability ----------------------------------------------

def test_status_text(plazad):
    f = fields(ok(plaza(plazad, "status")))
    assert f["url"] == plazad.url
    assert f["reachable"] == "yes"
    assert f["CSE-ID"] == "/plaza-in"
    assert f["name"] == "plaza"
    assert f["SP-relative"] == "/plaza-in/plaza"
    assert re.fullmatch(r"\d{8}T\d{6}", f["current time"])
    types = f["resource types"].split(", ")
    for t in ("1 acp", "2 ae", "3 cnt", "4 cin", "5 cb", "9 grp", "23 sub"):
        assert t in types
    assert f["points of access"].startswith("http://")


def test_status_json(plazad):
    cb = as_json(plaza(plazad, "--json", "status"))["m2m:cb"]
    assert cb["csi"] == "/plaza-in"
    assert cb["rn"] == "plaza"
    assert 2 in cb["srt"]


def test_status_unreachable():
    url = "http://127.0.0.1:%d" % free_port()
    res = plaza(None, "--url", url, "--token", "x", "status")
    assert res.returncode == 3
    f = fields(res.stdout)
    assert f["reachable"] == "no"
    assert f["url"] == url
    assert "cannot reach plazad at " + url in res.stderr


def test_unreachable_get_exits_3():
    res = plaza(None, "--url", "http://127.0.0.1:%d" % free_port(),
                "--token", "x", "--json", "get", "plaza")
    assert res.returncode == 3
    assert res.stdout == ""
    assert "cannot reach plazad" in res.stderr


def test_request_headers(plazad):
    """X-M2M-RI is plaza-<pid>-<n>: plazad logs it."""
    p = subprocess.Popen([PLAZA, "--url", plazad.url, "--data", plazad.data,
                          "status"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=clean_env())
    p.communicate(timeout=30)
    assert p.returncode == 0
    assert re.search(r"rqi=plaza-%d-1\b" % p.pid, plazad.log())


# --- credentials ----------------------------------------------------------

def test_token_from_environment(plazad, tmp_path):
    env = clean_env(PLAZA_URL=plazad.url,
                    PLAZA_TOKEN=plazad.tokens["CAdmin"],
                    PLAZA_DATA=str(tmp_path))  # no admin.token there
    res = plaza(None, "--json", "status", env=env)
    assert as_json(res)["m2m:cb"]["rn"] == "plaza"


def test_token_from_data_directory(plazad):
    env = clean_env(PLAZA_URL=plazad.url, PLAZA_DATA=plazad.data)
    assert as_json(plaza(None, "--json", "status", env=env))["m2m:cb"]


def test_without_token(plazad, tmp_path):
    res = plaza(None, "--url", plazad.url, "--data", str(tmp_path), "get",
                "plaza")
    assert res.returncode == 1
    assert "SECURITY_ASSOCIATION_REQUIRED (4107)" in res.stderr
    assert "no credential was sent" in res.stderr


def test_wrong_token(plazad):
    res = plaza(plazad, "--token", "not-the-token", "get", "plaza")
    assert res.returncode == 1
    assert "ORIGINATOR_HAS_NO_PRIVILEGE (4103)" in res.stderr
    assert "invalid credential for originator 'CAdmin'" in res.stderr


def test_origin_and_token_of_an_ae(plazad, ae):
    rn, aei = ae
    res = plaza(plazad, "--origin", aei, "--token", plazad.tokens[aei],
                "--json", "get", "plaza/%s/data" % rn)
    assert as_json(res)["m2m:cnt"]["rn"] == "data"


# --- AEs ----------------------------------------------------------------

def registered(out):
    """AE-ID and token from the text output of ae register."""
    aei = re.search(r"^AE-ID: (\S+)$", out, re.M).group(1)
    token = re.search(r"^token: (\S+)$", out, re.M).group(1)
    return aei, token


def test_ae_register_show_delete(plazad):
    rn = name("reg")
    out = ok(plaza(plazad, "ae", "register", rn, "--api", "Nroom.app"))
    aei, token = registered(out)
    assert out.startswith("registered plaza/%s\n" % rn)
    assert out.count(token) == 1
    assert "Keep this token" in out
    a = attrs(out)
    assert a["aei"] == aei and a["rn"] == rn and a["api"] == "Nroom.app"
    assert a["rr"] == "false"
    assert a["ty"] == "2 (AE)"
    # The token is the AE's credential.
    plazad.tokens[aei] = token
    r = plazad.get("plaza/" + rn, origin=aei)
    assert r.status_code == 200, r.text
    # Shown by AE-ID and by path, as text and JSON.
    a = attrs(ok(plaza(plazad, "ae", "show", aei)))
    assert a["api"] == "Nroom.app" and a["rn"] == rn
    assert re.fullmatch(r"\d{8}T\d{6}", a["ct"])
    doc = as_json(plaza(plazad, "--json", "ae", "show", "plaza/" + rn))
    assert doc["m2m:ae"]["aei"] == aei
    # Deregistered: gone, and its token with it.
    assert ok(plaza(plazad, "ae", "delete", aei)) == \
        "deregistered %s\n" % aei
    res = plaza(plazad, "ae", "show", aei)
    assert res.returncode == 1 and "NOT_FOUND (4004)" in res.stderr
    assert plazad.get("plaza", origin=aei).status_code == 403


def test_ae_register_json_poa_and_id(plazad):
    rn = name("regj")
    res = plaza(plazad, "--json", "ae", "register", rn, "--api", "Rcity",
                "--poa", "http://127.0.0.1:9/a", "--poa", "mqtt://b:1883",
                "--ae-id", "C" + rn)
    doc = as_json(res)
    a = doc["m2m:ae"]
    assert a["aei"] == "C" + rn
    assert a["rr"] is True
    assert a["poa"] == ["http://127.0.0.1:9/a", "mqtt://b:1883"]
    assert a["srv"] == ["4"]
    assert len(doc["token"]) >= 20
    assert "Keep this token" in res.stderr
    # Registering the same AE-ID again is a oneM2M error.
    res = plaza(plazad, "ae", "register", rn, "--api", "Rcity", "--ae-id",
                "C" + rn)
    assert res.returncode == 1
    assert "ORIGINATOR_HAS_ALREADY_REGISTERED (4117)" in res.stderr


def test_ae_register_without_token_in_trust_origin_mode(plazad_factory,
                                                       tmp_path):
    d = plazad_factory(trust_origin=True)
    out = ok(plaza(None, "--url", d.url, "--data", str(tmp_path), "ae",
                   "register", "open1", "--api", "Nopen"))
    assert "plazad issued no token" in out
    assert "token:" not in out
    # No credential needed either to look at it.
    res = plaza(None, "--url", d.url, "--data", str(tmp_path), "--json",
                "ae", "show", "plaza/open1")
    assert as_json(res)["m2m:ae"]["api"] == "Nopen"


def test_ae_register_refused(plazad):
    res = plaza(plazad, "ae", "register", name("bad"), "--api", "xbad")
    assert res.returncode == 1
    assert "BAD_REQUEST (4000)" in res.stderr
    assert "App-ID (api) must start with 'R'" in res.stderr


def test_ae_show_and_delete_refuse_other_types(plazad, ae):
    rn, _ = ae
    path = "plaza/%s/data" % rn
    res = plaza(plazad, "ae", "show", path)
    assert res.returncode == 1 and "is not an AE" in res.stderr
    res = plaza(plazad, "ae", "delete", path)
    assert res.returncode == 1 and "is not an AE" in res.stderr
    assert plazad.get(path).status_code == 200


def test_ae_list(plazad):
    rn1, rn2 = name("list"), name("list")
    aei1, _ = plazad.register(rn1, api="Nlist.one")
    aei2, _ = plazad.register(rn2, api="Rlist.two")
    out = ok(plaza(plazad, "ae", "list"))
    lines = out.splitlines()
    assert lines[0].split() == ["AE-ID", "NAME", "APP-ID", "CREATED"]
    rows = {l.split()[0]: l.split() for l in lines[1:]}
    assert rows[aei1][1:3] == [rn1, "Nlist.one"]
    assert rows[aei2][1:3] == [rn2, "Rlist.two"]
    assert re.fullmatch(r"\d{8}T\d{6}", rows[aei1][3])
    listed = as_json(plaza(plazad, "--json", "ae", "list"))
    assert {a["aei"]: a["api"] for a in listed}[aei2] == "Rlist.two"


# --- create, get, update, delete ------------------------------------------

def test_create_get_update_delete(plazad, ae):
    rn, _ = ae
    base = "plaza/%s" % rn
    out = ok(plaza(plazad, "create", base, "cnt", "rn=temp", "mni=5",
                   'lbl=["a","b"]'))
    assert out.startswith("created %s/temp\n" % base)
    a = attrs(out)
    assert a["rn"] == "temp" and a["mni"] == "5" and a["lbl"] == "a, b"
    assert a["ty"] == "3 (container)"
    doc = as_json(plaza(plazad, "--json", "create", base + "/temp", "cin",
                        "con=21.5", "cnf=text/plain:0"))
    assert doc["m2m:cin"]["con"] == 21.5
    doc = as_json(plaza(plazad, "--json", "create", base + "/temp",
                        "contentInstance", 'con="22.5"'))
    assert doc["m2m:cin"]["con"] == "22.5"
    doc = as_json(plaza(plazad, "--json", "get", base + "/temp/la"))
    assert doc["m2m:cin"]["con"] == "22.5"
    a = attrs(ok(plaza(plazad, "get", base + "/temp")))
    assert a["cni"] == "2"
    a = attrs(ok(plaza(plazad, "update", base + "/temp", "mni=10")))
    assert a["mni"] == "10"
    assert plazad.get(base + "/temp").json()["m2m:cnt"]["mni"] == 10
    assert ok(plaza(plazad, "delete", base + "/temp")) == \
        "deleted %s/temp\n" % base
    res = plaza(plazad, "get", base + "/temp")
    assert res.returncode == 1
    assert "NOT_FOUND (4004)" in res.stderr
    assert "no resource at '%s/temp'" % base in res.stderr


def test_value_parsing(plazad, ae):
    rn, _ = ae
    path = "plaza/%s/data" % rn
    for arg, want in [("con=5", 5), ("con=true", True), ('con=["a","b"]',
                      ["a", "b"]), ('con={"x":1}', {"x": 1}),
                      ("con=hello world", "hello world"), ("con=", ""),
                      ("con=a=b", "a=b"), ("con=-1.5e3", -1500.0)]:
        doc = as_json(plaza(plazad, "--json", "create", path, "cin", arg))
        assert doc["m2m:cin"]["con"] == want, arg


def test_control_characters_are_escaped(plazad, ae):
    """Device data must not reach the operator's terminal as escapes."""
    rn, _ = ae
    path = "plaza/%s/data" % rn
    con = "a\x1b[31mb\nc\u009bd\u00e9"
    r = plazad.create(path, 4, {"m2m:cin": {"rn": "esc", "con": con}})
    assert r.status_code == 201, r.text
    out = ok(plaza(plazad, "get", path + "/esc"))
    assert "\x1b" not in out and "\u009b" not in out
    assert attrs(out)["con"] == "a\\x1b[31mb\\nc\\u009bd\u00e9"
    doc = as_json(plaza(plazad, "--json", "get", path + "/esc"))
    assert doc["m2m:cin"]["con"] == con
    # plazad refuses a C0 control character in a path (BAD_REQUEST) or
    # quotes it back (NOT_FOUND); either way it arrives escaped.
    res = plaza(plazad, "get", "plaza/\x1b[2Jgone")
    assert res.returncode == 1
    assert "\x1b" not in res.stderr
    assert "BAD_REQUEST (4000)" in res.stderr or \
        "no resource at 'plaza/\\x1b[2Jgone'" in res.stderr
    # A C1 control character is quoted back: escaped in the reason.
    res = plaza(plazad, "get", "plaza/\u009bgone")
    assert res.returncode == 1
    assert "\u009b" not in res.stderr
    assert "no resource at 'plaza/\\u009bgone'" in res.stderr


@pytest.mark.parametrize("ty", ["3", "cnt", "container", "CONTAINER"])
def test_type_names_and_numbers(plazad, ae, ty):
    rn, _ = ae
    c = name("ty")
    doc = as_json(plaza(plazad, "--json", "create", "plaza/" + rn, ty,
                        "rn=" + c))
    assert doc["m2m:cnt"]["rn"] == c
    assert doc["m2m:cnt"]["ty"] == 3


def test_create_from_stdin_and_file(plazad, ae, tmp_path):
    rn, _ = ae
    base = "plaza/" + rn
    s = name("stdin")
    # A document without its root is wrapped in it.
    doc = as_json(plaza(plazad, "--json", "create", base, "cnt", "-",
                        stdin=json.dumps({"rn": s, "mni": 3})))
    assert doc["m2m:cnt"]["rn"] == s and doc["m2m:cnt"]["mni"] == 3
    # A document with its root is sent as is; K=V go on top.
    f = tmp_path / "cnt.json"
    fn = name("file")
    f.write_text(json.dumps({"m2m:cnt": {"rn": fn, "mni": 1}}))
    doc = as_json(plaza(plazad, "--json", "create", base, "cnt", "--file",
                        str(f), "mni=7"))
    assert doc["m2m:cnt"]["rn"] == fn and doc["m2m:cnt"]["mni"] == 7
    # An unknown type number works when the document names its root.
    un = name("num")
    f.write_text(json.dumps({"m2m:cnt": {"rn": un}}))
    doc = as_json(plaza(plazad, "--json", "create", base, "3", "--file",
                        str(f)))
    assert doc["m2m:cnt"]["rn"] == un


def test_bad_documents(plazad, ae, tmp_path):
    rn, _ = ae
    res = plaza(plazad, "create", "plaza/" + rn, "cnt", "-", stdin='{"rn": ')
    assert res.returncode == 2
    assert re.search(r"stdin:\d+:\d+: ", res.stderr)
    res = plaza(plazad, "create", "plaza/" + rn, "cnt", "-", stdin="[1, 2]")
    assert res.returncode == 2
    assert "must be a JSON object" in res.stderr
    res = plaza(plazad, "create", "plaza/" + rn, "cnt", "-", "--file", "x")
    assert res.returncode == 2
    assert "give one document" in res.stderr


def test_update_without_root_learns_the_type(plazad, ae, tmp_path):
    rn, _ = ae
    path = "plaza/%s/data" % rn
    f = tmp_path / "u.json"
    f.write_text(json.dumps({"mni": 42, "lbl": ["u"]}))
    doc = as_json(plaza(plazad, "--json", "update", path, "--file", str(f)))
    assert doc["m2m:cnt"]["mni"] == 42
    assert doc["m2m:cnt"]["lbl"] == ["u"]
    doc = as_json(plaza(plazad, "--json", "update", path, "-",
                        stdin='{"m2m:cnt": {"mni": 43}}'))
    assert doc["m2m:cnt"]["mni"] == 43


def test_oneM2M_errors_from_create_and_update(plazad, ae):
    rn, _ = ae
    res = plaza(plazad, "create", "plaza/%s/data" % rn, "cnt", "rn=data2",
                "bogus=1")
    assert res.returncode == 1
    assert re.search(r"^plaza: [A-Z_]+ \(4\d{3}\): ", res.stderr)
    res = plaza(plazad, "create", "plaza/" + rn, "cnt", "rn=data")
    assert res.returncode == 1
    assert "CONFLICT (4105)" in res.stderr
    res = plaza(plazad, "update", "plaza/nope%s" % rn, "mni=1")
    assert res.returncode == 1
    assert "NOT_FOUND (4004)" in res.stderr


def test_create_ae_as_admin_shows_its_token(plazad):
    rn = name("adm")
    out = ok(plaza(plazad, "create", "-", "ae", "rn=" + rn, "api=Nadm",
                   "rr=false", 'srv=["4"]'))
    aei, token = registered(out)
    assert out.count(token) == 1
    plazad.tokens[aei] = token
    assert plazad.get("plaza/" + rn, origin=aei).status_code == 200


def test_delete_errors(plazad):
    res = plaza(plazad, "delete", "plaza/nothing-here")
    assert res.returncode == 1
    assert "NOT_FOUND (4004)" in res.stderr
    res = plaza(plazad, "delete", "plaza")
    assert res.returncode == 1
    assert "OPERATION_NOT_ALLOWED (4005)" in res.stderr


# --- addressing and query parameters -------------------------------------

def test_address_forms(plazad, ae):
    rn, aei = ae
    ri = plazad.get("plaza/%s/data" % rn).json()["m2m:cnt"]["ri"]
    for path in ("plaza/%s/data" % rn, "/plaza-in/plaza/%s/data" % rn,
                 "//plaza.example/plaza-in/plaza/%s/data" % rn, ri,
                 "-/%s/data" % rn, "/plaza-in/%s" % ri):
        doc = as_json(plaza(plazad, "--json", "get", path))
        assert doc["m2m:cnt"]["ri"] == ri, path
    assert as_json(plaza(plazad, "--json", "get", aei))["m2m:ae"]["rn"] == rn


def test_path_segments_are_percent_encoded(plazad):
    res = plaza(plazad, "get", "plaza/a b%c?d#e")
    assert res.returncode == 1
    assert "no resource at 'plaza/a b%c?d#e'" in res.stderr


def test_get_rcn_and_params(plazad, ae):
    rn, _ = ae
    path = "plaza/%s/data" % rn
    plazad.create(path, 4, {"m2m:cin": {"con": "kid"}})
    doc = as_json(plaza(plazad, "--json", "get", path, "--rcn", "4"))
    assert any(c["con"] == "kid" for c in doc["m2m:cnt"]["m2m:cin"])
    doc = as_json(plaza(plazad, "--json", "get", path, "--param", "rcn=1"))
    assert "m2m:cin" not in doc["m2m:cnt"]
    res = plaza(plazad, "get", path, "--param", "rcn=99")
    assert res.returncode == 1
    assert "BAD_REQUEST (4000)" in res.stderr
    res = plaza(plazad, "get", path, "--param", "nosuch=1")
    assert res.returncode == 1
    assert "unknown request parameter 'nosuch'" in res.stderr


# --- discovery -------------------------------------------------------------

def test_discover_nothing(plazad, ae):
    rn, _ = ae
    res = plaza(plazad, "discover", "plaza/" + rn, "--label", "never-used")
    assert ok(res) == ""
    doc = as_json(plaza(plazad, "--json", "discover", "plaza/" + rn,
                        "--created-after", "99990101T000000"))
    assert doc == {"m2m:uril": []}


def test_discover(plazad):
    rn = name("disc")
    aei, _ = plazad.register(rn)
    base = "plaza/" + rn
    for c, lbl in (("c1", ["room", "x&y=z"]), ("c2", ["room"]),
                   ("c3", [])):
        r = plazad.create(base, 3, {"m2m:cnt": {"rn": c, "lbl": lbl}})
        assert r.status_code == 201, r.text
    r = plazad.create(base + "/c1", 4, {"m2m:cin": {"con": "1"}})
    assert r.status_code == 201
    out = ok(plaza(plazad, "discover", base, "--type", "cnt"))
    assert out.splitlines() == [base + "/c1", base + "/c2", base + "/c3"]
    out = ok(plaza(plazad, "discover", base, "--label", "room"))
    assert out.splitlines() == [base + "/c1", base + "/c2"]
    out = ok(plaza(plazad, "discover", base, "--label", "x&y=z"))
    assert out.splitlines() == [base + "/c1"]
    out = ok(plaza(plazad, "discover", base, "--type", "container",
                   "--limit", "1", "--offset", "2"))
    assert out.splitlines() == [base + "/c2"]
    out = ok(plaza(plazad, "discover", base, "--level", "1"))
    assert base + "/c1" in out.splitlines()
    assert not any(l.startswith(base + "/c1/") for l in out.splitlines())
    out = ok(plaza(plazad, "discover", base, "--type", "cin", "--type",
                   "cnt", "--created-after", "20000101T000000"))
    assert len(out.splitlines()) == 4
    ri = plazad.get(base + "/c2").json()["m2m:cnt"]["ri"]
    out = ok(plaza(plazad, "discover", base, "--label", "room", "--label",
                   "none", "--or", "--unstructured"))
    assert "/plaza-in/" + ri in out.splitlines()
    doc = as_json(plaza(plazad, "--json", "discover", base, "--attr",
                        "rn=c3"))
    assert doc == {"m2m:uril": [base + "/c3"]}


# --- init and config ---------------------------------------------------------

def test_init_and_config_show_round_trip(tmp_path):
    d = tmp_path / "site" / "a"
    res = plaza(None, "init", str(d))
    out = ok(res)
    conf = d / "plazad.conf"
    assert conf.exists()
    assert "wrote %s" % conf in out
    assert "plazad --config %s" % conf in out
    text = conf.read_text()
    assert "#cse.id = plaza-in" in text
    # The template is a valid configuration for plazad and for plaza.
    r = subprocess.run([PLAZAD, "--test-config", str(conf)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    f = fields(ok(plaza(None, "config", "show", str(conf))))
    assert f["cse.id"] == "= plaza-in"
    assert f["http.listen"] == "= 127.0.0.1:8080"
    # Never overwritten without --force.
    conf.write_text(text + "\ncse.id = city-in\nhttp.max_body = 2048\n"
                    'registration.allowed = "Cmeter* Cvalve*"\n')
    res = plaza(None, "init", str(d))
    assert res.returncode == 1
    assert "exists; use --force" in res.stderr
    settings = as_json(plaza(None, "--json", "config", "show", str(conf)))
    assert settings["cse.id"] == "city-in"
    assert settings["http.max_body"] == 2048
    assert settings["registration.allowed"] == "Cmeter* Cvalve*"
    assert settings["auth.trust_origin"] is False
    assert settings["store"] == "sqlite:plaza-data/plaza.db"
    ok(plaza(None, "init", "--force", str(d)))
    assert conf.read_text() == text
    assert [p.name for p in d.iterdir()] == ["plazad.conf"]


def test_config_show_defaults():
    settings = as_json(plaza(None, "--json", "config", "show"))
    assert settings["cse.id"] == "plaza-in"
    assert settings["cse.name"] == "plaza"
    assert settings["admin"] == "CAdmin"
    assert settings["registration.open"] is True
    text = ok(plaza(None, "config", "show"))
    assert re.search(r"^log\.level\s+= info$", text, re.M)


@pytest.mark.parametrize("body, why", [
    ("cse.id = a\nhttp.max_body = 5\n", ":2: http.max_body: 5 is outside"),
    ("# fine\n\nnosuch = 1\n", ":3: unknown setting 'nosuch'"),
    ("store.sync = sometimes\n", ":1: store.sync: 'sometimes' is not one of"),
    ("cse.id = a\ncse.id = b\n", ":2: 'cse.id' is set twice"),
    ("just words\n", ":1: expected 'key = value'"),
])
def test_config_bad_file(tmp_path, body, why):
    f = tmp_path / "bad.conf"
    f.write_text(body)
    res = plaza(None, "config", "show", str(f))
    assert res.returncode == 2
    assert res.stderr.startswith("plaza: %s%s" % (f, why))
    assert res.stdout == ""


def test_config_rules_and_missing_file(tmp_path):
    f = tmp_path / "rules.conf"
    f.write_text("admin = Xadmin\n")
    res = plaza(None, "config", "show", str(f))
    assert res.returncode == 2
    assert "admin must be an AE-ID style originator" in res.stderr
    res = plaza(None, "config", "show", str(tmp_path / "missing.conf"))
    assert res.returncode == 2
    assert "missing.conf: No such file or directory" in res.stderr


# --- answers that are not plazad's --------------------------------------------

class _Fake(http.server.BaseHTTPRequestHandler):
    """Answers GET /big with 17 MiB and anything else with plain 404."""

    def do_GET(self):
        if self.path.startswith("/big"):
            self.send_response(200)
            self.send_header("X-M2M-RSC", "2000")
            self.send_header("Content-Length", str(17 << 20))
            self.end_headers()
            chunk = b" " * (1 << 20)
            try:
                for _ in range(17):
                    self.wfile.write(chunk)
            except OSError:
                pass
            return
        self.send_response(404)
        self.send_header("Content-Length", "9")
        self.end_headers()
        self.wfile.write(b"not here\n")

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Fake)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield "http://127.0.0.1:%d" % srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def test_not_a_onem2m_server(fake_server):
    res = plaza(None, "--url", fake_server, "--token", "t", "get", "x")
    assert res.returncode == 1
    assert "HTTP 404 without a oneM2M result code" in res.stderr


def test_answer_over_the_ceiling(fake_server):
    res = plaza(None, "--url", fake_server, "--token", "t", "get", "big")
    assert res.returncode == 1
    assert "the answer is larger than 16777216 bytes" in res.stderr


# --- listen: the notification receiver ----------------------------------------

class Listen:
    """`plaza listen ADDR [args]` in the background.  Its stdout and stderr
    lines are collected by reader threads; line() and err_line() wait for
    the next one until a deadline (never a fixed sleep)."""

    def __init__(self, *args, addr="0", json_mode=False):
        cmd = [PLAZA] + (["--json"] if json_mode else []) + \
            ["listen", addr] + [str(a) for a in args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True,
                                     env=clean_env())
        self.out, self.err = queue.Queue(), queue.Queue()
        for stream, q in ((self.proc.stdout, self.out),
                          (self.proc.stderr, self.err)):
            threading.Thread(target=self._pump, args=(stream, q),
                             daemon=True).start()
        first = (self.err if json_mode else self.out).get(timeout=10)
        m = re.fullmatch(r"listening on http://([0-9.]+):(\d+)/\n",
                         first or "")
        assert m, (first, self.proc.poll())
        self.port = int(m.group(2))
        self.url = "http://127.0.0.1:%d/" % self.port

    @staticmethod
    def _pump(stream, q):
        for line in stream:
            q.put(line)
        q.put(None)  # end of stream

    def line(self, timeout=10):
        """The next stdout line, without its newline (None at the end)."""
        line = self.out.get(timeout=timeout)
        return line.rstrip("\n") if line is not None else None

    def err_line(self, timeout=10):
        line = self.err.get(timeout=timeout)
        return line.rstrip("\n") if line is not None else None

    def rest(self, q, timeout=10):
        """The lines left in q (self.out or self.err) up to the end of the
        stream; call after the process exited."""
        got = []
        while True:
            line = q.get(timeout=timeout)
            if line is None:
                return got
            got.append(line)

    def stop(self):
        """SIGTERM; the exit status (0 expected)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


@pytest.fixture
def listen():
    """Start listeners: listen(*args, addr=..., json_mode=...); all are
    stopped after the test."""
    made = []

    def start(*args, **kw):
        made.append(Listen(*args, **kw))
        return made[-1]
    yield start
    for l in made:
        l.stop()


def subscribe(d, path, url, *extra, want=0):
    """A subscription to path with url as nu and su, via plaza; its ri."""
    res = plaza(d, "--json", "create", path, "sub", "rn=watch",
                'nu=["%s"]' % url, "su=" + url, 'enc={"net":[3]}', *extra)
    assert res.returncode == want, res.stderr
    return json.loads(res.stdout)["m2m:sub"]["ri"] if want == 0 else None


def container(d, ae):
    """A fresh container below the module's AE: its path."""
    path = "plaza/%s/%s" % (ae[0], name("lc"))
    ok(plaza(d, "create", path.rsplit("/", 1)[0], "cnt",
             "rn=" + path.rsplit("/", 1)[1]))
    return path


def test_listen_verification_notification_deletion(plazad, ae, listen):
    l = listen()
    path = container(plazad, ae)
    ri = subscribe(plazad, path, l.url)
    sur = "/plaza-in/" + ri
    assert l.line() == "verification request for %s from CAdmin" % sur
    cin = as_json(plaza(plazad, "--json", "create", path, "cin",
                        "con=21.5"))["m2m:cin"]
    line = l.line()
    assert line.startswith(sur + " net=3: "), line
    rep = json.loads(line[len(sur + " net=3: "):])
    assert rep["m2m:cin"]["ri"] == cin["ri"]
    assert rep["m2m:cin"]["con"] == 21.5
    ok(plaza(plazad, "delete", path + "/watch"))
    assert l.line() == "subscription %s ended" % sur
    assert l.stop() == 0
    assert l.rest(l.out) == [] and l.rest(l.err) == []


def test_listen_json_and_count(plazad, ae, listen):
    """--json: each body as one JSON line (the announcement on stderr);
    --count 1: the verification does not count, the first notification
    does, and plaza exits 0 once it has answered it."""
    l = listen("--count", "1", json_mode=True)
    path = container(plazad, ae)
    ri = subscribe(plazad, path, l.url)
    vrq = json.loads(l.line())["m2m:sgn"]
    assert vrq["vrq"] is True and vrq["sur"] == "/plaza-in/" + ri
    ok(plaza(plazad, "create", path, "cin", "con=on"))
    sgn = json.loads(l.line())["m2m:sgn"]
    assert sgn["nev"]["net"] == 3
    assert sgn["nev"]["rep"]["m2m:cin"]["con"] == "on"
    assert l.proc.wait(10) == 0
    assert l.line() is None


def test_listen_aggregated_notification_and_count(plazad, ae, listen):
    """A batch (bn) arrives as one m2m:agn; each notification in it is a
    line and counts."""
    l = listen("--count", "2")
    path = container(plazad, ae)
    ri = subscribe(plazad, path, l.url, 'bn={"num":2}')
    assert l.line().startswith("verification request for ")
    for con in ("one", "two"):
        ok(plaza(plazad, "create", path, "cin", "con=" + con))
    lines = [l.line(), l.line()]
    prefix = "/plaza-in/%s net=3: " % ri
    assert [json.loads(x[len(prefix):])["m2m:cin"]["con"] for x in lines] \
        == ["one", "two"]
    assert l.proc.wait(10) == 0


def test_listen_answer_fails_the_subscription(plazad, ae, listen):
    l = listen("--answer", "4103")
    path = container(plazad, ae)
    res = plaza(plazad, "create", path, "sub", "rn=watch",
                'nu=["%s"]' % l.url)
    assert res.returncode == 1
    assert "SUBSCRIPTION_VERIFICATION_INITIATION_FAILED (5204)" in res.stderr
    assert l.line().startswith("verification request for /plaza-in/")
    assert plazad.get(path + "/watch").status_code == 404
    assert l.stop() == 0


class Raw:
    """One raw HTTP connection to a listener."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.f = self.sock.makefile("rb")

    def send(self, data):
        self.sock.sendall(data)

    def response(self):
        """(status, headers with lower-case names, body); None at EOF."""
        line = self.f.readline()
        if not line:
            return None
        status = int(line.split()[1])
        headers = {}
        while True:
            h = self.f.readline()
            if h in (b"\r\n", b""):
                break
            k, v = h.decode().split(":", 1)
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0"))
        return status, headers, self.f.read(n) if n else b""

    def closed(self):
        return self.f.read(1) == b""

    def close(self):
        self.f.close()
        self.sock.close()


def post(body, ri=None, method="POST", extra=b""):
    body = body if isinstance(body, bytes) else json.dumps(body).encode()
    head = b"%s /notify HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n" % (
        method.encode(), len(body))
    if ri:
        head += b"X-M2M-RI: " + ri.encode() + b"\r\n"
    return head + extra + b"\r\n" + body


SGN = {"m2m:sgn": {"nev": {"rep": {"m2m:cin": {"con": "a\u009bb"}},
                           "net": 3}, "sur": "/plaza-in/sub9"}}


def test_listen_keeps_going_after_malformed_requests(listen):
    l = listen(addr="127.0.0.1:0")
    c = Raw(l.port)
    # One keep-alive connection: a notification, three bad requests, one
    # more notification.
    c.send(post(SGN, ri="n1"))
    status, h, _ = c.response()
    assert (status, h["x-m2m-rsc"], h["x-m2m-ri"]) == (200, "2000", "n1")
    bad = [(post(b'{"m2m:sgn": ', ri="b1"), 400, "4000", "malformed JSON"),
           (post({"x": 1}, ri="b2"), 400, "4000", "not a notification"),
           (post(b"", ri="b3"), 400, "4000", "empty body"),
           (post(SGN, ri="b4", method="PUT"), 405, "4005", "only POST")]
    for i, (req, want, rsc, why) in enumerate(bad):
        c.send(req)
        status, h, _ = c.response()
        assert (status, h["x-m2m-rsc"], h["x-m2m-ri"]) == \
            (want, rsc, "b%d" % (i + 1))
        assert "connection" not in h
        line = l.err_line()
        assert re.fullmatch(r"plaza: listen: 127\.0\.0\.1:\d+: .*%s.* "
                            r"\(answered %d\)" % (why, want), line), line
    # Pipelined: both answered, in order.
    c.send(post(SGN, ri="p1") + post(SGN, ri="p2"))
    assert [c.response()[1]["x-m2m-ri"] for _ in range(2)] == ["p1", "p2"]
    c.close()
    # Broken framing: answered, then the connection is closed.
    for req, want in [(b"GARBAGE\r\n\r\n", 400),
                      (b"POST / HTTP/2.0\r\n\r\n", 400),
                      (b"POST / HTTP/1.1\r\nBad Header\r\n\r\n", 400),
                      (b"POST / HTTP/1.1\r\nContent-Length: 2\r\n"
                       b"Content-Length: 3\r\n\r\n", 400),
                      (b"POST / HTTP/1.1\r\nX-M2M-RI: a\x01b\r\n\r\n", 400),
                      (b"POST / HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n",
                       413),
                      (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                       b"\r\n", 411),
                      (b"POST / HTTP/1.1\r\nX: " + b"y" * 17000, 431)]:
        c = Raw(l.port)
        c.send(req)
        status, h, _ = c.response()
        assert (status, h["connection"]) == (want, "close"), req[:40]
        assert c.closed()
        c.close()
        assert "(answered %d)" % want in l.err_line()
    # Expect: 100-continue, and the receiver still answers and prints.
    c = Raw(l.port)
    body = json.dumps(SGN).encode()
    c.send(post(body, ri="e1", extra=b"Expect: 100-continue\r\n")[:-len(body)])
    assert c.response()[0] == 100
    c.send(body)
    assert c.response()[1]["x-m2m-ri"] == "e1"
    c.close()
    # Every notification was printed, escaped; nothing else.
    want = "/plaza-in/sub9 net=3: {\"m2m:cin\":{\"con\":\"a\\u009bb\"}}"
    assert [l.line() for _ in range(4)] == [want] * 4
    assert l.stop() == 0
    assert l.rest(l.out) == [] and l.rest(l.err) == []


def test_listen_port_in_use(listen):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    try:
        res = plaza(None, "listen", "127.0.0.1:%d" % s.getsockname()[1])
    finally:
        s.close()
    assert res.returncode == 1
    assert "cannot listen on 127.0.0.1:" in res.stderr
    assert "Address already in use" in res.stderr
