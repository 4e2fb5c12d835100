"""Message classes made from declarations: plain objects with slots and keyword constructors.

`make_class('ProduceRequest', fields)` returns a class whose nested structs, at
any depth, are attributes of it (`ProduceRequest.PartitionProduceData`), so a
handler builds a response as `R = FETCH.Response; R(responses=[R.FetchableTopicResponse(...)])`.
Each declaration module also exports its classes by name (`FetchResponse`), and its stub
(`messages/fetch.pyi`) types them, so `R = FetchResponse` can annotate (`-> R.PartitionData`) too.
"""

from __future__ import annotations

from typing import Any, TypeAlias

from kafkette.protocol.schema import Field

_MISSING: Any = object()

RecordChunk: TypeAlias = bytes | bytearray | memoryview
# A `records` field: the codec reads a memoryview into the request; a writer takes one chunk or a
# list of chunks (a Fetch answer's batches, passed on to `writelines` uncopied).
Records: TypeAlias = RecordChunk | list[RecordChunk]


class Message:
    """Base of every declared struct: equality and repr over the declared fields."""

    __slots__ = ()
    FIELDS: tuple[Field, ...] = ()

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, fd.name) == getattr(other, fd.name) for fd in self.FIELDS)

    def __repr__(self) -> str:
        inner = ", ".join(f"{fd.name}={getattr(self, fd.name)!r}" for fd in self.FIELDS)
        return f"{type(self).__name__}({inner})"


def _init_source(fields: tuple[Field, ...]) -> str:
    params, body = [], []
    for i, fd in enumerate(fields):
        params.append(f"{fd.name}=_M")
        body.append(f"    self.{fd.name} = _D[{i}].default_value() if {fd.name} is _M else {fd.name}")
    if not fields:
        return "def __init__(self):\n    pass\n"
    return f"def __init__(self, *, {', '.join(params)}):\n" + "\n".join(body) + "\n"


def make_class(name: str, fields: list[Field] | tuple[Field, ...],
               _seen: dict[str, type[Message]] | None = None) -> type[Message]:
    """Build the class for a struct and, as its attributes, the classes of its nested structs."""
    seen = {} if _seen is None else _seen
    fields = tuple(fields)
    namespace: dict[str, Any] = {}
    exec(_init_source(fields), {"_M": _MISSING, "_D": fields}, namespace)
    cls = type(name, (Message,), {"__slots__": tuple(fd.name for fd in fields), "FIELDS": fields,
                                  "__init__": namespace["__init__"]})
    for fd in fields:
        if fd.is_struct:
            sub = seen.get(fd.element)
            if sub is None:
                sub = seen[fd.element] = make_class(fd.element, fd.fields, seen)
            setattr(cls, fd.element, sub)
    if _seen is None:
        for sub_name, sub in seen.items():
            setattr(cls, sub_name, sub)
    return cls
