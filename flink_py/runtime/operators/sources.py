"""Source operators: the heads of source tasks.

Built-in sources are *readers* that the task's mailbox polls: each default-action step calls
``emit_next(ctx, max_records)``, which emits at most ``max_records`` records through
``ctx.emit`` and says whether more follow, so that timers, checkpoints and other mails run
between two steps (the task adapts ``max_records`` to keep a step short). A reader keeps its
position and stores it in its operator state under ``READER_POSITION_STATE`` when a snapshot
is taken; a restored reader resumes right after the last record it emitted before the
checkpoint barrier (``seek``).

The built-in readers' positions are *splits*: the parts of the input not emitted yet (a
range of numbers, a file and the lines read from it, a range of a collection's items), one
operator-state element each (``SPLIT_DISTRIBUTE`` list state). A restore at another
parallelism deals the elements out over the new subtasks (state_assignment.py), so every
remaining record is emitted exactly once; a subtask of a restored job that gets no split
emits nothing. Flink's FileSource and NumberSequenceSource keep the splits a reader was
assigned in the same kind of reader state; unlike Flink, our readers split the input among
themselves when the job starts (there is no enumerator holding unassigned splits), so all
remaining splits are in the readers' state.

A user ``SourceFunction`` (``legacy``) runs its own loop on a thread of the task; it only
fills a bounded queue that the mailbox drains (see runtime/tasks/source_stream_task.py).
"""

from __future__ import annotations

import codecs
import os
import socket
import threading
from typing import Any, List, Optional, Sequence

from flink_py.api.functions import SourceFunction
from flink_py.api.state import ListStateDescriptor
from flink_py.errors import FlinkPyError
from flink_py.runtime.operators.base import Output, StreamOperator, close_function

#: the operator list state in which a source reader keeps its position (reserved name)
READER_POSITION_STATE = "_flink_py_source_reader_position"


class SourceTaskContext:
    """What a source's ``emit_next``/``run`` gets from its task (see SourceStreamTask)."""

    records_per_buffer: int = 1024
    buffer_timeout_ms: int = 100
    lock: threading.RLock

    @property
    def cancelled(self) -> bool:
        raise NotImplementedError

    def emit(self, values: list, timestamps: Optional[list]) -> None:
        """Pushes one buffer into the chain."""
        raise NotImplementedError

    def flush(self) -> None:
        """Flushes partially filled network buffers downstream."""
        raise NotImplementedError


class StreamSource(StreamOperator):
    """Base of source operators."""

    bounded = True
    #: a legacy SourceFunction, run on its own thread (``run_function``), not polled
    legacy = False
    #: whether ``reader_position`` is a list of splits, each its own operator-state element
    #: (redistributed on a rescaled restore), rather than one opaque position
    position_is_splits = False

    def emit_next(self, ctx: SourceTaskContext, max_records: int) -> bool:
        """Emits up to ``max_records`` records; returns False once the input is exhausted.

        The default runs ``run(ctx)`` whole (sources written before readers existed).
        """
        self.run(ctx)
        return False

    def run(self, ctx: SourceTaskContext) -> None:
        """Emits everything (without a mailbox: tests, and sources that own their loop)."""
        while not ctx.cancelled and self.emit_next(ctx, ctx.records_per_buffer):
            pass

    def cancel(self) -> None:
        """Called from another thread: make ``run`` return promptly."""

    def process_batch(self, values: list, timestamps: Optional[list]) -> None:
        raise FlinkPyError(f"source '{self.name}' has no input")

    def source_output(self) -> Output:
        """Where the source's own records go (a wrapper may put operators behind it)."""
        return self.output

    # -- the reader's position, kept in operator state ----------------------------------------

    def reader_position(self) -> Any:
        """What ``seek`` needs to resume after the last record emitted (None: nothing)."""
        return None

    def seek(self, position: Any) -> None:
        """Restore: the next ``emit_next`` continues after ``position``."""

    def _position_state(self) -> Any:
        if self.operator_state_store is None:
            from flink_py.runtime.state.operator_state_backend import OperatorStateStore
            self.operator_state_store = OperatorStateStore(self.restored_operator_state)
        return self.operator_state_store.get_list_state(
            ListStateDescriptor(READER_POSITION_STATE))

    def restored_reader_position(self) -> Any:
        """The position this subtask's restored operator state holds, or None (a fresh
        start). For split positions: the list of this subtask's splits, empty when the job
        restores but this subtask got none (they are done, or another subtask's)."""
        if self.restored_operator_state is None and self.operator_state_store is None:
            return [] if self.position_is_splits and self.task_restored else None
        elements = self._position_state().get()
        if self.position_is_splits:
            return list(elements)
        return elements[0] if elements else None

    def snapshot_state(self, checkpoint_id: int, timestamp: int, options: Any,
                       factory: Any) -> Any:
        position = self.reader_position()
        if self.position_is_splits:
            # one element per split (an empty list once done): they redistribute on restore
            self._position_state().update(position)
        elif position is not None:
            self._position_state().update([position])
        return super().snapshot_state(checkpoint_id, timestamp, options, factory)


def _share(rc: Any) -> tuple:
    return rc.get_index_of_this_subtask(), rc.get_number_of_parallel_subtasks()


class CollectionSource(StreamSource):
    """``from_collection``: emits the given items in order.

    Non-parallel in Flink; run in parallel, subtask ``i`` of ``p`` takes the items
    ``i, i + p, i + 2p, ...``. Position: the index ranges not emitted yet, each
    ``[next, stop, step]`` over the items (a split), the current one first.
    """

    position_is_splits = True

    def __init__(self, name: str, items: Sequence[Any]) -> None:
        super().__init__(name)
        # A range stays a range: it ships as three numbers instead of every element.
        self.items = items if isinstance(items, range) else list(items)
        #: the index ranges still to emit, ``[next, stop, step]``, the current one first
        self._ranges: Optional[List[List[int]]] = None

    def _my_ranges(self) -> List[List[int]]:
        ranges = self._ranges
        if ranges is None:
            index, parallelism = _share(self.runtime_context)
            ranges = self._ranges = ([[index, len(self.items), parallelism]]
                                     if index < len(self.items) else [])
        return ranges

    def emit_next(self, ctx: SourceTaskContext, max_records: int) -> bool:
        ranges = self._my_ranges()
        while ranges and ranges[0][0] >= ranges[0][1]:
            ranges.pop(0)
        if not ranges:
            return False
        current = ranges[0]
        lo, stop, step = current
        hi = min(lo + max_records * step, stop)
        current[0] = lo + -(-(hi - lo) // step) * step  # the first index not emitted
        ctx.emit(list(self.items[lo:hi:step]), None)
        return current[0] < stop or len(ranges) > 1

    def reader_position(self) -> Any:
        return [list(r) for r in self._my_ranges() if r[0] < r[1]]

    def seek(self, position: Any) -> None:
        if isinstance(position, int):
            # written before positions were splits: the count of this subtask's items
            # emitted (valid at the parallelism it was written with)
            index, parallelism = _share(self.runtime_context)
            self._ranges = [[index + position * parallelism, len(self.items), parallelism]]
        else:
            self._ranges = [[int(lo), int(stop), int(step)] for lo, stop, step in position]

    def restored_reader_position(self) -> Any:
        elements = super().restored_reader_position()
        if isinstance(elements, list) and len(elements) == 1 and isinstance(elements[0], int):
            return elements[0]  # the count of an older savepoint
        return elements


class NumberSequenceSource(StreamSource):
    """``from_sequence``: the numbers from ``start`` to ``end`` inclusive, split into one
    contiguous range per subtask.

    Position: the ranges not emitted yet, each ``[next, stop)``, kept as one operator-state
    element per range (SPLIT_DISTRIBUTE), so that a restore at another parallelism deals the
    remaining ranges out over the new subtasks; a restored subtask that got none emits
    nothing (its share of the sequence was emitted, or belongs to another subtask).
    """

    position_is_splits = True

    def __init__(self, name: str, start: int, end: int) -> None:
        super().__init__(name)
        self.start = start
        self.end = end
        #: the ranges still to emit, ``[next, stop)``, the current one first
        self._ranges: Optional[List[List[int]]] = None

    def _my_ranges(self) -> List[List[int]]:
        ranges = self._ranges
        if ranges is None:
            index, parallelism = _share(self.runtime_context)
            total = self.end - self.start + 1
            first = self.start + total * index // parallelism
            stop = self.start + total * (index + 1) // parallelism
            ranges = self._ranges = [[first, stop]] if first < stop else []
        return ranges

    def emit_next(self, ctx: SourceTaskContext, max_records: int) -> bool:
        ranges = self._my_ranges()
        while ranges and ranges[0][0] >= ranges[0][1]:
            ranges.pop(0)
        if not ranges:
            return False
        current = ranges[0]
        lo = current[0]
        hi = min(lo + max_records, current[1])
        current[0] = hi
        ctx.emit(list(range(lo, hi)), None)
        return hi < current[1] or len(ranges) > 1

    def reader_position(self) -> Any:
        return [list(r) for r in self._my_ranges() if r[0] < r[1]]

    def seek(self, position: Any) -> None:
        if isinstance(position, int):  # one number: the next of this subtask's own range
            stop = self._my_ranges()[0][1] if self._my_ranges() else position
            self._ranges = [[position, stop]]
        else:
            self._ranges = [[int(lo), int(hi)] for lo, hi in position]

    def restored_reader_position(self) -> Any:
        elements = super().restored_reader_position()
        if isinstance(elements, list) and elements and isinstance(elements[0], int):
            return elements[0]  # written as a single next number
        return elements


class TextFileSource(StreamSource):
    """Reads text files line by line; each file is one split, assigned round robin to
    subtasks.

    Position: the splits not finished yet, each ``[path, lines read]``, the current one first
    (see the module docstring: they redistribute on a rescaled restore).

    Lines end at ``\\n``, ``\\r\\n`` or ``\\r`` and exclude the terminator, as Java's
    ``readLine`` (which Flink's text formats use) does.
    """

    position_is_splits = True

    def __init__(self, name: str, paths: List[str], encoding: str = "utf-8") -> None:
        super().__init__(name)
        self.paths = list(paths)
        self.encoding = encoding
        #: the splits still to read, ``[path, lines read]``, the current one first
        self._remaining: Optional[List[List[Any]]] = None
        self._file: Any = None
        #: the last read's lines, of which those from ``_carry_start`` are not emitted yet
        self._carry: List[str] = []
        self._carry_start = 0

    def _splits(self) -> List[str]:
        files: List[str] = []
        for path in self.paths:
            if os.path.isdir(path):
                for root, _dirs, names in os.walk(path):
                    files.extend(os.path.join(root, n) for n in sorted(names)
                                 if not n.startswith((".", "_")))
            elif os.path.exists(path):
                files.append(path)
            else:
                raise FlinkPyError(f"input file {path!r} of source '{self.name}' does not exist")
        return sorted(files) if len(self.paths) > 1 else files

    def _own_share(self) -> List[str]:
        index, parallelism = _share(self.runtime_context)
        return self._splits()[index::parallelism]

    def _my_splits(self) -> List[List[Any]]:
        if self._remaining is None:
            self._remaining = [[path, 0] for path in self._own_share()]
        return self._remaining

    def _open_split(self) -> bool:
        remaining = self._my_splits()
        if not remaining:
            return False
        path, lines_read = remaining[0]
        try:
            self._file = open(path, "r", encoding=self.encoding, newline=None)
        except FileNotFoundError:
            raise FlinkPyError(
                f"input file {path!r} of source '{self.name}' does not exist") from None
        self._carry, self._carry_start = [], 0
        for _ in range(lines_read):  # restored: skip what was emitted before
            if not self._file.readline():
                break
        return True

    def emit_next(self, ctx: SourceTaskContext, max_records: int) -> bool:
        if self._file is None and not self._open_split():
            return False
        lines = self._carry
        start = self._carry_start
        if start >= len(lines):
            # ~64 bytes a line: read about max_records lines per call.
            lines = self._carry = self._file.readlines(max(max_records * 64, 1))
            start = 0
            if not lines:
                self._file.close()
                self._file = None
                self._my_splits().pop(0)
                return self._open_split() or False
        end = start + max_records
        if start or end < len(lines):  # a read returned more than this step may emit
            lines = lines[start:end]
            self._carry_start = end
        else:
            self._carry_start = len(lines)
        self._my_splits()[0][1] += len(lines)
        last = lines[-1]
        if last.endswith("\n"):
            out = [line[:-1] for line in lines]
        else:
            out = [line[:-1] for line in lines[:-1]]
            out.append(last)
        ctx.emit(out, None)
        return True

    def reader_position(self) -> Any:
        return [list(split) for split in self._my_splits()]

    def restored_reader_position(self) -> Any:
        elements = super().restored_reader_position()
        if isinstance(elements, list) and len(elements) == 1 and \
                isinstance(elements[0][0], int):
            return elements[0]  # the (split, lines read) of an older savepoint
        return elements

    def seek(self, position: Any) -> None:
        if len(position) == 2 and isinstance(position[0], int):
            # written before positions were splits: (index of the split in this subtask's
            # share, lines read from it), valid at the parallelism it was written with
            split, lines_read = position
            remaining = [[path, 0] for path in self._own_share()[split:]]
            if remaining:
                remaining[0][1] = int(lines_read)
            self._remaining = remaining
        else:
            self._remaining = [[str(path), int(lines_read)] for path, lines_read in position]

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class SourceFunctionSource(StreamSource):
    """Runs a user ``SourceFunction`` (legacy): the task calls ``run_function`` on a thread
    of its own, with a context that queues what the function emits."""

    legacy = True

    def __init__(self, name: str, function: Any, bounded: bool = False) -> None:
        super().__init__(name)
        self.function = function
        self.bounded = bounded

    def open(self) -> None:
        try:
            self.open_user_function(self.function)
        except Exception as exc:
            raise self.user_error(exc, "open()")

    def run_function(self, source_context: SourceFunction.SourceContext) -> None:
        """The function's ``run``; its errors name the source."""
        try:
            self.function.run(source_context)
        except Exception as exc:
            raise self.user_error(exc)

    def emit_next(self, ctx: SourceTaskContext, max_records: int) -> bool:
        raise FlinkPyError(f"source '{self.name}' runs a SourceFunction on its own thread; "
                           f"it is not polled")

    def cancel(self) -> None:
        self.function.cancel()

    def close(self) -> None:
        try:
            close_function(self.function)
        except Exception as exc:
            raise self.user_error(exc, "close()")


class SocketTextStreamFunction(SourceFunction):
    """Reads ``delimiter``-separated text from a TCP socket (``socket_text_stream``).

    The stream ends when the server closes the connection. A refused connection fails the
    job with an error naming the address. Not replayable: what the socket delivered before a
    failure is gone, so a job restored from a checkpoint does not see it again.
    """

    def __init__(self, hostname: str, port: int, delimiter: str = "\n",
                 connect_timeout_s: float = 10.0) -> None:
        self.hostname = hostname
        self.port = port
        self.delimiter = delimiter
        self.connect_timeout_s = connect_timeout_s
        self._socket: Optional[socket.socket] = None
        self._running = True

    def run(self, ctx: SourceFunction.SourceContext) -> None:
        try:
            sock = socket.create_connection((self.hostname, self.port),
                                            timeout=self.connect_timeout_s)
        except OSError as exc:
            raise FlinkPyError(
                f"socket_text_stream could not connect to {self.hostname}:{self.port}: "
                f"{exc.strerror or exc}") from exc
        sock.settimeout(None)
        self._socket = sock
        decoder_buffer = ""
        # One decoder for the whole stream: a character may be split across two reads.
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        delimiter = self.delimiter
        try:
            with sock:
                while self._running:
                    try:
                        data = sock.recv(65536)
                    except OSError:
                        if not self._running:
                            return  # cancel() closed the socket
                        raise
                    if not data:
                        decoder_buffer += decoder.decode(b"", final=True)
                        break
                    decoder_buffer += decoder.decode(data)
                    *lines, decoder_buffer = decoder_buffer.split(delimiter)
                    for line in lines:
                        # Flink strips a trailing '\r' when the delimiter is '\n'.
                        if delimiter == "\n" and line.endswith("\r"):
                            line = line[:-1]
                        ctx.collect(line)
            if decoder_buffer and self._running:
                ctx.collect(decoder_buffer)
        finally:
            self._socket = None

    def cancel(self) -> None:
        self._running = False
        sock = self._socket
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by the peer: run() is returning anyway
            sock.close()
