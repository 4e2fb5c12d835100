"""Kafka's StandardAuthorizer decisions over a set of ACL bindings; no I/O.

`authorize(principal, host, operation, resource_type, name)` answers as StandardAuthorizerData.authorize:
- a super user (Kafka's super.users) may do anything;
- the ACLs that apply are those of the resource type whose LITERAL name is the name or `*`, or whose PREFIXED
  name starts it; of those, the ones for the principal (or `User:*`) and host (or `*`) and operation decide;
- any DENY among them wins; else any ALLOW allows;
- an ALLOW of READ, WRITE, DELETE or ALTER also allows DESCRIBE, an ALLOW of ALTER_CONFIGS also allows
  DESCRIBE_CONFIGS, and ALL is every operation (a DENY implies nothing: it denies its own operation);
- with no ACL on the resource at all (whoever it names), `allow_if_no_acl` decides (Kafka's
  allow.everyone.if.no.acl.found); with ACLs on it but none that applies, the answer is no.

`authorize_any` is Kafka's Authorizer.authorizeByResourceType (KIP-679's "WRITE on any topic"), and
`authorized_operations` the bitfield of the authorized-operations fields. Decisions are cached until the
ACLs change.
"""

from __future__ import annotations

from typing import Iterable

from kafkette.broker.auth.acl import (
    SUPPORTED_OPERATIONS,
    WILDCARD,
    WILDCARD_PRINCIPAL,
    AclBinding,
    AclFilter,
    Operation,
    PatternType,
    Permission,
    ResourceType,
)

IMPLIES_DESCRIBE = frozenset({Operation.DESCRIBE, Operation.READ, Operation.WRITE, Operation.DELETE, Operation.ALTER})
IMPLIES_DESCRIBE_CONFIGS = frozenset({Operation.DESCRIBE_CONFIGS, Operation.ALTER_CONFIGS})
MAX_CACHED_DECISIONS = 10_000  # the decision cache is emptied when it reaches this many


class _Section:
    """The ACLs of one resource type, by LITERAL name and by PREFIXED name."""

    def __init__(self) -> None:
        self.literal: dict[str, list[AclBinding]] = {}
        self.prefixed: dict[str, list[AclBinding]] = {}

    def applying_to(self, name: str) -> list[list[AclBinding]]:
        """The ACLs whose pattern applies to `name`, in groups."""
        found = [acls for prefix, acls in self.prefixed.items() if name.startswith(prefix)]
        for key in (name, WILDCARD) if name != WILDCARD else (name,):
            acls = self.literal.get(key)
            if acls is not None:
                found.append(acls)
        return found


class Authorizer:
    def __init__(self, super_users: Iterable[str] = (), allow_if_no_acl: bool = True,
                 acls: Iterable[AclBinding] = ()) -> None:
        self.super_users = frozenset(super_users)
        self.allow_if_no_acl = allow_if_no_acl
        self._acls: set[AclBinding] = set(acls)
        self._sections: dict[ResourceType, _Section] | None = None  # built when first needed after a change
        self._decisions: dict[tuple[str, str, Operation, ResourceType, str], bool] = {}

    # ------------------------------------------------------------------ the ACLs

    def add(self, acl: AclBinding) -> bool:
        """Add an ACL; False if it was there already."""
        if acl in self._acls:
            return False
        self._acls.add(acl)
        self._changed()
        return True

    def remove(self, acl: AclBinding) -> bool:
        """Remove an ACL; False if it was not there."""
        if acl not in self._acls:
            return False
        self._acls.discard(acl)
        self._changed()
        return True

    def clear(self) -> None:
        self._acls.clear()
        self._changed()

    def __contains__(self, acl: AclBinding) -> bool:
        return acl in self._acls

    def __len__(self) -> int:
        return len(self._acls)

    def acls(self, acl_filter: AclFilter = AclFilter()) -> list[AclBinding]:
        """The ACLs the filter matches, in a stable order."""
        return sorted(acl for acl in self._acls if acl_filter.matches(acl))

    def _changed(self) -> None:
        self._sections = None
        self._decisions.clear()

    def _section(self, resource_type: ResourceType) -> _Section | None:
        if self._sections is None:
            sections: dict[ResourceType, _Section] = {}
            for acl in self._acls:
                section = sections.setdefault(acl.resource_type, _Section())
                names = section.literal if acl.pattern_type == PatternType.LITERAL else section.prefixed
                names.setdefault(acl.name, []).append(acl)
            self._sections = sections
        return self._sections.get(resource_type)

    # ------------------------------------------------------------------ decisions

    def authorize(self, principal: str, host: str, operation: Operation, resource_type: ResourceType,
                  name: str) -> bool:
        key = (principal, host, operation, resource_type, name)
        decided = self._decisions.get(key)
        if decided is None:
            decided = self._decide(principal, host, operation, resource_type, name)
            if len(self._decisions) >= MAX_CACHED_DECISIONS:
                self._decisions.clear()
            self._decisions[key] = decided
        return decided

    def _decide(self, principal: str, host: str, operation: Operation, resource_type: ResourceType,
                name: str) -> bool:
        if principal in self.super_users:
            return True
        section = self._section(resource_type)
        groups = section.applying_to(name) if section is not None else []
        if not groups:
            return self.allow_if_no_acl
        allowed = False
        for acls in groups:
            for acl in acls:
                verdict = _verdict(acl, principal, host, operation)
                if verdict is False:
                    return False
                allowed = allowed or verdict is True
        return allowed

    def authorized_operations(self, principal: str, host: str, resource_type: ResourceType, name: str) -> int:
        """The operations allowed on the resource, of those its type supports, as bits 1 << operation."""
        return sum(1 << op for op in SUPPORTED_OPERATIONS[resource_type]
                   if self.authorize(principal, host, op, resource_type, name))

    def authorize_any(self, principal: str, host: str, operation: Operation, resource_type: ResourceType) -> bool:
        """Whether some resource of the type allows the operation, as Kafka's Authorizer.authorizeByResourceType:
        an ALLOW (of the operation itself, or ALL) that no DENY of the same or a shorter name takes back."""
        if self.authorize(principal, host, operation, resource_type, "hardcode"):  # super users, no ACLs at all
            return True
        deny_literal: set[str] = set()
        deny_prefixed: set[str] = set()
        allows: list[AclBinding] = []
        wildcard_allowed = False
        for acl in self._acls:
            if (acl.resource_type != resource_type or acl.host not in (host, WILDCARD)
                    or acl.principal not in (principal, WILDCARD_PRINCIPAL)
                    or acl.operation not in (operation, Operation.ALL)):
                continue
            if acl.permission == Permission.DENY:
                if acl.pattern_type == PatternType.LITERAL:
                    if acl.name == WILDCARD:
                        return False
                    deny_literal.add(acl.name)
                else:
                    deny_prefixed.add(acl.name)
            elif acl.permission == Permission.ALLOW:
                if acl.pattern_type == PatternType.LITERAL and acl.name == WILDCARD:
                    wildcard_allowed = True
                else:
                    allows.append(acl)
        if wildcard_allowed:
            return True
        for acl in allows:
            if acl.pattern_type == PatternType.LITERAL and acl.name in deny_literal:
                continue
            if not any(acl.name[:i] in deny_prefixed for i in range(1, len(acl.name) + 1)):
                return True
        return False


def _verdict(acl: AclBinding, principal: str, host: str, operation: Operation) -> bool | None:
    """True if the ACL allows the operation, False if it denies it, None if it does not apply
    (Kafka's StandardAuthorizerData.findResult)."""
    if acl.principal != principal and acl.principal != WILDCARD_PRINCIPAL:
        return None
    if acl.host != WILDCARD and acl.host != host:
        return None
    if acl.operation != Operation.ALL:
        allow = acl.permission == Permission.ALLOW
        if allow and operation == Operation.DESCRIBE:
            applies = acl.operation in IMPLIES_DESCRIBE
        elif allow and operation == Operation.DESCRIBE_CONFIGS:
            applies = acl.operation in IMPLIES_DESCRIBE_CONFIGS
        else:
            applies = acl.operation == operation
        if not applies:
            return None
    return acl.permission == Permission.ALLOW
