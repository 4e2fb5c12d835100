"""Fault rules: requests answered with an error, dropped, delayed, held or throttled, on demand.

Everything happens in ONE request interceptor (`FaultInjector.intercept`, see `broker.dispatch`),
which also keeps the request log (`broker.request_log`). The server installs it only with
`--admin-api`; a broker without it pays nothing per request.

A rule matches requests by API (name or key) and optionally version, client id, the broker
addressed, and what the request names: transactional id, group id, topic, partition (read from
the declarations, `protocol.request_keys`). It does one thing (`ACTIONS`):

- `error`: answer with that error code without applying the request (built from the request,
  `protocol.error_response`). With `scope: "partitions"`, only the matching partitions are
  answered with it and left out; the rest of the request is applied and answered as usual, so
  the answer is one Kafka could give (a partition whose leader moved, its neighbours appended).
  The code is put on the wire as Kafka would for the request's version (`broker.errors`). An
  acks=0 Produce is answered by closing the connection, as Kafka does when it cannot append one.
- `drop: "before"`: close the connection before handling the request;
  `drop: "after"`: apply it, then close the connection before answering (the "commit gap").
- `delay_ms`: apply it now, answer N ms later (answers behind it on the connection wait too).
- `black_hole_ms`: leave it unapplied and unanswered for N ms, then close the connection.
  librdkafka's mock cluster has no such action: its error stacks with an RTT (and
  `rd_kafka_mock_broker_set_rtt`) answer late, which `delay_ms` does; a held request
  that is then answered would be a delay, so this one ends as a hung broker's does.
- `throttle_ms`: apply it and answer with throttle_time_ms set to N.

It fires on the first `count` matching calls (default 1; null: every one), starting from the
`nth`, and, with `probability` below 1, only when its own random generator, seeded with `seed`,
says so: the same seed and the same requests fire the same way again. Rules are tried in the
order they were added; the first that fires answers, and those after it do not see the request.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from itertools import count as counter
from typing import Any, Callable, ClassVar, Protocol

import structlog

from kafkette.broker.context import RequestContext
from kafkette.broker.dispatch import CloseConnection, Dispatcher, Handler, Result
from kafkette.broker.registry import HANDLERS
from kafkette.broker.request_log import RequestLog
from kafkette.protocol.error_response import answers_partitions, error_response, merge_response
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.model import Message
from kafkette.protocol.request_keys import RequestKeys, request_keys, select_partitions
from kafkette.protocol.schema import Api

log = structlog.get_logger("kafkette.faults")

MAX_MS = 3_600_000  # delays and holds are bounded: an hour
MATCH_FIELDS = ("api", "version", "client_id", "transactional_id", "group_id", "topic", "partition", "broker")
ACTIONS = ("error", "drop", "delay_ms", "black_hole_ms", "throttle_ms")
FIRING_FIELDS = ("count", "nth", "probability", "seed")
RULE_FIELDS = (*MATCH_FIELDS, *ACTIONS, "scope", *FIRING_FIELDS)


class RuleError(ValueError):
    """A rule that cannot be added; the message says which field is wrong and what it must be."""


class Action(Protocol):
    @property
    def name(self) -> str: ...  # as the request log shows it

    def __call__(self, rule: FaultRule, ctx: RequestContext, body: Any, call_next: Handler) -> Result: ...

    def to_json(self) -> dict[str, Any]: ...


@dataclass
class FaultRule:
    id: int
    api: Api
    action: Action
    version: int | None = None
    client_id: str | None = None
    transactional_id: str | None = None
    group_id: str | None = None
    topic: str | None = None
    partition: int | None = None
    broker: int | None = None
    count: int | None = 1  # None: every matching call
    nth: int = 1
    probability: float = 1.0
    seed: int = 0
    matched: int = 0  # matching calls so far
    fired: int = 0
    rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    @property
    def reads_body(self) -> bool:
        return any(v is not None for v in (self.transactional_id, self.group_id, self.topic, self.partition))

    def matches(self, ctx: RequestContext, keys: Callable[[], RequestKeys]) -> bool:
        if (self.version is not None and ctx.version != self.version) or \
                (self.client_id is not None and ctx.client_id != self.client_id) or \
                (self.broker is not None and ctx.node_id != self.broker):
            return False
        if not self.reads_body:
            return True
        named = keys()
        if self.transactional_id is not None and self.transactional_id not in named.transactional_ids:
            return False
        if self.group_id is not None and self.group_id not in named.group_ids:
            return False
        if self.topic is None and self.partition is None:
            return True
        return any(self.names(topic, p) for topic, p in named.partitions())

    def names(self, topic: str, partition: int | None) -> bool:
        """Whether the rule's topic and partition (if given) are these."""
        return (self.topic is None or topic == self.topic) and (self.partition is None or partition == self.partition)

    def fires(self) -> bool:
        """Called on each matching call: count it, and say whether the rule acts on it."""
        self.matched += 1
        if self.matched < self.nth or (self.count is not None and self.fired >= self.count):
            return False
        if self.probability < 1.0 and self.rng.random() >= self.probability:
            return False
        self.fired += 1
        return True

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"id": self.id, "api": self.api.name}
        doc.update({name: getattr(self, name) for name in MATCH_FIELDS[1:] if getattr(self, name) is not None})
        doc.update(self.action.to_json())
        doc.update({"count": self.count, "nth": self.nth, "probability": self.probability, "seed": self.seed,
                    "matched": self.matched, "fired": self.fired})
        return doc


# ------------------------------------------------------------------------------------------ actions


@dataclass(frozen=True)
class AnswerError:
    name: ClassVar[str] = "error"
    error: ErrorCode
    partitions_only: bool

    def __call__(self, rule: FaultRule, ctx: RequestContext, body: Any, call_next: Handler) -> Result:
        code = ctx.wire_error(self.error)
        acks_zero = getattr(body, "acks", None) == 0
        if not self.partitions_only:
            if acks_zero:
                raise CloseConnection(f"fault rule {rule.id}: an acks=0 Produce failed with {code.name}")
            return error_response(ctx.api, ctx.version, body, code)
        version = ctx.version
        failed = select_partitions(body, version, rule.names)
        rest = select_partitions(body, version, lambda topic, p: not rule.names(topic, p))
        errors = error_response(ctx.api, version, failed, code, partitions_only=True)
        if not any(request_keys(rest, version).topics.values()):
            result: Result = errors  # nothing left to apply
        else:
            result = call_next(ctx, rest)

        def answer(response: Message | None) -> Message | None:
            if acks_zero:
                raise CloseConnection(f"fault rule {rule.id}: an acks=0 Produce failed with {code.name}")
            return errors if response is None or response is errors else merge_response(response, errors, version)

        return _then(result, answer)

    def to_json(self) -> dict[str, Any]:
        return {"error": self.error.name, "scope": "partitions" if self.partitions_only else "response"}


@dataclass(frozen=True)
class Drop:
    after: bool  # False: before handling; True: after applying, before answering

    @property
    def name(self) -> str:
        return "drop_after" if self.after else "drop_before"

    def __call__(self, rule: FaultRule, ctx: RequestContext, body: Any, call_next: Handler) -> Result:
        if not self.after:
            raise CloseConnection(f"fault rule {rule.id}: dropped before handling")

        def close(_response: Message | None) -> None:
            raise CloseConnection(f"fault rule {rule.id}: applied, then dropped before answering")

        return _then(call_next(ctx, body), close)

    def to_json(self) -> dict[str, Any]:
        return {"drop": "after" if self.after else "before"}


@dataclass(frozen=True)
class Delay:
    name: ClassVar[str] = "delay"
    ms: int

    def __call__(self, rule: FaultRule, ctx: RequestContext, body: Any, call_next: Handler) -> Result:
        return _delayed(call_next(ctx, body), self.ms)

    def to_json(self) -> dict[str, Any]:
        return {"delay_ms": self.ms}


@dataclass(frozen=True)
class BlackHole:
    name: ClassVar[str] = "black_hole"
    ms: int

    def __call__(self, rule: FaultRule, ctx: RequestContext, body: Any, call_next: Handler) -> Result:
        return _held(rule.id, self.ms)

    def to_json(self) -> dict[str, Any]:
        return {"black_hole_ms": self.ms}


@dataclass(frozen=True)
class Throttle:
    name: ClassVar[str] = "throttle"
    ms: int

    def __call__(self, rule: FaultRule, ctx: RequestContext, body: Any, call_next: Handler) -> Result:
        def throttle(response: Message | None) -> Message | None:
            if response is not None and hasattr(response, "throttle_time_ms"):
                response.throttle_time_ms = self.ms
            return response

        return _then(call_next(ctx, body), throttle)

    def to_json(self) -> dict[str, Any]:
        return {"throttle_ms": self.ms}


def _then(result: Result, then: Callable[[Any], Any]) -> Result:
    """`then` applied to a handler's result, now if it is ready, else once it is."""
    if result is None or isinstance(result, Message):
        return then(result)

    async def later() -> Any:
        return then(await result)

    return later()


async def _delayed(result: Result, ms: int) -> Any:
    response = result if result is None or isinstance(result, Message) else await result
    await asyncio.sleep(ms / 1000)
    return response


async def _held(rule_id: int, ms: int) -> None:
    await asyncio.sleep(ms / 1000)
    raise CloseConnection(f"fault rule {rule_id}: held {ms} ms unanswered, then dropped")


# ------------------------------------------------------------------------------------------ the injector


class FaultInjector:
    def __init__(self, request_log: RequestLog | None = None) -> None:
        self.rules: list[FaultRule] = []
        self.log = request_log if request_log is not None else RequestLog()
        self._ids = counter(1)

    def install(self, dispatcher: Dispatcher) -> None:
        """First among the interceptors, so every request is logged, whatever the others do with it."""
        dispatcher.interceptors.insert(0, self.intercept)

    def intercept(self, ctx: RequestContext, body: Any, call_next: Handler) -> Result:
        entry = self.log.record(ctx)
        if self.rules:
            rule = self._firing(ctx, body)
            if rule is not None:
                entry.rule, entry.action = rule.id, rule.action.name
                log.debug("fault rule fired", rule=rule.id, api=ctx.api.name, client_id=ctx.client_id,
                          correlation_id=ctx.header.correlation_id, **rule.action.to_json())
                return rule.action(rule, ctx, body, call_next)
        return call_next(ctx, body)

    def _firing(self, ctx: RequestContext, body: Any) -> FaultRule | None:
        api_key = ctx.header.api_key
        named: list[RequestKeys] = []

        def keys() -> RequestKeys:  # read from the body once, and only if a rule asks
            if not named:
                named.append(request_keys(body, ctx.version))
            return named[0]

        for rule in self.rules:
            if rule.api.key == api_key and rule.matches(ctx, keys) and rule.fires():
                return rule
        return None

    def add(self, doc: dict[str, Any]) -> FaultRule:
        """Add the rule `doc` describes (see the module docstring). Raises RuleError."""
        rule = parse_rule(doc, next(self._ids))
        self.rules.append(rule)
        log.info("fault rule added", **rule.to_json())
        return rule

    def get(self, rule_id: int) -> FaultRule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def remove(self, rule_id: int) -> FaultRule | None:
        rule = self.get(rule_id)
        if rule is not None:
            self.rules.remove(rule)
            log.info("fault rule removed", id=rule_id, fired=rule.fired)
        return rule

    def clear(self) -> int:
        removed = len(self.rules)
        self.rules.clear()
        log.info("fault rules cleared", removed=removed)
        return removed


# ------------------------------------------------------------------------------------------ reading a rule


def parse_rule(doc: dict[str, Any], rule_id: int) -> FaultRule:
    if not isinstance(doc, dict):
        raise RuleError("a rule is a JSON object such as {\"api\": \"EndTxn\", \"error\": \"NOT_COORDINATOR\"}")
    unknown = sorted(set(doc) - set(RULE_FIELDS))
    if unknown:
        raise RuleError(f"unknown rule field {unknown[0]!r}: a rule takes {', '.join(RULE_FIELDS)}")
    api = parse_api(doc.get("api"))
    served = HANDLERS[api.key].versions
    rule = FaultRule(
        rule_id, api, _action(api, doc),
        version=_int(doc, "version", *served, f"a version of {api.name} kafkette serves ({served[0]}-{served[1]})"),
        client_id=_str(doc, "client_id"), transactional_id=_str(doc, "transactional_id"),
        group_id=_str(doc, "group_id"), topic=_str(doc, "topic"),
        partition=_int(doc, "partition", 0, 2**31 - 1), broker=_int(doc, "broker", 0, 2**31 - 1),
        count=None if "count" in doc and doc["count"] is None else
        _int(doc, "count", 1, 2**31 - 1, "a number of calls, at least 1, or null for every call", default=1),
        nth=_int(doc, "nth", 1, 2**31 - 1, default=1) or 1,
        probability=_probability(doc.get("probability")),
        seed=_int(doc, "seed", 0, 2**63 - 1, default=random.randrange(2**32)) or 0)
    return rule


def parse_api(value: Any) -> Api:
    """An API served by kafkette, from its name (as Kafka spells it, any case) or its key number."""
    by_name = {registered.api.name.lower(): registered.api for registered in HANDLERS.values()}
    api = None
    if isinstance(value, int) and not isinstance(value, bool) and value in HANDLERS:
        api = HANDLERS[value].api
    elif isinstance(value, str):
        api = HANDLERS[int(value)].api if value.isdigit() and int(value) in HANDLERS else by_name.get(value.lower())
    if api is None:
        raise RuleError(f"api {value!r}: give an API kafkette serves, by name as Kafka spells it (EndTxn, Produce, "
                        f"FindCoordinator...) or by key number")
    return api


def parse_error(value: Any) -> ErrorCode:
    try:
        code = ErrorCode[value.upper()] if isinstance(value, str) and not value.lstrip("-").isdigit() \
            else ErrorCode(int(value))
    except (KeyError, ValueError, TypeError):
        raise RuleError(f"error {value!r}: give a Kafka error name (NOT_COORDINATOR) or code (16)") from None
    if code == ErrorCode.NONE:
        raise RuleError("error NONE would answer without applying the request: give an error code")
    return code


def _action(api: Api, doc: dict[str, Any]) -> Action:
    given = [name for name in ACTIONS if doc.get(name) is not None]
    if len(given) != 1:
        raise RuleError(f"a rule does exactly one of {', '.join(ACTIONS)}; this one has "
                        f"{', '.join(given) if given else 'none'}")
    scope = doc.get("scope")
    if scope is not None and given != ["error"]:
        raise RuleError("scope goes with error only")
    name = given[0]
    if name == "error":
        if scope not in (None, "response", "partitions"):
            raise RuleError(f"scope {scope!r}: response (the default) or partitions")
        if scope == "partitions" and not answers_partitions(api):
            raise RuleError(f"scope partitions: {api.name} names no partitions with their own error codes; "
                            f"use scope response")
        return AnswerError(parse_error(doc["error"]), scope == "partitions")
    if name == "drop":
        if doc["drop"] not in ("before", "after"):
            raise RuleError(f"drop {doc['drop']!r}: before (handling) or after (applying, before answering)")
        return Drop(doc["drop"] == "after")
    ms = _int(doc, name, 1, MAX_MS, f"milliseconds, 1 to {MAX_MS}")
    assert ms is not None
    if name == "throttle_ms":
        if not any(fd.name == "throttle_time_ms" for fd in api.response):
            raise RuleError(f"throttle_ms: {api.name} responses carry no throttle_time_ms")
        return Throttle(ms)
    return Delay(ms) if name == "delay_ms" else BlackHole(ms)


def _int(doc: dict[str, Any], name: str, low: int, high: int, expected: str = "",
         default: int | None = None) -> int | None:
    value = doc.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RuleError(f"{name} {value!r}: {expected or f'an integer from {low} to {high}'}")
    return value


def _str(doc: dict[str, Any], name: str) -> str | None:
    value = doc.get(name)
    if value is not None and not isinstance(value, str):
        raise RuleError(f"{name} {value!r}: a string")
    return value


def _probability(value: Any) -> float:
    if value is None:
        return 1.0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < value <= 1.0:
        raise RuleError(f"probability {value!r}: a number above 0 and at most 1")
    return float(value)

