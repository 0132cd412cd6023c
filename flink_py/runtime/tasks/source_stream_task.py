"""The default actions of a source task: a polled reader, or a legacy SourceFunction's queue.

``SourceReaderInput`` polls a built-in source (``StreamSource.emit_next``) one batch per
mailbox step. The batch size adapts so that a step stays short while downstream is slow and
reaches ``records_per_buffer`` while it is fast: a step shorter than ``FAST_STEP_S`` doubles
the next batch, one longer than ``SLOW_STEP_S`` halves it. It starts at one record, so that a
chained operator that takes seconds per record is seen after its first record; doubling
reaches a full buffer within ten steps.

``LegacySourceInput`` runs a user ``SourceFunction`` on a thread of its own. The function's
``ctx.collect`` only fills a bounded queue (batches of up to ``records_per_buffer`` records,
watermarks, idleness), which the mailbox drains into the chain; a full queue makes the
function wait (backpressure). ``ctx.get_checkpoint_lock()`` is a real lock: the source thread
holds it while it emits (and, written the Flink way, while it updates the fields it
snapshots); the mailbox takes it for a checkpoint, first drains the queue and the partial
batch into the chain (so every record emitted before the snapshot is processed before the
barrier), then snapshots and emits the barrier, and releases it. That gives exactly-once for
user sources that emit and update their state under the lock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Any, Callable, Deque, Optional

from flink_py.api.functions import SourceFunction
from flink_py.runtime.execution.errors import CancelTaskException
from flink_py.runtime.network.events import Watermark, WatermarkStatus
from flink_py.runtime.network.local import InputInbox
from flink_py.runtime.operators.sources import SourceTaskContext, StreamSource

log = logging.getLogger(__name__)

__all__ = ["LegacySourceInput", "SourceReaderInput"]

#: a step shorter than this doubles the next batch (seconds)
FAST_STEP_S = 0.002
#: a step longer than this halves the next batch (seconds)
SLOW_STEP_S = 0.010
#: batches a legacy source may queue before its ``collect`` waits: one, so that a slow
#: downstream holds back the source thread as soon as the mailbox is busy with a batch
LEGACY_QUEUE_CAPACITY = 1
#: while the mailbox waits for the checkpoint lock it drains the queue this often (seconds):
#: the source thread may be waiting, lock held, for room in the queue
LOCK_RETRY_S = 0.005


class _ReaderContext(SourceTaskContext):
    """``ctx`` of ``emit_next``: emits straight into the chain (we run in a mailbox step)."""

    def __init__(self, source: StreamSource, records_per_buffer: int, buffer_timeout_ms: int,
                 flush: Callable[[], None], cancelled: Callable[[], bool]) -> None:
        self.emit = source.output.emit  # type: ignore[method-assign]
        self.records_per_buffer = records_per_buffer
        self.buffer_timeout_ms = buffer_timeout_ms
        self.lock = threading.RLock()
        self._flush = flush
        self._cancelled = cancelled

    @property
    def cancelled(self) -> bool:
        return self._cancelled()

    def flush(self) -> None:
        self._flush()


class SourceReaderInput:
    """The mailbox default action of a source task with a built-in (polled) source."""

    polled = True

    def __init__(self, source: StreamSource, records_per_buffer: int, buffer_timeout_ms: int,
                 flush: Callable[[], None], cancelled: Callable[[], bool]) -> None:
        self.source = source
        self.ctx = _ReaderContext(source, records_per_buffer, buffer_timeout_ms, flush,
                                  cancelled)
        self.max_batch = max(1, records_per_buffer)
        self.batch = 1
        self.finished = False

    def run_default_action(self, channel: int) -> None:
        started = time.perf_counter()
        more = self.source.emit_next(self.ctx, self.batch)
        if not more:
            self.finished = True
            return
        elapsed = time.perf_counter() - started
        if elapsed < FAST_STEP_S:
            if self.batch < self.max_batch:
                self.batch = min(self.batch * 2, self.max_batch)
        elif elapsed > SLOW_STEP_S and self.batch > 1:
            self.batch //= 2

    def try_process_directly(self, channel: int, buffer: Any) -> bool:
        return False

    def flush_partial(self) -> None:
        """A reader holds nothing back."""


_END = object()


class CheckpointLock:
    """The checkpoint lock of a legacy source: a reentrant lock that knows whether the
    current thread holds it, so that the source context can wait for queue room without it
    (a source thread waiting for room with the lock held would keep every checkpoint out
    for as long as the job is backpressured). Usable as ``with ctx.get_checkpoint_lock():``.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._owner: Optional[int] = None
        self._depth = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if not self._lock.acquire(blocking, timeout):
            return False
        self._owner = threading.get_ident()
        self._depth += 1
        return True

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._owner = None
        self._lock.release()

    def held_by_current_thread(self) -> bool:
        return self._owner == threading.get_ident()

    def __enter__(self) -> "CheckpointLock":
        self.acquire()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.release()


class _QueueingSourceContext(SourceFunction.SourceContext):
    """``ctx`` of a SourceFunction: batches records under the checkpoint lock into a queue."""

    def __init__(self, owner: "LegacySourceInput") -> None:
        self._owner = owner
        self._lock = owner.checkpoint_lock
        self._values: list = []
        self._timestamps: Optional[list] = None
        self._size = owner.records_per_buffer

    def collect(self, element: Any) -> None:
        if self._owner.halted:
            self._owner.wait_while_halted()
        if self._owner.queue_full and not self._lock.held_by_current_thread():
            self._owner.wait_for_room()
        with self._lock:
            if self._timestamps is not None:
                self._hand_over()
            self._values.append(element)
            if len(self._values) == 1:
                self._owner.partial_started()
            if len(self._values) >= self._size:
                self._hand_over()

    def collect_with_timestamp(self, element: Any, timestamp: int) -> None:
        if self._owner.halted:
            self._owner.wait_while_halted()
        if self._owner.queue_full and not self._lock.held_by_current_thread():
            self._owner.wait_for_room()
        with self._lock:
            if self._timestamps is None:
                self._hand_over()
                self._timestamps = []
            self._values.append(element)
            self._timestamps.append(timestamp)
            if len(self._values) == 1:
                self._owner.partial_started()
            if len(self._values) >= self._size:
                self._hand_over()

    def emit_watermark(self, watermark: Any) -> None:
        timestamp = watermark.timestamp if hasattr(watermark, "timestamp") else int(watermark)
        if self._owner.halted:
            self._owner.wait_while_halted()
        with self._lock:
            self._hand_over()
            self._owner.put(Watermark(timestamp))

    def mark_as_temporarily_idle(self) -> None:
        if self._owner.halted:
            self._owner.wait_while_halted()
        with self._lock:
            self._hand_over()
            self._owner.put(WatermarkStatus.IDLE)

    def get_checkpoint_lock(self) -> Any:
        return self._lock

    def _hand_over(self) -> None:
        """Queues the partial batch (the caller holds the lock)."""
        if self._values:
            values, timestamps = self._values, self._timestamps
            self._values = []
            self._timestamps = None if timestamps is None else []
            self._owner.put((values, timestamps))

    def take_partial(self) -> Optional[tuple]:
        """The batch not yet queued (the caller holds the lock), or None."""
        if not self._values:
            return None
        values, timestamps = self._values, self._timestamps
        self._values = []
        self._timestamps = None if timestamps is None else []
        return values, timestamps


class LegacySourceInput:
    """The mailbox default action of a source task running a user SourceFunction."""

    polled = False

    def __init__(self, source: StreamSource, inbox: InputInbox, records_per_buffer: int,
                 buffer_timeout_ms: int, arm_flush_deadline: Callable[[], None],
                 name: str) -> None:
        self.source = source
        self.inbox = inbox
        # A buffer timeout of 0 flushes after every record: no record waits in a batch.
        self.records_per_buffer = 1 if buffer_timeout_ms == 0 else max(1, records_per_buffer)
        self.checkpoint_lock = CheckpointLock()
        self._arm_flush_deadline = arm_flush_deadline
        self._queue: Deque[Any] = deque()
        self._cond = threading.Condition(threading.Lock())
        self._closed = False
        #: stopping with a savepoint: the function's emits wait (until resumed or cancelled)
        self.halted = False
        self._error: Optional[BaseException] = None
        self._ctx = _QueueingSourceContext(self)
        self._output = source.source_output()
        self.finished = False
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"Legacy Source Thread - {name}")

    # -- the source thread --------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            self.source.run_function(self._ctx)  # type: ignore[attr-defined]
            with self.checkpoint_lock:
                self._ctx._hand_over()
            self.put(_END)
        except CancelTaskException:
            self._finish_with(_END)
        except BaseException as exc:  # the task fails with it, on its own thread
            self._finish_with(exc)

    def _finish_with(self, item: Any) -> None:
        with self._cond:
            self._queue.append(item)  # past the capacity: the end must get through
        self.inbox.channel_available(0)

    @property
    def queue_full(self) -> bool:
        """Whether a batch handed over now would wait (read without the lock: a hint)."""
        return len(self._queue) >= LEGACY_QUEUE_CAPACITY

    def wait_for_room(self) -> None:
        """From the source thread, not holding the checkpoint lock: waits until the queue
        has room (only the mailbox takes from it, so the room stays) or the task ends."""
        with self._cond:
            while len(self._queue) >= LEGACY_QUEUE_CAPACITY and not self._closed:
                self._cond.wait()

    def put(self, item: Any) -> None:
        """From the source thread: queue ``item``, waiting while the queue is full."""
        with self._cond:
            while len(self._queue) >= LEGACY_QUEUE_CAPACITY and not self._closed:
                self._cond.wait()
            if self._closed:
                raise CancelTaskException("the source task is no longer running")
            self._queue.append(item)
            notify = len(self._queue) == 1
        if notify:
            self.inbox.channel_available(0)

    def partial_started(self) -> None:
        """A new partial batch: the buffer timeout must hand it over at low rates."""
        self._partial_pending = True
        self.inbox.put_mail(self._arm_flush_deadline)

    _partial_pending = False

    def cancel(self) -> None:
        """Stops the function and wakes a source thread waiting for queue space."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def halt(self) -> None:
        """From the mailbox, under the checkpoint lock (a stop-with-savepoint took its
        snapshot): the function's next emit waits, so nothing follows the savepoint."""
        with self._cond:
            self.halted = True

    def resume(self) -> None:
        """The stop's savepoint was aborted: the function emits again."""
        with self._cond:
            self.halted = False
            self._cond.notify_all()

    def wait_while_halted(self) -> None:
        """On the source thread (holding the checkpoint lock if the function does): waits
        while halted; raises CancelTaskException once the task ends instead."""
        with self._cond:
            while self.halted and not self._closed:
                self._cond.wait()
            if self._closed:
                raise CancelTaskException("the source task is no longer running")

    def join(self, timeout_s: float) -> bool:
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    # -- the mailbox side ---------------------------------------------------------------------

    def run_default_action(self, channel: int) -> None:
        with self._cond:
            if not self._queue:
                return
            item = self._queue.popleft()
            more = bool(self._queue)
            self._cond.notify()
        if more:
            self.inbox.channel_available(0)
        self._emit(item)

    def _emit(self, item: Any) -> None:
        kind = type(item)
        if kind is tuple:
            self._output.emit(item[0], item[1])
        elif kind is Watermark:
            self._output.emit_watermark(item.timestamp)
        elif kind is WatermarkStatus:
            self._output.emit_watermark_status(item)
        elif item is _END:
            self.finished = True
        else:
            self.finished = True
            raise item

    def try_process_directly(self, channel: int, buffer: Any) -> bool:
        return False

    def flush_partial(self) -> None:
        """The buffer timeout passed: take the partial batch if the lock is free now."""
        if not self._partial_pending or self.halted:
            return  # halted: what was collected after the savepoint is not emitted
        if self.checkpoint_lock.acquire(blocking=False):
            try:
                self._partial_pending = False
                partial = self._ctx.take_partial()
            finally:
                self.checkpoint_lock.release()
            if partial is not None:
                self._drain()  # what was queued before it goes first
                self._output.emit(partial[0], partial[1])
        else:
            self._arm_flush_deadline()  # the source is emitting: try again next timeout

    def _drain(self) -> None:
        while not self.finished:
            with self._cond:
                if not self._queue:
                    return
                item = self._queue.popleft()
                self._cond.notify()
            self._emit(item)

    def run_under_checkpoint_lock(self, action: Callable[[], None]) -> None:
        """Takes the checkpoint lock, hands everything emitted so far into the chain, then
        runs ``action`` (the snapshot and the barrier) before the lock is released."""
        lock = self.checkpoint_lock
        # The source thread may hold the lock while it waits for room in the queue: drain
        # meanwhile, so that it can go on and release the lock.
        while not lock.acquire(timeout=LOCK_RETRY_S):
            self._drain()
        try:
            self._drain()
            partial = self._ctx.take_partial()
            if partial is not None:
                self._partial_pending = False
                self._output.emit(partial[0], partial[1])
            action()
        finally:
            lock.release()
