"""JoinGroup (API key 11): versions 0-9, as in Kafka's JoinGroupRequest/Response.json."""

from kafkette.protocol.schema import Api, f


JOIN_GROUP = Api(
    key=11,
    name='JoinGroup',
    versions=(0, 9),
    flexible=6,
    request=[
        f('group_id', 'string'),
        f('session_timeout_ms', 'int32'),
        f('rebalance_timeout_ms', 'int32', v='1+', default=-1),
        f('member_id', 'string'),
        f('group_instance_id', 'string', v='5+', null='5+', default=None),
        f('protocol_type', 'string'),
        f('protocols', '[]JoinGroupRequestProtocol', fields=[
            f('name', 'string'),
            f('metadata', 'bytes'),
        ]),
        f('reason', 'string', v='8+', null='8+', default=None),
    ],
    response=[
        f('throttle_time_ms', 'int32', v='2+'),
        f('error_code', 'int16'),
        f('generation_id', 'int32', default=-1),
        f('protocol_type', 'string', v='7+', null='7+', default=None),
        f('protocol_name', 'string', null='7+'),
        f('leader', 'string'),
        f('skip_assignment', 'bool', v='9+'),
        f('member_id', 'string'),
        f('members', '[]JoinGroupResponseMember', fields=[
            f('member_id', 'string'),
            f('group_instance_id', 'string', v='5+', null='5+', default=None),
            f('metadata', 'bytes'),
        ]),
    ],
)

JoinGroupRequest = JOIN_GROUP.Request
JoinGroupResponse = JOIN_GROUP.Response
