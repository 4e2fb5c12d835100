"""DeleteGroups (API key 42): versions 0-2, as in Kafka's DeleteGroupsRequest/Response.json."""

from kafkette.protocol.schema import Api, f


DELETE_GROUPS = Api(
    key=42,
    name='DeleteGroups',
    versions=(0, 2),
    flexible=2,
    request=[
        f('groups_names', '[]string'),
    ],
    response=[
        f('throttle_time_ms', 'int32'),
        f('results', '[]DeletableGroupResult', fields=[
            f('group_id', 'string'),
            f('error_code', 'int16'),
        ]),
    ],
)

DeleteGroupsRequest = DELETE_GROUPS.Request
DeleteGroupsResponse = DELETE_GROUPS.Response
