"""StreamTask: one subtask attempt, one thread of execution with a mailbox.

The task's thread deserializes the chain, connects its input gates and result partitions,
restores and opens the operators, and then runs the mailbox loop (runtime/tasks/mailbox.py):
its default action is the input processor (runtime/io/input_processor.py) or, for a source
task, the source reader or a legacy SourceFunction's queue (source_stream_task.py); timers,
buffer-timeout flushes, checkpoint triggers and notifications are mails between steps. The
MailboxProcessor is the only owner of the operators: no other thread calls into them, except
a producer's thread that runs one mailbox step of this task while it is idle (the in-process
hand-off), holding the mailbox's ownership.

Checkpoints: a source task's checkpoint starts with a trigger mail (``trigger_checkpoint``),
any other task's when its barrier handler has the barriers. On the mailbox thread the task
then runs ``chain.prepare_snapshot_pre_barrier``, broadcasts the barrier to every RecordWriter
(after the pending data, which precedes it), takes the synchronous part of the snapshot and
hands the asynchronous part to its snapshot thread, which runs it and acknowledges (or
declines) to the task's CheckpointCoordinatorGateway.

State transitions are reported through ``report_state``: DEPLOYING -> INITIALIZING -> RUNNING
-> FINISHED | FAILED | CANCELED.
"""

from __future__ import annotations

import logging
import pickle
import queue
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Set

import cloudpickle

from flink_py.common import config_options as options
from flink_py.errors import FlinkPyError
from flink_py.runtime.checkpoint.gateways import CheckpointMetrics
from flink_py.runtime.checkpoint.failure_manager import (
    CheckpointException, CheckpointFailureReason)
from flink_py.runtime.checkpoint.options import CheckpointOptions
from flink_py.runtime.execution.environment import Environment
from flink_py.runtime.execution.errors import CancelTaskException, SerializedError
from flink_py.runtime.execution.execution_state import ExecutionState
from flink_py.runtime.io.checkpoint_barrier_handler import (
    CheckpointBarrierHandler, create_barrier_handler)
from flink_py.runtime.io.input_processor import StreamInputProcessor
from flink_py.runtime.network.events import (
    END_OF_PARTITION, CancelCheckpointMarker, CheckpointBarrier)
from flink_py.runtime.network.local import InputInbox
from flink_py.runtime.network.record_writer import RecordWriter
from flink_py.runtime.operators.base import MAX_WATERMARK, StreamingRuntimeContext
from flink_py.runtime.operators.sources import StreamSource
from flink_py.runtime.state.checkpoint_streams import CheckpointedStateScope
from flink_py.runtime.state.handles import (
    InputChannelStateHandle, OperatorSubtaskState, TaskStateSnapshot)
from flink_py.runtime.tasks.mailbox import MailboxProcessor
from flink_py.runtime.tasks.operator_chain import OperatorChain
from flink_py.runtime.tasks.processing_time import ProcessingTimeService
from flink_py.runtime.tasks.source_stream_task import LegacySourceInput, SourceReaderInput

log = logging.getLogger(__name__)

__all__ = ["REMOTE_CONNECT_TIMEOUT_S", "StreamTask", "TaskCancellationTimeoutError"]

#: How long a consumer keeps trying to reach a producer's data server.
REMOTE_CONNECT_TIMEOUT_S = 30.0
#: How long the snapshot thread waits for an unaligned checkpoint's channel state (seconds);
#: the coordinator's checkpoint timeout aborts it earlier.
CHANNEL_STATE_TIMEOUT_S = 600.0

StateReporter = Callable[["StreamTask", ExecutionState, Optional[SerializedError]], None]


class TaskCancellationTimeoutError(FlinkPyError):
    """A task's thread did not end within ``task.cancellation.timeout`` after cancel()."""


class _AsyncCheckpointRunner:
    """The task's snapshot thread: runs asynchronous parts and acknowledges them."""

    def __init__(self, task: "StreamTask") -> None:
        self._task = task
        self._jobs: "queue.Queue[Any]" = queue.Queue()
        self._thread: Optional[threading.Thread] = None

    def submit(self, job: Callable[[], None]) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, daemon=True,
                name=f"AsyncOperations of {self._task.tdd.task_name_with_subtask}")
            self._thread.start()
        self._jobs.put(job)

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            job()

    def shutdown(self, timeout_s: float = 5.0) -> None:
        thread = self._thread
        if thread is not None:
            self._jobs.put(None)
            if thread is not threading.current_thread():
                thread.join(timeout_s)


class StreamTask:
    """Runs one subtask attempt on its own thread, its operators owned by its mailbox."""

    def __init__(self, environment: Environment, report_state: StateReporter) -> None:
        self.environment = environment
        self.tdd = tdd = environment.deployment
        self.partitions = environment.partitions
        self.report_state = report_state
        self.state = ExecutionState.DEPLOYING
        self.inbox = InputInbox()
        self.mailbox = MailboxProcessor(self.inbox, [], tdd.buffer_timeout,
                                        tdd.task_name_with_subtask)
        #: records per network buffer: the job's setting, else its TaskManager's
        self._records_per_buffer = int(environment.job_option(
            options.NETWORK_RECORDS_PER_BUFFER))
        self._cancelled = False
        self._final_reported = False
        self._report_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=tdd.task_name_with_subtask)
        self._started = threading.Event()
        self._chain: Optional[OperatorChain] = None
        self._subpartitions: List[Any] = []
        self._legacy: Optional[LegacySourceInput] = None
        self._processor: Optional[StreamInputProcessor] = None
        self._input_finished = False
        #: checkpoint ids triggered but whose mail has not run: declined if the task ends
        self._pending_triggers: Set[int] = set()
        self._trigger_lock = threading.Lock()
        #: unaligned checkpoints waiting for their channel state: id -> [event, state]
        self._channel_states: Dict[int, list] = {}
        self._snapshots = _AsyncCheckpointRunner(self)
        self.processing_time_service = ProcessingTimeService(
            self._run_timer_as_mail, tdd.task_name_with_subtask)

    @property
    def attempt_id(self) -> Any:
        return self.tdd.attempt_id

    def start(self) -> None:
        self._thread.start()
        self._started.set()

    def join(self, timeout: Optional[float] = None) -> bool:
        """Waits for the task's thread to end; also for it to start, as a cancellation may
        come between the task's registration and its start."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._started.wait(timeout):
            return False
        self._thread.join(None if deadline is None else max(deadline - time.monotonic(), 0))
        return not self._thread.is_alive()

    @property
    def is_alive(self) -> bool:
        return self._thread.is_alive()

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
        if self._legacy is not None:
            self._legacy.cancel()
        self.inbox.close()
        self._release_exchange()

    def fail_cancellation(self, timeout_s: float) -> None:
        """The thread did not end ``timeout_s`` after cancel(): report the task FAILED so
        that the job can end (the thread, stuck in user code, is abandoned)."""
        error = TaskCancellationTimeoutError(
            f"task {self.tdd.task_name_with_subtask} did not stop within "
            f"{timeout_s:g} s (task.cancellation.timeout) after it was cancelled: its thread "
            f"is stuck in user code that ignores cancellation")
        log.error("%s", error)
        self._transition(ExecutionState.FAILED, SerializedError.of(error), final=True)

    # -- state ---------------------------------------------------------------------------------

    def _transition(self, state: ExecutionState, error: Optional[SerializedError] = None,
                    final: bool = False) -> None:
        with self._report_lock:
            if self._final_reported:
                return  # e.g. reported FAILED by the cancellation watchdog already
            if final or state.is_terminal:
                self._final_reported = True
        self.state = state
        self.report_state(self, state, error)

    def _run(self) -> None:
        error: Optional[BaseException] = None
        chain: Optional[OperatorChain] = None
        mailbox = self.mailbox
        try:
            self._transition(ExecutionState.INITIALIZING)
            load_user_code = self.environment.load_user_code
            if load_user_code is not None:
                load_user_code()
            chain = self._build_chain()
            self._chain = chain
            mailbox.set_writers(chain.writers)
            if self._cancelled:
                raise CancelTaskException("cancelled while initializing")
            action = mailbox.run_as_owner(lambda: self._restore_and_open(chain))
            self._transition(ExecutionState.RUNNING)
            if self._legacy is not None:
                self._legacy.start()
            mailbox.run_mailbox_loop(action)
            self._input_finished = True
            mailbox.run_as_owner(lambda: self._end_of_input(chain))
        except BaseException as exc:  # everything ends the task; reported below
            error = exc
        self._input_finished = True
        self.processing_time_service.shutdown()
        self._decline_pending_triggers()
        legacy = self._legacy
        if legacy is not None:
            legacy.cancel()
            if not legacy.join(0.0):
                try:
                    chain.head.cancel()  # type: ignore[union-attr]
                except Exception:  # a failing cancel() must not hide the task's outcome
                    log.exception("cancel() of source %s failed",
                                  self.tdd.task_name_with_subtask)
        if chain is not None:
            close_errors = mailbox.run_as_owner(chain.close)
            if error is None and close_errors:
                error = close_errors[0]
        self._snapshots.shutdown()
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
                partitioner, channels, self._records_per_buffer)
        gateway = self.environment.operator_event_gateway

        def runtime_context() -> StreamingRuntimeContext:
            return StreamingRuntimeContext(
                tdd.task_name, tdd.subtask_index, tdd.parallelism, tdd.max_parallelism,
                tdd.attempt_number, tdd.job_parameters, gateway, tdd.runtime_mode)

        return OperatorChain(chain_config, writers, runtime_context, tdd.max_parallelism,
                             tdd.parallelism, tdd.subtask_index, self.processing_time_service,
                             job_configuration=tdd.job_configuration,
                             working_dir=self.environment.services.working_dir)

    def _restore_and_open(self, chain: OperatorChain) -> Any:
        """On the mailbox: restore state, open the chain, build the default action."""
        self.mailbox.assert_mailbox_thread("opening the operator chain")
        for operator in chain.operators:
            attach = getattr(operator, "attach_mailbox", None)  # e.g. the collect sink
            if attach is not None:
                attach(self.mailbox)
        chain.initialize_state(self.tdd.task_restore)
        chain.open()
        head = chain.head
        tdd = self.tdd
        if tdd.is_source:
            assert isinstance(head, StreamSource)
            if head.legacy:
                self._legacy = LegacySourceInput(head, self.inbox, self._records_per_buffer,
                                                 tdd.buffer_timeout,
                                                 self.mailbox.arm_flush_deadline,
                                                 tdd.task_name_with_subtask)
                return self._legacy
            position = head.restored_reader_position()
            if position is not None:
                head.seek(position)
            return SourceReaderInput(head, self._records_per_buffer, tdd.buffer_timeout,
                                     chain.flush, lambda: self._cancelled)
        processor = self._input_processor(head)
        self._processor = processor
        recovered = self._recovered_channel_state(chain)
        if recovered:
            processor.process_recovered_buffers(recovered)
        return processor

    def _input_processor(self, head: Any) -> StreamInputProcessor:
        tdd = self.tdd
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
        processor = StreamInputProcessor(channels, head, self.inbox, self._barrier_handler)
        direct = self.mailbox.try_run_step_as_producer if self.partitions.local_handoff \
            else None
        for index, (_, sub) in enumerate(channels):
            sub.connect(self.inbox, index, direct)
        return processor

    def _barrier_handler(self, num_channels: int,
                         resume: Callable[[List[int]], None]) -> CheckpointBarrierHandler:
        mode = str(self.environment.job_option(options.CHECKPOINTING_MODE))
        unaligned = bool(self.environment.job_option(options.ENABLE_UNALIGNED))
        return create_barrier_handler(
            num_channels, mode.upper().endswith("EXACTLY_ONCE"), unaligned,
            self._on_barriers, self._on_barrier_abort, resume, self._on_channel_state)

    def _end_of_input(self, chain: OperatorChain) -> None:
        """Every input ended: flush, end the chain's inputs, finish, end the partitions."""
        chain.flush()
        head = chain.head
        if self.tdd.is_source and isinstance(head, StreamSource) and head.bounded:
            # A finished bounded source emits the final watermark: all event time completes.
            head.output.emit_watermark(MAX_WATERMARK)
        chain.end_input_of_successors()
        chain.finish()
        for writer in chain.writers:
            writer.broadcast_event(END_OF_PARTITION)

    # -- timers -------------------------------------------------------------------------------

    def _run_timer_as_mail(self, fire: Callable[[], None]) -> None:
        """The ProcessingTimeService's thread only enqueues: the timer fires as a mail."""
        def timer_mail() -> None:
            self.mailbox.assert_mailbox_thread("a processing-time timer")
            if not self._cancelled:
                fire()
        self.inbox.put_mail(timer_mail)

    # -- checkpoints (TaskExecutorCheckpointGateway, routed here by the TaskExecutor) ---------

    def trigger_checkpoint(self, checkpoint_id: int, timestamp: int,
                           checkpoint_options: CheckpointOptions) -> None:
        """From any thread: start checkpoint ``checkpoint_id`` at this source task."""
        reason = self._cannot_trigger_reason()
        if reason is not None:
            self._decline(checkpoint_id, self._declined(
                checkpoint_id, CheckpointFailureReason.CHECKPOINT_DECLINED_TASK_NOT_READY,
                reason))
            return
        with self._trigger_lock:
            self._pending_triggers.add(checkpoint_id)
        self.inbox.put_mail(
            lambda: self._trigger_mail(checkpoint_id, timestamp, checkpoint_options))

    def _cannot_trigger_reason(self) -> Optional[str]:
        if not self.tdd.is_source:
            return ("the task is not a source task; its checkpoints start when the barriers "
                    "of its inputs arrive")
        if self.state is not ExecutionState.RUNNING:
            return f"the task is {self.state.name}, not RUNNING"
        if self._input_finished or self._cancelled:
            return "the task has finished its input"
        return None

    def _trigger_mail(self, checkpoint_id: int, timestamp: int,
                      checkpoint_options: CheckpointOptions) -> None:
        self.mailbox.assert_mailbox_thread("a checkpoint trigger")
        with self._trigger_lock:
            self._pending_triggers.discard(checkpoint_id)
        reason = self._cannot_trigger_reason()
        if reason is not None:
            self._decline(checkpoint_id, self._declined(
                checkpoint_id, CheckpointFailureReason.CHECKPOINT_DECLINED_TASK_NOT_READY,
                reason))
            return
        if self._legacy is not None:
            self._legacy.run_under_checkpoint_lock(
                lambda: self._perform_checkpoint(checkpoint_id, timestamp, checkpoint_options))
        else:
            self._perform_checkpoint(checkpoint_id, timestamp, checkpoint_options)

    def _decline_pending_triggers(self) -> None:
        with self._trigger_lock:
            pending, self._pending_triggers = sorted(self._pending_triggers), set()
        for checkpoint_id in pending:
            self._decline(checkpoint_id, self._declined(
                checkpoint_id, CheckpointFailureReason.CHECKPOINT_DECLINED_TASK_CLOSING,
                "the task ended before the checkpoint was taken"))

    def _on_barriers(self, barrier: CheckpointBarrier) -> None:
        """The barrier handler has the barriers of every channel (or, unaligned, the first)."""
        self._perform_checkpoint(barrier.checkpoint_id, barrier.timestamp, barrier.options)

    def _on_barrier_abort(self, checkpoint_id: int, reason: str) -> None:
        self.mailbox.assert_mailbox_thread("a checkpoint abort")
        self._channel_states.pop(checkpoint_id, None)
        chain = self._chain
        if chain is not None:
            for writer in chain.writers:  # downstream must not wait for this checkpoint
                writer.broadcast_event(CancelCheckpointMarker(checkpoint_id))
        self._decline(checkpoint_id, self._declined(
            checkpoint_id, CheckpointFailureReason.CHECKPOINT_DECLINED_ON_CANCELLATION_BARRIER,
            reason))

    def _declined(self, checkpoint_id: int, reason: CheckpointFailureReason,
                  detail: str) -> CheckpointException:
        return CheckpointException(
            reason, f"checkpoint {checkpoint_id} declined by "
                    f"{self.tdd.task_name_with_subtask}: {detail}")

    def _on_channel_state(self, checkpoint_id: int, in_flight: Dict[int, list]) -> None:
        entry = self._channel_states.get(checkpoint_id)
        if entry is not None:
            entry[1] = in_flight
            entry[0].set()

    def _perform_checkpoint(self, checkpoint_id: int, timestamp: int,
                            checkpoint_options: CheckpointOptions) -> None:
        """On the mailbox thread: pre-barrier, barrier downstream, sync snapshot, async part."""
        self.mailbox.assert_mailbox_thread("a checkpoint")
        chain = self._chain
        assert chain is not None
        started = time.perf_counter()
        chain.prepare_snapshot_pre_barrier(checkpoint_id)
        barrier = CheckpointBarrier(checkpoint_id, timestamp, checkpoint_options)
        for writer in chain.writers:
            writer.broadcast_event(barrier)  # flushes the pending data first
        channel_state: Optional[list] = None
        if checkpoint_options.unaligned and self._processor is not None and \
                self._processor.barrier_handler.recording:
            channel_state = self._channel_states[checkpoint_id] = [threading.Event(), None]
        try:
            factory = self.environment.stream_factory(checkpoint_id, checkpoint_options)
            async_part = chain.snapshot_state(checkpoint_id, timestamp, checkpoint_options,
                                              factory)
        except Exception as exc:  # the checkpoint fails, not the task (Flink declines)
            self._channel_states.pop(checkpoint_id, None)
            log.warning("%s: synchronous part of checkpoint %d failed: %s",
                        self.tdd.task_name_with_subtask, checkpoint_id, exc)
            self._decline(checkpoint_id, exc)
            return
        sync_ms = int((time.perf_counter() - started) * 1000)
        head_id = chain.head.operator_id
        self._snapshots.submit(lambda: self._complete_async(
            checkpoint_id, async_part, sync_ms, checkpoint_options.unaligned, channel_state,
            head_id, factory))

    def _complete_async(self, checkpoint_id: int, async_part: Callable[[], TaskStateSnapshot],
                        sync_ms: int, unaligned: bool, channel_state: Optional[list],
                        head_id: Any, factory: Any) -> None:
        """On the snapshot thread: materialize the snapshot, then acknowledge or decline."""
        started = time.perf_counter()
        try:
            snapshot = async_part()
            if channel_state is not None:
                if not channel_state[0].wait(CHANNEL_STATE_TIMEOUT_S):
                    raise FlinkPyError(
                        f"the channel state of unaligned checkpoint {checkpoint_id} was not "
                        f"complete within {CHANNEL_STATE_TIMEOUT_S:g} s")
                self._channel_states.pop(checkpoint_id, None)
                self._attach_channel_state(snapshot, head_id, channel_state[1] or {}, factory)
        except Exception as exc:  # declined, the task runs on (Flink's async failure)
            if self._cancelled or self.state.is_terminal:
                # the task's state went away under the snapshot: it is closing, no failure
                log.info("%s: checkpoint %d dropped, the task ended: %s",
                         self.tdd.task_name_with_subtask, checkpoint_id, exc)
                self._decline(checkpoint_id, self._declined(
                    checkpoint_id, CheckpointFailureReason.CHECKPOINT_DECLINED_TASK_CLOSING,
                    str(exc)))
                return
            log.warning("%s: asynchronous part of checkpoint %d failed: %s",
                        self.tdd.task_name_with_subtask, checkpoint_id, exc)
            self._decline(checkpoint_id, self._declined(
                checkpoint_id, CheckpointFailureReason.CHECKPOINT_ASYNC_EXCEPTION,
                f"{type(exc).__name__}: {exc}"))
            return
        metrics = CheckpointMetrics(
            sync_duration_ms=sync_ms,
            async_duration_ms=int((time.perf_counter() - started) * 1000),
            bytes_persisted=snapshot.state_size, unaligned=unaligned)
        responder = self.environment.checkpoint_responder
        if responder is None:
            log.warning("%s: no checkpoint coordinator to acknowledge checkpoint %d to",
                        self.tdd.task_name_with_subtask, checkpoint_id)
            return
        responder.acknowledge_checkpoint(self.tdd.job_id, self.attempt_id, checkpoint_id,
                                         metrics, snapshot)

    @staticmethod
    def _attach_channel_state(snapshot: TaskStateSnapshot, head_id: Any,
                              in_flight: Dict[int, list], factory: Any) -> None:
        """Adds the recorded in-flight buffers to the head operator's state."""
        handles = []
        for channel, buffers in sorted(in_flight.items()):
            stream = factory.create_checkpoint_state_output_stream(
                CheckpointedStateScope.EXCLUSIVE)
            stream.write(pickle.dumps(buffers, protocol=5))
            handles.append(InputChannelStateHandle(0, channel, stream.close_and_get_handle()))
        if not handles:
            return
        states = snapshot.subtask_state_by_operator
        state = states.get(head_id)
        if state is None:
            state = states[head_id] = OperatorSubtaskState()
        state.input_channel_state.extend(handles)

    def _recovered_channel_state(self, chain: OperatorChain) -> Dict[int, list]:
        restore = self.tdd.task_restore
        if restore is None:
            return {}
        state = restore.task_state_snapshot.get_subtask_state_by_operator_id(
            chain.head.operator_id)
        if state is None:
            return {}
        recovered: Dict[int, list] = {}
        for handle in state.input_channel_state:
            recovered.setdefault(handle.channel_index, []).extend(
                pickle.loads(handle.delegate.read_bytes()))
        return recovered

    def _decline(self, checkpoint_id: int, error: BaseException) -> None:
        responder = self.environment.checkpoint_responder
        if responder is None:
            log.info("%s: declining checkpoint %d (no coordinator to tell): %s",
                     self.tdd.task_name_with_subtask, checkpoint_id, error)
            return
        responder.decline_checkpoint(self.tdd.job_id, self.attempt_id, checkpoint_id,
                                     SerializedError.of(error))

    def notify_checkpoint_complete(self, checkpoint_id: int) -> None:
        """From any thread: every task acknowledged ``checkpoint_id`` (runs as a mail)."""
        def mail() -> None:
            self.mailbox.assert_mailbox_thread("notify_checkpoint_complete")
            if self._chain is not None and not self._cancelled:
                self._chain.notify_checkpoint_complete(checkpoint_id)
        self.inbox.put_mail(mail)

    def notify_checkpoint_aborted(self, checkpoint_id: int) -> None:
        """From any thread: ``checkpoint_id`` was aborted (runs as a mail)."""
        def mail() -> None:
            self.mailbox.assert_mailbox_thread("notify_checkpoint_aborted")
            if self._chain is not None and not self._cancelled:
                self._chain.notify_checkpoint_aborted(checkpoint_id)
        self.inbox.put_mail(mail)
