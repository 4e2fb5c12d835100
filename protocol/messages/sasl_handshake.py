"""SaslHandshake (API key 17): versions 0-1, as in Kafka's SaslHandshakeRequest/Response.json.

v0 is followed by raw SASL tokens (size-prefixed, no Kafka header); v1 by SaslAuthenticate requests.
"""

from kafkette.protocol.schema import Api, f


SASL_HANDSHAKE = Api(
    key=17,
    name='SaslHandshake',
    versions=(0, 1),
    flexible=None,
    request=[
        f('mechanism', 'string'),
    ],
    response=[
        f('error_code', 'int16'),
        f('mechanisms', '[]string'),
    ],
)

SaslHandshakeRequest = SASL_HANDSHAKE.Request
SaslHandshakeResponse = SASL_HANDSHAKE.Response
