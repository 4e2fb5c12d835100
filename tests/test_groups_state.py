"""The classic group state machine, driven without sockets: what Kafka's GroupCoordinator answers."""

from __future__ import annotations

import itertools

import pytest

from kafkette.broker.groups.consumer_protocol import encode_subscription, subscription_topics
from kafkette.broker.groups.offsets import GroupOffsets, OffsetAndMetadata
from kafkette.broker.groups.state import (
    NEW_MEMBER_JOIN_TIMEOUT_MS,
    STORE,
    Group,
    GroupSettings,
    GroupState,
    IllegalTransition,
    JoinRequest,
    JoinResult,
    Reply,
    SyncResult,
)
from kafkette.protocol.errors import ErrorCode as E

S = GroupState
SESSION = 10_000
REBALANCE = 30_000
SUB = encode_subscription(["t"])


def make_group(**settings) -> Group:
    ids = itertools.count(1)
    return Group("g", 0, GroupSettings(**settings), make_member_id=lambda client: f"{client}-{next(ids)}")


def request(member_id: str = "", *, client: str = "c", instance: str | None = None, protocols=None,
            protocol_type: str = "consumer", v4: bool = True, session: int = SESSION) -> JoinRequest:
    return JoinRequest(member_id, instance, client, "/127.0.0.1", session, REBALANCE, protocol_type,
                       protocols if protocols is not None else [("range", SUB)], v4)


def replies(effects) -> dict:
    return {e.token: e.result for e in effects if isinstance(e, Reply)}


def join(group: Group, req: JoinRequest, token: str, now: int = 0) -> JoinResult | None:
    """Join; the token's answer if it came now (None: still waiting)."""
    return replies(group.join(req, token, now)).get(token)


def join_new(group: Group, token: str, now: int = 0, **kw) -> JoinResult | None:
    """A dynamic consumer's first join (v4+): MEMBER_ID_REQUIRED, then again with the id."""
    first = join(group, request(**kw), token, now)
    assert first.error == E.MEMBER_ID_REQUIRED and first.member_id
    return join(group, request(first.member_id, **kw), token, now)


def stable_group_of_one() -> tuple[Group, str]:
    group = make_group()
    joined = join_new(group, "j1")
    replies(group.sync(joined.member_id, None, joined.generation_id, None, None,
                       {joined.member_id: b"A"}, "s1", 0))
    assert group.state is S.STABLE
    return group, joined.member_id


# ---------------------------------------------------------------------- joining


def test_lone_consumer_needs_member_id_then_leads_generation_one_at_once():
    group = make_group()
    first = join(group, request(), "j0")
    assert first.error == E.MEMBER_ID_REQUIRED and first.generation_id == -1
    assert group.state is S.EMPTY and first.member_id in group.pending_members

    joined = join(group, request(first.member_id), "j1")
    assert joined.error == E.NONE
    assert joined.generation_id == 1 and joined.leader == joined.member_id == first.member_id
    assert joined.protocol_type == "consumer" and joined.protocol_name == "range"
    assert joined.members == [(first.member_id, None, SUB)]
    assert group.state is S.COMPLETING_REBALANCE


def test_join_v3_gets_a_member_id_without_the_extra_round_trip():
    group = make_group()
    joined = join(group, request(v4=False), "j")
    assert joined.error == E.NONE and joined.member_id and joined.generation_id == 1


def test_leader_sync_makes_group_stable_and_hands_each_member_its_assignment():
    group = make_group()
    a = join_new(group, "ja")
    b_first = join(group, request(client="b"), "jb0")
    # b is pending (MEMBER_ID_REQUIRED): the rebalance of a already completed without it.
    effects = group.join(request(b_first.member_id, client="b"), "jb", 0)
    assert group.state is S.PREPARING_REBALANCE and "jb" not in replies(effects)
    assert group.heartbeat(a.member_id, None, 1, 0) == E.REBALANCE_IN_PROGRESS

    done = replies(group.join(request(a.member_id), "ja2", 0))
    assert set(done) == {"ja2", "jb"}
    leader, follower = (done["ja2"], done["jb"]) if done["ja2"].members else (done["jb"], done["ja2"])
    assert leader.generation_id == follower.generation_id == 2
    assert {m for m, _, _ in leader.members} == {a.member_id, b_first.member_id}
    assert follower.members == []
    assert group.heartbeat(follower.member_id, None, 2, 0) == E.NONE  # CompletingRebalance: NONE

    assert replies(group.sync(follower.member_id, None, 2, None, None, {}, "sf", 0)) == {}
    effects = group.sync(leader.member_id, None, 2, "consumer", "range",
                         {leader.member_id: b"L", follower.member_id: b"F"}, "sl", 0)
    assert STORE in effects
    out = replies(effects)
    assert out["sl"].assignment == b"L" and out["sf"].assignment == b"F"
    assert out["sf"].protocol_name == "range" and out["sf"].error == E.NONE
    assert group.state is S.STABLE
    # A late SyncGroup in Stable gets the stored assignment at once.
    assert replies(group.sync(follower.member_id, None, 2, None, None, {}, "late", 0))["late"].assignment == b"F"


def test_rejoin_with_same_metadata_during_completing_returns_current_generation():
    group = make_group()
    joined = join_new(group, "j")
    again = join(group, request(joined.member_id), "j-again")
    assert again.error == E.NONE and again.generation_id == joined.generation_id
    assert group.state is S.COMPLETING_REBALANCE


def test_stable_follower_rejoining_unchanged_gets_generation_without_rebalance_but_leader_forces_one():
    group = make_group()
    a = join_new(group, "ja")
    b0 = join(group, request(client="b"), "jb0")
    group.join(request(b0.member_id, client="b"), "jb", 0)
    done = replies(group.join(request(a.member_id), "ja2", 0))
    leader_id = done["ja2"].leader
    follower_id = b0.member_id if leader_id == a.member_id else a.member_id
    group.sync(leader_id, None, 2, None, None, {}, "s", 0)
    assert group.state is S.STABLE

    same = join(group, request(follower_id, client="b" if follower_id == b0.member_id else "c"), "f")
    assert same.error == E.NONE and same.generation_id == 2 and group.state is S.STABLE
    assert join(group, request(leader_id), "l") is None
    assert group.state is S.PREPARING_REBALANCE


def test_superseded_join_request_is_answered_so_the_connection_does_not_stall():
    group, member = stable_group_of_one()
    group.join(request(member), "first", 0)  # leader rejoin: rebalance starts and completes at once
    b0 = join(group, request(client="b"), "b0")
    assert join(group, request(b0.member_id, client="b"), "b1") is None
    out = replies(group.join(request(b0.member_id, client="b"), "b2", 0))
    assert out["b1"].error == E.REBALANCE_IN_PROGRESS


def test_inconsistent_protocols_are_rejected():
    group = make_group()
    assert join(group, request(protocols=[]), "x").error == E.INCONSISTENT_GROUP_PROTOCOL
    assert join(group, request(protocol_type=""), "x").error == E.INCONSISTENT_GROUP_PROTOCOL
    join_new(group, "j")
    assert join(group, request(protocol_type="connect", v4=False), "y").error == E.INCONSISTENT_GROUP_PROTOCOL
    other = request(protocols=[("roundrobin", SUB)], v4=False)
    assert join(group, other, "z").error == E.INCONSISTENT_GROUP_PROTOCOL


def test_protocol_is_the_one_most_members_prefer_among_those_all_support():
    group = make_group()
    both = [("cooperative-sticky", SUB), ("range", SUB)]
    a = join(group, request(protocols=both, v4=False), "a")
    group.sync(a.member_id, None, 1, None, None, {}, "s", 0)
    join(group, request(protocols=[("range", SUB), ("cooperative-sticky", SUB)], client="b", v4=False), "b")
    join(group, request(protocols=[("range", SUB)], client="c", v4=False), "c")
    done = replies(group.join(request(a.member_id, protocols=both), "a2", 0))
    assert done["a2"].protocol_name == "range"


def test_unknown_member_and_illegal_generation():
    group, member = stable_group_of_one()
    assert group.heartbeat("nobody", None, 1, 0) == E.UNKNOWN_MEMBER_ID
    assert group.heartbeat(member, None, 7, 0) == E.ILLEGAL_GENERATION
    assert replies(group.sync(member, None, 7, None, None, {}, "s", 0))["s"].error == E.ILLEGAL_GENERATION
    assert replies(group.sync("nobody", None, 1, None, None, {}, "s", 0))["s"].error == E.UNKNOWN_MEMBER_ID
    assert join(group, request("nobody"), "j").error == E.UNKNOWN_MEMBER_ID
    mismatch = replies(group.sync(member, None, 1, "consumer", "roundrobin", {}, "s", 0))["s"]
    assert mismatch.error == E.INCONSISTENT_GROUP_PROTOCOL


def test_sync_during_preparing_rebalance_is_told_to_rejoin():
    group, member = stable_group_of_one()
    join(group, request(client="b", v4=False), "b")
    assert group.state is S.PREPARING_REBALANCE
    assert replies(group.sync(member, None, 1, None, None, {}, "s", 0))["s"].error == E.REBALANCE_IN_PROGRESS


def test_rebalance_in_completing_state_fails_waiting_syncs():
    group = make_group()
    a = join(group, request(v4=False), "a")
    b = join(group, request(client="b", v4=False), "b")  # a has not rejoined: b waits
    assert b is None and group.state is S.PREPARING_REBALANCE
    done = replies(group.join(request(a.member_id), "a2", 0))
    follower = done["b"] if not done["b"].members else done["a2"]
    assert replies(group.sync(follower.member_id, None, 2, None, None, {}, "sf", 0)) == {}
    out = replies(group.join(request(client="c", v4=False), "c", 0))
    assert out["sf"].error == E.REBALANCE_IN_PROGRESS


# ---------------------------------------------------------------------- leaving and timeouts


def test_last_member_leaving_empties_the_group_and_bumps_the_generation():
    group, member = stable_group_of_one()
    errors, effects = group.leave([(member, None)], 5)
    assert errors == [E.NONE] and STORE in effects
    assert group.state is S.EMPTY and group.generation == 2 and not group.members


def test_leave_errors_per_member():
    group, member = stable_group_of_one()
    errors, _ = group.leave([("ghost", None), ("", None), (member, None)], 0)
    assert errors == [E.UNKNOWN_MEMBER_ID, E.UNKNOWN_MEMBER_ID, E.NONE]


def test_pending_member_can_leave_and_expires_after_its_session():
    group = make_group()
    pending = join(group, request(), "p").member_id
    assert group.leave([(pending, None)], 0)[0] == [E.NONE] and not group.pending_members
    pending = join(group, request(), "p").member_id
    group.tick(SESSION - 1)
    assert pending in group.pending_members
    group.tick(SESSION)
    assert not group.pending_members


def test_silent_member_is_evicted_after_its_session_timeout_and_others_rebalance():
    group = make_group()
    a = join(group, request(v4=False), "a")
    group.sync(a.member_id, None, 1, None, None, {}, "sa", 0)
    assert join(group, request(client="b", v4=False), "b", now=1000) is None
    done = replies(group.join(request(a.member_id), "a2", 1000))
    b = done["b"]
    group.sync(a.member_id, None, 2, None, None, {}, "s", 1000)
    group.sync(b.member_id, None, 2, None, None, {}, "s2", 1000)
    assert group.state is S.STABLE
    assert group.heartbeat(a.member_id, None, 2, 1000 + SESSION - 1) == E.NONE
    group.tick(1000 + SESSION)  # b's session ran out; a heartbeated
    assert set(group.members) == {a.member_id}
    assert group.state is S.PREPARING_REBALANCE
    assert group.heartbeat(a.member_id, None, 2, 1000 + SESSION) == E.REBALANCE_IN_PROGRESS


def test_members_that_do_not_rejoin_are_dropped_when_the_rebalance_times_out():
    group, member = stable_group_of_one()
    b = join(group, request(client="b", v4=False), "b", now=100)
    assert b is None and group.state is S.PREPARING_REBALANCE
    group.heartbeat(member, None, 1, 100 + REBALANCE - 1)
    group.tick(100 + REBALANCE - 1)
    assert group.state is S.PREPARING_REBALANCE
    out = replies(group.tick(100 + REBALANCE))
    assert out["b"].error == E.NONE and out["b"].generation_id == 2 and out["b"].leader == out["b"].member_id
    assert set(group.members) == {out["b"].member_id}


def test_new_member_that_never_completes_join_expires_after_the_new_member_timeout():
    group, member = stable_group_of_one()
    join(group, request(client="b", v4=False), "b", now=0)
    assert group.members[[m for m in group.members if m != member][0]].heartbeat_deadline == NEW_MEMBER_JOIN_TIMEOUT_MS


def test_leader_that_never_syncs_is_removed_at_the_rebalance_timeout():
    group = make_group()
    a = join(group, request(v4=False), "a")
    assert group.state is S.COMPLETING_REBALANCE
    for now in range(9000, REBALANCE, 9000):  # it heartbeats, so its session stays alive
        assert group.heartbeat(a.member_id, None, 1, now) == E.NONE
        group.tick(now)
    group.tick(REBALANCE - 1)
    assert a.member_id in group.members
    group.tick(REBALANCE)
    assert not group.members and group.state is S.EMPTY


def test_initial_rebalance_delay_waits_for_more_members():
    group = make_group(initial_rebalance_delay_ms=300)
    assert join(group, request(v4=False), "a", now=0) is None
    assert join(group, request(client="b", v4=False), "b", now=100) is None
    assert replies(group.tick(299)) == {}
    out = replies(group.tick(300))  # b arrived during the delay: Kafka waits one delay more
    assert out == {}
    out = replies(group.tick(600))
    assert {r.generation_id for r in out.values()} == {1} and len(out) == 2


# ---------------------------------------------------------------------- static membership


def test_static_member_rejoining_with_new_id_fences_the_old_one_without_rebalance():
    group = make_group()
    a = join(group, request(instance="i-1"), "a")  # static members skip MEMBER_ID_REQUIRED
    assert a.error == E.NONE
    group.sync(a.member_id, "i-1", 1, None, None, {a.member_id: b"A"}, "s", 0)
    again = join(group, request(instance="i-1"), "a2")
    assert again.error == E.NONE and again.member_id != a.member_id
    assert again.generation_id == 1 and group.state is S.STABLE
    assert again.skip_assignment  # it leads: Kafka tells it not to recompute
    assert group.heartbeat(a.member_id, "i-1", 1, 0) == E.FENCED_INSTANCE_ID
    assert group.heartbeat(again.member_id, "i-1", 1, 0) == E.NONE
    assert replies(group.sync(again.member_id, "i-1", 1, None, None, {}, "s2", 0))["s2"].assignment == b"A"
    assert join(group, request(a.member_id, instance="i-1"), "old").error == E.FENCED_INSTANCE_ID
    assert group.leave([(a.member_id, "i-1")], 0)[0] == [E.FENCED_INSTANCE_ID]
    assert group.leave([("", "i-1")], 0)[0] == [E.NONE] and group.state is S.EMPTY


def test_static_member_is_kept_through_a_rebalance_it_misses():
    group = make_group()
    a = join(group, request(instance="i-1"), "a")
    group.sync(a.member_id, "i-1", 1, None, None, {}, "s", 0)
    join(group, request(client="b", v4=False), "b", now=0)
    for now in range(9000, REBALANCE, 9000):
        assert group.heartbeat(a.member_id, "i-1", 1, now) == E.REBALANCE_IN_PROGRESS
        assert replies(group.tick(now)) == {}
    out = replies(group.tick(REBALANCE))  # a never rejoined; a dynamic member would be dropped now
    assert a.member_id in group.members and len(group.members) == 2
    assert out["b"].generation_id == 2 and {m for m, _, _ in out["b"].members} == set(group.members)


# ---------------------------------------------------------------------- offsets


def test_offset_commit_validation_follows_kafka():
    group = make_group()
    assert group.validate_offset_commit("", None, -1, False, version=0, now=0) == E.NONE  # simple consumer, empty group
    joined = join_new(group, "j")
    member = joined.member_id
    assert group.validate_offset_commit(member, None, 1, False, version=0, now=0) == E.REBALANCE_IN_PROGRESS
    assert group.validate_offset_commit(member, None, 1, True, version=0, now=0) == E.NONE  # TxnOffsetCommit is not held back
    group.sync(member, None, 1, None, None, {}, "s", 0)
    assert group.validate_offset_commit(member, None, 1, False, version=0, now=0) == E.NONE
    assert group.validate_offset_commit("", None, -1, False, version=0, now=0) == E.UNKNOWN_MEMBER_ID
    assert group.validate_offset_commit("", None, -1, True, version=0, now=0) == E.NONE
    assert group.validate_offset_commit(member, None, 0, False, version=0, now=0) == E.ILLEGAL_GENERATION
    assert group.validate_offset_commit("ghost", None, 1, True, version=0, now=0) == E.UNKNOWN_MEMBER_ID


def test_pending_transactional_offsets_become_committed_only_on_commit():
    offsets = GroupOffsets()
    tp = ("t", 0)
    offsets.commit(tp, OffsetAndMetadata(5, record_offset=1))
    offsets.add_pending(42, tp, OffsetAndMetadata(9, record_offset=2))
    assert offsets.is_unstable(tp) and offsets.committed[tp].offset == 5
    assert offsets.complete(42, commit=False)
    assert not offsets.is_unstable(tp) and offsets.committed[tp].offset == 5
    offsets.add_pending(42, tp, OffsetAndMetadata(9, record_offset=3))
    assert offsets.complete(42, commit=True) and offsets.committed[tp].offset == 9
    assert not offsets.complete(42, commit=True)


def test_a_plain_commit_written_after_the_transactional_one_wins():
    offsets = GroupOffsets()
    tp = ("t", 0)
    offsets.add_pending(7, tp, OffsetAndMetadata(9, record_offset=2))
    offsets.commit(tp, OffsetAndMetadata(11, record_offset=3))
    offsets.complete(7, commit=True)
    assert offsets.committed[tp].offset == 11


def test_subscription_topics_of_consumer_protocol_metadata():
    assert subscription_topics(encode_subscription(["a", "b"])) == {"a", "b"}
    assert subscription_topics(b"\x00") is None


def test_transitions_are_checked_against_the_table():
    group = make_group()
    with pytest.raises(IllegalTransition):
        group.transition(S.STABLE, 0)
    assert group.can_delete() == E.NONE
    join(group, request(v4=False), "a")
    assert group.can_delete() == E.NON_EMPTY_GROUP


def test_restored_group_is_stable_and_its_members_must_heartbeat():
    from kafkette.broker.groups.state import Member

    group = make_group()
    member = Member("m-1", None, "c", "/h", SESSION, REBALANCE, "consumer", [("range", SUB)], assignment=b"A")
    group.restore(4, "consumer", "range", "m-1", [member], 123, now=1000)
    assert group.state is S.STABLE and group.generation == 4
    assert replies(group.sync("m-1", None, 4, None, None, {}, "s", 1000))["s"].assignment == b"A"
    group.tick(1000 + SESSION)
    assert group.state is S.EMPTY and group.generation == 5


def test_sync_results_carry_protocol_for_v5():
    group, member = stable_group_of_one()
    result = replies(group.sync(member, None, 1, "consumer", "range", {}, "s", 0))["s"]
    assert isinstance(result, SyncResult) and (result.protocol_type, result.protocol_name) == ("consumer", "range")
