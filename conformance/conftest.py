"""Fixtures of the conformance suite: the real Kafka, a kafkette beside it, and a recording kafkette.

- `real_kafka`: the bootstrap of Apache Kafka: the `--kafka-bootstrap` cluster that `make conformance`
  started (conformance/run.py), else one started here for the session (skipped without Java/Maven);
- `kafkette`: a kafkette with the settings of the tests' broker (tests/conftest.py);
- `recorder`: a kafkette that advertises a CapturingProxy's port, so every request of every
  connection a client opens passes through the proxy.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from conformance.kafka import KafkaStartError, KafkaUnavailable, RealKafka, missing_tools, wait_for_coordinators
from conformance.replay import CapturingProxy
from kafkette.local_broker import LocalBroker, free_port
from kafkette.pytest_plugin import external_bootstrap
from tests.conftest import TEST_BROKER_SETTINGS


@pytest.fixture(scope="session")
def real_kafka(request: pytest.FixtureRequest) -> Iterator[str]:
    bootstrap = external_bootstrap(request.config)
    if bootstrap:
        wait_for_coordinators(bootstrap)
        yield bootstrap
        return
    problem = missing_tools()
    if problem:
        pytest.skip(problem)
    try:
        kafka = RealKafka().start()
    except (KafkaUnavailable, KafkaStartError) as e:
        pytest.fail(str(e))
    try:
        wait_for_coordinators(kafka.bootstrap_servers)
        yield kafka.bootstrap_servers
    finally:
        kafka.close()


@pytest.fixture(scope="session")
def kafkette(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with LocalBroker(tmp_path_factory.mktemp("kafkette") / "data", **TEST_BROKER_SETTINGS) as broker:
        wait_for_coordinators(broker.bootstrap_servers)
        yield broker.bootstrap_servers


@pytest.fixture(scope="session")
def brokers(real_kafka: str, kafkette: str) -> dict[str, str]:
    """Both brokers under test, Kafka first: the control."""
    return {"kafka": real_kafka, "kafkette": kafkette}


@pytest.fixture(scope="session")
def recorder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CapturingProxy]:
    port = free_port()
    proxy = CapturingProxy(port).start()
    broker = LocalBroker(tmp_path_factory.mktemp("recorder") / "data", port=port, advertised_port=proxy.port,
                         **TEST_BROKER_SETTINGS)
    try:
        broker.start()
        proxy.bootstrap_servers = f"127.0.0.1:{proxy.port}"  # type: ignore[attr-defined]
        yield proxy
    finally:
        proxy.stop()
        broker.close()
