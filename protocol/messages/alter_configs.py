"""AlterConfigs (API key 33): versions 0-2, as in Kafka's AlterConfigsRequest/Response.json."""

from kafkette.protocol.schema import Api, f


ALTER_CONFIGS = Api(
    key=33,
    name='AlterConfigs',
    versions=(0, 2),
    flexible=2,
    request=[
        f('resources', '[]AlterConfigsResource', fields=[
            f('resource_type', 'int8'),
            f('resource_name', 'string'),
            f('configs', '[]AlterableConfig', fields=[
                f('name', 'string'),
                f('value', 'string', null='0+'),
            ]),
        ]),
        f('validate_only', 'bool'),
    ],
    response=[
        f('throttle_time_ms', 'int32'),
        f('responses', '[]AlterConfigsResourceResponse', fields=[
            f('error_code', 'int16'),
            f('error_message', 'string', null='0+'),
            f('resource_type', 'int8'),
            f('resource_name', 'string'),
        ]),
    ],
)

AlterConfigsRequest = ALTER_CONFIGS.Request
AlterConfigsResponse = ALTER_CONFIGS.Response
