"""``TableResult.print()``'s tableau form, as Flink's ``PrintUtils`` prints it.

Column widths come from the types (``columnWidthsByType``: BIGINT 20, INT 11, BOOLEAN 5, ...,
anything else the maximum of 30), at least the name's and ``<NULL>``'s width; a value wider
than its column is cut and ends in ``...``; values are right-aligned; East Asian wide
characters count two. Values print as Java prints them (``TRUE``, ``1.0E-5``, ``3.0``).
"""

from __future__ import annotations

import datetime
import decimal
import math
import unicodedata
from typing import Any, Iterable, List, Optional, Sequence

from flink_py.common.types import Row
from flink_py.table import types as t

__all__ = ["format_value", "java_double_string", "print_tableau"]

MAX_COLUMN_WIDTH = 30
NULL_COLUMN = "<NULL>"
ROW_KIND_COLUMN = "op"
_TRUNCATED = "..."


def java_double_string(value: float, float32: bool = False) -> str:
    """``value`` as Java's ``Double.toString`` (``Float.toString`` with ``float32``):
    shortest digits, decimal notation for 1e-3 <= |v| < 1e7, else ``d.dddE<n>``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    digits = _shortest_float32(value) if float32 else repr(value)
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e7:
        text = format(decimal.Decimal(digits), "f")
        return text if "." in text else text + ".0"
    mantissa, exponent = format(decimal.Decimal(digits), "E").split("E")
    mantissa = mantissa.rstrip("0") if "." in mantissa else mantissa
    if mantissa.endswith("."):
        mantissa += "0"
    if "." not in mantissa:
        mantissa += ".0"
    return f"{mantissa}E{int(exponent)}"


def _shortest_float32(value: float) -> str:
    """The fewest significant digits that read back as the same float32."""
    import struct
    target = struct.pack("<f", value)
    for precision in range(1, 10):
        text = f"{value:.{precision}g}"
        if struct.pack("<f", float(text)) == target:
            return text
    return repr(value)


def format_value(value: Any, data_type: Optional[t.DataType] = None) -> str:
    """A non-NULL value as Flink prints it in a table (and as CAST(... AS STRING) gives)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return java_double_string(value, isinstance(data_type, t.FloatType))
    if isinstance(value, decimal.Decimal):
        return format(value, "f")  # Java's BigDecimal.toPlainString
    if isinstance(value, datetime.datetime):
        from flink_py.table.temporal import format_timestamp
        return format_timestamp(value, getattr(data_type, "precision", 6))
    if isinstance(value, datetime.timedelta):
        return _interval_string(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return "x'" + bytes(value).hex() + "'"
    if isinstance(data_type, t.RowType) and isinstance(value, (tuple, Row)):
        # a ROW value (a UDAF's ROW result): its fields in parentheses, NULL as NULL
        types = data_type.field_types()
        return "(" + ", ".join("NULL" if v is None else format_value(v, dt)
                               for v, dt in zip(value, types)) + ")"
    return str(value)


def _interval_string(value: datetime.timedelta) -> str:
    """A day-time interval as Flink prints it: ``+0 00:00:05.000``."""
    millis = value // datetime.timedelta(milliseconds=1)
    sign = "-" if millis < 0 else "+"
    millis = abs(millis)
    days, rest = divmod(millis, 86400000)
    hours, rest = divmod(rest, 3600000)
    minutes, rest = divmod(rest, 60000)
    seconds, ms = divmod(rest, 1000)
    return f"{sign}{days} {hours:02d}:{minutes:02d}:{seconds:02d}.{ms:03d}"


def _display_width(text: str) -> int:
    return len(text) + sum(1 for ch in text if unicodedata.east_asian_width(ch) in "FW")


def _truncate(text: str, width: int) -> str:
    passed, end = 0, 0
    for end, ch in enumerate(text):
        passed += 2 if unicodedata.east_asian_width(ch) in "FW" else 1
        if passed > width:
            break
    else:
        end = len(text)
    cut = text[:end]
    return " " * max(0, width - _display_width(cut)) + cut


def column_widths_by_content(names: Sequence[str], rows: Sequence[Sequence[str]]
                             ) -> List[int]:
    """Widths from the cells (Flink's ``columnWidthsByContent``, used for the results of
    statements that are not queries: SHOW, DDL), at most the maximum."""
    widths = [len(n) for n in names]
    for row in rows:
        widths = [max(w, _display_width(c)) for w, c in zip(widths, row)]
    return [min(w, MAX_COLUMN_WIDTH) for w in widths]


def print_content_tableau(names: Sequence[str], rows: Sequence[Sequence[str]],
                          write: Any = print) -> None:
    """A small, complete result printed with widths from its content."""
    if not rows:
        write("Empty set")
        return
    widths = column_widths_by_content(names, rows)
    border = _border(widths)
    write(border)
    write(_line(widths, names))
    write(border)
    for row in rows:
        write(_line(widths, row))
    write(border)
    write(f"{len(rows)} {'rows' if len(rows) > 1 else 'row'} in set")


def column_widths(names: Sequence[str], data_types: Sequence[t.DataType],
                  row_kind: bool) -> List[int]:
    widths = []
    for name, dt in zip(names, data_types):
        type_width = dt.print_width if dt.print_width is not None else MAX_COLUMN_WIDTH
        widths.append(max(len(name), type_width, len(NULL_COLUMN)))
    return ([len(ROW_KIND_COLUMN)] if row_kind else []) + widths


def _border(widths: Sequence[int]) -> str:
    return "+" + "".join("-" * (w + 1) + "-+" for w in widths)


def _line(widths: Sequence[int], cells: Sequence[str]) -> str:
    parts = ["|"]
    for width, cell in zip(widths, cells):
        shown = _display_width(cell)
        if shown <= width:
            parts.append(" " + " " * (width - shown) + cell + " |")
        else:
            parts.append(" " + _truncate(cell, width - len(_TRUNCATED)) + _TRUNCATED + " |")
    return "".join(parts)


def print_tableau(names: Sequence[str], data_types: Sequence[t.DataType],
                  rows: Iterable[Any], row_kind: bool, write: Any = print) -> None:
    """Prints ``rows`` (``Row`` objects) as Flink's tableau; ``row_kind`` adds the ``op``
    column (streaming mode). Rows are printed as they come: an unbounded query prints
    forever, as Flink's does."""
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        write("Empty set")
        return
    widths = column_widths(names, data_types, row_kind)
    border = _border(widths)
    header = ([ROW_KIND_COLUMN] if row_kind else []) + list(names)
    write(border)
    write(_line(widths, header))
    write(border)
    count = 0
    row = first
    while row is not None:
        cells = [str(row.get_row_kind())] if row_kind else []
        for value, dt in zip(row._values, data_types):
            cells.append(NULL_COLUMN if value is None else format_value(value, dt))
        write(_line(widths, cells))
        count += 1
        row = next(iterator, None)
    write(border)
    write(f"{count} {'rows' if count > 1 else 'row'} in set")
