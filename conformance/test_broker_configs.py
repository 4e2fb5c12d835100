"""Broker configs against Apache Kafka 4.4 itself: described alike, and every alteration accepted or refused alike.

DescribeConfigs of a broker is compared config by config (what each broker was started with aside); a battery of
IncrementalAlterConfigs and AlterConfigs requests on BROKER resources (validate-only, so neither broker changes)
compares each answer's code and message; real changes of harmless configs, made on both and undone, compare
how they are described, on the broker and on a topic that inherits them; Kafka's kafka-configs.sh (ConfigCommand)
changes and describes the cluster-wide default of both.
"""

from __future__ import annotations

import subprocess
import time
import uuid

import pytest

from conformance.kafka import java
from conformance.replay import differences, normalise
from kafkette.client import RawClient, create_topic
from kafkette.protocol.messages import ALTER_CONFIGS, DESCRIBE_CONFIGS, INCREMENTAL_ALTER_CONFIGS

STATIC_BROKER_CONFIG = 4
CONFIG_COMMAND = "org.apache.kafka.tools.ConfigCommand"
# Requests kafkette answers unlike Kafka, and why no client is the worse for it
ACCEPTED = {
    ("1", (("listeners", 0, "PLAINTEXT://127.0.0.1:1234"),)):
        "the control runs Kafka's controller in the same process (KRaft combined mode), whose listener must stay in "
        "`listeners`; kafkette has no controller listener, and keeps (without rebinding) what a broker-only Kafka "
        "accepts",
    ("1", (("principal.builder.class", 0, "java.lang.String"),)):
        "Kafka loads the class to find it is no KafkaPrincipalBuilder; kafkette loads no classes and knows only "
        "Kafka's default builder, so it answers that the class could not be found",
}
CASES = [
    ("1", [("log.retention.ms", 0, "1000")]),
    ("", [("log.retention.ms", 0, "1000")]),
    ("2", [("log.retention.ms", 0, "1000")]),
    ("x", [("log.retention.ms", 0, "1000")]),
    (" 1", [("log.retention.ms", 0, "1000")]),
    ("01", [("log.retention.ms", 0, "1000")]),
    ("+1", [("log.retention.ms", 0, "1000")]),
    ("1", [("num.partitions", 0, "3")]),
    ("", [("num.partitions", 0, "3")]),
    ("1", [("num.partitions", 0, "3"), ("broker.id", 0, "3")]),
    ("1", [("log.retention.hours", 0, "3")]),
    ("1", [("log.retention.ms", 0, "x")]),
    ("1", [("log.retention.ms", 0, "")]),
    ("1", [("log.retention.ms", 0, " 5 ")]),
    ("1", [("log.retention.ms", 0, "-5")]),
    ("1", [("max.connections", 0, "-5")]),
    ("1", [("max.connections", 0, "2147483648")]),
    ("1", [("log.cleanup.policy", 0, "bogus")]),
    ("1", [("log.cleanup.policy", 0, "")]),
    ("1", [("log.cleanup.policy", 2, "compact")]),
    ("1", [("log.cleanup.policy", 3, "delete")]),
    ("1", [("log.retention.ms", 2, "5")]),
    ("1", [("log.retention.ms", 3, "5")]),
    ("1", [("no.such.config", 2, "5")]),
    ("1", [("no.such.config", 0, "5")]),
    ("", [("no.such.config", 0, "5")]),
    ("1", [("log.retention.ms", 1, None)]),
    ("1", [("log.retention.ms", 7, "5")]),
    ("", [("listeners", 0, "PLAINTEXT://127.0.0.1:9092")]),
    ("", [("ssl.keystore.type", 0, "PKCS12")]),
    ("1", [("ssl.keystore.type", 0, "PKCS12")]),
    ("1", [("listener.name.plaintext.ssl.keystore.type", 0, "PKCS12")]),
    ("", [("listener.name.plaintext.ssl.keystore.type", 0, "PKCS12")]),
    ("", [("listener.name.plaintext.max.connections", 0, "10")]),
    ("", [("listener.name.plaintext.max.connections", 0, "x")]),
    ("1", [("sasl.enabled.mechanisms", 0, "PLAIN")]),
    ("", [("sasl.enabled.mechanisms", 0, "PLAIN")]),
    ("", [("leader.replication.throttled.rate", 0, "1000")]),
    ("", [("leader.replication.throttled.rate", 0, "-1")]),
    ("", [("message.max.bytes", 0, "2000")]),
    ("", [("message.max.bytes", 0, "-1")]),
    ("", [("num.io.threads", 0, "100")]),
    ("", [("num.io.threads", 0, "16")]),
    ("", [("num.io.threads", 0, "17")]),
    ("", [("num.io.threads", 0, "4")]),
    ("", [("num.io.threads", 0, "3")]),
    ("", [("num.network.threads", 0, "7")]),
    ("", [("log.local.retention.ms", 0, "-1")]),
    ("", [("log.local.retention.ms", 0, "999999999999")]),
    ("", [("log.retention.ms", 0, "1000"), ("log.local.retention.ms", 0, "2000")]),
    ("", [("log.cleaner.threads", 0, "5")]),
    ("", [("min.insync.replicas", 0, "2")]),
    ("", [("min.insync.replicas", 1, None)]),
    ("1", [("min.insync.replicas", 0, "2")]),
    ("", [("compression.gzip.level", 0, "0")]),
    ("", [("log.message.timestamp.type", 0, "x")]),
    ("", [("max.connections.per.ip.overrides", 0, "x:y")]),
    ("", [("max.connections.per.ip.overrides", 0, "127.0.0.1:5")]),
    ("", [("metric.reporters", 0, "no.such.Class")]),
    ("", [("config.providers", 0, "x")]),
    ("", [("producer.id.expiration.ms", 0, "0")]),
    ("", [("log.retention.ms", 0, "1000"), ("log.retention.ms", 0, "1000")]),
    ("", [("log.retention.ms", 0, None)]),
    ("", [("log.flush.interval.ms", 0, "1000")]),
    ("", [("log.roll.ms", 0, "1000")]),
    ("", [("log.segment.bytes", 0, "1000")]),
    ("", [("log.retention.bytes", 0, "-7")]),
    ("", [("unclean.leader.election.enable", 0, "yes")]),
    ("", [("log.cleaner.io.buffer.load.factor", 0, "x")]),
    ("1", {"log.retention.ms": "1000"}),
    ("", {"log.retention.ms": "1000"}),
    ("2", {"log.retention.ms": "1000"}),
    ("x", {"log.retention.ms": "1000"}),
    ("1", {"num.partitions": "3"}),
    ("1", {"log.retention.ms": "x"}),
    ("1", {"no.such.config": "5"}),
    ("", {"listeners": "PLAINTEXT://127.0.0.1:9092"}),
    ("", {}),
    ("", []),
    ("", [("metric.reporters", 0, "")]),
    ("", [
        ("metric.reporters", 0, "org.apache.kafka.common.metrics.JmxReporter,"
                                "org.apache.kafka.common.metrics.JmxReporter"),
    ]),
    ("1", [("sasl.enabled.mechanisms", 0, "")]),
    ("1", [("sasl.enabled.mechanisms", 0, "PLAIN,PLAIN")]),
    ("1", [("sasl.enabled.mechanisms", 0, "PLAIN,,SCRAM-SHA-256")]),
    ("1", [("sasl.enabled.mechanisms", 0, "BOGUS")]),
    ("1", [("listener.name.plaintext.ssl.cipher.suites", 0, "a,a")]),
    ("", [("log.cleanup.policy", 0, "compact,compact")]),
    ("", [("log.cleanup.policy", 0, "compact,,delete")]),
    ("", [("log.cleanup.policy", 0, " compact , delete ")]),
    ("", [("log.cleanup.policy", 0, "COMPACT")]),
    ("1", [("listeners", 0, "PLAINTEXT://127.0.0.1:1234")]),
    ("1", [("listeners", 0, "FOO://127.0.0.1:1234")]),
    ("1", [("listeners", 0, "x")]),
    ("1", [("listener.security.protocol.map", 0, "x")]),
    ("1", [("principal.builder.class", 0, "no.such.Class")]),
    ("1", [("principal.builder.class", 0, "java.lang.String")]),
    ("", [("log.cleaner.dedupe.buffer.size", 0, "1")]),
    ("", [("log.cleaner.io.buffer.load.factor", 0, "2")]),
    ("", [("log.cleaner.threads", 0, "0")]),
    ("", [("log.cleaner.threads", 0, "2")]),
    ("", [("max.connection.creation.rate", 0, "-1")]),
    ("", [("num.replica.fetchers", 0, "3")]),
    ("", [("num.replica.fetchers", 0, "2")]),
    ("", [("background.threads", 0, "21")]),
    ("", [("background.threads", 0, "0")]),
    ("", [("num.recovery.threads.per.data.dir", 0, "5")]),
    ("", [("num.io.threads", 0, "0")]),
    ("", [("num.network.threads", 0, "6")]),
    ("", [("num.network.threads", 0, "1")]),
    ("", [("listener.name.plaintext.num.network.threads", 0, "7")]),
    ("", [("log.retention.ms", 0, "-2")]),
    ("", [("log.retention.ms", 0, "0")]),
    ("", [("log.flush.interval.ms", 0, "-1")]),
    ("", [("log.roll.ms", 0, "0")]),
    ("", [("log.roll.jitter.ms", 0, "-1")]),
    ("", [("message.max.bytes", 0, "0")]),
    ("", [("log.message.timestamp.type", 0, " LogAppendTime ")]),
    ("", [("unclean.leader.election.enable", 0, "TRUE")]),
    ("", [("unclean.leader.election.enable", 0, " true ")]),
    ("", [("compression.type", 0, "GZIP")]),
    ("", [("log.segment.bytes", 0, "1048576")]),
    ("", [("follower.fetch.last.tiered.offset.enable", 0, "x")]),
    ("", [("errors.deadletterqueue.topic.name.prefix", 0, "")]),
    ("", [("min.insync.replicas", 0, "0")]),
    ("", [("min.insync.replicas", 0, "5")]),
    ("", [("transaction.partition.verification.enable", 0, "maybe")]),
    ("", [("remote.log.manager.copier.thread.pool.size", 0, "21")]),
    ("", [("remote.log.manager.copier.thread.pool.size", 0, "4")]),
    ("", [("remote.log.manager.copier.thread.pool.size", 0, "0")]),
    ("", [("remote.log.reader.threads", 0, "1")]),
    ("", [("remote.log.index.file.cache.total.size.bytes", 0, "1")]),
    ("", [("group.consumer.assignment.interval.ms", 0, "5")]),
    ("", [("share.coordinator.cached.buffer.max.bytes", 0, "1")]),
    ("", [("max.connections.per.ip.overrides", 0, "127.0.0.1:x")]),
    ("", [("max.connections.per.ip.overrides", 0, "somehost:5")]),
    ("", [("max.connections.per.ip.overrides", 0, "somehost:5,other:-1")]),
    ("", [("max.connections.per.ip.overrides", 0, "a")]),
    ("", [("max.connections.per.ip.overrides", 0, "")]),
    ("", [("leader.replication.throttled.rate", 0, "abc")]),
    ("", [("leader.replication.throttled.replicas", 0, "abc")]),
    ("", [("log.local.retention.bytes", 0, "5")]),
    ("", [("log.retention.bytes", 0, "10"), ("log.local.retention.bytes", 0, "50")]),
    ("", [("log.retention.bytes", 0, "10"), ("log.local.retention.bytes", 0, "-1")]),
    ("", [("log.retention.ms", 0, "-1"), ("log.local.retention.ms", 0, "-1")]),
    ("", [("log.cleanup.policy", 2, "compact")]),
    ("1", [("no.such.config", 1, None)]),
    ("1", [("num.partitions", 1, None)]),
    ("1", [("num.partitions", 2, "x")]),
    ("1", [("listeners", 2, "PLAINTEXT://127.0.0.1:1")]),
    ("", [("log.message.timestamp.before.max.ms", 0, "-1")]),
    ("", [("log.cleaner.min.cleanable.ratio", 0, "1.5")]),
    ("", [("log.cleaner.min.cleanable.ratio", 0, "NaN")]),
    ("", [("log.cleaner.io.max.bytes.per.second", 0, "1e3")]),
    ("", [("compression.zstd.level", 0, "23")]),
    ("", [("max.decompressed.message.bytes", 0, "2147483640")]),
    ("", [("config.providers", 0, "a,a")]),
    ("", [("ssl.keystore.password", 0, "x")]),
    ("1", [("listener.name.plaintext.ssl.keystore.password", 0, "x")]),
    ("1", [("listener.name.plaintext.sasl.jaas.config", 0, "x")]),
    ("1", [("listener.name.plaintext.plain.sasl.jaas.config", 0, "x")]),
    ("1", [("listener.name.plaintext.ssl.keystore.location", 0, "/no/such/file")]),
    ("1", [("listener.name.plaintext.ssl.client.auth", 0, "bogus")]),
    ("1", [("listener.name.plaintext.ssl.client.auth", 0, "required")]),
    ("1", [("listener.name.nosuch.ssl.client.auth", 0, "required")]),
    ("1", [("listener.name.plaintext.num.partitions", 0, "3")]),
    ("1", [("listener.name.plaintext.no.such", 0, "3")]),
    ("1", [("sasl.kerberos.service.name", 0, "kafka")]),
    ("1", [("sasl.mechanism.inter.broker.protocol", 0, "PLAIN")]),
    ("1", [("ssl.client.auth", 0, "required")]),
    ("1", [("cordoned.log.dirs", 0, "/x")]),
    ("1", [("min.insync.replicas", 1, None)]),
    ("", [("min.insync.replicas", 0, "1")]),
    ("", {"min.insync.replicas": "1", "log.retention.ms": "1000"}),
    ("1", {"min.insync.replicas": "1"}),
    ("", [("min.insync.replicas", 2, "1")]),
    ("", [("log.retention.ms", 0, "abc"), ("num.partitions", 0, "2")]),
    ("", [("listeners", 0, "x"), ("num.partitions", 0, "2")]),
    ("", [("ssl.keystore.type", 0, "x"), ("listeners", 0, "y")]),
    ("", [("log.retention.ms", 0, "abc"), ("message.max.bytes", 0, "x")]),
    ("", [("log.retention.ms", 0, "abc"), ("listeners", 0, "x")]),
    ("1", [
        ("listener.name.plaintext.ssl.keystore.type", 0, "x"),
        ("ssl.truststore.type", 0, "x"),
        ("ssl.keystore.type", 0, "x"),
    ]),
    ("", [
        ("num.partitions", 0, "2"),
        ("broker.id", 0, "2"),
        ("log.dirs", 0, "x"),
        ("node.id", 0, "3"),
        ("log.retention.hours", 0, "3"),
    ]),
]


def describe(bootstrap: str, resource_type: int, name: str, docs: bool = True):
    R = DESCRIBE_CONFIGS.Request
    with RawClient(bootstrap) as raw:
        return raw.request(DESCRIBE_CONFIGS, 4, R(resources=[R.DescribeConfigsResource(
            resource_type=resource_type, resource_name=name, configuration_keys=None)], include_synonyms=True,
            include_documentation=docs)).results[0]


def alter(bootstrap: str, name: str, changes, validate_only: bool = True) -> tuple[int, str | None]:
    """IncrementalAlterConfigs of (name, operation, value) changes, or AlterConfigs of a dict, on a BROKER resource."""
    with RawClient(bootstrap) as raw:
        if isinstance(changes, dict):
            A = ALTER_CONFIGS.Request
            answer = raw.request(ALTER_CONFIGS, 2, A(resources=[A.AlterConfigsResource(
                resource_type=4, resource_name=name, configs=[A.AlterableConfig(name=n, value=v)
                                                               for n, v in changes.items()])],
                validate_only=validate_only)).responses[0]
        else:
            I = INCREMENTAL_ALTER_CONFIGS.Request
            answer = raw.request(INCREMENTAL_ALTER_CONFIGS, 1, I(resources=[I.AlterConfigsResource(
                resource_type=4, resource_name=name, configs=[I.AlterableConfig(name=n, config_operation=o, value=v)
                                                               for n, o, v in changes])],
                validate_only=validate_only)).responses[0]
    return answer.error_code, answer.error_message or None


def entries(result) -> dict[str, dict]:
    """Each config's fields by name, less the synonyms from the settings the broker was started with."""
    out = {}
    for config in normalise(result)["configs"]:
        config["synonyms"] = [s for s in config["synonyms"] if s["source"] != STATIC_BROKER_CONFIG]
        out[config["name"]] = config
    return out


@pytest.mark.parametrize("name", ["1", "01"])
def test_a_broker_describes_its_configs_as_kafka_does(brokers, name):
    results = [describe(b, 4, name) for b in brokers.values()]
    kafka, ours = (entries(result) for result in results)
    assert sorted(kafka) == sorted(ours)
    started_with = {c.name for result in results for c in result.configs
                    if any(s.source == STATIC_BROKER_CONFIG for s in c.synonyms)}
    assert {"listeners", "log.dirs", "node.id"} <= started_with
    differ = []
    for config in sorted(kafka):
        fields = ("read_only", "config_type", "is_sensitive", "documentation", "synonyms")
        if config not in started_with:
            fields += ("value", "config_source")
        differ += [(config, f, kafka[config][f], ours[config][f]) for f in fields if kafka[config][f] != ours[config][f]]
    assert not differ, f"{len(differ)} fields described unlike Kafka (config, field, Kafka, kafkette): {differ[:20]}"


def test_the_cluster_wide_default_is_described_as_kafka_describes_it(brokers):
    kafka, ours = (normalise(describe(b, 4, "")) for b in brokers.values())
    assert not differences(kafka, ours)


@pytest.mark.parametrize("name", ["2", "x", " 1"])
def test_describing_another_broker_is_answered_as_kafka_answers_it(brokers, name):
    kafka, ours = (normalise(describe(b, 4, name)) for b in brokers.values())
    assert not differences(kafka, ours)


def test_every_alteration_is_accepted_or_refused_as_kafka_does_it(brokers):
    cases = [(name, changes) for name, changes in CASES
             if (name, tuple(changes) if isinstance(changes, list) else ()) not in ACCEPTED]
    kafka = [alter(brokers["kafka"], name, changes) for name, changes in cases]
    ours = [alter(brokers["kafkette"], name, changes) for name, changes in cases]
    differ = [(case, k, o) for case, k, o in zip(cases, kafka, ours) if k != o]
    assert not differ, f"{len(differ)} of {len(cases)} answered unlike Kafka (request, Kafka, kafkette): " + \
        "; ".join(map(str, differ[:10]))


@pytest.fixture
def changed(brokers):
    """The same harmless dynamic configs set on both brokers, per broker and cluster-wide; undone afterwards."""
    per_broker = [("log.cleaner.io.buffer.load.factor", 0, "0.8"), ("listener.name.plaintext.max.connections", 0,
                  "100000"), ("listener.name.plaintext.ssl.keystore.password", 0, "secret"), ("custom.thing", 0, "x")]
    cluster = [("log.cleaner.delete.retention.ms", 0, "3600000"), ("log.cleaner.io.buffer.load.factor", 0, "0.7"),
               ("leader.replication.throttled.rate", 0, "100000000"), ("log.cleaner.backoff.ms", 0, " 20000 ")]
    names = {n for n, _, _ in per_broker + cluster}
    for bootstrap in brokers.values():
        assert alter(bootstrap, "1", per_broker, validate_only=False) == (0, None)
        assert alter(bootstrap, "", cluster, validate_only=False) == (0, None)
        settle(bootstrap, lambda dynamic: dynamic >= names)
    yield
    for bootstrap in brokers.values():
        assert alter(bootstrap, "1", [(n, 1, None) for n, _, _ in per_broker], validate_only=False) == (0, None)
        assert alter(bootstrap, "", [(n, 1, None) for n, _, _ in cluster], validate_only=False) == (0, None)
        settle(bootstrap, lambda dynamic: not dynamic & names)


def settle(bootstrap: str, done, timeout: float = 15.0) -> None:
    """Kafka's broker applies a change a moment after the controller answered it: wait until the names broker 1
    describes from a dynamic source pass `done`."""
    deadline = time.monotonic() + timeout
    while not done({c.name for c in describe(bootstrap, 4, "1", docs=False).configs if c.config_source in (2, 3)}):
        assert time.monotonic() < deadline, f"{bootstrap} did not apply the change within {timeout:g} s"
        time.sleep(0.1)


def test_dynamic_configs_are_described_as_kafka_describes_them(brokers, changed):
    names = ("log.cleaner.io.buffer.load.factor", "listener.name.plaintext.max.connections",
             "listener.name.plaintext.ssl.keystore.password", "custom.thing", "log.cleaner.delete.retention.ms",
             "leader.replication.throttled.rate", "log.cleaner.backoff.ms")
    for resource in ("1", ""):
        kafka, ours = (entries(describe(b, 4, resource)) for b in brokers.values())
        differ = [(n, differences(kafka.get(n), ours.get(n))) for n in names if kafka.get(n) != ours.get(n)]
        assert not differ, f"resource {resource!r}: {differ}"


def test_a_topic_describes_the_dynamic_defaults_it_inherits_as_kafka_does(brokers, changed):
    described = {}
    for side, bootstrap in brokers.items():
        topic = f"dyn-{uuid.uuid4().hex[:8]}"
        create_topic(bootstrap, topic, 1)
        result = describe(bootstrap, 2, topic, docs=False)
        described[side] = next(c for c in normalise(result)["configs"] if c["name"] == "delete.retention.ms")
    assert described["kafka"]["config_source"] == 3  # DYNAMIC_DEFAULT_BROKER_CONFIG
    assert not differences(described["kafka"], described["kafkette"])


def config_command(bootstrap: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(java(CONFIG_COMMAND, "--bootstrap-server", bootstrap, "--entity-type", "brokers", *args,
                               jvm=["-Xmx256m"]), capture_output=True, text=True, timeout=90)


def test_kafka_configs_sh_changes_and_describes_the_cluster_wide_default_alike(brokers):
    outputs = {}
    for side, bootstrap in brokers.items():
        steps = [config_command(bootstrap, "--entity-default", "--alter", "--add-config",
                                "log.cleaner.backoff.ms=25000"),
                 config_command(bootstrap, "--entity-default", "--describe"),
                 config_command(bootstrap, "--entity-name", "1", "--alter", "--add-config", "num.partitions=3"),
                 config_command(bootstrap, "--entity-default", "--alter", "--delete-config", "log.cleaner.backoff.ms"),
                 config_command(bootstrap, "--entity-default", "--describe")]
        outputs[side] = [(s.returncode, s.stdout.strip(), s.stderr.strip().splitlines()[-1:]) for s in steps]
    assert "log.cleaner.backoff.ms=25000" in outputs["kafka"][1][1]
    assert outputs["kafkette"] == outputs["kafka"]
