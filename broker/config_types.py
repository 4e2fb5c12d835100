"""The words DescribeConfigs answers with: a config's type, where its value comes from, how it may be changed."""

# ConfigType, as DescribeConfigs v3+ gives it
UNKNOWN, BOOLEAN, STRING, INT, SHORT, LONG, DOUBLE, LIST, CLASS, PASSWORD = range(10)

# ConfigSource
DYNAMIC_TOPIC_CONFIG = 1
DYNAMIC_BROKER_CONFIG = 2
DYNAMIC_DEFAULT_BROKER_CONFIG = 3
STATIC_BROKER_CONFIG = 4
DEFAULT_CONFIG = 5

# How a broker config may be updated (Kafka's DynamicBrokerConfig update modes, and the rest)
PER_BROKER, CLUSTER_WIDE, READ_ONLY = "per-broker", "cluster-wide", "read-only"
