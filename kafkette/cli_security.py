"""`kafkette certs DIR` and `kafkette users add|list|delete`: TLS certificates and SASL/SCRAM users.

`users` speaks the Kafka protocol only (DescribeUserScramCredentials and AlterUserScramCredentials,
KIP-554), so it manages Apache Kafka's SCRAM users as well as kafkette's. A secured listener is reached
with librdkafka properties: `--command-config FILE` (KEY=VALUE lines) and `-X KEY=VALUE`.

Exit status: 0 done, 1 the broker refused (its error is printed), 2 a usage error or no broker reachable.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from functools import partial
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_commands(commands: Any) -> None:
    certs = commands.add_parser("certs", help="make a CA, a broker and a client certificate for local TLS",
                                description="Write ca.pem, broker.pem, broker-key.pem (for localhost, 127.0.0.1 and "
                                            "::1), client.pem and client-key.pem into DIR, and print the settings "
                                            "that use them. For tests and local development only.")
    certs.add_argument("directory", type=Path, metavar="DIR")
    certs.add_argument("--client-name", default="client", metavar="CN",
                       help="the client certificate's common name (default client)")
    certs.add_argument("--force", action="store_true", help="replace certificates already in DIR")
    certs.set_defaults(run=certs_command)

    connection = argparse.ArgumentParser(add_help=False)
    connection.add_argument("--bootstrap-server", default="127.0.0.1:9092", metavar="HOST:PORT",
                            help="a broker to ask (default 127.0.0.1:9092)")
    connection.add_argument("--command-config", type=Path, metavar="FILE",
                            help="librdkafka client properties, KEY=VALUE a line (security.protocol, sasl.*, ssl.*)")
    connection.add_argument("-X", dest="properties", action="append", default=[], metavar="KEY=VALUE",
                            help="a client property (repeatable; wins over --command-config)")
    connection.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS")
    users = commands.add_parser("users", help="SASL/SCRAM users (as kafka-configs.sh --entity-type users)",
                                description="List, add and delete SCRAM credentials with Describe/"
                                            "AlterUserScramCredentials. PLAIN users come from the broker's "
                                            "--sasl-user and --sasl-users-file.").add_subparsers(dest="action",
                                                                                                 required=True)
    p = users.add_parser("list", parents=[connection], help="users and their SCRAM mechanisms")
    p.add_argument("users", nargs="*", metavar="USER", help="(default: every user)")
    p.set_defaults(run=partial(run_users, users_list))
    p = users.add_parser("add", parents=[connection], help="add a user, or change its password")
    p.add_argument("user", metavar="USER")
    p.add_argument("--password", help="(default: read from standard input; a flag shows in `ps`)")
    p.add_argument("--mechanism", action="append", choices=["SCRAM-SHA-256", "SCRAM-SHA-512"],
                   help="repeatable (default: both)")
    p.add_argument("--iterations", type=int, default=4096, metavar="N", help="4096 to 16384 (default 4096)")
    p.set_defaults(run=partial(run_users, users_add))
    p = users.add_parser("delete", parents=[connection], help="delete a user's SCRAM credentials")
    p.add_argument("user", metavar="USER")
    p.add_argument("--mechanism", action="append", choices=["SCRAM-SHA-256", "SCRAM-SHA-512"],
                   help="repeatable (default: every one the user has)")
    p.set_defaults(run=partial(run_users, users_delete))


# ---------------------------------------------------------------------------------------------- certs

def certs_command(args: argparse.Namespace) -> int:
    from kafkette.certs import FILES, create_certificates

    present = [name for name in FILES if (args.directory / name).exists()]
    if present and not args.force:
        print(f"kafkette certs: {args.directory} already holds {', '.join(present)}; pass --force to replace them",
              file=sys.stderr)
        return EXIT_FAILED
    certs = create_certificates(args.directory, args.client_name)
    d = certs.directory
    print(f"""Wrote {', '.join(str(d / name) for name in FILES)}.

The broker (TLS on 9093; SASL over TLS on 9094):
  kafkette serve --listener PLAINTEXT://127.0.0.1:9092 --listener SSL://127.0.0.1:9093 \\
      --listener SASL_SSL://127.0.0.1:9094 --sasl-user alice:alice-secret \\
      --ssl-certfile {certs.broker_cert} --ssl-keyfile {certs.broker_key} --ssl-cafile {certs.ca}
  add --ssl-client-auth required to ask SSL clients for their certificate (principal User:CN={args.client_name},O=kafkette local)

Clients (confluent_kafka / librdkafka properties):
  security.protocol=SSL                     (or SASL_SSL with sasl.mechanism, sasl.username, sasl.password)
  ssl.ca.location={certs.ca}
  ssl.certificate.location={certs.client_cert}    (with --ssl-client-auth)
  ssl.key.location={certs.client_key}""")
    return EXIT_OK


# ---------------------------------------------------------------------------------------------- users

def users_list(args: argparse.Namespace) -> int:
    from kafkette.protocol import scram

    results = _describe(args, args.users or None)
    failed = False
    for result in results:
        if result.error_code:
            failed = True
            print(f"{result.user}: {_error(result.error_code, result.error_message)}", file=sys.stderr)
        else:
            mechanisms = ", ".join(f"{scram.BY_TYPE[c.mechanism].name} ({c.iterations} iterations)"
                                   for c in result.credential_infos if c.mechanism in scram.BY_TYPE)
            print(f"{result.user}\t{mechanisms}")
    if not results:
        print("(no SCRAM users)")
    return EXIT_FAILED if failed else EXIT_OK


def users_add(args: argparse.Namespace) -> int:
    from kafkette.protocol import scram
    from kafkette.protocol.messages import ALTER_USER_SCRAM_CREDENTIALS

    R = ALTER_USER_SCRAM_CREDENTIALS.Request
    password = args.password if args.password is not None else _read_password(args.user)
    if not password:
        print("kafkette users add: the password is empty", file=sys.stderr)
        return EXIT_USAGE
    upsertions = []
    for name in args.mechanism or ("SCRAM-SHA-256", "SCRAM-SHA-512"):
        mechanism = scram.BY_NAME[name]
        salt = scram.random_salt()
        upsertions.append(R.ScramCredentialUpsertion(
            name=args.user, mechanism=mechanism.type, iterations=args.iterations, salt=salt,
            salted_password=mechanism.salted_password(password, salt, args.iterations)))
    # A user appears once per request (Kafka's rule), so one request per mechanism.
    return _alter(args, [R(deletions=[], upsertions=[u]) for u in upsertions], "set")


def users_delete(args: argparse.Namespace) -> int:
    from kafkette.protocol import scram
    from kafkette.protocol.messages import ALTER_USER_SCRAM_CREDENTIALS

    R = ALTER_USER_SCRAM_CREDENTIALS.Request
    if args.mechanism:
        types = [scram.BY_NAME[name].type for name in args.mechanism]
    else:
        (result,) = _describe(args, [args.user])
        if result.error_code:
            print(f"kafkette users delete: {args.user}: {_error(result.error_code, result.error_message)}",
                  file=sys.stderr)
            return EXIT_FAILED
        types = [c.mechanism for c in result.credential_infos]
    return _alter(args, [R(deletions=[R.ScramCredentialDeletion(name=args.user, mechanism=t)], upsertions=[])
                         for t in types], "deleted")


def _alter(args: argparse.Namespace, requests: list[Any], done: str) -> int:
    from kafkette.protocol import scram
    from kafkette.protocol.messages import ALTER_USER_SCRAM_CREDENTIALS

    status = EXIT_OK
    with _client(args) as client:
        for request in requests:
            (result,) = client.request(ALTER_USER_SCRAM_CREDENTIALS, 0, request).results
            change = (request.upsertions or request.deletions)[0]
            mechanism = scram.BY_TYPE[change.mechanism].name if change.mechanism in scram.BY_TYPE else change.mechanism
            if result.error_code:
                status = EXIT_FAILED
                print(f"kafkette users: {result.user} {mechanism}: {_error(result.error_code, result.error_message)}",
                      file=sys.stderr)
            else:
                print(f"{result.user}: {mechanism} {done}")
    return status


def _describe(args: argparse.Namespace, users: list[str] | None) -> list[Any]:
    from kafkette.protocol.messages import DESCRIBE_USER_SCRAM_CREDENTIALS

    R = DESCRIBE_USER_SCRAM_CREDENTIALS.Request
    body = R(users=None if users is None else [R.UserName(name=name) for name in users])
    with _client(args) as client:
        response = client.request(DESCRIBE_USER_SCRAM_CREDENTIALS, 0, body)
    if response.error_code:
        raise _Refused(_error(response.error_code, response.error_message))
    return list(response.results)


class _Refused(Exception):
    pass


def _client(args: argparse.Namespace) -> Any:
    from kafkette.client import RawClient
    from kafkette.client_security import ClientSecurity

    properties: dict[str, str] = {}
    lines = args.command_config.read_text().splitlines() if args.command_config else []
    for item in [line for line in lines if line.strip() and not line.lstrip().startswith("#")] + args.properties:
        key, eq, value = item.partition("=")
        if not eq:
            raise ValueError(f"expected KEY=VALUE, got {item!r}")
        properties[key.strip()] = value.strip()
    return RawClient(args.bootstrap_server, timeout=args.timeout, client_id="kafkette-users",
                     security=ClientSecurity.from_properties(properties))


def _read_password(user: str) -> str:
    if sys.stdin.isatty():
        return getpass.getpass(f"password for {user}: ")
    return sys.stdin.readline().rstrip("\r\n")


def _error(code: int, message: str | None) -> str:
    from kafkette.protocol.errors import ErrorCode

    name = ErrorCode(code).name if code in ErrorCode._value2member_map_ else f"error {code}"
    return f"{name}" + (f" ({message})" if message else "")


def run_users(run: Any, args: argparse.Namespace) -> int:  # defined last: the actions above are its `run`
    """Run a users action, turning what can go wrong on the way into one line and an exit status."""
    from kafkette.client import ConnectionClosed
    from kafkette.client_security import AuthenticationError

    try:
        return run(args)
    except _Refused as e:
        print(f"kafkette users: {e}", file=sys.stderr)
        return EXIT_FAILED
    except (ValueError, OSError, ConnectionClosed, AuthenticationError) as e:
        print(f"kafkette users: cannot ask {args.bootstrap_server}: {e}", file=sys.stderr)
        return EXIT_USAGE
