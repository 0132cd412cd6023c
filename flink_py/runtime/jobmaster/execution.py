"""Execution: one attempt of one subtask, and the table of its legal state transitions.

Flink's ``Execution`` lifecycle (``ExecutionState``)::

    CREATED -> SCHEDULED -> DEPLOYING -> INITIALIZING -> RUNNING -> FINISHED
                                   \\____________\\___________\\-> CANCELING -> CANCELED
                                                            (any non-terminal) -> FAILED

The table is pure data with a pure function over it (``next_state``), checkable like dask's
``validate_state()``: the JobMaster asks it what a task's report means for the current attempt
and never changes a state without it. A report that the table calls illegal is a bug (in the
JobMaster or a TaskExecutor); the JobMaster fails the job with the message it carries.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, Mapping, Optional

from flink_py.errors import FlinkPyError
from flink_py.graph.ids import ExecutionAttemptID
from flink_py.runtime.execution.execution_state import ExecutionState

S = ExecutionState

#: For each state, the states an attempt may move to from it (terminal states: none).
TRANSITIONS: Mapping[ExecutionState, FrozenSet[ExecutionState]] = {
    S.CREATED: frozenset({S.SCHEDULED, S.CANCELED, S.FAILED}),
    S.SCHEDULED: frozenset({S.DEPLOYING, S.CANCELED, S.FAILED}),
    # a fast task may report FINISHED before the JobMaster saw it RUNNING
    S.DEPLOYING: frozenset({S.INITIALIZING, S.RUNNING, S.FINISHED, S.CANCELING, S.CANCELED,
                            S.FAILED}),
    S.INITIALIZING: frozenset({S.RUNNING, S.FINISHED, S.CANCELING, S.CANCELED, S.FAILED}),
    S.RUNNING: frozenset({S.FINISHED, S.CANCELING, S.CANCELED, S.FAILED}),
    S.CANCELING: frozenset({S.CANCELED, S.FAILED}),
    S.RECONCILING: frozenset({S.INITIALIZING, S.RUNNING, S.FINISHED, S.CANCELING,
                              S.CANCELED, S.FAILED}),
    S.FINISHED: frozenset(),
    S.CANCELED: frozenset(),
    S.FAILED: frozenset(),
}

#: Reports a CANCELING attempt may still send that say nothing new: the task had not yet seen
#: the cancel (it reaches the states it was on its way to), or it finished first (Flink takes
#: a task that finishes while being cancelled as cancelled).
_LATE_WHILE_CANCELING: Mapping[ExecutionState, Optional[ExecutionState]] = {
    S.DEPLOYING: None, S.INITIALIZING: None, S.RUNNING: None, S.FINISHED: S.CANCELED,
}


class IllegalExecutionStateTransition(FlinkPyError):
    """A state change the lifecycle does not allow: a bug, which fails the job."""


def is_legal(current: ExecutionState, target: ExecutionState) -> bool:
    """Whether an attempt in ``current`` may move to ``target``."""
    return target in TRANSITIONS[current]


def next_state(current: ExecutionState, reported: ExecutionState) -> Optional[ExecutionState]:
    """What a task's report of ``reported`` means for an attempt in ``current``.

    :return: the state to move to, or None when the report changes nothing (a report for a
        terminal attempt, the same state again, or a late report of a cancelled attempt).
    :raises IllegalExecutionStateTransition: when the lifecycle forbids the move.

    >>> next_state(ExecutionState.DEPLOYING, ExecutionState.RUNNING).name
    'RUNNING'
    >>> next_state(ExecutionState.CANCELING, ExecutionState.FINISHED).name
    'CANCELED'
    >>> next_state(ExecutionState.FAILED, ExecutionState.RUNNING) is None
    True
    """
    if current.is_terminal or current is reported:
        return None
    if current is S.CANCELING and reported in _LATE_WHILE_CANCELING:
        return _LATE_WHILE_CANCELING[reported]
    if not is_legal(current, reported):
        raise IllegalExecutionStateTransition(
            f"illegal execution state transition {current.name} -> {reported.name}; allowed "
            f"from {current.name}: "
            f"{sorted(s.name for s in TRANSITIONS[current]) or 'none (terminal)'}")
    return reported


def validate_transition(current: ExecutionState, target: ExecutionState) -> None:
    """Raises IllegalExecutionStateTransition unless ``current -> target`` is legal."""
    if not is_legal(current, target):
        raise IllegalExecutionStateTransition(
            f"illegal execution state transition {current.name} -> {target.name}")


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class Execution:
    """One attempt of a subtask: its id, number, state, where it runs, and when it got there.

    Changed only on the JobMaster's main thread, through ``transition_to``.
    """

    attempt_number: int = 0
    attempt_id: ExecutionAttemptID = field(default_factory=ExecutionAttemptID)
    state: ExecutionState = ExecutionState.CREATED
    #: ExecutionState name -> when the attempt entered it (wall clock, ms)
    state_timestamps: Dict[str, int] = field(default_factory=dict)
    #: the SlotAllocation the attempt is deployed into (None until assigned)
    assigned_slot: Optional[Any] = None
    #: why it failed, when it did (a SerializedError)
    failure: Optional[Any] = None

    def __post_init__(self) -> None:
        self.state_timestamps.setdefault(self.state.name, _now_ms())

    def transition_to(self, target: ExecutionState) -> None:
        """Moves to ``target``; raises IllegalExecutionStateTransition if the table forbids it."""
        validate_transition(self.state, target)
        self.state = target
        # replaced, not mutated: views hold the old dict
        self.state_timestamps = {**self.state_timestamps, target.name: _now_ms()}
