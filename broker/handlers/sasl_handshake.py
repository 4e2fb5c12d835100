"""SaslHandshake after authentication (or on a listener without SASL): ILLEGAL_SASL_STATE, as KafkaApis answers.

The handshake that starts an authentication or a re-authentication never reaches a handler: the
connection's SASL session (broker.auth.session) answers it. Registered here so ApiVersions lists it.
"""

from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.sasl_handshake import SASL_HANDSHAKE, SaslHandshakeRequest, SaslHandshakeResponse


@handles(SASL_HANDSHAKE, versions=(0, 1))
def sasl_handshake(ctx: RequestContext, body: SaslHandshakeRequest) -> SaslHandshakeResponse:
    return SaslHandshakeResponse(error_code=ErrorCode.ILLEGAL_SASL_STATE, mechanisms=[])
