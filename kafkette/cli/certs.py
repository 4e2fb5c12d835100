"""`kafkette certs DIR`: a local CA, a broker certificate and a client certificate, and how to use them."""

from __future__ import annotations

import argparse

from kafkette.cli.common import CommandError, Output


def certs(args: argparse.Namespace, out: Output) -> None:
    from kafkette.certs import FILES, create_certificates

    present = [name for name in FILES if (args.directory / name).exists()]
    if present and not args.force:
        raise CommandError(f"{args.directory} already holds {', '.join(present)}; pass --force to replace them")
    made = create_certificates(args.directory, args.client_name)
    d = made.directory
    out.text(f"""Wrote {', '.join(str(d / name) for name in FILES)}.

The broker (TLS on 9093; SASL over TLS on 9094):
  kafkette serve --listener PLAINTEXT://127.0.0.1:9092 --listener SSL://127.0.0.1:9093 \\
      --listener SASL_SSL://127.0.0.1:9094 --sasl-user alice:alice-secret \\
      --ssl-certfile {made.broker_cert} --ssl-keyfile {made.broker_key} --ssl-cafile {made.ca}
  add --ssl-client-auth required to ask SSL clients for their certificate (principal User:CN={args.client_name},O=kafkette local)

Clients (confluent_kafka / librdkafka properties; kafkette's own commands take them with -X KEY=VALUE):
  security.protocol=SSL                     (or SASL_SSL with sasl.mechanism, sasl.username, sasl.password)
  ssl.ca.location={made.ca}
  ssl.certificate.location={made.client_cert}    (with --ssl-client-auth)
  ssl.key.location={made.client_key}""")
