"""The command line against a SASL_SSL broker that checks ACLs: one command of each group with the client
properties of --command-config and -X, `kafkette acls add|list|remove`, and what a refused principal is told."""

from __future__ import annotations

import json

import pytest

from kafkette.certs import create_certificates
from kafkette.local_broker import LocalBroker
from tests.clients import kafkette_cli
from tests.conftest import unique

USERS = {"admin": "admin-secret", "alice": "alice-secret"}


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    certs = create_certificates(tmp_path_factory.mktemp("certs"))
    with LocalBroker(tmp_path_factory.mktemp("cli-secured") / "data", listeners=["SASL_SSL"], authorizer="acl",
                     super_user=["User:admin"], allow_everyone_if_no_acl_found=False,
                     sasl_user=[f"{name}:{password}" for name, password in USERS.items()],
                     **certs.broker_settings()) as broker:
        yield broker


@pytest.fixture(scope="module")
def admin_config(secured, tmp_path_factory):
    """A --command-config file of the super user's properties (with a comment and a blank line)."""
    path = tmp_path_factory.mktemp("config") / "admin.properties"
    lines = [f"{key}={value}" for key, value in secured.client_properties().items()]
    path.write_text("# the broker's super user\n\n" + "\n".join(lines) + "\n")
    return path


def as_admin(secured, admin_config, *args, stdin: bytes = b""):
    return kafkette_cli(*args, "--command-config", admin_config, bootstrap=secured.bootstrap_servers, stdin=stdin)


def as_user(secured, user: str, *args, stdin: bytes = b""):
    """The same properties with another user's name and password, given with -X (which wins over the file)."""
    flags = [arg for key, value in {**secured.client_properties(), "sasl.username": user,
                                    "sasl.password": USERS[user]}.items() for arg in ("-X", f"{key}={value}")]
    return kafkette_cli(*args, *flags, bootstrap=secured.bootstrap_servers, stdin=stdin)


def ok(result) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_every_command_group_speaks_sasl_ssl(secured, admin_config):
    topic, group, tid = unique("cli-sec"), unique("cli-grp"), unique("cli-tid")
    ok(as_admin(secured, admin_config, "topics", "create", topic, "--partitions", "1"))
    assert topic in ok(as_admin(secured, admin_config, "topics", "list"))
    ok(as_admin(secured, admin_config, "produce", topic, stdin=b"one\ntwo\n"))
    ok(as_admin(secured, admin_config, "produce", topic, "--transactional-id", tid, stdin=b"three\n"))
    consumed = ok(as_admin(secured, admin_config, "consume", topic, "--from-beginning", "--group", group,
                           "--count", "3", "--timeout", "10"))
    assert consumed.splitlines() == ["one", "two", "three"]
    assert group in ok(as_admin(secured, admin_config, "groups", "list"))
    assert tid in ok(as_admin(secured, admin_config, "txn", "list"))
    assert "COMMIT" in ok(as_admin(secured, admin_config, "dump", topic, "0"))
    assert json.loads(ok(as_admin(secured, admin_config, "users", "list", "--json"))) == [
        {"user": name, "mechanisms": ["SCRAM-SHA-256 (4096 iterations)", "SCRAM-SHA-512 (4096 iterations)"]}
        for name in sorted(USERS)]
    assert json.loads(ok(as_admin(secured, admin_config, "acls", "list", "--json"))) == []


def acl_rows(output: str) -> list[tuple]:
    return [tuple(row.values()) for row in json.loads(output)]


def test_kafkette_acls_adds_lists_and_removes_as_kafka_acls_does(secured, admin_config):
    topic, group, prefix = unique("cli-acl"), unique("cli-acl-grp"), unique("cli-pre")
    secured.create_topic(topic)
    added = ok(as_admin(secured, admin_config, "acls", "add", "--allow-principal", "User:alice", "--consumer",
                        "--topic", topic, "--group", group, "--json"))
    assert sorted(acl_rows(added)) == sorted([
        ("TOPIC", topic, "LITERAL", "User:alice", "*", "READ", "ALLOW"),
        ("TOPIC", topic, "LITERAL", "User:alice", "*", "DESCRIBE", "ALLOW"),
        ("GROUP", group, "LITERAL", "User:alice", "*", "READ", "ALLOW")])
    ok(as_admin(secured, admin_config, "acls", "add", "--deny-principal", "User:alice", "--operation", "Write",
                "--topic", prefix, "--resource-pattern-type", "prefixed"))
    ok(as_admin(secured, admin_config, "acls", "add", "--allow-principal", "User:alice", "--operation",
                "IdempotentWrite", "--cluster"))
    listed = acl_rows(ok(as_admin(secured, admin_config, "acls", "list", "--json")))
    assert len(listed) == 5 and ("TOPIC", prefix, "PREFIXED", "User:alice", "*", "WRITE", "DENY") in listed
    assert acl_rows(ok(as_admin(secured, admin_config, "acls", "list", "--topic", prefix + "x",
                                "--resource-pattern-type", "match", "--json"))) == [
        ("TOPIC", prefix, "PREFIXED", "User:alice", "*", "WRITE", "DENY")]
    assert acl_rows(ok(as_admin(secured, admin_config, "acls", "list", "--cluster", "--json"))) == [
        ("CLUSTER", "kafka-cluster", "LITERAL", "User:alice", "*", "IDEMPOTENT_WRITE", "ALLOW")]
    ok(as_admin(secured, admin_config, "produce", topic, stdin=b"one\n"))
    assert ok(as_user(secured, "alice", "consume", topic, "--from-beginning", "--group", group, "--count", "1",
                      "--timeout", "10")) == "one\n"
    removed = ok(as_admin(secured, admin_config, "acls", "remove", "--topic", topic, "--group", group, "--json"))
    assert len(acl_rows(removed)) == 3
    ok(as_admin(secured, admin_config, "acls", "remove", "--cluster"))
    ok(as_admin(secured, admin_config, "acls", "remove", "--topic", prefix, "--resource-pattern-type", "prefixed"))
    assert json.loads(ok(as_admin(secured, admin_config, "acls", "list", "--json"))) == []


def test_a_refused_principal_is_told_which_acl_is_missing(secured, admin_config):
    topic = secured.create_topic(unique("cli-refused"))
    refused = as_user(secured, "alice", "produce", topic, stdin=b"x\n")
    assert refused.returncode == 1
    assert refused.stderr == f"kafkette produce: topic {topic!r}: TOPIC_AUTHORIZATION_FAILED: this needs an ACL " \
                             f"allowing it on the topic (`kafkette acls list --topic TOPIC`)\n"
    denied = as_user(secured, "alice", "acls", "add", "--allow-principal", "User:alice", "--topic", topic)
    assert denied.returncode == 1 and "CLUSTER_AUTHORIZATION_FAILED (Request CreateAcls needs ALTER permission.)" \
        in denied.stderr
    wrong = kafkette_cli("topics", "list", *[a for k, v in {**secured.client_properties(), "sasl.username": "alice",
                                                            "sasl.password": "wrong"}.items()
                                             for a in ("-X", f"{k}={v}")], bootstrap=secured.bootstrap_servers)
    assert (wrong.returncode, wrong.stderr) == (2, "kafkette topics list: SASL authentication failed: Authentication "
                                                   "failed: Invalid username or password: check the SASL properties "
                                                   "(sasl.mechanism, sasl.username, sasl.password)\n")


@pytest.mark.parametrize("args, message", [
    (["acls", "add", "--topic", "t"], "nothing to add: give --allow-principal or --deny-principal"),
    (["acls", "add", "--allow-principal", "alice", "--topic", "t"], "principal 'alice': expected TYPE:NAME"),
    (["acls", "add", "--allow-principal", "User:a", "--topic", "t", "--operation", "Fly"], "unknown operation 'Fly'"),
    (["acls", "add", "--allow-principal", "User:a", "--topic", "t", "--resource-pattern-type", "match"],
     "--resource-pattern-type match: here one of LITERAL, PREFIXED"),
    (["acls", "remove"], "name what to remove ACLs from"),
    (["topics", "list", "-X", "no-equals"], "-X no-equals: expected KEY=VALUE"),
    (["topics", "list", "-X", "sasl.jaas.config=x"], "client properties: unknown client property sasl.jaas.config"),
])
def test_usage_errors_of_acls_and_client_properties(secured, args, message):
    result = kafkette_cli(*args, bootstrap=secured.bootstrap_servers)
    assert result.returncode == 2 and message in result.stderr, result.stderr


def test_the_acl_apis_of_a_broker_without_an_authorizer(broker):
    result = kafkette_cli("acls", "list", bootstrap=broker.bootstrap_servers)
    assert (result.returncode, result.stderr) == (1, "kafkette acls list: listing ACLs: SECURITY_DISABLED (No "
                                                     "Authorizer is configured on the broker): the broker checks no "
                                                     "ACLs: start kafkette with --authorizer acl (Kafka: "
                                                     "authorizer.class.name)\n")
