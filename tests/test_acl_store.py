"""The ACLs CreateAcls and DeleteAcls change (broker.auth.acl_store), as Kafka's AclControlManager answers them,
over an in-memory internal topic; no sockets."""

from __future__ import annotations

import pytest

from kafkette.broker.auth import acl_store
from kafkette.broker.auth.acl import AclBinding, AclFilter, Operation, PatternType, Permission, ResourceType
from kafkette.broker.auth.acl_store import AclStore
from kafkette.broker.auth.authorizer import Authorizer
from kafkette.broker.internal_topic import ACLS_TOPIC, InternalTopic, ensure_internal_topics
from kafkette.protocol.errors import ErrorCode
from kafkette.storage.config import LogConfig
from kafkette.storage.memory import MemoryStore

TOPIC, PATTERN = ResourceType.TOPIC, PatternType.LITERAL


def read(name: str, principal: str = "User:alice", permission: Permission = Permission.ALLOW) -> AclBinding:
    return AclBinding(TOPIC, name, PATTERN, principal, "*", Operation.READ, permission)


@pytest.fixture
def topic() -> InternalTopic:
    store = MemoryStore(LogConfig())
    ensure_internal_topics(store, (ACLS_TOPIC,))
    return InternalTopic(store, ACLS_TOPIC)


def test_creations_are_answered_each_in_order_and_stored_once(topic):
    acls = AclStore(topic, Authorizer())
    outcomes = acls.create([read("a"), read("a"), read("", "User:bob"), read("b")], now_ms=1)
    assert [(o.error, o.message) for o in outcomes] == [
        (ErrorCode.NONE, None), (ErrorCode.NONE, None), (ErrorCode.INVALID_REQUEST, "Invalid empty resource name"),
        (ErrorCode.NONE, None)]
    assert acls.create([read("a")], now_ms=2)[0].error == ErrorCode.NONE  # already there: nothing is written
    assert topic.log.high_watermark == 2
    assert acls.describe(AclFilter()) == [read("a"), read("b")]


def test_each_filter_answers_what_it_matched_and_every_match_goes(topic):
    acls = AclStore(topic, Authorizer())
    acls.create([read("a"), read("b"), read("b", "User:bob", Permission.DENY)], now_ms=1)
    by_name = AclFilter(TOPIC, "b", PatternType.ANY)
    by_principal = AclFilter(principal="User:bob")
    outcomes = acls.delete([by_name, by_principal, AclFilter(ResourceType.UNKNOWN),
                            AclFilter(operation=Operation.UNKNOWN)], now_ms=2)
    assert [o.matched for o in outcomes[:2]] == [[read("b"), read("b", "User:bob", Permission.DENY)],
                                                 [read("b", "User:bob", Permission.DENY)]]
    assert [(o.error, o.message) for o in outcomes[2:]] == [(ErrorCode.INVALID_REQUEST, "Unknown patternFilter."),
                                                            (ErrorCode.INVALID_REQUEST, "Unknown entryFilter.")]
    assert acls.describe(AclFilter()) == [read("a")]


def test_the_acls_are_replayed_from_their_topic(topic):
    AclStore(topic, Authorizer()).create([read("a"), read("b"), read("c")], now_ms=1)
    second = AclStore(topic, Authorizer())
    second.load()
    second.delete([AclFilter(TOPIC, "b", PATTERN)], now_ms=2)
    again = AclStore(topic, Authorizer(allow_if_no_acl=False))
    again.load()
    assert again.describe(AclFilter()) == [read("a"), read("c")]
    assert again.authorizer.authorize("User:alice", "10.0.0.1", Operation.DESCRIBE, TOPIC, "c")


def test_too_many_changes_in_one_request_are_refused_as_kafka_refuses_them(topic, monkeypatch):
    monkeypatch.setattr(acl_store, "MAX_CHANGES_PER_REQUEST", 2)
    acls = AclStore(topic, Authorizer())
    created = acls.create([read("a"), read("b"), read("c"), read("")], now_ms=1)
    assert [o.error for o in created] == [ErrorCode.POLICY_VIOLATION] * 3 + [ErrorCode.INVALID_REQUEST]
    assert acls.describe(AclFilter()) == []
    acls.create([read("a"), read("b")], now_ms=2)
    acls.create([read("c")], now_ms=3)
    deleted = acls.delete([AclFilter()], now_ms=4)
    assert [(o.error, o.message) for o in deleted] == [
        (ErrorCode.INVALID_REQUEST, "Cannot remove more than 2 acls in a single delete operation.")]
    assert len(acls.describe(AclFilter())) == 3


def test_a_change_that_cannot_be_stored_does_not_take_effect():
    acls = AclStore(None, Authorizer())
    outcome = acls.create([read("a")], now_ms=1)[0]
    assert outcome.error == ErrorCode.UNKNOWN_SERVER_ERROR and "could not be stored" in outcome.message
    assert acls.describe(AclFilter()) == []
