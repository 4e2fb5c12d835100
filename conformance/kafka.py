"""Apache Kafka itself beside kafkette: its jars fetched by Maven, a one-node KRaft broker started and stopped.

    with RealKafka() as kafka:          # KafkaUnavailable when java or mvn is missing
        kafka.bootstrap_servers         # "127.0.0.1:PORT"

`fetch_jars()` runs `mvn dependency:copy-dependencies` over conformance/pom.xml once (into
conformance/lib/, gitignored) and again only when the pom changes. The broker runs in combined
mode (broker and controller in one JVM) on two free loopback ports with a temporary log dir,
formatted first by Kafka's own StorageTool, with a 512 MB heap; `stop()` (also run at exit)
ends it. Its settings are Kafka's defaults for a one-node cluster plus the few the tests
give kafkette too (KAFKA_SETTINGS).

`python conformance/kafka.py` starts one and prints its bootstrap until Ctrl-C.
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import IO

HERE = Path(__file__).resolve().parent
POM = HERE / "pom.xml"
LIB = HERE / "lib"
HOST = "127.0.0.1"

# The one-node cluster every test runs against, and the settings kafkette's test broker has too
# (tests/conftest.py): timed-out transactions aborted within 200 ms, consumer-protocol heartbeats
# every 500 ms with a 3 s session.
KAFKA_SETTINGS = {
    "num.partitions": "1",
    "default.replication.factor": "1",
    "offsets.topic.replication.factor": "1",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "share.coordinator.state.topic.replication.factor": "1",
    "share.coordinator.state.topic.min.isr": "1",
    "group.initial.rebalance.delay.ms": "0",
    "transaction.abort.timed.out.transaction.cleanup.interval.ms": "200",
    "group.consumer.heartbeat.interval.ms": "500",
    "group.consumer.min.heartbeat.interval.ms": "500",
    "group.consumer.session.timeout.ms": "3000",
    "group.consumer.min.session.timeout.ms": "3000",
    # kafkette does not convert a classic group to a consumer group (or back) while it has members: it answers
    # as Kafka with online migration off (an accepted difference from Kafka's default, "bidirectional")
    "group.consumer.migration.policy": "disabled",
}
# kafkette serves transactions as Kafka's transaction version 1: it finalizes no transaction.version
# feature, so clients do not use KIP-890 part 2 with it. The control is formatted the same way, so the
# Java client takes the same path against both (Kafka 4.4 formats version 2 by default).
FEATURES = ["--feature", "transaction.version=1"]
JVM_OPTIONS = ["-Xmx512m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true"]


class KafkaUnavailable(RuntimeError):
    """Java or Maven is missing, or Maven could not fetch Kafka's jars; the message says which."""


class KafkaStartError(RuntimeError):
    """Kafka exited or did not answer in time; the message ends with its last log lines."""


def missing_tools() -> str | None:
    """What is missing to run Kafka here (None if nothing): JDK 17+ and Maven."""
    absent = [tool for tool in ("java", "javac", "mvn") if shutil.which(tool) is None]
    if absent:
        return f"{', '.join(absent)} not found: the conformance suite needs a JDK 17+ and Maven on PATH"
    return None


def kafka_version() -> str:
    match = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", POM.read_text())
    assert match, f"{POM} names no <kafka.version>"
    return match.group(1)


def fetch_jars(quiet: bool = True) -> Path:
    """conformance/lib/ with Kafka's jars, fetched by Maven the first time (and after a pom change)."""
    problem = missing_tools()
    if problem:
        raise KafkaUnavailable(problem)
    stamp = LIB / ".pom-sha256"
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()
    if stamp.is_file() and stamp.read_text() == digest:
        return LIB
    shutil.rmtree(LIB, ignore_errors=True)
    command = ["mvn", "-B", "-f", str(POM), "dependency:copy-dependencies"] + (["-q"] if quiet else [])
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        tail = " | ".join((done.stdout + done.stderr).strip().splitlines()[-5:])
        raise KafkaUnavailable(f"mvn could not fetch Kafka {kafka_version()}'s jars (exit {done.returncode}): {tail}")
    stamp.write_text(digest)
    return LIB


def classpath() -> str:
    return str(fetch_jars() / "*")


def java(main_class: str, *args: str, jvm: list[str] | None = None, extra_classpath: str | None = None,
         log_config: str = "log4j2-clients.properties") -> list[str]:
    """The command line that runs `main_class` from Kafka's jars (and `extra_classpath`); a client or a tool
    logs only warnings, to stderr."""
    path = classpath() if extra_classpath is None else f"{extra_classpath}{os.pathsep}{classpath()}"
    return ["java", *(jvm or []), f"-Dlog4j2.configurationFile={HERE / log_config}", "-cp", path, main_class, *args]


def compile_java_checks() -> Path:
    """conformance/classes/ with conformance/java/*.java compiled against Kafka's jars (again when a source
    is newer than its class)."""
    sources = sorted((HERE / "java").glob("*.java"))
    out = HERE / "classes"
    stale = [s for s in sources if not (out / s.with_suffix(".class").name).is_file()
             or s.stat().st_mtime > (out / s.with_suffix(".class").name).stat().st_mtime]
    if stale:
        out.mkdir(exist_ok=True)
        done = subprocess.run(["javac", "-d", str(out), "-cp", classpath(), *map(str, sources)],
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise KafkaUnavailable(f"javac failed: {done.stderr.strip()[-2000:]}")
    return out


class RealKafka:
    """One Apache Kafka broker (KRaft, combined mode) in a child JVM on 127.0.0.1."""

    def __init__(self, log_dir: str | os.PathLike | None = None, start_timeout: float = 180.0,
                 settings: dict[str, str] | None = None) -> None:
        self._scratch = Path(tempfile.mkdtemp(prefix="real-kafka-"))
        self.log_dir = Path(log_dir) if log_dir is not None else self._scratch / "logs"
        self.log_path = self._scratch / "kafka.log"
        self.start_timeout = start_timeout
        self.settings = {**KAFKA_SETTINGS, **(settings or {})}
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self.started_s: float | None = None
        self._log: IO[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    def _properties(self, controller_port: int) -> Path:
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@{HOST}:{controller_port}",
            "listeners": f"PLAINTEXT://{HOST}:{self.port},CONTROLLER://{HOST}:{controller_port}",
            "advertised.listeners": f"PLAINTEXT://{HOST}:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self.log_dir),
            **self.settings,
        }
        path = self._scratch / "server.properties"
        path.write_text("".join(f"{key}={value}\n" for key, value in props.items()))
        return path

    def start(self) -> RealKafka:
        """Format the log dir, start the JVM, return once it answers Metadata. Raises KafkaStartError."""
        from kafkette.client import wait_for_metadata
        from kafkette.local_broker import free_port

        if self.pid is not None:
            return self
        started = time.perf_counter()
        self.port = free_port()
        config = self._properties(free_port())
        self._log = open(self.log_path, "ab")
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        fmt = subprocess.run(java("kafka.tools.StorageTool", "format", "--ignore-formatted", "-t", cluster_id,
                                  "-c", str(config), *FEATURES, jvm=["-Xmx256m"], log_config="log4j2.properties"),
                             stdout=self._log, stderr=subprocess.STDOUT, timeout=120)
        if fmt.returncode != 0:
            raise KafkaStartError(f"Kafka's StorageTool format failed (exit {fmt.returncode}): {self.log_tail()}")
        self.proc = subprocess.Popen(java("kafka.Kafka", str(config), jvm=JVM_OPTIONS, log_config="log4j2.properties"),
                                     stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        atexit.register(self.stop)
        try:
            self._wait_ready(wait_for_metadata, started)
        except BaseException:
            self.stop()
            raise
        self.started_s = time.perf_counter() - started
        return self

    def warm_up(self, timeout: float = 120.0) -> None:
        """Wait until the group and transaction coordinators answer (see `wait_for_coordinators`)."""
        wait_for_coordinators(self.bootstrap_servers, timeout)

    def _wait_ready(self, wait_for_metadata, started: float) -> None:
        while True:
            if self.proc is None or self.proc.poll() is not None:
                status = self.proc.returncode if self.proc is not None else None
                raise KafkaStartError(f"Kafka exited with status {status} during start-up: {self.log_tail()}")
            left = self.start_timeout - (time.perf_counter() - started)
            if left <= 0:
                raise KafkaStartError(f"Kafka did not answer within {self.start_timeout:g} s: {self.log_tail()}")
            try:
                wait_for_metadata(self.bootstrap_servers, timeout=min(left, 1.0))
                return
            except TimeoutError:
                continue

    def rss_mb(self) -> float | None:
        """Resident memory of the JVM now, in MB."""
        pid = self.pid
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024.0
        except (OSError, TypeError):
            pass
        return None

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM (Kafka shuts down cleanly), SIGKILL after `timeout`; the temporary dirs are removed."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        if self._log is not None:
            self._log.close()
            self._log = None
        atexit.unregister(self.stop)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self._scratch, ignore_errors=True)

    def log_tail(self, lines: int = 8) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return " | ".join(text.strip().splitlines()[-lines:]) or "(empty log)"

    def __enter__(self) -> RealKafka:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def wait_for_coordinators(bootstrap: str, timeout: float = 120.0) -> None:
    """Kafka creates __consumer_offsets and __transaction_state on first use and then loads them; until
    then its coordinators answer COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS,
    which clients retry through but raw requests in tests would not. Raises TimeoutError."""
    from kafkette.client import RawClient
    from kafkette.protocol.messages import FIND_COORDINATOR, INIT_PRODUCER_ID, OFFSET_FETCH

    checks = [
        (FIND_COORDINATOR, 3, FIND_COORDINATOR.Request(key="warm-up", key_type=0)),
        (FIND_COORDINATOR, 3, FIND_COORDINATOR.Request(key="warm-up", key_type=1)),
        (INIT_PRODUCER_ID, 4, INIT_PRODUCER_ID.Request(transactional_id="warm-up", transaction_timeout_ms=60000,
                                                        producer_id=-1, producer_epoch=-1)),
        (OFFSET_FETCH, 7, OFFSET_FETCH.Request(group_id="warm-up", topics=None, require_stable=True)),
    ]
    deadline = time.monotonic() + timeout
    with RawClient(bootstrap, client_id="conformance-warm-up") as raw:
        for api, version, body in checks:
            while (error := raw.request(api, version, body).error_code) != 0:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{api.name} still answers error {error} after {timeout:g} s")
                time.sleep(0.1)


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop Kafka on SIGTERM too, not only on Ctrl-C
    with RealKafka() as kafka:
        kafka.warm_up()
        print(f"Apache Kafka {kafka_version()} at {kafka.bootstrap_servers} (started in {kafka.started_s:.1f} s, "
              f"RSS {kafka.rss_mb():.0f} MB); Ctrl-C stops it", flush=True)
        try:
            while kafka.pid is not None:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    sys.exit(main())
