"""What a JobMaster's mail costs: the JobView is rebuilt after every mail, so a mail that
changes nothing must cost little, and an outbound call that succeeds with nothing to do sends
no mail at all (a checkpoint is one trigger per source and one confirmation per task:
docs/scaling.md). The JobMaster is not started: its calls and views are driven from here."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any, Callable, List

import pytest

from flink_py.datastream import StreamExecutionEnvironment
from flink_py.runtime.execution.execution_state import ExecutionState
from flink_py.runtime.jobmaster.job_master import JobMaster
from flink_py.runtime.resourcemanager.resource_manager import ResourceManager

S = ExecutionState


def _sink(value: Any, context: Any = None) -> None:
    pass


def _master() -> JobMaster:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(3)
    env.from_sequence(1, 10).key_by(lambda x: x % 4).map(lambda x: x).add_sink(_sink)
    return JobMaster(env.get_job_graph("view cost"), ResourceManager())


class _CallingThread:
    """Stands in for the JobMaster's RPC pool: runs each call at once, so that its outcome
    (and any mail it sends) is there when ``submit`` returns."""

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args))
        except Exception as exc:  # the call's failure is its outcome
            future.set_exception(exc)
        return future


def test_a_view_reuses_what_did_not_change_and_shows_what_did() -> None:
    master = _master()
    first = master._build_view()
    again = master._build_view()
    assert again is not first
    assert all(a is b for a, b in zip(again.vertices, first.vertices))

    vertex = master.execution_graph.all_execution_vertices[4]  # the second vertex's second
    vertex.current_execution.transition_to(S.SCHEDULED)
    changed = master._build_view()
    same, other = changed.vertices
    assert same is again.vertices[0], "the vertex with no change is the same view"
    assert other is not again.vertices[1]
    assert other.subtasks[1].state is S.SCHEDULED
    assert other.subtasks[1].state_timestamps is vertex.current_execution.state_timestamps
    assert other.subtasks[0] is again.vertices[1].subtasks[0]
    assert other.subtasks[2] is again.vertices[1].subtasks[2]

    old_attempt = vertex.current_execution.attempt_id
    vertex.current_execution.transition_to(S.FAILED)
    vertex.new_attempt()
    restarted = master._build_view().vertices[1].subtasks[1]
    assert restarted.attempt_id is not old_attempt
    assert (restarted.attempt_number, restarted.state) == (1, S.CREATED)


@pytest.mark.parametrize("outcome", ["success", "success handled", "failure"])
def test_only_a_call_with_something_to_do_sends_a_mail(outcome: str) -> None:
    master = _master()
    master._rpc = _CallingThread()  # type: ignore[assignment]
    mails: List[Callable[[], None]] = []
    master.main_thread_executor.execute = mails.append  # type: ignore[method-assign]
    handled: List[object] = []

    def call() -> None:
        if outcome == "failure":
            raise ConnectionError("unreachable")

    if outcome == "success":
        master._call(call)
        assert mails == [], "a call that succeeds with nothing to do sends no mail"
        return
    master._call(call, on_failure=handled.append, on_success=lambda: handled.append("done"))
    assert len(mails) == 1 and handled == []
    mails[0]()
    [result] = handled
    if outcome == "success handled":
        assert result == "done"
    else:
        assert isinstance(result, ConnectionError)
