"""TLS and SASL for kafkette's own blocking client (`kafkette.client.RawClient`), from librdkafka property names.

    security = ClientSecurity.from_properties({"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512",
                                               "sasl.username": "alice", "sasl.password": "secret",
                                               "ssl.ca.location": "certs/ca.pem"})
    RawClient("127.0.0.1:9094", security=security)

SASL mechanisms: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 (SaslHandshake v1, SaslAuthenticate v1).
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

from kafkette.protocol import scram
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages import SASL_AUTHENTICATE, SASL_HANDSHAKE

if TYPE_CHECKING:
    from kafkette.client import RawClient

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
KNOWN = {"security.protocol", "sasl.mechanism", "sasl.mechanisms", "sasl.username", "sasl.password",
         "ssl.ca.location", "ssl.certificate.location", "ssl.key.location", "ssl.endpoint.identification.algorithm"}


class AuthenticationError(Exception):
    """The broker refused the credentials (or the mechanism); the message is the broker's."""


@dataclass(frozen=True)
class ClientSecurity:
    protocol: str = "PLAINTEXT"
    mechanism: str = "PLAIN"
    username: str = ""
    password: str = ""
    ca_location: str | None = None
    certificate_location: str | None = None
    key_location: str | None = None
    check_hostname: bool = True

    @classmethod
    def from_properties(cls, properties: Mapping[str, str]) -> ClientSecurity:
        """From librdkafka properties (other properties are refused). Raises ValueError naming what is wrong."""
        unknown = sorted(set(properties) - KNOWN)
        if unknown:
            raise ValueError(f"unknown client propert{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)} "
                             f"(known: {', '.join(sorted(KNOWN))})")
        protocol = properties.get("security.protocol", "PLAINTEXT").upper()
        if protocol not in PROTOCOLS:
            raise ValueError(f"security.protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")
        mechanism = properties.get("sasl.mechanism", properties.get("sasl.mechanisms", "PLAIN")).upper()
        if protocol.startswith("SASL_") and mechanism not in ("PLAIN", *scram.BY_NAME):
            raise ValueError(f"sasl.mechanism must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 here, got {mechanism!r}")
        return cls(protocol, mechanism, properties.get("sasl.username", ""), properties.get("sasl.password", ""),
                   properties.get("ssl.ca.location"), properties.get("ssl.certificate.location"),
                   properties.get("ssl.key.location"),
                   properties.get("ssl.endpoint.identification.algorithm", "https").lower() != "none")

    def wrap(self, sock: socket.socket, host: str) -> socket.socket:
        """The socket with TLS on it, if the protocol has TLS."""
        if self.protocol not in ("SSL", "SASL_SSL"):
            return sock
        context = ssl.create_default_context(cafile=self.ca_location)
        context.check_hostname = self.check_hostname
        if self.certificate_location:
            context.load_cert_chain(self.certificate_location, self.key_location)
        return context.wrap_socket(sock, server_hostname=host)

    def authenticate(self, client: RawClient) -> None:
        """SASL on a fresh connection, if the protocol has SASL. Raises AuthenticationError."""
        if not self.protocol.startswith("SASL_"):
            return
        handshake = client.request(SASL_HANDSHAKE, 1, SASL_HANDSHAKE.Request(mechanism=self.mechanism))
        if handshake.error_code != ErrorCode.NONE:
            raise AuthenticationError(f"the broker does not enable SASL mechanism {self.mechanism} "
                                      f"(it enables {', '.join(handshake.mechanisms)})")
        if self.mechanism == "PLAIN":
            self._exchange(client, f"\0{self.username}\0{self.password}".encode())
            return
        scram_client = scram.ScramClient(scram.BY_NAME[self.mechanism], self.username, self.password)
        server_first = self._exchange(client, scram_client.first())
        server_final = self._exchange(client, scram_client.final(server_first))
        try:
            scram_client.verify(server_final)
        except scram.ScramFormatError as e:
            raise AuthenticationError(str(e)) from None

    @staticmethod
    def _exchange(client: RawClient, token: bytes) -> bytes:
        response = client.request(SASL_AUTHENTICATE, 1, SASL_AUTHENTICATE.Request(auth_bytes=token))
        if response.error_code != ErrorCode.NONE:
            raise AuthenticationError(f"SASL authentication failed: {response.error_message}")
        return bytes(response.auth_bytes)
