"""IncrementalAlterConfigs: set, delete, append to or subtract from a topic's or a broker resource's configs."""

from kafkette.broker.config_alterations import alter_resources
from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.broker.topic_configs import LIST_CONFIGS, alter_topic_configs
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
    def operations(res) -> list[tuple[str, int, str | None]]:
        return [(c.name, c.config_operation, c.value) for c in res.configs]

    def alter_topic(res) -> tuple[int, str | None]:
        topic = ctx.broker.store.topic(res.resource_name)
        configs = dict(topic.configs) if topic is not None else {}
        error, message = _apply(configs, res.configs)
        if error != ErrorCode.NONE:
            return error, message
        return alter_topic_configs(ctx.broker.store, res.resource_type, res.resource_name, configs, body.validate_only)

    outcomes = alter_resources(ctx, body.resources, body.validate_only, incremental=True, broker_changes=operations,
                               alter_other=alter_topic)
    return R(throttle_time_ms=0, responses=[
        R.AlterConfigsResourceResponse(error_code=error, error_message=message, resource_type=res.resource_type,
                                       resource_name=res.resource_name)
        for res, (error, message) in zip(body.resources, outcomes)])


def _apply(configs: dict[str, str], changes) -> tuple[int, str | None]:
    """Apply the changes (names unique, values non-null but for DELETE: checked before) to `configs`."""
    for change in changes:
        operation = change.config_operation
        if operation in (APPEND, SUBTRACT) and change.name not in LIST_CONFIGS:
            verb = "APPEND" if operation == APPEND else "SUBTRACT"
            return ErrorCode.INVALID_CONFIG, f"Can't {verb} to key {change.name} because its type is not LIST."
        listed = [v for v in configs.get(change.name, LIST_CONFIGS.get(change.name, "")).split(",") if v]
        if operation == SET:
            configs[change.name] = change.value
        elif operation == DELETE:
            configs.pop(change.name, None)
        elif operation == APPEND:
            configs[change.name] = ",".join(listed + [v for v in change.value.split(",") if v not in listed])
        elif operation == SUBTRACT:
            removed = set(change.value.split(","))
            configs[change.name] = ",".join(v for v in listed if v not in removed)
        else:
            return ErrorCode.INVALID_REQUEST, f"unknown config operation {operation}"
    return ErrorCode.NONE, None
