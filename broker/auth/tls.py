"""TLS for SSL and SASL_SSL listeners, and the principal of a client certificate.

One certificate and key serve every TLS listener (`--ssl-certfile`, `--ssl-keyfile`; Kafka's
ssl.keystore.*). `--ssl-client-auth` (Kafka's ssl.client.auth: none, requested, required) asks clients
of SSL listeners for a certificate signed by `--ssl-cafile` (Kafka's ssl.truststore.*); a client that
presents one is `User:` + its subject as an RFC 2253 distinguished name, as Kafka's
DefaultKafkaPrincipalBuilder (with ssl.principal.mapping.rules=DEFAULT) names it; one that does not
is User:ANONYMOUS. SASL_SSL listeners authenticate with SASL and never ask for a certificate (Kafka's
default for them, KIP-684).
"""

from __future__ import annotations

import re
import ssl
from typing import Any

from kafkette.broker.config import BrokerConfig
from kafkette.broker.startup import StartupError

UTF8_STRING = 0x0C
CLIENT_AUTH = {"none": ssl.CERT_NONE, "requested": ssl.CERT_OPTIONAL, "required": ssl.CERT_REQUIRED}

# The attribute keywords RFC 2253 knows (and Java's X500Principal.getName() uses); others are written as OID=#hex
_RFC2253_KEYWORDS = {
    "2.5.4.3": "CN", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.6": "C",
    "2.5.4.9": "STREET", "0.9.2342.19200300.100.1.25": "DC", "0.9.2342.19200300.100.1.1": "UID",
}


def server_context(config: BrokerConfig, security_protocol: str) -> ssl.SSLContext | None:
    """The TLS context of a listener with this security protocol, None if it speaks plaintext. Raises StartupError."""
    if security_protocol not in ("SSL", "SASL_SSL"):
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(config.ssl_certfile, config.ssl_keyfile or None)
    except (OSError, ssl.SSLError) as e:
        raise StartupError(f"cannot load the certificate {config.ssl_certfile} or its key "
                           f"{config.ssl_keyfile or '(in the same file)'} ({_reason(e)}): pass a PEM certificate with "
                           f"--ssl-certfile and its unencrypted key with --ssl-keyfile (`kafkette certs DIR` makes them)"
                           ) from None
    if security_protocol == "SSL" and config.ssl_client_auth != "none":
        try:
            context.load_verify_locations(cafile=config.ssl_cafile)
        except (OSError, ssl.SSLError) as e:
            raise StartupError(f"cannot load the CA certificates of --ssl-cafile {config.ssl_cafile} ({_reason(e)}): "
                               f"pass a PEM file of the CA that signs client certificates") from None
        context.verify_mode = CLIENT_AUTH[config.ssl_client_auth]
    return context


def _reason(e: Exception) -> str:
    """The OS's or OpenSSL's words, without the source line of Python's ssl module."""
    return re.sub(r" \(_ssl\.c:\d+\)$", "", getattr(e, "strerror", None) or str(e))


def peer_principal(transport: Any) -> str | None:
    """"User:<subject DN>" of the client certificate a TLS connection presented, None without one."""
    ssl_object = transport.get_extra_info("ssl_object")
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    return "User:" + subject_dn(der) if der else None


def subject_dn(der: bytes) -> str:
    """The certificate's subject as Java's X500Principal.getName() writes it (RFC 2253): last RDN first."""
    from cryptography import x509  # loaded only by TLS listeners that verify clients

    subject = x509.load_der_x509_certificate(der).subject
    return ",".join("+".join(_attribute(a) for a in rdn) for rdn in reversed(subject.rdns))


def _attribute(attribute: Any) -> str:
    oid = attribute.oid.dotted_string
    keyword = _RFC2253_KEYWORDS.get(oid)
    if keyword is None:  # RFC 2253 2.4: the BER encoding of the value, in hex
        raw = attribute.value.encode() if isinstance(attribute.value, str) else bytes(attribute.value)
        asn1_type = getattr(attribute, "_type", None)  # cryptography keeps the value's string type here
        return f"{oid}=#{_der_tlv(asn1_type.value if asn1_type is not None else UTF8_STRING, raw).hex()}"
    return f"{keyword}={_escape(str(attribute.value))}"


def _der_tlv(tag: int, value: bytes) -> bytes:
    n, size = len(value), (len(value).bit_length() + 7) // 8
    length = bytes([n]) if n < 0x80 else bytes([0x80 | size]) + n.to_bytes(size, "big")
    return bytes([tag]) + length + value


def _escape(value: str) -> str:
    """RFC 2253 2.4 escaping, as X500Principal applies it."""
    out = "".join("\\" + ch if ch in ',+"\\<>;' else ch for ch in value)
    if out.startswith(("#", " ")):
        out = "\\" + out
    if out.endswith(" ") and not out.endswith("\\ "):
        out = out[:-1] + "\\ "
    return out
