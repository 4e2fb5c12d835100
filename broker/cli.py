"""`kafkette serve`: the command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

import structlog

from kafkette.broker.config import add_arguments, from_arguments


def configure_logging(level: str) -> None:
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty()),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper(), logging.INFO)),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kafkette", description="A small Kafka-protocol broker.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the broker",
                                       description="Run the broker. Every flag can also be set "
                                                   "as an environment variable KAFKETTE_<NAME>.")
    add_arguments(serve_parser)
    args = parser.parse_args(argv)
    config = from_arguments(args)
    configure_logging(config.log_level)
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency; this keeps odd platforms running
        uvloop = None
    from kafkette.broker.server import serve

    if uvloop is not None:
        uvloop.run(serve(config))
    else:
        asyncio.run(serve(config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
