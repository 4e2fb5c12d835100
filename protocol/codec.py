"""The generic codec: compiles a declaration, per version, into a specialised reader and writer.

Compilation happens on first use of a (struct, version) pair: the declaration
is turned into Python source (consecutive fixed-size fields share one
`struct` call) and `exec`-ed once, as Kafka generates Java from its JSON.

Readers work on `bytes`/`memoryview` and return message objects; `records`
fields come back as memoryviews into the input, never copied. Writers append
to a `Writer`: small fields go into a bytearray, large records are kept as
separate chunks, so a Fetch response is written with `writelines` and its
record bytes are never copied through Python objects.
"""

from __future__ import annotations

import struct
from typing import Any, Callable, TypeVar

from kafkette.protocol import primitives as p
from kafkette.protocol.model import Message
from kafkette.protocol.schema import FIXED_TYPES, Data, Field

INLINE_RECORDS_LIMIT = 4096


class Writer:
    """Collects encoded bytes: a bytearray for small fields and separate chunks for large records."""

    __slots__ = ("buf", "parts")

    def __init__(self) -> None:
        self.buf = bytearray()
        self.parts: list[Any] = []

    def add_chunk(self, chunk: Any) -> None:
        self.parts.append(self.buf)
        self.parts.append(chunk)
        self.buf = bytearray()

    def chunks(self) -> list[Any]:
        """Everything written, as a list for `transport.writelines`."""
        if self.buf:
            self.parts.append(self.buf)
            self.buf = bytearray()
        return self.parts

    def getvalue(self) -> bytes:
        return b"".join(self.chunks())


def _write_records(w: Writer, records: Any, flexible: bool) -> None:
    if records is None:
        w.buf += b"\x00" if flexible else b"\xff\xff\xff\xff"
        return
    chunks = records if isinstance(records, list) else [records]
    size = sum(len(c) for c in chunks)
    w.buf += p.uvarint(size + 1) if flexible else p.pack_i32(size)
    for chunk in chunks:
        if len(chunk) <= INLINE_RECORDS_LIMIT:
            w.buf += chunk
        else:
            w.add_chunk(chunk)


def _read_tagged(buf, pos: int, obj: Any, table: dict[int, tuple[str, Callable]]) -> int:
    count, pos = p.read_uvarint(buf, pos)
    for _ in range(count):
        tag, pos = p.read_uvarint(buf, pos)
        size, pos = p.read_uvarint(buf, pos)
        end = pos + size
        if end > len(buf):
            raise p.DecodeError("tagged field runs past the end")
        known = table.get(tag)
        if known is not None:
            setattr(obj, known[0], known[1](buf, pos)[0])
        pos = end
    return pos


def _tag_buffer(tags: list[tuple[int, bytes]]) -> bytes:
    out = bytearray(p.uvarint(len(tags)))
    for tag, data in sorted(tags):
        out += p.uvarint(tag) + p.uvarint(len(data)) + data
    return bytes(out)


def _is_immutable(value: Any) -> bool:
    return value is None or isinstance(value, (int, float, str, bytes, bool))


class _Compiler:
    """Generates the source of the reader and writer functions of one struct tree at one version."""

    def __init__(self, version: int, flexible: bool) -> None:
        self.version = version
        self.flexible = flexible
        self.env: dict[str, Any] = {
            "_new": object.__new__, "_rtags": _read_tagged, "_tagbuf": _tag_buffer, "_wrec": _write_records,
            "_Writer": Writer, "_P": p, "_DE": p.DecodeError,
        }
        self.source: list[str] = []
        self.tag_tables: list[dict[int, tuple[str, str]]] = []  # reader names, resolved by build()
        self.count = 0
        self.done: dict[int, tuple[str, str]] = {}

    def name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def const(self, value: Any) -> str:
        key = self.name("_c")
        self.env[key] = value
        return key

    def fixed(self, types: list[str]) -> str:
        fmt = ">" + "".join(FIXED_TYPES[t] for t in types)
        s = struct.Struct(fmt)
        key = self.name("_s")
        self.env[key] = s
        return key

    # ------------------------------------------------------------------ struct level

    def struct(self, cls: type, fields: tuple[Field, ...]) -> tuple[str, str]:
        """Names of the reader and writer of `cls` at this version."""
        if id(cls) in self.done:
            return self.done[id(cls)]
        names = (self.name("r"), self.name("w"))
        self.done[id(cls)] = names
        self.env[f"C_{names[0]}"] = cls
        self._reader(names[0], cls, fields)
        self._writer(names[1], cls, fields)
        return names

    def _plain_fields(self, fields: tuple[Field, ...]) -> list[Field]:
        v = self.version
        return [fd for fd in fields if fd.present(v) and not (self.flexible and fd.is_tagged(v))]

    def _tagged_fields(self, fields: tuple[Field, ...]) -> list[Field]:
        v = self.version
        return [fd for fd in fields if fd.present(v) and self.flexible and fd.is_tagged(v)]

    def _runs(self, fields: list[Field]) -> list[list[Field]]:
        """Group consecutive fixed-size fields so each group is one struct call."""
        runs: list[list[Field]] = []
        for fd in fields:
            fixed = fd.type in FIXED_TYPES
            if fixed and runs and runs[-1][0].type in FIXED_TYPES:
                runs[-1].append(fd)
            else:
                runs.append([fd])
        return runs

    def _reader(self, fname: str, cls: type, fields: tuple[Field, ...]) -> None:
        lines = [f"def {fname}(buf, pos):", f"    o = _new(C_{fname})"]
        plain = self._plain_fields(fields)
        tagged = self._tagged_fields(fields)
        for fd in fields:
            if fd not in plain:
                lines.append(f"    o.{fd.name} = {self._default_expr(fd)}")
        for run in self._runs(plain):
            if run[0].type in FIXED_TYPES:
                s = self.fixed([fd.type for fd in run])
                targets = ", ".join(f"o.{fd.name}" for fd in run) + ("," if len(run) == 1 else "")
                lines.append(f"    {targets} = {s}.unpack_from(buf, pos)")
                lines.append(f"    pos += {self.env[s].size}")
            else:
                lines += self._read_field(cls, run[0], f"o.{run[0].name}", "    ")
        if self.flexible:
            if tagged:
                table = {fd.tag: (fd.name, self._tag_reader(cls, fd)) for fd in tagged if fd.tag is not None}
                self.tag_tables.append(table)
                lines.append(f"    pos = _rtags(buf, pos, o, {self.const(table)})")
            else:
                lines.append("    pos = _P.skip_tagged_fields(buf, pos)")
        lines.append("    return o, pos")
        self.source.append("\n".join(lines))

    def _default_expr(self, fd: Field) -> str:
        value = fd.default_value()
        if isinstance(value, list):
            return "[]"
        if _is_immutable(value):
            return self.const(value)
        return f"{self.const(fd)}.default_value()"

    def _tag_reader(self, cls: type, fd: Field) -> str:
        fname = self.name("t")
        lines = [f"def {fname}(buf, pos):", *self._read_field(cls, fd, "v", "    "), "    return v, pos"]
        self.source.append("\n".join(lines))
        return fname

    def _read_field(self, cls: type, fd: Field, target: str, ind: str) -> list[str]:
        flex = self.flexible
        nullable = fd.is_nullable(self.version)
        if fd.is_array:
            n = self.name("n")
            length = "_P.read_compact_array_length" if flex else "_P.read_array_length"
            null = f"{target} = None" if nullable else f"raise _DE('non-nullable field {fd.name} was null')"
            lines = [f"{ind}{n}, pos = {length}(buf, pos)", f"{ind}if {n} < 0:", f"{ind}    {null}",
                     f"{ind}else:"]
            lst = self.name("l")
            lines.append(f"{ind}    {lst} = []")
            lines.append(f"{ind}    for _ in range({n}):")
            elem = self.name("e")
            lines += self._read_single(cls, fd, elem, ind + "        ")
            if fd.element in ("string", "bytes"):
                lines.append(f"{ind}        if {elem} is None: raise _DE('null element in {fd.name}')")
            lines.append(f"{ind}        {lst}.append({elem})")
            lines.append(f"{ind}    {target} = {lst}")
            return lines
        if fd.is_struct and nullable:
            lines = [f"{ind}if buf[pos] == 255:", f"{ind}    {target} = None", f"{ind}    pos += 1", f"{ind}else:",
                     f"{ind}    pos += 1"]
            return lines + self._read_single(cls, fd, target, ind + "    ")
        lines = self._read_single(cls, fd, target, ind)
        if fd.type in ("string", "bytes", "records") and not nullable:
            lines.append(f"{ind}if {target} is None: raise _DE('non-nullable field {fd.name} was null')")
        return lines

    def _read_single(self, cls: type, fd: Field, target: str, ind: str) -> list[str]:
        flex = self.flexible
        t = fd.element
        if fd.is_struct:
            reader, _ = self.struct(getattr(cls, t), fd.fields)
            return [f"{ind}{target}, pos = {reader}(buf, pos)"]
        if t in FIXED_TYPES:
            s = self.fixed([t])
            return [f"{ind}{target} = {s}.unpack_from(buf, pos)[0]", f"{ind}pos += {self.env[s].size}"]
        fn = {
            "string": ("read_compact_string", "read_string"),
            "bytes": ("read_compact_bytes", "read_bytes"),
            "records": ("read_compact_bytes_view", "read_bytes_view"),
        }[t][0 if flex else 1]
        return [f"{ind}{target}, pos = _P.{fn}(buf, pos)"]

    def _writer(self, fname: str, cls: type, fields: tuple[Field, ...]) -> None:
        lines = [f"def {fname}(w, o):", "    b = w.buf"]
        for run in self._runs(self._plain_fields(fields)):
            if run[0].type in FIXED_TYPES:
                s = self.fixed([fd.type for fd in run])
                args = ", ".join(f"o.{fd.name}" for fd in run)
                lines.append(f"    b += {s}.pack({args})")
            else:
                lines += self._write_field(cls, run[0], f"o.{run[0].name}", "    ")
        if self.flexible:
            tagged = self._tagged_fields(fields)
            if not tagged:
                lines.append("    b += b'\\x00'")
            else:
                lines.append("    tg = []")
                for fd in tagged:
                    enc = self._tag_writer(cls, fd)
                    value = f"o.{fd.name}"
                    default = fd.default_value()
                    if fd.is_struct and not fd.is_array:  # Kafka omits a struct equal to its defaults
                        cond = f"{value} is not None and {value} != {self.const(getattr(cls, fd.element))}()"
                    elif isinstance(default, list):
                        cond = f"{value}"
                    else:
                        cond = f"{value} != {self.const(default)}"
                    lines.append(f"    if {cond}:")
                    lines.append(f"        tg.append(({fd.tag}, {enc}({value})))")
                lines.append("    b += _tagbuf(tg)")
        self.source.append("\n".join(lines))

    def _tag_writer(self, cls: type, fd: Field) -> str:
        fname = self.name("tw")
        lines = [f"def {fname}(v):", "    w = _Writer()", "    b = w.buf", *self._write_field(cls, fd, "v", "    "),
                 "    return w.getvalue()"]
        self.source.append("\n".join(lines))
        return fname

    def _write_field(self, cls: type, fd: Field, src: str, ind: str) -> list[str]:
        flex = self.flexible
        if fd.is_array:
            x = self.name("x")
            length = "_P.compact_array_length" if flex else "_P.array_length"
            elem = self.name("e")
            lines = [f"{ind}{x} = {src}", f"{ind}b += {length}({x})", f"{ind}if {x}:",
                     f"{ind}    for {elem} in {x}:"]
            lines += self._write_single(cls, fd, elem, ind + "        ")
            if fd.is_struct:
                lines.append(f"{ind}    b = w.buf")
            return lines
        if fd.type == "records":
            return [f"{ind}_wrec(w, {src}, {flex})", f"{ind}b = w.buf"]
        if fd.is_struct and fd.is_nullable(self.version):
            x = self.name("x")
            return [f"{ind}{x} = {src}", f"{ind}if {x} is None:", f"{ind}    b += b'\\xff'", f"{ind}else:",
                    f"{ind}    b += b'\\x01'", *self._write_single(cls, fd, x, ind + "    "), f"{ind}    b = w.buf"]
        lines = self._write_single(cls, fd, src, ind)
        if fd.is_struct:
            lines.append(f"{ind}b = w.buf")
        return lines

    def _write_single(self, cls: type, fd: Field, src: str, ind: str) -> list[str]:
        flex = self.flexible
        t = fd.element
        if fd.is_struct:
            sub = getattr(cls, t)
            _, writer = self.struct(sub, fd.fields)
            return [f"{ind}{writer}(w, {src} if {src} is not None else {self.const(sub)}())"]
        if t in FIXED_TYPES:
            return [f"{ind}b += {self.fixed([t])}.pack({src})"]
        fn = {"string": ("compact_string", "string"), "bytes": ("compact_bytes", "bytes_field"),
              "records": ("compact_bytes", "bytes_field")}[t][0 if flex else 1]
        return [f"{ind}b += _P.{fn}({src})"]

    def build(self) -> None:
        exec("\n\n".join(self.source), self.env)
        for table in self.tag_tables:  # the tagged-field readers exist only now
            for tag, (field_name, reader) in table.items():
                table[tag] = (field_name, self.env[reader])


MessageT = TypeVar("MessageT", bound=Message)
Reader = Callable[[Any, int], tuple[Any, int]]  # generated code: the message is of the class it was compiled for
WriterFn = Callable[[Writer, Message], None]
_compiled: dict[tuple[int, int, bool], tuple[Reader, WriterFn]] = {}


def compiled(cls: type[Message], version: int, flexible: bool) -> tuple[Reader, WriterFn]:
    """The reader and writer of a top-level message class at one version (compiled once)."""
    key = (id(cls), version, flexible)
    found = _compiled.get(key)
    if found is None:
        compiler = _Compiler(version, flexible)
        reader, writer = compiler.struct(cls, cls.FIELDS)
        compiler.build()
        found = _compiled[key] = (compiler.env[reader], compiler.env[writer])
    return found


_DECODE_ERRORS = (struct.error, IndexError, UnicodeDecodeError, ValueError)


def read(cls: type[MessageT], version: int, flexible: bool, buf, pos: int = 0) -> tuple[MessageT, int]:
    """Decode one `cls` at `version` from `buf[pos:]`; returns the message and the position after it."""
    reader, _ = compiled(cls, version, flexible)
    try:
        return reader(buf, pos)
    except p.DecodeError:
        raise
    except _DECODE_ERRORS as e:
        raise p.DecodeError(f"malformed {cls.__name__} v{version}: {e}") from e


def write(cls: type[MessageT], version: int, flexible: bool, msg: MessageT, w: Writer | None = None) -> Writer:
    """Encode `msg` as `cls` at `version` into `w` (a new Writer if none)."""
    _, writer = compiled(cls, version, flexible)
    w = w if w is not None else Writer()
    writer(w, msg)
    return w


_VERSION = struct.Struct(">h")


def write_versioned(data: Data[MessageT], version: int, record: MessageT) -> bytes:
    """An int16 version, then the record: how Kafka frames internal-topic keys and values and group metadata."""
    return _VERSION.pack(version) + write(data.Record, version, data.is_flexible(version), record).getvalue()


def read_versioned(data: Data[MessageT], buf) -> MessageT:
    """The record after an int16 version; a version newer than declared is read with the latest layout."""
    if len(buf) < _VERSION.size:
        raise p.DecodeError("record too short for its version")
    version = min(max(_VERSION.unpack_from(buf, 0)[0], data.versions[0]), data.versions[1])
    return read(data.Record, version, data.is_flexible(version), memoryview(buf), _VERSION.size)[0]
