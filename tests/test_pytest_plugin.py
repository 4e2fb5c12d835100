"""The pytest plugin, as a project using it sees it: pytest runs in a directory of its own,
with kafkette's fixtures coming from the `pytest11` entry point of this environment.
(tests/test_wheel_install.py runs them from the installed wheel, with pytest-xdist too.)"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kafkette.local_broker import LocalBroker

PROJECT_TESTS = '''
import os
import time

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition


def test_topic_is_new_and_takes_messages(kafka_broker, kafka_topic):
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap_servers})
    producer.produce(kafka_topic, b"hello")
    assert producer.flush(30) == 0
    low, high = watermarks(kafka_broker, kafka_topic)
    assert (low, high) == (0, 1)


def test_create_topic_with_partitions(kafka_broker, kafka_topic):
    name = kafka_broker.create_topic(kafka_topic + "-wide", partitions=3, config={"retention.ms": "60000"})
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap_servers})
    producer.produce(name, b"p2", partition=2)
    assert producer.flush(30) == 0
    assert watermarks(kafka_broker, name, 2) == (0, 1)


def test_restart_keeps_data(kafka_broker, kafka_topic):
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap_servers})
    producer.produce(kafka_topic, b"kept")
    assert producer.flush(30) == 0
    kafka_broker.kill()
    kafka_broker.restart()
    assert watermarks(kafka_broker, kafka_topic) == (0, 1)
    assert kafka_broker.data_dir.is_dir() and kafka_broker.log_path.is_file()


def test_settings_reach_the_broker(kafka_broker):
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap_servers})
    producer.produce("auto-created-" + os.urandom(4).hex(), b"x")
    assert producer.flush(30) == 0
    topics = producer.list_topics(timeout=10).topics
    assert max(len(t.partitions) for name, t in topics.items() if name.startswith("auto-created-")) == 3


def test_faults_reach_the_client_and_the_request_log_shows_its_retry(kafka_broker, kafka_topic):
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap_servers, "client.id": "faulty"})
    with kafka_broker.faults.add(api="Produce", client_id="faulty", error="NOT_LEADER_OR_FOLLOWER") as rule:
        producer.produce(kafka_topic, b"retried")
        assert producer.flush(30) == 0
    assert [r.rule for r in kafka_broker.requests(client_id="faulty", api="Produce")] == [rule.id, None]


def watermarks(broker, topic, partition=0):
    consumer = Consumer({"bootstrap.servers": broker.bootstrap_servers, "group.id": "watermarks"})
    try:
        return consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10, cached=False)
    finally:
        consumer.close()
'''

CONFTEST = '''
import pytest

pytestmark = pytest.mark.kafkette_only("kafkette's own pytest plugin, which starts kafkette")

@pytest.fixture(scope="session")
def kafka_broker_settings():
    return {"default_partitions": 3}
'''


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "test_project.py").write_text(textwrap.dedent(PROJECT_TESTS))
    (tmp_path / "conftest.py").write_text(textwrap.dedent(CONFTEST))
    return tmp_path


def run_pytest(project: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KAFKETTE_") and k != "PYTHONPATH"}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *args],
                          cwd=project, env={**clean, **(env or {})}, capture_output=True, text=True, timeout=240)


def test_the_fixtures_start_a_broker_with_the_projects_settings(project):
    result = run_pytest(project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout


@pytest.mark.parametrize("how", ["option", "environment"])
def test_with_an_existing_cluster_nothing_starts_and_process_methods_skip(project, tmp_path_factory, how):
    with LocalBroker(tmp_path_factory.mktemp("cluster") / "data", default_partitions=3) as cluster:
        if how == "option":
            result = run_pytest(project, "--kafka-bootstrap", cluster.bootstrap_servers)
        else:
            result = run_pytest(project, env={"KAFKETTE_TEST_BOOTSTRAP": cluster.bootstrap_servers})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed, 2 skipped" in result.stdout
    for what in ("kill()", "faults"):
        assert (f"{what} needs the broker process that kafka_broker starts, but the tests run against "
                f"{cluster.bootstrap_servers} (--kafka-bootstrap or KAFKETTE_TEST_BOOTSTRAP)") in result.stdout


def test_the_plugin_and_import_kafkette_load_nothing_outside_pytest_kafkette_and_the_standard_library():
    script = textwrap.dedent('''
        import sys
        import kafkette
        print(" ".join(sorted(m for m in sys.modules if m.startswith("kafkette"))))
        import pytest
        before = set(sys.modules)
        import kafkette.pytest_plugin, kafkette.client
        new = {m.split(".")[0] for m in set(sys.modules) - before}
        print(" ".join(sorted(new - set(sys.stdlib_module_names) - {"kafkette"})))
    ''')
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    cheap, foreign = out.stdout.split("\n")[:2]
    assert cheap == "kafkette"
    assert foreign == ""


CLUSTER_TESTS = '''
from confluent_kafka import Producer


def test_a_leader_moves_and_a_broker_goes_down_and_up(kafka_broker, kafka_topic):
    assert len(kafka_broker.bootstrap_servers.split(",")) == 3
    leader = kafka_broker.cluster.leader(kafka_topic, 0)
    kafka_broker.cluster.move_leader(kafka_topic, 0, (leader + 1) % 3)
    kafka_broker.cluster.down(leader)
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap_servers})
    producer.produce(kafka_topic, b"x")
    assert producer.flush(30) == 0
    assert kafka_broker.cluster.up(leader)["up"]
'''


def test_a_projects_settings_can_make_the_broker_a_simulated_cluster(tmp_path):
    (tmp_path / "test_cluster.py").write_text(CLUSTER_TESTS)
    (tmp_path / "conftest.py").write_text(textwrap.dedent('''
        import pytest

        @pytest.fixture(scope="session")
        def kafka_broker_settings():
            return {"brokers": 3, "admin_api": True}
    '''))
    result = run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


SECURED_CONFTEST = '''
import pytest

@pytest.fixture(scope="session")
def kafka_broker_settings(kafka_certificates):
    return {"listeners": ["SASL_SSL"], "sasl_user": ["alice:secret"], **kafka_certificates.broker_settings()}
'''

SECURED_TESTS = '''
from confluent_kafka import Producer


def test_secured(kafka_broker, kafka_topic):
    config = kafka_broker.client_config()
    assert config["security.protocol"] == "SASL_SSL" and config["sasl.username"] == "alice"
    producer = Producer(config)
    producer.produce(kafka_topic, b"over SASL_SSL")
    assert producer.flush(15) == 0
'''


def test_a_project_gets_a_tls_and_sasl_broker_from_its_settings(tmp_path):
    (tmp_path / "test_secured.py").write_text(textwrap.dedent(SECURED_TESTS))
    (tmp_path / "conftest.py").write_text(textwrap.dedent(SECURED_CONFTEST))
    result = run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
