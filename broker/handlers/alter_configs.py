"""AlterConfigs: replace a topic's whole set of configs."""

from kafkette.broker.auth.acl import AUTHORIZATION_MESSAGES, Operation, config_resource
from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.broker.topic_configs import alter_topic_configs
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.alter_configs import ALTER_CONFIGS, AlterConfigsRequest, AlterConfigsResponse

R = AlterConfigsResponse


@handles(ALTER_CONFIGS, versions=(0, 2))
def alter_configs(ctx: RequestContext, body: AlterConfigsRequest) -> AlterConfigsResponse:
    responses = []
    for res in body.resources:
        configs = {c.name: c.value for c in res.configs if c.value is not None}
        guard = config_resource(res.resource_type, res.resource_name)
        refused = ctx.refusal(Operation.ALTER_CONFIGS, *guard) if guard else ErrorCode.NONE
        error, message = (refused, AUTHORIZATION_MESSAGES[refused]) if refused else alter_topic_configs(
            ctx.broker.store, res.resource_type, res.resource_name, configs, body.validate_only)
        responses.append(R.AlterConfigsResourceResponse(error_code=error, error_message=message,
                                                        resource_type=res.resource_type,
                                                        resource_name=res.resource_name))
    return R(throttle_time_ms=0, responses=responses)
