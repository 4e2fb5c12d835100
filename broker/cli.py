"""The command line: `kafkette serve`, `kafkette wait`, `kafkette --version`, `kafkette certs`, `kafkette users`,
and the client commands of `kafkette.cli` (txn, groups, topics, produce, consume, dump).

A failure to start is one line on stderr and exit status 2; the traceback is
printed too only with `--log-level debug`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import traceback
from pathlib import Path
from typing import Coroutine

import structlog

from kafkette import __version__
from kafkette.broker.config import BrokerConfig, ConfigError, add_arguments, env_name, from_arguments
from kafkette.broker.startup import StartupError
from kafkette.cli import OneLineParser, add_commands
from kafkette.storage.lock import DataDirError

EXIT_STARTUP_FAILED = 2


def configure_logging(level: str, log_format: str = "auto") -> None:
    """Log to stderr at `level`: readable lines (console), JSON lines (json), or auto: console on a terminal."""
    terminal = sys.stderr.isatty()
    if log_format == "json" or (log_format == "auto" and not terminal):
        renderer: structlog.typing.Processor = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=terminal)
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper(), logging.INFO)),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="kafkette", description="A small Kafka-protocol broker.")
    parser.add_argument("--version", action="version", version=f"kafkette {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the broker",
                                       description="Run the broker. Every flag but --ready-file can also be "
                                                   "set as an environment variable KAFKETTE_<NAME>.")
    add_arguments(serve_parser)
    serve_parser.add_argument("--ready-file", type=Path, metavar="PATH",
                              help="once the broker accepts requests, write its bootstrap address (host:port) "
                                   "to this file, then with several listeners one NAME://HOST:PORT line each; "
                                   "removed at a clean stop (useful with --port 0)")
    serve_parser.set_defaults(run=serve_command)
    wait_parser = commands.add_parser("wait", help="wait until a broker answers Metadata",
                                      description="Exit 0 as soon as a Kafka broker answers a Metadata request, "
                                                  "1 if none does within the timeout.")
    wait_parser.add_argument("--bootstrap-server", required=True, metavar="HOST:PORT")
    wait_parser.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                             help="give up after this long (default 30)")
    wait_parser.set_defaults(run=wait_command)
    add_commands(commands)
    from kafkette.cli_security import add_commands as add_security_commands

    add_security_commands(commands)  # certs, users
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130


def serve_command(args: argparse.Namespace) -> int:
    debug = (args.log_level or os.environ.get(env_name("log_level"), "")) == "debug"
    try:
        config = from_arguments(args)
        configure_logging(config.log_level, config.log_format)
        _run(_serve(config, args.ready_file))
    except (ConfigError, StartupError, DataDirError) as e:
        return _fail(str(e), debug)
    except Exception as e:
        return _fail(f"kafkette failed: {type(e).__name__}: {e} (run with --log-level debug for the traceback)",
                     debug)
    return 0


async def _serve(config: BrokerConfig, ready_file: Path | None) -> None:
    from kafkette.broker.server import serve  # the handlers: not needed by the other commands

    await serve(config, ready_file)


def _run(coroutine: Coroutine) -> None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency; this keeps odd platforms running
        asyncio.run(coroutine)
    else:
        uvloop.run(coroutine)


def _fail(message: str, debug: bool) -> int:
    if debug:
        traceback.print_exc()
    print(message, file=sys.stderr)
    return EXIT_STARTUP_FAILED


def wait_command(args: argparse.Namespace) -> int:
    from kafkette.client import wait_for_metadata

    try:
        wait_for_metadata(args.bootstrap_server, args.timeout)
    except TimeoutError as e:
        print(f"kafkette wait: {e}", file=sys.stderr)
        return 1
    except ValueError as e:
        print(f"kafkette wait: {e}", file=sys.stderr)
        return EXIT_STARTUP_FAILED
    return 0


if __name__ == "__main__":
    sys.exit(main())
