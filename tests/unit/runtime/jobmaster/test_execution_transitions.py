"""The Execution lifecycle table: legal moves, ignored late reports, illegal ones."""

from __future__ import annotations

import pytest

from flink_py.runtime.execution.execution_state import ExecutionState as S
from flink_py.runtime.jobmaster.execution import (
    TRANSITIONS, Execution, IllegalExecutionStateTransition, is_legal, next_state)


def test_every_state_has_a_row_and_terminal_states_lead_nowhere() -> None:
    assert set(TRANSITIONS) == set(S)
    for state in S:
        if state.is_terminal:
            assert TRANSITIONS[state] == frozenset()
        else:
            assert S.FAILED in TRANSITIONS[state], state


def test_the_happy_path_is_legal() -> None:
    path = [S.CREATED, S.SCHEDULED, S.DEPLOYING, S.INITIALIZING, S.RUNNING, S.FINISHED]
    for a, b in zip(path, path[1:]):
        assert is_legal(a, b), (a, b)


def test_cancelling_paths_are_legal() -> None:
    assert is_legal(S.RUNNING, S.CANCELING) and is_legal(S.CANCELING, S.CANCELED)
    assert is_legal(S.CREATED, S.CANCELED) and is_legal(S.SCHEDULED, S.CANCELED)


@pytest.mark.parametrize("current,target", [
    (S.RUNNING, S.DEPLOYING), (S.CREATED, S.RUNNING), (S.SCHEDULED, S.RUNNING),
    (S.CANCELING, S.SCHEDULED), (S.RUNNING, S.CREATED)])
def test_going_backwards_or_skipping_deployment_is_illegal(current: S, target: S) -> None:
    with pytest.raises(IllegalExecutionStateTransition, match=f"{current.name} -> {target.name}"):
        next_state(current, target)


def test_reports_for_terminal_attempts_change_nothing() -> None:
    for terminal in (S.FINISHED, S.CANCELED, S.FAILED):
        for reported in S:
            assert next_state(terminal, reported) is None


def test_late_reports_of_a_cancelling_attempt_are_ignored_and_finishing_counts_as_cancelled() -> None:
    assert next_state(S.CANCELING, S.RUNNING) is None
    assert next_state(S.CANCELING, S.INITIALIZING) is None
    assert next_state(S.CANCELING, S.FINISHED) is S.CANCELED
    assert next_state(S.CANCELING, S.FAILED) is S.FAILED


def test_the_same_state_again_changes_nothing() -> None:
    assert next_state(S.RUNNING, S.RUNNING) is None


def test_an_execution_records_when_it_entered_each_state_and_refuses_illegal_moves() -> None:
    execution = Execution()
    execution.transition_to(S.SCHEDULED)
    execution.transition_to(S.DEPLOYING)
    assert set(execution.state_timestamps) == {"CREATED", "SCHEDULED", "DEPLOYING"}
    with pytest.raises(IllegalExecutionStateTransition):
        execution.transition_to(S.CREATED)
    assert execution.state is S.DEPLOYING
