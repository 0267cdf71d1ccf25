"""An acknowledged write survives a crash (DESIGN principle 6), and the
container counters stay exact under concurrent writers (spec lessons 6:
a reference CSE lost updates to cni under concurrency).

Each test writes from several threads, each with its own connection, and
records every acknowledged (201) instance: its ri, its content and its
size.  After kill -9 and a restart on the same data directory every one of
them is there and cni/cbs/st count exactly what was acknowledged.
"""
import json
import random
import threading

import requests

from conftest import rsc


def csize(con):
    if isinstance(con, str):
        return len(con.encode("utf-8"))
    return len(json.dumps(con, separators=(",", ":"),
                          ensure_ascii=False).encode("utf-8"))


def contents(seed, n):
    """n contents of varied size and kind (ASCII, UTF-8, JSON)."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        k = rnd.randrange(4)
        if k == 0:
            out.append("v%d-" % i + "x" * rnd.randrange(0, 300))
        elif k == 1:
            out.append("ü€%d" % i * rnd.randrange(1, 20))
        elif k == 2:
            out.append({"i": i, "t": rnd.randrange(-40, 50),
                        "s": "y" * rnd.randrange(0, 50)})
        else:
            out.append("")
    return out


class Writer(threading.Thread):
    """Posts contentInstances over its own connection until done or until
    the daemon goes away; keeps what was acknowledged."""

    def __init__(self, d, origin, path, items, stop=None):
        super().__init__(daemon=True)
        self.d, self.origin, self.path, self.items = d, origin, path, items
        self.stop_evt = stop
        self.acked = []      # (ri, cs, con, st)
        self.failures = []   # unexpected answers while the daemon was up
        self.url = d.url + "/" + path
        self.token = d.tokens[origin]

    def run(self):
        s = requests.Session()
        try:
            for con in self.items:
                if self.stop_evt is not None and self.stop_evt.is_set():
                    return
                h = {"X-M2M-Origin": self.origin,
                     "X-M2M-RI": "w%d-%d" % (id(self), len(self.acked)),
                     "X-M2M-RVI": "4",
                     "Authorization": "Bearer " + self.token,
                     "Content-Type": "application/json;ty=4",
                     "Accept": "application/json"}
                try:
                    r = s.post(self.url, headers=h, timeout=30,
                               data=json.dumps({"m2m:cin": {"con": con}}))
                except requests.RequestException:
                    if self.stop_evt is not None:
                        return   # the daemon was killed under us
                    raise
                if r.status_code != 201 or rsc(r) != 2001:
                    self.failures.append((r.status_code, r.text[:200]))
                    continue
                cin = r.json()["m2m:cin"]
                self.acked.append((cin["ri"], cin["cs"], con, cin["st"]))
        finally:
            s.close()


def setup_container(d, rn):
    aei, _ = d.register(rn)
    r = d.create("plaza/" + rn, 3, {"m2m:cnt": {"rn": "data"}}, origin=aei)
    assert r.status_code == 201, r.text
    return aei, "plaza/%s/data" % rn


def run_writers(d, aei, path, nthreads, per_thread, seed):
    ws = [Writer(d, aei, path, contents(seed + i, per_thread))
          for i in range(nthreads)]
    for w in ws:
        w.start()
    for w in ws:
        w.join(120)
        assert not w.is_alive(), "a writer hung"
    for w in ws:
        assert w.failures == [], w.failures[:5]
    return [a for w in ws for a in w.acked]


def children(d, aei, path):
    """The instances really stored under the container (rcn=4, lvl=1)."""
    r = d.get(path, aei, params={"rcn": "4", "lvl": "1", "ty": "4"})
    assert r.status_code == 200, r.text
    return r.json()["m2m:cnt"].get("m2m:cin", [])


def check_all_there(d, aei, path, acked, exact=True):
    """Every acknowledged instance is retrievable with its content, and
    the counters are exact."""
    s = requests.Session()
    try:
        for ri, cs, con, st in acked:
            r = s.get(d.url + "/" + ri, headers=d.headers(aei), timeout=30)
            assert r.status_code == 200, (ri, r.status_code, r.text[:200])
            cin = r.json()["m2m:cin"]
            assert (cin["con"], cin["cs"], cin["st"]) == (con, cs, st), ri
    finally:
        s.close()
    c = d.get(path, aei).json()["m2m:cnt"]
    stored = children(d, aei, path)
    assert c["cni"] == len(stored), (c["cni"], len(stored))
    assert c["cbs"] == sum(x["cs"] for x in stored)
    if exact:
        assert c["cni"] == len(acked)
        assert c["cbs"] == sum(a[1] for a in acked)
        assert c["st"] == len(acked)
    return c, stored


def test_acknowledged_instances_survive_kill9(fresh_plazad):
    d = fresh_plazad
    aei, path = setup_container(d, "crash")
    acked = []
    # Sequential writes, then concurrent ones; kill -9 right after the
    # last acknowledgement.
    for con in contents(1, 300):
        r = d.create(path, 4, {"m2m:cin": {"con": con}}, origin=aei)
        assert (r.status_code, rsc(r)) == (201, 2001), r.text
        cin = r.json()["m2m:cin"]
        assert cin["cs"] == csize(con)
        acked.append((cin["ri"], cin["cs"], con, cin["st"]))
    acked += run_writers(d, aei, path, 4, 100, seed=100)
    d.kill9()
    d.start()
    assert len(acked) == 700
    assert len({a[0] for a in acked}) == 700
    assert sorted(a[3] for a in acked) == list(range(1, 701))
    c, stored = check_all_there(d, aei, path, acked)
    assert {x["ri"] for x in stored} == {a[0] for a in acked}
    # Life goes on: new instances get fresh ids and continue the counters.
    more = run_writers(d, aei, path, 2, 25, seed=500)
    assert not {a[0] for a in more} & {a[0] for a in acked}
    check_all_there(d, aei, path, acked + more)


def test_kill9_during_writes(fresh_plazad):
    """Killed while writers are still sending: everything acknowledged is
    there, anything else is all-or-nothing, and the counters agree with
    what is stored."""
    d = fresh_plazad
    aei, path = setup_container(d, "inflight")
    stop = threading.Event()
    ws = [Writer(d, aei, path, contents(200 + i, 400), stop=stop)
          for i in range(4)]
    for w in ws:
        w.start()
    # Wait (bounded) until enough has been acknowledged, then kill.
    deadline = threading.Event()
    for _ in range(6000):
        if sum(len(w.acked) for w in ws) >= 500:
            break
        deadline.wait(0.005)
    stop.set()
    d.kill9()
    for w in ws:
        w.join(60)
        assert not w.is_alive()
    acked = [a for w in ws for a in w.acked]
    assert len(acked) >= 500, "writers too slow: %d acknowledged" % len(acked)
    assert len(acked) < 1600, "the writers finished before the kill"
    for w in ws:
        assert w.failures == [], w.failures[:5]
    d.start()
    c, stored = check_all_there(d, aei, path, acked, exact=False)
    assert c["cni"] >= len(acked)
    assert {a[0] for a in acked} <= {x["ri"] for x in stored}
    # Whatever made it without an answer is complete, never torn.
    for x in stored:
        assert x["cs"] == csize(x["con"]), x
    assert c["st"] >= c["cni"]
    print("kill -9 after %d acknowledged, %d stored" % (len(acked),
                                                       c["cni"]))


def test_concurrent_creates_exact_counters(plazad):
    d = plazad
    aei, path = setup_container(d, "concurrent")
    acked = run_writers(d, aei, path, 8, 200, seed=1000)
    assert len(acked) == 1600
    assert len({a[0] for a in acked}) == 1600
    # Each instance took its own stateTag: a permutation of 1..1600.
    assert sorted(a[3] for a in acked) == list(range(1, 1601))
    c = d.get(path, aei).json()["m2m:cnt"]
    assert c["cni"] == 1600
    assert c["cbs"] == sum(a[1] for a in acked)
    assert c["st"] == 1600
    stored = children(d, aei, path)
    assert len(stored) == 1600
    assert {x["ri"] for x in stored} == {a[0] for a in acked}
    la = d.get(path + "/la", aei).json()["m2m:cin"]
    assert la["st"] == 1600
    ol = d.get(path + "/ol", aei).json()["m2m:cin"]
    assert ol["st"] == 1


def test_concurrent_creates_with_mni(plazad):
    """With mni, concurrent writers never push cni past the limit and the
    survivors are the newest ones."""
    d = plazad
    aei, path = setup_container(d, "concmni")
    r = d.update(path, {"m2m:cnt": {"mni": 50}}, origin=aei)
    assert r.status_code == 200, r.text
    acked = run_writers(d, aei, path, 8, 60, seed=3000)
    assert len(acked) == 480
    c = d.get(path, aei).json()["m2m:cnt"]
    stored = children(d, aei, path)
    assert c["cni"] == len(stored) == 50
    assert c["cbs"] == sum(x["cs"] for x in stored)
    assert c["st"] == 481  # 480 instances and the update
    newest = sorted(acked, key=lambda a: a[3])[-50:]
    assert {x["ri"] for x in stored} == {a[0] for a in newest}


def test_counters_survive_graceful_restart(fresh_plazad):
    d = fresh_plazad
    aei, path = setup_container(d, "restart")
    acked = run_writers(d, aei, path, 4, 50, seed=4000)
    before = d.get(path, aei).json()["m2m:cnt"]
    d.stop()
    d.start()
    after = d.get(path, aei).json()["m2m:cnt"]
    assert after == before
    check_all_there(d, aei, path, acked)
