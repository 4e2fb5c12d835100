"""`--storage memory`: a throwaway broker that serves transactions like the disk one and writes nothing."""

from __future__ import annotations

import pytest
from confluent_kafka import Producer

from tests.clients import consume_assigned, create_topic, values
from kafkette.local_broker import LocalBroker
from tests.conftest import unique

pytestmark = pytest.mark.kafkette_only("kafkette's --storage memory")


def test_a_memory_broker_commits_and_aborts_transactions_and_keeps_nothing(tmp_path):
    data_dir = tmp_path / "data"
    broker = LocalBroker(data_dir, storage="memory").start()
    try:
        topic = create_topic(broker.bootstrap_servers, unique("mem"))
        producer = Producer({"bootstrap.servers": broker.bootstrap_servers, "transactional.id": unique("tx")})
        producer.init_transactions(15)
        for value, commit in ((b"kept", True), (b"dropped", False), (b"kept too", True)):
            producer.begin_transaction()
            producer.produce(topic, value=value)
            producer.commit_transaction(15) if commit else producer.abort_transaction(15)
        got = consume_assigned(broker.bootstrap_servers, topic, 2, **{"isolation.level": "read_committed"})
        assert values(got) == [b"kept", b"kept too"]
        assert not data_dir.exists() or not any(data_dir.iterdir())
        broker.restart()
        assert create_topic(broker.bootstrap_servers, topic) == topic  # gone with the process: it can be made again
    finally:
        broker.stop()
