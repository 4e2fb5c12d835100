"""FindCoordinator (API key 10): versions 0-4, as in Kafka's FindCoordinatorRequest/Response.json."""

from kafkette.protocol.schema import Api, f


FIND_COORDINATOR = Api(
    key=10,
    name='FindCoordinator',
    versions=(0, 4),
    flexible=3,
    request=[
        f('key', 'string', v='0-3'),
        f('key_type', 'int8', v='1+'),
        f('coordinator_keys', '[]string', v='4+'),
    ],
    response=[
        f('throttle_time_ms', 'int32', v='1+'),
        f('error_code', 'int16', v='0-3'),
        f('error_message', 'string', v='1-3', null='1-3'),
        f('node_id', 'int32', v='0-3'),
        f('host', 'string', v='0-3'),
        f('port', 'int32', v='0-3'),
        f('coordinators', '[]Coordinator', v='4+', fields=[
            f('key', 'string', v='4+'),
            f('node_id', 'int32', v='4+'),
            f('host', 'string', v='4+'),
            f('port', 'int32', v='4+'),
            f('error_code', 'int16', v='4+'),
            f('error_message', 'string', v='4+', null='4+'),
        ]),
    ],
)

FindCoordinatorRequest = FIND_COORDINATOR.Request
FindCoordinatorResponse = FIND_COORDINATOR.Response
