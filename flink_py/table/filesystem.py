"""The ``filesystem`` Table connector with the ``csv``, ``json`` and ``raw`` formats (and
``canal-json`` / ``debezium-json`` for sinks), as Flink's.

Source: a file or a directory of files (files starting with ``.`` or ``_`` are skipped, as
Flink's hidden-file filter does), bounded. Each file is one split, read by
:class:`FileRecordSource`, whose position -- the splits not finished, each ``[path, records
read]`` -- is kept in operator state, so a restored job resumes after the last record it
emitted. A file is split into records by its format (csv: Jackson's CSV rules, quoted
fields may hold line breaks; json and raw: one record a line) and each record parsed into
the declared column types as Flink's converters do:

- csv (``CsvToRowDataConverters``): numbers are parsed from the trimmed text with Java's
  rules (an empty field is an error: ``empty String``), a BOOLEAN is TRUE only for ``true``
  in any case (anything else, the empty field too, is FALSE), a string is the text as is;
  NULL only for ``csv.null-literal``. A row of another number of fields fails (``Row length
  mismatch``); ``csv.ignore-parse-errors`` makes a field that does not parse NULL, and
  missing fields NULL, and skips rows the CSV parser refuses.
- json (``JsonToRowDataConverters``): a missing field or ``null`` is NULL, a number or
  string is converted to the column's type (``"2"`` is an INT 2, ``1.7`` an INT 1), a nested
  value in a STRING column is its JSON text; an empty line is skipped.
  ``json.ignore-parse-errors`` skips a line that is no JSON object and makes a field that
  does not convert NULL.
- raw: each line (without its terminator) is the single column's value, decoded with
  ``raw.charset``.

Sink: part files written into the path directory through the DataStream FileSink's writer
(:class:`FileWriter`): hidden while in progress, committed at the end of input and on
completed checkpoints. Names as Flink's: ``part-<uuid>-<subtask>-<n>`` in streaming mode,
``part-<uuid>-task-<subtask>-file-<n>`` in batch mode. Rows are written as Flink's
serializers write them (csv: Jackson's quoting, which quotes a string holding any character
up to the larger of the delimiter and the quote character; json: compact objects with Java's
number text). ``csv``, ``json`` and ``raw`` take inserts only: an updating query in
streaming mode is refused with Flink's message; ``canal-json`` and ``debezium-json`` write
each change.

Not built yet (refused naming them): ``source.monitor-interval`` (directory monitoring),
partitioned tables, other formats, DECIMAL/temporal/nested columns in csv and json
(except TIMESTAMP in json, read from the SQL text ``yyyy-MM-dd HH:mm:ss[.fff]``).
"""

from __future__ import annotations

import datetime
import functools
import json
import os
import re
import uuid
from typing import Any, Callable, Dict, List, Optional, Tuple

from flink_py.runtime.operators.file_sink import FileWriter
from flink_py.runtime.operators.sources import StreamSource, _share
from flink_py.table import types as t
from flink_py.table.catalog import CatalogTable
from flink_py.table.errors import TableException, ValidationException
from flink_py.table.print_utils import java_double_string

__all__ = ["source_stream", "write_to_sink", "FileRecordSource", "FormatError"]

SOURCE_FORMATS = ("csv", "json", "raw")
SINK_FORMATS = ("csv", "json", "raw", "canal-json", "debezium-json")
CHANGELOG_FORMATS = ("canal-json", "debezium-json")

#: the option keys each format knows (without the ``<format>.`` prefix)
_FORMAT_OPTIONS = {
    "csv": {"field-delimiter", "ignore-parse-errors", "null-literal", "quote-character",
            "disable-quote-character", "allow-comments", "escape-character",
            "array-element-delimiter", "write-bigdecimal-in-scientific-notation"},
    "json": {"ignore-parse-errors", "fail-on-missing-field", "map-null-key.mode",
             "map-null-key.literal", "timestamp-format.standard",
             "encode.decimal-as-plain-number", "encode.ignore-null-fields"},
    "raw": {"charset", "endianness"},
    "canal-json": {"ignore-parse-errors", "map-null-key.mode", "map-null-key.literal",
                   "timestamp-format.standard", "encode.decimal-as-plain-number",
                   "database.include", "table.include"},
    "debezium-json": {"ignore-parse-errors", "schema-include", "map-null-key.mode",
                      "map-null-key.literal", "timestamp-format.standard",
                      "encode.decimal-as-plain-number"},
}
_CONNECTOR_OPTIONS = {"connector", "path", "format", "sink.rolling-policy.file-size",
                      "sink.rolling-policy.rollover-interval",
                      "sink.rolling-policy.check-interval",
                      "sink.rolling-policy.inactivity-interval", "source.monitor-interval",
                      "sink.parallelism", "partition.default-name"}


class FormatError(RuntimeError):
    """A record the format cannot parse (its message is Flink's for the same failure)."""


# -- options ---------------------------------------------------------------------------------

def _options(table: CatalogTable, source: bool) -> Tuple[str, str, Dict[str, str]]:
    """(path, format, the format's options without their prefix); unknown keys refused."""
    options = table.options
    missing = [k for k in ("path", "format") if k not in options]
    if missing:
        raise ValidationException(
            f"Unable to create a {'source' if source else 'sink'} for reading table "
            f"'{table.path}'.\n\nMissing required options are:\n\n" + "\n".join(missing))
    fmt = options["format"]
    known = SOURCE_FORMATS if source else SINK_FORMATS
    if fmt not in known:
        what = "DeserializationFormatFactory" if source else "SerializationFormatFactory"
        if fmt in CHANGELOG_FORMATS:
            raise TableException(f"reading the '{fmt}' format (a changelog source) is not "
                                 f"supported yet")
        raise ValidationException(
            f"Could not find any format factory for identifier '{fmt}' in the classpath "
            f"that implements '{what}': the formats built so far are {', '.join(known)}")
    format_options: Dict[str, str] = {}
    unsupported = []
    for key, value in options.items():
        if key in _CONNECTOR_OPTIONS:
            continue
        if key.startswith(fmt + ".") and key[len(fmt) + 1:] in _FORMAT_OPTIONS[fmt]:
            format_options[key[len(fmt) + 1:]] = value
        else:
            unsupported.append(key)
    if unsupported:
        raise ValidationException(
            "Unsupported options found for 'filesystem'.\n\nUnsupported options:\n\n"
            + "\n".join(sorted(unsupported)))
    if "partition.default-name" in options:
        raise TableException("partitioned filesystem tables are not supported yet")
    path = options["path"]
    if path.startswith("file://"):
        path = path[len("file://"):]
    elif "://" in path:
        raise TableException(f"the filesystem path {options['path']!r}: only the local file "
                             f"system is supported yet")
    return os.path.abspath(path), fmt, format_options


def _flag(options: Dict[str, str], key: str) -> bool:
    value = options.get(key, "false").strip().lower()
    if value not in ("true", "false"):
        raise ValidationException(f"option '{key}' = '{options[key]}': expected 'true' or "
                                  f"'false'")
    return value == "true"


def _char(options: Dict[str, str], key: str, default: Optional[str]) -> Optional[str]:
    value = options.get(key, default)
    if value is None:
        return None
    if value == "\\t":
        value = "\t"
    if len(value) != 1:
        raise ValidationException(
            f"Option 'csv.{key}' must be a string with single character, but was: {value}")
    return value


def _charset(options: Dict[str, str]) -> str:
    from flink_py.common.serialization import _python_codec
    return _python_codec(options.get("charset", "UTF-8"), "raw.charset")


# -- Java's number parsing -------------------------------------------------------------------

_JAVA_INT = re.compile(r"[+-]?[0-9]+")
_JAVA_DOUBLE = re.compile(r"[+-]?(NaN|Infinity|(([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?)"
                          r"[fFdD]?)")


def _number_error(text: str) -> FormatError:
    return FormatError(f'For input string: "{text}"')


def _java_integer(text: str, dt: t.DataType) -> int:
    """Byte/Short/Integer/Long.parseXxx of ``text`` (already trimmed)."""
    if not _JAVA_INT.fullmatch(text):
        raise _number_error(text)
    value = int(text)
    if isinstance(dt, (t.TinyIntType, t.SmallIntType)):
        if not -2 ** 31 <= value < 2 ** 31:
            raise _number_error(text)
        if not dt.min_value <= value <= dt.max_value:
            raise FormatError(f'Value out of range. Value:"{text}" Radix:10')
    elif not dt.min_value <= value <= dt.max_value:
        raise _number_error(text)
    return value


def _java_double(text: str, float32: bool) -> float:
    """Double/Float.parseDouble of ``text``: Java trims characters up to the space."""
    stripped = text.strip("".join(chr(c) for c in range(33)))
    if not stripped:
        raise FormatError("empty String")
    if not _JAVA_DOUBLE.fullmatch(stripped):
        raise _number_error(stripped)
    body = stripped.rstrip("fFdD") if stripped[-1:] in "fFdD" and "Infinity" not in stripped \
        else stripped
    value = float(body.replace("Infinity", "inf"))
    if float32:
        from flink_py.table.expressions import to_float32
        value = to_float32(value)
    return value


def _java_trim(text: str) -> str:
    return text.strip("".join(chr(c) for c in range(33)))


def _text_converter(dt: t.DataType, what: str) -> Callable[[str], Any]:
    """The converter of a field's text to the column type (Flink's csv converters)."""
    if isinstance(dt, t.BooleanType):
        return lambda s: _java_trim(s).lower() == "true"
    if isinstance(dt, t._IntegerType):
        return lambda s: _java_integer(_java_trim(s), dt)
    if isinstance(dt, (t.DoubleType, t.FloatType)):
        float32 = isinstance(dt, t.FloatType)
        return lambda s: _java_double(s, float32)
    if isinstance(dt, t.VarCharType):  # CHAR is a VarCharType too
        return lambda s: s
    raise TableException(f"the {what} format with a column of type {dt.sql()} is not "
                         f"supported yet")


# -- csv -------------------------------------------------------------------------------------

class _CsvSyntax:
    """Jackson's CSV reading and writing rules for one set of options."""

    def __init__(self, options: Dict[str, str]) -> None:
        self.delimiter = _char(options, "field-delimiter", ",")
        self.quote = None if _flag(options, "disable-quote-character") else \
            _char(options, "quote-character", '"')
        self.escape = _char(options, "escape-character", None)
        self.comments = _flag(options, "allow-comments")
        self.null_literal = options.get("null-literal")

    def records(self, text: str) -> List[Any]:
        """The records of a file: each a list of fields, or a FormatError (a record Jackson
        refuses; the next record starts after it)."""
        out: List[Any] = []
        n, i = len(text), 0
        delimiter, quote, escape = self.delimiter, self.quote, self.escape
        while i < n:
            if self.comments and text[i] == "#":
                end = text.find("\n", i)
                i = n if end < 0 else end + 1
                continue
            fields: List[Any] = []
            field: List[str] = []
            quoted = False
            while True:
                if i >= n:
                    fields.append("".join(field))
                    break
                c = text[i]
                if quote is not None and c == quote and not field and not quoted:
                    # a quoted value: up to the closing quote; a doubled quote is one quote
                    i += 1
                    quoted = True
                    while True:
                        if i >= n:
                            out.append(FormatError("Missing closing quote for value"))
                            return out
                        c = text[i]
                        if escape is not None and c == escape and i + 1 < n:
                            field.append(text[i + 1])
                            i += 2
                        elif c == quote:
                            if i + 1 < n and text[i + 1] == quote:
                                field.append(quote)
                                i += 2
                            else:
                                i += 1
                                break
                        else:
                            field.append(c)
                            i += 1
                    continue
                if c == delimiter:
                    fields.append(None if not quoted and self.null_literal is not None
                                  and "".join(field) == self.null_literal else "".join(field))
                    field, quoted = [], False
                    i += 1
                    continue
                if c in "\r\n":
                    i += 2 if c == "\r" and i + 1 < n and text[i + 1] == "\n" else 1
                    fields.append("".join(field))
                    break
                if escape is not None and c == escape and i + 1 < n:
                    field.append(text[i + 1])
                    i += 2
                    continue
                field.append(c)
                i += 1
            last = fields[-1]
            if not quoted and self.null_literal is not None and last == self.null_literal:
                fields[-1] = None
            out.append(fields)
        return out

    def needs_quotes(self) -> Callable[[str], bool]:
        """Jackson's loose check: a string holding a character below the first 'safe' one
        (one past the largest of delimiter, quote character and line feed) is quoted."""
        quote = self.quote
        if quote is None:
            return lambda s: False
        min_safe = max(ord(self.delimiter), ord(quote), ord("\n")) + 1
        escape = self.escape

        def needs(s: str) -> bool:
            return bool(s) and any(ord(c) < min_safe or c == quote or c == escape for c in s)
        return needs

    def formatter(self, data_types: List[t.DataType]) -> Callable[[tuple], str]:
        if self.escape is not None:
            raise TableException("writing csv with 'csv.escape-character' is not supported yet")
        needs = self.needs_quotes()
        quote, delimiter = self.quote, self.delimiter
        null = self.null_literal or ""
        texts = []
        for dt in data_types:
            if isinstance(dt, t.VarCharType):
                def text(v: Any) -> str:
                    if needs(v):
                        return quote + v.replace(quote, quote + quote) + quote
                    return v
            else:
                text = functools.partial(_scalar_text, dt=dt)
            texts.append(text)

        def line(values: tuple) -> str:
            return delimiter.join(null if v is None else f(v) for f, v in zip(texts, values))
        return line


def _scalar_text(v: Any, dt: t.DataType) -> str:
    """A number or boolean as Java (Jackson) writes it."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return java_double_string(v, isinstance(dt, t.FloatType))
    return str(v)


def _csv_parser(names: List[str], data_types: List[t.DataType], options: Dict[str, str]
                ) -> Tuple[Callable[[str], List[Any]], Callable[[Any], Optional[tuple]]]:
    syntax = _CsvSyntax(options)
    ignore = _flag(options, "ignore-parse-errors")
    converters = [_text_converter(dt, "csv") for dt in data_types]
    arity = len(names)

    def parse(record: Any) -> Optional[tuple]:
        if isinstance(record, FormatError):
            if ignore:
                return None
            raise record
        if len(record) > arity:
            if ignore:
                return None  # Jackson refuses the record itself
            extra = record[arity]
            raise FormatError(f'Too many entries: expected at most {arity} (value #{arity} '
                              f'({len(extra or "")} chars) "{extra}")')
        if len(record) != arity and not ignore:
            raise FormatError(f"Row length mismatch. {arity} fields expected but was "
                              f"{len(record)}.")
        row = []
        for i, convert in enumerate(converters):
            text = record[i] if i < len(record) else None
            if text is None:
                row.append(None)
                continue
            try:
                row.append(convert(text))
            except FormatError as exc:
                if not ignore:
                    raise FormatError(f"Fail to deserialize at field: {names[i]}.") from exc
                row.append(None)
        return tuple(row)
    return syntax.records, parse


# -- json ------------------------------------------------------------------------------------

def _json_converter(dt: t.DataType) -> Callable[[Any], Any]:
    """Flink's JsonToRowDataConverters for a non-null JSON value (a parsed Python value)."""
    def as_text(v: Any) -> str:
        if type(v) is str:
            return v
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, float):
            return java_double_string(v)
        if isinstance(v, (dict, list)):
            return _json_text(v)
        return str(v)
    if isinstance(dt, t.BooleanType):
        return lambda v: v if isinstance(v, bool) else _java_trim(as_text(v)).lower() == "true"
    if isinstance(dt, (t.IntType, t.BigIntType)):
        def integer(v: Any) -> int:
            if isinstance(v, (int, float)) and not isinstance(v, bool) and \
                    dt.min_value <= v <= dt.max_value:
                return int(v)  # canConvertToInt/Long: truncated
            return _java_integer(_java_trim(as_text(v)), dt)
        return integer
    if isinstance(dt, t._IntegerType):
        return lambda v: _java_integer(_java_trim(as_text(v)), dt)
    if isinstance(dt, (t.DoubleType, t.FloatType)):
        float32 = isinstance(dt, t.FloatType)

        def double(v: Any) -> float:
            if isinstance(v, float) and not float32:
                return v
            return _java_double(as_text(v), float32)
        return double
    if isinstance(dt, t.VarCharType):
        return as_text
    if type(dt) is t.TimestampType:
        return _json_timestamp
    raise TableException(f"the json format with a column of type {dt.sql()} is not "
                         f"supported yet")


_SQL_TIMESTAMP = re.compile(r"(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?")


def _json_timestamp(v: Any) -> Any:
    """A TIMESTAMP from the json format's SQL text (``yyyy-MM-dd HH:mm:ss[.fff]``; the
    fraction truncated to microseconds)."""
    if type(v) is str and len(v) == 23 and v[10] == " " and v[19] == "." and v[:4].isdigit():
        try:  # the common 'yyyy-MM-dd HH:mm:ss.SSS', which fromisoformat reads as Flink does
            return datetime.datetime.fromisoformat(v)
        except ValueError:
            pass
    m = _SQL_TIMESTAMP.fullmatch(v) if isinstance(v, str) else None
    if m is None:
        raise FormatError(f"Fail to deserialize at field: timestamp '{v}'.")
    y, mo, d, h, mi, sec, frac = m.groups()
    micro = int((frac or "0").ljust(6, "0")[:6])
    try:
        return datetime.datetime(int(y), int(mo), int(d), int(h), int(mi), int(sec), micro)
    except ValueError:
        raise FormatError(f"Fail to deserialize at field: timestamp '{v}'.") from None


def _json_parser(names: List[str], data_types: List[t.DataType], options: Dict[str, str]
                 ) -> Callable[[Any], Optional[tuple]]:
    ignore = _flag(options, "ignore-parse-errors")
    if _flag(options, "fail-on-missing-field"):
        raise TableException("'json.fail-on-missing-field' is not supported yet")
    converters = [_json_converter(dt) for dt in data_types]

    def parse(line: str) -> Optional[tuple]:
        if not line.strip():
            return None
        try:
            node = json.loads(line)
            if not isinstance(node, dict):
                raise FormatError("Illegal JSON object data...")
        except (ValueError, FormatError) as exc:
            if ignore:
                return None
            raise FormatError(f"Failed to deserialize JSON '{line}'.") from exc
        row = []
        for name, convert in zip(names, converters):
            v = node.get(name)
            if v is None:
                row.append(None)
                continue
            try:
                row.append(convert(v))
            except FormatError:
                if not ignore:
                    raise FormatError(f"Failed to deserialize JSON '{line}'.") from FormatError(
                        f"Fail to deserialize at field: {name}.")
                row.append(None)
        return tuple(row)
    return parse


_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n",
                 "\r": "\\r", "\t": "\\t"}
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f]')


def _json_string(s: str) -> str:
    """A JSON string as Jackson writes it (non-ASCII as is, other controls as \\u00XX)."""
    return '"' + _NEEDS_ESCAPE.sub(
        lambda m: _JSON_ESCAPES.get(m.group(), "\\u%04X" % ord(m.group())), s) + '"'


def _json_text(v: Any) -> str:
    """A parsed JSON value's compact text (Jackson's ``toString``)."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return _json_string(v)
    if isinstance(v, float):
        return java_double_string(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, dict):
        return "{" + ",".join(f"{_json_string(k)}:{_json_text(x)}" for k, x in v.items()) + "}"
    return "[" + ",".join(_json_text(x) for x in v) + "]"


def _json_object(names: List[str], data_types: List[t.DataType]) -> Callable[[tuple], str]:
    keys = [_json_string(n) + ":" for n in names]
    float32 = [isinstance(dt, t.FloatType) for dt in data_types]

    def value_text(v: Any, f32: bool) -> str:
        if v is None:
            return "null"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return _json_string(v)
        if isinstance(v, float):
            if v != v or v in (float("inf"), float("-inf")):
                return '"' + java_double_string(v, f32) + '"'  # Jackson quotes NaN
            return java_double_string(v, f32)
        return str(v)

    def obj(values: tuple) -> str:
        return "{" + ",".join(k + value_text(v, f) for k, v, f in zip(keys, values, float32)) \
            + "}"
    return obj


# -- the source ------------------------------------------------------------------------------

class FileRecordSource(StreamSource):
    """Reads the records of files (a split each, dealt round robin to the subtasks) and
    parses them into rows.

    :param split_records: a file's text -> its records (the position counts them).
    :param parse: a record -> its row (a tuple), or None to skip it; raises FormatError.
    """

    position_is_splits = True

    def __init__(self, name: str, paths: List[str], encoding: str,
                 split_records: Callable[[str], List[Any]],
                 parse: Callable[[Any], Optional[tuple]]) -> None:
        super().__init__(name)
        self.paths, self.encoding = paths, encoding
        self.split_records, self.parse = split_records, parse
        #: the splits still to read, ``[path, records read]``, the current one first
        self._remaining: Optional[List[List[Any]]] = None
        self._records: Optional[List[Any]] = None

    def _files(self) -> List[str]:
        files: List[str] = []
        for path in self.paths:
            if os.path.isdir(path):
                for root, dirs, names in os.walk(path):
                    dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
                    files.extend(os.path.join(root, n) for n in sorted(names)
                                 if not n.startswith((".", "_")))
            elif os.path.exists(path):
                files.append(path)
            else:
                raise FormatError(f"File {path} does not exist or the user running Flink "
                                  f"has insufficient permissions to access it.")
        return files

    def _splits(self) -> List[List[Any]]:
        if self._remaining is None:
            index, parallelism = _share(self.runtime_context)
            self._remaining = [[p, 0] for p in self._files()[index::parallelism]]
        return self._remaining

    def emit_next(self, ctx: Any, max_records: int) -> bool:
        splits = self._splits()
        if not splits:
            return False
        current = splits[0]
        if self._records is None:
            # the whole file is parsed when its split opens: a record that fails fails the
            # job before any row of the file is emitted, as Flink's reader shows it
            try:
                with open(current[0], "r", encoding=self.encoding, errors="replace",
                          newline="") as f:
                    records = self.split_records(f.read())
            except OSError as exc:
                raise self.user_error(exc, f"reading {current[0]!r}")
            try:
                self._records = [self.parse(record) for record in records]
            except FormatError as exc:
                raise self.user_error(exc, "the format")
        start = current[1]
        batch = self._records[start:start + max_records]
        rows = [row for row in batch if row is not None]
        current[1] = start + len(batch)
        if current[1] >= len(self._records):
            splits.pop(0)
            self._records = None
        if rows:
            ctx.emit(rows, None)
        return bool(splits)

    def reader_position(self) -> Any:
        return [list(split) for split in self._splits()]

    def seek(self, position: Any) -> None:
        self._remaining = [[str(path), int(n)] for path, n in position]
        self._records = None


class _TableFileSource:
    """The DataStream Source of a filesystem table (for ``from_source``)."""

    bounded = True

    def __init__(self, paths: List[str], encoding: str, split_records: Callable[[str], List[Any]],
                 parse: Callable[[Any], Optional[tuple]]) -> None:
        self.paths, self.encoding = paths, encoding
        self.split_records, self.parse = split_records, parse

    def _create_source_operator(self, name: str) -> Any:
        return functools.partial(FileRecordSource, name, self.paths, self.encoding,
                                 self.split_records, self.parse)

    def _output_type(self) -> Any:
        from flink_py.common.typeinfo import Types
        return Types.PICKLED_BYTE_ARRAY()


def _lines(text: str) -> List[str]:
    """Lines ended by ``\\n`` (a ``\\r`` before it dropped); a last line without one too."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _raw_column(table: CatalogTable) -> t.DataType:
    if len(table.names) != 1:
        columns = ", ".join(f"`{n}` {dt.sql()}" for n, dt in zip(table.names, table.data_types))
        raise ValidationException(
            f"The 'raw' format only supports single physical column. However the defined "
            f"schema contains multiple physical columns: [{columns}]")
    dt = table.data_types[0]
    if not isinstance(dt, t.VarCharType):
        raise TableException(f"the raw format with a column of type {dt.sql()} is not "
                             f"supported yet")
    return dt


def source_stream(table: CatalogTable, env: Any, batch: bool) -> Any:
    """The DataStream of a filesystem table's rows (tuples)."""
    from flink_py.common.watermark_strategy import WatermarkStrategy
    path, fmt, options = _options(table, source=True)
    if "source.monitor-interval" in table.options and not batch:
        raise TableException("the filesystem source with 'source.monitor-interval' "
                             "(monitoring a directory for new files) is not supported yet")
    encoding = "utf-8"
    if fmt == "csv":
        split_records, parse = _csv_parser(table.names, table.data_types, options)
    elif fmt == "json":
        split_records, parse = _lines, _json_parser(table.names, table.data_types, options)
    else:
        _raw_column(table)
        encoding = _charset(options)
        split_records, parse = _lines, _single

    source = _TableFileSource([path], encoding, split_records, parse)
    return env.from_source(source, WatermarkStrategy.no_watermarks(),
                           f"TableSourceScan(table=[[{table.path.replace('.', ', ')}]])")


def _single(line: str) -> tuple:
    return (line,)


# -- the sink --------------------------------------------------------------------------------

class TableFileWriter(FileWriter):
    """The FileSink writer with Flink's filesystem table sink's part file names."""

    def __init__(self, *args: Any, batch: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batch = batch

    def _bucket(self, bucket_id: Any) -> Any:
        known = bucket_id in self.buckets
        bucket = super()._bucket(bucket_id)
        if not known:
            subtask = self.runtime_context.get_index_of_this_subtask()
            bucket.unique_id = (f"{uuid.uuid4()}-task-{subtask}-file" if self.batch
                                else f"{uuid.uuid4()}-{subtask}")
        return bucket


class _TableFileSink:
    """The DataStream Sink of a filesystem table (for ``sink_to``)."""

    name = "Sink"

    def __init__(self, path: str, formatter: Callable[[Any], str], encoding: str,
                 batch: bool, name: str) -> None:
        self.path, self.formatter, self.encoding, self.batch = path, formatter, encoding, batch
        self.name = name

    def _create_sink_operator(self, name: str) -> Any:
        from flink_py.api.bucketing import BasePathBucketAssigner, DefaultRollingPolicy
        # Flink's sink.rolling-policy defaults: 128 MB, 30 min, checked every minute
        policy = DefaultRollingPolicy(128 * 1024 * 1024, 30 * 60 * 1000, 30 * 60 * 1000)
        return TableFileWriter(name, self.path, self.formatter, self.encoding,
                               BasePathBucketAssigner(), policy, "part", "", 60 * 1000,
                               batch=self.batch)


_CANAL_TYPES = ("INSERT", "DELETE", "INSERT", "DELETE")  # +I, -U, +U, -D


def _formatter(table: CatalogTable, fmt: str, options: Dict[str, str]
               ) -> Callable[[Any], str]:
    """A record's line: of a value tuple, or of a (kind, values) change for changelog
    formats."""
    names, types = table.names, table.data_types
    if fmt == "csv":
        for dt in types:
            _text_converter(dt, "csv")  # refuses the types not built
        return _CsvSyntax(options).formatter(types)
    if fmt == "json":
        for dt in types:
            _json_converter(dt)
        return _json_object(names, types)
    if fmt == "raw":
        _raw_column(table)
        column = names[0]

        def raw(values: tuple) -> str:
            if values[0] is None:
                raise FormatError(f"the raw format cannot write NULL (column '{column}')")
            return values[0]
        return raw
    for dt in types:
        _json_converter(dt)
    obj = _json_object(names, types)
    if fmt == "canal-json":
        def canal(change: tuple) -> str:
            return f'{{"data":[{obj(change[1])}],"type":"{_CANAL_TYPES[change[0]]}"}}'
        return canal

    def debezium(change: tuple) -> str:
        if change[0] in (0, 2):
            return f'{{"before":null,"after":{obj(change[1])},"op":"c"}}'
        return f'{{"before":{obj(change[1])},"after":null,"op":"d"}}'
    return debezium


def check_changelog(table: CatalogTable, plan: Any, batch: bool) -> None:
    """Refuses an updating query for an insert-only format, with Flink's message."""
    fmt = table.options.get("format")
    if not plan.updating or batch or fmt in CHANGELOG_FORMATS:
        return
    node = plan
    while any(child.updating for child in node.inputs):
        node = next(child for child in node.inputs if child.updating)
    raise TableException(f"Table sink '{table.path}' doesn't support consuming update changes "
                         f"which is produced by node {node.describe()}")


def write_to_sink(table: CatalogTable, stream: Any, updating: bool, batch: bool) -> Any:
    """Adds the filesystem sink of ``table`` to ``stream`` (of ``(kind, values)`` pairs when
    ``updating``, else of value tuples)."""
    path, fmt, options = _options(table, source=False)
    format_line = _formatter(table, fmt, options)
    if fmt in CHANGELOG_FORMATS:
        if not updating:
            stream = stream.map(lambda values: (0, values))
    elif updating:
        # batch: an aggregation's rows are all final inserts (streaming was refused)
        stream = stream.map(lambda change: change[1])
    encoding = _charset(options) if fmt == "raw" else "utf-8"
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValidationException(f"the filesystem sink's path {path!r} exists and is not a "
                                  f"directory")
    sink = _TableFileSink(path, format_line, encoding, batch,
                          f"Sink: {table.path.rsplit('.', 1)[-1]}")
    return stream.sink_to(sink)
