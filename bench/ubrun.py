"""Full Ub bootstraps/s (bench/README.md, "Ub bootstraps").

    python3 bench/ubrun.py BUILD CONNECTIONS SECONDS [dev|nodev] [UES]

Starts BUILD/plazad with its BSF on a fresh data directory, adds
CONNECTIONS x UES subscribers (with "dev": each naming its own registered
device, so every bootstrap is a trust-log entry), runs BUILD/ubload for
SECONDS and prints its line.  Bounded by SECONDS; plazad is stopped after.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import requests

B = sys.argv[1]; N = int(sys.argv[2]); secs = sys.argv[3]; U = int(sys.argv[5]) if len(sys.argv) > 5 else 1
tmp = tempfile.mkdtemp(); pf = tmp + "/ports"
p = subprocess.Popen([B + "/plazad", "--data", tmp + "/d", "--listen", "127.0.0.1:0",
    "--set", "coaps.listen=", "--set", "boot.bsf=true", "--set", "log.level=warn",
    "--portfile", pf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
deadline = time.monotonic() + 10
while not os.path.exists(pf):
    assert time.monotonic() < deadline, "plazad did not start"
    time.sleep(0.01)
port = int(open(pf).read().split()[1])
tok = open(tmp + "/d/admin.token").read().strip()
k, opc = "465b5ce8b199b49faa5f0a2ee238a6bc", "cd63cb71954a9f4e48a5994e37a02baf"
dev = len(sys.argv) > 4 and sys.argv[4] == "dev"
for i in [(a, b) for a in range(N) for b in range(U)]:
    body = {"impi": "%d-%d-bench@ims.example" % i, "k": k, "opc": opc}
    if dev:
        body["device"] = "urn:dev:os:32473-bench%d.%d" % i
        r = requests.post("http://127.0.0.1:%d/.plaza/ids" % port,
            headers={"Authorization": "Bearer " + tok}, data=json.dumps({"id": body["device"]}))
        assert r.status_code == 201, r.text
    r = requests.post("http://127.0.0.1:%d/.plaza/subscribers" % port,
        headers={"Authorization": "Bearer " + tok},
        data=json.dumps(body))
    assert r.status_code == 201, r.text
out = subprocess.run([B + "/ubload", "127.0.0.1", str(port), "bench@ims.example", k, opc, secs, str(N), str(U)],
    capture_output=True, text=True, timeout=float(secs) + 30)
print(out.stdout, out.stderr)
p.terminate()
p.wait()
shutil.rmtree(tmp)
