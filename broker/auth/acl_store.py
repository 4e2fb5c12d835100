"""The ACLs CreateAcls adds and DeleteAcls removes, kept in the hidden `__kafkette_acls` topic.

Each change is appended (key: the ACL's fields; value: empty, or null to remove it) before it is answered,
and the topic is replayed at start into the `Authorizer` that decides every request. Creation and deletion
follow Kafka's AclApis and AclControlManager: each creation is checked on its own (INVALID_REQUEST with
Kafka's message), one that exists already succeeds without a change, and a DeleteAcls filter answers the
ACLs it matched (an ACL matched by two filters is listed under both). At most MAX_CHANGES_PER_REQUEST ACLs
change per request, as Kafka's controller allows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import structlog

from kafkette.broker.auth.acl import AclBinding, AclFilter, creation_problem
from kafkette.broker.auth.authorizer import Authorizer
from kafkette.broker.internal_topic import InternalTopic, InternalTopicError
from kafkette.protocol import codec
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.internal import ACL_KEY, AclKey
from kafkette.protocol.records import NewRecord, iter_records

log = structlog.get_logger("kafkette.acls")
MAX_CHANGES_PER_REQUEST = 10_000  # Kafka's QuorumController.MAX_RECORDS_PER_USER_OP
PRESENT = b""  # the value of an ACL that exists (a null value removes it)


@dataclass(frozen=True)
class Outcome:
    """One creation's, or one deletion filter's, answer."""

    error: ErrorCode = ErrorCode.NONE
    message: str | None = None
    matched: list[AclBinding] = field(default_factory=list)


class AclStore:
    def __init__(self, topic: InternalTopic | None, authorizer: Authorizer) -> None:
        self.topic = topic
        self.authorizer = authorizer

    def load(self) -> None:
        """Replay the ACLs topic."""
        self.authorizer.clear()
        for _, batch in self.topic.replay() if self.topic is not None else ():
            for record in iter_records(batch):
                acl = _binding(codec.read_versioned(ACL_KEY, record.key or b""))
                if record.value is None:
                    self.authorizer.remove(acl)
                else:
                    self.authorizer.add(acl)
        log.info("ACLs loaded", acls=len(self.authorizer))

    def describe(self, acl_filter: AclFilter) -> list[AclBinding]:
        return self.authorizer.acls(acl_filter)

    def create(self, acls: list[AclBinding], now_ms: int) -> list[Outcome]:
        """Each ACL's outcome, in order; the valid new ones are stored in one batch, then take effect."""
        outcomes: list[Outcome] = []
        new: dict[AclBinding, None] = {}
        for acl in acls:
            problem = creation_problem(acl)
            if problem is not None:
                outcomes.append(Outcome(ErrorCode.INVALID_REQUEST, problem))
                continue
            if acl not in self.authorizer:
                new[acl] = None
            outcomes.append(Outcome())
        if len(new) > MAX_CHANGES_PER_REQUEST:
            return [Outcome(ErrorCode.POLICY_VIOLATION, "Unable to perform excessively large batch operation.")
                    if o.error == ErrorCode.NONE else o for o in outcomes]
        failed = self._store(list(new), removed=False, now_ms=now_ms)
        if failed is not None:
            return [failed if o.error == ErrorCode.NONE else o for o in outcomes]
        for acl in new:
            self.authorizer.add(acl)
            log.info("ACL created", acl=str(acl))
        return outcomes

    def delete(self, filters: list[AclFilter], now_ms: int) -> list[Outcome]:
        """Each filter's outcome with the ACLs it matched; every matched ACL is removed in one batch."""
        outcomes: list[Outcome] = []
        doomed: dict[AclBinding, None] = {}
        for acl_filter in filters:
            if acl_filter.unknown_pattern or acl_filter.unknown_entry:
                part = "patternFilter" if acl_filter.unknown_pattern else "entryFilter"
                outcomes.append(Outcome(ErrorCode.INVALID_REQUEST, f"Unknown {part}."))
                continue
            matched = self.authorizer.acls(acl_filter)
            doomed.update(dict.fromkeys(matched))
            if len(doomed) > MAX_CHANGES_PER_REQUEST:
                message = f"Cannot remove more than {MAX_CHANGES_PER_REQUEST} acls in a single delete operation."
                return [Outcome(ErrorCode.INVALID_REQUEST, message) for _ in filters]
            outcomes.append(Outcome(matched=matched))
        failed = self._store(list(doomed), removed=True, now_ms=now_ms)
        if failed is not None:
            return [failed if o.error == ErrorCode.NONE else o for o in outcomes]
        for acl in doomed:
            self.authorizer.remove(acl)
            log.info("ACL deleted", acl=str(acl))
        return outcomes

    def _store(self, acls: list[AclBinding], removed: bool, now_ms: int) -> Outcome | None:
        """Append the changes; None once stored, else the outcome every change gets."""
        if not acls:
            return None
        records = [NewRecord(_key(acl), None if removed else PRESENT) for acl in acls]
        try:
            if self.topic is None:
                raise InternalTopicError("(no ACLs topic)", ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
            self.topic.append(records, now_ms)
        except InternalTopicError as e:
            log.error("ACL change not stored", error=str(e))
            return Outcome(ErrorCode.UNKNOWN_SERVER_ERROR, f"the change could not be stored: {e}")
        return None


def _key(acl: AclBinding) -> bytes:
    return codec.write_versioned(ACL_KEY, 0, AclKey(
        resource_type=acl.resource_type, resource_name=acl.name, pattern_type=acl.pattern_type,
        principal=acl.principal, host=acl.host, operation=acl.operation, permission_type=acl.permission))


def _binding(key: AclKey) -> AclBinding:
    return AclBinding.of_codes(key.resource_type, key.resource_name, key.pattern_type, key.principal, key.host,
                               key.operation, key.permission_type)
