"""SyncGroup (API key 14): versions 0-5, as in Kafka's SyncGroupRequest/Response.json."""

from kafkette.protocol.schema import Api, f


SYNC_GROUP = Api(
    key=14,
    name='SyncGroup',
    versions=(0, 5),
    flexible=4,
    request=[
        f('group_id', 'string'),
        f('generation_id', 'int32'),
        f('member_id', 'string'),
        f('group_instance_id', 'string', v='3+', null='3+', default=None),
        f('protocol_type', 'string', v='5+', null='5+', default=None),
        f('protocol_name', 'string', v='5+', null='5+', default=None),
        f('assignments', '[]SyncGroupRequestAssignment', fields=[
            f('member_id', 'string'),
            f('assignment', 'bytes'),
        ]),
    ],
    response=[
        f('throttle_time_ms', 'int32', v='1+'),
        f('error_code', 'int16'),
        f('protocol_type', 'string', v='5+', null='5+', default=None),
        f('protocol_name', 'string', v='5+', null='5+', default=None),
        f('assignment', 'bytes'),
    ],
)

SyncGroupRequest = SYNC_GROUP.Request
SyncGroupResponse = SYNC_GROUP.Response
