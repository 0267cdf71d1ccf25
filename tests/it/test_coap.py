"""The oneM2M CoAP binding against the real plazad: DTLS with pre-shared
keys (coap-client-openssl), plain CoAP for allowed originators (the raw
client of coapmsg.py and coap-client-notls), SenML, CBOR, Observe,
block-wise transfers, duplicates, and bad input that must be refused with
the right code, oneM2M-RSC and m2m:dbg while the daemon keeps answering and
the data stay as they were.  An application on HTTP sees the same data."""
import json
import os
import tempfile
import time
import uuid

import cbor2
import pytest

import coapmsg as cm
from coapd import CoapPlazad
from receiver import Receiver


def uniq(prefix):
    return prefix + uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def d():
    p = CoapPlazad().start()
    yield p
    p.cleanup()


@pytest.fixture(scope="module")
def dev(d):
    """A device: a PSK identity for originator C<x>, its AE registered
    over DTLS and a container c holding one instance."""
    orig = uniq("Cdev")
    psk = (uniq("id-"), uniq("key-"))
    d.psk_add(psk[0], psk[1], orig)
    r = d.coap_client("post", "plaza", psk=psk, cf=cm.CF_JSON,
                      options=[(cm.TY, 2), (cm.FR, orig), (cm.RQI, "reg"),
                               (cm.RVI, "4")],
                      payload='{"m2m:ae":{"rn":"%s","api":"Nplaza.coap",'
                              '"rr":false,"srv":["4"]}}' % orig)
    assert (r.code, r.rsc) == ("2.01", 2001), r
    ae = "plaza/" + orig
    r = d.coap_client("post", ae, psk=psk, cf=cm.CF_JSON,
                      options=[(cm.TY, 3), (cm.FR, orig), (cm.RQI, "cnt")],
                      payload='{"m2m:cnt":{"rn":"c"}}')
    assert (r.code, r.rsc) == ("2.01", 2001), r
    r = d.coap_client("post", ae + "/c", psk=psk, cf=cm.CF_JSON,
                      options=[(cm.TY, 4), (cm.FR, orig), (cm.RQI, "cin")],
                      payload='{"m2m:cin":{"con":"first"}}')
    assert (r.code, r.rsc) == ("2.01", 2001), r
    return {"orig": orig, "psk": psk, "ae": ae, "c": ae + "/c"}


@pytest.fixture(scope="module")
def plain(d):
    """An AE registered over plain CoAP by an allowed originator."""
    orig = uniq("Cplain")
    c = cm.Client(d.coap_port)
    r = c.request(cm.POST, "plaza", cm.om2m(orig, ty=2, cf=cm.CF_JSON),
                  '{"m2m:ae":{"rn":"%s","api":"Nplain","rr":false,'
                  '"srv":["4"]}}' % orig)
    assert r is not None and (r.code, r.rsc) == ("2.01", 2001), r
    ae = "plaza/" + orig
    r = c.request(cm.POST, ae, cm.om2m(orig, ty=3, cf=cm.CF_JSON),
                  '{"m2m:cnt":{"rn":"c","mbs":100000}}')
    assert (r.code, r.rsc) == ("2.01", 2001), r
    r = c.request(cm.POST, ae + "/c", cm.om2m(orig, ty=4, cf=cm.CF_JSON),
                  '{"m2m:cin":{"con":"keep"}}')
    assert (r.code, r.rsc) == ("2.01", 2001), r
    yield {"orig": orig, "ae": ae, "c": ae + "/c", "client": c}
    c.close()


def snapshot(d, path):
    """What a bad request must not change, read over HTTP as the admin."""
    r = d.get(path)
    assert r.status_code == 200, r.text
    cnt = r.json()["m2m:cnt"]
    return (cnt["cni"], cnt["cbs"], cnt["st"], cnt["lt"])


# --- DTLS, SenML, CBOR, HTTP ------------------------------------------------

def test_dtls_register_and_http_sees_it(d, dev):
    r = d.get(dev["c"] + "/la")
    assert r.status_code == 200, r.text
    assert r.json()["m2m:cin"]["con"] == "first"


def test_senml_cbor_then_la_in_cbor_and_json(d, dev, tmp_path):
    pack = cbor2.dumps([{-2: "urn:dev:ow:10e2073a01080063:", 0: "temp",
                         1: "Cel", 2: 23.5, 6: -1},
                        {0: "temp", 2: 23.6}])
    f = tmp_path / "pack.cbor"
    f.write_bytes(pack)
    before = snapshot(d, dev["c"])[0]
    r = d.coap_client("post", dev["c"], psk=dev["psk"],
                      cf=cm.CF_SENML_CBOR, infile=str(f),
                      options=[(cm.FR, dev["orig"]), (cm.RQI, "senml")])
    assert (r.code, r.rsc) == ("2.01", 2001), r
    assert snapshot(d, dev["c"])[0] == before + 2
    out = str(tmp_path / "la.cbor")
    r = d.coap_client("get", dev["c"] + "/la", psk=dev["psk"],
                      accept=cm.CF_CBOR, outfile=out,
                      options=[(cm.FR, dev["orig"]), (cm.RQI, "la1")])
    assert (r.code, r.rsc) == ("2.05", 2000), r
    cin = cbor2.loads(r.payload)["m2m:cin"]
    out = str(tmp_path / "la.json")
    r = d.coap_client("get", dev["c"] + "/la", psk=dev["psk"],
                      accept=cm.CF_RES_JSON, outfile=out,
                      options=[(cm.FR, dev["orig"]), (cm.RQI, "la2")])
    assert (r.code, r.rsc) == ("2.05", 2000), r
    assert r.json()["m2m:cin"] == cin
    # The same instance over HTTP.
    assert d.get(dev["c"] + "/la").json()["m2m:cin"]["ri"] == cin["ri"]


def test_identity_cannot_claim_another_originator(d, dev):
    before = snapshot(d, dev["c"])
    r = d.coap_client("post", dev["c"], psk=dev["psk"], cf=cm.CF_JSON,
                      options=[(cm.TY, 4), (cm.FR, "Csomeoneelse"),
                               (cm.RQI, "claim")],
                      payload='{"m2m:cin":{"con":"forged"}}')
    assert (r.code, r.rsc) == ("4.03", 4103), r
    assert snapshot(d, dev["c"]) == before


def test_wrong_key_fails_the_handshake(d, dev):
    for psk in ((dev["psk"][0], "not-the-key"), (uniq("nobody"), "x")):
        r = d.coap_client("get", dev["c"], psk=psk, timeout=6,
                          options=[(cm.FR, dev["orig"]), (cm.RQI, "w")])
        assert r.code is None, r
    r = d.coap_client("get", dev["c"], psk=dev["psk"],
                      options=[(cm.FR, dev["orig"]), (cm.RQI, "ok")])
    assert r.code == "2.05", r


def test_observe_notifies_new_instances(d, dev, tmp_path):
    out = str(tmp_path / "obs")
    p = d.coap_client("get", dev["c"] + "/la", psk=dev["psk"], outfile=out,
                      extra=["-s", "20"], background=True,
                      options=[(cm.FR, dev["orig"]), (cm.RQI, "obs")])
    try:
        def wait_for(text, limit=10.0):
            deadline = time.monotonic() + limit
            while time.monotonic() < deadline:
                if os.path.exists(out) and text in open(out).read():
                    return True
                time.sleep(0.05)
            return False
        assert wait_for('"m2m:cin"'), "no first answer"
        for con in ("obs-one", "obs-two"):
            r = d.coap_client("post", dev["c"], psk=dev["psk"],
                              cf=cm.CF_JSON,
                              options=[(cm.TY, 4), (cm.FR, dev["orig"]),
                                       (cm.RQI, con)],
                              payload='{"m2m:cin":{"con":"%s"}}' % con)
            assert r.code == "2.01", r
            assert wait_for(con), "no notification for " + con
    finally:
        p.kill()
        p.wait()


def test_blockwise_64k_both_ways(d, dev, tmp_path):
    con = "x" * 65536
    f = tmp_path / "big.json"
    f.write_text('{"m2m:cin":{"con":"%s"}}' % con)
    r = d.coap_client("post", dev["c"], psk=dev["psk"], cf=cm.CF_JSON,
                      infile=str(f), extra=["-b", "1024"], timeout=40,
                      options=[(cm.TY, 4), (cm.FR, dev["orig"]),
                               (cm.RQI, "big")])
    assert (r.code, r.rsc) == ("2.01", 2001), r
    out = str(tmp_path / "big.out")
    r = d.coap_client("get", dev["c"] + "/la", psk=dev["psk"], outfile=out,
                      timeout=40,
                      options=[(cm.FR, dev["orig"]), (cm.RQI, "bigget")])
    assert r.code == "2.05", r
    assert r.json()["m2m:cin"]["con"] == con
    assert d.get(dev["c"] + "/la").json()["m2m:cin"]["con"] == con


# --- plain CoAP -----------------------------------------------------------

def test_plain_refused_for_other_originators(d, plain):
    c = plain["client"]
    before = snapshot(d, plain["c"])
    r = c.request(cm.POST, plain["c"],
                  cm.om2m("Cintruder", ty=4, cf=cm.CF_JSON),
                  '{"m2m:cin":{"con":"no"}}')
    assert (r.code, r.rsc) == ("4.03", 4107), r
    assert "m2m:dbg" in r.body()
    r = c.request(cm.GET, plain["c"], cm.om2m(None))
    assert (r.code, r.rsc) == ("4.00", 4000), r  # no originator at all
    assert snapshot(d, plain["c"]) == before
    r = c.request(cm.GET, plain["c"], cm.om2m(plain["orig"]))
    assert (r.code, r.rsc) == ("2.05", 2000), r


def test_plain_coap_client_notls(d, plain):
    r = d.coap_client("get", plain["c"] + "/la", dtls=False,
                      outfile=os.path.join(d.tmp, "la-plain"),
                      options=[(cm.FR, plain["orig"]), (cm.RQI, "nt")])
    assert (r.code, r.rsc) == ("2.05", 2000), r
    assert r.json()["m2m:cin"]["con"] == "keep"


def test_non_confirmable_and_duplicates(d, plain):
    c = plain["client"]
    r = c.request(cm.GET, plain["c"], cm.om2m(plain["orig"]),
                  mtype=cm.NON)
    assert r is not None and r.type == cm.NON and r.rsc == 2000, r
    before = snapshot(d, plain["c"])[0]
    tok = b"dup-" + os.urandom(2)
    msg = cm.encode(cm.POST, cm.path_opts(plain["c"]) +
                    cm.om2m(plain["orig"], ty=4, cf=cm.CF_JSON),
                    '{"m2m:cin":{"con":"once"}}', token=tok)
    first = c.exchange(msg, tok)
    again = c.exchange(msg, tok)  # a retransmission after the answer
    assert first.rsc == 2001 and again.rsc == 2001
    assert first.body() == again.body()
    assert snapshot(d, plain["c"])[0] == before + 1


def test_query_parameters(d, plain):
    c = plain["client"]
    r = c.request(cm.GET, plain["ae"], cm.om2m(plain["orig"]) +
                  [(cm.URI_QUERY, "fu=1"), (cm.URI_QUERY, "ty=4")])
    assert r.rsc == 2000, r
    assert any(u.endswith("/c/" + u.split("/")[-1])
               for u in r.body()["m2m:uril"])


# --- answers after the commit: piggybacked, once -----------------------------

def collect(c, seconds):
    """Every datagram c receives within seconds, decoded."""
    out, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        raw = c.recv(max(0.01, deadline - time.monotonic()))
        if raw is not None:
            out.append(cm.Reply(raw))
    return out


def post_cin(orig, path, con, mtype=cm.CON, mid=None, token=None):
    """A contentInstance create as bytes, with its token."""
    token = token or os.urandom(4)
    return cm.encode(cm.POST, cm.path_opts(path) +
                     cm.om2m(orig, rqi=uniq("q"), ty=4, cf=cm.CF_JSON),
                     '{"m2m:cin":{"con":"%s"}}' % con, mtype=mtype, mid=mid,
                     token=token), token


def new_cnt(d, plain):
    """A fresh container of the plain AE; its path."""
    name = uniq("c")
    r = plain["client"].request(cm.POST, plain["ae"],
                                cm.om2m(plain["orig"], ty=3, cf=cm.CF_JSON),
                                '{"m2m:cnt":{"rn":"%s"}}' % name)
    assert r is not None and r.rsc == 2001, r
    return plain["ae"] + "/" + name


def test_write_answered_piggybacked(d, plain):
    c = plain["client"]
    path = new_cnt(d, plain)
    msg, tok = post_cin(plain["orig"], path, "piggy", mid=0x1234)
    c.send_raw(msg)
    got = collect(c, 1.0)
    # One datagram: the ACK of the request carrying the 2.01, no empty ACK
    # before it and no separate response after it.
    assert [(r.type, r.mid, r.token, r.code, r.rsc) for r in got] == \
        [(cm.ACK, 0x1234, tok, "2.01", 2001)], got
    assert got[0].body()["m2m:cin"]["con"] == "piggy"
    assert snapshot(d, path)[0] == 1


def test_non_write_gets_a_non_answer(d, plain):
    c = plain["client"]
    path = new_cnt(d, plain)
    msg, tok = post_cin(plain["orig"], path, "non", mtype=cm.NON)
    c.send_raw(msg)
    got = collect(c, 1.0)
    assert [(r.type, r.token, r.code, r.rsc) for r in got] == \
        [(cm.NON, tok, "2.01", 2001)], got
    assert snapshot(d, path)[0] == 1


def test_retransmission_after_the_answer_gets_the_same_bytes(d, plain):
    c = plain["client"]
    path = new_cnt(d, plain)
    msg, tok = post_cin(plain["orig"], path, "again")
    c.send_raw(msg)
    first = c.recv()
    assert first is not None and cm.Reply(first).rsc == 2001
    c.send_raw(msg)  # the ACK was "lost": the client sends the CON again
    second = c.recv()
    assert second == first
    assert collect(c, 0.3) == []
    assert snapshot(d, path)[0] == 1


def test_many_concurrent_writes_answered_once_each(d, plain):
    """400 confirmable writes from 8 clients at once.  A datagram the
    kernel drops (either way) is sent again with the same message id, as
    a CoAP client does (RFC 7252 4.2): every write runs exactly once,
    each is answered, and a write is answered more than once only when it
    was sent more than once."""
    path = new_cnt(d, plain)
    clients = [cm.Client(d.coap_port) for _ in range(8)]
    sent, msgs, sends = {}, {}, {}
    answers = {}
    try:
        for i in range(50):
            for k, c in enumerate(clients):
                msg, tok = post_cin(plain["orig"], path, "m%d-%d" % (k, i))
                sent[tok] = int.from_bytes(msg[2:4], "big")
                msgs[tok] = (c, msg)
                sends[tok] = 1
                c.send_raw(msg)
        for attempt in range(6):
            for c in clients:
                for r in collect(c, 1.5 if attempt == 0 and not answers
                                 else 0.3):
                    assert (r.type, r.code, r.rsc) == \
                        (cm.ACK, "2.01", 2001), r
                    assert sent.get(r.token) == r.mid, r
                    answers[r.token] = answers.get(r.token, 0) + 1
            missing = [t for t in sent if t not in answers]
            if not missing:
                break
            for t in missing:
                c, msg = msgs[t]
                sends[t] += 1
                c.send_raw(msg)
    finally:
        for c in clients:
            c.close()
    assert sorted(answers) == sorted(sent)
    for t, n in answers.items():
        assert n == 1 or n <= sends[t], (t, n, sends[t])
    assert snapshot(d, path)[0] == len(sent)


@pytest.fixture(scope="module")
def slow():
    """A plazad that commits at most every 100 ms: a write arriving right
    after a commit waits for the next one."""
    p = CoapPlazad(args=["--set", "store.commit_interval_us=100000"]).start()
    orig = uniq("Cplain")
    c = cm.Client(p.coap_port)
    r = c.request(cm.POST, "plaza", cm.om2m(orig, ty=2, cf=cm.CF_JSON),
                  '{"m2m:ae":{"rn":"%s","api":"Nslow","rr":false,'
                  '"srv":["4"]}}' % orig)
    assert r is not None and r.rsc == 2001, r
    yield {"d": p, "orig": orig, "ae": "plaza/" + orig, "client": c}
    c.close()
    p.cleanup()


def test_retransmission_while_pending_runs_once(slow):
    d, c = slow["d"], slow["client"]
    path = new_cnt(d, slow)
    first, _ = post_cin(slow["orig"], path, "opens-the-interval")
    r = c.exchange(first, cm.Reply(first).token)
    assert r is not None and r.rsc == 2001, r
    # Just after that commit: this write waits up to 100 ms for the next,
    # and its retransmissions arrive meanwhile.
    msg, tok = post_cin(slow["orig"], path, "pending", mid=0x4321)
    for _ in range(3):
        c.send_raw(msg)
    got = collect(c, 1.0)
    assert [(r.type, r.mid, r.token, r.rsc) for r in got] == \
        [(cm.ACK, 0x4321, tok, 2001)], got
    assert snapshot(d, path)[0] == 2
    assert d.get(path + "/la").json()["m2m:cin"]["con"] == "pending"


def test_slow_write_gets_empty_ack_then_separate_answer(d, plain):
    """A create waiting 1.5 s for a subscription verification: an empty ACK
    after 1 s, then the answer as a confirmable separate response."""
    c = plain["client"]
    path = new_cnt(d, plain)
    rcv = Receiver(delay=1.5)
    try:
        tok = os.urandom(4)
        msg = cm.encode(cm.POST, cm.path_opts(path) +
                        cm.om2m(plain["orig"], ty=23, cf=cm.CF_JSON),
                        '{"m2m:sub":{"nu":["%s"]}}' % rcv.url,
                        mid=0x2222, token=tok)
        t0 = time.monotonic()
        c.send_raw(msg)
        first = cm.Reply(c.recv(3.0))
        waited = time.monotonic() - t0
        assert (first.type, first.mid, first.code, first.token) == \
            (cm.ACK, 0x2222, "0.00", b""), first
        assert 0.8 < waited < 1.4, waited
        c.send_raw(msg)  # a retransmission: the empty ACK again
        again = cm.Reply(c.recv(1.0))
        assert (again.type, again.mid, again.code) == \
            (cm.ACK, 0x2222, "0.00"), again
        answer = cm.Reply(c.recv(3.0))
        assert (answer.type, answer.token, answer.code, answer.rsc) == \
            (cm.CON, tok, "2.01", 2001), answer
        assert answer.mid != 0x2222
        c.send_raw(cm.encode(0, mtype=cm.ACK, mid=answer.mid, token=b""))
        assert collect(c, 0.5) == []
        assert len(rcv.notes) == 1  # verified, and created, once
    finally:
        rcv.stop()



NO_RESPONSE = 258  # RFC 7967: bit 2 suppresses 2.xx, 8 4.xx, 16 5.xx


def test_no_response_to_a_committed_write(d, plain):
    """A write with No-Response for 2.xx: a CON gets only the empty ACK it
    needs, a NON nothing; each is created once, and a retransmission of
    the CON again gets only the empty ACK."""
    c = plain["client"]
    path = new_cnt(d, plain)
    tok = os.urandom(4)
    msg = cm.encode(cm.POST, cm.path_opts(path) +
                    cm.om2m(plain["orig"], ty=4, cf=cm.CF_JSON) +
                    [(NO_RESPONSE, 2)], '{"m2m:cin":{"con":"quiet"}}',
                    mid=0x5151, token=tok)
    c.send_raw(msg)
    got = collect(c, 1.0)
    assert [(r.type, r.mid, r.code, r.token) for r in got] == \
        [(cm.ACK, 0x5151, "0.00", b"")], got
    assert snapshot(d, path)[0] == 1
    c.send_raw(msg)
    got = collect(c, 0.5)
    assert [(r.type, r.mid, r.code) for r in got] == \
        [(cm.ACK, 0x5151, "0.00")], got
    assert snapshot(d, path)[0] == 1
    msg = cm.encode(cm.POST, cm.path_opts(path) +
                    cm.om2m(plain["orig"], ty=4, cf=cm.CF_JSON) +
                    [(NO_RESPONSE, 2)], '{"m2m:cin":{"con":"quiet-non"}}',
                    mtype=cm.NON, token=os.urandom(4))
    c.send_raw(msg)
    assert collect(c, 1.0) == []
    assert snapshot(d, path)[0] == 2
    # Not suppressed: the class the client did not mention.
    msg = cm.encode(cm.POST, cm.path_opts(path) +
                    cm.om2m(plain["orig"], ty=4, cf=cm.CF_JSON) +
                    [(NO_RESPONSE, 8)], '{"m2m:cin":{"con":"loud"}}',
                    mtype=cm.NON, token=tok)
    c.send_raw(msg)
    got = collect(c, 1.0)
    assert [(r.type, r.token, r.code, r.rsc) for r in got] == \
        [(cm.NON, tok, "2.01", 2001)], got
    assert snapshot(d, path)[0] == 3


def block2(r):
    """(num, more, szx) of r's Block2 option, or None."""
    v = r.opt(cm.BLOCK2)
    if not v:
        return None
    n = int.from_bytes(v[0], "big")
    return n >> 4, bool(n & 8), n & 7


def test_large_answer_of_a_committed_write_goes_blockwise_once(d, plain):
    """The 2.01 of a create, sent after the commit, is larger than one
    message: its first block rides on the ACK, the client fetches the rest
    (RFC 7959 2.4, the POST again with Block2) and the create runs once."""
    c = plain["client"]
    path = new_cnt(d, plain)
    # 1,000 bytes: the request fits one datagram, the answer (the instance
    # with its attributes) does not fit one message.
    con = "".join("%05d" % i for i in range(200))
    tok = os.urandom(4)
    opts = cm.path_opts(path) + cm.om2m(plain["orig"], ty=4, cf=cm.CF_JSON)
    c.send_raw(cm.encode(cm.POST, opts, '{"m2m:cin":{"con":"%s"}}' % con,
                         mid=0x6161, token=tok))
    first = cm.Reply(c.recv(3.0))
    assert (first.type, first.mid, first.token, first.code, first.rsc) == \
        (cm.ACK, 0x6161, tok, "2.01", 2001), first
    num, more, szx = block2(first)
    assert (num, more) == (0, True), block2(first)
    body = first.payload
    while more:
        num += 1
        tok2 = os.urandom(4)
        r = c.exchange(cm.encode(cm.POST, opts + [(cm.BLOCK2,
                                                   num << 4 | szx)],
                                 token=tok2), tok2)
        assert r is not None and r.code == "2.01", r
        got_num, more, _ = block2(r)
        assert got_num == num, block2(r)
        body += r.payload
    assert json.loads(body)["m2m:cin"]["con"] == con
    assert collect(c, 0.3) == []
    assert snapshot(d, path)[0] == 1
    assert d.get(path + "/la").json()["m2m:cin"]["con"] == con

# --- bad input ---------------------------------------------------------------

BOMB = b"\xa1\x67m2m:cin" + b"\x81" * 900 + b"\x00"  # one datagram

BAD = [
    # (name, method, extra options, content format, payload, code, rsc)
    ("unknown critical option", cm.POST, [(cm.TY, 4), (2049, "x")],
     cm.CF_JSON, '{"m2m:cin":{"con":"x"}}', "4.02", 4000),
    ("repeated oneM2M option", cm.POST, [(cm.TY, 4), (cm.RQI, "again")],
     cm.CF_JSON, '{"m2m:cin":{"con":"x"}}', "4.02", 4000),
    ("wrong content format", cm.POST, [(cm.TY, 4)], 0, "con=x", "4.15",
     4015),
    ("no content format", cm.POST, [(cm.TY, 4)], None,
     '{"m2m:cin":{"con":"x"}}', "4.15", 4015),
    ("truncated CBOR", cm.POST, [(cm.TY, 4)], cm.CF_CBOR,
     cbor2.dumps({"m2m:cin": {"con": "x"}})[:-2], "4.00", 4000),
    ("CBOR nesting bomb", cm.POST, [(cm.TY, 4)], cm.CF_CBOR, BOMB, "4.00",
     4000),
    ("malformed JSON", cm.POST, [(cm.TY, 4)], cm.CF_JSON, '{"m2m:cin":',
     "4.00", 4000),
    ("SenML with conflicting values", cm.POST, [], cm.CF_SENML_JSON,
     '[{"n":"t","v":1,"vs":"one"}]', "4.00", 4000),
    ("SenML name outside the alphabet", cm.POST, [], cm.CF_SENML_JSON,
     '[{"n":"te mp!","v":1}]', "4.00", 4000),
    ("truncated SenML CBOR", cm.POST, [], cm.CF_SENML_CBOR,
     cbor2.dumps([{0: "t", 2: 1.5}])[:-3], "4.00", 4000),
    ("SenML with a ty", cm.POST, [(cm.TY, 3)], cm.CF_SENML_JSON,
     '[{"n":"t","v":1}]', "4.00", 4000),
    ("unsupported method", cm.FETCH, [], None, b"", "4.05", 4005),
    ("unacceptable Accept", cm.GET, [(cm.ACCEPT, 0)], None, b"", "4.06",
     5207),
    ("bad resource type", cm.POST, [(cm.TY, 0)], cm.CF_JSON, "{}", "4.00",
     4000),
    ("bad query", cm.GET, [(cm.URI_QUERY, "lim=-1")], None, b"", "4.00",
     4000),
]


@pytest.mark.parametrize("case", BAD, ids=[b[0] for b in BAD])
def test_bad_input(d, plain, case):
    name, method, extra, cf, payload, code, rsc = case
    c = plain["client"]
    before = snapshot(d, plain["c"])
    opts = cm.om2m(plain["orig"], rqi=uniq("bad"), cf=cf) + list(extra)
    r = c.request(method, plain["c"], opts, payload)
    assert r is not None, "no answer to " + name
    assert (r.code, r.rsc) == (code, rsc), r
    dbg = r.body().get("m2m:dbg")
    assert isinstance(dbg, str) and dbg, r
    assert snapshot(d, plain["c"]) == before
    assert c.request(cm.GET, plain["c"],
                     cm.om2m(plain["orig"])).rsc == 2000
    assert d.alive()


def test_bad_answer_format_follows_accept(d, plain):
    c = plain["client"]
    r = c.request(cm.POST, plain["c"], cm.om2m(plain["orig"], ty=4,
                                              cf=cm.CF_CBOR,
                                              accept=cm.CF_CBOR) +
                  [(2049, "x")], cbor2.dumps({"m2m:cin": {"con": 1}}))
    assert (r.code, r.rsc, r.cf) == ("4.02", 4000, cm.CF_CBOR), r
    assert "m2m:dbg" in r.body()


MALFORMED = [
    b"\x40",                                   # shorter than a header
    b"\x80\x01\x00\x01",                       # version 2
    b"\x49\x01\x00\x01abc",                    # token length 9
    b"\x41\x01\x00\x01t\xf0",                  # option nibble 15
    b"\x41\x01\x00\x01t\xbf",                  # Uri-Path longer than left
    b"\x41\x01\x00\x01t\xff",                  # marker, no payload
    b"\x60\x45\x00\x01",                       # an ACK nobody expects
    os.urandom(64),
]


def test_malformed_datagrams(d, plain):
    c = plain["client"]
    before = snapshot(d, plain["c"])
    for data in MALFORMED:
        c.send_raw(data)
    # Whatever libcoap answered (RST or 4.00) or not, the daemon serves.
    r = c.request(cm.GET, plain["c"], cm.om2m(plain["orig"]))
    assert r is not None and r.rsc == 2000, r
    assert snapshot(d, plain["c"]) == before
    assert d.alive()
