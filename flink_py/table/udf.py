"""Python scalar functions for the Table API and SQL (``pyflink.table.udf``): ``udf``,
``ScalarFunction``, ``FunctionContext``.

A UDF here is a plain Python call on the task's thread: no serialization between the engine
and the function, which is what makes PyFlink's Python UDFs slow. ``open`` runs once per
task before the first row, ``close`` at its end; a breakpoint in ``eval`` stops there.

::

    >>> from flink_py.table import DataTypes
    >>> @udf(result_type=DataTypes.BIGINT())
    ... def add(i, j):
    ...     return i + j
    >>> add._name
    'add'
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Dict, List, Optional, Union

from flink_py.table import types as t
from flink_py.table.errors import ValidationException

__all__ = ["FunctionContext", "ScalarFunction", "UserDefinedFunction", "udf"]


class FunctionContext:
    """What a UDF's ``open`` gets: the task's metric group and job parameters."""

    def __init__(self, runtime_context: Any = None) -> None:
        self._runtime_context = runtime_context

    def get_metric_group(self) -> Any:
        if self._runtime_context is None:
            return None
        return self._runtime_context.get_metrics_group()

    def get_job_parameter(self, key: str, default_value: str) -> str:
        if self._runtime_context is None:
            return default_value
        value = self._runtime_context.get_job_parameter(key, default_value)
        return default_value if value is None else value


class UserDefinedFunction:
    """The base of user-defined functions."""

    def open(self, function_context: FunctionContext) -> None:
        pass

    def close(self) -> None:
        pass

    def is_deterministic(self) -> bool:
        return True


class ScalarFunction(UserDefinedFunction):
    """A function of one row's values to one value: implement ``eval``."""

    def eval(self, *args: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement eval(...)")


class _FunctionAdapter(ScalarFunction):
    """A plain Python function as a ScalarFunction."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self._func = func

    def eval(self, *args: Any) -> Any:
        return self._func(*args)


def parse_type(result_type: Union[t.DataType, str]) -> t.DataType:
    """A DataType, or its SQL text (``'BIGINT'``, ``'STRING'``)."""
    if isinstance(result_type, t.DataType):
        return result_type
    if isinstance(result_type, str):
        text = result_type.strip().upper()
        simple = {"BOOLEAN": t.BooleanType, "TINYINT": t.TinyIntType,
                  "SMALLINT": t.SmallIntType, "INT": t.IntType, "INTEGER": t.IntType,
                  "BIGINT": t.BigIntType, "FLOAT": t.FloatType, "DOUBLE": t.DoubleType,
                  "STRING": t.VarCharType, "DATE": t.DateType}
        not_null = text.endswith(" NOT NULL")
        if not_null:
            text = text[:-len(" NOT NULL")].strip()
        if text in simple:
            dt = simple[text]()
            return dt.not_null() if not_null else dt
    raise ValidationException(f"result_type {result_type!r}: expected a DataType or a type "
                              f"name such as 'BIGINT' or 'STRING'")


class UserDefinedScalarFunctionWrapper:
    """A scalar UDF with its result type; calling it on expressions gives the expression of
    its call (``add(col('a'), 1)``)."""

    def __init__(self, func: Union[ScalarFunction, Callable[..., Any]],
                 input_types: Optional[List[t.DataType]], result_type: t.DataType,
                 deterministic: Optional[bool], name: Optional[str]) -> None:
        if isinstance(func, ScalarFunction):
            self._function: ScalarFunction = func
        elif callable(func):
            self._function = _FunctionAdapter(func)
        else:
            raise ValidationException(f"udf: expected a function or a ScalarFunction, got "
                                      f"{func!r}")
        self._input_types = input_types
        self._result_type = result_type
        self._deterministic = (deterministic if deterministic is not None
                               else self._function.is_deterministic())
        self._name = name or (getattr(func, "__name__", None) or type(func).__name__)

    def __call__(self, *args: Any) -> Any:
        from flink_py.table.expressions import UdfCall, _to_expr
        return UdfCall(self, [_to_expr(a) for a in args])

    def alias(self, *names: str) -> "UserDefinedScalarFunctionWrapper":
        return self


def udf(f: Any = None, input_types: Optional[List[t.DataType]] = None,
        result_type: Union[t.DataType, str, None] = None,
        deterministic: Optional[bool] = None, name: Optional[str] = None,
        func_type: str = "general") -> Any:
    """A scalar UDF from a function or a ScalarFunction; usable as ``@udf(result_type=...)``.

    :param result_type: the type of the function's results (a DataType or its SQL name).
    :param func_type: ``'general'``; ``'pandas'`` needs pandas and is not built yet.
    """
    if func_type != "general":
        raise ValidationException(f"udf func_type {func_type!r} is not supported yet "
                                  f"(only 'general')")
    if result_type is None:
        raise ValidationException("udf needs a result_type (a DataType or its SQL name)")
    parsed = parse_type(result_type)
    if f is None:
        return functools.partial(udf, input_types=input_types, result_type=parsed,
                                 deterministic=deterministic, name=name, func_type=func_type)
    return UserDefinedScalarFunctionWrapper(f, input_types, parsed, deterministic, name)


def open_functions(functions: List[ScalarFunction], runtime_context: Any) -> None:
    context = FunctionContext(runtime_context)
    for fn in functions:
        fn.open(context)


def close_functions(functions: List[ScalarFunction]) -> None:
    for fn in functions:
        fn.close()


FunctionCatalog = Dict[str, UserDefinedScalarFunctionWrapper]
