"""Sink operators: print, user SinkFunctions, and the collect sink behind execute_and_collect."""

from __future__ import annotations

import queue
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional

from flink_py.common.narrowing import collect_converter
from flink_py.common.types import to_row

from flink_py.api.functions import SinkFunction
from flink_py.runtime.execution.errors import CancelTaskException
from flink_py.runtime.jobmaster.collect import CollectCommit, CollectReset, CollectResults
from flink_py.runtime.tasks.fusion import FusionStage
from flink_py.runtime.operators.base import StreamOperator, UdfOperator, unwrap_function


class PrintSink(StreamOperator):
    """``print()``: one line per record on stdout (or stderr), prefixed as Flink does.

    The prefix is ``"<id>:<subtask+1>> "`` / ``"<subtask+1>> "`` above parallelism 1 and
    ``"<id>> "`` / nothing at parallelism 1. Records are shown as Flink shows them: by the
    stream's type information (``TypeInformation.display_formatter``).
    """

    def __init__(self, name: str, formatter: Callable[[Any], str],
                 sink_identifier: Optional[str] = None, std_err: bool = False) -> None:
        super().__init__(name)
        self.formatter = formatter
        self.sink_identifier = sink_identifier
        self.std_err = std_err

    def open(self) -> None:
        ctx = self.runtime_context
        prefix = self.sink_identifier or ""
        if ctx.get_number_of_parallel_subtasks() > 1:
            prefix = f"{prefix}:" if prefix else ""
            prefix += str(ctx.get_index_of_this_subtask() + 1)
        self._prefix = f"{prefix}> " if prefix else ""

    def process_batch(self, values: list, timestamps: Optional[list]) -> None:
        fmt = self.formatter
        prefix = self._prefix
        try:
            text = "".join([f"{prefix}{fmt(v)}\n" for v in values])
        except Exception as exc:
            raise self.user_error(exc, "formatting a record for print")
        stream = sys.stderr if self.std_err else sys.stdout
        stream.write(text)
        stream.flush()


class _SinkContext(SinkFunction.Context):
    __slots__ = ("_operator", "_timestamp")

    def __init__(self, operator: StreamOperator) -> None:
        self._operator = operator
        self._timestamp: Optional[int] = None

    def current_processing_time(self) -> int:
        return time.time_ns() // 1_000_000

    def current_watermark(self) -> int:
        return self._operator.current_watermark

    def timestamp(self) -> Optional[int]:
        return self._timestamp


class SinkFunctionSink(UdfOperator):
    """``add_sink``: calls ``invoke(value, context)`` (or a plain callable) per record."""

    def open(self) -> None:
        super().open()
        f = self.function
        self._context = _SinkContext(self)
        if isinstance(f, SinkFunction) or hasattr(f, "invoke"):
            self._invoke = f.invoke
        else:
            plain = unwrap_function(f, "invoke")
            self._invoke = lambda value, context: plain(value)

    def fusion_stage(self) -> FusionStage:
        return FusionStage("sink", self._invoke, context=self._context)

    def process_batch(self, values: list, timestamps: Optional[list]) -> None:
        invoke = self._invoke
        ctx = self._context
        try:
            if timestamps is None:
                for v in values:
                    invoke(v, ctx)
            else:
                for v, t in zip(values, timestamps):
                    ctx._timestamp = t
                    invoke(v, ctx)
        except Exception as exc:
            raise self.user_error(exc)


#: batches a collect sink may have sent but not yet had accepted by the JobMaster's buffer
COLLECT_CREDITS = 2
#: the operator state holding the offset of a collect sink's next result
COLLECT_OFFSET_STATE = "collect-sink-offset"
#: how long the end of a collect sink waits for its last batches to be accepted (seconds)
COLLECT_END_TIMEOUT_S = 600.0

_END_OF_COLLECT = object()
#: tells the sender to stop without ending the results (the task failed or was cancelled)
_STOP_SENDING = object()


class CollectSink(StreamOperator):
    """Sends every buffer to the client through the JobMaster (``execute_and_collect``).

    Flow control by credit: a sender thread makes the (blocking) calls to the JobMaster's
    collect buffer, which waits while the client does not read; the sink may have at most
    ``COLLECT_CREDITS`` batches not yet accepted. With none left it suspends its task's default
    action (no more input is taken, mails such as checkpoints and cancellation still run) until
    the sender hands a credit back through a mail. Without a mailbox (an operator driven by a
    test) the sink sends on the caller's thread.
    """

    def __init__(self, name: str, collect_id: str,
                 row_field_names: Optional[List[str]] = None, type_info: Any = None) -> None:
        super().__init__(name)
        self.collect_id = collect_id
        #: set when the stream is declared as a ROW: its records reach the client as Rows
        self.row_field_names = row_field_names
        #: what PyFlink's collect does to values of the stream's type (a FLOAT is read back
        #: from Java's text of it); None when nothing changes
        self._convert = collect_converter(type_info)
        self._mailbox: Any = None
        #: the offset of the next result: how many the job's output had before it
        self._offset = 0
        #: the offset at each checkpoint taken and not yet known to be complete
        self._offsets_at: Dict[int, int] = {}

    def attach_mailbox(self, mailbox: Any) -> None:
        """Called by the task before ``open``: the MailboxProcessor to suspend and resume."""
        self._mailbox = mailbox

    # -- the offset of the results (see flink_py.runtime.jobmaster.collect) -------------------

    def _offset_state(self) -> Any:
        from flink_py.api.state import ListStateDescriptor
        return self.get_operator_state_store().get_list_state(
            ListStateDescriptor(COLLECT_OFFSET_STATE))

    def initialize_state(self, subtask_state: Any = None,
                         keyed_state_backend: Any = None) -> None:
        super().initialize_state(subtask_state, keyed_state_backend)
        if subtask_state is not None:
            self._offset = max(self._offset_state().get(), default=0)

    def snapshot_state(self, checkpoint_id: int, timestamp: int, options: Any,
                       factory: Any) -> Any:
        self._offsets_at[checkpoint_id] = self._offset
        self._offset_state().update([self._offset])
        return super().snapshot_state(checkpoint_id, timestamp, options, factory)

    def notify_checkpoint_complete(self, checkpoint_id: int) -> None:
        done = [cid for cid in self._offsets_at if cid <= checkpoint_id]
        if done:
            offset = max(self._offsets_at.pop(cid) for cid in done)
            self._send(CollectCommit(self._attempt, offset))
        super().notify_checkpoint_complete(checkpoint_id)

    # -- sending ------------------------------------------------------------------------------

    def open(self) -> None:
        self._gateway = self.runtime_context.operator_event_gateway
        self._attempt = self.runtime_context.get_attempt_number()
        self._credits = COLLECT_CREDITS
        self._sender: Optional[threading.Thread] = None
        self._outbox: "queue.Queue[Any]" = queue.Queue()
        self._failure: Optional[BaseException] = None
        if self._mailbox is not None:
            self._sender = threading.Thread(
                target=self._send_loop, daemon=True,
                name=f"Collect sender of {self.name} "
                     f"({self.runtime_context.get_index_of_this_subtask() + 1})")
            self._sender.start()
        # this attempt's results start here: those after it from earlier attempts are void
        self._send(CollectReset(self._attempt, self._offset))

    def process_batch(self, values: list, timestamps: Optional[list]) -> None:
        names = self.row_field_names
        if names is not None:
            values = [to_row(v, names, "execute_and_collect") for v in values]
        convert = self._convert
        if convert is not None:
            values = [convert(v) for v in values]
        values = list(values)
        offset = self._offset
        self._offset = offset + len(values)
        self._send(CollectResults(self._attempt, offset, values))

    def _send(self, message: Any) -> None:
        if self._sender is None:
            self._gateway.send_collect_batch(self.collect_id, message)
            return
        if self._failure is not None:
            raise self._failure
        self._outbox.put(message)
        self._credits -= 1
        if self._credits <= 0:
            self._mailbox.suspend_default_action()

    def _send_loop(self) -> None:
        while True:
            batch = self._outbox.get()
            if batch is _STOP_SENDING:
                return
            try:
                if batch is _END_OF_COLLECT:
                    self._gateway.send_collect_end(self.collect_id)
                    return
                self._gateway.send_collect_batch(self.collect_id, batch)
            except BaseException as exc:  # the task fails with it, on its mailbox thread
                self._failure = exc
                self._mailbox.put_mail(self._raise_failure)
                return
            self._mailbox.put_mail(self._credit_returned)

    def _credit_returned(self) -> None:
        self._credits += 1
        if self._credits > 0 and self._mailbox.suspended:
            self._mailbox.resume_default_action()

    def _raise_failure(self) -> None:
        assert self._failure is not None
        raise self._failure

    def end_input(self, input_index: int = 0) -> None:
        if self._sender is None:
            self._gateway.send_collect_end(self.collect_id)
            return
        self._outbox.put(_END_OF_COLLECT)
        self._sender.join(COLLECT_END_TIMEOUT_S)  # the client reads the last batches
        if self._failure is not None:
            raise self._failure
        if self._sender.is_alive():
            raise CancelTaskException(
                f"collect sink {self.name}: the client did not take the last results within "
                f"{COLLECT_END_TIMEOUT_S:g} s")

    def close(self) -> None:
        sender = self._sender if hasattr(self, "_sender") else None
        if sender is not None and sender.is_alive():
            # Cancelled or failed: the JobMaster closes its buffers, which ends a blocked send.
            self._outbox.put(_STOP_SENDING)
