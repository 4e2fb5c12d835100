"""DescribeAcls (API key 29): versions 1-3, as in Kafka's DescribeAclsRequest/Response.json (Kafka 4 serves 1-3)."""

from kafkette.protocol.schema import Api, f


DESCRIBE_ACLS = Api(
    key=29,
    name='DescribeAcls',
    versions=(1, 3),
    flexible=2,
    request=[
        f('resource_type_filter', 'int8'),
        f('resource_name_filter', 'string', null='0+'),
        f('pattern_type_filter', 'int8', v='1+', default=3),
        f('principal_filter', 'string', null='0+'),
        f('host_filter', 'string', null='0+'),
        f('operation', 'int8'),
        f('permission_type', 'int8'),
    ],
    response=[
        f('throttle_time_ms', 'int32'),
        f('error_code', 'int16'),
        f('error_message', 'string', null='0+', default=None),
        f('resources', '[]DescribeAclsResource', fields=[
            f('resource_type', 'int8'),
            f('resource_name', 'string'),
            f('pattern_type', 'int8', v='1+', default=3),
            f('acls', '[]AclDescription', fields=[
                f('principal', 'string'),
                f('host', 'string'),
                f('operation', 'int8'),
                f('permission_type', 'int8'),
            ]),
        ]),
    ],
)

DescribeAclsRequest = DESCRIBE_ACLS.Request
DescribeAclsResponse = DESCRIBE_ACLS.Response
