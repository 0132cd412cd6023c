"""DECIMAL(p, s): Flink's result types and its arithmetic on :class:`decimal.Decimal` values.

A DECIMAL value is a ``Decimal`` with exactly the type's scale (``Decimal('1.50')`` in a
DECIMAL(3, 2)). The result types are Flink's ``LogicalTypeMerging``: ``+``/``-`` keep the larger
scale and one more integer digit, ``*`` adds precisions and scales (plus one digit), ``/``
gives at least 6 decimal places, and a precision over 38 gives up fraction digits first but
keeps at least 6 of them (SQL Server's rule). A result is rounded HALF_UP to its scale; a value
whose digits do not fit its precision is NULL (Flink's ``DecimalData.fromBigDecimal``).

Only DECIMAL operations come here: DOUBLE and integer arithmetic never touch ``Decimal``.
"""

from __future__ import annotations

import decimal
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any, Callable, Optional

from flink_py.table import types as t

__all__ = ["MAX_PRECISION", "decimal_of", "literal_type", "sql_literal_type", "fitter",
           "plus_type", "times_type", "divide_type", "mod_type", "round_type", "sum_type",
           "avg_type", "common_type", "arithmetic", "caster", "to_decimal"]

MAX_PRECISION = 38
_MINIMUM_ADJUSTED_SCALE = 6

#: enough digits that no intermediate result of two DECIMAL(38)s is rounded before it is
#: rounded to its type's scale
_CONTEXT = decimal.Context(prec=100, rounding=ROUND_HALF_UP, Emax=999999, Emin=-999999)

#: the DECIMAL type an integer type widens to (Flink's: its digits, scale 0)
_INTEGER_DIGITS = {t.TinyIntType: 3, t.SmallIntType: 5, t.IntType: 10, t.BigIntType: 19}


def decimal_of(dt: t.DataType) -> t.DecimalType:
    """``dt`` as the DECIMAL arithmetic sees it: an integer type is DECIMAL(digits, 0)."""
    if isinstance(dt, t.DecimalType):
        return dt
    digits = _INTEGER_DIGITS.get(type(dt))
    if digits is None:
        raise TypeError(f"{dt.sql()} is not an exact numeric type")
    return t.DecimalType(digits, 0, dt.is_nullable)


def _adjusted(precision: int, scale: int, nullable: bool) -> t.DecimalType:
    if precision <= MAX_PRECISION:
        return t.DecimalType(precision, scale, nullable)
    integer_digits = precision - scale
    kept_scale = max(MAX_PRECISION - integer_digits, min(scale, _MINIMUM_ADJUSTED_SCALE))
    return t.DecimalType(MAX_PRECISION, kept_scale, nullable)


def plus_type(a: t.DataType, b: t.DataType) -> t.DecimalType:
    """The type of ``a + b`` and ``a - b`` (``findAdditionDecimalType``)."""
    x, y = decimal_of(a), decimal_of(b)
    scale = max(x.scale, y.scale)
    precision = max(x.precision - x.scale, y.precision - y.scale) + scale + 1
    return _adjusted(precision, scale, a.is_nullable or b.is_nullable)


def times_type(a: t.DataType, b: t.DataType) -> t.DecimalType:
    """The type of ``a * b`` (``findMultiplicationDecimalType``)."""
    x, y = decimal_of(a), decimal_of(b)
    return _adjusted(x.precision + y.precision + 1, x.scale + y.scale,
                     a.is_nullable or b.is_nullable)


def divide_type(a: t.DataType, b: t.DataType) -> t.DecimalType:
    """The type of ``a / b`` (``findDivisionDecimalType``)."""
    x, y = decimal_of(a), decimal_of(b)
    scale = max(_MINIMUM_ADJUSTED_SCALE, x.scale + y.precision + 1)
    precision = x.precision - x.scale + y.scale + scale
    return _adjusted(precision, scale, a.is_nullable or b.is_nullable)


def mod_type(a: t.DataType, b: t.DataType) -> t.DecimalType:
    """The type of ``a % b`` (``findModuloDecimalType``)."""
    x, y = decimal_of(a), decimal_of(b)
    scale = max(x.scale, y.scale)
    precision = min(x.precision - x.scale, y.precision - y.scale) + scale
    return _adjusted(precision, scale, a.is_nullable or b.is_nullable)


def round_type(dt: t.DecimalType, places: int, nullable: bool) -> t.DecimalType:
    """The type of ``ROUND(dt, places)`` (``findRoundDecimalType``): rounding may carry into
    one more integer digit."""
    precision, scale = dt.precision, dt.scale
    if places >= scale:
        return t.DecimalType(precision, scale, nullable)
    if places < 0:
        return t.DecimalType(min(MAX_PRECISION, 1 + precision - scale), 0, nullable)
    return t.DecimalType(1 + precision - scale + places, places, nullable)


def sum_type(dt: t.DecimalType) -> t.DecimalType:
    """SUM of a DECIMAL(p, s): DECIMAL(38, s)."""
    return t.DecimalType(MAX_PRECISION, dt.scale)


def avg_type(dt: t.DecimalType) -> t.DecimalType:
    """AVG of a DECIMAL(p, s): DECIMAL(38, max(6, s)) (a division by the BIGINT count)."""
    return divide_type(t.DecimalType(MAX_PRECISION, dt.scale), t.DecimalType(20, 0))


def common_type(a: t.DataType, b: t.DataType) -> t.DecimalType:
    """The least restrictive DECIMAL of two exact types (CASE branches, COALESCE): the larger
    scale and the most integer digits."""
    x, y = decimal_of(a), decimal_of(b)
    scale = max(x.scale, y.scale)
    integer_digits = max(x.precision - x.scale, y.precision - y.scale)
    return t.DecimalType(min(MAX_PRECISION, integer_digits + scale), scale,
                         a.is_nullable or b.is_nullable)


def literal_type(value: Decimal) -> t.DecimalType:
    """The type of a Decimal literal: its digits and scale (``Decimal('1.50')`` is
    DECIMAL(3, 2) NOT NULL)."""
    sign, digits, exponent = value.as_tuple()
    scale = max(0, -int(exponent))
    precision = max(len(digits) + max(0, int(exponent)), scale, 1)
    if precision > MAX_PRECISION:
        raise ValueError(f"the decimal {value} has more than {MAX_PRECISION} digits")
    return t.DecimalType(precision, scale, False)


def sql_literal_type(text: str) -> t.DecimalType:
    """The type of an exact numeric SQL literal with a point (Calcite's: every digit written
    counts, ``0.000`` is DECIMAL(4, 3))."""
    digits = text.lstrip("+-")
    integer, _, fraction = digits.partition(".")
    return t.DecimalType(max(1, len(integer) + len(fraction)), len(fraction), False)


def fitter(dt: t.DecimalType) -> Callable[[Any], Optional[Decimal]]:
    """A function that rounds a Decimal HALF_UP to ``dt``'s scale, or gives None when its
    digits do not fit ``dt``'s precision."""
    quantum = Decimal(1).scaleb(-dt.scale)
    limit = Decimal(10) ** (dt.precision - dt.scale)
    quantize = Decimal.quantize

    def fit(v: Any) -> Optional[Decimal]:
        if v is None:
            return None
        if type(v) is not Decimal:
            v = to_decimal(v)
            if v is None:
                return None
        r = quantize(v, quantum, ROUND_HALF_UP, _CONTEXT)
        if not r:
            return r.copy_abs()  # BigDecimal has no -0
        return r if -limit < r < limit else None
    return fit


def to_decimal(v: Any) -> Optional[Decimal]:
    """An int, float or Decimal as a Decimal (a float by its shortest repr, as Java's
    ``BigDecimal.valueOf(double)``); None for NaN and infinities."""
    if isinstance(v, Decimal):
        return v
    if isinstance(v, bool):
        return Decimal(int(v))
    if isinstance(v, int):
        return Decimal(v)
    if v != v or v in (float("inf"), float("-inf")):
        return None
    return Decimal(repr(float(v)))


def plus(x: Decimal, y: Decimal) -> Decimal:
    return _CONTEXT.add(x, y)


def minus(x: Decimal, y: Decimal) -> Decimal:
    return _CONTEXT.subtract(x, y)


def times(x: Decimal, y: Decimal) -> Decimal:
    return _CONTEXT.multiply(x, y)


def divide(x: Decimal, y: Decimal) -> Decimal:
    """``x / y`` (rounded later to the result's scale); Java's BigDecimal errors for a zero
    divisor."""
    if not y:
        raise ArithmeticError("Division undefined" if not x else "Division by zero")
    return _CONTEXT.divide(x, y)


def mod(x: Decimal, y: Decimal) -> Decimal:
    """``x % y`` with the sign of ``x`` (Java's ``BigDecimal.remainder``)."""
    if not y:
        raise ArithmeticError("Division undefined" if not x else "Division by zero")
    return _CONTEXT.remainder(x, y)


def truncate(v: Decimal, places: int) -> Decimal:
    """``v`` cut toward zero to ``places`` decimal places (negative: to tens, hundreds...)."""
    return v.quantize(Decimal(1).scaleb(-places), ROUND_DOWN, _CONTEXT)


def round_half_up(v: Decimal, places: int) -> Decimal:
    return v.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP, _CONTEXT)


def plain_string(v: Decimal) -> str:
    """As Java's ``BigDecimal.toPlainString``: no exponent, the scale's digits kept."""
    return format(v, "f")


# -- arithmetic and casts, as the expression resolver calls them ------------------------------

_OPERATIONS = {"plus": (plus_type, plus), "minus": (plus_type, minus),
               "times": (times_type, times), "divide": (divide_type, divide),
               "mod": (mod_type, mod)}


def arithmetic(name: str, a: Any, b: Any) -> Any:
    """``a <name> b`` of two resolved exact operands, at least one DECIMAL: (the result type,
    the evaluator). An operand of NULL type counts as the other's type."""
    a_type = a.data_type if not isinstance(a.data_type, t.NullType) else b.data_type
    b_type = b.data_type if not isinstance(b.data_type, t.NullType) else a.data_type
    type_of, operation = _OPERATIONS[name]
    result = type_of(a_type, b_type)
    if isinstance(a.data_type, t.NullType) or isinstance(b.data_type, t.NullType):
        result = result.nullable()
    fit = fitter(result)
    fa, fb = a.evaluate, b.evaluate

    def evaluate(row: tuple) -> Optional[Decimal]:
        x, y = fa(row), fb(row)
        if x is None or y is None:
            return None
        return fit(operation(x if type(x) is Decimal else Decimal(x),
                             y if type(y) is Decimal else Decimal(y)))
    return result, evaluate


def caster(source: t.DataType, target: t.DataType) -> Optional[Callable[[Any], Any]]:
    """CAST to or from DECIMAL (None: not a DECIMAL cast this handles): to DECIMAL rounds
    HALF_UP and gives NULL on overflow; to an integer type cuts toward zero (and wraps as
    Java's narrowing does); to DOUBLE/FLOAT the nearest value; to STRING the plain digits;
    to BOOLEAN whether it is not zero."""
    if isinstance(target, t.DecimalType):
        fit = fitter(target)
        if isinstance(source, t.VarCharType):
            def from_string(v: str) -> Optional[Decimal]:
                try:
                    return fit(Decimal(v.strip()))
                except decimal.InvalidOperation:
                    raise ValueError(f"Character string '{v}' is not a valid DECIMAL "
                                     f"literal") from None
            return from_string
        if isinstance(source, (t.DecimalType, t._IntegerType, t.FloatType, t.DoubleType,
                               t.BooleanType)):
            return fit
        return None
    if isinstance(target, t._IntegerType):
        from flink_py.table.expressions import _wrap
        wrap = _wrap(target)
        return lambda v: wrap(int(v))
    if isinstance(target, t.FloatType):
        from flink_py.table.expressions import to_float32
        return lambda v: to_float32(float(v))
    if isinstance(target, t.DoubleType):
        return float
    if isinstance(target, t.BooleanType):
        return lambda v: v != 0
    return None
