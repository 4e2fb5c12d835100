"""AlterConfigs: replace a topic's whole set of configs."""

from kafkette.broker.topic_configs import alter_topic_configs
from kafkette.broker.registry import handles
from kafkette.protocol.messages import ALTER_CONFIGS

R = ALTER_CONFIGS.Response


@handles(ALTER_CONFIGS)
def alter_configs(broker, request):
    responses = []
    for res in request.body.resources:
        configs = {c.name: c.value for c in res.configs if c.value is not None}
        error, message = alter_topic_configs(broker, res.resource_type, res.resource_name, configs,
                                             request.body.validate_only)
        responses.append(R.AlterConfigsResourceResponse(error_code=error, error_message=message,
                                                        resource_type=res.resource_type,
                                                        resource_name=res.resource_name))
    return R(throttle_time_ms=0, responses=responses)
