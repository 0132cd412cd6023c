"""ExecutionGraph: the JobGraph expanded to one ExecutionVertex per parallel subtask.

For every JobEdge it decides which producer subtasks each consumer subtask reads from:
all of them for all-to-all exchanges (hash, rebalance, broadcast, shuffle, global, custom),
a contiguous few for pointwise ones (forward, rescale), with Flink's arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List

from flink_py.graph.ids import ExecutionAttemptID, IntermediateDataSetID, JobVertexID
from flink_py.graph.job_graph import JobEdge, JobGraph, JobVertex
from flink_py.runtime.jobmaster.execution import Execution


def pointwise_connections(producers: int, consumers: int) -> List[List[int]]:
    """For each producer subtask, the consumer subtasks it sends to (Flink's pointwise rule)."""
    targets: List[List[int]] = [[] for _ in range(producers)]
    if producers == consumers:
        for i in range(producers):
            targets[i].append(i)
    elif producers > consumers:
        for consumer in range(consumers):
            start = consumer * producers // consumers
            end = (consumer + 1) * producers // consumers
            for producer in range(start, end):
                targets[producer].append(consumer)
    else:
        for producer in range(producers):
            start = (producer * consumers + producers - 1) // producers
            end = ((producer + 1) * consumers + producers - 1) // producers
            targets[producer].extend(range(start, end))
    return targets


@dataclass
class ProducedPartition:
    """The partition one subtask produces for one JobEdge: one subpartition per consumer."""

    result_id: IntermediateDataSetID
    consumer_subtasks: List[int]
    #: the consuming vertex's max parallelism: the key groups a key_by partitioner hashes
    #: into (Flink's ResultPartitionDeploymentDescriptor#getMaxParallelism); the JobMaster
    #: sets it again at deployment, after a restore may have changed it
    consumer_max_parallelism: int = -1


@dataclass
class ConsumedGate:
    """One input gate of a subtask: the producer subtasks of one JobEdge it reads."""

    result_id: IntermediateDataSetID
    input_index: int
    producer_subtasks: List[int]
    #: per producer subtask, the "host:port" of the data plane serving its partition, or ""
    #: when producer and consumer run in the same process (set by the JobMaster at deployment)
    producer_addresses: List[str] = field(default_factory=list)
    #: the JobEdge's partitioner (``HASH``, ``REBALANCE``, ...): how in-flight data rescales
    ship_strategy: str = ""


@dataclass
class ExecutionVertex:
    """One parallel subtask of a JobVertex: its current attempt and the attempts before it."""

    job_vertex_id: JobVertexID
    subtask_index: int
    parallelism: int
    task_name: str
    produced: List[ProducedPartition] = field(default_factory=list)
    consumed: List[ConsumedGate] = field(default_factory=list)
    current_execution: Execution = field(default_factory=Execution)
    prior_executions: List[Execution] = field(default_factory=list)

    @property
    def attempt_id(self) -> ExecutionAttemptID:
        return self.current_execution.attempt_id

    @property
    def attempt_number(self) -> int:
        return self.current_execution.attempt_number

    @property
    def key(self) -> tuple:
        """``(job vertex id, subtask index)``: the subtask whatever its attempt."""
        return (self.job_vertex_id, self.subtask_index)

    def new_attempt(self) -> Execution:
        """Makes a new current attempt (the old one must be terminal) and returns it."""
        old = self.current_execution
        if not old.state.is_terminal:
            raise ValueError(f"{self.task_name_with_subtask}: attempt {old.attempt_number} is "
                             f"{old.state.name}, not terminal; cannot start another")
        self.prior_executions.append(old)
        self.current_execution = Execution(attempt_number=old.attempt_number + 1)
        return self.current_execution

    @property
    def task_name_with_subtask(self) -> str:
        return f"{self.task_name} ({self.subtask_index + 1}/{self.parallelism})"


@dataclass
class ExecutionJobVertex:
    """A JobVertex and its execution vertices."""

    job_vertex: JobVertex
    task_vertices: List[ExecutionVertex]


class ExecutionGraph:
    """All subtasks of a job and how their partitions and gates connect."""

    def __init__(self, job_graph: JobGraph) -> None:
        self.job_graph = job_graph
        self.job_vertices: Dict[JobVertexID, ExecutionJobVertex] = {}
        self._producers: Dict[IntermediateDataSetID, List[ExecutionVertex]] = {}
        self._consumers: Dict[IntermediateDataSetID, JobVertex] = {}
        for jv in job_graph.topological_vertices():
            self.job_vertices[jv.id] = ExecutionJobVertex(jv, [
                ExecutionVertex(jv.id, i, jv.parallelism, jv.name)
                for i in range(jv.parallelism)])
        for jv in job_graph.topological_vertices():
            for edge in jv.outputs:
                self._connect(edge)

    def _connect(self, edge: JobEdge) -> None:
        producers = self.job_vertices[edge.source].task_vertices
        consumers = self.job_vertices[edge.target].task_vertices
        self._producers[edge.result_id] = producers
        consumer = self._consumers[edge.result_id] = self.job_vertices[edge.target].job_vertex
        if edge.is_pointwise:
            targets = pointwise_connections(len(producers), len(consumers))
        else:
            targets = [list(range(len(consumers))) for _ in producers]
        sources: List[List[int]] = [[] for _ in consumers]
        for p, consumer_list in enumerate(targets):
            producers[p].produced.append(ProducedPartition(edge.result_id, consumer_list,
                                                           consumer.max_parallelism))
            for c in consumer_list:
                sources[c].append(p)
        for c, producer_list in enumerate(sources):
            consumers[c].consumed.append(
                ConsumedGate(edge.result_id, edge.input_index, producer_list,
                             ship_strategy=edge.ship_strategy))

    @property
    def all_execution_vertices(self) -> List[ExecutionVertex]:
        return [ev for ejv in self.job_vertices.values() for ev in ejv.task_vertices]

    def producers_of(self, result_id: IntermediateDataSetID) -> List[ExecutionVertex]:
        """The subtasks producing ``result_id``, by subtask index."""
        return self._producers[result_id]

    def consumer_vertex_of(self, result_id: IntermediateDataSetID) -> JobVertexID:
        """The id of the vertex consuming ``result_id``."""
        return self._consumers[result_id].id

    def consumer_max_parallelism(self, result_id: IntermediateDataSetID) -> int:
        """The current max parallelism of the vertex consuming ``result_id``."""
        return self._consumers[result_id].max_parallelism

    def vertex(self, key: tuple) -> ExecutionVertex:
        """The execution vertex ``(job vertex id, subtask index)``."""
        job_vertex_id, subtask = key
        return self.job_vertices[job_vertex_id].task_vertices[subtask]

    def find(self, attempt_id: ExecutionAttemptID) -> ExecutionVertex:
        """The vertex whose current attempt is ``attempt_id``."""
        for ev in self.all_execution_vertices:
            if ev.attempt_id == attempt_id:
                return ev
        raise KeyError(attempt_id)
