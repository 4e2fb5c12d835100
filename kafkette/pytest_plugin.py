"""pytest fixtures giving tests a Kafka broker; registered through the `pytest11` entry point.

- `kafka_broker` (session): a kafkette broker (`LocalBroker`) on a free loopback port with
  a temporary data dir and the admin API on, so tests can add fault rules
  (`kafka_broker.faults.add(...)`) and read the request log (`kafka_broker.requests()`);
  each pytest-xdist worker gets its own.
- `kafka_topic` (function): a new one-partition topic with a unique name.
- `kafka_broker_settings` (session): `kafkette serve` settings for that broker, e.g.
  `{"transaction_abort_interval_ms": 200}`; override it in a conftest.py. With
  `{"brokers": 3}` the broker is a simulated cluster of three, which `kafka_broker.cluster`
  controls (brokers down and up, leaders and coordinators moved).
- `kafka_certificates` (session): a CA, a broker and a client certificate in a temporary directory
  (`kafkette.certs`). A TLS and SASL broker for the session, in a conftest.py:

      @pytest.fixture(scope="session")
      def kafka_broker_settings(kafka_certificates):
          return {"listeners": ["SASL_SSL"], "sasl_user": ["alice:secret"], **kafka_certificates.broker_settings()}

  and its clients take `kafka_broker.client_config()` (bootstrap servers, TLS and SASL properties).

With `--kafka-bootstrap HOST:PORT` (or `KAFKETTE_TEST_BOOTSTRAP`) nothing is started: the
fixtures use that cluster (Apache Kafka, Redpanda, ...) and what needs the broker's
process (`restart`, `kill`, `data_dir`, `log_path`, `faults`, `requests`, `cluster`) skips the test.

`@pytest.mark.kafkette_only("reason")` marks a test that only kafkette can pass (it kills or
restarts a broker of its own, reads its data dir or log, or uses a kafkette-only setting):
under an external bootstrap it is skipped with that reason.

Imports only pytest, the standard library and kafkette.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from typing import Any, Iterator, NoReturn

import pytest

from kafkette.certs import Certificates, create_certificates
from kafkette.local_broker import LocalBroker

BOOTSTRAP_ENV = "KAFKETTE_TEST_BOOTSTRAP"


def external_bootstrap(config: pytest.Config) -> str | None:
    """The cluster the tests run against instead of kafkette, or None."""
    return config.getoption("kafka_bootstrap") or os.environ.get(BOOTSTRAP_ENV) or None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "kafkette_only(reason): the test needs kafkette itself (its process, data "
                                       "dir, log or a kafkette-only setting); skipped under --kafka-bootstrap")


def pytest_runtest_setup(item: pytest.Item) -> None:
    marker = item.get_closest_marker("kafkette_only")
    if marker is None:
        return
    reason = marker.args[0] if marker.args else marker.kwargs.get("reason")
    if not reason:
        raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.kafkette_only needs a reason, "
                                f"e.g. @pytest.mark.kafkette_only(\"kills the broker\")")
    bootstrap = external_bootstrap(item.config)
    if bootstrap:
        pytest.skip(f"kafkette only ({reason}); the tests run against {bootstrap}")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("kafkette").addoption(
        "--kafka-bootstrap", metavar="HOST:PORT", default=None,
        help=f"run the kafka_broker tests against this cluster instead of starting kafkette (env {BOOTSTRAP_ENV})")


class ExternalCluster:
    """A cluster the fixtures did not start, with LocalBroker's interface."""

    def __init__(self, bootstrap_servers: str) -> None:
        self.bootstrap_servers = bootstrap_servers

    def client_config(self) -> dict[str, str]:
        return {"bootstrap.servers": self.bootstrap_servers}

    def create_topic(self, name: str, partitions: int = 1, config: dict[str, str] | None = None) -> str:
        """Create a topic (CreateTopics, as an admin client would); returns its name."""
        from kafkette.client import create_topic  # the protocol is loaded only by tests that use it

        create_topic(self.bootstrap_servers, name, partitions, config)
        return name

    def _skip(self, what: str) -> NoReturn:
        pytest.skip(f"{what} needs the broker process that kafka_broker starts, but the tests run against "
                    f"{self.bootstrap_servers} (--kafka-bootstrap or {BOOTSTRAP_ENV})")

    def restart(self) -> NoReturn:
        self._skip("restart()")

    def kill(self) -> NoReturn:
        self._skip("kill()")

    @property
    def faults(self) -> NoReturn:
        self._skip("faults")

    def requests(self, *args: Any, **kwargs: Any) -> NoReturn:
        self._skip("requests()")

    @property
    def cluster(self) -> NoReturn:
        self._skip("cluster")

    @property
    def data_dir(self) -> Path:
        self._skip("data_dir")

    @property
    def log_path(self) -> Path:
        self._skip("log_path")


def unique_topic_name(hint: str) -> str:
    """A legal topic name that starts like `hint` and is new on any cluster."""
    readable = re.sub(r"[^a-zA-Z0-9._-]+", "-", hint).strip("-.")[:200]
    return f"{readable or 'topic'}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def kafka_broker_settings() -> dict[str, Any]:
    """`kafkette serve` settings for the session's broker (no effect with --kafka-bootstrap)."""
    return {}


@pytest.fixture(scope="session")
def kafka_certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A CA, a broker certificate for localhost/127.0.0.1 and a client certificate (CN=client)."""
    return create_certificates(tmp_path_factory.mktemp("kafkette-certs"))


@pytest.fixture(scope="session")
def kafka_broker(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                 kafka_broker_settings: dict[str, Any]) -> Iterator[LocalBroker | ExternalCluster]:
    bootstrap = external_bootstrap(request.config)
    if bootstrap:
        yield ExternalCluster(bootstrap)
        return
    settings = {"admin_api": True, **kafka_broker_settings}
    with LocalBroker(tmp_path_factory.mktemp("kafkette") / "data", **settings) as broker:
        yield broker


@pytest.fixture
def kafka_topic(kafka_broker: LocalBroker | ExternalCluster, request: pytest.FixtureRequest) -> str:
    return kafka_broker.create_topic(unique_topic_name(request.node.name))
