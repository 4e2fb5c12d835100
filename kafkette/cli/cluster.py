"""`kafkette cluster`: see and change a simulated cluster (`kafkette serve --brokers N --admin-api true`).

    kafkette cluster status --admin 127.0.0.1:9404
    kafkette cluster down 1 --admin 127.0.0.1:9404
    kafkette cluster move-leader orders 0 2 --admin 127.0.0.1:9404
    kafkette cluster move-coordinator group billing 0 --admin 127.0.0.1:9404
"""

from __future__ import annotations

import argparse
from typing import Any

from kafkette.cli.common import Output, admin_api
from kafkette.cluster_control import ClusterControl

NODE_COLUMNS = [("id", "Broker"), ("state", "State"), ("listeners", "Listeners")]
PARTITION_COLUMNS = [("topic", "Topic"), ("partition", "Partition"), ("leader", "Leader"),
                     ("leader_epoch", "LeaderEpoch"), ("replicas", "Replicas"), ("isr", "InSync")]


def status(args: argparse.Namespace, out: Output) -> None:
    with admin_api(args) as admin:
        doc = ClusterControl(admin).status()
    if out.as_json:
        out.json(doc)
        return
    nodes = [{**node, "state": ("up" if node["up"] else "down") + (", controller" if node["id"] == doc["controller"]
                                                                  else "")} for node in doc["nodes"]]
    out.rows(NODE_COLUMNS, nodes, title="Brokers")
    out.rows(PARTITION_COLUMNS, [{**p, "leader": _leader(p["leader"])} for p in doc["partitions"]],
             title="Partitions", empty="(no topics)")


def down(args: argparse.Namespace, out: Output) -> None:
    with admin_api(args) as admin:
        _changed(out, ClusterControl(admin).down(args.node), f"broker {args.node} is down")


def up(args: argparse.Namespace, out: Output) -> None:
    with admin_api(args) as admin:
        _changed(out, ClusterControl(admin).up(args.node), f"broker {args.node} is up")


def move_leader(args: argparse.Namespace, out: Output) -> None:
    with admin_api(args) as admin:
        moved = ClusterControl(admin).move_leader(args.topic, args.partition, args.node)
    if out.as_json:
        out.json(moved)
        return
    where = f"{args.topic}-{args.partition}"
    out.text(f"broker {moved['leader']} leads {where} at leader epoch {moved['leader_epoch']}" if moved["moved"]
             else f"broker {moved['leader']} leads {where} already")


def move_coordinator(args: argparse.Namespace, out: Output) -> None:
    with admin_api(args) as admin:
        moved = ClusterControl(admin).move_coordinator(args.kind, args.key, args.node)
    if out.as_json:
        out.json(moved)
        return
    topic = "__consumer_offsets" if args.kind == "group" else "__transaction_state"
    out.text(f"broker {moved['node']} coordinates {args.kind} {args.key!r} (and every key of {topic} partition "
             f"{moved['partition']}), epoch {moved['leader_epoch']}")


def _changed(out: Output, answer: dict[str, Any], headline: str) -> None:
    if out.as_json:
        out.json(answer)
        return
    moved = answer["leaders_changed"]
    coordinators = sum(len(partitions) for partitions in answer["coordinator_partitions_changed"].values())
    out.text(f"{headline}: {len(moved)} partition leaders and {coordinators} coordinator partitions changed")
    if moved:
        out.text("  " + ", ".join(f"{p['topic']}-{p['partition']}" for p in moved))


def _leader(node: int) -> str:
    return "none" if node < 0 else str(node)
