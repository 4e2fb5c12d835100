"""The consumer group protocol (KIP-848) state machine and its assignors, without sockets.

Each test drives a `ConsumerGroup` with heartbeats as librdkafka sends them and
checks what Kafka's GroupMetadataManager / CurrentAssignmentBuilder would answer.
"""

from __future__ import annotations

from kafkette.broker.groups.assignors import MemberSpec, range_, uniform
from kafkette.broker.groups.consumer_group import (
    ConsumerGroup,
    ConsumerGroupSettings,
    ConsumerGroupState,
    HeartbeatRequest,
    MemberState,
    TopicMeta,
    TopicsImage,
    validate_request,
)
from kafkette.protocol.errors import ErrorCode as E

FOO, BAR, BAZ = b"\x01" * 16, b"\x02" * 16, b"\x03" * 16
SETTINGS = ConsumerGroupSettings(heartbeat_interval_ms=500, session_timeout_ms=10_000)


def image(**topics: int) -> TopicsImage:
    ids = {"foo": FOO, "bar": BAR, "baz": BAZ}
    return TopicsImage.of([TopicMeta(name, ids[name], n) for name, n in topics.items()])


class Harness:
    def __init__(self, topics: TopicsImage) -> None:
        self.topics = topics
        self.group = ConsumerGroup("g", SETTINGS)

    def join(self, member: str, names=("foo",), now: int = 0, instance: str | None = None, regex: str | None = None,
             assignor: str | None = None):
        return self.send(HeartbeatRequest(member, 0, instance_id=instance, rebalance_timeout_ms=1000,
                                          subscribed_topic_names=list(names) if names is not None else None,
                                          subscribed_topic_regex=regex, server_assignor=assignor, owned=[]), now)

    def beat(self, member: str, epoch: int, owned: dict[bytes, list[int]] | None, now: int = 0,
             instance: str | None = None, names=None):
        owned_list = None if owned is None else sorted(owned.items())
        return self.send(HeartbeatRequest(member, epoch, instance_id=instance, owned=owned_list,
                                          subscribed_topic_names=names), now)

    def send(self, req: HeartbeatRequest, now: int):
        assert validate_request(req, "g", 1) is None
        return self.group.heartbeat(req, self.topics, now)

    def member(self, member_id: str):
        return self.group.members[member_id]


def flat(assignment) -> dict[bytes, list[int]]:
    return {t: sorted(ps) for t, ps in assignment.items()}


def test_first_member_gets_every_partition_at_epoch_one_and_the_group_is_stable():
    h = Harness(image(foo=3))
    r = h.join("a")
    assert (r.error, r.member_id, r.member_epoch, r.heartbeat_interval_ms) == (E.NONE, "a", 1, 500)
    assert flat(r.assignment) == {FOO: [0, 1, 2]}
    assert h.group.state is ConsumerGroupState.STABLE
    # An unchanged heartbeat gets no assignment (null: nothing new).
    again = h.beat("a", 1, {FOO: [0, 1, 2]})
    assert (again.error, again.member_epoch, again.assignment) == (E.NONE, 1, None)


def test_v0_join_without_member_id_gets_a_uuid_like_id_from_the_broker():
    h = Harness(image(foo=1))
    req = HeartbeatRequest("", 0, rebalance_timeout_ms=1000, subscribed_topic_names=["foo"], owned=[])
    assert validate_request(req, "g", 0) is None
    assert validate_request(req, "g", 1).error == E.INVALID_REQUEST  # v1: the client picks its id
    r = h.group.heartbeat(req, h.topics, 0)
    assert r.error == E.NONE and len(r.member_id) == 22 and r.member_id in h.group.members


def test_malformed_first_heartbeats_are_invalid_requests():
    def check(**kw) -> E:
        base = dict(member_id="m", member_epoch=0, rebalance_timeout_ms=1000, subscribed_topic_names=["foo"],
                    owned=[])
        base.update(kw)
        result = validate_request(HeartbeatRequest(**base), "g", 1)
        return result.error if result else E.NONE

    assert check() == E.NONE
    assert check(rebalance_timeout_ms=-1) == E.INVALID_REQUEST
    assert check(subscribed_topic_names=None) == E.INVALID_REQUEST
    assert check(subscribed_topic_names=None, subscribed_topic_regex="fo.*") == E.NONE
    assert check(owned=[(FOO, [0])]) == E.INVALID_REQUEST
    assert check(owned=None) == E.INVALID_REQUEST
    assert check(member_epoch=-2) == E.INVALID_REQUEST  # static leave without an instance id
    assert check(member_epoch=-3) == E.INVALID_REQUEST
    assert check(instance_id="") == E.INVALID_REQUEST
    assert check(server_assignor="sticky") == E.UNSUPPORTED_ASSIGNOR
    assert check(server_assignor="range") == E.NONE
    assert validate_request(HeartbeatRequest("m", 0, rebalance_timeout_ms=1, subscribed_topic_names=[], owned=[]),
                            "", 1).error == E.INVALID_REQUEST


def test_a_partition_moves_only_after_its_owner_revoked_it():
    h = Harness(image(foo=4))
    h.join("a")
    assert flat(h.member("a").assigned) == {FOO: [0, 1, 2, 3]}
    b = h.join("b")
    # b is at the new epoch but gets nothing yet: every partition is still owned by a.
    assert (b.member_epoch, flat(b.assignment)) == (2, {})
    assert h.member("b").state is MemberState.UNRELEASED_PARTITIONS
    assert h.group.state is ConsumerGroupState.RECONCILING
    # a is told to keep two partitions and stays at its epoch until it revoked the other two.
    a = h.beat("a", 1, {FOO: [0, 1, 2, 3]})
    kept = flat(a.assignment)[FOO]
    assert a.member_epoch == 1 and len(kept) == 2
    assert h.member("a").state is MemberState.UNREVOKED_PARTITIONS
    still = h.beat("a", 1, {FOO: [0, 1, 2, 3]})
    assert (still.member_epoch, still.assignment) == (1, None)
    b = h.beat("b", 2, {})
    assert b.assignment is None  # nothing released yet
    a = h.beat("a", 1, {FOO: kept})
    assert (a.member_epoch, h.member("a").state) == (2, MemberState.STABLE)
    b = h.beat("b", 2, {})
    assert flat(b.assignment) == {FOO: sorted({0, 1, 2, 3} - set(kept))}
    assert h.group.state is ConsumerGroupState.STABLE


def test_a_lost_response_is_forgiven_at_the_previous_epoch_but_other_epochs_are_fenced():
    h = Harness(image(foo=2))
    h.join("a")
    h.join("b")
    h.beat("a", 1, {FOO: [0, 1]})
    revoked = flat(h.member("a").assigned)[FOO]
    h.beat("a", 1, {FOO: revoked})  # a moves to epoch 2
    assert h.member("a").member_epoch == 2
    # The answer with epoch 2 was lost: a heartbeat at epoch 1 owning a subset of its partitions is fine.
    assert h.beat("a", 1, {FOO: revoked}).error == E.NONE
    assert h.beat("a", 1, {FOO: [0, 1]}).error == E.FENCED_MEMBER_EPOCH  # owns more than it has
    assert h.beat("a", 3, {FOO: revoked}).error == E.FENCED_MEMBER_EPOCH
    assert h.beat("zz", 2, {}).error == E.UNKNOWN_MEMBER_ID


def test_leaving_frees_the_partitions_and_bumps_the_group_epoch():
    h = Harness(image(foo=2))
    h.join("a")
    h.join("b")
    h.beat("a", 1, {FOO: [0, 1]})
    h.beat("a", 1, {FOO: flat(h.member("a").assigned)[FOO]})
    h.beat("b", 2, {})
    assert h.group.state is ConsumerGroupState.STABLE
    left = h.send(HeartbeatRequest("b", -1), 0)
    assert (left.error, left.member_id, left.member_epoch) == (E.NONE, "b", -1)
    assert h.group.group_epoch == 3 and "b" not in h.group.members
    a = h.beat("a", 2, {FOO: flat(h.member("a").assigned)[FOO]})
    assert (a.member_epoch, flat(a.assignment)) == (3, {FOO: [0, 1]})
    assert h.send(HeartbeatRequest("b", -1), 0).error == E.UNKNOWN_MEMBER_ID
    h.send(HeartbeatRequest("a", -1), 0)
    assert h.group.state is ConsumerGroupState.EMPTY


def test_a_silent_member_is_fenced_when_its_session_expires():
    h = Harness(image(foo=2))
    h.join("a", now=0)
    h.join("b", now=0)
    h.beat("a", 1, {}, now=5_000)  # a already gave everything up: nothing to revoke
    assert h.group.tick(9_999) == []
    assert h.group.tick(10_000) == ["b"]  # b's last heartbeat was at 0, the session is 10 s
    assert set(h.group.members) == {"a"} and h.group.group_epoch == 3


def test_a_member_that_does_not_revoke_within_the_rebalance_timeout_is_fenced():
    h = Harness(image(foo=2))
    h.join("a", now=0)
    h.join("b", now=0)
    h.beat("a", 1, {FOO: [0, 1]}, now=100)  # told to revoke one partition, rebalance timeout 1 s
    h.beat("b", 2, {}, now=900)
    assert h.group.tick(1_099) == []
    assert h.group.tick(1_100) == ["a"]
    b = h.beat("b", 2, {}, now=1_200)
    assert (b.member_epoch, flat(b.assignment)) == (3, {FOO: [0, 1]})


def test_static_member_replaced_only_after_it_left_temporarily():
    h = Harness(image(foo=2))
    h.join("a", instance="i1")
    assert h.join("a2", instance="i1").error == E.UNRELEASED_INSTANCE_ID
    assert h.beat("a2", 1, {}, instance="i1").error == E.FENCED_INSTANCE_ID
    left = h.send(HeartbeatRequest("a", -2, instance_id="i1"), 0)
    assert (left.error, left.member_epoch) == (E.NONE, -2)
    assert h.group.group_epoch == 1  # a temporary leave keeps the place: no rebalance
    back = h.join("a2", instance="i1")
    assert (back.error, back.member_id, back.member_epoch, flat(back.assignment)) == (E.NONE, "a2", 1, {FOO: [0, 1]})
    assert set(h.group.members) == {"a2"} and h.group.static_members == {"i1": "a2"}


def test_an_unknown_static_member_and_a_regular_leave_of_a_static_member():
    h = Harness(image(foo=1))
    assert h.beat("x", 3, {}, instance="nobody").error == E.UNKNOWN_MEMBER_ID
    h.join("a", instance="i1")
    assert h.send(HeartbeatRequest("b", -1, instance_id="i1"), 0).error == E.FENCED_INSTANCE_ID
    assert h.send(HeartbeatRequest("a", -1, instance_id="i1"), 0).error == E.NONE
    assert h.group.static_members == {} and h.group.state is ConsumerGroupState.EMPTY


def test_regex_subscription_picks_up_topics_created_later():
    h = Harness(image(foo=1))
    r = h.join("a", names=None, regex="ba.*")
    assert (r.member_epoch, flat(r.assignment)) == (1, {})
    h.topics = image(foo=1, bar=2, baz=1)  # two matching topics appear
    r = h.beat("a", 1, {})
    assert (r.member_epoch, flat(r.assignment)) == (2, {BAR: [0, 1], BAZ: [0]})
    h.topics = image(foo=1, bar=3, baz=1)  # and one grows
    r = h.beat("a", 2, {BAR: [0, 1], BAZ: [0]})
    assert (r.member_epoch, flat(r.assignment)) == (3, {BAR: [0, 1, 2], BAZ: [0]})
    invalid = h.send(HeartbeatRequest("b", 0, rebalance_timeout_ms=1, subscribed_topic_regex="(", owned=[]), 0)
    assert invalid.error == E.INVALID_REGULAR_EXPRESSION and "b" not in h.group.members


def test_changing_the_subscription_revokes_the_topics_no_longer_wanted():
    h = Harness(image(foo=1, bar=1))
    h.join("a", names=("foo", "bar"))
    assert flat(h.member("a").assigned) == {FOO: [0], BAR: [0]}
    r = h.beat("a", 1, {FOO: [0], BAR: [0]}, names=["bar"])
    assert (r.member_epoch, flat(r.assignment)) == (1, {BAR: [0]})
    r = h.beat("a", 1, {BAR: [0]})
    assert (r.member_epoch, h.member("a").state) == (2, MemberState.STABLE)


def test_offset_commit_and_fetch_validation_of_a_consumer_group():
    h = Harness(image(foo=1))
    h.join("a")
    g = h.group
    assert g.validate_offset_commit("a", None, 1, False, version=9, now=0) == E.NONE
    assert g.validate_offset_commit("a", None, 0, False, version=9, now=0) == E.STALE_MEMBER_EPOCH
    assert g.validate_offset_commit("a", None, 1, False, version=8, now=0) == E.UNSUPPORTED_VERSION
    assert g.validate_offset_commit("x", None, 1, False, version=9, now=0) == E.UNKNOWN_MEMBER_ID
    assert g.validate_offset_commit("", None, -1, False, version=9, now=0) == E.UNKNOWN_MEMBER_ID  # members: not for admins
    assert g.validate_offset_commit("a", None, 0, True, version=3, now=0) == E.ILLEGAL_GENERATION  # TxnOffsetCommit
    assert g.validate_offset_commit("a", None, 1, True, version=3, now=0) == E.NONE
    assert g.validate_offset_fetch(None, -1) == E.NONE
    assert g.validate_offset_fetch("a", 1) == E.NONE
    assert g.validate_offset_fetch("a", 0) == E.STALE_MEMBER_EPOCH
    assert g.validate_offset_fetch("x", 1) == E.UNKNOWN_MEMBER_ID
    h.send(HeartbeatRequest("a", -1), 0)
    assert g.validate_offset_commit("", None, -1, False, version=9, now=0) == E.NONE  # empty: anyone may commit


def test_server_assignor_range_is_honoured():
    h = Harness(image(foo=4))
    h.join("a", assignor="range")
    h.join("b", assignor="range")
    assert h.group.preferred_assignor() == "range"
    assert flat(h.group.target["a"]) == {FOO: [0, 1]} and flat(h.group.target["b"]) == {FOO: [2, 3]}


def test_uniform_assignor_balances_and_keeps_previous_owners():
    topics = {FOO: 6}
    specs = {m: MemberSpec(frozenset({FOO})) for m in "abc"}
    first = uniform(specs, topics)
    assert sorted(len(first[m][FOO]) for m in "abc") == [2, 2, 2]
    assert set().union(*(first[m][FOO] for m in "abc")) == set(range(6))
    # A fourth member takes partitions; the others keep what they can.
    specs = {m: MemberSpec(frozenset({FOO}), first.get(m, {})) for m in "abcd"}
    second = uniform(specs, topics)
    assert sorted(len(second[m].get(FOO, ())) for m in "abcd") == [1, 1, 2, 2]
    for m in "abc":
        assert second[m][FOO] <= first[m][FOO]


def test_uniform_assignor_with_different_subscriptions():
    specs = {"a": MemberSpec(frozenset({FOO})), "b": MemberSpec(frozenset({FOO, BAR}))}
    out = uniform(specs, {FOO: 2, BAR: 2})
    assert set(out["a"]) == {FOO} and len(out["a"][FOO]) == 2
    assert out["b"] == {BAR: frozenset({0, 1})}


def test_range_assignor_co_partitions_topics():
    specs = {m: MemberSpec(frozenset({FOO, BAR})) for m in "ab"}
    out = range_(specs, {FOO: 3, BAR: 3})
    assert out["a"] == {FOO: frozenset({0, 1}), BAR: frozenset({0, 1})}
    assert out["b"] == {FOO: frozenset({2}), BAR: frozenset({2})}
