"""Sink bases that write to external systems exactly once, through checkpoints.

* :class:`TwoPhaseCommitSinkFunction` (Flink's ``TwoPhaseCommitSinkFunction``): records go
  into a transaction; at the checkpoint barrier the transaction is pre-committed and a new
  one begun; when the checkpoint completes, the pre-committed transactions up to it are
  committed. The open and pre-committed transactions are kept in operator list state, so
  after a failure the restored subtask commits the transactions its checkpoint pre-committed
  and aborts the one that was open.
* :class:`GenericWriteAheadSink` (Flink's ``GenericWriteAheadSink``): records are buffered
  per checkpoint in operator state and sent to the external system by
  :meth:`~GenericWriteAheadSink.send_values` only once their checkpoint completed; a
  :class:`CheckpointCommitter` records which checkpoints were sent so that none is sent
  twice after a restore.

Both are ``SinkFunction`` + ``CheckpointedFunction`` + ``CheckpointListener``: the sink
operator calls ``initialize_state`` (before ``open``), ``invoke`` per record,
``snapshot_state`` at the barrier and ``notify_checkpoint_complete`` when the checkpoint
completed. Transactions, user contexts and records must be picklable: they are state.
"""

from __future__ import annotations

import abc
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Dict, Generic, Iterable, List, Optional, Tuple, TypeVar

from flink_py.datastream.functions import (
    CheckpointedFunction, CheckpointListener, FunctionInitializationContext,
    FunctionSnapshotContext, RuntimeContext, SinkFunction)
from flink_py.datastream.state import ListStateDescriptor
from flink_py.errors import FlinkPyError

__all__ = ["TwoPhaseCommitSinkFunction", "TransactionHolder", "GenericWriteAheadSink",
           "CheckpointCommitter"]

LOG = logging.getLogger(__name__)

TXN = TypeVar("TXN")


def _now_millis() -> int:
    return int(time.time() * 1000)


CONTEXT = TypeVar("CONTEXT")


@dataclass
class TransactionHolder(Generic[TXN]):
    """A transaction handle and when it began (ms since the epoch)."""

    handle: TXN
    transaction_start_time: int


@dataclass
class _TwoPhaseCommitState(Generic[TXN, CONTEXT]):
    """What one subtask keeps in its list state: the open transaction, the pre-committed
    ones (with the checkpoint that pre-committed them) and the user context."""

    pending_transaction: TransactionHolder
    pending_commit_transactions: List[Tuple[int, TransactionHolder]]
    context: Optional[Any] = None


class TwoPhaseCommitSinkFunction(SinkFunction, CheckpointedFunction, CheckpointListener,
                                 Generic[TXN, CONTEXT]):
    """The base of exactly-once sinks to transactional systems.

    Implement :meth:`begin_transaction`, :meth:`invoke` (write one record into the
    transaction), :meth:`pre_commit` (flush; after it the transaction must be committable
    even after a crash), :meth:`commit` (idempotent: it may be called again after a
    restore) and :meth:`abort`; :meth:`recover_and_commit` and :meth:`recover_and_abort` are
    called with restored transactions and default to :meth:`commit` and :meth:`abort`.

    Example::

        class TransactionalFileSink(TwoPhaseCommitSinkFunction):
            def begin_transaction(self):
                return TempFile()                 # a staging file per transaction
            def invoke(self, transaction, value, context):
                transaction.write(value)
            def pre_commit(self, transaction):
                transaction.flush_and_close()
            def commit(self, transaction):
                transaction.move_to_final_place()  # no-op if already moved
            def abort(self, transaction):
                transaction.delete()
    """

    #: Flink's name of the list state the transactions are kept in
    STATE_NAME = "state"

    def __init__(self) -> None:
        self._current_transaction_holder: Optional[TransactionHolder] = None
        # checkpoint id -> the transaction pre-committed at that checkpoint (insertion order
        # is checkpoint order: barriers arrive in order)
        self._pending_commit_transactions: Dict[int, TransactionHolder] = {}
        self._user_context: Optional[CONTEXT] = None
        self._state: Any = None

    # Transaction timeout handling (Flink's): class-level defaults, so that they hold for
    # subclasses whose __init__ skipped ours as well.
    _transaction_timeout: int = 2 ** 63 - 1
    _ignore_failures_after_transaction_timeout = False
    _transaction_timeout_warning_ratio = -1.0

    def set_transaction_timeout(self, transaction_timeout: int) -> "TwoPhaseCommitSinkFunction":
        """Sets the external system's transaction timeout (ms): what
        :meth:`ignore_failures_after_transaction_timeout` and
        :meth:`enable_transaction_timeout_warnings` compare with.

        :return: This object.
        """
        if isinstance(transaction_timeout, bool) or not isinstance(transaction_timeout, int) \
                or transaction_timeout <= 0:
            raise FlinkPyError(f"transaction_timeout must be a positive int (ms), got "
                               f"{transaction_timeout!r}")
        self._transaction_timeout = transaction_timeout
        return self

    def ignore_failures_after_transaction_timeout(self) -> "TwoPhaseCommitSinkFunction":
        """After a restore, a failing commit of a transaction older than the transaction
        timeout is logged instead of failing the job (the external system has dropped it:
        its data is lost either way).

        :return: This object.
        """
        self._ignore_failures_after_transaction_timeout = True
        return self

    def enable_transaction_timeout_warnings(self, warning_ratio: float
                                            ) -> "TwoPhaseCommitSinkFunction":
        """Logs a warning when a transaction is committed after ``warning_ratio`` of the
        transaction timeout has passed since it began.

        :param warning_ratio: in [0, 1].
        :return: This object.
        """
        if isinstance(warning_ratio, bool) or not isinstance(warning_ratio, (int, float)) \
                or not 0 <= warning_ratio <= 1:
            raise FlinkPyError(f"warning_ratio must be a number in [0, 1], got {warning_ratio!r}")
        self._transaction_timeout_warning_ratio = float(warning_ratio)
        return self

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # The sink operator calls invoke(value, context) (the SinkFunction contract); Flink's
        # subclasses implement invoke(transaction, value, context). The subclass's invoke is
        # kept as _invoke_in_transaction and invoke accepts both forms.
        super().__init_subclass__(**kwargs)
        user_invoke = cls.__dict__.get("invoke")
        if user_invoke is None or getattr(user_invoke, "_routes_to_transaction", False):
            return
        cls._invoke_in_transaction = user_invoke  # type: ignore[attr-defined]

        def invoke(self: "TwoPhaseCommitSinkFunction", *args: Any) -> None:
            if len(args) == 2:  # (value, context): into the open transaction
                self._invoke_in_transaction(  # type: ignore[attr-defined]
                    self._current_transaction_holder.handle,  # type: ignore[union-attr]
                    *args)
            else:
                self._invoke_in_transaction(*args)  # type: ignore[attr-defined]

        invoke._routes_to_transaction = True  # type: ignore[attr-defined]
        invoke.__doc__ = user_invoke.__doc__
        cls.invoke = invoke  # type: ignore[method-assign]

    # -- what subclasses implement ----------------------------------------------------------

    @abc.abstractmethod
    def begin_transaction(self) -> TXN:
        """Starts a new transaction and returns its handle."""

    @abc.abstractmethod
    def invoke(self, transaction: TXN, value: Any,  # type: ignore[override]
               context: SinkFunction.Context) -> None:
        """Writes ``value`` into ``transaction``. The sink operator calls
        ``invoke(value, context)``, which goes to the open transaction."""

    @abc.abstractmethod
    def pre_commit(self, transaction: TXN) -> None:
        """Pre-commits ``transaction`` (at the checkpoint barrier): afterwards it must be
        possible to commit it, also from a restored copy of its handle."""

    @abc.abstractmethod
    def commit(self, transaction: TXN) -> None:
        """Commits a pre-committed transaction; must be idempotent (it is retried after a
        failure between the checkpoint's completion and the commit)."""

    @abc.abstractmethod
    def abort(self, transaction: TXN) -> None:
        """Aborts a transaction."""

    def recover_and_commit(self, transaction: TXN) -> None:
        """Commits a restored pre-committed transaction (default: :meth:`commit`)."""
        self.commit(transaction)

    def recover_and_abort(self, transaction: TXN) -> None:
        """Aborts the restored open transaction (default: :meth:`abort`)."""
        self.abort(transaction)

    def initialize_user_context(self) -> Optional[CONTEXT]:
        """The user context of a fresh start (kept in state with the transactions)."""
        return None

    def finish_recovering_context(self, handled_transactions: List[TXN]) -> None:
        """Called after a restore, once the restored transactions were committed or
        aborted, when a user context was restored."""

    # -- the sink function -----------------------------------------------------------------

    def get_user_context(self) -> Optional[CONTEXT]:
        """The user context (see :meth:`initialize_user_context`)."""
        return self._user_context

    def current_transaction(self) -> Optional[TXN]:
        """The handle of the open transaction, or None before ``initialize_state``."""
        holder = self._current_transaction_holder
        return None if holder is None else holder.handle

    def pending_transactions(self) -> List[Tuple[int, TXN]]:
        """The pre-committed transactions not yet committed, as (checkpoint id, handle)."""
        return [(cid, h.handle) for cid, h in self._pending_commit_transactions.items()]

    def initialize_state(self, context: FunctionInitializationContext) -> None:
        """Restores the transactions: those the restored checkpoint pre-committed are
        committed (:meth:`recover_and_commit`), the open one aborted
        (:meth:`recover_and_abort`); then a new transaction begins."""
        self._state = context.get_operator_state_store().get_list_state(
            ListStateDescriptor(self.STATE_NAME))
        recovered_user_context = False
        if context.is_restored():
            for restored in list(self._state.get()):
                self._user_context = restored.context
                handled: List[TXN] = []
                for checkpoint_id, holder in restored.pending_commit_transactions:
                    LOG.info("%s committing transaction %r of restored checkpoint %d",
                             type(self).__name__, holder.handle, checkpoint_id)
                    self._recover_and_commit_internal(holder)
                    handled.append(holder.handle)
                self.recover_and_abort(restored.pending_transaction.handle)
                handled.append(restored.pending_transaction.handle)
                if restored.context is not None:
                    self.finish_recovering_context(handled)
                    recovered_user_context = True
        if not recovered_user_context:
            self._user_context = self.initialize_user_context()
        # (re)set here too, so that a subclass whose __init__ skipped ours still works
        self._pending_commit_transactions = {}
        self._current_transaction_holder = self._begin_transaction_internal()

    def snapshot_state(self, context: FunctionSnapshotContext) -> None:
        """At the barrier: pre-commits the open transaction, keeps it as pending for this
        checkpoint, begins the next one and writes all of them into the list state."""
        holder = getattr(self, "_current_transaction_holder", None)
        if holder is None:
            raise FlinkPyError(
                f"{type(self).__name__}: no transaction at checkpoint "
                f"{context.get_checkpoint_id()}; initialize_state was not called")
        checkpoint_id = context.get_checkpoint_id()
        self.pre_commit(holder.handle)
        self._pending_commit_transactions[checkpoint_id] = holder
        self._current_transaction_holder = self._begin_transaction_internal()
        self._state.update([_TwoPhaseCommitState(
            self._current_transaction_holder, list(self._pending_commit_transactions.items()),
            self._user_context)])

    def notify_checkpoint_complete(self, checkpoint_id: int) -> None:
        """Commits every pending transaction pre-committed at ``checkpoint_id`` or before
        (an earlier notification may have been lost). Every one is tried; the first failure
        is raised afterwards."""
        first_error: Optional[BaseException] = None
        for pending_id in list(self._pending_commit_transactions):
            if pending_id > checkpoint_id:
                continue
            holder = self._pending_commit_transactions.pop(pending_id)
            LOG.debug("%s committing transaction %r of checkpoint %d", type(self).__name__,
                      holder.handle, pending_id)
            self._log_warning_if_timeout_almost_reached(holder)
            try:
                self.commit(holder.handle)
            except Exception as exc:  # every due transaction gets its commit; first error wins
                if first_error is None:
                    first_error = exc
        if first_error is not None:
            raise FlinkPyError(
                "Committing one of transactions failed, logging first encountered failure"
            ) from first_error

    def close(self) -> None:
        """Aborts the open transaction (its records belong to no completed checkpoint)."""
        holder = getattr(self, "_current_transaction_holder", None)
        self._current_transaction_holder = None
        if holder is not None:
            self.abort(holder.handle)

    def _recover_and_commit_internal(self, holder: TransactionHolder) -> None:
        self._log_warning_if_timeout_almost_reached(holder)
        try:
            self.recover_and_commit(holder.handle)
        except Exception:
            elapsed = _now_millis() - holder.transaction_start_time
            if not (self._ignore_failures_after_transaction_timeout
                    and elapsed > self._transaction_timeout):
                raise  # the transaction's data would be lost: fail the restore
            LOG.error(
                "Error while committing transaction %r. Transaction has been open for longer "
                "than the transaction timeout (%d ms). Commit will not be attempted again. "
                "Data loss might have occurred.", holder.handle, self._transaction_timeout,
                exc_info=True)

    def _log_warning_if_timeout_almost_reached(self, holder: TransactionHolder) -> None:
        ratio = self._transaction_timeout_warning_ratio
        if ratio < 0:
            return
        elapsed = _now_millis() - holder.transaction_start_time
        if elapsed > ratio * self._transaction_timeout:
            LOG.warning(
                "Transaction %r has been open for %d ms. This is close to or even exceeding "
                "the transaction timeout of %d ms.", holder.handle, elapsed,
                self._transaction_timeout)

    def _begin_transaction_internal(self) -> TransactionHolder:
        return TransactionHolder(self.begin_transaction(), _now_millis())


class CheckpointCommitter(abc.ABC):
    """Records which checkpoints a :class:`GenericWriteAheadSink` subtask has sent, in a
    store that survives failures (a table, a file), so that a restored subtask does not send
    them again (Flink's ``CheckpointCommitter``)."""

    job_id: Optional[str] = None
    operator_id: Optional[str] = None

    def open(self) -> None:
        """Opens the connection to the store."""

    def close(self) -> None:
        """Closes the connection to the store."""

    @abc.abstractmethod
    def commit_checkpoint(self, subtask_idx: int, checkpoint_id: int) -> None:
        """Marks checkpoint ``checkpoint_id`` of subtask ``subtask_idx`` as sent."""

    @abc.abstractmethod
    def is_checkpoint_committed(self, subtask_idx: int, checkpoint_id: int) -> bool:
        """Whether checkpoint ``checkpoint_id`` of subtask ``subtask_idx`` was sent."""


@dataclass
class _PendingCheckpoint:
    """The records of one checkpoint of one subtask, waiting for the checkpoint to
    complete."""

    checkpoint_id: int
    subtask_id: int
    timestamp: int
    values: List[Any] = field(default_factory=list)


class GenericWriteAheadSink(SinkFunction, CheckpointedFunction, CheckpointListener):
    """The base of sinks that send the records of a checkpoint only once it completed, to
    systems without transactions (a write-ahead log in operator state).

    Implement :meth:`send_values`; return False when the values could not be sent, and they
    are sent again with the next completed checkpoint.

    :param committer: records which checkpoints were sent; without one, a restored subtask
        may send a checkpoint's values again (at least once).
    """

    #: Flink's name of the list state the pending checkpoints are kept in
    STATE_NAME = "pending-checkpoints"

    def __init__(self, committer: Optional[CheckpointCommitter] = None) -> None:
        if committer is not None and not isinstance(committer, CheckpointCommitter):
            raise FlinkPyError(f"committer must be a CheckpointCommitter, got {committer!r}")
        self.committer = committer
        self._buffer: List[Any] = []
        self._pending: List[_PendingCheckpoint] = []
        self._state: Any = None
        self._subtask_index = 0

    @abc.abstractmethod
    def send_values(self, values: Iterable[Any], checkpoint_id: int, timestamp: int) -> bool:
        """Writes the values of a completed checkpoint to the external system.

        :param values: the records of that checkpoint, in order.
        :param checkpoint_id: the checkpoint.
        :param timestamp: the checkpoint's timestamp (ms).
        :return: True if they were written; False to retry with the next checkpoint.
        """

    def initialize_state(self, context: FunctionInitializationContext) -> None:
        """Restores the checkpoints whose values were not yet sent."""
        self._state = context.get_operator_state_store().get_list_state(
            ListStateDescriptor(self.STATE_NAME))
        self._pending = sorted(self._state.get() if context.is_restored() else [],
                               key=lambda p: (p.checkpoint_id, p.subtask_id))
        self._buffer = []

    def open(self, runtime_context: RuntimeContext) -> None:
        self._subtask_index = runtime_context.get_index_of_this_subtask()
        if self.committer is not None:
            self.committer.open()

    def invoke(self, value: Any, context: SinkFunction.Context) -> None:
        """Buffers the record with the checkpoint to come."""
        self._buffer.append(value)

    def snapshot_state(self, context: FunctionSnapshotContext) -> None:
        """The records since the last barrier become this checkpoint's pending values."""
        self._pending.append(_PendingCheckpoint(
            context.get_checkpoint_id(), self._subtask_index, context.get_checkpoint_timestamp(),
            self._buffer))
        self._buffer = []
        self._state.update(list(self._pending))

    def notify_checkpoint_complete(self, checkpoint_id: int) -> None:
        """Sends the values of every pending checkpoint up to ``checkpoint_id`` (unless the
        committer says it was sent) and drops those sent."""
        remaining = []
        for pending in self._pending:
            if pending.checkpoint_id > checkpoint_id:
                remaining.append(pending)
                continue
            committer = self.committer
            if committer is not None and committer.is_checkpoint_committed(
                    pending.subtask_id, pending.checkpoint_id):
                continue
            if self.send_values(pending.values, pending.checkpoint_id, pending.timestamp):
                if committer is not None:
                    committer.commit_checkpoint(pending.subtask_id, pending.checkpoint_id)
            else:
                remaining.append(pending)  # retried with the next completed checkpoint
        self._pending = remaining

    def pending_checkpoint_ids(self) -> List[int]:
        """The checkpoints whose values wait to be sent, in order."""
        return [p.checkpoint_id for p in self._pending]

    def close(self) -> None:
        if self.committer is not None:
            self.committer.close()
