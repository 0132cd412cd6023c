"""AsyncWaitOperator: async I/O, an asyncio event loop per subtask (Flink's AsyncWaitOperator).

Threads. Each parallel instance runs an asyncio event loop on a thread of its own ("AsyncIO
of <task>"). The task's thread (the mailbox) adds every input record to the queue
(``async_queue.py``) and starts its call on the loop; the loop awaits ``async_invoke``, the
retries and the timeout, and hands each outcome back as a *mail* to the task's mailbox. Only
mails touch the queue, the user's ``timeout()`` and the output: no locks.

Capacity and backpressure. At most ``capacity`` records are in the queue with their calls
issued (running, or done but not yet emitted: an ordered queue holds results behind a slow
head, as Flink's; watermarks do not count, as in PyFlink's queues). A buffer that brings
more records than that queues the rest unissued and *holds the task's input*
(``MailboxProcessor.hold_input``): no more input is taken while mails (completions, timers,
checkpoint notices, cancellation) still run; each emitted record issues the next unissued
one, and the input is released once none is left. Unlike Flink's
operator, which yields to the mailbox inside ``processElement``, ours never waits inside a
buffer: our buffers hold many records, and a checkpoint taken in the middle of one would
place a source's position past records the operator had not taken.

Order. Ordered: results leave in input order. Unordered: as completed, never across a
watermark (``UnorderedStreamElementQueue``). Results carry their input's timestamp.

Timeouts and retries. The timeout covers a call with all its retries; when it passes, the
call is cancelled and the user's ``timeout(value)`` runs on the task's thread; its results
are emitted instead (the default raises ``TimeoutError``, which fails the job, as Flink's).
A retry strategy retries a call whose results or exception its predicates accept, after its
backoff, while ``can_retry(attempts)``. Any other exception fails the job.

Checkpoints. Every record and watermark still in the queue (issued or not, completed or not)
is the operator's list state ``_async_wait_operator_state_``; a restored instance issues the
records again, in order, before it takes new input. End of input (and ``finish``) waits for
every call in flight, running mails meanwhile (``MailboxProcessor.yield_until``), so the
operator asks its task to run every step on the task's own thread.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections import deque
from collections.abc import Iterable
from itertools import repeat
from typing import Any, Deque, List, Optional, Set, Tuple

from flink_py.api.functions import AsyncFunction
from flink_py.errors import InvalidProgramError
from flink_py.runtime.operators.async_queue import (
    OrderedStreamElementQueue, RecordEntry, UnorderedStreamElementQueue)
from flink_py.runtime.operators.base import StreamOperator, close_function

__all__ = ["ASYNC_WAIT_STATE_NAME", "AsyncWaitOperator"]

log = logging.getLogger(__name__)

#: the operator state holding the queue's elements (Flink's name)
ASYNC_WAIT_STATE_NAME = "_async_wait_operator_state_"
#: how long ``close`` waits for the event loop to cancel its calls and stop (seconds)
LOOP_SHUTDOWN_TIMEOUT_S = 5.0


class AsyncWaitOperator(StreamOperator):
    """Runs an AsyncFunction's calls concurrently on an event loop (see the module docstring).

    :param name: the operator's name.
    :param function: the AsyncFunction.
    :param timeout_ms: the timeout of a call with its retries, in ms; 0 or less: none.
    :param capacity: the most records whose calls are issued and not yet emitted.
    :param retry_strategy: an AsyncRetryStrategy.
    :param ordered: emit in input order (``ordered_wait``) or as completed.
    """

    def __init__(self, name: str, function: Any, timeout_ms: int, capacity: int,
                 retry_strategy: Any, ordered: bool) -> None:
        super().__init__(name)
        self.function = function
        self._timeout_s = timeout_ms / 1000.0 if timeout_ms > 0 else 0.0
        self._capacity = capacity
        self._strategy = retry_strategy
        self._ordered = ordered
        self._mailbox: Any = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        #: the loop's running calls (asyncio keeps only weak references to tasks)
        self._tasks: Set["asyncio.Task[None]"] = set()
        self._closed = False
        #: (entry, results, error, timed out) of the calls that ended, for the next mail
        self._outcomes: Deque[Tuple[RecordEntry, Any, Optional[BaseException], bool]] = deque()
        self._outcomes_lock = threading.Lock()

    def attach_mailbox(self, mailbox: Any) -> None:
        """Called by the task before ``open``: completions come back as its mails."""
        self._mailbox = mailbox
        mailbox.disallow_producer_steps()

    # -- lifecycle ----------------------------------------------------------------------------

    def open(self) -> None:
        if self._mailbox is None:
            raise InvalidProgramError(
                f"{self.describe()} runs only in a task (it hands results back through the "
                f"task's mailbox), and none was attached")
        try:
            self.open_user_function(self.function)
        except Exception as exc:
            raise self.user_error(exc, "open()")
        function = self.function
        self._invoke = function.async_invoke
        # an object that only looks like an AsyncFunction gets the default timeout()
        self._timeout_function = getattr(function, "timeout", None) or functools.partial(
            AsyncFunction.timeout, function)
        self._class_name = type(function).__name__
        predicate = self._strategy.get_retry_predicate()
        self._result_predicate = predicate.result_predicate()
        self._exception_predicate = predicate.exception_predicate()
        self._retry_enabled = (self._result_predicate is not None
                               or self._exception_predicate is not None)
        self._queue: Any = (OrderedStreamElementQueue() if self._ordered
                            else UnorderedStreamElementQueue())
        #: records in the queue whose calls were issued (running, or done, not emitted)
        self._issued = 0
        #: records in the queue not issued yet, beyond the capacity
        self._waiting: Deque[RecordEntry] = deque()
        self._holding_input = False
        self._start_loop()
        restored = self._state().get()
        for element in restored:  # issued again, in order, before any new input
            if element[0] == "r":
                self._add_records([element[1]], [element[2]])
            else:
                self.process_watermark(element[1])

    def _start_loop(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        ctx = self.runtime_context
        task = ctx.get_task_name_with_subtasks() if ctx is not None else self.name
        self._thread = threading.Thread(target=self._run_loop, args=(loop,), daemon=True,
                                        name=f"AsyncIO of {task}")
        self._thread.start()

    @staticmethod
    def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        loop.run_forever()

    def end_input(self, input_index: int = 0) -> None:
        self._wait_in_flight()

    def finish(self) -> None:
        self._wait_in_flight()

    def _wait_in_flight(self) -> None:
        """Every record's results are emitted before the input ends (Flink's
        ``waitInFlightInputsFinished``): mails run meanwhile, input is not taken."""
        queue = self._queue
        if len(queue):
            self._mailbox.yield_until(lambda: not len(queue),
                                      f"the end of input of {self.describe()}")

    def close(self) -> None:
        self._closed = True
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is not None and thread is not None:
            asyncio.run_coroutine_threadsafe(self._shut_down(loop), loop)
            thread.join(LOOP_SHUTDOWN_TIMEOUT_S)
            if thread.is_alive():
                log.warning("%s: the event loop did not stop within %g s of its close (a "
                            "call blocks it, e.g. with a blocking sleep); its thread is left "
                            "behind", self.describe(), LOOP_SHUTDOWN_TIMEOUT_S)
            else:
                loop.close()
        try:
            close_function(self.function)
        except Exception as exc:
            raise self.user_error(exc, "close()")

    async def _shut_down(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the loop: cancels the calls still running, waits for them briefly, stops."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=LOOP_SHUTDOWN_TIMEOUT_S / 2)
        loop.stop()

    # -- input --------------------------------------------------------------------------------

    def process_batch(self, values: list, timestamps: Optional[list]) -> None:
        self._add_records(values, timestamps)

    def process_watermark(self, watermark: int) -> None:
        self.current_watermark = watermark
        self._queue.add_watermark(watermark)
        self._emit_completed()

    def _add_records(self, values: list, timestamps: Optional[list]) -> None:
        add = self._queue.add_record
        waiting = self._waiting
        free = self._capacity - self._issued
        issue: List[RecordEntry] = []
        for value, timestamp in zip(values, repeat(None) if timestamps is None else timestamps):
            entry = add(value, timestamp)
            if free > 0 and not waiting:
                issue.append(entry)
                free -= 1
            else:
                waiting.append(entry)
        self._issue(issue)
        if waiting and not self._holding_input:
            self._holding_input = True
            self._mailbox.hold_input(self)

    def _issue(self, entries: List[RecordEntry]) -> None:
        if not entries:
            return
        self._issued += len(entries)
        loop = self._loop
        assert loop is not None
        loop.call_soon_threadsafe(self._start_calls, entries)

    # -- on the event loop's thread -----------------------------------------------------------

    def _start_calls(self, entries: List[RecordEntry]) -> None:
        loop = self._loop
        if loop is None:
            return  # closing
        tasks = self._tasks
        for entry in entries:
            task = loop.create_task(self._call(entry))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    async def _call(self, entry: RecordEntry) -> None:
        timer = None
        if self._timeout_s > 0:
            timer = asyncio.get_running_loop().call_later(
                self._timeout_s, self._expire, entry, asyncio.current_task())
        results: Any = None
        error: Optional[BaseException] = None
        try:
            results, error = await self._attempts(entry.value)
        except asyncio.CancelledError:
            if not entry.timed_out:
                raise  # the operator closes
        finally:
            if timer is not None:
                timer.cancel()
        if not self._closed:
            with self._outcomes_lock:
                outcomes = self._outcomes
                outcomes.append((entry, results, error, entry.timed_out))
                first = len(outcomes) == 1
            if first:  # one mail takes every outcome that arrives until it runs
                self._mailbox.put_mail(self._take_outcomes)

    @staticmethod
    def _expire(entry: RecordEntry, task: "asyncio.Task[None]") -> None:
        entry.timed_out = True
        task.cancel()

    async def _attempts(self, value: Any) -> Tuple[Any, Optional[BaseException]]:
        """The call and its retries: the last results or exception."""
        invoke = self._invoke
        strategy = self._strategy
        attempts = 1
        while True:
            try:
                results, error = await invoke(value), None
            except Exception as exc:  # the outcome of the call: retried or failing the job
                results, error = None, exc
            if not self._retry_enabled:
                return results, error
            try:
                if error is None:
                    accept = self._result_predicate
                    retry = results is not None and accept is not None and accept(results)
                else:
                    accept = self._exception_predicate
                    retry = accept is not None and accept(error)
                retry = bool(retry) and strategy.can_retry(attempts)
                backoff_ms = strategy.get_backoff_time_millis(attempts) if retry else 0
            except Exception as exc:  # a predicate or the strategy failed: the job fails
                return None, exc
            if not retry:
                return results, error
            await asyncio.sleep(max(backoff_ms, 0) / 1000.0)
            attempts += 1

    # -- on the task's thread (mails) ---------------------------------------------------------

    def _take_outcomes(self) -> None:
        with self._outcomes_lock:
            outcomes = list(self._outcomes)
            self._outcomes.clear()
        for entry, results, error, timed_out in outcomes:
            self._call_done(entry, results, error, timed_out)
        self._emit_completed()

    def _call_done(self, entry: RecordEntry, results: Any, error: Optional[BaseException],
                   timed_out: bool) -> None:
        if self._closed:
            return
        method = "async_invoke"
        if timed_out:
            method = "timeout"
            try:
                results, error = self._timeout_function(entry.value), None
            except Exception as exc:  # the default timeout() raises TimeoutError
                error = exc
        if error is None and not isinstance(results, Iterable):
            problem = "cannot be none" if results is None else "should be of list type"
            error = RuntimeError(
                f"The result of AsyncFunction {problem}, please check the methods "
                f"'async_invoke' and 'timeout' of class '{self._class_name}' (got "
                f"{results!r} for input {entry.value!r})")
        if error is not None:
            raise self.user_error(error, f"{method}() of class '{self._class_name}' for "
                                         f"input {entry.value!r}")
        self._queue.complete(entry, list(results))

    def _emit_completed(self) -> None:
        elements = self._queue.pop_completed()
        if not elements:
            return
        output = self.output
        values: list = []
        stamps: list = []
        for element in elements:
            if type(element) is RecordEntry:
                self._issued -= 1
                results = element.results
                if results:
                    values.extend(results)
                    stamps.extend(repeat(element.timestamp, len(results)))
            else:
                if values:
                    self._emit(values, stamps)
                    values, stamps = [], []
                output.emit_watermark(element)
        if values:
            self._emit(values, stamps)
        self._issue_waiting()

    def _emit(self, values: list, stamps: list) -> None:
        has_timestamps = any(t is not None for t in stamps)
        self.output.emit(values, stamps if has_timestamps else None)

    def _issue_waiting(self) -> None:
        waiting = self._waiting
        free = self._capacity - self._issued
        if waiting and free > 0:
            self._issue([waiting.popleft() for _ in range(min(free, len(waiting)))])
        if not waiting and self._holding_input:
            self._holding_input = False
            self._mailbox.release_input(self)

    # -- checkpoints --------------------------------------------------------------------------

    def _state(self) -> Any:
        from flink_py.api.state import ListStateDescriptor
        return self.get_operator_state_store().get_list_state(
            ListStateDescriptor(ASYNC_WAIT_STATE_NAME))

    def snapshot_state(self, checkpoint_id: int, timestamp: int, options: Any,
                       factory: Any) -> Any:
        self._state().update([
            ("r", e.value, e.timestamp) if type(e) is RecordEntry else ("w", e)
            for e in self._queue.values()])
        return super().snapshot_state(checkpoint_id, timestamp, options, factory)
