"""SASL/SCRAM-SHA-256 and SCRAM-SHA-512 as Kafka's ScramSaslServer runs them: two client messages, two answers."""

from __future__ import annotations

import hmac

from kafkette.broker.auth.mechanisms import SaslFailure
from kafkette.broker.auth.users import Users
from kafkette.protocol import scram
from kafkette.protocol.scram import ClientFinal, ClientFirst, ScramCredential, ScramFormatError

TOKEN_AUTH = "tokenauth"  # the extension that asks for delegation-token authentication


class ScramServer:
    def __init__(self, mechanism: str, users: Users, server_nonce: str | None = None) -> None:
        self.mechanism = mechanism
        self.scram = scram.BY_NAME[mechanism]
        self.users = users
        self.complete = False
        self.user: str | None = None
        self._server_nonce = server_nonce or scram.random_nonce()
        self._first: ClientFirst | None = None
        self._server_first = ""
        self._credential: ScramCredential | None = None

    def evaluate(self, token: bytes) -> bytes:
        try:
            if self._first is None:
                return self._client_first(token)
            if not self.complete and self._credential is not None:
                return self._client_final(token)
        except ScramFormatError as e:
            raise SaslFailure(str(e)) from None
        raise SaslFailure(f"unexpected SCRAM message after the exchange {'completed' if self.complete else 'failed'}")

    def _client_first(self, token: bytes) -> bytes:
        first = self._first = ClientFirst.parse(token)
        self.user = first.username
        if first.extensions.get(TOKEN_AUTH, "").lower() == "true":
            raise SaslFailure(f"Token Authentication failed: Invalid tokenId : {first.username} "
                              f"(kafkette has no delegation tokens)")
        credential = self.users.scram_credential(first.username, self.mechanism)
        if credential is None:
            raise SaslFailure("Authentication failed: Invalid user credentials (no such user)")
        if first.authorization_id and first.authorization_id != first.username:
            message = "Authentication failed: Client requested an authorization id that is different from username"
            raise SaslFailure(message, client_message=message)
        if credential.iterations < self.scram.min_iterations:
            raise SaslFailure(f"Iterations {credential.iterations} is less than the minimum "
                              f"{self.scram.min_iterations} for {self.mechanism}")
        self._credential = credential
        self._server_first = scram.server_first(first.nonce + self._server_nonce, credential)
        return self._server_first.encode()

    def _client_final(self, token: bytes) -> bytes:
        assert self._first is not None and self._credential is not None
        final = ClientFinal.parse(token)
        if not final.nonce.endswith(self._server_nonce):
            raise SaslFailure("Invalid client nonce in the final client message.")
        message = scram.auth_message(self._first.bare, self._server_first, final.without_proof)
        mech, credential = self.scram, self._credential
        client_signature = mech.hmac(credential.stored_key, message)
        if not hmac.compare_digest(mech.hash(scram.xor(client_signature, final.proof)), credential.stored_key):
            raise SaslFailure("Invalid client credentials (wrong password)")
        self._credential = None
        self.complete = True
        return f"v={scram.b64(mech.hmac(credential.server_key, message))}".encode()

    def authorization_id(self) -> str:
        assert self.user is not None and self.complete
        return self.user

    def credential_expiry_ms(self) -> int | None:
        return None
