"""CreatePartitions (API key 37): versions 0-3, as in Kafka's CreatePartitionsRequest/Response.json."""

from kafkette.protocol.schema import Api, f


CREATE_PARTITIONS = Api(
    key=37,
    name='CreatePartitions',
    versions=(0, 3),
    flexible=2,
    request=[
        f('topics', '[]CreatePartitionsTopic', fields=[
            f('name', 'string'),
            f('count', 'int32'),
            f('assignments', '[]CreatePartitionsAssignment', null='0+', fields=[
                f('broker_ids', '[]int32'),
            ]),
        ]),
        f('timeout_ms', 'int32'),
        f('validate_only', 'bool'),
    ],
    response=[
        f('throttle_time_ms', 'int32'),
        f('results', '[]CreatePartitionsTopicResult', fields=[
            f('name', 'string'),
            f('error_code', 'int16'),
            f('error_message', 'string', null='0+', default=None),
        ]),
    ],
)

CreatePartitionsRequest = CREATE_PARTITIONS.Request
CreatePartitionsResponse = CREATE_PARTITIONS.Response
