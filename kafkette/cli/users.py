"""`kafkette users`: list, add, delete SCRAM credentials, as kafka-configs.sh --entity-type users does.

It speaks the Kafka protocol only (DescribeUserScramCredentials and AlterUserScramCredentials, KIP-554),
so it manages Apache Kafka's SCRAM users as well as kafkette's. PLAIN users are the broker's own settings
(--sasl-user, --sasl-users-file). A password is read from standard input unless --password gives it.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from kafkette.cli.common import EXIT_USAGE, CommandError, Output, connect
from kafkette.cluster import Cluster, check
from kafkette.protocol import scram
from kafkette.protocol.messages import ALTER_USER_SCRAM_CREDENTIALS, DESCRIBE_USER_SCRAM_CREDENTIALS

MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")
CHANGE_COLUMNS = [("user", "User"), ("mechanism", "Mechanism"), ("change", "Change")]


def users_list(args: argparse.Namespace, out: Output) -> None:
    with connect(args) as cluster:
        results = describe(cluster, args.users or None)
    rows = [{"user": r.user, "mechanisms": [f"{_mechanism(c.mechanism)} ({c.iterations} iterations)"
                                            for c in r.credential_infos]}
            for r in results if not r.error_code]
    out.rows([("user", "User"), ("mechanisms", "Mechanisms")], rows, empty="no SCRAM user")
    for r in results:
        check(r.error_code, f"user {r.user!r}", r.error_message)


def users_add(args: argparse.Namespace, out: Output) -> None:
    R = ALTER_USER_SCRAM_CREDENTIALS.Request
    password = args.password if args.password is not None else _read_password(args.user)
    if not password:
        raise CommandError("the password is empty", EXIT_USAGE)
    requests = []
    for name in args.mechanism or MECHANISMS:
        mechanism = scram.BY_NAME[name]
        salt = scram.random_salt()
        requests.append(R(deletions=[], upsertions=[R.ScramCredentialUpsertion(
            name=args.user, mechanism=mechanism.type, iterations=args.iterations, salt=salt,
            salted_password=mechanism.salted_password(password, salt, args.iterations))]))
    with connect(args) as cluster:
        _alter(cluster, out, requests, "set")


def users_delete(args: argparse.Namespace, out: Output) -> None:
    R = ALTER_USER_SCRAM_CREDENTIALS.Request
    with connect(args) as cluster:
        if args.mechanism:
            types = [scram.BY_NAME[name].type for name in args.mechanism]
        else:
            (result,) = describe(cluster, [args.user])
            check(result.error_code, f"user {args.user!r}", result.error_message)
            types = [c.mechanism for c in result.credential_infos]
        _alter(cluster, out, [R(deletions=[R.ScramCredentialDeletion(name=args.user, mechanism=t)], upsertions=[])
                              for t in types], "deleted")


def describe(cluster: Cluster, users: list[str] | None) -> list[Any]:
    R = DESCRIBE_USER_SCRAM_CREDENTIALS.Request
    answer = cluster.request(DESCRIBE_USER_SCRAM_CREDENTIALS,
                             R(users=None if users is None else [R.UserName(name=name) for name in users]))
    check(answer.error_code, "describing SCRAM users", answer.error_message)
    return list(answer.results)


def _alter(cluster: Cluster, out: Output, requests: list[Any], change: str) -> None:
    """One request per mechanism: Kafka allows a user once per request."""
    rows = []
    for request in requests:
        (result,) = cluster.request(ALTER_USER_SCRAM_CREDENTIALS, request).results
        mechanism = _mechanism((request.upsertions or request.deletions)[0].mechanism)
        check(result.error_code, f"user {result.user!r} {mechanism}", result.error_message)
        rows.append({"user": result.user, "mechanism": mechanism, "change": change})
    out.rows(CHANGE_COLUMNS, rows)


def _mechanism(code: int) -> str:
    return scram.BY_TYPE[code].name if code in scram.BY_TYPE else f"mechanism {code}"


def _read_password(user: str) -> str:
    if sys.stdin.isatty():
        return getpass.getpass(f"password for {user}: ")
    return sys.stdin.readline().rstrip("\r\n")
