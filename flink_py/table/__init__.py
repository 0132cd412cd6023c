"""The Table API and SQL (``pyflink.table``): relational queries compiled onto the
DataStream runtime. A first part of issue 12: tables from elements and views, ``select``,
``filter``, ``group_by`` aggregations with changelog output, SQL ``SELECT`` on sqlglot, and
``TableResult.print()`` in Flink's tableau form."""

from flink_py.common.types import Row, RowKind
from flink_py.table.catalog import Schema, TableDescriptor
from flink_py.table.table_descriptor import FormatDescriptor
from flink_py.table.explain import ExplainDetail
from flink_py.table.statement_set import StatementSet
from flink_py.table.errors import (SqlParserException, TableException,
                                   ValidationException)
from flink_py.table.table import GroupedTable, Table, TableSchema
from flink_py.table.table_environment import (EnvironmentSettings, StreamTableEnvironment,
                                              TableConfig, TableEnvironment)
from flink_py.table.table_result import ResultKind, TableResult
from flink_py.table.types import DataTypes

__all__ = ["DataTypes", "EnvironmentSettings", "ExplainDetail", "FormatDescriptor", "GroupedTable", "ResultKind", "Row",
           "RowKind", "SqlParserException", "StatementSet", "StreamTableEnvironment", "Table", "TableConfig",
           "TableDescriptor", "TableEnvironment", "TableException", "TableResult",
           "TableSchema", "Schema",
           "ValidationException"]
