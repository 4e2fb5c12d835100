"""SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) as Kafka speaks them: messages and keys, no I/O.

Shared by the broker's SCRAM server (`broker.auth.scram`) and kafkette's own clients
(`kafkette users`, `kafkette.client`). The message grammar is Kafka's (ScramMessages.java):
only the gs2 header "n" (no channel binding), extensions allowed and passed through.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

# Kafka's character classes (ScramMessages.AbstractScramMessage), without "," (0x2c) and "=" (0x3d) where it says so;
# SASLNAME is RFC 5802's saslname (also OAUTHBEARER's authzid)
SASLNAME = r"(?:[\x01-\x2b\x2d-\x3c\x3e-\x7f]|=2C|=3D)+"
_VALUE = r"[\x01-\x2b\x2d-\x7f]+"
_PRINTABLE = r"[\x21-\x2b\x2d-\x7e]+"
_B64 = r"(?:[a-zA-Z0-9/+]{4})*(?:[a-zA-Z0-9/+]{3}=|[a-zA-Z0-9/+]{2}==)?"
_EXTENSIONS = rf"(?:,[A-Za-z]+={_VALUE})*"
_CLIENT_FIRST = re.compile(rf"n,(?:a=(?P<authzid>{SASLNAME}))?,(?P<bare>(?:m={_VALUE},)?n=(?P<saslname>{SASLNAME}),"
                           rf"r=(?P<nonce>{_PRINTABLE})(?P<extensions>{_EXTENSIONS}))")
_SERVER_FIRST = re.compile(rf"(?:m={_VALUE},)?r=(?P<nonce>{_PRINTABLE}),s=(?P<salt>{_B64}),i=(?P<iterations>[0-9]+)"
                           rf"{_EXTENSIONS}")
_CLIENT_FINAL = re.compile(rf"(?P<without_proof>c=(?P<channel>{_B64}),r=(?P<nonce>{_PRINTABLE}){_EXTENSIONS}),"
                           rf"p=(?P<proof>{_B64})")
_SERVER_FINAL = re.compile(rf"(?:e=(?P<error>[\x01-\x2b\x2d-\x3c\x3e-\x7f]+))|(?:v=(?P<signature>{_B64})){_EXTENSIONS}")


class ScramFormatError(ValueError):
    """A SCRAM message that does not follow the grammar."""


@dataclass(frozen=True)
class ScramMechanism:
    name: str  # "SCRAM-SHA-256"
    type: int  # the mechanism's number in Describe/AlterUserScramCredentials
    hash_name: str
    min_iterations: int = 4096  # Kafka's ScramMechanism
    max_iterations: int = 16384  # what AlterUserScramCredentials accepts (Kafka's ScramControlManager)

    def hmac(self, key: bytes, message: bytes) -> bytes:
        return hmac.new(key, message, self.hash_name).digest()

    def hash(self, data: bytes) -> bytes:
        return hashlib.new(self.hash_name, data).digest()

    def salted_password(self, password: str, salt: bytes, iterations: int) -> bytes:
        """RFC 5802 Hi(password, salt, i): PBKDF2 with the mechanism's HMAC, one block."""
        return hashlib.pbkdf2_hmac(self.hash_name, password.encode(), salt, iterations)

    def client_key(self, salted_password: bytes) -> bytes:
        return self.hmac(salted_password, b"Client Key")

    def credential(self, salt: bytes, salted_password: bytes, iterations: int) -> ScramCredential:
        """What the server keeps of a password: StoredKey and ServerKey, never the password or its salted form."""
        return ScramCredential(salt, self.hash(self.client_key(salted_password)),
                               self.hmac(salted_password, b"Server Key"), iterations)

    def new_credential(self, password: str, iterations: int = 4096) -> ScramCredential:
        salt = random_salt()
        return self.credential(salt, self.salted_password(password, salt, iterations), iterations)


SCRAM_SHA_256 = ScramMechanism("SCRAM-SHA-256", 1, "sha256")
SCRAM_SHA_512 = ScramMechanism("SCRAM-SHA-512", 2, "sha512")
BY_NAME = {m.name: m for m in (SCRAM_SHA_256, SCRAM_SHA_512)}
BY_TYPE = {m.type: m for m in (SCRAM_SHA_256, SCRAM_SHA_512)}


@dataclass(frozen=True)
class ScramCredential:
    salt: bytes
    stored_key: bytes
    server_key: bytes
    iterations: int


def random_nonce() -> str:
    """130 random bits in base 36, as Kafka's ScramFormatter.secureRandomString."""
    value, digits = secrets.randbits(130), []
    while value:
        value, digit = divmod(value, 36)
        digits.append("0123456789abcdefghijklmnopqrstuvwxyz"[digit])
    return "".join(reversed(digits)) or "0"


def random_salt() -> bytes:
    return random_nonce().encode()


def sasl_name(username: str) -> str:
    return username.replace("=", "=3D").replace(",", "=2C")


def username(saslname: str) -> str:
    return saslname.replace("=2C", ",").replace("=3D", "=")


def xor(a: bytes, b: bytes) -> bytes:
    if len(a) != len(b):
        raise ScramFormatError("the client proof has the wrong length")
    return bytes(x ^ y for x, y in zip(a, b))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclass(frozen=True)
class ClientFirst:
    authorization_id: str
    username: str
    nonce: str
    extensions: dict[str, str]
    bare: str  # the message without its gs2 header, as the client sent it (part of the AuthMessage)

    @classmethod
    def parse(cls, data: bytes) -> ClientFirst:
        text = data.decode("utf-8", "replace")
        m = _CLIENT_FIRST.fullmatch(text)
        if m is None:
            raise ScramFormatError(f"Invalid SCRAM client first message format: {text}")
        extensions = dict(item.split("=", 1) for item in m["extensions"][1:].split(",")) if m["extensions"] else {}
        return cls(m["authzid"] or "", username(m["saslname"]), m["nonce"], extensions, m["bare"])


@dataclass(frozen=True)
class ClientFinal:
    nonce: str
    proof: bytes
    without_proof: str

    @classmethod
    def parse(cls, data: bytes) -> ClientFinal:
        text = data.decode("utf-8", "replace")
        m = _CLIENT_FINAL.fullmatch(text)
        if m is None:
            raise ScramFormatError(f"Invalid SCRAM client final message format: {text}")
        return cls(m["nonce"], base64.b64decode(m["proof"]), m["without_proof"])


def server_first(nonce: str, credential: ScramCredential) -> str:
    return f"r={nonce},s={b64(credential.salt)},i={credential.iterations}"


def auth_message(client_first_bare: str, server_first_message: str, client_final_without_proof: str) -> bytes:
    return f"{client_first_bare},{server_first_message},{client_final_without_proof}".encode()


class ScramClient:
    """The client's side of one exchange, for kafkette's own tools: first() -> final(server_first) -> verify(server_final)."""

    def __init__(self, mechanism: ScramMechanism, user: str, password: str) -> None:
        self.mechanism, self.password = mechanism, password
        self.nonce = random_nonce()
        self.bare = f"n={sasl_name(user)},r={self.nonce}"
        self._server_signature = b""

    def first(self) -> bytes:
        return f"n,,{self.bare}".encode()

    def final(self, server_first_message: bytes) -> bytes:
        text = server_first_message.decode()
        m = _SERVER_FIRST.fullmatch(text)
        if m is None or not m["nonce"].startswith(self.nonce):
            raise ScramFormatError(f"Invalid SCRAM server first message: {text}")
        mech = self.mechanism
        salted = mech.salted_password(self.password, base64.b64decode(m["salt"]), int(m["iterations"]))
        without_proof = f"c={b64(b'n,,')},r={m['nonce']}"
        message = auth_message(self.bare, text, without_proof)
        client_key = mech.client_key(salted)
        proof = xor(client_key, mech.hmac(mech.hash(client_key), message))
        self._server_signature = mech.hmac(mech.hmac(salted, b"Server Key"), message)
        return f"{without_proof},p={b64(proof)}".encode()

    def verify(self, server_final_message: bytes) -> None:
        text = server_final_message.decode()
        m = _SERVER_FINAL.fullmatch(text)
        if m is None or m["error"] is not None:
            raise ScramFormatError(f"SCRAM authentication failed: {text}")
        if not hmac.compare_digest(base64.b64decode(m["signature"]), self._server_signature):
            raise ScramFormatError("the server's SCRAM signature is wrong: is this the broker you meant?")
