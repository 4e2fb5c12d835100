"""What every client command shares: exit codes, one-line errors, the connection, and output.

Exit codes, the same for every command:
    0  done
    1  the operation failed, or what it names does not exist (a broker's error code, a missing group)
    2  the command line is wrong, or no broker could be reached

Output is a table on a terminal (drawn by `rich`, imported only when a table is drawn) and JSON
with `--json`, for scripts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

if TYPE_CHECKING:
    from rich.console import Console

    from kafkette.admin_client import AdminApi
    from kafkette.cluster import Cluster

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEFAULT_BOOTSTRAP = "127.0.0.1:9092"
ADMIN_ENV = "KAFKETTE_ADMIN"
WIDTH_OFF_TERMINAL = 160  # rich's 80 columns would wrap most tables when the output is a file or a pipe


# What to do about the errors a person meets most, by Kafka's error name.
ADVICE = {
    "UNKNOWN_TOPIC_OR_PARTITION": "see `kafkette topics list` and `kafkette topics describe TOPIC`",
    "TOPIC_ALREADY_EXISTS": "choose another name, or delete it first with `kafkette topics delete`",
    "INVALID_CONFIG": "check the config's name and value (`kafkette topics describe TOPIC` shows those set)",
    "INVALID_PARTITIONS": "give --partitions a positive number",
    "INVALID_REPLICATION_FACTOR": "give a --replication-factor no larger than the number of brokers",
    "TRANSACTIONAL_ID_NOT_FOUND": "see `kafkette txn list`",
    "INVALID_PRODUCER_EPOCH": "the producer has moved on to a newer epoch: see `kafkette txn describe-producers`",
    "CLUSTER_AUTHORIZATION_FAILED": "this needs an ACL allowing it on the cluster (`kafkette acls list --cluster`) "
                                    "or a super user",
    "TOPIC_AUTHORIZATION_FAILED": "this needs an ACL allowing it on the topic (`kafkette acls list --topic TOPIC`)",
    "GROUP_AUTHORIZATION_FAILED": "this needs an ACL allowing it on the group (`kafkette acls list --group GROUP`)",
    "TRANSACTIONAL_ID_AUTHORIZATION_FAILED": "this needs an ACL allowing it on the transactional id "
                                             "(`kafkette acls list --transactional-id ID`)",
    "SECURITY_DISABLED": "the broker checks no ACLs: start kafkette with --authorizer acl (Kafka: authorizer.class.name)",
}


class CommandError(Exception):
    """Ends a command with a one-line message on stderr and `exit_code`."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Output:
    """Where a command's results go: a rich table or text on a terminal, JSON with --json."""

    def __init__(self, as_json: bool, stream: Any = None) -> None:
        self.as_json = as_json
        self.stream = stream or sys.stdout

    @cached_property
    def console(self) -> Console:
        from rich.console import Console

        terminal = self.stream.isatty()
        width = None if terminal or os.environ.get("COLUMNS") else WIDTH_OFF_TERMINAL
        return Console(file=self.stream, width=width, highlight=False, soft_wrap=False)

    def json(self, doc: Any) -> None:
        self.stream.write(json.dumps(doc, default=str) + "\n")
        self.stream.flush()

    def rows(self, columns: Sequence[tuple[str, str]], rows: list[dict[str, Any]], title: str | None = None,
             empty: str = "(none)") -> None:
        """`rows` as a table (columns are (key, heading)), or as a JSON list of the dicts."""
        if self.as_json:
            self.json(rows)
            return
        if not rows:
            self.console.print(empty if title is None else f"{title}: {empty}")
            return
        self.console.print(self.table(columns, rows, title))

    def table(self, columns: Sequence[tuple[str, str]], rows: list[dict[str, Any]], title: str | None = None) -> Any:
        from rich import box
        from rich.table import Table
        from rich.text import Text

        table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
        for _, heading in columns:
            table.add_column(heading, overflow="fold")
        for row in rows:
            table.add_row(*(Text(cell(row.get(key))) for key, _ in columns))  # Text: names are not markup
        return table

    def fields(self, fields: Sequence[tuple[str, str]], doc: dict[str, Any], title: str | None = None) -> None:
        """One object: a two-column table of (heading, value), or the dict as JSON."""
        if self.as_json:
            self.json(doc)
            return
        from rich.table import Table
        from rich.text import Text

        table = Table(title=title, title_justify="left", box=None, show_header=False, pad_edge=False)
        table.add_column(style="bold")
        table.add_column(overflow="fold")
        for key, heading in fields:
            table.add_row(heading, Text(cell(doc.get(key))))
        self.console.print(table)

    def text(self, line: str) -> None:
        """A line for people; with --json it is left out."""
        if not self.as_json:
            self.console.print(line, soft_wrap=True)  # not broken at the width: commands in it stay whole


def cell(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or "-"
    return str(value)


def connection_arguments() -> argparse.ArgumentParser:
    """The options every client command takes (a parent parser)."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--bootstrap-server", default=DEFAULT_BOOTSTRAP, metavar="HOST:PORT",
                        help=f"a broker of the cluster; several separated by commas (default {DEFAULT_BOOTSTRAP})")
    parent.add_argument("--command-config", type=Path, metavar="FILE",
                        help="client properties with librdkafka's names, KEY=VALUE a line: security.protocol, "
                             "sasl.mechanism, sasl.username, sasl.password, ssl.ca.location, ...")
    parent.add_argument("-X", dest="properties", action="append", default=[], metavar="KEY=VALUE",
                        help="a client property, as in --command-config (repeatable; wins over the file)")
    parent.add_argument("--json", action="store_true", help="print JSON instead of tables, for scripts")
    parent.add_argument("--request-timeout", type=float, default=10.0, metavar="SECONDS",
                        help="how long to wait for each broker answer (default 10)")
    return parent


def client_properties(args: argparse.Namespace) -> dict[str, str]:
    """The --command-config file's properties, then the -X ones. Raises CommandError saying which line is wrong."""
    given = [(f"{args.command_config}, line {number}", line) for number, line in enumerate(
        _read(args.command_config).splitlines(), 1)] if args.command_config else []
    given += [(f"-X {item}", item) for item in args.properties]
    properties = {}
    for where, line in given:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, eq, value = line.partition("=")
        if not eq or not key.strip():
            raise CommandError(f"{where}: expected KEY=VALUE", EXIT_USAGE)
        properties[key.strip()] = value.strip()
    return properties


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as e:
        raise CommandError(f"--command-config {path}: cannot read it ({e.strerror})", EXIT_USAGE) from None
def admin_arguments() -> argparse.ArgumentParser:
    """The options of the commands that speak to a broker's HTTP admin API (a parent parser)."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--admin", default=os.environ.get(ADMIN_ENV), metavar="HOST:PORT",
                        help=f"the broker's admin API: its --metrics-port address, or the http= line of its --ready-file "
                             f"(kafkette serve --admin-api true; env {ADMIN_ENV})")
    parent.add_argument("--json", action="store_true", help="print JSON instead of tables, for scripts")
    parent.add_argument("--request-timeout", type=float, default=10.0, metavar="SECONDS",
                        help="how long to wait for the broker's answer (default 10)")
    return parent


@contextmanager
def admin_api(args: argparse.Namespace) -> Iterator[AdminApi]:
    """The admin API of `--admin`; its refusals end the command as CommandErrors."""
    from kafkette.admin_client import AdminApi, AdminApiError

    if not args.admin:
        raise CommandError(f"give the broker's admin API address with --admin HOST:PORT or {ADMIN_ENV}: start the "
                           f"broker with --admin-api true (and --metrics-port PORT for a fixed one)", EXIT_USAGE)
    try:
        yield AdminApi(args.admin, timeout=args.request_timeout)
    except AdminApiError as e:
        raise CommandError(str(e), EXIT_USAGE if e.status == 0 else EXIT_FAILED) from None


def connect(args: argparse.Namespace) -> Cluster:
    from kafkette.client_security import ClientSecurity
    from kafkette.cluster import BrokerUnreachable, Cluster

    try:
        security = ClientSecurity.from_properties(client_properties(args))
    except ValueError as e:
        raise CommandError(f"client properties: {e}", EXIT_USAGE) from None
    try:
        return Cluster(args.bootstrap_server, timeout=args.request_timeout, security=security)
    except ValueError as e:
        raise CommandError(f"--bootstrap-server: {e}", EXIT_USAGE) from None
    except BrokerUnreachable as e:
        raise CommandError(f'no broker answers at {args.bootstrap_server} ({e.reason}): start one with '
                           f'"kafkette serve" or pass --bootstrap-server HOST:PORT', EXIT_USAGE) from None


Command = Callable[[argparse.Namespace, Output], "int | None"]


def run_client(command: Command, args: argparse.Namespace) -> int:
    """Run `command` (which connects with `connect(args)` if it needs a broker) and turn every
    failure into one line on stderr and its exit code."""
    from kafkette.client_security import AuthenticationError
    from kafkette.cluster import BrokerUnreachable, KafkaError, UnsupportedApi

    out = Output(args.json)
    try:
        return command(args, out) or EXIT_OK
    except CommandError as e:
        return fail(args, str(e), e.exit_code)
    except AuthenticationError as e:
        return fail(args, f"{e}: check the SASL properties (sasl.mechanism, sasl.username, sasl.password)",
                    EXIT_USAGE)
    except KafkaError as e:
        advice = ADVICE.get(e.name)
        return fail(args, f"{e}: {advice}" if advice else str(e), EXIT_FAILED)
    except BrokerUnreachable as e:
        return fail(args, f"{e}: is the broker still running?", EXIT_USAGE)
    except UnsupportedApi as e:
        return fail(args, f"{e}: this command needs a newer broker", EXIT_FAILED)
    except BrokenPipeError:  # `kafkette consume ... | head`: the reader is gone, which is no failure
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the flush at exit fails no more
        return EXIT_OK


def fail(args: argparse.Namespace, message: str, exit_code: int) -> int:
    print(f"kafkette {args.name}: {message}", file=sys.stderr)
    return exit_code
