"""SaslAuthenticate after authentication (or on a listener without SASL): ILLEGAL_SASL_STATE, as KafkaApis answers.

Authentication itself is the connection's SASL session's (broker.auth.session). Registered here so
ApiVersions lists it.
"""

from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.sasl_authenticate import (
    SASL_AUTHENTICATE,
    SaslAuthenticateRequest,
    SaslAuthenticateResponse,
)


@handles(SASL_AUTHENTICATE, versions=(0, 2))
def sasl_authenticate(ctx: RequestContext, body: SaslAuthenticateRequest) -> SaslAuthenticateResponse:
    return SaslAuthenticateResponse(error_code=ErrorCode.ILLEGAL_SASL_STATE,
                                    error_message="SaslAuthenticate request received after successful authentication")
