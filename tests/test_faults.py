"""Fault rules without sockets: what a rule matches, when it fires, what each action does, the request log.

A fake handler stands for the broker's: it records the requests it was given and answers each
partition with NONE, so the tests see what was applied and what the client would be sent.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from kafkette.broker import handlers  # noqa: F401  (registers every handler: rules name served APIs)
from kafkette.broker.context import RequestContext
from kafkette.broker.dispatch import CloseConnection, Dispatcher
from kafkette.broker.faults import FaultInjector, RuleError, parse_rule
from kafkette.broker.listeners import Listener
from kafkette.broker.request_log import RequestLog
from kafkette.protocol.error_response import error_response
from kafkette.protocol.errors import ErrorCode as E
from kafkette.protocol.framing import RequestHeader
from kafkette.protocol.messages import (
    ADD_OFFSETS_TO_TXN, ADD_PARTITIONS_TO_TXN, END_TXN, FIND_COORDINATOR, METADATA, PRODUCE, TXN_OFFSET_COMMIT,
)
from kafkette.protocol.model import Message
from kafkette.protocol.request_keys import request_keys

P = PRODUCE.Request


def ctx(api, version: int, client_id: str = "app", node_id: int = 1, correlation_id: int = 7) -> RequestContext:
    return RequestContext(None, RequestHeader(api.key, version, correlation_id, client_id), api,  # type: ignore[arg-type]
                          Listener("PLAINTEXT", "PLAINTEXT", node_id, ("127.0.0.1", 9092)), "127.0.0.1:5000")


def produce(*partitions: tuple[str, int], acks: int = -1, transactional_id: str | None = None) -> Message:
    topics: dict[str, list[int]] = {}
    for topic, p in partitions:
        topics.setdefault(topic, []).append(p)
    return P(transactional_id=transactional_id, acks=acks, timeout_ms=1000, topic_data=[
        P.TopicProduceData(name=t, partition_data=[P.PartitionProduceData(index=p, records=b"") for p in ps])
        for t, ps in topics.items()])


class Handler:
    """Answers a Produce with NONE for each partition it names (as applied), or any request with `answer`."""

    def __init__(self, answer: object = None, awaitable: bool = False) -> None:
        self.calls: list[Message] = []
        self.answer = answer
        self.awaitable = awaitable

    def __call__(self, context: RequestContext, body: Message):
        self.calls.append(body)
        response = self.answer if self.answer is not None else error_response(context.api, context.version, body, 0)
        if not self.awaitable:
            return response

        async def later():
            await asyncio.sleep(0)
            return response

        return later()


def injector(*rules: dict) -> FaultInjector:
    faults = FaultInjector()
    for rule in rules:
        faults.add(rule)
    return faults


def call(faults: FaultInjector, context: RequestContext, body: Message, handler: Handler):
    """The result of one request through the injector, awaited if need be."""
    result = faults.intercept(context, body, handler)
    if result is None or isinstance(result, Message):
        return result
    return asyncio.run(_await(result))


async def _await(result):
    return await result


def partition_errors(response) -> dict[tuple[str, int], int]:
    return {(t.name, p.index): p.error_code for t in response.responses for p in t.partition_responses}


# ------------------------------------------------------------------------------------------ matching


@pytest.mark.parametrize("field, value, hit, miss", [
    ("version", 9, ctx(PRODUCE, 9), ctx(PRODUCE, 8)),
    ("client_id", "app", ctx(PRODUCE, 9, client_id="app"), ctx(PRODUCE, 9, client_id="other")),
    ("broker", 2, ctx(PRODUCE, 9, node_id=2), ctx(PRODUCE, 9, node_id=1)),
])
def test_a_rule_matches_on_the_request_header(field, value, hit, miss):
    faults = injector({"api": "Produce", field: value, "error": "NOT_LEADER_OR_FOLLOWER", "count": None})
    assert faults.intercept(miss, produce(("t", 0)), Handler()).responses[0].partition_responses[0].error_code == 0
    assert faults.intercept(hit, produce(("t", 0)), Handler()).responses[0].partition_responses[0].error_code == 6


@pytest.mark.parametrize("api", ["Produce", "produce", 0, "0"])
def test_the_api_is_named_as_kafka_spells_it_in_any_case_or_by_key(api):
    faults = injector({"api": api, "error": "NOT_LEADER_OR_FOLLOWER"})
    assert faults.intercept(ctx(END_TXN, 3), END_TXN.Request(), Handler(END_TXN.Response())).error_code == 0
    assert partition_errors(faults.intercept(ctx(PRODUCE, 9), produce(("t", 0)), Handler())) == {("t", 0): 6}


@pytest.mark.parametrize("rule, hit, miss", [
    ({"transactional_id": "tx"}, produce(("t", 0), transactional_id="tx"), produce(("t", 0), transactional_id="ty")),
    ({"topic": "t"}, produce(("u", 0), ("t", 3)), produce(("u", 0))),
    ({"partition": 3}, produce(("u", 3)), produce(("u", 0), ("u", 1))),
    ({"topic": "t", "partition": 3}, produce(("u", 0), ("t", 3)), produce(("u", 3), ("t", 0))),
])
def test_a_rule_matches_on_what_the_request_names(rule, hit, miss):
    faults = injector({"api": "Produce", "error": "NOT_LEADER_OR_FOLLOWER", "count": None, **rule})
    assert set(partition_errors(faults.intercept(ctx(PRODUCE, 9), miss, Handler())).values()) == {0}
    assert set(partition_errors(faults.intercept(ctx(PRODUCE, 9), hit, Handler())).values()) == {6}


def test_group_and_transactional_ids_are_found_wherever_an_api_declares_them():
    T = TXN_OFFSET_COMMIT.Request
    commit = T(transactional_id="tx", group_id="g", topics=[T.TxnOffsetCommitRequestTopic(name="t", partitions=[
        T.TxnOffsetCommitRequestPartition(partition_index=2)])])
    assert request_keys(commit, 3).group_ids == ["g"] and request_keys(commit, 3).transactional_ids == ["tx"]
    A = ADD_PARTITIONS_TO_TXN.Request
    add = A(v3_and_below_transactional_id="tx", v3_and_below_topics=[A.AddPartitionsToTxnTopic(name="t",
                                                                                              partitions=[0, 4])])
    assert request_keys(add, 3).transactional_ids == ["tx"] and request_keys(add, 3).topics == {"t": [0, 4]}
    F = FIND_COORDINATOR.Request
    assert request_keys(F(key="g", key_type=0), 3).group_ids == ["g"]
    assert request_keys(F(key="tx", key_type=1), 3).transactional_ids == ["tx"]
    assert request_keys(F(coordinator_keys=["tx"], key_type=1), 4).transactional_ids == ["tx"]
    assert request_keys(F(key="g"), 0).group_ids == ["g"]  # v0 knows group coordinators only
    M = METADATA.Request
    assert request_keys(M(topics=[M.MetadataRequestTopic(name="t")]), 12).topics == {"t": []}
    assert request_keys(ADD_OFFSETS_TO_TXN.Request(transactional_id="tx", group_id="g"), 3).group_ids == ["g"]


def test_the_body_is_read_only_when_a_rule_asks_and_once_per_request(monkeypatch):
    reads = []
    import kafkette.broker.faults as faults_module

    def counting(body, version):
        reads.append(body)
        return request_keys(body, version)

    monkeypatch.setattr(faults_module, "request_keys", counting)
    faults = injector({"api": "Produce", "client_id": "app", "delay_ms": 1},
                      {"api": "Produce", "topic": "x", "error": 6}, {"api": "Produce", "partition": 9, "error": 6})
    faults.intercept(ctx(PRODUCE, 9, client_id="other"), produce(("t", 0)), Handler())
    assert len(reads) == 1


# ------------------------------------------------------------------------------------------ firing


def fired(faults: FaultInjector, calls: int) -> list[int]:
    """Which of `calls` EndTxn requests in a row a rule answered (1-based)."""
    handler = Handler(END_TXN.Response())
    return [n for n in range(1, calls + 1)
            if faults.intercept(ctx(END_TXN, 3), END_TXN.Request(), handler).error_code != 0]


def test_a_rule_fires_once_by_default_then_n_times_or_always():
    assert fired(injector({"api": "EndTxn", "error": "NOT_COORDINATOR"}), 5) == [1]
    assert fired(injector({"api": "EndTxn", "error": "NOT_COORDINATOR", "count": 3}), 5) == [1, 2, 3]
    assert fired(injector({"api": "EndTxn", "error": "NOT_COORDINATOR", "count": None}), 5) == [1, 2, 3, 4, 5]


def test_a_rule_fires_from_the_nth_matching_call():
    assert fired(injector({"api": "EndTxn", "error": "NOT_COORDINATOR", "nth": 3}), 6) == [3]
    assert fired(injector({"api": "EndTxn", "error": "NOT_COORDINATOR", "nth": 2, "count": 2}), 6) == [2, 3]


def test_probabilistic_rules_replay_with_the_same_seed():
    def run(seed: int) -> list[int]:
        return fired(injector({"api": "EndTxn", "error": "NOT_COORDINATOR", "count": None, "probability": 0.5,
                               "seed": seed}), 40)

    first = run(11)
    assert first == run(11)
    assert 5 < len(first) < 35  # about half of 40 calls: a fixed sequence for seed 11
    assert first != run(12)


def test_the_first_rule_that_fires_answers_and_the_others_do_not_see_the_request():
    faults = injector({"api": "EndTxn", "error": "NOT_COORDINATOR", "count": 1},
                      {"api": "EndTxn", "error": "COORDINATOR_NOT_AVAILABLE", "count": None})
    handler = Handler(END_TXN.Response())
    codes = [faults.intercept(ctx(END_TXN, 3), END_TXN.Request(), handler).error_code for _ in range(3)]
    assert codes == [E.NOT_COORDINATOR, E.COORDINATOR_NOT_AVAILABLE, E.COORDINATOR_NOT_AVAILABLE]
    assert [(r.matched, r.fired) for r in faults.rules] == [(3, 1), (2, 2)]
    assert handler.calls == []


def test_rules_are_added_listed_and_removed():
    faults = injector({"api": "EndTxn", "error": 16}, {"api": "Produce", "delay_ms": 5})
    assert [r.id for r in faults.rules] == [1, 2]
    assert faults.get(2).to_json() == {"id": 2, "api": "Produce", "delay_ms": 5, "count": 1, "nth": 1,
                                        "probability": 1.0, "seed": faults.get(2).seed, "matched": 0, "fired": 0}
    assert faults.remove(1).id == 1 and faults.remove(1) is None
    assert faults.add({"api": "EndTxn", "error": "NOT_COORDINATOR"}).id == 3  # ids are never reused
    assert faults.clear() == 2 and faults.rules == []
    assert fired(faults, 2) == []


# ------------------------------------------------------------------------------------------ actions


def test_an_error_answers_the_whole_request_unapplied():
    handler = Handler()
    response = call(injector({"api": "Produce", "error": "NOT_LEADER_OR_FOLLOWER"}), ctx(PRODUCE, 9),
                    produce(("t", 0), ("t", 1), ("u", 0)), handler)
    assert partition_errors(response) == {("t", 0): 6, ("t", 1): 6, ("u", 0): 6}
    assert handler.calls == []


def test_an_error_is_put_on_the_wire_as_the_request_version_knows_it():
    faults = injector({"api": "EndTxn", "error": "PRODUCER_FENCED", "count": None})
    handler = Handler(END_TXN.Response())
    assert faults.intercept(ctx(END_TXN, 1), END_TXN.Request(), handler).error_code == E.INVALID_PRODUCER_EPOCH
    assert faults.intercept(ctx(END_TXN, 3), END_TXN.Request(), handler).error_code == E.PRODUCER_FENCED


@pytest.mark.parametrize("awaitable", [False, True])
def test_a_partition_error_answers_the_matching_partitions_and_applies_the_rest(awaitable):
    handler = Handler(awaitable=awaitable)
    faults = injector({"api": "Produce", "topic": "t", "partition": 1, "error": "NOT_LEADER_OR_FOLLOWER",
                       "scope": "partitions"})
    response = call(faults, ctx(PRODUCE, 9), produce(("t", 0), ("t", 1), ("u", 1)), handler)
    assert partition_errors(response) == {("t", 0): 0, ("t", 1): 6, ("u", 1): 0}
    assert [request_keys(body, 9).topics for body in handler.calls] == [{"t": [0], "u": [1]}]


def test_when_every_partition_matches_nothing_is_applied():
    handler = Handler()
    faults = injector({"api": "Produce", "topic": "t", "error": "NOT_LEADER_OR_FOLLOWER", "scope": "partitions"})
    assert partition_errors(call(faults, ctx(PRODUCE, 9), produce(("t", 0), ("t", 1)), handler)) == \
        {("t", 0): 6, ("t", 1): 6}
    assert handler.calls == []


@pytest.mark.parametrize("scope", ["response", "partitions"])
def test_an_acks_0_produce_that_fails_closes_the_connection_as_kafka_does(scope):
    handler = Handler()
    faults = injector({"api": "Produce", "partition": 1, "error": "NOT_LEADER_OR_FOLLOWER", "scope": scope})
    with pytest.raises(CloseConnection):
        call(faults, ctx(PRODUCE, 9), produce(("t", 0), ("t", 1), acks=0), handler)
    assert [request_keys(body, 9).topics for body in handler.calls] == ([{"t": [0]}] if scope == "partitions" else [])


def test_drop_before_closes_the_connection_unapplied():
    handler = Handler()
    with pytest.raises(CloseConnection, match="rule 1: dropped before handling"):
        call(injector({"api": "Produce", "drop": "before"}), ctx(PRODUCE, 9), produce(("t", 0)), handler)
    assert handler.calls == []


@pytest.mark.parametrize("awaitable", [False, True])
def test_drop_after_applies_the_request_then_closes_the_connection_unanswered(awaitable):
    handler = Handler(awaitable=awaitable)
    with pytest.raises(CloseConnection, match="applied, then dropped before answering"):
        call(injector({"api": "Produce", "drop": "after"}), ctx(PRODUCE, 9), produce(("t", 0)), handler)
    assert len(handler.calls) == 1


@pytest.mark.parametrize("awaitable", [False, True])
def test_a_delay_applies_the_request_at_once_and_answers_later(awaitable):
    handler = Handler(awaitable=awaitable)
    result = injector({"api": "Produce", "delay_ms": 150}).intercept(ctx(PRODUCE, 9), produce(("t", 0)), handler)
    assert len(handler.calls) == 1  # applied before the answer is due
    started = time.monotonic()
    response = asyncio.run(_await(result))
    assert time.monotonic() - started >= 0.15
    assert partition_errors(response) == {("t", 0): 0}


def test_a_black_hole_neither_applies_nor_answers_then_closes_the_connection():
    handler = Handler()
    result = injector({"api": "Produce", "black_hole_ms": 100}).intercept(ctx(PRODUCE, 9), produce(("t", 0)), handler)
    started = time.monotonic()
    with pytest.raises(CloseConnection, match="held 100 ms unanswered"):
        asyncio.run(_await(result))
    assert time.monotonic() - started >= 0.1
    assert handler.calls == []


@pytest.mark.parametrize("awaitable", [False, True])
def test_a_throttle_sets_throttle_time_on_the_applied_answer(awaitable):
    handler = Handler(END_TXN.Response(), awaitable=awaitable)
    response = call(injector({"api": "EndTxn", "throttle_ms": 250}), ctx(END_TXN, 3), END_TXN.Request(), handler)
    assert response.throttle_time_ms == 250 and response.error_code == 0 and len(handler.calls) == 1


# ------------------------------------------------------------------------------------------ the request log


def test_every_request_is_logged_with_the_rule_that_answered_it():
    faults = injector({"api": "Produce", "drop": "before"})
    faults.intercept(ctx(END_TXN, 3, correlation_id=1), END_TXN.Request(), Handler(END_TXN.Response()))
    with pytest.raises(CloseConnection):
        faults.intercept(ctx(PRODUCE, 9, correlation_id=2), produce(("t", 0)), Handler())
    entries = faults.log.since(0)
    assert [(e.seq, e.api, e.version, e.client_id, e.correlation_id, e.broker, e.rule, e.action) for e in entries] == \
        [(1, "EndTxn", 3, "app", 1, 1, None, None), (2, "Produce", 9, "app", 2, 1, 1, "drop_before")]


def test_the_log_is_a_ring_buffer_read_since_a_sequence_number_and_filtered():
    log = RequestLog(size=5)
    for n in range(8):
        log.record(ctx(PRODUCE if n % 2 else END_TXN, 3, client_id=f"c{n % 3}", correlation_id=n))
    assert [e.seq for e in log.since(0)] == [4, 5, 6, 7, 8]
    assert log.missed(0) == 3 and log.missed(5) == 0
    assert [e.seq for e in log.since(6)] == [7, 8]
    assert [e.seq for e in log.since(0, api_key=PRODUCE.key)] == [4, 6, 8]
    assert [e.seq for e in log.since(0, client_id="c0")] == [4, 7]
    assert [e.seq for e in log.since(0, limit=2)] == [7, 8]
    assert log.since(8) == [] and log.last_seq == 8


def test_the_injector_goes_first_among_the_interceptors():
    dispatcher = Dispatcher()
    dispatcher.interceptors.append(lambda c, b, n: n(c, b))
    faults = FaultInjector()
    faults.install(dispatcher)
    assert dispatcher.interceptors[0] == faults.intercept


# ------------------------------------------------------------------------------------------ refused rules


@pytest.mark.parametrize("doc, message", [
    ({"api": "EndTxn", "error": 16, "colour": "red"}, "unknown rule field 'colour'"),
    ({"api": "EndTx", "error": 16}, "api 'EndTx': give an API kafkette serves"),
    ({"api": 99, "error": 16}, "api 99"),
    ({"error": 16}, "api None"),
    ({"api": "EndTxn"}, "exactly one of error, drop, delay_ms, black_hole_ms, throttle_ms; this one has none"),
    ({"api": "EndTxn", "error": 16, "delay_ms": 5}, "this one has error, delay_ms"),
    ({"api": "EndTxn", "error": "NOT_A_CODE"}, "give a Kafka error name"),
    ({"api": "EndTxn", "error": 0}, "error NONE would answer without applying"),
    ({"api": "EndTxn", "error": 16, "version": 9}, "version 9: a version of EndTxn kafkette serves (0-3)"),
    ({"api": "EndTxn", "error": 16, "scope": "partitions"}, "EndTxn names no partitions"),
    ({"api": "EndTxn", "error": 16, "scope": "all"}, "scope 'all'"),
    ({"api": "EndTxn", "delay_ms": 5, "scope": "partitions"}, "scope goes with error only"),
    ({"api": "EndTxn", "drop": "sometimes"}, "drop 'sometimes'"),
    ({"api": "EndTxn", "delay_ms": 0}, "delay_ms 0: milliseconds"),
    ({"api": "EndTxn", "black_hole_ms": 10**9}, "black_hole_ms 1000000000"),
    ({"api": "WriteTxnMarkers", "throttle_ms": 5}, "WriteTxnMarkers responses carry no throttle_time_ms"),
    ({"api": "EndTxn", "error": 16, "count": 0}, "count 0"),
    ({"api": "EndTxn", "error": 16, "count": True}, "count True"),
    ({"api": "EndTxn", "error": 16, "probability": 0}, "probability 0"),
    ({"api": "EndTxn", "error": 16, "client_id": 5}, "client_id 5: a string"),
    ([], "a rule is a JSON object"),
])
def test_a_wrong_rule_is_refused_saying_what_is_wrong(doc, message):
    with pytest.raises(RuleError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_rule(doc, 1)
