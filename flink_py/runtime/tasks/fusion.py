"""Operator fusion: a run of chained stateless/keyed-reduce operators becomes one loop.

Chained operators already call each other per buffer; fusion goes further and compiles a
linear run such as ``map -> filter -> flat_map -> reduce -> sink`` into a single generated
function with one ``for`` loop over the buffer, so a record passes through every user
function without intermediate lists. The result costs about what a hand-written loop
calling the same functions costs. Operators keep their identity: their lifecycle is
unchanged, errors still name the operator that raised (a ``stage`` variable tracks it),
and buffers that carry timestamps take the unfused path.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional

if TYPE_CHECKING:  # operators import this module: no runtime import back
    from flink_py.runtime.operators.base import StreamOperator

_MISSING = object()


def _stage_of(exc: BaseException, line_stage: List[int], first_body_line: int) -> int:
    """The stage whose line of the fused loop raised ``exc`` (from its traceback)."""
    tb = exc.__traceback__
    if tb is None:
        return 0
    index = tb.tb_lineno - first_body_line
    return line_stage[index] if 0 <= index < len(line_stage) else 0


class FusionStage:
    """What a fusible operator contributes: its kind and the callables its code uses."""

    __slots__ = ("kind", "function", "extra")

    def __init__(self, kind: str, function: Callable[..., Any], **extra: Any) -> None:
        self.kind = kind  # "map" | "filter" | "flat_map" | "reduce" | "sink"
        self.function = function
        self.extra = extra


def fusion_stage(operator: "StreamOperator") -> Optional[FusionStage]:
    """The operator's stage, or None if it cannot be fused (asked after ``open``)."""
    get = getattr(operator, "fusion_stage", None)
    return get() if get is not None else None


def build_fused_function(operators: List["StreamOperator"], stages: List[FusionStage],
                         emit: Callable[[list, Optional[list]], None],
                         with_keys: bool = False) -> Callable[..., None]:
    """Generates ``fused(values)`` running ``operators`` in one loop, emitting to ``emit``;
    with ``with_keys`` (the first stage a reduce), ``fused(values, keys)``, where ``keys``
    are the records' keys as the exchange routed them (the reduce does not key again)."""
    if with_keys and stages[0].kind != "reduce":
        raise ValueError(f"keys can only be handed to a fused reduce, not to a "
                         f"{stages[0].kind!r} stage")
    namespace: Dict[str, Any] = {"_MISSING": _MISSING, "operators": operators, "emit": emit}
    ends_in_sink = stages[-1].kind == "sink"
    body: List[str] = []
    prologue: List[str] = []  # per-buffer lines after the local bindings
    depth = 3

    current_stage = [0]

    def line(text: str) -> None:
        body.append("    " * depth + text)
        line_stage.append(current_stage[0])

    # Which stage a body line belongs to, by its index in ``body``: on an exception the
    # traceback's line number names the operator that raised, at no cost per record.
    line_stage: List[int] = []
    for i, stage in enumerate(stages):
        namespace[f"f{i}"] = stage.function
        current_stage[0] = i
        if stage.kind == "map":
            line(f"v = f{i}(v)")
        elif stage.kind == "filter":
            line(f"if not f{i}(v): continue")
        elif stage.kind == "flat_map":
            line(f"r{i} = f{i}(v)")
            line(f"if r{i} is None: continue")
            line(f"for v in r{i}:")
            depth += 1
        elif stage.kind == "reduce":
            namespace[f"key{i}"] = stage.extra["key_selector"]
            namespace[f"state{i}"] = stage.extra["state"]
            namespace[f"get{i}"] = stage.extra["state"].get
            if stage.extra.get("refresh") is not None:
                namespace[f"refresh{i}"] = stage.extra["refresh"]
                prologue.append(f"    f{i} = refresh{i}()")
            first = stage.extra.get("first")
            if first is not None:
                namespace[f"first{i}"] = first
            inline = stage.extra.get("inline_tuple_sum")
            if not (with_keys and i == 0):  # else the loop binds k0 from the keys
                line(f"k{i} = key{i}(v)")
            line(f"p{i} = get{i}(k{i}, _MISSING)")
            if inline is not None:
                # sum over tuples of a known arity: straight-line code, no call per record
                arity, index = inline
                namespace[f"numeric{i}"] = stage.extra["numeric"]
                fields = ", ".join(f"p{i}[{j}] + x{i}" if j == index else f"p{i}[{j}]"
                                   for j in range(arity))
                line(f"if p{i} is _MISSING:")
                line(f"    v = first{i}(v)")
                line("else:")
                line(f"    x{i} = v[{index}]")
                line(f"    if type(x{i}) in numeric{i} and type(v) is tuple and len(v) == {arity}:")
                line(f"        v = ({fields},)")
                line("    else:")
                line(f"        v = f{i}(p{i}, v)")
            elif first is None:
                line(f"v = v if p{i} is _MISSING else f{i}(p{i}, v)")
            else:
                line(f"v = first{i}(v) if p{i} is _MISSING else f{i}(p{i}, v)")
            line(f"state{i}[k{i}] = v")
        elif stage.kind == "sink":
            namespace[f"ctx{i}"] = stage.extra["context"]
            line(f"f{i}(v, ctx{i})")
        else:
            raise ValueError(f"unknown fusion stage kind {stage.kind!r}")
    if not ends_in_sink:
        line("append(v)")

    source = ["def fused(values, keys):" if with_keys else "def fused(values):"]
    # Bind everything the loop uses to locals: LOAD_FAST instead of a dict lookup per use.
    source += [f"    {name} = _g['{name}']" for name in namespace
               if name not in ("operators", "_stage_of")]
    if not ends_in_sink:
        source += ["    out = []", "    append = out.append"]
    source += prologue
    source += ["    try:", "        for v, k0 in zip(values, keys):" if with_keys
               else "        for v in values:"]
    first_body_line = len(source) + 1  # line numbers start at 1
    source += body
    source += ["    except Exception as exc:",
               "        raise operators[_stage_of(exc)].user_error(exc)"]
    # The `for v in r{i}` line of a flat_map raises for that flat_map's iterable.
    namespace["_stage_of"] = functools.partial(
        _stage_of, line_stage=line_stage, first_body_line=first_body_line)
    if not ends_in_sink:
        source += ["    if out:", "        emit(out, None)"]
    code = "\n".join(source)
    namespace["_g"] = dict(namespace)
    fused_code_name = f"<fused {' -> '.join(op.name for op in operators)}>"
    exec(compile(code, fused_code_name, "exec"), namespace)
    fused = namespace["fused"]
    fused.source = code  # type: ignore[attr-defined]
    return fused
