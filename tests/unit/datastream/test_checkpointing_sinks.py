"""TwoPhaseCommitSinkFunction and GenericWriteAheadSink, driven through their methods as the
sink operator drives them (initialize_state, open, invoke, snapshot_state at the barrier,
notify_checkpoint_complete), with the real OperatorStateStore; a "failure" is a new sink
instance restored from the pickled operator state of a checkpoint."""

from __future__ import annotations

import pickle
from typing import Any, Dict, List, Optional, Set, Tuple

import pytest

from flink_py.datastream import (
    CheckpointCommitter, CheckpointListener, CheckpointedFunction, GenericWriteAheadSink,
    SinkFunction, TwoPhaseCommitSinkFunction)
from flink_py.errors import FlinkPyError
from flink_py.runtime.state.operator_state_backend import (
    OperatorStateStore, StateInitializationContext, StateSnapshotContext, redistribute)


class _Context(SinkFunction.Context):
    def current_processing_time(self) -> int:
        return 0

    def current_watermark(self) -> int:
        return 0

    def timestamp(self) -> Optional[int]:
        return None


class _RuntimeContext:
    def __init__(self, index: int = 0) -> None:
        self.index = index

    def get_index_of_this_subtask(self) -> int:
        return self.index


CTX = _Context()


class ExternalSystem:
    """A transactional store: staged writes per transaction id, visible once committed."""

    def __init__(self) -> None:
        self.staged: Dict[int, List[Any]] = {}
        self.committed: List[Any] = []
        self.committed_ids: List[int] = []
        self.aborted: List[int] = []
        self.next_id = 0
        self.fail_commits = False


SYSTEM = ExternalSystem()


class StagingSink(TwoPhaseCommitSinkFunction):
    """Transactions are ids; records are staged under them in the shared SYSTEM."""

    def begin_transaction(self) -> int:
        SYSTEM.next_id += 1
        SYSTEM.staged[SYSTEM.next_id] = []
        return SYSTEM.next_id

    def invoke(self, transaction, value, context) -> None:
        SYSTEM.staged[transaction].append(value)

    def pre_commit(self, transaction) -> None:
        pass

    def commit(self, transaction) -> None:
        if SYSTEM.fail_commits:
            raise IOError(f"commit of {transaction} failed")
        if transaction in SYSTEM.committed_ids:
            return  # idempotent, as Flink requires
        SYSTEM.committed.extend(SYSTEM.staged.get(transaction, []))
        SYSTEM.committed_ids.append(transaction)

    def abort(self, transaction) -> None:
        SYSTEM.aborted.append(transaction)
        SYSTEM.staged.pop(transaction, None)


@pytest.fixture(autouse=True)
def _fresh_system():
    global SYSTEM
    SYSTEM = ExternalSystem()
    yield


def _start(sink: Any, restored: Optional[dict] = None, index: int = 0
           ) -> OperatorStateStore:
    store = OperatorStateStore(restored)
    sink.initialize_state(StateInitializationContext(store, None, restored is not None))
    sink.open(_RuntimeContext(index))
    return store


def _checkpoint(sink: Any, store: OperatorStateStore, checkpoint_id: int,
                timestamp: int = 1000) -> dict:
    sink.snapshot_state(StateSnapshotContext(checkpoint_id, timestamp))
    # What a checkpoint keeps is bytes: restore from a pickled copy, never the live objects.
    return pickle.loads(pickle.dumps(store.snapshot()))


def test_two_phase_commit_sinks_are_checkpointed_functions_and_listeners():
    assert issubclass(TwoPhaseCommitSinkFunction, SinkFunction)
    assert issubclass(TwoPhaseCommitSinkFunction, CheckpointedFunction)
    assert issubclass(TwoPhaseCommitSinkFunction, CheckpointListener)
    assert issubclass(GenericWriteAheadSink, CheckpointListener)


def test_records_become_visible_only_when_their_checkpoint_completes():
    sink = StagingSink()
    store = _start(sink)
    sink.invoke("a", CTX)
    sink.invoke("b", CTX)
    _checkpoint(sink, store, 1)
    sink.invoke("c", CTX)
    assert SYSTEM.committed == []
    sink.notify_checkpoint_complete(1)
    assert SYSTEM.committed == ["a", "b"]
    assert sink.pending_transactions() == []


def test_a_lost_notification_is_made_up_by_the_next_one():
    sink = StagingSink()
    store = _start(sink)
    sink.invoke("a", CTX)
    _checkpoint(sink, store, 1)
    sink.invoke("b", CTX)
    _checkpoint(sink, store, 2)
    sink.invoke("c", CTX)
    _checkpoint(sink, store, 3)
    sink.notify_checkpoint_complete(2)  # 1's notification was lost
    assert SYSTEM.committed == ["a", "b"]
    assert [cid for cid, _ in sink.pending_transactions()] == [3]


def test_an_aborted_checkpoints_transaction_is_committed_with_a_later_one():
    sink = StagingSink()
    store = _start(sink)
    sink.invoke("a", CTX)
    _checkpoint(sink, store, 1)
    sink.notify_checkpoint_aborted(1)
    sink.invoke("b", CTX)
    _checkpoint(sink, store, 2)
    sink.notify_checkpoint_complete(2)
    assert SYSTEM.committed == ["a", "b"]


def test_on_restore_the_checkpoints_pre_committed_transactions_commit_and_the_open_one_aborts():
    sink = StagingSink()
    store = _start(sink)
    sink.invoke("a", CTX)
    state = _checkpoint(sink, store, 1)  # pre-commits the transaction holding "a"
    open_transaction = sink.current_transaction()
    sink.invoke("lost", CTX)  # after the barrier: replayed by the source after the failure
    # the job fails before the notification of checkpoint 1

    restored = StagingSink()
    _start(restored, state)
    assert SYSTEM.committed == ["a"]
    assert open_transaction in SYSTEM.aborted
    assert "lost" not in SYSTEM.committed
    assert restored.current_transaction() not in (None, open_transaction)


def test_a_restored_sink_keeps_writing_and_committing():
    sink = StagingSink()
    store = _start(sink)
    sink.invoke("a", CTX)
    state = _checkpoint(sink, store, 1)
    restored = StagingSink()
    store2 = _start(restored, state)
    restored.invoke("b", CTX)
    _checkpoint(restored, store2, 2)
    restored.notify_checkpoint_complete(2)
    assert SYSTEM.committed == ["a", "b"]


def test_a_commit_repeated_after_restore_is_idempotent():
    sink = StagingSink()
    store = _start(sink)
    sink.invoke("a", CTX)
    state = _checkpoint(sink, store, 1)
    sink.notify_checkpoint_complete(1)  # committed, then the job fails
    _start(StagingSink(), state)  # commits the same transaction again
    assert SYSTEM.committed == ["a"]


def test_restoring_at_a_different_parallelism_handles_every_old_subtasks_transactions():
    states = []
    for index, value in enumerate(["x", "y"]):
        sink = StagingSink()
        store = _start(sink, index=index)
        sink.invoke(value, CTX)
        states.append(_checkpoint(sink, store, 1))
    (merged,) = redistribute(states, 1)
    _start(StagingSink(), merged)
    assert sorted(SYSTEM.committed) == ["x", "y"]
    assert len(SYSTEM.aborted) == 2  # each old subtask's open transaction


def test_a_failing_commit_is_raised_after_every_due_transaction_was_tried():
    sink = StagingSink()
    store = _start(sink)
    sink.invoke("a", CTX)
    _checkpoint(sink, store, 1)
    sink.invoke("b", CTX)
    _checkpoint(sink, store, 2)
    SYSTEM.fail_commits = True
    with pytest.raises(FlinkPyError, match="Committing one of transactions failed") as info:
        sink.notify_checkpoint_complete(2)
    assert isinstance(info.value.__cause__, IOError)
    assert sink.pending_transactions() == []


def test_close_aborts_the_open_transaction():
    sink = StagingSink()
    _start(sink)
    sink.invoke("a", CTX)
    transaction = sink.current_transaction()
    sink.close()
    assert SYSTEM.aborted == [transaction]
    assert SYSTEM.committed == []


def test_snapshot_before_initialize_state_is_an_error():
    with pytest.raises(FlinkPyError, match="no transaction at checkpoint 1"):
        StagingSink().snapshot_state(StateSnapshotContext(1, 0))


class ContextSink(StagingSink):
    """Keeps a user context (a counter of restores) through the state."""

    def initialize_user_context(self):
        return {"restores": 0}

    def finish_recovering_context(self, handled_transactions):
        self.get_user_context()["restores"] += 1
        self.handled = list(handled_transactions)


def test_the_user_context_is_kept_and_finished_on_restore():
    sink = ContextSink()
    store = _start(sink)
    assert sink.get_user_context() == {"restores": 0}
    sink.invoke("a", CTX)
    state = _checkpoint(sink, store, 1)
    restored = ContextSink()
    _start(restored, state)
    assert restored.get_user_context() == {"restores": 1}
    assert len(restored.handled) == 2  # the committed one and the aborted one


# -- GenericWriteAheadSink ---------------------------------------------------------------------


SENT: List[Tuple[int, List[Any]]] = []


class ListCommitter(CheckpointCommitter):
    """Committed checkpoints in a set that outlives the sink instances (as a table would)."""

    def __init__(self, committed: Set[Tuple[int, int]]) -> None:
        self.committed = committed

    def commit_checkpoint(self, subtask_idx: int, checkpoint_id: int) -> None:
        self.committed.add((subtask_idx, checkpoint_id))

    def is_checkpoint_committed(self, subtask_idx: int, checkpoint_id: int) -> bool:
        return (subtask_idx, checkpoint_id) in self.committed


class RecordingSink(GenericWriteAheadSink):
    def __init__(self, committer=None, accept: bool = True) -> None:
        super().__init__(committer)
        self.accept = accept

    def send_values(self, values, checkpoint_id, timestamp) -> bool:
        if not self.accept:
            return False
        SENT.append((checkpoint_id, list(values)))
        return True


@pytest.fixture(autouse=True)
def _fresh_sent():
    SENT.clear()
    yield


def test_write_ahead_values_are_sent_only_when_their_checkpoint_completes():
    sink = RecordingSink()
    store = _start(sink)
    sink.invoke(1, CTX)
    sink.invoke(2, CTX)
    _checkpoint(sink, store, 1)
    sink.invoke(3, CTX)
    assert SENT == []
    sink.notify_checkpoint_complete(1)
    assert SENT == [(1, [1, 2])]
    assert sink.pending_checkpoint_ids() == []


def test_values_that_could_not_be_sent_are_retried_with_the_next_checkpoint():
    sink = RecordingSink(accept=False)
    store = _start(sink)
    sink.invoke(1, CTX)
    _checkpoint(sink, store, 1)
    sink.notify_checkpoint_complete(1)
    assert sink.pending_checkpoint_ids() == [1]
    sink.accept = True
    sink.invoke(2, CTX)
    _checkpoint(sink, store, 2)
    sink.notify_checkpoint_complete(2)
    assert SENT == [(1, [1]), (2, [2])]


def test_a_restored_write_ahead_sink_sends_what_its_checkpoint_held():
    sink = RecordingSink()
    store = _start(sink)
    sink.invoke("a", CTX)
    state = _checkpoint(sink, store, 1)
    sink.invoke("lost", CTX)  # after the barrier: replayed after the failure
    restored = RecordingSink()
    store2 = _start(restored, state)
    assert restored.pending_checkpoint_ids() == [1]
    restored.invoke("b", CTX)
    _checkpoint(restored, store2, 2)
    restored.notify_checkpoint_complete(2)
    assert SENT == [(1, ["a"]), (2, ["b"])]


def test_the_committer_keeps_a_restored_sink_from_sending_a_checkpoint_twice():
    committed: Set[Tuple[int, int]] = set()
    sink = RecordingSink(ListCommitter(committed))
    store = _start(sink, index=3)
    sink.invoke("a", CTX)
    state = _checkpoint(sink, store, 7, timestamp=42)
    sink.notify_checkpoint_complete(7)
    assert committed == {(3, 7)}
    # The job fails after sending but before checkpoint 8: checkpoint 7 is restored.
    restored = RecordingSink(ListCommitter(committed))
    store2 = _start(restored, state, index=3)
    _checkpoint(restored, store2, 8)
    restored.notify_checkpoint_complete(8)
    assert SENT == [(7, ["a"]), (8, [])]


def test_a_committer_must_be_a_checkpoint_committer():
    with pytest.raises(FlinkPyError, match="must be a CheckpointCommitter"):
        RecordingSink(committer=object())


class NoSuperInitSink(StagingSink):
    def __init__(self, prefix: str) -> None:  # forgets super().__init__(), as users do
        self.prefix = prefix


def test_a_subclass_that_skips_the_base_init_still_works():
    sink = NoSuperInitSink("p")
    store = _start(sink)
    sink.invoke("a", CTX)
    _checkpoint(sink, store, 1)
    sink.notify_checkpoint_complete(1)
    assert SYSTEM.committed == ["a"]


class FailingRecoverySink(StagingSink):
    def recover_and_commit(self, transaction) -> None:
        raise IOError("the external system dropped the transaction")


def _state_with_an_old_transaction() -> dict:
    sink = StagingSink()
    store = _start(sink)
    sink.invoke("a", CTX)
    state = _checkpoint(sink, store, 1)
    for _, holder in state["state"][1][0].pending_commit_transactions:
        holder.transaction_start_time -= 60_000  # began a minute ago
    return state


def test_a_failing_recovery_commit_fails_the_restore():
    with pytest.raises(IOError, match="dropped"):
        _start(FailingRecoverySink(), _state_with_an_old_transaction())


def test_a_failing_recovery_commit_after_the_transaction_timeout_can_be_ignored(caplog):
    sink = FailingRecoverySink().set_transaction_timeout(1000)
    sink.ignore_failures_after_transaction_timeout()
    _start(sink, _state_with_an_old_transaction())
    assert "Data loss might have occurred" in caplog.text
    assert sink.current_transaction() is not None


def test_a_commit_close_to_the_transaction_timeout_is_warned_about(caplog):
    sink = StagingSink().set_transaction_timeout(1000)
    sink.enable_transaction_timeout_warnings(0.5)
    store = _start(sink)
    sink.invoke("a", CTX)
    _checkpoint(sink, store, 1)
    for _, holder in sink._pending_commit_transactions.items():
        holder.transaction_start_time -= 900
    sink.notify_checkpoint_complete(1)
    assert "close to or even exceeding the transaction timeout of 1000 ms" in caplog.text
    assert SYSTEM.committed == ["a"]
