"""`make conformance`: kafkette held against Apache Kafka itself, in one pytest run.

Fetches Kafka's jars (Maven, once), starts one Kafka broker (conformance/kafka.py), and runs
  - every test of tests/ against it (`--kafka-bootstrap`): what kafkette's tests assert, Kafka
    must do too; tests marked kafkette_only are skipped with their reason;
  - conformance/: the same recorded client requests replayed on both brokers and compared field
    by field, the Java client and Kafka's command-line tools against kafkette and against Kafka.
Kafka is stopped at the end whatever happens. Extra arguments go to pytest.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from conformance.kafka import KafkaStartError, KafkaUnavailable, RealKafka, fetch_jars, kafka_version  # noqa: E402


def main(argv: list[str]) -> int:
    try:
        fetch_jars()
        kafka = RealKafka().start()
        kafka.warm_up()
    except (KafkaUnavailable, KafkaStartError, TimeoutError) as e:
        print(f"conformance: {e}", file=sys.stderr)
        return 2
    try:
        print(f"conformance: Apache Kafka {kafka_version()} at {kafka.bootstrap_servers}, started in "
              f"{kafka.started_s:.1f} s (log {kafka.log_path})", flush=True)
        command = [sys.executable, "-m", "pytest", "-q", "-rfEs", "tests", "conformance",
                   f"--kafka-bootstrap={kafka.bootstrap_servers}", *argv]
        return subprocess.call(command, cwd=ROOT)
    finally:
        kafka.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
