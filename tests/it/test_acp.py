"""Access control over HTTP: <accessControlPolicy> privileges (pv) and
self-privileges (pvs), acor forms, acop bits, acco contexts (time windows,
client addresses), the creator-only default, inheritance by content
instances, updates of acpi, and discovery filtered by access."""
import datetime
import itertools

import pytest

from conftest import rsc

OWNER = "CacpOwner"
OTHER = "CacpOther"
PAT = "CpatOne"          # matched by "Cpat*"
THIRD = "CacpThird"
ALL_OPS = ("C", "R", "U", "Disc", "D")
BITS = {"C": 1, "R": 2, "U": 4, "D": 8, "N": 16, "Disc": 32}

_n = itertools.count(1)


@pytest.fixture(scope="module")
def d(plazad):
    for aei in (OWNER, OTHER, PAT, THIRD):
        plazad.register(aei[1:], origin=aei)
    return plazad


def owner_path():
    return "plaza/" + OWNER[1:]


def make_acp(d, rules, pvs=None, parent=None, origin=OWNER):
    """Create an ACP; return its ri."""
    pvs = pvs if pvs is not None else [{"acor": [origin], "acop": 63}]
    body = {"m2m:acp": {"rn": "acp%d" % next(_n), "pv": {"acr": rules},
                        "pvs": {"acr": pvs}}}
    r = d.create(parent or owner_path(), 1, body, origin=origin)
    assert r.status_code == 201, r.text
    assert rsc(r) == 2001
    return r.json()["m2m:acp"]["ri"]


def make_cnt(d, rules=None, acpi=None):
    """The owner's container (with one instance), governed by an ACP with
    `rules` (None: no acpi at all).  Returns (path, ri, label)."""
    n = next(_n)
    label = "acpt%d" % n
    attrs = {"rn": "c%d" % n, "lbl": [label]}
    if acpi is None and rules is not None:
        acpi = [make_acp(d, rules + [{"acor": [OWNER], "acop": 63}])]
    if acpi is not None:
        attrs["acpi"] = acpi
    r = d.create(owner_path(), 3, {"m2m:cnt": attrs}, origin=OWNER)
    assert r.status_code == 201, r.text
    path = owner_path() + "/" + attrs["rn"]
    r = d.create(path, 4, {"m2m:cin": {"con": "seed"}}, origin=OWNER)
    assert r.status_code == 201, r.text
    return path, d.get(path).json()["m2m:cnt"]["ri"], label


def uril_has(uril, path, ri):
    forms = {path, "/plaza-in/" + path, ri, "/plaza-in/" + ri}
    return any(u in forms for u in uril)


def discover(d, origin, label, target="plaza"):
    r = d.get(target, origin, params={"fu": "1", "lbl": label})
    assert r.status_code == 200, r.text
    return r.json().get("m2m:uril", [])


def probe(d, origin, path, ri, label):
    """Try every operation on the container at path as origin; return
    {op: rsc}, with discovery as 'found'/'hidden'."""
    out = {}
    r = d.create(path, 4, {"m2m:cin": {"con": "probe"}}, origin=origin)
    out["C"] = rsc(r)
    r = d.get(path, origin)
    out["R"] = rsc(r)
    if out["R"] == 2000:
        assert r.json()["m2m:cnt"]["ri"] == ri
    r = d.get("plaza", origin, params={"fu": "1", "lbl": label})
    if r.status_code != 200:
        out["Disc"] = "failed with rsc %d" % rsc(r)
    else:
        found = uril_has(r.json().get("m2m:uril", []), path, ri)
        out["Disc"] = "found" if found else "hidden"
    r = d.update(path, {"m2m:cnt": {"lbl": [label, "probed"]}}, origin)
    out["U"] = rsc(r)
    r = d.delete(path, origin)
    out["D"] = rsc(r)
    return out


def expected(allowed):
    return {
        "C": 2001 if "C" in allowed else 4103,
        "R": 2000 if "R" in allowed else 4103,
        "Disc": "found" if "Disc" in allowed else "hidden",
        "U": 2004 if "U" in allowed else 4103,
        "D": 2002 if "D" in allowed else 4103,
    }


def check_effects(d, path, got):
    """The denied operations changed nothing, the allowed ones did."""
    r = d.get(path)
    if got["D"] == 2002:
        assert r.status_code == 404, r.text
        return
    cnt = r.json()["m2m:cnt"]
    assert cnt["cni"] == (2 if got["C"] == 2001 else 1)
    assert ("probed" in cnt["lbl"]) == (got["U"] == 2004)


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


# --- the matrix: operation x originator -----------------------------------

MATRIX = [
    # name, rules (None: no acpi), originator, allowed operations
    ("creator-no-acpi", None, OWNER, ALL_OPS),
    ("other-no-acpi", None, OTHER, ()),
    ("pattern-ae-no-acpi", None, PAT, ()),
    ("other-granted", [{"acor": [OTHER], "acop": 63}], OTHER, ALL_OPS),
    ("other-not-in-acor", [{"acor": [THIRD], "acop": 63}], OTHER, ()),
    ("third-granted-other-not", [{"acor": [THIRD], "acop": 63}], THIRD,
     ALL_OPS),
    ("all", [{"acor": ["all"], "acop": 63}], OTHER, ALL_OPS),
    ("all-for-pattern-ae", [{"acor": ["all"], "acop": 63}], PAT, ALL_OPS),
    ("pattern-matches", [{"acor": ["Cpat*"], "acop": 63}], PAT, ALL_OPS),
    ("pattern-does-not-match", [{"acor": ["Cpat*"], "acop": 63}], OTHER, ()),
    ("sp-relative-acor", [{"acor": ["/plaza-in/" + OTHER], "acop": 63}],
     OTHER, ALL_OPS),
    ("sp-relative-acor-other-ae", [{"acor": ["/plaza-in/" + THIRD],
                                    "acop": 63}], OTHER, ()),
    ("absolute-acor", [{"acor": ["//plaza.example/plaza-in/" + OTHER],
                        "acop": 63}], OTHER, ALL_OPS),
    ("star-alone", [{"acor": ["*"], "acop": 63}], OTHER, ALL_OPS),
    ("case-sensitive", [{"acor": [OTHER.lower()], "acop": 63}], OTHER, ()),
    ("sp-relative-pattern", [{"acor": ["/plaza-in/Cpat*"], "acop": 63}],
     PAT, ALL_OPS),
    ("several-acor-entries", [{"acor": [THIRD, OTHER], "acop": 63}], OTHER,
     ALL_OPS),
    ("rules-add-up", [{"acor": [OTHER], "acop": 2},
                      {"acor": [OTHER], "acop": 4 | 1}], OTHER,
     ("R", "U", "C")),
    ("read-only", [{"acor": [OTHER], "acop": 2 | 32}], OTHER, ("R", "Disc")),
    ("read-delete", [{"acor": [OTHER], "acop": 2 | 8}], OTHER, ("R", "D")),
]


@pytest.mark.parametrize("name,rules,origin,allowed", MATRIX,
                         ids=[m[0] for m in MATRIX])
def test_matrix(d, name, rules, origin, allowed):
    path, ri, label = make_cnt(d, rules)
    got = probe(d, origin, path, ri, label)
    assert got == expected(allowed), name
    check_effects(d, path, got)


@pytest.mark.parametrize("bit", ["C", "R", "U", "D", "N", "Disc"])
def test_acop_bits_individually(d, bit):
    path, ri, label = make_cnt(d, [{"acor": [OTHER], "acop": BITS[bit]}])
    got = probe(d, OTHER, path, ri, label)
    allowed = (bit,) if bit != "N" else ()
    assert got == expected(allowed), bit
    check_effects(d, path, got)


def test_admin_is_never_denied(d):
    path, ri, label = make_cnt(d, [{"acor": [THIRD], "acop": 2}])
    got = probe(d, "CAdmin", path, ri, label)
    assert got == expected(ALL_OPS)


def test_several_policies_in_acpi_add_up(d):
    a = make_acp(d, [{"acor": [OTHER], "acop": 2}])
    b = make_acp(d, [{"acor": [OTHER], "acop": 4}])
    c = make_acp(d, [{"acor": [OWNER], "acop": 63}])
    path, ri, label = make_cnt(d, acpi=[a, b, c])
    got = probe(d, OTHER, path, ri, label)
    assert got == expected(("R", "U"))


def test_acpi_in_sp_relative_form(d):
    a = make_acp(d, [{"acor": [OTHER], "acop": 2},
                     {"acor": [OWNER], "acop": 63}])
    path, ri, label = make_cnt(d, acpi=["/plaza-in/" + a])
    assert d.get(path, OTHER).status_code == 200
    assert rsc(d.delete(path, OTHER)) == 4103


# --- acpi must reference policies ----------------------------------------

def test_acpi_referencing_missing_acp_is_4000(d):
    r = d.create(owner_path(), 3, {"m2m:cnt": {"rn": "dangling",
                                                "acpi": ["acp999999"]}},
                 origin=OWNER)
    assert rsc(r) == 4000, r.text
    assert r.status_code == 400
    assert d.get(owner_path() + "/dangling").status_code == 404
    r = d.create(owner_path(), 3, {"m2m:cnt": {"rn": "dangling",
                                                "acpi": ["nosuchpolicy"]}},
                 origin=OWNER)
    assert rsc(r) == 4000, r.text


def test_acpi_referencing_non_acp_is_4000(d):
    path, ri, _ = make_cnt(d)
    r = d.create(owner_path(), 3, {"m2m:cnt": {"rn": "notacp",
                                                "acpi": [ri]}}, origin=OWNER)
    assert rsc(r) == 4000, r.text
    r = d.update(path, {"m2m:cnt": {"acpi": [ri]}}, OWNER)
    assert rsc(r) == 4000, r.text


def test_acpi_update_to_missing_acp_is_4000(d):
    path, ri, _ = make_cnt(d)
    r = d.update(path, {"m2m:cnt": {"acpi": ["acp999998"]}}, OWNER)
    assert rsc(r) == 4000, r.text
    cnt = d.get(path).json()["m2m:cnt"]
    assert "acpi" not in cnt
    assert d.get(path, OWNER).status_code == 200


def test_invalid_policies_are_4000(d):
    bad = [
        {"pv": {"acr": [{"acor": [OTHER], "acop": 0}]},
         "pvs": {"acr": [{"acor": [OWNER], "acop": 63}]}},
        {"pv": {"acr": [{"acor": [OTHER], "acop": 64}]},
         "pvs": {"acr": [{"acor": [OWNER], "acop": 63}]}},
        {"pv": {"acr": [{"acor": OTHER, "acop": 2}]},
         "pvs": {"acr": [{"acor": [OWNER], "acop": 63}]}},
        {"pv": {"acr": [{"acor": [OTHER], "acop": 2}]},
         "pvs": {"acr": []}},
        {"pv": {"acr": [{"acor": [OTHER], "acop": 2}]}},
        {"pvs": {"acr": [{"acor": [OWNER], "acop": 63}]}},
        {"pv": {"acr": [{"acor": [OTHER], "acop": 2,
                         "acco": [{"acip": "127.0.0.1"}]}]},
         "pvs": {"acr": [{"acor": [OWNER], "acop": 63}]}},
    ]
    for i, acp in enumerate(bad):
        acp = dict(acp, rn="badacp%d" % i)
        r = d.create(owner_path(), 1, {"m2m:acp": acp}, origin=OWNER)
        assert rsc(r) == 4000, (acp, r.text)
        assert d.get(owner_path() + "/badacp%d" % i).status_code == 404


def test_ae_cannot_create_acp_under_cse_base(d):
    r = d.create("plaza", 1, {"m2m:acp": {
        "pv": {"acr": [{"acor": ["all"], "acop": 63}]},
        "pvs": {"acr": [{"acor": [OTHER], "acop": 63}]}}}, origin=OTHER)
    assert rsc(r) == 4103, r.text


# --- the policy's own privileges (pvs) ----------------------------------

def test_pvs_governs_the_acp(d):
    # pv grants OTHER everything, pvs only the owner: pv says nothing about
    # the policy itself
    ri = make_acp(d, [{"acor": [OTHER], "acop": 63}],
                  pvs=[{"acor": [OWNER], "acop": 63}])
    r = d.get(ri, OTHER)
    assert rsc(r) == 4103, r.text
    r = d.update(ri, {"m2m:acp": {"pv": {"acr": []}}}, OTHER)
    assert rsc(r) == 4103, r.text
    r = d.delete(ri, OTHER)
    assert rsc(r) == 4103, r.text
    acp = d.get(ri, OWNER).json()["m2m:acp"]
    assert acp["pv"]["acr"][0]["acor"] == [OTHER]
    # the owner hands OTHER read access to the policy only
    r = d.update(ri, {"m2m:acp": {"pvs": {"acr": [
        {"acor": [OWNER], "acop": 63}, {"acor": [OTHER], "acop": 2}]}}},
        OWNER)
    assert rsc(r) == 2004, r.text
    r = d.get(ri, OTHER)
    assert rsc(r) == 2000, r.text
    assert r.json()["m2m:acp"]["ri"] == ri
    r = d.update(ri, {"m2m:acp": {"pv": {"acr": []}}}, OTHER)
    assert rsc(r) == 4103, r.text
    r = d.delete(ri, OTHER)
    assert rsc(r) == 4103, r.text
    # now update (4) but not delete
    r = d.update(ri, {"m2m:acp": {"pvs": {"acr": [
        {"acor": [OWNER], "acop": 63}, {"acor": [OTHER], "acop": 6}]}}},
        OWNER)
    assert rsc(r) == 2004, r.text
    r = d.update(ri, {"m2m:acp": {"pv": {"acr": [
        {"acor": [THIRD], "acop": 2}]}}}, OTHER)
    assert rsc(r) == 2004, r.text
    assert d.get(ri).json()["m2m:acp"]["pv"]["acr"][0]["acor"] == [THIRD]
    r = d.delete(ri, OTHER)
    assert rsc(r) == 4103, r.text
    # the owner, per pvs, may delete
    r = d.delete(ri, OWNER)
    assert rsc(r) == 2002, r.text
    assert d.get(ri).status_code == 404


def test_pvs_can_lock_out_the_creator(d):
    ri = make_acp(d, [{"acor": [OWNER], "acop": 63}],
                  pvs=[{"acor": [OTHER], "acop": 63}])
    r = d.update(ri, {"m2m:acp": {"pv": {"acr": []}}}, OWNER)
    assert rsc(r) == 4103, r.text
    r = d.delete(ri, OWNER)
    assert rsc(r) == 4103, r.text
    r = d.delete(ri, OTHER)
    assert rsc(r) == 2002, r.text


def test_pv_change_takes_effect_at_once(d):
    acp = make_acp(d, [{"acor": [OTHER], "acop": 2},
                       {"acor": [OWNER], "acop": 63}])
    path, ri, label = make_cnt(d, acpi=[acp])
    assert d.get(path, OTHER).status_code == 200
    r = d.update(acp, {"m2m:acp": {"pv": {"acr": [
        {"acor": [OWNER], "acop": 63}]}}}, OWNER)
    assert rsc(r) == 2004, r.text
    assert rsc(d.get(path, OTHER)) == 4103
    # a deleted policy grants nothing any more
    r = d.update(acp, {"m2m:acp": {"pv": {"acr": [
        {"acor": [OWNER, OTHER], "acop": 63}]}}}, OWNER)
    assert rsc(r) == 2004, r.text
    assert d.get(path, OTHER).status_code == 200
    assert rsc(d.delete(acp, OWNER)) == 2002
    assert rsc(d.get(path, OTHER)) == 4103


# --- acco: time windows and client addresses -------------------------------

def _hour_rule(hours, acop=63):
    return {"acor": [OTHER], "acop": acop,
            "acco": [{"actw": ["* * %s * * *" % ",".join(map(str, hours))]}]}


def test_actw_window_excluding_now_denies(d):
    h = utc_now().hour
    path, ri, label = make_cnt(d, [_hour_rule([(h + 12) % 24])])
    got = probe(d, OTHER, path, ri, label)
    assert got == expected(())


def test_actw_window_including_now_allows(d):
    now = utc_now()
    h = now.hour
    path, ri, label = make_cnt(d, [_hour_rule([h, (h + 1) % 24])])
    got = probe(d, OTHER, path, ri, label)
    assert got == expected(ALL_OPS)


def test_actw_day_of_week_and_ranges(d):
    now = utc_now()
    dow = (now.isoweekday()) % 7              # 0 = Sunday, as cron
    tomorrow = (now + datetime.timedelta(days=1)).isoweekday() % 7
    other_days = [x for x in range(7) if x not in (dow, tomorrow)]
    yes = {"acor": [OTHER], "acop": 2,
           "acco": [{"actw": ["* * * * * %d,%d" % (dow, tomorrow)]}]}
    no = {"acor": [OTHER], "acop": 2,
          "acco": [{"actw": ["* * * * * %s" % ",".join(map(str, other_days))]}]}
    rng = {"acor": [OTHER], "acop": 2,
           "acco": [{"actw": ["0-59 0-59 0-23 1-31 1-12 0-6"]}]}
    for rule, ok in ((yes, True), (no, False), (rng, True)):
        path, ri, label = make_cnt(d, [rule])
        assert (rsc(d.get(path, OTHER)) == 2000) == ok, rule


def test_acip_matching_loopback_allows(d):
    for net in ("127.0.0.1/32", "127.0.0.0/8", "127.0.0.1"):
        path, ri, label = make_cnt(d, [{"acor": [OTHER], "acop": 63,
                                        "acco": [{"acip": {"ipv4": [net]}}]}])
        got = probe(d, OTHER, path, ri, label)
        assert got == expected(ALL_OPS), net


def test_acip_not_matching_denies(d):
    for ipv4 in (["10.0.0.0/8"], ["127.0.0.2/32"], []):
        path, ri, label = make_cnt(d, [{"acor": [OTHER], "acop": 63,
                                        "acco": [{"acip": {"ipv4": ipv4}}]}])
        got = probe(d, OTHER, path, ri, label)
        assert got == expected(()), ipv4


def test_acco_parts_and_contexts(d):
    h = utc_now().hour
    win_in = "* * %d,%d * * *" % (h, (h + 1) % 24)
    win_out = "* * %d * * *" % ((h + 12) % 24)
    lo = {"ipv4": ["127.0.0.0/8"]}
    far = {"ipv4": ["192.0.2.0/24"]}
    cases = [
        # one context: every part must hold
        ([{"actw": [win_in], "acip": lo}], True),
        ([{"actw": [win_in], "acip": far}], False),
        ([{"actw": [win_out], "acip": lo}], False),
        # several windows in one context: any may hold
        ([{"actw": [win_out, win_in]}], True),
        # several contexts: any may hold
        ([{"acip": far}, {"actw": [win_in]}], True),
        ([{"acip": far}, {"actw": [win_out]}], False),
    ]
    for acco, ok in cases:
        path, ri, label = make_cnt(d, [{"acor": [OTHER], "acop": 2,
                                        "acco": acco}])
        assert (rsc(d.get(path, OTHER)) == 2000) == ok, acco


def test_acco_limits_only_its_own_rule(d):
    h = utc_now().hour
    rules = [{"acor": [OTHER], "acop": 2,
              "acco": [{"actw": ["* * %d * * *" % ((h + 12) % 24)]}]},
             {"acor": [OTHER], "acop": 4}]
    path, ri, label = make_cnt(d, rules)
    assert rsc(d.get(path, OTHER)) == 4103
    r = d.update(path, {"m2m:cnt": {"lbl": ["u"]}}, OTHER)
    assert rsc(r) == 2004, r.text


# --- contentInstance inherits, subscriptions need retrieve --------------

def test_instance_inherits_container_acpi(d):
    path, ri, label = make_cnt(d, [{"acor": [OTHER], "acop": 2}])
    cin = d.get(path + "/la").json()["m2m:cin"]
    for target in (cin["ri"], path + "/" + cin["rn"], path + "/la",
                   path + "/ol", "/~/plaza-in/" + cin["ri"]):
        r = d.get(target, OTHER)
        assert rsc(r) == 2000, (target, r.text)
        assert r.json()["m2m:cin"]["con"] == "seed"
        r = d.get(target, THIRD)
        assert rsc(r) == 4103, (target, r.text)
    # R without D: OTHER cannot delete the instance
    assert rsc(d.delete(cin["ri"], OTHER)) == 4103
    assert rsc(d.delete(path + "/la", OTHER)) == 4103
    assert d.get(cin["ri"]).status_code == 200


def test_instance_delete_follows_container_acp(d):
    path, ri, label = make_cnt(d, [{"acor": [OTHER], "acop": 8}])
    cin = d.get(path + "/la").json()["m2m:cin"]
    assert rsc(d.get(cin["ri"], OTHER)) == 4103
    r = d.delete(cin["ri"], OTHER)
    assert rsc(r) == 2002, r.text
    assert d.get(cin["ri"]).status_code == 404
    assert d.get(path).json()["m2m:cnt"]["cni"] == 0


def test_instance_without_acpi_is_creators_only(d):
    path, ri, label = make_cnt(d)
    cin = d.get(path + "/la").json()["m2m:cin"]
    assert rsc(d.get(cin["ri"], OWNER)) == 2000
    assert rsc(d.get(cin["ri"], OTHER)) == 4103


def test_subscription_needs_retrieve_privilege(d):
    path, ri, label = make_cnt(d, [{"acor": [OTHER], "acop": 1}])
    r = d.create(path, 23, {"m2m:sub": {"nu": [OTHER],
                                        "enc": {"net": [3]}}}, origin=OTHER)
    assert rsc(r) == 4101, r.text
    assert r.status_code == 403
    path, ri, label = make_cnt(d, [{"acor": [OTHER], "acop": 2}])
    r = d.create(path, 23, {"m2m:sub": {"nu": [OTHER],
                                        "enc": {"net": [3]}}}, origin=OTHER)
    assert rsc(r) == 4103, r.text
    path, ri, label = make_cnt(d, [{"acor": [OTHER], "acop": 3}])
    r = d.create(path, 23, {"m2m:sub": {"rn": "s", "nu": [OTHER],
                                        "enc": {"net": [3]}}}, origin=OTHER)
    assert rsc(r) == 2001, r.text


# --- updating acpi ---------------------------------------------------------

def test_update_of_acpi(d):
    path, ri, label = make_cnt(d)
    assert rsc(d.get(path, OTHER)) == 4103
    acp = make_acp(d, [{"acor": [OTHER], "acop": 2},
                       {"acor": [OWNER], "acop": 63}])
    # OTHER cannot grant itself access
    r = d.update(path, {"m2m:cnt": {"acpi": [acp]}}, OTHER)
    assert rsc(r) == 4103, r.text
    assert rsc(d.get(path, OTHER)) == 4103
    r = d.update(path, {"m2m:cnt": {"acpi": [acp]}}, OWNER)
    assert rsc(r) == 2004, r.text
    assert r.json()["m2m:cnt"]["acpi"] == [acp]
    assert rsc(d.get(path, OTHER)) == 2000
    assert rsc(d.update(path, {"m2m:cnt": {"lbl": ["x"]}}, OTHER)) == 4103
    # another policy replaces the first one
    acp2 = make_acp(d, [{"acor": [THIRD], "acop": 2},
                        {"acor": [OWNER], "acop": 63}])
    r = d.update(path, {"m2m:cnt": {"acpi": [acp2]}}, OWNER)
    assert rsc(r) == 2004, r.text
    assert rsc(d.get(path, OTHER)) == 4103
    assert rsc(d.get(path, THIRD)) == 2000
    # removing acpi returns to the creator-only default
    r = d.update(path, {"m2m:cnt": {"acpi": None}}, OWNER)
    assert rsc(r) == 2004, r.text
    assert "acpi" not in d.get(path).json()["m2m:cnt"]
    assert rsc(d.get(path, THIRD)) == 4103
    assert rsc(d.get(path, OWNER)) == 2000


# --- discovery ----------------------------------------------------------

def test_discovery_filtered_by_access(d):
    label = "disc%d" % next(_n)
    made = {}
    for name, rules in (("open", [{"acor": [OTHER], "acop": 32}]),
                        ("readonly", [{"acor": [OTHER], "acop": 2}]),
                        ("mine", None),
                        ("all", [{"acor": ["all"], "acop": 34}])):
        attrs = {"rn": "%s%s" % (label, name), "lbl": [label]}
        if rules:
            attrs["acpi"] = [make_acp(d, rules + [{"acor": [OWNER],
                                                   "acop": 63}])]
        r = d.create(owner_path(), 3, {"m2m:cnt": attrs}, origin=OWNER)
        assert r.status_code == 201, r.text
        made[name] = (owner_path() + "/" + attrs["rn"],
                      r.json()["m2m:cnt"]["ri"])

    def seen(origin):
        uril = discover(d, origin, label)
        return {k for k, (p, ri) in made.items() if uril_has(uril, p, ri)}, \
            uril

    got, uril = seen(OTHER)
    assert got == {"open", "all"}, uril
    assert len(uril) == 2, uril
    got, uril = seen(THIRD)
    assert got == {"all"}, uril
    got, uril = seen(OWNER)
    assert got == {"open", "readonly", "mine", "all"}, uril
    got, uril = seen("CAdmin")
    assert got == {"open", "readonly", "mine", "all"}, uril


def test_discovery_does_not_reveal_instances(d):
    path, ri, label = make_cnt(d, [{"acor": [OTHER], "acop": 2}])
    r = d.get(path, OTHER, params={"fu": "1", "ty": "4"})
    assert r.status_code == 200, r.text
    assert r.json().get("m2m:uril", []) == []
    r = d.get(path, OWNER, params={"fu": "1", "ty": "4"})
    assert r.status_code == 200, r.text
    assert len(r.json()["m2m:uril"]) == 1


def test_ae_acpi_does_not_extend_to_its_children(d):
    acp = make_acp(d, [{"acor": [OTHER], "acop": 2},
                       {"acor": [OWNER], "acop": 63}])
    aei = "CacpShared"
    d.register(aei[1:], origin=aei)
    r = d.create("plaza/" + aei[1:], 1, {"m2m:acp": {
        "pv": {"acr": [{"acor": [OTHER], "acop": 2},
                       {"acor": [aei], "acop": 63}]},
        "pvs": {"acr": [{"acor": [aei], "acop": 63}]}}}, origin=aei)
    assert r.status_code == 201, r.text
    acp = r.json()["m2m:acp"]["ri"]
    r = d.update("plaza/" + aei[1:], {"m2m:ae": {"acpi": [acp]}}, aei)
    assert rsc(r) == 2004, r.text
    r = d.get("plaza/" + aei[1:], OTHER)
    assert rsc(r) == 2000, r.text
    assert r.json()["m2m:ae"]["aei"] == aei
    r = d.create("plaza/" + aei[1:], 3, {"m2m:cnt": {"rn": "inner"}},
                 origin=aei)
    assert r.status_code == 201, r.text
    # the container has no acpi of its own: creator only
    assert rsc(d.get("plaza/" + aei[1:] + "/inner", OTHER)) == 4103
    assert rsc(d.get("plaza/" + aei[1:] + "/inner", aei)) == 2000
