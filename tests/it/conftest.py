"""Fixtures for plaza's integration tests.

Every test gets (or shares, per module) a real plazad started on a free
loopback port with a fresh data directory.  The fixture waits for the
portfile plazad writes after binding (it never sleeps a guessed time) and
prints the daemon's log when a test fails.
"""
import base64
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("PLAZA_BUILD", os.path.join(ROOT, "build"))
PLAZAD = os.path.join(BUILD, "plazad")
PLAZA = os.path.join(BUILD, "plaza")

_rqi = itertools.count(1)


def next_rqi():
    return "r%d" % next(_rqi)


class Plazad:
    """A running plazad and a small oneM2M client for it."""

    def __init__(self, args=(), data=None, trust_origin=False):
        self.tmp = tempfile.mkdtemp(prefix="plaza-it-")
        self.data = data or os.path.join(self.tmp, "data")
        self.args = list(args)
        self.trust_origin = trust_origin
        self.proc = None
        self.port = None
        self.log_path = os.path.join(self.tmp, "plazad.log")
        self.tokens = {}
        self.session = requests.Session()

    # --- lifecycle ---------------------------------------------------------
    def start(self, timeout=10.0):
        portfile = os.path.join(self.tmp, "ports")
        self.port = None
        if os.path.exists(portfile):
            os.unlink(portfile)
        # CoAP over DTLS would take its default port 5684: several
        # daemons run at once, so it gets a free port too.
        cmd = [PLAZAD, "--data", self.data, "--listen", "127.0.0.1:0",
               "--set", "coaps.listen=127.0.0.1:0",
               "--portfile", portfile] + self.args
        if self.trust_origin:
            cmd.append("--trust-origin")
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.logf, stderr=self.logf,
                                     cwd=self.tmp)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("plazad exited with %d:\n%s" %
                                   (self.proc.returncode, self.log()))
            if os.path.exists(portfile):
                with open(portfile) as f:
                    for line in f:
                        kind, port = line.split()
                        if kind == "http" and not self.port:
                            self.port = int(port)  # the first listener
                if self.port:
                    break
            time.sleep(0.01)
        else:
            raise RuntimeError("plazad did not start:\n" + self.log())
        self.url = "http://127.0.0.1:%d" % self.port
        with open(os.path.join(self.data, "admin.token")) as f:
            self.tokens["CAdmin"] = f.read().strip()
        return self

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.hung = True
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "logf", None):
            self.logf.close()
        self.session.close()
        self.session = requests.Session()
        return self.proc.returncode if self.proc else None

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.logf.close()
        self.session.close()
        self.session = requests.Session()

    def cleanup(self):
        """Stop plazad; fail if it did not exit cleanly (a sanitizer
        finding, a leak under LeakSanitizer, a crash)."""
        rc = self.stop()
        log = self.log()
        shutil.rmtree(self.tmp, ignore_errors=True)
        bad = [m for m in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                           "runtime error:") if m in log]
        if getattr(self, "hung", False):
            bad.append("did not stop within 10 s of SIGTERM")
        if (rc not in (0, None) and rc != -signal.SIGKILL) or bad:
            pytest.fail("plazad exited with %s %s\n%s" %
                        (rc, bad, log[-6000:]), pytrace=False)

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def alive(self):
        """The daemon still answers a plain retrieve of the CSEBase."""
        r = self.get("plaza", "CAdmin")
        return r.status_code == 200

    # --- requests ----------------------------------------------------------
    def headers(self, origin, rqi=None, token=True, extra=None):
        h = {"X-M2M-RI": rqi or next_rqi(), "X-M2M-RVI": "4",
             "Accept": "application/json"}
        if origin is not None:
            h["X-M2M-Origin"] = origin
            if token and origin in self.tokens and not self.trust_origin:
                h["Authorization"] = "Bearer " + self.tokens[origin]
        if extra:
            h.update(extra)
        return h

    def _url(self, path):
        if path.startswith("http"):
            return path
        return self.url + "/" + path.lstrip("/") if not path.startswith("/~") \
            and not path.startswith("/_") else self.url + path

    def request(self, method, path, origin="CAdmin", body=None, ty=None,
                params=None, headers=None, token=True, raw=None):
        h = self.headers(origin, token=token, extra=None)
        if body is not None or raw is not None:
            h["Content-Type"] = "application/json" + (";ty=%d" % ty if ty else "")
        if headers:
            h.update(headers)
            for k, v in list(h.items()):
                if v is None:
                    del h[k]
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        return self.session.request(method, self._url(path), headers=h,
                                    params=params, data=data, timeout=30)

    def get(self, path, origin="CAdmin", **kw):
        return self.request("GET", path, origin, **kw)

    def create(self, path, ty, body, origin="CAdmin", **kw):
        return self.request("POST", path, origin, body=body, ty=ty, **kw)

    def update(self, path, body, origin="CAdmin", **kw):
        return self.request("PUT", path, origin, body=body, **kw)

    def delete(self, path, origin="CAdmin", **kw):
        return self.request("DELETE", path, origin, **kw)

    def register(self, rn=None, origin="C", api="Nplaza.test", poa=None,
                 **attrs):
        """Register an AE; remember its credential.  Returns (aei, json)."""
        ae = {"api": api, "rr": True, "srv": ["4"]}
        if rn:
            ae["rn"] = rn
        if poa:
            ae["poa"] = poa
        ae.update(attrs)
        r = self.create("plaza", 2, {"m2m:ae": ae}, origin=origin,
                        token=False)
        assert r.status_code == 201, r.text
        body = r.json()
        aei = body["m2m:ae"]["aei"]
        tok = r.headers.get("X-Plaza-Token")
        if tok:
            self.tokens[aei] = tok
        return aei, body


def rsc(r):
    return int(r.headers.get("X-M2M-RSC", "0"))


@pytest.fixture(scope="module")
def plazad():
    """A plazad shared by the tests of one module (credentials enforced)."""
    d = Plazad().start()
    yield d
    d.cleanup()


@pytest.fixture
def fresh_plazad():
    """A plazad of the test's own, started and stopped around it."""
    d = Plazad().start()
    yield d
    d.cleanup()


@pytest.fixture
def plazad_factory(request):
    """Start plazads with custom settings: plazad_factory(args=[...],
    trust_origin=True)."""
    made = []

    def make(**kw):
        d = Plazad(**kw).start()
        made.append(d)
        request.node._plaza_daemons = made
        return d
    yield make
    for d in made:
        d.cleanup()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, attach the tail of every daemon's log to the report."""
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed:
        return
    daemons = list(getattr(item, "_plaza_daemons", []))
    for name in ("plazad", "fresh_plazad"):
        if name in getattr(item, "funcargs", {}):
            daemons.append(item.funcargs[name])
    for d in daemons:
        rep.sections.append(("plazad log (tail)", d.log()[-8000:]))
