"""The workloads: one function each, given a bootstrap address, returning a dict of figures.

Every function is bounded: loops stop at a soft deadline and report what they
did (with a "partial" note), and `run_bounded` runs each one in a forked child
that is killed at a hard timeout, so a broker that never answers cannot hang
the run. Figures only — nothing here asserts.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import time
import traceback
import uuid
from collections import deque

from confluent_kafka import KafkaException, Producer, Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from bench import brokers

MB = 1_000_000.0


# ---------------------------------------------------------------------- running bounded

def _child(conn, fn, kwargs) -> None:
    try:
        result = fn(**kwargs)
    except BaseException as e:  # noqa: BLE001 - every failure becomes an "n/a" figure
        detail = f"{type(e).__name__}: {e}".strip()
        result = {"error": detail.splitlines()[0][:200] if detail else type(e).__name__,
                  "traceback": traceback.format_exc()[-2000:]}
    try:
        conn.send(result)
    finally:
        conn.close()
        os._exit(0)  # skip librdkafka destructors that can block on a dead broker


def run_bounded(fn, timeout: float, **kwargs) -> dict:
    """Run fn(**kwargs) in a forked child; {"error": ...} on exception or after `timeout` seconds."""
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, fn, kwargs), daemon=True)
    started = time.perf_counter()
    proc.start()
    child.close()
    result = None
    if parent.poll(timeout):
        try:
            result = parent.recv()
        except EOFError:
            result = None
    proc.join(5)
    if proc.is_alive():
        proc.kill()
        proc.join(5)
    if result is None:
        if time.perf_counter() - started >= timeout:
            result = {"error": f"timeout after {timeout:.0f}s"}
        else:
            result = {"error": f"workload process died (exit {proc.exitcode})"}
    result.setdefault("wall_s", time.perf_counter() - started)
    return result


# ---------------------------------------------------------------------- helpers

def percentile(values, p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create_topics(bootstrap: str, topics: dict[str, int], timeout: float = 20.0) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(name, parts, 1) for name, parts in topics.items()],
                                  operation_timeout=timeout, request_timeout=timeout)
    for future in futures.values():
        future.result(timeout=timeout)
    # wait until Metadata shows every partition (some brokers create asynchronously)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        md = admin.list_topics(timeout=timeout)
        if all(name in md.topics and len(md.topics[name].partitions) == parts and md.topics[name].error is None
               for name, parts in topics.items()):
            return
        time.sleep(0.05)
    raise TimeoutError(f"topics {list(topics)} not in Metadata after {timeout:.0f}s")


def _producer(bootstrap: str, conf: dict | None = None) -> Producer:
    base = {"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5}
    base.update(conf or {})
    return Producer(base)


def _errors_sink(errors: list):
    def on_error(err):
        if len(errors) < 20:
            errors.append(str(err))
    return on_error


# ---------------------------------------------------------------------- produce / consume

def produce(bootstrap: str, count: int, size: int, partitions: int = 4, topic: str | None = None,
            conf: dict | None = None, deadline_s: float = 120.0, create: bool = True) -> dict:
    """`count` messages of `size` bytes round-robin over `partitions`; throughput and delivery latency.

    Delivery latency: per message, send timestamp (just before produce()) to its delivery
    callback. Callbacks of one partition come in send order, so a FIFO per partition pairs them.
    """
    topic = topic or unique("bench-produce")
    if create:
        create_topics(bootstrap, {topic: partitions})
    errors: list[str] = []
    config = {"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5, "error_cb": _errors_sink(errors)}
    config.update(conf or {})
    producer = Producer(config)
    sent = [deque() for _ in range(partitions)]
    latencies: list[float] = []
    failed = [0, None]
    clock = time.perf_counter

    def on_delivery(err, msg):
        t0 = sent[msg.partition()].popleft()
        if err is not None:
            failed[0] += 1
            failed[1] = failed[1] or str(err)
        else:
            latencies.append(clock() - t0)

    value = os.urandom(size)
    started = clock()
    deadline = started + deadline_s
    produced = 0
    partial = False
    for i in range(count):
        part = i % partitions
        while True:
            try:
                sent[part].append(clock())
                producer.produce(topic, value, partition=part, on_delivery=on_delivery)
                break
            except BufferError:
                sent[part].pop()
                producer.poll(0.001)
        produced += 1
        if i % 1000 == 0:
            producer.poll(0)
            if clock() > deadline:
                partial = True
                break
    remaining = producer.flush(max(1.0, deadline - clock() + 10.0))
    elapsed = clock() - started
    delivered = len(latencies)
    if delivered == 0:
        raise RuntimeError(f"nothing delivered; {failed[1] or (errors[0] if errors else 'no error reported')}")
    out = {
        "msgs_per_s": delivered / elapsed,
        "mb_per_s": delivered * size / MB / elapsed,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "delivered": delivered,
        "seconds": elapsed,
        "topic": topic,
    }
    notes = []
    if partial or remaining or failed[0]:
        notes.append(f"partial: {delivered} of {count} delivered in {elapsed:.1f}s")
    if failed[0]:
        notes.append(f"{failed[0]} failed ({failed[1]})")
    if notes:
        out["note"] = "; ".join(notes)
    return out


def consume(bootstrap: str, topic: str, partitions: int, expected: int, deadline_s: float = 120.0) -> dict:
    """assign() every partition from offset 0 and read `expected` messages."""
    errors: list[str] = []
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("bench-assign"),
                         "enable.auto.commit": False, "enable.partition.eof": False,
                         # librdkafka's defaults stop prefetching at 100k queued messages and then
                         # back off 1 s: that caps reads at ~250k msgs/s on any broker, so lift both
                         "queued.min.messages": 1_000_000, "fetch.queue.backoff.ms": 0,
                         "error_cb": _errors_sink(errors)})
    clock = time.perf_counter
    started = clock()
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    got = nbytes = 0
    last = started
    deadline = started + deadline_s
    while got < expected and clock() < deadline:
        for msg in consumer.consume(10000, timeout=0.5):
            if msg.error() is None:
                got += 1
                nbytes += len(msg.value())
                last = clock()
    elapsed = last - started
    if got == 0:
        raise RuntimeError(f"no message read in {deadline_s:.0f}s; {errors[0] if errors else 'no error reported'}")
    out = {"msgs_per_s": got / elapsed, "mb_per_s": nbytes / MB / elapsed, "read": got, "seconds": elapsed}
    if got < expected:
        out["note"] = f"partial: {got} of {expected} read in {deadline_s:.0f}s"
    return out


# ---------------------------------------------------------------------- transactions

def txn_sequential(bootstrap: str, count: int, deadline_s: float = 90.0) -> dict:
    """`count` transactions of one 100 B message each, one after another; commit latency."""
    topic = unique("bench-txn-seq")
    create_topics(bootstrap, {topic: 4})
    producer = _producer(bootstrap, {"transactional.id": unique("bench-seq"), "linger.ms": 0})
    producer.init_transactions(30)
    value = os.urandom(100)
    commits: list[float] = []
    clock = time.perf_counter
    started = clock()
    deadline = started + deadline_s
    for i in range(count):
        producer.begin_transaction()
        producer.produce(topic, value, partition=i % 4)
        t0 = clock()
        producer.commit_transaction(30)
        commits.append(clock() - t0)
        if clock() > deadline:
            break
    elapsed = clock() - started
    out = {"txn_per_s": len(commits) / elapsed, "commit_p50_ms": percentile(commits, 50) * 1000,
           "commit_p99_ms": percentile(commits, 99) * 1000, "transactions": len(commits)}
    if len(commits) < count:
        out["note"] = f"partial: {len(commits)} of {count} in {elapsed:.1f}s"
    return out


def txn_batches(bootstrap: str, transactions: int, per_txn: int, deadline_s: float = 90.0) -> dict:
    """`transactions` transactions of `per_txn` 100 B messages over 2 topics x 2 partitions."""
    topics = [unique("bench-txn-a"), unique("bench-txn-b")]
    create_topics(bootstrap, {t: 2 for t in topics})
    targets = [(t, p) for t in topics for p in range(2)]
    producer = _producer(bootstrap, {"transactional.id": unique("bench-batch")})
    producer.init_transactions(30)
    value = os.urandom(100)
    clock = time.perf_counter
    started = clock()
    deadline = started + deadline_s
    done = 0
    for _ in range(transactions):
        producer.begin_transaction()
        for i in range(per_txn):
            topic, part = targets[i % 4]
            while True:
                try:
                    producer.produce(topic, value, partition=part)
                    break
                except BufferError:
                    producer.poll(0.001)
        producer.commit_transaction(60)
        done += 1
        if clock() > deadline:
            break
    elapsed = clock() - started
    out = {"msgs_per_s": done * per_txn / elapsed, "txn_per_s": done / elapsed, "transactions": done}
    if done < transactions:
        out["note"] = f"partial: {done} of {transactions} in {elapsed:.1f}s"
    return out


# ---------------------------------------------------------------------- consumer groups

GROUP_APIS = {10: "FindCoordinator", 11: "JoinGroup", 12: "Heartbeat", 13: "LeaveGroup", 14: "SyncGroup",
              8: "OffsetCommit", 9: "OffsetFetch"}
EOS_APIS = {**GROUP_APIS, 25: "AddOffsetsToTxn", 28: "TxnOffsetCommit"}


def _missing_apis(bootstrap: str, wanted: dict[int, str]) -> str:
    try:
        served = brokers.api_versions(int(bootstrap.rsplit(":", 1)[1]))
    except OSError as e:
        return f"(ApiVersions failed: {e})"
    missing = [name for key, name in wanted.items() if key not in served]
    return f"broker does not advertise {', '.join(missing)}" if missing else ""


def _fill(bootstrap: str, topic: str, partitions: int, count: int, size: int = 100) -> None:
    producer = _producer(bootstrap)
    value = os.urandom(size)
    for i in range(count):
        while True:
            try:
                producer.produce(topic, value, key=str(i).encode(), partition=i % partitions)
                break
            except BufferError:
                producer.poll(0.001)
    if producer.flush(60):
        raise RuntimeError("could not write the input messages")


def _group_consumer(bootstrap: str, group: str, errors: list, **extra) -> Consumer:
    conf = {"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
            "enable.auto.commit": False, "enable.partition.eof": False, "error_cb": _errors_sink(errors),
            # the same on both brokers; with librdkafka's defaults (45 s / 300 s) Tansu holds the
            # second JoinGroup for more than 20 s, with these it answers after ~3 s
            "session.timeout.ms": 6000, "max.poll.interval.ms": 10000}
    conf.update(extra)
    return Consumer(conf)


def group_first_message(bootstrap: str, runs: int, per_run_timeout: float = 20.0) -> dict:
    """subscribe() -> first message for a lone consumer in a brand-new group; median of `runs`."""
    topic = unique("bench-group")
    create_topics(bootstrap, {topic: 4})
    _fill(bootstrap, topic, 4, 100)
    times: list[float] = []
    for _ in range(runs):
        errors: list[str] = []
        consumer = _group_consumer(bootstrap, unique("bench-g"), errors)
        clock = time.perf_counter
        t0 = clock()
        consumer.subscribe([topic])
        first = None
        while clock() - t0 < per_run_timeout:
            msg = consumer.poll(0.05)
            if msg is not None and msg.error() is None:
                first = clock() - t0
                break
            if msg is not None and msg.error() is not None and len(errors) < 20:
                errors.append(str(msg.error()))
        if first is None:
            reason = [f"no message within {per_run_timeout:.0f}s of subscribe()"]
            missing = _missing_apis(bootstrap, GROUP_APIS)
            if missing:
                reason.append(missing)
            if errors:
                reason.append(errors[-1])
            raise RuntimeError("; ".join(reason))
        consumer.close()
        times.append(first)
    return {"first_msg_ms": statistics.median(times) * 1000, "runs": len(times),
            "min_ms": min(times) * 1000, "max_ms": max(times) * 1000}


def eos_pipeline(bootstrap: str, count: int, batch: int = 500, deadline_s: float = 90.0) -> dict:
    """Consume -> transform -> produce with exactly-once: a transaction per poll batch of `batch`."""
    src, dst = unique("bench-eos-in"), unique("bench-eos-out")
    create_topics(bootstrap, {src: 4, dst: 4})
    _fill(bootstrap, src, 4, count)
    errors: list[str] = []
    consumer = _group_consumer(bootstrap, unique("bench-eos"), errors, **{"isolation.level": "read_committed"})
    producer = _producer(bootstrap, {"transactional.id": unique("bench-eos"), "error_cb": _errors_sink(errors)})
    producer.init_transactions(30)
    clock = time.perf_counter
    t0 = clock()
    consumer.subscribe([src])
    deadline = t0 + deadline_s
    processed = 0
    first = last = None
    while processed < count and clock() < deadline:
        msgs = [m for m in consumer.consume(batch, timeout=0.5) if m.error() is None]
        if not msgs:
            if first is None and clock() - t0 > 20:
                missing = _missing_apis(bootstrap, EOS_APIS)
                raise RuntimeError("; ".join(x for x in ("no input message within 20s of subscribe()", missing,
                                                         errors[-1] if errors else "") if x))
            continue
        if first is None:
            first = clock()
        producer.begin_transaction()
        for m in msgs:
            while True:
                try:
                    producer.produce(dst, m.value(), key=m.key(), partition=m.partition())
                    break
                except BufferError:
                    producer.poll(0.001)
        producer.send_offsets_to_transaction(consumer.position(consumer.assignment()),
                                             consumer.consumer_group_metadata(), 30)
        producer.commit_transaction(30)
        processed += len(msgs)
        last = clock()
    if not processed:
        raise RuntimeError(f"nothing processed in {deadline_s:.0f}s; {errors[-1] if errors else ''}")
    elapsed = last - first
    out = {"msgs_per_s": processed / elapsed if elapsed > 0 else None, "processed": processed,
           "join_s": first - t0, "seconds": elapsed}
    if processed < count:
        out["note"] = f"partial: {processed} of {count} in {elapsed:.1f}s"
    try:
        consumer.close()
    except KafkaException:
        pass
    return out


# ---------------------------------------------------------------------- big log for restart

def fill_log(bootstrap: str, gigabytes: float, partitions: int = 50, size: int = 10_000,
             deadline_s: float = 240.0) -> dict:
    """Write ~`gigabytes` GB of `size`-byte messages over `partitions` partitions, big batches, fast."""
    topic = unique("bench-restart")
    create_topics(bootstrap, {topic: partitions})
    count = int(gigabytes * 1e9 / size)
    producer = _producer(bootstrap, {"linger.ms": 50, "batch.size": 1_000_000,
                                     "queue.buffering.max.kbytes": 512 * 1024})
    value = os.urandom(size)
    clock = time.perf_counter
    started = clock()
    deadline = started + deadline_s
    n = 0
    for i in range(count):
        while True:
            try:
                producer.produce(topic, value, partition=i % partitions)
                break
            except BufferError:
                producer.poll(0.005)
        n += 1
        if i % 500 == 0:
            producer.poll(0)
            if clock() > deadline:
                break
    if producer.flush(max(5.0, deadline - clock() + 30)):
        raise RuntimeError("could not flush the fill")
    elapsed = clock() - started
    out = {"topic": topic, "messages": n, "bytes": n * size, "mb_per_s": n * size / MB / elapsed,
           "seconds": elapsed}
    if n < count:
        out["note"] = f"partial: {n * size / 1e9:.2f} of {gigabytes:.2f} GB in {elapsed:.0f}s"
    return out


def top_up(bootstrap: str, topic: str, partitions: int, count: int, size: int = 10_000) -> dict:
    """A few more messages into every partition, so the open segments are dirty before a SIGKILL."""
    producer = _producer(bootstrap, {"linger.ms": 20})
    value = os.urandom(size)
    for i in range(count):
        producer.produce(topic, value, partition=i % partitions)
    if producer.flush(60):
        raise RuntimeError("could not flush the top-up")
    return {"messages": count}


def log_end(bootstrap: str, topic: str, partitions: int) -> dict:
    """The sum of high watermarks over the topic: what survived a restart."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("bench-hw")})
    total = 0
    for p in range(partitions):
        _lo, hi = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
        total += hi
    return {"messages": total}
