"""Date-time values of the Table API and SQL: ``TIMESTAMP(p)``, ``TIMESTAMP_LTZ(p)``,
day-time intervals, the session time zone, and the functions and casts between them.

Values: a ``TIMESTAMP`` is a naive ``datetime.datetime`` (a wall-clock reading), a
``TIMESTAMP_LTZ`` a ``datetime.datetime`` in UTC (an instant, printed in the session time
zone ``table.local-time-zone``), an interval a ``datetime.timedelta``. A time attribute's
record timestamp is its value in epoch milliseconds (``to_millis``): the rowtime a
watermark and a window are measured in, as Flink's are.
"""

from __future__ import annotations

import contextlib
import datetime
from contextvars import ContextVar
from typing import Any, Callable, List, Optional, Tuple

from flink_py.table import types as t
from flink_py.table.errors import ValidationException

__all__ = ["to_millis", "from_millis", "session_zone", "time_zone_in_scope"]

EPOCH = datetime.datetime(1970, 1, 1)
EPOCH_UTC = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
MILLI = datetime.timedelta(milliseconds=1)
UTC = datetime.timezone.utc

#: the session time zone of the TableEnvironment whose query is being planned or printed
_SESSION_ZONE: ContextVar[Optional[str]] = ContextVar("SESSION_ZONE", default=None)


def zone_of(name: Optional[str]) -> datetime.tzinfo:
    """The tzinfo of a ``table.local-time-zone`` value (``default``: the system's zone)."""
    if name is None or name == "default":
        local = datetime.datetime.now().astimezone().tzinfo
        return local if local is not None else UTC
    if name in ("UTC", "Z", "GMT"):
        return UTC
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationException(
            f"Invalid time zone '{name}' for 'table.local-time-zone': expected a region "
            f"such as 'Europe/Berlin', 'UTC' or 'default'") from None


def session_zone() -> datetime.tzinfo:
    """The time zone TIMESTAMP_LTZ values are shown and converted in."""
    return zone_of(_SESSION_ZONE.get())


@contextlib.contextmanager
def time_zone_in_scope(name: Optional[str]) -> Any:
    token = _SESSION_ZONE.set(name)
    try:
        yield
    finally:
        _SESSION_ZONE.reset(token)


def to_millis(value: datetime.datetime) -> int:
    """Epoch milliseconds of a TIMESTAMP (read as UTC, as Flink's window assigners read
    it) or a TIMESTAMP_LTZ."""
    if value.tzinfo is None:
        return (value - EPOCH) // MILLI
    return (value - EPOCH_UTC) // MILLI


def from_millis(millis: int) -> datetime.datetime:
    """The TIMESTAMP(3) of epoch milliseconds (a window's start and end)."""
    return EPOCH + datetime.timedelta(milliseconds=millis)


def ltz_from_millis(millis: int) -> datetime.datetime:
    return EPOCH_UTC + datetime.timedelta(milliseconds=millis)


def instant_to_ltz(value: Any) -> datetime.datetime:
    """A ``flink_py.common.time.Instant`` (Types.INSTANT) as a TIMESTAMP_LTZ value."""
    return EPOCH_UTC + datetime.timedelta(seconds=value.seconds,
                                          microseconds=value.nanos // 1000)


def truncate(value: datetime.datetime, precision: int) -> datetime.datetime:
    """``value`` with its fraction cut to ``precision`` digits (CAST to TIMESTAMP(p))."""
    if precision >= 6:
        return value
    step = 10 ** (6 - precision)
    return value.replace(microsecond=value.microsecond - value.microsecond % step)


def is_temporal(dt: t.DataType) -> bool:
    return isinstance(dt, (t.TimestampType, t.DateType))


def is_interval(dt: t.DataType) -> bool:
    return isinstance(dt, (t.DayTimeIntervalType, t.YearMonthIntervalType))


def _add_months(value: datetime.datetime, months: int) -> datetime.datetime:
    month0 = value.month - 1 + months
    year, month = value.year + month0 // 12, month0 % 12 + 1
    import calendar
    day = min(value.day, calendar.monthrange(year, month)[1])
    return value.replace(year=year, month=month, day=day)


def temporal_arithmetic(name: str, args: List[Any]
                        ) -> Optional[Tuple[t.DataType, Callable[[tuple], Any]]]:
    """``timestamp +/- interval``, ``interval + timestamp`` and ``interval +/- interval``;
    None when no operand is a date-time or interval (plain arithmetic)."""
    if len(args) != 2:
        return None
    a, b = args
    ta, tb = a.data_type, b.data_type
    if not (is_temporal(ta) or is_temporal(tb) or is_interval(ta) or is_interval(tb)):
        return None
    fa, fb = a.evaluate, b.evaluate
    nullable = ta.is_nullable or tb.is_nullable
    if name == "plus" and is_interval(ta) and is_temporal(tb):
        a, b, ta, tb, fa, fb = b, a, tb, ta, fb, fa
    if is_temporal(ta) and is_interval(tb) and name in ("plus", "minus"):
        sign = 1 if name == "plus" else -1
        result = ta.as_time_attribute(None) if isinstance(ta, t.TimestampType) else ta
        result = result._copy(nullable)
        if isinstance(tb, t.YearMonthIntervalType):
            def shift_months(row: tuple) -> Any:
                x, y = fa(row), fb(row)
                return None if x is None or y is None else _add_months(x, sign * y)
            return result, shift_months

        def shift(row: tuple) -> Any:
            x, y = fa(row), fb(row)
            return None if x is None or y is None else (x + y if sign > 0 else x - y)
        return result, shift
    if is_interval(ta) and is_interval(tb) and type(ta) is type(tb) and name in ("plus",
                                                                                "minus"):
        def combine(row: tuple) -> Any:
            x, y = fa(row), fb(row)
            if x is None or y is None:
                return None
            return x + y if name == "plus" else x - y
        return ta._copy(nullable), combine
    raise ValidationException(
        f"Cannot apply '{ {'plus': '+', 'minus': '-'}.get(name, name)}' to arguments of type "
        f"'<{ta.sql()}> {name} <{tb.sql()}>'")


def interval_literal(amount: Any, unit: str) -> Tuple[t.DataType, Any]:
    """The type and value of ``INTERVAL 'amount' unit`` (SECOND, MINUTE(S), HOUR, DAY,
    MONTH, YEAR; a fraction of seconds is kept to the millisecond)."""
    unit = unit.upper().rstrip("S") if unit.upper() not in ("S",) else "SECOND"
    try:
        number = float(amount) if "." in str(amount) else int(amount)
    except ValueError:
        raise ValidationException(f"Illegal interval literal '{amount}' {unit}: expected a "
                                  f"number") from None
    if unit in ("YEAR", "MONTH"):
        return t.YearMonthIntervalType(False), int(number) * (12 if unit == "YEAR" else 1)
    seconds = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400}.get(unit)
    if seconds is None:
        raise ValidationException(f"Unsupported interval unit {unit!r}: expected SECOND, "
                                  f"MINUTE, HOUR, DAY, MONTH or YEAR")
    return (t.DayTimeIntervalType(False, unit),
            datetime.timedelta(milliseconds=round(number * seconds * 1000)))


def interval_millis(value: datetime.timedelta) -> int:
    return value // MILLI


# -- casts -------------------------------------------------------------------------------------
def _parse_timestamp(text: str) -> datetime.datetime:
    text = text.strip()
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f",
                "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError(f"cannot parse {text!r} as a TIMESTAMP: expected 'yyyy-MM-dd "
                     f"HH:mm:ss[.SSS]'")


def caster(source: t.DataType, target: t.DataType) -> Optional[Callable[[Any], Any]]:
    """The cast of a date-time value between TIMESTAMP, TIMESTAMP_LTZ, DATE and strings,
    or None when neither side is a date-time."""
    if not (is_temporal(target) or is_temporal(source)):
        return None
    zone = session_zone()
    precision = getattr(target, "precision", 6)
    if isinstance(target, t.LocalZonedTimestampType):
        if isinstance(source, t.LocalZonedTimestampType):
            return lambda v: truncate(v, precision)
        if isinstance(source, t.TimestampType):
            return lambda v: truncate(v.replace(tzinfo=zone).astimezone(UTC), precision)
        if isinstance(source, t.VarCharType):
            return lambda v: truncate(_parse_timestamp(v).replace(tzinfo=zone)
                                      .astimezone(UTC), precision)
        if isinstance(source, t._IntegerType):
            return lambda v: ltz_from_millis(v * 1000)
    elif isinstance(target, t.TimestampType):
        if isinstance(source, t.LocalZonedTimestampType):
            return lambda v: truncate(v.astimezone(zone).replace(tzinfo=None), precision)
        if isinstance(source, t.TimestampType):
            return lambda v: truncate(v, precision)
        if isinstance(source, t.VarCharType):
            return lambda v: truncate(_parse_timestamp(v), precision)
        if isinstance(source, t.DateType):
            return lambda v: datetime.datetime(v.year, v.month, v.day)
    elif isinstance(target, t.DateType):
        if isinstance(source, t.LocalZonedTimestampType):
            return lambda v: v.astimezone(zone).date()
        if isinstance(source, t.TimestampType):
            return lambda v: v.date()
        if isinstance(source, t.VarCharType):
            return lambda v: datetime.date.fromisoformat(v.strip())
    elif isinstance(target, t._IntegerType) and isinstance(source, t.LocalZonedTimestampType):
        return lambda v: to_millis(v) // 1000
    return None


def format_timestamp(value: datetime.datetime, precision: int) -> str:
    """A TIMESTAMP or TIMESTAMP_LTZ as Flink's tableau prints it
    (``1970-01-01 00:00:05.000``); an instant in the session time zone."""
    if value.tzinfo is not None:
        value = value.astimezone(session_zone())
    text = value.strftime("%Y-%m-%d %H:%M:%S")
    if precision:
        text += "." + f"{value.microsecond:06d}".ljust(9, "0")[:precision]
    return text


def print_sink_string(value: datetime.datetime) -> str:
    """A TIMESTAMP as Java's ``LocalDateTime.toString`` (``1970-01-01T00:00:05``, seconds
    left out when zero), a TIMESTAMP_LTZ as ``Instant.toString`` (``...T00:00:05Z``): what
    the print connector shows."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
        suffix = "Z"
    else:
        suffix = ""
    text = value.strftime("%Y-%m-%dT%H:%M")
    if value.second or value.microsecond or suffix:  # Instant.toString keeps the seconds
        text += f":{value.second:02d}"
        if value.microsecond:
            fraction = f"{value.microsecond:06d}"
            text += "." + (fraction[:3] if fraction.endswith("000") else fraction)
    return text + suffix


# -- functions ---------------------------------------------------------------------------------
def _to_timestamp_ltz(name: str, args: List[Any]) -> Tuple[t.DataType, Callable]:
    if not args or not isinstance(args[0].data_type, (t._IntegerType, t.DecimalType,
                                                      t.DoubleType, t.FloatType)):
        raise ValidationException(
            "TO_TIMESTAMP_LTZ(numeric, precision): expected epoch seconds (precision 0) or "
            "milliseconds (precision 3) as a number")
    precision = args[1].evaluate(()) if len(args) > 1 else 3
    if precision not in (0, 3):
        raise ValidationException(f"TO_TIMESTAMP_LTZ: the precision must be 0 or 3, got "
                                  f"{precision}")
    f, scale = args[0].evaluate, 1000 if precision == 0 else 1

    def evaluate(row: tuple) -> Any:
        v = f(row)
        return None if v is None else ltz_from_millis(int(v * scale))
    return t.LocalZonedTimestampType(3), evaluate  # Flink's TO_TIMESTAMP_LTZ is nullable


def _to_timestamp(name: str, args: List[Any]) -> Tuple[t.DataType, Callable]:
    if not args or not isinstance(args[0].data_type, t.VarCharType):
        raise ValidationException("TO_TIMESTAMP(string[, format]): expected a string")
    f = args[0].evaluate
    fmt = _java_format(args[1].evaluate(())) if len(args) > 1 else None

    def evaluate(row: tuple) -> Any:
        v = f(row)
        if v is None:
            return None
        try:
            return (datetime.datetime.strptime(v, fmt) if fmt else _parse_timestamp(v))
        except ValueError:
            return None  # Flink gives NULL for a string it cannot parse
    return t.TimestampType(3), evaluate


_JAVA_PATTERN = [("yyyy", "%Y"), ("yy", "%y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"),
                 ("mm", "%M"), ("ss", "%S"), ("SSS", "%f")]


def _java_format(pattern: str) -> str:
    out = pattern
    for java, python in _JAVA_PATTERN:
        out = out.replace(java, python)
    return out


def _date_format(name: str, args: List[Any]) -> Tuple[t.DataType, Callable]:
    if len(args) != 2 or not is_temporal(args[0].data_type) and not isinstance(
            args[0].data_type, t.VarCharType):
        raise ValidationException("DATE_FORMAT(timestamp, format): expected a TIMESTAMP "
                                  "and a format string")
    f, pattern = args[0].evaluate, args[1].evaluate(())
    fmt = _java_format(pattern)
    millis = "SSS" in pattern
    source = args[0].data_type

    def evaluate(row: tuple) -> Any:
        v = f(row)
        if v is None:
            return None
        if isinstance(v, str):
            v = _parse_timestamp(v)
        elif isinstance(source, t.LocalZonedTimestampType):
            v = v.astimezone(session_zone()).replace(tzinfo=None)
        text = v.strftime(fmt)
        return text.replace(f"{v.microsecond:06d}", f"{v.microsecond // 1000:03d}") \
            if millis else text
    return t.VarCharType(), evaluate


_EXTRACTS = {"year": "year", "month": "month", "dayofmonth": "day", "hour": "hour",
             "minute": "minute", "second": "second"}


def _extract(name: str, args: List[Any]) -> Tuple[t.DataType, Callable]:
    if len(args) != 1 or not is_temporal(args[0].data_type):
        raise ValidationException(f"{name.upper()}(timestamp): expected a TIMESTAMP or DATE")
    f, part = args[0].evaluate, _EXTRACTS[name]

    def evaluate(row: tuple) -> Any:
        v = f(row)
        return None if v is None else getattr(v, part)
    return t.BigIntType(args[0].data_type.is_nullable), evaluate


def _proctime(name: str, args: List[Any]) -> Tuple[t.DataType, Callable]:
    def now(row: tuple) -> datetime.datetime:
        return datetime.datetime.now(UTC)
    return t.LocalZonedTimestampType(3, False).as_time_attribute("PROCTIME"), now


def _current_timestamp(name: str, args: List[Any]) -> Tuple[t.DataType, Callable]:
    def now(row: tuple) -> datetime.datetime:
        return datetime.datetime.now(UTC)
    return t.LocalZonedTimestampType(3, False), now


#: the date-time functions by the names calls resolve (registered in expressions' table)
FUNCTIONS = {"to_timestamp_ltz": _to_timestamp_ltz, "to_timestamp": _to_timestamp,
             "date_format": _date_format, "proctime": _proctime,
             "current_timestamp": _current_timestamp, "now": _current_timestamp,
             "localtimestamp": _current_timestamp,
             **{n: _extract for n in _EXTRACTS}}
#: functions whose value changes between calls: never folded into a constant
NON_DETERMINISTIC = {"proctime", "current_timestamp", "now", "localtimestamp"}


def sink_casts(plan: Any, sink_types: List[t.DataType]) -> Any:
    """``plan`` with its date-time columns cast to the sink's date-time types where they
    differ (a TIMESTAMP(3) into a TIMESTAMP_LTZ column, as Flink casts on insert)."""
    from flink_py.table.expressions import Cast, InputRef
    from flink_py.table.planner import Project
    if len(sink_types) != len(plan.data_types) or not any(
            is_temporal(a) and is_temporal(b) and type(a) is not type(b)
            for a, b in zip(plan.data_types, sink_types)):
        return plan
    scope = plan.scope()
    exprs = []
    for i, (have, want) in enumerate(zip(plan.data_types, sink_types)):
        ref = InputRef(i, have, plan.names[i])
        exprs.append((Cast(ref, want._copy(have.is_nullable))
                      if is_temporal(have) and is_temporal(want) and type(have) is not type(want)
                      else ref).resolve(scope))
    return Project(plan, exprs, list(plan.names))
