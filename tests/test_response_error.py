"""The error a response carries, read from any API's declaration: what the request log and metrics report."""

from __future__ import annotations

from kafkette.protocol.errors import ErrorCode as E
from kafkette.protocol.framing import APIS
from kafkette.protocol.messages import API_VERSIONS, DESCRIBE_CONFIGS, FETCH, PRODUCE
from kafkette.protocol.response_error import first_error


def fetch_response(top: int, *partition_errors: int):
    R = FETCH.Response
    return R(error_code=top, responses=[R.FetchableTopicResponse(topic="t", partitions=[
        R.PartitionData(partition_index=i, error_code=code) for i, code in enumerate(partition_errors)])])


def test_a_response_without_errors_has_none():
    assert first_error(fetch_response(0, 0, 0, 0)) == 0
    assert first_error(API_VERSIONS.Response()) == 0


def test_the_top_level_error_comes_first_then_the_first_partition_error():
    assert first_error(fetch_response(E.FETCH_SESSION_ID_NOT_FOUND, E.OFFSET_OUT_OF_RANGE)) == \
        E.FETCH_SESSION_ID_NOT_FOUND
    assert first_error(fetch_response(0, 0, E.OFFSET_OUT_OF_RANGE, E.NOT_LEADER_OR_FOLLOWER)) == E.OFFSET_OUT_OF_RANGE


def test_errors_nested_at_any_depth_and_named_like_error_codes_are_found():
    R = PRODUCE.Response
    produce = R(responses=[R.TopicProduceResponse(name="a", partition_responses=[R.PartitionProduceResponse(index=0)]),
                           R.TopicProduceResponse(name="b", partition_responses=[
                               R.PartitionProduceResponse(index=0, error_code=E.UNKNOWN_TOPIC_OR_PARTITION)])])
    assert first_error(produce) == E.UNKNOWN_TOPIC_OR_PARTITION
    D = DESCRIBE_CONFIGS.Response
    configs = D(results=[D.DescribeConfigsResult(error_code=E.INVALID_REQUEST, resource_name="x")])
    assert first_error(configs) == E.INVALID_REQUEST


def test_every_declared_response_can_be_scanned():
    for api in APIS.values():
        assert first_error(api.Response()) == 0, api.name
