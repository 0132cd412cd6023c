"""Source operators: the heads of source tasks.

A source runs on its task's thread: ``run(ctx)`` pushes buffers into the chain through
``ctx.emit`` until its input ends or ``ctx.cancelled`` turns true. Sources that own their
loop (collections, files) emit whole buffers; a user ``SourceFunction`` emits record by record
through a ``SourceContext`` that buffers and is flushed by size or by the buffer timeout.
"""

from __future__ import annotations

import codecs
import os
import socket
import threading
from typing import Any, List, Optional, Sequence

from flink_py.datastream.functions import SourceFunction
from flink_py.errors import FlinkPyError
from flink_py.runtime.operators.base import StreamOperator, close_function


class SourceTaskContext:
    """What a source's ``run`` gets from its task (implemented by the SourceStreamTask)."""

    records_per_buffer: int = 1024
    buffer_timeout_ms: int = 100
    lock: threading.RLock

    @property
    def cancelled(self) -> bool:
        raise NotImplementedError

    def emit(self, values: list, timestamps: Optional[list]) -> None:
        """Pushes one buffer into the chain (the caller holds no lock)."""
        raise NotImplementedError

    def flush(self) -> None:
        """Flushes partially filled network buffers downstream."""
        raise NotImplementedError


class StreamSource(StreamOperator):
    """Base of source operators."""

    bounded = True

    def run(self, ctx: SourceTaskContext) -> None:
        raise NotImplementedError

    def cancel(self) -> None:
        """Called from another thread: make ``run`` return promptly."""

    def process_batch(self, values: list, timestamps: Optional[list]) -> None:
        raise FlinkPyError(f"source '{self.name}' has no input")


class CollectionSource(StreamSource):
    """``from_collection``: emits the given items in order, one buffer at a time."""

    def __init__(self, name: str, items: Sequence[Any]) -> None:
        super().__init__(name)
        # A range stays a range: it ships as three numbers instead of every element.
        self.items = items if isinstance(items, range) else list(items)

    def run(self, ctx: SourceTaskContext) -> None:
        items = self.items
        step = ctx.records_per_buffer
        # Non-parallel in Flink; if run in parallel, each subtask takes a share.
        rc = self.runtime_context
        index, parallelism = rc.get_index_of_this_subtask(), rc.get_number_of_parallel_subtasks()
        if parallelism > 1:
            items = items[index::parallelism]
        for start in range(0, len(items), step):
            if ctx.cancelled:
                return
            ctx.emit(list(items[start:start + step]), None)


class NumberSequenceSource(StreamSource):
    """``from_sequence``: the numbers from ``start`` to ``end`` inclusive, split into one
    contiguous range per subtask."""

    def __init__(self, name: str, start: int, end: int) -> None:
        super().__init__(name)
        self.start = start
        self.end = end

    def run(self, ctx: SourceTaskContext) -> None:
        rc = self.runtime_context
        index, parallelism = rc.get_index_of_this_subtask(), rc.get_number_of_parallel_subtasks()
        total = self.end - self.start + 1
        first = self.start + total * index // parallelism
        last = self.start + total * (index + 1) // parallelism
        step = ctx.records_per_buffer
        for lo in range(first, last, step):
            if ctx.cancelled:
                return
            ctx.emit(list(range(lo, min(lo + step, last))), None)


class TextFileSource(StreamSource):
    """Reads text files line by line; each file is one split, assigned round robin to subtasks.

    Lines end at ``\\n``, ``\\r\\n`` or ``\\r`` and exclude the terminator, as Java's
    ``readLine`` (which Flink's text formats use) does.
    """

    def __init__(self, name: str, paths: List[str], encoding: str = "utf-8") -> None:
        super().__init__(name)
        self.paths = list(paths)
        self.encoding = encoding

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

    def run(self, ctx: SourceTaskContext) -> None:
        rc = self.runtime_context
        mine = self._splits()[rc.get_index_of_this_subtask()::rc.get_number_of_parallel_subtasks()]
        # ~64 bytes a line: read about a buffer's worth of lines per call.
        hint = max(ctx.records_per_buffer * 64, 4096)
        for path in mine:
            with open(path, "r", encoding=self.encoding, newline=None) as f:
                while not ctx.cancelled:
                    lines = f.readlines(hint)
                    if not lines:
                        break
                    last = lines[-1]
                    if last.endswith("\n"):
                        out = [line[:-1] for line in lines]
                    else:
                        out = [line[:-1] for line in lines[:-1]]
                        out.append(last)
                    ctx.emit(out, None)


class _BufferingSourceContext(SourceFunction.SourceContext):
    """``ctx.collect`` for a SourceFunction: buffers records, flushes by size or timeout."""

    def __init__(self, task_ctx: SourceTaskContext) -> None:
        self._task = task_ctx
        self._lock = task_ctx.lock
        self._values: list = []
        self._timestamps: Optional[list] = None
        self._size = task_ctx.records_per_buffer
        #: an error raised downstream while the flusher thread emitted
        self.failure: Optional[BaseException] = None

    def collect(self, element: Any) -> None:
        with self._lock:
            if self.failure is not None:
                raise self.failure
            if self._timestamps is not None:
                self._flush_locked()
            self._values.append(element)
            if len(self._values) >= self._size:
                self._flush_locked()

    def collect_with_timestamp(self, element: Any, timestamp: int) -> None:
        with self._lock:
            if self._timestamps is None:
                self._flush_locked()
                self._timestamps = []
            self._values.append(element)
            self._timestamps.append(timestamp)
            if len(self._values) >= self._size:
                self._flush_locked()

    def get_checkpoint_lock(self) -> Any:
        return self._lock

    def _flush_locked(self) -> None:
        if self._values:
            values, timestamps = self._values, self._timestamps
            self._values = []
            self._timestamps = None if timestamps is None else []
            self._task.emit(values, timestamps)

    def flush(self) -> None:
        """Emits the partial buffer and flushes the network buffers (timeout flusher)."""
        with self._lock:
            self._flush_locked()
            self._task.flush()


class SourceFunctionSource(StreamSource):
    """Runs a user ``SourceFunction``; a flusher thread bounds latency at low rates."""

    def __init__(self, name: str, function: Any, bounded: bool = False) -> None:
        super().__init__(name)
        self.function = function
        self.bounded = bounded

    def open(self) -> None:
        try:
            self.open_user_function(self.function)
        except Exception as exc:
            raise self.user_error(exc, "open()")

    def run(self, ctx: SourceTaskContext) -> None:
        source_ctx = _BufferingSourceContext(ctx)
        done = threading.Event()
        flusher = None
        if ctx.buffer_timeout_ms >= 0:
            interval = max(ctx.buffer_timeout_ms, 1) / 1000.0

            def flush_periodically() -> None:
                while not done.wait(interval):
                    try:
                        source_ctx.flush()
                    except BaseException as exc:  # handed to the task thread below
                        source_ctx.failure = exc
                        self.function.cancel()  # make run() return so the task fails
                        return

            flusher = threading.Thread(target=flush_periodically, daemon=True,
                                       name=f"OutputFlusher for {self.name}")
            flusher.start()
        try:
            self.function.run(source_ctx)
        except Exception as exc:
            if not ctx.cancelled and source_ctx.failure is None:
                raise self.user_error(exc)
        finally:
            done.set()
            if flusher is not None:
                flusher.join()
        if source_ctx.failure is not None:
            # Downstream of the flusher thread a chained operator failed.
            raise source_ctx.failure
        source_ctx.flush()

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
    job with an error naming the address.
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
