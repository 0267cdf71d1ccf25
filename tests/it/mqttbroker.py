"""A real mosquitto broker on a free loopback port for the MQTT tests, and
a small oneM2M MQTT client (paho-mqtt 1.6, Debian's python3-paho-mqtt)
that sends request primitives and collects response primitives by rqi."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid

import cbor2
import paho.mqtt.client as paho

CSE = "plaza-in"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Broker:
    """mosquitto with a generated configuration: loopback only, anonymous
    clients allowed (test only), no persistence."""

    def __init__(self, extra="", anonymous=True):
        self.tmp = tempfile.mkdtemp(prefix="plaza-mqtt-")
        # mosquitto started as root reads its files as user mosquitto
        os.chmod(self.tmp, 0o755)
        self.port = free_port()
        self.conf = os.path.join(self.tmp, "mosquitto.conf")
        self.log_path = os.path.join(self.tmp, "mosquitto.log")
        self.extra = extra
        self.anonymous = anonymous
        self.proc = None

    def start(self, timeout=10.0):
        with open(self.conf, "w") as f:
            f.write("listener %d 127.0.0.1\nallow_anonymous %s\n"
                    "persistence false\nmax_inflight_messages 0\n"
                    "max_queued_messages 100000\nset_tcp_nodelay true\n%s" %
                    (self.port, "true" if self.anonymous else "false",
                     self.extra))
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(["mosquitto", "-c", self.conf],
                                     stdout=self.logf, stderr=self.logf)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("mosquitto exited:\n" + self.log())
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("mosquitto did not start:\n" + self.log())

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.logf.close()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        if not self.logf.closed:
            self.logf.close()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""


def uniq(prefix):
    return prefix + uuid.uuid4().hex[:8]


def encode(prim, fmt):
    return cbor2.dumps(prim) if fmt == "cbor" else json.dumps(prim).encode()


def decode(payload, fmt):
    return cbor2.loads(payload) if fmt == "cbor" else json.loads(payload)


class Client:
    """One originator's MQTT connection: requests to the CSE, answers
    collected per rqi (every answer kept, so repeats can be counted), and
    optionally requests from the CSE (notifications) answered with
    notify_rsc."""

    def __init__(self, port, orig, notify_rsc=None, user=None,
                 password=None):
        self.port = port
        self.orig = orig
        self.answers = {}       # rqi -> [response primitives]
        self.notes = []         # notification request primitives
        self.notify_rsc = notify_rsc
        self.cv = threading.Condition()
        self.connected = threading.Event()
        self.c = paho.Client(client_id=uniq("t-"), clean_session=True,
                             protocol=paho.MQTTv311)
        self.c.on_connect = self._on_connect
        self.c.on_disconnect = lambda *a: self.connected.clear()
        self.c.on_message = self._on_message
        self.c.reconnect_delay_set(0.1, 1)
        if user:
            self.c.username_pw_set(user, password)
        self.c.connect("127.0.0.1", port, keepalive=30)
        self.c.loop_start()
        assert self.connected.wait(10), "client did not connect"

    def topics(self):
        return ["/oneM2M/resp/%s/%s/+" % (self.orig, CSE),
                "/oneM2M/reg_resp/%s/%s/+" % (self.orig, CSE),
                "/oneM2M/req/%s/%s/+" % (CSE, self.orig)]

    def _on_connect(self, c, ud, flags, rc):
        if rc == 0:
            c.subscribe([(t, 1) for t in self.topics()])
            self.connected.set()

    def _on_message(self, c, ud, msg):
        fmt = msg.topic.rsplit("/", 1)[1]
        try:
            prim = decode(msg.payload, fmt)
        except ValueError:
            prim = {"undecodable": msg.payload}
        if msg.topic.startswith("/oneM2M/req/"):
            if isinstance(prim, dict):
                prim["_fmt"] = fmt  # which topic it came on
            with self.cv:
                self.notes.append(prim)
                self.cv.notify_all()
            if self.notify_rsc is not None:
                ans = {"rsc": self.notify_rsc, "rqi": prim.get("rqi"),
                       "rvi": "4"}
                c.publish("/oneM2M/resp/%s/%s/json" % (CSE, self.orig),
                          json.dumps(ans), qos=1)
            return
        with self.cv:
            self.answers.setdefault(prim.get("rqi"), []).append(prim)
            self.cv.notify_all()

    def publish(self, prim, fmt="json", reg=False, raw=None):
        topic = "/oneM2M/%s/%s/%s/%s" % ("reg_req" if reg else "req",
                                         self.orig, CSE, fmt)
        self.c.publish(topic, raw if raw is not None else encode(prim, fmt),
                       qos=1)

    def wait(self, rqi, timeout=10.0, n=1):
        deadline = time.monotonic() + timeout
        with self.cv:
            while len(self.answers.get(rqi, [])) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no answer to %r in %.0f s" %
                                         (rqi, timeout))
                self.cv.wait(left)
            return self.answers[rqi][n - 1]

    def request(self, op, to, rqi=None, fmt="json", reg=False, **params):
        rqi = rqi or uniq("r")
        prim = {"op": op, "to": to, "fr": self.orig, "rqi": rqi, "rvi": "4"}
        prim.update(params)
        self.publish(prim, fmt, reg)
        return self.wait(rqi)

    def wait_note(self, pred, timeout=10.0):
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                for n in self.notes:
                    if pred(n):
                        return n
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no matching notification; got %r"
                                         % self.notes)
                self.cv.wait(left)

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()
