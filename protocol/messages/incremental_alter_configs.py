"""IncrementalAlterConfigs (API key 44): versions 0-1, as in Kafka's IncrementalAlterConfigsRequest/Response.json."""

from kafkette.protocol.schema import Api, f


INCREMENTAL_ALTER_CONFIGS = Api(
    key=44,
    name='IncrementalAlterConfigs',
    versions=(0, 1),
    flexible=1,
    request=[
        f('resources', '[]AlterConfigsResource', fields=[
            f('resource_type', 'int8'),
            f('resource_name', 'string'),
            f('configs', '[]AlterableConfig', fields=[
                f('name', 'string'),
                f('config_operation', 'int8'),
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

IncrementalAlterConfigsRequest = INCREMENTAL_ALTER_CONFIGS.Request
IncrementalAlterConfigsResponse = INCREMENTAL_ALTER_CONFIGS.Response
