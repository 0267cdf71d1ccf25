"""The oneM2M MQTT binding (TS-0010) against the real plazad and a real
mosquitto: AE registration on reg_req, full CRUD of AE, container,
contentInstance and subscription, CBOR primitives, notifications to an
MQTT subscriber (verification included), mosquitto_pub/mosquitto_sub,
bad primitives (an error primitive with rsc and m2m:dbg, the connection
stays up, nothing changes), and the broker killed and restarted mid-run
with no request lost and none run twice."""
import json
import os
import shutil
import subprocess
import time

import pytest

from conftest import Plazad
from mqttbroker import CSE, Broker, Client, uniq


def wait_log(d, text, timeout=10.0, count=1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if d.log().count(text) >= count:
            return
        time.sleep(0.02)
    raise AssertionError("plazad never logged %r:\n%s" % (text, d.log()[-3000:]))


@pytest.fixture(scope="module")
def broker():
    b = Broker().start()
    yield b
    b.cleanup()


@pytest.fixture(scope="module")
def d(broker):
    p = Plazad(args=["--set", "mqtt.broker=127.0.0.1:%d" % broker.port])
    p.start()
    wait_log(p, "mqtt: connected to")
    yield p
    p.cleanup()


def register(port, fmt="json", notify_rsc=None):
    aei = uniq("Cmq")
    c = Client(port, aei, notify_rsc=notify_rsc)
    r = c.request(1, "plaza", fmt=fmt, reg=True, ty=2,
                  pc={"m2m:ae": {"rn": aei, "api": "Nplaza.mqtt", "rr": True,
                                 "srv": ["4"]}})
    assert r["rsc"] == 2001, r
    assert r["pc"]["m2m:ae"]["aei"] == aei
    assert r["to"] == aei and r["fr"] == "/" + CSE
    return c


@pytest.fixture(scope="module")
def ae(broker, d):
    c = register(broker.port)
    yield c
    c.close()


def test_crud(ae, d):
    base = "plaza/" + ae.orig
    r = ae.request(1, base, ty=3, pc={"m2m:cnt": {"rn": "c", "mni": 10}})
    assert r["rsc"] == 2001, r
    for i in range(3):
        r = ae.request(1, base + "/c", ty=4, pc={"m2m:cin": {"con": str(i)}})
        assert r["rsc"] == 2001, r
    r = ae.request(2, base + "/c")
    assert r["rsc"] == 2000 and r["pc"]["m2m:cnt"]["cni"] == 3, r
    r = ae.request(2, base + "/c/la")
    assert r["pc"]["m2m:cin"]["con"] == "2"
    # discovery through fc, answers through rcn
    r = ae.request(2, base, fc={"fu": 1, "ty": 4}, drt=2)
    assert r["rsc"] == 2000 and len(r["pc"]["m2m:uril"]) == 3, r
    r = ae.request(2, base + "/c", rcn=4)
    assert len(r["pc"]["m2m:cnt"]["m2m:cin"]) == 3, r
    r = ae.request(3, base + "/c", pc={"m2m:cnt": {"lbl": ["mqtt"]}})
    assert r["rsc"] == 2004 and r["pc"]["m2m:cnt"]["lbl"] == ["mqtt"], r
    r = ae.request(3, base, pc={"m2m:ae": {"lbl": ["x"]}})
    assert r["rsc"] == 2004, r
    # an application on HTTP sees the same data
    h = d.get(base + "/c")
    assert h.status_code == 200 and h.json()["m2m:cnt"]["cni"] == 3
    r = ae.request(4, base + "/c")
    assert r["rsc"] == 2002, r
    r = ae.request(2, base + "/c")
    assert r["rsc"] == 4004 and "m2m:dbg" in r["pc"], r
    # SP-relative addressing and an SP-relative fr in its topic form
    r = ae.request(2, "/%s/%s" % (CSE, base))
    assert r["rsc"] == 2000, r


def test_cbor(broker, d):
    c = register(broker.port, fmt="cbor")
    try:
        base = "plaza/" + c.orig
        r = c.request(1, base, fmt="cbor", ty=3, pc={"m2m:cnt": {"rn": "c"}})
        assert r["rsc"] == 2001, r
        r = c.request(1, base + "/c", fmt="cbor", ty=4,
                      pc={"m2m:cin": {"con": 21.5}})
        assert r["rsc"] == 2001 and r["pc"]["m2m:cin"]["con"] == 21.5, r
        r = c.request(2, base + "/c/la", fmt="cbor")
        assert r["pc"]["m2m:cin"]["con"] == 21.5
        assert c.answers[r["rqi"]][0] is r
    finally:
        c.close()


def test_notifications(broker, d):
    c = register(broker.port, notify_rsc=2000)
    try:
        base = "plaza/" + c.orig
        assert c.request(1, base, ty=3, pc={"m2m:cnt": {"rn": "c"}})["rsc"] == 2001
        nu = "mqtt://127.0.0.1:%d/%s" % (broker.port, c.orig)
        r = c.request(1, base + "/c", ty=23,
                      pc={"m2m:sub": {"rn": "s", "nu": [nu], "nct": 1,
                                      "enc": {"net": [3]}}})
        assert r["rsc"] == 2001, r
        # the verification request came over MQTT first
        v = c.wait_note(lambda n: n.get("pc", {}).get("m2m:sgn", {}).get("vrq"))
        assert v["op"] == 5 and v["fr"] == "/" + CSE and v["to"] == c.orig
        r = c.request(1, base + "/c", ty=4, pc={"m2m:cin": {"con": "hello"}})
        assert r["rsc"] == 2001
        n = c.wait_note(lambda n: n.get("pc", {}).get("m2m:sgn", {})
                        .get("nev", {}).get("rep", {}).get("m2m:cin", {})
                        .get("con") == "hello")
        assert n["op"] == 5 and n["rqi"]
        r = c.request(2, base + "/c/s")
        assert r["rsc"] == 2000 and r["pc"]["m2m:sub"]["nu"] == [nu]
        assert c.request(4, base + "/c/s")["rsc"] == 2002
        # nu as the AE-ID, its point of access an mqtt:// URL
        r = c.request(3, base, pc={"m2m:ae": {"poa": [nu]}})
        assert r["rsc"] == 2004, r
        r = c.request(1, base + "/c", ty=23,
                      pc={"m2m:sub": {"rn": "s2", "nu": [c.orig],
                                      "enc": {"net": [3]}}})
        assert r["rsc"] == 2001, r
        assert c.request(1, base + "/c", ty=4,
                         pc={"m2m:cin": {"con": "via-poa"}})["rsc"] == 2001
        c.wait_note(lambda n: n.get("pc", {}).get("m2m:sgn", {})
                    .get("nev", {}).get("rep", {}).get("m2m:cin", {})
                    .get("con") == "via-poa")
        # a CBOR primitive on the cbor topic when the URL asks for it
        r = c.request(1, base + "/c", ty=23,
                      pc={"m2m:sub": {"rn": "s3", "nu": [nu + "?ct=cbor"],
                                      "enc": {"net": [3]}}})
        assert r["rsc"] == 2001, r
        assert c.request(1, base + "/c", ty=4,
                         pc={"m2m:cin": {"con": 7.5}})["rsc"] == 2001
        n = c.wait_note(lambda n: n.get("pc", {}).get("m2m:sgn", {})
                        .get("nev", {}).get("rep", {}).get("m2m:cin", {})
                        .get("con") == 7.5 and n.get("_fmt") == "cbor")
    finally:
        c.close()


def test_notification_target_silent(broker, d):
    """A subscriber that never answers its verification: the subscription
    is refused after notify.timeout, and plazad keeps serving."""
    c = register(broker.port)  # answers nothing
    try:
        base = "plaza/" + c.orig
        assert c.request(1, base, ty=3, pc={"m2m:cnt": {"rn": "c"}})["rsc"] == 2001
        nu = "mqtt://127.0.0.1:%d/%s" % (broker.port, c.orig)
        r = c.request(1, base + "/c", ty=23, pc={"m2m:sub": {"nu": [nu]}})
        assert r["rsc"] != 2001, r
        # a broker plazad does not use is not reachable
        r = c.request(1, base + "/c", ty=23,
                      pc={"m2m:sub": {"nu": ["mqtt://192.0.2.1:1883/x"]}})
        assert r["rsc"] != 2001, r
        assert c.request(2, base + "/c")["rsc"] == 2000
    finally:
        c.close()


BAD = [
    (b"", 4000, "JSON primitive"),
    (b"garbage", 4000, "JSON primitive"),
    (b"\xff\xfe", 4000, "JSON primitive"),
    (b'{"op":2,"to":"plaza"}', 4000, "missing 'rqi'"),
    (b'{"op":2,"rqi":"b3"}', 4000, "missing 'to'"),
    (b'{"to":"plaza","rqi":"b4"}', 4000, "missing 'op'"),
    (b'{"op":"1","to":"plaza","rqi":"b5"}', 4000, "'op' must be"),
    (b'{"op":2,"to":["plaza"],"rqi":"b6"}', 4000, "'to' must be a string"),
    (b'{"op":1,"to":"plaza","rqi":"b7","ty":"4","pc":{}}', 4000, "'ty'"),
    (b'{"op":2,"to":"plaza","rqi":"b8","fr":"Cintruder"}', 4103,
     "not the topic's originator"),
    (b'{"op":2,"to":"plaza","rqi":"b9","rcn":"all"}', 4000, "'rcn'"),
    (b'{"op":2,"to":"plaza","rqi":"b10","fc":{"nope":1}}', 4000, "nope"),
    (b'{"op":1,"to":"plaza","rqi":"b11","ty":4,"pc":' + b"[" * 200 +
     b"]" * 200 + b"}", 4000, "primitive"),
]


def test_bad_primitives(ae, d):
    base = "plaza/" + ae.orig
    assert ae.request(1, base, ty=3, pc={"m2m:cnt": {"rn": "bad"}})["rsc"] == 2001
    before = ae.request(2, base + "/bad")["pc"]["m2m:cnt"]
    for i, (raw, rsc, why) in enumerate(BAD):
        # What plaza cannot parse has no rqi it could echo: the answer
        # comes without one (the topic still names the requester).
        key = None
        if why != "primitive" and not why.startswith("JSON"):
            key = json.loads(raw).get("rqi")
        n = len(ae.answers.get(key, []))
        ae.publish(None, raw=raw)
        r = ae.wait(key, n=n + 1)
        assert r["rsc"] == rsc, (raw, r)
        assert why in r["pc"]["m2m:dbg"], (raw, r)
        assert r["to"] == ae.orig
    # a create with bad content is refused and creates nothing
    r = ae.request(1, base + "/bad", ty=4, pc={"m2m:cin": {"con": "x",
                                                           "bogus": 1}})
    assert r["rsc"] == 4000, r
    # an oversized primitive (mqtt.max_payload is 1 MiB)
    big = {"op": 1, "to": base + "/bad", "rqi": "big", "ty": 4,
           "pc": {"m2m:cin": {"con": "x" * (1 << 20)}}}
    n = len(ae.answers.get(None, []))
    ae.publish(big)
    r = ae.wait(None, n=n + 1)  # refused unread: no rqi to echo
    assert r["rsc"] == 4000 and "exceeds" in r["pc"]["m2m:dbg"], r
    after = ae.request(2, base + "/bad")["pc"]["m2m:cnt"]
    assert after["cni"] == before["cni"] == 0 and after["st"] == before["st"]
    assert "rejected" in d.log()
    assert d.alive()


def test_token_in_primitive(broker, d):
    """The credential issued at registration is accepted in 'token'; a
    wrong one is refused even though the topic names the AE."""
    aei = uniq("Cmq")
    c = Client(broker.port, aei)
    try:
        r = c.request(1, "plaza", reg=True, ty=2,
                      pc={"m2m:ae": {"rn": aei, "api": "Nx", "rr": False,
                                     "srv": ["4"]}})
        assert r["rsc"] == 2001 and r["token"], r
        r = c.request(2, "plaza/" + aei, token=r["token"])
        assert r["rsc"] == 2000, r
        r = c.request(2, "plaza/" + aei, token="not-the-token")
        assert r["rsc"] == 4103, r
    finally:
        c.close()


def test_mosquitto_pub_sub(broker, d):
    """The README tour: an application with only mosquitto_pub and
    mosquitto_sub."""
    aei = uniq("Cmq")
    port = str(broker.port)

    def call(kind, prim):
        sub = subprocess.Popen(
            ["mosquitto_sub", "-p", port, "-q", "1", "-C", "1", "-W", "10",
             "-t", "/oneM2M/%s_resp/%s/%s/json" % (kind, aei, CSE)
             if kind == "reg" else "/oneM2M/resp/%s/%s/json" % (aei, CSE)],
            stdout=subprocess.PIPE)
        time.sleep(0.3)  # let the subscription reach the broker
        subprocess.run(["mosquitto_pub", "-p", port, "-q", "1", "-t",
                        "/oneM2M/%s/%s/%s/json" %
                        ("reg_req" if kind == "reg" else "req", aei, CSE),
                        "-m", json.dumps(prim)], check=True, timeout=10)
        out, _ = sub.communicate(timeout=15)
        return json.loads(out)

    r = call("reg", {"op": 1, "to": "plaza", "fr": aei, "rqi": "1", "ty": 2,
                     "pc": {"m2m:ae": {"rn": aei, "api": "Ntour",
                                       "rr": False, "srv": ["4"]}}})
    assert r["rsc"] == 2001, r
    r = call("req", {"op": 1, "to": "plaza/" + aei, "fr": aei, "rqi": "2",
                     "ty": 3, "pc": {"m2m:cnt": {"rn": "temp"}}})
    assert r["rsc"] == 2001, r
    r = call("req", {"op": 1, "to": "plaza/%s/temp" % aei, "fr": aei,
                     "rqi": "3", "ty": 4, "pc": {"m2m:cin": {"con": "21"}}})
    assert r["rsc"] == 2001, r
    r = call("req", {"op": 2, "to": "plaza/%s/temp/la" % aei, "fr": aei,
                     "rqi": "4"})
    assert r["rsc"] == 2000 and r["pc"]["m2m:cin"]["con"] == "21", r


def test_repeated_rqi_runs_once(ae):
    """QoS 1 may deliver a request twice; a requester may repeat one it
    got no answer to.  Same originator and rqi: answered again, run once."""
    base = "plaza/" + ae.orig
    assert ae.request(1, base, ty=3, pc={"m2m:cnt": {"rn": "rep"}})["rsc"] == 2001
    prim = {"op": 1, "to": base + "/rep", "fr": ae.orig, "rqi": "rep-1",
            "ty": 4, "pc": {"m2m:cin": {"con": "once"}}}
    ae.publish(prim)
    first = ae.wait("rep-1")
    ae.publish(prim)
    again = ae.wait("rep-1", n=2)
    assert first == again
    assert ae.request(2, base + "/rep")["pc"]["m2m:cnt"]["cni"] == 1


def test_broker_restart(broker):
    """Kill mosquitto mid-run and start it again on the same port: plazad
    reconnects and resubscribes; every create is answered 2001 and none is
    run twice (the requester repeats, with the same rqi, what got no
    answer; plazad answers repeats from memory)."""
    b = Broker().start()
    p = Plazad(args=["--set", "mqtt.broker=127.0.0.1:%d" % b.port])
    p.start()
    c = None
    try:
        wait_log(p, "mqtt: connected to")
        c = register(b.port)
        base = "plaza/" + c.orig
        assert c.request(1, base, ty=3, pc={"m2m:cnt": {"rn": "c"}})["rsc"] == 2001
        n = 300
        prims = [{"op": 1, "to": base + "/c", "fr": c.orig, "rqi": "k%d" % i,
                  "ty": 4, "pc": {"m2m:cin": {"con": str(i)}}}
                 for i in range(n)]
        for prim in prims:
            c.publish(prim)
        # Kill the broker while requests and answers are in flight.
        deadline = time.monotonic() + 20
        while len(c.answers) < n // 3 and time.monotonic() < deadline:
            time.sleep(0.001)
        b.kill()
        time.sleep(0.5)
        b.start()
        wait_log(p, "mqtt: connected to", timeout=30, count=2)
        assert c.connected.wait(30)
        # Repeat what has no answer, until everything has one.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(1.0)
            missing = [q for q in prims if q["rqi"] not in c.answers]
            if not missing:
                break
            for q in missing:
                c.publish(q)
        missing = [q["rqi"] for q in prims if q["rqi"] not in c.answers]
        assert not missing, missing
        ris = {}
        for q in prims:
            got = c.answers[q["rqi"]]
            assert all(a["rsc"] == 2001 for a in got), got
            # repeats carry the same answer: one resource per request
            assert len({a["pc"]["m2m:cin"]["ri"] for a in got}) == 1, got
            ris[q["rqi"]] = got[0]["pc"]["m2m:cin"]["ri"]
        assert len(set(ris.values())) == n
        print("broker restart: %d creates, %d answers received, %d "
              "repeats answered from memory" %
              (n, sum(len(c.answers[q["rqi"]]) for q in prims),
               p.log().count("answered again, not run again")))
        r = c.request(2, base + "/c")
        assert r["pc"]["m2m:cnt"]["cni"] == n, r
        assert p.alive()
    finally:
        if c:
            c.close()
        p.cleanup()
        b.cleanup()


def test_acl():
    """The shipped docs/mqtt/plaza.acl: plazad and each AE log in, and an
    AE that publishes a request under another AE's name is dropped by the
    broker, so plazad never sees it."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    b = Broker(anonymous=False)
    passwd = os.path.join(b.tmp, "passwd")
    acl = os.path.join(b.tmp, "plaza.acl")
    shutil.copy(os.path.join(root, "docs", "mqtt", "plaza.acl"), acl)
    for i, (user, pw) in enumerate([("plaza", "pz-secret"),
                                    ("Cacl1", "pw1"), ("Cacl2", "pw2")]):
        subprocess.run(["mosquitto_passwd", "-b"] + (["-c"] if i == 0 else [])
                       + [passwd, user, pw], check=True)
    for f in (passwd, acl):
        os.chmod(f, 0o644)
    b.extra = "password_file %s\nacl_file %s\n" % (passwd, acl)
    b.start()
    p = Plazad(args=["--set", "mqtt.broker=127.0.0.1:%d" % b.port,
                     "--set", "mqtt.username=plaza",
                     "--set", "mqtt.password=pz-secret"])
    p.start()
    c1 = c2 = None
    try:
        wait_log(p, "mqtt: connected to")
        assert "pz-secret" not in p.log()
        c1 = Client(b.port, "Cacl1", user="Cacl1", password="pw1")
        c2 = Client(b.port, "Cacl2", user="Cacl2", password="pw2")
        for c in (c1, c2):
            r = c.request(1, "plaza", reg=True, ty=2,
                          pc={"m2m:ae": {"rn": c.orig, "api": "Nacl",
                                         "rr": False, "srv": ["4"]}})
            assert r["rsc"] == 2001, r
        # Cacl1 writes under Cacl2's name: the broker drops it.
        c1.c.publish("/oneM2M/req/Cacl2/%s/json" % CSE, json.dumps(
            {"op": 1, "to": "plaza/Cacl2", "fr": "Cacl2", "rqi": "evil",
             "ty": 3, "pc": {"m2m:cnt": {"rn": "evil"}}}), qos=1)
        time.sleep(1.0)
        assert "evil" not in c1.answers and "evil" not in c2.answers
        assert c2.request(2, "plaza/Cacl2/evil")["rsc"] == 4004
        # and under its own name it may not touch Cacl2's resources
        r = c1.request(1, "plaza/Cacl2", ty=3, pc={"m2m:cnt": {"rn": "x"}})
        assert r["rsc"] == 4103, r
        assert c1.request(1, "plaza/Cacl1", ty=3,
                          pc={"m2m:cnt": {"rn": "ok"}})["rsc"] == 2001
    finally:
        for c in (c1, c2):
            if c:
                c.close()
        p.cleanup()
        b.cleanup()


def test_trust_topic_off(broker):
    """mqtt.trust_topic=false: the topic proves nothing, the token must."""
    p = Plazad(args=["--set", "mqtt.broker=127.0.0.1:%d" % broker.port,
                     "--set", "mqtt.trust_topic=false",
                     "--set", "mqtt.client_id=plaza-strict",
                     "--set", "mqtt.topic_prefix=/strict"])
    aei = uniq("Cmq")
    # A retained request waits on the broker: plazad gets it when it
    # subscribes, as a stale copy, and must not run it.
    stale = "/strict/oneM2M/reg_req/%s/%s/json" % (aei, CSE)
    subprocess.run(["mosquitto_pub", "-p", str(broker.port), "-q", "1", "-r",
                    "-t", stale, "-m", json.dumps(
                        {"op": 1, "to": "plaza", "rqi": "stale", "ty": 2,
                         "pc": {"m2m:ae": {"rn": aei, "api": "Nx",
                                           "rr": False, "srv": ["4"]}}})],
                   check=True, timeout=10)
    p.start()
    c = None
    try:
        wait_log(p, "mqtt: connected to")
        wait_log(p, "retained message on")
        subprocess.run(["mosquitto_pub", "-p", str(broker.port), "-q", "1",
                        "-r", "-n", "-t", stale], check=True, timeout=10)
        c = Client(broker.port, aei)
        c.topics = lambda: ["/strict/oneM2M/%s/%s/%s/+" % (k, aei, CSE)
                            for k in ("resp", "reg_resp")]
        c.c.subscribe([(t, 1) for t in c.topics()])
        time.sleep(0.3)

        def call(prim, reg=False):
            prim.setdefault("rqi", uniq("r"))
            c.c.publish("/strict/oneM2M/%s/%s/%s/json" %
                        ("reg_req" if reg else "req", aei, CSE),
                        json.dumps(prim), qos=1)
            return c.wait(prim["rqi"])

        r = call({"op": 1, "to": "plaza", "ty": 2,
                  "pc": {"m2m:ae": {"rn": aei, "api": "Nx", "rr": False,
                                    "srv": ["4"]}}}, reg=True)
        assert r["rsc"] == 2001 and r["token"], r
        tok = r["token"]
        assert call({"op": 2, "to": "plaza/" + aei})["rsc"] == 4107
        assert call({"op": 2, "to": "plaza/" + aei,
                     "token": tok})["rsc"] == 2000
    finally:
        if c:
            c.close()
        p.cleanup()


def test_cli_via_mqtt(broker, d):
    """plaza --via mqtt://: the admin and an AE work through the broker,
    answers matched by rqi; errors keep their exit codes."""
    import conftest
    via = "mqtt://127.0.0.1:%d" % broker.port

    def plaza(*args, check=True):
        r = subprocess.run([conftest.PLAZA, "--via", via, "--data", d.data]
                           + list(args), capture_output=True, text=True,
                           timeout=30)
        if check:
            assert r.returncode == 0, (args, r.stdout, r.stderr)
        return r

    r = plaza("--json", "get", "plaza")
    assert json.loads(r.stdout)["m2m:cb"]["csi"] == "/" + CSE
    r = plaza("ae", "register", uniq("lamp"), "--api", "Nlamp")
    aei = r.stdout.split("AE-ID:")[1].split()[0]
    tok = r.stdout.split("token:")[1].split()[0]
    ae = ["--origin", aei, "--token", tok]
    name = "plaza/" + d.get("~/%s/%s" % (CSE, aei)).json()["m2m:ae"]["rn"]
    plaza(*ae, "create", name, "cnt", "rn=box")
    plaza(*ae, "create", name + "/box", "cin", "con=21")
    r = plaza(*ae, "--json", "get", name + "/box/la")
    assert json.loads(r.stdout)["m2m:cin"]["con"] == 21
    r = plaza(*ae, "--json", "discover", name, "--type", "cin")
    assert len(json.loads(r.stdout)["m2m:uril"]) == 1
    r = plaza(*ae, "get", name + "/nope", check=False)
    assert r.returncode == 1 and "4004" in r.stderr
    r = plaza("--origin", aei, "--token", "wrong", "get", name, check=False)
    assert r.returncode == 1 and "4103" in r.stderr
    r = subprocess.run([conftest.PLAZA, "--via", "mqtt://127.0.0.1:1",
                        "get", "plaza"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 3, r.stderr


def _pki(dirname):
    """A CA, a server certificate for 127.0.0.1 and a client certificate,
    made with openssl; returns their paths."""
    def ossl(*args):
        subprocess.run(["openssl"] + list(args), check=True, cwd=dirname,
                       capture_output=True, timeout=60)
    ossl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
         "-subj", "/CN=plaza test CA")
    for name in ("server", "client"):
        ossl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", name + ".key", "-out", name + ".csr",
             "-subj", "/CN=" + ("127.0.0.1" if name == "server" else "plaza"))
        with open(os.path.join(dirname, name + ".ext"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1\n" if name == "server"
                    else "extendedKeyUsage=clientAuth\n")
        ossl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey",
             "ca.key", "-CAcreateserial", "-out", name + ".pem", "-days", "2",
             "-extfile", name + ".ext")
    for f in os.listdir(dirname):
        os.chmod(os.path.join(dirname, f), 0o644)
    return {k: os.path.join(dirname, k) for k in
            ("ca.pem", "server.pem", "server.key", "client.pem", "client.key")}


def test_tls_to_broker():
    """mqtt.tls_ca / tls_cert / tls_key: plazad reaches a broker that
    requires TLS with a client certificate, and serves requests over it."""
    b = Broker()
    pki = _pki(b.tmp)
    b.extra = ("cafile %s\ncertfile %s\nkeyfile %s\nrequire_certificate true\n"
               % (pki["ca.pem"], pki["server.pem"], pki["server.key"]))
    b.start()
    p = Plazad(args=["--set", "mqtt.broker=127.0.0.1:%d" % b.port,
                     "--set", "mqtt.tls_ca=" + pki["ca.pem"],
                     "--set", "mqtt.tls_cert=" + pki["client.pem"],
                     "--set", "mqtt.tls_key=" + pki["client.key"]])
    p.start()
    c = None
    try:
        wait_log(p, "mqtt: connected to")
        aei = uniq("Cmq")
        r = subprocess.run(
            ["mosquitto_rr", "-h", "127.0.0.1", "-p", str(b.port),
             "--cafile", pki["ca.pem"],
             "--cert", pki["client.pem"], "--key", pki["client.key"],
             "-q", "1", "-W", "10",
             "-t", "/oneM2M/reg_req/%s/%s/json" % (aei, CSE),
             "-e", "/oneM2M/reg_resp/%s/%s/json" % (aei, CSE),
             "-m", json.dumps({"op": 1, "to": "plaza", "rqi": "t1", "ty": 2,
                               "pc": {"m2m:ae": {"rn": aei, "api": "Ntls",
                                                 "rr": False,
                                                 "srv": ["4"]}}})],
            capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["rsc"] == 2001, r.stdout
    finally:
        p.cleanup()
        b.cleanup()
