# Generated from sasl_handshake.py by `python -m kafkette.protocol.stubs`: do not edit.

from kafkette.protocol.model import Message
from kafkette.protocol.schema import Api


class SaslHandshakeRequest(Message):
    mechanism: str
    def __init__(self, *, mechanism: str = ...) -> None: ...


class SaslHandshakeResponse(Message):
    error_code: int
    mechanisms: list[str]
    def __init__(self, *, error_code: int = ..., mechanisms: list[str] = ...) -> None: ...


SASL_HANDSHAKE: Api[SaslHandshakeRequest, SaslHandshakeResponse]
