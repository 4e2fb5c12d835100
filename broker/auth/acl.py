"""Kafka's ACL model, as its clients and CreateAcls/DescribeAcls/DeleteAcls carry it; no I/O.

An `AclBinding` joins a resource pattern (resource type, name, LITERAL or PREFIXED) to an access control
entry (principal, host, operation, ALLOW or DENY), as Kafka's org.apache.kafka.common.acl.AclBinding. An
`AclFilter` selects bindings for DescribeAcls and DeleteAcls: a None name, principal or host and the ANY
codes match anything, and the MATCH pattern type matches every pattern that applies to a name (Kafka's
ResourcePatternFilter and AccessControlEntryFilter). Codes a client sends that Kafka does not know become
UNKNOWN, as Kafka's fromCode makes them.
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple, TypeVar

from kafkette.protocol.errors import ErrorCode


class ResourceType(IntEnum):
    UNKNOWN = 0
    ANY = 1
    TOPIC = 2
    GROUP = 3
    CLUSTER = 4
    TRANSACTIONAL_ID = 5
    DELEGATION_TOKEN = 6
    USER = 7


class PatternType(IntEnum):
    UNKNOWN = 0
    ANY = 1
    MATCH = 2
    LITERAL = 3
    PREFIXED = 4


class Operation(IntEnum):
    UNKNOWN = 0
    ANY = 1
    ALL = 2
    READ = 3
    WRITE = 4
    CREATE = 5
    DELETE = 6
    ALTER = 7
    DESCRIBE = 8
    CLUSTER_ACTION = 9
    DESCRIBE_CONFIGS = 10
    ALTER_CONFIGS = 11
    IDEMPOTENT_WRITE = 12
    CREATE_TOKENS = 13
    DESCRIBE_TOKENS = 14
    TWO_PHASE_COMMIT = 15


class Permission(IntEnum):
    UNKNOWN = 0
    ANY = 1
    DENY = 2
    ALLOW = 3


CLUSTER_NAME = "kafka-cluster"  # the one name of the CLUSTER resource
WILDCARD = "*"  # a LITERAL resource name or an ACL host that matches every one
WILDCARD_PRINCIPAL = "User:*"

# Kafka's AclEntry.supportedOperations: what a resource type's authorized-operations bitfield can hold
SUPPORTED_OPERATIONS: dict[ResourceType, tuple[Operation, ...]] = {
    ResourceType.TOPIC: (Operation.READ, Operation.WRITE, Operation.CREATE, Operation.DELETE, Operation.ALTER,
                         Operation.DESCRIBE, Operation.DESCRIBE_CONFIGS, Operation.ALTER_CONFIGS),
    ResourceType.GROUP: (Operation.READ, Operation.DELETE, Operation.DESCRIBE, Operation.DESCRIBE_CONFIGS,
                         Operation.ALTER_CONFIGS),
    ResourceType.CLUSTER: (Operation.CREATE, Operation.ALTER, Operation.DESCRIBE, Operation.CLUSTER_ACTION,
                           Operation.DESCRIBE_CONFIGS, Operation.ALTER_CONFIGS, Operation.IDEMPOTENT_WRITE),
    ResourceType.TRANSACTIONAL_ID: (Operation.WRITE, Operation.DESCRIBE, Operation.TWO_PHASE_COMMIT),
    ResourceType.DELEGATION_TOKEN: (Operation.DESCRIBE,),
    ResourceType.USER: (Operation.CREATE_TOKENS, Operation.DESCRIBE_TOKENS),
}

# Kafka's AclEntry.authorizationError: what a request refused on a resource of this type answers
AUTHORIZATION_FAILED: dict[ResourceType, ErrorCode] = {
    ResourceType.TOPIC: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
    ResourceType.GROUP: ErrorCode.GROUP_AUTHORIZATION_FAILED,
    ResourceType.CLUSTER: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
    ResourceType.TRANSACTIONAL_ID: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    ResourceType.DELEGATION_TOKEN: ErrorCode.DELEGATION_TOKEN_AUTHORIZATION_FAILED,
}

# Kafka's Errors messages for them, which its responses carry where they have a message field
AUTHORIZATION_MESSAGES: dict[ErrorCode, str] = {
    ErrorCode.TOPIC_AUTHORIZATION_FAILED: "Topic authorization failed.",
    ErrorCode.GROUP_AUTHORIZATION_FAILED: "Group authorization failed.",
    ErrorCode.CLUSTER_AUTHORIZATION_FAILED: "Cluster authorization failed.",
    ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED: "Transactional Id authorization failed.",
}

# The resource types of DescribeConfigs and (Incremental)AlterConfigs (Kafka's ConfigResource.Type: topic, broker,
# broker logger, client metrics, group) and the ACL resource type guarding them
CONFIG_RESOURCE_TYPES = {2: ResourceType.TOPIC, 4: ResourceType.CLUSTER, 8: ResourceType.CLUSTER,
                         16: ResourceType.CLUSTER, 32: ResourceType.GROUP}

E = TypeVar("E", bound=IntEnum)


def config_resource(config_resource_type: int, name: str) -> tuple[ResourceType, str] | None:
    """The ACL resource that guards the configs of a config resource; None for a type Kafka does not know."""
    kind = CONFIG_RESOURCE_TYPES.get(config_resource_type)
    if kind is None:
        return None
    return kind, CLUSTER_NAME if kind == ResourceType.CLUSTER else name


def known(kind: type[E], code: int) -> E:
    """The member of `kind` with this code, or its UNKNOWN (Kafka's fromCode)."""
    try:
        return kind(code)
    except ValueError:
        return kind(0)


class AclBinding(NamedTuple):
    resource_type: ResourceType
    name: str
    pattern_type: PatternType
    principal: str
    host: str
    operation: Operation
    permission: Permission

    @classmethod
    def of_codes(cls, resource_type: int, name: str, pattern_type: int, principal: str, host: str, operation: int,
                 permission: int) -> AclBinding:
        return cls(known(ResourceType, resource_type), name, known(PatternType, pattern_type), principal, host,
                   known(Operation, operation), known(Permission, permission))

    def __str__(self) -> str:
        return (f"{self.permission.name} {self.principal} from {self.host} {self.operation.name} on "
                f"{self.resource_type.name} {self.pattern_type.name} {self.name!r}")


class AclFilter(NamedTuple):
    resource_type: ResourceType = ResourceType.ANY
    name: str | None = None
    pattern_type: PatternType = PatternType.ANY
    principal: str | None = None
    host: str | None = None
    operation: Operation = Operation.ANY
    permission: Permission = Permission.ANY

    @classmethod
    def of_codes(cls, resource_type: int, name: str | None, pattern_type: int, principal: str | None,
                 host: str | None, operation: int, permission: int) -> AclFilter:
        return cls(known(ResourceType, resource_type), name, known(PatternType, pattern_type), principal, host,
                   known(Operation, operation), known(Permission, permission))

    @property
    def unknown_pattern(self) -> bool:
        return self.resource_type == ResourceType.UNKNOWN or self.pattern_type == PatternType.UNKNOWN

    @property
    def unknown_entry(self) -> bool:
        return self.operation == Operation.UNKNOWN or self.permission == Permission.UNKNOWN

    def matches(self, acl: AclBinding) -> bool:
        return self._matches_pattern(acl) and self._matches_entry(acl)

    def _matches_pattern(self, acl: AclBinding) -> bool:
        if self.resource_type != ResourceType.ANY and self.resource_type != acl.resource_type:
            return False
        if self.pattern_type not in (PatternType.ANY, PatternType.MATCH) and self.pattern_type != acl.pattern_type:
            return False
        if self.name is None:
            return True
        if self.pattern_type == PatternType.ANY or self.pattern_type == acl.pattern_type:
            return self.name == acl.name
        if acl.pattern_type == PatternType.LITERAL:  # MATCH: the patterns that apply to this name
            return self.name == acl.name or acl.name == WILDCARD
        return self.name.startswith(acl.name)

    def _matches_entry(self, acl: AclBinding) -> bool:
        return ((self.principal is None or self.principal == acl.principal)
                and (self.host is None or self.host == acl.host)
                and (self.operation == Operation.ANY or self.operation == acl.operation)
                and (self.permission == Permission.ANY or self.permission == acl.permission))


def unparsable(resource_type: int, pattern_type: int, operation: int, permission: int) -> bool:
    """Whether a request carries the code 0 (UNKNOWN) in one of these: Kafka cannot parse such a CreateAcls,
    DescribeAcls or DeleteAcls request and closes the connection."""
    return 0 in (resource_type, pattern_type, operation, permission)


def creation_problem(acl: AclBinding) -> str | None:
    """Why Kafka refuses to create this ACL with INVALID_REQUEST (AclApis, then AclControlManager.validateNewAcl),
    in its words; None if it may be created."""
    if acl.resource_type == ResourceType.CLUSTER and acl.name != CLUSTER_NAME:
        return f"The only valid name for the CLUSTER resource is {CLUSTER_NAME}"
    if not acl.name:
        return "Invalid empty resource name"
    if acl.resource_type in (ResourceType.UNKNOWN, ResourceType.ANY):
        return f"Invalid resourceType {acl.resource_type.name}"
    if acl.pattern_type not in (PatternType.LITERAL, PatternType.PREFIXED):
        return f"Invalid patternType {acl.pattern_type.name}"
    if acl.operation in (Operation.UNKNOWN, Operation.ANY):
        return f"Invalid operation {acl.operation.name}"
    if acl.permission not in (Permission.ALLOW, Permission.DENY):
        return f"Invalid permissionType {acl.permission.name}"
    if ":" not in acl.principal:
        return (f"Could not parse principal from `{acl.principal}` (no colon is present separating the principal "
                f"type from the principal name)")
    return None
