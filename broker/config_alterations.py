"""AlterConfigs and IncrementalAlterConfigs: each resource checked, authorized and altered in Kafka's order.

Kafka's broker first checks the request's shape and a BROKER resource's new configs (ConfigAdminManager.preprocess:
broker.topic_configs.alter_request_errors, BrokerConfigs.prepare), then authorizes ALTER_CONFIGS on the resource
(the cluster, for a broker's), then the controller validates and stores the change (BrokerConfigs.commit, or the
topic's alteration the handler gives).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from kafkette.broker.auth.acl import AUTHORIZATION_MESSAGES, Operation, config_resource
from kafkette.broker.broker_configs import Prepared
from kafkette.broker.context import RequestContext
from kafkette.broker.topic_configs import BROKER_RESOURCE, alter_request_errors

Outcome = tuple[int, "str | None"]


def alter_resources(ctx: RequestContext, resources: Sequence[Any], validate_only: bool, *, incremental: bool,
                    broker_changes: Callable[[Any], Any], alter_other: Callable[[Any], Outcome]) -> list[Outcome]:
    """(error, message) of each resource. `broker_changes(resource)`: what BrokerConfigs.prepare takes of a BROKER
    resource; `alter_other(resource)`: the alteration of any other resource, once checked and authorized."""
    outcomes: list[Outcome] = []
    for res, invalid in zip(resources, alter_request_errors(resources, incremental=incremental)):
        prepared = None
        if invalid is None and res.resource_type == BROKER_RESOURCE:
            checked = ctx.broker.configs.prepare(ctx.node_id, res.resource_name, broker_changes(res))
            if isinstance(checked, Prepared):
                prepared = checked
            else:
                invalid = checked
        guard = config_resource(res.resource_type, res.resource_name)
        if invalid is not None:
            outcomes.append(invalid)
        elif guard and (refused := ctx.refusal(Operation.ALTER_CONFIGS, *guard)):
            outcomes.append((refused, AUTHORIZATION_MESSAGES[refused]))
        elif prepared is not None:
            outcomes.append(ctx.broker.configs.commit(prepared, ctx.now_ms(), validate_only))
        else:
            outcomes.append(alter_other(res))
    return outcomes
