"""The same client requests, replayed on Apache Kafka and on kafkette, answered alike field by field.

Each scenario of conformance/scenarios.py runs once against a recording kafkette (every request
passes a CapturingProxy); the recorded requests are then replayed on both brokers and the answers
compared after `replay.normalise`. A difference fails the test unless accepted_differences.toml
lists it with its reason.
"""

from __future__ import annotations

import uuid

import pytest

from conformance.replay import Accepted, compare, replay
from conformance.scenarios import SCENARIOS
from kafkette.client import RawClient
from kafkette.protocol.messages import API_VERSIONS

ACCEPTED = Accepted()


def token() -> str:
    return "t" + uuid.uuid4().hex[:9]


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_replayed_requests_get_kafkas_answers(scenario, recorder, brokers):
    recorded = token()
    recorder.take()
    SCENARIOS[scenario](recorder.bootstrap_servers, recorded)
    steps = recorder.take()
    assert steps, "the scenario sent nothing through the proxy"
    renamed = token()  # the same new names on both brokers: they are two clusters
    answers = {name: replay(steps, bootstrap, recorded, renamed) for name, bootstrap in brokers.items()}
    found = compare(answers["kafka"], answers["kafkette"])
    unexpected = [str(d) for d in found if ACCEPTED.reason(d) is None]
    assert not unexpected, f"{len(unexpected)} answers differ from Kafka's:\n" + "\n".join(unexpected[:40])


def advertised(bootstrap: str) -> tuple[dict[int, tuple[int, int]], list]:
    with RawClient(bootstrap) as raw:
        answer = raw.request(API_VERSIONS, 3, API_VERSIONS.Request(client_software_name="conformance",
                                                                  client_software_version="1"))
    return {k.api_key: (k.min_version, k.max_version) for k in answer.api_keys}, answer.finalized_features


def test_every_advertised_version_is_one_kafka_serves(brokers):
    """kafkette advertises a subset of Kafka's APIs, each up to a version Kafka serves too. Below Kafka 4's
    lowest versions kafkette still serves what Kafka 3 served (KIP-896 removed them): a client that asks for
    one gets an answer from kafkette where Kafka 4 closes the connection (accepted_differences.toml)."""
    kafka, _ = advertised(brokers["kafka"])
    ours, features = advertised(brokers["kafkette"])
    missing = sorted(set(ours) - set(kafka))
    assert not missing, f"kafkette advertises APIs Kafka does not: {missing}"
    beyond = {key: (ours[key], kafka[key]) for key in ours if ours[key][1] > kafka[key][1]}
    assert not beyond, f"kafkette advertises versions beyond Kafka's: {beyond}"
    older = {key for key in ours if ours[key][0] < kafka[key][0]}
    accepted_older = {e["api_key"] for e in ACCEPTED.entries if e.get("path") == "api_keys[].min_version"}
    assert older <= accepted_older, f"kafkette serves versions Kafka 4 removed, not reviewed: {older - accepted_older}"
    assert features == []  # no finalized features: clients use transaction version 1 and classic group checks
