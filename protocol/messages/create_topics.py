"""CreateTopics (API key 19): versions 0-7, as in Kafka's CreateTopicsRequest/Response.json."""

from kafkette.protocol.schema import Api, f


CREATE_TOPICS = Api(
    key=19,
    name='CreateTopics',
    versions=(0, 7),
    flexible=5,
    request=[
        f('topics', '[]CreatableTopic', fields=[
            f('name', 'string'),
            f('num_partitions', 'int32'),
            f('replication_factor', 'int16'),
            f('assignments', '[]CreatableReplicaAssignment', fields=[
                f('partition_index', 'int32'),
                f('broker_ids', '[]int32'),
            ]),
            f('configs', '[]CreatableTopicConfig', fields=[
                f('name', 'string'),
                f('value', 'string', null='0+'),
            ]),
        ]),
        f('timeout_ms', 'int32', default=60000),
        f('validate_only', 'bool', v='1+'),
    ],
    response=[
        f('throttle_time_ms', 'int32', v='2+'),
        f('topics', '[]CreatableTopicResult', fields=[
            f('name', 'string'),
            f('topic_id', 'uuid', v='7+'),
            f('error_code', 'int16'),
            f('error_message', 'string', v='1+', null='0+'),
            f('topic_config_error_code', 'int16', v='5+', tag=0),
            f('num_partitions', 'int32', v='5+', default=-1),
            f('replication_factor', 'int16', v='5+', default=-1),
            f('configs', '[]CreatableTopicConfigs', v='5+', null='5+', fields=[
                f('name', 'string', v='5+'),
                f('value', 'string', v='5+', null='5+'),
                f('read_only', 'bool', v='5+'),
                f('config_source', 'int8', v='5+', default=-1),
                f('is_sensitive', 'bool', v='5+'),
            ]),
        ]),
    ],
)

CreateTopicsRequest = CREATE_TOPICS.Request
CreateTopicsResponse = CREATE_TOPICS.Response
