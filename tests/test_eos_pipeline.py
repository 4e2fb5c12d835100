"""The exactly-once pipeline survives SIGKILL of its process: every input yields exactly one output."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time

from confluent_kafka import TopicPartition

from tests.clients import consumer, create_topic, produce_and_flush
from tests.conftest import ROOT, unique

MESSAGES = 20_000
PARTITIONS = 4
KILLS = 3


def start_pipeline(bootstrap: str, source: str, sink: str, group: str, transactional_id: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.workers.eos_pipeline", bootstrap, source, sink, group,
                             transactional_id], cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def committed_total(bootstrap: str, group: str, source: str) -> int:
    c = consumer(bootstrap, **{"group.id": group})
    try:
        offsets = c.committed([TopicPartition(source, p) for p in range(PARTITIONS)], timeout=10)
        return sum(max(tp.offset, 0) for tp in offsets)
    finally:
        c.close()


def read_committed_output(bootstrap: str, sink: str) -> list[bytes]:
    c = consumer(bootstrap, **{"isolation.level": "read_committed", "enable.partition.eof": True})
    c.assign([TopicPartition(sink, p, 0) for p in range(PARTITIONS)])
    out, at_end = [], set()
    deadline = time.monotonic() + 60
    try:
        while len(at_end) < PARTITIONS and time.monotonic() < deadline:
            for m in c.consume(1000, 0.5):
                if m.error():
                    at_end.add(m.partition())
                else:
                    out.append(m.value())
    finally:
        c.close()
    return out


def test_pipeline_killed_mid_run_yields_exactly_one_output_per_input(broker):
    seed = int(os.environ.get("KAFKETTE_EOS_SEED", random.randrange(1 << 30)))
    print(f"eos seed={seed}")
    rng = random.Random(seed)
    source, sink = create_topic(broker.bootstrap_servers, unique("eos-in"), PARTITIONS), unique("eos-out")
    create_topic(broker.bootstrap_servers, sink, PARTITIONS)
    group, txn_id = unique("eos-group"), unique("eos-txn")
    produce_and_flush(broker.bootstrap_servers, source, ({"value": b"%d" % i, "partition": i % PARTITIONS}
                                                 for i in range(MESSAGES)))

    kills = 0
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        pipeline = start_pipeline(broker.bootstrap_servers, source, sink, group, txn_id)
        try:
            if kills < KILLS:
                time.sleep(rng.uniform(1.0, 3.0))
                pipeline.kill()
                kills += 1
                continue
            while committed_total(broker.bootstrap_servers, group, source) < MESSAGES and time.monotonic() < deadline:
                assert pipeline.poll() is None, f"the pipeline exited with {pipeline.returncode}"
                time.sleep(0.5)
            break
        finally:
            if pipeline.poll() is None:
                pipeline.kill()
            pipeline.wait(10)

    assert kills == KILLS
    assert committed_total(broker.bootstrap_servers, group, source) == MESSAGES
    out = read_committed_output(broker.bootstrap_servers, sink)
    expected = {b"out-%d" % i for i in range(MESSAGES)}
    assert len(out) == MESSAGES, f"{len(out)} outputs for {MESSAGES} inputs (seed {seed})"
    assert set(out) == expected
