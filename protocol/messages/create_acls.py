"""CreateAcls (API key 30): versions 1-3, as in Kafka's CreateAclsRequest/Response.json (Kafka 4 serves 1-3)."""

from kafkette.protocol.schema import Api, f


CREATE_ACLS = Api(
    key=30,
    name='CreateAcls',
    versions=(1, 3),
    flexible=2,
    request=[
        f('creations', '[]AclCreation', fields=[
            f('resource_type', 'int8'),
            f('resource_name', 'string'),
            f('resource_pattern_type', 'int8', v='1+', default=3),
            f('principal', 'string'),
            f('host', 'string'),
            f('operation', 'int8'),
            f('permission_type', 'int8'),
        ]),
    ],
    response=[
        f('throttle_time_ms', 'int32'),
        f('results', '[]AclCreationResult', fields=[
            f('error_code', 'int16'),
            f('error_message', 'string', null='0+', default=None),
        ]),
    ],
)

CreateAclsRequest = CREATE_ACLS.Request
CreateAclsResponse = CREATE_ACLS.Response
