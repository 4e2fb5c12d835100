"""The exactly-once consume-transform-produce loop, as an application runs it.

Run as a process so a test can SIGKILL it at any moment:
    python -m tests.workers.eos_pipeline BOOTSTRAP INPUT OUTPUT GROUP TRANSACTIONAL_ID
It never exits by itself; the test stops it.
"""

from __future__ import annotations

import sys

from confluent_kafka import Consumer, KafkaException, Producer

BATCH = 500


def run(bootstrap: str, source: str, sink: str, group: str, transactional_id: str) -> None:
    # Heartbeats at a third of the session, as Kafka advises: at librdkafka's default (3 s of 6) one heartbeat
    # answered NOT_COORDINATOR after a coordinator move expires the session, and the heartbeat librdkafka
    # sends as it rejoins, with no member id, is then FENCED_INSTANCE_ID, which it may take as fatal.
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "group.instance.id": "pipeline",
                         "enable.auto.commit": False, "isolation.level": "read_committed",
                         "auto.offset.reset": "earliest", "session.timeout.ms": 6000, "heartbeat.interval.ms": 2000})
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": transactional_id, "linger.ms": 5})
    producer.init_transactions(30)
    consumer.subscribe([source])
    while True:
        batch = [m for m in consumer.consume(BATCH, 0.5) if not m.error()]
        if not batch:
            continue
        producer.begin_transaction()
        for m in batch:
            producer.produce(sink, key=m.key(), value=b"out-" + m.value(), partition=m.partition())
        producer.send_offsets_to_transaction(consumer.position(consumer.assignment()),
                                             consumer.consumer_group_metadata(), 30)
        try:
            producer.commit_transaction(30)
        except KafkaException as e:
            if not e.args[0].txn_requires_abort():
                raise
            producer.abort_transaction(30)
            raise SystemExit("transaction aborted; a restart resumes from the committed offsets") from e


if __name__ == "__main__":
    run(*sys.argv[1:6])
