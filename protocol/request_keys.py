"""What a request names (transactional ids, group ids, topics, partitions), read from the declarations alone.

Fault rules (`broker.faults`) match on these, and answer with an error built from them
(`protocol.error_response`). As `protocol.response_error` does, nothing here knows an API;
a field's role comes from its declared name and type:

- a string field named `transactional_id` (or ending so, as AddPartitionsToTxn's
  `v3_and_below_transactional_id`), or a []string `transactional_ids`: transactional ids;
- a string `group_id`, or a []string `group_ids`, `groups` or `groups_names`: group ids;
- a string `key` or []string `coordinator_keys` beside a `key_type` (FindCoordinator): a group
  id if that is 0, a transactional id if 1;
- a struct array with "topic" in its name whose elements carry a string `name` or `topic`: topics,
  with their partitions from the element's array with "partition" in its name, either indexes
  ([]int32) or structs whose int32 `index`, `partition_index` or `partition` is one;
- a []string with "topic" in its name: topics named without partitions.
Other structs are searched for the same fields at any depth. Topics given only by id are not named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from kafkette.protocol.model import Message
from kafkette.protocol.schema import Field

TOPIC_NAME_FIELDS = ("name", "topic")
PARTITION_INDEX_FIELDS = ("index", "partition_index", "partition")
GROUP_FIELDS = ("group_id", "group_ids", "groups", "groups_names")
COORDINATOR_KEY_FIELDS = ("key", "coordinator_keys")
COORDINATOR_KEY_TYPES = {0: "group_ids", 1: "transactional_ids"}  # FindCoordinator's key_type


@dataclass
class RequestKeys:
    transactional_ids: list[str] = field(default_factory=list)
    group_ids: list[str] = field(default_factory=list)
    topics: dict[str, list[int]] = field(default_factory=dict)  # topic -> its partitions named (maybe none)

    def partitions(self) -> list[tuple[str, int | None]]:
        """Every (topic, partition) named; (topic, None) for a topic named without partitions."""
        return [(topic, p) for topic, parts in self.topics.items() for p in (parts or (None,))]


def request_keys(request: Message, version: int) -> RequestKeys:
    keys = RequestKeys()
    _collect(request, version, keys)
    return keys


def select_partitions(request: Message, version: int, keep: Callable[[str, int], bool]) -> Message:
    """A copy of `request` naming only the partitions `keep` accepts; topics left with none are left out.

    Topics named without partitions are kept; the request itself is not changed.
    """
    changes: dict[str, Any] = {}
    for fd in present_fields(type(request), version):
        value = getattr(request, fd.name)
        if not fd.is_struct or value is None:
            continue
        if is_topic_collection(fd):
            changes[fd.name] = [t for t in (_select_topic(item, fd, version, keep) for item in value) if t is not None]
        elif fd.is_array:
            changes[fd.name] = [select_partitions(item, version, keep) for item in value]
        else:
            changes[fd.name] = select_partitions(value, version, keep)
    return copy_message(request, changes)


# ------------------------------------------------------------------------------------------ declarations


def present_fields(cls: type, version: int) -> list[Field]:
    return [fd for fd in getattr(cls, "FIELDS", ()) if fd.present(version)]


def topic_name_field(fields: tuple[Field, ...] | list[Field]) -> str | None:
    return next((fd.name for fd in fields if fd.name in TOPIC_NAME_FIELDS and fd.type == "string"), None)


def partition_index_field(fields: tuple[Field, ...] | list[Field]) -> str | None:
    return next((fd.name for fd in fields if fd.name in PARTITION_INDEX_FIELDS and fd.type == "int32"), None)


def is_topic_collection(fd: Field) -> bool:
    """A struct array of topics: "topic" in its name, its elements named by `name` or `topic`."""
    return fd.is_array and fd.is_struct and "topic" in fd.name and topic_name_field(fd.fields) is not None


def partitions_field(topic_fields: tuple[Field, ...]) -> Field | None:
    """The array of a topic element that lists its partitions: []int32, or structs with a partition index."""
    for fd in topic_fields:
        if fd.is_array and "partition" in fd.name and (
                fd.type == "[]int32" or (fd.is_struct and partition_index_field(fd.fields) is not None)):
            return fd
    return None


def copy_message(message: Message, changes: dict[str, Any]) -> Message:
    cls = type(message)
    return cls(**{fd.name: changes[fd.name] if fd.name in changes else getattr(message, fd.name)
                  for fd in cls.FIELDS})


# ------------------------------------------------------------------------------------------ walking a request


def _collect(message: Message, version: int, keys: RequestKeys) -> None:
    key_type = getattr(message, "key_type", None)
    for fd in present_fields(type(message), version):
        value = getattr(message, fd.name)
        if value is None or value == "":
            continue
        if fd.is_struct:
            items = value if fd.is_array else [value]
            for item in items:
                if is_topic_collection(fd):
                    _collect_topic(item, fd, version, keys)
                else:
                    _collect(item, version, keys)
            continue
        target = _string_role(fd, key_type)
        if target == "topics":
            for name in value:
                keys.topics.setdefault(name, [])
        elif target is not None:
            found: list[str] = getattr(keys, target)
            found.extend(v for v in (value if fd.is_array else [value]) if v and v not in found)


def _string_role(fd: Field, key_type: int | None) -> str | None:
    """The RequestKeys list a string or []string field feeds, if any."""
    if fd.element != "string":
        return None
    name = fd.name
    if name.endswith("transactional_id") or name == "transactional_ids":
        return "transactional_ids"
    if name in GROUP_FIELDS:
        return "group_ids"
    if name in COORDINATOR_KEY_FIELDS and key_type is not None:
        return COORDINATOR_KEY_TYPES.get(key_type)
    if fd.is_array and "topic" in name:
        return "topics"
    return None


def _collect_topic(item: Message, fd: Field, version: int, keys: RequestKeys) -> None:
    name = getattr(item, topic_name_field(fd.fields) or "name")
    if not name:
        return  # a topic given by id alone
    partitions = keys.topics.setdefault(name, [])
    pf = partitions_field(fd.fields)
    if pf is None or not pf.present(version):
        return
    for p in _indexes(getattr(item, pf.name) or [], pf):
        if p not in partitions:
            partitions.append(p)


def _indexes(values: list, pf: Field) -> list[int]:
    if not pf.is_struct:
        return list(values)
    index = partition_index_field(pf.fields)
    assert index is not None  # partitions_field chose pf for having one
    return [getattr(v, index) for v in values]


def _select_topic(item: Message, fd: Field, version: int, keep: Callable[[str, int], bool]) -> Message | None:
    name = getattr(item, topic_name_field(fd.fields) or "name")
    pf = partitions_field(fd.fields)
    if pf is None or not pf.present(version) or not name or not getattr(item, pf.name):
        return item
    values = getattr(item, pf.name)
    kept = [v for v, p in zip(values, _indexes(values, pf)) if keep(name, p)]
    return copy_message(item, {pf.name: kept}) if kept else None
