"""Writes `messages/<api>.pyi`: the classes the declarations make at run time, for editors and mypy.

Message classes are built from declarations when the program runs, so nothing
tells a type checker that `PRODUCE.Response` has `responses`, or that
`PRODUCE.Response.PartitionProduceResponse` exists. The stub next to each
declaration module says so: one class per request, response or record with
every field typed, every nested struct (at any depth) as a nested class of it,
as `make_class` attaches them, and each declaration typed `Api[Req, Resp]` or
`Data[Record]`. `python -m kafkette.protocol.stubs` rewrites them;
tests/test_message_stubs.py fails when one is out of date.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from kafkette.protocol import messages
from kafkette.protocol.schema import Api, Data, Field

COMMAND = "python -m kafkette.protocol.stubs"
_PYTHON_TYPES = {
    "bool": "bool", "float64": "float", "string": "str", "uuid": "bytes", "bytes": "bytes", "records": "Records",
    "int8": "int", "int16": "int", "uint16": "int", "int32": "int", "uint32": "int", "int64": "int",
}
_ONE_LINE = 110


def declarations(module: ModuleType) -> list[tuple[str, Api | Data]]:
    """The module's APIs and record layouts, in the order they are declared."""
    return [(name, value) for name, value in vars(module).items() if isinstance(value, (Api, Data))]


def classes(decl: Api | Data) -> list[tuple[str, Sequence[Field]]]:
    """(class name, fields) of the top-level classes a declaration makes: what `<module>.<class name>` holds."""
    if isinstance(decl, Api):
        return [(f"{decl.name}Request", decl.request), (f"{decl.name}Response", decl.response)]
    return [(decl.name, decl.fields)]


def stub_source(module: ModuleType) -> str:
    decls = declarations(module)
    body: list[str] = []
    for name, decl in decls:
        tops = classes(decl)
        for cls_name, fields in tops:
            body += ["", "", *_top_class(cls_name, fields)]
        body += ["", "", f"{name}: {type(decl).__name__}[{', '.join(cls_name for cls_name, _ in tops)}]"]
    source_name = stub_path(module).with_suffix(".py").name
    return "\n".join([f"# Generated from {source_name} by `{COMMAND}`: do not edit.", "", *_imports(decls), *body]) + "\n"


def _imports(decls: list[tuple[str, Api | Data]]) -> list[str]:
    fields = [fd for _, decl in decls for _, top_fields in classes(decl) for fd in _all_fields(top_fields)]
    lines = []
    if any(sub.is_struct for fd in fields for sub in fd.fields):
        lines += ["from typing import TypeAlias", ""]
    model_names = ["Message", "Records"] if any(fd.type == "records" for fd in fields) else ["Message"]
    lines.append(f"from kafkette.protocol.model import {', '.join(model_names)}")
    lines.append(f"from kafkette.protocol.schema import {', '.join(sorted({type(decl).__name__ for _, decl in decls}))}")
    return lines


def _top_class(name: str, fields: Sequence[Field]) -> list[str]:
    lines = _class(name, fields, name, "")
    for struct in _nested_structs(fields):
        lines += ["", *_class(struct.element, struct.fields, name, "    ")]
    return lines


def _nested_structs(fields: Sequence[Field]) -> list[Field]:
    """Every struct below `fields`, first declaration of each name, in the order declared (as make_class keeps them)."""
    found: dict[str, Field] = {}
    for fd in _all_fields(fields):
        if fd.is_struct:
            found.setdefault(fd.element, fd)
    return list(found.values())


def _all_fields(fields: Sequence[Field]) -> list[Field]:
    """The fields and, after each struct field, its own fields, depth first."""
    return [each for fd in fields for each in (fd, *_all_fields(fd.fields))]


def _class(name: str, fields: Sequence[Field], top: str, indent: str) -> list[str]:
    inner = indent + "    "
    typed = [(fd.name, _annotation(fd, top)) for fd in fields]
    lines = [f"{indent}class {name}(Message):"]
    if indent:  # a nested struct's own structs are attributes of it too (`R.Assignment.TopicPartitions`)
        children = dict.fromkeys(fd.element for fd in fields if fd.is_struct)
        lines += [f"{inner}{child}: TypeAlias = {top}.{child}" for child in children]
    lines += [f"{inner}{field_name}: {annotation}" for field_name, annotation in typed]
    return lines + _init(typed, inner)


def _init(typed: list[tuple[str, str]], indent: str) -> list[str]:
    if not typed:
        return [f"{indent}def __init__(self) -> None: ..."]
    params = [f"{field_name}: {annotation} = ..." for field_name, annotation in typed]
    one_line = f"{indent}def __init__(self, *, {', '.join(params)}) -> None: ..."
    if len(one_line) <= _ONE_LINE:
        return [one_line]
    return [f"{indent}def __init__(", f"{indent}    self,", f"{indent}    *,",
            *(f"{indent}    {param}," for param in params), f"{indent}) -> None: ..."]


def _annotation(fd: Field, top: str) -> str:
    """`| None` where the field is nullable in some version or defaults to None (a struct left unset)."""
    element = f"{top}.{fd.element}" if fd.is_struct else _PYTHON_TYPES[fd.element]
    annotation = f"list[{element}]" if fd.is_array else element
    may_be_none = fd.nullable.low <= fd.nullable.high or fd.default_value() is None
    return f"{annotation} | None" if may_be_none else annotation


def message_modules() -> list[ModuleType]:
    """Every declaration module under protocol/messages, by name."""
    return [importlib.import_module(f"{messages.__name__}.{info.name}")
            for info in sorted(pkgutil.iter_modules(messages.__path__), key=lambda info: info.name)]


def stub_path(module: ModuleType) -> Path:
    return Path(module.__file__ or "").with_suffix(".pyi")


def expected_stubs() -> dict[Path, str]:
    """The stub each declaration module should have next to it, by path."""
    return {stub_path(module): stub_source(module) for module in message_modules()}


def main() -> None:
    for path, source in expected_stubs().items():
        if not path.exists() or path.read_text() != source:
            path.write_text(source)
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
