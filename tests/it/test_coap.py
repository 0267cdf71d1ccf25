"""The oneM2M CoAP binding against the real plazad: DTLS with pre-shared
keys (coap-client-openssl), plain CoAP for allowed originators (the raw
client of coapmsg.py and coap-client-notls), SenML, CBOR, Observe,
block-wise transfers, duplicates, and bad input that must be refused with
the right code, oneM2M-RSC and m2m:dbg while the daemon keeps answering and
the data stay as they were.  An application on HTTP sees the same data."""
import os
import tempfile
import time
import uuid

import cbor2
import pytest

import coapmsg as cm
from coapd import CoapPlazad


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
