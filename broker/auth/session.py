"""One SASL connection's authentication, as Kafka's SaslServerAuthenticator and KafkaChannel run it.

The connection of a SASL_PLAINTEXT or SASL_SSL listener hands every frame to `SaslSession.take` first.
Until authentication completes the session answers the frames itself:

    INITIAL/HANDSHAKE_OR_VERSIONS  ApiVersions (answered as usual; again after an unsupported version) or
                                   SaslHandshake
    HANDSHAKE                      SaslHandshake only
    AUTHENTICATE                   SaslAuthenticate (after a v1 handshake) or bare SASL tokens, size-prefixed
                                   without a Kafka header (after a v0 handshake)
    COMPLETE                       every frame goes to the connection's handlers

Anything else closes the connection unanswered; a failed authentication is answered (SaslHandshake
UNSUPPORTED_SASL_MECHANISM, SaslAuthenticate SASL_AUTHENTICATION_FAILED with Kafka's message), logged at
warning with the user name and the peer, and then the connection is closed. Until authentication completes a
frame may be at most 512 KiB (Kafka's sasl.server.max.receive.size). After a failure the connection is
closed 100 ms after the answer is written, as Kafka's connection.failed.authentication.delay.ms does, so
clients read the answer before they see the connection go.

Sessions (KIP-368): with --connections-max-reauth-ms, or an OAUTHBEARER token that expires, a session ends;
the client learns when from SaslAuthenticate v1+ (session_lifetime_ms) and may re-authenticate on the same
connection with a new SaslHandshake (same mechanism, same principal) at most once a second. A request other
than that, after the session ended, closes the connection.
"""

from __future__ import annotations

import time
from enum import Enum
from typing import TYPE_CHECKING

import structlog

from kafkette.broker.auth.mechanisms import SaslFailure, SaslServer, new_server
from kafkette.broker.clock import now_ms
from kafkette.broker.registry import lookup
from kafkette.protocol import framing
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages import API_VERSIONS, SASL_AUTHENTICATE, SASL_HANDSHAKE
from kafkette.protocol.primitives import DecodeError

if TYPE_CHECKING:
    from kafkette.broker.connection import Connection

log = structlog.get_logger("kafkette.auth")
MAX_RECEIVE_BEFORE_AUTHENTICATION = 512 * 1024
MIN_REAUTH_INTERVAL_S = 1.0
FAILED_AUTHENTICATION_CLOSE_DELAY_S = 0.1  # Kafka's connection.failed.authentication.delay.ms


class SaslState(Enum):
    HANDSHAKE_OR_VERSIONS = "ApiVersions or SaslHandshake"
    HANDSHAKE = "SaslHandshake"
    AUTHENTICATE = "SaslAuthenticate"
    COMPLETE = "any request"
    FAILED = "nothing"


class SaslSession:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.state = SaslState.HANDSHAKE_OR_VERSIONS
        self.server: SaslServer | None = None
        self.raw_tokens = False  # after a v0 SaslHandshake
        self.expires_at: float | None = None  # time.monotonic() when the session ends
        self.reauth_started = 0.0
        self.previous: tuple[str, str] | None = None  # (mechanism, principal) while re-authenticating
        self.bad_mechanism = ""  # why a re-authentication that changed mechanism will fail
        conn.splitter.max_frame = min(MAX_RECEIVE_BEFORE_AUTHENTICATION, conn.broker.config.max_request_bytes)

    @property
    def complete(self) -> bool:
        return self.state is SaslState.COMPLETE

    def take(self, frame: memoryview) -> bool:
        """Handle `frame` if it is the session's; False: an ordinary request, for the connection to dispatch."""
        if self.state is SaslState.COMPLETE:
            return self._after_authentication(frame)
        if self.state is SaslState.FAILED:  # closing: nothing more is read
            return True
        if self.state is SaslState.AUTHENTICATE and self.raw_tokens:
            self._authenticate(bytes(frame), None)
        else:
            self._authenticating(frame)
        return True

    # ------------------------------------------------------------------ an authenticated connection

    def _after_authentication(self, frame: memoryview) -> bool:
        if self.expires_at is None or len(frame) < 2:
            return False
        now = time.monotonic()
        if frame[0] << 8 | frame[1] == SASL_HANDSHAKE.key and now - self.reauth_started >= MIN_REAUTH_INTERVAL_S:
            self.reauth_started = now
            assert self.server is not None
            self.previous = (self.server.mechanism, self.conn.principal)
            self.state = SaslState.HANDSHAKE
            self.conn.splitter.max_frame = min(MAX_RECEIVE_BEFORE_AUTHENTICATION, self.conn.broker.config.max_request_bytes)
            self._authenticating(frame)
            return True
        if now > self.expires_at:
            log.info("closing connection: its SASL session expired", peer=self.conn.peer, principal=self.conn.principal,
                     hint="the client must re-authenticate before connections.max.reauth.ms ends (KIP-368)")
            self.conn.close()
            return True
        return False

    # ------------------------------------------------------------------ authenticating

    def _authenticating(self, frame: memoryview) -> None:
        try:
            header, pos = framing.read_request_header(frame)
        except DecodeError:
            return self._refuse("not a Kafka request", hint="is the client configured with this listener's "
                                f"security protocol ({self.conn.listener.security_protocol})?")
        api_key, version = header.api_key, header.api_version
        if self.state is SaslState.AUTHENTICATE:
            if api_key != SASL_AUTHENTICATE.key:
                return self._refuse(f"unexpected {_api_name(api_key)} request during SASL authentication")
            if lookup(api_key, version) is None:
                return self._refuse(f"SaslAuthenticate v{version} is not served")
            try:
                body = framing.decode_request_body(SASL_AUTHENTICATE, version, frame, pos)
            except DecodeError as e:
                return self._refuse(f"malformed SaslAuthenticate: {e}")
            return self._authenticate(bytes(body.auth_bytes), header)
        if api_key == API_VERSIONS.key and self.state is SaslState.HANDSHAKE_OR_VERSIONS and self.previous is None:
            if lookup(api_key, version) is not None:  # after an unsupported version the client may try again
                self.state = SaslState.HANDSHAKE
            self.conn.dispatch(frame)
            return None
        if api_key != SASL_HANDSHAKE.key:
            return self._refuse(f"unexpected {_api_name(api_key)} request during the SASL handshake",
                                hint="a client must authenticate before any other request")
        if lookup(api_key, version) is None:
            return self._refuse(f"SaslHandshake v{version} is not served")
        try:
            mechanism = framing.decode_request_body(SASL_HANDSHAKE, version, frame, pos).mechanism
        except DecodeError as e:
            return self._refuse(f"malformed SaslHandshake: {e}")
        self._handshake(header, mechanism)

    def _handshake(self, header: framing.RequestHeader, mechanism: str) -> None:
        enabled = list(self.conn.broker.config.sasl_enabled_mechanisms)
        error = ErrorCode.NONE if mechanism in enabled else ErrorCode.UNSUPPORTED_SASL_MECHANISM
        response = SASL_HANDSHAKE.Response(error_code=error, mechanisms=enabled)
        self.conn.answer(framing.encode_response(header.correlation_id, SASL_HANDSHAKE, header.api_version, response))
        if error != ErrorCode.NONE:
            return self._fail(mechanism, None, f"the client asked for SASL mechanism {mechanism!r}, which this "
                                                f"listener does not enable ({', '.join(enabled)})")
        if self.previous is not None and mechanism != self.previous[0]:
            self.bad_mechanism = (f"SASL mechanism '{mechanism}' requested by client is not supported for "
                                  f"re-authentication of mechanism '{self.previous[0]}'")
        self.server = new_server(mechanism, self.conn.broker.users, now_ms())
        self.raw_tokens = header.api_version == 0
        self.state = SaslState.AUTHENTICATE

    def _authenticate(self, token: bytes, header: framing.RequestHeader | None) -> None:
        """One token of the exchange; `header` None: a bare token after a v0 handshake."""
        server = self.server
        assert server is not None
        try:
            if self.bad_mechanism:
                raise SaslFailure(self.bad_mechanism)
            answer = server.evaluate(token)
            if server.complete and self.previous is not None and self._principal(server) != self.previous[1]:
                message = (f"Cannot change principals during re-authentication from {_dotted(self.previous[1])}: "
                           f"{_dotted(self._principal(server))}")
                raise SaslFailure(message, client_message=message)
        except SaslFailure as failure:
            text = "re-authentication" if self.previous is not None else "authentication"
            message = failure.client_message or (f"Authentication failed during {text} due to invalid credentials "
                                                 f"with SASL mechanism {server.mechanism}")
            if header is not None and not self.bad_mechanism:
                self._answer(header, SASL_AUTHENTICATE.Response(
                    error_code=ErrorCode.SASL_AUTHENTICATION_FAILED, error_message=message, auth_bytes=b""))
            return self._fail(server.mechanism, server.user, str(failure))
        lifetime_ms = self._complete(server) if server.complete else 0
        if header is None:
            self.conn.answer([len(answer).to_bytes(4, "big"), answer])
        else:
            self._answer(header, SASL_AUTHENTICATE.Response(error_code=ErrorCode.NONE, auth_bytes=answer,
                                                            session_lifetime_ms=lifetime_ms))

    def _complete(self, server: SaslServer) -> int:
        """Authenticated: the connection's principal and session; the session's lifetime in ms (0: endless)."""
        reauthenticated = self.previous is not None
        self.conn.principal = self._principal(server)
        self.conn.splitter.max_frame = self.conn.broker.config.max_request_bytes
        self.state, self.previous = SaslState.COMPLETE, None
        lifetime = session_lifetime_ms(server.credential_expiry_ms(), self.conn.broker.config.connections_max_reauth_ms,
                                       now_ms())
        self.expires_at = None if lifetime is None else time.monotonic() + lifetime / 1000
        log.debug("re-authenticated" if reauthenticated else "authenticated", peer=self.conn.peer,
                  principal=self.conn.principal, mechanism=server.mechanism, session_lifetime_ms=lifetime)
        return lifetime or 0

    @staticmethod
    def _principal(server: SaslServer) -> str:
        return "User:" + server.authorization_id()

    def _answer(self, header: framing.RequestHeader, body: object) -> None:
        self.conn.answer(framing.encode_response(header.correlation_id, SASL_AUTHENTICATE, header.api_version, body))

    def _fail(self, mechanism: str, user: str | None, reason: str) -> None:
        log.warning("SASL authentication failed; closing the connection", peer=self.conn.peer,
                    listener=self.conn.listener.name, mechanism=mechanism, user=user, reason=reason)
        self.state = SaslState.FAILED
        self.conn.close_after_answers(FAILED_AUTHENTICATION_CLOSE_DELAY_S)

    def _refuse(self, reason: str, hint: str = "") -> None:
        log.warning("closing connection: " + reason, peer=self.conn.peer, listener=self.conn.listener.name,
                    expected=self.state.value, **({"hint": hint} if hint else {}))
        self.state = SaslState.FAILED
        self.conn.close()


def session_lifetime_ms(credential_expiry_ms: int | None, max_reauth_ms: int, now: int) -> int | None:
    """How long a new session lasts, as Kafka's ReauthInfo computes it; None: until the connection closes."""
    if credential_expiry_ms is None and max_reauth_ms <= 0:
        return None
    if credential_expiry_ms is None:
        return max_reauth_ms
    until_expiry = max(0, credential_expiry_ms - now)
    return until_expiry if max_reauth_ms <= 0 else min(until_expiry, max_reauth_ms)


def _api_name(api_key: int) -> str:
    api = framing.APIS.get(api_key)
    return api.name if api is not None else f"API key {api_key}"


def _dotted(principal: str) -> str:
    """"User.alice" for "User:alice", as Kafka writes principals in this message."""
    return principal.replace(":", ".", 1)
