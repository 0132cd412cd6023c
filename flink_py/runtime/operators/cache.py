"""The operators behind ``DataStream.cache()``: one writes each subtask's records to a file
of the cache while passing them on, the other reads them back in a later job.

A subtask's file (``part-<i>-of-<n>``) appears, by an atomic rename, when the subtask has
processed its whole input; the cache is complete when every one of the ``n`` files is there.
A subtask that runs again (a batch job's failover) writes its file again.
"""

from __future__ import annotations

import os
import pickle
import re
from typing import Any, BinaryIO, Optional

from flink_py.api.functions import SourceFunction
from flink_py.runtime.operators.base import StreamOperator

_PART = re.compile(r"part-(\d+)-of-(\d+)")


def part_file(directory: str, index: int, parallelism: int) -> str:
    """The file of subtask ``index`` (of ``parallelism``) in the cache ``directory``."""
    return os.path.join(directory, f"part-{index}-of-{parallelism}")


def complete_parallelism(directory: str) -> Optional[int]:
    """The parallelism the cache in ``directory`` was written with, when all of its files
    are there; ``None`` while it is incomplete (or empty)."""
    if not os.path.isdir(directory):
        return None
    found: dict = {}
    for name in os.listdir(directory):
        match = _PART.fullmatch(name)
        if match:
            found.setdefault(int(match.group(2)), set()).add(int(match.group(1)))
    for parallelism, indexes in found.items():
        if indexes == set(range(parallelism)):
            return parallelism
    return None


class CacheWriter(StreamOperator):
    """Passes its records on and writes them, with their timestamps, to the cache file of
    its subtask, which appears when its input has ended."""

    def __init__(self, name: str, directory: str) -> None:
        super().__init__(name)
        self.directory = directory
        self._file: Optional[BinaryIO] = None
        self._temporary = ""

    def _open_file(self) -> BinaryIO:
        os.makedirs(self.directory, exist_ok=True)
        ctx = self.runtime_context
        final = part_file(self.directory, ctx.get_index_of_this_subtask(),
                          ctx.get_number_of_parallel_subtasks())
        self._temporary = f"{final}.{os.getpid()}.{id(self)}.inprogress"
        self._file = open(self._temporary, "wb")
        return self._file

    def process_batch(self, values: list, timestamps: Optional[list]) -> None:
        f = self._file or self._open_file()
        pickle.dump((values, timestamps), f, protocol=pickle.HIGHEST_PROTOCOL)
        self.output.emit(values, timestamps)

    def finish(self) -> None:
        f = self._file or self._open_file()
        f.close()
        self._file = None
        ctx = self.runtime_context
        os.replace(self._temporary, part_file(
            self.directory, ctx.get_index_of_this_subtask(),
            ctx.get_number_of_parallel_subtasks()))

    def close(self) -> None:
        if self._file is not None:  # failed or cancelled before the end of input
            self._file.close()
            self._file = None
            os.remove(self._temporary)


class CacheReader(SourceFunction):
    """Emits the records the cache file of its subtask holds, with their timestamps."""

    def __init__(self, directory: str, parallelism: int) -> None:
        self.directory = directory
        self.parallelism = parallelism
        self.bounded = True
        self._index = 0
        self._running = True

    def open(self, runtime_context: Any) -> None:
        self._index = runtime_context.get_index_of_this_subtask()

    def run(self, ctx: SourceFunction.SourceContext) -> None:
        with open(part_file(self.directory, self._index, self.parallelism), "rb") as f:
            while self._running:
                try:
                    values, timestamps = pickle.load(f)
                except EOFError:  # the end of the file
                    return
                self._emit(ctx, values, timestamps)

    @staticmethod
    def _emit(ctx: SourceFunction.SourceContext, values: list, timestamps: Optional[list]
              ) -> None:
        if timestamps is None:
            for value in values:
                ctx.collect(value)
            return
        for value, timestamp in zip(values, timestamps):
            if timestamp is None:
                ctx.collect(value)
            else:
                ctx.collect_with_timestamp(value, timestamp)

    def cancel(self) -> None:
        self._running = False
