"""The broker's own cost per Produce and Fetch, in process, without sockets or clients.

    python bench/hot_path.py [--iterations N] [--records R] [--size B] [--compression none|lz4|zstd] [--values text]
                             [--faults] [--acls]

Feeds pre-built request frames to a `Connection` whose transport drops what it
is given, on a broker with a temporary data directory (`--fsync never`), and
prints microseconds per request and per record. With `--acls` the broker checks ACLs (`--authorizer
acl`, nothing allowed without one) and one allows the client to write and read. Under `--instructions` it runs
itself twice under valgrind's callgrind (N and 2N iterations) and prints the
instructions per request, which do not depend on what else the machine is doing.
`--faults` installs the fault injector as `--admin-api` does (request log on, no
rules), to show what it costs; without it nothing is installed.
Figures only; nothing here asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import random
import re
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kafkette.broker import handlers  # noqa: F401  (registers every handler)
from kafkette.broker.cli import configure_logging
from kafkette.broker.config import BrokerConfig
from kafkette.broker.connection import Connection
from kafkette.broker.state import Broker
from kafkette.protocol import records as rec
from kafkette.protocol.framing import RequestHeader, encode_request
from kafkette.protocol.messages import FETCH, PRODUCE

TOPIC, PARTITIONS = "hot", 4
CORRELATION_ID = struct.Struct(">i")
CODECS = {"none": rec.NONE, "gzip": rec.GZIP, "snappy": rec.SNAPPY, "lz4": rec.LZ4, "zstd": rec.ZSTD}


class NullTransport:
    """Takes whatever the connection writes and drops it."""

    def __init__(self) -> None:
        self.bytes = 0

    def writelines(self, chunks) -> None:
        self.bytes += sum(len(c) for c in chunks)

    def get_extra_info(self, name: str):
        return ("127.0.0.1", 40000) if name == "peername" else None

    def close(self) -> None:
        pass

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass


def record_values(records: int, size: int, kind: str) -> list[bytes]:
    """`zeros`, or `text`: JSON-like lines that compress about as well as real payloads (3-6x)."""
    if kind == "zeros":
        return [bytes(size)] * records
    rng = random.Random(records * 100_003 + size)
    words = [rng.randbytes(rng.randint(2, 9)).hex().encode() for _ in range(200)]
    values = []
    for i in range(records):
        line = b'{"id":%d,"tags":[' % i
        while len(line) < size:
            line += b'"' + rng.choice(words) + b'",'
        values.append(line[:size])
    return values


def produce_batch(records: int, size: int, codec: int, values: str) -> bytes:
    return rec.build_batch([rec.NewRecord(None, value, (), 1_700_000_000_000 + i)
                            for i, value in enumerate(record_values(records, size, values))],
                           timestamp_ms=1_700_000_000_000, compression=codec)


def produce_frames(count: int, batch: bytes) -> list[bytes]:
    """`count` Produce frames of one batch per partition, built once (only the correlation id differs)."""
    R = PRODUCE.Request
    body = R(transactional_id=None, acks=1, timeout_ms=30000, topic_data=[R.TopicProduceData(
        name=TOPIC, partition_data=[R.PartitionProduceData(index=p, records=batch) for p in range(PARTITIONS)])])
    frame = bytearray(encode_request(RequestHeader(PRODUCE.key, 9, 0, "hot-path"), body))
    frames = []
    for correlation_id in range(count):
        CORRELATION_ID.pack_into(frame, 8, correlation_id)  # after size, api key and api version
        frames.append(bytes(frame))
    return frames


def fetch_frame(correlation_id: int, offset: int, max_bytes: int) -> bytes:
    """A consumer's next Fetch: from `offset` in every partition, about one batch each."""
    R = FETCH.Request
    body = R(replica_id=-1, max_wait_ms=0, min_bytes=1, max_bytes=50 << 20, isolation_level=0, session_id=0,
             session_epoch=-1, topics=[R.FetchTopic(topic=TOPIC, partitions=[
                 R.FetchPartition(partition=p, current_leader_epoch=-1, fetch_offset=offset, log_start_offset=-1,
                                  partition_max_bytes=max_bytes) for p in range(PARTITIONS)])],
             forgotten_topics_data=[], rack_id="")
    return encode_request(RequestHeader(FETCH.key, 12, correlation_id, "hot-path"), body)


def connection(broker: Broker) -> Connection:
    """A Connection of this version of the code (its constructor grew a listener argument)."""
    if len(inspect.signature(Connection).parameters) == 1:
        conn = Connection(broker)  # type: ignore[call-arg]
    else:
        from kafkette.broker.listeners import Listener
        conn = Connection(broker, Listener("PLAINTEXT", "PLAINTEXT", 1, ("127.0.0.1", 9092)))
    conn.connection_made(NullTransport())  # type: ignore[arg-type]
    return conn


def run(iterations: int, records: int, size: int, codec: int, fetch_too: bool = True,
        values: str = "zeros", faults: bool = False, acls: bool = False) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="kafkette-hot-") as tmp:
        checked = {"authorizer": "acl", "allow_everyone_if_no_acl_found": False} if acls else {}
        broker = Broker(BrokerConfig(data_dir=Path(tmp), fsync="never", **checked))  # type: ignore[arg-type]
        broker.open()
        if faults:
            from kafkette.broker.faults import FaultInjector

            FaultInjector().install(broker.dispatcher)
        broker.create_topic(TOPIC, PARTITIONS)
        if acls:
            allow_anonymous(broker)
        conn = connection(broker)
        batch = produce_batch(records, size, codec, values)
        produce = produce_frames(iterations, batch)
        batch_bytes = len(batch)
        fetch = [fetch_frame(i, i * records, batch_bytes) for i in range(iterations if fetch_too else 0)]
        started = time.perf_counter()
        for frame in produce:
            conn.data_received(frame)
        produced = time.perf_counter() - started
        started = time.perf_counter()
        for frame in fetch:
            conn.data_received(frame)
        fetched = time.perf_counter() - started
        broker.close()
    per_request = records * PARTITIONS
    return {"produce_us": produced / iterations * 1e6, "produce_us_per_record": produced / iterations / per_request * 1e6,
            "fetch_us": fetched / max(len(fetch), 1) * 1e6}


def allow_anonymous(broker: Broker) -> None:
    """ACLs letting the PLAINTEXT client (User:ANONYMOUS) write and read the topic."""
    from kafkette.broker.auth.acl import AclBinding, Operation, PatternType, Permission, ResourceType

    broker.acls.create([AclBinding(ResourceType.TOPIC, TOPIC, PatternType.LITERAL, "User:ANONYMOUS", "*", op,
                                   Permission.ALLOW) for op in (Operation.WRITE, Operation.READ)], 0)


def instructions(args: argparse.Namespace, iterations: int, *extra: str) -> int:
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__,
               "--iterations", str(iterations), "--records", str(args.records), "--size", str(args.size),
               "--compression", args.compression, "--values", args.values, *(["--faults"] if args.faults else []),
               *(["--acls"] if args.acls else []), *extra]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stderr
    return int(re.search(r"Collected : (\d+)", out).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--records", type=int, default=100, help="records per partition batch (4 partitions)")
    parser.add_argument("--size", type=int, default=100, help="bytes per record value")
    parser.add_argument("--compression", choices=sorted(CODECS), default="none")
    parser.add_argument("--values", choices=("zeros", "text"), default="zeros",
                        help="record values: zero bytes, or JSON-like text that compresses 3-6x")
    parser.add_argument("--acls", action="store_true", help="with the authorizer on, and ACLs allowing the client")
    parser.add_argument("--instructions", action="store_true", help="count instructions with callgrind instead")
    parser.add_argument("--faults", action="store_true", help="with the fault injector installed (no rules)")
    parser.add_argument("--produce-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    configure_logging("warning")
    label = f"{PARTITIONS} x {args.records} records x {args.size} B {args.values}, {args.compression}" + \
        (", fault injector" if args.faults else "") + (", ACLs" if args.acls else "")
    if args.instructions:
        n = max(args.iterations // 10, 50)
        produce = (instructions(args, 2 * n, "--produce-only") - instructions(args, n, "--produce-only")) / n
        both = (instructions(args, 2 * n) - instructions(args, n)) / n
        print(f"{label}: {produce:,.0f} instructions per Produce, {both - produce:,.0f} per Fetch "
              f"(callgrind, {n} vs {2 * n} iterations)")
        return
    figures = run(args.iterations, args.records, args.size, CODECS[args.compression], not args.produce_only,
                  args.values, args.faults, args.acls)
    print(f"{label}: Produce {figures['produce_us']:.1f} us ({figures['produce_us_per_record']:.3f} us/record), "
          f"Fetch {figures['fetch_us']:.1f} us")


if __name__ == "__main__":
    asyncio.set_event_loop(asyncio.new_event_loop())
    main()
