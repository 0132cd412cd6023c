"""Tables defined by DDL or a descriptor: ``Schema``, ``TableDescriptor`` (PyFlink's names)
and the catalog entry they make (``CatalogTable``: columns and connector options)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from flink_py.table import types as t
from flink_py.table.errors import ValidationException

__all__ = ["CatalogTable", "Schema", "TableDescriptor"]


class Metadata:
    """A metadata column's declaration: its type and the metadata key it reads."""

    def __init__(self, data_type: t.DataType, key: str, virtual: bool) -> None:
        self.data_type, self.key, self.virtual = data_type, key, virtual


class Schema:
    """A table's columns (``Schema.new_builder().column(name, type)...build()``)."""

    def __init__(self, names: List[str], data_types: List[t.DataType],
                 primary_key: Optional[List[str]] = None,
                 columns: Optional[List[Tuple[str, Any]]] = None,
                 watermarks: Optional[List[Tuple[str, Any]]] = None) -> None:
        #: the physical columns
        self.names, self.data_types = names, data_types
        self.primary_key = primary_key
        #: every column in declared order: (name, DataType) for a physical column,
        #: (name, expression) for a computed one (an SQL string or an Expression)
        self.columns = columns if columns is not None else list(zip(names, data_types))
        #: (rowtime column, watermark expression) of ``watermark(...)``
        self.watermarks = watermarks or []

    def computed(self) -> bool:
        return len(self.columns) != len(self.names)

    class Builder:
        def __init__(self) -> None:
            self._names: List[str] = []
            self._types: List[t.DataType] = []
            self._primary_key: Optional[List[str]] = None
            self._columns: List[Tuple[str, Any]] = []
            self._watermarks: List[Tuple[str, Any]] = []

        def _declare(self, column_name: str) -> None:
            if any(n == column_name for n, _ in self._columns):
                raise ValidationException(f"Schema: column {column_name!r} is defined twice")

        def column_by_expression(self, column_name: str, expr: Any) -> "Schema.Builder":
            """A computed column: ``expr`` (SQL text such as ``"CAST(f0 AS TIMESTAMP(3))"``
            or an Expression) over the physical columns."""
            self._declare(column_name)
            self._columns.append((column_name, expr))
            return self

        def column_by_metadata(self, column_name: str, data_type: Any,
                               metadata_key: Optional[str] = None,
                               is_virtual: bool = False) -> "Schema.Builder":
            """A metadata column: in ``from_data_stream``, ``rowtime`` is the stream
            record's timestamp (``TIMESTAMP_LTZ(3)``)."""
            self._declare(column_name)
            if isinstance(data_type, str):
                from flink_py.table.udf import parse_type
                data_type = parse_type(data_type)
            self._columns.append((column_name, Metadata(data_type, metadata_key or column_name,
                                                        is_virtual)))
            return self

        def watermark(self, column_name: str, watermark_expr: Any) -> "Schema.Builder":
            """``WATERMARK FOR column_name AS watermark_expr`` (SQL text or an
            Expression): ``column_name`` becomes the rowtime attribute."""
            if self._watermarks:
                raise ValidationException("Multiple watermark definitions are not supported "
                                          "yet.")
            self._watermarks.append((column_name, watermark_expr))
            return self

        def column(self, column_name: str, data_type: t.DataType) -> "Schema.Builder":
            if column_name in self._names:
                raise ValidationException(f"Schema: column {column_name!r} is defined twice")
            if isinstance(data_type, str):
                from flink_py.table.udf import parse_type
                data_type = parse_type(data_type)
            self._names.append(column_name)
            self._types.append(data_type)
            self._columns.append((column_name, data_type))
            return self

        def primary_key(self, *column_names: str) -> "Schema.Builder":
            self._primary_key = list(column_names)
            return self

        def from_row_data_type(self, data_type: t.RowType) -> "Schema.Builder":
            for f in data_type.fields:
                self.column(f.name, f.data_type)
            return self

        def build(self) -> "Schema":
            names = [n for n, _ in self._columns]
            for column, _ in self._watermarks:
                if column not in names:
                    raise ValidationException(
                        f"Invalid column name '{column}' for rowtime attribute in watermark "
                        f"declaration. Available columns are: [{', '.join(names)}]")
            return Schema(list(self._names), list(self._types), self._primary_key,
                          list(self._columns), list(self._watermarks))

    @staticmethod
    def new_builder() -> "Schema.Builder":
        return Schema.Builder()

    def __str__(self) -> str:
        return "(\n" + ",\n".join(f"  `{n}` {dt.sql()}"
                                  for n, dt in zip(self.names, self.data_types)) + "\n)"


class TableDescriptor:
    """A connector table: ``TableDescriptor.for_connector('print').schema(...).build()``."""

    def __init__(self, connector: str, schema: Optional[Schema],
                 options: Dict[str, str]) -> None:
        self.connector, self.schema_, self.options = connector, schema, options

    class Builder:
        def __init__(self, connector: str) -> None:
            self._connector = connector
            self._schema: Optional[Schema] = None
            self._options: Dict[str, str] = {}

        def schema(self, schema: Schema) -> "TableDescriptor.Builder":
            self._schema = schema
            return self

        def option(self, key: str, value: object) -> "TableDescriptor.Builder":
            self._options[key] = str(value).lower() if isinstance(value, bool) else str(value)
            return self

        def format(self, format: object, format_option: object = None  # noqa: A002
                   ) -> "TableDescriptor.Builder":
            """The format: an identifier (``'csv'``) or a ``FormatDescriptor``, whose
            options become ``'<format>.<key>'`` options; ``format_option`` is the key of the
            format option (``'format'`` by default; ``'key.format'`` gives the options the
            prefix ``key.``)."""
            key = "format" if format_option is None else (
                format_option if isinstance(format_option, str) else format_option.key())
            if isinstance(format, str):
                self._options[key] = format
                return self
            from flink_py.table.table_descriptor import FormatDescriptor
            if not isinstance(format, FormatDescriptor):
                raise ValidationException(f"format expects a format identifier or a "
                                          f"FormatDescriptor, got {format!r}")
            prefix = key[:-len("format")] if key.endswith("format") else ""
            self._options[key] = format.get_format()
            for option, value in format.get_options().items():
                self._options[f"{prefix}{format.get_format()}.{option}"] = value
            return self

        def build(self) -> "TableDescriptor":
            return TableDescriptor(self._connector, self._schema, dict(self._options))

    @staticmethod
    def for_connector(connector: str) -> "TableDescriptor.Builder":
        return TableDescriptor.Builder(connector)

    def get_options(self) -> Dict[str, str]:
        return {"connector": self.connector, **self.options}

    def get_schema(self) -> Optional[Schema]:
        return self.schema_

    def __str__(self) -> str:
        """As Flink's: the schema, then ``WITH (...)`` of the options (in a Java HashMap's
        order)."""
        from flink_py.table.table_descriptor import java_hash_order
        options = self.get_options()
        lines = ",\n".join(f"  '{k}' = '{options[k]}'" for k in java_hash_order(options))
        schema = str(self.schema_) if self.schema_ is not None else ""
        return f"{schema}\nWITH (\n{lines}\n)"


class CatalogTable:
    """A connector table in the catalog."""

    def __init__(self, path: str, names: List[str], data_types: List[t.DataType],
                 options: Dict[str, str], columns: Optional[List[Tuple[str, Any]]] = None,
                 watermarks: Optional[List[Tuple[str, Any]]] = None,
                 primary_key: Optional[List[str]] = None) -> None:
        if "connector" not in options:
            raise ValidationException(
                f"Table options do not contain an option key 'connector' for discovering a "
                f"connector. Table: '{path}'")
        #: the physical columns: what the connector reads and writes
        self.path, self.names, self.data_types, self.options = path, names, data_types, options
        #: every column in declared order, computed ones as (name, expression)
        self.columns = columns if columns is not None else list(zip(names, data_types))
        self.watermarks = watermarks or []
        self.primary_key = primary_key

    def computed(self) -> bool:
        """Whether reading it adds computed columns or a watermark to the connector's, or
        a key that its schema prints."""
        return (len(self.columns) != len(self.names) or bool(self.watermarks)
                or bool(self.primary_key))

    @property
    def connector(self) -> str:
        return self.options["connector"]
