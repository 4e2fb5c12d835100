"""The simulated cluster of a broker started with `--brokers N --admin-api true`, from Python.

    with LocalBroker(brokers=3, admin_api=True) as broker:
        broker.cluster.down(1)                        # its listeners refuse, its connections drop
        broker.cluster.up(1)
        broker.cluster.move_leader("orders", 0, 2)    # a new leader epoch: clients refresh their metadata
        broker.cluster.move_coordinator("group", "billing", 0)

Each call returns the broker's JSON answer (see kafkette.broker.cluster_admin); a refusal (an unknown
broker, one down already, ...) raises `AdminApiError` saying why. Standard library only, like
`kafkette.admin_client`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from kafkette.admin_client import AdminApi


class ClusterControl:
    def __init__(self, admin: AdminApi) -> None:
        self.admin = admin

    def status(self) -> dict[str, Any]:
        """Nodes (up or down, listeners), the controller, and every partition's leader, epoch, replicas and ISR."""
        return self.admin.get("/cluster")

    def down(self, node: int) -> dict[str, Any]:
        """Take broker `node` down; its partitions' leaders move to other in-sync replicas."""
        return self.admin.post(f"/cluster/brokers/{node}/down")

    def up(self, node: int) -> dict[str, Any]:
        """Bring broker `node` back on its ports."""
        return self.admin.post(f"/cluster/brokers/{node}/up")

    def leader(self, topic: str, partition: int) -> int:
        """The partition's leader now (-1: none)."""
        return next(p["leader"] for p in self.status()["partitions"]
                    if p["topic"] == topic and p["partition"] == partition)

    def move_leader(self, topic: str, partition: int, node: int) -> dict[str, Any]:
        """Make `node` the partition's leader (a new leader epoch); `moved` is False if it led already."""
        return self.admin.post("/cluster/leaders", {"topic": topic, "partition": partition, "node": node})

    def coordinator(self, kind: str, key: str) -> int:
        """The node coordinating a group (kind "group") or transactional id (kind "transaction")."""
        return self.admin.get(f"/cluster/coordinators/{kind}/{quote(key, safe='')}")["node"]

    def move_coordinator(self, kind: str, key: str, node: int) -> dict[str, Any]:
        """Move the coordinator of a group or transactional id to `node`, with every key of its partition."""
        return self.admin.post("/cluster/coordinators", {"type": kind, "key": key, "node": node})
