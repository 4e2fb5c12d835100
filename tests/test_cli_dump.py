"""`kafkette dump`: a partition with committed, aborted and open transactions, from a broker and from a
stopped broker's files, and how each batch is classified (socket-free)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from kafkette.cli.dump_view import classify
from kafkette.protocol.records import BatchHeader, build_batch, build_control_batch, set_base_offset
from tests.clients import create_topic, kafkette_cli, kafkette_json, produce_and_flush
from tests.test_transactions import TIMEOUT, txn_producer

# --------------------------------------------------------------------------------------------- classification

OPEN_PID, PID = 2, 1


def data(offset: int, count: int, pid: int = PID, transactional: bool = True) -> tuple[BatchHeader, bytes]:
    batch = build_batch([(None, b"v%d" % i) for i in range(count)], timestamp_ms=1, base_offset=offset,
                        producer_id=pid if transactional else -1, producer_epoch=0 if transactional else -1,
                        base_sequence=offset if transactional else -1, transactional=transactional)
    return BatchHeader.parse(batch), batch


def marker(offset: int, commit: bool, pid: int = PID) -> tuple[BatchHeader, bytes]:
    batch = bytearray(build_control_batch(pid, 0, commit, 0, 1))
    set_base_offset(batch, offset)
    return BatchHeader.parse(batch), bytes(batch)


LOG = [data(0, 2), marker(2, True), data(3, 1), marker(4, False), data(5, 2, OPEN_PID), data(7, 1),
       marker(8, True), data(9, 1, transactional=False)]


def classified(batches, aborted=(), last_stable: int = 5) -> list[tuple[int, str | None, str | None, str]]:
    views = classify(list(batches), last_stable, {OPEN_PID: 5}, list(aborted), with_records=False)
    return [(v.header.base_offset, v.marker, v.transaction, v.reader) for v in views]


def test_each_batch_gets_its_transactions_outcome_and_what_a_read_committed_reader_does():
    assert classified(LOG, aborted=[(PID, 3, 4)]) == [
        (0, None, "committed", "reads"),
        (2, "COMMIT", None, "skips: marker"),
        (3, None, "aborted", "skips: aborted"),
        (4, "ABORT", None, "skips: marker"),
        (5, None, "open", "waits"),  # the LSO: the open transaction's first batch
        (7, None, "committed", "waits"),  # committed, but behind the LSO
        (8, "COMMIT", None, "skips: marker"),
        (9, None, None, "waits"),
    ]


def test_a_transaction_whose_marker_is_past_the_view_is_told_by_the_aborted_list_the_lso_and_open_producers():
    assert classified([LOG[2]], aborted=[(PID, 3, None)]) == [(3, None, "aborted", "skips: aborted")]
    assert classified([LOG[0]]) == [(0, None, "committed", "reads")]  # below the LSO and not aborted
    assert classified([LOG[4]]) == [(5, None, "open", "waits")]
    assert classified([LOG[5]]) == [(7, None, "marker past view", "waits")]
    # an aborted transaction of the same producer that ended before this batch does not make it aborted
    assert classified([LOG[3], LOG[5]], aborted=[(PID, 3, None)], last_stable=9)[1] == (7, None, "committed", "reads")


# --------------------------------------------------------------------------------------------- a real partition


def fill(bootstrap: str, topic: str):
    """committed (0-1, marker 2), aborted (3, marker 4), open (5-6), committed (7, marker 8), plain (9).
    Returns the producer that keeps its transaction open."""
    other = txn_producer(bootstrap)
    other.begin_transaction()
    other.produce(topic, b"committed-0")
    other.produce(topic, b"committed-1")
    other.commit_transaction(TIMEOUT)
    other.begin_transaction()
    other.produce(topic, b"aborted")
    other.flush(TIMEOUT)
    other.abort_transaction(TIMEOUT)
    stuck = txn_producer(bootstrap)
    stuck.begin_transaction()
    stuck.produce(topic, b"open-0")
    stuck.produce(topic, b"open-1")
    stuck.flush(TIMEOUT)
    other.begin_transaction()
    other.produce(topic, b"after")
    other.commit_transaction(TIMEOUT)
    produce_and_flush(bootstrap, topic, [{"value": b"plain"}])
    return stuck


def outcomes(doc: dict) -> list[tuple[int, str | None, str | None, str]]:
    return [(b["base_offset"], b["marker"], b["transaction"], b["read_committed"]) for b in doc["batches"]]


EXPECTED = [(0, None, "committed", "reads"), (2, "COMMIT", None, "skips: marker"), (3, None, "aborted", "skips: aborted"),
            (4, "ABORT", None, "skips: marker"), (5, None, "open", "waits"), (7, None, "committed", "waits"),
            (8, "COMMIT", None, "skips: marker"), (9, None, None, "waits")]


def files(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha1(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def test_dump_from_a_broker_and_from_its_files_after_it_stopped(fresh_broker):
    bootstrap = fresh_broker.bootstrap_servers
    topic = create_topic(bootstrap, "dumped", 1)
    stuck = fill(bootstrap, topic)

    online = kafkette_json("dump", topic, 0, "--records", bootstrap=bootstrap)
    assert (online["log_start_offset"], online["last_stable_offset"], online["high_watermark"]) == (0, 5, 10)
    assert outcomes(online) == EXPECTED
    assert [r["value"] for r in online["batches"][4]["records"]] == ["open-0", "open-1"]
    [open_txn] = online["open_transactions"]
    assert open_txn["first_offset"] == 5 and online["batches"][4]["producer_id"] == open_txn["producer_id"]
    text = kafkette_cli("dump", topic, 0, bootstrap=bootstrap).stdout.splitlines()
    assert "log start 0   LSO 5   high watermark 10" in text[0]
    column = text[1].index("Offsets")  # the gutter before it marks the log start, the LSO and the HWM
    gutter = {line[column:].split()[0]: line[:column].strip() for line in text[3:12]}
    assert gutter == {"0-1": "log start ▶", "2": "", "3": "", "4": "", "5-6": "LSO ▶", "7": "┃ held back",
                      "8": "┃ held back", "9": "┃ held back", "10": "HWM ▶"}
    assert " open " in text[7] and "(end of log)" in text[11]
    assert f"read_committed readers wait at offset 5: the open transaction of producer {open_txn['producer_id']}" \
        in text[12]
    assert text[12].endswith(f"kafkette txn abort --topic {topic} --partition 0 --start-offset 5")
    window = kafkette_json("dump", topic, 0, "--from", 4, "--limit", 2, bootstrap=bootstrap)
    assert outcomes(window) == EXPECTED[3:5]

    stuck.purge()
    fresh_broker.stop()
    directory = fresh_broker.data_dir / f"{topic}-0"
    before = files(directory)
    offline = kafkette_json("dump", topic, 0, "--records", "--data-dir", fresh_broker.data_dir, bootstrap="unused:1")
    assert files(directory) == before  # read without writing
    assert offline["source"] == f"files in {directory}"
    aborted_index = offline.pop("aborted_index")
    assert [(e["producer_id"], e["first_offset"], e["last_offset"], e["last_stable_offset"]) for e in aborted_index] \
        == [(online["batches"][2]["producer_id"], 3, 4, 5)]
    assert {**offline, "source": None} == {**online, "source": None}
    text = kafkette_cli("dump", topic, 0, "--data-dir", fresh_broker.data_dir).stdout
    assert "aborted-transaction index (.txnindex)" in text and "LSO ▶" in text

    missing = kafkette_cli("dump", topic, 3, "--data-dir", fresh_broker.data_dir)
    assert missing.returncode == 1 and f"holds no partition {topic}-3" in missing.stderr
