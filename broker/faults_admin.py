"""The admin API's routes for fault rules and the request log (`broker.faults`, `broker.request_log`).

    POST   /admin/faults          add a rule (a JSON object, see broker.faults); answers the rule with its id
    GET    /admin/faults          {"faults": [rule, ...]}, with how often each matched and fired
    GET    /admin/faults/ID       one rule
    DELETE /admin/faults/ID       remove one rule; answers it
    DELETE /admin/faults          remove every rule: {"removed": N}
    GET    /admin/requests        {"requests": [...], "last": SEQ, "missed": N}; query: since=SEQ (only later
                                  ones), api=NAME|KEY, client_id=ID, limit=N (only the newest N)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from kafkette.broker.admin_api import AdminError, admin_route
from kafkette.broker.faults import FaultInjector, FaultRule, RuleError, parse_api

if TYPE_CHECKING:
    from kafkette.broker.state import Broker


@admin_route("POST", "/faults")
async def add_fault(broker: Broker, request: web.Request) -> Any:
    doc = await request.json()
    try:
        return _injector(broker).add(doc).to_json()
    except RuleError as e:
        raise AdminError(400, str(e)) from None


@admin_route("GET", "/faults")
async def list_faults(broker: Broker, _request: web.Request) -> Any:
    return {"faults": [rule.to_json() for rule in _injector(broker).rules]}


@admin_route("GET", "/faults/{id}")
async def get_fault(broker: Broker, request: web.Request) -> Any:
    return _found(_injector(broker).get(_rule_id(request)), request).to_json()


@admin_route("DELETE", "/faults/{id}")
async def remove_fault(broker: Broker, request: web.Request) -> Any:
    return _found(_injector(broker).remove(_rule_id(request)), request).to_json()


@admin_route("DELETE", "/faults")
async def clear_faults(broker: Broker, _request: web.Request) -> Any:
    return {"removed": _injector(broker).clear()}


@admin_route("GET", "/requests")
async def requests(broker: Broker, request: web.Request) -> Any:
    query = request.query
    since = _number(query, "since", 0)
    limit = _number(query, "limit", 1) if "limit" in query else None
    try:
        api_key = parse_api(query["api"]).key if "api" in query else None
    except RuleError as e:
        raise AdminError(400, str(e)) from None
    log = _injector(broker).log
    entries = log.since(since, api_key=api_key, client_id=query.get("client_id"), limit=limit)
    return {"requests": [e.to_json() for e in entries], "last": log.last_seq, "missed": log.missed(since)}


def _injector(broker: Broker) -> FaultInjector:
    if broker.faults is None:
        raise AdminError(500, "the fault injector is not installed; the server installs it with --admin-api")
    return broker.faults


def _rule_id(request: web.Request) -> int:
    text = request.match_info["id"]
    if not text.isdigit():
        raise AdminError(404, f"no fault rule {text!r}: rules have numbers (see GET /admin/faults)")
    return int(text)


def _found(rule: FaultRule | None, request: web.Request) -> FaultRule:
    if rule is None:
        raise AdminError(404, f"no fault rule {request.match_info['id']}: see GET /admin/faults")
    return rule


def _number(query: Any, name: str, low: int) -> int:
    text = query.get(name, str(low))
    if not text.isdigit() or int(text) < low:
        raise AdminError(400, f"{name}={text!r}: an integer, at least {low}")
    return int(text)
