"""DeleteTopics (API key 20): versions 0-6, as in Kafka's DeleteTopicsRequest/Response.json."""

from kafkette.protocol.schema import Api, f


DELETE_TOPICS = Api(
    key=20,
    name='DeleteTopics',
    versions=(0, 6),
    flexible=4,
    request=[
        f('topics', '[]DeleteTopicState', v='6+', fields=[
            f('name', 'string', v='6+', null='6+', default=None),
            f('topic_id', 'uuid', v='6+'),
        ]),
        f('topic_names', '[]string', v='0-5'),
        f('timeout_ms', 'int32'),
    ],
    response=[
        f('throttle_time_ms', 'int32', v='1+'),
        f('responses', '[]DeletableTopicResult', fields=[
            f('name', 'string', null='6+'),
            f('topic_id', 'uuid', v='6+'),
            f('error_code', 'int16'),
            f('error_message', 'string', v='5+', null='5+', default=None),
        ]),
    ],
)

DeleteTopicsRequest = DELETE_TOPICS.Request
DeleteTopicsResponse = DELETE_TOPICS.Response
