"""What every SASL mechanism server offers the session, and the mechanisms kafkette has.

A server evaluates the client's tokens one at a time, as Java's SaslServer does. It fails by raising
SaslFailure: with `client_message` set the client is told that message (Kafka's
SaslAuthenticationException); without it the client gets Kafka's generic "invalid credentials" message
(Kafka's SaslException), so nothing about the user leaks. Either way `str(failure)` is what the broker logs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from kafkette.broker.auth.users import Users

PLAIN = "PLAIN"
OAUTHBEARER = "OAUTHBEARER"
SCRAM_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")
MECHANISMS = (PLAIN, *SCRAM_MECHANISMS, OAUTHBEARER)
DEFAULT_MECHANISMS = (PLAIN, *SCRAM_MECHANISMS)  # OAUTHBEARER's unsecured tokens let anyone be anyone: opt in


class SaslFailure(Exception):
    """Authentication failed; the message is for the broker's log, `client_message` (if any) for the client."""

    def __init__(self, reason: str, *, client_message: str | None = None) -> None:
        super().__init__(reason)
        self.client_message = client_message


class SaslServer(Protocol):
    mechanism: str
    complete: bool
    user: str | None  # the name the client gave, once known (for the log of a failure)

    def evaluate(self, token: bytes) -> bytes:
        """The answer to the client's next token; raises SaslFailure."""

    def authorization_id(self) -> str:
        """The authenticated user's name, once complete."""

    def credential_expiry_ms(self) -> int | None:
        """When the credential expires (wall clock ms), if it does (OAUTHBEARER tokens)."""


def new_server(mechanism: str, users: Users, now_ms: int) -> SaslServer:
    """A fresh server for one authentication with an enabled mechanism."""
    from kafkette.broker.auth.oauthbearer import OAuthBearerServer
    from kafkette.broker.auth.plain import PlainServer
    from kafkette.broker.auth.scram import ScramServer

    if mechanism == PLAIN:
        return PlainServer(users)
    if mechanism == OAUTHBEARER:
        return OAuthBearerServer(now_ms)
    return ScramServer(mechanism, users)
