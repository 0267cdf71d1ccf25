"""CoAP messages (RFC 7252 section 3) as bytes, and a tiny plain-CoAP
client over UDP for the integration tests: it sends exactly the bytes a
test asks for (malformed ones too) and decodes what comes back.  Also used
to write the seed corpus of fuzz/coap_map_fuzz.c (python3 coapmsg.py DIR).

Options are (number, value) pairs; a value is bytes, str (UTF-8) or int
(a CoAP uint, shortest form)."""
import os
import random
import socket
import sys
import time

CON, NON, ACK, RST = 0, 1, 2, 3
GET, POST, PUT, DELETE, FETCH = 1, 2, 3, 4, 5

OBSERVE, URI_PATH, CONTENT_FORMAT, URI_QUERY, ACCEPT = 6, 11, 12, 15, 17
LOCATION_PATH, BLOCK2, BLOCK1 = 8, 23, 27
OT, RTURI, TY, RVI, FR, RQI = 259, 263, 267, 271, 279, 283
RQET, RSET, OET, EC, RSC, GID, VSI = 291, 295, 299, 303, 307, 311, 331

CF_JSON, CF_CBOR, CF_SENML_JSON, CF_SENML_CBOR = 50, 60, 110, 112
CF_RES_JSON, CF_RES_CBOR = 10001, 10010


def uint(v):
    """A CoAP uint option value: big-endian, no leading zero bytes."""
    return v.to_bytes((v.bit_length() + 7) // 8, "big")


def _value(v):
    if isinstance(v, int):
        return uint(v)
    if isinstance(v, str):
        return v.encode()
    return bytes(v)


def _ext(n):
    """Option delta/length nibble and extension bytes."""
    if n < 13:
        return n, b""
    if n < 269:
        return 13, bytes([n - 13])
    return 14, (n - 269).to_bytes(2, "big")


def encode(code, options=(), payload=b"", mtype=CON, mid=None, token=b"t"):
    """One datagram; options are sorted by number (stable)."""
    mid = random.randrange(65536) if mid is None else mid
    out = bytearray([0x40 | mtype << 4 | len(token), code])
    out += mid.to_bytes(2, "big") + token
    last = 0
    for num, val in sorted(options, key=lambda o: o[0]):
        val = _value(val)
        dn, dx = _ext(num - last)
        ln, lx = _ext(len(val))
        out += bytes([dn << 4 | ln]) + dx + lx + val
        last = num
    if payload:
        out += b"\xff" + (payload.encode() if isinstance(payload, str)
                          else payload)
    return bytes(out)


def path_opts(path):
    return [(URI_PATH, seg) for seg in path.strip("/").split("/") if seg]


def decode(data):
    """(type, code "c.dd", mid, token, [(num, bytes)], payload)."""
    tkl = data[0] & 0x0f
    mtype = data[0] >> 4 & 3
    code = "%d.%02d" % (data[1] >> 5, data[1] & 0x1f)
    mid = int.from_bytes(data[2:4], "big")
    token = data[4:4 + tkl]
    i, num, opts = 4 + tkl, 0, []
    while i < len(data) and data[i] != 0xff:
        d, ln = data[i] >> 4, data[i] & 0x0f
        i += 1
        for which in (0, 1):
            n = d if which == 0 else ln
            if n == 13:
                n = data[i] + 13
                i += 1
            elif n == 14:
                n = int.from_bytes(data[i:i + 2], "big") + 269
                i += 2
            if which == 0:
                d = n
            else:
                ln = n
        num += d
        opts.append((num, data[i:i + ln]))
        i += ln
    payload = data[i + 1:] if i < len(data) else b""
    return mtype, code, mid, token, opts, payload


class Reply:
    """A decoded answer with the oneM2M bits picked out."""

    def __init__(self, data):
        (self.type, self.code, self.mid, self.token, self.opts,
         self.payload) = decode(data)

    def opt(self, num):
        return [v for n, v in self.opts if n == num]

    @property
    def rsc(self):
        v = self.opt(RSC)
        return int.from_bytes(v[0], "big") if v else None

    @property
    def cf(self):
        v = self.opt(CONTENT_FORMAT)
        return int.from_bytes(v[0], "big") if v else None

    def body(self):
        """The payload decoded by its Content-Format."""
        if self.cf in (CF_CBOR, CF_RES_CBOR):
            import cbor2
            return cbor2.loads(self.payload)
        import json
        return json.loads(self.payload.decode())

    def __repr__(self):
        return "<%s rsc=%s %r>" % (self.code, self.rsc, self.payload[:200])


class Client:
    """Plain CoAP over UDP to one server; request() waits for the answer
    to its token (following an empty ACK with the separate response)."""

    def __init__(self, port, host="127.0.0.1"):
        self.addr = (host, port)
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_DGRAM)
        self.sock.settimeout(0.5)

    def close(self):
        self.sock.close()

    def send_raw(self, data):
        self.sock.sendto(data, self.addr)

    def recv(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data, _ = self.sock.recvfrom(70000)
                return data
            except socket.timeout:
                continue
        return None

    def exchange(self, data, token, timeout=5.0):
        """Send data (retransmitting a CON until acknowledged) and return
        the Reply carrying token, or None."""
        deadline = time.monotonic() + timeout
        sent = 0
        mtype = data[0] >> 4 & 3
        acked = mtype != CON
        while time.monotonic() < deadline:
            if not acked and time.monotonic() >= sent + 1.0:
                self.send_raw(data)
                sent = time.monotonic()
            elif sent == 0:
                self.send_raw(data)
                sent = time.monotonic()
            raw = self.recv(0.3)
            if raw is None:
                continue
            r = Reply(raw)
            if r.type == ACK and r.code == "0.00":
                acked = True
                continue
            if r.type == CON:  # a separate response: acknowledge it
                self.send_raw(encode(0, mtype=ACK, mid=r.mid, token=b""))
            if r.token == token and r.code != "0.00":
                return r
            if r.type == RST and r.mid == int.from_bytes(data[2:4], "big"):
                return r
        return None

    def request(self, method, path, options=(), payload=b"", mtype=CON,
                timeout=5.0):
        token = os.urandom(4)
        opts = path_opts(path) + list(options)
        return self.exchange(encode(method, opts, payload, mtype=mtype,
                                    token=token), token, timeout)


def om2m(fr=None, rqi="r1", ty=None, rvi="4", cf=None, accept=None):
    """The usual oneM2M options."""
    o = [(RQI, rqi), (RVI, rvi)]
    if fr is not None:
        o.append((FR, fr))
    if ty is not None:
        o.append((TY, ty))
    if cf is not None:
        o.append((CONTENT_FORMAT, cf))
    if accept is not None:
        o.append((ACCEPT, accept))
    return o


def write_corpus(d):
    """The seed corpus of coap_map_fuzz: one datagram per file."""
    import cbor2
    os.makedirs(d, exist_ok=True)
    senml = cbor2.dumps([{-2: "urn:dev:x:", 0: "temp", 1: "Cel", 2: 21.5},
                         {0: "hum", 2: 40, 6: -5}])
    seeds = {
        "retrieve": encode(GET, path_opts("plaza/ae1/c/la") +
                           om2m("Cae1", accept=CF_JSON), mid=1),
        "retrieve_cbor": encode(GET, path_opts("plaza/ae1") +
                                om2m("Cae1", accept=CF_RES_CBOR), mid=2),
        "observe": encode(GET, path_opts("plaza/ae1/c/la") +
                          om2m("Cae1") + [(OBSERVE, 0)], mid=3),
        "register": encode(POST, path_opts("plaza") +
                           om2m("C", ty=2, cf=CF_RES_JSON),
                           '{"m2m:ae":{"api":"Nx","rr":true,"srv":["4"]}}',
                           mid=4),
        "create_cnt_cbor": encode(POST, path_opts("plaza/ae1") +
                                  om2m("Cae1", ty=3, cf=CF_CBOR),
                                  cbor2.dumps({"m2m:cnt": {"rn": "c",
                                                           "mni": 10}}),
                                  mid=5),
        "senml_cbor": encode(POST, path_opts("plaza/ae1/c") +
                             om2m("Cae1", cf=CF_SENML_CBOR), senml, mid=6),
        "senml_json": encode(POST, path_opts("plaza/ae1/c") +
                             om2m("Cae1", cf=CF_SENML_JSON),
                             '[{"bn":"d:","n":"t","v":1,"t":-5},'
                             '{"n":"s","vs":"on"},{"n":"b","vb":true}]',
                             mid=7),
        "update": encode(PUT, path_opts("plaza/ae1/c") +
                         om2m("Cae1", cf=CF_JSON), '{"m2m:cnt":{"mni":3}}',
                         mid=8),
        "delete": encode(DELETE, path_opts("plaza/ae1/c") + om2m("Cae1"),
                         mtype=NON, mid=9),
        "notify": encode(POST, path_opts("plaza/ae1") +
                         om2m("Cae1", cf=CF_JSON),
                         '{"m2m:sgn":{"sur":"/x","vrq":true}}', mid=10),
        "discovery": encode(GET, path_opts("plaza") + om2m("Cae1") +
                            [(URI_QUERY, "fu=1"), (URI_QUERY, "ty=3"),
                             (URI_QUERY, "lbl=a"), (URI_QUERY, "lim=5"),
                             (URI_QUERY, "cra=20200101T000000")], mid=11),
        "sp_relative": encode(GET, path_opts("~/plaza-in/plaza") +
                              om2m("Cae1"), mid=12),
        "absolute": encode(GET, path_opts("_/plaza.example/plaza-in/cnt1") +
                           om2m("Cae1"), mid=13),
        "all_options": encode(GET, path_opts("plaza") + om2m("Cae1") +
                              [(OT, "20250101T000000"),
                               (RTURI, "coap://[::1]:9/n"),
                               (RQET, "PT30S"), (RSET, "20991231T000000"),
                               (OET, "20991231T000000,5"), (EC, 2),
                               (GID, "g"), (VSI, "v"), (275, "a"),
                               (319, 1), (BLOCK2, 0x06)], mid=14),
        "bad_critical": encode(GET, path_opts("plaza") + om2m("Cae1") +
                               [(2049, "x")], mid=15),
        "bad_repeat": encode(GET, path_opts("plaza") + om2m("Cae1") +
                             [(FR, "Cother")], mid=16),
        "bad_cf": encode(POST, path_opts("plaza") +
                         om2m("Cae1", ty=3, cf=0), "{}", mid=17),
        "bad_accept": encode(GET, path_opts("plaza") +
                             om2m("Cae1", accept=0), mid=18),
        "bad_cbor_trunc": encode(POST, path_opts("plaza/ae1") +
                                 om2m("Cae1", ty=3, cf=CF_CBOR),
                                 cbor2.dumps({"m2m:cnt": {"rn": "c"}})[:-2],
                                 mid=19),
        "bad_cbor_bomb": encode(POST, path_opts("plaza/ae1") +
                                om2m("Cae1", ty=3, cf=CF_CBOR),
                                b"\xa1" + b"\x81" * 300 + b"\x00", mid=20),
        "bad_senml_conflict": encode(POST, path_opts("plaza/ae1/c") +
                                     om2m("Cae1", cf=CF_SENML_JSON),
                                     '[{"n":"t","v":1,"vs":"x"}]', mid=21),
        "bad_senml_name": encode(POST, path_opts("plaza/ae1/c") +
                                 om2m("Cae1", cf=CF_SENML_JSON),
                                 '[{"n":"t emp!","v":1}]', mid=22),
        "bad_method": encode(FETCH, path_opts("plaza") + om2m("Cae1"),
                             mid=23),
        "bad_path": encode(GET, [(URI_PATH, "pla/za"), (URI_PATH, "")] +
                           om2m("Cae1"), mid=24),
        "bad_ty": encode(POST, path_opts("plaza") +
                         om2m("Cae1", cf=CF_JSON) + [(TY, 0)], "{}",
                         mid=25),
        "proxy": encode(GET, [(35, "coap://example.org/x")], mid=26),
    }
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    write_corpus(sys.argv[1])
