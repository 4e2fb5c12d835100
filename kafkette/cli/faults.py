"""`kafkette faults`: add, list, remove and clear a kafkette broker's fault rules through its admin API.

    kafkette faults add --admin 127.0.0.1:9404 --api EndTxn --error COORDINATOR_NOT_AVAILABLE --count 2

The broker checks each rule (`kafkette.broker.faults` says what every field does) and says what
is wrong with one it refuses.
"""

from __future__ import annotations

import argparse
from typing import Any

from kafkette.cli.common import Output, admin_api

MATCH = ("version", "client_id", "transactional_id", "group_id", "topic", "partition", "broker")
ACTIONS = ("error", "drop", "delay_ms", "black_hole_ms", "throttle_ms")
RULE_COLUMNS = [("id", "Id"), ("api", "Api"), ("match", "Matching"), ("action", "Action"), ("when", "Fires"),
                ("matched", "Matched"), ("fired", "Fired")]


def add(args: argparse.Namespace, out: Output) -> None:
    rule = {name: getattr(args, name) for name in ("api", *MATCH, *ACTIONS, "scope", "nth", "probability", "seed")}
    rule = {name: value for name, value in rule.items() if value is not None}
    rule["count"] = args.count  # None: every matching call
    with admin_api(args) as admin:
        added = admin.post("/faults", rule)
    if out.as_json:
        out.json(added)
        return
    row = describe(added)
    out.text(f"fault rule {added['id']}: {added['api']}{' ' + row['match'] if row['match'] else ''}: "
             f"{row['action']}, {row['when']}")


def list_rules(args: argparse.Namespace, out: Output) -> None:
    with admin_api(args) as admin:
        rules = admin.get("/faults")["faults"]
    if out.as_json:
        out.json(rules)
        return
    out.rows(RULE_COLUMNS, [describe(rule) for rule in rules], empty="(no fault rules)")


def remove(args: argparse.Namespace, out: Output) -> None:
    with admin_api(args) as admin:
        removed = [admin.delete(f"/faults/{rule_id}") for rule_id in args.ids]
    if out.as_json:
        out.json(removed)
    for rule in removed:
        out.text(f"removed fault rule {rule['id']} (fired {rule['fired']} times)")


def clear(args: argparse.Namespace, out: Output) -> None:
    with admin_api(args) as admin:
        answer = admin.delete("/faults")
    if out.as_json:
        out.json(answer)
    out.text(f"removed {answer['removed']} fault rule{'' if answer['removed'] == 1 else 's'}")


def describe(rule: dict[str, Any]) -> dict[str, Any]:
    """A rule as one row: what it matches, does, and when, in words."""
    match = " ".join(f"{name.replace('_', '-')}={rule[name]}" for name in MATCH if name in rule)
    if "error" in rule:
        action = f"error {rule['error']}" + (" on the matching partitions" if rule.get("scope") == "partitions" else "")
    elif "drop" in rule:
        action = "drop the connection " + ("before handling" if rule["drop"] == "before" else
                                           "after applying, before answering")
    elif "delay_ms" in rule:
        action = f"answer {rule['delay_ms']} ms late"
    elif "black_hole_ms" in rule:
        action = f"hold unanswered {rule['black_hole_ms']} ms, then drop the connection"
    else:
        action = f"throttle_time_ms {rule['throttle_ms']}"
    count, nth = rule["count"], rule["nth"]
    if count is None:
        when = "every matching call" + (f" from the {_ordinal(nth)}" if nth > 1 else "")
    elif count == 1:
        when = f"the {_ordinal(nth) if nth > 1 else 'first'} matching call"
    else:
        when = f"the first {count} matching calls" if nth == 1 else f"{count} matching calls from the {_ordinal(nth)}"
    if rule["probability"] < 1:
        when += f", each with probability {rule['probability']:g} (seed {rule['seed']})"
    return {**rule, "match": match, "action": action, "when": when}


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
