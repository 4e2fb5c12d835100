"""SASL/PLAIN (RFC 4616) as Kafka's PlainSaslServer checks it, against the users of --sasl-user / --sasl-users-file."""

from __future__ import annotations

from kafkette.broker.auth.mechanisms import PLAIN, SaslFailure
from kafkette.broker.auth.users import Users


class PlainServer:
    mechanism = PLAIN

    def __init__(self, users: Users) -> None:
        self.users = users
        self.complete = False
        self.user: str | None = None

    def evaluate(self, token: bytes) -> bytes:
        """message = [authzid] NUL authcid NUL passwd; the answer is empty."""
        tokens = token.decode("utf-8", "replace").split("\x00", 3)
        if len(tokens) != 3:
            message = f"Invalid SASL/PLAIN response: expected 3 tokens, got {min(len(tokens), 4)}"
            raise SaslFailure(message, client_message=message)
        authzid, user, password = tokens
        self.user = user or None
        if not user:
            raise SaslFailure("no user name", client_message="Authentication failed: username not specified")
        if not password:
            raise SaslFailure("no password", client_message="Authentication failed: password not specified")
        if not self.users.check_plain(user, password):
            raise SaslFailure("unknown user or wrong password",
                              client_message="Authentication failed: Invalid username or password")
        if authzid and authzid != user:
            message = "Authentication failed: Client requested an authorization id that is different from username"
            raise SaslFailure(f"authorization id {authzid!r} is not the user name", client_message=message)
        self.complete = True
        return b""

    def authorization_id(self) -> str:
        assert self.user is not None and self.complete
        return self.user

    def credential_expiry_ms(self) -> int | None:
        return None
