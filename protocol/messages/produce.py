"""Produce (API key 0): versions 3-10, as in Kafka's ProduceRequest/Response.json."""

from kafkette.protocol.schema import Api, f


PRODUCE = Api(
    key=0,
    name='Produce',
    versions=(3, 10),
    flexible=9,
    request=[
        f('transactional_id', 'string', null='3+', default=None),
        f('acks', 'int16'),
        f('timeout_ms', 'int32'),
        f('topic_data', '[]TopicProduceData', fields=[
            f('name', 'string'),
            f('partition_data', '[]PartitionProduceData', fields=[
                f('index', 'int32'),
                f('records', 'records', null='3+'),
            ]),
        ]),
    ],
    response=[
        f('responses', '[]TopicProduceResponse', fields=[
            f('name', 'string'),
            f('partition_responses', '[]PartitionProduceResponse', fields=[
                f('index', 'int32'),
                f('error_code', 'int16'),
                f('base_offset', 'int64'),
                f('log_append_time_ms', 'int64', default=-1),
                f('log_start_offset', 'int64', v='5+', default=-1),
                f('record_errors', '[]BatchIndexAndErrorMessage', v='8+', fields=[
                    f('batch_index', 'int32', v='8+'),
                    f('batch_index_error_message', 'string', v='8+', null='8+', default=None),
                ]),
                f('error_message', 'string', v='8+', null='8+', default=None),
                f('current_leader', 'LeaderIdAndEpoch', v='10+', tag=0, fields=[
                    f('leader_id', 'int32', v='10+', default=-1),
                    f('leader_epoch', 'int32', v='10+', default=-1),
                ]),
            ]),
        ]),
        f('throttle_time_ms', 'int32'),
        f('node_endpoints', '[]NodeEndpoint', v='10+', tag=0, fields=[
            f('node_id', 'int32', v='10+'),
            f('host', 'string', v='10+'),
            f('port', 'int32', v='10+'),
            f('rack', 'string', v='10+', null='10+', default=None),
        ]),
    ],
)

ProduceRequest = PRODUCE.Request
ProduceResponse = PRODUCE.Response
