"""DescribeConfigs (API key 32): versions 0-4, as in Kafka's DescribeConfigsRequest/Response.json."""

from kafkette.protocol.schema import Api, f


DESCRIBE_CONFIGS = Api(
    key=32,
    name='DescribeConfigs',
    versions=(0, 4),
    flexible=4,
    request=[
        f('resources', '[]DescribeConfigsResource', fields=[
            f('resource_type', 'int8'),
            f('resource_name', 'string'),
            f('configuration_keys', '[]string', null='0+'),
        ]),
        f('include_synonyms', 'bool', v='1+'),
        f('include_documentation', 'bool', v='3+'),
    ],
    response=[
        f('throttle_time_ms', 'int32'),
        f('results', '[]DescribeConfigsResult', fields=[
            f('error_code', 'int16'),
            f('error_message', 'string', null='0+'),
            f('resource_type', 'int8'),
            f('resource_name', 'string'),
            f('configs', '[]DescribeConfigsResourceResult', fields=[
                f('name', 'string'),
                f('value', 'string', null='0+'),
                f('read_only', 'bool'),
                f('is_default', 'bool', v='0'),
                f('config_source', 'int8', v='1+', default=-1),
                f('is_sensitive', 'bool'),
                f('synonyms', '[]DescribeConfigsSynonym', v='1+', fields=[
                    f('name', 'string', v='1+'),
                    f('value', 'string', v='1+', null='0+'),
                    f('source', 'int8', v='1+'),
                ]),
                f('config_type', 'int8', v='3+'),
                f('documentation', 'string', v='3+', null='0+'),
            ]),
        ]),
    ],
)

DescribeConfigsRequest = DESCRIBE_CONFIGS.Request
DescribeConfigsResponse = DESCRIBE_CONFIGS.Response
