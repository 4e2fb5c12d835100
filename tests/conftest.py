"""Fixtures: the `kafka_broker` of kafkette's own pytest plugin (kafkette/pytest_plugin.py), under
the names these tests use, and `LocalBroker` for tests that need a broker of their own."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

from kafkette.local_broker import LocalBroker

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# Timed-out transactions are aborted within the tests' waits, consumer-protocol rebalances take a few hundred ms;
# conformance/kafka.py gives the real Kafka the same settings.
TEST_BROKER_SETTINGS = {"transaction_abort_interval_ms": 200, "group_consumer_heartbeat_interval_ms": 500,
                        "group_consumer_session_timeout_ms": 3000}


@pytest.fixture(scope="session")
def kafka_broker_settings() -> dict[str, object]:
    return dict(TEST_BROKER_SETTINGS)


@pytest.fixture(scope="session")
def broker(kafka_broker) -> LocalBroker:
    """One broker shared by the tests that only need fresh topic names."""
    return kafka_broker


@pytest.fixture
def fresh_broker(tmp_path) -> LocalBroker:
    """A broker of its own, for tests that restart or kill it."""
    with LocalBroker(tmp_path / "data") as proc:
        yield proc


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
