"""The Table connectors built in so far: ``datagen`` (a bounded source), ``print`` and
``blackhole`` (sinks), with Flink's option names.

``datagen`` reads ``number-of-rows`` rows (or, with every field a sequence, until the
shortest sequence ends) from a replayable sequence source, so that a datagen job recovers
like any other; a field is ``'fields.<name>.kind' = 'sequence'`` (``start``, ``end``) or
random (``min``/``max`` for numbers, ``length`` for strings), random values drawn from a
generator seeded by the row's index (the same rows after a restart). ``print`` writes each
change as Flink's print sink does (``+I[3, 24]``, ``id> `` and ``N> `` prefixes).
"""

from __future__ import annotations

import datetime
import random
import string
from typing import Any, Callable, Dict, List, Optional, Tuple

from flink_py.datastream.functions import MapFunction, SinkFunction
from flink_py.table import types as t
from flink_py.table.catalog import CatalogTable
from flink_py.table.errors import TableException, ValidationException
from flink_py.table.print_utils import java_double_string
from flink_py.table.temporal import print_sink_string

SOURCES = ("datagen", "filesystem")
SINKS = ("print", "blackhole", "filesystem")


def _option_int(options: Dict[str, str], key: str, default: Optional[int] = None
                ) -> Optional[int]:
    if key not in options:
        return default
    try:
        return int(options[key])
    except ValueError:
        raise ValidationException(f"option '{key}' = '{options[key]}': expected an "
                                  f"integer") from None


def _field_generator(name: str, dt: t.DataType, options: Dict[str, str]
                     ) -> Tuple[Callable[[int, random.Random], Any], Optional[int]]:
    """(value of row i, the number of rows the field has: a sequence's length, or None)."""
    prefix = f"fields.{name}."
    kind = options.get(prefix + "kind", "random")
    if kind == "sequence":
        start, end = _option_int(options, prefix + "start"), _option_int(options, prefix + "end")
        if start is None or end is None:
            raise ValidationException(f"datagen: the sequence field '{name}' needs "
                                      f"'{prefix}start' and '{prefix}end'")
        if isinstance(dt, t.VarCharType):
            return (lambda i, rng: str(start + i)), end - start + 1
        if not isinstance(dt, t._IntegerType):
            raise ValidationException(f"datagen: a sequence field must be an integer or "
                                      f"string, '{name}' is {dt.sql()}")
        return (lambda i, rng: start + i), end - start + 1
    if kind != "random":
        raise ValidationException(f"datagen: '{prefix}kind' = '{kind}': expected 'random' or "
                                  f"'sequence'")
    if isinstance(dt, t._IntegerType):
        lo = _option_int(options, prefix + "min", dt.min_value)
        hi = _option_int(options, prefix + "max", dt.max_value)
        return (lambda i, rng: rng.randint(lo, hi)), None  # type: ignore[arg-type]
    if isinstance(dt, (t.DoubleType, t.FloatType)):
        lo_f = float(options.get(prefix + "min", "0"))
        hi_f = float(options.get(prefix + "max", "1"))
        return (lambda i, rng: rng.uniform(lo_f, hi_f)), None
    if isinstance(dt, t.BooleanType):
        return (lambda i, rng: rng.random() < 0.5), None
    if isinstance(dt, t.VarCharType):
        length = _option_int(options, prefix + "length", 100)
        alphabet = string.ascii_letters + string.digits
        return (lambda i, rng: "".join(rng.choice(alphabet) for _ in range(length))), None
    raise ValidationException(f"datagen: a random field of type {dt.sql()} ('{name}') is "
                              f"not supported yet")


def source_stream(table: CatalogTable, env: Any, batch: bool = False) -> Any:
    """The DataStream of a source table's rows (tuples)."""
    if table.connector == "filesystem":
        from flink_py.table import filesystem
        return filesystem.source_stream(table, env, batch)
    if table.connector != "datagen":
        raise TableException(
            f"Could not find any factory for identifier '{table.connector}' that implements "
            f"a table source: the connectors built so far are {', '.join(SOURCES)}")
    generators = [_field_generator(n, dt, table.options)
                  for n, dt in zip(table.names, table.data_types)]
    limits = [count for _, count in generators if count is not None]
    rows = _option_int(table.options, "number-of-rows")
    if rows is None and len(limits) == len(generators) and limits:
        rows = min(limits)
    elif rows is not None and limits:
        rows = min([rows] + limits)
    fns = [g for g, _ in generators]

    def row_of(i: int) -> tuple:
        rng = random.Random(i)
        return tuple(f(i, rng) for f in fns)
    if rows is None:  # unbounded: rows-per-second of them, forever
        if batch:
            raise ValidationException(
                f"Querying an unbounded table '{table.path}' in batch mode is not allowed. "
                f"The table source is unbounded.")
        rate = _option_int(table.options, "rows-per-second", 10000)
        if rate is None or rate <= 0:
            raise ValidationException(f"datagen: 'rows-per-second' = {rate}: expected a "
                                      f"positive integer")
        return env.from_sequence(0, 2 ** 62).map(RateLimited(rate)).map(row_of)
    if rows <= 0:
        raise TableException(f"datagen: 'number-of-rows' = {rows}: expected at least 1")
    return env.from_sequence(0, rows - 1).map(row_of)


def java_string(value: Any, dt: t.DataType) -> str:
    """A value as Java's ``toString`` inside a Row (``null``, ``true``, ``1.0E7``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_double_string(value, isinstance(dt, t.FloatType))
    if isinstance(value, datetime.datetime):
        return print_sink_string(value)
    return str(value)


def write_to_sink(table: CatalogTable, stream: Any, updating: bool, batch: bool = False
                  ) -> Any:
    """Adds the sink of ``table`` to ``stream`` (of ``(kind, values)`` pairs when
    ``updating``, else of value tuples)."""
    from flink_py.common.typeinfo import Types
    if table.connector == "filesystem":
        from flink_py.table import filesystem
        return filesystem.write_to_sink(table, stream, updating, batch)
    if table.connector == "blackhole":
        return stream.add_sink(BlackholeSink())
    if table.connector != "print":
        raise TableException(
            f"Could not find any factory for identifier '{table.connector}' that implements "
            f"a table sink: the connectors built so far are {', '.join(SINKS)}")
    types = table.data_types
    kinds = ("+I", "-U", "+U", "-D")

    def text(values: tuple, kind: int) -> str:
        return f"{kinds[kind]}[{', '.join(java_string(v, dt) for v, dt in zip(values, types))}]"

    if updating:
        lines = stream.map(lambda change: text(change[1], change[0]),
                           output_type=Types.STRING())
    else:
        lines = stream.map(lambda values: text(values, 0), output_type=Types.STRING())
    identifier = table.options.get("print-identifier")
    return lines.print(identifier) if identifier else lines.print()


class RateLimited(MapFunction):
    """Passes values on at ``rows_per_second`` in all (this subtask its share), sleeping
    until each one's turn, as Flink's datagen RateLimiter does."""

    def __init__(self, rows_per_second: int) -> None:
        self.rows_per_second = rows_per_second

    def open(self, runtime_context: Any) -> None:
        import time
        share = self.rows_per_second / max(1, runtime_context.get_number_of_parallel_subtasks())
        self.interval = 1.0 / share
        self.next_due = time.monotonic()

    def map(self, value: Any) -> Any:
        import time
        now = time.monotonic()
        if now < self.next_due:
            time.sleep(self.next_due - now)
        self.next_due = max(self.next_due, now) + self.interval
        return value


class BlackholeSink(SinkFunction):
    """Discards every row (the ``blackhole`` connector)."""

    def invoke(self, value: Any, context: Any = None) -> None:
        pass


def check_sink_changelog(table: CatalogTable, plan: Any, batch: bool) -> None:
    """Refuses an updating query for a sink that takes inserts only, as Flink does."""
    if table.connector == "filesystem":
        from flink_py.table import filesystem
        filesystem.check_changelog(table, plan, batch)


def check_sink_schema(table: CatalogTable, names: List[str], data_types: List[t.DataType]
                      ) -> None:
    """The query's columns must match the sink's (their number; types of one family)."""
    if len(names) != len(table.names):
        raise ValidationException(
            f"Column types of query result and sink for '{table.path}' do not match.\n"
            f"Cause: Different number of columns.\n\n"
            f"Query schema: [{', '.join(f'{n}: {dt.sql()}' for n, dt in zip(names, data_types))}]"
            f"\nSink schema:  [{', '.join(f'{n}: {dt.sql()}' for n, dt in zip(table.names, table.data_types))}]")
