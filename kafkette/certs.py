"""Certificates for a local TLS broker: a CA, a broker certificate for localhost/127.0.0.1, a client certificate.

    certs = create_certificates(tmp_path)            # or `kafkette certs DIR`
    LocalBroker(listeners=["SSL"], **certs.broker_settings())
    Producer({"bootstrap.servers": ..., "security.protocol": "SSL", **certs.client_properties()})

Keys are ECDSA P-256, written unencrypted and readable by their owner only; the CA's key is not kept,
so the set can only be replaced, never extended. For tests and local development, never production.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

FILES = ("ca.pem", "broker.pem", "broker-key.pem", "client.pem", "client-key.pem")
VALID_DAYS = 3650


@dataclass(frozen=True)
class Certificates:
    directory: Path

    @property
    def ca(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def broker_cert(self) -> Path:
        return self.directory / "broker.pem"

    @property
    def broker_key(self) -> Path:
        return self.directory / "broker-key.pem"

    @property
    def client_cert(self) -> Path:
        return self.directory / "client.pem"

    @property
    def client_key(self) -> Path:
        return self.directory / "client-key.pem"

    def broker_settings(self, client_auth: str = "none") -> dict[str, str]:
        """`kafkette serve` settings (LocalBroker keywords) of a broker with these certificates."""
        return {"ssl_certfile": str(self.broker_cert), "ssl_keyfile": str(self.broker_key),
                "ssl_cafile": str(self.ca), "ssl_client_auth": client_auth}

    def client_properties(self, with_certificate: bool = False) -> dict[str, str]:
        """librdkafka (confluent_kafka) properties that trust the broker, and present the client certificate."""
        properties = {"ssl.ca.location": str(self.ca)}
        if with_certificate:
            properties |= {"ssl.certificate.location": str(self.client_cert), "ssl.key.location": str(self.client_key)}
        return properties


def create_certificates(directory: str | os.PathLike, client_name: str = "client") -> Certificates:
    """Write a new CA and the broker and client certificates it signs into `directory` (made if missing)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    certs = Certificates(Path(directory))
    certs.directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)

    def name(common_name: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "kafkette local"),
                          x509.NameAttribute(NameOID.COMMON_NAME, common_name)])

    def issue(subject: x509.Name, key: ec.EllipticCurvePrivateKey, issuer: x509.Name, signer: ec.EllipticCurvePrivateKey,
              extensions: list[tuple[x509.ExtensionType, bool]]) -> x509.Certificate:
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now)
                   .not_valid_after(now + datetime.timedelta(days=VALID_DAYS)))
        for extension, critical in extensions:
            builder = builder.add_extension(extension, critical)
        return builder.sign(signer, hashes.SHA256())

    def write(path: Path, data: bytes, private: bool = False) -> None:
        path.unlink(missing_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data)

    def pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "kafkette local"),
                         x509.NameAttribute(NameOID.COMMON_NAME, "kafkette local CA")])
    ca = issue(ca_name, ca_key, ca_name, ca_key, [
        (x509.BasicConstraints(ca=True, path_length=0), True),
        (x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                       key_encipherment=False, data_encipherment=False, key_agreement=False, encipher_only=False,
                       decipher_only=False), True)])
    leaf_usage = x509.KeyUsage(digital_signature=True, key_encipherment=False, key_cert_sign=False, crl_sign=False,
                               content_commitment=False, data_encipherment=False, key_agreement=True,
                               encipher_only=False, decipher_only=False)
    broker_key, client_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    broker = issue(name("localhost"), broker_key, ca_name, ca_key, [
        (x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                      x509.IPAddress(ipaddress.ip_address("::1"))]), False),
        (x509.BasicConstraints(ca=False, path_length=None), True), (leaf_usage, True),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)])
    client = issue(name(client_name), client_key, ca_name, ca_key, [
        (x509.BasicConstraints(ca=False, path_length=None), True), (leaf_usage, True),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False)])
    pem = serialization.Encoding.PEM
    write(certs.ca, ca.public_bytes(pem))
    write(certs.broker_cert, broker.public_bytes(pem))
    write(certs.broker_key, pem_key(broker_key), private=True)
    write(certs.client_cert, client.public_bytes(pem))
    write(certs.client_key, pem_key(client_key), private=True)
    return certs
