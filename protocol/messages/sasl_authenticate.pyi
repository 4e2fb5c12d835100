# Generated from sasl_authenticate.py by `python -m kafkette.protocol.stubs`: do not edit.

from kafkette.protocol.model import Message
from kafkette.protocol.schema import Api


class SaslAuthenticateRequest(Message):
    auth_bytes: bytes
    def __init__(self, *, auth_bytes: bytes = ...) -> None: ...


class SaslAuthenticateResponse(Message):
    error_code: int
    error_message: str | None
    auth_bytes: bytes
    session_lifetime_ms: int
    def __init__(
        self,
        *,
        error_code: int = ...,
        error_message: str | None = ...,
        auth_bytes: bytes = ...,
        session_lifetime_ms: int = ...,
    ) -> None: ...


SASL_AUTHENTICATE: Api[SaslAuthenticateRequest, SaslAuthenticateResponse]
