"""The Table API's exceptions, with PyFlink's names (``pyflink.util.exceptions``)."""

from __future__ import annotations

from flink_py.errors import FlinkPyError

__all__ = ["TableException", "ValidationException", "SqlParserException"]


class TableException(FlinkPyError):
    """A general failure of the Table API or SQL."""


class ValidationException(TableException):
    """A query or expression that does not validate: an unknown column, table or function,
    or mismatched types. The message names it."""


class SqlParserException(TableException):
    """SQL that does not parse; the message names the line and column, as Flink's
    ``SQL parse failed. ... at line 1, column 8``."""
