"""`python -m kafkette` and the `kafkette` script.

structlog imports rich (for its tracebacks) whenever rich is installed, and rich is installed for
the client commands' tables. A broker has no use for it: for `serve`, rich is hidden before anything
imports structlog, so a broker starts without loading it (about 0.1 s) and logs plain tracebacks.
"""

import sys


def main() -> int:
    if sys.argv[1:2] == ["serve"]:
        sys.modules.setdefault("rich", None)  # type: ignore[arg-type]  # None: "import rich" fails here
    from kafkette.broker.cli import main as run

    return run()


if __name__ == "__main__":
    sys.exit(main())
