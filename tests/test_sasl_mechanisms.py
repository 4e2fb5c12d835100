"""The SASL servers, the users store and the certificate principal without sockets: RFC test vectors and
Kafka's rules and messages."""

from __future__ import annotations

import base64
import json

import pytest

from kafkette.broker.auth.mechanisms import SaslFailure
from kafkette.broker.auth.oauthbearer import InvalidToken, OAuthBearerServer, UnsecuredToken
from kafkette.broker.auth.plain import PlainServer
from kafkette.broker.auth.scram import ScramServer
from kafkette.broker.auth.session import session_lifetime_ms
from kafkette.broker.auth.users import Users
from kafkette.broker.internal_topic import HIDDEN_TOPICS, SCRAM_CREDENTIALS_TOPIC, InternalTopic, ensure_internal_topics
from kafkette.protocol import scram
from kafkette.protocol.errors import ErrorCode
from kafkette.storage.config import LogConfig
from kafkette.storage.memory import MemoryStore

NOW_MS = 1_700_000_000_000


def users(**passwords: str) -> Users:
    """The users of the settings, over a credentials topic in memory."""
    hidden = MemoryStore(LogConfig())
    ensure_internal_topics(hidden, HIDDEN_TOPICS)
    store = Users(passwords.items(), InternalTopic(hidden, SCRAM_CREDENTIALS_TOPIC))
    store.load()
    return store


# ---------------------------------------------------------------------------------------------- SCRAM


def test_scram_sha_256_follows_the_rfc_7677_example():
    """RFC 7677 section 3: user "user", password "pencil", the RFC's nonces, salt and 4096 iterations."""
    mech = scram.SCRAM_SHA_256
    salt = base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ==")
    store = users()
    store.scram["user", mech.name] = mech.credential(salt, mech.salted_password("pencil", salt, 4096), 4096)
    server = ScramServer(mech.name, store, server_nonce="%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0")
    first = server.evaluate(b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
    assert first == b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
    final = server.evaluate(b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                            b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
    assert final == b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
    assert server.complete and server.authorization_id() == "user"


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_scram_client_and_server_agree_and_a_wrong_password_fails_without_saying_why(mechanism):
    store = users(alice="secret")
    client = scram.ScramClient(scram.BY_NAME[mechanism], "alice", "secret")
    server = ScramServer(mechanism, store)
    client.verify(server.evaluate(client.final(server.evaluate(client.first()))))
    assert server.complete
    wrong = scram.ScramClient(scram.BY_NAME[mechanism], "alice", "guess")
    server = ScramServer(mechanism, store)
    final = wrong.final(server.evaluate(wrong.first()))
    with pytest.raises(SaslFailure) as failed:
        server.evaluate(final)
    assert failed.value.client_message is None and str(failed.value) == "Invalid client credentials (wrong password)"


@pytest.mark.parametrize("first, reason, client_message", [
    (b"n,,n=nobody,r=abc", "Authentication failed: Invalid user credentials (no such user)", None),
    (b"y,,n=alice,r=abc", "Invalid SCRAM client first message format: y,,n=alice,r=abc", None),
    (b"n,a=bob,n=alice,r=abc",
     "Authentication failed: Client requested an authorization id that is different from username",
     "Authentication failed: Client requested an authorization id that is different from username"),
    (b"n,,n=alice,r=abc,tokenauth=true",
     "Token Authentication failed: Invalid tokenId : alice (kafkette has no delegation tokens)", None),
])
def test_scram_first_message_failures(first, reason, client_message):
    with pytest.raises(SaslFailure) as failed:
        ScramServer("SCRAM-SHA-512", users(alice="secret")).evaluate(first)
    assert (str(failed.value), failed.value.client_message) == (reason, client_message)


def test_scram_credentials_below_the_minimum_iterations_are_refused():
    store = users()
    store.scram["alice", "SCRAM-SHA-256"] = scram.SCRAM_SHA_256.new_credential("pw", iterations=1000)
    with pytest.raises(SaslFailure, match="Iterations 1000 is less than the minimum 4096 for SCRAM-SHA-256"):
        ScramServer("SCRAM-SHA-256", store).evaluate(b"n,,n=alice,r=abc")


def test_scram_names_escape_comma_and_equals():
    assert scram.sasl_name("a=b,c") == "a=3Db=2Cc" and scram.username("a=3Db=2Cc") == "a=b,c"
    server = ScramServer("SCRAM-SHA-256", users(**{"a=b,c": "pw"}))
    server.evaluate(b"n,,n=a=3Db=2Cc,r=abc")
    assert server.user == "a=b,c"


# ---------------------------------------------------------------------------------------------- PLAIN


def test_plain_accepts_the_users_of_the_settings_only():
    server = PlainServer(users(alice="secret"))
    assert server.evaluate(b"\0alice\0secret") == b"" and server.authorization_id() == "alice"
    assert PlainServer(users(alice="secret")).evaluate(b"alice\0alice\0secret") == b""
    with pytest.raises(SaslFailure, match="unknown user or wrong password") as failed:
        PlainServer(users(alice="secret")).evaluate(b"\0mallory\0secret")
    assert failed.value.client_message == "Authentication failed: Invalid username or password"
    with pytest.raises(SaslFailure) as failed:
        PlainServer(users(alice="secret")).evaluate(b"\0a\0b\0c")
    assert failed.value.client_message == "Invalid SASL/PLAIN response: expected 3 tokens, got 4"


# ---------------------------------------------------------------------------------------------- OAUTHBEARER


def jwt(claims: dict, header: dict | None = None, signature: str = "") -> str:
    def part(doc: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).rstrip(b"=").decode()

    return f"{part(header or {'alg': 'none'})}.{part(claims)}.{signature}"


NOW_S = NOW_MS / 1000


@pytest.mark.parametrize("token, reason", [
    ("a..b", "Malformed compact serialization contains '..'"),
    ("a.b", "Unsecured JWS compact serializations must have 3 dot-separated Base64URL-encoded values"),
    ("!!!.e30.", "malformed Base64 URL encoded value"),
    (f"{base64.b64encode(b'{nope').decode()}.e30.", "malformed JSON"),
    (jwt({"sub": "bob", "exp": NOW_S + 60}, {"alg": "HS256"}), "Unsecured JWS must have 'none' for an algorithm"),
    (jwt({"sub": "bob", "exp": NOW_S + 60}, signature="c2ln"), "Unsecured JWS must not contain a digital signature"),
    (jwt({"sub": "bob"}), "No expiration time in JWT"),
    (jwt({"sub": "bob", "exp": "soon"}), "The 'exp' claim was not of type Number: String"),
    (jwt({"exp": NOW_S + 60}), "No principal name in JWT claim: sub"),
    (jwt({"sub": 7, "exp": NOW_S + 60}), "The 'sub' claim was not of type String: Number"),
    (jwt({"sub": "bob", "exp": NOW_S - 1}),
     f"The indicated time ({NOW_MS} ms) minus allowable clock skew (0 ms) was on or after the Expiration Time value "
     f"({NOW_S - 1:f} seconds)"),
    (jwt({"sub": "bob", "exp": NOW_S + 120, "iat": NOW_S + 60}),
     f"The Issued At value ({NOW_S + 60:f} seconds) was after the indicated time ({NOW_MS} ms) plus allowable clock "
     f"skew (0 ms)"),
])
def test_unsecured_tokens_are_checked_as_kafkas_validator_does(token, reason):
    with pytest.raises(InvalidToken) as invalid:
        UnsecuredToken(token, NOW_MS)
    assert str(invalid.value) == reason


def test_an_oauthbearer_token_names_the_principal_and_bounds_the_session():
    server = OAuthBearerServer(NOW_MS)
    token = jwt({"sub": "bob", "iat": NOW_S - 10, "exp": NOW_S + 30, "scope": ["a", "b"]})
    assert server.evaluate(f"n,,\x01auth=Bearer {token}\x01\x01".encode()) == b""
    assert server.authorization_id() == "bob" and server.credential_expiry_ms() == NOW_MS + 30_000
    assert session_lifetime_ms(server.credential_expiry_ms(), 0, NOW_MS) == 30_000
    assert session_lifetime_ms(server.credential_expiry_ms(), 10_000, NOW_MS) == 10_000


def test_a_bad_token_gets_the_error_json_then_fails_with_it():
    server = OAuthBearerServer(NOW_MS)
    token = jwt({"sub": "bob", "exp": NOW_S - 5})
    assert server.evaluate(f"n,,\x01auth=Bearer {token}\x01\x01".encode()) == b'{"status":"invalid_token"}'
    with pytest.raises(SaslFailure) as failed:
        server.evaluate(b"\x01")
    assert failed.value.client_message == '{"status":"invalid_token"}'
    with pytest.raises(SaslFailure, match="^Invalid OAUTHBEARER client first message$"):
        OAuthBearerServer(NOW_MS).evaluate(b"n,,auth=Bearer x")


def test_session_lifetimes_as_kafka_computes_them():
    assert session_lifetime_ms(None, 0, NOW_MS) is None
    assert session_lifetime_ms(None, 5000, NOW_MS) == 5000
    assert session_lifetime_ms(NOW_MS - 1, 0, NOW_MS) == 0


# ---------------------------------------------------------------------------------------------- users


def test_alter_rules_are_kafkas():
    store = users()
    mech = scram.SCRAM_SHA_512
    salted = mech.salted_password("pw", b"salt", 4096)
    results = store.alter(deletions=[("x", 2), ("gone", 2)],
                          upsertions=[("x", 2, 4096, b"salt", salted), ("", 2, 4096, b"s", salted),
                                      ("y", 9, 4096, b"s", salted), ("z", 2, 4096, b"salt", salted)], now_ms=NOW_MS)
    assert [(r.user, r.error, r.message) for r in results] == [
        ("z", ErrorCode.NONE, None),
        ("x", ErrorCode.RESOURCE_NOT_FOUND, "Attempt to delete a user credential that does not exist"),
        ("gone", ErrorCode.RESOURCE_NOT_FOUND, "Attempt to delete a user credential that does not exist"),
        ("", ErrorCode.UNACCEPTABLE_CREDENTIAL, "Username must not be empty"),
        ("y", ErrorCode.UNSUPPORTED_SASL_MECHANISM, "Unknown SCRAM mechanism")]


def test_a_user_twice_in_one_alteration_is_refused():
    store = users(x="pw")
    salted = scram.SCRAM_SHA_256.salted_password("pw", b"salt", 4096)
    results = store.alter(deletions=[("x", 1)], upsertions=[("x", 1, 4096, b"salt", salted)], now_ms=NOW_MS)
    assert [(r.user, r.error, r.message) for r in results] == [
        ("x", ErrorCode.DUPLICATE_RESOURCE, "A user credential cannot be altered twice in the same request")]


# ---------------------------------------------------------------------------------------------- certificate principal


def test_a_certificate_subject_reads_as_rfc_2253_as_java_writes_it(tmp_path):
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from kafkette.broker.auth.tls import subject_dn

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COUNTRY_NAME, "DE")]),
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Acme, Inc.")]),
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Ops"),
                                        x509.NameAttribute(NameOID.COMMON_NAME, "svc")]),
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.EMAIL_ADDRESS, "a@b.c")]),
    ])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    dn = subject_dn(cert.public_bytes(serialization.Encoding.DER))
    # X500Principal.getName(): last RDN first (a multi-valued one in its DER order), RFC 2253 keywords and escapes,
    # other attribute types as OID=#<DER of the value in hex>
    assert dn == "1.2.840.113549.1.9.1=#16056140622e63,CN=svc+OU=Ops,O=Acme\\, Inc.,C=DE"
