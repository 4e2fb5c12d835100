"""ApiVersions (API key 18): versions 0-3, as in Kafka's ApiVersionsRequest/Response.json."""

from kafkette.protocol.schema import Api, f


API_VERSIONS = Api(
    key=18,
    name='ApiVersions',
    versions=(0, 3),
    flexible=3,
    request=[
        f('client_software_name', 'string', v='3+'),
        f('client_software_version', 'string', v='3+'),
    ],
    response=[
        f('error_code', 'int16'),
        f('api_keys', '[]ApiVersion', fields=[
            f('api_key', 'int16'),
            f('min_version', 'int16'),
            f('max_version', 'int16'),
        ]),
        f('throttle_time_ms', 'int32', v='1+'),
        f('supported_features', '[]SupportedFeatureKey', v='3+', tag=0, fields=[
            f('name', 'string', v='3+'),
            f('min_version', 'int16', v='3+'),
            f('max_version', 'int16', v='3+'),
        ]),
        f('finalized_features_epoch', 'int64', v='3+', tag=1, default=-1),
        f('finalized_features', '[]FinalizedFeatureKey', v='3+', tag=2, fields=[
            f('name', 'string', v='3+'),
            f('max_version_level', 'int16', v='3+'),
            f('min_version_level', 'int16', v='3+'),
        ]),
        f('zk_migration_ready', 'bool', v='3+', tag=3),
    ],
)

ApiVersionsRequest = API_VERSIONS.Request
ApiVersionsResponse = API_VERSIONS.Response
