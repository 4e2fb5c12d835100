"""SaslAuthenticate (API key 36): versions 0-2, as in Kafka's SaslAuthenticateRequest/Response.json."""

from kafkette.protocol.schema import Api, f


SASL_AUTHENTICATE = Api(
    key=36,
    name='SaslAuthenticate',
    versions=(0, 2),
    flexible=2,
    request=[
        f('auth_bytes', 'bytes'),
    ],
    response=[
        f('error_code', 'int16'),
        f('error_message', 'string', null='0+', default=None),
        f('auth_bytes', 'bytes'),
        f('session_lifetime_ms', 'int64', v='1+', default=0),
    ],
)

SaslAuthenticateRequest = SASL_AUTHENTICATE.Request
SaslAuthenticateResponse = SASL_AUTHENTICATE.Response
