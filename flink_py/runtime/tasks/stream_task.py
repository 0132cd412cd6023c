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
(after the pending data, which precedes it; an unaligned checkpoint's barrier instead overtakes
the queued and pending buffers, which become the task's result-subpartition state), takes the
synchronous part of the snapshot and hands the asynchronous part to its snapshot thread, which
writes the channel state (tasks/channel_state.py), runs it and acknowledges (or declines) to
the task's CheckpointCoordinatorGateway. On restore the recovered output is re-sent, then the
recovered input processed, before anything new.

Stop-with-savepoint (a synchronous savepoint, ``CheckpointOptions.is_synchronous``): a source
task stops reading at its trigger, a downstream task at the savepoint's aligned barriers;
with ``--drain`` (``should_drain``) the source first emits MAX_WATERMARK and every task ends
its operators' inputs and finishes them before the snapshot. Then the task takes no input and
defers its processing-time timers until the savepoint's completion notice: the operators are
notified (two-phase-commit sinks commit) and the task ends its partitions and finishes
(without drain no operator's input ends and none is finished: the job resumes from the
savepoint). An aborted savepoint lets the task run on, or with ``--drain`` (operators
finished already) fails it: "Stop-with-savepoint failed.".

State transitions are reported through ``report_state``: DEPLOYING -> INITIALIZING -> RUNNING
-> FINISHED | FAILED | CANCELED.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

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
from flink_py.runtime.state.handles import OperatorSubtaskState, TaskStateSnapshot
from flink_py.runtime.tasks import channel_state
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


class _SynchronousSavepoint:
    """The stop-with-savepoint a task is in: its savepoint and whether it drains."""

    def __init__(self, checkpoint_id: int, drain: bool) -> None:
        self.checkpoint_id = checkpoint_id
        self.drain = drain
        #: the completion notice arrived: the task ends
        self.completed = False


#: aborted checkpoint ids a task remembers for a synchronous savepoint not yet begun
ABORTED_EARLY_KEPT = 16


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
        #: per input channel: (input index of the head, ship strategy of its exchange)
        self._input_channel_infos: List[Tuple[int, str]] = []
        #: the first key group of this subtask (written with its in-flight input)
        self._first_key_group = -1
        self._snapshots = _AsyncCheckpointRunner(self)
        #: set once the task closes its operators (and their state backends)
        self._closing = False
        #: the synchronous savepoint the task stops with, once taken
        self._stopping: Optional[_SynchronousSavepoint] = None
        #: synchronous savepoints whose abort came before this task began them (the abort
        #: and the trigger or barrier travel different ways): they are not begun
        self._aborted_early: set = set()
        #: processing-time timers due while stopping: fired if the savepoint aborts
        self._deferred_timers: List[Callable[[], None]] = []
        self._action: Any = None
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
            self._action = action
            self._transition(ExecutionState.RUNNING)
            if self._legacy is not None:
                self._legacy.start()
            mailbox.run_mailbox_loop(action)
            if self._cancelled:
                # a cancelled source whose function returned (its cancel() ended run()) ends
                # CANCELED, as Flink's: its input did not end, so nothing downstream finishes
                raise CancelTaskException(f"{self.tdd.task_name_with_subtask} was cancelled")
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
        if error is None:
            # a finished task's snapshots in flight complete before its state goes away
            self._snapshots.shutdown()
        # an asynchronous part still running now fails for want of its state: the task is
        # closing, which declines without counting as a checkpoint failure
        self._closing = True
        if chain is not None:
            close_errors = mailbox.run_as_owner(chain.close)
            if error is None and close_errors:
                error = close_errors[0]
        self._snapshots.shutdown()
        if error is None:
            self._transition(ExecutionState.FINISHED)
        elif self._cancelled or isinstance(error, CancelTaskException):
            self._release_exchange()
            # Not asked to cancel: a partner went away (its producer was released, say); the
            # reason goes with the report, so the job's failure names who went away.
            self._transition(ExecutionState.CANCELED, None if self._cancelled
                             else SerializedError.of(error))  # type: ignore[arg-type]
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
            partitioner.setup(len(channels), produced.consumer_max_parallelism)
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
        restored = self._restored_head_state(chain)
        # Output recovered from an unaligned checkpoint precedes any new output, the output
        # of the recovered input included.
        channel_state.resend_recovered_output(restored, chain.writers)
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
        self._first_key_group = chain.key_group_range.get_start_key_group()
        recovered = channel_state.recovered_input(restored, head, tdd.max_parallelism,
                                                  chain.key_group_range)
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
                self._input_channel_infos.append((gate.input_index, gate.ship_strategy))
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
        """Every input ended: flush, end the chain's inputs, finish, end the partitions.

        After a stop-with-savepoint only the partitions end: with drain the operators
        finished before the savepoint, without it they must not (the job resumes)."""
        chain.flush()
        stopping = self._stopping
        if stopping is not None and stopping.completed:
            for writer in chain.writers:
                writer.broadcast_event(END_OF_PARTITION)
            return
        head = chain.head
        if self.tdd.is_source and isinstance(head, StreamSource):
            # A source whose input ended (a bounded one, or a SourceFunction whose run()
            # returned) emits the final watermark: all event time completes (Flink's
            # advanceToEndOfEventTime at the end of data).
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
            if self._stopping is not None:
                self._deferred_timers.append(fire)  # nothing is emitted after the savepoint
            elif not self._cancelled:
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
        stopping = self._stopping
        if stopping is not None and stopping.completed:
            return "the task is finishing after its stop-with-savepoint"
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
        stopping = self._stopping
        if stopping is not None:
            if checkpoint_id <= stopping.checkpoint_id:
                # an older trigger overtaken by the stop's: nothing follows the savepoint
                self._decline(checkpoint_id, self._declined(
                    checkpoint_id, CheckpointFailureReason.CHECKPOINT_DECLINED_TASK_NOT_READY,
                    f"the task is stopping with savepoint {stopping.checkpoint_id}"))
                return
            # the coordinator moved on: the stop's savepoint was aborted, its notice lost
            self._abort_stop(stopping.checkpoint_id)
        if checkpoint_options.is_synchronous:
            take = lambda: self._stop_source(checkpoint_id, timestamp,  # noqa: E731
                                             checkpoint_options)
        else:
            take = lambda: self._perform_checkpoint(  # noqa: E731
                checkpoint_id, timestamp, checkpoint_options)
        if self._legacy is not None:
            self._legacy.run_under_checkpoint_lock(take)
        else:
            take()

    # -- stop-with-savepoint --------------------------------------------------------------------

    def _stop_source(self, checkpoint_id: int, timestamp: int,
                     checkpoint_options: CheckpointOptions) -> None:
        """A source task's synchronous savepoint (for a legacy source, under its checkpoint
        lock): stop reading, drain if asked, then the snapshot and the barrier."""
        chain = self._chain
        assert chain is not None
        if self._aborted_already(checkpoint_id):
            self._perform_checkpoint(checkpoint_id, timestamp, checkpoint_options)
            return
        self._begin_stop(checkpoint_id, checkpoint_options)
        if self._legacy is not None:
            self._legacy.halt()  # its function's next emit waits (or, stopped, ends it)
        if checkpoint_options.should_drain:
            if self._legacy is not None:
                chain.head.cancel()  # the SourceFunction's loop may end on its own
            chain.head.output.emit_watermark(MAX_WATERMARK)
            chain.end_input_of_successors()
            chain.finish()
        self._perform_checkpoint(checkpoint_id, timestamp, checkpoint_options)

    def _aborted_already(self, checkpoint_id: int) -> bool:
        """Whether the stop's savepoint ``checkpoint_id`` was aborted before this task began
        it: then the task does not stop (no notice would ever release it); its barrier still
        goes downstream, and its snapshot is dropped as late."""
        aborted = checkpoint_id in self._aborted_early
        self._aborted_early = {c for c in self._aborted_early if c > checkpoint_id}
        if aborted:
            log.info("%s: stop-with-savepoint %d was aborted before it reached this task",
                     self.tdd.task_name_with_subtask, checkpoint_id)
        return aborted

    def _begin_stop(self, checkpoint_id: int, checkpoint_options: CheckpointOptions) -> None:
        """No input until the savepoint completed (or was aborted)."""
        self._stopping = _SynchronousSavepoint(checkpoint_id, checkpoint_options.should_drain)
        self.mailbox.suspend_default_action()
        if self._processor is not None:
            # the upstream tasks end their partitions after the notice: not an end of input
            self._processor.end_input_at_end_of_partition = False

    def _stop_downstream(self, barrier: CheckpointBarrier) -> None:
        """A downstream task's synchronous savepoint, at its aligned barriers: everything
        before them was processed (with drain, MAX_WATERMARK too)."""
        chain = self._chain
        assert chain is not None and self._processor is not None
        if self._aborted_already(barrier.checkpoint_id):
            self._perform_checkpoint(barrier.checkpoint_id, barrier.timestamp, barrier.options)
            return
        self._begin_stop(barrier.checkpoint_id, barrier.options)
        if barrier.options.should_drain:
            self._processor.end_open_inputs()
            chain.end_input_of_successors()
            chain.finish()
        self._perform_checkpoint(barrier.checkpoint_id, barrier.timestamp, barrier.options)

    def _complete_stop(self, checkpoint_id: int) -> None:
        """The savepoint's notice: the operators commit, then the task ends (its partitions
        end once the input processor saw its upstream partitions end)."""
        stopping = self._stopping
        assert stopping is not None and self._chain is not None
        stopping.completed = True
        self._deferred_timers.clear()  # and later ones stay deferred: none fires any more
        self._chain.notify_checkpoint_complete(checkpoint_id)
        if self.tdd.is_source:
            self._action.finished = True  # the loop returns; the source ends its partitions
        else:
            self.mailbox.resume_default_action()

    def _abort_stop(self, checkpoint_id: int) -> None:
        """The stop's savepoint was aborted: run on as before, unless drained already."""
        stopping = self._stopping
        assert stopping is not None
        if stopping.drain:
            raise FlinkPyError(
                f"Stop-with-savepoint failed. (the savepoint {checkpoint_id} of "
                f"{self.tdd.task_name_with_subtask} was aborted after its operators "
                f"finished)")
        log.info("%s: stop-with-savepoint %d aborted, the task runs on",
                 self.tdd.task_name_with_subtask, checkpoint_id)
        self._stopping = None
        if self._processor is not None:
            self._processor.end_input_at_end_of_partition = True
        if self._legacy is not None:
            self._legacy.resume()
        self.mailbox.resume_default_action()
        deferred, self._deferred_timers = self._deferred_timers, []
        for fire in deferred:
            if not self._cancelled:
                fire()

    def _decline_pending_triggers(self) -> None:
        with self._trigger_lock:
            pending, self._pending_triggers = sorted(self._pending_triggers), set()
        for checkpoint_id in pending:
            self._decline(checkpoint_id, self._declined(
                checkpoint_id, CheckpointFailureReason.CHECKPOINT_DECLINED_TASK_CLOSING,
                "the task ended before the checkpoint was taken"))

    def _on_barriers(self, barrier: CheckpointBarrier) -> None:
        """The barrier handler has the barriers of every channel (or, unaligned, the first)."""
        stopping = self._stopping
        if stopping is not None and barrier.checkpoint_id > stopping.checkpoint_id:
            self._abort_stop(stopping.checkpoint_id)  # its abort notice was lost
        if barrier.options.is_synchronous:
            self._stop_downstream(barrier)
        else:
            self._perform_checkpoint(barrier.checkpoint_id, barrier.timestamp,
                                     barrier.options)

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
        overtaken: Optional[List[Dict[int, list]]] = None
        if checkpoint_options.unaligned:
            # The barrier overtakes the buffers not yet consumed (a priority event): they are
            # this task's result-subpartition state, so backpressure does not delay it.
            overtaken = [writer.broadcast_priority_event(barrier) for writer in chain.writers]
        else:
            for writer in chain.writers:
                writer.broadcast_event(barrier)  # flushes the pending data first
        recorded: Optional[list] = None
        if checkpoint_options.unaligned and self._processor is not None and \
                self._processor.barrier_handler.recording:
            recorded = self._channel_states[checkpoint_id] = [threading.Event(), None]
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
        writers = list(chain.writers)
        self._snapshots.submit(lambda: self._complete_async(
            checkpoint_id, async_part, sync_ms, checkpoint_options.unaligned, recorded,
            head_id, factory, overtaken, writers))

    def _complete_async(self, checkpoint_id: int, async_part: Callable[[], TaskStateSnapshot],
                        sync_ms: int, unaligned: bool, recorded: Optional[list],
                        head_id: Any, factory: Any,
                        overtaken: Optional[List[Dict[int, list]]] = None,
                        writers: Optional[List[RecordWriter]] = None) -> None:
        """On the snapshot thread: materialize the snapshot, then acknowledge or decline."""
        started = time.perf_counter()
        try:
            snapshot = async_part()
            if overtaken:
                self._attach_state(snapshot, head_id, [],
                                   channel_state.write_result_subpartition_state(
                                       factory, overtaken, writers or []))
            if recorded is not None:
                if not recorded[0].wait(CHANNEL_STATE_TIMEOUT_S):
                    raise FlinkPyError(
                        f"the channel state of unaligned checkpoint {checkpoint_id} was not "
                        f"complete within {CHANNEL_STATE_TIMEOUT_S:g} s")
                self._channel_states.pop(checkpoint_id, None)
                self._attach_state(snapshot, head_id, channel_state.write_input_channel_state(
                    factory, recorded[1] or {}, self._input_channel_infos,
                    self._first_key_group), [])
        except Exception as exc:  # declined, the task runs on (Flink's async failure)
            if self._cancelled or self._closing or self.state.is_terminal:
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
    def _attach_state(snapshot: TaskStateSnapshot, head_id: Any, inputs: List[Any],
                      outputs: List[Any]) -> None:
        """Adds channel-state handles to the head operator's state (Flink keeps both with
        the subtask's state; the head stands for the task)."""
        if not inputs and not outputs:
            return
        states = snapshot.subtask_state_by_operator
        state = states.get(head_id)
        if state is None:
            state = states[head_id] = OperatorSubtaskState()
        state.input_channel_state.extend(inputs)
        state.result_subpartition_state.extend(outputs)

    def _restored_head_state(self, chain: OperatorChain) -> Optional[OperatorSubtaskState]:
        restore = self.tdd.task_restore
        if restore is None:
            return None
        return restore.task_state_snapshot.get_subtask_state_by_operator_id(
            chain.head.operator_id)

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
            if self._chain is None or self._cancelled:
                return
            stopping = self._stopping
            if stopping is not None and not stopping.completed and \
                    checkpoint_id >= stopping.checkpoint_id:
                self._complete_stop(checkpoint_id)
            else:
                self._chain.notify_checkpoint_complete(checkpoint_id)
        self.inbox.put_mail(mail)

    def notify_checkpoint_aborted(self, checkpoint_id: int) -> None:
        """From any thread: ``checkpoint_id`` was aborted (runs as a mail)."""
        def mail() -> None:
            self.mailbox.assert_mailbox_thread("notify_checkpoint_aborted")
            if self._chain is None or self._cancelled:
                return
            self._chain.notify_checkpoint_aborted(checkpoint_id)
            stopping = self._stopping
            if stopping is not None and not stopping.completed and \
                    checkpoint_id == stopping.checkpoint_id:
                self._abort_stop(checkpoint_id)
            elif stopping is None:
                early = self._aborted_early
                early.add(checkpoint_id)
                if len(early) > ABORTED_EARLY_KEPT:  # every abort lands here: keep the last
                    early.discard(min(early))
        self.inbox.put_mail(mail)
