"""The small language messages are declared in: fields with types and versions.

A declaration is data. `protocol.codec` compiles it, per version, into a reader
and a writer; nothing here encodes or decodes bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from kafkette.protocol.model import Message

INFINITE = 1 << 30

FIXED_TYPES = {
    "bool": "?",
    "int8": "b",
    "int16": "h",
    "uint16": "H",
    "int32": "i",
    "uint32": "I",
    "int64": "q",
    "float64": "d",
    "uuid": "16s",
}
ZERO_UUID = bytes(16)
_TYPE_DEFAULTS: dict[str, Any] = {
    "bool": False,
    "float64": 0.0,
    "uuid": ZERO_UUID,
    "string": "",
    "bytes": b"",
    "records": None,
}


@dataclass(frozen=True)
class VersionRange:
    low: int
    high: int

    def __contains__(self, version: int) -> bool:
        return self.low <= version <= self.high

    @classmethod
    def parse(cls, text: str | None) -> VersionRange | None:
        """'3+', '2-5', '7' or None (no versions)."""
        if text is None or text == "none":
            return None
        if text.endswith("+"):
            return cls(int(text[:-1]), INFINITE)
        low, _, high = text.partition("-")
        return cls(int(low), int(high or low))


NO_VERSIONS = VersionRange(1, 0)


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # a primitive, '[]primitive', 'StructName' or '[]StructName'
    versions: VersionRange
    nullable: VersionRange
    tag: int | None
    tagged: VersionRange
    default: Any
    fields: tuple[Field, ...] = ()

    @property
    def is_array(self) -> bool:
        return self.type.startswith("[]")

    @property
    def element(self) -> str:
        return self.type[2:] if self.is_array else self.type

    @property
    def is_struct(self) -> bool:
        return bool(self.fields)

    def present(self, version: int) -> bool:
        return version in self.versions

    def is_tagged(self, version: int) -> bool:
        return self.tag is not None and version in self.tagged

    def is_nullable(self, version: int) -> bool:
        return version in self.nullable

    def default_value(self) -> Any:
        """A fresh default (lists are never shared between messages)."""
        if self.default is not _UNSET:
            return self.default
        if self.is_array:
            return []
        if self.is_struct:
            return None
        return _TYPE_DEFAULTS.get(self.type, 0)


_UNSET: Any = object()


def f(
    name: str,
    type: str,
    *,
    v: str = "0+",
    null: str | None = None,
    tag: int | None = None,
    tagged: str | None = None,
    default: Any = _UNSET,
    fields: list[Field] | None = None,
) -> Field:
    """Declare one field; `v` are the versions it exists in, `null` the versions it may be null in."""
    versions = VersionRange.parse(v)
    assert versions is not None
    tagged_range = VersionRange.parse(tagged) if tagged else (versions if tag is not None else NO_VERSIONS)
    return Field(
        name=name,
        type=type,
        versions=versions,
        nullable=VersionRange.parse(null) or NO_VERSIONS,
        tag=tag,
        tagged=tagged_range or NO_VERSIONS,
        default=default,
        fields=tuple(fields or ()),
    )


RequestT = TypeVar("RequestT", bound="Message")
ResponseT = TypeVar("ResponseT", bound="Message")
RecordT = TypeVar("RecordT", bound="Message")


@dataclass(frozen=True)
class Api(Generic[RequestT, ResponseT]):
    """One Kafka API: key, the versions kafkette serves, and its request and response fields.

    `Request` and `Response` are the classes made from the fields; the stub next to each
    declaration module (`messages/<api>.pyi`) tells a type checker which classes they are.
    """

    key: int
    name: str
    versions: tuple[int, int]
    flexible: int | None  # first flexible version, or None
    request: list[Field] = dc_field(default_factory=list, repr=False)
    response: list[Field] = dc_field(default_factory=list, repr=False)
    Request: type[RequestT] = dc_field(init=False, repr=False, compare=False)
    Response: type[ResponseT] = dc_field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        from kafkette.protocol.model import make_class

        object.__setattr__(self, "Request", make_class(f"{self.name}Request", self.request))
        object.__setattr__(self, "Response", make_class(f"{self.name}Response", self.response))

    def is_flexible(self, version: int) -> bool:
        return self.flexible is not None and version >= self.flexible

    def serves(self, version: int) -> bool:
        return self.versions[0] <= version <= self.versions[1]


@dataclass(frozen=True)
class Data(Generic[RecordT]):
    """A versioned record layout that is not a request or response (internal topic keys and values)."""

    name: str
    versions: tuple[int, int]
    flexible: int | None
    fields: list[Field] = dc_field(default_factory=list)
    Record: type[RecordT] = dc_field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        from kafkette.protocol.model import make_class

        object.__setattr__(self, "Record", make_class(self.name, self.fields))

    def is_flexible(self, version: int) -> bool:
        return self.flexible is not None and version >= self.flexible
