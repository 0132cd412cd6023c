"""Table API expressions (``pyflink.table.expressions``: ``col``, ``lit``, ``if_then_else``)
and their resolution against a schema into a typed Python evaluator.

An :class:`Expression` is a tree; ``resolve(scope)`` checks it against the input columns and
returns a :class:`Resolved`: its result type and a function of the input row (a tuple) that
computes it with SQL's semantics -- a NULL operand gives NULL, ``AND``/``OR`` are three-valued,
integer arithmetic keeps the operands' type (``/`` truncates toward zero, overflow wraps as
Java's does). SQL queries are translated into the same trees (``flink_py.table.sql``).
"""

from __future__ import annotations

import contextlib
import decimal
import math
import struct
from contextvars import ContextVar
from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

from flink_py.table import decimals
from flink_py.table import types as t
from flink_py.table.errors import ValidationException
from flink_py.table.expression import BuiltinFunctionMethods

__all__ = ["Expression", "col", "lit", "call", "if_then_else", "null_of", "coalesce",
           "concat", "row_interval", "UNBOUNDED_ROW", "UNBOUNDED_RANGE", "CURRENT_ROW",
           "CURRENT_RANGE", "concat_ws", "pi", "e", "log", "atan2", "negative", "json_string",
           "json_object", "json_array"]

Evaluator = Callable[[tuple], Any]

#: the UDFs registered in the TableEnvironment whose query is being resolved, by lower-case
#: name (``create_temporary_function``); see ``functions_in_scope``
FUNCTION_CATALOG: ContextVar[dict] = ContextVar("FUNCTION_CATALOG", default={})


@contextlib.contextmanager
def functions_in_scope(catalog: dict) -> Any:
    """Resolves the expressions built inside with ``catalog``'s functions."""
    token = FUNCTION_CATALOG.set(catalog)
    try:
        yield
    finally:
        FUNCTION_CATALOG.reset(token)


class Resolved:
    """A resolved expression: its type, its evaluator, and the name a select gives it when
    it has no alias (None: ``_c<i>`` / ``EXPR$<i>``)."""

    __slots__ = ("data_type", "evaluate", "name", "constant", "udfs", "expr", "input_names")

    def __init__(self, data_type: t.DataType, evaluate: Evaluator,
                 name: Optional[str] = None, constant: bool = False,
                 udfs: Tuple[Any, ...] = ()) -> None:
        self.data_type, self.evaluate, self.name, self.constant = (
            data_type, evaluate, name, constant)
        #: the user-defined functions it calls (the task opens and closes them)
        self.udfs = udfs
        #: the expression it was resolved from, and the names of the columns it reads
        #: (set by Expression.resolve; explain prints the expression)
        self.expr: Optional["Expression"] = None
        self.input_names: Optional[List[str]] = None


class Scope:
    """The columns an expression may refer to: names and types, by position.

    ``qualified`` gives, per column, the table name or alias it came from in a SQL ``FROM``
    and its name there (a join's output names a right-side ``a`` ``a0``, but ``b.a`` and an
    unambiguous ``a`` still find it); without it, columns are found by their names."""

    def __init__(self, names: Sequence[str], data_types: Sequence[t.DataType],
                 qualified: Optional[Sequence[Tuple[Optional[str], str]]] = None) -> None:
        self.names, self.data_types = list(names), list(data_types)
        self.qualified = list(qualified) if qualified is not None else None

    def index_of(self, name: str, position: Optional[str] = None,
                 qualifier: Optional[str] = None) -> int:
        """The column's index; ``position`` (``At line 1, column 8``) leads the error."""
        where = f"{position + ': ' if position else ''}"
        if qualifier is not None or self.qualified is not None:
            return self._qualified_index(name, qualifier, where)
        if name in self.names:
            return self.names.index(name)
        lowered = [n.lower() for n in self.names]
        if name.lower() in lowered and lowered.count(name.lower()) == 1:
            return lowered.index(name.lower())
        raise ValidationException(
            f"{where}Column '{name}' not found in any table; "
            f"the input has columns [{', '.join(self.names)}]")

    def _qualified_index(self, name: str, qualifier: Optional[str], where: str) -> int:
        columns = self.qualified or [(None, n) for n in self.names]
        if qualifier is not None:
            tables = {q for q, _ in columns if q is not None}
            if qualifier not in tables:
                lowered = {q.lower(): q for q in tables}
                if qualifier.lower() not in lowered:
                    raise ValidationException(f"{where}Table '{qualifier}' not found")
                qualifier = lowered[qualifier.lower()]
            candidates = [i for i, (q, _) in enumerate(columns) if q == qualifier]
        else:
            candidates = list(range(len(columns)))
        exact = [i for i in candidates if columns[i][1] == name]
        if not exact:
            exact = [i for i in candidates if columns[i][1].lower() == name.lower()]
        if len(exact) == 1:
            return exact[0]
        if len(exact) > 1:
            raise ValidationException(f"{where}Column '{name}' is ambiguous")
        if qualifier is not None:
            raise ValidationException(
                f"{where}Column '{name}' not found in table '{qualifier}'")
        raise ValidationException(
            f"{where}Column '{name}' not found in any table; the input has columns "
            f"[{', '.join(n for _, n in columns)}]")


def _to_expr(value: Any) -> "Expression":
    return value if isinstance(value, Expression) else Literal(value)


class Expression(BuiltinFunctionMethods):
    """A Table API expression. Build them with :func:`col` and :func:`lit` and Python's
    operators; ``==`` builds a comparison (use ``is`` for identity).

    ::

        >>> (col("a") + 1).alias("b")
        Alias(Call(plus, [a, 1]), b)
    """

    __hash__ = object.__hash__

    # -- operators (each builds a call) ----------------------------------------------------
    def __add__(self, other: Any) -> "Expression":
        return Call("plus", [self, _to_expr(other)])

    def __radd__(self, other: Any) -> "Expression":
        return Call("plus", [_to_expr(other), self])

    def __sub__(self, other: Any) -> "Expression":
        return Call("minus", [self, _to_expr(other)])

    def __rsub__(self, other: Any) -> "Expression":
        return Call("minus", [_to_expr(other), self])

    def __mul__(self, other: Any) -> "Expression":
        return Call("times", [self, _to_expr(other)])

    def __rmul__(self, other: Any) -> "Expression":
        return Call("times", [_to_expr(other), self])

    def __truediv__(self, other: Any) -> "Expression":
        return Call("divide", [self, _to_expr(other)])

    def __rtruediv__(self, other: Any) -> "Expression":
        return Call("divide", [_to_expr(other), self])

    def __mod__(self, other: Any) -> "Expression":
        return Call("mod", [self, _to_expr(other)])

    def __neg__(self) -> "Expression":
        return Call("minus_prefix", [self])

    def __eq__(self, other: Any) -> "Expression":  # type: ignore[override]
        return Call("equals", [self, _to_expr(other)])

    def __ne__(self, other: Any) -> "Expression":  # type: ignore[override]
        return Call("not_equals", [self, _to_expr(other)])

    def __lt__(self, other: Any) -> "Expression":
        return Call("less_than", [self, _to_expr(other)])

    def __le__(self, other: Any) -> "Expression":
        return Call("less_than_or_equal", [self, _to_expr(other)])

    def __gt__(self, other: Any) -> "Expression":
        return Call("greater_than", [self, _to_expr(other)])

    def __ge__(self, other: Any) -> "Expression":
        return Call("greater_than_or_equal", [self, _to_expr(other)])

    def __and__(self, other: Any) -> "Expression":
        return Call("and", [self, _to_expr(other)])

    def __rand__(self, other: Any) -> "Expression":
        return Call("and", [_to_expr(other), self])

    def __or__(self, other: Any) -> "Expression":
        return Call("or", [self, _to_expr(other)])

    def __ror__(self, other: Any) -> "Expression":
        return Call("or", [_to_expr(other), self])

    def __invert__(self) -> "Expression":
        return Call("not", [self])

    def __bool__(self) -> bool:
        raise ValidationException(
            "an expression has no truth value: combine conditions with & and |, not 'and'/'or'")

    # -- methods, as PyFlink's Expression ---------------------------------------------------
    def alias(self, name: str, *extra_names: str) -> "Expression":
        """This expression under another name."""
        if extra_names:
            raise ValidationException("alias with several names is only for table functions")
        return Alias(self, name)

    def cast(self, data_type: t.DataType) -> "Expression":
        """This expression converted to ``data_type`` (SQL's ``CAST``)."""
        return Cast(self, data_type)

    @property
    def is_null(self) -> "Expression":
        return Call("is_null", [self])

    @property
    def is_not_null(self) -> "Expression":
        return Call("is_not_null", [self])

    @property
    def is_true(self) -> "Expression":
        return Call("is_true", [self])

    @property
    def is_false(self) -> "Expression":
        return Call("is_false", [self])

    def if_null(self, null_replacement: Any) -> "Expression":
        return Call("coalesce", [self, _to_expr(null_replacement)])

    def then(self, if_true: Any, if_false: Any) -> "Expression":
        return Call("case", [self, _to_expr(if_true), _to_expr(if_false)])

    @property
    def upper_case(self) -> "Expression":
        return Call("upper", [self])

    @property
    def lower_case(self) -> "Expression":
        return Call("lower", [self])

    @property
    def char_length(self) -> "Expression":
        return Call("char_length", [self])

    @property
    def abs(self) -> "Expression":
        return Call("abs", [self])

    @property
    def asc(self) -> "Expression":
        """This expression as an ascending sort key (``order_by``)."""
        return Ordering(self, True)

    @property
    def desc(self) -> "Expression":
        """This expression as a descending sort key (``order_by``)."""
        return Ordering(self, False)

    @property
    def sum(self) -> "Expression":
        return Aggregate("sum", self)

    @property
    def sum0(self) -> "Expression":
        return Aggregate("sum0", self)

    @property
    def count(self) -> "Expression":
        return Aggregate("count", self)

    @property
    def min(self) -> "Expression":
        return Aggregate("min", self)

    @property
    def max(self) -> "Expression":
        return Aggregate("max", self)

    @property
    def avg(self) -> "Expression":
        return Aggregate("avg", self)

    # -- intervals and time attributes (``lit(5).seconds``, ``col('ts').rowtime``) -------------
    @property
    def milli(self) -> "Expression":
        return Call("interval_milli", [self])

    millis = milli

    @property
    def second(self) -> "Expression":
        return Call("interval_second", [self])

    seconds = second

    @property
    def minute(self) -> "Expression":
        return Call("interval_minute", [self])

    minutes = minute

    @property
    def hour(self) -> "Expression":
        return Call("interval_hour", [self])

    hours = hour

    @property
    def day(self) -> "Expression":
        return Call("interval_day", [self])

    days = day

    def over(self, alias: Any) -> "Expression":
        """This aggregate over the over window ``alias`` (``col('w')``) of
        ``over_window``."""
        return OverCall(self, alias if isinstance(alias, Expression) else ColumnRef(alias))

    @property
    def rowtime(self) -> "Expression":
        """This column as the table's event-time attribute (``from_data_stream`` fields)."""
        return TimeAttribute(self, "ROWTIME")

    @property
    def proctime(self) -> "Expression":
        """A processing-time attribute column of this name (``from_data_stream`` fields)."""
        return TimeAttribute(self, "PROCTIME")

    @property
    def start(self) -> "Expression":
        """The start of the group window this alias names (``col('w').start``)."""
        return WindowProperty(self, "start")

    @property
    def end(self) -> "Expression":
        """The end of the group window this alias names (``col('w').end``)."""
        return WindowProperty(self, "end")

    # -- resolution --------------------------------------------------------------------------
    def resolve(self, scope: Scope) -> Resolved:
        raise NotImplementedError

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # every resolve() records the expression and its input's columns on its result
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("resolve")
        if own is None:
            return

        def resolve(self: "Expression", scope: Scope) -> Resolved:
            resolved = own(self, scope)
            if isinstance(resolved, Resolved):
                resolved.expr, resolved.input_names = self, list(scope.names)
            return resolved
        resolve.__doc__ = own.__doc__
        cls.resolve = resolve  # type: ignore[assignment]

    def aggregates(self) -> List["Aggregate"]:
        """The aggregate calls in this tree (outermost first)."""
        return []

    def name_hint(self) -> Optional[str]:
        return None


class ColumnRef(Expression):
    def __init__(self, name: str, position: Optional[str] = None,
                 qualifier: Optional[str] = None) -> None:
        self.name = name
        self.position = position  # where SQL text named it, for errors
        self.qualifier = qualifier  # the table or alias SQL named it by (``b.a``)

    def resolve(self, scope: Scope) -> Resolved:
        index = scope.index_of(self.name, self.position, self.qualifier)
        name = scope.names[index]
        if self.qualifier and scope.qualified:  # SQL's ``b.id`` is named ``id``, not ``id0``
            name = scope.qualified[index][1]
        return Resolved(scope.data_types[index], lambda row: row[index], name)

    def name_hint(self) -> Optional[str]:
        return self.name

    def __repr__(self) -> str:
        return f"{self.qualifier}.{self.name}" if self.qualifier else self.name


class InputRef(Expression):
    """A column by position (the planner's reference to an aggregate's result)."""

    def __init__(self, index: int, data_type: t.DataType, name: Optional[str] = None) -> None:
        self.index, self.data_type, self.name = index, data_type, name

    def resolve(self, scope: Scope) -> Resolved:
        index = self.index
        return Resolved(self.data_type, lambda row: row[index], self.name)

    def __repr__(self) -> str:
        return f"${self.index}"


class Literal(Expression):
    def __init__(self, value: Any, data_type: Optional[t.DataType] = None) -> None:
        self.value = value
        if data_type is None:
            data_type = _literal_type(value)
        self.data_type = data_type

    def resolve(self, scope: Scope) -> Resolved:
        value = self.value
        return Resolved(self.data_type, lambda row: value, None, constant=True)

    def __repr__(self) -> str:
        return repr(self.value) if isinstance(self.value, str) else str(self.value)


def _literal_type(value: Any) -> t.DataType:
    if value is None:
        return t.NullType()
    if isinstance(value, bool):
        return t.BooleanType(False)
    if isinstance(value, int):
        # Flink types an integer literal INT when it fits, else BIGINT
        if not -2 ** 63 <= value < 2 ** 63:
            raise ValidationException(f"the literal {value} is out of the range of BIGINT")
        return t.IntType(False) if -2 ** 31 <= value < 2 ** 31 else t.BigIntType(False)
    if isinstance(value, float):
        return t.DoubleType(False)
    if isinstance(value, str):
        return t.CharType(max(1, len(value)), False)
    if isinstance(value, decimal.Decimal):
        return decimals.literal_type(value)
    inferred = t.infer_type(value)
    assert inferred is not None
    return inferred.not_null()


class Alias(Expression):
    def __init__(self, child: Expression, name: str) -> None:
        self.child, self.name = child, name

    def resolve(self, scope: Scope) -> Resolved:
        inner = self.child.resolve(scope)
        return Resolved(inner.data_type, inner.evaluate, self.name, inner.constant,
                        inner.udfs)

    def aggregates(self) -> List["Aggregate"]:
        return self.child.aggregates()

    def name_hint(self) -> Optional[str]:
        return self.name

    def __repr__(self) -> str:
        return f"Alias({self.child!r}, {self.name})"


class Cast(Expression):
    def __init__(self, child: Expression, data_type: t.DataType) -> None:
        self.child, self.data_type = child, data_type

    def resolve(self, scope: Scope) -> Resolved:
        inner = self.child.resolve(scope)
        target = self.data_type
        if inner.data_type.is_nullable and not target.is_nullable:
            target = target.nullable()
        elif not inner.data_type.is_nullable and not isinstance(inner.data_type, t.NullType):
            target = target.not_null()  # Flink's CAST is nullable only if its input is
        convert = _caster(inner.data_type, target)
        f = inner.evaluate

        def evaluate(row: tuple) -> Any:
            v = f(row)
            return None if v is None else convert(v)
        return Resolved(target, evaluate, None, inner.constant, inner.udfs)

    def aggregates(self) -> List["Aggregate"]:
        return self.child.aggregates()

    def __repr__(self) -> str:
        return f"Cast({self.child!r}, {self.data_type})"


class Aggregate(Expression):
    """An aggregate call (``col('v').sum``, SQL's ``SUM(v)``); ``arg`` None is ``COUNT(*)``.
    Resolved only by the planner, which computes it in a group aggregation."""

    def __init__(self, function: str, arg: Optional[Expression], distinct: bool = False
                 ) -> None:
        self.function, self.arg, self.is_distinct = function, arg, distinct

    @property
    def distinct(self) -> "Aggregate":
        """This aggregate over the distinct values only (``col('v').count.distinct``)."""
        return Aggregate(self.function, self.arg, True)

    def resolve(self, scope: Scope) -> Resolved:
        raise ValidationException(
            f"aggregate {self.function.upper()} is only allowed in a group_by/aggregate "
            f"select or an SQL SELECT with GROUP BY")

    def aggregates(self) -> List["Aggregate"]:
        return [self]

    def __repr__(self) -> str:
        return f"{self.function}({self.arg!r})" if self.arg is not None else "count(*)"


class Call(Expression):
    """A call of a built-in function on argument expressions."""

    def __init__(self, function: str, args: Sequence[Expression]) -> None:
        self.function, self.args = function, list(args)

    def aggregates(self) -> List["Aggregate"]:
        found: List[Aggregate] = []
        for a in self.args:
            found += a.aggregates()
        return found

    def resolve(self, scope: Scope) -> Resolved:
        resolved = [a.resolve(scope) for a in self.args]
        builder = _FUNCTIONS.get(self.function)
        if builder is None:
            raise ValidationException(f"No match found for function signature "
                                      f"{self.function}(...)")
        data_type, evaluate = builder(self.function, resolved)
        constant = (all(r.constant for r in resolved)
                    and self.function not in _temporal.NON_DETERMINISTIC)
        if constant:  # constant folding: computed once, here
            value = evaluate(())
            return Resolved(data_type, lambda row: value, None, True)
        return Resolved(data_type, evaluate, None, False,
                        tuple(u for r in resolved for u in r.udfs))

    def __repr__(self) -> str:
        return f"Call({self.function}, [{', '.join(map(repr, self.args))}])"


class Ordering(Expression):
    """A sort key: an expression, its direction and where NULLs go (by default as Flink
    does: NULL is the largest value, last ascending and first descending)."""

    def __init__(self, child: Expression, ascending: bool,
                 nulls_come_first: Optional[bool] = None) -> None:
        self.child, self.ascending = child, ascending
        self.nulls_come_first = (not ascending) if nulls_come_first is None \
            else nulls_come_first

    @property
    def nulls_first(self) -> "Ordering":
        return Ordering(self.child, self.ascending, True)

    @property
    def nulls_last(self) -> "Ordering":
        return Ordering(self.child, self.ascending, False)

    def resolve(self, scope: Scope) -> Resolved:
        return self.child.resolve(scope)

    def __repr__(self) -> str:
        return f"{self.child!r} {'ASC' if self.ascending else 'DESC'}"


class UdfCall(Expression):
    """A call of a user-defined scalar function (``udf``): the function gets the argument
    values, NULLs included, and its result must fit its declared result type."""

    def __init__(self, udf: Any, args: Sequence[Expression]) -> None:
        self.udf, self.args = udf, list(args)

    def aggregates(self) -> List["Aggregate"]:
        return [a for arg in self.args for a in arg.aggregates()]

    def resolve(self, scope: Scope) -> Resolved:
        resolved = [a.resolve(scope) for a in self.args]
        function = self.udf._function
        result_type = self.udf._result_type
        name = self.udf._name
        evals = [r.evaluate for r in resolved]
        check = _result_checker(result_type, name)
        call = function.eval

        def evaluate(row: tuple) -> Any:
            return check(call(*[f(row) for f in evals]))
        return Resolved(result_type, evaluate, None, False,
                        tuple(u for r in resolved for u in r.udfs) + (function,))

    def __repr__(self) -> str:
        return f"{self.udf._name}({', '.join(map(repr, self.args))})"


def _result_checker(dt: t.DataType, name: str) -> Callable[[Any], Any]:
    """Checks (and, for a DOUBLE given an int, converts) a UDF's result."""
    def bad(value: Any) -> Any:
        raise ValidationException(f"the function {name!r} returned {value!r} of type "
                                  f"{type(value).__name__}, which its result type "
                                  f"{dt.sql()} cannot hold")
    if _is_integer(dt):
        lo, hi = dt.min_value, dt.max_value  # type: ignore[attr-defined]

        def check_int(v: Any) -> Any:
            if v is None or (type(v) is int and lo <= v <= hi):
                return v
            return bad(v)
        return check_int
    if isinstance(dt, (t.DoubleType, t.FloatType)):
        wrap = _wrap(dt)

        def check_float(v: Any) -> Any:
            if v is None:
                return v
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return wrap(v)
            return bad(v)
        return check_float
    expected = {t.BooleanType: bool, t.VarCharType: str, t.CharType: str}.get(type(dt))
    if expected is not None:
        return lambda v: v if v is None or isinstance(v, expected) else bad(v)
    return lambda v: v


# -- the functions ----------------------------------------------------------------------------

_INTEGER_ORDER = [t.TinyIntType, t.SmallIntType, t.IntType, t.BigIntType]


def _is_integer(dt: t.DataType) -> bool:
    return isinstance(dt, t._IntegerType)


def _is_numeric(dt: t.DataType) -> bool:
    return isinstance(dt, (t._IntegerType, t.FloatType, t.DoubleType, t.DecimalType))


def _is_string(dt: t.DataType) -> bool:
    return isinstance(dt, t.VarCharType)


def _nullable(*types: t.DataType) -> bool:
    return any(dt.is_nullable for dt in types)


def numeric_result_type(a: t.DataType, b: t.DataType) -> t.DataType:
    """The type of ``a op b`` for arithmetic (Calcite's least restrictive numeric type)."""
    nullable = _nullable(a, b)
    if isinstance(a, t.NullType):
        return b.nullable()
    if isinstance(b, t.NullType):
        return a.nullable()
    if not (_is_numeric(a) and _is_numeric(b)):
        raise ValidationException(f"Cannot apply arithmetic to '{a.sql()}' and '{b.sql()}'. "
                                  f"Supported form(s): '<NUMERIC> op <NUMERIC>'")
    if isinstance(a, t.DoubleType) or isinstance(b, t.DoubleType):
        return t.DoubleType(nullable)
    if isinstance(a, t.FloatType) or isinstance(b, t.FloatType):
        return t.FloatType(nullable)
    if isinstance(a, t.DecimalType) or isinstance(b, t.DecimalType):
        return decimals.common_type(a, b)
    wider = max(_INTEGER_ORDER.index(type(a)), _INTEGER_ORDER.index(type(b)))
    return _INTEGER_ORDER[wider](nullable)


def _wrap(dt: t.DataType) -> Callable[[Any], Any]:
    """Java's overflow of an integer type, or float32 rounding of FLOAT."""
    if _is_integer(dt):
        bits = {1: 8, 3: 8, 5: 16, 10: 32, 19: 64}[dt.precision]  # type: ignore[attr-defined]
        span, half = 1 << bits, 1 << (bits - 1)

        def wrap(v: int) -> int:
            return v if -half <= v < half else ((v + half) % span) - half
        return wrap
    if isinstance(dt, t.FloatType):
        return to_float32
    if isinstance(dt, t.DecimalType):
        return decimals.fitter(dt)
    return float


def to_float32(v: float) -> float:
    return struct.unpack("<f", struct.pack("<f", v))[0]


def _java_div(a: int, b: int) -> int:
    if b == 0:
        raise ArithmeticError("/ by zero")
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _java_mod(a: int, b: int) -> int:
    if b == 0:
        raise ArithmeticError("/ by zero")
    return a - b * _java_div(a, b)


_ARITHMETIC_OPERATORS = {"plus": "+", "minus": "-", "times": "*", "divide": "/", "mod": "%"}


def calcite_name(dt: t.DataType) -> str:
    """A type as Flink's validation messages name it (``VARCHAR(2147483647)``)."""
    if type(dt) is t.VarCharType:
        return f"VARCHAR({dt.length})"
    return dt.sql_name + dt._params()


def _arithmetic(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    a, b = args
    if not all(_is_numeric(x.data_type) or isinstance(x.data_type, t.NullType)
               for x in args):
        op = _ARITHMETIC_OPERATORS[name]
        raise ValidationException(
            f"Cannot apply '{op}' to arguments of type '<{calcite_name(a.data_type)}> {op} "
            f"<{calcite_name(b.data_type)}>'. Supported form(s): '<NUMERIC> {op} <NUMERIC>'")
    result = numeric_result_type(a.data_type, b.data_type)
    if name == "mod" and _is_integer(result) and _is_integer(b.data_type):
        # Calcite's NULLABLE_MOD: an integer MOD has its divisor's type (MOD(BIGINT, INT)
        # is INT, as PyFlink 2.3 prints it)
        result = b.data_type.nullable() if a.data_type.is_nullable or b.data_type.is_nullable \
            else b.data_type.not_null()
    if isinstance(result, t.DecimalType):
        return decimals.arithmetic(name, a, b)
    wrap = _wrap(result)
    integer = _is_integer(result)
    as_double = isinstance(result, (t.DoubleType, t.FloatType))
    fa, fb = (_as_float(a), _as_float(b)) if as_double else (a.evaluate, b.evaluate)
    if name == "plus":
        op: Callable[[Any, Any], Any] = lambda x, y: x + y  # noqa: E731
    elif name == "minus":
        op = lambda x, y: x - y  # noqa: E731
    elif name == "times":
        op = lambda x, y: x * y  # noqa: E731
    elif name == "divide":
        op = _java_div if integer else _float_div
    else:
        op = _java_mod if integer else _float_mod

    def evaluate(row: tuple) -> Any:
        x, y = fa(row), fb(row)
        if x is None or y is None:
            return None
        return wrap(op(x, y))
    return result, evaluate


def _as_float(r: Resolved) -> Evaluator:
    """A DECIMAL operand of DOUBLE arithmetic as a float (any other is used as it is)."""
    if not isinstance(r.data_type, t.DecimalType):
        return r.evaluate
    f = r.evaluate
    return lambda row: None if (v := f(row)) is None else float(v)


def _float_div(x: float, y: float) -> float:
    try:
        return x / y
    except ZeroDivisionError:  # Java's double division: an infinity or NaN
        if x == 0 or x != x:
            return math.nan
        return math.copysign(math.inf, x) * math.copysign(1.0, y)


def _float_mod(x: float, y: float) -> float:
    return math.fmod(x, y) if y != 0 else math.nan


def _negate(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    (a,) = args
    if not _is_numeric(a.data_type):
        raise ValidationException(f"Cannot negate '{a.data_type.sql()}'")
    wrap, f = _wrap(a.data_type), a.evaluate
    return a.data_type, lambda row: None if (v := f(row)) is None else wrap(-v)


_COMPARISONS = {
    "equals": lambda x, y: x == y, "not_equals": lambda x, y: x != y,
    "less_than": lambda x, y: x < y, "less_than_or_equal": lambda x, y: x <= y,
    "greater_than": lambda x, y: x > y, "greater_than_or_equal": lambda x, y: x >= y,
}


def _comparable(a: t.DataType, b: t.DataType) -> bool:
    if isinstance(a, t.NullType) or isinstance(b, t.NullType):
        return True
    if _is_numeric(a) and _is_numeric(b):
        return True
    if _is_string(a) and _is_string(b):
        return True
    return a.same_root(b)


def _comparison(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    a, b = args
    if not _comparable(a.data_type, b.data_type):
        raise ValidationException(
            f"Cannot apply '{_SQL_OPERATORS[name]}' to arguments of type "
            f"'<{a.data_type.sql_name}> {_SQL_OPERATORS[name]} <{b.data_type.sql_name}>'")
    op, fa, fb = _COMPARISONS[name], a.evaluate, b.evaluate

    def evaluate(row: tuple) -> Any:
        x, y = fa(row), fb(row)
        return None if x is None or y is None else op(x, y)
    return t.BooleanType(_nullable(a.data_type, b.data_type)), evaluate


_SQL_OPERATORS = {"equals": "=", "not_equals": "<>", "less_than": "<",
                  "less_than_or_equal": "<=", "greater_than": ">",
                  "greater_than_or_equal": ">="}


def _require_boolean(name: str, args: List[Resolved]) -> None:
    for a in args:
        if not isinstance(a.data_type, (t.BooleanType, t.NullType)):
            raise ValidationException(f"{name.upper()} expects BOOLEAN operands, got "
                                      f"'{a.data_type.sql()}'")


def _and(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    _require_boolean(name, args)
    fa, fb = args[0].evaluate, args[1].evaluate

    def evaluate(row: tuple) -> Any:
        x = fa(row)
        if x is False:
            return False
        y = fb(row)
        if y is False:
            return False
        return None if x is None or y is None else True
    return t.BooleanType(_nullable(args[0].data_type, args[1].data_type)), evaluate


def _or(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    _require_boolean(name, args)
    fa, fb = args[0].evaluate, args[1].evaluate

    def evaluate(row: tuple) -> Any:
        x = fa(row)
        if x is True:
            return True
        y = fb(row)
        if y is True:
            return True
        return None if x is None or y is None else False
    return t.BooleanType(_nullable(args[0].data_type, args[1].data_type)), evaluate


def _not(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    _require_boolean(name, args)
    f = args[0].evaluate
    return (t.BooleanType(args[0].data_type.is_nullable),
            lambda row: None if (v := f(row)) is None else not v)


def _null_test(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    f = args[0].evaluate
    tests = {"is_null": lambda v: v is None, "is_not_null": lambda v: v is not None,
             "is_true": lambda v: v is True, "is_false": lambda v: v is False}
    test = tests[name]
    return t.BooleanType(False), lambda row: test(f(row))


def _string_function(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    (a,) = args
    if not isinstance(a.data_type, (t.VarCharType, t.NullType)):
        raise ValidationException(f"{name.upper()} expects a string, got '{a.data_type.sql()}'")
    f = a.evaluate
    if name == "char_length":
        return t.IntType(a.data_type.is_nullable), lambda row: (
            None if (v := f(row)) is None else len(v))
    op = str.upper if name == "upper" else str.lower
    result = t.VarCharType(a.data_type.length if isinstance(a.data_type, t.VarCharType)
                           else t.MAX_LENGTH, a.data_type.is_nullable)
    if isinstance(result, t.VarCharType) and type(a.data_type) is t.CharType:
        result = t.CharType(a.data_type.length, a.data_type.is_nullable)
    return result, lambda row: None if (v := f(row)) is None else op(v)


def _abs(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    (a,) = args
    if not _is_numeric(a.data_type):
        raise ValidationException(f"ABS expects a number, got '{a.data_type.sql()}'")
    wrap, f = _wrap(a.data_type), a.evaluate
    return a.data_type, lambda row: None if (v := f(row)) is None else wrap(abs(v))


def common_type(types: Sequence[t.DataType]) -> t.DataType:
    """The least restrictive type of ``types`` (CASE branches, COALESCE, UNION)."""
    real = [dt for dt in types if not isinstance(dt, t.NullType)]
    nullable = any(dt.is_nullable for dt in types)
    if not real:
        return t.NullType()
    if all(_is_string(dt) for dt in real):
        length = max(dt.length for dt in real)  # type: ignore[attr-defined]
        if all(type(dt) is t.CharType for dt in real) and len(
                {dt.length for dt in real}) == 1:  # type: ignore[attr-defined]
            return t.CharType(length, nullable)
        return t.VarCharType(length, nullable)
    if all(_is_numeric(dt) for dt in real):
        result = real[0]
        for dt in real[1:]:
            result = numeric_result_type(result, dt)
        return result.nullable() if nullable else result.not_null()
    first = real[0]
    if all(dt.same_root(first) for dt in real):
        return first.nullable() if nullable else first.not_null()
    raise ValidationException(
        f"Cannot find a common type of {', '.join(dt.sql() for dt in real)}")


def _case(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    """``case``: condition, value, ... [, else] (SQL's searched CASE)."""
    pairs = [(args[i], args[i + 1]) for i in range(0, len(args) - 1, 2)]
    otherwise = args[-1] if len(args) % 2 == 1 else None
    branch_types = [v.data_type for _, v in pairs]
    branch_types.append(otherwise.data_type if otherwise is not None else t.NullType())
    result = common_type(branch_types)
    if isinstance(result, t.CharType) and len({dt.length for dt in branch_types  # type: ignore
                                               if isinstance(dt, t.CharType)}) > 1:
        result = t.VarCharType(result.length, result.is_nullable)
    conditions = [(c.evaluate, v.evaluate) for c, v in pairs]
    default = otherwise.evaluate if otherwise is not None else (lambda row: None)
    convert = _branch_converter(result)

    def evaluate(row: tuple) -> Any:
        for cond, value in conditions:
            if cond(row) is True:
                return convert(value(row))
        return convert(default(row))
    return result, evaluate


def _branch_converter(result: t.DataType) -> Callable[[Any], Any]:
    if isinstance(result, (t.DoubleType, t.FloatType, t.DecimalType)):
        wrap = _wrap(result)
        return lambda v: None if v is None else wrap(v)
    return lambda v: v


def _coalesce(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    result = common_type([a.data_type for a in args])
    if not args[-1].data_type.is_nullable or any(not a.data_type.is_nullable for a in args):
        result = result.not_null()
    fs = [a.evaluate for a in args]
    convert = _branch_converter(result)

    def evaluate(row: tuple) -> Any:
        for f in fs:
            v = f(row)
            if v is not None:
                return convert(v)
        return None
    return result, evaluate


def _concat(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    for a in args:
        if not isinstance(a.data_type, (t.VarCharType, t.NullType)):
            raise ValidationException(
                f"Cannot apply '||' to arguments of type '{a.data_type.sql()}': expected "
                f"strings (CAST the value to STRING)")
    length = sum(a.data_type.length if isinstance(a.data_type, t.VarCharType) else 0
                 for a in args)
    fs = [a.evaluate for a in args]
    result = t.VarCharType(min(length, t.MAX_LENGTH), _nullable(*(a.data_type for a in args)))
    if all(type(a.data_type) is t.CharType for a in args):
        result = t.CharType(length, result.is_nullable)

    def evaluate(row: tuple) -> Any:
        parts = [f(row) for f in fs]
        return None if any(p is None for p in parts) else "".join(parts)
    return result, evaluate


_FUNCTIONS = {
    "plus": _arithmetic, "minus": _arithmetic, "times": _arithmetic, "divide": _arithmetic,
    "mod": _arithmetic, "minus_prefix": _negate,
    **{name: _comparison for name in _COMPARISONS},
    "and": _and, "or": _or, "not": _not,
    "is_null": _null_test, "is_not_null": _null_test, "is_true": _null_test,
    "is_false": _null_test,
    "upper": _string_function, "lower": _string_function, "char_length": _string_function,
    "abs": _abs, "case": _case, "coalesce": _coalesce, "concat": _concat,
}


# -- CAST -----------------------------------------------------------------------------------

def _caster(source: t.DataType, target: t.DataType) -> Callable[[Any], Any]:
    from flink_py.table.print_utils import format_value
    if isinstance(target, t.VarCharType):
        length = target.length
        pad = type(target) is t.CharType
        zone = (_temporal.session_zone() if isinstance(source, t.LocalZonedTimestampType)
                else None)  # an instant is shown in the planning environment's zone

        def to_string(v: Any) -> str:
            if zone is not None:
                v = v.astimezone(zone).replace(tzinfo=None)
            text = format_value(v, source)
            if len(text) > length:
                return text[:length]
            return text.ljust(length) if pad else text
        return to_string
    if isinstance(target, t.DecimalType) or isinstance(source, t.DecimalType):
        convert = decimals.caster(source, target)
        if convert is not None:
            return convert
    if _is_integer(target):
        wrap = _wrap(target)
        if _is_string(source):
            return lambda v: wrap(int(v.strip()))
        if isinstance(source, t.BooleanType):
            return lambda v: int(v)
        return lambda v: wrap(int(v))
    if isinstance(target, (t.DoubleType, t.FloatType)):
        wrap = _wrap(target)
        return lambda v: wrap(float(v.strip() if isinstance(v, str) else v))
    if isinstance(target, t.BooleanType):
        if _is_string(source):
            return _string_to_boolean
        return lambda v: bool(v)
    temporal = _temporal.caster(source, target)
    if temporal is not None:
        return temporal
    if target.same_root(source):
        return lambda v: v
    raise ValidationException(f"Cast function cannot convert value of type {source.sql()} "
                              f"to type {target.sql()}")


def _string_to_boolean(v: str) -> Optional[bool]:
    text = v.strip().lower()
    if text in ("true", "t", "yes", "y", "1"):
        return True
    if text in ("false", "f", "no", "n", "0"):
        return False
    return None


# -- the public constructors -------------------------------------------------------------------

def col(name: str) -> Expression:
    """A reference to the column ``name``."""
    return ColumnRef(name)


def lit(value: Any, data_type: Optional[t.DataType] = None) -> Expression:
    """A literal value, typed from the Python value unless ``data_type`` is given."""
    return Literal(value, data_type)


def call(f: Any, *args: Any) -> Expression:
    """A call of a UDF, given as the function (``udf``) or the name it was registered under
    (``create_temporary_function``)."""
    if isinstance(f, str):
        return NamedCall(f, [_to_expr(a) for a in args])
    return f(*args)


class NamedCall(Expression):
    """A call of a function by name: a built-in SQL function or a registered UDF, looked up
    when the expression is resolved (``Scope.functions``)."""

    def __init__(self, name: str, args: Sequence[Expression],
                 alias_names: Optional[Sequence[str]] = None) -> None:
        self.name, self.args = name, list(args)
        self._udaf_call: Optional["Aggregate"] = None
        #: the names of a table or aggregate function's columns (``.alias('a', 'b')``)
        self.alias_names = list(alias_names) if alias_names else None

    def alias(self, name: str, *extra_names: str) -> "Expression":
        if extra_names:  # a table or aggregate function's columns, found when resolved
            return NamedCall(self.name, self.args, [name, *extra_names])
        return Alias(self, name)

    def udaf_call(self) -> Optional["Aggregate"]:
        """The call of the aggregate function (``udaf``) registered under this name, if it
        is one (one object per NamedCall: the planner finds aggregates by identity)."""
        from flink_py.table.udf import UserDefinedAggregateFunctionWrapper
        if self._udaf_call is None:
            function = FUNCTION_CATALOG.get().get(self.name.lower())
            if isinstance(function, UserDefinedAggregateFunctionWrapper):
                self._udaf_call = function(*self.args)
        return self._udaf_call

    def aggregates(self) -> List["Aggregate"]:
        udaf = self.udaf_call()
        if udaf is not None:
            return [udaf]
        return [a for arg in self.args for a in arg.aggregates()]

    def resolve(self, scope: Scope) -> Resolved:
        from flink_py.table.udf import UserDefinedScalarFunctionWrapper
        udf = FUNCTION_CATALOG.get().get(self.name.lower())
        if udf is not None and not isinstance(udf, UserDefinedScalarFunctionWrapper):
            table = hasattr(udf, "_result_types")
            where = ("LATERAL TABLE(...), join_lateral or flat_map" if table
                     else "an aggregation")
            raise ValidationException(
                f"Function '{self.name}' is {'a table' if table else 'an aggregate'} "
                f"function: call it in {where}, not as a scalar function")
        if udf is not None:
            return UdfCall(udf, self.args).resolve(scope)
        if self.name.lower() in _FUNCTIONS:
            return Call(self.name.lower(), self.args).resolve(scope)
        raise ValidationException(
            f"No match found for function signature {self.name}"
            f"({', '.join('<' + calcite_name(a.resolve(scope).data_type) + '>' for a in self.args)})")

    def __repr__(self) -> str:
        return f"{self.name}({', '.join(map(repr, self.args))})"


def null_of(data_type: t.DataType) -> Expression:
    """A NULL of ``data_type``."""
    return Literal(None, data_type.nullable())


def if_then_else(condition: Expression, if_true: Any, if_false: Any) -> Expression:
    """``if_true`` where ``condition`` holds, else ``if_false`` (SQL's ``CASE``)."""
    return Call("case", [condition, _to_expr(if_true), _to_expr(if_false)])


def coalesce(*args: Any) -> Expression:
    """The first argument that is not NULL."""
    return Call("coalesce", [_to_expr(a) for a in args])


def concat(*args: Union[Expression, str]) -> Expression:
    """The strings joined (NULL if any is NULL)."""
    return Call("concat", [_to_expr(a) for a in args])


class TimeAttribute(Expression):
    """``col('ts').rowtime`` / ``.proctime`` in ``from_data_stream``'s fields."""

    def __init__(self, child: Expression, kind: str) -> None:
        self.child, self.kind = child, kind

    def name_hint(self) -> Optional[str]:
        return self.child.name_hint()

    def resolve(self, scope: Scope) -> Resolved:
        raise ValidationException(f"'{self.child!r}.{self.kind.lower()}' declares a time "
                                  f"attribute: it is allowed in from_data_stream's fields only")

    def __repr__(self) -> str:
        return f"{self.child!r}.{self.kind.lower()}"


class WindowProperty(Expression):
    """``w.start``, ``w.end``, ``w.rowtime``, ``w.proctime`` of a group window ``w``; the
    window aggregation replaces it with its column."""

    def __init__(self, window: Expression, prop: str) -> None:
        self.window, self.prop = window, prop

    def resolve(self, scope: Scope) -> Resolved:
        raise ValidationException(f"Window property '{self!r}' is allowed in the select of "
                                  f"a windowed group_by only")

    def __repr__(self) -> str:
        return f"{self.window!r}.{self.prop}"


def _interval(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
    import datetime
    unit = name[len("interval_"):]
    if len(args) != 1 or not _is_integer(args[0].data_type):
        raise ValidationException(f"an interval of {unit}s needs an integer, got "
                                  f"{[a.data_type.sql() for a in args]}")
    millis = {"milli": 1, "second": 1000, "minute": 60000, "hour": 3600000,
              "day": 86400000}[unit]
    f = args[0].evaluate

    def evaluate(row: tuple) -> Any:
        v = f(row)
        return None if v is None else datetime.timedelta(milliseconds=v * millis)
    return t.DayTimeIntervalType(False, unit.upper()), evaluate


def _with_temporal(builder: Callable[[str, List[Resolved]], Tuple[t.DataType, Evaluator]]
                   ) -> Callable[[str, List[Resolved]], Tuple[t.DataType, Evaluator]]:
    """``builder`` with date-time and interval operands handled first."""
    def build(name: str, args: List[Resolved]) -> Tuple[t.DataType, Evaluator]:
        temporal = _temporal.temporal_arithmetic(name, args)
        return temporal if temporal is not None else builder(name, args)
    return build


from flink_py.table import temporal as _temporal  # noqa: E402 (it imports this module)

for _name in ("plus", "minus"):
    _FUNCTIONS[_name] = _with_temporal(_FUNCTIONS[_name])
_FUNCTIONS.update(_temporal.FUNCTIONS)
_FUNCTIONS.update({f"interval_{u}": _interval for u in ("milli", "second", "minute", "hour",
                                                        "day")})


class OverCall(Expression):
    """``agg OVER window``: ``window`` an :class:`OverWindowSpec` (SQL) or the alias of an
    over window (Table API), replaced by the spec when the select is planned."""

    def __init__(self, aggregate: Expression, window: Any) -> None:
        if not isinstance(aggregate, Aggregate):
            raise ValidationException(f"OVER applies to an aggregate call, got {aggregate!r}")
        self.aggregate, self.window = aggregate, window

    def resolve(self, scope: Scope) -> Resolved:
        raise ValidationException(f"'{self!r}': an OVER aggregate is allowed in a select "
                                  f"only")

    def __repr__(self) -> str:
        return f"{self.aggregate!r} OVER {self.window!r}"


class OverBound(Expression):
    """A bound of an over window: ``row_interval(n)``, ``UNBOUNDED_ROW``, ``CURRENT_ROW``,
    an interval expression for a RANGE."""

    def __init__(self, rows: bool, count: Optional[int]) -> None:
        self.rows, self.bound = rows, count

    def __repr__(self) -> str:
        return (f"{'ROWS' if self.rows else 'RANGE'} "
                f"{'UNBOUNDED' if self.bound is None else self.bound}")


def row_interval(rows: int) -> Expression:
    """A ROWS bound of ``rows`` rows (``Over...preceding(row_interval(2))``)."""
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
        raise ValidationException(f"row_interval expects a non-negative int, got {rows!r}")
    return OverBound(True, rows)


UNBOUNDED_ROW = OverBound(True, None)
UNBOUNDED_RANGE = OverBound(False, None)
CURRENT_ROW = OverBound(True, 0)
CURRENT_RANGE = OverBound(False, 0)


class OverWindowSpec:
    """``PARTITION BY ... ORDER BY time ROWS|RANGE BETWEEN <preceding> AND CURRENT ROW``;
    ``preceding``: a row count (ROWS), an interval expression (RANGE), None (UNBOUNDED)."""

    def __init__(self, partition: List[Expression], order: Expression, rows: bool,
                 preceding: Any) -> None:
        self.partition, self.order, self.rows, self.preceding = (partition, order, rows,
                                                                 preceding)

    def spec(self, scope: Scope) -> Any:
        from flink_py.table.windows import OverSpec, interval_of
        if not isinstance(self.order, ColumnRef):
            raise ValidationException(f"an over window is ordered by a time attribute "
                                      f"column, got {self.order!r}")
        index = scope.index_of(self.order.name, self.order.position, self.order.qualifier)
        preceding = self.preceding
        if isinstance(preceding, Expression):
            preceding = interval_of(preceding.resolve(scope), "preceding range")
        return OverSpec([p.resolve(scope) for p in self.partition], index, self.rows,
                        preceding)

    def __repr__(self) -> str:
        return (f"(PARTITION BY {self.partition!r} ORDER BY {self.order!r} "
                f"{'ROWS' if self.rows else 'RANGE'} {self.preceding!r})")


# the built-in functions (string, math, conditional, JSON): resolved by name like the ones
# above (imported last: that module builds on this one)
from flink_py.table.functions_builtin import BUILTINS as _BUILTINS  # noqa: E402
from flink_py.table.functions_builtin import (atan2, concat_ws, e, json_array,  # noqa: E402,F401
                                              json_object, json_string, log, negative, pi)

for _name, _builder in _BUILTINS.items():
    _FUNCTIONS.setdefault(_name, _builder)
