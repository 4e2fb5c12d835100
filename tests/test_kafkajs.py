"""kafkajs (Node.js) against kafkette: admin, idempotence, transactions and a read_committed group."""

from __future__ import annotations

import json
import subprocess

from tests.conftest import ROOT, unique

SCRIPT = ROOT / "tests" / "js" / "kafkajs_roundtrip.js"
NODE_MODULES = ROOT / ".venv" / "js" / "node_modules"  # `make test` installs kafkajs here


def test_kafkajs_produces_transacts_and_consumes_in_a_group(broker):
    topic = unique("kafkajs")
    done = subprocess.run(["node", str(SCRIPT), broker.bootstrap_servers, topic], capture_output=True, text=True,
                          timeout=60, env={"NODE_PATH": str(NODE_MODULES), "PATH": "/usr/local/bin:/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])["seen"]
    assert sorted(seen) == sorted([f"v{i}" for i in range(100)] + ["in-txn"])
