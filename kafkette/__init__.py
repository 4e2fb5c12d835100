"""kafkette: a small, fast, durable broker that speaks the Apache Kafka protocol.

The broker lives in `kafkette.broker`, the sans-I/O protocol in `kafkette.protocol`
and the log in `kafkette.storage`. `kafkette.LocalBroker` runs one in a child
process (see `kafkette.local_broker`); `kafkette.pytest_plugin` gives it to tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["LocalBroker", "__version__"]

if TYPE_CHECKING:
    from kafkette.local_broker import LocalBroker


def __getattr__(name: str) -> Any:
    # Imported on first use: `import kafkette` stays as cheap as reading __version__.
    if name == "LocalBroker":
        from kafkette.local_broker import LocalBroker

        return LocalBroker
    raise AttributeError(f"module 'kafkette' has no attribute {name!r}")
