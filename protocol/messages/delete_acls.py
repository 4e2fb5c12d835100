"""DeleteAcls (API key 31): versions 1-3, as in Kafka's DeleteAclsRequest/Response.json (Kafka 4 serves 1-3)."""

from kafkette.protocol.schema import Api, f


DELETE_ACLS = Api(
    key=31,
    name='DeleteAcls',
    versions=(1, 3),
    flexible=2,
    request=[
        f('filters', '[]DeleteAclsFilter', fields=[
            f('resource_type_filter', 'int8'),
            f('resource_name_filter', 'string', null='0+'),
            f('pattern_type_filter', 'int8', v='1+', default=3),
            f('principal_filter', 'string', null='0+'),
            f('host_filter', 'string', null='0+'),
            f('operation', 'int8'),
            f('permission_type', 'int8'),
        ]),
    ],
    response=[
        f('throttle_time_ms', 'int32'),
        f('filter_results', '[]DeleteAclsFilterResult', fields=[
            f('error_code', 'int16'),
            f('error_message', 'string', null='0+', default=None),
            f('matching_acls', '[]DeleteAclsMatchingAcl', fields=[
                f('error_code', 'int16'),
                f('error_message', 'string', null='0+', default=None),
                f('resource_type', 'int8'),
                f('resource_name', 'string'),
                f('pattern_type', 'int8', v='1+', default=3),
                f('principal', 'string'),
                f('host', 'string'),
                f('operation', 'int8'),
                f('permission_type', 'int8'),
            ]),
        ]),
    ],
)

DeleteAclsRequest = DELETE_ACLS.Request
DeleteAclsResponse = DELETE_ACLS.Response
