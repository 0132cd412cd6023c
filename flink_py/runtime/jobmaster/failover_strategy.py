"""Failover strategies: which subtasks restart when one fails (Flink's FailoverStrategy).

``jobmanager.execution.failover-strategy``:

- ``region`` (Flink's default): the failed subtask's pipelined region. Every exchange of a
  streaming job is pipelined, so a region is a connected component of the execution graph
  (subtasks linked by the partitions they exchange): a job of two disconnected pipelines
  restarts only the one that failed, and a forward (pointwise) chain of subtasks restarts
  alone.
- ``full``: every subtask of the job.
"""

from __future__ import annotations

from typing import Dict, FrozenSet, List, Protocol, Tuple

from flink_py.common import config_options as options
from flink_py.common.configuration import Configuration
from flink_py.errors import FlinkPyError
from flink_py.graph.execution_graph import ExecutionGraph
from flink_py.graph.ids import JobVertexID

#: an execution vertex: (job vertex, subtask index)
VertexKey = Tuple[JobVertexID, int]


class FailoverStrategy(Protocol):
    def tasks_to_restart(self, failed: VertexKey) -> FrozenSet[VertexKey]:
        """The subtasks to restart when ``failed`` failed (it included)."""
        ...


def pipelined_regions(graph: ExecutionGraph) -> List[FrozenSet[VertexKey]]:
    """The connected components of the execution graph, in topological order of their first
    subtask."""
    parent: Dict[VertexKey, VertexKey] = {}

    def find(key: VertexKey) -> VertexKey:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for ev in graph.all_execution_vertices:
        key = (ev.job_vertex_id, ev.subtask_index)
        parent[key] = key
    for ev in graph.all_execution_vertices:
        consumer = (ev.job_vertex_id, ev.subtask_index)
        for gate in ev.consumed:
            producers = graph.producers_of(gate.result_id)
            for p in gate.producer_subtasks:
                a, b = find(consumer), find((producers[p].job_vertex_id, p))
                if a != b:
                    parent[a] = b
    regions: Dict[VertexKey, List[VertexKey]] = {}
    for key in parent:  # insertion order is topological
        regions.setdefault(find(key), []).append(key)
    return [frozenset(members) for members in regions.values()]


class RestartPipelinedRegionFailoverStrategy:
    """``region``: restart the failed subtask's pipelined region."""

    def __init__(self, graph: ExecutionGraph) -> None:
        self.regions = pipelined_regions(graph)
        self._region_of: Dict[VertexKey, FrozenSet[VertexKey]] = {
            key: region for region in self.regions for key in region}

    def tasks_to_restart(self, failed: VertexKey) -> FrozenSet[VertexKey]:
        return self._region_of[failed]


class RestartAllFailoverStrategy:
    """``full``: restart every subtask."""

    def __init__(self, graph: ExecutionGraph) -> None:
        self._all = frozenset((ev.job_vertex_id, ev.subtask_index)
                              for ev in graph.all_execution_vertices)

    def tasks_to_restart(self, failed: VertexKey) -> FrozenSet[VertexKey]:
        return self._all


def failover_strategy_from(configuration: Configuration,
                           graph: ExecutionGraph) -> FailoverStrategy:
    name = str(configuration.get(options.FAILOVER_STRATEGY)).strip().lower()
    if name == "region":
        return RestartPipelinedRegionFailoverStrategy(graph)
    if name == "full":
        return RestartAllFailoverStrategy(graph)
    raise FlinkPyError(f"unknown jobmanager.execution.failover-strategy {name!r}; expected "
                       f"region or full")
