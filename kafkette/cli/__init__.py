"""The client commands of `kafkette`: txn, groups, topics, produce, consume, dump, users, acls, certs, faults,
requests, cluster.

They speak only the Kafka protocol (through `kafkette.cluster`), so they work against Apache
Kafka as well as kafkette; `dump --data-dir` reads a stopped broker's files instead, `certs`
writes files, and `faults`, `requests` and `cluster` speak to a kafkette broker's HTTP admin API
(`--admin`). Every command that asks a broker over the Kafka protocol reaches a TLS or SASL listener
with librdkafka's client properties (--command-config FILE, -X KEY=VALUE). This module declares their
arguments only: a command's module (`kafkette.cli.txn`, ...) is imported when that command runs, so
`kafkette serve` loads none of them. Exit codes are in `kafkette.cli.common`.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path
from typing import Any, Callable, NoReturn

from kafkette.cli.common import EXIT_USAGE, admin_arguments, connection_arguments

EXIT_CODES = "exit status: 0 done, 1 the operation failed or what it names does not exist, " \
             "2 a usage error or no broker reachable"
TXN_STATES = ["Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort",
              "PrepareEpochFence"]


COMMANDS = ("txn", "groups", "topics", "produce", "consume", "dump", "users", "acls", "certs", "faults", "requests",
            "cluster")


class OneLineParser(argparse.ArgumentParser):
    """Usage errors in one line (argparse prints the whole usage first) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def main(argv: list[str] | None = None) -> int:
    """`kafkette COMMAND ...` for the client COMMANDS alone: the broker's modules (asyncio, structlog) stay
    unloaded, which saves a command about 0.14 s."""
    parser = OneLineParser(prog="kafkette")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130


def add_commands(commands: Any) -> None:
    """Add the client commands to the `kafkette` subparsers."""
    common = connection_arguments()
    _txn(_group(commands, "txn", "see transactions and end stuck ones (as kafka-transactions.sh)"), common)
    _groups(_group(commands, "groups", "consumer groups, their lag, and offset resets "
                                       "(as kafka-consumer-groups.sh)"), common)
    _topics(_group(commands, "topics", "list, create, describe, delete topics and change their configs"), common)
    _produce(commands, common)
    _consume(commands, common)
    _dump(commands, common)
    _users(_group(commands, "users", "SCRAM users: list, add, delete (as kafka-configs.sh --entity-type users)"),
           common)
    _acls(_group(commands, "acls", "ACLs: add, list, remove (as kafka-acls.sh)"), common)
    _certs(commands)
    admin = admin_arguments()
    _faults(_group(commands, "faults", "fault rules of a kafkette broker: answer requests with errors, drop, delay "
                                       "or hold them (kafkette serve --admin-api true)"), admin)
    _requests(commands, admin)
    _cluster(_group(commands, "cluster", "the brokers of a simulated cluster (kafkette serve --brokers N --admin-api "
                                         "true): take them down and up, move leaders and coordinators"), admin)


def _txn(sub: Any, common: argparse.ArgumentParser) -> None:
    p = _command(sub, common, "txn", "list", "list_transactions", "transactional ids known to the coordinators")
    p.add_argument("--state", action="append", default=[], metavar="STATE",
                   help=f"only these states (repeatable): {', '.join(TXN_STATES)}")
    p.add_argument("--producer-id", action="append", type=int, default=[], metavar="ID",
                   help="only these producer ids (repeatable)")
    p.add_argument("--duration-filter", type=int, default=-1, metavar="MS",
                   help="only transactions started longer ago than this (ListTransactions v1: Kafka 3.8+)")
    p = _command(sub, common, "txn", "describe", "describe", "state, producer, timeout and partitions of one "
                                                              "transactional id")
    p.add_argument("transactional_id", metavar="ID")
    p = _command(sub, common, "txn", "describe-producers", "describe_producers",
                 "producer ids, epochs, sequences and open transactions of one partition")
    p.add_argument("topic", metavar="TOPIC")
    p.add_argument("partition", type=int, metavar="PARTITION")
    p.add_argument("--broker-id", type=int, metavar="B", help="ask this broker instead of the partition's leader")
    p = _command(sub, common, "txn", "find-hanging", "find_hanging",
                 "open transactions older than --max-transaction-timeout, and whether a coordinator will "
                 "still end them")
    p.add_argument("--broker-id", type=int, metavar="B", help="search every partition this broker holds")
    p.add_argument("--topic", metavar="TOPIC", help="search this topic only")
    p.add_argument("--partition", type=int, metavar="P", help="search this partition of --topic only")
    p.add_argument("--max-transaction-timeout", type=int, default=15, metavar="MIN",
                   help="only transactions open longer than this many minutes (default 15, Kafka's "
                        "transaction.max.timeout.ms)")
    p = _command(sub, common, "txn", "abort", "abort", "end an open transaction with an ABORT marker")
    p.add_argument("--transactional-id", metavar="ID",
                   help="fence this transactional id's producer: its coordinator bumps the epoch and aborts "
                        "the open transaction on every partition (as Admin.fenceProducers)")
    p.add_argument("--topic", metavar="TOPIC", help="the partition of a hanging transaction ...")
    p.add_argument("--partition", type=int, metavar="P")
    p.add_argument("--start-offset", type=int, metavar="OFFSET",
                   help="... and the offset its transaction started at (see find-hanging): the producer id and "
                        "epochs are looked up with DescribeProducers, and the ABORT marker is written there")
    p.add_argument("--producer-id", type=int, metavar="ID", help="instead of --start-offset: the producer id ...")
    p.add_argument("--producer-epoch", type=int, metavar="EPOCH", help="... its epoch ...")
    p.add_argument("--coordinator-epoch", type=int, metavar="EPOCH", help="... and the coordinator epoch")


def _groups(sub: Any, common: argparse.ArgumentParser) -> None:
    p = _command(sub, common, "groups", "list", "list_groups", "every group with its state and type")
    p.add_argument("--state", action="append", default=[], metavar="STATE", help="only groups in this state")
    p = _command(sub, common, "groups", "describe", "describe", "a group's state, members, assignment, and "
                                                                "committed offset, log end, LSO and lag per partition")
    p.add_argument("group", metavar="GROUP")
    p = _command(sub, common, "groups", "reset-offsets", "reset_offsets",
                 "move a group's committed offsets (prints the plan; --execute commits it)")
    p.add_argument("group", metavar="GROUP")
    p.add_argument("--topic", action="append", required=True, metavar="TOPIC[:P,P...]",
                   help="a topic, or some of its partitions (repeatable)")
    to = p.add_mutually_exclusive_group(required=True)
    to.add_argument("--to-earliest", action="store_true", help="to the log start offset")
    to.add_argument("--to-latest", action="store_true", help="to the log end offset")
    to.add_argument("--to-offset", type=int, metavar="N", help="to offset N (kept within the log)")
    to.add_argument("--to-datetime", metavar="ISO", help="to the first record at or after this time, "
                                                         "e.g. 2026-01-31T12:00:00 (UTC unless it says otherwise)")
    to.add_argument("--shift-by", type=int, metavar="N", help="by N from the committed offset (negative: back)")
    run = p.add_mutually_exclusive_group()
    run.add_argument("--execute", action="store_true", help="commit the new offsets")
    run.add_argument("--dry-run", action="store_true", help="only print the plan (the default)")
    p = _command(sub, common, "groups", "delete", "delete", "delete groups with no active members, and their offsets")
    p.add_argument("groups", nargs="+", metavar="GROUP")


def _topics(sub: Any, common: argparse.ArgumentParser) -> None:
    _command(sub, common, "topics", "list", "list_topics", "every topic and its partition count")
    p = _command(sub, common, "topics", "create", "create", "create a topic")
    p.add_argument("topic", metavar="TOPIC")
    p.add_argument("--partitions", type=int, default=-1, metavar="N", help="(default: the broker's)")
    p.add_argument("--replication-factor", type=int, default=-1, metavar="N", help="(default: the broker's)")
    p.add_argument("--config", action="append", default=[], metavar="KEY=VALUE", help="a topic config (repeatable)")
    p = _command(sub, common, "topics", "describe", "describe", "partitions with leader, log start, LSO and high "
                                                                "watermark, and the configs set on the topic")
    p.add_argument("topics", nargs="*", metavar="TOPIC", help="(default: every topic)")
    p = _command(sub, common, "topics", "delete", "delete", "delete topics")
    p.add_argument("topics", nargs="+", metavar="TOPIC")
    p = _command(sub, common, "topics", "alter-config", "alter_config", "set or remove topic configs")
    p.add_argument("topic", metavar="TOPIC")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="set a config (repeatable)")
    p.add_argument("--delete", action="append", default=[], metavar="KEY", help="back to the default (repeatable)")


def _produce(commands: Any, common: argparse.ArgumentParser) -> None:
    p = _command(commands, common, None, "produce", "produce", "send the lines of standard input as records")
    p.add_argument("topic", metavar="TOPIC")
    p.add_argument("--key-separator", metavar="SEP", help="split each line at the first SEP into key and value")
    p.add_argument("--partition", type=int, metavar="P",
                   help="(default: by the key's murmur2 hash as Kafka's producers do; lines without a key all go "
                        "to one partition picked at random)")
    p.add_argument("--transactional-id", metavar="ID", help="send every line in one transaction, committed at the end")


def _consume(commands: Any, common: argparse.ArgumentParser) -> None:
    p = _command(commands, common, None, "consume", "consume", "print a topic's records")
    p.add_argument("topic", metavar="TOPIC")
    p.add_argument("--partition", type=int, action="append", metavar="P", help="only this partition (repeatable)")
    start = p.add_mutually_exclusive_group()
    start.add_argument("--from-beginning", action="store_true", help="from the log start where the group has no "
                                                                     "committed offset (default: from the end)")
    start.add_argument("--offset", type=int, metavar="N", help="from offset N of every partition read")
    p.add_argument("--isolation", choices=["read_uncommitted", "read_committed"], default="read_uncommitted",
                   help="read_committed skips aborted records and waits at the LSO (default read_uncommitted)")
    p.add_argument("--group", metavar="GROUP", help="start from this group's committed offsets and commit what was "
                                                    "printed (as a standalone member: no rebalancing)")
    p.add_argument("--count", type=int, metavar="N", help="stop after N records")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="stop when no record arrived for this long")
    p.add_argument("--format", metavar="FMT", help="kcat's tokens: %%t topic, %%p partition, %%o offset, %%k key, "
                                                   "%%s value, %%T timestamp, %%h headers, \\n, \\t (default '%%s\\n')")


def _dump(commands: Any, common: argparse.ArgumentParser) -> None:
    p = _command(commands, common, None, "dump", "dump",
                 "a partition's batches: offsets, producers, transactions, markers, what a read_committed reader "
                 "sees, and where the log start, LSO and high watermark stand")
    p.add_argument("topic", metavar="TOPIC")
    p.add_argument("partition", type=int, metavar="PARTITION")
    p.add_argument("--from", dest="start", type=int, metavar="N", help="from offset N (default: the log start)")
    p.add_argument("--limit", type=int, default=100, metavar="K", help="at most K batches (default 100)")
    p.add_argument("--records", action="store_true", help="list every record under its batch")
    p.add_argument("--data-dir", metavar="DIR", help="read a stopped broker's files instead of asking a broker "
                                                     "(as kafka-dump-log.sh), aborted-transaction index included")


def _users(sub: Any, common: argparse.ArgumentParser) -> None:
    p = _command(sub, common, "users", "list", "users_list", "users and their SCRAM mechanisms")
    p.add_argument("users", nargs="*", metavar="USER", help="(default: every user)")
    p = _command(sub, common, "users", "add", "users_add", "add a user, or change its password")
    p.add_argument("user", metavar="USER")
    p.add_argument("--password", help="(default: read from standard input; a flag shows in `ps`)")
    p.add_argument("--mechanism", action="append", choices=["SCRAM-SHA-256", "SCRAM-SHA-512"],
                   help="repeatable (default: both)")
    p.add_argument("--iterations", type=int, default=4096, metavar="N", help="4096 to 16384 (default 4096)")
    p = _command(sub, common, "users", "delete", "users_delete", "delete a user's SCRAM credentials")
    p.add_argument("user", metavar="USER")
    p.add_argument("--mechanism", action="append", choices=["SCRAM-SHA-256", "SCRAM-SHA-512"],
                   help="repeatable (default: every one the user has)")


def _acls(sub: Any, common: argparse.ArgumentParser) -> None:
    resources = argparse.ArgumentParser(add_help=False)
    resources.add_argument("--topic", action="append", default=[], metavar="TOPIC", help="repeatable")
    resources.add_argument("--group", action="append", default=[], metavar="GROUP", help="repeatable")
    resources.add_argument("--transactional-id", action="append", default=[], metavar="ID", help="repeatable")
    resources.add_argument("--cluster", action="store_true", help="the cluster itself")
    resources.add_argument("--resource-pattern-type", default="literal", metavar="TYPE",
                           help="literal (default) or prefixed; to list or remove, also any (either, the exact name) "
                                "or match (every ACL that applies to the name)")
    entries = argparse.ArgumentParser(add_help=False)
    entries.add_argument("--allow-principal", action="append", default=[], metavar="TYPE:NAME",
                         help="e.g. User:alice, or User:* for everyone (repeatable)")
    entries.add_argument("--deny-principal", action="append", default=[], metavar="TYPE:NAME", help="repeatable")
    entries.add_argument("--allow-host", action="append", default=[], metavar="HOST",
                         help="the allowed principals' client address (repeatable; default every host)")
    entries.add_argument("--deny-host", action="append", default=[], metavar="HOST",
                         help="the denied principals' client address (repeatable; default every host)")
    entries.add_argument("--operation", action="append", default=[], metavar="OP",
                         help="Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, "
                              "AlterConfigs, IdempotentWrite, All (repeatable; default All)")
    p = _command(sub, common, "acls", "add", "add", "add ACLs", parents=[resources, entries])
    p.add_argument("--producer", action="store_true", help="what a producer needs: WRITE, DESCRIBE, CREATE on "
                                                           "--topic, WRITE, DESCRIBE on --transactional-id")
    p.add_argument("--idempotent", action="store_true", help="with --producer: IDEMPOTENT_WRITE on the cluster")
    p.add_argument("--consumer", action="store_true", help="what a consumer needs: READ, DESCRIBE on --topic, "
                                                           "READ on --group")
    p = _command(sub, common, "acls", "list", "list_acls", "list ACLs (of the resources named, or all)",
                 parents=[resources])
    p.add_argument("--principal", action="append", default=[], metavar="TYPE:NAME",
                   help="only this principal's ACLs (repeatable)")
    _command(sub, common, "acls", "remove", "remove", "remove the ACLs of the resources named (those of the "
                                                      "principals and operations named, if any)",
             parents=[resources, entries])


def _certs(commands: Any) -> None:
    p = _command(commands, None, None, "certs", "certs", "make a CA, a broker and a client certificate for "
                                                         "local TLS, and print how to use them")
    p.add_argument("directory", type=Path, metavar="DIR")
    p.add_argument("--client-name", default="client", metavar="CN",
                   help="the client certificate's common name (default client)")
    p.add_argument("--force", action="store_true", help="replace certificates already in DIR")
def _faults(sub: Any, admin: argparse.ArgumentParser) -> None:
    p = _command(sub, admin, "faults", "add", "add", "add a rule: which requests it matches, what it does to them, "
                                                     "and how often")
    match = p.add_argument_group("which requests (all that are given)")
    match.add_argument("--api", required=True, metavar="API", help="an API name as Kafka spells it (EndTxn) or its key")
    match.add_argument("--version", type=int, metavar="V", help="only this request version")
    match.add_argument("--client-id", metavar="ID", help="only from this client.id")
    match.add_argument("--transactional-id", metavar="ID", help="only requests naming this transactional id")
    match.add_argument("--group-id", metavar="ID", help="only requests naming this group")
    match.add_argument("--topic", metavar="TOPIC", help="only requests naming this topic")
    match.add_argument("--partition", type=int, metavar="P", help="only requests naming this partition")
    match.add_argument("--broker", type=int, metavar="ID", help="only requests sent to this broker id")
    act = p.add_argument_group("what it does (one of)").add_mutually_exclusive_group(required=True)
    act.add_argument("--error", metavar="ERROR", help="answer with this error, unapplied: a Kafka error name "
                                                      "(COORDINATOR_NOT_AVAILABLE) or code (15)")
    act.add_argument("--drop-before", dest="drop", action="store_const", const="before",
                     help="close the connection instead of handling the request")
    act.add_argument("--drop-after", dest="drop", action="store_const", const="after",
                     help="apply the request, then close the connection before answering (the commit gap)")
    act.add_argument("--delay", dest="delay_ms", type=int, metavar="MS", help="apply it, and answer MS later")
    act.add_argument("--black-hole", dest="black_hole_ms", type=int, metavar="MS",
                     help="neither apply nor answer it; close the connection after MS")
    act.add_argument("--throttle", dest="throttle_ms", type=int, metavar="MS",
                     help="apply it, and answer with throttle_time_ms MS")
    p.add_argument("--partitions-only", dest="scope", action="store_const", const="partitions",
                   help="with --error: only the matching partitions get it; the rest is applied as usual")
    fire = p.add_argument_group("how often")
    times = fire.add_mutually_exclusive_group()
    times.add_argument("--count", type=int, default=1, metavar="N", help="fire on N matching calls (default 1)")
    times.add_argument("--always", dest="count", action="store_const", const=None, help="fire on every matching call")
    fire.add_argument("--nth", type=int, default=1, metavar="N", help="start from the Nth matching call (default 1)")
    fire.add_argument("--probability", type=float, default=1.0, metavar="P",
                      help="fire on a matching call with this probability (default 1)")
    fire.add_argument("--seed", type=int, metavar="S", help="seed of the rule's random draws, to replay a run "
                                                          "(default: a random one, shown)")
    _command(sub, admin, "faults", "list", "list_rules", "the rules, with how often each matched and fired")
    p = _command(sub, admin, "faults", "remove", "remove", "remove rules")
    p.add_argument("ids", nargs="+", type=int, metavar="ID")
    _command(sub, admin, "faults", "clear", "clear", "remove every rule")


def _requests(commands: Any, admin: argparse.ArgumentParser) -> None:
    p = _command(commands, admin, None, "requests", "requests",
                 "the requests a kafkette broker received (its request log), oldest first, with the fault rule "
                 "that answered each")
    p.add_argument("--since", type=int, default=0, metavar="SEQ", help="only those after this sequence number "
                                                                       "(the last one printed before)")
    p.add_argument("--api", metavar="API", help="only this API (a name or a key)")
    p.add_argument("--client-id", metavar="ID", help="only from this client.id")
    p.add_argument("--limit", type=int, metavar="N", help="only the newest N")


def _cluster(sub: Any, admin: argparse.ArgumentParser) -> None:
    _command(sub, admin, "cluster", "status", "status", "the brokers, which are up, and each partition's leader, "
                                                        "leader epoch, replicas and in-sync replicas")
    for action, summary in (("down", "take a broker down: its listeners refuse and its connections drop; the "
                                     "partitions it led move to other in-sync replicas"),
                            ("up", "bring a broker back on its ports")):
        p = _command(sub, admin, "cluster", action, action, summary)
        p.add_argument("node", type=int, metavar="BROKER")
    p = _command(sub, admin, "cluster", "move-leader", "move_leader",
                 "make a broker the leader of a partition (a new leader epoch)")
    p.add_argument("topic", metavar="TOPIC")
    p.add_argument("partition", type=int, metavar="PARTITION")
    p.add_argument("node", type=int, metavar="BROKER")
    p = _command(sub, admin, "cluster", "move-coordinator", "move_coordinator",
                 "move the coordinator of a group or transactional id to a broker (with every key of its "
                 "__consumer_offsets or __transaction_state partition)")
    p.add_argument("kind", choices=["group", "transaction"], metavar="group|transaction")
    p.add_argument("key", metavar="ID")
    p.add_argument("node", type=int, metavar="BROKER")


# --------------------------------------------------------------------------------------------- plumbing


def _group(commands: Any, name: str, summary: str) -> Any:
    parser = commands.add_parser(name, help=summary, description=summary[0].upper() + summary[1:] + ".",
                                 epilog=EXIT_CODES)
    return parser.add_subparsers(dest="action", required=True, metavar="ACTION")


def _command(sub: Any, common: argparse.ArgumentParser | None, group: str | None, name: str, function: str,
             summary: str, parents: list[argparse.ArgumentParser] | None = None) -> argparse.ArgumentParser:
    """A command; `common` (the connection options) None for one that asks no broker."""
    parser = sub.add_parser(name, parents=([common] if common else []) + (parents or []), help=summary,
                            description=summary[0].upper() + summary[1:] + ".", epilog=EXIT_CODES)
    module = group or name
    parser.set_defaults(run=_lazy(module, function), name=f"{group} {name}" if group else name)
    if common is None:
        parser.set_defaults(json=False)
    return parser


def _lazy(module: str, function: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from kafkette.cli.common import run_client

        return run_client(getattr(importlib.import_module(f"kafkette.cli.{module}"), function), args)

    return run
