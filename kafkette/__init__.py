"""kafkette: a small, fast, durable broker that speaks the Apache Kafka protocol.

The broker lives in `kafkette.broker`, the sans-I/O protocol in `kafkette.protocol`
and the log in `kafkette.storage`.
"""

__version__ = "0.1.0"
