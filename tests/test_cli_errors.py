"""The command line's failures: one line on stderr saying what went wrong and what to do, and the same
exit status for the same kind of failure (0 done, 1 failed or not found, 2 usage or no broker)."""

from __future__ import annotations

import pytest

from kafkette.local_broker import free_port
from tests.clients import kafkette_cli
from tests.conftest import unique


def one_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_no_broker_is_a_connection_problem_with_what_to_do():
    port = free_port()
    result = kafkette_cli("topics", "list", bootstrap=f"127.0.0.1:{port}")
    assert result.returncode == 2 and result.stdout == ""
    assert one_line(result) == (f"kafkette topics list: no broker answers at 127.0.0.1:{port} (Connection refused): "
                                f'start one with "kafkette serve" or pass --bootstrap-server HOST:PORT')


@pytest.mark.parametrize("args, message", [
    (["txn"], "the following arguments are required: ACTION"),
    (["txn", "abort"], "name the transaction with --transactional-id, or with --topic, --partition and --start-offset"),
    (["txn", "abort", "--topic", "t", "--partition", "0"], "must be identified either with --start-offset or with"),
    (["txn", "abort", "--transactional-id", "x", "--topic", "t"], "give either --transactional-id or --topic"),
    (["txn", "find-hanging"], "find-hanging needs --topic or --broker-id to limit the search"),
    (["txn", "find-hanging", "--broker-id", "1", "--partition", "0"], "--partition needs --topic"),
    (["txn", "describe-producers", "t", "zero"], "invalid int value: 'zero'"),
    (["topics", "create", "t", "--config", "novalue"], "--config 'novalue': expected KEY=VALUE"),
    (["topics", "alter-config", "t"], "nothing to change: give --set KEY=VALUE or --delete KEY"),
    (["groups", "reset-offsets", "g", "--topic", "t:x", "--to-earliest"], "expected TOPIC or TOPIC:P,P,..."),
    (["dump", "t", "0", "--limit", "0"], "--limit must be at least 1"),
    (["consume", "t", "--isolation", "committed"], "invalid choice: 'committed'"),
])
def test_usage_errors_exit_2_in_one_line(broker, args, message):
    result = kafkette_cli(*args, bootstrap=broker.bootstrap_servers) if len(args) > 1 else kafkette_cli(*args)
    assert result.returncode == 2
    assert message in one_line(result)


def test_what_does_not_exist_exits_1(broker):
    bootstrap = broker.bootstrap_servers
    for args, message in [
        (["txn", "describe", "nobody"], "no transactional id 'nobody' is known to its coordinator (node 1): see "
                                        "`kafkette txn list`"),
        (["txn", "describe-producers", unique("none"), "0"], "UNKNOWN_TOPIC_OR_PARTITION"),
        (["groups", "describe", unique("none")], "does not exist"),
        (["dump", unique("none"), "0"], "UNKNOWN_TOPIC_OR_PARTITION: see `kafkette topics list`"),
        (["topics", "delete", unique("none")], "UNKNOWN_TOPIC_OR_PARTITION"),
    ]:
        result = kafkette_cli(*args, bootstrap=bootstrap)
        assert result.returncode == 1, (args, result.stderr)
        assert message in one_line(result)


def test_help_names_the_exit_statuses():
    result = kafkette_cli("txn", "abort", "--help")
    assert result.returncode == 0
    assert "exit status: 0 done, 1 the operation failed or what it names does not exist, 2 a usage error or no " \
           "broker reachable" in " ".join(result.stdout.split())
