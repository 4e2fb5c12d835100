"""The error a response carries: its top-level error code, or else the first non-zero one below it.

Read from the declarations, so it works for every API without knowing any: a
field named `error_code` or `..._error_code` of type int16 is an error code.
As the codec does, each response class gets its own scanner on first use,
compiled from its fields into plain loops over the structs that hold error
codes (the others are never visited); a scan stops at the first error.
"""

from __future__ import annotations

from typing import Any, Callable

from kafkette.protocol.model import Message
from kafkette.protocol.schema import Field

Scanner = Callable[[Any], int]
_SCANNERS: dict[type, Scanner] = {}


def first_error(message: Message) -> int:
    """The response's top-level error code if set, else the first non-zero one found below it; 0 if none."""
    scan = _SCANNERS.get(type(message)) or _compile(type(message))
    return scan(message)


def is_error_field(fd: Field) -> bool:
    """An error code: an int16 named `error_code` or `..._error_code`."""
    return fd.type == "int16" and (fd.name == "error_code" or fd.name.endswith("_error_code"))


def _compile(cls: type) -> Scanner:
    lines = ["def scan(m):", *_scan_source(cls, "m", "    ", 0), "    return 0"]
    namespace: dict[str, Any] = {}
    exec("\n".join(lines), {}, namespace)
    scanner = _SCANNERS[cls] = namespace["scan"]
    return scanner


def _scan_source(cls: type, var: str, indent: str, depth: int) -> list[str]:
    """Lines returning the first error code of the struct in `var`, its own fields first, then depth first."""
    fields: tuple[Field, ...] = getattr(cls, "FIELDS", ())
    lines = []
    for fd in fields:
        if is_error_field(fd):
            lines += [f"{indent}c = {var}.{fd.name}", f"{indent}if c:", f"{indent}    return c"]
    item = f"v{depth}"
    for fd in fields:
        if not fd.is_struct:
            continue
        inner = _scan_source(getattr(cls, fd.element), item, indent + "    ", depth + 1)
        if not inner:
            continue  # no error code anywhere below: never visited
        if fd.is_array:
            lines.append(f"{indent}for {item} in {var}.{fd.name} or ():")
        else:
            lines += [f"{indent}{item} = {var}.{fd.name}", f"{indent}if {item} is not None:"]
        lines += inner
    return lines
