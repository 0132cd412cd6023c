"""Python user-defined functions for the Table API and SQL (``pyflink.table.udf``): scalar
functions (``udf``, ``ScalarFunction``, ``AsyncScalarFunction``), table functions (``udtf``,
``TableFunction``), aggregate functions (``udaf``, ``AggregateFunction``) and table aggregate
functions (``udtaf``, ``TableAggregateFunction``), and ``FunctionContext``.

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

import asyncio
import functools
import inspect
from typing import Any, Callable, Dict, List, Optional, Union

from flink_py.table import types as t
from flink_py.table.errors import TableException, ValidationException

__all__ = ["AggregateFunction", "AsyncScalarFunction", "FunctionContext",
           "ImperativeAggregateFunction", "ScalarFunction", "TableAggregateFunction",
           "TableFunction", "UserDefinedFunction", "udaf", "udf", "udtaf", "udtf"]


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
    """A DataType, or its SQL text (``'BIGINT'``, ``'STRING'``, ``'ROW<a BIGINT, b STRING>'``,
    ``'ARRAY<BIGINT>'``)."""
    if isinstance(result_type, t.DataType):
        return result_type
    if isinstance(result_type, str):
        parsed = _parse_type_text(result_type.strip())
        if parsed is not None:
            return parsed
        from flink_py.table.sql import sql_type
        parsed = sql_type(result_type.strip())  # TIMESTAMP_LTZ(3), DECIMAL(10, 2), ...
        if parsed is not None:
            return parsed
    raise ValidationException(f"result_type {result_type!r}: expected a DataType or a type "
                              f"name such as 'BIGINT' or 'STRING'")


_SIMPLE_TYPES = {"BOOLEAN": t.BooleanType, "TINYINT": t.TinyIntType,
                 "SMALLINT": t.SmallIntType, "INT": t.IntType, "INTEGER": t.IntType,
                 "BIGINT": t.BigIntType, "FLOAT": t.FloatType, "DOUBLE": t.DoubleType,
                 "STRING": t.VarCharType, "DATE": t.DateType}


def _split_top_level(text: str) -> List[str]:
    """``text`` split at the commas outside ``<...>``."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def _parse_type_text(text: str) -> Optional[t.DataType]:
    upper = text.upper()
    not_null = upper.endswith(" NOT NULL")
    if not_null:
        text = text[:-len(" NOT NULL")].strip()
        upper = text.upper()
    dt: Optional[t.DataType] = None
    if upper in _SIMPLE_TYPES:
        dt = _SIMPLE_TYPES[upper]()
    elif "<" in text and text.endswith(">"):
        root, inner = upper[:text.index("<")].strip(), text[text.index("<") + 1:-1]
        args = _split_top_level(inner)
        if root == "ROW":
            fields = []
            for field in args:
                name, _, field_type = field.strip().partition(" ")
                parsed = _parse_type_text(field_type.strip())
                if parsed is None:
                    return None
                fields.append(t.RowField(name.strip("`"), parsed))
            dt = t.RowType(fields)
        elif root == "ARRAY" and len(args) == 1:
            element = _parse_type_text(args[0])
            dt = t.ArrayType(element) if element is not None else None
        elif root == "MAP" and len(args) == 2:
            key, value = _parse_type_text(args[0]), _parse_type_text(args[1])
            dt = t.MapType(key, value) if key is not None and value is not None else None
    if dt is None:
        return None
    return dt.not_null() if not_null else dt


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
        """Names for the columns of a ROW result (``Table.map``); PyFlink keeps them on the
        function itself, as here."""
        self._alias_names = names
        return self

    def _set_takes_row_as_input(self) -> "UserDefinedScalarFunctionWrapper":
        self._takes_row_as_input = True
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
    if isinstance(f, AsyncScalarFunction) or inspect.iscoroutinefunction(f):
        return UserDefinedScalarFunctionWrapper(_AsyncAdapter(f), input_types, parsed,
                                                deterministic, name or _name_of(f))
    return UserDefinedScalarFunctionWrapper(f, input_types, parsed, deterministic, name)


def open_functions(functions: List[ScalarFunction], runtime_context: Any) -> None:
    context = FunctionContext(runtime_context)
    for fn in functions:
        fn.open(context)


def close_functions(functions: List[ScalarFunction]) -> None:
    for fn in functions:
        fn.close()


def _name_of(func: Any) -> str:
    return getattr(func, "__name__", None) or type(func).__name__


class AsyncScalarFunction(UserDefinedFunction):
    """A scalar function whose ``eval`` is a coroutine (``async def eval``), for lookups in
    external systems.

    Here each call is awaited on an event loop of the task's own, one row at a time, so the
    results come in input order (as Flink's ordered mode) without serialization; rows are
    not yet overlapped in flight.
    """

    async def eval(self, *args: Any) -> Any:  # pragma: no cover - implemented by users
        raise NotImplementedError(f"{type(self).__name__} must implement async eval(...)")


class _AsyncAdapter(ScalarFunction):
    """An async function or AsyncScalarFunction as a ScalarFunction: each call runs its
    coroutine to completion on an event loop the task opens."""

    def __init__(self, func: Any) -> None:
        self._inner = func
        self._eval = func.eval if isinstance(func, AsyncScalarFunction) else func
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    def open(self, function_context: FunctionContext) -> None:
        self._loop = asyncio.new_event_loop()
        if isinstance(self._inner, UserDefinedFunction):
            self._inner.open(function_context)

    def close(self) -> None:
        if isinstance(self._inner, UserDefinedFunction):
            self._inner.close()
        if self._loop is not None:
            self._loop.close()
            self._loop = None

    def is_deterministic(self) -> bool:
        if isinstance(self._inner, UserDefinedFunction):
            return self._inner.is_deterministic()
        return True

    def eval(self, *args: Any) -> Any:
        if self._loop is None:  # called outside a task (no open): a loop of its own
            self._loop = asyncio.new_event_loop()
        return self._loop.run_until_complete(self._eval(*args))


class TableFunction(UserDefinedFunction):
    """A function of one row's values to zero, one or more rows: implement ``eval`` to
    yield (or return an iterable of) tuples, Rows, or single values when the function has
    one result column."""

    def eval(self, *args: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement eval(...)")


class _TableFunctionAdapter(TableFunction):
    def __init__(self, func: Callable[..., Any]) -> None:
        self._func = func

    def eval(self, *args: Any) -> Any:
        return self._func(*args)


class ImperativeAggregateFunction(UserDefinedFunction):
    """The base of AggregateFunction and TableAggregateFunction: an accumulator per group,
    created by ``create_accumulator`` and updated in place by ``accumulate`` (and, over an
    updating input, ``retract``)."""

    def create_accumulator(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement "
                                  f"create_accumulator()")

    def accumulate(self, accumulator: Any, *args: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement accumulate(...)")

    def retract(self, accumulator: Any, *args: Any) -> None:
        raise RuntimeError("Method retract is not implemented")

    def merge(self, accumulator: Any, accumulators: List[Any]) -> None:
        raise RuntimeError("Method merge is not implemented")

    def get_result_type(self) -> Union[t.DataType, str]:
        raise RuntimeError("Method get_result_type is not implemented")

    def get_accumulator_type(self) -> Union[t.DataType, str]:
        raise RuntimeError("Method get_accumulator_type is not implemented")


class AggregateFunction(ImperativeAggregateFunction):
    """Values of many rows to one value: ``get_value(accumulator)`` gives it."""

    def get_value(self, accumulator: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement get_value(...)")


class TableAggregateFunction(ImperativeAggregateFunction):
    """Values of many rows to rows: ``emit_value(accumulator)`` yields them (Rows, tuples,
    or single values for a one-column result)."""

    def emit_value(self, accumulator: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement emit_value(...)")


def _overrides(function: Any, method: str, base: type) -> bool:
    """Whether ``function``'s class defines ``method`` itself (not the base's default)."""
    return getattr(type(function), method, None) is not getattr(base, method)


class UserDefinedTableFunctionWrapper:
    """A table function with its result columns' types; calling it on expressions gives the
    call (``split(col('line')).alias('word')``), to use in ``join_lateral``, ``flat_map``
    and SQL's ``LATERAL TABLE``."""

    def __init__(self, func: Union[TableFunction, Callable[..., Any]],
                 input_types: Optional[List[t.DataType]],
                 result_types: Union[t.DataType, str, List[Union[t.DataType, str]]],
                 deterministic: Optional[bool], name: Optional[str]) -> None:
        if isinstance(func, type) or not (isinstance(func, TableFunction) or callable(func)):
            raise TypeError(f"Invalid function: not a function or callable (__call__ is not "
                            f"defined): {type(func)}")
        self._function: TableFunction = (func if isinstance(func, TableFunction)
                                         else _TableFunctionAdapter(func))
        self._input_types = input_types
        self._name = name or _name_of(func)
        self._deterministic = (deterministic if deterministic is not None
                               else self._function.is_deterministic())
        if result_types is None:
            raise ValidationException("udtf needs result_types (DataTypes or their SQL names)")
        names: Optional[List[str]] = None
        if isinstance(result_types, t.RowType):
            types = result_types.field_types()
        elif isinstance(result_types, str):
            parsed = parse_type(result_types)
            if isinstance(parsed, t.RowType):  # 'ROW<a BIGINT, b BIGINT>' names the columns
                names, types = parsed.field_names(), parsed.field_types()
            else:
                types = [parsed]
        elif isinstance(result_types, t.DataType):
            types = [result_types]
        else:
            types = [parse_type(r) for r in result_types]
        self._result_types: List[t.DataType] = types
        self._result_names: List[str] = names or [f"f{i}" for i in range(len(types))]
        self._takes_row_as_input = False

    def __call__(self, *args: Any) -> Any:
        from flink_py.table.udf_plan import TableFunctionCall
        from flink_py.table.expressions import _to_expr
        return TableFunctionCall(self, [_to_expr(a) for a in args])

    def alias(self, *names: str) -> "UserDefinedTableFunctionWrapper":
        """Names for the result columns when the function itself (taking the whole row) is
        given to ``join_lateral``; PyFlink keeps them on the function, as here."""
        self._alias_names = names
        return self

    def _set_takes_row_as_input(self) -> "UserDefinedTableFunctionWrapper":
        self._takes_row_as_input = True
        return self


def udtf(f: Any = None, input_types: Optional[List[t.DataType]] = None,
         result_types: Union[t.DataType, str, List[Union[t.DataType, str]], None] = None,
         deterministic: Optional[bool] = None, name: Optional[str] = None) -> Any:
    """A table function from a generator function or a TableFunction; usable as
    ``@udtf(result_types=[DataTypes.STRING(), DataTypes.INT()])``.

    :param result_types: the types of the result columns: a list, one DataType for one
        column, a ROW type, or SQL names (``'ROW<a BIGINT, b STRING>'`` names the columns;
        else they are ``f0``, ``f1``, ...).
    """
    if f is None:
        return functools.partial(udtf, input_types=input_types, result_types=result_types,
                                 deterministic=deterministic, name=name)
    return UserDefinedTableFunctionWrapper(f, input_types, result_types, deterministic, name)


class UserDefinedAggregateFunctionWrapper:
    """An aggregate function (or, ``is_table_aggregate``, a table aggregate function) with
    its result and accumulator types; calling it on expressions gives its call."""

    def __init__(self, func: ImperativeAggregateFunction,
                 input_types: Optional[List[t.DataType]],
                 result_type: Union[t.DataType, str, None],
                 accumulator_type: Union[t.DataType, str, None], func_type: str,
                 deterministic: Optional[bool], name: Optional[str],
                 is_table_aggregate: bool = False) -> None:
        base = TableAggregateFunction if is_table_aggregate else AggregateFunction
        if isinstance(func, type) or not isinstance(func, base):
            raise TypeError(f"Invalid function: expected an instance of {base.__name__}, got "
                            f"{func!r}")
        if func_type == "pandas":
            raise TableException(
                "a pandas UDAF (func_type='pandas') needs pandas, which is not installed; "
                "use func_type='general' with an AggregateFunction")
        if func_type != "general":
            raise ValueError(f"The func_type must be one of 'general, pandas', got "
                             f"{func_type}.")
        if accumulator_type is None:
            accumulator_type = func.get_accumulator_type()
        if result_type is None:
            result_type = func.get_result_type()
        if not isinstance(result_type, (t.DataType, str)):
            raise TypeError(f"Invalid returnType: returnType should be DataType or str but is "
                            f"{result_type}")
        if not isinstance(accumulator_type, (t.DataType, str)):
            raise TypeError(f"Invalid accumulator_type: accumulator_type should be DataType "
                            f"or str but is {accumulator_type}")
        if isinstance(result_type, t.DataType) != isinstance(accumulator_type, t.DataType):
            raise TypeError("result_type and accumulator_type should be DataType or str at the "
                            "same time.")
        self._function = func
        self._input_types = input_types
        self._result_type: t.DataType = parse_type(result_type)
        self._accumulator_type = accumulator_type
        self._func_type = func_type
        self._is_table_aggregate = is_table_aggregate
        self._name = name or _name_of(func)
        self._deterministic = (deterministic if deterministic is not None
                               else func.is_deterministic())
        self._takes_row_as_input = False
        #: whether the function retracts (an updating input needs it)
        self._retracts = _overrides(func, "retract", ImperativeAggregateFunction)
        self._merges = _overrides(func, "merge", ImperativeAggregateFunction)

    def __call__(self, *args: Any) -> Any:
        from flink_py.table.expressions import _to_expr
        from flink_py.table.udf_plan import TableAggregateCall, UdafCall
        kind = TableAggregateCall if self._is_table_aggregate else UdafCall
        return kind(self, [_to_expr(a) for a in args])

    def alias(self, *names: str) -> "UserDefinedAggregateFunctionWrapper":
        """Names for the result's columns when the function itself (taking the whole row)
        is given to ``aggregate``/``flat_aggregate``."""
        self._alias_names = names
        return self

    def _set_takes_row_as_input(self) -> "UserDefinedAggregateFunctionWrapper":
        self._takes_row_as_input = True
        return self


def udaf(f: Any = None, input_types: Optional[List[t.DataType]] = None,
         result_type: Union[t.DataType, str, None] = None,
         accumulator_type: Union[t.DataType, str, None] = None,
         deterministic: Optional[bool] = None, name: Optional[str] = None,
         func_type: str = "general") -> Any:
    """An aggregate function from an AggregateFunction; its result and accumulator types
    come from ``result_type``/``accumulator_type`` or the function's ``get_result_type``/
    ``get_accumulator_type``.

    :param func_type: ``'general'``; ``'pandas'`` (vectorized, needs pandas) raises a
        TableException: pandas is not installed here.
    """
    if func_type not in ("general", "pandas"):
        raise ValueError(f"The func_type must be one of 'general, pandas', got {func_type}.")
    if f is None:
        return functools.partial(udaf, input_types=input_types, result_type=result_type,
                                 accumulator_type=accumulator_type,
                                 deterministic=deterministic, name=name, func_type=func_type)
    return UserDefinedAggregateFunctionWrapper(f, input_types, result_type, accumulator_type,
                                               func_type, deterministic, name)


def udtaf(f: Any = None, input_types: Optional[List[t.DataType]] = None,
          result_type: Union[t.DataType, str, None] = None,
          accumulator_type: Union[t.DataType, str, None] = None,
          deterministic: Optional[bool] = None, name: Optional[str] = None,
          func_type: str = "general") -> Any:
    """A table aggregate function from a TableAggregateFunction (``flat_aggregate``)."""
    if func_type != "general":
        raise ValueError(f"The func_type must be 'general', got {func_type}.")
    if f is None:
        return functools.partial(udtaf, input_types=input_types, result_type=result_type,
                                 accumulator_type=accumulator_type,
                                 deterministic=deterministic, name=name, func_type=func_type)
    return UserDefinedAggregateFunctionWrapper(f, input_types, result_type, accumulator_type,
                                               func_type, deterministic, name, True)


FunctionCatalog = Dict[str, Any]
