"""``StatementSet`` (``pyflink.table.StatementSet``): several INSERTs run as one job, and the
SQL form of it (``EXECUTE STATEMENT SET BEGIN INSERT ...; INSERT ...; END;``); the SQL
client's ``BEGIN STATEMENT SET;`` is refused by ``execute_sql`` with Flink's message.

The INSERTs' queries are translated into one StreamExecutionEnvironment, each ending in its
sink, and submitted as one job named as Flink names it (``insert-into_<sink>,<sink>``); its
result has a column per sink (``-1``, the affected row count Flink does not know). Each
query is translated on its own, so a source read by two INSERTs is read twice in the job
(Flink's planner reuses the common scan); what the sinks receive is the same.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, List, Optional, Tuple

from flink_py.table import types as t
from flink_py.table.errors import TableException, ValidationException
from flink_py.table.table_result import TableResult

if TYPE_CHECKING:
    from flink_py.table.planner import PlanNode
    from flink_py.table.table import Table
    from flink_py.table.table_environment import TableEnvironment

__all__ = ["StatementSet", "execute_inserts", "special_statement"]

Insert = Tuple[str, "PlanNode"]


class StatementSet:
    """INSERT statements and Tables to write, optimized and submitted together as one job.
    ``execute`` clears them."""

    def __init__(self, t_env: "TableEnvironment") -> None:
        self._t_env = t_env
        self._inserts: List[Insert] = []

    def add_insert_sql(self, stmt: str) -> "StatementSet":
        """Adds an ``INSERT INTO ... SELECT ...`` statement.

        :param stmt: the statement.
        :return: this StatementSet.
        """
        self._inserts.append(insert_of_sql(self._t_env, stmt))
        return self

    def add_insert(self, target_path_or_descriptor: Any, table: "Table",
                   overwrite: bool = False) -> "StatementSet":
        """Adds the writing of ``table`` into a sink table: a registered path, or a
        ``TableDescriptor`` (registered as an anonymous table).

        :return: this StatementSet.
        """
        if overwrite:
            raise TableException("INSERT OVERWRITE is not supported yet")
        path = target_path_or_descriptor
        if not isinstance(path, str):
            path = anonymous_sink(self._t_env, target_path_or_descriptor)
        self._inserts.append((path, table._plan))
        return self

    def add(self, table_pipeline: Any) -> "StatementSet":
        """A TablePipeline (``Table.insert_into``) is not built yet."""
        raise TableException("StatementSet.add(TablePipeline) is not supported yet: use "
                             "add_insert(target, table)")

    def explain(self, *extra_details: Any) -> str:
        """The abstract syntax tree and the plans of all added INSERTs."""
        from flink_py.table.explain import explain_inserts
        if not self._inserts:
            raise TableException(_NO_INSERTS)
        return explain_inserts(self._t_env, self._inserts, extra_details)

    def print_explain(self, *extra_details: Any) -> None:
        print(self.explain(*extra_details))

    def execute(self) -> TableResult:
        """Submits all added INSERTs as one job and clears them; ``wait()`` on the result
        for its end."""
        inserts, self._inserts = self._inserts, []
        return execute_inserts(self._t_env, inserts)

    def attach_as_datastream(self) -> None:
        """Adds the INSERTs' pipelines to the StreamExecutionEnvironment of a
        StreamTableEnvironment, which ``execute`` runs; clears them."""
        if self._t_env._stream_env is None:
            raise TableException("attach_as_datastream needs a StreamTableEnvironment")
        inserts, self._inserts = self._inserts, []
        if not inserts:
            raise TableException(_NO_INSERTS)
        _add_sinks(self._t_env, inserts)


_UNSUPPORTED_STATEMENT = (
    "Unsupported SQL query! executeSql() only accepts a single SQL statement of type CREATE "
    "TABLE, DROP TABLE, ALTER TABLE, CREATE DATABASE, DROP DATABASE, ALTER DATABASE, CREATE "
    "FUNCTION, DROP FUNCTION, ALTER FUNCTION, CREATE CATALOG, DROP CATALOG, USE CATALOG, USE "
    "[CATALOG.]DATABASE, SHOW CATALOGS, SHOW DATABASES, SHOW TABLES, SHOW [USER] FUNCTIONS, "
    "SHOW PARTITIONSCREATE VIEW, DROP VIEW, SHOW VIEWS, INSERT, DESCRIBE, LOAD MODULE, UNLOAD "
    "MODULE, USE MODULES, SHOW [FULL] MODULES.")
_NO_INSERTS = "No operators defined in streaming topology. Cannot execute."


def anonymous_sink(t_env: "TableEnvironment", descriptor: Any) -> str:
    """Registers a TableDescriptor's table under an anonymous name, as Flink names it."""
    number = t_env.__dict__.get("_anonymous_tables", 0) + 1  # Flink counts from 1
    t_env.__dict__["_anonymous_tables"] = number
    path = f"*anonymous_{descriptor.connector}${number}*"
    t_env.create_temporary_table(path, descriptor)
    return path


def insert_of_sql(t_env: "TableEnvironment", stmt: str) -> Insert:
    """(the sink's path, the query's plan) of an ``INSERT INTO`` statement."""
    from sqlglot import exp
    from flink_py.table.sql import parse_statement
    parsed = parse_statement(stmt)
    if not isinstance(parsed, exp.Insert):
        raise TableException(f"Unsupported SQL query! add_insert_sql() only accepts a single "
                             f"SQL statement of type INSERT, got: {stmt.strip()}")
    if parsed.args.get("overwrite"):
        raise TableException("INSERT OVERWRITE is not supported yet")
    target = parsed.this.this if isinstance(parsed.this, exp.Schema) else parsed.this
    if isinstance(parsed.this, exp.Schema):
        raise TableException("INSERT INTO with a column list is not supported yet")
    return target.sql(dialect="hive").strip("`"), t_env._sql_plan(parsed.expression)


def _sink_tables(t_env: "TableEnvironment", inserts: List[Insert]) -> List[Any]:
    from flink_py.table.connectors import check_sink_changelog, check_sink_schema
    batch = not t_env._settings.is_streaming_mode()
    tables = []
    for path, plan in inserts:
        table = t_env._tables.get(t_env._qualified(path))
        if table is None:
            raise ValidationException(f"SQL validation failed. Object '{path}' not found")
        check_sink_schema(table, plan.names, plan.data_types)
        check_sink_changelog(table, plan, batch)
        tables.append(table)
    return tables


def _add_sinks(t_env: "TableEnvironment", inserts: List[Insert]) -> Tuple[Any, List[Any]]:
    """Translates every INSERT into one environment, each ending in its sink."""
    from flink_py.table.connectors import write_to_sink
    from flink_py.table.planner import StreamSource, sources, translate
    tables = _sink_tables(t_env, inserts)
    with_streams = [plan for _, plan in inserts
                    if any(isinstance(leaf, StreamSource) for leaf in sources(plan))]
    env = t_env._environment_for(with_streams[0] if with_streams else inserts[0][1])
    for plan in with_streams:
        if t_env._environment_for(plan) is not env:
            raise TableException("the INSERTs of a statement set read DataStreams of "
                                 "different environments")
    batch = not t_env._settings.is_streaming_mode()
    from flink_py.table.temporal import sink_casts
    for table, (_, plan) in zip(tables, inserts):
        plan = sink_casts(plan, table.data_types)  # a TIMESTAMP into a TIMESTAMP_LTZ column
        with t_env._functions_in_scope():  # the config the operators are built with
            stream = translate(plan, env, batch)
        write_to_sink(table, stream, plan.updating, batch)
    return env, tables


def execute_inserts(t_env: "TableEnvironment", inserts: List[Insert]) -> TableResult:
    """Submits one job writing each INSERT's rows into its sink."""
    if not inserts:
        raise TableException(_NO_INSERTS)
    env, tables = _add_sinks(t_env, inserts)
    names = [table.path.rsplit(".", 1)[-1] if table.path.rsplit(".", 1)[-1].startswith(
        "*anonymous_") else table.path for table in tables]  # as Flink names them
    client = env.execute_async("insert-into_" + ",".join(names))
    row = [(0, tuple(-1 for _ in names))]
    result = TableResult(names, [t.BigIntType() for _ in names], lambda: iter(row), False,
                         job_client=client, widths_by_content=True)
    result._raw_content = True  # type: ignore[attr-defined]  # Flink prints "-1, -1"
    return result


# -- SQL: EXECUTE STATEMENT SET, BEGIN STATEMENT SET; ... END;, EXPLAIN ---------------------

_EXECUTE_SET = re.compile(r"\s*EXECUTE\s+STATEMENT\s+SET\s+BEGIN\s+(.*)\bEND\s*;?\s*",
                          re.IGNORECASE | re.DOTALL)
_BEGIN_SET = re.compile(r"\s*BEGIN\s+STATEMENT\s+SET\s*;?\s*", re.IGNORECASE)
_END = re.compile(r"\s*END\s*;?\s*", re.IGNORECASE)
_EXPLAIN = re.compile(r"\s*EXPLAIN\s+(?:PLAN\s+FOR\s+)?(.*)", re.IGNORECASE | re.DOTALL)


def split_statements(text: str) -> List[str]:
    """``text`` split at the semicolons outside quotes and comments."""
    out, current, quote = [], [], None
    i = 0
    while i < len(text):
        c = text[i]
        if quote is not None:
            current.append(c)
            if c == quote:
                quote = None
        elif c in "'`\"":
            quote = c
            current.append(c)
        elif text.startswith("--", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        elif c == ";":
            out.append("".join(current))
            current = []
        else:
            current.append(c)
        i += 1
    out.append("".join(current))
    return [s.strip() for s in out if s.strip()]


def special_statement(t_env: "TableEnvironment", stmt: str) -> Optional[TableResult]:
    """The result of a statement-set or EXPLAIN statement, or None for any other."""
    if _BEGIN_SET.fullmatch(stmt) or _END.fullmatch(stmt):
        # the SQL client's statement-set block; TableEnvironment.execute_sql refuses it
        raise TableException(_UNSUPPORTED_STATEMENT)
    match = _EXECUTE_SET.fullmatch(stmt)
    if match is not None:
        inserts = []
        for part in split_statements(match.group(1)):
            if not re.match(r"INSERT\b", part, re.IGNORECASE):
                raise TableException(f"Only 'INSERT' statement is allowed in Statement Set, "
                                     f"got: {part}")
            inserts.append(insert_of_sql(t_env, part))
        return execute_inserts(t_env, inserts)
    match = _EXPLAIN.fullmatch(stmt)
    if match is not None:
        from flink_py.table.explain import explain_statement
        text = explain_statement(t_env, match.group(1).strip().rstrip(";"), ())
        rows = [(0, (text,))]
        result = TableResult(["result"], [t.VarCharType()], lambda: iter(rows), False,
                             widths_by_content=True)
        result._raw_content = True  # type: ignore[attr-defined]  # printed as it is
        return result
    return None
