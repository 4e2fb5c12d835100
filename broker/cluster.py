"""The brokers clients are told of: node ids and, per listener name, the address each advertises.

A client is given the addresses of the listener it came in through (Kafka's rule), so a
client on a SASL_SSL listener never learns a PLAINTEXT address.
"""

from __future__ import annotations

from kafkette.broker.listeners import Listener


class Cluster:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def add(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def brokers(self, listener_name: str) -> list[Listener]:
        """Every broker's listener of this name, by node id."""
        return sorted((lsn for lsn in self._listeners if lsn.name == listener_name), key=lambda lsn: lsn.node_id)

    def listener_strings(self, node_id: int) -> list[str]:
        """`NAME://HOST:PORT` of each listener of a node, as DescribeConfigs reports advertised.listeners."""
        return [f"{lsn.name}://{lsn.advertised[0]}:{lsn.advertised[1]}" for lsn in self._listeners
                if lsn.node_id == node_id]
