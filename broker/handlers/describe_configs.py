"""DescribeConfigs for topics (2) and brokers (4)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kafkette.broker.auth.acl import AUTHORIZATION_MESSAGES, Operation, config_resource
from kafkette.broker.broker_config_docs import DOCS as BROKER_DOCS
from kafkette.broker.config_def import java_integer
from kafkette.broker.config_types import DEFAULT_CONFIG
from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.broker.topic_configs import (
    BROKER_RESOURCE,
    TOPIC_CONFIGS,
    TOPIC_RESOURCE,
    effective_topic_configs,
    synonyms,
)
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.describe_configs import (
    DESCRIBE_CONFIGS,
    DescribeConfigsRequest,
    DescribeConfigsResponse,
)

if TYPE_CHECKING:
    from kafkette.broker.state import Broker

R = DescribeConfigsResponse


@handles(DESCRIBE_CONFIGS, versions=(0, 4))
def describe_configs(ctx: RequestContext, body: DescribeConfigsRequest) -> DescribeConfigsResponse:
    return R(throttle_time_ms=0, results=[_authorized_describe(ctx, res, body.include_synonyms,
                                                               body.include_documentation) for res in body.resources])


def _authorized_describe(ctx: RequestContext, resource, include_synonyms: bool, include_docs: bool
                         ) -> R.DescribeConfigsResult:
    """Configs need DESCRIBE_CONFIGS on their topic, group or (for a broker's) the cluster."""
    guard = config_resource(resource.resource_type, resource.resource_name)
    refused = ctx.refusal(Operation.DESCRIBE_CONFIGS, *guard) if guard else ErrorCode.NONE
    if refused:
        return _error(resource, refused, AUTHORIZATION_MESSAGES[refused])
    if resource.resource_type == TOPIC_RESOURCE:
        return _topic(ctx.broker, ctx.node_id, resource, include_synonyms)
    if resource.resource_type == BROKER_RESOURCE:
        return _broker(ctx.broker, ctx.node_id, resource, include_synonyms, include_docs)
    return _error(resource, ErrorCode.INVALID_REQUEST, "only topic and broker resources are supported")


def _topic(broker: Broker, node: int, resource, include_synonyms: bool) -> R.DescribeConfigsResult:
    topic = broker.store.topic(resource.resource_name)
    if topic is None:
        return _error(resource, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "unknown topic")
    defaults = broker.topic_defaults(node)
    keys = resource.configuration_keys
    return _result(resource, [R.DescribeConfigsResourceResult(
        name=n, value=v, read_only=False, is_default=s == DEFAULT_CONFIG, config_source=s, is_sensitive=False,
        documentation=None, config_type=TOPIC_CONFIGS[n].type if n in TOPIC_CONFIGS else 0,
        synonyms=[R.DescribeConfigsSynonym(name=sn, value=sv, source=ss)
                  for sn, sv, ss in synonyms(defaults, n, topic.configs)] if include_synonyms else [])
        for n, v, s in effective_topic_configs(defaults, topic.configs) if not keys or n in keys])


def _broker(broker: Broker, node: int, resource, include_synonyms: bool, include_docs: bool) -> R.DescribeConfigsResult:
    """A node's configs (resource name its id), or the cluster-wide dynamic default's (resource name "")."""
    name = resource.resource_name
    if name and java_integer(name, 32) is None:
        return _error(resource, ErrorCode.INVALID_REQUEST, f"Broker id must be an integer, but it is: {name}")
    if name and java_integer(name, 32) != node:  # a broker's configs are asked of that broker
        return _error(resource, ErrorCode.INVALID_REQUEST,
                      f"Unexpected broker id, expected {node} or empty string, but received {name}")
    keys = resource.configuration_keys
    return _result(resource, [R.DescribeConfigsResourceResult(
        name=e.name, value=e.value, read_only=e.read_only, is_default=e.source == DEFAULT_CONFIG,
        config_source=e.source, is_sensitive=e.sensitive, config_type=e.type,
        documentation=BROKER_DOCS.get(e.name) if include_docs else None,
        synonyms=[R.DescribeConfigsSynonym(name=sn, value=sv, source=ss)
                  for sn, sv, ss in e.synonyms] if include_synonyms else [])
        for e in broker.configs.describe(node, per_broker=bool(name)) if not keys or e.name in keys])


def _result(resource, configs: list[R.DescribeConfigsResourceResult]) -> R.DescribeConfigsResult:
    return R.DescribeConfigsResult(error_code=0, error_message=None, resource_type=resource.resource_type,
                                   resource_name=resource.resource_name, configs=configs)


def _error(resource, error: ErrorCode, message: str) -> R.DescribeConfigsResult:
    return R.DescribeConfigsResult(error_code=error, error_message=message, resource_type=resource.resource_type,
                                   resource_name=resource.resource_name, configs=[])
