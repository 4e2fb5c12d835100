"""AlterUserScramCredentials (API key 51): version 0, as in Kafka's AlterUserScramCredentialsRequest/Response.json (KIP-554)."""

from kafkette.protocol.schema import Api, f


ALTER_USER_SCRAM_CREDENTIALS = Api(
    key=51,
    name='AlterUserScramCredentials',
    versions=(0, 0),
    flexible=0,
    request=[
        f('deletions', '[]ScramCredentialDeletion', fields=[
            f('name', 'string'),
            f('mechanism', 'int8'),
        ]),
        f('upsertions', '[]ScramCredentialUpsertion', fields=[
            f('name', 'string'),
            f('mechanism', 'int8'),
            f('iterations', 'int32'),
            f('salt', 'bytes'),
            f('salted_password', 'bytes'),
        ]),
    ],
    response=[
        f('throttle_time_ms', 'int32'),
        f('results', '[]AlterUserScramCredentialsResult', fields=[
            f('user', 'string'),
            f('error_code', 'int16'),
            f('error_message', 'string', null='0+', default=None),
        ]),
    ],
)

AlterUserScramCredentialsRequest = ALTER_USER_SCRAM_CREDENTIALS.Request
AlterUserScramCredentialsResponse = ALTER_USER_SCRAM_CREDENTIALS.Response
