"""DescribeConfigs for topics (2) and brokers (4)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kafkette.broker.auth.acl import AUTHORIZATION_MESSAGES, Operation, config_resource
from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.broker.topic_configs import (
    BROKER_RESOURCE,
    CONFIG_SOURCE_DEFAULT,
    CONFIG_SOURCE_STATIC_BROKER,
    STRING,
    TOPIC_CONFIGS,
    TOPIC_RESOURCE,
    broker_configs,
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
    return R(throttle_time_ms=0, results=[_authorized_describe(ctx, res, body.include_synonyms)
                                          for res in body.resources])


def _authorized_describe(ctx: RequestContext, resource, include_synonyms: bool) -> R.DescribeConfigsResult:
    """Configs need DESCRIBE_CONFIGS on their topic, group or (for a broker's) the cluster."""
    guard = config_resource(resource.resource_type, resource.resource_name)
    refused = ctx.refusal(Operation.DESCRIBE_CONFIGS, *guard) if guard else ErrorCode.NONE
    if refused:
        return _error(resource, refused, AUTHORIZATION_MESSAGES[refused])
    return _describe(ctx.broker, ctx.node_id, resource, include_synonyms)


def _describe(broker: Broker, node: int, resource, include_synonyms: bool) -> R.DescribeConfigsResult:
    topic = None
    if resource.resource_type == TOPIC_RESOURCE:
        topic = broker.store.topic(resource.resource_name)
        if topic is None:
            return _error(resource, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "unknown topic")
        entries = effective_topic_configs(broker.config, topic.configs)
    elif resource.resource_type == BROKER_RESOURCE:
        if resource.resource_name not in ("", str(node)):  # a broker's configs are asked of that broker
            return _error(resource, ErrorCode.INVALID_REQUEST,
                          f"Unexpected broker id, expected {node} or empty string, but received "
                          f"{resource.resource_name}")
        settings = broker_configs(broker.config, node, broker.cluster.listener_strings(node))
        entries = [(n, v, CONFIG_SOURCE_STATIC_BROKER) for n, v in sorted(settings.items())]
    else:
        return _error(resource, ErrorCode.INVALID_REQUEST, "only topic and broker resources are supported")
    keys = resource.configuration_keys
    topic_configs = topic.configs if topic is not None else {}
    configs = [R.DescribeConfigsResourceResult(
        name=n, value=v, read_only=resource.resource_type == BROKER_RESOURCE, is_default=s == CONFIG_SOURCE_DEFAULT,
        config_source=s, is_sensitive=False, documentation=None,
        config_type=TOPIC_CONFIGS[n].type if n in TOPIC_CONFIGS and resource.resource_type == TOPIC_RESOURCE else STRING,
        synonyms=[R.DescribeConfigsSynonym(name=sn, value=sv, source=ss) for sn, sv, ss in synonyms(
            broker.config, n, topic_configs)] if include_synonyms and resource.resource_type == TOPIC_RESOURCE else [])
        for n, v, s in entries if keys is None or n in keys]
    return R.DescribeConfigsResult(error_code=0, error_message=None, resource_type=resource.resource_type,
                                   resource_name=resource.resource_name, configs=configs)


def _error(resource, error: ErrorCode, message: str) -> R.DescribeConfigsResult:
    return R.DescribeConfigsResult(error_code=error, error_message=message, resource_type=resource.resource_type,
                                   resource_name=resource.resource_name, configs=[])
