"""Flink's JSON functions: JSON_VALUE, JSON_QUERY, JSON_EXISTS, IS JSON, JSON_STRING,
JSON_OBJECT and JSON_ARRAY, registered in ``functions_builtin.BUILTINS``.

Paths are SQL/JSON paths as Flink's (Calcite's) take them: an optional ``lax`` (the default)
or ``strict`` mode, then ``$`` and member (``.key``, ``['key']``) and element (``[0]``)
steps. In lax mode a missing member or element is an empty result; in strict mode it is an
error. What an empty result or an error gives is the call's ON EMPTY / ON ERROR behaviour.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any, List, Optional, Tuple

from flink_py.table import types as t
from flink_py.table.errors import ValidationException
from flink_py.table.expression import (JsonExistsOnError, JsonOnNull, JsonQueryOnEmptyOrError,
                                       JsonQueryWrapper, JsonType, JsonValueOnEmptyOrError)
from flink_py.table.functions_builtin import (Evaluator, _symbol, builtin, check, strict,
                                              type_name)
from flink_py.table.expressions import Resolved, _caster

__all__ = ["parse_path", "JsonPathError"]

class _Missing:
    """The result of a lax path that finds nothing (the class itself: a module-level class
    keeps its identity when an evaluator is pickled to a worker, an ``object()`` would not)."""


_MISSING = _Missing


class JsonPathError(ValueError):
    """A path that does not apply to the document (strict mode), or a malformed path."""


_STEP = re.compile(r"""\s*(?:\.\s*([A-Za-z_$][\w$]*)|\[\s*'([^']*)'\s*\]|\[\s*"([^"]*)"\s*\]"""
                   r"""|\.\s*\[\s*'([^']*)'\s*\]|\[\s*(\d+)\s*\])""")


def parse_path(path: str) -> Tuple[bool, List[Any]]:
    """(strict, the steps: str members and int elements) of an SQL/JSON path."""
    text = path.strip()
    strict_mode = False
    lowered = text.lower()
    if lowered.startswith("strict "):
        strict_mode, text = True, text[7:].lstrip()
    elif lowered.startswith("lax "):
        text = text[4:].lstrip()
    if not text.startswith("$"):
        raise JsonPathError(f"Illegal jsonpath spec: {path}, format of the spec should be: "
                            f"'<lax|strict> $'")
    steps: List[Any] = []
    i = 1
    while i < len(text):
        m = _STEP.match(text, i)
        if m is None:
            raise JsonPathError(f"Illegal jsonpath spec: {path}")
        name = next((g for g in m.groups()[:4] if g is not None), None)
        steps.append(name if name is not None else int(m.group(5)))
        i = m.end()
    return strict_mode, steps


def _walk(document: Any, strict_mode: bool, steps: List[Any]) -> Any:
    value = document
    for step in steps:
        if isinstance(step, str) and isinstance(value, dict) and step in value:
            value = value[step]
        elif isinstance(step, int) and isinstance(value, list) and step < len(value):
            value = value[step]
        elif strict_mode:
            raise JsonPathError(f"No results for path: $['{step}']")
        else:
            return _MISSING
    return value


def _parse(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)


def _scalar_string(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, Decimal):
        return str(float(value)) if "E" in str(value) else str(value)
    return str(value)


def dumps(value: Any) -> str:
    """Compact JSON, as Jackson writes it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    raise TypeError(f"{value!r} is not JSON")


def _path_argument(name: str, arg: Resolved) -> Tuple[bool, List[Any]]:
    if not arg.constant:
        raise ValidationException(f"{name.upper()}'s path must be a literal")
    try:
        return parse_path(arg.evaluate(()))
    except JsonPathError as exc:
        raise ValidationException(str(exc)) from None


@builtin("json_value")
def _json_value(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    """``json_value(j, path, returning, on_empty, default_on_empty, on_error,
    default_on_error)``: the scalar at ``path`` as ``returning``."""
    if not args or not isinstance(args[0].data_type, (t.VarCharType, t.NullType)):
        raise ValidationException(
            f"Cannot apply 'JSON_VALUE' to arguments of type 'JSON_VALUE(<"
            f"{type_name(args[0].data_type) if args else ''}>, <CHAR>)'. Supported form(s): "
            f"'JSON_VALUE(<CHARACTER>, <CHARACTER>)'")
    strict_mode, steps = _path_argument(name, args[1])
    returning: t.DataType = _symbol(args[2]).nullable()
    on_empty, on_error = _symbol(args[3]), _symbol(args[5])
    default_empty, default_error = args[4].evaluate, args[6].evaluate
    to_string = t.VarCharType()
    convert = _caster(to_string, returning) if not isinstance(returning, t.VarCharType) \
        else (lambda v: v)
    document_of = args[0].evaluate

    def error(row: tuple, exc: Exception) -> Any:
        if on_error is JsonValueOnEmptyOrError.ERROR:
            raise exc
        return default_error(row) if on_error is JsonValueOnEmptyOrError.DEFAULT else None

    def evaluate(row: tuple) -> Any:
        text = document_of(row)
        if text is None:
            return None
        try:
            value = _walk(_parse(text), strict_mode, steps)
        except (ValueError, JsonPathError) as exc:
            return error(row, exc)
        if value is _MISSING or value is None:
            if on_empty is JsonValueOnEmptyOrError.DEFAULT:
                return default_empty(row)
            return None
        if isinstance(value, (dict, list)):
            return error(row, ValueError(
                f"Strict jsonpath mode requires scalar value, and the actual value is: "
                f"''{_java_map_string(value)}''"))
        try:
            return convert(_scalar_string(value))
        except ValueError as exc:
            return error(row, exc)
    return returning, evaluate


def _java_map_string(value: Any) -> str:
    """A parsed JSON value as Java's Map/List toString prints it (``{d=true}``)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_java_map_string(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_java_map_string(v) for v in value) + "]"
    if value is None:
        return "null"
    return _scalar_string(value)


@builtin("json_query")
def _json_query(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    """``json_query(j, path, wrapper, on_empty, on_error)``: the object or array at
    ``path`` as a JSON string."""
    strict_mode, steps = _path_argument(name, args[1])
    wrapper, on_empty, on_error = (_symbol(a) for a in args[2:5])
    document_of = args[0].evaluate
    fallback = {JsonQueryOnEmptyOrError.NULL: None, JsonQueryOnEmptyOrError.EMPTY_ARRAY: "[]",
                JsonQueryOnEmptyOrError.EMPTY_OBJECT: "{}"}

    def behave(behavior: Any, exc: Exception) -> Optional[str]:
        if behavior is JsonQueryOnEmptyOrError.ERROR:
            raise exc
        return fallback[behavior]

    def evaluate(row: tuple) -> Optional[str]:
        text = document_of(row)
        if text is None:
            return None
        try:
            value = _walk(_parse(text), strict_mode, steps)
        except (ValueError, JsonPathError) as exc:
            return behave(on_error, exc)
        if value is _MISSING:
            return behave(on_empty, ValueError("Empty result of JSON_QUERY function is not "
                                               "allowed"))
        if wrapper is JsonQueryWrapper.UNCONDITIONAL_ARRAY or (
                wrapper is JsonQueryWrapper.CONDITIONAL_ARRAY and not isinstance(value, list)):
            value = [value]
        if not isinstance(value, (dict, list)):
            return behave(on_error, ValueError(
                f"Strict jsonpath mode requires array or object value, and the actual value "
                f"is: '{_scalar_string(value)}'"))
        return dumps(value)
    return t.VarCharType(t.MAX_LENGTH, True), evaluate


@builtin("json_exists")
def _json_exists(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    strict_mode, steps = _path_argument(name, args[1])
    on_error = _symbol(args[2]) if len(args) > 2 else JsonExistsOnError.FALSE
    results = {JsonExistsOnError.TRUE: True, JsonExistsOnError.FALSE: False,
               JsonExistsOnError.UNKNOWN: None}
    document_of = args[0].evaluate

    def evaluate(row: tuple) -> Optional[bool]:
        text = document_of(row)
        if text is None:
            return None
        try:
            document = _parse(text)
        except ValueError:
            return False
        try:
            return _walk(document, strict_mode, steps) is not _MISSING
        except JsonPathError:
            if on_error is JsonExistsOnError.ERROR:
                raise
            return results[on_error]
    return t.BooleanType(args[0].data_type.is_nullable), evaluate


@builtin("is_json")
def _is_json(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    json_type = _symbol(args[1]) if len(args) > 1 else JsonType.VALUE
    test = {JsonType.VALUE: lambda v: True,
            JsonType.SCALAR: lambda v: not isinstance(v, (dict, list)),
            JsonType.ARRAY: lambda v: isinstance(v, list),
            JsonType.OBJECT: lambda v: isinstance(v, dict)}[json_type]
    document_of = args[0].evaluate

    def evaluate(row: tuple) -> bool:
        text = document_of(row)
        if text is None:
            return False
        try:
            return test(_parse(text))
        except ValueError:
            return False
    return t.BooleanType(False), evaluate


def _json_of(arg: Resolved) -> Evaluator:
    """An argument as the JSON value it contributes: a nested JSON function's result is
    JSON, a string is a JSON string, a number or boolean itself."""
    f = arg.evaluate
    nested = getattr(arg, "json", False)
    if nested:
        return lambda row: None if (v := f(row)) is None else json.loads(v)
    return f


@builtin("json_string")
def _json_string(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    check(name, args, ["ANY"])
    return t.VarCharType(t.MAX_LENGTH, args[0].data_type.is_nullable), strict(args, dumps)


@builtin("json_object")
def _json_object(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    on_null = _symbol(args[0])
    pairs = [(args[i].evaluate, _json_of(args[i + 1])) for i in range(1, len(args) - 1, 2)]
    keep_nulls = on_null is JsonOnNull.NULL

    def evaluate(row: tuple) -> str:
        out = {}
        for key, value in pairs:
            v = value(row)
            if v is not None or keep_nulls:
                out[key(row)] = v
        return dumps(out)
    return t.VarCharType(t.MAX_LENGTH, False), evaluate


@builtin("json_array")
def _json_array(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    on_null = _symbol(args[0])
    values = [_json_of(a) for a in args[1:]]
    keep_nulls = on_null is JsonOnNull.NULL

    def evaluate(row: tuple) -> str:
        return dumps([v for f in values if (v := f(row)) is not None or keep_nulls])
    return t.VarCharType(t.MAX_LENGTH, False), evaluate
