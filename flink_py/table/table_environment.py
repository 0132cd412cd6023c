"""``EnvironmentSettings``, ``TableConfig`` and ``TableEnvironment`` (``pyflink.table``):
the entry point of the Table API and SQL.

A TableEnvironment keeps a catalog of temporary views (``default_catalog.default_database``)
and runs each query as a DataStream job on the MiniCluster (``python job.py``) in streaming
or batch mode, with the configuration set through ``get_config()``.
"""

from __future__ import annotations

import contextlib

from typing import Any, Dict, List, Optional, Sequence, Union

from flink_py.common import Configuration
from flink_py.common.types import Row
from flink_py.table import types as t
from flink_py.table.errors import TableException, ValidationException
from flink_py.common.types import RowKind
from flink_py.table.planner import (INSERT, UPDATE_AFTER, PlanNode, StreamSource, Values,
                                    sources, translate)
from flink_py.table.table import Table
from flink_py.table.table_result import ResultKind, TableResult

__all__ = ["EnvironmentSettings", "TableConfig", "TableEnvironment",
           "StreamTableEnvironment"]

DEFAULT_CATALOG, DEFAULT_DATABASE = "default_catalog", "default_database"


class EnvironmentSettings:
    """Whether a TableEnvironment runs in streaming or batch mode."""

    def __init__(self, streaming: bool = True,
                 configuration: Optional[Configuration] = None) -> None:
        self._streaming = streaming
        self._configuration = configuration or Configuration()

    class Builder:
        def __init__(self) -> None:
            self._streaming = True
            self._configuration = Configuration()

        def in_streaming_mode(self) -> "EnvironmentSettings.Builder":
            self._streaming = True
            return self

        def in_batch_mode(self) -> "EnvironmentSettings.Builder":
            self._streaming = False
            return self

        def with_configuration(self, config: Configuration) -> "EnvironmentSettings.Builder":
            self._configuration = config
            return self

        def build(self) -> "EnvironmentSettings":
            return EnvironmentSettings(self._streaming, self._configuration)

    @staticmethod
    def new_instance() -> "EnvironmentSettings.Builder":
        return EnvironmentSettings.Builder()

    @staticmethod
    def in_streaming_mode() -> "EnvironmentSettings":
        return EnvironmentSettings(True)

    @staticmethod
    def in_batch_mode() -> "EnvironmentSettings":
        return EnvironmentSettings(False)

    def is_streaming_mode(self) -> bool:
        return self._streaming

    def get_configuration(self) -> Configuration:
        return self._configuration


class TableConfig:
    """The configuration of a TableEnvironment: any Flink key (``parallelism.default``,
    ``table.exec.*``, ...) set as a string."""

    def __init__(self, configuration: Configuration) -> None:
        self._configuration = configuration

    def set(self, key: str, value: str) -> "TableConfig":
        self._configuration.set_string(key, str(value))
        return self

    def get(self, key: str, default_value: Any = None) -> Any:
        return self._configuration.get_string(key, default_value)

    def get_configuration(self) -> Configuration:
        return self._configuration

    def add_configuration(self, configuration: Configuration) -> None:
        for key, value in configuration.to_dict().items():
            self._configuration.set_string(key, value)


class TableEnvironment:
    """The Table API's entry point: tables from elements and views, SQL, execution."""

    def __init__(self, settings: EnvironmentSettings, stream_env: Any = None) -> None:
        self._settings = settings
        self._config = TableConfig(Configuration(settings.get_configuration()))
        self._stream_env = stream_env
        self._views: Dict[str, PlanNode] = {}
        self._tables: Dict[str, Any] = {}  # connector tables (DDL, descriptors)
        self._functions: Dict[str, Any] = {}
        self._unnamed = 0
        self._current_catalog, self._current_database = DEFAULT_CATALOG, DEFAULT_DATABASE

    @staticmethod
    def create(environment_settings: Union[EnvironmentSettings, Configuration]
               ) -> "TableEnvironment":
        """A TableEnvironment in the mode ``environment_settings`` says."""
        if isinstance(environment_settings, Configuration):
            environment_settings = EnvironmentSettings(True, environment_settings)
        if not isinstance(environment_settings, EnvironmentSettings):
            raise TableException(f"expected EnvironmentSettings, got "
                                 f"{environment_settings!r}")
        return TableEnvironment(environment_settings)

    def get_config(self) -> TableConfig:
        return self._config

    # -- tables -------------------------------------------------------------------------------
    def from_elements(self, elements: Sequence[Any],
                      schema: Union[None, t.RowType, Sequence[str]] = None,
                      verify_schema: bool = True) -> Table:
        """A table of the given rows (tuples, lists or ``Row``s). ``schema`` is a
        ``DataTypes.ROW`` or a list of column names (types inferred from the values: int is
        BIGINT, float DOUBLE, str STRING); without it the columns are ``_1``, ``_2``, ..."""
        rows = [tuple(e._values) if isinstance(e, Row) else tuple(e)
                if isinstance(e, (tuple, list)) else (e,) for e in elements]
        arity = len(rows[0]) if rows else (len(schema.fields) if isinstance(schema, t.RowType)
                                           else len(schema or ()))
        for i, r in enumerate(rows):
            if len(r) != arity:
                raise ValidationException(f"element {i} has {len(r)} fields, expected {arity}")
        if isinstance(schema, t.RowType):
            names, data_types = schema.field_names(), schema.field_types()
            if verify_schema:
                rows = [_verified(r, data_types, names) for r in rows]
        else:
            names = list(schema) if schema is not None else [f"_{i + 1}" for i in range(arity)]
            if len(names) != arity:
                raise ValidationException(f"{len(names)} column names for rows of {arity} "
                                          f"fields")
            data_types = []
            for i in range(arity):
                inferred = [t.infer_type(r[i]) for r in rows]
                known = [dt for dt in inferred if dt is not None]
                if not known:
                    raise ValidationException(f"cannot infer the type of column {names[i]!r}: "
                                              f"every value is None; give DataTypes.ROW(...)")
                if any(type(dt) is not type(known[0]) for dt in known):
                    raise ValidationException(
                        f"column {names[i]!r} mixes {', '.join(sorted({dt.sql() for dt in known}))}")
                if isinstance(known[0], t.BigIntType):
                    for r in rows:
                        if r[i] is not None and not -2 ** 63 <= r[i] < 2 ** 63:
                            raise ValidationException(
                                f"column {names[i]!r}: {r[i]} is out of the range of BIGINT; "
                                f"give the schema with DataTypes.DECIMAL(...)")
                data_types.append(known[0])
        return Table(Values(rows, names, data_types), self)

    def create_temporary_view(self, view_path: str, table: Table) -> None:
        """Registers ``table`` under ``view_path`` for SQL."""
        key = self._qualified(view_path)
        if key in self._views:
            raise ValidationException(
                f"Temporary table '{key}' already exists")
        self._views[key] = table._plan

    def _register_unnamed(self, table: Table) -> str:
        for name, plan in self._views.items():
            if plan is table._plan and name.rsplit(".", 1)[1].startswith("UnnamedTable$"):
                return name.rsplit(".", 1)[1]
        name = f"UnnamedTable${self._unnamed}"
        self._unnamed += 1
        self._views[self._qualified(name)] = table._plan
        return name

    def drop_temporary_view(self, view_path: str) -> bool:
        return self._views.pop(self._qualified(view_path), None) is not None

    def from_path(self, path: str) -> Table:
        return Table(self._lookup(path), self)

    def list_tables(self) -> List[str]:
        return sorted(k.rsplit(".", 1)[1] for k in list(self._views) + list(self._tables)
                      if not k.rsplit(".", 1)[1].startswith("UnnamedTable$"))

    list_views = list_temporary_views = list_temporary_tables = list_tables

    def _qualified(self, path: str) -> str:
        parts = [p.strip("`") for p in path.split(".")]
        if len(parts) == 1:
            parts = [self._current_catalog, self._current_database] + parts
        elif len(parts) == 2:
            parts = [self._current_catalog] + parts
        return ".".join(parts)

    def create_temporary_table(self, path: str, descriptor: Any) -> None:
        """Registers a connector table from a ``TableDescriptor``."""
        from flink_py.table.catalog import CatalogTable
        schema = descriptor.get_schema()
        if schema is None:
            raise ValidationException(f"create_temporary_table({path!r}): the descriptor has "
                                      f"no schema")
        self._register_table(CatalogTable(self._qualified(path), schema.names,
                                          schema.data_types, descriptor.get_options(),
                                          schema.columns, schema.watermarks,
                                          schema.primary_key))

    create_table = create_temporary_table

    def _register_table(self, table: Any, if_not_exists: bool = False) -> None:
        if table.path in self._tables or table.path in self._views:
            if if_not_exists:
                return
            raise ValidationException(f"Temporary table '{table.path}' already exists")
        self._tables[table.path] = table

    def _lookup(self, path: str) -> PlanNode:
        key = self._qualified(path)
        if key in self._tables:
            from flink_py.table.planner import CatalogSource
            table = self._tables[key]
            if table.computed():
                from flink_py.table.windows import stream_table_plan
                return stream_table_plan(CatalogSource(table), schema=table,
                                         batch=not self._settings.is_streaming_mode(),
                                         from_catalog=True)
            return CatalogSource(table)
        if key not in self._views:
            raise ValidationException(f"Object '{path}' not found within "
                                      f"'{self._current_catalog}.{self._current_database}'")
        return self._views[key]

    # -- functions ------------------------------------------------------------------------------
    def create_temporary_function(self, path: str, function: Any) -> None:
        """Registers a UDF (``udf(...)``) under ``path`` for SQL and ``call(path, ...)``."""
        from flink_py.table.udf import (UserDefinedAggregateFunctionWrapper,
                                        UserDefinedScalarFunctionWrapper,
                                        UserDefinedTableFunctionWrapper)
        if not isinstance(function, (UserDefinedScalarFunctionWrapper,
                                     UserDefinedTableFunctionWrapper,
                                     UserDefinedAggregateFunctionWrapper)):
            raise ValidationException(
                f"create_temporary_function({path!r}, {function!r}): expected a function made "
                f"with udf(...), udtf(...), udaf(...) or udtaf(...)")
        name = path.split(".")[-1].strip("`").lower()
        if name in self._functions:
            raise ValidationException(f"Could not register temporary catalog function "
                                      f"'{self._qualified(path)}' as a function already exists")
        self._functions[name] = function

    create_temporary_system_function = create_temporary_function

    def drop_temporary_function(self, path: str) -> bool:
        return self._functions.pop(path.split(".")[-1].strip("`").lower(), None) is not None

    drop_temporary_system_function = drop_temporary_function

    def list_user_defined_functions(self) -> List[str]:
        return sorted(self._functions)

    @contextlib.contextmanager
    def _functions_in_scope(self) -> Any:
        """Expressions resolved inside see this environment's functions and session time
        zone (``table.local-time-zone``)."""
        from flink_py.table.expressions import functions_in_scope
        from flink_py.table.state_ttl import ttl_in_scope
        from flink_py.table.temporal import time_zone_in_scope
        config = self.get_config()
        with functions_in_scope(self._functions), time_zone_in_scope(
                config.get("table.local-time-zone", "default")), ttl_in_scope(
                config.get("table.exec.state.ttl", None)):
            yield

    def set_local_timezone(self, zone: str) -> None:
        self.get_config().set("table.local-time-zone", zone)

    # -- SQL ----------------------------------------------------------------------------------
    def sql_query(self, query: str) -> Table:
        """The table a ``SELECT`` query gives."""
        from flink_py.table.sql import parse_statement
        return Table(self._sql_plan(parse_statement(query)), self)

    def _sql_plan(self, parsed: Any) -> PlanNode:
        from flink_py.table.sql import query_plan
        try:
            with self._functions_in_scope():
                return query_plan(parsed, self._lookup)
        except ValidationException as exc:
            raise ValidationException(f"SQL validation failed. {exc}") from None

    def execute_sql(self, stmt: str) -> TableResult:
        """Runs one statement: a query (its rows), ``CREATE TABLE``, ``INSERT INTO`` (submits
        the job; ``wait()`` for it), ``SHOW TABLES``/``VIEWS``/``FUNCTIONS``."""
        import re
        from sqlglot import exp
        from flink_py.table.sql import parse_statement
        show = re.fullmatch(r"\s*SHOW\s+(TABLES|VIEWS|FUNCTIONS|USER\s+FUNCTIONS)\s*;?\s*",
                            stmt, re.IGNORECASE)
        if show is not None:
            return self._show(show.group(1).upper())
        from flink_py.table.statement_set import special_statement
        special = special_statement(self, stmt)
        if special is not None:
            return special
        parsed = parse_statement(stmt)
        if isinstance(parsed, (exp.Select, exp.SetOperation)):
            return self._execute_plan(self._sql_plan(parsed))
        if isinstance(parsed, exp.Create) and str(parsed.args.get("kind", "")).upper() == "TABLE":
            from flink_py.table.sql import catalog_table_of
            try:
                table = catalog_table_of(parsed, self._qualified)
            except ValidationException as exc:
                raise ValidationException(f"SQL validation failed. {exc}") from None
            self._register_table(table, bool(parsed.args.get("exists")))
            return _ok()
        if isinstance(parsed, exp.Insert):
            target = parsed.this.this if isinstance(parsed.this, exp.Schema) else parsed.this
            if parsed.args.get("overwrite"):
                raise TableException("INSERT OVERWRITE is not supported yet")
            return self._insert(target.sql(dialect="hive").strip("`"),
                                self._sql_plan(parsed.expression))
        raise TableException(f"the statement {stmt.strip().split()[0].upper()} is not "
                             f"supported yet")

    def _show(self, what: str) -> TableResult:
        if what in ("TABLES", "VIEWS"):
            names = self.list_tables() if what == "TABLES" else sorted(
                k.rsplit(".", 1)[1] for k in self._views
                if not k.rsplit(".", 1)[1].startswith("UnnamedTable$"))
            header = "table name" if what == "TABLES" else "view name"
        else:
            names, header = self.list_user_defined_functions(), "function name"
        rows = [(0, (n,)) for n in names]
        return TableResult([header], [t.VarCharType(False)], lambda: iter(rows), False,
                           widths_by_content=True)

    def _insert(self, path: str, plan: PlanNode) -> TableResult:
        """Submits the job that writes ``plan``'s rows into the sink table ``path``."""
        from flink_py.table.statement_set import execute_inserts
        return execute_inserts(self, [(path, plan)])

    def create_statement_set(self) -> Any:
        """A StatementSet: INSERTs added to it run together as one job."""
        from flink_py.table.statement_set import StatementSet
        return StatementSet(self)

    def explain_sql(self, stmt: str, *extra_details: Any) -> str:
        """The abstract syntax tree and the plans of a query or INSERT, as Flink prints
        them (see ``flink_py.table.explain``)."""
        from flink_py.table.explain import explain_statement
        return explain_statement(self, stmt, extra_details)

    # -- execution ----------------------------------------------------------------------------
    def _execute_plan(self, plan: PlanNode) -> TableResult:
        streaming = self._settings.is_streaming_mode()

        def records() -> Any:
            with self._functions_in_scope():  # the config the operators are built with
                stream = translate(plan, self._environment_for(plan), not streaming)
            if not plan.updating:
                stream = stream.map(lambda values: (0, values))
            return stream.execute_and_collect("collect")
        result = TableResult(plan.names, plan.data_types, records, streaming)
        result.time_zone = self.get_config().get("table.local-time-zone", "default")
        return result


    def _environment_for(self, plan: PlanNode) -> Any:
        """The StreamExecutionEnvironment a query runs in: its DataStream sources', else
        one made for it with this environment's configuration."""
        from flink_py.datastream import RuntimeExecutionMode, StreamExecutionEnvironment
        envs = {id(leaf.stream.get_execution_environment()): leaf.stream.get_execution_environment()
                for leaf in sources(plan) if isinstance(leaf, StreamSource)}
        if len(envs) > 1:
            raise TableException("a query reads DataStreams of different environments")
        if envs:
            return next(iter(envs.values()))
        if self._stream_env is not None:
            return self._stream_env
        env = StreamExecutionEnvironment.get_execution_environment(
            Configuration(self._config.get_configuration()))
        if not self._settings.is_streaming_mode():
            env.set_runtime_mode(RuntimeExecutionMode.BATCH)
        return env


class StreamTableEnvironment(TableEnvironment):
    """A TableEnvironment on a given StreamExecutionEnvironment: tables from DataStreams and
    back (``from_data_stream``, ``to_data_stream``, ``to_changelog_stream``)."""

    def from_data_stream(self, data_stream: Any, *fields: Any) -> Table:
        """The stream as a table: a ``Types.ROW_NAMED`` stream's columns are its fields,
        a ``Types.TUPLE`` stream's are ``f0``, ``f1``, ...; ``fields`` renames them, or a
        ``Schema`` declares the columns (computed ones too) and a watermark."""
        from flink_py.table.catalog import Schema
        from flink_py.table.conversions import schema_of_stream
        from flink_py.table.windows import stream_table_plan
        names, data_types = schema_of_stream(data_stream.get_type())
        source = StreamSource(data_stream, names, data_types)
        if len(fields) == 1 and isinstance(fields[0], Schema):
            with self._functions_in_scope():
                return Table(stream_table_plan(source, schema=fields[0]), self)
        return Table(stream_table_plan(source, fields=fields), self)

    from_data_stream_legacy = from_data_stream

    def create_temporary_view(self, view_path: str, table_or_stream: Any,  # type: ignore
                              *fields: Any) -> None:
        if not isinstance(table_or_stream, Table):
            table_or_stream = self.from_data_stream(table_or_stream, *fields)
        super().create_temporary_view(view_path, table_or_stream)

    def _stream_of(self, table: Table) -> Any:
        env = self._environment_for(table._plan)
        with self._functions_in_scope():
            return translate(table._plan, env, not self._settings.is_streaming_mode())

    def to_data_stream(self, table: Table) -> Any:
        """The table's rows as a DataStream of ``Row``; an updating table is refused, as
        Flink refuses it."""
        plan = table._plan
        if plan.updating:
            raise TableException(
                f"Table sink '*anonymous_datastream_sink$1*' doesn't support consuming update "
                f"changes which is produced by node {_updating_node(plan).describe()}")
        from flink_py.table.conversions import row_type_info

        def to_row(values: tuple) -> Row:
            return Row(*values)
        return self._stream_of(table).map(to_row, output_type=row_type_info(
            plan.names, plan.data_types))

    def to_changelog_stream(self, table: Table) -> Any:
        """The table's changelog as a DataStream of ``Row`` with their ``RowKind``."""
        from flink_py.table.conversions import row_type_info
        plan = table._plan
        kinds = list(RowKind)
        if plan.updating:
            def to_row(record: tuple) -> Row:
                row = Row(*record[1])
                row.set_row_kind(kinds[record[0]])
                return row
        else:
            def to_row(record: tuple) -> Row:  # type: ignore[misc]
                return Row(*record)
        return self._stream_of(table).map(to_row, output_type=row_type_info(
            plan.names, plan.data_types))

    def to_append_stream(self, table: Table, type_info: Any = None) -> Any:
        """Flink 1.x: the rows of an insert-only table."""
        return self.to_data_stream(table)

    def to_retract_stream(self, table: Table, type_info: Any = None) -> Any:
        """Flink 1.x: ``(True, row)`` for each added row, ``(False, row)`` for each
        retracted one."""
        from flink_py.table.conversions import row_type_info
        plan = table._plan
        row_info = row_type_info(plan.names, plan.data_types)
        from flink_py.common.typeinfo import Types
        if plan.updating:
            def to_pair(record: tuple) -> tuple:
                return (record[0] in (INSERT, UPDATE_AFTER), Row(*record[1]))
        else:
            def to_pair(record: tuple) -> tuple:  # type: ignore[misc]
                return (True, Row(*record))
        return self._stream_of(table).map(to_pair, output_type=Types.TUPLE(
            [Types.BOOLEAN(), row_info]))

    @staticmethod
    def create(stream_execution_environment: Any = None,  # type: ignore[override]
               environment_settings: Optional[EnvironmentSettings] = None
               ) -> "StreamTableEnvironment":
        settings = environment_settings or EnvironmentSettings.in_streaming_mode()
        return StreamTableEnvironment(settings, stream_execution_environment)


def _ok() -> TableResult:
    """The result of a DDL statement: ``OK``."""
    rows = [(0, ("OK",))]
    return TableResult(["result"], [t.VarCharType(False)], lambda: iter(rows), False,
                       ResultKind.SUCCESS, widths_by_content=True)


def _updating_node(plan: PlanNode) -> PlanNode:
    """The node that makes ``plan`` updating."""
    for child in plan.inputs:
        if child.updating:
            return _updating_node(child)
    return plan


def _verified(row: tuple, data_types: List[t.DataType], names: List[str]) -> tuple:
    for value, dt, name in zip(row, data_types, names):
        if value is None:
            if not dt.is_nullable:
                raise ValidationException(f"field {name!r} of type {dt.sql()} is not "
                                          f"nullable but the element has None")
            continue
        ok = {t.BooleanType: (bool,), t.VarCharType: (str,), t.CharType: (str,),
              t.FloatType: (float,), t.DoubleType: (float,)}.get(type(dt))
        if isinstance(dt, t._IntegerType):
            if isinstance(value, bool) or not isinstance(value, int) or not (
                    dt.min_value <= value <= dt.max_value):
                raise ValidationException(f"field {name!r} of type {dt.sql()} cannot hold "
                                          f"{value!r}")
        elif ok is not None and (not isinstance(value, ok) or (
                isinstance(value, bool) and bool not in ok)):
            raise ValidationException(f"field {name!r} of type {dt.sql()} cannot hold "
                                      f"{value!r} of type {type(value).__name__}")
    if any(isinstance(dt, t.DecimalType) for dt in data_types):  # to the declared scale
        from flink_py.table.decimals import fitter
        row = tuple(fitter(dt)(v) if isinstance(dt, t.DecimalType) else v
                    for v, dt in zip(row, data_types))
    if any(isinstance(dt, t.FloatType) for dt in data_types):
        from flink_py.table.expressions import to_float32
        row = tuple(to_float32(v) if isinstance(dt, t.FloatType) and v is not None else v
                    for v, dt in zip(row, data_types))
    return row
