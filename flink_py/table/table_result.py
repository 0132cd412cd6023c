"""``TableResult`` (``pyflink.table.TableResult``): the result of ``execute()`` or
``execute_sql``: rows to ``collect()`` or ``print()``, the job behind them."""

from __future__ import annotations

from enum import Enum
from typing import Any, Callable, Iterator, List, Optional

from flink_py.common.types import Row, RowKind
from flink_py.table import types as t
from flink_py.table.print_utils import print_tableau
from flink_py.table.table import TableSchema

__all__ = ["ResultKind", "TableResult", "CloseableIterator"]

_KINDS = list(RowKind)


class ResultKind(Enum):
    """What a statement returns: ``SUCCESS`` (DDL) or ``SUCCESS_WITH_CONTENT`` (rows)."""

    SUCCESS = 0
    SUCCESS_WITH_CONTENT = 1


class CloseableIterator:
    """The rows of a result, one at a time; also a context manager that closes it."""

    def __init__(self, rows: Iterator[Row], close: Callable[[], None]) -> None:
        self._rows, self._close = rows, close

    def __iter__(self) -> "CloseableIterator":
        return self

    def __next__(self) -> Row:
        return next(self._rows)

    def close(self) -> None:
        self._close()

    def __enter__(self) -> "CloseableIterator":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class TableResult:
    """The result of a statement: its schema, its rows and, for a query, its job."""

    def __init__(self, names: List[str], data_types: List[t.DataType],
                 records: Optional[Callable[[], Any]], streaming: bool,
                 result_kind: ResultKind = ResultKind.SUCCESS_WITH_CONTENT,
                 job_client: Any = None, widths_by_content: bool = False) -> None:
        self._names, self._types = names, data_types
        self._job_client = job_client
        #: a statement's result (SHOW, DDL, INSERT) prints with widths from its content
        self._widths_by_content = widths_by_content
        self._records = records  # starts the job, returns its (closeable) record iterator
        self._streaming = streaming
        self._result_kind = result_kind
        self._iterator: Optional[Any] = None

    def _start(self) -> Any:
        if self._iterator is None:
            self._iterator = self._records() if self._records is not None else iter(())
        return self._iterator

    def get_job_client(self) -> Any:
        """The job's client, or None for a statement without a job."""
        if self._job_client is not None:
            return self._job_client
        iterator = self._start()
        return getattr(iterator, "job_client", None)

    def get_table_schema(self) -> TableSchema:
        return TableSchema(self._names, self._types)

    def get_result_kind(self) -> ResultKind:
        return self._result_kind

    def wait(self, timeout_ms: Optional[int] = None) -> None:
        """Waits until the job ended; its rows stay available to ``collect``/``print``.

        :raises JobExecutionError: if the job failed.
        """
        if self._job_client is not None:
            self._job_client.get_job_execution_result().result(
                None if timeout_ms is None else timeout_ms / 1000)
            return
        iterator = self._start()
        rows = list(iterator)
        close = getattr(iterator, "close", None)
        if close is not None:
            close()
        self._iterator = iter(rows)

    def _rows(self) -> Iterator[Row]:
        for kind, values in self._start():
            row = Row(*values)
            row._row_kind = _KINDS[kind]
            yield row

    def collect(self) -> CloseableIterator:
        """The rows, each with its ``RowKind``, as they come."""
        iterator = self._start()
        return CloseableIterator(self._rows(), getattr(iterator, "close", lambda: None))

    def print(self) -> None:
        """Prints the rows in Flink's tableau form (with the ``op`` column in streaming
        mode), as they come; a TIMESTAMP_LTZ in the session time zone."""
        from flink_py.table.temporal import time_zone_in_scope
        if self._result_kind == ResultKind.SUCCESS:  # DDL: Flink prints just OK
            print("OK")
            return
        with self.collect() as rows, time_zone_in_scope(getattr(self, "time_zone", None)):
            if getattr(self, "_raw_content", False):  # EXPLAIN: the text as it is
                for row in rows:
                    print(", ".join(str(v) for v in row._values))
                return
            if self._widths_by_content:
                from flink_py.table.print_utils import format_value, print_content_tableau
                cells = [["<NULL>" if v is None else format_value(v) for v in row._values]
                         for row in rows]
                print_content_tableau(self._names, cells)
                return
            print_tableau(self._names, self._types, rows, self._streaming)
