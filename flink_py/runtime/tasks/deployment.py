"""TaskDeploymentDescriptor: everything a TaskExecutor needs to run one subtask."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional

from flink_py.graph.execution_graph import ConsumedGate, ProducedPartition
from flink_py.graph.ids import ExecutionAttemptID, JobVertexID
from flink_py.runtime.state.handles import JobManagerTaskRestore


@dataclass
class TaskDeploymentDescriptor:
    """One subtask attempt: its chain (user code, serialized), partitions and gates."""

    job_id: str
    job_name: str
    vertex_id: JobVertexID
    attempt_id: ExecutionAttemptID
    attempt_number: int
    subtask_index: int
    parallelism: int
    max_parallelism: int
    task_name: str
    is_source: bool
    chain_bytes: bytes
    produced: List[ProducedPartition]
    consumed: List[ConsumedGate]
    runtime_mode: str = "STREAMING"
    buffer_timeout: int = 100
    job_parameters: Dict[str, str] = field(default_factory=dict)
    #: the job's configuration (Flink keys: checkpointing, state backend, storage)
    job_configuration: Dict[str, str] = field(default_factory=dict)
    #: set when the attempt restores from a checkpoint or savepoint
    task_restore: Optional[JobManagerTaskRestore] = None

    @property
    def task_name_with_subtask(self) -> str:
        return f"{self.task_name} ({self.subtask_index + 1}/{self.parallelism})"
