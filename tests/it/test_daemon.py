"""plazad as a program: command line, configuration, ports, signals."""
import os
import signal
import subprocess
import time

import pytest
import requests

from conftest import PLAZAD, ROOT, Plazad, rsc


def run(*args, timeout=10):
    return subprocess.run([PLAZAD] + list(args), capture_output=True,
                          text=True, timeout=timeout)


def test_config_reference_is_current():
    """docs/configuration.md is generated from the configuration table."""
    out = run("--config-doc")
    assert out.returncode == 0
    with open(os.path.join(ROOT, "docs", "configuration.md")) as f:
        assert f.read() == out.stdout, \
            "regenerate: plazad --config-doc > docs/configuration.md"


def test_test_config_accepts_a_good_file(tmp_path):
    conf = tmp_path / "plazad.conf"
    conf.write_text("# a comment\ncse.id = city-in\nsp.id = city.example\n"
                    'http.listen = "127.0.0.1:0 [::1]:0"\n'
                    "store.sync = full\nlimits.results = 500\n")
    out = run("--test-config", str(conf))
    assert out.returncode == 0, out.stderr
    assert "configuration OK" in out.stdout


@pytest.mark.parametrize("text,why,line", [
    ("nosuch = 1\n", "unknown setting 'nosuch'", 2),
    ("limits.results = 0\n", "outside 1..1000000", 2),
    ("store.sync = sometimes\n", "not one of normal|full", 2),
    ("auth.trust_origin = maybe\n", "not true or false", 2),
    ("cse.id = a\ncse.id = b\n", "set twice", 3),
    ("just words\n", "expected 'key = value'", 2),
    ('cse.name = "open\n', "unterminated quoted value", 2),
])
def test_test_config_reports_the_line(tmp_path, text, why, line):
    conf = tmp_path / "bad.conf"
    conf.write_text("# fine\n" + text)
    out = run("--test-config", str(conf))
    assert out.returncode == 1
    assert why in out.stderr, out.stderr
    assert "bad.conf:%d:" % line in out.stderr, out.stderr


def test_cross_setting_checks(tmp_path):
    out = run("--test-config", "/dev/null", "--admin", "Xroot")
    assert out.returncode == 1
    assert "admin must be" in out.stderr


def test_unknown_option_and_stray_argument():
    assert run("--no-such-option").returncode == 2
    assert run("stray").returncode == 2


def test_version_and_help():
    out = run("--version")
    assert out.returncode == 0 and out.stdout.startswith("plazad ")
    out = run("--help")
    assert out.returncode == 0 and "--portfile" in out.stdout


def test_two_listeners_and_portfile(plazad_factory):
    d = plazad_factory(args=["--listen", "[::1]:0"])
    with open(os.path.join(d.tmp, "ports")) as f:
        lines = f.read().split("\n")
    ports = [int(l.split()[1]) for l in lines if l.startswith("http ")]
    assert len(ports) == 2 and ports[0] != ports[1]
    for host, port in (("127.0.0.1", ports[0]), ("[::1]", ports[1])):
        r = requests.get("http://%s:%d/plaza" % (host, port),
                         headers=d.headers("CAdmin"), timeout=5)
        assert rsc(r) == 2000
    # The CSEBase names both points of access, with the bound ports.
    poa = d.get("plaza").json()["m2m:cb"]["poa"]
    assert poa == ["http://127.0.0.1:%d" % ports[0],
                   "http://[::1]:%d" % ports[1]]


def test_settings_from_the_command_line(plazad_factory):
    d = plazad_factory(args=["--cse-id", "city-in", "--cse-name", "city",
                             "--sp-id", "city.example"])
    r = d.get("city")
    assert r.status_code == 200, r.text
    cb = r.json()["m2m:cb"]
    assert cb["csi"] == "/city-in" and cb["rn"] == "city"
    assert d.get("/_/city.example/city-in/city").status_code == 200


def test_bad_listen_address_fails_to_start(tmp_path):
    out = run("--data", str(tmp_path / "d"), "--listen", "999.1.1.1:80")
    assert out.returncode != 0
    assert "bad listen address" in out.stderr


def test_sigterm_is_a_clean_stop(fresh_plazad):
    d = fresh_plazad
    assert d.alive()
    assert d.stop() == 0
    assert "shutting down" in d.log()
    assert "served" in d.log()


def test_sighup_applies_log_level(tmp_path):
    conf = tmp_path / "plazad.conf"
    conf.write_text("log.level = info\n")
    d = Plazad(args=["--config", str(conf)]).start()
    try:
        assert d.alive()
        before = d.log().count("retrieve to=plaza ")
        assert before >= 1
        conf.write_text("log.level = warn\n")
        d.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 5
        while "log.level is warn" not in d.log():
            assert time.monotonic() < deadline, d.log()
            time.sleep(0.02)
        assert d.alive()
        assert d.log().count("retrieve to=plaza ") == before
    finally:
        d.cleanup()


def test_admin_token_file_is_private_and_rotates(fresh_plazad):
    d = fresh_plazad
    path = os.path.join(d.data, "admin.token")
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert os.stat(d.data).st_mode & 0o777 == 0o700
    old = d.tokens["CAdmin"]
    d.stop()
    with open(path, "w") as f:
        f.write("rotated-secret-for-the-admin-0123456789abcdef\n")
    d.start()
    assert d.tokens["CAdmin"] != old
    assert d.alive()
    r = d.get("plaza", headers={"Authorization": "Bearer " + old})
    assert rsc(r) == 4103
