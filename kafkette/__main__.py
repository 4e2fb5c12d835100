"""`python -m kafkette` and the `kafkette` script.

The client commands (`kafkette.cli.COMMANDS`) run without the broker's modules. structlog imports
rich (for its tracebacks) whenever rich is installed, and rich is installed for the client commands'
tables; a broker has no use for it, so for `serve` rich is hidden before anything imports structlog:
a broker starts without loading it (about 0.1 s) and logs plain tracebacks.
"""

import sys


def main() -> int:
    from kafkette.cli import COMMANDS, main as client

    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command in COMMANDS:
        return client()
    if command == "serve":
        sys.modules.setdefault("rich", None)  # type: ignore[arg-type]  # None: "import rich" fails here
    from kafkette.broker.cli import main as run

    return run()


if __name__ == "__main__":
    sys.exit(main())
