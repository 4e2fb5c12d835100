"""DescribeGroups (API key 15): versions 0-5, as in Kafka's DescribeGroupsRequest/Response.json."""

from kafkette.protocol.schema import Api, f


DESCRIBE_GROUPS = Api(
    key=15,
    name='DescribeGroups',
    versions=(0, 5),
    flexible=5,
    request=[
        f('groups', '[]string'),
        f('include_authorized_operations', 'bool', v='3+'),
    ],
    response=[
        f('throttle_time_ms', 'int32', v='1+'),
        f('groups', '[]DescribedGroup', fields=[
            f('error_code', 'int16'),
            f('group_id', 'string'),
            f('group_state', 'string'),
            f('protocol_type', 'string'),
            f('protocol_data', 'string'),
            f('members', '[]DescribedGroupMember', fields=[
                f('member_id', 'string'),
                f('group_instance_id', 'string', v='4+', null='4+', default=None),
                f('client_id', 'string'),
                f('client_host', 'string'),
                f('member_metadata', 'bytes'),
                f('member_assignment', 'bytes'),
            ]),
            f('authorized_operations', 'int32', v='3+', default=-2147483648),
        ]),
    ],
)

DescribeGroupsRequest = DESCRIBE_GROUPS.Request
DescribeGroupsResponse = DESCRIBE_GROUPS.Response
