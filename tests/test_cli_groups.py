"""`kafkette groups`: list, describe (members, committed offsets, lag), reset-offsets (dry run and
--execute, refused while the group is active) and delete, against a real broker."""

from __future__ import annotations

from confluent_kafka import Consumer, TopicPartition

from tests.clients import consume_until, create_topic, kafkette_cli, kafkette_json, produce_and_flush
from tests.conftest import unique


def group_consumer(bootstrap: str, group: str) -> Consumer:
    return Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                     "enable.auto.commit": False})


def committed_by_group(bootstrap: str, topic: str, group: str, partitions: int) -> list[int]:
    c = group_consumer(bootstrap, group)
    try:
        return [tp.offset for tp in c.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)]
    finally:
        c.close()


def test_describe_reset_and_delete_a_group(broker):
    bootstrap = broker.bootstrap_servers
    topic = create_topic(bootstrap, unique("cli-groups"), 2)
    produce_and_flush(bootstrap, topic, [{"value": b"v%d" % i, "partition": i % 2} for i in range(10)])
    group = unique("cli-group")
    member = group_consumer(bootstrap, group)
    member.subscribe([topic])
    assert len(consume_until(member, 10, timeout=20)) == 10
    member.commit(offsets=[TopicPartition(topic, 0, 3), TopicPartition(topic, 1, 5)], asynchronous=False)
    try:
        active = kafkette_json("groups", "describe", group, bootstrap=bootstrap)
        assert (active["state"], active["protocol_type"], active["member_count"]) == ("Stable", "consumer", 1)
        assert sorted(active["members"][0]["assignment"]) == [f"{topic}-0", f"{topic}-1"]
        assert [(p["partition"], p["committed"], p["log_end"], p["last_stable"], p["lag"]) for p in active["partitions"]] \
            == [(0, 3, 5, 5, 2), (1, 5, 5, 5, 0)]
        assert active["partitions"][0]["member_id"] == active["members"][0]["member_id"]
        refused = kafkette_cli("groups", "reset-offsets", group, "--topic", topic, "--to-earliest", bootstrap=bootstrap)
        assert refused.returncode == 1
        assert f"offsets can only be reset while group '{group}' is inactive, but it is Stable" in refused.stderr
    finally:
        member.close()

    listed = {g["group"]: g for g in kafkette_json("groups", "list", bootstrap=bootstrap)}
    assert listed[group]["state"] == "Empty"

    def plan(*how: object) -> list[tuple[int, int | None, int]]:
        rows = kafkette_json("groups", "reset-offsets", group, "--topic", topic, *how, bootstrap=bootstrap)
        return [(r["partition"], r["committed"], r["new_offset"]) for r in rows]

    assert plan("--to-earliest") == [(0, 3, 0), (1, 5, 0)]
    assert plan("--to-latest") == [(0, 3, 5), (1, 5, 5)]
    assert plan("--to-offset", 4) == [(0, 3, 4), (1, 5, 4)]
    assert plan("--to-offset", 99) == [(0, 3, 5), (1, 5, 5)]  # kept within the log, as Kafka's tool does
    assert plan("--shift-by", -4) == [(0, 3, 0), (1, 5, 1)]
    assert plan("--to-datetime", "2000-01-01T00:00:00") == [(0, 3, 0), (1, 5, 0)]
    assert plan("--to-datetime", "2999-01-01T00:00:00+01:00") == [(0, 3, 5), (1, 5, 5)]  # nothing that late: the end
    assert committed_by_group(bootstrap, topic, group, 2) == [3, 5]  # a dry run commits nothing
    dry = kafkette_cli("groups", "reset-offsets", group, "--topic", f"{topic}:1", "--shift-by", 1, bootstrap=bootstrap)
    assert dry.returncode == 0 and "dry run: nothing was committed" in dry.stdout and "NEW-OFFSET" in dry.stdout

    executed = kafkette_json("groups", "reset-offsets", group, "--topic", f"{topic}:1", "--to-offset", 2, "--execute",
                             bootstrap=bootstrap)
    assert [(r["partition"], r["new_offset"]) for r in executed] == [(1, 2)]
    assert committed_by_group(bootstrap, topic, group, 2) == [3, 2]
    resumed = group_consumer(bootstrap, group)
    resumed.subscribe([topic])
    try:
        assert sorted((m.partition(), m.offset()) for m in consume_until(resumed, 5, timeout=20)) == \
            [(0, 3), (0, 4), (1, 2), (1, 3), (1, 4)]
    finally:
        resumed.close()

    deleted = kafkette_json("groups", "delete", group, bootstrap=bootstrap)
    assert deleted == [{"group": group, "deleted": True, "error": None}]
    gone = kafkette_cli("groups", "describe", group, bootstrap=bootstrap)
    assert gone.returncode == 1 and f"consumer group '{group}' does not exist" in gone.stderr
    again = kafkette_cli("groups", "delete", group, bootstrap=bootstrap)
    assert again.returncode == 1 and "the group does not exist" in again.stdout


def test_reset_offsets_usage_errors(broker):
    bootstrap = broker.bootstrap_servers
    topic = create_topic(bootstrap, unique("cli-groups-usage"), 1)
    no_mode = kafkette_cli("groups", "reset-offsets", "g", "--topic", topic, bootstrap=bootstrap)
    assert no_mode.returncode == 2 and "one of the arguments --to-earliest" in no_mode.stderr
    assert len(no_mode.stderr.strip().splitlines()) == 1
    bad_time = kafkette_cli("groups", "reset-offsets", "g", "--topic", topic, "--to-datetime", "yesterday",
                            bootstrap=bootstrap)
    assert bad_time.returncode == 2 and "expected an ISO 8601 time" in bad_time.stderr
    no_offset = kafkette_cli("groups", "reset-offsets", unique("g"), "--topic", topic, "--shift-by", 1,
                             bootstrap=bootstrap)
    assert no_offset.returncode == 1 and "has no committed offset there" in no_offset.stderr
    no_partition = kafkette_cli("groups", "reset-offsets", "g", "--topic", f"{topic}:7", "--to-earliest",
                                bootstrap=bootstrap)
    assert no_partition.returncode == 1 and "UNKNOWN_TOPIC_OR_PARTITION" in no_partition.stderr
