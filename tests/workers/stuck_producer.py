"""A transactional producer that opens a transaction, writes to it, and waits to be killed.

    python -m tests.workers.stuck_producer BOOTSTRAP TOPIC TRANSACTIONAL_ID TIMEOUT_MS

Prints "open" once its records are in the log; a test SIGKILLs it then, leaving the
transaction open until TIMEOUT_MS (transaction.timeout.ms) runs out at the coordinator. Never exits by itself
before 5 minutes.
"""

from __future__ import annotations

import sys
import time

from confluent_kafka import Producer


def run(bootstrap: str, topic: str, transactional_id: str, timeout_ms: int) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": transactional_id,
                         "transaction.timeout.ms": timeout_ms})
    producer.init_transactions(30)
    producer.begin_transaction()
    for i in range(3):
        producer.produce(topic, key=b"stuck", value=b"stuck-%d" % i, partition=0)
    if producer.flush(30) != 0:
        sys.exit("records not delivered")
    print("open", flush=True)
    time.sleep(300)


if __name__ == "__main__":
    run(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
