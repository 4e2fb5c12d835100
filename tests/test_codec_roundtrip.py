"""Round trips through protocol.codec for every API, every served version, both directions.

A generic populator walks `cls.FIELDS` recursively and fills every field with a
distinct non-default value, so a swapped, dropped or mis-versioned field shows
up as a difference after write + read. The same helpers are imported by
tests/test_codec_kio.py.
"""

from __future__ import annotations

import pytest

from kafkette.protocol import codec
from kafkette.protocol import primitives as p
from kafkette.protocol.messages import ALL
from kafkette.protocol.messages import internal
from kafkette.protocol.schema import Api, Data, Field, f

# ---------------------------------------------------------------------------------------------- helpers

# Distinct values per integer type: each one needs more than one byte where the type allows it, and
# the unsigned types use values that would be negative if read as signed.
_INT_BASE = {
    "int8": 1,
    "int16": 300,
    "uint16": 40000,
    "int32": 70000,
    "uint32": 3_000_000_000,
    "int64": 2**33,
}
_INT_SPAN = {"int8": 100, "int16": 20000, "uint16": 20000, "int32": 10**9, "uint32": 10**9, "int64": 2**40}
# Error codes must be real Kafka codes for kio (which decodes them into an enum).
_ERROR_CODES = [1, 2, 3, 5, 6, 7, 9, 10, 14, 15, 16, 17, 22, 25, 27, 29, 30, 35, 36, 41, 42, 47, 48, 51]


class Populator:
    """Builds message instances whose every field holds a distinct, non-default value.

    `nulls=True` sets every field that is nullable at `version` to None instead.
    `records` overrides the blob used for `records` fields (e.g. a large one, or a list of chunks).
    """

    def __init__(self, version: int, *, nulls: bool = False, records=None, array_len: int = 2) -> None:
        self.version = version
        self.nulls = nulls
        self.records = records
        self.array_len = array_len
        self.n = 0

    def _next(self) -> int:
        self.n += 1
        return self.n

    def message(self, cls: type):
        return cls(**{fd.name: self.value(cls, fd) for fd in cls.FIELDS})

    def value(self, owner: type, fd: Field):
        if self.nulls and fd.is_nullable(self.version):
            return None
        if fd.is_array:
            return [self.single(owner, fd) for _ in range(self.array_len)]
        return self.single(owner, fd)

    def single(self, owner: type, fd: Field):
        t = fd.element
        n = self._next()
        if fd.is_struct:
            return self.message(getattr(owner, t))
        default = fd.default_value()
        if t in _INT_BASE:
            if t == "int16" and fd.name.endswith("error_code"):
                value = _ERROR_CODES[n % len(_ERROR_CODES)]
            else:
                value = _INT_BASE[t] + n % _INT_SPAN[t]
            return value if value != default else value + 1
        if t == "bool":
            return not default
        if t == "float64":
            return 1.5 + n
        if t == "uuid":
            return bytes((n + i) % 256 for i in range(16))
        if t == "string":
            return f"abc{n}\u00e9"  # one multi-byte character: byte length != str length
        if t == "bytes":
            return b"\x01\x02" + bytes([n % 256])
        if t == "records":
            return self.records if self.records is not None else b"\x00REC" + bytes([n % 256]) * 7
        raise AssertionError(f"no populator for type {t!r}")


def plain(value):
    """A comparable structure: messages become (class name, {field: value}), records become bytes."""
    if isinstance(value, (memoryview, bytearray)):
        return bytes(value)
    if isinstance(value, list):
        return [plain(x) for x in value]
    if hasattr(value, "FIELDS"):
        return (type(value).__name__, {fd.name: plain(getattr(value, fd.name)) for fd in value.FIELDS})
    return value


def expected(msg, version: int, flexible: bool):
    """What decoding `msg` written at `version` must give: absent fields take their defaults."""
    cls = type(msg)
    out = {}
    for fd in cls.FIELDS:
        value = getattr(msg, fd.name)
        if not fd.present(version):
            out[fd.name] = plain(fd.default_value())
            continue
        if fd.is_struct:
            sub = getattr(cls, fd.element)
            if value is None and not fd.is_array and not fd.is_nullable(version) and not (
                    flexible and fd.is_tagged(version)):
                value = sub()  # a missing required struct is written as its defaults
            if isinstance(value, list):
                out[fd.name] = [expected(x, version, flexible) for x in value]
            elif value is None:
                out[fd.name] = None
            else:
                out[fd.name] = expected(value, version, flexible)
        elif isinstance(value, list) and fd.element == "records":
            out[fd.name] = b"".join(bytes(c) for c in value)
        else:
            out[fd.name] = plain(value)
    return (cls.__name__, out)


def encode(cls: type, version: int, flexible: bool, msg) -> bytes:
    return codec.write(cls, version, flexible, msg).getvalue()


def decode_all(cls: type, version: int, flexible: bool, data: bytes):
    """Decode and check that exactly every byte was consumed."""
    msg, end = codec.read(cls, version, flexible, data, 0)
    assert end == len(data), f"decoded {end} of {len(data)} bytes"
    return msg


def api_cases():
    for api in ALL:
        for version in range(api.versions[0], api.versions[1] + 1):
            for kind in ("request", "response"):
                yield pytest.param(api, version, kind, id=f"{api.name}-v{version}-{kind}")


def data_cases():
    for name in sorted(vars(internal)):
        d = getattr(internal, name)
        if isinstance(d, Data):
            for version in range(d.versions[0], d.versions[1] + 1):
                yield pytest.param(d, version, id=f"{d.name}-v{version}")


def _cls(api: Api, kind: str) -> type:
    return api.Request if kind == "request" else api.Response


def _count_fields(cls: type, version: int) -> int:
    total = 0
    for fd in cls.FIELDS:
        if fd.present(version):
            total += 1
            if fd.is_struct:
                total += _count_fields(getattr(cls, fd.element), version)
    return total


# ---------------------------------------------------------------------------------------------- every API


@pytest.mark.parametrize("api, version, kind", list(api_cases()))
def test_roundtrip_populated(api: Api, version: int, kind: str) -> None:
    cls = _cls(api, kind)
    flexible = api.is_flexible(version)
    msg = Populator(version).message(cls)
    data = encode(cls, version, flexible, msg)
    back = decode_all(cls, version, flexible, data)
    assert type(back) is cls
    assert plain(back) == expected(msg, version, flexible)
    # Encoding what was decoded gives the same bytes again.
    assert encode(cls, version, flexible, back) == data


@pytest.mark.parametrize("api, version, kind", list(api_cases()))
def test_roundtrip_nulls(api: Api, version: int, kind: str) -> None:
    """Every field nullable at this version set to None comes back None; the rest survive."""
    cls = _cls(api, kind)
    flexible = api.is_flexible(version)
    msg = Populator(version, nulls=True).message(cls)
    data = encode(cls, version, flexible, msg)
    back = decode_all(cls, version, flexible, data)
    assert plain(back) == expected(msg, version, flexible)


@pytest.mark.parametrize("api, version, kind", list(api_cases()))
def test_roundtrip_defaults_and_empty_arrays(api: Api, version: int, kind: str) -> None:
    """A message built with no arguments round-trips (empty arrays, default scalars, omitted tags)."""
    cls = _cls(api, kind)
    flexible = api.is_flexible(version)
    msg = cls()
    data = encode(cls, version, flexible, msg)
    back = decode_all(cls, version, flexible, data)
    assert plain(back) == expected(msg, version, flexible)
    assert plain(back) == plain(cls())


@pytest.mark.parametrize("api, version, kind", list(api_cases()))
def test_absent_fields_decode_to_defaults(api: Api, version: int, kind: str) -> None:
    """Fields that do not exist at `version` are not written, and read back as their declared defaults."""
    cls = _cls(api, kind)
    flexible = api.is_flexible(version)
    msg = Populator(version).message(cls)
    back = decode_all(cls, version, flexible, encode(cls, version, flexible, msg))

    def check(original, decoded, owner):
        for fd in owner.FIELDS:
            got = getattr(decoded, fd.name)
            if not fd.present(version):
                assert got == fd.default_value(), f"{owner.__name__}.{fd.name} absent at v{version}: {got!r}"
            elif fd.is_struct and got is not None:
                sub = getattr(owner, fd.element)
                pairs = zip(getattr(original, fd.name), got) if fd.is_array else [(getattr(original, fd.name), got)]
                for o, d in pairs:
                    check(o, d, sub)

    check(msg, back, cls)


@pytest.mark.parametrize("api, version, kind", list(api_cases()))
def test_decode_at_offset_and_from_memoryview(api: Api, version: int, kind: str) -> None:
    """Readers honour `pos` and accept a memoryview, returning the position just past the message."""
    cls = _cls(api, kind)
    flexible = api.is_flexible(version)
    msg = Populator(version).message(cls)
    data = encode(cls, version, flexible, msg)
    framed = b"\xaa\xbb\xcc" + data + b"\xdd\xee"
    back, end = codec.read(cls, version, flexible, memoryview(framed), 3)
    assert end == 3 + len(data)
    assert plain(back) == expected(msg, version, flexible)


@pytest.mark.parametrize("api, version, kind", list(api_cases()))
def test_truncated_body_raises_decode_error(api: Api, version: int, kind: str) -> None:
    """Every strict prefix of a valid body fails with DecodeError (or decodes to fewer bytes), nothing else."""
    cls = _cls(api, kind)
    flexible = api.is_flexible(version)
    data = encode(cls, version, flexible, Populator(version, array_len=1).message(cls))
    for cut in range(len(data)):
        try:
            _, end = codec.read(cls, version, flexible, data[:cut], 0)
        except p.DecodeError:
            continue
        # A prefix can only decode if the message ends before the cut, which it cannot: it was longer.
        pytest.fail(f"prefix of {cut}/{len(data)} bytes decoded (end={end}) instead of raising DecodeError")


def test_every_api_and_version_is_covered() -> None:
    cases = list(api_cases())
    assert len(cases) == 2 * sum(a.versions[1] - a.versions[0] + 1 for a in ALL)
    assert len({a.key for a in ALL}) == len(ALL)


def test_populator_fills_every_present_field_with_a_non_default() -> None:
    """Guards the populator itself: a round trip of defaults would prove nothing."""
    total = 0
    for api in ALL:
        for version in range(api.versions[0], api.versions[1] + 1):
            for cls in (api.Request, api.Response):
                msg = Populator(version).message(cls)

                def walk(obj, owner):
                    for fd in owner.FIELDS:
                        value = getattr(obj, fd.name)
                        assert value is not None and value != fd.default_value(), (owner.__name__, fd.name)
                        if fd.is_struct:
                            for item in value if fd.is_array else [value]:
                                walk(item, getattr(owner, fd.element))

                walk(msg, cls)
                total += _count_fields(cls, version)
    assert total > 2000  # fields (at any depth) summed over every API, version and direction


# ---------------------------------------------------------------------------------------------- records


@pytest.mark.parametrize("version", [3, 8, 9, 10])
def test_large_records_are_written_as_separate_chunks(version: int) -> None:
    """Records above the inline limit are not copied into the small-field buffer but kept as chunks."""
    from kafkette.protocol.messages.produce import PRODUCE

    cls = PRODUCE.Request
    flexible = PRODUCE.is_flexible(version)
    blob = bytes(range(256)) * ((codec.INLINE_RECORDS_LIMIT // 256) + 3)
    msg = Populator(version, records=blob).message(cls)
    w = codec.write(cls, version, flexible, msg)
    chunks = w.chunks()
    assert sum(1 for c in chunks if c is blob) == 4  # 2 topics x 2 partitions, the same object each time
    data = b"".join(bytes(c) for c in chunks)
    assert w.getvalue() == data
    back = decode_all(cls, version, flexible, data)
    assert plain(back) == expected(msg, version, flexible)
    for topic in back.topic_data:
        for part in topic.partition_data:
            assert isinstance(part.records, memoryview)
            assert part.records == blob


@pytest.mark.parametrize("version", [4, 11, 12])
def test_records_given_as_a_list_of_chunks(version: int) -> None:
    """A records value may be a list of buffers (small and large); it is written as their concatenation."""
    from kafkette.protocol.messages.fetch import FETCH

    cls = FETCH.Response
    flexible = FETCH.is_flexible(version)
    big = b"\x07" * (codec.INLINE_RECORDS_LIMIT + 1)
    pieces = [b"abc", memoryview(big), bytearray(b"xyz")]
    msg = Populator(version, records=pieces).message(cls)
    data = encode(cls, version, flexible, msg)
    back = decode_all(cls, version, flexible, data)
    assert plain(back) == expected(msg, version, flexible)
    assert bytes(back.responses[0].partitions[0].records) == b"abc" + big + b"xyz"


@pytest.mark.parametrize("version", [4, 12])
def test_empty_records_are_not_null(version: int) -> None:
    from kafkette.protocol.messages.fetch import FETCH

    R = FETCH.Response
    flexible = FETCH.is_flexible(version)
    msg = R(responses=[R.FetchableTopicResponse(topic="t", partitions=[R.PartitionData(records=b""),
                                                                        R.PartitionData(records=None)])])
    back = decode_all(R, version, flexible, encode(R, version, flexible, msg))
    first, second = back.responses[0].partitions
    assert first.records is not None and bytes(first.records) == b""
    assert second.records is None


# ---------------------------------------------------------------------------------------------- internal records


@pytest.mark.parametrize("data_decl, version", list(data_cases()))
def test_internal_record_roundtrip(data_decl: Data, version: int) -> None:
    cls = data_decl.Record
    flexible = data_decl.is_flexible(version)
    for populator in (Populator(version), Populator(version, nulls=True)):
        msg = populator.message(cls)
        data = encode(cls, version, flexible, msg)
        back = decode_all(cls, version, flexible, data)
        assert plain(back) == expected(msg, version, flexible)
    assert plain(decode_all(cls, version, flexible, encode(cls, version, flexible, cls()))) == plain(cls())


def test_internal_declarations_are_all_exercised() -> None:
    names = {p.values[0].name for p in data_cases()}
    assert names == {"TransactionLogKey", "TransactionLogValue", "OffsetCommitKey", "OffsetCommitValue",
                     "GroupMetadataKey", "GroupMetadataValue", "ScramCredentialKey", "ScramCredentialValue", "AclKey",
                     "BrokerConfigKey", "BrokerConfigValue"}


# ---------------------------------------------------------------------------------------------- synthetic declarations
# Shapes the real declarations do not (yet) use, but the codec claims to support.

SYNTH = Api(
    key=9999,
    name="Synth",
    versions=(0, 3),
    flexible=2,
    request=[
        f("u16", "uint16"),
        f("u32", "uint32"),
        f("f64", "float64"),
        f("i8", "int8", default=-1),
        f("flag", "bool", default=True),
        f("blob", "bytes", null="1+"),
        f("maybe", "Inner", v="1+", null="1+", fields=[
            f("a", "int32"),
            f("s", "string", null="0+", default=None),
        ]),
        f("required", "Required", fields=[f("x", "int64", default=-1)]),
        f("tagged_bytes", "bytes", v="2+", tag=5, default=b""),
        f("tagged_list", "[]int32", v="2+", tag=1),
        f("tagged_struct", "Tagged", v="2+", tag=3, fields=[f("y", "int16")]),
        f("tagged_nullable_struct", "TaggedN", v="2+", null="2+", tag=4, fields=[f("z", "string")]),
        f("late", "string", v="3+", null="3+", default=None),
        f("strings", "[]string", null="2+"),
    ],
    response=[],
)


@pytest.mark.parametrize("version", range(0, 4))
def test_synthetic_roundtrip(version: int) -> None:
    cls = SYNTH.Request
    flexible = SYNTH.is_flexible(version)
    for populator in (Populator(version), Populator(version, nulls=True), Populator(version, array_len=0)):
        msg = populator.message(cls)
        data = encode(cls, version, flexible, msg)
        back = decode_all(cls, version, flexible, data)
        assert plain(back) == expected(msg, version, flexible)


def test_synthetic_nullable_struct_markers() -> None:
    """KIP-893 nullable structs: int8 -1 for null, 1 followed by the struct otherwise."""
    R = SYNTH.Request
    msg = R(u16=65535, u32=4294967295, f64=-0.25, blob=None, maybe=None, required=None, strings=["a"])
    data = encode(R, 1, False, msg)
    # uint16, uint32, float64, int8, bool, bytes(null), Inner(null), Required(x=-1), [string]
    assert data == (b"\xff\xff" + b"\xff\xff\xff\xff" + b"\xbf\xd0\x00\x00\x00\x00\x00\x00" + b"\xff" + b"\x01"
                    + b"\xff\xff\xff\xff" + b"\xff" + b"\xff" * 8 + b"\x00\x00\x00\x01\x00\x01a")
    back = decode_all(R, 1, False, data)
    assert back.maybe is None and back.required == R.Required(x=-1)
    assert back.u16 == 65535 and back.u32 == 4294967295 and back.f64 == -0.25

    msg.maybe = R.Inner(a=7, s=None)
    data = encode(R, 1, False, msg)
    assert b"\xff\x01\x00\x00\x00\x07\xff\xff" in data
    assert decode_all(R, 1, False, data).maybe == R.Inner(a=7, s=None)


def test_synthetic_tags_written_in_tag_order_only_when_not_default() -> None:
    R = SYNTH.Request
    empty = encode(R, 2, True, R(required=R.Required()))
    assert empty.endswith(b"\x00")  # no tagged field written
    msg = R(tagged_bytes=b"\x09", tagged_list=[1], tagged_struct=R.Tagged(y=2),
            tagged_nullable_struct=R.TaggedN(z="q"))
    data = encode(R, 2, True, msg)
    tags = (b"\x04"
            + b"\x01\x05\x02\x00\x00\x00\x01"  # tag 1: compact array of one int32
            + b"\x03\x03\x00\x02\x00"  # tag 3: int16 then the struct's empty tag buffer
            + b"\x04\x04\x01\x02q\x00"  # tag 4: not-null marker, compact string, empty tag buffer
            + b"\x05\x02\x02\x09")  # tag 5: compact bytes
    assert data.endswith(tags)
    back = decode_all(R, 2, True, data)
    assert back.tagged_bytes == b"\x09" and back.tagged_list == [1]
    assert back.tagged_struct == R.Tagged(y=2) and back.tagged_nullable_struct == R.TaggedN(z="q")
