"""Broker settings: every value is checked, and a refusal names the flag or variable it came from."""

from __future__ import annotations

import argparse
from dataclasses import fields

import pytest

from kafkette.broker.config import RULES, BrokerConfig, ConfigError, add_arguments, from_arguments


def parse(argv: list[str], environ: dict[str, str] | None = None) -> BrokerConfig:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return from_arguments(parser.parse_args(argv), environ or {})


def refusal(argv: list[str], environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        parse(argv, environ)
    return str(info.value)


def test_defaults_pass_every_check():
    assert parse([]) == BrokerConfig()


def test_a_flag_beats_the_environment_which_beats_the_default():
    config = parse(["--port", "9100"], {"KAFKETTE_PORT": "9200", "KAFKETTE_NODE_ID": "7"})
    assert (config.port, config.node_id, config.host) == (9100, 7, "127.0.0.1")


def test_values_are_parsed_by_the_type_of_their_setting():
    config = parse(["--auto-create-topics", "false", "--data-dir", "/tmp/x", "--retention-ms", "-1"],
                   {"KAFKETTE_FSYNC": "always"})
    assert (config.auto_create_topics, str(config.data_dir), config.retention_ms, config.fsync) == (
        False, "/tmp/x", -1, "always")


@pytest.mark.parametrize("argv, message", [
    (["--port", "70000"], "invalid --port 70000: must be between 0 and 65535"),
    (["--port", "-1"], "invalid --port -1: must be between 0 and 65535"),
    (["--port", "abc"], "invalid --port abc: expected an integer"),
    (["--default-partitions", "0"], "invalid --default-partitions 0: must be between 1 and 2147483647"),
    (["--retention-ms", "-5"], "invalid --retention-ms -5: must be at least -1"),
    (["--retention-bytes", "-2"], "invalid --retention-bytes -2: must be at least -1"),
    (["--segment-bytes", "0"], "invalid --segment-bytes 0: must be between 1024 and 2147483647"),
    (["--max-request-bytes", "0"], "invalid --max-request-bytes 0: must be between 1 and 2147483647"),
    (["--fsync-interval-ms", "0"], "invalid --fsync-interval-ms 0: must be at least 1"),
    (["--log-level", "bogus"], "invalid --log-level bogus: must be one of debug, info, warning, error"),
    (["--fsync", "sometimes"], "invalid --fsync sometimes: must be one of always, interval, never"),
    (["--auto-create-topics", "maybe"], "invalid --auto-create-topics maybe: expected true or false"),
    (["--cluster-id", ""], "invalid --cluster-id : must not be empty"),
])
def test_an_invalid_flag_is_refused_with_its_name_and_what_it_must_be(argv, message):
    assert refusal(argv) == message


def test_an_invalid_environment_value_names_the_variable():
    assert refusal([], {"KAFKETTE_PORT": "abc"}) == "invalid KAFKETTE_PORT=abc: expected an integer"
    assert refusal([], {"KAFKETTE_DEFAULT_PARTITIONS": "0"}) == (
        "invalid KAFKETTE_DEFAULT_PARTITIONS=0: must be between 1 and 2147483647")


def test_settings_that_contradict_each_other_are_refused():
    assert refusal(["--group-min-session-timeout-ms", "10000", "--group-max-session-timeout-ms", "5000"]) == (
        "invalid settings --group-min-session-timeout-ms 10000 and --group-max-session-timeout-ms 5000: "
        "--group-min-session-timeout-ms must be at most --group-max-session-timeout-ms")
    assert refusal(["--group-consumer-heartbeat-interval-ms", "45000"]) == (
        "invalid settings --group-consumer-heartbeat-interval-ms 45000 and "
        "--group-consumer-session-timeout-ms 45000 (default): "
        "--group-consumer-heartbeat-interval-ms must be below --group-consumer-session-timeout-ms")


def test_every_number_has_a_rule():
    numbers = {fd.name for fd in fields(BrokerConfig) if fd.type == "int"}
    assert numbers - set(RULES) == set()


def test_listeners_come_from_repeated_flags_or_one_comma_separated_variable():
    from kafkette.broker.listeners import ListenerSpec

    config = parse(["--listener", "PLAINTEXT://127.0.0.1:9095", "--listener", "SASL_SSL://0.0.0.0:9096",
                    "--ssl-certfile", "broker.pem"])
    assert config.listeners() == (ListenerSpec("PLAINTEXT", "127.0.0.1", 9095), ListenerSpec("SASL_SSL", "0.0.0.0", 9096))
    config = parse([], {"KAFKETTE_LISTENER": "PLAINTEXT://127.0.0.1:9095,SSL://127.0.0.1:9097",
                        "KAFKETTE_SSL_CERTFILE": "broker.pem",
                        "KAFKETTE_ADVERTISED_LISTENER": "SSL://broker.example:19097"})
    assert [str(s) for s in config.listeners()] == ["PLAINTEXT://127.0.0.1:9095", "SSL://127.0.0.1:9097"]
    assert [config.advertised_address(s) for s in config.listeners()] == [("127.0.0.1", 9095), ("broker.example", 19097)]
    default = parse(["--advertised-host", "localhost"])
    assert default.listeners() == (ListenerSpec("PLAINTEXT", "127.0.0.1", 9092),)
    assert default.advertised == ("localhost", 9092)


@pytest.mark.parametrize("argv, message", [
    (["--listener", "127.0.0.1:9092"],
     "invalid --listener 127.0.0.1:9092: expected NAME://HOST:PORT, e.g. PLAINTEXT://127.0.0.1:9092, got '127.0.0.1:9092'"),
    (["--listener", "HTTP://127.0.0.1:80"],
     "invalid --listener HTTP://127.0.0.1:80: the listener name must be one of PLAINTEXT, SSL, SASL_PLAINTEXT, "
     "SASL_SSL, got 'HTTP'"),
    (["--listener", "PLAINTEXT://127.0.0.1:1", "--listener", "PLAINTEXT://127.0.0.1:2"],
     "invalid --listener PLAINTEXT://127.0.0.1:1 PLAINTEXT://127.0.0.1:2: listener PLAINTEXT is given twice; "
     "each name may listen once"),
    (["--listener", "PLAINTEXT://127.0.0.1:9092", "--port", "9093"],
     "invalid settings --listener PLAINTEXT://127.0.0.1:9092 and --port 9093: --listener replaces --host, --port "
     "and their advertised forms; use one or the other"),
    (["--advertised-listener", "SSL://h:1"],
     "invalid --advertised-listener SSL://h:1: there is no listener SSL (listeners: PLAINTEXT)"),
])
def test_listener_settings_are_checked(argv, message):
    assert refusal(argv) == message


@pytest.mark.parametrize("argv, message", [
    (["--brokers", "0"], "invalid --brokers 0: must be between 1 and 64"),
    (["--brokers", "3", "--node-id", "5"],
     "invalid settings --node-id 5 and --brokers 3: with several brokers the node ids are 0 to 2; leave out --node-id"),
    (["--default-replication-factor", "2"],
     "invalid settings --default-replication-factor 2 and --brokers 1 (default): --default-replication-factor must "
     "be at most --brokers"),
])
def test_cluster_settings_are_checked(argv, message):
    assert refusal(argv) == message


def test_several_brokers_are_nodes_zero_up_and_advertise_consecutive_ports():
    config = parse(["--brokers", "3", "--port", "9092", "--advertised-port", "19092"])
    assert config.node_ids() == [0, 1, 2] and parse([]).node_ids() == [1]
    spec = config.listeners()[0]
    assert [config.advertised_address(spec, i) for i in range(3)] == \
        [("127.0.0.1", 19092), ("127.0.0.1", 19093), ("127.0.0.1", 19094)]
    free = parse(["--port", "0", "--brokers", "2"])
    assert free.advertised_address(free.listeners()[0], 1) == ("127.0.0.1", 0)  # 0: the port it binds


@pytest.mark.parametrize("argv, message", [
    (["--listener", "SSL://127.0.0.1:9093"],
     "listener SSL://127.0.0.1:9093 speaks TLS and needs a certificate: pass --ssl-certfile PATH and --ssl-keyfile "
     "PATH (`kafkette certs DIR` makes a set for localhost)"),
    (["--ssl-client-auth", "sometimes"], "invalid --ssl-client-auth sometimes: must be one of none, requested, required"),
    (["--sasl-enabled-mechanisms", "GSSAPI"],
     "invalid --sasl-enabled-mechanisms GSSAPI: must be one or more of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER"),
    (["--sasl-user", "alice"], "invalid --sasl-user alice: expected NAME:PASSWORD, with a name and a password"),
    (["--sasl-user", "alice:"], "invalid --sasl-user alice:: expected NAME:PASSWORD, with a name and a password"),
    (["--sasl-users-file", "/nonexistent/users"],
     "invalid --sasl-users-file /nonexistent/users: cannot read it (No such file or directory)"),
    (["--connections-max-reauth-ms", "-1"], "invalid --connections-max-reauth-ms -1: must be at least 0"),
    (["--authorizer", "simple"], "invalid --authorizer simple: must be one of none, acl"),
    (["--authorizer", "acl", "--super-user", "admin"],
     "invalid --super-user admin: expected TYPE:NAME such as User:admin, got 'admin'"),
    (["--super-user", "User:admin"],
     "invalid --super-user User:admin: it applies to ACLs, which are off; add --authorizer acl"),
    (["--allow-everyone-if-no-acl-found", "false"],
     "invalid --allow-everyone-if-no-acl-found false: it applies to ACLs, which are off; add --authorizer acl"),
])
def test_security_settings_are_checked(argv, message):
    assert refusal(argv) == message


def test_acl_settings_are_kafkas_with_anything_allowed_where_no_acl_is_found():
    config = parse(["--authorizer", "acl", "--super-user", "User:admin", "--super-user", "User:CN=ops,O=x"])
    assert (config.authorizer, config.super_user, config.allow_everyone_if_no_acl_found) == (
        "acl", ("User:admin", "User:CN=ops,O=x"), True)
    assert parse([]).authorizer == "none"
    from_environment = parse([], {"KAFKETTE_AUTHORIZER": "acl", "KAFKETTE_SUPER_USER": "User:admin; User:CN=ops,O=x"})
    assert from_environment.super_user == ("User:admin", "User:CN=ops,O=x")  # ";" as in super.users


def test_a_users_file_names_its_bad_line(tmp_path):
    users = tmp_path / "users"
    users.write_text("# SASL users\nalice:secret:with:colons\n\nbob\n")
    assert refusal(["--sasl-users-file", str(users)]) == \
        f"invalid --sasl-users-file {users}: {users}, line 4: expected NAME:PASSWORD, with a name and a password"
    users.write_text("alice:secret:with:colons\n")
    from kafkette.broker.state import static_users

    assert static_users(parse(["--sasl-users-file", str(users), "--sasl-user", "bob:pw"])) == \
        [("alice", "secret:with:colons"), ("bob", "pw")]
