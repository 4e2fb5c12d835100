"""AlterConfigs: replace a topic's, or a broker resource's, whole set of configs."""

from kafkette.broker.config_alterations import alter_resources
from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.broker.topic_configs import alter_topic_configs
from kafkette.protocol.messages.alter_configs import ALTER_CONFIGS, AlterConfigsRequest, AlterConfigsResponse

R = AlterConfigsResponse


@handles(ALTER_CONFIGS, versions=(0, 2))
def alter_configs(ctx: RequestContext, body: AlterConfigsRequest) -> AlterConfigsResponse:
    def new_set(res) -> dict[str, str]:
        return {c.name: c.value for c in res.configs if c.value is not None}

    def alter_topic(res):
        return alter_topic_configs(ctx.broker.store, res.resource_type, res.resource_name, new_set(res),
                                   body.validate_only)

    outcomes = alter_resources(ctx, body.resources, body.validate_only, incremental=False, broker_changes=new_set,
                               alter_other=alter_topic)
    return R(throttle_time_ms=0, responses=[
        R.AlterConfigsResourceResponse(error_code=error, error_message=message, resource_type=res.resource_type,
                                       resource_name=res.resource_name)
        for res, (error, message) in zip(body.resources, outcomes)])
