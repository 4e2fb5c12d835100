"""The message stubs (protocol/messages/*.pyi) are current and say what the classes made at run time hold."""

from __future__ import annotations

import ast
from pathlib import Path
from types import ModuleType

import pytest

from kafkette.protocol import messages, stubs
from kafkette.protocol.model import Message
from kafkette.protocol.schema import Api

MODULES = stubs.message_modules()
each_module = pytest.mark.parametrize("module", MODULES, ids=lambda module: module.__name__.rsplit(".", 1)[-1])


@each_module
def test_committed_stub_is_current(module: ModuleType) -> None:
    path = stubs.stub_path(module)
    if not path.exists() or path.read_text() != stubs.stub_source(module):
        pytest.fail(f"{path.name} is out of date with {path.stem}.py: run `{stubs.COMMAND}`", pytrace=False)


def test_no_stub_without_its_module() -> None:
    stale = {path.name for path in Path(messages.__path__[0]).glob("*.pyi")} - {stubs.stub_path(m).name for m in MODULES}
    assert not stale, f"stubs whose declaration module is gone: {sorted(stale)}; delete them"


@each_module
def test_module_exports_the_classes_its_stub_declares(module: ModuleType) -> None:
    for name, decl in stubs.declarations(module):
        made = [decl.Request, decl.Response] if isinstance(decl, Api) else [decl.Record]
        for (cls_name, _), cls in zip(stubs.classes(decl), made):
            assert getattr(module, cls_name, None) is cls, f"add `{cls_name} = {name}.<class>` to {module.__name__}"


@each_module
def test_stub_classes_match_the_runtime_classes(module: ModuleType) -> None:
    """Every class and alias the stub declares resolves at run time to a class with exactly the stub's fields."""
    tree = ast.parse(stubs.stub_source(module))
    checked = 0
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            checked += _check_class(getattr(module, node.name), node, module, node.name)
    assert checked > 0


def _check_class(cls: type[Message], node: ast.ClassDef, module: ModuleType, path: str) -> int:
    names = [(stmt.target.id, _is_alias(stmt)) for stmt in node.body
             if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)]
    assert [name for name, alias in names if not alias] == [fd.name for fd in cls.FIELDS], \
        f"{path}: stub fields differ from the declaration"
    top = getattr(module, path.split(".")[0])
    for name, alias in names:  # `Child: TypeAlias = Top.Child`: the runtime class has that attribute, the same class
        assert not alias or getattr(cls, name) is getattr(top, name), f"{path}.{name} is not {top.__name__}.{name}"
    nested = [stmt for stmt in node.body if isinstance(stmt, ast.ClassDef)]
    return 1 + sum(_check_class(getattr(cls, sub.name), sub, module, f"{path}.{sub.name}") for sub in nested)


def _is_alias(stmt: ast.AnnAssign) -> bool:
    return isinstance(stmt.annotation, ast.Name) and stmt.annotation.id == "TypeAlias"
