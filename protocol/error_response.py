"""A response answering a request with one error code, built from the request and the declarations alone.

Kafka writes this by hand for each API (`AbstractRequest.getErrorResponse`); here it is done
once for all, as `protocol.response_error` reads errors: every struct's first error code field
carries the error, and the arrays of a response are filled from what the request names
(`protocol.request_keys`), by the role of their elements:

- a partition (an int32 `index`, `partition_index` or `partition`): each partition the request names
  for the enclosing topic;
- a topic (a string `name` or `topic`, with an error code or partitions): each topic the request names;
- a group (`group_id`), a transaction (`transactional_id`) or a coordinator key (`key`): each one named.
Every other field keeps its declared default; arrays of anything else are left empty (a Metadata
answered with an error lists no brokers, a LeaveGroup no members), as in Kafka's error responses.
"""

from __future__ import annotations

from typing import NamedTuple

from kafkette.protocol.model import Message
from kafkette.protocol.request_keys import (
    RequestKeys,
    is_topic_collection,
    partition_index_field,
    partitions_field,
    present_fields,
    request_keys,
    topic_name_field,
)
from kafkette.protocol.response_error import is_error_field
from kafkette.protocol.schema import Api, Field

PARTITION, TOPIC, GROUP, TRANSACTION, KEY = "partition", "topic", "group", "transaction", "key"
_NAMED_BY = ((GROUP, "group_id"), (TRANSACTION, "transactional_id"), (KEY, "key"))


class Role(NamedTuple):
    kind: str
    field: str  # the element's field holding its identity (topic name, partition index, group id...)


def error_response(api: Api, version: int, request: Message, error: int, partitions_only: bool = False) -> Message:
    """`api`'s response to `request` with `error` everywhere; with `partitions_only`, on its partitions only."""
    return _build(api.Response, version, request_keys(request, version), error, partitions_only, None, None, None)


def answers_partitions(api: Api) -> bool:
    """Whether `api`'s requests name partitions and its responses give each its own error code (in any version)."""

    def named(fields: tuple[Field, ...] | list[Field]) -> bool:
        return any((is_topic_collection(fd) and partitions_field(fd.fields) is not None) or
                   (fd.is_struct and named(fd.fields)) for fd in fields)

    def answered(fields: tuple[Field, ...] | list[Field]) -> bool:
        return any(fd.is_struct and ((partition_index_field(fd.fields) is not None and
                                      any(map(is_error_field, fd.fields))) or answered(fd.fields)) for fd in fields)

    return named(api.request) and answered(api.response)


def merge_response(base: Message, extra: Message, version: int) -> Message:
    """`base` (changed in place) with the topics, partitions, groups... of `extra` added where it lacks them."""
    for fd in present_fields(type(base), version):
        if not (fd.is_struct and fd.is_array):
            continue
        role = element_role(getattr(type(base), fd.element), version)
        if role is None:
            continue
        items = getattr(base, fd.name)
        if items is None:
            items = []
            setattr(base, fd.name, items)
        for item in getattr(extra, fd.name) or ():
            same = None if role.kind == PARTITION else next(
                (b for b in items if getattr(b, role.field) == getattr(item, role.field)), None)
            if same is None:
                items.append(item)
            else:
                merge_response(same, item, version)
    return base


def element_role(cls: type, version: int) -> Role | None:
    """What the elements of a response array stand for, from their fields."""
    fields = present_fields(cls, version)
    index = partition_index_field(fields)
    if index is not None:
        return Role(PARTITION, index)
    name = topic_name_field(fields)
    if name is not None and any(is_error_field(fd) or (fd.is_struct and fd.is_array and partition_index_field(
            [f for f in fd.fields if f.present(version)]) is not None) for fd in fields):
        return Role(TOPIC, name)
    for kind, field in _NAMED_BY:
        if any(fd.name == field and fd.type == "string" for fd in fields):
            return Role(kind, field)
    return None


def _build(cls: type, version: int, keys: RequestKeys, error: int, partitions_only: bool,
           role: Role | None, identity: object, topic: str | None) -> Message:
    message: Message = cls()
    fields = present_fields(cls, version)
    if role is not None:
        setattr(message, role.field, identity)
        if role.kind == TOPIC:
            topic = str(identity)
    error_field = next((fd for fd in fields if is_error_field(fd)), None)
    if error_field is not None and (not partitions_only or (role is not None and role.kind == PARTITION)):
        setattr(message, error_field.name, error)
    for fd in fields:
        if fd.is_struct and fd.is_array:
            element = getattr(cls, fd.element)
            inner = element_role(element, version)
            setattr(message, fd.name, [_build(element, version, keys, error, partitions_only, inner, value, topic)
                                       for value in _named(inner, keys, topic)])
    return message


def _named(role: Role | None, keys: RequestKeys, topic: str | None) -> list:
    """What the request names that an array of `role` elements answers for."""
    if role is None:
        return []
    if role.kind == PARTITION:
        return keys.topics.get(topic, []) if topic is not None else []
    if role.kind == TOPIC:
        return list(keys.topics)
    if role.kind == GROUP:
        return keys.group_ids
    if role.kind == TRANSACTION:
        return keys.transactional_ids
    return keys.group_ids + keys.transactional_ids  # KEY: FindCoordinator's keys are of one type
