"""A StreamTask's checkpoint entry points before it runs: declines that name the reason."""

from __future__ import annotations

from typing import Any, List, Tuple

from flink_py.graph.ids import ExecutionAttemptID, JobVertexID
from flink_py.runtime.checkpoint.options import CheckpointOptions
from flink_py.runtime.execution.environment import Environment, TaskManagerServices
from flink_py.runtime.network.local import ResultPartitionManager
from flink_py.runtime.tasks.deployment import TaskDeploymentDescriptor
from flink_py.runtime.tasks.stream_task import StreamTask


class FakeCoordinator:
    """An in-process CheckpointCoordinatorGateway."""

    def __init__(self) -> None:
        self.acks: List[Tuple[Any, int]] = []
        self.declines: List[Tuple[Any, int, str]] = []

    def acknowledge_checkpoint(self, job_id: str, attempt_id: Any, checkpoint_id: int,
                               metrics: Any, subtask_state: Any) -> None:
        self.acks.append((attempt_id, checkpoint_id))

    def decline_checkpoint(self, job_id: str, attempt_id: Any, checkpoint_id: int,
                           reason: Any) -> None:
        self.declines.append((attempt_id, checkpoint_id, reason.message))


def _task(is_source: bool, coordinator: FakeCoordinator) -> StreamTask:
    tdd = TaskDeploymentDescriptor(
        "job", "job name", JobVertexID(), ExecutionAttemptID(), 0, 0, 1, 128, "Source: s",
        is_source, b"", [], [])
    environment = Environment(tdd, TaskManagerServices(ResultPartitionManager(2)),
                              coordinator)
    return StreamTask(environment, lambda task, state, error: None)


def test_a_trigger_for_a_source_task_that_is_not_running_is_declined_naming_its_state() -> None:
    coordinator = FakeCoordinator()
    task = _task(True, coordinator)
    task.trigger_checkpoint(3, 0, CheckpointOptions.for_checkpoint())
    assert coordinator.acks == []
    ((attempt, checkpoint_id, reason),) = coordinator.declines
    assert (attempt, checkpoint_id) == (task.attempt_id, 3)
    assert "DEPLOYING, not RUNNING" in reason and "Source: s (1/1)" in reason


def test_a_trigger_for_a_task_with_inputs_is_declined() -> None:
    coordinator = FakeCoordinator()
    task = _task(False, coordinator)
    task.trigger_checkpoint(1, 0, CheckpointOptions.for_checkpoint())
    assert "not a source task" in coordinator.declines[0][2]
