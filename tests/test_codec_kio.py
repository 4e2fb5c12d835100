"""Cross-check protocol.codec against kio, an independent codec generated from Kafka's JSON schemas.

For every API kafkette declares and every served version kio also has
(`kio.schema.<snake_api>.v<N>.request/response`):

* the declaration itself is compared with kio's generated entity, field by field
  (position, name, type, nullability, tag, default);
* the same message is encoded by both codecs and the bytes must be identical;
* kio decodes kafkette's bytes to the same values, and kafkette decodes kio's bytes.

kio encodes bodies only (no request/response header), as does `codec.write`.
kio has no entities for the internal `__consumer_offsets` / `__transaction_state`
records, so those are covered by tests/test_codec_fixtures.py instead.
"""

from __future__ import annotations

import dataclasses
import datetime
import importlib
import io
import re
import uuid

import pytest

from kio.schema.errors import ErrorCode
from kio.serial import entity_reader, entity_writer
from kio.serial._implicit_defaults import get_tagged_field_default
from kio.serial._introspect import (
    EntityField,
    EntityTupleField,
    classify_field,
    is_optional,
)
from kio.serial.readers import tz_aware_from_i64

from kafkette.protocol import codec
from kafkette.protocol.messages import ALL
from kafkette.protocol.schema import Api
from tests.test_codec_roundtrip import Populator, expected, plain

# kio renames a few Kafka types to richer Python ones; on the wire they are these.
_KIO_WIRE_TYPE = {"timedelta_i32": "int32", "timedelta_i64": "int64", "error_code": "int16",
                  "datetime_i64": "int64"}


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def kio_class(api: Api, version: int, kind: str):
    try:
        module = importlib.import_module(f"kio.schema.{snake(api.name)}.v{version}.{kind}")
    except ModuleNotFoundError:
        return None
    return getattr(module, f"{api.name}{kind.capitalize()}")


def kio_cases():
    for api in ALL:
        for version in range(api.versions[0], api.versions[1] + 1):
            for kind in ("request", "response"):
                if kio_class(api, version, kind) is not None:
                    yield pytest.param(api, version, kind, id=f"{api.name}-v{version}-{kind}")


KIO_CASES = list(kio_cases())


def _cls(api: Api, kind: str) -> type:
    return api.Request if kind == "request" else api.Response


def _pairs(kcls: type, kiocls: type, version: int):
    """kafkette fields present at `version` paired with kio's fields, in schema order."""
    ours = [fd for fd in kcls.FIELDS if fd.present(version)]
    theirs = list(dataclasses.fields(kiocls))
    assert [fd.name for fd in ours] == [_our_name(kf, fd) for kf, fd in zip(theirs, ours)] and len(ours) == len(
        theirs), f"{kcls.__name__} v{version}: {[fd.name for fd in ours]} vs kio {[kf.name for kf in theirs]}"
    return list(zip(ours, theirs))


def _our_name(kf: dataclasses.Field, fd) -> str:
    """kio drops the `_ms` of durations and timestamps (`throttle_time_ms` -> `throttle_time`)."""
    return fd.name if kf.name + "_ms" == fd.name else kf.name


# ---------------------------------------------------------------------------------------------- kafkette -> kio


def to_kio(msg, kcls: type, kiocls: type, version: int):
    kwargs = {}
    for fd, kf in _pairs(kcls, kiocls, version):
        value = getattr(msg, fd.name)
        if fd.is_struct:
            sub, kiosub = getattr(kcls, fd.element), classify_field(kf).type_
            if value is None and kf.metadata.get("tag") is not None:
                continue  # an omitted tagged struct: kio's default instance
            if value is None:
                kwargs[kf.name] = None
            elif fd.is_array:
                kwargs[kf.name] = tuple(to_kio(x, sub, kiosub, version) for x in value)
            else:
                kwargs[kf.name] = to_kio(value, sub, kiosub, version)
        elif fd.is_array:
            kwargs[kf.name] = None if value is None else tuple(_scalar_to_kio(x, kf, False) for x in value)
        else:
            kwargs[kf.name] = _scalar_to_kio(value, kf, is_optional(kf))
    return kiocls(**kwargs)


def _scalar_to_kio(value, kf: dataclasses.Field, optional: bool):
    kind = kf.metadata["kafka_type"]
    if value is None:
        return None
    if kind in ("timedelta_i32", "timedelta_i64"):
        return datetime.timedelta(milliseconds=value)
    if kind == "datetime_i64":
        return None if value == -1 and optional else tz_aware_from_i64(value)
    if kind == "error_code":
        return ErrorCode(value)
    if kind == "uuid":
        return uuid.UUID(bytes=bytes(value))
    if kind == "records":
        return bytes(value)
    return value


# ---------------------------------------------------------------------------------------------- kio -> comparable


def from_kio(obj, kcls: type, kiocls: type, version: int) -> dict:
    out = {}
    for fd, kf in _pairs(kcls, kiocls, version):
        value = getattr(obj, kf.name)
        if fd.is_struct:
            sub, kiosub = getattr(kcls, fd.element), classify_field(kf).type_
            if kf.metadata.get("tag") is not None and not fd.is_array and value == get_tagged_field_default(kf):
                out[fd.name] = None  # kafkette's "absent tagged struct"
            elif value is None:
                out[fd.name] = None
            elif fd.is_array:
                out[fd.name] = [from_kio(x, sub, kiosub, version) for x in value]
            else:
                out[fd.name] = from_kio(value, sub, kiosub, version)
        elif fd.is_array:
            out[fd.name] = None if value is None else [_scalar_from_kio(x, kf) for x in value]
        else:
            out[fd.name] = _scalar_from_kio(value, kf)
    return out


def _scalar_from_kio(value, kf: dataclasses.Field):
    kind = kf.metadata["kafka_type"]
    if kind in ("timedelta_i32", "timedelta_i64"):
        return round(value.total_seconds() * 1000)
    if kind == "datetime_i64":
        return -1 if value is None else round(value.timestamp() * 1000)
    if kind == "uuid":
        return bytes(16) if value is None else value.bytes
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (bytes, memoryview)):
        return bytes(value)
    return value


def present_view(plain_msg, kcls: type, version: int, flexible: bool) -> dict:
    """`expected(...)` restricted to the fields that exist at `version` (kio has only those)."""
    _, values = plain_msg
    out = {}
    for fd in kcls.FIELDS:
        if not fd.present(version):
            continue
        value = values[fd.name]
        if fd.is_struct and value is not None:
            sub = getattr(kcls, fd.element)
            if fd.is_array:
                value = [present_view(x, sub, version, flexible) for x in value]
            else:
                value = present_view(value, sub, version, flexible)
        out[fd.name] = value
    return out


def kio_encode(kiocls: type, obj) -> bytes:
    buf = io.BytesIO()
    entity_writer(kiocls)(buf, obj)
    return buf.getvalue()


def kio_decode(kiocls: type, data: bytes):
    obj, size = entity_reader(kiocls)(data, 0)
    assert size == len(data), f"kio consumed {size} of {len(data)} bytes"
    return obj


def _messages(cls: type, version: int):
    yield "populated", Populator(version).message(cls)
    yield "nulls", Populator(version, nulls=True).message(cls)
    yield "one-element arrays", Populator(version, array_len=1).message(cls)
    yield "defaults", cls()


# ---------------------------------------------------------------------------------------------- tests


def test_kio_covers_the_apis_it_should() -> None:
    """The cross-check is only worth something if it reaches the versions clients actually use."""
    covered = {(c.values[0].name, c.values[1], c.values[2]) for c in KIO_CASES}
    wanted = {
        "Produce": range(3, 11), "Fetch": range(4, 13), "Metadata": range(0, 13), "ListOffsets": range(1, 8),
        "ApiVersions": range(0, 4), "CreateTopics": range(2, 8), "InitProducerId": range(0, 5),
        "AddPartitionsToTxn": range(0, 4), "EndTxn": range(0, 4), "TxnOffsetCommit": range(0, 4),
        "OffsetCommit": range(2, 10), "OffsetFetch": range(1, 10), "JoinGroup": range(0, 10),
        "SyncGroup": range(0, 6), "Heartbeat": range(0, 5), "FindCoordinator": range(0, 5),
        "DescribeConfigs": range(1, 5),
    }
    missing = [(name, v, kind) for name, versions in wanted.items() for v in versions
               for kind in ("request", "response") if (name, v, kind) not in covered]
    assert not missing
    assert {c.values[0].name for c in KIO_CASES} == {api.name for api in ALL}
    assert len(KIO_CASES) >= 300


@pytest.mark.parametrize("api, version, kind", KIO_CASES)
def test_declaration_matches_kio(api: Api, version: int, kind: str) -> None:
    """Field order, names, wire types, nullability, tags and defaults agree with kio's generated entities."""
    kiocls = kio_class(api, version, kind)
    assert kiocls.__flexible__ == api.is_flexible(version)
    assert kiocls.__api_key__ == api.key

    def check(kcls, kio_entity, path):
        for fd, kf in _pairs(kcls, kio_entity, version):
            where = f"{path}.{fd.name}"
            tag = kf.metadata.get("tag")
            ours_tag = fd.tag if api.is_flexible(version) and fd.is_tagged(version) else None
            assert ours_tag == tag, f"{where}: tag {ours_tag} vs kio {tag}"
            field_class = classify_field(kf)
            assert fd.is_array == field_class.is_array, where
            if isinstance(field_class, (EntityField, EntityTupleField)):
                assert fd.is_struct, where
                check(getattr(kcls, fd.element), field_class.type_, where)
            else:
                kio_type = kf.metadata["kafka_type"]
                assert fd.element == _KIO_WIRE_TYPE.get(kio_type, kio_type), f"{where}: {fd.type} vs kio {kio_type}"
            # kio models null uuids and -1 timestamps as None; neither is a nullable field in Kafka's schema.
            if tag is None and kf.metadata.get("kafka_type") not in ("uuid", "datetime_i64"):
                assert fd.is_nullable(version) == is_optional(kf), f"{where}: nullable"
            if kf.default is not dataclasses.MISSING and not fd.is_struct:
                theirs = kf.default
                if isinstance(theirs, datetime.timedelta):
                    theirs = round(theirs.total_seconds() * 1000)
                elif isinstance(theirs, uuid.UUID):
                    theirs = theirs.bytes
                elif isinstance(theirs, tuple):
                    theirs = list(theirs)
                elif theirs is None and kf.metadata.get("kafka_type") == "datetime_i64":
                    theirs = -1
                assert fd.default_value() == theirs, f"{where}: default {fd.default_value()!r} vs kio {theirs!r}"

    check(_cls(api, kind), kiocls, f"{api.name}{kind.capitalize()}v{version}")


@pytest.mark.parametrize("api, version, kind", KIO_CASES)
def test_same_bytes_as_kio(api: Api, version: int, kind: str) -> None:
    """The same message, built in both libraries, encodes to identical bytes."""
    cls, kiocls = _cls(api, kind), kio_class(api, version, kind)
    flexible = api.is_flexible(version)
    for label, msg in _messages(cls, version):
        ours = codec.write(cls, version, flexible, msg).getvalue()
        theirs = kio_encode(kiocls, to_kio(msg, cls, kiocls, version))
        assert ours == theirs, f"{label}: kafkette and kio bytes differ"


@pytest.mark.parametrize("api, version, kind", KIO_CASES)
def test_kio_decodes_our_bytes(api: Api, version: int, kind: str) -> None:
    cls, kiocls = _cls(api, kind), kio_class(api, version, kind)
    flexible = api.is_flexible(version)
    for label, msg in _messages(cls, version):
        data = codec.write(cls, version, flexible, msg).getvalue()
        got = from_kio(kio_decode(kiocls, data), cls, kiocls, version)
        assert got == present_view(expected(msg, version, flexible), cls, version, flexible), label


@pytest.mark.parametrize("api, version, kind", KIO_CASES)
def test_we_decode_kio_bytes(api: Api, version: int, kind: str) -> None:
    cls, kiocls = _cls(api, kind), kio_class(api, version, kind)
    flexible = api.is_flexible(version)
    for label, msg in _messages(cls, version):
        data = kio_encode(kiocls, to_kio(msg, cls, kiocls, version))
        back, end = codec.read(cls, version, flexible, data, 0)
        assert end == len(data), label
        assert plain(back) == expected(msg, version, flexible), label


# ---------------------------------------------------------------------------------------------- targeted


def test_fetch_v12_response_with_tagged_structs_matches_kio() -> None:
    """Non-default DivergingEpoch / CurrentLeader / SnapshotId are written by both, in tag order."""
    from kafkette.protocol.messages.fetch import FETCH
    from kio.schema.fetch.v12.response import FetchResponse

    R = FETCH.Response
    msg = R(responses=[R.FetchableTopicResponse(topic="t", partitions=[R.PartitionData(
        partition_index=1, records=b"x",
        snapshot_id=R.SnapshotId(end_offset=5, epoch=2),
        current_leader=R.LeaderIdAndEpoch(leader_id=3, leader_epoch=4))])])
    data = codec.write(R, 12, True, msg).getvalue()
    assert data == kio_encode(FetchResponse, to_kio(msg, R, FetchResponse, 12))
    back = kio_decode(FetchResponse, data)
    part = back.responses[0].partitions[0]
    assert (part.snapshot_id.end_offset, part.snapshot_id.epoch) == (5, 2)
    assert (part.current_leader.leader_id, part.current_leader.leader_epoch) == (3, 4)


def test_default_valued_tagged_struct_is_omitted_like_kafka() -> None:
    """Kafka's generator writes a tagged struct only if it differs from a default instance
    (FieldSpec.generateNonDefaultValueCheck: `if (!this.currentLeader.equals(new LeaderIdAndEpoch()))`),
    and kio does the same. A struct holding only default values must therefore not be written."""
    from kafkette.protocol.messages.fetch import FETCH
    from kio.schema.fetch.v12.response import FetchResponse

    R = FETCH.Response
    msg = R(responses=[R.FetchableTopicResponse(topic="t", partitions=[R.PartitionData(
        partition_index=1, records=None, current_leader=R.LeaderIdAndEpoch())])])
    without = R(responses=[R.FetchableTopicResponse(topic="t", partitions=[R.PartitionData(
        partition_index=1, records=None)])])
    kio_bytes = kio_encode(FetchResponse, to_kio(without, R, FetchResponse, 12))
    assert codec.write(R, 12, True, msg).getvalue() == kio_bytes


def test_kio_request_header_v2_client_id_matches_framing() -> None:
    """kio's RequestHeader v2 (ClientId as an int16 string + tags) is what encode_request writes."""
    from kio.schema.request_header.v2.header import RequestHeader as KioHeader
    from kafkette.protocol.framing import RequestHeader, encode_request
    from kafkette.protocol.messages.api_versions import API_VERSIONS
    from kio.schema.api_versions.v3.request import ApiVersionsRequest

    body = API_VERSIONS.Request(client_software_name="kafkette-tests", client_software_version="0.1")
    header = kio_encode(KioHeader, KioHeader(request_api_key=18, request_api_version=3, correlation_id=9,
                                             client_id="cli"))
    kio_body = kio_encode(ApiVersionsRequest, ApiVersionsRequest(client_software_name="kafkette-tests",
                                                                  client_software_version="0.1"))
    ours = encode_request(RequestHeader(18, 3, 9, "cli"), body)
    assert ours[4:] == header + kio_body
    assert int.from_bytes(ours[:4], "big", signed=True) == len(header + kio_body)
