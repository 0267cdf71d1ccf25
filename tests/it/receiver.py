"""A real local HTTP notification receiver for the integration tests.

A Receiver is an http.server on 127.0.0.1, port 0, served from a thread.
It records every request it gets (method, path, headers, raw body, parsed
JSON body, arrival time) and answers with X-M2M-RSC 2000 by default.  It can
be told to answer another rsc, to sleep before answering, or not to answer
at all (hold the connection until the receiver stops).

    with Receiver() as rcv:
        ... create a subscription with nu=[rcv.url] ...
        notes = rcv.wait(2, timeout=5)          # exactly what arrived
        notes = rcv.wait_notifications(1)       # ignoring verifications
"""
import http.server
import json
import socket
import threading
import time


class Note:
    """One request the receiver got."""

    def __init__(self, method, path, headers, raw, when):
        self.method = method
        self.path = path
        self.headers = headers          # dict, header names lower-case
        self.raw = raw
        self.when = when
        self.hook_error = None
        try:
            self.body = json.loads(raw.decode("utf-8")) if raw else None
        except ValueError:
            self.body = None

    @property
    def sgn(self):
        """The m2m:sgn of a single notification (None for others)."""
        if isinstance(self.body, dict):
            return self.body.get("m2m:sgn")
        return None

    @property
    def is_verification(self):
        s = self.sgn
        return isinstance(s, dict) and s.get("vrq") is True

    @property
    def is_aggregate(self):
        return isinstance(self.body, dict) and "m2m:agn" in self.body

    def sgns(self):
        """Every m2m:sgn carried: one, or the list of an aggregate."""
        if self.is_aggregate:
            inner = self.body["m2m:agn"].get("m2m:sgn")
            if isinstance(inner, list):
                return inner
            return [inner] if inner is not None else []
        s = self.sgn
        return [s] if s is not None else []

    def __repr__(self):
        return "<Note %s %s %s>" % (self.method, self.path,
                                    self.raw[:300].decode("utf-8", "replace"))


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class Receiver:
    """Records notifications; answers per its settings.

    rsc      the X-M2M-RSC answered (2000 by default); HTTP status follows
    delay    seconds to sleep before answering each request
    answer   False: never answer (hold the request until stop())
    on_note  called with each Note (in the server thread) before answering
    """

    def __init__(self, rsc=2000, delay=0.0, answer=True, on_note=None):
        self.rsc = rsc
        self.delay = delay
        self.answer = answer
        self.on_note = on_note
        self.notes = []
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        rcv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                note = Note(self.command, self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            raw, time.monotonic())
                if rcv.on_note:
                    try:
                        rcv.on_note(note)
                    except Exception as e:      # recorded, never fatal
                        note.hook_error = e
                with rcv._cond:
                    rcv.notes.append(note)
                    rcv._cond.notify_all()
                if not rcv.answer:
                    rcv._stopping.wait()
                    self.close_connection = True
                    return
                if rcv.delay:
                    rcv._stopping.wait(rcv.delay)
                rsc = rcv.rsc
                status = _http_status(rsc)
                body = b""
                if rsc >= 4000:
                    body = json.dumps({"m2m:dbg": "receiver says %d" % rsc}
                                      ).encode()
                try:
                    self.send_response(status)
                    self.send_header("X-M2M-RSC", str(rsc))
                    if "x-m2m-ri" in note.headers:
                        self.send_header("X-M2M-RI", note.headers["x-m2m-ri"])
                    self.send_header("Content-Length", str(len(body)))
                    if body:
                        self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    if body:
                        self.wfile.write(body)
                except OSError:
                    pass

            do_POST = _handle
            do_GET = _handle
            do_PUT = _handle
            do_DELETE = _handle

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d/notify" % self.port
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    # --- lifecycle --------------------------------------------------------
    def stop(self):
        self._stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # --- what arrived -----------------------------------------------------
    def clear(self):
        with self._cond:
            self.notes = []

    def count(self):
        with self._cond:
            return len(self.notes)

    def snapshot(self, pred=None):
        with self._cond:
            return [n for n in self.notes if pred is None or pred(n)]

    def wait(self, n, timeout=10.0, pred=None):
        """Wait until at least n requests (matching pred) arrived, or the
        deadline; return the list of those that arrived (maybe fewer)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = [x for x in self.notes if pred is None or pred(x)]
                left = deadline - time.monotonic()
                if len(got) >= n or left <= 0:
                    return got
                self._cond.wait(left)

    def wait_notifications(self, n, timeout=10.0):
        """Like wait(), ignoring verification requests."""
        return self.wait(n, timeout, pred=lambda x: not x.is_verification)

    def notifications(self):
        return self.snapshot(lambda x: not x.is_verification)

    def verifications(self):
        return self.snapshot(lambda x: x.is_verification)


def _http_status(rsc):
    table = {2000: 200, 2001: 201, 2002: 200, 2004: 200, 4000: 400,
             4004: 404, 4005: 405, 4008: 504, 4103: 403, 4105: 409,
             4107: 403, 5000: 500, 5103: 404, 5204: 500}
    if rsc in table:
        return table[rsc]
    if 2000 <= rsc < 3000:
        return 200
    if 4000 <= rsc < 5000:
        return 400
    return 500


def closed_port_url():
    """A loopback URL on which nobody listens (connection refused)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return "http://127.0.0.1:%d/nobody" % port
