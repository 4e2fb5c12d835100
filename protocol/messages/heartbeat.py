"""Heartbeat (API key 12): versions 0-4, as in Kafka's HeartbeatRequest/Response.json."""

from kafkette.protocol.schema import Api, f


HEARTBEAT = Api(
    key=12,
    name='Heartbeat',
    versions=(0, 4),
    flexible=4,
    request=[
        f('group_id', 'string'),
        f('generation_id', 'int32'),
        f('member_id', 'string'),
        f('group_instance_id', 'string', v='3+', null='3+', default=None),
    ],
    response=[
        f('throttle_time_ms', 'int32', v='1+'),
        f('error_code', 'int16'),
    ],
)

HeartbeatRequest = HEARTBEAT.Request
HeartbeatResponse = HEARTBEAT.Response
