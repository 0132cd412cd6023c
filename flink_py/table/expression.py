"""``pyflink.table.expression``: the enums of the JSON functions' options, and the Table API
methods of :class:`Expression` that call Flink's built-in functions (``.substring``,
``.trim``, ``.like``, ``.in_``, ``.round``, ``.json_value``, ...).

The methods live in :class:`BuiltinFunctionMethods`, a base of ``expressions.Expression``;
each builds a call of the built-in of the same name in ``functions_builtin``.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

__all__ = ["Expression", "JsonType", "JsonExistsOnError", "JsonValueOnEmptyOrError",
           "JsonQueryWrapper", "JsonQueryOnEmptyOrError", "JsonOnNull"]


class JsonType(Enum):
    """Types of JSON objects for is_json()."""

    VALUE = 0
    SCALAR = 1
    ARRAY = 2
    OBJECT = 3


class JsonExistsOnError(Enum):
    """Behavior in case of errors for json_exists()."""

    TRUE = 0
    FALSE = 1
    UNKNOWN = 2
    ERROR = 3


class JsonValueOnEmptyOrError(Enum):
    """Behavior in case of emptiness or errors for json_value()."""

    NULL = 0
    ERROR = 1
    DEFAULT = 2


class JsonQueryWrapper(Enum):
    """Whether and when to wrap the result of json_query() into an array."""

    WITHOUT_ARRAY = 0
    CONDITIONAL_ARRAY = 1
    UNCONDITIONAL_ARRAY = 2


class JsonQueryOnEmptyOrError(Enum):
    """The behavior of json_query() in case of emptiness or errors."""

    NULL = 0
    EMPTY_ARRAY = 1
    EMPTY_OBJECT = 2
    ERROR = 3


class JsonOnNull(Enum):
    """Behavior for entries with a null value for json_object() and json_array()."""

    NULL = 0
    ABSENT = 1


def _call(name: str, *args: Any) -> Any:
    from flink_py.table.functions_builtin import call
    return call(name, *args)


def _symbol(value: Any) -> Any:
    from flink_py.table.functions_builtin import Symbol
    return Symbol(value)


class BuiltinFunctionMethods:
    """PyFlink's Expression methods that call built-in functions."""

    # -- math --------------------------------------------------------------------------------
    def __pow__(self, other: Any) -> Any:
        return _call("power", self, other)

    def __rpow__(self, other: Any) -> Any:
        return _call("power", other, self)

    def __rmod__(self, other: Any) -> Any:
        return _call("mod", other, self)

    def __abs__(self) -> Any:
        return _call("abs", self)

    @property
    def exp(self) -> Any:
        return _call("exp", self)

    @property
    def log10(self) -> Any:
        return _call("log10", self)

    @property
    def log2(self) -> Any:
        return _call("log2", self)

    @property
    def ln(self) -> Any:
        return _call("ln", self)

    def log(self, base: Any = None) -> Any:
        """The logarithm of this value to ``base`` (natural without one)."""
        return _call("log", self) if base is None else _call("log", base, self)

    @property
    def sqrt(self) -> Any:
        return _call("sqrt", self)

    @property
    def sign(self) -> Any:
        return _call("sign", self)

    @property
    def sin(self) -> Any:
        return _call("sin", self)

    @property
    def cos(self) -> Any:
        return _call("cos", self)

    @property
    def tan(self) -> Any:
        return _call("tan", self)

    @property
    def cot(self) -> Any:
        return _call("cot", self)

    @property
    def asin(self) -> Any:
        return _call("asin", self)

    @property
    def acos(self) -> Any:
        return _call("acos", self)

    @property
    def atan(self) -> Any:
        return _call("atan", self)

    @property
    def sinh(self) -> Any:
        return _call("sinh", self)

    @property
    def cosh(self) -> Any:
        return _call("cosh", self)

    @property
    def tanh(self) -> Any:
        return _call("tanh", self)

    @property
    def degrees(self) -> Any:
        return _call("degrees", self)

    @property
    def radians(self) -> Any:
        return _call("radians", self)

    def round(self, places: Any) -> Any:
        """This number rounded HALF_UP to ``places`` decimal places (negative: tens, ...)."""
        return _call("round", self, places)

    def truncate(self, n: Any = 0) -> Any:
        """This number cut toward zero to ``n`` decimal places."""
        return _call("truncate", self, n)

    def floor(self, time_interval_unit: Any = None) -> Any:
        if time_interval_unit is not None:
            from flink_py.table.errors import TableException
            raise TableException("floor to a time interval unit is not supported yet")
        return _call("floor", self)

    def ceil(self, time_interval_unit: Any = None) -> Any:
        if time_interval_unit is not None:
            from flink_py.table.errors import TableException
            raise TableException("ceil to a time interval unit is not supported yet")
        return _call("ceil", self)

    @property
    def bin(self) -> Any:
        return _call("bin", self)

    @property
    def hex(self) -> Any:
        return _call("hex", self)

    # -- comparisons and conditions ----------------------------------------------------------
    def between(self, lower_bound: Any, upper_bound: Any) -> Any:
        """Whether this value is between the bounds, both inclusive."""
        return _call("between", self, lower_bound, upper_bound)

    def not_between(self, lower_bound: Any, upper_bound: Any) -> Any:
        return _call("not_between", self, lower_bound, upper_bound)

    def in_(self, first_element_or_table: Any, *remaining_elements: Any) -> Any:
        """Whether this value is one of the elements (an IN list; a sub-query table is not
        supported yet)."""
        from flink_py.table.table import Table
        if isinstance(first_element_or_table, Table):
            from flink_py.table.errors import TableException
            raise TableException("IN with a sub-query table is not supported yet")
        return _call("in", self, first_element_or_table, *remaining_elements)

    @property
    def is_not_true(self) -> Any:
        return _call("not", _call("is_true", self))

    @property
    def is_not_false(self) -> Any:
        return _call("not", _call("is_false", self))

    # -- strings -----------------------------------------------------------------------------
    def concat(self, other: Any) -> Any:
        return _call("concat", self, other)

    def substring(self, begin_index: Any, length: Any = None) -> Any:
        """The substring from 1-based ``begin_index``, of ``length`` characters."""
        if length is None:
            return _call("substring", self, begin_index)
        return _call("substring", self, begin_index, length)

    def substr(self, begin_index: Any, length: Any = None) -> Any:
        return self.substring(begin_index, length)

    def trim_leading(self, character: Any = None) -> Any:
        return _call("ltrim", self) if character is None else _call("ltrim", self, character)

    def trim_trailing(self, character: Any = None) -> Any:
        return _call("rtrim", self) if character is None else _call("rtrim", self, character)

    def trim(self, character: Any = None) -> Any:
        return _call("trim", self) if character is None else _call("trim", self, character)

    def ltrim(self, trim_str: Any = None) -> Any:
        return self.trim_leading(trim_str)

    def rtrim(self, trim_str: Any = None) -> Any:
        return self.trim_trailing(trim_str)

    def btrim(self, trim_str: Any = None) -> Any:
        return self.trim(trim_str)

    def replace(self, search: Any = None, replacement: Any = None) -> Any:
        return _call("replace", self, search, replacement)

    @property
    def init_cap(self) -> Any:
        return _call("initcap", self)

    def like(self, pattern: Any = None, escape: Any = None) -> Any:
        if escape is None:
            return _call("like", self, pattern)
        return _call("like", self, pattern, escape)

    def similar(self, pattern: Any = None) -> Any:
        return _call("similar", self, pattern)

    def position(self, haystack: Any = None) -> Any:
        """The 1-based position of this string in ``haystack``, 0 when absent."""
        return _call("position", self, haystack)

    def lpad(self, length: Any, pad: Any) -> Any:
        return _call("lpad", self, length, pad)

    def rpad(self, length: Any, pad: Any) -> Any:
        return _call("rpad", self, length, pad)

    def overlay(self, new_string: Any, starting: Any, length: Any = None) -> Any:
        if length is None:
            return _call("overlay", self, new_string, starting)
        return _call("overlay", self, new_string, starting, length)

    def regexp(self, regex: Any) -> Any:
        return _call("regexp", self, regex)

    def regexp_replace(self, regex: Any, replacement: Any) -> Any:
        return _call("regexp_replace", self, regex, replacement)

    def regexp_extract(self, regex: Any, extract_index: Any = None) -> Any:
        if extract_index is None:
            return _call("regexp_extract", self, regex)
        return _call("regexp_extract", self, regex, extract_index)

    @property
    def from_base64(self) -> Any:
        return _call("from_base64", self)

    @property
    def to_base64(self) -> Any:
        return _call("to_base64", self)

    @property
    def ascii(self) -> Any:
        return _call("ascii", self)

    @property
    def chr(self) -> Any:
        return _call("chr", self)

    def left(self, length: Any) -> Any:
        return _call("left", self, length)

    def right(self, length: Any) -> Any:
        return _call("right", self, length)

    def instr(self, s: Any) -> Any:
        return _call("instr", self, s)

    def locate(self, s: Any, pos: Any = None) -> Any:
        """The 1-based position of this string in ``s`` (from ``pos``), 0 when absent."""
        if pos is None:
            return _call("locate", self, s)
        return _call("locate", self, s, pos)

    def repeat(self, n: Any) -> Any:
        return _call("repeat", self, n)

    @property
    def reverse(self) -> Any:
        return _call("reverse", self)

    def split_index(self, separator: Any, index: Any) -> Any:
        return _call("split_index", self, separator, index)

    def starts_with(self, start_expr: Any) -> Any:
        return _call("starts_with", self, start_expr)

    def ends_with(self, end_expr: Any) -> Any:
        return _call("ends_with", self, end_expr)

    @property
    def md5(self) -> Any:
        return _call("md5", self)

    @property
    def sha1(self) -> Any:
        return _call("sha1", self)

    @property
    def sha224(self) -> Any:
        return _call("sha224", self)

    @property
    def sha256(self) -> Any:
        return _call("sha256", self)

    @property
    def sha384(self) -> Any:
        return _call("sha384", self)

    @property
    def sha512(self) -> Any:
        return _call("sha512", self)

    # -- JSON --------------------------------------------------------------------------------
    def is_json(self, json_type: Any = None) -> Any:
        """Whether this string is valid JSON (of ``json_type``, default any value)."""
        return _call("is_json", self, _symbol(json_type or JsonType.VALUE))

    def json_exists(self, path: str, on_error: Any = None) -> Any:
        """Whether this JSON string has a value at ``path``."""
        return _call("json_exists", self, path,
                     _symbol(on_error or JsonExistsOnError.FALSE))

    def json_value(self, path: str, returning_type: Any = None,
                   on_empty: JsonValueOnEmptyOrError = JsonValueOnEmptyOrError.NULL,
                   default_on_empty: Any = None,
                   on_error: JsonValueOnEmptyOrError = JsonValueOnEmptyOrError.NULL,
                   default_on_error: Any = None) -> Any:
        """The scalar at ``path`` of this JSON string, as ``returning_type`` (STRING)."""
        from flink_py.table.types import DataTypes
        from flink_py.table.expressions import null_of
        returning = returning_type if returning_type is not None else DataTypes.STRING()
        return _call("json_value", self, path, _symbol(returning), _symbol(on_empty),
                     default_on_empty if default_on_empty is not None else null_of(returning),
                     _symbol(on_error),
                     default_on_error if default_on_error is not None else null_of(returning))

    def json_query(self, path: str, wrapping_behavior: Any = JsonQueryWrapper.WITHOUT_ARRAY,
                   on_empty: Any = JsonQueryOnEmptyOrError.NULL,
                   on_error: Any = JsonQueryOnEmptyOrError.NULL) -> Any:
        """The JSON value (object or array) at ``path`` of this JSON string, as a string."""
        return _call("json_query", self, path, _symbol(wrapping_behavior), _symbol(on_empty),
                     _symbol(on_error))


def __getattr__(name: str) -> Any:
    if name == "Expression":  # the class, from the module that defines it (imports this one)
        from flink_py.table.expressions import Expression
        return Expression
    raise AttributeError(name)
