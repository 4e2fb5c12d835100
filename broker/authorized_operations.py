"""The authorized-operations bitfields of Metadata, DescribeCluster and the group describes.

kafkette has no authorizer; Kafka without one answers every operation a resource type supports
(its AclEntry.supportedOperations), as bit 1 << AclOperation code, when the client asks for them,
and Integer.MIN_VALUE when it does not.
"""

NOT_REQUESTED = -(1 << 31)

READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE = 3, 4, 5, 6, 7, 8
CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE = 9, 10, 11, 12


def _bits(*operations: int) -> int:
    return sum(1 << op for op in operations)


CLUSTER = _bits(CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE)  # 8096
TOPIC = _bits(READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS)  # 3576
GROUP = _bits(READ, DELETE, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS)  # 3400


def when(requested: bool, operations: int) -> int:
    return operations if requested else NOT_REQUESTED
