"""Who a connection is: TLS and SASL as Kafka's listeners run them, and the users they know.

- `tls`: the listeners' TLS contexts and the principal of a client certificate;
- `session`: one SASL connection's authentication state, which the connection consults for every frame;
- `mechanisms`, `plain`, `scram`, `oauthbearer`: the SASL servers (Kafka's PlainSaslServer, ScramSaslServer,
  OAuthBearerSaslServer with the unsecured validator);
- `users`: the PLAIN passwords and SCRAM credentials, from flags, a file and the hidden credentials topic.

A request's principal is `RequestContext.principal` ("User:alice", "User:CN=client,O=Example", or
"User:ANONYMOUS"), set by the connection once authentication completes.
"""
