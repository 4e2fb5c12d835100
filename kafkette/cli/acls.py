"""`kafkette acls`: add, list, remove ACLs, as kafka-acls.sh does (CreateAcls, DescribeAcls, DeleteAcls).

The flags are kafka-acls.sh's: principals with --allow-principal/--deny-principal (and their --allow-host/
--deny-host, default every host), --operation (default All), resources with --topic, --group,
--transactional-id and --cluster, and --resource-pattern-type (LITERAL by default; PREFIXED to add; ANY
or MATCH to list or remove). `list` with no resource lists every ACL; `remove` with no principal removes
every ACL of the resources named. --producer and --consumer add what a producer or a consumer needs.
"""

from __future__ import annotations

import argparse
from typing import Any, Iterable

from kafkette.broker.auth.acl import (
    CLUSTER_NAME,
    WILDCARD,
    AclBinding,
    AclFilter,
    Operation,
    PatternType,
    Permission,
    ResourceType,
)
from kafkette.cli.common import EXIT_USAGE, CommandError, Output, connect
from kafkette.cluster import check
from kafkette.protocol.messages import CREATE_ACLS, DELETE_ACLS, DESCRIBE_ACLS

ACL_COLUMNS = [("resource_type", "ResourceType"), ("name", "Name"), ("pattern_type", "PatternType"),
               ("principal", "Principal"), ("host", "Host"), ("operation", "Operation"), ("permission", "Permission")]
# kafka-acls.sh's operation names (Read, IdempotentWrite, ...), matched without case, "-" or "_"
OPERATIONS = {op.name.replace("_", "").lower(): op for op in Operation if op not in (Operation.UNKNOWN, Operation.ANY)}
PATTERN_TYPES = {p.name.lower(): p for p in PatternType if p != PatternType.UNKNOWN}


def add(args: argparse.Namespace, out: Output) -> None:
    acls = _bindings(args)
    if not acls:
        raise CommandError("nothing to add: give --allow-principal or --deny-principal PRINCIPAL, and a resource "
                           "(--topic, --group, --transactional-id, --cluster), or --producer/--consumer", EXIT_USAGE)
    R = CREATE_ACLS.Request
    with connect(args) as cluster:
        answer = cluster.request(CREATE_ACLS, R(creations=[R.AclCreation(
            resource_type=a.resource_type, resource_name=a.name, resource_pattern_type=a.pattern_type,
            principal=a.principal, host=a.host, operation=a.operation, permission_type=a.permission) for a in acls]))
    for acl, result in zip(acls, answer.results):
        check(result.error_code, f"adding {acl}", result.error_message)
    out.rows(ACL_COLUMNS, [_row(a) for a in acls], title="Added")


def list_acls(args: argparse.Namespace, out: Output) -> None:
    R = DESCRIBE_ACLS.Request
    found: list[AclBinding] = []
    with connect(args) as cluster:
        for f in _filters(args, listing=True):
            answer = cluster.request(DESCRIBE_ACLS, R(
                resource_type_filter=f.resource_type, resource_name_filter=f.name, pattern_type_filter=f.pattern_type,
                principal_filter=f.principal, host_filter=f.host, operation=f.operation, permission_type=f.permission))
            check(answer.error_code, "listing ACLs", answer.error_message)
            found += [AclBinding.of_codes(r.resource_type, r.resource_name, r.pattern_type, a.principal, a.host,
                                          a.operation, a.permission_type) for r in answer.resources for a in r.acls]
    out.rows(ACL_COLUMNS, [_row(a) for a in sorted(set(found))], empty="no ACL")


def remove(args: argparse.Namespace, out: Output) -> None:
    filters = _filters(args, listing=False)
    R = DELETE_ACLS.Request
    with connect(args) as cluster:
        answer = cluster.request(DELETE_ACLS, R(filters=[R.DeleteAclsFilter(
            resource_type_filter=f.resource_type, resource_name_filter=f.name, pattern_type_filter=f.pattern_type,
            principal_filter=f.principal, host_filter=f.host, operation=f.operation, permission_type=f.permission)
            for f in filters]))
    removed: set[AclBinding] = set()
    for result in answer.filter_results:
        check(result.error_code, "removing ACLs", result.error_message)
        for a in result.matching_acls:
            check(a.error_code, "removing an ACL", a.error_message)
            removed.add(AclBinding.of_codes(a.resource_type, a.resource_name, a.pattern_type, a.principal, a.host,
                                            a.operation, a.permission_type))
    out.rows(ACL_COLUMNS, [_row(a) for a in sorted(removed)], title="Removed", empty="no ACL matched")


# --------------------------------------------------------------------------------------------- from the flags


def _resources(args: argparse.Namespace) -> list[tuple[ResourceType, str]]:
    return ([(ResourceType.TOPIC, t) for t in args.topic] + [(ResourceType.GROUP, g) for g in args.group]
            + [(ResourceType.TRANSACTIONAL_ID, t) for t in args.transactional_id]
            + ([(ResourceType.CLUSTER, CLUSTER_NAME)] if args.cluster else []))


def _principals(args: argparse.Namespace) -> list[tuple[Permission, str, list[str]]]:
    """(permission, principal, hosts) of every principal named."""
    for principal in args.allow_principal + args.deny_principal:
        if ":" not in principal:
            raise CommandError(f"principal {principal!r}: expected TYPE:NAME, such as User:alice", EXIT_USAGE)
    return ([(Permission.ALLOW, p, args.allow_host or [WILDCARD]) for p in args.allow_principal]
            + [(Permission.DENY, p, args.deny_host or [WILDCARD]) for p in args.deny_principal])


def _operations(args: argparse.Namespace, default: Operation) -> list[Operation]:
    operations: list[Operation] = []
    for name in args.operation:
        op = OPERATIONS.get(name.replace("-", "").replace("_", "").lower())
        if op is None:
            raise CommandError(f"unknown operation {name!r}: one of {', '.join(_names(OPERATIONS.values()))}",
                               EXIT_USAGE)
        operations.append(op)
    return operations or [default]


def _pattern_type(args: argparse.Namespace, allowed: tuple[PatternType, ...]) -> PatternType:
    pattern = PATTERN_TYPES.get(args.resource_pattern_type.lower())
    if pattern not in allowed:
        raise CommandError(f"--resource-pattern-type {args.resource_pattern_type}: here one of "
                           f"{', '.join(p.name for p in allowed)}", EXIT_USAGE)
    return pattern


def _bindings(args: argparse.Namespace) -> list[AclBinding]:
    """The ACLs `add` creates: each principal and host, each operation, on each resource (and what --producer
    or --consumer implies: kafka-acls.sh's convenience options)."""
    pattern = _pattern_type(args, (PatternType.LITERAL, PatternType.PREFIXED))
    wanted: list[tuple[ResourceType, str, Operation]] = [
        (kind, name, op) for kind, name in _resources(args) for op in _operations(args, Operation.ALL)
        if not (args.producer or args.consumer)]
    if args.producer:
        wanted += [(ResourceType.TOPIC, t, op) for t in args.topic
                   for op in (Operation.WRITE, Operation.DESCRIBE, Operation.CREATE)]
        wanted += [(ResourceType.TRANSACTIONAL_ID, t, op) for t in args.transactional_id
                   for op in (Operation.WRITE, Operation.DESCRIBE)]
        if args.idempotent:
            wanted.append((ResourceType.CLUSTER, CLUSTER_NAME, Operation.IDEMPOTENT_WRITE))
    if args.consumer:
        wanted += [(ResourceType.TOPIC, t, op) for t in args.topic for op in (Operation.READ, Operation.DESCRIBE)]
        wanted += [(ResourceType.GROUP, g, Operation.READ) for g in args.group]
    return list(dict.fromkeys(
        AclBinding(kind, name, PatternType.LITERAL if kind == ResourceType.CLUSTER else pattern, principal, host, op,
                   permission)
        for permission, principal, hosts in _principals(args) for host in hosts for kind, name, op in wanted))


def _filters(args: argparse.Namespace, listing: bool) -> list[AclFilter]:
    """What `list` or `remove` matches on each resource named (on every resource, for `list` without one): for
    `list`, the --principal ones; for `remove`, the ACLs `add` would make of the same flags; else every ACL."""
    pattern = _pattern_type(args, tuple(p for p in PatternType if p != PatternType.UNKNOWN))
    resources: list[tuple[ResourceType, str | None]] = list(_resources(args))
    if not resources:
        if not listing:
            raise CommandError("name what to remove ACLs from: --topic, --group, --transactional-id or --cluster",
                               EXIT_USAGE)
        resources, pattern = [(ResourceType.ANY, None)], PatternType.ANY
    entries: list[tuple[Permission, str | None, str | None, Operation]]
    if listing:
        entries = [(Permission.ANY, principal, None, Operation.ANY) for principal in args.principal]
    else:
        entries = [(permission, principal, host, op) for permission, principal, hosts in _principals(args)
                   for host in hosts for op in _operations(args, Operation.ALL)]
    return [AclFilter(kind, name, pattern, principal, host, op, permission)
            for kind, name in resources
            for permission, principal, host, op in entries or [(Permission.ANY, None, None, Operation.ANY)]]


def _row(acl: AclBinding) -> dict[str, Any]:
    return {"resource_type": acl.resource_type.name, "name": acl.name, "pattern_type": acl.pattern_type.name,
            "principal": acl.principal, "host": acl.host, "operation": acl.operation.name,
            "permission": acl.permission.name}


def _names(operations: Iterable[Operation]) -> list[str]:
    return ["".join(word.capitalize() for word in op.name.split("_")) for op in operations]
