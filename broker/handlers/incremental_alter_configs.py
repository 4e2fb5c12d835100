"""IncrementalAlterConfigs: set, delete, append to or subtract from a topic's configs."""

from kafkette.broker.auth.acl import AUTHORIZATION_MESSAGES, Operation, config_resource
from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.broker.topic_configs import alter_topic_configs
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.incremental_alter_configs import (
    INCREMENTAL_ALTER_CONFIGS,
    IncrementalAlterConfigsRequest,
    IncrementalAlterConfigsResponse,
)

R = IncrementalAlterConfigsResponse
SET, DELETE, APPEND, SUBTRACT = range(4)


@handles(INCREMENTAL_ALTER_CONFIGS, versions=(0, 1))
def incremental_alter_configs(ctx: RequestContext, body: IncrementalAlterConfigsRequest) -> IncrementalAlterConfigsResponse:
    responses = []
    for res in body.resources:
        topic = ctx.broker.store.topic(res.resource_name)
        configs = dict(topic.configs) if topic is not None else {}
        guard = config_resource(res.resource_type, res.resource_name)
        refused = ctx.refusal(Operation.ALTER_CONFIGS, *guard) if guard else ErrorCode.NONE
        error, message = (refused, AUTHORIZATION_MESSAGES[refused]) if refused else _apply(configs, res.configs)
        if error == ErrorCode.NONE:
            error, message = alter_topic_configs(ctx.broker.store, res.resource_type, res.resource_name, configs,
                                                 body.validate_only)
        responses.append(R.AlterConfigsResourceResponse(error_code=error, error_message=message,
                                                        resource_type=res.resource_type,
                                                        resource_name=res.resource_name))
    return R(throttle_time_ms=0, responses=responses)


def _apply(configs: dict[str, str], changes) -> tuple[int, str | None]:
    for change in changes:
        listed = [v for v in configs.get(change.name, "").split(",") if v]
        if change.config_operation == SET:
            configs[change.name] = change.value
        elif change.config_operation == DELETE:
            configs.pop(change.name, None)
        elif change.config_operation == APPEND:
            configs[change.name] = ",".join(listed + [v for v in (change.value or "").split(",") if v not in listed])
        elif change.config_operation == SUBTRACT:
            removed = set((change.value or "").split(","))
            configs[change.name] = ",".join(v for v in listed if v not in removed)
        else:
            return ErrorCode.INVALID_REQUEST, f"unknown config operation {change.config_operation}"
    return ErrorCode.NONE, None
