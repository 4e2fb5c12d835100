"""DeleteGroups: remove empty groups and their offsets."""

from kafkette.broker.registry import handles
from kafkette.broker.state import now_ms
from kafkette.protocol.messages import DELETE_GROUPS

R = DELETE_GROUPS.Response


@handles(DELETE_GROUPS)
def delete_groups(broker, request):
    names = request.body.groups_names
    errors = broker.groups.delete_groups(names, now_ms())
    return R(throttle_time_ms=0, results=[R.DeletableGroupResult(group_id=g, error_code=e)
                                          for g, e in zip(names, errors)])
