"""ListGroups (API key 16): versions 0-5, as in Kafka's ListGroupsRequest/Response.json."""

from kafkette.protocol.schema import Api, f


LIST_GROUPS = Api(
    key=16,
    name='ListGroups',
    versions=(0, 5),
    flexible=3,
    request=[
        f('states_filter', '[]string', v='4+'),
        f('types_filter', '[]string', v='5+'),
    ],
    response=[
        f('throttle_time_ms', 'int32', v='1+'),
        f('error_code', 'int16'),
        f('groups', '[]ListedGroup', fields=[
            f('group_id', 'string'),
            f('protocol_type', 'string'),
            f('group_state', 'string', v='4+'),
            f('group_type', 'string', v='5+'),
        ]),
    ],
)

ListGroupsRequest = LIST_GROUPS.Request
ListGroupsResponse = LIST_GROUPS.Response
