"""Compares flink_py's public API with PyFlink's, as recorded in a fixture.

The fixture (``tests/fixtures/pyflink_api/pyflink_2.3.0_api.json``, recorded from real
PyFlink by ``record_api.py`` next to it) lists, per PyFlink module, its public names; per
class, its public members with their kind (method, staticmethod, classmethod, property,
attribute, enum member); per callable, its parameters as ``[name, kind, has_default]``.

:func:`compare` looks each one up at the same path in flink_py (``pyflink.X`` is
``flink_py.X``) and says, per item, whether it is there with the same signature. An item is
a module-level name (``pyflink.common.Duration``), a class member
(``pyflink.common.Duration.of_millis``), a nested class (``pyflink.datastream.ProcessFunction.
Context``) or one of its members.

Signatures are compared on names, order, kinds and whether a parameter has a default. Three
allowances, all invisible to a PyFlink program: ours may take more parameters after
PyFlink's when each has a default (or is ``*args``/``**kwargs``); ours may give a default to
a parameter PyFlink requires (every PyFlink call passes it); and a PyFlink callable that
takes a Java object (a parameter named ``j_*``) is compared on presence only, as no program
passes one. A constructor (``__init__``) is compared with what calling the class takes,
whether ours defines ``__init__``, ``__new__`` or neither. A class must also derive from
PyFlink's public base classes (so ``isinstance`` checks hold), where flink_py has them, and
a method that does nothing but raise an error (other than ``NotImplementedError``, an
interface's) does not count as present.
"""

from __future__ import annotations

import ast
import enum
import importlib
import inspect
import json
import textwrap
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

__all__ = ["Item", "load_fixture", "compare", "covered_by", "Coverage", "coverage",
           "format_coverage", "REPORTS"]

#: Coverage reports (lines of text) computed in this process, printed at the end of a
#: pytest session by ``tests/conftest.py``.
REPORTS: List[List[str]] = []

_OK = "ok"
_MISSING = "missing"
_SIGNATURE = "signature"
_KIND = "kind"
_BASES = "bases"
_RAISES = "raises"


@dataclass(frozen=True)
class Item:
    """One PyFlink name and how flink_py matches it.

    :param path: the PyFlink path, e.g. ``pyflink.datastream.DataStream.map``.
    :param module: the PyFlink module it belongs to, e.g. ``pyflink.datastream``.
    :param status: ``ok``, ``missing``, ``signature`` (present, other parameters),
        ``kind`` (present, but e.g. a method where PyFlink has a staticmethod), ``bases``
        (a class that does not derive from a PyFlink base class flink_py has) or ``raises``
        (a method that does nothing but raise, e.g. "not supported yet").
    :param detail: what differs, for anything but ``ok``.
    """

    path: str
    module: str
    status: str
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == _OK


def load_fixture(path: str) -> Dict[str, Any]:
    """The recorded PyFlink API of ``path`` (the JSON that ``record_api.py`` writes)."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if "modules" not in data:
        raise ValueError(f"{path} is not a recorded PyFlink API: it has no 'modules' key")
    return data


def _ours(pyflink_path: str) -> str:
    if not pyflink_path.startswith("pyflink."):
        raise ValueError(f"expected a path starting with 'pyflink.', got {pyflink_path!r}")
    return "flink_py." + pyflink_path[len("pyflink."):]


def _import(module_name: str) -> Optional[Any]:
    """The module ``module_name``, or None when flink_py has no such module (a module that
    exists and fails to import raises)."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name is not None and module_name.startswith(e.name):
            return None
        raise


def _signature(obj: Any) -> Optional[List[List[Any]]]:
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    return [[p.name, p.kind.name, p.default is not inspect.Parameter.empty]
            for p in signature.parameters.values()]


def _compare_parameters(theirs: Optional[List[List[Any]]],
                        ours: Optional[List[List[Any]]]) -> str:
    """What differs between PyFlink's parameters and ours; ``""`` when a PyFlink call
    works the same on ours."""
    if theirs is None:
        return ""
    if ours is None:
        return "ours has no inspectable signature"
    if any(name.startswith("j_") for name, _, _ in theirs):
        return ""
    if len(ours) < len(theirs) or any(
            o[:2] != t[:2] or (t[2] and not o[2]) for t, o in zip(theirs, ours)):
        return f"PyFlink {_render(theirs)}, ours {_render(ours)}"
    extra = [p for p in ours[len(theirs):]
             if not p[2] and p[1] not in ("VAR_POSITIONAL", "VAR_KEYWORD")]
    if extra:
        return f"PyFlink {_render(theirs)}, ours {_render(ours)} (required extras)"
    return ""


def _render(parameters: List[List[Any]]) -> str:
    parts = []
    for name, kind, has_default in parameters:
        prefix = {"VAR_POSITIONAL": "*", "VAR_KEYWORD": "**"}.get(kind, "")
        suffix = "=…" if has_default else ""
        parts.append(f"{prefix}{name}{suffix}" + ("/kw" if kind == "KEYWORD_ONLY" else ""))
    return "(" + ", ".join(parts) + ")"


def _member_kind(cls: type, name: str) -> Tuple[Optional[str], Any]:
    """The kind of ``cls``'s member ``name`` as the recorder names it, and its function
    (``None`` when ``cls`` has no such member)."""
    for base in cls.__mro__:
        if name not in vars(base):
            continue
        raw = vars(base)[name]
        if isinstance(raw, staticmethod):
            return "staticmethod", raw.__func__
        if isinstance(raw, classmethod):
            return "classmethod", raw.__func__
        if isinstance(raw, property):
            return "property", None
        if inspect.isfunction(raw):
            return "method", raw
        if isinstance(cls, enum.EnumMeta) and name in cls.__members__:
            return "enum member", None
        if base is object:
            return None, None
        return "attribute", None
    if isinstance(cls, enum.EnumMeta) and name in cls.__members__:
        return "enum member", None
    return None, None


_COMPATIBLE_KINDS = {
    # a PyFlink attribute (a class constant) may be an enum member of ours, and vice versa
    ("attribute", "enum member"), ("enum member", "attribute"),
}


def _constructor(cls: type) -> Optional[List[List[Any]]]:
    """The parameters ``cls(...)`` takes, with ``self`` first (as PyFlink's ``__init__``
    is recorded), whether ``cls`` defines ``__init__``, ``__new__`` or neither."""
    parameters = _signature(cls)
    return None if parameters is None else [["self", "POSITIONAL_OR_KEYWORD", False]] + \
        parameters


def _compare_member(path: str, module: str, cls: type, name: str,
                    theirs: Mapping[str, Any]) -> Item:
    if name == "__init__":
        difference = _compare_parameters(theirs.get("parameters"), _constructor(cls))
        return Item(path, module, _SIGNATURE if difference else _OK, difference)
    kind, function = _member_kind(cls, name)
    if kind is None:
        return Item(path, module, _MISSING, f"{cls.__qualname__} has no {name}")
    expected = theirs["kind"]
    if kind != expected and (expected, kind) not in _COMPATIBLE_KINDS:
        return Item(path, module, _KIND, f"PyFlink's is a {expected}, ours a {kind}")
    if expected in ("method", "staticmethod", "classmethod"):
        difference = _compare_parameters(theirs.get("parameters"), _signature(function))
        if difference:
            return Item(path, module, _SIGNATURE, difference)
        refusal = _only_raises(function)
        if refusal:
            return Item(path, module, _RAISES, f"ours only raises {refusal}")
    return Item(path, module, _OK)


def _only_raises(function: Any) -> str:
    """The exception a function does nothing but raise (its body, without the docstring, is
    one ``raise``), e.g. ``InvalidProgramError`` for "not supported yet"; ``""`` for a
    function that does something. ``NotImplementedError`` does not count: that is an
    interface's method, which PyFlink's abstract classes have too; nor does ``TimeoutError``,
    the behaviour of PyFlink's own default ``AsyncFunction.timeout``."""
    try:
        source = textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError):
        return ""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return ""
    definition = tree.body[0] if tree.body else None
    if not isinstance(definition, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return ""
    body = definition.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or body[0].exc is None:
        return ""
    raised = body[0].exc.func if isinstance(body[0].exc, ast.Call) else body[0].exc
    name = raised.id if isinstance(raised, ast.Name) else \
        raised.attr if isinstance(raised, ast.Attribute) else ""
    return "" if name in ("", "NotImplementedError", "TimeoutError") else name


def _missing_bases(module_name: str, ours: type, bases: Iterable[str],
                   classes: Mapping[str, List[str]]) -> List[str]:
    """The PyFlink base classes (of ``bases``, by name) that flink_py has and ``ours`` does
    not derive from. A base PyFlink does not list publicly (``JavaFunctionWrapper``), or
    that flink_py lacks (reported as missing by itself), is not checked."""
    missing = []
    for base in bases:
        modules = classes.get(base, [])
        for candidate in sorted(modules, key=lambda m: m != module_name):
            our_module = _import(_ours(candidate))
            our_base = getattr(our_module, base, None) if our_module is not None else None
            if inspect.isclass(our_base):
                if not issubclass(ours, our_base):
                    missing.append(base)
                break
    return missing


def _paths(path: str, theirs: Mapping[str, Any]) -> List[str]:
    """``path`` and the paths of every member under it (nested classes' too)."""
    paths = [path]
    for member, described in theirs.get("members", {}).items():
        paths.extend(_paths(f"{path}.{member}", described))
    return paths


def _all_missing(path: str, module: str, theirs: Mapping[str, Any], head: Item,
                 detail: str) -> List[Item]:
    return [head] + [Item(p, module, _MISSING, detail) for p in _paths(path, theirs)[1:]]


def _compare_class(path: str, module: str, obj: Any, theirs: Mapping[str, Any],
                   classes: Mapping[str, List[str]]) -> List[Item]:
    """The class itself (is it one, with PyFlink's bases) and each of its members, nested
    classes included."""
    if not inspect.isclass(obj):
        return _all_missing(path, module, theirs, Item(
            path, module, _KIND, f"PyFlink's is a class, ours a {type(obj).__name__}"),
            "ours is not a class")
    bases = _missing_bases(module, obj, theirs.get("bases", []), classes)
    items = [Item(path, module, _BASES, f"ours does not derive from {', '.join(bases)}")
             if bases else Item(path, module, _OK)]
    for member, described in theirs.get("members", {}).items():
        member_path = f"{path}.{member}"
        if described.get("kind") in ("class", "enum"):
            nested = getattr(obj, member, None)
            if nested is None:
                detail = f"{obj.__qualname__} has no {member}"
                items.extend(_all_missing(member_path, module, described,
                                          Item(member_path, module, _MISSING, detail), detail))
            else:
                items.extend(_compare_class(member_path, module, nested, described, classes))
        else:
            items.append(_compare_member(member_path, module, obj, member, described))
    return items


def _compare_name(module_name: str, our_module: Any, name: str,
                  theirs: Mapping[str, Any], classes: Mapping[str, List[str]]) -> List[Item]:
    path = f"{module_name}.{name}"
    obj = getattr(our_module, name, None) if our_module is not None else None
    if obj is None:
        where = f"no module {_ours(module_name)}" if our_module is None \
            else f"{_ours(module_name)} has no {name}"
        return _all_missing(path, module_name, theirs, Item(path, module_name, _MISSING, where),
                            where)
    kind = theirs["kind"]
    if kind in ("class", "enum"):
        return _compare_class(path, module_name, obj, theirs, classes)
    if kind == "function":
        if not callable(obj):
            return [Item(path, module_name, _KIND, "PyFlink's is a function, ours is not "
                         "callable")]
        difference = _compare_parameters(theirs.get("parameters"), _signature(obj))
        return [Item(path, module_name, _SIGNATURE if difference else _OK, difference)]
    if kind == "module" and not inspect.ismodule(obj):
        return [Item(path, module_name, _KIND, "PyFlink's is a module, ours is not")]
    return [Item(path, module_name, _OK)]


def compare(fixture: Mapping[str, Any]) -> List[Item]:
    """Every item of the recorded PyFlink API ``fixture``, matched against flink_py."""
    classes: Dict[str, List[str]] = {}
    for module_name, names in fixture["modules"].items():
        for name, described in names.items():
            if described.get("kind") in ("class", "enum"):
                classes.setdefault(name, []).append(module_name)
    items: List[Item] = []
    for module_name, names in fixture["modules"].items():
        our_module = _import(_ours(module_name))
        for name, described in names.items():
            items.extend(_compare_name(module_name, our_module, name, described, classes))
    return items


def covered_by(path: str, entries: Iterable[str]) -> Optional[str]:
    """The entry of ``entries`` that covers ``path``: the path itself, or a module or class
    it is in (``pyflink.a.B`` covers ``pyflink.a.B.c``); the longest one when several do."""
    best: Optional[str] = None
    for entry in entries:
        if (path == entry or path.startswith(entry + ".")) and (
                best is None or len(entry) > len(best)):
            best = entry
    return best


@dataclass
class Coverage:
    """Counts for one module (or for all of them).

    :param total: the items PyFlink has.
    :param present: the items flink_py has with PyFlink's signature.
    :param jvm_only: the items left out because they only make sense with a JVM.
    """

    total: int = 0
    present: int = 0
    jvm_only: int = 0

    def add(self, item: Item, jvm_only: bool) -> None:
        self.total += 1
        self.present += item.ok
        self.jvm_only += jvm_only


def coverage(items: Iterable[Item], left_out: Mapping[str, str]) -> Dict[str, Coverage]:
    """Coverage per PyFlink module, and over all of them under the key ``""``. An item is
    JVM-only when the ``left_out`` entry covering it has a reason starting ``JVM-only``."""
    result: Dict[str, Coverage] = {"": Coverage()}
    for item in items:
        entry = covered_by(item.path, left_out)
        jvm_only = entry is not None and left_out[entry].startswith("JVM-only")
        result.setdefault(item.module, Coverage()).add(item, jvm_only)
        result[""].add(item, jvm_only)
    return result


def _percent(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:5.1f}%" if whole else "  n/a "


def format_coverage(per_module: Mapping[str, Coverage], version: str) -> List[str]:
    """The lines of a coverage table: per module, present / total, and present / total
    without the JVM-only items."""
    lines = [f"PyFlink {version} API coverage (present with PyFlink's signature / total; "
             f"and without the JVM-only names)"]
    width = max(len(m) for m in per_module)
    for module, c in sorted(per_module.items()):
        if not module:
            continue
        lines.append(_line(module, width, c))
    lines.append(_line("all", width, per_module[""]))
    return lines


def _line(label: str, width: int, c: Coverage) -> str:
    without = c.total - c.jvm_only
    return (f"  {label:<{width}}  {c.present:5d} / {c.total:<5d} {_percent(c.present, c.total)}"
            f"   without JVM-only {c.present:5d} / {without:<5d} "
            f"{_percent(c.present, without)}")
