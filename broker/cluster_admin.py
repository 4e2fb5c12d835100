"""The simulated cluster's admin routes (`--admin-api`): see it, take brokers down and up, move leaders and
coordinators. Clients: `kafkette cluster ...` and `LocalBroker.cluster` (kafkette.cluster_control).

    GET  /admin/cluster                              nodes, controller, partitions, coordinator partitions
    POST /admin/cluster/brokers/{id}/down            its listeners close, its connections drop
    POST /admin/cluster/brokers/{id}/up
    POST /admin/cluster/leaders                      {"topic": T, "partition": P, "node": N}
    GET  /admin/cluster/coordinators/{type}/{key}    type: group or transaction
    POST /admin/cluster/coordinators                 {"type": "group", "key": K, "node": N}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from kafkette.broker.admin_api import AdminError, admin_route
from kafkette.broker.cluster import COORDINATOR_KINDS, COORDINATOR_TOPICS, ClusterError, coordinator_partition

if TYPE_CHECKING:
    from kafkette.broker.state import Broker

STATUS = {"unknown": 404, "conflict": 409}


@admin_route("GET", "/cluster")
async def status(broker: Broker, _request: web.Request) -> Any:
    return broker.cluster.status()


@admin_route("POST", "/cluster/brokers/{node}/down")
async def down(broker: Broker, request: web.Request) -> Any:
    node = _int(request.match_info["node"], "the broker id")
    return {"node": node, "up": False, **_changed(_applied(lambda: broker.cluster.down(node)))}


@admin_route("POST", "/cluster/brokers/{node}/up")
async def up(broker: Broker, request: web.Request) -> Any:
    node = _int(request.match_info["node"], "the broker id")
    try:
        elected = await broker.cluster.up(node)
    except ClusterError as e:
        raise AdminError(STATUS[e.kind], str(e)) from None
    return {"node": node, "up": True, **_changed(elected)}


@admin_route("POST", "/cluster/leaders")
async def move_leader(broker: Broker, request: web.Request) -> Any:
    body = await _object(request)
    topic = _field(body, "topic", str)
    partition, node = _field(body, "partition", int), _field(body, "node", int)
    moved = _applied(lambda: broker.cluster.move_leader(topic, partition, node))
    state = broker.cluster.partition(topic, partition)
    assert state is not None
    return {"topic": topic, "partition": partition, "leader": state.leader, "leader_epoch": state.leader_epoch,
            "replicas": state.replicas, "isr": state.isr, "moved": moved}


@admin_route("GET", "/cluster/coordinators/{type}/{key}")
async def coordinator(broker: Broker, request: web.Request) -> Any:
    kind = _kind(request.match_info["type"])
    return _coordinator(broker, request.match_info["type"], kind, request.match_info["key"])


@admin_route("POST", "/cluster/coordinators")
async def move_coordinator(broker: Broker, request: web.Request) -> Any:
    body = await _object(request)
    name, key, node = _field(body, "type", str), _field(body, "key", str), _field(body, "node", int)
    kind = _kind(name)
    _applied(lambda: broker.cluster.move_coordinator(kind, key, node))
    return _coordinator(broker, name, kind, key)


def _coordinator(broker: Broker, name: str, kind: int, key: str) -> dict:
    index = coordinator_partition(key)
    state = broker.cluster.topics[COORDINATOR_TOPICS[kind]][index]
    return {"type": name, "key": key, "partition": index, "node": state.leader, "leader_epoch": state.leader_epoch}


def _changed(partitions: list[tuple[str, int]]) -> dict:
    """The partitions whose leader changed: topics' partitions, and coordinator partitions by kind."""
    internal = {COORDINATOR_TOPICS[kind]: name for name, kind in COORDINATOR_KINDS.items()}
    return {"leaders_changed": [{"topic": t, "partition": p} for t, p in partitions if t not in internal],
            "coordinator_partitions_changed": {name: [p for t, p in partitions if t == topic]
                                               for topic, name in internal.items()}}


def _applied(change: Any) -> Any:
    try:
        return change()
    except ClusterError as e:
        raise AdminError(STATUS[e.kind], str(e)) from None


def _kind(name: str) -> int:
    if name not in COORDINATOR_KINDS:
        raise AdminError(400, f"the coordinator type must be one of {', '.join(COORDINATOR_KINDS)}, got {name!r}")
    return COORDINATOR_KINDS[name]


async def _object(request: web.Request) -> dict:
    body = await request.json()
    if not isinstance(body, dict):
        raise AdminError(400, "the body must be a JSON object")
    return body


def _field(body: dict, name: str, kind: type) -> Any:
    value = body.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise AdminError(400, f"the body needs {name!r}: {'an integer' if kind is int else 'a string'}")
    return value


def _int(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise AdminError(400, f"{what} must be an integer, got {text!r}") from None
