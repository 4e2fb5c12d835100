"""SASL/OAUTHBEARER (RFC 7628) with unsecured JWTs, as Kafka's OAuthBearerSaslServer and
OAuthBearerUnsecuredValidatorCallbackHandler accept them: for tests, never for protection.

The token must be a JWS with `"alg": "none"` and no signature; its `sub` claim names the principal,
`exp` is required and must be in the future, `iat` (if present) must not be; the session lasts no
longer than the token. A token that fails validation is answered (as in Kafka) with the error JSON as a
successful challenge; the client's %x01 reply then fails the authentication with that JSON as the message.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from kafkette.broker.auth.mechanisms import OAUTHBEARER, SaslFailure
from kafkette.protocol.scram import SASLNAME

_KVPAIRS = r"(?:[A-Za-z]+=[\x21-\x7E \t\r\n]+\x01)*"
_INITIAL_RESPONSE = re.compile(rf"n,(?:a=(?P<authzid>{SASLNAME}))?,\x01(?P<kvpairs>{_KVPAIRS})\x01")
_AUTH = re.compile(r"(?P<scheme>\w+) +(?P<token>[-_~+/.a-zA-Z0-9]+=*)")
PRINCIPAL_CLAIM = "sub"
SCOPE_CLAIM = "scope"
INVALID_TOKEN = '{"status":"invalid_token"}'


class InvalidToken(ValueError):
    """The token fails one of the unsecured validator's rules; the message is Kafka's reason."""


class UnsecuredToken:
    """An unsecured JWS, checked as Kafka's OAuthBearerUnsecuredJws constructor and validator check it."""

    def __init__(self, text: str, now_ms: int) -> None:
        if ".." in text:
            raise InvalidToken("Malformed compact serialization contains '..'")
        splits = text.split(".")
        if len(splits) != 3:
            raise InvalidToken("Unsecured JWS compact serializations must have 3 dot-separated Base64URL-encoded values")
        header, self.claims = _json_object(splits[0]), _json_object(splits[1])
        if header.get("alg") != "none":
            raise InvalidToken("Unsecured JWS must have 'none' for an algorithm")
        if splits[2]:
            raise InvalidToken("Unsecured JWS must not contain a digital signature")
        if not isinstance(self.claims.get(SCOPE_CLAIM, []), (str, list)):
            raise InvalidToken(f"The '{SCOPE_CLAIM}' claim was not of type List: {_java_type(self.claims[SCOPE_CLAIM])}")
        exp = self._number("exp")
        if exp is None:
            raise InvalidToken("No expiration time in JWT")
        principal = self.claims.get(PRINCIPAL_CLAIM)
        if principal is not None and not isinstance(principal, str):
            raise InvalidToken(f"The '{PRINCIPAL_CLAIM}' claim was not of type String: {_java_type(principal)}")
        if not principal or not principal.strip():
            raise InvalidToken(f"No principal name in JWT claim: {PRINCIPAL_CLAIM}")
        iat = self._number("iat")
        self.principal: str = principal
        self.lifetime_ms = round(exp * 1000)
        if iat is not None and 1000 * iat > now_ms:
            raise InvalidToken(f"The Issued At value ({iat:f} seconds) was after the indicated time ({now_ms} ms) "
                               f"plus allowable clock skew (0 ms)")
        if now_ms >= 1000 * exp:
            raise InvalidToken(f"The indicated time ({now_ms} ms) minus allowable clock skew (0 ms) was on or after "
                               f"the Expiration Time value ({exp:f} seconds)")
        if iat is not None and exp <= iat:
            raise InvalidToken(f"The Expiration Time time ({exp:f} seconds) was not after the Issued At time "
                               f"({iat:f} seconds)")

    def _number(self, claim: str) -> float | None:
        value = self.claims.get(claim)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidToken(f"The '{claim}' claim was not of type Number: {_java_type(value)}")
        return float(value)


def _json_object(split: str) -> dict[str, Any]:
    """A JWS part: base64 (either alphabet, padding optional) of a JSON object."""
    try:
        data = base64.b64decode(split.replace("-", "+").replace("_", "/") + "=" * (-len(split) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidToken("malformed Base64 URL encoded value") from None
    try:
        value = json.loads(data)
    except ValueError:
        raise InvalidToken("malformed JSON") from None
    return value if isinstance(value, dict) else {}


def _java_type(value: object) -> str:
    return {str: "String", bool: "Boolean", list: "ArrayList", dict: "LinkedHashMap"}.get(type(value), "Number")


class OAuthBearerServer:
    mechanism = OAUTHBEARER

    def __init__(self, now_ms: int) -> None:
        self.now_ms = now_ms
        self.complete = False
        self.user: str | None = None
        self._token: UnsecuredToken | None = None
        self._error: str | None = None  # the JSON sent back after a failed validation
        self._reason = ""

    def evaluate(self, token: bytes) -> bytes:
        if token == b"\x01" and self._error is not None:
            raise SaslFailure(f"invalid token: {self._reason}", client_message=self._error)
        self._error = None
        m = _INITIAL_RESPONSE.fullmatch(token.decode("utf-8", "replace"))
        if m is None:
            raise SaslFailure("Invalid OAUTHBEARER client first message")
        properties = dict(pair.split("=", 1) for pair in m["kvpairs"].split("\x01") if pair)
        auth = properties.get("auth")
        if auth is None:
            raise SaslFailure("Invalid OAUTHBEARER client first message: 'auth' not specified")
        bearer = _AUTH.fullmatch(auth)
        if bearer is None:
            raise SaslFailure("Invalid OAUTHBEARER client first message: invalid 'auth' format")
        if bearer["scheme"].lower() != "bearer":
            raise SaslFailure(f"Invalid scheme in OAUTHBEARER client first message: {bearer['scheme']}")
        try:
            self._token = UnsecuredToken(bearer["token"], self.now_ms)
        except InvalidToken as e:
            self._error, self._reason = INVALID_TOKEN, str(e)
            return INVALID_TOKEN.encode()
        self.user = self._token.principal
        authzid = m["authzid"] or ""
        if authzid and authzid != self._token.principal:
            message = (f"Authentication failed: Client requested an authorization id ({authzid}) that is different "
                       f"from the token's principal name ({self._token.principal})")
            raise SaslFailure(message, client_message=message)
        self.complete = True
        return b""

    def authorization_id(self) -> str:
        assert self._token is not None and self.complete
        return self._token.principal

    def credential_expiry_ms(self) -> int | None:
        return self._token.lifetime_ms if self._token is not None else None
