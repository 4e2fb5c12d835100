"""Listeners as Kafka has them: `NAME://HOST:PORT`, each with a security protocol and an advertised address.

`--listener PLAINTEXT://127.0.0.1:9092 --listener SASL_SSL://127.0.0.1:9094` opens two; without
`--listener` there is one PLAINTEXT listener on `--host`/`--port`. A client is told the
addresses of the listener it connected through (Metadata, FindCoordinator), as Kafka does.
"""

from __future__ import annotations

from dataclasses import dataclass

SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")


@dataclass(frozen=True)
class ListenerSpec:
    name: str  # Kafka's listener name; here also its security protocol
    host: str
    port: int

    @property
    def security_protocol(self) -> str:
        return self.name

    def __str__(self) -> str:
        return f"{self.name}://{self.host}:{self.port}"


def parse_listener(text: str) -> ListenerSpec:
    """`NAME://HOST:PORT`. Raises ValueError saying what is wrong."""
    name, sep, address = text.partition("://")
    host, colon, port = address.rpartition(":")
    if not sep or not colon or not port.isdigit():
        raise ValueError(f"expected NAME://HOST:PORT, e.g. PLAINTEXT://127.0.0.1:9092, got {text!r}")
    if name not in SECURITY_PROTOCOLS:
        raise ValueError(f"the listener name must be one of {', '.join(SECURITY_PROTOCOLS)}, got {name!r}")
    if not 0 <= int(port) <= 65535:
        raise ValueError(f"the port must be between 0 and 65535, got {port}")
    return ListenerSpec(name, host.strip("[]"), int(port))


def parse_listeners(items: tuple[str, ...]) -> tuple[ListenerSpec, ...]:
    """Each item once; a name may appear only once (as in Kafka's `listeners`)."""
    specs = tuple(parse_listener(item) for item in items)
    names = [s.name for s in specs]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate is not None:
        raise ValueError(f"listener {duplicate} is given twice; each name may listen once")
    return specs


@dataclass(frozen=True)
class Listener:
    """Where a connection came in: the listener's name and security protocol, and the broker behind it."""

    name: str
    security_protocol: str
    node_id: int
    advertised: tuple[str, int]  # what Metadata and FindCoordinator tell clients of this broker
