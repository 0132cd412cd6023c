"""Task: one subtask attempt, run by one thread with a mailbox loop.

The thread deserializes the chain, connects its input gates and result partitions, opens the
operators and then either runs the source (source tasks) or takes buffers, events and mails
from its inbox until every input channel has ended. State transitions are reported through
``report_state``: DEPLOYING -> INITIALIZING -> RUNNING -> FINISHED | FAILED | CANCELED.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Dict, List, Optional

import cloudpickle

from flink_py.errors import FlinkPyError
from flink_py.runtime.network.events import (
    END_OF_PARTITION, EndOfPartition, Watermark, WatermarkStatus)
from flink_py.runtime.execution.errors import CancelTaskException, SerializedError
from flink_py.runtime.execution.execution_state import ExecutionState
from flink_py.runtime.network.local import InputInbox, ResultPartitionManager
from flink_py.runtime.network.record_writer import RecordWriter
from flink_py.runtime.operators.base import MAX_WATERMARK, StreamingRuntimeContext
from flink_py.runtime.operators.sources import SourceTaskContext, StreamSource
from flink_py.runtime.tasks.deployment import TaskDeploymentDescriptor
from flink_py.runtime.tasks.operator_chain import OperatorChain
from flink_py.runtime.tasks.processing_time import ProcessingTimeService
from flink_py.runtime.tasks.watermark_valve import StatusWatermarkValve

log = logging.getLogger(__name__)

#: How long a consumer keeps trying to reach a producer's data server.
REMOTE_CONNECT_TIMEOUT_S = 30.0


StateReporter = Callable[["Task", ExecutionState, Optional[SerializedError]], None]


class Task:
    """Runs one subtask attempt on its own thread."""

    def __init__(self, tdd: TaskDeploymentDescriptor, partitions: ResultPartitionManager,
                 report_state: StateReporter, operator_event_gateway: Any = None,
                 load_user_code: Optional[Callable[[], None]] = None) -> None:
        self.tdd = tdd
        #: makes the job's shipped modules importable before the chain is deserialized
        self.load_user_code = load_user_code
        self.partitions = partitions
        self.report_state = report_state
        self.operator_event_gateway = operator_event_gateway
        self.state = ExecutionState.DEPLOYING
        self.inbox = InputInbox()
        self._cancelled = False
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=tdd.task_name_with_subtask)
        self._chain: Optional[OperatorChain] = None
        self._subpartitions: List[Any] = []
        # Held while the task's operators run, by this thread or by a producer's thread that
        # hands a buffer over directly (see network/local.py).
        self._step_lock = threading.Lock()
        #: set while the input loop runs: (process functions by input, channels)
        self._direct_target: Optional[tuple] = None
        self._direct_error: Optional[BaseException] = None
        self._flush_pending = False
        #: the lock a source task's emissions hold; its timers' callbacks hold it too
        self._source_lock = threading.RLock()
        self.processing_time_service = ProcessingTimeService(
            self._run_timer_callback, tdd.task_name_with_subtask)

    @property
    def attempt_id(self) -> Any:
        return self.tdd.attempt_id

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: Optional[float] = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def cancel(self) -> None:
        """Stops the task promptly: stops the source, wakes the mailbox and blocked writers."""
        if self._cancelled or self.state.is_terminal:
            return
        self._cancelled = True
        chain = self._chain
        if chain is not None and isinstance(chain.head, StreamSource):
            try:
                chain.head.cancel()
            except Exception:  # the source's cancel failing must not stop the cancellation
                log.exception("cancel() of source %s failed", self.tdd.task_name_with_subtask)
        self.inbox.close()
        for sub in self._subpartitions:
            sub.release()

    # -- the task thread ------------------------------------------------------------------

    def _transition(self, state: ExecutionState, error: Optional[SerializedError] = None) -> None:
        self.state = state
        self.report_state(self, state, error)

    def _run(self) -> None:
        error: Optional[BaseException] = None
        chain: Optional[OperatorChain] = None
        try:
            self._transition(ExecutionState.INITIALIZING)
            if self.load_user_code is not None:
                self.load_user_code()
            chain = self._build_chain()
            self._chain = chain
            if self._cancelled:
                raise CancelTaskException("cancelled while initializing")
            chain.open()
            self._transition(ExecutionState.RUNNING)
            if self.tdd.is_source:
                self._run_source(chain)
            else:
                self._run_input_loop(chain)
            with self._source_lock:  # a source task's timers must not fire during finish
                chain.finish()
            for writer in chain.writers:
                writer.broadcast_event(END_OF_PARTITION)
        except BaseException as exc:  # everything ends the task; reported below
            error = exc
        self.processing_time_service.shutdown()
        with self._step_lock:  # a producer's thread may still be inside our operators
            self._direct_target = None
        if error is not None and self._direct_error is not None and \
                isinstance(error, CancelTaskException) and not self._cancelled:
            error = self._direct_error
        if chain is not None:
            close_errors = chain.close()
            if error is None and close_errors:
                error = close_errors[0]
        if error is None:
            self._transition(ExecutionState.FINISHED)
        elif self._cancelled or isinstance(error, CancelTaskException):
            self._release_exchange()
            self._transition(ExecutionState.CANCELED)
        else:
            log.info("%s failed: %s", self.tdd.task_name_with_subtask, error)
            # Report before releasing the exchange: the tasks that then fail or cancel for
            # lack of a partner report after us, so the job's failure cause is our error.
            self._transition(ExecutionState.FAILED, SerializedError.of(error))
            self._release_exchange()

    def _release_exchange(self) -> None:
        for sub in self._subpartitions:
            sub.release()

    def _build_chain(self) -> OperatorChain:
        tdd = self.tdd
        job = tdd.job_id
        writers: Dict[str, RecordWriter] = {}
        chain_config = cloudpickle.loads(tdd.chain_bytes)
        partitioners = {str(out.result_id): out for op in chain_config.operators
                        for out in op.network_outputs}
        for produced in tdd.produced:
            out = partitioners[str(produced.result_id)]
            channels = [self.partitions.subpartition(job, str(produced.result_id),
                                                     tdd.subtask_index, consumer)
                        for consumer in produced.consumer_subtasks]
            self._subpartitions.extend(channels)
            partitioner = out.partitioner.copy()
            partitioner.setup(len(channels), out.consumer_max_parallelism)
            writers[str(produced.result_id)] = RecordWriter(
                partitioner, channels, tdd.records_per_buffer)

        def runtime_context() -> StreamingRuntimeContext:
            return StreamingRuntimeContext(
                tdd.task_name, tdd.subtask_index, tdd.parallelism, tdd.max_parallelism,
                tdd.attempt_number, tdd.job_parameters, self.operator_event_gateway,
                tdd.runtime_mode)

        return OperatorChain(chain_config, writers, runtime_context, tdd.max_parallelism,
                             tdd.parallelism, tdd.subtask_index, self.processing_time_service)

    def _run_timer_callback(self, fire: Callable[[], None]) -> None:
        """Runs a due processing-time timer as this task (see ProcessingTimeService)."""
        if not self.tdd.is_source:
            self.inbox.put_mail(fire)
            return
        with self._source_lock:
            if self._cancelled or self.state.is_terminal:
                return
            try:
                fire()
            except BaseException as exc:  # fails the task: the source loop is stopped
                self.processing_time_service.failure = exc
                chain = self._chain
                if chain is not None and isinstance(chain.head, StreamSource):
                    chain.head.cancel()

    def _run_source(self, chain: OperatorChain) -> None:
        source = chain.head
        assert isinstance(source, StreamSource)
        ctx = _SourceContext(self, chain)
        source.run(ctx)
        if self.processing_time_service.failure is not None:
            raise self.processing_time_service.failure
        if self._cancelled:
            raise CancelTaskException("cancelled")
        chain.flush()
        if source.bounded:
            # A finished source emits the final watermark so that all event time completes
            # (under the source lock: a periodic-watermark timer may be firing).
            with self._source_lock:
                source.output.emit_watermark(MAX_WATERMARK)
        with self._source_lock:  # end_input may emit or commit: not during a timer's callback
            chain.end_input_of_successors()

    def _run_input_loop(self, chain: OperatorChain) -> None:
        tdd = self.tdd
        head = chain.head
        two_inputs = hasattr(head, "process_batch2")
        process = [head.process_batch1, head.process_batch2] if two_inputs else [
            head.process_batch, head.process_batch]
        # channel -> (input index, subpartition)
        channels: List[tuple] = []
        for gate in tdd.consumed:
            addresses = gate.producer_addresses or [""] * len(gate.producer_subtasks)
            for producer, address in zip(gate.producer_subtasks, addresses):
                if address:  # the producer runs in another process: read over the network
                    from flink_py.runtime.network.remote import RemoteInputChannel
                    sub = RemoteInputChannel(
                        address, tdd.job_id, str(gate.result_id), producer, tdd.subtask_index,
                        credits=self.partitions.capacity,
                        connect_timeout_s=REMOTE_CONNECT_TIMEOUT_S)
                else:
                    sub = self.partitions.subpartition(tdd.job_id, str(gate.result_id),
                                                       producer, tdd.subtask_index)
                channels.append((gate.input_index, sub))
        self._subpartitions.extend(sub for _, sub in channels)
        inputs = sorted({i for i, _ in channels})
        open_per_input = {i: sum(1 for j, _ in channels if j == i) for i in inputs}
        valves = self._watermark_valves(head, two_inputs, channels)
        self._direct_target = (process, channels, chain)
        for index, (_, sub) in enumerate(channels):
            sub.connect(self.inbox, index,
                        self._accept_directly if self.partitions.local_handoff else None)

        timeout_s = tdd.buffer_timeout / 1000.0 if tdd.buffer_timeout > 0 else None
        flush_every_buffer = tdd.buffer_timeout == 0
        writers = chain.writers
        inbox = self.inbox
        lock = self._step_lock
        open_channels = len(channels)
        next_flush: Optional[float] = None
        while open_channels:
            channel, mail = inbox.take(next_flush)
            if channel >= 0:
                input_index, sub = channels[channel]
                with lock:
                    item, more = sub.poll()
                    if more:
                        inbox.channel_available(channel)
                    if type(item) is tuple:
                        process[input_index](item[0], item[1])
                    elif type(item) is Watermark:
                        valve, index_in_input = valves[channel]
                        valve.input_watermark(item.timestamp, index_in_input)
                    elif type(item) is WatermarkStatus:
                        valve, index_in_input = valves[channel]
                        valve.input_watermark_status(item, index_in_input)
                    elif type(item) is EndOfPartition:
                        open_channels -= 1
                        open_per_input[input_index] -= 1
                        if open_per_input[input_index] == 0:
                            head.end_input(input_index)
                    elif item is None:
                        continue  # the subpartition was released under us: cancellation follows
                    else:
                        raise FlinkPyError(f"unexpected item in channel {channel}: {item!r}")
                    if flush_every_buffer:
                        chain.flush()
                    elif timeout_s is not None and next_flush is None and any(
                            w.has_pending for w in writers):
                        next_flush = time.monotonic() + timeout_s
            elif channel == -1:
                with lock:
                    mail()
                    # A mail (e.g. a processing-time timer) may have emitted records: they
                    # must not wait for the next input, which may never come.
                    if flush_every_buffer:
                        chain.flush()
                    elif timeout_s is not None and next_flush is None and any(
                            w.has_pending for w in writers):
                        next_flush = time.monotonic() + timeout_s
            elif channel == -2:
                with lock:
                    chain.flush()
                    self._flush_pending = False
                next_flush = None
            elif channel == -4:
                if timeout_s is not None and next_flush is None:
                    next_flush = time.monotonic() + timeout_s
            else:
                raise CancelTaskException("cancelled")
        with lock:
            self._direct_target = None
            chain.flush()
            chain.end_input_of_successors()

    def _accept_directly(self, channel: int, buffer: tuple) -> bool:
        """Processes a data buffer on the producer's thread if this task is idle.

        Returns False (the producer queues the buffer) when the task is busy, not yet or no
        longer in its input loop, or failed. An error in our operators is this task's error:
        it is handed to our own thread, never raised into the producer.
        """
        lock = self._step_lock
        if not lock.acquire(blocking=False):
            return False
        try:
            target = self._direct_target
            if target is None or self._direct_error is not None or self._cancelled:
                return False
            process, channels, chain = target
            input_index, sub = channels[channel]
            run = process[input_index]
            try:
                # Buffers queued before this one first (FIFO); a queued event stops us, as
                # events are the task's own thread's to handle.
                while True:
                    head = sub.peek()
                    if head is None:
                        break
                    if type(head) is not tuple:
                        return False
                    queued, _ = sub.poll()
                    run(queued[0], queued[1])
                run(buffer[0], buffer[1])
                if self.tdd.buffer_timeout == 0:
                    chain.flush()
                elif not self._flush_pending and any(w.has_pending for w in chain.writers):
                    self._flush_pending = True
                    self.inbox.request_flush_deadline()
            except BaseException as exc:  # ours, not the producer's: fail on our thread
                self._direct_error = exc
                self._direct_target = None
                self.inbox.put_mail(self._raise_direct_error)
            return True
        finally:
            lock.release()

    def _raise_direct_error(self) -> None:
        error = self._direct_error
        assert error is not None
        raise error

    @staticmethod
    def _watermark_valves(head: Any, two_inputs: bool,
                          channels: List[tuple]) -> List[tuple]:
        """Per channel: (the StatusWatermarkValve of its input, its index in that input).

        An input's watermark is the minimum over its non-idle channels (see the valve); a
        two-input head then combines its two inputs' watermarks and statuses itself.
        """
        by_input: Dict[int, List[int]] = {}
        for channel, (input_index, _) in enumerate(channels):
            by_input.setdefault(input_index, []).append(channel)
        valves: List[tuple] = [None] * len(channels)  # type: ignore[list-item]
        for input_index, members in by_input.items():
            if two_inputs:
                valve = StatusWatermarkValve(
                    len(members),
                    lambda ts, i=input_index: head.process_watermark_of_input(i, ts),
                    lambda st, i=input_index: head.process_watermark_status_of_input(i, st))
            else:
                valve = StatusWatermarkValve(len(members), head.process_watermark,
                                             head.process_watermark_status)
            for index_in_input, channel in enumerate(members):
                valves[channel] = (valve, index_in_input)
        return valves


class _SourceContext(SourceTaskContext):
    """The SourceTaskContext a source task hands its source operator."""

    def __init__(self, task: Task, chain: OperatorChain) -> None:
        self._task = task
        self._head = chain.head
        self._chain = chain
        self.records_per_buffer = task.tdd.records_per_buffer
        self.buffer_timeout_ms = task.tdd.buffer_timeout
        self.lock = task._source_lock
        self._flush_every_buffer = task.tdd.buffer_timeout == 0

    @property
    def cancelled(self) -> bool:
        return self._task._cancelled

    def emit(self, values: list, timestamps: Optional[list]) -> None:
        if self._task._cancelled:
            raise CancelTaskException("cancelled")
        with self.lock:  # timers of this task fire under it, never during an emission
            self._head.output.emit(values, timestamps)
            if self._flush_every_buffer:
                self._chain.flush()

    def flush(self) -> None:
        self._chain.flush()
