"""LeaveGroup (API key 13): versions 0-5, as in Kafka's LeaveGroupRequest/Response.json."""

from kafkette.protocol.schema import Api, f


LEAVE_GROUP = Api(
    key=13,
    name='LeaveGroup',
    versions=(0, 5),
    flexible=4,
    request=[
        f('group_id', 'string'),
        f('member_id', 'string', v='0-2'),
        f('members', '[]MemberIdentity', v='3+', fields=[
            f('member_id', 'string', v='3+'),
            f('group_instance_id', 'string', v='3+', null='3+', default=None),
            f('reason', 'string', v='5+', null='5+', default=None),
        ]),
    ],
    response=[
        f('throttle_time_ms', 'int32', v='1+'),
        f('error_code', 'int16'),
        f('members', '[]MemberResponse', v='3+', fields=[
            f('member_id', 'string', v='3+'),
            f('group_instance_id', 'string', v='3+', null='3+'),
            f('error_code', 'int16', v='3+'),
        ]),
    ],
)

LeaveGroupRequest = LEAVE_GROUP.Request
LeaveGroupResponse = LEAVE_GROUP.Response
