"""AlterConfigs: replace a topic's whole set of configs."""

from kafkette.broker.auth.acl import AUTHORIZATION_MESSAGES, Operation, config_resource
from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.broker.topic_configs import alter_request_errors, alter_topic_configs
from kafkette.protocol.messages.alter_configs import ALTER_CONFIGS, AlterConfigsRequest, AlterConfigsResponse

R = AlterConfigsResponse


@handles(ALTER_CONFIGS, versions=(0, 2))
def alter_configs(ctx: RequestContext, body: AlterConfigsRequest) -> AlterConfigsResponse:
    responses = []
    # Kafka checks the request's shape on the broker (ConfigAdminManager.preprocess), then authorizes
    for res, invalid in zip(body.resources, alter_request_errors(body.resources, incremental=False)):
        message: str | None
        guard = config_resource(res.resource_type, res.resource_name)
        if invalid is not None:
            error, message = invalid
        elif guard and (refused := ctx.refusal(Operation.ALTER_CONFIGS, *guard)):
            error, message = refused, AUTHORIZATION_MESSAGES[refused]
        else:
            configs = {c.name: c.value for c in res.configs if c.value is not None}
            error, message = alter_topic_configs(ctx.broker.store, res.resource_type, res.resource_name, configs,
                                                 body.validate_only)
        responses.append(R.AlterConfigsResourceResponse(error_code=error, error_message=message,
                                                        resource_type=res.resource_type,
                                                        resource_name=res.resource_name))
    return R(throttle_time_ms=0, responses=responses)
