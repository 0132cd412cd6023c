"""The stop-with-savepoint termination state machine (Flink's
StopWithSavepointTerminationHandlerImpl), without a JobMaster."""

from __future__ import annotations

import doctest

import flink_py.runtime.jobmaster.stop_with_savepoint as module
from flink_py.runtime.jobmaster.stop_with_savepoint import (
    StopOutcome, StopWithSavepointTermination, inconsistent_state_message)

JOB = "0123456789abcdef0123456789abcdef"


def test_the_stop_succeeds_once_the_savepoint_completed_and_every_attempt_finished() -> None:
    handler = StopWithSavepointTermination(JOB, 3)
    handler.on_savepoint_created("/savepoints/savepoint-012345-abcdefabcdef")
    assert handler.savepoint_created and not handler.done and handler.outcome is None
    handler.on_executions_terminated(["FINISHED"] * 3)
    assert handler.done
    assert handler.outcome == StopOutcome("/savepoints/savepoint-012345-abcdefabcdef", None)


def test_a_failed_savepoint_fails_the_stop_without_a_failover() -> None:
    handler = StopWithSavepointTermination(JOB, 2)
    handler.on_savepoint_failed("Checkpoint was declined")
    assert handler.outcome == StopOutcome(None, "Checkpoint was declined", False)
    handler.on_executions_terminated(["CANCELED", "CANCELED"])  # the job's later end
    assert handler.outcome == StopOutcome(None, "Checkpoint was declined", False)


def test_attempts_ending_otherwise_after_the_savepoint_fail_the_job_over() -> None:
    handler = StopWithSavepointTermination(JOB, 3)
    handler.on_savepoint_created("/sp")
    handler.on_executions_terminated(["FINISHED", "FAILED", "CANCELED"])
    outcome = handler.outcome
    assert outcome is not None and outcome.path is None and outcome.global_failover
    assert outcome.failure == (
        "Inconsistent execution state after stopping with savepoint. At least one execution "
        "is still in one of the following states: CANCELED, FAILED. A global fail-over is "
        f"triggered to recover the job {JOB}.")
    assert outcome.failure == inconsistent_state_message(["FAILED", "CANCELED", "FAILED"], JOB)


def test_attempts_that_end_before_the_savepoints_outcome_change_nothing() -> None:
    handler = StopWithSavepointTermination(JOB, 1)
    handler.on_executions_terminated(["FAILED"])  # the savepoint's abort is on its way
    assert handler.outcome is None and not handler.done
    handler.on_savepoint_failed("aborted: the job fails over")
    assert handler.outcome == StopOutcome(None, "aborted: the job fails over")


def test_the_modules_docstring_examples_hold() -> None:
    assert doctest.testmod(module).failed == 0
