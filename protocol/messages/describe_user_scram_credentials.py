"""DescribeUserScramCredentials (API key 50): version 0, as in Kafka's DescribeUserScramCredentialsRequest/Response.json (KIP-554)."""

from kafkette.protocol.schema import Api, f


DESCRIBE_USER_SCRAM_CREDENTIALS = Api(
    key=50,
    name='DescribeUserScramCredentials',
    versions=(0, 0),
    flexible=0,
    request=[
        f('users', '[]UserName', null='0+', fields=[
            f('name', 'string'),
        ]),
    ],
    response=[
        f('throttle_time_ms', 'int32'),
        f('error_code', 'int16'),
        f('error_message', 'string', null='0+', default=None),
        f('results', '[]DescribeUserScramCredentialsResult', fields=[
            f('user', 'string'),
            f('error_code', 'int16'),
            f('error_message', 'string', null='0+', default=None),
            f('credential_infos', '[]CredentialInfo', fields=[
                f('mechanism', 'int8'),
                f('iterations', 'int32'),
            ]),
        ]),
    ],
)

DescribeUserScramCredentialsRequest = DESCRIBE_USER_SCRAM_CREDENTIALS.Request
DescribeUserScramCredentialsResponse = DESCRIBE_USER_SCRAM_CREDENTIALS.Response
