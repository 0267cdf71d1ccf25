"""A plazad with its CoAP listeners (plain and DTLS, port 0) and ways to
talk to it: coap-client-openssl / coap-client-notls (libcoap 4.3.1, run
with the LD_PRELOAD shim of tests/it/coap_shim.c so that they accept the
oneM2M options of the answers) and the raw plain-CoAP client of
coapmsg.py.  Extends conftest.Plazad without changing it."""
import json
import os
import re
import subprocess
import time

import requests

from conftest import BUILD, Plazad

SHIM = os.path.join(BUILD, "tests", "unit", "libcoap_client_shim.so")
PLAIN_ALLOWED = "Cplain*"


class CoapPlazad(Plazad):
    def __init__(self, args=(), **kw):
        args = ["--set", "coap.listen=127.0.0.1:0",
                "--set", "coaps.listen=127.0.0.1:0",
                "--set", "coap.plain_allowed=" + PLAIN_ALLOWED] + list(args)
        super().__init__(args=args, **kw)
        self.coap_port = self.coaps_port = None

    def start(self, timeout=10.0):
        super().start(timeout)
        portfile = os.path.join(self.tmp, "ports")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(portfile) as f:
                for line in f:
                    kind, port = line.split()
                    if kind == "coap":
                        self.coap_port = int(port)
                    elif kind == "coaps":
                        self.coaps_port = int(port)
            if self.coap_port and self.coaps_port:
                return self
            time.sleep(0.01)
        raise RuntimeError("no coap/coaps lines in the portfile:\n" +
                           self.log())

    # --- pre-shared keys (the admin interface) ----------------------------
    def psk_add(self, identity, key, originator):
        r = requests.post(self.url + "/.plaza/psk", timeout=10, headers={
            "Authorization": "Bearer " + self.tokens["CAdmin"]},
            data=json.dumps({"identity": identity, "originator": originator,
                             "key": key.encode().hex()}))
        assert r.status_code == 201, r.text

    # --- coap-client -----------------------------------------------------
    def coap_client(self, method, path, dtls=True, psk=None, options=(),
                    cf=None, accept=None, payload=None, infile=None,
                    extra=(), timeout=20, background=False, outfile=None):
        """Run coap-client; returns a Result (or the Popen when
        background).  options: (number, value) with value str or int."""
        exe = "coap-client-openssl" if dtls else "coap-client-notls"
        url = "%s://127.0.0.1:%d/%s" % ("coaps" if dtls else "coap",
                                        self.coaps_port if dtls
                                        else self.coap_port,
                                        path.lstrip("/"))
        cmd = [exe, "-v", "6", "-B", str(timeout // 2), "-m", method]
        if psk:
            cmd += ["-u", psk[0], "-k", psk[1]]
        for num, val in options:
            if isinstance(val, int):
                h = "%x" % val
                val = "0x" + ("0" * (len(h) % 2)) + h
            cmd += ["-O", "%d,%s" % (num, val)]
        if cf is not None:
            cmd += ["-t", str(cf)]
        if accept is not None:
            cmd += ["-A", str(accept)]
        if payload is not None:
            cmd += ["-e", payload]
        if infile:
            cmd += ["-f", infile]
        if outfile:
            cmd += ["-o", outfile]
        cmd += list(extra) + [url]
        env = dict(os.environ, LD_PRELOAD=SHIM)
        if background:
            return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT)
        p = subprocess.run(cmd, env=env, capture_output=True,
                           timeout=timeout + 10)
        return Result(p.stdout + p.stderr, outfile)


_PDU = re.compile(r"^v:1 t:(CON|NON|ACK|RST) c:(\d\.\d\d) i:\w+ \{\w*\} "
                  r"\[ ?(.*?) ?\](?: :: (.*))?$")


def _escaped(s):
    """libcoap's dump of an option value (\\xNN escapes) to bytes."""
    out, i = bytearray(), 0
    while i < len(s):
        if s.startswith("\\x", i):
            out.append(int(s[i + 2:i + 4], 16))
            i += 4
        else:
            out += s[i].encode()
            i += 1
    return bytes(out)


class Result:
    """What coap-client printed: the answers (code, options) it received,
    and the payload it wrote to -o."""

    def __init__(self, output, outfile=None):
        self.output = output.decode("utf-8", "replace")
        self.answers = []
        for line in self.output.splitlines():
            m = _PDU.match(line)
            if not m or m.group(2)[0] not in "245":
                continue
            opts = {}
            for part in re.split(r", (?=[\w-]+:)", m.group(3) or ""):
                if ":" in part:
                    k, v = part.split(":", 1)
                    opts.setdefault(k, []).append(v)
            self.answers.append((m.group(2), opts, m.group(4) or ""))
        self.payload = b""
        if outfile and os.path.exists(outfile):
            with open(outfile, "rb") as f:
                self.payload = f.read()

    @property
    def code(self):
        return self.answers[-1][0] if self.answers else None

    @property
    def rsc(self):
        if not self.answers or "307" not in self.answers[-1][1]:
            return None
        return int.from_bytes(_escaped(self.answers[-1][1]["307"][0]),
                              "big")

    def json(self):
        return json.loads(self.payload.decode())

    def __repr__(self):
        return "<coap-client %s rsc=%s>\n%s" % (self.code, self.rsc,
                                                 self.output[-3000:])
