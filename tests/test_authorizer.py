"""The ACL decisions alone (broker.auth.authorizer, broker.auth.acl), after Kafka's AuthorizerTest,
BaseAuthorizerTest and StandardAuthorizerTest; no broker, no sockets."""

from __future__ import annotations

import pytest

from kafkette.broker.auth.acl import (
    AclBinding,
    AclFilter,
    Operation,
    PatternType,
    Permission,
    ResourceType,
    creation_problem,
)
from kafkette.broker.auth.authorizer import MAX_CACHED_DECISIONS, Authorizer

TOPIC, GROUP, CLUSTER = ResourceType.TOPIC, ResourceType.GROUP, ResourceType.CLUSTER
LITERAL, PREFIXED = PatternType.LITERAL, PatternType.PREFIXED
ALLOW, DENY = Permission.ALLOW, Permission.DENY
READ, WRITE, DESCRIBE, ALL = Operation.READ, Operation.WRITE, Operation.DESCRIBE, Operation.ALL
ALICE, BOB = "User:alice", "User:bob"
HOST1, HOST2 = "192.168.1.1", "192.168.1.2"
VALID_OPERATIONS = [op for op in Operation if op not in (Operation.UNKNOWN, Operation.ANY, Operation.ALL)]


def acl(name: str = "foo", principal: str = ALICE, operation: Operation = READ, permission: Permission = ALLOW,
        host: str = "*", resource_type: ResourceType = TOPIC, pattern: PatternType = LITERAL) -> AclBinding:
    return AclBinding(resource_type, name, pattern, principal, host, operation, permission)


def closed(*acls: AclBinding, super_users: tuple[str, ...] = ()) -> Authorizer:
    """Kafka's own default: no ACL on a resource means no."""
    return Authorizer(super_users, allow_if_no_acl=False, acls=acls)


def test_topic_acls_by_principal_host_and_operation():
    """Kafka's testTopicAcl."""
    auth = closed(acl(host=HOST1), acl(host=HOST2), acl(host=HOST1, permission=DENY),
                  acl(host=HOST1, operation=WRITE), acl(operation=DESCRIBE),
                  acl(principal="User:rob"), acl(principal="User:batman", operation=WRITE))
    assert auth.authorize(ALICE, HOST2, READ, TOPIC, "foo")
    assert not auth.authorize(ALICE, HOST1, READ, TOPIC, "foo")  # the DENY from host1 wins
    assert auth.authorize(ALICE, HOST1, WRITE, TOPIC, "foo")
    assert not auth.authorize(ALICE, HOST2, WRITE, TOPIC, "foo")
    assert auth.authorize(ALICE, HOST1, DESCRIBE, TOPIC, "foo")
    assert not auth.authorize(ALICE, HOST1, Operation.ALTER, TOPIC, "foo")
    assert auth.authorize("User:rob", HOST1, DESCRIBE, TOPIC, "foo")  # implied by READ
    assert auth.authorize("User:batman", HOST1, DESCRIBE, TOPIC, "foo")  # implied by WRITE
    assert not auth.authorize("User:rob", HOST1, WRITE, TOPIC, "foo")


def test_deny_takes_precedence_over_an_allow_for_everyone():
    auth = closed(acl(principal="User:*", operation=ALL), acl(host=HOST1, operation=ALL, permission=DENY))
    assert not auth.authorize(ALICE, HOST1, READ, TOPIC, "foo")
    assert auth.authorize(ALICE, HOST2, READ, TOPIC, "foo")
    assert auth.authorize(BOB, HOST1, READ, TOPIC, "foo")


def test_super_users_pass_whatever_the_acls_say():
    auth = closed(acl(name="*", principal="User:*", operation=ALL, permission=DENY), super_users=("User:admin",))
    assert auth.authorize("User:admin", HOST1, READ, TOPIC, "foo")
    assert not auth.authorize(ALICE, HOST1, READ, TOPIC, "foo")


@pytest.mark.parametrize("allow_if_no_acl", [False, True])
def test_with_no_acl_on_a_resource_the_setting_decides(allow_if_no_acl):
    auth = Authorizer((), allow_if_no_acl, [acl(name="other")])
    assert auth.authorize(ALICE, HOST1, READ, TOPIC, "foo") is allow_if_no_acl
    assert auth.authorize(ALICE, HOST1, READ, GROUP, "foo") is allow_if_no_acl


def test_an_acl_for_someone_else_on_the_resource_means_no_even_when_everyone_is_allowed_without_acls():
    auth = Authorizer((), True, [acl(principal=BOB)])
    assert not auth.authorize(ALICE, HOST1, READ, TOPIC, "foo")
    assert auth.authorize(BOB, HOST1, READ, TOPIC, "foo")
    assert auth.authorize(ALICE, HOST1, READ, TOPIC, "bar")


def test_wildcard_resource_acls_apply_to_every_name():
    """Kafka's testWildCardAcls."""
    auth = closed(acl(name="*", host=HOST1))
    assert auth.authorize(ALICE, HOST1, READ, TOPIC, "foo")
    auth.add(acl(host=HOST1, operation=WRITE))
    assert auth.authorize(ALICE, HOST1, WRITE, TOPIC, "foo")
    auth.add(acl(name="*", host=HOST1, operation=WRITE, permission=DENY))
    assert not auth.authorize(ALICE, HOST1, WRITE, TOPIC, "foo")


def test_prefixed_acls_apply_to_names_they_start():
    """Kafka's testAuthorizeWithPrefixedResource and testSingleCharacterResourceAcls."""
    auth = closed(*(acl(name=n, pattern=p, permission=DENY) for n, p in [
        ("a_other", LITERAL), ("a_other", PREFIXED), ("foo-x", PREFIXED), ("fooo-", PREFIXED), ("fo-", PREFIXED),
        ("fon-", PREFIXED), ("z_other", PREFIXED)]), acl(name="foo", pattern=PREFIXED))
    assert auth.authorize(ALICE, HOST1, READ, TOPIC, "foo-bar")
    assert not auth.authorize(ALICE, HOST1, READ, TOPIC, "foo-xyz")
    auth = closed(acl(name="f"), acl(name="_", pattern=PREFIXED))
    assert auth.authorize(ALICE, HOST1, READ, TOPIC, "f")
    assert not auth.authorize(ALICE, HOST1, READ, TOPIC, "foo")
    assert auth.authorize(ALICE, HOST1, READ, TOPIC, "_foo")
    assert auth.authorize(ALICE, HOST1, READ, TOPIC, "_")
    assert not auth.authorize(ALICE, HOST1, READ, TOPIC, "foo_")


@pytest.mark.parametrize("granted, implied", [
    (ALL, set(VALID_OPERATIONS)),
    (READ, {DESCRIBE}), (WRITE, {DESCRIBE}), (Operation.DELETE, {DESCRIBE}), (Operation.ALTER, {DESCRIBE}),
    (Operation.ALTER_CONFIGS, {Operation.DESCRIBE_CONFIGS}), (DESCRIBE, set()), (Operation.CLUSTER_ACTION, set()),
])
def test_what_an_allow_implies(granted, implied):
    """Kafka's testAclInheritance: ALLOW of READ, WRITE, DELETE, ALTER implies DESCRIBE, and so on."""
    auth = closed(acl(name="kafka-cluster", resource_type=CLUSTER, operation=granted))
    for op in VALID_OPERATIONS:
        assert auth.authorize(ALICE, HOST1, op, CLUSTER, "kafka-cluster") is (op == granted or op in implied), op


@pytest.mark.parametrize("denied, implied", [(ALL, set(VALID_OPERATIONS)), (DESCRIBE, set()),
                                             (Operation.DESCRIBE_CONFIGS, set()), (READ, set())])
def test_a_deny_implies_nothing_but_itself(denied, implied):
    auth = closed(acl(name="kafka-cluster", resource_type=CLUSTER, operation=ALL),
                  acl(name="kafka-cluster", resource_type=CLUSTER, operation=denied, permission=DENY))
    for op in VALID_OPERATIONS:
        assert auth.authorize(ALICE, HOST1, op, CLUSTER, "kafka-cluster") is not (op == denied or op in implied), op


def test_the_wildcard_principal_matches_everyone_and_other_principals_do_not():
    auth = closed(acl(principal="User:*"), acl(principal="User:carol", operation=WRITE))
    assert auth.authorize(ALICE, HOST1, READ, TOPIC, "foo")
    assert not auth.authorize(ALICE, HOST1, WRITE, TOPIC, "foo")
    assert not auth.authorize("User:caro", HOST1, WRITE, TOPIC, "foo")


def test_authorized_operations_are_the_allowed_supported_ones_as_bits():
    auth = closed(acl(operation=WRITE), acl(name="foo", operation=Operation.ALTER_CONFIGS))
    assert auth.authorized_operations(ALICE, HOST1, TOPIC, "foo") == \
        (1 << WRITE) | (1 << DESCRIBE) | (1 << Operation.ALTER_CONFIGS) | (1 << Operation.DESCRIBE_CONFIGS)
    assert Authorizer((), True).authorized_operations(ALICE, HOST1, GROUP, "g") == 3400  # every group operation


def test_decisions_follow_changes_to_the_acls_and_the_cache_stays_bounded():
    auth = closed(acl())
    assert auth.authorize(ALICE, HOST1, READ, TOPIC, "foo")
    auth.add(acl(permission=DENY))
    assert not auth.authorize(ALICE, HOST1, READ, TOPIC, "foo")
    auth.remove(acl(permission=DENY))
    assert auth.authorize(ALICE, HOST1, READ, TOPIC, "foo")
    for i in range(MAX_CACHED_DECISIONS + 10):
        auth.authorize(ALICE, HOST1, READ, TOPIC, f"t{i}")
    assert len(auth._decisions) <= MAX_CACHED_DECISIONS


# ---------------------------------------------------------------------------------------------- by resource type


def test_by_resource_type_an_allow_anywhere_is_enough_unless_a_deny_takes_it_back():
    """Kafka's testAuthorizeByResourceTypeMultipleAddAndRemove and ...DenyTakesPrecedence."""
    auth = closed()
    assert not auth.authorize_any(ALICE, HOST1, WRITE, TOPIC)
    auth.add(acl(name="sb1", host=HOST1, operation=WRITE))
    assert auth.authorize_any(ALICE, HOST1, WRITE, TOPIC)
    auth.add(acl(name="sb1", host=HOST1, operation=WRITE, permission=DENY))
    assert not auth.authorize_any(ALICE, HOST1, WRITE, TOPIC)
    assert not auth.authorize_any(ALICE, HOST1, WRITE, GROUP)


def test_by_resource_type_a_shorter_prefixed_deny_dominates():
    """Kafka's testAuthorizeByResourceTypePrefixedResourceDenyDominate."""
    auth = closed()
    steps = [("abcde", ALLOW, True), ("abcd", DENY, False), ("abc", ALLOW, True), ("a", DENY, False),
             ("ab", ALLOW, False)]
    for name, permission, expected in steps:
        auth.add(acl(name=name, pattern=PREFIXED, resource_type=GROUP, host=HOST1, permission=permission))
        assert auth.authorize_any(ALICE, HOST1, READ, GROUP) is expected, name


def test_by_resource_type_a_wildcard_deny_dominates_everything():
    """Kafka's testAuthorizeByResourceTypeWildcardResourceDenyDominate."""
    auth = closed(acl(name="hello", pattern=PREFIXED, resource_type=GROUP, operation=WRITE))
    assert auth.authorize_any(ALICE, HOST1, WRITE, GROUP)
    auth.add(acl(name="*", resource_type=GROUP, operation=WRITE, permission=DENY))
    assert not auth.authorize_any(ALICE, HOST1, WRITE, GROUP)
    auth.add(acl(name="*", resource_type=GROUP, operation=WRITE))
    auth.add(acl(name="aloha", resource_type=GROUP, operation=WRITE))
    assert not auth.authorize_any(ALICE, HOST1, WRITE, GROUP)


def test_by_resource_type_all_operations_and_other_hosts_and_principals():
    """Kafka's ...WithAllOperationAce, ...WithAllHostAce, ...WithAllPrincipalAce."""
    auth = closed(acl(name="sb1", host=HOST1, operation=WRITE, permission=DENY), acl(name="sb1", host=HOST1, operation=ALL))
    assert auth.authorize_any(ALICE, HOST1, READ, TOPIC)
    auth.add(acl(name="sb1", host=HOST1, operation=ALL, permission=DENY))
    assert not auth.authorize_any(ALICE, HOST1, READ, TOPIC)
    auth = closed(acl(name="sb1", host=HOST1))
    assert auth.authorize_any(ALICE, HOST1, READ, TOPIC) and not auth.authorize_any(ALICE, HOST2, READ, TOPIC)
    auth.add(acl(name="sb2", principal="User:*", host=HOST2))
    assert auth.authorize_any(BOB, HOST2, READ, TOPIC)


def test_by_resource_type_super_users_and_an_open_broker_with_no_acls():
    """Kafka's ...SuperUserHasAccess and testAuthorizeByResourceTypeNoAclFoundOverride."""
    deny_all = acl(name="*", principal="User:*", operation=ALL, permission=DENY)
    assert closed(deny_all, super_users=("User:admin",)).authorize_any("User:admin", HOST1, WRITE, TOPIC)
    assert Authorizer((), True).authorize_any(ALICE, HOST1, WRITE, TOPIC)
    assert not Authorizer((), False).authorize_any(ALICE, HOST1, WRITE, TOPIC)


# ---------------------------------------------------------------------------------------------- filters, creation


def test_filters_match_as_kafkas_acl_binding_filters():
    """Kafka's testAclsFilter: exact patterns, ANY, and MATCH (every pattern that applies to a name)."""
    acl1, acl2 = acl(name="foo-1"), acl(name="foo-1", host="192.168.0.1", operation=WRITE)
    acl3, acl4 = acl(name="bar-1", operation=DESCRIBE), acl(name="bar-", pattern=PREFIXED, principal="User:*")
    auth = closed(acl1, acl2, acl3, acl4)
    assert set(auth.acls()) == {acl1, acl2, acl3, acl4}
    assert set(auth.acls(AclFilter(TOPIC, "foo-1", LITERAL))) == {acl1, acl2}
    assert set(auth.acls(AclFilter(TOPIC, "bar-", PREFIXED))) == {acl4}
    assert set(auth.acls(AclFilter(ResourceType.ANY, "bar-1", PatternType.MATCH))) == {acl3, acl4}
    assert set(auth.acls(AclFilter(TOPIC, "bar-1", PatternType.ANY))) == {acl3}
    assert set(auth.acls(AclFilter(host="192.168.0.1"))) == {acl2}
    assert set(auth.acls(AclFilter(principal="User:*", permission=ALLOW))) == {acl4}
    assert auth.acls(AclFilter(TOPIC, "baz", PatternType.ANY)) == []
    assert auth.acls(AclFilter(ResourceType.UNKNOWN)) == []


@pytest.mark.parametrize("binding, problem", [
    (acl(resource_type=CLUSTER, name="other"), "The only valid name for the CLUSTER resource is kafka-cluster"),
    (acl(name=""), "Invalid empty resource name"),
    (acl(resource_type=ResourceType.ANY), "Invalid resourceType ANY"),
    (acl(resource_type=ResourceType.UNKNOWN), "Invalid resourceType UNKNOWN"),
    (acl(pattern=PatternType.MATCH), "Invalid patternType MATCH"),
    (acl(operation=Operation.ANY), "Invalid operation ANY"),
    (acl(permission=Permission.ANY), "Invalid permissionType ANY"),
    (acl(principal="alice"), "Could not parse principal from `alice` (no colon is present separating the principal "
                             "type from the principal name)"),
    (acl(resource_type=CLUSTER, name="kafka-cluster", operation=ALL), None),
    (acl(name="*", principal="User:*", pattern=PREFIXED, permission=DENY), None),
])
def test_creation_is_refused_with_kafkas_messages(binding, problem):
    assert creation_problem(binding) == problem
